#!/bin/bash
# t_node_autodetect.sh: podmesh-node's IP autodetection (calico.md §6), one
# run per method against a real etcd 3.4, checking the Node's ipv4Address
# (and ipv6Address).  Namespaces: "lan" (a bridge), "db" (etcd on
# 192.0.2.1) and "n1", the node, whose interfaces in index order are eth0
# (the LAN, 192.0.2.10/24), ens5 (198.51.100.5/24, 2001:db8:5::5/64), ens6
# (203.0.113.6/24, 2001:db8:6::6/64), docker0 (172.17.0.1/16) and veth1
# (10.1.1.1/24), each veth's peer beside it without an address, and lo
# holding 192.0.2.10/32 and 198.51.100.5/32 as well.  Checked:
# first-found (reverse index order, Calico's skip list), interface=,
# skip-interface=, can-reach= (an address on the LAN, one on a connected
# subnet, IPv6; eth0's /24 rather than lo's /32), cidr= (without the skip
# list), IPv6 autodetection, an explicit bare address taking its
# interface's length (ens5's /24, not lo's /32), an explicit length
# kept; failures: nothing matches (one clear line, nothing written), an
# unreachable can-reach, and a failed autodetection keeping the address a
# Node already has, as Calico does.  ~6 s.
PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

NODE_BIN=$PODMESH_BUILD/node/podmesh-node
[ -x "$NODE_BIN" ] || fail "$NODE_BIN missing (cmake --build ... --target podmesh-node)"
for c in etcd etcdctl jq; do
	command -v $c >/dev/null || fail "$c not installed"
done

DB=192.0.2.1
URL=http://$DB:2379
NODEKEY=/calico/resources/v3/projectcalico.org/nodes

bridge_add lan
ns_add db n1
ip link add lanp1 netns "$(ns lan)" type veth peer name eth0 \
    netns "$(ns db)" || fail "veth db"
ip link add lanp2 netns "$(ns lan)" type veth peer name eth0 \
    netns "$(ns n1)" || fail "veth n1"
for p in lanp1 lanp2; do
	ip -n "$(ns lan)" link set "$p" master br0 up || fail "$p"
done
ip -n "$(ns db)" link set eth0 up
ip -n "$(ns db)" addr add "$DB/24" dev eth0
ip -n "$(ns n1)" link set eth0 up
ip -n "$(ns n1)" addr add 192.0.2.10/24 dev eth0

# iface NAME ADDR...: a veth NAME in n1 (peer p-NAME, no address), up
iface() {
	local n=$1 a
	shift
	ip -n "$(ns n1)" link add "$n" type veth peer name "p-$n" ||
	    fail "veth $n"
	ip -n "$(ns n1)" link set "$n" up
	ip -n "$(ns n1)" link set "p-$n" up
	for a in "$@"; do
		case $a in
		*:*) ip -n "$(ns n1)" addr add "$a" dev "$n" nodad ;;
		*) ip -n "$(ns n1)" addr add "$a" dev "$n" ;;
		esac || fail "$a on $n"
	done
}
iface ens5 198.51.100.5/24 2001:db8:5::5/64
iface ens6 203.0.113.6/24 2001:db8:6::6/64
iface docker0 172.17.0.1/16
iface veth1 10.1.1.1/24
# the same addresses as /32s on lo (index 1): can-reach and a bare IP take
# the later interface's length, as Calico walks the list backwards
ip -n "$(ns n1)" addr add 192.0.2.10/32 dev lo || fail "lo"
ip -n "$(ns n1)" addr add 198.51.100.5/32 dev lo || fail "lo"
log "n1: $(ip -n "$(ns n1)" -o link show | awk '{printf "%s%s ", $1, $2}')"

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

