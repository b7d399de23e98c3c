#!/bin/bash
#
# Dynamic neighbours (issue 3): one `range:` entry, no per-client
# configuration, podmesh-bgpd as the reflector of everything in it.
#  - 200 clients (bgpgen send --sessions 200, iBGP, 4 /26s each, from
#    203.0.113.1-200 on pm's loopback) come up: `podmeshctl bgp peers`
#    shows 200 dynamic Established sessions;
#  - a BIRD client in the same range (203.0.113.250, over a veth) receives
#    all 800 prefixes with each session's next hop, ORIGINATOR_ID and
#    CLUSTER_LIST [router id] (the default cluster id), and its own prefix
#    reaches the reflector;
#  - a connection from an address in no range is refused, and the log
#    names the address; a second range with max-sessions 2 (and its own
#    ASN) refuses the third session and names it, and takes a new one once
#    a slot is free;
#  - a client that reconnects comes back without waiting for the hold
#    timer: BIRD is killed (-9) while its TCP connection is black-holed
#    (a policy rule in its namespace drops that connection's segments, so
#    neither its FIN nor any RST reaches the reflector: a crashed or
#    rebooted node), so the old session stays Established on the
#    reflector (hold time 90 s); a restarted BIRD must be Established
#    again within 10 s, with a fresh session and every route.
#
#	pm: podmesh 203.0.113.254, AS 64512, hold 90; lo: 203.0.113.1-200
#	    (bgpgen), 192.0.2.99 (no range), 198.51.100.1-3 (small range)
#	node: BIRD 203.0.113.250 --veth-- pm 203.0.113.254/24

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

require_podmesh
BGPGEN=$PODMESH_BUILD/bench/bgpgen
[ -x "$BGPGEN" ] || fail "bgpgen not built: $BGPGEN"
AS=64512
RID=203.0.113.254
NS=${RR_RANGE_SESSIONS:-200} # bgpgen sessions (by hand: fewer)
K=4

step "topology"
ns_add pm node
link_ns pm $RID/24 node 203.0.113.250/24
lo_addrs pm 203.0.113.1 "$NS"
lo_addrs pm 192.0.2.99 1
lo_addrs pm 198.51.100.1 3

step "configs: one range for everything, one small range"
podmesh_conf "$PM_TMP/pm.yaml" rid=$RID asn=$AS rr=1 hold=90
podmesh_peer "$PM_TMP/pm.yaml" range=203.0.113.0/24 asn=$AS rrclient=1 \
    families=ipv4
podmesh_peer "$PM_TMP/pm.yaml" range=198.51.100.0/24 asn=65010 max=2 \
    families=ipv4
bird_conf "$PM_TMP/node.conf" rid=203.0.113.250 asn=$AS \
    originate=198.19.0.0/24
bird_peer "$PM_TMP/node.conf" addr=$RID asn=$AS hold=90

# raw.py MODE SRC AS: a raw BGP session from SRC to the reflector.
# open: OPEN/KEEPALIVE exchange, print "open", then stay (KEEPALIVEs).
# probe: send an OPEN, print "open" if an OPEN comes back, "closed" if
# the reflector closes the connection, "silent" after 3 s of nothing.
cat >"$PM_TMP/raw.py" <<'EOF'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
import bgpraw as b

mode, src, peer, asn = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket()
s.bind((src, 0))
s.settimeout(3)
try:
    s.connect((peer, 179))
    s.sendall(b.msg(b.OPEN, b.open_body(asn, 90, src,
                                        caps=b.default_caps(asn))))
    buf = b""
    while True:
        data = s.recv(4096)
        if not data:
            print("closed", flush=True)
            sys.exit(0)
        buf += data
        msgs, buf = b.split_messages(buf)
        if any(t == b.OPEN for t, _ in msgs):
            break
except (ConnectionResetError, ConnectionRefusedError, BrokenPipeError):
    print("closed", flush=True)
    sys.exit(0)
except socket.timeout:
    print("silent", flush=True)
    sys.exit(0)
print("open", flush=True)
if mode == "open":
    s.sendall(b.msg(b.KEEPALIVE))
    s.settimeout(None)
    while True:
        time.sleep(3)
        s.sendall(b.msg(b.KEEPALIVE))
EOF

raw() {
	ip netns exec "$(ns pm)" python3 "$PM_TMP/raw.py" "$PM_LIB_DIR" "$@"
}

