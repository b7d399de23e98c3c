#!/bin/bash
# t_etcd.sh: the etcd v3 client (store/etcd_*.c) against a real etcd 3.4 on
# loopback, through tests/integration/etcd_drive.  Checked: CRUD (blocking
# and async, binary keys, every compare target) and values crossing over
# to etcdctl; two writers doing compare-and-swap increments on one counter
# (every increment lands); a 2500-key listing in pages of 1000 (three
# range requests, one revision, even while another writer adds keys);
# leases kept alive past their TTL and lost on revoke; failover past a dead
# first endpoint; compaction (a read below it fails with the etcd error, a
# watch from below it reports it, re-lists and goes on); a watch that
# survives an etcd restart and gets what was written while it was away
# from revision+1, nothing twice; TLS with a CA and a client certificate
# (refused without it, or with the wrong CA); username/password auth, and
# logging in again when the token lapses, blocking and in a watch.  ~25 s.
PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

DRIVE=$PODMESH_BUILD/tests/etcd_drive
[ -x "$DRIVE" ] || fail "$DRIVE missing (cmake --build ... --target etcd_drive)"
for c in etcd etcdctl openssl curl ss; do
	command -v $c >/dev/null || fail "$c not installed"
done

# The cleanup trap kills what PM_PID lists; a failure shows etcd's logs.
pm_dump() {
	local f
	PM_DUMPED=1
	for f in "$PM_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "--- tail $f"
		tail -n 12 "$f"
	done >&2
}

# free_port: a loopback TCP port nobody listens on.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 20000))
		ss -ltnH "sport = :$p" | grep -q . || { echo $p; return; }
	done
}

# start_etcd NAME CLIENT-URL PEER-PORT [ARGS]: data kept in $PM_TMP/NAME
# across restarts.
start_etcd() {
	local name=$1 url=$2 peer=$3
	shift 3
	etcd --name "$name" --data-dir "$PM_TMP/$name" \
	    --listen-client-urls "$url" --advertise-client-urls "$url" \
	    --listen-peer-urls "http://127.0.0.1:$peer" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
	    --initial-cluster "$name=http://127.0.0.1:$peer" \
	    --log-level warn "$@" >>"$PM_TMP/$name.log" 2>&1 &
	PM_PID["etcd:$name"]=$!
}

# kill_etcd NAME: SIGKILL, as a crash would.
kill_etcd() {
	local pid=${PM_PID["etcd:$1"]}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PM_PID[etcd:$1]"
}

drive() {
	"$DRIVE" -e "$URL" "$@"
}

ctl() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

# expect NAME OUTPUT ERE: OUTPUT must match ERE.
expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got: $2"
	ok "$1"
}

# count_in FILE ERE: lines of FILE matching ERE.
count_in() {
	grep -Ec -- "$2" "$1" || true
}

# rpc_calls METHOD: METHOD RPCs this etcd has answered OK (its metric).
rpc_calls() {
	curl -s "$URL/metrics" | awk -v m="grpc_method=\"$1\"" \
	    '/^grpc_server_handled_total\{grpc_code="OK",/ && index($0, m) {print $2}'
}

range_calls() {
	rpc_calls Range
}

auth_calls() {
	rpc_calls Authenticate
}

PORT=$(free_port)
PEER=$(free_port)
DEAD=$(free_port)
URL=http://127.0.0.1:$PORT
start_etcd plain "$URL" "$PEER"
wait_until 15 drive rev || fail "etcd did not come up on $URL"

# ---------------------------------------------------------------------------
step "CRUD"
out=$(drive crud 2>&1) || fail "crud: $out"
expect "crud, blocking and async" "$out" '^ok$'
expect "etcd's error names the endpoint" "$out" \
    "^future: etcd $URL: etcdserver: mvcc: required revision is a future revision$"
drive put /x/from-drive 'v 1' >/dev/null || fail "put"
expect "etcdctl reads our put" "$(ctl get /x/from-drive --print-value-only)" '^v 1$'
ctl put /x/from-ctl v2 >/dev/null
expect "we read etcdctl's put" "$(drive get /x/from-ctl)" "^v2 mod=[0-9]+ ver=1 lease=0 via=$URL$"
expect "prefix delete" "$(drive del /x/ prefix)" '^deleted=2$'
expect "deleted" "$(drive get /x/from-ctl)" '^\(none\)'

