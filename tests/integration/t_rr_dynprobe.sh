#!/bin/bash
#
# Dynamic neighbours against connections that are not sessions:
#  - a bare TCP connection (a port probe, a health check) from the address
#    of an Established dynamic neighbour must not end its session: only an
#    OPEN on the new connection says the node restarted;
#  - a dynamic neighbour that connects and closes before Established is
#    forgotten (it would otherwise sit in Active for good, holding a slot
#    of its range);
#  - a real restart (a new OPEN from the same address while the old
#    session still looks Established) replaces the old session at once.
# The clients are raw speakers (bgpraw.py) on loopback addresses.

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

require_podmesh
AS=64512
RID=203.0.113.254

step "topology: one namespace, loopback addresses"
ns_add pm
lo_addrs pm 203.0.113.1 2
lo_addrs pm $RID 1
podmesh_conf "$PM_TMP/pm.yaml" rid=$RID asn=$AS rr=1 hold=90 listen=$RID
podmesh_peer "$PM_TMP/pm.yaml" range=203.0.113.0/24 asn=$AS rrclient=1 \
    families=ipv4 max=2
cat >"$PM_TMP/raw.py" <<'PY'
import socket, sys, time
sys.path.insert(0, sys.argv[1])
import bgpraw as b
mode, src, peer, asn = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
s = socket.socket()
s.bind((src, 0))
s.connect((peer, 179))
if mode == "tcp":
    time.sleep(0.5)
    s.close()
    sys.exit(0)
s.sendall(b.msg(b.OPEN, b.open_body(asn, 90, src, caps=b.default_caps(asn))))
s.sendall(b.msg(b.KEEPALIVE))
while True:
    data = s.recv(4096)
    if not data:
        print("closed by the reflector", flush=True)
        sys.exit(0)
PY
raw() {
	ip netns exec "$(ns pm)" python3 "$PM_TMP/raw.py" "$PM_LIB_DIR" "$@" \
	    $RID $AS
}
peer_field() {
	podmeshctl_ pm bgp peers -o json |
	    jq -r --arg a "$1" --arg f "$2" '.[] | select(.address == $a) | .[$f]'
}

start_podmesh pm "$PM_TMP/pm.yaml"
raw open 203.0.113.1 >"$PM_TMP/old.out" 2>&1 &
PM_PID[raw-old]=$!
expect_established podmesh pm 203.0.113.1 10

step "a bare TCP connection from the same address"
raw tcp 203.0.113.1
sleep 1
[ "$(peer_field 203.0.113.1 state)" = Established ] ||
    fail "the session ended on a bare TCP connection:"$'\n'"$(tail -5 \
    "$PM_TMP/pm.podmesh.log")"
[ "$(peer_field 203.0.113.1 flaps)" = 0 ] ||
    fail "203.0.113.1 flapped on a bare TCP connection"
grep -q "new connection while Established: waiting for its OPEN" \
    "$PM_TMP/pm.podmesh.log" || fail "no log line for the parked connection"
ok "session kept, 0 flaps; the connection waited for an OPEN"

step "a dynamic neighbour that never opens is forgotten"
raw tcp 203.0.113.2
wait_until 5 sh -c "[ -z \"\$(podmeshctl --socket $(_podmesh_sock pm) \
    bgp peers -o json | jq -r '.[] | select(.address == \"203.0.113.2\") \
    | .state')\" ]" || fail "203.0.113.2 still listed: $(peer_field \
    203.0.113.2 state)"
ok "203.0.113.2 gone"
# its slot is free: max-sessions is 2, and .2 can now come up for real
raw open 203.0.113.2 >"$PM_TMP/two.out" 2>&1 &
PM_PID[raw-two]=$!
expect_established podmesh pm 203.0.113.2 10
kill "${PM_PID[raw-two]}" 2>/dev/null
unset 'PM_PID[raw-two]'

step "a real restart: a new OPEN replaces the old session at once"
raw open 203.0.113.1 >"$PM_TMP/new.out" 2>&1 &
PM_PID[raw-new]=$!
wait_until 5 grep -q "closed by the reflector" "$PM_TMP/old.out" ||
    fail "the old session was not closed"
wait_until 5 grep -q "OPEN on a new connection while Established: peer \
restarted" "$PM_TMP/pm.podmesh.log" || fail "no restart log line"
expect_established podmesh pm 203.0.113.1 5
ok "old session closed, new one Established"
podmesh_finish pm
exit 0
