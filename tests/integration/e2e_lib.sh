# shellcheck shell=bash
#
# The end-to-end cluster (issue #8), shared by e2e_cluster.sh (the README's
# main job) and t_e2e_restart.sh.  Sourced after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/e2e_lib.sh"	# sources node_lib, cni_lib, confd_lib
#
# Topology (node_lib.sh's two-subnet underlay, etcd on 192.0.2.254):
#
#   192.0.2.0/24      n1 .11, n2 .12, n3 .13: podmesh-node, podmesh-bgpd
#                     (datastore mode, kernel sync), 2 pods each
#                     b4 .14: podmesh-node registers it (as calico/node
#                     does), BIRD 2 runs the config podmesh-confd renders
#                     from the shipped confd/dist/bird2 templates; no
#                     podmesh-bgpd; 2 pods
#   rt                router 192.0.2.1 / 198.51.100.1
#   198.51.100.0/24   rr1 .11: a dedicated route reflector: podmesh-node,
#                     podmesh-bgpd (no kernel sync: it forwards no pod
#                     traffic); Node labelled route-reflector=true with
#                     routeReflectorClusterID $E2E_CID; no pods
#
# (The BIRD node is b4, not b1: node_lib derives the underlay address from
# the digit, and n1 has .11.)  Calico's documented reflector setup:
# BGPConfiguration default {nodeToNodeMeshEnabled: false}, BGPPeer
# peer-with-rr {nodeSelector: !has(route-reflector), peerSelector:
# has(route-reflector)}: every node peers only with rr1 (iBGP multihop
# through the router), rr1 with all four as its clients.
#
# One IPPool, 198.18.0.0/16, ipipMode Never and vxlanMode Never: native
# routing.  All pod-carrying nodes share 192.0.2.0/24, so the reflected
# next hops (the nodes' own addresses) are on-link everywhere they matter;
# BIRD's shipped templates leave VXLAN routes to Felix (not part of
# podmesh), and this kernel has no ipip module (IPIP is tested in a VM).
#
# Pods come from the real CNI plugin (podmesh + podmesh-ipam, through
# podmesh-cnitool in the node's namespace): pods <node>a and <node>b.
#
#   e2e_up                     the whole cluster, pods pinging across
#   e2e_show                   node status, pod routes, readiness
#   e2e_matrix                 the 8x8 ping matrix; returns the failures
#   e2e_routes NODE            NODE's pod routes (proto 44, or bird on b4)
#   e2e_probe_start / _stop    a prober per pod, every pod pair, every 0.2 s
#   e2e_down                   SIGTERM to every podmesh-bgpd: exit 0, no
#                              sanitizer report (the traps do the rest)
#
# Settings (before e2e_up): E2E_GR_TIME (restart-time podmesh-bgpd
# advertises; default its own, 120 s), E2E_STALE (kernel stale-time).

. "$PM_LIB_DIR/node_lib.sh"
. "$PM_LIB_DIR/cni_lib.sh"
. "$PM_LIB_DIR/confd_lib.sh"

E2E_POOL=198.18.0.0/16
E2E_CID=244.0.0.1
E2E_BGPD=(n1 n2 n3)	# pod nodes running podmesh-bgpd
E2E_BIRD=b4		# the pod node running BIRD 2 + podmesh-confd
E2E_RR=rr1		# the reflector
E2E_PODNODES=(n1 n2 n3 b4)
E2E_ALL=(n1 n2 n3 b4 rr1)
E2E_GR_TIME=${E2E_GR_TIME:-}
E2E_STALE=${E2E_STALE:-}

# e2e_is_bird NODE
e2e_is_bird() {
	[ "$1" = "$E2E_BIRD" ]
}

# e2e_routes NODE: the node's pod routes (inside the pool), normalised as
# node_lib's node_routes: podmesh-bgpd's (proto 44), or BIRD's (proto
# bird) on the BIRD node.
e2e_routes() {
	local proto=$NODE_PROTO
	e2e_is_bird "$1" && proto=bird
	ip -n "$(ns "$1")" -d -4 route show table main proto "$proto" |
	    _node_norm | grep -E '^(blackhole )?198\.18\.' || true
}

