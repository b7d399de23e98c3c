#!/bin/bash
# t_ctl_resources.sh: podmeshctl create|apply|replace|delete|get against a
# real etcd 3.4 on loopback.  Checked: --help for every command; the
# datastore configuration (calicoctl.cfg v1 and v3, podmesh's datastore:
# map, ETCD_* and CALICO_ETCD_* environment, Calico v2.6's etcdAuthority
# and DATASTORE_TYPE=etcdv2, failover past a dead first
# endpoint, refused kubernetes, TLS with a client certificate from files
# and from inline PEM, refused without it); a multi-document create landing at
# Calico's keys with uid, creationTimestamp, defaults and no
# resourceVersion; get's tables (calicoctl's columns, -o wide, short and
# plural kind names, namespaces); get -o yaml|json shapes (resourceVersion
# = etcd's mod_revision, <Kind>List with the listing's revision) and the
# round trip (apply what get printed: not a byte or revision changes);
# updates keeping uid and creationTimestamp; replace and delete with
# resourceVersion conflicts; bad input (malformed YAML, unknown kind,
# invalid CIDR, duplicate name, unknown field, create of an existing
# resource, IPPool overlap and immutable CIDR): the message names file,
# line, document and field, the exit status is 1 and etcd holds exactly
# what it held before; all or nothing under two concurrent writers; more
# writes than one transaction takes (client limit and an etcd started
# with --max-txn-ops 8): refused with nothing written, or with
# --allow-partial written in several transactions, and said so; large
# resources measured as etcd measures a request (1.4 MiB in one
# transaction, three of 600 KiB refused together, one over 1.5 MiB an
# error up front).  ~15 s.
PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

CTL=$PODMESH_BUILD/ctl/podmeshctl
[ -x "$CTL" ] || fail "$CTL missing (cmake --build ... --target podmeshctl)"
for c in etcd etcdctl jq curl ss openssl; do
	command -v $c >/dev/null || fail "$c not installed"
done

etcd_start main
URL=$ETCD_URL
CFG=$PM_TMP/ctl.cfg
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: %s\n' \
    "$URL" >"$CFG"

pmctl() {
	"$CTL" -c "$CFG" "$@"
}

ectl() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

# everything under /calico with its revisions, and the store revision
snapshot() {
	ectl get --prefix /calico -w json |
	    jq -S '{rev: .header.revision, kvs: [.kvs[]? |
	        {key: (.key | @base64d), value: (.value | @base64d),
	         mod: .mod_revision}]}'
}

# expect NAME OUTPUT ERE
expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got: $2"
	ok "$1"
}

# value KEY: the stored JSON under KEY
value() {
	ectl get "$1" --print-value-only
}

# refused NAME ERE CMD...: CMD exits 1, says ERE and writes nothing
refused() {
	local name=$1 re=$2 before after out rc=0
	shift 2
	before=$(snapshot)
	out=$("$@" 2>&1) || rc=$?
	[ "$rc" -eq 1 ] || fail "$name: exit status $rc, wanted 1: $out"
	grep -Eq -- "$re" <<<"$out" || fail "$name: wanted /$re/, got: $out"
	after=$(snapshot)
	[ "$before" = "$after" ] || fail "$name: etcd changed: $(diff <(echo "$before") <(echo "$after"))"
	ok "$name (exit 1, nothing written)"
	log "  $(head -1 <<<"$out")"
}

P=/calico/resources/v3/projectcalico.org

# ---------------------------------------------------------------------------
step "help"
out=$("$CTL" --help) || fail "--help"
for c in "create -f FILE" "apply -f FILE" "replace -f FILE" \
    "delete (-f FILE | KIND NAME)" "get KIND [NAME]" "ipam show" \
    "ipam release --ip IP" "ipam check [--fix [--grace SECONDS]]" "bgp peers"; do
	grep -qF "  $c" <<<"$out" || fail "--help does not list '$c': $out"
done
ok "--help lists every command"
for c in create apply replace delete get "ipam show" "ipam release" \
    "ipam check" "bgp peers" "bgp routes" "bgp refresh"; do
	# shellcheck disable=SC2086
	out=$("$CTL" $c --help) || fail "$c --help"
	grep -q "^usage: podmeshctl $c" <<<"$out" || fail "$c --help: $out"
done
out=$("$CTL" get --help)
expect "get --help: outputs" "$out" 'get KIND \[NAME\] \[-o table\|wide\|yaml\|json\] \[-n NS\] \[-A\] \[-c FILE\]'
expect "get --help: kinds" "$out" '^  IPPool +ippool, ippools, ipp, ipps, pool, pools$'
expect "ipam show --help" "$("$CTL" ipam show --help)" '^  -c, --config FILE$'
out=$("$CTL" ipam --help)
expect "a group's help" "$out" '^podmeshctl ipam release --ip IP$'
out=$("$CTL" get ippool --fix 2>&1) && fail "an option get does not take: $out"
expect "an option a command does not take" "$out" "--fix does not apply to 'get'"
out=$("$CTL" apply -f x -o yaml 2>&1)
[ $? -eq 2 ] || fail "apply -o: $out"
out=$("$CTL" get ippool -o xml 2>&1)
[ $? -eq 2 ] || fail "-o xml: $out"
expect "an unknown output format" "$out" "unknown output format 'xml'"

