#!/bin/bash
# t_node_startup.sh: podmesh-node (calico/node's startup, calico.md §6)
# against a real etcd 3.4.  Namespaces: "lan" (a bridge), "db" (etcd on
# 192.0.2.1) and the nodes n1, n2, each with an eth0 on the LAN.  Checked:
# registration (Node, default pool, BGPConfiguration, ClusterInformation);
# the clear error where the kernel has no ipip and there is no tunl0; a
# stand-in tunl0 (a veth) getting the IPAM tunnel address as its only IPv4
# /32, MTU 1440, up, the address recorded on the Node and held by handle
# ipip-tunnel-addr-<node> with Calico's attributes; a second run writing
# nothing (etcd's revision unchanged); another node's address refused, and
# allowed with DISABLE_NODE_IP_CHECK=true, checked on every start (an
# unchanged address now another node's; IPv6 too); a Node with an
# unparsable address refused by name, one that does not decode compared as
# stored; a bare ipv4Address not rewritten; default pools from
# CALICO_IPV4POOL_* (IPIP spelled always, Always, cross-subnet; NAT, block
# size; Never takes every IPv4 address off tunl0); NO_DEFAULT_POOLS (and
# the tunnel address given back); invalid modes and variables refused
# with one clear line before anything is written; VXLAN: vxlan.calico with
# VNI 4096, port 4789, local address, nolearning, MTU underlay - 50, its /32,
# its MAC on the Node, then taken away again for IPIP; a tunnel address an
# older calico/node assigned without a handle adopted (in an IPIP pool) or
# released (in none), and by podmeshctl delete node; an IPPool that does
# not decode stopping the default pool and tunnel changes; the node name
# from NODENAME_FILE (written, then read back) and HOSTNAME (lower-cased,
# checked only when it is the name); etcd down at start (retries with
# backoff, a clear log, success once etcd is up; a bounded wait that gives
# up with a message).  ~20 s.
PM_TIMEOUT=150
. "$(dirname "$0")/lib.sh"

NODE_BIN=$PODMESH_BUILD/node/podmesh-node
CTL=$PODMESH_BUILD/ctl/podmeshctl
[ -x "$NODE_BIN" ] || fail "$NODE_BIN missing (cmake --build ... --target podmesh-node)"
[ -x "$CTL" ] || fail "$CTL missing (cmake --build ... --target podmeshctl)"
for c in etcd etcdctl jq; do
	command -v $c >/dev/null || fail "$c not installed"
done

DB=192.0.2.1
URL=http://$DB:2379
PFX=/calico/resources/v3/projectcalico.org

# ---- the network: a LAN bridge, etcd's namespace, the nodes ----

bridge_add lan
NL=0
# lan_link NS IFNAME ADDR...: a veth IFNAME in NS, its peer on the bridge
lan_link() {
	local n=$1 ifn=$2 a
	shift 2
	NL=$((NL + 1))
	ip link add "lanp$NL" netns "$(ns lan)" type veth \
	    peer name "$ifn" netns "$(ns "$n")" || fail "veth $n:$ifn"
	ip -n "$(ns lan)" link set "lanp$NL" master br0 up || fail "br0"
	ip -n "$(ns "$n")" link set "$ifn" up || fail "$ifn up"
	for a in "$@"; do
		ip -n "$(ns "$n")" addr add "$a" dev "$ifn" || fail "$a on $ifn"
	done
}

ns_add db n1 n2
lan_link db eth0 "$DB/24"
lan_link n1 eth0 192.0.2.10/24
lan_link n2 eth0 192.0.2.20/24

# (ip netns exec, not nsx: a function would leave $! a subshell's pid)
etcd_up() {
	ip netns exec "$(ns db)" etcd --name db --data-dir "$PM_TMP/etcd-db" \
	    --listen-client-urls "$URL" --advertise-client-urls "$URL" \
	    --listen-peer-urls http://127.0.0.1:2380 \
	    --initial-advertise-peer-urls http://127.0.0.1:2380 \
	    --initial-cluster db=http://127.0.0.1:2380 \
	    --log-level warn >>"$PM_TMP/etcd-db.log" 2>&1 &
	PM_PID["etcd:db"]=$!
	_pm_daemon "etcd:db"
	wait_until 15 nsx db curl -sf --max-time 2 "$URL/health" ||
	    fail "etcd did not come up on $URL"
}

