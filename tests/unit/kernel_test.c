/*
 * bgp/kernel.c against a real kernel, in a private network namespace made
 * with unshare(CLONE_NEWNET) at start (skipped, saying so, without root):
 * the forms a fake policy asks for (native, onlink, blackhole, ECMP, IPv6),
 * coalescing and no-op updates (counted in netlink requests), withdrawal,
 * reshaping, other protocols' routes left alone, adoption at start with
 * kernel_synced and the stale timer, repair after a delete or a link going
 * down, 10k routes in one batch, and ECMP sets derived from RIB entries.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "bgp/kernel.h"
#include "bgp/rib.h"
#include "bgp/wire.h"

#define PROTO KERNEL_RTPROT_DEFAULT

static bool live;
static unsigned int ifv0;
static struct event_base *base;
static struct nl *probe; /* our own view of the table */

struct policy {
	bool tunnel_all; /* every IPv4 route onlink through v0 */
};
static struct policy pol;

/*
 * A stand-in for the node's policy: 198.18.1.x onlink through v0
 * (IPIP-like), 198.18.7.x not installed, originated routes blackholed.
 */
static enum kernel_shape
fake_shape(void *arg, const struct prefix *p, const struct addr *nh,
    struct kernel_nh *out)
{
	struct policy *pl = arg;

	if (nh == NULL)
		return KERNEL_BLACKHOLE;
	out->gw = *nh;
	if (p->a.family == AF_INET6)
		return KERNEL_UNICAST;
	if (p->a.b[1] == 18 && p->a.b[2] == 7)
		return KERNEL_SKIP;
	if ((p->a.b[1] == 18 && p->a.b[2] == 1) || pl->tunnel_all) {
		out->ifindex = ifv0;
		out->onlink = true;
	}
	return KERNEL_UNICAST;
}

static void
pump(int ms)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (
	    (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 <
	    ms);
	event_base_loop(base, EVLOOP_NONBLOCK);
}

struct lookup {
	struct prefix want;
	struct nl_route r;
	int n;
	int proto;
};

static int
lookup_cb(const struct nl_route *r, void *arg)
{
	struct lookup *l = arg;

	if (prefix_cmp(&r->dst, &l->want) == 0) {
		l->r = *r;
		l->n++;
	}
	return MNL_CB_OK;
}

/* the route of protocol proto for prefix s, if the kernel has one */
static bool
kfind(const char *s, int proto, struct nl_route *out)
{
	struct lookup l;
	char err[256];

	memset(&l, 0, sizeof(l));
	assert_int_equal(prefix_parse(s, &l.want), 0);
	assert_int_equal(nl_route_dump(probe, l.want.a.family, (uint8_t)proto,
	                     RT_TABLE_MAIN, lookup_cb, &l, err, sizeof(err)),
	    0);
	assert_true(l.n <= 1);
	if (out != NULL)
		*out = l.r;
	return l.n == 1;
}

static int
count_cb(const struct nl_route *r, void *arg)
{
	(*(int *)arg)++;
	return MNL_CB_OK;
}

static int
kcount(int proto)
{
	char err[256];
	int n = 0;

	assert_int_equal(nl_route_dump(probe, AF_UNSPEC, (uint8_t)proto,
	                     RT_TABLE_MAIN, count_cb, &n, err, sizeof(err)),
	    0);
	return n;
}

static bool
wait_route(const char *s, bool present, int ms)
{
	int i;

	for (i = 0; i < ms / 10; i++) {
		if (kfind(s, PROTO, NULL) == present)
			return true;
		pump(10);
	}
	return kfind(s, PROTO, NULL) == present;
}

/* the route's next hops as "via A dev N onlink,via B ..." */
static const char *
nhs(const struct nl_route *r, char *buf, size_t len)
{
	char a[ADDR_STRLEN];
	size_t off = 0;
	unsigned int i;

	buf[0] = '\0';
	if (r->type == RTN_BLACKHOLE)
		return "blackhole";
	for (i = 0; i < r->nnh && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%svia %s%s%s",
		    i ? "," : "", addr_ntop(&r->nh[i].gw, a, sizeof(a)),
		    r->nh[i].ifindex == ifv0 ? " v0" : " ?",
		    r->nh[i].onlink ? " onlink" : "");
	return buf;
}

