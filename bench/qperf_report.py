#!/usr/bin/python3
"""Turn qperf samples into a Markdown report and a gnuplot chart.

Usage: bench/qperf_report.py DIR

Reads, from DIR:
  samples.csv  header `mode,label,path,mtu,device,metric,run,value`; one line
               per qperf result. path is `hosts` (node to node, the baseline)
               or `pods` (pod to pod); metric is tcp_bw or udp_bw (bit/s) or
               tcp_lat or udp_lat (ns, qperf's one-way latency).
  meta.env     KEY=VALUE lines (PM_QP_DATE, PM_QP_CMD, PM_QP_HOST_KERNEL,
               PM_QP_VM_KERNEL, PM_QP_TIME, PM_QP_RUNS, PM_QP_UDP_MSG,
               PM_QP_RATE, PM_QP_QPERF, PM_QP_CPU, PM_QP_BUILD); optional,
               missing keys are left out.

Writes, into DIR:
  table.md     header paragraph, table 1 (every mode and path: mean +-sample
               sd, pods rows with their overhead against that mode's hosts
               row), table 2 (the overheads alone), notes.
  summary.csv  mode,label,path,mtu,device,metric,n,mean,sd,min,max,
               overhead_pct in the input's units (sd empty for one run,
               overhead_pct empty for hosts rows or without a hosts row).
  chart.dat, chart.gp, chart.png
               pods as % of host to host, bandwidth and latency panels;
               `cd DIR && gnuplot chart.gp` redraws the PNG.

Prints table.md and `chart: DIR/chart.png`. Exit status 1 with a message
naming the file and line on bad input, or when gnuplot is missing or fails.
Standard library only.
"""

import csv
import io
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import textwrap

HEADER = ["mode", "label", "path", "mtu", "device", "metric", "run", "value"]
PATHS = ("hosts", "pods")
METRICS = ("tcp_bw", "udp_bw", "tcp_lat", "udp_lat")
# metric -> (column title, scale from input unit to shown unit)
SHOW = {"tcp_bw": ("TCP bw", 1e-9), "udp_bw": ("UDP bw", 1e-9),
        "tcp_lat": ("TCP lat", 1e-3), "udp_lat": ("UDP lat", 1e-3)}
COLORS = {"tcp_bw": "#1f77b4", "udp_bw": "#ff7f0e", "tcp_lat": "#2ca02c", "udp_lat": "#d62728"}
# meta.env key -> sentence in the header paragraph
META = (("PM_QP_DATE", "Measured {}."), ("PM_QP_CMD", "Command: `{}`."),
        ("PM_QP_HOST_KERNEL", "Host kernel {}."), ("PM_QP_VM_KERNEL", "VM kernel {}."))
META2 = (("PM_QP_UDP_MSG", "UDP bandwidth with {}-byte messages."),
         ("PM_QP_RATE", "Each node's underlay link shaped to {} (tc tbf)."),
         ("PM_QP_QPERF", "qperf {}."),
         ("PM_QP_CPU", "CPU: {}."), ("PM_QP_BUILD", "Build: {}."))
BETWEEN = {"hosts": "node to node", "pods": "pod to pod"}
DASH = "\u2013"
GNUPLOT_MISSING = "gnuplot not installed (Debian package gnuplot-nox; bash .ci/deps installs it)"


class InputError(Exception):
    pass


def warn(msg):
    print("qperf_report: warning: " + msg, file=sys.stderr)


