#!/bin/bash
#
# t_ctl_node_status.sh: `podmeshctl node status` (issue #8), calicoctl's
# layout from podmesh-bgpd's control socket, and from BIRD's with --bird.
#
#   n1 n2 n3: dual-stack nodes in full mesh (datastore mode), plus a global
#   BGPPeer to 192.0.2.99 (nobody there: stays Connect/Active on every node)
#   and a node-specific BGPPeer of n1 to a BIRD 2 at 192.0.2.50 (AS 64600,
#   Established).  That BIRD also has protocols named as podmesh-confd (and
#   Calico's confd) name them: Node_192_0_2_11 (to n1), Global_192_0_2_98
#   (nobody), Mesh_2001_db8_1__12 (n2, which refuses it), and some that are
#   not Calico's (device, direct, p_other to 192.0.2.97).
#
# Checked: on n1 the exact table shape (calicoctl's borders, centred titles,
# rows sorted by address, SINCE as HH:MM:SS) with the mesh peers up and
# Established, the BIRD one "node specific", the global one "start"; IPv6 in
# its own section; n2 has no node specific row; -o json (running, ipv4,
# ipv6; address, type, state, since as RFC 3339 in the test's time window,
# info); "podmesh-bgpd is not running." and exit 1 with a socket path that
# does not exist and with a stale socket nobody listens on ({"running":
# false} with -o json); --bird against the real BIRD 2: only the Calico
# names, their types and addresses back from the names (IPv4 and IPv6),
# BIRD's states, "BIRD is not running." and exit 1 without it.  ~20 s.
PM_TIMEOUT=180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node
command -v bird >/dev/null || fail "bird (bird2) not installed"

BIRD_IP=192.0.2.50
BIRD_IP6=2001:db8:1::50
BIRD_AS=64600

# status NODE ARGS...: podmeshctl node status on NODE's control socket.
status() {
	local n=$1
	shift
	timeout 10 "$PODMESHCTL" node status --socket \
	    "$PM_TMP/$n.podmesh.sock" "$@"
}

# norm: the times of the SINCE column as hh:mm:ss (checked separately).
norm() {
	sed -E 's/\| [0-2][0-9]:[0-5][0-9]:[0-5][0-9] \|/| hh:mm:ss |/'
}

# expect_since TEXT: every SINCE cell is a time of today (HH:MM:SS).
expect_since() {
	local bad
	bad=$(grep '^| [0-9a-f]' <<<"$1" | awk -F'|' '{print $5}' |
	    grep -Ev '^ [0-2][0-9]:[0-5][0-9]:[0-5][0-9] +$') &&
	    fail "SINCE not HH:MM:SS: $bad"$'\n'"$1"
	return 0
}

step "node status: three dual-stack nodes, a global and a node-specific BGPPeer"
t0=$(date +%s)
underlay
node_add n1 v6
node_add n2 v6
node_add n3 v6
node_etcd_start
env=("CALICO_IPV4POOL_CIDR=$NODE_POOL" "CALICO_IPV6POOL_CIDR=2001:db8:100::/112"
    CALICO_IPV4POOL_IPIP=Never)
for n in "${NODES[@]}"; do
	node_start "$n" "${env[@]}"
done

# BIRD 2 in its own namespace on the underlay
ns_add bx
_node_plug bx eth0 br0 "$BIRD_IP/24"
ip -n "$(ns bx)" addr add "$BIRD_IP6/64" dev eth0 nodad ||
    fail "IPv6 address in bx"
