#!/bin/bash
#
# Relay benchmark: one eBGP peer sends COUNT distinct IPv4 prefixes through
# a device under test (DUT) to a second eBGP peer.  Each DUT (podmesh-bgpd,
# BIRD 2, optionally GoBGP) runs in turn in the same invocation, on the
# same topology, and the table gives each one's numbers as a ratio to
# podmesh's.
#
#	sender 192.0.2.1 --- 192.0.2.2  DUT  198.51.100.1 --- 198.51.100.2 receiver
#	AS 65001              AS 64512                         AS 65002
#
# The sender and the receiver are bench/bgpgen (podmesh's codec, far
# cheaper than any DUT: its CPU seconds are in the table).  Per DUT:
#  1. start the DUT (passive to both peers), wait until it listens;
#  2. start the receiver and wait until its session is Established;
#  3. read the DUT's CPU time, start the sender;
#  4. when the receiver holds all COUNT prefixes (it exits), read the DUT's
#     CPU time again and its peak RSS (VmHWM), then stop everything.
# "deliver" = receiver's all_received_at - sender's first_update_at
# (CLOCK_REALTIME, same kernel, so comparable across namespaces).
#
# Usage: bench/relay.sh [--quick] [--count N] [--len 24|32] [--repeat N]
#            [--duts "podmesh bird gobgp"] [--timeout S] [--build DIR] [--keep]
# --quick is 100,000 prefixes with short timeouts (a smoke test, well under
# a minute); the default is 1,000,000.  --repeat runs each DUT N times,
# interleaved, and reports medians (and the range of delivery times).
# Environment: PODMESH_BUILD (build dir, default build/), COUNT, DUTS,
# REPEAT, TIMEOUT (per run, seconds).
# Needs root (network namespaces), bird, ip; gobgpd only if asked for.
# Exit status: 0 when every DUT delivered everything, 1 otherwise.

# the R_* result arrays are read through namerefs (median, ratio)
# shellcheck disable=SC2034
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
BUILD=${PODMESH_BUILD:-$top/build}
COUNT=${COUNT:-1000000}
LEN=${LEN:-24}
DUTS=${DUTS:-podmesh bird}
TIMEOUT=${TIMEOUT:-}
REPEAT=${REPEAT:-1}
KEEP=0
QUICK=0
ARGV=("$@")

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case $1 in
	--quick) QUICK=1; COUNT=100000 ;;
	--count) COUNT=$2; shift ;;
	--len) LEN=$2; shift ;;
	--duts) DUTS=$2; shift ;;
	--timeout) TIMEOUT=$2; shift ;;
	--build) BUILD=$2; shift ;;
	--repeat) REPEAT=$2; shift ;;
	--keep) KEEP=1 ;;
	-h | --help) usage ;;
	*) usage ;;
	esac
	shift
done
case $COUNT$REPEAT in '' | *[!0-9]*) usage ;; esac
# per DUT: the longest the receiver waits for all prefixes
if [ -z "$TIMEOUT" ]; then
	if [ "$QUICK" = 1 ]; then TIMEOUT=20; else TIMEOUT=$((60 + COUNT / 4000)); fi
fi

# A global deadline, so that nothing here can hang: every DUT's budget plus
# setup.  timeout(1) signals the whole group and the trap cleans up.
if [ -z "${PMB_UNDER_DEADLINE:-}" ]; then
	export PMB_UNDER_DEADLINE=1
	ndut=$(echo $DUTS | wc -w)
	exec timeout -k 10 $((30 + REPEAT * ndut * (2 * TIMEOUT + 40))) \
	    bash "$0" "${ARGV[@]}"
fi

BGPGEN=$BUILD/bench/bgpgen
BGPD=$BUILD/bgp/podmesh-bgpd
NS_S="pmb-$$-snd"
NS_D="pmb-$$-dut"
NS_R="pmb-$$-rcv"
W=$(mktemp -d /tmp/pmb-relay.XXXXXX) || exit 1
PIDS=()
FAILED=0

log() { echo "relay: $*" >&2; }

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
	for p in "$NS_S" "$NS_D" "$NS_R"; do
		ip netns del "$p" 2>/dev/null
	done
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

[ "$(id -u)" = 0 ] || die "needs root for network namespaces"
[ -x "$BGPGEN" ] || die "$BGPGEN not built (cmake --build $BUILD --target bgpgen)"

