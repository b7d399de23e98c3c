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
# logging in again when the token lapses, blocking and in a watch.
# Against tests/integration/etcd_fake.py (fakes and proxies): a 404 in JSON
# is etcd's answer, not a sign of etcd 3.3 (whose /v3beta is found when /v3
# is a bare 404); a watch stuck at a revision it cannot parse gives up after
# 5 tries, and one whose streams are cut at once backs off; a 12 MiB event
# line in small pieces; a lease kept, and a watch moved on, when the first endpoint freezes
# (a relay that stops answering: watch requests ask for "hasleader", and a
# watchdog sees the silence); a member of three that loses its leader ends
# the watch; a request failing with an old token does not throw away the
# new one.  ~60 s.
PM_TIMEOUT=150
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
	    --experimental-watch-progress-notify-interval 500ms \
	    --log-level warn "$@" >>"$PM_TMP/$name.log" 2>&1 &
	PM_PID["etcd:$name"]=$!
}

# listening PORT: something accepts connections on loopback PORT.
# shellcheck disable=SC2317 # called through wait_until
listening() {
	ss -ltnH "sport = :$1" | grep -q .
}

# start_fake MODE PORT [ARGS]: etcd_fake.py; its lines in fake-MODE.out.
start_fake() {
	local mode=$1 port=$2
	shift 2
	python3 "$(dirname "$0")/etcd_fake.py" "$mode" "$port" "$@" \
	    >"$PM_TMP/fake-$mode.out" 2>"$PM_TMP/fake-$mode.log" &
	PM_PID["fake:$mode"]=$!
	wait_until 5 listening "$port" || fail "etcd_fake $mode did not start"
}

