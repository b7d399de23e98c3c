#!/bin/bash
# t_ctl_migrate.sh: `podmeshctl migrate from-etcdv2` end to end, against one
# etcd 3.4 started with --enable-v2 (its v2 and v3 keyspaces are separate,
# as in an upgrade in place).  The v2 side is populated as a Calico v2.6
# install leaves it (calico.md §1, §2; the same tree as t_migrate.sh: three
# nodes, one whose name v3 normalises, an IPIP cross-subnet pool and an
# IPv6 pool, global AS with the mesh off, a global and a node peer, blocks
# with allocations, affinities, a handle, a workload endpoint, Felix keys
# and a profile).  Checked:
#  - where etcd v2 is: --v2-endpoints, a v1 calicoApiConfig, else the v3
#    datastore's endpoints (here from $ETCD_ENDPOINTS), each named;
#  - the dry run prints the plan and the summary, exits 0 and writes
#    nothing (v3 /calico empty, revision unchanged);
#  - --apply writes it; `podmeshctl get nodes/ippools/bgppeers/
#    bgpconfigurations -o json` and `ipam show -o json` mean what the v2
#    data meant (jq);
#  - a second --apply changes nothing (etcd's revision does not move);
#  - a v3 key changed since, or a broken v1 value: exit 1, nothing
#    written; --force overwrites the conflict;
#  - an IPAM block v3 allocated from since: --force leaves it (and says
#    so), --force-ipam (only with --force) overwrites it with v2's;
#  - an unreachable etcd v2: exit 1 naming where its endpoints came from;
#  - usage errors exit 2.
# ~4 s.
PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

CTL=$PODMESH_BUILD/ctl/podmeshctl
[ -x "$CTL" ] || fail "$CTL missing (cmake --build ... --target podmeshctl)"
for c in etcd etcdctl curl jq ss; do
	command -v $c >/dev/null || fail "$c not installed"
done

etcd_start mig --enable-v2
URL=$ETCD_URL
wait_until 15 curl -sf "$URL/v2/keys/" || fail "no v2 API on $URL"

# v2set KEY VALUE: as Calico v2.6 writes it (every value a string).
v2set() {
	curl -sf -XPUT "$URL/v2/keys$1" --data-urlencode "value=$2" >/dev/null ||
	    fail "v2 set $1"
}

v3() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

revision() {
	v3 endpoint status -w json | jq -r '.[0].Status.header.revision'
}

# a v1 calicoctl.cfg naming this etcd as an etcdv2 datastore
cat >"$PM_TMP/v1.cfg" <<EOF
apiVersion: v1
kind: calicoApiConfig
metadata:
spec:
  datastoreType: etcdv2
  etcdEndpoints: $URL
EOF

NRUN=0
# pmctl ARGS...: podmeshctl; $OUT its stdout, $ERR its stderr, $RC status.
pmctl() {
	NRUN=$((NRUN + 1))
	"$CTL" "$@" >"$PM_TMP/run$NRUN.out" 2>"$PM_TMP/run$NRUN.err"
	RC=$?
	OUT=$(cat "$PM_TMP/run$NRUN.out")
	ERR=$(cat "$PM_TMP/run$NRUN.err")
	log "podmeshctl $* -> $RC${ERR:+: $ERR}"
}

# expect NAME TEXT ERE: TEXT must match ERE.
expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got:"$'\n'"$2"
	ok "$1"
}

# jqok NAME JSON FILTER: the jq FILTER must be true of JSON.
jqok() {
	jq -e "$3" >/dev/null <<<"$2" ||
	    fail "$1: not ($3) in:"$'\n'"$(jq -S . <<<"$2")"
	ok "$1"
}

# ---------------------------------------------------------------------------
# Populated as in t_migrate.sh (copied: the two tests stay independent).
R=/calico/resources/v3/projectcalico.org
BLOCK0=$(jq -nc '{cidr: "198.18.0.0/26", affinity: "host:node1",
    strictAffinity: false, allocations: ([0, 1] + [range(62) | null]),
    unallocated: [range(2; 64)],
    attributes: [{handle_id: null, secondary: null},
        {handle_id: "k8s-pod-network.c0ffee01", secondary: null}]}')
