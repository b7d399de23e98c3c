#!/bin/bash
#
# podmesh-bgpd and ADD-PATH (RFC 7911) with BIRD 2, IPv4 and IPv6:
#  - receive: BIRD (hub) learns 198.18.9.0/24 and 2001:db8:100:9::/64 from
#    two origins (o1 in AS 65001, o2 in AS 65002) and sends podmesh both
#    paths (`add paths tx`); podmesh keeps both, one of them best;
#  - send: podmesh passes both paths on to a collector BIRD (`add paths
#    rx`);
#  - best N: a second collector (col1) with `add-paths-send-max: 1` gets
#    only podmesh's best path, and the other one when the best goes;
#  - withdrawal of one path (path identifier) leaves the other, within 1 s.
#
#	o1 (AS 65001) --- hub (BIRD, AS 4200000002) --- pm (AS 4200000001) --- col
#	o2 (AS 65002) --/                                   (BIRD, AS 65100)  \- col1
#	                                                                 (AS 65101)

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

require_podmesh
PM_AS=4200000001
HUB_AS=4200000002

step "topology"
ns_add pm hub o1 o2 col col1
link_ns pm 192.0.2.1/24,2001:db8:1::1/64 hub 192.0.2.2/24,2001:db8:1::2/64
link_ns pm 198.51.100.1/24,2001:db8:2::1/64 col 198.51.100.2/24,2001:db8:2::2/64
link_ns pm 203.0.113.33/28 col1 203.0.113.34/28
link_ns hub 203.0.113.1/28,2001:db8:3::1/64 o1 203.0.113.2/28,2001:db8:3::2/64
link_ns hub 203.0.113.17/28,2001:db8:4::1/64 o2 203.0.113.18/28,2001:db8:4::2/64

step "configs"
podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=$PM_AS \
    originate="198.18.1.0/24"
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.2 asn=$HUB_AS families=ipv4 \
    addpaths=receive
podmesh_peer "$PM_TMP/pm.yaml" addr=2001:db8:1::2 asn=$HUB_AS families=ipv6 \
    addpaths=receive
podmesh_peer "$PM_TMP/pm.yaml" addr=198.51.100.2 asn=65100 families=ipv4 \
    addpaths=send
podmesh_peer "$PM_TMP/pm.yaml" addr=2001:db8:2::2 asn=65100 families=ipv6 \
    addpaths=send
podmesh_peer "$PM_TMP/pm.yaml" addr=203.0.113.34 asn=65101 families=ipv4 \
    addpaths=send
echo "    add-paths-send-max: 1" >>"$PM_TMP/pm.yaml"

bird_conf "$PM_TMP/hub.conf" rid=192.0.2.2 asn=$HUB_AS
bird_peer "$PM_TMP/hub.conf" addr=192.0.2.1 asn=$PM_AS addpath=tx
bird_peer "$PM_TMP/hub.conf" addr=2001:db8:1::1 asn=$PM_AS addpath=tx
bird_peer "$PM_TMP/hub.conf" addr=203.0.113.2 asn=65001
bird_peer "$PM_TMP/hub.conf" addr=2001:db8:3::2 asn=65001
bird_peer "$PM_TMP/hub.conf" addr=203.0.113.18 asn=65002
bird_peer "$PM_TMP/hub.conf" addr=2001:db8:4::2 asn=65002

bird_conf "$PM_TMP/o1.conf" rid=203.0.113.2 asn=65001 \
    originate="198.18.9.0/24 198.18.10.0/24 2001:db8:100:9::/64"
bird_peer "$PM_TMP/o1.conf" addr=203.0.113.1 asn=$HUB_AS
bird_peer "$PM_TMP/o1.conf" addr=2001:db8:3::1 asn=$HUB_AS
bird_conf "$PM_TMP/o2.conf" rid=203.0.113.18 asn=65002 \
    originate="198.18.9.0/24 2001:db8:100:9::/64"
bird_peer "$PM_TMP/o2.conf" addr=203.0.113.17 asn=$HUB_AS
bird_peer "$PM_TMP/o2.conf" addr=2001:db8:4::1 asn=$HUB_AS

bird_conf "$PM_TMP/col.conf" rid=198.51.100.2 asn=65100
bird_peer "$PM_TMP/col.conf" addr=198.51.100.1 asn=$PM_AS addpath=rx
bird_peer "$PM_TMP/col.conf" addr=2001:db8:2::1 asn=$PM_AS addpath=rx
bird_conf "$PM_TMP/col1.conf" rid=203.0.113.34 asn=65101
bird_peer "$PM_TMP/col1.conf" addr=203.0.113.33 asn=$PM_AS addpath=rx

