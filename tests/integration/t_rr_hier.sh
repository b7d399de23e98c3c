#!/bin/bash
#
# Hierarchical route reflection (RFC 4456 §8, §9): a top podmesh reflector
# whose clients are two lower podmesh reflectors, each with two BIRD
# clients, and a BIRD non-client of the top.
#  - a route from a client under A reaches the clients under B with
#    CLUSTER_LIST [B, top, A] (checked in that order on the receiving
#    client) and ORIGINATOR_ID the originating client; the other client
#    under A sees [A]; the top's non-client sees [top, A];
#  - the non-client's route reaches every client as [A|B, top];
#  - the top's cluster id is its router id (no cluster-id configured);
#  - every prefix is delivered exactly once: one path per prefix on every
#    client and every reflector, and every counter stays still (no loop);
#  - a withdrawal under A is gone under B (two reflection levels up and
#    down) within 1 s.
#
#	sw (bridge) 192.0.2.0/24
#	  top .1 (podmesh, cluster id = router id 192.0.2.1)
#	  ra  .2 (podmesh, cluster 203.0.113.10)  clients a1 .21, a2 .22
#	  rb  .3 (podmesh, cluster 203.0.113.20)  clients b1 .31, b2 .32
#	  n   .41 (BIRD, non-client of top)
#	BIRD .N originates 198.18.N.0/24 and 198.18.1N.0/24.

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

require_podmesh
AS=64512
TOP=192.0.2.1
CA=203.0.113.10
CB=203.0.113.20
ALL="a1:21 a2:22 b1:31 b2:32 n:41"

step "topology"
bridge_add sw
ns_add top ra rb a1 a2 b1 b2 n
link_br sw top 192.0.2.1/24
link_br sw ra 192.0.2.2/24
link_br sw rb 192.0.2.3/24
for c in $ALL; do
	link_br sw "${c%:*}" "192.0.2.${c#*:}/24"
done

step "configs"
podmesh_conf "$PM_TMP/top.yaml" rid=$TOP asn=$AS rr=1
podmesh_peer "$PM_TMP/top.yaml" addr=192.0.2.2 asn=$AS rrclient=1 \
    families=ipv4
podmesh_peer "$PM_TMP/top.yaml" addr=192.0.2.3 asn=$AS rrclient=1 \
    families=ipv4
podmesh_peer "$PM_TMP/top.yaml" addr=192.0.2.41 asn=$AS families=ipv4
podmesh_conf "$PM_TMP/ra.yaml" rid=192.0.2.2 asn=$AS cluster=$CA
podmesh_peer "$PM_TMP/ra.yaml" addr=$TOP asn=$AS families=ipv4
podmesh_conf "$PM_TMP/rb.yaml" rid=192.0.2.3 asn=$AS cluster=$CB
podmesh_peer "$PM_TMP/rb.yaml" addr=$TOP asn=$AS families=ipv4
# up_of BIRD: the reflector it peers with
up_of() {
	case $1 in
	a*) echo 192.0.2.2 ;;
	b*) echo 192.0.2.3 ;;
	n) echo $TOP ;;
	esac
}

for c in $ALL; do
	n=${c%:*} i=${c#*:}
	up=$(up_of "$n")
	[ "$n" = n ] || podmesh_peer "$PM_TMP/r${n:0:1}.yaml" \
	    addr="192.0.2.$i" asn=$AS rrclient=1 families=ipv4
	bird_conf "$PM_TMP/$n.conf" rid="192.0.2.$i" asn=$AS \
	    originate="198.18.$i.0/24 198.18.1$i.0/24"
	bird_peer "$PM_TMP/$n.conf" addr="$up" asn=$AS
done

step "start"
for r in top ra rb; do
	start_podmesh "$r" "$PM_TMP/$r.yaml"
done
for c in $ALL; do
	start_bird "${c%:*}" "$PM_TMP/${c%:*}.conf"
done
for a in 192.0.2.2 192.0.2.3 192.0.2.41; do
	expect_established podmesh top "$a" 30
done
for a in $TOP 192.0.2.21 192.0.2.22; do
	expect_established podmesh ra "$a" 30
done
for a in $TOP 192.0.2.31 192.0.2.32; do
	expect_established podmesh rb "$a" 30
done

# want RECEIVER ORIGINATOR: the CLUSTER_LIST RECEIVER should see on
# ORIGINATOR's routes, nearest reflector first.
want() {
	local r=$1 o=$2
	case $r$o in
	a?a? | b?b?) [ "${r:0:1}" = a ] && echo $CA || echo $CB ;;
	a?b?) echo "$CA,$TOP,$CB" ;;
	b?a?) echo "$CB,$TOP,$CA" ;;
	a?n) echo "$CA,$TOP" ;;
	b?n) echo "$CB,$TOP" ;;
	na?) echo "$TOP,$CA" ;;
	nb?) echo "$TOP,$CB" ;;
	esac
}