ectl() {
	nsx db env ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

CFG=$PM_TMP/ctl.cfg
printf 'apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\nmetadata: {}\nspec:\n  datastoreType: etcdv3\n  etcdEndpoints: %s\n' \
    "$URL" >"$CFG"
pmctl() {
	nsx db "$CTL" -c "$CFG" "$@"
}

# in_use ADDR: true or false, as IPAM has it
in_use() {
	pmctl ipam show --ip "$1" -o json | jq -r .in_use
}

# legacy NODE ADDR: ADDR assigned to NODE as an older calico/node did it,
# with neither handle nor attributes (its tunnel handle released first)
legacy() {
	pmctl ipam release --handle "ipip-tunnel-addr-$1" >/dev/null ||
	    fail "release handle ipip-tunnel-addr-$1"
	pmctl ipam assign --node "$1" --ip "$2" >/dev/null ||
	    fail "assign $2 to $1 without a handle"
	[ "$(pmctl ipam show --ip "$2" -o json | jq -r .handle)" = null ] ||
	    fail "$2 has a handle: $(pmctl ipam show --ip "$2" -o json)"
}

# the store's revision (grows with every write transaction)
revision() {
	ectl get / --prefix --keys-only --limit 1 -w json | jq -r .header.revision
}

# jsonval KEY JQ: a field of the JSON stored at KEY
jsonval() {
	ectl get "$1" --print-value-only | jq -r "$2"
}

# run NS NODE [VAR=value...]: podmesh-node in NS, output in $OUT, status $RC
run() {
	local n=$1 node=$2
	shift 2
	OUT=$PM_TMP/node.out
	nsx "$n" env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" NODENAME="$node" \
	    "$@" "$NODE_BIN" >"$OUT" 2>&1
	RC=$?
	cat "$OUT" >>"$PM_TMP/node.log"
}

# run_ok NS NODE VARS...: it must succeed
run_ok() {
	run "$@"
	[ "$RC" -eq 0 ] || fail "podmesh-node ($*) exited $RC: $(cat "$OUT")"
}

# run_fail WHAT MESSAGE NS NODE VARS...: it must fail with one error line
# holding MESSAGE
run_fail() {
	local what=$1 msg=$2
	shift 2
	run "$@"
	[ "$RC" -ne 0 ] || fail "$what: podmesh-node succeeded: $(cat "$OUT")"
	[ "$(grep -c ' error: ' "$OUT")" -eq 1 ] ||
	    fail "$what: want one error line, got: $(cat "$OUT")"
	grep ' error: ' "$OUT" | grep -qF -- "$msg" ||
	    fail "$what: error lacks \"$msg\": $(cat "$OUT")"
	ok "$what: $(grep ' error: ' "$OUT" | sed 's/.* error: //')"
}

# ipv4 NS DEV: the IPv4 addresses on DEV, one "a/len" a line
ipv4() {
	ip -n "$(ns "$1")" -4 -o addr show dev "$2" | awk '{print $4}'
}

del_pools() {
	ectl del --prefix "$PFX/ippools/" >/dev/null
}

has_ipip() {
	ip -n "$(ns n2)" link add pm-probe type ipip 2>/dev/null || return 1
	ip -n "$(ns n2)" link del pm-probe
	return 0
}

etcd_up
POOL4=(CALICO_IPV4POOL_CIDR=198.18.0.0/16)

# ---- registration; no tunl0 on a kernel without ipip ----
step "registration with an IPIP pool, no tunl0"
if has_ipip; then
	log "this kernel has ipip: the missing-tunl0 error cannot happen here"
	run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
else
	run_fail "no ipip, no tunl0" \
	    "tunl0: this kernel has no ipip support (modprobe ipip failed?)" \
	    n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
fi
[ "$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4Address)" = 192.0.2.10/24 ] ||
    fail "node1 not registered with 192.0.2.10/24"
[ "$(jsonval "$PFX/ippools/default-ipv4-ippool" .spec.ipipMode)" = Always ] ||
    fail "default pool not made with ipipMode Always"
[ "$(jsonval "$PFX/ippools/default-ipv4-ippool" .spec.cidr)" = 198.18.0.0/16 ] ||
    fail "default pool CIDR"
[ "$(jsonval "$PFX/ippools/default-ipv4-ippool" .spec.natOutgoing)" = true ] ||
    fail "natOutgoing should default to true"
[ "$(jsonval "$PFX/ippools/default-ipv4-ippool" .spec.blockSize)" = 26 ] ||
    fail "blockSize should default to 26"
[ "$(jsonval "$PFX/bgpconfigurations/default" .kind)" = BGPConfiguration ] ||
    fail "no BGPConfiguration default"
[ "$(jsonval "$PFX/clusterinformations/default" .spec.datastoreReady)" = true ] ||
    fail "ClusterInformation default without datastoreReady"
ok "Node, pool, BGPConfiguration, ClusterInformation written"

# ---- a stand-in tunl0 ----
step "tunl0 stand-in (a veth named tunl0)"
if ! has_ipip; then
	ip -n "$(ns n1)" link add tunl0 type veth peer name tunl0-peer ||
	    fail "stand-in tunl0"
fi
ip -n "$(ns n1)" addr add 203.0.113.50/24 dev tunl0
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
TUN=$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr)
[[ $TUN == 198.18.* ]] || fail "ipv4IPIPTunnelAddr is \"$TUN\""
[ "$(ipv4 n1 tunl0)" = "$TUN/32" ] ||
    fail "tunl0 has $(ipv4 n1 tunl0 | tr '\n' ' '), want only $TUN/32"
