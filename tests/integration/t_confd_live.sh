#!/bin/bash
#
# t_confd_live.sh: podmesh-confd driving real BIRD 2 daemons from a real etcd
# (issue #7, acceptance "Live in namespaces" and "Bad input").
#
#   infra  br0 192.0.2.254/24, etcd :2379; br1 (node_lib.sh, two subnets)
#   rt     router: 192.0.2.1 on br0, 198.51.100.1 on br1
#   n1 A   192.0.2.11     BIRD 2 on the config podmesh-confd renders from
#                         the shipped confd/dist/bird2 templates (etcdv3)
#   n2 B   192.0.2.12     podmesh-node + podmesh-bgpd (datastore mode), as
#                         the node tests run them
#   n3 C   198.51.100.13  BIRD 2 + its own podmesh-confd, as A, behind rt;
#                         its etcd and node name from ETCD_ENDPOINTS and
#                         NODENAME only
#
# Calico v3 resources: BGPConfiguration default (mesh on, AS 64512), three
# IPPools: native 198.18.0.0/17 (ipipMode Never; blocks on n1 and n2 only),
# cross-subnet 198.18.128.0/17 (CrossSubnet: native between n1 and n2, IPIP
# to and from n3) and IPIP 198.19.0.0/16 (Always); Nodes n1 n3 written with
# podmeshctl, n2 by podmesh-node; a block per node and pool from
# `podmeshctl ipam assign`.
# tunl0 is node_lib's veth stand-in in every node (this kernel has neither
# the ipip nor the dummy module; BIRD 2's ifname="tunl0" must name a
# device).
#
# Checked:
#  - A and C run exactly Mesh_<other two>, all Established; B is
#    Established with exactly A and C;
#  - A's and C's kernels (proto bird) and B's (proto 44) hold exactly: a
#    blackhole per own block; another node's native blocks "via <node> dev
#    eth0" on the same subnet (C: via the router); cross-subnet blocks the
#    same on the same subnet, else "via <node> dev tunl0 onlink"; IPIP
#    blocks "via <node> dev tunl0 onlink";
#  - the daemon's first render after -onetime reloads nothing;
#  - changes in etcd reach the running BIRD within 1 s, measured from just
#    before the write to `birdc show protocols` showing it: a Node added
#    (Mesh_ appears), the mesh switched off (every Mesh_ gone), a global
#    BGPPeer added (Global_ appears), the mesh back on (sessions and routes
#    come back);
#  - nothing changed, nothing reloaded: a resource rewritten raw with the
#    same bytes, an unrelated key, a Node label (rendered, same output), a
#    SIGHUP: no reload, BIRD's "Last reconfiguration" and every rendered
#    file (content and inode) as they were; then one real change makes
#    exactly one reload;
#  - bad input: a template syntax error (SIGHUP, then a change): logged with
#    the template, line and column, the config file and BIRD untouched,
#    sessions up; repaired + SIGHUP: the pending change applies.  A
#    resource reading a missing key: logged, its dest never written, BIRD
#    untouched.  A template rendering what BIRD cannot parse: bird -p's
#    "FILE:LINE:COL syntax error" logged, old config kept, no staged file
#    left, no reload.  A failing check_cmd on an etcd change: the
#    checker's message logged, old config kept, no reload, BIRD keeps the
#    old peer AS; check passing again + SIGHUP: the change applies;
#  - podmesh-confd and podmesh-bgpd exit 0 on SIGTERM with no sanitizer
#    report.
PM_TIMEOUT=${PM_TIMEOUT:-240}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"
. "$(dirname "$0")/confd_lib.sh"

require_node
require_confd

POOL_NATIVE=198.18.0.0/17
POOL_XSUB=198.18.128.0/17
POOL_IPIP=198.19.0.0/16
LIMIT_MS=1000 # etcd change -> running BIRD
R3=/calico/resources/v3/projectcalico.org
declare -A LAT # what -> ms

