/*
 * bgp/kernel.c against a real kernel, in a private network namespace made
 * with unshare(CLONE_NEWNET) at start (skipped, saying so, without root):
 * the forms a fake policy asks for (native, onlink, blackhole, ECMP, IPv6),
 * coalescing and no-op updates (counted in netlink requests), withdrawal,
 * reshaping, other protocols' routes left alone, adoption at start with
 * kernel_synced and the stale timer (armed by kernel_stale_arm), repair after
 * a delete or a link going down, 10k routes in one batch, ECMP sets derived
 * from RIB entries; adopted routes the policy skips for a while, the link
 * callback, a stale delete notification met with EEXIST, IPv6 blackholes
 * adopted as sent, retries hurried by a new form, pod-veth churn without
 * dumps, and repairs backing off when someone keeps undoing them.
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
	bool unskip; /* 198.18.7.x installed too */
};
static struct policy pol;

/* the kernels a test made, freed by the teardown if the test failed */
static struct kernel *made[2];

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
	if (p->a.b[1] == 18 && p->a.b[2] == 7 && !pl->unskip)
		return KERNEL_SKIP;
	if ((p->a.b[1] == 18 && p->a.b[2] == 1) || pl->tunnel_all) {
		out->ifindex = ifv0;
		out->onlink = true;
	}
	return KERNEL_UNICAST;
}

/* runs the loop for ms, however busy (a tight loop must end too) */
static void
pump(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
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
	made[made[0] != NULL] = k;
	return k;
}

static void
kfree(struct kernel *k)
{
	kernel_free(k);
	made[made[1] == k] = NULL;
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
	return system("ip link del pmx0 2>/dev/null; "
	              "ip route flush proto 44; ip -6 route flush proto 44; "
	              "ip route flush proto static; ip route flush proto 12");
}

/* a failed test leaves its kernels: they must not repair into the next */
static int
teardown(void **state)
{
	kernel_free(made[0]);
	kernel_free(made[1]);
	made[0] = made[1] = NULL;
	return 0;
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
	kfree(k);
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
	/*
	 * The prefix is taken: we do not replace it.  The refused exclusive
	 * add reads our table once (whose route is it?), then waits its retry.
	 */
	update(k, "198.18.9.0/26", "192.0.2.2", NULL, false);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(st.routes, 0);
	assert_int_equal(st.queued, 1);
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
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(st.repairs, 0);
	kfree(k);
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
	kfree(k);
}

/*
 * Adopted routes not learned again go stale_time after kernel_stale_arm
 * (the speaker's start), without synced; not counted from kernel_new.
 */
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
	/* the datastore is slow: longer than stale_time before the start */
	pump(1300);
	assert_true(kfind("198.18.26.0/26", PROTO, NULL));
	assert_int_equal(kstats(k).adopted, 2);
	kernel_stale_arm(k);
	update(k, "198.18.27.0/26", "192.0.2.2", NULL, false);
	pump(500);
	kernel_stale_arm(k); /* only the first counts */
	assert_true(kfind("198.18.26.0/26", PROTO, NULL));
	pump(800);
	assert_false(kfind("198.18.26.0/26", PROTO, NULL));
	assert_true(kfind("198.18.27.0/26", PROTO, NULL));
	assert_int_equal(kstats(k).adopted, 0);
	kfree(k);
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
	kfree(k);
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
	kfree(k);
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
	kfree(k);
}

/*
 * An adopted route learned again while the policy skips it (its tunnel
 * device is missing for a moment) stays as it is, adopted: a reshape once
 * the device is back confirms it, kernel_synced() removes it if not.
 */
