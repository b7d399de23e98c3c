#!/bin/bash
#
# CNI benchmark: the latency of one pod's ADD + DEL through the podmesh
# plugin and podmesh-ipam (Calico's wiring, Calico's IPAM on a real etcd)
# beside Debian's bridge + host-local (containernetworking-plugins in
# /usr/lib/cni), in the same run, sequentially and with P runners at once.
#
#	infra  br0 192.0.2.254/24, etcd on :2379
#	n1     eth0 192.0.2.11/24: the node; every runner runs here
#	pods   one fresh network namespace per ADD + DEL
#
# Every side is driven the same way: podmesh-cnitool (the runner, playing
# the container runtime) inside the node namespace, given the side's
# conflist, a pod namespace made before the timed part and Kubernetes'
# CNI_ARGS.  The timed part is `runner add` then `runner del` for that pod,
# timed in the worker shell from $EPOCHREALTIME (no fork to read it; the
# wall clock, so a clock step would show as one outlier).  A third side,
# the runner with a tiny C plugin that prints a canned result ("fake"),
# shows what is the runner's and the fork/exec's own cost, and a fourth
# row times that plugin exec'd directly, to show it is cheap.  Every plugin
# binary is also exec'd with CNI_COMMAND=VERSION alone: what starting each
# process costs (bridge's ADD and DEL start two, bridge and host-local;
# podmesh's one, since it runs podmesh-ipam in its own process).
#
# The sides take turns in rounds (the order rotating), so a noisy
# neighbour on the shared machine hits all of them alike.  Each iteration
# checks that ADD and DEL exited 0 and that ADD's result holds an address
# of the side's range; each round, that no link is left in the node (only
# lo, eth0, cni0) nor in its pods (only lo); at the end, that podmesh's
# IPAM holds no address, handle or WorkloadEndpoint (`podmeshctl ipam show`
# and `ipam check` clean), that host-local's dataDir holds no reservation
# and that the runner's result cache is empty.
#
# Usage: bench/cni.sh [--n N] [--parallel P] [--rounds R] [--quick]
#                     [--sides podmesh,bridge,fake,podmesh-ipam,host-local|all]
#                     [--build DIR] [--keep]
# --n: ADD+DELs per side, sequential, and again in parallel as P runners
# x N/P each (default 200, P 4); --quick: N 20 in 4 rounds, the form
# tests/integration/t_bench_cni.sh runs; --rounds: how many rounds the
# iterations are spread over (default 10); --sides: which sides (default
# the first three; podmesh-ipam and host-local are the IPAM plugins alone
# through the runner; all: the five); --keep: keep the temp dir (logs, raw
# samples).
# Environment: PODMESH_BUILD (build dir, default build/; --build DIR sets
# it), PODMESH_CNITOOL (another runner binary, for trying the script),
# PM_TIMEOUT (overall deadline, s; default 180 + 2 N).
# Needs root (network namespaces), ip, etcd, jq, cc (for the fake plugin).
# Exit status: 0 when every ADD and DEL succeeded and nothing was left
# behind, 1 otherwise, 2 for a usage error or a missing binary.  Times are
# reported, never judged.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
N=200
P=4
ROUNDS=10
SIDES=podmesh,bridge,fake

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

ARGV=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--n) N=${2:-}; shift ;;
	--parallel) P=${2:-}; shift ;;
	--rounds) ROUNDS=${2:-}; shift ;;
	--quick) N=20; ROUNDS=4 ;;
	--sides) SIDES=${2:-}; shift ;;
	--build) PODMESH_BUILD=$(cd "${2:-.}" && pwd) || exit 2; shift ;;
	--keep) export PM_KEEP=1 ;;
	*) usage ;;
	esac
	shift
done
for v in "$N" "$P" "$ROUNDS"; do
	[[ $v =~ ^[1-9][0-9]*$ ]] || usage
