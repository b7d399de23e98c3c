#!/bin/bash
# cmake --install into a staging root (DESTDIR, --prefix /usr): every file
# in its place and nothing else (no test or bench programs); the staged
# binaries run; the CNI plugins answer VERSION; the systemd units name
# binaries and docs that exist in the staged tree and pass
# `systemd-analyze verify` (when present; a unit with a typo must not);
# the example configs pass podmesh-bgpd --check; node-start.sh from the
# staged tree runs podmesh-node, then podmesh-bgpd on a config it wrote
# that --check accepts; PODMESH_CNI_BIN_DIR moves the plugins.  ~4 s
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
env -i PATH="$FAKE:/usr/bin:/bin" PODMESH_RUN_DIR="$RUN" NODENAME=node-1 \
    ETCD_ENDPOINTS=https://192.0.2.1:2379,https://192.0.2.2:2379 \
    ETCD_CA_CERT_FILE=/calico-secrets/etcd-ca ETCD_CERT_FILE=/calico-secrets/etcd-cert \
    ETCD_KEY_FILE=/calico-secrets/etcd-key \
    sh "$P/libexec/podmesh/node-start.sh" 2>"$PM_TMP/ns.err" ||
    fail "node-start.sh: $(cat "$PM_TMP/ns.err")"
want="podmesh-node NODENAME=node-1
podmesh-bgpd -c $RUN/bgpd.yaml"
[ "$(cat "$PM_TMP/calls")" = "$want" ] || fail "node-start.sh ran: $(cat "$PM_TMP/calls")"
grep -q '^node-name: "node-1"$' "$RUN/bgpd.yaml" &&
    grep -q '^  endpoints: "https://192.0.2.1:2379,https://192.0.2.2:2379"$' "$RUN/bgpd.yaml" &&
    grep -q '^  ca-file: "/calico-secrets/etcd-ca"$' "$RUN/bgpd.yaml" &&
    grep -q '^  key-file: "/calico-secrets/etcd-key"$' "$RUN/bgpd.yaml" &&
    grep -q "^control-socket: \"$RUN/bgpd.sock\"$" "$RUN/bgpd.yaml" ||
    fail "node-start.sh's bgpd.yaml: $(cat "$RUN/bgpd.yaml")"
rc=0
env -i PATH="$FAKE:/usr/bin:/bin" PODMESH_RUN_DIR="$RUN" CALICO_NETWORKING_BACKEND=gobgp \
    sh "$P/libexec/podmesh/node-start.sh" 2>"$PM_TMP/ns.err" || rc=$?
[ "$rc" = 1 ] && grep -q "CALICO_NETWORKING_BACKEND 'gobgp'" "$PM_TMP/ns.err" ||
    fail "gobgp backend: status $rc: $(cat "$PM_TMP/ns.err")"
ok "registration first, then podmesh-bgpd -c on a checked config; gobgp refused"

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