# fake_count MODE WHAT: the fake's count of WHAT requests so far.
fake_count() {
	tail -n 1 "$PM_TMP/fake-$1.out" | tr ' ' '\n' |
	    sed -n "s/^$2=//p" | grep . || echo 0
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

PORT=$(etcd_free_port)
PEER=$(etcd_free_port)
DEAD=$(etcd_free_port)
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
D2=$(etcd_free_port)
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
step "a 404 from etcd is an answer"
drive put /beta/k v >/dev/null
# etcd 3.5's gateway has no /v3beta; revoking a lease etcd does not have is
# gRPC NotFound, which the gateway sends as a 404 with etcd's error
P35=$(etcd_free_port)
start_fake v35 "$P35" "$URL"
out=$("$DRIVE" -e "127.0.0.1:$P35" revoke 12345 /beta/k 2>&1) || fail "$out"
expect "etcd's error for the revoke" "$out" \
    "^revoke: etcd http://127.0.0.1:$P35: etcdserver: requested lease not found$"
expect "and the next request still goes to /v3" "$out" '^v mod=[0-9]+ '
P33=$(etcd_free_port)
start_fake v33 "$P33" "$URL"
out=$("$DRIVE" -e "127.0.0.1:$P33" revoke 12345 /beta/k 2>&1) || fail "$out"
expect "etcd 3.3: /v3beta found on a bare 404" "$out" \
    "^revoke: etcd http://127.0.0.1:$P33: etcdserver: requested lease not found$"
expect "and kept" "$out" '^v mod=[0-9]+ '
out=$("$DRIVE" -a -e "127.0.0.1:$P33" list /beta/ 2>&1)
expect "async too" "$out" '^n=1 count=1 '

# ---------------------------------------------------------------------------
step "a watch stuck at one revision"
PP=$(etcd_free_port)
start_fake poison "$PP"
out=$("$DRIVE" -e "127.0.0.1:$PP" watch /a/ 5 1 8 2>&1)
log "$(grep -c '^DISCONNECTED' <<<"$out") disconnects, $(fake_count poison watch) watch requests"
expect "gives up after 5 tries, naming the revision" "$out" \
    "^CANCELED etcd http://127.0.0.1:$PP: unexpected watch answer from etcd \\(stuck at revision 5: 5 tries\\)$"
[ "$(fake_count poison watch)" -eq 5 ] ||
    fail "$(fake_count poison watch) watch requests, wanted 5"
ok "in 5 requests"
PF=$(etcd_free_port)
start_fake flap "$PF"
"$DRIVE" -e "127.0.0.1:$PF" watch /a/ 5 1 4 >"$PM_TMP/watch-flap" 2>&1
n=$(fake_count flap watch)
log "streams cut once created: $n watch requests in 4 s"
if [ "$n" -lt 4 ] || [ "$n" -gt 8 ]; then
	fail "$n watch requests in 4 s, wanted 4 to 8"
fi
ok "the backoff grows though every stream was created"

# ---------------------------------------------------------------------------
step "a 12 MiB event line in 1 KiB pieces"
# 16 MiB of JSON in 16384 pieces: well under a second, where searching
# the line from its start for each piece took 6 s and more
PB=$(etcd_free_port)
start_fake bigline "$PB" 12 1
out=$("$DRIVE" -e "127.0.0.1:$PB" watch /a 0 1 60 2>&1) || fail "$out"
expect "arrives whole" "$out" '^PUT /a=<12582912 bytes> mod=5$'
cpu=$(sed -n 's/^END got=1 cpu=//p' <<<"$out")
[ "${cpu%.*}" -lt 3 ] || fail "$cpu s of CPU for one line"
ok "in $cpu s of CPU"

# ---------------------------------------------------------------------------
step "the first endpoint freezes"
FROZEN=$PM_TMP/frozen
TP=$(etcd_free_port)
start_fake tcp "$TP" "127.0.0.1:$PORT" "$FROZEN"
RELAY=http://127.0.0.1:$TP
out=$("$DRIVE" -e "$RELAY,$URL" leasekeep 3 7 "$FROZEN" 1500 2>&1) ||
    fail "lease: $out"
expect "a lease granted through the relay" "$out" "^granted [0-9]+ ttl=3 via=$RELAY$"
id=$(sed -n 's/^granted \([0-9]*\) .*/\1/p' <<<"$out")
expect "kept through the second endpoint" "$out" "^KEPT via=$URL$"
expect "its key is still there" "$(drive get /lease/kept)" "^v .* lease=$id "
rm -f "$FROZEN"
"$DRIVE" -e "$RELAY,$URL" -w 1500 watch /wd/ 0 2 20 >"$PM_TMP/watch-wd" 2>&1 &
wpid=$!
wait_until 5 grep -q '^CREATED' "$PM_TMP/watch-wd" || fail "watch not created"
drive put /wd/a 1 >/dev/null
wait_until 5 grep -q '^PUT /wd/a=1' "$PM_TMP/watch-wd" || fail "no event"
sleep 1.5 # progress notifications every 500 ms keep it up
touch "$FROZEN"
drive put /wd/b 2 >/dev/null
wait $wpid || fail "watch: $(cat "$PM_TMP/watch-wd")"
out=$(cat "$PM_TMP/watch-wd")
expect "watches ask for a member with a leader" "$(cat "$PM_TMP/fake-tcp.out")" \
    '^HEAD POST /v3/watch grpc-metadata-hasleader=true$'
expect "progress notifications came" "$out" '^PROGRESS rev='
[ "$(grep -c '^DISCONNECTED' <<<"$out")" -eq 1 ] || fail "$out"
expect "the silence is noticed" "$out" \
    "^DISCONNECTED etcd $RELAY: no message on the watch for 1500 ms$"
expect "and the watch goes on at the next endpoint" "$out" '^PUT /wd/b=2 '

# ---------------------------------------------------------------------------
step "a member that loses its leader ends its watches"
declare -A CPORT PPORT
cluster=
for n in 1 2 3; do
	CPORT[$n]=$(etcd_free_port)
	PPORT[$n]=$(etcd_free_port)
	cluster="$cluster${cluster:+,}m$n=http://127.0.0.1:${PPORT[$n]}"
done
start_member() {
	local n=$1
	etcd --name "m$n" --data-dir "$PM_TMP/m$n" \
	    --listen-client-urls "http://127.0.0.1:${CPORT[$n]}" \
	    --advertise-client-urls "http://127.0.0.1:${CPORT[$n]}" \
	    --listen-peer-urls "http://127.0.0.1:${PPORT[$n]}" \
	    --initial-advertise-peer-urls "http://127.0.0.1:${PPORT[$n]}" \
	    --initial-cluster "$cluster" --heartbeat-interval 50 \
	    --election-timeout 500 --log-level warn >>"$PM_TMP/m$n.log" 2>&1 &
	PM_PID["etcd:m$n"]=$!
}
for n in 1 2 3; do
	start_member $n
done
M1=http://127.0.0.1:${CPORT[1]}
wait_until 20 "$DRIVE" -e "$M1" put /nl/up 1 || fail "the cluster did not come up"
"$DRIVE" -e "$M1" watch /nl/ 0 1 30 >"$PM_TMP/watch-nl" 2>&1 &
wpid=$!
wait_until 5 grep -q '^CREATED' "$PM_TMP/watch-nl" || fail "watch not created"
kill_etcd m2
kill_etcd m3
wait_until 10 grep -q '^DISCONNECTED' "$PM_TMP/watch-nl" ||
    fail "the watch stayed on a member without a leader: $(cat "$PM_TMP/watch-nl")"
expect "ended with no leader" "$(cat "$PM_TMP/watch-nl")" \
    "^DISCONNECTED etcd $M1: etcdserver: no leader$"
start_member 2
wait_until 20 "$DRIVE" -e "$M1" put /nl/x back || fail "no leader again"
wait $wpid || fail "watch: $(cat "$PM_TMP/watch-nl")"
expect "and resumes once there is one" "$(cat "$PM_TMP/watch-nl")" '^PUT /nl/x=back '
kill_etcd m1
kill_etcd m2

# ---------------------------------------------------------------------------
step "a failure with an old token keeps the new one"
PA=$(etcd_free_port)
start_fake auth "$PA"
out=$("$DRIVE" -e "127.0.0.1:$PA" -u u -p p authrace 2>&1) || fail "$out"
expect "both answered" "$out" '^got /slow$'
expect "one login for the stale token, not two" "$out" '^logins=2$'

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
TPORT=$(etcd_free_port)
TPEER=$(etcd_free_port)
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
