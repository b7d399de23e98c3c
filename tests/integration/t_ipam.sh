#!/bin/bash
# t_ipam.sh: Calico's IPAM on etcd v3 (store/ipam.h, calico.md §2) against a
# real etcd 3.4, through podmeshctl ipam assign/release and ipam_drive (the
# library's other calls, parallel clients, a consistency check of the whole
# tree).  Checked:
#  - auto-assign fills the host's first block from ordinal 0 (the block its
#    FNV-seeded walk starts at), then claims the next block; affinities
#    confirmed, blocks affine to the host;
#  - the hostname-seeded start: two hosts get different blocks, and a host
#    gets the same block again after it was removed (RemoveIPAMHost);
#  - assigning a given address: its block claimed for the host; conflicts
#    (already assigned, outside every pool, in a disabled pool);
#  - release: a freed ordinal is reused last; release by handle; an empty
#    affine block stays, an emptied unaffined one is deleted; ReleaseIPs
#    of a free address says so;
#  - borrowing from another host's block when the pool has no free block;
#    strict affinity refuses it (and a given address in another's block);
#    the exhausted pool's error;
#  - maxBlocksPerHost from the IPAM config, and its default of 20;
#  - IPv6 blocks, keys and affinities;
#  - pools chosen by nodeSelector against the Node's labels (and --pool
#    over them); an empty block of a pool that stopped selecting the host
#    released; no pool selecting the host;
#  - a pending affinity (a claim cut short) gets its block created; a
#    stale affinity (the block is another host's) is deleted;
#  - bad data in etcd: a block that does not decode is skipped (left as it
#    is), a handle or IPAM config that does not decode refuses the request
#    and nothing is written;
#  - concurrency: 3 hosts x 4 processes x 50 allocations at once: no
#    address twice, every block and handle consistent, 4 blocks a host;
#    released by 6 processes at once; then 600 allocations racing for a
#    512-address pool: exactly 512 succeed, no duplicates;
#  - podmeshctl ipam check finds no problem after each part.
# ~25 s.
PM_TIMEOUT=240
. "$(dirname "$0")/lib.sh"

CTL=$PODMESH_BUILD/ctl/podmeshctl
DRV=$PODMESH_BUILD/tests/ipam_drive
[ -x "$CTL" ] || fail "$CTL missing (cmake --build ... --target podmeshctl)"
[ -x "$DRV" ] || fail "$DRV missing (cmake --build ... --target ipam_drive)"
for c in etcd etcdctl jq python3; do
	command -v $c >/dev/null || fail "$c not installed"
done

etcd_start ipam
URL=$ETCD_URL
export ETCD_ENDPOINTS=$URL

B4=/calico/ipam/v2/assignment/ipv4/block
B6=/calico/ipam/v2/assignment/ipv6/block
H=/calico/ipam/v2/handle
A=/calico/ipam/v2/host
CFG=/calico/ipam/v2/config

ectl() {
	ETCDCTL_API=3 etcdctl --endpoints "$URL" "$@"
}

value() {
	ectl get "$1" --print-value-only
}

exists() {
	[ -n "$(ectl get "$1" --keys-only)" ]
}

# key CIDR: the key segment of a CIDR ("198.18.0.0/28" -> "198.18.0.0-28")
key() {
	echo "${1/\//-}"
}

expect() {
	grep -Eq -- "$3" <<<"$2" || fail "$1: wanted /$3/, got: $2"
	ok "$1"
}

# assign ARGS...: podmeshctl ipam assign, the address it printed
assign() {
	local out
	out=$("$CTL" ipam assign "$@" 2>"$PM_TMP/err") ||
	    fail "ipam assign $*: $(cat "$PM_TMP/err")"
	echo "$out"
}

# assign_err PATTERN ARGS...: assign fails (status 1) with PATTERN
assign_err() {
	local pat=$1 rc=0 out
	shift
	out=$("$CTL" ipam assign "$@" 2>&1) && rc=0 || rc=$?
	[ "$rc" = 1 ] || fail "ipam assign $*: status $rc, wanted 1: $out"
	expect "assign $* refused" "$out" "$pat"
}

release() {
	"$CTL" ipam release --handle "$1" >/dev/null ||
	    fail "ipam release --handle $1"
}

