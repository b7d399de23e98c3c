/*
 * confd_v1tree(): Calico's v3 datastore as the v1 keys confd's templates
 * read, as Calico's confd v3 backend synthesizes them (calico.md §1 "confd
 * still sees v1 keys", §3): confd's pkg/backends/calico/client.go (global
 * defaults, BGPConfiguration keys, updatePeersV1) and libcalico-go's
 * syncersv1 update processors (bgpnodeprocessor, ippoolprocessor) and
 * model keys (combineIPAndPort).
 *
 *  - /calico/bgp/v1/global/{as_num, node_mesh, loglevel} always (defaults
 *    "64512", {"enabled": true} with Calico's space, "info"), listen_port
 *    and node_mesh_restart_time from BGPConfiguration default when set;
 *  - per Node: host/<n>/{ip_addr_v4, ip_addr_v6, rr_cluster_id} always
 *    ("" when unset), network_v4/_v6 (the masked subnet) and as_num when
 *    set; host/<n>/{loglevel, listen_port} from BGPConfiguration node.<n>;
 *  - peers: global/peer_vN/<ip>[-<port>] and host/<n>/peer_vN/<ip>[-<port>]
 *    with the JSON of client.go's bgpPeer struct, selectors expanded,
 *    reverse peerings added, the first emitted for a key winning and node
 *    peerings duplicating a global one dropped;
 *  - /calico/v1/ipam/vN/pool/<cidr> with model.IPPool's JSON;
 *  - nodename's block affinities (pending ones left out), raw.
 *
 * Where Calico iterates Go maps (random order) we go in name order.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/confd.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "node/derive.h"
#include "store/selector.h"

#define V1_BGP "/calico/bgp/v1/"
#define V1_DEFAULT_PORT 179 /* model's defaultPort: no "-179" in keys */

/* a Node as confd's cache holds it */
struct vnode {
	const char *name;
	struct addr a4, a6; /* family 0: none */
	char ip4[ADDR_STRLEN], ip6[ADDR_STRLEN]; /* "" when none */
	uint32_t asn; /* 0: none (the global one applies) */
	char rr[ADDR_STRLEN]; /* rr_cluster_id, "" when none */
	struct labels labels;
};

/* client.go's bgpPeer before json.Marshal */
struct vpeer {
	struct addr ip;
	uint32_t asn;
	const char *rr;
	const char *source_addr;
	uint16_t port;
	bool keep_next_hop;
	char restart_time[24];
};

struct v1 {
	const struct wcache *wc;
	struct confd_kv *v; /* unsorted while building */
	size_t n, cap;
	struct vnode *nodes; /* in name order */
	size_t nnodes;
	uint32_t global_asn;
	uint16_t global_port;
	/* peerings emitted so far: an open hash of indexes into v */
	size_t *peers;
	size_t npeers, peercap;
};

static void
v1_put(struct v1 *t, char *key, char *value)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	t->v[t->n].key = key;
	t->v[t->n].value = value;
	t->n++;
}

static void __attribute__((format(printf, 3, 4)))
v1_set(struct v1 *t, const char *value, const char *fmt, ...)
{
	va_list ap;
	char *key;

	va_start(ap, fmt);
	if (vasprintf(&key, fmt, ap) == -1)
		fatal("%s", __func__);
	va_end(ap);
	v1_put(t, key, xstrdup(value));
}

/* ---- Go's time.ParseDuration, rounded to seconds as client.go does ---- */

static int
go_duration_seconds(const char *s, long *out)
{
	static const struct {
		const char *unit;
		double sec;
	} units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6},
	    {"\xce\xbcs", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"m", 60},
	    {"h", 3600}};
	double total = 0, v, frac, scale;
	bool neg = false, digits;
	size_t i, ul;

	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		v = 0;
		digits = false;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s++ - '0');
			digits = true;
		}
		if (*s == '.') {
			s++;
			frac = 0;
			scale = 1;
			while (isdigit((unsigned char)*s)) {
				frac = frac * 10 + (*s++ - '0');
				scale *= 10;
				digits = true;
			}
			v += frac / scale;
		}
		if (!digits)
			return -1;
		/* "ms" is tried before "m" */
		for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
			ul = strlen(units[i].unit);
			if (strncmp(s, units[i].unit, ul) == 0)
				break;
		}
		if (i == sizeof(units) / sizeof(units[0]))
			return -1;
		total += v * units[i].sec;
		s += strlen(units[i].unit);
	}
	*out = lround(neg ? -total : total);
	return 0;
}

