/*
 * The node's view of the datastore: a watch cache over the keys confd's
 * syncer reads (calico.md §3 "v3 backend": IPPools, BGPConfigurations,
 * Nodes, BGPPeers, block affinities) plus the IPAM blocks, which tell
 * which addresses this node borrowed and lent (calico.md §2, §6).
 *
 * The decode hooks turn each value into a store/ object once, when it
 * changes, so derivation never parses JSON.  A value that does not decode
 * is refused: the cache keeps the key, logs the message once, and every
 * accessor here skips it, so one bad resource cannot hide the others.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "node/derive.h"

static void *
view_json(const char *value, size_t len, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;

	if ((j = json_loadb(value, len, 0, &je)) == NULL)
		snprintf(err, errlen, "invalid JSON at offset %d: %s",
		    je.position, je.text);
	return j;
}

static void *
view_resource_decode(const char *key, const char *value, size_t len, char *err,
    size_t errlen, void *arg)
{
	enum model_kind want = (enum model_kind)(uintptr_t)arg, kind;
	char name[MODEL_NAME_MAX + 1];
	struct resource *r;
	json_t *j;
	int rc;

	if ((j = view_json(value, len, err, errlen)) == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	rc = resource_decode(j, r, err, errlen);
	json_decref(j);
	if (rc == -1) {
		free(r);
		return NULL;
	}
	/* the key is what others look the resource up by */
	if (r->kind != want) {
		snprintf(err, errlen, "kind %s where %s belongs",
		    model_kind(r->kind)->name, model_kind(want)->name);
		goto bad;
	}
	if (model_key_parse(key, &kind, NULL, 0, name, sizeof(name)) == -1 ||
	    kind != want || strcmp(name, r->meta.name) != 0) {
		snprintf(err, errlen,
		    "metadata.name \"%s\" does not match the key",
		    r->meta.name);
		goto bad;
	}
	return r;
bad:
	resource_clean(r);
	free(r);
	return NULL;
}

static void
view_resource_release(void *obj, void *arg)
{
	(void)arg;
	resource_clean(obj);
	free(obj);
}

static void *
view_block_decode(const char *key, const char *value, size_t len, char *err,
    size_t errlen, void *arg)
{
	struct model_block *b;
	struct prefix kp;
	char s[PREFIX_STRLEN];
	json_t *j;
	int rc;

	(void)arg;
	if (model_block_key_parse(key, &kp) == -1) {
		snprintf(err, errlen, "not a block key");
		return NULL;
	}
	if ((j = view_json(value, len, err, errlen)) == NULL)
		return NULL;
	b = xcalloc(1, sizeof(*b));
	rc = model_block_from_json(j, b, err, errlen);
	json_decref(j);
	if (rc == -1) {
		free(b);
		return NULL;
	}
	if (prefix_cmp(&b->cidr, &kp) != 0) {
		snprintf(err, errlen, "cidr %s does not match the key",
		    prefix_ntop(&b->cidr, s, sizeof(s)));
		model_block_clean(b);
		free(b);
		return NULL;
	}
	return b;
}

static void
view_block_release(void *obj, void *arg)
{
	(void)arg;
	model_block_clean(obj);
	free(obj);
}

static void *
view_affinity_decode(const char *key, const char *value, size_t len, char *err,
    size_t errlen, void *arg)
{
	char host[MODEL_NAME_MAX + 1];
	struct model_affinity *a;
	struct prefix p;
	json_t *j;
	int rc;

	(void)arg;
	if (model_affinity_key_parse(key, host, sizeof(host), &p) == -1) {
		snprintf(err, errlen, "not a block affinity key");
		return NULL;
	}
	if ((j = view_json(value, len, err, errlen)) == NULL)
		return NULL;
	a = xcalloc(1, sizeof(*a));
	rc = model_affinity_from_json(j, a, err, errlen);
	json_decref(j);
	if (rc == -1) {
		free(a);
		return NULL;
	}
	return a;
}

static void
view_affinity_release(void *obj, void *arg)
{
	(void)arg;
	model_affinity_clean(obj);
	free(obj);
}

static const enum model_kind view_kinds[] = {
    MODEL_NODE, MODEL_BGPPEER, MODEL_BGPCONFIG, MODEL_IPPOOL};

