#!/bin/bash
# t_ctl_ipam.sh: podmeshctl ipam show|release|check against a real etcd 3.4
# holding a hand-made Calico IPAM tree (calico.md §2): two pools, blocks
# with allocations (pods with and without workload endpoints, a node's
# IPIP tunnel address, an address with no handle that an endpoint holds),
# handles, confirmed affinities, blocks and affinity keys of nodes that do
# not exist, a handle no allocation carries.  Checked: usage per pool and
# per block (table and JSON); one address described; release (block
# ordinal freed to the back of unallocated, attribute dropped, handle
# counted down or deleted, an empty unaffined block deleted, errors for a
# free address and one outside every block, two releasers at once on one
# block); check's counts and listing, changing nothing; check --fix
# releasing exactly the leaked addresses, taking the affinity off blocks
# of missing nodes (deleting the empty one) and deleting their affinity
# keys, leaving everything in use alone; a second check finds nothing and
# a second --fix changes nothing.  ~5 s.
PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

CTL=$PODMESH_BUILD/ctl/podmeshctl
[ -x "$CTL" ] || fail "$CTL missing (cmake --build ... --target podmeshctl)"
for c in etcd etcdctl jq python3 curl ss; do
	command -v $c >/dev/null || fail "$c not installed"
done

etcd_start ipam
URL=$ETCD_URL
export ETCD_ENDPOINTS=$URL # the environment form of the configuration

ectl() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

value() {
	ectl get "$1" --print-value-only
}

snapshot() {
	ectl get --prefix /calico -w json |
	    jq -S '{rev: .header.revision, kvs: [.kvs[]? |
	        {key: (.key | @base64d), value: (.value | @base64d),
	         mod: .mod_revision}]}'
}

expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got: $2"
	ok "$1"
}

# mkblock CIDR AFFINITY|- ORD=HANDLE|-[,key:value...]...: a v3 block
cat >"$PM_TMP/mkblock.py" <<'EOF'
import ipaddress, json, sys
net = ipaddress.ip_network(sys.argv[1])
aff = None if sys.argv[2] == "-" else sys.argv[2]
allocs = [None] * net.num_addresses
attrs = []
for spec in sys.argv[3:]:
    ord_, rest = spec.split("=", 1)
    parts = rest.split(",")
    a = {"handle_id": None if parts[0] == "-" else parts[0],
         "secondary": dict(p.split(":", 1) for p in parts[1:]) or None}
    if a not in attrs:
        attrs.append(a)
    allocs[int(ord_)] = attrs.index(a)
print(json.dumps({"cidr": str(net), "affinity": aff, "strictAffinity": False,
    "allocations": allocs,
    "unallocated": [i for i in range(len(allocs)) if allocs[i] is None],
    "attributes": attrs, "deleted": False}))
EOF
mkblock() {
	python3 "$PM_TMP/mkblock.py" "$@"
}

# putmany < "KEY<tab>VALUE" lines: puts in transactions of 100, through
# etcd's JSON gateway (one process instead of one etcdctl per key)
cat >"$PM_TMP/putmany.py" <<'EOF'
import base64, json, sys, urllib.request
b64 = lambda s: base64.b64encode(s.encode()).decode()
kvs = [l.rstrip("\n").split("\t", 1) for l in sys.stdin if l.strip()]
for i in range(0, len(kvs), 100):
    body = {"success": [{"request_put": {"key": b64(k), "value": b64(v)}}
                        for k, v in kvs[i:i + 100]]}
    req = urllib.request.Request(sys.argv[1] + "/v3/kv/txn",
                                 json.dumps(body).encode())
    urllib.request.urlopen(req).read()
EOF
putmany() {
	python3 "$PM_TMP/putmany.py" "$URL" || fail "putmany"
}

B=/calico/ipam/v2/assignment/ipv4/block
H=/calico/ipam/v2/handle
A=/calico/ipam/v2/host
R=/calico/resources/v3/projectcalico.org

# ---------------------------------------------------------------------------
step "a hand-made IPAM tree"
cat >"$PM_TMP/cluster.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: IPPoolList
items:
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool-a}
  spec: {cidr: 198.18.0.0/24, ipipMode: Always}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool-b}
  spec: {cidr: 198.18.4.0/22, blockSize: 28}
---
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata: {name: node1}
  spec: {bgp: {ipv4Address: 192.0.2.1/24, ipv4IPIPTunnelAddr: 198.18.0.1}}
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata: {name: node2}
  spec: {bgp: {ipv4Address: 192.0.2.2/24}}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-pod--a-eth0, namespace: default}
  spec: {orchestrator: k8s, node: node1, pod: pod-a, endpoint: eth0,
         containerID: aaaa, ipNetworks: [198.18.0.2/32], interfaceName: cali1}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node2-k8s-pod--b-eth0, namespace: kube-system}
  spec: {orchestrator: k8s, node: node2, pod: pod-b, endpoint: eth0,
         containerID: bbbb, ipNetworks: [198.18.0.66/32], interfaceName: cali2}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node1-k8s-pod--c-eth0, namespace: default}
  spec: {orchestrator: k8s, node: node1, pod: pod-c, endpoint: eth0,
         containerID: cccc-new, ipNetworks: [198.18.0.193/32], interfaceName: cali3}
