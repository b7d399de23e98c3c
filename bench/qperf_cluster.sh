#!/bin/bash
#
# The measuring half of bench/qperf.sh: for each MODE in turn, a namespace
# cluster as tests/integration/node_lib.sh builds it (etcd in infra,
# podmesh-node and podmesh-bgpd in datastore mode, full mesh, kernel sync),
# one pod per node from the podmesh CNI plugin and podmesh-ipam, then
# qperf pod to pod and node to node, and the cluster torn down.  Runs on
# the host, or inside the test VM (tests/vm/) for IPIP, whose module this
# host kernel may lack.
#
#   native       n1, n2 on 192.0.2.0/24; pool ipipMode/vxlanMode Never;
#                pod MTU 1500
#   vxlan        the same with vxlanMode Always; vxlan.calico and the pods
#                at the underlay's MTU - 50 (1450)
#   crosssubnet  vxlanMode CrossSubnet; n1, n2 on 192.0.2.0/24 and n3 on
#                198.51.100.0/24 behind a router: n1 -> n3 crosses subnets
#                (VXLAN, MTU 1450), n1 -> n2 stays within one (routed
#                natively); both are measured
#   ipip         ipipMode Always; tunl0 and the pods at 1480 (underlay - 20);
#                needs an ipip tunl0 (the VM)
#
# Per pair, the client runs in n1 (or its pod) and the server in the other
# node (or its pod).  Each run measures every metric once on both paths;
# which path goes first alternates from one test to the next, so drift hits
# both.
# udp_bw sends QP_UDP_MSG-byte messages (default 1400: they fit the
# smallest pod MTU, 1450, in one packet); the other tests use qperf's
# defaults (64 KiB for tcp_bw, 1 byte for the latency tests).
#
# Checked per mode, or the script fails: the route from n1 to the far pod
# leaves by the mode's device (eth0, vxlan.calico, tunl0), which carried
# the pods' traffic (its TX counter grew; natively routed pairs leave
# every tunnel device in n1 idle); the pods' eth0 and the tunnel
# device have the mode's MTU; no namespace fragmented or reassembled an IP
# packet while qperf ran (FragCreates, FragOKs, ReasmReqds in
# /proc/net/snmp); every qperf run printed a value in the unit asked for.
#
# Usage: bench/qperf_cluster.sh --out DIR [--runs N] [--time S]
#                               [--metrics "tcp_bw udp_bw tcp_lat udp_lat"]
#                               [--tag vm] MODE...
# Appends to DIR/samples.csv (mode,label,path,mtu,device,metric,run,value:
# bits/s for the bandwidths, ns for the latencies, as qperf -uu -ub prints
# them) and DIR/checks.txt.  --tag vm suffixes the mode keys with -vm and
# the labels with "(qemu VM)".
# Environment: PODMESH_BUILD, PODMESH_SRC, PM_TIMEOUT, PM_VM_WAIT (the
# cluster's waits, s; default 30), QP_UDP_MSG.
set -u -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
OUT=
RUNS=3
QTIME=2
METRICS="tcp_bw udp_bw tcp_lat udp_lat"
TAG=
ARGV=("$@")
# usage [STATUS]: the Usage part of the header; on stdout for --help
usage() {
	local fd=2
	[ "${1:-2}" = 0 ] && fd=1
	sed -n '/^# Usage:/,/^[^#]/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//' >&"$fd"
	exit "${1:-2}"
}
while [ $# -gt 0 ]; do
	case $1 in
	--out) OUT=${2:-}; shift ;;
	--runs) RUNS=${2:-}; shift ;;
	--time) QTIME=${2:-}; shift ;;
	--metrics) METRICS=${2:-}; shift ;;
	--tag) TAG=${2:-}; shift ;;
	-h | --help) usage 0 ;;
	-*) usage ;;
	*) break ;;
	esac
	shift
done
MODES=("$@")
[ -n "$OUT" ] && [ ${#MODES[@]} -gt 0 ] || usage
[[ $RUNS =~ ^[1-9][0-9]?$ && $QTIME =~ ^[1-9][0-9]?$ ]] || usage
for m in $METRICS; do
	case $m in tcp_bw | udp_bw | tcp_lat | udp_lat) ;; *) usage ;; esac
done
for m in "${MODES[@]}"; do
	case $m in native | vxlan | crosssubnet | ipip) ;; *) usage ;; esac