static void
test_skip_adopted(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	assert_int_equal(system("ip route add 198.18.7.0/26 via 192.0.2.2 "
	                        "proto 44 && "
	                        "ip route add 198.18.7.64/26 via 192.0.2.2 "
	                        "proto 44"),
	    0);
	k = knew(0);
	assert_int_equal(kstats(k).adopted, 2);
	update(k, "198.18.7.0/26", "192.0.2.2", NULL, false);
	update(k, "198.18.7.64/26", "192.0.2.3", NULL, false);
	pump(50);
	st = kstats(k);
	assert_int_equal(st.requests, 0);
	assert_int_equal(st.adopted, 2);
	assert_form("198.18.7.0/26", "via 192.0.2.2 v0");
	assert_form("198.18.7.64/26", "via 192.0.2.2 v0");

	/* the device is back: confirmed as it is, or moved */
	pol.unskip = true;
	kernel_reshape(k);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.adopted, 0);
	assert_form("198.18.7.0/26", "via 192.0.2.2 v0");
	assert_form("198.18.7.64/26", "via 192.0.2.3 v0");
	kfree(k);

	/* still skipped when the RIB is complete: removed then */
	assert_int_equal(system("ip route add 198.18.7.128/26 via 192.0.2.2 "
	                        "proto 44"),
	    0);
	k = knew(0);
	assert_int_equal(kstats(k).adopted, 3);
	update(k, "198.18.7.128/26", "192.0.2.2", NULL, false);
	pump(20);
	assert_true(kfind("198.18.7.128/26", PROTO, NULL));
	kernel_synced(k);
	pump(20);
	assert_int_equal(kcount(PROTO), 0);
	assert_int_equal(kstats(k).deletes, 3);

	/* learned, it is shaped again when the policy changes */
	pol.unskip = true;
	kernel_reshape(k);
	pump(20);
	assert_form("198.18.7.128/26", "via 192.0.2.2 v0");
	/* a route we installed goes when the policy skips it */
	pol.unskip = false;
	kernel_reshape(k);
	pump(20);
	assert_false(kfind("198.18.7.128/26", PROTO, NULL));
	kfree(k);
}

struct links {
	int added, gone;
	unsigned int ifindex;
};

static void
link_cb(void *arg, unsigned int ifindex, const char *ifname, bool gone)
{
	struct links *l = arg;

	if (strcmp(ifname, "pmx0") != 0)
		return;
	l->ifindex = ifindex;
	if (gone)
		l->gone++;
	else
		l->added++;
}

/* the node hears links come and go, by name, through the monitor */
static void
test_link_cb(void **state)
{
	struct kernel *k;
	struct links l;
	unsigned int ifindex;

	if (!live)
		skip();
	memset(&l, 0, sizeof(l));
	k = knew(0);
	kernel_set_link_cb(k, link_cb, &l);
	assert_int_equal(
	    system("ip link add pmx0 type veth peer name pmx1"), 0);
	ifindex = if_nametoindex("pmx0");
	pump(50);
	assert_true(l.added >= 1);
	assert_int_equal(l.gone, 0);
	assert_int_equal(l.ifindex, ifindex);
	assert_int_equal(system("ip link del pmx0"), 0);
	pump(50);
	assert_int_equal(l.gone, 1);
	assert_int_equal(l.ifindex, ifindex);
	kfree(k);
}

/*
 * A stale delete: someone removes our route and we put it back (here a new
 * next hop, flushed before the monitor is read), then the old notification
 * says it is gone.  The repair's exclusive add meets our own route; EEXIST
 * reads the table, which says the route is ours, and later changes replace
 * it in place instead of failing as exclusive adds for ever.
 */
