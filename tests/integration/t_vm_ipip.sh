#!/bin/bash
# IPIP for real (issue #8): the host kernel here may have no ipip module,
# so this boots Debian's kernel (linux-image-amd64's image, cached as a .deb
# by .ci/deps and unpacked by tests/vm/kernel.sh, never installed) under
# qemu-system-x86_64 with TCG, with a busybox initramfs
# (tests/vm/initramfs.sh) that loads 9p, veth, bridge and ipip and chroots
# into the host root shared READ-ONLY over virtio-9p; a second, writable 9p
# share (a temp dir) gets the results.  No network device (-nic none).
# Inside, tests/vm/inner_ipip.sh runs a two-node IPIP cluster with this
# build's podmesh-node and podmesh-bgpd (the same binaries: ASan ones when
# PODMESH_BUILD is the sanitizer build), checks the "via NODE dev tunl0
# onlink" routes, pings pod to pod both ways and proves the packets went
# through tunl0 (its counters, and IP-in-IP on the underlay).
#
# The VM's console is streamed with a "[vm]" prefix.  Passes only on the
# inner test's PASS (status 0 in the results share).  Skips (77) when
# qemu-system-x86_64, busybox-static or the kernel .deb is missing, saying
# what and how to get it (`bash .ci/deps`), unless PODMESH_REQUIRE_VM=1
# (CI: scripts/test.sh), where that is a failure.
#
# Environment: PODMESH_BUILD, PODMESH_SRC (as every test), PM_VM_TIMEOUT
# (qemu's hard limit, s, default 420), PM_VM_SMP (2), PM_VM_MEM (MiB, 1536),
# PODMESH_DEB_CACHE (/var/cache/podmesh), PM_KEEP=1 (keep the results).
#
#	sudo PODMESH_BUILD=build bash tests/integration/t_vm_ipip.sh

top=$(cd "$(dirname "$0")/../.." && pwd)
vmdir=$top/tests/vm

# --- prerequisites, before lib.sh (whose trap reports any exit as failed)
_vm_missing() {
	echo "t_vm_ipip: cannot run the VM test: $*" >&2
	echo "t_vm_ipip: get it with: sudo bash .ci/deps   (installs qemu-system-x86 and" \
	    "busybox-static, caches the kernel .deb in ${PODMESH_DEB_CACHE:-/var/cache/podmesh})" >&2
	if [ "${PODMESH_REQUIRE_VM:-0}" = 1 ]; then
		echo "t_vm_ipip: FAIL (PODMESH_REQUIRE_VM=1: the VM test must run)" >&2
		exit 1
	fi
	echo "t_vm_ipip: SKIP" >&2
	exit 77
}
if [ -z "${PM_UNDER_DEADLINE:-}" ]; then
	command -v qemu-system-x86_64 >/dev/null ||
	    _vm_missing "qemu-system-x86_64 not installed (Debian package qemu-system-x86)"
	[ -x /bin/busybox ] && ! ldd /bin/busybox >/dev/null 2>&1 ||
	    _vm_missing "no static /bin/busybox (Debian package busybox-static)"
	_out=$(sh "$vmdir/kernel.sh" 2>&1)
	case $? in
	0) ;;
	3) _vm_missing "$_out" ;;
	*) echo "t_vm_ipip: FAIL: tests/vm/kernel.sh: $_out" >&2; exit 1 ;;
	esac
fi

PM_VM_TIMEOUT=${PM_VM_TIMEOUT:-420}
PM_TIMEOUT=$((PM_VM_TIMEOUT + 60))
. "$(dirname "$0")/lib.sh"

require_podmesh
[ -x "$PODMESH_BUILD/node/podmesh-node" ] ||
    fail "podmesh-node not built: $PODMESH_BUILD/node/podmesh-node"
# inside the VM the host root is the same tree: absolute paths work there
build=$(cd "$PODMESH_BUILD" && pwd) || fail "PODMESH_BUILD=$PODMESH_BUILD"
src=$(cd "$PODMESH_SRC" && pwd) || fail "PODMESH_SRC=$PODMESH_SRC"

