#!/bin/bash
#
# Bad OPEN messages (RFC 4271 §4.2, §6.2; RFC 5492; RFC 6286): a raw sender
# (bgpraw.py) reads podmesh-bgpd's OPEN and answers with a broken one.  For
# each case: the NOTIFICATION has the right code and subcode (and data
# where RFC 4271 specifies it), podmesh logs "sending NOTIFICATION" with
# the reason, keeps running, and the next good session comes up at once.
# At the end podmesh-bgpd exits 0 on SIGTERM with no sanitizer report.
#
#	pm 192.0.2.1 (AS 64512, passive) ---- snd 192.0.2.2 (bgpraw, AS 65001)

PM_TIMEOUT=60
. "$(dirname "$0")/lib.sh"
. "$PM_LIB_DIR/badinput.sh"

badinput_setup
good_session "start"

step "OPEN message errors (RFC 4271 §6.2)"
# data: the largest version we support, 2 octets
reset_case "version 3" open 2/1 0004 "version 3" open --version 3
reset_case "hold time 1" open 2/6 - "hold time 1" open --hold 1
reset_case "hold time 2" open 2/6 - "hold time 2" open --hold 2
reset_case "BGP identifier 0" open 2/3 - "identifier" open --id 0.0.0.0
# type 1 is the deprecated Authentication Information (RFC 5492 §3)
reset_case "optional parameter 1" open 2/4 - "parameter 1" \
    open --param 1:0102
reset_case "peer AS 65002, configured 65001" open 2/2 - "AS 65002" \
    open --as 65002
# RFC 6793: the 4-octet AS capability is the peer's real AS
reset_case "AS4 capability 65002, My AS 65001" open 2/2 - "AS 65002" \
    open --as 65001 --no-caps --cap 1:00010001 --cap 65:0000fdea
# 28 octets: the header check catches it, data is the length field
reset_case "OPEN of 28 octets" open 1/2 001c "length 28" \
    open --truncate 9

step "OPEN framing podmesh reports as unspecific OPEN errors (2/0)"
reset_case "optional parameters length overruns" open 2/0 - \
    "optional parameters length" open --optlen 40
reset_case "capability overruns its parameter" open 2/0 - "capability" \
    open --no-caps --param 2:4104
# Opt Parm Len 5 agrees with the message, the parameter inside claims 6
reset_case "parameter overruns the parameters" open 2/0 - "overruns" \
    open --no-caps --optlen 5 --append 0206410400

step "OPEN at the wrong time (RFC 6608)"
reset_case "second OPEN in Established" established 5/3 - \
    "OPEN received in state Established" open

step "shutdown"
finish_podmesh
exit 0
