#!/bin/sh
# Debian's kernel for the test VM, never installed: unpacks the cached
# linux-image-<version>-amd64 .deb that .ci/deps downloads (the package
# linux-image-amd64 depends on) into CACHE/kernel-<version>/ once, runs
# depmod there (the .deb ships no modules.dep) and prints, for eval:
#
#	PM_VM_KVER=6.1.0-56-amd64
#	PM_VM_KERNEL=CACHE/kernel-6.1.0-56-amd64/boot/vmlinuz-6.1.0-56-amd64
#	PM_VM_KDIR=CACHE/kernel-6.1.0-56-amd64
#
#	tests/vm/kernel.sh [CACHE]
#
# CACHE: $PODMESH_DEB_CACHE or /var/cache/podmesh.  Exit 3 with a message
# when no kernel .deb is cached (fix: `bash .ci/deps`), 1 on other errors.
set -eu
cache=${1:-${PODMESH_DEB_CACHE:-/var/cache/podmesh}}

# The image package linux-image-amd64 points to, if apt knows; otherwise
# the newest linux-image-*-amd64 .deb in the cache.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1) || true
deb=
[ -n "$kpkg" ] && deb=$(ls "$cache/${kpkg}"_*.deb 2>/dev/null | sort -V | tail -n 1)
[ -n "$deb" ] || deb=$(ls "$cache"/linux-image-[0-9]*-amd64_*.deb 2>/dev/null |
    grep -v -- '-dbg_' | sort -V | tail -n 1) || true
if [ -z "$deb" ]; then
	echo "$0: no Debian kernel .deb (${kpkg:-linux-image-<version>-amd64}_*.deb) in $cache;" \
	    "run \`bash .ci/deps\` as root (it runs \`apt-get download\` of the package" \
	    "linux-image-amd64 depends on into $cache)" >&2
	exit 3
fi
kver=$(basename "$deb" | sed 's/^linux-image-\(.*\)_[^_]*_[^_]*\.deb$/\1/')
kver=${kver%-unsigned}
dest="$cache/kernel-$kver"

if ! [ -s "$dest/boot/vmlinuz-$kver" ] || ! [ -s "$dest/lib/modules/$kver/modules.dep" ]; then
	tmp="$dest.tmp.$$"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	trap 'rm -rf "$tmp"' EXIT
	dpkg-deb -x "$deb" "$tmp"
	[ -s "$tmp/boot/vmlinuz-$kver" ] && [ -d "$tmp/lib/modules/$kver" ] || {
		echo "$0: $deb holds no boot/vmlinuz-$kver and lib/modules/$kver" >&2
		exit 1
	}
	depmod=$(command -v depmod || echo /sbin/depmod)
	"$depmod" -b "$tmp" "$kver" || {
		echo "$0: depmod -b $tmp $kver failed" >&2
		exit 1
	}
	rm -rf "$dest"
	mv "$tmp" "$dest"
	trap - EXIT
fi
echo "PM_VM_KVER=$kver"
echo "PM_VM_KERNEL=$dest/boot/vmlinuz-$kver"
echo "PM_VM_KDIR=$dest"
