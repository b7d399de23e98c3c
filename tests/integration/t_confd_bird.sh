#!/bin/bash
# t_confd_bird.sh: podmesh-confd's shipped BIRD templates (issue #7) against
# real BIRD parsers, no daemon and no namespace.
#
#  1. The golden configs (tests/golden/confd/<dialect>/<node>[-nomesh]/,
#     written by hand from tests/data/confd/cluster*.yaml) parse: BIRD 2
#     (/usr/sbin/bird -p) for bird2; Debian's stock BIRD 1.6 (unpacked by
#     scripts/bird16.sh into $PODMESH_BUILD/bird16) for bird1, which must
#     refuse the krt_tunnel assignments (they need Calico's BIRD) and accept
#     everything else once those are cut out.
#  2. podmesh-confd -onetime -backend file renders each dialect's confdir
#     (a copy of confd/dist/<dialect>) for node1, node3, node4 (mesh on) and
#     node1, node3 (mesh off) byte-identical to the golden files; its
#     check_cmd ran BIRD on the whole config and every reload_cmd ran once
#     per written file; a second run changes, checks and reloads nothing;
#     switching the mesh off rewrites, checks and reloads only the main
#     configs; CALICO_ROUTER_ID=hash gives Calico's hashed router id.
#  3. Bad input in a copy of a rendered confdir: a template whose output
#     BIRD refuses, a template syntax error, a missing key: -onetime fails
#     with a message that says why, the old output stays byte-identical,
#     nothing is reloaded, nothing staged is left behind.
#
# The check and reload commands are stand-ins that log every call: BIRD,
# BIRD6 (the checkers the tomls run) and BIRDC, BIRDC6 (reload; they answer
# "Reconfigured" as birdc does).

. "$(dirname "$0")/lib.sh"

CONFD=${PODMESH_CONFD:-$PODMESH_BUILD/confd/podmesh-confd}
DATA=$PODMESH_SRC/tests/data/confd
GOLD=$PODMESH_SRC/tests/golden/confd
DIST=$PODMESH_SRC/confd/dist
BIRD2=${BIRD2:-/usr/sbin/bird}
CHECKS=$PM_TMP/checks   # "<checker> <rc> <args>" per check
RELOADS=$PM_TMP/reloads # "<birdc> <args>" per reload
BIN=$PM_TMP/bin

# The krt_tunnel assignments Calico's BIRD needs, as stock BIRD 1.6 sees
# them ("You may set only variables"); cut out, the rest must parse.
KRT_RE='krt_tunnel = "[^"]*";'

# ---------------------------------------------------------------------------
step "BIRD 2 and BIRD 1.6"
[ -x "$BIRD2" ] && "$BIRD2" --version 2>&1 | grep -q 'BIRD version 2\.' ||
    fail "BIRD 2 not at $BIRD2"
B16=$("$PODMESH_SRC/scripts/bird16.sh" "$PODMESH_BUILD/bird16") ||
    fail "no BIRD 1.6: scripts/bird16.sh $PODMESH_BUILD/bird16"
for b in bird bird6; do
	"$B16/$b" --version 2>&1 | grep -q 'BIRD version 1\.6' ||
	    fail "$B16/$b is not BIRD 1.6"
done
ok "BIRD 2: $("$BIRD2" --version 2>&1); BIRD 1.6: $B16"

mkdir -p "$BIN" || fail "mkdir $BIN"
# the control sockets the reload_cmds look for (no BIRD behind them: the
# birdc stand-ins answer); without a socket a reload_cmd does nothing
SOCK=$PM_TMP/bird.ctl
SOCK6=$PM_TMP/bird6.ctl
for s in "$SOCK" "$SOCK6"; do
	python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$s" ||
	    fail "cannot make the socket $s"
done
: >"$CHECKS"
: >"$RELOADS"

