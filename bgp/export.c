/*
 * What goes out to a peer: advertisement rules, the attributes we send, and
 * the per-peer queue of pending changes packed into UPDATEs.
 *
 * There is no stored Adj-RIB-Out.  A change to a RIB entry queues the
 * prefix (by value: the entry may be gone by the time we send) together with
 * whether the peer had been sent a route for it before the change; when the
 * socket has room the current best path is looked up again and either
 * announced or, if it may not be sent but something was, withdrawn.  Many
 * changes to one prefix coalesce into one queue item, so a queue never holds
 * more items than the RIB has prefixes (times paths, with ADD-PATH).
 *
 * RFC 4271 §9.1.3 and §5.1 (what eBGP and iBGP peers get), RFC 4456 §6 and
 * §8 (reflection), RFC 7911 (sending several paths), RFC 4724 (End-of-RIB).
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"

#define OUT_BATCH 2048 /* prefixes looked at per packing round */
#define OUTQ_HIGH 200000 /* pause reading peers above this backlog */
#define OUTQ_LOW 20000 /* and resume below this */
#define EXPORT_CACHE 256

struct out_item {
	TAILQ_ENTRY(out_item) entry;
	struct out_item *hnext;
	struct prefix prefix;
	uint32_t tx_id; /* ADD-PATH path id, 0 for the best path */
	bool was_adv; /* the peer had a route for this before */
};

/* exported attributes per (received attributes, source), reused */
struct export_slot {
	struct attrs *from;
	uint32_t src_id;
	enum aid aid;
	struct attrs *to;
};

struct out_route;

struct out_queue {
	TAILQ_HEAD(, out_item) fifo;
	struct out_route *batch; /* OUT_BATCH routes, for export_flush */
	struct out_item **buckets;
	size_t nbuckets;
	size_t count;
	struct export_slot cache[EXPORT_CACHE];
};

struct out_queue *
outq_new(void)
{
	struct out_queue *q = xcalloc(1, sizeof(*q));

	TAILQ_INIT(&q->fifo);
	q->nbuckets = 1024;
	q->buckets = xcalloc(q->nbuckets, sizeof(*q->buckets));
	return q;
}

static void
export_cache_clear(struct out_queue *q)
{
	int i;

	for (i = 0; i < EXPORT_CACHE; i++) {
		if (q->cache[i].from != NULL) {
			attr_unref(q->cache[i].from);
			if (q->cache[i].to != NULL)
				attr_unref(q->cache[i].to);
		}
		memset(&q->cache[i], 0, sizeof(q->cache[i]));
	}
}

void
outq_clear(struct out_queue *q)
{
	struct out_item *it;

	while ((it = TAILQ_FIRST(&q->fifo)) != NULL) {
		TAILQ_REMOVE(&q->fifo, it, entry);
		free(it);
	}
	memset(q->buckets, 0, q->nbuckets * sizeof(*q->buckets));
	q->count = 0;
	export_cache_clear(q);
}

void
outq_free(struct out_queue *q)
{
	if (q == NULL)
		return;
	outq_clear(q);
	free(q->batch);
	free(q->buckets);
	free(q);
}

size_t
outq_len(const struct out_queue *q)
{
	return q->count;
}

static uint32_t
outq_hash(const struct prefix *p, uint32_t tx_id)
{
	return hash_bytes(
	    p->a.b, addr_bytes(p->a.family), hash_u32(p->len, tx_id));
}

static void
outq_grow(struct out_queue *q)
{
	struct out_item **nb, *it;
	size_t n = q->nbuckets * 4;

	nb = xcalloc(n, sizeof(*nb));
	TAILQ_FOREACH(it, &q->fifo, entry)
	{
		uint32_t h = outq_hash(&it->prefix, it->tx_id) & (n - 1);
		it->hnext = nb[h];
		nb[h] = it;
	}
	free(q->buckets);
	q->buckets = nb;
	q->nbuckets = n;
}

static void
outq_add(
    struct out_queue *q, const struct prefix *p, uint32_t tx_id, bool was_adv)
{
	uint32_t h = outq_hash(p, tx_id) & (q->nbuckets - 1);
	struct out_item *it;

	for (it = q->buckets[h]; it != NULL; it = it->hnext)
		if (it->tx_id == tx_id && prefix_cmp(&it->prefix, p) == 0)
			return; /* keeps the oldest was_adv: the peer's view */
	it = xmalloc(sizeof(*it));
	it->prefix = *p;
	it->tx_id = tx_id;
	it->was_adv = was_adv;
	it->hnext = q->buckets[h];
	q->buckets[h] = it;
	TAILQ_INSERT_TAIL(&q->fifo, it, entry);
	if (++q->count > q->nbuckets * 2)
		outq_grow(q);
}

static void
outq_remove(struct out_queue *q, struct out_item *it)
{
	uint32_t h = outq_hash(&it->prefix, it->tx_id) & (q->nbuckets - 1);
	struct out_item **pp;

	for (pp = &q->buckets[h]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == it) {
			*pp = it->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&q->fifo, it, entry);
	q->count--;
}

