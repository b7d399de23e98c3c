#!/bin/bash
#
# Route-reflector fan-out benchmark, the Calico shape: N clients (nodes)
# each announce K pod blocks to one route reflector, and every client must
# end up holding every other client's blocks.  Each reflector (podmesh-bgpd,
# BIRD 2, GoBGP) runs in turn in the same invocation on the same scenario,
# and the table gives each one's numbers as a ratio to podmesh's.
#
#	bgpgen fanout: N iBGP sessions        reflector, AS 64512
#	127.1.0.1, 127.1.0.2, ... (AS 64512)  --->  127.0.0.1:179
#
# Everything runs over 127.0.0.0/8 inside one network namespace that this
# script creates (lo up, nothing else) and removes on exit.  The clients are
# bench/bgpgen in fanout mode: one process, one epoll loop, session i from
# 127.1.0.1 + i (BGP identifier the same), announcing K /26s from
# 10.0.0.0/8 with NEXT_HOP 100.64.0.1 + i (not its 127 address: GoBGP
# refuses loopback next hops), ORIGIN IGP, LOCAL_PREF 100.  Per reflector:
#  1. start it (dynamic neighbours: one range 127.1.0.0/16, rr client),
#     wait until it listens;
#  2. run bgpgen fanout: it brings all N sessions up, then (t0) every
#     session announces at once; it exits when every session holds the
#     (N-1)*K blocks of the others with the right next hop, or at the
#     deadline;
#  3. bgpgen itself reads the reflector's CPU time from /proc at start, at
#     t0 and at the end, and its peak RSS (VmHWM) at the end; stop it.
# "converge" = the last session's completion - t0.
# Before any run, `bgpgen selftest` checks the generator's receive fast path
# against the codec and times it.  Under the table one line says, per
# reflector, whether bgpgen's CPU during convergence was below the
# reflector's: a generator that costs more than what it drives measures
# itself ("bound by the generator"), and the line says so.
#
# Usage: bench/fanout.sh [--clients N] [--prefixes K] [--repeat R]
#            [--only "podmesh bird gobgp"] [--quick] [--deadline S]
#            [--build] [--build-dir DIR] [--keep]
# --clients 1000 and --prefixes 4 by default; --quick is 100 x 4 with a
# short deadline (the CI smoke test).  --repeat runs each reflector R times,
# interleaved, and reports medians.  --only picks reflectors (spaces or
# commas).  --build builds podmesh-bgpd and bgpgen first.  --deadline is per
# run (default 60 s + 0.1 s per client).
# Environment: PODMESH_BUILD (build dir, default build/), PODMESH_BGPD (a
# podmesh-bgpd binary other than the build dir's, to compare two builds).
# Needs root (a network namespace), ip, bird (bird2) and gobgpd.
# Exit status: 0 when every reflector converged with the right next hops in
# every run, 1 otherwise (the table is printed either way).

# the R_* result arrays are read through namerefs (median, ratio)
# shellcheck disable=SC2034
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
BUILD=${PODMESH_BUILD:-$top/build}
CLIENTS=1000
PREFIXES=4
REPEAT=1
ONLY="podmesh bird gobgp"
DEADLINE=
DO_BUILD=0
QUICK=0
KEEP=0
ARGV=("$@")

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--clients) CLIENTS=$2; shift ;;
	--prefixes) PREFIXES=$2; shift ;;
	--repeat) REPEAT=$2; shift ;;
	--only) ONLY=${2//,/ }; shift ;;
	--deadline) DEADLINE=$2; shift ;;
	--quick) QUICK=1; CLIENTS=100 ;;
	--build) DO_BUILD=1 ;;
	--build-dir) BUILD=$2; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
case $CLIENTS$PREFIXES$REPEAT$DEADLINE in '' | *[!0-9]*) usage ;; esac
[ "$CLIENTS" -ge 2 ] && [ "$CLIENTS" -le 60000 ] || usage
if [ -z "$DEADLINE" ]; then
	if [ "$QUICK" = 1 ]; then DEADLINE=20; else DEADLINE=$((60 + CLIENTS / 10)); fi
fi