# ---------------------------------------------------------------------------
step "txn: two writers, compare-and-swap increments"
drive incr /t/counter 150 >"$PM_TMP/incr1" 2>&1 &
w1=$!
drive incr /t/counter 150 >"$PM_TMP/incr2" 2>&1 &
w2=$!
wait $w1 || fail "writer 1: $(cat "$PM_TMP/incr1")"
wait $w2 || fail "writer 2: $(cat "$PM_TMP/incr2")"
expect "every increment landed" "$(drive get /t/counter)" '^300 mod=[0-9]+ ver=300 '
log "conflicts retried: $(cat "$PM_TMP/incr1") / $(cat "$PM_TMP/incr2")"

# ---------------------------------------------------------------------------
step "paged listing"
drive fill /page/ 2500 || fail "fill"
before=$(range_calls)
out=$(drive list /page/ 1000 2>&1) || fail "list: $out"
after=$(range_calls)
expect "2500 keys at one revision" "$out" '^n=2500 count=2500 rev=[0-9]+$'
[ $((after - before)) -eq 3 ] ||
    fail "list took $((after - before)) range requests, wanted 3"
ok "in 3 pages"
out=$(drive -a list /page/ 1000 2>&1) || fail "async list: $out"
expect "async listing" "$out" '^n=2500 count=2500 '
# another writer adds keys under the prefix meanwhile: the listing stays
# the set at its first page's revision (etcd_drive checks mod <= rev and
# kvs == count)
drive fill /page/x 800 &
w1=$!
for i in 1 2 3; do
	out=$(drive list /page/ 700 2>&1) || fail "list during writes: $out"
	log "during writes: $out"
done
wait $w1 || fail "concurrent fill"
expect "all of them after" "$(drive list /page/ 1000)" '^n=3300 count=3300 '
drive del /page/ prefix >/dev/null

# ---------------------------------------------------------------------------
step "leases"
out=$(drive lease 2>&1) || fail "lease: $out"
expect "kept past the TTL, lost on revoke" "$out" '^ok$'
expect "loss reported" "$out" '^LOST etcd .*: lease [0-9]+ expired or was revoked$'

# ---------------------------------------------------------------------------
step "failover"
drive put /f/k here >/dev/null
out=$("$DRIVE" -e "http://127.0.0.1:$DEAD,$URL" get /f/k 2>&1)
expect "first endpoint dead, second answers" "$out" "^here .* via=$URL$"
out=$("$DRIVE" -a -e "127.0.0.1:$DEAD $URL" list /f/ 2>&1)
expect "async too" "$out" '^n=1 count=1 '
out=$("$DRIVE" -e "http://127.0.0.1:$DEAD,$URL" crud 2>&1)
expect "crud through the second" "$out" '^ok$'
D2=$(free_port)
out=$("$DRIVE" -e "127.0.0.1:$DEAD,127.0.0.1:$D2" get /f/k 2>&1)
expect "none answers: each named" "$out" \
    "^error: etcd: no endpoint answered: http://127.0.0.1:$DEAD: .*; http://127.0.0.1:$D2: .*(onnect|refused)"

# ---------------------------------------------------------------------------
step "compaction"
old=$(drive rev)
drive put /c/1 a >/dev/null
drive put /c/2 b >/dev/null
drive put /c/1 c >/dev/null
now=$(drive rev)
drive compact "$now" || fail "compact"
out=$(drive get /c/1 "$old" 2>&1) && fail "read below the compaction: $out"
expect "read below it fails" "$out" \
    "^error: etcd $URL: etcdserver: mvcc: required revision has been compacted$"
drive watch /c/ "$old" 1 >"$PM_TMP/watch-c" 2>&1 &
wpid=$!
wait_until 10 grep -q '^RELIST' "$PM_TMP/watch-c" || fail "no re-list: $(cat "$PM_TMP/watch-c")"
drive put /c/3 new >/dev/null
wait $wpid || fail "compacted watch: $(cat "$PM_TMP/watch-c")"
out=$(cat "$PM_TMP/watch-c")
expect "watch reports the compaction" "$out" "^COMPACTED compact=$now etcd $URL: watch revision compacted"
expect "re-list at the latest revision" "$out" "^RELIST n=2 rev=$now$"
expect "watch goes on from there" "$out" "^CREATED rev=$now next=$((now + 1))$"
expect "and sees the next put" "$out" '^PUT /c/3=new '

