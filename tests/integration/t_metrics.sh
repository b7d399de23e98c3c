#!/bin/bash
#
# t_metrics.sh: podmesh-bgpd's metrics and health server (issue #8).
# Two nodes n1, n2 in full mesh (datastore mode, kernel sync), a global
# BGPPeer to 192.0.2.19 (AS 64520), where a standalone podmesh-bgpd in n9
# is started later.  Every daemon runs with the default http (127.0.0.1:9099
# in its namespace) unless said otherwise.  Checked:
#  - /readiness 503 naming the global peer only ("peer 192.0.2.19
#    (global) is Active"); /liveness 200; 404 for an unknown path, 405 for
#    POST, HEAD answered; /metrics's Content-Type;
#  - /metrics parsed by the real Prometheus parser (prom_check.py, Debian's
#    python3-prometheus-client): HELP and TYPE everywhere, naming rules,
#    no duplicate series, no gauge X beside a counter X_total (one family
#    under OpenMetrics), the expected families and label sets, per-peer
#    values equal to `podmeshctl bgp peers -o json` (state, received as
#    prefixes_accepted, sent);
#  - n9 with http: {port: 0}: nothing listens; the global peer comes up:
#    n1 and n2 ready; SIGHUP with a port: it answers there; SIGHUP with
#    port 0 again: gone;
#  - the mesh peer n2 stopped: n1 stays ready (mesh peers never count),
#    its peer_up for n2 is 0;
#  - a second podmesh-bgpd in n1 with the default http runs on (warning);
#    a third with an explicit http: {port: 9099} exits with a clear error;
#  - a route reflector with a client and a non-client peer, both down:
#    503 naming the non-client only; SIGHUP without the non-client: ready
#    (its clients never count);
#  - etcd stopped, n2's bgpd started again: liveness 200 while the
#    datastore is unread, readiness 503 "datastore not synced".  ~30 s.
PM_TIMEOUT=240
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node
CHECK=(/usr/bin/python3 "$PM_LIB_DIR/prom_check.py")
EXT=192.0.2.19
"${CHECK[@]}" --selftest >/dev/null ||
    fail "prom_check.py --selftest (python3-prometheus-client installed?)"

# hget NS PATH [PORT [curl args]]: the status code (000: no answer); the
# body in $PM_TMP/body, the headers in $PM_TMP/headers.
hget() {
	local n=$1 path=$2 port=${3:-9099}
	shift 3 2>/dev/null || shift $#
	nsx "$n" curl -s --max-time 5 -o "$PM_TMP/body" -D "$PM_TMP/headers" \
	    -w '%{http_code}' "$@" "http://127.0.0.1:$port$path"
}

code_is() { # NS PATH CODE [PORT]
	[ "$(hget "$1" "$2" "${4:-9099}")" = "$3" ]
}

# metrics_check NODE [prom_check args]: /metrics and the peers JSON of
# NODE, taken while nothing changes, through prom_check.py.
metrics_check() {
	local n=$1 out
	shift
	hget "$n" /metrics "${MPORT:-9099}" >"$PM_TMP/code" || true
	[ "$(cat "$PM_TMP/code")" = 200 ] || fail "$n: /metrics answered $(cat "$PM_TMP/code")"
	cp "$PM_TMP/body" "$PM_TMP/$n.metrics"
	podmeshctl_ "$n" bgp peers -o json >"$PM_TMP/$n.peers.json" ||
	    fail "$n: podmeshctl bgp peers"
	out=$("${CHECK[@]}" "$PM_TMP/$n.metrics" "$PM_TMP/$n.peers.json" "$@") ||
	    fail "$n: /metrics: $out"$'\n'"$(head -40 "$PM_TMP/$n.metrics")"
	ok "$n: /metrics $out"
}

step "two nodes in mesh, a global BGPPeer to $EXT (not running yet)"
underlay
node_add n1
node_add n2
node_add n9
node_etcd_start
printf '%s\n' 'apiVersion: projectcalico.org/v3' 'kind: BGPPeer' \
    'metadata: {name: external}' "spec: {peerIP: $EXT, asNumber: 64520}" \
    >"$PM_TMP/bgppeer.yaml"
out=$(nctl apply -f "$PM_TMP/bgppeer.yaml" 2>&1) || fail "apply BGPPeer: $out"
for n in n1 n2; do
	node_start "$n" CALICO_IPV4POOL_CIDR=$NODE_POOL CALICO_IPV4POOL_IPIP=Never
done
node_bgpd_start n1
node_bgpd_start n2
wait_until 20 podmesh_established n1 "${NODE_IP[n2]}" ||
    fail "n1-n2 not Established"
