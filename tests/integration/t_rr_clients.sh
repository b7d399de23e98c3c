#!/bin/bash
#
# podmesh-bgpd as an RFC 4456 route reflector, checked from the clients'
# side: three BIRD 2 and two GoBGP clients and two BIRD non-clients, all
# iBGP in AS 64512, on one LAN (a bridge), IPv4 and IPv6 sessions.
#  - every client learns every other client's prefixes from the reflector,
#    with the originating client's next hop, an empty AS_PATH, ORIGINATOR_ID
#    the originator's router id and CLUSTER_LIST [cluster id] (§8), one
#    path per prefix, nothing of its own reflected back;
#  - a non-client's route reaches every client with the same attributes,
#    the clients' routes reach the non-clients, and a non-client's route
#    does not reach the other non-client (§6: non-client routes go to
#    clients only);
#  - a withdrawal on one client (BIRD, GoBGP, IPv6) is gone from every
#    other peer within 1 s, measured per peer.
#
#	            sw (bridge) 192.0.2.0/24, 2001:db8:1::/64
#	  pm .1 (podmesh, reflector, cluster-id 203.0.113.7)
#	  b1 .11  b2 .12  b3 .13   BIRD clients   (v4 + v6 sessions)
#	  g1 .21  g2 .22           GoBGP clients  (v4 + v6 sessions)
#	  n1 .31  n2 .32           BIRD non-clients (v4)
#
# Client X (.N) originates 198.18.N.0/24, 198.18.1N.0/24 (the one that is
# withdrawn) and 2001:db8:100:N::/64; non-client .N originates 198.18.N.0/24.

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

require_podmesh
AS=64512
CL=203.0.113.7
BIRDS="b1:11 b2:12 b3:13"
GOBGPS="g1:21 g2:22"
NONCL="n1:31 n2:32"
CLIENTS="$BIRDS $GOBGPS"

kind_of() {
	case $1 in g*) echo gobgp ;; *) echo bird ;; esac
}

step "topology: one bridge, podmesh and seven peers"
bridge_add sw
ns_add pm b1 b2 b3 g1 g2 n1 n2
link_br sw pm 192.0.2.1/24,2001:db8:1::1/64
for c in $CLIENTS $NONCL; do
	link_br sw "${c%:*}" "192.0.2.${c#*:}/24,2001:db8:1::${c#*:}/64"
done

step "configs"
podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=$AS cluster=$CL
for c in $CLIENTS; do
	podmesh_peer "$PM_TMP/pm.yaml" addr="192.0.2.${c#*:}" asn=$AS \
	    rrclient=1 families=ipv4
	podmesh_peer "$PM_TMP/pm.yaml" addr="2001:db8:1::${c#*:}" asn=$AS \
	    rrclient=1 families=ipv6
done
for c in $NONCL; do
	podmesh_peer "$PM_TMP/pm.yaml" addr="192.0.2.${c#*:}" asn=$AS \
	    families=ipv4
