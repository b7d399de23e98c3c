/*
 * Update groups (see ugroup.h): membership, the shared stream of encoded
 * UPDATEs, each member's progress through it, and the splits and merges
 * that keep a slow member from costing the others time or memory.
 *
 * A member joins as a group of its own (it needs the whole table) and merges
 * into a group with the same key once both have encoded everything queued:
 * both then hold the same view, and the member goes on from the other
 * group's tail, skipping older messages that group's laggards are still
 * being written.  A member that falls UG_LAG_MAX bytes behind is split off
 * with the messages it has not yet been sent (shared, not copied) and a
 * copy of the queue.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/ugroup.h"

#define UG_RING_MIN 64

void
ugroup_key_make(const struct peer *p, struct ugroup_key *k)
{
	const struct addr *local = session_local_addr(p);
	enum aid aid;

	memset(k, 0, sizeof(*k));
	k->ctx.as4 = p->tx_ctx.as4;
	k->ctx.ebgp = p->tx_ctx.ebgp;
	k->ctx.maxlen = p->tx_ctx.maxlen;
	if (local != NULL) {
		k->local = *local;
		k->local.scope_id = 0;
	}
	for (aid = 0; aid < AID_MAX; aid++) {
		k->ctx.addpath[aid] = p->tx_ctx.addpath[aid];
		k->mp[aid] = p->neg.mp[aid];
		if (k->ctx.addpath[aid])
			k->addpath_max[aid] = p->conf->add_paths_max;
	}
	k->rr_client = p->src.rr_client;
	k->next_hop_self = p->conf->next_hop_self;
}

static bool
ugroup_key_equal(const struct ugroup_key *a, const struct ugroup_key *b)
{
	enum aid aid;

	if (a->ctx.as4 != b->ctx.as4 || a->ctx.ebgp != b->ctx.ebgp ||
	    a->ctx.maxlen != b->ctx.maxlen || a->rr_client != b->rr_client ||
	    a->next_hop_self != b->next_hop_self ||
	    a->local.family != b->local.family ||
	    (a->local.family != 0 && addr_cmp(&a->local, &b->local) != 0))
		return false;
	for (aid = 0; aid < AID_MAX; aid++)
		if (a->ctx.addpath[aid] != b->ctx.addpath[aid] ||
		    a->mp[aid] != b->mp[aid] ||
		    a->addpath_max[aid] != b->addpath_max[aid])
			return false;
	return true;
}

struct ugroup *
ugroup_new(struct bgpd *b, const struct ugroup_key *k)
{
	struct ugroup *g = xcalloc(1, sizeof(*g));

	g->bgpd = b;
	g->key = *k;
	TAILQ_INIT(&g->members);
	g->q = outq_new();
	g->cap = UG_RING_MIN;
	g->ring = xcalloc(g->cap, sizeof(*g->ring));
	TAILQ_INSERT_TAIL(&b->groups, g, entry);
	b->ngroups++;
	return g;
}

static struct ug_msg **
ugroup_slot(const struct ugroup *g, uint64_t seq)
{
	return &g->ring[seq & (g->cap - 1)];
}

static void
ug_page_unref(struct ug_page *pg)
{
	if (--pg->refcnt == 0)
		free(pg);
}

/* evbuffer cleanup: an output buffer is done with its part of a page */
static void
ug_page_written(const void *data, size_t len, void *arg)
{
	ug_page_unref(arg);
}

static void
ug_msg_unref(struct ug_msg *m)
{
	if (--m->refcnt > 0)
		return;
	ug_page_unref(m->page);
	if (m->wd != NULL)
		ibuf_free(m->wd);
	free(m);
}

void
ugroup_free(struct ugroup *g)
{
	uint64_t seq;

	for (seq = g->head; seq < g->tail; seq++)
		ug_msg_unref(*ugroup_slot(g, seq));
	if (g->page != NULL)
		ug_page_unref(g->page);
	free(g->ring);
	outq_free(g->q);
	export_cache_free(g->cache);
	TAILQ_REMOVE(&g->bgpd->groups, g, entry);
	g->bgpd->ngroups--;
	free(g);
}

static void
ugroup_push(struct ugroup *g, struct ug_msg *m)
{
	struct ug_msg **nr;
	uint64_t seq, ncap;

	if (g->tail - g->head == g->cap) {
		ncap = g->cap * 2;
		nr = xcalloc(ncap, sizeof(*nr));
		for (seq = g->head; seq < g->tail; seq++)
			nr[seq & (ncap - 1)] = *ugroup_slot(g, seq);
		free(g->ring);
		g->ring = nr;
		g->cap = ncap;
	}
	*ugroup_slot(g, g->tail) = m;
	g->tail++;
}

