#!/bin/bash
#
# t_cni_ipam.sh: podmesh-ipam, Calico's calico-ipam as an exec'd CNI IPAM
# plugin (issue #6), run directly inside a node namespace with CNI_* in
# its environment and the network config on stdin, against a real etcd
# holding IPPools and the Node (node_lib.sh's underlay).  Checked:
#  - ADD: one IPv4 /32 from the pool, no interfaces or routes, the handle
#    <network>.<containerID> with attributes {namespace, node, pod}; a
#    repeated ADD answers the same address; dual stack (assign_ipv6
#    "true") adds a /128; IP= in CNI_ARGS, runtimeConfig.ips and
#    args.cni.ips are honoured; an address taken is 101 and leaves nothing;
#    a pool used up is 100 and leaves nothing; an IPv6 pool that does not
#    exist after the IPv4 address was taken is 7 and releases that
#    address; maxBlocksPerHost reached is 100; ipam_lock_file is
#    created and works;
#  - CHECK: passes for a held handle and its prevResult, fails (5) for an
#    address the handle does not hold and for an unknown container, and is
#    refused (1) below 0.4.0;
#  - DEL twice: 0 both times, the addresses free again;
#  - GC (1.1.0): releases this network's handles whose container is not in
#    cni.dev/valid-attachments, keeps the valid one, another network's and
#    another node's;
#  - STATUS: 0 with pools and etcd, 50 with etcd unreachable;
#  - VERSION and the result formats of 0.1.0, 0.4.0 and 1.0.0;
#  - bad input: malformed JSON (6), unknown cniVersion (1), missing
#    CNI_CONTAINERID (4), datastore_type kubernetes (7), etcd unreachable
#    on ADD (11);
#  - podmeshctl ipam show/check agree: in-use counts and, at the end,
#    nothing in use and no handle left.  ~10 s.
PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

IPAM=$PODMESH_BUILD/cni/podmesh-ipam
[ -x "$IPAM" ] || fail "podmesh-ipam not built: $IPAM"
[ -x "$PODMESHCTL" ] || fail "podmeshctl not built: $PODMESHCTL"

NET=net1
POOL4=198.18.0.0/24
POOL6=2001:db8:42::/112
TINY=198.19.0.0/29 # 8 addresses, selected by no node: only when named
LOCK=$PM_TMP/lock/dir/ipam.lock

# conf VERSION [IPAM-JSON [TOP-JSON]]: a network config on stdout
conf() {
	local ipam=${2:-'{}'} top=${3:-'{}'}
	jq -cn --arg v "$1" --argjson ipam "$ipam" \
	    --argjson top "$top" --arg log "$PM_TMP/ipam.log" '{
	    cniVersion: $v, name: "'$NET'", type: "podmesh",
	    nodename: "n1", etcd_endpoints: "'$NODE_ETCD_URL'",
	    log_level: "debug", log_file_path: $log,
	    ipam: ({type: "podmesh-ipam"} + $ipam)} + $top'
}

# ipam CMD CID CONF [VAR=VALUE...]: run the plugin in n1; OUT and RC
ipam() {
	local cmd=$1 cid=$2 c=$3
	shift 3
	OUT=$(printf '%s' "$c" | nsx n1 env -i PATH="$PATH" \
	    CNI_COMMAND="$cmd" CNI_CONTAINERID="$cid" \
	    CNI_NETNS=/var/run/netns/pod-"$cid" CNI_IFNAME=eth0 \
	    CNI_PATH=/usr/lib/cni "$@" "$IPAM" 2>>"$PM_TMP/ipam.stderr")
	RC=$?
}

# expect_ok WHAT: the last call exited 0
expect_ok() {
	[ "$RC" = 0 ] || fail "$1: exit $RC, output: $OUT"
}

# expect_err WHAT CODE: the last call failed with the CNI error CODE
expect_err() {
	[ "$RC" = 1 ] || fail "$1: exit $RC (wanted 1), output: $OUT"
	[ "$(jq -r .code <<<"$OUT")" = "$2" ] ||
	    fail "$1: wanted code $2, got: $OUT"
	jq -e '.msg | length > 0' <<<"$OUT" >/dev/null ||
	    fail "$1: no msg: $OUT"
	ok "$1: code $2 ($(jq -r .msg <<<"$OUT"))"
}