done
[ "$N" -ge "$P" ] || { echo "cni.sh: --n must be at least --parallel" >&2; exit 2; }
[ "$ROUNDS" -le "$((N / P))" ] || ROUNDS=$((N / P))
declare -A WANT=()
IFS=, read -ra _s <<<"$SIDES"
for s in "${_s[@]}"; do
	case $s in
	podmesh|bridge|fake|podmesh-ipam|host-local) WANT[$s]=1 ;;
	all) for x in podmesh bridge fake podmesh-ipam host-local; do WANT[$x]=1; done ;;
	*) usage ;;
	esac
done
[ ${#WANT[@]} -gt 0 ] || usage
[ "$(id -u)" = 0 ] || { echo "cni.sh: needs root" >&2; exit 2; }

export PODMESH_BUILD=${PODMESH_BUILD:-$top/build}
export PODMESH_SRC=$top
export PM_TIMEOUT=${PM_TIMEOUT:-$((180 + 2 * N))}
set -- "${ARGV[@]}" # lib.sh re-runs the script with them
# lib.sh: the deadline (re-runs this script under timeout(1)), the temp
# dir $PM_TMP, namespaces and the trap that removes them and stops etcd
# whatever happens; node_lib.sh: the underlay, node_add, etcd, nctl.
# shellcheck disable=SC1091
. "$top/tests/integration/lib.sh"
# shellcheck disable=SC1091
. "$top/tests/integration/node_lib.sh"

TOOL=${PODMESH_CNITOOL:-$PODMESH_BUILD/cni/podmesh-cnitool}
need() {
	[ -x "$1" ] || { log "missing: $1 ($2)"; exit 2; }
}
need "$TOOL" "cmake --build $PODMESH_BUILD --target podmesh-cnitool"
ETCD_SIDE=
if [ -n "${WANT[podmesh]:-}${WANT[podmesh-ipam]:-}" ]; then
	ETCD_SIDE=1
	need "$PODMESH_BUILD/cni/podmesh" "target podmesh"
	need "$PODMESH_BUILD/cni/podmesh-ipam" "target podmesh-ipam"
	need "$PODMESHCTL" "target podmeshctl"
fi
if [ -n "${WANT[bridge]:-}${WANT[host-local]:-}" ]; then
	need /usr/lib/cni/bridge "apt-get install containernetworking-plugins"
	need /usr/lib/cni/host-local "apt-get install containernetworking-plugins"
fi
SIDE_LIST=()
for s in podmesh bridge fake podmesh-ipam host-local; do
	[ -n "${WANT[$s]:-}" ] && SIDE_LIST+=("$s")
done

# ---------------------------------------------------------------------------
# The fake plugin: reads its config, prints a canned 1.0.0 result at ADD,
# nothing at DEL.  C and static, so that it costs about one fork + exec.

mkdir -p "$PM_TMP/bin" "$PM_TMP/out"
cat >"$PM_TMP/pmfake.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int
main(void)
{
	char buf[16384];
	const char *cmd = getenv("CNI_COMMAND"), *ns = getenv("CNI_NETNS");

	while (read(0, buf, sizeof(buf)) > 0)
		;
	if (cmd == NULL)
		return 1;
	if (strcmp(cmd, "ADD") == 0)
		printf("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":"
		    "\"eth0\",\"sandbox\":\"%s\"}],\"ips\":[{\"address\":"
		    "\"198.18.255.254/32\",\"interface\":0}]}\n",
		    ns != NULL ? ns : "");
	else if (strcmp(cmd, "VERSION") == 0)
		printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":"
		    "[\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
	return 0;
}
EOF
FAKE=$PM_TMP/bin/pmfake
cc -O2 -static -o "$FAKE" "$PM_TMP/pmfake.c" 2>/dev/null ||
    cc -O2 -o "$FAKE" "$PM_TMP/pmfake.c" || { log "cannot compile the fake plugin"; exit 2; }

# ---------------------------------------------------------------------------
# Configurations (one conflist per side, cniVersion 1.0.0 everywhere).

HL_DIR=$PM_TMP/host-local
cat >"$PM_TMP/podmesh.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "podmesh-bench", "plugins": [
  {"type": "podmesh", "etcd_endpoints": "$NODE_ETCD_URL", "nodename": "n1",
   "log_level": "warning", "mtu": 1500, "ipam": {"type": "podmesh-ipam"}}]}