# ---------------------------------------------------------------------------
step "configuration"
out=$(env -u ETCD_ENDPOINTS "$CTL" -c "$PM_TMP/nope.cfg" get ippool 2>&1) &&
    fail "a missing --config: $out"
expect "a missing --config is an error" "$out" "nope.cfg: No such file"
printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata:\nspec:\n  datastoreType: etcdv2\n  etcdEndpoints: %s\n' \
    "$URL" >"$PM_TMP/v1.cfg"
"$CTL" -c "$PM_TMP/v1.cfg" get ippool >/dev/null || fail "v1 calicoApiConfig"
ok "calicoctl.cfg v1 (calicoApiConfig)"
printf 'apiVersion: v1\nkind: calicoApiConfig\nmetadata:\nspec:\n  etcdScheme: http\n  etcdAuthority: %s\n' \
    "${URL#http://}" >"$PM_TMP/v1auth.cfg"
"$CTL" -c "$PM_TMP/v1auth.cfg" get ippool >/dev/null || fail "v1 etcdAuthority"
ok "calicoctl.cfg v1 of Calico v2.6: etcdScheme://etcdAuthority"
env -u ETCD_ENDPOINTS -u CALICO_ETCD_ENDPOINTS DATASTORE_TYPE=etcdv2 \
    ETCD_AUTHORITY="${URL#http://}" "$CTL" get ippool >/dev/null ||
    fail "DATASTORE_TYPE=etcdv2 ETCD_AUTHORITY"
ok "a v2.6 environment: DATASTORE_TYPE=etcdv2, ETCD_AUTHORITY"
DEAD=$(etcd_free_port)
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  etcdEndpoints: "http://127.0.0.1:%s,%s"\n' \
    "$DEAD" "$URL" >"$PM_TMP/v3.cfg"
"$CTL" --config="$PM_TMP/v3.cfg" get ippool >/dev/null ||
    fail "v3 CalicoAPIConfig, first endpoint dead"
ok "calicoctl.cfg v3, past a dead first endpoint"
printf 'datastore:\n  type: etcdv3\n  endpoints: [%s]\n' "$URL" >"$PM_TMP/pm.cfg"
"$CTL" -c "$PM_TMP/pm.cfg" get ippool >/dev/null || fail "datastore: map"
ok "podmesh's datastore: map"
ETCD_ENDPOINTS=$URL "$CTL" get ippool >/dev/null || fail "ETCD_ENDPOINTS"
ok "ETCD_ENDPOINTS"
ETCD_ENDPOINTS=http://127.0.0.1:$DEAD CALICO_ETCD_ENDPOINTS=$URL \
    "$CTL" get ippool >/dev/null || fail "CALICO_ETCD_ENDPOINTS"