# jqe WHAT FILTER: FILTER holds for OUT
jqe() {
	jq -e "$2" <<<"$OUT" >/dev/null || fail "$1: jq '$2' on: $OUT"
}

# handle ID: the handle's value in etcd ("" if absent)
handle() {
	ectl get "/calico/ipam/v2/handle/$1" --print-value-only
}

# in_use: addresses in use in every pool, per podmeshctl ipam show
in_use() {
	nctl ipam show -o json | jq '[.pools[].in_use] | add'
}

ip_info() {
	nctl ipam show --ip "$1" -o json
}

step "a node, etcd, pools"
underlay
node_add n1
node_etcd_start
cat >"$PM_TMP/res.yaml" <<EOF
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool4}
  spec: {cidr: $POOL4, blockSize: 26}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: pool6}
  spec: {cidr: "$POOL6", blockSize: 122}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: tiny}
  spec: {cidr: $TINY, blockSize: 29, nodeSelector: "has(nothing-has-this)"}
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata: {name: n1, labels: {zone: a}}
  spec: {bgp: {ipv4Address: 192.0.2.11/24}}
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata: {name: lim}
  spec: {cidr: 198.18.9.0/29, blockSize: 30, nodeSelector: "has(nothing-has-this)"}
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata: {name: n2}
  spec: {bgp: {ipv4Address: 192.0.2.12/24}}
EOF
nctl create -f "$PM_TMP/res.yaml" >/dev/null || fail "creating pools"

step "VERSION"
ipam VERSION "" '{"cniVersion":"0.1.0"}'
expect_ok VERSION
jqe "VERSION 0.1.0" '.cniVersion == "0.1.0" and
    (.supportedVersions | index("0.1.0") and index("1.1.0"))'
ipam VERSION "" '{"cniVersion":"9.9.9"}'
expect_ok "VERSION of an unknown version"
jqe "VERSION answers the newest" '.cniVersion == "1.1.0"'
ok "VERSION"

step "ADD IPv4, repeated ADD"
C10=$(conf 1.0.0)
ipam ADD c1 "$C10" "CNI_ARGS=K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod1;IgnoreUnknown=1"
expect_ok "ADD c1"
jqe "ADD c1 result" '.cniVersion == "1.0.0" and (.ips | length == 1) and
    (.ips[0].address | test("^198\\.18\\.0\\.[0-9]+/32$")) and
    (has("interfaces") | not) and (has("routes") | not) and
    (.ips[0] | has("interface") | not) and (.ips[0] | has("version") | not)'
A1=$(jq -r '.ips[0].address' <<<"$OUT")
first=$OUT
ipam ADD c1 "$C10" "CNI_ARGS=K8S_POD_NAMESPACE=ns1;K8S_POD_NAME=pod1"
expect_ok "ADD c1 again"
[ "$OUT" = "$first" ] || fail "repeated ADD: $OUT, first: $first"
ok "repeated ADD answers $A1 again"
info=$(ip_info "${A1%/*}")
jq -e --arg h "$NET.c1" '.in_use and .handle == $h and .affinity == "host:n1"
    and .attributes == {namespace: "ns1", node: "n1", pod: "pod1"}' \
    <<<"$info" >/dev/null || fail "ipam show --ip $A1: $info"
[ "$(handle "$NET.c1" | jq -c .block)" != null ] || fail "no handle $NET.c1"
[ "$(in_use)" = 1 ] || fail "in use after ADD c1: $(in_use)"
ok "handle $NET.c1, attributes {namespace, node, pod}, 1 address in use"

step "ADD dual stack"
C6=$(conf 1.0.0 '{"assign_ipv6":"true"}')
ipam ADD c2 "$C6"
expect_ok "ADD c2"
jqe "ADD c2 result" '(.ips | length == 2) and
    (.ips[0].address | test("^198\\.18\\.0\\.[0-9]+/32$")) and
    (.ips[1].address | test("^2001:db8:42::[0-9a-f]+/128$"))'
A2_6=$(jq -r '.ips[1].address' <<<"$OUT")
info=$(ip_info "${A2_6%/*}")
jq -e '.in_use and .handle == "net1.c2" and .attributes == {node: "n1"}' \
    <<<"$info" >/dev/null || fail "ipam show --ip $A2_6: $info"
