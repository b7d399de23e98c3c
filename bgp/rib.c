/*
 * The RIB: one crit-bit (PATRICIA) tree per address family whose leaves are
 * the entries, each entry holding every source's paths best first (RFC 4271
 * §3.2: the Adj-RIBs-In share the entries, the head of the list is the
 * Loc-RIB route; RFC 4724 §4.2 stale paths; RFC 7911 path identifiers).
 *
 * The tree key of a prefix is its 128 address bits (IPv4 zero-padded)
 * followed by its 8 length bits, so 10.0.0.0/8 and 10.0.0.0/24 are distinct
 * keys and every prefix is a leaf: internal nodes are bare 24-byte branch
 * points (n entries need exactly n - 1), entries carry no child pointers,
 * and the in-order walk visits prefixes by address, then length.  The header
 * asks only for exact match and ordered walks; a classic prefix trie (nested
 * prefixes as ancestors, entries embedded in the nodes) would cost ~16 more
 * bytes per prefix for longest-match lookups nobody needs here.
 *
 * The walk from the root is a chain of dependent cache misses, so the top
 * SLOT_BITS address bits index an array of subtrees (PATRICIA under a
 * 2^16-way first level): 1M random IPv4 prefixes sit ~15 to a slot, a few
 * misses deep.  The 512 KiB slot array per family is calloc'd, so a small
 * table touches few of its pages, and a bitmap of the non-empty slots keeps
 * walks of small tables quick.
 *
 * A child is a tagged word: an entry pointer, or a node pointer with the low
 * bit set (pool objects are pointer-aligned, so the bit is free).
 *
 * Nodes, entries and paths come from per-rib fixed-size pools: no malloc
 * header or rounding per object, and rib_free releases them in bulk.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/rib.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define RIB_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RIB_ASAN 1
#endif
#endif

#ifdef RIB_ASAN
/* pooled objects stay poisoned while free, so ASan still sees misuse */
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define POOL_CHUNK (64 * 1024 - 64) /* stay under the mmap threshold */
#define POOL_HDR 16 /* chunk header, keeps objects aligned */

struct pool_chunk {
	struct pool_chunk *next;
};

struct pool {
	size_t size; /* object size */
	void *free; /* freed objects, linked through their first word */
	char *cur; /* uncarved rest of the newest chunk */
	char *end;
	struct pool_chunk *chunks;
	size_t nchunks;
	size_t live;
};

#define KEY_BITS 136 /* 128 address bits, then 8 length bits */
#define SLOT_BITS 16
#define NSLOTS (1 << SLOT_BITS)
#define CHILD_NODE 0x1 /* tag: the child is a struct rib_node */

struct rib_node {
	uintptr_t child[2];
	uint8_t bit; /* first key bit in which the two subtrees differ */
};

struct rib_tree {
	uintptr_t *slots; /* subtrees by the top SLOT_BITS address bits */
	uint64_t *used; /* bitmap of non-empty slots */
	size_t count;
};

struct rib {
	struct rib_tree trees[AID_MAX];
	struct pool nodes;
	struct pool entries;
	struct pool paths;
	rib_change_cb cb;
	void *arg;
};

static void pool_init(struct pool *, size_t);
static void *pool_get(struct pool *);
static void pool_put(struct pool *, void *);
static void pool_clean(struct pool *);
static int rib_key(const struct prefix *, struct prefix *, enum aid *);
static struct rib_entry *rib_entry_get(
    struct rib *, enum aid, const struct prefix *, bool);
static void rib_entry_remove(struct rib *, struct rib_entry *);
static struct rib_path *rib_path_find(
    struct rib_entry *, struct rib_src *, uint32_t);
static void rib_path_link(struct rib_entry *, struct rib_path *);
static void rib_path_unlink(struct rib_entry *, struct rib_path *);
static int rib_path_remove(struct rib *, struct rib_path *);
static void rib_walk_child(uintptr_t, rib_walk_cb, void *);
static void rib_unref_entry(struct rib_entry *, void *);

static void
pool_init(struct pool *pl, size_t size)
{
	memset(pl, 0, sizeof(*pl));
	/* objects hold pointers; round up so each stays aligned */
	pl->size = (size + sizeof(void *) - 1) & ~(sizeof(void *) - 1);
}

