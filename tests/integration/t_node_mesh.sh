#!/bin/bash
#
# t_node_mesh.sh: three nodes in full mesh (issue #5, acceptance 1), one
# cluster per encapsulation, built from nothing each time:
#
#   native       n1 n2 n3 on 192.0.2.0/24; IP=autodetect on n1
#   ipip         the same, CALICO_IPV4POOL_IPIP=Always; tunl0 is a veth
#                stand-in (this kernel has no ipip), so routes are checked
#                for their encoding only
#   crosssubnet  n1 n2 on 192.0.2.0/24, n3 on 198.51.100.0/24 behind the
#                router rt; CALICO_IPV4POOL_IPIP=CrossSubnet
#   vxlan        n1 n2 n3 on 192.0.2.0/24, CALICO_IPV4POOL_VXLAN=Always
#
# Each: podmesh-node registers the nodes and writes the default pool from
# CALICO_IPV4POOL_*; one pod per node gets its address from
# `podmeshctl ipam assign` (so the node gets a confirmed block); podmesh-bgpd
# (datastore mode, kernel sync) runs in each node.  Checked: every node is
# Established with exactly the other two; every node's kernel (proto 44,
# main table) holds exactly a blackhole per own block and each other node's
# blocks in the mode's form (native "via NH dev eth0", IPIP "via NH dev
# tunl0 onlink", CrossSubnet native within the subnet and tunl0 across it,
# VXLAN "via <remote VTEP> dev vxlan.calico onlink" with permanent ARP and
# FDB entries for the remote VTEP MAC); pods ping each other across nodes
# (native, VXLAN, and CrossSubnet's native half); podmesh-bgpd exits 0 on
# SIGTERM with no sanitizer report; in VXLAN, vxlan.calico deleted and
# made again by podmesh-node gets its routes and neighbours back.  ~60 s.
PM_TIMEOUT=240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node

MODES=${NODE_MODES:-native ipip crosssubnet vxlan}

