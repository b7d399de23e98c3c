/*
 * How a route becomes a kernel route on a Calico node (calico.md §3
 * bird_ipam.cfg's calico_ipip/krt_tunnel, §6 "Routes"; VXLAN as Felix
 * programs it):
 *
 *	originated, one of my own blocks   blackhole (the block's aggregate)
 *	originated, anything else          none: the CNI's device route
 *	learned, IPv4, in a pool with
 *	  vxlanMode Always                 via <remote VTEP> dev vxlan.calico
 *onlink vxlanMode CrossSubnet            native if NH in my subnet, else VXLAN
 *	  ipipMode Always                  via NH dev tunl0 onlink
 *	  ipipMode CrossSubnet             native if NH in my subnet, else tunl0
 *	  Never                            native (via NH)
 *	learned, no pool or IPv6           native (Calico has no IPv6 tunnels)
 *
 * "My subnet" is my Node's ipv4Address with its length.  The remote VTEP
 * is the Node whose ipv4Address is the next hop.  When the shape needs a
 * device that is absent (ifindex 0) or a VTEP that has not published its
 * address and MAC yet, the route is skipped, never installed natively: an
 * IPIP pool's traffic sent unencapsulated would leave the node and be
 * dropped or, worse, leak.  Such skips are logged once per prefix.
 *
 * node_shape() runs for every route the speaker installs, so the policy is
 * precomputed into sorted arrays: an own-block lookup and a pool lookup
 * are each one binary search, a VTEP lookup another.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "node/derive.h"

static int
shape_pool_cmp(const void *a, const void *b)
{
	const struct node_shape_pool *x = a, *y = b;

	return prefix_cmp(&x->cidr, &y->cidr);
}

/* IPv4 pools, sorted; a pool nested in another (invalid in Calico) is
 * dropped so the rest stay disjoint and one binary search finds a pool */
static void
shape_pools(struct node_shaper *s, const struct wcache *wc)
{
	const struct resource *r;
	struct node_view_iter it;
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	size_t i, n = 0;

	for (r = node_view_first(wc, &it, MODEL_IPPOOL); r != NULL;
	     r = node_view_next(&it)) {
		if (r->ippool.cidr.a.family != AF_INET)
			continue;
		s->pools = xreallocarray(s->pools, n + 1, sizeof(*s->pools));
		s->pools[n].cidr = r->ippool.cidr;
		s->pools[n].ipip = r->ippool.ipip_mode;
		s->pools[n++].vxlan = r->ippool.vxlan_mode;
	}
	if (n == 0)
		return;
	if (n > 1)
		qsort(s->pools, n, sizeof(*s->pools), shape_pool_cmp);
	for (i = 0; i < n; i++) {
		if (s->npools > 0 &&
		    prefix_covers(
		        &s->pools[s->npools - 1].cidr, &s->pools[i].cidr)) {
			log_warnx("IPPool %s inside IPPool %s: ignored for "
			          "routes",
			    prefix_ntop(&s->pools[i].cidr, a, sizeof(a)),
			    prefix_ntop(
			        &s->pools[s->npools - 1].cidr, b, sizeof(b)));
			continue;
		}
		s->pools[s->npools++] = s->pools[i];
	}
}

/* Go's net.ParseMAC forms with 6 octets: 01:23:.., 01-23-.., 0123.4567.89ab */
static bool
shape_mac_parse(const char *s, uint8_t mac[6])
{
	unsigned int v[6];
	char tail;

	if (strlen(s) == 17 &&
	    (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
	         &v[4], &v[5], &tail) == 6 ||
	        sscanf(s, "%2x-%2x-%2x-%2x-%2x-%2x%c", &v[0], &v[1], &v[2],
	            &v[3], &v[4], &v[5], &tail) == 6)) {
		for (int i = 0; i < 6; i++)
			mac[i] = (uint8_t)v[i];
		return true;
	}
	if (strlen(s) == 14 &&
	    sscanf(s, "%4x.%4x.%4x%c", &v[0], &v[1], &v[2], &tail) == 3) {
		for (int i = 0; i < 3; i++) {
			mac[2 * i] = (uint8_t)(v[i] >> 8);
			mac[2 * i + 1] = (uint8_t)v[i];
		}
		return true;
	}
	return false;
}

static int
shape_vtep_cmp(const void *a, const void *b)
{
	const struct node_vtep *x = a, *y = b;
	int r;

	if ((r = addr_cmp(&x->node_ip, &y->node_ip)) != 0)
		return r;
	return strcmp(x->name, y->name);
}

