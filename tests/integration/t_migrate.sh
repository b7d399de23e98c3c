#!/bin/bash
# t_migrate.sh: Calico v2.6 -> v3 migration (store/migrate.c) against one
# real etcd 3.4 started with --enable-v2, whose v2 and v3 keyspaces are
# separate: the v2 side is populated as a v2.6 install leaves it
# (calico.md §1, §2, §4: three nodes, one of them with a name v3
# normalises, an IPIP cross-subnet pool and an IPv6 pool, global AS with the
# mesh off, a global and a node peer, blocks with allocations, affinities,
# handles, a workload endpoint, Felix keys), then through
# tests/integration/migrate_drive:
#  - a dry run writes nothing to v3, leaves v2's Ready alone, and lists
#    every key it would create;
#  - --apply first sets v2's /calico/v1/Ready from true to false (the
#    v2.6 CNI plugin and Felix stop), before the index it lists v2 at;
#    puts ClusterInformation with datastoreReady false before any other
#    key and true after the last; the v3 JSON means what the v1 data meant
#    (jq);
#  - a second --apply finds everything unchanged and writes nothing (etcd's
#    revision does not move, nor v2's index);
#  - a v3 key changed since is a conflict: nothing written, not even a new
#    key, and a Ready this run set false is set back to true; --force
#    overwrites it, keeping its uid;
#  - --force leaves an IPAM block v3 allocated from since alone (listed as
#    kept); --force-ipam overwrites it;
#  - 300 more keys go in three txns (etcd's 128 operations each), between
#    the two ClusterInformation puts;
#  - a v2 writer that ignores Ready, racing the migration: a change after
#    the listing fails the run naming the key, datastoreReady stays false,
#    and the next run takes it: no v2 allocation is missing from v3;
#    writes elsewhere in v2 meanwhile do not matter;
#  - a Ready that is neither true nor false: nothing done;
#  - a broken v1 value is an error naming its key, and nothing is written;
#  - podmeshctl get (when built) shows the migrated resources.
# ~13 s.
PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

DRIVE=$PODMESH_BUILD/tests/migrate_drive
CTL=$PODMESH_BUILD/ctl/podmeshctl
[ -x "$DRIVE" ] ||
    fail "$DRIVE missing (cmake --build ... --target migrate_drive)"
for c in etcd etcdctl curl jq ss; do
	command -v $c >/dev/null || fail "$c not installed"
done

PORT=$(etcd_free_port)
PEER=$(etcd_free_port)
URL=http://127.0.0.1:$PORT
etcd --name mig --data-dir "$PM_TMP/mig" --enable-v2 \
    --listen-client-urls "$URL" --advertise-client-urls "$URL" \
    --listen-peer-urls "http://127.0.0.1:$PEER" \
    --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
    --initial-cluster "mig=http://127.0.0.1:$PEER" \
    --log-level warn >>"$PM_TMP/etcd.log" 2>&1 &
PM_PID["etcd:mig"]=$!
wait_until 15 curl -sf "$URL/v2/keys/" ||
    fail "etcd did not come up on $URL with the v2 API"

pm_dump() {
	PM_DUMPED=1
	{
		echo "--- tail etcd.log"
		tail -n 12 "$PM_TMP/etcd.log"
		for f in "$PM_TMP"/run*.out; do
			[ -f "$f" ] || continue
			echo "--- $f"
			cat "$f"
		done
	} >&2
}

# v2set KEY VALUE: as Calico v2.6 writes it (every value a string).
v2set() {
	curl -sf -XPUT "$URL/v2/keys$1" --data-urlencode "value=$2" >/dev/null ||
	    fail "v2 set $1"
}

v3() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

# v3get KEY: the value, or nothing.
v3get() {
	v3 get "$1" --print-value-only
}

v3keys() {
	v3 get --prefix /calico --keys-only | grep -v '^$'
}

revision() {
	v3 endpoint status -w json | jq -r '.[0].Status.header.revision'
}

# v2node KEY: v2's JSON node for KEY ({key, value, modifiedIndex, ...}).
v2node() {
	curl -sf "$URL/v2/keys$1" | jq -c .node
}

# v2index: etcd v2's index now.
v2index() {
	curl -sfI "$URL/v2/keys/" | tr -d '\r' |
	    sed -n 's/^X-Etcd-Index: *//Ip'
}

# v3rev KEY FIELD: create_revision or mod_revision of a v3 key.
v3rev() {
	v3 get "$1" -w json | jq -r ".kvs[0].$2"
}

NRUN=0
# migrate [ARGS]: run the driver; $OUT its stdout, $RC its status.
migrate() {
	NRUN=$((NRUN + 1))
	"$DRIVE" -2 "$URL" -3 "$URL" "$@" >"$PM_TMP/run$NRUN.out" \
	    2>"$PM_TMP/run$NRUN.err"
	RC=$?
	OUT=$(cat "$PM_TMP/run$NRUN.out")
	log "migrate $* -> $RC: $(cat "$PM_TMP/run$NRUN.err")"
}