ip -n "$(ns n1)" link show tunl0 | grep -q "mtu 1440" || fail "tunl0 MTU"
ip -n "$(ns n1)" link show tunl0 | grep -q "[<,]UP[,>]" || fail "tunl0 down"
H=$(ectl get /calico/ipam/v2/handle/ipip-tunnel-addr-node1 --print-value-only)
[ "$(jq -r '.block | add' <<<"$H")" = 1 ] ||
    fail "handle ipip-tunnel-addr-node1: $H"
B=$(ectl get --prefix /calico/ipam/v2/assignment/ipv4/block/ --print-value-only)
jq -e 'select(.attributes[]? | .handle_id == "ipip-tunnel-addr-node1" and
    .secondary.node == "node1" and .secondary.type == "ipipTunnelAddress")' \
    <<<"$B" >/dev/null || fail "block attributes: $B"
ok "tunl0: $TUN/32, MTU 1440, up; handle and attributes as Calico's"

step "a second run writes nothing"
R0=$(revision)
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
R1=$(revision)
[ "$R0" = "$R1" ] || fail "revision moved from $R0 to $R1: $(cat "$OUT")"
grep -q "ready (0 writes to etcd)" "$OUT" || fail "$(cat "$OUT")"
[ "$(ipv4 n1 tunl0)" = "$TUN/32" ] || fail "tunl0 changed"
ok "revision $R0 before and after"

step "a bare ipv4Address, as Calico may store it, is not rewritten"
J=$(ectl get "$PFX/nodes/node1" --print-value-only)
ectl put "$PFX/nodes/node1" "$(jq -c '.spec.bgp.ipv4Address = "192.0.2.10"' <<<"$J")" >/dev/null
R0=$(revision)
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
[ "$(revision)" = "$R0" ] ||
    fail "the bare address was rewritten as $(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4Address): $(cat "$OUT")"
[ "$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4Address)" = 192.0.2.10 ] ||
    fail "ipv4Address changed"
ectl put "$PFX/nodes/node1" "$J" >/dev/null
ok "ipv4Address 192.0.2.10 (no length) kept; nothing written"

# ---- addresses of other nodes ----
step "another node's address"
# n2's nodes take part in the IPIP pool too
has_ipip || ip -n "$(ns n2)" link add tunl0 type veth peer name tunl0-peer ||
    fail "stand-in tunl0 in n2"
R0=$(revision)
run_fail "duplicate IPv4 address" \
    "IPv4 address 192.0.2.10 is already node node1's" \
    n2 node2 IP=192.0.2.10 NO_DEFAULT_POOLS=true
[ -z "$(ectl get "$PFX/nodes/node2" --print-value-only)" ] ||
    fail "node2 was written"
[ "$(revision)" = "$R0" ] || fail "the refusal wrote to etcd"
# a Node whose address does not parse cannot hold ours: skipped with a
# warning naming it, so one broken Node does not stop every node's start
ectl put "$PFX/nodes/broken" '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"broken"},"spec":{"bgp":{"ipv4Address":"not-an-address"}}}' >/dev/null
run_ok n2 node2 NO_DEFAULT_POOLS=true
grep -q "nodes/broken: spec.bgp.ipv4Address is not an address; not checked" "$OUT" ||
    fail "no warning about the broken Node: $(cat "$OUT")"