dyn_established() {
	podmeshctl_ pm bgp peers -o json | jq --arg p "$1" '[.[] |
	    select(.dynamic and .state == "Established" and
	    (.address | startswith($p)))] | length'
}

step "start: podmesh, BIRD, then $NS sessions from the range"
start_podmesh pm "$PM_TMP/pm.yaml"
start_bird node "$PM_TMP/node.conf"
expect_established bird node $RID 20
expect_established podmesh pm 203.0.113.250 5
t0=$(_pm_now)
ip netns exec "$(ns pm)" "$BGPGEN" send --local 203.0.113.1 --sessions "$NS" \
    --peer $RID --asn $AS --peer-asn $AS --count $K \
    --prefix-base 198.18.0.0 --len 26 --timeout 30 --hold-after 300 \
    >"$PM_TMP/gen.json" 2>"$PM_TMP/gen.log" &
PM_PID[bgpgen:pm]=$!
_all_up() {
	daemon_alive podmesh pm || return 0
	[ "$(dyn_established 203.0.113.)" = $((NS + 1)) ]
}
wait_until 20 _all_up
daemon_alive podmesh pm || fail "podmesh-bgpd died while $NS sessions came" \
    "up: $(grep -E 'fatal|Sanitizer' "$PM_TMP/pm.podmesh.log" | head -3)"
[ "$(dyn_established 203.0.113.)" = $((NS + 1)) ] ||
    fail "$(dyn_established 203.0.113.) of $((NS + 1)) dynamic sessions" \
    "Established; bgpgen: $(tail -3 "$PM_TMP/gen.log")"
ok "$NS bgpgen sessions and BIRD Established as dynamic neighbours after" \
    "$(_pm_secs $(($(_pm_now) - t0)))s"
v=$(grep -c -E '^[[:space:]]*-' "$PM_TMP/pm.yaml")
[ "$v" = 2 ] || fail "config has $v list entries, want the 2 ranges"
ok "the configuration names no client: $(grep -E 'range:' "$PM_TMP/pm.yaml" |
    tr -s ' \n' ' ')"
v=$(podmeshctl_ pm bgp peers -o json | jq --argjson asn $AS '[.[] |
    select(.asn == $asn and .rr_client)] | length')
[ "$v" = $((NS + 1)) ] ||
    fail "$v sessions carry the range's ASN and rr-client, want $((NS + 1))"
ok "every session took the range's ASN and rr-client setting"

step "BIRD, a client in the same range, gets all sessions' prefixes"
_bird_all() {
	[ "$(bird_route_count node $RID)" = $((NS * K)) ]
}
wait_until 10 _bird_all ||
    fail "BIRD holds $(bird_route_count node $RID) routes, want $((NS * K))"
ok "BIRD holds $((NS * K)) routes from the reflector after" \
    "$(_pm_secs $(($(_pm_now) - t0)))s"
# session i (from 203.0.113.i+1) announces /26 number i*K .. i*K+K-1:
# 198.18.0.0/26, 198.18.0.64/26, ... (NS * K <= 1024)
pfx_of() {
	echo "198.18.$(($1 * 64 / 256)).$(($1 * 64 % 256))/26"
}
for i in 0 $((NS / 2)) $((NS - 1)); do
	for j in 0 $((K - 1)); do
		expect_route bird node "$(pfx_of $((i * K + j)))" \
		    nh="203.0.113.$((i + 1))" path= orig="203.0.113.$((i + 1))" \
		    cl=$RID timeout=0
	done
	expect_paths bird node "$(pfx_of $((i * K + 1)))" 1 0
done
expect_route podmesh pm 198.19.0.0/24 nh=203.0.113.250 peer=203.0.113.250 \
    best=1
v=$(podmesh_npaths pm)
[ "$v" = $((NS * K + 1)) ] ||
    fail "podmesh holds $v paths, want $((NS * K + 1))"
ok "podmesh holds $((NS * K + 1)) paths"

step "an address in no range is refused, and the log names it"
v=$(raw probe 192.0.2.99 $RID $AS)
[ "$v" = closed ] || fail "connection from 192.0.2.99: $v, want closed"
wait_until 2 grep -q -F 192.0.2.99 "$PM_TMP/pm.podmesh.log" ||
    fail "no log line names 192.0.2.99"