EOF
cat >"$PM_TMP/bridge.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "bridge-bench", "plugins": [
  {"type": "bridge", "bridge": "cni0", "isGateway": true,
   "ipam": {"type": "host-local", "subnet": "198.19.0.0/16",
            "dataDir": "$HL_DIR"}}]}
EOF
# the IPAM plugins alone (--sides podmesh-ipam,host-local): where the time
# of the two sides above goes
cat >"$PM_TMP/podmesh-ipam.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "ipam-bench", "plugins": [
  {"type": "podmesh-ipam", "etcd_endpoints": "$NODE_ETCD_URL", "nodename": "n1",
   "log_level": "warning", "ipam": {"type": "podmesh-ipam"}}]}
EOF
cat >"$PM_TMP/host-local.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "host-local-bench", "plugins": [
  {"type": "host-local",
   "ipam": {"type": "host-local", "subnet": "198.19.0.0/16",
            "dataDir": "$HL_DIR"}}]}
EOF
cat >"$PM_TMP/fake.conflist" <<EOF
{"cniVersion": "1.0.0", "name": "fake-bench", "plugins": [{"type": "pmfake"}]}
EOF
echo '{"cniVersion": "1.0.0"}' >"$PM_TMP/version.json"
# what ADD's result must hold, per side
declare -A ADDR_RE=(
	[podmesh]='^198\.18\.[0-9]+\.[0-9]+/32$'
	[bridge]='^198\.19\.[0-9]+\.[0-9]+/16$'
	[fake]='^198\.18\.255\.254/32$'
	[podmesh-ipam]='^198\.18\.[0-9]+\.[0-9]+/(26|32)$'
	[host-local]='^198\.19\.[0-9]+\.[0-9]+/16$'
)
declare -A LABEL=(
	[podmesh]="podmesh + podmesh-ipam (etcd)"
	[bridge]="bridge + host-local"
	[fake]="runner + fake plugin"
	[direct]="fake plugin alone (2 execs)"
	[podmesh-ipam]="podmesh-ipam alone (etcd)"
	[host-local]="host-local alone"
)
# what each row's ratio is to
declare -A REF=([podmesh]=bridge [bridge]=bridge [fake]=bridge [direct]=bridge
	[podmesh-ipam]=host-local [host-local]=host-local)

export CNI_PATH=$PM_TMP/bin:$PODMESH_BUILD/cni:/usr/lib/cni
export CNI_IFNAME=eth0
export PODMESH_CNI_CACHE=$PM_TMP/cache

# ---------------------------------------------------------------------------
# The worker, run inside the node namespace:
#   worker.sh SIDE OUT POD...   runner add + del per POD (the timed part)
#   worker.sh direct OUT COUNT  the fake plugin exec'd directly, ADD + DEL
#   worker.sh start OUT COUNT BIN...  each BIN exec'd with VERSION: what
#                               starting that process costs ("BIN us rc")
# One line per iteration to OUT.res: "pod add_us del_us add_rc del_rc
# address verdict"; what a failed iteration printed goes to OUT.fail.

