/*
 * bgpgen: a BGP load generator for podmesh's benchmarks.
 *
 *   bgpgen send --local ADDR --peer ADDR[:PORT] --asn N --peer-asn N
 *       --count N [--prefix-base A --len L] [--nexthop A] [--listen]
 *       [--sessions N] [--hold-after S]
 *   bgpgen recv --local ADDR --peer ADDR[:PORT] --asn N --peer-asn N
 *       --expect N [--prefix-base A --len L] [--timeout S] [--listen]
 *       [--sessions N]
 *   bgpgen fanout --local ADDR --peer ADDR[:PORT] --asn N --sessions N
 *       --count K [--prefix-base A --len L] [--nexthop A] [--deadline S]
 *       [--dut-pid PID] [--no-check-nexthop] [--pace S] [--full-parse]
 *   bgpgen selftest [--sessions N] [--count K]
 *
 * send precomputes COUNT distinct prefixes as full UPDATEs plus End-of-RIB
 * (gen_load.c), brings the session up and writes them; it prints one JSON
 * line when the last byte is handed to TCP, then keeps the session up for
 * --hold-after seconds.  It exits 0 once everything was written, 2 if the
 * --timeout passed first, 1 if a session failed before that.
 * recv counts the distinct prefixes of the space it is sent and prints one
 * JSON line when it holds EXPECT of them (exit 0) or at the timeout
 * (exit 2).  Timestamps are CLOCK_REALTIME seconds so that a script can
 * subtract the sender's first write from the receiver's completion even
 * when the two run in different network namespaces.
 *
 * With --sessions N, session i uses --local + i and, when sending, prefix
 * indices [i * COUNT, (i + 1) * COUNT).
 *
 * fanout is the route-reflector client shape (RFC 4456): N iBGP sessions
 * from --local, --local + 1, ... (each its own BGP identifier), session i
 * announcing indices [i * K, (i + 1) * K) with NEXT_HOP its own address
 * (or --nexthop + i), ORIGIN IGP and LOCAL_PREF 100, and counting the (N - 1) *
 * K prefixes of the others.  Nothing is announced until every session is
 * Established; that moment is t0, and converge_s is the last session's
 * completion minus t0.  It prints one JSON line and exits 0 when every session
 * was complete, 2 at the --deadline, 1 when a session failed.  With --dut-pid
 * it also reads the reflector's CPU time (from /proc) at the start, at t0 and
 * at the end, its RSS at t0 and its peak RSS at the end, so the setup and
 * convergence costs are split exactly where the generator splits them.
 *
 * selftest needs no network: it checks fanout's receive fast path against
 * the codec's update_parse() on a reflector's stream and prints what each
 * costs per UPDATE (run_selftest).
 */
#include <getopt.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench/gen.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

struct opts {
	const char *mode;
	const char *local;
	const char *peer;
	const char *nexthop;
	const char *base;
	const char *ready_file;
	int len;
	uint32_t asn;
	uint32_t peer_asn;
	uint64_t count;
	uint64_t expect;
	uint64_t space;
	unsigned int sessions;
	unsigned int opening;
	double timeout;
	double hold_after;
	double pace;
	uint16_t holdtime;
	long dut_pid;
	bool listen;
	bool check_nexthop;
	bool full_parse;
	bool verbose;
};

/* the run's one piece of process state, for the done() callbacks */
static double send_until;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bgpgen send|recv|fanout --local ADDR --peer ADDR[:PORT] "
	    "--asn N --peer-asn N\n"
	    "       send: --count N [--nexthop ADDR] [--hold-after S]\n"
	    "       recv: --expect N [--timeout S]\n"
	    "       fanout: --sessions N --count K [--nexthop ADDR] "
	    "[--deadline S] [--dut-pid PID]\n"
	    "             [--no-check-nexthop] [--pace S] [--full-parse] "
	    "(--peer-asn = --asn)\n"
	    "       selftest: [--sessions N] [--count K] (no network)\n"
	    "       all: [--prefix-base ADDR] [--len 8..32] [--listen] "
	    "[--sessions N]\n"
	    "             [--hold-time S] [--ready-file PATH] [--space N] "
	    "[--opening N] [-v]\n");
	exit(1);
}

static uint64_t
num(const char *s, uint64_t max, const char *what)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *s == '\0' || *end != '\0' || v > max)
		fatalx("bad %s: %s", what, s);
	return v;
}

static double
seconds(const char *s, const char *what)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || *s == '\0' || *end != '\0' || v < 0)
		fatalx("bad %s: %s", what, s);
	return v;
}

/* ADDR, ADDR:PORT or [V6]:PORT */
static void
parse_peer(const char *s, struct addr *a, uint16_t *port)
{
	char buf[ADDR_STRLEN + 8], *p, *colon = NULL;

	if (strlen(s) >= sizeof(buf))
		fatalx("bad peer: %s", s);
	strcpy(buf, s);
	p = buf;
	if (*p == '[') {
		p++;
		if ((colon = strchr(p, ']')) == NULL)
			fatalx("bad peer: %s", s);
		*colon++ = '\0';
		if (*colon != ':')
			colon = NULL;
	} else if ((colon = strchr(p, ':')) != NULL &&
	    strchr(colon + 1, ':') != NULL)
		colon = NULL; /* a bare IPv6 address */
	if (colon != NULL) {
		*colon = '\0';
		*port = num(colon + 1, 65535, "port");
	}
	if (addr_parse(p, a) == -1)
		fatalx("bad peer address: %s", s);
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* just the user part: parsing and counting, without the kernel's TCP */
static double
cpu_user_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
}