static void
assert_form(const char *pfx, const char *want)
{
	struct nl_route r;
	char buf[256];

	if (!kfind(pfx, PROTO, &r)) {
		print_error("%s: not in the kernel\n", pfx);
		fail();
	}
	if (strcmp(nhs(&r, buf, sizeof(buf)), want) != 0) {
		print_error("%s: \"%s\", want \"%s\"\n", pfx, buf, want);
		fail();
	}
	assert_int_equal(r.protocol, PROTO);
	assert_int_equal(r.table, RT_TABLE_MAIN);
}

static void
update(struct kernel *k, const char *pfx, const char *nh1, const char *nh2,
    bool originated)
{
	struct prefix p;
	struct addr a[2];
	size_t n = 0;

	assert_int_equal(prefix_parse(pfx, &p), 0);
	if (nh1 != NULL)
		assert_int_equal(addr_parse(nh1, &a[n++]), 0);
	if (nh2 != NULL)
		assert_int_equal(addr_parse(nh2, &a[n++]), 0);
	kernel_update(k, &p, a, n, originated);
}

static struct kernel *
knew(int stale)
{
	struct kernel_config kc = {.enabled = true,
	    .protocol = PROTO,
	    .table = RT_TABLE_MAIN,
	    .stale_time = stale};
	struct kernel *k;
	char err[256];

	k = kernel_new(base, &kc, err, sizeof(err));
	if (k == NULL)
		print_error("kernel_new: %s\n", err);
	assert_non_null(k);
	memset(&pol, 0, sizeof(pol));
	kernel_set_shaper(k, fake_shape, &pol);
	return k;
}

static struct kernel_stats
kstats(struct kernel *k)
{
	struct kernel_stats st;

	kernel_stats_get(k, &st);
	return st;
}

static int
setup(void **state)
{
	if (!live)
		return 0;
	return system("ip route flush proto 44; ip -6 route flush proto 44; "
	              "ip route flush proto static; ip route flush proto 12");
}