static void
shape_vteps(struct node_shaper *s, const struct wcache *wc)
{
	const struct resource *r;
	struct node_view_iter it;
	struct node_vtep *v;
	size_t i, n = 0;

	for (r = node_view_first(wc, &it, MODEL_NODE); r != NULL;
	     r = node_view_next(&it)) {
		const struct model_node *nd = &r->node;

		if (!nd->has_bgp || nd->bgp.ipv4_address.a.family != AF_INET)
			continue;
		s->vteps = xreallocarray(s->vteps, n + 1, sizeof(*s->vteps));
		v = &s->vteps[n++];
		memset(v, 0, sizeof(*v));
		v->name = xstrdup(r->meta.name);
		v->node_ip = nd->bgp.ipv4_address.a;
		v->node_ip.scope_id = 0;
		if (nd->ipv4_vxlan_tunnel_addr.family == AF_INET)
			v->tunnel = nd->ipv4_vxlan_tunnel_addr;
		if (nd->vxlan_tunnel_mac != NULL)
			v->has_mac =
			    shape_mac_parse(nd->vxlan_tunnel_mac, v->mac);
	}
	if (n == 0)
		return;
	if (n > 1)
		qsort(s->vteps, n, sizeof(*s->vteps), shape_vtep_cmp);
	/* two Nodes with one address (Calico refuses it): the first by name */
	for (i = 0; i < n; i++) {
		if (s->nvteps > 0 &&
		    addr_cmp(&s->vteps[s->nvteps - 1].node_ip,
		        &s->vteps[i].node_ip) == 0) {
			log_warnx("node %s has the address of node %s",
			    s->vteps[i].name, s->vteps[s->nvteps - 1].name);
			free(s->vteps[i].name);
			continue;
		}
		s->vteps[s->nvteps++] = s->vteps[i];
	}
}

int
node_shaper_build(struct node_shaper *s, const struct wcache *wc,
    const char *me, unsigned int tunl0_ifindex, unsigned int vxlan_ifindex,
    char *err, size_t errlen)
{
	const struct resource *r;

	memset(s, 0, sizeof(*s));
	if ((r = node_view_node(wc, me)) == NULL) {
		snprintf(err, errlen, "node %s: not in the datastore", me);
		return -1;
	}
	if (r->node.has_bgp && r->node.bgp.ipv4_address.a.family == AF_INET) {
		s->subnet = r->node.bgp.ipv4_address;
		s->subnet.a.scope_id = 0;
		prefix_mask(&s->subnet);
	}
	s->tunl0 = tunl0_ifindex;
	s->vxlan = vxlan_ifindex;
	node_derive_own_blocks(wc, me, &s->own, &s->nown);
	shape_pools(s, wc);
	shape_vteps(s, wc);
	return 0;
}

void
node_shaper_clean(struct node_shaper *s)
{
	size_t i;

	for (i = 0; i < s->nvteps; i++)
		free(s->vteps[i].name);
	free(s->vteps);
	free(s->own);
	free(s->pools);
	free(s->logged);
	memset(s, 0, sizeof(*s));
}

bool
node_shaper_equal(const struct node_shaper *a, const struct node_shaper *b)
{
	size_t i;

	if (prefix_cmp(&a->subnet, &b->subnet) != 0 || a->tunl0 != b->tunl0 ||
	    a->vxlan != b->vxlan || a->nown != b->nown ||
	    a->npools != b->npools || a->nvteps != b->nvteps)
		return false;
	for (i = 0; i < a->nown; i++)
		if (prefix_cmp(&a->own[i], &b->own[i]) != 0)
			return false;
	for (i = 0; i < a->npools; i++)
		if (prefix_cmp(&a->pools[i].cidr, &b->pools[i].cidr) != 0 ||
		    a->pools[i].ipip != b->pools[i].ipip ||
		    a->pools[i].vxlan != b->pools[i].vxlan)
			return false;
	for (i = 0; i < a->nvteps; i++) {
		const struct node_vtep *x = &a->vteps[i], *y = &b->vteps[i];

		if (strcmp(x->name, y->name) != 0 ||
		    addr_cmp(&x->node_ip, &y->node_ip) != 0 ||
		    addr_cmp(&x->tunnel, &y->tunnel) != 0 ||
		    x->has_mac != y->has_mac ||
		    (x->has_mac && memcmp(x->mac, y->mac, 6) != 0))
			return false;
	}
	return true;
}

