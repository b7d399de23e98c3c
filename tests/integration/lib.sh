# shellcheck shell=bash
#
# Integration-test harness: runs podmesh-bgpd and real BGP peers (BIRD 2,
# GoBGP, FRR bgpd) in network namespaces that the test creates and removes.
#
# A test script sources this file first thing:
#
#	. "$(dirname "$0")/lib.sh"
#
# Sourcing re-executes the script under timeout(1) (the global deadline,
# PM_TIMEOUT seconds, default 120), makes a temp dir and installs a trap
# that kills every process started here and deletes every namespace and the
# temp dir, whether the test passes, fails or is interrupted.
#
# Conventions:
#  - NS arguments are short logical names ("pm", "bird"); the real
#    namespace is "${PM_PREFIX}NAME" (see ns).  Daemons get one instance per
#    namespace, so a namespace name also names its daemon.
#  - Routes are printed normalised, one path per line:
#	nh=192.0.2.1 path=64512,65001 lp=100 origin=i best=1 ... orig=- cl=
#    (path is the AS_PATH, comma separated, empty for a local route; lp is
#    "-" when the path carries no LOCAL_PREF; orig is the ORIGINATOR_ID or
#    "-", cl the CLUSTER_LIST in wire order, comma separated, empty when
#    absent; both come last).  expect_route matches k=v tokens against
#    these lines.
#  - Every assertion failure goes through fail(), which prints what was
#    expected, then every daemon's view and log tail.
#
# Environment: PODMESH_BUILD (build dir), PODMESH_SRC (source dir),
# PM_TIMEOUT (deadline, s), PM_KEEP=1 (keep the temp dir).

set -u
set -o pipefail

# ---------------------------------------------------------------------------
# Global deadline: re-run the script under timeout(1).  timeout puts the test
# in its own process group and signals the whole group when the deadline
# passes, so even a hung foreground command (birdc, vtysh) is interrupted and
# the cleanup trap runs; -k makes sure the test dies if the trap hangs.
if [ -z "${PM_UNDER_DEADLINE:-}" ]; then
	export PM_UNDER_DEADLINE=1
	exec timeout -k 15 "${PM_TIMEOUT:-120}" bash "$0" "$@"
fi

PM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${PODMESH_SRC:=$(cd "$PM_LIB_DIR/../.." && pwd)}"
: "${PODMESH_BUILD:=$PODMESH_SRC/build}"
PM_TIMEOUT=${PM_TIMEOUT:-120}
PM_TEST=$(basename "$0" .sh)
PM_PREFIX="pm-$$-"
PM_START=${EPOCHREALTIME/[.,]/}
PM_GOBGP_PORT=50051 # gRPC API, on 127.0.0.1 inside each namespace

PM_NS=()	    # namespaces created (full names)
declare -A PM_PID   # "kind:ns" -> pid of the running daemon
declare -A PM_CONF  # "kind:ns" -> config file it was started with
declare -A PM_ARGS  # "kind:ns" -> extra arguments it was started with
PM_DAEMONS=()	    # "kind:ns", every daemon ever started (for dumps)
PM_NLINK=0
PM_DUMPED=0
PM_FRR_RUNDIRS=()

PM_TMP=$(mktemp -d "/tmp/${PM_PREFIX}XXXXXX") || exit 1

# ---------------------------------------------------------------------------
# Messages

# Time in microseconds, from $EPOCHREALTIME (no fork per poll).
_pm_now() {
	local t=${EPOCHREALTIME/[.,]/}
	echo $((10#$t))
}

# _pm_us SECONDS: "1.5" -> 1500000.
_pm_us() {
	local s=$1 i f
	i=${s%%.*}
	f=
	[ "$i" != "$s" ] && f=${s#*.}
	f="${f}000000"
	echo $((10#${i:-0} * 1000000 + 10#${f:0:6}))
}

# _pm_secs US: 1500000 -> "1.50".
_pm_secs() {
	printf '%d.%02d' $(($1 / 1000000)) $(($1 % 1000000 / 10000))
}

_pm_elapsed() {
	_pm_secs $(($(_pm_now) - PM_START))
}

log() {
	printf '[%s %ss] %s\n' "$PM_TEST" "$(_pm_elapsed)" "$*" >&2
}

step() {
	log "== $*"
}

ok() {
	log "ok: $*"
}

# fail MSG...: print MSG, dump every daemon's view and log tail, exit 1.
fail() {
	log "FAIL: $*"
	pm_dump
	exit 1
}

# ---------------------------------------------------------------------------
# Cleanup

_pm_kill_pid() {
	local pid=$1 i
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 30; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

pm_cleanup() {
	local rc=$? key ns pids d
	trap - EXIT INT TERM
	if [ "$rc" -ne 0 ] && [ "$PM_DUMPED" -eq 0 ]; then
		log "exiting with status $rc"
		pm_dump
	fi
	for key in "${!PM_PID[@]}"; do
		_pm_kill_pid "${PM_PID[$key]}"
	done
	# Anything else still running inside our namespaces was started by
	# this test too (a daemon's children, a stray `ip netns exec`).
	for ns in "${PM_NS[@]}"; do
		pids=$(ip netns pids "$ns" 2>/dev/null)
		# shellcheck disable=SC2086
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	done
	sleep 0.1
	for ns in "${PM_NS[@]}"; do
		ip netns del "$ns" 2>/dev/null ||
		    { sleep 0.5; ip netns del "$ns" 2>/dev/null; } ||
		    log "warning: could not delete namespace $ns"
	done
	for d in "${PM_FRR_RUNDIRS[@]}"; do
		rm -rf "$d"
	done
	if [ "${PM_KEEP:-0}" = 1 ]; then
		log "kept $PM_TMP"
	else
		rm -rf "$PM_TMP"
	fi
	if [ "$rc" -eq 0 ]; then
		log "PASS"
	else
		log "FAILED (status $rc)"
	fi
	exit "$rc"
}

_pm_signal() {
	log "interrupted by SIG$1 after $(_pm_elapsed)s" \
	    "(deadline PM_TIMEOUT=${PM_TIMEOUT}s)"
	exit "$2"
}

trap pm_cleanup EXIT
# A reader that goes away (| head) must not kill the test before cleanup.
trap '' PIPE
trap '_pm_signal INT 130' INT
trap '_pm_signal TERM 143' TERM

# ---------------------------------------------------------------------------
# Waiting

# wait_until TIMEOUT CMD...: run CMD every 0.1 s until it succeeds (0) or
# TIMEOUT seconds (fractions allowed) have passed (1).
wait_until() {
	local deadline
	deadline=$(($(_pm_now) + $(_pm_us "$1")))
	shift
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		(($(_pm_now) >= deadline)) && break
		sleep 0.1
	done
	"$@" >/dev/null 2>&1
}

# never_within DURATION CMD...: succeed if CMD does not succeed once during
# DURATION seconds.
never_within() {
	local deadline
	deadline=$(($(_pm_now) + $(_pm_us "$1")))
	shift
	while (($(_pm_now) < deadline)); do
		"$@" >/dev/null 2>&1 && return 1
		sleep 0.1
	done
	return 0
}

# ---------------------------------------------------------------------------
# Namespaces and links

# ns NAME: full namespace name of NAME.
ns() {
	printf '%s%s' "$PM_PREFIX" "$1"
}

# nsx NAME CMD...: run CMD inside namespace NAME.
nsx() {
	local n=$1
	shift
	ip netns exec "$(ns "$n")" "$@"
}

# ns_add NAME...: create namespaces with lo up and IPv6 DAD off (so
# link-local addresses are usable at once, as the nodad global ones are).
ns_add() {
	local n full
	for n in "$@"; do
		full=$(ns "$n")
		ip netns add "$full" || fail "ip netns add $full"
		PM_NS+=("$full")
		ip -n "$full" link set lo up || fail "lo up in $full"
		nsx "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 \
		    net.ipv6.conf.default.accept_dad=0 >/dev/null
	done
}

# link_ns A ADDRS_A B ADDRS_B [ll=off]: veth pair between namespaces A and
# B.  ADDRS is a comma-separated list of address/len (IPv4 and IPv6; IPv6
# ones get nodad).  The interface in A is named after B and vice versa.
# ll=off: no IPv6 link-local addresses on the pair, so that speakers send
# only a global IPv6 next hop (FRR's bgpd without zebra has no interface
# information and treats routes with a link-local next hop as withdrawn).
link_ns() {
	local a=$1 addrs_a=$2 b=$3 addrs_b=$4 ll=${5:-ll=on} ia ib
	PM_NLINK=$((PM_NLINK + 1))
	ia="${b:0:11}-$PM_NLINK"
	ib="${a:0:11}-$PM_NLINK"
	ip link add "$ia" netns "$(ns "$a")" type veth \
	    peer name "$ib" netns "$(ns "$b")" ||
	    fail "veth $a:$ia <-> $b:$ib"
	if [ "$ll" = ll=off ]; then
		ip -n "$(ns "$a")" link set "$ia" addrgenmode none &&
		    ip -n "$(ns "$b")" link set "$ib" addrgenmode none ||
		    fail "addrgenmode none on $a:$ia / $b:$ib"
	fi
	_pm_addrs "$a" "$ia" "$addrs_a"
	_pm_addrs "$b" "$ib" "$addrs_b"
}

# bridge_add NAME: namespace NAME holding one bridge, br0, that link_br
# plugs other namespaces into (a LAN: every node reaches every other one
# directly, so iBGP next hops resolve as connected routes everywhere).
bridge_add() {
	ns_add "$1"
	# A fixed MAC: left to itself a bridge takes its lowest port's, so a
	# port plugged in later can change it under the address on br0 (etcd's
	# in node_lib.sh) while the nodes' ARP caches still hold the old one.
	ip -n "$(ns "$1")" link add br0 address 02:00:00:00:b0:00 type bridge &&
	    ip -n "$(ns "$1")" link set br0 up ||
	    fail "bridge br0 in $1"
}

# link_br SW NS ADDRS [ll=off]: veth from namespace NS to the bridge in SW
# (made by bridge_add).  ADDRS as for link_ns; the interface in NS is
# named after SW.
link_br() {
	local sw=$1 n=$2 addrs=$3 ll=${4:-ll=on} ia ib
	PM_NLINK=$((PM_NLINK + 1))
	ia="${n:0:11}-$PM_NLINK"
	ib="${sw:0:11}-$PM_NLINK"
	ip link add "$ia" netns "$(ns "$sw")" type veth \
	    peer name "$ib" netns "$(ns "$n")" ||
	    fail "veth $sw:$ia <-> $n:$ib"
	if [ "$ll" = ll=off ]; then
		ip -n "$(ns "$n")" link set "$ib" addrgenmode none ||
		    fail "addrgenmode none on $n:$ib"
	fi
	ip -n "$(ns "$sw")" link set "$ia" master br0 &&
	    ip -n "$(ns "$sw")" link set "$ia" up ||
	    fail "$sw:$ia into br0"
	_pm_addrs "$n" "$ib" "$addrs"
}

# lo_addrs NS FIRST COUNT: COUNT consecutive IPv4 /32s from FIRST on lo
# in NS (local addresses for many sessions, e.g. bgpgen --sessions).
lo_addrs() {
	local n=$1 first=$2 count=$3 a b c d v i
	IFS=. read -r a b c d <<<"$first"
	v=$(((a << 24) | (b << 16) | (c << 8) | d))
	for ((i = 0; i < count; i++)); do
		printf 'addr add %d.%d.%d.%d/32 dev lo\n' \
		    $(((v + i) >> 24 & 255)) $(((v + i) >> 16 & 255)) \
		    $(((v + i) >> 8 & 255)) $(((v + i) & 255))
	done | ip -n "$(ns "$n")" -batch - || fail "lo addresses in $n"
}

_pm_addrs() {
	local n=$1 ifn=$2 list=$3 addr
	local IFS=,
	for addr in $list; do
		case $addr in
		*:*) ip -n "$(ns "$n")" -6 addr add "$addr" dev "$ifn" nodad ;;
		*) ip -n "$(ns "$n")" addr add "$addr" dev "$ifn" ;;
		esac || fail "address $addr on $n:$ifn"
	done
	ip -n "$(ns "$n")" link set "$ifn" up || fail "link up $n:$ifn"
}

# ---------------------------------------------------------------------------
# Helpers for generators: key=value argument lists.

# _pm_kv ALLOWED ARGS...: check every ARG is key=value with key in the
# space-separated ALLOWED list, then print "declare" lines for eval.
_pm_kv() {
	local allowed=" $1 " a k
	shift
	for a in "$@"; do
		k=${a%%=*}
		[ "$k" != "$a" ] || fail "bad argument '$a' (want key=value)"
		case $allowed in
		*" $k "*) ;;
		*) fail "unknown key '$k' (allowed:$allowed)" ;;
		esac
		printf '%s=%q\n' "$k" "${a#*=}"
	done
}

_pm_is_v6() {
	case $1 in *:*) return 0 ;; esac
	return 1
}

_pm_afi() {
	if _pm_is_v6 "$1"; then echo ipv6; else echo ipv4; fi
}

# Identifier from an address or prefix: 192.0.2.1 -> 192_0_2_1.
_pm_ident() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9' '_'
}