static void
test_forms(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	k = knew(0);
	update(k, "198.18.0.0/26", "192.0.2.2", NULL, false);
	update(k, "198.18.1.0/26", "203.0.113.5", NULL, false);
	update(k, "198.18.2.0/26", NULL, NULL, true);
	update(k, "198.18.3.0/26", "192.0.2.3", "192.0.2.2", false);
	update(k, "2001:db8:1::/64", "2001:db8::2", NULL, false);
	update(k, "2001:db8:5::/64", "2001:db8::3", "2001:db8::2", false);
	update(k, "198.18.7.0/26", "192.0.2.2", NULL, false);
	assert_int_equal(kcount(PROTO), 0); /* nothing before the loop runs */
	pump(20);
	assert_form("198.18.0.0/26", "via 192.0.2.2 v0");
	assert_form("198.18.1.0/26", "via 203.0.113.5 v0 onlink");
	assert_form("198.18.2.0/26", "blackhole");
	assert_form("198.18.3.0/26", "via 192.0.2.2 v0,via 192.0.2.3 v0");
	assert_form("2001:db8:1::/64", "via 2001:db8::2 v0");
	assert_form("2001:db8:5::/64", "via 2001:db8::2 v0,via 2001:db8::3 v0");
	assert_false(kfind("198.18.7.0/26", PROTO, NULL));
	st = kstats(k);
	assert_int_equal(st.installs, 6);
	assert_int_equal(st.requests, 6);
	assert_int_equal(st.routes, 6);
	assert_int_equal(st.failures, 0);

	/* changed twice before the flush: sent once, in its last form */
	update(k, "198.18.4.0/26", "192.0.2.2", NULL, false);
	update(k, "198.18.4.0/26", "192.0.2.3", NULL, false);
	pump(20);
	assert_int_equal(kstats(k).requests, 7);
	assert_form("198.18.4.0/26", "via 192.0.2.3 v0");

	/* the same form again sends nothing; ECMP order does not matter */
	update(k, "198.18.4.0/26", "192.0.2.3", NULL, false);
	update(k, "198.18.3.0/26", "192.0.2.2", "192.0.2.3", false);
	update(k, "198.18.2.0/26", NULL, NULL, true);
	update(k, "2001:db8:5::/64", "2001:db8::2", "2001:db8::3", false);
	pump(20);
	assert_int_equal(kstats(k).requests, 7);

	/* a new next hop replaces the route in place */
	update(k, "198.18.0.0/26", "192.0.2.4", NULL, false);
	pump(20);
	assert_form("198.18.0.0/26", "via 192.0.2.4 v0");
	assert_int_equal(kstats(k).requests, 8);

	/* withdrawn: gone; withdrawn again: nothing to send */
	update(k, "198.18.0.0/26", NULL, NULL, false);
	pump(20);
	assert_false(kfind("198.18.0.0/26", PROTO, NULL));
	update(k, "198.18.0.0/26", NULL, NULL, false);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.deletes, 1);
	assert_int_equal(st.requests, 9);

	/* the policy changes: only the routes whose form differs are sent */
	pol.tunnel_all = true;
	kernel_reshape(k);
	pump(20);
	assert_form(
	    "198.18.3.0/26", "via 192.0.2.2 v0 onlink,via 192.0.2.3 v0 onlink");
	assert_form("198.18.4.0/26", "via 192.0.2.3 v0 onlink");
	assert_form("198.18.1.0/26", "via 203.0.113.5 v0 onlink");
	assert_int_equal(kstats(k).requests, 11);

	/* and our own echoes caused no work meanwhile */
	pump(100);
	st = kstats(k);
	assert_int_equal(st.requests, 11);
	assert_int_equal(st.resyncs, 0);
	assert_int_equal(st.repairs, 0);

	/* IPv6 ECMP down to one next hop: the whole set is replaced */
	update(k, "2001:db8:5::/64", "2001:db8::3", NULL, false);
	pump(20);
	assert_form("2001:db8:5::/64", "via 2001:db8::3 v0");
	assert_int_equal(kstats(k).requests, 12);

	/* routes stay when we go */
	kernel_free(k);
	assert_int_equal(kcount(PROTO), 6);
}

/* routes of other protocols are never touched */
static void
test_other_protocols(void **state)
{
	struct kernel *k;
	struct kernel_stats st;
	struct nl_route r;
	char a[ADDR_STRLEN];

	if (!live)
		skip();
	assert_int_equal(system("ip route add 198.18.9.0/26 via 192.0.2.9 "
	                        "proto static && "
	                        "ip route add 198.18.10.0/26 via 192.0.2.9 "
	                        "proto bird"),
	    0);
	k = knew(0);
	assert_int_equal(kstats(k).adopted, 0);
	/* the prefix is taken: we do not replace it */
	update(k, "198.18.9.0/26", "192.0.2.2", NULL, false);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.routes, 0);
	assert_true(kfind("198.18.9.0/26", RTPROT_STATIC, &r));
	assert_string_equal(addr_ntop(&r.nh[0].gw, a, sizeof(a)), "192.0.2.9");
	assert_false(kfind("198.18.9.0/26", PROTO, NULL));
	/* gone again before the retry: nothing to delete */
	update(k, "198.18.9.0/26", NULL, NULL, false);
	kernel_synced(k);
	pump(20);
	assert_int_equal(kstats(k).requests, 1);
	assert_true(kfind("198.18.9.0/26", RTPROT_STATIC, NULL));
	assert_true(kfind("198.18.10.0/26", RTPROT_BIRD, NULL));

	/* their changes cause us no work */
	assert_int_equal(system("ip route del 198.18.9.0/26 proto static && "
	                        "ip route add 198.18.11.0/26 via 192.0.2.9 "
	                        "proto bird"),
	    0);
	pump(150);
	st = kstats(k);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.resyncs, 0);
	assert_int_equal(st.repairs, 0);
	kernel_free(k);
}

struct dels {
	struct prefix p;
	int n;
};