# ---------------------------------------------------------------------------
step "watch across an etcd restart"
# the driver itself in the background, not a shell around it: it gets stopped
"$DRIVE" -e "$URL" watch /w/ 0 4 >"$PM_TMP/watch-w" 2>&1 &
wpid=$!
wait_until 5 grep -q '^CREATED' "$PM_TMP/watch-w" || fail "watch not created"
drive put /w/a 1 >/dev/null
drive put /w/b 2 >/dev/null
wait_until 5 grep -q '^PUT /w/b=2' "$PM_TMP/watch-w" || fail "events before the restart"
# Freeze the watcher so it cannot reconnect before the writes below: it
# must find them in etcd's history, from the revision after its last event.
kill -STOP $wpid
kill_etcd plain
start_etcd plain "$URL" "$PEER"
wait_until 15 drive rev || fail "etcd did not come back"
drive put /w/c 3 >/dev/null
drive put /w/b 4 >/dev/null
last=$(drive rev)
kill -CONT $wpid
wait $wpid || fail "watch: $(cat "$PM_TMP/watch-w")"
out=$(cat "$PM_TMP/watch-w")
log "watcher saw: $(tr '\n' '|' <<<"$out")"
expect "the break was noticed" "$out" '^DISCONNECTED etcd .*: watch stream ended'
expect "re-created after the writes, resuming before them" "$out" \
    "^CREATED rev=$last next=$((last - 1))$"
[ "$(grep '^PUT' <<<"$out" | sed 's/ mod=.*//' | tr '\n' ' ')" = \
    "PUT /w/a=1 PUT /w/b=2 PUT /w/c=3 PUT /w/b=4 " ] ||
    fail "events, in order, once each: $out"
ok "all four events, in order, once each"

# ---------------------------------------------------------------------------
step "TLS with a client certificate"
TLS=$PM_TMP/tls
mkdir -p "$TLS"
(
	cd "$TLS" || exit 1
	ec="-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
	# shellcheck disable=SC2086
	openssl req -x509 $ec -keyout ca-key.pem -out ca.pem -days 1 \
	    -subj /CN=podmesh-test-ca &&
	    openssl req -x509 $ec -keyout other-ca-key.pem -out other-ca.pem \
	    -days 1 -subj /CN=someone-else &&
	    openssl req $ec -keyout server-key.pem -out server.csr \
	    -subj /CN=127.0.0.1 &&
	    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem \
	    -CAcreateserial -out server.pem -days 1 -extfile <(printf '%s\n' \
	    'subjectAltName=IP:127.0.0.1' \
	    'extendedKeyUsage=serverAuth,clientAuth') &&
	    openssl req $ec -keyout client-key.pem -out client.csr \
	    -subj /CN=podmesh &&
	    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem \
	    -CAcreateserial -out client.pem -days 1 \
	    -extfile <(echo 'extendedKeyUsage=clientAuth')
) >"$PM_TMP/openssl.log" 2>&1 || fail "openssl: $(tail -5 "$PM_TMP/openssl.log")"
TPORT=$(free_port)
TPEER=$(free_port)
TURL=https://127.0.0.1:$TPORT
start_etcd tls "$TURL" "$TPEER" --cert-file "$TLS/server.pem" \
    --key-file "$TLS/server-key.pem" --client-cert-auth \
    --trusted-ca-file "$TLS/ca.pem"
tdrive() {
	"$DRIVE" -e "$TURL" -C "$TLS/ca.pem" -c "$TLS/client.pem" \
	    -k "$TLS/client-key.pem" "$@"
}
wait_until 15 tdrive rev || fail "TLS etcd did not come up: $(tdrive rev 2>&1)"
out=$(tdrive crud 2>&1)
expect "CRUD over TLS" "$out" '^ok$'
tdrive put /tls/k secret >/dev/null
expect "a put over TLS" "$(tdrive get /tls/k)" "^secret .* via=$TURL$"
out=$("$DRIVE" -e "$TURL" -C "$TLS/ca.pem" get /tls/k 2>&1) &&
    fail "no client certificate, yet: $out"
expect "refused without the client certificate" "$out" \
    "^error: etcd $TURL: .*(certificate required|alert|handshake)"
log "  $out"
out=$("$DRIVE" -e "$TURL" -C "$TLS/other-ca.pem" -c "$TLS/client.pem" \
    -k "$TLS/client-key.pem" get /tls/k 2>&1) && fail "wrong CA, yet: $out"
