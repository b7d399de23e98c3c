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
# shellcheck disable=SC1091
. "$top/tests/vm/vm_lib.sh"

# --- prerequisites, before lib.sh (whose trap reports any exit as failed)
if [ -z "${PM_UNDER_DEADLINE:-}" ]; then
	vm_missing
	case $? in
	0) ;;
	1)
		echo "t_vm_ipip: cannot run the VM test: $VM_MISSING" >&2
		echo "t_vm_ipip: get it with: sudo bash .ci/deps   (installs qemu-system-x86 and" \
		    "busybox-static, caches the kernel .deb in ${PODMESH_DEB_CACHE:-/var/cache/podmesh})" >&2
		if [ "${PODMESH_REQUIRE_VM:-0}" = 1 ]; then
			echo "t_vm_ipip: FAIL (PODMESH_REQUIRE_VM=1: the VM test must run)" >&2
			exit 1
		fi
		echo "t_vm_ipip: SKIP" >&2
		exit 77
		;;
	*) echo "t_vm_ipip: FAIL: $VM_MISSING" >&2; exit 1 ;;
	esac
fi

PM_VM_TIMEOUT=${PM_VM_TIMEOUT:-420}
PM_TIMEOUT=$((PM_VM_TIMEOUT + 60))
. "$(dirname "$0")/lib.sh"

require_podmesh
[ -x "$PODMESH_BUILD/node/podmesh-node" ] ||
    fail "podmesh-node not built: $PODMESH_BUILD/node/podmesh-node"

src=$(cd "$PODMESH_SRC" && pwd) || fail "PODMESH_SRC=$PODMESH_SRC"

step "kernel and initramfs"
vm_prepare
res=$PM_TMP/results
# on failure the inner temp dir (daemon logs) lands in the results share
vm_env "$res" "bash $(printf %q "$src/tests/vm/inner_ipip.sh")" "$PM_VM_TIMEOUT"
vm_boot "$res" "$PM_VM_TIMEOUT"
grep -q "PASS" "$res/inner.log" || fail "inner status 0 but no PASS in its log"
ok "IPIP through a real tunl0 in Debian's kernel $PM_VM_KVER: inner test PASS (VM ${VM_ELAPSED}s)"
exit 0