[ "$(jsonval "$PFX/nodes/node2" .spec.bgp.ipv4Address)" = 192.0.2.20/24 ] ||
    fail "node2 not registered"
ok "a Node whose address does not parse is skipped, with a warning"
ectl del "$PFX/nodes/broken" >/dev/null
# a Node that does not decode for another reason still has its address
# compared, as stored
ectl put "$PFX/nodes/odd" '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"odd"},"spec":{"bgp":{"ipv4Address":"192.0.2.20/24","asNumber":"not-a-number"}}}' >/dev/null
run_fail "an undecodable Node with our address" \
    "IPv4 address 192.0.2.20 is already the Node at $PFX/nodes/odd's" \
    n2 node2 NO_DEFAULT_POOLS=true
grep -q "nodes/odd: .*(its addresses are compared as stored)" "$OUT" ||
    fail "no warning about the undecodable Node: $(cat "$OUT")"
ectl del "$PFX/nodes/odd" >/dev/null
run_ok n2 node3 IP=192.0.2.10/24 DISABLE_NODE_IP_CHECK=true \
    NO_DEFAULT_POOLS=true
[ "$(jsonval "$PFX/nodes/node3" .spec.bgp.ipv4Address)" = 192.0.2.10/24 ] ||
    fail "DISABLE_NODE_IP_CHECK=true did not allow it"
ok "DISABLE_NODE_IP_CHECK=true allows it"
# checked on every start, not only when the address changes: node1 is
# refused now that node3 holds its address
R0=$(revision)
run_fail "unchanged address, now another node's" \
    "IPv4 address 192.0.2.10 is already node node3's" \
    n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
[ "$(revision)" = "$R0" ] || fail "the refusal wrote to etcd"
ectl del "$PFX/nodes/node3" >/dev/null
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
# and IPv6, the address the Node keeps (IP6 unset) included
run_ok n2 node2 NO_DEFAULT_POOLS=true IP6=2001:db8:20::20/64
ectl put "$PFX/nodes/node4" '{"kind":"Node","apiVersion":"projectcalico.org/v3","metadata":{"name":"node4"},"spec":{"bgp":{"ipv6Address":"2001:db8:20::20/64"}}}' >/dev/null
run_fail "IPv6 address kept, now another node's" \
    "IPv6 address 2001:db8:20::20 is already node node4's" \
    n2 node2 NO_DEFAULT_POOLS=true
ectl del "$PFX/nodes/node4" >/dev/null
run_ok n2 node2 NO_DEFAULT_POOLS=true

# ---- default pools from the environment ----
step "default pools from CALICO_IPV4POOL_*"
for spelling in always:Always Always:Always cross-subnet:CrossSubnet \
    CrossSubnet:CrossSubnet off:Never; do
	del_pools
	# Never: every IPv4 address goes off tunl0, not only the tunnel's
	[ "${spelling%%:*}" = off ] &&
	    ip -n "$(ns n1)" addr add 203.0.113.51/24 dev tunl0
	run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP="${spelling%%:*}" \
	    CALICO_IPV4POOL_NAT_OUTGOING=false CALICO_IPV4POOL_BLOCK_SIZE=28
	P=$(ectl get "$PFX/ippools/default-ipv4-ippool" --print-value-only)
	[ "$(jq -r .spec.ipipMode <<<"$P")" = "${spelling#*:}" ] ||
	    fail "IPIP=${spelling%%:*}: $P"
	[ "$(jq -r '.spec.natOutgoing // false' <<<"$P")" = false ] ||
	    fail "NAT_OUTGOING=false: $P"
	[ "$(jq -r .spec.blockSize <<<"$P")" = 28 ] || fail "BLOCK_SIZE: $P"
	ok "CALICO_IPV4POOL_IPIP=${spelling%%:*} -> ipipMode ${spelling#*:}"
done
# the last one was Never: the tunnel address went back
[ "$(jsonval "$PFX/nodes/node1" '.spec.bgp.ipv4IPIPTunnelAddr // "none"')" = none ] ||
    fail "ipv4IPIPTunnelAddr kept without an IPIP pool"
[ -z "$(ectl get /calico/ipam/v2/handle/ipip-tunnel-addr-node1)" ] ||
    fail "tunnel handle kept without an IPIP pool"