conf=$PM_TMP/bx.conf
bird_conf "$conf" rid=$BIRD_IP asn=$BIRD_AS debug=0
# BIRD's default since format (Calico's bird.cfg sets none): HH:MM:SS.fff
sed -i '/^timeformat/d' "$conf"
bgp_proto() { # NAME NEIGHBOR AS FAMILY
	printf '%s\n' "protocol bgp $1 {" "	local as $BIRD_AS;" \
	    "	neighbor $2 as $3;" "	hold time 9; connect retry time 1;" \
	    "	error wait time 1, 2;" "	$4 { import all; export none; };" "}"
}
{
	bgp_proto Node_192_0_2_11 192.0.2.11 "$NODE_AS" ipv4
	bgp_proto Global_192_0_2_98 192.0.2.98 "$NODE_AS" ipv4
	bgp_proto Mesh_2001_db8_1__12 2001:db8:1::12 "$NODE_AS" ipv6
	bgp_proto p_other 192.0.2.97 "$NODE_AS" ipv4
} >>"$conf"
start_bird bx "$conf"

for n in "${NODES[@]}"; do
	node_bgpd_start "$n"
done
expect_mesh 20

printf '%s\n' 'apiVersion: projectcalico.org/v3' 'kind: BGPPeer' \
    'metadata: {name: global-nobody}' \
    "spec: {peerIP: 192.0.2.99, asNumber: $NODE_AS}" '---' \
    'apiVersion: projectcalico.org/v3' 'kind: BGPPeer' \
    'metadata: {name: n1-bird}' \
    "spec: {node: n1, peerIP: $BIRD_IP, asNumber: $BIRD_AS}" \
    >"$PM_TMP/peers.yaml"
out=$(nctl apply -f "$PM_TMP/peers.yaml" 2>&1) || fail "apply BGPPeers: $out"

n1_ready() {
	podmeshctl_ n1 bgp peers -o json | jq -e --arg bird "$BIRD_IP" '
	    (map(select(.state == "Established") | .address) | sort ==
	        ["192.0.2.12", "192.0.2.13", $bird, "2001:db8:1::12",
	        "2001:db8:1::13"]) and
	    (map(select(.address == "192.0.2.99" and
	        (.state == "Connect" or .state == "Active"))) | length == 1) and
	    length == 6' >/dev/null
}
n2_ready() {
	node_peers n2 | grep -q '^192\.0\.2\.99 '
}
wait_until 20 n1_ready ||
    fail "n1: sessions not as expected: $(node_peers n1 | tr '\n' ';')"
wait_until 10 n2_ready || fail "n2: no session to 192.0.2.99"
ok "n1: mesh up over both families, BIRD Established, 192.0.2.99 trying"

step "podmeshctl node status on n1 and n2"
status n1 >"$PM_TMP/n1.status" || fail "node status on n1 exited $?"
out=$(cat "$PM_TMP/n1.status")
log "n1:"$'\n'"$out"
expect_since "$out"
want='podmesh-bgpd is running.

IPv4 BGP status
+--------------+-------------------+-------+----------+-------------+
| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO     |
+--------------+-------------------+-------+----------+-------------+
| 192.0.2.12   | node-to-node mesh | up    | hh:mm:ss | Established |
| 192.0.2.13   | node-to-node mesh | up    | hh:mm:ss | Established |
| 192.0.2.50   | node specific     | up    | hh:mm:ss | Established |
| 192.0.2.99   | global            | start | hh:mm:ss | INFO        |
+--------------+-------------------+-------+----------+-------------+

IPv6 BGP status
+----------------+-------------------+-------+----------+-------------+
|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO     |
+----------------+-------------------+-------+----------+-------------+
| 2001:db8:1::12 | node-to-node mesh | up    | hh:mm:ss | Established |
| 2001:db8:1::13 | node-to-node mesh | up    | hh:mm:ss | Established |
+----------------+-------------------+-------+----------+-------------+
'
# the global peer's INFO: its state, and an error if one came (the width
# of the column follows it, so it is checked on its own)
info=$(grep '^| 192.0.2.99 ' <<<"$out" | awk -F'|' '{print $6}' | sed 's/ *$//')
[[ $info =~ ^\ (Connect|Active)(\ .+)?$ ]] ||
    fail "INFO of the global peer: '$info'"