static void *
pool_get(struct pool *pl)
{
	struct pool_chunk *c;
	void *p;

	if ((p = pl->free) != NULL) {
		POOL_UNPOISON(p, pl->size);
		memcpy(&pl->free, p, sizeof(void *));
	} else {
		if (pl->cur == NULL || (size_t)(pl->end - pl->cur) < pl->size) {
			c = xmalloc(POOL_CHUNK);
			c->next = pl->chunks;
			pl->chunks = c;
			pl->nchunks++;
			pl->cur = (char *)c + POOL_HDR;
			pl->end = (char *)c + POOL_CHUNK;
			POOL_POISON(pl->cur, pl->end - pl->cur);
		}
		p = pl->cur;
		pl->cur += pl->size;
		POOL_UNPOISON(p, pl->size);
	}
	pl->live++;
	return p;
}

static void
pool_put(struct pool *pl, void *p)
{
	if (pl->live == 0)
		fatalx("%s: pool underflow", __func__);
	pl->live--;
	memcpy(p, &pl->free, sizeof(void *));
	pl->free = p;
	POOL_POISON(p, pl->size);
}

static void
pool_clean(struct pool *pl)
{
	struct pool_chunk *c;

	while ((c = pl->chunks) != NULL) {
		pl->chunks = c->next;
		POOL_UNPOISON(c, POOL_CHUNK);
		free(c);
	}
	memset(pl, 0, sizeof(*pl));
}

/*
 * Copies a prefix into key form: family and address bytes, host bits and
 * everything else zeroed, so keys compare with memcmp and IPv4 addresses
 * never differ in bits 32..127.
 */
static int
rib_key(const struct prefix *in, struct prefix *k, enum aid *aid)
{
	int family = in->a.family;

	if ((family != AF_INET && family != AF_INET6) ||
	    in->len > addr_maxlen(family))
		return -1;
	memset(k, 0, sizeof(*k));
	k->a.family = family;
	memcpy(k->a.b, in->a.b, addr_bytes(family));
	k->len = in->len;
	prefix_mask(k);
	*aid = aid_from_family(family);
	return 0;
}

static inline int
key_bit(const struct prefix *k, unsigned int bit)
{
	if (bit < 128)
		return (k->a.b[bit >> 3] >> (7 - (bit & 7))) & 1;
	return (k->len >> (KEY_BITS - 1 - bit)) & 1;
}

static inline unsigned int
key_slot(const struct prefix *k)
{
	return (unsigned int)k->a.b[0] << 8 | k->a.b[1];
}

static inline struct rib_node *
child_node(uintptr_t c)
{
	return (struct rib_node *)(c & ~(uintptr_t)CHILD_NODE);
}

/* first bit where two keys differ, -1 if they are equal */
static inline int
key_crit(const struct prefix *a, const struct prefix *b)
{
	uint64_t x, y;
	int i;

	for (i = 0; i < 16; i += 8) {
		memcpy(&x, a->a.b + i, sizeof(x));
		memcpy(&y, b->a.b + i, sizeof(y));
		if ((x = be64toh(x ^ y)) != 0)
			return i * 8 + __builtin_clzll(x);
	}
	if (a->len != b->len)
		return 128 + __builtin_clz((unsigned int)(a->len ^ b->len)) -
		    (int)(sizeof(unsigned int) * 8 - 8);
	return -1;
}

/*
 * Finds the entry for key k; with create, inserts an empty one if missing.
 * Crit-bit insertion: descend to the closest leaf, find the first bit where
 * it differs from k, then put a branch on that bit above the first node that
 * branches on a later bit.
 */
static struct rib_entry *
rib_entry_get(
    struct rib *rib, enum aid aid, const struct prefix *k, bool create)
{
	struct rib_tree *t = &rib->trees[aid];
	unsigned int slot = key_slot(k);
	uintptr_t *ref = &t->slots[slot], c = *ref;
	struct rib_node *n;
	struct rib_entry *e;
	int crit = -1, dir;

