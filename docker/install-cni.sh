#!/bin/sh
# install-cni.sh: installs podmesh's CNI plugins and network config on a
# Kubernetes node, as Calico's install-cni.sh does (the podmesh-cni image's
# entrypoint, run as an initContainer of the podmesh-node DaemonSet).
#
#  1. copies the plugins (podmesh, podmesh-ipam) to CNI_BIN_DIR, each as
#     NAME.tmp then renamed over NAME, so kubelet never runs a half copy;
#  2. copies the etcd TLS files of the secret (etcd-ca, etcd-cert, etcd-key)
#     to CNI_NET_DIR/podmesh-tls/ (mode 0600), when the secret holds them;
#  3. writes CNI_NET_DIR/CNI_CONF_NAME (10-podmesh.conflist) from
#     CNI_NETWORK_CONFIG (the ConfigMap's cni_network_config; else the file
#     CNI_NETWORK_CONFIG_FILE; else a default) with the __PLACEHOLDERS__
#     filled, checked (no __NAME__ left; valid JSON when jq is there) and
#     renamed over the old one; a bad template leaves the old file alone.
#
# usage: install-cni.sh [--root DIR] [--help]
#   --root DIR  prefix every path it writes or reads on the node's side
#               (CNI_BIN_DIR, CNI_NET_DIR, SECRETS_DIR) with DIR: for tests
#
# Environment (defaults in brackets):
#   CNI_BIN_DIR [/host/opt/cni/bin]  CNI_NET_DIR [/host/etc/cni/net.d]
#   HOST_CNI_NET_DIR [/etc/cni/net.d]: CNI_NET_DIR as the host sees it,
#       for the TLS paths written into the config
#   SECRETS_DIR [/calico-secrets]    SRC_DIR [/opt/cni/bin]: the plugins
#   CNI_PLUGINS [podmesh podmesh-ipam]  CNI_CONF_NAME [10-podmesh.conflist]
#   CNI_NETWORK_CONFIG, CNI_NETWORK_CONFIG_FILE
#   KUBERNETES_NODE_NAME [hostname]  ETCD_ENDPOINTS [http://127.0.0.1:2379]
#   CNI_MTU [1500]  LOG_LEVEL [warn]  KUBECONFIG_FILEPATH
#       [/etc/cni/net.d/podmesh-kubeconfig]
#   SLEEP [false]: true keeps running afterwards and copies the TLS files
#       again when the secret changes (Calico's behaviour as a container),
#       looking every SLEEP_INTERVAL [10] seconds
# Exit status: 0 installed, 1 error (one line on stderr saying what), 2 usage.
set -eu