- apiVersion: projectcalico.org/v3
  kind: WorkloadEndpoint
  metadata: {name: node2-k8s-pod--d-eth0, namespace: default}
  spec: {orchestrator: k8s, node: node2, pod: pod-d, endpoint: eth0,
         containerID: dddd, ipNetworks: [198.18.4.3/32], interfaceName: cali4}
EOF
"$CTL" apply -f "$PM_TMP/cluster.yaml" >/dev/null || fail "cluster resources"
# 198.18.0.0/26 node1: .1 tunnel, .2 pod-a, .3 .4 .5 a pod gone (handle
# "dead" counts 3), .6 no handle and no user
ectl put $B/198.18.0.0-26 "$(mkblock 198.18.0.0/26 host:node1 \
    1=ipip-tunnel-addr-node1,node:node1,type:ipipTunnelAddress \
    2=k8s-pod-network.aaaa,node:node1,pod:pod-a,namespace:default \
    3=k8s-pod-network.dead,node:node1 4=k8s-pod-network.dead,node:node1 \
    5=k8s-pod-network.dead,node:node1 6=-)" >/dev/null
# 198.18.0.64/26 node2: .66 pod-b, .67 .68 two pods of one release test
ectl put $B/198.18.0.64-26 "$(mkblock 198.18.0.64/26 host:node2 \
    2=k8s-pod-network.bbbb 3=k8s-pod-network.r1 4=k8s-pod-network.r2)" >/dev/null
# 198.18.0.128/26 affine to a node that is gone, one leaked pod
ectl put $B/198.18.0.128-26 "$(mkblock 198.18.0.128/26 host:gone \
    0=k8s-pod-network.eeee,node:gone)" >/dev/null
# 198.18.0.192/26 affine to another gone node; .193 held by pod-c's
# endpoint under an older handle (the endpoint's IP keeps it in use)
ectl put $B/198.18.0.192-26 "$(mkblock 198.18.0.192/26 host:gone2 \
    1=k8s-pod-network.cccc-old)" >/dev/null
# 198.18.4.0/28 (pool-b, /28 blocks) node2: pod-d, and 14 leaked pods of
# 14 handles; no affinity key for it
args=(3=k8s-pod-network.dddd)
for i in 0 1 2 4 5 6 7 8 9 10 11 12 13 14; do
	args+=("$i=k8s-pod-network.leak$i")
done
ectl put $B/198.18.4.0-28 "$(mkblock 198.18.4.0/28 host:node2 "${args[@]}")" >/dev/null
# an unaffined block of a deleted pool, one address released below
ectl put $B/198.18.9.0-26 "$(mkblock 198.18.9.0/26 - 7=k8s-pod-network.orph)" >/dev/null
for a in node1/ipv4/block/198.18.0.0-26 node2/ipv4/block/198.18.0.64-26 \
    gone/ipv4/block/198.18.0.128-26 gone2/ipv4/block/198.18.0.192-26 \
    gone3/ipv4/block/198.18.1.0-26; do
	ectl put $A/$a '{"state":"confirmed","deleted":false}' >/dev/null
done
handle() {
	ectl put "$H/$1" "{\"block\":{$2},\"deleted\":false}" >/dev/null
}
handle ipip-tunnel-addr-node1 '"198.18.0.0/26":1'
handle k8s-pod-network.aaaa '"198.18.0.0/26":1'
handle k8s-pod-network.dead '"198.18.0.0/26":3'
handle k8s-pod-network.bbbb '"198.18.0.64/26":1'
handle k8s-pod-network.r1 '"198.18.0.64/26":1'
handle k8s-pod-network.r2 '"198.18.0.64/26":1'
handle k8s-pod-network.eeee '"198.18.0.128/26":1'
handle k8s-pod-network.cccc-old '"198.18.0.192/26":1'
handle k8s-pod-network.dddd '"198.18.4.0/28":1'
for i in 0 1 2 4 5 6 7 8 9 10 11 12 13 14; do
	handle k8s-pod-network.leak$i '"198.18.4.0/28":1'
done
handle k8s-pod-network.orph '"198.18.9.0/26":1'
handle k8s-pod-network.zzzz '"198.18.0.0/26":1' # carried by nothing
# a /24 block (pool-b) of node1 with 130 leaked pods: more handles than
# one transaction takes, so --fix needs two rounds for it
args=()
for i in $(seq 0 129); do
	printf '%s\t{"block":{"198.18.6.0/24":1},"deleted":false}\n' \
	    "$H/k8s-pod-network.big$i"
done | putmany
for i in $(seq 0 129); do
	args+=("$i=k8s-pod-network.big$i")
done
ectl put $B/198.18.6.0-24 "$(mkblock 198.18.6.0/24 host:node1 "${args[@]}")" >/dev/null
ok "7 blocks, 157 allocations, 155 handles, 5 affinities"