def read_samples(path):
    """Return (modes, labels, groups): modes in first-seen order, label per
    mode, and {(mode, path): {"mtu", "device", "line", metric: {run: value}}}."""
    if not os.path.isfile(path) or os.path.getsize(path) == 0:
        raise InputError(f"{path}: {'empty' if os.path.isfile(path) else 'missing'}")
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except UnicodeDecodeError as e:
        raise InputError(f"{path}: not UTF-8 (byte {e.start})") from None
    modes, labels, groups = [], {}, {}
    rd = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        head = next(rd, None)
        if head != HEADER:
            raise InputError(f"{path}:1: wrong header {','.join(head or [])!r}, "
                             f"expected {','.join(HEADER)!r}")
        for row in rd:
            where = f"{path}:{rd.line_num}"
            if not row or row == [""]:
                continue
            if len(row) != len(HEADER):
                raise InputError(f"{where}: {len(row)} fields, expected {len(HEADER)}")
            mode, label, p, mtu, dev, metric, run, value = (x.strip() for x in row)
            if not mode:
                raise InputError(f"{where}: empty mode")
            if p not in PATHS:
                raise InputError(f"{where}: unknown path {p!r} (expected hosts or pods)")
            if metric not in METRICS:
                raise InputError(f"{where}: unknown metric {metric!r} "
                                 f"(expected {', '.join(METRICS)})")
            mtu_i = parse_int(where, "mtu", mtu)
            run_i = parse_int(where, "run", run)
            try:
                v = float(value)
            except ValueError:
                v = float("nan")
            if not math.isfinite(v) or v < 0:
                raise InputError(f"{where}: bad number {value!r} for value")
            label = " ".join(label.split())
            if mode not in labels:
                modes.append(mode)
                labels[mode] = label
            elif labels[mode] != label:
                raise InputError(f"{where}: mode {mode!r} has label {label!r}, "
                                 f"earlier {labels[mode]!r}")
            g = groups.setdefault((mode, p), {"mtu": mtu_i, "device": dev, "line": where})
            if (g["mtu"], g["device"]) != (mtu_i, dev):
                raise InputError(f"{where}: {mode} {p}: mtu/device {mtu_i}/{dev} differ "
                                 f"from {g['mtu']}/{g['device']} at {g['line']}")
            runs = g.setdefault(metric, {})
            if run_i in runs:
                raise InputError(f"{where}: duplicate run {run_i} of {mode} {p} {metric}")
            runs[run_i] = v
    except csv.Error as e:
        raise InputError(f"{path}:{rd.line_num}: {e}") from None
    if not modes:
        raise InputError(f"{path}: no samples after the header")
    return modes, labels, groups


def parse_int(where, name, s):
    try:
        if int(s) >= 1:
            return int(s)
    except ValueError:
        pass
    raise InputError(f"{where}: bad number {s!r} for {name} (an integer >= 1)")


def read_meta(path):
    """KEY=VALUE lines; one level of shell quoting is removed."""
    meta = {}
    if not os.path.isfile(path):
        warn(f"{path}: missing, the header will say little")
        return meta
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#") or "=" not in line:
                continue
            key, val = line.split("=", 1)
            try:
                words = shlex.split(val)
                val = words[0] if len(words) == 1 else val
            except ValueError:
                pass
            if len(val) >= 2 and val[0] == val[-1] and val[0] in "'\"":
                val = val[1:-1]
            meta[key.strip()] = val
    return meta


def stats(runs):
    v = list(runs.values())
    return {"n": len(v), "mean": statistics.fmean(v), "min": min(v), "max": max(v),
            "sd": statistics.stdev(v) if len(v) > 1 else None}


def compute(modes, groups):
    """{(mode, path, metric): stats} plus overhead_pct on pods entries."""
    res = {}
    for (mode, p), g in groups.items():
        for m in METRICS:
            if m in g:
                res[(mode, p, m)] = stats(g[m])
    for mode in modes:
        for m in METRICS:
            pods, hosts = res.get((mode, "pods", m)), res.get((mode, "hosts", m))
            if pods is None:
                continue
            if hosts is None or hosts["mean"] == 0:
                why = "no hosts row" if hosts is None else "hosts mean is 0"
                warn(f"mode {mode!r}: pods {m} has {why}; its overhead is {DASH}")
                pods["overhead"] = None
            else:
                pods["overhead"] = (pods["mean"] / hosts["mean"] - 1) * 100
    return res


