#!/bin/bash
# Captures real UPDATE messages from BIRD 2 and GoBGP for update_test.c.
#
# Two network namespaces joined by a veth pair: the peer daemon runs in one
# (192.0.2.1 / 2001:db8::1 for BIRD, 192.0.2.3 / 2001:db8::3 for GoBGP),
# bgp_recorder.py (AS 65002, 192.0.2.2 / 2001:db8::2) in the other and writes
# every UPDATE body it receives as a hex line.  Each daemon peers over IPv4
# for IPv4 unicast and over IPv6 for IPv6 unicast, eBGP, and originates a few
# static routes with communities and large communities.
#
# Usage: capture-updates.sh [OUTDIR]   (default: this directory); needs root.
# Writes bird2-ebgp.hex, bird2-addpath.hex and gobgp-ebgp.hex.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
tmp=$(mktemp -d)
nsa=pmcap-$$-a
nsb=pmcap-$$-b
pids=""

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# setup_ns PEER4 PEER6: fresh namespaces, recorder side .2 / ::2
setup_ns() {
	ip netns del "$nsa" 2>/dev/null || true
	ip netns del "$nsb" 2>/dev/null || true
	ip netns add "$nsa"
	ip netns add "$nsb"
	ip link add pmcap$$a netns "$nsa" type veth peer name pmcap$$b \
	    netns "$nsb"
	ip -n "$nsa" link set lo up
	ip -n "$nsb" link set lo up
	ip -n "$nsa" addr add 192.0.2.2/24 dev pmcap$$a
	ip -n "$nsa" addr add 2001:db8::2/64 dev pmcap$$a nodad
	ip -n "$nsb" addr add "$1/24" dev pmcap$$b
	ip -n "$nsb" addr add "$2/64" dev pmcap$$b nodad
	ip -n "$nsa" link set pmcap$$a up
	ip -n "$nsb" link set pmcap$$b up
	# link-local addresses need a moment for DAD
	sleep 2
}

# record [recorder options]: run the recorder until it has what it waits for
record() {
	: >"$tmp/rec.hex"
	ip netns exec "$nsa" python3 "$here/bgp_recorder.py" --seconds 40 \
	    "$@" "$tmp/rec.hex" &
	rec=$!
	pids="$pids $rec"
}

finish() {
	local file=$1 what=$2 rc=0
	wait "$rec" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "capture-updates: $what: not all UPDATEs seen" >&2
		tail -n 20 "$tmp"/*.log >&2 || true
		exit 1
	fi
	{
		echo "# $what, captured by capture-updates.sh on $(date -u +%F)"
		cat "$tmp/rec.hex"
	} >"$out/$file"
	echo "capture-updates: $out/$file: $(grep -vc '^#' "$out/$file") UPDATEs"
}

bird_conf() {
	cat >"$tmp/bird.conf" <<EOF
router id 192.0.2.1;
log "$tmp/bird.log" all;
protocol device {}
protocol static s4 {
	ipv4;
	route 198.18.1.0/26 unreachable;
	route 198.18.2.0/24 unreachable;
}
protocol static s6 {
	ipv6;
	route 2001:db8:100::/48 unreachable;
	route 2001:db8:200::/56 unreachable;
}
filter pm_tag {
	if net = 198.18.1.0/26 then {
		bgp_community.add((65001, 100));
		bgp_large_community.add((65001, 1, 2));
	}
	if net = 198.18.2.0/24 then {
		bgp_med = 50;
		bgp_community.add((65001, 200));
	}
	if net = 2001:db8:100::/48 then
		bgp_large_community.add((65001, 6, 1));
	accept;
}
protocol bgp v4 {
	local 192.0.2.1 as 65001;
	neighbor 192.0.2.2 as 65002;
	ipv4 { import none; export filter pm_tag; $1 };
}
protocol bgp v6 {
	local 2001:db8::1 as 65001;
	neighbor 2001:db8::2 as 65002;
	ipv6 { import none; export filter pm_tag; $1 };
}
EOF
}

# BIRD 2, plain
setup_ns 192.0.2.1 2001:db8::1
bird_conf ""
record --eors 2
ip netns exec "$nsb" bird -f -c "$tmp/bird.conf" -s "$tmp/bird.ctl" &
pids="$pids $!"
bird=$!
finish bird2-ebgp.hex "BIRD $(bird --version 2>&1 | awk '{print $3}') eBGP AS 65001 to AS 65002"
kill "$bird"
wait "$bird" 2>/dev/null || true

# BIRD 2 with ADD-PATH: path identifiers in every NLRI
setup_ns 192.0.2.1 2001:db8::1
bird_conf "add paths tx;"
record --eors 2 --addpath
ip netns exec "$nsb" bird -f -c "$tmp/bird.conf" -s "$tmp/bird.ctl" &
pids="$pids $!"
bird=$!
finish bird2-addpath.hex "BIRD $(bird --version 2>&1 | awk '{print $3}') eBGP AS 65001 to AS 65002, ADD-PATH"
kill "$bird"
wait "$bird" 2>/dev/null || true

# GoBGP: routes are added through its API once it runs
setup_ns 192.0.2.3 2001:db8::3
cat >"$tmp/gobgp.toml" <<EOF
[global.config]
  as = 65003
  router-id = "192.0.2.3"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "192.0.2.2"
    peer-as = 65002
  [neighbors.transport.config]
    local-address = "192.0.2.3"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
[[neighbors]]
  [neighbors.config]
    neighbor-address = "2001:db8::2"
    peer-as = 65002
  [neighbors.transport.config]
    local-address = "2001:db8::3"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
EOF
ip netns exec "$nsb" gobgpd -f "$tmp/gobgp.toml" --api-hosts 127.0.0.1:50051 \
    >"$tmp/gobgpd.log" 2>&1 &
pids="$pids $!"
gobgpd=$!
for i in $(seq 1 50); do
	ip netns exec "$nsb" gobgp global >/dev/null 2>&1 && break
	sleep 0.2
done
gobgp() { ip netns exec "$nsb" gobgp "$@"; }
gobgp global rib add -a ipv4 198.18.3.0/26 origin igp community 65003:300 \
    large-community 65003:3:3
gobgp global rib add -a ipv4 198.18.4.0/24 origin igp med 20
gobgp global rib add -a ipv6 2001:db8:300::/48 origin igp community 65003:600
gobgp global rib add -a ipv6 2001:db8:400::/64 origin egp
# The routes are in before the sessions come up (GoBGP retries every 5 s).
# Without graceful restart GoBGP sends no End-of-RIB: wait for 4 UPDATEs.
record --updates 4
finish gobgp-ebgp.hex "GoBGP $(gobgpd --version | awk '{print $3}') eBGP AS 65003 to AS 65002"