# ---------------------------------------------------------------------------
step "ipam show"
out=$("$CTL" ipam show)
[ "$(head -1 <<<"$out" | tr -s ' ')" = "GROUPING CIDR IPS TOTAL IPS IN USE IPS FREE" ] ||
    fail "columns: $out"
expect "pool-a usage" "$out" '^IP Pool +198\.18\.0\.0/24 +256 +11 \(4%\) +245 \(96%\)$'
expect "pool-b usage" "$out" '^IP Pool +198\.18\.4\.0/22 +1024 +145 \(14%\) +879 \(86%\)$'
expect "a block outside every pool, said" "$out" '^1 block is outside every IP pool'
out=$("$CTL" ipam show --show-blocks)
expect "block rows" "$out" '^Block +198\.18\.0\.0/26 +64 +6 \(9%\) +58 \(91%\) +node1$'
expect "block of a gone node" "$out" '^Block +198\.18\.0\.128/26 +64 +1 \(2%\) +63 \(98%\) +gone$'
expect "a /28 block" "$out" '^Block +198\.18\.4\.0/28 +16 +15 \(94%\) +1 \(6%\) +node2$'
expect "the block without a pool" "$out" '^Block \(no pool\) +198\.18\.9\.0/26 +64 +1 \(2%\) +63 \(98%\) +-$'
out=$("$CTL" ipam show -o json)
jq -e '(.pools | length) == 2 and .pools[0].name == "pool-a" and
    .pools[0].total == 256 and .pools[0].in_use == 11 and
    (.pools[0].blocks | length) == 4 and
    .pools[0].blocks[0] == {"cidr": "198.18.0.0/26", "affinity": "host:node1",
        "total": 64, "in_use": 6, "free": 58} and
    .pools[1].in_use == 145 and
    .blocks_without_pool[0].cidr == "198.18.9.0/26"' <<<"$out" >/dev/null ||
    fail "ipam show -o json: $out"
ok "ipam show -o json"
out=$("$CTL" ipam show --ip 198.18.0.2)
expect "show --ip: in use" "$out" '^IP 198\.18\.0\.2 is in use$'
expect "show --ip: handle" "$out" '^Handle k8s-pod-network\.aaaa$'
expect "show --ip: attributes" "$out" '^Attributes: node=node1 pod=pod-a namespace=default$'
expect "show --ip: free" "$("$CTL" ipam show --ip 198.18.0.9)" \
    '^IP 198\.18\.0\.9 is not assigned \(block 198\.18\.0\.0/26, host:node1\)$'
expect "show --ip: nowhere" "$("$CTL" ipam show --ip 10.0.0.1)" \
    '^IP 10\.0\.0\.1 is not in any IPAM block$'

# ---------------------------------------------------------------------------
step "ipam release"
out=$("$CTL" ipam release --ip 198.18.0.67) || fail "release: $out"
expect "release" "$out" '^Successfully released IP address 198\.18\.0\.67$'
v=$(value $B/198.18.0.64-26)
jq -e '.allocations[3] == null and .unallocated[-1] == 3 and
    (.unallocated | length) == 62 and (.attributes | length) == 2 and
    .attributes[.allocations[2]].handle_id == "k8s-pod-network.bbbb" and
    .attributes[.allocations[4]].handle_id == "k8s-pod-network.r2" and
    .affinity == "host:node2"' <<<"$v" >/dev/null || fail "block after release: $v"
ok "ordinal freed to the back, attribute dropped and renumbered"
[ -z "$(value $H/k8s-pod-network.r1)" ] || fail "handle r1 left at 0"
ok "the handle at 0 deleted"
out=$("$CTL" ipam release --ip 198.18.0.4) || fail "release .4: $out"
[ "$(value $H/k8s-pod-network.dead | jq -c .block)" = '{"198.18.0.0/26":2}' ] ||
    fail "handle dead: $(value $H/k8s-pod-network.dead)"
ok "a handle of 3 counted down to 2"
before=$(snapshot)
out=$("$CTL" ipam release --ip 198.18.0.67 2>&1) && fail "released twice: $out"
expect "a free address: an error" "$out" '^podmeshctl: IP 198\.18\.0\.67 is not assigned$'
out=$("$CTL" ipam release --ip 10.9.9.9 2>&1) && fail "released nowhere: $out"
expect "an address in no block: an error" "$out" 'IP 10\.9\.9\.9 is not in any IPAM block'
out=$("$CTL" ipam release --ip bogus 2>&1)
[ $? -eq 2 ] || fail "release --ip bogus: $out"
out=$("$CTL" ipam release 2>&1)
[ $? -eq 2 ] || fail "release without --ip: $out"
[ "$before" = "$(snapshot)" ] || fail "failed releases wrote"
ok "failed releases write nothing"
out=$("$CTL" ipam release --ip 198.18.9.7) || fail "release .9.7: $out"
[ -z "$(value $B/198.18.9.0-26)" ] || fail "empty unaffined block kept"
[ -z "$(value $H/k8s-pod-network.orph)" ] || fail "handle orph kept"
ok "an empty block with no affinity deleted, as Calico's ReleaseIPs"
# two releasers on one block at once: both land (compare-and-swap retries)
ectl put $B/198.18.5.0-28 "$(mkblock 198.18.5.0/28 host:node2 \
    $(for i in $(seq 0 15); do printf '%d=k8s-pod-network.par%d ' $i $i; done))" >/dev/null