[ -z "$(ipv4 n1 tunl0)" ] || fail "tunl0 kept $(ipv4 n1 tunl0)"
ok "without an IPIP pool the tunnel address is released and every IPv4 address taken off tunl0"

step "NO_DEFAULT_POOLS"
del_pools
run_ok n1 node1 NO_DEFAULT_POOLS=true
[ -z "$(ectl get --prefix "$PFX/ippools/" --keys-only)" ] ||
    fail "a pool was made with NO_DEFAULT_POOLS=true"
ok "no pool made"

step "bad input refused before anything is written"
R0=$(revision)
run_fail "invalid IPIP mode" \
    "CALICO_IPV4POOL_IPIP: unknown IPIP mode \"sometimes\" (Always, CrossSubnet or Never)" \
    n1 node1 CALICO_IPV4POOL_IPIP=sometimes
run_fail "IPIP and VXLAN" \
    "CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN cannot both be enabled" \
    n1 node1 CALICO_IPV4POOL_IPIP=Always CALICO_IPV4POOL_VXLAN=Always
run_fail "bad IP" "IP: \"192.0.2.300\" is not an IPv4 address" \
    n1 node1 IP=192.0.2.300
run_fail "bad method" "IP_AUTODETECTION_METHOD: unknown method \"nearest\"" \
    n1 node1 IP_AUTODETECTION_METHOD=nearest
run_fail "NO_DEFAULT_POOLS with a CIDR" \
    "NO_DEFAULT_POOLS: true, but CALICO_IPV4POOL_CIDR is set too" \
    n1 node1 NO_DEFAULT_POOLS=true CALICO_IPV4POOL_CIDR=198.18.0.0/16
run_fail "bad node name" "NODENAME: \"Node_1\" is not a valid node name" \
    n1 Node_1
[ "$(revision)" = "$R0" ] || fail "a refused run wrote to etcd"

# ---- VXLAN ----
step "VXLAN pool: vxlan.calico"
del_pools
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_VXLAN=Always
D=$(ip -n "$(ns n1)" -d link show vxlan.calico) || fail "no vxlan.calico"
for want in "vxlan id 4096 " "local 192.0.2.10 " "dev eth0 " "dstport 4789 " \
    nolearning "mtu 1450 " "[<,]UP[,>]"; do
	grep -Eq -- "$want" <<<"$D" || fail "vxlan.calico lacks \"$want\": $D"
done
VTUN=$(jsonval "$PFX/nodes/node1" .spec.ipv4VXLANTunnelAddr)
VMAC=$(jsonval "$PFX/nodes/node1" .spec.vxlanTunnelMACAddr)
[[ $VTUN == 198.18.* ]] || fail "ipv4VXLANTunnelAddr is \"$VTUN\""
[ "$(ipv4 n1 vxlan.calico)" = "$VTUN/32" ] || fail "vxlan.calico address"
grep -q "link/ether $VMAC " <<<"$D" || fail "MAC $VMAC is not the device's"
[ -n "$(ectl get /calico/ipam/v2/handle/vxlan-tunnel-addr-node1)" ] ||
    fail "no vxlan-tunnel-addr-node1 handle"
ok "vxlan.calico: VNI 4096, port 4789, $VTUN/32, MAC $VMAC on the Node"
R0=$(revision)
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_VXLAN=Always
[ "$(revision)" = "$R0" ] || fail "second VXLAN run wrote"
ok "a second run writes nothing"

step "from VXLAN back to IPIP"
del_pools
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
ip -n "$(ns n1)" link show vxlan.calico >/dev/null 2>&1 &&
    fail "vxlan.calico left behind"
[ "$(jsonval "$PFX/nodes/node1" '.spec.ipv4VXLANTunnelAddr // "none"')" = none ] ||
    fail "ipv4VXLANTunnelAddr kept"
[ "$(jsonval "$PFX/nodes/node1" '.spec.vxlanTunnelMACAddr // "none"')" = none ] ||
    fail "vxlanTunnelMACAddr kept"
[[ $(ipv4 n1 tunl0) == 198.18.*/32 ]] || fail "tunl0 has no tunnel address"
ok "vxlan.calico gone, its fields cleared, tunl0 addressed"

# ---- a tunnel address from an older calico/node, without a handle ----
step "a tunnel address assigned without a handle is adopted"
TUN=$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr)
legacy node1 "$TUN"
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
[ "$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr)" = "$TUN" ] ||
    fail "a second address was assigned: $(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr) beside $TUN"
