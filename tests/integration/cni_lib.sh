# shellcheck shell=bash
#
# Helpers for the CNI integration tests (issue #6), sourced after lib.sh
# and node_lib.sh:
#
#	. "$(dirname "$0")/lib.sh"
#	. "$(dirname "$0")/node_lib.sh"
#	. "$(dirname "$0")/cni_lib.sh"
#
# The plugin always runs inside a node namespace (node_lib.sh's nI) and
# wires pods that are namespaces of their own.  Pod namespaces are made in
# bulk with `ip -batch` and kept OUT of lib.sh's PM_NS (its cleanup looks
# into every namespace one by one, which takes minutes for thousands):
# they are listed in CNI_PODNS and deleted in bulk by cni_pods_del or by
# the EXIT trap installed here, which then runs lib.sh's pm_cleanup.
#
#   require_cni                the three CNI binaries and podmeshctl built
#   cni_cluster NODE...        underlay, the nodes (cache dir
#                              $PM_TMP/cache-NODE each), etcd, and a Node
#                              resource per node (cni_node_resources)
#   cni_pool NAME CIDR BLOCK [SPEC]  an IPPool (ipipMode, vxlanMode Never)
#   cni_conf FILE NODE [JSON]  a conflist (cniVersion 1.0.0, network
#                              $CNI_NET) holding one podmesh plugin with
#                              nodename NODE, the test etcd, the node's
#                              own ipam_lock_file (a host's lock is per
#                              host) and ipam.type podmesh-ipam; JSON is
#                              merged into the plugin's entry with jq's *
#   cni_plugin_conf FILE NODE [JSON]  the same entry as the plugin itself
#                              gets it on stdin (cniVersion and name in it)
#   cni_pods_add NAME...       pod namespaces (full path: cni_netns NAME)
#   cni_pods_del NAME...       delete them (all of CNI_PODNS when none)
#   cni_run NODE CID CMD FILE NETNS   podmesh-cnitool CMD inside NODE with
#                              CNI_CONTAINERID=CID, PODMESH_CNI_CACHE per
#                              node; stdout is the tool's, status its own
#   cni_plugin NODE CONF-FILE ENV...  BUILD/cni/podmesh itself inside NODE
#                              with exactly ENV (plus CNI_PATH unless
#                              given) and CONF-FILE on stdin
#   cni_inuse                  addresses in use in all pools (ipam show)
#   cni_links NODE             names of the cali* links in NODE
#   cni_weps                   number of WorkloadEndpoints in etcd
#   cni_handles                number of IPAM handles in etcd
#   cni_handle_count HANDLE    addresses HANDLE holds ("$CNI_NET.<cid>")
#   cni_check_clean WHAT       `podmeshctl ipam check` finds 0 problems
#   cni_ip JSON                the first address (no length) of a result

CNI_BIN=$PODMESH_BUILD/cni
CNI_TOOL=$CNI_BIN/podmesh-cnitool
CNI_PLUGIN=$CNI_BIN/podmesh
CNI_IPAM=$CNI_BIN/podmesh-ipam
CNI_PATHS=$CNI_BIN:/usr/lib/cni
CNI_NET=${CNI_NET:-podmesh-net}
CNI_WEP_PREFIX=/calico/resources/v3/projectcalico.org/workloadendpoints/
CNI_PODNS=()

# require_cni: the three CNI binaries and podmeshctl.
require_cni() {
	local b
	for b in "$CNI_TOOL" "$CNI_PLUGIN" "$CNI_IPAM" "$PODMESHCTL"; do
		[ -x "$b" ] || fail "not built: $b (PODMESH_BUILD=$PODMESH_BUILD;" \
		    "cmake --build \$PODMESH_BUILD --target podmesh" \
		    "podmesh-ipam podmesh-cnitool podmeshctl)"
	done
}