ok "CALICO_ETCD_ENDPOINTS wins over ETCD_ENDPOINTS"
out=$(ETCD_ENDPOINTS=http://127.0.0.1:$DEAD "$CTL" get ippool 2>&1) &&
    fail "a dead endpoint: $out"
expect "an unreachable etcd names the endpoint" "$out" \
    "^podmeshctl: etcd http://127.0.0.1:$DEAD: "
expect "and where it came from" "$out" "came from the environment"
if ! ss -ltnH 'sport = :2379' | grep -q . && [ ! -e /etc/podmesh/podmeshctl.cfg ] &&
    [ ! -e /etc/calico/calicoctl.cfg ]; then
	out=$(env -u ETCD_ENDPOINTS -u CALICO_ETCD_ENDPOINTS "$CTL" get ippool 2>&1)
	expect "no configuration: http://127.0.0.1:2379" "$out" \
	    '^podmeshctl: etcd http://127.0.0.1:2379: '
	expect "the default, said so" "$out" 'came from the default'
fi
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n  datastoreType: kubernetes\n' \
    >"$PM_TMP/k8s.cfg"
out=$("$CTL" -c "$PM_TMP/k8s.cfg" get ippool 2>&1) && fail "kubernetes: $out"
expect "kubernetes refused, with file, line and field" "$out" \
    "k8s.cfg:4: spec.datastoreType: the kubernetes datastore is not supported"

# ---------------------------------------------------------------------------
step "configuration: TLS with a client certificate, files and inline PEM"
TLS=$PM_TMP/tls
mkdir -p "$TLS"
(
	cd "$TLS" || exit 1
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	# shellcheck disable=SC2086
	openssl req -x509 $ec -keyout ca-key.pem -out ca.pem -days 1 \
	    -subj /CN=podmesh-test-ca &&
	    openssl req $ec -keyout server-key.pem -out server.csr \
	    -subj /CN=127.0.0.1 &&
	    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem \
	    -CAcreateserial -out server.pem -days 1 -extfile <(printf '%s\n' \
	    'subjectAltName=IP:127.0.0.1' \
	    'extendedKeyUsage=serverAuth,clientAuth') &&
	    openssl req $ec -keyout client-key.pem -out client.csr \
	    -subj /CN=podmesh &&
	    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem \
	    -CAcreateserial -out client.pem -days 1 \
	    -extfile <(echo 'extendedKeyUsage=clientAuth')
) >"$PM_TMP/openssl.log" 2>&1 || fail "openssl: $(tail -5 "$PM_TMP/openssl.log")"
etcd_start tls --cert-file "$TLS/server.pem" --key-file "$TLS/server-key.pem" \
    --client-cert-auth --trusted-ca-file "$TLS/ca.pem"
TURL=$ETCD_URL
printf 'apiVersion: v1\nkind: calicoApiConfig\nspec:\n  etcdEndpoints: %s\n  etcdCACertFile: %s\n  etcdCertFile: %s\n  etcdKeyFile: %s\n' \
    "$TURL" "$TLS/ca.pem" "$TLS/client.pem" "$TLS/client-key.pem" \
    >"$PM_TMP/tls-files.cfg"
printf 'apiVersion: projectcalico.org/v3\nkind: IPPool\nmetadata: {name: tls}\nspec: {cidr: 198.18.200.0/24}\n' \
    >"$PM_TMP/tls-pool.yaml"
wait_until 10 "$CTL" -c "$PM_TMP/tls-files.cfg" get ippool ||
    fail "TLS etcd: $("$CTL" -c "$PM_TMP/tls-files.cfg" get ippool 2>&1)"
out=$("$CTL" -c "$PM_TMP/tls-files.cfg" create -f "$PM_TMP/tls-pool.yaml" 2>&1) ||
    fail "create over TLS: $out"
ok "calicoctl.cfg v1 with certificate files"
{
	printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nspec:\n'
	printf '  etcdEndpoints: %s\n' "$TURL"
	for f in etcdCACert:ca.pem etcdCert:client.pem etcdKey:client-key.pem; do
		printf '  %s: |\n' "${f%%:*}"
		sed 's/^/    /' "$TLS/${f#*:}"
	done
} >"$PM_TMP/tls-inline.cfg"
mkdir -p "$PM_TMP/tmpdir"
out=$(TMPDIR=$PM_TMP/tmpdir "$CTL" -c "$PM_TMP/tls-inline.cfg" get ippool tls 2>&1) ||
    fail "inline PEM: $out"
expect "calicoctl.cfg v3 with inline PEM" "$out" '^tls +198\.18\.200\.0/24 '
[ -z "$(ls -A "$PM_TMP/tmpdir")" ] || fail "inline PEM files left: $(ls "$PM_TMP/tmpdir")"
ok "the inline PEM's temporary files removed"
grep -v 'etcdCertFile\|etcdKeyFile' "$PM_TMP/tls-files.cfg" >"$PM_TMP/tls-nocert.cfg"
out=$("$CTL" -c "$PM_TMP/tls-nocert.cfg" get ippool 2>&1) &&
    fail "no client certificate, yet: $out"
expect "refused without the client certificate" "$out" "^podmeshctl: etcd $TURL: "
etcd_stop tls

# ---------------------------------------------------------------------------
step "create: a multi-document file, every kind"
cat >"$PM_TMP/all.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-a
spec:
  cidr: 198.18.0.0/24
  ipipMode: Always
  natOutgoing: true
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
  labels: {tier: edge}
spec:
  cidr: 198.18.1.0/24
  vxlanMode: CrossSubnet
  blockSize: 28
  nodeSelector: rack == "r1"
  disabled: true
---
# a list of resources in one document
- apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata: {name: rr-global}
  spec: {peerIP: 192.0.2.10, asNumber: 64512}
- apiVersion: projectcalico.org/v3
  kind: BGPPeer
  metadata: {name: rr-node1}
  spec: {node: node1, peerIP: "192.0.2.11:1790", asNumber: 65001}
---
{"apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
 "metadata": {"name": "default"},
 "spec": {"logSeverityScreen": "Info", "nodeToNodeMeshEnabled": false,
          "asNumber": 64513}}
---
apiVersion: projectcalico.org/v3
kind: NodeList
items:
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata: {name: node1, labels: {rack: r1}}
  spec:
    bgp: {ipv4Address: 192.0.2.1/24, ipv4IPIPTunnelAddr: 198.18.0.1}
- apiVersion: projectcalico.org/v3
  kind: Node
  metadata: {name: node2}
  spec:
    bgp: {ipv4Address: 192.0.2.2/24, ipv6Address: 2001:db8::2/64, asNumber: 64600}
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node1-k8s-pod--a-eth0
  namespace: default
spec:
  orchestrator: k8s
  node: node1
  pod: pod-a
  endpoint: eth0
  containerID: aaaa
  ipNetworks: [198.18.0.2/32]
  interfaceName: cali0a
  profiles: [kns.default]
---
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata:
  name: node2-k8s-pod--b-eth0
  namespace: kube-system
spec:
  orchestrator: k8s
  node: node2
  pod: pod-b
  endpoint: eth0
  containerID: bbbb
  ipNetworks: [198.18.0.66/32]
  interfaceName: cali0b
---
apiVersion: projectcalico.org/v3
kind: ClusterInformation
metadata: {name: default}
spec: {clusterGUID: 0123abcd, clusterType: "k8s,bgp", calicoVersion: v3.21.0, datastoreReady: true}
EOF
out=$(pmctl create -f "$PM_TMP/all.yaml" 2>&1) || fail "create: $out"
expect "create" "$out" "^Successfully created 10 resource\(s\)$"
for k in ippools/pool-a ippools/pool-b bgppeers/rr-global bgppeers/rr-node1 \
    bgpconfigurations/default nodes/node1 nodes/node2 \
    workloadendpoints/default/node1-k8s-pod--a-eth0 \
    workloadendpoints/kube-system/node2-k8s-pod--b-eth0 \
    clusterinformations/default; do
	[ -n "$(value "$P/$k")" ] || fail "nothing at $P/$k"
done
ok "at Calico's keys"
v=$(value "$P/ippools/pool-a")
jq -e '.kind == "IPPool" and .apiVersion == "projectcalico.org/v3" and
    .spec.blockSize == 26 and .spec.nodeSelector == "all()" and
    .spec.vxlanMode == "Never" and .spec.ipipMode == "Always" and
    (.metadata | has("resourceVersion") | not) and
    (.metadata.uid | test("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")) and
    (.metadata.creationTimestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"))' \
    <<<"$v" >/dev/null || fail "stored pool: $v"
ok "stored as Calico does: defaults, uid, creationTimestamp, no resourceVersion"
v=$(value "$P/bgppeers/rr-node1")
jq -e '.spec.peerIP == "192.0.2.11:1790" and .spec.asNumber == 65001' <<<"$v" \
    >/dev/null || fail "stored peer: $v"

# ---------------------------------------------------------------------------
step "get: tables"
out=$(pmctl get ippool)
[ "$(head -1 <<<"$out" | tr -s ' ')" = "NAME CIDR SELECTOR" ] || fail "ippool columns: $out"
expect "get ippool" "$out" '^pool-b +198\.18\.1\.0/24 +rack == "r1"$'
out=$(pmctl get ippool -o wide)
[ "$(head -1 <<<"$out" | tr -s ' ')" = \
    "NAME CIDR NAT IPIPMODE VXLANMODE DISABLED DISABLEBGPEXPORT SELECTOR" ] ||
    fail "ippool -o wide columns: $out"
expect "get ippool -o wide: pool-a" "$out" '^pool-a +198\.18\.0\.0/24 +true +Always +Never +false +false +all\(\)$'
expect "get ippool -o wide: pool-b" "$out" '^pool-b +198\.18\.1\.0/24 +false +Never +CrossSubnet +true +false +rack == "r1"$'
for k in ippools IPPool ipp pools; do
	[ "$(pmctl get $k)" = "$(pmctl get ippool)" ] || fail "get $k"
done
ok "plural, short and any-case kind names"
out=$(pmctl get bgppeers)
expect "bgp peers: global" "$out" '^rr-global +192\.0\.2\.10 +\(global\) +64512$'
expect "bgp peers: node" "$out" '^rr-node1 +192\.0\.2\.11:1790 +node1 +65001$'
out=$(pmctl get nodes -o wide)
expect "nodes: inherited AS in parentheses" "$out" '^node1 +\(64513\) +192\.0\.2\.1/24 *$'
expect "nodes: own AS" "$out" '^node2 +64600 +192\.0\.2\.2/24 +2001:db8::2/64$'
expect "bgpconfig" "$(pmctl get bgpconfig)" '^default +Info +false +64513$'
out=$(pmctl get wep)
expect "weps of the default namespace" "$out" '^pod-a +node1 +198\.18\.0\.2/32 +cali0a$'
grep -q pod-b <<<"$out" && fail "get wep shows another namespace: $out"
out=$(pmctl get weps -A -o wide)
expect "weps -A -o wide" "$out" '^kube-system +node2-k8s-pod--b-eth0 +pod-b +node2 +198\.18\.0\.66/32 +cali0b'
expect "weps -n" "$(pmctl get wep -n kube-system)" '^pod-b '
expect "clusterinfo" "$(pmctl get clusterinfo -o wide)" '^default +k8s,bgp +v3\.21\.0 +true$'
out=$(pmctl get ippool nope 2>&1) && fail "get of a missing name: $out"
expect "get of a missing name" "$out" 'resource does not exist: IPPool\(nope\)'
out=$(pmctl get profiles 2>&1) && fail "unknown kind: $out"
expect "get of an unknown kind" "$out" "unknown resource type 'profiles'"

# ---------------------------------------------------------------------------
step "get -o yaml|json: calicoctl's shape"
mod=$(ectl get "$P/ippools/pool-a" -w json | jq -r '.kvs[0].mod_revision')
out=$(pmctl get ippool pool-a -o yaml)
expect "yaml: apiVersion" "$out" '^apiVersion: projectcalico.org/v3$'
expect "yaml: kind" "$out" '^kind: IPPool$'
expect "yaml: resourceVersion is etcd's mod_revision" "$out" \
    "^  resourceVersion: \"$mod\"\$"
expect "yaml: creationTimestamp" "$out" '^  creationTimestamp: "?[0-9-]+T[0-9:]+Z"?$'
expect "yaml: spec" "$out" '^  cidr: 198\.18\.0\.0/24$'
rev=$(ectl get /calico -w json | jq -r .header.revision)
out=$(pmctl get ippool -o json)
jq -e --arg rev "$rev" '.kind == "IPPoolList" and
    .apiVersion == "projectcalico.org/v3" and
    .metadata.resourceVersion == $rev and (.items | length) == 2 and
    .items[0].kind == "IPPool" and .items[0].metadata.name == "pool-a" and
    (.items[1].metadata.resourceVersion | test("^[0-9]+$"))' <<<"$out" \
    >/dev/null || fail "get -o json list: $out"
ok "a list is an IPPoolList at the listing's revision"
out=$(pmctl get wep -A -o yaml)
expect "a list in yaml" "$out" '^kind: WorkloadEndpointList$'

# ---------------------------------------------------------------------------
step "round trip: apply what get printed changes nothing"
before=$(snapshot)
for k in ippool bgppeer bgpconfig node clusterinfo; do
	pmctl get $k -o yaml >"$PM_TMP/rt-$k.yaml" || fail "get $k -o yaml"
	out=$(pmctl apply -f "$PM_TMP/rt-$k.yaml" 2>&1) || fail "apply $k: $out"
	expect "apply get -o yaml of $k" "$out" '^Successfully applied [0-9]+ .*resource\(s\), ([0-9]+) unchanged$'
done
pmctl get wep -A -o json | pmctl apply -f - >/dev/null || fail "json from stdin"
pmctl get ippool pool-b -o yaml | pmctl replace -f - >/dev/null || fail "replace of itself"
after=$(snapshot)
[ "$before" = "$after" ] || fail "the round trip changed etcd: $(diff <(echo "$before") <(echo "$after"))"
ok "every key, value and revision as before"

# ---------------------------------------------------------------------------
step "apply and replace: updates"
uid=$(value "$P/ippools/pool-a" | jq -r .metadata.uid)
cts=$(value "$P/ippools/pool-a" | jq -r .metadata.creationTimestamp)
pmctl get ippool pool-a -o yaml | sed 's/natOutgoing: true/natOutgoing: false/' \
    >"$PM_TMP/pool-a.yaml"
out=$(pmctl apply -f "$PM_TMP/pool-a.yaml") || fail "apply: $out"
expect "apply an update" "$out" "^Successfully applied 1 'IPPool' resource\(s\)$"
v=$(value "$P/ippools/pool-a")
jq -e --arg uid "$uid" --arg cts "$cts" '.metadata.uid == $uid and
    .metadata.creationTimestamp == $cts and (.spec | has("natOutgoing") | not)' \
    <<<"$v" >/dev/null || fail "updated pool: $v"
ok "uid and creationTimestamp kept"
refused "apply with a stale resourceVersion" \
    'pool-a\.yaml:[0-9]+: document 1: metadata\.resourceVersion: update conflict: IPPool\(pool-a\) is at resourceVersion [0-9]+, not [0-9]+' \
    pmctl apply -f "$PM_TMP/pool-a.yaml"
refused "replace with a stale resourceVersion" 'metadata\.resourceVersion: update conflict' \
    pmctl replace -f "$PM_TMP/pool-a.yaml"
grep -v resourceVersion "$PM_TMP/pool-a.yaml" | sed 's/ipipMode: Always/ipipMode: CrossSubnet/' \
    >"$PM_TMP/pool-a2.yaml"
out=$(pmctl replace -f "$PM_TMP/pool-a2.yaml") || fail "replace: $out"
expect "replace without resourceVersion" "$out" "^Successfully replaced 1 'IPPool' resource\(s\)$"
[ "$(value "$P/ippools/pool-a" | jq -r .spec.ipipMode)" = CrossSubnet ] || fail "replace did not land"
sed 's/name: pool-a/name: pool-z/' "$PM_TMP/pool-a2.yaml" >"$PM_TMP/pool-z.yaml"
refused "replace of a missing resource" \
    'pool-z\.yaml:[0-9]+: document 1: metadata\.name: resource does not exist: IPPool\(pool-z\)' \
    pmctl replace -f "$PM_TMP/pool-z.yaml"
sed 's|cidr: 198.18.0.0/24|cidr: 198.18.7.0/24|' "$PM_TMP/pool-a2.yaml" >"$PM_TMP/pool-a3.yaml"
refused "an IPPool's CIDR is fixed" \
    "pool-a3\.yaml:[0-9]+: document 1: spec\.cidr: IPPool\(pool-a\): an IPPool's CIDR cannot be changed" \
    pmctl apply -f "$PM_TMP/pool-a3.yaml"

# ---------------------------------------------------------------------------
step "bad input: file, document and field named; nothing written"
# each file starts with a good new resource, so a partial write would show
good='apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: innocent}
spec: {peerIP: 192.0.2.99, asNumber: 65099}
---'
bad() {
	printf '%s\n%s' "$good" "$2" >"$PM_TMP/$1.yaml"
}
bad malformed 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: m
spec:
  cidr: [198.18.5.0/24
'
refused "malformed YAML" 'malformed\.yaml:[0-9]+: document 2: did not find expected' \
    pmctl apply -f "$PM_TMP/malformed.yaml"
bad unknownkind 'apiVersion: projectcalico.org/v3
kind: IPPoool
metadata: {name: x}
'
refused "unknown kind" 'unknownkind\.yaml:7: document 2: kind: unknown kind "IPPoool"' \
    pmctl apply -f "$PM_TMP/unknownkind.yaml"
bad badcidr 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: c
spec:
  ipipMode: Always
  cidr: 198.18.300.0/24
'
refused "invalid CIDR" 'badcidr\.yaml:12: document 2: spec\.cidr: invalid CIDR "198\.18\.300\.0/24"' \
    pmctl create -f "$PM_TMP/badcidr.yaml"
bad dup 'apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: innocent
spec: {peerIP: 192.0.2.98, asNumber: 65098}
'
refused "a duplicate name" 'dup\.yaml:9: document 2: metadata\.name: BGPPeer innocent given twice \(also in document 1\)' \
    pmctl apply -f "$PM_TMP/dup.yaml"
bad unknownfield 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: u}
spec:
  cidr: 198.18.6.0/24
  natOutgoin: true
'
refused "an unknown field" 'unknownfield\.yaml:11: document 2: spec\.natOutgoin: unknown field' \
    pmctl apply -f "$PM_TMP/unknownfield.yaml"
bad badmode 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: u}
spec:
  cidr: 198.18.6.0/24
  ipipMode: Sometimes
'
refused "an invalid ipipMode" 'badmode\.yaml:11: document 2: spec\.ipipMode: ' \
    pmctl apply -f "$PM_TMP/badmode.yaml"
bad badblock 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: u}
spec:
  cidr: 198.18.6.0/24
  blockSize: 19