cat >"$PM_TMP/worker.sh" <<'EOF'
side=$1 out=$2
shift 2
if [ "$side" = direct ]; then
	for ((i = 0; i < $1; i++)); do
		t0=$EPOCHREALTIME
		CNI_COMMAND=ADD CNI_NETNS=/x CNI_CONTAINERID=c$i "$FAKE" \
		    <"$PM_TMP/fake.conflist" >"$out.add"
		a=$?
		t1=$EPOCHREALTIME
		CNI_COMMAND=DEL CNI_NETNS=/x CNI_CONTAINERID=c$i "$FAKE" \
		    <"$PM_TMP/fake.conflist" >"$out.del"
		d=$?
		t2=$EPOCHREALTIME
		t0=${t0/[.,]/} t1=${t1/[.,]/} t2=${t2/[.,]/}
		v=ok
		[ $a = 0 ] && [ $d = 0 ] || v=exit
		echo "direct$i $((10#$t1 - 10#$t0)) $((10#$t2 - 10#$t1)) $a $d - $v"
	done >>"$out.res"
	exit 0
fi
if [ "$side" = start ]; then
	n=$1
	shift
	for ((i = 0; i < n; i++)); do
		for b; do
			t0=$EPOCHREALTIME
			CNI_COMMAND=VERSION "$b" <"$PM_TMP/version.json" >"$out.add" 2>&1
			a=$?
			t1=$EPOCHREALTIME
			t0=${t0/[.,]/} t1=${t1/[.,]/}
			echo "${b##*/} $((10#$t1 - 10#$t0)) $a"
		done
	done >>"$out.start"
	exit 0
fi
conf=$PM_TMP/$side.conflist
re=$PM_ADDR_RE
for p; do
	printf -v cid '%s%054x' "$PM_RUN" "${p##*-}"
	export CNI_CONTAINERID=$cid
	export CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=bench;K8S_POD_NAME=$p;K8S_POD_INFRA_CONTAINER_ID=$cid"
	t0=$EPOCHREALTIME
	"$TOOL" add "$conf" "/var/run/netns/$p" >"$out.add" 2>>"$out.err"
	a=$?
	t1=$EPOCHREALTIME
	"$TOOL" del "$conf" "/var/run/netns/$p" >"$out.del" 2>>"$out.err"
	d=$?
	t2=$EPOCHREALTIME
	t0=${t0/[.,]/} t1=${t1/[.,]/} t2=${t2/[.,]/}
	res=
	read -r -d '' res <"$out.add"
	addr=-
	[[ $res =~ \"address\"[[:space:]]*:[[:space:]]*\"([^\"]*)\" ]] &&
	    addr=${BASH_REMATCH[1]}
	v=ok
	if [ $a != 0 ] || [ $d != 0 ]; then
		v=exit
	elif ! [[ $addr =~ $re ]]; then
		v=address
	fi
	if [ $v != ok ]; then
		{
			echo "== $p: add exit $a, del exit $d, address $addr"
			echo "$res"
			cat "$out.del"
		} >>"$out.fail"
	fi
	echo "$p $((10#$t1 - 10#$t0)) $((10#$t2 - 10#$t1)) $a $d $addr $v" >>"$out.res"
done
exit 0
EOF
# 10 hex digits of this run, so that container ids differ between runs
PM_RUN=$(printf '%010x' $((($$ << 20) ^ ${EPOCHSECONDS:-0})) | tail -c 10)
export TOOL FAKE PM_TMP PM_RUN

NODE_NS=
PODSEQ=0
LEFTOVER=0
BASE_NS=()

# run_round MODE SIDE RUNNERS COUNT: RUNNERS workers at once, COUNT pods
# each, on SIDE; their lines go to out/MODE.SIDE.J.res.  Pods are made before
# and deleted after (ip -batch, untimed); links are checked in between.
run_round() {
	local mode=$1 side=$2 runners=$3 count=$4 j k p pods=() batch
	local -a pids=() mine
	[ "$count" -gt 0 ] || return 0
	case $side in
	direct)
		ip netns exec "$NODE_NS" bash "$PM_TMP/worker.sh" direct \
		    "$PM_TMP/out/seq.direct.0" "$count" || fail "the fake plugin alone"
		return
		;;
	start)
		ip netns exec "$NODE_NS" bash "$PM_TMP/worker.sh" start \
		    "$PM_TMP/out/start" "$count" "${START_BINS[@]}" ||
		    fail "exec'ing the plugins"
		return
		;;
	esac
	BASE_NS=("${PM_NS[@]}")
	batch=
	for ((k = 0; k < runners * count; k++)); do
		PODSEQ=$((PODSEQ + 1))
		p=$(ns "pod-$PODSEQ")
		pods+=("$p")
		batch+="netns add $p"$'\n'
	done
	PM_NS+=("${pods[@]}")
	ip -batch - <<<"$batch" >/dev/null || fail "cannot make pod namespaces"
	local t0=$EPOCHREALTIME
	for ((j = 0; j < runners; j++)); do
		mine=("${pods[@]:j*count:count}")
		PM_ADDR_RE=${ADDR_RE[$side]} ip netns exec "$NODE_NS" bash \
		    "$PM_TMP/worker.sh" "$side" "$PM_TMP/out/$mode.$side.$j" \
		    "${mine[@]}" &
		pids+=($!)
	done
	for j in "${pids[@]}"; do
		wait "$j"
	done
	local t1=$EPOCHREALTIME
	WALL[$mode.$side]=$((${WALL[$mode.$side]:-0} + $(_us "$t1") - $(_us "$t0")))
	check_links "${pods[@]}"
	ip -batch - <<<"${batch//netns add/netns del}" >/dev/null ||
	    log "warning: could not delete every pod namespace"
	PM_NS=("${BASE_NS[@]}")
}