/* a duration member of extra, as seconds text; "" when absent or bad */
static void
extra_seconds(const json_t *extra, const char *name, char *buf, size_t len)
{
	const json_t *v;
	long sec;

	buf[0] = '\0';
	if (extra == NULL || (v = json_object_get(extra, name)) == NULL ||
	    !json_is_string(v))
		return;
	if (go_duration_seconds(json_string_value(v), &sec) == -1) {
		log_debug(
		    "%s \"%s\": not a duration", name, json_string_value(v));
		return;
	}
	snprintf(buf, len, "%ld", sec);
}

/* ---- BGPConfiguration ---- */

static const char *
v1_loglevel(const char *severity, char *buf, size_t len)
{
	size_t i;

	for (i = 0; severity[i] != '\0' && i + 1 < len; i++)
		buf[i] = tolower((unsigned char)severity[i]);
	buf[i] = '\0';
	if (strcmp(buf, "debug") != 0 && strcmp(buf, "info") != 0)
		return "none";
	return buf;
}

static void
v1_bgpconfig(struct v1 *t)
{
	const struct resource *r, *def;
	const struct model_bgpconfig *c;
	struct node_view_iter it;
	char buf[32];
	const char *node;

	def = node_view_get(t->wc, MODEL_BGPCONFIG, "default");
	c = def != NULL ? &def->bgpconfig : NULL;
	t->global_asn = c != NULL && c->asn != 0 ? c->asn : MODEL_DEFAULT_ASN;
	t->global_port = c != NULL ? c->listen_port : 0;
	snprintf(buf, sizeof(buf), "%u", t->global_asn);
	v1_set(t, buf, V1_BGP "global/as_num");
	/* the default is client.go's globalDefaults, the others its
	 * nodeToNodeMeshEnabled/Disabled: they differ by a space */
	v1_set(t,
	    c == NULL || c->node_mesh == MODEL_UNSET ? "{\"enabled\": true}"
	        : c->node_mesh == MODEL_TRUE         ? "{\"enabled\":true}"
	                                             : "{\"enabled\":false}",
	    V1_BGP "global/node_mesh");
	v1_set(t,
	    c != NULL && c->log_severity != NULL && *c->log_severity != '\0'
	        ? v1_loglevel(c->log_severity, buf, sizeof(buf))
	        : "info",
	    V1_BGP "global/loglevel");
	if (t->global_port != 0) {
		snprintf(buf, sizeof(buf), "%u", t->global_port);
		v1_set(t, buf, V1_BGP "global/listen_port");
	}
	if (c != NULL) {
		extra_seconds(
		    c->extra, "nodeMeshMaxRestartTime", buf, sizeof(buf));
		if (buf[0] != '\0')
			v1_set(t, buf, V1_BGP "global/node_mesh_restart_time");
	}

	/* node.<n>: loglevel and listen_port, whether or not <n> exists */
	for (r = node_view_first(t->wc, &it, MODEL_BGPCONFIG); r != NULL;
	     r = node_view_next(&it)) {
		if (strncmp(r->meta.name, "node.", 5) != 0)
			continue;
		node = r->meta.name + 5;
		c = &r->bgpconfig;
		if (c->log_severity != NULL && *c->log_severity != '\0')
			v1_set(t,
			    v1_loglevel(c->log_severity, buf, sizeof(buf)),
			    V1_BGP "host/%s/loglevel", node);
		if (c->listen_port != 0) {
			snprintf(buf, sizeof(buf), "%u", c->listen_port);
			v1_set(t, buf, V1_BGP "host/%s/listen_port", node);
		}
	}
}

