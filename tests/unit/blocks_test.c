/*
 * node/blocks.c: what a node announces, its own blocks and the lent
 * addresses, from IPAM blocks and affinities as calico-ipam writes them.
 * Checked: confirmed affinities only (pending, pendingDeletion, deleted,
 * v2.6's "{}" left out), /32 blocks skipped; borrowed /32 and /128 from
 * blocks affine to other nodes and from unaffined ones; lent addresses of
 * my blocks; allocations without secondary attributes count as the
 * owner's; the pool export filter (outside every pool, disableBGPExport);
 * IPv6; both sides of one borrowing agree; changes (confirm, release)
 * re-derive; node_derive() and node_derive_own_blocks() give the same
 * lists; a refused pool or block only loses its own prefixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "derive_fixture.h"

static void
ipam_fixture(struct fx *f)
{
	fx_init(f);
	fx_node(f, "n1", NULL,
	    "\"ipv4Address\":\"192.0.2.1/24\","
	    "\"ipv6Address\":\"2001:db8::1/64\"",
	    NULL);
	fx_node(f, "n2", NULL,
	    "\"ipv4Address\":\"192.0.2.2/24\","
	    "\"ipv6Address\":\"2001:db8::2/64\"",
	    NULL);
	fx_pool(f, "default-ipv4-ippool",
	    "\"cidr\":\"198.18.0.0/16\",\"ipipMode\":\"Always\","
	    "\"natOutgoing\":true,\"blockSize\":26,"
	    "\"nodeSelector\":\"all()\"");
	fx_pool(f, "no-export",
	    "\"cidr\":\"198.19.0.0/24\",\"disableBGPExport\":true,"
	    "\"blockSize\":26");
	fx_pool(f, "default-ipv6-ippool",
	    "\"cidr\":\"2001:db8:100::/48\",\"blockSize\":122");

	/* n1's blocks */
	fx_affinity(f, "n1", "198.18.1.0/26", "confirmed");
	fx_block(f, "198.18.1.0/26", "n1", "198.18.1.0", "n1", "198.18.1.1",
	    "n1", "198.18.1.2", "n2", "198.18.1.3", NULL, NULL);
	fx_affinity(f, "n1", "198.18.1.64/26", "pending");
	fx_block(f, "198.18.1.64/26", "n1", "198.18.1.65", "n1", NULL);
	fx_affinity(f, "n1", "198.18.1.128/26", "pendingDeletion");
	fx_affinity(f, "n1", "198.18.9.5/32", "confirmed");
	fx_block(f, "198.18.9.5/32", "n1", "198.18.9.5", "n1", NULL);
	fx_affinity(f, "n1", "198.19.0.0/26", "confirmed");
	fx_affinity(f, "n1", "203.0.113.0/26", "confirmed");
	fx_affinity(f, "n1", "2001:db8:100::/122", "confirmed");
	fx_block(f, "2001:db8:100::/122", "n1", "2001:db8:100::1", "n1", NULL);
	/* v2.6's form without a state: not confirmed */
	fx_put(f, MODEL_IPAM_PREFIX "host/n1/ipv4/block/198.18.4.0-26", "{}");

	/* n2's blocks, some of their addresses borrowed by n1 */
	fx_affinity(f, "n2", "198.18.2.0/26", "confirmed");
	fx_block(f, "198.18.2.0/26", "n2", "198.18.2.5", "n1", "198.18.2.6",
	    "n2", NULL);
	fx_affinity(f, "n2", "198.19.0.64/26", "confirmed");
	fx_block(f, "198.19.0.64/26", "n2", "198.19.0.73", "n1", NULL);
	fx_affinity(f, "n2", "2001:db8:100::40/122", "confirmed");
	fx_block(
	    f, "2001:db8:100::40/122", "n2", "2001:db8:100::41", "n1", NULL);
	/* an unaffined block (its host released it) */
	fx_block(f, "198.18.3.0/26", NULL, "198.18.3.7", "n1", "198.18.3.8",
	    "n2", NULL);
	fx_load(f);
}

