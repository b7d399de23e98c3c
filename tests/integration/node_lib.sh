# shellcheck shell=bash
#
# Cluster harness for the node tests (issue #5): namespaces as Kubernetes
# nodes on a bridge underlay, a real etcd they all reach, podmesh-node and
# podmesh-bgpd (datastore mode, kernel sync on) in every node, and "pods"
# wired as Calico wires them.  Sourced after lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/node_lib.sh"
#
# Topology (logical namespace names; lib.sh's ns() gives the real ones):
#
#   infra   br0 (192.0.2.254/24; etcd listens there on :2379), and br1
#           for the second subnet
#   rt      router between the subnets: 192.0.2.1 on br0, 198.51.100.1
#           on br1 (two-subnet variant only)
#   nI      a node: eth0 into br0 with 192.0.2.(10+I)/24, or into br1 with
#           198.51.100.(10+I)/24; ip_forward=1; default route via infra
#           (one subnet) or via the router (two subnets)
#   POD     a pod: eth0 with its IPAM address /32, default via 169.254.1.1;
#           the node side is "cali<POD>" with proxy_arp and a /32 route
#
# Dual stack (optional): `node_add NODE v6` gives the node 2001:db8:1::1I/64
# on eth0 too (first subnet only), IPv6 forwarding, and podmesh-node
# IP6=<it>/64 unless the test passes IP6; `pod_add NODE POD v6` gives the
# pod an IPv6 address from IPAM as well (/128 on eth0, default route via
# fe80::ecee:eeff:feee:eeee, the link-local of the node side whose MAC is
# ee:ee:ee:ee:ee:ee, as Calico's CNI wires it; /128 route and proxy_ndp on
# the node side).  The session checks (expect_sessions, expect_mesh) then
# want a session per family that both ends have, as Calico's mesh peers.
#
# Names: nodes n1..n9 (the digit gives the address), pods any short name.
# The cluster is torn down by cluster_down (so a test can build several
# in turn) or by lib.sh's cleanup trap.
#
# Kernel routes are printed normalised, one per line, sorted:
#	198.18.3.0/26 via 192.0.2.12 dev eth0
#	198.18.3.0/26 via 192.0.2.12 dev tunl0 onlink
#	blackhole 198.18.7.64/26
# (ip -d route show proto 44 in the main table; proto, scope, metric and
# linkdown dropped; multipath next hops appended as "nexthop via ... dev ...").

NODE_ETCD_IP=192.0.2.254
NODE_ETCD_URL=http://$NODE_ETCD_IP:2379
NODE_PROTO=44
NODE_AS=64512
NODE_HOLD=${NODE_HOLD:-9}
NODE_POOL=198.18.0.0/16
PODMESH_NODE="$PODMESH_BUILD/node/podmesh-node"

NODES=()		# node names, in order of node_add
declare -A NODE_IP	# node -> underlay address
declare -A NODE_LEN	# node -> underlay prefix length
declare -A NODE_GW	# node -> default gateway
declare -A NODE_YAML	# node -> extra YAML lines for its podmesh-bgpd
declare -A NODE_KERNEL	# node -> its kernel: section ({enabled: true})
PODS=()
declare -A POD_IP	# pod -> address
declare -A POD_NODE	# pod -> node
NODE_TWO_SUBNETS=0
declare -A NODE_IP6	# node -> IPv6 underlay address (dual-stack nodes)
declare -A POD_IP6	# pod -> IPv6 address (pods added with v6)
NODE_LL6=fe80::ecee:eeff:feee:eeee # link-local of MAC ee:ee:ee:ee:ee:ee

for _c in etcd etcdctl jq curl python3 bridge; do
	command -v $_c >/dev/null || fail "$_c not installed"
done
unset _c

# require_node: the three programs a node test needs.
require_node() {
	require_podmesh
	[ -x "$PODMESH_NODE" ] ||
	    fail "podmesh-node not built: $PODMESH_NODE (PODMESH_BUILD=$PODMESH_BUILD)"
	"$PODMESHCTL" ipam assign --help 2>&1 | grep -q 'ipam assign' ||
	    fail "podmeshctl has no 'ipam assign' ($PODMESHCTL ipam assign --help:" \
	    "$("$PODMESHCTL" ipam assign --help 2>&1 | head -3))"
}

# ---------------------------------------------------------------------------
# Failure dumps: the nodes' kernel view and podmesh-node's output besides
# lib.sh's daemon dumps.

node_dump() {
	local n
	for n in "${NODES[@]}"; do
		echo "----- kernel of $n -----"
		ip -n "$(ns "$n")" -d -4 route show table main 2>&1 | head -40
		[ -n "${NODE_IP6[$n]:-}" ] &&
		    ip -n "$(ns "$n")" -d -6 route show table main 2>&1 | head -40
		ip -n "$(ns "$n")" neigh show dev vxlan.calico 2>/dev/null
		bridge -n "$(ns "$n")" fdb show dev vxlan.calico 2>/dev/null
		if [ -s "$PM_TMP/$n.node.log" ]; then
			echo "--- podmesh-node in $n (tail)"
			tail -15 "$PM_TMP/$n.node.log"
		fi
	done >&2
}

