#!/bin/bash
#
# Bad input to the podmesh CNI plugin (issue #6): BUILD/cni/podmesh run
# directly, as a runtime runs it (exactly the CNI_* environment given,
# the network config on stdin), inside node n1's namespace, with a real
# etcd.  Each case asserts the spec's error code and the message
# cni/netconf.c (or the plugin) gives, exactly where it is fixed text, and
# the error's cniVersion (the config's when it is readable and spoken,
# else 1.1.0):
#
#   malformed JSON, empty stdin, a non-object, a duplicate key,
#   a config over 4 MiB (CNI_STDIN_MAX)                          6
#   CNI_COMMAND missing or unknown; CNI_CONTAINERID, CNI_NETNS,
#   CNI_IFNAME, CNI_PATH missing; an invalid container id; a bad
#   IP= in CNI_ARGS                                              4
#   cniVersion "9.9.9"; CHECK with a 0.3.1 config                1
#   "mtu": "big", "mtu": 100, datastore_type kubernetes          7
#   a netns path that does not exist (message names the path)    8
#   an exhausted pool (IPPool 198.19.255.0/30, blockSize 30,
#   filled by 4 ADDs first)                                      100
#   etcd unreachable (nothing listening; an address that never
#   answers: within 30 s)                                        11
#
# For each: exit status non-zero; stdout is exactly one JSON object with
# cniVersion, code, msg (and details) and nothing else; no sanitizer
# report on stderr; nothing leaked: addresses in use unchanged, the
# container's handle holds nothing, no WorkloadEndpoint added, no new
# cali* link in the node.  Controls: DEL of a container never added with
# its netns gone succeeds silently; the good config ADDs and DELs.
#
# shellcheck disable=SC2046 # $(without ...): NAME=VALUE words, no spaces
PM_TIMEOUT=${PM_TIMEOUT:-180}
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/node_lib.sh"
. "$(dirname "$0")/cni_lib.sh"

require_cni

step "cluster: n1, pool $NODE_POOL /26, tiny pool 198.19.255.0/30 /30"
cni_cluster n1
cni_pool pool4 "$NODE_POOL" 26
cni_pool tiny 198.19.255.0/30 30
cni_pods_add bp f0 f1 f2 f3 f4
GOOD=$PM_TMP/good.conf
cni_plugin_conf "$GOOD" n1
ENV_OK=(CNI_COMMAND=ADD CNI_CONTAINERID=bad1 "CNI_NETNS=$(cni_netns bp)"
    CNI_IFNAME=eth0)

# without VAR: ENV_OK less the variables named
without() {
	local v d keep
	for v in "${ENV_OK[@]}"; do
		keep=1
		for d in "$@"; do
			[ "${v%%=*}" = "$d" ] && keep=
		done
		[ -n "$keep" ] && printf '%s\n' "$v"
	done
}

conf() { # conf NAME JQ-EXPR: the good config transformed
	jq "$2" "$GOOD" >"$PM_TMP/$1.conf" || fail "conf $1: $2"
	echo "$PM_TMP/$1.conf"
}