# pool_mode BLOCK: native, xsub or ipip
pool_mode() {
	case $1 in
	198.19.*) echo ipip ;;
	198.18.*)
		local o3=${1#198.18.}
		o3=${o3%%.*}
		if [ "$o3" -lt 128 ]; then echo native; else echo xsub; fi
		;;
	*) fail "block $1 in no pool" ;;
	esac
}

# expected NODE: the pod routes NODE's kernel should hold (normalised as
# node_lib's node_routes): a blackhole per own block; another node's blocks
# by pool: native "via <node> dev eth0" within the subnet, else through
# the router (BIRD resolves the next hop recursively, over the default
# route its kernel protocol learned); cross-subnet native within the
# subnet, else as IPIP; IPIP "via <node> dev tunl0 onlink".
expected() {
	local n=$1 o b
	for o in "${NODES[@]}"; do
		for b in $(node_blocks "$o"); do
			if [ "$o" = "$n" ]; then
				echo "blackhole $b"
				continue
			fi
			case $(pool_mode "$b") in
			native)
				if _node_same_subnet "$n" "$o"; then
					echo "$b via ${NODE_IP[$o]} dev eth0"
				else
					echo "$b via ${NODE_GW[$n]} dev eth0"
				fi
				;;
			xsub)
				if _node_same_subnet "$n" "$o"; then
					echo "$b via ${NODE_IP[$o]} dev eth0"
				else
					echo "$b via ${NODE_IP[$o]} dev tunl0 onlink"
				fi
				;;
			ipip) echo "$b via ${NODE_IP[$o]} dev tunl0 onlink" ;;
			esac
		done
	done | sort
}

# bird_routes NODE: BIRD's routes in NODE's kernel (proto bird), pod pools
# only, normalised.
bird_routes() {
	ip -n "$(ns "$1")" -d -4 route show table main proto bird |
	    _node_norm | grep -E '^(blackhole )?198\.1[89]\.' || true
}

_bird_table_is() {
	[ "$(bird_routes "$1")" = "$2" ]
}

# expect_bird_table NODE TIMEOUT
expect_bird_table() {
	local n=$1 t=$2 want
	want=$(expected "$n")
	[ "$(wc -l <<<"$want")" -ge 8 ] || fail "$n: want 8 or more routes, expected() gave: $want"
	wait_until "$t" _bird_table_is "$n" "$want" ||
	    fail "$n: BIRD's kernel routes not as expected within ${t}s (< want, > have):" \
	    $'\n'"$(diff <(echo "$want") <(bird_routes "$n") | sed 's/^/    /')"
	ok "$n: BIRD installed exactly $(wc -l <<<"$want") routes:"$'\n'"$(sed 's/^/    /' <<<"$want")"
}

# expect_bgpd_table NODE TIMEOUT: podmesh-bgpd's routes (proto 44), the
# same form.
expect_bgpd_table() {
	local n=$1 t=$2 want
	want=$(expected "$n")
	wait_until "$t" _node_table_is "$n" "$want" ||
	    fail "$n: podmesh-bgpd's kernel routes not as expected within ${t}s:" \
	    $'\n'"$(diff <(echo "$want") <(node_routes "$n") | sed 's/^/    /')"
	ok "$n: podmesh-bgpd installed exactly $(wc -l <<<"$want") routes"
}

# _mesh_is NODE PEER...: NODE's BGP protocols are exactly Mesh_<PEER ip>,
# all Established.
_mesh_is() {
	local n=$1 p want=
	shift
	for p in "$@"; do
		want+="$(proto_name Mesh "${NODE_IP[$p]}") up Established"$'\n'
	done
	[ "$(bird_protos "$n")" = "$(sort <<<"${want%$'\n'}")" ]
}