fail() {
	log "FAIL: $*"
	node_dump
	pm_dump
	exit 1
}

# ---------------------------------------------------------------------------
# Underlay

# node_index NODE: n3 -> 3
node_index() {
	local i=${1//[!0-9]/}
	[ -n "$i" ] || fail "node name '$1' has no number"
	echo "$i"
}

# underlay [two]: the infra namespace (bridges, etcd's address) and, with
# "two", the router between 192.0.2.0/24 and 198.51.100.0/24.
underlay() {
	bridge_add infra
	ip -n "$(ns infra)" addr add "$NODE_ETCD_IP/24" dev br0 ||
	    fail "address on infra br0"
	NODE_TWO_SUBNETS=0
	[ "${1:-}" = two ] || return 0
	NODE_TWO_SUBNETS=1
	ip -n "$(ns infra)" link add br1 address 02:00:00:00:b0:01 type bridge &&
	    ip -n "$(ns infra)" link set br1 up || fail "infra br1"
	ns_add rt
	_node_plug rt eth0 br0 192.0.2.1/24
	_node_plug rt eth1 br1 198.51.100.1/24
	nsx rt sysctl -qw net.ipv4.ip_forward=1 >/dev/null
	ip -n "$(ns infra)" route add 198.51.100.0/24 via 192.0.2.1 ||
	    fail "infra route to the second subnet"
	log "underlay: 192.0.2.0/24 and 198.51.100.0/24, router rt"
}

# _node_plug NS IFNAME BRIDGE ADDR: veth IFNAME in NS into BRIDGE of infra.
_node_plug() {
	local n=$1 ifn=$2 br=$3 addr=$4 port
	port="$n-$ifn"
	port=${port:0:15}
	ip link add "$port" netns "$(ns infra)" type veth \
	    peer name "$ifn" netns "$(ns "$n")" || fail "veth $n:$ifn"
	ip -n "$(ns infra)" link set "$port" master "$br" &&
	    ip -n "$(ns infra)" link set "$port" up || fail "$port into $br"
	ip -n "$(ns "$n")" addr add "$addr" dev "$ifn" &&
	    ip -n "$(ns "$n")" link set "$ifn" up || fail "$addr on $n:$ifn"
}

# node_add NODE [subnet=1|2] [v6]: a node namespace on the underlay; v6
# adds 2001:db8:1::1I/64 (nodad) on eth0 and IPv6 forwarding.
node_add() {
	local n=$1 subnet=subnet=1 v6="" i a
	shift
	for a in "$@"; do
		case $a in
		subnet=*) subnet=$a ;;
		v6) v6=1 ;;
		*) fail "node_add $n: unknown argument '$a'" ;;
		esac
	done
	i=$(node_index "$n")
	[ -z "$v6" ] || [ "$subnet" = subnet=1 ] ||
	    fail "node_add $n: v6 on the first subnet only"
	ns_add "$n"
	nsx "$n" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
	    net.ipv4.conf.default.rp_filter=0 >/dev/null
	if [ "$subnet" = subnet=2 ]; then
		[ "$NODE_TWO_SUBNETS" = 1 ] || fail "node_add $n: no second subnet"
		NODE_IP[$n]=198.51.100.$((10 + i))
		NODE_GW[$n]=198.51.100.1
		_node_plug "$n" eth0 br1 "${NODE_IP[$n]}/24"
	else
		NODE_IP[$n]=192.0.2.$((10 + i))
		if [ "$NODE_TWO_SUBNETS" = 1 ]; then
			NODE_GW[$n]=192.0.2.1
		else
			NODE_GW[$n]=$NODE_ETCD_IP
		fi
		_node_plug "$n" eth0 br0 "${NODE_IP[$n]}/24"
	fi
	NODE_LEN[$n]=24
	ip -n "$(ns "$n")" route add default via "${NODE_GW[$n]}" ||
	    fail "default route in $n"
	if [ -n "$v6" ]; then
		NODE_IP6[$n]=2001:db8:1::1$i
		nsx "$n" sysctl -qw net.ipv6.conf.all.forwarding=1 >/dev/null &&
		    ip -n "$(ns "$n")" addr add "${NODE_IP6[$n]}/64" dev eth0 nodad ||
		    fail "IPv6 underlay address in $n"
	fi
	NODES+=("$n")
}

# tunl0_standin NODE: this kernel has no ipip module, so a veth pair named
# tunl0 / tunl0-peer (both up) stands in for the tunnel device; routes
# through it are checked for their encoding only.
tunl0_standin() {
	ip -n "$(ns "$1")" link add tunl0 type veth peer name tunl0-peer &&
	    ip -n "$(ns "$1")" link set tunl0-peer up &&
	    ip -n "$(ns "$1")" link set tunl0 up || fail "tunl0 stand-in in $1"
}

