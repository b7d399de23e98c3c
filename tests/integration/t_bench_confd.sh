#!/bin/bash
#
# The confd benchmark in its quick form (20 changes), so bench/confd.sh
# cannot rot: every etcd change must reach BIRD (reload status 0, BIRD
# peering with the new AS: confd.sh checks that and exits 1), every row of
# the table must be there with 20 samples (the splits too: podmesh-confd's
# debug log names every step), and the etcd change -> BIRD
# reconfigured p99 must be at most 1000 ms (the issue's "within 1 s").
set -euo pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(mktemp /tmp/pm-t-confd-XXXXXX)
trap 'rm -f "$out"' EXIT

fail() {
	echo "t_bench_confd: $*" >&2
	cat "$out" >&2
	exit 1
}

rc=0
PM_TIMEOUT=180 bash "$src/bench/confd.sh" --quick >"$out" 2>&1 || rc=$?
cat "$out"
[ "$rc" = 0 ] || fail "confd.sh exited $rc"
num='[0-9]+\.[0-9]{2}'
for row in "etcd put -> BIRD reconfigured" "put \(etcd round trip\)" \
	"put -> confd sees the change \(watch\)" "-> render start \(debounce\)" \
	"-> check_cmd \(load, render, compare, stage\)" \
	"-> bird -p start \(sh, temp dir, copies\)" "bird -p" \
	"-> reload_cmd \(cleanup, rename, fsync\)" \
	"-> BIRD reconfigured \(sh, birdc configure\)"; do
	grep -Eq -- "^\| $row \| 20 \| $num \| $num \| $num \| $num \|$" "$out" ||
		fail "row '$row' missing or not 20 samples"
done
p99=$(sed -En "s/^\| etcd put -> BIRD reconfigured \| 20 \| $num \| ($num) \|.*/\1/p" "$out")
[ -n "$p99" ] || fail "no p99"
awk -v p="$p99" 'BEGIN { exit !(p <= 1000) }' ||
	fail "etcd change -> BIRD reconfigured p99 $p99 ms, over 1000 ms"
grep -Eq '^target: etcd change to BIRD reloaded under 200 ms \(p50\): (yes|NO) ' "$out" ||
	fail "target line missing"
grep -q 'PASS$' "$out" || fail "no PASS"
echo "t_bench_confd: ok (p99 $p99 ms)"
