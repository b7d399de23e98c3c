/*
 * node_derive(): the BGP speaker's identity and peers for one node, as
 * Calico v3 derives them: confd's updatePeersV1 and bird.cfg.template
 * (calico.md §1 "Route reflectors", §3):
 *
 *  - router id: my Node's IPv4 address; AS: my Node's, else the global
 *    (BGPConfiguration default, else 64512); listen port: listenPort of
 *    BGPConfiguration node.<me>, else of default;
 *  - node-to-node mesh unless default says nodeToNodeMeshEnabled false:
 *    every other Node with an address of a family I also have, on its
 *    listen port, passive on my side when its address is greater than
 *    mine as a string (so only one side connects).  As in the template, a
 *    route reflector ignores the mesh and the mesh skips reflectors;
 *  - BGPPeers: global ones (no node, no nodeSelector) on every node,
 *    `node` on that node, `nodeSelector` on the nodes whose labels match;
 *    peerIP ("IP" or "IP:port") gives one peer (on that node's listen port
 *    when it is a Calico node and no port is given), peerSelector one per
 *    matching Node (its addresses, AS and listen port), never myself;
 *  - reverse peerings, for symmetry between Calico nodes: when a BGPPeer's
 *    remote side (peerSelector, or a peerIP that is a Calico node with
 *    that AS) is me, I peer with the nodes it applies to;
 *  - one peer per address, in this order of precedence: a global
 *    BGPPeer's, then a node-scoped one's (confd skips a node peering that
 *    duplicates a global one), then a reverse peering (an explicit one
 *    wins), then the mesh; ties go to the BGPPeer first by name;
 *  - rr client: the peer's AS is mine, I have a cluster id, and the
 *    peer's cluster id (a Node's routeReflectorClusterID; none for a
 *    peerIP peer) is not mine;
 *  - keepOriginalNextHop applies to eBGP peers only ("next hop keep").
 *
 * Nodes whose values do not decode are absent from the view (the cache
 * logged them once); nodes without an address simply give no peering.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "node/derive.h"

#define PRIO_GLOBAL 0
#define PRIO_NODE 1
#define PRIO_REVERSE 2
#define PRIO_MESH 3

/* a Node as a possible peer */
struct pnode {
	const char *name;
	struct addr v4; /* family 0: none */
	struct addr v6;
	uint32_t asn; /* its own, else the global */
	uint16_t port; /* its listen port; 0: 179 */
	struct addr cid; /* routeReflectorClusterID; family 0: none */
	struct labels labels;
};

/* a peering before duplicates are dropped */
struct cand {
	struct node_peer p; /* p.name borrowed from the cache */
	const struct addr *cid; /* the peer's cluster id, or NULL */
	bool keep; /* keepOriginalNextHop */
	bool nosrc; /* sourceAddress: None */
	int prio;
	size_t seq;
};

struct derive {
	const struct wcache *wc;
	struct pnode *nodes; /* in name order */
	size_t nnodes;
	const struct pnode *self;
	uint32_t global_asn;
	uint16_t global_port;
	struct cand *c;
	size_t nc, capc;
};

static uint16_t
peers_listen_port(const struct wcache *wc, const char *node, uint16_t global)
{
	const struct resource *r;
	char name[MODEL_NAME_MAX + 8];

	snprintf(name, sizeof(name), "node.%s", node);
	if ((r = node_view_get(wc, MODEL_BGPCONFIG, name)) != NULL &&
	    r->bgpconfig.listen_port != 0)
		return r->bgpconfig.listen_port;
	return global;
}

static void
peers_nodes(struct derive *d)
{
	const struct resource *r;
	struct node_view_iter it;
	struct pnode *n;
	size_t cap = 0;

	for (r = node_view_first(d->wc, &it, MODEL_NODE); r != NULL;
	     r = node_view_next(&it)) {
		const struct model_node_bgp *b = &r->node.bgp;

		if (d->nnodes == cap) {
			cap = cap ? cap * 2 : 16;
			d->nodes = xreallocarray(d->nodes, cap, sizeof(*n));
		}
		n = &d->nodes[d->nnodes++];
		memset(n, 0, sizeof(*n));
		n->name = r->meta.name;
		if (r->node.has_bgp) {
			n->v4 = b->ipv4_address.a;
			n->v4.scope_id = 0;
			n->v6 = b->ipv6_address.a;
			n->v6.scope_id = 0;
			n->cid = b->rr_cluster_id;
			n->asn = b->asn;
		}
		if (n->asn == 0)
			n->asn = d->global_asn;
		n->port = peers_listen_port(d->wc, n->name, d->global_port);
		model_labels_view(&r->meta.labels, &n->labels);
	}
}

