#!/bin/bash
# t_confd_etcdv2.sh: podmesh-confd's raw etcd v2 backend (confd/backend_v2.c)
# against a real etcd 3.4 started with --enable-v2 on loopback, through
# tests/integration/confd_kv_drive (the backend on an event loop, printing
# its whole key tree at each change).  Keys are written with curl on
# /v2/keys.  Checked, each as the exact tree the backend holds: the
# initial listing (leaf keys only, values as stored, nothing from outside
# the prefix); set, update, create, compareAndSwap; delete and
# compareAndDelete; a recursive directory delete (its siblings node1-b and
# node1.dc, sorting between node1 and node1/..., kept); a TTL expiring; no
# change reported for a write outside the prefix or one that rewrites the
# same value; a watch paused (SIGSTOP) over more than the 1000 events etcd
# keeps, so the next poll gets errorCode 401 and the backend lists again
# and ends up with the truth; etcd going away (the last keys kept, one
# error logged) and coming back; SIGTERM frees the backend, joining its
# thread, within a second.  ~20 s.
PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

DRIVE=$PODMESH_BUILD/tests/confd_kv_drive
V2DRIVE=$PODMESH_BUILD/tests/etcdv2_drive
[ -x "$DRIVE" ] ||
    fail "$DRIVE missing (cmake --build ... --target confd_kv_drive)"
[ -x "$V2DRIVE" ] ||
    fail "$V2DRIVE missing (cmake --build ... --target etcdv2_drive)"
for c in etcd curl ss awk; do
	command -v $c >/dev/null || fail "$c not installed"
done

export LC_ALL=C # sort as strcmp
OUT=$PM_TMP/drive.out
ERR=$PM_TMP/drive.log

pm_dump() {
	PM_DUMPED=1
	{
		echo "--- $OUT (tail)"
		tail -n 40 "$OUT" 2>/dev/null
		echo "--- $ERR (tail)"
		tail -n 20 "$ERR" 2>/dev/null
		echo "--- etcd log (tail)"
		tail -n 12 "$PM_TMP/etcd.log" 2>/dev/null
	} >&2
}

PORT=$(etcd_free_port)
PEER=$(etcd_free_port)
[ "$PEER" = "$PORT" ] && PEER=$((PORT + 1))
URL=http://127.0.0.1:$PORT

# start_etcd: the one etcd, on $URL, its data kept across restarts.
start_etcd() {
	etcd --name confd --data-dir "$PM_TMP/etcd" --enable-v2=true \
	    --listen-client-urls "$URL" --advertise-client-urls "$URL" \
	    --listen-peer-urls "http://127.0.0.1:$PEER" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
	    --initial-cluster "confd=http://127.0.0.1:$PEER" \
	    --log-level warn >>"$PM_TMP/etcd.log" 2>&1 &
	PM_PID["etcd:confd"]=$!
	wait_until 15 curl -sf "$URL/v2/keys/" ||
	    fail "etcd did not come up on $URL with the v2 API"
}

# put KEY VALUE [CURL-ARGS...]: a v2 set (the action etcd picks).
put() {
	local k=$1 v=$2
	shift 2
	curl -sf -XPUT "$URL/v2/keys$k" --data-urlencode "value=$v" "$@" \
	    >/dev/null || fail "PUT $k"
}

del() {
	curl -sf -XDELETE "$URL/v2/keys$1${2:-}" >/dev/null ||
	    fail "DELETE $1${2:-}"
}

KV_WAIT=2
. "$(dirname "$0")/kvdrive_lib.sh"

# ---------------------------------------------------------------------------
step "a Calico v2.6 tree in etcd v2"
start_etcd
put /calico/v1/Ready true
put /calico/bgp/v1/global/as_num 64512
put /calico/bgp/v1/global/node_mesh '{"enabled": true}'
put /calico/bgp/v1/host/node1/ip_addr_v4 192.0.2.1
put /calico/bgp/v1/host/node1/ip_addr_v6 ''
put /calico/bgp/v1/host/node1/peer_v4/192.0.2.100 \
    '{"ip":"192.0.2.100","as_num":"64513"}'
