/*
 * podmesh-bgpd's datastore mode (DESIGN.md "Data flow"): etcd -> watch
 * cache -> node_derive() -> a bgpd_config -> the speaker, and the kernel
 * sync's route policy and VXLAN neighbours from the same cache.
 *
 * Changes are debounced (a burst of etcd events, one derivation) and a
 * derivation that gives the configuration already running is dropped, so
 * pod churn that moves no block costs a derivation and a comparison, both
 * linear, and nothing in the speaker or the kernel.  Until the cache has
 * read etcd once nothing is applied: the router id and ASN come from the
 * datastore, so the speaker starts only then.  When etcd goes away the
 * cache keeps what it had, and so do the sessions and kernel routes.
 */
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/config.h"
#include "bgp/kernel.h"
#include "node/derive.h"
#include "node/dsmode.h"
#include "node/node.h"
#include "store/etcd.h"
#include "store/wcache.h"

#define DS_DEBOUNCE_US 20000 /* events this close together: one derivation */
#define DS_TUNL "tunl0"
#define DS_VXLAN "vxlan.calico"

struct node_ds {
	struct event_base *base;
	struct bgpd_config *file; /* our copy of the file's configuration */
	struct bgpd_config *applied; /* what the speaker runs (a copy) */
	node_ds_apply_fn *apply;
	void *arg;
	struct etcd *etcd;
	struct wcache *wc;
	struct event *debounce;
	struct kernel *kernel;
	struct node_shaper shaper;
	bool have_shaper;
	bool links_changed; /* a tunnel device came, went or was made again */
	char lasterr[256]; /* the last derivation error, logged once */
};

static enum peer_kind
ds_peer_kind(enum node_peer_type t)
{
	switch (t) {
	case NODE_PEER_MESH:
		return PEER_KIND_MESH;
	case NODE_PEER_GLOBAL:
		return PEER_KIND_GLOBAL;
	case NODE_PEER_NODE:
	default:
		return PEER_KIND_NODE;
	}
}

/* Calico's BIRD templates: every BGP protocol is `multihop` */
static struct peer_config *
ds_peer(const struct bgpd_config *nc, const struct node_peer *np)
{
	struct peer_config *pc = peer_config_new(nc, 0);
	enum aid aid, mine = aid_from_family(np->addr.family);
	char desc[320];

	pc->kind = ds_peer_kind(np->type);
	pc->addr = np->addr;
	pc->asn = np->asn;
	pc->port = np->port != 0 ? np->port : BGP_PORT;
	pc->passive = np->passive;
	pc->rr_client = np->rr_client;
	pc->local_addr = np->source;
	if (np->password != NULL)
		pc->password = xstrdup(np->password);
	for (aid = 0; aid < AID_MAX; aid++)
		pc->families[aid] = aid == mine;
	if (np->asn != nc->asn)
		pc->multihop = 255;
	snprintf(desc, sizeof(desc), "%s %s", peer_kind_name(pc->kind),
	    np->name != NULL ? np->name : "");
	pc->description = xstrdup(desc);
	return pc;
}

static struct prefix *
ds_prefixes(const struct prefix *a, size_t na, const struct prefix *b,
    size_t nb, size_t *n)
{
	struct prefix *v;

	*n = na + nb;
	if (*n == 0)
		return NULL;
	v = xcalloc(*n, sizeof(*v));
	if (na > 0)
		memcpy(v, a, na * sizeof(*a));
	if (nb > 0)
		memcpy(v + na, b, nb * sizeof(*b));
	return v;
}

/*
 * The file's configuration with the node's derived settings on top: the
 * router id and ASN of the Node, its listen port, reflector role, peers
 * and blocks; static peers and prefixes of the file stay beside them.
 */
struct bgpd_config *
node_ds_build(const struct bgpd_config *file, const struct wcache *wc,
    const char *me, char *err, size_t errlen)
{
	struct peer_config *pc, *fpc;
	struct bgpd_config *nc;
	struct node_bgp nb;
	size_t i;

	memset(&nb, 0, sizeof(nb));
	if (node_derive(wc, me, &nb, err, errlen) == -1)
		return NULL;
	nc = config_dup(file);
	nc->router_id = nb.router_id;
	nc->asn = nb.asn;
	if (nb.listen_port != 0)
		nc->listen_port = nb.listen_port;
	if (nb.route_reflector) {
		nc->route_reflector = true;
		nc->cluster_id = nb.cluster_id;
	} else if (file->route_reflector && file->cluster_id == 0) {
		nc->cluster_id = nb.router_id;
	}
	free(nc->originate);
	nc->originate = ds_prefixes(file->originate, file->noriginate,
	    nb.announce, nb.nannounce, &nc->noriginate);
	nc->own_blocks =
	    ds_prefixes(nb.own_blocks, nb.nown, NULL, 0, &nc->nown_blocks);
	nc->lent = ds_prefixes(nb.lent, nb.nlent, NULL, 0, &nc->nlent);
	for (i = 0; i < nb.npeers; i++) {
		/* a static peer of the file wins over a derived one */
		if ((fpc = config_find_peer(file, &nb.peers[i].addr)) != NULL &&
		    !fpc->is_range)
			continue;
		pc = ds_peer(nc, &nb.peers[i]);
		TAILQ_INSERT_TAIL(&nc->peers, pc, entry);
	}
	node_bgp_clean(&nb);
	return nc;
}