# A global deadline, so that nothing here can hang: every run's budget plus
# setup.  timeout(1) signals the whole group and the trap cleans up.
if [ -z "${PMF_UNDER_DEADLINE:-}" ]; then
	export PMF_UNDER_DEADLINE=1
	nref=$(echo $ONLY | wc -w)
	exec timeout -k 10 $((60 + REPEAT * nref * (DEADLINE + 40))) \
	    bash "$0" "${ARGV[@]}"
fi

BGPGEN=$BUILD/bench/bgpgen
BGPD=${PODMESH_BGPD:-$BUILD/bgp/podmesh-bgpd}
NS="pmf-$$"
W=$(mktemp -d /tmp/pmb-fanout.XXXXXX) || exit 1
PIDS=()
FAILED=0
ASN=64512
RR_ID=192.0.2.1
RR_ADDR=127.0.0.1
FIRST=127.1.0.1
RANGE=127.1.0.0/16
NEXTHOP=100.64.0.1
# BIRD's default, so what Calico's nodes offer: a reflector that is slow to
# send gets 240 s before a client gives up on it
HOLD=240

log() { echo "fanout: $*" >&2; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	sleep 0.2
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	ip netns del "$NS" 2>/dev/null
	if [ "$KEEP" = 1 ] || [ "$FAILED" = 1 ]; then
		log "logs kept in $W"
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'FAILED=1; exit 1' INT TERM

die() {
	FAILED=1
	log "$*"
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root for a network namespace"
for r in $ONLY; do
	case $r in
	podmesh | bird | gobgp) ;;
	*) die "unknown reflector $r (podmesh, bird, gobgp)" ;;
	esac
done
if [ "$DO_BUILD" = 1 ]; then
	log "building podmesh-bgpd and bgpgen in $BUILD"
	{ [ -f "$BUILD/CMakeCache.txt" ] ||
	    cmake -S "$top" -B "$BUILD" -DPODMESH_INTEGRATION=OFF; } >"$W/build.log" 2>&1 &&
	    cmake --build "$BUILD" -j2 --target podmesh-bgpd bgpgen >>"$W/build.log" 2>&1 ||
	    die "build failed: $(tail -5 "$W/build.log")"
fi
[ -x "$BGPGEN" ] || die "$BGPGEN not built (cmake --build $BUILD --target bgpgen, or --build)"

# Both sides hold one socket per client: raise the descriptor limit (root
# may raise the hard limit too), inherited by the reflectors and bgpgen.
need=$((CLIENTS + 1024))
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt "$need" ]; then
	if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
		ulimit -Hn "$need" 2>/dev/null ||
		    die "cannot raise the descriptor limit to $need (hard limit $(ulimit -Hn))"
	fi
	ulimit -n "$need" || die "cannot raise the descriptor limit to $need"
fi

# ---------------------------------------------------------------------------
# The namespace: lo only.  127.0.0.0/8 is local on lo, so every client
# address can be bound without configuring anything.

ip netns add "$NS" || die "cannot create namespace $NS"
ip -n "$NS" link set lo up || die "cannot bring lo up in $NS"

# ---------------------------------------------------------------------------
# Helpers

# wait_for SECONDS CMD...: poll CMD every 0.1 s
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -lt $end ]; do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

rr_listening() {
	kill -0 "$RR_PID" 2>/dev/null || return 1
	[ -n "$(ip netns exec "$NS" ss -Hltn "sport = :179")" ]
}

