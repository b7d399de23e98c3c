# shellcheck shell=bash
#
# Helpers for the t_badinput_* tests, sourced after lib.sh: podmesh-bgpd in
# namespace "pm" (192.0.2.1, AS 64512) with a passive peer 192.0.2.2
# (AS 65001), and the raw sender bgpraw.py in namespace "snd" at
# 192.0.2.2 (and 192.0.2.3 for a second, monitoring session).
#
#	pm 192.0.2.1 (AS 64512) ---- snd 192.0.2.2 (AS 65001), 192.0.2.3

BGPRAW=(python3 "$PM_LIB_DIR/bgpraw.py")
PMLOG="$PM_TMP/pm.podmesh.log"

# badinput_setup [PODMESH_PEER-ARGS...]: the topology and podmesh-bgpd;
# each argument adds a passive peer ("addr=192.0.2.3 asn=65002").
# shellcheck disable=SC2120
badinput_setup() {
	local p
	require_podmesh
	"${BGPRAW[@]}" selftest >/dev/null || fail "bgpraw.py selftest"
	ns_add pm snd
	link_ns pm 192.0.2.1/24 snd 192.0.2.2/24,192.0.2.3/24
	podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=64512 \
	    originate=198.18.1.0/24
	podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.2 asn=65001 passive=1
	for p in "$@"; do
		# shellcheck disable=SC2086
		podmesh_peer "$PM_TMP/pm.yaml" $p passive=1
	done
	start_podmesh pm "$PM_TMP/pm.yaml"
}

log_mark() {
	wc -l <"$PMLOG"
}

_log_since() {
	tail -n "+$(($1 + 1))" "$PMLOG"
}

_log_has() {
	_log_since "$1" | grep -E -q -- "$2"
}

# expect_log MARK ERE WHAT: a podmesh log line written after MARK matches
# ERE.
expect_log() {
	wait_until 5 _log_has "$1" "$2" ||
	    fail "$3: no podmesh log line matching /$2/; log since the case:" \
	    $'\n'"$(_log_since "$1")"
	ok "$3: logged: $(_log_since "$1" | grep -E -m1 -- "$2" |
	    sed 's/^[^ ]* //')"
}

# reset_case NAME STAGE CODE/SUB DATA LOG-ERE BUILD-ARGS...: send the
# message built from BUILD-ARGS (bgpraw.py build) at STAGE (open: after
# podmesh's OPEN; established: after OPEN and KEEPALIVE both ways).  Expect
# NOTIFICATION CODE/SUB with DATA (hex; "" for none, "-" not checked), a
# podmesh log line "sending NOTIFICATION CODE/SUB ... LOG-ERE", podmesh-bgpd
# still running, and a good session right after.
reset_case() {
	local name=$1 stage=$2 want=$3 data=$4 re=$5 mark out
	local dargs=()
	shift 5
	[ "$data" != - ] && dargs=(--expect-data "$data")
	mark=$(log_mark)
	out=$(nsx snd "${BGPRAW[@]}" probe --peer 192.0.2.1 --as 65001 \
	    --id 192.0.2.2 --source 192.0.2.2 --stage "$stage" \
	    --build "$(printf '%q ' "$@")" --expect "$want" "${dargs[@]}" \
	    2>&1) ||
	    fail "$name: $out"
	ok "$name: ${out##*$'\n'}"
	expect_log "$mark" "sending NOTIFICATION ${want} .*${re}" "$name"
	daemon_alive podmesh pm || fail "$name: podmesh-bgpd is gone"
	good_session "$name"
}

# good_session WHAT: a well-behaved session from 192.0.2.2 comes up at
# once (an idle-hold backoff must not hold back incoming connections) and
# stays quiet for a moment; podmesh logs it Established.  Then the sender
# leaves.
good_session() {
	local mark out
	mark=$(log_mark)
	out=$(nsx snd "${BGPRAW[@]}" probe --peer 192.0.2.1 --as 65001 \
	    --id 192.0.2.2 --source 192.0.2.2 --stage established \
	    --linger 0.3 2>&1) ||
	    fail "after $1: no good session: $out"
	wait_until 5 _log_has "$mark" \
	    "192.0.2.2: state OpenConfirm -> Established" ||
	    fail "after $1: podmesh did not log the good session" \
	    "Established:"$'\n'"$(_log_since "$mark")"
	ok "after $1: a good session came up again"
}

# start_session NAME ADDR ASN: a bgpraw session daemon from ADDR that
# stays Established and answers KEEPALIVEs; controlled with sess NAME.
start_session() {
	local name=$1 addr=$2 asn=$3 sock="$PM_TMP/$1.sock"
	rm -f "$sock"
	nsx snd "${BGPRAW[@]}" session --peer 192.0.2.1 --source "$addr" \
	    --as "$asn" --id "$addr" --hold 30 --ctl "$sock" \
	    2>>"$PM_TMP/bgpraw-$name.log" &
	PM_PID["bgpraw:$name"]=$!
	wait_until 5 test -S "$sock" ||
	    fail "bgpraw session $name from $addr did not come up:" \
	    "$(tail -3 "$PM_TMP/bgpraw-$name.log")"
	wait_until 5 podmesh_established pm "$addr" ||
	    fail "podmesh does not see the session from $addr as" \
	    "Established (state $(podmesh_peer_state pm "$addr"))"
}

# sess NAME CTL-ARGS...: bgpraw.py ctl on session NAME.
sess() {
	local name=$1
	shift
	"${BGPRAW[@]}" ctl "$PM_TMP/$name.sock" "$@"
}

# stop_session NAME: the sender closes the connection (no NOTIFICATION).
stop_session() {
	sess "$1" quit >/dev/null
	wait "${PM_PID[bgpraw:$1]}" 2>/dev/null
	unset "PM_PID[bgpraw:$1]"
}

# finish_podmesh: SIGTERM; podmesh-bgpd exits 0 and its log has no
# sanitizer report (CI runs these tests on an ASan/UBSan build).
finish_podmesh() {
	local pid=${PM_PID[podmesh:pm]} rc i re
	re='AddressSanitizer|LeakSanitizer|runtime error'
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "podmesh-bgpd ignored SIGTERM"
	wait "$pid"
	rc=$?
	unset "PM_PID[podmesh:pm]"
	if grep -E -q "$re" "$PMLOG"; then
		fail "sanitizer report in podmesh's log:"$'\n'"$(grep -E \
		    -A30 "$re" "$PMLOG" | head -60)"
	fi
	[ "$rc" -eq 0 ] ||
	    fail "podmesh-bgpd exited with status $rc on SIGTERM"
	ok "podmesh-bgpd exited 0 on SIGTERM, no sanitizer report"
}
