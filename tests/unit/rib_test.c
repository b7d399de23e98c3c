/*
 * rib.c: the per-family crit-bit trees (exact match, walk order across
 * nested IPv4 and IPv6 prefixes, a randomized 100k insert/remove run checked
 * against a sorted array), path lists and the change hook (old_best, the
 * best-change return, no-op updates), per-source flush and RFC 4724 stale
 * handling, attribute references and pool accounting.
 *
 * RIB_BENCH=1 in the environment adds a timing run: 1M distinct IPv4
 * /24../32 prefixes from one source sharing one attribute set.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "bgp/rib.h"
#include "lib/xmalloc.h"

#define MAXCALLS 64

struct hook_call {
	struct rib_entry *e;
	struct prefix prefix;
	struct rib_path *old_best;
	struct rib_path *path;
	struct rib_path *best; /* e->paths during the hook */
	enum rib_change what;
	struct attrs *path_attrs;
	struct rib_src *path_src;
	uint32_t path_id;
	bool path_linked; /* path still in e->paths */
	bool path_in_src; /* path still in its source's list */
	size_t src_npaths; /* the path's source's npaths */
};

struct recorder {
	struct hook_call calls[MAXCALLS];
	size_t n; /* recorded (first MAXCALLS) */
	size_t total; /* all calls */
	size_t ndelete; /* RIB_DELETE calls */
	bool no_checks; /* skip the per-call list checks (big runs) */
};

struct fixture {
	struct attr_table *at;
	struct rib *rib;
	struct recorder rec;
	struct rib_src src[4]; /* ids 1..4 */
};

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p) == -1)
		fail_msg("bad prefix %s", s);
	return p;
}

static void
hook(struct rib_entry *e, struct rib_path *old_best, struct rib_path *path,
    enum rib_change what, void *arg)
{
	struct recorder *rec = arg;
	struct hook_call *c;
	struct rib_path *p, *q;

	rec->total++;
	if (what == RIB_DELETE)
		rec->ndelete++;
	if (rec->no_checks)
		return;
	assert_ptr_equal(path->entry, e);
	/* the list is sorted best first whenever MED does not decide */
	for (p = e->paths; p != NULL && p->next != NULL; p = p->next)
		assert_true(path_cmp(p, p->next) < 0);
	if (rec->n == MAXCALLS)
		return;
	c = &rec->calls[rec->n++];
	memset(c, 0, sizeof(*c));
	c->e = e;
	c->prefix = e->prefix;
	c->old_best = old_best;
	c->path = path;
	c->best = e->paths;
	c->what = what;
	c->path_attrs = path->attrs;
	c->path_src = path->src;
	c->path_id = path->path_id;
	c->src_npaths = path->src->npaths;
	for (p = e->paths; p != NULL; p = p->next)
		if (p == path)
			c->path_linked = true;
	TAILQ_FOREACH(q, &path->src->paths, src_entry)
	if (q == path)
		c->path_in_src = true;
	/* deleted paths are still readable during the hook */
	assert_non_null(path->attrs);
	assert_true(path->attrs->refcnt > 0);
}

static struct attrs *
mkattrs(struct attr_table *at, uint32_t lp, uint32_t nexthop)
{
	struct attrs a, *ia;

	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	a.origin = ORIGIN_IGP;
	a.local_pref = lp;
	addr_from_v4(&a.nexthop, nexthop);
	ia = attr_intern(at, &a);
	assert_non_null(ia);
	return ia;
}

static int
setup(void **state)
{
	struct fixture *f;
	int i;

	f = xcalloc(1, sizeof(*f));
	f->at = attr_table_new();
	f->rib = rib_new(hook, &f->rec);
	for (i = 0; i < 4; i++) {
		rib_src_init(&f->src[i], i + 1);
		addr_from_v4(&f->src[i].addr, 0xc0000201 + i); /* 192.0.2.1.. */
		f->src[i].bgpid = 0x0a000001 + i;
		f->src[i].asn = 64512;
	}
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rib_free(f->rib);
	attr_table_free(f->at);
	free(f);
	return 0;
}

static void
rec_reset(struct recorder *rec)
{
	memset(rec, 0, sizeof(*rec));
}

