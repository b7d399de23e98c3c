/*
 * What goes out: advertisement rules, the attributes we send, and turning a
 * group's queued changes into packed UPDATEs (update groups: ugroup.c).
 *
 * There is no stored Adj-RIB-Out.  A change to a RIB entry queues the
 * prefix in every group, with whether the group's members had been sent a
 * route for it before; when a member can take more, the current path is
 * looked up again and announced or, if it may not be sent but something
 * was, withdrawn.  Routes with the same attributes and source share
 * UPDATEs; a message announcing a member's own routes is not sent to that
 * member (it gets the withdrawals of whatever it had instead).
 *
 * RFC 4271 §9.1.3 and §5.1 (what eBGP and iBGP peers get), RFC 4456
 * (reflection, in rr/), RFC 7911 (sending several paths, all or best N),
 * RFC 4724 (End-of-RIB), RFC 7313 (End-of-Route-Refresh).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/kernel.h"
#include "bgp/ugroup.h"
#include "rr/rr.h"

#define OUT_BATCH 2048 /* queue items looked at per encoding round */
#define OUTQ_HIGH 200000 /* pause reading peers above this backlog */
#define OUTQ_LOW 20000 /* and resume below this */
#define EXPORT_CACHE 256

/*
 * Exported attributes per (received attributes, source), reused.  The
 * source's BGP identifier is part of the key: it becomes ORIGINATOR_ID,
 * and a peer that reconnects keeps its source but may change it.
 */
struct export_slot {
	struct attrs *from;
	uint32_t src_id;
	uint32_t src_bgpid;
	enum aid aid;
	struct attrs *to;
};

struct export_cache {
	struct export_slot slot[EXPORT_CACHE];
};

struct out_route {
	enum aid aid;
	struct attrs *attrs; /* NULL: withdraw */
	uint32_t src_id; /* source of an announcement, else 0 */
	bool was_adv;
	struct nlri nlri;
};

/* room for one batch, kept by the daemon between rounds */
struct export_scratch {
	struct out_route r[OUT_BATCH];
	struct nlri nlri[OUT_BATCH];
};

void
export_cache_free(struct export_cache *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < EXPORT_CACHE; i++) {
		if (c->slot[i].from == NULL)
			continue;
		attr_unref(c->slot[i].from);
		if (c->slot[i].to != NULL)
			attr_unref(c->slot[i].to);
	}
	free(c);
}

/* ---- policy ------------------------------------------------------------- */

/* the group's only member, if it is where the path came from */
static bool
export_sole_source(const struct ugroup *g, const struct rib_path *path)
{
	return g->nmembers == 1 &&
	    TAILQ_FIRST(&g->members) == (struct peer *)path->src->owner;
}

/* RFC 4271 §9.2 and RFC 4456 §6: may this path be sent to this group? */
static bool
export_allowed(const struct ugroup *g, const struct rib_path *path)
{
	const struct rib_src *from;

	if (path == NULL || export_sole_source(g, path))
		return false;
	from = path->src;
	if (from->id != 0 && !from->ebgp && !g->key.ctx.ebgp)
		return rr_allowed(
		    g->bgpd->conf, from->rr_client, g->key.rr_client);
	return true;
}

/* RFC 7911 best N: is path among the first n the group may be sent? */
static bool
export_best_n(const struct ugroup *g, const struct rib_entry *e,
    const struct rib_path *path, unsigned int n)
{
	const struct rib_path *x;
	unsigned int rank = 0;

	for (x = e->paths; x != NULL && rank < n; x = x->next) {
		if (x == path)
			return true;
		if (export_allowed(g, x))
			rank++;
	}
	return false;
}

/* our address on the group's sessions for the family, or none */
static int
export_self(const struct ugroup *g, enum aid aid, struct addr *nh)
{
	const struct addr *local = &g->key.local;

	memset(nh, 0, sizeof(*nh));
	if (local->family == 0)
		return -1;
	/*
	 * IPv6 over an IPv4 session keeps the IPv4 address: update_build
	 * sends it IPv4-mapped.  IPv4 over IPv6 has no next hop to give.
	 */
	if (local->family != aid_family(aid) && aid != AID_IPV6)
		return -1;
	*nh = *local;
	return 0;
}

