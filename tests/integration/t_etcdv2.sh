#!/bin/bash
# t_etcdv2.sh: the etcd v2 client (store/etcdv2.c) against a real etcd 3.4
# started with --enable-v2 on loopback, through
# tests/integration/etcdv2_drive.  Checked: set/get and a recursive listing
# of a Calico v2.6-shaped tree (flat, sorted, directories included, values
# crossing over to curl); compare-and-swap on prevIndex (a stale index is
# error 101) and create with prevExist=false (error 105 on an existing key);
# deletes (a non-empty directory needs recursive: 108); a watch that sees a
# change made after it started waiting, and one that times out; after more
# writes than the 1000 events etcd keeps, an old waitIndex is error 401 and
# etcdv2_sync re-lists and goes on, and a sync that sits through more
# writes elsewhere does not (its idle polls move on with X-Etcd-Index);
# failover past a dead first endpoint;
# basic auth; TLS with a CA and a client certificate (refused without it);
# an etcd without --enable-v2 named as such.
# ~15 s.
PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"

DRIVE=$PODMESH_BUILD/tests/etcdv2_drive
[ -x "$DRIVE" ] ||
    fail "$DRIVE missing (cmake --build ... --target etcdv2_drive)"
for c in etcd openssl curl ss; do
	command -v $c >/dev/null || fail "$c not installed"
done

pm_dump() {
	local f
	PM_DUMPED=1
	for f in "$PM_TMP"/*.log; do
		[ -f "$f" ] || continue
		echo "--- tail $f"
		tail -n 12 "$f"
	done >&2
}

# start_etcd NAME CLIENT-URL PEER-PORT [ARGS]: data in $PM_TMP/NAME.
start_etcd() {
	local name=$1 url=$2 peer=$3
	shift 3
	etcd --name "$name" --data-dir "$PM_TMP/$name" --enable-v2 \
	    --listen-client-urls "$url" --advertise-client-urls "$url" \
	    --listen-peer-urls "http://127.0.0.1:$peer" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
	    --initial-cluster "$name=http://127.0.0.1:$peer" \
	    --log-level warn "$@" >>"$PM_TMP/$name.log" 2>&1 &
	PM_PID["etcd:$name"]=$!
}

drive() {
	"$DRIVE" -e "$URL" "$@"
}

# expect NAME OUTPUT ERE: OUTPUT must match ERE.
expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got: $2"
	ok "$1"
}

# watchers: long polls etcd's v2 store is holding.
watchers() {
	curl -s "$URL/v2/stats/store" | sed -n 's/.*"watchers":\([0-9]*\).*/\1/p'
}

has_watcher() {
	[ "$(watchers)" -ge 1 ]
}

# index_of OUTPUT: the index=N of a drive line.
index_of() {
	sed -n 's/.* index=\([0-9]*\).*/\1/p' <<<"$1" | head -n 1
}

mod_of() {
	sed -n 's/.* mod=\([0-9]*\).*/\1/p' <<<"$1" | head -n 1
}

PORT=$(etcd_free_port)
PEER=$(etcd_free_port)
DEAD=$(etcd_free_port)
URL=http://127.0.0.1:$PORT
start_etcd plain "$URL" "$PEER"
wait_until 15 curl -sf "$URL/v2/keys/" ||
    fail "etcd did not come up on $URL with the v2 API"

# ---------------------------------------------------------------------------
step "a Calico v2.6 tree: set, get, recursive list"
POOL='{"cidr":"198.18.0.0/16","ipip":"tunl0","ipip_mode":"always","masquerade":true,"ipam":true,"disabled":false}'
drive set /calico/v1/Ready true >/dev/null || fail "set Ready"
drive set /calico/v1/host/node1/metadata '{}' >/dev/null || fail "set metadata"
out=$(drive set /calico/v1/host/node1/bird_ip 192.0.2.1 2>&1) ||
    fail "set bird_ip: $out"
expect "set answers with the node" "$out" \
    '^set /calico/v1/host/node1/bird_ip mod=[0-9]+ index=[0-9]+ prev=-$'
