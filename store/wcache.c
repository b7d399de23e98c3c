/*
 * Watch cache (store/wcache.h): the key index, applying listings and watch
 * events with their callbacks, and the list/watch/re-list cycle on etcd.
 *
 * The cycle:
 *
 *	list every root prefix, paged, at one revision R
 *	  -> compare with the cache, call back, SYNCED
 *	  -> watch the common prefix from R + 1
 *	       compacted, canceled, down > relist_after, or etcd behind R
 *	         -> drop the watch, list again (same steps)
 *
 * A listing that fails is retried from scratch with a backoff; one whose
 * revision is compacted between pages starts over at once at the latest.
 *
 * Changes are collected as a batch (one etcd revision, or a whole listing's
 * difference), applied to the index, and only then called back, oldest
 * first; the entries they replaced are freed after the last callback.
 *
 * The index is a two-level sorted array: an array of chunks, each a sorted
 * array of up to CHUNK_MAX entry pointers, the chunks in key order.  Lookups
 * are two binary searches, an insert moves at most one chunk's pointers (a
 * full chunk splits in two, one under a quarter full merges), walks are
 * sequential.  With chunks three quarters full on average that is about 11
 * bytes per key, where a balanced tree would take 24 or more; a listing
 * (already in key order) is appended chunk by chunk.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/wcache.h"

#define CHUNK_MAX 256
#define CHUNK_LOW (CHUNK_MAX / 4) /* below this, merge with a neighbour */
#define LIST_PAGE 1000
#define RELIST_AFTER 30000 /* ms */
#define WATCH_IDLE (2 * 10 * 60 * 1000) /* twice etcd's progress interval */
#define BACKOFF_MIN 100 /* ms */
#define BACKOFF_MAX 5000
#define ERR_MAX 256

struct wprefix {
	char *p;
	size_t len;
	wcache_decode_fn *decode;
	wcache_release_fn *release;
	void *arg;
};

/* The public entry, then key, value and the hook's message, in one block. */
struct wentry {
	struct wcache_entry pub;
	struct wprefix *pfx;
	char data[];
};

struct chunk {
	size_t n;
	struct wentry *e[CHUNK_MAX];
};

struct wc_index {
	struct chunk **c;
	size_t nc;
	size_t cap;
	size_t n; /* entries */
};

/* A place in the index: c == nc is the end. */
struct pos {
	size_t c;
	size_t s;
};

struct change {
	enum wcache_event_type type;
	struct wentry *old;
	struct wentry *new;
};

struct wcache {
	struct etcd *e;
	struct event_base *base;
	struct wprefix **pfx;
	size_t npfx;
	struct wc_index idx;
	int64_t rev;
	int synced;
	int loaded; /* a listing was applied once: later ones are re-lists */
	int started;
	wcache_cb *cb;
	void *cbarg;
	int64_t page;
	int relist_after;
	int watch_idle;
	struct wcache_stats st;

	/* callbacks of the batch being delivered */
	struct change *chg;
	size_t nchg;
	size_t capchg;
	int in_cb;
	int dead; /* freed from a callback */

	/* listing: roots[root], from cursor, at list_rev (0: latest) */
	struct wprefix **roots; /* registered prefixes no other one covers */
	size_t nroots;
	size_t root;
	char *cursor;
	size_t cursor_len;
	int64_t list_rev;
	struct etcd_kv *acc;
	size_t nacc;
	size_t capacc;
	struct etcd_req *req;
	struct event *list_timer; /* (re)list, maybe after a backoff */
	int listing; /* a listing is scheduled or running */
	int backoff; /* ms */

	/* watch */
	struct etcd_watch *w;
	struct event *down_timer; /* long disconnect */
	int down; /* since a disconnect, no message has come */
	int up; /* the stream is created (and not broken since) */
};

static void list_start(evutil_socket_t, short, void *);
static void list_answer(
    struct etcd_result *, const struct etcd_error *, void *);
static void watch_cb(struct etcd_watch *, struct etcd_watch_update *, void *);
static void down_fired(evutil_socket_t, short, void *);
static void destroy(struct wcache *);

/* ---------------------------------------------------------------------
 * Keys: bytes in memcmp order, a shorter key before its extensions (etcd's
 * order).
 */

static int
key_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	if (c != 0)
		return c;
	return al < bl ? -1 : al > bl;
}

static int
has_prefix(const char *k, size_t kl, const char *p, size_t pl)
{
	return kl >= pl && memcmp(k, p, pl) == 0;
}

/* The longest registered prefix of key, or NULL. */
static struct wprefix *
prefix_of(const struct wcache *wc, const char *k, size_t kl)
{
	struct wprefix *best = NULL;
	size_t i;

	for (i = 0; i < wc->npfx; i++)
		if (has_prefix(k, kl, wc->pfx[i]->p, wc->pfx[i]->len) &&
		    (best == NULL || wc->pfx[i]->len > best->len))
			best = wc->pfx[i];
	return best;
}