# ---------------------------------------------------------------------------
# etcd, inside infra on 192.0.2.254:2379 (and 127.0.0.1:2379 there), under
# lib.sh's daemon bookkeeping as "etcd:cl" (log $PM_TMP/etcd-cl.log).

node_etcd_start() {
	local peer=http://127.0.0.1:2380
	ip netns exec "$(ns infra)" etcd --name cl \
	    --data-dir "$PM_TMP/etcd-cl" \
	    --listen-client-urls "$NODE_ETCD_URL,http://127.0.0.1:2379" \
	    --advertise-client-urls "$NODE_ETCD_URL" \
	    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
	    --initial-cluster "cl=$peer" --log-level warn \
	    >>"$PM_TMP/etcd-cl.log" 2>&1 &
	PM_PID["etcd:cl"]=$!
	PM_CONF["etcd:cl"]=$NODE_ETCD_URL
	_pm_daemon etcd:cl
	wait_until 15 _node_etcd_healthy || fail "etcd in infra did not come up"
	log "etcd up on $NODE_ETCD_URL (pid ${PM_PID["etcd:cl"]})"
}

_node_etcd_healthy() {
	nsx infra curl -sf --max-time 2 "$NODE_ETCD_URL/health" |
	    grep -q '"health":"true"'
}

node_etcd_stop() {
	etcd_stop cl "${1:-TERM}"
}

# ectl ARGS...: etcdctl against the cluster's etcd.
ectl() {
	ETCDCTL_API=3 nsx infra etcdctl --endpoints "$NODE_ETCD_URL" "$@"
}

# nctl ARGS...: podmeshctl (datastore commands) against the cluster's etcd.
nctl() {
	ETCD_ENDPOINTS=$NODE_ETCD_URL nsx infra timeout 20 "$PODMESHCTL" "$@"
}

# ---------------------------------------------------------------------------
# Nodes

# node_start NODE [VAR=VALUE...]: podmesh-node in NODE with calico/node's
# environment: NODENAME, IP (the node's address/len unless given),
# ETCD_ENDPOINTS, and the VARs (CALICO_IPV4POOL_*, IP=autodetect, ...).
# Fails unless it exits 0.
node_start() {
	local n=$1 out=$PM_TMP/$1.node.log rc=0 ip6=()
	shift
	{
		echo "=== podmesh-node $* ($(_pm_elapsed)s)"
	} >>"$out"
	[ -n "${NODE_IP6[$n]:-}" ] && ip6=("IP6=${NODE_IP6[$n]}/64")
	env NODENAME="$n" IP="${NODE_IP[$n]}/${NODE_LEN[$n]}" "${ip6[@]}" \
	    ETCD_ENDPOINTS="$NODE_ETCD_URL" "$@" \
	    ip netns exec "$(ns "$n")" timeout 30 "$PODMESH_NODE" \
	    >>"$out" 2>&1 || rc=$?
	[ "$rc" -eq 0 ] ||
	    fail "podmesh-node in $n exited $rc: $(tail -20 "$out")"
	log "podmesh-node in $n done"
}

# node_get NODE JQ: a field of the Node resource (jq -r).
node_get() {
	nctl get node "$1" -o json | jq -r "$2"
}

# node_bgpd_conf NODE: write $PM_TMP/NODE.yaml, podmesh-bgpd's datastore
# mode configuration, plus NODE_YAML[NODE] lines.
node_bgpd_conf() {
	local n=$1 f=$PM_TMP/$1.yaml
	{
		echo "# generated by $PM_TEST"
		echo "node-name: $n"
		echo "datastore:"
		echo "  type: etcdv3"
		echo "  endpoints: [$NODE_ETCD_URL]"
		echo "kernel: ${NODE_KERNEL[$n]:-{enabled: true\}}"
		echo "control-socket: $PM_TMP/$n.podmesh.sock"
		echo "listen: {port: 179}"
		echo "hold-time: $NODE_HOLD"
		echo "connect-retry: 1"
		[ -n "${NODE_YAML[$n]:-}" ] && printf '%s\n' "${NODE_YAML[$n]}"
	} >"$f"
	echo "$f"
}

# node_bgpd_start NODE [nowait]: podmesh-bgpd -c NODE.yaml inside NODE, as
# lib.sh's start_podmesh (key podmesh:NODE, log $PM_TMP/NODE.podmesh.log);
# waits for its control socket unless nowait.
node_bgpd_start() {
	local n=$1 f key="podmesh:$1" out="$PM_TMP/$1.podmesh.log"
	require_podmesh
	f=$(node_bgpd_conf "$n")
	"$PODMESH_BGPD" --check -c "$f" >>"$out" 2>&1 ||
	    fail "podmesh-bgpd --check rejected $f: $(tail -5 "$out")"
	echo "=== start ($(_pm_elapsed)s)" >>"$out"
	PM_CONF[$key]=$f
	rm -f "$PM_TMP/$n.podmesh.sock"
	ip netns exec "$(ns "$n")" "$PODMESH_BGPD" -c "$f" >>"$out" 2>&1 &
	PM_PID[$key]=$!
	PM_ARGS[$key]=
	_pm_daemon "$key"
	[ "${2:-}" = nowait ] && return 0
	wait_until 10 _podmesh_ready "$n" ||
	    fail "podmesh-bgpd in $n did not come up (control socket $PM_TMP/$n.podmesh.sock)"
	log "podmesh-bgpd up in $n (pid ${PM_PID[$key]})"
}

