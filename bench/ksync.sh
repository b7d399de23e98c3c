#!/bin/bash
#
# Kernel-sync benchmark: N routes into the kernel through podmesh's kernel
# sync (bgp/kernel.c: batches, the real libevent loop; bench/ksync.c), and
# the same routes through `ip -batch`, each into a fresh network namespace
# with a veth next hop:
#
#	veth0 192.0.2.1/24 --- veth1      routes: P via 192.0.2.2 dev veth0
#	                                           proto 44
#
# Per run, in order: podmesh installs N routes (timed from the first
# kernel_update until the last answer), restarts (adopts all N, learns them
# again unchanged: must send nothing), withdraws them; then, in another
# namespace, `ip -batch` adds the same N routes and deletes them (timed
# around the ip process).  The kernel's route count is checked after each
# step.  Ratios are podmesh / ip -batch: below 1 means podmesh is faster;
# the target is under 2.
#
# Usage: bench/ksync.sh [--routes N] [--len 32|26] [--repeat R] [--build DIR]
# /32s come from 198.18.0.0/15 (up to 131072), /26s from 10.0.0.0/8 (up to
# 262144; the namespace is private).  --repeat interleaves R runs of each
# and reports medians.
# Environment: PODMESH_BUILD (build dir, default build/).
# Needs root (network namespaces) and ip.
# Exit status: 0 when every count matched, 1 otherwise.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
BUILD=${PODMESH_BUILD:-$top/build}
ROUTES=100000
LEN=32
REPEAT=1

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case $1 in
	--routes) ROUTES=$2; shift ;;
	--len) LEN=$2; shift ;;
	--repeat) REPEAT=$2; shift ;;
	--build) BUILD=$2; shift ;;
	*) usage ;;
	esac
	shift
done

KSYNC=$BUILD/bench/ksync
[ "$(id -u)" = 0 ] || { echo "ksync.sh: needs root" >&2; exit 2; }
[ -x "$KSYNC" ] || { echo "ksync.sh: no $KSYNC (build target ksync)" >&2; exit 2; }
case $LEN in 32|26) ;; *) usage ;; esac

TMP=$(mktemp -d /tmp/pm-ksync-XXXXXX) || exit 2
NS_ALL=()
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	local ns
	for ns in "${NS_ALL[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# a fresh namespace with veth0 192.0.2.1/24 up, named in $ns (not in a
# subshell, so that the trap knows it)
NSN=0
mkns() {
	ns="pm-ksync-$$-$NSN"
	NSN=$((NSN + 1))
	ip netns add "$ns" || return 1
	NS_ALL+=("$ns")
	ip -n "$ns" link set lo up &&
	ip -n "$ns" link add veth0 type veth peer name veth1 &&
	ip -n "$ns" link set veth0 up &&
	ip -n "$ns" link set veth1 up &&
	ip -n "$ns" addr add 192.0.2.1/24 dev veth0
}

delns() {
	ip netns del "$1"
}

now_us() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}

count() {
	ip -n "$1" -4 route show proto 44 | wc -l
}

# the same prefixes as ksync.c, for ip -batch
awk -v n="$ROUTES" -v len="$LEN" -v op=add -v dev=" dev veth0" '
BEGIN {
	base = len == 32 ? 198 * 16777216 + 18 * 65536 : 10 * 16777216
	for (i = 0; i < n; i++) {
		a = base + (len == 32 ? i : i * 64)
		printf "route %s %d.%d.%d.%d/%d%s proto 44\n", op,
		    int(a / 16777216), int(a / 65536) % 256,
		    int(a / 256) % 256, a % 256, len,
		    op == "add" ? " via 192.0.2.2" dev : ""
	}
}' >"$TMP/add.batch"
sed 's/^route add \([^ ]*\) .*/route del \1 proto 44/' "$TMP/add.batch" \
	>"$TMP/del.batch"

OK=1
declare -a P_INST P_RESTART P_DEL I_INST I_DEL
P_COUNT=- I_COUNT=- P_DCOUNT=- I_DCOUNT=-

field() { # field KEY LINE
	local k=$1 l=$2
	l=${l#*" $k="}
	echo "${l%% *}"
}

for ((r = 0; r < REPEAT; r++)); do
	# podmesh
	mkns || { echo "ksync.sh: cannot make a namespace" >&2; exit 1; }
	if ! ip netns exec "$ns" "$KSYNC" --routes "$ROUTES" --len "$LEN" \
		>"$TMP/ksync.out" 2>"$TMP/ksync.err"; then
		echo "ksync.sh: ksync failed:" >&2
		cat "$TMP/ksync.err" >&2
		exit 1
	fi
	inst=$(grep '^install ' "$TMP/ksync.out")
	rest=$(grep '^restart ' "$TMP/ksync.out")
	wd=$(grep '^withdraw ' "$TMP/ksync.out")
	P_INST+=("$(field seconds "$inst")")
	P_RESTART+=("$(field seconds "$rest")")
	P_DEL+=("$(field seconds "$wd")")
	P_COUNT=$(field kernel "$inst")
	[ "$P_COUNT" = "$ROUTES" ] || OK=0
	[ "$(field requests "$rest")" = 0 ] || { OK=0; echo "restart sent $(field requests "$rest") requests" >&2; }
	[ "$(field kernel "$rest")" = "$ROUTES" ] || OK=0
	P_DCOUNT=$(field kernel "$wd")
	[ "$P_DCOUNT" = 0 ] || OK=0
	[ "$(field failures "$inst")" = 0 ] || OK=0
	delns "$ns"

	# ip -batch, fresh namespace
	mkns || { echo "ksync.sh: cannot make a namespace" >&2; exit 1; }
	t0=$(now_us)
	ip -n "$ns" -batch "$TMP/add.batch" || OK=0
	t1=$(now_us)
	I_COUNT=$(count "$ns")
	[ "$I_COUNT" = "$ROUTES" ] || OK=0
	t2=$(now_us)
	ip -n "$ns" -batch "$TMP/del.batch" || OK=0
	t3=$(now_us)
	I_DCOUNT=$(count "$ns")
	[ "$I_DCOUNT" = 0 ] || OK=0
	I_INST+=("$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f", d / 1e6 }')")
	I_DEL+=("$(awk -v d=$((t3 - t2)) 'BEGIN { printf "%.3f", d / 1e6 }')")
	delns "$ns"
done

median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 }
	    END { if (NR % 2) print v[(NR + 1) / 2];
	          else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
}

pi=$(median "${P_INST[@]}")
pr=$(median "${P_RESTART[@]}")
pd=$(median "${P_DEL[@]}")
ii=$(median "${I_INST[@]}")
id_=$(median "${I_DEL[@]}")

echo "kernel sync: $ROUTES /$LEN routes via 192.0.2.2 dev veth0 proto 44," \
	"kernel $(uname -r), $REPEAT run(s), medians"
echo
echo "| step | podmesh (s) | ip -batch (s) | podmesh / ip -batch | podmesh routes | ip -batch routes |"
echo "|---|---:|---:|---:|---:|---:|"
echo "| install | $pi | $ii | $(ratio "$pi" "$ii") | $P_COUNT | $I_COUNT |"
echo "| delete | $pd | $id_ | $(ratio "$pd" "$id_") | $P_DCOUNT | $I_DCOUNT |"
echo "| restart: adopt + learn again, 0 requests | $pr | - | - | $ROUTES | - |"
[ $OK = 1 ] || { echo "ksync.sh: a count did not match" >&2; exit 1; }
exit 0
