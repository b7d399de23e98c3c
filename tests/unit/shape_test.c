/*
 * node/shape.c: how routes become kernel routes on a Calico node.
 * Checked, as a table: originated own blocks (IPv4 and IPv6) blackholed,
 * other originated prefixes (borrowed /32s) skipped; learned routes in
 * IPIP Always (tunl0 onlink), IPIP CrossSubnet (native inside my subnet,
 * tunl0 outside), VXLAN Always (via the remote VTEP on vxlan.calico
 * onlink, three MAC spellings), VXLAN CrossSubnet both sides, Never, no
 * pool, IPv6; a VTEP without an address or MAC, an unknown next hop, an
 * IPv6 next hop for IPIP: skipped.  Missing tunnel devices: skipped (never
 * native), logged once per prefix.  Nested pools, refused pools and nodes,
 * node_shaper_equal() over what matters and nothing else, errors, and
 * 100k routes through node_shape() timed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "derive_fixture.h"

#define TUNL0 7
#define VXLAN 9

static void
shape_fixture(struct fx *f)
{
	fx_init(f);
	fx_node(f, "n1", NULL,
	    "\"ipv4Address\":\"192.0.2.1/24\","
	    "\"ipv6Address\":\"2001:db8::1/64\","
	    "\"ipv4IPIPTunnelAddr\":\"198.18.1.0\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.1\","
	    "\"vxlanTunnelMACAddr\":\"66:0e:7d:2a:00:01\"");
	fx_node(f, "n2", NULL, "\"ipv4Address\":\"192.0.2.2/24\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.2\","
	    "\"vxlanTunnelMACAddr\":\"66:0e:7d:2a:00:02\"");
	fx_node(f, "n3", NULL, "\"ipv4Address\":\"203.0.113.3/24\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.3\","
	    "\"vxlanTunnelMACAddr\":\"66-0E-7D-2A-00-03\"");
	fx_node(f, "n4", NULL, "\"ipv4Address\":\"198.51.100.4/24\"", NULL);
	fx_node(f, "n5", NULL, "\"ipv4Address\":\"198.51.100.5/24\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.5\"");
	fx_node(f, "n6", NULL, "\"ipv4Address\":\"198.51.100.6/24\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.6\","
	    "\"vxlanTunnelMACAddr\":\"660e.7d2a.0006\"");
	fx_node(f, "n7", NULL, "\"ipv4Address\":\"198.51.100.300/24\"", NULL);
	fx_pool(f, "ipip-always",
	    "\"cidr\":\"198.18.0.0/20\",\"ipipMode\":\"Always\"");
	fx_pool(f, "ipip-cross",
	    "\"cidr\":\"198.18.16.0/20\",\"ipipMode\":\"CrossSubnet\"");
	fx_pool(f, "vxlan-always",
	    "\"cidr\":\"198.18.32.0/20\",\"vxlanMode\":\"Always\"");
	fx_pool(f, "vxlan-cross",
	    "\"cidr\":\"198.18.48.0/20\",\"vxlanMode\":\"CrossSubnet\"");
	fx_pool(f, "never",
	    "\"cidr\":\"198.18.64.0/20\",\"ipipMode\":\"Never\","
	    "\"vxlanMode\":\"Never\"");
	fx_pool(f, "bad",
	    "\"cidr\":\"198.18.80.0/20\",\"vxlanMode\":\"Sometimes\"");
	fx_pool(f, "v6", "\"cidr\":\"2001:db8:100::/48\"");
	/* inside ipip-always (Calico refuses it): ignored */
	fx_pool(
	    f, "nested", "\"cidr\":\"198.18.3.0/24\",\"vxlanMode\":\"Always\"");
	fx_affinity(f, "n1", "198.18.1.0/26", "confirmed");
	fx_affinity(f, "n1", "198.18.1.64/26", "pending");
	fx_affinity(f, "n1", "2001:db8:100::/122", "confirmed");
	fx_block(f, "198.18.2.0/26", "n2", "198.18.2.5", "n1", NULL);
	fx_load(f);
}

struct shape_case {
	const char *prefix;
	const char *nh; /* NULL: originated */
	enum kernel_shape want;
	const char *gw; /* UNICAST: */
	unsigned int ifindex;
	bool onlink;
};

#define U KERNEL_UNICAST
#define S KERNEL_SKIP
#define B KERNEL_BLACKHOLE