ectl() {
	nsx db env ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

# run NODE VAR=value...: podmesh-node in n1; $OUT, $RC
run() {
	local node=$1
	shift
	OUT=$PM_TMP/node.out
	nsx n1 env -i PATH="$PATH" ETCD_ENDPOINTS="$URL" NODENAME="$node" \
	    NO_DEFAULT_POOLS=true "$@" "$NODE_BIN" >"$OUT" 2>&1
	RC=$?
	cat "$OUT" >>"$PM_TMP/node.log"
}

# field NODE JQ
field() {
	ectl get "$NODEKEY/$1" --print-value-only | jq -r "$2"
}

# expect_v4 WANT VAR=value...: node1's ipv4Address after one run
expect_v4() {
	local want=$1 got
	shift
	run node1 IP=autodetect "$@"
	[ "$RC" -eq 0 ] || fail "$*: exited $RC: $(cat "$OUT")"
	got=$(field node1 .spec.bgp.ipv4Address)
	[ "$got" = "$want" ] || fail "$*: ipv4Address $got, want $want"
	ok "${*:-(no method)} -> $got"
}

expect_v6() {
	local want=$1 got
	shift
	run node1 IP6=autodetect "$@"
	[ "$RC" -eq 0 ] || fail "$*: exited $RC: $(cat "$OUT")"
	got=$(field node1 .spec.bgp.ipv6Address)
	[ "$got" = "$want" ] || fail "$*: ipv6Address $got, want $want"
	ok "IP6=autodetect ${*:-(no method)} -> $got"
}

step "first-found"
expect_v4 203.0.113.6/24
expect_v4 203.0.113.6/24 IP_AUTODETECTION_METHOD=first-found

step "interface="
expect_v4 192.0.2.10/24 IP_AUTODETECTION_METHOD=interface=eth0
expect_v4 198.51.100.5/24 IP_AUTODETECTION_METHOD=interface=eth0,ens5
expect_v4 192.0.2.10/24 "IP_AUTODETECTION_METHOD=interface=^eth.*"
expect_v4 172.17.0.1/16 "IP_AUTODETECTION_METHOD=interface=docker.*"

step "skip-interface="
expect_v4 198.51.100.5/24 IP_AUTODETECTION_METHOD=skip-interface=ens6
expect_v4 192.0.2.10/24 "IP_AUTODETECTION_METHOD=skip-interface=ens.*"

step "can-reach="
expect_v4 192.0.2.10/24 IP_AUTODETECTION_METHOD=can-reach=$DB
expect_v4 203.0.113.6/24 IP_AUTODETECTION_METHOD=can-reach=203.0.113.99

step "cidr="
expect_v4 198.51.100.5/24 IP_AUTODETECTION_METHOD=cidr=198.51.100.0/24
expect_v4 10.1.1.1/24 "IP_AUTODETECTION_METHOD=cidr=172.16.0.0/12, 10.0.0.0/8"

step "IPv6"
expect_v6 2001:db8:6::6/64
expect_v6 2001:db8:5::5/64 IP6_AUTODETECTION_METHOD=interface=ens5
expect_v6 2001:db8:5::5/64 IP6_AUTODETECTION_METHOD=can-reach=2001:db8:5::99
expect_v6 2001:db8:6::6/64 IP6_AUTODETECTION_METHOD=cidr=2001:db8:6::/48

step "explicit addresses"
run node1 IP=198.51.100.5
[ "$RC" -eq 0 ] || fail "IP=198.51.100.5: $(cat "$OUT")"
[ "$(field node1 .spec.bgp.ipv4Address)" = 198.51.100.5/24 ] ||
    fail "a bare IP should take its interface's /24"
ok "IP=198.51.100.5 -> 198.51.100.5/24"
run node1 IP=198.51.100.5/32
[ "$(field node1 .spec.bgp.ipv4Address)" = 198.51.100.5/32 ] ||
    fail "IP=198.51.100.5/32 not kept"
ok "IP=198.51.100.5/32 -> 198.51.100.5/32"
run node1 IP=198.51.100.5/24
# unset IP: the Node's address stays, nothing is detected
run node1
[ "$RC" -eq 0 ] && [ "$(field node1 .spec.bgp.ipv4Address)" = 198.51.100.5/24 ] ||
    fail "IP unset changed the Node's address: $(cat "$OUT")"
ok "IP unset keeps the Node's address"

step "failures"
R0=$(ectl get / --prefix --keys-only --limit 1 -w json | jq -r .header.revision)
run node-x IP_AUTODETECTION_METHOD=interface=nomatch
[ "$RC" -ne 0 ] || fail "interface=nomatch succeeded"
grep ' error: ' "$OUT" | grep -qF "IP_AUTODETECTION_METHOD: interface=nomatch: no host interface is left to look at; set IP to an address or choose another method" ||
    fail "interface=nomatch: $(cat "$OUT")"
ok "$(grep ' error: ' "$OUT" | sed 's/.* error: //')"
run node-x IP_AUTODETECTION_METHOD=can-reach=198.18.200.1
[ "$RC" -ne 0 ] || fail "can-reach to nowhere succeeded"
grep ' error: ' "$OUT" | grep -qF "can-reach=198.18.200.1: cannot reach it" ||
    fail "can-reach: $(cat "$OUT")"
ok "$(grep ' error: ' "$OUT" | sed 's/.* error: //')"
run node-x IP6=autodetect IP6_AUTODETECTION_METHOD=cidr=2001:db8:99::/48
[ "$RC" -ne 0 ] || fail "IP6 cidr= with no match succeeded"
grep ' error: ' "$OUT" | grep -qF "IP6_AUTODETECTION_METHOD: cidr=2001:db8:99::/48: no global unicast IPv6 address" ||
    fail "IP6 cidr=: $(cat "$OUT")"
ok "$(grep ' error: ' "$OUT" | sed 's/.* error: //')"
R1=$(ectl get / --prefix --keys-only --limit 1 -w json | jq -r .header.revision)
[ "$R0" = "$R1" ] || fail "failed runs wrote to etcd ($R0 -> $R1)"
[ -z "$(ectl get "$NODEKEY/node-x")" ] || fail "node-x was written"
# an existing Node keeps its address when autodetection fails (Calico)
run node1 IP=autodetect IP_AUTODETECTION_METHOD=interface=nomatch
[ "$RC" -eq 0 ] || fail "a failed autodetection for node1: $(cat "$OUT")"
[ "$(field node1 .spec.bgp.ipv4Address)" = 198.51.100.5/24 ] ||
    fail "node1 lost its address"
grep -q "keeping the Node's 198.51.100.5/24" "$OUT" || fail "$(cat "$OUT")"
ok "a failed autodetection keeps node1's 198.51.100.5/24, with a warning"

exit 0
