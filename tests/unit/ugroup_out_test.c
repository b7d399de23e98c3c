/*
 * Update groups seen from the wire: this program replaces the session's
 * output functions (session_output_len, session_send, session_send_copy,
 * session_send_ref; linked with --allow-multiple-definition, see
 * tests/CMakeLists.txt) with fakes that capture every byte a peer is
 * sent, pretend its socket is busy, or hold page references the way an
 * output buffer does.  Checked: input pausing lifts when the fast group
 * drains though a slow one stays behind; ORIGINATOR_ID follows a peer
 * that reconnects with a new BGP identifier; a source whose own routes are
 * all skipped does not pace encoding ahead of busy receivers; pages outlive
 * trims, splits, merges and their groups while referenced; best-N sends a
 * linear number of withdrawals; an EoRR owed to one session is not sent on
 * the next.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "lib/ibuf.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/ugroup.h"

/* ---- fake session output (overrides session.c via
 * --allow-multiple-definition) */
struct held {
	const void *data;
	size_t len;
	void (*done)(const void *, size_t, void *);
	void *arg;
};
struct fake {
	struct peer *p;
	size_t backlog; /* pretend unsent bytes */
	bool hold; /* keep page references instead of releasing */
	struct held *h;
	size_t nh, held_bytes;
	uint8_t *cap;
	size_t caplen;
};
static struct fake fakes[4096];
static size_t nfakes;

static struct fake *
fk(const struct peer *p)
{
	size_t i;
	for (i = 0; i < nfakes; i++)
		if (fakes[i].p == p)
			return &fakes[i];
	fakes[nfakes].p = (struct peer *)p;
	return &fakes[nfakes++];
}
static void
capture(struct fake *f, const void *d, size_t len)
{
	f->cap = realloc(f->cap, f->caplen + len);
	memcpy(f->cap + f->caplen, d, len);
	f->caplen += len;
}
size_t session_output_len(const struct peer *);
size_t
session_output_len(const struct peer *p)
{
	struct fake *f = fk(p);
	return f->backlog + f->held_bytes;
}
void
session_send_ref(struct peer *p, const void *data, size_t len,
    void (*done)(const void *, size_t, void *), void *arg)
{
	struct fake *f = fk(p);
	capture(f, data, len);
	if (!f->hold) {
		done(data, len, arg);
		return;
	}
	f->h = realloc(f->h, (f->nh + 1) * sizeof(*f->h));
	f->h[f->nh++] = (struct held){data, len, done, arg};
	f->held_bytes += len;
}
void
session_send(struct peer *p, struct ibuf *msg)
{
	capture(fk(p), ibuf_data(msg), ibuf_size(msg));
	ibuf_free(msg);
}
void
session_send_copy(struct peer *p, const struct ibuf *msg)
{
	capture(fk(p), ibuf_data(msg), ibuf_size(msg));
}
static void
release(struct fake *f)
{
	size_t i;
	for (i = 0; i < f->nh; i++)
		f->h[i].done(f->h[i].data, f->h[i].len, f->h[i].arg);
	free(f->h);
	f->h = NULL;
	f->nh = f->held_bytes = 0;
}

/* ---- parsing what a peer was sent */
struct seen {
	size_t updates, announced, withdrawn, rrefresh, eor;
	uint32_t last_originator;
	bool has_originator;
};
static void
parse(struct peer *p, struct seen *s)
{
	struct fake *f = fk(p);
	size_t off = 0;
	memset(s, 0, sizeof(*s));
	while (off + 19 <= f->caplen) {
		uint16_t len = f->cap[off + 16] << 8 | f->cap[off + 17];
		uint8_t type = f->cap[off + 18];
		if (type == MSG_UPDATE) {
			struct ibuf body;
			struct update u;
			struct bgp_err e;
			memset(&e, 0, sizeof(e));
			ibuf_from_buffer(&body, f->cap + off + 19, len - 19);
			assert_int_equal(
			    update_parse(&body, &p->tx_ctx, &u, &e), 0);
			s->updates++;
			s->announced += u.nannounced;
			s->withdrawn += u.nwithdrawn;
			if (u.eor)
				s->eor++;
			if (u.nannounced > 0) {
				s->has_originator =
				    (u.attrs.flags & ATTRF_ORIGINATOR_ID) != 0;
				s->last_originator = u.attrs.originator_id;
			}
			update_clean(&u);
		} else if (type == MSG_RREFRESH)
			s->rrefresh++;
		off += len;
	}
}
static void
clear_capture(struct peer *p)
{
	struct fake *f = fk(p);
	free(f->cap);
	f->cap = NULL;
	f->caplen = 0;
}

