#!/bin/sh
# Unpacks Debian's BIRD 1.6 (package "bird", which conflicts with bird2 and
# so is never installed) into DESTDIR, for `bird -p -c` checks of the BIRD
# 1.6 configs podmesh-confd renders (confd/dist/bird1).  Idempotent: does
# nothing when DESTDIR already holds it.
#
#	scripts/bird16.sh DESTDIR
#
# Afterwards DESTDIR/usr/sbin/bird and DESTDIR/usr/sbin/bird6 are the 1.6
# daemons (they only need libc, readline and tinfo, all on the system).  The
# .deb comes from the cache .ci/deps fills (/var/cache/podmesh, or
# PODMESH_DEB_CACHE); when it is missing, `apt-get download bird` fetches it
# there.  Prints DESTDIR/usr/sbin on success.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DESTDIR" >&2; exit 2; }
dest=$1
cache=${PODMESH_DEB_CACHE:-/var/cache/podmesh}

if [ -x "$dest/usr/sbin/bird" ] && [ -x "$dest/usr/sbin/bird6" ] &&
    "$dest/usr/sbin/bird" --version 2>&1 | grep -q 'BIRD version 1\.6'; then
	echo "$dest/usr/sbin"
	exit 0
fi

deb=$(ls "$cache"/bird_1.6*.deb 2>/dev/null | tail -n 1 || true)
if [ -z "$deb" ]; then
	mkdir -p "$cache"
	(cd "$cache" && apt-get download bird >/dev/null 2>&1) || {
		echo "$0: no bird_1.6*.deb in $cache and apt-get download bird failed" >&2
		exit 1
	}
	deb=$(ls "$cache"/bird_1.6*.deb 2>/dev/null | tail -n 1 || true)
	[ -n "$deb" ] || { echo "$0: apt-get download bird gave no 1.6 .deb" >&2; exit 1; }
fi

tmp="$dest.tmp.$$"
rm -rf "$tmp"
mkdir -p "$tmp"
dpkg-deb -x "$deb" "$tmp"
"$tmp/usr/sbin/bird" --version 2>&1 | grep -q 'BIRD version 1\.6' || {
	echo "$0: $deb holds no BIRD 1.6" >&2
	rm -rf "$tmp"
	exit 1
}
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$tmp" "$dest"
echo "$dest/usr/sbin"