drive set /calico/v1/ipam/v4/pool/198.18.0.0-16 "$POOL" >/dev/null ||
    fail "set pool"
drive set /calico/bgp/v1/global/as_num 64512 >/dev/null || fail "set as_num"
drive set /calico/bgp/v1/global/node_mesh '{"enabled": true}' >/dev/null
drive set /calico/bgp/v1/global/peer_v4/192.0.2.100 \
    '{"ip":"192.0.2.100","as_num":"64513"}' >/dev/null
drive set /calico/bgp/v1/host/node1/ip_addr_v6 '' >/dev/null
drive mkdir /calico/bgp/v1/global/custom_filters/v4 >/dev/null ||
    fail "mkdir"
out=$(drive get /calico/v1/ipam/v4/pool/198.18.0.0-16 2>&1) || fail "get: $out"
expect "get a pool (JSON value intact)" "$out" \
    "^\\{\"cidr\":\"198.18.0.0/16\",.*\"disabled\":false\\} mod=[0-9]+ index=[0-9]+ via=$URL$"
expect "curl reads what we set" \
    "$(curl -s "$URL/v2/keys/calico/bgp/v1/global/as_num")" '"value":"64512"'
curl -s -XPUT "$URL/v2/keys/calico/v1/config/IpInIpEnabled" -d value=true \
    >/dev/null
expect "we read what curl set" \
    "$(drive get /calico/v1/config/IpInIpEnabled)" '^true mod='
expect "an empty value" "$(drive get /calico/bgp/v1/host/node1/ip_addr_v6)" \
    '^ mod=[0-9]+ '
expect "a missing key is not an error" "$(drive get /calico/v1/nope)" \
    '^\(none\) mod=0 index=[1-9][0-9]* '
out=$(drive list /calico 2>&1) || fail "list: $out"
log "listing:"$'\n'"$out"
want='/calico/bgp/
/calico/bgp/v1/
/calico/bgp/v1/global/
/calico/bgp/v1/global/as_num=64512
/calico/bgp/v1/global/custom_filters/
/calico/bgp/v1/global/custom_filters/v4/
/calico/bgp/v1/global/node_mesh={"enabled": true}
/calico/bgp/v1/global/peer_v4/
/calico/bgp/v1/global/peer_v4/192.0.2.100={"ip":"192.0.2.100","as_num":"64513"}
/calico/bgp/v1/host/
/calico/bgp/v1/host/node1/
/calico/bgp/v1/host/node1/ip_addr_v6=
/calico/v1/
/calico/v1/Ready=true
/calico/v1/config/
/calico/v1/config/IpInIpEnabled=true
/calico/v1/host/
/calico/v1/host/node1/
/calico/v1/host/node1/bird_ip=192.0.2.1
/calico/v1/host/node1/metadata={}
/calico/v1/ipam/
/calico/v1/ipam/v4/
/calico/v1/ipam/v4/pool/
/calico/v1/ipam/v4/pool/198.18.0.0-16='"$POOL"
got=$(grep -v '^n=' <<<"$out" | sed 's/ mod=[0-9]*$//')
[ "$got" = "$want" ] || fail "listing differs:"$'\n'"$(diff <(echo "$want") <(echo "$got"))"
ok "every key and directory, flat, sorted by key"
expect "with the index" "$out" "^n=24 found=1 index=[0-9]+$"
expect "a missing directory lists empty" "$(drive list /calico/v2)" \
    '^n=0 found=0 index=[0-9]+$'
expect "a plain key lists as itself" "$(drive list /calico/v1/Ready)" \
    '^/calico/v1/Ready=true mod=[0-9]+$'

# ---------------------------------------------------------------------------
step "compare-and-swap"
out=$(drive set /calico/bgp/v1/global/as_num 64512)
mod=$(mod_of "$out")
out=$(drive set /calico/bgp/v1/global/as_num 64600 prevIndex=$mod 2>&1) ||
    fail "CAS on the current index: $out"
expect "CAS with the current index" "$out" \
    "^compareAndSwap /calico/bgp/v1/global/as_num mod=[0-9]+ index=[0-9]+ prev=$mod$"
