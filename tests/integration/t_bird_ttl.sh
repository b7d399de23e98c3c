#!/bin/bash
#
# TTL handling with BIRD 2: eBGP multihop through a router namespace with a
# source address (local-address), the TTL-1 default for directly connected
# eBGP (which must not cross the router), and GTSM (RFC 5082) on a direct
# link, which must reject a peer that does not send TTL 255.
#
#	pm 192.0.2.1 --- 192.0.2.2 r 198.51.100.1 --- 198.51.100.2 mh (BIRD)
#	pm 203.0.113.1 --- 203.0.113.2 gt (BIRD, GTSM)

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"
require_podmesh

step "topology"
ns_add pm r mh gt
link_ns pm 192.0.2.1/24 r 192.0.2.2/24
link_ns r 198.51.100.1/24 mh 198.51.100.2/24
link_ns pm 203.0.113.1/24 gt 203.0.113.2/24
nsx r sysctl -qw net.ipv4.ip_forward=1
nsx pm ip route add 198.51.100.0/24 via 192.0.2.2
nsx mh ip route add 192.0.2.0/24 via 198.51.100.1

# bird_opt FILE ADDR LINE: add LINE to the protocol of neighbour ADDR
bird_opt() {
	sed -i "/neighbor $2 as/a\\	$3" "$1"
}

step "multihop eBGP with a source address comes up"
podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=64512 originate=198.18.1.0/24
podmesh_peer "$PM_TMP/pm.yaml" addr=198.51.100.2 asn=64513 families=ipv4
echo "    multihop: 2" >>"$PM_TMP/pm.yaml"
echo "    local-address: 192.0.2.1" >>"$PM_TMP/pm.yaml"
podmesh_peer "$PM_TMP/pm.yaml" addr=203.0.113.2 asn=64514 families=ipv4
echo "    ttl-security: true" >>"$PM_TMP/pm.yaml"
bird_conf "$PM_TMP/mh.conf" rid=198.51.100.2 asn=64513 originate=198.18.2.0/24
bird_peer "$PM_TMP/mh.conf" addr=192.0.2.1 asn=64512
bird_opt "$PM_TMP/mh.conf" 192.0.2.1 "multihop 2;"
bird_conf "$PM_TMP/gt.conf" rid=203.0.113.2 asn=64514 originate=198.18.3.0/24
bird_peer "$PM_TMP/gt.conf" addr=203.0.113.1 asn=64512
bird_opt "$PM_TMP/gt.conf" 203.0.113.1 "ttl security on;"
start_bird mh "$PM_TMP/mh.conf"
start_bird gt "$PM_TMP/gt.conf"
start_podmesh pm "$PM_TMP/pm.yaml"
expect_established podmesh pm 198.51.100.2
expect_route bird mh 198.18.1.0/24 nh=192.0.2.1 path=64512
expect_route podmesh pm 198.18.2.0/24 nh=198.51.100.2 path=64513

step "GTSM on both sides comes up"
expect_established podmesh pm 203.0.113.2
expect_route podmesh pm 198.18.3.0/24 nh=203.0.113.2 path=64514

step "without multihop, TTL 1 does not cross the router"
stop_daemon podmesh pm
sed -i '/multihop: 2/d' "$PM_TMP/pm.yaml"
start_podmesh pm "$PM_TMP/pm.yaml"
expect_not_established podmesh pm 198.51.100.2 5

step "GTSM rejects a peer that sends TTL 1"
stop_daemon bird gt
sed -i '/ttl security on/d' "$PM_TMP/gt.conf"
start_bird gt "$PM_TMP/gt.conf"
expect_not_established podmesh pm 203.0.113.2 5
exit 0