# check16 DAEMON FILE: stock BIRD 1.6's DAEMON (bird, bird6) -p on a copy
# of FILE's directory with the krt_tunnel assignments cut out.
cat >"$BIN/check16" <<EOF
#!/bin/bash
daemon=\$1
shift
[ "\$1" = -p ] && [ "\$2" = -c ] || { echo "check16: want -p -c FILE: \$*" >&2; exit 2; }
t=\$(mktemp -d) || exit 1
cp "\$(dirname "\$3")"/*.cfg "\$t"/ || exit 1
sed -i -E 's/$KRT_RE//' "\$t"/*.cfg
"$B16/\$daemon" -p -c "\$t/\$(basename "\$3")"
rc=\$?
rm -rf "\$t"
echo "\$daemon \$rc \$*" >>"$CHECKS"
exit \$rc
EOF
for b in bird bird6; do
	printf '#!/bin/sh\nexec "%s" %s "$@"\n' "$BIN/check16" "$b" >"$BIN/check16-$b"
done
cat >"$BIN/check2" <<EOF
#!/bin/bash
"$BIRD2" "\$@"
rc=\$?
echo "bird2 \$rc \$*" >>"$CHECKS"
exit \$rc
EOF
for c in birdc birdc6; do
	cat >"$BIN/$c" <<EOF
#!/bin/sh
echo "$c \$*" >>"$RELOADS"
echo "Reading configuration from somewhere"
echo "Reconfigured"
EOF
done
chmod +x "$BIN"/* || fail "chmod $BIN"

# ---------------------------------------------------------------------------
# 1. The golden files with real BIRD

# cases DIALECT: the golden directories (node1, node1-nomesh, ...)
cases() {
	local d
	for d in "$GOLD/$1"/*/; do
		basename "$d"
	done
}

# bird16_refuses_krt DIR: stock 1.6 refuses DIR/bird.cfg at a krt_tunnel
# line of bird_ipam.cfg.
bird16_refuses_krt() {
	local dir=$1 out line
	out=$("$B16/bird" -p -c "$dir/bird.cfg" 2>&1) &&
	    fail "stock BIRD 1.6 accepted $dir/bird.cfg with krt_tunnel"
	echo "$out" | grep -q 'bird_ipam.cfg:[0-9]*:[0-9]* You may set only variables' ||
	    fail "stock BIRD 1.6 refused $dir/bird.cfg, but not for krt_tunnel: $out"
	line=$(echo "$out" | sed -n 's/.*bird_ipam.cfg:\([0-9]*\):.*/\1/p')
	sed -n "${line}p" "$dir/bird_ipam.cfg" | grep -q krt_tunnel ||
	    fail "BIRD 1.6's error line $line of bird_ipam.cfg has no krt_tunnel"
}

for c in $(cases bird2); do
	step "golden bird2/$c: BIRD 2 -p"
	g=$PM_TMP/gold/bird2/$c/config
	mkdir -p "$g" && cp "$GOLD/bird2/$c"/* "$g"/ || fail "copy golden bird2/$c"
	[ "$(ls "$g" | sort | tr '\n' ' ')" = "bird.cfg bird_aggr.cfg bird_ipam.cfg " ] ||
	    fail "golden bird2/$c: files $(ls "$g")"
	out=$("$BIRD2" -p -c "$g/bird.cfg" 2>&1) ||
	    fail "BIRD 2 refuses golden bird2/$c: $out"
	grep -q krt_tunnel "$g"/*.cfg && fail "golden bird2/$c uses krt_tunnel"
	ok "bird2/$c parses with BIRD 2"
done

for c in $(cases bird1); do
	step "golden bird1/$c: BIRD 1.6 -p (krt_tunnel cut out)"
	g=$PM_TMP/gold/bird1/$c/config
	mkdir -p "$g" && cp "$GOLD/bird1/$c"/* "$g"/ || fail "copy golden bird1/$c"
	[ "$(ls "$g" | sort | tr '\n' ' ')" = "bird.cfg bird6.cfg bird6_aggr.cfg bird6_ipam.cfg bird_aggr.cfg bird_ipam.cfg " ] ||
	    fail "golden bird1/$c: files $(ls "$g")"
	# Calico's BIRD only: the krt_tunnel lines of bird_ipam.cfg, one per
	# IPIP Always pool, two per CrossSubnet pool; nowhere else.
	krt=$(grep -c krt_tunnel "$g/bird_ipam.cfg")
	[ "$krt" -eq 3 ] || fail "bird1/$c bird_ipam.cfg: $krt krt_tunnel lines, want 3"
	[ "$(grep -l krt_tunnel "$g"/*.cfg)" = "$g/bird_ipam.cfg" ] ||
	    fail "krt_tunnel outside bird_ipam.cfg: $(grep -l krt_tunnel "$g"/*.cfg)"
	log "needs Calico's BIRD: $(grep -n krt_tunnel "$g/bird_ipam.cfg" | tr -s ' ' | tr '\n' '|')"
	bird16_refuses_krt "$g"
	sed -i -E "s/$KRT_RE//" "$g"/*.cfg
	grep -q krt_tunnel "$g"/*.cfg && fail "krt_tunnel left after the cut in $g"
	out=$("$B16/bird" -p -c "$g/bird.cfg" 2>&1) ||
	    fail "stock BIRD 1.6 refuses golden bird1/$c/bird.cfg: $out"
	out=$("$B16/bird6" -p -c "$g/bird6.cfg" 2>&1) ||
	    fail "stock BIRD 1.6 refuses golden bird1/$c/bird6.cfg: $out"
	ok "bird1/$c parses with stock BIRD 1.6 but for its 3 krt_tunnel lines"
done

# ---------------------------------------------------------------------------
# 2. podmesh-confd renders the goldens

[ -x "$CONFD" ] || fail "podmesh-confd not built: $CONFD"

# confd_run DIALECT CONFDIR DATA NODE: podmesh-confd -onetime; its status,
# output in CONFDIR.log.
confd_run() {
	local d=$1 dir=$2 data=$3 node=$4 bird=$BIN/check2 bird6=/bin/false
	if [ "$d" = bird1 ]; then
		bird=$BIN/check16-bird
		bird6=$BIN/check16-bird6
	fi
	echo "=== $CONFD -confdir $dir -backend file -file $data -onetime --nodename $node" >>"$dir.log"
	env -u NODENAME -u CALICO_ROUTER_ID BIRD="$bird" BIRD6="$bird6" \
	    BIRDC="$BIN/birdc" BIRDC6="$BIN/birdc6" \
	    BIRD_SOCKET="$SOCK" BIRD6_SOCKET="$SOCK6" \
	    timeout 30 "$CONFD" -confdir "$dir" -backend file -file "$data" \
	    -onetime --nodename "$node" >>"$dir.log" 2>&1
}

# same_as_golden DIALECT CASE CONFDIR: every output byte-identical to the
# golden file, nothing else in config/ (no staged file left).
same_as_golden() {
	local d=$1 c=$2 dir=$3 f
	for f in "$GOLD/$d/$c"/*; do
		[ -e "$dir/config/${f##*/}" ] ||
		    fail "$d/$c: podmesh-confd wrote no config/${f##*/}: $(tail -20 "$dir.log")"
		cmp -s "$f" "$dir/config/${f##*/}" || {
			diff -u "$f" "$dir/config/${f##*/}" >&2
			fail "$d/$c: config/${f##*/} differs from the golden file (diff above)"
		}
	done
	[ "$(ls -A --ignore=.gitkeep "$dir/config" | tr '\n' ' ')" = "$(ls -A "$GOLD/$d/$c" | tr '\n' ' ')" ] ||
	    fail "$d/$c: config/ holds $(ls -A "$dir/config" | tr '\n' ' ')"
}

