#!/usr/bin/python3
"""Static checks of podmesh's Kubernetes manifests (docker/k8s/*.yaml).

usage: k8s_check.py [options] FILE|DIR...
  --installed DIR      a staged `cmake --install` tree: every container's
                       command must name a file installed there
  --env CMD=FILE       environment variables a container whose command is
                       CMD may set: the upper-case words of FILE (a --help
                       text, a script); repeat for more files or commands
  --install-cni FILE   install-cni.sh: the placeholders it fills
  --self-test          also break copies of the manifests in known ways and
                       expect each to be caught with the right message

Checks: apiVersion/kind/metadata.name in every document; the current
apiVersion for each kind; workload selectors match the template labels;
every volumeMount names a volume of its pod; configMapKeyRef, secretKeyRef,
configMap/secret volumes and serviceAccountName name objects (and keys) of
the manifests; RBAC bindings name roles and service accounts that exist;
container commands are installed; env vars are known (catches typos);
liveness/readiness probes are httpGet /liveness and /readiness on 9099,
or exec `podmeshctl node status ...` (an installed podmeshctl); a workload
on the host network does not surge on update (maxSurge given and 0:
Kubernetes' default is 25%, at least one pod; no maxSurge and
maxUnavailable both 0) and is not Recreate with more than one replica (all
down at once); cni_network_config is valid JSON once install-cni has
filled it.
Exit 0 if clean, 1 with one line per problem, 2 for usage errors.
Needs Debian's python3-yaml (run with /usr/bin/python3).
"""

import copy
import json
import os
import re
import sys

import yaml

API_VERSIONS = {
    "Namespace": "v1",
    "ServiceAccount": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "DaemonSet": "apps/v1",
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "ClusterRoleBinding": "rbac.authorization.k8s.io/v1",
    "Role": "rbac.authorization.k8s.io/v1",
    "RoleBinding": "rbac.authorization.k8s.io/v1",
    "PriorityClass": "scheduling.k8s.io/v1",
}
WORKLOADS = ("DaemonSet", "Deployment", "StatefulSet")
HEALTH_PORT = 9099
PROBES = {"livenessProbe": "/liveness", "readinessProbe": "/readiness"}
# podmesh's long-running containers: these must have both probes
SERVING_COMMANDS = ("node-start.sh", "podmesh-bgpd")
PLACEHOLDER_RE = re.compile(r"__[A-Z0-9_]+__")


def load(paths):
    """[(file, doc)] of every YAML document under paths."""
    files = []
    for p in paths:
        if os.path.isdir(p):
            files += sorted(
                os.path.join(p, f)
                for f in os.listdir(p)
                if f.endswith((".yaml", ".yml"))
            )
        else:
            files.append(p)
    docs = []
    for f in files:
        with open(f) as fh:
            for d in yaml.safe_load_all(fh):
                if d is not None:
                    docs.append((os.path.basename(f), d))
    return docs


def pods(docs):
    """(where, pod spec) of every workload."""
    for f, d in docs:
        if isinstance(d, dict) and d.get("kind") in WORKLOADS:
            spec = (d.get("spec") or {}).get("template", {}).get("spec")
            if isinstance(spec, dict):
                yield "%s: %s/%s" % (f, d["kind"], name(d)), d, spec


def name(d):
    return (d.get("metadata") or {}).get("name", "?")


def containers(spec):
    for c in spec.get("initContainers") or []:
        yield "initContainer", c
    for c in spec.get("containers") or []:
        yield "container", c


def fill(template, placeholders):
    """cni_network_config as install-cni writes it, with sample values."""
    values = {
        "__CNI_MTU__": "1440",
        "__KUBERNETES_NODE_NAME__": "node-1",
        "__ETCD_ENDPOINTS__": "https://192.0.2.1:2379",
    }
    out = template
    for p in placeholders:
        out = out.replace(p, values.get(p, "/etc/cni/net.d/x"))
    return out