NCASES=0
# bad NAME CODE MSG-REGEX CONF VAR=VALUE...: the plugin fails as wanted.
# MSG-REGEX is matched against "msg" (extended regex, anchored by the
# caller); the container is the CNI_CONTAINERID among the VARs.
bad() {
	local name=$1 code=$2 re=$3 f=$4 rc=0 out cid=- v n0 w0 l0 got msg want
	shift 4
	for v in "$@"; do
		[ "${v%%=*}" = CNI_CONTAINERID ] && cid=${v#*=}
	done
	n0=$(cni_inuse)
	w0=$(cni_weps)
	l0=$(cni_links n1 | sort | tr '\n' ' ')
	out=$(cni_plugin n1 "$f" "$@" 2>"$PM_TMP/$name.err") || rc=$?
	[ "$rc" -ne 0 ] || fail "$name: exit status 0, stdout: $out"
	grep -Eq 'Sanitizer|runtime error:' "$PM_TMP/$name.err" &&
	    fail "$name: sanitizer report: $(head -20 "$PM_TMP/$name.err")"
	[ "$(jq -s length <<<"$out" 2>/dev/null)" = 1 ] ||
	    fail "$name: stdout is not exactly one JSON value: '$out'"
	jq -e 'type == "object" and
	    ((keys - ["cniVersion", "code", "msg", "details"]) == []) and
	    (.cniVersion | type == "string") and
	    (.code | type == "number") and
	    (.msg | type == "string" and length > 0) and
	    ((.details // "") | type == "string")' <<<"$out" >/dev/null ||
	    fail "$name: not a CNI error object: $out"
	# the config's version when it can be read and is spoken, else the
	# latest (cni/netconf.c's cni_error_encode); WANT_VERSION when the
	# plugin refuses the input unread
	want=${WANT_VERSION:-$(jq -r '.cniVersion // "0.1.0"' "$f" 2>/dev/null)}
	case $want in
	0.1.0 | 0.2.0 | 0.3.0 | 0.3.1 | 0.4.0 | 1.0.0 | 1.1.0) ;;
	*) want=1.1.0 ;;
	esac
	[ "$(jq -r .cniVersion <<<"$out")" = "$want" ] ||
	    fail "$name: error in version $(jq -r .cniVersion <<<"$out"), wanted $want: $out"
	got=$(jq -r .code <<<"$out")
	msg=$(jq -r .msg <<<"$out")
	[ "$got" = "$code" ] ||
	    fail "$name: code $got, wanted $code: $out"
	[[ $msg =~ $re ]] || fail "$name: msg '$msg' does not match /$re/: $out"
	[ "$(cni_inuse)" = "$n0" ] ||
	    fail "$name: addresses in use went from $n0 to $(cni_inuse)"
	[ "$(cni_weps)" = "$w0" ] ||
	    fail "$name: WorkloadEndpoints went from $w0 to $(cni_weps)"
	[ "$(cni_links n1 | sort | tr '\n' ' ')" = "$l0" ] ||
	    fail "$name: cali* links went from '$l0' to '$(cni_links n1 | tr '\n' ' ')'"
	if [ "$cid" != - ]; then
		[ "$(cni_handle_count "$CNI_NET.$cid")" = 0 ] ||
		    fail "$name: handle $CNI_NET.$cid holds an address"
	fi
	LAST=$out
	NCASES=$((NCASES + 1))
	ok "$name: exit $rc, $(jq -c . <<<"$out")"
}

# ---------------------------------------------------------------------------
step "malformed network config: code 6 (jansson's text, line and column)"
printf '{"cniVersion": "1.0.0", "name": ' >"$PM_TMP/trunc.conf"
bad truncated 6 '^decoding network config: unexpected token near end of file$' \
    "$PM_TMP/trunc.conf" "${ENV_OK[@]}"
[ "$(jq -r .details <<<"$LAST")" = "line 1 column 32" ] ||
    fail "truncated: details $(jq -r .details <<<"$LAST"), wanted 'line 1 column 32'"
[ "$(jq -r .cniVersion <<<"$LAST")" = 1.1.0 ] ||
    fail "truncated: an unreadable config's error is the latest version (1.1.0): $LAST"
: >"$PM_TMP/empty.conf"
bad empty 6 '^decoding network config: ' "$PM_TMP/empty.conf" "${ENV_OK[@]}"
echo '[1, 2]' >"$PM_TMP/array.conf"
bad array 6 '^decoding network config: not a JSON object$' \
    "$PM_TMP/array.conf" "${ENV_OK[@]}"
printf '{"cniVersion": "1.0.0", "name": "a", "name": "b", "type": "podmesh"}' \
    >"$PM_TMP/dup.conf"
bad duplicate 6 "^decoding network config: duplicate object key near '\"name\"'$" \
    "$PM_TMP/dup.conf" "${ENV_OK[@]}"

# over CNI_STDIN_MAX (cni/util.h: 4 MiB): refused before parsing, so in
# the latest version; just over the limit, and well over
jq -c '.pad = ("x" * (4194304 - (tostring | length) + 8))' "$GOOD" \
    >"$PM_TMP/big.conf"
[ "$(stat -c %s "$PM_TMP/big.conf")" -gt 4194304 ] || fail "big.conf too small"
WANT_VERSION=1.1.0 bad just-too-big 6 \
    '^network config on stdin is larger than 4194304 bytes$' \
    "$PM_TMP/big.conf" "${ENV_OK[@]}"
jq -c '.pad = ("x" * (5 * 1048576))' "$GOOD" >"$PM_TMP/big.conf"
WANT_VERSION=1.1.0 bad too-big 6 '^network config on stdin is larger than 4194304 bytes$' \
    "$PM_TMP/big.conf" "${ENV_OK[@]}"

step "CNI_* environment: code 4 naming the variable"
bad no-command 4 '^CNI_COMMAND: not set$' "$GOOD" $(without CNI_COMMAND)
bad bad-command 4 '^CNI_COMMAND: unknown command "FOO"$' "$GOOD" \
    $(without CNI_COMMAND) CNI_COMMAND=FOO
bad no-containerid 4 '^CNI_CONTAINERID: required for ADD but not set$' \
    "$GOOD" $(without CNI_CONTAINERID)
bad no-netns 4 '^CNI_NETNS: required for ADD but not set$' \
    "$GOOD" $(without CNI_NETNS)
bad no-ifname 4 '^CNI_IFNAME: required for ADD but not set$' \
    "$GOOD" $(without CNI_IFNAME)
bad no-path 4 '^CNI_PATH: required for ADD but not set$' \
    "$GOOD" "${ENV_OK[@]}" CNI_PATH=
bad del-no-containerid 4 '^CNI_CONTAINERID: required for DEL but not set$' \
    "$GOOD" $(without CNI_COMMAND CNI_CONTAINERID) CNI_COMMAND=DEL
bad bad-containerid 4 '^CNI_CONTAINERID: invalid container id "bad/id"$' \
    "$GOOD" $(without CNI_CONTAINERID) CNI_CONTAINERID=bad/id
bad bad-ifname 4 '^CNI_IFNAME: invalid interface name "eth0/x"$' \
    "$GOOD" $(without CNI_IFNAME) CNI_IFNAME=eth0/x
bad bad-args-ip 4 '^CNI_ARGS: IP: invalid address "notanip"$' \
    "$GOOD" "${ENV_OK[@]}" "CNI_ARGS=IgnoreUnknown=1;IP=notanip"

step "cniVersion 9.9.9: code 1"
bad version 1 '^incompatible CNI versions$' \
    "$(conf v999 '.cniVersion = "9.9.9"')" "${ENV_OK[@]}"
jq -e '.details | test("9\\.9\\.9")' <<<"$LAST" >/dev/null ||
    fail "version: details do not name 9.9.9: $LAST"
# pkg/skel: CHECK needs a config of 0.4.0 or later
bad check-0.3.1 1 '^config version does not allow CHECK$' \
    "$(conf v031 '.cniVersion = "0.3.1"')" $(without CNI_COMMAND) CNI_COMMAND=CHECK

step "invalid field values: code 7 naming the field"
bad mtu-string 7 '^mtu: not an integer$' "$(conf mtu1 '.mtu = "big"')" \
    "${ENV_OK[@]}"
bad mtu-range 7 '^mtu: 100 out of range 576\.\.9000$' \
    "$(conf mtu2 '.mtu = 100')" "${ENV_OK[@]}"
bad datastore 7 '^datastore_type "kubernetes" is not supported' \
    "$(conf ds '.datastore_type = "kubernetes"')" "${ENV_OK[@]}"
bad ipam-pools 7 '^ipam\.ipv4_pools' \
    "$(conf pools '.ipam.ipv4_pools = "198.18.0.0/16"')" "${ENV_OK[@]}"

step "a netns that does not exist: code 8 naming the path, address released"
NOPE=/var/run/netns/${PM_PREFIX}does-not-exist
bad netns 8 . "$GOOD" $(without CNI_NETNS CNI_CONTAINERID) \
    "CNI_NETNS=$NOPE" CNI_CONTAINERID=nonetns
jq -e --arg p "$NOPE" '.msg | contains($p)' <<<"$LAST" >/dev/null ||
    fail "netns: the message does not name $NOPE: $LAST"
# a path that exists but is not a network namespace
bad netns-file 8 . "$GOOD" $(without CNI_NETNS CNI_CONTAINERID) \
    "CNI_NETNS=$GOOD" CNI_CONTAINERID=notnetns
jq -e --arg p "$GOOD" '.msg | contains($p)' <<<"$LAST" >/dev/null ||
    fail "netns-file: the message does not name $GOOD: $LAST"

step "exhausted pool: 4 ADDs fill 198.19.255.0/30, the 5th is code 100"
TINY=$(conf tiny '.ipam.ipv4_pools = ["198.19.255.0/30"]')
declare -A seen=()
for i in 0 1 2 3; do
	out=$(cni_plugin n1 "$TINY" CNI_COMMAND=ADD CNI_CONTAINERID=f$i \
	    "CNI_NETNS=$(cni_netns f$i)" CNI_IFNAME=eth0 2>"$PM_TMP/f.err") ||
	    fail "ADD f$i into the tiny pool: $out $(tail -3 "$PM_TMP/f.err")"
	a=$(cni_ip "$out")
	[[ $a =~ ^198\.19\.255\.[0-3]$ ]] || fail "ADD f$i: $a is not in the tiny pool: $out"
	[ -z "${seen[$a]:-}" ] || fail "ADD f$i: $a handed out twice"
	seen[$a]=1
done
ok "4 ADDs got ${!seen[*]}"
bad exhausted 100 'no free address' "$TINY" $(without CNI_CONTAINERID CNI_NETNS) \
    CNI_CONTAINERID=f4 "CNI_NETNS=$(cni_netns f4)"
jq -e '(.msg + " " + (.details // "")) | contains("198.19.255.0/30")' \
    <<<"$LAST" >/dev/null || fail "exhausted: the error does not name the pool: $LAST"
! ip -n "$(ns f4)" -o link show | grep -vq ': lo:' ||
    fail "exhausted: the pod has links: $(ip -n "$(ns f4)" -o link show)"
for i in 0 1 2 3; do
	out=$(cni_plugin n1 "$TINY" CNI_COMMAND=DEL CNI_CONTAINERID=f$i \
	    "CNI_NETNS=$(cni_netns f$i)" CNI_IFNAME=eth0 2>"$PM_TMP/f.err") ||
	    fail "DEL f$i: $out $(tail -3 "$PM_TMP/f.err")"
	[ -z "$out" ] || fail "DEL f$i printed '$out' (a DEL prints nothing)"
done
[ "$(cni_inuse)" -eq 0 ] || fail "the tiny pool's DELs left $(cni_inuse) in use"

step "etcd unreachable: code 11"
bad etcd-down 11 . "$(conf noetcd '.etcd_endpoints = "http://192.0.2.254:2399"')" \
    $(without CNI_CONTAINERID) CNI_CONTAINERID=noetcd
# an endpoint that never answers (infra forwards nothing: SYNs vanish):
# the connect timeout, not a hang until the runtime gives up
t0=$(_pm_now)
bad etcd-silent 11 . "$(conf silent '.etcd_endpoints = "http://203.0.113.1:2379"')" \
    $(without CNI_CONTAINERID) CNI_CONTAINERID=silent
el=$((($(_pm_now) - t0) / 1000000))
((el <= 30)) || fail "etcd-silent: the answer took ${el}s"
ok "etcd-silent: answered in ${el}s"

# DEL stays idempotent whatever is gone: a container never added, its
# netns path not existing, succeeds and prints nothing.
out=$(cni_plugin n1 "$GOOD" CNI_COMMAND=DEL CNI_CONTAINERID=neveradded \
    "CNI_NETNS=$NOPE" CNI_IFNAME=eth0 2>"$PM_TMP/del.err") ||
    fail "DEL of a container never added (netns $NOPE) failed: $out"
[ -z "$out" ] || fail "DEL printed '$out' (a DEL prints nothing)"
ok "DEL of a container never added, netns gone: exit 0, nothing printed"

# The good config itself works: the cases above failed for their reason.
step "control: the good config and environment ADD and DEL"
out=$(cni_plugin n1 "$GOOD" "${ENV_OK[@]}" 2>"$PM_TMP/good.err") ||
    fail "the good config fails: $out $(tail -3 "$PM_TMP/good.err")"
# (either pool: the node's affine block in the small one has room again)
[[ $(cni_ip "$out") =~ ^198\.(18\.|19\.255\.) ]] || fail "the good config's ADD: $out"
out=$(cni_plugin n1 "$GOOD" $(without CNI_COMMAND) CNI_COMMAND=DEL 2>&1) ||
    fail "the good config's DEL: $out"
[ "$(cni_inuse)" -eq 0 ] && [ "$(cni_weps)" -eq 0 ] && [ -z "$(cni_links n1)" ] ||
    fail "the control ADD + DEL left something"
cni_check_clean "after every case"
log "$NCASES bad-input cases"