got=$(norm <<<"$out" | sed -E "s/^(\| 192\.0\.2\.99 .*\| )[^|]*\|$/\1INFO/")
exp=$(sed -E "s/^(\| 192\.0\.2\.99 .*\| )[^|]*\|$/\1INFO/" <<<"$want")
if [ "$info" = " Connect" ] || [ "$info" = " Active" ]; then
	[ "$got" = "$exp" ] || fail "n1's node status:"$'\n'"$out"$'\n'"want:"$'\n'"$want"
else
	# a longer INFO widens the column: compare the rows but the borders
	diff <(grep -v '^+' <<<"$got" | sed -E 's/ *\| */|/g') \
	    <(grep -v '^+' <<<"$exp" | sed -E 's/ *\| */|/g') >&2 ||
	    fail "n1's node status:"$'\n'"$out"
fi
[ "$(tail -c 3 "$PM_TMP/n1.status" | od -An -c | tr -d ' ')" = '+\n\n' ] ||
    fail "node status output does not end with the border and a blank line"
ok "n1: calicoctl's layout, types, states, IPv6 section"

out=$(status n2) || fail "node status on n2 exited $?: $out"
grep -q 'node specific' <<<"$out" && fail "n2 has a node specific row: $out"
[ "$(grep -c '^| 192\.0\.2\.\(11\|13\) .* node-to-node mesh | up ' <<<"$out")" = 2 ] &&
    [ "$(grep -c '^| 2001:db8:1::1[13] .* node-to-node mesh | up ' <<<"$out")" = 2 ] &&
    grep -q '^| 192\.0\.2\.99 .*| global *| start ' <<<"$out" ||
    fail "n2's node status:"$'\n'"$out"
ok "n2: mesh both families, the global peer, no node specific row"

step "podmeshctl node status -o json"
out=$(status n1 -o json) || fail "node status -o json exited $?: $out"
t1=$(date +%s)
jq -e --arg bird "$BIRD_IP" '
    .running == true and
    ([.ipv4[].address] == ["192.0.2.12", "192.0.2.13", $bird, "192.0.2.99"]) and
    ([.ipv6[].address] == ["2001:db8:1::12", "2001:db8:1::13"]) and
    ([.ipv4[], .ipv6[] | keys_unsorted] | unique ==
        [["address", "type", "state", "since", "info"]]) and
    ([.ipv4[] | .type] == ["node-to-node mesh", "node-to-node mesh",
        "node specific", "global"]) and
    ([.ipv6[] | .type] | unique == ["node-to-node mesh"]) and
    ([.ipv4[0,1,2], .ipv6[] | select(.state == "up" and
        .info == "Established")] | length == 5) and
    (.ipv4[3].state == "start") and
    (.ipv4[3].info | test("^(Connect|Active)( .+)?$"))' <<<"$out" \
    >/dev/null || fail "node status -o json: $out"
for s in $(jq -r '.ipv4[], .ipv6[] | .since' <<<"$out"); do
	[[ $s =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$ ]] ||
	    fail "since '$s' is not RFC 3339 UTC"
	e=$(date -d "$s" +%s)
	[ "$e" -ge "$t0" ] && [ "$e" -le "$t1" ] ||
	    fail "since $s not within the test ($t0..$t1)"
done
ok "-o json: families, fields, since in RFC 3339 within the test"

step "not running"
rc=0
out=$(status nobody) || rc=$?
[ "$rc" = 1 ] && [ "$out" = "podmesh-bgpd is not running." ] ||
    fail "missing socket: exit $rc, output '$out'"
rc=0
out=$(status nobody -o json) || rc=$?
[ "$rc" = 1 ] && jq -e '.running == false' <<<"$out" >/dev/null ||
    fail "missing socket, -o json: exit $rc, output '$out'"
# a stale socket file: bound, never listening
/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.close()' \
    "$PM_TMP/stale.podmesh.sock" || fail "stale socket"
rc=0
out=$(status stale 2>&1) || rc=$?
[ "$rc" = 1 ] && [ "$out" = "podmesh-bgpd is not running." ] ||
    fail "stale socket: exit $rc, output '$out'"
ok "\"podmesh-bgpd is not running.\" and exit 1 (missing and stale socket)"

