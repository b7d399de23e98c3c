#!/bin/bash
#
# podmesh-bgpd <-> GoBGP: the core interop scenario of lib.sh (pm_core):
# iBGP and eBGP, an IPv4 and an IPv6 (MP-BGP) session each, 4-octet ASNs on
# both sides (podmesh 4200000001, eBGP peer 4200000002); routes both ways
# with next hop, AS_PATH, LOCAL_PREF and ORIGIN checked with gobgp and
# podmeshctl; transit; withdrawal within 1 s; ROUTE-REFRESH from podmesh
# (GoBGP never sends one: it replays its Adj-RIB-In); peer stop and crash
# with reconnection.

PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

pm_core gobgp 4200000001 4200000002
exit 0