# Value of a "# pm-KEY: value" marker in a generated config.
_pm_marker() {
	sed -n "s/^[#!] pm-$2: //p" "$1" | head -1
}

_pm_bool() {
	case ${1:-0} in 1 | on | yes | true) return 0 ;; esac
	return 1
}

# ---------------------------------------------------------------------------
# BIRD 2

_bird_sock() {
	printf '%s/%s.bird.ctl' "$PM_TMP" "$1"
}

# birdc_ NS ARGS...: birdc against the BIRD in namespace NS.
birdc_() {
	local n=$1
	shift
	timeout 10 birdc -s "$(_bird_sock "$n")" "$@"
}

_bird_proto() {
	printf 'p_%s' "$(_pm_ident "$1")"
}

# bird_conf FILE rid=ID asn=N [originate="P ..."] [debug=1]
# Each originated prefix gets its own static protocol (see bird_withdraw).
bird_conf() {
	local file=$1 rid= asn= originate= debug=1 p proto afi
	shift
	eval "$(_pm_kv "rid asn originate debug" "$@")"
	[ -n "$rid" ] && [ -n "$asn" ] || fail "bird_conf: rid and asn needed"
	{
		echo "# generated by $PM_TEST"
		echo "# pm-asn: $asn"
		echo "router id $rid;"
		echo "log \"${file%.conf}.log\" all;"
		_pm_bool "$debug" && echo "debug protocols { states, events, packets };"
		echo "timeformat protocol iso long;"
		echo "protocol device { scan time 10; }"
		# Connected routes, so that iBGP (multihop, recursive next
		# hops) resolves next hops; the BGP export filters never
		# announce them.  A next hop that does not resolve leaves the
		# route in the table as "unreachable", still visible.
		echo "protocol direct { ipv4; ipv6; }"
		for p in $originate; do
			proto="s_$(_pm_ident "$p")"
			afi=$(_pm_afi "$p")
			echo "protocol static $proto { $afi; route $p blackhole; }"
		done
	} >"$file"
}

# bird_peer FILE addr=IP asn=N [local_as=N] [source=IP] [port=N]
#    [password=S] [addpath=on|rx|tx] [gr=1] [gr_time=30] [passive=1]
#    [rrclient=1] [families="ipv4 ipv6"] [lp=N] [prepend=N] [nhself=1]
#    [hold=9]
# The protocol is named after the neighbour address (p_192_0_2_1), so the
# other helpers take the peer address.
bird_peer() {
	local file=$1 addr= asn= local_as= source= port= password= addpath=
	local gr= gr_time=30 passive= rrclient= families= lp= prepend= nhself=
	local hold=9 f
	shift
	eval "$(_pm_kv "addr asn local_as source port password addpath gr \
	    gr_time passive rrclient families lp prepend nhself hold" "$@")"
	[ -n "$addr" ] && [ -n "$asn" ] || fail "bird_peer: addr and asn needed"
	[ -n "$local_as" ] || local_as=$(_pm_marker "$file" asn)
	[ -n "$families" ] || families=$(_pm_afi "$addr")
	{
		echo "protocol bgp $(_bird_proto "$addr") {"
		if [ -n "$source" ]; then
			echo "	local $source as $local_as;"
		else
			echo "	local as $local_as;"
		fi
		echo "	neighbor $addr${port:+ port $port} as $asn;"
		echo "	hold time $hold; keepalive time $(((hold + 2) / 3));"
		echo "	connect retry time 1; connect delay time 1;"
		echo "	error wait time 1, 2;"
		[ -n "$password" ] && echo "	password \"$password\";"
		_pm_bool "$passive" && echo "	passive on;"
		_pm_bool "$rrclient" && echo "	rr client;"
		if _pm_bool "$gr"; then
			echo "	graceful restart on;"
			echo "	graceful restart time $gr_time;"
		else
			echo "	graceful restart off;"
		fi
		for f in $families; do
			echo "	$f {"
			echo "		import all;"
			echo "		export filter {"
			echo "			if ! (source ~ [RTS_STATIC, RTS_BGP]) then reject;"
			[ -n "$lp" ] && echo "			bgp_local_pref = $lp;"
			[ -n "$prepend" ] && echo "			bgp_path.prepend($prepend);"
			echo "			accept;"
			echo "		};"
			_pm_bool "$nhself" && echo "		next hop self;"
			[ -n "$addpath" ] && echo "		add paths $addpath;"
			echo "	};"
		done
		echo "}"
	} >>"$file"
}

# start_bird NS CONF [BIRD-ARGS...]: start bird2 in the foreground inside NS
# and wait for its control socket.
start_bird() {
	local n=$1 conf=$2 sock out key="bird:$1"
	shift 2
	sock=$(_bird_sock "$n")
	out="$PM_TMP/$n.bird.out"
	bird -p -c "$conf" >>"$out" 2>&1 ||
	    fail "bird rejected $conf: $(cat "$out")"
	rm -f "$sock"
	ip netns exec "$(ns "$n")" bird -f -c "$conf" -s "$sock" \
	    -P "$PM_TMP/$n.bird.pid" "$@" >>"$out" 2>&1 &
	PM_PID[$key]=$!
	PM_CONF[$key]=$conf
	PM_ARGS[$key]="$*"
	_pm_daemon "$key"
	wait_until 10 birdc_ "$n" show status ||
	    fail "bird in $n did not come up"
	log "bird up in $n (pid ${PM_PID[$key]})"
}

