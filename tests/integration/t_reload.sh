#!/bin/bash
#
# SIGHUP reload: an unchanged peer keeps its session (no flap, BIRD sees no
# reset), a removed peer is told Cease and goes away, an added peer comes
# up, a changed peer is reset and comes back, and an added `originate:`
# prefix reaches the peers while a removed one is withdrawn; a new
# control-socket path takes effect.  A config that fails --check leaves the
# running one in place.
#
#	a (BIRD, AS 64513) --- pm (podmesh, AS 64512) --- b (BIRD, AS 64514)
#	                              |
#	                              c (BIRD, AS 64515, added by the reload)

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"
require_podmesh

step "topology"
ns_add pm a b c
link_ns pm 192.0.2.1/24 a 192.0.2.2/24
link_ns pm 198.51.100.1/24 b 198.51.100.2/24
link_ns pm 203.0.113.1/24 c 203.0.113.2/24

for x in "a 192.0.2.2 192.0.2.1 64513" "b 198.51.100.2 198.51.100.1 64514" \
    "c 203.0.113.2 203.0.113.1 64515"; do
	set -- $x
	bird_conf "$PM_TMP/$1.conf" rid="$2" asn="$4"
	bird_peer "$PM_TMP/$1.conf" addr="$3" asn=64512
	start_bird "$1" "$PM_TMP/$1.conf"
done

conf() {
	# conf FILE ORIGINATE PEERS...: PEERS are "addr:asn[:hold]"
	local file=$1 orig=$2 p
	shift 2
	podmesh_conf "$file" rid=192.0.2.1 asn=64512 originate="$orig"
	for p in "$@"; do
		IFS=: read -r addr asn hold <<<"$p"
		podmesh_peer "$file" addr="$addr" asn="$asn" families=ipv4
		[ -n "$hold" ] && echo "    hold-time: $hold" >>"$file"
	done
	return 0
}

step "start with peers a and b"
conf "$PM_TMP/pm.yaml" "198.18.1.0/24 198.18.2.0/24" \
    192.0.2.2:64513 198.51.100.2:64514
start_podmesh pm "$PM_TMP/pm.yaml"
expect_established podmesh pm 192.0.2.2
expect_established podmesh pm 198.51.100.2
expect_route bird a 198.18.2.0/24 nh=192.0.2.1 path=64512
since_a=$(birdc_ a show protocols "$(_bird_proto 192.0.2.1)" | awk 'NR > 2 { print $5 " " $6; exit }')

step "a broken config is refused and changes nothing"
cp "$PM_TMP/pm.yaml" "$PM_TMP/pm.good"
echo "  - address: not-an-address" >>"$PM_TMP/pm.yaml"
kill -HUP "${PM_PID[podmesh:pm]}"
wait_until 5 grep -q "reload failed" "$PM_TMP/pm.podmesh.log" ||
    fail "no 'reload failed' line after a bad config"
grep -q "pm.yaml:[0-9]*: " "$PM_TMP/pm.podmesh.log" ||
    fail "the bad config's error has no FILE:LINE"
ok "bad config refused with FILE:LINE"
expect_established podmesh pm 198.51.100.2

step "reload: a unchanged, b removed, c added, one prefix swapped"
conf "$PM_TMP/pm.yaml" "198.18.1.0/24 198.18.3.0/24" \
    192.0.2.2:64513 203.0.113.2:64515
kill -HUP "${PM_PID[podmesh:pm]}"
expect_established podmesh pm 203.0.113.2
wait_until 5 test -z "$(podmesh_peer_state pm 198.51.100.2)" ||
    fail "removed peer 198.51.100.2 still listed"
ok "peer 198.51.100.2 removed"
wait_until 5 grep -q "Received: Peer de-configured" "$PM_TMP/b.log" ||
    fail "BIRD b was not told Cease/peer de-configured"
ok "BIRD b got Cease/3"
expect_route bird a 198.18.3.0/24 nh=192.0.2.1 path=64512
expect_no_route bird a 198.18.2.0/24 2
expect_route bird c 198.18.1.0/24 nh=203.0.113.1 path=64512

step "the unchanged session did not flap"
[ "$(podmesh_peer_field pm 192.0.2.2 flaps)" = 0 ] ||
    fail "peer 192.0.2.2 flapped: $(podmesh_peer_field pm 192.0.2.2 flaps)"
now_a=$(birdc_ a show protocols "$(_bird_proto 192.0.2.1)" | awk 'NR > 2 { print $5 " " $6; exit }')
[ "$since_a" = "$now_a" ] ||
    fail "BIRD a's session was reset ($since_a -> $now_a)"
ok "session to a untouched (BIRD: up since $now_a)"

step "a changed peer is reset and comes back"
conf "$PM_TMP/pm.yaml" "198.18.1.0/24 198.18.3.0/24" \
    192.0.2.2:64513:6 203.0.113.2:64515
kill -HUP "${PM_PID[podmesh:pm]}"
wait_until 5 grep -q "Received: Other configuration change" "$PM_TMP/a.log" ||
    fail "BIRD a was not told Cease/6 after its peer config changed"
ok "BIRD a got Cease/6"
expect_established podmesh pm 192.0.2.2
[ "$(podmesh_peer_field pm 192.0.2.2 hold_time)" = 6 ] ||
    fail "new hold time not in effect: $(podmesh_peer_field pm 192.0.2.2 hold_time)"
ok "hold time 6 negotiated after the change"
expect_established podmesh pm 203.0.113.2

step "the control socket moves with its path"
old_sock=$(_podmesh_sock pm)
sed -i "s|^control-socket: .*|control-socket: $PM_TMP/moved/ctl.sock|" \
    "$PM_TMP/pm.yaml"
kill -HUP "${PM_PID[podmesh:pm]}"
wait_until 5 _podmesh_ready pm ||
    fail "podmeshctl does not answer on $PM_TMP/moved/ctl.sock"
[ ! -e "$old_sock" ] || fail "old control socket $old_sock left behind"
ok "control socket moved to $PM_TMP/moved/ctl.sock, old one removed"
expect_established podmesh pm 192.0.2.2
exit 0
