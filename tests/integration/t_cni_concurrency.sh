#!/bin/bash
#
# Concurrency of the CNI plugin and its IPAM (issue #6): 3 simulated nodes
# x 4 parallel runners each, with a real etcd, in two phases:
#
#  1. the whole plugin, 3 x 4 x 25 ADDs (300 pods), then every DEL: each
#     ADD is podmesh-cnitool -> podmesh (ipam.type podmesh-ipam, whose
#     code the plugin runs in its own process) into a pod namespace of
#     its own (made up front in bulk, outside the timed part), the runner
#     inside its node's namespace;
#  2. the bulk, 3 x 4 x 200 ADDs (2400 addresses), then every DEL, with
#     podmesh-ipam driven directly (the binary with the CNI_* environment
#     and its network config on stdin, as the plugin runs it; CNI_NETNS
#     is an existing namespace, unused).
#
# Why two: under the ASan build every process start costs 25-40 ms of
# CPU on this 2-core machine (more under load), a runner call is two
# processes and the kernel serialises veth creation and deletion, so
# 2400 full ADDs + DELs take ~4 minutes quiet and far more under load:
# beyond this test's 3-minute budget.  The allocator's concurrency is what the bulk
# stresses, and it runs the same code (store/ipam.h through
# cni/ipam_plugin.c) as phase 1.  Measured here, quiet machine: phase 1
# ~20 s, phase 2 ~115 s, ~140 s in all; the full 2400 through the plugin
# (CNI_CONC_PLUGIN_PER=200) ~220 s for phase 1 alone.
# Phase 2 also runs with ASAN_OPTIONS=detect_leaks=0: LeakSanitizer's
# scan at exit is a third of a call's cost; phase 1 keeps it.
# CNI_CONC_PLUGIN_PER / CNI_CONC_IPAM_PER change the per-runner counts
# (CNI_CONC_PLUGIN_PER=200 runs the full 2400 through the plugin, given
# PM_TIMEOUT), CNI_CONC_DRIVER=runner drives phase 2 through
# podmesh-cnitool (conf type podmesh-ipam) instead of directly.
#
# Checked after the ADDs of each phase: every ADD succeeded; no address
# handed out twice; each address lies in a block affine to its pod's node
# (or is borrowed: counted and printed); per node the blocks affine to it
# are exactly its confirmed affinity keys, at least ceil(pods/64) of them
# and at most 4 more (or 4 more than it had before the phase); the blocks
# hold exactly the results' addresses.
# Phase 1 also: one WorkloadEndpoint per pod naming its container, node
# and address; one cali* link per pod; a sample of pods holding their
# address; `ipam check` clean.  Phase 2: `ipam check` reports exactly
# the 2400 allocations as unused (no endpoints: nothing else).  After the
# DELs of each phase: every DEL succeeded, 0 addresses in use, no handle,
# no WorkloadEndpoint, no cali* link, the affine blocks unchanged
# (Calico keeps empty affine blocks), and `ipam check` clean.  Printed
# per phase: wall time, ADDs (DELs) per second, per-call p50/p99.
PM_TIMEOUT=${PM_TIMEOUT:-600}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"
. "$(dirname "$0")/cni_lib.sh"

require_cni

