#!/bin/bash
#
# t_e2e_restart.sh: acceptance of issue #8: in the e2e cluster (e2e_lib.sh:
# n1 n2 n3 with podmesh-bgpd, b4 with BIRD 2 + podmesh-confd, all clients of
# the route reflector rr1 behind a router; 8 pods from the CNI plugin),
# podmesh-bgpd on one node killed with SIGKILL and restarted: no pod pair
# loses reachability for longer than the graceful-restart window, and the
# kernel routes are never removed meanwhile.
#
# podmesh-bgpd advertises restart-time $GR s here (the GR window: how long
# the helpers keep a restarting speaker's routes; default 120 s), kernel
# stale-time $STALE s (how long a restarted podmesh-bgpd waits for adopted
# routes to be learned again).  Throughout: `ip monitor route` in all five
# nodes, and a prober in every pod sending an ICMP echo to each of the 7
# other pods every 0.2 s (0.5 s to answer; 56 ordered pairs).
#
# Rounds (E2E_RESTART_NODES, default "n1 rr1 rr1:TERM"): SIGKILL (or the
# signal after the colon) to podmesh-bgpd on the node, 3 s without it,
# started again, Established again everywhere, then the stale-time plus
# 2 s.  The second round kills the reflector: every client loses its only
# session at once, and keeps the reflected routes as graceful-restart
# helper (podmesh-bgpd on n1-n3, BIRD on b4).  The third stops it with
# SIGTERM, as a rolling update does: in datastore mode that too is a
# graceful restart (no Cease, which would make the clients drop its
# routes at once).
#
# Checked: (a) no node's monitor printed a Deleted pod route (proto 44, or
# bird on b4) during a round; (b) for every pod pair, the longest stretch of
# unanswered probes (from the first unanswered probe to the next answered
# one) is shorter than the GR window (the worst is reported; measured: 0 ms,
# nothing lost); (c) after each round every node's pod routes are what they
# were before the first kill.  ~47 s.
#
# The reflector round is the hard one, and checked as strictly: rr1 runs
# without a kernel sync (it forwards no pod traffic), so podmesh-bgpd
# treats every start of it as a restart with forwarding kept (R and F set,
# RFC 4724) and holds End-of-RIB back until every client is Established
# and has sent its own (RFC 4724 §4.1): a client that comes back first
# keeps the others' routes as stale instead of flushing them.
PM_TIMEOUT=${PM_TIMEOUT:-240}
GR=10
STALE=5
E2E_GR_TIME=$GR
E2E_STALE=$STALE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/e2e_lib.sh"

e2e_up
bad=0
e2e_matrix >"$PM_TMP/matrix0" || bad=$?
[ "$bad" = 0 ] || fail "before any restart, $bad pod pairs fail:"$'\n'"$(cat "$PM_TMP/matrix0")"
ok "every pod reaches every other (56 pairs)"

declare -A before
for n in "${E2E_ALL[@]}"; do
	before[$n]=$(e2e_routes "$n")
done

step "probers in all 8 pods (56 pairs, every 0.2 s)"
e2e_probe_start
sleep 1

# tables_as_before: every node's pod routes as before the first kill.
tables_as_before() {
	local n
	for n in "${E2E_ALL[@]}"; do
		[ "$(e2e_routes "$n")" = "${before[$n]}" ] ||
		    fail "$n's pod routes differ from before the restarts (< before, > now):" \
		    $'\n'"$(diff <(echo "${before[$n]}") <(e2e_routes "$n") | sed 's/^/    /')"
	done
}

# deleted NODE ROUND: the Deleted pod routes in NODE's monitor log of ROUND
# (ip -N: proto 44 podmesh-bgpd, 12 BIRD).
deleted() {
	grep -E '\] Deleted .*198\.18\.[0-9.]+/[0-9]+ .*proto (44|12)( |$)' \
	    "$PM_TMP/$1.mon.$2"
}

# check_monitors ROUND: (a) for ROUND: no Deleted pod route anywhere; for
# any that was, how long it stayed gone.
check_monitors() {
	local r=$1 n lines all del=0 p d g
	for n in "${E2E_ALL[@]}"; do
		mv "$PM_TMP/$n.mon" "$PM_TMP/$n.mon.$r" || fail "no monitor log of $n"
		lines=$(deleted "$n" "$r")
		all=$(grep -cE '198\.18\.[0-9.]+/26 .*proto (44|12)( |$)' "$PM_TMP/$n.mon.$r")
		log "$n: round $r: ip monitor route: $all pod-route notifications," \
		    "$(grep -c . <<<"$lines") Deleted"
		[ -n "$lines" ] || continue
		log "$n: Deleted pod routes:"$'\n'"$lines"
		del=$((del + $(grep -c . <<<"$lines")))
		# monitor_gaps reads $PM_TMP/NODE.mon, proto 44 only
		sed -E 's/proto 12( |$)/proto 44\1/' "$PM_TMP/$n.mon.$r" >"$PM_TMP/$n.mon"
		while read -r p d g; do
			log "$n: $p deleted $d time(s), back after $g ms"
		done < <(monitor_gaps "$n")
		rm -f "$PM_TMP/$n.mon"
	done
	[ "$del" = 0 ] ||
	    fail "(a) round $r: $del pod routes deleted from the kernels"
	ok "(a) round $r: no node's kernel lost a pod route (ip monitor route)"
}