out=$(drive set /calico/bgp/v1/global/as_num 64700 prevIndex=$mod 2>&1) &&
    fail "CAS with a stale index succeeded: $out"
expect "a stale prevIndex is error 101, naming endpoint and key" "$out" \
    "^error: etcd $URL: set /calico/bgp/v1/global/as_num: error 101: Compare failed \\(\\[$mod != [0-9]+\\]\\)$"
expect "and nothing changed" "$(drive get /calico/bgp/v1/global/as_num)" \
    '^64600 '
out=$(drive set /calico/bgp/v1/global/as_num 1 prevValue=64600 2>&1) ||
    fail "CAS on the value: $out"
expect "CAS on the value" "$out" '^compareAndSwap '
out=$(drive set /calico/v1/Ready false prevExist=false 2>&1) &&
    fail "create over an existing key succeeded: $out"
expect "prevExist=false on an existing key is error 105" "$out" \
    "^error: etcd $URL: set /calico/v1/Ready: error 105: Key already exists$"
out=$(drive set /calico/v1/host/node2/metadata '{}' prevExist=false 2>&1) ||
    fail "create: $out"
expect "prevExist=false creates" "$out" '^create /calico/v1/host/node2/metadata '
out=$(drive set /calico/v1/host/node3/bird_ip x prevExist=true 2>&1) &&
    fail "update of a missing key succeeded: $out"
expect "prevExist=true on a missing key is error 100" "$out" \
    "^error: etcd $URL: set /calico/v1/host/node3/bird_ip: error 100: Key not found \\(/calico/v1/host/node3\\)$"

# ---------------------------------------------------------------------------
step "delete"
out=$(drive del /calico/v1/host/node2 2>&1) && fail "deleted a directory: $out"
expect "a directory is not a key (102)" "$out" 'error 102: Not a file$'
out=$(drive del /calico/v1/host/node2 dir 2>&1) &&
    fail "deleted a non-empty directory: $out"
expect "a non-empty directory needs recursive (108)" "$out" \
    'delete /calico/v1/host/node2: error 108: Directory not empty$'
expect "recursive delete" "$(drive del /calico/v1/host/node2 recursive)" \
    '^delete /calico/v1/host/node2 mod=[0-9]+ index=[0-9]+ prev=[0-9]+$'
expect "gone" "$(drive list /calico/v1/host/node2)" '^n=0 found=0 '
out=$(drive get /calico/bgp/v1/global/as_num)
out=$(drive del /calico/bgp/v1/global/as_num prevIndex=1 2>&1) &&
    fail "compare-and-delete with a stale index: $out"
expect "compare-and-delete, stale" "$out" 'error 101: Compare failed'
drive set /calico/x/gone 1 >/dev/null
expect "delete a key" "$(drive del /calico/x/gone)" '^delete /calico/x/gone mod='
out=$(drive del /calico/x/gone 2>&1) && fail "deleted twice: $out"
expect "deleting a missing key is error 100" "$out" \
    "^error: etcd $URL: delete /calico/x/gone: error 100: Key not found$"

# ---------------------------------------------------------------------------
step "watch"
"$DRIVE" -e "$URL" watch /calico 0 15000 >"$PM_TMP/watch1" 2>&1 &
wpid=$!
wait_until 5 has_watcher || fail "the watch never reached etcd"
drive set /calico/v1/host/node1/bird_ip 192.0.2.11 >/dev/null
wait $wpid || fail "watch: $(cat "$PM_TMP/watch1")"
expect "a change made after the wait started" "$(cat "$PM_TMP/watch1")" \
    '^set /calico/v1/host/node1/bird_ip=192.0.2.11 mod=[0-9]+$'
out=$(drive get /calico/v1/Ready)
mod=$(mod_of "$out")
expect "an old waitIndex answers at once from history" \
    "$(drive watch /calico/v1 "$mod")" "^set /calico/v1/Ready=true mod=$mod$"
out=$(drive watch /calico/elsewhere 0 300)
expect "nothing happens: timeout" "$out" '^\(timeout\)$'