# expect NAME TEXT ERE: TEXT must match ERE.
expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got:"$'\n'"$2"
	ok "$1"
}

# expect_lines NAME TEXT ERE...: consecutive lines of TEXT match the EREs
# in turn (expect's grep would take a pattern with newlines as several
# patterns, any one of which matching).
expect_lines() {
	local name=$1 text=$2 i j n re
	local -a lines
	shift 2
	mapfile -t lines <<<"$text"
	n=${#lines[@]}
	for ((i = 0; i + $# <= n; i++)); do
		j=0
		for re in "$@"; do
			grep -Eq -- "$re" <<<"${lines[i + j]}" || break
			j=$((j + 1))
		done
		if [ "$j" -eq $# ]; then
			ok "$name"
			return
		fi
	done
	fail "$name: wanted lines /$*/, got:"$'\n'"$text"
}

# jqv3 NAME KEY FILTER: the jq FILTER must be true of v3's KEY.
jqv3() {
	local v
	v=$(v3get "$2")
	[ -n "$v" ] || fail "$1: $2 is not in v3"
	jq -e "$3" >/dev/null <<<"$v" ||
	    fail "$1: not ($3) in $2:"$'\n'"$(jq -S . <<<"$v")"
	ok "$1"
}

R=/calico/resources/v3/projectcalico.org
BLOCK0='{"cidr":"198.18.0.0/26","affinity":"host:node1","strictAffinity":false,"allocations":[0,1,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,null],"unallocated":[2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59,60,61,62,63],"attributes":[{"handle_id":null,"secondary":null},{"handle_id":"k8s-pod-network.c0ffee01","secondary":null}]}'
BLOCK1=$(jq -c '.cidr = "198.18.0.64/26" | .affinity = "host:Node_3" |
    .allocations[1] = null | .unallocated = [range(1;64)] |
    .attributes = [{"handle_id":null,"secondary":null}]' <<<"$BLOCK0")

# ---------------------------------------------------------------------------
step "a Calico v2.6 datastore over the v2 API"
v2set /calico/v1/Ready true
v2set /calico/v1/config/ClusterType k8s,bgp
v2set /calico/v1/config/CalicoVersion v2.6.6
v2set /calico/v1/config/IpInIpEnabled true
v2set /calico/v1/config/LogSeverityScreen info
i=0
for n in node1 node2 Node_3; do
	i=$((i + 1))
	v2set /calico/v1/host/$n/metadata '{}'
	v2set /calico/v1/host/$n/bird_ip 192.0.2.$i
	v2set /calico/v1/host/$n/config/DefaultEndpointToHostAction RETURN
	v2set /calico/bgp/v1/host/$n/ip_addr_v4 192.0.2.$i
	v2set /calico/bgp/v1/host/$n/network_v4 192.0.2.0/24
	v2set /calico/bgp/v1/host/$n/ip_addr_v6 ''
	v2set /calico/bgp/v1/host/$n/network_v6 ''
done
v2set /calico/bgp/v1/host/node2/ip_addr_v6 2001:db8::2
v2set /calico/bgp/v1/host/node2/network_v6 2001:db8::/64
v2set /calico/bgp/v1/host/node2/as_num 64600
v2set /calico/v1/host/node1/config/IpInIpTunnelAddr 198.18.0.0
v2set /calico/v1/host/Node_3/config/IpInIpTunnelAddr 198.18.0.64
v2set /calico/v1/ipam/v4/pool/198.18.0.0-16 \
    '{"cidr":"198.18.0.0/16","ipip":"tunl0","ipip_mode":"cross-subnet","masquerade":true,"ipam":true,"disabled":false}'
v2set /calico/v1/ipam/v6/pool/2001:db8:100::-64 \
    '{"cidr":"2001:db8:100::/64","ipip":"","ipip_mode":"","masquerade":false,"ipam":true,"disabled":false}'
v2set /calico/bgp/v1/global/as_num 64512
v2set /calico/bgp/v1/global/node_mesh '{"enabled": false}'
v2set /calico/bgp/v1/global/loglevel info
v2set /calico/bgp/v1/global/peer_v4/192.0.2.100 \
    '{"ip":"192.0.2.100","as_num":"64513"}'
v2set /calico/bgp/v1/host/node1/peer_v4/192.0.2.200 \
    '{"ip":"192.0.2.200","as_num":"64514"}'
curl -sf -XPUT "$URL/v2/keys/calico/bgp/v1/global/custom_filters/v4?dir=true" \
    >/dev/null
v2set /calico/ipam/v2/config \
    '{"strict_affinity":false,"auto_allocate_blocks":true}'
v2set /calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26 "$BLOCK0"
v2set /calico/ipam/v2/assignment/ipv4/block/198.18.0.64-26 "$BLOCK1"
v2set /calico/ipam/v2/host/node1/ipv4/block/198.18.0.0-26 '{}'
v2set /calico/ipam/v2/host/Node_3/ipv4/block/198.18.0.64-26 '{}'
v2set /calico/ipam/v2/handle/k8s-pod-network.c0ffee01 \
    '{"block":{"198.18.0.0/26":1}}'
v2set /calico/v1/host/node1/workload/k8s/default.nginx-1/endpoint/eth0 \
    '{"state":"active","name":"cali0123456789a","active_instance_id":"c0ffee01","mac":"0a:58:c6:12:00:01","profile_ids":["k8s_ns.default"],"ipv4_nets":["198.18.0.1/32"],"ipv6_nets":[],"labels":{"calico/k8s_ns":"default","app":"nginx"}}'
v2set /calico/v1/policy/profile/k8s_ns.default/rules '{"inbound_rules":[],"outbound_rules":[]}'
[ -z "$(v3keys)" ] || fail "v3 is not empty before we start"
ok "populated (v3 empty)"

WANT="$R/bgpconfigurations/default
$R/nodes/node-3
$R/nodes/node1
$R/nodes/node2
$R/bgppeers/192-0-2-100
$R/bgppeers/node1.192-0-2-200
$R/ippools/198-18-0-0-16
$R/ippools/2001-db8-100---64
/calico/ipam/v2/config
/calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26
/calico/ipam/v2/assignment/ipv4/block/198.18.0.64-26
/calico/ipam/v2/handle/k8s-pod-network.c0ffee01
/calico/ipam/v2/host/node-3/ipv4/block/198.18.0.64-26
/calico/ipam/v2/host/node1/ipv4/block/198.18.0.0-26
$R/workloadendpoints/default/node1-k8s-nginx--1-eth0
$R/clusterinformations/default"
NWANT=$(wc -l <<<"$WANT")

# ---------------------------------------------------------------------------
step "dry run: the plan, nothing written"
rev0=$(revision)
ready0=$(v2node /calico/v1/Ready)
migrate
[ "$RC" -eq 0 ] || fail "dry run: status $RC"
[ "$(v2node /calico/v1/Ready)" = "$ready0" ] ||
    fail "the dry run touched v2's Ready: $(v2node /calico/v1/Ready)"
ok "v2's Ready left alone: $ready0"
expect "says what --apply does to the ready flags" "$OUT" \
    '^dry run: --apply first sets /calico/v1/Ready to false \(Calico v2.6 stops writing\), then holds datastoreReady false in etcd v3 until the last key is written$'
got=$(sed -n 's/^create  *\([^ ]*\) .*/\1/p' <<<"$OUT")
[ "$got" = "$WANT" ] ||
    fail "the plan differs:"$'\n'"$(diff <(echo "$WANT") <(echo "$got"))"
ok "every key to create, in write order"
expect "each names its source" "$OUT" \
    "^create +$R/nodes/node-3  \\(Node node-3, from /calico/v1/host/Node_3/metadata\\)$"
expect "skipped Felix configuration, counted" "$OUT" \
    '^skipped +/calico/v1/config/ \(2 keys\): Felix configuration'
expect "skipped per-node Felix configuration" "$OUT" \
    '^skipped +/calico/v1/host/\*/config/ \(3 keys\)'
expect "skipped policy" "$OUT" '^skipped +/calico/v1/policy/ \(1 key\)'
expect "the summary" "$OUT" \
    "^summary: [0-9]+ v1 keys; $NWANT to create, 0 to update, 0 unchanged, 0 conflicts, 0 errors, 0 warnings, 6 skipped$"
expect "a dry run" "$OUT" "^dry run: nothing written \\(--apply writes $NWANT keys\\)$"
[ -z "$(v3keys)" ] || fail "the dry run wrote to v3: $(v3keys)"
[ "$(revision)" = "$rev0" ] || fail "the dry run moved etcd's revision"
ok "v3 still empty, revision $rev0"

# ---------------------------------------------------------------------------
step "apply: v2.6 locked first, v3 ready last"
migrate --apply
[ "$RC" -eq 0 ] || fail "apply: status $RC"
expect "written" "$OUT" "^written: $NWANT keys$"
# the order of operations: Ready false in v2, then the listing
expect "v2's Ready set false" "$OUT" \
    '^locked +/calico/v1/Ready: true -> false at etcd v2 index [0-9]+ '
lockidx=$(sed -n 's/^locked .* at etcd v2 index \([0-9]*\) .*/\1/p' <<<"$OUT")
listidx=$(sed -n 's/^read .* at etcd v2 index \([0-9]*\) .*/\1/p' <<<"$OUT")
[ -n "$listidx" ] || fail "no listing index in the output"
node=$(v2node /calico/v1/Ready)
[ "$(jq -r .value <<<"$node")" = false ] || fail "v2's Ready: $node"
[ "$(jq -r .modifiedIndex <<<"$node")" = "$lockidx" ] ||
    fail "v2's Ready $node, not set at index $lockidx"
[ "$lockidx" -le "$listidx" ] ||
    fail "Ready set false at index $lockidx, after the listing at $listidx"
ok "v2's Ready false at index $lockidx, listed at $listidx"
expect "v2 checked unchanged since the listing" "$OUT" \
    "^checked +etcd v2 unchanged under /calico since index $listidx "
# in v3: ClusterInformation put (not ready) before every other key, and
# put (ready) after every other key
ci=$R/clusterinformations/default
cic=$(v3rev "$ci" create_revision)
cim=$(v3rev "$ci" mod_revision)
while read -r k; do
	[ "$k" = "$ci" ] && continue
	c=$(v3rev "$k" create_revision)
	[ "$cic" -lt "$c" ] && [ "$c" -lt "$cim" ] ||
	    fail "$k written at $c, not between $cic and $cim"
done <<<"$WANT"
ok "every other key written between revisions $cic and $cim"
v3 get "$ci" --rev "$cic" --print-value-only |
    jq -e '.spec.datastoreReady == false' >/dev/null ||
    fail "ClusterInformation not held at datastoreReady false at $cic"
[ "$(v3 get "$ci" --rev "$cic" --print-value-only | jq -r .metadata.uid)" = \
    "$(v3get "$ci" | jq -r .metadata.uid)" ] || fail "the uid changed"
ok "held false at revision $cic, same uid"
expect "held, said so" "$OUT" \
    "^held +ClusterInformation default: datastoreReady false at etcd v3 revision $cic "
expect "ready, said so" "$OUT" \
    "^ready +ClusterInformation default: datastoreReady true at etcd v3 revision $cim$"
expect "created, not create" "$OUT" "^created +$R/nodes/node1 "
got=$(v3keys | sort)
[ "$got" = "$(sort <<<"$WANT")" ] ||
    fail "v3 keys differ:"$'\n'"$(diff <(sort <<<"$WANT") <(echo "$got"))"
ok "exactly the planned keys in v3"

jqv3 "BGPConfiguration default: AS, mesh off, Info" \
    "$R/bgpconfigurations/default" \
    '.kind == "BGPConfiguration" and .apiVersion == "projectcalico.org/v3"
     and .spec == {"logSeverityScreen":"Info","nodeToNodeMeshEnabled":false,
     "asNumber":64512}'
jqv3 "Node node1: address/subnet and IPIP tunnel address" "$R/nodes/node1" \
    '.spec == {"bgp":{"ipv4Address":"192.0.2.1/24",
     "ipv4IPIPTunnelAddr":"198.18.0.0"}}
     and (.metadata.uid | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"))
     and (.metadata.creationTimestamp | test("^20[0-9-]+T[0-9:]+Z$"))
     and (.metadata | has("resourceVersion") | not)'
jqv3 "Node node2: its AS and IPv6 address" "$R/nodes/node2" \
    '.spec.bgp == {"asNumber":64600,"ipv4Address":"192.0.2.2/24",
     "ipv6Address":"2001:db8::2/64"}'
jqv3 "Node_3 normalised to node-3" "$R/nodes/node-3" \
    '.metadata.name == "node-3" and
     .spec.bgp.ipv4IPIPTunnelAddr == "198.18.0.64"'
jqv3 "global BGPPeer" "$R/bgppeers/192-0-2-100" \
    '.spec == {"peerIP":"192.0.2.100","asNumber":64513}'
jqv3 "node1's BGPPeer" "$R/bgppeers/node1.192-0-2-200" \
    '.spec == {"node":"node1","peerIP":"192.0.2.200","asNumber":64514}'
jqv3 "IPPool, IPIP cross-subnet" "$R/ippools/198-18-0-0-16" \
    '.spec.cidr == "198.18.0.0/16" and .spec.ipipMode == "CrossSubnet"
     and .spec.natOutgoing == true and .spec.blockSize == 26
     and .spec.nodeSelector == "all()" and (.spec.disabled | not)'
jqv3 "IPv6 IPPool" "$R/ippools/2001-db8-100---64" \
    '.spec.cidr == "2001:db8:100::/64" and .spec.ipipMode == "Never"
     and .spec.blockSize == 122 and (.spec.natOutgoing | not)'
jqv3 "the block as it was" /calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26 \
    ". == $BLOCK0"
jqv3 "the other block, its affinity normalised" \
    /calico/ipam/v2/assignment/ipv4/block/198.18.0.64-26 \
    ". == ($BLOCK1 | .affinity = \"host:node-3\")"
jqv3 "affinity confirmed" /calico/ipam/v2/host/node1/ipv4/block/198.18.0.0-26 \
    '. == {"state":"confirmed","deleted":false}'
jqv3 "affinity of node-3" /calico/ipam/v2/host/node-3/ipv4/block/198.18.0.64-26 \
    '.state == "confirmed"'
jqv3 "handle" /calico/ipam/v2/handle/k8s-pod-network.c0ffee01 \
    '. == {"block":{"198.18.0.0/26":1}}'
jqv3 "IPAM config" /calico/ipam/v2/config \
    '. == {"strict_affinity":false,"auto_allocate_blocks":true}'
jqv3 "WorkloadEndpoint" "$R/workloadendpoints/default/node1-k8s-nginx--1-eth0" \
    '.metadata.namespace == "default" and .metadata.labels ==
     {"app":"nginx","projectcalico.org/namespace":"default"}
     and .spec.pod == "nginx-1" and .spec.containerID == "c0ffee01"
     and .spec.ipNetworks == ["198.18.0.1/32"]
     and .spec.profiles == ["kns.default"]
     and .spec.interfaceName == "cali0123456789a"'
jqv3 "ClusterInformation" "$R/clusterinformations/default" \
    '.spec == {"clusterType":"k8s,bgp","calicoVersion":"v2.6.6",
     "datastoreReady":true}'
[ "$(v2node /calico/v1/Ready | jq -r .value)" = false ] ||
    fail "v2's Ready is not false"
ok "v2's Ready stays false: v3 is the datastore now"

# ---------------------------------------------------------------------------
step "again: everything unchanged, nothing written"
rev1=$(revision)
idx1=$(v2index)
uid1=$(v3get "$R/nodes/node1" | jq -r .metadata.uid)
migrate --apply
[ "$RC" -eq 0 ] || fail "second apply: status $RC"
expect "Ready was false: left so" "$OUT" \
    "^locked +/calico/v1/Ready: false already \\(since index $lockidx\\)$"
[ "$(v2index)" = "$idx1" ] || fail "the second run wrote to v2"
expect "every key unchanged" "$OUT" \
    "^summary: [0-9]+ v1 keys; 0 to create, 0 to update, $NWANT unchanged, 0 conflicts, 0 errors"
expect "nothing to write" "$OUT" '^nothing to write: etcd v3 holds all of it$'
[ "$(grep -c '^unchanged ' <<<"$OUT")" -eq "$NWANT" ] ||
    fail "not every key listed unchanged"
[ "$(revision)" = "$rev1" ] || fail "the second run moved etcd's revision"
[ "$(v3get "$R/nodes/node1" | jq -r .metadata.uid)" = "$uid1" ] ||
    fail "uid changed"
ok "etcd revision still $rev1"

# ---------------------------------------------------------------------------
step "a v3 key changed since: a conflict, nothing written"
peer=$R/bgppeers/192-0-2-100
uidp=$(v3get "$peer" | jq -r .metadata.uid)
v3 put "$peer" "$(v3get "$peer" | jq -c '.spec.asNumber = 65000')" >/dev/null
v2set /calico/bgp/v1/host/node2/peer_v4/192.0.2.201 \
    '{"ip":"192.0.2.201","as_num":"64515"}'
rev2=$(revision)
migrate --apply
[ "$RC" -eq 1 ] || fail "apply over a conflict: status $RC"
expect_lines "the conflict, what differs" "$OUT" \
    "^conflict +$peer  \\(BGPPeer 192-0-2-100, from /calico/bgp/v1/global/peer_v4/192.0.2.100\\)$" \
    "^ +differs in spec.asNumber$"
expect "the new peer would be created" "$OUT" \
    "^create +$R/bgppeers/node2.192-0-2-201 "
expect "refused" "$OUT" \
    '^not written: 1 key holds other values in etcd v3 \(--force overwrites them\)$'
[ "$(revision)" = "$rev2" ] || fail "a refused apply wrote something"
[ -z "$(v3get "$R/bgppeers/node2.192-0-2-201")" ] ||
    fail "the new peer was written beside a conflict"
ok "nothing written, not even the new peer"
# a run that locked v2.6 itself and then writes nothing unlocks it
v2set /calico/v1/Ready true
migrate --apply
[ "$RC" -eq 1 ] || fail "apply over a conflict, Ready true: status $RC"
expect "locked" "$OUT" '^locked +/calico/v1/Ready: true -> false '
expect "then unlocked" "$OUT" \
    '^unlocked +/calico/v1/Ready: back to true \(nothing was written\)$'
[ "$(v2node /calico/v1/Ready | jq -r .value)" = true ] ||
    fail "Ready not set back: $(v2node /calico/v1/Ready)"
[ "$(revision)" = "$rev2" ] || fail "a refused apply wrote something"
ok "Ready true again, v3 untouched"

migrate --apply --force
[ "$RC" -eq 0 ] || fail "apply --force: status $RC"
expect "overwritten" "$OUT" "^updated +$peer "
expect "and the new peer" "$OUT" "^created +$R/bgppeers/node2.192-0-2-201 "
expect "2 written" "$OUT" '^written: 2 keys$'
jqv3 "the peer as v1 has it, its uid kept" "$peer" \
    ".spec.asNumber == 64513 and .metadata.uid == \"$uidp\""
jqv3 "the new node peer" "$R/bgppeers/node2.192-0-2-201" \
    '.spec.node == "node2" and .spec.asNumber == 64515'
jqv3 "and ready" "$ci" '.spec.datastoreReady == true'
migrate --apply
expect "and then unchanged" "$OUT" '^nothing to write: '

# ---------------------------------------------------------------------------
step "--force leaves IPAM alone; --force-ipam overwrites it"
# since the migration, v3 allocated 198.18.0.2 in node1's block, and the
# peer changed again
blk=/calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26
blk3=$(v3get "$blk" | jq -c '.allocations[2] = 1 | .unallocated -= [2] |
    .attributes += [{"handle_id":"k8s-pod-network.beef","secondary":null}]')
v3 put "$blk" "$blk3" >/dev/null
v3 put "$peer" "$(v3get "$peer" | jq -c '.spec.asNumber = 65001')" >/dev/null
migrate --apply --force
[ "$RC" -eq 0 ] || fail "apply --force over an IPAM conflict: status $RC"
expect_lines "the block listed as kept, what differs, why" "$OUT" \
    "^kept +$blk  \\(IPAM block 198.18.0.0/26, from $blk\\)$" \
    "^ +differs in allocations, unallocated, attributes$" \
    "^ +left alone: IPAM \\(--force-ipam overwrites it\\)$"
expect "counted" "$OUT" \
    '^left alone: 1 IPAM key holds other values in etcd v3: --force does not overwrite IPAM data'
expect "the peer overwritten" "$OUT" "^updated +$peer "
expect "1 written" "$OUT" '^written: 1 key$'
[ "$(v3get "$blk" | jq -c .)" = "$(jq -c . <<<"$blk3")" ] ||
    fail "--force overwrote the block v3 allocated from"
ok "v3's allocation of 198.18.0.2 is still there"
jqv3 "the peer as v1 has it" "$peer" '.spec.asNumber == 64513'
migrate --apply --force-ipam
[ "$RC" -eq 0 ] || fail "apply --force-ipam: status $RC"
expect "overwritten" "$OUT" "^updated +$blk "
jqv3 "the block as v2 has it" "$blk" ". == $BLOCK0"

# ---------------------------------------------------------------------------
step "300 new keys: txns of at most 128"
# one curl, one connection: a config file of 300 requests
for i in $(seq 1 300); do
	[ "$i" -gt 1 ] && echo next
	printf 'url = "%s/v2/keys/calico/ipam/v2/handle/k8s-pod-network.b%03d"\n' \
	    "$URL" "$i"
	echo 'request = "PUT"'
	echo 'data-urlencode = "value={\"block\":{\"198.18.0.0/26\":1}}"'
done >"$PM_TMP/handles.curl"
curl -sf -K "$PM_TMP/handles.curl" >/dev/null || fail "populating the handles"
[ "$(curl -sf "$URL/v2/keys/calico/ipam/v2/handle/" |
    jq '.node.nodes | length')" -eq 301 ] || fail "not 301 handles in v2"
rev4=$(revision)
migrate --apply
[ "$RC" -eq 0 ] || fail "apply of 300 keys: status $RC"
expect "300 written" "$OUT" '^written: 300 keys$'
[ "$(revision)" -eq $((rev4 + 5)) ] ||
    fail "300 keys took $(($(revision) - rev4)) txns, not 5 (hold, 128+128+44, ready)"
ok "in 3 txns, between the ClusterInformation's two"
[ "$(v3 get --prefix /calico/ipam/v2/handle/ --keys-only | grep -c .)" \
    -eq 301 ] || fail "not 301 handles in v3"
ok "301 handles in v3"
migrate --apply
expect "then unchanged, read in txns of 128 too" "$OUT" \
    '^summary: [0-9]+ v1 keys; 0 to create, 0 to update, 317 unchanged, '

# ---------------------------------------------------------------------------
step "a v2 writer that ignores Ready, racing the migration"
# a v2.6 component that read Ready just before it went false writes on:
# 2000 more handles, one connection, as fast as etcd takes them
for i in $(seq 1 2000); do
	[ "$i" -gt 1 ] && echo next
	printf 'url = "%s/v2/keys/calico/ipam/v2/handle/k8s-pod-network.r%04d"\n' \
	    "$URL" "$i"
	echo 'request = "PUT"'
	echo 'data-urlencode = "value={\"block\":{\"198.18.0.0/26\":1}}"'
done >"$PM_TMP/race.curl"
curl -s -K "$PM_TMP/race.curl" >/dev/null &
PM_PID["writer"]=$!
wait_until 5 curl -sf "$URL/v2/keys/calico/ipam/v2/handle/k8s-pod-network.r0001" ||
    fail "the racing writer did not start"
migrate --apply
RACE_RC=$RC
RACE_OUT=$OUT
RACE_ERR=$(cat "$PM_TMP/run$NRUN.err")
kill "${PM_PID[writer]}" 2>/dev/null
wait "${PM_PID[writer]}" 2>/dev/null
unset 'PM_PID[writer]'
listidx=$(sed -n 's/^read .* at etcd v2 index \([0-9]*\) .*/\1/p' <<<"$RACE_OUT")
[ -n "$listidx" ] || fail "no listing index:"$'\n'"$RACE_OUT"
# v2 keys under /calico changed after the listing, up to the check
changed() {
	curl -sf "$URL/v2/keys/calico?recursive=true" |
	    jq --argjson a "$1" --argjson b "$2" '[.. | objects |
	    select(has("modifiedIndex") and (.dir | not) and
	    .modifiedIndex > $a and .modifiedIndex <= $b)] | length'
}
if [ "$RACE_RC" -eq 0 ]; then
	# possible if no write fell between the listing and the check
	chk=$(sed -n 's/^checked .* (at index \([0-9]*\))$/\1/p' <<<"$RACE_OUT")
	[ -n "$chk" ] || fail "succeeded without checking v2"
	[ "$(changed "$listidx" "$chk")" -eq 0 ] ||
	    fail "succeeded though v2 changed between $listidx and $chk"
	ok "no write fell between the listing ($listidx) and the check ($chk)"
else
	[ "$RACE_RC" -eq 2 ] || fail "racing apply: status $RACE_RC"
	expect "the change named" "$RACE_ERR" \
	    "^error: etcd v2 changed after it was read at index $listidx: /calico/ipam/v2/handle/k8s-pod-network\\.r[0-9]{4} at index [0-9]+ .*run again$"
	expect "not ready" "$RACE_OUT" \
	    '^not ready ClusterInformation default: datastoreReady stays false \(run again\)$'
	jqv3 "v3 not ready" "$ci" '.spec.datastoreReady == false'
	ok "the race was caught"
fi
migrate --apply
[ "$RC" -eq 0 ] || fail "apply after the race: status $RC"
jqv3 "v3 ready" "$ci" '.spec.datastoreReady == true'
n2=$(curl -sf "$URL/v2/keys/calico/ipam/v2/handle/" | jq '.node.nodes | length')
n3=$(v3 get --prefix /calico/ipam/v2/handle/ --keys-only | grep -c .)
[ "$n2" -eq "$n3" ] || fail "$n2 handles in v2, $n3 in v3"
ok "all $n2 handles of v2 in v3"

# writes elsewhere in etcd v2 during the migration are none of its business
sed 's|/v2/keys/calico/ipam/v2/handle/|/v2/keys/elsewhere/|' \
    "$PM_TMP/race.curl" >"$PM_TMP/elsewhere.curl"
curl -s -K "$PM_TMP/elsewhere.curl" >/dev/null &
PM_PID["writer"]=$!
wait_until 5 curl -sf "$URL/v2/keys/elsewhere/k8s-pod-network.r0001" ||
    fail "the other writer did not start"
v2set /calico/ipam/v2/handle/k8s-pod-network.e1 \
    '{"block":{"198.18.0.0/26":1}}' # something to write
migrate --apply
kill "${PM_PID[writer]}" 2>/dev/null
wait "${PM_PID[writer]}" 2>/dev/null
unset 'PM_PID[writer]'
[ "$RC" -eq 0 ] || fail "apply beside writes outside /calico: status $RC"
listidx=$(sed -n 's/^read .* at etcd v2 index \([0-9]*\) .*/\1/p' <<<"$OUT")
chk=$(sed -n 's/^checked .* (at index \([0-9]*\))$/\1/p' <<<"$OUT")
[ -n "$chk" ] || fail "not checked:"$'\n'"$OUT"
ok "v2 checked: listed at $listidx, unchanged under /calico to $chk"
expect "the new handle written" "$OUT" '^written: 1 key$'
jqv3 "and ready" "$ci" '.spec.datastoreReady == true'

# ---------------------------------------------------------------------------
step "Ready neither true nor false: nothing done"
v2set /calico/v1/Ready maybe
rev5=$(revision)
migrate --apply
[ "$RC" -eq 2 ] || fail "apply with Ready maybe: status $RC"
expect "said so" "$(cat "$PM_TMP/run$NRUN.err")" \
    '^error: etcd v2 at .*: /calico/v1/Ready holds "maybe", neither true nor false; nothing done$'
[ "$(revision)" = "$rev5" ] || fail "v3 written"
[ "$(v2node /calico/v1/Ready | jq -r .value)" = maybe ] || fail "Ready changed"
ok "v2 and v3 untouched"
v2set /calico/v1/Ready false

# ---------------------------------------------------------------------------
step "a broken v1 value: an error naming the key, nothing written"
v2set /calico/v1/ipam/v4/pool/198.19.0.0-16 \
    '{"cidr":"198.19.0.0/16","ipip":"tunl0","ipip_mode":"sometimes"}'
v2set /calico/bgp/v1/global/peer_v4/192.0.2.101 '{"ip":"192.0.2.101"}'
rev3=$(revision)
migrate --apply
[ "$RC" -eq 1 ] || fail "apply with broken v1 data: status $RC"
expect "the pool's key and field" "$OUT" \
    '^error +/calico/v1/ipam/v4/pool/198.19.0.0-16: ipip_mode: "sometimes" is neither always nor cross-subnet$'
expect "the peer's" "$OUT" \
    '^error +/calico/bgp/v1/global/peer_v4/192.0.2.101: as_num: required$'
expect "refused" "$OUT" '^not written: the v1 data has errors \(above\)$'
[ "$(revision)" = "$rev3" ] || fail "an apply with errors wrote something"
ok "nothing written"
curl -sf -XDELETE "$URL/v2/keys/calico/v1/ipam/v4/pool/198.19.0.0-16" >/dev/null
curl -sf -XDELETE "$URL/v2/keys/calico/bgp/v1/global/peer_v4/192.0.2.101" \
    >/dev/null

# ---------------------------------------------------------------------------
step "no Calico data in v2"
curl -sf -XDELETE "$URL/v2/keys/calico?recursive=true" >/dev/null
migrate
[ "$RC" -eq 2 ] || fail "no v2 data: status $RC"
expect "said so" "$(cat "$PM_TMP/run$NRUN.err")" \
    "^error: etcd v2 at $URL holds no Calico data under /calico$"
migrate --apply
[ "$RC" -eq 2 ] || fail "no v2 data, --apply: status $RC"
expect "said so" "$(cat "$PM_TMP/run$NRUN.err")" \
    "^error: etcd v2 at $URL holds no Calico data under /calico$"
! curl -sf "$URL/v2/keys/calico" >/dev/null ||
    fail "--apply created /calico in an empty v2: $(v2node /calico)"
ok "--apply did not lock what is not there"

# ---------------------------------------------------------------------------
step "podmeshctl get shows the migrated resources"
if [ -x "$CTL" ]; then
	cat >"$PM_TMP/calicoctl.cfg" <<EOF
apiVersion: projectcalico.org/v3
kind: CalicoAPIConfig
metadata:
spec:
  datastoreType: etcdv3
  etcdEndpoints: $URL
EOF
	ctl() {
		"$CTL" -c "$PM_TMP/calicoctl.cfg" "$@"
	}
	out=$(ctl get nodes -o json 2>&1) || fail "podmeshctl get nodes: $out"
	expect "nodes" "$(jq -c '[.items[] | [.metadata.name,
	    .spec.bgp.ipv4Address]]' <<<"$out")" \
	    '^\[\["node-3","192.0.2.3/24"\],\["node1","192.0.2.1/24"\],\["node2","192.0.2.2/24"\]\]$'
	out=$(ctl get ippools -o json 2>&1) || fail "podmeshctl get ippools: $out"
	expect "pools" "$(jq -c '[.items[] | [.spec.cidr, .spec.ipipMode]]' <<<"$out")" \
	    '\["198.18.0.0/16","CrossSubnet"\]'
	out=$(ctl get bgppeers 2>&1) || fail "podmeshctl get bgppeers: $out"
	expect "peers, as a table" "$out" 'node1\.192-0-2-200 +192\.0\.2\.200 +node1 +64514'
	out=$(ctl get bgpconfig default -o json 2>&1) ||
	    fail "podmeshctl get bgpconfig: $out"
	expect "BGP configuration" "$(jq -c .spec <<<"$out")" \
	    '"nodeToNodeMeshEnabled":false'
	out=$(ctl get wep -A -o json 2>&1) || fail "podmeshctl get wep: $out"
	expect "workload endpoints" "$(jq -r '.items[].metadata.name' <<<"$out")" \
	    '^node1-k8s-nginx--1-eth0$'
else
	log "skipped: $CTL not built"
fi