static int
dels_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dels *d = arg;
	struct nl_route r;
	char err[128];

	if (nlh->nlmsg_type == RTM_DELROUTE &&
	    nl_route_decode(nlh, &r, err, sizeof(err)) == 0 &&
	    prefix_cmp(&r.dst, &d->p) == 0)
		d->n++;
	return MNL_CB_OK;
}

/* a restart: our leftover routes are adopted, kept if learned again */
static void
test_adopt(void **state)
{
	struct kernel *k;
	struct kernel_stats st;
	struct nl *mon;
	struct dels d;
	char err[256];

	if (!live)
		skip();
	assert_int_equal(
	    system(
	        "ip route add 198.18.20.0/26 via 192.0.2.2 proto 44 && "
	        "ip route add 198.18.21.0/26 via 192.0.2.2 proto 44 && "
	        "ip route add 198.18.22.0/26 via 192.0.2.2 proto 44 && "
	        "ip route add blackhole 198.18.23.0/26 proto 44 && "
	        "ip route add 198.18.24.0/26 proto 44 "
	        "nexthop via 192.0.2.2 nexthop via 192.0.2.3 && "
	        "ip route add 198.18.1.64/26 via 203.0.113.5 dev v0 onlink "
	        "proto 44 && "
	        "ip -6 route add 2001:db8:2::/64 via 2001:db8::2 proto 44 && "
	        "ip -6 route add 2001:db8:4::/64 proto 44 "
	        "nexthop via 2001:db8::2 dev v0 nexthop via 2001:db8::3 dev "
	        "v0"),
	    0);
	assert_non_null(mon = nl_open(RTMGRP_IPV4_ROUTE, err, sizeof(err)));
	memset(&d, 0, sizeof(d));
	assert_int_equal(prefix_parse("198.18.20.0/26", &d.p), 0);

	k = knew(0);
	st = kstats(k);
	assert_int_equal(st.adopted, 8);
	assert_int_equal(st.routes, 8);
	pump(20);
	assert_int_equal(kstats(k).requests, 0);

	/* learned again in the same form: confirmed, nothing sent */
	update(k, "198.18.20.0/26", "192.0.2.2", NULL, false);
	update(k, "198.18.23.0/26", NULL, NULL, true);
	update(k, "198.18.24.0/26", "192.0.2.3", "192.0.2.2", false);
	update(k, "198.18.1.64/26", "203.0.113.5", NULL, false);
	update(k, "2001:db8:2::/64", "2001:db8::2", NULL, false);
	update(k, "2001:db8:4::/64", "2001:db8::3", "2001:db8::2", false);
	/* in another form: replaced */
	update(k, "198.18.21.0/26", "192.0.2.3", NULL, false);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.adopted, 1);
	assert_form("198.18.21.0/26", "via 192.0.2.3 v0");

	/* the RIB is complete: the one nobody learned goes, only it */
	kernel_synced(k);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.deletes, 1);
	assert_int_equal(st.adopted, 0);
	assert_int_equal(st.routes, 7);
	assert_false(kfind("198.18.22.0/26", PROTO, NULL));
	assert_form("198.18.20.0/26", "via 192.0.2.2 v0");
	assert_form("198.18.24.0/26", "via 192.0.2.2 v0,via 192.0.2.3 v0");

	/* no delete and re-add of a confirmed route was ever seen */
	assert_int_equal(nl_recv(mon, dels_cb, &d), 0);
	assert_int_equal(d.n, 0);
	nl_close(mon);
	kernel_free(k);
}

/* adopted routes not learned again go after stale_time without synced */
static void
test_stale_timer(void **state)
{
	struct kernel *k;

	if (!live)
		skip();
	assert_int_equal(system("ip route add 198.18.26.0/26 via 192.0.2.2 "
	                        "proto 44 && "
	                        "ip route add 198.18.27.0/26 via 192.0.2.2 "
	                        "proto 44"),
	    0);
	k = knew(1);
	assert_int_equal(kstats(k).adopted, 2);
	update(k, "198.18.27.0/26", "192.0.2.2", NULL, false);
	pump(500);
	assert_true(kfind("198.18.26.0/26", PROTO, NULL));
	pump(800);
	assert_false(kfind("198.18.26.0/26", PROTO, NULL));
	assert_true(kfind("198.18.27.0/26", PROTO, NULL));
	assert_int_equal(kstats(k).adopted, 0);
	kernel_free(k);
}

