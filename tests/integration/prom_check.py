#!/usr/bin/python3
"""Checks podmesh-bgpd's /metrics with the real Prometheus parser.

usage: prom_check.py METRICS PEERS_JSON [--datastore] [--kernel]
       prom_check.py --selftest

METRICS is the body of GET /metrics, PEERS_JSON the output of
`podmeshctl bgp peers -o json` taken at the same time.  Parses METRICS with
prometheus_client.parser.text_string_to_metric_families (Debian's
python3-prometheus-client: run with /usr/bin/python3), then checks: every
family has HELP and TYPE lines, names follow Prometheus' rules, counters
end in _total, no series appears twice (same name, same labels), no two
families are one under OpenMetrics (a gauge X beside a counter X_total:
OpenMetrics names the counter's family X), the expected families are there
with their label sets, and the per-peer values agree with PEERS_JSON
(state, received as prefixes_accepted, sent).  Prints one summary line;
exits 1 with the reasons otherwise.  --selftest makes sure the parser and
these checks reject broken input.
"""
import json
import re
import sys

from prometheus_client.parser import text_string_to_metric_families

NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
STATES = ["Idle", "Connect", "Active", "OpenSent", "OpenConfirm",
          "Established"]

# family (as exposed) -> (type, label names of its series)
EXPECTED = {
    "podmesh_bgpd_start_time_seconds": ("gauge", set()),
    "podmesh_bgpd_info": ("gauge", {"version", "router_id", "asn", "mode",
                                    "route_reflector"}),
    "podmesh_bgp_peer_up": ("gauge", {"peer", "asn", "type"}),
    "podmesh_bgp_peer_state": ("gauge", {"peer", "state"}),
    "podmesh_bgp_peer_prefixes_accepted": ("gauge", {"peer"}),
    "podmesh_bgp_peer_prefixes_received_total": ("counter", {"peer"}),
    "podmesh_bgp_peer_prefixes_sent_total": ("counter", {"peer"}),
    "podmesh_bgp_peer_updates_received_total": ("counter", {"peer"}),
    "podmesh_bgp_peer_updates_sent_total": ("counter", {"peer"}),
    "podmesh_bgp_peer_messages_received_total": ("counter", {"peer", "type"}),
    "podmesh_bgp_peer_messages_sent_total": ("counter", {"peer", "type"}),
    "podmesh_bgp_peer_established_transitions_total": ("counter", {"peer"}),
    "podmesh_bgp_peer_established_change_timestamp_seconds":
        ("gauge", {"peer"}),
    "podmesh_bgp_rib_prefixes": ("gauge", {"family"}),
    "podmesh_bgp_rib_paths": ("gauge", set()),
}
KERNEL = {
    "podmesh_kernel_routes": ("gauge", {"family"}),
    "podmesh_kernel_routes_adopted": ("gauge", set()),
    "podmesh_kernel_routes_queued": ("gauge", set()),
    "podmesh_kernel_route_installs_total": ("counter", set()),
    "podmesh_kernel_route_deletes_total": ("counter", set()),
    "podmesh_kernel_route_errors_total": ("counter", set()),
    "podmesh_kernel_route_repairs_total": ("counter", set()),
    "podmesh_kernel_resyncs_total": ("counter", set()),
}
DATASTORE = {
    "podmesh_datastore_synced": ("gauge", set()),
    "podmesh_datastore_watch_connected": ("gauge", set()),
    "podmesh_datastore_revision": ("gauge", set()),
    "podmesh_datastore_keys": ("gauge", set()),
    "podmesh_datastore_relists_total": ("counter", set()),
    "podmesh_datastore_list_errors_total": ("counter", set()),
    "podmesh_datastore_watch_disconnects_total": ("counter", set()),
    "podmesh_datastore_watch_events_total": ("counter", set()),
}