/* ---- policy ------------------------------------------------------------- */

static bool
export_reflecting(const struct peer *to, const struct rib_path *path)
{
	const struct rib_src *from = path->src;

	return from->id != 0 && !from->ebgp && !to->src.ebgp;
}

/* RFC 4271 §9.2 and RFC 4456 §6: may this path be sent to this peer? */
static bool
export_allowed(const struct peer *to, const struct rib_path *path)
{
	const struct rib_src *from;

	if (path == NULL || (from = path->src)->owner == to)
		return false;
	if (export_reflecting(to, path)) {
		if (!to->bgpd->conf->route_reflector)
			return false;
		/* non-client routes go to clients only */
		if (!from->rr_client && !to->src.rr_client)
			return false;
	}
	return true;
}

/* our address on this session for the family, or none */
static int
export_self(const struct peer *to, enum aid aid, struct addr *nh)
{
	const struct addr *local = session_local_addr(to);

	memset(nh, 0, sizeof(*nh));
	if (local == NULL || local->family == 0)
		return -1;
	/*
	 * IPv6 over an IPv4 session keeps the IPv4 address: update_build
	 * sends it IPv4-mapped.  IPv4 over IPv6 has no next hop to give.
	 */
	if (local->family != aid_family(aid) && aid != AID_IPV6)
		return -1;
	*nh = *local;
	nh->scope_id = 0;
	return 0;
}

static struct attrs *
export_attrs_make(struct peer *to, const struct rib_path *path, enum aid aid)
{
	const struct bgpd_config *c = to->bgpd->conf;
	const struct rib_src *from = path->src;
	struct attrs a, *res;
	bool self = from->id == 0 || to->src.ebgp || to->conf->next_hop_self;
	uint16_t i;

	attrs_copy(&a, path->attrs);
	if (to->src.ebgp) {
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
		if (export_reflecting(to, path)) {
			/* RFC 4456 §8 */
			if (!(a.flags & ATTRF_ORIGINATOR_ID)) {
				a.originator_id = from->bgpid;
				a.flags |= ATTRF_ORIGINATOR_ID;
			}
			a.cluster_list = xreallocarray(
			    a.cluster_list, a.ncluster + 1, sizeof(uint32_t));
			for (i = a.ncluster; i > 0; i--)
				a.cluster_list[i] = a.cluster_list[i - 1];
			a.cluster_list[0] = c->cluster_id;
			a.ncluster++;
		}
	}
	if (self) {
		if (export_self(to, aid, &a.nexthop) == -1) {
			attrs_clean(&a);
			return NULL;
		}
		memset(&a.nexthop_ll, 0, sizeof(a.nexthop_ll));
		a.flags |= ATTRF_NEXTHOP;
	}
	res = attr_intern(to->bgpd->attrs, &a);
	attrs_clean(&a);
	return res;
}

/* returns a borrowed reference, valid while the cache holds it */
static struct attrs *
export_attrs(struct peer *to, const struct rib_path *path, enum aid aid)
{
	struct out_queue *q = to->outq;
	uintptr_t key = (uintptr_t)path->attrs;
	struct export_slot *s =
	    &q->cache[hash_u32((uint32_t)(key >> 4) ^ path->src->id, aid) %
	        EXPORT_CACHE];

	if (s->from == path->attrs && s->src_id == path->src->id &&
	    s->aid == aid)
		return s->to;
	if (s->from != NULL) {
		attr_unref(s->from);
		if (s->to != NULL)
			attr_unref(s->to);
	}
	s->from = attr_ref(path->attrs);
	s->src_id = path->src->id;
	s->aid = aid;
	s->to = export_attrs_make(to, path, aid);
	return s->to;
}

/* ---- queueing ----------------------------------------------------------- */

static void
export_schedule(struct bgpd *b)
{
	if (b->flush_ev != NULL)
		event_active(b->flush_ev, EV_TIMEOUT, 0);
}

void
export_rib_change(struct rib_entry *e, struct rib_path *old_best,
    struct rib_path *path, enum rib_change what, void *arg)
{
	struct bgpd *b = arg;
	enum aid aid = aid_from_family(e->prefix.a.family);
	struct peer *p;
	bool queued = false;

	if (what == RIB_ADD && path->tx_id == 0) {
		if (++b->next_tx_id == 0) /* 0 means "the best path" */
			b->next_tx_id = 1;
		path->tx_id = b->next_tx_id;
	}
	TAILQ_FOREACH(p, &b->peers, entry)
	{
		if (p->state != STATE_ESTABLISHED || !p->neg.mp[aid])
			continue;
		if (p->neg.addpath_send[aid]) {
			bool was = what != RIB_ADD && export_allowed(p, path);
			outq_add(p->outq, &e->prefix, path->tx_id, was);
		} else {
			/* only a change of the best path matters here */
			if (old_best == e->paths &&
			    (what != RIB_REPLACE || path != e->paths))
				continue;
			outq_add(p->outq, &e->prefix, 0,
			    export_allowed(p, old_best));
		}
		queued = true;
	}
	if (queued)
		export_schedule(b);
}