BLOCK1=$(jq -c '.cidr = "198.18.0.64/26" | .affinity = "host:Node_3" |
    .allocations[1] = null | .unallocated = [range(1;64)] |
    .attributes = [{"handle_id":null,"secondary":null}]' <<<"$BLOCK0")

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
[ -z "$(v3 get --prefix /calico)" ] || fail "v3 is not empty before we start"
ok "populated (v3 empty)"
NWANT=16 # v3 keys: 1 BGPConfiguration, 3 nodes, 2 peers, 2 pools, 6 IPAM,
#          1 WorkloadEndpoint, 1 ClusterInformation

# ---------------------------------------------------------------------------
step "dry run, etcd v2 from --v2-endpoints: the plan, nothing written"
rev0=$(revision)
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --v2-endpoints "$URL"
[ "$RC" -eq 0 ] || fail "dry run: status $RC"
expect "says where etcd v2 is" "$OUT" \
    "^etcd v2 endpoints from --v2-endpoints; etcd v3 endpoints from $PM_TMP/v1.cfg$"
expect "says it is a dry run" "$OUT" \
    "^from etcd v2 at $URL \\(/calico\\) to etcd v3 at $URL \\(dry run\\)$"
[ "$(grep -c '^create ' <<<"$OUT")" -eq $NWANT ] ||
    fail "not $NWANT keys to create:"$'\n'"$OUT"
ok "$NWANT keys to create"
expect "each names its v1 source" "$OUT" \
    "^create +$R/nodes/node-3  \\(Node node-3, from /calico/v1/host/Node_3/metadata\\)$"
expect "skipped policy" "$OUT" '^skipped +/calico/v1/policy/ \(1 key\)'
expect "the summary line" "$OUT" \
    "^summary: [0-9]+ v1 keys; $NWANT to create, 0 to update, 0 unchanged, 0 conflicts, 0 errors, 0 warnings, [0-9]+ skipped$"
expect "nothing written" "$OUT" \
    "^dry run: nothing written \\(--apply writes $NWANT keys\\)$"
[ -z "$(v3 get --prefix /calico)" ] ||
    fail "the dry run wrote to v3:"$'\n'"$(v3 get --prefix /calico --keys-only)"
[ "$(revision)" = "$rev0" ] || fail "the dry run moved etcd's revision"
ok "v3 /calico still empty, revision $rev0"

step "dry run, etcd v2 from a v1 calicoApiConfig, then from the v3 datastore"
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg"
[ "$RC" -eq 0 ] || fail "dry run with the v1 config: status $RC"
expect "the v1 config's endpoints" "$OUT" \
    "^etcd v2 endpoints from the v1 calicoApiConfig in $PM_TMP/v1.cfg; "
expect "the same plan" "$OUT" "^summary: [0-9]+ v1 keys; $NWANT to create, "
if [ -e /etc/podmesh/podmeshctl.cfg ] || [ -e /etc/calico/calicoctl.cfg ]; then
	log "skipped the environment case: a default config file exists"
else
	ETCD_ENDPOINTS=$URL pmctl migrate from-etcdv2
	[ "$RC" -eq 0 ] || fail "dry run from the environment: status $RC"
	expect "the v3 datastore's endpoints" "$OUT" \
	    "^etcd v2 endpoints from the v3 datastore's configuration \\(environment\\); etcd v3 endpoints from the environment$"
	expect "the same plan again" "$OUT" \
	    "^summary: [0-9]+ v1 keys; $NWANT to create, "
fi
[ "$(revision)" = "$rev0" ] || fail "a dry run moved etcd's revision"
ok "still nothing written"

# ---------------------------------------------------------------------------
step "--apply"
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply
[ "$RC" -eq 0 ] || fail "apply: status $RC"
expect "written" "$OUT" "^written: $NWANT keys$"
expect "created" "$OUT" "^created +$R/nodes/node1 "
[ "$(v3 get --prefix /calico --keys-only | grep -c .)" -eq $NWANT ] ||
    fail "not $NWANT keys in v3"
ok "$NWANT keys in v3"

step "podmeshctl get shows what the v2 data meant"
get() {
	pmctl -c "$PM_TMP/v1.cfg" "$@"
	[ "$RC" -eq 0 ] || fail "podmeshctl $*: status $RC: $ERR"
}
get get nodes -o json
jqok "three nodes, Node_3 normalised" "$OUT" \
    '[.items[].metadata.name] == ["node-3", "node1", "node2"]'
jqok "node1: address, subnet and IPIP tunnel address" "$OUT" \
    '.items[] | select(.metadata.name == "node1") | .spec.bgp ==
     {"ipv4Address": "192.0.2.1/24", "ipv4IPIPTunnelAddr": "198.18.0.0"}'
jqok "node2: its own AS and IPv6 address" "$OUT" \
    '.items[] | select(.metadata.name == "node2") | .spec.bgp ==
     {"asNumber": 64600, "ipv4Address": "192.0.2.2/24",
      "ipv6Address": "2001:db8::2/64"}'
jqok "node-3's tunnel address" "$OUT" \
    '.items[] | select(.metadata.name == "node-3") |
     .spec.bgp.ipv4IPIPTunnelAddr == "198.18.0.64"'
jqok "nodes have a uid and creationTimestamp" "$OUT" \
    'all(.items[].metadata; (.uid | length) == 36 and
     (.creationTimestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")))'

get get ippools -o json
jqok "two pools" "$OUT" \
    '[.items[].spec.cidr] | sort == ["198.18.0.0/16", "2001:db8:100::/64"]'
jqok "IPv4 pool: IPIP cross-subnet, NAT, /26 blocks" "$OUT" \
    '.items[] | select(.spec.cidr == "198.18.0.0/16") |
     .metadata.name == "198-18-0-0-16" and .spec.ipipMode == "CrossSubnet"
     and .spec.natOutgoing == true and .spec.blockSize == 26
     and (.spec.disabled | not)'
jqok "IPv6 pool: no IPIP, no NAT, /122 blocks" "$OUT" \
    '.items[] | select(.spec.cidr == "2001:db8:100::/64") |
     .spec.ipipMode == "Never" and (.spec.natOutgoing | not)
     and .spec.blockSize == 122'

get get bgppeers -o json
jqok "the global peer" "$OUT" \
    '.items[] | select(.metadata.name == "192-0-2-100") |
     .spec == {"peerIP": "192.0.2.100", "asNumber": 64513}'
jqok "node1's peer" "$OUT" \
    '.items[] | select(.metadata.name == "node1.192-0-2-200") |
     .spec == {"node": "node1", "peerIP": "192.0.2.200", "asNumber": 64514}'
jqok "just those two" "$OUT" '.items | length == 2'

get get bgpconfigurations -o json
jqok "BGPConfiguration default: AS 64512, mesh off, Info" "$OUT" \
    '[.items[] | {name: .metadata.name, spec}] == [{name: "default",
     spec: {"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": false,
     "asNumber": 64512}}]'