done
for c in $BIRDS; do
	n=${c%:*} i=${c#*:}
	bird_conf "$PM_TMP/$n.conf" rid="192.0.2.$i" asn=$AS \
	    originate="198.18.$i.0/24 198.18.1$i.0/24 2001:db8:100:$i::/64"
	bird_peer "$PM_TMP/$n.conf" addr=192.0.2.1 asn=$AS
	bird_peer "$PM_TMP/$n.conf" addr=2001:db8:1::1 asn=$AS
done
for c in $GOBGPS; do
	n=${c%:*} i=${c#*:}
	gobgp_conf "$PM_TMP/$n.toml" rid="192.0.2.$i" asn=$AS \
	    originate="198.18.$i.0/24 198.18.1$i.0/24 2001:db8:100:$i::/64"
	gobgp_peer "$PM_TMP/$n.toml" addr=192.0.2.1 asn=$AS families=ipv4
	gobgp_peer "$PM_TMP/$n.toml" addr=2001:db8:1::1 asn=$AS families=ipv6
done
for c in $NONCL; do
	n=${c%:*} i=${c#*:}
	bird_conf "$PM_TMP/$n.conf" rid="192.0.2.$i" asn=$AS \
	    originate="198.18.$i.0/24"
	bird_peer "$PM_TMP/$n.conf" addr=192.0.2.1 asn=$AS
done

step "start"
start_podmesh pm "$PM_TMP/pm.yaml"
for c in $BIRDS $NONCL; do
	start_bird "${c%:*}" "$PM_TMP/${c%:*}.conf"
done
for c in $GOBGPS; do
	start_gobgp "${c%:*}" "$PM_TMP/${c%:*}.toml"
done
for c in $CLIENTS; do
	expect_established podmesh pm "192.0.2.${c#*:}" 30
	expect_established podmesh pm "2001:db8:1::${c#*:}" 30
done
for c in $NONCL; do
	expect_established podmesh pm "192.0.2.${c#*:}" 30
done
for c in $CLIENTS; do
	expect_established "$(kind_of "${c%:*}")" "${c%:*}" 192.0.2.1
done

step "podmesh holds the clients' routes as sent (no RR attributes)"
expect_route podmesh pm 198.18.11.0/24 nh=192.0.2.11 path= orig=- cl= \
    peer=192.0.2.11 best=1
expect_route podmesh pm 2001:db8:100:21::/64 nh=2001:db8:1::21 orig=- cl= \
    peer=2001:db8:1::21

step "every client has every other client's routes, reflected per §8"
for c in $CLIENTS; do
	n=${c%:*} k=$(kind_of "$n")
	for o in $CLIENTS; do
		[ "$o" = "$c" ] && continue
		i=${o#*:}
		for p in 198.18.$i.0/24 198.18.1$i.0/24; do
			expect_route "$k" "$n" "$p" nh="192.0.2.$i" path= \
			    orig="192.0.2.$i" cl=$CL
			expect_paths "$k" "$n" "$p" 1 0
		done
		expect_route "$k" "$n" "2001:db8:100:$i::/64" \
		    nh="2001:db8:1::$i" path= orig="192.0.2.$i" cl=$CL
		expect_paths "$k" "$n" "2001:db8:100:$i::/64" 1 0
	done
done

step "nothing reflected back to its originator"
for c in $CLIENTS; do
	n=${c%:*} i=${c#*:}
	for p in 198.18.$i.0/24 2001:db8:100:$i::/64; do
		expect_paths "$(kind_of "$n")" "$n" "$p" 1 0
		route_match "$(kind_of "$n")" "$n" "$p" orig=- ||
		    fail "$n: its own $p came back: $(route "$(kind_of "$n")" "$n" "$p")"
	done
done
ok "each client holds only its own path for its prefixes"

step "non-client routes: to clients only"
for c in $CLIENTS; do
	n=${c%:*}
	for o in $NONCL; do
		i=${o#*:}
		expect_route "$(kind_of "$n")" "$n" "198.18.$i.0/24" \
		    nh="192.0.2.$i" path= orig="192.0.2.$i" cl=$CL
	done
done
# the non-clients get every client's routes (client routes go to all)
for o in $NONCL; do
	n=${o%:*}
	for c in $CLIENTS; do
		i=${c#*:}
		expect_route bird "$n" "198.18.$i.0/24" nh="192.0.2.$i" path= \
		    orig="192.0.2.$i" cl=$CL
	done
done
# ...but not each other's; by now both non-client routes are in podmesh
expect_route podmesh pm 198.18.31.0/24 peer=192.0.2.31 timeout=0
expect_route podmesh pm 198.18.32.0/24 peer=192.0.2.32 timeout=0
never_within 2 route_match bird n2 198.18.31.0/24 ||
    fail "n2 (non-client) got n1's (non-client) route:" \
    "$(route bird n2 198.18.31.0/24)"
_pm_no_route bird n1 198.18.32.0/24 ||
    fail "n1 (non-client) got n2's (non-client) route:" \
    "$(route bird n1 198.18.32.0/24)"
ok "non-client routes did not reach the other non-client"

clients_but() {
	local c
	for c in $CLIENTS $NONCL; do
		[ "${c%:*}" = "$1" ] && continue
		case ${c%:*} in n*) [ "$2" = v6 ] && continue ;; esac
		printf '%s:%s ' "$(kind_of "${c%:*}")" "${c%:*}"
	done
}

step "withdrawal on a BIRD client: gone everywhere within 1 s"
t0=$(_pm_now)
bird_withdraw b1 198.18.111.0/24
# shellcheck disable=SC2046
expect_no_route_all 1 "$t0" 198.18.111.0/24 $(clients_but b1 v4)
expect_no_route podmesh pm 198.18.111.0/24 0

step "withdrawal on a GoBGP client: gone everywhere within 1 s"
t0=$(_pm_now)
gobgp_withdraw g2 198.18.122.0/24
# shellcheck disable=SC2046
expect_no_route_all 1 "$t0" 198.18.122.0/24 $(clients_but g2 v4)

step "IPv6 withdrawal on a BIRD client: gone everywhere within 1 s"
t0=$(_pm_now)
bird_withdraw b2 2001:db8:100:12::/64
# shellcheck disable=SC2046
expect_no_route_all 1 "$t0" 2001:db8:100:12::/64 $(clients_but b2 v6)

step "announced again: back everywhere"
bird_announce b1 198.18.111.0/24
for d in $(clients_but b1 v4); do
	expect_route "${d%%:*}" "${d#*:}" 198.18.111.0/24 nh=192.0.2.11 \
	    orig=192.0.2.11 cl=$CL timeout=2
done
# the other routes were untouched by all this
expect_route gobgp g1 198.18.12.0/24 nh=192.0.2.12 orig=192.0.2.12 \
    cl=$CL timeout=0
expect_paths bird b3 198.18.21.0/24 1 0
daemon_alive podmesh pm || fail "podmesh-bgpd died"
podmesh_finish pm
exit 0
