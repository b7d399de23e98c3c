#!/bin/bash
# t_confd_v3.sh: podmesh-confd's etcdv3 backend (confd/backend_v3.c over
# node/'s watch cache, confd/v1tree.c) against a real etcd on loopback,
# through tests/integration/confd_kv_drive (the backend on an event loop,
# printing its whole key tree at each change).  Calico v3 resources are
# written with etcdctl as Calico's etcdv3 backend stores them.  Checked,
# each as the exact tree the backend holds: the first tree only after the
# listing is complete (one change); a BGPConfiguration change (mesh off,
# AS, log level); a node-scoped peerSelector peering and its reverse
# appearing with a reflector Node; a txn writing two resources reported as
# one change; no change for writes confd does not see (an IPAM block, a
# WorkloadEndpoint, a resource rewritten with the same bytes), and an IPAM
# block or an affinity not even costing a recomputed tree; a Node
# deleted taking its keys and peerings with it; SIGTERM frees the backend;
# no etcd at start: tries logged with a back-off, no tree, no crash.
# ~10 s.  (confd_kv_drive names no node, so no affinities appear: those are
# covered by tests/unit/v1tree_test.c.)
PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

DRIVE=$PODMESH_BUILD/tests/confd_kv_drive
[ -x "$DRIVE" ] ||
    fail "$DRIVE missing (cmake --build ... --target confd_kv_drive)"
for c in etcd etcdctl curl ss awk; do
	command -v $c >/dev/null || fail "$c not installed"
done

export LC_ALL=C # sort as strcmp
OUT=$PM_TMP/drive.out
ERR=$PM_TMP/drive.log
RES=/calico/resources/v3/projectcalico.org

pm_dump() {
	PM_DUMPED=1
	{
		echo "--- $OUT (tail)"
		tail -n 60 "$OUT" 2>/dev/null
		echo "--- $ERR (tail)"
		tail -n 20 "$ERR" 2>/dev/null
	} >&2
}

ectl() {
	ETCDCTL_API=3 etcdctl --endpoints "$ETCD_URL" "$@" >/dev/null ||
	    fail "etcdctl $*"
}

# res PLURAL NAME KIND SPEC [LABELS]: a v3 resource as Calico stores it
res() {
	local labels=
	[ -n "${5:-}" ] && labels=",\"labels\":$5"
	ectl put "$RES/$1/$2" "{\"kind\":\"$3\",\"apiVersion\":\"projectcalico.org/v3\",\"metadata\":{\"name\":\"$2\",\"uid\":\"0b8f2d3e-1c1e-4c1e-9a3d-0242ac11000${#2}\",\"creationTimestamp\":\"2024-05-01T10:00:00Z\"$labels},\"spec\":{$4}}"
}

KV_WAIT=3
. "$(dirname "$0")/kvdrive_lib.sh"

# expect_changes NAME N: exactly N change blocks so far
expect_changes() {
	[ "$(changes)" = "$2" ] || fail "$1: $2 changes expected, got $(changes)"
}

peer() { # IP AS RR PORT
	printf '{"ip":"%s","as_num":"%s","rr_cluster_id":"%s","password":null,"source_addr":"UseNodeIP","port":%s,"keep_next_hop":false,"restart_time":""}' "$1" "$2" "$3" "$4"
}

# ---------------------------------------------------------------------------
step "Calico v3 resources in etcd"
etcd_start v3
res bgpconfigurations default BGPConfiguration \
    '"logSeverityScreen":"Info","nodeToNodeMeshEnabled":true,"asNumber":64512'
res nodes n1 Node \
    '"bgp":{"ipv4Address":"192.0.2.1/24","ipv4IPIPTunnelAddr":"198.18.0.1"}' \
    '{"rack":"a"}'
res nodes n2 Node \
    '"bgp":{"ipv4Address":"192.0.2.2/24","ipv6Address":"2001:db8::2/64","asNumber":65002}' \
    '{"rack":"b"}'
res ippools p1 IPPool \
    '"cidr":"198.18.0.0/16","ipipMode":"Always","vxlanMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()"'
res bgppeers global-tor BGPPeer '"peerIP":"203.0.113.1","asNumber":65001'