struct wcache *
node_cache_new(struct etcd *etcd, struct event_base *base)
{
	char prefix[128];
	struct wcache *wc;
	size_t i;

	wc = wcache_new(etcd, base);
	for (i = 0; i < sizeof(view_kinds) / sizeof(view_kinds[0]); i++) {
		if (model_key_prefix(
		        view_kinds[i], NULL, prefix, sizeof(prefix)) == -1 ||
		    wcache_watch_prefix(wc, prefix, view_resource_decode,
		        view_resource_release,
		        (void *)(uintptr_t)view_kinds[i]) == -1)
			fatalx("%s: %s", __func__, prefix);
	}
	if (wcache_watch_prefix(wc, NODE_BLOCK_PREFIX, view_block_decode,
	        view_block_release, NULL) == -1 ||
	    wcache_watch_prefix(wc, NODE_AFFINITY_PREFIX, view_affinity_decode,
	        view_affinity_release, NULL) == -1)
		fatalx("%s: IPAM prefixes", __func__);
	return wc;
}

const struct resource *
node_view_get(const struct wcache *wc, enum model_kind kind, const char *name)
{
	const struct wcache_entry *e;
	char key[MODEL_NAME_MAX + 96];

	if (name == NULL || model_key(kind, NULL, name, key, sizeof(key)) == -1)
		return NULL;
	if ((e = wcache_get(wc, key)) == NULL)
		return NULL;
	return e->obj;
}

const struct resource *
node_view_node(const struct wcache *wc, const char *name)
{
	return node_view_get(wc, MODEL_NODE, name);
}

const struct model_block *
node_view_block(const struct wcache *wc, const struct prefix *cidr)
{
	const struct wcache_entry *e;
	char key[128];

	if (model_block_key(cidr, key, sizeof(key)) == -1)
		return NULL;
	if ((e = wcache_get(wc, key)) == NULL)
		return NULL;
	return e->obj;
}

/* the next entry from e on that the decode hook accepted */
static const struct wcache_entry *
view_skip(struct node_view_iter *it, const struct wcache_entry *e)
{
	while (e != NULL && e->obj == NULL)
		e = wcache_next(&it->wi);
	return e;
}

static const struct wcache_entry *
view_first(const struct wcache *wc, struct node_view_iter *it)
{
	return view_skip(it, wcache_first(wc, &it->wi, it->prefix));
}

static const struct wcache_entry *
view_next(struct node_view_iter *it)
{
	return view_skip(it, wcache_next(&it->wi));
}

const struct resource *
node_view_first(
    const struct wcache *wc, struct node_view_iter *it, enum model_kind kind)
{
	const struct wcache_entry *e;

	if (model_key_prefix(kind, NULL, it->prefix, sizeof(it->prefix)) == -1)
		fatalx("%s: kind %d", __func__, kind);
	e = view_first(wc, it);
	return e != NULL ? e->obj : NULL;
}

const struct resource *
node_view_next(struct node_view_iter *it)
{
	const struct wcache_entry *e = view_next(it);

	return e != NULL ? e->obj : NULL;
}

const struct model_block *
node_view_block_first(const struct wcache *wc, struct node_view_iter *it)
{
	const struct wcache_entry *e;

	snprintf(it->prefix, sizeof(it->prefix), "%s", NODE_BLOCK_PREFIX);
	e = view_first(wc, it);
	return e != NULL ? e->obj : NULL;
}

const struct model_block *
node_view_block_next(struct node_view_iter *it)
{
	const struct wcache_entry *e = view_next(it);

	return e != NULL ? e->obj : NULL;
}

static const struct model_affinity *
view_affinity(const struct wcache_entry *e, struct prefix *cidr)
{
	char host[MODEL_NAME_MAX + 1];

	if (e == NULL)
		return NULL;
	/* the hook accepted only keys that parse */
	if (model_affinity_key_parse(e->key, host, sizeof(host), cidr) == -1)
		fatalx("%s: %s", __func__, e->key);
	return e->obj;
}

const struct model_affinity *
node_view_affinity_first(const struct wcache *wc, struct node_view_iter *it,
    const char *host, struct prefix *cidr)
{
	int n;

	if (host == NULL)
		n = snprintf(
		    it->prefix, sizeof(it->prefix), "%s", NODE_AFFINITY_PREFIX);
	else
		n = snprintf(it->prefix, sizeof(it->prefix), "%s%s/",
		    NODE_AFFINITY_PREFIX, host);
	if (n < 0 || (size_t)n >= sizeof(it->prefix) ||
	    (host != NULL && strchr(host, '/') != NULL)) {
		/* no such host can have keys: walk nothing */
		snprintf(it->prefix, sizeof(it->prefix), "%s/",
		    NODE_AFFINITY_PREFIX);
	}
	return view_affinity(view_first(wc, it), cidr);
}

const struct model_affinity *
node_view_affinity_next(struct node_view_iter *it, struct prefix *cidr)
{
	return view_affinity(view_next(it), cidr);
}