# e2e_expected NODE: what a pod node should hold: a blackhole per own
# block, every other pod node's blocks via that node, on eth0.
e2e_expected() {
	local n=$1 o b
	for o in "${E2E_PODNODES[@]}"; do
		for b in $(node_blocks "$o"); do
			if [ "$o" = "$n" ]; then
				echo "blackhole $b"
			else
				echo "$b via ${NODE_IP[$o]} dev eth0"
			fi
		done
	done | sort
}

_e2e_table_is() {
	[ "$(e2e_routes "$1")" = "$2" ]
}

# _e2e_bird_up NODE PEER-IP: BIRD's only BGP protocol is the one to
# PEER-IP, Established.
_e2e_bird_up() {
	local p
	p=$(bird_protos "$1") || return 1
	[ "$(wc -l <<<"$p")" = 1 ] &&
	    [ "$(awk '{print $1, $3}' <<<"$p")" = "$(proto_name Node "$2") Established" ]
}

# e2e_sessions TIMEOUT: every client Established with rr1 only, rr1 with
# exactly the four of them.
e2e_sessions() {
	local t=$1 n
	for n in "${E2E_BGPD[@]}"; do
		expect_sessions "$n" "$t" "$E2E_RR"
	done
	expect_sessions "$E2E_RR" "$t" "${E2E_PODNODES[@]}"
	wait_until "$t" _e2e_bird_up "$E2E_BIRD" "${NODE_IP[$E2E_RR]}" ||
	    fail "$E2E_BIRD: BIRD's BGP protocols are not exactly" \
	    "$(proto_name Node "${NODE_IP[$E2E_RR]}") Established:" \
	    $'\n'"$(birdc_ "$E2E_BIRD" show protocols)"
	ok "$E2E_BIRD: BIRD Established with $E2E_RR only"
}

# e2e_tables TIMEOUT: every pod node's table exactly e2e_expected's.
e2e_tables() {
	local t=$1 n want
	for n in "${E2E_PODNODES[@]}"; do
		want=$(e2e_expected "$n")
		wait_until "$t" _e2e_table_is "$n" "$want" ||
		    fail "$n: pod routes not as expected within ${t}s (< want, > have):" \
		    $'\n'"$(diff <(echo "$want") <(e2e_routes "$n") | sed 's/^/    /')"
	done
	ok "every pod node holds a blackhole per own block and every other" \
	    "node's blocks natively ($(e2e_expected n1 | wc -l) routes each)"
}

# _e2e_apply NAME: podmeshctl apply -f of stdin.
_e2e_apply() {
	local out
	cat >"$PM_TMP/$1.yaml"
	out=$(nctl apply -f "$PM_TMP/$1.yaml" 2>&1) || fail "apply $1: $out"
}

# e2e_up: the cluster, with progress lines.
e2e_up() {
	local n p kernel envs
	require_node
	require_cni
	require_confd
	step "underlay: 192.0.2.0/24 and 198.51.100.0/24 joined by a router; etcd"
	underlay two
	for n in "${E2E_PODNODES[@]}"; do
		node_add "$n"
		mkdir -p "$PM_TMP/cache-$n"
	done
	node_add "$E2E_RR" subnet=2
	node_etcd_start

	step "podmesh-node on every node (pool $E2E_POOL, native: IPIP and VXLAN Never)"
	envs=("CALICO_IPV4POOL_CIDR=$E2E_POOL" CALICO_IPV4POOL_IPIP=Never
	    CALICO_IPV4POOL_VXLAN=Never)
	for n in "${E2E_ALL[@]}"; do
		node_start "$n" "${envs[@]}"
	done

	step "route reflector: $E2E_RR (cluster id $E2E_CID), mesh off, BGPPeer peer-with-rr"
	{
		nctl get node "$E2E_RR" -o json | jq -c --arg cl "$E2E_CID" '
		    .metadata.labels["route-reflector"] = "true" |
		    .spec.bgp.routeReflectorClusterID = $cl |
		    del(.metadata.resourceVersion)'
		cat <<EOF
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false, asNumber: $NODE_AS}
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: peer-with-rr}
spec:
  nodeSelector: "!has(route-reflector)"
  peerSelector: "has(route-reflector)"