static void
test_insert_lookup_withdraw(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 0xc0000202);
	struct prefix p = pfx("10.1.2.0/24"), q;
	struct rib_entry *e;
	struct hook_call *c;
	struct rib_stats st;
	uint32_t refs = a->refcnt;

	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), 1);
	assert_int_equal(a->refcnt, refs + 1);
	assert_int_equal(f->rec.n, 1);
	c = &f->rec.calls[0];
	assert_int_equal(c->what, RIB_ADD);
	assert_null(c->old_best);
	assert_ptr_equal(c->best, c->path);
	assert_ptr_equal(c->path_attrs, a);
	assert_true(c->path_linked);
	assert_true(c->path_in_src);

	e = rib_lookup(f->rib, &p);
	assert_non_null(e);
	assert_ptr_equal(e, c->e);
	assert_int_equal(prefix_cmp(&e->prefix, &p), 0);
	assert_ptr_equal(e->paths, c->path);
	assert_null(e->paths->next);
	assert_ptr_equal(e->paths->src, &f->src[0]);
	assert_int_equal(f->src[0].npaths, 1);
	assert_ptr_equal(TAILQ_FIRST(&f->src[0].paths), e->paths);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 1);
	assert_int_equal(rib_count(f->rib, AID_IPV6), 0);

	/* exact match only; host bits in the question are ignored */
	q = pfx("10.1.2.0/25");
	assert_null(rib_lookup(f->rib, &q));
	q = pfx("10.1.0.0/16");
	assert_null(rib_lookup(f->rib, &q));
	q = pfx("10.1.2.77/24");
	assert_ptr_equal(rib_lookup(f->rib, &q), e);

	/* unknown path id, unknown source, unknown prefix: -1, no hook */
	rec_reset(&f->rec);
	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 7), -1);
	assert_int_equal(rib_withdraw(f->rib, &f->src[1], &p, 0), -1);
	q = pfx("10.1.3.0/24");
	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &q, 0), -1);
	assert_int_equal(f->rec.total, 0);

	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 0), 1);
	assert_int_equal(f->rec.n, 1);
	c = &f->rec.calls[0];
	assert_int_equal(c->what, RIB_DELETE);
	assert_ptr_equal(c->old_best, c->path);
	assert_null(c->best);
	assert_false(c->path_linked);
	assert_false(c->path_in_src);
	assert_int_equal(c->src_npaths, 0);
	assert_int_equal(prefix_cmp(&c->prefix, &p), 0);
	assert_null(rib_lookup(f->rib, &p));
	assert_int_equal(rib_count(f->rib, AID_IPV4), 0);
	assert_int_equal(f->src[0].npaths, 0);
	assert_true(TAILQ_EMPTY(&f->src[0].paths));
	assert_int_equal(a->refcnt, refs);
	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 0), -1);

	rib_stats_get(f->rib, &st);
	assert_int_equal(st.paths, 0);
	assert_int_equal(st.nodes, 0);
	attr_unref(a);
}

static void
test_bad_prefix(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 1);
	struct prefix p;

	memset(&p, 0, sizeof(p));
	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), -1);
	assert_null(rib_lookup(f->rib, &p));
	p = pfx("10.0.0.0/8");
	p.len = 33;
	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), -1);
	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 0), -1);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 0);
	assert_int_equal(rib_count(f->rib, AID_MAX), 0);
	assert_int_equal(f->rec.total, 0);
	attr_unref(a);
}

static void
test_update_noop_and_replace(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 1), *b = mkattrs(f->at, 100, 2);
	struct prefix p = pfx("2001:db8:1::/48");
	struct rib_path *path;
	struct hook_call *c;
	uint32_t arefs = a->refcnt, brefs = b->refcnt;

	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), 1);
	path = f->rec.calls[0].path;
	assert_int_equal(rib_count(f->rib, AID_IPV6), 1);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 0);

	/* the same interned set again: nothing happens */
	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), 0);
	assert_int_equal(f->rec.total, 0);
	assert_int_equal(a->refcnt, arefs + 1);
	assert_int_equal(f->src[0].npaths, 1);

	/* new attributes on the best path: a best change, same path object */
	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, b), 1);
	assert_int_equal(f->rec.n, 1);
	c = &f->rec.calls[0];
	assert_int_equal(c->what, RIB_REPLACE);
	assert_ptr_equal(c->path, path);
	assert_ptr_equal(c->old_best, path);
	assert_ptr_equal(c->best, path);
	assert_ptr_equal(c->path_attrs, b);
	assert_int_equal(a->refcnt, arefs);
	assert_int_equal(b->refcnt, brefs + 1);
	assert_int_equal(f->src[0].npaths, 1);

	/* another path id from the same source is another path */
	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 5, a), 0);
	assert_int_equal(f->rec.calls[0].what, RIB_ADD);
	assert_ptr_equal(f->rec.calls[0].old_best, path);
	assert_ptr_equal(f->rec.calls[0].best, path); /* path id 0 < 5 */
	assert_int_equal(f->src[0].npaths, 2);
	assert_non_null(path->next);
	assert_int_equal(path->next->path_id, 5);

	rib_flush_src(f->rib, &f->src[0]);
	assert_int_equal(a->refcnt, arefs);
	assert_int_equal(b->refcnt, brefs);
	attr_unref(a);
	attr_unref(b);
}