# check_pool IPIP VXLAN: the default pool podmesh-node wrote.
check_pool() {
	local out
	out=$(nctl get ippool -o json) || fail "get ippool: $out"
	jq -e --arg c "$NODE_POOL" --arg i "$1" --arg v "$2" '
	    [.items[]] | length == 1 and
	    .[0].metadata.name == "default-ipv4-ippool" and
	    .[0].spec.cidr == $c and (.[0].spec.ipipMode // "Never") == $i and
	    (.[0].spec.vxlanMode // "Never") == $v' <<<"$out" >/dev/null ||
	    fail "default pool: want $NODE_POOL ipipMode $1 vxlanMode $2, got $out"
	ok "default pool $NODE_POOL, ipipMode $1, vxlanMode $2"
}

# check_node_addr NODE: the Node resource carries the underlay address/24.
check_node_addr() {
	local a
	a=$(node_get "$1" '.spec.bgp.ipv4Address // empty')
	[ "$a" = "${NODE_IP[$1]}/24" ] ||
	    fail "Node $1: ipv4Address '$a', want ${NODE_IP[$1]}/24"
}

# check_tunl0 NODE: the IPIP tunnel address from IPAM is on tunl0.
check_tunl0() {
	local n=$1 a out
	a=$(node_get "$n" '.spec.bgp.ipv4IPIPTunnelAddr // empty')
	[ -n "$a" ] || fail "Node $n has no ipv4IPIPTunnelAddr"
	out=$(ip -n "$(ns "$n")" -4 addr show dev tunl0)
	grep -q "inet $a/32 " <<<"$out" || fail "$n: tunl0 lacks $a/32: $out"
	grep -q "mtu 1440 " <<<"$out" || fail "$n: tunl0 MTU not 1440: $out"
	ok "$n: tunl0 has its tunnel address $a/32, MTU 1440"
}

# check_vxlan NODE: vxlan.calico as Calico's (VNI 4096, port 4789), with the
# Node's VTEP address and MAC; a permanent ARP and FDB entry for every other
# node's VTEP.
check_vxlan() {
	local n=$1 a mac out o va vm
	a=$(node_get "$n" '.spec.ipv4VXLANTunnelAddr // empty')
	mac=$(node_get "$n" '.spec.vxlanTunnelMACAddr // empty')
	[ -n "$a" ] && [ -n "$mac" ] ||
	    fail "Node $n: ipv4VXLANTunnelAddr '$a', vxlanTunnelMACAddr '$mac'"
	out=$(ip -n "$(ns "$n")" -d addr show dev vxlan.calico) ||
	    fail "$n: no vxlan.calico"
	grep -q "vxlan id 4096 " <<<"$out" && grep -q "dstport 4789 " <<<"$out" ||
	    fail "$n: vxlan.calico not VNI 4096 port 4789: $out"
	grep -q "inet $a/32 " <<<"$out" || fail "$n: vxlan.calico lacks $a/32: $out"
	grep -qi "link/ether $mac " <<<"$out" ||
	    fail "$n: vxlan.calico's MAC is not the Node's $mac: $out"
	for o in "${NODES[@]}"; do
		[ "$o" = "$n" ] && continue
		va=$(node_get "$o" '.spec.ipv4VXLANTunnelAddr')
		vm=$(node_get "$o" '.spec.vxlanTunnelMACAddr')
		wait_until 5 _neigh_ok "$n" "$va" "$vm" ||
		    fail "$n: no permanent ARP entry $va -> $vm on vxlan.calico:" \
		    "$(ip -n "$(ns "$n")" neigh show dev vxlan.calico)"
		wait_until 5 _fdb_ok "$n" "$vm" "${NODE_IP[$o]}" ||
		    fail "$n: no permanent FDB entry $vm -> ${NODE_IP[$o]}:" \
		    "$(bridge -n "$(ns "$n")" fdb show dev vxlan.calico)"
	done
	ok "$n: vxlan.calico VNI 4096 port 4789 $a $mac; ARP and FDB for the others"
}

_neigh_ok() {
	ip -n "$(ns "$1")" neigh show dev vxlan.calico "$2" |
	    grep -qi "lladdr $3 PERMANENT"
}

_fdb_ok() {
	bridge -n "$(ns "$1")" fdb show dev vxlan.calico |
	    grep -qi "^$2 dst $3 .*permanent"
}

mesh_cluster() {
	local mode=$1 ipip=Never vxlan=Never n p t0 env
	step "$mode: three nodes"
	t0=$(_pm_now)
	case $mode in
	ipip) ipip=Always ;;
	crosssubnet) ipip=CrossSubnet ;;
	vxlan) vxlan=Always ;;
	esac
	if [ "$mode" = crosssubnet ]; then
		underlay two
		node_add n1
		node_add n2
		node_add n3 subnet=2
	else
		underlay
		node_add n1
		node_add n2
		node_add n3
	fi
	node_etcd_start
	case $mode in ipip | crosssubnet)
		for n in "${NODES[@]}"; do tunl0_standin "$n"; done ;;
	esac
	env=("CALICO_IPV4POOL_CIDR=$NODE_POOL" "CALICO_IPV4POOL_IPIP=$ipip"
	    "CALICO_IPV4POOL_VXLAN=$vxlan")
	for n in "${NODES[@]}"; do
		if [ "$mode" = native ] && [ "$n" = n1 ]; then
			node_start "$n" "${env[@]}" IP=autodetect
		else
			node_start "$n" "${env[@]}"
		fi
		check_node_addr "$n"
	done
	ok "Nodes registered with their underlay addresses$([ "$mode" = native ] && echo " (n1's autodetected)")"
	check_pool "$ipip" "$vxlan"
	case $mode in
	ipip | crosssubnet) for n in "${NODES[@]}"; do check_tunl0 "$n"; done ;;
	esac
	pod_add n1 pa
	pod_add n2 pb
	pod_add n3 pc
	for n in "${NODES[@]}"; do
		[ -n "$(node_blocks "$n")" ] || fail "$n has no confirmed block affinity"
	done
	for n in "${NODES[@]}"; do
		node_bgpd_start "$n"
	done
	expect_mesh 20
	for n in "${NODES[@]}"; do
		expect_table "$n" "$mode" 10
	done
	[ "$mode" = vxlan ] && for n in "${NODES[@]}"; do check_vxlan "$n"; done
	case $mode in
	native | vxlan)
		pod_ping pa pb
		pod_ping pb pc
		pod_ping pc pa
		;;
	crosssubnet)
		pod_ping pa pb
		;;
	esac
	if [ "$mode" = vxlan ]; then
		# vxlan.calico made again (podmesh-node after the device was
		# lost): a new index, routes and neighbours gone with the old
		# one; podmesh-bgpd hears the link and puts them back
		ip -n "$(ns n1)" link del vxlan.calico || fail "del vxlan.calico"
		node_start n1 "${env[@]}"
		expect_table n1 vxlan 10
		check_vxlan n1
		pod_ping pa pb
		ok "n1: routes and neighbours back on the new vxlan.calico"
	fi
	# the pods' own /32 routes are not podmesh's: left alone
	for p in "${PODS[@]}"; do
		ip -n "$(ns "${POD_NODE[$p]}")" route show "${POD_IP[$p]}/32" |
		    grep -q "dev cali$p " || fail "the route to pod $p was touched"
	done
	log "$mode: up and checked in $(_pm_secs $(($(_pm_now) - t0)))s"
	cluster_down
}

for m in $MODES; do
	mesh_cluster "$m"
done
exit 0
