#!/bin/bash
#
# confd benchmark: how long an etcd change takes to reach a running BIRD 2
# through podmesh-confd (etcdv3 backend, the shipped confd/dist/bird2
# templates), measured N times.
#
#	infra  br0 192.0.2.254/24, etcd 3.4 on :2379
#	n1     eth0 192.0.2.11/24: BIRD 2 + podmesh-confd
#
# The datastore: BGPConfiguration default (mesh on, AS 64512), an IPPool
# 198.18.0.0/16, the Node n1 with a block, a global BGPPeer "bench"
# (192.0.2.200). Each change rewrites the BGPPeer with the other of two
# AS numbers (65002, 65001, 65002, ...), so every change alters BIRD's
# Global_192_0_2_200 protocol.
#
# The load generator (python3, one keep-alive HTTP connection to etcd's
# v3 JSON gateway, inside infra) takes T0 just before it sends the put.
# The reload_cmd of the shipped template runs $BIRDC, here a stand-in that
# runs the real birdc configure and then appends its start and end times
# (CLOCK_REALTIME, µs) to a file; T1 is that end: BIRD has re-read and
# applied its configuration (birdc returned "Reconfigured").  The check
# command ($BIRD) is stamped the same way.  The generator waits for the
# new reload line, checks its status, checks through birdc that BIRD now
# peers with the new AS (outside the timed part), pauses --gap ms and goes
# on.  Splits per change, from the stamps and podmesh-confd's debug log
# (-log-level debug; ms resolution):
#   put             T0 -> etcd answered the put (the generator's round trip)
#   watch           T0 -> podmesh-confd logs "<backend>: changed"
#   debounce        -> the render starts ("render N: ... T ms" minus T)
#   render          -> "running check_cmd": select the keys, read and
#                   execute the three templates (only bird.cfg differs),
#                   compare with dest, stage beside it
#   sh, copies      -> bird -p starts: the shipped check_cmd's shell, temp
#                   dir and copies of the three files
#   bird -p         the stamped check
#   cleanup, swap   -> "running reload_cmd": rm of the temp dir, rename over
#                   dest, fsync of the directory
#   reload          -> birdc configure returned (sh, birdc, BIRD applying)
# Each stand-in is a bash script; its start costs ~2-3 ms per command, on
# top of what Calico's own commands would cost.
#
# Usage: bench/confd.sh [--n N] [--quick] [--gap MS] [--debounce MS]
#                       [--build DIR] [--keep]
# --n: changes (default 200); --quick: 20 (tests/integration/
# t_bench_confd.sh); --gap: pause after each change (default 100 ms);
# --debounce: passed to podmesh-confd (default: podmesh-confd's own);
# --keep: keep the temp dir (logs, raw samples).
# Environment: PODMESH_BUILD (build dir, default build/; --build DIR sets
# it), PODMESH_CONFD (another podmesh-confd binary), PM_TIMEOUT (overall
# deadline, s; default 120 + N).
# Needs root (network namespaces), ip, etcd, bird (BIRD 2), jq, python3.
# Exit status: 0 when every change reached BIRD (reload status 0, BIRD
# peering with the new AS), 1 otherwise, 2 for a usage error or a missing
# binary.  Times are reported, never judged.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
N=200
GAP=100
DEBOUNCE=

usage() {
	sed -n '/^# Usage:/,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

ARGV=("$@")
while [ $# -gt 0 ]; do
	case $1 in
	--n) N=${2:-}; shift ;;
	--quick) N=20 ;;
	--gap) GAP=${2:-}; shift ;;
	--debounce) DEBOUNCE=${2:-}; shift ;;
	--build) PODMESH_BUILD=$(cd "${2:-.}" && pwd) || exit 2; shift ;;
	--keep) export PM_KEEP=1 ;;
	*) usage ;;
	esac
	shift
done
[[ $N =~ ^[1-9][0-9]*$ ]] && [[ $GAP =~ ^[0-9]+$ ]] || usage
[ -z "$DEBOUNCE" ] || [[ $DEBOUNCE =~ ^[0-9]+$ ]] || usage
[ "$(id -u)" = 0 ] || { echo "confd.sh: needs root" >&2; exit 2; }

export PODMESH_BUILD=${PODMESH_BUILD:-$top/build}
export PODMESH_SRC=$top
export PM_TIMEOUT=${PM_TIMEOUT:-$((120 + N))}
set -- "${ARGV[@]}" # lib.sh re-runs the script with them
# lib.sh: the deadline, $PM_TMP, namespaces and the trap that removes them
# and stops every daemon; node_lib.sh: underlay, etcd, nctl; confd_lib.sh:
# the confdir, the stamping stand-ins, podmesh-confd and BIRD.
# shellcheck disable=SC1091
. "$top/tests/integration/lib.sh"
# shellcheck disable=SC1091
. "$top/tests/integration/node_lib.sh"
# shellcheck disable=SC1091
. "$top/tests/integration/confd_lib.sh"

