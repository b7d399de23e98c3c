#!/bin/bash
# docker/install-cni.sh against a temporary root (--root), with fake etcd
# TLS secrets and the real plugins: binaries copied and executable, TLS
# files copied 0600, 10-podmesh.conflist valid JSON with every placeholder
# filled (node name, endpoints, TLS paths as the host sees them, MTU, log
# level, kubeconfig), a re-run changes nothing, the default config, and
# bad inputs (missing or dangling secret, unknown placeholder, invalid
# JSON, missing plugin, bad MTU) fail naming the problem and leave the
# previous conflist alone.  The written config goes through
# podmesh-cnitool version and the plugin's own config parser.  Run with
# dash: the script is POSIX sh, as in the image.  SLEEP=true reinstalls a
# changed secret.  No namespaces.  ~5 s
. "$(dirname "$0")/lib.sh"

SCRIPT=$PODMESH_SRC/docker/install-cni.sh
CNI=$PODMESH_BUILD/cni
SH=$(command -v dash || echo sh)
[ -x "$SCRIPT" ] || fail "$SCRIPT missing or not executable"
for b in podmesh podmesh-ipam podmesh-cnitool; do
	[ -x "$CNI/$b" ] || fail "$CNI/$b not built"
done

ROOT=$PM_TMP/root
NET=$ROOT/host/etc/cni/net.d
BIN=$ROOT/host/opt/cni/bin
CONF=$NET/10-podmesh.conflist
SECRETS=$ROOT/calico-secrets
EP="https://192.0.2.1:2379,https://192.0.2.2:2379"
mkdir -p "$SECRETS"
printf -- '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n' >"$SECRETS/etcd-ca"
printf -- '-----BEGIN CERTIFICATE-----\ncert\n-----END CERTIFICATE-----\n' >"$SECRETS/etcd-cert"
printf -- '-----BEGIN PRIVATE KEY-----\nkey\n-----END PRIVATE KEY-----\n' >"$SECRETS/etcd-key"

# A Calico-style template using every placeholder install-cni knows.
TEMPLATE='{
  "name": "k8s-pod-network",
  "cniVersion": "0.3.1",
  "plugins": [
    {
      "type": "podmesh",
      "log_level": "__LOG_LEVEL__",
      "etcd_endpoints": "__ETCD_ENDPOINTS__",
      "etcd_key_file": "__ETCD_KEY_FILE__",
      "etcd_cert_file": "__ETCD_CERT_FILE__",
      "etcd_ca_cert_file": "__ETCD_CA_CERT_FILE__",
      "nodename": "__KUBERNETES_NODE_NAME__",
      "mtu": __CNI_MTU__,
      "ipam": {"type": "podmesh-ipam", "assign_ipv4": "true"},
      "kubernetes": {"kubeconfig": "__KUBECONFIG_FILEPATH__"}
    },
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
  ]
}'

# run_install ROOT [VAR=VALUE...]: install-cni.sh --root ROOT with the test's
# defaults and the given overrides; stderr in $PM_TMP/err; returns its status.
run_install() {
	local root=$1
	shift
	env SRC_DIR="$CNI" KUBERNETES_NODE_NAME=node-1 ETCD_ENDPOINTS="$EP" \
	    CNI_MTU=1440 LOG_LEVEL=info CNI_NETWORK_CONFIG="$TEMPLATE" "$@" \
	    "$SH" "$SCRIPT" --root "$root" 2>"$PM_TMP/err"
}

# jq_eq FILTER VALUE: the conflist's FILTER is VALUE (compared as JSON).
jq_eq() {
	local got
	got=$(jq -c "$1" "$CONF") || fail "jq $1 on $CONF"
	[ "$got" = "$2" ] || fail "$1 = $got, expected $2"
}

# tree_sum: checksums and modes of everything install-cni writes
tree_sum() {
	(cd "$ROOT/host" && find . -type f -printf '%p %m ' -exec sha256sum {} \; | sort)
}

