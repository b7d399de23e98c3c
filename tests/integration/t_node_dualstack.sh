#!/bin/bash
#
# t_node_dualstack.sh: three dual-stack nodes in full mesh (issue #5 with
# IPv6, as a Calico cluster with IPv4 and IPv6 pools):
#
#   n1 n2 n3 on one bridge, 192.0.2.1I/24 and 2001:db8:1::1I/64 on eth0;
#   IP6=autodetect on n1, explicit on n2 and n3; default pools from
#   CALICO_IPV4POOL_CIDR=198.18.0.0/16 and
#   CALICO_IPV6POOL_CIDR=2001:db8:100::/112 (block size: Calico's default,
#   122); one pod per node with an IPv4 and an IPv6 address from IPAM.
#
# Checked: the Nodes carry both underlay addresses (n1's IPv6 one
# autodetected) and the two default pools are Calico's; every node has a
# confirmed IPv6 block; every node is Established with each other node
# twice, over IPv4 and over IPv6 (Calico's mesh: one peering per family both
# ends have), and each session carries only its own family's blocks; the
# IPv6 blocks a node learns have the peer's global IPv6 underlay address as
# next hop (not a link-local one, not the IPv4 address or an IPv4-mapped
# one); every node's kernel (proto 44, main table) holds exactly the IPv4
# table of the native mode and, in IPv6, a blackhole per own block and the
# others' blocks "via <peer IPv6> dev eth0"; pods ping each other across
# nodes over IPv4 and IPv6; a new IPv6 block on a node reaches the others'
# kernels; deleting a node (podmeshctl delete node) takes its IPv6 session
# and routes off the others; restarting podmesh-bgpd on a node moves no
# route (ip monitor: no delete, re-add or rewrite) and loses no IPv6 ping;
# podmesh-bgpd exits 0 on SIGTERM with no sanitizer report.  ~30 s.
PM_TIMEOUT=180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node

POOL6=2001:db8:100::/112
STALE=6

# check_node_addrs NODE: the Node resource has both underlay addresses.
check_node_addrs() {
	local a4 a6
	a4=$(node_get "$1" '.spec.bgp.ipv4Address // empty')
	a6=$(node_get "$1" '.spec.bgp.ipv6Address // empty')
	[ "$a4" = "${NODE_IP[$1]}/24" ] && [ "$a6" = "${NODE_IP6[$1]}/64" ] ||
	    fail "Node $1: ipv4Address '$a4' ipv6Address '$a6'," \
	    "want ${NODE_IP[$1]}/24 and ${NODE_IP6[$1]}/64"
}