prog=install-cni
root=
while [ $# -gt 0 ]; do
	case $1 in
	--root) [ $# -ge 2 ] || { echo "$prog: --root needs DIR" >&2; exit 2; }
		root=$2; shift 2 ;;
	--root=*) root=${1#--root=}; shift ;;
	-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "$prog: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

die() {
	echo "$prog: error: $*" >&2
	exit 1
}
log() {
	echo "$prog: $*" >&2
}

bin_dir=$root${CNI_BIN_DIR:-/host/opt/cni/bin}
net_dir=$root${CNI_NET_DIR:-/host/etc/cni/net.d}
host_net_dir=${HOST_CNI_NET_DIR:-/etc/cni/net.d}
secrets_dir=$root${SECRETS_DIR:-/calico-secrets}
src_dir=${SRC_DIR:-/opt/cni/bin}
plugins=${CNI_PLUGINS:-podmesh podmesh-ipam}
conf_name=${CNI_CONF_NAME:-10-podmesh.conflist}
tls_dir=$net_dir/podmesh-tls
tmps=

# shellcheck disable=SC2317 # a trap
cleanup() {
	# shellcheck disable=SC2086
	[ -z "$tmps" ] || rm -f $tmps
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# atomic_install SRC DEST MODE: copy SRC beside DEST, then rename over it.
atomic_install() {
	tmp=$2.tmp
	tmps="$tmps $tmp"
	rm -f "$tmp"
	cp "$1" "$tmp" || die "cannot copy $1 to $tmp"
	chmod "$3" "$tmp" || die "cannot chmod $tmp"
	mv -f "$tmp" "$2" || die "cannot rename $tmp to $2"
}

# ---------------------------------------------------------------------------
# 1. plugins
install_plugins() {
	[ -d "$bin_dir" ] || mkdir -p "$bin_dir" ||
	    die "CNI_BIN_DIR $bin_dir: cannot create it"
	[ -w "$bin_dir" ] || die "CNI_BIN_DIR $bin_dir is not writable"
	for p in $plugins; do
		# shellcheck disable=SC2015
		[ -f "$src_dir/$p" ] && [ -x "$src_dir/$p" ] ||
		    die "plugin $src_dir/$p is missing or not executable"
	done
	for p in $plugins; do
		atomic_install "$src_dir/$p" "$bin_dir/$p" 0755
		log "installed $bin_dir/$p"
	done
}

# ---------------------------------------------------------------------------
# 2. etcd TLS files.  A key absent from the secret or empty means no TLS
# for that file (Calico's secret ships the keys empty); a key that is there
# but unreadable is an error.
tls_ca='' tls_cert='' tls_key=''
install_tls() {
	tls_ca='' tls_cert='' tls_key=''
	# check all three before copying any
	for k in etcd-ca etcd-cert etcd-key; do
		f=$secrets_dir/$k
		if [ -L "$f" ] && [ ! -e "$f" ]; then
			die "secret $f is a dangling link"
		fi
		if [ -e "$f" ] && { [ ! -f "$f" ] || [ ! -r "$f" ]; }; then
			die "secret $f is not a readable file"
		fi
	done
	if [ -s "$secrets_dir/etcd-cert" ] && [ ! -s "$secrets_dir/etcd-key" ]; then
		die "secret $secrets_dir has etcd-cert but no etcd-key"
	fi
	if [ ! -s "$secrets_dir/etcd-cert" ] && [ -s "$secrets_dir/etcd-key" ]; then
		die "secret $secrets_dir has etcd-key but no etcd-cert"
	fi
	for k in etcd-ca etcd-cert etcd-key; do
		f=$secrets_dir/$k
		[ -s "$f" ] || continue
		[ -d "$net_dir" ] || mkdir -p "$net_dir" ||
		    die "CNI_NET_DIR $net_dir: cannot create it"
		[ -d "$tls_dir" ] || (umask 077 && mkdir "$tls_dir") ||
		    die "cannot create $tls_dir"
		atomic_install "$f" "$tls_dir/$k" 0600
		case $k in
		etcd-ca) tls_ca=$host_net_dir/podmesh-tls/$k ;;
		etcd-cert) tls_cert=$host_net_dir/podmesh-tls/$k ;;
		etcd-key) tls_key=$host_net_dir/podmesh-tls/$k ;;
		esac
	done
	[ -z "$tls_ca$tls_cert" ] || log "installed etcd TLS files in $tls_dir"
}

# A checksum of the secret's files, to notice a change (SLEEP=true).
secrets_sum() {
	for k in etcd-ca etcd-cert etcd-key; do
		[ -r "$secrets_dir/$k" ] && cksum <"$secrets_dir/$k" || echo -
	done
}

# ---------------------------------------------------------------------------
# 3. the network config
default_config() {
	cat <<'EOF'
{
  "name": "k8s-pod-network",
  "cniVersion": "1.0.0",
  "plugins": [
    {
      "type": "podmesh",
      "log_level": "__LOG_LEVEL__",
      "datastore_type": "etcdv3",
      "etcd_endpoints": "__ETCD_ENDPOINTS__",
      "etcd_key_file": "__ETCD_KEY_FILE__",
      "etcd_cert_file": "__ETCD_CERT_FILE__",
      "etcd_ca_cert_file": "__ETCD_CA_CERT_FILE__",
      "nodename": "__KUBERNETES_NODE_NAME__",
      "mtu": __CNI_MTU__,
      "ipam": {"type": "podmesh-ipam"}
    },
    {"type": "portmap", "snat": true, "capabilities": {"portMappings": true}}
  ]
}
EOF
}

