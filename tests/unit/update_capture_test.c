/*
 * Real UPDATEs captured from BIRD 2.0.12 and GoBGP 3.10 decoded by bgp/update.c
 * (the .hex files in tests/data, made by tests/data/capture-updates.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "bgp/wire.h"
#include "lib/log.h"
#include "tests/unit/vectors.h"

/*
 * Real UPDATEs: tests/data/NAME.hex holds one UPDATE body per line as
 * captured by tests/data/capture-updates.sh.
 */
struct capture {
	size_t n;
	struct update u[64];
};

static void
capture_load(const char *name, const struct update_ctx *ctx, struct capture *c)
{
	char path[512], *line = NULL;
	size_t cap = 0, len;
	uint8_t *buf;
	struct ibuf b;
	struct bgp_err e;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", TEST_DATA_DIR, name);
	f = fopen(path, "r");
	assert_non_null(f);
	buf = malloc(65536);
	c->n = 0;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_true(c->n < 64);
		len = hex(line, buf, 65536);
		ibuf_from_buffer(&b, buf, len);
		assert_int_equal(update_parse(&b, ctx, &c->u[c->n], &e), 0);
		assert_false(c->u[c->n].treat_as_withdraw);
		assert_int_equal(c->u[c->n].discarded, 0);
		c->n++;
	}
	free(line);
	free(buf);
	fclose(f);
}

static void
capture_free(struct capture *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		update_clean(&c->u[i]);
}

/* the announcement of prefix s in a capture */
static const struct update *
capture_find(const struct capture *c, const char *s, uint32_t pid, size_t *idx)
{
	struct prefix p = pfx(s);
	size_t i, j;

	for (i = 0; i < c->n; i++)
		for (j = 0; j < c->u[i].nannounced; j++)
			if (prefix_cmp(&c->u[i].announced[j].p, &p) == 0 &&
			    c->u[i].announced[j].path_id == pid) {
				if (idx)
					*idx = i;
				return &c->u[i];
			}
	fail_msg("%s not announced", s);
	return NULL;
}

static bool
has_community(const struct attrs *a, uint32_t c)
{
	uint16_t i;

	for (i = 0; i < a->ncommunities; i++)
		if (a->communities[i] == c)
			return true;
	return false;
}

static bool
has_large(const struct attrs *a, uint32_t g, uint32_t l1, uint32_t l2)
{
	uint16_t i;

	for (i = 0; i < a->nlarge; i++)
		if (a->large[i * 3] == g && a->large[i * 3 + 1] == l1 &&
		    a->large[i * 3 + 2] == l2)
			return true;
	return false;
}

static size_t
capture_eors(const struct capture *c, enum aid aid)
{
	size_t i, n = 0;

	for (i = 0; i < c->n; i++)
		if (c->u[i].eor && c->u[i].eor_aid == aid)
			n++;
	return n;
}

/*
 * BIRD 2.0 (AS 65001, 192.0.2.1 and 2001:db8::1) to our AS 65002 over eBGP,
 * 4-octet ASNs, IPv4 unicast on an IPv4 session and IPv6 unicast on an IPv6
 * one; see capture-updates.sh for its config.  BIRD puts MP_REACH_NLRI
 * first with the Extended Length bit and sends a link-local next hop too.
 */
static void
test_capture_bird(void **state)
{
	struct update_ctx ctx = {.as4 = true, .ebgp = true, .maxlen = 4096};
	struct capture *c = calloc(1, sizeof(*c));
	const struct update *u;
	uint32_t path[8];

	(void)state;
	capture_load("bird2-ebgp.hex", &ctx, c);
	assert_int_equal(c->n, 6);
	u = capture_find(c, "198.18.1.0/26", 0, NULL);
	assert_int_equal(u->nannounced, 1);
	assert_addr(&u->nexthop[AID_IPV4], "192.0.2.1");
	assert_int_equal(u->attrs.origin, ORIGIN_IGP);
	assert_int_equal(aspath_to_array(&u->attrs, path, 8), 1);
	assert_int_equal(path[0], 65001);
	assert_int_equal(u->attrs.ncommunities, 1);
	assert_true(has_community(&u->attrs, 65001u << 16 | 100));
	assert_int_equal(u->attrs.nlarge, 1);
	assert_true(has_large(&u->attrs, 65001, 1, 2));
	assert_int_equal(u->attrs.flags, ATTRF_ORIGIN | ATTRF_ASPATH);

	u = capture_find(c, "198.18.2.0/24", 0, NULL);
	assert_int_equal(
	    u->attrs.flags, ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_MED);
	assert_int_equal(u->attrs.med, 50);
	assert_true(has_community(&u->attrs, 65001u << 16 | 200));
	assert_int_equal(u->attrs.nlarge, 0);

	u = capture_find(c, "2001:db8:100::/48", 0, NULL);
	assert_int_equal(u->nannounced, 1);
	assert_addr(&u->nexthop[AID_IPV6], "2001:db8::1");
	assert_addr(&u->nexthop_ll[AID_IPV6], "fe80::88ae:ceff:fe76:f45");
	assert_int_equal(aspath_first(&u->attrs), 65001);
	assert_true(has_large(&u->attrs, 65001, 6, 1));
	assert_int_equal(u->attrs.ncommunities, 0);
	u = capture_find(c, "2001:db8:200::/56", 0, NULL);
	assert_addr(&u->nexthop[AID_IPV6], "2001:db8::1");
	assert_addr(&u->nexthop_ll[AID_IPV6], "fe80::88ae:ceff:fe76:f45");
	assert_int_equal(u->attrs.nlarge, 0);

	assert_int_equal(capture_eors(c, AID_IPV4), 1);
	assert_int_equal(capture_eors(c, AID_IPV6), 1);
	capture_free(c);
	free(c);
}

