/*
 * store/wcache.c, the parts that need no etcd: a detached cache fed with
 * listings and watch updates.  Checked: the first listing (any order, keys
 * outside the prefixes and repeated keys dropped) gives ADDs in key order
 * and SYNCED; events give ADD/UPDATE/DELETE with old and new values, in
 * order, one revision applied whole before its callbacks; the revision
 * follows events and progress; repeated and older events after a resume
 * are dropped; after a compaction a re-list calls back exactly the
 * difference; decode hooks (longest prefix wins, refusals kept with their
 * message, every object released); binary keys in etcd's order; walks and
 * counts over prefixes; 20k random changes against a reference array (the
 * index's splits and merges); freeing from a callback; and a live cache
 * whose etcd refuses connections retrying its listing.
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

#include "lib/log.h"
#include "store/wcache.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

#define KV(k, v, c, m)                                                         \
	{                                                                      \
		.key = (char *)(k), .key_len = sizeof(k) - 1,                  \
		.value = (char *)(v), .value_len = sizeof(v) - 1,              \
		.create_revision = (c), .mod_revision = (m), .version = 1,     \
	}
#define PUT(k, v, c, m)                                                        \
	{                                                                      \
		.type = ETCD_EV_PUT, .kv = KV(k, v, c, m)                      \
	}
#define DEL(k, m)                                                              \
	{                                                                      \
		.type = ETCD_EV_DELETE, .kv = KV(k, "", 0, m)                  \
	}

#define P "/calico/resources/v3/projectcalico.org/nodes/"

/* What the callbacks saw, one line each. */
struct rec {
	char log[8192];
	size_t len;
	int n;
	struct wcache *wc;
	int free_at; /* wcache_free() from the free_at'th callback */
	int check_txn; /* the whole revision is in the cache before a callback
	                */
};

static void
rec_cb(struct wcache *wc, const struct wcache_event *ev, void *arg)
{
	struct rec *r = arg;
	char *b = r->log + r->len;
	size_t room = sizeof(r->log) - r->len;
	int n = 0;

	assert_ptr_equal(wc, r->wc);
	assert_int_equal(wcache_revision(wc), ev->revision);
	switch (ev->type) {
	case WCACHE_ADD:
		assert_null(ev->old);
		assert_ptr_equal(wcache_get(wc, ev->new->key), ev->new);
		n = snprintf(
		    b, room, "ADD %s=%s", ev->new->key, ev->new->value);
		break;
	case WCACHE_UPDATE:
		assert_ptr_equal(wcache_get(wc, ev->new->key), ev->new);
		assert_string_equal(ev->old->key, ev->new->key);
		n = snprintf(b, room, "UPDATE %s=%s>%s", ev->new->key,
		    ev->old->value, ev->new->value);
		break;
	case WCACHE_DELETE:
		assert_null(ev->new);
		assert_null(wcache_get(wc, ev->old->key));
		n = snprintf(
		    b, room, "DELETE %s(%s)", ev->old->key, ev->old->value);
		break;
	case WCACHE_SYNCED:
		assert_null(ev->old);
		assert_null(ev->new);
		assert_true(wcache_synced(wc));
		n = snprintf(b, room, "SYNCED");
		break;
	}
	n += snprintf(b + n, room - n, " @%lld%s\n", (long long)ev->revision,
	    ev->relist ? " relist" : "");
	r->len += n;
	assert_true(r->len < sizeof(r->log));
	if (r->check_txn) {
		assert_non_null(wcache_get(wc, "/t/x"));
		assert_non_null(wcache_get(wc, "/t/y"));
		assert_null(wcache_get(wc, "/t/z"));
	}
	if (++r->n == r->free_at) {
		wcache_free(wc);
		r->wc = NULL;
	}
}

static const char *
rec_take(struct rec *r)
{
	static char out[sizeof(r->log)];

	memcpy(out, r->log, r->len + 1);
	r->len = 0;
	r->log[0] = '\0';
	return out;
}

static void
load(struct wcache *wc, struct etcd_kv *kv, size_t n, int64_t rev)
{
	struct etcd_result res = {
	    .op = ETCD_OP_RANGE,
	    .revision = rev,
	    .kvs = kv,
	    .nkvs = n,
	    .count = (int64_t)n,
	};

	wcache_load(wc, &res);
}