	if (c != 0) {
		while (c & CHILD_NODE) {
			n = child_node(c);
			c = n->child[key_bit(k, n->bit)];
		}
		e = (struct rib_entry *)c;
		if ((crit = key_crit(k, &e->prefix)) == -1)
			return e;
	}
	if (!create)
		return NULL;

	e = pool_get(&rib->entries);
	e->prefix = *k;
	e->paths = NULL;
	t->count++;
	if (*ref == 0) {
		*ref = (uintptr_t)e;
		t->used[slot / 64] |= 1ULL << (slot % 64);
		return e;
	}
	while ((*ref & CHILD_NODE) && child_node(*ref)->bit < crit) {
		n = child_node(*ref);
		ref = &n->child[key_bit(k, n->bit)];
	}
	dir = key_bit(k, crit);
	n = pool_get(&rib->nodes);
	n->bit = crit;
	n->child[dir] = (uintptr_t)e;
	n->child[!dir] = *ref;
	*ref = (uintptr_t)n | CHILD_NODE;
	return e;
}

/* unhooks an entry from its tree and frees it; its parent branch goes too */
static void
rib_entry_remove(struct rib *rib, struct rib_entry *e)
{
	struct rib_tree *t = &rib->trees[aid_from_family(e->prefix.a.family)];
	unsigned int slot = key_slot(&e->prefix);
	uintptr_t *ref = &t->slots[slot], *pref = NULL;
	struct rib_node *n;
	int dir = 0;

	while (*ref & CHILD_NODE) {
		pref = ref;
		n = child_node(*ref);
		dir = key_bit(&e->prefix, n->bit);
		ref = &n->child[dir];
	}
	if (*ref != (uintptr_t)e)
		fatalx("%s: entry not in tree", __func__);
	if (pref == NULL) {
		*ref = 0;
		t->used[slot / 64] &= ~(1ULL << (slot % 64));
	} else {
		/* the parent branched between e and its sibling, which now
		 * takes the parent's place */
		n = child_node(*pref);
		*pref = n->child[!dir];
		pool_put(&rib->nodes, n);
	}
	t->count--;
	pool_put(&rib->entries, e);
}

static struct rib_path *
rib_path_find(struct rib_entry *e, struct rib_src *src, uint32_t path_id)
{
	struct rib_path *p;

	for (p = e->paths; p != NULL; p = p->next)
		if (p->src == src && p->path_id == path_id)
			return p;
	return NULL;
}

/*
 * Sorted insert: p goes before the first path it beats.  path_cmp is not
 * transitive (MED only counts between paths from the same neighbour AS,
 * RFC 4271 §9.1.2.2 c), so like OpenBGPD before 7.0 the list is ordered by
 * these pairwise comparisons as paths arrive; with mixed neighbour ASes and
 * MEDs the winner can depend on arrival order.  Every other step is a total
 * order, and the list is exact whenever MED does not decide.
 */
static void
rib_path_link(struct rib_entry *e, struct rib_path *p)
{
	struct rib_path **pp;

	for (pp = &e->paths; *pp != NULL; pp = &(*pp)->next)
		if (path_cmp(p, *pp) < 0)
			break;
	p->next = *pp;
	*pp = p;
}

static void
rib_path_unlink(struct rib_entry *e, struct rib_path *p)
{
	struct rib_path **pp;

	for (pp = &e->paths; *pp != p; pp = &(*pp)->next)
		if (*pp == NULL)
			fatalx("%s: path not in entry", __func__);
	*pp = p->next;
	p->next = NULL;
}

/* drops a path from its entry and source, reports it, then frees it */
static int
rib_path_remove(struct rib *rib, struct rib_path *p)
{
	struct rib_entry *e = p->entry;
	struct rib_src *src = p->src;
	struct rib_path *old_best = e->paths;
	int changed;

	rib_path_unlink(e, p);
	changed = e->paths != old_best;
	TAILQ_REMOVE(&src->paths, p, src_entry);
	src->npaths--;
	if (p->flags & PATH_STALE)
		src->nstale--;
	if (rib->cb != NULL)
		rib->cb(e, old_best, p, RIB_DELETE, rib->arg);
	attr_unref(p->attrs);
	pool_put(&rib->paths, p);
	if (e->paths == NULL)
		rib_entry_remove(rib, e);
	return changed;
}

