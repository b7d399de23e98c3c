#!/bin/bash
#
# bench/qperf_report.py, the parser and report writer behind bench/qperf.sh,
# on hand-made inputs (no root, no namespaces, no qperf):
#  1. known vectors: two modes (one in the VM), hosts and pods, all four
#     metrics, 3 runs with values whose mean, sd and overhead are easy by
#     hand; exact Table 1 and Table 2 rows, summary.csv lines, the header
#     sentences from a printf %q meta.env, the noise footnote split in
#     namespaces / in the VM, chart.gp with both panels, chart.png a PNG;
#  2. the quick form (tcp_bw, one run): cells without +-, "one run per row",
#     the bandwidth panel only;
#  3. a pods row without its hosts row (and a mode with hosts only): exit 0,
#     a warning, dashes;
#  4. bad input, each in a folder already holding a report: exit 1, exactly
#     the message naming file and line on stderr, nothing on stdout, every
#     file in the folder byte for byte as before, nothing added;
#  5. gnuplot missing from PATH: exit 1, the message, folder unchanged.
set -u -o pipefail
src=${PODMESH_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
py=/usr/bin/python3
rep=$src/bench/qperf_report.py
tmp=$(mktemp -d /tmp/pm-t-qrep-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
nfail=0

fail() {
	echo "t_qperf_report: FAIL: $*" >&2
	nfail=$((nfail + 1))
}

# has FILE LINE: FILE holds LINE as a whole line
has() {
	grep -qxF -- "$2" "$1" || fail "$1 lacks line: $2"
}
# hasin FILE TEXT: TEXT somewhere in FILE
hasin() {
	grep -qF -- "$2" "$1" || fail "$1 lacks: $2"
}
hasnot() {
	! grep -qF -- "$2" "$1" || fail "$1 should not contain: $2"
}

# run DIR [ENV...]: the report on DIR; rc, $DIR.out, $DIR.err
run() {
	local d=$1
	shift
	rc=0
	env "$@" "$py" "$rep" "$d" >"$d.out" 2>"$d.err" || rc=$?
}

[ -x "$py" ] || { echo "t_qperf_report: FAIL: no $py" >&2; exit 1; }
command -v gnuplot >/dev/null || {
	echo "t_qperf_report: FAIL: gnuplot not installed (bash .ci/deps)" >&2
	exit 1
}

H=mode,label,path,mtu,device,metric,run,value
D='–'

# ---- 1. known vectors ----------------------------------------------------
k=$tmp/known
mkdir "$k"
# runs3 MODE,LABEL,PATH,MTU,DEV METRIC V1 V2 V3: three runs of one metric
runs3() {
	local r=1 v
	for v in "${@:3}"; do
		echo "$1,$2,$r,$v"
		r=$((r + 1))
	done
}
N="native,native routing"
V="ipip-vm,IPIP (qemu VM)"
{
	echo "$H"
	# native: bw in bit/s, latency in ns
	runs3 "$N,hosts,1500,eth0" tcp_bw 9e9 10e9 11e9 # 10.0 +-1.0
	runs3 "$N,hosts,1500,eth0" udp_bw 4e9 5e9 6e9 # 5.00 +-1.00
	runs3 "$N,hosts,1500,eth0" tcp_lat 19000 20000 21000 # 20.0 +-1.0
	runs3 "$N,hosts,1500,eth0" udp_lat 10000 10000 10000 # 10.0 +-0.0
	runs3 "$N,pods,1500,eth0" tcp_bw 9e9 9e9 9e9 # -10 %
	runs3 "$N,pods,1500,eth0" udp_bw 4000000000 4e9 4.0e9 # -20 %
	runs3 "$N,pods,1500,eth0" tcp_lat 25000 25000 25000 # +25 %
	runs3 "$N,pods,1500,eth0" udp_lat 10500 10500 10500 # +5.0 %
	# the VM, hosts and pods interleaved
	runs3 "$V,hosts,1500,eth0" tcp_bw 2e9 2e9 2e9
	runs3 "$V,pods,1480,tunl0" tcp_bw 1e9 1.5e9 2e9 # 1.50 +-0.50, -25 %
	runs3 "$V,hosts,1500,eth0" udp_bw 1e9 1e9 1e9
	runs3 "$V,pods,1480,tunl0" udp_bw 0.5e9 0.5e9 0.5e9 # 0.500, -50 %
	runs3 "$V,hosts,1500,eth0" tcp_lat 100000 100000 100000
	runs3 "$V,pods,1480,tunl0" tcp_lat 150000 200000 250000 # 200 +-50, +100 %
	runs3 "$V,hosts,1500,eth0" udp_lat 50000 50000 50000
	runs3 "$V,pods,1480,tunl0" udp_lat 60000 60000 60000 # +20 %
} >"$k/samples.csv"
[ "$(grep -c . "$k/samples.csv")" = 49 ] || fail "test bug: samples.csv has $(wc -l <"$k/samples.csv") lines"
{
	printf 'PM_QP_DATE=%q\n' 2024-01-02T03:04:05Z
	printf 'PM_QP_CMD=%q\n' "bench/qperf.sh --runs 3 --time 5"
	printf 'PM_QP_HOST_KERNEL=%q\n' 6.1.0-18-amd64
	printf 'PM_QP_VM_KERNEL=%q\n' "6.1.0-18-amd64 (qemu TCG, 2 vCPUs)"
	printf 'PM_QP_TIME=%q\nPM_QP_RUNS=%q\n' 5 3
	printf 'PM_QP_UDP_MSG=%q\n' 1400
	printf 'PM_QP_RATE=%q\n' none
	printf 'PM_QP_QPERF=%q\n' 0.4.11
	printf 'PM_QP_CPU=%q\n' "Intel(R) Xeon(R) CPU @ 2.20GHz"
	printf 'PM_QP_BUILD=%q\n' "/work/main/build rel"
} >"$k/meta.env"
grep -qF 'Intel\(R\)\ Xeon' "$k/meta.env" || fail "test bug: meta.env not %q-quoted"
run "$k"
[ "$rc" = 0 ] || fail "known vectors: exit $rc: $(cat "$k.err")"
# (gnuplot's own stderr, font warnings say, is passed through: only the
# report's lines count)
grep -q '^qperf_report:' "$k.err" && fail "known vectors: a warning or error: $(cat "$k.err")"
t=$k/table.md
cmp -s "$k.out" <(cat "$t"; echo "chart: $k/chart.png") ||
	fail "stdout is not table.md + the chart line"
# shellcheck disable=SC2016 # the backquotes are Markdown
for s in "Measured 2024-01-02T03:04:05Z." \
	'Command: `bench/qperf.sh --runs 3 --time 5`.' \
	"Host kernel 6.1.0-18-amd64." "VM kernel 6.1.0-18-amd64 (qemu TCG, 2 vCPUs)." \
	"3 runs × 5 s per test (qperf -t 5)." "UDP bandwidth with 1400-byte messages." \
	"Underlay links not shaped." "qperf 0.4.11." "CPU: Intel(R) Xeon(R) CPU @ 2.20GHz." \
	"Build: /work/main/build rel." \
	"Cells are the mean ±sample standard deviation of 3 runs; bandwidth in Gbit/s, latency in µs (qperf's one-way latency)."; do
	hasin "$t" "$s"
done
hasnot "$t" "shaped to"
has "$t" "| mode | between | MTU | route via | TCP bw (Gbit/s) | UDP bw (Gbit/s) | TCP lat (µs) | UDP lat (µs) |"
has "$t" "| native routing | node to node | 1500 | eth0 | 10.0 ±1.0 | 5.00 ±1.00 | 20.0 ±1.0 | 10.0 ±0.0 |"
has "$t" "| native routing | pod to pod | 1500 | eth0 | 9.00 ±0.00 (-10 %) | 4.00 ±0.00 (-20 %) | 25.0 ±0.0 (+25 %) | 10.5 ±0.0 (+5.0 %) |"
has "$t" "| IPIP (qemu VM) | node to node | 1500 | eth0 | 2.00 ±0.00 | 1.00 ±0.00 | 100 ±0 | 50.0 ±0.0 |"
has "$t" "| IPIP (qemu VM) | pod to pod | 1480 | tunl0 | 1.50 ±0.50 (-25 %) | 0.500 ±0.000 (-50 %) | 200 ±50 (+100 %) | 60.0 ±0.0 (+20 %) |"
[ "$(grep -c '^| native routing |' "$t")" = 3 ] || fail "native: not 2 + 1 rows"
has "$t" "| mode | MTU (pods) | TCP bw | UDP bw | TCP lat | UDP lat |"
has "$t" "| native routing | 1500 | -10 % | -20 % | +25 % | +5.0 % |"
has "$t" "| IPIP (qemu VM) | 1480 | -25 % | -50 % | +100 % | +20 % |"
# relative sd: native hosts 1/10, 1/5, 1/20; VM pods 0.5/1.5, 50/200
hasin "$t" "Noise: the largest relative standard deviation of any single row, in namespaces, TCP bw 10.0 %, UDP bw 20.0 %, TCP lat 5.0 %, UDP lat 0.0 %; in the VM, TCP bw 33.3 %, UDP bw 0.0 %, TCP lat 25.0 %, UDP lat 0.0 %. Overheads smaller"
s=$k/summary.csv
[ "$(head -1 "$s")" = "mode,label,path,mtu,device,metric,n,mean,sd,min,max,overhead_pct" ] ||
	fail "summary.csv header: $(head -1 "$s")"
[ "$(wc -l <"$s")" = 17 ] || fail "summary.csv: $(wc -l <"$s") lines, expected 17"
for l in "native,native routing,hosts,1500,eth0,tcp_bw,3,1e+10,1e+09,9e+09,1.1e+10," \
	"native,native routing,hosts,1500,eth0,udp_bw,3,5e+09,1e+09,4e+09,6e+09," \
	"native,native routing,hosts,1500,eth0,tcp_lat,3,20000,1000,19000,21000," \
	"native,native routing,hosts,1500,eth0,udp_lat,3,10000,0,10000,10000," \
	"native,native routing,pods,1500,eth0,tcp_bw,3,9e+09,0,9e+09,9e+09,-10" \
	"native,native routing,pods,1500,eth0,udp_bw,3,4e+09,0,4e+09,4e+09,-20" \
	"native,native routing,pods,1500,eth0,tcp_lat,3,25000,0,25000,25000,25" \
	"native,native routing,pods,1500,eth0,udp_lat,3,10500,0,10500,10500,5" \
	"ipip-vm,IPIP (qemu VM),pods,1480,tunl0,tcp_bw,3,1.5e+09,5e+08,1e+09,2e+09,-25" \
	"ipip-vm,IPIP (qemu VM),pods,1480,tunl0,udp_bw,3,5e+08,0,5e+08,5e+08,-50" \
	"ipip-vm,IPIP (qemu VM),pods,1480,tunl0,tcp_lat,3,200000,50000,150000,250000,100" \
	"ipip-vm,IPIP (qemu VM),hosts,1500,eth0,udp_lat,3,50000,0,50000,50000,"; do
	has "$s" "$l"
done
# order: mode by first appearance, hosts before pods, metrics in order
[ "$(sed -n '2p;17p' "$s" | cut -d, -f1,3,6 | tr '\n' ' ')" = "native,hosts,tcp_bw ipip-vm,pods,udp_lat " ] ||
	fail "summary.csv order"
g=$k/chart.gp
hasin "$g" "set multiplot layout 1,2"
hasin "$g" "set title 'Bandwidth, pods as % of host to host'"
hasin "$g" "set title 'Latency, pods as % of host to host'"
hasin "$g" "boxerrorbars"
hasin "$t" "two more veth pairs and two more forwarding decisions"
hasin "$g" 'set xtics ("native\nrouting" 0, "IPIP\n(qemu VM)" 1)'
# chart.dat: pods as % of hosts, the error both relative sds combined;
# native: the pods are steady, so the error is the hosts' relative sd
# (tcp_bw 90 x 1/10, udp_bw 80 x 1/5, tcp_lat 125 x 1/20)
has "$k/chart.dat" "0 90.0000 9.0000 80.0000 16.0000 125.0000 6.2500 105.0000 0.0000  # native routing"
# the VM: steady hosts; tcp_bw 75 % with err 75 x 0.5/1.5 = 25
has "$k/chart.dat" "1 75.0000 25.0000 50.0000 0.0000 200.0000 50.0000 120.0000 0.0000  # IPIP (qemu VM)"
[ "$(head -c 8 "$k/chart.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "chart.png is not a PNG"
# the gnuplot file redraws the PNG by itself
rm "$k/chart.png"
if ! (cd "$k" && gnuplot chart.gp) || [ ! -s "$k/chart.png" ]; then
	fail "cd DIR && gnuplot chart.gp drew nothing"
fi

# ---- 2. quick form: tcp_bw, one run --------------------------------------
q=$tmp/quick
mkdir "$q"
printf '%s\n' "$H" "native,native routing,hosts,1500,eth0,tcp_bw,1,1e10" \
	"native,native routing,pods,1500,eth0,tcp_bw,1,9e9" \
	"ipip-vm,IPIP (qemu VM),hosts,1500,eth0,tcp_bw,1,2e9" \
	"ipip-vm,IPIP (qemu VM),pods,1480,tunl0,tcp_bw,1,1.9e9" \
	"vxlan,VXLAN,hosts,1500,eth0,tcp_bw,1,1e10" \
	"vxlan,VXLAN,pods,1450,vxlan.calico,tcp_bw,1,1.0996e10" \
	"cross,CrossSubnet,hosts,1500,eth0,tcp_bw,1,1e10" \
	"cross,CrossSubnet,pods,1500,eth0,tcp_bw,1,1.1346e10" \
	"same,same,hosts,1500,eth0,tcp_bw,1,1e10" \
	"same,same,pods,1500,eth0,tcp_bw,1,9.9996e9" >"$q/samples.csv"
printf 'PM_QP_RUNS=%q\nPM_QP_TIME=%q\nPM_QP_RATE=%q\n' 1 2 "100mbit" >"$q/meta.env"
run "$q"
[ "$rc" = 0 ] || fail "quick: exit $rc: $(cat "$q.err")"
t=$q/table.md
has "$t" "| native routing | node to node | 1500 | eth0 | 10.0 | $D | $D | $D |"
has "$t" "| native routing | pod to pod | 1500 | eth0 | 9.00 (-10 %) | $D | $D | $D |"
has "$t" "| IPIP (qemu VM) | pod to pod | 1480 | tunl0 | 1.90 (-5.0 %) | $D | $D | $D |"
has "$t" "| IPIP (qemu VM) | 1480 | -5.0 % | $D | $D | $D |"
# overheads rounded once: 9.96 -> +10 (no decimal from 9.95 up), 13.46 -> +13
# (not 13.5 -> +14), -0.004 -> +0.0 (not -0.0)
has "$t" "| VXLAN | pod to pod | 1450 | vxlan.calico | 11.0 (+10 %) | $D | $D | $D |"
has "$t" "| VXLAN | 1450 | +10 % | $D | $D | $D |"
has "$t" "| CrossSubnet | 1500 | +13 % | $D | $D | $D |"
has "$t" "| same | pod to pod | 1500 | eth0 | 10.0 (+0.0 %) | $D | $D | $D |"
has "$q/summary.csv" "same,same,pods,1500,eth0,tcp_bw,1,9.9996e+09,,9.9996e+09,9.9996e+09,-0.004"
hasin "$t" "1 run × 2 s per test (qperf -t 2)."
hasin "$t" "Each node's underlay link shaped to 100mbit (tc tbf)."
hasin "$t" "Cells are single runs; bandwidth in Gbit/s"
hasin "$t" "Noise: one run per row, so no spread was measured"
hasnot "$t" "±"
hasnot "$t" "Measured"
has "$q/summary.csv" "native,native routing,pods,1500,eth0,tcp_bw,1,9e+09,,9e+09,9e+09,-10"
g=$q/chart.gp
hasin "$g" "set multiplot layout 1,1"
hasin "$g" "set title 'Bandwidth, pods as % of host to host'"
hasnot "$g" "Latency"
hasnot "$g" "boxerrorbars"
hasin "$g" "with boxes"
[ "$(head -c 8 "$q/chart.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
	fail "quick: chart.png is not a PNG"

# ---- 3. a pods row without its hosts row; a mode with hosts only ---------
w=$tmp/nohosts
mkdir "$w"
printf '%s\n' "$H" "native,native routing,hosts,1500,eth0,tcp_bw,1,1e10" \
	"native,native routing,pods,1500,eth0,tcp_bw,1,9e9" \
	"native,native routing,pods,1500,eth0,udp_bw,1,4e9" \
	"vxlan,VXLAN,hosts,1500,eth0,tcp_bw,1,1e10" >"$w/samples.csv"
run "$w"
[ "$rc" = 0 ] || fail "no hosts row: exit $rc: $(cat "$w.err")"
has "$w.err" "qperf_report: warning: mode 'native': pods udp_bw has no hosts row; its overhead is $D"
has "$w.err" "qperf_report: warning: $w/meta.env: missing, the header will say little"
[ "$(wc -l <"$w.err")" = 2 ] || fail "no hosts row: stderr: $(cat "$w.err")"
t=$w/table.md
has "$t" "| native routing | pod to pod | 1500 | eth0 | 9.00 (-10 %) | 4.00 | $D | $D |"
has "$t" "| native routing | 1500 | -10 % | $D | $D | $D |"
has "$t" "| VXLAN | $D | $D | $D | $D | $D |"
has "$w/summary.csv" "native,native routing,pods,1500,eth0,udp_bw,1,4e+09,,4e+09,4e+09,"
has "$w/chart.dat" "0 90.0000 0.0000 ? ? ? ? ? ?  # native routing"
has "$w/chart.dat" "1 ? ? ? ? ? ? ? ?  # VXLAN"

# ---- 4. bad input: exit 1, the message, the folder unchanged -------------
# snap DIR: every file's name and checksum
snap() {
	(cd "$1" && find . -print0 | sort -z | xargs -0 ls -ld --time-style=+%s | awk '{print $1, $5, $7}' &&
		find . -type f -print0 | sort -z | xargs -0 sha256sum)
}
# bad NAME MESSAGE [SAMPLE-LINES...]: samples.csv = the lines (none: no
# samples.csv; a single "-": empty file)
bad() {
	local name=$1 msg=$2 d=$tmp/bad-$1
	shift 2
	mkdir "$d"
	if [ $# = 1 ] && [ "$1" = - ]; then
		: >"$d/samples.csv"
	elif [ $# -gt 0 ]; then
		printf '%s\n' "$@" >"$d/samples.csv"
	fi
	printf 'PM_QP_RUNS=3\n' >"$d/meta.env"
	printf 'sentinel table %s\n| old | row |\n' "$name" >"$d/table.md"
	printf 'mode,label\nsentinel,%s\n' "$name" >"$d/summary.csv"
	local before
	before=$(snap "$d")
	run "$d"
	[ "$rc" = 1 ] || fail "bad $name: exit $rc, expected 1"
	[ "$(cat "$d.err")" = "qperf_report: ${msg//DIR/$d}" ] ||
		fail "bad $name: stderr '$(cat "$d.err")', expected 'qperf_report: ${msg//DIR/$d}'"
	[ -s "$d.out" ] && fail "bad $name: stdout not empty: $(cat "$d.out")"
	[ "$(snap "$d")" = "$before" ] || fail "bad $name: the folder changed: $(diff <(echo "$before") <(snap "$d"))"
	[ "$(cat "$d/table.md")" = "sentinel table $name
| old | row |" ] || fail "bad $name: table.md lost"
	[ -e "$d/chart.png" ] && fail "bad $name: chart.png created"
}
g1="native,native routing,hosts,1500,eth0,tcp_bw,1,1e10"
g2="native,native routing,pods,1500,eth0,tcp_bw,1,9e9"
bad header "DIR/samples.csv:1: wrong header 'mode,label,path,mtu,device,metric,value', expected '$H'" \
	"mode,label,path,mtu,device,metric,value" "native,n,hosts,1500,eth0,tcp_bw,1e10"
bad value "DIR/samples.csv:3: bad number 'fast' for value" \
	"$H" "$g1" "native,native routing,pods,1500,eth0,tcp_bw,1,fast"
bad negative "DIR/samples.csv:3: bad number '-1' for value" \
	"$H" "$g1" "native,native routing,pods,1500,eth0,tcp_bw,1,-1"
bad inf "DIR/samples.csv:2: bad number 'inf' for value" \
	"$H" "native,native routing,hosts,1500,eth0,tcp_bw,1,inf" "$g2"
bad metric "DIR/samples.csv:3: unknown metric 'sctp_bw' (expected tcp_bw, udp_bw, tcp_lat, udp_lat)" \
	"$H" "$g1" "native,native routing,pods,1500,eth0,sctp_bw,1,9e9"
bad path "DIR/samples.csv:2: unknown path 'vms' (expected hosts or pods)" \
	"$H" "native,native routing,vms,1500,eth0,tcp_bw,1,1e10" "$g2"
bad duplicate "DIR/samples.csv:4: duplicate run 1 of native pods tcp_bw" \
	"$H" "$g1" "$g2" "native,native routing,pods,1500,eth0,tcp_bw,1,8e9"
bad fields "DIR/samples.csv:3: 7 fields, expected 8" \
	"$H" "$g1" "native,native routing,pods,1500,eth0,tcp_bw,9e9"
bad mtu "DIR/samples.csv:3: bad number '0' for mtu (an integer >= 1)" \
	"$H" "$g1" "native,native routing,pods,0,eth0,tcp_bw,1,9e9"
bad label "DIR/samples.csv:3: mode 'native' has label 'Native', earlier 'native routing'" \
	"$H" "$g1" "native,Native,pods,1500,eth0,tcp_bw,1,9e9"
bad device "DIR/samples.csv:3: native hosts: mtu/device 1500/eth1 differ from 1500/eth0 at DIR/samples.csv:2" \
	"$H" "$g1" "native,native routing,hosts,1500,eth1,udp_bw,1,9e9"
bad headeronly "DIR/samples.csv: no samples after the header" "$H"
bad missing "DIR/samples.csv: missing"
bad empty "DIR/samples.csv: empty" -

# ---- 5. gnuplot missing --------------------------------------------------
mkdir "$tmp/emptybin"
n=$tmp/nognuplot
mkdir "$n"
cp "$k/samples.csv" "$k/meta.env" "$n/"
printf 'sentinel\n' >"$n/table.md"
before=$(snap "$n")
run "$n" PATH="$tmp/emptybin"
[ "$rc" = 1 ] || fail "gnuplot missing: exit $rc, expected 1"
[ "$(cat "$n.err")" = "qperf_report: gnuplot not installed (Debian package gnuplot-nox; bash .ci/deps installs it)" ] ||
	fail "gnuplot missing: stderr '$(cat "$n.err")'"
[ "$(snap "$n")" = "$before" ] || fail "gnuplot missing: the folder changed: $(diff <(echo "$before") <(snap "$n"))"

# usage
rc=0
"$py" "$rep" >"$tmp/u.out" 2>"$tmp/u.err" || rc=$?
[ "$rc" = 1 ] || fail "no DIR: exit $rc, expected 1"
[ "$(cat "$tmp/u.err")" = "usage: qperf_report.py DIR" ] || fail "no DIR: not the usage"

# ---- 6. mutations (a fuzz pass) -----------------------------------------
# 3,000 byte-level mutations of the known-vector samples.csv (flips,
# deletions, insertions of CSV-significant bytes, duplicated and truncated
# lines, invalid UTF-8; seeded, so every run tries the same) through read_samples, compute and table_md in one
# process: each must be accepted or refused with InputError, never
# anything else (a traceback would be a parser bug).
"$py" - "$rep" "$k/samples.csv" "$tmp/fuzz" <<'PYEOF' || fail "mutations: see above"
import importlib.util, os, random, sys
spec = importlib.util.spec_from_file_location("qr", sys.argv[1])
qr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(qr)
qr.warn = lambda msg: None  # mutated modes lose their hosts rows: expected
seed = open(sys.argv[2], "rb").read()
os.makedirs(sys.argv[3])
f = os.path.join(sys.argv[3], "samples.csv")
rng = random.Random(9)
bad = ok = 0
alphabet = b',"\n\r0123456789.-+eE \xff\xc3abc|%'
for i in range(3000):
    b = bytearray(seed)
    for _ in range(rng.randint(1, 6)):
        op = rng.randrange(5)
        pos = rng.randrange(len(b) + 1)
        if op == 0 and b:
            b[min(pos, len(b) - 1)] = rng.choice(alphabet)
        elif op == 1 and b:
            del b[pos:pos + rng.randint(1, 8)]
        elif op == 2:
            b[pos:pos] = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
        elif op == 3:
            lines = b.split(b"\n")
            j = rng.randrange(len(lines))
            lines.insert(j, lines[j])
            b = bytearray(b"\n".join(lines))
        else:
            b = b[:pos]
    open(f, "wb").write(b)
    try:
        modes, labels, groups = qr.read_samples(f)
        res = qr.compute(modes, groups)
        qr.table_md({}, modes, labels, groups, res)
        ok += 1
    except qr.InputError:
        bad += 1
    except Exception as e:
        sys.stderr.write("mutation %d: %r\n%r\n" % (i, e, bytes(b)))
        sys.exit(1)
print("t_qperf_report: mutations: %d accepted, %d refused" % (ok, bad))
sys.exit(0 if bad > 0 and ok > 0 else 1)
PYEOF

if [ "$nfail" != 0 ]; then
	echo "t_qperf_report: $nfail failure(s)" >&2
	exit 1
fi
echo "t_qperf_report: ok"