/* ---- fixture, as ugroup_test */
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
	size_t i;
	bgpd_free(f->b);
	event_base_free(f->base);
	free(f);
	for (i = 0; i < nfakes; i++) {
		free(fakes[i].cap);
		free(fakes[i].h);
	}
	memset(fakes, 0, sizeof(fakes));
	nfakes = 0;
	return 0;
}
static struct peer *
peer_make(struct fixture *f, int n, bool client, int addpath_max)
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
	pc.add_paths_max = addpath_max;
	snprintf(buf, sizeof(buf), "10.%d.%d.%d", n >> 16 & 255, n >> 8 & 255,
	    n & 255);
	assert_int_equal(addr_parse(buf, &a), 0);
	p = peer_new(f->b, &pc, &a);
	p->state = STATE_ESTABLISHED;
	p->neg.mp[AID_IPV4] = true;
	p->src.bgpid = 0x0a000000 + n;
	if (addpath_max >= 0)
		p->tx_ctx.addpath[AID_IPV4] = true;
	return p;
}
static struct peer *
peer_up(struct fixture *f, int n, bool client)
{
	struct peer *p = peer_make(f, n, client, -1);
	export_peer_up(p);
	return p;
}
static void
announce_med(
    struct fixture *f, struct peer *from, const struct prefix *p, uint32_t med)
{
	struct attrs a, *ia;
	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_MED;
	a.med = med;
	a.nexthop = from->addr;
	ia = attr_intern(f->b->attrs, &a);
	assert_true(rib_update(f->b->rib, &from->src, p, 0, ia) >= 0);
	attr_unref(ia);
}
static void
announce(struct fixture *f, struct peer *from, const char *prefix)
{
	struct prefix p;
	assert_int_equal(prefix_parse(prefix, &p), 0);
	announce_med(f, from, &p, 0);
}
static void
pfx_n(struct prefix *p, uint32_t n)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%u.%u.%u.0/24", 20 + (n >> 16),
	    (n >> 8) & 255, n & 255);
	assert_int_equal(prefix_parse(buf, p), 0);
}
static void
flush(struct fixture *f)
{
	export_flush_all(-1, 0, f->b);
}

/*
 * Input pauses while both groups are behind, and resumes once the fast one
 * has drained although the slow one never reads again.
 */
static void
test_pause_stuck(void **state)
{
	struct fixture *f = *state;
	struct peer *feeder = peer_up(f, 1, true), *a = peer_up(f, 2, true);
	struct peer *slow = peer_up(f, 3, false);
	struct prefix p;
	uint32_t i;

	assert_int_equal(f->b->ngroups, 2);
	fk(feeder)->backlog = fk(a)->backlog = fk(slow)->backlog = 1;
	for (i = 0; i < 210000; i++) {
		pfx_n(&p, i);
		announce_med(f, feeder, &p, 0);
	}
	flush(f);
	assert_true(f->b->paused); /* both groups > OUTQ_HIGH */
	/* the clients' sockets drain; the non-client never reads again */
	fk(feeder)->backlog = fk(a)->backlog = 0;
	export_flush(a);
	flush(f);
	assert_int_equal(outq_len(a->ug->q), 0);
	assert_true(outq_len(slow->ug->q) > 20000);
	flush(f);
	/* input resumes, since only one group is behind */
	assert_false(f->b->paused);
}

/*
 * A peer that reconnects keeps its source id but may have a new BGP
 * identifier: the export cache must not hand out the old ORIGINATOR_ID.
 */