/* ---------------------------------------------------------------------
 * The index.
 */

static struct wentry *
idx_at(const struct wc_index *x, struct pos p)
{
	return p.c < x->nc ? x->c[p.c]->e[p.s] : NULL;
}

static struct pos
idx_next(const struct wc_index *x, struct pos p)
{
	if (p.c < x->nc && ++p.s == x->c[p.c]->n) {
		p.c++;
		p.s = 0;
	}
	return p;
}

/* The first entry whose key is not below k (the end if none). */
static struct pos
idx_find(const struct wc_index *x, const char *k, size_t kl)
{
	struct pos p = {x->nc, 0};
	const struct wentry *e;
	size_t lo = 0, hi = x->nc, mid;
	const struct chunk *ch;

	/* the first chunk whose last key is not below k */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = x->c[mid]->e[x->c[mid]->n - 1];
		if (key_cmp(e->pub.key, e->pub.key_len, k, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == x->nc)
		return p;
	ch = x->c[lo];
	p.c = lo;
	lo = 0;
	hi = ch->n - 1; /* the last one is not below k */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = ch->e[mid];
		if (key_cmp(e->pub.key, e->pub.key_len, k, kl) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	p.s = lo;
	return p;
}

static struct wentry *
idx_get(const struct wc_index *x, const char *k, size_t kl, struct pos *pp)
{
	struct pos p = idx_find(x, k, kl);
	struct wentry *e = idx_at(x, p);

	*pp = p;
	if (e != NULL && key_cmp(e->pub.key, e->pub.key_len, k, kl) == 0)
		return e;
	return NULL;
}

/* Room for a chunk pointer at c. */
static struct chunk *
idx_chunk_new(struct wc_index *x, size_t c)
{
	struct chunk *ch;

	if (x->nc == x->cap) {
		x->cap = x->cap ? x->cap * 2 : 8;
		x->c = xreallocarray(x->c, x->cap, sizeof(*x->c));
	}
	memmove(&x->c[c + 1], &x->c[c], (x->nc - c) * sizeof(*x->c));
	ch = xmalloc(sizeof(*ch));
	ch->n = 0;
	x->c[c] = ch;
	x->nc++;
	return ch;
}

static void
idx_chunk_del(struct wc_index *x, size_t c)
{
	free(x->c[c]);
	memmove(&x->c[c], &x->c[c + 1], (x->nc - c - 1) * sizeof(*x->c));
	x->nc--;
}

/* Puts e at p, which idx_find gave for its key. */
static void
idx_insert(struct wc_index *x, struct pos p, struct wentry *e)
{
	struct chunk *ch, *hi;
	size_t half = CHUNK_MAX / 2;

	if (x->nc == 0) {
		idx_chunk_new(x, 0);
		p.c = p.s = 0;
	} else if (p.c == x->nc) {
		/* above every key: the end of the last chunk */
		p.c = x->nc - 1;
		p.s = x->c[p.c]->n;
	}
	ch = x->c[p.c];
	if (ch->n == CHUNK_MAX) {
		hi = idx_chunk_new(x, p.c + 1);
		memcpy(
		    hi->e, &ch->e[half], (CHUNK_MAX - half) * sizeof(*ch->e));
		hi->n = CHUNK_MAX - half;
		ch->n = half;
		if (p.s > half) {
			ch = hi;
			p.s -= half;
		}
	}
	memmove(&ch->e[p.s + 1], &ch->e[p.s], (ch->n - p.s) * sizeof(*ch->e));
	ch->e[p.s] = e;
	ch->n++;
	x->n++;
}

/* Merges chunk c into c - 1. */
static void
idx_merge(struct wc_index *x, size_t c)
{
	struct chunk *lo = x->c[c - 1], *hi = x->c[c];

	memcpy(&lo->e[lo->n], hi->e, hi->n * sizeof(*hi->e));
	lo->n += hi->n;
	idx_chunk_del(x, c);
}

static void
idx_remove(struct wc_index *x, struct pos p)
{
	struct chunk *ch = x->c[p.c];

	memmove(
	    &ch->e[p.s], &ch->e[p.s + 1], (ch->n - p.s - 1) * sizeof(*ch->e));
	ch->n--;
	x->n--;
	if (ch->n == 0) {
		idx_chunk_del(x, p.c);
		return;
	}
	/* keep chunks at least a quarter full, so memory follows the keys */
	if (ch->n >= CHUNK_LOW)
		return;
	if (p.c > 0 && x->c[p.c - 1]->n + ch->n <= CHUNK_MAX * 3 / 4)
		idx_merge(x, p.c);
	else if (p.c + 1 < x->nc &&
	    x->c[p.c + 1]->n + ch->n <= CHUNK_MAX * 3 / 4)
		idx_merge(x, p.c + 1);
}

/* Adds e after every key (a listing arrives in key order). */
static void
idx_append(struct wc_index *x, struct wentry *e)
{
	struct chunk *ch;

	if (x->nc == 0 || x->c[x->nc - 1]->n == CHUNK_MAX * 3 / 4)
		ch = idx_chunk_new(x, x->nc);
	else
		ch = x->c[x->nc - 1];
	ch->e[ch->n++] = e;
	x->n++;
}

/* Frees the chunks, not the entries. */
static void
idx_clear(struct wc_index *x)
{
	size_t i;

	for (i = 0; i < x->nc; i++)
		free(x->c[i]);
	free(x->c);
	memset(x, 0, sizeof(*x));
}

/* ---------------------------------------------------------------------
 * Entries.
 */

static struct wentry *
entry_new(struct wcache *wc, struct wprefix *pf, const struct etcd_kv *kv)
{
	struct wentry *e;
	const char *val = kv->value != NULL ? kv->value : "";
	size_t vl = kv->value != NULL ? kv->value_len : 0, el = 0;
	char err[ERR_MAX];
	void *obj = NULL;
	char *d;

	err[0] = '\0';
	if (pf->decode != NULL) {
		obj = pf->decode(kv->key, val, vl, err, sizeof(err), pf->arg);
		if (obj == NULL) {
			err[sizeof(err) - 1] = '\0';
			if (err[0] == '\0')
				snprintf(err, sizeof(err), "refused");
			el = strlen(err) + 1;
			wc->st.refused++;
			log_warnx("wcache: %s: %s", kv->key, err);
		}
	}
	e = xmalloc(sizeof(*e) + kv->key_len + 1 + vl + 1 + el);
	d = e->data;
	memcpy(d, kv->key, kv->key_len);
	d[kv->key_len] = '\0';
	e->pub.key = d;
	e->pub.key_len = kv->key_len;
	d += kv->key_len + 1;
	memcpy(d, val, vl);
	d[vl] = '\0';
	e->pub.value = d;
	e->pub.value_len = vl;
	d += vl + 1;
	e->pub.error = NULL;
	if (el > 0) {
		memcpy(d, err, el);
		e->pub.error = d;
	}
	e->pub.obj = obj;
	e->pub.prefix = pf->p;
	e->pub.create_revision = kv->create_revision;
	e->pub.mod_revision = kv->mod_revision;
	e->pub.version = kv->version;
	e->pub.lease = kv->lease;
	e->pfx = pf;
	return e;
}

static void
entry_free(struct wentry *e)
{
	if (e == NULL)
		return;
	if (e->pub.obj != NULL) {
		if (e->pfx->release != NULL)
			e->pfx->release(e->pub.obj, e->pfx->arg);
		else
			free(e->pub.obj);
	}
	free(e);
}

/* The listing holds the same thing: nothing to call back. */
static int
entry_same(
    const struct wentry *e, const struct wprefix *pf, const struct etcd_kv *kv)
{
	size_t vl = kv->value != NULL ? kv->value_len : 0;

	return e->pfx == pf && e->pub.mod_revision == kv->mod_revision &&
	    e->pub.create_revision == kv->create_revision &&
	    e->pub.value_len == vl &&
	    (vl == 0 || memcmp(e->pub.value, kv->value, vl) == 0);
}

/* ---------------------------------------------------------------------
 * Batches of changes and their callbacks.
 */

static void
change_add(struct wcache *wc, enum wcache_event_type type, struct wentry *old,
    struct wentry *new)
{
	if (wc->nchg == wc->capchg) {
		wc->capchg = wc->capchg ? wc->capchg * 2 : 16;
		wc->chg = xreallocarray(wc->chg, wc->capchg, sizeof(*wc->chg));
	}
	wc->chg[wc->nchg++] = (struct change){type, old, new};
}

static void
call(struct wcache *wc, const struct wcache_event *ev)
{
	if (wc->cb == NULL || wc->dead)
		return;
	wc->in_cb = 1;
	wc->cb(wc, ev, wc->cbarg);
	wc->in_cb = 0;
}

/*
 * Calls back for the batch, in order, then frees what it replaced.  The
 * index already holds the batch's result.  1 when a callback freed the
 * cache: the caller unwinds and destroys it.
 */
static int
flush(struct wcache *wc, int64_t rev, int relist)
{
	struct wcache_event ev;
	size_t i;

	for (i = 0; i < wc->nchg; i++) {
		ev = (struct wcache_event){
		    .type = wc->chg[i].type,
		    .revision = rev,
		    .old = wc->chg[i].old ? &wc->chg[i].old->pub : NULL,
		    .new = wc->chg[i].new ? &wc->chg[i].new->pub : NULL,
		    .relist = relist,
		};
		call(wc, &ev);
	}
	for (i = 0; i < wc->nchg; i++)
		entry_free(wc->chg[i].old);
	wc->nchg = 0;
	return wc->dead;
}

/* ---------------------------------------------------------------------
 * Applying watch events.
 */

/*
 * One event.  The watch never repeats one, but the cache does not rely on
 * it: an event below the cache's revision, or not newer than the key's
 * own mod_revision, is already in the cache (or was overtaken) and dropped.
 * All events of one revision come together, so one at exactly the cache's
 * revision is new only if its key has not seen that revision yet.
 */
static void
apply_event(struct wcache *wc, const struct etcd_event *ev)
{
	const struct etcd_kv *kv = &ev->kv;
	struct wprefix *pf;
	struct wentry *cur, *n;
	struct pos p;

	if (kv->key == NULL ||
	    (pf = prefix_of(wc, kv->key, kv->key_len)) == NULL) {
		wc->st.foreign++;
		return;
	}
	cur = idx_get(&wc->idx, kv->key, kv->key_len, &p);
	if (kv->mod_revision < wc->rev ||
	    (cur != NULL && cur->pub.mod_revision >= kv->mod_revision) ||
	    (cur == NULL && ev->type == ETCD_EV_DELETE)) {
		wc->st.stale++;
		return;
	}
	wc->st.applied++;
	if (ev->type == ETCD_EV_DELETE) {
		idx_remove(&wc->idx, p);
		change_add(wc, WCACHE_DELETE, cur, NULL);
		return;
	}
	n = entry_new(wc, pf, kv);
	if (cur != NULL) {
		wc->idx.c[p.c]->e[p.s] = n;
		change_add(wc, WCACHE_UPDATE, cur, n);
	} else {
		idx_insert(&wc->idx, p, n);
		change_add(wc, WCACHE_ADD, NULL, n);
	}
}

/* Events, one revision at a time; 1 when a callback freed the cache. */
static int
apply_update(struct wcache *wc, const struct etcd_watch_update *u)
{
	size_t i = 0, j;
	int64_t r;

	if (u->kind == ETCD_WATCH_PROGRESS) {
		if (u->revision > wc->rev)
			wc->rev = u->revision;
		return 0;
	}
	if (u->kind == ETCD_WATCH_COMPACTED || u->kind == ETCD_WATCH_CANCELED) {
		wc->synced = 0;
		return 0;
	}
	if (u->kind != ETCD_WATCH_EVENTS)
		return 0;
	while (i < u->nevents) {
		r = u->events[i].kv.mod_revision;
		for (j = i; j < u->nevents && u->events[j].kv.mod_revision == r;
		     j++)
			apply_event(wc, &u->events[j]);
		if (r > wc->rev)
			wc->rev = r;
		if (flush(wc, r, 0))
			return 1;
		i = j;
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Applying a listing: the difference with the cache.
 */

/* Key order, then mod_revision order. */
static int
kv_cmp(const struct etcd_kv *x, const struct etcd_kv *y)
{
	int c = key_cmp(x->key, x->key_len, y->key, y->key_len);

	if (c != 0)
		return c;
	return x->mod_revision < y->mod_revision
	    ? -1
	    : x->mod_revision > y->mod_revision;
}

static int
kvp_cmp(const void *a, const void *b)
{
	return kv_cmp(*(const struct etcd_kv *const *)a,
	    *(const struct etcd_kv *const *)b);
}

/*
 * Turns the cache into the listing kv[0..n) (at rev) and calls back the
 * difference, then SYNCED; 1 when a callback freed the cache.  The old
 * index is walked beside the listing, both in key order, and a new one
 * built by appending.
 */
static int
load(struct wcache *wc, const struct etcd_kv *const *kv, size_t n, int64_t rev)
{
	struct wc_index ni = {0};
	struct pos p = {0, 0};
	struct wentry *o, *e;
	struct wprefix *pf;
	struct wcache_event ev;
	size_t j = 0;
	int c, relist = wc->loaded;

	for (;;) {
		o = idx_at(&wc->idx, p);
		if (o == NULL && j == n)
			break;
		if (o == NULL)
			c = 1;
		else if (j == n)
			c = -1;
		else
			c = key_cmp(o->pub.key, o->pub.key_len, kv[j]->key,
			    kv[j]->key_len);
		if (c < 0) {
			/* gone from etcd */
			change_add(wc, WCACHE_DELETE, o, NULL);
			p = idx_next(&wc->idx, p);
			continue;
		}
		pf = prefix_of(wc, kv[j]->key, kv[j]->key_len);
		if (c == 0 && entry_same(o, pf, kv[j])) {
			idx_append(&ni, o);
		} else {
			e = entry_new(wc, pf, kv[j]);
			idx_append(&ni, e);
			change_add(wc, c == 0 ? WCACHE_UPDATE : WCACHE_ADD,
			    c == 0 ? o : NULL, e);
		}
		if (c == 0)
			p = idx_next(&wc->idx, p);
		j++;
	}
	idx_clear(&wc->idx);
	wc->idx = ni;
	if (wc->loaded && rev < wc->rev)
		log_warnx("wcache: etcd went back from revision %" PRId64
		          " to %" PRId64 " (restored from a backup?)",
		    wc->rev, rev);
	if (relist)
		log_info("wcache: re-listed at revision %" PRId64
		         ": %zu keys, %zu changed",
		    rev, ni.n, wc->nchg);
	wc->rev = rev;
	wc->synced = 1;
	wc->loaded = 1;
	wc->st.lists++;
	if (flush(wc, rev, relist))
		return 1;
	ev = (struct wcache_event){
	    .type = WCACHE_SYNCED,
	    .revision = rev,
	    .relist = relist,
	};
	call(wc, &ev);
	return wc->dead;
}

/*
 * The kvs of a listing under some prefix, in key order, one per key (the
 * highest mod_revision): what load() wants.  A listing from etcd is in
 * order already; one fed by hand may not be.
 */
static const struct etcd_kv **
load_prepare(
    const struct wcache *wc, const struct etcd_kv *kvs, size_t nkvs, size_t *np)
{
	const struct etcd_kv **v;
	size_t i, n = 0, k;
	int sorted = 1;

	v = xreallocarray(NULL, nkvs ? nkvs : 1, sizeof(*v));
	for (i = 0; i < nkvs; i++) {
		if (kvs[i].key == NULL ||
		    prefix_of(wc, kvs[i].key, kvs[i].key_len) == NULL)
			continue;
		if (n > 0 && kv_cmp(v[n - 1], &kvs[i]) >= 0)
			sorted = 0;
		v[n++] = &kvs[i];
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), kvp_cmp);
	for (i = k = 0; i < n; i++) {
		if (k > 0 &&
		    key_cmp(v[k - 1]->key, v[k - 1]->key_len, v[i]->key,
		        v[i]->key_len) == 0)
			k--;
		v[k++] = v[i];
	}
	*np = k;
	return v;
}

void
wcache_load(struct wcache *wc, const struct etcd_result *res)
{
	const struct etcd_kv **v;
	size_t n;
	int dead;

	if (wc->in_cb)
		fatalx("%s: called from a wcache callback", __func__);
	v = load_prepare(wc, res->kvs, res->nkvs, &n);
	dead = load(wc, v, n, res->revision);
	free(v);
	if (dead)
		destroy(wc);
}

void
wcache_apply(struct wcache *wc, const struct etcd_watch_update *u)
{
	if (wc->in_cb)
		fatalx("%s: called from a wcache callback", __func__);
	if (apply_update(wc, u))
		destroy(wc);
}

/* ---------------------------------------------------------------------
 * Listing on etcd.
 */

static void
acc_clear(struct wcache *wc)
{
	size_t i;

	for (i = 0; i < wc->nacc; i++)
		etcd_kv_clean(&wc->acc[i]);
	free(wc->acc);
	wc->acc = NULL;
	wc->nacc = wc->capacc = 0;
}

static int
root_cmp(const void *a, const void *b)
{
	const struct wprefix *x = *(struct wprefix *const *)a;
	const struct wprefix *y = *(struct wprefix *const *)b;

	return key_cmp(x->p, x->len, y->p, y->len);
}

/*
 * The prefixes to list: those no other registered prefix covers, in key
 * order, so their listings concatenate in key order.
 */
static void
roots_compute(struct wcache *wc)
{
	size_t i, j;

	free(wc->roots);
	wc->roots = xreallocarray(NULL, wc->npfx, sizeof(*wc->roots));
	wc->nroots = 0;
	for (i = 0; i < wc->npfx; i++) {
		for (j = 0; j < wc->npfx; j++)
			if (j != i &&
			    has_prefix(wc->pfx[i]->p, wc->pfx[i]->len,
			        wc->pfx[j]->p, wc->pfx[j]->len))
				break;
		if (j == wc->npfx)
			wc->roots[wc->nroots++] = wc->pfx[i];
	}
	qsort(wc->roots, wc->nroots, sizeof(*wc->roots), root_cmp);
}

static void
cursor_set(struct wcache *wc, const char *k, size_t kl, int after)
{
	free(wc->cursor);
	wc->cursor = xmalloc(kl + 1);
	memcpy(wc->cursor, k, kl);
	wc->cursor[kl] = '\0';
	wc->cursor_len = kl + (after ? 1 : 0); /* k + "\0": the next key */
}

/* The end of the range of keys starting with p: out has len bytes. */
static size_t
range_end(const char *p, size_t len, char *out)
{
	while (len > 0 && (unsigned char)p[len - 1] == 0xff)
		len--;
	if (len == 0) {
		out[0] = '\0'; /* "\0": every key from there on */
		return 1;
	}
	memcpy(out, p, len);
	out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
	return len;
}

/* The next page of roots[root], from cursor. */
static void
list_page(struct wcache *wc)
{
	const struct wprefix *r = wc->roots[wc->root];
	char *end = xmalloc(r->len + 1);
	struct etcd_op op = {
	    .key = wc->cursor,
	    .key_len = wc->cursor_len,
	    .range_end = end,
	    .limit = wc->page,
	    .revision = wc->list_rev,
	};

	op.range_end_len = range_end(r->p, r->len, end);
	if (op.key_len == 0)
		op.key_len = 1; /* "\0": the first key there can be */
	wc->req = etcd_range_async(wc->e, &op, list_answer, wc);
	free(end);
}

/* Lists from scratch after ms; the watch, if any, is dropped. */
static void
list_schedule(struct wcache *wc, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};

	if (wc->w != NULL) {
		etcd_watch_free(wc->w);
		wc->w = NULL;
	}
	if (wc->req != NULL) {
		etcd_req_cancel(wc->req);
		wc->req = NULL;
	}
	evtimer_del(wc->down_timer);
	wc->down = 0;
	wc->up = 0;
	wc->synced = 0;
	wc->listing = 1;
	evtimer_add(wc->list_timer, &tv);
}

static void
list_start(evutil_socket_t fd, short what, void *arg)
{
	struct wcache *wc = arg;

	acc_clear(wc);
	roots_compute(wc);
	if (wc->nroots == 0) {
		/* nothing registered: an empty listing of nothing */
		wc->listing = 0;
		return;
	}
	wc->root = 0;
	wc->list_rev = 0;
	cursor_set(wc, wc->roots[0]->p, wc->roots[0]->len, 0);
	list_page(wc);
}

static void
list_failed(struct wcache *wc, const struct etcd_error *err)
{
	wc->st.list_errors++;
	log_warnx("wcache: listing %s: %s (again in %d ms)",
	    wc->roots[wc->root]->p, err->msg, wc->backoff);
	list_schedule(wc, wc->backoff);
	wc->backoff =
	    wc->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : wc->backoff * 2;
}

static void
watch_start(struct wcache *wc)
{
	const struct wprefix *a = wc->roots[0], *b;
	size_t i, l = a->len;
	struct etcd_watch_req wr = {
	    .prefix = 1,
	    .start_revision = wc->rev + 1,
	    .progress_notify = 1,
	    .idle_timeout_ms = wc->watch_idle,
	};
	char *key;

	/* the longest common prefix of the roots */
	for (i = 1; i < wc->nroots; i++) {
		b = wc->roots[i];
		if (b->len < l)
			l = b->len;
		while (l > 0 && memcmp(a->p, b->p, l) != 0)
			l--;
	}
	key = xmalloc(l + 1);
	memcpy(key, a->p, l);
	key[l] = '\0';
	wr.key = key;
	wr.key_len = l;
	log_debug("wcache: watching \"%s\" from %" PRId64, key, wc->rev + 1);
	wc->w = etcd_watch_new(wc->e, &wr, watch_cb, wc);
	free(key);
}

static void
list_answer(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	struct wcache *wc = arg;
	const struct etcd_kv **v;
	struct etcd_error perr;
	size_t n;
	int dead;

	wc->req = NULL;
	if (err == NULL && res->more && res->nkvs == 0) {
		memset(&perr, 0, sizeof(perr));
		perr.kind = ETCD_E_PROTO;
		snprintf(perr.msg, sizeof(perr.msg),
		    "etcd %s: more keys follow an empty page",
		    etcd_endpoint(wc->e));
		err = &perr;
	}
	if (err != NULL && err->kind == ETCD_E_COMPACTED && wc->list_rev != 0) {
		/* compacted between pages: start over at the latest */
		log_info("wcache: %s", err->msg);
		list_start(-1, 0, wc);
		return;
	}
	if (err != NULL) {
		list_failed(wc, err);
		return;
	}
	if (wc->list_rev == 0)
		wc->list_rev = res->revision;
	if (wc->nacc + res->nkvs > wc->capacc) {
		wc->capacc = wc->nacc + res->nkvs + wc->capacc;
		wc->acc = xreallocarray(wc->acc, wc->capacc, sizeof(*wc->acc));
	}
	if (res->nkvs > 0)
		memcpy(&wc->acc[wc->nacc], res->kvs,
		    res->nkvs * sizeof(*res->kvs));
	wc->nacc += res->nkvs;
	free(res->kvs); /* the kvs' bytes are ours now */
	res->kvs = NULL;
	res->nkvs = 0;
	if (res->more) {
		cursor_set(wc, wc->acc[wc->nacc - 1].key,
		    wc->acc[wc->nacc - 1].key_len, 1);
		list_page(wc);
		return;
	}
	if (++wc->root < wc->nroots) {
		cursor_set(
		    wc, wc->roots[wc->root]->p, wc->roots[wc->root]->len, 0);
		list_page(wc);
		return;
	}

	/* every root listed at list_rev */
	wc->listing = 0;
	wc->backoff = BACKOFF_MIN;
	v = load_prepare(wc, wc->acc, wc->nacc, &n);
	dead = load(wc, v, n, wc->list_rev);
	free(v);
	acc_clear(wc);
	if (dead) {
		destroy(wc);
		return;
	}
	if (!wc->listing) /* a callback may have asked for a new listing */
		watch_start(wc);
}

/* ---------------------------------------------------------------------
 * The watch.
 */

static void
watch_cb(struct etcd_watch *w, struct etcd_watch_update *u, void *arg)
{
	struct wcache *wc = arg;
	struct timeval tv = {
	    .tv_sec = wc->relist_after / 1000,
	    .tv_usec = wc->relist_after % 1000 * 1000,
	};

	switch (u->kind) {
	case ETCD_WATCH_CREATED:
		/*
		 * Not the end of a disconnect yet: a stream that is created
		 * and breaks at once, again and again, is as good as down.
		 * The first message on it is.
		 */
		if (wc->down)
			log_info("wcache: watch back at revision %" PRId64,
			    u->revision);
		wc->up = 1;
		if (u->revision < wc->rev) {
			/*
			 * Restored from a backup, or a member behind the
			 * others: a (linearizable) listing is right in both
			 * cases, and never older than the cluster.
			 */
			log_warnx("wcache: etcd is at revision %" PRId64
			          ", below the cache's %" PRId64 ": re-listing",
			    u->revision, wc->rev);
			list_schedule(wc, 0);
		}
		break;
	case ETCD_WATCH_EVENTS:
	case ETCD_WATCH_PROGRESS:
		evtimer_del(wc->down_timer);
		wc->down = 0;
		if (apply_update(wc, u))
			destroy(wc);
		break;
	case ETCD_WATCH_DISCONNECTED:
		wc->up = 0;
		if (!wc->down) {
			log_info("wcache: %s", u->err->msg);
			wc->st.disconnects++;
			wc->down = 1;
			if (wc->relist_after > 0)
				evtimer_add(wc->down_timer, &tv);
		}
		break;
	case ETCD_WATCH_COMPACTED:
		log_info("wcache: %s (compacted at %" PRId64 "): re-listing",
		    u->err->msg, u->compact_revision);
		list_schedule(wc, 0);
		break;
	case ETCD_WATCH_CANCELED:
		log_warnx("wcache: %s: re-listing in %d ms", u->err->msg,
		    wc->backoff);
		list_schedule(wc, wc->backoff);
		wc->backoff = wc->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX
		                                            : wc->backoff * 2;
		break;
	}
}

/*
 * The stream has been down for relist_after: list when etcd answers.  If
 * it is up right now, created and quiet (nothing happened under the
 * prefixes), it has come back: no re-list.
 */
static void
down_fired(evutil_socket_t fd, short what, void *arg)
{
	struct wcache *wc = arg;

	if (wc->up) {
		wc->down = 0;
		return;
	}
	log_info("wcache: watch down for %d ms: re-listing", wc->relist_after);
	list_schedule(wc, 0);
}

/* ---------------------------------------------------------------------
 * The API.
 */

struct wcache *
wcache_new(struct etcd *e, struct event_base *base)
{
	struct wcache *wc;

	wc = xcalloc(1, sizeof(*wc));
	wc->e = e;
	wc->base = base;
	wc->page = LIST_PAGE;
	wc->relist_after = RELIST_AFTER;
	wc->watch_idle = WATCH_IDLE;
	wc->backoff = BACKOFF_MIN;
	if (e != NULL) {
		if (base == NULL)
			fatalx("%s: no event base", __func__);
		if ((wc->list_timer = evtimer_new(base, list_start, wc)) ==
		        NULL ||
		    (wc->down_timer = evtimer_new(base, down_fired, wc)) ==
		        NULL)
			fatalx("%s: evtimer_new", __func__);
	}
	return wc;
}

/* Stops talking to etcd. */
static void
quiesce(struct wcache *wc)
{
	if (wc->w != NULL) {
		etcd_watch_free(wc->w);
		wc->w = NULL;
	}
	if (wc->req != NULL) {
		etcd_req_cancel(wc->req);
		wc->req = NULL;
	}
	if (wc->list_timer != NULL)
		evtimer_del(wc->list_timer);
	if (wc->down_timer != NULL)
		evtimer_del(wc->down_timer);
}

static void
destroy(struct wcache *wc)
{
	struct pos p;
	size_t i;

	quiesce(wc);
	for (p.c = 0; p.c < wc->idx.nc; p.c++)
		for (p.s = 0; p.s < wc->idx.c[p.c]->n; p.s++)
			entry_free(wc->idx.c[p.c]->e[p.s]);
	idx_clear(&wc->idx);
	for (i = 0; i < wc->nchg; i++)
		entry_free(wc->chg[i].old);
	free(wc->chg);
	acc_clear(wc);
	free(wc->cursor);
	free(wc->roots);
	for (i = 0; i < wc->npfx; i++) {
		free(wc->pfx[i]->p);
		free(wc->pfx[i]);
	}
	free(wc->pfx);
	if (wc->list_timer != NULL)
		event_free(wc->list_timer);
	if (wc->down_timer != NULL)
		event_free(wc->down_timer);
	free(wc);
}

void
wcache_free(struct wcache *wc)
{
	if (wc == NULL)
		return;
	if (wc->in_cb) {
		/* the code that called back destroys it on the way out */
		quiesce(wc);
		wc->dead = 1;
		return;
	}
	destroy(wc);
}

int
wcache_watch_prefix(struct wcache *wc, const char *prefix,
    wcache_decode_fn *decode, wcache_release_fn *release, void *arg)
{
	struct wprefix *pf;
	size_t i, len = strlen(prefix);

	for (i = 0; i < wc->npfx; i++)
		if (key_cmp(wc->pfx[i]->p, wc->pfx[i]->len, prefix, len) == 0)
			return -1;
	pf = xcalloc(1, sizeof(*pf));
	pf->p = xstrdup(prefix);
	pf->len = len;
	pf->decode = decode;
	pf->release = release;
	pf->arg = arg;
	wc->pfx = xreallocarray(wc->pfx, wc->npfx + 1, sizeof(*wc->pfx));
	wc->pfx[wc->npfx++] = pf;
	if (wc->started && !wc->dead)
		list_schedule(wc, 0);
	return 0;
}

void
wcache_set_callback(struct wcache *wc, wcache_cb *cb, void *arg)
{
	wc->cb = cb;
	wc->cbarg = arg;
}

void
wcache_set_page_size(struct wcache *wc, int64_t n)
{
	wc->page = n > 0 ? n : LIST_PAGE;
}

void
wcache_set_relist_after(struct wcache *wc, int ms)
{
	wc->relist_after = ms > 0 ? ms : 0;
}

void
wcache_set_watch_idle(struct wcache *wc, int ms)
{
	wc->watch_idle = ms > 0 ? ms : 0;
}

void
wcache_start(struct wcache *wc)
{
	if (wc->e == NULL || wc->started)
		return;
	wc->started = 1;
	list_schedule(wc, 0);
}

int
wcache_synced(const struct wcache *wc)
{
	return wc->synced;
}

int64_t
wcache_revision(const struct wcache *wc)
{
	return wc->rev;
}

const struct wcache_entry *
wcache_get(const struct wcache *wc, const char *key)
{
	struct wentry *e;
	struct pos p;

	e = idx_get(&wc->idx, key, strlen(key), &p);
	return e != NULL ? &e->pub : NULL;
}

/* The entry the iterator is on, if it is under its prefix. */
static const struct wcache_entry *
iter_here(const struct wcache_iter *it)
{
	struct pos p = {it->chunk, it->slot};
	const struct wentry *e = idx_at(&it->wc->idx, p);

	if (e == NULL ||
	    !has_prefix(e->pub.key, e->pub.key_len, it->prefix, it->prefix_len))
		return NULL;
	return &e->pub;
}

const struct wcache_entry *
wcache_first(
    const struct wcache *wc, struct wcache_iter *it, const char *prefix)
{
	struct pos p;

	it->wc = wc;
	it->prefix = prefix != NULL ? prefix : "";
	it->prefix_len = strlen(it->prefix);
	p = idx_find(&wc->idx, it->prefix, it->prefix_len);
	it->chunk = p.c;
	it->slot = p.s;
	return iter_here(it);
}

const struct wcache_entry *
wcache_next(struct wcache_iter *it)
{
	struct pos p = {it->chunk, it->slot};

	p = idx_next(&it->wc->idx, p);
	it->chunk = p.c;
	it->slot = p.s;
	return iter_here(it);
}

size_t
wcache_count(const struct wcache *wc, const char *prefix)
{
	struct wcache_iter it;
	const struct wcache_entry *e;
	size_t n = 0;

	if (prefix == NULL || *prefix == '\0')
		return wc->idx.n;
	for (e = wcache_first(wc, &it, prefix); e != NULL; e = wcache_next(&it))
		n++;
	return n;
}

void
wcache_stats(const struct wcache *wc, struct wcache_stats *st)
{
	*st = wc->st;
	st->keys = wc->idx.n;
	st->watch_up = wc->up;
}
