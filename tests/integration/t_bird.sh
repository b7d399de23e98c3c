#!/bin/bash
#
# podmesh-bgpd <-> BIRD 2: the core interop scenario of lib.sh (pm_core):
# iBGP and eBGP, an IPv4 and an IPv6 (MP-BGP) session each, 4-octet ASNs on
# both sides (podmesh 4200000001, eBGP peer 4200000002); routes both ways
# with next hop, AS_PATH, LOCAL_PREF and ORIGIN checked with birdc and
# podmeshctl; transit; withdrawal within 1 s; ROUTE-REFRESH both ways; peer
# stop and crash with reconnection.  BIRD's eBGP sessions are direct, so
# its IPv6 routes carry a global and a link-local next hop (32 bytes).
# MD5, graceful restart, ADD-PATH: t_bird_md5.sh, t_bird_gr.sh,
# t_bird_addpath.sh.

PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

pm_core bird 4200000001 4200000002
exit 0