# bird_reconfigure NS: re-read the config file (after editing it).
bird_reconfigure() {
	birdc_ "$1" configure | grep -q -E 'Reconfigured|Reconfiguration in progress' ||
	    fail "bird reconfigure in $1 failed: $(birdc_ "$1" configure)"
}

# bird_withdraw NS PREFIX / bird_announce NS PREFIX: disable / enable the
# static protocol originating PREFIX.
bird_withdraw() {
	birdc_ "$1" disable "s_$(_pm_ident "$2")" >/dev/null ||
	    fail "bird $1: disable s_$(_pm_ident "$2")"
}

bird_announce() {
	birdc_ "$1" enable "s_$(_pm_ident "$2")" >/dev/null ||
	    fail "bird $1: enable s_$(_pm_ident "$2")"
}

# bird_state NS PEER: BGP state of the session to PEER (Established, Active,
# Connect, ...), from the Info column of `show protocols`.
bird_state() {
	birdc_ "$1" show protocols all "$(_bird_proto "$2")" |
	    awk '$1 == "BGP" && $2 == "state:" { print $3; exit }'
}

bird_established() {
	[ "$(bird_state "$1" "$2")" = Established ]
}

# bird_route NS PREFIX: every path BIRD holds for PREFIX, normalised.
bird_route() {
	birdc_ "$1" show route "$2" all | awk '
	function flush() {
		if (have)
			printf "nh=%s path=%s lp=%s origin=%s best=%d proto=%s" \
			    " orig=%s cl=%s\n",
			    nh, path, lp, origin, best, proto, orig, cl
		have = 0
	}
	/^[0-9a-fA-F:.]+\/[0-9]+[ \t]+[a-z]+ \[/ || /^[ \t]+[a-z]+ \[/ {
		flush()
		have = 1; nh = "-"; path = ""; lp = "-"; origin = "-"
		orig = "-"; cl = ""
		best = ($0 ~ /\] \* /) ? 1 : 0
		s = $0; sub(/^[^[]*\[/, "", s); split(s, w, " "); proto = w[1]
		next
	}
	/^\tBGP\.next_hop:/ { nh = $2 }
	/^\tBGP\.local_pref:/ { lp = $2 }
	/^\tBGP\.originator_id:/ { orig = $2 }
	/^\tBGP\.cluster_list:/ {
		cl = ""
		for (i = 2; i <= NF; i++) cl = cl (cl == "" ? "" : ",") $i
	}
	/^\tBGP\.origin:/ {
		origin = ($2 == "IGP") ? "i" : ($2 == "EGP") ? "e" : "?"
	}
	/^\tBGP\.as_path:/ {
		path = ""
		for (i = 2; i <= NF; i++) {
			gsub(/[{}()]/, "", $i)
			if ($i != "") path = path (path == "" ? "" : ",") $i
		}
	}
	END { flush() }'
}

# bird_route_count NS PEER: routes BIRD holds from the session to PEER
# (its primary table of the peer's family).
bird_route_count() {
	birdc_ "$1" show route protocol "$(_bird_proto "$2")" count |
	    awk '/ of .* routes for / { print $1; exit }'
}

# bird_proto_all NS PEER: `show protocols all` for the session to PEER.
bird_proto_all() {
	birdc_ "$1" show protocols all "$(_bird_proto "$2")"
}

# bird_counter NS PEER DIR AFI: first number (received) of the "Import
# updates" (DIR=import) or "Export updates" (DIR=export) line of the AFI
# channel of the session to PEER.
bird_counter() {
	bird_proto_all "$1" "$2" | awk -v dir="$3" -v afi="$4" '
	/Channel / { ch = $2 }
	ch == afi && tolower($1) == dir && $2 == "updates:" { print $3; exit }'
}

# bird_log_count NS PEER TEXT: lines "<proto>: TEXT..." in BIRD's debug log
# (bird_conf turns on packet tracing: "Got ROUTE-REFRESH", "Got UPDATE").
bird_log_count() {
	local f=${PM_CONF[bird:$1]%.conf}.log
	grep -c -F "$(_bird_proto "$2"): $3" "$f"
}

# ---------------------------------------------------------------------------
# GoBGP

# gobgp_ NS ARGS...: the gobgp client against the gobgpd in NS.
gobgp_() {
	local n=$1
	shift
	timeout 10 ip netns exec "$(ns "$n")" gobgp -p "$PM_GOBGP_PORT" "$@"
}

# gobgp_conf FILE rid=ID asn=N [originate="P ..."] [lp=N] [prepend=ASN]
# GoBGP cannot originate from its config file; the prefixes are recorded in
# the file and added by start_gobgp with `gobgp global rib add`, with ORIGIN
# IGP (like BIRD's and FRR's), LOCAL_PREF lp and AS_PATH prepend (GoBGP
# prepends its own AS on eBGP after that).
gobgp_conf() {
	local file=$1 rid= asn= originate= lp= prepend=
	shift
	eval "$(_pm_kv "rid asn originate lp prepend" "$@")"
	[ -n "$rid" ] && [ -n "$asn" ] || fail "gobgp_conf: rid and asn needed"
	cat >"$file" <<EOF
# generated by $PM_TEST
# pm-asn: $asn
# pm-originate: $originate
# pm-attrs: origin igp${lp:+ local-pref $lp}${prepend:+ aspath $prepend}
[global.config]
  as = $asn
  router-id = "$rid"
  port = 179
EOF
}

# gobgp_peer FILE addr=IP asn=N [source=IP] [port=N] [password=S]
#    [addpath=rx|tx|on] [gr=1] [passive=1] [rrclient=1] [families=...]
#    [hold=9]
gobgp_peer() {
	local file=$1 addr= asn= source= port= password= addpath= gr= passive=
	local rrclient= families= hold=9 f rx tx
	shift
	eval "$(_pm_kv "addr asn source port password addpath gr passive \
	    rrclient families hold" "$@")"
	[ -n "$addr" ] && [ -n "$asn" ] || fail "gobgp_peer: addr and asn needed"
	[ -n "$families" ] || families=$(_pm_afi "$addr")
	case $addpath in
	'') rx=false tx=0 ;;
	rx) rx=true tx=0 ;;
	tx) rx=false tx=8 ;;
	on) rx=true tx=8 ;;
	*) fail "gobgp_peer: addpath=$addpath" ;;
	esac
	{
		echo
		echo "[[neighbors]]"
		echo "  [neighbors.config]"
		echo "    neighbor-address = \"$addr\""
		echo "    peer-as = $asn"
		[ -n "$password" ] && echo "    auth-password = \"$password\""
		echo "  [neighbors.timers.config]"
		echo "    connect-retry = 1"
		echo "    hold-time = $hold"
		echo "    keepalive-interval = $(((hold + 2) / 3))"
		echo "    idle-hold-time-after-reset = 1"
		echo "  [neighbors.transport.config]"
		[ -n "$source" ] && echo "    local-address = \"$source\""
		[ -n "$port" ] && echo "    remote-port = $port"
		_pm_bool "$passive" && echo "    passive-mode = true"
		if _pm_bool "$rrclient"; then
			echo "  [neighbors.route-reflector.config]"
			echo "    route-reflector-client = true"
		fi
		if _pm_bool "$gr"; then
			echo "  [neighbors.graceful-restart.config]"
			echo "    enabled = true"
			echo "    restart-time = 30"
		fi
		for f in $families; do
			echo "  [[neighbors.afi-safis]]"
			echo "    [neighbors.afi-safis.config]"
			echo "      afi-safi-name = \"$f-unicast\""
			if [ -n "$addpath" ]; then
				echo "    [neighbors.afi-safis.add-paths.config]"
				echo "      receive = $rx"
				echo "      send-max = $tx"
			fi
			if _pm_bool "$gr"; then
				echo "    [neighbors.afi-safis.mp-graceful-restart.config]"
				echo "      enabled = true"
			fi
		done
	} >>"$file"
}

# start_gobgp NS CONF [GOBGPD-ARGS...]: start gobgpd inside NS, wait for its
# API, then originate the prefixes recorded by gobgp_conf.
start_gobgp() {
	local n=$1 conf=$2 out key="gobgp:$1" p
	shift 2
	out="$PM_TMP/$n.gobgp.log"
	gobgpd -d -f "$conf" -t toml >>"$out" 2>&1 ||
	    fail "gobgpd rejected $conf: $(tail -5 "$out")"
	ip netns exec "$(ns "$n")" gobgpd -f "$conf" -t toml -p -l debug \
	    --api-hosts "127.0.0.1:$PM_GOBGP_PORT" --pprof-disable \
	    "$@" >>"$out" 2>&1 &
	PM_PID[$key]=$!
	PM_CONF[$key]=$conf
	PM_ARGS[$key]="$*"
	_pm_daemon "$key"
	wait_until 10 gobgp_ "$n" global || fail "gobgpd in $n did not come up"
	for p in $(_pm_marker "$conf" originate); do
		# shellcheck disable=SC2046
		gobgp_originate "$n" "$p" $(_pm_marker "$conf" attrs)
	done
	log "gobgpd up in $n (pid ${PM_PID[$key]})"
}

# gobgp_originate NS PREFIX [ATTRS...] / gobgp_withdraw NS PREFIX
gobgp_originate() {
	local n=$1 p=$2
	shift 2
	gobgp_ "$n" global rib add -a "$(_pm_afi "$p")" "$p" "$@" >/dev/null ||
	    fail "gobgp $n: rib add $p $*"
}

