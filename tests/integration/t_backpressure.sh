#!/bin/bash
#
# Write backpressure: a sender pushes 400k prefixes through podmesh-bgpd to a
# receiver behind a slow link (tbf, 2 Mbit/s), with 3 s hold times on both
# sessions.  podmesh must pause reading the sender while its output backlog
# is high and resume when it drains, keep both sessions up meanwhile (the
# paused sender's KEEPALIVEs sit unread, yet its hold timer must not fire),
# and deliver every prefix.
#
#	s (bgpgen send) 192.0.2.2 --- pm (podmesh) --- 198.51.100.2 r (bgpgen recv)
#	                                           tbf 2mbit

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"
require_podmesh
BGPGEN=$PODMESH_BUILD/bench/bgpgen
[ -x "$BGPGEN" ] || fail "bgpgen not built: $BGPGEN"
N=400000

step "topology"
ns_add s pm r
link_ns s 192.0.2.2/24 pm 192.0.2.1/24
link_ns pm 198.51.100.1/24 r 198.51.100.2/24
# the interface in pm towards r is named after r; small socket buffers in
# pm, so that the backlog builds up in podmesh and not in the kernel
nsx pm tc qdisc add dev r-2 root tbf rate 2mbit burst 16kb latency 400ms ||
    fail "tc tbf on pm:r-2"
nsx pm sysctl -qw net.ipv4.tcp_wmem="4096 16384 65536" ||
    fail "tcp_wmem in pm"

podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=64512 hold=3
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.2 asn=65001 passive=1 families=ipv4
podmesh_peer "$PM_TMP/pm.yaml" addr=198.51.100.2 asn=65002 passive=1 \
    families=ipv4
start_podmesh pm "$PM_TMP/pm.yaml"

step "receiver, then sender"
nsx r "$BGPGEN" recv --local 198.51.100.2 --peer 198.51.100.1 --asn 65002 \
    --peer-asn 64512 --expect $N --timeout 60 --hold-time 3 \
    >"$PM_TMP/recv.json" 2>"$PM_TMP/recv.log" &
recv_pid=$!
PM_PID[bgpgen:r]=$recv_pid
expect_established podmesh pm 198.51.100.2
nsx s "$BGPGEN" send --local 192.0.2.2 --peer 192.0.2.1 --asn 65001 \
    --peer-asn 64512 --count $N --hold-time 3 --hold-after 60 \
    >"$PM_TMP/send.json" 2>"$PM_TMP/send.log" &
PM_PID[bgpgen:s]=$!

step "podmesh pauses its input while the receiver lags"
wait_until 20 grep -q "pausing input" "$PM_TMP/pm.podmesh.log" ||
    fail "no 'pausing input' line: the backlog never reached the mark"
ok "$(grep -m1 'pausing input' "$PM_TMP/pm.podmesh.log" | sed 's/.*info: //')"
wait_until 40 grep -q "resuming input" "$PM_TMP/pm.podmesh.log" ||
    fail "input never resumed"
ok "$(grep -m1 'resuming input' "$PM_TMP/pm.podmesh.log" | sed 's/.*info: //')"

step "every prefix arrives and no session dropped"
wait "$recv_pid" || fail "receiver failed: $(cat "$PM_TMP/recv.json" \
    "$PM_TMP/recv.log")"
unset 'PM_PID[bgpgen:r]'
jq -e --argjson n $N '.received == $n' "$PM_TMP/recv.json" >/dev/null ||
    fail "receiver got $(jq .received "$PM_TMP/recv.json") of $N"
ok "receiver has all $N prefixes"
# bgpgen recv fails if its one session drops; the sender's is checked here
podmesh_established pm 192.0.2.2 || fail "session to the sender dropped"
[ "$(podmesh_peer_field pm 192.0.2.2 flaps)" = 0 ] ||
    fail "session to the sender flapped"
kill -0 "${PM_PID[bgpgen:s]}" 2>/dev/null ||
    fail "the sender's session ended: $(tail -3 "$PM_TMP/send.log")"
ok "both sessions stayed up through the pause"
exit 0