const struct node_vtep *
node_shaper_vtep(const struct node_shaper *s, const struct addr *node_ip)
{
	size_t lo = 0, hi = s->nvteps, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = addr_cmp(node_ip, &s->vteps[mid].node_ip)) == 0)
			return &s->vteps[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool
shape_own(const struct node_shaper *s, const struct prefix *p)
{
	size_t lo = 0, hi = s->nown, mid;
	int r;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((r = prefix_cmp(p, &s->own[mid])) == 0)
			return true;
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* the pool holding p: the last one starting at or before it, if it covers */
static const struct node_shape_pool *
shape_pool(const struct node_shaper *s, const struct prefix *p)
{
	size_t lo = 0, hi = s->npools, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (addr_cmp(&s->pools[mid].cidr.a, &p->a) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0 || !prefix_covers(&s->pools[lo - 1].cidr, p))
		return NULL;
	return &s->pools[lo - 1];
}

static uint32_t
shape_hash(const struct prefix *p)
{
	return hash_bytes(p->a.b, addr_bytes(p->a.family),
	    (uint32_t)p->len << 8 | p->a.family);
}

/* true the first time p is seen: an open-addressed set, half full at most */
static bool
shape_first_time(struct node_shaper *s, const struct prefix *p)
{
	struct prefix *old;
	size_t i, cap, mask;

	if (2 * (s->nlogged + 1) > s->logged_cap) {
		old = s->logged;
		cap = s->logged_cap;
		s->logged_cap = cap ? cap * 2 : 64;
		s->logged = xcalloc(s->logged_cap, sizeof(*s->logged));
		s->nlogged = 0;
		for (i = 0; i < cap; i++)
			if (old[i].a.family != 0)
				shape_first_time(s, &old[i]);
		free(old);
	}
	mask = s->logged_cap - 1;
	for (i = shape_hash(p) & mask; s->logged[i].a.family != 0;
	     i = (i + 1) & mask)
		if (prefix_cmp(&s->logged[i], p) == 0)
			return false;
	s->logged[i] = *p;
	s->nlogged++;
	return true;
}

static enum kernel_shape shape_skip(
    struct node_shaper *s, const struct prefix *p, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum kernel_shape
shape_skip(struct node_shaper *s, const struct prefix *p, const char *fmt, ...)
{
	char buf[PREFIX_STRLEN], msg[256];
	va_list ap;

	if (shape_first_time(s, p)) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
		log_warnx("route %s not installed: %s",
		    prefix_ntop(p, buf, sizeof(buf)), msg);
	}
	return KERNEL_SKIP;
}

static enum kernel_shape
shape_ipip(struct node_shaper *s, const struct prefix *p, const struct addr *nh,
    struct kernel_nh *out)
{
	if (s->tunl0 == 0)
		return shape_skip(s, p, "its IPIP pool needs tunl0, absent");
	if (nh->family != AF_INET)
		return shape_skip(s, p, "IPIP needs an IPv4 next hop");
	out->ifindex = s->tunl0;
	out->onlink = true;
	return KERNEL_UNICAST;
}

static enum kernel_shape
shape_vxlan(struct node_shaper *s, const struct prefix *p,
    const struct addr *nh, struct kernel_nh *out)
{
	const struct node_vtep *v;
	char buf[ADDR_STRLEN];

	if (s->vxlan == 0)
		return shape_skip(
		    s, p, "its VXLAN pool needs vxlan.calico, absent");
	if ((v = node_shaper_vtep(s, nh)) == NULL)
		return shape_skip(s, p, "no node has the next hop %s",
		    addr_ntop(nh, buf, sizeof(buf)));
	if (v->tunnel.family != AF_INET || !v->has_mac)
		return shape_skip(s, p,
		    "node %s has no VXLAN tunnel address and MAC yet", v->name);
	out->gw = v->tunnel;
	out->ifindex = s->vxlan;
	out->onlink = true;
	return KERNEL_UNICAST;
}

enum kernel_shape
node_shape(void *arg, const struct prefix *p, const struct addr *nh,
    struct kernel_nh *out)
{
	struct node_shaper *s = arg;
	const struct node_shape_pool *pool;
	bool local;

	memset(out, 0, sizeof(*out));
	if (nh == NULL)
		return shape_own(s, p) ? KERNEL_BLACKHOLE : KERNEL_SKIP;
	out->gw = *nh;
	if (p->a.family != AF_INET || (pool = shape_pool(s, p)) == NULL)
		return KERNEL_UNICAST;
	local =
	    s->subnet.a.family == AF_INET && prefix_contains(&s->subnet, nh);
	if (pool->vxlan == MODEL_ENCAP_ALWAYS ||
	    (pool->vxlan == MODEL_ENCAP_CROSSSUBNET && !local))
		return shape_vxlan(s, p, nh, out);
	if (pool->ipip == MODEL_ENCAP_ALWAYS ||
	    (pool->ipip == MODEL_ENCAP_CROSSSUBNET && !local))
		return shape_ipip(s, p, nh, out);
	return KERNEL_UNICAST;
}