gobgp_withdraw() {
	gobgp_ "$1" global rib del -a "$(_pm_afi "$2")" "$2" >/dev/null ||
	    fail "gobgp $1: rib del $2"
}

# gobgp_neighbor NS PEER: `gobgp neighbor PEER -j` (state, counters).
gobgp_neighbor() {
	gobgp_ "$1" neighbor "$2" -j
}

gobgp_state() {
	gobgp_neighbor "$1" "$2" | jq -r '.state.session_state |
	    tostring | {"1":"idle","2":"connect","3":"active","4":"opensent",
	    "5":"openconfirm","6":"established"}[.] // .'
}

gobgp_established() {
	[ "$(gobgp_state "$1" "$2")" = established ]
}

# gobgp_counter NS PEER DIR TYPE: message counter, e.g. received update,
# sent refresh.
gobgp_counter() {
	gobgp_neighbor "$1" "$2" |
	    jq -r --arg d "$3" --arg t "$4" '.state.messages[$d][$t] // 0'
}

# gobgp_route NS PREFIX: every path in gobgpd's global RIB for PREFIX.
gobgp_route() {
	gobgp_ "$1" global rib -a "$(_pm_afi "$2")" "$2" -j | jq -r '
	(if type == "object" then [.[]] | add else . end) // [] | .[] |
	. as $p |
	([.attrs[] | select(.type == 3) | .nexthop] +
	 [.attrs[] | select(.type == 14) | .nexthop] + ["-"])[0] as $nh |
	([.attrs[] | select(.type == 2) | .as_paths[]? | .asns[]] |
	 map(tostring) | join(",")) as $path |
	([.attrs[] | select(.type == 5) | .value] + ["-"])[0] as $lp |
	([.attrs[] | select(.type == 1) | .value] + [-1])[0] as $o |
	([.attrs[] | select(.type == 9) | .value] + ["-"])[0] as $orig |
	([.attrs[] | select(.type == 10) | .value[]?] | join(",")) as $cl |
	"nh=\($nh) path=\($path) lp=\($lp) origin=\(["i","e","?"][$o] // "-")" +
	" best=\(if $p.best then 1 else 0 end)" +
	" stale=\(if $p.stale then 1 else 0 end)" +
	" peer=\($p["neighbor-ip"] // "local") orig=\($orig) cl=\($cl)"'
}

# ---------------------------------------------------------------------------
# FRR bgpd (alone, without zebra)

_frr_dir() {
	printf '%s/%s.frr' "$PM_TMP" "$1"
}

# vtysh_ NS CMD...: vtysh -c CMD ... against the bgpd in NS.
vtysh_() {
	local n=$1 c args=()
	shift
	for c in "$@"; do
		args+=(-c "$c")
	done
	timeout 10 vtysh --vty_socket "$(_frr_dir "$n")" "${args[@]}"
}

# frr_conf FILE rid=ID asn=N [originate="P ..."] [gr=1]
frr_conf() {
	local file=$1 rid= asn= originate= gr= p
	shift
	eval "$(_pm_kv "rid asn originate gr" "$@")"
	[ -n "$rid" ] && [ -n "$asn" ] || fail "frr_conf: rid and asn needed"
	{
		echo "! generated by $PM_TEST"
		echo "! pm-asn: $asn"
		echo "frr defaults traditional"
		echo "hostname $(basename "${file%.conf}")"
		echo "log file ${file%.conf}.log debugging"
		echo "debug bgp neighbor-events"
		echo "debug bgp updates"
		echo "!"
		echo "router bgp $asn"
		echo " bgp router-id $rid"
		echo " no bgp ebgp-requires-policy"
		echo " no bgp network import-check"
		echo " no bgp default ipv4-unicast"
		echo " bgp log-neighbor-changes"
		# FRR is a graceful-restart helper by default: it advertises
		# the capability and then leaves without a Cease on SIGTERM,
		# so its peers keep its routes as stale.  Only with gr=1.
		if _pm_bool "$gr"; then
			echo " bgp graceful-restart"
		else
			echo " bgp graceful-restart-disable"
		fi
		echo " timers bgp 3 9"
		for p in $originate; do
			echo " address-family $(_pm_afi "$p") unicast"
			echo "  network $p"
			echo " exit-address-family"
		done
		echo "exit"
		echo "!"
	} >"$file"
}

# frr_peer FILE addr=IP asn=N [source=IP] [port=N] [password=S]
#    [addpath=tx] [passive=1] [rrclient=1] [families=...] [lp=N]
#    [prepend=N] [nhself=1]
frr_peer() {
	local file=$1 addr= asn= source= port= password= addpath= passive=
	local rrclient= families= lp= prepend= nhself= f rm local_as
	shift
	eval "$(_pm_kv "addr asn source port password addpath passive \
	    rrclient families lp prepend nhself" "$@")"
	[ -n "$addr" ] && [ -n "$asn" ] || fail "frr_peer: addr and asn needed"
	[ -n "$families" ] || families=$(_pm_afi "$addr")
	local_as=$(_pm_marker "$file" asn)
	rm="PM-OUT-$(_pm_ident "$addr")"
	{
		if [ -n "$lp$prepend" ]; then
			echo "route-map $rm permit 10"
			[ -n "$lp" ] && echo " set local-preference $lp"
			[ -n "$prepend" ] && echo " set as-path prepend $prepend"
			echo "exit"
		fi
		echo "router bgp $local_as"
		echo " neighbor $addr remote-as $asn"
		echo " neighbor $addr timers connect 1"
		[ -n "$source" ] && echo " neighbor $addr update-source $source"
		[ -n "$port" ] && echo " neighbor $addr port $port"
		[ -n "$password" ] && echo " neighbor $addr password $password"
		_pm_bool "$passive" && echo " neighbor $addr passive"
		for f in $families; do
			echo " address-family $f unicast"
			echo "  neighbor $addr activate"
			_pm_bool "$rrclient" &&
			    echo "  neighbor $addr route-reflector-client"
			_pm_bool "$nhself" && echo "  neighbor $addr next-hop-self"
			[ "$addpath" = tx ] &&
			    echo "  neighbor $addr addpath-tx-all-paths"
			[ -n "$lp$prepend" ] &&
			    echo "  neighbor $addr route-map $rm out"
			echo " exit-address-family"
		done
		echo "exit"
		echo "!"
	} >>"$file"
}

# start_frr NS CONF: FRR bgpd without zebra inside NS; its vty socket and
# pid file live in the temp dir.
start_frr() {
	local n=$1 conf=$2 dir out key="frr:$1" name
	dir=$(_frr_dir "$n")
	mkdir -p "$dir"
	out="$PM_TMP/$n.frr.out"
	name="${PM_PREFIX}$n"
	# -N makes bgpd create /var/run/frr/NAME; remove it afterwards.
	PM_FRR_RUNDIRS+=("/var/run/frr/$name")
	/usr/lib/frr/bgpd -C -S -u root -g root -f "$conf" >>"$out" 2>&1 ||
	    fail "bgpd rejected $conf: $(tail -5 "$out")"
	ip netns exec "$(ns "$n")" /usr/lib/frr/bgpd -Z -S -f "$conf" \
	    -i "$dir/bgpd.pid" --vty_socket "$dir" -N "$name" -P 0 \
	    -u root -g root >>"$out" 2>&1 &
	PM_PID[$key]=$!
	PM_CONF[$key]=$conf
	PM_ARGS[$key]=
	_pm_daemon "$key"
	wait_until 10 vtysh_ "$n" "show bgp summary" ||
	    fail "FRR bgpd in $n did not come up"
	log "frr bgpd up in $n (pid ${PM_PID[$key]})"
}

# frr_neighbor NS PEER: `show bgp neighbors PEER json`, the neighbour object.
frr_neighbor() {
	vtysh_ "$1" "show bgp neighbors $2 json" | jq --arg a "$2" '.[$a]'
}

frr_state() {
	frr_neighbor "$1" "$2" | jq -r '.bgpState // "-"'
}

frr_established() {
	[ "$(frr_state "$1" "$2")" = Established ]
}

# frr_counter NS PEER KEY: a messageStats counter (updatesRecv,
# routeRefreshRecv, routeRefreshSent, ...).
frr_counter() {
	frr_neighbor "$1" "$2" | jq -r --arg k "$3" '.messageStats[$k] // 0'
}

# frr_withdraw NS PREFIX / frr_announce NS PREFIX
frr_withdraw() {
	local asn
	asn=$(_pm_marker "${PM_CONF[frr:$1]}" asn)
	vtysh_ "$1" "configure terminal" "router bgp $asn" \
	    "address-family $(_pm_afi "$2") unicast" "no network $2" >/dev/null ||
	    fail "frr $1: no network $2"
}

frr_announce() {
	local asn
	asn=$(_pm_marker "${PM_CONF[frr:$1]}" asn)
	vtysh_ "$1" "configure terminal" "router bgp $asn" \
	    "address-family $(_pm_afi "$2") unicast" "network $2" >/dev/null ||
	    fail "frr $1: network $2"
}

