#!/bin/sh
# node-start.sh: the podmesh-node image's entrypoint, what calico/node's
# rc.local does.  It runs podmesh-node once (node registration, default
# pools, tunnel; configured by calico/node's environment: NODENAME, IP,
# AS, ETCD_ENDPOINTS, ETCD_*_FILE, CALICO_IPV4POOL_*, ...), then serves BGP
# for the node with one of:
#
#   PODMESH_BGP=podmesh (default): exec podmesh-bgpd in datastore mode.
#       Without PODMESH_BGPD_CONFIG, its config is written anew from the
#       environment at every start, to $PODMESH_ETC_DIR/bgpd.yaml (default
#       /etc/podmesh, inside the container: not a host path), mode 0600;
#       only the control socket is on the host ($PODMESH_RUN_DIR/bgpd.sock,
#       for podmeshctl).  PODMESH_BGPD_CONFIG=FILE: use FILE as it is
#       (mount your own), nothing is written;
#   PODMESH_BGP=bird: BIRD 2 with podmesh-confd rendering its config from
#       etcd (the confd templates of PODMESH_CONFD_TEMPLATES, default
#       /usr/share/podmesh/confd/bird2, copied to PODMESH_CONFD_DIR, default
#       $PODMESH_ETC_DIR/confd; BIRD's socket BIRD_SOCKET, /run/bird/bird.ctl).
#       Nothing serves 9099: the manifests' httpGet probes must be replaced
#       (docker/k8s/node.yaml has the exec probes, podmeshctl node status
#       --bird $BIRD_SOCKET);
#   PODMESH_BGP=none: registration only, then exec podmesh-bgpd as a health
#       server only (no datastore, peers, BGP listener or routes: a config
#       of its own in $PODMESH_ETC_DIR/bgpd.yaml, its control socket there
#       too), so that the probes on 9099 answer; with PODMESH_HTTP_PORT=0,
#       sleep instead (then remove the probes).
#
# CALICO_NETWORKING_BACKEND (bird, none; gobgp is refused) is read when
# PODMESH_BGP is not set, so calico/node's manifests carry over.
# Other settings: NODENAME (else HOSTNAME, as podmesh-node), ETCD_ENDPOINTS,
# ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME,
# ETCD_PASSWORD, PODMESH_BGPD_LOG_LEVEL (debug, info, warning or warn,
# error; any case), PODMESH_KERNEL_ROUTES (true: install learned routes,
# the default; false: do not, route reflectors), PODMESH_HTTP_ADDRESS and
# PODMESH_HTTP_PORT (podmesh and none: where podmesh-bgpd serves /metrics,
# /liveness, /readiness; default 127.0.0.1 and 9099; an IPv4 or IPv6
# address, 0.0.0.0 for every address; port 0 turns it off),
# PODMESH_SKIP_STARTUP (true: do not run podmesh-node), PODMESH_RUN_DIR
# (default /run/podmesh: the control socket bgpd.sock), PODMESH_ETC_DIR.
# Values must not contain control characters (newlines): refused.
set -eu

prog=node-start
die() {
	echo "$prog: error: $*" >&2
	exit 1
}
log() {
	echo "$prog: $*" >&2
}

backend=${PODMESH_BGP:-}
if [ -z "$backend" ]; then
	case ${CALICO_NETWORKING_BACKEND:-} in
	'') backend=podmesh ;;
	bird | none) backend=${CALICO_NETWORKING_BACKEND} ;;
	*) die "CALICO_NETWORKING_BACKEND '${CALICO_NETWORKING_BACKEND}':" \
	    "podmesh runs bird or none (or set PODMESH_BGP=podmesh)" ;;
	esac
fi
case $backend in
podmesh | bird | none) ;;
*) die "PODMESH_BGP '$backend': expected podmesh, bird or none" ;;
esac

# The node's name, as podmesh-node picks it, for the daemons after it.
if [ -z "${NODENAME:-}" ]; then
	if [ -n "${NODENAME_FILE:-}" ] && [ -s "$NODENAME_FILE" ]; then
		NODENAME=$(cat "$NODENAME_FILE")
	elif [ -n "${HOSTNAME:-}" ]; then
		NODENAME=$(printf '%s' "$HOSTNAME" | tr '[:upper:]' '[:lower:]')
	else
		NODENAME=$(hostname | tr '[:upper:]' '[:lower:]')
	fi
fi
export NODENAME

rundir=${PODMESH_RUN_DIR:-/run/podmesh}
etcdir=${PODMESH_ETC_DIR:-/etc/podmesh}

# yaml_str NAME VALUE: VALUE as a double-quoted YAML scalar; a control
# character (a newline, ...) in it is an error naming the variable NAME.
# Run in $(...): check its status.
yaml_str() {
	case $2 in
	*[[:cntrl:]]*)
		die "$1: contains a control character (a newline?): refused"
		;;
	esac
	printf '"%s"' "$(printf '%s' "$2" | sed 's/[\\"]/\\&/g')"
}