# utime + stime of PID in clock ticks (fields 14 and 15 of stat, counted
# after the parenthesised command name, which may hold spaces)
cpu_ticks() {
	local line rest
	read -r line <"/proc/$1/stat" || return 1
	rest=${line##*) }
	set -- $rest
	echo $((${12} + ${13}))
}

# jget FILE KEY: a number from bgpgen's one-line JSON ("" if null/absent)
jget() {
	sed -n "s/.*\"$2\":\([-0-9.eE+]*\)[,}].*/\1/p" "$1" | head -1
}

stop() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null
	wait_for 10 eval "! kill -0 $1 2>/dev/null" || kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------------------
# Reflectors: each start_* writes its config under $d, starts the daemon in
# the namespace and sets RR_PID; OPENING is how many handshakes bgpgen keeps
# in flight (no more than the daemon's listen backlog, or the kernel drops
# handshakes and retries them a second later).  All three take the clients
# as dynamic neighbours from one range, log warnings only, and use the same
# hold time as the clients offer (HOLD).

start_podmesh() {
	[ -x "$BGPD" ] || { log "podmesh: $BGPD not built"; return 1; }
	cat >"$d/podmesh.yaml" <<-EOF
		router-id: $RR_ID
		asn: $ASN
		listen: {address: $RR_ADDR, port: 179}
		control-socket: $d/podmesh.sock
		route-reflector: {cluster-id: $RR_ID}
		log-level: warning
		hold-time: $HOLD
		peers:
		  - range: $RANGE
		    asn: $ASN
		    rr-client: true
		    max-sessions: $((CLIENTS + 16))
	EOF
	"$BGPD" --check -c "$d/podmesh.yaml" >"$d/rr.log" 2>&1 ||
	    { log "podmesh: config rejected: $(tail -3 "$d/rr.log")"; return 1; }
	ip netns exec "$NS" "$BGPD" -c "$d/podmesh.yaml" >>"$d/rr.log" 2>&1 &
	RR_PID=$!
	OPENING=64
}

# BIRD 2: one dynamic BGP protocol ("neighbor range"), which spawns a
# protocol per client from the template; there is no limit on how many.
# Next hops are not resolved against any IGP here and need not be: a
# reflector passes them on unchanged (RFC 4456 §10).
start_bird() {
	command -v bird >/dev/null || { log "bird: not installed"; return 1; }
	cat >"$d/bird.conf" <<-EOF
		router id $RR_ID;
		log stderr { warning, error, fatal, bug };
		protocol device { }
		protocol bgp clients {
		    local $RR_ADDR as $ASN;
		    neighbor range $RANGE internal;
		    dynamic name "c";
		    rr client;
		    rr cluster id $RR_ID;
		    hold time $HOLD;
		    ipv4 { import all; export all; };
		}
	EOF
	bird -p -c "$d/bird.conf" >"$d/rr.log" 2>&1 ||
	    { log "bird: config rejected: $(cat "$d/rr.log")"; return 1; }
	ip netns exec "$NS" bird -f -c "$d/bird.conf" -s "$d/bird.ctl" \
	    >>"$d/rr.log" 2>&1 &
	RR_PID=$!
	# BIRD listens with a backlog of 8
	OPENING=8
}

# GoBGP: dynamic neighbours bound to a peer group of route-reflector
# clients.
start_gobgp() {
	command -v gobgpd >/dev/null || { log "gobgp: not installed"; return 1; }
	cat >"$d/gobgpd.toml" <<-EOF
		[global.config]
		  as = $ASN
		  router-id = "$RR_ID"
		  port = 179
		  local-address-list = ["$RR_ADDR"]
		[[peer-groups]]
		  [peer-groups.config]
		    peer-group-name = "clients"
		    peer-as = $ASN
		  [peer-groups.timers.config]
		    hold-time = $HOLD
		    keepalive-interval = $((HOLD / 3))
		  [peer-groups.route-reflector.config]
		    route-reflector-client = true
		    route-reflector-cluster-id = "$RR_ID"
		  [[peer-groups.afi-safis]]
		    [peer-groups.afi-safis.config]
		      afi-safi-name = "ipv4-unicast"
		[[dynamic-neighbors]]
		  [dynamic-neighbors.config]
		    prefix = "$RANGE"
		    peer-group = "clients"
	EOF
	ip netns exec "$NS" gobgpd -f "$d/gobgpd.toml" -t toml -l warn \
	    --api-hosts 127.0.0.1:50051 >"$d/rr.log" 2>&1 &
	RR_PID=$!
	OPENING=64
}

# run_rr NAME REP: one measurement; fills R_*[NAME.REP], 0 when converged
declare -A R_STATUS R_CONV R_EST R_CPU R_SETUPCPU R_LIFECPU R_PEAK R_RSS0 \
    R_GENCPU R_GENUSER R_UPDATES R_GENRATIO R_TINY
run_rr() {
	local name=$1 key=$1.$2 rc hz t1 wrong conv peak got
	d=$W/$key
	mkdir -p "$d"
	R_STATUS[$key]=failed
	RR_PID=
	log "$name: run $2 of $REPEAT, $CLIENTS clients x $PREFIXES prefixes"
	if ! "start_$name"; then
		R_STATUS[$key]="not run"
		return 1
	fi
	PIDS+=("$RR_PID")
	if ! wait_for 20 rr_listening; then
		log "$name: not listening on port 179; log: $(tail -5 "$d/rr.log")"
		stop "$RR_PID"
		return 1
	fi

	ip netns exec "$NS" "$BGPGEN" fanout --local "$FIRST" \
	    --peer "$RR_ADDR" --asn "$ASN" --sessions "$CLIENTS" \
	    --count "$PREFIXES" --nexthop "$NEXTHOP" --deadline "$DEADLINE" \
	    --opening "$OPENING" --hold-time "$HOLD" --dut-pid "$RR_PID" \
	    >"$d/gen.json" 2>"$d/gen.log"
	rc=$?
	hz=$(getconf CLK_TCK)
	t1=$(cpu_ticks "$RR_PID") || t1=
	stop "$RR_PID"

	R_EST[$key]=$(jget "$d/gen.json" established_s | awk '{ printf "%.2f", $1 }')
	R_SETUPCPU[$key]=$(jget "$d/gen.json" dut_cpu_setup_s | awk '{ printf "%.2f", $1 }')
	R_GENUSER[$key]=$(jget "$d/gen.json" cpu_user_converge_s | awk '{ printf "%.2f", $1 }')
	R_UPDATES[$key]=$(jget "$d/gen.json" updates)
	# bgpgen's CPU over the reflector's, both from t0 to the end: the
	# generator must cost less than what it drives, converged or not
	R_GENRATIO[$key]=$(awk -v g="$(jget "$d/gen.json" cpu_converge_s)" \
	    -v r="$(jget "$d/gen.json" dut_cpu_converge_s)" \
	    'BEGIN { if (g != "" && r != "" && r > 0) printf "%.2f", g / r
	        else if (g != "" && r != "") printf "tiny" }')
	# under /proc's 10 ms resolution: no ratio to give
	[ "${R_GENRATIO[$key]}" = tiny ] && R_GENRATIO[$key]= && R_TINY[$key]=1
	[ -n "$t1" ] && R_LIFECPU[$key]=$(awk -v t="$t1" -v hz="$hz" \
	    'BEGIN { printf "%.2f", t / hz }')
	peak=$(jget "$d/gen.json" dut_peak_kb)
	[ -n "$peak" ] && R_PEAK[$key]=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
	peak=$(jget "$d/gen.json" dut_rss_t0_kb)
	[ -n "$peak" ] && R_RSS0[$key]=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
	wrong=$(jget "$d/gen.json" wrong_nexthop)
	conv=$(jget "$d/gen.json" converge_s)
	if [ "$rc" != 0 ] || [ -z "$conv" ]; then
		# how far it got: clients complete, share of all routes delivered
		got=$(awk -v r="$(jget "$d/gen.json" received_total)" -v n="$CLIENTS" \
		    -v k="$PREFIXES" 'BEGIN { printf "%.0f", 100 * r / (n * (n - 1) * k) }')
		if [ "$rc" = 2 ]; then
			R_STATUS[$key]="no convergence in ${DEADLINE} s ($(jget "$d/gen.json" complete_sessions)/$CLIENTS clients, $got% of routes)"
		else
			R_STATUS[$key]="failed: a session dropped ($(jget "$d/gen.json" complete_sessions)/$CLIENTS clients, $got% of routes)"
		fi
		log "$name: ${R_STATUS[$key]} (bgpgen exit $rc):"
		log "  bgpgen: $(cat "$d/gen.json") $(tail -3 "$d/gen.log")"
		log "  reflector log: $(tail -5 "$d/rr.log")"
		[ "${wrong:-0}" = 0 ] || log "  $wrong routes with the wrong next hop: $(grep -o '"wrong":{[^}]*}' "$d/gen.json")"
		return 1
	fi
	R_CONV[$key]=$(awk -v c="$conv" 'BEGIN { printf "%.3f", c }')
	R_CPU[$key]=$(jget "$d/gen.json" dut_cpu_converge_s | awk '{ printf "%.2f", $1 }')
	R_GENCPU[$key]=$(jget "$d/gen.json" cpu_converge_s | awk '{ printf "%.2f", $1 }')
	# a reflector must leave the next hop alone (RFC 4456 §10), even for a
	# moment
	if [ "${wrong:-0}" != 0 ]; then
		R_STATUS[$key]="wrong next hop ($wrong)"
		log "$name: $wrong routes arrived with the wrong next hop:" \
		    "$(grep -o '"wrong":{[^}]*}' "$d/gen.json")"
		return 1
	fi
	R_STATUS[$key]=ok
	log "$name: converged in ${R_CONV[$key]} s (all up in ${R_EST[$key]} s)," \
	    "CPU ${R_CPU[$key]:-?} s (${R_LIFECPU[$key]:-?} s in its whole life)," \
	    "peak RSS ${R_PEAK[$key]:-?} MiB, bgpgen CPU ${R_GENCPU[$key]:-?} s"
	return 0
}

# ---------------------------------------------------------------------------

# bgpgen's fan-out fast path against the codec's update_parse() on a
# reflector's stream (byte for byte the same counts, or no run), and what
# each costs per UPDATE on one core
"$BGPGEN" selftest >"$W/selftest.json" 2>"$W/selftest.log" ||
    die "bgpgen selftest failed: $(cat "$W/selftest.json" "$W/selftest.log")"
log "bgpgen selftest: fast path $(jget "$W/selftest.json" fast_ns_per_update) ns" \
    "per UPDATE, update_parse() $(jget "$W/selftest.json" full_parse_ns_per_update) ns"

# interleaved, so that a noisy neighbour on the machine hits all alike
for rep in $(seq 1 "$REPEAT"); do
	for rr in $ONLY; do
		run_rr "$rr" "$rep" || FAILED=1
	done
done

# median X NAME: the median over the runs of NAME in array X ("" if none)
median() {
	local -n arr=$1
	local i v=()
	for i in $(seq 1 "$REPEAT"); do
		[ -n "${arr[$2.$i]:-}" ] && v+=("${arr[$2.$i]}")
	done
	[ ${#v[@]} -gt 0 ] || return 0
	printf '%s\n' "${v[@]}" | sort -g | awk '{ a[NR] = $1 }
	    END { print a[int((NR + 1) / 2)] }'
}

declare -A M_STATUS M_CONV M_EST M_CPU M_SETUPCPU M_PEAK M_RSS0 M_GENCPU \
    M_GENUSER M_UPDATES M_RANGE M_GENRATIO M_GENWORST
for rr in $ONLY; do
	M_STATUS[$rr]=ok
	for rep in $(seq 1 "$REPEAT"); do
		[ "${R_STATUS[$rr.$rep]}" = ok ] || M_STATUS[$rr]=${R_STATUS[$rr.$rep]}
	done
	for m in CONV EST CPU SETUPCPU PEAK RSS0 GENCPU GENUSER UPDATES; do
		declare -n dst=M_$m
		dst[$rr]=$(median "R_$m" "$rr")
		unset -n dst
	done
	M_GENRATIO[$rr]=$(median R_GENRATIO "$rr")
	# the worst run decides whether the generator was the bottleneck
	M_GENWORST[$rr]=$(for rep in $(seq 1 "$REPEAT"); do
		echo "${R_GENRATIO[$rr.$rep]:-}"
	done | sort -g | awk 'NF { v = $1 } END { print v }')
	M_RANGE[$rr]=$(for rep in $(seq 1 "$REPEAT"); do
		echo "${R_CONV[$rr.$rep]:-}"
	done | sort -g | awk 'NF { v[++n] = $1 }
	    END { if (n > 1) printf "%s-%s", v[1], v[n] }')
done

# ratio X NAME: NAME's value in X over podmesh's
ratio() {
	local -n arr=$1
	local val=${arr[$2]:-} ref=${arr[podmesh]:-}
	if [ -z "$val" ] || [ -z "$ref" ]; then
		echo "n/a"
		return
	fi
	awk -v v="$val" -v p="$ref" 'BEGIN { if (p > 0) printf "%.2f", v / p; else print "n/a" }'
}

# genline: one line saying, per reflector, whether bgpgen's CPU during
# convergence was below the reflector's (worst run), and plainly when not:
# then converge measured the generator, not the reflector
genline() {
	local rr r w line="bgpgen/reflector CPU during convergence:" sep=" " bound=
	for rr in $ONLY; do
		r=${M_GENRATIO[$rr]:-} w=${M_GENWORST[$rr]:-}
		if [ -z "$w" ] && [ -n "$(for rep in $(seq 1 "$REPEAT"); do
			echo "${R_TINY[$rr.$rep]:-}"; done)" ]; then
			line+="$sep$rr n/a (its CPU was under /proc's 10 ms resolution)"
		elif [ -z "$w" ]; then
			line+="$sep$rr n/a (no CPU figures)"
		else
			line+="$sep$rr ${r}x"
			[ "$REPEAT" -gt 1 ] && line+=" (worst run ${w}x)"
			if awk -v w="$w" 'BEGIN { exit !(w >= 1) }'; then
				line+=": NOT below, bound by the generator"
				bound+=" $rr"
			elif awk -v w="$w" 'BEGIN { exit !(w >= 0.8) }'; then
				line+=": below, but close"
			else
				line+=": below"
			fi
		fi
		sep="; "
	done
	echo "$line."
	[ -z "$bound" ] || echo "For$bound the load generator used at least as much CPU" \
	    "as the reflector: that row is bound by the generator, its converge time" \
	    "measures bgpgen, not the reflector."
}

{
	echo
	echo "Route-reflector fan-out: $CLIENTS iBGP clients x $PREFIXES /26 each," \
	    "every client must hold the other $((CLIENTS - 1)) clients' blocks" \
	    "($(((CLIENTS - 1) * PREFIXES)) routes) with their own next hops;" \
	    "loopback in one namespace; median of $REPEAT run(s)."
	echo "bgpgen receives through its fan-out fast path:" \
	    "$(jget "$W/selftest.json" fast_ns_per_update) ns per UPDATE on one core" \
	    "(update_parse(): $(jget "$W/selftest.json" full_parse_ns_per_update) ns; bgpgen selftest)."
	echo "$(nproc) CPUs, $(uname -r); $(bird --version 2>&1 | head -1);" \
	    "$(gobgpd --version 2>&1 | head -1);" \
	    "podmesh $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')."
	echo "Reproduce: sudo PODMESH_BUILD=$BUILD${PODMESH_BGPD:+ PODMESH_BGPD=$PODMESH_BGPD}" \
	    "bench/fanout.sh$(printf ' %q' "${ARGV[@]}")"
	echo "converge = last client complete - t0 (t0: all sessions up, all announce at once)." \
	    "Reflector CPU = utime + stime (/proc/PID/stat) from t0 to the last client complete," \
	    "setup CPU = from the first connect to t0; peak RSS = VmHWM at the end, RSS at t0 =" \
	    "VmRSS with all sessions up and no routes; bgpgen CPU = its getrusage from t0 to the end" \
	    "(user = without the kernel's TCP work). Ratios are reflector / podmesh (above 1 =" \
	    "podmesh is faster or smaller)."
	echo
	echo "| reflector | result | converge (s) | ratio | reflector CPU (s) | ratio | peak RSS (MiB) | ratio | RSS at t0 (MiB) | all up (s) | setup CPU (s) | UPDATEs received | bgpgen CPU (s) | bgpgen user (s) |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for rr in $ONLY; do
		rng=${M_RANGE[$rr]}
		echo "| $rr | ${M_STATUS[$rr]} | ${M_CONV[$rr]}${rng:+ ($rng)} | $(ratio M_CONV "$rr") |" \
		    "${M_CPU[$rr]} | $(ratio M_CPU "$rr") | ${M_PEAK[$rr]} | $(ratio M_PEAK "$rr") |" \
		    "${M_RSS0[$rr]} | ${M_EST[$rr]} | ${M_SETUPCPU[$rr]} | ${M_UPDATES[$rr]} | ${M_GENCPU[$rr]} | ${M_GENUSER[$rr]} |"
	done
	echo
	genline
} | tee "$W/results.md"

exit "$FAILED"