static struct attrs *
export_attrs_make(
    const struct ugroup *g, const struct rib_path *path, enum aid aid)
{
	const struct bgpd_config *c = g->bgpd->conf;
	const struct rib_src *from = path->src;
	struct attrs a, *res;
	bool ebgp = g->key.ctx.ebgp;
	bool self = from->id == 0 || ebgp || g->key.next_hop_self;

	attrs_copy(&a, path->attrs);
	if (ebgp) {
		aspath_prepend(&a, c->asn);
		a.flags &= ~(ATTRF_LOCALPREF | ATTRF_ORIGINATOR_ID);
		a.ncluster = 0;
		/* RFC 4271 §5.1.4: a neighbour AS's MED stops here */
		if (from->id != 0 && from->ebgp)
			a.flags &= ~ATTRF_MED;
	} else {
		if (!(a.flags & ATTRF_LOCALPREF)) {
			a.local_pref = 100;
			a.flags |= ATTRF_LOCALPREF;
		}
		/* iBGP to iBGP: we are reflecting it (export_allowed) */
		if (from->id != 0 && !from->ebgp)
			rr_reflect(c, from->bgpid, &a);
	}
	if (self) {
		if (export_self(g, aid, &a.nexthop) == -1) {
			attrs_clean(&a);
			return NULL;
		}
		memset(&a.nexthop_ll, 0, sizeof(a.nexthop_ll));
		a.flags |= ATTRF_NEXTHOP;
	}
	res = attr_intern(g->bgpd->attrs, &a);
	attrs_clean(&a);
	return res;
}

/*
 * Returns a borrowed reference, valid while the cache holds it: a later
 * lookup may evict it, so whoever keeps it longer takes a reference.
 */
static struct attrs *
export_attrs(struct ugroup *g, const struct rib_path *path, enum aid aid)
{
	uintptr_t key = (uintptr_t)path->attrs;
	struct export_slot *s;

	if (g->cache == NULL)
		g->cache = xcalloc(1, sizeof(*g->cache));
	s = &g->cache
	         ->slot[hash_u32((uint32_t)(key >> 4) ^ path->src->id, aid) %
	             EXPORT_CACHE];
	if (s->from == path->attrs && s->src_id == path->src->id &&
	    s->src_bgpid == path->src->bgpid && s->aid == aid)
		return s->to;
	if (s->from != NULL) {
		attr_unref(s->from);
		if (s->to != NULL)
			attr_unref(s->to);
	}
	s->from = attr_ref(path->attrs);
	s->src_id = path->src->id;
	s->src_bgpid = path->src->bgpid;
	s->aid = aid;
	s->to = export_attrs_make(g, path, aid);
	return s->to;
}

/* ---- queueing ----------------------------------------------------------- */

static void
export_schedule(struct bgpd *b)
{
	if (b->flush_ev != NULL)
		event_active(b->flush_ev, EV_TIMEOUT, 0);
}

/* returns whether anything was queued */
static bool
export_queue(struct ugroup *g, struct rib_entry *e, struct rib_path *old_best,
    struct rib_path *path, enum rib_change what)
{
	enum aid aid = aid_from_family(e->prefix.a.family);
	unsigned int max = g->key.addpath_max[aid], rank = 0;
	struct rib_path *x;
	bool was;

	if (!g->key.ctx.addpath[aid]) {
		/* only a change of the best path matters here */
		if (old_best == e->paths &&
		    (what != RIB_REPLACE || path != e->paths))
			return false;
		was = export_allowed(g, old_best);
		if (!was &&
		    (e->paths == NULL || export_sole_source(g, e->paths)))
			return false;
		outq_add(g->q, &e->prefix, 0, was);
	} else if (max == 0) {
		if (export_sole_source(g, path))
			return false;
		was = what != RIB_ADD && export_allowed(g, path);
		outq_add(g->q, &e->prefix, path->tx_id, was);
	} else {
		/*
		 * Best N: one path changed, so at most one other crossed the
		 * boundary, and it is now among the first N + 1 the group
		 * may get.  Their old ranks are gone: each may get a
		 * withdrawal it did not need, never one too few.
		 */
		outq_add(g->q, &e->prefix, path->tx_id, what != RIB_ADD);
		for (x = e->paths; x != NULL && rank <= max; x = x->next) {
			if (!export_allowed(g, x))
				continue;
			outq_add(g->q, &e->prefix, x->tx_id, true);
			rank++;
		}
	}
	return true;
}

void
export_rib_change(struct rib_entry *e, struct rib_path *old_best,
    struct rib_path *path, enum rib_change what, void *arg)
{
	struct bgpd *b = arg;
	enum aid aid = aid_from_family(e->prefix.a.family);
	struct ugroup *g;

	if (what == RIB_ADD && path->tx_id == 0) {
		if (++b->next_tx_id == 0) /* 0 means "the best path" */
			b->next_tx_id = 1;
		path->tx_id = b->next_tx_id;
	}
	TAILQ_FOREACH(g, &b->groups, entry)
	{
		if (!g->key.mp[aid])
			continue;
		if (export_queue(g, e, old_best, path, what))
			g->fed = true;
	}
	if (!TAILQ_EMPTY(&b->groups))
		export_schedule(b);
	if (b->kernel != NULL)
		kernel_rib_entry(b->kernel, e);
}