get ipam show -o json
jqok "IPAM: 3 addresses in use in the IPv4 pool, in its 2 blocks" "$OUT" \
    '.pools[] | select(.cidr == "198.18.0.0/16") | .in_use == 3
     and (.blocks | length) == 2'

get get wep -A -o json
jqok "the workload endpoint" "$OUT" \
    '[.items[] | [.metadata.namespace, .metadata.name, .spec.ipNetworks]] ==
     [["default", "node1-k8s-nginx--1-eth0", ["198.18.0.1/32"]]]'

# ---------------------------------------------------------------------------
step "a second --apply changes nothing"
rev1=$(revision)
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply
[ "$RC" -eq 0 ] || fail "second apply: status $RC"
expect "every key unchanged" "$OUT" \
    "^summary: [0-9]+ v1 keys; 0 to create, 0 to update, $NWANT unchanged, 0 conflicts, 0 errors"
expect "nothing to write" "$OUT" '^nothing to write: etcd v3 holds all of it$'
[ "$(revision)" = "$rev1" ] || fail "the second run moved etcd's revision"
ok "etcd revision still $rev1"

# ---------------------------------------------------------------------------
step "a conflict, then broken v1 data: exit 1, nothing written"
peer=$R/bgppeers/192-0-2-100
v3 put "$peer" "$(v3 get "$peer" --print-value-only |
    jq -c '.spec.asNumber = 65000')" >/dev/null
rev2=$(revision)
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply
[ "$RC" -eq 1 ] || fail "apply over a conflict: status $RC"
expect "the conflict, what differs" "$OUT" \
    "^conflict +$peer  \\(BGPPeer 192-0-2-100, .*"$'\n'" +differs in spec.asNumber$"
expect "stderr says nothing was written" "$ERR" \
    '^podmeshctl: nothing written: 0 errors in the v1 data, 1 conflict '
[ "$(revision)" = "$rev2" ] || fail "a refused apply wrote something"
ok "nothing written"
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply --force
[ "$RC" -eq 0 ] || fail "apply --force: status $RC"
expect "overwritten" "$OUT" "^updated +$peer "
get get bgppeers 192-0-2-100 -o json
jqok "the peer as v1 has it" "$OUT" '.spec.asNumber == 64513'