# The settings, checked before anything runs.
case ${PODMESH_KERNEL_ROUTES:-true} in
true | false) kernel=${PODMESH_KERNEL_ROUTES:-true} ;;
*) die "PODMESH_KERNEL_ROUTES '${PODMESH_KERNEL_ROUTES}': expected true or false" ;;
esac
loglevel=$(printf '%s' "${PODMESH_BGPD_LOG_LEVEL:-}" | tr '[:upper:]' '[:lower:]')
case $loglevel in
'' | debug | info | warn | warning | error) ;;
*) die "PODMESH_BGPD_LOG_LEVEL '${PODMESH_BGPD_LOG_LEVEL}':" \
    "expected debug, info, warning (or warn) or error" ;;
esac
http=
if [ -n "${PODMESH_HTTP_ADDRESS:-}" ] || [ -n "${PODMESH_HTTP_PORT:-}" ]; then
	haddr=${PODMESH_HTTP_ADDRESS:-127.0.0.1}
	hport=${PODMESH_HTTP_PORT:-9099}
	case $hport in
	'' | *[!0-9]* | 0?*) hport_ok=false ;;
	*) [ ${#hport} -le 5 ] && [ "$hport" -le 65535 ] &&
	    hport_ok=true || hport_ok=false ;;
	esac
	[ "$hport_ok" = true ] ||
	    die "PODMESH_HTTP_PORT '$hport': expected a port number, 0 to 65535"
	# a literal address (podmesh-bgpd --check has the last word)
	v4=false
	case $haddr in
	*[!0-9.]* | '' | .* | *. | *..*) ;;
	*.*.*.*.*) ;;
	*.*.*.*)
		v4=true
		for o in $(printf '%s' "$haddr" | tr . ' '); do
			case $o in
			????* | 0?*) v4=false ;;
			*) [ "$o" -le 255 ] || v4=false ;;
			esac
		done
		;;
	esac
	case $haddr in
	*:*:*) v6=true ;;
	*) v6=false ;;
	esac
	case $haddr in *[!0-9A-Fa-f:.]*) v6=false ;; esac
	[ "$v4" = true ] || [ "$v6" = true ] ||
	    die "PODMESH_HTTP_ADDRESS '$haddr': expected an IPv4 or IPv6 address" \
	    "(0.0.0.0: every address)"
	http="http: {address: \"$haddr\", port: $hport}"
fi
if [ "$backend" = podmesh ] && [ -z "${PODMESH_BGPD_CONFIG:-}" ]; then
	q_node=$(yaml_str NODENAME "$NODENAME") || exit 1
	q_endpoints=$(yaml_str ETCD_ENDPOINTS \
	    "${ETCD_ENDPOINTS:-http://127.0.0.1:2379}") || exit 1
	q_ca=$(yaml_str ETCD_CA_CERT_FILE "${ETCD_CA_CERT_FILE:-}") || exit 1
	q_cert=$(yaml_str ETCD_CERT_FILE "${ETCD_CERT_FILE:-}") || exit 1
	q_key=$(yaml_str ETCD_KEY_FILE "${ETCD_KEY_FILE:-}") || exit 1
	q_user=$(yaml_str ETCD_USERNAME "${ETCD_USERNAME:-}") || exit 1
	q_password=$(yaml_str ETCD_PASSWORD "${ETCD_PASSWORD:-}") || exit 1
	q_sock=$(yaml_str PODMESH_RUN_DIR "$rundir/bgpd.sock") || exit 1
fi
if [ "$backend" = none ]; then
	q_sock=$(yaml_str PODMESH_ETC_DIR "$etcdir/bgpd.sock") || exit 1
fi

if [ "${PODMESH_SKIP_STARTUP:-false}" != true ]; then
	log "registering node $NODENAME"
	podmesh-node || die "podmesh-node failed (see above)"
fi

# write_config FILE: FILE from standard input, never readable by others
# (it may hold ETCD_PASSWORD): umask 077 from the first byte, then renamed.
write_config() {
	(
		umask 077
		mkdir -p "$(dirname "$1")"
		rm -f "$1.tmp"
		cat >"$1.tmp"
		mv -f "$1.tmp" "$1"
	) || die "cannot write $1"
}

# line TEXT: TEXT as it is (dash's echo would expand the backslashes)
line() {
	printf '%s\n' "$1"
}

# the keys both configs share: control socket, metrics listener, log level
common_config() {
	line "control-socket: $q_sock"
	[ -z "$http" ] || line "$http"
	[ -z "$loglevel" ] || line "log-level: \"$loglevel\""
}