# checks_since N: the check lines after the first N; reloads_since N too.
checks_since() { tail -n +"$(($1 + 1))" "$CHECKS"; }
reloads_since() { tail -n +"$(($1 + 1))" "$RELOADS"; }
nlines() { wc -l <"$1"; }

# expect_calls WHAT GOT WANT: GOT (lines, sorted) equals WANT.
expect_calls() {
	[ "$2" = "$3" ] || fail "$1: got [$2], want [$3]"
}

# the BIRD validation of rendered output (not only through check_cmd)
parse_rendered() {
	local d=$1 dir=$2 t out
	if [ "$d" = bird2 ]; then
		out=$("$BIRD2" -p -c "$dir/config/bird.cfg" 2>&1) ||
		    fail "BIRD 2 refuses $dir/config/bird.cfg: $out"
		return
	fi
	t=$dir.b16
	rm -rf "$t" && mkdir -p "$t" && cp "$dir/config"/*.cfg "$t"/ || fail "copy $dir"
	sed -i -E "s/$KRT_RE//" "$t"/*.cfg
	out=$("$B16/bird" -p -c "$t/bird.cfg" 2>&1) ||
	    fail "BIRD 1.6 refuses $t/bird.cfg: $out"
	out=$("$B16/bird6" -p -c "$t/bird6.cfg" 2>&1) ||
	    fail "BIRD 1.6 refuses $t/bird6.cfg: $out"
}

for d in bird1 bird2; do
	for c in $(cases "$d"); do
		node=${c%-nomesh}
		data=$DATA/cluster.yaml
		[ "$c" = "$node" ] || data=$DATA/cluster-nomesh.yaml
		step "podmesh-confd $d for $node (${data##*/})"
		dir=$PM_TMP/render/$d/$c
		# as a user would: the dialect copied whole (config/ included)
		mkdir -p "$dir" && cp -r "$DIST/$d/." "$dir"/ && [ -d "$dir/config" ] ||
		    fail "copy $DIST/$d"
		nc=$(nlines "$CHECKS")
		nr=$(nlines "$RELOADS")
		confd_run "$d" "$dir" "$data" "$node" ||
		    fail "podmesh-confd -onetime $d $c exited $?: $(tail -20 "$dir.log")"
		same_as_golden "$d" "$c" "$dir"
		parse_rendered "$d" "$dir"
		# A fresh confdir: the last file of each daemon's set checks
		# the whole config (the others find it incomplete and pass).
		if [ "$d" = bird1 ]; then
			expect_calls "$d/$c checks" "$(checks_since "$nc" | cut -d' ' -f1,2 | sort | tr '\n' ,)" \
			    "bird 0,bird6 0,"
			expect_calls "$d/$c reloads" "$(reloads_since "$nr" | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
			    " 3 birdc -s $SOCK configure, 3 birdc6 -s $SOCK6 configure,"
		else
			expect_calls "$d/$c checks" "$(checks_since "$nc" | cut -d' ' -f1,2 | sort | tr '\n' ,)" \
			    "bird2 0,"
			expect_calls "$d/$c reloads" "$(reloads_since "$nr" | sort | uniq -c | tr -s ' ' | tr '\n' ,)" \
			    " 3 birdc -s $SOCK configure,"
		fi
		checks_since "$nc" | grep -q -- "-p -c /.*/bird6\?\.cfg$" ||
		    fail "$d/$c: the checks did not parse a whole config: $(checks_since "$nc")"
		ok "$d/$c: byte-identical to the golden files, checked, reloaded"

		step "podmesh-confd $d for $node again: nothing to do"
		sums=$(sha256sum "$dir/config"/* | sort)
		nc=$(nlines "$CHECKS")
		nr=$(nlines "$RELOADS")
		confd_run "$d" "$dir" "$data" "$node" ||
		    fail "second podmesh-confd -onetime $d $c exited $?: $(tail -20 "$dir.log")"
		[ "$(sha256sum "$dir/config"/* | sort)" = "$sums" ] ||
		    fail "$d/$c: the second run changed the output"
		expect_calls "$d/$c second run's checks" "$(checks_since "$nc")" ""
		expect_calls "$d/$c second run's reloads" "$(reloads_since "$nr")" ""
		same_as_golden "$d" "$c" "$dir"
		ok "$d/$c: unchanged, no check, no reload"
	done

	step "$d node1: the mesh switched off"
	dir=$PM_TMP/render/$d/node1
	nc=$(nlines "$CHECKS")
	nr=$(nlines "$RELOADS")
	confd_run "$d" "$dir" "$DATA/cluster-nomesh.yaml" node1 ||
	    fail "podmesh-confd -onetime $d node1 mesh off exited $?: $(tail -20 "$dir.log")"
	same_as_golden "$d" node1-nomesh "$dir"
	if [ "$d" = bird1 ]; then
		expect_calls "$d mesh off: checks" "$(checks_since "$nc" | cut -d' ' -f1,2 | sort | tr '\n' ,)" \
		    "bird 0,bird6 0,"
		expect_calls "$d mesh off: reloads" "$(reloads_since "$nr" | cut -d' ' -f1 | sort | tr '\n' ,)" \
		    "birdc,birdc6,"
	else
		expect_calls "$d mesh off: checks" "$(checks_since "$nc" | cut -d' ' -f1,2 | tr '\n' ,)" \
		    "bird2 0,"
		expect_calls "$d mesh off: reloads" "$(reloads_since "$nr" | cut -d' ' -f1 | tr '\n' ,)" \
		    "birdc,"
	fi
	ok "$d: only the main configs rewritten, checked and reloaded"
done

step "bird2 node1: CALICO_ROUTER_ID=hash"
# Calico's hashToIPv4: the first 4 bytes of sha256(nodename)
want=$(printf node1 | sha256sum | cut -c1-8 | sed 's/../0x& /g' |
    xargs printf '%d.%d.%d.%d')
dir=$PM_TMP/render/bird2/node1-hash
cp -a "$PM_TMP/render/bird2/node1" "$dir" || fail "copy bird2/node1"
CALICO_ROUTER_ID=hash BIRD="$BIN/check2" BIRDC="$BIN/birdc" BIRD_SOCKET="$SOCK" \
    timeout 30 "$CONFD" -confdir "$dir" -backend file \
    -file "$DATA/cluster-nomesh.yaml" -onetime --nodename node1 >"$dir.log" 2>&1 ||
    fail "podmesh-confd with CALICO_ROUTER_ID=hash exited $?: $(tail -20 "$dir.log")"
got=$(sed -n 's/^router id \(.*\);$/\1/p' "$dir/config/bird.cfg")
[ "$got" = "$want" ] || fail "CALICO_ROUTER_ID=hash: router id $got, want $want"
diff <(grep -v '^router id ' "$dir/config/bird.cfg") \
    <(grep -v '^router id ' "$GOLD/bird2/node1-nomesh/bird.cfg") >&2 ||
    fail "CALICO_ROUTER_ID=hash changed more than the router id"
ok "router id $got (sha256(node1)), the rest as before"

for d in bird1 bird2; do
	step "$d node1 in a confdir whose path has a space, no BIRD running"
	dir="$PM_TMP/with space/$d"
	mkdir -p "$dir" && cp -r "$DIST/$d/." "$dir"/ || fail "copy $DIST/$d"
	nc=$(nlines "$CHECKS")
	nr=$(nlines "$RELOADS")
	SOCK=$PM_TMP/nonexistent.ctl SOCK6=$PM_TMP/nonexistent6.ctl \
	    confd_run "$d" "$dir" "$DATA/cluster.yaml" node1 ||
	    fail "podmesh-confd -onetime in \"$dir\" exited $?: $(tail -20 "$dir.log")"
	same_as_golden "$d" node1 "$dir"
	# the checks quoted the path and parsed the whole config with BIRD
	if [ "$d" = bird1 ]; then want="bird 0,bird6 0,"; else want="bird2 0,"; fi
	expect_calls "$d in \"$dir\": checks" \
	    "$(checks_since "$nc" | cut -d' ' -f1,2 | sort | tr '\n' ,)" "$want"
	checks_since "$nc" | grep -q -- "-p -c /.*/bird6\?\.cfg$" ||
	    fail "$d: the checks did not parse a whole config: $(checks_since "$nc")"
	# no socket: no birdc run, and no failure (BIRD reads it when it starts)
	expect_calls "$d without BIRD: reloads" "$(reloads_since "$nr")" ""
	ok "$d: checked with BIRD despite the space; without BIRD's socket, no reload and exit 0"
done

# ---------------------------------------------------------------------------
# 3. Bad input: the old output stays

# bad_case DIALECT NAME SED WANT: a copy of DIALECT's rendered node1
# (mesh off now) with SED applied to templates/bird.cfg.template; -onetime
# must fail with WANT (an ERE) in its output and keep config/ as it was.
bad_case() {
	local d=$1 name=$2 expr=$3 want=$4 src=$PM_TMP/render/$1/node1 dir sums nr
	step "$d: $name"
	dir=$PM_TMP/bad/$d/$name
	mkdir -p "${dir%/*}" && cp -a "$src" "$dir" || fail "copy $src"
	sed -i -e "$expr" "$dir/templates/bird.cfg.template"
	cmp -s "$dir/templates/bird.cfg.template" "$src/templates/bird.cfg.template" &&
	    fail "$name: the sed changed nothing"
	sums=$(sha256sum "$dir/config"/* | sed "s|$dir/||" | sort)
	nr=$(nlines "$RELOADS")
	: >"$dir.log"
	confd_run "$d" "$dir" "$DATA/cluster-nomesh.yaml" node1 &&
	    fail "$name: podmesh-confd -onetime succeeded: $(tail -20 "$dir.log")"
	grep -Eq -- "$want" "$dir.log" ||
	    fail "$name: no /$want/ in podmesh-confd's output: $(tail -20 "$dir.log")"
	[ "$(sha256sum "$dir/config"/* | sed "s|$dir/||" | sort)" = "$sums" ] ||
	    fail "$name: the old output was not kept"
	[ "$(ls -A "$dir/config" | tr '\n' ' ')" = "$(ls -A "$src/config" | tr '\n' ' ')" ] ||
	    fail "$name: config/ holds $(ls -A "$dir/config" | tr '\n' ' ')"
	expect_calls "$name: reloads" "$(reloads_since "$nr")" ""
	ok "$d $name: failed ($(grep -Eo -- "$want" "$dir.log" | head -1)), old output kept, no reload"
}

for d in bird1 bird2; do
	bad_case "$d" bird-refuses 's/^  scan time 2;$/  scan time 2; no_such_option;/' \
	    'bird.cfg:[0-9]+:[0-9]+ syntax error'
done
bad_case bird2 template-syntax 's/^# Generated by/{{if}}# Generated by/' \
    'bird.cfg.template:[0-9]+'
bad_case bird2 missing-key 's/^# Generated by/{{getv "\/no\/such\/key"}}# Generated by/' \
    '/no/such/key'

exit 0