for i in $(seq 0 15); do handle k8s-pod-network.par$i '"198.18.5.0/28":1'; done
(for i in 0 2 4 6 8 10 12 14; do "$CTL" ipam release --ip 198.18.5.$i >/dev/null || exit 1; done) &
p1=$!
(for i in 1 3 5 7 9 11 13 15; do "$CTL" ipam release --ip 198.18.5.$i >/dev/null || exit 1; done) &
p2=$!
wait $p1 || fail "releaser 1"
wait $p2 || fail "releaser 2"
v=$(value $B/198.18.5.0-28)
jq -e '([.allocations[] | select(. != null)] | length) == 0 and
    (.unallocated | length) == 16 and (.unallocated | unique | length) == 16 and
    (.attributes | length) == 0' <<<"$v" >/dev/null || fail "after parallel releases: $v"
[ -z "$(ectl get --prefix $H/k8s-pod-network.par --keys-only)" ] || fail "par handles left"
ok "16 releases from two writers: all landed, block consistent, handles gone"
ectl del --prefix $B/198.18.5.0-28 >/dev/null

# ---------------------------------------------------------------------------
step "ipam check"
before=$(snapshot)
out=$("$CTL" ipam check) || fail "check: $out"
log "$(grep -E "^(Found|Check)" <<<"$out")"
expect "counts" "$out" '^Found 2 IP pools, 6 IPAM blocks with 154 allocations, 153 handles, 5 affinities, 2 nodes and 4 workload endpoints\.$'
expect "leaks" "$out" '^Found 149 allocations that no workload endpoint or node uses:$'
for ip in 198.18.0.3 198.18.0.5 198.18.0.6 198.18.0.68 198.18.0.128 198.18.4.0 \
    198.18.4.14 198.18.6.0 198.18.6.129; do
	grep -Eq "^  ${ip//./\\.} +block " <<<"$out" || fail "$ip not listed as leaked: $out"
done
for ip in 198.18.0.1 198.18.0.2 198.18.0.66 198.18.0.193 198.18.4.3; do
	grep -Eq "^  ${ip//./\\.} +block " <<<"$out" && fail "$ip in use, listed as leaked: $out"
done
expect "a leak's line" "$out" '^  198\.18\.0\.3 +block 198\.18\.0\.0/26 \(host:node1\)  handle k8s-pod-network\.dead$'
expect "no handle" "$out" '^  198\.18\.0\.6 +block 198\.18\.0\.0/26 \(host:node1\)  handle \(none\)$'
expect "blocks of gone nodes" "$out" '^Found 2 blocks affine to a node that does not exist:$'
expect "a block of a gone node" "$out" '^  198\.18\.0\.128/26  host:gone \(1 allocation\)$'
expect "affinities of gone nodes" "$out" '^Found 3 affinities to a node that does not exist:$'
expect "an affinity key" "$out" "^  $A/gone3/ipv4/block/198\\.18\\.1\\.0-26\$"
expect "an unused handle" "$out" '^  k8s-pod-network\.zzzz$'
expect "total" "$out" '^Check complete; found 154 problems and 1 handle without allocations\.$'
[ "$before" = "$(snapshot)" ] || fail "check without --fix wrote"
ok "check without --fix writes nothing"

# ---------------------------------------------------------------------------
step "ipam check --fix"
out=$("$CTL" ipam check --fix --grace 1) || fail "check --fix: $out"
log "$(sed -n '/^Fixing/,$p' <<<"$out")"
expect "fix: confirmed after the grace period" "$out" '^Fixing: confirming in 1 s \(--grace\) that these are still unused\.\.\.$'
expect "fix: all confirmed" "$out" '^Confirmed: 149 of 149 allocations, 2 of 2 blocks and 3 of 3 affinities still unused and unchanged\.$'
expect "fix summary" "$out" '^Fixed: released 149 addresses, removed 2 block affinities and 3 affinity keys, deleted 1 empty block\.$'
expect "the /24 in two rounds" "$out" '^Released 120 addresses in block 198\.18\.6\.0/24$'
expect "the /24, second round" "$out" '^Released 10 addresses in block 198\.18\.6\.0/24$'
v=$(value $B/198.18.0.0-26)
jq -e '.allocations[1] != null and .allocations[2] != null and
    .allocations[3] == null and .allocations[5] == null and
    .allocations[6] == null and (.attributes | length) == 2 and
    .affinity == "host:node1"' <<<"$v" >/dev/null || fail "node1 block: $v"
ok "node1's block: tunnel and pod-a kept, leaks freed"
[ -z "$(value $H/k8s-pod-network.dead)" ] || fail "handle dead kept"
[ -n "$(value $H/k8s-pod-network.aaaa)" ] || fail "handle aaaa gone"
[ -n "$(value $H/ipip-tunnel-addr-node1)" ] || fail "tunnel handle gone"
v=$(value $B/198.18.0.64-26)
jq -e '.allocations[2] != null and .allocations[4] == null' <<<"$v" >/dev/null ||
    fail "node2 block: $v"