step "install into an empty root"
run_install "$ROOT" || fail "install-cni failed: $(cat "$PM_TMP/err")"
for b in podmesh podmesh-ipam; do
	[ -f "$BIN/$b" ] && [ -x "$BIN/$b" ] || fail "$BIN/$b not installed executable"
	cmp -s "$CNI/$b" "$BIN/$b" || fail "$BIN/$b differs from the build's"
done
[ -e "$BIN/podmesh-cnitool" ] && fail "podmesh-cnitool is no plugin: not installed"
for k in etcd-ca etcd-cert etcd-key; do
	f=$NET/podmesh-tls/$k
	cmp -s "$SECRETS/$k" "$f" || fail "$f not a copy of the secret's $k"
	m=$(stat -c %a "$f")
	[ "$m" = 600 ] || fail "$f has mode $m, expected 600"
done
m=$(stat -c %a "$NET/podmesh-tls")
[ "$m" = 700 ] || fail "$NET/podmesh-tls has mode $m, expected 700"
m=$(stat -c %a "$NET")
[ "$m" = 755 ] || fail "$NET has mode $m, expected 755 (kubelet reads it)"
jq -e . "$CONF" >/dev/null || fail "$CONF is not valid JSON: $(cat "$CONF")"
grep -q '__' "$CONF" && fail "placeholder left in $CONF: $(grep '__' "$CONF")"
jq_eq '.plugins[0].nodename' '"node-1"'
jq_eq '.plugins[0].etcd_endpoints' "\"$EP\""
jq_eq '.plugins[0].etcd_ca_cert_file' '"/etc/cni/net.d/podmesh-tls/etcd-ca"'
jq_eq '.plugins[0].etcd_cert_file' '"/etc/cni/net.d/podmesh-tls/etcd-cert"'
jq_eq '.plugins[0].etcd_key_file' '"/etc/cni/net.d/podmesh-tls/etcd-key"'
jq_eq '.plugins[0].mtu' '1440'
jq_eq '.plugins[0].log_level' '"info"'
jq_eq '.plugins[0].kubernetes.kubeconfig' '"/etc/cni/net.d/podmesh-kubeconfig"'
jq_eq '.plugins[0].ipam' '{"type":"podmesh-ipam","assign_ipv4":"true"}'
jq_eq '[.plugins[].type]' '["podmesh","portmap"]'
[ -z "$(find "$ROOT" -name '*.tmp')" ] || fail "temp files left: $(find "$ROOT" -name '*.tmp')"
ok "plugins, TLS files (0600) and a filled conflist"

step "a second run changes nothing"
before=$(tree_sum)
run_install "$ROOT" || fail "second run failed: $(cat "$PM_TMP/err")"
after=$(tree_sum)
[ "$before" = "$after" ] || fail "second run changed files: $(diff <(echo "$before") <(echo "$after"))"
ok "idempotent"

step "the written config through podmesh-cnitool and the plugin's parser"
out=$(CNI_PATH="$BIN:/usr/lib/cni" "$CNI/podmesh-cnitool" version "$CONF") ||
    fail "podmesh-cnitool version $CONF: $out"
[ "$(jq -r '[.[].type] | join(",")' <<<"$out")" = "podmesh,portmap" ] ||
    fail "cnitool version: $out"
ok "cnitool runs both plugins from CNI_BIN_DIR"

step "defaults: no CNI_NETWORK_CONFIG, no TLS (empty secret keys), hostname"
R2=$PM_TMP/root2
mkdir -p "$R2/calico-secrets"
: >"$R2/calico-secrets/etcd-ca"
: >"$R2/calico-secrets/etcd-cert"
: >"$R2/calico-secrets/etcd-key"
env -u KUBERNETES_NODE_NAME -u CNI_NETWORK_CONFIG -u ETCD_ENDPOINTS \
    -u CNI_MTU -u LOG_LEVEL SRC_DIR="$CNI" "$SH" "$SCRIPT" --root "$R2" \
    2>"$PM_TMP/err" || fail "defaults: $(cat "$PM_TMP/err")"