/* c.nodeListenPorts[n], else c.globalListenPort (0: unset) */
static uint16_t
v1_listen_port(const struct v1 *t, const char *node, bool *own)
{
	const struct resource *r;
	char name[MODEL_NAME_MAX + 8];

	snprintf(name, sizeof(name), "node.%s", node);
	if ((r = node_view_get(t->wc, MODEL_BGPCONFIG, name)) != NULL &&
	    r->bgpconfig.listen_port != 0) {
		if (own != NULL)
			*own = true;
		return r->bgpconfig.listen_port;
	}
	if (own != NULL)
		*own = false;
	return t->global_port;
}

/* ---- Nodes (bgpnodeprocessor) ---- */

static void
v1_nodes(struct v1 *t)
{
	const struct resource *r;
	struct node_view_iter it;
	struct vnode *n;
	struct prefix net;
	char buf[PREFIX_STRLEN];
	size_t cap = 0;

	for (r = node_view_first(t->wc, &it, MODEL_NODE); r != NULL;
	     r = node_view_next(&it)) {
		const struct model_node_bgp *b = &r->node.bgp;

		if (t->nnodes == cap) {
			cap = cap ? cap * 2 : 16;
			t->nodes = xreallocarray(t->nodes, cap, sizeof(*n));
		}
		n = &t->nodes[t->nnodes++];
		memset(n, 0, sizeof(*n));
		n->name = r->meta.name;
		model_labels_view(&r->meta.labels, &n->labels);
		if (r->node.has_bgp) {
			if (b->ipv4_address.a.family == AF_INET) {
				n->a4 = b->ipv4_address.a;
				n->a4.scope_id = 0;
				addr_ntop(&n->a4, n->ip4, sizeof(n->ip4));
			}
			if (b->ipv6_address.a.family == AF_INET6) {
				n->a6 = b->ipv6_address.a;
				n->a6.scope_id = 0;
				addr_ntop(&n->a6, n->ip6, sizeof(n->ip6));
			}
			n->asn = b->asn;
			if (b->rr_cluster_id.family != 0)
				addr_ntop(
				    &b->rr_cluster_id, n->rr, sizeof(n->rr));
		}
		v1_set(t, n->ip4, V1_BGP "host/%s/ip_addr_v4", n->name);
		v1_set(t, n->ip6, V1_BGP "host/%s/ip_addr_v6", n->name);
		v1_set(t, n->rr, V1_BGP "host/%s/rr_cluster_id", n->name);
		if (n->a4.family != 0) {
			net = b->ipv4_address;
			net.a.scope_id = 0;
			prefix_mask(&net);
			prefix_ntop(&net, buf, sizeof(buf));
			v1_set(t, buf, V1_BGP "host/%s/network_v4", n->name);
		}
		if (n->a6.family != 0) {
			net = b->ipv6_address;
			net.a.scope_id = 0;
			prefix_mask(&net);
			prefix_ntop(&net, buf, sizeof(buf));
			v1_set(t, buf, V1_BGP "host/%s/network_v6", n->name);
		}
		if (n->asn != 0) {
			snprintf(buf, sizeof(buf), "%u", n->asn);
			v1_set(t, buf, V1_BGP "host/%s/as_num", n->name);
		}
	}
}

static int
vnode_cmp_name(const void *key, const void *elem)
{
	const struct vnode *n = elem;

	return strcmp(key, n->name);
}

static const struct vnode *
v1_node(const struct v1 *t, const char *name)
{
	if (t->nnodes == 0)
		return NULL;
	return bsearch(
	    name, t->nodes, t->nnodes, sizeof(*t->nodes), vnode_cmp_name);
}

/* ---- peerings (client.go updatePeersV1) ---- */