static bool
done_written(struct gen *g)
{
	return g->nwritten == g->nsess;
}

static bool
done_holding(struct gen *g)
{
	return send_until > 0 && gen_now() >= send_until;
}

static bool
done_received(struct gen *g)
{
	return g->ncomplete == g->nsess;
}

static void
sessions_init(struct gen *g, const struct opts *o)
{
	struct addr local, peer, a;
	uint16_t port = 179;
	unsigned int i;

	if (addr_parse(o->local, &local) == -1)
		fatalx("bad local address: %s", o->local);
	parse_peer(o->peer, &peer, &port);
	if (o->sessions > 1 && local.family != AF_INET)
		fatalx("--sessions needs an IPv4 --local to count up from");
	/* plain 32-bit addition carries past .255; stay inside the /8 */
	if (local.family == AF_INET &&
	    (uint64_t)(addr_v4(&local) & 0xffffff) + o->sessions - 1 > 0xffffff)
		fatalx(
		    "%u sessions from %s leave its /8", o->sessions, o->local);
	g->nsess = o->sessions;
	g->sess = xcalloc(g->nsess, sizeof(*g->sess));
	for (i = 0; i < g->nsess; i++) {
		a = local;
		if (a.family == AF_INET)
			addr_from_v4(&a, addr_v4(&local) + i);
		gen_sess_init(g, &g->sess[i], i, &a, &peer, port, o->listen,
		    o->asn, o->peer_asn);
	}
}

static void
print_time(const char *key, double t, bool comma)
{
	if (t > 0)
		printf("\"%s\":%.6f%s", key, t, comma ? "," : "");
	else
		printf("\"%s\":null%s", key, comma ? "," : "");
}

/* what the first route looked like: "sample":{"nexthop":..,"as_path":[..]} */
static void
print_sample(const struct gen_count *c)
{
	char buf[ADDR_STRLEN];
	int i;

	if (!c->sampled)
		return;
	printf("\"sample\":{\"nexthop\":\"%s\",\"as_path\":[",
	    addr_ntop(&c->sample_nexthop, buf, sizeof(buf)));
	for (i = 0; i < c->sample_aspath_len; i++)
		printf("%s%u", i ? "," : "", c->sample_aspath[i]);
	printf("]},");
}

static int
run_send(struct gen *g, const struct opts *o)
{
	struct gen_payload *pl;
	struct attrs attrs;
	struct update_ctx ctx;
	uint8_t aspath[6];
	double cpu0, encode_cpu, encode_s = 0, est = 0, first = 0, last = 0;
	size_t updates = 0, bytes = 0;
	unsigned int i;
	int rc;

	memset(&ctx, 0, sizeof(ctx));
	ctx.as4 = true;
	ctx.ebgp = o->asn != o->peer_asn;
	ctx.maxlen = BGP_MAX_LEN;

	/* RFC 4271 §5.1: eBGP prepends our AS, iBGP leaves the path empty */
	memset(&attrs, 0, sizeof(attrs));
	attrs.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP;
	attrs.origin = ORIGIN_IGP;
	if (ctx.ebgp) {
		aspath[0] = AS_SEQUENCE;
		aspath[1] = 1;
		aspath[2] = o->asn >> 24;
		aspath[3] = o->asn >> 16;
		aspath[4] = o->asn >> 8;
		aspath[5] = o->asn;
		attrs.aspath = aspath;
		attrs.aspath_len = sizeof(aspath);
		attrs.aspath_count = 1;
	}

	cpu0 = cpu_seconds();
	pl = xcalloc(g->nsess, sizeof(*pl));
	for (i = 0; i < g->nsess; i++) {
		if (o->nexthop != NULL) {
			if (addr_parse(o->nexthop, &attrs.nexthop) == -1 ||
			    attrs.nexthop.family != AF_INET)
				fatalx("bad next hop: %s", o->nexthop);
		} else if (g->sess[i].local.family == AF_INET)
			attrs.nexthop = g->sess[i].local;
		else
			fatalx("an IPv6 session needs an IPv4 --nexthop");
		if (gen_payload_build(&pl[i], &g->space, (uint64_t)i * o->count,
		        o->count, &attrs, &ctx) == -1)
			fatalx("cannot encode the UPDATEs");
		g->sess[i].bulk = &pl[i];
		updates += pl[i].nmsgs;
		bytes += pl[i].len;
		encode_s += pl[i].encode_s;
	}
	encode_cpu = cpu_seconds() - cpu0;
	if (o->verbose)
		log_info("encoded %" PRIu64 " prefixes in %zu messages, "
		         "%zu bytes, %.3f s",
		    o->count * g->nsess, updates, bytes, encode_s);

	g->deadline = o->timeout > 0 ? gen_now() + o->timeout : 0;
	rc = gen_run(g, done_written);
	if (rc == 1)
		log_warnx("timed out after %.0f s before all was written",
		    o->timeout);
	for (i = 0; i < g->nsess; i++) {
		if (est == 0 || g->sess[i].established_at > est)
			est = g->sess[i].established_at;
		if (first == 0 ||
		    (g->sess[i].first_write_at > 0 &&
		        g->sess[i].first_write_at < first))
			first = g->sess[i].first_write_at;
		if (g->sess[i].last_write_at > last)
			last = g->sess[i].last_write_at;
	}
	printf("{\"mode\":\"send\",\"sessions\":%u,\"sent\":%" PRIu64
	       ",\"updates\":%zu,\"bytes\":%zu,\"encode_s\":%.6f,"
	       "\"encode_cpu_s\":%.6f,",
	    g->nsess, rc == 0 ? o->count * g->nsess : 0, updates, bytes,
	    encode_s, encode_cpu);
	print_time("established_at", est, true);
	print_time("first_update_at", first, true);
	print_time("last_write_at", last, true);
	printf("\"write_s\":%.6f,\"cpu_s\":%.6f,\"complete\":%s}\n",
	    rc == 0 ? last - first : 0, cpu_seconds(),
	    rc == 0 ? "true" : "false");
	fflush(stdout);

	if (rc == 0 && o->hold_after > 0) {
		/*
		 * Keep the routes alive until told to stop.  The job is done,
		 * so the peer ending the session now is logged, not an error.
		 */
		g->deadline = 0;
		send_until = gen_now() + o->hold_after;
		(void)gen_run(g, done_holding);
	}
	for (i = 0; i < g->nsess; i++) {
		gen_sess_free(&g->sess[i]);
		gen_payload_free(&pl[i]);
	}
	free(pl);
	return rc == 0 ? 0 : rc == 1 ? 2 : 1;
}