/* deleted behind our back, or flushed with its link: put back */
static void
test_repair(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	k = knew(0);
	update(k, "198.18.30.0/26", "192.0.2.2", NULL, false);
	update(k, "198.18.1.128/26", "203.0.113.5", NULL, false);
	update(k, "2001:db8:3::/64", "2001:db8::2", NULL, false);
	pump(20);
	assert_int_equal(kcount(PROTO), 3);

	assert_int_equal(system("ip route del 198.18.30.0/26"), 0);
	assert_true(wait_route("198.18.30.0/26", true, 1000));
	st = kstats(k);
	assert_int_equal(st.repairs, 1);
	assert_int_equal(st.requests, 4);
	assert_int_equal(system("ip -6 route del 2001:db8:3::/64"), 0);
	assert_true(wait_route("2001:db8:3::/64", true, 1000));
	assert_int_equal(kstats(k).repairs, 2);

	/*
	 * The link goes down: IPv4 drops the routes without a word.  They
	 * cannot come back while it is down (refused, then retried with
	 * backoff); its coming up retries at once, well before the backoff.
	 */
	assert_int_equal(system("ip link set v0 down"), 0);
	assert_true(wait_route("198.18.30.0/26", false, 1000));
	pump(400);
	assert_int_equal(kcount(PROTO), 0);
	st = kstats(k);
	assert_true(st.failures > 0);
	assert_true(st.resyncs >= 1);
	print_message("  link down: %llu refused, %llu resyncs\n",
	    (unsigned long long)st.failures, (unsigned long long)st.resyncs);
	assert_int_equal(system("ip link set v0 up"), 0);
	assert_true(wait_route("198.18.30.0/26", true, 800));
	assert_true(wait_route("198.18.1.128/26", true, 200));
	assert_true(wait_route("2001:db8:3::/64", true, 200));
	assert_form("198.18.1.128/26", "via 203.0.113.5 v0 onlink");
	kernel_free(k);
}

/* 10,000 routes: one flush, one request each, no echo work after */
static void
test_batch_10k(void **state)
{
	struct kernel *k;
	struct kernel_stats st;
	struct prefix p;
	struct addr nh;
	struct timespec t0, t1;
	uint32_t i;

	if (!live)
		skip();
	k = knew(0);
	assert_int_equal(addr_parse("192.0.2.2", &nh), 0);
	assert_int_equal(prefix_parse("198.19.0.0/32", &p), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 10000; i++) {
		p.a.v4.s_addr = htonl(0xc6130000 | i);
		kernel_update(k, &p, &nh, 1, false);
	}
	assert_int_equal(kstats(k).queued, 10000);
	event_base_loop(base, EVLOOP_NONBLOCK); /* one pass: one flush */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st = kstats(k);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.installs, 10000);
	assert_int_equal(st.requests, 10000);
	assert_int_equal(kcount(PROTO), 10000);
	print_message("  10k routes in %.1f ms\n",
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	pump(200);
	st = kstats(k);
	assert_int_equal(st.resyncs, 0);
	assert_int_equal(st.requests, 10000);

	for (i = 0; i < 10000; i++) {
		p.a.v4.s_addr = htonl(0xc6130000 | i);
		kernel_update(k, &p, NULL, 0, false);
	}
	pump(20);
	assert_int_equal(kcount(PROTO), 0);
	st = kstats(k);
	assert_int_equal(st.deletes, 10000);
	assert_int_equal(st.routes, 0);
	kernel_free(k);
}

/* a path with what the decision reads */
struct bpath {
	struct rib_src src;
	struct attrs attrs;
	struct rib_path path;
};