S=$(pmctl ipam show --ip "$TUN" -o json)
jq -e '.in_use and .handle == "ipip-tunnel-addr-node1" and
    .attributes.node == "node1" and .attributes.type == "ipipTunnelAddress"' \
    <<<"$S" >/dev/null || fail "$TUN not adopted: $S"
H=$(ectl get /calico/ipam/v2/handle/ipip-tunnel-addr-node1 --print-value-only)
[ "$(jq -r '.block | add' <<<"$H")" = 1 ] || fail "handle: $H"
[ "$(ipv4 n1 tunl0)" = "$TUN/32" ] || fail "tunl0: $(ipv4 n1 tunl0)"
R0=$(revision)
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
[ "$(revision)" = "$R0" ] || fail "the run after adopting wrote"
ok "$TUN kept, now under ipip-tunnel-addr-node1 with Calico's attributes"

step "... and released when no IPIP pool wants it"
legacy node1 "$TUN"
del_pools
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Never
[ "$(in_use "$TUN")" = false ] || fail "$TUN still assigned: $(cat "$OUT")"
[ "$(jsonval "$PFX/nodes/node1" '.spec.bgp.ipv4IPIPTunnelAddr // "none"')" = none ] ||
    fail "ipv4IPIPTunnelAddr kept"
ok "no IPIP pool: $TUN released"
# one outside every IPIP pool: released, and a new one assigned
pmctl ipam assign --node node1 --ip 198.18.3.3 >/dev/null || fail "assign"
J=$(ectl get "$PFX/nodes/node1" --print-value-only)
ectl put "$PFX/nodes/node1" "$(jq -c '.spec.bgp.ipv4IPIPTunnelAddr = "198.18.3.3"' <<<"$J")" >/dev/null
ectl put "$PFX/ippools/pool-b" '{"kind":"IPPool","apiVersion":"projectcalico.org/v3","metadata":{"name":"pool-b"},"spec":{"cidr":"198.19.0.0/16","ipipMode":"Always","vxlanMode":"Never","blockSize":26,"nodeSelector":"all()"}}' >/dev/null
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Never
[ "$(in_use 198.18.3.3)" = false ] || fail "198.18.3.3 still assigned"
T2=$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr)
[[ $T2 == 198.19.* ]] || fail "no address from pool-b: \"$T2\""
ok "198.18.3.3, in no IPIP pool, released; $T2 assigned from pool-b"

step "podmeshctl delete node releases a tunnel address without a handle"
run_ok n2 nodeold NO_DEFAULT_POOLS=true IP=192.0.2.22/24
T3=$(jsonval "$PFX/nodes/nodeold" .spec.bgp.ipv4IPIPTunnelAddr)
[[ $T3 == 198.19.* ]] || fail "nodeold has no tunnel address: \"$T3\""
legacy nodeold "$T3"
out=$(pmctl delete node nodeold 2>&1) || fail "delete node nodeold: $out"
[ "$(in_use "$T3")" = false ] || fail "$T3 still assigned: $out"
grep -q "its tunnel address $T3, assigned without handle" <<<"$out" ||
    fail "$out"
ok "$T3 released with the Node"

# ---- an IPPool that does not decode ----
step "an IPPool that does not decode is not taken for absent"
del_pools
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always
TUN=$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr)
P=$(ectl get "$PFX/ippools/default-ipv4-ippool" --print-value-only)
ectl del "$PFX/ippools/default-ipv4-ippool" >/dev/null
ectl put "$PFX/ippools/legacy" "$(jq -c '.metadata.name = "legacy" |
    .spec.ipipMode = "Sometimes"' <<<"$P")" >/dev/null
R0=$(revision)
# the default would be 192.168.0.0/16, beside legacy's 198.18.0.0/16
run_ok n1 node1 CALICO_IPV4POOL_IPIP=Always
[ -z "$(ectl get "$PFX/ippools/default-ipv4-ippool")" ] ||
    fail "a default pool was made beside legacy"
[ "$(jsonval "$PFX/nodes/node1" .spec.bgp.ipv4IPIPTunnelAddr)" = "$TUN" ] ||
    fail "the tunnel address changed: $(cat "$OUT")"
[ "$(ipv4 n1 tunl0)" = "$TUN/32" ] || fail "tunl0: $(ipv4 n1 tunl0)"
[ "$(in_use "$TUN")" = true ] || fail "$TUN released"
[ "$(revision)" = "$R0" ] || fail "wrote to etcd: $(cat "$OUT")"
grep -q "ippools/legacy: .*not taken for absent" "$OUT" ||
    fail "no warning naming the pool: $(cat "$OUT")"