static void
feed(struct wcache *wc, struct etcd_event *ev, size_t n)
{
	struct etcd_watch_update u = {
	    .kind = ETCD_WATCH_EVENTS,
	    .revision = ev[n - 1].kv.mod_revision,
	    .events = ev,
	    .nevents = n,
	};

	wcache_apply(wc, &u);
}

static struct wcache *
new_cache(struct rec *r, const char *prefix)
{
	struct wcache *wc = wcache_new(NULL, NULL);

	memset(r, 0, sizeof(*r));
	r->wc = wc;
	assert_int_equal(wcache_watch_prefix(wc, prefix, NULL, NULL, NULL), 0);
	wcache_set_callback(wc, rec_cb, r);
	return wc;
}

/* The first listing: sorted, filtered, de-duplicated, then SYNCED. */
static void
test_initial_list(void **state)
{
	struct etcd_kv kv[] = {
	    KV(P "node2", "n2", 5, 5),
	    KV("/calico/resources/v3/projectcalico.org/ippools/p", "x", 3, 3),
	    KV(P "node1", "old", 2, 2),
	    KV(P "node3", "n3", 7, 7),
	    KV(P "node1", "n1", 2, 9), /* the same key, newer: it wins */
	    KV(P, "the prefix itself", 4, 4),
	};
	struct wcache_stats st;
	struct rec r;
	struct wcache *wc = new_cache(&r, P);

	assert_int_equal(wcache_revision(wc), 0);
	assert_false(wcache_synced(wc));
	assert_int_equal(wcache_watch_prefix(wc, P, NULL, NULL, NULL), -1);
	load(wc, kv, NITEMS(kv), 10);
	assert_string_equal(rec_take(&r),
	    "ADD " P "=the prefix itself @10\n"
	    "ADD " P "node1=n1 @10\n"
	    "ADD " P "node2=n2 @10\n"
	    "ADD " P "node3=n3 @10\n"
	    "SYNCED @10\n");
	assert_int_equal(wcache_revision(wc), 10);
	assert_true(wcache_synced(wc));
	assert_int_equal(wcache_count(wc, NULL), 4);
	assert_int_equal(wcache_count(wc, P "node"), 3);
	assert_int_equal(wcache_count(wc, "/nothing/"), 0);
	assert_null(wcache_get(wc,
	    "/calico/resources/v3/projectcalico.org/"
	    "ippools/p"));
	assert_string_equal(wcache_get(wc, P "node1")->value, "n1");
	assert_int_equal(wcache_get(wc, P "node1")->mod_revision, 9);
	assert_int_equal(wcache_get(wc, P "node1")->create_revision, 2);
	assert_int_equal(wcache_get(wc, P "node1")->value_len, 2);
	assert_string_equal(wcache_get(wc, P "node1")->prefix, P);
	assert_null(wcache_get(wc, P "node1")->obj);
	assert_null(wcache_get(wc, P "node1")->error);
	wcache_stats(wc, &st);
	assert_int_equal(st.keys, 4);
	assert_int_equal(st.lists, 1);
	wcache_free(wc);
}

/* Events after the listing: callbacks with old and new, in order. */
static void
test_events(void **state)
{
	struct etcd_kv kv[] = {KV("/t/a", "1", 3, 3), KV("/t/b", "2", 4, 4)};
	struct etcd_event ev[] = {
	    PUT("/t/c", "3", 11, 11),
	    PUT("/t/a", "1b", 3, 12),
	    DEL("/t/b", 13),
	    PUT("/u/foreign", "x", 14, 14),
	    PUT("/t/a", "1c", 3, 15),
	    DEL("/t/a", 16),
	    PUT("/t/a", "again", 17, 17),
	};
	struct etcd_watch_update prog = {
	    .kind = ETCD_WATCH_PROGRESS,
	    .revision = 40,
	};
	struct wcache_stats st;
	struct rec r;
	struct wcache *wc = new_cache(&r, "/t/");

	load(wc, kv, NITEMS(kv), 10);
	rec_take(&r);
	feed(wc, ev, 3);
	assert_string_equal(rec_take(&r),
	    "ADD /t/c=3 @11\n"
	    "UPDATE /t/a=1>1b @12\n"
	    "DELETE /t/b(2) @13\n");
	assert_int_equal(wcache_revision(wc), 13);
	feed(wc, ev + 3, 4);
	assert_string_equal(rec_take(&r),
	    "UPDATE /t/a=1b>1c @15\n"
	    "DELETE /t/a(1c) @16\n"
	    "ADD /t/a=again @17\n");
	/* a foreign key still moves the revision: it is one stream */
	assert_int_equal(wcache_revision(wc), 17);
	assert_int_equal(wcache_get(wc, "/t/a")->create_revision, 17);
	wcache_apply(wc, &prog);
	assert_int_equal(wcache_revision(wc), 40);
	assert_string_equal(rec_take(&r), "");
	wcache_stats(wc, &st);
	assert_int_equal(st.applied, 6);
	assert_int_equal(st.foreign, 1);
	assert_int_equal(st.stale, 0);
	assert_int_equal(st.keys, 2);
	wcache_free(wc);
}

