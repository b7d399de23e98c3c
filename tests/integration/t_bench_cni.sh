#!/bin/bash
#
# The CNI benchmark in its quick form (20 ADD+DELs per side sequential,
# 4 x 5 in parallel), so bench/cni.sh cannot rot: every ADD through the
# podmesh plugin, bridge + host-local and the fake plugin must succeed with
# an address of its side's range and every DEL after it, nothing may be left
# behind (links, podmesh IPAM allocations, handles and WorkloadEndpoints,
# host-local reservations, the runner's cache): cni.sh checks all that and
# exits 1.  Here: it exited 0, and every row of the table is there with the
# full count and numbers.  No speed is asserted.
set -euo pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(mktemp /tmp/pm-t-cni-XXXXXX)
trap 'rm -f "$out"' EXIT

fail() {
	echo "t_bench_cni: $*" >&2
	cat "$out" >&2
	exit 1
}

rc=0
PM_TIMEOUT=240 bash "$src/bench/cni.sh" --quick >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" = 0 ] || fail "cni.sh exited $rc"
num='[0-9]+\.[0-9]{2}'
for side in "podmesh \+ podmesh-ipam \(etcd\)" "bridge \+ host-local" \
	"runner \+ fake plugin"; do
	for mode in sequential "4 parallel"; do
		grep -Eq "^\| $side \| $mode \| 20 \| $num \| $num \| $num \| $num \| $num \| $num \| $num \| [0-9]+ \|$" "$out" ||
			fail "row '$side' '$mode' missing or wrong"
	done
done
grep -Eq "^\| bridge \+ host-local \| sequential \| 20 \| .* \| 1\.00 \| 1\.00 \| [0-9]+ \|$" "$out" ||
	fail "bridge row is not its own reference"
grep -Eq "^\| fake plugin alone \(2 execs\) \| sequential \| 20 \| $num \|" "$out" ||
	fail "fake-plugin-alone row missing"
grep -Eq '^target: podmesh p50 under 10 ms: (yes|NO) ' "$out" || fail "target line missing"
grep -Eq '^etcd: [0-9]+ WAL fsyncs' "$out" || fail "etcd line missing"
grep -Eq "^process start .*: fake $num ms, podmesh $num ms, podmesh-ipam $num ms, bridge $num ms, host-local $num ms$" "$out" ||
	fail "process start line missing or wrong"
grep -q 'PASS$' "$out" || fail "no PASS"
echo "t_bench_cni: ok"
