#!/bin/bash
#
# t_node_rr.sh: from full mesh to a route reflector (issue #5, acceptance 2).
# Three nodes (native routing, 192.0.2.0/24), one pod each, in full mesh.
# Calico's reflector setup is: Node n1 labelled route-reflector=true with
# routeReflectorClusterID 203.0.113.7, BGPPeer {nodeSelector: all(),
# peerSelector: route-reflector == 'true'}, BGPConfiguration default
# nodeToNodeMeshEnabled=false.  Three changes, each watched:
#  1. mesh to reflector in one `podmeshctl apply` (one etcd transaction);
#  2. back to the mesh, step by step (mesh on, BGPPeer deleted, n1 plain);
#  3. to the reflector again one command at a time, the mesh off first.
# For each: every node's proto-44 routes sampled every ~100 ms and its
# `ip monitor route` show no prefix missing for a hold time (NODE_HOLD, 9 s)
# or longer (the longest gap and the number of kernel deletes are
# reported); the sessions (podmeshctl bgp peers -o json) end as expected
# (reflector: n1 with n2 and n3, n2 and n3 with n1 only; mesh: all pairs);
# the kernel tables end as in the mesh (next hops unchanged).  With the
# reflector, n2 holds n3's block as reflected by n1 (ORIGINATOR_ID n3,
# CLUSTER_LIST [203.0.113.7]) and back; a block claimed afterwards on n3
# reaches n1 and n2 through the reflector, and pods ping across it.  ~40 s.
PM_TIMEOUT=180
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"

require_node
CL=203.0.113.7

step "three nodes in full mesh"
underlay
node_add n1
node_add n2
node_add n3
node_etcd_start
for n in n1 n2 n3; do
	node_start "$n" CALICO_IPV4POOL_CIDR=$NODE_POOL CALICO_IPV4POOL_IPIP=Never
done
pod_add n1 pa
pod_add n2 pb
pod_add n3 pc
for n in n1 n2 n3; do
	node_bgpd_start "$n"
done
expect_mesh 20
for n in n1 n2 n3; do
	expect_table "$n" native 10
done
pod_ping pa pc

# every prefix any node should hold, and each node's table
all=$(for n in n1 n2 n3; do node_blocks "$n"; done | sort -u | tr '\n' ' ')
declare -A want
for n in n1 n2 n3; do
	want[$n]=$(node_expected "$n" native)
done
hold_ms=$((NODE_HOLD * 1000))

# watched NAME FUNCTION: run FUNCTION (a configuration change that waits
# for the sessions it expects) with every node's routes sampled and `ip
# monitor route` running; then no prefix may have been missing for a hold
# time or longer, by either measure, and the tables must be as before.
watched() {
	local name=$1 fn=$2 n t0 gaps mg p g m d worst=0 flaps=0
	step "$name"
	for n in n1 n2 n3; do
		sampler_start "$n"
		monitor_start "$n"
	done
	sleep 0.5
	t0=$(_pm_now)
	"$fn"
	log "sessions as expected $(_pm_secs $(($(_pm_now) - t0)))s after the first write"
	sleep 2
	for n in n1 n2 n3; do
		sampler_stop "$n"
		monitor_stop "$n"
	done
	for n in n1 n2 n3; do
		# shellcheck disable=SC2086 # one argument per prefix
		gaps=$(sampler_gaps "$n" $all)
		log "$n sampled ($(wc -l <"$PM_TMP/$n.samples") samples):" \
		    "$(awk '{printf "%s gap %d ms (%d missing); ", $1, $2, $3}' <<<"$gaps")"
		while read -r p g m; do
			[ "$g" -lt "$hold_ms" ] ||
			    fail "$name: $n: $p missing for $g ms (hold time $hold_ms ms)"
			[ "$g" -gt "$worst" ] && worst=$g
		done <<<"$gaps"
		mg=$(monitor_gaps "$n")
		[ -n "$mg" ] || continue
		log "$n ip monitor: $(awk '{printf "%s deleted %d times, back after %d ms; ", $1, $2, $3}' <<<"$mg")"
		while read -r p d g; do
			[ "$g" -lt "$hold_ms" ] ||
			    fail "$name: $n: $p deleted for $g ms (ip monitor; hold time $hold_ms ms)"
			[ "$g" -gt "$worst" ] && worst=$g
			flaps=$((flaps + d))
		done <<<"$mg"
	done
	for n in n1 n2 n3; do
		_node_table_is "$n" "${want[$n]}" ||
		    fail "$name: $n's table differs: $(diff <(echo "${want[$n]}") <(node_routes "$n"))"
	done
	ok "longest absence of a prefix anywhere $worst ms (< $hold_ms ms);" \
	    "$flaps kernel route deletes in all; tables as before"
}

