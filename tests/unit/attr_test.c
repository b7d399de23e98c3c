/*
 * Path attribute sets (bgp/attr.c): encoding byte vectors (4-octet and
 * 2-octet sessions with AS_TRANS, AS4_PATH and AS4_AGGREGATOR, extended
 * lengths, ascending order, what stays inside the AS), interning and
 * reference counts, and the AS_PATH helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "bgp/wire.h"
#include "tests/unit/vectors.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

static void
assert_encodes(
    const struct attrs *a, const struct update_ctx *ctx, const char *want)
{
	struct ibuf *b = ibuf_dynamic(64, 65536);
	uint8_t w[8192];
	size_t n = hex(want, w, sizeof(w));

	assert_int_equal(attrs_encode(b, a, ctx), 0);
	if (ibuf_size(b) != n || memcmp(ibuf_data(b), w, n) != 0) {
		size_t i;
		for (i = 0; i < ibuf_size(b); i++)
			print_message("%02x", ((uint8_t *)ibuf_data(b))[i]);
		print_message("\n");
	}
	assert_int_equal(ibuf_size(b), n);
	assert_memory_equal(ibuf_data(b), w, n);
	ibuf_free(b);
}

/* an AS_PATH of segments given as {type, count, as...}, 0-terminated */
static void
set_path(struct attrs *a, const uint32_t *segs)
{
	uint8_t *p = xmalloc(1024);
	size_t o = 0, i;
	uint16_t count = 0;

	while (segs[0] != 0) {
		p[o++] = segs[0];
		p[o++] = segs[1];
		for (i = 0; i < segs[1]; i++) {
			uint32_t as = segs[2 + i];
			p[o++] = as >> 24;
			p[o++] = as >> 16;
			p[o++] = as >> 8;
			p[o++] = as;
		}
		count += segs[0] == AS_SEQUENCE ? segs[1]
		    : segs[0] == AS_SET         ? 1
		                                : 0;
		segs += 2 + segs[1];
	}
	a->aspath = p;
	a->aspath_len = o;
	a->aspath_count = count;
	a->flags |= ATTRF_ASPATH;
}

static void
test_encode_as4(void **state)
{
	struct update_ctx ibgp = {.as4 = true};
	struct update_ctx ebgp = {.as4 = true, .ebgp = true};
	static const uint32_t segs[] = {AS_SEQUENCE, 2, 65001, 4200000000u, 0};
	uint32_t comm[] = {0xfde90064};
	uint32_t large[] = {65001, 1, 2};
	uint32_t cl[] = {0xc0000201};
	struct attrs a;

	(void)state;
	memset(&a, 0, sizeof(a));
	set_path(&a, segs);
	a.flags |= ATTRF_ORIGIN | ATTRF_NEXTHOP | ATTRF_MED | ATTRF_LOCALPREF |
	    ATTRF_ATOMIC_AGGR | ATTRF_AGGREGATOR | ATTRF_ORIGINATOR_ID;
	a.origin = ORIGIN_EGP;
	addr_parse("192.0.2.1", &a.nexthop);
	a.med = 7;
	a.local_pref = 100;
	a.aggr_as = 65001;
	a.aggr_id = 0xc0000202;
	a.originator_id = 0xc0000203;
	a.communities = comm;
	a.ncommunities = 1;
	a.large = large;
	a.nlarge = 1;
	a.cluster_list = cl;
	a.ncluster = 1;
	assert_encodes(&a, &ibgp,
	    "40010101 40020a 0202 0000fde9 fa56ea00 400304 c0000201 "
	    "800404 00000007 400504 00000064 400600 c00708 0000fde9 c0000202 "
	    "c00804 fde90064 800904 c0000203 800a04 c0000201 "
	    "c0200c 0000fde9 00000001 00000002");
	/* LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST stay inside the AS */
	assert_encodes(&a, &ebgp,
	    "40010101 40020a 0202 0000fde9 fa56ea00 400304 c0000201 "
	    "800404 00000007 400600 c00708 0000fde9 c0000202 "
	    "c00804 fde90064 c0200c 0000fde9 00000001 00000002");
	/* NEXT_HOP only for an IPv4 next hop */
	addr_parse("2001:db8::1", &a.nexthop);
	a.flags &= ~(ATTRF_MED | ATTRF_LOCALPREF | ATTRF_ATOMIC_AGGR |
	    ATTRF_AGGREGATOR | ATTRF_ORIGINATOR_ID);
	a.ncommunities = a.nlarge = a.ncluster = 0;
	assert_encodes(&a, &ibgp, "40010101 40020a 0202 0000fde9 fa56ea00");
	free(a.aspath);

	/* nothing set: ORIGIN IGP and an empty AS_PATH */
	memset(&a, 0, sizeof(a));
	assert_encodes(&a, &ibgp, "40010100 400200");
}