done
case $TAG in "" | vm) ;; *) usage ;; esac
UDP_MSG=${QP_UDP_MSG:-1400}
RATE=${QP_RATE:-}
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)

export PM_TIMEOUT=${PM_TIMEOUT:-600}
set -- "${ARGV[@]}"
# shellcheck disable=SC1091
. "$top/tests/integration/lib.sh"
# shellcheck disable=SC1091
. "$top/tests/integration/node_lib.sh"
# shellcheck disable=SC1091
. "$top/tests/integration/cni_lib.sh"
require_node
require_cni
command -v qperf >/dev/null || fail "qperf not installed (bash .ci/deps)"
W=${PM_VM_WAIT:-30}
QP_PORT=19765 # qperf's listen port

[ -s "$OUT/samples.csv" ] ||
    echo "mode,label,path,mtu,device,metric,run,value" >"$OUT/samples.csv"

# ---------------------------------------------------------------------------

# qp_snmp NS: FragCreates+FragOKs+ReasmReqds of NS's IPv4 stack.
qp_snmp() {
	nsx "$1" cat /proc/net/snmp | awk '
	    $1 == "Ip:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
	    $1 == "Ip:" { print $col["FragCreates"] + $col["FragOKs"] + $col["ReasmReqds"] }'
}

# qp_frags NS...: the sum of qp_snmp over NSs.
qp_frags() {
	local s=0 x v
	for x in "$@"; do
		v=$(qp_snmp "$x") && [[ $v =~ ^[0-9]+$ ]] ||
		    fail "/proc/net/snmp in $x: no IP fragment counters"
		s=$((s + v))
	done
	echo "$s"
}

# qp_tx NS DEV: packets DEV sent.
qp_tx() {
	ip -n "$(ns "$1")" -j -s link show dev "$2" | jq '.[0].stats64.tx.packets'
}

# qp_mtu NS DEV
qp_mtu() {
	ip -n "$(ns "$1")" -j link show dev "$2" | jq '.[0].mtu'
}

# qp_dev NS DEST: the device the route from NS to DEST leaves by.
qp_dev() {
	ip -n "$(ns "$1")" -j route get "$2" | jq -r '.[0].dev'
}

# qp_shape NODE...: each node's underlay link (eth0) sends at most RATE,
# as a NIC of that speed would: tbf, with a 256 KiB burst.  The burst must
# pass a GSO packet whole, which tbf counts as its payload plus every
# segment's headers (64 KiB + 47 x 104 bytes for VXLAN); a smaller one makes
# tbf segment it in software, which would charge the shaper to the mode.
qp_shape() {
	local n
	for n in "$@"; do
		tc -n "$(ns "$n")" qdisc replace dev eth0 root tbf rate "$RATE" \
		    burst 256k latency 5ms || fail "tbf rate $RATE on $n's eth0"
	done
}

# qp_server NS: qperf listening in NS.
qp_server() {
	ip netns exec "$(ns "$1")" qperf --listen_port "$QP_PORT" \
	    >>"$PM_TMP/qperf-$1.log" 2>&1 &
	PM_PID["qperf:$1"]=$!
	wait_until "$W" _qp_listening "$1" || fail "qperf did not listen in $1"
}

_qp_listening() {
	nsx "$1" ss -Hltn "sport = :$QP_PORT" | grep -q .
}

# qp_one FROM DEST METRIC: one qperf test from namespace FROM; prints the
# value (bits/s or ns).
qp_one() {
	local from=$1 dst=$2 m=$3 args=() out key unit v
	[ "$m" = udp_bw ] && args=(-m "$UDP_MSG")
	out=$(nsx "$from" timeout $((QTIME + 30)) qperf "$dst" \
	    --listen_port "$QP_PORT" -t "$QTIME" -uu -ub "${args[@]}" "$m" 2>&1) ||
	    fail "qperf $m from $from to $dst: $out"
	case $m in
	tcp_bw) key=bw unit=bits/sec ;;
	udp_bw) key=recv_bw unit=bits/sec ;;
	*) key=latency unit=ns ;;
	esac
	v=$(awk -v k="$key" -v u="$unit" '$1 == k && $2 == "=" && $4 == u { print $3 }' <<<"$out")
	[[ $v =~ ^[0-9]+(\.[0-9]+)?$ ]] && [ "$v" != 0 ] ||
	    fail "qperf $m from $from to $dst: no '$key = N $unit' in: $out"
	echo "$v"
}

