/*
 * The etcdv3 backend (the default): Calico's v3 resources in etcd, watched
 * through node/'s cache (node_cache_new), turned into the v1 key tree
 * confd's templates read (v1tree.c) once the first listing is complete and
 * again after every change.  A change that leaves the tree as it was is
 * not passed on; one that cannot change it (an IPAM block, another node's
 * affinity: the bulk of the writes in a busy cluster) is not even
 * computed, the tree costing O(nodes) and more.  Calico's confd also waits
 * for its syncer to be in sync before the first render.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "confd/backend_int.h"
#include "confd/confd.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "node/derive.h"
#include "store/etcd.h"
#include "store/wcache.h"

struct v3 {
	struct confd_backend *b;
	struct etcd *etcd;
	struct wcache *wc;
	struct event *recompute; /* collapses a burst of changes */
	char *nodename;
	char *endpoints;
	bool synced_once;
	bool pending;
};

static void
v3_describe(struct v3 *v)
{
	snprintf(v->b->describe, sizeof(v->b->describe),
	    "etcdv3 %s, revision %lld", v->endpoints,
	    (long long)wcache_revision(v->wc));
}

static void
v3_recompute(evutil_socket_t fd, short what, void *arg)
{
	struct v3 *v = arg;
	struct confd_kvs kvs = {0};

	(void)fd;
	(void)what;
	v->pending = false;
	/* a re-list is under way: its SYNCED brings us back */
	if (!wcache_synced(v->wc))
		return;
	v3_describe(v);
	confd_v1tree(v->wc, v->nodename, &kvs);
	if (v->b->loaded && confd_kvs_equal(&kvs, &v->b->kvs)) {
		log_debug("%s: the key tree is unchanged", v->b->describe);
		confd_kvs_clean(&kvs);
		return;
	}
	confd_kvs_clean(&v->b->kvs);
	v->b->kvs = kvs;
	log_debug("%s: %zu keys", v->b->describe, kvs.n);
	confd_backend_changed(v->b);
}

/*
 * Whether a change of this key can change the tree: not an IPAM block
 * (v1tree reads none), nor an affinity of a node other than nodename.
 */
static bool
v3_relevant(const struct v3 *v, const struct wcache_event *ev)
{
	const struct wcache_entry *e = ev->new != NULL ? ev->new : ev->old;
	const char *host;
	size_t len;

	if (ev->type == WCACHE_SYNCED || e == NULL)
		return true;
	if (strncmp(e->key, NODE_BLOCK_PREFIX, strlen(NODE_BLOCK_PREFIX)) == 0)
		return false;
	if (strncmp(e->key, NODE_AFFINITY_PREFIX,
	        strlen(NODE_AFFINITY_PREFIX)) != 0)
		return true;
	if (v->nodename == NULL)
		return false;
	host = e->key + strlen(NODE_AFFINITY_PREFIX);
	len = strlen(v->nodename);
	return strncmp(host, v->nodename, len) == 0 && host[len] == '/';
}

static void
v3_changed(struct wcache *wc, const struct wcache_event *ev, void *arg)
{
	struct v3 *v = arg;

	(void)wc;
	if (ev->type == WCACHE_SYNCED)
		v->synced_once = true;
	if (!v->synced_once || v->pending || !v3_relevant(v, ev))
		return;
	/* after every callback of this batch has run */
	v->pending = true;
	event_active(v->recompute, EV_TIMEOUT, 0);
}

static int
v3_start(struct confd_backend *b, char *err, size_t errlen)
{
	struct v3 *v = b->priv;

	(void)err;
	(void)errlen;
	wcache_set_callback(v->wc, v3_changed, v);
	wcache_start(v->wc);
	return 0;
}

static void
v3_free(struct confd_backend *b)
{
	struct v3 *v = b->priv;

	if (v == NULL)
		return;
	if (v->recompute != NULL)
		event_free(v->recompute);
	wcache_free(v->wc);
	if (v->etcd != NULL)
		etcd_free(v->etcd);
	free(v->nodename);
	free(v->endpoints);
	free(v);
	b->priv = NULL;
}

static const struct confd_backend_ops v3_ops = {
    .type = "etcdv3",
    .start = v3_start,
    .free = v3_free,
};

struct confd_backend *
confd_backend_v3_new(
    const struct confd_backend_config *config, char *err, size_t errlen)
{
	struct etcd_config ec = config->etcd;
	struct etcd_error eerr;
	struct confd_backend *b;
	struct v3 *v;

	if (ec.base == NULL)
		ec.base = config->base;
	if (ec.base == NULL) {
		snprintf(err, errlen, "etcdv3 backend: no event base");
		return NULL;
	}
	memset(&eerr, 0, sizeof(eerr));
	v = xcalloc(1, sizeof(*v));
	if ((v->etcd = etcd_new(&ec, &eerr)) == NULL) {
		snprintf(err, errlen, "etcdv3 backend: %s", eerr.msg);
		free(v);
		return NULL;
	}
	v->wc = node_cache_new(v->etcd, ec.base);
	v->recompute = event_new(ec.base, -1, 0, v3_recompute, v);
	v->nodename = config->nodename ? xstrdup(config->nodename) : NULL;
	v->endpoints = xstrdup(
	    ec.endpoints != NULL ? ec.endpoints : "http://127.0.0.1:2379");
	b = xcalloc(1, sizeof(*b));
	b->ops = &v3_ops;
	b->priv = v;
	v->b = b;
	v3_describe(v);
	return b;
}