static void
test_best_change(void **state)
{
	struct fixture *f = *state;
	struct attrs *lp100 = mkattrs(f->at, 100, 1);
	struct attrs *lp200 = mkattrs(f->at, 200, 2);
	struct attrs *lp50 = mkattrs(f->at, 50, 3);
	struct attrs *lp300 = mkattrs(f->at, 300, 3);
	struct attrs *lp10 = mkattrs(f->at, 10, 3);
	struct prefix p = pfx("198.18.0.0/26");
	struct rib_path *p1, *p2, *p3;
	struct rib_entry *e;
	struct hook_call *c;

	assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, lp100), 1);
	p1 = f->rec.calls[0].path;

	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[1], &p, 0, lp200), 1);
	c = &f->rec.calls[0];
	p2 = c->path;
	assert_int_equal(c->what, RIB_ADD);
	assert_ptr_equal(c->old_best, p1);
	assert_ptr_equal(c->best, p2);

	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[2], &p, 0, lp50), 0);
	c = &f->rec.calls[0];
	p3 = c->path;
	assert_ptr_equal(c->old_best, p2);
	assert_ptr_equal(c->best, p2);
	e = rib_lookup(f->rib, &p);
	assert_ptr_equal(e->paths, p2);
	assert_ptr_equal(p2->next, p1);
	assert_ptr_equal(p1->next, p3);
	assert_null(p3->next);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 1);

	/* a non-best path improving to best, then falling back */
	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[2], &p, 0, lp300), 1);
	c = &f->rec.calls[0];
	assert_int_equal(c->what, RIB_REPLACE);
	assert_ptr_equal(c->old_best, p2);
	assert_ptr_equal(c->best, p3);
	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[2], &p, 0, lp10), 1);
	c = &f->rec.calls[0];
	assert_ptr_equal(c->old_best, p3);
	assert_ptr_equal(c->best, p2);
	assert_ptr_equal(e->paths->next->next, p3);
	/* a replace below the best changes nothing that is exported */
	rec_reset(&f->rec);
	assert_int_equal(rib_update(f->rib, &f->src[2], &p, 0, lp50), 0);
	assert_int_equal(f->rec.n, 1);
	assert_int_equal(f->rec.calls[0].what, RIB_REPLACE);

	/* withdrawing a non-best path keeps the best */
	rec_reset(&f->rec);
	assert_int_equal(rib_withdraw(f->rib, &f->src[2], &p, 0), 0);
	c = &f->rec.calls[0];
	assert_int_equal(c->what, RIB_DELETE);
	assert_ptr_equal(c->path, p3);
	assert_ptr_equal(c->old_best, p2);
	assert_ptr_equal(c->best, p2);
	assert_false(c->path_linked);

	/* withdrawing the best promotes the next */
	rec_reset(&f->rec);
	assert_int_equal(rib_withdraw(f->rib, &f->src[1], &p, 0), 1);
	c = &f->rec.calls[0];
	assert_ptr_equal(c->path, p2);
	assert_ptr_equal(c->old_best, p2);
	assert_ptr_equal(c->best, p1);
	assert_ptr_equal(rib_lookup(f->rib, &p), e);
	assert_ptr_equal(e->paths, p1);
	assert_null(p1->next);

	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 0), 1);
	assert_null(rib_lookup(f->rib, &p));
	attr_unref(lp100);
	attr_unref(lp200);
	attr_unref(lp50);
	attr_unref(lp300);
	attr_unref(lp10);
}

struct walk_state {
	struct prefix *got;
	size_t n;
	size_t max;
};