wait_until 20 podmesh_established n2 "${NODE_IP[n1]}" ||
    fail "n2-n1 not Established"
ok "mesh up; $EXT is $(podmesh_peer_state n1 $EXT) on n1"

step "not ready for the global peer only; the endpoints"
wait_until 10 code_is n1 /readiness 503 || fail "n1 /readiness: $(hget n1 /readiness)"
body=$(cat "$PM_TMP/body")
[[ "$body" =~ ^"peer $EXT (global) is "(Idle|Connect|Active)$ ]] ||
    fail "n1 /readiness body: '$body'"
ok "n1 /readiness 503: $body"
[ "$(hget n1 /liveness)" = 200 ] || fail "n1 /liveness not 200"
[ "$(cat "$PM_TMP/body")" = ok ] || fail "n1 /liveness: $(cat "$PM_TMP/body")"
[ "$(hget n1 /nope)" = 404 ] || fail "unknown path: not 404"
[ "$(hget n1 /metrics 9099 -X POST)" = 405 ] || fail "POST /metrics: not 405"
grep -qi '^Allow: GET, HEAD' "$PM_TMP/headers" || fail "405 without Allow"
[ "$(hget n1 /metrics 9099 -I)" = 200 ] || fail "HEAD /metrics: not 200"
[ "$(hget n1 /metrics)" = 200 ] || fail "GET /metrics"
ct=$(sed -n 's/^Content-Type: *//Ip' "$PM_TMP/headers" | tr -d '\r')
[ "$ct" = "text/plain; version=0.0.4; charset=utf-8" ] ||
    fail "/metrics Content-Type '$ct'"
ok "liveness 200, 404, 405 (Allow: GET, HEAD), HEAD 200, Content-Type $ct"
metrics_check n1 --datastore --kernel
grep -q "^podmesh_bgp_peer_up{peer=\"$EXT\",asn=\"64520\",type=\"global\"} 0$" \
    "$PM_TMP/n1.metrics" || fail "n1: peer_up of $EXT not 0/global"
grep -q "^podmesh_bgp_peer_up{peer=\"${NODE_IP[n2]}\",asn=\"64512\",type=\"mesh\"} 1$" \
    "$PM_TMP/n1.metrics" || fail "n1: peer_up of n2 not 1/mesh"
grep -q '^podmesh_datastore_synced 1$' "$PM_TMP/n1.metrics" ||
    fail "n1: datastore_synced not 1"
grep -q '^podmesh_datastore_watch_connected 1$' "$PM_TMP/n1.metrics" ||
    fail "n1: watch_connected not 1"

step "n9 with http: {port: 0}; the global peer comes up"
podmesh_conf "$PM_TMP/n9.yaml" rid=$EXT asn=64520 originate=198.19.7.0/24
podmesh_peer "$PM_TMP/n9.yaml" addr="${NODE_IP[n1]}" asn=64512
podmesh_peer "$PM_TMP/n9.yaml" addr="${NODE_IP[n2]}" asn=64512
cp "$PM_TMP/n9.yaml" "$PM_TMP/n9.base.yaml"
echo "http: {port: 0}" >>"$PM_TMP/n9.yaml"
start_podmesh n9 "$PM_TMP/n9.yaml"
[ -z "$(nsx n9 ss -Hltn 'sport = :9099')" ] || fail "n9 listens on 9099 with port 0"
[ "$(hget n9 /liveness)" = 000 ] || fail "n9 answers http with port 0"
ok "n9 (port 0): nothing listens"
wait_until 30 code_is n1 /readiness 200 ||
    fail "n1 not ready: $(cat "$PM_TMP/body")"
wait_until 10 code_is n2 /readiness 200 ||
    fail "n2 not ready: $(cat "$PM_TMP/body")"
[ "$(cat "$PM_TMP/body")" = ready ] || fail "ready body: $(cat "$PM_TMP/body")"
ok "n1 and n2 ready with $EXT Established"
ext_received() {
	hget n1 /metrics >/dev/null
	grep -q "^podmesh_bgp_peer_prefixes_accepted{peer=\"$EXT\"} 1$" "$PM_TMP/body"
}
wait_until 10 ext_received || fail "n1: 198.19.7.0/24 from $EXT not counted"
metrics_check n1 --datastore --kernel
grep -q "^podmesh_bgp_peer_prefixes_accepted{peer=\"$EXT\"} 1$" "$PM_TMP/n1.metrics" ||
    fail "n1: prefixes_accepted of $EXT not 1"
