#!/bin/bash
# IPIP for real (issue #8), the part that runs INSIDE the test VM (as root,
# chrooted into the read-only host root; tests/integration/t_vm_ipip.sh
# boots the VM and runs this).  The VM's kernel is Debian's, with the ipip
# module loaded, so tunl0 is a real IPIP device in every namespace.
#
# Two nodes n1, n2 on 192.0.2.0/24 (node_lib.sh's underlay), etcd in infra,
# podmesh-node on both with an IPIP=Always pool 198.18.0.0/16 (tunl0 gets
# its tunnel address), one pod each, podmesh-bgpd (datastore mode, kernel
# sync) on both.  Checked:
#  - tunl0 in each node is an ipip link, up, with the Node's
#    ipv4IPIPTunnelAddr/32 (podmesh-node put it there);
#  - the mesh comes up, each node's kernel holds exactly a blackhole per own
#    block and the other's block "via <other node> dev tunl0 onlink"
#    (proto 44), also checked in `ip route` output form;
#  - pods ping each other both ways, and the pings went through the tunnel:
#    tunl0's TX and RX packet counters grew by at least the number of
#    echoes answered, on both nodes, and a raw-socket sniffer on the
#    underlay bridge port of n1 (sniff.py: no tcpdump here) saw the echoes only inside
#    IP-in-IP packets between the node addresses, never bare;
#  - podmesh-bgpd exits 0 on SIGTERM with no sanitizer report.
# Environment: PODMESH_SRC, PODMESH_BUILD (absolute), PM_TIMEOUT.
PM_TIMEOUT=${PM_TIMEOUT:-240}
: "${PODMESH_SRC:?PODMESH_SRC unset}"
. "$PODMESH_SRC/tests/integration/lib.sh"
. "$PODMESH_SRC/tests/integration/node_lib.sh"

# Under TCG everything is ~10x slower than on the host: generous but
# bounded waits.
W=${PM_VM_WAIT:-60}

require_node

# tunl0_count NODE tx|rx: packets through tunl0 in NODE.
tunl0_count() {
	ip -n "$(ns "$1")" -j -s link show dev tunl0 |
	    jq -r --arg d "$2" '.[0].stats64[$d].packets'
}

# check_tunl0 NODE: a real ipip device, up, with the tunnel address.
check_tunl0() {
	local n=$1 a out
	a=$(node_get "$n" '.spec.bgp.ipv4IPIPTunnelAddr // empty')
	[ -n "$a" ] || fail "Node $n has no ipv4IPIPTunnelAddr"
	out=$(ip -n "$(ns "$n")" -d addr show dev tunl0) || fail "$n: no tunl0"
	grep -q "link/ipip " <<<"$out" && grep -qE "^ +ipip " <<<"$out" ||
	    fail "$n: tunl0 is not an ipip device: $out"
	grep -q "inet $a/32 " <<<"$out" || fail "$n: tunl0 lacks $a/32: $out"
	grep -qE "<[^>]*UP[^>]*>" <<<"$out" || fail "$n: tunl0 is not up: $out"
	ok "$n: tunl0 is a real ipip device, up, with $a/32"
}

# check_route_form NODE OTHER: OTHER's block routed "via OTHER's address
# dev tunl0 proto 44 onlink", as `ip route` prints it.
check_route_form() {
	local n=$1 o=$2 b line
	for b in $(node_blocks "$o"); do
		line=$(ip -n "$(ns "$n")" -4 route show "$b")
		grep -qxE "$b via ${NODE_IP[$o]//./\\.} dev tunl0 proto $NODE_PROTO onlink *" \
		    <<<"$line" ||
		    fail "$n: route to $o's block $b is not" \
		    "'$b via ${NODE_IP[$o]} dev tunl0 proto $NODE_PROTO onlink': '$line'"
		ok "$n: $line"
	done
}

step "kernel $(uname -r): ipip"
ip -d link show tunl0 2>/dev/null | grep -q "link/ipip" ||
    fail "no ipip tunl0 in the VM's root namespace: is ipip.ko loaded?"

step "two nodes, etcd, podmesh-node with an IPIP=Always pool"
underlay
node_add n1
node_add n2
node_etcd_start
env=("CALICO_IPV4POOL_CIDR=$NODE_POOL" "CALICO_IPV4POOL_IPIP=Always"
    "CALICO_IPV4POOL_VXLAN=Never")
for n in n1 n2; do
	node_start "$n" "${env[@]}"
	check_tunl0 "$n"
done