static void
walk_collect(struct rib_entry *e, void *arg)
{
	struct walk_state *w = arg;

	assert_true(w->n < w->max);
	w->got[w->n++] = e->prefix;
}

static int
prefix_qsort(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

static void
check_walk(struct rib *rib, enum aid aid, const char *const *want, size_t n)
{
	struct prefix got[32];
	struct walk_state w = {got, 0, 32};
	char buf[PREFIX_STRLEN];
	size_t i;

	rib_walk(rib, aid, walk_collect, &w);
	assert_int_equal(w.n, n);
	assert_int_equal(rib_count(rib, aid), n);
	for (i = 0; i < n; i++)
		assert_string_equal(
		    prefix_ntop(&got[i], buf, sizeof(buf)), want[i]);
}

static void
test_walk_order(void **state)
{
	struct fixture *f = *state;
	/* nested and adjacent prefixes, in no particular order */
	static const char *const v4in[] = {"10.0.0.128/25", "192.168.0.0/16",
	    "10.0.0.0/24", "0.0.0.0/0", "10.0.0.0/25", "255.255.255.255/32",
	    "10.0.0.0/8", "10.0.0.0/32", "10.1.0.0/16", "9.255.255.255/32",
	    "10.0.0.1/32", "128.0.0.0/1", "10.0.0.0/9", "0.0.0.0/32"};
	static const char *const v4out[] = {"0.0.0.0/0", "0.0.0.0/32",
	    "9.255.255.255/32", "10.0.0.0/8", "10.0.0.0/9", "10.0.0.0/24",
	    "10.0.0.0/25", "10.0.0.0/32", "10.0.0.1/32", "10.0.0.128/25",
	    "10.1.0.0/16", "128.0.0.0/1", "192.168.0.0/16",
	    "255.255.255.255/32"};
	static const char *const v6in[] = {"2001:db8:0:1::/64", "::/0",
	    "2001:db8::/32", "ffff::/16", "2001:db8::/48", "::1/128",
	    "2001:db8::/128", "fe80::/10", "2001:db8:8000::/33"};
	static const char *const v6out[] = {"::/0", "::1/128", "2001:db8::/32",
	    "2001:db8::/48", "2001:db8::/128", "2001:db8:0:1::/64",
	    "2001:db8:8000::/33", "fe80::/10", "ffff::/16"};
	struct attrs *a = mkattrs(f->at, 100, 1);
	struct rib_stats st;
	struct prefix p;
	size_t i;

	for (i = 0; i < sizeof(v4in) / sizeof(v4in[0]); i++) {
		p = pfx(v4in[i]);
		assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), 1);
	}
	for (i = 0; i < sizeof(v6in) / sizeof(v6in[0]); i++) {
		p = pfx(v6in[i]);
		assert_int_equal(rib_update(f->rib, &f->src[1], &p, 0, a), 1);
	}
	check_walk(f->rib, AID_IPV4, v4out, sizeof(v4out) / sizeof(v4out[0]));
	check_walk(f->rib, AID_IPV6, v6out, sizeof(v6out) / sizeof(v6out[0]));
	for (i = 0; i < sizeof(v4in) / sizeof(v4in[0]); i++) {
		p = pfx(v4in[i]);
		assert_non_null(rib_lookup(f->rib, &p));
	}
	rib_stats_get(f->rib, &st);
	assert_int_equal(st.entries[AID_IPV4], 14);
	assert_int_equal(st.entries[AID_IPV6], 9);
	assert_int_equal(st.paths, 23);
	/*
	 * rib.c hangs a subtree off each distinct top 16 address bits, and
	 * a subtree of n entries has n - 1 nodes: IPv4 has 14 entries in 7
	 * subtrees (0.0, 9.255, 10.0, 10.1, 128.0, 192.168, 255.255), IPv6
	 * 9 in 4 (0000, 2001, fe80, ffff).
	 */
	assert_int_equal(st.nodes, (14 - 7) + (9 - 4));

	/* removing inner prefixes keeps the rest in order */
	p = pfx("10.0.0.0/24");
	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 0), 1);
	p = pfx("0.0.0.0/0");
	assert_int_equal(rib_withdraw(f->rib, &f->src[0], &p, 0), 1);
	p = pfx("2001:db8::/32");
	assert_int_equal(rib_withdraw(f->rib, &f->src[1], &p, 0), 1);
	{
		static const char *const v4left[] = {"0.0.0.0/32",
		    "9.255.255.255/32", "10.0.0.0/8", "10.0.0.0/9",
		    "10.0.0.0/25", "10.0.0.0/32", "10.0.0.1/32",
		    "10.0.0.128/25", "10.1.0.0/16", "128.0.0.0/1",
		    "192.168.0.0/16", "255.255.255.255/32"};
		check_walk(f->rib, AID_IPV4, v4left,
		    sizeof(v4left) / sizeof(v4left[0]));
	}
	{
		static const char *const v6left[] = {"::/0", "::1/128",
		    "2001:db8::/48", "2001:db8::/128", "2001:db8:0:1::/64",
		    "2001:db8:8000::/33", "fe80::/10", "ffff::/16"};
		check_walk(f->rib, AID_IPV6, v6left,
		    sizeof(v6left) / sizeof(v6left[0]));
	}
	rib_stats_get(f->rib, &st);
	assert_int_equal(st.nodes, (12 - 7) + (8 - 4));

	rib_flush_src(f->rib, &f->src[0]);
	rib_flush_src(f->rib, &f->src[1]);
	check_walk(f->rib, AID_IPV4, NULL, 0);
	check_walk(f->rib, AID_IPV6, NULL, 0);
	rib_stats_get(f->rib, &st);
	assert_int_equal(st.nodes, 0);
	assert_int_equal(st.paths, 0);
	attr_unref(a);
}

