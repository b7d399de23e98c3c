#!/bin/bash
# podmesh-confd with the file backend (-backend file -file KV) in a temp
# confdir, no namespaces needed: -onetime renders, exits 1 when a resource
# fails; in watch mode a rewritten KV file reaches dest and reload_cmd
# within 1 s, identical values reload nothing, a template syntax error and
# a failing check_cmd keep the old dest and are logged while the daemon
# keeps running, SIGHUP reads conf.d again, SIGTERM exits 0; --help, -V,
# -noop and the refusals of bad flags and environment (exit 2); a fresh
# confdir gets dest's directory made; -backend and --nodename win over
# DATASTORE_TYPE and NODENAME.
. "$(dirname "$0")/lib.sh"

CONFD=$PODMESH_BUILD/confd/podmesh-confd
[ -x "$CONFD" ] || fail "no $CONFD (build the podmesh-confd target)"

D=$PM_TMP/confd
mkdir -p "$D/conf.d" "$D/templates" "$D/out"
KV=$PM_TMP/kv.yaml
LOG=$PM_TMP/confd.log
RELOADS=$PM_TMP/reloads

cat >"$D/conf.d/a.toml" <<EOF
[template]
src = "a.tmpl"
dest = "out/a.cfg"
prefix = "/calico/bgp/v1"
keys = ["/global", "/host//NODENAME"]
check_cmd = "if grep -q BAD {{.src}}; then echo \"check: BAD in {{.src}}\"; exit 1; fi"
reload_cmd = "echo reload >> $RELOADS"
mode = "0640"
EOF
good_template() {
	cat >"$D/templates/a.tmpl" <<'EOF'
router id {{getv "/host/node1/ip_addr_v4"}};
as {{getv "/global/as_num"}};
{{range gets "/global/peer_v4/*"}}peer {{base .Key}};
{{end}}
EOF
}
good_template

# kv AS [PEER]: the KV file, replaced atomically
kv() {
	{
		echo "/calico/bgp/v1/global/as_num: \"$1\""
		echo "/calico/bgp/v1/host/node1/ip_addr_v4: 192.0.2.1"
		echo "/calico/bgp/v1/host/node2/ip_addr_v4: 192.0.2.2"
		[ -n "${2:-}" ] &&
		    echo "/calico/bgp/v1/global/peer_v4/$2: '{\"ip\":\"$2\"}'"
	} >"$KV.new"
	mv "$KV.new" "$KV"
}

expect_dest() {
	local want=$1 got
	got=$(cat "$D/out/a.cfg" 2>/dev/null)
	[ "$got" = "$want" ] ||
	    fail "out/a.cfg:"$'\n'"want: $want"$'\n'" got: $got"
}

nreloads() {
	if [ -f "$RELOADS" ]; then wc -l <"$RELOADS"; else echo 0; fi
}

# reloads_are N: reload_cmd has run N times (for wait_until)
reloads_are() {
	[ "$(nreloads)" = "$1" ]
}

ARGS=(-confdir "$D" -backend file -file "$KV" --nodename node1)
confd() {
	"$CONFD" "${ARGS[@]}" "$@"
}

# ---------------------------------------------------------------------------
step "command line"
out=$("$CONFD" --help) || fail "--help exited $?"
grep -q -- "-confdir DIR" <<<"$out" || fail "--help: $out"
grep -q -- "-interval N .*ignored" <<<"$out" || fail "--help: no -interval"
out=$("$CONFD" -V) || fail "-V exited $?"
[ "$out" = "podmesh-confd 0.1.0" ] || fail "-V: $out"
check_usage() {
	local want=$1 rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	[ "$rc" -eq 2 ] || fail "$* exited $rc, not 2: $out"
	grep -q -- "$want" <<<"$out" || fail "$*: no \"$want\" in: $out"
}
check_usage "unrecognized option" "$CONFD" -bogus
check_usage "unknown backend \"nope\"" "$CONFD" -backend nope
check_usage "invalid boolean value \"maybe\" for -onetime" \
    "$CONFD" -onetime=maybe
check_usage "invalid value \"x\" for -interval" "$CONFD" -interval x
check_usage "-backend file needs -file" "$CONFD" -backend file
check_usage "unexpected argument \"extra\"" "$CONFD" -onetime extra
check_usage "unknown log level \"loud\"" "$CONFD" -log-level loud
check_usage "DATASTORE_TYPE=kubernetes is not supported" \
    env DATASTORE_TYPE=kubernetes "$CONFD" -onetime
ok "--help, -V, bad flags exit 2"