step "the first tree"
"$DRIVE" -d -e "$ETCD_URL" etcdv3 >"$OUT" 2>"$ERR" &
DPID=$!
PM_PID["drive:v3"]=$DPID
POOL='{"cidr":"198.18.0.0/16","ipip":"tunl0","ipip_mode":"always","vxlan_mode":"","masquerade":true,"ipam":true,"disabled":false,"disableBGPExport":false}'
HOSTS='/calico/bgp/v1/host/n1/ip_addr_v4=192.0.2.1
/calico/bgp/v1/host/n1/ip_addr_v6=
/calico/bgp/v1/host/n1/network_v4=192.0.2.0/24
/calico/bgp/v1/host/n1/rr_cluster_id=
/calico/bgp/v1/host/n2/as_num=65002
/calico/bgp/v1/host/n2/ip_addr_v4=192.0.2.2
/calico/bgp/v1/host/n2/ip_addr_v6=2001:db8::2
/calico/bgp/v1/host/n2/network_v4=192.0.2.0/24
/calico/bgp/v1/host/n2/network_v6=2001:db8::/64
/calico/bgp/v1/host/n2/rr_cluster_id='
T1="/calico/bgp/v1/global/as_num=64512
/calico/bgp/v1/global/loglevel=info
/calico/bgp/v1/global/node_mesh={\"enabled\":true}
/calico/bgp/v1/global/peer_v4/203.0.113.1=$(peer 203.0.113.1 65001 '' 0)
$HOSTS
/calico/v1/ipam/v4/pool/198.18.0.0-16=$POOL"
expect_state "first tree: global, nodes, pool, global peer" "$T1"
expect_changes "the listing" 1
grep -Eq "^CHANGE 1 keys=$(printf '%s\n' "$T1" | wc -l) desc=etcdv3 $ETCD_URL, revision [0-9]+$" "$OUT" ||
    fail "describe: $(grep '^CHANGE 1' "$OUT")"
ok "describe names the endpoint and the revision"

step "BGPConfiguration: mesh off, AS, log level"
res bgpconfigurations default BGPConfiguration \
    '"logSeverityScreen":"Warning","nodeToNodeMeshEnabled":false,"asNumber":64600,"listenPort":1790'
T2="/calico/bgp/v1/global/as_num=64600
/calico/bgp/v1/global/listen_port=1790
/calico/bgp/v1/global/loglevel=none
/calico/bgp/v1/global/node_mesh={\"enabled\":false}
/calico/bgp/v1/global/peer_v4/203.0.113.1=$(peer 203.0.113.1 65001 '' 0)
$HOSTS
/calico/v1/ipam/v4/pool/198.18.0.0-16=$POOL"
expect_state "global keys follow the BGPConfiguration" "$T2"
expect_changes "one write" 2

step "a reflector and a peerSelector peering, written in one txn"
RRN='{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"rr1","labels":{"route-reflector":"true"}},"spec":{"bgp":{"ipv4Address":"192.0.2.10/24","routeReflectorClusterID":"224.0.0.1"}}}'
RRP='{"kind":"BGPPeer","apiVersion":"projectcalico.org/v3","metadata":{"name":"to-rr"},"spec":{"nodeSelector":"rack == \"a\"","peerSelector":"route-reflector == \"true\""}}'
b64() { printf '%s' "$1" | base64 -w0; }
curl -sf "$ETCD_URL/v3/kv/txn" -d "{\"success\":[
{\"requestPut\":{\"key\":\"$(b64 "$RES/nodes/rr1")\",\"value\":\"$(b64 "$RRN")\"}},
{\"requestPut\":{\"key\":\"$(b64 "$RES/bgppeers/to-rr")\",\"value\":\"$(b64 "$RRP")\"}}]}" \
    >"$PM_TMP/txn.out" || fail "txn"
grep -q '"succeeded":true' "$PM_TMP/txn.out" || fail "txn: $(cat "$PM_TMP/txn.out")"
T3="/calico/bgp/v1/global/as_num=64600
/calico/bgp/v1/global/listen_port=1790
/calico/bgp/v1/global/loglevel=none
/calico/bgp/v1/global/node_mesh={\"enabled\":false}
/calico/bgp/v1/global/peer_v4/203.0.113.1=$(peer 203.0.113.1 65001 '' 0)
/calico/bgp/v1/host/n1/ip_addr_v4=192.0.2.1
/calico/bgp/v1/host/n1/ip_addr_v6=
/calico/bgp/v1/host/n1/network_v4=192.0.2.0/24
/calico/bgp/v1/host/n1/peer_v4/192.0.2.10-1790=$(peer 192.0.2.10 64600 224.0.0.1 1790)
/calico/bgp/v1/host/n1/rr_cluster_id=
/calico/bgp/v1/host/n2/as_num=65002
/calico/bgp/v1/host/n2/ip_addr_v4=192.0.2.2
/calico/bgp/v1/host/n2/ip_addr_v6=2001:db8::2
/calico/bgp/v1/host/n2/network_v4=192.0.2.0/24
/calico/bgp/v1/host/n2/network_v6=2001:db8::/64
/calico/bgp/v1/host/n2/rr_cluster_id=
/calico/bgp/v1/host/rr1/ip_addr_v4=192.0.2.10
/calico/bgp/v1/host/rr1/ip_addr_v6=
/calico/bgp/v1/host/rr1/network_v4=192.0.2.0/24
/calico/bgp/v1/host/rr1/peer_v4/192.0.2.1-1790=$(peer 192.0.2.1 64600 '' 1790)
/calico/bgp/v1/host/rr1/rr_cluster_id=224.0.0.1
/calico/v1/ipam/v4/pool/198.18.0.0-16=$POOL"
expect_state "forward and reverse peerings, the reflector's keys" "$T3"
expect_changes "a txn of two resources" 3

step "writes confd does not see"
n=$(changes)
# recomputed trees found equal to the last (a debug line each)
recomputes() {
	grep -c 'the key tree is unchanged' "$ERR"
}
r=$(recomputes)
ectl put /calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26 \
    '{"cidr":"198.18.0.0/26","affinity":"host:n1","strictAffinity":false,"allocations":[0,null,null,null],"unallocated":[1,2,3],"attributes":[{"handle_id":"ipip-tunnel-addr-n1","secondary":{"node":"n1","type":"ipipTunnelAddress"}}]}'
# the driver names no node: every affinity is another node's
ectl put /calico/ipam/v2/host/n1/ipv4/block/198.18.0.0-26 \
    '{"state":"confirmed","deleted":false}'
ectl put "$RES/workloadendpoints/default/n1-k8s-pod1-eth0" '{"kind":"WorkloadEndpoint"}'
never_within 1 _changed_from "$n" ||
    fail "a change was reported: $(grep '^CHANGE' "$OUT" | tail -1)"
[ "$(recomputes)" = "$r" ] ||
    fail "an IPAM block or affinity write recomputed the tree ($r -> $(recomputes))"
ok "an IPAM block, an affinity, a WorkloadEndpoint: no change, the tree not even recomputed"
res ippools p1 IPPool \
    '"cidr":"198.18.0.0/16","ipipMode":"Always","vxlanMode":"Never","natOutgoing":true,"blockSize":26,"nodeSelector":"all()"'
never_within 1 _changed_from "$n" ||
    fail "a change was reported: $(grep '^CHANGE' "$OUT" | tail -1)"
ok "a pool rewritten as it was: no change"

step "a Node deleted"
ectl del "$RES/nodes/rr1"
T4="/calico/bgp/v1/global/as_num=64600
/calico/bgp/v1/global/listen_port=1790
/calico/bgp/v1/global/loglevel=none
/calico/bgp/v1/global/node_mesh={\"enabled\":false}
/calico/bgp/v1/global/peer_v4/203.0.113.1=$(peer 203.0.113.1 65001 '' 0)
$HOSTS
/calico/v1/ipam/v4/pool/198.18.0.0-16=$POOL"
expect_state "its keys and the peerings with it gone" "$T4"
expect_changes "one delete" 4

step "SIGTERM"
kill -TERM "$DPID"
wait_until 3 grep -q '^FREED ' "$OUT" || fail "the driver did not stop"
wait "$DPID" || fail "the driver exited $?"
unset "PM_PID[drive:v3]"
ok "freed in $(sed -n 's/^FREED ms=//p' "$OUT") ms, exit 0"

step "no etcd at start: retried with a clear log, nothing passed on"
DOWN=http://127.0.0.1:$(etcd_free_port)
"$DRIVE" -e "$DOWN" etcdv3 >"$OUT.down" 2>"$ERR.down" &
DPID=$!
PM_PID["drive:down"]=$DPID
sleep 1.5
kill -0 "$DPID" 2>/dev/null || fail "the driver died: $(tail -3 "$ERR.down")"
! grep -q '^CHANGE' "$OUT.down" || fail "a tree without etcd: $(head -3 "$OUT.down")"
tries=$(grep -c "etcd $DOWN: .*onnect.*(again in [0-9]* ms)" "$ERR.down")
[ "$tries" -ge 2 ] && [ "$tries" -le 8 ] ||
    fail "$tries connection failures logged in 1.5 s: $(head -3 "$ERR.down")"
kill -TERM "$DPID"
wait_until 3 grep -q '^FREED ' "$OUT.down" || fail "the driver did not stop"
wait "$DPID" || fail "the driver exited $?"
unset "PM_PID[drive:down]"
ok "$tries tries logged (backing off), no tree, freed, exit 0"