/* A txn's events are all in the cache before the first callback. */
static void
test_txn_whole(void **state)
{
	struct etcd_kv kv[] = {KV("/t/z", "z", 2, 2)};
	struct etcd_event ev[] = {
	    PUT("/t/x", "x", 20, 20),
	    PUT("/t/y", "y", 20, 20),
	    DEL("/t/z", 20),
	};
	struct rec r;
	struct wcache *wc = new_cache(&r, "/t/");

	load(wc, kv, NITEMS(kv), 10);
	rec_take(&r);
	r.check_txn = 1;
	feed(wc, ev, NITEMS(ev));
	assert_string_equal(rec_take(&r),
	    "ADD /t/x=x @20\n"
	    "ADD /t/y=y @20\n"
	    "DELETE /t/z(z) @20\n");
	assert_int_equal(r.n, 2 + 3); /* ADD, SYNCED, then the txn */
	wcache_free(wc);
}

/*
 * A resumed stream that repeats what the cache has, or sends older events:
 * nothing twice.  Also: events at or below the listing's revision.
 */
static void
test_duplicates(void **state)
{
	struct etcd_kv kv[] = {KV("/t/a", "1", 3, 3), KV("/t/b", "2", 9, 9)};
	struct etcd_event old[] = {
	    PUT("/t/b", "2", 9, 9), /* in the listing already */
	    PUT("/t/a", "0", 3, 5), /* older than the listing */
	    DEL("/t/gone", 8),
	};
	struct etcd_event ev[] = {
	    PUT("/t/c", "3", 11, 11),
	    PUT("/t/a", "1b", 3, 12),
	    DEL("/t/b", 13),
	};
	struct etcd_event resumed[] = {
	    PUT("/t/a", "1b", 3, 12), /* again, after a reconnect */
	    DEL("/t/b", 13),
	    PUT("/t/d", "4", 14, 14), /* new */
	    DEL("/t/c", 15),
	};
	/* one revision split over two updates: the second half is new */
	struct etcd_event half1[] = {PUT("/t/x", "x", 16, 16)};
	struct etcd_event half2[] = {
	    PUT("/t/x", "x", 16, 16),
	    PUT("/t/y", "y", 16, 16),
	    DEL("/t/nothere", 16),
	};
	struct wcache_stats st;
	struct rec r;
	struct wcache *wc = new_cache(&r, "/t/");

	load(wc, kv, NITEMS(kv), 10);
	rec_take(&r);
	feed(wc, old, NITEMS(old));
	assert_string_equal(rec_take(&r), "");
	assert_int_equal(wcache_revision(wc), 10);
	feed(wc, ev, NITEMS(ev));
	rec_take(&r);
	feed(wc, ev, NITEMS(ev)); /* the same update twice */
	assert_string_equal(rec_take(&r), "");
	feed(wc, resumed, NITEMS(resumed));
	assert_string_equal(rec_take(&r),
	    "ADD /t/d=4 @14\n"
	    "DELETE /t/c(3) @15\n");
	assert_int_equal(wcache_revision(wc), 15);
	feed(wc, old, NITEMS(old)); /* far behind */
	assert_string_equal(rec_take(&r), "");
	assert_int_equal(wcache_revision(wc), 15);
	feed(wc, half1, NITEMS(half1));
	feed(wc, half2, NITEMS(half2));
	assert_string_equal(rec_take(&r),
	    "ADD /t/x=x @16\n"
	    "ADD /t/y=y @16\n");
	wcache_stats(wc, &st);
	assert_int_equal(st.applied, 3 + 2 + 2);
	assert_int_equal(st.stale, 3 + 3 + 2 + 3 + 2);
	assert_string_equal(wcache_get(wc, "/t/a")->value, "1b");
	assert_null(wcache_get(wc, "/t/b"));
	assert_int_equal(wcache_count(wc, "/t/"), 4);
	wcache_free(wc);
}

