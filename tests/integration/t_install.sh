#!/bin/bash
# cmake --install into a staging root (DESTDIR, --prefix /usr): every file
# in its place and nothing else (no test or bench programs); the staged
# binaries run; the CNI plugins answer VERSION; the systemd units name
# binaries and docs that exist in the staged tree and pass
# `systemd-analyze verify` (when present; a unit with a typo must not);
# the example configs pass podmesh-bgpd --check; node-start.sh from the
# staged tree runs podmesh-node, then podmesh-bgpd on a config it writes
# anew at each start (in the container's dir, 0600; --check accepts it),
# refuses control characters and bad values before registering, uses
# PODMESH_BGPD_CONFIG as it is; with PODMESH_BGP=none the real
# podmesh-bgpd serves only the probes (in a namespace of the test); bird
# mode; PODMESH_CNI_BIN_DIR moves the plugins.  ~6 s
. "$(dirname "$0")/lib.sh"

STAGE=$PM_TMP/stage
P=$STAGE/usr

step "cmake --install --prefix /usr with DESTDIR"
DESTDIR=$STAGE cmake --install "$PODMESH_BUILD" --prefix /usr >"$PM_TMP/install.log" 2>&1 ||
    fail "cmake --install: $(tail -5 "$PM_TMP/install.log")"
EXPECT="opt/cni/bin/podmesh
opt/cni/bin/podmesh-ipam
usr/bin/podmesh-bgpd
usr/bin/podmesh-cnitool
usr/bin/podmesh-confd
usr/bin/podmesh-node
usr/bin/podmeshctl
usr/lib/systemd/system/podmesh-bgpd.service
usr/lib/systemd/system/podmesh-confd.service
usr/lib/systemd/system/podmesh-node.service
usr/libexec/podmesh/install-cni.sh
usr/libexec/podmesh/node-start.sh
usr/share/doc/podmesh/README.md
usr/share/doc/podmesh/examples/bgpd.yaml
usr/share/doc/podmesh/examples/confd.env
usr/share/doc/podmesh/examples/node.env
usr/share/doc/podmesh/examples/reflector.yaml"
got=$(cd "$STAGE" && find . -type f | sed 's|^\./||' | sort |
    grep -v -e '^usr/share/podmesh/confd/' -e '^usr/share/doc/podmesh/k8s/')
[ "$got" = "$EXPECT" ] || fail "installed files differ from the expected list: $(diff <(echo "$EXPECT") <(echo "$got"))"
for d in bird1 bird2; do
	for sub in conf.d templates config; do
		[ -d "$P/share/podmesh/confd/$d/$sub" ] || fail "confd $d/$sub not installed"
	done
	n=$(ls "$PODMESH_SRC/confd/dist/$d/templates" | wc -l)
	m=$(ls "$P/share/podmesh/confd/$d/templates" | wc -l)
	[ "$n" = "$m" ] && [ "$n" -gt 0 ] || fail "confd $d templates: $m installed of $n"
	diff -r -x .gitkeep "$PODMESH_SRC/confd/dist/$d" "$P/share/podmesh/confd/$d" >/dev/null ||
	    fail "confd $d differs from confd/dist/$d"
