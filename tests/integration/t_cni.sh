#!/bin/bash
#
# t_cni.sh: the podmesh CNI plugin end to end (issue #6), run by
# podmesh-cnitool inside a node namespace (n1, dual-stack underlay
# 192.0.2.11/24 and 2001:db8:1::11/64) against a real etcd holding the
# IPPools 198.18.0.0/16 and 2001:db8:100::/112 and the Node; pods are
# namespaces of their own.  Checked:
#  - IPv4, orchestrator cni (no K8S_* in CNI_ARGS), cniVersion 1.0.0: the
#    result's interfaces (host link "cali" + the first 11 characters of the
#    container id with ee:ee:ee:ee:ee:ee and no sandbox; eth0 with the
#    pod's real MAC and the netns as sandbox), ips (/32 from the pool, on
#    interface 1), routes (0.0.0.0/0 via 169.254.1.1); the kernel (host
#    link, MAC, /32 route, proxy_arp; the address and routes in the pod);
#    the WorkloadEndpoint in etcd, field by field, also as podmeshctl
#    reads it; the pod pings its node; CHECK passes silently;
#  - dual stack, Kubernetes (K8S_POD_NAMESPACE/NAME): the host link is
#    "cali" + the first 11 hex digits of sha1("<ns>.<pod>") (sha1sum), a
#    /32 and a /128, both default routes; the k8s WorkloadEndpoint; pods
#    ping their node and each other over IPv4 and IPv6 (and the IPv4-only
#    pod); CHECK fails (5) once a host route is removed, passes again when
#    it is back;
#  - ADD repeated for one container: the same address, one host link, the
#    handle holding one address, the endpoint rewritten (its uid kept, the
#    new pod side's MAC), connectivity intact;
#  - a stale DEL (another container id, same pod) keeps the newer
#    sandbox's endpoint, host link and address;
#  - DEL removes the host link, the route, the WorkloadEndpoint and
#    releases the address; DEL again succeeds; DEL after the netns was
#    deleted succeeds and cleans up;
#  - cniVersion 1.1.0: STATUS passes; GC removes the WorkloadEndpoint and
#    the address of a container the runtime no longer lists, keeps the
#    listed one;
#  - an ADD failing after IPAM answered (netns missing: 8) gives the
#    addresses back and leaves no endpoint or link;
#  - the v2.6 seed manifest's cni_network_config (0.1.0, TLS files empty
#    as install-cni.sh leaves them without TLS, policy and kubernetes
#    sections, no nodename: the node name is the host name) with only
#    "type" changed to podmesh: ADD answers the 0.1.0 format (ip4.ip);
#  - at the end: no WorkloadEndpoint, no handle, no address in use, no
#    cali link, `podmeshctl ipam check` clean.  ~15 s.
# shellcheck disable=SC2016 # jq programs: $names are jq's
PM_TIMEOUT=180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"
. "$(dirname "$0")/cni_lib.sh"

require_cni

POOL4=198.18.0.0/16
POOL6=2001:db8:100::/112
CONF4=$PM_TMP/net4.conflist
CONF6=$PM_TMP/net6.conflist
CONF11=$PM_TMP/net11.conflist
SEED=$PM_TMP/10-calico.conf
K8S_NS=default

# add POD CID CONF [VAR=VALUE...]: ADD through the runner; OUT and RC
add() {
	local p=$1 cid=$2 f=$3
	shift 3
	OUT=$(cni_run n1 "$cid" add "$f" "$(cni_netns "$p")" "$@" \
	    2>>"$PM_TMP/cni.stderr")
	RC=$?
}

# run CMD POD CID CONF [VAR=VALUE...]: any command; OUT and RC
run() {
	local cmd=$1 p=$2 cid=$3 f=$4 netns
	shift 4
	netns=$(cni_netns "$p")
	OUT=$(cni_run n1 "$cid" "$cmd" "$f" "$netns" "$@" \
	    2>>"$PM_TMP/cni.stderr")
	RC=$?
}

expect_ok() {
	[ "$RC" = 0 ] || fail "$1: exit $RC, output: $OUT" \
	    "$(tail -5 "$PM_TMP/cni.stderr")"
}

expect_err() {
	[ "$RC" = 1 ] || fail "$1: exit $RC (wanted 1), output: $OUT"
	[ "$(jq -r .code <<<"$OUT")" = "$2" ] ||
	    fail "$1: wanted code $2, got: $OUT"
	ok "$1: code $2 ($(jq -r .msg <<<"$OUT"))"
}