step "kernel and initramfs"
eval "$(sh "$vmdir/kernel.sh")" || fail "tests/vm/kernel.sh failed"
initrd=$(bash "$vmdir/initramfs.sh" "$PM_VM_KDIR" "$PM_VM_KVER" "$PM_VM_KDIR") ||
    fail "tests/vm/initramfs.sh failed"
log "kernel $PM_VM_KERNEL"
log "initramfs $initrd"

res=$PM_TMP/results
mkdir -p "$res"
{
	printf 'export PODMESH_SRC=%q PODMESH_BUILD=%q\n' "$src" "$build"
	# the inner test's deadline: well inside qemu's
	if [ "$PM_VM_TIMEOUT" -ge 120 ]; then
		printf 'export PM_TIMEOUT=%d\n' "$((PM_VM_TIMEOUT - 60))"
	else
		printf 'export PM_TIMEOUT=%d\n' "$((PM_VM_TIMEOUT * 3 / 4))"
	fi
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS PM_VM_WAIT; do
		[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
	done
	# PM_KEEP=1 inside: on failure the inner temp dir (daemon logs) is
	# copied into the results share
	printf "PM_VM_CMD='PM_KEEP=1 bash %q; rc=\$?; [ \$rc -eq 0 ] || cp -r /tmp/pm-* \"\$PM_VM_RESULTS\"/ 2>/dev/null; exit \$rc'\n" \
	    "$src/tests/vm/inner_ipip.sh"
} >"$res/vm.env"

step "boot (qemu TCG, -smp ${PM_VM_SMP:-2}, ${PM_VM_MEM:-1536} MiB, hard limit ${PM_VM_TIMEOUT}s)"
t0=$(_pm_now)
# -nic none: nothing reaches outside; the host root is read-only.
timeout -k 5 "$PM_VM_TIMEOUT" qemu-system-x86_64 -accel tcg -cpu max \
    -smp "${PM_VM_SMP:-2}" -m "${PM_VM_MEM:-1536}" \
    -nographic -no-reboot -nic none -monitor none -serial stdio \
    -kernel "$PM_VM_KERNEL" -initrd "$initrd" \
    -append "console=ttyS0 panic=-1 quiet" \
    -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
    -virtfs "local,path=$res,mount_tag=results,security_model=none" \
    </dev/null >"$PM_TMP/console.log" 2>&1 &
PM_PID["qemu:vm"]=$!
# the console, streamed: escape sequences and CRs dropped, prefixed
# (tail ends with qemu: --pid)
tail -n +1 -F --pid="${PM_PID[qemu:vm]}" "$PM_TMP/console.log" 2>/dev/null |
    sed -u -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' -e 's/\r//g' \
    -e '/^$/d' -e 's/^/[vm] /' >&2 &
PM_PID["console:vm"]=$!
wait "${PM_PID[qemu:vm]}"
qrc=$?
unset "PM_PID[qemu:vm]"
# tail notices qemu's end within a second and prints the rest first
for ((i = 0; i < 30; i++)); do
	kill -0 "${PM_PID[console:vm]}" 2>/dev/null || break
	sleep 0.1
done
_pm_kill_pid "${PM_PID[console:vm]}"
unset "PM_PID[console:vm]"
elapsed=$(_pm_secs $(($(_pm_now) - t0)))
log "VM ran ${elapsed}s (qemu exit status $qrc)"

[ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] ||
    fail "the VM did not finish within ${PM_VM_TIMEOUT}s (killed);" \
    "console tail:"$'\n'"$(tail -20 "$PM_TMP/console.log")"
[ "$qrc" -eq 0 ] ||
    fail "qemu-system-x86_64 exited $qrc:"$'\n'"$(tail -20 "$PM_TMP/console.log")"
[ -s "$res/status" ] ||
    fail "the VM gave no result (no status in the results share);" \
    "console tail:"$'\n'"$(tail -30 "$PM_TMP/console.log")"
st=$(cat "$res/status")
[ "$st" = 0 ] ||
    fail "the test inside the VM failed (status $st); its output and the" \
    "daemons' logs are above (kept in $res/ with PM_KEEP=1)"
grep -q "PASS" "$res/inner.log" || fail "inner status 0 but no PASS in its log"
ok "IPIP through a real tunl0 in Debian's kernel $PM_VM_KVER: inner test PASS (VM ${elapsed}s)"
exit 0