grep -Eq '^podmesh_kernel_routes\{family="ipv4"\} [1-9]' "$PM_TMP/n1.metrics" ||
    fail "n1: no kernel routes counted"

step "SIGHUP: n9 listens where http: says, then not at all"
{
	cat "$PM_TMP/n9.base.yaml"
	echo "http: {address: 127.0.0.1, port: 19100}"
} >"$PM_TMP/n9.yaml"
kill -HUP "${PM_PID[podmesh:n9]}"
wait_until 5 code_is n9 /readiness 200 19100 ||
    fail "n9 after SIGHUP: $(hget n9 /readiness 19100)"
ok "n9 ready on port 19100 after SIGHUP"
MPORT=19100 metrics_check n9
cp "$PM_TMP/n9.base.yaml" "$PM_TMP/n9.yaml"
echo "http: {port: 0}" >>"$PM_TMP/n9.yaml"
kill -HUP "${PM_PID[podmesh:n9]}"
wait_until 5 code_is n9 /liveness 000 19100 || fail "n9 still on 19100"
ok "n9 http off again after SIGHUP"

step "a mesh peer down does not make n1 unready"
stop_daemon podmesh n2
n2_gone() { [ "$(podmesh_peer_state n1 "${NODE_IP[n2]}")" != Established ]; }
n1_unready() { ! code_is n1 /readiness 200; }
wait_until 15 n2_gone || fail "n1 still Established with n2"
never_within 2 n1_unready ||
    fail "n1 unready with the mesh peer down: $(cat "$PM_TMP/body")"
metrics_check n1 --datastore --kernel
grep -q "^podmesh_bgp_peer_up{peer=\"${NODE_IP[n2]}\",asn=\"64512\",type=\"mesh\"} 0$" \
    "$PM_TMP/n1.metrics" || fail "n1: peer_up of n2 not 0"
ok "n1 ready with n2 $(podmesh_peer_state n1 "${NODE_IP[n2]}")"

step "more podmesh-bgpd in n1: default http warns, an explicit port fails"
# started by ip netns exec itself (not through nsx, a function): $! is then
# the daemon, so signals reach it rather than a subshell waiting for it
podmesh_conf "$PM_TMP/extra.yaml" rid=192.0.2.99 asn=64999 port=0
podmesh_peer "$PM_TMP/extra.yaml" addr=192.0.2.98 asn=64999 passive=1
ip netns exec "$(ns n1)" "$PODMESH_BGPD" -c "$PM_TMP/extra.yaml" >"$PM_TMP/extra.log" 2>&1 &
PM_PID[podmesh:extra]=$!
_pm_daemon podmesh:extra
wait_until 5 grep -q 'running without metrics and health' "$PM_TMP/extra.log" ||
    fail "no warning from the second bgpd: $(cat "$PM_TMP/extra.log")"
sleep 1
kill -0 "${PM_PID[podmesh:extra]}" || fail "second bgpd died: $(cat "$PM_TMP/extra.log")"
grep 'cannot listen' "$PM_TMP/extra.log" | head -1 | sed 's/^/    /'
stop_daemon podmesh extra
ok "default http taken: the second one runs on"
sed -e 's/^control-socket: .*/control-socket: '"${PM_TMP//\//\\/}"'\/extra2.sock/' \
    "$PM_TMP/extra.yaml" >"$PM_TMP/extra2.yaml"
echo "http: {port: 9099}" >>"$PM_TMP/extra2.yaml"
rc=0
nsx n1 timeout 10 "$PODMESH_BGPD" -c "$PM_TMP/extra2.yaml" >"$PM_TMP/extra2.log" 2>&1 || rc=$?
[ "$rc" = 1 ] || fail "explicit conflicting http: exit $rc: $(cat "$PM_TMP/extra2.log")"
grep -q 'http: cannot listen on 127.0.0.1 port 9099: Address already in use' \
    "$PM_TMP/extra2.log" || fail "no clear message: $(cat "$PM_TMP/extra2.log")"
ok "explicit http port in use: exit 1, $(grep -o 'http: cannot listen.*' "$PM_TMP/extra2.log")"
code_is n1 /liveness 200 || fail "n1's own http lost"

