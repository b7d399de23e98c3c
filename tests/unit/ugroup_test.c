/*
 * bgp/ugroup.c and bgp/export.c on a real daemon structure (rib, attribute
 * table, peers from peer_new) whose peers have no sockets: what a peer is
 * sent is seen in its prefixes_out and its place in its group's stream.
 * Checked: peers with one outbound policy share one group; a client's route
 * goes to every other client and never back to its source; non-client
 * routes reach clients only; a peer that comes up alone merges once it has
 * the table; a split member keeps its own progress and merges back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/ugroup.h"

struct fixture {
	struct event_base *base;
	struct bgpd *b;
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct bgpd_config *c = xcalloc(1, sizeof(*c));

	TAILQ_INIT(&c->peers);
	c->asn = 64512;
	c->router_id = 0xc0000201;
	c->route_reflector = true;
	c->cluster_id = c->router_id;
	c->holdtime = 90;
	c->connect_retry = 5;
	f->base = event_base_new();
	f->b = bgpd_new(f->base, c);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	bgpd_free(f->b);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* an Established iBGP peer at 192.0.2.N, IPv4 only */
static struct peer *
peer_up(struct fixture *f, int n, bool client)
{
	struct peer_config pc;
	struct addr a;
	struct peer *p;
	char buf[32];

	memset(&pc, 0, sizeof(pc));
	pc.asn = 64512;
	pc.rr_client = client;
	pc.holdtime = 90;
	pc.connect_retry = 5;
	snprintf(buf, sizeof(buf), "192.0.2.%d", n);
	assert_int_equal(addr_parse(buf, &a), 0);
	p = peer_new(f->b, &pc, &a);
	p->state = STATE_ESTABLISHED;
	p->neg.mp[AID_IPV4] = true;
	p->src.bgpid = 0xc0000200 + n;
	export_peer_up(p);
	return p;
}

static void
announce(struct fixture *f, struct peer *from, const char *prefix)
{
	struct attrs a, *ia;
	struct prefix p;

	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP;
	a.nexthop = from->addr;
	ia = attr_intern(f->b->attrs, &a);
	assert_int_equal(prefix_parse(prefix, &p), 0);
	assert_true(rib_update(f->b->rib, &from->src, &p, 0, ia) >= 0);
	attr_unref(ia);
}

static void
withdraw(struct fixture *f, struct peer *from, const char *prefix)
{
	struct prefix p;

	assert_int_equal(prefix_parse(prefix, &p), 0);
	assert_true(rib_withdraw(f->b->rib, &from->src, &p, 0) >= 0);
}

static void
flush(struct fixture *f)
{
	export_flush_all(-1, 0, f->b);
}

static void
test_one_group(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 2, true), *b = peer_up(f, 3, true);
	struct peer *c = peer_up(f, 4, true);

	/* each came up alone, had an empty table, and merged */
	assert_int_equal(f->b->ngroups, 1);
	assert_ptr_equal(a->ug, b->ug);
	assert_ptr_equal(a->ug, c->ug);
	assert_int_equal(a->ug->nmembers, 3);
	assert_true(a->eor_sent[AID_IPV4] && c->eor_sent[AID_IPV4]);

	announce(f, a, "198.18.2.0/26");
	announce(f, a, "198.18.2.64/26");
	announce(f, b, "198.18.3.0/26");
	flush(f);
	/* everyone gets the others' routes, nobody its own */
	assert_int_equal(a->stats.prefixes_out, 1);
	assert_int_equal(b->stats.prefixes_out, 2);
	assert_int_equal(c->stats.prefixes_out, 3);
	/* a's two routes share attributes: one message for both */
	assert_int_equal(a->ug->tail, 2);
	/* all members are at the tail, so nothing is kept */
	assert_int_equal(a->ug->head, a->ug->tail);

	withdraw(f, a, "198.18.2.0/26");
	flush(f);
	assert_int_equal(a->ug->tail, 3);
	assert_int_equal(a->ug_seq, 3);
	assert_int_equal(c->ug_seq, 3);
}