_cni_cleanup() {
	local rc=$?
	trap - EXIT
	((${#CNI_PODNS[@]} > 0)) && cni_pods_del
	return $rc
}
trap '_cni_cleanup; pm_cleanup' EXIT

# cni_netns NAME: the path of pod namespace NAME.
cni_netns() {
	printf '/var/run/netns/%s' "$(ns "$1")"
}

# cni_pods_add NAME...: pod namespaces, in one `ip -batch` (lo stays down:
# nothing here needs it).
cni_pods_add() {
	local p
	for p in "$@"; do
		echo "netns add $(ns "$p")"
	done | ip -batch - >/dev/null || fail "ip -batch netns add ($# pods)"
	CNI_PODNS+=("$@")
}

# cni_pods_del [NAME...]: delete pod namespaces (every one made when no
# NAME is given); whatever is in them goes with them.
cni_pods_del() {
	local p keep=() gone
	local -A del=()
	if (($# == 0)); then
		set -- "${CNI_PODNS[@]}"
	fi
	for p in "$@"; do
		echo "netns del $(ns "$p")"
	done | ip -force -batch - >/dev/null 2>&1
	for p in "$@"; do
		del[$p]=1
	done
	for p in "${CNI_PODNS[@]}"; do
		[ -n "${del[$p]:-}" ] || keep+=("$p")
	done
	CNI_PODNS=("${keep[@]}")
	gone=0
	for p in "$@"; do
		[ -e "$(cni_netns "$p")" ] || gone=$((gone + 1))
	done
	((gone == $#)) || log "warning: $(($# - gone)) pod namespaces not deleted"
}

# cni_pool NAME CIDR BLOCKSIZE [EXTRA-SPEC]: an IPPool; EXTRA-SPEC is
# more flow-style YAML for its spec ("nodeSelector: ...").
cni_pool() {
	local f=$PM_TMP/pool-$1.yaml out
	cat >"$f" <<EOF
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: $1}
spec: {cidr: $2, blockSize: $3, ipipMode: Never, vxlanMode: Never${4:+, $4}}
EOF
	out=$(nctl create -f "$f" 2>&1) || fail "create IPPool $1 $2: $out"
}

# cni_node_resources NODE...: the Node resources (without them ipam check
# takes every affinity for one to a missing node).
cni_node_resources() {
	local n f=$PM_TMP/nodes.yaml out
	{
		echo "kind: NodeList"
		echo "items:"
		for n in "$@"; do
			echo "- apiVersion: projectcalico.org/v3"
			echo "  kind: Node"
			echo "  metadata: {name: $n}"
			echo "  spec: {bgp: {ipv4Address: ${NODE_IP[$n]}/${NODE_LEN[$n]}}}"
		done
	} >"$f"
	out=$(nctl create -f "$f" 2>&1) || fail "create Nodes $*: $out"
}

# cni_cluster NODE...: one-subnet underlay, the nodes, etcd, Node
# resources.  No pool: the test makes its own with cni_pool.
cni_cluster() {
	local n
	underlay
	for n in "$@"; do
		node_add "$n"
		mkdir -p "$PM_TMP/cache-$n"
	done
	node_etcd_start
	cni_node_resources "$@"
}

# cni_conf FILE NODE [JSON]: a conflist with the podmesh plugin for NODE.
cni_conf() {
	local f=$1 n=$2 extra=${3:-"{}"}
	jq -n --arg net "$CNI_NET" --arg node "$n" --arg etcd "$NODE_ETCD_URL" \
	    --arg lock "$PM_TMP/ipam-$n.lock" --argjson extra "$extra" '{
		cniVersion: "1.0.0",
		name: $net,
		plugins: [({
			type: "podmesh",
			nodename: $node,
			etcd_endpoints: $etcd,
			log_level: "warning",
			ipam_lock_file: $lock,
			ipam: {type: "podmesh-ipam"}
		} * $extra)]
	}' >"$f" || fail "cni_conf $f: bad JSON '$extra'"
}

# cni_plugin_conf FILE NODE [JSON]: the plugin's own config (what the
# runtime gives it on stdin: the list's entry with cniVersion and name).
cni_plugin_conf() {
	local f=$1 n=$2 extra=${3:-"{}"}
	jq -n --arg net "$CNI_NET" --arg node "$n" --arg etcd "$NODE_ETCD_URL" \
	    --arg lock "$PM_TMP/ipam-$n.lock" --argjson extra "$extra" '{
		cniVersion: "1.0.0",
		name: $net,
		type: "podmesh",
		nodename: $node,
		etcd_endpoints: $etcd,
		log_level: "warning",
		ipam_lock_file: $lock,
		ipam: {type: "podmesh-ipam"}
	} * $extra' >"$f" || fail "cni_plugin_conf $f: bad JSON '$extra'"
}

# cni_run NODE CID CMD FILE NETNS [VAR=VALUE...]: the runner in NODE.
cni_run() {
	local n=$1 cid=$2 cmd=$3 f=$4 netns=$5
	shift 5
	ip netns exec "$(ns "$n")" env CNI_PATH="$CNI_PATHS" \
	    CNI_CONTAINERID="$cid" PODMESH_CNI_CACHE="$PM_TMP/cache-$n" \
	    "$@" "$CNI_TOOL" "$cmd" "$f" "$netns"
}

# cni_pod NODE POD CONFLIST [CID]: ADD through podmesh-cnitool in NODE
# (container id CID, default cni-POD, with Kubernetes' CNI_ARGS) into the
# pod namespace POD (cni_pods_add makes it); its IPv4 address into
# POD_IP, POD_NODE and PODS (node_lib.sh's pod bookkeeping).
cni_pod() {
	local n=$1 p=$2 f=$3 cid=${4:-cni-$2} out ip
	out=$(cni_run "$n" "$cid" add "$f" "$(cni_netns "$p")" \
	    CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$p;K8S_POD_INFRA_CONTAINER_ID=$cid" \
	    2>>"$PM_TMP/cni.stderr") ||
	    fail "CNI ADD of pod $p on $n failed: $out $(tail -5 "$PM_TMP/cni.stderr")"
	ip=$(cni_ip "$out")
	[[ $ip =~ ^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
	    fail "pod $p on $n: no IPv4 address in the ADD result: $out"
	POD_IP[$p]=$ip
	POD_NODE[$p]=$n
	PODS+=("$p")
}

# cni_plugin NODE CONF-FILE VAR=VALUE...: the plugin binary with exactly
# these variables (CNI_PATH added unless given), CONF-FILE on stdin.
cni_plugin() {
	local n=$1 f=$2 v path=("CNI_PATH=$CNI_PATHS")
	shift 2
	for v in "$@"; do
		[ "${v%%=*}" = CNI_PATH ] && path=()
	done
	# the sanitizers' settings pass (a run by hand may set them)
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS; do
		[ -n "${!v:-}" ] && path+=("$v=${!v}")
	done
	ip netns exec "$(ns "$n")" env -i PATH="$PATH" "${path[@]}" "$@" \
	    "$CNI_PLUGIN" <"$f"
}

# cni_inuse: addresses in use over all pools.
cni_inuse() {
	local out
	out=$(nctl ipam show -o json 2>&1) || fail "ipam show: $out"
	jq '[.pools[]?.in_use] | add // 0' <<<"$out"
}

# cni_links NODE: cali* links in NODE, one per line.
cni_links() {
	ip -n "$(ns "$1")" -o link show | awk -F': ' '{ sub(/@.*/, "", $2);
	    if ($2 ~ /^cali/) print $2 }'
}

# cni_weps: WorkloadEndpoints in etcd.
cni_weps() {
	ectl get --prefix "$CNI_WEP_PREFIX" --keys-only | grep -c .
}

# cni_handles: IPAM handles in etcd.
cni_handles() {
	ectl get --prefix /calico/ipam/v2/handle/ --keys-only | grep -c .
}

# cni_handle_count HANDLE: addresses a handle holds (sum of its blocks'
# counts; 0 when it does not exist).
cni_handle_count() {
	local v
	v=$(ectl get "/calico/ipam/v2/handle/$1" --print-value-only)
	[ -n "$v" ] || { echo 0; return; }
	jq '[.block[]?] | add // 0' <<<"$v"
}

# cni_check_clean WHAT: ipam check reports no problem.
cni_check_clean() {
	local out
	out=$(nctl ipam check 2>&1) || fail "ipam check ($1): $out"
	grep -q "Check complete; found 0 problems" <<<"$out" ||
	    fail "ipam check not clean $1: $out"
	ok "ipam check clean $1"
}

# cni_ip JSON: the first IP of a result (any version), without its length.
cni_ip() {
	jq -r '(.ips[0].address // .ip4.ip // "") | sub("/.*"; "")' <<<"$1"
}
