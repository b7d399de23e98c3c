# shellcheck shell=bash
#
# Boots the test VM (README.md here) and runs one command inside it, for
# tests/integration/t_vm_ipip.sh and bench/qperf.sh.  vm_missing needs
# nothing else; the rest is used after tests/integration/lib.sh is sourced
# (PM_TMP, PM_PID, step/log/fail, _pm_now, _pm_kill_pid).
#
#	vm_missing || { echo "no VM: $VM_MISSING"; ...; }
#	vm_prepare				# kernel + initramfs
#	vm_env "$res" 'bash /path/inner.sh'	# $res/vm.env
#	vm_boot "$res" 420			# qemu; fails unless status 0
#
# Knobs: PM_VM_SMP (2), PM_VM_MEM (MiB, 1536), PODMESH_DEB_CACHE.

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# vm_missing: 0 when qemu, a static busybox and the kernel .deb are there;
# otherwise 1 with VM_MISSING saying what is missing (2: kernel.sh broke).
vm_missing() {
	local out rc=0
	VM_MISSING=
	if ! command -v qemu-system-x86_64 >/dev/null; then
		VM_MISSING="qemu-system-x86_64 not installed (Debian package qemu-system-x86)"
		return 1
	fi
	if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		VM_MISSING="no static /bin/busybox (Debian package busybox-static)"
		return 1
	fi
	out=$(sh "$VM_DIR/kernel.sh" 2>&1) || rc=$?
	case $rc in
	0) return 0 ;;
	3) VM_MISSING=$out; return 1 ;;
	*) VM_MISSING="tests/vm/kernel.sh: $out"; return 2 ;;
	esac
}

# vm_prepare: PM_VM_KVER, PM_VM_KERNEL, PM_VM_KDIR and VM_INITRD.
vm_prepare() {
	eval "$(sh "$VM_DIR/kernel.sh")" || fail "tests/vm/kernel.sh failed"
	VM_INITRD=$(bash "$VM_DIR/initramfs.sh" "$PM_VM_KDIR" "$PM_VM_KVER" \
	    "$PM_VM_KDIR") || fail "tests/vm/initramfs.sh failed"
	log "kernel $PM_VM_KERNEL"
	log "initramfs $VM_INITRD"
}

# vm_env RESULTS CMD [TIMEOUT]: RESULTS/vm.env for init.sh.  CMD, one
# command, runs with bash in the VM's chroot, where the host root is the
# same tree (so PODMESH_SRC and PODMESH_BUILD are passed as absolute paths)
# and RESULTS is $PM_VM_RESULTS.  The inner PM_TIMEOUT is kept well inside
# TIMEOUT (qemu's limit, default 420 s); the sanitizer options and
# PM_VM_WAIT are passed through.  PM_KEEP=1 inside: when CMD fails, the
# inner temp dirs (/tmp/pm-*, every daemon's log) are copied into RESULTS.
vm_env() {
	local res=$1 cmd=$2 t=${3:-420} build src v
	build=$(cd "$PODMESH_BUILD" && pwd) || fail "PODMESH_BUILD=$PODMESH_BUILD"
	src=$(cd "$PODMESH_SRC" && pwd) || fail "PODMESH_SRC=$PODMESH_SRC"
	mkdir -p "$res"
	{
		printf 'export PODMESH_SRC=%q PODMESH_BUILD=%q\n' "$src" "$build"
		if [ "$t" -ge 120 ]; then
			printf 'export PM_TIMEOUT=%d\n' "$((t - 60))"
		else
			printf 'export PM_TIMEOUT=%d\n' "$((t * 3 / 4))"
		fi
		for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS PM_VM_WAIT; do
			[ -n "${!v:-}" ] && printf 'export %s=%q\n' "$v" "${!v}"
		done
		echo "export PM_KEEP=1"
		# shellcheck disable=SC2016 # expanded inside the VM
		printf 'PM_VM_CMD=%q\n' "$cmd"'; rc=$?; [ $rc -eq 0 ] || cp -r /tmp/pm-* "$PM_VM_RESULTS"/ 2>/dev/null; exit $rc'
	} >"$res/vm.env"
}

# vm_boot RESULTS [TIMEOUT]: boot the VM on RESULTS/vm.env and wait for it
# (qemu killed at TIMEOUT s, default 420), its console streamed to stderr
# with a "[vm] " prefix; VM_ELAPSED is how long it ran.  Fails unless the
# command inside exited 0 (RESULTS/status).
vm_boot() {
	local res=$1 t=${2:-420} t0 qrc i st
	step "boot (qemu TCG, -smp ${PM_VM_SMP:-2}, ${PM_VM_MEM:-1536} MiB, hard limit ${t}s)"
	t0=$(_pm_now)
	# -nic none: nothing reaches outside; the host root is read-only.
	timeout -k 5 "$t" qemu-system-x86_64 -accel tcg -cpu max \
	    -smp "${PM_VM_SMP:-2}" -m "${PM_VM_MEM:-1536}" \
	    -nographic -no-reboot -nic none -monitor none -serial stdio \
	    -kernel "$PM_VM_KERNEL" -initrd "$VM_INITRD" \
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
	VM_ELAPSED=$(_pm_secs $(($(_pm_now) - t0)))
	log "VM ran ${VM_ELAPSED}s (qemu exit status $qrc)"

	[ "$qrc" -ne 124 ] && [ "$qrc" -ne 137 ] ||
	    fail "the VM did not finish within ${t}s (killed);" \
	    "console tail:"$'\n'"$(tail -20 "$PM_TMP/console.log")"
	[ "$qrc" -eq 0 ] ||
	    fail "qemu-system-x86_64 exited $qrc:"$'\n'"$(tail -20 "$PM_TMP/console.log")"
	[ -s "$res/status" ] ||
	    fail "the VM gave no result (no status in the results share);" \
	    "console tail:"$'\n'"$(tail -30 "$PM_TMP/console.log")"
	st=$(cat "$res/status")
	[ "$st" = 0 ] ||
	    fail "the command inside the VM failed (status $st); its output and" \
	    "the daemons' logs are above (kept in $res/ with PM_KEEP=1)"
}