done
for f in "$PODMESH_SRC"/docker/k8s/*.yaml; do
	cmp -s "$f" "$P/share/doc/podmesh/k8s/$(basename "$f")" || fail "k8s manifest $(basename "$f") not installed"
done
ok "$(echo "$got" | wc -l) files + confd templates and manifests, nothing else"

step "the staged programs run"
for b in podmesh-bgpd podmesh-node podmesh-confd podmeshctl; do
	v=$("$P/bin/$b" --version 2>&1) || fail "$b --version: $v"
	[[ $v == "$b "[0-9]* ]] || fail "$b --version printed '$v'"
done
"$P/bin/podmesh-cnitool" --help >/dev/null 2>&1 || fail "podmesh-cnitool --help"
for b in podmesh podmesh-ipam; do
	v=$(CNI_COMMAND=VERSION "$STAGE/opt/cni/bin/$b" </dev/null) || fail "$b VERSION: $v"
	jq -e '.supportedVersions | index("1.0.0")' <<<"$v" >/dev/null || fail "$b VERSION: $v"
done
for s in install-cni.sh node-start.sh; do
	[ -x "$P/libexec/podmesh/$s" ] || fail "$s not executable"
done
"$P/libexec/podmesh/install-cni.sh" --help | grep -q CNI_BIN_DIR || fail "install-cni.sh --help"
ok "binaries, plugins (VERSION) and scripts"

step "the example configs"
for f in bgpd.yaml reflector.yaml; do
	out=$("$P/bin/podmesh-bgpd" --check -c "$P/share/doc/podmesh/examples/$f" 2>&1) ||
	    fail "examples/$f: $out"
done
# the env files are plain VAR=value lines podmesh-node knows
"$P/bin/podmesh-node" --help >"$PM_TMP/node-help"
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	v=${line%%=*}
	[[ $line =~ ^[A-Z_][A-Z0-9_]*= ]] || fail "node.env: not VAR=value: $line"
	grep -qw -- "$v" "$PM_TMP/node-help" || fail "node.env: $v unknown to podmesh-node --help"
done <"$P/share/doc/podmesh/examples/node.env"
ok "bgpd.yaml and reflector.yaml pass --check; node.env's variables are podmesh-node's"

step "the systemd units"
UNITS=$P/lib/systemd/system
for u in "$UNITS"/*.service; do
	# every command and file:// doc the unit names exists (in the stage if
	# it is ours)
	while IFS= read -r path; do
		case $path in
		/usr/bin/podmesh* | /usr/share/doc/podmesh/*) t=$STAGE$path ;;
		*) t=$path ;;
		esac
		[ -e "$t" ] || fail "$(basename "$u") names $path, which is not installed"
	done < <(sed -n -e 's/^Exec[A-Za-z]*=[-@!+:]*\([^ ]*\).*/\1/p' \
	    -e 's|^Documentation=.*file://\([^ ]*\).*|\1|p' "$u")
	grep -q '@PODMESH_' "$u" && fail "$(basename "$u"): unfilled @PODMESH_...@"
done
grep -q '^Type=oneshot' "$UNITS/podmesh-node.service" &&
    grep -q '^RemainAfterExit=yes' "$UNITS/podmesh-node.service" &&
    grep -q '^EnvironmentFile=-/etc/podmesh/node.env' "$UNITS/podmesh-node.service" ||
    fail "podmesh-node.service: oneshot, RemainAfterExit, node.env"