CN_NODES=(n1 n2 n3)
CN_RUNNERS=${CNI_CONC_RUNNERS:-4}
CN_PLUGIN_PER=${CNI_CONC_PLUGIN_PER:-25}
CN_IPAM_PER=${CNI_CONC_IPAM_PER:-200}
CN_DRIVER=${CNI_CONC_DRIVER:-direct}
CN_BLOCK=26
CN_PAR=$((${#CN_NODES[@]} * CN_RUNNERS))

step "cluster: ${CN_NODES[*]}, pool $NODE_POOL /$CN_BLOCK"
cni_cluster "${CN_NODES[@]}"
cni_pool pool4 "$NODE_POOL" "$CN_BLOCK"
for n in "${CN_NODES[@]}"; do
	cni_conf "$PM_TMP/$n.plugin.conf" "$n"
	# phase 2: podmesh-ipam's own config (for the runner a single-plugin
	# .conf, a list of one)
	jq -n --arg net "$CNI_NET" --arg node "$n" --arg etcd "$NODE_ETCD_URL" \
	    '{cniVersion: "1.0.0", name: $net, type: "podmesh-ipam",
	    nodename: $node, etcd_endpoints: $etcd, log_level: "warning",
	    ipam: {type: "podmesh-ipam"}}' >"$PM_TMP/$n.ipam.conf"
done

# The runner: one loop inside a node's namespace (no `ip netns exec` per
# call), one line per call: "CID STATUS MICROSECONDS RESULT-ON-ONE-LINE".
# KIND plugin or runner: podmesh-cnitool CMD CONF NETNS; direct: the IPAM
# binary with the CNI_* variables and CONF on stdin.  Containers are
# <node>r<runner><tag><index>, their netns the pod namespace of that name
# or FIXED when given.
cat >"$PM_TMP/runner.sh" <<'RUNEOF'
# runner.sh NODE RUNNER COUNT CMD CONF PREFIX TAG KIND FIXED OUT
node=$1 r=$2 count=$3 cmd=$4 conf=$5 prefix=$6 tag=$7 kind=$8 fixed=$9
out=${10}
exec 3>>"$out"
for ((i = 0; i < count; i++)); do
	cid=${node}r$r$tag$i
	netns=${fixed:-/var/run/netns/$prefix$cid}
	t0=${EPOCHREALTIME/[.,]/}
	if [ "$kind" = direct ]; then
		res=$(CNI_COMMAND=${cmd^^} CNI_CONTAINERID=$cid CNI_NETNS=$netns \
		    CNI_IFNAME=eth0 "$CNI_IPAM" <"$conf" 2>>"$out.err")
	else
		res=$(CNI_CONTAINERID=$cid "$CNI_TOOL" "$cmd" "$conf" "$netns" \
		    2>>"$out.err")
	fi
	rc=$?
	t1=${EPOCHREALTIME/[.,]/}
	res=${res//$'\n'/}
	printf '%s %d %d %s\n' "$cid" "$rc" $((t1 - t0)) "${res:--}" >&3
done
RUNEOF

# blocks_before PHASE: each node's affine blocks before the phase's ADDs
blocks_before() {
	local n
	for n in "${CN_NODES[@]}"; do
		node_blocks "$n" | wc -l >"$PM_TMP/$1.before-$n"
	done
}

# run_all PHASE CMD PER TAG KIND FIXED: every runner of every node at
# once; prints the wall time in us.
run_all() {
	local ph=$1 cmd=$2 per=$3 tag=$4 kind=$5 fixed=$6 n r pids=() t0 conf
	local asan=${ASAN_OPTIONS:-}
	# the bulk without LeakSanitizer's exit scan (a third of each call's
	# time); phase 1 keeps it
	[ "$kind" = plugin ] || asan=${asan:+$asan:}detect_leaks=0
	t0=$(_pm_now)
	for n in "${CN_NODES[@]}"; do
		conf=$PM_TMP/$n.plugin.conf
		[ "$kind" = plugin ] || conf=$PM_TMP/$n.ipam.conf
		for ((r = 0; r < CN_RUNNERS; r++)); do
			: >"$PM_TMP/$ph.$cmd-$n-$r.out"
			ip netns exec "$(ns "$n")" env CNI_PATH="$CNI_PATHS" \
			    CNI_TOOL="$CNI_TOOL" CNI_IPAM="$CNI_IPAM" \
			    ASAN_OPTIONS="$asan" \
			    PODMESH_CNI_CACHE="$PM_TMP/cache-$n" \
			    bash "$PM_TMP/runner.sh" "$n" "$r" "$per" "$cmd" \
			    "$conf" "$PM_PREFIX" "$tag" "$kind" "$fixed" \
			    "$PM_TMP/$ph.$cmd-$n-$r.out" &
			pids+=($!)
		done
	done
	for r in "${pids[@]}"; do
		wait "$r"
	done
	echo $(($(_pm_now) - t0))
}

# stats PHASE CMD TOTAL WALL_US: fail on any failed call, print the rate
# and the per-call latency.
stats() {
	local ph=$1 cmd=$2 total=$3 wall=$4 nfail f=$PM_TMP/$1.$2.all
	cat "$PM_TMP/$ph.$cmd"-*-*.out >"$f"
	[ "$(wc -l <"$f")" -eq "$total" ] ||
	    fail "$ph $cmd: $(wc -l <"$f") calls recorded, wanted $total"
	nfail=$(awk '$2 != 0' "$f" | wc -l)
	if [ "$nfail" -ne 0 ]; then
		awk '$2 != 0' "$f" | head -5 >&2
		tail -n 20 "$PM_TMP/$ph.$cmd"-*.out.err >&2
		fail "$ph $cmd: $nfail of $total calls failed (first ones above)"
	fi
	ok "$ph $cmd: all $total calls succeeded"
	awk '{ print $3 }' "$f" | sort -n |
	    awk -v wall="$wall" -v what="$ph ${cmd^^}" -v par="$CN_PAR" '
	    { v[NR] = $1 }
	    END {
		p50 = v[int(NR * 0.50) > 0 ? int(NR * 0.50) : 1]
		p99 = v[int(NR * 0.99) > 0 ? int(NR * 0.99) : 1]
		printf "%s: %d calls, %d runners, %.2f s wall = %.1f/s; " \
		    "per call p50 %.1f ms, p99 %.1f ms, max %.1f ms\n", \
		    what, NR, par, wall / 1e6, NR / (wall / 1e6), \
		    p50 / 1e3, p99 / 1e3, v[NR] / 1e3
	    }' | tee -a "$PM_TMP/summary" >&2
}

# check_adds PHASE PER-NODE WEPS(0|1): results, blocks, affinities and
# (WEPS=1) endpoints, in one python pass.
check_adds() {
	local ph=$1 pernode=$2 weps=$3 n out
	out=$(nctl ipam show --show-blocks -o json 2>&1) || fail "ipam show: $out"
	echo "$out" >"$PM_TMP/$ph.show.json"
	for n in "${CN_NODES[@]}"; do
		node_blocks "$n" >"$PM_TMP/$ph.aff-$n"
		ectl get --prefix "/calico/ipam/v2/host/$n/ipv4/block/" -w json |
		    jq -r '.kvs[]? | .value | @base64d | fromjson |
		        .state // "confirmed"' |
		    sort | uniq -c >"$PM_TMP/$ph.affstate-$n"
	done
	if [ "$weps" = 1 ]; then
		ectl get --prefix "$CNI_WEP_PREFIX" -w json |
		    jq -c '.kvs[]? | .value | @base64d | fromjson |
		        {cid: .spec.containerID, node: .spec.node,
		         nets: .spec.ipNetworks}' >"$PM_TMP/$ph.weps.json"
	fi
	python3 - "$PM_TMP" "$ph" "$weps" "$pernode" "$CN_BLOCK" \
	    "${CN_NODES[@]}" <<'PYEOF' ||
import ipaddress, json, math, sys
tmp, ph, weps, pernode, blen = sys.argv[1:6]
weps, pernode, blen = weps == "1", int(pernode), int(blen)
nodes = sys.argv[6:]
errs = []
owner = {}          # address -> cid
addr_of = {}        # cid -> address
for line in open("%s/%s.add.all" % (tmp, ph)):
    cid, rc, us, res = line.rstrip("\n").split(" ", 3)
    try:
        r = json.loads(res)
    except ValueError:
        errs.append("%s: result is not JSON: %.200s" % (cid, res))
        continue
    ips = r.get("ips") or []
    if len(ips) != 1:
        errs.append("%s: %d ips in the result, wanted 1: %.200s" % (cid, len(ips), res))
        continue
    net = ipaddress.ip_interface(ips[0]["address"])
    if weps and net.network.prefixlen != 32:
        errs.append("%s: address %s is not a /32" % (cid, net))
    a = net.ip
    if a in owner:
        errs.append("address %s handed out twice: %s and %s" % (a, owner[a], cid))
    owner[a] = cid
    addr_of[cid] = a
print("%s: %d distinct addresses" % (ph, len(owner)), file=sys.stderr)
show = json.load(open("%s/%s.show.json" % (tmp, ph)))
blocks = []
for p in show.get("pools", []):
    for b in p.get("blocks", []):
        blocks.append((ipaddress.ip_network(b["cidr"]), b.get("affinity"), b.get("in_use")))
borrowed = 0
for cid, a in addr_of.items():
    node = cid.split("r")[0]
    bl = [b for b in blocks if a in b[0]]
    if len(bl) != 1:
        errs.append("%s: address %s in %d blocks" % (cid, a, len(bl)))
        continue
    if bl[0][1] != "host:" + node:
        borrowed += 1
        if borrowed <= 5:
            print("borrowed: %s on %s got %s from block %s (affinity %s)"
                  % (cid, node, a, bl[0][0], bl[0][1]), file=sys.stderr)
print("%s: %d borrowed addresses" % (ph, borrowed), file=sys.stderr)
want = math.ceil(pernode / 2 ** (32 - blen))
for n in nodes:
    aff = set(ipaddress.ip_network(l.strip())
              for l in open("%s/%s.aff-%s" % (tmp, ph, n)) if l.strip())
    mine = set(b[0] for b in blocks if b[1] == "host:" + n)
    states = open("%s/%s.affstate-%s" % (tmp, ph, n)).read().split()
    if aff != mine:
        errs.append("%s: confirmed affinities without block %s, blocks without confirmed affinity %s"
                    % (n, sorted(map(str, aff - mine)), sorted(map(str, mine - aff))))
    if states[1::2] != ["confirmed"]:
        errs.append("%s: affinity states %s, wanted all confirmed" % (n, " ".join(states)))
    used = sum(b[2] for b in blocks if b[1] == "host:" + n)
    print("%s: %s: %d affine blocks (ceil(%d/%d) = %d), %d addresses in them"
          % (ph, n, len(mine), pernode, 2 ** (32 - blen), want, used), file=sys.stderr)
    if len(mine) < want:
        errs.append("%s: %d affine blocks, at least %d needed" % (n, len(mine), want))
    # blocks a node had before this phase stay affine (empty ones too)
    before = int(open("%s/%s.before-%s" % (tmp, ph, n)).read() or 0)
    if len(mine) > max(want, before) + 4:
        errs.append("%s: %d affine blocks for %d pods (%d needed, %d before): blocks wasted"
                    % (n, len(mine), pernode, want, before))
if sum(b[2] for b in blocks) != len(owner):
    errs.append("blocks hold %d addresses, results %d" % (sum(b[2] for b in blocks), len(owner)))
if weps:
    seen = {}
    for l in open("%s/%s.weps.json" % (tmp, ph)):
        if not l.strip():
            continue
        w = json.loads(l)
        cid = w["cid"]
        if cid in seen:
            errs.append("two WorkloadEndpoints for %s" % cid)
        seen[cid] = w
        if cid not in addr_of:
            errs.append("WorkloadEndpoint for unknown container %s" % cid)
            continue
        if w["node"] != cid.split("r")[0]:
            errs.append("%s: WorkloadEndpoint on node %s" % (cid, w["node"]))
        if w["nets"] != ["%s/32" % addr_of[cid]]:
            errs.append("%s: WorkloadEndpoint ipNetworks %s, result %s"
                        % (cid, w["nets"], addr_of[cid]))
    missing = set(addr_of) - set(seen)
    if missing:
        errs.append("%d pods without WorkloadEndpoint, e.g. %s" % (len(missing), sorted(missing)[:3]))
    print("%s: %d WorkloadEndpoints" % (ph, len(seen)), file=sys.stderr)
for e in errs[:20]:
    print("ERROR: " + e, file=sys.stderr)
sys.exit(1 if errs else 0)
PYEOF
	    fail "$ph: results, blocks or endpoints wrong after the ADDs (above)"
	ok "$ph: no address twice, addresses in their node's blocks," \
	    "affinities confirmed and matching the blocks"
}

# check_dels PHASE: everything released, affine blocks kept, check clean.
check_dels() {
	local ph=$1 n c
	[ "$(cni_inuse)" -eq 0 ] ||
	    fail "$ph: after the DELs $(cni_inuse) addresses still in use"
	[ "$(cni_handles)" -eq 0 ] ||
	    fail "$ph: after the DELs $(cni_handles) IPAM handles left:" \
	    "$(ectl get --prefix /calico/ipam/v2/handle/ --keys-only | head -5)"
	[ "$(cni_weps)" -eq 0 ] ||
	    fail "$ph: after the DELs $(cni_weps) WorkloadEndpoints left"
	for n in "${CN_NODES[@]}"; do
		c=$(cni_links "$n" | wc -l)
		[ "$c" -eq 0 ] || fail "$ph: $n: $c cali* links left after" \
		    "the DELs: $(cni_links "$n" | head -3 | tr '\n' ' ')"
		node_blocks "$n" >"$PM_TMP/$ph.aff2-$n"
		cmp -s "$PM_TMP/$ph.aff-$n" "$PM_TMP/$ph.aff2-$n" ||
		    fail "$ph: $n: affine blocks changed by the DELs:" \
		    "$(diff "$PM_TMP/$ph.aff-$n" "$PM_TMP/$ph.aff2-$n" | head -5)"
	done
	ok "$ph: 0 in use, no handle, no endpoint, no cali* link;" \
	    "affine blocks kept"
	cni_check_clean "after the $ph DELs"
}

# ---------------------------------------------------------------------------
# Phase 1: the whole plugin.
PER=$CN_PLUGIN_PER
TOTAL=$((CN_PAR * PER))
pods=()
for n in "${CN_NODES[@]}"; do
	for ((r = 0; r < CN_RUNNERS; r++)); do
		for ((i = 0; i < PER; i++)); do
			pods+=("${n}r${r}i$i")
		done
	done
done
step "plugin: making ${#pods[@]} pod namespaces"
t0=$(_pm_now)
cni_pods_add "${pods[@]}"
log "made in $(_pm_secs $(($(_pm_now) - t0)))s"

step "plugin: ADD, ${#CN_NODES[@]} nodes x $CN_RUNNERS runners x $PER"
blocks_before plugin
wall=$(run_all plugin add "$PER" i plugin "")
stats plugin add "$TOTAL" "$wall"
check_adds plugin $((CN_RUNNERS * PER)) 1
for n in "${CN_NODES[@]}"; do
	c=$(cni_links "$n" | wc -l)
	[ "$c" -eq $((CN_RUNNERS * PER)) ] ||
	    fail "$n: $c cali* links after the ADDs, wanted $((CN_RUNNERS * PER))"
done
ok "plugin: $((CN_RUNNERS * PER)) cali* links on each node"
for cid in n1r0i0 "n2r$((CN_RUNNERS - 1))i$((PER - 1))" "n3r1i$((PER / 2))"; do
	a=$(awk -v c="$cid" '$1 == c' "$PM_TMP/plugin.add.all" | cut -d' ' -f4-)
	a=$(cni_ip "$a")
	ip -n "$(ns "$cid")" -4 -o addr show dev eth0 | grep -q " $a/32 " ||
	    fail "pod $cid: eth0 does not hold $a/32:" \
	    "$(ip -n "$(ns "$cid")" -4 -o addr show 2>&1)"
done
ok "plugin: sampled pods hold their addresses"
[ "$(cni_inuse)" -eq "$TOTAL" ] ||
    fail "ipam show: $(cni_inuse) in use, wanted $TOTAL"
cni_check_clean "after the plugin ADDs"

step "plugin: DEL, ${#CN_NODES[@]} nodes x $CN_RUNNERS runners x $PER"
wall=$(run_all plugin del "$PER" i plugin "")
stats plugin del "$TOTAL" "$wall"
check_dels plugin
cni_pods_del

# ---------------------------------------------------------------------------
# Phase 2: the bulk through podmesh-ipam.
PER=$CN_IPAM_PER
TOTAL=$((CN_PAR * PER))
cni_pods_add anyns
kind=$CN_DRIVER
[ "$kind" = direct ] || kind=runner
step "ipam ($kind): ADD, ${#CN_NODES[@]} nodes x $CN_RUNNERS runners x $PER"
blocks_before ipam
wall=$(run_all ipam add "$PER" b "$kind" "$(cni_netns anyns)")
stats ipam add "$TOTAL" "$wall"
check_adds ipam $((CN_RUNNERS * PER)) 0
[ "$(cni_inuse)" -eq "$TOTAL" ] ||
    fail "ipam show: $(cni_inuse) in use, wanted $TOTAL"
out=$(nctl ipam check 2>&1) || fail "ipam check: $out"
if ! grep -q "^Found $TOTAL allocations that no workload endpoint or node uses" <<<"$out" ||
    ! grep -q "^Found 0 blocks affine to a node that does not exist" <<<"$out" ||
    ! grep -q "^Found 0 affinities to a node that does not exist" <<<"$out"; then
	fail "ipam check after the bulk ADDs: wanted exactly the $TOTAL" \
	    "allocations unused (no endpoints), got: $(grep -E '^Found|^Check' <<<"$out")"
fi
ok "ipam check: exactly the $TOTAL allocations without endpoint, nothing else"

step "ipam ($kind): DEL, ${#CN_NODES[@]} nodes x $CN_RUNNERS runners x $PER"
wall=$(run_all ipam del "$PER" b "$kind" "$(cni_netns anyns)")
stats ipam del "$TOTAL" "$wall"
check_dels ipam

log "summary:"
cat "$PM_TMP/summary" >&2