static void
test_flush_src(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 1), *b = mkattrs(f->at, 200, 2);
	char buf[PREFIX_STRLEN];
	struct rib_entry *e;
	struct prefix p;
	uint32_t brefs = b->refcnt;
	int i;

	/* src 1 alone on 10.0.i.0/24, shared with src 2 (better) on 10.1.i */
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "10.0.%d.0/24", i);
		p = pfx(buf);
		assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), 1);
		snprintf(buf, sizeof(buf), "10.1.%d.0/24", i);
		p = pfx(buf);
		assert_int_equal(rib_update(f->rib, &f->src[0], &p, 0, a), 1);
		assert_int_equal(rib_update(f->rib, &f->src[1], &p, 0, b), 1);
	}
	assert_int_equal(f->src[0].npaths, 20);
	assert_int_equal(f->src[1].npaths, 10);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 20);

	rec_reset(&f->rec);
	rib_flush_src(f->rib, &f->src[0]);
	assert_int_equal(f->rec.total, 20);
	assert_int_equal(f->rec.ndelete, 20);
	for (i = 0; i < 20; i++) {
		assert_int_equal(f->rec.calls[i].what, RIB_DELETE);
		assert_ptr_equal(f->rec.calls[i].path_src, &f->src[0]);
		assert_false(f->rec.calls[i].path_linked);
	}
	assert_int_equal(f->src[0].npaths, 0);
	assert_true(TAILQ_EMPTY(&f->src[0].paths));
	assert_int_equal(rib_count(f->rib, AID_IPV4), 10);
	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "10.0.%d.0/24", i);
		p = pfx(buf);
		assert_null(rib_lookup(f->rib, &p));
		snprintf(buf, sizeof(buf), "10.1.%d.0/24", i);
		p = pfx(buf);
		e = rib_lookup(f->rib, &p);
		assert_non_null(e);
		assert_ptr_equal(e->paths->src, &f->src[1]);
		assert_null(e->paths->next);
	}
	/* flushing an empty source is harmless */
	rec_reset(&f->rec);
	rib_flush_src(f->rib, &f->src[0]);
	assert_int_equal(f->rec.total, 0);

	rib_flush_src(f->rib, &f->src[1]);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 0);
	assert_int_equal(b->refcnt, brefs);
	attr_unref(a);
	attr_unref(b);
}