/* room for len more bytes: the current page, or a new one */
static struct ug_page *
ugroup_page(struct ugroup *g, size_t len)
{
	struct ug_page *pg = g->page;
	size_t cap = len > UG_PAGE_SIZE ? len : UG_PAGE_SIZE;

	if (pg != NULL && pg->cap - pg->len >= len)
		return pg;
	if (pg != NULL)
		ug_page_unref(pg);
	pg = xmalloc(sizeof(*pg) + cap);
	pg->refcnt = 1; /* the group's, while it fills it */
	pg->len = 0;
	pg->cap = cap;
	g->page = pg;
	return pg;
}

/*
 * A new message at the end of the stream: buf is copied onto a page and
 * freed; the group owns wd.
 */
void
ugroup_append(struct ugroup *g, struct ibuf *buf, struct ibuf *wd,
    uint32_t src_id, uint32_t nprefixes)
{
	struct ug_msg *m = xcalloc(1, sizeof(*m));
	size_t len = ibuf_size(buf);
	struct ug_page *pg = ugroup_page(g, len);

	memcpy(pg->data + pg->len, ibuf_data(buf), len);
	m->refcnt = 1;
	m->page = pg;
	pg->refcnt++;
	m->pos = pg->len;
	m->len = len;
	pg->len += len;
	ibuf_free(buf);
	m->wd = wd;
	m->src_id = src_id;
	m->nprefixes = nprefixes;
	m->off = g->tail_off;
	g->tail_off += len;
	ugroup_push(g, m);
}

void
ugroup_add_member(struct ugroup *g, struct peer *p)
{
	p->ug = g;
	p->ug_seq = g->tail;
	p->ug_skipped = false;
	TAILQ_INSERT_TAIL(&g->members, p, ug_entry);
	g->nmembers++;
}

/* messages every member has been sent are let go */
static void
ugroup_trim(struct ugroup *g)
{
	struct peer *p;
	uint64_t min = g->tail;

	TAILQ_FOREACH(p, &g->members, ug_entry)
	if (p->ug_seq < min)
		min = p->ug_seq;
	while (g->head < min) {
		ug_msg_unref(*ugroup_slot(g, g->head));
		*ugroup_slot(g, g->head) = NULL;
		g->head++;
	}
}

static void
ugroup_detach(struct peer *p)
{
	struct ugroup *g = p->ug;

	TAILQ_REMOVE(&g->members, p, ug_entry);
	g->nmembers--;
	p->ug = NULL;
}

void
ugroup_remove_member(struct peer *p)
{
	struct ugroup *g = p->ug;

	if (g == NULL)
		return;
	ugroup_detach(p);
	if (g->nmembers == 0)
		ugroup_free(g);
	else
		ugroup_trim(g);
}

/*
 * p leaves for a group of its own with the same key, taking what it has
 * not been sent yet: the rest of the stream and everything queued.
 */
struct ugroup *
ugroup_split(struct peer *p)
{
	struct ugroup *g = p->ug, *s;
	struct ug_msg *m;
	uint64_t seq;

	s = ugroup_new(g->bgpd, &g->key);
	s->head = s->tail = p->ug_seq;
	for (seq = p->ug_seq; seq < g->tail; seq++) {
		m = *ugroup_slot(g, seq);
		m->refcnt++;
		ugroup_push(s, m);
	}
	s->tail_off = g->tail_off;
	outq_copy(s->q, g->q);
	s->fed = g->fed;
	ugroup_detach(p);
	ugroup_add_member(s, p);
	p->ug_seq = s->head;
	ugroup_trim(g);
	return s;
}

/* stream bytes p has yet to be sent */
static uint64_t
ugroup_lag(const struct ugroup *g, const struct peer *p)
{
	if (p->ug_seq >= g->tail)
		return 0;
	return g->tail_off - (*ugroup_slot(g, p->ug_seq))->off;
}

/* a run of adjacent bytes of one page, referred to by p's output buffer */
static void
ugroup_send_run(struct peer *p, struct ug_page *pg, size_t pos, size_t len)
{
	if (len == 0)
		return;
	pg->refcnt++;
	session_send_ref(p, pg->data + pos, len, ug_page_written, pg);
}

