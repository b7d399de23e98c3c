#!/bin/bash
#
# t_node_borrow.sh: addresses borrowed from another node's block, and the
# own-block import filter (issue #5: "/32s for addresses borrowed from other
# nodes' blocks", "rejects more-specifics of its own blocks from peers").
#
# Three nodes in native mode.  Pod pa on n1 claims n1's block; pod pb lives
# on n2 but its address is one of n1's block (ipam assign --ip, attribute
# node=n2: a borrowed address, as Calico's IPAM hands out when n2 has no
# block of its own left).  Checked:
#  - n2 announces pb's /32 and installs nothing for it itself (the pod's
#    device route serves it); n1 accepts the /32 from n2 (its address, lent)
#    beside its own blackhole; n3 routes the /32 to n2 and the block to n1;
#    pods on n1 and n3 ping pb, and pb pings them;
#  - n3 announcing another /32 of n1's block (a static originate, not lent)
#    and n1's block itself: n1 refuses both (logged), n2 takes the /32;
#  - pb released: n2 withdraws the /32 everywhere, and n1, no longer
#    lending it, refuses it again.  ~20 s.
PM_TIMEOUT=150
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node

step "three nodes, native"
underlay
node_add n1
node_add n2
node_add n3
node_etcd_start
for n in "${NODES[@]}"; do
	node_start "$n" "CALICO_IPV4POOL_CIDR=$NODE_POOL" \
	    CALICO_IPV4POOL_IPIP=Never CALICO_IPV4POOL_VXLAN=Never
done
pod_add n1 pa
pod_add n3 pc
blk=$(node_blocks n1)
[ -n "$blk" ] || fail "n1 has no block"
# the 10th address of n1's block, for a pod on n2
borrowed=$(python3 -c 'import ipaddress, sys
print(ipaddress.ip_network(sys.argv[1])[10])' "$blk")
pod_add n2 pb --ip "$borrowed" --attr node=n2 --attr pod=pb \
    --attr namespace=default
[ "${POD_IP[pb]}" = "$borrowed" ] || fail "pb got ${POD_IP[pb]}"
ok "pb on n2 borrows $borrowed from n1's block $blk"
for n in "${NODES[@]}"; do
	node_bgpd_start "$n"
done
expect_mesh 20

step "the borrowed /32"
expect_kroute n1 "$borrowed via ${NODE_IP[n2]} dev eth0"
expect_kroute n1 "blackhole $blk"
expect_kroute n3 "$borrowed via ${NODE_IP[n2]} dev eth0"
expect_kroute n3 "$blk via ${NODE_IP[n1]} dev eth0"
_node_has_prefix n2 "$borrowed/32" && _node_has_prefix n2 "$borrowed" &&
    fail "n2 installed a route of its own for the address it borrowed"
ok "n2: no podmesh route for its own pod's /32"
podmeshctl_ n2 bgp routes -o json | jq -e --arg p "$borrowed/32" '
    .[] | select(.prefix == $p) | .paths[] | select(.peer == "local")' \
    >/dev/null || fail "n2 does not originate $borrowed/32"
ok "n2 originates $borrowed/32"
pod_ping pa pb
pod_ping pc pb
pod_ping pb pc

step "n3 announces a /32 and the block of n1's that are not lent"
stolen=$(python3 -c 'import ipaddress, sys
print(ipaddress.ip_network(sys.argv[1])[20])' "$blk")
NODE_YAML[n3]="originate: [$stolen/32, $blk]"
node_bgpd_conf n3 >/dev/null
kill -HUP "${PM_PID[podmesh:n3]}"
expect_kroute n2 "$stolen via ${NODE_IP[n3]} dev eth0"
sleep 1
_node_has_prefix n1 "$stolen" && fail "n1 took $stolen/32 from n3"
ok "n1 refuses $stolen/32 (not lent)"
expect_kroute n1 "blackhole $blk"
grep -q "refusing $stolen/32: one of our blocks or inside one" \
    "$PM_TMP/n1.podmesh.log" || fail "n1 did not log the refusal"
grep -q "refusing $blk: one of our blocks or inside one" \
    "$PM_TMP/n1.podmesh.log" || fail "n1 did not refuse its own block"
ok "n1 logged both refusals; its blackhole stays"
NODE_YAML[n3]=
node_bgpd_conf n3 >/dev/null
kill -HUP "${PM_PID[podmesh:n3]}"
expect_no_kroute n2 "$stolen"

step "the borrowed address released"
nctl ipam release --handle test.pb >/dev/null || fail "release test.pb"
expect_no_kroute n3 "$borrowed"
expect_no_kroute n1 "$borrowed"
expect_kroute n3 "$blk via ${NODE_IP[n1]} dev eth0"
exit 0
