/*
 * Which prefixes this node announces, and which it must refuse from peers
 * (calico.md §3 bird_aggr.cfg and bird_ipam.cfg, §6 routes):
 *
 *  - own blocks: the blocks of my affinities in state confirmed (v3
 *    templates skip pending ones and /32 or /128 blocks); the speaker
 *    blackholes them and refuses more-specifics of them from peers;
 *  - lent: addresses in my own blocks allocated to another node (its
 *    attribute's secondary "node"); that node announces them as /32s, so
 *    they are the exception to the refusal;
 *  - announce: my own blocks, plus a /32 (/128) for every address
 *    allocated to me in a block affine to another node or to none (a
 *    borrowed address).  Calico's BIRD learns borrowed addresses from the
 *    pod's device route; podmesh reads them from IPAM, which says the
 *    same thing without a kernel scan.  Like Calico's calico_pools export
 *    filter, only prefixes inside an IPPool are announced, and none of a
 *    pool with disableBGPExport.
 *
 * Addresses allocated without secondary attributes (v2.6 CNI) count as the
 * block owner's.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "node/derive.h"

struct plist {
	struct prefix *v;
	size_t n, cap;
};

struct bpool {
	struct prefix cidr;
	bool export;
};

static void
plist_add(struct plist *l, const struct prefix *p)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = *p;
}

static int
prefix_qcmp(const void *a, const void *b)
{
	return prefix_cmp(a, b);
}

static void
plist_done(struct plist *l, struct prefix **out, size_t *n)
{
	size_t i, j = 0;

	if (l->n > 0) {
		qsort(l->v, l->n, sizeof(*l->v), prefix_qcmp);
		for (i = 0; i < l->n; i++)
			if (j == 0 || prefix_cmp(&l->v[i], &l->v[j - 1]) != 0)
				l->v[j++] = l->v[i];
	}
	if (j == 0) {
		free(l->v);
		l->v = NULL;
	}
	*out = l->v;
	*n = j;
}

/* inside a pool, and no pool that holds it forbids exporting it */
static bool
blocks_exported(const struct bpool *pools, size_t n, const struct prefix *p)
{
	bool in = false;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!prefix_covers(&pools[i].cidr, p))
			continue;
		if (!pools[i].export)
			return false;
		in = true;
	}
	return in;
}

/* the node an allocation belongs to, or NULL when it does not say */
static const char *
blocks_attr_node(const struct model_block *b, uint32_t ord)
{
	const struct model_ipam_attr *a = model_block_attr(b, ord);

	if (a == NULL || !a->has_secondary)
		return NULL;
	return model_labels_get(&a->secondary, "node");
}

static void
blocks_host_prefix(const struct model_block *b, uint32_t ord, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	model_block_addr(b, ord, &p->a);
	p->len = addr_maxlen(p->a.family);
}

static bool
blocks_has_attr_of(const struct model_block *b, const char *node)
{
	const char *n;
	size_t i;

	for (i = 0; i < b->nattrs; i++)
		if (b->attrs[i].has_secondary &&
		    (n = model_labels_get(&b->attrs[i].secondary, "node")) !=
		        NULL &&
		    strcmp(n, node) == 0)
			return true;
	return false;
}

/* confirmed and not being deleted; a /32 block is one pod's route */
static bool
blocks_own(const struct model_affinity *aff, const struct prefix *cidr)
{
	return aff->state == MODEL_AFF_CONFIRMED &&
	    aff->deleted != MODEL_TRUE &&
	    cidr->len != addr_maxlen(cidr->a.family);
}

void
node_derive_own_blocks(
    const struct wcache *wc, const char *me, struct prefix **out, size_t *n)
{
	const struct model_affinity *aff;
	struct node_view_iter it;
	struct plist own = {0};
	struct prefix cidr;

	for (aff = node_view_affinity_first(wc, &it, me, &cidr); aff != NULL;
	     aff = node_view_affinity_next(&it, &cidr))
		if (blocks_own(aff, &cidr))
			plist_add(&own, &cidr);
	plist_done(&own, out, n);
}

void
node_derive_blocks(
    const struct wcache *wc, const char *me, struct node_bgp *out)
{
	struct plist ann = {0}, own = {0}, lent = {0};
	const struct model_affinity *aff;
	const struct model_block *b;
	const struct resource *r;
	struct bpool *pools = NULL;
	size_t npools = 0, i;
	struct node_view_iter it;
	struct prefix cidr, p;
	const char *host;
	uint32_t ord;

	for (r = node_view_first(wc, &it, MODEL_IPPOOL); r != NULL;
	     r = node_view_next(&it)) {
		pools = xreallocarray(pools, npools + 1, sizeof(*pools));
		pools[npools].cidr = r->ippool.cidr;
		pools[npools++].export = !r->ippool.disable_bgp_export;
	}

	for (aff = node_view_affinity_first(wc, &it, me, &cidr); aff != NULL;
	     aff = node_view_affinity_next(&it, &cidr)) {
		if (!blocks_own(aff, &cidr))
			continue;
		plist_add(&own, &cidr);
		if (blocks_exported(pools, npools, &cidr))
			plist_add(&ann, &cidr);
	}

	/* lent: my blocks' addresses that other nodes hold */
	for (i = 0; i < own.n; i++) {
		const char *n;

		if ((b = node_view_block(wc, &own.v[i])) == NULL)
			continue;
		for (ord = 0; ord < b->nords; ord++)
			if ((n = blocks_attr_node(b, ord)) != NULL &&
			    strcmp(n, me) != 0) {
				blocks_host_prefix(b, ord, &p);
				plist_add(&lent, &p);
			}
	}

	/* borrowed: my addresses in blocks that are not mine */
	for (b = node_view_block_first(wc, &it); b != NULL;
	     b = node_view_block_next(&it)) {
		const char *n;

		if (((host = model_block_host(b)) != NULL &&
		        strcmp(host, me) == 0) ||
		    b->deleted == MODEL_TRUE || !blocks_has_attr_of(b, me))
			continue;
		for (ord = 0; ord < b->nords; ord++) {
			if ((n = blocks_attr_node(b, ord)) == NULL ||
			    strcmp(n, me) != 0)
				continue;
			blocks_host_prefix(b, ord, &p);
			if (blocks_exported(pools, npools, &p))
				plist_add(&ann, &p);
		}
	}

	free(pools);
	plist_done(&ann, &out->announce, &out->nannounce);
	plist_done(&own, &out->own_blocks, &out->nown);
	plist_done(&lent, &out->lent, &out->nlent);
}