# check_pools: Calico's two default pools.
check_pools() {
	local out
	out=$(nctl get ippool -o json) || fail "get ippool: $out"
	jq -e --arg c4 "$NODE_POOL" --arg c6 "$POOL6" '
	    [.items[]] | length == 2 and
	    (map(select(.metadata.name == "default-ipv4-ippool" and
	        .spec.cidr == $c4 and (.spec.blockSize // 26) == 26)) |
	        length == 1) and
	    (map(select(.metadata.name == "default-ipv6-ippool" and
	        .spec.cidr == $c6 and (.spec.blockSize // 122) == 122 and
	        (.spec.ipipMode // "Never") == "Never" and
	        (.spec.vxlanMode // "Never") == "Never")) | length == 1)' \
	    <<<"$out" >/dev/null ||
	    fail "default pools: want $NODE_POOL/26 and $POOL6/122, got $out"
	ok "default pools $NODE_POOL (blocks /26) and $POOL6 (blocks /122)"
}

# check_received NODE: each session carries only its family's blocks, all
# of them (one per block of the other node).
check_received() {
	local n=$1 o out want4 want6 got4 got6
	out=$(podmeshctl_ "$n" bgp peers -o json) || fail "$n: bgp peers: $out"
	for o in "${NODES[@]}"; do
		[ "$o" = "$n" ] && continue
		want4=$(node_blocks "$o" | wc -l)
		want6=$(node_blocks6 "$o" | wc -l)
		got4=$(jq -r --arg a "${NODE_IP[$o]}" \
		    '.[] | select(.address == $a) | .received' <<<"$out")
		got6=$(jq -r --arg a "${NODE_IP6[$o]}" \
		    '.[] | select(.address == $a) | .received' <<<"$out")
		[ "$got4" = "$want4" ] && [ "$got6" = "$want6" ] ||
		    fail "$n: from $o received $got4 over IPv4 (want $want4" \
		    "IPv4 blocks) and $got6 over IPv6 (want $want6 IPv6" \
		    "blocks): $out"
	done
	ok "$n: each session carries its own family's blocks"
}

# check_nexthops6 NODE: the IPv6 blocks of the others, in NODE's RIB, have
# the owner's global IPv6 underlay address as next hop.
check_nexthops6() {
	local n=$1 o b out nh
	for o in "${NODES[@]}"; do
		[ "$o" = "$n" ] && continue
		for b in $(node_blocks6 "$o"); do
			out=$(podmeshctl_ "$n" bgp routes "$b" -o json) ||
			    fail "$n: bgp routes $b: $out"
			nh=$(jq -r --arg p "$b" '[.[] | select(.prefix == $p) |
			    .paths[] | .next_hop] | unique | join(",")' \
			    <<<"$out")
			[ "$nh" = "${NODE_IP6[$o]}" ] ||
			    fail "$n: $o's block $b has next hop(s) '$nh'," \
			    "want $o's ${NODE_IP6[$o]}: $out"
		done
	done
	ok "$n: the others' IPv6 blocks have their IPv6 underlay next hops"
}

# _table6_has NODE LINE / _table6_lacks NODE PREFIX (whole output read:
# no early exit to SIGPIPE the pipeline under pipefail)
_table6_has() {
	node_routes6 "$1" | grep -xF -- "$2" >/dev/null
}

_table6_lacks() {
	[ -z "$(node_routes6 "$1" |
	    awk -v p="$2" '$1 == p || ($1 == "blackhole" && $2 == p)')" ]
}

# tables6_same SECONDS: the IPv6 table of every node in before6 equals its
# entry there throughout.
declare -A before6
tables6_same() {
	local deadline n
	deadline=$(($(_pm_now) + $(_pm_us "$1")))
	while :; do
		for n in "${!before6[@]}"; do
			[ "$(node_routes6 "$n")" = "${before6[$n]}" ] ||
			    fail "$n's IPv6 routes changed:"$'\n'"$(diff \
			    <(echo "${before6[$n]}") <(node_routes6 "$n"))"
		done
		(($(_pm_now) >= deadline)) && break
		sleep 0.2
	done
}

step "dual stack: three nodes"
t0=$(_pm_now)
underlay
node_add n1 v6
node_add n2 v6
node_add n3 v6
node_etcd_start
env=("CALICO_IPV4POOL_CIDR=$NODE_POOL" "CALICO_IPV6POOL_CIDR=$POOL6")
node_start n1 "${env[@]}" IP=autodetect IP6=autodetect
node_start n2 "${env[@]}"
node_start n3 "${env[@]}"
for n in "${NODES[@]}"; do
	NODE_KERNEL[$n]="{enabled: true, stale-time: $STALE}"
done
for n in "${NODES[@]}"; do
	check_node_addrs "$n"
done
ok "Nodes registered with both underlay addresses (n1's autodetected)"
check_pools

pod_add n1 pa v6
pod_add n2 pb v6
pod_add n3 pc v6
for p in pa pb pc; do
	[[ ${POD_IP6[$p]} == 2001:db8:100:* ]] ||
	    fail "pod $p's IPv6 address ${POD_IP6[$p]} is not in $POOL6"
done
for n in "${NODES[@]}"; do
	[ -n "$(node_blocks "$n")" ] || fail "$n has no confirmed IPv4 block"
	[ -n "$(node_blocks6 "$n")" ] || fail "$n has no confirmed IPv6 block"
	node_blocks6 "$n" | grep -qv '/122$' &&
	    fail "$n: an IPv6 block not /122: $(node_blocks6 "$n")"
done
ok "every node has a confirmed /122 IPv6 block"

for n in "${NODES[@]}"; do
	node_bgpd_start "$n"
done
# two sessions per pair: _node_mesh_ok wants the IPv6 ones of v6 nodes
expect_mesh 20
log "n1's sessions: $(node_peers n1 | tr '\n' ';')"
for n in "${NODES[@]}"; do
	expect_table "$n" native 10
done
for n in "${NODES[@]}"; do
	check_received "$n"
	check_nexthops6 "$n"
done
for n in "${NODES[@]}"; do
	expect_table6 "$n" 10
done
log "n1's IPv6 routes: $(node_routes6 n1 | tr '\n' ';')"

pod_ping pa pb
pod_ping pb pc
pod_ping pc pa
pod_ping6 pa pb
pod_ping6 pb pc
pod_ping6 pc pa
pod_ping6 pb pa

# the pods' own routes are not podmesh's: left alone
for p in "${PODS[@]}"; do
	ip -n "$(ns "${POD_NODE[$p]}")" -6 route show "${POD_IP6[$p]}/128" |
	    grep -q "dev cali$p " || fail "the IPv6 route to pod $p was touched"
done

step "a new IPv6 block on n2 reaches n1 and n3"
# 2001:db8:100::ff00 is in a block no node has yet: n2 claims it
a=$(nctl ipam assign --node n2 --handle test.extra --ip 2001:db8:100::ff00) ||
    fail "ipam assign --ip 2001:db8:100::ff00: $a"
blk=2001:db8:100::ff00/122
node_blocks6 n2 | grep -qxF "$blk" ||
    fail "n2 has no block $blk after assigning an address in it:" \
    "$(node_blocks6 n2)"
wait_until 10 _table6_has n2 "blackhole $blk" ||
    fail "n2: no blackhole for its new block $blk:"$'\n'"$(node_routes6 n2)"
for n in n1 n3; do
	wait_until 10 _table6_has "$n" "$blk via ${NODE_IP6[n2]} dev eth0" ||
	    fail "$n: no route '$blk via ${NODE_IP6[n2]} dev eth0':" \
	    $'\n'"$(node_routes6 "$n")"
done
ok "n1 and n3 route n2's new block $blk via ${NODE_IP6[n2]}"
for n in "${NODES[@]}"; do
	expect_table6 "$n" 10
done

step "podmeshctl delete node n3: its IPv6 session and routes go"
n3blocks6=$(node_blocks6 n3)
out=$(nctl delete node n3 2>&1) || fail "delete node n3: $out"
for n in n1 n2; do
	for b in $n3blocks6; do
		wait_until 10 _table6_lacks "$n" "$b" ||
		    fail "$n: still routes n3's $b after its delete:" \
		    $'\n'"$(node_routes6 "$n")"
	done
done
ok "n1 and n2 dropped n3's IPv6 blocks ($(tr '\n' ' ' <<<"$n3blocks6"))"
expect_sessions n1 10 n2
expect_sessions n2 10 n1
for n in n1 n2; do
	expect_table6 "$n" 5 n1 n2
	expect_table "$n" native 5 n1 n2
done
pod_ping6 pa pb 2

step "podmesh-bgpd on n2 restarted, a pod gone from n1: no route moves"
# (last, since it fails while podmesh rewrites IPv6 blackholes at start)
# the kernel sync adopts its IPv6 routes at start and learns them again in
# the same form: no delete, no re-add, no rewrite (as t_node_restart.sh
# checks for IPv4), and pa's IPv6 ping to pb loses nothing.  Then a pod
# goes from n1 (its veth deleted: a link removal, after which the kernel
# sync reads its routes again): nothing rewritten either.  n1 and n2: n3 is
# out of the cluster.
pod_add n1 pd v6
for n in n1 n2; do
	before6[$n]=$(node_routes6 "$n")
	monitor_start "$n"
done
pod_ping_start pa pb v6
sleep 1
stop_daemon podmesh n2 TERM
tables6_same 2
node_bgpd_start n2
expect_sessions n2 20 n1
tables6_same $((STALE + 3))
ok "n2's restart and $((STALE + 3)) s after (stale-time $STALE s): n1's and n2's IPv6 tables unchanged"
read -r tx rx <<<"$(pod_ping_stop pa pb)"
[ -n "$tx" ] && [ "$tx" -gt 20 ] || fail "IPv6 ping sent too few: '$tx'"
[ "$rx" = "$tx" ] || fail "IPv6 ping pa -> pb lost $((tx - rx)) of $tx across the restart"
ok "IPv6 ping pa -> pb: $tx sent, none lost"
ip -n "$(ns n1)" link del calipd || fail "deleting pod pd's veth on n1"
sleep 1
tables6_same 1
ok "pod pd's veth deleted on n1: n1's and n2's IPv6 tables unchanged"
bad=0
for n in n1 n2; do
	monitor_stop "$n"
	lines=$(monitor_lines "$n")
	if [ -n "$lines" ]; then
		log "$n: ip monitor saw $(grep -c . <<<"$lines") proto-$NODE_PROTO" \
		    "changes ($(grep -c '] Deleted ' <<<"$lines") Deleted):"$'\n'"$lines"
		bad=1
	fi
done
[ "$bad" = 0 ] ||
    fail "podmesh routes were deleted, re-added or rewritten across n2's" \
    "restart or n1's resync"
ok "ip monitor route: no proto-$NODE_PROTO change on n1 or n2"

log "dual stack: up and checked in $(_pm_secs $(($(_pm_now) - t0)))s"
cluster_down
exit 0