/*
 * Compacted while away: the re-list is compared with the cache and only
 * the difference is called back, in key order, then SYNCED.
 */
static void
test_relist_diff(void **state)
{
	struct etcd_kv kv[] = {
	    KV("/t/a", "1", 3, 3),
	    KV("/t/b", "2", 4, 4),
	    KV("/t/c", "3", 5, 5),
	    KV("/t/d", "4", 6, 6),
	    KV("/t/f", "6", 7, 7),
	};
	struct etcd_kv relisted[] = {
	    KV("/t/a", "1", 3, 3), /* untouched */
	    KV("/t/b", "22", 4, 31), /* changed (twice, in the gap) */
	    KV("/t/d", "4", 32, 32), /* deleted and written back the same */
	    KV("/t/e", "5", 33, 33), /* new */
	    KV("/t/f", "6", 7, 7), /* untouched */
	    KV("/t/g", "7", 36, 36), /* new */
	    /* /t/c gone; /t/h came and went in the gap: nothing */
	};
	struct etcd_watch_update compacted = {
	    .kind = ETCD_WATCH_COMPACTED,
	    .revision = 40,
	    .compact_revision = 40,
	};
	const struct wcache_entry *a;
	struct wcache_iter it;
	const struct wcache_entry *e;
	char keys[64] = "";
	struct wcache_stats st;
	struct rec r;
	struct wcache *wc = new_cache(&r, "/t/");

	load(wc, kv, NITEMS(kv), 10);
	rec_take(&r);
	a = wcache_get(wc, "/t/a");
	wcache_apply(wc, &compacted);
	assert_false(wcache_synced(wc));
	assert_int_equal(wcache_revision(wc), 10);
	load(wc, relisted, NITEMS(relisted), 40);
	assert_string_equal(rec_take(&r),
	    "UPDATE /t/b=2>22 @40 relist\n"
	    "DELETE /t/c(3) @40 relist\n"
	    "UPDATE /t/d=4>4 @40 relist\n"
	    "ADD /t/e=5 @40 relist\n"
	    "ADD /t/g=7 @40 relist\n"
	    "SYNCED @40 relist\n");
	assert_true(wcache_synced(wc));
	assert_int_equal(wcache_revision(wc), 40);
	/* an untouched key keeps its entry */
	assert_ptr_equal(wcache_get(wc, "/t/a"), a);
	for (e = wcache_first(wc, &it, "/t/"); e != NULL; e = wcache_next(&it))
		strcat(keys, e->key + 3);
	assert_string_equal(keys, "abdefg");

	/* the same listing again: nothing but SYNCED */
	load(wc, relisted, NITEMS(relisted), 41);
	assert_string_equal(rec_take(&r), "SYNCED @41 relist\n");
	/* an empty one: everything goes */
	load(wc, NULL, 0, 42);
	assert_string_equal(rec_take(&r),
	    "DELETE /t/a(1) @42 relist\n"
	    "DELETE /t/b(22) @42 relist\n"
	    "DELETE /t/d(4) @42 relist\n"
	    "DELETE /t/e(5) @42 relist\n"
	    "DELETE /t/f(6) @42 relist\n"
	    "DELETE /t/g(7) @42 relist\n"
	    "SYNCED @42 relist\n");
	assert_int_equal(wcache_count(wc, NULL), 0);
	wcache_stats(wc, &st);
	assert_int_equal(st.lists, 4);
	wcache_free(wc);
}

/* Decode hooks: objects, refusals, the longest prefix, releases. */
struct hook {
	const char *name;
	int live; /* objects made and not yet released */
};

static void *
int_decode(const char *key, const char *value, size_t len, char *err,
    size_t errlen, void *arg)
{
	struct hook *h = arg;
	char *ep;
	long v = strtol(value, &ep, 10);
	long *obj;

	assert_int_equal(strlen(value), len);
	if (len == 0 || *ep != '\0') {
		snprintf(
		    err, errlen, "%s: not a number: \"%s\"", h->name, value);
		return NULL;
	}
	if (v < 0)
		return NULL; /* no message */
	obj = malloc(sizeof(*obj));
	*obj = v;
	h->live++;
	return obj;
}

static void
int_release(void *obj, void *arg)
{
	struct hook *h = arg;

	h->live--;
	free(obj);
}

