#!/bin/bash
# docker/k8s/*.yaml checked by k8s_check.py (Debian's python3-yaml):
# current apiVersions, selectors matching template labels, mounts naming
# volumes, ConfigMap/Secret key references, service accounts and RBAC
# bindings, container commands that `cmake --install` installs (staged
# here with DESTDIR), env vars that podmesh-node's --help, node-start.sh
# or install-cni.sh document, probes on 9099 /liveness and /readiness (or
# exec podmeshctl node status), host-network workloads that neither surge
# nor stop every replica at once on update, and cni_network_config valid
# JSON once install-cni's placeholders are filled.  The checker's
# self-test breaks copies in 20 ways and expects each caught; the exec
# probes node.yaml ships commented out for podmesh_backend bird pass once
# swapped in, on node-start.sh's BIRD socket; then broken copies of the
# directory fail from the command line.  ~3 s
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
grep -q 'self-test 20/20 caught' <<<"$out" || fail "self-test: $out"
ok "manifests clean, every breakage caught"

step "podmesh_backend bird: node.yaml's commented exec probes, swapped in"
# drop the httpGet probes of the podmesh-node container, uncomment the
# YAML lines of the block after "# podmesh_backend bird:"
BIRDK=$PM_TMP/k8s-bird
cp -r "$K8S" "$BIRDK"
awk '
/^          livenessProbe:$/ && !seen { skip = 1; seen = 1 }
skip && /^          # podmesh_backend bird:/ { skip = 0; block = 1 }
skip { next }
block && /^          # (livenessProbe:|readinessProbe:|  )/ { sub(/# /, ""); print; next }
block && !/^          #/ { block = 0 }
{ print }' "$K8S/node.yaml" >"$BIRDK/node.yaml"
out=$($PY - "$BIRDK/node.yaml" <<'EOF'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "DaemonSet":
        c = d["spec"]["template"]["spec"]["containers"][0]
        for p in ("livenessProbe", "readinessProbe"):
            print(p, " ".join(c[p]["exec"]["command"]), "httpGet" in c[p])
EOF
) || fail "node.yaml with the bird probes: $out"
sock=$(sed -n 's/^BIRD_SOCKET=\${BIRD_SOCKET:-\(.*\)}$/\1/p' "$PODMESH_SRC/docker/node-start.sh")
[ -n "$sock" ] || fail "no BIRD_SOCKET default in node-start.sh"
want="livenessProbe /usr/bin/podmeshctl node status --bird $sock False
readinessProbe /usr/bin/podmeshctl node status --bird $sock False"
[ "$out" = "$want" ] || fail "bird probes: got '$out', expected '$want'"
out=$($PY "$CHECK" "${ARGS[@]}" "$BIRDK" 2>&1) || fail "k8s_check with the bird probes: $out"
ok "exec podmeshctl node status --bird $sock, installed; the manifests stay clean"

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
broken reflector.yaml 's|maxSurge: 0|maxSurge: 1|' "hostNetwork: maxSurge 1"
broken reflector.yaml 's|type: RollingUpdate|type: Recreate|' \
    "strategy Recreate with 2 replicas stops them all at once"