static int
run_recv(struct gen *g, const struct opts *o)
{
	struct gen_sess *s;
	uint64_t got = UINT64_MAX, total = 0, foreign = 0, withdrawn = 0,
	         updates = 0;
	double est = 0, first = 0, all = 0;
	unsigned int i, complete = 0;
	int rc;

	for (i = 0; i < g->nsess; i++) {
		s = &g->sess[i];
		gen_count_init(&s->count, g->space.size);
		s->counting = true;
		s->expect = o->expect;
	}
	g->deadline = gen_now() + o->timeout;
	rc = gen_run(g, done_received);
	if (rc == -1)
		log_warnx("a session failed");
	else if (rc == 1)
		log_warnx("timed out after %.0f s", o->timeout);

	for (i = 0; i < g->nsess; i++) {
		s = &g->sess[i];
		if (s->count.have < got)
			got = s->count.have;
		total += s->count.have;
		foreign += s->count.foreign;
		withdrawn += s->count.withdrawn;
		updates += s->count.updates;
		if (s->established_at > est)
			est = s->established_at;
		if (s->first_update_at > 0 &&
		    (first == 0 || s->first_update_at < first))
			first = s->first_update_at;
		if (s->complete_at > 0) {
			complete++;
			if (s->complete_at > all)
				all = s->complete_at;
		}
	}
	if (complete < g->nsess)
		all = 0;
	printf("{\"mode\":\"recv\",\"sessions\":%u,\"expect\":%" PRIu64
	       ",\"received\":%" PRIu64 ",\"received_total\":%" PRIu64
	       ",\"complete_sessions\":%u,\"updates\":%" PRIu64
	       ",\"withdrawn\":%" PRIu64 ",\"foreign\":%" PRIu64 ",",
	    g->nsess, o->expect, got, total, complete, updates, withdrawn,
	    foreign);
	print_time("established_at", est, true);
	print_time("first_update_at", first, true);
	print_time("all_received_at", all, true);
	print_sample(&g->sess[0].count);
	printf("\"recv_s\":%.6f,\"cpu_s\":%.6f,\"complete\":%s}\n",
	    all > 0 && first > 0 ? all - first : 0, cpu_seconds(),
	    rc == 0 ? "true" : "false");
	fflush(stdout);

	for (i = 0; i < g->nsess; i++)
		gen_sess_free(&g->sess[i]);
	return rc == 0 ? 0 : rc == 1 ? 2 : 1;
}

/* what a fan-out run samples at its three moments: start, t0 and the end */
struct fanout_mark {
	double cpu; /* our own user + sys */
	double user; /* our own user */
	double dut_cpu; /* the reflector's, -1 if unknown */
	long dut_rss_kb; /* the reflector's, -1 if unknown */
};

struct fanout_run {
	long dut_pid;
	struct fanout_mark start, ready;
};

