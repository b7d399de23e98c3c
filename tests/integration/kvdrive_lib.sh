# shellcheck shell=bash
#
# Reading confd_kv_drive's output (tests/integration/confd_kv_drive.c: a
# podmesh-confd backend on an event loop printing its whole key tree at
# each change, between "CHANGE" and "END" lines) into $OUT.  Sourced after
# lib.sh by t_confd_v3.sh and t_confd_etcdv2.sh.
#
#	state			the tree of the last complete block
#	changes			how many blocks so far
#	expect_state NAME TREE	the tree within KV_WAIT s (default 3), or fail

# state: the key tree of the last complete block the driver printed.
state() {
	awk '/^CHANGE /{buf = ""; inb = 1; next}
	    /^END /{last = buf; inb = 0; next}
	    inb {buf = buf $0 "\n"}
	    END {printf "%s", last}' "$OUT"
}

changes() {
	grep -c '^END ' "$OUT"
}

_changed_from() {
	[ "$(changes)" != "$1" ]
}

_state_is() {
	[ "$(state)" = "$1" ]
}

# expect_state NAME TREE: the tree within KV_WAIT s; logs how long it took.
expect_state() {
	local t0=$EPOCHREALTIME t1
	if ! wait_until "${KV_WAIT:-3}" _state_is "$2"; then
		fail "$1: wanted tree:"$'\n'"$2"$'\n'"got:"$'\n'"$(state)"
	fi
	t1=$EPOCHREALTIME
	ok "$1 ($(((${t1/[.,]/} - ${t0/[.,]/}) / 1000)) ms)"
}