put /calico/bgp/v1/host/node2/ip_addr_v4 192.0.2.2
put /calico/v1/ipam/v4/pool/198.18.0.0-16 \
    '{"cidr":"198.18.0.0/16","ipip":"tunl0","ipip_mode":"always"}'
# directories give no key
curl -sf -XPUT "$URL/v2/keys/calico/bgp/v1/global/custom_filters/v4?dir=true" \
    >/dev/null || fail "mkdir"
put /other/x outside

step "the initial listing"
"$DRIVE" -e "$URL" -p /calico etcdv2 >"$OUT" 2>"$ERR" &
PM_PID["drive:v2"]=$!
T0='/calico/bgp/v1/global/as_num=64512
/calico/bgp/v1/global/node_mesh={"enabled": true}
/calico/bgp/v1/host/node1/ip_addr_v4=192.0.2.1
/calico/bgp/v1/host/node1/ip_addr_v6=
/calico/bgp/v1/host/node1/peer_v4/192.0.2.100={"ip":"192.0.2.100","as_num":"64513"}
/calico/bgp/v1/host/node2/ip_addr_v4=192.0.2.2
/calico/v1/Ready=true
/calico/v1/ipam/v4/pool/198.18.0.0-16={"cidr":"198.18.0.0/16","ipip":"tunl0","ipip_mode":"always"}'
expect_state "initial listing: leaves only, nothing outside /calico" "$T0"
[ "$(changes)" = 1 ] || fail "one change for the listing, got $(changes)"
grep -Eq "^CHANGE 1 keys=8 desc=etcdv2 $URL /calico, index [0-9]+$" "$OUT" ||
    fail "describe: $(grep '^CHANGE 1' "$OUT")"
ok "describe names the endpoint, the prefix and the index"

# ---------------------------------------------------------------------------
step "set, update, create, compareAndSwap"
put /calico/bgp/v1/global/as_num 64513
T1=${T0/as_num=64512/as_num=64513}
expect_state "update" "$T1"
put '/calico/bgp/v1/host/node3/ip_addr_v4?prevExist=false' 192.0.2.3
T2=$(printf '%s\n' "$T1" '/calico/bgp/v1/host/node3/ip_addr_v4=192.0.2.3' |
    sort)
expect_state "create" "$T2"
K2=$URL/v2/keys/calico/bgp/v1/host/node2/ip_addr_v4
curl -sf -XPUT "$K2?prevValue=192.0.2.2" \
    -d value=192.0.2.22 | grep -q '"action":"compareAndSwap"' ||
    fail "compareAndSwap"
T3=$(sed 's|node2/ip_addr_v4=192.0.2.2$|node2/ip_addr_v4=192.0.2.22|' <<<"$T2")
expect_state "compareAndSwap" "$T3"
n=$(changes)
put /other/y outside
put /calico/bgp/v1/global/as_num 64513
never_within 1 _changed_from "$n" ||
    fail "a write outside /calico or of the same value reported a change"
ok "no change for a write outside the prefix or of the same value"

# ---------------------------------------------------------------------------
step "delete, compareAndDelete, directory delete, expire"
del /calico/v1/Ready
T4=$(grep -v '^/calico/v1/Ready=' <<<"$T3")
expect_state "delete" "$T4"
K3=$URL/v2/keys/calico/bgp/v1/host/node3/ip_addr_v4
curl -sf -XDELETE "$K3?prevValue=192.0.2.3" |
    grep -q '"action":"compareAndDelete"' || fail "compareAndDelete"
