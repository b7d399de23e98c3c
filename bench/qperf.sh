#!/bin/bash
#
# The seed's network-model comparison for podmesh's own routing modes:
# qperf pod to pod across nodes, and node to node as each mode's baseline,
# in a namespace cluster per mode (bench/qperf_cluster.sh: etcd,
# podmesh-node and podmesh-bgpd on every node, one pod per node from the
# podmesh CNI plugin and podmesh-ipam), then a Markdown table and a PNG
# chart (bench/qperf_report.py, gnuplot) in a results folder.
#
#   native       native routing, one subnet (Calico's "bgp", flannel's
#                host-gw)
#   vxlan        VXLAN everywhere
#   crosssubnet  VXLAN CrossSubnet: measured across the router between two
#                subnets (VXLAN) and within one subnet (routed natively)
#   ipip         IPIP, inside the qemu VM of tests/vm/ (this host kernel
#                may have no ipip module): Debian's kernel under TCG, so
#                its numbers are emulated and only its own host-to-host
#                row is a fair baseline
#   native-vm    native routing inside the same VM, the reference for ipip
#
# Pod MTUs follow the mode (CNI "mtu": 1500 native, underlay - 50 = 1450
# for VXLAN, underlay - 20 = 1480 for IPIP, with vxlan.calico and tunl0 at
# the same), and qperf_cluster.sh checks that nothing was fragmented.  Each
# node's underlay link is shaped to --link-rate (default 10gbit, the seed's
# 10 GbE NICs) with tbf: veths have no wire, and without a rate the
# bandwidths measure how many hops the CPU pushes each byte through, not
# what a NIC would carry.  Numbers over veth show relative overhead, not NIC
# speed.
#
# Usage: bench/qperf.sh [--quick] [--runs N] [--time S] [--modes LIST]
#                       [--link-rate RATE|0] [--out DIR] [--build DIR]
#                       [--keep]
# --runs: runs of each metric on each path (default 3); --time: seconds
# per qperf test (default 2); --modes: comma-separated, from native, vxlan,
# crosssubnet, ipip, native-vm (default all five); --link-rate: tc rate of
# each node's underlay link, 0 for none; --out: the results folder (default
# results/qperf-<UTC time>, and results/qperf-latest points at it);
# --quick: one run of tcp_bw only, modes native,vxlan,crosssubnet,ipip (the
# form tests/integration/t_bench_qperf.sh runs); --keep: keep the temp dir.
# Environment: PODMESH_BUILD (default build/; --build sets it),
# PM_VM_WAIT (the cluster's waits inside the VM, s, default 60).
# Needs root, qperf, gnuplot, and for ipip/native-vm qemu-system-x86,
# busybox-static and the cached kernel .deb: `bash .ci/deps` installs all.
# Exit status: 0 when every mode was measured and the report written; 1
# when a cluster, a check or qperf failed (what was measured before is
# still reported, and the folder holds INCOMPLETE saying what is missing);
# 2 for a usage error or a missing tool; 124 when the overall deadline
# passed.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
RUNS=3
QTIME=2
MODES=native,vxlan,crosssubnet,ipip,native-vm
METRICS="tcp_bw udp_bw tcp_lat udp_lat"
RATE=10gbit
OUT=
ARGV=("$@")
# usage [STATUS]: the Usage part of the header; on stdout for --help
usage() {
	local fd=2
	[ "${1:-2}" = 0 ] && fd=1
	sed -n '/^# Usage:/,/^[^#]/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&"$fd"
	exit "${1:-2}"
}
die() {
	echo "qperf.sh: $*" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case $1 in
	--quick)
		RUNS=1 METRICS=tcp_bw MODES=native,vxlan,crosssubnet,ipip
		;;
	--runs) RUNS=${2:-}; shift ;;
	--time) QTIME=${2:-}; shift ;;
	--modes) MODES=${2:-}; shift ;;
	--link-rate) RATE=${2:-}; shift ;;
	--out) OUT=${2:-}; shift ;;
	--build) PODMESH_BUILD=$(cd "${2:-.}" && pwd) || exit 2; shift ;;
	--keep) export PM_KEEP=1 ;;
	-h | --help) usage 0 ;;
	*) usage ;;
	esac
	shift
