/*
 * bgp/outq.c: the queue of pending outbound changes.  Changes to one
 * (prefix, path id) coalesce and keep the first "was advertised"; items
 * come out oldest first; a copy keeps order and flags and leaves the
 * source alone; growth keeps every item findable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/ugroup.h"

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p) == -1)
		fail_msg("bad prefix %s", s);
	return p;
}

static void
expect_pop(
    struct out_queue *q, const char *want, uint32_t want_tx, bool want_adv)
{
	struct prefix p, w = pfx(want);
	uint32_t tx;
	bool adv;

	assert_true(outq_pop(q, &p, &tx, &adv));
	assert_int_equal(prefix_cmp(&p, &w), 0);
	assert_int_equal(tx, want_tx);
	assert_int_equal(adv, want_adv);
}

static void
test_coalesce(void **state)
{
	struct out_queue *q = outq_new();
	struct prefix p = pfx("198.18.1.0/26");
	struct prefix p6 = pfx("2001:db8:1::/64");
	struct prefix tmp;
	uint32_t tx;
	bool adv;

	outq_add(q, &p, 0, true);
	outq_add(q, &p6, 0, false);
	outq_add(q, &p, 0, false); /* coalesces, keeps true */
	outq_add(q, &p, 7, false); /* another path id: its own item */
	assert_int_equal(outq_len(q), 3);
	expect_pop(q, "198.18.1.0/26", 0, true);
	expect_pop(q, "2001:db8:1::/64", 0, false);
	expect_pop(q, "198.18.1.0/26", 7, false);
	assert_false(outq_pop(q, &tmp, &tx, &adv));
	assert_int_equal(outq_len(q), 0);
	/* popped items can be queued again */
	outq_add(q, &p, 0, false);
	assert_int_equal(outq_len(q), 1);
	outq_free(q);
}

static void
test_copy(void **state)
{
	struct out_queue *a = outq_new(), *b = outq_new();
	struct prefix p1 = pfx("198.18.1.0/26"), p2 = pfx("198.18.2.0/26");

	outq_add(a, &p1, 0, false);
	outq_add(a, &p2, 0, true);
	outq_add(b, &p2, 0, false); /* b has it already: b's flag stays */
	outq_copy(b, a);
	assert_int_equal(outq_len(b), 2);
	expect_pop(b, "198.18.2.0/26", 0, false);
	expect_pop(b, "198.18.1.0/26", 0, false);
	/* a is unchanged by the copy */
	assert_int_equal(outq_len(a), 2);
	expect_pop(a, "198.18.1.0/26", 0, false);
	expect_pop(a, "198.18.2.0/26", 0, true);
	outq_free(a);
	outq_free(b);
}

static void
test_grow(void **state)
{
	struct out_queue *q = outq_new();
	struct prefix p;
	char buf[32];
	int i;

	/* 20000 distinct /24s, each added twice: growth keeps them unique */
	for (i = 0; i < 40000; i++) {
		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", (i % 20000) / 256,
		    (i % 20000) % 256);
		p = pfx(buf);
		outq_add(q, &p, 0, i < 20000);
	}
	assert_int_equal(outq_len(q), 20000);
	for (i = 0; i < 20000; i++) {
		snprintf(buf, sizeof(buf), "10.%d.%d.0/24", i / 256, i % 256);
		expect_pop(q, buf, 0, true);
	}
	assert_int_equal(outq_len(q), 0);
	outq_clear(q);
	outq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_coalesce),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_grow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