static int
pnode_cmp_name(const void *key, const void *elem)
{
	const struct pnode *n = elem;

	return strcmp(key, n->name);
}

static const struct pnode *
peers_node(const struct derive *d, const char *name)
{
	if (d->nnodes == 0)
		return NULL;
	return bsearch(
	    name, d->nodes, d->nnodes, sizeof(*d->nodes), pnode_cmp_name);
}

static const struct addr *
peers_self_addr(const struct derive *d, int family)
{
	return family == AF_INET ? &d->self->v4 : &d->self->v6;
}

static struct cand *
peers_add(struct derive *d, const struct addr *a, uint16_t port, uint32_t asn,
    enum node_peer_type type, const char *name, int prio)
{
	const struct addr *mine = peers_self_addr(d, a->family);
	struct cand *c;

	if (a->family != AF_INET && a->family != AF_INET6)
		return NULL;
	/* Calico's template: "Skipping ourselves" */
	if (mine->family != 0 && addr_cmp(a, mine) == 0)
		return NULL;
	if (d->nc == d->capc) {
		d->capc = d->capc ? d->capc * 2 : 32;
		d->c = xreallocarray(d->c, d->capc, sizeof(*d->c));
	}
	c = &d->c[d->nc];
	memset(c, 0, sizeof(*c));
	c->p.addr = *a;
	c->p.port = port;
	c->p.asn = asn;
	c->p.type = type;
	c->p.name = (char *)name;
	c->prio = prio;
	c->seq = d->nc++;
	return c;
}

#define FAM_V4 0x1
#define FAM_V6 0x2

/* BGPPeer sourceAddress: UseNodeIP (the default) or None */
static bool
peers_nosrc(const struct model_bgppeer *bp)
{
	return bp->source_address != NULL &&
	    strcasecmp(bp->source_address, "None") == 0;
}

/* a peering with a Node: one per family (of fams) both of us have */
static void
peers_add_node(struct derive *d, const struct pnode *n, int fams,
    enum node_peer_type type, bool keep_next_hop, bool nosrc, int prio)
{
	const struct addr *fam[2] = {&n->v4, &n->v6};
	char mine[ADDR_STRLEN], theirs[ADDR_STRLEN];
	struct cand *c;
	size_t i;

	if (n == d->self)
		return;
	for (i = 0; i < 2; i++) {
		if (!(fams & (i == 0 ? FAM_V4 : FAM_V6)) ||
		    fam[i]->family == 0 ||
		    peers_self_addr(d, fam[i]->family)->family == 0)
			continue;
		c = peers_add(d, fam[i], n->port, n->asn, type, n->name, prio);
		if (c == NULL)
			continue;
		c->cid = n->cid.family != 0 ? &n->cid : NULL;
		c->keep = keep_next_hop;
		c->nosrc = nosrc;
		if (type == NODE_PEER_MESH) {
			addr_ntop(fam[i], theirs, sizeof(theirs));
			addr_ntop(peers_self_addr(d, fam[i]->family), mine,
			    sizeof(mine));
			c->p.passive = strcmp(theirs, mine) > 0;
		}
	}
}

/*
 * Is n the Calico node a peerIP BGPPeer names?  Its address, its AS (or
 * the global one) and, when peerIP gives one, its listen port must match
 * (confd's nodesWithIPPortAndAS).
 */
static bool
peers_node_is(const struct derive *d, const struct pnode *n,
    const struct model_bgppeer *bp)
{
	uint32_t asn = bp->asn != 0 ? bp->asn : d->global_asn;

	if (addr_cmp(&n->v4, &bp->peer_ip) != 0 &&
	    addr_cmp(&n->v6, &bp->peer_ip) != 0)
		return false;
	if (n->asn != asn)
		return false;
	return bp->peer_port == 0 ||
	    (n->port != 0 ? n->port : 179) == bp->peer_port;
}

static struct selector *
peers_selector(const struct resource *r, const char *field, const char *text)
{
	struct selector *s;
	char err[256];

	/* the model validated it; a failure here is a bug or a new syntax */
	if ((s = selector_parse(text, err, sizeof(err))) == NULL)
		log_warnx("BGPPeer %s: %s: %s", r->meta.name, field, err);
	return s;
}