/* user + sys seconds of a process, from /proc/PID/stat; -1 if unknown */
static double
proc_cpu(long pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	ssize_t n;
	int fd;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* the command name may hold spaces: count fields after its ')' */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1,
	        " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
	        &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/* a VmHWM: or VmRSS: line of /proc/PID/status in KiB; -1 if unknown */
static long
proc_mem_kb(long pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	long kb = -1;
	FILE *f;

	if (pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, flen) == 0 && line[flen] == ':' &&
		    sscanf(line + flen + 1, "%ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void
fanout_mark(struct fanout_mark *m, long pid)
{
	m->cpu = cpu_seconds();
	m->user = cpu_user_seconds();
	m->dut_cpu = proc_cpu(pid);
	m->dut_rss_kb = proc_mem_kb(pid, "VmRSS");
}

/* t0: every session is Established and the announcements go out now */
static void
fanout_ready(struct gen *g)
{
	struct fanout_run *fr = g->arg;

	fanout_mark(&fr->ready, fr->dut_pid);
}

static void
print_kb(const char *key, long kb)
{
	if (kb >= 0)
		printf("\"%s\":%ld,", key, kb);
	else
		printf("\"%s\":null,", key);
}

static void
print_num(const char *key, double v, bool known)
{
	if (known)
		printf("\"%s\":%.6f,", key, v);
	else
		printf("\"%s\":null,", key);
}

/* "wrong":{"prefix":..,"nexthop":..,"want":..}: the first one seen */
static void
print_wrong(const struct gen *g)
{
	const struct gen_count *c;
	struct addr nh, want;
	char p[PREFIX_STRLEN], a[ADDR_STRLEN], b[ADDR_STRLEN];
	unsigned int i;

	for (i = 0; i < g->nsess; i++) {
		c = &g->sess[i].count;
		if (c->wrong_nexthop == 0)
			continue;
		addr_from_v4(&nh, c->wrong_nh);
		addr_from_v4(&want, c->wrong_want);
		printf(
		    "\"wrong\":{\"session\":%u,\"prefix\":\"%s\",\"nexthop\":"
		    "\"%s\",\"want\":\"%s\"},",
		    i, prefix_ntop(&c->wrong_prefix, p, sizeof(p)),
		    addr_ntop(&nh, a, sizeof(a)),
		    addr_ntop(&want, b, sizeof(b)));
		return;
	}
}

static int
run_fanout(struct gen *g, const struct opts *o)
{
	struct gen_payload *pl;
	struct gen_fanout fo;
	struct fanout_run fr;
	struct fanout_mark end;
	struct attrs attrs;
	struct update_ctx ctx;
	struct gen_sess *s;
	struct addr nh;
	uint64_t expect, min = UINT64_MAX, total = 0, updates = 0, own = 0,
	                 withdrawn = 0, foreign = 0, wrongnh = 0, badorig = 0;
	double start, first = 0, last = 0;
	unsigned int i;
	long peak;
	int rc;

	memset(&fo, 0, sizeof(fo));
	fo.per = o->count;
	fo.id_base = addr_v4(&g->sess[0].local);
	fo.nh_base = fo.id_base;
	if (o->nexthop != NULL) {
		/* e.g. GoBGP refuses loopback next hops (RFC 4271 §6.3) */
		if (addr_parse(o->nexthop, &nh) == -1 || nh.family != AF_INET)
			fatalx("bad next hop: %s", o->nexthop);
		fo.nh_base = addr_v4(&nh);
		if ((uint64_t)fo.nh_base + g->nsess - 1 > UINT32_MAX)
			fatalx("%u next hops from %s do not fit", g->nsess,
			    o->nexthop);
	}
	fo.check_nexthop = o->check_nexthop;
	fo.full_parse = o->full_parse;
	gen_fanout_init(&fo, &g->space);
	expect = (uint64_t)(g->nsess - 1) * o->count;

	/* iBGP to the reflector: empty AS_PATH, LOCAL_PREF (RFC 4271 §5.1) */
	memset(&ctx, 0, sizeof(ctx));
	ctx.as4 = true;
	ctx.maxlen = BGP_MAX_LEN;
	memset(&attrs, 0, sizeof(attrs));
	attrs.flags =
	    ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	attrs.origin = ORIGIN_IGP;
	attrs.local_pref = 100;

	pl = xcalloc(g->nsess, sizeof(*pl));
	for (i = 0; i < g->nsess; i++) {
		s = &g->sess[i];
		addr_from_v4(&attrs.nexthop, fo.nh_base + i);
		if (gen_payload_build(&pl[i], &g->space, (uint64_t)i * o->count,
		        o->count, &attrs, &ctx) == -1)
			fatalx("cannot encode the UPDATEs");
		s->bulk = &pl[i];
		gen_count_init(&s->count, g->space.size);
		s->counting = true;
		s->expect = expect;
	}

	memset(&fr, 0, sizeof(fr));
	fr.dut_pid = o->dut_pid;
	g->fanout = &fo;
	g->gate_bulk = true;
	g->pace = o->pace;
	g->on_ready = fanout_ready;
	g->arg = &fr;
	g->deadline = gen_now() + o->timeout;
	start = gen_realtime();
	fanout_mark(&fr.start, o->dut_pid);
	rc = gen_run(g, done_received);
	fanout_mark(&end, o->dut_pid);
	peak = proc_mem_kb(o->dut_pid, "VmHWM");
	if (rc == -1)
		log_warnx("a session failed");
	else if (rc == 1)
		log_warnx("deadline: %u of %u sessions complete after %.0f s",
		    g->ncomplete, g->nsess, o->timeout);

	for (i = 0; i < g->nsess; i++) {
		s = &g->sess[i];
		if (s->count.have < min)
			min = s->count.have;
		total += s->count.have;
		updates += s->count.updates;
		own += s->count.own;
		withdrawn += s->count.withdrawn;
		foreign += s->count.foreign;
		wrongnh += s->count.wrong_nexthop;
		badorig += s->count.bad_originator;
		if (s->first_update_at > 0 &&
		    (first == 0 || s->first_update_at < first))
			first = s->first_update_at;
		if (s->complete_at > last)
			last = s->complete_at;
	}
	printf("{\"mode\":\"fanout\",\"sessions\":%u,\"prefixes\":%" PRIu64
	       ",\"expect\":%" PRIu64 ",\"complete_sessions\":%u,"
	       "\"established\":%u,",
	    g->nsess, o->count, expect, g->ncomplete, g->nestablished);
	print_num("established_s", g->ready_at - start, g->ready);
	print_num("converge_s", last - g->ready_at,
	    g->ready && g->ncomplete == g->nsess);
	print_num("first_update_s", first - g->ready_at, g->ready && first > 0);
	print_time("t0", g->ready_at, true);
	printf("\"min_received\":%" PRIu64 ",\"received_total\":%" PRIu64
	       ",\"updates\":%" PRIu64 ",\"own\":%" PRIu64
	       ",\"withdrawn\":%" PRIu64 ",\"foreign\":%" PRIu64
	       ",\"wrong_nexthop\":%" PRIu64 ",\"bad_originator\":%" PRIu64
	       ",\"failed\":%u,",
	    min, total, updates, own, withdrawn, foreign, wrongnh, badorig,
	    g->nfailed);
	print_wrong(g);
	printf("\"reads\":%" PRIu64 ",\"read_bytes\":%" PRIu64
	       ",\"wakeups\":%" PRIu64 ",",
	    g->nreads, g->nread_bytes, g->nwakeups);
	printf("\"cpu_s\":%.6f,", end.cpu);
	print_num("cpu_setup_s", fr.ready.cpu - fr.start.cpu, g->ready);
	print_num("cpu_converge_s", end.cpu - fr.ready.cpu, g->ready);
	print_num("cpu_user_converge_s", end.user - fr.ready.user, g->ready);
	print_num("dut_cpu_setup_s", fr.ready.dut_cpu - fr.start.dut_cpu,
	    g->ready && fr.start.dut_cpu >= 0 && fr.ready.dut_cpu >= 0);
	print_num("dut_cpu_converge_s", end.dut_cpu - fr.ready.dut_cpu,
	    g->ready && fr.ready.dut_cpu >= 0 && end.dut_cpu >= 0);
	print_kb("dut_rss_t0_kb", g->ready ? fr.ready.dut_rss_kb : -1);
	print_kb("dut_peak_kb", peak);
	printf("\"complete\":%s}\n", rc == 0 ? "true" : "false");
	fflush(stdout);

	for (i = 0; i < g->nsess; i++) {
		gen_sess_free(&g->sess[i]);
		gen_payload_free(&pl[i]);
	}
	free(pl);
	return rc == 0 ? 0 : rc == 1 ? 2 : 1;
}

/*
 * selftest: the fan-out fast path (gen_fanout_batch) against the codec's
 * update_parse() on one stream of UPDATEs, and what each costs per
 * message.  The stream is what a reflector sends client 0 of N: every
 * client's K blocks in one UPDATE with its next hop, ORIGINATOR_ID and a
 * CLUSTER_LIST (client 0's own included, as RFC 4456 allows), End-of-RIB,
 * then withdrawals, a wrong next hop, MP_UNREACH_NLRI and MP_REACH_NLRI
 * for IPv4 (RFC 4760), a prefix outside the space and the repairs.  Both
 * paths must end with the same bitmap and counters, and those must be
 * the ones worked out here; two malformed UPDATEs must fail the fast
 * path.  Needs no network: `bgpgen selftest [--sessions N] [--count K]`.
 */
struct selftest {
	const struct gen_space *sp;
	struct gen_fanout fo;
	struct update_ctx ctx;
	struct attrs attrs;
	uint32_t cluster;
	uint8_t *buf;
	size_t len, cap;
	size_t nmsgs;
	int failed;
};

static void
st_add(struct selftest *t, struct ibuf *m)
{
	if (m == NULL)
		fatalx("selftest: cannot encode");
	if (t->len + ibuf_size(m) > t->cap) {
		t->cap = (t->cap + ibuf_size(m)) * 2;
		t->buf = xrealloc(t->buf, t->cap);
	}
	memcpy(t->buf + t->len, ibuf_data(m), ibuf_size(m));
	t->len += ibuf_size(m);
	t->nmsgs++;
	ibuf_free(m);
}

/* prefixes [first, first + n) of owner's block, as a reflector sends them */
static void
st_update(
    struct selftest *t, uint64_t first, size_t n, uint32_t nh, uint32_t orig)
{
	struct nlri v[64];
	size_t k, done;

	if (n > 64)
		fatalx("selftest: --count at most 64");
	memset(v, 0, sizeof(v));
	for (k = 0; k < n; k++)
		gen_space_prefix(t->sp, first + k, &v[k].p);
	addr_from_v4(&t->attrs.nexthop, nh);
	t->attrs.originator_id = orig;
	/* attrs NULL: a withdrawal (nh 0) */
	st_add(t,
	    update_build(
	        &t->ctx, AID_IPV4, nh == 0 ? NULL : &t->attrs, v, n, &done));
	if (done != n)
		fatalx("selftest: %zu prefixes do not fit", n);
}

/* an IPv4 UPDATE whose only NLRI are in MP_(UN)REACH_NLRI (RFC 4760) */
static void
st_mp(struct selftest *t, uint64_t first, size_t n, uint32_t nh, uint32_t orig)
{
	struct prefix p;
	struct ibuf *m;
	size_t k, vlen;
	int e = 0;

	m = msg_new(MSG_UPDATE, BGP_MAX_LEN);
	e += ibuf_add_n16(m, 0);
	/* attribute section length: filled below */
	vlen = (nh != 0 ? 3 + 1 + 4 + 1 : 3) + n * 5;
	e += ibuf_add_n16(m, nh != 0 ? 4 + 3 + 7 + 7 + 4 + vlen : 4 + vlen);
	if (nh != 0) {
		/* ORIGIN IGP, empty AS_PATH, LOCAL_PREF 100, ORIGINATOR_ID */
		e += ibuf_add(m, "\x40\x01\x01\x00\x40\x02\x00", 7);
		e += ibuf_add(m, "\x40\x05\x04\x00\x00\x00\x64", 7);
		e += ibuf_add(m, "\x80\x09\x04", 3);
		e += ibuf_add_n32(m, orig);
	}
	e += ibuf_add_n8(m, ATTR_OPTIONAL | ATTR_EXTLEN);
	e += ibuf_add_n8(m, nh != 0 ? ATTR_MP_REACH : ATTR_MP_UNREACH);
	e += ibuf_add_n16(m, vlen);
	e += ibuf_add_n16(m, AFI_IPV4);
	e += ibuf_add_n8(m, SAFI_UNICAST);
	if (nh != 0) {
		e += ibuf_add_n8(m, 4);
		e += ibuf_add_n32(m, nh);
		e += ibuf_add_n8(m, 0);
	}
	for (k = 0; k < n; k++) {
		gen_space_prefix(t->sp, first + k, &p);
		e += ibuf_add_n8(m, p.len);
		e += ibuf_add_n32(m, addr_v4(&p.a));
	}
	if (t->sp->len != 26 || e != 0 || msg_close(m) == -1)
		fatalx("selftest: cannot build MP_REACH_NLRI");
	st_add(t, m);
}

static void
st_check(struct selftest *t, const char *what, uint64_t got, uint64_t want)
{
	if (got == want)
		return;
	log_warnx(
	    "selftest: %s is %" PRIu64 ", want %" PRIu64, what, got, want);
	t->failed++;
}

/* the fast path over buf in pieces of at most `chunk` bytes, as reads cut */
static int
st_fast(struct selftest *t, struct gen_count *c, const uint8_t *buf, size_t len,
    size_t chunk)
{
	struct bgp_err err;
	uint8_t *tmp;
	size_t have = 0, off = 0, take;
	uint64_t nann = 0;
	long n;

	tmp = xmalloc(len);
	while (off < len || have > 0) {
		take = len - off < chunk ? len - off : chunk;
		memcpy(tmp + have, buf + off, take);
		off += take;
		have += take;
		n = gen_fanout_batch(c, &t->fo, 0, tmp, have, &nann, &err);
		if (n == -1) {
			free(tmp);
			log_warnx("selftest: fast path: %s", err.reason);
			return -1;
		}
		memmove(tmp, tmp + n, have - n);
		have -= n;
		if (take == 0 && have > 0) {
			free(tmp);
			log_warnx("selftest: %zu bytes left unframed", have);
			return -1;
		}
	}
	free(tmp);
	return 0;
}

/* the codec's way: frame, update_parse(), gen_count_fanout() */
static int
st_full(struct selftest *t, struct gen_count *c, const uint8_t *buf, size_t len)
{
	struct ibuf h, body;
	struct update u;
	struct bgp_err err;
	size_t pos = 0;
	uint16_t mlen;
	uint8_t type;

	while (pos < len) {
		ibuf_from_buffer(&h, buf + pos, len - pos);
		if (msg_header_check(&h, BGP_MAX_LEN, &type, &mlen, &err) == -1)
			return -1;
		ibuf_from_buffer(
		    &body, buf + pos + BGP_HDR_LEN, mlen - BGP_HDR_LEN);
		memset(&err, 0, sizeof(err));
		if (update_parse(&body, &t->ctx, &u, &err) == -1) {
			update_clean(&u);
			log_warnx("selftest: update_parse: %s", err.reason);
			return -1;
		}
		gen_count_fanout(c, t->sp, &t->fo, 0, &u);
		update_clean(&u);
		pos += mlen;
	}
	return 0;
}

static void
st_compare(struct selftest *t, const char *name, const struct gen_count *a,
    const struct gen_count *b)
{
	char what[64];

#define ST_FIELD(f)                                                            \
	do {                                                                   \
		snprintf(what, sizeof(what), "%s " #f, name);                  \
		st_check(t, what, a->f, b->f);                                 \
	} while (0)
	ST_FIELD(have);
	ST_FIELD(updates);
	ST_FIELD(eors);
	ST_FIELD(announced);
	ST_FIELD(withdrawn);
	ST_FIELD(foreign);
	ST_FIELD(own);
	ST_FIELD(wrong_nexthop);
	ST_FIELD(bad_originator);
#undef ST_FIELD
	snprintf(what, sizeof(what), "%s bitmap differs", name);
	st_check(t, what,
	    memcmp(a->bits, b->bits, (a->nbits + 63) / 64 * 8) != 0, 0);
}

static double
st_ns_per_msg(double t0, uint64_t msgs)
{
	return (gen_now() - t0) * 1e9 / msgs;
}

static int
run_selftest(const struct opts *o)
{
	static const char *bad[] = {
	    /* the attribute list overruns the message */
	    "\x00\x00\x00\x09\x40\x01\x01\x00\x40\x03\x04\x64",
	    /* a /33 */
	    "\x00\x00\x00\x0b\x40\x01\x01\x00\x40\x03\x04\x64\x40\x00\x01"
	    "\x21\x0a\x00\x00\x00\x00",
	};
	static const size_t badlen[] = {12, 21};
	struct selftest t;
	struct gen_space sp;
	struct gen_count want, fast, cut, full;
	struct bgp_err err;
	struct ibuf body;
	unsigned int n = o->sessions, i;
	uint64_t k = o->count, nann = 0, rounds, r;
	size_t astream;
	double t0, ns, fast_ns, full_ns;
	int pass;

	if (n < 8 || k == 0 || k > 64)
		fatalx("selftest: --sessions at least 8, --count 1..64");
	if (gen_space_init(&sp, "10.0.0.0", 26, (uint64_t)n * k) == -1)
		fatalx("selftest: %u x %" PRIu64 " /26s do not fit", n, k);
	memset(&t, 0, sizeof(t));
	t.sp = &sp;
	t.fo.per = k;
	t.fo.nh_base = 0x64400001; /* 100.64.0.1 */
	t.fo.id_base = 0x7f010001; /* 127.1.0.1 */
	t.fo.check_nexthop = true;
	gen_fanout_init(&t.fo, &sp);
	t.ctx.as4 = true;
	t.ctx.maxlen = BGP_MAX_LEN;
	t.attrs.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP |
	    ATTRF_LOCALPREF | ATTRF_ORIGINATOR_ID;
	t.attrs.origin = ORIGIN_IGP;
	t.attrs.local_pref = 100;
	t.cluster = 0xc0000201; /* 192.0.2.1 */
	t.attrs.cluster_list = &t.cluster;
	t.attrs.ncluster = 1;

	/* what a reflector sends client 0, End-of-RIB last */
	for (i = 0; i < n; i++)
		st_update(&t, i * k, k, t.fo.nh_base + i, t.fo.id_base + i);
	st_add(&t, update_build_eor(AID_IPV4));
	astream = t.len;
	/* client 1 withdraws its first block, client 2's arrives with 3's hop
	 */
	st_update(&t, 1 * k, 1, 0, 0);
	st_update(&t, 2 * k, k, t.fo.nh_base + 3, t.fo.id_base + 2);
	/* client 4's blocks withdrawn and announced in MP attributes */
	st_mp(&t, 4 * k, k, 0, 0);
	st_mp(&t, 5 * k, k, t.fo.nh_base + 5, t.fo.id_base + 5);
	/* client 6's blocks go, client 7's come without ORIGINATOR_ID */
	st_update(&t, 6 * k, k, 0, 0);
	t.attrs.flags &= ~ATTRF_ORIGINATOR_ID;
	st_update(&t, 7 * k, k, t.fo.nh_base + 7, 0);
	t.attrs.flags |= ATTRF_ORIGINATOR_ID;
	/* one prefix outside the space: 11.0.0.0/26, one of client 0's */
	sp.base = 0x0b000000;
	st_update(&t, 0, 1, t.fo.nh_base + 9, t.fo.id_base + 9);
	sp.base = 0x0a000000;

	memset(&want, 0, sizeof(want));
	want.have = (uint64_t)(n - 1) * k - 1 - k - k - k;
	want.updates = n + 1 + 7;
	want.eors = 1;
	want.announced = (uint64_t)n * k + k + k + k + 1;
	want.withdrawn = 1 + k + k;
	want.foreign = 1;
	want.own = k;
	want.wrong_nexthop = k;
	want.bad_originator = k;

	gen_count_init(&fast, sp.size);
	gen_count_init(&cut, sp.size);
	gen_count_init(&full, sp.size);
	if (st_fast(&t, &fast, t.buf, t.len, t.len) == -1 ||
	    st_fast(&t, &cut, t.buf, t.len, 37) == -1 ||
	    st_full(&t, &full, t.buf, t.len) == -1)
		t.failed++;
	want.bits = full.bits;
	want.nbits = full.nbits;
	st_compare(&t, "fast path", &fast, &want);
	st_compare(&t, "fast path in 37-byte reads", &cut, &want);
	st_compare(&t, "update_parse", &full, &want);
	if (fast.wrong_nexthop > 0) {
		st_check(&t, "wrong next hop", fast.wrong_nh, t.fo.nh_base + 3);
		st_check(
		    &t, "wanted next hop", fast.wrong_want, t.fo.nh_base + 2);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ibuf_from_buffer(&body, bad[i], badlen[i]);
		st_check(&t, "a malformed UPDATE accepted",
		    gen_fanout_update(&fast, &t.fo, 0, &body, &err) != -1, 0);
	}

	/*
	 * The cost of each path on the reflector's stream: the best of 5
	 * passes of ~400,000 UPDATEs (the machine may be shared).
	 */
	rounds = 400000 / (n + 1) + 1;
	fast_ns = full_ns = 1e9;
	for (pass = 0; pass < 5; pass++) {
		t0 = gen_now();
		for (r = 0; r < rounds; r++) {
			memset(fast.bits, 0, (fast.nbits + 63) / 64 * 8);
			fast.have = 0;
			if (gen_fanout_batch(&fast, &t.fo, 0, t.buf, astream,
			        &nann, &err) != (long)astream)
				fatalx("selftest: the fast path stopped early");
		}
		ns = st_ns_per_msg(t0, rounds * (n + 1));
		fast_ns = ns < fast_ns ? ns : fast_ns;
		t0 = gen_now();
		for (r = 0; r < rounds / 10 + 1; r++)
			(void)st_full(&t, &full, t.buf, astream);
		ns = st_ns_per_msg(t0, (rounds / 10 + 1) * (n + 1));
		full_ns = ns < full_ns ? ns : full_ns;
	}

	printf("{\"mode\":\"selftest\",\"sessions\":%u,\"prefixes\":%" PRIu64
	       ",\"updates\":%zu,\"bytes\":%zu,\"fast_ns_per_update\":%.1f,"
	       "\"full_parse_ns_per_update\":%.1f,\"failed\":%d,"
	       "\"ok\":%s}\n",
	    n, k, t.nmsgs, t.len, fast_ns, full_ns, t.failed,
	    t.failed == 0 ? "true" : "false");
	gen_count_free(&fast);
	gen_count_free(&cut);
	gen_count_free(&full);
	free(t.buf);
	return t.failed == 0 ? 0 : 1;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"local", required_argument, NULL, 'l'},
	    {"peer", required_argument, NULL, 'p'},
	    {"asn", required_argument, NULL, 'a'},
	    {"peer-asn", required_argument, NULL, 'A'},
	    {"count", required_argument, NULL, 'c'},
	    {"expect", required_argument, NULL, 'e'},
	    {"space", required_argument, NULL, 'S'},
	    {"prefix-base", required_argument, NULL, 'b'},
	    {"len", required_argument, NULL, 'L'},
	    {"nexthop", required_argument, NULL, 'n'},
	    {"listen", no_argument, NULL, 'W'},
	    {"sessions", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'},
	    {"deadline", required_argument, NULL, 't'},
	    {"dut-pid", required_argument, NULL, 'P'},
	    {"opening", required_argument, NULL, 'O'},
	    {"no-check-nexthop", no_argument, NULL, 'N'},
	    {"pace", required_argument, NULL, 'y'},
	    {"full-parse", no_argument, NULL, 'F'},
	    {"hold-after", required_argument, NULL, 'H'},
	    {"hold-time", required_argument, NULL, 'T'},
	    {"ready-file", required_argument, NULL, 'r'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o;
	struct gen g;
	uint64_t space = 0;
	int ch, rc;

	memset(&o, 0, sizeof(o));
	o.base = "10.0.0.0";
	o.len = 0; /* 24, or 26 for fanout: Calico's pod block size */
	o.sessions = 1;
	o.check_nexthop = true;
	o.pace = 0.001;
	o.timeout = 300;
	o.hold_after = 3600;
	o.holdtime = 90;
	log_init("bgpgen", LOG_LVL_INFO);
	if (argc < 2)
		usage();
	o.mode = argv[1];
	optind = 2;
	while ((ch = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			o.local = optarg;
			break;
		case 'p':
			o.peer = optarg;
			break;
		case 'a':
			o.asn = num(optarg, UINT32_MAX, "ASN");
			break;
		case 'A':
			o.peer_asn = num(optarg, UINT32_MAX, "peer ASN");
			break;
		case 'c':
			o.count = num(optarg, UINT32_MAX, "count");
			break;
		case 'e':
			o.expect = num(optarg, UINT32_MAX, "expect");
			break;
		case 'S':
			o.space = num(optarg, UINT32_MAX, "space");
			break;
		case 'b':
			o.base = optarg;
			break;
		case 'L':
			o.len = num(optarg, 32, "prefix length");
			break;
		case 'n':
			o.nexthop = optarg;
			break;
		case 'W':
			o.listen = true;
			break;
		case 's':
			o.sessions = num(optarg, 65535, "sessions");
			break;
		case 't':
			o.timeout = seconds(optarg, "timeout");
			break;
		case 'H':
			o.hold_after = seconds(optarg, "hold-after");
			break;
		case 'T':
			o.holdtime = num(optarg, 65535, "hold time");
			if (o.holdtime > 0 && o.holdtime < 3)
				fatalx("hold time must be 0 or at least 3");
			break;
		case 'r':
			o.ready_file = optarg;
			break;
		case 'P':
			o.dut_pid = num(optarg, INT32_MAX, "pid");
			break;
		case 'O':
			o.opening = num(optarg, 65535, "opening");
			break;
		case 'N':
			o.check_nexthop = false;
			break;
		case 'F':
			o.full_parse = true;
			break;
		case 'y':
			o.pace = seconds(optarg, "pace");
			if (o.pace >= 1)
				fatalx("--pace is at most 1 s");
			break;
		case 'v':
			o.verbose = true;
			break;
		default:
			usage();
		}
	}
	if (strcmp(o.mode, "selftest") == 0) {
		if (optind != argc)
			usage();
		if (o.sessions == 1)
			o.sessions = 1000;
		if (o.count == 0)
			o.count = 4;
		return run_selftest(&o);
	}
	if (strcmp(o.mode, "fanout") == 0 && o.peer_asn == 0)
		o.peer_asn = o.asn;
	if (o.len == 0)
		o.len = strcmp(o.mode, "fanout") == 0 ? 26 : 24;
	if (optind != argc || o.local == NULL || o.peer == NULL || o.asn == 0 ||
	    o.peer_asn == 0 || o.sessions == 0)
		usage();
	if (strcmp(o.mode, "fanout") == 0) {
		if (o.count == 0 || o.sessions < 2)
			usage();
		if (o.asn != o.peer_asn)
			fatalx("fanout is iBGP: --peer-asn must be --asn");
		if (o.listen)
			fatalx("fanout connects; --listen is not for it");
		space = o.count * o.sessions;
	} else if (strcmp(o.mode, "send") == 0) {
		if (o.count == 0)
			usage();
		space = o.count * o.sessions;
	} else if (strcmp(o.mode, "recv") == 0) {
		if (o.expect == 0)
			usage();
		space = o.expect;
	} else
		usage();
	if (o.space > space)
		space = o.space;

	/* a peer that goes away must not kill us before we report */
	signal(SIGPIPE, SIG_IGN);
	gen_init(&g);
	g.holdtime = o.holdtime;
	g.opening_max = o.opening;
	g.ready_file = o.ready_file;
	g.verbose = o.verbose;
	if (gen_space_init(&g.space, o.base, o.len, space) == -1)
		fatalx("%" PRIu64 " /%d prefixes do not fit from %s", space,
		    o.len, o.base);
	sessions_init(&g, &o);
	if (o.mode[0] == 's')
		rc = run_send(&g, &o);
	else if (o.mode[0] == 'r')
		rc = run_recv(&g, &o);
	else
		rc = run_fanout(&g, &o);
	free(g.sess);
	return rc;
}
