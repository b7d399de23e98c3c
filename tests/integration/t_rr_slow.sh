#!/bin/bash
#
# A route-reflector client that stops reading must not delay the others
# (issue 3: per-peer progress; a slow peer neither stalls the others nor
# grows memory without bound).
#
# A table of N /32s comes from one client (bgpgen send) through the podmesh
# reflector to the other clients: a bgpgen receiver (times the delivery
# exactly), a BIRD client b1 (holds the whole table) and a BIRD client b2
# (announces and withdraws one /24 later).  The run is made twice on a
# fresh reflector: first without, then with a stuck client, a raw BGP
# speaker that completes the handshake with a tiny receive buffer, keeps
# sending KEEPALIVEs and never reads again, so its socket buffers fill and
# the reflector's output to it backs up.  With the stuck client:
#  - the receiver and b1 get the whole table in about the time they took
#    without it (at most 2x + 1 s);
#  - an announcement and a withdrawal by b2 reach b1 within 1 s, while the
#    stuck client is still Established and still not reading (its receive
#    queue and the reflector's send queue to it are non-empty);
#  - the table's client leaves and comes back 3 times (2N changes each, in
#    both runs): b1 loses and regains the table each time within 3x + 1 s
#    of the run without the stuck client, which stays stuck throughout;
#  - the reflector's RSS stays within 1.5x + 16 MiB of the run without the
#    stuck client (after the table, and after the cycles), does not grow
#    over 20 small updates (4 MiB) nor from the 1st to the 3rd cycle
#    (8 MiB).  On an ASan build RSS is logged only (quarantine).
#
#	sw (bridge) 192.0.2.0/24
#	  pm .1 (podmesh reflector)   gen .10 (bgpgen send, N prefixes)
#	  rcv .11 (bgpgen recv)  b1 .12, b2 .13 (BIRD)  stuck .14 (python)

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

require_podmesh
BGPGEN=$PODMESH_BUILD/bench/bgpgen
[ -x "$BGPGEN" ] || fail "bgpgen not built: $BGPGEN"
AS=64512
N=${RR_SLOW_N:-100000}
P=198.19.250.0/24 # b2's prefix, outside the table's 198.18.0.0/15 span
NO_RSS=
if podmesh_asan; then
	# freed memory stays in ASan's quarantine: RSS only grows
	NO_RSS=1
	log "podmesh-bgpd is an ASan build: RSS figures logged, not checked"
fi

step "topology"
bridge_add sw
ns_add pm gen rcv b1 b2 stuck
link_br sw pm 192.0.2.1/24
link_br sw gen 192.0.2.10/24
link_br sw rcv 192.0.2.11/24
link_br sw b1 192.0.2.12/24
link_br sw b2 192.0.2.13/24
link_br sw stuck 192.0.2.14/24

podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=$AS rr=1
for i in 10 11 14; do
	podmesh_peer "$PM_TMP/pm.yaml" addr="192.0.2.$i" asn=$AS rrclient=1 \
	    passive=1 families=ipv4
done
for i in 12 13; do
	podmesh_peer "$PM_TMP/pm.yaml" addr="192.0.2.$i" asn=$AS rrclient=1 \
	    families=ipv4
done
bird_conf "$PM_TMP/b1.conf" rid=192.0.2.12 asn=$AS debug=0
bird_peer "$PM_TMP/b1.conf" addr=192.0.2.1 asn=$AS
bird_conf "$PM_TMP/b2.conf" rid=192.0.2.13 asn=$AS debug=0 originate=$P
bird_peer "$PM_TMP/b2.conf" addr=192.0.2.1 asn=$AS

# The stuck client: OPEN, then read until the reflector's OPEN and
# KEEPALIVE are in, answer with a KEEPALIVE, print "established" and never
# read again.  Its receive buffer is as small as the kernel allows, set
# before connecting so the window stays small.  KEEPALIVEs every 3 s keep
# the reflector's hold timer (9 s) from ending the session.
cat >"$PM_TMP/stuck.py" <<'EOF'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
import bgpraw as b