[ -z "$(value $B/198.18.0.128-26)" ] || fail "gone node's empty block kept"
ok "the gone node's block, emptied, deleted"
v=$(value $B/198.18.0.192-26)
jq -e '.affinity == null and .allocations[1] != null' <<<"$v" >/dev/null ||
    fail "gone2's block: $v"
ok "a gone node's block still in use: kept, without affinity"
[ -n "$(value $H/k8s-pod-network.cccc-old)" ] || fail "handle of an in-use address gone"
v=$(value $B/198.18.4.0-28)
jq -e '([.allocations[] | select(. != null)] | length) == 1 and
    .attributes[.allocations[3]].handle_id == "k8s-pod-network.dddd"' \
    <<<"$v" >/dev/null || fail "/28 block: $v"
[ -z "$(ectl get --prefix $H/k8s-pod-network.leak --keys-only)" ] || fail "leak handles kept"
ok "14 leaks of 14 handles in one block released"
v=$(value $B/198.18.6.0-24)
jq -e '([.allocations[] | select(. != null)] | length) == 0 and
    (.attributes | length) == 0 and .affinity == "host:node1"' <<<"$v" \
    >/dev/null || fail "/24 block: $v"
[ -z "$(ectl get --prefix $H/k8s-pod-network.big --keys-only)" ] || fail "big handles kept"
ok "130 leaks of 130 handles in one block released, in two transactions"
left=$(ectl get --prefix $A/ --keys-only | grep . | sort | tr '\n' ' ')
[ "$left" = "$A/node1/ipv4/block/198.18.0.0-26 $A/node2/ipv4/block/198.18.0.64-26 " ] ||
    fail "affinities left: $left"
ok "only live nodes' affinities left"
[ -n "$(value $H/k8s-pod-network.zzzz)" ] || fail "an unused handle was deleted"
ok "the unused handle left alone"
for r in nodes/node1 nodes/node2 workloadendpoints/default/node1-k8s-pod--a-eth0; do
	[ -n "$(value $R/$r)" ] || fail "$r touched"
done

out=$("$CTL" ipam check) || fail "check again: $out"
expect "nothing left" "$out" '^Check complete; found 0 problems and 1 handle without allocations\.$'
before=$(snapshot)
out=$("$CTL" ipam check --fix --grace 1) || fail "second --fix: $out"
expect "second --fix" "$out" '^Nothing to fix\.$'
[ "$before" = "$(snapshot)" ] || fail "a second --fix wrote"
ok "a second --fix changes nothing"
out=$("$CTL" ipam show)
expect "usage after the fix: pool-a" "$out" '^IP Pool +198\.18\.0\.0/24 +256 +4 \(2%\) +252 \(98%\)$'
expect "usage after the fix: pool-b" "$out" '^IP Pool +198\.18\.4\.0/22 +1024 +1 \(0%\) +1023 \(100%\)$'

# ---------------------------------------------------------------------------
step "check: users the model refuses still hold their addresses"
# 198.18.8.0/26 node1: .1 an endpoint with an invalid interfaceName (its
# containerID holds .1), .2 one with an invalid MAC and another handle
# (its ipNetworks hold .2), .5 the IPIP address of node3, a Node with an
# invalid AS number, under a handle that is not the tunnel's; .3 leaked
ectl put $B/198.18.8.0-26 "$(mkblock 198.18.8.0/26 host:node1 \
    1=k8s-pod-network.wbad 2=k8s-pod-network.wip 3=k8s-pod-network.gone8 \
    5=k8s-pod-network.n3tun)" >/dev/null
for h in wbad wip gone8 n3tun; do handle k8s-pod-network.$h '"198.18.8.0/26":1'; done
ectl put $R/workloadendpoints/default/node1-k8s-pod--w1-eth0 \
    '{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"node1-k8s-pod--w1-eth0","namespace":"default"},"spec":{"orchestrator":"k8s","node":"node1","pod":"pod-w1","endpoint":"eth0","containerID":"wbad","ipNetworks":["198.18.8.1/32"],"interfaceName":"cali1a2b3c4d5e6f"}}' >/dev/null
ectl put $R/workloadendpoints/default/node1-k8s-pod--w2-eth0 \
    '{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"node1-k8s-pod--w2-eth0","namespace":"default"},"spec":{"orchestrator":"k8s","node":"node1","pod":"pod-w2","endpoint":"eth0","containerID":"w2-other","ipNetworks":["198.18.8.2/32"],"mac":"zz:zz"}}' >/dev/null
ectl put $R/nodes/node3 \
    '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"node3"},"spec":{"bgp":{"ipv4Address":"192.0.2.3/24","asNumber":0,"ipv4IPIPTunnelAddr":"198.18.8.5"}}}' >/dev/null