# jqe WHAT JSON FILTER [jq args...]: FILTER holds for JSON
jqe() {
	local what=$1 j=$2 f=$3
	shift 3
	jq -e "$@" "$f" <<<"$j" >/dev/null || fail "$what: $f does not hold for $j"
}

# wep_key NAME [NS]: the etcd key of a WorkloadEndpoint
wep_key() {
	printf '%s%s/%s' "$CNI_WEP_PREFIX" "${2:-default}" "$1"
}

wep_get() {
	ectl get "$(wep_key "$@")" --print-value-only
}

# k8s_ifname NS POD: Calico's host link name for a Kubernetes pod
k8s_ifname() {
	local h
	h=$(printf '%s.%s' "$1" "$2" | sha1sum | cut -c1-11)
	printf 'cali%s' "$h"
}

# cid_ifname CID: the host link name outside Kubernetes (sha1 of the id)
cid_ifname() {
	printf 'cali%s' "$(printf '%s' "$1" | sha1sum | cut -c1-11)"
}

# reach POD ADDR: POD pings ADDR (node_lib.sh's pmping.py: no ping(8) here)
reach() {
	wait_until 5 nsx "$1" python3 "$PM_TMP/pmping.py" "$2" 1 1 1 ||
	    fail "$1 cannot ping $2: $(nsx "$1" ip -o addr; nsx "$1" ip route;
	        nsx "$1" ip -6 route)"
	ok "$1 reaches $2"
}