static const struct shape_case cases[] = {
    /* originated */
    {"198.18.1.0/26", NULL, B, NULL, 0, false},
    {"2001:db8:100::/122", NULL, B, NULL, 0, false},
    {"198.18.2.5/32", NULL, S, NULL, 0, false}, /* borrowed */
    {"198.18.1.64/26", NULL, S, NULL, 0, false}, /* pending */
    /* IPIP Always, inside and outside my subnet */
    {"198.18.2.0/26", "192.0.2.2", U, "192.0.2.2", TUNL0, true},
    {"198.18.2.0/26", "203.0.113.3", U, "203.0.113.3", TUNL0, true},
    {"198.18.2.7/32", "192.0.2.2", U, "192.0.2.2", TUNL0, true},
    {"198.18.3.0/26", "192.0.2.2", U, "192.0.2.2", TUNL0, true},
    {"198.18.2.0/26", "2001:db8::2", S, NULL, 0, false},
    /* IPIP CrossSubnet */
    {"198.18.17.0/26", "192.0.2.2", U, "192.0.2.2", 0, false},
    {"198.18.17.0/26", "203.0.113.3", U, "203.0.113.3", TUNL0, true},
    /* VXLAN Always */
    {"198.18.33.0/26", "192.0.2.2", U, "198.18.200.2", VXLAN, true},
    {"198.18.33.0/26", "203.0.113.3", U, "198.18.200.3", VXLAN, true},
    {"198.18.33.0/26", "198.51.100.6", U, "198.18.200.6", VXLAN, true},
    {"198.18.33.0/26", "198.51.100.4", S, NULL, 0, false}, /* no VTEP */
    {"198.18.33.0/26", "198.51.100.5", S, NULL, 0, false}, /* no MAC */
    {"198.18.33.0/26", "203.0.113.99", S, NULL, 0, false}, /* no node */
    /* VXLAN CrossSubnet */
    {"198.18.49.0/26", "192.0.2.2", U, "192.0.2.2", 0, false},
    {"198.18.49.0/26", "203.0.113.3", U, "198.18.200.3", VXLAN, true},
    /* Never, the refused pool, no pool, a prefix wider than a pool, v6 */
    {"198.18.65.0/26", "203.0.113.3", U, "203.0.113.3", 0, false},
    {"198.18.81.0/26", "203.0.113.3", U, "203.0.113.3", 0, false},
    {"198.19.0.0/26", "203.0.113.3", U, "203.0.113.3", 0, false},
    {"198.18.0.0/16", "203.0.113.3", U, "203.0.113.3", 0, false},
    {"2001:db8:100::40/122", "2001:db8::2", U, "2001:db8::2", 0, false},
};

/* the same cases without tunnel devices: never native where a tunnel is due */
static const struct shape_case nodev[] = {
    {"198.18.1.0/26", NULL, B, NULL, 0, false},
    {"198.18.2.0/26", "192.0.2.2", S, NULL, 0, false},
    {"198.18.17.0/26", "192.0.2.2", U, "192.0.2.2", 0, false},
    {"198.18.17.0/26", "203.0.113.3", S, NULL, 0, false},
    {"198.18.33.0/26", "192.0.2.2", S, NULL, 0, false},
    {"198.18.49.0/26", "192.0.2.2", U, "192.0.2.2", 0, false},
    {"198.18.49.0/26", "203.0.113.3", S, NULL, 0, false},
    {"198.18.65.0/26", "203.0.113.3", U, "203.0.113.3", 0, false},
};

static void
run_cases(struct node_shaper *s, const struct shape_case *c, size_t n)
{
	struct kernel_nh out;
	struct prefix p;
	struct addr nh;
	size_t i;

	for (i = 0; i < n; i++) {
		enum kernel_shape got;

		p = fx_prefix(c[i].prefix);
		if (c[i].nh != NULL)
			nh = fx_addr(c[i].nh);
		memset(&out, 0xa5, sizeof(out));
		got = node_shape(s, &p, c[i].nh ? &nh : NULL, &out);
		if (got != c[i].want)
			fail_msg("%s via %s: shape %d, want %d", c[i].prefix,
			    c[i].nh ? c[i].nh : "-", got, c[i].want);
		if (got != KERNEL_UNICAST)
			continue;
		if (strcmp(fx_ntop(&out.gw), c[i].gw) != 0 ||
		    out.ifindex != c[i].ifindex || out.onlink != c[i].onlink)
			fail_msg("%s via %s: gw %s dev %u onlink %d",
			    c[i].prefix, c[i].nh, fx_ntop(&out.gw), out.ifindex,
			    out.onlink);
	}
}