node1_rr() {
	nctl get node n1 -o json | jq -c --arg cl "$CL" '
	    .metadata.labels["route-reflector"] = "true" |
	    .spec.bgp.routeReflectorClusterID = $cl |
	    del(.metadata.resourceVersion)'
}

node1_plain() {
	nctl get node n1 -o json | jq -c '
	    del(.metadata.labels["route-reflector"]) |
	    del(.spec.bgp.routeReflectorClusterID) |
	    del(.metadata.resourceVersion)'
}

bgppeer() {
	printf '%s\n' 'apiVersion: projectcalico.org/v3' 'kind: BGPPeer' \
	    'metadata: {name: peer-with-route-reflectors}' 'spec:' \
	    '  nodeSelector: all()' "  peerSelector: route-reflector == 'true'"
}

mesh() {
	printf '%s\n' 'apiVersion: projectcalico.org/v3' 'kind: BGPConfiguration' \
	    'metadata: {name: default}' \
	    "spec: {nodeToNodeMeshEnabled: $1, asNumber: $NODE_AS}"
}

# apply_text NAME: podmeshctl apply -f of stdin.
apply_text() {
	local out
	cat >"$PM_TMP/$1.yaml"
	out=$(nctl apply -f "$PM_TMP/$1.yaml" 2>&1) || fail "apply $1: $out"
}

expect_rr_sessions() {
	expect_sessions n1 20 n2 n3
	expect_sessions n2 20 n1
	expect_sessions n3 20 n1
}

to_rr_at_once() {
	{
		node1_rr
		echo ---
		bgppeer
		echo ---
		mesh false
	} | apply_text rr-at-once
	expect_rr_sessions
}

back_to_mesh() {
	local out
	mesh true | apply_text mesh-on
	out=$(nctl delete bgppeer peer-with-route-reflectors 2>&1) ||
	    fail "delete bgppeer: $out"
	node1_plain | apply_text n1-plain
	expect_mesh 20
}

to_rr_stepwise() {
	mesh false | apply_text mesh-off
	node1_rr | apply_text n1-rr
	bgppeer | apply_text peer
	expect_rr_sessions
}

# reflected: n2 and n3 hold each other's blocks through n1
reflected() {
	local a b
	for a in "n2 n3" "n3 n2"; do
		# shellcheck disable=SC2086
		set -- $a
		for b in $(node_blocks "$2"); do
			expect_route podmesh "$1" "$b" nh="${NODE_IP[$2]}" \
			    peer=192.0.2.11 orig="${NODE_IP[$2]}" cl=$CL best=1
		done
	done
	[ -z "$(podmesh_peer_field n2 192.0.2.13 state)" ] ||
	    fail "n2 still has a session to n3"
	ok "no session left between n2 and n3"
}

watched "1. mesh to reflector in one apply (one etcd transaction)" to_rr_at_once
reflected
watched "2. back to the mesh, step by step" back_to_mesh
watched "3. to the reflector again, mesh off first, one command at a time" \
    to_rr_stepwise
reflected

step "a block claimed afterwards on n3 goes through the reflector"
pod_add n3 pd --ip 198.18.200.10
nb=198.18.200.0/26
node_blocks n3 | grep -qx "$nb" || fail "n3 did not get $nb: $(node_blocks n3)"
for n in n1 n2; do
	expect_kroute "$n" "$nb via 192.0.2.13 dev eth0" 10
done
expect_kroute n3 "blackhole $nb" 10
expect_route podmesh n2 "$nb" nh=192.0.2.13 peer=192.0.2.11 orig=192.0.2.13 cl=$CL
pod_ping pb pd
pod_ping pd pa

cluster_down
exit 0
