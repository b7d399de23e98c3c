#!/bin/bash
#
# The kernel-sync benchmark with 5,000 routes, so bench/ksync.sh cannot rot:
# both sides must leave exactly 5,000 routes in their namespace's kernel
# (and none after deleting), podmesh's restart must send nothing, and the
# timings must be numbers.  No speed is asserted.
set -euo pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
out=$(mktemp /tmp/pm-t-ksync-XXXXXX)
trap 'rm -f "$out"' EXIT

fail() {
	echo "t_bench_ksync: $*" >&2
	cat "$out" >&2
	exit 1
}

timeout -k 10 120 bash "$src/bench/ksync.sh" --routes 5000 >"$out" ||
	fail "ksync.sh failed"
cat "$out"
num='[0-9]+\.[0-9]+'
grep -Eq "^\| install \| $num \| $num \| $num \| 5000 \| 5000 \|$" "$out" ||
	fail "install row: counts or timings wrong"
grep -Eq "^\| delete \| $num \| $num \| $num \| 0 \| 0 \|$" "$out" ||
	fail "delete row wrong"
grep -Eq "^\| restart: adopt \+ learn again, 0 requests \| $num \| - \| - \| 5000 \| - \|$" "$out" ||
	fail "restart row wrong"
echo "t_bench_ksync: ok"
