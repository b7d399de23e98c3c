#!/bin/bash
#
# Crash safety of the CNI plugin (issue #6): ADDs (podmesh-cnitool ->
# podmesh, which runs podmesh-ipam's code in its own process, in node n1,
# each into its own pod namespace) whose whole process group is
# SIGKILLed at random points: the runner is
# started under setsid and `kill -9 -- -PGID` follows after a random
# delay of 0..MAX ms.  MAX is 40 ms, or the median time of a whole ADD on
# this build when that is longer (an ASan build takes longer than 40 ms to
# reach etcd, and kills that all land in the runner's start-up test
# nothing), so the kills spread over the whole ADD.  RANDOM is seeded
# (CNI_CRASH_SEED, else the time; printed) so a failure reproduces;
# CNI_CRASH_ROUNDS (default 40).
#
# Before each kill every process in the node must be in the runner's
# group (a plugin that escapes it would outlive the runtime's kill);
# after it, no process survives in the node.  After all rounds the
# state each kill left is tallied (address held by the
# handle, host link, WorkloadEndpoint), then `podmeshctl ipam check --fix
# --grace 0` must leave `ipam check` clean, and for each killed container
# DEL succeeds and a new ADD + DEL for the same container works.  Finally:
# ipam check clean, 0 addresses in use, no handle, no cali* link, no
# WorkloadEndpoint.
#
# Then CNI_CRASH_ROUNDS/4 ADDs whose delegated IPAM alone is SIGKILLed
# 0..25 ms after it is seen running (the plugin runs podmesh-ipam's code
# itself, so the IPAM here is podmesh-ipam found as "calico-ipam" first
# in CNI_PATH, as Calico's binary would be): the ADD fails with a CNI
# error, or succeeds when the IPAM finished first; a failed one leaves
# no link and no endpoint, and at most the one address the IPAM
# allocated before it died (SPEC.md has the plugin release only after
# IPAM succeeded), which the runtime's DEL then frees.
#
# Then CNI_CRASH_ROUNDS/4 DELs of complete pods killed the same way:
# DEL again succeeds and leaves nothing (address, link, endpoint).
#
# Also: ADD repeated for the same container without DEL between.  The
# plugin may answer with the same address (one address held by the
# handle, one link, one WorkloadEndpoint) or with a clear error that
# leaves the first ADD's pod intact (address, link, WorkloadEndpoint);
# the test asserts one of these and says which the plugin does.
PM_TIMEOUT=${PM_TIMEOUT:-300}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"
. "$(dirname "$0")/cni_lib.sh"

require_cni

CR_SEED=${CNI_CRASH_SEED:-$(date +%s)}
CR_ROUNDS=${CNI_CRASH_ROUNDS:-40}
RANDOM=$CR_SEED
log "seed $CR_SEED (CNI_CRASH_SEED=$CR_SEED reproduces), $CR_ROUNDS rounds"

step "cluster: n1, pool $NODE_POOL /26"
cni_cluster n1
cni_pool pool4 "$NODE_POOL" 26
CONF=$PM_TMP/n1.conflist
cni_conf "$CONF" n1

# hostif CID: the host side's name for a non-Kubernetes container
hostif() {
	printf 'cali%s\n' "$(printf '%s' "$1" | sha1sum | cut -c1-11)"
}

n1_idle() {
	[ -z "$(ip netns pids "$(ns n1)")" ]
}

has_link() {
	ip -n "$(ns n1)" link show "$(hostif "$1")" >/dev/null 2>&1
}

has_wep() {
	ectl get --prefix "$CNI_WEP_PREFIX" -w json |
	    jq -e --arg c "$1" '[.kvs[]? | .value | @base64d | fromjson |
	        select(.spec.containerID == $c)] | length > 0' >/dev/null
}

wep_count() {
	ectl get --prefix "$CNI_WEP_PREFIX" -w json |
	    jq --arg c "$1" '[.kvs[]? | .value | @base64d | fromjson |
	        select(.spec.containerID == $c)] | length'
}