step "start"
start_podmesh pm "$PM_TMP/pm.yaml"
for n in hub o1 o2 col col1; do
	start_bird "$n" "$PM_TMP/$n.conf"
done
for a in 192.0.2.2 2001:db8:1::2 198.51.100.2 2001:db8:2::2 203.0.113.34; do
	expect_established podmesh pm "$a" 30
done
expect_route bird hub 198.18.9.0/24 path=65001
expect_route bird hub 198.18.9.0/24 path=65002
expect_paths bird hub 2001:db8:100:9::/64 2

step "receive: podmesh keeps both paths from BIRD"
for p in 198.18.9.0/24 2001:db8:100:9::/64; do
	expect_route podmesh pm $p path=$HUB_AS,65001
	expect_route podmesh pm $p path=$HUB_AS,65002
	expect_paths podmesh pm $p 2
	n=$(route podmesh pm $p | grep -c ' best=1 ')
	[ "$n" = 1 ] || fail "podmesh: $p has $n best paths, want 1:" \
	    $'\n'"$(route podmesh pm $p)"
	ok "podmesh: $p has one best path"
done
expect_route podmesh pm 198.18.9.0/24 nh=192.0.2.2 path=$HUB_AS,65001
expect_route podmesh pm 2001:db8:100:9::/64 nh=2001:db8:1::2 \
    path=$HUB_AS,65002
expect_paths podmesh pm 198.18.10.0/24 1

step "send: the collector gets both paths from podmesh"
for p in 198.18.9.0/24 2001:db8:100:9::/64; do
	expect_route bird col $p path=$PM_AS,$HUB_AS,65001
	expect_route bird col $p path=$PM_AS,$HUB_AS,65002
	expect_paths bird col $p 2
done
expect_route bird col 198.18.9.0/24 nh=198.51.100.1
expect_paths bird col 198.18.10.0/24 1

step "best 1: col1 gets podmesh's best path only"
expect_paths bird col1 198.18.10.0/24 1
expect_paths bird col1 198.18.9.0/24 1
best=$(route podmesh pm 198.18.9.0/24 | grep ' best=1 ' |
    sed -n 's/.* path=\([^ ]*\).*/\1/p')
[ -n "$best" ] || fail "podmesh: no best path for 198.18.9.0/24"
expect_route bird col1 198.18.9.0/24 path=$PM_AS,$best timeout=0
# the best path goes: col1 gets the other one in its place
case $best in
*,65001) gone=o1 other=65002 ;;
*) gone=o2 other=65001 ;;
esac
bird_withdraw $gone 198.18.9.0/24
expect_route bird col1 198.18.9.0/24 path=$PM_AS,$HUB_AS,$other timeout=2
expect_paths bird col1 198.18.9.0/24 1 1
bird_announce $gone 198.18.9.0/24
expect_paths podmesh pm 198.18.9.0/24 2
expect_paths bird col 198.18.9.0/24 2
expect_paths bird col1 198.18.9.0/24 1 1

step "one path withdrawn, the other stays"
bird_withdraw o1 198.18.9.0/24
expect_paths podmesh pm 198.18.9.0/24 1 1
expect_route podmesh pm 198.18.9.0/24 path=$HUB_AS,65002 best=1 timeout=0
expect_paths bird col 198.18.9.0/24 1 2
expect_route bird col 198.18.9.0/24 path=$PM_AS,$HUB_AS,65002 timeout=0
expect_route bird col1 198.18.9.0/24 path=$PM_AS,$HUB_AS,65002 timeout=2
expect_paths bird col1 198.18.9.0/24 1 1
bird_withdraw o2 2001:db8:100:9::/64
expect_paths podmesh pm 2001:db8:100:9::/64 1 1
expect_route podmesh pm 2001:db8:100:9::/64 path=$HUB_AS,65001 timeout=0
bird_announce o1 198.18.9.0/24
expect_paths podmesh pm 198.18.9.0/24 2
expect_paths bird col 198.18.9.0/24 2
expect_paths bird col1 198.18.9.0/24 1 1
bird_withdraw o1 198.18.9.0/24
bird_withdraw o2 198.18.9.0/24
expect_no_route podmesh pm 198.18.9.0/24 1
expect_no_route bird col 198.18.9.0/24 2
expect_no_route bird col1 198.18.9.0/24 2
daemon_alive podmesh pm || fail "podmesh-bgpd died"
exit 0
