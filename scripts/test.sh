#!/bin/bash
# The whole test suite, as CI runs it: installs dependencies, builds podmesh
# twice (plain, and with AddressSanitizer + UBSan), runs the unit and
# integration tests under the sanitizers, the unit tests in the plain build,
# and every fuzz target for a bounded time.
# usage: scripts/test.sh            (as root: the integration tests make
#                                    network namespaces)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fuzz_secs=${PODMESH_FUZZ_SECONDS:-20}

bash .ci/deps
echo "== plain build"
bash scripts/build.sh "$top/build" -DPODMESH_INTEGRATION=OFF
echo "== unit tests (plain build)"
(cd build && ctest --output-on-failure -L unit)

echo "== sanitizer build (address,undefined)"
bash scripts/build.sh "$top/build-asan" -DPODMESH_SANITIZE=ON \
	-DCMAKE_BUILD_TYPE=Debug
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# t_vm_ipip (IPIP in a qemu VM) fails instead of skipping when qemu or
# the kernel .deb is missing: .ci/deps above provides both
export PODMESH_REQUIRE_VM=1
echo "== unit and integration tests (sanitizer build)"
(cd build-asan && ctest --output-on-failure)

echo "== fuzz targets, ${fuzz_secs}s each"
CC=clang bash scripts/build.sh "$top/build-fuzz" -DPODMESH_FUZZ=ON \
	-DPODMESH_INTEGRATION=OFF
for f in build-fuzz/tests/*_fuzz; do
	name=$(basename "$f")
	corpus="$top/tests/fuzz/corpus/$name"
	work=$(mktemp -d)
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/
	echo "-- $name"
	"$f" -max_total_time="$fuzz_secs" -max_len=8192 -print_final_stats=1 \
		"$work" 2>&1 | tail -n 3
	rm -rf "$work"
done
echo "== all tests passed"
