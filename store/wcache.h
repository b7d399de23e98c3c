/*
 * Watch cache: a daemon's live copy of the etcd keys under a few prefixes,
 * kept current by a watch, with a callback for every change.
 *
 *	wc = wcache_new(etcd, base);
 *	wcache_watch_prefix(wc, "/calico/resources/v3/projectcalico.org/nodes/",
 *	    node_decode, node_release, NULL);
 *	wcache_watch_prefix(wc, "/calico/ipam/v2/host-affinity/", ...);
 *	wcache_set_callback(wc, changed, daemon);
 *	wcache_start(wc);
 *
 * How it stays exact:
 *  - Every prefix is listed (paged) at one revision R, so the first view is
 *    a snapshot of etcd at R, then ADD for each key and SYNCED.
 *  - One watch, on the longest common prefix of the registered ones, runs
 *    from R + 1; events for keys outside every prefix are dropped.  One
 *    stream means one revision order: callbacks come in etcd's revision
 *    order across all prefixes, and wcache_revision() is one number that
 *    means "the cache equals etcd at this revision".  The price is the
 *    traffic of the keys in between (watch nodes/ and ippools/ and you also
 *    receive, and drop, workloadendpoints/ events); a daemon that wants two
 *    far-apart trees without that traffic makes two caches, each its own
 *    consistent view.
 *  - The watch resumes by itself after a broken stream (store/etcd.h), and
 *    the cache drops any event older than what it holds, so nothing is
 *    applied twice.  When the resume point has been compacted, when the
 *    watch cannot get past a revision, when the stream stays down (or
 *    keeps breaking before its first message) longer than relist_after,
 *    or when etcd comes back
 *    with a revision below ours (restored from a backup), the cache lists
 *    every prefix again and compares: a key that vanished gets DELETE, a new
 *    one ADD, one whose mod_revision or bytes differ UPDATE (several writes
 *    in the gap collapse into one), an untouched one nothing; then SYNCED.
 *    Live, every put is an ADD or UPDATE, even one that rewrote the same
 *    bytes: old and new are both there for the callback to compare.
 *  - All events of one etcd revision (a txn) are applied before the first
 *    of their callbacks runs, and a re-list's whole difference before its
 *    first; a callback always sees the cache at a revision etcd really had.
 *
 * Values are kept as bytes (with a NUL after them) and, when the prefix has
 * a decode hook, as the object it made.  A hook may refuse a value with a
 * message: the key is still cached (the cache mirrors etcd) with obj NULL
 * and error set, and the refusal is logged.  For a key under several
 * registered prefixes the longest one's hook applies.
 *
 * Keys are held in key order (a two-level sorted array), for lookups in
 * O(log n) and walks over a prefix in key order; the index costs about 11
 * bytes a key beyond the entries themselves.
 *
 * A cache made with etcd NULL is detached: nothing is listed or watched, and
 * the owner feeds it with wcache_load() and wcache_apply(); tests and
 * one-shot tools (a blocking etcd_list) use it that way.
 *
 * Callbacks run from the event loop.  They may read the cache, and may call
 * wcache_free(); wcache_watch_prefix() from a callback takes effect by a
 * re-list after the callback returns.  Entries handed to a callback (old
 * ones included) stay valid until it returns; an entry from wcache_get()
 * stays valid until the event loop runs again.
 */
#ifndef PODMESH_STORE_WCACHE_H
#define PODMESH_STORE_WCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "store/etcd.h"

struct wcache;