ok "refused; log: $(grep -m1 -F 192.0.2.99 "$PM_TMP/pm.podmesh.log")"
[ -z "$(podmesh_peer_state pm 192.0.2.99)" ] ||
    fail "podmeshctl lists 192.0.2.99"

step "a range at its max-sessions (2) refuses the next one"
for i in 1 2; do
	# not through raw(): $! must be python itself, to stop it later
	ip netns exec "$(ns pm)" python3 "$PM_TMP/raw.py" "$PM_LIB_DIR" open \
	    198.51.100.$i $RID 65010 >"$PM_TMP/h$i.out" 2>&1 &
	PM_PID[raw:h$i]=$!
done
expect_established podmesh pm 198.51.100.1 5
expect_established podmesh pm 198.51.100.2 5
v=$(raw probe 198.51.100.3 $RID 65010)
[ "$v" = closed ] || fail "third session in a range of 2: $v, want closed"
wait_until 2 grep -q -F 198.51.100.3 "$PM_TMP/pm.podmesh.log" ||
    fail "no log line names 198.51.100.3"
ok "third refused; log: $(grep -m1 -F 198.51.100.3 "$PM_TMP/pm.podmesh.log")"
[ "$(podmesh_peer_field pm 198.51.100.1 asn)" = 65010 ] ||
    fail "198.51.100.1 has asn $(podmesh_peer_field pm 198.51.100.1 asn)"
_pm_kill_pid "${PM_PID[raw:h1]}"
unset 'PM_PID[raw:h1]'
_probe_open() {
	[ "$(raw probe 198.51.100.3 $RID 65010)" = open ]
}
wait_until 5 _probe_open ||
    fail "198.51.100.3 still refused after 198.51.100.1 left"
ok "a freed slot takes a new session"

step "a client that crashes and comes back does not wait for the hold timer"
old=$(nsx node ss -Htn state established "( dport = :179 )" |
    awk '{ print $3 }')
lport=${old##*:}
[ -n "$lport" ] || fail "no BGP connection from BIRD to find"
# this connection's segments from the node go nowhere from now on
nsx node ip route add blackhole default table 100 &&
    nsx node ip rule add ipproto tcp sport "$lport" dport 179 table 100 ||
    fail "cannot black-hole BIRD's connection"
stop_daemon bird node KILL
uptime0=$(podmesh_peer_field pm 203.0.113.250 uptime)
never_within 1 not podmesh_established pm 203.0.113.250 ||
    fail "the reflector noticed the crash: test set-up broken (FIN got out?)"
ok "old session (from $old) still Established on the reflector, uptime" \
    "${uptime0}s, hold time $(podmesh_peer_field pm 203.0.113.250 hold_time)s"
t0=$(_pm_now)
restart_daemon bird node
if ! wait_until 10 bird_established node $RID; then
	log "reflector log (tail):"
	tail -15 "$PM_TMP/pm.podmesh.log" >&2
	fail "restarted BIRD not Established within 10 s: it waits for the" \
	    "hold timer of the old session (BIRD: $(bird_state node $RID)," \
	    "reflector: $(podmesh_peer_state pm 203.0.113.250))"
fi
ok "BIRD Established again after $(_pm_secs $(($(_pm_now) - t0)))s"
v=$(podmeshctl_ pm bgp peers -o json |
    jq '[.[] | select(.address == "203.0.113.250")] | length')
[ "$v" = 1 ] || fail "the reflector lists $v sessions for 203.0.113.250"
v=$(podmesh_peer_field pm 203.0.113.250 uptime)
[ "$v" -lt "$uptime0" ] ||
    fail "the reflector's session has uptime ${v}s (the old one had" \
    "${uptime0}s when BIRD died): still the old session"
ok "the reflector holds one session for 203.0.113.250, ${v}s old"
expect_established podmesh pm 203.0.113.250 0
wait_until 10 _bird_all ||
    fail "BIRD holds $(bird_route_count node $RID) routes, want $((NS * K))"
ok "BIRD holds all $((NS * K)) routes again"
expect_route podmesh pm 198.19.0.0/24 nh=203.0.113.250 peer=203.0.113.250
expect_paths podmesh pm 198.19.0.0/24 1
[ "$(dyn_established 203.0.113.)" = $((NS + 1)) ] ||
    fail "$(dyn_established 203.0.113.) dynamic sessions Established at" \
    "the end, want $((NS + 1))"
daemon_alive podmesh pm || fail "podmesh-bgpd died"
podmesh_finish pm
exit 0
