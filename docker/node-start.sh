#!/bin/sh
# node-start.sh: the podmesh-node image's entrypoint, what calico/node's
# rc.local does.  It runs podmesh-node once (node registration, default
# pools, tunnel; configured by calico/node's environment: NODENAME, IP,
# AS, ETCD_ENDPOINTS, ETCD_*_FILE, CALICO_IPV4POOL_*, ...), then serves BGP
# for the node with one of:
#
#   PODMESH_BGP=podmesh (default): exec podmesh-bgpd in datastore mode, with
#       a config written from the environment to PODMESH_BGPD_CONFIG
#       (default $PODMESH_RUN_DIR/bgpd.yaml) unless that file already exists
#       (mount your own there to take over);
#   PODMESH_BGP=bird: BIRD 2 with podmesh-confd rendering its config from
#       etcd (the confd templates of PODMESH_CONFD_TEMPLATES, default
#       /usr/share/podmesh/confd/bird2, copied to PODMESH_CONFD_DIR, default
#       /etc/podmesh/confd; BIRD's socket BIRD_SOCKET, /run/bird/bird.ctl);
#   PODMESH_BGP=none: registration only, then sleep (policy-only nodes).
#
# CALICO_NETWORKING_BACKEND (bird, none; gobgp is refused) is read when
# PODMESH_BGP is not set, so calico/node's manifests carry over.
# Other settings: NODENAME (else HOSTNAME, as podmesh-node), ETCD_ENDPOINTS,
# ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE, ETCD_USERNAME,
# ETCD_PASSWORD, PODMESH_BGPD_LOG_LEVEL (debug, info, warning, error),
# PODMESH_KERNEL_ROUTES (true: install learned routes; default true),
# PODMESH_SKIP_STARTUP (true: do not run podmesh-node), PODMESH_RUN_DIR
# (default /run/podmesh: the control socket bgpd.sock and bgpd.yaml).
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

if [ "${PODMESH_SKIP_STARTUP:-false}" != true ]; then
	log "registering node $NODENAME"
	podmesh-node || die "podmesh-node failed (see above)"
fi

rundir=${PODMESH_RUN_DIR:-/run/podmesh}
mkdir -p "$rundir"

# yaml_str VALUE: VALUE as a double-quoted YAML scalar.
yaml_str() {
	printf '"%s"' "$(printf '%s' "$1" | sed 's/[\\"]/\\&/g')"
}

write_bgpd_config() {
	f=$1
	{
		echo "# written by $prog from the environment"
		echo "node-name: $(yaml_str "$NODENAME")"
		echo "datastore:"
		echo "  type: etcdv3"
		echo "  endpoints: $(yaml_str "${ETCD_ENDPOINTS:-http://127.0.0.1:2379}")"
		[ -z "${ETCD_CA_CERT_FILE:-}" ] ||
		    echo "  ca-file: $(yaml_str "$ETCD_CA_CERT_FILE")"
		[ -z "${ETCD_CERT_FILE:-}" ] ||
		    echo "  cert-file: $(yaml_str "$ETCD_CERT_FILE")"
		[ -z "${ETCD_KEY_FILE:-}" ] ||
		    echo "  key-file: $(yaml_str "$ETCD_KEY_FILE")"
		[ -z "${ETCD_USERNAME:-}" ] ||
		    echo "  username: $(yaml_str "$ETCD_USERNAME")"
		[ -z "${ETCD_PASSWORD:-}" ] ||
		    echo "  password: $(yaml_str "$ETCD_PASSWORD")"
		echo "kernel: {enabled: ${PODMESH_KERNEL_ROUTES:-true}}"
		echo "control-socket: $(yaml_str "$rundir/bgpd.sock")"
		[ -z "${PODMESH_BGPD_LOG_LEVEL:-}" ] ||
		    echo "log-level: $PODMESH_BGPD_LOG_LEVEL"
	} >"$f.tmp"
	chmod 0600 "$f.tmp"
	mv -f "$f.tmp" "$f"
}

case $backend in
podmesh)
	conf=${PODMESH_BGPD_CONFIG:-$rundir/bgpd.yaml}
	if [ ! -e "$conf" ]; then
		write_bgpd_config "$conf"
		log "wrote $conf"
	fi
	podmesh-bgpd --check -c "$conf" || die "$conf is not valid"
	exec podmesh-bgpd -c "$conf"
	;;
none)
	log "BGP disabled (PODMESH_BGP=none): sleeping"
	exec sleep infinity
	;;
esac

# bird: BIRD 2 and podmesh-confd, watched together; either exiting stops
# the other and the container (the kubelet restarts it).
confdir=${PODMESH_CONFD_DIR:-/etc/podmesh/confd}
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