/* RFC 6793 §4.2.2 */
static void
test_encode_as2(void **state)
{
	struct update_ctx c2 = {.as4 = false};
	static const uint32_t big[] = {AS_CONFED_SEQUENCE, 1, 4200000009u,
	    AS_SEQUENCE, 2, 65001, 4200000000u, AS_SET, 2, 65010, 4200000001u,
	    0};
	static const uint32_t small[] = {AS_SEQUENCE, 2, 65001, 65002, 0};
	struct attrs a;

	(void)state;
	memset(&a, 0, sizeof(a));
	set_path(&a, big);
	a.flags |= ATTRF_AGGREGATOR;
	a.aggr_as = 4200000002u;
	a.aggr_id = 0xc0000202;
	/* AS_TRANS everywhere; AS4_PATH without the confederation segment */
	assert_encodes(&a, &c2,
	    "40010100 400210 0301 5ba0 0202 fde9 5ba0 0102 fdf2 5ba0 "
	    "c00706 5ba0 c0000202 "
	    "c01114 0202 0000fde9 fa56ea00 0102 0000fdf2 fa56ea01 "
	    "c01208 fa56ea02 c0000202");
	free(a.aspath);

	/* big ASNs only in a confederation segment: no (empty) AS4_PATH */
	{
		static const uint32_t confed[] = {AS_CONFED_SEQUENCE, 1,
		    4200000009u, AS_SEQUENCE, 1, 65001, 0};

		memset(&a, 0, sizeof(a));
		set_path(&a, confed);
		assert_encodes(&a, &c2, "40010100 400208 0301 5ba0 0201 fde9");
		free(a.aspath);
	}

	/* nothing above 65535: no AS4 attributes at all */
	memset(&a, 0, sizeof(a));
	set_path(&a, small);
	a.flags |= ATTRF_AGGREGATOR;
	a.aggr_as = 65003;
	a.aggr_id = 1;
	assert_encodes(
	    &a, &c2, "40010100 400206 0202 fde9 fdea c00706 fdeb 00000001");
	free(a.aspath);
}

/* RFC 4271 §4.3: a value over 255 octets needs the Extended Length bit */
static void
test_encode_extlen(void **state)
{
	struct update_ctx ibgp = {.as4 = true};
	uint32_t comm[100];
	struct attrs a;
	struct ibuf *b = ibuf_dynamic(64, 65536);
	uint8_t *p;
	int i;

	(void)state;
	for (i = 0; i < 100; i++)
		comm[i] = 0xfde90000 | i;
	memset(&a, 0, sizeof(a));
	a.communities = comm;
	a.ncommunities = 64; /* 256 octets */
	assert_int_equal(attrs_encode(b, &a, &ibgp), 0);
	p = (uint8_t *)ibuf_data(b) + 7;
	assert_int_equal(p[0], ATTR_OPTIONAL | ATTR_TRANSITIVE | ATTR_EXTLEN);
	assert_int_equal(p[1], ATTR_COMMUNITIES);
	assert_int_equal(p[2] << 8 | p[3], 256);
	assert_int_equal(ibuf_size(b), 7 + 4 + 256);
	ibuf_free(b);

	b = ibuf_dynamic(64, 65536);
	a.ncommunities = 63; /* 252 octets: one length octet */
	assert_int_equal(attrs_encode(b, &a, &ibgp), 0);
	p = (uint8_t *)ibuf_data(b) + 7;
	assert_int_equal(p[0], ATTR_OPTIONAL | ATTR_TRANSITIVE);
	assert_int_equal(p[2], 252);
	ibuf_free(b);

	/* a bounded buffer that is too small fails cleanly */
	b = ibuf_dynamic(16, 100);
	assert_int_equal(attrs_encode(b, &a, &ibgp), -1);
	ibuf_free(b);
}