# frr_route NS PREFIX: every path FRR holds for PREFIX.
frr_route() {
	vtysh_ "$1" "show bgp $(_pm_afi "$2") unicast $2 json" | jq -r '
	.paths // [] | .[] |
	(([.nexthops[]? | select(.scope != "link-local") | .ip] +
	  ["-"])[0]) as $nh |
	"nh=\($nh) path=\(.aspath.string // "" | gsub(" "; ",") |
	    gsub("^Local$"; ""))" +
	" lp=\(.locPrf // "-") origin=\({"IGP":"i","EGP":"e",
	    "incomplete":"?"}[.origin] // "-")" +
	" best=\(if .bestpath.overall then 1 else 0 end)" +
	" stale=\(if .stale then 1 else 0 end)" +
	" peer=\(.peer.peerId // "local")" +
	" orig=\(.originatorId // "-")" +
	" cl=\(.clusterList | if type == "object" then .list else null end //
	    [] | map(tostring) | join(","))"'
}

# ---------------------------------------------------------------------------
# podmesh-bgpd

PODMESH_BGPD="$PODMESH_BUILD/bgp/podmesh-bgpd"
PODMESHCTL="$PODMESH_BUILD/ctl/podmeshctl"

# require_podmesh: fail (not skip) when the binaries are missing.
require_podmesh() {
	[ -x "$PODMESH_BGPD" ] ||
	    fail "podmesh-bgpd not built: $PODMESH_BGPD (PODMESH_BUILD=$PODMESH_BUILD)"
	[ -x "$PODMESHCTL" ] ||
	    fail "podmeshctl not built: $PODMESHCTL (PODMESH_BUILD=$PODMESH_BUILD)"
}

_podmesh_sock() {
	local conf=${PM_CONF[podmesh:$1]:-}
	if [ -n "$conf" ]; then
		sed -n 's/^control-socket: *//p' "$conf" | head -1
	else
		printf '%s/%s.podmesh.sock' "$PM_TMP" "$1"
	fi
}

# podmeshctl_ NS ARGS...: podmeshctl against the podmesh-bgpd of NS.
podmeshctl_() {
	local n=$1
	shift
	timeout 10 "$PODMESHCTL" --socket "$(_podmesh_sock "$n")" "$@"
}

# podmesh_conf FILE rid=ID asn=N [originate="P ..."] [listen=ADDR]
#    [port=179] [hold=9] [retry=1] [cluster=ID] [rr=1] [loglevel=LEVEL]
# cluster=ID turns on route-reflector mode with that cluster id; rr=1 turns
# it on with the default cluster id (the router id).
podmesh_conf() {
	local file=$1 rid= asn= originate= listen= port=179 hold=9 retry=1
	local cluster= rr= loglevel= p n
	shift
	eval "$(_pm_kv "rid asn originate listen port hold retry cluster rr \
	    loglevel" "$@")"
	[ -n "$rid" ] && [ -n "$asn" ] || fail "podmesh_conf: rid and asn needed"
	n=$(basename "${file%.conf}")
	n=${n%.yaml}
	{
		echo "# generated by $PM_TEST"
		echo "router-id: $rid"
		echo "asn: $asn"
		if [ -n "$listen" ]; then
			echo "listen: {address: $listen, port: $port}"
		else
			echo "listen: {port: $port}"
		fi
		echo "control-socket: $PM_TMP/$n.podmesh.sock"
		echo "hold-time: $hold"
		echo "connect-retry: $retry"
		if [ -n "$cluster" ]; then
			echo "route-reflector: {cluster-id: $cluster}"
		elif _pm_bool "$rr"; then
			echo "route-reflector: {}"
		fi
		[ -n "$loglevel" ] && echo "log-level: $loglevel"
		if [ -n "$originate" ]; then
			echo "originate:"
			for p in $originate; do
				echo "  - $p"
			done
		fi
		echo "peers:"
	} >"$file"
}

# podmesh_peer FILE addr=IP|range=PREFIX asn=N [port=N] [passive=1]
#    [rrclient=1] [password=S] [addpaths=off|receive|send|both]
#    [families="ipv4 ipv6"] [gr=1] [max=N] [hold=N]
# range=PREFIX writes a dynamic-neighbour entry (any peer in PREFIX), with
# max-sessions N when max is given.
podmesh_peer() {
	local file=$1 addr= range= asn= port= passive= rrclient= password=
	local addpaths= families= gr= max= hold=
	shift
	eval "$(_pm_kv "addr range asn port passive rrclient password \
	    addpaths families gr max hold" "$@")"
	[ -n "$addr$range" ] && [ -n "$asn" ] ||
	    fail "podmesh_peer: addr or range, and asn needed"
	{
		if [ -n "$range" ]; then
			echo "  - range: $range"
			[ -n "$max" ] && echo "    max-sessions: $max"
		else
			echo "  - address: $addr"
		fi
		echo "    asn: $asn"
		[ -n "$hold" ] && echo "    hold-time: $hold"
		[ -n "$port" ] && echo "    port: $port"
		_pm_bool "$passive" && echo "    passive: true"
		_pm_bool "$rrclient" && echo "    rr-client: true"
		[ -n "$password" ] && echo "    password: $password"
		[ -n "$addpaths" ] && echo "    add-paths: $addpaths"
		[ -n "$families" ] &&
		    echo "    families: [${families// /, }]"
		_pm_bool "$gr" && echo "    graceful-restart: true"
	} >>"$file"
	return 0
}

# start_podmesh NS CONF: podmesh-bgpd -c CONF inside NS, logging to a file;
# waits until its control socket answers.
start_podmesh() {
	local n=$1 conf=$2 out key="podmesh:$1"
	require_podmesh
	out="$PM_TMP/$n.podmesh.log"
	"$PODMESH_BGPD" --check -c "$conf" >>"$out" 2>&1 ||
	    fail "podmesh-bgpd --check rejected $conf: $(tail -20 "$out")"
	PM_CONF[$key]=$conf
	rm -f "$(_podmesh_sock "$n")"
	ip netns exec "$(ns "$n")" "$PODMESH_BGPD" -c "$conf" >>"$out" 2>&1 &
	PM_PID[$key]=$!
	PM_ARGS[$key]=
	_pm_daemon "$key"
	wait_until 10 _podmesh_ready "$n" ||
	    fail "podmesh-bgpd in $n did not come up (control socket $(_podmesh_sock "$n"))"
	log "podmesh-bgpd up in $n (pid ${PM_PID[$key]})"
}

_podmesh_ready() {
	kill -0 "${PM_PID[podmesh:$1]}" 2>/dev/null || return 2
	[ -S "$(_podmesh_sock "$1")" ] &&
	    podmeshctl_ "$1" bgp peers -o json | jq -e 'type == "array"'
}

# podmesh_peer_state NS PEER: RFC 4271 state name of the session to PEER.
podmesh_peer_state() {
	podmeshctl_ "$1" bgp peers -o json |
	    jq -r --arg a "$2" '.[] | select(.address == $a) | .state'
}

podmesh_established() {
	[ "$(podmesh_peer_state "$1" "$2")" = Established ]
}

# podmesh_peer_field NS PEER FIELD: one field of the peer object.
podmesh_peer_field() {
	podmeshctl_ "$1" bgp peers -o json |
	    jq -r --arg a "$2" --arg f "$3" '.[] | select(.address == $a) |
	    .[$f] | if type == "object" or type == "array" then tojson
	    else . end'
}

# podmesh_route NS PREFIX: every path podmesh-bgpd holds for PREFIX.
podmesh_route() {
	podmeshctl_ "$1" bgp routes -o json | jq -r --arg p "$2" '
	.[] | select(.prefix == $p) | .paths[] |
	"nh=\(.next_hop // "-") path=\(.as_path // [] | map(tostring) |
	    join(","))" +
	" lp=\(.local_pref // "-") origin=\(.origin // "-" |
	    tostring | {"igp":"i","IGP":"i","i":"i","0":"i","egp":"e",
	    "EGP":"e","e":"e","1":"e","incomplete":"?","INCOMPLETE":"?",
	    "?":"?","2":"?"}[.] // .)" +
	" best=\(if .best then 1 else 0 end)" +
	" stale=\(if .stale then 1 else 0 end)" +
	" peer=\(.peer // "local") orig=\(.originator_id // "-")" +
	" cl=\(.cluster_list // [] | join(","))"'
}

# podmesh_count NS STATE: number of sessions in STATE (Established, ...).
podmesh_count() {
	podmeshctl_ "$1" bgp peers -o json |
	    jq --arg s "$2" '[.[] | select(.state == $s)] | length'
}

# podmesh_npaths NS [PEER]: paths in podmesh's RIB (learned from PEER).
podmesh_npaths() {
	podmeshctl_ "$1" bgp routes -o json | jq --arg a "${2:-}" '
	    [.[] | .paths[] | select($a == "" or .peer == $a)] | length'
}

# podmesh_asan: podmesh-bgpd is an AddressSanitizer build, whose RSS says
# little (freed memory sits in ASan's quarantine).
podmesh_asan() {
	nm -D "$PODMESH_BGPD" 2>/dev/null | grep -q __asan_init
}

# podmesh_rss NS: VmRSS of the podmesh-bgpd in NS, kB.
podmesh_rss() {
	awk '/^VmRSS:/ { print $2 }' "/proc/${PM_PID[podmesh:$1]}/status"
}

