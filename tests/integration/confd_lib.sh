# shellcheck shell=bash
#
# podmesh-confd beside a real BIRD 2 in a node namespace (issue #7): the
# shipped BIRD 2 templates (confd/dist/bird2) copied to a confdir per node,
# podmesh-confd (etcdv3 backend) rendering them from the cluster's etcd
# (node_lib.sh), BIRD 2 running the rendered config.  Sourced after lib.sh
# and node_lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/node_lib.sh"
#	. "$(dirname "$0")/confd_lib.sh"
#
# Per node N (files under $PM_TMP):
#   N.confd/            the confdir (conf.d/, templates/, rendered files)
#   N.confd.log         podmesh-confd's log (every run in N)
#   N.reloads           one line per reload: "<start> <end> <rc> <args>"
#                       (µs, CLOCK_REALTIME) written by the birdc stand-in
#                       the shipped reload_cmd runs (BIRDC) once the real
#                       birdc returned: BIRD has reconfigured at <end>
#   N.checks            one line per check, the same form (BIRD, the
#                       checker, also a stand-in: the real bird -p, or a
#                       forced failure while N.checkfail exists)
#   N.bird.ctl          BIRD's control socket (lib.sh's birdc_ N works)
#
# The templates' commands read BIRD (checker), BIRDC (reload) and
# BIRD_SOCKET from the environment; confd_start passes all three, and
# NODENAME.

PODMESH_CONFD=${PODMESH_CONFD:-$PODMESH_BUILD/confd/podmesh-confd}
CONFD_DIST=${CONFD_DIST:-$PODMESH_SRC/confd/dist/bird2}
CONFD_BIRD=${CONFD_BIRD:-/usr/sbin/bird}
CONFD_BIRDC=${CONFD_BIRDC:-/usr/sbin/birdc}
CONFD_ARGS=${CONFD_ARGS:-} # extra podmesh-confd arguments (e.g. --debounce 20)
declare -A CONFD_MAIN # node -> the rendered main BIRD config (BIRD's -c)

# require_confd: podmesh-confd built, the shipped templates and BIRD 2.
require_confd() {
	[ -x "$PODMESH_CONFD" ] ||
	    fail "podmesh-confd not built: $PODMESH_CONFD (PODMESH_BUILD=$PODMESH_BUILD)"
	[ -d "$CONFD_DIST/conf.d" ] && [ -d "$CONFD_DIST/templates" ] ||
	    fail "no shipped BIRD 2 templates in $CONFD_DIST (conf.d/, templates/)"
	[ -x "$CONFD_BIRD" ] && [ -x "$CONFD_BIRDC" ] ||
	    fail "BIRD 2 not installed ($CONFD_BIRD, $CONFD_BIRDC)"
}

# ---------------------------------------------------------------------------
# Failure dumps: confd's log tail and what it rendered, besides node_lib's
# and lib.sh's.

confd_dump() {
	local n f
	for n in "${NODES[@]}"; do
		f=$PM_TMP/$n.confd.log
		[ -e "$f" ] || continue
		echo "----- podmesh-confd in $n (pid ${PM_PID[confd:$n]:-stopped}) -----"
		tail -40 "$f"
		[ -s "$PM_TMP/$n.reloads" ] && { echo "--- reloads"; tail -5 "$PM_TMP/$n.reloads"; }
		[ -s "$PM_TMP/$n.checks" ] && { echo "--- checks"; tail -5 "$PM_TMP/$n.checks"; }
	done >&2
}

fail() {
	log "FAIL: $*"
	confd_dump
	node_dump
	pm_dump
	exit 1
}

# ---------------------------------------------------------------------------
# Setup

# confd_setup NODE: the confdir (a copy of the shipped templates) and the
# birdc / bird stand-ins that stamp every reload and check.
confd_setup() {
	local n=$1 d=$PM_TMP/$1.confd
	rm -rf "$d"
	mkdir -p "$d" || fail "mkdir $d"
	cp -r "$CONFD_DIST/." "$d/" || fail "copy $CONFD_DIST to $d"
	: >"$PM_TMP/$n.reloads"
	: >"$PM_TMP/$n.checks"
	cat >"$PM_TMP/$n.birdc" <<EOF
#!/bin/bash
# birdc for podmesh-confd's reload_cmd in $n: the real one, stamped before
# and after (µs, CLOCK_REALTIME); BIRD has re-read its configuration when
# it returns.
t0=\${EPOCHREALTIME/./}
$CONFD_BIRDC "\$@"
rc=\$?
echo "\$t0 \${EPOCHREALTIME/./} \$rc \$*" >>"$PM_TMP/$n.reloads"
exit \$rc
EOF
	cat >"$PM_TMP/$n.bird" <<EOF
#!/bin/bash
# bird for podmesh-confd's check_cmd in $n, stamped as the birdc above:
# fails while $n.checkfail exists (a failing check on demand), else the
# real bird -p.
t0=\${EPOCHREALTIME/./}
if [ -e "$PM_TMP/$n.checkfail" ]; then
	echo "forced check failure for $n: \$*" >&2
	echo "\$t0 \${EPOCHREALTIME/./} 1 \$*" >>"$PM_TMP/$n.checks"
	exit 1
fi
$CONFD_BIRD "\$@"
rc=\$?
echo "\$t0 \${EPOCHREALTIME/./} \$rc \$*" >>"$PM_TMP/$n.checks"
exit \$rc
EOF
	chmod +x "$PM_TMP/$n.birdc" "$PM_TMP/$n.bird" || fail "chmod stand-ins"
}