static void
bpath(struct bpath *b, uint32_t id, const char *peer, const char *nh,
    uint16_t aslen)
{
	memset(b, 0, sizeof(*b));
	rib_src_init(&b->src, id);
	if (peer != NULL)
		assert_int_equal(addr_parse(peer, &b->src.addr), 0);
	b->src.bgpid = 0x0a000000 + id;
	b->attrs.flags =
	    ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	b->attrs.local_pref = 100;
	b->attrs.aspath_count = aslen;
	if (nh != NULL)
		assert_int_equal(addr_parse(nh, &b->attrs.nexthop), 0);
	b->path.src = &b->src;
	b->path.attrs = &b->attrs;
}

/* ECMP: the best path and those equal to it up to the tie-breaks */
static void
test_rib_entry(void **state)
{
	struct kernel *k;
	struct rib_entry e;
	struct bpath p1, p2, p3, p4, own;

	if (!live)
		skip();
	k = knew(0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(prefix_parse("198.18.40.0/26", &e.prefix), 0);
	bpath(&p1, 1, "192.0.2.2", "192.0.2.2", 1);
	bpath(&p2, 2, "192.0.2.3", "192.0.2.3", 1); /* loses on router id */
	bpath(&p3, 3, "192.0.2.4", "192.0.2.4", 2); /* longer AS path */
	bpath(&p4, 4, "192.0.2.5", "192.0.2.2", 1); /* same next hop as p1 */
	p3.attrs.local_pref = 100;
	e.paths = &p1.path;
	p1.path.next = &p2.path;
	p2.path.next = &p4.path;
	p4.path.next = &p3.path;
	kernel_rib_entry(k, &e);
	pump(20);
	assert_form("198.18.40.0/26", "via 192.0.2.2 v0,via 192.0.2.3 v0");

	/* a higher LOCAL_PREF wins alone */
	p3.attrs.local_pref = 200;
	e.paths = &p3.path;
	p3.path.next = &p1.path;
	p4.path.next = NULL;
	kernel_rib_entry(k, &e);
	pump(20);
	assert_form("198.18.40.0/26", "via 192.0.2.4 v0");

	/* ours (source 0) first: originated, which the policy blackholes */
	bpath(&own, 0, NULL, NULL, 0);
	e.paths = &own.path;
	own.path.next = &p3.path;
	kernel_rib_entry(k, &e);
	pump(20);
	assert_form("198.18.40.0/26", "blackhole");

	e.paths = NULL;
	kernel_rib_entry(k, &e);
	pump(20);
	assert_false(kfind("198.18.40.0/26", PROTO, NULL));
	assert_int_equal(kstats(k).requests, 4);
	kernel_free(k);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_forms, setup),
	    cmocka_unit_test_setup(test_other_protocols, setup),
	    cmocka_unit_test_setup(test_adopt, setup),
	    cmocka_unit_test_setup(test_stale_timer, setup),
	    cmocka_unit_test_setup(test_repair, setup),
	    cmocka_unit_test_setup(test_batch_10k, setup),
	    cmocka_unit_test_setup(test_rib_entry, setup),
	};
	char err[256];
	int rc;

	log_init("kernel_test", LOG_LVL_WARN);
	if (unshare(CLONE_NEWNET) == -1)
		fprintf(stderr,
		    "kernel_test: skipping: unshare(CLONE_NEWNET): %s "
		    "(needs root)\n",
		    strerror(errno));
	else if (system("ip link set lo up && "
	                "ip link add v0 type veth peer name v1 && "
	                "sysctl -qw net.ipv6.conf.v0.keep_addr_on_down=1 && "
	                "ip link set v0 up && ip link set v1 up && "
	                "ip addr add 192.0.2.1/24 dev v0 && "
	                "ip -6 addr add 2001:db8::1/64 dev v0 nodad") != 0)
		fprintf(stderr, "kernel_test: skipping: no veth pair\n");
	else {
		live = true;
		ifv0 = if_nametoindex("v0");
		base = event_base_new();
		probe = nl_open(0, err, sizeof(err));
		if (base == NULL || probe == NULL) {
			fprintf(stderr, "kernel_test: %s\n", err);
			return 1;
		}
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (live) {
		nl_close(probe);
		event_base_free(base);
	}
	return rc;
}
