#!/bin/bash
# docker/k8s/*.yaml checked by k8s_check.py (Debian's python3-yaml):
# current apiVersions, selectors matching template labels, mounts naming
# volumes, ConfigMap/Secret key references, service accounts and RBAC
# bindings, container commands that `cmake --install` installs (staged
# here with DESTDIR), env vars that podmesh-node's --help, node-start.sh
# or install-cni.sh document, probes on 9099 /liveness and /readiness, and
# cni_network_config valid JSON once install-cni's placeholders are filled.
# The checker's self-test breaks copies in 14 ways and expects each caught;
# then a broken copy of the directory fails from the command line.  ~2 s
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
CHECK=$PM_LIB_DIR/k8s_check.py
K8S=$PODMESH_SRC/docker/k8s
$PY -c 'import yaml' 2>/dev/null || fail "$PY has no yaml module (python3-yaml, .ci/deps)"
[ -d "$K8S" ] || fail "$K8S missing"

step "stage cmake --install"
STAGE=$PM_TMP/stage
DESTDIR=$STAGE cmake --install "$PODMESH_BUILD" --prefix /usr >"$PM_TMP/install.log" 2>&1 ||
    fail "cmake --install: $(tail -5 "$PM_TMP/install.log")"
"$STAGE/usr/bin/podmesh-node" --help >"$PM_TMP/node-help.txt" ||
    fail "podmesh-node --help"
ok "staged in $STAGE"

ARGS=(--installed "$STAGE"
	--env "node-start.sh=$PM_TMP/node-help.txt"
	--env "node-start.sh=$PODMESH_SRC/docker/node-start.sh"
	--env "install-cni.sh=$PODMESH_SRC/docker/install-cni.sh"
	--install-cni "$PODMESH_SRC/docker/install-cni.sh")

step "the manifests, and the checker's self-test"
out=$($PY "$CHECK" "${ARGS[@]}" --self-test "$K8S" 2>&1) || fail "k8s_check: $out"
log "$out"
n=$(ls "$K8S"/*.yaml | wc -l)
[ "$n" -ge 4 ] || fail "expected the manifests in $K8S, found $n files"
grep -q 'self-test 14/14 caught' <<<"$out" || fail "self-test: $out"
ok "manifests clean, every breakage caught"

# broken FILE SED_EXPR MESSAGE: the checker run on a copy of docker/k8s with
# one file edited by sed must fail (1) and say MESSAGE.
broken() {
	local file=$1 expr=$2 msg=$3 rc=0
	rm -rf "$PM_TMP/k8s"
	cp -r "$K8S" "$PM_TMP/k8s"
	sed -i "$expr" "$PM_TMP/k8s/$file"
	cmp -s "$K8S/$file" "$PM_TMP/k8s/$file" && fail "sed '$expr' changed nothing in $file"
	out=$($PY "$CHECK" "${ARGS[@]}" "$PM_TMP/k8s" 2>&1) || rc=$?
	[ "$rc" = 1 ] || fail "$file with '$expr': status $rc, expected 1: $out"
	grep -qF -- "$msg" <<<"$out" || fail "$file with '$expr': expected '$msg' in: $out"
	ok "caught: $(head -n 1 <<<"$out")"
}

step "broken copies fail from the command line"
broken node.yaml 's|^apiVersion: apps/v1|apiVersion: extensions/v1beta1|' \
    "apiVersion extensions/v1beta1, expected apps/v1"
broken node.yaml '0,/name: lib-modules$/s//name: lib-module/' \
    "volumeMount lib-module names no volume of the pod"
broken reflector.yaml 's|^      k8s-app: podmesh-reflector$|      k8s-app: podmesh-rr|' \
    "does not match the template labels"
broken config.yaml 's|"etcd_endpoints": "__ETCD_ENDPOINTS__",|"etcd_endpoints": "__ETCD_ENDPOINTS__"|' \
    "cni_network_config is not valid JSON"
broken node.yaml 's|- name: FELIX_IPINIPMTU|- name: FELIX_IPINIP_MTU|' \
    "unknown env var FELIX_IPINIP_MTU"
broken node.yaml 's|path: /readiness|path: /ready|' "readinessProbe must be httpGet /readiness"
broken rbac.yaml 's|^  kind: ClusterRole$|  kind: Role|' "roleRef Role/podmesh-node is not defined"