# _established_with NODE PEER...: Mesh_<PEER ip> Established for each
# (other protocols may exist).
_established_with() {
	local n=$1 p
	shift
	for p in "$@"; do
		_bird_proto_established "$n" "$(proto_name Mesh "${NODE_IP[$p]}")" ||
		    return 1
	done
}

# staged_left NODE: files ".<dest base>*" beside a dest (staged copies).
staged_left() {
	local f
	while IFS= read -r f; do
		find "$(dirname "$f")" -maxdepth 1 -name ".$(basename "$f")*"
	done < <(confd_dests "$1")
}

expect_bird_mesh() {
	local n=$1 t=$2
	shift 2
	wait_until "$t" _mesh_is "$n" "$@" ||
	    fail "$n: BIRD's BGP protocols are not exactly Mesh_{$*} Established after ${t}s:" \
	    $'\n'"$(bird_protos "$n")"
	ok "$n: BIRD runs exactly Mesh_ to $*, Established"
}

apply() {
	local out
	out=$(nctl apply -f - 2>&1) || fail "podmeshctl apply: $out"
}

# timed NAME CHECK...: T0 was taken (TIMED_T0) just before the etcd write;
# poll CHECK until it holds; record and log the latency, fail over 1 s.
timed() {
	local name=$1 ms
	shift
	ms=$(poll_ms "$TIMED_T0" 5 "$@") ||
	    fail "$name: not in BIRD within 5 s (BGP protocols: $(bird_protos n1 | tr '\n' ';'))"
	LAT[$name]=$ms
	[ "$ms" -le "$LIMIT_MS" ] ||
	    fail "$name: reached the running BIRD after $ms ms, over $LIMIT_MS ms"
	ok "$name: in the running BIRD after $ms ms"
}

# snapshot NODE: reload count, BIRD's last reconfiguration, how many
# "updated" podmesh-confd logged, every rendered file's sha256 and inode.
snapshot() {
	local f r
	r=$(bird_last_reconf "$1")
	[ -n "$r" ] || fail "$1: BIRD does not answer show status"
	echo "reloads $(confd_reloads "$1")"
	echo "reconf $r"
	echo "confd-updated $(log_count "$1" ': updated$')"
	while IFS= read -r f; do
		[ -e "$f" ] && echo "$f $(sha_of "$f") $(stat -c %i "$f")"
	done < <(confd_dests "$1")
}

# expect_untouched NODE SNAPSHOT WHY: the snapshot again, BIRD's last
# reconfiguration the same (reconf_same: within 5 ms).
expect_untouched() {
	local now r0 r1
	now=$(snapshot "$1")
	r0=$(sed -n 's/^reconf //p' <<<"$2")
	r1=$(sed -n 's/^reconf //p' <<<"$now")
	[ "$(grep -v '^reconf ' <<<"$now")" = "$(grep -v '^reconf ' <<<"$2")" ] &&
	    reconf_same "$r0" "$r1" ||
	    fail "$1: $3 touched BIRD or its config:"$'\n'"$(diff <(echo "$2") <(echo "$now"))"
}

# log_count NODE REGEX: matching lines in NODE's confd log.
log_count() {
	grep -E -c -- "$2" "$PM_TMP/$1.confd.log"
}

_log_count_above() {
	[ "$(log_count "$1" "$2")" -gt "$3" ]
}

# ---------------------------------------------------------------------------
step "cluster: etcd, three nodes, resources, blocks"
underlay two
node_add n1
node_add n2
node_add n3 subnet=2
node_etcd_start
# no ipip module, and no dummy either: node_lib's veth stand-in everywhere
for n in n1 n2 n3; do
	tunl0_standin "$n"