static size_t
str_hash(const char *s)
{
	size_t h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* the slot of key in the peering hash: its index + 1, or an empty one */
static size_t *
peer_slot(const struct v1 *t, const char *key)
{
	size_t i = str_hash(key) & (t->peercap - 1);

	while (t->peers[i] != 0 && strcmp(t->v[t->peers[i] - 1].key, key) != 0)
		i = (i + 1) & (t->peercap - 1);
	return &t->peers[i];
}

static bool
peer_exists(const struct v1 *t, const char *key)
{
	return t->peercap != 0 && *peer_slot(t, key) != 0;
}

static void
peer_insert(struct v1 *t, char *key, char *value)
{
	size_t *old = t->peers, oldcap = t->peercap, i;

	if ((t->npeers + 1) * 2 > t->peercap) {
		t->peercap = t->peercap ? t->peercap * 2 : 64;
		t->peers = xcalloc(t->peercap, sizeof(*t->peers));
		for (i = 0; i < oldcap; i++)
			if (old[i] != 0)
				*peer_slot(t, t->v[old[i] - 1].key) = old[i];
		free(old);
	}
	v1_put(t, key, value);
	*peer_slot(t, key) = t->n;
	t->npeers++;
}

/* model's combineIPAndPort, under global/ (node NULL) or host/<node>/ */
static char *
peer_key(const char *node, const struct addr *ip, uint16_t port)
{
	char a[ADDR_STRLEN], p[8] = "";
	char *key;
	int v = ip->family == AF_INET6 ? 6 : 4;

	addr_ntop(ip, a, sizeof(a));
	if (port != 0 && port != V1_DEFAULT_PORT)
		snprintf(p, sizeof(p), "-%u", port);
	if (node == NULL)
		xasprintf(&key, V1_BGP "global/peer_v%d/%s%s", v, a, p);
	else
		xasprintf(&key, V1_BGP "host/%s/peer_v%d/%s%s", node, v, a, p);
	return key;
}

/*
 * json.Marshal of client.go's bgpPeer: ip, as_num (",string"),
 * rr_cluster_id, password (a *string: null, the secret lives in
 * Kubernetes), source_addr, port, keep_next_hop, restart_time.  Every
 * string here is an address, digits or a validated enum: nothing to
 * escape.
 */
static char *
peer_json(const struct vpeer *p)
{
	char a[ADDR_STRLEN], *s;

	addr_ntop(&p->ip, a, sizeof(a));
	xasprintf(&s,
	    "{\"ip\":\"%s\",\"as_num\":\"%u\",\"rr_cluster_id\":\"%s\","
	    "\"password\":null,\"source_addr\":\"%s\",\"port\":%u,"
	    "\"keep_next_hop\":%s,\"restart_time\":\"%s\"}",
	    a, p->asn, p->rr != NULL ? p->rr : "",
	    p->source_addr != NULL ? p->source_addr : "", p->port,
	    p->keep_next_hop ? "true" : "false", p->restart_time);
	return s;
}

/* the emit closure: the first for a key wins; a node peering that
 * duplicates a global one (same address and port) is dropped */
static void
peer_emit(struct v1 *t, const char *node, const struct vpeer *p)
{
	char *key = peer_key(node, &p->ip, p->port), *gkey;

	if (peer_exists(t, key)) {
		free(key);
		return;
	}
	if (node != NULL) {
		gkey = peer_key(NULL, &p->ip, p->port);
		if (peer_exists(t, gkey)) {
			free(gkey);
			free(key);
			return;
		}
		free(gkey);
	}
	peer_insert(t, key, peer_json(p));
}

static bool
str_set(const char *s)
{
	return s != NULL && *s != '\0';
}

static struct selector *
v1_selector(const struct resource *r, const char *field, const char *text)
{
	struct selector *s;
	char err[256];

	if (!str_set(text))
		return NULL;
	if ((s = selector_parse(text, err, sizeof(err))) == NULL)
		log_warnx("BGPPeer %s: %s: %s", r->meta.name, field, err);
	return s;
}

/* nodeAsBGPPeers: a peering per family of n's (v4, v6 as asked) */
static size_t
node_as_peers(const struct v1 *t, const struct vnode *n, bool v4, bool v6,
    struct vpeer *out)
{
	size_t i, k = 0;

	if (n == NULL)
		return 0;
	if (v4 && n->a4.family != 0)
		out[k++].ip = n->a4;
	if (v6 && n->a6.family != 0)
		out[k++].ip = n->a6;
	for (i = 0; i < k; i++) {
		out[i].port = v1_listen_port(t, n->name, NULL);
		out[i].asn = n->asn != 0 ? n->asn : t->global_asn;
		out[i].rr = n->rr;
		out[i].keep_next_hop = false;
	}
	return k;
}

/* setPeerConfigFieldsFromV3Resource: password, source_addr, restart_time */
static void
peer_fields(const struct resource *r, struct vpeer *p, size_t n)
{
	const struct model_bgppeer *bp = &r->bgppeer;
	char restart[24];
	size_t i;

	extra_seconds(bp->extra, "maxRestartTime", restart, sizeof(restart));
	for (i = 0; i < n; i++) {
		p[i].source_addr = str_set(bp->source_address)
		    ? bp->source_address
		    : "UseNodeIP";
		memcpy(p[i].restart_time, restart, sizeof(restart));
	}
}

/*
 * nodesWithIPPortAndAS, port check quirk included: a node with its own
 * listen port must have that one, and then a global listen port must
 * also be the one asked for.
 */
static bool
node_with_ip_port_as(
    const struct v1 *t, const struct vnode *n, const struct model_bgppeer *bp)
{
	uint32_t want = bp->asn != 0 ? bp->asn : t->global_asn;
	uint32_t have = n->asn != 0 ? n->asn : t->global_asn;
	uint16_t np;
	bool own;

	if (addr_cmp(&n->a4, &bp->peer_ip) != 0 &&
	    addr_cmp(&n->a6, &bp->peer_ip) != 0)
		return false;
	if (have != want)
		return false;
	if (bp->peer_port != 0) {
		np = v1_listen_port(t, n->name, &own);
		if (own && np != bp->peer_port)
			return false;
		if (t->global_port != 0 && t->global_port != bp->peer_port)
			return false;
	}
	return true;
}

/*
 * The local nodes of a peering: indexes into t->nodes, in name order (a
 * list, not a bitmap: emitting walks it once per peer, and a reflector
 * peering with every node must not cost nodes * nodes).
 */
struct locals {
	size_t *v;
	size_t n;
};

static void
match_nodes(const struct v1 *t, const struct selector *s, struct locals *l)
{
	size_t i;

	l->n = 0;
	for (i = 0; i < t->nnodes; i++)
		if (selector_match(s, &t->nodes[i].labels))
			l->v[l->n++] = i;
}

static void
peers_forward(struct v1 *t, const struct resource *r, bool global_pass,
    const struct selector *ns, const struct selector *ps,
    const struct locals *loc, struct vpeer *pv)
{
	const struct model_bgppeer *bp = &r->bgppeer;
	size_t i, j, np = 0;
	uint16_t port;

	if (ps != NULL) {
		for (i = 0; i < t->nnodes; i++)
			if (selector_match(ps, &t->nodes[i].labels))
				np += node_as_peers(
				    t, &t->nodes[i], true, true, pv + np);
	} else {
		if (bp->peer_ip.family == 0) {
			log_debug("BGPPeer %s: no peerIP", r->meta.name);
			return;
		}
		port = bp->peer_port;
		/* a Calico node's listen port when peerIP gives none */
		for (i = 0; port == 0 && i < t->nnodes; i++)
			if (node_with_ip_port_as(t, &t->nodes[i], bp)) {
				port =
				    v1_listen_port(t, t->nodes[i].name, NULL);
				break;
			}
		memset(&pv[0], 0, sizeof(pv[0]));
		pv[0].ip = bp->peer_ip;
		pv[0].ip.scope_id = 0;
		pv[0].asn = bp->asn;
		pv[0].port = port;
		pv[0].keep_next_hop = bp->keep_original_next_hop;
		np = 1;
	}
	if (np == 0)
		return;
	peer_fields(r, pv, np);
	for (i = 0; i < np; i++) {
		if (global_pass) {
			peer_emit(t, NULL, &pv[i]);
			continue;
		}
		if (ns != NULL) {
			for (j = 0; j < loc->n; j++)
				peer_emit(t, t->nodes[loc->v[j]].name, &pv[i]);
		} else if (str_set(bp->node))
			peer_emit(t, bp->node, &pv[i]);
	}
}

/* the second pass: reverse peerings for symmetry between Calico nodes */
static void
peers_reverse(struct v1 *t, const struct resource *r, const struct selector *ns,
    const struct selector *ps, struct locals *loc, struct vpeer *pv)
{
	const struct model_bgppeer *bp = &r->bgppeer;
	bool v4 = true, v6 = true;
	size_t i, j, np = 0;

	/* the "local" nodes: those the remote side names */
	if (ps != NULL)
		match_nodes(t, ps, loc);
	else {
		loc->n = 0;
		for (i = 0; bp->peer_ip.family != 0 && i < t->nnodes; i++)
			if (node_with_ip_port_as(t, &t->nodes[i], bp))
				loc->v[loc->n++] = i;
	}
	if (loc->n == 0)
		return;
	if (ps == NULL) {
		v4 = bp->peer_ip.family == AF_INET;
		v6 = !v4;
	}
	/* the "peer" nodes: those the local side names */
	if (ns != NULL) {
		for (i = 0; i < t->nnodes; i++)
			if (selector_match(ns, &t->nodes[i].labels))
				np += node_as_peers(
				    t, &t->nodes[i], v4, v6, pv + np);
	} else if (str_set(bp->node))
		np = node_as_peers(t, v1_node(t, bp->node), v4, v6, pv);
	else
		for (i = 0; i < t->nnodes; i++)
			np += node_as_peers(t, &t->nodes[i], v4, v6, pv + np);
	if (np == 0)
		return;
	peer_fields(r, pv, np);
	for (i = 0; i < np; i++)
		for (j = 0; j < loc->n; j++)
			peer_emit(t, t->nodes[loc->v[j]].name, &pv[i]);
}

static void
v1_peers(struct v1 *t)
{
	const struct resource *r;
	struct node_view_iter it;
	struct selector *ns, *ps;
	struct locals loc = {0};
	struct vpeer *pv;
	bool global;
	int pass;

	loc.v = xcalloc(t->nnodes + 1, sizeof(*loc.v));
	pv = xcalloc(2 * t->nnodes + 1, sizeof(*pv));
	/* global BGPPeers first, so node peerings can defer to them */
	for (pass = 0; pass < 3; pass++) {
		for (r = node_view_first(t->wc, &it, MODEL_BGPPEER); r != NULL;
		     r = node_view_next(&it)) {
			const struct model_bgppeer *bp = &r->bgppeer;

			global =
			    !str_set(bp->node_selector) && !str_set(bp->node);
			if (pass < 2 && global != (pass == 0))
				continue;
			ns = v1_selector(r, "nodeSelector", bp->node_selector);
			ps = v1_selector(r, "peerSelector", bp->peer_selector);
			if ((str_set(bp->node_selector) && ns == NULL) ||
			    (str_set(bp->peer_selector) && ps == NULL)) {
				/* Calico: no node matches a bad selector */
				selector_free(ns);
				selector_free(ps);
				continue;
			}
			memset(pv, 0, (2 * t->nnodes + 1) * sizeof(*pv));
			if (pass < 2) {
				if (ns != NULL)
					match_nodes(t, ns, &loc);
				peers_forward(t, r, global, ns, ps, &loc, pv);
			} else
				peers_reverse(t, r, ns, ps, &loc, pv);
			selector_free(ns);
			selector_free(ps);
		}
	}
	free(loc.v);
	free(pv);
}

/* ---- IP pools (ippoolprocessor, model.IPPool) ---- */

static const char *
v1_encap(enum model_encap e)
{
	switch (e) {
	case MODEL_ENCAP_ALWAYS:
		return "always";
	case MODEL_ENCAP_CROSSSUBNET:
		return "cross-subnet";
	default:
		return ""; /* encap.Undefined */
	}
}

static void
v1_pools(struct v1 *t)
{
	const struct resource *r;
	struct node_view_iter it;
	char cidr[PREFIX_STRLEN], ck[PREFIX_STRLEN], *key, *val;

	for (r = node_view_first(t->wc, &it, MODEL_IPPOOL); r != NULL;
	     r = node_view_next(&it)) {
		const struct model_ippool *p = &r->ippool;
		bool ipip = p->ipip_mode == MODEL_ENCAP_ALWAYS ||
		    p->ipip_mode == MODEL_ENCAP_CROSSSUBNET;

		prefix_ntop(&p->cidr, cidr, sizeof(cidr));
		if (model_cidr_key(&p->cidr, ck, sizeof(ck)) == -1)
			continue;
		xasprintf(&key, "/calico/v1/ipam/v%d/pool/%s",
		    p->cidr.a.family == AF_INET6 ? 6 : 4, ck);
		xasprintf(&val,
		    "{\"cidr\":\"%s\",\"ipip\":\"%s\",\"ipip_mode\":\"%s\","
		    "\"vxlan_mode\":\"%s\",\"masquerade\":%s,\"ipam\":%s,"
		    "\"disabled\":%s,\"disableBGPExport\":%s}",
		    cidr, ipip ? "tunl0" : "", v1_encap(p->ipip_mode),
		    v1_encap(p->vxlan_mode), p->nat_outgoing ? "true" : "false",
		    p->disabled ? "false" : "true",
		    p->disabled ? "true" : "false",
		    p->disable_bgp_export ? "true" : "false");
		v1_put(t, key, val);
	}
}

/* ---- block affinities of nodename ---- */

static void
v1_affinities(struct v1 *t, const char *nodename)
{
	const struct model_affinity *a;
	const struct wcache_entry *e;
	struct node_view_iter it;
	struct prefix cidr;
	char key[MODEL_NAME_MAX + 128];

	if (!str_set(nodename))
		return;
	for (a = node_view_affinity_first(t->wc, &it, nodename, &cidr);
	     a != NULL; a = node_view_affinity_next(&it, &cidr)) {
		/* client.go: a pending affinity is not acted upon */
		if (a->state == MODEL_AFF_PENDING)
			continue;
		if (model_affinity_key(nodename, &cidr, key, sizeof(key)) ==
		        -1 ||
		    (e = wcache_get(t->wc, key)) == NULL)
			continue;
		v1_set(t, e->value, "%s", key);
	}
}

/* ---- the whole tree ---- */

struct kvseq {
	struct confd_kv kv;
	size_t seq;
};

static int
kv_cmp(const void *a, const void *b)
{
	const struct kvseq *x = a, *y = b;
	int r;

	if ((r = strcmp(x->kv.key, y->kv.key)) != 0)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void
confd_v1tree(
    const struct wcache *wc, const char *nodename, struct confd_kvs *out)
{
	struct kvseq *s;
	struct v1 t;
	size_t i, j;

	memset(&t, 0, sizeof(t));
	t.wc = wc;
	confd_kvs_clean(out);
	v1_bgpconfig(&t);
	v1_nodes(&t);
	v1_pools(&t);
	v1_affinities(&t, nodename);
	v1_peers(&t);

	/*
	 * Sorted and unique.  Only two IPPools of one CIDR share a key: the
	 * later (by name) wins, as a later write to confd's cache would.
	 */
	s = xcalloc(t.n + 1, sizeof(*s));
	for (i = 0; i < t.n; i++) {
		s[i].kv = t.v[i];
		s[i].seq = i;
	}
	if (t.n > 1)
		qsort(s, t.n, sizeof(*s), kv_cmp);
	for (i = 0, j = 0; i < t.n; i++) {
		if (i + 1 < t.n && strcmp(s[i].kv.key, s[i + 1].kv.key) == 0) {
			free(s[i].kv.key);
			free(s[i].kv.value);
			continue;
		}
		t.v[j++] = s[i].kv;
	}
	free(s);
	out->v = t.v;
	out->n = j;
	out->cap = t.cap;
	if (out->n == 0) {
		free(out->v);
		memset(out, 0, sizeof(*out));
	}
	free(t.nodes);
	free(t.peers);
}