# node_peers NODE: "address state" lines of its sessions, sorted.
node_peers() {
	podmeshctl_ "$1" bgp peers -o json |
	    jq -r '.[] | "\(.address) \(.state)"' | sort
}

# _node_mesh_ok NODE PEER...: Established with exactly the PEERs (nodes),
# over IPv6 too with those that have an IPv6 address when NODE has one.
_node_mesh_ok() {
	local n=$1 p want=
	shift
	for p in "$@"; do
		want+="${NODE_IP[$p]} Established"$'\n'
		[ -n "${NODE_IP6[$n]:-}" ] && [ -n "${NODE_IP6[$p]:-}" ] &&
		    want+="${NODE_IP6[$p]} Established"$'\n'
	done
	[ "$(node_peers "$n")" = "$(sort <<<"${want%$'\n'}")" ]
}

# expect_sessions NODE TIMEOUT PEER...: NODE's sessions are exactly to the
# PEERs, all Established, within TIMEOUT s.
expect_sessions() {
	local n=$1 t=$2
	shift 2
	wait_until "$t" _node_mesh_ok "$n" "$@" ||
	    fail "$n: sessions not exactly {$*} Established within ${t}s:" \
	    "$(node_peers "$n" | tr '\n' ';')"
	ok "$n: Established with exactly $*"
}

# expect_mesh TIMEOUT: every node Established with every other one.
expect_mesh() {
	local n o others
	for n in "${NODES[@]}"; do
		others=()
		for o in "${NODES[@]}"; do
			[ "$o" = "$n" ] || others+=("$o")
		done
		expect_sessions "$n" "$1" "${others[@]}"
	done
}

# ---------------------------------------------------------------------------
# Pods