def check_exec_probe(cw, probe, p, ctx):
    """An exec probe: podmeshctl node status, installed."""
    cmd = (p.get("exec") or {}).get("command") or []
    if (
        len(cmd) < 3
        or os.path.basename(str(cmd[0])) != "podmeshctl"
        or cmd[1:3] != ["node", "status"]
    ):
        return [
            "%s: %s: exec must run podmeshctl node status, is %s" % (cw, probe, cmd)
        ]
    if ctx.get("installed") is not None and "podmeshctl" not in ctx["installed"]:
        return ["%s: %s: %s is not installed" % (cw, probe, cmd[0])]
    return []


def zero(v):
    """An int-or-percent of the update strategy is 0 (or 0%)."""
    return v in (0, "0", "0%")


def check_rollout(where, d):
    """
    A workload on the host network binds the node's ports (BGP's 179):
    a second pod on the same node cannot start, so no surge; and not all
    of its pods down at once.
    """
    errs = []
    spec = d.get("spec") or {}
    kind = d.get("kind")
    if kind == "Deployment":
        st = spec.get("strategy") or {}
        typ = st.get("type", "RollingUpdate")
        replicas = spec.get("replicas", 1)
        if typ == "Recreate":
            if isinstance(replicas, int) and replicas > 1:
                errs.append(
                    "%s: strategy Recreate with %d replicas stops them all "
                    "at once: use RollingUpdate, maxUnavailable 1, maxSurge 0"
                    % (where, replicas)
                )
            return errs
    elif kind == "DaemonSet":
        st = spec.get("updateStrategy") or {}
        typ = st.get("type", "RollingUpdate")
    else:
        return errs
    if typ != "RollingUpdate":
        return errs
    ru = st.get("rollingUpdate") or {}
    if kind == "Deployment" and "maxSurge" not in ru:
        errs.append(
            "%s: hostNetwork: maxSurge not given (Kubernetes' default 25%%, "
            "one pod at least, which cannot bind the node's ports): set "
            "maxSurge: 0" % where
        )
    elif not zero(ru.get("maxSurge", 0)):
        errs.append(
            "%s: hostNetwork: maxSurge %s: a surge pod cannot bind the "
            "node's ports; set maxSurge: 0" % (where, ru.get("maxSurge"))
        )
    if "maxUnavailable" in ru and zero(ru["maxUnavailable"]) and zero(
        ru.get("maxSurge", 0 if kind == "DaemonSet" else "25%")
    ):
        errs.append(
            "%s: maxUnavailable and maxSurge both 0: the update cannot "
            "progress" % where
        )
    return errs