'
refused "block size 19" 'badblock\.yaml:11: document 2: spec\.blockSize: ' \
    pmctl apply -f "$PM_TMP/badblock.yaml"
bad exists 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: pool-b
spec:
  cidr: 198.18.1.0/24
'
refused "create of an existing resource" \
    'exists\.yaml:9: document 2: metadata\.name: resource already exists: IPPool\(pool-b\)' \
    pmctl create -f "$PM_TMP/exists.yaml"
bad overlap 'apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: o}
spec:
  cidr: 198.18.0.128/25
'
refused "overlapping pools" \
    'overlap\.yaml:10: document 2: spec\.cidr: IPPool\(o\) CIDR 198\.18\.0\.128/25 overlaps with IPPool\(pool-a\) CIDR 198\.18\.0\.0/24' \
    pmctl apply -f "$PM_TMP/overlap.yaml"
printf '%s\n' "$good" | sed '$d' | sed 's/peerIP: 192.0.2.99/peerIP: 192.0.2.999/' >"$PM_TMP/badip.json"
refused "an invalid peer IP, from stdin" 'stdin:4: document 1: spec\.peerIP' \
    sh -c "'$CTL' -c '$CFG' apply -f - <'$PM_TMP/badip.json'"
: >"$PM_TMP/empty.yaml"
refused "an empty file" 'empty\.yaml: no resources' pmctl apply -f "$PM_TMP/empty.yaml"
out=$(pmctl create 2>&1)
[ $? -eq 2 ] || fail "create without -f: $out"
expect "create without -f: a usage error" "$out" 'create needs -f FILE'
out=$(pmctl create -f "$PM_TMP/exists.yaml" --skip-exists) || fail "--skip-exists: $out"
expect "--skip-exists" "$out" "^Successfully created 2 resource\(s\), 1 skipped \(existed\)$"
[ -n "$(value "$P/bgppeers/innocent")" ] || fail "--skip-exists did not create the new one"
pmctl delete bgppeer innocent >/dev/null || fail "delete innocent"