step "a reflector: its clients down do not count, other peers do"
podmesh_conf "$PM_TMP/rr.yaml" rid=192.0.2.97 asn=64998 port=0 rr=1
podmesh_peer "$PM_TMP/rr.yaml" addr=192.0.2.96 asn=64998 passive=1 rrclient=1
cp "$PM_TMP/rr.yaml" "$PM_TMP/rr.base.yaml"
podmesh_peer "$PM_TMP/rr.yaml" addr=192.0.2.95 asn=64998 passive=1
echo "http: {address: 127.0.0.1, port: 19101}" >>"$PM_TMP/rr.yaml"
"$PODMESH_BGPD" --check -c "$PM_TMP/rr.yaml" >"$PM_TMP/rr.log" 2>&1 ||
    fail "rr.yaml: $(cat "$PM_TMP/rr.log")"
ip netns exec "$(ns n1)" "$PODMESH_BGPD" -c "$PM_TMP/rr.yaml" >>"$PM_TMP/rr.log" 2>&1 &
PM_PID[podmesh:rr]=$!
_pm_daemon podmesh:rr
wait_until 5 code_is n1 /readiness 503 19101 ||
    fail "reflector /readiness: $(hget n1 /readiness 19101) $(cat "$PM_TMP/body")"
body=$(cat "$PM_TMP/body")
[[ "$body" =~ ^"peer 192.0.2.95 (static) is "(Idle|Connect|Active)$ ]] ||
    fail "reflector /readiness body: '$body' (want the non-client only)"
ok "reflector 503: $body"
{
	cat "$PM_TMP/rr.base.yaml"
	echo "http: {address: 127.0.0.1, port: 19101}"
} >"$PM_TMP/rr.yaml"
kill -HUP "${PM_PID[podmesh:rr]}"
wait_until 5 code_is n1 /readiness 200 19101 ||
    fail "reflector with its client down not ready: $(cat "$PM_TMP/body")"$'\n'"$(tail -5 "$PM_TMP/rr.log")"
hget n1 /metrics 19101 >/dev/null
grep -q '^podmesh_bgp_peer_up{peer="192.0.2.96",asn="64998",type="static"} 0$' \
    "$PM_TMP/body" || fail "reflector: peer_up of its client not 0"
stop_daemon podmesh rr
ok "reflector ready with its only client 192.0.2.96 down"

step "datastore unread: alive, not ready"
node_etcd_stop
node_bgpd_start n2 nowait
wait_until 10 code_is n2 /liveness 200 || fail "n2 /liveness without etcd"
wait_until 5 code_is n2 /readiness 503 || fail "n2 /readiness without etcd"
[ "$(cat "$PM_TMP/body")" = "datastore not synced" ] ||
    fail "n2 /readiness body: $(cat "$PM_TMP/body")"
hget n2 /metrics >/dev/null
grep -q '^podmesh_datastore_synced 0$' "$PM_TMP/body" || fail "n2: datastore_synced not 0"
ok "n2: liveness 200, readiness 503 'datastore not synced'"
# n1 read the datastore before: its watch is down now, counted
n1_watch_down() {
	hget n1 /metrics >/dev/null &&
	    grep -q '^podmesh_datastore_watch_connected 0$' "$PM_TMP/body" &&
	    grep -Eq '^podmesh_datastore_watch_disconnects_total [1-9]' "$PM_TMP/body"
}
wait_until 15 n1_watch_down ||
    fail "n1: watch not seen down: $(grep '^podmesh_datastore' "$PM_TMP/body")"
ok "n1: $(grep -E '^podmesh_datastore_(watch_connected|watch_disconnects_total|synced) ' "$PM_TMP/body" | tr '\n' ' ')"

step "at most 64 connections served at once"
# 65 keep-alive connections, one request each, all kept open: the 65th is
# answered 503 and closed; once the others close, a new one is served.
out=$(nsx n1 /usr/bin/python3 - <<'PY'
import socket
conns, codes = [], []
for i in range(65):
    s = socket.create_connection(("127.0.0.1", 9099), timeout=5)
    s.sendall(b"GET /liveness HTTP/1.1\r\nHost: t\r\n\r\n")
    codes.append(s.recv(4096).split(b" ")[1].decode())
    conns.append(s)
for s in conns:
    s.close()
print(" ".join(sorted(set(codes[:64]))), codes[64])
PY
) || fail "connection limit probe: $out"
[ "$out" = "200 503" ] || fail "connection limit: '$out' (want 200 for 64, then 503)"
wait_until 5 code_is n1 /liveness 200 || fail "n1 /liveness after the limit"
ok "64 connections served, the 65th got 503; then served again"

step "clean exits"
for n in n1 n9 n2; do
	podmesh_finish "$n"
done
! grep -E 'AddressSanitizer|LeakSanitizer|runtime error' "$PM_TMP"/extra*.log \
    "$PM_TMP/rr.log" ||
    fail "sanitizer report from the extra podmesh-bgpd"