def check(text, peers, want):
    """Returns (errors, samples by name -> [(labels, value)], nfamilies)."""
    errs = []
    helps, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"^# (HELP|TYPE) (\S+) ?(.*)$", line)
        if not m:
            continue
        (helps if m.group(1) == "HELP" else types)[m.group(2)] = m.group(3)
    for name, typ in types.items():
        if typ.split(" ")[0] == "counter" and name.endswith("_total") and \
                name[:-6] in types:
            errs.append("families %s and %s clash (one under OpenMetrics)"
                        % (name[:-6], name))
    fams = list(text_string_to_metric_families(text))
    samples, seen, famnames = {}, set(), {}
    for f in fams:
        # the parser names a counter X_total's family X, as OpenMetrics does
        if f.name in famnames:
            errs.append("family %s twice (%s, %s)" %
                        (f.name, famnames[f.name], f.type))
        famnames[f.name] = f.type
        # the parser names counter families without _total
        exposed = f.name + "_total" if f.type == "counter" else f.name
        if f.type == "counter" and exposed not in types:
            exposed = f.name
        if not NAME.match(exposed):
            errs.append("bad metric name %r" % exposed)
        if exposed not in types:
            errs.append("%s: no TYPE line" % exposed)
        if exposed not in helps or not f.documentation:
            errs.append("%s: no HELP text" % exposed)
        if f.type == "counter" and not exposed.endswith("_total"):
            errs.append("%s: counter without _total" % exposed)
        if f.type not in ("counter", "gauge"):
            errs.append("%s: type %s" % (exposed, f.type))
        for s in f.samples:
            if not NAME.match(s.name):
                errs.append("bad sample name %r" % s.name)
            for k in s.labels:
                if not LABEL.match(k) or k.startswith("__"):
                    errs.append("%s: bad label name %r" % (s.name, k))
            key = (s.name, frozenset(s.labels.items()))
            if key in seen:
                errs.append("duplicate series %s%s" %
                            (s.name, sorted(s.labels.items())))
            seen.add(key)
            samples.setdefault(s.name, []).append((s.labels, s.value))
        if exposed in want:
            wtype, wlabels = want[exposed]
            if f.type != wtype:
                errs.append("%s: type %s, want %s" % (exposed, f.type, wtype))
            for s in f.samples:
                if set(s.labels) != wlabels:
                    errs.append("%s: labels %s, want %s" %
                                (exposed, sorted(s.labels), sorted(wlabels)))
    for name in want:
        if name not in types:
            errs.append("missing family %s" % name)
    for name in types:
        if name not in want:
            errs.append("unexpected family %s" % name)

    def value(name, **labels):
        for lab, v in samples.get(name, []):
            if all(lab.get(k) == str(x) for k, x in labels.items()):
                return v
        return None

    for p in peers:
        a = p["address"]
        up = value("podmesh_bgp_peer_up", peer=a)
        if up != (1 if p["state"] == "Established" else 0):
            errs.append("peer %s: up %s, state %s" % (a, up, p["state"]))
        for st in STATES:
            v = value("podmesh_bgp_peer_state", peer=a, state=st)
            if v != (1 if st == p["state"] else 0):
                errs.append("peer %s: state %s = %s, json says %s" %
                            (a, st, v, p["state"]))
        if value("podmesh_bgp_peer_up", peer=a, asn=p["asn"]) is None:
            errs.append("peer %s: asn label is not %s" % (a, p["asn"]))
        # the json's "received" is the paths held now: the gauge
        v = value("podmesh_bgp_peer_prefixes_accepted", peer=a)
        if v != p["received"]:
            errs.append("peer %s: accepted %s, json received %s" %
                        (a, v, p["received"]))
        v = value("podmesh_bgp_peer_prefixes_sent_total", peer=a)
        if v != p["sent"]:
            errs.append("peer %s: sent %s, json %s" % (a, v, p["sent"]))
    npeers = len(samples.get("podmesh_bgp_peer_up", []))
    if npeers != len(peers):
        errs.append("%d peers in metrics, %d in json" % (npeers, len(peers)))
    return errs, samples, len(fams)


def selftest():
    good = ("# HELP a_total A.\n# TYPE a_total counter\na_total 1\n")
    bad = [
        'x{a="b} 1\n',                                   # unterminated
        "# HELP a_total A.\n# TYPE a_total counter\na_total one\n",
    ]
    for b in bad:
        try:
            list(text_string_to_metric_families(b))
        except ValueError:
            continue
        sys.exit("selftest: the parser took %r" % b)
    errs, _, _ = check(good, [], {"a_total": ("counter", set())})
    if errs:
        sys.exit("selftest: good input refused: %s" % errs)
    errs, _, _ = check("# TYPE a counter\na 1\n", [], {})
    if not any("_total" in e for e in errs) or \
            not any("HELP" in e for e in errs):
        sys.exit("selftest: a counter without _total and HELP passed: %s"
                 % errs)
    # the same series twice, with the labels in another order too
    dup = good + 'a_total{x="1",y="2"} 2\na_total{y="2",x="1"} 3\n'
    errs, _, _ = check(dup, [], {"a_total": ("counter", {"x", "y"})})
    if not any("duplicate series a_total" in e for e in errs):
        sys.exit("selftest: a duplicate series passed: %s" % errs)
    errs, _, _ = check(good + "a_total 2\n", [], {})
    if not any("duplicate series a_total" in e for e in errs):
        sys.exit("selftest: a duplicate unlabelled series passed: %s" % errs)
    # a gauge X and a counter X_total: one family under OpenMetrics
    clash = good + "# HELP a A now.\n# TYPE a gauge\na 1\n"
    want = {"a_total": ("counter", set()), "a": ("gauge", set())}
    errs, _, _ = check(clash, [], want)
    if not any("clash" in e for e in errs) or \
            not any("family a twice" in e for e in errs):
        sys.exit("selftest: gauge a beside counter a_total passed: %s" % errs)
    errs, _, _ = check(good + "# HELP b B now.\n# TYPE b gauge\nb 1\n",
                       [], {"a_total": ("counter", set()),
                            "b": ("gauge", set())})
    if errs:
        sys.exit("selftest: a gauge b beside a_total refused: %s" % errs)
    print("selftest ok")


def main():
    if sys.argv[1:] == ["--selftest"]:
        selftest()
        return
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    want = dict(EXPECTED)
    if "--kernel" in sys.argv[3:]:
        want.update(KERNEL)
    if "--datastore" in sys.argv[3:]:
        want.update(DATASTORE)
    with open(sys.argv[1]) as f:
        text = f.read()
    with open(sys.argv[2]) as f:
        peers = json.load(f)
    errs, samples, nfam = check(text, peers, want)
    if errs:
        print("\n".join(errs))
        sys.exit(1)
    print("ok: %d families, %d samples, %d peers" %
          (nfam, sum(len(v) for v in samples.values()), len(peers)))


if __name__ == "__main__":
    main()