static void
test_nonclient(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 2, true);
	struct peer *n1 = peer_up(f, 5, false), *n2 = peer_up(f, 6, false);

	/* clients and non-clients are sent different things */
	assert_int_equal(f->b->ngroups, 2);
	assert_ptr_equal(n1->ug, n2->ug);
	assert_ptr_not_equal(a->ug, n1->ug);

	announce(f, n1, "198.18.5.0/26");
	flush(f);
	assert_int_equal(a->stats.prefixes_out, 1);
	assert_int_equal(n1->stats.prefixes_out, 0);
	assert_int_equal(n2->stats.prefixes_out, 0);

	announce(f, a, "198.18.2.0/26");
	flush(f);
	assert_int_equal(n1->stats.prefixes_out, 1);
	assert_int_equal(n2->stats.prefixes_out, 1);
}

static void
test_late_joiner(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 2, true), *b = peer_up(f, 3, true);
	struct peer *c;

	announce(f, a, "198.18.2.0/26");
	announce(f, b, "198.18.3.0/26");
	flush(f);
	/* c gets the table on its own, then joins a and b */
	c = peer_up(f, 4, true);
	assert_int_equal(c->stats.prefixes_out, 2);
	assert_int_equal(f->b->ngroups, 1);
	assert_ptr_equal(c->ug, a->ug);
	assert_int_equal(c->ug_seq, a->ug->tail);

	announce(f, b, "198.18.3.64/26");
	flush(f);
	assert_int_equal(c->stats.prefixes_out, 3);
	assert_int_equal(a->stats.prefixes_out, 2);
}

static void
test_split_merge(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 2, true), *b = peer_up(f, 3, true);
	struct peer *c = peer_up(f, 4, true);
	struct ugroup *g = a->ug, *s;

	announce(f, a, "198.18.2.0/26");
	/* c leaves before the change is encoded: it takes the queue along */
	s = ugroup_split(c);
	assert_int_equal(f->b->ngroups, 2);
	assert_ptr_equal(c->ug, s);
	assert_int_equal(g->nmembers, 2);
	assert_int_equal(outq_len(s->q), 1);
	/* flushing sends it to b and c, each from its own group */
	flush(f);
	assert_int_equal(b->stats.prefixes_out, 1);
	assert_int_equal(c->stats.prefixes_out, 1);
	/* drained, c's group merged back */
	assert_int_equal(f->b->ngroups, 1);
	assert_ptr_equal(c->ug, a->ug);
	assert_int_equal(a->ug->nmembers, 3);

	/* a member going down leaves; the last one frees the group */
	export_peer_down(a);
	export_peer_down(b);
	assert_int_equal(f->b->ngroups, 1);
	export_peer_down(c);
	assert_int_equal(f->b->ngroups, 0);
	assert_null(c->ug);
}

static void
test_refresh(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 2, true), *b = peer_up(f, 3, true);

	announce(f, a, "198.18.2.0/26");
	flush(f);
	assert_int_equal(b->stats.prefixes_out, 1);
	/* ROUTE-REFRESH from b: b alone gets the table again */
	b->refresh_pending[AID_IPV4] = true;
	export_refresh(b, AID_IPV4);
	assert_int_equal(b->stats.prefixes_out, 2);
	assert_int_equal(a->stats.prefixes_out, 0);
	assert_false(b->refresh_pending[AID_IPV4]);
	assert_int_equal(f->b->ngroups, 1);
}

/*
 * More sources than the export cache has slots, all in one batch: routes
 * collected early must survive their cache slot being reused (ASan).
 */
static void
test_many_sources(void **state)
{
	struct fixture *f = *state;
	struct peer *p[300], *late;
	char buf[32];
	int i;

	for (i = 0; i < 300; i++)
		p[i] = peer_up(f, 10 + i % 240, true);
	for (i = 0; i < 300; i++) {
		snprintf(
		    buf, sizeof(buf), "198.18.%d.%d/30", i / 64, (i % 64) * 4);
		announce(f, p[i], buf);
	}
	flush(f);
	for (i = 0; i < 300; i++)
		assert_int_equal(p[i]->stats.prefixes_out, 299);
	late = peer_up(f, 5, true);
	assert_int_equal(late->stats.prefixes_out, 300);
	assert_int_equal(f->b->ngroups, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_one_group, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_nonclient, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_late_joiner, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_split_merge, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refresh, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_sources, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