# podmesh_finish NS: SIGTERM the podmesh-bgpd in NS; it must exit 0 and its
# log (every run in NS) must hold no sanitizer report (CI runs the tests on
# an ASan/UBSan build, where LeakSanitizer reports at exit).
podmesh_finish() {
	local pid=${PM_PID[podmesh:$1]:-} rc i re f=$PM_TMP/$1.podmesh.log
	re='AddressSanitizer|LeakSanitizer|runtime error'
	[ -n "$pid" ] || fail "podmesh_finish: no podmesh-bgpd running in $1"
	kill -TERM "$pid"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "podmesh-bgpd in $1 ignored SIGTERM"
	wait "$pid"
	rc=$?
	unset "PM_PID[podmesh:$1]"
	if grep -E -q "$re" "$f"; then
		fail "sanitizer report in the log of podmesh-bgpd in $1:" \
		    $'\n'"$(grep -E -A30 "$re" "$f" | head -60)"
	fi
	[ "$rc" -eq 0 ] ||
	    fail "podmesh-bgpd in $1 exited with status $rc on SIGTERM"
	ok "podmesh-bgpd in $1 exited 0 on SIGTERM, no sanitizer report"
}

# podmesh_refresh NS PEER: ask podmesh to send a ROUTE-REFRESH to PEER.
podmesh_refresh() {
	podmeshctl_ "$1" bgp refresh "$2" >/dev/null ||
	    fail "podmeshctl bgp refresh $2 failed"
}

# ---------------------------------------------------------------------------
# Daemon control common to all kinds

_pm_daemon() {
	local d
	for d in "${PM_DAEMONS[@]}"; do
		[ "$d" = "$1" ] && return 0
	done
	PM_DAEMONS+=("$1")
}

# stop_daemon KIND NS [SIGNAL]: stop it (TERM by default; KILL simulates a
# crash) and wait until it is gone.
stop_daemon() {
	local key="$1:$2" sig=${3:-TERM} pid i
	pid=${PM_PID[$key]:-}
	[ -n "$pid" ] || fail "stop_daemon: no $1 running in $2"
	kill "-$sig" "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && fail "$1 in $2 (pid $pid) ignored SIG$sig"
	wait "$pid" 2>/dev/null
	unset "PM_PID[$key]"
	log "$1 in $2 stopped (SIG$sig)"
}

# restart_daemon KIND NS [ARGS...]: start it again with the same config;
# ARGS replace the extra arguments it was started with.
restart_daemon() {
	local kind=$1 n=$2 key="$1:$2" args
	shift 2
	if [ $# -gt 0 ]; then
		args=("$@")
	else
		# shellcheck disable=SC2206
		args=(${PM_ARGS[$key]:-})
	fi
	"start_$kind" "$n" "${PM_CONF[$key]}" "${args[@]}"
}

# daemon_alive KIND NS
daemon_alive() {
	local pid=${PM_PID[$1:$2]:-}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# ---------------------------------------------------------------------------
# Generic assertions over the four kinds (bird, gobgp, frr, podmesh)

# state KIND NS PEER / established KIND NS PEER
state() {
	"${1}_state" "$2" "$3" 2>/dev/null
}

podmesh_state() {
	podmesh_peer_state "$@"
}

established() {
	"${1}_established" "$2" "$3"
}

# expect_established KIND NS PEER [TIMEOUT=20]
expect_established() {
	local t=${4:-20}
	wait_until "$t" established "$1" "$2" "$3" ||
	    fail "$1 in $2: session to $3 not Established within ${t}s" \
	    "(state: $(state "$1" "$2" "$3"))"
	ok "$1 in $2: session to $3 Established"
}

# expect_not_established KIND NS PEER DURATION: never Established during
# DURATION seconds.
expect_not_established() {
	never_within "$4" established "$1" "$2" "$3" ||
	    fail "$1 in $2: session to $3 became Established"
	ok "$1 in $2: session to $3 stayed down for $4 s" \
	    "(state: $(state "$1" "$2" "$3"))"
}

# route KIND NS PREFIX: normalised paths.
route() {
	"${1}_route" "$2" "$3" 2>/dev/null
}

# route_match KIND NS PREFIX K=V...: some path of PREFIX has every K=V.
route_match() {
	local kind=$1 n=$2 p=$3 line kv okay
	shift 3
	while IFS= read -r line; do
		okay=1
		for kv in "$@"; do
			case " $line " in
			*" $kv "*) ;;
			*) okay=0 && break ;;
			esac
		done
		[ "$okay" = 1 ] && return 0
	done < <(route "$kind" "$n" "$p")
	return 1
}

# route_count KIND NS PREFIX: number of paths.
route_count() {
	route "$1" "$2" "$3" | grep -c .
}

# expect_route KIND NS PREFIX [K=V...] [timeout=N]: wait (default 10 s) for
# a path of PREFIX matching every K=V.
expect_route() {
	local kind=$1 n=$2 p=$3 t=10 a args=()
	shift 3
	for a in "$@"; do
		case $a in
		timeout=*) t=${a#timeout=} ;;
		*) args+=("$a") ;;
		esac
	done
	wait_until "$t" route_match "$kind" "$n" "$p" "${args[@]}" ||
	    fail "$kind in $n: no path for $p matching '${args[*]}'" \
	    "within ${t}s; paths held:" $'\n'"$(route "$kind" "$n" "$p")"
	ok "$kind in $n: $p ${args[*]}"
}

# expect_no_route KIND NS PREFIX [TIMEOUT=10]: wait for PREFIX to be gone.
expect_no_route() {
	local t=${4:-10} t0 dt
	t0=$(_pm_now)
	wait_until "$t" _pm_no_route "$1" "$2" "$3" ||
	    fail "$1 in $2: $3 still present after ${t}s:" \
	    $'\n'"$(route "$1" "$2" "$3")"
	dt=$(_pm_secs $(($(_pm_now) - t0)))
	ok "$1 in $2: $3 gone (after ${dt}s, limit ${t}s)"
}

# expect_no_route_all TIMEOUT T0 PREFIX KIND:NS...: PREFIX gone from every
# KIND:NS within TIMEOUT seconds of T0 (a _pm_now timestamp, taken just
# before the withdrawal); logs when each one lost it.
expect_no_route_all() {
	local t=$1 t0=$2 p=$3 d deadline now
	local -A left=()
	shift 3
	for d in "$@"; do
		left[$d]=1
	done
	deadline=$((t0 + $(_pm_us "$t")))
	while [ "${#left[@]}" -gt 0 ]; do
		for d in "${!left[@]}"; do
			_pm_no_route "${d%%:*}" "${d#*:}" "$p" || continue
			now=$(_pm_now)
			unset "left[$d]"
			ok "${d%%:*} in ${d#*:}: $p gone after" \
			    "$(_pm_secs $((now - t0)))s (limit ${t}s)"
			((now <= deadline)) || fail "${d%%:*} in ${d#*:}:" \
			    "$p took longer than ${t}s to go"
		done
		[ "${#left[@]}" -eq 0 ] && break
		if (($(_pm_now) > deadline)); then
			for d in "${!left[@]}"; do
				log "${d%%:*} in ${d#*:} still has $p:" \
				    "$(route "${d%%:*}" "${d#*:}" "$p")"
			done
			fail "$p still present after ${t}s on: ${!left[*]}"
		fi
		sleep 0.02
	done
}

_pm_no_route() {
	local out
	out=$(route "$1" "$2" "$3") || [ -z "$out" ] || return 1
	[ -z "$out" ]
}

# expect_paths KIND NS PREFIX N [TIMEOUT=10]: exactly N paths.
expect_paths() {
	local t=${5:-10}
	wait_until "$t" _pm_npaths "$1" "$2" "$3" "$4" ||
	    fail "$1 in $2: $3 has $(route_count "$1" "$2" "$3") paths," \
	    "expected $4:"$'\n'"$(route "$1" "$2" "$3")"
	ok "$1 in $2: $3 has $4 paths"
}

_pm_npaths() {
	[ "$(route_count "$1" "$2" "$3")" = "$4" ]
}

# ---------------------------------------------------------------------------
# Peer-kind adapters: the same operation on bird, gobgp or frr.

# peer_refresh_rcvd KIND NS PEER: ROUTE-REFRESH messages received from PEER.
peer_refresh_rcvd() {
	case $1 in
	bird) bird_log_count "$2" "$3" "Got ROUTE-REFRESH" ;;
	gobgp) gobgp_counter "$2" "$3" received refresh ;;
	frr) frr_counter "$2" "$3" routeRefreshRecv ;;
	esac
}

# peer_refresh_sent KIND NS PEER
peer_refresh_sent() {
	case $1 in
	bird) bird_log_count "$2" "$3" "Sending ROUTE-REFRESH" ;;
	gobgp) gobgp_counter "$2" "$3" sent refresh ;;
	frr) frr_counter "$2" "$3" routeRefreshSent ;;
	esac
}

# peer_updates_rcvd KIND NS PEER: a count that grows whenever KIND receives
# routes from PEER, even unchanged ones.  BIRD: "Import updates" received
# (routes) of the session's channel (BIRD's "Got UPDATE" trace is rate
# limited, so its log cannot be counted); the others: UPDATE messages.
peer_updates_rcvd() {
	case $1 in
	bird) bird_counter "$2" "$3" import "$(_pm_afi "$3")" ;;
	gobgp) gobgp_counter "$2" "$3" received update ;;
	frr) frr_counter "$2" "$3" updatesRecv ;;
	esac
}

# peer_updates_sent KIND NS PEER: the same for routes sent to PEER; empty
# for FRR, which ignores a ROUTE-REFRESH until it has sent End-of-RIB, and
# sends End-of-RIB only to graceful-restart-capable peers.
peer_updates_sent() {
	case $1 in
	bird) bird_counter "$2" "$3" export "$(_pm_afi "$3")" ;;
	gobgp) gobgp_counter "$2" "$3" sent update ;;
	frr) ;;
	esac
}