done
apply <<EOF
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: true, asNumber: 64512, logSeverityScreen: Info}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: native}
spec: {cidr: $POOL_NATIVE, blockSize: 26, ipipMode: Never, vxlanMode: Never}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: xsub}
spec: {cidr: $POOL_XSUB, blockSize: 26, ipipMode: CrossSubnet, vxlanMode: Never}
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata: {name: ipip}
spec: {cidr: $POOL_IPIP, blockSize: 26, ipipMode: Always, vxlanMode: Never}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n1}
spec: {bgp: {ipv4Address: ${NODE_IP[n1]}/24}}
---
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n3}
spec: {bgp: {ipv4Address: ${NODE_IP[n3]}/24}}
EOF
node_start n2 NO_DEFAULT_POOLS=true
# a block per pool and node, but native ones only on the first subnet
for n in n1 n2 n3; do
	pools="$POOL_NATIVE $POOL_XSUB $POOL_IPIP"
	[ "$n" = n3 ] && pools="$POOL_XSUB $POOL_IPIP"
	for p in $pools; do
		ip=$(nctl ipam assign --node "$n" --pool "$p" --handle "test.$n.${p%%/*}" 2>&1) ||
		    fail "ipam assign $n $p: $ip"
	done
	[ "$(node_blocks "$n" | wc -l)" -eq "$(wc -w <<<"$pools")" ] ||
	    fail "$n: want a confirmed block per pool ($pools), have: $(node_blocks "$n" | tr '\n' ' ')"
done
ok "blocks: $(for n in n1 n2 n3; do echo -n "$n: $(node_blocks "$n" | tr '\n' ' ')"; done)"

step "A and C: podmesh-confd -onetime, BIRD 2 on its output, podmesh-confd"
# C's podmesh-confd gets etcd and its node name from the environment only
CONFD_ENV_NODES=n3
for n in n1 n3; do
	confd_setup "$n"
	confd_onetime "$n"
	confd_bird_start "$n"
	confd_start "$n"
done
node_bgpd_start n2

step "sessions and routes"
expect_bird_mesh n1 30 n2 n3
expect_bird_mesh n3 30 n1 n2
expect_sessions n2 20 n1 n3
expect_bird_table n1 15
expect_bird_table n3 15
expect_bgpd_table n2 15
for n in n1 n3; do
	[ "$(confd_reloads "$n")" -eq 0 ] ||
	    fail "$n: the daemon's first render reloaded BIRD though -onetime had rendered the same:" \
	    "$(cat "$PM_TMP/$n.reloads")"
done
ok "the daemons' first renders matched -onetime's: no reload"

step "changes in etcd reach the running BIRD"
# (a) a node added
R0=$(confd_reloads n1)
TIMED_T0=$(_pm_now)
apply <<EOF
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n4}
spec: {bgp: {ipv4Address: 192.0.2.14/24, asNumber: 64513}}
EOF
NODE_IP[n4]=192.0.2.14
timed "node added (Mesh_192_0_2_14 in A)" _bird_has_proto n1 Mesh_192_0_2_14
wait_until 2 _bird_has_proto n3 Mesh_192_0_2_14 || fail "n3: no Mesh_192_0_2_14"
[ "$(birdc_ n1 show protocols all Mesh_192_0_2_14 | awk '/Neighbor AS:/ { print $3 }')" = 64513 ] ||
    fail "Mesh_192_0_2_14: neighbor AS is not the Node's 64513: $(birdc_ n1 show protocols all Mesh_192_0_2_14)"
[ "$(confd_reloads n1)" -eq $((R0 + 1)) ] ||
    fail "n1: one change, $(($(confd_reloads n1) - R0)) reloads"
ok "n1: Mesh_192_0_2_14 with AS 64513; exactly one reload"

# (b) the mesh switched off
TIMED_T0=$(_pm_now)
apply <<EOF
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: false, asNumber: 64512, logSeverityScreen: Info}
EOF
timed "mesh off (every Mesh_ gone from A)" _bird_no_proto_like n1 Mesh_
wait_until 2 _bird_no_proto_like n3 Mesh_ || fail "n3: Mesh_ protocols left"
wait_until 5 _node_mesh_ok n2 || fail "n2: sessions left with the mesh off: $(node_peers n2)"
ok "mesh off everywhere"