# _log_run NODE [previous]: podmesh-bgpd's log in NODE since its last
# start (node_bgpd_start writes "=== start"), or of the run before it.
_log_run() {
	awk -v prev="${2:-}" '/^=== start/ { p = c; c = "" } { c = c $0 "\n" }
	    END { printf "%s", prev != "" ? p : c }' "$PM_TMP/$1.podmesh.log"
}

# _restart_over NODE: its restart converged (End-of-RIB sent after every
# peer's), not merely timed out.
_restart_over() {
	_log_run "$1" | grep -q 'routes converged: restart over'
}

# round NODE[:SIGNAL]: SIGNAL (default KILL) to podmesh-bgpd there, 3 s,
# start it again; ip monitor route in every node meanwhile.  SIGTERM is a
# graceful restart in datastore mode, with or without a kernel sync: what
# a rolling update of the reflectors sends.
round() {
	local n=${1%%:*} sig=KILL t0 m r=$1
	[[ $1 == *:* ]] && sig=${1#*:}
	step "podmesh-bgpd on $n: SIG$sig, 3 s, started again (GR window $GR s)"
	for m in "${E2E_ALL[@]}"; do
		monitor_start "$m"
	done
	log "SIG$sig at $(date +%H:%M:%S.%N)"
	t0=$(_pm_now)
	stop_daemon podmesh "$n" "$sig"
	sleep 3
	tables_as_before
	ok "3 s without podmesh-bgpd on $n: every node's pod routes unchanged"
	node_bgpd_start "$n"
	e2e_sessions 20
	if [ "$sig" = TERM ]; then
		_log_run "$n" previous | grep -q 'graceful restart: closing sessions without NOTIFICATION' ||
		    fail "$n: SIGTERM was not a graceful restart (no such line in its log)"
		ok "$n: SIGTERM closed its sessions without NOTIFICATION (graceful restart)"
	fi
	wait_until 10 _restart_over "$n" ||
	    fail "$n: its restart did not converge within 10 s of its sessions:" \
	    "$(_log_run "$n" | grep -E 'restart|End-of-RIB' | tail -5)"
	ok "$n: restart over once every peer had sent End-of-RIB"
	log "$n back and every session Established $(_pm_secs $(($(_pm_now) - t0)))s after the SIG$sig"
	sleep $((STALE + 2))
	tables_as_before
	ok "(c) $((STALE + 2)) s later (stale-time $STALE s): every node's pod routes as before"
	for m in "${E2E_ALL[@]}"; do
		monitor_stop "$m"
	done
	check_monitors "${r/:/-}"
}

for n in ${E2E_RESTART_NODES:-n1 rr1 rr1:TERM}; do
	round "$n"
done

step "probers stopped: the longest unreachability of any pod pair"
e2e_probe_stop

# (b) the longest stretch of failures per pair, against the GR window
worst=0
worst_pair=none
sent=0
lost=0
for p in "${PODS[@]}"; do
	[ "$(grep -vc '^RUN ' "$PM_TMP/probe-$p")" = $((${#PODS[@]} - 1)) ] ||
	    fail "the prober in $p did not sum up every other pod:" \
	    "$(tail -5 "$PM_TMP/probe-$p")"
	while read -r d s o l g; do
		[ "$d" = RUN ] && continue
		[[ "$s $o $l" =~ ^[0-9]+\ [0-9]+\ [0-9]+$ && $g =~ ^-?[0-9]+$ ]] ||
		    fail "the prober in $p: bad line '$d $s $o $l $g'"
		sent=$((sent + s))
		lost=$((lost + l))
		[ "$s" -gt 50 ] || fail "$p -> $d: only $s probes sent"
		[ "$g" -ge 0 ] || fail "$p -> $d: unreachable until the end ($l lost)"
		if [ "$g" -gt "$worst" ]; then
			worst=$g
			worst_pair="$p -> $d"
		fi
	done <"$PM_TMP/probe-$p"
	grep '^RUN ' "$PM_TMP/probe-$p" | sed "s/^/$p: /" >&2
done
log "probes: $sent sent over 56 pairs, $lost unanswered; longest unanswered" \
    "stretch $worst ms ($worst_pair)"
[ "$worst" -lt $((GR * 1000)) ] ||
    fail "$worst_pair unreachable for $worst ms, not shorter than the GR window ($GR s)"
ok "(b) worst reachability gap of any pod pair: $worst ms (GR window $GR s)"

e2e_down
exit 0