static void
test_modes(void **state)
{
	struct node_shaper s;
	char err[128];
	struct fx f;

	(void)state;
	shape_fixture(&f);
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n1", TUNL0, VXLAN, err, sizeof(err)),
	    0);
	assert_string_equal(fx_pntop(&s.subnet), "192.0.2.0/24");
	assert_string_equal(
	    fx_plist(s.own, s.nown), "198.18.1.0/26 2001:db8:100::/122");
	assert_int_equal(s.npools, 5); /* nested, bad and v6 left out */
	assert_int_equal(s.nvteps, 6); /* n7 refused */
	run_cases(&s, cases, sizeof(cases) / sizeof(cases[0]));
	node_shaper_clean(&s);

	/* another node's view: n3 is in another subnet */
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n3", TUNL0, VXLAN, err, sizeof(err)),
	    0);
	{
		const struct shape_case c3[] = {
		    {"198.18.17.0/26", "192.0.2.2", U, "192.0.2.2", TUNL0,
		        true},
		    {"198.18.49.0/26", "192.0.2.2", U, "198.18.200.2", VXLAN,
		        true},
		    {"198.18.1.0/26", NULL, S, NULL, 0, false},
		};

		run_cases(&s, c3, sizeof(c3) / sizeof(c3[0]));
	}
	node_shaper_clean(&s);
	fx_clean(&f);
}

static void
test_vteps(void **state)
{
	static const uint8_t mac3[6] = {0x66, 0x0e, 0x7d, 0x2a, 0x00, 0x03};
	static const uint8_t mac6[6] = {0x66, 0x0e, 0x7d, 0x2a, 0x00, 0x06};
	const struct node_vtep *v;
	struct node_shaper s;
	struct addr a;
	char err[128];
	struct fx f;

	(void)state;
	shape_fixture(&f);
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n1", TUNL0, VXLAN, err, sizeof(err)),
	    0);
	a = fx_addr("203.0.113.3");
	assert_non_null(v = node_shaper_vtep(&s, &a));
	assert_string_equal(v->name, "n3");
	assert_string_equal(fx_ntop(&v->tunnel), "198.18.200.3");
	assert_true(v->has_mac);
	assert_memory_equal(v->mac, mac3, 6);
	a = fx_addr("198.51.100.6");
	assert_non_null(v = node_shaper_vtep(&s, &a));
	assert_memory_equal(v->mac, mac6, 6);
	a = fx_addr("198.51.100.5");
	assert_non_null(v = node_shaper_vtep(&s, &a));
	assert_false(v->has_mac);
	a = fx_addr("198.51.100.4");
	assert_non_null(v = node_shaper_vtep(&s, &a));
	assert_int_equal(v->tunnel.family, 0);
	a = fx_addr("198.51.100.7");
	assert_null(node_shaper_vtep(&s, &a));
	node_shaper_clean(&s);
	fx_clean(&f);
}

static void
test_missing_devices(void **state)
{
	struct node_shaper s;
	struct kernel_nh out;
	struct prefix p;
	struct addr nh;
	char err[128];
	struct fx f;

	(void)state;
	shape_fixture(&f);
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n1", 0, 0, err, sizeof(err)), 0);
	run_cases(&s, nodev, sizeof(nodev) / sizeof(nodev[0]));
	node_shaper_clean(&s);

	/* each skipped prefix is logged once, whatever its next hops */
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n1", 0, VXLAN, err, sizeof(err)), 0);
	p = fx_prefix("198.18.2.0/26");
	nh = fx_addr("192.0.2.2");
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_SKIP);
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_SKIP);
	nh = fx_addr("203.0.113.3");
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_SKIP);
	assert_int_equal(s.nlogged, 1);
	p = fx_prefix("198.18.4.0/26");
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_SKIP);
	assert_int_equal(s.nlogged, 2);
	/* and the set grows past its first size */
	for (int i = 0; i < 1000; i++) {
		char buf[32];

		snprintf(
		    buf, sizeof(buf), "198.18.%d.%d/32", 4 + i / 256, i % 256);
		p = fx_prefix(buf);
		assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_SKIP);
		assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_SKIP);
	}
	assert_int_equal(s.nlogged, 1002);
	/* vxlan.calico is there: VXLAN routes go in */
	p = fx_prefix("198.18.33.0/26");
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_UNICAST);
	assert_int_equal(out.ifindex, VXLAN);
	node_shaper_clean(&s);
	fx_clean(&f);
}