# (c) a global BGPPeer added
TIMED_T0=$(_pm_now)
apply <<EOF
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata: {name: global-200}
spec: {peerIP: 192.0.2.200, asNumber: 65001}
EOF
timed "global BGPPeer added (Global_192_0_2_200 in A)" _bird_has_proto n1 Global_192_0_2_200
[ "$(birdc_ n1 show protocols all Global_192_0_2_200 | awk '/Neighbor AS:/ { print $3 }')" = 65001 ] ||
    fail "Global_192_0_2_200: neighbor AS is not 65001"
[ "$(bird_protos n1 | awk '{ print $1 }')" = Global_192_0_2_200 ] ||
    fail "n1: BGP protocols are not exactly Global_192_0_2_200: $(bird_protos n1)"

# (d) the mesh back on: sessions and routes come back
TIMED_T0=$(_pm_now)
apply <<EOF
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata: {name: default}
spec: {nodeToNodeMeshEnabled: true, asNumber: 64512, logSeverityScreen: Info}
EOF
timed "mesh on again (Mesh_192_0_2_12 in A)" _bird_has_proto n1 Mesh_192_0_2_12
out=$(nctl delete bgppeer global-200 2>&1) || fail "delete bgppeer: $out"
out=$(nctl delete node n4 2>&1) || fail "delete node n4: $out"
unset "NODE_IP[n4]"
expect_bird_mesh n1 30 n2 n3
expect_bird_mesh n3 30 n1 n2
expect_sessions n2 20 n1 n3
expect_bird_table n1 15
expect_bird_table n3 15
expect_bgpd_table n2 15

step "nothing changed: no reload"
sleep 1.5
SNAP=$(snapshot n1)
SNAP3=$(snapshot n3)
v=$(ectl get "$R3/nodes/n1" --print-value-only) || fail "get node n1"
[ -n "$v" ] || fail "node n1: empty value"
ectl put "$R3/nodes/n1" "$v" >/dev/null || fail "rewrite node n1"
v=$(ectl get "$R3/bgpconfigurations/default" --print-value-only)
ectl put "$R3/bgpconfigurations/default" "$v" >/dev/null || fail "rewrite bgpconfiguration"
ectl put "$R3/profiles/kns.unrelated" \
    '{"kind":"Profile","apiVersion":"projectcalico.org/v3","metadata":{"name":"kns.unrelated"},"spec":{}}' \
    >/dev/null || fail "put profile"
ectl put /unrelated/key value >/dev/null || fail "put /unrelated/key"
apply <<EOF
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n3, labels: {rack: r1}}
spec: {bgp: {ipv4Address: ${NODE_IP[n3]}/24}}
EOF
sleep 1.5
expect_untouched n1 "$SNAP" "the same bytes rewritten, an unrelated key, a Node label"
expect_untouched n3 "$SNAP3" "the same bytes rewritten, an unrelated key, a Node label"
confd_hup n1
sleep 1
expect_untouched n1 "$SNAP" "SIGHUP with nothing changed"
ok "n1, n3: no reload, BIRD not reconfigured ($(sed -n 's/^reconf //p' <<<"$SNAP")), no file rewritten"
# the control: one real change, one reload
R0=$(confd_reloads n1)
TIMED_T0=$(_pm_now)
apply <<EOF
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n4}
spec: {bgp: {ipv4Address: 192.0.2.14/24, asNumber: 64513}}
EOF
NODE_IP[n4]=192.0.2.14
timed "node added again (Mesh_192_0_2_14 in A)" _bird_has_proto n1 Mesh_192_0_2_14
sleep 1
[ "$(confd_reloads n1)" -eq $((R0 + 1)) ] ||
    fail "n1: one change, $(($(confd_reloads n1) - R0)) reloads"