# add CID: ADD into pod namespace CID; the result on stdout, fails on error
add() {
	local out
	out=$(cni_run n1 "$1" add "$CONF" "$(cni_netns "$1")" 2>"$PM_TMP/err") ||
	    fail "ADD $1 failed: $out $(tail -5 "$PM_TMP/err")"
	echo "$out"
}

del() {
	local out
	out=$(cni_run n1 "$1" del "$CONF" "$(cni_netns "$1")" 2>"$PM_TMP/err") ||
	    fail "DEL $1 failed: $out $(tail -5 "$PM_TMP/err")"
}

# ---------------------------------------------------------------------------
step "calibration: 3 ADD + DEL undisturbed"
cni_pods_add cal0 cal1 cal2
times=()
for c in cal0 cal1 cal2; do
	t0=$(_pm_now)
	res=$(add $c)
	times+=($((($(_pm_now) - t0) / 1000)))
	a=$(cni_ip "$res")
	[[ $a =~ ^198\.18\. ]] || fail "ADD $c: no address from the pool: $res"
	del $c
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
CR_MAX=40
((median > CR_MAX)) && CR_MAX=$median
log "ADD takes ${times[*]} ms here: kills at 0..$CR_MAX ms"
[ "$(cni_inuse)" -eq 0 ] || fail "calibration left $(cni_inuse) addresses in use"

# ---------------------------------------------------------------------------
step "$CR_ROUNDS ADDs killed (SIGKILL to the process group) at random points"
pods=()
for ((i = 0; i < CR_ROUNDS; i++)); do
	pods+=("k$i")
done
cni_pods_add "${pods[@]}"
killed=() finished=()
for ((i = 0; i < CR_ROUNDS; i++)); do
	cid=k$i
	d=$((RANDOM % (CR_MAX + 1)))
	# A background command of a script without job control is not a
	# group leader, so setsid(1) does not fork: $! is the new group.
	ip netns exec "$(ns n1)" env CNI_PATH="$CNI_PATHS" \
	    CNI_CONTAINERID="$cid" PODMESH_CNI_CACHE="$PM_TMP/cache-n1" \
	    setsid "$CNI_TOOL" add "$CONF" "$(cni_netns "$cid")" \
	    >"$PM_TMP/$cid.out" 2>"$PM_TMP/$cid.err" &
	pg=$!
	# the delay counts from setsid(): before it the group does not exist
	# yet (ip netns exec and env still run in ours), and a kill of it
	# would reach nothing
	for ((t = 0; t < 200; t++)); do
		g=$(awk '{ print $5 }' "/proc/$pg/stat" 2>/dev/null) || break
		[ "$g" = "$pg" ] && break
		sleep 0.01
	done
	sleep "$(printf '0.%03d' "$d")"
	# everything running in n1 now must be in the group the kill reaches
	for p in $(ip netns pids "$(ns n1)"); do
		g=$(awk '{ print $5 }' "/proc/$p/stat" 2>/dev/null) || continue
		[ -z "$g" ] || [ "$g" = "$pg" ] ||
		    fail "round $i: pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null))" \
		    "runs in process group $g, not the runner's $pg: a kill of" \
		    "the runtime's group would not reach it"
	done
	kill -KILL -- -"$pg" 2>/dev/null
	rc=0
	wait "$pg" 2>/dev/null || rc=$?
	case $rc in
	137) killed+=("$cid") ;;
	0) finished+=("$cid") ;;
	*) fail "round $i ($cid, ${d} ms): the runner exited $rc before the kill:" \
	    "$(cat "$PM_TMP/$cid.out") $(tail -3 "$PM_TMP/$cid.err")" ;;
	esac
	echo "$cid $d $rc" >>"$PM_TMP/rounds"
	wait_until 3 n1_idle ||
	    fail "round $i ($cid): processes left in n1 after the kill:" \
	    "$(ip netns pids "$(ns n1)" | xargs -r ps -o pid,pgid,args -p)"