# in_block ADDR CIDR: is ADDR inside CIDR?
in_block() {
	python3 -c 'import ipaddress, sys
sys.exit(ipaddress.ip_address(sys.argv[1]) not in
    ipaddress.ip_network(sys.argv[2]))' "$1" "$2"
}

# block_of ADDR LEN: the block of length LEN holding ADDR
block_of() {
	python3 -c 'import ipaddress, sys
print(ipaddress.ip_network(sys.argv[1] + "/" + sys.argv[2], strict=False))' \
	    "$1" "$2"
}

# nth CIDR N: the N-th address of CIDR
nth() {
	python3 -c 'import ipaddress, sys
print(ipaddress.ip_network(sys.argv[1])[int(sys.argv[2])])' "$1" "$2"
}

verify() {
	local out
	out=$("$DRV" -e "$URL" verify "$@" 2>&1) ||
	    fail "IPAM tree inconsistent: $out"
	echo "$out"
}

check_clean() {
	local out
	out=$("$CTL" ipam check 2>&1) || fail "ipam check: $out"
	grep -q "Check complete; found 0 problems" <<<"$out" ||
	    fail "ipam check after $1: $out"
	ok "ipam check clean after $1"
}

aff_state() {
	value "$A/$1/ipv4/block/$(key "$2")" | jq -r .state
}

block_json() {
	value "$B4/$(key "$1")"
}

# ---------------------------------------------------------------------------
step "nodes and pools"
{
	for n in n1 n2 g1 b1 b2 m1 m2 v1 e1 p1 p2 x1 s1 s2 s3; do
		printf -- '---\napiVersion: projectcalico.org/v3\nkind: Node\n'
		printf 'metadata: {name: %s}\n' "$n"
		printf 'spec: {bgp: {ipv4Address: 192.0.2.1/24}}\n'
	done
	cat <<'EOF'
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: sel, labels: {zone: b}}
spec: {bgp: {ipv4Address: 192.0.2.99/24}}
EOF
	pool() { # name cidr blocksize [selector] [disabled]
		printf -- '---\napiVersion: projectcalico.org/v3\nkind: IPPool\n'
		printf 'metadata: {name: "%s"}\n' "$1"
		printf 'spec: {cidr: "%s", blockSize: %s, nodeSelector: '"'"'%s'"'"'%s}\n' \
		    "$2" "$3" "${4:-!has(zone)}" "${5:+, disabled: true}"
	}
	pool fill 198.18.0.0/24 28
	pool borrow 198.18.1.0/27 28
	pool max 198.18.2.0/26 30
	pool maxdefault 198.18.3.0/26 32
	pool zone-a 198.18.4.0/26 28 'zone == "a"'
	pool zone-b 198.18.5.0/26 28 'zone == "b"'
	pool disabled 198.18.6.0/24 28 '' yes
	pool tiny 198.18.7.0/30 30
	pool stress 198.18.64.0/22 26
	pool exhaust 198.18.72.0/23 26
	pool v6 2001:db8:42::/120 122
} >"$PM_TMP/cluster.yaml"
"$CTL" apply -f "$PM_TMP/cluster.yaml" >/dev/null || fail "cluster resources"
ok "16 nodes, 11 pools"

# ---------------------------------------------------------------------------
step "auto-assign fills the host's block, then claims a second"
FILL=198.18.0.0/24
mapfile -t W < <("$DRV" -e "$URL" walk n1 $FILL 28 16)
[ "${#W[@]}" = 16 ] || fail "walk: ${W[*]}"
log "n1's walk starts at ${W[0]}, ${W[1]}"
for i in $(seq 0 15); do
	a=$(assign --node n1 --pool $FILL --handle f-n1-$i --attr node=n1 \
	    --attr pod=p$i --attr namespace=default)
	[ "$a" = "$(nth "${W[0]}" "$i")" ] ||
	    fail "allocation $i: $a, wanted ordinal $i of ${W[0]}"
done
ok "16 addresses: ordinals 0-15 of ${W[0]} in order"
b=$(block_json "${W[0]}")
expect "first block full, affine to n1" \
    "$(jq -c '[.affinity, (.unallocated|length), (.attributes|length)]' <<<"$b")" \
    '^\["host:n1",0,16\]$'