static void
test_stale_originator(void **state)
{
	struct fixture *f = *state;
	struct peer *c = peer_up(f, 1, true), *r1 = peer_up(f, 2, true);
	struct peer *r2 = peer_up(f, 3, true);
	struct seen s;

	(void)r2;
	announce(f, c, "198.18.0.0/24");
	flush(f);
	parse(r1, &s);
	assert_true(s.has_originator);
	assert_int_equal(s.last_originator, 0x0a000001);
	/* session down, routes flushed (rde_down), new session, new id */
	export_peer_down(c);
	rib_flush_src(f->b->rib, &c->src);
	flush(f);
	c->src.bgpid = 0x0a0000fe;
	export_peer_up(c);
	clear_capture(r1);
	announce(f, c, "198.18.0.0/24");
	flush(f);
	parse(r1, &s);
	assert_int_equal(s.announced, 1);
	assert_int_equal(s.last_originator, 0x0a0000fe);
}

/*
 * A member whose messages are all its own routes takes nothing: it must
 * not drive encoding for busy receivers (they would lag past UG_LAG_MAX
 * and each be split into a group of its own).
 */
static void
test_source_paces(void **state)
{
	struct fixture *f = *state;
	struct peer *src = peer_up(f, 1, true), *r[8];
	struct prefix p;
	uint32_t i;

	for (i = 0; i < 8; i++) {
		r[i] = peer_up(f, 10 + i, true);
		fk(r[i])->backlog = 1; /* one socket's worth in flight */
	}
	assert_int_equal(f->b->ngroups, 1);
	for (i = 0; i < 100000; i++) {
		pfx_n(&p, i);
		announce_med(f, src, &p, i); /* one message per prefix */
	}
	flush(f);
	/* nothing encoded ahead of receivers that are all busy */
	assert_int_equal(f->b->ngroups, 1);
	assert_true(src->ug->tail_off < UG_LAG_MAX);
}

/*
 * Page lifetime: output buffers keep references past trims, splits,
 * merges and the group's end (checked by ASan / LSan).
 */
static void
test_page_lifetime(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 1, true), *b = peer_up(f, 2, true);
	struct peer *c = peer_up(f, 3, true);
	struct prefix p;
	uint32_t i;

	fk(b)->hold = true;
	fk(c)->hold = true;
	for (i = 0; i < 5000; i++) {
		pfx_n(&p, i);
		announce_med(f, a, &p, i);
	}
	flush(f);
	/* b and c hold refs, and are not empty: a drives; c is split */
	release(fk(b));
	export_flush(b);
	flush(f);
	ugroup_split(c);
	flush(f);
	export_peer_down(a);
	export_peer_down(b);
	flush(f);
	export_peer_down(c);
	assert_int_equal(f->b->ngroups, 0);
	release(fk(b));
	release(fk(c)); /* pages outlive every group */
}

/*
 * Best N (N = 1) with many paths for one prefix (an anycast service IP):
 * each change looks at the first N + 1 paths only, so withdrawals stay
 * linear in the number of changes (re-queueing every path gave 19,701).
 */
static void
test_best_n_withdrawals(void **state)
{
	struct fixture *f = *state;
	struct peer *r = peer_make(f, 1, true, 1), *src[200];
	struct seen s;
	int i;

	export_peer_up(r);
	for (i = 0; i < 200; i++)
		src[i] = peer_up(f, 100 + i, true);
	clear_capture(r);
	for (i = 0; i < 200; i++) {
		announce(f, src[i], "10.96.0.0/12");
		flush(f);
	}
	parse(r, &s);
	assert_true(s.announced >= 1 && s.announced <= 2 * 200);
	assert_true(s.withdrawn <= 2 * 200);
}

/* an EoRR owed when a session drops is not sent on the next one */
static void
test_eorr_across_sessions(void **state)
{
	struct fixture *f = *state;
	struct peer *a = peer_up(f, 1, true), *b = peer_up(f, 2, true);
	struct seen s;

	announce(f, a, "198.18.0.0/24");
	flush(f);
	fk(b)->backlog = 1; /* refreshed table not yet out */
	b->refresh_pending[AID_IPV4] = true;
	export_refresh(b, AID_IPV4);
	export_peer_down(b); /* session lost */
	fk(b)->backlog = 0;
	clear_capture(b);
	b->neg.enhanced_refresh = false; /* new session: no RFC 7313 */
	export_peer_up(b);
	parse(b, &s);
	assert_int_equal(s.rrefresh, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_pause_stuck, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_stale_originator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_source_paces, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_page_lifetime, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_best_n_withdrawals, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_eorr_across_sessions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
