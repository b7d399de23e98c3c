#!/bin/bash
#
# The README's demo: a small Calico-style cluster in network namespaces.
# A local etcd; three nodes on a bridge underlay (192.0.2.11-13/24) and a
# fourth behind a router on 198.51.100.0/24; the default pool 198.18.0.0/16
# with vxlanMode CrossSubnet: routed natively within a subnet, over VXLAN
# across the router (DEMO_MODE=vxlan: VXLAN everywhere; IPIP needs a kernel
# with the ipip module, which this kind of machine lacks).  On each node
# podmesh-node registers it and podmesh-bgpd runs in datastore mode (full
# mesh, kernel sync); one pod per node gets its address from Calico's IPAM.
# Shown: each node's BGP sessions, the pod routes in its kernel, and a
# pod-to-pod ping matrix.  Exits non-zero if any pod cannot reach another.
# Everything it made is removed when it ends.
PM_TIMEOUT=180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node
MODE=${DEMO_MODE:-crosssubnet}
case $MODE in
crosssubnet) env=(CALICO_IPV4POOL_IPIP=Never CALICO_IPV4POOL_VXLAN=CrossSubnet) ;;
vxlan) env=(CALICO_IPV4POOL_IPIP=Never CALICO_IPV4POOL_VXLAN=Always) ;;
*) fail "DEMO_MODE: crosssubnet or vxlan, not '$MODE'" ;;
esac

# _routes_ok NODE: a kernel route of podmesh's for every node's block
_routes_ok() {
	[ "$(ip -n "$(ns "$1")" route show proto 44 | wc -l)" -ge "${#NODES[@]}" ]
}

step "underlay: two subnets joined by a router, etcd on 192.0.2.254"
underlay two
node_add n1
node_add n2
node_add n3
node_add n4 subnet=2
node_etcd_start

step "podmesh-node on every node (pool $NODE_POOL, $MODE)"
for n in "${NODES[@]}"; do
	node_start "$n" "CALICO_IPV4POOL_CIDR=$NODE_POOL" "${env[@]}"
	log "$n: Node $(node_get "$n" .spec.bgp.ipv4Address)"
done

step "one pod per node, addresses from IPAM"
for n in "${NODES[@]}"; do
	pod_add "$n" "p${n#n}"
	log "pod p${n#n} on $n: ${POD_IP[p${n#n}]}"
done

step "podmesh-bgpd on every node (datastore mode, kernel sync)"
for n in "${NODES[@]}"; do
	node_bgpd_start "$n"
done
expect_mesh 30
for n in "${NODES[@]}"; do
	wait_until 15 _routes_ok "$n" ||
	    fail "$n: not every block in the kernel after 15 s"
done

for n in "${NODES[@]}"; do
	echo
	echo "## $n: podmeshctl bgp peers"
	podmeshctl_ "$n" bgp peers
	echo "## $n: ip route show proto 44 (podmesh's kernel routes)"
	ip -n "$(ns "$n")" route show proto 44
done

echo
echo "## pod-to-pod ping matrix (ok = replies)"
bad=0
printf '%-6s' from
for q in "${PODS[@]}"; do printf '%-6s' "$q"; done
echo
for p in "${PODS[@]}"; do
	printf '%-6s' "$p"
	for q in "${PODS[@]}"; do
		if [ "$p" = "$q" ]; then
			printf '%-6s' -
		elif nsx "$p" python3 "$PM_TMP/pmping.py" "${POD_IP[$q]}" 3 0.2 1 \
		    >/dev/null 2>&1; then
			printf '%-6s' ok
		else
			printf '%-6s' FAIL
			bad=$((bad + 1))
		fi
	done
	echo
done
[ "$bad" = 0 ] || fail "$bad pod pair(s) cannot reach each other"
echo
echo "every pod reaches every other pod across nodes and subnets"
exit 0
