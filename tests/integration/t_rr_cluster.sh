#!/bin/bash
#
# Two podmesh reflectors in one cluster (RFC 4456 §7, §8): rr1 and rr2 share
# cluster-id 203.0.113.9, peer with each other as iBGP non-clients, and
# both serve the same three BIRD clients.
#  - every client gets every other client's routes once from each
#    reflector (two paths, one per session), with ORIGINATOR_ID and
#    CLUSTER_LIST [203.0.113.9];
#  - each reflector reflects its clients' routes to the other one (they go
#    to non-clients too), and the other one ignores them (its cluster id
#    is in the CLUSTER_LIST): its RIB holds no path from the other
#    reflector, one path per client prefix, and every counter stays still
#    (no loop);
#  - a withdrawal on one client is gone from the others within 1 s;
#  - with one reflector stopped, the clients keep every route via the other.
#
#	sw (bridge) 192.0.2.0/24
#	  rr1 .1, rr2 .2     podmesh, cluster-id 203.0.113.9
#	  c1 .11  c2 .12  c3 .13   BIRD clients of both; .N originates
#	                           198.18.N.0/24 and 198.18.1N.0/24

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

require_podmesh
AS=64512
CL=203.0.113.9
CLIENTS="c1:11 c2:12 c3:13"

step "topology"
bridge_add sw
ns_add rr1 rr2 c1 c2 c3
link_br sw rr1 192.0.2.1/24
link_br sw rr2 192.0.2.2/24
for c in $CLIENTS; do
	link_br sw "${c%:*}" "192.0.2.${c#*:}/24"
done

step "configs"
for r in 1 2; do
	f=$PM_TMP/rr$r.yaml
	podmesh_conf "$f" rid="192.0.2.$r" asn=$AS cluster=$CL
	# the other reflector: a plain iBGP (non-client) peer
	podmesh_peer "$f" addr="192.0.2.$((3 - r))" asn=$AS families=ipv4
	for c in $CLIENTS; do
		podmesh_peer "$f" addr="192.0.2.${c#*:}" asn=$AS rrclient=1 \
		    families=ipv4
	done
done
for c in $CLIENTS; do
	n=${c%:*} i=${c#*:}
	bird_conf "$PM_TMP/$n.conf" rid="192.0.2.$i" asn=$AS \
	    originate="198.18.$i.0/24 198.18.1$i.0/24"
	bird_peer "$PM_TMP/$n.conf" addr=192.0.2.1 asn=$AS
	bird_peer "$PM_TMP/$n.conf" addr=192.0.2.2 asn=$AS
done

step "start"
start_podmesh rr1 "$PM_TMP/rr1.yaml"
start_podmesh rr2 "$PM_TMP/rr2.yaml"
for c in $CLIENTS; do
	start_bird "${c%:*}" "$PM_TMP/${c%:*}.conf"
done
for r in 1 2; do
	expect_established podmesh "rr$r" "192.0.2.$((3 - r))" 30
	for c in $CLIENTS; do
		expect_established podmesh "rr$r" "192.0.2.${c#*:}" 30
	done
done

step "every client gets every other client's routes from both reflectors"
for c in $CLIENTS; do
	n=${c%:*}
	for o in $CLIENTS; do
		[ "$o" = "$c" ] && continue
		i=${o#*:}
		for p in 198.18.$i.0/24 198.18.1$i.0/24; do
			for r in 1 2; do
				expect_route bird "$n" "$p" nh="192.0.2.$i" \
				    path= orig="192.0.2.$i" cl=$CL \
				    proto="$(_bird_proto "192.0.2.$r")"
			done
			expect_paths bird "$n" "$p" 2 0
		done
	done
done

step "each reflector ignores what the other reflects (its cluster id)"
for r in 1 2; do
	o=192.0.2.$((3 - r))
	sent=$(podmesh_peer_field "rr$r" "$o" sent)
	[ -n "$sent" ] && [ "$sent" -gt 0 ] ||
	    fail "rr$r reflected nothing to the other reflector (sent=$sent):" \
	    "client routes must go to non-clients too (§6)"
	ok "rr$r sent $sent prefixes to the other reflector"
done
for r in 1 2; do
	o=192.0.2.$((3 - r))
	v=$(podmesh_npaths "rr$r" "$o")
	[ "$v" = 0 ] || fail "rr$r holds $v paths from the other reflector," \
	    "which carry its own cluster id:"$'\n'"$(podmeshctl_ "rr$r" bgp routes)"
	for c in $CLIENTS; do
		i=${c#*:}
		expect_paths podmesh "rr$r" "198.18.$i.0/24" 1 0
		expect_route podmesh "rr$r" "198.18.$i.0/24" \
		    peer="192.0.2.$i" orig=- cl= timeout=0
	done
	ok "rr$r: no path from the other reflector, one path per prefix"
done

step "no loop: nothing keeps moving"
counters() {
	local c r
	for r in 1 2; do
		podmeshctl_ "rr$r" bgp peers -o json |
		    jq -c '[.[] | [.address, .received, .sent, .flaps]]'
		podmesh_npaths "rr$r"
	done
	for c in $CLIENTS; do
		for r in 1 2; do
			bird_counter "${c%:*}" "192.0.2.$r" import ipv4
			bird_route_count "${c%:*}" "192.0.2.$r"
		done
	done
}
before=$(counters)
sleep 3
after=$(counters)
[ "$before" = "$after" ] ||
    fail "counters still moving 3 s after convergence:" \
    $'\nbefore:\n'"$before"$'\nafter:\n'"$after"
ok "reflector and client counters unchanged over 3 s"
# 2 other clients x 2 prefixes x 2 reflectors, from each reflector 4
for c in $CLIENTS; do
	for r in 1 2; do
		v=$(bird_route_count "${c%:*}" "192.0.2.$r")
		[ "$v" = 4 ] || fail "${c%:*} holds $v routes from rr$r, want 4"
	done
done
ok "each client holds exactly 4 routes from each reflector"

step "withdrawal on c1: gone from the others within 1 s"
t0=$(_pm_now)
bird_withdraw c1 198.18.111.0/24
expect_no_route_all 1 "$t0" 198.18.111.0/24 bird:c2 bird:c3 podmesh:rr1 \
    podmesh:rr2
expect_paths bird c2 198.18.11.0/24 2 0

step "one reflector down: the other still serves everything"
podmesh_finish rr1
for c in $CLIENTS; do
	n=${c%:*}
	for o in $CLIENTS; do
		[ "$o" = "$c" ] && continue
		i=${o#*:}
		expect_paths bird "$n" "198.18.$i.0/24" 1 5
		expect_route bird "$n" "198.18.$i.0/24" nh="192.0.2.$i" \
		    orig="192.0.2.$i" cl=$CL proto="$(_bird_proto 192.0.2.2)" \
		    timeout=0
	done
done
bird_announce c1 198.18.111.0/24
expect_route bird c3 198.18.111.0/24 nh=192.0.2.11 orig=192.0.2.11 cl=$CL \
    timeout=2
daemon_alive podmesh rr2 || fail "podmesh-bgpd rr2 died"
podmesh_finish rr2
exit 0