C2=$R2/host/etc/cni/net.d/10-podmesh.conflist
[ "$(jq -c '[.cniVersion, .plugins[0].type, .plugins[0].ipam.type, .plugins[1].type]' "$C2")" = \
    '["1.0.0","podmesh","podmesh-ipam","portmap"]' ] || fail "default config: $(cat "$C2")"
[ "$(jq -r '.plugins[0].nodename' "$C2")" = "$(hostname)" ] || fail "node name not the hostname"
[ "$(jq -c '[.plugins[0].etcd_ca_cert_file, .plugins[0].etcd_cert_file, .plugins[0].etcd_key_file, .plugins[0].etcd_endpoints, .plugins[0].mtu, .plugins[0].log_level]' "$C2")" = \
    '["","","","http://127.0.0.1:2379",1500,"warn"]' ] || fail "default values: $(cat "$C2")"
[ -e "$R2/host/etc/cni/net.d/podmesh-tls" ] && fail "podmesh-tls made without TLS"
# the plugin takes the entry: it gets past its config (error 7 would name
# a field) to the missing netns (error 8)
entry=$(jq '.plugins[0] + {name: .name, cniVersion: .cniVersion} | .etcd_endpoints = "http://127.0.0.1:9"' "$C2")
out=$(CNI_COMMAND=ADD CNI_CONTAINERID=t-install-cni CNI_NETNS=$PM_TMP/nonexistent \
    CNI_IFNAME=eth0 CNI_PATH="$R2/host/opt/cni/bin" \
    "$R2/host/opt/cni/bin/podmesh" <<<"$entry" 2>"$PM_TMP/plugin.err")
[ "$(jq -r .code <<<"$out")" = 8 ] || fail "plugin on the default config: $out"
ok "default conflist (cniVersion 1.0.0, no TLS) parsed by the plugin"

step "CNI_NETWORK_CONFIG_FILE"
R3=$PM_TMP/root3
printf '%s\n' "$TEMPLATE" >"$PM_TMP/template.json"
run_install "$R3" CNI_NETWORK_CONFIG= CNI_NETWORK_CONFIG_FILE="$PM_TMP/template.json" \
    SECRETS_DIR=/nonexistent || fail "from a file: $(cat "$PM_TMP/err")"
[ "$(jq -r '.plugins[0].nodename + " " + .plugins[0].etcd_ca_cert_file' "$R3/host/etc/cni/net.d/10-podmesh.conflist")" = "node-1 " ] ||
    fail "from a file: $(cat "$R3/host/etc/cni/net.d/10-podmesh.conflist")"
ok "template from a file, no secrets dir"

# expect_fail WHAT MESSAGE [VAR=VALUE...]: install-cni fails (status 1)
# saying MESSAGE, the conflist is byte for byte the previous one (and every
# other installed file too), no temp file is left.
cp "$CONF" "$PM_TMP/good.conflist"
expect_fail() {
	local what=$1 msg=$2 rc
	shift 2
	run_install "$ROOT" "$@"
	rc=$?
	[ "$rc" = 1 ] || fail "$what: status $rc, expected 1: $(cat "$PM_TMP/err")"
	grep -qF -- "$msg" "$PM_TMP/err" ||
	    fail "$what: expected '$msg' in: $(cat "$PM_TMP/err")"
	cmp -s "$CONF" "$PM_TMP/good.conflist" || fail "$what: $CONF changed"
	[ "$(tree_sum)" = "$before" ] || fail "$what: installed files changed"
	[ -z "$(find "$ROOT" -name '*.tmp')" ] || fail "$what: temp files left"
	ok "$what: $(tail -n 1 "$PM_TMP/err")"
}

step "bad inputs fail and keep the previous conflist"
expect_fail "unknown placeholder" \
    "unknown placeholder(s) left in CNI_NETWORK_CONFIG: __FOO_BAR__" \
    CNI_NETWORK_CONFIG="${TEMPLATE/__LOG_LEVEL__/__FOO_BAR__}"
