#!/bin/bash
#
# Malformed UPDATEs after Established (RFC 4271 §6.3, RFC 7606, RFC 4760).
# A raw sender (bgpraw.py, 192.0.2.2, AS 65001, MP ipv4 + 4-octet AS)
# feeds podmesh-bgpd; a second raw session (192.0.2.3, AS 65002) only
# watches what podmesh passes on.
#
#  - treat-as-withdraw (RFC 7606 §2): the session stays up (no NOTIFICATION,
#    KEEPALIVEs go on), a good route announced first for the same prefix is
#    withdrawn from podmesh's RIB and towards the watcher, and podmesh logs
#    "treated as withdraw" with the reason;
#  - attribute discard: the route is accepted without the bad attribute;
#  - session reset: the right NOTIFICATION, a "sending NOTIFICATION" log
#    line, podmesh still running, and a good session right after.
# At the end podmesh-bgpd exits 0 on SIGTERM with no sanitizer report.
#
#	pm 192.0.2.1 (AS 64512) ---- snd 192.0.2.2 (AS 65001, feeder)
#	                                  192.0.2.3 (AS 65002, watcher)

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"
. "$PM_LIB_DIR/badinput.sh"

# a good attribute set from AS 65001 (4-octet AS_PATH)
GOOD=(--origin 0 --as-path 65001 --next-hop 192.0.2.2)

# feed BUILD-ARGS...: the feeder sends the UPDATE they describe.
feed() {
	sess feed send-build update "$@" >/dev/null ||
	    fail "feeder: sending failed: $(sess feed status)"
}

# watcher PREFIX present|absent [+ATTR|-ATTR...]: wait (5 s) until what
# the watcher received from podmesh matches.
watcher() {
	local p=$1 want=$2 out
	shift 2
	out=$(sess watch wait-rib "$p" "$want" 5 "$@") || fail "watcher: $out"
}

# announce_good PREFIX [MORE-BUILD-ARGS...]: podmesh and the watcher get it.
announce_good() {
	local p=$1
	shift
	feed "${GOOD[@]}" "$@" --nlri "$p"
	expect_route podmesh pm "$p" nh=192.0.2.2 path=65001 timeout=5
	watcher "$p" present
}

# feeder_up WHAT: the feeder got no NOTIFICATION and podmesh still has it
# Established.
feeder_up() {
	local st
	st=$(sess feed status)
	jq -e '.state == "Established" and .notification == null' \
	    <<<"$st" >/dev/null || fail "$1: the session went down: $st"
	podmesh_established pm 192.0.2.2 ||
	    fail "$1: podmesh's session is $(podmesh_peer_state pm 192.0.2.2)"
}

# withdraw_case NAME PREFIX LOG-ERE BUILD-ARGS...: announce PREFIX
# properly, then the malformed UPDATE (BUILD-ARGS plus --nlri PREFIX).
withdraw_case() {
	local name=$1 p=$2 re=$3 mark
	shift 3
	announce_good "$p"
	mark=$(log_mark)
	feed "$@" --nlri "$p"
	expect_no_route podmesh pm "$p" 5
	watcher "$p" absent
	expect_log "$mark" "treated as withdraw.*${re}" "$name"
	feeder_up "$name"
	ok "$name: $p withdrawn from podmesh and the watcher, session up"
}

# discard_case NAME PREFIX ATTR-NAME BUILD-ARGS...: PREFIX is announced
# with a good ATOMIC_AGGREGATE and AGGREGATOR (the watcher sees both), then
# again with the malformed attribute of BUILD-ARGS: the route is accepted
# and the watcher sees it without ATTR-NAME.
discard_case() {
	local name=$1 p=$2 an=$3 mark
	shift 3
	feed "${GOOD[@]}" --attr 0x40:6: --attr 0xc0:7:0000fde9c0000202 \
	    --nlri "$p"
	watcher "$p" present +atomic_aggregate +aggregator
	mark=$(log_mark)
	feed "${GOOD[@]}" "$@" --nlri "$p"
	watcher "$p" present "-$an"
	expect_route podmesh pm "$p" nh=192.0.2.2 path=65001 timeout=5
	expect_log "$mark" "malformed attribute\(s\) discarded" "$name"
	feeder_up "$name"
	ok "$name: $p accepted without $an"
}

badinput_setup "addr=192.0.2.3 asn=65002"
start_session watch 192.0.2.3 65002
watcher 198.18.1.0/24 present +as_path
start_session feed 192.0.2.2 65001

step "treat-as-withdraw (RFC 7606)"
withdraw_case "ORIGIN 5" 198.18.10.0/24 "ORIGIN value 5" \
    --origin 5 --as-path 65001 --next-hop 192.0.2.2