expect "its attributes" "$(jq -c '.attributes[3]' <<<"$b")" \
    '"handle_id":"f-n1-3","secondary":\{"namespace":"default","node":"n1","pod":"p3"\}|"handle_id":"f-n1-3","secondary":\{"node":"n1","pod":"p3","namespace":"default"\}'
a=$(assign --node n1 --pool $FILL --handle f-n1-16)
in_block "$a" "${W[1]}" || fail "17th address $a not in ${W[1]}"
ok "17th address $a: a second block, ${W[1]}"
for w in "${W[0]}" "${W[1]}"; do
	expect "affinity n1 $w" "$(aff_state n1 "$w")" '^confirmed$'
done
expect "n1 has two affinities" \
    "$(ectl get --prefix $A/n1/ --keys-only | grep -c .)" '^2$'
expect "handle f-n1-3" "$(value $H/f-n1-3)" \
    "^\\{\"block\":\\{\"${W[0]//./\\.}\":1\\}"

# ---------------------------------------------------------------------------
step "hostname-seeded start: another host, another block, the same each time"
mapfile -t W2 < <("$DRV" -e "$URL" walk n2 $FILL 28 16)
N2=
for w in "${W2[@]}"; do
	[ "$w" = "${W[0]}" ] || [ "$w" = "${W[1]}" ] || { N2=$w; break; }
done
a=$(assign --node n2 --pool $FILL --handle f-n2-0)
in_block "$a" "$N2" || fail "n2 got $a, wanted its walk's first free $N2"
[ "$a" = "$(nth "$N2" 0)" ] || fail "n2 got $a, not ordinal 0 of $N2"
ok "n2 starts at its own block $N2 (n1 at ${W[0]})"
[ "${W2[0]}" != "${W[0]}" ] || fail "n1 and n2 walk from the same block"
release f-n2-0
exists "$B4/$(key "$N2")" || fail "n2's empty affine block went away"
ok "n2's empty block stays while affine"
"$DRV" -e "$URL" remove-host n2 >/dev/null || fail "remove-host n2"
exists "$B4/$(key "$N2")" && fail "n2's empty block survived RemoveIPAMHost"
[ -z "$(ectl get --prefix $A/n2/ --keys-only)" ] ||
    fail "n2's affinities survived RemoveIPAMHost"
ok "RemoveIPAMHost n2: empty block and affinity deleted"
a=$(assign --node n2 --pool $FILL --handle f-n2-1)
in_block "$a" "$N2" || fail "n2's second start got $a, not $N2"
ok "n2 comes back to $N2"
a=$(assign --node n1 --handle ipip-tunnel-addr-n1 --attr node=n1 \
    --attr type=ipipTunnelAddress --pool $FILL)
ok "n1's tunnel address $a"
verify >/dev/null

# ---------------------------------------------------------------------------
step "assigning a given address"
used=" ${W[0]} ${W[1]} $N2 "
G=
for w in "${W[@]}"; do
	case $used in *" $w "*) continue ;; esac
	G=$w
	break
done
IP=$(nth "$G" 5)
a=$(assign --node g1 --ip "$IP" --handle given-1 --attr node=g1)
[ "$a" = "$IP" ] || fail "assign --ip $IP printed $a"
expect "its block $G claimed for g1" \
    "$(block_json "$G" | jq -c '[.affinity, .allocations[5]]')" \
    '^\["host:g1",0\]$'
expect "g1's affinity" "$(aff_state g1 "$G")" '^confirmed$'
assign_err "$IP is already assigned" --node g1 --ip "$IP"
assign_err "198.51.100.7 is not in any enabled pool" --node g1 \
    --ip 198.51.100.7
assign_err "198.18.6.9 is not in any enabled pool" --node g1 --ip 198.18.6.9
assign_err "is not in the pools requested" --node g1 --ip "$(nth "$G" 6)" \
    --pool 198.18.1.0/27
IP2=$(nth "$N2" 9)
a=$(assign --node g1 --ip "$IP2" --handle given-2)
expect "an address in n2's block, for g1" \
    "$(block_json "$N2" | jq -r .affinity)" '^host:n2$'