ok "dual stack: $(jq -c '[.ips[].address]' <<<"$OUT"), attributes {node}"

# an ADD killed between its families left IPv4 only: the repeated ADD
# completes it under the same handle, the IPv4 address unchanged
ipam ADD c2h "$C10"
expect_ok "ADD c2h IPv4 only"
h4=$(jq -r '.ips[0].address' <<<"$OUT")
ipam ADD c2h "$C6"
expect_ok "ADD c2h again, dual stack"
jqe "completed ADD" '(.ips | length == 2) and .ips[0].address == "'"$h4"'" and
    (.ips[1].address | test("^2001:db8:42::[0-9a-f]+/128$"))'
ipam ADD c2h "$C6"
expect_ok "ADD c2h a third time"
jqe "third ADD" '(.ips | length == 2) and .ips[0].address == "'"$h4"'"'
ipam DEL c2h "$C6"
expect_ok "DEL c2h"
[ -z "$(handle "$NET.c2h")" ] || fail "handle $NET.c2h left"
ok "a half-done dual-stack ADD completed by the next: $h4 kept, IPv6 added"

step "requested addresses"
ipam ADD c3 "$C10" CNI_ARGS=IP=198.18.0.200
expect_ok "ADD c3 IP="
jqe "IP=" '.ips == [{address: "198.18.0.200/32"}]'
ipam ADD c4 "$C10" "CNI_ARGS=IgnoreUnknown=true;IP=198.18.0.200"
expect_err "IP= taken" 101
[ -z "$(handle "$NET.c4")" ] || fail "handle $NET.c4 left: $(handle "$NET.c4")"
ok "nothing under $NET.c4"
ipam ADD c5 "$(conf 1.0.0 '{}' '{"runtimeConfig":{"ips":["198.18.0.201/24"]}}')"
expect_ok "ADD c5 runtimeConfig.ips"
jqe "runtimeConfig.ips" '.ips == [{address: "198.18.0.201/32"}]'
ipam ADD c6 "$(conf 1.0.0 '{}' '{"args":{"cni":{"ips":["198.18.0.202"]}}}')"
expect_ok "ADD c6 args.cni.ips"
jqe "args.cni.ips" '.ips == [{address: "198.18.0.202/32"}]'
ipam ADD c7 "$(conf 1.0.0 '{}' '{"args":{"cni":{"ips":["10.99.0.1"]}}}')"
expect_err "an address in no pool" 7
[ -z "$(handle "$NET.c7")" ] || fail "handle $NET.c7 left"
[ "$(in_use)" = 6 ] || fail "in use: $(in_use), wanted 6"
ok "6 addresses in use (c1, c2 twice, c3, c5, c6)"

step "a pool used up, a later step failing"
CT=$(conf 1.0.0 "{\"ipv4_pools\":[\"$TINY\"]}")
for i in 1 2 3 4 5 6 7 8; do
	ipam ADD e$i "$CT"
	expect_ok "ADD e$i from the tiny pool"
	jqe "e$i in the tiny pool" '.ips[0].address | test("^198\\.19\\.0\\.[0-7]/32$")'
done
ipam ADD e9 "$CT"
expect_err "the tiny pool used up" 100
[ -z "$(handle "$NET.e9")" ] || fail "handle $NET.e9 left"
before=$(in_use)
ipam ADD e10 "$(conf 1.0.0 '{"assign_ipv6":"true","ipv6_pools":["2001:db8:99::/120"]}')"
expect_err "IPv6 pool that does not exist" 7
[ -z "$(handle "$NET.e10")" ] || fail "handle $NET.e10 left: $(handle "$NET.e10")"
[ "$(in_use)" = "$before" ] || fail "in use $(in_use), wanted $before"
ok "the IPv4 address taken before the IPv6 failure was released"

step "ipam_lock_file"
CL=$(conf 1.0.0 '{}' "{\"ipam_lock_file\":\"$LOCK\"}")
ipam ADD l1 "$CL"
expect_ok "ADD with ipam_lock_file"
[ -f "$LOCK" ] || fail "lock file $LOCK not created"
# held by someone else: the plugin waits for it
nsx n1 flock "$LOCK" sleep 1 &
lockpid=$!
sleep 0.2
t0=${EPOCHREALTIME/[.,]/}
ipam DEL l1 "$CL"
t1=${EPOCHREALTIME/[.,]/}
wait "$lockpid"
expect_ok "DEL with ipam_lock_file"
(((t1 - t0) >= 500000)) || fail "DEL did not wait for the lock ($(((t1 - t0) / 1000)) ms)"
[ -z "$(handle "$NET.l1")" ] || fail "handle $NET.l1 left"
ok "the lock file was created and waited for ($(((t1 - t0) / 1000)) ms)"