require_podmesh
require_confd
CONFD_ARGS="$CONFD_ARGS -log-level debug"
[ -z "$DEBOUNCE" ] || CONFD_ARGS="$CONFD_ARGS --debounce $DEBOUNCE"
KEY=/calico/resources/v3/projectcalico.org/bgppeers/bench

underlay
node_add n1
node_etcd_start
out=$(nctl apply -f - 2>&1 <<EOF
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: true, asNumber: 64512, logSeverityScreen: Info}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: bench-pool}
spec: {cidr: $NODE_POOL, blockSize: 26, ipipMode: Never, natOutgoing: false}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec: {bgp: {ipv4Address: 192.0.2.11/24}}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: bench}
spec: {peerIP: 192.0.2.200, asNumber: 65001}
EOF
) || fail "apply: $out"
out=$(nctl ipam assign --node n1 --handle bench.n1 2>&1) || fail "ipam assign: $out"

confd_setup n1
confd_onetime n1
confd_bird_start n1
confd_start n1
_peer_as() {
	birdc_ n1 show protocols all Global_192_0_2_200 |
	    awk '/Neighbor AS:/ { print $3 }'
}
_peer_as_is() {
	[ "$(_peer_as)" = "$1" ]
}
wait_until 10 _peer_as_is 65001 ||
    fail "BIRD has no Global_192_0_2_200 with AS 65001: $(birdc_ n1 show protocols)"
sleep 1 # the daemon's first render done (nothing to reload)

# The two values of the BGPPeer, as podmeshctl stored it, AS swapped.
V=$(ectl get "$KEY" --print-value-only) || fail "get $KEY"
jq -ce '.spec.asNumber = 65002' <<<"$V" >"$PM_TMP/v.65002" &&
    jq -ce '.spec.asNumber = 65001' <<<"$V" >"$PM_TMP/v.65001" ||
    fail "bad BGPPeer value: $V"

cat >"$PM_TMP/load.py" <<'PYEOF'
# load.py N GAP_MS KEY RELOADS CHECKS SOCK BIRDC V1 V2 AS1 AS2: N puts of
# V1, V2, V1 ... to etcd (127.0.0.1:2379), each timed to the reload that
# follows; one line per change:
#   i as t0 tput check_start check_end reload_start reload_end rc verified
# (µs, CLOCK_REALTIME; check_* "-" when no check ran).
import base64, http.client, json, os, subprocess, sys, time

n, gap = int(sys.argv[1]), int(sys.argv[2]) / 1000.0
key, reloads, checks, sock, birdc = sys.argv[3:8]
vals = [open(sys.argv[8], "rb").read().strip(), open(sys.argv[9], "rb").read().strip()]
ases = [sys.argv[10], sys.argv[11]]
conn = http.client.HTTPConnection("127.0.0.1", 2379, timeout=5)
b64 = lambda b: base64.b64encode(b).decode()

def lines(path):
    with open(path) as f:
        return f.read().splitlines()

def peer_as():
    out = subprocess.run([birdc, "-s", sock, "show", "protocols", "all",
                          "Global_192_0_2_200"], capture_output=True,
                         text=True).stdout
    for l in out.splitlines():
        if "Neighbor AS:" in l:
            return l.split()[-1]
    return "-"

now = lambda: time.time_ns() // 1000
fails = 0
for i in range(n):
    v, want = vals[i % 2], ases[i % 2]
    r0, c0 = len(lines(reloads)), len(lines(checks))
    body = json.dumps({"key": b64(key.encode()), "value": b64(v)})
    t0 = now()
    conn.request("POST", "/v3/kv/put", body, {"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read()
    tput = now()
    if resp.status != 200:
        sys.exit("put: HTTP %d" % resp.status)
    deadline = time.monotonic() + 5
    while len(lines(reloads)) <= r0 and time.monotonic() < deadline:
        time.sleep(0.002)
    rl = lines(reloads)[r0:]
    cl = lines(checks)[c0:]
    if not rl:
        print(i, want, t0, tput, "- - - - timeout no", flush=True)
        fails += 1
        continue
    rs, re_, rc = rl[0].split()[:3]
    cs, ce = (cl[-1].split()[:2]) if cl else ("-", "-")
    got = peer_as()
    ok = "yes" if got == want and rc == "0" and len(rl) == 1 else "no"
    if ok == "no":
        fails += 1
    print(i, want, t0, tput, cs, ce, rs, re_, rc, ok, flush=True)
    time.sleep(gap)
sys.exit(1 if fails else 0)
PYEOF

log "$N changes, gap $GAP ms, podmesh-confd ${DEBOUNCE:+--debounce $DEBOUNCE }($PODMESH_CONFD)"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
rc=0
nsx infra python3 "$PM_TMP/load.py" "$N" "$GAP" "$KEY" "$PM_TMP/n1.reloads" \
    "$PM_TMP/n1.checks" "$(_bird_sock n1)" "$CONFD_BIRDC" \
    "$PM_TMP/v.65002" "$PM_TMP/v.65001" 65002 65001 \
    >"$PM_TMP/samples" 2>"$PM_TMP/load.err" || rc=$?
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
[ -s "$PM_TMP/samples" ] || fail "no samples: $(cat "$PM_TMP/load.err")"
bad=$(awk '$10 != "yes"' "$PM_TMP/samples" | wc -l)

# The table: nearest-rank percentiles over the changes that reached BIRD,
# ms.  The splits inside podmesh-confd come from its debug log (ms
# resolution): "<backend>: changed" (the watch event handled), "running
# check_cmd" and "running reload_cmd", and "render N: ... T ms" (its start
# is that line's time minus T).
cat >"$PM_TMP/table.py" <<'PYEOF2'
import datetime, re, sys

samples = [l.split() for l in open(sys.argv[1]) if l.split()[9:10] == ["yes"]]
logre = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})Z podmesh-confd (\w+): (.*)$")
events = []  # (µs, kind)
for line in open(sys.argv[2], errors="replace"):
    m = logre.match(line)
    if not m:
        continue
    t = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f")
    us = int(t.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000000)
    msg = m.group(3)
    if msg.endswith(": changed"):
        events.append((us, "changed"))
    elif ": running check_cmd: " in msg:
        events.append((us, "check_cmd"))
    elif ": running reload_cmd: " in msg:
        events.append((us, "reload_cmd"))
    else:
        r = re.match(r"render \d+: .* ([0-9.]+) ms$", msg)
        if r:
            events.append((us - int(float(r.group(1)) * 1000), "render"))