out=$("$DRV" -e "$URL" release-ip "$IP2") || fail "release-ip $IP2: $out"
rc=0
out=$("$DRV" -e "$URL" release-ip "$IP2") || rc=$?
[ "$rc" = 3 ] || fail "a second release-ip $IP2: status $rc: $out"
expect "a second release" "$out" "$IP2 is not assigned"
exists $H/given-2 && fail "handle given-2 outlived its only address"
ok "ReleaseIPs: address freed, handle deleted"
expect "handle given-1 holds" "$("$DRV" -e "$URL" handle given-1)" "^$IP\$"

# ---------------------------------------------------------------------------
step "release: reused last, by handle, empty blocks"
b=$(block_json "$N2")
q=$(jq -c .unallocated <<<"$b")
a1=$(assign --node n2 --pool $FILL --handle q-1)
a2=$(assign --node n2 --pool $FILL --handle q-2)
release q-1
a3=$(assign --node n2 --pool $FILL --handle q-3)
[ "$a3" != "$a1" ] || fail "a freed address ($a1) came back first"
expect "the freed ordinal at the back of unallocated" \
    "$(block_json "$N2" | jq -c '.unallocated[-1]')" \
    "^$(python3 -c 'import ipaddress,sys; print(int(ipaddress.ip_address(sys.argv[1]))-int(ipaddress.ip_network(sys.argv[2]).network_address))' "$a1" "$N2")\$"
ok "queue was $q; $a1 freed goes last, $a3 given instead"
for i in $(seq 0 16); do release f-n1-$i; done
exists $H/f-n1-0 && fail "handle f-n1-0 left"
expect "n1's first block empty, still affine" \
    "$(block_json "${W[0]}" | jq -c '[.affinity, (.unallocated|length)]')" \
    '^\["host:n1",16\]$'
expect "n1's second block: only the tunnel address" \
    "$(block_json "${W[1]}" | jq -c '[.affinity, (.unallocated|length)]')" \
    '^\["host:n1",15\]$'
expect "release of a handle that holds nothing" \
    "$("$CTL" ipam release --handle no-such-handle)" '\(0 addresses\)'
# unaffined blocks: their host removed while they hold addresses
u=$(assign --node n1 --ip "$(nth "${W[0]}" 0)" --handle u-1)
"$DRV" -e "$URL" remove-host n1 >/dev/null || fail "remove-host n1"
[ -z "$(ectl get --prefix $A/n1/ --keys-only)" ] ||
    fail "n1's affinities survived"
for w in "${W[0]}" "${W[1]}"; do
	expect "$w, holding an address, now affine to nobody" \
	    "$(block_json "$w" | jq -c .affinity)" '^null$'
done
release u-1
exists "$B4/$(key "${W[0]}")" && fail "emptied unaffined block ${W[0]} survived"
ok "emptied unaffined block ${W[0]} deleted"
exists "$B4/$(key "${W[1]}")" || fail "${W[1]} went away with the tunnel address"
release ipip-tunnel-addr-n1
exists "$B4/$(key "${W[1]}")" && fail "emptied unaffined block ${W[1]} survived"
ok "and ${W[1]} once the tunnel address is released"
release given-1
release f-n2-1
release q-2
release q-3
verify -E >/dev/null
check_clean "claims and releases"

# ---------------------------------------------------------------------------
step "borrowing, strict affinity, exhaustion"
BP=198.18.1.0/27
for i in $(seq 0 15); do
	assign --node b1 --pool $BP --handle b1-$i >/dev/null
done
bb=$(assign --node b2 --pool $BP --handle b2-0)
B1B=$(block_of "$(nth $BP 0)" 28)
in_block "$bb" "$B1B" && B1B=$(block_of "$(nth $BP 16)" 28)
B2B=$(block_of "$bb" 28)
expect "b1's block" "$(block_json "$B1B" | jq -r .affinity)" '^host:b1$'
a=$(assign --node b1 --pool $BP --handle b1-16)
in_block "$a" "$B2B" || fail "b1's 17th address $a, not borrowed from $B2B"
expect "borrowed from b2's block, still b2's" \
    "$(block_json "$B2B" | jq -r .affinity)" '^host:b2$'
expect "b1 claimed nothing for it" \
    "$(ectl get --prefix $A/b1/ --keys-only | grep -c .)" '^1$'
ectl put $CFG '{"strict_affinity":true,"auto_allocate_blocks":true}' >/dev/null
assign_err "pool $BP has no free block for host b1, and strict affinity forbids borrowing" \
    --node b1 --pool $BP