# ---------------------------------------------------------------------------
step "all or nothing: two writers create overlapping files at once"
for round in 1 2 3 4 5; do
	for w in x y; do
		{
			for i in 1 2 3 4 5 6; do
				printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: %s%d-%d}\nspec: {peerIP: 203.0.113.%d, asNumber: 65000}\n' \
				    "$w" "$round" "$i" "$i"
			done
			printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: shared-%d}\nspec: {peerIP: 203.0.113.200, asNumber: 6500%d}\n' \
			    "$round" "$([ $w = x ] && echo 1 || echo 2)"
		} >"$PM_TMP/race-$w.yaml"
		cat "$PM_TMP/race-$w.yaml" >>"$PM_TMP/race-all-$w.yaml"
	done
	pmctl create -f "$PM_TMP/race-x.yaml" >"$PM_TMP/race-x.out" 2>&1 &
	px=$!
	pmctl create -f "$PM_TMP/race-y.yaml" >"$PM_TMP/race-y.out" 2>&1 &
	py=$!
	rx=0
	ry=0
	wait $px || rx=$?
	wait $py || ry=$?
	[ $((rx == 0)) -ne $((ry == 0)) ] ||
	    fail "round $round: exactly one create must win: x=$rx $(cat "$PM_TMP/race-x.out") y=$ry $(cat "$PM_TMP/race-y.out")"
	winner=x loser=y
	[ $rx -eq 0 ] || { winner=y; loser=x; }
	n_w=$(ectl get --prefix "$P/bgppeers/$winner$round-" --keys-only | grep -c .)
	n_l=$(ectl get --prefix "$P/bgppeers/$loser$round-" --keys-only | grep -c . || true)
	[ "$n_w" -eq 6 ] && [ "$n_l" -eq 0 ] ||
	    fail "round $round: winner $winner has $n_w of 6, loser $loser $n_l of 0"
	grep -q "resource already exists: BGPPeer(shared-$round)" "$PM_TMP/race-$loser.out" ||
	    fail "round $round: the loser's message: $(cat "$PM_TMP/race-$loser.out")"