static bool
ds_prefixes_same(
    const struct prefix *a, size_t na, const struct prefix *b, size_t nb)
{
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++)
		if (prefix_cmp(&a[i], &b[i]) != 0)
			return false;
	return true;
}

/* what the speaker would do differently with b than with a */
bool
node_ds_config_same(const struct bgpd_config *a, const struct bgpd_config *b)
{
	const struct peer_config *pa, *pb;

	if (a->router_id != b->router_id || a->asn != b->asn ||
	    a->listen_port != b->listen_port ||
	    a->route_reflector != b->route_reflector ||
	    a->cluster_id != b->cluster_id ||
	    !ds_prefixes_same(
	        a->originate, a->noriginate, b->originate, b->noriginate) ||
	    !ds_prefixes_same(
	        a->own_blocks, a->nown_blocks, b->own_blocks, b->nown_blocks) ||
	    !ds_prefixes_same(a->lent, a->nlent, b->lent, b->nlent))
		return false;
	pa = TAILQ_FIRST(&a->peers);
	pb = TAILQ_FIRST(&b->peers);
	for (; pa != NULL && pb != NULL;
	     pa = TAILQ_NEXT(pa, entry), pb = TAILQ_NEXT(pb, entry))
		if (!peer_config_equal(pa, pb))
			return false;
	return pa == NULL && pb == NULL;
}

static unsigned int
ds_ifindex(const char *name)
{
	return if_nametoindex(name); /* 0 when absent */
}

/*
 * The kernel policy: rebuilt on every change, applied when it differs.
 * Returns whether it changed (the VTEPs are part of it).
 */
static bool
ds_shaper(struct node_ds *ds)
{
	struct node_shaper ns;
	char err[256];

	if (ds->kernel == NULL)
		return false;
	memset(&ns, 0, sizeof(ns));
	if (node_shaper_build(&ns, ds->wc, ds->file->node_name,
	        ds_ifindex(DS_TUNL), ds_ifindex(DS_VXLAN), err,
	        sizeof(err)) == -1) {
		/* the same as the derivation's error, which is said once */
		log_debug("kernel route policy: %s", err);
		node_shaper_clean(&ns);
		return false;
	}
	if (ds->have_shaper && node_shaper_equal(&ds->shaper, &ns)) {
		node_shaper_clean(&ns);
		return false;
	}
	if (ds->have_shaper)
		node_shaper_clean(&ds->shaper);
	ds->shaper = ns; /* the kernel keeps &ds->shaper: same address */
	if (!ds->have_shaper)
		kernel_set_shaper(ds->kernel, node_shape, &ds->shaper);
	ds->have_shaper = true;
	kernel_reshape(ds->kernel);
	return true;
}

static void
ds_vxlan(struct node_ds *ds)
{
	char err[256];
	unsigned int ifindex;

	if (ds->kernel == NULL || (ifindex = ds_ifindex(DS_VXLAN)) == 0)
		return;
	if (node_vxlan_sync_cache(
	        ds->wc, ds->file->node_name, ifindex, err, sizeof(err)) == -1)
		log_warnx("%s: %s", DS_VXLAN, err);
}

static void
ds_derive(struct node_ds *ds)
{
	struct bgpd_config *nc;
	char err[256];

	if (!wcache_synced(ds->wc))
		return;
	/*
	 * First, even if the node's BGP setup cannot be derived: the
	 * neighbours follow the VTEPs, which are part of the policy, and
	 * a vxlan.calico made again (same MAC, so the same VTEPs) lost them.
	 */
	if (ds_shaper(ds) || ds->links_changed)
		ds_vxlan(ds);
	ds->links_changed = false;
	nc = node_ds_build(
	    ds->file, ds->wc, ds->file->node_name, err, sizeof(err));
	if (nc == NULL) {
		if (strcmp(err, ds->lasterr) != 0)
			log_warnx("datastore: %s", err);
		snprintf(ds->lasterr, sizeof(ds->lasterr), "%s", err);
		return;
	}
	if (ds->lasterr[0] != '\0')
		log_info(
		    "datastore: node %s is usable again", ds->file->node_name);
	ds->lasterr[0] = '\0';
	if (ds->applied != NULL && node_ds_config_same(ds->applied, nc)) {
		config_free(nc);
		return;
	}
	config_free(ds->applied);
	ds->applied = config_dup(nc);
	ds->apply(nc, ds->arg);
}