assign_err "is in block $B2B, affine to b2, and strict affinity is on" \
    --node b1 --ip "$(nth "$B2B" 12)"
a=$(assign --node b2 --pool $BP --handle b2-1)
in_block "$a" "$B2B" || fail "b2 under strict affinity got $a"
ok "strict affinity: b2 still allocates from its own block"
ectl del $CFG >/dev/null
n=3
while :; do
	out=$("$CTL" ipam assign --node b1 --pool $BP --handle b1-x$n 2>&1) ||
	    break
	n=$((n + 1))
	[ $n -lt 40 ] || fail "pool $BP never ran out"
done
expect "exhausted pool" "$out" "^podmeshctl: pool $BP is exhausted\$"
expect "the pool is full" \
    "$("$CTL" ipam show -o json | jq -r --arg c $BP '.pools[] | select(.cidr==$c) | .in_use')" \
    '^32$'
for i in 0 1 2 3; do assign --node e1 --pool 198.18.7.0/30 --handle t-$i >/dev/null; done
assign_err "pool 198.18.7.0/30 is exhausted" --node e1 --pool 198.18.7.0/30
verify >/dev/null
for h in $(ectl get --prefix $H/ --keys-only | sed -n "s|^$H/||p"); do
	release "$h"
done
verify -E >/dev/null
check_clean "borrowing"

# ---------------------------------------------------------------------------
step "maxBlocksPerHost"
ectl put $CFG '{"strict_affinity":false,"auto_allocate_blocks":true,"maxBlocksPerHost":2}' >/dev/null
for i in $(seq 1 8); do
	assign --node m1 --pool 198.18.2.0/26 --handle m1-$i >/dev/null
done
expect "m1 holds two blocks" \
    "$(ectl get --prefix $A/m1/ --keys-only | grep -c .)" '^2$'
assign_err "host m1 has reached maxBlocksPerHost \(2 blocks in pool 198.18.2.0/26\) and its blocks are full" \
    --node m1 --pool 198.18.2.0/26
ectl del $CFG >/dev/null
for i in $(seq 1 20); do
	assign --node m2 --pool 198.18.3.0/26 --handle m2-$i >/dev/null
done
assign_err "host m2 has reached maxBlocksPerHost \(20 blocks" \
    --node m2 --pool 198.18.3.0/26
ok "the default limit, with no IPAM config: 20 blocks"
for h in $(ectl get --prefix $H/ --keys-only | sed -n "s|^$H/||p"); do
	release "$h"
done
check_clean "maxBlocksPerHost"

# ---------------------------------------------------------------------------
step "IPv6"
V6=2001:db8:42::/120
mapfile -t WV < <("$DRV" -e "$URL" walk v1 $V6 122 4)
a=$(assign --node v1 --ipv6 --pool $V6 --handle v6-1 --attr node=v1)
[ "$a" = "$(nth "${WV[0]}" 0)" ] || fail "IPv6: $a, wanted ordinal 0 of ${WV[0]}"
exists "$B6/$(key "${WV[0]}")" || fail "no key $B6/$(key "${WV[0]}")"
expect "IPv6 affinity" \
    "$(value "$A/v1/ipv6/block/$(key "${WV[0]}")" | jq -r .state)" \
    '^confirmed$'
expect "IPv6 block" "$(value "$B6/$(key "${WV[0]}")" | jq -c '[.cidr, .affinity, (.allocations|length)]')" \
    "^\\[\"${WV[0]}\",\"host:v1\",64\\]\$"
G6=${WV[2]}
IP6=$(nth "$G6" 3)
a=$(assign --node v1 --ip "$IP6" --handle v6-2)
[ "$a" = "$IP6" ] || fail "assign --ip $IP6 printed $a"
exists "$B6/$(key "$G6")" || fail "$G6 not claimed"
assign_err "is not an IPv6 pool" --node v1 --ipv6 --pool 198.18.0.0/24
assign_err "$IP6 is already assigned" --node v1 --ip "$IP6"
expect "handle v6-2" "$("$DRV" -e "$URL" handle v6-2)" "^$IP6\$"
release v6-1
release v6-2
verify -E >/dev/null
check_clean "IPv6"