# _confd_env NODE [reload=off]: the environment podmesh-confd runs in.
# reload=off: BIRDC answers "Reconfigured" without asking anyone (BIRD is
# not running yet).
_confd_env() {
	local n=$1 birdc=$PM_TMP/$1.birdc
	if [ "${2:-}" = reload=off ]; then
		birdc=$PM_TMP/birdc.off
		[ -x "$birdc" ] || printf '#!/bin/sh\necho "Reconfigured (stub: BIRD not started yet)"\n' \
		    >"$birdc" && chmod +x "$birdc"
	fi
	printf '%s\n' "NODENAME=$n" "ETCD_ENDPOINTS=$NODE_ETCD_URL" \
	    "BIRD=$PM_TMP/$n.bird" "BIRDC=$birdc" \
	    "BIRD_SOCKET=$(_bird_sock "$n")"
}

# _confd_cmd NODE: podmesh-confd's command line for NODE (etcdv3 backend).
# A node listed in CONFD_ENV_NODES gets neither -node nor --nodename: it
# must take them from $ETCD_ENDPOINTS and $NODENAME.
_confd_cmd() {
	# shellcheck disable=SC2206
	local extra=($CONFD_ARGS) where=(-node "$NODE_ETCD_URL" --nodename "$1")
	case " ${CONFD_ENV_NODES:-} " in *" $1 "*) where=() ;; esac
	printf '%s\n' "$PODMESH_CONFD" -confdir "$PM_TMP/$1.confd" \
	    -backend etcdv3 "${where[@]}" "${extra[@]}"
}

# confd_onetime NODE: render every template once (-onetime) with reloads
# off, then find the main BIRD config (the rendered file with "router id"
# that includes the others; BIRD's -c) into CONFD_MAIN[NODE].
confd_onetime() {
	local n=$1 out=$PM_TMP/$1.confd.log rc=0 env cmd f
	mapfile -t env < <(_confd_env "$n" reload=off)
	mapfile -t cmd < <(_confd_cmd "$n")
	echo "=== -onetime ($(_pm_elapsed)s)" >>"$out"
	env "${env[@]}" ip netns exec "$(ns "$n")" timeout 30 "${cmd[@]}" \
	    -onetime >>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] ||
	    fail "podmesh-confd -onetime in $n exited $rc: $(tail -20 "$out")"
	CONFD_MAIN[$n]=
	while IFS= read -r f; do
		grep -q '^[[:space:]]*router id ' "$f" || continue
		[ -z "${CONFD_MAIN[$n]}" ] ||
		    fail "two rendered files with 'router id': ${CONFD_MAIN[$n]} $f"
		CONFD_MAIN[$n]=$f
	done < <(confd_dests "$n")
	[ -n "${CONFD_MAIN[$n]}" ] ||
	    fail "no rendered file with 'router id' among: $(confd_dests "$n" | tr '\n' ' ')"
	log "podmesh-confd -onetime in $n: main config ${CONFD_MAIN[$n]#"$PM_TMP/"}"
}