done
ok "5 rounds: one file whole, the other not at all"

# ---------------------------------------------------------------------------
step "delete"
out=$(pmctl delete -f "$PM_TMP/race-all-x.yaml" --skip-not-exists 2>&1) ||
    fail "delete -f: $out"
# x may have won every round (1 in 32): then nothing was skipped
expect "delete -f --skip-not-exists" "$out" "^Successfully deleted 35 'BGPPeer' resource\(s\)(, [0-9]+ skipped \(did not exist\))?$"
pmctl delete -f "$PM_TMP/race-all-y.yaml" --skip-not-exists >/dev/null ||
    fail "delete -f y"
left=$(ectl get --prefix "$P/bgppeers/" --keys-only | grep -E 'peers/(x|y|shared)' || true)
[ -z "$left" ] || fail "race peers left: $left"
refused "delete of a missing resource" 'resource does not exist: BGPPeer\(nope\)' \
    pmctl delete bgppeer nope
refused "delete -f with a stale resourceVersion" 'metadata\.resourceVersion: update conflict' \
    pmctl delete -f "$PM_TMP/pool-a.yaml"
out=$(pmctl delete wep node2-k8s-pod--b-eth0 2>&1) && fail "delete in the wrong namespace: $out"
out=$(pmctl delete wep node2-k8s-pod--b-eth0 -n kube-system) || fail "delete -n: $out"
expect "delete KIND NAME -n NS" "$out" "^Successfully deleted 1 'WorkloadEndpoint' resource\(s\)$"
[ -z "$(value "$P/workloadendpoints/kube-system/node2-k8s-pod--b-eth0")" ] || fail "wep still there"
cat >"$PM_TMP/nons.yaml" <<'EOF'
apiVersion: projectcalico.org/v3
kind: WorkloadEndpoint
metadata: {name: node2-k8s-pod--e-eth0}
spec: {orchestrator: k8s, node: node2, pod: pod-e, endpoint: eth0, ipNetworks: [198.18.0.70/32]}
EOF
pmctl apply -f "$PM_TMP/nons.yaml" -n other >/dev/null || fail "apply -n other"
pmctl apply -f "$PM_TMP/nons.yaml" >/dev/null || fail "apply without a namespace"
[ -n "$(value "$P/workloadendpoints/other/node2-k8s-pod--e-eth0")" ] &&
    [ -n "$(value "$P/workloadendpoints/default/node2-k8s-pod--e-eth0")" ] ||
    fail "no namespace in the file: -n NS, else default"