# ---------------------------------------------------------------------------
step "pools by nodeSelector"
a=$(assign --node sel --handle sel-1)
in_block "$a" 198.18.5.0/26 || fail "zone b node got $a, not from zone-b"
a=$(assign --node sel --pool 198.18.4.0/26 --handle sel-2)
in_block "$a" 198.18.4.0/26 || fail "--pool zone-a got $a"
ok "nodeSelector chooses zone-b; --pool overrides it"
a=$(assign --node n1 --handle sel-3)
in_block "$a" 198.18.5.0/26 && fail "a node without zone got $a"
in_block "$a" 198.18.4.0/26 && fail "a node without zone got $a"
release sel-3
"$DRV" -e "$URL" remove-host n1 >/dev/null || fail "remove-host n1"
SB=$(block_of "$(value $H/sel-1 | jq -r '.block | keys[0]' | cut -d/ -f1)" 28)
release sel-1
release sel-2
exists "$B4/$(key "$SB")" || fail "sel's empty block $SB went away early"
sed 's/labels: {zone: b}/labels: {zone: a}/' "$PM_TMP/cluster.yaml" |
    "$CTL" apply -f - >/dev/null || fail "relabel sel"
a=$(assign --node sel --handle sel-4)
in_block "$a" 198.18.4.0/26 || fail "relabelled to zone a, got $a"
exists "$B4/$(key "$SB")" && fail "the empty zone-b block $SB stayed sel's"
ok "relabelled: zone-a, and the empty zone-b block released"
release sel-4
sed 's/labels: {zone: b}/labels: {zone: c}/' "$PM_TMP/cluster.yaml" |
    "$CTL" apply -f - >/dev/null || fail "relabel sel"
assign_err "no enabled IPv4 pool selects host sel" --node sel
assign_err "pool 198.18.99.0/24 does not exist or is disabled" --node sel \
    --pool 198.18.99.0/24
check_clean "nodeSelector"

# ---------------------------------------------------------------------------
step "a pending affinity, a stale affinity"
PB=
for w in "${W[@]}"; do
	exists "$B4/$(key "$w")" || { PB=$w; break; }
done
ectl put "$A/p1/ipv4/block/$(key "$PB")" \
    '{"state":"pending","deleted":false}' >/dev/null
a=$(assign --node p1 --pool $FILL --handle p-1)
in_block "$a" "$PB" || fail "p1 got $a, not from its pending block $PB"
expect "the pending affinity confirmed" "$(aff_state p1 "$PB")" '^confirmed$'
expect "the block created for p1" "$(block_json "$PB" | jq -r .affinity)" \
    '^host:p1$'
ectl put "$A/p2/ipv4/block/$(key "$PB")" \
    '{"state":"confirmed","deleted":false}' >/dev/null
a=$(assign --node p2 --pool $FILL --handle p-2)
in_block "$a" "$PB" && fail "p2 allocated from p1's block through a stale affinity"
exists "$A/p2/ipv4/block/$(key "$PB")" && fail "p2's stale affinity stayed"
ok "stale affinity deleted; p2 got $a from its own block"
release p-1
release p-2
verify -E >/dev/null
check_clean "pending and stale affinities"

# ---------------------------------------------------------------------------
step "bad input in etcd"
rev() {
	ectl get /calico -w json --limit 1 | jq -r .header.revision
}
XB=
while read -r w; do
	exists "$B4/$(key "$w")" || { XB=$w; break; }
done < <("$DRV" -e "$URL" walk x1 $FILL 28 16)
ectl put "$B4/$(key "$XB")" 'not json' >/dev/null
ectl put "$A/x1/ipv4/block/$(key "$XB")" \
    '{"state":"confirmed","deleted":false}' >/dev/null
a=$(assign --node x1 --pool $FILL --handle x-1)
in_block "$a" "$XB" && fail "x1 allocated $a in a block that does not decode"
expect "the broken block left as it was" "$(value "$B4/$(key "$XB")")" \
    '^not json$'
ok "a block that does not decode is skipped; x1 got $a elsewhere"
ectl put $H/x-bad 'garbage' >/dev/null
r0=$(rev)
assign_err "handle $H/x-bad: not JSON" --node x1 --pool $FILL --handle x-bad
out=$("$CTL" ipam release --handle x-bad 2>&1) && fail "released x-bad: $out"
expect "release of a handle that does not decode" "$out" \
    "handle $H/x-bad: not JSON"
