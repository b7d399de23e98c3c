#!/bin/bash
# The test VM's initramfs: busybox-static, tests/vm/init.sh as /init, and
# the kernel modules it loads, with their dependencies resolved through
# the kernel's modules.dep (in load order, each once).  Cached: the file is
# named after the kernel version and a hash of this script and init.sh,
# and made only when missing.  Prints its path.
#
#	tests/vm/initramfs.sh KDIR KVER OUTDIR
#
# KDIR/KVER as tests/vm/kernel.sh prints them; OUTDIR: where the cpio.gz
# goes (the kernel cache dir).
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 KDIR KVER OUTDIR" >&2; exit 2; }
kdir=$1 kver=$2 out=$3
here=$(cd "$(dirname "$0")" && pwd)
mdir=$kdir/lib/modules/$kver

# What init loads, and why: virtio-pci and 9p (the host root and results
# shares; 9p needs netfs and fscache on 6.1), veth and bridge (the test's
# namespaces and underlay), ipip (tunl0), sch_tbf (bench/qperf.sh shapes
# the underlay links).  Built-in ones are skipped.
want="virtio_pci 9pnet_virtio 9p veth bridge ipip sch_tbf"

busybox=/bin/busybox
[ -x "$busybox" ] || {
	echo "$0: no busybox (install busybox-static: bash .ci/deps)" >&2
	exit 3
}
if ldd "$busybox" >/dev/null 2>&1; then
	echo "$0: $busybox is not statically linked (install busybox-static)" >&2
	exit 3
fi

hash=$(cat "$0" "$here/init.sh" "$busybox" | sha256sum | cut -c1-12)
img="$out/initramfs-$kver-$hash.cpio.gz"
if [ -s "$img" ]; then
	echo "$img"
	exit 0
fi

# resolve_path P: P's dependencies first (modules.dep lists the nearest
# first: load from the far end), then P; each path once.
declare -A seen
order=()
resolve_path() {
	local p=$1 line d rev=()
	[ -n "${seen[$p]:-}" ] && return 0
	line=$(grep -m 1 -F "$p:" "$mdir/modules.dep")
	for d in ${line#*:}; do
		rev=("$d" "${rev[@]}")
	done
	for d in "${rev[@]}"; do
		resolve_path "$d"
	done
	seen[$p]=1
	order+=("$p")
}
# resolve NAME: the module NAME (- and _ alike) and its dependencies.
resolve() {
	local re line
	re="(^|/)${1//_/[_-]}\.ko(\.(xz|zst|gz))?:"
	line=$(grep -m 1 -E "$re" "$mdir/modules.dep") || true
	if [ -z "$line" ]; then
		grep -qE "${re%:}\$" "$mdir/modules.builtin" 2>/dev/null && return 0
		echo "$0: module $1 neither in modules.dep nor built in" >&2
		exit 1
	fi
	resolve_path "${line%%:*}"
}
for m in $want; do
	resolve "$m"
done

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,dev,proc,sys,host,results,tmp,modules}
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$here/init.sh" "$stage/init"
chmod 755 "$stage/init"
: >"$stage/modules.list"
for p in "${order[@]}"; do
	case $p in
	*.ko.xz) xz -dc "$mdir/$p" >"$stage/modules/$(basename "${p%.xz}")" ;;
	*.ko.zst) zstd -qdc "$mdir/$p" >"$stage/modules/$(basename "${p%.zst}")" ;;
	*) cp "$mdir/$p" "$stage/modules/" ;;
	esac
	p=$(basename "$p")
	echo "${p%.ko*}.ko" >>"$stage/modules.list"
done
mkdir -p "$out"
(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) |
    gzip -1 >"$img.tmp.$$"
mv "$img.tmp.$$" "$img"
echo "$img"