/* `others` are merged in by type, with their flags and Partial bit */
static void
test_encode_others(void **state)
{
	struct update_ctx ibgp = {.as4 = true};
	uint32_t large[] = {1, 2, 3};
	uint32_t comm[] = {0xfde90064};
	uint8_t others[64];
	size_t n;
	struct attrs a;

	(void)state;
	n = hex("e00b0001ee c0100008 0002fde900000064 e0630002abcd", others,
	    sizeof(others));
	memset(&a, 0, sizeof(a));
	a.others = others;
	a.others_len = n;
	a.large = large;
	a.nlarge = 1;
	a.communities = comm;
	a.ncommunities = 1;
	assert_encodes(&a, &ibgp,
	    "40010100 400200 c00804 fde90064 e00b01ee c01008 0002fde900000064 "
	    "c0200c 00000001 00000002 00000003 e06302abcd");
}

/* encode, then decode through update_parse: the same set comes back */
static void
test_encode_decode(void **state)
{
	static const uint32_t segs[] = {
	    AS_SEQUENCE, 3, 65001, 4200000000u, 65003, AS_SET, 2, 1, 2, 0};
	struct update_ctx ctxs[2] = {
	    {.as4 = true, .maxlen = 4096}, {.as4 = false, .maxlen = 4096}};
	uint32_t comm[] = {1, 2, 3};
	uint32_t cl[] = {7, 8};
	uint8_t others[] = {
	    0xc0, 0x10, 0x00, 0x08, 0, 2, 0xfd, 0xe9, 0, 0, 0, 1};
	struct attrs a;
	struct update u;
	struct bgp_err e;
	struct ibuf *b, rb;
	int i;

	(void)state;
	memset(&a, 0, sizeof(a));
	set_path(&a, segs);
	a.flags |= ATTRF_ORIGIN | ATTRF_MED | ATTRF_LOCALPREF |
	    ATTRF_AGGREGATOR | ATTRF_ORIGINATOR_ID | ATTRF_ATOMIC_AGGR;
	a.origin = ORIGIN_INCOMPLETE;
	a.med = 1;
	a.local_pref = 2;
	a.aggr_as = 4200000005u;
	a.aggr_id = 3;
	a.originator_id = 4;
	a.communities = comm;
	a.ncommunities = 3;
	a.cluster_list = cl;
	a.ncluster = 2;
	a.others = others;
	a.others_len = sizeof(others);
	for (i = 0; i < 2; i++) {
		uint8_t *p;
		size_t alen;

		b = ibuf_dynamic(64, 4096);
		ibuf_add_n16(b, 0);
		ibuf_add_n16(b, 0);
		assert_int_equal(attrs_encode(b, &a, &ctxs[i]), 0);
		alen = ibuf_size(b) - 4;
		p = ibuf_data(b);
		p[2] = alen >> 8;
		p[3] = alen & 0xff;
		ibuf_from_buffer(&rb, ibuf_data(b), ibuf_size(b));
		assert_int_equal(update_parse(&rb, &ctxs[i], &u, &e), 0);
		assert_false(u.treat_as_withdraw);
		assert_int_equal(u.discarded, 0);
		assert_true(attrs_equal(&u.attrs, &a));
		assert_int_equal(u.attrs.aspath_count, 4);
		update_clean(&u);
		ibuf_free(b);
	}
	free(a.aspath);
}