expect_fail "invalid JSON" "CNI_NETWORK_CONFIG is not valid JSON after substitution" \
    CNI_NETWORK_CONFIG="${TEMPLATE/\"portMappings\": true/\"portMappings\" true}"
expect_fail "not an object" "not a JSON object" CNI_NETWORK_CONFIG='["podmesh"]'
expect_fail "bad MTU" "CNI_MTU '15x0' is not a number" CNI_MTU=15x0
expect_fail "missing plugin" "plugin $PM_TMP/empty/podmesh is missing" \
    SRC_DIR="$PM_TMP/empty"
expect_fail "unreadable template file" "CNI_NETWORK_CONFIG_FILE $PM_TMP/none is not readable" \
    CNI_NETWORK_CONFIG= CNI_NETWORK_CONFIG_FILE="$PM_TMP/none"
mv "$SECRETS/etcd-key" "$PM_TMP/etcd-key"
expect_fail "missing secret file" "has etcd-cert but no etcd-key"
# a Kubernetes secret volume holds symlinks into ..data/
ln -s ..data/etcd-key "$SECRETS/etcd-key"
expect_fail "dangling secret link" "secret $SECRETS/etcd-key is a dangling link"
rm "$SECRETS/etcd-key"
mkdir "$SECRETS/etcd-key"
expect_fail "secret not a file" "secret $SECRETS/etcd-key is not a readable file"
rmdir "$SECRETS/etcd-key"
mv "$PM_TMP/etcd-key" "$SECRETS/etcd-key"

step "SLEEP=true: a changed secret is installed again"
# env execs the script: $! is install-cni's own pid
env SRC_DIR="$CNI" KUBERNETES_NODE_NAME=node-1 ETCD_ENDPOINTS="$EP" \
    CNI_MTU=1440 LOG_LEVEL=info CNI_NETWORK_CONFIG="$TEMPLATE" SLEEP=true \
    SLEEP_INTERVAL=0.2 "$SH" "$SCRIPT" --root "$ROOT" 2>"$PM_TMP/err" &
SPID=$!
PM_PID[install-cni:sleep]=$SPID
wait_until 5 grep -q "wrote $CONF" "$PM_TMP/err" || fail "SLEEP=true: first install: $(cat "$PM_TMP/err")"
kill -0 "$SPID" 2>/dev/null || fail "SLEEP=true exited"
printf -- '-----BEGIN CERTIFICATE-----\nnew ca\n-----END CERTIFICATE-----\n' >"$SECRETS/etcd-ca"
wait_until 5 cmp -s "$SECRETS/etcd-ca" "$NET/podmesh-tls/etcd-ca" ||
    fail "SLEEP=true: new etcd-ca not installed: $(cat "$PM_TMP/err")"
grep -q 'the etcd secret changed' "$PM_TMP/err" || fail "SLEEP=true: no message"
[ "$(stat -c %a "$NET/podmesh-tls/etcd-ca")" = 600 ] || fail "SLEEP=true: mode"
kill -TERM "$SPID"
rc=0
wait "$SPID" 2>/dev/null || rc=$?
[ "$rc" = 143 ] || fail "SLEEP=true: status $rc on SIGTERM, expected 143"
unset 'PM_PID[install-cni:sleep]'
ok "reinstalled while sleeping"
before=$(tree_sum)

rc=0
"$SH" "$SCRIPT" --bogus 2>"$PM_TMP/err" || rc=$?
[ "$rc" = 2 ] && grep -q "unknown argument '--bogus'" "$PM_TMP/err" ||
    fail "usage error: status $rc: $(cat "$PM_TMP/err")"
"$SH" "$SCRIPT" --help | grep -q 'CNI_NETWORK_CONFIG' || fail "--help"
run_install "$ROOT" || fail "good run after the bad ones: $(cat "$PM_TMP/err")"
[ "$(tree_sum)" = "$before" ] || fail "the good run after the bad ones changed something"
ok "usage errors (2), --help, and a good run restores nothing new"