# fake_bgpd ANSWER: a socket $PM_TMP/fake.podmesh.sock answering one
# request with ANSWER (for 10 s at most)
fake_bgpd() {
	rm -f "$PM_TMP/fake.podmesh.sock"
	timeout 10 /usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)
open(sys.argv[1] + ".up", "w").close()
c, _ = s.accept(); c.recv(100); c.sendall(sys.argv[2].encode()); c.close()' \
	    "$PM_TMP/fake.podmesh.sock" "$1" &
	fake_pid=$!
	wait_until 5 test -e "$PM_TMP/fake.podmesh.sock.up" ||
	    fail "fake podmesh-bgpd did not come up"
	rm -f "$PM_TMP/fake.podmesh.sock.up"
}
for bad in 'not json' '{"peers": []}' '[{"state": "Idle"}]'; do
	fake_bgpd "$bad"
	rc=0
	out=$(status fake 2>&1) || rc=$?
	wait "$fake_pid" || fail "fake podmesh-bgpd exited $?"
	[ "$rc" = 1 ] &&
	    [[ $out == "podmeshctl: $PM_TMP/fake.podmesh.sock: "*"answer from podmesh-bgpd: "* ]] ||
	    fail "answer '$bad': exit $rc, output '$out'"
	log "answer '$bad': $out"
done
ok "a bad answer is an error naming the socket, exit 1"

step "podmeshctl node status --bird (BIRD 2)"
bird_ready() {
	birdc_ bx show protocols | grep -q '^Node_192_0_2_11 .*Established'
}
wait_until 15 bird_ready ||
    fail "BIRD's Node_192_0_2_11 not Established: $(birdc_ bx show protocols)"
out=$(timeout 10 "$PODMESHCTL" node status --bird "$(_bird_sock bx)") ||
    fail "node status --bird exited $?: $out"
log "BIRD:"$'\n'"$out"
log "birdc show protocols:"$'\n'"$(birdc_ bx show protocols)"
expect_since "$out"
[ "$(head -1 <<<"$out")" = "BIRD is running." ] || fail "first line: $out"
rows=$(grep '^| [0-9a-f]' <<<"$out" | awk -F'|' '{gsub(/^ +| +$/, "", $2);
    gsub(/^ +| +$/, "", $3); gsub(/^ +| +$/, "", $4);
    gsub(/^ +| +$/, "", $6); split($6, w, " "); print $2 "," $3 "," $4 "," w[1]}')
want4='192.0.2.11,node specific,up,Established
192.0.2.98,global,start,'
[[ $rows == "$want4"* ]] || fail "--bird IPv4 rows: $rows"$'\n'"$out"
grep -q '^2001:db8:1::12,node-to-node mesh,start,' <<<"$rows" ||
    fail "--bird IPv6 row: $rows"
[ "$(wc -l <<<"$rows")" = 3 ] || fail "--bird: not 3 rows: $rows"
awk '/^IPv4 BGP status/{f=4} /^IPv6 BGP status/{f=6} /^\| 2001:/{print f}' \
    <<<"$out" | grep -qx 6 || fail "--bird: IPv6 row not under IPv6: $out"
grep -q '192.0.2.97' <<<"$out" && fail "--bird shows p_other: $out"
out=$(timeout 10 "$PODMESHCTL" node status --bird "$(_bird_sock bx)" \
    -o json) || fail "--bird -o json exited $?"
jq -e '.running and (.ipv4 | length == 2) and (.ipv6 | length == 1) and
    .ipv4[0].since != null' <<<"$out" >/dev/null ||
    fail "--bird -o json: $out"
rc=0
out=$(timeout 10 "$PODMESHCTL" node status --bird "$PM_TMP/nobird.ctl") ||
    rc=$?
[ "$rc" = 1 ] && [ "$out" = "BIRD is not running." ] ||
    fail "--bird without BIRD: exit $rc, output '$out'"
ok "--bird: Calico's protocol names only, types, families, states"

cluster_down
exit 0
