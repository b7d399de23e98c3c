/*
 * A queue of pending outbound changes: which (prefix, ADD-PATH id) pairs
 * must be looked at again, oldest first.  The prefix is kept by value (its
 * RIB entry may be gone when the queue is drained) with whether the peers
 * had been sent a route for it before the first queued change.  Changes to
 * one pair coalesce into one item, so a queue never holds more items than
 * the RIB has paths: a peer that cannot keep up costs bounded memory.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/xmalloc.h"
#include "bgp/ugroup.h"

struct out_item {
	TAILQ_ENTRY(out_item) entry;
	struct out_item *hnext;
	struct prefix prefix;
	uint32_t tx_id; /* ADD-PATH path id, 0 for the best path */
	bool was_adv; /* the peers had a route for this before */
};

struct out_queue {
	TAILQ_HEAD(, out_item) fifo;
	struct out_item **buckets;
	size_t nbuckets;
	size_t count;
};

struct out_queue *
outq_new(void)
{
	struct out_queue *q = xcalloc(1, sizeof(*q));

	TAILQ_INIT(&q->fifo);
	q->nbuckets = 64;
	q->buckets = xcalloc(q->nbuckets, sizeof(*q->buckets));
	return q;
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
}

void
outq_free(struct out_queue *q)
{
	if (q == NULL)
		return;
	outq_clear(q);
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

void
outq_add(
    struct out_queue *q, const struct prefix *p, uint32_t tx_id, bool was_adv)
{
	uint32_t h = outq_hash(p, tx_id) & (q->nbuckets - 1);
	struct out_item *it;

	for (it = q->buckets[h]; it != NULL; it = it->hnext)
		if (it->tx_id == tx_id && prefix_cmp(&it->prefix, p) == 0)
			return; /* keeps the oldest was_adv: the peers' view */
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

/* takes the oldest item; false when the queue is empty */
bool
outq_pop(struct out_queue *q, struct prefix *p, uint32_t *tx_id, bool *was_adv)
{
	struct out_item *it, **pp;
	uint32_t h;

	if ((it = TAILQ_FIRST(&q->fifo)) == NULL)
		return false;
	h = outq_hash(&it->prefix, it->tx_id) & (q->nbuckets - 1);
	for (pp = &q->buckets[h]; *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == it) {
			*pp = it->hnext;
			break;
		}
	}
	TAILQ_REMOVE(&q->fifo, it, entry);
	q->count--;
	*p = it->prefix;
	*tx_id = it->tx_id;
	*was_adv = it->was_adv;
	free(it);
	return true;
}

/* dst gets every item of src it does not have, in src's order */
void
outq_copy(struct out_queue *dst, const struct out_queue *src)
{
	const struct out_item *it;

	TAILQ_FOREACH(it, &src->fifo, entry)
	outq_add(dst, &it->prefix, it->tx_id, it->was_adv);
}