src, peer, asn = sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.bind((src, 0))
s.connect((peer, 179))
s.sendall(b.msg(b.OPEN, b.open_body(asn, 90, src, caps=b.default_caps(asn))))
buf, seen = b"", set()
while not {b.OPEN, b.KEEPALIVE} <= seen:
    data = s.recv(4096)
    if not data:
        sys.exit("closed during the handshake")
    buf += data
    msgs, buf = b.split_messages(buf)
    for t, body in msgs:
        if t == b.NOTIFICATION:
            sys.exit("NOTIFICATION %r" % (b.parse_notification(body),))
        seen.add(t)
s.sendall(b.msg(b.KEEPALIVE))
print("established", flush=True)
while True:
    time.sleep(3)
    s.sendall(b.msg(b.KEEPALIVE))
EOF

# jnum FILE KEY: a number from bgpgen's one-line JSON
jnum() {
	jq -r --arg k "$2" '.[$k] // empty' "$1" 2>/dev/null
}

b1_full() {
	[ "$(bird_route_count b1 192.0.2.1)" = $((N + 1)) ]
}

# start_gen TAG: the client with the table (until stopped)
start_gen() {
	ip netns exec "$(ns gen)" "$BGPGEN" send --local 192.0.2.10 --peer 192.0.2.1 \
	    --asn $AS --peer-asn $AS --count "$N" --prefix-base 198.18.0.0 \
	    --len 32 --timeout 30 --hold-after 300 >"$PM_TMP/gen.$1.json" \
	    2>"$PM_TMP/gen.$1.log" &
	PM_PID[bgpgen:gen]=$!
}

b1_empty() {
	[ "$(bird_route_count b1 192.0.2.1)" = 1 ]
}

# run TAG: fresh reflector, the receivers up, then the table; sets
# DELIVER (receiver), BIRD_S (b1 complete) and RSS_KB (reflector, after).
run() {
	local tag=$1 rpid t_first t_all t_b1
	if daemon_alive podmesh pm; then
		stop_daemon podmesh pm TERM
		restart_daemon podmesh pm
	else
		start_podmesh pm "$PM_TMP/pm.yaml"
	fi
	for b in b1:12 b2:13; do
		daemon_alive bird "${b%:*}" ||
		    start_bird "${b%:*}" "$PM_TMP/${b%:*}.conf"
		expect_established podmesh pm "192.0.2.${b#*:}" 20
	done
	expect_route bird b1 $P nh=192.0.2.13

	if [ "$tag" = stuck ]; then
		ip netns exec "$(ns stuck)" python3 "$PM_TMP/stuck.py" "$PM_LIB_DIR" 192.0.2.14 \
		    192.0.2.1 $AS >"$PM_TMP/stuck.out" 2>&1 &
		PM_PID[stuck:stuck]=$!
		wait_until 10 grep -q established "$PM_TMP/stuck.out" ||
		    fail "stuck client: $(cat "$PM_TMP/stuck.out")"
		expect_established podmesh pm 192.0.2.14 5
	fi

	ip netns exec "$(ns rcv)" "$BGPGEN" recv --local 192.0.2.11 --peer 192.0.2.1 \
	    --asn $AS --peer-asn $AS --expect "$N" --prefix-base 198.18.0.0 \
	    --len 32 --timeout 30 >"$PM_TMP/rcv.$tag.json" \
	    2>"$PM_TMP/rcv.$tag.log" &
	rpid=$!
	PM_PID[bgpgen:rcv]=$rpid
	expect_established podmesh pm 192.0.2.11 10
	start_gen "$tag"

	wait "$rpid" || fail "$tag: the receiver did not get all $N prefixes" \
	    "(exit $?): $(cat "$PM_TMP/rcv.$tag.json" "$PM_TMP/rcv.$tag.log")"
	unset 'PM_PID[bgpgen:rcv]'
	wait_until 30 b1_full ||
	    fail "$tag: b1 holds $(bird_route_count b1 192.0.2.1) routes," \
	    "want $((N + 1))"
	t_b1=$(_pm_now)
	wait_until 5 test -s "$PM_TMP/gen.$tag.json" ||
	    fail "$tag: the sender wrote no report"
	t_first=$(jnum "$PM_TMP/gen.$tag.json" first_update_at)
	t_all=$(jnum "$PM_TMP/rcv.$tag.json" all_received_at)
	[ -n "$t_first" ] && [ -n "$t_all" ] ||
	    fail "$tag: no timestamps in the bgpgen reports"
	DELIVER=$(awk -v a="$t_all" -v f="$t_first" 'BEGIN { printf "%.3f", a - f }')
	BIRD_S=$(awk -v b="$t_b1" -v f="$t_first" \
	    'BEGIN { printf "%.3f", b / 1e6 - f }')
	RSS_KB=$(podmesh_rss pm)
	log "$tag: receiver complete ${DELIVER}s, b1 complete ${BIRD_S}s" \
	    "(polled) after the first UPDATE; reflector RSS ${RSS_KB} kB"
}