# pod_add NODE POD [v6] [ipam-assign-args...]: an address from IPAM
# (podmeshctl ipam assign --node NODE --handle test.POD ...), a pod
# namespace POD with it on eth0, wired to NODE as Calico's CNI does; v6: an
# IPv6 address too (the same handle, --ipv6), see the header.
pod_add() {
	local n=$1 p=$2 ip hif v6=""
	shift 2
	[ "${1:-}" = v6 ] && { v6=1; shift; }
	ip=$(nctl ipam assign --node "$n" --handle "test.$p" "$@" 2>"$PM_TMP/assign.err") ||
	    fail "ipam assign --node $n --handle test.$p $*: $(cat "$PM_TMP/assign.err")"
	[[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	    fail "ipam assign printed '$ip', not an address"
	hif="cali$p"
	hif=${hif:0:15}
	ns_add "$p"
	ip link add "$hif" netns "$(ns "$n")" type veth peer name eth0 \
	    netns "$(ns "$p")" || fail "veth for pod $p"
	# before it is up: its link-local address derives from the MAC
	[ -n "$v6" ] && { ip -n "$(ns "$n")" link set "$hif" \
	    address ee:ee:ee:ee:ee:ee || fail "MAC of $hif"; }
	ip -n "$(ns "$n")" link set "$hif" up &&
	    nsx "$n" sysctl -qw "net.ipv4.conf.$hif.proxy_arp=1" \
	    "net.ipv4.neigh.$hif.proxy_delay=0" >/dev/null &&
	    ip -n "$(ns "$n")" route add "$ip/32" dev "$hif" scope link ||
	    fail "node side of pod $p in $n"
	ip -n "$(ns "$p")" addr add "$ip/32" dev eth0 &&
	    ip -n "$(ns "$p")" link set eth0 up &&
	    ip -n "$(ns "$p")" route add 169.254.1.1 dev eth0 scope link &&
	    ip -n "$(ns "$p")" route add default via 169.254.1.1 dev eth0 ||
	    fail "pod $p's side"
	POD_IP[$p]=$ip
	POD_NODE[$p]=$n
	PODS+=("$p")
	[ -n "$v6" ] && _pod_add6 "$n" "$p" "$hif"
	log "pod $p on $n: $ip${POD_IP6[$p]:+ ${POD_IP6[$p]}}"
}

# _pod_add6 NODE POD HOSTIF: the pod's IPv6 address, as Calico's CNI sets
# it: the node side has MAC ee:ee:ee:ee:ee:ee (pod_add), so the pod's
# default route is via that side's link-local address; proxy_ndp on the
# node side.
_pod_add6() {
	local n=$1 p=$2 hif=$3 ip
	ip=$(nctl ipam assign --node "$n" --handle "test.$p" --ipv6 \
	    2>"$PM_TMP/assign.err") ||
	    fail "ipam assign --node $n --handle test.$p --ipv6: $(cat "$PM_TMP/assign.err")"
	[[ $ip =~ ^[0-9a-fA-F:]+$ && $ip == *:* ]] ||
	    fail "ipam assign --ipv6 printed '$ip', not an IPv6 address"
	nsx "$n" sysctl -qw "net.ipv6.conf.$hif.proxy_ndp=1" >/dev/null &&
	    ip -n "$(ns "$n")" -6 route add "$ip/128" dev "$hif" ||
	    fail "node side of pod $p in $n (IPv6)"
	ip -n "$(ns "$p")" addr add "$ip/128" dev eth0 nodad &&
	    ip -n "$(ns "$p")" -6 route add default via "$NODE_LL6" dev eth0 ||
	    fail "pod $p's side (IPv6)"
	POD_IP6[$p]=$ip
}

# The machine has no ping(8) (iputils is not among the CI packages): ICMP
# echo from a raw socket, in python3, which is.
#   pmping.py DEST [COUNT [INTERVAL [WAIT]]]
# sends an echo request every INTERVAL s (COUNT of them, 0 = until SIGINT or
# SIGTERM), waits up to WAIT s for each reply, prints "TX packets
# transmitted, RX received" and exits 0 if any reply came.  An IPv6 DEST
# gets ICMPv6 echo (the kernel fills in that checksum, RFC 3542 §3.1, and
# hands replies over without the IPv6 header).
cat >"$PM_TMP/pmping.py" <<'PYEOF'
import os, select, signal, socket, struct, sys, time

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF

dst = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
interval = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 1.0
stop = False

def on_sig(*_):
    global stop
    stop = True

signal.signal(signal.SIGINT, on_sig)
signal.signal(signal.SIGTERM, on_sig)
v6 = ":" in dst
if v6:
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    dst_bin = socket.inet_pton(socket.AF_INET6, dst)
    t_req, t_rep = 128, 129
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    t_req, t_rep = 8, 0
ident = os.getpid() & 0xFFFF
tx = rx = seq = 0
while not stop and (count == 0 or tx < count):
    seq = (seq + 1) & 0xFFFF
    t0 = time.monotonic()
    body = struct.pack("!d", t0) + b"podmesh"
    hdr = struct.pack("!BBHHH", t_req, 0, 0, ident, seq)
    ck = 0 if v6 else csum(hdr + body)
    pkt = struct.pack("!BBHHH", t_req, 0, ck, ident, seq) + body
    try:
        s.sendto(pkt, (dst, 0))
    except OSError:
        pass
    tx += 1
    deadline = t0 + wait
    while not stop:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            r, _, _ = select.select([s], [], [], left)
        except InterruptedError:
            continue
        if not r:
            break
        data, addr = s.recvfrom(2048)
        if v6:
            ihl = 0
            try:
                same = socket.inet_pton(socket.AF_INET6,
                                        addr[0].split("%")[0]) == dst_bin
            except OSError:
                same = False
        else:
            ihl = (data[0] & 0x0F) * 4
            same = addr[0] == dst
        if len(data) < ihl + 8 or not same:
            continue
        typ, _, _, rid, rseq = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if typ == t_rep and rid == ident and rseq == seq:
            rx += 1
            break
    rest = t0 + interval - time.monotonic()
    if not stop and (count == 0 or tx < count) and rest > 0:
        time.sleep(rest)
print("%d packets transmitted, %d received" % (tx, rx), flush=True)
sys.exit(0 if rx > 0 else 1)
PYEOF

# pod_ping FROM TO [TIMEOUT=5]: FROM's pod reaches TO's address.
pod_ping() {
	local t=${3:-5}
	wait_until "$t" nsx "$1" python3 "$PM_TMP/pmping.py" "${POD_IP[$2]}" 1 1 1 ||
	    fail "ping from pod $1 (${POD_IP[$1]}, ${POD_NODE[$1]}) to pod $2" \
	    "(${POD_IP[$2]}, ${POD_NODE[$2]}) failed for ${t}s"
	ok "ping $1 (${POD_NODE[$1]}) -> $2 (${POD_NODE[$2]})"
}

# pod_ping6 FROM TO [TIMEOUT=5]: FROM's pod reaches TO's IPv6 address.
pod_ping6() {
	local t=${3:-5}
	[ -n "${POD_IP6[$1]:-}" ] && [ -n "${POD_IP6[$2]:-}" ] ||
	    fail "pod_ping6 $1 $2: not both pods have an IPv6 address"
	wait_until "$t" nsx "$1" python3 "$PM_TMP/pmping.py" "${POD_IP6[$2]}" 1 1 1 ||
	    fail "IPv6 ping from pod $1 (${POD_IP6[$1]}, ${POD_NODE[$1]}) to pod $2" \
	    "(${POD_IP6[$2]}, ${POD_NODE[$2]}) failed for ${t}s"
	ok "ping6 $1 (${POD_NODE[$1]}) -> $2 (${POD_NODE[$2]})"
}

# pod_ping_start FROM TO [v6]: ping every 0.2 s in the background (0.5 s
# to answer each), until pod_ping_stop prints "TX RX"; v6: TO's IPv6
# address (one pinger per FROM TO pair either way).
pod_ping_start() {
	local dst=${POD_IP[$2]}
	[ "${3:-}" = v6 ] && dst=${POD_IP6[$2]}
	ip netns exec "$(ns "$1")" python3 "$PM_TMP/pmping.py" "$dst" \
	    0 0.2 0.5 >"$PM_TMP/ping-$1-$2.out" 2>&1 &
	PM_PID["ping:$1-$2"]=$!
}

pod_ping_stop() {
	local pid=${PM_PID["ping:$1-$2"]}
	local i
	# SIGTERM: async commands ignore SIGINT without job control.  Callers
	# run this in $(...), where wait cannot reach the pinger: poll for
	# its last line instead (bounded).
	kill -TERM "$pid"
	for i in $(seq 50); do
		grep -q transmitted "$PM_TMP/ping-$1-$2.out" && break
		sleep 0.1
	done
	unset "PM_PID[ping:$1-$2]"
	sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received$/\1 \2/p' \
	    "$PM_TMP/ping-$1-$2.out"
}

# ---------------------------------------------------------------------------
# Kernel routes

# _node_norm: ip -d route output on stdin -> normalised lines (header).
_node_norm() {
	awk '
	function take(start,   j) {
		for (j = start; j <= NF; j++) {
			if ($j == "via" || $j == "dev") {
				cur = cur " " $j " " $(j + 1)
				j++
			} else if ($j == "onlink")
				cur = cur " onlink"
			else if ($j ~ /^(proto|scope|metric|src|table|realm|realms|pref|expires|mtu|advmss|weight|hoplimit|initcwnd|rto_min|nhid)$/)
				j++
		}
	}
	$1 == "nexthop" { cur = cur " nexthop"; take(2); next }
	{
		if (cur != "")
			print cur
		i = 1
		type = ""
		if ($1 ~ /^(unicast|blackhole|unreachable|prohibit|throw|local|broadcast|multicast|anycast)$/) {
			if ($1 != "unicast")
				type = $1 " "
			i = 2
		}
		cur = type $i
		take(i + 1)
	}
	END { if (cur != "") print cur }' | sort
}

# node_routes NODE: its proto-44 routes in the main table, normalised.
node_routes() {
	ip -n "$(ns "$1")" -d -4 route show table main proto "$NODE_PROTO" |
	    _node_norm
}

# node_blocks NODE: CIDRs of NODE's confirmed block affinities, sorted.
node_blocks() {
	ectl get --prefix "/calico/ipam/v2/host/$1/ipv4/block/" -w json |
	    jq -r '.kvs[]? | select((.value | @base64d | fromjson |
	        .state // "confirmed") == "confirmed") | .key | @base64d |
	        sub(".*/"; "") | sub("-(?<l>[0-9]+)$"; "/\(.l)")' | sort
}

# _node_same_subnet A B: the underlay addresses of A and B share A's subnet.
_node_same_subnet() {
	[ "${NODE_IP[$1]%.*}" = "${NODE_IP[$2]%.*}" ]
}

# node_expected NODE MODE [NODES...]: the routes NODE should hold, MODE
# native|ipip|crosssubnet|vxlan, the cluster being NODES (default all).
node_expected() {
	local n=$1 mode=$2 o b tail vtep
	shift 2
	[ $# -gt 0 ] || set -- "${NODES[@]}"
	for o in "$@"; do
		if [ "$o" = "$n" ]; then
			node_blocks "$n" | sed 's/^/blackhole /'
			continue
		fi
		case $mode in
		native) tail="via ${NODE_IP[$o]} dev eth0" ;;
		ipip) tail="via ${NODE_IP[$o]} dev tunl0 onlink" ;;
		crosssubnet)
			if _node_same_subnet "$n" "$o"; then
				tail="via ${NODE_IP[$o]} dev eth0"
			else
				tail="via ${NODE_IP[$o]} dev tunl0 onlink"
			fi
			;;
		vxlan)
			vtep=$(node_get "$o" '.spec.ipv4VXLANTunnelAddr // empty')
			[ -n "$vtep" ] || fail "Node $o has no ipv4VXLANTunnelAddr"
			tail="via $vtep dev vxlan.calico onlink"
			;;
		*) fail "node_expected: mode $mode" ;;
		esac
		for b in $(node_blocks "$o"); do
			echo "$b $tail"
		done
	done | sort
}