EOF
	} | _e2e_apply rr

	step "podmesh-bgpd (datastore mode) on ${E2E_BGPD[*]} $E2E_RR; BIRD 2 + podmesh-confd on $E2E_BIRD"
	kernel="enabled: true"
	[ -n "$E2E_STALE" ] && kernel+=", stale-time: $E2E_STALE"
	# The dedicated reflector forwards no pod traffic (its subnet does
	# not reach the pod nodes' next hops): no kernel sync there.
	NODE_KERNEL[$E2E_RR]="{enabled: false}"
	for n in "${E2E_BGPD[@]}" "$E2E_RR"; do
		[ "$n" = "$E2E_RR" ] || NODE_KERNEL[$n]="{$kernel}"
		[ -n "$E2E_GR_TIME" ] &&
		    NODE_YAML[$n]="graceful-restart: {restart-time: $E2E_GR_TIME}"
		node_bgpd_start "$n"
	done
	confd_setup "$E2E_BIRD"
	confd_onetime "$E2E_BIRD"
	confd_bird_start "$E2E_BIRD"
	confd_start "$E2E_BIRD"
	e2e_sessions 30

	step "pods through the CNI plugin (podmesh + podmesh-ipam), 2 per node"
	for n in "${E2E_PODNODES[@]}"; do
		cni_conf "$PM_TMP/cni-$n.conflist" "$n"
		cni_pods_add "${n}a" "${n}b"
	done
	for n in "${E2E_PODNODES[@]}"; do
		for p in "${n}a" "${n}b"; do
			cni_pod "$n" "$p" "$PM_TMP/cni-$n.conflist" "e2e-$p"
			[[ ${POD_IP[$p]} == 198.18.* ]] ||
			    fail "pod $p on $n: address '${POD_IP[$p]}' not from $E2E_POOL"
		done
		log "$n: pods ${n}a ${POD_IP[${n}a]}, ${n}b ${POD_IP[${n}b]}; blocks" \
		    "$(node_blocks "$n" | tr '\n' ' ')"
	done

	step "routes: every block on every pod node"
	e2e_tables 20
}

# e2e_status NODE: its BGP sessions as the operator sees them, in
# calicoctl's layout: from podmesh-bgpd's control socket, or from BIRD's
# (`podmeshctl node status --bird`) on the BIRD node.
e2e_status() {
	if e2e_is_bird "$1"; then
		"$PODMESHCTL" node status --bird "$(_bird_sock "$1")"
	else
		podmeshctl_ "$1" node status
	fi
}

# e2e_status_cmd NODE: the command e2e_status runs, for the heading.
e2e_status_cmd() {
	if e2e_is_bird "$1"; then
		echo "podmeshctl node status --bird BIRD's socket"
	else
		echo "podmeshctl node status"
	fi
}

