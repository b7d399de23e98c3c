#!/bin/bash
#
# The qperf comparison (bench/qperf.sh) in its quick form, so it cannot
# rot: one run of tcp_bw per mode, native, VXLAN and CrossSubnet in
# namespaces here, IPIP in the qemu VM.  bench/qperf_cluster.sh itself
# fails unless each mode's pods reach each other by the mode's device
# (eth0, vxlan.calico, tunl0), which carried the traffic, with the mode's
# MTU and nothing fragmented.  Here: qperf.sh exited 0; samples.csv holds
# exactly one positive tcp_bw sample per mode and path with the mode's MTU
# and device; checks.txt confirms each; the table has a hosts and a pods
# row per mode with numbers and the pods' overhead; chart.png is a PNG.
# No speed is asserted.  When the VM cannot boot (qemu, busybox-static or
# the kernel .deb missing), the modes in namespaces are still run and
# checked, then it skips (77), unless PODMESH_REQUIRE_VM=1 (CI), where that
# is a failure; a broken tests/vm/kernel.sh is a failure.
set -u -o pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(mktemp -d /tmp/pm-t-qperf-XXXXXX)
trap 'rm -rf "$out"' EXIT

fail() {
	echo "t_bench_qperf: FAIL: $*" >&2
	exit 1
}

# shellcheck disable=SC1091
. "$src/tests/vm/vm_lib.sh"
vm=1
vm_missing
case $? in
0) ;;
1)
	echo "t_bench_qperf: cannot boot the VM for IPIP: $VM_MISSING (bash .ci/deps)" >&2
	[ "${PODMESH_REQUIRE_VM:-0}" = 1 ] && fail "PODMESH_REQUIRE_VM=1: the VM must run"
	echo "t_bench_qperf: the modes in namespaces only, then SKIP" >&2
	vm=
	;;
*) fail "$VM_MISSING" ;;
esac

rc=0
modes=(--quick)
[ -n "$vm" ] || modes+=(--modes native,vxlan,crosssubnet)
bash "$src/bench/qperf.sh" "${modes[@]}" --out "$out/r" 2>&1 | tee "$out/log" || rc=$?
[ "$rc" = 0 ] || fail "bench/qperf.sh ${modes[*]} exited $rc"
r=$out/r
for f in samples.csv summary.csv checks.txt table.md chart.png meta.env; do
	[ -s "$r/$f" ] || fail "no $f in the results folder"
done

# mode key, label, pod MTU, device
want="native|native routing|1500|eth0
vxlan|VXLAN|1450|vxlan.calico
crosssubnet-across|CrossSubnet: across subnets|1450|vxlan.calico
crosssubnet-within|CrossSubnet: within a subnet|1450|eth0
ipip-vm|IPIP (qemu VM)|1480|tunl0"
[ -n "$vm" ] || want=$(sed '$d' <<<"$want")
npairs=$(wc -l <<<"$want")
[ "$(head -n 1 "$r/samples.csv")" = "mode,label,path,mtu,device,metric,run,value" ] ||
    fail "samples.csv header: $(head -n 1 "$r/samples.csv")"
[ "$(sed 1d "$r/samples.csv" | wc -l)" = $((2 * npairs)) ] ||
    fail "samples.csv: want $((2 * npairs)) samples ($npairs pairs x hosts, pods), got:"$'\n'"$(cat "$r/samples.csv")"
num='[0-9]+(\.[0-9]+)?'
# _sample KEY LABEL PATH MTU DEV: exactly one tcp_bw sample of run 1 there
_sample() {
	[ "$(awk -F, -v k="$1" -v l="$2" -v p="$3" -v m="$4" -v d="$5" '
	    $1 == k && $2 == l && $3 == p && $4 == m && $5 == d &&
	    $6 == "tcp_bw" && $7 == 1 && $8 ~ /^[0-9]+(\.[0-9]+)?$/' \
	    "$r/samples.csv" | wc -l)" = 1 ]
}
while IFS='|' read -r key label mtu dev; do
	_sample "$key" "$label" hosts 1500 eth0 ||
	    fail "no hosts sample for $key in samples.csv"
	_sample "$key" "$label" pods "$mtu" "$dev" ||
	    fail "no pods sample for $key (MTU $mtu, by $dev) in samples.csv"
	grep -Eq "^$key: pods by $dev, pod MTU $mtu, underlay MTU 1500; $dev TX \+[0-9]+ packets( \([a-z0-9. ]+ idle\))?; 0 fragmented or reassembled$" \
	    "$r/checks.txt" || fail "checks.txt has no line for $key"
	row=$(grep -F "| $label | node to node | 1500 | eth0 | " "$r/table.md") ||
	    fail "table.md: no node-to-node row for $label"
	[[ ${row#*eth0 | } =~ ^$num\ \|\ –\ \| ]] ||
	    fail "table.md: node-to-node row for $label has no tcp_bw: $row"
	row=$(grep -F "| $label | pod to pod | $mtu | $dev | " "$r/table.md") ||
	    fail "table.md: no pod-to-pod row for $label with MTU $mtu by $dev"
	[[ ${row#*"$dev | "} =~ ^$num\ \([+-]$num\ %\)\ \| ]] ||
	    fail "table.md: pod-to-pod row for $label lacks tcp_bw and its overhead: $row"
done <<<"$want"
awk -F, 'NR > 1 && !($8 > 0) { exit 1 }' "$r/samples.csv" ||
    fail "a sample is not positive"
[ "$(head -c 8 "$r/chart.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "chart.png is not a PNG"
[ ! -e "$r/INCOMPLETE" ] || fail "INCOMPLETE: $(cat "$r/INCOMPLETE")"
if [ -z "$vm" ]; then
	echo "t_bench_qperf: the modes in namespaces ok; IPIP skipped (no VM)"
	exit 77
fi
grep -q "^PM_QP_VM_KERNEL=" "$r/meta.env" || fail "meta.env names no VM kernel"
grep -q PASS "$r/vm/inner.log" || fail "the VM's log has no PASS"
echo "t_bench_qperf: ok"