# ---------------------------------------------------------------------------
# Topology: three namespaces, two veth pairs, created directly inside the
# namespaces so nothing appears in the root namespace even for a moment.

ip netns add "$NS_S" && ip netns add "$NS_D" && ip netns add "$NS_R" ||
    die "cannot create namespaces"
ip link add s0 netns "$NS_S" type veth peer name d0 netns "$NS_D" &&
    ip link add d1 netns "$NS_D" type veth peer name r0 netns "$NS_R" ||
    die "cannot create veth pairs"
ip -n "$NS_S" addr add 192.0.2.1/24 dev s0
ip -n "$NS_D" addr add 192.0.2.2/24 dev d0
ip -n "$NS_D" addr add 198.51.100.1/24 dev d1
ip -n "$NS_R" addr add 198.51.100.2/24 dev r0
for ns in "$NS_S" "$NS_D" "$NS_R"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link set s0 up
ip -n "$NS_D" link set d0 up
ip -n "$NS_D" link set d1 up
ip -n "$NS_R" link set r0 up

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

dut_listening() {
	kill -0 "$DUT_PID" 2>/dev/null || return 1
	[ -n "$(ip netns exec "$NS_D" ss -Hltn 'sport = :179')" ]
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

# VmHWM (peak RSS) and VmRSS (now) of PID in kB
peak_kb() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

# jget FILE KEY: a number from bgpgen's one-line JSON ("" if null/absent)
jget() {
	sed -n "s/.*\"$2\":\([-0-9.eE+]*\)[,}].*/\1/p" "$1" | head -1
}

stop() {
	[ -n "${1:-}" ] || return 0
	kill "$1" 2>/dev/null
	wait_for 5 eval "! kill -0 $1 2>/dev/null" || kill -9 "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	return 0
}

# ---------------------------------------------------------------------------
# DUTs: each start_* writes its config under $d, starts the daemon in the
# DUT namespace and sets DUT_PID.  All are passive: the generators connect.

start_podmesh() {
	[ -x "$BGPD" ] || { log "podmesh: $BGPD not built"; return 1; }
	cat >"$d/podmesh.yaml" <<-EOF
		router-id: 192.0.2.2
		asn: 64512
		listen: {address: 0.0.0.0, port: 179}
		control-socket: $d/podmesh.sock
		hold-time: 90
		peers:
		  - address: 192.0.2.1
		    asn: 65001
		    passive: true
		  - address: 198.51.100.2
		    asn: 65002
		    passive: true
	EOF
	"$BGPD" --check -c "$d/podmesh.yaml" >"$d/dut.log" 2>&1 ||
	    { log "podmesh: config rejected: $(tail -3 "$d/dut.log")"; return 1; }
	ip netns exec "$NS_D" "$BGPD" -c "$d/podmesh.yaml" >>"$d/dut.log" 2>&1 &
	DUT_PID=$!
}

start_bird() {
	command -v bird >/dev/null || { log "bird: not installed"; return 1; }
	cat >"$d/bird.conf" <<-EOF
		router id 192.0.2.2;
		log stderr { warning, error, fatal, bug };
		protocol device { }
		protocol bgp sender {
		    local 192.0.2.2 as 64512;
		    neighbor 192.0.2.1 as 65001;
		    passive on;
		    hold time 90;
		    ipv4 { import all; export all; };
		}
		protocol bgp receiver {
		    local 198.51.100.1 as 64512;
		    neighbor 198.51.100.2 as 65002;
		    passive on;
		    hold time 90;
		    ipv4 { import all; export all; };
		}
	EOF
	bird -p -c "$d/bird.conf" >"$d/dut.log" 2>&1 ||
	    { log "bird: config rejected: $(cat "$d/dut.log")"; return 1; }
	ip netns exec "$NS_D" bird -f -c "$d/bird.conf" -s "$d/bird.ctl" \
	    >>"$d/dut.log" 2>&1 &
	DUT_PID=$!
}

start_gobgp() {
	command -v gobgpd >/dev/null || { log "gobgp: not installed"; return 1; }
	cat >"$d/gobgpd.toml" <<-EOF
		[global.config]
		  as = 64512
		  router-id = "192.0.2.2"
		  port = 179
		[[neighbors]]
		  [neighbors.config]
		    neighbor-address = "192.0.2.1"
		    peer-as = 65001
		  [neighbors.transport.config]
		    passive-mode = true
		  [[neighbors.afi-safis]]
		    [neighbors.afi-safis.config]
		      afi-safi-name = "ipv4-unicast"
		[[neighbors]]
		  [neighbors.config]
		    neighbor-address = "198.51.100.2"
		    peer-as = 65002
		  [neighbors.transport.config]
		    passive-mode = true
		  [[neighbors.afi-safis]]
		    [neighbors.afi-safis.config]
		      afi-safi-name = "ipv4-unicast"
	EOF
	ip netns exec "$NS_D" gobgpd -f "$d/gobgpd.toml" -t toml -l warn \
	    --api-hosts 127.0.0.1:50051 >"$d/dut.log" 2>&1 &
	DUT_PID=$!
}

# run_dut NAME REP: one measurement; fills R_*[NAME.REP], 0 when all
# delivered
declare -A R_STATUS R_DELIVER R_CPU R_PEAK R_PERPFX R_SENDCPU R_RECVCPU
run_dut() {
	local name=$1 key=$1.$2 rpid spid cpu0 cpu1 peak hz t0 t1 rc sample rss0
	d=$W/$key
	mkdir -p "$d"
	R_STATUS[$key]=failed
	DUT_PID=
	log "$name: run $2 of $REPEAT"
	if ! "start_$name"; then
		R_STATUS[$key]="not run"
		return 1
	fi
	PIDS+=("$DUT_PID")
	if ! wait_for 20 dut_listening; then
		log "$name: not listening on port 179; log: $(tail -5 "$d/dut.log")"
		stop "$DUT_PID"
		return 1
	fi

	ip netns exec "$NS_R" "$BGPGEN" recv --local 198.51.100.2 \
	    --peer 198.51.100.1 --asn 65002 --peer-asn 64512 \
	    --expect "$COUNT" --len "$LEN" --timeout "$TIMEOUT" \
	    --ready-file "$d/recv.ready" >"$d/recv.json" 2>"$d/recv.log" &
	rpid=$!
	PIDS+=("$rpid")
	if ! wait_for 20 test -e "$d/recv.ready"; then
		log "$name: receiver never Established: $(tail -3 "$d/recv.log")"
		stop "$rpid"
		stop "$DUT_PID"
		return 1
	fi

	cpu0=$(cpu_ticks "$DUT_PID")
	rss0=$(rss_kb "$DUT_PID")
	ip netns exec "$NS_S" "$BGPGEN" send --local 192.0.2.1 \
	    --peer 192.0.2.2 --asn 65001 --peer-asn 64512 --count "$COUNT" \
	    --len "$LEN" --timeout "$TIMEOUT" --hold-after $((TIMEOUT + 30)) \
	    >"$d/send.json" 2>"$d/send.log" &
	spid=$!
	PIDS+=("$spid")

	wait "$rpid"
	rc=$?
	cpu1=$(cpu_ticks "$DUT_PID") || cpu1=
	peak=$(peak_kb "$DUT_PID") || peak=
	wait_for 5 test -s "$d/send.json"
	stop "$spid"
	stop "$DUT_PID"

	hz=$(getconf CLK_TCK)
	t0=$(jget "$d/send.json" first_update_at)
	t1=$(jget "$d/recv.json" all_received_at)
	R_SENDCPU[$key]=$(jget "$d/send.json" cpu_s)
	R_RECVCPU[$key]=$(jget "$d/recv.json" cpu_s)
	if [ -n "$cpu0" ] && [ -n "$cpu1" ]; then
		R_CPU[$key]=$(awk -v a="$cpu0" -v b="$cpu1" -v hz="$hz" \
		    'BEGIN { printf "%.2f", (b - a) / hz }')
	fi
	if [ -n "$peak" ]; then
		R_PEAK[$key]=$(awk -v k="$peak" 'BEGIN { printf "%.1f", k / 1024 }')
		R_PERPFX[$key]=$(awk -v k="$peak" -v k0="${rss0:-0}" -v n="$COUNT" \
		    'BEGIN { printf "%.0f", (k - k0) * 1024 / n }')
	fi
	if [ "$rc" != 0 ] || [ -z "$t0" ] || [ -z "$t1" ]; then
		log "$name: did not deliver all $COUNT prefixes (receiver exit $rc):"
		log "  receiver: $(cat "$d/recv.json") $(tail -2 "$d/recv.log")"
		log "  sender:   $(cat "$d/send.json") $(tail -2 "$d/send.log")"
		log "  DUT log:  $(tail -5 "$d/dut.log")"
		R_STATUS[$key]="failed ($(jget "$d/recv.json" received) received)"
		return 1
	fi
	# eBGP relaying: the DUT prepends its AS and sets itself as next hop
	sample=$(sed -n 's/.*"sample":{"nexthop":"\([^"]*\)","as_path":\[\([0-9,]*\)\]}.*/\1 path \2/p' \
	    "$d/recv.json")
	if [ "$sample" != "198.51.100.1 path 64512,65001" ]; then
		log "$name: routes arrived as '$sample', not '198.51.100.1 path 64512,65001'"
		R_STATUS[$key]="wrong route: $sample"
		return 1
	fi
	R_DELIVER[$key]=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
	R_STATUS[$key]=ok
	log "$name: delivered $COUNT in ${R_DELIVER[$key]} s, CPU ${R_CPU[$key]:-?} s, peak RSS ${R_PEAK[$key]:-?} MiB"
	return 0
}

# ---------------------------------------------------------------------------

for dut in $DUTS; do
	case $dut in
	podmesh | bird | gobgp) ;;
	*) die "unknown DUT $dut (podmesh, bird, gobgp)" ;;
	esac