out=$("$CTL" ipam check 2>"$PM_TMP/check.err") || fail "check: $out"
err=$(cat "$PM_TMP/check.err")
expect "the refused endpoint: a warning, read as it is" "$err" \
    "^podmeshctl: warning: $R/workloadendpoints/default/node1-k8s-pod--w1-eth0: .*; WorkloadEndpoint default/node1-k8s-pod--w1-eth0: its containerID and ipNetworks read as they are\$"
expect "the refused node: a warning" "$err" "^podmeshctl: warning: $R/nodes/node3: .*; its tunnel addresses read as they are\$"
expect "only the leak" "$out" '^Found 1 allocation that no workload endpoint or node uses:$'
expect "the leak" "$out" '^  198\.18\.8\.3  block 198\.18\.8\.0/26 \(host:node1\)  handle k8s-pod-network\.gone8$'
out=$("$CTL" ipam check --fix --grace 1 2>/dev/null) || fail "check --fix: $out"
expect "fixed: the leak" "$out" '^Fixed: released 1 address, removed 0 block affinities and 0 affinity keys, deleted 0 empty blocks\.$'
v=$(value $B/198.18.8.0-26)
jq -e '.allocations[1] != null and .allocations[2] != null and
    .allocations[5] != null and .allocations[3] == null' <<<"$v" >/dev/null ||
    fail "refused users' addresses released: $v"
ok "the addresses of an endpoint and a node the model refuses kept"

# ---------------------------------------------------------------------------
step "check --fix refuses while an endpoint cannot be read at all"
ectl put $B/198.18.8.0-26 "$(mkblock 198.18.8.0/26 host:node1 \
    1=k8s-pod-network.wbad 2=k8s-pod-network.wip 4=k8s-pod-network.gone9 \
    5=k8s-pod-network.n3tun)" >/dev/null