static void
ds_debounced(evutil_socket_t fd, short what, void *arg)
{
	ds_derive(arg);
}

static void
ds_changed(struct wcache *wc, const struct wcache_event *ev, void *arg)
{
	struct node_ds *ds = arg;
	struct timeval tv = {0, DS_DEBOUNCE_US};

	if (ev->type == WCACHE_SYNCED && ds->applied == NULL) {
		log_info("datastore: read at revision %lld",
		    (long long)ev->revision);
		event_del(ds->debounce);
		ds_derive(ds);
		return;
	}
	if (!evtimer_pending(ds->debounce, NULL))
		evtimer_add(ds->debounce, &tv);
}

static char *
ds_join(char **v, size_t n)
{
	size_t i, len = 1, off = 0;
	char *s;

	for (i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	s = xcalloc(1, len);
	for (i = 0; i < n; i++)
		off += snprintf(
		    s + off, len - off, "%s%s", i > 0 ? "," : "", v[i]);
	return s;
}

struct node_ds *
node_ds_new(struct event_base *base, const struct bgpd_config *file,
    node_ds_apply_fn *apply, void *arg, char *err, size_t errlen)
{
	const struct datastore_config *d = &file->datastore;
	struct etcd_config ec;
	struct etcd_error ee;
	struct node_ds *ds;
	char *eps;

	if (d->type != NULL && strcmp(d->type, "etcdv3") != 0) {
		snprintf(err, errlen,
		    "datastore type %s: podmesh-bgpd reads etcdv3 only; "
		    "migrate a Calico v2.6 datastore with `podmeshctl "
		    "migrate from-etcdv2`",
		    d->type);
		return NULL;
	}
	memset(&ec, 0, sizeof(ec));
	eps = ds_join(d->endpoints, d->nendpoints);
	ec.endpoints = eps;
	ec.ca_file = d->ca_file;
	ec.cert_file = d->cert_file;
	ec.key_file = d->key_file;
	ec.username = d->username;
	ec.password = d->password;
	ec.base = base;
	ds = xcalloc(1, sizeof(*ds));
	ds->etcd = etcd_new(&ec, &ee);
	free(eps);
	if (ds->etcd == NULL) {
		snprintf(err, errlen, "%s", ee.msg);
		free(ds);
		return NULL;
	}
	ds->base = base;
	ds->file = config_dup(file);
	ds->apply = apply;
	ds->arg = arg;
	ds->debounce = evtimer_new(base, ds_debounced, ds);
	ds->wc = node_cache_new(ds->etcd, base);
	wcache_set_callback(ds->wc, ds_changed, ds);
	wcache_start(ds->wc);
	return ds;
}

void
node_ds_set_file(struct node_ds *ds, const struct bgpd_config *file)
{
	config_free(ds->file);
	ds->file = config_dup(file);
	config_free(ds->applied);
	ds->applied = NULL; /* apply whatever comes, even if equal */
	ds_derive(ds);
}

/*
 * tunl0 or vxlan.calico appeared, went, or came back with a new index
 * (podmesh-node makes vxlan.calico again when its settings change): the
 * policy holds their indexes, so derive again, without waiting for etcd.
 */
static void
ds_link(void *arg, unsigned int ifindex, const char *ifname, bool gone)
{
	struct node_ds *ds = arg;
	struct timeval tv = {0, DS_DEBOUNCE_US};

	if (strcmp(ifname, DS_TUNL) != 0 && strcmp(ifname, DS_VXLAN) != 0)
		return;
	log_info("%s %s (index %u): shaping routes again", ifname,
	    gone ? "gone" : "changed", ifindex);
	ds->links_changed = true;
	if (!evtimer_pending(ds->debounce, NULL))
		evtimer_add(ds->debounce, &tv);
}

void
node_ds_set_kernel(struct node_ds *ds, struct kernel *k)
{
	ds->kernel = k;
	if (k != NULL)
		kernel_set_link_cb(k, ds_link, ds);
	if (k != NULL && wcache_synced(ds->wc)) {
		ds_shaper(ds);
		ds_vxlan(ds);
	}
}

bool
node_ds_synced(const struct node_ds *ds)
{
	return wcache_synced(ds->wc) && ds->applied != NULL;
}

const struct wcache *
node_ds_cache(const struct node_ds *ds)
{
	return ds->wc;
}

void
node_ds_free(struct node_ds *ds)
{
	if (ds == NULL)
		return;
	wcache_free(ds->wc);
	etcd_free(ds->etcd);
	event_free(ds->debounce);
	if (ds->have_shaper)
		node_shaper_clean(&ds->shaper);
	config_free(ds->file);
	config_free(ds->applied);
	free(ds);
}