! reconf_same "$(bird_last_reconf n1)" "$(sed -n 's/^reconf //p' <<<"$SNAP")" ||
    fail "n1: reloaded, but BIRD's last reconfiguration did not move"
ok "n1: one change, one reload, BIRD reconfigured"

step "bad input: a template syntax error"
SRC=$(confd_main_src n1)
cp "$SRC" "$PM_TMP/main.template.good"
BAD_LINE=$(($(wc -l <"$SRC") + 1))
printf '{{ end }}\n' >>"$SRC"
TNAME=$(basename "$SRC")
ERR_RE="$TNAME:$BAD_LINE(:[0-9]+)?:.*"
sleep 1
SNAP=$(snapshot n1)
E0=$(log_count n1 "$ERR_RE")
confd_hup n1
wait_until 3 _log_count_above n1 "$ERR_RE" "$E0" ||
    fail "n1: SIGHUP with a broken template logged no error at $TNAME:$BAD_LINE"
ok "n1: logged: $(grep -E -- "$ERR_RE" "$PM_TMP/n1.confd.log" | tail -1)"
E0=$(log_count n1 "$ERR_RE")
apply <<EOF
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n5}
spec: {bgp: {ipv4Address: 192.0.2.15/24}}
EOF
wait_until 3 _log_count_above n1 "$ERR_RE" "$E0" ||
    fail "n1: a change with a broken template logged no error"
sleep 0.5
expect_untouched n1 "$SNAP" "a broken template"
daemon_alive bird n1 || fail "BIRD in n1 died"
daemon_alive confd n1 || fail "podmesh-confd in n1 died over a broken template"
_established_with n1 n2 n3 ||
    fail "n1: sessions lost over a broken template: $(bird_protos n1)"
_bird_has_proto n1 Mesh_192_0_2_15 && fail "n1: the change applied through a broken template"
ok "n1: config file, BIRD and its sessions untouched; confd still running"
cp "$PM_TMP/main.template.good" "$SRC"
R0=$(confd_reloads n1)
TIMED_T0=$(_pm_now)
confd_hup n1
timed "template repaired + SIGHUP (Mesh_192_0_2_15 in A)" _bird_has_proto n1 Mesh_192_0_2_15
NODE_IP[n5]=192.0.2.15

step "bad input: a missing key"
D1=$PM_TMP/n1.confd
cat >"$D1/conf.d/zz-missing.toml" <<EOF
[template]
src = "zz-missing.template"
dest = "zz-missing.cfg"
prefix = "/calico/bgp/v1"
keys = ["/global"]
EOF
printf 'as {{getv "/global/as_num"}}\nx {{getv "/global/no_such_key"}}\n' \
    >"$D1/templates/zz-missing.template"
sleep 1
SNAP=$(snapshot n1)
E0=$(log_count n1 'no_such_key')
confd_hup n1
wait_until 3 _log_count_above n1 'no_such_key' "$E0" ||
    fail "n1: a template reading a missing key logged nothing naming it"
ok "n1: logged: $(grep -- no_such_key "$PM_TMP/n1.confd.log" | tail -1)"
sleep 0.5
[ -e "$D1/zz-missing.cfg" ] && fail "n1: zz-missing.cfg written despite the missing key"
expect_untouched n1 "$SNAP" "a resource reading a missing key"
rm -f "$D1/conf.d/zz-missing.toml" "$D1/templates/zz-missing.template"
confd_hup n1
sleep 0.5
expect_untouched n1 "$SNAP" "SIGHUP after removing a resource"
ok "n1: its dest never written, BIRD untouched"