_us() {
	local t=${1/[.,]/}
	echo $((10#$t))
}

# check_links POD...: every POD holds only lo (its DEL removed its eth0),
# the node only lo, eth0 and cni0.  Pods first: deleting a veth left in
# the node would take the pod's end with it.
check_links() {
	local p l extra
	for p in "$@"; do
		l=$(ip -n "$p" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
		    grep -vx lo)
		[ -z "$l" ] && continue
		log "left in pod $p: ${l//$'\n'/ }"
		LEFTOVER=$((LEFTOVER + 1))
	done
	extra=$(ip -n "$NODE_NS" -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
	    grep -vxE 'lo|eth0|cni0')
	if [ -n "$extra" ]; then
		log "left in the node: ${extra//$'\n'/ }"
		LEFTOVER=$((LEFTOVER + $(wc -l <<<"$extra")))
		for l in $extra; do
			ip -n "$NODE_NS" link del "$l" 2>/dev/null
		done
	fi
}

declare -A WALL=()

# ---------------------------------------------------------------------------
# The cluster: one node, etcd, an IPPool and the Node resource.

# shellcheck disable=SC2119 # one subnet
underlay
node_add n1
NODE_NS=$(ns n1)
if [ -n "$ETCD_SIDE" ]; then
	node_etcd_start
	cat >"$PM_TMP/cluster.yaml" <<EOF
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bench-pool}
spec: {cidr: $NODE_POOL, blockSize: 26, ipipMode: Never, natOutgoing: false}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec: {bgp: {ipv4Address: 192.0.2.11/24}}
EOF
	out=$(nctl apply -f "$PM_TMP/cluster.yaml" 2>&1) || fail "apply: $out"
fi

log "sides: ${SIDE_LIST[*]}; $N sequential and ${P}x$((N / P)) parallel per side, $ROUNDS rounds; runner $TOOL"

# etcd's WAL fsyncs "count sum_seconds": every write the IPAM and the
# WorkloadEndpoints make waits for one (batched under load)
etcd_fsyncs() {
	nsx infra curl -sf --max-time 5 "$NODE_ETCD_URL/metrics" | awk '
	$1 == "etcd_disk_wal_fsync_duration_seconds_count" { c = $2 }
	$1 == "etcd_disk_wal_fsync_duration_seconds_sum" { s = $2 }
	END { printf "%d %s\n", c, s + 0 }'
}
FSYNC0=
[ -n "$ETCD_SIDE" ] && FSYNC0=$(etcd_fsyncs)
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# Warm-up, not counted: podmesh claims its block, bridge makes cni0, the
# binaries are in the page cache.
for s in "${SIDE_LIST[@]}"; do
	run_round warm "$s" 1 1
done

# ---------------------------------------------------------------------------
# The rounds.  Iterations are spread over ROUNDS rounds; in each round
# every side runs its share, sequential then parallel, the side order
# rotating from round to round.

share() { # share TOTAL ROUND: round's part of TOTAL over ROUNDS rounds
	echo $((($1 * ($2 + 1)) / ROUNDS - ($1 * $2) / ROUNDS))
}

# Two more kinds take their turn in the sequential part, with no pods:
# the fake plugin exec'd directly (the fake side's own cost), and every
# plugin binary exec'd with VERSION (what starting each process costs).
SEQ_LIST=("${SIDE_LIST[@]}")
[ -n "${WANT[fake]:-}" ] && SEQ_LIST+=(direct)
SEQ_LIST+=(start)
START_BINS=("$FAKE")
[ -n "$ETCD_SIDE" ] &&
    START_BINS+=("$PODMESH_BUILD/cni/podmesh" "$PODMESH_BUILD/cni/podmesh-ipam")
[ -n "${WANT[bridge]:-}${WANT[host-local]:-}" ] &&
    START_BINS+=(/usr/lib/cni/bridge /usr/lib/cni/host-local)
NSIDES=${#SIDE_LIST[@]}
NSEQ=${#SEQ_LIST[@]}
for ((r = 0; r < ROUNDS; r++)); do
	for ((i = 0; i < NSEQ; i++)); do
		s=${SEQ_LIST[(i + r) % NSEQ]}
		run_round seq "$s" 1 "$(share "$N" "$r")"
	done
	for ((i = 0; i < NSIDES; i++)); do
		s=${SIDE_LIST[(i + r) % NSIDES]}
		run_round par "$s" "$P" "$(share $((N / P)) "$r")"
	done
	log "round $((r + 1))/$ROUNDS done"
done

# ---------------------------------------------------------------------------
# What is left behind.

PROBLEMS=0
problem() {
	log "PROBLEM: $*"
	PROBLEMS=$((PROBLEMS + 1))
}

[ "$LEFTOVER" = 0 ] || problem "$LEFTOVER links left behind (see above)"
bad=$(cat "$PM_TMP"/out/*.res | awk '$7 != "ok"' | wc -l)
if [ "$bad" != 0 ]; then
	problem "$bad iterations failed:"
	cat "$PM_TMP"/out/*.fail 2>/dev/null | head -40 >&2
fi
FSYNC1=
[ -n "$ETCD_SIDE" ] && FSYNC1=$(etcd_fsyncs)
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
bad=$(awk '$3 != 0' "$PM_TMP/out/start.start" | wc -l)
[ "$bad" = 0 ] || problem "$bad VERSION execs failed: $(awk '$3 != 0 { print $1 }' "$PM_TMP/out/start.start" | sort -u | paste -sd' ')"
if [ -n "$ETCD_SIDE" ]; then
	inuse=$(nctl ipam show -o json |
	    jq '[.pools[]?.in_use, .blocks_without_pool[]?.in_use] | add // 0') ||
	    problem "podmeshctl ipam show failed"
	[ "$inuse" = 0 ] || problem "podmesh IPAM: $inuse addresses still in use"
	out=$(nctl ipam check 2>&1) || problem "podmeshctl ipam check failed: $out"
	grep -q '^Check complete; found 0 problems' <<<"$out" ||
	    problem "podmeshctl ipam check: $out"
	n=$(ectl get --prefix /calico/ipam/v2/handle/ --keys-only | grep -c .)
	[ "$n" = 0 ] || problem "$n IPAM handles left"
	n=$(ectl get --prefix /calico/resources/v3/projectcalico.org/workloadendpoints/ \
	    --keys-only | grep -c .)
	[ "$n" = 0 ] || problem "$n WorkloadEndpoints left"
fi
if [ -n "${WANT[bridge]:-}${WANT[host-local]:-}" ]; then
	rest=$(find "$HL_DIR" -type f ! -name lock ! -name 'last_reserved_ip*' 2>/dev/null)
	[ -z "$rest" ] || problem "host-local still holds: ${rest//$'\n'/ }"
fi
rest=$(find "$PODMESH_CNI_CACHE" -type f 2>/dev/null)
[ -z "$rest" ] || problem "the runner's cache still holds: ${rest//$'\n'/ }"

# ---------------------------------------------------------------------------
# The table.  Per row: the ADD+DEL times in ms, nearest-rank percentiles.

# pct COLUMN: "p50 p99 mean" (ms) of that column of stdin (us)
pct() {
	cut -d' ' -f"$1" | sort -n | awk '
	function at(q,   i) { i = int(NR * q + 0.999999); return v[i < 1 ? 1 : i] }
	{ v[NR] = $1; s += $1 }
	END { printf "%.2f %.2f %.2f\n", at(0.5) / 1000, at(0.99) / 1000, s / NR / 1000 }'
}

# stats FILE...: "n p50 p99 mean add_p50 del_p50" (ms) of the ok lines
stats() {
	local ok n t a d
	ok=$(cat "$@" 2>/dev/null | awk '$7 == "ok" { print $2 + $3, $2, $3 }')
	n=$(grep -c . <<<"$ok")
	[ "$n" = 0 ] && { echo "0 - - - - -"; return; }
	t=$(pct 1 <<<"$ok")
	a=$(pct 2 <<<"$ok")
	d=$(pct 3 <<<"$ok")
	echo "$n $t ${a%% *} ${d%% *}"
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "-") printf "%.2f", a / b; else print "-" }'
}

declare -A P50 P99
rows=()
for mode in seq par; do
	for s in "${SIDE_LIST[@]}" direct; do
		if [ "$s" = direct ]; then
			if [ "$mode" != seq ] || [ -z "${WANT[fake]:-}" ]; then
				continue
			fi
		fi
		read -r n p50 p99 mean a50 d50 <<<"$(stats "$PM_TMP/out/$mode.$s".*.res)"
		P50[$mode.$s]=$p50
		P99[$mode.$s]=$p99
		rows+=("$mode $s $n $p50 $p99 $mean $a50 $d50")
	done
done

echo "CNI ADD+DEL of one pod, cniVersion 1.0.0, through $(basename "$TOOL") in a node namespace;" \
	"kernel $(uname -r), $(nproc) CPUs, podmesh $(git -C "$top" describe --always --dirty 2>/dev/null || echo "?")," \
	"$(dpkg-query -W -f='containernetworking-plugins ${Version}' containernetworking-plugins 2>/dev/null);" \
	"load average $LOAD0 before, $LOAD1 after"
echo "warm-up (first pod, not counted): $(for s in "${SIDE_LIST[@]}"; do
	awk -v s="$s" '{ printf "%s %.2f ms\n", s, ($2 + $3) / 1000 }' "$PM_TMP/out/warm.$s.0.res"
done | paste -sd, | sed 's/,/, /g')"
echo "ratio: to bridge + host-local in the same mode (the IPAM-alone rows: to host-local alone);" \
	"ms are ADD + DEL through the runner, nearest-rank percentiles; pods/s: pods done per second of the side's rounds"
echo
echo "| side | mode | n | p50 (ms) | p99 (ms) | mean (ms) | ADD p50 | DEL p50 | p50 ratio | p99 ratio | pods/s |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for row in "${rows[@]}"; do
	read -r mode s n p50 p99 mean a50 d50 <<<"$row"
	m="sequential"
	[ "$mode" = par ] && m="$P parallel"
	r50=- r99=-
	ref=${REF[$s]}
	if [ -n "${P50[$mode.$ref]:-}" ]; then
		r50=$(ratio "$p50" "${P50[$mode.$ref]}")
		r99=$(ratio "$p99" "${P99[$mode.$ref]}")
	fi
	tput=-
	[ -n "${WALL[$mode.$s]:-}" ] && [ "$n" != 0 ] &&
	    tput=$(awk -v n="$n" -v w="${WALL[$mode.$s]}" 'BEGIN { printf "%.0f", n / (w / 1e6) }')
	echo "| ${LABEL[$s]} | $m | $n | $p50 | $p99 | $mean | $a50 | $d50 | $r50 | $r99 | $tput |"
done
echo
if [ -n "${WANT[podmesh]:-}" ] && [ -n "${WANT[bridge]:-}" ]; then
	awk -v p="${P50[seq.podmesh]}" -v b="${P50[seq.bridge]}" \
	    -v pp="${P50[par.podmesh]}" -v pb="${P50[par.bridge]}" 'BEGIN {
		printf "target: podmesh p50 under 10 ms: %s (%s ms sequential, %s ms %s); ",
		    (p < 10 && pp < 10) ? "yes" : "NO", p, pp, "parallel"
		printf "within 2x of bridge + host-local: %s (%.2fx sequential, %.2fx parallel)\n",
		    (p <= 2 * b && pp <= 2 * pb) ? "yes" : "NO", p / b, pp / pb
	}'
fi
if [ -n "${WANT[fake]:-}" ]; then
	awk -v f="${P50[seq.fake]}" -v d="${P50[seq.direct]}" -v b="${P50[seq.bridge]:-0}" \
	    -v p="${P50[seq.podmesh]:-0}" 'BEGIN {
		printf "runner: %.2f ms of the runner + fake row is the fake plugin'"'"'s two execs, so the runner costs ~%.2f ms per ADD+DEL", d, f - d
		if (b > 0) printf " (%.0f%% of bridge + host-local'"'"'s p50)", 100 * f / b
		if (p > 0 && b > 0)
			printf "; without it, sequential p50: podmesh ~%.2f ms, bridge + host-local ~%.2f ms", p - (f - d), b - (f - d)
		printf "\n"
	}'
fi
echo "process start (each plugin exec'd with VERSION, p50 of $N):" \
	"$(for b in "${START_BINS[@]}"; do
		b=${b##*/}
		printf '%s %s ms\n' "${b/#pmfake/fake}" \
		    "$(awk -v b="$b" '$1 == b { print $2 }' "$PM_TMP/out/start.start" | sed 's/$/ 0 0/' | pct 1 | cut -d' ' -f1)"
	done | paste -sd, | sed 's/,/, /g')"
if [ -n "$FSYNC0" ] && [ -n "$FSYNC1" ]; then
	read -r c0 s0 <<<"$FSYNC0"
	read -r c1 s1 <<<"$FSYNC1"
	awk -v c=$((c1 - c0)) -v s="$(awk -v a="$s1" -v b="$s0" 'BEGIN { print a - b }')" \
	    -v pods="$(cat "$PM_TMP"/out/*.podmesh*.res | wc -l)" 'BEGIN {
		printf "etcd: %d WAL fsyncs during the run, %.2f ms each on average, %.1f per pod of the etcd sides (ADD + DEL)\n",
		    c, c ? 1000 * s / c : 0, c / pods
	}'
fi
echo "Reproduce: sudo PODMESH_BUILD=$PODMESH_BUILD bench/cni.sh${ARGV[*]:+$(printf ' %q' "${ARGV[@]}")}"
if [ "$PROBLEMS" != 0 ]; then
	log "$PROBLEMS correctness problem(s), see above"
	exit 1
fi
exit 0