grep -q '^ExecStart=/usr/bin/podmesh-bgpd -c /etc/podmesh/bgpd.yaml$' "$UNITS/podmesh-bgpd.service" &&
    grep -q '^Requires=podmesh-node.service' "$UNITS/podmesh-bgpd.service" &&
    grep -q '^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW$' "$UNITS/podmesh-bgpd.service" ||
    fail "podmesh-bgpd.service: ExecStart, Requires, capabilities"
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart programs exist: point ours at the stage
	V=$PM_TMP/verify
	mkdir -p "$V"
	for u in "$UNITS"/*.service; do
		sed "s|/usr/bin/podmesh|$P/bin/podmesh|g" "$u" >"$V/$(basename "$u")"
	done
	out=$(cd "$PM_TMP" && systemd-analyze verify "$V"/*.service 2>&1) ||
	    fail "systemd-analyze verify: $out"
	[ -z "$out" ] || fail "systemd-analyze verify warned: $out"
	# and it does find problems here
	sed 's/^Restart=always/Restart=allways/' "$V/podmesh-bgpd.service" >"$V/broken.service"
	out=$(cd "$PM_TMP" && systemd-analyze verify "$V/broken.service" 2>&1)
	grep -q 'allways' <<<"$out" || fail "systemd-analyze verify missed a bad Restart=: $out"
	rm "$V/broken.service"
	ok "units name installed files; systemd-analyze verify clean (and catches a typo)"
else
	ok "units name installed files (no systemd-analyze here: not verified)"
fi

step "node-start.sh from the stage: podmesh-node, then podmesh-bgpd on its config"
FAKE=$PM_TMP/fakebin
mkdir -p "$FAKE"
# podmesh-node and podmesh-bgpd stand-ins that record their calls; --check
# goes to the real podmesh-bgpd
cat >"$FAKE/podmesh-node" <<EOS
#!/bin/sh
echo "podmesh-node NODENAME=\$NODENAME" >>"$PM_TMP/calls"
EOS
cat >"$FAKE/podmesh-bgpd" <<EOS
#!/bin/sh
[ "\$1" = --check ] && exec "$P/bin/podmesh-bgpd" "\$@"
echo "podmesh-bgpd \$*" >>"$PM_TMP/calls"
EOS
chmod +x "$FAKE"/*
RUN=$PM_TMP/run
ETC=$PM_TMP/etc
NS_SH=$P/libexec/podmesh/node-start.sh
# an older node-start.sh's config on the host path: to be removed
mkdir -p "$RUN"
printf '# written by node-start from the environment\npassword: "old"\n' >"$RUN/bgpd.yaml"
# node_start VAR=VALUE...: the staged node-start.sh with only these
# variables (and the stand-ins first on PATH); stderr in ns.err
node_start() {
	env -i PATH="$FAKE:/usr/bin:/bin" PODMESH_RUN_DIR="$RUN" \
	    PODMESH_ETC_DIR="$ETC" "$@" sh "$NS_SH" 2>"$PM_TMP/ns.err"
}
node_start NODENAME=node-1 \
    ETCD_ENDPOINTS=https://192.0.2.1:2379,https://192.0.2.2:2379 \
    ETCD_CA_CERT_FILE=/calico-secrets/etcd-ca ETCD_CERT_FILE=/calico-secrets/etcd-cert \
    ETCD_KEY_FILE=/calico-secrets/etcd-key ETCD_PASSWORD='pa"ss\word\n' ||
    fail "node-start.sh: $(cat "$PM_TMP/ns.err")"
want="podmesh-node NODENAME=node-1
podmesh-bgpd -c $ETC/bgpd.yaml"
[ "$(cat "$PM_TMP/calls")" = "$want" ] || fail "node-start.sh ran: $(cat "$PM_TMP/calls")"
C=$ETC/bgpd.yaml
grep -q '^node-name: "node-1"$' "$C" &&
    grep -q '^  endpoints: "https://192.0.2.1:2379,https://192.0.2.2:2379"$' "$C" &&
    grep -q '^  ca-file: "/calico-secrets/etcd-ca"$' "$C" &&
    grep -q '^  key-file: "/calico-secrets/etcd-key"$' "$C" &&
    grep -q '^kernel: {enabled: "true"}$' "$C" &&
    grep -q "^control-socket: \"$RUN/bgpd.sock\"$" "$C" ||
    fail "node-start.sh's bgpd.yaml: $(cat "$C")"
grep -q -e '^http:' -e '^log-level:' "$C" && fail "http or log-level without their variables: $(cat "$C")"
# the password, quote and backslashes as they were (dash's echo would eat them)
pw=$(/usr/bin/python3 -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["datastore"]["password"])' "$C") ||
    fail "bgpd.yaml is not YAML: $(cat "$C")"
[ "$pw" = 'pa"ss\word\n' ] || fail "password written as '$pw'"
[ "$(stat -c %a "$C")" = 600 ] || fail "bgpd.yaml mode $(stat -c %a "$C"), expected 600"
[ -e "$RUN/bgpd.yaml" ] && fail "the old $RUN/bgpd.yaml (with its password) was left on the host path"
ls "$ETC"/*.tmp 2>/dev/null && fail "a temp file left in $ETC"
grep -q "removed $RUN/bgpd.yaml" "$PM_TMP/ns.err" || fail "the removal not logged: $(cat "$PM_TMP/ns.err")"
ok "registration, then podmesh-bgpd -c on a config --check accepts, 0600, in the container dir; old host copy removed"

step "node-start.sh: a second start with changed settings writes the config anew"
: >"$PM_TMP/calls"
node_start NODENAME=node-1 ETCD_ENDPOINTS=https://192.0.2.9:2379 \
    PODMESH_KERNEL_ROUTES=false PODMESH_BGPD_LOG_LEVEL=DEBUG \
    PODMESH_HTTP_ADDRESS=0.0.0.0 PODMESH_HTTP_PORT=9199 ||
    fail "second start: $(cat "$PM_TMP/ns.err")"
grep -q '^  endpoints: "https://192.0.2.9:2379"$' "$C" &&
    grep -q '^kernel: {enabled: "false"}$' "$C" &&
    grep -q '^log-level: "debug"$' "$C" &&
    grep -q '^http: {address: "0.0.0.0", port: 9199}$' "$C" ||
    fail "second start kept or wrote: $(cat "$C")"
grep -q -e 'password' -e 'ca-file' "$C" && fail "settings gone from the environment stayed: $(cat "$C")"
[ "$(tail -n 1 "$PM_TMP/calls")" = "podmesh-bgpd -c $C" ] || fail "second start ran: $(cat "$PM_TMP/calls")"
node_start NODENAME=node-1 PODMESH_HTTP_ADDRESS=2001:db8::1 || fail "IPv6 http address: $(cat "$PM_TMP/ns.err")"
grep -q '^http: {address: "2001:db8::1", port: 9099}$' "$C" || fail "http with only an address: $(cat "$C")"
ok "endpoints, kernel routes off, log level, http address and port: all from the new environment"

step "node-start.sh refuses bad values before registering, and writes nothing"
cp "$C" "$PM_TMP/before.yaml"
# refused VAR=VALUE MESSAGE: exit 1 naming it, podmesh-node not run, the
# config untouched
refused() {
	local rc=0
	: >"$PM_TMP/calls"
	node_start NODENAME=node-1 "$1" || rc=$?
	[ "$rc" = 1 ] && grep -qF -- "$2" "$PM_TMP/ns.err" ||
	    fail "$1: status $rc, expected 1 and '$2': $(cat "$PM_TMP/ns.err")"
	[ -s "$PM_TMP/calls" ] && fail "$1: ran $(cat "$PM_TMP/calls")"
	cmp -s "$C" "$PM_TMP/before.yaml" || fail "$1: the config changed: $(cat "$C")"
	return 0
}
refused "ETCD_PASSWORD=sec
ret" "ETCD_PASSWORD: contains a control character (a newline?): refused"
refused "ETCD_ENDPOINTS=https://192.0.2.1:2379
datastore: {type: none}" "ETCD_ENDPOINTS: contains a control character"
refused "ETCD_KEY_FILE=$(printf '/k\tey')" "ETCD_KEY_FILE: contains a control character"
refused PODMESH_KERNEL_ROUTES=yes "PODMESH_KERNEL_ROUTES 'yes': expected true or false"
refused PODMESH_BGPD_LOG_LEVEL=trace "PODMESH_BGPD_LOG_LEVEL 'trace': expected debug, info, warning"
refused PODMESH_HTTP_PORT=65536 "PODMESH_HTTP_PORT '65536': expected a port number"
refused PODMESH_HTTP_PORT=9o99 "PODMESH_HTTP_PORT '9o99': expected a port number"
refused PODMESH_HTTP_ADDRESS=node-1.example "PODMESH_HTTP_ADDRESS 'node-1.example': expected an IPv4 or IPv6 address"
refused PODMESH_HTTP_ADDRESS=192.0.2.256 "PODMESH_HTTP_ADDRESS '192.0.2.256': expected an IPv4 or IPv6 address"
ok "newline, tab, kernel routes, log level, port, address: each refused by name"

step "node-start.sh: PODMESH_BGPD_CONFIG is used as it is; gobgp refused"
cp "$P/share/doc/podmesh/examples/bgpd.yaml" "$PM_TMP/own.yaml"
: >"$PM_TMP/calls"
node_start NODENAME=node-1 PODMESH_BGPD_CONFIG="$PM_TMP/own.yaml" ETCD_ENDPOINTS=http://192.0.2.7:2379 ||
    fail "PODMESH_BGPD_CONFIG: $(cat "$PM_TMP/ns.err")"
[ "$(tail -n 1 "$PM_TMP/calls")" = "podmesh-bgpd -c $PM_TMP/own.yaml" ] || fail "ran: $(cat "$PM_TMP/calls")"
cmp -s "$PM_TMP/own.yaml" "$P/share/doc/podmesh/examples/bgpd.yaml" || fail "PODMESH_BGPD_CONFIG was rewritten"
cmp -s "$C" "$PM_TMP/before.yaml" || fail "$C written although PODMESH_BGPD_CONFIG is set"
rc=0
node_start NODENAME=node-1 PODMESH_BGPD_CONFIG="$PM_TMP/nope.yaml" || rc=$?
[ "$rc" = 1 ] && grep -q "PODMESH_BGPD_CONFIG: no file $PM_TMP/nope.yaml" "$PM_TMP/ns.err" ||
    fail "missing PODMESH_BGPD_CONFIG: status $rc: $(cat "$PM_TMP/ns.err")"
rc=0
node_start CALICO_NETWORKING_BACKEND=gobgp || rc=$?
[ "$rc" = 1 ] && grep -q "CALICO_NETWORKING_BACKEND 'gobgp'" "$PM_TMP/ns.err" ||
    fail "gobgp backend: status $rc: $(cat "$PM_TMP/ns.err")"
ok "own config untouched and used; a missing one and gobgp refused"

step "node-start.sh, PODMESH_BGP=none: podmesh-bgpd answers the probes and nothing else"
ns_add hc
FAKE2=$PM_TMP/fakebin2
mkdir -p "$FAKE2"
cp "$FAKE/podmesh-node" "$FAKE2/"
E2=$PM_TMP/etc-none
# the real podmesh-bgpd, on 127.0.0.1:9099 of a namespace of our own
nsx hc env -i PATH="$FAKE2:$P/bin:/usr/bin:/bin" PODMESH_RUN_DIR="$RUN" \
    PODMESH_ETC_DIR="$E2" NODENAME=node-1 PODMESH_BGP=none \
    sh "$NS_SH" 2>"$PM_TMP/none.err" &
PM_PID[node-start:none]=$!
wait_until 10 nsx hc curl -sf -o /dev/null http://127.0.0.1:9099/liveness ||
    fail "none: no /liveness: $(cat "$PM_TMP/none.err")"
r=$(nsx hc curl -s -w ' %{http_code}' http://127.0.0.1:9099/readiness)
[[ $r == *" 200" ]] || fail "none: /readiness answered '$r'"
nsx hc curl -sf http://127.0.0.1:9099/metrics | grep -q '^podmesh_' || fail "none: no metrics"
listen=$(nsx hc ss -Htln | awk '{print $4}' | sort | tr '\n' ' ')
[ "$listen" = "127.0.0.1:9099 " ] || fail "none: listening on '$listen', expected 127.0.0.1:9099 only"
[ -S "$E2/bgpd.sock" ] && [ ! -e "$RUN/bgpd.sock" ] ||
    fail "none: control socket not in $E2 (or one on the host path $RUN)"
[ "$(stat -c %a "$E2/bgpd.yaml")" = 600 ] || fail "none: config mode $(stat -c %a "$E2/bgpd.yaml")"
_pm_kill_pid "${PM_PID[node-start:none]}"
unset 'PM_PID[node-start:none]'
# PODMESH_HTTP_PORT=0: no health server, it sleeps until a TERM (a
# stand-in records the sleep and sends the TERM, which must end it, 0)
cat >"$FAKE/sleep" <<EOS
#!/bin/sh
[ "\$1" = 3600 ] || exec /bin/sleep "\$@"
echo "sleep \$*" >>"$PM_TMP/calls"
kill -TERM \$PPID
EOS
chmod +x "$FAKE/sleep"
: >"$PM_TMP/calls"
node_start NODENAME=node-1 PODMESH_BGP=none PODMESH_HTTP_PORT=0 || fail "none, port 0: $(cat "$PM_TMP/ns.err")"
[ "$(cat "$PM_TMP/calls")" = "podmesh-node NODENAME=node-1
sleep 3600" ] || fail "none, port 0 ran: $(cat "$PM_TMP/calls")"
rm "$FAKE/sleep"
ok "none: /liveness, /readiness 200 and /metrics on 127.0.0.1:9099, no BGP port, socket in the container; port 0: sleep"

step "node-start.sh, PODMESH_BGP=bird: templates copied, confd -onetime, then BIRD + confd"
# stand-ins: bird and the watching podmesh-confd sleep until signalled
cat >"$FAKE/bird" <<EOS
#!/bin/sh
echo "bird \$*" >>"$PM_TMP/calls"
echo \$\$ >"$PM_TMP/bird.pid"
exec sleep 30
EOS
cat >"$FAKE/podmesh-confd" <<EOS
#!/bin/sh
echo "podmesh-confd \$*" >>"$PM_TMP/calls"
case " \$* " in *" -onetime "*) exit 0 ;; esac
exec sleep 30
EOS
chmod +x "$FAKE"/*
: >"$PM_TMP/calls"
CD=$PM_TMP/confd
env -i PATH="$FAKE:/usr/bin:/bin" PODMESH_RUN_DIR="$RUN" NODENAME=node-1 \
    PODMESH_BGP=bird PODMESH_CONFD_DIR="$CD" BIRD_SOCKET="$PM_TMP/bird/bird.ctl" \
    PODMESH_CONFD_TEMPLATES="$P/share/podmesh/confd/bird2" \
    sh "$P/libexec/podmesh/node-start.sh" 2>"$PM_TMP/ns.err" &
NSPID=$!
PM_PID[node-start:bird]=$NSPID
wait_until 5 grep -q '^bird ' "$PM_TMP/calls" || fail "bird not started: $(cat "$PM_TMP/calls" "$PM_TMP/ns.err")"
wait_until 5 grep -q "^podmesh-confd -confdir $CD\$" "$PM_TMP/calls" ||
    fail "podmesh-confd not watching: $(cat "$PM_TMP/calls")"
# the last two start together, in either order
want="podmesh-node NODENAME=node-1
podmesh-confd -confdir $CD -onetime
bird -f -c $CD/config/bird.cfg -s $PM_TMP/bird/bird.ctl
podmesh-confd -confdir $CD"
[ "$(head -n 2 "$PM_TMP/calls"; tail -n +3 "$PM_TMP/calls" | sort)" = "$want" ] ||
    fail "bird mode ran: $(cat "$PM_TMP/calls")"
diff -r "$P/share/podmesh/confd/bird2/templates" "$CD/templates" >/dev/null &&
    diff -r "$P/share/podmesh/confd/bird2/conf.d" "$CD/conf.d" >/dev/null ||
    fail "templates not copied to $CD"
[ -d "$PM_TMP/bird" ] || fail "BIRD's socket directory not made"
# BIRD dies: the script stops confd and exits 1 (the kubelet restarts it)
kill -TERM "$(cat "$PM_TMP/bird.pid")" || fail "no fake bird to stop"
rc=0
wait "$NSPID" || rc=$?
unset 'PM_PID[node-start:bird]'
[ "$rc" = 1 ] && grep -q 'bird or podmesh-confd exited: stopping' "$PM_TMP/ns.err" ||
    fail "after a child died: status $rc: $(cat "$PM_TMP/ns.err")"
ok "bird mode: templates in the confdir, one render, BIRD and the watching confd; a child's death stops it"

step "PODMESH_CNI_BIN_DIR"
B2=$PM_TMP/build2
cmake -S "$PODMESH_SRC" -B "$B2" -DPODMESH_CNI_BIN_DIR=/usr/lib/cni \
    -DPODMESH_INTEGRATION=OFF >"$PM_TMP/configure.log" 2>&1 ||
    fail "configure: $(tail -5 "$PM_TMP/configure.log")"
grep -q '"/usr/lib/cni"' "$B2/cni/cmake_install.cmake" ||
    fail "PODMESH_CNI_BIN_DIR not used: $(grep -n DESTINATION "$B2/cni/cmake_install.cmake")"
grep -q '/opt/cni/bin' "$B2/cni/cmake_install.cmake" && fail "/opt/cni/bin still in the install rules"
ok "plugins go to PODMESH_CNI_BIN_DIR"