def fmt3(x):
    """Three significant digits; returns (text, decimals)."""
    if x == 0:
        return "0", 0
    x = float(f"{x:.3g}")
    d = max(0, 2 - math.floor(math.log10(abs(x))))
    return f"{x:.{d}f}", d


def fmt_pct(p):
    if p is None:
        return DASH
    p = round(p, 1 if abs(p) < 9.95 else 0) + 0.0
    return (f"{p:+.1f}" if abs(p) < 9.95 else f"{p:+.0f}") + " %"


def cell(s, metric, with_overhead):
    if s is None:
        return DASH
    scale = SHOW[metric][1]
    text, d = fmt3(s["mean"] * scale)
    if s["sd"] is not None:
        text += f" \u00b1{s['sd'] * scale:.{d}f}"
    if with_overhead and s.get("overhead") is not None:
        text += f" ({fmt_pct(s['overhead'])})"
    return text


def header_paragraph(meta, res):
    g = meta.get
    parts = ["qperf between two nodes, per routing mode: pod to pod against node"
             " to node (the baseline) on the same path."]
    parts += [fmt.format(g(k)) for k, fmt in META if g(k)]
    runs, secs = g("PM_QP_RUNS"), g("PM_QP_TIME")
    runs = f"{runs} run{'s' if runs != '1' else ''}" if runs else ""
    secs = f"{secs} s per test (qperf -t {secs})" if secs else ""
    if runs or secs:
        parts.append(" \u00d7 ".join(x for x in (runs, secs) if x) + ".")
    for k, fmt in META2:
        if k == "PM_QP_RATE" and g(k) == "none":
            parts.append("Underlay links not shaped.")
        elif g(k):
            parts.append(fmt.format(g(k)))
    ns = sorted({s["n"] for s in res.values()})
    if ns == [1]:
        parts.append("Cells are single runs")
    else:
        parts.append("Cells are the mean \u00b1sample standard deviation of "
                     + "/".join(map(str, ns)) + " runs")
    parts.append("; bandwidth in Gbit/s, latency in \u00b5s (qperf's one-way latency).")
    return " ".join(parts).replace(" ;", ";")


def table_md(meta, modes, labels, groups, res):
    lab = {m: labels[m].replace("|", "\\|") for m in modes}
    unit = {m: " (Gbit/s)" if m.endswith("bw") else " (\u00b5s)" for m in METRICS}
    out = [header_paragraph(meta, res), "",
           "**Table 1.** Every mode and path; pod-to-pod rows show in parentheses"
           " their difference from the same mode's node-to-node row.", "",
           "| mode | between | MTU | route via | "
           + " | ".join(SHOW[m][0] + unit[m] for m in METRICS) + " |",
           "| --- | --- | ---: | --- |" + " ---: |" * len(METRICS)]
    for mode, p in ((mode, p) for mode in modes for p in PATHS if (mode, p) in groups):
        g = groups[(mode, p)]
        cells = [cell(res.get((mode, p, m)), m, p == "pods") for m in METRICS]
        out.append(f"| {lab[mode]} | {BETWEEN[p]} | {g['mtu']} | {g['device']} | "
                   + " | ".join(cells) + " |")
    out += ["", "**Table 2.** Overhead against host to host: pods / hosts - 1."
            " Bandwidth: negative means pods are slower;"
            " latency: positive means pods take longer.", "",
            "| mode | MTU (pods) | " + " | ".join(SHOW[m][0] for m in METRICS) + " |",
            "| --- | ---: |" + " ---: |" * len(METRICS)]
    for mode in modes:
        g = groups.get((mode, "pods"))
        cells = [fmt_pct(res.get((mode, "pods", m), {}).get("overhead")) for m in METRICS]
        out.append(f"| {lab[mode]} | {g['mtu'] if g else DASH} | " + " | ".join(cells) + " |")
    noise = []
    for what, vm in (("in namespaces", False), ("in the VM", True)):
        rel = {m: [s["sd"] / s["mean"] * 100 for k, s in res.items()
                   if k[2] == m and k[0].endswith("-vm") == vm
                   and s["sd"] is not None and s["mean"] > 0] for m in METRICS}
        worst = [f"{SHOW[m][0]} {max(rel[m]):.1f} %" for m in METRICS if rel[m]]
        if worst:
            noise.append(f"{what}, " + ", ".join(worst))
    out += ["", "Noise: the largest relative standard deviation of any single row, "
            + "; ".join(noise) + ". Overheads smaller than that are within the noise."
            if noise else "Noise: one run per row, so no spread was measured; treat"
            " small overheads with care.", "",
            "Note: veth and loopback numbers show the relative overhead of each mode,"
            " not NIC speed. UDP bandwidth (one datagram per send) and the latencies"
            " are bound by per-packet CPU work, not by the link: a pod-to-pod packet"
            " crosses two more veth pairs and two more forwarding decisions than a"
            " node-to-node one (an encapsulating mode adds its encapsulation on top),"
            " a large share of a veth path's few microseconds and a small one of a"
            " real network's. The VM rows run under qemu TCG emulation: compare them"
            " only with their own node-to-node row, not with the other modes."]
    return "\n".join(out) + "\n"