# expect_table NODE MODE TIMEOUT [NODES...]: NODE's routes become exactly
# node_expected's within TIMEOUT s.
expect_table() {
	local n=$1 mode=$2 t=$3 want
	shift 3
	want=$(node_expected "$n" "$mode" "$@")
	[ -n "$want" ] || fail "$n: no blocks anywhere to expect"
	wait_until "$t" _node_table_is "$n" "$want" ||
	    fail "$n: kernel routes (proto $NODE_PROTO) not as expected ($mode) within ${t}s:" \
	    $'\n'"$(diff <(echo "$want") <(node_routes "$n") | sed 's/^/    /')"
	ok "$n: $(wc -l <<<"$want") routes in the $mode form"
}

# _node_has NODE LINE: NODE holds the normalised route LINE.
_node_has() {
	node_routes "$1" | grep -qxF -- "$2"
}

# _node_has_prefix NODE PREFIX: NODE holds some proto-44 route to PREFIX.
_node_has_prefix() {
	node_routes "$1" | awk -v p="$2" '$1 == p || ($1 == "blackhole" && $2 == p)' |
	    grep -q .
}

# expect_kroute NODE LINE [TIMEOUT=10]
expect_kroute() {
	local t=${3:-10}
	wait_until "$t" _node_has "$1" "$2" ||
	    fail "$1: no route '$2' within ${t}s; holds:"$'\n'"$(node_routes "$1")"
	ok "$1: $2"
}