step "every route reaches every other BIRD once, with the path of clusters"
for c in $ALL; do
	n=${c%:*}
	for o in $ALL; do
		[ "$o" = "$c" ] && continue
		i=${o#*:}
		for p in 198.18.$i.0/24 198.18.1$i.0/24; do
			expect_route bird "$n" "$p" nh="192.0.2.$i" path= \
			    orig="192.0.2.$i" cl="$(want "$n" "${o%:*}")"
			expect_paths bird "$n" "$p" 1 0
		done
	done
done

step "one path per prefix in every reflector, from the right neighbour"
for c in $ALL; do
	i=${c#*:}
	p=198.18.$i.0/24
	for r in top ra rb; do
		expect_paths podmesh "$r" "$p" 1 0
	done
	case ${c%:*} in
	a*)
		expect_route podmesh ra "$p" peer="192.0.2.$i" orig=- cl= timeout=0
		expect_route podmesh top "$p" peer=192.0.2.2 \
		    orig="192.0.2.$i" cl=$CA timeout=0
		expect_route podmesh rb "$p" peer=$TOP orig="192.0.2.$i" \
		    cl="$TOP,$CA" timeout=0
		;;
	b*)
		expect_route podmesh rb "$p" peer="192.0.2.$i" orig=- cl= timeout=0
		expect_route podmesh top "$p" peer=192.0.2.3 \
		    orig="192.0.2.$i" cl=$CB timeout=0
		expect_route podmesh ra "$p" peer=$TOP orig="192.0.2.$i" \
		    cl="$TOP,$CB" timeout=0
		;;
	n)
		expect_route podmesh top "$p" peer=192.0.2.41 orig=- cl= \
		    timeout=0
		expect_route podmesh ra "$p" peer=$TOP orig=192.0.2.41 \
		    cl=$TOP timeout=0
		;;
	esac
done

step "no loop: nothing keeps moving"
counters() {
	local c r
	for r in top ra rb; do
		podmeshctl_ "$r" bgp peers -o json |
		    jq -c '[.[] | [.address, .received, .sent, .flaps]]'
		podmesh_npaths "$r"
	done
	for c in $ALL; do
		bird_route_count "${c%:*}" "$(up_of "${c%:*}")"
	done
}
before=$(counters)
sleep 3
after=$(counters)
[ "$before" = "$after" ] ||
    fail "counters still moving 3 s after convergence:" \
    $'\nbefore:\n'"$before"$'\nafter:\n'"$after"
ok "reflector and client counters unchanged over 3 s"
# 5 BIRDs x 2 prefixes: each holds the other 4 BIRDs' 8 routes, and each
# reflector holds all 10
for c in $ALL; do
	v=$(bird_route_count "${c%:*}" "$(up_of "${c%:*}")")
	[ "$v" = 8 ] || fail "${c%:*} holds $v routes from its reflector, want 8"
done
for r in top ra rb; do
	v=$(podmesh_npaths "$r")
	[ "$v" = 10 ] || fail "$r holds $v paths, want 10:" \
	    $'\n'"$(podmeshctl_ "$r" bgp routes)"
done
ok "8 routes on every BIRD, 10 paths on every reflector"

step "withdrawal under A: gone under B within 1 s"
t0=$(_pm_now)
bird_withdraw a1 198.18.121.0/24
expect_no_route_all 1 "$t0" 198.18.121.0/24 bird:b1 bird:b2 bird:a2 bird:n
for r in top ra rb; do
	expect_no_route podmesh "$r" 198.18.121.0/24 0
done
t0=$(_pm_now)
bird_withdraw b2 198.18.132.0/24
expect_no_route_all 1 "$t0" 198.18.132.0/24 bird:a1 bird:a2 bird:b1 bird:n
bird_announce a1 198.18.121.0/24
expect_route bird b2 198.18.121.0/24 nh=192.0.2.21 orig=192.0.2.21 \
    cl="$CB,$TOP,$CA" timeout=2
expect_paths bird b2 198.18.121.0/24 1 0
for r in top ra rb; do
	daemon_alive podmesh "$r" || fail "podmesh-bgpd $r died"
done
for r in top ra rb; do
	podmesh_finish "$r"
done
exit 0