ok "no default pool, $TUN kept on tunl0, nothing written"
del_pools
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always

# ---- the node's name ----
step "node name: NODENAME_FILE, HOSTNAME"
NF=$PM_TMP/nodename
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always NODENAME_FILE="$NF"
[ "$(cat "$NF")" = node1 ] || fail "NODENAME_FILE holds \"$(cat "$NF")\""
R0=$(revision)
# no NODENAME: the file's name comes before HOSTNAME
nsx n1 env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" NODENAME_FILE="$NF" \
    HOSTNAME=Other "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always "$NODE_BIN" \
    >"$OUT" 2>&1 || fail "NODENAME_FILE run: $(cat "$OUT")"
grep -q "node node1: ready (0 writes" "$OUT" || fail "$(cat "$OUT")"
[ "$(revision)" = "$R0" ] || fail "the name from NODENAME_FILE wrote"
# neither: HOSTNAME, lower-cased, as Calico
nsx n2 env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" HOSTNAME=Node-H \
    NO_DEFAULT_POOLS=true IP=192.0.2.21/24 "$NODE_BIN" >"$OUT" 2>&1 ||
    fail "HOSTNAME run: $(cat "$OUT")"
[ "$(jsonval "$PFX/nodes/node-h" .spec.bgp.ipv4Address)" = 192.0.2.21/24 ] ||
    fail "HOSTNAME=Node-H did not register node-h: $(cat "$OUT")"
ok "NODENAME_FILE written and read back; HOSTNAME lower-cased"
# HOSTNAME is checked only when it is the name used
run_ok n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always HOSTNAME=Bad_Host
nsx n1 env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" NODENAME_FILE="$NF" \
    HOSTNAME=Bad_Host "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always "$NODE_BIN" \
    >"$OUT" 2>&1 || fail "NODENAME_FILE beside a bad HOSTNAME: $(cat "$OUT")"
nsx n1 env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" \
    NODENAME_FILE="$PM_TMP/no-such-file" HOSTNAME=Bad_Host "$NODE_BIN" \
    >"$OUT" 2>&1 && fail "a bad HOSTNAME used as the name: $(cat "$OUT")"
grep ' error: ' "$OUT" | grep -qF 'HOSTNAME: "bad_host" is not a valid node name' ||
    fail "$(cat "$OUT")"
ok "HOSTNAME=Bad_Host ignored beside NODENAME and NODENAME_FILE, refused as the name"

# ---- etcd down at start ----
step "etcd down at start: retries, then success"
stop_daemon etcd db
T0=$(_pm_now)
run n1 node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always \
    PODMESH_NODE_ETCD_TIMEOUT=2
[ "$RC" -ne 0 ] || fail "succeeded without etcd: $(cat "$OUT")"
grep -q "retrying in" "$OUT" || fail "no retry logged: $(cat "$OUT")"
grep ' error: ' "$OUT" | grep -q "giving up after .* (PODMESH_NODE_ETCD_TIMEOUT=2)" ||
    fail "no clear final error: $(cat "$OUT")"
T1=$(_pm_now)
(((T1 - T0) < 6000000)) || fail "the 2 s limit took $(((T1 - T0) / 1000)) ms"
ok "gave up after $(((T1 - T0) / 1000)) ms: $(grep ' error: ' "$OUT" | sed 's/.* error: //')"
# podmesh-node first, etcd 2.5 s later
ip netns exec "$(ns n1)" env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" \
    NODENAME=node1 "${POOL4[@]}" CALICO_IPV4POOL_IPIP=Always \
    PODMESH_NODE_ETCD_TIMEOUT=40 "$NODE_BIN" >"$OUT" 2>&1 &
NPID=$!
sleep 2.5
etcd_up
wait $NPID
RC=$?
[ "$RC" -eq 0 ] || fail "did not succeed once etcd came up: $(cat "$OUT")"
N=$(grep -c "retrying in" "$OUT")
[ "$N" -ge 2 ] || fail "want several retries, got $N: $(cat "$OUT")"
grep -q "answers, after" "$OUT" || fail "no recovery logged"
ok "$N retries with backoff, then registered: $(grep 'answers, after' "$OUT" | sed 's/.* info: //')"

exit 0