expect "refused with the wrong CA" "$out" \
    "^error: etcd $TURL: .*(certificate|issuer)"
log "  $out"
out=$("$DRIVE" -e "$TURL" -C "$TLS/nope.pem" get /tls/k 2>&1)
expect "a missing CA file is named" "$out" "^error: etcd: CA file $TLS/nope.pem: No such file"
tdrive watch /tls/w 0 1 >"$PM_TMP/watch-tls" 2>&1 &
wpid=$!
wait_until 5 grep -q '^CREATED' "$PM_TMP/watch-tls" || fail "TLS watch not created"
tdrive put /tls/w x >/dev/null
wait $wpid || fail "TLS watch: $(cat "$PM_TMP/watch-tls")"
ok "a watch over TLS"
kill_etcd tls

# ---------------------------------------------------------------------------
step "username and password"
out=$("$DRIVE" -e "$URL" -u root -p rootpw get /t/counter 2>&1)
expect "a username while auth is off" "$out" '^300 '
ctl user add root:rootpw >/dev/null || fail "user add"
ctl user grant-role root root >/dev/null || fail "grant-role"
ctl auth enable >/dev/null 2>&1 || fail "auth enable"
out=$(drive get /t/counter 2>&1) && fail "no user, yet: $out"
expect "no user: refused" "$out" "^error: etcd $URL: etcdserver: user name is empty$"
out=$("$DRIVE" -e "$URL" -u root -p wrong get /t/counter 2>&1) &&
    fail "wrong password, yet: $out"
expect "wrong password: refused" "$out" \
    "^error: etcd $URL: etcdserver: authentication failed, invalid user ID or password$"
adrive() {
	"$DRIVE" -e "$URL" -u root -p rootpw "$@"
}
expect "with the password" "$(adrive get /t/counter)" '^300 '
out=$(adrive crud 2>&1)
expect "CRUD with a token, async included" "$out" '^ok$'
# Simple tokens lapse (--auth-token-ttl) and a long-lived client must log
# in again: a client holding a token across a restart with a 1 s TTL finds
# it invalid.  etcd's Authenticate counter shows each login.
rm -f "$PM_TMP/go"
"$DRIVE" -e "$URL" -u root -p rootpw get2 /t/counter "$PM_TMP/go" \
    >"$PM_TMP/get2" 2>&1 &
gpid=$!
"$DRIVE" -e "$URL" -u root -p rootpw watch /a/ 0 1 >"$PM_TMP/watch-a" 2>&1 &
wpid=$!
wait_until 5 grep -q '^CREATED' "$PM_TMP/watch-a" || fail "auth watch not created"
wait_until 5 grep -q '^300' "$PM_TMP/get2" || fail "first get"
kill -STOP $wpid
kill_etcd plain
start_etcd plain "$URL" "$PEER" --auth-token-ttl 1
wait_until 15 adrive rev || fail "etcd did not come back"
sleep 2.5 # the tokens replayed from etcd's log lapse
a0=$(auth_calls)
touch "$PM_TMP/go"
wait $gpid || fail "get after the restart: $(cat "$PM_TMP/get2")"
[ "$(count_in "$PM_TMP/get2" '^300 ')" -eq 2 ] ||
    fail "get after the restart: $(cat "$PM_TMP/get2")"
a1=$(auth_calls)
[ $((a1 - a0)) -eq 1 ] || fail "blocking client logged in $((a1 - a0)) times, wanted 1"
ok "blocking client: token lapsed, logged in again"
kill -CONT $wpid
# shellcheck disable=SC2317 # called through wait_until
recreated() {
	[ "$(count_in "$PM_TMP/watch-a" '^CREATED')" -ge 2 ]
}
wait_until 10 recreated ||
    fail "watch not re-created: $(cat "$PM_TMP/watch-a")"
a2=$(auth_calls)
[ $((a2 - a1)) -eq 1 ] || fail "watch logged in $((a2 - a1)) times, wanted 1"
adrive put /a/after restart >/dev/null
wait $wpid || fail "auth watch: $(cat "$PM_TMP/watch-a")"
out=$(cat "$PM_TMP/watch-a")
expect "watch: token lapsed" "$out" '^DISCONNECTED etcd .*: watch canceled: .*invalid auth token$'
expect "watch: logged in again, goes on" "$out" '^PUT /a/after=restart '
exit 0