static void
test_equal(void **state)
{
	struct node_shaper a, b;
	char err[128];
	struct fx f;

	(void)state;
	shape_fixture(&f);
	assert_int_equal(
	    node_shaper_build(&a, f.wc, "n1", TUNL0, VXLAN, err, sizeof(err)),
	    0);

#define REBUILD(t, v)                                                          \
	do {                                                                   \
		fx_load(&f);                                                   \
		assert_int_equal(node_shaper_build(&b, f.wc, "n1", (t), (v),   \
		                     err, sizeof(err)),                        \
		    0);                                                        \
	} while (0)

	REBUILD(TUNL0, VXLAN);
	assert_true(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);
	REBUILD(TUNL0 + 1, VXLAN);
	assert_false(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);
	REBUILD(TUNL0, 0);
	assert_false(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);

	/* what does not shape routes: a BGPPeer, labels, a pending claim */
	fx_peer(&f, "tor", "\"peerIP\":\"203.0.113.1\",\"asNumber\":65001");
	fx_node(&f, "n4", "{\"rack\":\"a\"}",
	    "\"ipv4Address\":\"198.51.100.4/24\"", NULL);
	fx_affinity(&f, "n1", "198.18.5.0/26", "pending");
	REBUILD(TUNL0, VXLAN);
	assert_true(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);

	/* what does: a VTEP's MAC, a pool's mode, my subnet, my blocks */
	fx_node(&f, "n2", NULL, "\"ipv4Address\":\"192.0.2.2/24\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.2\","
	    "\"vxlanTunnelMACAddr\":\"66:0e:7d:2a:00:22\"");
	REBUILD(TUNL0, VXLAN);
	assert_false(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);
	node_shaper_clean(&a);
	a = (struct node_shaper){0};
	REBUILD(TUNL0, VXLAN);
	a = b;
	memset(&b, 0, sizeof(b));

	fx_pool(&f, "ipip-cross",
	    "\"cidr\":\"198.18.16.0/20\",\"ipipMode\":\"Always\"");
	REBUILD(TUNL0, VXLAN);
	assert_false(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);
	fx_pool(&f, "ipip-cross",
	    "\"cidr\":\"198.18.16.0/20\",\"ipipMode\":\"CrossSubnet\"");
	REBUILD(TUNL0, VXLAN);
	assert_true(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);

	fx_node(&f, "n1", NULL, "\"ipv4Address\":\"192.0.2.1/25\"", NULL);
	REBUILD(TUNL0, VXLAN);
	assert_false(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);
	fx_node(&f, "n1", NULL,
	    "\"ipv4Address\":\"192.0.2.1/24\","
	    "\"ipv6Address\":\"2001:db8::1/64\","
	    "\"ipv4IPIPTunnelAddr\":\"198.18.1.0\"",
	    "\"ipv4VXLANTunnelAddr\":\"198.18.200.1\","
	    "\"vxlanTunnelMACAddr\":\"66:0e:7d:2a:00:01\"");
	fx_affinity(&f, "n1", "198.18.5.0/26", "confirmed");
	REBUILD(TUNL0, VXLAN);
	assert_false(node_shaper_equal(&a, &b));
	node_shaper_clean(&b);
#undef REBUILD
	node_shaper_clean(&a);
	fx_clean(&f);
}

static void
test_errors(void **state)
{
	struct node_shaper s;
	struct kernel_nh out;
	struct prefix p;
	struct addr nh;
	char err[128];
	struct fx f;

	(void)state;
	shape_fixture(&f);
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n9", TUNL0, VXLAN, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "node n9: not in the datastore");
	node_shaper_clean(&s);
	/* a refused Node is as absent */
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n7", TUNL0, VXLAN, err, sizeof(err)),
	    -1);
	node_shaper_clean(&s);
	/* a Node without an address: CrossSubnet always tunnels */
	fx_node(&f, "n8", NULL, NULL, NULL);
	fx_load(&f);
	assert_int_equal(
	    node_shaper_build(&s, f.wc, "n8", TUNL0, VXLAN, err, sizeof(err)),
	    0);
	p = fx_prefix("198.18.17.0/26");
	nh = fx_addr("192.0.2.2");
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_UNICAST);
	assert_int_equal(out.ifindex, TUNL0);
	node_shaper_clean(&s);
	/* an empty shaper: everything native, nothing originated installed */
	memset(&s, 0, sizeof(s));
	assert_int_equal(node_shape(&s, &p, &nh, &out), KERNEL_UNICAST);
	assert_int_equal(node_shape(&s, &p, NULL, &out), KERNEL_SKIP);
	fx_clean(&f);
}