handle k8s-pod-network.gone9 '"198.18.8.0/26":1'
ectl put $R/workloadendpoints/default/node1-k8s-pod--w3-eth0 'not json {' >/dev/null
out=$("$CTL" ipam check 2>/dev/null) || fail "check with an unreadable endpoint: $out"
expect "check lists it" "$out" '^Could not read 1 node or workload endpoint; the addresses it holds may be listed below as leaked:$'
expect "by key" "$out" "^  $R/workloadendpoints/default/node1-k8s-pod--w3-eth0: not a JSON object\$"
before=$(snapshot)
rc=0
out=$("$CTL" ipam check --fix --grace 1 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "--fix with an unreadable endpoint: exit $rc: $out"
expect "--fix refused" "$out" '^podmeshctl: --fix refused: 1 node or workload endpoint could not be read, and the addresses it holds would look leaked:$'
expect "nothing written, said" "$out" 'nothing was written$'
grep -q '^Fixing' <<<"$out" && fail "--fix went on: $out"
[ "$before" = "$(snapshot)" ] || fail "--fix refused, yet wrote"
ok "--fix refused: exit 1, nothing written"
ectl del $R/workloadendpoints/default/node1-k8s-pod--w3-eth0 >/dev/null
out=$("$CTL" ipam check --fix --grace 1 2>/dev/null) || fail "--fix once readable: $out"
expect "once readable, fixed" "$out" '^Fixed: released 1 address,'

# ---------------------------------------------------------------------------
step "check --fix --grace: what comes into use meanwhile is kept"
# 198.18.10.0/26 node1: .1 a pod being started (its endpoint is written
# during the grace period), .2 released and given to another pod meanwhile,
# .3 really leaked; 198.18.11.0/26 claimed by a node whose Node appears
# meanwhile; the affinity key of a gone node (no block)
ectl put $B/198.18.10.0-26 "$(mkblock 198.18.10.0/26 host:node1 \
    1=k8s-pod-network.late 2=k8s-pod-network.swap 3=k8s-pod-network.dead10)" >/dev/null
for h in late swap dead10; do handle k8s-pod-network.$h '"198.18.10.0/26":1'; done
ectl put $B/198.18.11.0-26 "$(mkblock 198.18.11.0/26 host:late-node)" >/dev/null
for a in late-node/ipv4/block/198.18.11.0-26 gone-x/ipv4/block/198.18.11.64-26; do
	ectl put $A/$a '{"state":"confirmed","deleted":false}' >/dev/null
done
wep='{"kind":"WorkloadEndpoint","apiVersion":"projectcalico.org/v3","metadata":{"name":"node1-k8s-pod--late-eth0","namespace":"default"},"spec":{"orchestrator":"k8s","node":"node1","pod":"pod-late","endpoint":"eth0","containerID":"late","ipNetworks":["198.18.10.1/32"],"interfaceName":"calilate"}}'
node='{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"late-node"},"spec":{"bgp":{"ipv4Address":"192.0.2.9/24"}}}'
blk=$(mkblock 198.18.10.0/26 host:node1 1=k8s-pod-network.late \
    2=k8s-pod-network.swap2 3=k8s-pod-network.dead10)
# the CNI and the node, as a watcher that writes the moment the check
# says it waits (one transaction, well inside the 1 s grace)
printf '%s\t%s\n' "$R/workloadendpoints/default/node1-k8s-pod--late-eth0" "$wep" \
    "$R/nodes/late-node" "$node" "$B/198.18.10.0-26" "$blk" >"$PM_TMP/late.kv"
: >"$PM_TMP/grace.out"
cat >"$PM_TMP/late.py" <<'PYEOF'
import sys, time, subprocess
deadline = time.time() + 20
while "confirming in" not in open(sys.argv[1]).read():
    if time.time() > deadline:
        sys.exit("the check never said it waits")
    time.sleep(0.01)
subprocess.run(["python3", sys.argv[2], sys.argv[3]], stdin=open(sys.argv[4]),
               check=True)
PYEOF
python3 "$PM_TMP/late.py" "$PM_TMP/grace.out" "$PM_TMP/putmany.py" "$URL" \
    "$PM_TMP/late.kv" &
wpid=$!
"$CTL" ipam check --fix --grace 1 >"$PM_TMP/grace.out" 2>"$PM_TMP/grace.err" ||
    fail "check --fix --grace 1: $(cat "$PM_TMP/grace.out" "$PM_TMP/grace.err")"
wait $wpid || fail "the late writer"
out=$(cat "$PM_TMP/grace.out")
log "$(sed -n '/^Fixing/,$p' <<<"$out")"
expect "the first look found them all" "$out" '^Found 3 allocations that no workload endpoint or node uses:$'
expect "the second kept one of each" "$out" '^Confirmed: 1 of 3 allocations, 0 of 1 block and 1 of 2 affinities still unused and unchanged\.$'
expect "and said what it left" "$out" '^Left alone: 2 allocations, 1 block and 1 affinity that came into use or changed meanwhile\.$'
v=$(value $B/198.18.10.0-26)
jq -e '.attributes[.allocations[1]].handle_id == "k8s-pod-network.late" and
    .attributes[.allocations[2]].handle_id == "k8s-pod-network.swap2" and
    .allocations[3] == null' <<<"$v" >/dev/null || fail "block after the grace: $v"
ok "the address whose endpoint appeared meanwhile kept"
ok "the address given to another handle meanwhile kept"
ok "the address leaked in both looks released"
[ "$(value $B/198.18.11.0-26 | jq -r .affinity)" = host:late-node ] ||
    fail "the late node's block lost its affinity"
[ -n "$(value $A/late-node/ipv4/block/198.18.11.0-26)" ] || fail "the late node's affinity deleted"
ok "the block and affinity of the node that appeared meanwhile kept"
[ -z "$(value $A/gone-x/ipv4/block/198.18.11.64-26)" ] || fail "gone-x's affinity kept"
ok "the affinity key missing in both looks deleted"

# ---------------------------------------------------------------------------
step "check --fix: 300 s by default; nothing written before the second look"
ectl put $B/198.18.10.0-26 "$(mkblock 198.18.10.0/26 host:node1 \
    1=k8s-pod-network.late 2=k8s-pod-network.swap2 9=k8s-pod-network.dead11)" >/dev/null
before=$(snapshot)
"$CTL" ipam check --fix >"$PM_TMP/default.out" 2>&1 &
cpid=$!
wait_until 10 grep -q 'confirming in 300 s (--grace)' "$PM_TMP/default.out" ||
    fail "default grace: $(cat "$PM_TMP/default.out")"
kill $cpid
wait $cpid 2>/dev/null
[ "$before" = "$(snapshot)" ] || fail "written before the grace period ended"
ok "--fix waits 300 s by default, writing nothing meanwhile"
expect "--help says the default" "$("$CTL" ipam check --help)" 'SECONDS \(default 300\)'
rc=0
out=$("$CTL" ipam check --grace 1 2>&1) || rc=$?
[ $rc -eq 2 ] || fail "--grace without --fix: exit $rc: $out"
expect "--grace without --fix: a usage error" "$out" '^podmeshctl: --grace goes with --fix$'
rc=0
out=$("$CTL" ipam check --fix --grace soon 2>&1) || rc=$?
[ $rc -eq 2 ] || fail "--grace soon: exit $rc: $out"
expect "--grace soon: a usage error" "$out" "^podmeshctl: --grace takes seconds, 0 to 86400, not 'soon'\$"

# ---------------------------------------------------------------------------
step "delete ippool: disabled, its blocks released, then deleted"
cat >"$PM_TMP/pools.yaml" <<'YAMLEOF'
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool-c}
  spec: {cidr: 198.18.12.0/24}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool-d}
  spec: {cidr: 198.18.13.0/24}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool-e}
  spec: {cidr: 198.18.14.0/24}