static void
test_stale(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 1), *b = mkattrs(f->at, 100, 2);
	struct rib_src *s = &f->src[0];
	struct prefix p4[3], p6[2], other;
	struct rib_entry *e;
	int i;

	p4[0] = pfx("198.18.0.0/26");
	p4[1] = pfx("198.18.0.64/26");
	p4[2] = pfx("198.18.0.128/26");
	p6[0] = pfx("2001:db8:1::/64");
	p6[1] = pfx("2001:db8:2::/64");
	other = pfx("198.18.1.0/26");
	for (i = 0; i < 3; i++)
		rib_update(f->rib, s, &p4[i], 0, a);
	for (i = 0; i < 2; i++)
		rib_update(f->rib, s, &p6[i], 0, a);
	rib_update(f->rib, &f->src[1], &other, 0, a);
	assert_int_equal(s->npaths, 5);
	assert_int_equal(s->nstale, 0);

	/* RFC 4724: the peer restarts; its paths stay, marked, still best */
	rec_reset(&f->rec);
	rib_mark_stale(f->rib, s, -1);
	assert_int_equal(f->rec.total, 0);
	assert_int_equal(s->nstale, 5);
	e = rib_lookup(f->rib, &p4[0]);
	assert_true(e->paths->flags & PATH_STALE);
	e = rib_lookup(f->rib, &other);
	assert_false(e->paths->flags & PATH_STALE);

	/* re-announced unchanged: the flag goes, silently */
	assert_int_equal(rib_update(f->rib, s, &p4[0], 0, a), 0);
	assert_int_equal(f->rec.total, 0);
	assert_int_equal(s->nstale, 4);
	e = rib_lookup(f->rib, &p4[0]);
	assert_false(e->paths->flags & PATH_STALE);

	/* re-announced changed: replaced and no longer stale */
	assert_int_equal(rib_update(f->rib, s, &p6[0], 0, b), 1);
	assert_int_equal(f->rec.calls[0].what, RIB_REPLACE);
	assert_int_equal(s->nstale, 3);
	e = rib_lookup(f->rib, &p6[0]);
	assert_false(e->paths->flags & PATH_STALE);

	/* End-of-RIB for IPv6: only the stale IPv6 path goes */
	rec_reset(&f->rec);
	rib_flush_stale(f->rib, s, AID_IPV6);
	assert_int_equal(f->rec.total, 1);
	assert_int_equal(f->rec.calls[0].what, RIB_DELETE);
	assert_int_equal(prefix_cmp(&f->rec.calls[0].prefix, &p6[1]), 0);
	assert_null(rib_lookup(f->rib, &p6[1]));
	assert_non_null(rib_lookup(f->rib, &p6[0]));
	assert_int_equal(s->nstale, 2);
	assert_int_equal(s->npaths, 4);

	/* then everything still stale */
	rec_reset(&f->rec);
	rib_flush_stale(f->rib, s, -1);
	assert_int_equal(f->rec.total, 2);
	assert_null(rib_lookup(f->rib, &p4[1]));
	assert_null(rib_lookup(f->rib, &p4[2]));
	assert_non_null(rib_lookup(f->rib, &p4[0]));
	assert_non_null(rib_lookup(f->rib, &other));
	assert_int_equal(s->nstale, 0);
	assert_int_equal(s->npaths, 2);

	/* nothing stale: nothing happens */
	rec_reset(&f->rec);
	rib_flush_stale(f->rib, s, -1);
	assert_int_equal(f->rec.total, 0);

	/* RFC 7313 BoRR for one family marks only that family */
	rib_mark_stale(f->rib, s, AID_IPV6);
	assert_int_equal(s->nstale, 1);
	e = rib_lookup(f->rib, &p4[0]);
	assert_false(e->paths->flags & PATH_STALE);
	e = rib_lookup(f->rib, &p6[0]);
	assert_true(e->paths->flags & PATH_STALE);

	/* withdrawing and flushing stale paths keeps nstale right */
	rib_mark_stale(f->rib, s, -1);
	assert_int_equal(s->nstale, 2);
	assert_int_equal(rib_withdraw(f->rib, s, &p4[0], 0), 1);
	assert_int_equal(s->nstale, 1);
	rib_flush_src(f->rib, s);
	assert_int_equal(s->nstale, 0);
	assert_int_equal(s->npaths, 0);
	attr_unref(a);
	attr_unref(b);
}

/* rib_free drops the rib's references without calling hooks */
static void
test_free_with_paths(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 1);
	uint32_t refs = a->refcnt;
	struct prefix p;

	p = pfx("10.0.0.0/8");
	rib_update(f->rib, &f->src[0], &p, 0, a);
	rib_update(f->rib, &f->src[1], &p, 0, a);
	p = pfx("2001:db8::/32");
	rib_update(f->rib, &f->src[0], &p, 0, a);
	assert_int_equal(a->refcnt, refs + 3);
	rec_reset(&f->rec);
	rib_free(f->rib);
	f->rib = rib_new(hook, &f->rec);
	assert_int_equal(f->rec.total, 0);
	assert_int_equal(a->refcnt, refs);
	attr_unref(a);
}