# cycles TAG: the table's client leaves and comes back 3 times; b1 must
# lose and regain the whole table each time.  Sets CYCLE_S (the slowest
# half-cycle, s) and RSS_KB (reflector, after the last).  A reflector that
# queued every change for a stuck client would owe it 2N more prefixes per
# cycle (and one that paused its input while any client's queue is long
# would stall b1); with per-peer progress against the Adj-RIB-Out it owes
# the stuck client at most the table.
cycles() {
	local tag=$1 i t0 t1 t2 lim=$2 worst=0 rss=()
	for i in 1 2 3; do
		t0=$(_pm_now)
		stop_daemon bgpgen gen TERM
		wait_until "$lim" b1_empty ||
		    fail "$tag cycle $i: b1 still holds" \
		    "$(bird_route_count b1 192.0.2.1) routes ${lim}s after" \
		    "the table's client left"
		t1=$(_pm_now)
		start_gen "$tag.$i"
		wait_until "$lim" b1_full ||
		    fail "$tag cycle $i: b1 holds" \
		    "$(bird_route_count b1 192.0.2.1) routes ${lim}s after" \
		    "the table's client came back, want $((N + 1))"
		t2=$(_pm_now)
		rss+=("$(podmesh_rss pm)")
		((t1 - t0 > worst)) && worst=$((t1 - t0))
		((t2 - t1 > worst)) && worst=$((t2 - t1))
		log "$tag cycle $i: b1 empty after $(_pm_secs $((t1 - t0)))s," \
		    "full again after $(_pm_secs $((t2 - t1)))s;" \
		    "reflector RSS ${rss[-1]} kB"
	done
	CYCLE_S=$(_pm_secs "$worst")
	RSS_KB=${rss[2]}
	[ -n "$NO_RSS" ] || [ "${rss[2]}" -le $((rss[0] + 8192)) ] ||
	    fail "$tag: reflector RSS grew from ${rss[0]} to ${rss[2]} kB" \
	    "over two more cycles (limit +8 MiB)"
}

# within X BASE [F=2]: X <= F * BASE + 1 (seconds)
within() {
	awk -v x="$1" -v b="$2" -v f="${3:-2}" 'BEGIN { exit !(x <= f * b + 1) }'
}

step "run 1: $N prefixes, no stuck client"
run base
base_deliver=$DELIVER base_bird=$BIRD_S base_rss=$RSS_KB
cycles base 10
base_cycle=$CYCLE_S base_cycle_rss=$RSS_KB
stop_daemon bgpgen gen TERM

step "run 2: the same with a stuck client"
run stuck
within "$DELIVER" "$base_deliver" ||
    fail "the receiver took ${DELIVER}s with a stuck client," \
    "${base_deliver}s without (limit 2x + 1 s)"
