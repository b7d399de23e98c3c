/*
 * store/ipam*.c without etcd: the FNV-32 seed (Go's hash/fnv New32
 * vectors), the hostname-seeded walk over a pool's blocks (every block
 * once, aligned, inside the pool, consecutive with wrap-around, the same
 * for a name every time and different for different names, positions
 * agreeing with the order; IPv4, a 2^58-block IPv6 pool, a one-block
 * pool), the 128-bit address conversions, the lookup in a block listing,
 * and the host names ipam_new() refuses.  The etcd side is
 * tests/integration/t_ipam.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/ipam.h"
#include "store/ipam_int.h"
#include "store/store.h"

static struct prefix
P(const char *s) {
	struct prefix p;

	if (prefix_parse(s, &p) == -1)
		fail_msg("bad prefix %s", s);
	return p;
}

static const char *
ntop(const struct prefix *p)
{
	static char buf[4][PREFIX_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return prefix_ntop(p, buf[i], sizeof(buf[i]));
}

static void
test_fnv32(void **state)
{
	(void)state;
	/* FNV-1 32-bit (not 1a), as Go's fnv.New32 that Calico seeds with */
	assert_int_equal(ipam_fnv32(""), 0x811c9dc5);
	assert_int_equal(ipam_fnv32("a"), 0x050c5d7e);
	assert_int_equal(ipam_fnv32("foobar"), 0x31f0b262);
	assert_int_not_equal(ipam_fnv32("node1"), ipam_fnv32("node2"));
}

/* every block of the pool once, aligned, inside, in consecutive order */
static void
check_walk(const char *pool, int blocklen, const char *host, int nblocks)
{
	struct prefix p = P(pool), b;
	struct ipam_walk w;
	unsigned __int128 step, base, x, prevx = 0;
	bool *seen;
	int n = 0, idx;

	step = (unsigned __int128)1 << (addr_maxlen(p.a.family) - blocklen);
	base = ipam_addr_u128(&p.a);
	seen = calloc(nblocks, sizeof(*seen));
	ipam_walk_init(&w, &p, blocklen, host);
	while (ipam_walk_next(&w, &b)) {
		assert_int_equal(b.len, blocklen);
		assert_true(prefix_covers(&p, &b));
		assert_false(prefix_has_hostbits(&b));
		x = ipam_addr_u128(&b.a);
		idx = (int)((x - base) / step);
		assert_true(idx >= 0 && idx < nblocks);
		if (seen[idx])
			fail_msg("%s: block %s twice", pool, ntop(&b));
		seen[idx] = true;
		/* where the walk says it is */
		assert_true(ipam_walk_pos(&w, &b.a) == (unsigned __int128)n);
		if (n > 0 && x != prevx + step)
			/* only the wrap goes back to the pool's start */
			assert_true(
			    x == base && prevx == base + step * (nblocks - 1));
		prevx = x;
		n++;
	}
	assert_int_equal(n, nblocks);
	assert_false(ipam_walk_next(&w, &b));
	free(seen);
}

static void
test_walk_v4(void **state)
{
	(void)state;
	check_walk("198.18.0.0/22", 26, "node1", 16);
	check_walk("198.18.0.0/22", 26, "node2", 16);
	check_walk("198.18.0.0/16", 26, "a-much-longer.node.name", 1024);
	check_walk("198.18.0.0/24", 32, "n", 256);
	/* a pool of one block */
	check_walk("198.18.0.0/26", 26, "node1", 1);
}

static void
test_walk_seeded(void **state)
{
	struct prefix pool = P("198.18.0.0/16"), a, b;
	struct ipam_walk w1, w2;
	const char *hosts[] = {"node1", "node2", "node3", "worker-0",
	    "worker-1", "k8s-master.example.com"};
	struct prefix starts[6];
	size_t i, k, same = 0;
	int n;

	(void)state;
	/* the same name: the same walk, every time */
	ipam_walk_init(&w1, &pool, 26, "node1");
	ipam_walk_init(&w2, &pool, 26, "node1");
	for (n = 0; n < 1024; n++) {
		assert_true(ipam_walk_next(&w1, &a));
		assert_true(ipam_walk_next(&w2, &b));
		assert_int_equal(prefix_cmp(&a, &b), 0);
	}
	/* different names: different starts (1024 blocks to choose from) */
	for (i = 0; i < 6; i++) {
		ipam_walk_init(&w1, &pool, 26, hosts[i]);
		assert_true(ipam_walk_next(&w1, &starts[i]));
	}
	for (i = 0; i < 6; i++)
		for (k = i + 1; k < 6; k++)
			same += prefix_cmp(&starts[i], &starts[k]) == 0;
	assert_int_equal(same, 0);
	/* the start is the one seeded, not the pool's first block always */
	for (i = 0, n = 0; i < 6; i++)
		n += starts[i].a.b[2] == 0 && starts[i].a.b[3] == 0;
	assert_true(n < 6);
}