done
[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "--runs: 1 to 99, not '$RUNS'"
[[ $QTIME =~ ^[1-9][0-9]?$ ]] || die "--time: 1 to 99 s, not '$QTIME'"
[[ $RATE =~ ^(0|[1-9][0-9]*(kbit|mbit|gbit))$ ]] ||
    die "--link-rate: 0 or a tc rate like 10gbit or 500mbit, not '$RATE'"
[ "$RATE" = 0 ] && RATE=
HOST_MODES=()
VM_MODES=()
IFS=, read -ra _m <<<"$MODES"
for m in native vxlan crosssubnet; do
	[[ ,$MODES, == *,$m,* ]] && HOST_MODES+=("$m")
done
# in the VM, the reference first
[[ ,$MODES, == *,native-vm,* ]] && VM_MODES+=(native)
[[ ,$MODES, == *,ipip,* ]] && VM_MODES+=(ipip)
for m in "${_m[@]}"; do
	case $m in
	native | vxlan | crosssubnet | ipip | native-vm) ;;
	*) die "--modes: '$m' is not one of native, vxlan, crosssubnet, ipip, native-vm" ;;
	esac
done
((${#HOST_MODES[@]} + ${#VM_MODES[@]} > 0)) || die "--modes: none given"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
command -v qperf >/dev/null || die "qperf not installed (Debian package qperf; bash .ci/deps installs it)"
command -v gnuplot >/dev/null || die "gnuplot not installed (Debian package gnuplot-nox; bash .ci/deps installs it)"
# shellcheck disable=SC1091
. "$top/tests/vm/vm_lib.sh"
# lib.sh below re-runs this script under its deadline (PM_UNDER_DEADLINE);
# the first pass, the one without PM_QP_OUT, checks and chooses the results
# folder once
[ -z "${PM_QP_OUT:-}" ] && unset PM_UNDER_DEADLINE
if ((${#VM_MODES[@]} > 0)) && [ -z "${PM_QP_OUT:-}" ]; then
	vm_missing ||
	    die "cannot boot the VM for ipip/native-vm: $VM_MISSING (bash .ci/deps;" \
	    "or leave them out with --modes native,vxlan,crosssubnet)"
fi

export PODMESH_BUILD=${PODMESH_BUILD:-$top/build}
export PODMESH_SRC=$top
if [ -z "${PM_QP_OUT:-}" ]; then
	PM_QP_LATEST=
	if [ -z "$OUT" ]; then
		OUT=$top/results/qperf-$(date -u +%Y%m%dT%H%M%SZ)
		PM_QP_LATEST=$top/results/qperf-latest
	fi
	[ ! -e "$OUT/samples.csv" ] || die "$OUT already holds results; give another --out"
	mkdir -p "$OUT" || die "cannot make $OUT"
	export PM_QP_OUT=$OUT PM_QP_LATEST
fi
OUT=$PM_QP_OUT
LATEST=$PM_QP_LATEST
OUT=$(cd "$OUT" && pwd)

# The deadline, from what there is to do: per pair RUNS x metrics x both
# paths x (TIME + what a qperf start costs); a cluster's setup; the VM's
# boot, a cluster's setup there (several times the host's under TCG) and
# twice the host's time per pair (each qperf start is slow there).
nm=$(wc -w <<<"$METRICS")
per_pair=$((RUNS * nm * 2 * (QTIME + 1)))
host_t=0
for m in "${HOST_MODES[@]}"; do
	pairs=1
	[ "$m" = crosssubnet ] && pairs=2
	host_t=$((host_t + 40 + pairs * per_pair))
done
vm_t=0
((${#VM_MODES[@]} > 0)) && vm_t=$((240 + ${#VM_MODES[@]} * (200 + 2 * per_pair)))
export PM_TIMEOUT=$((host_t + vm_t + 120))
set -- "${ARGV[@]}" # lib.sh re-runs the script with them
# shellcheck disable=SC1091
. "$top/tests/integration/lib.sh"
require_podmesh

qperf_v=$(dpkg-query -W -f='${Version}' qperf 2>/dev/null)
{
	printf 'PM_QP_DATE=%q\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
	printf 'PM_QP_CMD=%q\n' "bench/qperf.sh${ARGV[*]:+ ${ARGV[*]}}"
	printf 'PM_QP_HOST_KERNEL=%q\n' "$(uname -r)"
	printf 'PM_QP_TIME=%q\nPM_QP_RUNS=%q\n' "$QTIME" "$RUNS"
	printf 'PM_QP_UDP_MSG=%q\n' "${QP_UDP_MSG:-1400}"
	printf 'PM_QP_RATE=%q\n' "${RATE:-none}"
	printf 'PM_QP_QPERF=%q\n' "${qperf_v:-unknown}"
	printf 'PM_QP_CPU=%q\n' "$(sed -n 's/^model name\t*: //p' /proc/cpuinfo |
	    head -n 1), $(nproc) cores"
	printf 'PM_QP_BUILD=%q\n' "$PODMESH_BUILD"
} >"$OUT/meta.env"

# report [WHY]: the report of what was measured; with WHY, the folder is
# marked INCOMPLETE and the run fails.
report() {
	if [ -s "$OUT/samples.csv" ]; then
		step "report"
		/usr/bin/python3 "$here/qperf_report.py" "$OUT" ||
		    fail "qperf_report.py $OUT failed"
	fi
	[ -z "${1:-}" ] && return 0
	echo "$*" >"$OUT/INCOMPLETE"
	fail "$* (what was measured before is in $OUT)"
}

args=(--out "$OUT" --runs "$RUNS" --time "$QTIME" --metrics "$METRICS")
if ((${#HOST_MODES[@]} > 0)); then
	step "on this host: ${HOST_MODES[*]} (deadline ${host_t}s)"
	# in the background, so that our cleanup can stop it (timeout(1)
	# gives it its own process group)
	env -u PM_UNDER_DEADLINE PM_TIMEOUT=$((host_t + 60)) QP_RATE="$RATE" \
	    bash "$here/qperf_cluster.sh" "${args[@]}" "${HOST_MODES[@]}" &
	PM_PID["cluster:host"]=$!
	wait "${PM_PID[cluster:host]}"
	rc=$?
	unset "PM_PID[cluster:host]"
	[ "$rc" = 0 ] ||
	    report "bench/qperf_cluster.sh ${HOST_MODES[*]} failed (status $rc; its log is above)"
fi

if ((${#VM_MODES[@]} > 0)); then
	step "in the VM: ${VM_MODES[*]} (deadline ${vm_t}s)"
	# an early report, in case the VM fails
	report
	echo "the VM part (${VM_MODES[*]}) did not finish; its log: $OUT/vm/" \
	    >"$OUT/INCOMPLETE"
	vm_prepare
	# the VM's share is in the results folder: vm.env, inner.log, and on
	# failure the inner temp dir with every daemon's log
	res=$OUT/vm
	inner="QP_RATE=${RATE:-} QP_UDP_MSG=${QP_UDP_MSG:-1400}"
	inner+=" bash $(printf %q "$here/qperf_cluster.sh") --out \"\$PM_VM_RESULTS/out\""
	inner+=" --runs $RUNS --time $QTIME --metrics '$METRICS' --tag vm ${VM_MODES[*]}"
	PM_VM_WAIT=${PM_VM_WAIT:-60} vm_env "$res" "$inner" "$vm_t"
	vm_boot "$res" "$vm_t"
	[ -s "$res/out/samples.csv" ] || report "the VM wrote no samples"
	if [ -s "$OUT/samples.csv" ]; then
		sed 1d "$res/out/samples.csv" >>"$OUT/samples.csv"
	else
		cp "$res/out/samples.csv" "$OUT/samples.csv"
	fi
	cat "$res/out/checks.txt" >>"$OUT/checks.txt"
	printf 'PM_QP_VM_KERNEL=%q\n' "$PM_VM_KVER (qemu TCG, ${PM_VM_SMP:-2} vCPUs)" \
	    >>"$OUT/meta.env"
	rm -f "$OUT/INCOMPLETE"
fi

report
if [ -n "$LATEST" ]; then
	ln -sfn "$(basename "$OUT")" "$LATEST"
fi
echo
echo "checks:"
sed 's/^/  /' "$OUT/checks.txt"
vmlog=
((${#VM_MODES[@]} > 0)) && vmlog="; vm/: the VM's log"
echo "results: $OUT (table.md, chart.png, samples.csv, summary.csv$vmlog)"
exit 0