step "CHECK"
prev=$(jq -c --arg a "$A1" '{cniVersion: "1.0.0", ips: [{address: $a}]}' <<<null)
ipam CHECK c1 "$(conf 1.0.0 '{}' "{\"prevResult\":$prev}")"
expect_ok "CHECK c1"
[ -z "$OUT" ] || fail "CHECK printed: $OUT"
ipam CHECK c1 "$(conf 1.0.0 '{}' '{"prevResult":{"ips":[{"address":"198.18.0.250/32"}]}}')"
expect_err "CHECK with an address not held" 5
ipam CHECK nosuch "$C10"
expect_err "CHECK of an unknown container" 5
grep -q "$NET.nosuch" <<<"$OUT" || fail "CHECK error does not name the handle: $OUT"
ipam CHECK c1 "$(conf 0.3.1)"
expect_err "CHECK at 0.3.1" 1

step "DEL twice"
ipam DEL c1 "$C10"
expect_ok "DEL c1"
[ -z "$OUT" ] || fail "DEL printed: $OUT"
ipam DEL c1 "$C10"
expect_ok "DEL c1 again"
[ -z "$(handle "$NET.c1")" ] || fail "handle $NET.c1 left"
info=$(ip_info "${A1%/*}")
jq -e '.in_use == false' <<<"$info" >/dev/null || fail "$A1 still in use: $info"
ok "$A1 free again, no handle"
ipam DEL never "$C10"
expect_ok "DEL of a container never added"

step "GC"
# another network's handle, and this network's handle of another node
ipam ADD x1 "$(conf 1.0.0 | jq -c '.name = "other"')"
expect_ok "ADD x1 on network other"
# a network whose name extends ours with a dot: its handles start "$NET."
ipam ADD y1 "$(conf 1.0.0 | jq -c '.name = "'$NET'.sub"')"
expect_ok "ADD y1 on network $NET.sub"
nctl ipam assign --node n2 --handle "$NET.n2pod" >/dev/null ||
    fail "assign for n2"
inuse=$(in_use)
valid='{"cni.dev/valid-attachments":[{"containerID":"c2","ifname":"eth0"},{"containerID":"zz","ifname":"eth0"}]}'
ipam GC "" "$(conf 1.1.0)"
expect_err "GC without cni.dev/valid-attachments" 7
[ "$(in_use)" = "$inuse" ] || fail "a refused GC released addresses"
ipam GC "" "$(conf 1.1.0 '{}' "$valid")"
expect_ok GC
[ -z "$OUT" ] || fail "GC printed: $OUT"
for c in c3 c5 c6 e1 e8; do
	[ -z "$(handle "$NET.$c")" ] || fail "GC left $NET.$c"
done
[ -n "$(handle "$NET.c2")" ] || fail "GC released the valid $NET.c2"
[ -n "$(handle other.x1)" ] || fail "GC released another network's handle"
[ -n "$(handle "$NET.sub.y1")" ] ||
    fail "GC released network $NET.sub's handle $NET.sub.y1"
[ -n "$(handle "$NET.n2pod")" ] || fail "GC released another node's handle"
# c2's two addresses, x1's, y1's and n2pod's
[ "$(in_use)" = 5 ] || fail "in use after GC: $(in_use), before $inuse"
ok "GC released 11 handles' addresses, kept $NET.c2, other.x1, $NET.sub.y1, $NET.n2pod"
ipam GC "" "$(conf 1.0.0 '{}' "$valid")"
expect_err "GC at 1.0.0" 1

step "STATUS"
ipam STATUS "" "$(conf 1.1.0)"
expect_ok STATUS
[ -z "$OUT" ] || fail "STATUS printed: $OUT"
ipam STATUS "" "$(conf 1.1.0 | jq -c '.etcd_endpoints = "http://127.0.0.1:1"')"
expect_err "STATUS without etcd" 50
ok STATUS