T5=$(grep -v '^/calico/bgp/v1/host/node3/' <<<"$T4")
expect_state "compareAndDelete" "$T5"
# siblings sorting between node1 and node1/... ('-' and '.' before '/')
put /calico/bgp/v1/host/node1-b/ip_addr_v4 192.0.2.5
put /calico/bgp/v1/host/node1.dc/ip_addr_v4 192.0.2.6
T5=$(printf '%s\n' "$T5" '/calico/bgp/v1/host/node1-b/ip_addr_v4=192.0.2.5' \
    '/calico/bgp/v1/host/node1.dc/ip_addr_v4=192.0.2.6' | sort)
expect_state "node1-b and node1.dc beside node1" "$T5"
del /calico/bgp/v1/host/node1 '?recursive=true'
T6=$(grep -v '^/calico/bgp/v1/host/node1/' <<<"$T5")
expect_state "recursive directory delete takes every key under it, no sibling" "$T6"
[ "$(grep -c 'host/node1/' <<<"$T6")" = 0 ] || fail "node1 keys left"
put /calico/bgp/v1/global/loglevel debug -d ttl=1
T7=$(printf '%s\n' "$T6" '/calico/bgp/v1/global/loglevel=debug' | sort)
expect_state "a key with a TTL" "$T7"
# etcd expires keys on its own clock, within a second or so past the TTL
wait_until 4 _state_is "$T6" ||
    fail "expired key still there: $(state)"
ok "expire removes it"

# ---------------------------------------------------------------------------
step "a watch paused over more than 1000 events: errorCode 401, list again"
DPID=${PM_PID["drive:v2"]}
kill -STOP "$DPID"
put /calico/bgp/v1/global/as_num 64600
del /calico/bgp/v1/host/node2 '?recursive=true'
"$V2DRIVE" -e "$URL" fill /calico/zfill 1100 >/dev/null ||
    fail "fill 1100 writes"
put /calico/bgp/v1/global/loglevel info
kill -CONT "$DPID"
T8=$(printf '%s\n' "${T6/as_num=64513/as_num=64600}" \
    '/calico/bgp/v1/global/loglevel=info' '/calico/zfill=1100' |
    grep -v '^/calico/bgp/v1/host/node2/' | sort)
expect_state "after the pause: the truth" "$T8"
grep -q 'listed again' "$ERR" ||
    fail "no re-list logged: $(tail -5 "$ERR")"
ok "the backend listed again" \
    "($(grep -o 'cleared index [0-9]*' "$ERR" | head -1))"
put /calico/bgp/v1/global/as_num 64601
T9=${T8/as_num=64600/as_num=64601}
expect_state "watching goes on after the re-list" "$T9"

# ---------------------------------------------------------------------------
step "etcd goes away and comes back"
n=$(changes)
kill -TERM "${PM_PID["etcd:confd"]}"
wait "${PM_PID["etcd:confd"]}" 2>/dev/null
unset 'PM_PID[etcd:confd]'
wait_until 5 grep -q 'trying again' "$ERR" ||
    fail "no error logged with etcd down"
sleep 1
n_err=$(grep -c 'trying again' "$ERR")
sleep 2 # two more attempts
[ "$(grep -c 'trying again' "$ERR")" = "$n_err" ] ||
    fail "the same error logged again: $(grep 'trying again' "$ERR")"
[ "$(changes)" = "$n" ] && _state_is "$T9" ||
    fail "keys changed while etcd was down"
ok "each error logged once, the last keys kept"
start_etcd
put /calico/bgp/v1/global/as_num 64602
expect_state "a write after etcd is back" "${T9/as_num=64601/as_num=64602}"
grep -q 'answers again' "$ERR" || fail "no recovery logged"

# ---------------------------------------------------------------------------
step "SIGTERM: the backend is freed, its thread joined"
kill -TERM "$DPID"
wait_until 3 grep -q '^FREED ' "$OUT" || fail "the driver did not stop"
ms=$(sed -n 's/^FREED ms=//p' "$OUT")
((ms < 1000)) || fail "freeing took $ms ms"
wait "$DPID"
rc=$?
unset 'PM_PID[drive:v2]'
[ "$rc" = 0 ] || fail "driver exited $rc"
ok "freed in $ms ms, exit 0"
