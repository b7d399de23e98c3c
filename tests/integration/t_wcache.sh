#!/bin/bash
# t_wcache.sh: the watch cache (store/wcache.c) against a real etcd 3.4 on
# loopback.  Two tests/integration/wcache_drive processes cache /wc/a/ and
# /wc/b/ (A with the default re-list delay, B giving up a watch that is down
# for 1 s); etcd_drive and etcdctl write.  Every callback is recorded, and a
# replay of them must rebuild exactly etcdctl's view, with the right old
# value on every UPDATE and DELETE, live events never going back in
# revision, and each driver's dump of its cache equal to it too.  Checked:
# the initial sync of 2000 keys (in 5 pages of 500, one revision); puts,
# deletes, a txn and a range delete seen in order with their revisions, a
# refused value, keys under /wc/c/ never seen; an etcd restart while a
# writer runs (A resumes its watch, no re-list); compaction while both
# drivers are stopped (their streams broken by an etcd restart first: a
# live stream would just deliver the events): a re-list
# whose callbacks are exactly the difference; a long disconnect (B re-lists
# instead of resuming, A resumes).  Then against
# tests/integration/etcd_fake.py: a watch that cannot get past one revision
# (an event it cannot parse) and one whose streams are cut as soon as they
# are created both end in re-lists; and a cache whose first endpoint
# freezes (a relay that stops answering) sees the silence and goes on at
# the next endpoint.  ~45 s.
PM_TIMEOUT=120
. "$(dirname "$0")/lib.sh"

DRIVE=$PODMESH_BUILD/tests/wcache_drive
ED=$PODMESH_BUILD/tests/etcd_drive
for b in "$DRIVE" "$ED"; do
	[ -x "$b" ] || fail "$b missing (cmake --build ... --target wcache_drive etcd_drive)"
done
for c in etcd etcdctl python3 curl ss; do
	command -v $c >/dev/null || fail "$c not installed"
done

