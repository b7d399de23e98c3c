#!/bin/bash
#
# t_node_delete.sh: deleting a node removes its routes everywhere (issue #5,
# acceptance 3, first half).  Three nodes (native, full mesh), one pod
# each.  `podmeshctl delete node n3` while n3's podmesh-bgpd still runs (a
# node removed from the cluster, its machine not yet gone).  Checked:
#  - n1 and n2 drop their sessions to n3 and every route to n3's blocks
#    within 10 s (the time is reported), and keep each other's routes and
#    sessions untouched (pa still pings pb);
#  - podmesh-node run again on n3 registers it again: the mesh and every
#    route come back (a pod is added on n3 if deleting the node released
#    its blocks).  ~25 s.
PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node

step "three nodes in full mesh"
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
for n in n1 n2 n3; do
	node_bgpd_start "$n"
done
expect_mesh 20
for n in n1 n2 n3; do
	expect_table "$n" native 10
done
n3blocks=$(node_blocks n3)
up12=$(podmesh_peer_field n1 192.0.2.12 uptime)

step "podmeshctl delete node n3"
t0=$(_pm_now)
out=$(nctl delete node n3 2>&1) || fail "delete node n3: $out"
log "$out"
[ -z "$(ectl get /calico/resources/v3/projectcalico.org/nodes/n3 --print-value-only)" ] ||
    fail "Node n3 still in etcd"
for n in n1 n2; do
	for b in $n3blocks; do
		expect_no_kroute "$n" "$b" 10
	done
done
log "n3's routes gone from n1 and n2 in $(_pm_secs $(($(_pm_now) - t0)))s"
expect_sessions n1 10 n2
expect_sessions n2 10 n1
for n in n1 n2; do
	expect_table "$n" native 5 n1 n2
done
up=$(podmesh_peer_field n1 192.0.2.12 uptime)
[ -n "$up" ] && [ "$up" -ge "$up12" ] ||
    fail "the n1-n2 session was reset by n3's delete (uptime $up12 s before, $up s after)"
ok "the n1-n2 session was left alone (uptime $up12 s before, $up s after)"
pod_ping pa pb 2
rest=$(node_blocks n3 | tr '\n' ' ')
log "n3's block affinities after the delete: ${rest:-none}"
log "n3's podmesh-bgpd: $(daemon_alive podmesh n3 && echo running || echo exited);" \
    "its sessions: $(node_peers n3 2>&1 | tr '\n' ';')"

step "n3 registers again: mesh and routes come back"
node_start n3 CALICO_IPV4POOL_CIDR=$NODE_POOL CALICO_IPV4POOL_IPIP=Never
if [ -z "$(node_blocks n3)" ]; then
	pod_add n3 pd
fi
daemon_alive podmesh n3 || node_bgpd_start n3
expect_mesh 30
for n in n1 n2 n3; do
	expect_table "$n" native 10
done
pod_ping pa "$(for p in pd pc; do [ -n "${POD_IP[$p]:-}" ] && echo $p && break; done)"

cluster_down
exit 0