# ---------------------------------------------------------------------------
step "-onetime"
kv 64512 192.0.2.9
confd -onetime -noop 2>"$LOG" || fail "-onetime -noop exited $?: $(cat "$LOG")"
[ -e "$D/out/a.cfg" ] && fail "-noop wrote out/a.cfg"
grep -q "noop: $D/out/a.cfg out of sync, not modified" "$LOG" ||
    fail "-noop: $(cat "$LOG")"
confd -onetime -interval=5 -watch 2>"$LOG" ||
    fail "-onetime exited $?: $(cat "$LOG")"
expect_dest $'router id 192.0.2.1;\nas 64512;\npeer 192.0.2.9;'
[ "$(stat -c %a "$D/out/a.cfg")" = 640 ] || fail "mode $(stat -c %a "$D/out/a.cfg")"
[ "$(nreloads)" = 1 ] || fail "reloads: $(nreloads)"
[ "$(ls -A "$D/out")" = a.cfg ] || fail "left in out/: $(ls -A "$D/out")"
confd -onetime 2>"$LOG" || fail "-onetime again exited $?"
[ "$(nreloads)" = 1 ] || fail "unchanged output reloaded: $(nreloads)"
# a failing resource: exit 1, the old dest kept
kv 64512 BAD
confd -onetime 2>"$LOG" && fail "-onetime with a failing check exited 0"
grep -q "check: BAD in $D/out/\.a\.cfg[0-9]\{9\}" "$LOG" ||
    fail "no checker output: $(cat "$LOG")"
grep -q "1 of 1 template resources failed" "$LOG" || fail "$(cat "$LOG")"
expect_dest $'router id 192.0.2.1;\nas 64512;\npeer 192.0.2.9;'
ok "-onetime renders, -noop writes nothing, a failure exits 1"

# ---------------------------------------------------------------------------
step "a fresh confdir: dest's directory made; flags win over the environment"
D2=$PM_TMP/confd2
mkdir -p "$D2/conf.d" "$D2/templates"
cat >"$D2/conf.d/n.toml" <<'EOF'
[template]
src = "n.tmpl"
dest = "config/sub/n.cfg"
prefix = "/calico/bgp/v1/host//NODENAME"
keys = ["/"]
check_cmd = "test -f {{.src}}"
EOF
echo 'node {{getenv "NODENAME"}} ip {{getv "/ip_addr_v4"}}' \
    >"$D2/templates/n.tmpl"
# DATASTORE_TYPE (not ours) and NODENAME (another node) lose to the flags
DATASTORE_TYPE=kubernetes NODENAME=node2 "$CONFD" -confdir "$D2" \
    -backend file -file "$KV" --nodename node1 -onetime 2>"$LOG" ||
    fail "-onetime in a fresh confdir exited $?: $(cat "$LOG")"
[ "$(cat "$D2/config/sub/n.cfg")" = "node node1 ip 192.0.2.1" ] ||
    fail "n.cfg: $(cat "$D2/config/sub/n.cfg")"
[ "$(stat -c %a "$D2/config")" = 755 ] ||
    fail "config/ mode $(stat -c %a "$D2/config")"
grep -q "$D2/config/sub/n.cfg: created directory $D2/config/sub$" "$LOG" ||
    fail "no log of the directory made: $(cat "$LOG")"
# without --nodename, $NODENAME names the node
rm -r "$D2/config"
NODENAME=node2 "$CONFD" -confdir "$D2" -backend file -file "$KV" -onetime \
    2>"$LOG" || fail "NODENAME=node2 exited $?: $(cat "$LOG")"
[ "$(cat "$D2/config/sub/n.cfg")" = "node node2 ip 192.0.2.2" ] ||
    fail "n.cfg: $(cat "$D2/config/sub/n.cfg")"
# neither: the host name, in lower case as calico/node names the node
rm -r "$D2/config"
unshare -u env -u NODENAME -u CALICO_NODENAME sh -c \
    'hostname NODE1 && exec "$@"' sh "$CONFD" -confdir "$D2" -backend file \
    -file "$KV" -onetime 2>"$LOG" || fail "host name NODE1: $(cat "$LOG")"
[ "$(cat "$D2/config/sub/n.cfg")" = "node node1 ip 192.0.2.1" ] ||
    fail "host name NODE1: n.cfg: $(cat "$D2/config/sub/n.cfg")"
ok "config/sub made (0755, logged); -backend, --nodename beat the env;" \
    "host name lower-cased"

