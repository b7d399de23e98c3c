/*
 * rr/reflect.c: RFC 4456 §6 (who gets reflected routes), §8 (ORIGINATOR_ID
 * set once, our cluster id prepended to CLUSTER_LIST, nothing else
 * touched) and the loop checks on input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rr/rr.h"

static void
test_allowed(void **state)
{
	struct bgpd_config c;
	static const struct {
		bool rr, from_client, to_client, want;
	} cases[] = {
	    /* not a reflector: iBGP routes never go to iBGP peers */
	    {false, true, true, false},
	    {false, false, false, false},
	    {false, true, false, false},
	    /* a reflector: client routes go everywhere ... */
	    {true, true, true, true},
	    {true, true, false, true},
	    /* ... non-client routes to clients only */
	    {true, false, true, true},
	    {true, false, false, false},
	};
	size_t i;

	memset(&c, 0, sizeof(c));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.route_reflector = cases[i].rr;
		assert_int_equal(
		    rr_allowed(&c, cases[i].from_client, cases[i].to_client),
		    cases[i].want);
	}
}

static void
test_reflect(void **state)
{
	struct bgpd_config c;
	struct attrs a;
	struct addr nh;

	memset(&c, 0, sizeof(c));
	c.route_reflector = true;
	c.router_id = 0xc0000201;
	c.cluster_id = 0x0a000001;
	memset(&a, 0, sizeof(a));
	assert_int_equal(addr_parse("192.0.2.7", &nh), 0);
	a.nexthop = nh;
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	a.local_pref = 150;

	/* first reflection: ORIGINATOR_ID is the originator, list is ours */
	rr_reflect(&c, 0xc0000207, &a);
	assert_true(a.flags & ATTRF_ORIGINATOR_ID);
	assert_int_equal(a.originator_id, 0xc0000207);
	assert_int_equal(a.ncluster, 1);
	assert_int_equal(a.cluster_list[0], 0x0a000001);
	/* next hop and LOCAL_PREF untouched */
	assert_int_equal(addr_cmp(&a.nexthop, &nh), 0);
	assert_int_equal(a.local_pref, 150);

	/* a second reflector: ORIGINATOR_ID stays, its id goes in front */
	c.cluster_id = 0x0a000002;
	rr_reflect(&c, 0xc0000299, &a);
	assert_int_equal(a.originator_id, 0xc0000207);
	assert_int_equal(a.ncluster, 2);
	assert_int_equal(a.cluster_list[0], 0x0a000002);
	assert_int_equal(a.cluster_list[1], 0x0a000001);
	free(a.cluster_list);
}

static void
test_loop(void **state)
{
	struct bgpd_config c;
	struct attrs a;
	uint32_t list[] = {0x0a000009, 0x0a000001};

	memset(&c, 0, sizeof(c));
	c.router_id = 0xc0000201;
	c.cluster_id = 0x0a000001;
	memset(&a, 0, sizeof(a));
	assert_null(rr_loop(&c, &a));

	/* our router id as ORIGINATOR_ID: reflector or not */
	a.flags = ATTRF_ORIGINATOR_ID;
	a.originator_id = 0xc0000201;
	assert_string_equal(rr_loop(&c, &a), "our router id as ORIGINATOR_ID");
	c.route_reflector = true;
	assert_string_equal(rr_loop(&c, &a), "our router id as ORIGINATOR_ID");

	/* our cluster id anywhere in CLUSTER_LIST, for a reflector only */
	a.originator_id = 0xc0000202;
	a.cluster_list = list;
	a.ncluster = 2;
	assert_string_equal(rr_loop(&c, &a), "our cluster id in CLUSTER_LIST");
	c.route_reflector = false;
	assert_null(rr_loop(&c, &a));
	c.route_reflector = true;
	c.cluster_id = 0x0a000003;
	assert_null(rr_loop(&c, &a));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_allowed),
	    cmocka_unit_test(test_reflect),
	    cmocka_unit_test(test_loop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
