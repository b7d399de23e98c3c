#!/bin/bash
#
# podmesh-bgpd <-> BIRD 2 with TCP-MD5 (RFC 2385): sessions whose keys match
# come up (IPv4 with podmesh connecting, IPv6 with podmesh passive, so the
# key must also be on its listening socket) and carry routes; sessions with
# a wrong key, or a key on one side only, stay down, and the kernel's MD5
# counters show why.
#
#	pm 192.0.2.1, 2001:db8:1::1  ---  bird 192.0.2.2, 2001:db8:1::2   keys match
#	pm 198.51.100.1              ---  bird 198.51.100.2               keys differ
#	pm 203.0.113.1/28            ---  bird 203.0.113.2/28             pm only
#	pm 203.0.113.17/28           ---  bird 203.0.113.18/28            bird only

PM_TIMEOUT=90
. "$(dirname "$0")/lib.sh"

require_podmesh

step "topology"
ns_add pm bird
link_ns pm 192.0.2.1/24,2001:db8:1::1/64 bird 192.0.2.2/24,2001:db8:1::2/64
link_ns pm 198.51.100.1/24 bird 198.51.100.2/24
link_ns pm 203.0.113.1/28 bird 203.0.113.2/28
link_ns pm 203.0.113.17/28 bird 203.0.113.18/28

step "configs"
podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn=64512 \
    originate="198.18.1.0/24 2001:db8:100:1::/64"
podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.2 asn=64513 families=ipv4 \
    password=s3cret-v4
podmesh_peer "$PM_TMP/pm.yaml" addr=2001:db8:1::2 asn=64513 families=ipv6 \
    password=s3cret-v6 passive=1
podmesh_peer "$PM_TMP/pm.yaml" addr=198.51.100.2 asn=64513 families=ipv4 \
    password=right
podmesh_peer "$PM_TMP/pm.yaml" addr=203.0.113.2 asn=64513 families=ipv4 \
    password=only-podmesh
podmesh_peer "$PM_TMP/pm.yaml" addr=203.0.113.18 asn=64513 families=ipv4

bird_conf "$PM_TMP/bird.conf" rid=192.0.2.2 asn=64513 \
    originate="198.18.2.0/24 2001:db8:100:2::/64"
bird_peer "$PM_TMP/bird.conf" addr=192.0.2.1 asn=64512 password=s3cret-v4
bird_peer "$PM_TMP/bird.conf" addr=2001:db8:1::1 asn=64512 password=s3cret-v6
bird_peer "$PM_TMP/bird.conf" addr=198.51.100.1 asn=64512 password=wrong
bird_peer "$PM_TMP/bird.conf" addr=203.0.113.1 asn=64512
bird_peer "$PM_TMP/bird.conf" addr=203.0.113.17 asn=64512 password=only-bird

step "start"
start_podmesh pm "$PM_TMP/pm.yaml"
start_bird bird "$PM_TMP/bird.conf"

step "matching keys: Established, routes flow"
expect_established podmesh pm 192.0.2.2 30
expect_established podmesh pm 2001:db8:1::2 30
expect_established bird bird 192.0.2.1
expect_established bird bird 2001:db8:1::1
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 path=64513
expect_route podmesh pm 2001:db8:100:2::/64 nh=2001:db8:1::2 path=64513
expect_route bird bird 198.18.1.0/24 nh=192.0.2.1 path=64512
expect_route bird bird 2001:db8:100:1::/64 nh=2001:db8:1::1 path=64512

step "mismatched keys: down for 5 s"
# shellcheck disable=SC2317 # called through never_within
bad_up() {
	local a
	for a in 198.51.100.2 203.0.113.2 203.0.113.18; do
		podmesh_established pm "$a" && return 0
	done
	for a in 198.51.100.1 203.0.113.1 203.0.113.17; do
		bird_established bird "$a" && return 0
	done
	return 1
}
never_within 5 bad_up ||
    fail "a session with mismatched TCP-MD5 keys came up:" \
    "$(podmesh_peer_state pm 198.51.100.2)" \
    "$(podmesh_peer_state pm 203.0.113.2)" \
    "$(podmesh_peer_state pm 203.0.113.18)"
for a in 198.51.100.2 203.0.113.2 203.0.113.18; do
	ok "podmesh: session to $a is $(podmesh_peer_state pm "$a")"
	[ -n "$(podmesh_peer_state pm "$a")" ] ||
	    fail "podmeshctl bgp peers does not list $a"
done
expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 timeout=0

step "the kernel dropped the segments for MD5 reasons"
md5_counter() {
	nsx "$1" nstat -az "$2" | awk -v c="$2" '$1 == c { print $2 }'
}
fails=$(($(md5_counter pm TcpExtTCPMD5Failure) +
    $(md5_counter bird TcpExtTCPMD5Failure)))
others=$(($(md5_counter pm TcpExtTCPMD5NotFound) +
    $(md5_counter bird TcpExtTCPMD5NotFound) +
    $(md5_counter pm TcpExtTCPMD5Unexpected) +
    $(md5_counter bird TcpExtTCPMD5Unexpected)))
log "TCPMD5Failure=$fails TCPMD5NotFound+Unexpected=$others"
[ "$fails" -gt 0 ] ||
    fail "no TCPMD5Failure: the wrong-key session was never tried"
[ "$others" -gt 0 ] ||
    fail "no TCPMD5NotFound/Unexpected: the one-sided-key sessions were never tried"
ok "wrong keys rejected by TCP-MD5"

step "the good sessions survived"
expect_established podmesh pm 192.0.2.2 0
expect_established podmesh pm 2001:db8:1::2 0
daemon_alive podmesh pm || fail "podmesh-bgpd died"
exit 0
