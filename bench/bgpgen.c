/*
 * bgpgen: a BGP load generator for podmesh's benchmarks.
 *
 *   bgpgen send --local ADDR --peer ADDR[:PORT] --asn N --peer-asn N
 *       --count N [--prefix-base A --len L] [--nexthop A] [--listen]
 *       [--sessions N] [--hold-after S]
 *   bgpgen recv --local ADDR --peer ADDR[:PORT] --asn N --peer-asn N
 *       --expect N [--prefix-base A --len L] [--timeout S] [--listen]
 *       [--sessions N]
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
 * indices [i * COUNT, (i + 1) * COUNT): the groundwork for fan-out runs
 * where many clients each announce a few prefixes and hear all of them.
 */
#include <getopt.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

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
	double timeout;
	double hold_after;
	uint16_t holdtime;
	bool listen;
	bool verbose;
};

/* the run's one piece of process state, for the done() callbacks */
static double send_until;

static void
usage(void)
{
	fprintf(stderr,
	    "usage: bgpgen send|recv --local ADDR --peer ADDR[:PORT] --asn N "
	    "--peer-asn N\n"
	    "       send: --count N [--nexthop ADDR] [--hold-after S]\n"
	    "       recv: --expect N [--timeout S]\n"
	    "       both: [--prefix-base ADDR] [--len 8..32] [--listen] "
	    "[--sessions N]\n"
	    "             [--hold-time S] [--ready-file PATH] [--space N] "
	    "[-v]\n");
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

static bool
done_written(struct gen *g)
{
	unsigned int i;

	for (i = 0; i < g->nsess; i++)
		if (g->sess[i].last_write_at == 0)
			return false;
	return true;
}

static bool
done_holding(struct gen *g)
{
	return send_until > 0 && gen_now() >= send_until;
}

static bool
done_received(struct gen *g)
{
	unsigned int i;

	for (i = 0; i < g->nsess; i++)
		if (g->sess[i].complete_at == 0)
			return false;
	return true;
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
	g->nsess = o->sessions;
	g->sess = xcalloc(g->nsess, sizeof(*g->sess));
	for (i = 0; i < g->nsess; i++) {
		a = local;
		if (a.family == AF_INET)
			addr_from_v4(&a, addr_v4(&local) + i);
		gen_sess_init(&g->sess[i], i, &a, &peer, port, o->listen,
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
	o.len = 24;
	o.sessions = 1;
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
		case 'v':
			o.verbose = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || o.local == NULL || o.peer == NULL || o.asn == 0 ||
	    o.peer_asn == 0 || o.sessions == 0)
		usage();
	if (strcmp(o.mode, "send") == 0) {
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
	memset(&g, 0, sizeof(g));
	g.holdtime = o.holdtime;
	g.ready_file = o.ready_file;
	g.verbose = o.verbose;
	if (gen_space_init(&g.space, o.base, o.len, space) == -1)
		fatalx("%" PRIu64 " /%d prefixes do not fit from %s", space,
		    o.len, o.base);
	sessions_init(&g, &o);
	if (o.mode[0] == 's')
		rc = run_send(&g, &o);
	else
		rc = run_recv(&g, &o);
	free(g.sess);
	return rc;
}