ok "receiver: ${DELIVER}s with a stuck client, ${base_deliver}s without"
within "$BIRD_S" "$base_bird" ||
    fail "b1 took ${BIRD_S}s with a stuck client, ${base_bird}s without" \
    "(limit 2x + 1 s)"
ok "b1: ${BIRD_S}s with a stuck client, ${base_bird}s without"
[ -n "$NO_RSS" ] || [ "$RSS_KB" -le $((base_rss * 3 / 2 + 16384)) ] ||
    fail "reflector RSS ${RSS_KB} kB with a stuck client, ${base_rss} kB" \
    "without (limit 1.5x + 16 MiB)"
ok "reflector RSS ${RSS_KB} kB with a stuck client, ${base_rss} kB without"

step "the stuck client is still stuck, and still Established"
# stuck_queues: the stuck client's receive queue and the reflector's send
# queue to it (ss: Recv-Q, Send-Q), both must be non-empty
stuck_queues() {
	local rq sq
	rq=$(nsx stuck ss -Htn state established '( dport = :179 )' |
	    awk '{ print $1; exit }')
	sq=$(nsx pm ss -Htn state established dst 192.0.2.14 |
	    awk '{ print $2; exit }')
	echo "stuck Recv-Q=${rq:-none} reflector Send-Q=${sq:-none}"
	[ -n "$rq" ] && [ "$rq" -gt 0 ] && [ -n "$sq" ] && [ "$sq" -gt 0 ]
}
still_stuck() {
	stuck_queues >/dev/null ||
	    fail "the stuck client is not backed up: $(stuck_queues)"
	podmesh_established pm 192.0.2.14 || fail "reflector dropped the" \
	    "stuck client: $(podmesh_peer_state pm 192.0.2.14)"
	ok "stuck client Established and not reading: $(stuck_queues)"
}
still_stuck

step "b2's withdrawal and announcement reach b1 within 1 s"
rss0=$(podmesh_rss pm)
for i in 1 2 3 4 5 6 7 8 9 10; do
	t0=$(_pm_now)
	bird_withdraw b2 $P
	expect_no_route_all 1 "$t0" $P bird:b1
	t0=$(_pm_now)
	bird_announce b2 $P
	wait_until 1 route_match bird b1 $P nh=192.0.2.13 ||
	    fail "b2's announcement of $P not on b1 within 1 s"
	[ "$i" = 1 ] && ok "b1 has $P again after" \
	    "$(_pm_secs $(($(_pm_now) - t0)))s (limit 1s)"
done
ok "10 withdrawals and announcements each reached b1 within 1 s"
still_stuck
rss1=$(podmesh_rss pm)
[ -n "$NO_RSS" ] || [ "$rss1" -le $((rss0 + 4096)) ] ||
    fail "reflector RSS grew from ${rss0} to ${rss1} kB over 20 updates"
ok "reflector RSS ${rss0} kB before, ${rss1} kB after 20 updates"

step "the table withdrawn and sent again 3 times: b1 keeps up, RSS flat"
cycles stuck 10
# polled, and the worst of six: more noise than bgpgen's own timestamps
within "$CYCLE_S" "$base_cycle" 3 ||
    fail "b1 took up to ${CYCLE_S}s per half-cycle with a stuck client," \
    "${base_cycle}s without (limit 3x + 1 s)"
ok "b1: up to ${CYCLE_S}s per half-cycle with a stuck client," \
    "${base_cycle}s without"
[ -n "$NO_RSS" ] || [ "$RSS_KB" -le $((base_cycle_rss * 3 / 2 + 16384)) ] ||
    fail "reflector RSS ${RSS_KB} kB after 3 cycles with a stuck client," \
    "${base_cycle_rss} kB without (limit 1.5x + 16 MiB)"
ok "reflector RSS ${RSS_KB} kB after 3 cycles with a stuck client," \
    "${base_cycle_rss} kB without"
still_stuck
daemon_alive podmesh pm || fail "podmesh-bgpd died"
podmesh_finish pm
exit 0
