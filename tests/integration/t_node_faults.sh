#!/bin/bash
#
# t_node_faults.sh: bad input and etcd faults (issue #5, acceptance 5).
# Three nodes (native), one pod each.
#  1. etcd down when podmesh-bgpd starts: every podmesh-bgpd stays up,
#     says so in its log and retries with backoff (the retry intervals are
#     reported: at least 2 tries in 6 s, no busy loop, growing intervals);
#     once etcd is back the mesh and all routes come up (time reported).
#  2. etcd stopped for 60 s during operation: every session stays
#     Established (no reset: uptimes keep growing) and every kernel table
#     stays exactly as it was, checked every ~0.5 s; a block claimed right
#     after etcd returns reaches the other nodes.
#  3. n1 cut off from etcd for 10 s (prohibit routes both ways) while a
#     block is claimed for n1: once it can reach etcd again, n1 announces
#     it and n2 and n3 route it.
#  4. bad input written raw with etcdctl: an IPPool with ipipMode
#     "Sometimes", a Node whose ipv4Address is not an address, a Node that is
#     not JSON.  Every podmesh-bgpd stays up, sessions and tables unchanged
#     for 3 s, and a block claimed afterwards still reaches everyone.
# ~95 s (the 60 s outage included).
PM_TIMEOUT=240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node
R=/calico/resources/v3/projectcalico.org

step "three nodes registered, one pod each"
underlay
node_add n1
node_add n2
node_add n3
node_etcd_start
for n in n1 n2 n3; do
	node_start "$n" CALICO_IPV4POOL_CIDR=$NODE_POOL CALICO_IPV4POOL_IPIP=Never
done
pod_add n1 pa
pod_add n2 pb
pod_add n3 pc

# ---------------------------------------------------------------------------
step "1. etcd down when podmesh-bgpd starts"
node_etcd_stop
for n in n1 n2 n3; do
	node_bgpd_start "$n" nowait
done
sleep 6
for n in n1 n2 n3; do
	daemon_alive podmesh "$n" ||
	    fail "podmesh-bgpd in $n exited with etcd down: $(tail -5 "$PM_TMP/$n.podmesh.log")"
done
ok "every podmesh-bgpd still running after 6 s without etcd"
# the lines since the start marker that say etcd failed and when it is
# tried again
sed -n '/^=== start/,$p' "$PM_TMP/n1.podmesh.log" |
    grep -iE "etcd|$NODE_ETCD_IP" | grep -iE 'again in|retry|backoff' \
    >"$PM_TMP/n1.etcdlines" || true
nl=$(wc -l <"$PM_TMP/n1.etcdlines")
log "n1's log: $nl lines saying etcd failed and when it retries; first ones:" \
    $'\n'"$(head -3 "$PM_TMP/n1.etcdlines")"
[ "$nl" -ge 2 ] ||
    fail "n1: fewer than 2 log lines naming etcd and a retry in 6 s:"$'\n'"$(tail -20 "$PM_TMP/n1.podmesh.log")"
[ "$nl" -le 40 ] || fail "n1: $nl retries of etcd in 6 s: a busy loop, not a backoff"
# intervals between those lines (ISO timestamps, ms)
ivals=$(awk '{ split($1, a, "T"); split(a[2], b, ":"); sub("Z", "", b[3]);
    t = (b[1] * 3600 + b[2] * 60 + b[3]) * 1000;
    if (NR > 1) printf "%d ", t - p; p = t }' "$PM_TMP/n1.etcdlines")
log "intervals between retries (ms): $ivals"
first=$(awk '{print $1}' <<<"$ivals")
last=$(awk '{print $NF}' <<<"$ivals")
[ -n "$first" ] && [ "$last" -gt "$first" ] ||
    fail "retries not backing off: intervals $ivals"
ok "etcd retried with backoff ($ivals ms), said in the log"
t0=$(_pm_now)
node_etcd_start
expect_mesh 30
for n in n1 n2 n3; do
	expect_table "$n" native 10
done
log "etcd back: mesh and routes complete in $(_pm_secs $(($(_pm_now) - t0)))s"
pod_ping pa pc

# ---------------------------------------------------------------------------
step "2. etcd stopped for 60 s during operation"
declare -A before
for n in n1 n2 n3; do
	before[$n]=$(node_routes "$n")