/* the peerings a BGPPeer gives the nodes it applies to */
static void
peers_forward(struct derive *d, const struct resource *r,
    const struct selector *ns, const struct selector *ps)
{
	const struct model_bgppeer *bp = &r->bgppeer;
	bool global = model_bgppeer_is_global(bp);
	enum node_peer_type type = global ? NODE_PEER_GLOBAL : NODE_PEER_NODE;
	int prio = global ? PRIO_GLOBAL : PRIO_NODE;
	uint16_t port = bp->peer_port;
	struct cand *c;
	size_t i;

	if (bp->node != NULL && strcmp(bp->node, d->self->name) != 0)
		return;
	if (ns != NULL && !selector_match(ns, &d->self->labels))
		return;
	if (ps != NULL) {
		for (i = 0; i < d->nnodes; i++)
			if (selector_match(ps, &d->nodes[i].labels))
				peers_add_node(d, &d->nodes[i], FAM_V4 | FAM_V6,
				    type, bp->keep_original_next_hop,
				    peers_nosrc(bp), prio);
		return;
	}
	/* a peerIP without a port that is a Calico node: its listen port */
	for (i = 0; port == 0 && i < d->nnodes; i++)
		if (peers_node_is(d, &d->nodes[i], bp))
			port = d->nodes[i].port;
	c = peers_add(d, &bp->peer_ip, port, bp->asn, type, r->meta.name, prio);
	if (c != NULL) {
		c->keep = bp->keep_original_next_hop;
		c->nosrc = peers_nosrc(bp);
	}
}

/*
 * Symmetry between Calico nodes (confd's second pass): when a BGPPeer's
 * remote side (peerSelector, or a peerIP that is a Calico node) is me, I
 * peer back with the nodes it applies to (node, nodeSelector, or every
 * node for a global one), over both families for a selector and over the
 * peerIP's family otherwise.
 */
static void
peers_reverse(struct derive *d, const struct resource *r,
    const struct selector *ns, const struct selector *ps)
{
	const struct model_bgppeer *bp = &r->bgppeer;
	int fams = FAM_V4 | FAM_V6;
	const struct pnode *n;
	size_t i;

	if (ps != NULL) {
		if (!selector_match(ps, &d->self->labels))
			return;
	} else {
		if (!peers_node_is(d, d->self, bp))
			return;
		fams = bp->peer_ip.family == AF_INET ? FAM_V4 : FAM_V6;
	}
	if (bp->node != NULL) {
		if ((n = peers_node(d, bp->node)) != NULL)
			peers_add_node(d, n, fams, NODE_PEER_NODE,
			    bp->keep_original_next_hop, peers_nosrc(bp),
			    PRIO_REVERSE);
		return;
	}
	for (i = 0; i < d->nnodes; i++)
		if (ns == NULL || selector_match(ns, &d->nodes[i].labels))
			peers_add_node(d, &d->nodes[i], fams, NODE_PEER_NODE,
			    bp->keep_original_next_hop, peers_nosrc(bp),
			    PRIO_REVERSE);
}

static void
peers_bgppeer(struct derive *d, const struct resource *r)
{
	const struct model_bgppeer *bp = &r->bgppeer;
	struct selector *ns = NULL, *ps = NULL;

	if (bp->node_selector != NULL &&
	    (ns = peers_selector(r, "nodeSelector", bp->node_selector)) == NULL)
		return;
	if (bp->peer_selector != NULL &&
	    (ps = peers_selector(r, "peerSelector", bp->peer_selector)) ==
	        NULL) {
		selector_free(ns);
		return;
	}
	peers_forward(d, r, ns, ps);
	peers_reverse(d, r, ns, ps);
	selector_free(ns);
	selector_free(ps);
}

static int
cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r;

	if ((r = addr_cmp(&x->p.addr, &y->p.addr)) != 0)
		return r;
	if (x->prio != y->prio)
		return x->prio < y->prio ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
peers_finish(struct derive *d, struct node_bgp *out)
{
	const struct addr *mycid = &d->self->cid;
	struct node_peer *p;
	size_t i;

	if (d->nc == 0)
		return;
	if (d->nc > 1)
		qsort(d->c, d->nc, sizeof(*d->c), cand_cmp);
	out->peers = xcalloc(d->nc, sizeof(*out->peers));
	for (i = 0; i < d->nc; i++) {
		const struct cand *c = &d->c[i];

		if (i > 0 && addr_cmp(&c->p.addr, &d->c[i - 1].p.addr) == 0) {
			log_debug("peering with %s (%s) dropped: a duplicate",
			    c->p.name,
			    c->prio == PRIO_MESH ? "mesh" : "BGPPeer");
			continue;
		}
		p = &out->peers[out->npeers++];
		*p = c->p;
		p->name = xstrdup(c->p.name);
		p->password = NULL;
		p->rr_client = p->asn == out->asn && mycid->family != 0 &&
		    (c->cid == NULL || addr_cmp(c->cid, mycid) != 0);
		/* the template's "next hop keep" is for eBGP peers only */
		p->keep_next_hop = c->keep && p->asn != out->asn;
		/* the template's "source address": my Node address */
		if (!c->nosrc)
			p->source = *peers_self_addr(d, p->addr.family);
	}
}