static void
fill(struct attrs *a, uint32_t med)
{
	static uint32_t comm[] = {1, 2};

	memset(a, 0, sizeof(*a));
	a->flags = ATTRF_ORIGIN | ATTRF_MED | ATTRF_NEXTHOP;
	a->med = med;
	addr_parse("192.0.2.1", &a->nexthop);
	a->communities = comm;
	a->ncommunities = 2;
}

static void
test_intern(void **state)
{
	struct attr_table *t = attr_table_new();
	struct attrs tmpl, tmpl2, *a, *b, *c, *v[5000];
	static const uint32_t segs[] = {AS_SEQUENCE, 1, 65001, 0};
	uint32_t i;

	(void)state;
	fill(&tmpl, 10);
	a = attr_intern(t, &tmpl);
	assert_int_equal(a->refcnt, 1);
	assert_ptr_equal(a->table, t);
	assert_ptr_not_equal(a->communities, tmpl.communities);
	assert_true(attrs_equal(a, &tmpl));
	b = attr_intern(t, &tmpl);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refcnt, 2);
	assert_int_equal(attr_table_count(t), 1);

	/* every field counts */
	fill(&tmpl2, 11);
	c = attr_intern(t, &tmpl2);
	assert_ptr_not_equal(c, a);
	attr_unref(c);
	fill(&tmpl2, 10);
	addr_parse("192.0.2.2", &tmpl2.nexthop);
	c = attr_intern(t, &tmpl2);
	assert_ptr_not_equal(c, a);
	attr_unref(c);
	fill(&tmpl2, 10);
	addr_parse("fe80::1", &tmpl2.nexthop_ll);
	assert_false(attrs_equal(&tmpl, &tmpl2));
	fill(&tmpl2, 10);
	tmpl2.ncommunities = 1;
	assert_false(attrs_equal(&tmpl, &tmpl2));
	fill(&tmpl2, 10);
	set_path(&tmpl2, segs);
	assert_false(attrs_equal(&tmpl, &tmpl2));
	c = attr_intern(t, &tmpl2);
	assert_int_equal(c->aspath_count, 1);
	assert_ptr_equal(attr_ref(c), c);
	assert_int_equal(c->refcnt, 2);
	attr_unref(c);
	attr_unref(c);
	free(tmpl2.aspath);
	assert_int_equal(attr_table_count(t), 1);

	attr_unref(b);
	assert_int_equal(a->refcnt, 1);
	attr_unref(a);
	assert_int_equal(attr_table_count(t), 0);

	/* the table grows and every set is still found */
	for (i = 0; i < 5000; i++) {
		fill(&tmpl, i);
		v[i] = attr_intern(t, &tmpl);
	}
	assert_int_equal(attr_table_count(t), 5000);
	for (i = 0; i < 5000; i++) {
		fill(&tmpl, i);
		assert_ptr_equal(attr_intern(t, &tmpl), v[i]);
		assert_int_equal(v[i]->refcnt, 2);
		attr_unref(v[i]);
	}
	for (i = 0; i < 5000; i += 2)
		attr_unref(v[i]);
	assert_int_equal(attr_table_count(t), 2500);
	/* the rest are leftovers: attr_table_free frees them */
	attr_table_free(t);
}

static void
test_copy_clean(void **state)
{
	static const uint32_t segs[] = {AS_SEQUENCE, 2, 1, 2, 0};
	uint8_t others[] = {0xe0, 0x63, 0x00, 0x01, 0xee};
	struct attrs a, b;

	(void)state;
	fill(&a, 1);
	set_path(&a, segs);
	a.others = others;
	a.others_len = sizeof(others);
	attrs_copy(&b, &a);
	assert_true(attrs_equal(&a, &b));
	assert_ptr_not_equal(a.aspath, b.aspath);
	assert_ptr_not_equal(a.others, b.others);
	assert_null(b.table);
	aspath_prepend(&b, 3);
	assert_false(attrs_equal(&a, &b));
	attrs_clean(&b);
	assert_null(b.aspath);
	assert_int_equal(b.aspath_len, 0);
	assert_int_equal(b.ncommunities, 0);
	attrs_clean(&b); /* twice is fine */
	free(a.aspath);

	/* an empty set copies to an empty set */
	memset(&a, 0, sizeof(a));
	attrs_copy(&b, &a);
	assert_null(b.aspath);
	assert_null(b.communities);
	attrs_clean(&b);
}

