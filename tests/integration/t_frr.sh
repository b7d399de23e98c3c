#!/bin/bash
#
# podmesh-bgpd <-> FRR bgpd (alone, without zebra): the core interop
# scenario of lib.sh (pm_core): iBGP and eBGP, an IPv4 and an IPv6 (MP-BGP)
# session each; podmesh in 2-octet AS 64512 against a 4-octet eBGP peer
# (4200000002), which podmesh sees through the 4-octet AS capability;
# routes both ways with next hop, AS_PATH, LOCAL_PREF and ORIGIN checked
# with vtysh and podmeshctl; transit; withdrawal within 1 s; ROUTE-REFRESH
# both ways; peer stop and crash with reconnection.  The links carry no
# IPv6 link-local addresses: bgpd without zebra withdraws routes whose next
# hop is link-local.

PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

pm_core frr 64512 4200000002
exit 0