link_exists() {
	ip -n "$(ns n1)" link show "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------------------
step "cluster: n1 (dual stack), etcd, pools $POOL4 and $POOL6"
underlay
node_add n1 v6
mkdir -p "$PM_TMP/cache-n1"
node_etcd_start
cni_node_resources n1
cni_pool pool4 "$POOL4" 26
cni_pool pool6 "$POOL6" 122
cni_conf "$CONF4" n1
cni_conf "$CONF6" n1 '{"ipam": {"assign_ipv6": "true"}}'
cni_pods_add p1 p2 p3 p4 p5 p6 stale
N1=${NODE_IP[n1]}
N16=${NODE_IP6[n1]}

# ---------------------------------------------------------------------------
step "IPv4, orchestrator cni: ADD"
CID1=0123456789abcdef0001
HIF1=$(cid_ifname "$CID1")
add p1 "$CID1" "$CONF4"
expect_ok "ADD p1"
R1=$OUT
IP1=$(cni_ip "$R1")
MAC1=$(nsx p1 cat /sys/class/net/eth0/address)
jqe "p1 result" "$R1" '
    .cniVersion == "1.0.0" and
    (.interfaces | length == 2) and
    .interfaces[0] == {name: $hif, mac: "ee:ee:ee:ee:ee:ee"} and
    .interfaces[1] == {name: "eth0", mac: $mac, sandbox: $netns} and
    (.ips | length == 1) and .ips[0].interface == 1 and
    .ips[0].address == ($ip + "/32") and (.ips[0] | has("version") | not) and
    .routes == [{dst: "0.0.0.0/0", gw: "169.254.1.1"}]' \
    --arg hif "$HIF1" --arg mac "$MAC1" --arg ip "$IP1" \
    --arg netns "$(cni_netns p1)"
[[ $IP1 == 198.18.* ]] || fail "p1 address $IP1 not from $POOL4"
ok "p1: $IP1 on eth0 ($MAC1), host link $HIF1"

[ "$(cat "/sys/class/net/$HIF1/address" 2>/dev/null)" = "" ] ||
    fail "$HIF1 exists in the root namespace"
[ "$(nsx n1 cat "/sys/class/net/$HIF1/address")" = ee:ee:ee:ee:ee:ee ] ||
    fail "$HIF1: MAC not ee:ee:ee:ee:ee:ee"
[ "$(nsx n1 cat "/proc/sys/net/ipv4/conf/$HIF1/proxy_arp")" = 1 ] ||
    fail "$HIF1: proxy_arp off"
ip -n "$(ns n1)" route show "$IP1/32" | grep -q "dev $HIF1 scope link" ||
    fail "n1: no route $IP1/32 dev $HIF1: $(ip -n "$(ns n1)" route)"
nsx p1 ip -o -4 addr show dev eth0 | grep -q "inet $IP1/32" ||
    fail "p1: $IP1/32 not on eth0"
nsx p1 ip route | grep -q "default via 169.254.1.1 dev eth0" ||
    fail "p1: no default route via 169.254.1.1: $(nsx p1 ip route)"
ok "p1 wired: host link, /32 route, proxy ARP, pod routes"

step "IPv4: the WorkloadEndpoint"
WEP1=n1-cni-${CID1}-eth0
W=$(wep_get "$WEP1")
[ -n "$W" ] || fail "no WorkloadEndpoint at $(wep_key "$WEP1")"
jqe "WEP p1" "$W" '
    .kind == "WorkloadEndpoint" and .apiVersion == "projectcalico.org/v3" and
    .metadata.name == $name and .metadata.namespace == "default" and
    (.metadata.uid | length > 0) and
    (.metadata.creationTimestamp | test("^[0-9-]+T[0-9:]+Z$")) and
    .metadata.labels == {"projectcalico.org/namespace": "default",
        "projectcalico.org/orchestrator": "cni"} and
    .spec.orchestrator == "cni" and .spec.workload == $cid and
    .spec.node == "n1" and .spec.containerID == $cid and
    .spec.endpoint == "eth0" and .spec.ipNetworks == [$ip + "/32"] and
    .spec.profiles == [$net] and .spec.interfaceName == $hif and
    .spec.mac == $mac' \
    --arg name "$WEP1" --arg cid "$CID1" --arg ip "$IP1" --arg net "$CNI_NET" \
    --arg hif "$HIF1" --arg mac "$MAC1"
G=$(nctl get workloadendpoints "$WEP1" -o json 2>&1) ||
    fail "podmeshctl get workloadendpoints $WEP1: $G"
jqe "podmeshctl's view of p1" "$G" '.spec.containerID == $cid' --arg cid "$CID1"
ok "WorkloadEndpoint default/$WEP1 as Calico writes it"

reach p1 "$N1"
run check p1 "$CID1" "$CONF4"
expect_ok "CHECK p1"
[ -z "$OUT" ] || fail "CHECK p1 printed: $OUT"
ok "CHECK p1: silent success"

# ---------------------------------------------------------------------------
step "dual stack, Kubernetes pods web-0 and web-1"
CID2=feedc0de00000000aaa2
CID3=feedc0de00000000aaa3
ARGS2="IgnoreUnknown=1;K8S_POD_NAMESPACE=$K8S_NS;K8S_POD_NAME=web-0;K8S_POD_INFRA_CONTAINER_ID=$CID2"
ARGS3="IgnoreUnknown=1;K8S_POD_NAMESPACE=$K8S_NS;K8S_POD_NAME=web-1;K8S_POD_INFRA_CONTAINER_ID=$CID3"
HIF2=$(k8s_ifname "$K8S_NS" web-0)
HIF3=$(k8s_ifname "$K8S_NS" web-1)
add p2 "$CID2" "$CONF6" CNI_ARGS="$ARGS2"
expect_ok "ADD p2"
R2=$OUT
add p3 "$CID3" "$CONF6" CNI_ARGS="$ARGS3"
expect_ok "ADD p3"
R3=$OUT
MAC2=$(nsx p2 cat /sys/class/net/eth0/address)
jqe "p2 result" "$R2" '
    .interfaces[0] == {name: $hif, mac: "ee:ee:ee:ee:ee:ee"} and
    .interfaces[1] == {name: "eth0", mac: $mac, sandbox: $netns} and
    (.ips | length == 2) and all(.ips[]; .interface == 1) and
    (.ips[0].address | test("^198\\.18\\.[0-9]+\\.[0-9]+/32$")) and
    (.ips[1].address | test("^2001:db8:100::[0-9a-f]+/128$")) and
    .routes == [{dst: "0.0.0.0/0", gw: "169.254.1.1"},
        {dst: "::/0", gw: "fe80::ecee:eeff:feee:eeee"}]' \
    --arg hif "$HIF2" --arg mac "$MAC2" --arg netns "$(cni_netns p2)"
jqe "p3 result" "$R3" '.interfaces[0].name == $hif and (.ips | length == 2)' \
    --arg hif "$HIF3"
IP2=$(jq -r '.ips[0].address | sub("/.*"; "")' <<<"$R2")
IP26=$(jq -r '.ips[1].address | sub("/.*"; "")' <<<"$R2")
IP3=$(jq -r '.ips[0].address | sub("/.*"; "")' <<<"$R3")
IP36=$(jq -r '.ips[1].address | sub("/.*"; "")' <<<"$R3")
{ link_exists "$HIF2" && link_exists "$HIF3"; } ||
    fail "host links $HIF2 $HIF3 (sha1 of $K8S_NS.web-0/1): $(cni_links n1)"
ip -n "$(ns n1)" -6 route show "$IP26/128" | grep -q "dev $HIF2" ||
    fail "n1: no route $IP26/128 dev $HIF2"
ok "p2 $IP2 $IP26 on $HIF2, p3 $IP3 $IP36 on $HIF3 (sha1 names)"

WEP2=n1-k8s-web--0-eth0
W=$(wep_get "$WEP2" "$K8S_NS")
jqe "WEP p2" "$W" '
    .metadata.namespace == $ns and
    .metadata.labels == {"projectcalico.org/namespace": $ns,
        "projectcalico.org/orchestrator": "k8s"} and
    .spec.orchestrator == "k8s" and .spec.pod == "web-0" and
    .spec.node == "n1" and .spec.containerID == $cid and
    .spec.endpoint == "eth0" and
    .spec.ipNetworks == [$ip4 + "/32", $ip6 + "/128"] and
    .spec.profiles == ["kns." + $ns] and .spec.interfaceName == $hif and
    .spec.mac == $mac and (.spec | has("workload") | not)' \
    --arg ns "$K8S_NS" --arg cid "$CID2" --arg ip4 "$IP2" --arg ip6 "$IP26" \
    --arg hif "$HIF2" --arg mac "$MAC2"
ok "WorkloadEndpoint $K8S_NS/$WEP2 (orchestrator k8s)"

reach p2 "$N1"
reach p2 "$N16"
reach p2 "$IP3"
reach p2 "$IP36"
reach p3 "$IP26"
reach p1 "$IP2"
reach p2 "$IP1"

run check p2 "$CID2" "$CONF6" CNI_ARGS="$ARGS2"
expect_ok "CHECK p2"
ip -n "$(ns n1)" route del "$IP2/32" dev "$HIF2" || fail "route del"
run check p2 "$CID2" "$CONF6" CNI_ARGS="$ARGS2"
expect_err "CHECK p2 without its host route" 5
ip -n "$(ns n1)" route add "$IP2/32" dev "$HIF2" scope link || fail "route add"
run check p2 "$CID2" "$CONF6" CNI_ARGS="$ARGS2"
expect_ok "CHECK p2 with the route back"
ok "CHECK p2: passes, fails without the host route, passes again"

# ---------------------------------------------------------------------------
step "ADD repeated for one container"
UID1=$(wep_get "$WEP1" | jq -r .metadata.uid)
add p1 "$CID1" "$CONF4"
expect_ok "ADD p1 again"
[ "$(cni_ip "$OUT")" = "$IP1" ] || fail "ADD p1 again: $(cni_ip "$OUT"), not $IP1"
[ "$(cni_links n1 | grep -c "^$HIF1$")" = 1 ] || fail "$HIF1: $(cni_links n1)"
[ "$(cni_handle_count "$CNI_NET.$CID1")" = 1 ] ||
    fail "handle $CNI_NET.$CID1 holds $(cni_handle_count "$CNI_NET.$CID1")"
[ "$(cni_weps)" = 3 ] || fail "$(cni_weps) WorkloadEndpoints, want 3"
jqe "WEP p1 rewritten" "$(wep_get "$WEP1")" \
    '.metadata.uid == $uid and .spec.mac == $mac' --arg uid "$UID1" \
    --arg mac "$(nsx p1 cat /sys/class/net/eth0/address)"
reach p1 "$N1"
reach p2 "$IP1"
ok "repeated ADD: the same $IP1, one link, one address held"

# ---------------------------------------------------------------------------
step "stale DEL: an old sandbox of web-0"
HOLD2=$(cni_handle_count "$CNI_NET.$CID2")
run del stale "deadbeef00000000old2" "$CONF6" CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=$K8S_NS;K8S_POD_NAME=web-0"
expect_ok "stale DEL"
jqe "WEP p2 after the stale DEL" "$(wep_get "$WEP2" "$K8S_NS")" \
    '.spec.containerID == $cid' --arg cid "$CID2"
link_exists "$HIF2" || fail "stale DEL removed $HIF2"
[ "$(cni_handle_count "$CNI_NET.$CID2")" = "$HOLD2" ] ||
    fail "stale DEL released p2's addresses"
reach p2 "$N1"
ok "stale DEL kept web-0's endpoint, link and $HOLD2 addresses"

# ---------------------------------------------------------------------------
step "DEL, DEL again, DEL with the netns gone"
run del p1 "$CID1" "$CONF4"
expect_ok "DEL p1"
link_exists "$HIF1" && fail "$HIF1 still there after DEL"
ip -n "$(ns n1)" route show | grep -q "$IP1" &&
    fail "route to $IP1 left: $(ip -n "$(ns n1)" route)"
[ -z "$(wep_get "$WEP1")" ] || fail "WorkloadEndpoint $WEP1 left"
[ "$(cni_handle_count "$CNI_NET.$CID1")" = 0 ] || fail "$IP1 not released"
nsx p1 ip link show eth0 >/dev/null 2>&1 && fail "p1 still has eth0"
ok "DEL p1: link, route, WorkloadEndpoint and address gone"
run del p1 "$CID1" "$CONF4"
expect_ok "DEL p1 again"
ok "DEL p1 again: success"

cni_pods_del p3
run del p3 "$CID3" "$CONF6" CNI_ARGS="$ARGS3"
expect_ok "DEL p3 with its netns gone"
wait_until 5 not link_exists "$HIF3" || fail "$HIF3 left"
[ -z "$(wep_get n1-k8s-web--1-eth0 "$K8S_NS")" ] || fail "p3's WorkloadEndpoint left"
[ "$(cni_handle_count "$CNI_NET.$CID3")" = 0 ] || fail "p3's addresses not released"
ok "DEL p3 after its netns was deleted: cleaned up"

run del p2 "$CID2" "$CONF6" CNI_ARGS="$ARGS2"
expect_ok "DEL p2"
link_exists "$HIF2" && fail "$HIF2 left"
[ "$(cni_handle_count "$CNI_NET.$CID2")" = 0 ] || fail "p2's addresses not released"

# ---------------------------------------------------------------------------
step "cniVersion 1.1.0: STATUS and GC"
CNI_NET=net11 cni_conf "$CONF11" n1
jq '.cniVersion = "1.1.0"' "$CONF11" >"$CONF11.tmp" && mv "$CONF11.tmp" "$CONF11"
OUT=$(nsx n1 env CNI_PATH="$CNI_PATHS" "$CNI_TOOL" status "$CONF11" 2>&1)
RC=$?
expect_ok "STATUS"
CID4=c0ffee0000000000aaa4
CID5=c0ffee0000000000aaa5
add p4 "$CID4" "$CONF11"
expect_ok "ADD p4 (1.1.0)"
jqe "1.1.0 result" "$OUT" '.cniVersion == "1.1.0" and
    [.interfaces[].mtu] == [1500, 1500]'
[ "$(nsx p4 cat /sys/class/net/eth0/mtu)" = 1500 ] || fail "p4: eth0 mtu"
add p5 "$CID5" "$CONF11"
expect_ok "ADD p5 (1.1.0)"
rm -f "$PM_TMP/cache-n1/net11-$CID4-eth0"
[ -e "$PM_TMP/cache-n1/net11-$CID5-eth0" ] ||
    fail "no cache entry for p5: $(ls "$PM_TMP/cache-n1")"
OUT=$(nsx n1 env CNI_PATH="$CNI_PATHS" PODMESH_CNI_CACHE="$PM_TMP/cache-n1" \
    "$CNI_TOOL" gc "$CONF11" 2>>"$PM_TMP/cni.stderr")
RC=$?
expect_ok "GC"
[ -z "$(wep_get "n1-cni-$CID4-eth0")" ] || fail "GC left p4's WorkloadEndpoint"
[ -n "$(wep_get "n1-cni-$CID5-eth0")" ] || fail "GC removed p5's WorkloadEndpoint"
[ "$(cni_handle_count "net11.$CID4")" = 0 ] || fail "GC left p4's address"
[ "$(cni_handle_count "net11.$CID5")" = 1 ] || fail "GC took p5's address"
ok "GC: p4 (not listed) collected, p5 kept"
cni_pods_del p4
run del p5 "$CID5" "$CONF11"
expect_ok "DEL p5"

# ---------------------------------------------------------------------------
step "ADD failing after IPAM: the address goes back"
CID7=badc0de000000000aaa7
OUT=$(cni_run n1 "$CID7" add "$CONF6" /var/run/netns/pm-no-such-netns \
    2>>"$PM_TMP/cni.stderr")
RC=$?
expect_err "ADD into a netns that does not exist" 8
[ "$(cni_handle_count "$CNI_NET.$CID7")" = 0 ] ||
    fail "failed ADD left its addresses held"
[ -z "$(wep_get "n1-cni-$CID7-eth0")" ] || fail "failed ADD left an endpoint"
link_exists "$(cid_ifname "$CID7")" && fail "failed ADD left $(cid_ifname "$CID7")"
ok "failed ADD: no address, endpoint or link left"

# ---------------------------------------------------------------------------
step "the seed manifest's 0.1.0 config, type podmesh"
jq -n --arg etcd "$NODE_ETCD_URL" '{
    name: "k8s-pod-network",
    cniVersion: "0.1.0",
    type: "podmesh",
    etcd_endpoints: $etcd,
    etcd_key_file: "",
    etcd_cert_file: "",
    etcd_ca_cert_file: "",
    log_level: "info",
    mtu: 1500,
    ipam: {type: "calico-ipam", assign_ipv4: "true",
        ipv4_pools: ["198.18.0.0/16"]},
    policy: {type: "k8s", k8s_api_root: "https://192.0.2.254:6443",
        k8s_auth_token: "41f7e4ba8b7be874fcff18bf5cf41a7c"},
    kubernetes: {kubeconfig: "/etc/kubernetes/kubelet.kubeconfig"}
}' >"$SEED"
CID6=5eed000000000000aaa6
ARGS6="IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;K8S_POD_NAME=coredns-0;K8S_POD_INFRA_CONTAINER_ID=$CID6"
# no nodename in the config: the host name is the node's (its own UTS ns)
seed_run() {
	OUT=$(ip netns exec "$(ns n1)" unshare --uts sh -c \
	    'hostname n1 && exec env "$@"' sh CNI_PATH="$CNI_PATHS" \
	    CNI_CONTAINERID="$CID6" CNI_ARGS="$ARGS6" \
	    PODMESH_CNI_CACHE="$PM_TMP/cache-n1" \
	    "$CNI_TOOL" "$1" "$SEED" "$(cni_netns p6)" 2>>"$PM_TMP/cni.stderr")
	RC=$?
}
seed_run add
expect_ok "ADD with the seed config"
jqe "0.1.0 result" "$OUT" '
    .cniVersion == "0.1.0" and (.ip4.ip | test("^198\\.18\\.[0-9.]+/32$")) and
    .ip4.routes == [{dst: "0.0.0.0/0", gw: "169.254.1.1"}] and
    (has("ips") | not) and (has("interfaces") | not) and (has("ip6") | not)'