static void
test_aspath(void **state)
{
	static const uint32_t p1[] = {AS_CONFED_SEQUENCE, 1, 65100, AS_SEQUENCE,
	    2, 65001, 65002, AS_SET, 2, 65003, 65004, 0};
	static const uint32_t p2[] = {
	    AS_SET, 2, 65003, 65004, AS_SEQUENCE, 1, 65005, 0};
	struct attrs a;
	uint32_t out[400];
	int i;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(aspath_first(&a), 0);
	assert_int_equal(aspath_neighbor(&a), 0);
	assert_false(aspath_contains(&a, 65001));
	assert_int_equal(aspath_to_array(&a, out, 10), 0);

	set_path(&a, p1);
	assert_int_equal(a.aspath_count, 3);
	assert_int_equal(aspath_first(&a), 65001);
	assert_int_equal(aspath_neighbor(&a), 65001);
	assert_true(aspath_contains(&a, 65100));
	assert_true(aspath_contains(&a, 65004));
	assert_false(aspath_contains(&a, 65005));
	assert_int_equal(aspath_to_array(&a, out, 10), 5);
	assert_int_equal(out[0], 65100);
	assert_int_equal(out[4], 65004);
	assert_int_equal(aspath_to_array(&a, out, 2), 2);
	/* prepending in front of a confederation segment opens a new one */
	aspath_prepend(&a, 65000);
	assert_int_equal(a.aspath[0], AS_SEQUENCE);
	assert_int_equal(a.aspath[1], 1);
	assert_int_equal(a.aspath_count, 4);
	assert_int_equal(aspath_first(&a), 65000);
	attrs_clean(&a);

	memset(&a, 0, sizeof(a));
	set_path(&a, p2);
	assert_int_equal(aspath_first(&a), 65005);
	assert_int_equal(aspath_neighbor(&a), 0); /* starts with an AS_SET */
	attrs_clean(&a);

	/* an empty path gets its first segment; then prepends join it */
	memset(&a, 0, sizeof(a));
	aspath_prepend(&a, 65001);
	assert_true(a.flags & ATTRF_ASPATH);
	assert_int_equal(a.aspath_len, 6);
	aspath_prepend(&a, 4200000000u);
	assert_int_equal(a.aspath_len, 10);
	assert_int_equal(a.aspath[1], 2);
	assert_int_equal(a.aspath_count, 2);
	assert_int_equal(aspath_to_array(&a, out, 10), 2);
	assert_int_equal(out[0], 4200000000u);
	assert_int_equal(out[1], 65001);

	/* 255 per segment: the 256th opens a new one */
	for (i = 2; i < 255; i++)
		aspath_prepend(&a, 65000);
	assert_int_equal(a.aspath[1], 255);
	assert_int_equal(a.aspath_len, 2 + 255 * 4);
	aspath_prepend(&a, 64999);
	assert_int_equal(a.aspath[0], AS_SEQUENCE);
	assert_int_equal(a.aspath[1], 1);
	assert_int_equal(a.aspath[6], AS_SEQUENCE);
	assert_int_equal(a.aspath[7], 255);
	assert_int_equal(a.aspath_count, 256);
	assert_int_equal(aspath_to_array(&a, out, 400), 256);
	assert_int_equal(out[0], 64999);
	assert_int_equal(out[255], 65001);
	assert_int_equal(aspath_first(&a), 64999);
	attrs_clean(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_encode_as4),
	    cmocka_unit_test(test_encode_as2),
	    cmocka_unit_test(test_encode_extlen),
	    cmocka_unit_test(test_encode_others),
	    cmocka_unit_test(test_encode_decode),
	    cmocka_unit_test(test_intern),
	    cmocka_unit_test(test_copy_clean),
	    cmocka_unit_test(test_aspath),
	};

	log_init("attr_test", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