static void
export_table_cb(struct rib_entry *e, void *arg)
{
	struct peer *p = arg;
	struct rib_path *path;

	if (p->neg.addpath_send[aid_from_family(e->prefix.a.family)]) {
		for (path = e->paths; path != NULL; path = path->next)
			outq_add(p->outq, &e->prefix, path->tx_id, false);
	} else {
		outq_add(p->outq, &e->prefix, 0, false);
	}
}

/* the whole table for a family, after Established or a ROUTE-REFRESH */
void
export_table(struct peer *p, enum aid aid)
{
	rib_walk(p->bgpd->rib, aid, export_table_cb, p);
}

/* ---- sending ------------------------------------------------------------ */

struct out_route {
	enum aid aid;
	struct attrs *attrs; /* NULL: withdraw */
	struct nlri nlri;
};

static int
out_route_cmp(const void *va, const void *vb)
{
	const struct out_route *a = va, *b = vb;

	if (a->aid != b->aid)
		return a->aid < b->aid ? -1 : 1;
	if (a->attrs != b->attrs)
		return (uintptr_t)a->attrs < (uintptr_t)b->attrs ? -1 : 1;
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
export_collect(struct peer *p, struct out_route *r)
{
	struct out_queue *q = p->outq;
	struct out_item *it;
	struct rib_path *path;
	size_t n = 0;

	while (n < OUT_BATCH && (it = TAILQ_FIRST(&q->fifo)) != NULL) {
		enum aid aid = aid_from_family(it->prefix.a.family);

		path = export_find_path(
		    rib_lookup(p->bgpd->rib, &it->prefix), it->tx_id);
		r[n].aid = aid;
		r[n].nlri.p = it->prefix;
		r[n].nlri.path_id = it->tx_id;
		r[n].attrs = NULL;
		if (path != NULL && export_allowed(p, path))
			r[n].attrs = export_attrs(p, path, aid);
		if (r[n].attrs != NULL || it->was_adv)
			n++;
		outq_remove(q, it);
		free(it);
	}
	return n;
}

static void
export_send(struct peer *p, struct out_route *r, size_t n)
{
	struct nlri nlri[OUT_BATCH];
	size_t i = 0, j, k, done;
	struct ibuf *msg;

	qsort(r, n, sizeof(*r), out_route_cmp);
	while (i < n) {
		for (j = i;
		     j < n && r[j].aid == r[i].aid && r[j].attrs == r[i].attrs;
		     j++)
			nlri[j - i] = r[j].nlri;
		for (k = 0; k < j - i; k += done) {
			msg = update_build(&p->tx_ctx, r[i].aid, r[i].attrs,
			    nlri + k, j - i - k, &done);
			if (msg == NULL || done == 0)
				fatalx("cannot encode UPDATE for %s", p->name);
			session_send(p, msg);
			if (r[i].attrs != NULL)
				p->stats.prefixes_out += done;
		}
		i = j;
	}
}

static void
export_backpressure(struct bgpd *b)
{
	struct peer *p;
	size_t max = 0;

	TAILQ_FOREACH(p, &b->peers, entry)
	if (p->state == STATE_ESTABLISHED && outq_len(p->outq) > max)
		max = outq_len(p->outq);
	if (!b->paused && max > OUTQ_HIGH) {
		b->paused = true;
		log_info("output backlog of %zu prefixes: pausing input", max);
		session_pause_reading(b, true);
	} else if (b->paused && max < OUTQ_LOW) {
		b->paused = false;
		log_info("output backlog down to %zu: resuming input", max);
		session_pause_reading(b, false);
	}
}

void
export_flush(struct peer *p)
{
	struct out_route *r;
	size_t n;
	enum aid aid;

	if (p->state != STATE_ESTABLISHED)
		return;
	if (p->outq->batch == NULL)
		p->outq->batch = xreallocarray(NULL, OUT_BATCH, sizeof(*r));
	r = p->outq->batch;
	while (session_output_len(p) < SESS_OUT_HIGH &&
	    !TAILQ_EMPTY(&p->outq->fifo)) {
		if ((n = export_collect(p, r)) > 0)
			export_send(p, r, n);
	}
	if (TAILQ_EMPTY(&p->outq->fifo)) {
		/* RFC 4724 §2: End-of-RIB after the initial table */
		for (aid = 0; aid < AID_MAX; aid++) {
			if (p->neg.mp[aid] && !p->eor_sent[aid]) {
				session_send(p, update_build_eor(aid));
				p->eor_sent[aid] = true;
			}
			/* RFC 7313 §4: the refreshed table is complete */
			if (p->refresh_pending[aid]) {
				session_send(
				    p, msg_rrefresh(aid, RREFRESH_EORR));
				p->refresh_pending[aid] = false;
			}
		}
	}
	export_backpressure(p->bgpd);
}

void
export_flush_all(evutil_socket_t fd, short what, void *arg)
{
	struct bgpd *b = arg;
	struct peer *p;

	TAILQ_FOREACH(p, &b->peers, entry)
	if (p->state == STATE_ESTABLISHED && !TAILQ_EMPTY(&p->outq->fifo))
		export_flush(p);
}