step "one pod per node, podmesh-bgpd on both"
pod_add n1 pa
pod_add n2 pb
for n in n1 n2; do
	[ -n "$(node_blocks "$n")" ] || fail "$n has no confirmed block affinity"
	node_bgpd_start "$n"
done
expect_mesh "$W"
for n in n1 n2; do
	expect_table "$n" ipip "$W"
done
check_route_form n1 n2
check_route_form n2 n1

step "pod to pod through the tunnel"
declare -A tx0 rx0 u0
for n in n1 n2; do
	tx0[$n]=$(tunl0_count "$n" tx)
	rx0[$n]=$(tunl0_count "$n" rx)
	u0[$n]=$(ip -n "$(ns "$n")" -j -s link show dev eth0 | jq '.[0].stats64.tx.packets')
done
pod_ping pa pb "$W"
pod_ping pb pa "$W"
# a counted run each way: every answered echo is two packets through
# each tunl0 (request out of one, in at the other; the reply back)
count=10
ip netns exec "$(ns infra)" python3 "$PODMESH_SRC/tests/vm/sniff.py" n1-eth0 "${POD_IP[pa]}" \
    "${POD_IP[pb]}" >"$PM_TMP/sniff.out" 2>&1 &
PM_PID["sniff:infra"]=$!
wait_until "$W" grep -q ready "$PM_TMP/sniff.out" ||
    fail "underlay sniffer did not start: $(cat "$PM_TMP/sniff.out")"
for pair in "pa pb" "pb pa"; do
	set -- $pair
	out=$(nsx "$1" python3 "$PM_TMP/pmping.py" "${POD_IP[$2]}" "$count" 0.2 2) ||
	    fail "ping $1 -> $2 ($count echoes): $out"
	got=$(sed -n 's/^[0-9]* packets transmitted, \([0-9]*\) received$/\1/p' <<<"$out")
	[ "${got:-0}" -ge $((count - 1)) ] ||
	    fail "ping $1 -> $2: only $got of $count answered: $out"
	ok "ping $1 (${POD_IP[$1]}) -> $2 (${POD_IP[$2]}): $out"
done
min=$((2 * (count - 1)))
# the underlay (n1's port of infra's bridge, both directions) saw the
# echoes only inside IP-in-IP packets between the two nodes' addresses,
# never bare
kill -TERM "${PM_PID[sniff:infra]}"
wait_until 10 grep -q ipip= "$PM_TMP/sniff.out"
_pm_kill_pid "${PM_PID[sniff:infra]}"
unset "PM_PID[sniff:infra]"
sn=$(grep ipip= "$PM_TMP/sniff.out") || fail "sniffer: $(cat "$PM_TMP/sniff.out")"
sip=$(sed 's/.*ipip=\([0-9]*\).*/\1/' <<<"$sn")
splain=$(sed 's/.*plain=\([0-9]*\).*/\1/' <<<"$sn")
souter=$(sed 's/.*outer=//' <<<"$sn")
# every echo request and reply crosses n1's port once
[ "$sip" -ge $((2 * min)) ] && [ "$splain" -eq 0 ] &&
    [ "$souter" = "${NODE_IP[n1]}>${NODE_IP[n2]},${NODE_IP[n2]}>${NODE_IP[n1]}" ] ||
    fail "underlay: want >= $((2 * min)) IP-in-IP packets between ${NODE_IP[n1]} and" \
    "${NODE_IP[n2]} carrying the pods' traffic and none bare; sniffer saw: $sn"
ok "underlay saw $sip IP-in-IP packets ($souter) with the pods' echoes inside, 0 bare"
for n in n1 n2; do
	tx=$(($(tunl0_count "$n" tx) - tx0[$n]))
	rx=$(($(tunl0_count "$n" rx) - rx0[$n]))
	log "$n tunl0: +$tx TX, +$rx RX packets"
	[ "$tx" -ge "$min" ] && [ "$rx" -ge "$min" ] ||
	    fail "$n: tunl0 counters grew by only TX $tx / RX $rx (want >= $min each):" \
	    "the pings did not go through the IPIP tunnel" \
	    $'\n'"$(ip -n "$(ns "$n")" -s -d link show dev tunl0)"
	u=$(($(ip -n "$(ns "$n")" -j -s link show dev eth0 | jq '.[0].stats64.tx.packets') - u0[$n]))
	[ "$u" -ge "$min" ] ||
	    fail "$n: eth0 sent only $u packets while tunl0 sent $tx"
	ok "$n: tunl0 TX +$tx RX +$rx (>= $min), underlay eth0 TX +$u"
done
step "podmesh-bgpd stops cleanly"
for n in n1 n2; do
	podmesh_finish "$n"
done
cluster_down
exit 0
