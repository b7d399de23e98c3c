#!/bin/bash
#
# The README's demo: podmesh-bgpd (AS 64512) and BIRD 2 (AS 64513) over eBGP
# on a veth pair, each originating a pod block, IPv4 and IPv6.
#
#	podmesh 192.0.2.1, 2001:db8:1::1  ----  bird 192.0.2.2, 2001:db8:1::2
PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

ns_add podmesh bird
link_ns podmesh 192.0.2.1/24,2001:db8:1::1/64 bird 192.0.2.2/24,2001:db8:1::2/64

podmesh_conf "$PM_TMP/podmesh.yaml" rid=192.0.2.1 asn=64512 \
    originate="198.18.0.0/26 2001:db8:100::/64"
podmesh_peer "$PM_TMP/podmesh.yaml" addr=192.0.2.2 asn=64513 families=ipv4
podmesh_peer "$PM_TMP/podmesh.yaml" addr=2001:db8:1::2 asn=64513 families=ipv6
bird_conf "$PM_TMP/bird.conf" rid=192.0.2.2 asn=64513 \
    originate="198.18.0.64/26 2001:db8:101::/64"
bird_peer "$PM_TMP/bird.conf" addr=192.0.2.1 asn=64512
bird_peer "$PM_TMP/bird.conf" addr=2001:db8:1::1 asn=64512

start_bird bird "$PM_TMP/bird.conf"
start_podmesh podmesh "$PM_TMP/podmesh.yaml"
expect_established podmesh podmesh 192.0.2.2
expect_established podmesh podmesh 2001:db8:1::2
expect_route podmesh podmesh 198.18.0.64/26 nh=192.0.2.2 path=64513
expect_route bird bird 198.18.0.0/26 nh=192.0.2.1 path=64512
expect_route bird bird 2001:db8:100::/64 nh=2001:db8:1::1 path=64512

echo
echo "## podmeshctl bgp peers"
podmeshctl_ podmesh bgp peers
echo
echo "## podmeshctl bgp routes"
podmeshctl_ podmesh bgp routes
echo
echo "## birdc show route (BIRD's view)"
birdc_ bird show route
exit 0