step "result formats"
ipam ADD v010 "$(conf 0.1.0)"
expect_ok "ADD at 0.1.0"
jqe "0.1.0 result" '.cniVersion == "0.1.0" and
    (.ip4.ip | test("^198\\.18\\.0\\.[0-9]+/32$")) and (has("ips") | not) and
    (has("ip6") | not) and .dns == {}'
ipam DEL v010 "$(conf 0.1.0)"
expect_ok "DEL at 0.1.0"
ipam ADD v040 "$(conf 0.4.0 '{"assign_ipv6":"true"}')"
expect_ok "ADD at 0.4.0"
jqe "0.4.0 result" '.cniVersion == "0.4.0" and
    ([.ips[].version] == ["4", "6"]) and (has("interfaces") | not)'
ipam DEL v040 "$(conf 0.4.0)"
expect_ok "DEL at 0.4.0"
ok "0.1.0 ip4, 0.4.0 versions, 1.0.0 (above)"

grep -q "podmesh-ipam" "$PM_TMP/ipam.log" || fail "nothing in log_file_path"
[ ! -s "$PM_TMP/ipam.stderr" ] ||
    fail "stderr used though log_file_path is set: $(head -5 "$PM_TMP/ipam.stderr")"
ok "logs in log_file_path only"

step "bad input"
ipam ADD b1 '{"cniVersion":"1.0.0","name":'
expect_err "malformed JSON" 6
ipam ADD b2 "$(conf 1.0.0 | jq -c '.cniVersion = "0.9.9"')"
expect_err "unknown cniVersion" 1
OUT=$(conf 1.0.0 | nsx n1 env -i CNI_COMMAND=ADD CNI_NETNS=/x \
    CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni "$IPAM" 2>/dev/null)
RC=$?
expect_err "no CNI_CONTAINERID" 4
ipam ADD b3 "$(conf 1.0.0 '{}' '{"datastore_type":"kubernetes"}')"
expect_err "datastore_type kubernetes" 7
ipam ADD b4 "$(conf 1.0.0 | jq -c '.etcd_endpoints = "http://127.0.0.1:1"')"
expect_err "etcd unreachable" 11
ipam ADD b5 "$(conf 1.0.0 '{"assign_ipv4":"false"}')"
expect_err "nothing to assign" 7

step "maxBlocksPerHost"
# two blocks of 4 in pool lim, at most one per host: the fifth ADD is 100
ectl put /calico/ipam/v2/config \
    '{"strict_affinity":false,"auto_allocate_blocks":true,"maxBlocksPerHost":1}' \
    >/dev/null || fail "IPAM config"
CM=$(conf 1.0.0 '{"ipv4_pools":["198.18.9.0/29"]}')
for i in 1 2 3 4; do
	ipam ADD m$i "$CM"
	expect_ok "ADD m$i"
done
ipam ADD m5 "$CM"
expect_err "maxBlocksPerHost reached" 100
jqe "the limit named" '.details | test("maxBlocksPerHost")'
[ -z "$(handle "$NET.m5")" ] || fail "handle $NET.m5 left"
for i in 1 2 3 4 5; do
	ipam DEL m$i "$CM"
	expect_ok "DEL m$i"
done
ectl del /calico/ipam/v2/config >/dev/null

step "the end: nothing left"
ipam DEL c2 "$C10"
expect_ok "DEL c2"
ipam DEL x1 "$(conf 1.0.0 | jq -c '.name = "other"')"
expect_ok "DEL x1"
ipam DEL y1 "$(conf 1.0.0 | jq -c '.name = "'$NET'.sub"')"
expect_ok "DEL y1"
nctl ipam release --handle "$NET.n2pod" >/dev/null || fail "release n2pod"
[ "$(in_use)" = 0 ] || fail "in use at the end: $(in_use)"
left=$(ectl get --prefix /calico/ipam/v2/handle/ --keys-only)
[ -z "$left" ] || fail "handles left: $left"
check=$(nctl ipam check)
grep -q "Check complete; found 0 problems." <<<"$check" ||
    fail "ipam check: $check"
grep -q "handle.*without allocations" <<<"$check" &&
    fail "ipam check: handles without allocations: $check"
ok "0 in use, no handle, ipam check clean"