int
node_derive(const struct wcache *wc, const char *me, struct node_bgp *out,
    char *err, size_t errlen)
{
	const struct resource *def, *nodecfg, *r;
	const struct model_bgpconfig *lc;
	const struct wcache_entry *e;
	struct node_view_iter it;
	struct derive d;
	char name[MODEL_NAME_MAX + 96];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	memset(&d, 0, sizeof(d));
	d.wc = wc;
	def = node_view_get(wc, MODEL_BGPCONFIG, "default");
	d.global_asn = model_bgpconfig_asn(def ? &def->bgpconfig : NULL);
	d.global_port = def != NULL ? def->bgpconfig.listen_port : 0;
	peers_nodes(&d);

	if ((d.self = peers_node(&d, me)) == NULL) {
		if (model_key(MODEL_NODE, NULL, me, name, sizeof(name)) == 0 &&
		    (e = wcache_get(wc, name)) != NULL && e->error != NULL)
			snprintf(err, errlen, "node %s: %s", me, e->error);
		else
			snprintf(
			    err, errlen, "node %s: not in the datastore", me);
		goto out;
	}
	if (d.self->v4.family != AF_INET) {
		snprintf(err, errlen,
		    "node %s: no spec.bgp.ipv4Address for the router id", me);
		goto out;
	}
	out->router_id = addr_v4(&d.self->v4);
	out->asn = d.self->asn;
	out->listen_port = d.self->port;
	if (d.self->cid.family == AF_INET) {
		out->route_reflector = true;
		out->cluster_id = addr_v4(&d.self->cid);
	}
	snprintf(name, sizeof(name), "node.%s", me);
	nodecfg = node_view_get(wc, MODEL_BGPCONFIG, name);
	lc = nodecfg != NULL && nodecfg->bgpconfig.log_severity != NULL
	    ? &nodecfg->bgpconfig
	    : def != NULL ? &def->bgpconfig
	                  : NULL;
	out->log_level = xstrdup(model_bgpconfig_loglevel(lc));

	/*
	 * Calico's template: a route reflector ignores the mesh setting, and
	 * the mesh skips route reflectors (they peer through BGPPeers).
	 */
	if (model_bgpconfig_mesh(def ? &def->bgpconfig : NULL) &&
	    d.self->cid.family == 0) {
		size_t i;

		for (i = 0; i < d.nnodes; i++)
			if (d.nodes[i].cid.family == 0)
				peers_add_node(&d, &d.nodes[i], FAM_V4 | FAM_V6,
				    NODE_PEER_MESH, false, false, PRIO_MESH);
	}
	for (r = node_view_first(wc, &it, MODEL_BGPPEER); r != NULL;
	     r = node_view_next(&it))
		peers_bgppeer(&d, r);
	peers_finish(&d, out);
	node_derive_blocks(wc, me, out);
	rc = 0;
out:
	free(d.nodes);
	free(d.c);
	return rc;
}

void
node_bgp_clean(struct node_bgp *b)
{
	size_t i;

	for (i = 0; i < b->npeers; i++) {
		free(b->peers[i].name);
		free(b->peers[i].password);
	}
	free(b->peers);
	free(b->announce);
	free(b->own_blocks);
	free(b->lent);
	free(b->log_level);
	memset(b, 0, sizeof(*b));
}

static bool
str_equal(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

bool
node_bgp_peer_equal(const struct node_peer *a, const struct node_peer *b)
{
	return addr_cmp(&a->addr, &b->addr) == 0 && a->port == b->port &&
	    a->asn == b->asn && a->passive == b->passive &&
	    a->rr_client == b->rr_client &&
	    str_equal(a->password, b->password) && a->type == b->type &&
	    str_equal(a->name, b->name) &&
	    a->keep_next_hop == b->keep_next_hop &&
	    addr_cmp(&a->source, &b->source) == 0;
}

const struct node_peer *
node_bgp_peer_find(const struct node_bgp *b, const struct addr *a)
{
	size_t lo = 0, hi = b->npeers, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = addr_cmp(a, &b->peers[mid].addr)) == 0)
			return &b->peers[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}