# peer_request_refresh KIND NS PEER AFI: make KIND send a ROUTE-REFRESH to
# PEER.  Returns 2 for GoBGP, which never sends one: it keeps an Adj-RIB-In
# and `softresetin` replays it.
peer_request_refresh() {
	case $1 in
	bird) birdc_ "$2" reload in "$(_bird_proto "$3")" >/dev/null ;;
	gobgp) return 2 ;;
	frr) vtysh_ "$2" "clear bgp $4 unicast $3 soft in" >/dev/null ;;
	esac
}

# peer_withdraw KIND NS PREFIX / peer_announce KIND NS PREFIX
peer_withdraw() {
	"${1}_withdraw" "$2" "$3"
}

peer_announce() {
	case $1 in
	gobgp)
		# shellcheck disable=SC2046
		gobgp_originate "$2" "$3" $(_pm_marker "${PM_CONF[gobgp:$2]}" attrs)
		;;
	*) "${1}_announce" "$2" "$3" ;;
	esac
}

# peer_setup KIND NS RID ASN ORIGINATE MOD PEER_AS PEER...: write a config
# for KIND in NS originating ORIGINATE, with sessions to each PEER (in
# PEER_AS), and start it.  MOD is lp=N (LOCAL_PREF on the routes sent, for
# iBGP) or prepend=ASN (prepended on them, for eBGP) or empty.
peer_setup() {
	local kind=$1 n=$2 rid=$3 asn=$4 orig=$5 mod=$6 peer_as=$7 f a
	shift 7
	# $mod is deliberately unquoted below: empty means no argument.
	# shellcheck disable=SC2086
	case $kind in
	bird)
		f=$PM_TMP/$n.conf
		bird_conf "$f" rid="$rid" asn="$asn" originate="$orig"
		for a in "$@"; do
			bird_peer "$f" addr="$a" asn="$peer_as" $mod
		done
		;;
	frr)
		f=$PM_TMP/$n.conf
		frr_conf "$f" rid="$rid" asn="$asn" originate="$orig"
		for a in "$@"; do
			frr_peer "$f" addr="$a" asn="$peer_as" $mod
		done
		;;
	gobgp)
		f=$PM_TMP/$n.toml
		gobgp_conf "$f" rid="$rid" asn="$asn" originate="$orig" $mod
		for a in "$@"; do
			gobgp_peer "$f" addr="$a" asn="$peer_as"
		done
		;;
	*) fail "peer_setup: unknown kind $kind" ;;
	esac
	"start_$kind" "$n" "$f"
}

# counter_above N CMD...: CMD prints a number greater than N.
counter_above() {
	local n=$1 v
	shift
	v=$("$@" 2>/dev/null)
	[ -n "$v" ] && [ "$v" -gt "$n" ]
}

# not CMD...: succeeds when CMD fails.
not() {
	! "$@"
}

# ---------------------------------------------------------------------------
# Core interop scenario, shared by t_bird.sh, t_gobgp.sh and t_frr.sh.
#
#   xi (KIND, AS PM_AS) --- pm (podmesh, AS PM_AS) --- xe (KIND, AS XE_AS)
#   192.0.2.2, 2001:db8:1::2      .1, ::1 | .1, ::1     198.51.100.2, 2001:db8:2::2
#
# One IPv4 session and one IPv6 session (MP-BGP, IPv6 family only) per link.
# pm originates 198.18.1.0/24 and 2001:db8:100:1::/64; xi 198.18.{2,12}.0/24
# and 2001:db8:100:{2,12}::/64 with LOCAL_PREF 200; xe 198.18.{3,13}.0/24 and
# 2001:db8:100:{3,13}::/64 with its AS prepended once.

# pm_core KIND PM_AS XE_AS
pm_core() {
	local kind=$1 pm_as=$2 xe_as=$3 ll=ll=on n0 u0 r0 v

	[ "$kind" = frr ] && ll=ll=off
	require_podmesh

	step "topology: xi ($kind, iBGP AS $pm_as) - pm (podmesh) - xe ($kind, eBGP AS $xe_as)"
	ns_add pm xi xe
	link_ns pm 192.0.2.1/24,2001:db8:1::1/64 \
	    xi 192.0.2.2/24,2001:db8:1::2/64 $ll
	link_ns pm 198.51.100.1/24,2001:db8:2::1/64 \
	    xe 198.51.100.2/24,2001:db8:2::2/64 $ll

	step "start podmesh and $kind"
	podmesh_conf "$PM_TMP/pm.yaml" rid=192.0.2.1 asn="$pm_as" \
	    originate="198.18.1.0/24 2001:db8:100:1::/64"
	podmesh_peer "$PM_TMP/pm.yaml" addr=192.0.2.2 asn="$pm_as" families=ipv4
	podmesh_peer "$PM_TMP/pm.yaml" addr=2001:db8:1::2 asn="$pm_as" \
	    families=ipv6
	podmesh_peer "$PM_TMP/pm.yaml" addr=198.51.100.2 asn="$xe_as" \
	    families=ipv4
	podmesh_peer "$PM_TMP/pm.yaml" addr=2001:db8:2::2 asn="$xe_as" \
	    families=ipv6
	start_podmesh pm "$PM_TMP/pm.yaml"
	peer_setup "$kind" xi 192.0.2.2 "$pm_as" \
	    "198.18.2.0/24 198.18.12.0/24 2001:db8:100:2::/64 2001:db8:100:12::/64" \
	    lp=200 "$pm_as" 192.0.2.1 2001:db8:1::1
	peer_setup "$kind" xe 198.51.100.2 "$xe_as" \
	    "198.18.3.0/24 198.18.13.0/24 2001:db8:100:3::/64 2001:db8:100:13::/64" \
	    prepend="$xe_as" "$pm_as" 198.51.100.1 2001:db8:2::1

	step "sessions Established on both sides"
	for v in 192.0.2.2 2001:db8:1::2 198.51.100.2 2001:db8:2::2; do
		expect_established podmesh pm "$v" 30
	done
	expect_established "$kind" xi 192.0.2.1
	expect_established "$kind" xi 2001:db8:1::1
	expect_established "$kind" xe 198.51.100.1
	expect_established "$kind" xe 2001:db8:2::1
	v=$(podmesh_peer_field pm 198.51.100.2 asn)
	[ "$v" = "$xe_as" ] ||
	    fail "podmeshctl bgp peers: asn of 198.51.100.2 is '$v', want $xe_as"
	ok "podmeshctl shows peer AS $xe_as"

	step "podmesh -> $kind"
	expect_route "$kind" xi 198.18.1.0/24 nh=192.0.2.1 path= lp=100
	expect_route "$kind" xi 2001:db8:100:1::/64 nh=2001:db8:1::1 path= lp=100
	expect_route "$kind" xe 198.18.1.0/24 nh=198.51.100.1 path="$pm_as"
	expect_route "$kind" xe 2001:db8:100:1::/64 nh=2001:db8:2::1 \
	    path="$pm_as"

	step "$kind -> podmesh"
	expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 path= lp=200 \
	    origin=i best=1
	expect_route podmesh pm 2001:db8:100:2::/64 nh=2001:db8:1::2 path= \
	    lp=200 origin=i best=1
	expect_route podmesh pm 198.18.3.0/24 nh=198.51.100.2 \
	    path="$xe_as,$xe_as" origin=i best=1
	expect_route podmesh pm 2001:db8:100:3::/64 nh=2001:db8:2::2 \
	    path="$xe_as,$xe_as" origin=i best=1
	expect_route podmesh pm 198.18.12.0/24 nh=192.0.2.2 lp=200
	expect_route podmesh pm 198.18.13.0/24 nh=198.51.100.2

	step "transit through podmesh"
	# eBGP: next hop self, own AS prepended, LOCAL_PREF not passed on.
	expect_route "$kind" xe 198.18.2.0/24 nh=198.51.100.1 path="$pm_as"
	expect_route "$kind" xe 2001:db8:100:2::/64 nh=2001:db8:2::1 \
	    path="$pm_as"
	# iBGP: next hop and AS_PATH unchanged, LOCAL_PREF added (RFC 4271
	# 5.1.3, 5.1.5).
	expect_route "$kind" xi 198.18.3.0/24 nh=198.51.100.2 \
	    path="$xe_as,$xe_as" lp=100
	expect_route "$kind" xi 2001:db8:100:3::/64 nh=2001:db8:2::2 \
	    path="$xe_as,$xe_as" lp=100

	step "withdrawal reaches podmesh within 1 s"
	peer_withdraw "$kind" xi 198.18.12.0/24
	expect_no_route podmesh pm 198.18.12.0/24 1
	peer_withdraw "$kind" xi 2001:db8:100:12::/64
	expect_no_route podmesh pm 2001:db8:100:12::/64 1
	peer_withdraw "$kind" xe 198.18.13.0/24
	expect_no_route podmesh pm 198.18.13.0/24 1
	peer_withdraw "$kind" xe 2001:db8:100:13::/64
	expect_no_route podmesh pm 2001:db8:100:13::/64 1
	expect_no_route "$kind" xe 198.18.12.0/24 2
	expect_no_route "$kind" xi 198.18.13.0/24 2
	expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 timeout=0
	expect_route podmesh pm 198.18.3.0/24 nh=198.51.100.2 timeout=0
	peer_announce "$kind" xi 198.18.12.0/24
	expect_route podmesh pm 198.18.12.0/24 nh=192.0.2.2 lp=200
	expect_route "$kind" xe 198.18.12.0/24 nh=198.51.100.1 path="$pm_as"

	step "route refresh: podmesh -> $kind"
	n0=$(peer_refresh_rcvd "$kind" xi 192.0.2.1)
	u0=$(peer_updates_sent "$kind" xi 192.0.2.1)
	podmesh_refresh pm 192.0.2.2
	wait_until 5 counter_above "$n0" peer_refresh_rcvd "$kind" xi 192.0.2.1 ||
	    fail "$kind in xi received no ROUTE-REFRESH from podmesh"
	ok "$kind in xi got podmesh's ROUTE-REFRESH (IPv4)"
	if [ -n "$u0" ]; then
		wait_until 5 counter_above "$u0" peer_updates_sent "$kind" xi 192.0.2.1 ||
		    fail "$kind in xi sent nothing after podmesh's ROUTE-REFRESH"
		ok "$kind in xi re-sent its routes"
	fi
	n0=$(peer_refresh_rcvd "$kind" xe 2001:db8:2::1)
	podmesh_refresh pm 2001:db8:2::2
	wait_until 5 counter_above "$n0" peer_refresh_rcvd "$kind" xe 2001:db8:2::1 ||
	    fail "$kind in xe received no ROUTE-REFRESH from podmesh (IPv6)"
	ok "$kind in xe got podmesh's ROUTE-REFRESH (IPv6)"
	# A malformed ROUTE-REFRESH would have earned a NOTIFICATION.
	never_within 1 not established "$kind" xi 192.0.2.1 ||
	    fail "$kind in xi dropped the session after the ROUTE-REFRESH"
	expect_established podmesh pm 2001:db8:2::2 0
	expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 lp=200
	expect_route podmesh pm 2001:db8:100:3::/64 nh=2001:db8:2::2

	step "route refresh: $kind -> podmesh"
	r0=$(peer_refresh_sent "$kind" xi 192.0.2.1)
	u0=$(peer_updates_rcvd "$kind" xi 192.0.2.1)
	if peer_request_refresh "$kind" xi 192.0.2.1 ipv4; then
		wait_until 5 counter_above "$r0" peer_refresh_sent "$kind" xi 192.0.2.1 ||
		    fail "$kind sent no ROUTE-REFRESH to podmesh" \
		    "(did podmesh advertise the Route Refresh capability?)"
		wait_until 5 counter_above "$u0" peer_updates_rcvd "$kind" xi 192.0.2.1 ||
		    fail "podmesh sent no UPDATE after $kind's ROUTE-REFRESH"
		ok "podmesh answered $kind's ROUTE-REFRESH"
		expect_route "$kind" xi 198.18.1.0/24 nh=192.0.2.1 path= lp=100
	else
		log "$kind cannot send ROUTE-REFRESH; direction not tested"
	fi

	step "peer restart: $kind in xi stops (Cease), comes back"
	stop_daemon "$kind" xi TERM
	wait_until 5 not podmesh_established pm 192.0.2.2 ||
	    fail "podmesh still Established with a stopped peer"
	expect_no_route podmesh pm 198.18.2.0/24 5
	expect_no_route podmesh pm 2001:db8:100:2::/64 5
	expect_no_route "$kind" xe 198.18.2.0/24 5
	restart_daemon "$kind" xi
	expect_established podmesh pm 192.0.2.2 20
	expect_established podmesh pm 2001:db8:1::2 20
	expect_route podmesh pm 198.18.2.0/24 nh=192.0.2.2 path= lp=200
	expect_route podmesh pm 2001:db8:100:2::/64 nh=2001:db8:1::2 lp=200
	expect_route "$kind" xi 198.18.1.0/24 nh=192.0.2.1 path= lp=100
	expect_route "$kind" xe 198.18.2.0/24 nh=198.51.100.1 path="$pm_as"

	step "peer crash: $kind in xe killed (no NOTIFICATION), comes back"
	stop_daemon "$kind" xe KILL
	wait_until 5 not podmesh_established pm 198.51.100.2 ||
	    fail "podmesh still Established with a killed peer"
	expect_no_route podmesh pm 198.18.3.0/24 5
	restart_daemon "$kind" xe
	expect_established podmesh pm 198.51.100.2 20
	expect_established podmesh pm 2001:db8:2::2 20
	expect_route podmesh pm 198.18.3.0/24 nh=198.51.100.2 \
	    path="$xe_as,$xe_as"
	expect_route "$kind" xe 198.18.1.0/24 nh=198.51.100.1 path="$pm_as"
	daemon_alive podmesh pm || fail "podmesh-bgpd died"
}