/*
 * As much of the stream as p's socket takes.  Consecutive messages on one
 * page go out as one reference, so a member's output buffer holds a few
 * references per flush, not one per message.
 */
static void
ugroup_write(struct ugroup *g, struct peer *p)
{
	const struct ug_msg *m;
	struct ug_page *run = NULL;
	size_t pos = 0, len = 0, out = session_output_len(p);
	uint64_t from = p->ug_seq;

	/* more once what it has is written (SESS_OUT_LOW) */
	if (out > 0)
		return;
	while (p->ug_seq < g->tail && out + len < SESS_OUT_HIGH) {
		m = *ugroup_slot(g, p->ug_seq++);
		if (m->src_id != 0 && m->src_id == p->src.id) {
			/* never a peer's own routes back to it */
			if (m->wd == NULL)
				continue;
			ugroup_send_run(p, run, pos, len);
			run = NULL;
			out += len + ibuf_size(m->wd);
			len = 0;
			session_send_copy(p, m->wd);
			continue;
		}
		if (run != m->page || pos + len != m->pos) {
			if (run != NULL)
				ugroup_send_run(p, run, pos, len);
			out += len;
			run = m->page;
			pos = m->pos;
			len = 0;
		}
		len += m->len;
		p->stats.msgs_out[MSG_UPDATE]++;
		p->stats.prefixes_out += m->nprefixes;
	}
	if (run != NULL)
		ugroup_send_run(p, run, pos, len);
	if (p->ug_seq != from)
		p->ug_skipped = session_output_len(p) == 0;
}

/*
 * g is drained: every member has everything.  Another group with the same
 * key whose queue is empty has encoded everything too, so its tail is
 * where g's members are: they join it there and g goes away.
 */
static void
ugroup_merge(struct ugroup *g)
{
	struct ugroup *h;
	struct peer *p;

	TAILQ_FOREACH(h, &g->bgpd->groups, entry)
	if (h != g && outq_len(h->q) == 0 && ugroup_key_equal(&h->key, &g->key))
		break;
	if (h == NULL)
		return;
	while ((p = TAILQ_FIRST(&g->members)) != NULL) {
		ugroup_detach(p);
		ugroup_add_member(h, p);
	}
	h->fed |= g->fed;
	ugroup_free(g);
}

/*
 * p's socket has room: write it what it has not had.  Encoding more,
 * trimming, lag checks, End-of-RIB and merges look at every member, so
 * they wait for the group's next flush (once per event loop round, not
 * once per member: with thousands of members that is the difference
 * between linear and quadratic).
 */
void
ugroup_member_ready(struct peer *p)
{
	ugroup_write(p->ug, p);
	p->ug->dirty = true;
}

/*
 * Write what members can take, encode more while some member is caught up
 * and has room, split off members too far behind, and once everything is
 * sent, finish members (End-of-RIB) and merge.  g may be freed.
 */
void
ugroup_flush(struct ugroup *g)
{
	struct peer *p, *np;
	unsigned int idle;
	bool ready;

	g->dirty = false;
	for (;;) {
		/*
		 * Encode more while a member has taken everything and wants
		 * more.  A member whose messages were all its own routes took
		 * nothing: it does not count, or a source would pace the
		 * stream ahead of every real receiver, unless everyone is
		 * idle.
		 */
		ready = false;
		idle = 0;
		TAILQ_FOREACH(p, &g->members, ug_entry)
		{
			ugroup_write(g, p);
			if (p->ug_seq != g->tail ||
			    session_output_len(p) > SESS_OUT_LOW)
				continue;
			idle++;
			if (!p->ug_skipped)
				ready = true;
		}
		if (idle == g->nmembers)
			ready = true;
		if (!ready || outq_len(g->q) == 0)
			break;
		export_encode(g);
	}
	for (p = TAILQ_FIRST(&g->members); p != NULL && g->nmembers > 1;
	     p = np) {
		np = TAILQ_NEXT(p, ug_entry);
		if (ugroup_lag(g, p) <= UG_LAG_MAX)
			continue;
		peer_log(p, LOG_LVL_INFO,
		    "%" PRIu64 " bytes behind its update group of %u: "
		    "continuing on its own",
		    ugroup_lag(g, p), g->nmembers);
		ugroup_split(p);
	}
	ugroup_trim(g);
	if (outq_len(g->q) > 0)
		return;
	TAILQ_FOREACH(p, &g->members, ug_entry)
	if (p->ug_seq == g->tail)
		export_member_done(p);
	if (g->head == g->tail)
		ugroup_merge(g);
}
