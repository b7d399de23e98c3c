#!/bin/sh
# /init of the test VM's initramfs (tests/vm/initramfs.sh puts it there,
# with busybox-static as /bin/busybox and the kernel modules listed in
# /modules.list).  Runs as PID 1 under busybox sh:
#
#  1. mounts proc, sys, devtmpfs; insmods the modules (9p over virtio for
#     the host root, veth/bridge for the namespaces, ipip for tunl0,
#     sch_tbf for bench/qperf.sh);
#  2. mounts the host root, shared read-only as 9p tag "hostroot", on
#     /host, and the writable results dir (tag "results") on /results;
#  3. gives the chroot fresh proc/sys/dev and tmpfs over /tmp, /run,
#     /var/tmp, /root (nothing in it can write to the host: the 9p share
#     is read-only, only /results is writable), with PODMESH_SRC and
#     PODMESH_BUILD bound back when they live below one of those;
#  4. sources /results/vm.env (exported variables and PM_VM_CMD) and
#     runs PM_VM_CMD with bash in the chroot as root, its output on the console and in /results/inner.log, writes
#     its exit status to /results/status and prints
#     "PODMESH-VM-RESULT <status>";
#  5. powers the VM off (any failure here too: never hangs).
PATH=/bin:/sbin
export PATH

say() {
	echo "podmesh-vm: $*"
}

die() {
	say "FATAL: $*"
	[ -d /results ] && echo "init: $*" >>/results/init.err 2>/dev/null
	echo "PODMESH-VM-RESULT init-failed"
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 10
}

/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /host /results /tmp
mount -t proc proc /proc || die "mount proc"
mount -t sysfs sysfs /sys || die "mount sysfs"
mount -t devtmpfs devtmpfs /dev || die "mount devtmpfs"
echo 1 >/proc/sys/kernel/sysrq

for m in $(cat /modules.list); do
	insmod "/modules/$m" || die "insmod $m"
done
say "kernel $(uname -r), modules loaded: $(sed 's,.*/,,; s,\.ko$,,' /modules.list | tr '\n' ' ')"

o9p="trans=virtio,version=9p2000.L,msize=512000"
mount -t 9p -o "$o9p,ro,cache=loose" hostroot /host || die "mount 9p hostroot"
mount -t 9p -o "$o9p" results /results || die "mount 9p results"
[ -r /results/vm.env ] || die "no /results/vm.env"
. /results/vm.env

h=/host
mount -t proc proc $h/proc || die "proc in chroot"
mount -t sysfs sysfs $h/sys || die "sysfs in chroot"
mount -t devtmpfs devtmpfs $h/dev || die "devtmpfs in chroot"
mkdir -p $h/dev/pts $h/dev/shm 2>/dev/null
mount -t devpts devpts $h/dev/pts 2>/dev/null
mount -t tmpfs -o mode=1777 tmpfs $h/dev/shm 2>/dev/null
# The tmpfs would hide a checkout or build that lives below one of these
# (CI may clone into /tmp): keep a view of each first, and bind the
# test's own trees back on top of the tmpfs.
for d in /tmp /run /var/tmp /root; do
	mkdir -p "/keep$d"
	mount --bind "$h$d" "/keep$d" || die "keeping a view of $d"
	mount -t tmpfs -o mode=1777 tmpfs "$h$d" || die "tmpfs on $d"
done
for p in "$PODMESH_SRC" "$PODMESH_BUILD"; do
	case $p in
	/tmp/* | /run/* | /var/tmp/* | /root/*)
		mkdir -p "$h$p" && mount --bind "/keep$p" "$h$p" ||
		    die "$p back into the chroot"
		;;
	esac
done
chmod 700 $h/root
# Debian's /var/run is a symlink to /run; be sure `ip netns` finds /run.
mkdir -p $h/run/netns $h/run/lock
# The results dir inside the chroot as well, for the inner test's logs.
mkdir -p $h/tmp/results
mount --bind /results $h/tmp/results || die "results into the chroot"

say "host root mounted read-only; running: $PM_VM_CMD"
# The inner command's output goes to the console (the outer test streams
# it) and to the results dir; its status to /results/status.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb PM_VM_RESULTS=/tmp/results
{
	chroot $h /bin/bash -c "$PM_VM_CMD" </dev/null 2>&1
	echo "$?" >/results/status
} | tee /results/inner.log
rc=$(cat /results/status 2>/dev/null)
sync
say "inner command exited $rc"
echo "PODMESH-VM-RESULT $rc"
umount $h/tmp/results 2>/dev/null
umount /results 2>/dev/null
poweroff -f
echo o >/proc/sysrq-trigger
sleep 10