# sed_escape VALUE: VALUE for the right-hand side of s|...|VALUE|.
sed_escape() {
	printf '%s' "$1" | sed 's/[\\|&]/\\&/g'
}

write_config() {
	if [ -n "${CNI_NETWORK_CONFIG:-}" ]; then
		template=$CNI_NETWORK_CONFIG
		from="CNI_NETWORK_CONFIG"
	elif [ -n "${CNI_NETWORK_CONFIG_FILE:-}" ]; then
		[ -r "$CNI_NETWORK_CONFIG_FILE" ] ||
		    die "CNI_NETWORK_CONFIG_FILE $CNI_NETWORK_CONFIG_FILE is not readable"
		template=$(cat "$CNI_NETWORK_CONFIG_FILE")
		from=$CNI_NETWORK_CONFIG_FILE
	else
		template=$(default_config)
		from="the default config"
	fi
	node=${KUBERNETES_NODE_NAME:-$(hostname)}
	[ -n "$node" ] || die "no node name (KUBERNETES_NODE_NAME, hostname)"
	mtu=${CNI_MTU:-1500}
	case $mtu in
	'' | *[!0-9]*) die "CNI_MTU '$mtu' is not a number" ;;
	esac
	[ -d "$net_dir" ] || mkdir -p "$net_dir" ||
	    die "CNI_NET_DIR $net_dir: cannot create it"
	out=$net_dir/$conf_name
	tmp=$out.tmp
	tmps="$tmps $tmp"
	rm -f "$tmp"
	(umask 077 && printf '%s\n' "$template" >"$tmp") ||
	    die "cannot write $tmp"
	sed -i \
	    -e "s|__KUBERNETES_NODE_NAME__|$(sed_escape "$node")|g" \
	    -e "s|__ETCD_ENDPOINTS__|$(sed_escape "${ETCD_ENDPOINTS:-http://127.0.0.1:2379}")|g" \
	    -e "s|__ETCD_KEY_FILE__|$(sed_escape "$tls_key")|g" \
	    -e "s|__ETCD_CERT_FILE__|$(sed_escape "$tls_cert")|g" \
	    -e "s|__ETCD_CA_CERT_FILE__|$(sed_escape "$tls_ca")|g" \
	    -e "s|__CNI_MTU__|$mtu|g" \
	    -e "s|__LOG_LEVEL__|$(sed_escape "${LOG_LEVEL:-warn}")|g" \
	    -e "s|__KUBECONFIG_FILEPATH__|$(sed_escape "${KUBECONFIG_FILEPATH:-$host_net_dir/podmesh-kubeconfig}")|g" \
	    "$tmp" || die "cannot fill the placeholders in $tmp"
	left=$(grep -o '__[A-Z0-9_]*__' "$tmp" | sort -u | tr '\n' ' ') || true
	[ -z "$left" ] ||
	    die "unknown placeholder(s) left in $from: ${left% }; $out unchanged"
	if command -v jq >/dev/null 2>&1; then
		err=$(jq -e 'if type == "object" then . else error("not a JSON object") end' \
		    "$tmp" 2>&1 >/dev/null) ||
		    die "$from is not valid JSON after substitution: $err; $out unchanged"
	fi
	chmod 0644 "$tmp"
	mv -f "$tmp" "$out" || die "cannot rename $tmp to $out"
	log "wrote $out (node $node)"
}

# taken before the copies, so that a change while they run is seen
sum=$(secrets_sum)
install_plugins
install_tls
write_config

if [ "${SLEEP:-false}" = true ]; then
	while sleep "${SLEEP_INTERVAL:-10}"; do
		now=$(secrets_sum)
		[ "$now" != "$sum" ] || continue
		log "the etcd secret changed: installing it again"
		sum=$now
		install_tls
		write_config
	done
fi
exit 0
