#!/bin/bash
#
# ADD-PATH send of reflected routes (RFC 7911 with RFC 4456): two clients
# announce the same prefix (anycast / ECMP); a client that takes ADD-PATH
# gets both paths, each with its originator's next hop and ORIGINATOR_ID,
# so it can balance and fail over without waiting for the reflector; a
# client limited to the best path (add-paths-send-max: 1) gets one; a
# client without ADD-PATH gets the best path only.  When one origin
# withdraws, the ADD-PATH client drops just that path within 1 s and the
# best-1 client gets the other path in its place.
#
#	            sw (bridge) 192.0.2.0/24
#	  pm .1 (podmesh, reflector)
#	  o1 .11  o2 .12     BIRD clients announcing 198.18.50.0/24
#	  ap .21             BIRD client, add paths rx (podmesh: send, all)
#	  b1 .22             BIRD client, add paths rx (podmesh: send, best 1)
#	  pl .23             BIRD client without ADD-PATH

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

require_podmesh
AS=64512
P=198.18.50.0/24

step "topology"
bridge_add sw
ns_add pm o1 o2 ap b1 pl
link_br sw pm 192.0.2.1/24
for c in o1:11 o2:12 ap:21 b1:22 pl:23; do
	link_br sw "${c%:*}" "192.0.2.${c#*:}/24"
done

step "configs"
podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=$AS rr=1
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.11 asn=$AS rrclient=1 \
    families=ipv4
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.12 asn=$AS rrclient=1 \
    families=ipv4
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.21 asn=$AS rrclient=1 \
    families=ipv4 addpaths=send
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.22 asn=$AS rrclient=1 \
    families=ipv4 addpaths=send
echo "    add-paths-send-max: 1" >>"$PM_TMP/pm.yaml"
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.23 asn=$AS rrclient=1 \
    families=ipv4
for c in o1:11 o2:12; do
	bird_conf "$PM_TMP/${c%:*}.conf" rid="192.0.2.${c#*:}" asn=$AS \
	    originate="$P 198.18.${c#*:}.0/24"
	bird_peer "$PM_TMP/${c%:*}.conf" addr=192.0.2.1 asn=$AS
done
for c in ap:21 b1:22; do
	bird_conf "$PM_TMP/${c%:*}.conf" rid="192.0.2.${c#*:}" asn=$AS
	bird_peer "$PM_TMP/${c%:*}.conf" addr=192.0.2.1 asn=$AS addpath=rx
done
bird_conf "$PM_TMP/pl.conf" rid=192.0.2.23 asn=$AS
bird_peer "$PM_TMP/pl.conf" addr=192.0.2.1 asn=$AS

step "start"
start_podmesh pm "$PM_TMP/pm.yaml"
for n in o1 o2 ap b1 pl; do
	start_bird "$n" "$PM_TMP/$n.conf"
done
for i in 11 12 21 22 23; do
	expect_established podmesh pm 192.0.2.$i 30
done

step "both paths to the ADD-PATH client, one to the others"
expect_paths podmesh pm $P 2
expect_paths bird ap $P 2
expect_route bird ap $P nh=192.0.2.11 orig=192.0.2.11 cl=192.0.2.1 timeout=0
expect_route bird ap $P nh=192.0.2.12 orig=192.0.2.12 cl=192.0.2.1 timeout=0
expect_paths bird ap 198.18.11.0/24 1
expect_paths bird b1 $P 1
expect_paths bird pl $P 1
best=$(route podmesh pm $P | grep ' best=1 ' | sed -n 's/^nh=\([^ ]*\).*/\1/p')
[ -n "$best" ] || fail "podmesh: no best path for $P"
expect_route bird b1 $P nh="$best" timeout=0
expect_route bird pl $P nh="$best" timeout=0
ok "best path everywhere: next hop $best"

step "the best origin withdraws"
case $best in
192.0.2.11) gone=o1 other=192.0.2.12 ;;
*) gone=o2 other=192.0.2.11 ;;
esac
bird_withdraw $gone $P
expect_paths bird ap $P 1 1
expect_route bird ap $P nh=$other timeout=1
expect_route bird b1 $P nh=$other timeout=1
expect_route bird pl $P nh=$other timeout=1
expect_paths bird b1 $P 1 1

step "it comes back"
bird_announce $gone $P
expect_paths bird ap $P 2
expect_paths bird b1 $P 1 2
expect_paths bird pl $P 1 2
podmesh_finish pm
exit 0