def check(docs, ctx):
    errs = []
    by_kind = {}
    for f, d in docs:
        where = f
        if not isinstance(d, dict):
            errs.append("%s: a document that is not a mapping" % f)
            continue
        for k in ("apiVersion", "kind"):
            if not d.get(k):
                errs.append("%s: document without %s" % (where, k))
        if not name(d) or name(d) == "?":
            errs.append("%s: %s without metadata.name" % (where, d.get("kind")))
        kind = d.get("kind")
        want = API_VERSIONS.get(kind)
        if want is None:
            errs.append("%s: %s/%s: kind not known to the checker" % (f, kind, name(d)))
        elif d.get("apiVersion") != want:
            errs.append(
                "%s: %s/%s: apiVersion %s, expected %s"
                % (f, kind, name(d), d.get("apiVersion"), want)
            )
        by_kind.setdefault(kind, {})[name(d)] = d

    def data_keys(kind, n):
        d = by_kind.get(kind, {}).get(n)
        if d is None:
            return None
        return set((d.get("data") or {}).keys()) | set(
            (d.get("stringData") or {}).keys()
        )

    # RBAC
    for n, b in by_kind.get("ClusterRoleBinding", {}).items():
        ref = b.get("roleRef") or {}
        if ref.get("name") not in by_kind.get(ref.get("kind"), {}):
            errs.append(
                "ClusterRoleBinding/%s: roleRef %s/%s is not defined"
                % (n, ref.get("kind"), ref.get("name"))
            )
        for s in b.get("subjects") or []:
            if s.get("kind") == "ServiceAccount" and s.get("name") not in by_kind.get(
                "ServiceAccount", {}
            ):
                errs.append(
                    "ClusterRoleBinding/%s: subject ServiceAccount %s is not defined"
                    % (n, s.get("name"))
                )

    for where, d, spec in pods(docs):
        sel = ((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        labels = (
            (d["spec"].get("template") or {}).get("metadata") or {}
        ).get("labels") or {}
        if not sel:
            errs.append("%s: no spec.selector.matchLabels" % where)
        for k, v in sel.items():
            if labels.get(k) != v:
                errs.append(
                    "%s: selector %s=%s does not match the template labels %s"
                    % (where, k, v, labels)
                )
        sa = spec.get("serviceAccountName")
        if sa is not None and sa not in by_kind.get("ServiceAccount", {}):
            errs.append("%s: serviceAccountName %s is not defined" % (where, sa))
        volumes = {}
        for v in spec.get("volumes") or []:
            volumes[v.get("name")] = v
            if "configMap" in v and v["configMap"].get("name") not in by_kind.get(
                "ConfigMap", {}
            ):
                errs.append(
                    "%s: volume %s: ConfigMap %s is not defined"
                    % (where, v["name"], v["configMap"].get("name"))
                )
            if "secret" in v and v["secret"].get("secretName") not in by_kind.get(
                "Secret", {}
            ):
                errs.append(
                    "%s: volume %s: Secret %s is not defined"
                    % (where, v["name"], v["secret"].get("secretName"))
                )
        used = set()
        for role, c in containers(spec):
            cw = "%s: %s %s" % (where, role, c.get("name"))
            for m in c.get("volumeMounts") or []:
                used.add(m.get("name"))
                if m.get("name") not in volumes:
                    errs.append(
                        "%s: volumeMount %s names no volume of the pod"
                        % (cw, m.get("name"))
                    )
            cmd = c.get("command") or []
            base = os.path.basename(cmd[0]) if cmd else None
            if base is None:
                errs.append("%s: no command (the checker needs to know what runs)" % cw)
            elif ctx.get("installed") is not None and base not in ctx["installed"]:
                errs.append(
                    "%s: command %s is not installed by cmake --install" % (cw, cmd[0])
                )
            known = ctx.get("env", {}).get(base)
            for e in c.get("env") or []:
                n = e.get("name")
                if known is not None and n not in known:
                    errs.append(
                        "%s: unknown env var %s (not in %s's documentation)"
                        % (cw, n, base)
                    )
                vf = e.get("valueFrom") or {}
                for ref, kind in (
                    ("configMapKeyRef", "ConfigMap"),
                    ("secretKeyRef", "Secret"),
                ):
                    r = vf.get(ref)
                    if r is None:
                        continue
                    keys = data_keys(kind, r.get("name"))
                    if keys is None:
                        errs.append(
                            "%s: env %s: %s %s is not defined"
                            % (cw, n, kind, r.get("name"))
                        )
                    elif r.get("key") not in keys:
                        errs.append(
                            "%s: env %s: %s %s has no key %s"
                            % (cw, n, kind, r.get("name"), r.get("key"))
                        )
            for probe, path in PROBES.items():
                p = c.get(probe)
                if p is None:
                    if role == "container" and base in SERVING_COMMANDS:
                        errs.append("%s: no %s" % (cw, probe))
                    continue
                if "exec" in p:
                    errs += check_exec_probe(cw, probe, p, ctx)
                    continue
                g = p.get("httpGet") or {}
                if (
                    g.get("path") != path
                    or g.get("port") != HEALTH_PORT
                    or g.get("host") not in ("127.0.0.1", "localhost")
                ):
                    errs.append(
                        "%s: %s must be httpGet %s on 127.0.0.1 port %d, is %s"
                        % (cw, probe, path, HEALTH_PORT, p)
                    )
        for v in volumes:
            if v not in used:
                errs.append("%s: volume %s is not mounted" % (where, v))
        if spec.get("hostNetwork"):
            errs += check_rollout(where, d)

    # the CNI network config, as install-cni will write it
    for n, cm in by_kind.get("ConfigMap", {}).items():
        t = (cm.get("data") or {}).get("cni_network_config")
        if t is None:
            continue
        ph = ctx.get("placeholders")
        if ph is not None:
            unknown = sorted(set(PLACEHOLDER_RE.findall(t)) - ph)
            if unknown:
                errs.append(
                    "ConfigMap/%s: cni_network_config: placeholder %s that "
                    "install-cni does not fill" % (n, ", ".join(unknown))
                )
        filled = fill(t, ph or set(PLACEHOLDER_RE.findall(t)))
        try:
            conf = json.loads(filled)
        except ValueError as e:
            errs.append("ConfigMap/%s: cni_network_config is not valid JSON: %s" % (n, e))
            continue
        types = [p.get("type") for p in conf.get("plugins", [conf])]
        if "podmesh" not in types:
            errs.append("ConfigMap/%s: cni_network_config has no podmesh plugin" % n)
    return errs


def mutate(docs, kind, fn):
    out = copy.deepcopy(docs)
    for _, d in out:
        if d.get("kind") == kind:
            fn(d)
            return out
    raise SystemExit("self-test: no %s in the manifests" % kind)


def pod_of(d):
    return d["spec"]["template"]["spec"]


def first_env(d, name):
    for c in pod_of(d)["containers"]:
        for e in c.get("env") or []:
            if e["name"] == name:
                return e
    raise SystemExit("self-test: no env %s" % name)


def cm_key_env(d):
    for c in pod_of(d)["containers"]:
        for e in c.get("env") or []:
            if "configMapKeyRef" in (e.get("valueFrom") or {}):
                return e
    raise SystemExit("self-test: no configMapKeyRef")


def set_cni(d, f):
    d["data"]["cni_network_config"] = f(d["data"]["cni_network_config"])


SELF_TESTS = [
    ("wrong apiVersion", "DaemonSet",
     lambda d: d.update(apiVersion="extensions/v1beta1"),
     "apiVersion extensions/v1beta1, expected apps/v1"),
    ("selector mismatch", "Deployment",
     lambda d: d["spec"]["selector"]["matchLabels"].update({"k8s-app": "nope"}),
     "does not match the template labels"),
    ("missing volume", "DaemonSet",
     lambda d: pod_of(d)["volumes"].pop(0),
     "names no volume of the pod"),
    ("missing name", "ServiceAccount",
     lambda d: d["metadata"].pop("name"),
     "without metadata.name"),
    ("ConfigMap key typo", "DaemonSet",
     lambda d: cm_key_env(d)["valueFrom"]["configMapKeyRef"].update(key="etcd_endpoint"),
     "has no key etcd_endpoint"),
    ("env var typo", "DaemonSet",
     lambda d: first_env(d, "ETCD_ENDPOINTS").update(name="ETCD_ENDPIONTS"),
     "unknown env var ETCD_ENDPIONTS"),
    ("probe port", "DaemonSet",
     lambda d: pod_of(d)["containers"][0]["livenessProbe"]["httpGet"].update(port=9098),
     "livenessProbe must be httpGet /liveness on 127.0.0.1 port 9099"),
    ("probe missing", "Deployment",
     lambda d: pod_of(d)["containers"][0].pop("readinessProbe"),
     "no readinessProbe"),
    ("command not installed", "DaemonSet",
     lambda d: pod_of(d)["containers"][0].update(command=["/usr/bin/podmesh-bgp"]),
     "command /usr/bin/podmesh-bgp is not installed"),
    ("service account typo", "Deployment",
     lambda d: pod_of(d).update(serviceAccountName="podmesh-reflecter"),
     "serviceAccountName podmesh-reflecter is not defined"),
    ("binding to a missing role", "ClusterRoleBinding",
     lambda d: d["roleRef"].update(name="podmesh"),
     "roleRef ClusterRole/podmesh is not defined"),
    ("secret volume typo", "DaemonSet",
     lambda d: [v["secret"].update(secretName="podmesh-etcd-secret")
                for v in pod_of(d)["volumes"] if "secret" in v],
     "Secret podmesh-etcd-secret is not defined"),
    ("Recreate with 2 replicas", "Deployment",
     lambda d: d["spec"].update(strategy={"type": "Recreate"}),
     "strategy Recreate with 2 replicas stops them all at once"),
    ("maxSurge on the host network", "Deployment",
     lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxSurge=1),
     "hostNetwork: maxSurge 1: a surge pod cannot bind"),
    ("default maxSurge on the host network", "Deployment",
     lambda d: d["spec"].pop("strategy"),
     "hostNetwork: maxSurge not given"),
    ("DaemonSet surge", "DaemonSet",
     lambda d: d["spec"]["updateStrategy"]["rollingUpdate"].update(maxSurge="10%"),
     "hostNetwork: maxSurge 10%"),
    ("update that cannot progress", "Deployment",
     lambda d: d["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=0),
     "maxUnavailable and maxSurge both 0"),
    ("exec probe not podmeshctl", "DaemonSet",
     lambda d: pod_of(d)["containers"][0].update(
         livenessProbe={"exec": {"command": ["birdc", "show", "status"]}}),
     "livenessProbe: exec must run podmeshctl node status"),
    ("CNI config not JSON", "ConfigMap",
     lambda d: set_cni(d, lambda s: s.replace('"podmesh",', '"podmesh"', 1)),
     "cni_network_config is not valid JSON"),
    ("unknown placeholder", "ConfigMap",
     lambda d: set_cni(d, lambda s: s.replace("__LOG_LEVEL__", "__LOGLEVEL__")),
     "placeholder __LOGLEVEL__ that install-cni does not fill"),
]


def words(path):
    with open(path) as fh:
        return set(re.findall(r"\b[A-Z][A-Z0-9_]+\b", fh.read()))


def main(argv):
    ctx = {"env": {}}
    paths = []
    self_test = False
    i = 0
    try:
        while i < len(argv):
            a = argv[i]
            if a == "--installed":
                i += 1
                ctx["installed"] = {
                    f
                    for _, _, fs in os.walk(argv[i])
                    for f in fs
                }
            elif a == "--env":
                i += 1
                cmd, _, f = argv[i].partition("=")
                ctx["env"].setdefault(cmd, set()).update(words(f))
            elif a == "--install-cni":
                i += 1
                with open(argv[i]) as fh:
                    ctx["placeholders"] = set(
                        re.findall(r"s\|(__[A-Z0-9_]+__)\|", fh.read())
                    )
                if not ctx["placeholders"]:
                    print("k8s_check: no placeholders in %s" % argv[i], file=sys.stderr)
                    return 2
            elif a == "--self-test":
                self_test = True
            elif a.startswith("-"):
                print(__doc__, file=sys.stderr)
                return 2
            else:
                paths.append(a)
            i += 1
    except (IndexError, OSError) as e:
        print("k8s_check: %s" % e, file=sys.stderr)
        return 2
    if not paths:
        print(__doc__, file=sys.stderr)
        return 2
    docs = load(paths)
    if not docs:
        print("k8s_check: no documents in %s" % " ".join(paths))
        return 1
    errs = check(docs, ctx)
    for e in errs:
        print(e)
    if errs:
        return 1
    print("k8s_check: %d documents OK" % len(docs))
    if not self_test:
        return 0
    bad = 0
    for what, kind, fn, want in SELF_TESTS:
        got = check(mutate(docs, kind, fn), ctx)
        if not any(want in e for e in got):
            print("self-test %s: expected '%s', got %s" % (what, want, got or "no error"))
            bad += 1
    print("k8s_check: self-test %d/%d caught" % (len(SELF_TESTS) - bad, len(SELF_TESTS)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