struct rib *
rib_new(rib_change_cb cb, void *arg)
{
	struct rib *rib;
	int aid;

	rib = xcalloc(1, sizeof(*rib));
	for (aid = 0; aid < AID_MAX; aid++) {
		rib->trees[aid].slots = xcalloc(NSLOTS, sizeof(uintptr_t));
		rib->trees[aid].used = xcalloc(NSLOTS / 64, sizeof(uint64_t));
	}
	pool_init(&rib->nodes, sizeof(struct rib_node));
	pool_init(&rib->entries, sizeof(struct rib_entry));
	pool_init(&rib->paths, sizeof(struct rib_path));
	rib->cb = cb;
	rib->arg = arg;
	return rib;
}

static void
rib_unref_entry(struct rib_entry *e, void *arg)
{
	struct rib_path *p;

	for (p = e->paths; p != NULL; p = p->next)
		attr_unref(p->attrs);
}

/*
 * Frees the rib and drops its attribute references (so free it before the
 * attribute table).  No hook is called and sources are not touched: they
 * may be gone already, and their path lists are stale after this.
 */
void
rib_free(struct rib *rib)
{
	int aid;

	if (rib == NULL)
		return;
	for (aid = 0; aid < AID_MAX; aid++)
		rib_walk(rib, aid, rib_unref_entry, NULL);
	pool_clean(&rib->nodes);
	pool_clean(&rib->entries);
	pool_clean(&rib->paths);
	for (aid = 0; aid < AID_MAX; aid++) {
		free(rib->trees[aid].slots);
		free(rib->trees[aid].used);
	}
	free(rib);
}

void
rib_src_init(struct rib_src *src, uint32_t id)
{
	memset(src, 0, sizeof(*src));
	src->id = id;
	TAILQ_INIT(&src->paths);
}

/*
 * Adds or replaces the path (src, path_id) of a prefix.  Returns 1 if the
 * entry's best route changed (another path is best, or the best path got
 * new attributes), 0 if not (including an update with the attributes the
 * path already has, which only clears its stale flag and calls no hook),
 * -1 for a prefix that is not IPv4/IPv6 or too long.
 */
int
rib_update(struct rib *rib, struct rib_src *src, const struct prefix *pfx,
    uint32_t path_id, struct attrs *attrs)
{
	struct prefix k;
	struct rib_entry *e;
	struct rib_path *p, *old_best;
	struct attrs *old = NULL;
	enum rib_change what;
	enum aid aid;

	if (attrs == NULL)
		fatalx("%s: no attributes", __func__);
	if (rib_key(pfx, &k, &aid) == -1)
		return -1;
	e = rib_entry_get(rib, aid, &k, true);
	old_best = e->paths;

	if ((p = rib_path_find(e, src, path_id)) != NULL) {
		/* RFC 4724 §4.2: a re-announced route is no longer stale */
		if (p->flags & PATH_STALE) {
			p->flags &= ~PATH_STALE;
			src->nstale--;
		}
		if (p->attrs == attrs)
			return 0;
		old = p->attrs;
		p->attrs = attr_ref(attrs);
		rib_path_unlink(e, p);
		rib_path_link(e, p);
		what = RIB_REPLACE;
	} else {
		p = pool_get(&rib->paths);
		/* fields the rib does not own (the exporter's tx_id) start 0 */
		memset(p, 0, sizeof(*p));
		p->entry = e;
		p->src = src;
		p->attrs = attr_ref(attrs);
		p->path_id = path_id;
		TAILQ_INSERT_TAIL(&src->paths, p, src_entry);
		src->npaths++;
		rib_path_link(e, p);
		what = RIB_ADD;
	}

	if (rib->cb != NULL)
		rib->cb(e, old_best, p, what, rib->arg);
	/* the old set outlives the hook, in case the hook still points at it */
	if (old != NULL)
		attr_unref(old);
	return e->paths != old_best || (e->paths == p && what == RIB_REPLACE);
}

/*
 * Withdraws the path (src, path_id).  Returns 1 if the best route changed
 * (the path was best), 0 if not, -1 if there was no such path.
 */