static void
export_table_cb(struct rib_entry *e, void *arg)
{
	struct ugroup *g = arg;
	struct rib_path *path;

	if (g->key.ctx.addpath[aid_from_family(e->prefix.a.family)]) {
		for (path = e->paths; path != NULL; path = path->next)
			outq_add(g->q, &e->prefix, path->tx_id, false);
	} else {
		outq_add(g->q, &e->prefix, 0, false);
	}
}

/* the whole table for a family, after Established or a ROUTE-REFRESH */
void
export_group_table(struct ugroup *g, enum aid aid)
{
	rib_walk(g->bgpd->rib, aid, export_table_cb, g);
}

/* ---- encoding ----------------------------------------------------------- */

static int
out_route_cmp(const void *va, const void *vb)
{
	const struct out_route *a = va, *b = vb;

	if (a->aid != b->aid)
		return a->aid < b->aid ? -1 : 1;
	if (a->attrs != b->attrs)
		return (uintptr_t)a->attrs < (uintptr_t)b->attrs ? -1 : 1;
	if (a->src_id != b->src_id)
		return a->src_id < b->src_id ? -1 : 1;
	return prefix_cmp(&a->nlri.p, &b->nlri.p);
}

static struct rib_path *
export_find_path(struct rib_entry *e, uint32_t tx_id)
{
	struct rib_path *path;

	if (e == NULL)
		return NULL;
	if (tx_id == 0)
		return e->paths;
	for (path = e->paths; path != NULL; path = path->next)
		if (path->tx_id == tx_id)
			return path;
	return NULL;
}

/* turn up to OUT_BATCH queue items into routes; returns how many */
static size_t
export_collect(struct ugroup *g, struct out_route *r)
{
	struct rib_entry *e;
	struct rib_path *path;
	struct prefix pfx;
	uint32_t tx_id;
	unsigned int max;
	size_t n = 0, looked = 0;
	bool was;

	while (looked++ < OUT_BATCH && outq_pop(g->q, &pfx, &tx_id, &was)) {
		enum aid aid = aid_from_family(pfx.a.family);

		e = rib_lookup(g->bgpd->rib, &pfx);
		path = export_find_path(e, tx_id);
		max = g->key.addpath_max[aid];
		r[n].aid = aid;
		r[n].nlri.p = pfx;
		r[n].nlri.path_id = tx_id;
		r[n].attrs = NULL;
		r[n].src_id = 0;
		r[n].was_adv = was;
		if (export_allowed(g, path) &&
		    (max == 0 || export_best_n(g, e, path, max)))
			r[n].attrs = export_attrs(g, path, aid);
		if (r[n].attrs != NULL) {
			/* the batch outlives the cache slot (see above) */
			r[n].attrs = attr_ref(r[n].attrs);
			r[n].src_id = path->src->id;
		}
		if (r[n].attrs != NULL || was)
			n++;
	}
	return n;
}

/*
 * The source of an announcement is not sent its own route; if the members
 * had another route for the prefix before, the source must lose that one.
 */
static struct ibuf *
export_source_withdraw(struct ugroup *g, const struct out_route *r,
    const struct nlri *nlri, size_t n)
{
	struct ibuf *wd;
	size_t i, done;

	for (i = 0; i < n; i++)
		if (r[i].was_adv && r[i].nlri.path_id == 0)
			break;
	if (i == n || r[0].src_id == 0)
		return NULL;
	wd = update_build(&g->key.ctx, r[0].aid, NULL, nlri, n, &done);
	if (wd == NULL || done != n)
		fatalx("cannot encode withdrawals for an update group");
	return wd;
}