# ---------------------------------------------------------------------------
# etcd: a single-member etcd on loopback, outside any namespace (it only
# listens on 127.0.0.1).  etcd_start NAME [ETCD-ARGS...] starts one with its
# data in $PM_TMP/etcd-NAME and its log in $PM_TMP/etcd-NAME.log, waits until
# it answers and sets ETCD_URL to its client URL (and ETCD_URL_<NAME>);
# etcd_stop NAME [SIGNAL] stops it (the cleanup trap stops the rest).  With
# --cert-file among the arguments the client URL is https and only the
# listening port is waited for (the caller has the certificates).

# etcd_free_port: a loopback TCP port no socket uses, below the kernel's ephemeral
# range (32768 up), where an outgoing connection could take it meanwhile.
etcd_free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))
		ss -tanH "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
}

etcd_start() {
	local name=$1 port peer url scheme=http
	shift
	command -v etcd >/dev/null || fail "etcd is not installed"
	case " $* " in *" --cert-file "*) scheme=https ;; esac
	port=$(etcd_free_port)
	peer=$(etcd_free_port)
	[ "$peer" = "$port" ] && peer=$((port + 1))
	url=$scheme://127.0.0.1:$port
	etcd --name "$name" --data-dir "$PM_TMP/etcd-$name" \
	    --listen-client-urls "$url" --advertise-client-urls "$url" \
	    --listen-peer-urls "http://127.0.0.1:$peer" \
	    --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
	    --initial-cluster "$name=http://127.0.0.1:$peer" \
	    --log-level warn "$@" >>"$PM_TMP/etcd-$name.log" 2>&1 &
	PM_PID["etcd:$name"]=$!
	PM_CONF["etcd:$name"]=$url
	_pm_daemon "etcd:$name"
	if [ $scheme = https ]; then
		wait_until 15 _etcd_listening "$port" ||
		    fail "etcd $name did not come up on $url"
	else
		wait_until 15 _etcd_healthy "$url" ||
		    fail "etcd $name did not come up on $url"
	fi
	ETCD_URL=$url
	printf -v "ETCD_URL_${name//[^A-Za-z0-9_]/_}" '%s' "$url"
	log "etcd $name on $url"
}

_etcd_healthy() {
	curl -sf --max-time 2 "$1/health" | grep -q '"health":"true"'
}

_etcd_listening() {
	ss -ltnH "sport = :$1" | grep -q .
}

etcd_stop() {
	stop_daemon etcd "$1" "${2:-TERM}"
}

# ---------------------------------------------------------------------------
# Diagnostics

_pm_dump_one() {
	local kind=${1%%:*} n=${1#*:} f
	echo "----- $kind in $n (pid ${PM_PID[$1]:-stopped}) -----"
	case $kind in
	bird)
		if daemon_alive bird "$n"; then
			birdc_ "$n" show protocols all 2>&1 | head -80
			birdc_ "$n" show route all 2>&1 | head -60
		fi
		f=${PM_CONF[$1]%.conf}.log
		echo "--- $f (tail)"
		tail -30 "$f" 2>/dev/null
		tail -10 "$PM_TMP/$n.bird.out" 2>/dev/null
		;;
	gobgp)
		if daemon_alive gobgp "$n"; then
			gobgp_ "$n" neighbor 2>&1
			gobgp_ "$n" global rib -a ipv4 2>&1 | head -30
			gobgp_ "$n" global rib -a ipv6 2>&1 | head -30
		fi
		echo "--- gobgpd log (tail)"
		tail -30 "$PM_TMP/$n.gobgp.log" 2>/dev/null
		;;
	frr)
		if daemon_alive frr "$n"; then
			vtysh_ "$n" "show bgp summary" "show bgp ipv4 unicast" \
			    "show bgp ipv6 unicast" 2>&1 | head -80
		fi
		f=${PM_CONF[$1]%.conf}.log
		echo "--- $f (tail)"
		tail -30 "$f" 2>/dev/null
		tail -10 "$PM_TMP/$n.frr.out" 2>/dev/null
		;;
	etcd)
		echo "--- $PM_TMP/etcd-$n.log (tail)"
		tail -20 "$PM_TMP/etcd-$n.log" 2>/dev/null
		;;
	podmesh)
		if daemon_alive podmesh "$n"; then
			podmeshctl_ "$n" bgp peers 2>&1
			podmeshctl_ "$n" bgp routes 2>&1 | head -60
		fi
		echo "--- podmesh-bgpd log (tail)"
		tail -40 "$PM_TMP/$n.podmesh.log" 2>/dev/null
		;;
	esac
}

# pm_dump: every daemon's view and log tail, to stderr.
pm_dump() {
	local d
	PM_DUMPED=1
	for d in "${PM_DAEMONS[@]}"; do
		_pm_dump_one "$d"
	done >&2
}