static void
test_decode(void **state)
{
	struct hook outer = {"outer", 0}, inner = {"inner", 0};
	struct etcd_kv kv[] = {
	    KV("/d/1", "10", 2, 2),
	    KV("/d/2", "oops", 3, 3),
	    KV("/d/in/3", "30", 4, 4),
	    KV("/d/in/4", "x", 5, 5),
	    KV("/d/neg", "-1", 6, 6),
	};
	struct etcd_event ev[] = {
	    PUT("/d/2", "20", 3, 11),
	    PUT("/d/1", "bad", 2, 12),
	    DEL("/d/in/3", 13),
	};
	const struct wcache_entry *e;
	struct wcache_stats st;
	struct rec r;
	struct wcache *wc = wcache_new(NULL, NULL);

	memset(&r, 0, sizeof(r));
	r.wc = wc;
	wcache_set_callback(wc, rec_cb, &r);
	assert_int_equal(
	    wcache_watch_prefix(wc, "/d/in/", int_decode, int_release, &inner),
	    0);
	assert_int_equal(
	    wcache_watch_prefix(wc, "/d/", int_decode, int_release, &outer), 0);
	load(wc, kv, NITEMS(kv), 10);
	assert_int_equal(outer.live, 1);
	assert_int_equal(inner.live, 1);
	e = wcache_get(wc, "/d/1");
	assert_int_equal(*(long *)e->obj, 10);
	assert_null(e->error);
	assert_string_equal(e->prefix, "/d/");
	e = wcache_get(wc, "/d/2");
	assert_null(e->obj);
	assert_string_equal(e->error, "outer: not a number: \"oops\"");
	assert_string_equal(e->value, "oops"); /* still cached */
	e = wcache_get(wc, "/d/in/4");
	assert_string_equal(e->error, "inner: not a number: \"x\"");
	assert_string_equal(e->prefix, "/d/in/");
	assert_int_equal(*(long *)wcache_get(wc, "/d/in/3")->obj, 30);
	assert_string_equal(wcache_get(wc, "/d/neg")->error, "refused");
	wcache_stats(wc, &st);
	assert_int_equal(st.refused, 3);

	rec_take(&r);
	feed(wc, ev, NITEMS(ev));
	assert_string_equal(rec_take(&r),
	    "UPDATE /d/2=oops>20 @11\n"
	    "UPDATE /d/1=10>bad @12\n"
	    "DELETE /d/in/3(30) @13\n");
	assert_int_equal(*(long *)wcache_get(wc, "/d/2")->obj, 20);
	assert_null(wcache_get(wc, "/d/2")->error);
	assert_null(wcache_get(wc, "/d/1")->obj);
	assert_int_equal(outer.live, 1);
	assert_int_equal(inner.live, 0);
	wcache_free(wc);
	assert_int_equal(outer.live, 0);
}

/*
 * Keys are bytes: binary keys sort as etcd sorts them (a key before its
 * extensions, 0x00 and 0xff as any byte), and a prefix of 0xff bytes
 * works.
 */
static void
test_binary_keys(void **state)
{
	struct etcd_event ev[] = {
	    PUT("/b/a\xff", "4", 11, 11),
	    PUT("/b/a\0z", "2", 12, 12),
	    PUT("/b/a", "1", 13, 13),
	    PUT("/b/b", "5", 14, 14),
	    PUT("/b/a\x01", "3", 15, 15),
	    PUT("/b/", "0", 16, 16),
	};
	struct wcache_iter it;
	const struct wcache_entry *e;
	char order[16] = "";
	struct rec r;
	struct wcache *wc = new_cache(&r, "/b/");

	wcache_set_callback(
	    wc, NULL, NULL); /* rec_cb's lookups take C strings */
	load(wc, NULL, 0, 10);
	feed(wc, ev, NITEMS(ev));
	for (e = wcache_first(wc, &it, NULL); e != NULL; e = wcache_next(&it))
		strncat(order, e->value, 1);
	assert_string_equal(order, "012345");
	e = wcache_first(wc, &it, "/b/a");
	assert_int_equal(e->key_len, 4);
	e = wcache_next(&it);
	assert_int_equal(e->key_len, 6);
	assert_memory_equal(e->key, "/b/a\0z", 7);
	assert_int_equal(wcache_count(wc, "/b/a"), 4);
	assert_int_equal(wcache_count(wc, "/b/b"), 1);
	assert_int_equal(wcache_count(wc, "/b/c"), 0);
	assert_int_equal(wcache_count(wc, "/c"), 0);
	assert_null(wcache_first(wc, &it, "/z"));
	/* deleted one by one down to nothing, then one again */
	{
		struct etcd_event del[] = {
		    DEL("/b/a\xff", 21),
		    DEL("/b/a\0z", 22),
		    DEL("/b/a", 23),
		    DEL("/b/b", 24),
		    DEL("/b/a\x01", 25),
		    DEL("/b/", 26),
		    PUT("/b/c", "6", 27, 27),
		};

		feed(wc, del, NITEMS(del) - 1);
		assert_int_equal(wcache_count(wc, NULL), 0);
		assert_null(wcache_first(wc, &it, NULL));
		feed(wc, del + NITEMS(del) - 1, 1);
		assert_string_equal(wcache_first(wc, &it, NULL)->value, "6");
		assert_null(wcache_next(&it));
	}
	wcache_free(wc);
}