ectl put $CFG '{"strict_affinity":"yes"}' >/dev/null
r0=$((r0 + 1))
assign_err "$CFG: strict_affinity: " --node x1 --pool $FILL
[ "$(rev)" = "$r0" ] || fail "refused requests wrote to etcd"
ok "refused requests wrote nothing"
ectl del $CFG >/dev/null
ectl del $H/x-bad >/dev/null
ectl del "$B4/$(key "$XB")" >/dev/null
ectl del "$A/x1/ipv4/block/$(key "$XB")" >/dev/null
release x-1
verify -E >/dev/null
check_clean "bad input"

# ---------------------------------------------------------------------------
step "concurrency: 3 hosts x 4 processes x 50 allocations"
mkdir -p "$PM_TMP/st1"
out=$("$DRV" -e "$URL" stress -o "$PM_TMP/st1" -p 198.18.64.0/22 s1,s2,s3 4 50) ||
    fail "stress: $out $(cat "$PM_TMP"/st1/* | grep ERR | head -3)"
log "$out"
expect "600 addresses, no duplicate" "$out" '^assigned 600 failed 0 duplicates 0 '
out=$(verify)
expect "the tree after the race" "$out" 'allocations 600 handles 600'
for h in s1 s2 s3; do
	expect "$h holds 4 blocks" "$out" "host $h blocks 4"
done
expect "ipam show" \
    "$("$CTL" ipam show -o json | jq -r '.pools[] | select(.cidr=="198.18.64.0/22") | .in_use')" \
    '^600$'
out=$("$DRV" -e "$URL" release 6) || fail "parallel release: $out"
expect "released by 6 processes" "$out" '^released 600 handles$'
out=$(verify -E)
expect "all released" "$out" 'allocations 0 handles 0'
for h in s1 s2 s3; do
	expect "$h keeps its 4 empty affine blocks" "$out" "host $h blocks 4"
done
check_clean "the race"

step "concurrency: 600 allocations racing for 512 addresses"
mkdir -p "$PM_TMP/st2"
out=$("$DRV" -e "$URL" stress -o "$PM_TMP/st2" -p 198.18.72.0/23 s1,s2,s3 4 50) ||
    fail "stress: $out"
log "$out"
expect "exactly the pool, no duplicate" "$out" \
    '^assigned 512 failed 88 duplicates 0 '
errs=$(cat "$PM_TMP"/st2/* | sed -n 's/^ERR [^ ]* //p' | sort | uniq -c)
expect "every failure says why" "$errs" \
    '^ *88 exhausted pool 198\.18\.72\.0/23 is exhausted$'
verify >/dev/null
out=$("$DRV" -e "$URL" release 6) || fail "parallel release: $out"
verify -E >/dev/null
check_clean "the exhaustion race"

# ---------------------------------------------------------------------------
step "podmeshctl delete node: tunnel address and affinities released"
out=$(assign --node n2 --pool 198.18.0.0/24 --handle ipip-tunnel-addr-n2)
tun=$out
pod=$(assign --node n2 --pool 198.18.0.0/24 --handle k8s-pod-network.gone)
blk=$(block_of "$pod" 28)
expect "the pod shares the tunnel's block" "$(block_of "$tun" 28)" "^$blk\$"
expect "n2's affinity" "$(aff_state n2 "$blk")" '^confirmed$'
out=$("$CTL" delete node n2 2>&1) || fail "delete node n2: $out"
expect "delete says what it released" "$out" \
    'Node\(n2\): its tunnel addresses and block affinities released'
exists "$H/ipip-tunnel-addr-n2" && fail "the tunnel handle survived"
ok "the tunnel handle is gone"
exists "$A/n2/ipv4/block/$(key "$blk")" && fail "n2's affinity survived"
ok "n2's affinity is gone"
expect "the block stays, unaffined, with the pod" \
    "$(block_json "$blk" | jq -c '[.affinity, ([.allocations[] | select(. != null)] | length)]')" \
    '^\[null,1\]$'
release k8s-pod-network.gone
exists "$B4/$(key "$blk")" && fail "the empty unaffined block survived"
ok "the pod's release deleted the empty unaffined block"