/* xorshift64*: reproducible without touching libc's global rand state */
static uint64_t
rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

static void
shuffle(struct prefix *v, size_t n, uint64_t *seed)
{
	struct prefix t;
	size_t i, j;

	for (i = n - 1; i > 0; i--) {
		j = rnd(seed) % (i + 1);
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/* random prefixes with lengths spread so nesting is common */
static void
random_prefix(struct prefix *p, uint64_t *seed)
{
	uint64_t r = rnd(seed), r2 = rnd(seed);

	memset(p, 0, sizeof(*p));
	if (r % 4 == 0) {
		p->a.family = AF_INET6;
		memcpy(p->a.b, &r2, 8);
		p->a.b[0] = 0x20; /* a few top bits shared, like real tables */
		p->a.b[1] = 0x01;
		p->len = 16 + (r >> 8) % 113;
	} else {
		p->a.family = AF_INET;
		memcpy(p->a.b, &r2, 4);
		p->a.b[0] = 10 + (r >> 40) % 3;
		p->len = 8 + (r >> 8) % 25;
	}
	prefix_mask(p);
}

/* walk both trees and compare with the sorted live prefixes */
static void
check_against(struct rib *rib, struct prefix *live, size_t n)
{
	struct walk_state w;
	struct rib_stats st;
	struct prefix *sorted;
	size_t i, n4 = 0, ntrees = 0;

	sorted = xreallocarray(NULL, n + 1, sizeof(*sorted));
	memcpy(sorted, live, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), prefix_qsort);
	w.got = xreallocarray(NULL, n + 1, sizeof(*w.got));
	w.n = 0;
	w.max = n;
	rib_walk(rib, AID_IPV4, walk_collect, &w);
	n4 = w.n;
	rib_walk(rib, AID_IPV6, walk_collect, &w);
	assert_int_equal(w.n, n);
	/* prefix_cmp orders by family first: AF_INET before AF_INET6 */
	for (i = 0; i < n; i++)
		assert_int_equal(prefix_cmp(&w.got[i], &sorted[i]), 0);
	assert_int_equal(rib_count(rib, AID_IPV4), n4);
	assert_int_equal(rib_count(rib, AID_IPV6), n - n4);
	/* n - 1 nodes per subtree, one subtree per distinct top 16 bits */
	for (i = 0; i < n; i++)
		if (i == 0 || sorted[i].a.family != sorted[i - 1].a.family ||
		    memcmp(sorted[i].a.b, sorted[i - 1].a.b, 2) != 0)
			ntrees++;
	rib_stats_get(rib, &st);
	assert_int_equal(st.paths, n);
	assert_int_equal(st.nodes, n - ntrees);
	free(sorted);
	free(w.got);
}

static size_t
prefix_qsort_dedup(struct prefix *v, size_t n)
{
	size_t i, out = 0;

	qsort(v, n, sizeof(*v), prefix_qsort);
	for (i = 0; i < n; i++)
		if (out == 0 || prefix_cmp(&v[out - 1], &v[i]) != 0)
			v[out++] = v[i];
	return out;
}

static void
test_random(void **state)
{
	struct fixture *f = *state;
	struct attrs *a = mkattrs(f->at, 100, 1);
	uint32_t refs = a->refcnt;
	const size_t want = 100000;
	struct prefix *v, probe;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	size_t i, n;

	f->rec.no_checks = true;
	v = xreallocarray(NULL, 2 * want, sizeof(*v));
	for (i = 0; i < 2 * want; i++)
		random_prefix(&v[i], &seed);
	n = prefix_qsort_dedup(v, 2 * want);
	assert_true(n >= want);
	/* a random subset of the distinct ones, in random order */
	shuffle(v, n, &seed);
	n = want;

	for (i = 0; i < n; i++) {
		assert_int_equal(
		    rib_update(f->rib, &f->src[0], &v[i], 0, a), 1);
		if (i == n / 2)
			check_against(f->rib, v, i + 1);
	}
	assert_int_equal(f->rec.total, n);
	assert_int_equal(a->refcnt, refs + n);
	check_against(f->rib, v, n);
	for (i = 0; i < n; i++)
		assert_non_null(rib_lookup(f->rib, &v[i]));
	/* near misses: one bit longer or another address is another key */
	qsort(v, n, sizeof(*v), prefix_qsort);
	for (i = 0; i < 20000; i++) {
		probe = v[i];
		if (i % 2 == 0 && probe.len < addr_maxlen(probe.a.family))
			probe.len++;
		else
			random_prefix(&probe, &seed);
		assert_true((rib_lookup(f->rib, &probe) != NULL) ==
		    (bsearch(&probe, v, n, sizeof(*v), prefix_qsort) != NULL));
	}

	shuffle(v, n, &seed);
	for (i = 0; i < n; i++) {
		assert_int_equal(
		    rib_withdraw(f->rib, &f->src[0], &v[n - 1 - i], 0), 1);
		if ((i + 1) % 25000 == 0)
			check_against(f->rib, v, n - 1 - i);
	}
	assert_int_equal(f->rec.ndelete, n);
	assert_int_equal(rib_count(f->rib, AID_IPV4), 0);
	assert_int_equal(rib_count(f->rib, AID_IPV6), 0);
	assert_int_equal(f->src[0].npaths, 0);
	assert_int_equal(a->refcnt, refs);
	check_against(f->rib, v, 0);
	free(v);
	attr_unref(a);
}

static long
rss_kb(void)
{
	FILE *fp;
	char line[256];
	long kb = -1;

	if ((fp = fopen("/proc/self/status", "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* RIB_BENCH=1: 1M distinct IPv4 /24../32 from one source, one attrs */
static void
test_bench(void **state)
{
	struct fixture *f = *state;
	struct attrs *a;
	const size_t n = 1000000;
	struct prefix *v;
	struct rib_stats st;
	uint64_t seed = 42;
	double t0, t1, t2;
	long rss0, rss1;
	size_t i, m;

	if (getenv("RIB_BENCH") == NULL)
		skip();
	a = mkattrs(f->at, 100, 1);
	f->rec.no_checks = true;
	v = xreallocarray(NULL, n + n / 8, sizeof(*v));
	for (i = 0; i < n + n / 8; i++) {
		uint64_t r = rnd(&seed);

		memset(&v[i], 0, sizeof(v[i]));
		v[i].a.family = AF_INET;
		memcpy(v[i].a.b, &r, 4);
		v[i].len = 24 + (r >> 32) % 9;
		prefix_mask(&v[i]);
	}
	m = prefix_qsort_dedup(v, n + n / 8);
	assert_true(m >= n);
	shuffle(v, m, &seed);

	rss0 = rss_kb();
	t0 = now();
	for (i = 0; i < n; i++)
		rib_update(f->rib, &f->src[0], &v[i], 0, a);
	t1 = now();
	rss1 = rss_kb();
	rib_stats_get(f->rib, &st);
	assert_int_equal(rib_count(f->rib, AID_IPV4), n);
	print_message("bench: %zu random-order inserts %.3f s (%.0f ns each), "
	              "RSS +%ld kB (%.1f B/path), pools %zu B (%.1f B/path), "
	              "%zu nodes\n",
	    n, t1 - t0, (t1 - t0) * 1e9 / n, rss1 - rss0,
	    (rss1 - rss0) * 1024.0 / n, st.bytes, (double)st.bytes / n,
	    st.nodes);

	qsort(v, n, sizeof(*v), prefix_qsort);
	t1 = now();
	for (i = 0; i < n; i++)
		rib_lookup(f->rib, &v[i]);
	t2 = now();
	print_message("bench: %zu lookups %.3f s\n", n, t2 - t1);
	t1 = now();
	rib_flush_src(f->rib, &f->src[0]);
	t2 = now();
	print_message("bench: flush %.3f s\n", t2 - t1);

	t0 = now();
	for (i = 0; i < n; i++)
		rib_update(f->rib, &f->src[0], &v[i], 0, a);
	t1 = now();
	print_message("bench: %zu sorted-order inserts %.3f s\n", n, t1 - t0);
	rib_flush_src(f->rib, &f->src[0]);
	free(v);
	attr_unref(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(
	        test_insert_lookup_withdraw, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_update_noop_and_replace, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_best_change, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_walk_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_flush_src, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stale, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_free_with_paths, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_random, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bench, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
