#!/bin/bash
#
# podmesh-bgpd as RFC 4724 graceful-restart helper for BIRD 2 (iBGP, IPv4
# and IPv6 sessions, both sides graceful-restart capable):
#  1. `birdc graceful restart` (BIRD leaves without a NOTIFICATION): podmesh
#     keeps BIRD's routes, marked stale ("stale": true in podmeshctl's JSON);
#  2. BIRD comes back with -R and without one of its prefixes: once BIRD
#     has sent End-of-RIB the kept routes are fresh again and the prefix
#     BIRD no longer announces is flushed;
#  3. BIRD is killed (-9) and stays away: podmesh keeps the stale routes
#     until the restart time BIRD advertised (8 s) runs out, then drops them.
#  4. podmesh restarts (BIRD as helper): the session and routes come back.
#
#	pm 192.0.2.1, 2001:db8:1::1 (AS 64512) --- bird 192.0.2.2, 2001:db8:1::2

PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

require_podmesh
GR_TIME=8

step "topology"
ns_add pm bird
link_ns pm 192.0.2.1/24,2001:db8:1::1/64 bird 192.0.2.2/24,2001:db8:1::2/64

write_bird_conf() {
	bird_conf "$PM_TMP/bird.conf" rid=192.0.2.2 asn=64512 originate="$1"
	bird_peer "$PM_TMP/bird.conf" addr=192.0.2.1 asn=64512 gr=1 \
	    gr_time=$GR_TIME
	bird_peer "$PM_TMP/bird.conf" addr=2001:db8:1::1 asn=64512 gr=1 \
	    gr_time=$GR_TIME
}

podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=64512 \
    originate="198.18.1.0/24 2001:db8:100:1::/64"
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.2 asn=64512 families=ipv4 gr=1
podmesh_peer "$PM_TMP/pm.yaml" addr=2001:db8:1::2 asn=64512 families=ipv6 \
    gr=1
write_bird_conf "198.18.2.0/24 198.18.3.0/24 2001:db8:100:2::/64"

step "start"
start_podmesh pm "$PM_TMP/pm.yaml"
start_bird bird "$PM_TMP/bird.conf"
expect_established podmesh pm 192.0.2.2 30
expect_established podmesh pm 2001:db8:1::2 30
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 stale=0
expect_route podmesh pm 198.18.3.0/24 nh=192.0.2.2 stale=0
expect_route podmesh pm 2001:db8:100:2::/64 nh=2001:db8:1::2 stale=0
expect_route bird bird 198.18.1.0/24 nh=192.0.2.1
bird_proto_all bird 192.0.2.1 | sed -n '/Neighbor capabilities/,/Session:/p' |
    grep -q 'Graceful restart' ||
    fail "podmesh did not advertise the Graceful Restart capability"
ok "podmesh advertised Graceful Restart"
# shellcheck disable=SC2046 # one line of words
log "as BIRD reads it:" $(bird_proto_all bird 192.0.2.1 |
    sed -n '/Neighbor capabilities/,/Session:/p' |
    sed -n '/Graceful restart/,/AF preserved/p')

step "1. BIRD restarts gracefully: podmesh keeps its routes as stale"
birdc_ bird graceful restart >/dev/null
wait "${PM_PID[bird:bird]}" 2>/dev/null
unset "PM_PID[bird:bird]"
log "bird left (graceful restart)"
wait_until 5 not podmesh_established pm 192.0.2.2 ||
    fail "podmesh still Established after BIRD left"
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 stale=1 timeout=3
expect_route podmesh pm 198.18.3.0/24 nh=192.0.2.2 stale=1 timeout=3
expect_route podmesh pm 2001:db8:100:2::/64 nh=2001:db8:1::2 stale=1 timeout=3
never_within 2 _pm_no_route podmesh pm 198.18.2.0/24 ||
    fail "podmesh dropped the stale route within 2 s (restart time ${GR_TIME}s)"
ok "stale routes kept while BIRD is away"

step "2. BIRD is back (-R) without 198.18.3.0/24: fresh after End-of-RIB"
write_bird_conf "198.18.2.0/24 2001:db8:100:2::/64"
start_bird bird "$PM_TMP/bird.conf" -R
saw_stale_established=0
t0=$(_pm_now)
while (($(_pm_now) - t0 < 15000000)); do
	if podmesh_established pm 192.0.2.2 &&
	    route_match podmesh pm 198.18.2.0/24 stale=1; then
		saw_stale_established=1
	fi
	route_match podmesh pm 198.18.2.0/24 stale=0 && break
	sleep 0.1
done
expect_established podmesh pm 192.0.2.2 0
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 stale=0 timeout=0
expect_route podmesh pm 2001:db8:100:2::/64 nh=2001:db8:1::2 stale=0
expect_no_route podmesh pm 198.18.3.0/24 5
log "seen Established with routes still stale (before End-of-RIB):" \
    "$([ $saw_stale_established = 1 ] && echo yes || echo "no (EoR came fast)")"
grep -q 'Graceful restart done' "$PM_TMP/bird.log" ||
    fail "BIRD did not finish its graceful restart"
ok "BIRD finished its graceful restart; podmesh refreshed and flushed"
expect_route bird bird 198.18.1.0/24 nh=192.0.2.1

step "3. BIRD crashes and stays away: stale routes go after ${GR_TIME} s"
stop_daemon bird bird KILL
t0=$(_pm_now)
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 stale=1 timeout=3
never_within 4 _pm_no_route podmesh pm 198.18.2.0/24 ||
    fail "stale route dropped before the restart time (${GR_TIME} s)"
expect_no_route podmesh pm 198.18.2.0/24 $((GR_TIME + 4))
expect_no_route podmesh pm 2001:db8:100:2::/64 3
log "stale routes dropped $(_pm_secs $(($(_pm_now) - t0))) s after the crash"

step "4. podmesh restarts; BIRD (helper) gets its routes back"
start_bird bird "$PM_TMP/bird.conf"
expect_established podmesh pm 192.0.2.2 20
expect_route bird bird 198.18.1.0/24 nh=192.0.2.1
stop_daemon podmesh pm KILL
wait_until 5 not bird_established bird 192.0.2.1 ||
    fail "BIRD still Established with a killed podmesh"
if route_match bird bird 198.18.1.0/24 nh=192.0.2.1; then
	log "BIRD kept podmesh's route while podmesh was down (helper mode)"
else
	log "BIRD dropped podmesh's route while podmesh was down"
fi
restart_daemon podmesh pm
expect_established podmesh pm 192.0.2.2 20
expect_established bird bird 192.0.2.1 10
expect_route bird bird 198.18.1.0/24 nh=192.0.2.1
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 stale=0
exit 0