static void
test_walk_v6(void **state)
{
	struct prefix pool = P("2001:db8:1::/64"), b, prev;
	struct ipam_walk w;
	unsigned __int128 step = 64;
	int n;

	(void)state;
	ipam_walk_init(&w, &pool, 122, "node1");
	assert_true(w.nblocks == (unsigned __int128)1 << 58);
	for (n = 0; n < 100; n++) {
		assert_true(ipam_walk_next(&w, &b));
		assert_int_equal(b.len, 122);
		assert_true(prefix_covers(&pool, &b));
		assert_false(prefix_has_hostbits(&b));
		assert_true(ipam_walk_pos(&w, &b.a) == (unsigned __int128)n);
		if (n > 0 &&
		    ipam_addr_u128(&b.a) != ipam_addr_u128(&prev.a) + step)
			assert_true(
			    ipam_addr_u128(&b.a) == ipam_addr_u128(&pool.a));
		prev = b;
	}
	/* a small IPv6 pool walks all its blocks */
	check_walk("2001:db8:2::/120", 122, "node1", 4);
	check_walk("2001:db8:2::/116", 122, "node9", 64);
}

static void
test_u128(void **state)
{
	struct addr a, b;

	(void)state;
	assert_int_equal(addr_parse("198.18.1.2", &a), 0);
	assert_true(ipam_addr_u128(&a) == 0xc6120102);
	ipam_u128_addr(ipam_addr_u128(&a) + 0xfe, AF_INET, &b);
	assert_int_equal(addr_parse("198.18.2.0", &a), 0);
	assert_int_equal(addr_cmp(&a, &b), 0);
	assert_int_equal(addr_parse("2001:db8::ffff:ffff", &a), 0);
	ipam_u128_addr(ipam_addr_u128(&a) + 1, AF_INET6, &b);
	assert_int_equal(addr_parse("2001:db8::1:0:0", &a), 0);
	assert_int_equal(addr_cmp(&a, &b), 0);
}

static void
test_listing_find(void **state)
{
	/* sorted by lo, as ipam_list_blocks leaves them */
	static const char *blocks[] = {
	    "198.18.0.0/26", "198.18.0.64/26", "198.18.1.0/24"};
	struct ipam_lblk v[3];
	struct ipam_listing l = {v, 3};
	const struct ipam_lblk *x;
	struct prefix p;
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		p = P(blocks[i]);
		memset(&v[i], 0, sizeof(v[i]));
		v[i].cidr = p;
		v[i].lo = ipam_addr_u128(&p.a);
		v[i].hi = v[i].lo + ((1u << (32 - p.len)) - 1);
	}
#define FIND(s)                                                                \
	(p = P(s),                                                             \
	    x = ipam_listing_find(&l, ipam_addr_u128(&p.a),                    \
	        ipam_addr_u128(&p.a) + ((1u << (32 - p.len)) - 1)),            \
	    x)
	assert_non_null(FIND("198.18.0.0/26"));
	assert_string_equal(ntop(&x->cidr), "198.18.0.0/26");
	assert_non_null(FIND("198.18.0.64/26"));
	assert_string_equal(ntop(&x->cidr), "198.18.0.64/26");
	assert_null(FIND("198.18.0.128/26"));
	assert_null(FIND("198.18.0.192/26"));
	/* a candidate inside a bigger block, or covering a smaller one */
	assert_non_null(FIND("198.18.1.64/26"));
	assert_string_equal(ntop(&x->cidr), "198.18.1.0/24");
	assert_non_null(FIND("198.18.0.0/23"));
	assert_null(FIND("198.18.2.0/26"));
	assert_null(FIND("198.17.255.192/26"));
	l.n = 0;
	assert_null(FIND("198.18.0.0/26"));
#undef FIND
}

static void
test_new(void **state)
{
	struct ipam *ip;

	(void)state;
	assert_null(ipam_new(NULL, NULL));
	assert_null(ipam_new(NULL, ""));
	assert_null(ipam_new(NULL, "a/b"));
	ip = ipam_new(NULL, "node-1.example");
	assert_non_null(ip);
	assert_string_equal(ipam_host(ip), "node-1.example");
	ipam_free(ip);
	ipam_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fnv32),
	    cmocka_unit_test(test_walk_v4),
	    cmocka_unit_test(test_walk_seeded),
	    cmocka_unit_test(test_walk_v6),
	    cmocka_unit_test(test_u128),
	    cmocka_unit_test(test_listing_find),
	    cmocka_unit_test(test_new),
	};

	store_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