ok "no namespace in the file: -n NS, else \"default\", as calicoctl"
pmctl delete -f "$PM_TMP/nons.yaml" -n other >/dev/null || fail "delete -f -n"
pmctl delete -f "$PM_TMP/nons.yaml" >/dev/null || fail "delete -f default"

# ---------------------------------------------------------------------------
step "more writes than one transaction: refused, or --allow-partial"
for i in $(seq 1 150); do
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: many-%03d}\nspec: {peerIP: 198.51.100.%d, asNumber: 65100}\n' \
	    "$i" "$((i % 250 + 1))"
done >"$PM_TMP/many.yaml"
refused "150 creates: more than one transaction takes, refused" \
    "many\.yaml: 150 writes \([0-9]+ bytes\) do not fit one etcd transaction \(etcd takes 128 operations and 1572864 bytes by default\); nothing was written$" \
    pmctl create -f "$PM_TMP/many.yaml"
out=$(pmctl create -f "$PM_TMP/many.yaml" --allow-partial) || fail "150 creates, --allow-partial: $out"
expect "--allow-partial: said so" "$out" '^Note: 150 writes \([0-9]+ bytes\) are more than one etcd transaction takes; writing them in several \(--allow-partial\)'
expect "--allow-partial: done" "$out" "^Successfully created 150 'BGPPeer' resource\(s\)$"
[ "$(ectl get --prefix "$P/bgppeers/many-" --keys-only | grep -c .)" -eq 150 ] || fail "not 150"
revs=$(ectl get --prefix "$P/bgppeers/many-" -w json | jq '[.kvs[].mod_revision] | unique | length')
[ "$revs" -eq 2 ] || fail "150 creates in $revs transactions, wanted 2 (128 + 22)"
ok "150 creates in two transactions (128 + 22)"
out=$(pmctl apply -f "$PM_TMP/many.yaml") || fail "apply 150 unchanged: $out"
[ "$out" = "Successfully applied 150 'BGPPeer' resource(s), 150 unchanged" ] ||
    fail "150 unchanged: $out"
ok "150 unchanged: nothing to write, no --allow-partial needed"
refused "150 creates that exist: still checked first" \
    "many\.yaml:[0-9]+: document 150: metadata\.name: resource already exists" \
    pmctl create -f "$PM_TMP/many.yaml" --allow-partial
refused "delete 150: refused without --allow-partial" 'do not fit one etcd transaction' \
    pmctl delete -f "$PM_TMP/many.yaml"
pmctl delete -f "$PM_TMP/many.yaml" --allow-partial >/dev/null || fail "delete 150"
[ -z "$(ectl get --prefix "$P/bgppeers/many-" --keys-only)" ] || fail "many left"
ok "deleted, with --allow-partial"

# an etcd that takes fewer: it refuses the transaction, so do we, unless
# --allow-partial, which then halves the transactions until they fit
etcd_start small --max-txn-ops 8
printf 'datastore: {endpoints: %s}\n' "$ETCD_URL" >"$PM_TMP/small.cfg"
SURL=$ETCD_URL
head -50 "$PM_TMP/many.yaml" >"$PM_TMP/ten.yaml" # 10 documents
sbefore=$(ETCDCTL_API=3 etcdctl --endpoints "$SURL" get --prefix /calico -w json | jq -c .kvs)
out=$("$CTL" -c "$PM_TMP/small.cfg" apply -f "$PM_TMP/ten.yaml" 2>&1) &&
    fail "10 writes on --max-txn-ops 8, no --allow-partial: $out"
expect "etcd's own limit: refused, said why" "$out" 'etcd refused it as too large: its --max-txn-ops or --max-request-bytes is below the defaults\); nothing was written$'
expect "and what --allow-partial does" "$out" '^podmeshctl: --allow-partial writes them in several transactions, each all or nothing'
[ "$sbefore" = "$(ETCDCTL_API=3 etcdctl --endpoints "$SURL" get --prefix /calico -w json | jq -c .kvs)" ] ||
    fail "etcd's own limit: something was written"