/*
 * 20,000 random puts and deletes on 3,000 keys (enough to split chunks and
 * merge them back), checked against a sorted reference after each batch:
 * lookups, walks, counts under prefixes.
 */
struct ref {
	char key[32];
	char val[24]; /* a long long in decimal */
	int live;
};

static int
ref_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct ref *)a)->key, ((const struct ref *)b)->key);
}

static void
check_against(struct wcache *wc, struct ref *ref, size_t n)
{
	struct wcache_iter it;
	const struct wcache_entry *e;
	size_t i, live = 0, live7 = 0;

	e = wcache_first(wc, &it, "/r/");
	for (i = 0; i < n; i++) {
		if (!ref[i].live) {
			assert_null(wcache_get(wc, ref[i].key));
			continue;
		}
		live++;
		if (strncmp(ref[i].key, "/r/7", 4) == 0)
			live7++;
		assert_non_null(e);
		assert_string_equal(e->key, ref[i].key);
		assert_string_equal(e->value, ref[i].val);
		assert_ptr_equal(wcache_get(wc, ref[i].key), e);
		e = wcache_next(&it);
	}
	assert_null(e);
	assert_int_equal(wcache_count(wc, NULL), live);
	assert_int_equal(wcache_count(wc, "/r/7"), live7);
}

static void
test_random(void **state)
{
	enum { NKEYS = 3000, NOPS = 20000, BATCH = 500 };
	static struct ref ref[NKEYS];
	static struct etcd_event ev[BATCH];
	struct wcache_stats st;
	struct wcache *wc = wcache_new(NULL, NULL);
	int64_t rev = 1;
	uint32_t x = 12345;
	size_t i, k, b;

	assert_int_equal(wcache_watch_prefix(wc, "/r/", NULL, NULL, NULL), 0);
	for (i = 0; i < NKEYS; i++) {
		x = x * 1103515245 + 12345;
		snprintf(ref[i].key, sizeof(ref[i].key), "/r/%u-%zu",
		    (x >> 8) % 100000, i);
		ref[i].live = 0;
	}
	qsort(ref, NKEYS, sizeof(ref[0]), ref_cmp);
	load(wc, NULL, 0, rev);
	for (i = 0; i < NOPS; i += BATCH) {
		for (b = 0; b < BATCH; b++) {
			x = x * 1103515245 + 12345;
			k = (x >> 4) % NKEYS;
			rev++;
			memset(&ev[b], 0, sizeof(ev[b]));
			ev[b].kv.key = ref[k].key;
			ev[b].kv.key_len = strlen(ref[k].key);
			ev[b].kv.mod_revision = rev;
			/* deletes win in the second half: chunks merge */
			if ((x >> 20) % 8 < (i < NOPS / 2 ? 6u : 2u)) {
				ev[b].type = ETCD_EV_PUT;
				snprintf(ref[k].val, sizeof(ref[k].val), "%lld",
				    (long long)rev);
				ev[b].kv.value = ref[k].val;
				ev[b].kv.value_len = strlen(ref[k].val);
				ref[k].live = 1;
			} else {
				ev[b].type = ETCD_EV_DELETE;
				ev[b].kv.value = (char *)"";
				ref[k].live = 0;
			}
		}
		/* the values are copied: ref may change under them later */
		feed(wc, ev, BATCH);
		check_against(wc, ref, NKEYS);
	}
	wcache_stats(wc, &st);
	assert_int_equal(st.applied + st.stale, NOPS);
	assert_int_equal(wcache_revision(wc), rev);
	/* a re-list of exactly the reference changes nothing */
	{
		static struct etcd_kv kv[NKEYS];
		static struct rec r;
		char want[64];

		memset(&r, 0, sizeof(r));
		r.wc = wc;
		wcache_set_callback(wc, rec_cb, &r);
		for (i = k = 0; i < NKEYS; i++) {
			const struct wcache_entry *e =
			    wcache_get(wc, ref[i].key);

			if (!ref[i].live)
				continue;
			kv[k] = (struct etcd_kv){
			    .key = ref[i].key,
			    .key_len = strlen(ref[i].key),
			    .value = ref[i].val,
			    .value_len = strlen(ref[i].val),
			    .mod_revision = e->mod_revision,
			};
			k++;
		}
		load(wc, kv, k, rev);
		snprintf(want, sizeof(want), "SYNCED @%lld relist\n",
		    (long long)rev);
		assert_string_equal(rec_take(&r), want);
	}
	wcache_free(wc);
}