# ---------------------------------------------------------------------------
step "index cleared: re-list and go on"
out=$(drive get /calico/v1/Ready)
old=$(($(index_of "$out") + 1))
out=$(drive fill /calico/felix/churn 1100 2>&1) || fail "fill: $out"
log "1100 writes, now at $out"
out=$(drive watch /calico "$old" 2>&1) && fail "watch from $old: $out"
expect "a waitIndex older than etcd's 1000 events is error 401" "$out" \
    "^error: etcd $URL: watch /calico: error 401: The event in requested index is outdated and cleared \\(the requested history has been cleared \\[[0-9]+/$old\\]\\)$"
"$DRIVE" -e "$URL" sync /calico "$old" 2 >"$PM_TMP/sync" 2>&1 &
spid=$!
wait_until 5 grep -q '^LIST' "$PM_TMP/sync" ||
    fail "no listing: $(cat "$PM_TMP/sync")"
wait_until 5 has_watcher || fail "sync is not watching"
drive set /calico/v1/host/node1/bird_ip 192.0.2.12 >/dev/null
drive del /calico/v1/host/node1/metadata >/dev/null
wait $spid || fail "sync: $(cat "$PM_TMP/sync")"
out=$(cat "$PM_TMP/sync")
log "sync:"$'\n'"$out"
expect "sync re-listed after 401" "$out" '^LIST relist=1 n=[0-9]+ next=[0-9]+$'
expect "then saw the set" "$out" \
    '^EVENT set /calico/v1/host/node1/bird_ip=192.0.2.12 next='
expect "and the delete" "$out" \
    '^EVENT delete /calico/v1/host/node1/metadata= next='
[ "$(grep -c '^LIST' <<<"$out")" -eq 1 ] || fail "listed more than once"
# the copy etcdv2_sync kept equals a fresh listing
fresh=$(drive list /calico | grep -v '^n=' | grep -v '/ mod=' | sed 's/^/  /')
kept=$(sed -n '/^FINAL/,$p' <<<"$out" | grep -v '^FINAL')
[ "$fresh" = "$kept" ] ||
    fail "sync's copy differs:"$'\n'"$(diff <(echo "$fresh") <(echo "$kept"))"
ok "the copy kept by sync equals a fresh listing"

# ---------------------------------------------------------------------------
step "idle polls move on with etcd's index"
# 1200 writes outside /calico while a sync of /calico polls every 300 ms:
# each idle poll goes on from the index etcd had when it took it, so the
# next change under /calico is found without a 401 and a re-list
"$DRIVE" -e "$URL" sync /calico 0 1 300 >"$PM_TMP/sync2" 2>&1 &
spid=$!
wait_until 5 grep -q '^IDLE' "$PM_TMP/sync2" ||
    fail "no idle poll: $(cat "$PM_TMP/sync2")"
first=$(sed -n 's/^IDLE next=//p' "$PM_TMP/sync2" | head -n 1)
out=$(drive fill /elsewhere/churn 1200 2>&1) || fail "fill: $out"
log "1200 writes elsewhere, now at $out"
# two more polls after them: from an index etcd has dropped, they would 401
idle_after() {
	[ "$(grep -c '^IDLE' "$PM_TMP/sync2")" -ge "$1" ]
}
wait_until 5 idle_after $(($(grep -c '^IDLE' "$PM_TMP/sync2") + 2)) ||
    fail "no idle polls: $(cat "$PM_TMP/sync2")"
drive set /calico/v1/host/node1/bird_ip 192.0.2.13 >/dev/null
wait $spid || fail "sync: $(cat "$PM_TMP/sync2")"
out=$(cat "$PM_TMP/sync2")
last=$(sed -n 's/^IDLE next=//p' <<<"$out" | tail -n 1)
log "$(grep -c '^IDLE' <<<"$out") idle polls, next from $first to $last"
# without that, the waitIndex would still be $first, 1200 writes ago
[ "$last" -gt "$first" ] || fail "idle polls stayed at $first"
ok "idle polls followed etcd's index"
[ "$(grep -c '^LIST' <<<"$out")" -eq 1 ] || fail "re-listed: $out"
expect "no re-list, and the change is seen" "$out" \
    '^EVENT set /calico/v1/host/node1/bird_ip=192.0.2.13 next='