step "bad input: a config bird -p rejects"
# a template that renders (valid Go template) what BIRD cannot parse: the
# real checker fails, its message is logged, the old config stays
sleep 1
SNAP=$(snapshot n1)
printf 'bogus_statement {{getv "/global/as_num"}};\n' >>"$SRC"
BIRD_ERR_RE='check_cmd .* failed: .*bird\.cfg:[0-9]+:[0-9]+ syntax error'
C0=$(log_count n1 "$BIRD_ERR_RE")
confd_hup n1
wait_until 3 _log_count_above n1 "$BIRD_ERR_RE" "$C0" ||
    fail "n1: bird -p's rejection is not in podmesh-confd's log"
ok "n1: logged: ...$(grep -E -- "$BIRD_ERR_RE" "$PM_TMP/n1.confd.log" | tail -1 | sed 's/.* failed: /failed: /')"
grep -q 'bogus_statement' "${CONFD_MAIN[n1]}" && fail "n1: the rejected config was swapped in"
sleep 0.5
expect_untouched n1 "$SNAP" "a config bird -p rejects"
left=$(staged_left n1)
[ -z "$left" ] || fail "n1: staged files left behind after a failing check: $left"
_established_with n1 n2 n3 || fail "n1: sessions lost: $(bird_protos n1)"
cp "$PM_TMP/main.template.good" "$SRC"
confd_hup n1
sleep 1
expect_untouched n1 "$SNAP" "the template repaired (same output as before)"
ok "n1: old config kept, no reload, sessions up; repaired: nothing to do"

step "bad input: a failing check"
sleep 1
SNAP=$(snapshot n1)
C0=$(log_count n1 'forced check failure')
touch "$PM_TMP/n1.checkfail"
apply <<EOF
apiVersion: projectcalico.org/v3
kind: Node
metadata: {name: n4}
spec: {bgp: {ipv4Address: 192.0.2.14/24, asNumber: 64514}}
EOF
wait_until 3 _log_count_above n1 'forced check failure' "$C0" ||
    fail "n1: the checker's message is not in podmesh-confd's log"
ok "n1: logged: $(grep -- 'forced check failure' "$PM_TMP/n1.confd.log" | tail -1)"
sleep 0.5
expect_untouched n1 "$SNAP" "a failing check"
[ "$(birdc_ n1 show protocols all Mesh_192_0_2_14 | awk '/Neighbor AS:/ { print $3 }')" = 64513 ] ||
    fail "n1: Mesh_192_0_2_14 changed AS though the check failed"
left=$(staged_left n1)
[ -z "$left" ] || fail "n1: staged files left behind after a failing check: $left"
ok "n1: old config kept, no reload, BIRD still peers n4 as AS 64513"
rm -f "$PM_TMP/n1.checkfail"
TIMED_T0=$(_pm_now)
confd_hup n1
_as64514() {
	[ "$(birdc_ n1 show protocols all Mesh_192_0_2_14 | awk '/Neighbor AS:/ { print $3 }')" = 64514 ]
}
timed "check passing again + SIGHUP (Mesh_192_0_2_14 AS 64514)" _as64514
_established_with n1 n2 n3 ||
    fail "n1: sessions to n2 n3 not Established: $(bird_protos n1)"

step "shutdown"
daemon_alive bird n1 && daemon_alive bird n3 || fail "a BIRD died"
for n in n1 n3; do
	pid=${PM_PID[confd:$n]}
	kill -TERM "$pid"
	rc=0
	wait "$pid" || rc=$?
	unset "PM_PID[confd:$n]"
	[ "$rc" -eq 0 ] || fail "podmesh-confd in $n exited $rc on SIGTERM"
	grep -E -q 'AddressSanitizer|LeakSanitizer|runtime error' "$PM_TMP/$n.confd.log" &&
	    fail "sanitizer report in podmesh-confd's log ($n)"
done
ok "podmesh-confd exited 0 on SIGTERM in n1 and n3, no sanitizer report"
podmesh_finish n2

step "etcd change -> running BIRD (ms)"
for k in "${!LAT[@]}"; do
	printf '  %5d  %s\n' "${LAT[$k]}" "$k"
done | sort -k2 >&2
exit 0