int
rib_withdraw(struct rib *rib, struct rib_src *src, const struct prefix *pfx,
    uint32_t path_id)
{
	struct prefix k;
	struct rib_entry *e;
	struct rib_path *p;
	enum aid aid;

	if (rib_key(pfx, &k, &aid) == -1)
		return -1;
	if ((e = rib_entry_get(rib, aid, &k, false)) == NULL)
		return -1;
	if ((p = rib_path_find(e, src, path_id)) == NULL)
		return -1;
	return rib_path_remove(rib, p);
}

/* the source went away: every path it gave us goes, one hook call each */
void
rib_flush_src(struct rib *rib, struct rib_src *src)
{
	struct rib_path *p;

	while ((p = TAILQ_FIRST(&src->paths)) != NULL)
		rib_path_remove(rib, p);
}

/* RFC 4724 §4.2: the peer restarted; keep its routes, marked stale */
void
rib_mark_stale(struct rib *rib, struct rib_src *src, int aid)
{
	struct rib_path *p;

	TAILQ_FOREACH(p, &src->paths, src_entry)
	{
		if (p->flags & PATH_STALE)
			continue;
		if (aid != -1 &&
		    (int)aid_from_family(p->entry->prefix.a.family) != aid)
			continue;
		p->flags |= PATH_STALE;
		src->nstale++;
	}
}

/*
 * RFC 4724 §4.2: End-of-RIB (or the stale timer) for family aid, -1 for all
 * families; the source's paths still stale are deleted.
 */
void
rib_flush_stale(struct rib *rib, struct rib_src *src, int aid)
{
	struct rib_path *p, *np;

	for (p = TAILQ_FIRST(&src->paths); p != NULL && src->nstale > 0;
	     p = np) {
		/* hooks may not change the rib, so np survives the removal */
		np = TAILQ_NEXT(p, src_entry);
		if (!(p->flags & PATH_STALE))
			continue;
		if (aid != -1 &&
		    (int)aid_from_family(p->entry->prefix.a.family) != aid)
			continue;
		rib_path_remove(rib, p);
	}
}

struct rib_entry *
rib_lookup(struct rib *rib, const struct prefix *pfx)
{
	struct prefix k;
	enum aid aid;

	if (rib_key(pfx, &k, &aid) == -1)
		return NULL;
	return rib_entry_get(rib, aid, &k, false);
}

/* number of entries (prefixes) of a family */
size_t
rib_count(const struct rib *rib, enum aid aid)
{
	if ((unsigned int)aid >= AID_MAX)
		return 0;
	return rib->trees[aid].count;
}

/* in order: child 0 holds the smaller keys; depth is at most KEY_BITS */
static void
rib_walk_child(uintptr_t c, rib_walk_cb cb, void *arg)
{
	struct rib_node *n;

	while (c & CHILD_NODE) {
		n = child_node(c);
		rib_walk_child(n->child[0], cb, arg);
		c = n->child[1];
	}
	cb((struct rib_entry *)c, arg);
}

void
rib_walk(struct rib *rib, enum aid aid, rib_walk_cb cb, void *arg)
{
	struct rib_tree *t;
	uint64_t w;
	size_t i;

	if ((unsigned int)aid >= AID_MAX)
		return;
	t = &rib->trees[aid];
	for (i = 0; i < NSLOTS / 64 && t->count > 0; i++) {
		for (w = t->used[i]; w != 0; w &= w - 1)
			rib_walk_child(
			    t->slots[i * 64 + __builtin_ctzll(w)], cb, arg);
	}
}

void
rib_stats_get(const struct rib *rib, struct rib_stats *st)
{
	int aid;

	memset(st, 0, sizeof(*st));
	for (aid = 0; aid < AID_MAX; aid++)
		st->entries[aid] = rib->trees[aid].count;
	st->paths = rib->paths.live;
	st->nodes = rib->nodes.live;
	st->bytes = sizeof(*rib) +
	    AID_MAX * (NSLOTS * sizeof(uintptr_t) + NSLOTS / 8) +
	    POOL_CHUNK *
	        (rib->nodes.nchunks + rib->entries.nchunks +
	            rib->paths.nchunks);
}