# expect_no_kroute NODE PREFIX [TIMEOUT=10]
expect_no_kroute() {
	local t=${3:-10}
	wait_until "$t" not _node_has_prefix "$1" "$2" ||
	    fail "$1: still routes $2 after ${t}s:"$'\n'"$(node_routes "$1")"
	ok "$1: no route to $2"
}

_node_table_is() {
	[ "$(node_routes "$1")" = "$2" ]
}

# IPv6 (dual-stack nodes): the same, for the IPv6 main table.  An IPv6
# blackhole shows "dev lo": dropped, so lines read as IPv4's.
#	2001:db8:100::40/122 via 2001:db8:1::12 dev eth0
#	blackhole 2001:db8:100::/122

# node_routes6 NODE: its IPv6 proto-44 routes in the main table, normalised.
node_routes6() {
	ip -n "$(ns "$1")" -d -6 route show table main proto "$NODE_PROTO" |
	    _node_norm | sed 's/^\(blackhole [^ ]*\) dev lo$/\1/'
}

# node_blocks6 NODE: CIDRs of NODE's confirmed IPv6 block affinities.
node_blocks6() {
	ectl get --prefix "/calico/ipam/v2/host/$1/ipv6/block/" -w json |
	    jq -r '.kvs[]? | select((.value | @base64d | fromjson |
	        .state // "confirmed") == "confirmed") | .key | @base64d |
	        sub(".*/"; "") | sub("-(?<l>[0-9]+)$"; "/\(.l)")' | sort
}