# ---------------------------------------------------------------------------
step "IPAM that v3 allocated from since: --force keeps it, --force-ipam not"
# a Calico v3 CNI allocated 198.18.0.5 in node1's block after v2 was read
blk=/calico/ipam/v2/assignment/ipv4/block/198.18.0.0-26
v3 put "$blk" "$(v3 get "$blk" --print-value-only |
    jq -c '.attributes += [{"handle_id": "k8s-pod-network.v3pod",
        "secondary": null}] | .allocations[5] = (.attributes | length - 1) |
        .unallocated -= [5]')" >/dev/null
v3blk=$(v3 get "$blk" --print-value-only)
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --force-ipam --apply
[ "$RC" -eq 2 ] || fail "--force-ipam without --force: status $RC"
expect "--force-ipam goes with --force" "$ERR" '^podmeshctl: --force-ipam goes with --force'
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply --force
[ "$RC" -eq 0 ] || fail "apply --force over a v3 allocation: status $RC"
expect "the block kept, said on stderr" "$ERR" \
    '^podmeshctl: 1 IPAM key holds other values in etcd v3 and was left alone: --force does not overwrite IPAM data \(--force-ipam does'
[ "$(v3 get "$blk" --print-value-only)" = "$v3blk" ] ||
    fail "--force overwrote a block v3 allocated from"
ok "--force leaves the block v3 allocated from alone"
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply --force --force-ipam
[ "$RC" -eq 0 ] || fail "apply --force --force-ipam: status $RC"
expect "--force-ipam overwrote it" "$OUT" "^updated +$blk "
jqok "the block as v2 has it: the v3 allocation gone" "$(v3 get "$blk" --print-value-only)" \
    '.allocations[5] == null and ([.attributes[].handle_id] |
     index("k8s-pod-network.v3pod") == null)'
pmctl migrate from-etcdv2 --help
expect "--help: what --force-ipam does" "$OUT" \
    'force-ipam \(with --force\) overwrites them with the v2 snapshot'
expect "--help: why it is dangerous" "$OUT" \
    'handed out to a second pod while the first still'

v2set /calico/bgp/v1/global/peer_v4/192.0.2.101 '{"ip":"192.0.2.101"}'
rev3=$(revision)
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --apply
[ "$RC" -eq 1 ] || fail "apply with broken v1 data: status $RC"
expect "the error names the v1 key and field" "$OUT" \
    '^error +/calico/bgp/v1/global/peer_v4/192.0.2.101: as_num: required$'
expect "stderr counts it" "$ERR" '^podmeshctl: nothing written: 1 error in '
[ "$(revision)" = "$rev3" ] || fail "an apply with errors wrote something"
ok "nothing written"

# ---------------------------------------------------------------------------
step "etcd v2 unreachable: exit 1, naming where its endpoints came from"
dead=http://127.0.0.1:$(etcd_free_port)
pmctl migrate from-etcdv2 -c "$PM_TMP/v1.cfg" --v2-endpoints "$dead"
[ "$RC" -eq 1 ] || fail "unreachable v2: status $RC"
expect "the error" "$ERR" "^podmeshctl: reading etcd v2: .*127\\.0\\.0\\.1"
expect "and where it came from" "$ERR" \
    '^podmeshctl: the etcd v2 endpoints came from --v2-endpoints; '

# ---------------------------------------------------------------------------
step "usage errors: exit 2"
rev4=$(revision)
for args in "from-etcdv2 extra" "from-etcdv2 --bogus" "from-etcdv2 --v2-ca-file x" \
    "from-etcdv2 --v2-endpoints $URL --v2-key-file k" "sideways" ""; do
	# shellcheck disable=SC2086
	pmctl migrate $args -c "$PM_TMP/v1.cfg" --apply
	[ "$RC" -eq 2 ] || fail "migrate $args: status $RC, not 2"
	[ -n "$ERR" ] || fail "migrate $args: no message"
done
ok "each exits 2 with a message"
[ "$(revision)" = "$rev4" ] || fail "a usage error wrote something"
pmctl migrate from-etcdv2 --help
[ "$RC" -eq 0 ] || fail "--help: status $RC"
expect "--help says it is a dry run unless --apply" "$OUT" \
    '^Without --apply this is a dry run and nothing is written'