def num(x):
    return "" if x is None else f"{x:.6g}"


def write_summary(path, modes, labels, groups, res):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["mode", "label", "path", "mtu", "device", "metric", "n",
                    "mean", "sd", "min", "max", "overhead_pct"])
        for mode in modes:
            for p in PATHS:
                g = groups.get((mode, p))
                for m in METRICS:
                    s = res.get((mode, p, m))
                    if s is None:
                        continue
                    w.writerow([mode, labels[mode], p, g["mtu"], g["device"], m, s["n"],
                                num(s["mean"]), num(s["sd"]), num(s["min"]), num(s["max"]),
                                num(s.get("overhead") if p == "pods" else None)])


def tick_label(label):
    lines = []
    for part in label.replace(", ", "\n").replace(": ", ":\n").replace(" (", "\n(").split("\n"):
        lines += textwrap.wrap(part, 12, break_long_words=False) or [""]
    esc = (line.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") for line in lines)
    return "\\n".join(esc)


def write_chart(d, modes, labels, res):
    """chart.dat: per mode and metric pods % of hosts and its error; chart.gp."""
    rows, have = [], set()
    top = {"bw": 110.0, "lat": 110.0}  # each panel's tallest bar, >= 110 %
    for i, mode in enumerate(modes):
        cols = [str(i)]
        for m in METRICS:
            s = res.get((mode, "pods", m))
            if s is None or s.get("overhead") is None:
                cols += ["?", "?"]
                continue
            pct = s["overhead"] + 100
            # the ratio's relative error: both means' relative sd combined
            h = res.get((mode, "hosts", m))
            rel2 = sum((x["sd"] / x["mean"]) ** 2 for x in (s, h)
                       if x and x["sd"] is not None and x["mean"] > 0)
            err = pct * math.sqrt(rel2)
            kind = "bw" if m.endswith("bw") else "lat"
            top[kind] = max(top[kind], pct + err)
            have.add(m)
            cols += [f"{pct:.4f}", f"{err:.4f}"]
        rows.append(" ".join(cols) + f"  # {labels[mode]}")
    with open(os.path.join(d, "chart.dat"), "w", encoding="utf-8") as f:
        f.write("# i " + " ".join(f"{m}_pct {m}_err" for m in METRICS) + "  (pods mean as"
                " % of hosts mean; err = pods and hosts relative sd combined, scaled)\n" + "\n".join(rows) + "\n")
    panels = [(t, e, [m for m in METRICS if m in have and m.endswith(e)])
              for t, e in (("Bandwidth", "bw"), ("Latency", "lat"))]
    panels = [p for p in panels if p[2]]
    ticks = ", ".join(f'"{tick_label(labels[m])}" {i}' for i, m in enumerate(modes))
    errs = any(s["sd"] is not None for k, s in res.items() if k[1] == "pods")
    gp = ["# pods as % of host to host; redraw with: cd DIR && gnuplot chart.gp",
          "set terminal pngcairo size 1200,480 font 'Sans,9'; set output 'chart.png'",
          "set datafile missing '?'; set style fill solid 0.85 border -1",
          "set key top center horizontal; set grid ytics",
          f"set xrange [-0.6:{len(modes) - 0.4}]",
          f"set xtics ({ticks}) nomirror font ',8'",
          "set bmargin 5; set lmargin 5; set rmargin 1",
          "set arrow 1 from graph 0, first 100 to graph 1, first 100 nohead front"
          " dt 2 lw 1.5 lc rgb '#444444'",
          f"set multiplot layout 1,{max(1, len(panels))}"]
    if not panels:
        gp += ["set title 'pods as % of host to host'",
               "set label 1 'no data: no mode has both a pods and a hosts row'"
               " at graph 0.5, graph 0.5 center",
               "plot 1/0 notitle"]
    for title, kind, ms in panels:
        w = min(0.4, 0.8 / len(ms))
        gp += [f"set title '{title}, pods as % of host to host'",
               f"set yrange [0:{math.ceil(top[kind] * 1.1 / 10) * 10}]",
               f"set boxwidth {w:.3f} absolute"]
        plots = []
        for k, m in enumerate(ms):
            c = 2 + 2 * METRICS.index(m)
            x = f"($1{(k - (len(ms) - 1) / 2) * w:+.3f})"
            name = SHOW[m][0].split()[0]
            style = (f"using {x}:{c}:{c + 1} with boxerrorbars" if errs
                     else f"using {x}:{c} with boxes")
            plots.append(f"'chart.dat' {style} lc rgb '{COLORS[m]}' title '{name}'")
            plots.append(f"'chart.dat' using {x}:(${c}+${c + 1}):(sprintf('%.0f', ${c})) "
                         "with labels font ',7' offset 0,0.6 notitle")
        gp.append("plot " + ", \\\n     ".join(plots))
    gp.append("unset multiplot")
    with open(os.path.join(d, "chart.gp"), "w", encoding="utf-8") as f:
        f.write("\n".join(gp) + "\n")


def run_gnuplot(d, exe):
    png = os.path.join(d, "chart.png")
    if os.path.exists(png):
        os.remove(png)
    try:
        r = subprocess.run([exe, "chart.gp"], cwd=d, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise InputError(f"{d}/chart.gp: gnuplot timed out after 30 s") from None
    sys.stderr.write(r.stderr)
    if r.returncode != 0 or not os.path.isfile(png):
        raise InputError(f"{d}/chart.gp: gnuplot failed (exit status {r.returncode})")
    with open(png, "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            raise InputError(f"{png}: gnuplot wrote no PNG")
    return png


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print("usage: qperf_report.py DIR", file=sys.stderr)
        return 1
    d = argv[1]
    try:
        modes, labels, groups = read_samples(os.path.join(d, "samples.csv"))
        meta = read_meta(os.path.join(d, "meta.env"))
        res = compute(modes, groups)
        md = table_md(meta, modes, labels, groups, res)
        # everything checked before the first write: on error DIR is unchanged
        gnuplot = shutil.which("gnuplot")
        if gnuplot is None:
            raise InputError(GNUPLOT_MISSING)
        with open(os.path.join(d, "table.md"), "w", encoding="utf-8") as f:
            f.write(md)
        write_summary(os.path.join(d, "summary.csv"), modes, labels, groups, res)
        write_chart(d, modes, labels, res)
        png = run_gnuplot(d, gnuplot)
    except InputError as e:
        print(f"qperf_report: {e}", file=sys.stderr)
        return 1
    sys.stdout.write(md)
    print(f"chart: {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
