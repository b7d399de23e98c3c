#!/bin/bash
#
# Harness self-test, without podmesh: BIRD 2 <-> GoBGP (eBGP, IPv4 and an
# IPv6 session) and BIRD 2 <-> FRR (iBGP, IPv4 and IPv6) exchange a route
# each way; a withdrawal propagates.  If this fails, the peers or lib.sh
# are broken, not podmesh.
#
#	bird --- gobgp   192.0.2.0/24, 2001:db8:1::/64    AS 64512 / 65001
#	bird --- frr     198.51.100.0/24, 2001:db8:2::/64 AS 64512 / 64512

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

step "topology"
ns_add bird gobgp frr
link_ns bird 192.0.2.1/24,2001:db8:1::1/64 gobgp 192.0.2.2/24,2001:db8:1::2/64
link_ns bird 198.51.100.1/24,2001:db8:2::1/64 frr 198.51.100.2/24,2001:db8:2::2/64 ll=off

step "configs"
bird_conf "$PM_TMP/bird.conf" rid=192.0.2.1 asn=64512 \
    originate="198.18.1.0/24 2001:db8:100:1::/64"
bird_peer "$PM_TMP/bird.conf" addr=192.0.2.2 asn=65001
bird_peer "$PM_TMP/bird.conf" addr=2001:db8:1::2 asn=65001
bird_peer "$PM_TMP/bird.conf" addr=198.51.100.2 asn=64512 lp=150
bird_peer "$PM_TMP/bird.conf" addr=2001:db8:2::2 asn=64512 lp=150

gobgp_conf "$PM_TMP/gobgp.toml" rid=192.0.2.2 asn=65001 \
    originate="198.18.2.0/24 2001:db8:100:2::/64"
gobgp_peer "$PM_TMP/gobgp.toml" addr=192.0.2.1 asn=64512
gobgp_peer "$PM_TMP/gobgp.toml" addr=2001:db8:1::1 asn=64512

frr_conf "$PM_TMP/frr.conf" rid=198.51.100.2 asn=64512 \
    originate="198.18.3.0/24 2001:db8:100:3::/64"
frr_peer "$PM_TMP/frr.conf" addr=198.51.100.1 asn=64512 lp=120
frr_peer "$PM_TMP/frr.conf" addr=2001:db8:2::1 asn=64512 lp=120

step "start"
start_bird bird "$PM_TMP/bird.conf"
start_gobgp gobgp "$PM_TMP/gobgp.toml"
start_frr frr "$PM_TMP/frr.conf"

step "sessions"
for p in 192.0.2.2 2001:db8:1::2 198.51.100.2 2001:db8:2::2; do
	expect_established bird bird "$p"
done
expect_established gobgp gobgp 192.0.2.1
expect_established gobgp gobgp 2001:db8:1::1
expect_established frr frr 198.51.100.1
expect_established frr frr 2001:db8:2::1

step "BIRD <-> GoBGP (eBGP)"
expect_route gobgp gobgp 198.18.1.0/24 nh=192.0.2.1 path=64512 origin=i
expect_route gobgp gobgp 2001:db8:100:1::/64 nh=2001:db8:1::1 path=64512
expect_route bird bird 198.18.2.0/24 nh=192.0.2.2 path=65001 lp=100 origin=i
expect_route bird bird 2001:db8:100:2::/64 nh=2001:db8:1::2 path=65001
# eBGP: what BIRD learnt from GoBGP goes on to FRR and back again.
expect_route frr frr 198.18.2.0/24 path=65001 lp=150

step "BIRD <-> FRR (iBGP)"
expect_route frr frr 198.18.1.0/24 nh=198.51.100.1 path= lp=150
expect_route frr frr 2001:db8:100:1::/64 nh=2001:db8:2::1 path= lp=150
expect_route bird bird 198.18.3.0/24 nh=198.51.100.2 path= lp=120 origin=i
expect_route bird bird 2001:db8:100:3::/64 nh=2001:db8:2::2 path= lp=120
expect_route gobgp gobgp 198.18.3.0/24 nh=192.0.2.1 path=64512

step "withdrawal"
gobgp_withdraw gobgp 198.18.2.0/24
expect_no_route bird bird 198.18.2.0/24 2
expect_no_route frr frr 198.18.2.0/24 2
frr_withdraw frr 198.18.3.0/24
expect_no_route bird bird 198.18.3.0/24 2
bird_withdraw bird 198.18.1.0/24
expect_no_route gobgp gobgp 198.18.1.0/24 2
expect_no_route frr frr 198.18.1.0/24 2
bird_announce bird 198.18.1.0/24
expect_route gobgp gobgp 198.18.1.0/24 nh=192.0.2.1 path=64512

step "route refresh"
# GoBGP keeps an Adj-RIB-In and never sends ROUTE-REFRESH itself
# (softresetin replays it), so BIRD and FRR send them.
birdc_ bird reload in "$(_bird_proto 192.0.2.2)" >/dev/null
wait_until 5 test "$(gobgp_counter gobgp 192.0.2.1 received refresh)" -ge 1 ||
    fail "GoBGP got no ROUTE-REFRESH from BIRD"
ok "BIRD -> GoBGP ROUTE-REFRESH (GoBGP counted it)"
birdc_ bird reload in "$(_bird_proto 198.51.100.2)" >/dev/null
wait_until 5 test "$(frr_counter frr 198.51.100.1 routeRefreshRecv)" -ge 1 ||
    fail "FRR got no ROUTE-REFRESH from BIRD"
ok "BIRD -> FRR ROUTE-REFRESH (FRR counted it)"
vtysh_ frr "clear bgp ipv4 unicast 198.51.100.1 soft in" >/dev/null
wait_until 5 test "$(bird_log_count bird 198.51.100.2 "Got ROUTE-REFRESH")" -ge 1 ||
    fail "BIRD logged no ROUTE-REFRESH from FRR"
ok "FRR -> BIRD ROUTE-REFRESH (BIRD logged it)"

exit 0