done
log "killed ${#killed[@]} ADDs, ${#finished[@]} finished before the kill"
((${#killed[@]} > 0)) || fail "no ADD was killed: the delays miss the ADD"

# What the kills left, per container: handle count, link, WorkloadEndpoint.
declare -A left=()
for cid in "${killed[@]}"; do
	h=$(cni_handle_count "$CNI_NET.$cid")
	l=-; has_link "$cid" && l="link"
	w=-; has_wep "$cid" && w=wep
	k="addr=$h $l $w"
	left[$k]=$((${left[$k]:-0} + 1))
done
for k in "${!left[@]}"; do
	log "  ${left[$k]} killed ADDs left: $k"
done
for cid in "${finished[@]}"; do
	[ "$(cni_handle_count "$CNI_NET.$cid")" -eq 1 ] && has_link "$cid" &&
	    has_wep "$cid" || fail "$cid finished its ADD but is incomplete"
done

step "ipam check --fix --grace 0"
out=$(nctl ipam check 2>&1)
log "before the fix: $(grep -E '^Found|^Check complete' <<<"$out" | tr '\n' ';')"
out=$(nctl ipam check --fix --grace 0 2>&1) || fail "ipam check --fix: $out"
log "fix: $(grep -E '^Fixed|^Nothing' <<<"$out" | tr '\n' ';')"
cni_check_clean "after --fix"

step "DEL of every killed container, then ADD + DEL again"
for cid in "${killed[@]}"; do
	del "$cid"
	has_link "$cid" && fail "DEL $cid left $(hostif "$cid")"
	[ "$(cni_handle_count "$CNI_NET.$cid")" -eq 0 ] ||
	    fail "DEL $cid left its handle holding addresses"
	has_wep "$cid" && fail "DEL $cid left its WorkloadEndpoint"
	res=$(add "$cid")
	a=$(cni_ip "$res")
	ip -n "$(ns "$cid")" -4 -o addr show dev eth0 | grep -q " $a/32 " ||
	    fail "ADD $cid after the DEL: eth0 does not hold $a"
	del "$cid"
done
ok "${#killed[@]} killed containers: DEL, ADD and DEL again succeed"
for cid in "${finished[@]}"; do
	del "$cid"
done

[ "$(cni_inuse)" -eq 0 ] || fail "$(cni_inuse) addresses still in use"
[ "$(cni_handles)" -eq 0 ] || fail "$(cni_handles) handles left"
[ "$(cni_weps)" -eq 0 ] || fail "$(cni_weps) WorkloadEndpoints left"
[ -z "$(cni_links n1)" ] || fail "cali* links left: $(cni_links n1 | tr '\n' ' ')"
cni_check_clean "after the crash rounds"
ok "nothing leaked: 0 in use, no handle, no endpoint, no cali* link"

# ---------------------------------------------------------------------------
# The plugin runs podmesh-ipam's code in its own process; a delegated
# IPAM binary is what Calico's own calico-ipam is: podmesh-ipam found as
# "calico-ipam" first in CNI_PATH.
mkdir -p "$PM_TMP/delegate"
ln -s "$CNI_IPAM" "$PM_TMP/delegate/calico-ipam"
DCONF=$PM_TMP/n1-delegate.conflist
cni_conf "$DCONF" n1 '{"ipam": {"type": "calico-ipam"}}'

# ipam_pid: the pid of the delegated IPAM running in n1, if any.
ipam_pid() {
	local p
	for p in $(ip netns pids "$(ns n1)"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" = calico-ipam ] &&
		    { echo "$p"; return 0; }
	done
	return 1
}

CR_IPAM=$((CR_ROUNDS / 4))
step "$CR_IPAM ADDs whose delegated IPAM alone is killed, then DEL"
ikilled=0 iheld=0
for ((i = 0; i < CR_IPAM; i++)); do
	cid=k$i
	d=$((RANDOM % 26))
	ip netns exec "$(ns n1)" env CNI_PATH="$PM_TMP/delegate:$CNI_PATHS" \
	    CNI_CONTAINERID="$cid" PODMESH_CNI_CACHE="$PM_TMP/cache-n1" \
	    "$CNI_TOOL" add "$DCONF" "$(cni_netns "$cid")" \
	    >"$PM_TMP/$cid.out" 2>"$PM_TMP/$cid.err" &
	pg=$!
	ipid=
	for ((t = 0; t < 300; t++)); do
		ipid=$(ipam_pid) && break
		kill -0 "$pg" 2>/dev/null || break
		sleep 0.01
	done
	if [ -z "$ipid" ]; then
		# a fast (non-ASan) build can finish between two looks
		wait "$pg" 2>/dev/null ||
		    fail "IPAM round $i: the delegated calico-ipam never" \
		    "seen running and the ADD failed: $(cat "$PM_TMP/$cid.out")"
		del "$cid"
		continue
	fi
	sleep "$(printf '0.%03d' "$d")"
	kill -KILL "$ipid" 2>/dev/null
	rc=0
	wait "$pg" 2>/dev/null || rc=$?
	if [ "$rc" -eq 0 ]; then
		del "$cid" # the IPAM finished first: a whole pod
		continue
	fi
	ikilled=$((ikilled + 1))
	jq -e '.code | type == "number"' "$PM_TMP/$cid.out" >/dev/null ||
	    fail "IPAM round $i: the failed ADD printed no CNI error:" \
	    "$(cat "$PM_TMP/$cid.out")"
	# An IPAM killed after its allocation (while printing, or in its
	# exit) answered nothing: SPEC.md asks the plugin to call IPAM DEL
	# only after IPAM succeeded, so the address may stay held, for the
	# runtime's DEL after the failed ADD (or ipam check --fix) to free.
	h=$(cni_handle_count "$CNI_NET.$cid")
	((h <= 1)) || fail "IPAM round $i: the handle holds $h addresses"
	((h == 0)) || iheld=$((iheld + 1))
	has_link "$cid" && fail "IPAM round $i: the failed ADD left $(hostif "$cid")"
	has_wep "$cid" && fail "IPAM round $i: the failed ADD left a WorkloadEndpoint"
	del "$cid"
	[ "$(cni_handle_count "$CNI_NET.$cid")" -eq 0 ] ||
	    fail "IPAM round $i: DEL after the failed ADD left its address"
done
[ "$(cni_inuse)" -eq 0 ] && [ "$(cni_handles)" -eq 0 ] ||
    fail "the ADDs with their IPAM killed left addresses after DEL"
cni_check_clean "after the IPAM kills"
ok "$ikilled of $CR_IPAM ADDs lost their IPAM: each failed with a CNI error," \
    "no link, no endpoint; $iheld held an address until the DEL"

# ---------------------------------------------------------------------------
CR_DELS=$((CR_ROUNDS / 4))
step "$CR_DELS DELs killed at random points, then DEL again"
dkilled=0
for ((i = 0; i < CR_DELS; i++)); do
	cid=k$i
	add "$cid" >/dev/null
	d=$((RANDOM % (CR_MAX + 1)))
	ip netns exec "$(ns n1)" env CNI_PATH="$CNI_PATHS" \
	    CNI_CONTAINERID="$cid" PODMESH_CNI_CACHE="$PM_TMP/cache-n1" \
	    setsid "$CNI_TOOL" del "$CONF" "$(cni_netns "$cid")" \
	    >"$PM_TMP/$cid.out" 2>"$PM_TMP/$cid.err" &
	pg=$!
	sleep "$(printf '0.%03d' "$d")"
	kill -KILL -- -"$pg" 2>/dev/null
	rc=0
	wait "$pg" 2>/dev/null || rc=$?
	case $rc in
	137) dkilled=$((dkilled + 1)) ;;
	0) ;;
	*) fail "DEL round $i ($cid, ${d} ms): the runner exited $rc:" \
	    "$(cat "$PM_TMP/$cid.out") $(tail -3 "$PM_TMP/$cid.err")" ;;
	esac
	wait_until 3 n1_idle || fail "DEL round $i: processes left in n1"
	del "$cid"
	has_link "$cid" && fail "DEL $cid after a killed DEL left $(hostif "$cid")"
	has_wep "$cid" && fail "DEL $cid after a killed DEL left its WorkloadEndpoint"
	[ "$(cni_handle_count "$CNI_NET.$cid")" -eq 0 ] ||
	    fail "DEL $cid after a killed DEL left its address"
done
[ "$(cni_inuse)" -eq 0 ] && [ "$(cni_handles)" -eq 0 ] && [ "$(cni_weps)" -eq 0 ] &&
    [ -z "$(cni_links n1)" ] || fail "the killed DELs left something behind"
cni_check_clean "after the killed DELs"
ok "$dkilled of $CR_DELS DELs killed; DEL again leaves nothing"

# ---------------------------------------------------------------------------
step "ADD repeated for one container without DEL"
cni_pods_add rep
r1=$(add rep)
a1=$(cni_ip "$r1")
rc=0
r2=$(cni_run n1 rep add "$CONF" "$(cni_netns rep)" 2>"$PM_TMP/rep.err") || rc=$?
if [ "$rc" -eq 0 ]; then
	a2=$(cni_ip "$r2")
	[ "$a2" = "$a1" ] ||
	    fail "repeated ADD succeeded with another address: $a1 then $a2"
	[ "$(cni_handle_count "$CNI_NET.rep")" -eq 1 ] ||
	    fail "repeated ADD: the handle holds $(cni_handle_count "$CNI_NET.rep") addresses"
	[ "$(cni_inuse)" -eq 1 ] || fail "repeated ADD: $(cni_inuse) addresses in use"
	ok "repeated ADD is idempotent: same address $a1, one address held"
	REP=idempotent
else
	jq -e 'type == "object" and (.code | type == "number") and
	    (.msg | type == "string" and length > 0)' <<<"$r2" >/dev/null ||
	    fail "repeated ADD failed ($rc) without a CNI error object: $r2"
	log "repeated ADD failed: $(jq -c . <<<"$r2")"
	[ "$(cni_handle_count "$CNI_NET.rep")" -eq 1 ] && [ "$(cni_inuse)" -eq 1 ] ||
	    fail "the failed repeated ADD took the first ADD's address away" \
	    "(handle holds $(cni_handle_count "$CNI_NET.rep"), $(cni_inuse) in use)"
	ok "repeated ADD fails with a clear error: $(jq -r .msg <<<"$r2")"
	REP="error $(jq -r .code <<<"$r2")"
fi
# either way the pod of the first ADD is whole
ip -n "$(ns rep)" -4 -o addr show dev eth0 | grep -q " $a1/32 " ||
    fail "after the repeated ADD eth0 does not hold $a1"
has_link rep || fail "after the repeated ADD $(hostif rep) is gone"
[ "$(wep_count rep)" -eq 1 ] ||
    fail "after the repeated ADD $(wep_count rep) WorkloadEndpoints for rep"
[ "$(cni_links n1 | wc -l)" -eq 1 ] || fail "links after the repeated ADD: $(cni_links n1)"
del rep
[ "$(cni_inuse)" -eq 0 ] && [ "$(cni_handles)" -eq 0 ] && [ "$(cni_weps)" -eq 0 ] &&
    [ -z "$(cni_links n1)" ] || fail "DEL after the repeated ADD left something"
cni_check_clean "at the end"
log "seed $CR_SEED; ${#killed[@]} killed; repeated ADD: $REP"
