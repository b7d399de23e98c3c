#!/bin/bash
#
# Bad message headers (RFC 4271 §4.1, §6.1) and an FSM error (RFC 6608):
# a raw sender (bgpraw.py) connects to podmesh-bgpd, reads its OPEN and
# sends one broken message.  For each case: the NOTIFICATION has the right
# code, subcode and data, podmesh logs "sending NOTIFICATION" with the
# reason, keeps running, and the next good session from the same peer comes
# up at once.  At the end podmesh-bgpd exits 0 on SIGTERM with no sanitizer
# report in its log.
#
#	pm 192.0.2.1 (AS 64512, passive) ---- snd 192.0.2.2 (bgpraw, AS 65001)

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"
. "$PM_LIB_DIR/badinput.sh"

badinput_setup
good_session "start"

# ---- cases --------------------------------------------------------------

step "message header (RFC 4271 §6.1)"
reset_case "bad marker" open 1/1 "" "marker" \
    keepalive --marker 00ffffffffffffffffffffffffffffff
# data: the erroneous Length field
reset_case "length 18" open 1/2 0012 "length 18" keepalive --length 18
reset_case "length 5000 (> 4096)" open 1/2 1388 "length 5000" \
    keepalive --length 5000
reset_case "KEEPALIVE of length 20" open 1/2 0014 "length 20" \
    keepalive --length 20 --pad 1
reset_case "OPEN of length 4097" open 1/2 1001 "length 4097" \
    open --length 4097
# data: the erroneous Type field
reset_case "unknown type 9" open 1/3 09 "type 9" raw --type 9

step "FSM (RFC 6608)"
reset_case "KEEPALIVE before OPEN" open 5/1 - "OpenSent" keepalive
reset_case "UPDATE before OPEN" open 5/1 - "OpenSent" update

step "shutdown"
finish_podmesh
exit 0