# qp_pair KEY LABEL HMTU MTU DEV HOST-DEST POD-DEST: RUNS runs of every
# metric, n1 -> HOST-DEST (underlay MTU HMTU) and pod p1 -> POD-DEST (pod
# MTU MTU, by DEV), into samples.csv.
qp_pair() {
	local key=$1 label=$2 hmtu=$3 mtu=$4 dev=$5 hdst=$6 pdst=$7 r m
	local order v path i=0
	for ((r = 1; r <= RUNS; r++)); do
		for m in $METRICS; do
			# which path goes first alternates from one test to the next
			order="hosts pods"
			(((r + i++) % 2 == 0)) && order="pods hosts"
			for path in $order; do
				if [ "$path" = hosts ]; then
					v=$(qp_one n1 "$hdst" "$m") || exit 1
					echo "$key,$label,hosts,$hmtu,eth0,$m,$r,$v"
				else
					v=$(qp_one p1 "$pdst" "$m") || exit 1
					echo "$key,$label,pods,$mtu,$dev,$m,$r,$v"
				fi >>"$OUT/samples.csv"
				log "$key run $r $m $path: $v"
			done
		done
	done
}

# qp_mode MODE: build, measure, check, tear down.
qp_mode() {
	local mode=$1 env=() mtu=1500 dev=eth0 two="" n p i far
	local tundev="" suffix="" lsuffix="" nss=() f0 f1 t0 t1
	case $mode in
	native) env=(CALICO_IPV4POOL_IPIP=Never CALICO_IPV4POOL_VXLAN=Never) ;;
	vxlan)
		env=(CALICO_IPV4POOL_IPIP=Never CALICO_IPV4POOL_VXLAN=Always)
		mtu=1450 tundev=vxlan.calico
		;;
	crosssubnet)
		env=(CALICO_IPV4POOL_IPIP=Never CALICO_IPV4POOL_VXLAN=CrossSubnet)
		mtu=1450 tundev=vxlan.calico two=1
		;;
	ipip)
		env=(CALICO_IPV4POOL_IPIP=Always CALICO_IPV4POOL_VXLAN=Never
		    FELIX_IPINIPMTU=1480)
		mtu=1480 tundev=tunl0
		ip -d link show tunl0 2>/dev/null | grep -q "link/ipip" ||
		    fail "ipip: no ipip tunl0 here (the module is missing: run" \
		    "IPIP in the VM, as bench/qperf.sh does)"
		;;
	esac
	[ "$TAG" = vm ] && suffix=-vm lsuffix=" (qemu VM)"

	step "$mode$lsuffix: cluster (pod MTU $mtu)"
	if [ -n "$two" ]; then
		underlay two
	else
		underlay
	fi
	node_add n1
	node_add n2
	[ -n "$two" ] && node_add n3 subnet=2
	node_etcd_start
	for n in "${NODES[@]}"; do
		node_start "$n" "CALICO_IPV4POOL_CIDR=$NODE_POOL" "${env[@]}"
	done
	for n in "${NODES[@]}"; do
		node_bgpd_start "$n"
	done
	expect_mesh "$W"
	i=0
	for n in "${NODES[@]}"; do
		i=$((i + 1))
		p=p$i
		mkdir -p "$PM_TMP/cache-$n"
		cni_conf "$PM_TMP/cni-$n.conflist" "$n" "{\"mtu\": $mtu}"
		cni_pods_add "$p"
		cni_pod "$n" "$p" "$PM_TMP/cni-$n.conflist"
		[ "$(qp_mtu "$p" eth0)" = "$mtu" ] ||
		    fail "$p: eth0 MTU $(qp_mtu "$p" eth0), not $mtu"
		[ -z "$tundev" ] || [ "$(qp_mtu "$n" "$tundev")" = "$mtu" ] ||
		    fail "$n: $tundev MTU $(qp_mtu "$n" "$tundev"), not $mtu"
		log "pod $p on $n: ${POD_IP[$p]}"
	done
	for p in "${PODS[@]}"; do
		[ "$p" = p1 ] || pod_ping p1 "$p" "$W"
	done
	for p in "${PODS[@]}"; do
		[ "$p" = p1 ] || qp_server "$p"
	done
	for n in "${NODES[@]}"; do
		[ "$n" = n1 ] || qp_server "$n"
	done
	nss=("${NODES[@]}" "${PODS[@]}")
	[ -n "$two" ] && nss+=(rt)
	[ -n "$RATE" ] && qp_shape "${NODES[@]}"

	# the pairs: key label device-wanted far-node far-pod
	local pairs=()
	case $mode in
	native) pairs=("native|native routing|eth0|n2|p2") ;;
	vxlan) pairs=("vxlan|VXLAN|vxlan.calico|n2|p2") ;;
	crosssubnet) pairs=("crosssubnet-across|CrossSubnet: across subnets|vxlan.calico|n3|p3"
	    "crosssubnet-within|CrossSubnet: within a subnet|eth0|n2|p2") ;;
	ipip) pairs=("ipip|IPIP|tunl0|n2|p2") ;;
	esac
	local pr key label want hmtu d idle
	for pr in "${pairs[@]}"; do
		IFS='|' read -r key label want far p <<<"$pr"
		dev=$(qp_dev n1 "${POD_IP[$p]}") || fail "$key: ip route get ${POD_IP[$p]} in n1"
		[ "$dev" = "$want" ] ||
		    fail "$key: n1 routes ${POD_IP[$p]} ($p) by '$dev', not $want:" \
		    "$(ip -n "$(ns n1)" route get "${POD_IP[$p]}")"
		[ "$(qp_dev n1 "${NODE_IP[$far]}")" = eth0 ] ||
		    fail "$key: n1 does not reach ${NODE_IP[$far]} by eth0"
		hmtu=$(qp_mtu n1 eth0) || fail "n1: eth0's MTU"
		# a natively routed pair must leave every tunnel device idle
		idle=()
		if [ "$dev" = eth0 ]; then
			for d in vxlan.calico tunl0; do
				ip -n "$(ns n1)" link show dev "$d" >/dev/null 2>&1 &&
				    idle+=("$d")
			done
		fi
		step "$key$suffix: qperf n1 -> $far (${NODE_IP[$far]}), p1 -> $p" \
		    "(${POD_IP[$p]}) by $dev; $RUNS run(s) x $METRICS, ${QTIME}s each"
		f0=$(qp_frags "${nss[@]}") || exit 1
		t0=$(qp_tx n1 "$dev")
		declare -A i0=()
		for d in "${idle[@]}"; do
			i0[$d]=$(qp_tx n1 "$d")
		done
		qp_pair "$key$suffix" "$label$lsuffix" "$hmtu" "$mtu" "$dev" \
		    "${NODE_IP[$far]}" "${POD_IP[$p]}"
		f1=$(qp_frags "${nss[@]}") || exit 1
		t1=$(qp_tx n1 "$dev")
		[[ $t0 =~ ^[0-9]+$ && $t1 =~ ^[0-9]+$ ]] ||
		    fail "$key: n1's $dev TX counter unreadable ('$t0', '$t1')"
		for d in "${idle[@]}"; do
			[ "$(qp_tx n1 "$d")" = "${i0[$d]}" ] ||
			    fail "$key: routed natively, yet n1's $d sent" \
			    "$(($(qp_tx n1 "$d") - i0[$d])) packets during the runs"
		done
		[ "$f1" = "$f0" ] ||
		    fail "$key: IP fragmentation or reassembly while qperf ran" \
		    "($((f1 - f0)) FragCreates+FragOKs+ReasmReqds over ${nss[*]})"
		[ $((t1 - t0)) -ge 100 ] ||
		    fail "$key: n1's $dev sent only $((t1 - t0)) packets while the" \
		    "pods ran qperf: the traffic did not take it"
		echo "$key$suffix: pods by $dev, pod MTU $mtu, underlay MTU $hmtu;" \
		    "$dev TX +$((t1 - t0)) packets${idle[*]:+ (${idle[*]} idle)};" \
		    "0 fragmented or reassembled" >>"$OUT/checks.txt"
		ok "$key$suffix: by $dev (+$((t1 - t0)) packets), no fragments"
	done
	for n in "${NODES[@]}" "${PODS[@]}"; do
		[ -n "${PM_PID[qperf:$n]:-}" ] || continue
		_pm_kill_pid "${PM_PID[qperf:$n]}"
		unset "PM_PID[qperf:$n]"
	done
	cluster_down
	CNI_PODNS=()
}

for mode in "${MODES[@]}"; do
	qp_mode "$mode"
done
exit 0