# confd_dests NODE: every resource's dest (absolute), from conf.d/*.toml.
confd_dests() {
	local d=$PM_TMP/$1.confd f dest
	for f in "$d"/conf.d/*.toml; do
		dest=$(sed -n 's/^[[:space:]]*dest[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$f" | head -1)
		[ -n "$dest" ] || continue
		case $dest in /*) ;; *) dest=$d/$dest ;; esac
		echo "$dest"
	done
}

# confd_toml_src NODE: the template (path) the main config is rendered from.
confd_main_src() {
	local n=$1 d=$PM_TMP/$1.confd f dest src rel
	rel=${CONFD_MAIN[$n]#"$d/"}
	for f in "$d"/conf.d/*.toml; do
		dest=$(sed -n 's/^[[:space:]]*dest[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$f" | head -1)
		[ "$dest" = "${CONFD_MAIN[$n]}" ] || [ "$dest" = "$rel" ] || continue
		src=$(sed -n 's/^[[:space:]]*src[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' "$f" | head -1)
		echo "$d/templates/$src"
		return 0
	done
	fail "no toml renders ${CONFD_MAIN[$n]}"
}

# confd_start NODE: podmesh-confd in NODE in the background (key confd:NODE).
confd_start() {
	local n=$1 key="confd:$1" out=$PM_TMP/$1.confd.log env cmd
	mapfile -t env < <(_confd_env "$n")
	mapfile -t cmd < <(_confd_cmd "$n")
	echo "=== start ($(_pm_elapsed)s): ${cmd[*]}" >>"$out"
	env "${env[@]}" ip netns exec "$(ns "$n")" "${cmd[@]}" >>"$out" 2>&1 &
	PM_PID[$key]=$!
	PM_CONF[$key]=$PM_TMP/$n.confd
	_pm_daemon "$key"
	sleep 0.1
	daemon_alive confd "$n" || fail "podmesh-confd in $n died at once: $(tail -20 "$out")"
	log "podmesh-confd up in $n (pid ${PM_PID[$key]})"
}

# confd_hup NODE: SIGHUP (re-read conf.d and render).
confd_hup() {
	kill -HUP "${PM_PID[confd:$1]}" || fail "SIGHUP to podmesh-confd in $1"
}

# confd_bird_start NODE: BIRD 2 in NODE on the rendered main config, its
# socket $PM_TMP/NODE.bird.ctl, pid file $PM_TMP/NODE.bird.pid (lib.sh's
# start_bird; checks the config with bird -p first).
confd_bird_start() {
	[ -n "${CONFD_MAIN[$1]:-}" ] || fail "confd_bird_start $1: no rendered config"
	start_bird "$1" "${CONFD_MAIN[$1]}"
}

# ---------------------------------------------------------------------------
# What BIRD and confd did

# confd_reloads NODE: how many reloads ran (the birdc stand-in's stamps).
confd_reloads() {
	wc -l <"$PM_TMP/$1.reloads"
}

# confd_checks NODE: how many checks ran.
confd_checks() {
	wc -l <"$PM_TMP/$1.checks"
}

# bird_last_reconf NODE: BIRD's "Last reconfiguration on" time, in ms
# since the epoch ("" when BIRD does not answer).  BIRD derives the wall
# time it shows from its monotonic clock at each query, so two queries of
# one reconfiguration may differ by a millisecond: compare with
# reconf_same.
bird_last_reconf() {
	local t
	t=$(birdc_ "$1" show status | sed -n 's/^Last reconfiguration on //p')
	[ -n "$t" ] && date -d "$t" +%s%3N
}

# reconf_same MS1 MS2: the same reconfiguration (within 5 ms).
reconf_same() {
	local d=$(($1 - $2))
	[ "${d#-}" -le 5 ]
}

# bird_protos NODE: "name state info" of every BGP protocol, sorted.
bird_protos() {
	# rows are printf'd with minimum widths, so a long name shifts the
	# columns: split into fields, skip the Since column (a time, or a
	# date and a time)
	birdc_ "$1" show protocols | awk '
	$2 == "BGP" {
		i = 5
		while (i <= NF && $i ~ /^[0-9][0-9:.-]*$/)
			i++
		print $1, $4, (i <= NF ? $i : "-")
	}' | sort
}

# bird_proto_info NODE NAME: the Info column of protocol NAME (empty when
# there is none).
bird_proto_info() {
	bird_protos "$1" | awk -v p="$2" '$1 == p { print $3 }'
}

_bird_has_proto() {
	bird_protos "$1" | awk -v p="$2" '$1 == p { f = 1 } END { exit !f }'
}

_bird_proto_established() {
	[ "$(bird_proto_info "$1" "$2")" = Established ]
}

# _bird_no_proto_like NODE PREFIX: BIRD answers and runs no protocol whose
# name starts with PREFIX.
_bird_no_proto_like() {
	local p
	p=$(bird_protos "$1") || return 1
	! grep -q "^$2" <<<"$p"
}

# proto_name KIND IP: Mesh_192_0_2_12 etc.
proto_name() {
	printf '%s_%s' "$1" "$(_pm_ident "$2")"
}

# poll_ms T0 TIMEOUT_S CMD...: run CMD every ~20 ms until it succeeds;
# print the ms from T0 (µs, from _pm_now) to the success, or fail (1).
poll_ms() {
	local t0=$1 deadline now
	deadline=$(($(_pm_now) + $(_pm_us "$2")))
	shift 2
	while :; do
		if "$@" >/dev/null 2>&1; then
			now=$(_pm_now)
			echo $(((now - t0) / 1000))
			return 0
		fi
		(($(_pm_now) >= deadline)) && return 1
		sleep 0.02
	done
}

# sha_of FILE
sha_of() {
	sha256sum "$1" | cut -d' ' -f1
}