IP6=$(jq -r '.ip4.ip | sub("/.*"; "")' <<<"$OUT")
HIF6=$(k8s_ifname kube-system coredns-0)
link_exists "$HIF6" || fail "seed pod: no $HIF6"
jqe "seed WEP" "$(wep_get n1-k8s-coredns--0-eth0 kube-system)" \
    '.spec.node == "n1" and .spec.ipNetworks == [$ip + "/32"] and
     .spec.profiles == ["kns.kube-system"]' --arg ip "$IP6"
reach p6 "$N1"
ok "seed config: ip4.ip $IP6, $HIF6, WorkloadEndpoint on n1"
seed_run del
expect_ok "DEL with the seed config"
link_exists "$HIF6" && fail "$HIF6 left"

# ---------------------------------------------------------------------------
step "nothing left"
[ "$(cni_weps)" = 0 ] || fail "WorkloadEndpoints left: $(ectl get --prefix "$CNI_WEP_PREFIX" --keys-only)"
[ "$(cni_handles)" = 0 ] || fail "handles left: $(ectl get --prefix /calico/ipam/v2/handle/ --keys-only)"
[ "$(cni_inuse)" = 0 ] || fail "$(cni_inuse) addresses still in use"
[ -z "$(cni_links n1)" ] || fail "links left in n1: $(cni_links n1)"
cni_check_clean "after every DEL"
! grep -E "Sanitizer|runtime error" "$PM_TMP/cni.stderr" ||
    fail "sanitizer reports from the plugins (above)"
ok "no endpoint, handle, address or link left"