withdraw_case "AS_PATH segment type 5" 198.18.11.0/24 "segment type 5" \
    --origin 0 --attr 0x40:2:05010000fde9 --next-hop 192.0.2.2
withdraw_case "NEXT_HOP length 5" 198.18.12.0/24 "NEXT_HOP length 5" \
    --origin 0 --as-path 65001 --attr 0x40:3:c000020200
withdraw_case "MED length 3" 198.18.13.0/24 "length 3" \
    "${GOOD[@]}" --attr 0x80:4:000001
withdraw_case "COMMUNITIES length 5" 198.18.14.0/24 \
    "COMMUNITIES length 5" "${GOOD[@]}" --attr 0xc0:8:fde9000100
withdraw_case "ORIGIN missing" 198.18.15.0/24 "missing.*ORIGIN" \
    --as-path 65001 --next-hop 192.0.2.2
# RFC 7606 §3 (c): wrong flags make the attribute malformed
withdraw_case "ORIGIN flagged optional" 198.18.18.0/24 "ORIGIN flags 0xc0" \
    --attr 0xc0:1:00 --as-path 65001 --next-hop 192.0.2.2
# RFC 7606 §7.3: a next hop that is no host address
withdraw_case "NEXT_HOP 224.0.0.1" 198.18.19.0/24 "NEXT_HOP 224.0.0.1" \
    --origin 0 --as-path 65001 --next-hop 224.0.0.1
# RFC 4271 §6.3: an external peer's AS must come first
withdraw_case "AS_PATH not starting with 65001" 198.18.16.0/24 \
    "starts with 65002" --origin 0 --as-path "65002 65001" \
    --next-hop 192.0.2.2
# RFC 7606 §4: the last attribute overruns the attribute section, and
# all the NLRI are known (classic field, no MP_REACH_NLRI)
withdraw_case "attribute overruns the section, NLRI present" \
    198.18.17.0/24 "overruns" \
    --origin 0 --next-hop 192.0.2.2 --attr 0x40:2:02010000fde9:200

step "attribute discard (RFC 7606 §7.6, §7.7)"
discard_case "ATOMIC_AGGREGATE length 1" 198.18.20.0/24 \
    atomic_aggregate --attr 0x40:6:00
discard_case "AGGREGATOR length 5" 198.18.20.0/24 aggregator \
    --attr 0xc0:7:0000fde9c0

step "the feeder's session survived all of it"
announce_good 198.18.10.0/24
out=$(sess feed alive 3) || fail "feeder session: $out"
ok "feeder: ${out#bgpraw: ok: }"
stop_session feed
expect_no_route podmesh pm 198.18.10.0/24 5

step "session reset (RFC 4271 §6.3, RFC 7606 §3, §4, §5.3)"
reset_case "withdrawn routes length overruns" established 3/1 "" \
    "section lengths" update --wlen 50
reset_case "attribute overruns the section, no NLRI" established 3/1 "" \
    "overruns" update --origin 0 --attr 0x40:2:02010000fde9:200
reset_case "NLRI prefix length 33" established 3/10 "" \
    "NLRI: prefix length" update "${GOOD[@]}" --nlri 198.18.30.0/33
reset_case "withdrawn prefix length 33" established 3/10 "" \
    "withdrawn routes: prefix length" update --withdraw 198.18.30.0/33
# data: the unrecognized attribute (flags, type, length, value)
reset_case "unrecognized well-known attribute 250" established 3/2 \
    40fa0100 "attribute 250" \
    update "${GOOD[@]}" --attr 0x40:250:00 --nlri 198.18.31.0/24
reset_case "MP_REACH_NLRI twice" established 3/1 "" "twice" \
    update --origin 0 --as-path 65001 \
    --mp-reach "1 1 192.0.2.2 198.18.32.0/24" \
    --mp-reach "1 1 192.0.2.2 198.18.33.0/24"
# RFC 7606 §7.11 / §5.3: podmesh's decoder (bgp/update.c upd_mp_reach)
# resets with Optional Attribute Error, data = the attribute
reset_case "MP_REACH_NLRI truncated" established 3/9 900e00050001010302 \
    "MP_REACH_NLRI truncated" \
    update --origin 0 --as-path 65001 --attr 0x90:14:0001010302
reset_case "MP_REACH_NLRI next hop length 3" established 3/9 \
    900e000c00010103c000020018c61222 "next hop length 3" \
    update --origin 0 --as-path 65001 --attr 0x90:14:00010103c000020018c61222

step "shutdown"
finish_podmesh
exit 0