ok "etcd's own limit: nothing written"
out=$("$CTL" -c "$PM_TMP/small.cfg" apply -f "$PM_TMP/ten.yaml" --allow-partial) ||
    fail "10 writes on --max-txn-ops 8: $out"
expect "etcd's own limit, --allow-partial: done" "$out" "^Successfully applied 10 'BGPPeer' resource\(s\)$"
revs=$(ETCDCTL_API=3 etcdctl --endpoints "$SURL" get --prefix "$P/bgppeers/many-" -w json |
    jq '[.kvs[].mod_revision] | unique | length')
[ "$revs" -eq 2 ] || fail "10 writes on --max-txn-ops 8 in $revs transactions, wanted 2 of 5"
ok "etcd's own limit, --allow-partial: two transactions of 5"
out=$("$CTL" -c "$PM_TMP/small.cfg" apply -f "$PM_TMP/ten.yaml") ||
    fail "10 unchanged on --max-txn-ops 8: $out"
[ "$out" = "Successfully applied 10 'BGPPeer' resource(s), 10 unchanged" ] ||
    fail "10 unchanged on --max-txn-ops 8: $out"
ok "10 unchanged on --max-txn-ops 8: nothing to write"
head -30 "$PM_TMP/many.yaml" | sed 's/name: many-/name: six-/' >"$PM_TMP/six.yaml"
out=$("$CTL" -c "$PM_TMP/small.cfg" apply -f "$PM_TMP/six.yaml" 2>&1)
[ "$out" = "Successfully applied 6 'BGPPeer' resource(s)" ] ||
    fail "6 writes fit 8: $out"
ok "and writes that fit stay in one transaction"
etcd_stop small

# ---------------------------------------------------------------------------
step "large resources: etcd's 1.5 MiB request, counted as etcd counts it"
# bigpeer NAME BYTES: a BGPPeer carrying an annotation of BYTES bytes
bigpeer() {
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata:\n  name: %s\n  annotations:\n    blob: %s\nspec: {peerIP: 192.0.2.%d, asNumber: 65200}\n' \
	    "$1" "$(head -c "$2" /dev/zero | tr '\0' x)" "$((RANDOM % 200 + 1))"
}
# one of 1.4 MiB: more than 1 MiB once base64'd, yet one request for etcd
{
	bigpeer big-a 1468006
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: small-a}\nspec: {peerIP: 192.0.2.201, asNumber: 65200}\n'
} >"$PM_TMP/big1.yaml"
out=$(pmctl create -f "$PM_TMP/big1.yaml" 2>&1) || fail "a 1.4 MiB resource: $out"
[ "$out" = "Successfully created 2 'BGPPeer' resource(s)" ] || fail "a 1.4 MiB resource: $out"
revs=$(ectl get --prefix "$P/bgppeers/" -w json |
    jq '[.kvs[] | select((.key | @base64d) | test("/(big|small)-a$")) | .mod_revision] | unique | length')
[ "$revs" -eq 1 ] || fail "a 1.4 MiB resource and a small one: $revs transactions"
ok "a 1.4 MiB resource and another in one transaction"
[ "$(value "$P/bgppeers/big-a" | jq '.metadata.annotations.blob | length')" -eq 1468006 ] ||
    fail "big-a stored wrong"
# three of 600 KiB fit no transaction together: refused, nothing written
{
	bigpeer big-b 614400
	bigpeer big-c 614400
	bigpeer big-d 614400
} >"$PM_TMP/big3.yaml"
refused "three of 600 KiB: too big together, refused" \
    'big3\.yaml: 3 writes \(18[0-9]{5} bytes\) do not fit one etcd transaction \(etcd takes 128 operations and 1572864 bytes by default\); nothing was written' \
    pmctl apply -f "$PM_TMP/big3.yaml"
out=$(pmctl apply -f "$PM_TMP/big3.yaml" --allow-partial) || fail "three of 600 KiB, --allow-partial: $out"
expect "three of 600 KiB, --allow-partial" "$out" "^Successfully applied 3 'BGPPeer' resource\(s\)$"
revs=$(ectl get --prefix "$P/bgppeers/big-" -w json |
    jq '[.kvs[] | select((.key | @base64d) | test("/big-[bcd]$")) | .mod_revision] | unique | length')
[ "$revs" -eq 2 ] || fail "three of 600 KiB in $revs transactions, wanted 2"
ok "three of 600 KiB, --allow-partial: two transactions"
# one too big for any request: an error with file and document, up front
{
	printf -- '---\napiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: small-b}\nspec: {peerIP: 192.0.2.202, asNumber: 65200}\n'
	bigpeer big-e 1610612
} >"$PM_TMP/huge.yaml"
refused "a resource over 1.5 MiB: an error, nothing written" \
    'huge\.yaml:[0-9]+: document 2: metadata\.name: BGPPeer\(big-e\): 16[0-9]{5} bytes to write, more than etcd takes in one request \(1572864 bytes' \
    pmctl apply -f "$PM_TMP/huge.yaml" --allow-partial
for n in big-a small-a big-b big-c big-d; do
	pmctl delete bgppeer $n >/dev/null || fail "delete $n"
done

exit 0