# ---------------------------------------------------------------------------
step "failover"
out=$("$DRIVE" -e "http://127.0.0.1:$DEAD,$URL" get /calico/v1/Ready 2>&1)
expect "first endpoint dead, the second answers" "$out" "^true .* via=$URL$"
out=$("$DRIVE" -e "127.0.0.1:$DEAD $URL" set /calico/v1/f 1 prevExist=false 2>&1)
expect "a create through the second" "$out" '^create /calico/v1/f '
out=$("$DRIVE" -e "127.0.0.1:$DEAD,$URL" watch /calico/v1 "$(mod_of "$out")" 2>&1)
expect "a watch through the second" "$out" '^create /calico/v1/f=1 '
D2=$(etcd_free_port)
out=$("$DRIVE" -e "127.0.0.1:$DEAD,127.0.0.1:$D2" get /calico/v1/Ready 2>&1) &&
    fail "no endpoint, yet: $out"
expect "none answers: each named" "$out" \
    "^error: etcd: get /calico/v1/Ready: no endpoint answered: http://127.0.0.1:$DEAD: .*; http://127.0.0.1:$D2: .*(onnect|refused)"

# ---------------------------------------------------------------------------
step "basic auth"
curl -sf -XPUT "$URL/v2/auth/users/root" \
    -d '{"user":"root","password":"rootpw"}' >/dev/null || fail "add root"
curl -sf -XPUT "$URL/v2/auth/enable" >/dev/null || fail "enable auth"
curl -sf -u root:rootpw -XPUT "$URL/v2/auth/roles/guest" \
    -d '{"role":"guest","revoke":{"kv":{"read":["/*"],"write":["/*"]}}}' \
    >/dev/null || fail "revoke guest"
out=$(drive get /calico/v1/Ready 2>&1) && fail "no credentials, yet: $out"
expect "refused without credentials (110)" "$out" \
    "^error: etcd $URL: get /calico/v1/Ready: error 110: The request requires user authentication \\(Insufficient credentials\\)$"
out=$(drive -u root -p wrong get /calico/v1/Ready 2>&1) &&
    fail "a wrong password, yet: $out"
expect "refused with a wrong password" "$out" 'error 110: '
expect "read with the password" "$(drive -u root -p rootpw get /calico/v1/Ready)" \
    '^true '
expect "write with the password" \
    "$(drive -u root -p rootpw set /calico/v1/a 1)" '^set /calico/v1/a '
curl -sf -u root:rootpw -XDELETE "$URL/v2/auth/enable" >/dev/null

# ---------------------------------------------------------------------------
step "an etcd without the v2 API"
NPORT=$(etcd_free_port)
NPEER=$(etcd_free_port)
NURL=http://127.0.0.1:$NPORT
start_etcd nov2 "$NURL" "$NPEER" --enable-v2=false
wait_until 15 curl -sf "$NURL/health" || fail "etcd (no v2) did not come up"
out=$("$DRIVE" -e "$NURL" list /calico 2>&1) && fail "no v2 API, yet: $out"
expect "404, with a hint" "$out" \
    "^error: etcd $NURL: list /calico: HTTP 404: 404 page not found \\(no v2 API\\? etcd 3.4 needs --enable-v2\\)$"

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
wait_until 15 tdrive get /x || fail "TLS etcd did not come up: $(tdrive get /x 2>&1)"
expect "a set over TLS" "$(tdrive set /calico/v1/Ready true)" '^set /calico/v1/Ready '
expect "a list over TLS" "$(tdrive list /calico)" '^n=2 found=1 '
out=$("$DRIVE" -e "$TURL" -C "$TLS/ca.pem" get /calico/v1/Ready 2>&1) &&
    fail "no client certificate, yet: $out"
expect "refused without the client certificate" "$out" \
    "^error: etcd $TURL: get /calico/v1/Ready: "
out=$("$DRIVE" -e "$TURL" -C "$TLS/nope.pem" get /x 2>&1)
expect "a missing CA file is named" "$out" \
    "^error: etcd: CA file $TLS/nope.pem: No such file"