/* the same from BIRD with "add paths tx": every NLRI has a path id */
static void
test_capture_bird_addpath(void **state)
{
	struct update_ctx ctx = {.as4 = true, .ebgp = true, .maxlen = 4096};
	struct capture *c = calloc(1, sizeof(*c));
	const struct update *u;

	(void)state;
	ctx.addpath[AID_IPV4] = ctx.addpath[AID_IPV6] = true;
	capture_load("bird2-addpath.hex", &ctx, c);
	assert_int_equal(c->n, 6);
	u = capture_find(c, "198.18.1.0/26", 2, NULL);
	assert_addr(&u->nexthop[AID_IPV4], "192.0.2.1");
	assert_true(has_large(&u->attrs, 65001, 1, 2));
	u = capture_find(c, "198.18.2.0/24", 2, NULL);
	assert_int_equal(u->attrs.med, 50);
	u = capture_find(c, "2001:db8:100::/48", 3, NULL);
	assert_addr(&u->nexthop[AID_IPV6], "2001:db8::1");
	assert_true(addr_is_linklocal(&u->nexthop_ll[AID_IPV6]));
	capture_find(c, "2001:db8:200::/56", 3, NULL);
	assert_int_equal(capture_eors(c, AID_IPV4), 1);
	assert_int_equal(capture_eors(c, AID_IPV6), 1);
	capture_free(c);

	/* read without ADD-PATH the same bytes are garbage: session reset */
	{
		struct update_ctx plain = {.as4 = true, .ebgp = true};
		struct update u2;
		struct bgp_err e;

		assert_int_equal(parse(&plain, "",
		                     "4001010040020602010000fde9400304c0000201",
		                     "00000002 1ac6120100", &u2, &e),
		    -1);
		assert_int_equal(e.err, ERR_UPD_NETWORK);
	}
	free(c);
}

/*
 * GoBGP 3 (AS 65003, 192.0.2.3 and 2001:db8::3) to our AS 65002 over eBGP.
 * GoBGP puts MP_REACH_NLRI after the other attributes, without the
 * Extended Length bit, with a global next hop only, and sends no End-of-RIB
 * without graceful restart.
 */
static void
test_capture_gobgp(void **state)
{
	struct update_ctx ctx = {.as4 = true, .ebgp = true, .maxlen = 4096};
	struct capture *c = calloc(1, sizeof(*c));
	const struct update *u;

	(void)state;
	capture_load("gobgp-ebgp.hex", &ctx, c);
	assert_int_equal(c->n, 4);
	u = capture_find(c, "198.18.3.0/26", 0, NULL);
	assert_int_equal(u->nannounced, 1);
	assert_addr(&u->nexthop[AID_IPV4], "192.0.2.3");
	assert_int_equal(aspath_first(&u->attrs), 65003);
	assert_int_equal(u->attrs.aspath_count, 1);
	assert_int_equal(u->attrs.origin, ORIGIN_IGP);
	assert_true(has_community(&u->attrs, 65003u << 16 | 300));
	assert_true(has_large(&u->attrs, 65003, 3, 3));

	u = capture_find(c, "198.18.4.0/24", 0, NULL);
	assert_addr(&u->nexthop[AID_IPV4], "192.0.2.3");
	assert_int_equal(
	    u->attrs.flags, ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_MED);
	assert_int_equal(u->attrs.med, 20);

	u = capture_find(c, "2001:db8:300::/48", 0, NULL);
	assert_addr(&u->nexthop[AID_IPV6], "2001:db8::3");
	assert_addr(&u->nexthop_ll[AID_IPV6], NULL);
	assert_int_equal(aspath_first(&u->attrs), 65003);
	assert_true(has_community(&u->attrs, 65003u << 16 | 600));

	u = capture_find(c, "2001:db8:400::/64", 0, NULL);
	assert_addr(&u->nexthop[AID_IPV6], "2001:db8::3");
	assert_int_equal(u->attrs.origin, ORIGIN_EGP);
	assert_int_equal(capture_eors(c, AID_IPV4), 0);
	capture_free(c);
	free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_capture_bird),
	    cmocka_unit_test(test_capture_bird_addpath),
	    cmocka_unit_test(test_capture_gobgp),
	};

	log_init("update_capture_test", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