done
node_etcd_stop
t0=$(_pm_now)
end=$((t0 + 60000000))
i=0
while (($(_pm_now) < end)); do
	for n in n1 n2 n3; do
		[ "$(node_routes "$n")" = "${before[$n]}" ] ||
		    fail "$n's routes changed $(_pm_secs $(($(_pm_now) - t0)))s into the etcd outage:" \
		    $'\n'"$(diff <(echo "${before[$n]}") <(node_routes "$n"))"
	done
	if ((i % 10 == 0)); then
		for n in n1 n2 n3; do
			daemon_alive podmesh "$n" || fail "podmesh-bgpd in $n died with etcd down"
			[ "$(podmesh_count "$n" Established)" = 2 ] ||
			    fail "$n: sessions not all Established during the outage: $(node_peers "$n" | tr '\n' ';')"
		done
	fi
	i=$((i + 1))
	sleep 0.5
done
ok "60 s without etcd: tables unchanged ($i checks), sessions Established"
for n in n1 n2 n3; do
	v=$(podmeshctl_ "$n" bgp peers -o json | jq -r '.[] | "\(.address) \(.uptime)"' | tr '\n' ';')
	log "$n: uptimes after the outage: $v"
	podmeshctl_ "$n" bgp peers -o json | jq -e 'all(.[];
	    (.uptime | type) != "number" or .uptime >= 60)' >/dev/null ||
	    fail "$n: a session was reset during the outage: $v"
done
node_etcd_start
t0=$(_pm_now)
pod_add n2 pe --ip 198.18.201.10
expect_kroute n1 "198.18.201.0/26 via 192.0.2.12 dev eth0" 15
expect_kroute n3 "198.18.201.0/26 via 192.0.2.12 dev eth0" 5
log "a block claimed after etcd returned: on n1 and n3 in $(_pm_secs $(($(_pm_now) - t0)))s"
pod_ping pa pe

# ---------------------------------------------------------------------------
step "3. n1 cut off from etcd for 10 s while a block is claimed for it"
ip -n "$(ns n1)" route add prohibit "$NODE_ETCD_IP/32" &&
    ip -n "$(ns infra)" route add prohibit "${NODE_IP[n1]}/32" ||
    fail "partition n1 from etcd"
sleep 1
pod_add n1 pf --ip 198.18.202.10
sleep 9
expect_sessions n1 0 n2 n3
v=$(node_routes n2 | grep -F 198.18.202.0/26)
log "n2 during the cut: ${v:-no route to 198.18.202.0/26 (n1 cannot know yet)}"
ip -n "$(ns n1)" route del prohibit "$NODE_ETCD_IP/32" &&
    ip -n "$(ns infra)" route del prohibit "${NODE_IP[n1]}/32" ||
    fail "heal the partition"
t0=$(_pm_now)
expect_kroute n1 "blackhole 198.18.202.0/26" 30
expect_kroute n2 "198.18.202.0/26 via 192.0.2.11 dev eth0" 10
expect_kroute n3 "198.18.202.0/26 via 192.0.2.11 dev eth0" 10
log "the change made while n1 was cut off applied $(_pm_secs $(($(_pm_now) - t0)))s after it healed"
pod_ping pb pf

# ---------------------------------------------------------------------------
step "4. bad input in etcd"
for n in n1 n2 n3; do
	before[$n]=$(node_routes "$n")
done
ectl put "$R/ippools/bad-mode" '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"bad-mode","uid":"0b9c9c52-0000-4000-8000-000000000001"},"spec":{"cidr":"198.19.0.0/16","ipipMode":"Sometimes","blockSize":26,"natOutgoing":true}}' >/dev/null ||
    fail "put bad pool"
ectl put "$R/nodes/n9" '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"n9"},"spec":{"bgp":{"ipv4Address":"192.0.2.999/24"}}}' >/dev/null ||
    fail "put bad node"
ectl put "$R/nodes/n8" '{"kind":"Node", not json' >/dev/null || fail "put n8"
sleep 3
for n in n1 n2 n3; do
	daemon_alive podmesh "$n" || fail "podmesh-bgpd in $n died on bad input"
	[ "$(node_routes "$n")" = "${before[$n]}" ] ||
	    fail "$n's routes changed after bad input:"$'\n'"$(diff <(echo "${before[$n]}") <(node_routes "$n"))"
done
expect_sessions n1 0 n2 n3
expect_sessions n2 0 n1 n3
expect_sessions n3 0 n1 n2
ok "bad pool and nodes: every podmesh-bgpd up, sessions and tables unchanged"
log "n1's log about them: $(grep -E 'bad-mode|n9|n8' "$PM_TMP/n1.podmesh.log" | head -4)"
pod_add n3 pg --ip 198.18.203.10
expect_kroute n1 "198.18.203.0/26 via 192.0.2.13 dev eth0" 10
expect_kroute n2 "198.18.203.0/26 via 192.0.2.13 dev eth0" 10
ok "a block claimed next to the bad input still reaches everyone"

cluster_down
exit 0