/* wcache_free() from a callback: no more callbacks, nothing leaks. */
static void
test_free_in_callback(void **state)
{
	struct hook h = {"h", 0};
	struct etcd_kv kv[] = {KV("/t/a", "1", 3, 3), KV("/t/b", "2", 4, 4)};
	struct etcd_event ev[] = {
	    PUT("/t/a", "11", 3, 11),
	    DEL("/t/b", 11),
	    PUT("/t/c", "3", 12, 12),
	};
	struct rec r;
	struct wcache *wc = wcache_new(NULL, NULL);

	memset(&r, 0, sizeof(r));
	r.wc = wc;
	wcache_set_callback(wc, rec_cb, &r);
	wcache_watch_prefix(wc, "/t/", int_decode, int_release, &h);
	load(wc, kv, NITEMS(kv), 10);
	assert_int_equal(h.live, 2);
	r.free_at = r.n + 1; /* in the first callback of the txn */
	feed(wc, ev, NITEMS(ev));
	assert_null(r.wc);
	assert_int_equal(r.n, 4);
	assert_int_equal(h.live, 0);

	/* and in the middle of a listing's difference */
	wc = wcache_new(NULL, NULL);
	memset(&r, 0, sizeof(r));
	r.wc = wc;
	r.free_at = 2;
	wcache_set_callback(wc, rec_cb, &r);
	wcache_watch_prefix(wc, "/t/", int_decode, int_release, &h);
	load(wc, kv, NITEMS(kv), 10);
	assert_int_equal(r.n, 2);
	assert_int_equal(h.live, 0);
}

/*
 * A live cache whose only endpoint refuses connections: the listing fails,
 * is retried with a backoff, and the cache stays empty and not synced.
 */
static void
test_live_refused(void **state)
{
	struct event_base *base = event_base_new();
	struct etcd_config cfg = {.endpoints = "127.0.0.1:1", .base = base};
	struct etcd_error err;
	struct etcd *e = etcd_new(&cfg, &err);
	struct timeval tv = {.tv_sec = 0, .tv_usec = 450000};
	struct wcache_stats st;
	struct rec r;
	struct wcache *wc;

	assert_non_null(e);
	wc = wcache_new(e, base);
	memset(&r, 0, sizeof(r));
	r.wc = wc;
	wcache_set_callback(wc, rec_cb, &r);
	wcache_watch_prefix(wc, "/t/", NULL, NULL, NULL);
	wcache_start(wc);
	wcache_start(wc); /* once is enough */
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
	wcache_stats(wc, &st);
	/* at 0, 100 and 300 ms: the backoff doubles */
	assert_in_range(st.list_errors, 2, 3);
	assert_int_equal(st.lists, 0);
	assert_false(wcache_synced(wc));
	assert_int_equal(r.n, 0);
	wcache_free(wc);
	etcd_free(e);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_initial_list),
	    cmocka_unit_test(test_events),
	    cmocka_unit_test(test_txn_whole),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_relist_diff),
	    cmocka_unit_test(test_decode),
	    cmocka_unit_test(test_binary_keys),
	    cmocka_unit_test(test_random),
	    cmocka_unit_test(test_free_in_callback),
	    cmocka_unit_test(test_live_refused),
	};

	log_init("wcache_test", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