events.sort()

rows = {}
def add(name, v):
    rows.setdefault(name, []).append(v)

for k, s in enumerate(samples):
    t0, tput, cs, ce, rs, re_ = (int(x) if x != "-" else None for x in s[2:8])
    t0ms = t0 - t0 % 1000
    end = int(samples[k + 1][2]) if k + 1 < len(samples) else 1 << 62
    first = {}
    for us, kind in events:
        if t0ms <= us < end and kind not in first:
            first[kind] = us
    add("total", re_ - t0)
    add("put", tput - t0)
    ch, rd, cc, rc = (first.get(x) for x in ("changed", "render", "check_cmd", "reload_cmd"))
    if ch is not None:
        add("watch", ch - t0)
    if ch is not None and rd is not None:
        add("debounce", rd - ch)
    if rd is not None and cc is not None:
        add("render", cc - rd)
    if cc is not None and cs is not None:
        add("checksh", cs - cc)
    if cs is not None:
        add("check", ce - cs)
    if rc is not None and ce is not None:
        add("swap", rc - ce)
    if rc is not None:
        add("reload", re_ - rc)

labels = [
    ("total", "etcd put -> BIRD reconfigured"),
    ("put", "put (etcd round trip)"),
    ("watch", "put -> confd sees the change (watch)"),
    ("debounce", "-> render start (debounce)"),
    ("render", "-> check_cmd (load, render, compare, stage)"),
    ("checksh", "-> bird -p start (sh, temp dir, copies)"),
    ("check", "bird -p"),
    ("swap", "-> reload_cmd (cleanup, rename, fsync)"),
    ("reload", "-> BIRD reconfigured (sh, birdc configure)"),
]
print("| step | n | p50 (ms) | p99 (ms) | max (ms) | mean (ms) |")
print("|---|---:|---:|---:|---:|---:|")
for key, label in labels:
    v = sorted(rows.get(key, []))
    if not v:
        print("| %s | 0 | - | - | - | - |" % label)
        continue
    n = len(v)
    p = lambda q: v[(n * q + 99) // 100 - 1] / 1000.0
    print("| %s | %d | %.2f | %.2f | %.2f | %.2f |" % (label, n, p(50), p(99), v[-1] / 1000.0, sum(v) / n / 1000.0))
PYEOF2
ok_rows() {
	awk '$10 == "yes"' "$PM_TMP/samples"
}
echo
echo "podmesh-confd: etcd change -> BIRD reconfigured, $N changes ($(ok_rows | wc -l) ok), gap $GAP ms${DEBOUNCE:+, --debounce $DEBOUNCE}"
echo
python3 "$PM_TMP/table.py" "$PM_TMP/samples" "$PM_TMP/n1.confd.log" ||
    fail "table.py failed"
echo
P50=$(ok_rows | awk '{ print $8 - $3 }' | sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", v[int((NR * 50 + 99) / 100)] / 1000 }')
if awk -v p="${P50:-1e9}" 'BEGIN { exit !(p < 200) }'; then t=yes; else t=NO; fi
echo "target: etcd change to BIRD reloaded under 200 ms (p50): $t ($P50 ms)"
echo "load average: $LOAD0 at the start, $LOAD1 at the end; BIRD $(bird --version 2>&1 | awk '{ print $3 }'), $(etcd --version | head -1)"
if [ "$rc" -ne 0 ] || [ "$bad" -ne 0 ]; then
	log "$bad of $N changes did not reach BIRD as they should (load.py status $rc):"
	awk '$10 != "yes"' "$PM_TMP/samples" | head -5 >&2
	cat "$PM_TMP/load.err" >&2
	export PM_KEEP=1
	fail "not every change reached BIRD"
fi
exit 0