/* 100k routes over 2,000 nodes and the five pool kinds: timing printed */
static void
test_100k(void **state)
{
	size_t i, counts[3] = {0}, tunnel = 0;
	struct timespec t0, t1;
	struct node_shaper s;
	struct kernel_nh out;
	struct prefix *p;
	struct addr *nh;
	char buf[128], spec[256], err[128];
	struct fx *f;
	double ns;

	(void)state;
	f = xcalloc(1, sizeof(*f));
	fx_init(f);
	fx_node(f, "me", NULL, "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	for (i = 0; i < 2000; i++) {
		snprintf(buf, sizeof(buf), "node%04zu", i);
		/* node addresses over 198.51.0.0/21, VTEPs all alike */
		snprintf(spec, sizeof(spec),
		    "\"ipv4Address\":\"198.51.%zu.%zu/24\"", i / 250,
		    i % 250 + 1);
		fx_node(f, buf, NULL, spec,
		    "\"ipv4VXLANTunnelAddr\":\"198.19.255.1\","
		    "\"vxlanTunnelMACAddr\":\"66:0e:7d:2a:00:02\"");
	}
	fx_pool(f, "a", "\"cidr\":\"198.18.0.0/18\",\"ipipMode\":\"Always\"");
	fx_pool(
	    f, "b", "\"cidr\":\"198.18.64.0/18\",\"ipipMode\":\"CrossSubnet\"");
	fx_pool(
	    f, "c", "\"cidr\":\"198.18.128.0/18\",\"vxlanMode\":\"Always\"");
	fx_pool(f, "d", "\"cidr\":\"198.18.192.0/18\"");
	for (i = 0; i < 200; i++) {
		snprintf(buf, sizeof(buf), "198.18.%zu.0/26", i);
		fx_affinity(f, "me", buf, "confirmed");
	}
	fx_load(f);
	assert_int_equal(
	    node_shaper_build(&s, f->wc, "me", TUNL0, VXLAN, err, sizeof(err)),
	    0);
	assert_int_equal(s.nvteps, 2001);
	assert_int_equal(s.nown, 200);

	p = xcalloc(100000, sizeof(*p));
	nh = xcalloc(100000, sizeof(*nh));
	for (i = 0; i < 100000; i++) {
		/* /26s over 198.18.0.0/16 (1024 of them) and /32s beyond */
		if (i < 1024)
			snprintf(buf, sizeof(buf), "198.18.%zu.%zu/26", i / 4,
			    64 * (i % 4));
		else
			snprintf(buf, sizeof(buf), "198.18.%zu.%zu/32",
			    (i * 7) % 256, i % 256);
		p[i] = fx_prefix(buf);
		snprintf(buf, sizeof(buf), "198.51.%zu.%zu", (i % 2000) / 250,
		    (i % 2000) % 250 + 1);
		nh[i] = fx_addr(buf);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100000; i++) {
		enum kernel_shape k = node_shape(&s, &p[i], &nh[i], &out);

		counts[k]++;
		tunnel += out.onlink;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ns = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) /
	    100000;
	print_message("shape: 100k routes, %.0f ns a route (%zu unicast, "
	              "%zu through a tunnel)\n",
	    ns, counts[KERNEL_UNICAST], tunnel);
	assert_int_equal(counts[KERNEL_UNICAST], 100000);
	/* every NH is outside my /24: pools a, b, c tunnel; d is native */
	assert_true(tunnel > 70000 && tunnel < 80000);
	/* and originated: 200 blackholes among the first 800 /26s */
	memset(counts, 0, sizeof(counts));
	for (i = 0; i < 1024; i++)
		counts[node_shape(&s, &p[i], NULL, &out)]++;
	assert_int_equal(counts[KERNEL_BLACKHOLE], 200);
	free(p);
	free(nh);
	node_shaper_clean(&s);
	fx_clean(f);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_modes),
	    cmocka_unit_test(test_vteps),
	    cmocka_unit_test(test_missing_devices),
	    cmocka_unit_test(test_equal),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