# node_expected6 NODE [NODES...]: the IPv6 routes NODE should hold: a
# blackhole per own block, the others' blocks natively via their IPv6
# underlay address (Calico has no IPv6 tunnels in BIRD mode).
node_expected6() {
	local n=$1 o b
	shift
	[ $# -gt 0 ] || set -- "${NODES[@]}"
	for o in "$@"; do
		if [ "$o" = "$n" ]; then
			node_blocks6 "$n" | sed 's/^/blackhole /'
			continue
		fi
		[ -n "${NODE_IP6[$o]:-}" ] || continue
		for b in $(node_blocks6 "$o"); do
			echo "$b via ${NODE_IP6[$o]} dev eth0"
		done
	done | sort
}

_node_table6_is() {
	[ "$(node_routes6 "$1")" = "$2" ]
}

# expect_table6 NODE TIMEOUT [NODES...]: NODE's IPv6 routes become exactly
# node_expected6's within TIMEOUT s.
expect_table6() {
	local n=$1 t=$2 want
	shift 2
	want=$(node_expected6 "$n" "$@")
	[ -n "$want" ] || fail "$n: no IPv6 blocks anywhere to expect"
	wait_until "$t" _node_table6_is "$n" "$want" ||
	    fail "$n: IPv6 kernel routes (proto $NODE_PROTO) not as expected within ${t}s:" \
	    $'\n'"$(diff <(echo "$want") <(node_routes6 "$n") | sed 's/^/    /')"
	ok "$n: $(wc -l <<<"$want") IPv6 routes, native"
}

# ---------------------------------------------------------------------------
# Samplers: every ~100 ms, the proto-44 prefixes of a node with a
# timestamp (us), one line per sample: "T p1 p2 ...".

# sampler_start NODE: writes $PM_TMP/NODE.samples.
sampler_start() {
	local n=$1 full
	full=$(ns "$n")
	(
		trap - EXIT INT TERM
		while :; do
			t=${EPOCHREALTIME/[.,]/}
			r=$(ip -n "$full" -4 route show table main proto "$NODE_PROTO" |
			    awk '{print ($1 == "blackhole") ? $2 : $1}' | tr '\n' ' ')
			echo "$t $r"
			sleep 0.1
		done
	) >"$PM_TMP/$n.samples" 2>/dev/null &
	PM_PID["sampler:$n"]=$!
}

sampler_stop() {
	_pm_kill_pid "${PM_PID[sampler:$1]}"
	unset "PM_PID[sampler:$1]"
}

# sampler_gaps NODE PREFIX...: "PREFIX MAXGAP_MS SAMPLES_MISSING" per
# PREFIX: the longest time it was absent between two samples holding it (or
# until the last sample, if it never came back).
sampler_gaps() {
	local n=$1
	shift
	awk -v want="$*" '
	BEGIN { np = split(want, P, " ") }
	{
		t = $1
		delete have
		for (i = 2; i <= NF; i++) have[$i] = 1
		for (k = 1; k <= np; k++) {
			p = P[k]
			if (p in have) {
				if ((p in last) && t - last[p] > gap[p]) gap[p] = t - last[p]
				last[p] = t
			} else if (!(p in last)) {
				last[p] = t   # absent from the start: counted from here
				miss[p]++
			} else
				miss[p]++
		}
		end = t
	}
	END {
		for (k = 1; k <= np; k++) {
			p = P[k]
			g = gap[p]
			# missing at the end: open gap
			if (!(p in have) && end - last[p] > g) g = end - last[p]
			printf "%s %d %d\n", p, g / 1000, miss[p] + 0
		}
	}' "$PM_TMP/$n.samples"
}

# ---------------------------------------------------------------------------
# Route monitors: `ip -N -ts monitor route` in a node, to $PM_TMP/NODE.mon.
# Lines look like "[2026-11-26T07:21:33.913140] Deleted 6 198.18.0.0/26
# proto 44" (-N: numeric route type and protocol).

monitor_start() {
	ip netns exec "$(ns "$1")" ip -N -ts monitor route >"$PM_TMP/$1.mon" 2>&1 &
	PM_PID["mon:$1"]=$!
	sleep 0.2 # subscribed before anything happens
}

monitor_stop() {
	sleep 0.2 # the last notifications printed
	# a monitor that died saw nothing: that must not pass for "no change"
	kill -0 "${PM_PID["mon:$1"]}" 2>/dev/null ||
	    fail "ip monitor route in $1 died: $(tail -3 "$PM_TMP/$1.mon")"
	_pm_kill_pid "${PM_PID["mon:$1"]}"
	unset "PM_PID[mon:$1]"
}

# monitor_lines NODE: its proto-44 notifications.
monitor_lines() {
	grep -E "proto $NODE_PROTO( |\$)" "$PM_TMP/$1.mon"
}

# monitor_gaps NODE: "PREFIX DELETES MAXGAP_MS" for every prefix deleted:
# how many times, and the longest time from a delete to the next add of
# it (to the end of the log when it never came back).
monitor_gaps() {
	monitor_lines "$1" | awk -v now="$(date +%H:%M:%S.%N)" '
	function sec(ts,   a) {
		split(ts, a, ":")
		return a[1] * 3600 + a[2] * 60 + a[3]
	}
	{
		ts = $1
		gsub(/^\[|\]$/, "", ts)
		sub(/.*T/, "", ts)
		t = sec(ts)
		i = 2
		del = 0
		if ($i == "Deleted") { del = 1; i++ }
		if ($i ~ /^[0-9]+$/) i++
		p = $i
		if (del) {
			n[p]++
			if (!(p in down)) down[p] = t
		} else if (p in down) {
			if (t - down[p] > gap[p]) gap[p] = t - down[p]
			delete down[p]
		}
	}
	END {
		end = sec(now)
		for (p in down)
			if (end - down[p] > gap[p]) gap[p] = end - down[p]
		for (p in n)
			printf "%s %d %d\n", p, n[p], gap[p] * 1000
	}' | sort
}

# ---------------------------------------------------------------------------
# Teardown of one cluster (the trap does the same at exit).

_node_ns_del() {
	local full keep=() x
	full=$(ns "$1")
	# shellcheck disable=SC2046
	kill -KILL $(ip netns pids "$full" 2>/dev/null) 2>/dev/null
	ip netns del "$full" 2>/dev/null ||
	    { sleep 0.3; ip netns del "$full"; } || log "could not delete $full"
	for x in "${PM_NS[@]}"; do
		[ "$x" = "$full" ] || keep+=("$x")
	done
	PM_NS=("${keep[@]}")
}

# cluster_down: stop every podmesh-bgpd (each must exit 0 on SIGTERM, with
# no sanitizer report), etcd, and delete all the namespaces.
cluster_down() {
	local n p
	for n in "${NODES[@]}"; do
		daemon_alive podmesh "$n" && podmesh_finish "$n"
		[ -n "${PM_PID[sampler:$n]:-}" ] && sampler_stop "$n"
	done
	daemon_alive etcd cl && node_etcd_stop
	for p in "${PODS[@]}"; do
		_node_ns_del "$p"
	done
	for n in "${NODES[@]}"; do
		_node_ns_del "$n"
	done
	[ "$NODE_TWO_SUBNETS" = 1 ] && _node_ns_del rt
	_node_ns_del infra
	rm -rf "$PM_TMP/etcd-cl"
	NODES=()
	PODS=()
	POD_IP=()
	POD_NODE=()
	NODE_IP=()
	NODE_LEN=()
	NODE_GW=()
	NODE_YAML=()
	NODE_KERNEL=()
	NODE_TWO_SUBNETS=0
	NODE_IP6=()
	POD_IP6=()
}