YAMLEOF
"$CTL" apply -f "$PM_TMP/pools.yaml" >/dev/null || fail "pools c, d, e"
# pool-c: .0/26 node1 holding .5, .64/26 node2 empty, an affinity key of
# node1 for .128/26 that has no block, an empty unaffined .192/26;
# pool-d: .0/26 node1 with one address; pool-e: a block that is not JSON
ectl put $B/198.18.12.0-26 "$(mkblock 198.18.12.0/26 host:node1 5=k8s-pod-network.pc5)" >/dev/null
ectl put $B/198.18.12.64-26 "$(mkblock 198.18.12.64/26 host:node2)" >/dev/null
ectl put $B/198.18.12.192-26 "$(mkblock 198.18.12.192/26 -)" >/dev/null
ectl put $B/198.18.13.0-26 "$(mkblock 198.18.13.0/26 host:node1 1=k8s-pod-network.pd1)" >/dev/null
ectl put $B/198.18.14.0-26 'garbage' >/dev/null
handle k8s-pod-network.pc5 '"198.18.12.0/26":1'
handle k8s-pod-network.pd1 '"198.18.13.0/26":1'
for a in node1/ipv4/block/198.18.12.0-26 node2/ipv4/block/198.18.12.64-26 \
    node1/ipv4/block/198.18.12.128-26 node1/ipv4/block/198.18.13.0-26 \
    node1/ipv4/block/198.18.14.0-26; do
	ectl put $A/$a '{"state":"confirmed","deleted":false}' >/dev/null
done
before=$(snapshot)
rc=0
out=$("$CTL" delete ippool pool-e 2>&1) || rc=$?
[ $rc -eq 1 ] || fail "delete of a pool with a broken block: exit $rc: $out"
expect "a block that does not decode: refused" "$out" \
    "^podmeshctl: IPPool\\(pool-e\\): cannot release the pool's blocks: $B/198\\.18\\.14\\.0-26: not JSON"
[ "$before" = "$(snapshot)" ] || fail "refused pool delete wrote"
ok "refused before anything is written (not even disabled)"
rev0=$(ectl get /calico -w json | jq -r .header.revision)
out=$("$CTL" delete ippool pool-c) || fail "delete ippool pool-c: $out"
log "$out"
expect "disabled first" "$out" '^IPPool\(pool-c\): disabled, so that nothing allocates from it$'
expect "a block in use: said" "$out" '^Block 198\.18\.12\.0/26 still holds 1 address: kept, affine to no node, until it is released$'
expect "released" "$out" '^IPPool\(pool-c\): released its blocks: 2 empty deleted, 1 still holding 1 address kept without affinity, 3 affinity keys deleted$'
expect "deleted" "$out" "^Successfully deleted 1 'IPPool' resource\\(s\\)\$"
[ -z "$(value $R/ippools/pool-c)" ] || fail "pool-c still there"
last=""
for r in $(seq $((rev0 + 1)) "$(ectl get /calico -w json | jq -r .header.revision)"); do
	v=$(ectl get $R/ippools/pool-c --rev=$r --print-value-only)
	[ -n "$v" ] && last=$v
done
jq -e '.spec.disabled == true' <<<"$last" >/dev/null || fail "pool-c not disabled before it went: $last"
ok "the pool was disabled before it was deleted"
v=$(value $B/198.18.12.0-26)
jq -e '.affinity == null and .attributes[.allocations[5]].handle_id == "k8s-pod-network.pc5"' \
    <<<"$v" >/dev/null || fail "pool-c's block in use: $v"
[ -n "$(value $H/k8s-pod-network.pc5)" ] || fail "the handle of an address in use gone"
ok "a block still holding an address: kept, without affinity, its handle too"
[ -z "$(value $B/198.18.12.64-26)" ] && [ -z "$(value $B/198.18.12.192-26)" ] ||
    fail "pool-c's empty blocks kept"
ok "its empty blocks deleted"
left=$(ectl get --prefix $A/ --keys-only | grep -F 198.18.12. || true)
[ -z "$left" ] || fail "pool-c's affinity keys left: $left"
ok "its affinity keys deleted, that of a block never written too"
[ "$(value $B/198.18.13.0-26 | jq -r .affinity)" = host:node1 ] &&
    [ -n "$(value $A/node1/ipv4/block/198.18.13.0-26)" ] || fail "pool-d's block touched"
ok "another pool's blocks and affinities untouched"
# delete -f: the same steps
printf 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: pool-d}\nspec: {cidr: 198.18.13.0/24}\n' \
    >"$PM_TMP/pool-d.yaml"
out=$("$CTL" delete -f "$PM_TMP/pool-d.yaml") || fail "delete -f pool-d: $out"
expect "delete -f: released" "$out" '^IPPool\(pool-d\): released its blocks: 0 empty deleted, 1 still holding 1 address kept without affinity, 1 affinity key deleted$'
[ -z "$(value $R/ippools/pool-d)" ] && [ -z "$(value $A/node1/ipv4/block/198.18.13.0-26)" ] &&
    [ "$(value $B/198.18.13.0-26 | jq -r .affinity)" = null ] || fail "delete -f pool-d"
ok "delete -f: the same"
ectl put $B/198.18.14.0-26 "$(mkblock 198.18.14.0/26 host:node1)" >/dev/null
out=$("$CTL" delete ippool pool-e) || fail "delete pool-e once its block is repaired: $out"
[ -z "$(value $B/198.18.14.0-26)" ] && [ -z "$(value $A/node1/ipv4/block/198.18.14.0-26)" ] &&
    [ -z "$(value $R/ippools/pool-e)" ] || fail "pool-e once repaired"
ok "repaired, the pool goes with its empty block"

exit 0