/* one batch of the group's queue into its stream; returns routes sent */
size_t
export_encode(struct ugroup *g)
{
	struct bgpd *b = g->bgpd;
	struct out_route *r;
	struct nlri *nlri;
	struct ibuf *msg, *wd;
	size_t n, i = 0, j, k, done;

	if (b->export_scratch == NULL)
		b->export_scratch = xmalloc(sizeof(*b->export_scratch));
	r = b->export_scratch->r;
	nlri = b->export_scratch->nlri;
	n = export_collect(g, r);
	qsort(r, n, sizeof(*r), out_route_cmp);
	while (i < n) {
		for (j = i; j < n && r[j].aid == r[i].aid &&
		     r[j].attrs == r[i].attrs && r[j].src_id == r[i].src_id;
		     j++)
			nlri[j - i] = r[j].nlri;
		for (k = 0; k < j - i; k += done) {
			msg = update_build(&g->key.ctx, r[i].aid, r[i].attrs,
			    nlri + k, j - i - k, &done);
			if (msg == NULL || done == 0)
				fatalx("cannot encode an UPDATE");
			wd = NULL;
			if (r[i].attrs != NULL)
				wd = export_source_withdraw(
				    g, r + i + k, nlri + k, done);
			ugroup_append(g, msg, wd, r[i].src_id,
			    r[i].attrs != NULL ? done : 0);
		}
		i = j;
	}
	for (i = 0; i < n; i++)
		if (r[i].attrs != NULL)
			attr_unref(r[i].attrs);
	return n;
}

/* ---- members ------------------------------------------------------------ */

/* everything queued has been sent to p: what it is owed at that point */
void
export_member_done(struct peer *p)
{
	enum aid aid;

	for (aid = 0; aid < AID_MAX; aid++) {
		/*
		 * RFC 4724 §2: End-of-RIB after the initial table; §4.1:
		 * a restarting speaker's once its selection is complete
		 * (bgpd_restart_over)
		 */
		if (p->neg.mp[aid] && !p->eor_sent[aid] &&
		    !p->bgpd->restarting) {
			session_send(p, update_build_eor(aid));
			p->eor_sent[aid] = true;
		}
		/* RFC 7313 §4: the refreshed table is complete */
		if (p->refresh_pending[aid]) {
			session_send(p, msg_rrefresh(aid, RREFRESH_EORR));
			p->refresh_pending[aid] = false;
		}
	}
}

/*
 * Input pauses while every group that routes flow to is far behind: when
 * routes come in faster than all peers take them, waiting costs less memory
 * than queueing.  One slow group alone pauses no one, since that would
 * stall the others; its queue is bounded by the RIB.  A group that has
 * never been sent anything (the sender's own) has no say, or it would
 * keep input flowing into a full receiver; one that has, keeps it (while
 * input is paused nothing is fed, and its draining must resume input).
 */
static void
export_backpressure(struct bgpd *b)
{
	struct ugroup *g;
	size_t min = SIZE_MAX;

	TAILQ_FOREACH(g, &b->groups, entry)
	if ((g->fed || outq_len(g->q) > 0) && outq_len(g->q) < min)
		min = outq_len(g->q);
	if (min == SIZE_MAX)
		min = 0;
	if (!b->paused && min > OUTQ_HIGH) {
		b->paused = true;
		log_info("output backlog of %zu prefixes: pausing input", min);
		session_pause_reading(b, true);
	} else if (b->paused && min < OUTQ_LOW) {
		b->paused = false;
		log_info("output backlog down to %zu: resuming input", min);
		session_pause_reading(b, false);
	}
}

/* Established: p starts as a group of its own, with the whole table */
void
export_peer_up(struct peer *p)
{
	struct ugroup_key k;
	struct ugroup *g;
	enum aid aid;

	/* an EoRR owed to the last session is not this one's */
	memset(p->refresh_pending, 0, sizeof(p->refresh_pending));
	ugroup_key_make(p, &k);
	g = ugroup_new(p->bgpd, &k);
	ugroup_add_member(g, p);
	for (aid = 0; aid < AID_MAX; aid++)
		if (p->neg.mp[aid])
			export_group_table(g, aid);
	ugroup_flush(g);
	export_backpressure(p->bgpd);
}

void
export_peer_down(struct peer *p)
{
	ugroup_remove_member(p);
	export_backpressure(p->bgpd);
}

/* ROUTE-REFRESH: the table again, for p alone */
void
export_refresh(struct peer *p, enum aid aid)
{
	if (p->ug == NULL)
		return;
	if (p->ug->nmembers > 1)
		ugroup_split(p);
	export_group_table(p->ug, aid);
	ugroup_flush(p->ug);
}

/* p's socket has room again */
void
export_flush(struct peer *p)
{
	if (p->ug == NULL)
		return;
	ugroup_member_ready(p);
	export_schedule(p->bgpd);
}

void
export_flush_all(evutil_socket_t fd, short what, void *arg)
{
	struct bgpd *b = arg;
	struct ugroup *g, *ng;

	/* flushing may split (appending) or merge (freeing) groups */
	for (g = TAILQ_FIRST(&b->groups); g != NULL; g = ng) {
		ng = TAILQ_NEXT(g, entry);
		if (outq_len(g->q) > 0 || g->dirty)
			ugroup_flush(g);
	}
	export_backpressure(b);
}