static void
test_announce_own_lent(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	ipam_fixture(&f);
	memset(&b, 0, sizeof(b));
	node_derive_blocks(f.wc, "n1", &b);
	assert_string_equal(fx_plist(b.announce, b.nannounce),
	    "198.18.1.0/26 198.18.2.5/32 198.18.3.7/32 2001:db8:100::/122 "
	    "2001:db8:100::41/128");
	assert_string_equal(fx_plist(b.own_blocks, b.nown),
	    "198.18.1.0/26 198.19.0.0/26 203.0.113.0/26 2001:db8:100::/122");
	assert_string_equal(fx_plist(b.lent, b.nlent), "198.18.1.2/32");
	node_bgp_clean(&b);

	node_derive_blocks(f.wc, "n2", &b);
	assert_string_equal(fx_plist(b.announce, b.nannounce),
	    "198.18.1.2/32 198.18.2.0/26 198.18.3.8/32 "
	    "2001:db8:100::40/122");
	assert_string_equal(fx_plist(b.own_blocks, b.nown),
	    "198.18.2.0/26 198.19.0.64/26 2001:db8:100::40/122");
	assert_string_equal(fx_plist(b.lent, b.nlent),
	    "198.18.2.5/32 198.19.0.73/32 2001:db8:100::41/128");
	node_bgp_clean(&b);

	/* a node with no IPAM state at all */
	node_derive_blocks(f.wc, "n3", &b);
	assert_int_equal(b.nannounce + b.nown + b.nlent, 0);
	assert_null(b.announce);
	assert_null(b.own_blocks);
	assert_null(b.lent);
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_same_through_node_derive(void **state)
{
	struct node_bgp a, b;
	struct prefix *own;
	char err[128];
	size_t n;
	struct fx f;

	(void)state;
	ipam_fixture(&f);
	memset(&a, 0, sizeof(a));
	node_derive_blocks(f.wc, "n1", &a);
	assert_int_equal(node_derive(f.wc, "n1", &b, err, sizeof(err)), 0);
	assert_string_equal(fx_plist(a.announce, a.nannounce),
	    fx_plist(b.announce, b.nannounce));
	assert_int_equal(a.nown, b.nown);
	assert_int_equal(a.nlent, b.nlent);
	node_derive_own_blocks(f.wc, "n1", &own, &n);
	assert_int_equal(n, a.nown);
	assert_memory_equal(own, a.own_blocks, n * sizeof(*own));
	free(own);
	node_bgp_clean(&a);
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_changes(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	ipam_fixture(&f);

	/* the pending claim is confirmed: its block is announced */
	fx_affinity(&f, "n1", "198.18.1.64/26", "confirmed");
	/* n1's pod in n2's block goes away: its /32 is withdrawn */
	fx_block(&f, "198.18.2.0/26", "n2", "198.18.2.6", "n2", NULL);
	/* the IPv6 pool stops exporting */
	fx_pool(&f, "default-ipv6-ippool",
	    "\"cidr\":\"2001:db8:100::/48\",\"blockSize\":122,"
	    "\"disableBGPExport\":true");
	fx_load(&f);
	memset(&b, 0, sizeof(b));
	node_derive_blocks(f.wc, "n1", &b);
	assert_string_equal(fx_plist(b.announce, b.nannounce),
	    "198.18.1.0/26 198.18.1.64/26 198.18.3.7/32");
	assert_string_equal(fx_plist(b.own_blocks, b.nown),
	    "198.18.1.0/26 198.18.1.64/26 198.19.0.0/26 203.0.113.0/26 "
	    "2001:db8:100::/122");
	node_bgp_clean(&b);

	/* v3.21 marks an affinity being deleted */
	fx_put(&f, MODEL_IPAM_PREFIX "host/n1/ipv4/block/198.18.1.64-26",
	    "{\"state\":\"confirmed\",\"deleted\":true}");
	/* the block is released and the affinity gone */
	fx_del(&f, MODEL_IPAM_PREFIX "host/n1/ipv4/block/198.18.1.0-26");
	fx_load(&f);
	node_derive_blocks(f.wc, "n1", &b);
	assert_string_equal(fx_plist(b.announce, b.nannounce), "198.18.3.7/32");
	assert_string_equal(fx_plist(b.lent, b.nlent), "");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_bad_input(void **state)
{
	struct wcache_stats st;
	struct node_bgp b;
	struct fx f;
	char *copy;

	(void)state;
	fx_init(&f);
	fx_node(&f, "n1", NULL, "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_pool(&f, "good",
	    "\"cidr\":\"198.18.0.0/17\",\"ipipMode\":\"CrossSubnet\"");
	fx_pool(&f, "bad",
	    "\"cidr\":\"198.18.128.0/17\",\"ipipMode\":\"Sometimes\"");
	fx_affinity(&f, "n1", "198.18.0.0/26", "confirmed");
	fx_affinity(&f, "n1", "198.18.128.0/26", "confirmed");
	fx_affinity(&f, "n1", "198.18.0.64/26", "confirmed");
	fx_put(&f, MODEL_IPAM_PREFIX "host/n1/ipv4/block/198.18.0.128-26",
	    "{\"state\":\"maybe\"}");
	fx_block(&f, "198.18.0.0/26", "n1", "198.18.0.1", "n2", NULL);
	/* a block that does not decode, and one under another's key */
	fx_put(&f, MODEL_IPAM_PREFIX "assignment/ipv4/block/198.18.0.64-26",
	    "{\"cidr\":\"198.18.0.64/26\",\"allocations\":[0]}");
	fx_block(&f, "198.18.1.0/26", "n2", "198.18.1.1", "n1", NULL);
	copy = xstrdup(f.kv[f.n - 1].value);
	fx_put(
	    &f, MODEL_IPAM_PREFIX "assignment/ipv4/block/198.18.2.0-26", copy);
	free(copy);
	fx_load(&f);

	wcache_stats(f.wc, &st);
	assert_int_equal(st.refused, 4);
	memset(&b, 0, sizeof(b));
	node_derive_blocks(f.wc, "n1", &b);
	/* the bad pool's block is blackholed but not announced */
	assert_string_equal(fx_plist(b.announce, b.nannounce),
	    "198.18.0.0/26 198.18.0.64/26 198.18.1.1/32");
	assert_string_equal(fx_plist(b.own_blocks, b.nown),
	    "198.18.0.0/26 198.18.0.64/26 198.18.128.0/26");
	assert_string_equal(fx_plist(b.lent, b.nlent), "198.18.0.1/32");
	node_bgp_clean(&b);
	fx_clean(&f);
}

/* 2,000 nodes x 2 blocks, pods borrowed here and there: timing printed */
static void
test_scale(void **state)
{
	char cidr[64], node[32], ip[64], ip2[64];
	struct timespec t0, t1;
	struct node_bgp b;
	struct fx *f;
	int i;

	(void)state;
	f = xcalloc(1, sizeof(*f));
	fx_init(f);
	fx_pool(f, "p", "\"cidr\":\"198.18.0.0/15\"");
	for (i = 0; i < 2000; i++) {
		snprintf(node, sizeof(node), "node%04d", i);
		/* a /26 at 64 * (i % 4) */
		snprintf(cidr, sizeof(cidr), "198.%d.%d.%d/26", 18 + i / 1024,
		    (i % 1024) / 4, 64 * (i % 4));
		fx_affinity(f, node, cidr, "confirmed");
		snprintf(ip, sizeof(ip), "198.%d.%d.%d", 18 + i / 1024,
		    (i % 1024) / 4, 64 * (i % 4) + 1);
		snprintf(ip2, sizeof(ip2), "198.%d.%d.%d", 18 + i / 1024,
		    (i % 1024) / 4, 64 * (i % 4) + 2);
		/* every block lends its second address to node0000 */
		fx_block(f, cidr, node, ip, node, ip2, "node0000", NULL);
	}
	fx_load(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&b, 0, sizeof(b));
	node_derive_blocks(f->wc, "node0000", &b);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(b.nown, 1);
	assert_int_equal(b.nannounce, 1 + 1999);
	assert_int_equal(b.nlent, 0);
	print_message("blocks: 2000 blocks, 1999 borrowed: %.2f ms\n",
	    (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	node_bgp_clean(&b);
	fx_clean(f);
	free(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_announce_own_lent),
	    cmocka_unit_test(test_same_through_node_derive),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