/* One cached key; read only. */
struct wcache_entry {
	const char *key; /* bytes, NUL after them */
	size_t key_len;
	const char *value; /* bytes, NUL after them; "" when empty */
	size_t value_len;
	void *obj; /* the decode hook's object; NULL without one or refused */
	const char *error; /* the hook's message when it refused, else NULL */
	const char *prefix; /* the registered prefix it falls under */
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

enum wcache_event_type {
	WCACHE_ADD, /* new: the key */
	WCACHE_UPDATE, /* old and new */
	WCACHE_DELETE, /* old: what was there */
	WCACHE_SYNCED, /* the initial list or a re-list is done */
};

struct wcache_event {
	enum wcache_event_type type;
	/*
	 * The etcd revision of the change; after a list or re-list (and for
	 * SYNCED), the revision the cache now equals.
	 */
	int64_t revision;
	const struct wcache_entry *old;
	const struct wcache_entry *new;
	int relist; /* found by comparing a (re-)listing with the cache */
};

typedef void wcache_cb(struct wcache *, const struct wcache_event *, void *);

/*
 * Turns a value into an object, or returns NULL with a message in err
 * (errlen bytes, NUL terminated; left empty, "refused" is said).  key and
 * value have a NUL after them.  arg is the one given with the prefix.
 */
typedef void *wcache_decode_fn(const char *key, const char *value,
    size_t value_len, char *err, size_t errlen, void *arg);
/* Frees an object decode made; NULL: free(3). */
typedef void wcache_release_fn(void *obj, void *arg);

/* etcd NULL: a detached cache (no base needed either). */
struct wcache *wcache_new(struct etcd *, struct event_base *);
/* Releases every object; the struct etcd is the caller's. */
void wcache_free(struct wcache *);

/*
 * Caches every key under prefix ("" is every key).  decode and release may
 * be NULL.  -1 if the prefix is already registered.  Registering after
 * wcache_start() re-lists everything (the new keys arrive as ADD).
 */
int wcache_watch_prefix(struct wcache *, const char *, wcache_decode_fn *,
    wcache_release_fn *, void *);
void wcache_set_callback(struct wcache *, wcache_cb *, void *);
/* Keys per range request while listing; default 1000. */
void wcache_set_page_size(struct wcache *, int64_t);
/*
 * A watch stream down this long (ms) is given up for a re-list when etcd
 * answers again; 0 never.  Default 30000.
 */
void wcache_set_relist_after(struct wcache *, int);
/*
 * A watch stream that brings nothing, not even the progress notifications
 * the cache asks for, for this long (ms) is taken for a frozen or cut-off
 * member: the watch resumes on the next endpoint.  Set it to about twice
 * etcd's --experimental-watch-progress-notify-interval; 0 never.  Default
 * 1200000 (twice etcd's default of 10 minutes).
 */
void wcache_set_watch_idle(struct wcache *, int);
/* Lists and watches (once; a detached cache ignores it). */
void wcache_start(struct wcache *);

/* 1 once listed, until a re-list starts; 0 while (re-)listing. */
int wcache_synced(const struct wcache *);
/* The etcd revision the cache equals (0 before the first list). */
int64_t wcache_revision(const struct wcache *);
/* The entry for key (a C string), or NULL. */
const struct wcache_entry *wcache_get(const struct wcache *, const char *);
/* Keys under prefix (NULL or "": all). */
size_t wcache_count(const struct wcache *, const char *);

/*
 * Walk the keys under a prefix (NULL or "": all) in key order:
 *
 *	struct wcache_iter it;
 *	for (e = wcache_first(wc, &it, prefix); e != NULL; e = wcache_next(&it))
 *
 * The cache must not change meanwhile (do not run the event loop).  The
 * fields are private.
 */
struct wcache_iter {
	const struct wcache *wc;
	const char *prefix;
	size_t prefix_len;
	size_t chunk;
	size_t slot;
};

const struct wcache_entry *wcache_first(
    const struct wcache *, struct wcache_iter *, const char *);
const struct wcache_entry *wcache_next(struct wcache_iter *);

struct wcache_stats {
	size_t keys;
	uint64_t applied; /* watch events that changed the cache */
	uint64_t stale; /* events dropped as already applied or older */
	uint64_t foreign; /* events outside every prefix */
	uint64_t lists; /* complete listings (the first and re-lists) */
	uint64_t list_errors; /* failed list requests (retried) */
	uint64_t refused; /* values the decode hooks refused */
	uint64_t disconnects; /* watch streams that broke (then resumed) */
	int watch_up; /* the watch stream is created and not broken since */
};

void wcache_stats(const struct wcache *, struct wcache_stats *);

/*
 * Feeding by hand, what the live cache does with etcd's answers:
 *
 * wcache_load() takes a complete listing of every registered prefix at
 * res->revision (kvs in any order; keys outside every prefix are ignored)
 * and turns the cache into it: ADD/UPDATE/DELETE for the difference, then
 * SYNCED.  res is not changed.
 *
 * wcache_apply() takes a watch update: EVENTS are applied in order, one
 * revision at a time, dropping those below the cache's revision or not
 * newer than their key's mod_revision (already applied); PROGRESS moves
 * the revision; COMPACTED and CANCELED mark the cache out of sync until the
 * next load.  Neither may be called from a callback.
 */
void wcache_load(struct wcache *, const struct etcd_result *);
void wcache_apply(struct wcache *, const struct etcd_watch_update *);

#endif