# e2e_show: every node's sessions and pod routes, and podmesh-bgpd's
# readiness where its HTTP endpoint answers (127.0.0.1:9099).
e2e_show() {
	local n r what
	for n in "${E2E_ALL[@]}"; do
		echo
		echo "## $n (${NODE_IP[$n]}): $(e2e_status_cmd "$n")"
		e2e_status "$n"
		if e2e_is_bird "$n"; then
			what="ip route show proto bird (BIRD's kernel routes, pool only)"
		else
			what="ip route show proto 44 (podmesh-bgpd's kernel routes)"
		fi
		echo "## $n: $what"
		if [ "$n" = "$E2E_RR" ]; then
			r=$(ip -n "$(ns "$n")" route show proto 44)
			echo "${r:-(none: a dedicated reflector runs without a kernel sync)}"
		elif e2e_is_bird "$n"; then
			ip -n "$(ns "$n")" route show proto bird | grep -E '^(blackhole )?198\.18\.'
		else
			ip -n "$(ns "$n")" route show proto 44
		fi
		e2e_is_bird "$n" && continue
		r=$(nsx "$n" curl -s --max-time 1 http://127.0.0.1:9099/readiness 2>/dev/null) &&
		    [ -n "$r" ] && echo "## $n: curl http://127.0.0.1:9099/readiness: $r"
	done
	return 0
}

# The prober: one python3 per source pod, raw ICMP to every other pod.
#   pmprobe.py once TRIES WAIT DEST...      "DEST ok|FAIL" per DEST: up to
#       TRIES rounds, each sending to the DESTs not answered yet and
#       waiting WAIT s for replies
#   pmprobe.py watch INTERVAL WAIT DEST...  every INTERVAL s an echo to
#       each DEST, WAIT s to answer, until SIGTERM; then per DEST
#       "DEST SENT OK LOST MAXGAP_MS" where MAXGAP_MS is the longest time
#       from a probe that went unanswered to the next answered one's
#       sending (0: nothing lost; -1 if it never came back), and for every
#       run of losses "RUN DEST START_EPOCH END_EPOCH LOST"
cat >"$PM_TMP/pmprobe.py" <<'PYEOF'
import os, select, signal, socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

mode, a1, a2 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
dests = sys.argv[4:]
stop = False

def on_sig(*_):
    global stop
    stop = True

signal.signal(signal.SIGINT, on_sig)
signal.signal(signal.SIGTERM, on_sig)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xFFFF
seq = 0
pending = {}  # seq -> (dest, t_sent, index in results[dest])
results = {d: [] for d in dests}  # dest -> [[t_sent, ok or None]]

def send(d):
    global seq
    seq = (seq + 1) & 0xFFFF
    t = time.time()
    body = struct.pack("!d", t) + b"podmesh"
    hdr = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    pkt = struct.pack("!BBHHH", 8, 0, csum(hdr + body), ident, seq) + body
    try:
        s.sendto(pkt, (d, 0))
    except OSError:
        pass
    results[d].append([t, None])
    pending[seq] = (d, t, len(results[d]) - 1)

def receive(until, drain=False):
    while True:
        left = until - time.time()
        if left <= 0 or (stop and mode == "watch" and not drain):
            return
        try:
            r, _, _ = select.select([s], [], [], left)
        except InterruptedError:
            continue
        if not r:
            return
        data, addr = s.recvfrom(2048)
        ihl = (data[0] & 0x0F) * 4
        if len(data) < ihl + 8:
            continue
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ != 0 or rid != ident or rseq not in pending:
            continue
        d, t, i = pending[rseq]
        if addr[0] != d:
            continue
        del pending[rseq]
        if time.time() - t <= a2:
            results[d][i][1] = True

def expire(now):
    for q in [q for q, (d, t, i) in pending.items() if now - t > a2]:
        d, t, i = pending.pop(q)
        results[d][i][1] = False

if mode == "once":
    todo = list(dests)
    for _ in range(int(a1)):
        for d in todo:
            send(d)
        receive(time.time() + a2)
        todo = [d for d in todo if not any(ok for _, ok in results[d])]
        if not todo:
            break
    for d in dests:
        print(d, "ok" if any(ok for _, ok in results[d]) else "FAIL")
    sys.exit(0)

nxt = time.time()
while not stop:
    for d in dests:
        send(d)
    nxt += a1
    receive(nxt)
    expire(time.time())
receive(time.time() + a2, True)  # the last probes' answers
expire(time.time() + a2 + 1)
end = time.time()
for d in dests:
    r = results[d]
    lost = sum(1 for _, ok in r if not ok)
    gap, run = 0, None  # run: [start, lost]
    for t, ok in r:
        if not ok:
            if run is None:
                run = [t, 0]
            run[1] += 1
        elif run is not None:
            gap = max(gap, int((t - run[0]) * 1000))
            print("RUN", d, "%.3f" % run[0], "%.3f" % t, run[1])
            run = None
    if run is not None:
        print("RUN", d, "%.3f" % run[0], "never", run[1])
        gap = -1
    print(d, len(r), len(r) - lost, lost, gap)
sys.stdout.flush()
PYEOF

# _e2e_others POD: the addresses of every other pod.
_e2e_others() {
	local q
	for q in "${PODS[@]}"; do
		[ "$q" = "$1" ] || echo "${POD_IP[$q]}"
	done
}

# e2e_matrix: the pod-to-pod ping matrix (one prober per source pod, all
# in parallel, 3 tries of 1 s); prints it, returns the number of failures.
e2e_matrix() {
	local p q bad=0 r pids=()
	declare -A res
	for p in "${PODS[@]}"; do
		# shellcheck disable=SC2046
		nsx "$p" python3 "$PM_TMP/pmprobe.py" once 3 1 $(_e2e_others "$p") \
		    >"$PM_TMP/matrix-$p" 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
	for p in "${PODS[@]}"; do
		while read -r q r; do
			res[$p.$q]=$r
		done <"$PM_TMP/matrix-$p"
	done
	echo
	echo "## pod-to-pod ping matrix (ok = replies; rows ping columns)"
	printf '%-5s' ""
	for q in "${PODS[@]}"; do printf '%-5s' "$q"; done
	echo
	for p in "${PODS[@]}"; do
		printf '%-5s' "$p"
		for q in "${PODS[@]}"; do
			if [ "$p" = "$q" ]; then
				r=-
			else
				r=${res[$p.${POD_IP[$q]}]:-FAIL}
				[ "$r" = ok ] || { r=FAIL; bad=$((bad + 1)); }
			fi
			printf '%-5s' "$r"
		done
		echo
	done
	echo "(pods:$(for p in "${PODS[@]}"; do printf ' %s=%s@%s' "$p" "${POD_IP[$p]}" "${POD_NODE[$p]}"; done))"
	return "$bad"
}

# e2e_probe_start: a watching prober in every pod (every other pod, every
# 0.2 s, 0.5 s to answer), output $PM_TMP/probe-POD.
e2e_probe_start() {
	local p
	for p in "${PODS[@]}"; do
		# shellcheck disable=SC2046
		ip netns exec "$(ns "$p")" python3 "$PM_TMP/pmprobe.py" watch 0.2 0.5 \
		    $(_e2e_others "$p") >"$PM_TMP/probe-$p" 2>&1 &
		PM_PID["probe:$p"]=$!
	done
}

# e2e_probe_stop: SIGTERM the probers, wait for their summaries.
e2e_probe_stop() {
	local p pid
	for p in "${PODS[@]}"; do
		kill -TERM "${PM_PID[probe:$p]}"
	done
	for p in "${PODS[@]}"; do
		pid=${PM_PID[probe:$p]}
		wait_until 5 not kill -0 "$pid" ||
		    fail "the prober in $p did not stop"
		wait "$pid" ||
		    fail "the prober in $p failed: $(tail -3 "$PM_TMP/probe-$p")"
		unset "PM_PID[probe:$p]"
	done
}

# e2e_down: every podmesh-bgpd must exit 0 on SIGTERM with no sanitizer
# report; podmesh-confd stopped; lib.sh's traps remove everything else.
e2e_down() {
	local n
	for n in "${E2E_BGPD[@]}" "$E2E_RR"; do
		daemon_alive podmesh "$n" && podmesh_finish "$n"
	done
	daemon_alive confd "$E2E_BIRD" && stop_daemon confd "$E2E_BIRD"
	return 0
}