# The cleanup trap kills what PM_PID lists; a failure shows the logs.
pm_dump() {
	local f
	PM_DUMPED=1
	for f in "$PM_TMP"/*.log "$PM_TMP"/*.err; do
		[ -f "$f" ] || continue
		echo "--- tail $f"
		tail -n 12 "$f"
	done >&2
}

start_etcd() {
	etcd --name wc --data-dir "$PM_TMP/etcd" \
	    --listen-client-urls "$URL" --advertise-client-urls "$URL" \
	    --listen-peer-urls "http://127.0.0.1:$PEER" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$PEER" \
	    --initial-cluster "wc=http://127.0.0.1:$PEER" \
	    --experimental-watch-progress-notify-interval 500ms \
	    --log-level warn >>"$PM_TMP/etcd.log" 2>&1 &
	PM_PID["etcd:wc"]=$!
	wait_until 15 ed rev || fail "etcd did not come up on $URL"
}

# kill_etcd: SIGKILL, as a crash would.
kill_etcd() {
	local pid=${PM_PID["etcd:wc"]}
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	unset "PM_PID[etcd:wc]"
}

ed() {
	"$ED" -e "$URL" "$@"
}

ctl() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

# start_drive NAME ARGS: a cache of /wc/a/ and /wc/b/, output in NAME.out.
start_drive() {
	local name=$1
	shift
	# /wc/a/000 lies inside /wc/a/: listed once, with it
	"$DRIVE" -v -e "$URL" "$@" /wc/a/ /wc/b/ /wc/a/000 \
	    >"$PM_TMP/$name.out" 2>"$PM_TMP/$name.err" &
	PM_PID["drive:$name"]=$!
}

lines() {
	wc -l <"$PM_TMP/$1.out"
}

# synced_count NAME: SYNCED callbacks so far.
synced_count() {
	grep -c '^{"ev":"SYNCED"' "$PM_TMP/$1.out" || true
}

# relisted_since NAME LINE: a re-list's SYNCED after line LINE of NAME.out.
# shellcheck disable=SC2317 # called through wait_until
relisted_since() {
	tail -n +$(($2 + 1)) "$PM_TMP/$1.out" |
	    grep -q '^{"ev":"SYNCED",.*"relist":true}$'
}

# sync_all: a marker put, then wait until both caches have seen it.
SEQ=0
sync_all() {
	local n
	SEQ=$((SEQ + 1))
	ed put /wc/a/~sync "s$SEQ" >/dev/null || fail "sync put"
	for n in A B; do
		wait_until 15 grep -q "\"key\":\"/wc/a/~sync\".*\"new\":\"s$SEQ\"" \
		    "$PM_TMP/$n.out" || fail "$n did not see sync mark s$SEQ"
	done
}

# snapshot FILE: etcdctl's view of /wc/, JSON with its revision.
snapshot() {
	ctl get --prefix /wc/ -w json >"$1" || fail "etcdctl get"
}

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

# relisted MODE: the cache on the fake has listed twice.
# shellcheck disable=SC2317 # called through wait_until
relisted() {
	[ "$(fake_count "$1" range)" -ge 2 ]
}

range_calls() {
	curl -s "$URL/metrics" | awk '/^grpc_server_handled_total\{grpc_code="OK",/ &&
	    index($0, "grpc_method=\"Range\"") {print $2}'
}

# check.py replay OUT SNAPSHOT: the callbacks in OUT rebuild SNAPSHOT.
# check.py diff OUT FROM SNAPSHOT: after line FROM, OUT holds a re-list
# whose callbacks are exactly the difference from the state at FROM.
# check.py show OUT FROM BASE: the callbacks after line FROM, compactly,
# revisions relative to BASE.
cat >"$PM_TMP/check.py" <<'EOF'
import base64, json, sys

PREFIXES = ("/wc/a/", "/wc/b/")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def etcd_view(path):
    with open(path) as f:
        j = json.load(f)
    view = {}
    for kv in j.get("kvs", []):
        k = base64.b64decode(kv["key"]).decode()
        if k.startswith(PREFIXES):
            view[k] = (base64.b64decode(kv.get("value", "")).decode(),
                       int(kv["mod_revision"]))
    return int(j["header"]["revision"]), view


def replay(evs):
    """The state the callbacks build; checks old values and order."""
    state, live, synced, dump = {}, 0, 0, None
    for i, e in enumerate(evs):
        t, k = e["ev"], e.get("key")
        where = "event %d %s" % (i + 1, json.dumps(e))
        if k is not None and not k.startswith(PREFIXES):
            fail("foreign key: " + where)
        if t in ("ADD", "UPDATE", "DELETE"):
            if not e["relist"]:
                if e["rev"] < live or e["rev"] <= synced:
                    fail("out of order (live %d, synced %d): %s"
                         % (live, synced, where))
                live = e["rev"]
        if t == "ADD":
            if k in state:
                fail("ADD of a cached key: " + where)
            state[k] = (e["new"], e["mod"])
        elif t == "UPDATE":
            if k not in state or state[k][0] != e["old"]:
                fail("UPDATE with a wrong old value %r: %s"
                     % (state.get(k), where))
            state[k] = (e["new"], e["mod"])
        elif t == "DELETE":
            if k not in state or state[k][0] != e["old"]:
                fail("DELETE with a wrong old value %r: %s"
                     % (state.get(k), where))
            del state[k]
        elif t == "SYNCED":
            if e["n"] != len(state):
                fail("SYNCED n=%d, callbacks made %d: %s"
                     % (e["n"], len(state), where))
            synced = e["rev"]
            live = max(live, synced)
        elif t == "DUMP":
            dump = {}
        elif t == "KEY":
            dump[k] = (e["value"], e["mod"])
        elif t == "END":
            if dump != state:
                fail("the dump differs from the callbacks' state")
    return state, dump


def cmd_replay(out, snap):
    evs = read(out)
    state, dump = replay(evs)
    rev, view = etcd_view(snap)
    if state != view:
        miss = sorted(set(view) - set(state))[:5]
        extra = sorted(set(state) - set(view))[:5]
        diff = [k for k in view if k in state and view[k] != state[k]][:5]
        fail("callbacks != etcd at %d: missing %s extra %s differ %s"
             % (rev, miss, extra, [(k, state[k], view[k]) for k in diff]))
    if dump is not None and dump != view:
        fail("dump != etcd")
    n = {t: sum(1 for e in evs if e["ev"] == t)
         for t in ("ADD", "UPDATE", "DELETE", "SYNCED")}
    print("%d keys = etcd at %d; %d ADD, %d UPDATE, %d DELETE, %d SYNCED"
          % (len(view), rev, n["ADD"], n["UPDATE"], n["DELETE"],
             n["SYNCED"]))


def cmd_diff(out, start, snap):
    evs = read(out)
    before, _ = replay(evs[:start])
    rev, after = etcd_view(snap)
    want = []
    for k in sorted(set(before) | set(after)):
        if k not in after:
            want.append(("DELETE", k, before[k][0], None))
        elif k not in before:
            want.append(("ADD", k, None, after[k][0]))
        elif before[k] != after[k]:
            want.append(("UPDATE", k, before[k][0], after[k][0]))
    got = []
    for e in evs[start:]:
        if e["ev"] in ("DUMP", "KEY", "END"):
            continue
        if not e["relist"]:
            fail("a live event where a re-list was wanted: %s"
                 % json.dumps(e))
        if e["ev"] == "SYNCED":
            if e["rev"] != rev:
                fail("re-listed at %d, etcd is at %d" % (e["rev"], rev))
            break
        if e["rev"] != rev:
            fail("re-list change at %d, etcd at %d" % (e["rev"], rev))
        got.append((e["ev"], e["key"], e.get("old"), e.get("new")))
    else:
        fail("no SYNCED after the re-list")
    if got != want:
        fail("re-list callbacks\n  got  %s\n  want %s" % (got, want))
    print("%d changes at %d: %s" % (len(got), rev,
          ", ".join("%s %s" % (g[0], g[1]) for g in got)))


def cmd_show(out, start, base):
    for e in read(out)[start:]:
        t = e["ev"]
        if t == "ADD":
            s = "ADD %s=%s" % (e["key"], e["new"])
        elif t == "UPDATE":
            s = "UPDATE %s %s>%s" % (e["key"], e["old"], e["new"])
        elif t == "DELETE":
            s = "DELETE %s(%s)" % (e["key"], e["old"])
        else:
            s = t
        if "refused" in e:
            s += " refused"
        if "rev" in e:
            s += " @+%d" % (e["rev"] - base)
        print(s)


cmd = sys.argv[1]
if cmd == "replay":
    cmd_replay(sys.argv[2], sys.argv[3])
elif cmd == "diff":
    cmd_diff(sys.argv[2], int(sys.argv[3]), sys.argv[4])
elif cmd == "show":
    cmd_show(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
EOF
check() {
	python3 "$PM_TMP/check.py" "$@"
}

PORT=$(etcd_free_port)
PEER=$(etcd_free_port)
URL=http://127.0.0.1:$PORT
start_etcd

# ---------------------------------------------------------------------------
step "initial sync of 2000 keys"
ed fill /wc/a/ 1200 || fail "fill"
ed fill /wc/b/ 800 || fail "fill"
ed fill /wc/c/ 300 || fail "fill" # not cached
rev0=$(ed rev)
before=$(range_calls)
start_drive A -P 500
wait_until 10 grep -q '^{"ev":"SYNCED"' "$PM_TMP/A.out" || fail "A not synced"
after=$(range_calls)
grep -q "^{\"ev\":\"SYNCED\",\"rev\":$rev0,\"n\":2000,\"relist\":false}$" \
    "$PM_TMP/A.out" || fail "SYNCED: $(grep SYNCED "$PM_TMP/A.out")"
ok "2000 keys at revision $rev0"
[ $((after - before)) -eq 5 ] ||
    fail "listing took $((after - before)) range requests, wanted 5"
ok "in 5 pages of at most 500"
snapshot "$PM_TMP/s0.json"
out=$(check replay "$PM_TMP/A.out" "$PM_TMP/s0.json") || fail "$out"
ok "$out"
start_drive B -r 1000
wait_until 10 grep -q '^{"ev":"SYNCED"' "$PM_TMP/B.out" || fail "B not synced"

# ---------------------------------------------------------------------------
step "puts and deletes, in order"
base=$(ed rev)
from=$(lines A)
ed put /wc/a/x 1 >/dev/null
ed put /wc/b/y 2 >/dev/null
ed put /wc/c/z foreign >/dev/null
ed put /wc/a/x 3 >/dev/null
ed del /wc/b/y >/dev/null
ed del /wc/b/nothing >/dev/null # no revision
ed put /wc/a/00007 bad7 >/dev/null
ed fill /wc/b/t 3 >/dev/null # one txn
ed del /wc/a/x >/dev/null
ed del /wc/b/t prefix >/dev/null # one revision
ed put /wc/a/00007 7 >/dev/null
want="ADD /wc/a/x=1 @+1
ADD /wc/b/y=2 @+2
UPDATE /wc/a/x 1>3 @+4
DELETE /wc/b/y(2) @+5
UPDATE /wc/a/00007 7>bad7 refused @+6
ADD /wc/b/t00000=0 @+7
ADD /wc/b/t00001=1 @+7
ADD /wc/b/t00002=2 @+7
DELETE /wc/a/x(3) @+8
DELETE /wc/b/t00000(0) @+9
DELETE /wc/b/t00001(1) @+9
DELETE /wc/b/t00002(2) @+9
UPDATE /wc/a/00007 bad7>7 @+10"
# shellcheck disable=SC2317 # called through wait_until
seen_all() {
	[ "$(check show "$PM_TMP/A.out" "$from" "$base")" = "$want" ]
}
wait_until 10 seen_all ||
    fail "events: $(check show "$PM_TMP/A.out" "$from" "$base")"
ok "13 callbacks, old and new values, revisions, a txn, a range delete"
sync_all
grep -q '/wc/c/' "$PM_TMP/A.out" "$PM_TMP/B.out" && fail "a /wc/c/ key was cached"
ok "nothing from /wc/c/"

# ---------------------------------------------------------------------------
step "etcd restart while a writer runs"
writer() {
	local i k
	for ((i = 0; i < 100; i++)); do
		k=$((RANDOM % 40))
		case $((RANDOM % 4)) in
		0) ed del "/wc/a/w$k" ;;
		1) ed put "/wc/b/w$k" "v$i" ;;
		*) ed put "/wc/a/w$k" "v$i" ;;
		esac >/dev/null 2>&1
		sleep 0.01
	done
}
writer &
wpid=$!
sleep 0.7
kill_etcd
sleep 0.3
start_etcd
wait $wpid
sync_all
snapshot "$PM_TMP/s1.json"
for n in A B; do
	out=$(check replay "$PM_TMP/$n.out" "$PM_TMP/s1.json") || fail "$n: $out"
	ok "$n: $out"
done
grep -q 'watch back at revision' "$PM_TMP/A.err" ||
    fail "A did not see the restart: $(cat "$PM_TMP/A.err")"
[ "$(synced_count A)" -eq 1 ] || fail "A re-listed"
ok "A resumed its watch: no re-list, nothing lost or repeated"

# ---------------------------------------------------------------------------
step "compaction while the drivers are stopped"
fromA=$(lines A)
fromB=$(lines B)
kill -STOP "${PM_PID[drive:A]}" "${PM_PID[drive:B]}"
# Break their streams first: what etcd has sent on a stream before it dies
# is still read after SIGCONT, so the writes must come after.
kill_etcd
start_etcd
ed put /wc/a/00010 changed >/dev/null
ed put /wc/a/00011 c1 >/dev/null
ed put /wc/a/00011 c2 >/dev/null # twice: one UPDATE
ed del /wc/a/00012 >/dev/null
ed put /wc/b/00013 13 >/dev/null # the same bytes, rewritten: UPDATE
ed put /wc/b/new n >/dev/null
ed put /wc/b/tmp t >/dev/null # came and went: nothing
ed del /wc/b/tmp >/dev/null
ed put /wc/c/foreign f >/dev/null
ed put /wc/a/00014 bad14 >/dev/null
now=$(ed rev)
ed compact "$now" || fail "compact"
snapshot "$PM_TMP/s2.json"
kill -CONT "${PM_PID[drive:A]}" "${PM_PID[drive:B]}"
wait_until 10 relisted_since A "$fromA" || fail "A did not re-list"
wait_until 10 relisted_since B "$fromB" || fail "B did not re-list"
out=$(check diff "$PM_TMP/A.out" "$fromA" "$PM_TMP/s2.json") || fail "A: $out"
ok "A: $out"
out=$(check diff "$PM_TMP/B.out" "$fromB" "$PM_TMP/s2.json") || fail "B: $out"
ok "B: the same"
grep -q 'compacted.*re-listing' "$PM_TMP/A.err" ||
    fail "A's log does not name the compaction: $(cat "$PM_TMP/A.err")"
ok "the compaction named in the log"

# ---------------------------------------------------------------------------
step "a long disconnect: B re-lists, A resumes"
sync_all
fromA=$(lines A)
fromB=$(lines B)
syncedA=$(synced_count A)
gaveup=$(grep -c 'watch down for 1000 ms: re-listing' "$PM_TMP/B.err")
# B misses the writes (its stream broken while it is stopped), then finds
# etcd down for longer than its relist_after
kill -STOP "${PM_PID[drive:B]}"
kill_etcd
start_etcd
ed put /wc/a/00020 long >/dev/null
ed del /wc/b/00021 >/dev/null
ed put /wc/b/late l >/dev/null
kill_etcd
kill -CONT "${PM_PID[drive:B]}"
sleep 2.5
[ "$(grep -c 'watch down for 1000 ms: re-listing' "$PM_TMP/B.err")" -gt "$gaveup" ] ||
    fail "B did not give up its watch: $(tail -5 "$PM_TMP/B.err")"
ok "B gave up its watch"
start_etcd
snapshot "$PM_TMP/s3.json"
wait_until 15 relisted_since B "$fromB" || fail "B did not re-list"
out=$(check diff "$PM_TMP/B.out" "$fromB" "$PM_TMP/s3.json") || fail "B: $out"
ok "B: $out"
sync_all
[ "$(synced_count A)" -eq "$syncedA" ] || fail "A re-listed"
out=$(check show "$PM_TMP/A.out" "$fromA" 0 | grep -v '~sync')
grep -q '^UPDATE /wc/a/00020 20>long' <<<"$out" || fail "A: $out"
ok "A resumed and got the three changes live"

# ---------------------------------------------------------------------------
step "the first endpoint freezes"
FROZEN=$PM_TMP/frozen
TP=$(etcd_free_port)
start_fake tcp "$TP" "127.0.0.1:$PORT" "$FROZEN"
"$DRIVE" -v -e "http://127.0.0.1:$TP,$URL" -i 1500 /wc/a/ \
    >"$PM_TMP/F.out" 2>"$PM_TMP/F.err" &
PM_PID["drive:F"]=$!
wait_until 10 grep -q '^{"ev":"SYNCED"' "$PM_TMP/F.out" || fail "F not synced"
sleep 1.5 # progress notifications every 500 ms keep it up
touch "$FROZEN"
ed put /wc/a/frozen yes >/dev/null
wait_until 10 grep -q '"key":"/wc/a/frozen","new":"yes"' "$PM_TMP/F.out" ||
    fail "F did not move on: $(tail -5 "$PM_TMP/F.err")"
grep -q "no message on the watch for 1500 ms" "$PM_TMP/F.err" ||
    fail "F's log: $(cat "$PM_TMP/F.err")"
[ "$(synced_count F)" -eq 1 ] || fail "F re-listed"
ok "the silence seen, the watch resumed at the next endpoint, no re-list"
kill -TERM "${PM_PID[drive:F]}"
wait "${PM_PID[drive:F]}" || fail "F exited $?: $(tail -5 "$PM_TMP/F.err")"
unset "PM_PID[drive:F]"

# ---------------------------------------------------------------------------
step "a watch that cannot get past a revision: re-lists"
PP=$(etcd_free_port)
start_fake poison "$PP"
# the default relist_after (30 s): the watch's own giving up re-lists
"$DRIVE" -v -e "127.0.0.1:$PP" /a/ >"$PM_TMP/P.out" 2>"$PM_TMP/P.err" &
PM_PID["drive:P"]=$!
wait_until 15 relisted poison ||
    fail "no re-list: $(fake_count poison range) listings, $(fake_count poison watch) watches"
grep -q 'stuck at revision 5: 5 tries.*re-listing' "$PM_TMP/P.err" ||
    fail "P's log: $(tail -5 "$PM_TMP/P.err")"
ok "re-listed after $(fake_count poison watch) watch requests"
PF=$(etcd_free_port)
start_fake flap "$PF"
"$DRIVE" -v -e "127.0.0.1:$PF" -r 1000 /a/ >"$PM_TMP/Q.out" 2>"$PM_TMP/Q.err" &
PM_PID["drive:Q"]=$!
wait_until 10 relisted flap ||
    fail "no re-list: $(fake_count flap range) listings, $(fake_count flap watch) watches"
grep -q 'watch down for 1000 ms: re-listing' "$PM_TMP/Q.err" ||
    fail "Q's log: $(tail -5 "$PM_TMP/Q.err")"
ok "streams cut once created count as down: re-listed after $(fake_count flap watch) watch requests"

# ---------------------------------------------------------------------------
step "final state"
ed put /wc/a/00030 final >/dev/null
sync_all
snapshot "$PM_TMP/s4.json"
for n in A B; do
	pid=${PM_PID["drive:$n"]}
	kill -TERM "$pid"
	wait "$pid" || fail "$n exited $?: $(tail -5 "$PM_TMP/$n.err")"
	unset "PM_PID[drive:$n]"
	out=$(check replay "$PM_TMP/$n.out" "$PM_TMP/s4.json") || fail "$n: $out"
	ok "$n: $out; its dump too"
	log "$n: $(grep '^{"ev":"STATS"' "$PM_TMP/$n.out")"
done
exit 0