bgpd_config() {
	line "# written by $prog from the environment at each start"
	line "node-name: $q_node"
	line "datastore:"
	line "  type: etcdv3"
	line "  endpoints: $q_endpoints"
	[ -z "${ETCD_CA_CERT_FILE:-}" ] || line "  ca-file: $q_ca"
	[ -z "${ETCD_CERT_FILE:-}" ] || line "  cert-file: $q_cert"
	[ -z "${ETCD_KEY_FILE:-}" ] || line "  key-file: $q_key"
	[ -z "${ETCD_USERNAME:-}" ] || line "  username: $q_user"
	[ -z "${ETCD_PASSWORD:-}" ] || line "  password: $q_password"
	line "kernel: {enabled: \"$kernel\"}"
	common_config
}

# PODMESH_BGP=none: no BGP at all; podmesh-bgpd only answers the probes
health_config() {
	line "# written by $prog for PODMESH_BGP=none: no BGP (no datastore,"
	line "# no peers, no listener, no routes); podmesh-bgpd serves only"
	line "# /liveness, /readiness and /metrics.  router-id and asn are"
	line "# required by the format and never used."
	line "router-id: \"0.0.0.1\""
	line "asn: 64512"
	line "listen: {port: 0}"
	line "kernel: {enabled: \"false\"}"
	common_config
}

# An older node-start.sh left its config (and any password) on the host.
old=$rundir/bgpd.yaml
if [ "${PODMESH_BGPD_CONFIG:-}" != "$old" ] && [ -f "$old" ] &&
    head -n 1 "$old" | grep -q "^# written by $prog"; then
	rm -f "$old" && log "removed $old (an older $prog's; now in $etcdir)"
elif [ -z "${PODMESH_BGPD_CONFIG:-}" ] && [ -f "$old" ]; then
	# someone's own file where older versions took one over: say so
	log "warning: $old is not used; set PODMESH_BGPD_CONFIG=$old to use it"
fi

case $backend in
podmesh)
	mkdir -p "$rundir"
	if [ -n "${PODMESH_BGPD_CONFIG:-}" ]; then
		conf=$PODMESH_BGPD_CONFIG
		[ -f "$conf" ] || die "PODMESH_BGPD_CONFIG: no file $conf"
	else
		conf=$etcdir/bgpd.yaml
		bgpd_config | write_config "$conf" || exit 1
		log "wrote $conf"
	fi
	podmesh-bgpd --check -c "$conf" || die "$conf is not valid"
	exec podmesh-bgpd -c "$conf"
	;;
none)
	if [ "${PODMESH_HTTP_PORT:-}" = 0 ]; then
		log "BGP disabled (PODMESH_BGP=none), no health server: sleeping"
		# PID 1 in a container: a TERM must end it, not the grace period
		trap 'exit 0' TERM INT
		while :; do
			sleep 3600 &
			wait $!
		done
	fi
	conf=$etcdir/bgpd.yaml
	health_config | write_config "$conf" || exit 1
	podmesh-bgpd --check -c "$conf" || die "$conf is not valid"
	log "BGP disabled (PODMESH_BGP=none): podmesh-bgpd serves only health"
	exec podmesh-bgpd -c "$conf"
	;;
esac

# bird: BIRD 2 and podmesh-confd, watched together; either exiting stops
# the other and the container (the kubelet restarts it).
# Nothing here serves 127.0.0.1:9099: the pod needs exec probes
# (docker/k8s/node.yaml: podmeshctl node status --bird $BIRD_SOCKET).
[ -z "$http" ] || log "PODMESH_HTTP_ADDRESS/PORT: ignored with PODMESH_BGP=bird"
confdir=${PODMESH_CONFD_DIR:-$etcdir/confd}
templates=${PODMESH_CONFD_TEMPLATES:-/usr/share/podmesh/confd/bird2}
BIRD_SOCKET=${BIRD_SOCKET:-/run/bird/bird.ctl}
export BIRD_SOCKET
mkdir -p "$confdir/config" "$(dirname "$BIRD_SOCKET")"
cp -R "$templates/conf.d" "$templates/templates" "$confdir/" ||
    die "cannot copy the confd templates of $templates to $confdir"
podmesh-confd -confdir "$confdir" -onetime ||
    die "podmesh-confd could not render the BIRD config"
bird -f -c "$confdir/config/bird.cfg" -s "$BIRD_SOCKET" &
bird_pid=$!
podmesh-confd -confdir "$confdir" &
confd_pid=$!
stopping=0
trap 'stopping=1; kill -TERM $bird_pid $confd_pid 2>/dev/null' TERM INT
while kill -0 "$bird_pid" 2>/dev/null && kill -0 "$confd_pid" 2>/dev/null; do
	sleep 1
done
[ "$stopping" = 1 ] || log "bird or podmesh-confd exited: stopping"
kill -TERM "$bird_pid" "$confd_pid" 2>/dev/null || true
wait
[ "$stopping" = 1 ] && exit 0
exit 1