# ---------------------------------------------------------------------------
step "watch mode"
rm -f "$D/out/a.cfg" "$RELOADS"
kv 64512 192.0.2.9
"$CONFD" "${ARGS[@]}" -log-level debug 2>"$LOG" &
CPID=$!
PM_PID["confd:main"]=$CPID # killed by the cleanup trap on failure
wait_until 5 test -f "$D/out/a.cfg" || fail "no first render: $(cat "$LOG")"
expect_dest $'router id 192.0.2.1;\nas 64512;\npeer 192.0.2.9;'
wait_until 1 reloads_are 1 || fail "reloads: $(nreloads)"

# a change reaches dest and reload_cmd within 1 s
t0=$(_pm_now)
kv 65000 192.0.2.9
wait_until 1 reloads_are 2 || fail "no reload within 1 s: $(nreloads)"
t1=$(_pm_now)
expect_dest $'router id 192.0.2.1;\nas 65000;\npeer 192.0.2.9;'
log "change to reload: $(((t1 - t0) / 1000)) ms (0.1 s polling)"

# identical values: nothing written or reloaded
mtime=$(stat -c %Y.%y "$D/out/a.cfg")
kv 65000 192.0.2.9
never_within 1.5 not reloads_are 2 || fail "identical values reloaded"
[ "$(stat -c %Y.%y "$D/out/a.cfg")" = "$mtime" ] ||
    fail "identical values rewrote out/a.cfg"
ok "changes rendered and reloaded within 1 s, identical values not"

# a template syntax error: logged, old dest kept, still running
cat >"$D/templates/a.tmpl" <<'EOF'
router id {{getv "/host/node1/ip_addr_v4"}};
{{if}}
EOF
kv 65001 192.0.2.9
wait_until 2 grep -q "template: a.tmpl:2:" "$LOG" ||
    fail "no template error logged: $(tail -5 "$LOG")"
expect_dest $'router id 192.0.2.1;\nas 65000;\npeer 192.0.2.9;'
kill -0 "$CPID" || fail "podmesh-confd died on a bad template"
[ "$(nreloads)" = 2 ] || fail "reloaded after a bad template"
good_template
kv 65001 192.0.2.10
wait_until 1 reloads_are 3 || fail "no recovery: $(tail -5 "$LOG")"
expect_dest $'router id 192.0.2.1;\nas 65001;\npeer 192.0.2.10;'
ok "a template error keeps the old dest; fixed, it renders again"

# a failing check_cmd: logged with the checker's output, old dest kept
kv 65002 BAD
wait_until 2 grep -q "error: $D/out/a.cfg: check_cmd .* failed: exit status 1: check: BAD in $D/out/\.a\.cfg[0-9]\{9\}$" "$LOG" ||
    fail "no check failure logged: $(tail -5 "$LOG")"
expect_dest $'router id 192.0.2.1;\nas 65001;\npeer 192.0.2.10;'
[ "$(ls -A "$D/out")" = a.cfg ] || fail "left in out/: $(ls -A "$D/out")"
kill -0 "$CPID" || fail "podmesh-confd died on a failed check"
[ "$(nreloads)" = 3 ] || fail "reloaded after a failed check"
ok "a failing check_cmd keeps the old dest"

# SIGHUP: conf.d read again
cat >"$D/conf.d/b.toml" <<EOF
[template]
src = "b.tmpl"
dest = "out/b.cfg"
prefix = "/calico/bgp/v1"
keys = ["/host"]
EOF
echo '{{range lsdir "/host"}}{{.}} {{end}}' >"$D/templates/b.tmpl"
kill -HUP "$CPID"
wait_until 2 test -f "$D/out/b.cfg" || fail "SIGHUP: no b.cfg: $(tail -5 "$LOG")"
[ "$(cat "$D/out/b.cfg")" = "node1 node2 " ] || fail "b.cfg: $(cat "$D/out/b.cfg")"
grep -q "SIGHUP: 2 template resources loaded" "$LOG" || fail "$(tail -5 "$LOG")"
ok "SIGHUP loads new template resources"

# SIGTERM: exit 0, no sanitizer report
pid=$CPID
kill -TERM "$pid"
for ((i = 0; i < 50; i++)); do
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fail "podmesh-confd ignored SIGTERM"
wait "$pid"
rc=$?
unset 'PM_PID[confd:main]'
[ "$rc" -eq 0 ] || fail "exit status $rc on SIGTERM: $(tail -5 "$LOG")"
if grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error' "$LOG"; then
	fail "sanitizer report: $(grep -E -A20 'Sanitizer|runtime error' "$LOG")"
fi
ok "SIGTERM exits 0"