static void
test_stale_delete(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	k = knew(0);
	update(k, "198.18.50.0/26", "192.0.2.2", NULL, false);
	pump(20);
	assert_int_equal(system("ip route del 198.18.50.0/26"), 0);
	update(k, "198.18.50.0/26", "192.0.2.3", NULL, false);
	kernel_flush(k);
	assert_form("198.18.50.0/26", "via 192.0.2.3 v0");
	pump(100);
	st = kstats(k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(st.queued, 0);
	assert_int_equal(st.routes, 1);
	assert_form("198.18.50.0/26", "via 192.0.2.3 v0");
	update(k, "198.18.50.0/26", "192.0.2.4", NULL, false);
	pump(20);
	assert_form("198.18.50.0/26", "via 192.0.2.4 v0");
	st = kstats(k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.queued, 0);
	kfree(k);
}

/* IPv6 blackholes read back as sent (no "dev lo"): a restart sends nothing */
static void
test_blackhole6(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	k = knew(0);
	update(k, "2001:db8:9::/64", NULL, NULL, true);
	update(k, "198.18.60.0/26", NULL, NULL, true);
	pump(20);
	assert_int_equal(kstats(k).installs, 2);
	kfree(k);

	k = knew(0);
	assert_int_equal(kstats(k).adopted, 2);
	update(k, "2001:db8:9::/64", NULL, NULL, true);
	update(k, "198.18.60.0/26", NULL, NULL, true);
	pump(20);
	st = kstats(k);
	assert_int_equal(st.requests, 0);
	assert_int_equal(st.adopted, 0);
	assert_form("2001:db8:9::/64", "blackhole");
	kfree(k);
}

/*
 * A refused route waiting its retry goes at once when its wanted form
 * changes (a good next hop after ENETUNREACH).  And a refused replace
 * leaves the kernel's form unknown: the next attempt reads the table first.
 */
static void
test_retry_new_form(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	k = knew(0);
	update(k, "198.18.70.0/26", "198.51.100.1", NULL, false);
	pump(50);
	st = kstats(k);
	assert_int_equal(st.failures, 1);
	assert_int_equal(st.queued, 1);
	assert_false(kfind("198.18.70.0/26", PROTO, NULL));
	update(k, "198.18.70.0/26", "192.0.2.2", NULL, false);
	pump(50);
	assert_form("198.18.70.0/26", "via 192.0.2.2 v0");
	assert_int_equal(kstats(k).queued, 0);

	update(k, "198.18.70.0/26", "198.51.100.1", NULL, false);
	pump(50);
	st = kstats(k);
	assert_int_equal(st.failures, 2);
	assert_int_equal(st.resyncs, 0);
	assert_form("198.18.70.0/26", "via 192.0.2.2 v0");
	update(k, "198.18.70.0/26", "192.0.2.3", NULL, false);
	pump(50);
	st = kstats(k);
	assert_int_equal(st.resyncs, 1);
	assert_int_equal(st.queued, 0);
	assert_form("198.18.70.0/26", "via 192.0.2.3 v0");
	kfree(k);
}

/*
 * A route via a gateway leaves the device to the kernel, which may pick
 * any link with an address: such a link going down or losing its address
 * reads the table again; an address-less one (a pod's veth) costs nothing.
 * A dump tells the device the kernel picked (v0), so each step installs a
 * route with the device left open first.
 */
static void
test_link_churn(void **state)
{
	struct kernel *k;

	if (!live)
		skip();
	k = knew(0);
	update(k, "198.18.80.0/26", "192.0.2.2", NULL, false);
	pump(20);
	assert_int_equal(system("ip link add pmx0 type veth peer name pmx1 && "
	                        "ip link set pmx0 up && ip link set pmx1 up"),
	    0);
	pump(50);
	assert_int_equal(system("ip link del pmx0"), 0);
	pump(300);
	assert_int_equal(kstats(k).resyncs, 0);

	/* addresses come from the monitor: this one goes */
	assert_int_equal(system("ip link add pmx0 type veth peer name pmx1 && "
	                        "ip addr add 198.51.100.1/24 dev pmx0 && "
	                        "ip link set pmx0 up && ip link set pmx1 up"),
	    0);
	pump(50);
	assert_int_equal(system("ip addr del 198.51.100.1/24 dev pmx0"), 0);
	pump(300);
	assert_int_equal(kstats(k).resyncs, 1);
	/* and back; the link goes down */
	update(k, "198.18.81.0/26", "192.0.2.2", NULL, false);
	assert_int_equal(system("ip addr add 198.51.100.1/24 dev pmx0"), 0);
	pump(50);
	assert_int_equal(system("ip link set pmx0 down"), 0);
	pump(300);
	assert_int_equal(kstats(k).resyncs, 2);
	/* its address gone, the link is like a pod's */
	update(k, "198.18.82.0/26", "192.0.2.2", NULL, false);
	assert_int_equal(system("ip addr del 198.51.100.1/24 dev pmx0"), 0);
	pump(300);
	assert_int_equal(kstats(k).resyncs, 3);
	update(k, "198.18.83.0/26", "192.0.2.2", NULL, false);
	pump(20);
	assert_int_equal(
	    system("ip link set pmx0 up && ip link set pmx0 down && "
	           "ip link del pmx0"),
	    0);
	pump(300);
	assert_int_equal(kstats(k).resyncs, 3);
	assert_form("198.18.80.0/26", "via 192.0.2.2 v0");
	assert_form("198.18.83.0/26", "via 192.0.2.2 v0");
	assert_int_equal(kstats(k).repairs, 0);
	kfree(k);
}

/*
 * Removed by someone else: put back at once; removed again soon after, the
 * repair waits 2 s, which a link coming up does not hurry.
 */
static void
test_repair_backoff(void **state)
{
	struct kernel *k;
	struct kernel_stats st;

	if (!live)
		skip();
	k = knew(0);
	update(k, "198.18.90.0/26", "192.0.2.2", NULL, false);
	pump(20);
	assert_int_equal(system("ip route del 198.18.90.0/26"), 0);
	assert_true(wait_route("198.18.90.0/26", true, 500));
	st = kstats(k);
	assert_int_equal(st.repairs, 1);
	assert_int_equal(st.repairs_held, 0);

	assert_int_equal(system("ip route del 198.18.90.0/26"), 0);
	pump(300);
	assert_false(kfind("198.18.90.0/26", PROTO, NULL));
	st = kstats(k);
	assert_int_equal(st.repairs, 2);
	assert_int_equal(st.repairs_held, 1);
	assert_int_equal(st.queued, 1);
	assert_int_equal(system("ip link add pmx0 type veth peer name pmx1 && "
	                        "ip link set pmx0 up && ip link del pmx0"),
	    0);
	pump(300);
	assert_false(kfind("198.18.90.0/26", PROTO, NULL));
	assert_true(wait_route("198.18.90.0/26", true, 2000));
	assert_int_equal(kstats(k).requests, 3);
	kfree(k);
}

/*
 * Two instances sharing the protocol (both adopted the route at start),
 * wanting different next hops: each undoes the other, but the repairs back
 * off instead of looping.
 */
static void
test_fight(void **state)
{
	struct kernel *a, *b;
	struct kernel_stats sa, sb;

	if (!live)
		skip();
	assert_int_equal(system("ip route add 198.18.91.0/26 via 192.0.2.2 "
	                        "proto 44"),
	    0);
	a = knew(0);
	b = knew(0);
	kernel_set_shaper(a, fake_shape, &pol);
	update(a, "198.18.91.0/26", "192.0.2.2", NULL, false);
	update(b, "198.18.91.0/26", "192.0.2.3", NULL, false);
	pump(1500);
	sa = kstats(a);
	sb = kstats(b);
	print_message("  1.5 s of a fight: %llu + %llu requests, %llu held\n",
	    (unsigned long long)sa.requests, (unsigned long long)sb.requests,
	    (unsigned long long)(sa.repairs_held + sb.repairs_held));
	assert_true(sa.requests + sb.requests <= 8);
	assert_true(sa.repairs_held + sb.repairs_held >= 1);
	kfree(a);
	kfree(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_forms, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_other_protocols, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_timer, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_batch_10k, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rib_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_skip_adopted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link_cb, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale_delete, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_blackhole6, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_retry_new_form, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_link_churn, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_repair_backoff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fight, setup, teardown),
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