done
# interleaved, so that a noisy neighbour on the machine hits all DUTs alike
for rep in $(seq 1 "$REPEAT"); do
	for dut in $DUTS; do
		run_dut "$dut" "$rep" || FAILED=1
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

# the summary per DUT: M_*[NAME]
declare -A M_STATUS M_DELIVER M_CPU M_PEAK M_PERPFX M_SENDCPU M_RECVCPU M_RANGE
for dut in $DUTS; do
	M_STATUS[$dut]=ok
	for rep in $(seq 1 "$REPEAT"); do
		[ "${R_STATUS[$dut.$rep]}" = ok ] || M_STATUS[$dut]=${R_STATUS[$dut.$rep]}
	done
	M_DELIVER[$dut]=$(median R_DELIVER "$dut")
	M_CPU[$dut]=$(median R_CPU "$dut")
	M_PEAK[$dut]=$(median R_PEAK "$dut")
	M_PERPFX[$dut]=$(median R_PERPFX "$dut")
	M_SENDCPU[$dut]=$(median R_SENDCPU "$dut" | awk '{ printf "%.3f", $1 }')
	M_RECVCPU[$dut]=$(median R_RECVCPU "$dut" | awk '{ printf "%.3f", $1 }')
	M_RANGE[$dut]=$(for rep in $(seq 1 "$REPEAT"); do
		echo "${R_DELIVER[$dut.$rep]:-}"
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

{
	echo
	echo "Relay: $COUNT distinct IPv4 /$LEN prefixes, eBGP 65001 -> DUT 64512 -> 65002," \
	    "veth between three network namespaces; median of $REPEAT run(s)."
	echo "$(nproc) CPUs, $(uname -r); $(bird --version 2>&1 | head -1);" \
	    "podmesh $(git -C "$top" describe --always --dirty 2>/dev/null || echo '?')."
	echo "Reproduce: sudo PODMESH_BUILD=$BUILD bench/relay.sh$(printf ' %q' "${ARGV[@]}")"
	echo "Ratios are DUT / podmesh (above 1 = podmesh is faster or smaller)." \
	    "growth / prefix = (peak RSS - RSS before the sender started) / prefixes."
	echo
	echo "| DUT | result | deliver all (s) | ratio | DUT CPU (s) | ratio | DUT peak RSS (MiB) | ratio | growth / prefix (B) | sender CPU (s) | receiver CPU (s) |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for dut in $DUTS; do
		rng=${M_RANGE[$dut]}
		echo "| $dut | ${M_STATUS[$dut]} | ${M_DELIVER[$dut]}${rng:+ ($rng)} | $(ratio M_DELIVER "$dut") |" \
		    "${M_CPU[$dut]} | $(ratio M_CPU "$dut") | ${M_PEAK[$dut]} | $(ratio M_PEAK "$dut") |" \
		    "${M_PERPFX[$dut]} | ${M_SENDCPU[$dut]} | ${M_RECVCPU[$dut]} |"
	done
} | tee "$W/results.md"

exit "$FAILED"
