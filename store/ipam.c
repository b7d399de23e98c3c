/*
 * IPAM allocation (calico.md §2; libcalico-go v3 lib/ipam AutoAssign and
 * AssignIP): which pools a request may use, the host's affine blocks
 * first, then a newly claimed block (walking each pool from the host's
 * FNV-seeded start, up to maxBlocksPerHost), then borrowing from any block
 * with room unless affinity is strict; and assigning a given address,
 * claiming its block if it has none.  The etcd reads and writes are
 * ipam_io.c's; release is ipam_release.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/ipam_int.h"
#include "store/selector.h"

/* what a call reads once, in one txn, before it allocates */
struct ipam_view {
	struct model_ipamconfig cfg;
	struct resource *pools; /* every IPPool that decodes */
	size_t npools;
	struct resource node; /* kind MODEL_NODE if this host has one */
	bool have_node;
	struct ipam_akv *affs; /* this host's affinities, the family */
	size_t naffs;
};

/* affine blocks read in one txn first when a host has this many */
#define IPAM_PREFETCH_MIN 3
#define IPAM_PREFETCH_MAX 64 /* ranges in that txn; etcd allows 128 ops */

/* a pool a request may allocate from */
struct ipam_pool {
	struct prefix cidr;
	int blocklen;
};

struct ipam *
ipam_new(struct etcd *e, const char *host)
{
	struct ipam *ip;
	char key[IPAM_KEYLEN];

	if (host == NULL ||
	    model_affinity_key_prefix(host, AF_INET, key, sizeof(key)) == -1)
		return NULL;
	ip = xcalloc(1, sizeof(*ip));
	ip->etcd = e;
	ip->host = xstrdup(host);
	return ip;
}

void
ipam_free(struct ipam *ip)
{
	if (ip == NULL)
		return;
	free(ip->host);
	free(ip);
}

const char *
ipam_host(const struct ipam *ip)
{
	return ip->host;
}

enum ipam_error
ipam_error_kind(const struct ipam *ip)
{
	return ip->errkind;
}

static const char *
ipam_family_name(int family)
{
	return family == AF_INET6 ? "IPv6" : "IPv4";
}

/* ---- what a call reads first ---- */

static void
ipam_view_clean(struct ipam_view *v)
{
	size_t i;

	model_ipamconfig_clean(&v->cfg);
	for (i = 0; i < v->npools; i++)
		resource_clean(&v->pools[i]);
	free(v->pools);
	if (v->have_node)
		resource_clean(&v->node);
	ipam_akvs_free(v->affs, v->naffs);
	memset(v, 0, sizeof(*v));
}

static int
ipam_decode_resource(const struct etcd_kv *kv, struct resource *r,
    enum model_kind kind, char *err, size_t errlen)
{
	json_t *j = json_loadb(kv->value, kv->value_len, 0, NULL);
	int rc;

	if (j == NULL) {
		snprintf(err, errlen, "not JSON");
		return -1;
	}
	rc = resource_decode(j, r, err, errlen);
	json_decref(j);
	if (rc == 0 && r->kind != kind) {
		snprintf(err, errlen, "not a %s", model_kind(kind)->name);
		resource_clean(r);
		rc = -1;
	}
	return rc;
}

/*
 * The IPAM config, the IP pools, this host's Node and (with affs) its
 * affinities of family, in one txn: a host holds a few blocks (at most
 * maxBlocksPerHost, 20 by default), so one range answers them all.
 */
static int
ipam_view_load(struct ipam *ip, int family, bool affs, struct ipam_view *v,
    char *err, size_t errlen)
{
	char nodekey[IPAM_KEYLEN], poolpfx[256], affpfx[IPAM_KEYLEN],
	    e[MODEL_ERRLEN];
	struct etcd_op ops[4];
	size_t nops = affs ? 4 : 3;
	struct etcd_result res, *r;
	struct etcd_txn t;
	json_t *j;
	size_t i;
	int rc = 0;

	memset(v, 0, sizeof(*v));
	model_ipamconfig_init(&v->cfg);
	if (model_key(MODEL_NODE, NULL, ip->host, nodekey, sizeof(nodekey)) ==
	        -1 ||
	    model_key_prefix(MODEL_IPPOOL, NULL, poolpfx, sizeof(poolpfx)) ==
	        -1 ||
	    model_affinity_key_prefix(
	        ip->host, family, affpfx, sizeof(affpfx)) == -1)
		fatalx("%s: keys", __func__);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < nops; i++)
		ops[i].type = ETCD_OP_RANGE;
	ops[0].key = MODEL_IPAM_CONFIG_KEY;
	ops[1].key = poolpfx;
	ops[1].prefix = 1;
	ops[2].key = nodekey;
	ops[3].key = affpfx;
	ops[3].prefix = 1;
	memset(&t, 0, sizeof(t));
	t.success = ops;
	t.nsuccess = nops;
	if (etcd_txn(ip->etcd, &t, &res) == -1)
		return ipam_etcd_fail(ip, "reading pools", err, errlen);
	if (res.nresponses != nops) {
		ipam_fail(ip, IPAM_E_DATASTORE, err, errlen,
		    "etcd %s: a txn of %zu reads answered %zu",
		    etcd_endpoint(ip->etcd), nops, res.nresponses);
		etcd_result_clean(&res);
		return -1;
	}
	r = &res.responses[0];
	if (r->nkvs == 1) {
		model_ipamconfig_clean(&v->cfg);
		j = json_loadb(r->kvs[0].value, r->kvs[0].value_len, 0, NULL);
		if (j == NULL ||
		    model_ipamconfig_from_json(j, &v->cfg, e, sizeof(e)) ==
		        -1) {
			snprintf(err, errlen, "%s: %s", MODEL_IPAM_CONFIG_KEY,
			    j == NULL ? "not JSON" : e);
			json_decref(j);
			rc = -1;
			goto out;
		}
		json_decref(j);
	}
	r = &res.responses[1];
	v->pools = xcalloc(r->nkvs + 1, sizeof(*v->pools));
	for (i = 0; i < r->nkvs; i++) {
		if (ipam_decode_resource(&r->kvs[i], &v->pools[v->npools],
		        MODEL_IPPOOL, e, sizeof(e)) == -1) {
			log_warnx(
			    "ipam: %s: %s; pool left out", r->kvs[i].key, e);
			continue;
		}
		v->npools++;
	}
	r = &res.responses[2];
	if (r->nkvs == 1) {
		if (ipam_decode_resource(
		        &r->kvs[0], &v->node, MODEL_NODE, e, sizeof(e)) == -1)
			/* its labels are unknown: pools that select on them
			 * will not match, as for a host with no Node */
			log_warnx("ipam: %s: %s", r->kvs[0].key, e);
		else
			v->have_node = true;
	}
	if (affs)
		ipam_akv_parse(
		    ip->host, family, &res.responses[3], &v->affs, &v->naffs);
out:
	etcd_result_clean(&res);
	if (rc == -1)
		ipam_view_clean(v);
	return rc;
}

static bool
ipam_selects(const struct ipam_view *v, const struct model_ippool *p)
{
	struct labels view;
	struct selector *s;
	char e[256];
	bool m;

	if ((s = selector_parse(
	         p->node_selector != NULL ? p->node_selector : "all()", e,
	         sizeof(e))) == NULL)
		return false; /* the model validated it; be safe anyway */
	memset(&view, 0, sizeof(view));
	if (v->have_node)
		model_labels_view(&v->node.meta.labels, &view);
	m = selector_match(s, &view);
	selector_free(s);
	return m;
}

static bool
ipam_pool_usable(const struct model_ippool *p, int family)
{
	return p->cidr.a.family == family && !p->disabled &&
	    p->block_size >= p->cidr.len;
}

/* "pool 198.18.0.0/16" or "pools 198.18.0.0/24, 198.18.1.0/24" */
static void
ipam_pools_str(const struct ipam_pool *pools, size_t n, char *buf, size_t len)
{
	char c[PREFIX_STRLEN];
	size_t i, off;

	off = snprintf(buf, len, "pool%s ", n == 1 ? "" : "s");
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s", i > 0 ? ", " : "",
		    prefix_ntop(&pools[i].cidr, c, sizeof(c)));
}

/*
 * Calico's determinePools: the requested pools (each must exist, be
 * enabled and of the family), or every enabled pool of the family whose
 * nodeSelector matches this host's Node.
 */
static int
ipam_pools_choose(struct ipam *ip, const struct ipam_view *v,
    const struct ipam_request *req, struct ipam_pool **out, size_t *n,
    char *err, size_t errlen)
{
	struct ipam_pool *pools;
	char c[PREFIX_STRLEN];
	struct prefix want;
	size_t i, k;

	pools = xcalloc(v->npools + req->npools + 1, sizeof(*pools));
	*n = 0;
	for (k = 0; k < req->npools; k++) {
		want = req->pools[k];
		prefix_mask(&want);
		prefix_ntop(&want, c, sizeof(c));
		if (want.a.family != req->family) {
			ipam_fail(ip, IPAM_E_INVALID, err, errlen,
			    "pool %s is not an %s pool", c,
			    ipam_family_name(req->family));
			goto fail;
		}
		for (i = 0; i < v->npools; i++)
			if (prefix_cmp(&v->pools[i].ippool.cidr, &want) == 0 &&
			    ipam_pool_usable(&v->pools[i].ippool, req->family))
				break;
		if (i == v->npools) {
			ipam_fail(ip, IPAM_E_NOPOOL, err, errlen,
			    "pool %s does not exist or is disabled", c);
			goto fail;
		}
		pools[*n].cidr = want;
		pools[(*n)++].blocklen = v->pools[i].ippool.block_size;
	}
	for (i = 0; req->npools == 0 && i < v->npools; i++) {
		const struct model_ippool *p = &v->pools[i].ippool;

		if (!ipam_pool_usable(p, req->family) || !ipam_selects(v, p))
			continue;
		pools[*n].cidr = p->cidr;
		pools[(*n)++].blocklen = p->block_size;
	}
	if (*n == 0) {
		ipam_fail(ip, IPAM_E_NOPOOL, err, errlen,
		    "no enabled %s pool selects host %s",
		    ipam_family_name(req->family), ip->host);
		goto fail;
	}
	*out = pools;
	return 0;
fail:
	free(pools);
	return -1;
}

static const struct ipam_pool *
ipam_pool_of(const struct ipam_pool *pools, size_t n, const struct prefix *b)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_covers(&pools[i].cidr, b))
			return &pools[i];
	return NULL;
}

/*
 * As Calico, an empty block affine to this host in a pool that no longer
 * selects it loses its affinity (and, being empty, is deleted).
 */
static void
ipam_release_unselected(struct ipam *ip, const struct ipam_view *v,
    const struct ipam_pool *pools, size_t np)
{
	char e[IPAM_ERRLEN];
	size_t i, k;

	for (i = 0; i < v->naffs; i++) {
		if (ipam_pool_of(pools, np, &v->affs[i].cidr) != NULL)
			continue;
		for (k = 0; k < v->npools; k++)
			if (prefix_covers(
			        &v->pools[k].ippool.cidr, &v->affs[i].cidr))
				break;
		if (k == v->npools || ipam_selects(v, &v->pools[k].ippool))
			continue;
		if (ipam_unaffine(ip, ip->host, &v->affs[i].cidr, true, e,
		        sizeof(e)) == -1)
			log_warnx("ipam: %s", e);
	}
}

/* ---- assigning from one block ---- */

/*
 * Take one address (want, or the front of unallocated) from the block in
 * blk, read together with the request's handle into hkv, and write both
 * back; re-read and retry when another client wrote first.  0 assigned,
 * 1 the block is gone, full, or (affcheck) not this host's, -1 error;
 * wanting a taken address is an error.
 */
static int
ipam_take(struct ipam *ip, struct ipam_blk *blk, struct ipam_hkv *hkv,
    const struct ipam_request *req, bool affcheck, const struct addr *want,
    struct addr *out, char *err, size_t errlen)
{
	char c[PREFIX_STRLEN], a[ADDR_STRLEN];
	const char *owner;
	int rc, try, ord;

	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		if (blk->mod == 0)
			return 1;
		owner = model_block_host(&blk->b);
		if (affcheck && (owner == NULL || strcmp(owner, ip->host) != 0))
			return 1;
		if (want != NULL) {
			addr_ntop(want, a, sizeof(a));
			ord = model_block_ordinal(&blk->b, want);
			if (model_block_attr(&blk->b, ord) != NULL) {
				ipam_fail(ip, IPAM_E_ASSIGNED, err, errlen,
				    "%s is already assigned", a);
				return -1;
			}
			if (model_block_assign_addr(
			        &blk->b, want, req->handle, req->attrs) == -1) {
				ipam_fail(ip, IPAM_E_ASSIGNED, err, errlen,
				    "%s is not free to assign in block %s", a,
				    prefix_ntop(&blk->cidr, c, sizeof(c)));
				return -1;
			}
			*out = *want;
		} else if (model_block_assign(
		               &blk->b, req->handle, req->attrs, out) == -1)
			return 1;
		if (hkv->key[0] != '\0') {
			if (hkv->mod == 0)
				hkv->h.deleted = MODEL_FALSE; /* as v3.21 */
			if (model_handle_add(&hkv->h, &blk->cidr, 1) == -1) {
				ipam_fail(ip, IPAM_E_OTHER, err, errlen,
				    "handle %s counts too many addresses",
				    hkv->id);
				return -1;
			}
		}
		if ((rc = ipam_write(ip, blk, true, hkv, true, err, errlen)) !=
		    1)
			return rc;
		/* lost a race: blk and hkv hold what won it */
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "block %s: other clients kept changing it (%d tries)",
	    prefix_ntop(&blk->cidr, c, sizeof(c)), IPAM_CAS_RETRIES);
	return -1;
}

/* read a block (with the handle) and take an address from it */
static int
ipam_take_cidr(struct ipam *ip, const struct prefix *cidr,
    const struct ipam_request *req, bool affcheck, struct addr *out, char *err,
    size_t errlen)
{
	struct ipam_blk blk;
	struct ipam_hkv hkv;
	int rc;

	memset(&blk, 0, sizeof(blk));
	memset(&hkv, 0, sizeof(hkv));
	rc = ipam_read(ip, cidr, req->handle, &blk, &hkv, NULL, err, errlen);
	if (rc == 0)
		rc = ipam_take(
		    ip, &blk, &hkv, req, affcheck, NULL, out, err, errlen);
	ipam_blk_clean(&blk);
	ipam_hkv_clean(&hkv);
	return rc;
}

/* ---- AutoAssign ---- */

/*
 * One of this host's affinities: a block that does not exist yet, or an
 * affinity still pending, is claimed (Calico's getBlockFromAffinity); a
 * block that turned out to be another host's makes the affinity stale,
 * and it is deleted.  0 assigned, 1 nothing here, -1 error.
 */
static int
ipam_assign_affine(struct ipam *ip, const struct ipam_akv *aff,
    const struct ipam_request *req, struct addr *out, char *err, size_t errlen)
{
	struct ipam_blk blk;
	struct ipam_hkv hkv;
	struct ipam_akv akv;
	struct etcd_result res;
	const char *owner;
	int rc = -1, try;

	memset(&blk, 0, sizeof(blk));
	memset(&hkv, 0, sizeof(hkv));
	memset(&akv, 0, sizeof(akv));
	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		if (ipam_read(ip, &aff->cidr, req->handle, &blk, &hkv, &akv,
		        err, errlen) == -1) {
			if (ip->badblock) {
				/* as Calico: try the next one */
				log_warnx("ipam: %s; skipped", err);
				ip->errkind = IPAM_E_NONE;
				rc = 1;
			}
			goto out;
		}
		if (akv.mod == 0) {
			rc = 1; /* released meanwhile */
			goto out;
		}
		if (blk.mod == 0 ||
		    (akv.a.state != MODEL_AFF_CONFIRMED &&
		        akv.a.state != MODEL_AFF_NONE)) {
			if (akv.a.state == MODEL_AFF_PENDING_DELETION ||
			    (rc = ipam_claim(ip, &aff->cidr, err, errlen)) ==
			        1) {
				rc = 1;
				goto out;
			}
			if (rc == -1)
				goto out;
			continue; /* claimed: read it again */
		}
		owner = model_block_host(&blk.b);
		if (owner == NULL || strcmp(owner, ip->host) != 0) {
			/* a stale affinity: the block is not ours */
			rc = etcd_cas_delete(ip->etcd, akv.key, akv.mod, &res);
			if (rc == -1) {
				ipam_etcd_fail(ip, "deleting a stale affinity",
				    err, errlen);
				goto out;
			}
			etcd_result_clean(&res);
			rc = 1;
			goto out;
		}
		rc = ipam_take(
		    ip, &blk, &hkv, req, true, NULL, out, err, errlen);
		goto out;
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "the affine blocks of %s kept changing", ip->host);
	rc = -1;
out:
	ipam_blk_clean(&blk);
	ipam_hkv_clean(&hkv);
	model_affinity_clean(&akv.a);
	return rc;
}

/*
 * A host with several blocks has most of them full: one txn reads them
 * all, and those full (and this host's, confirmed, so there is nothing to
 * claim or repair) are not read again one by one.  A block freed between
 * this read and the claim of a new one is missed, as it would be a moment
 * later anyway.
 */
static int
ipam_skip_full(struct ipam *ip, const struct ipam_akv *affs, size_t n,
    bool *use, char *err, size_t errlen)
{
	struct etcd_op ops[IPAM_PREFETCH_MAX];
	struct etcd_result res;
	struct etcd_txn t;
	struct model_block b;
	const struct etcd_kv *kv;
	char keys[IPAM_PREFETCH_MAX][128], e[MODEL_ERRLEN];
	size_t idx[IPAM_PREFETCH_MAX], i, k = 0;
	const char *owner;
	json_t *j;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < n && k < IPAM_PREFETCH_MAX; i++) {
		if (!use[i] ||
		    (affs[i].a.state != MODEL_AFF_CONFIRMED &&
		        affs[i].a.state != MODEL_AFF_NONE) ||
		    model_block_key(&affs[i].cidr, keys[k], sizeof(keys[k])) ==
		        -1)
			continue;
		ops[k].type = ETCD_OP_RANGE;
		ops[k].key = keys[k];
		idx[k++] = i;
	}
	memset(&t, 0, sizeof(t));
	t.success = ops;
	t.nsuccess = k;
	if (etcd_txn(ip->etcd, &t, &res) == -1)
		return ipam_etcd_fail(ip, "reading affine blocks", err, errlen);
	for (i = 0; i < k && i < res.nresponses; i++) {
		if (res.responses[i].nkvs != 1)
			continue;
		kv = &res.responses[i].kvs[0];
		if ((j = json_loadb(kv->value, kv->value_len, 0, NULL)) == NULL)
			continue;
		if (model_block_from_json(j, &b, e, sizeof(e)) == 0) {
			owner = model_block_host(&b);
			if (owner != NULL && strcmp(owner, ip->host) == 0 &&
			    model_block_nfree(&b) == 0)
				use[idx[i]] = false;
			model_block_clean(&b);
		}
		json_decref(j);
	}
	etcd_result_clean(&res);
	return 0;
}

/*
 * Calico's findUsableBlock: walking each pool from this host's start, the
 * first block that does not exist, or one of this host's with room.
 * *fresh says which.  false when there is none.
 */
static bool
ipam_find_usable(const struct ipam *ip, const struct ipam_listing *l,
    const struct ipam_pool *pools, size_t np, struct prefix *out, bool *fresh)
{
	const struct ipam_lblk *x;
	struct ipam_walk w;
	unsigned __int128 lo, hi;
	size_t i;
	int bits;

	for (i = 0; i < np; i++) {
		ipam_walk_init(&w, &pools[i].cidr, pools[i].blocklen, ip->host);
		bits = addr_maxlen(pools[i].cidr.a.family) - pools[i].blocklen;
		while (ipam_walk_next(&w, out)) {
			lo = ipam_addr_u128(&out->a);
			hi = lo + (((unsigned __int128)1 << bits) - 1);
			if ((x = ipam_listing_find(l, lo, hi)) == NULL) {
				*fresh = true;
				return true;
			}
			if (x->ok && x->nfree > 0 && x->host != NULL &&
			    strcmp(x->host, ip->host) == 0 &&
			    prefix_cmp(&x->cidr, out) == 0) {
				*fresh = false;
				return true;
			}
		}
	}
	return false;
}

/*
 * Claim new blocks until one gives an address.  0 assigned, 1 no free
 * block is left in the pools, -1 error (maxBlocksPerHost reached among
 * them).
 */
static int
ipam_assign_claim(struct ipam *ip, const struct ipam_request *req,
    const struct ipam_pool *pools, size_t np, size_t *nowned, size_t maxb,
    struct addr *out, char *err, size_t errlen)
{
	struct ipam_listing l;
	struct prefix cidr;
	char ps[256];
	bool fresh;
	int rc, try;

	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		if (*nowned >= maxb) {
			ipam_pools_str(pools, np, ps, sizeof(ps));
			ipam_fail(ip, IPAM_E_LIMIT, err, errlen,
			    "host %s has reached maxBlocksPerHost (%zu blocks "
			    "in %s) and its blocks are full",
			    ip->host, maxb, ps);
			return -1;
		}
		if (ipam_list_blocks(ip, req->family, &l, err, errlen) == -1)
			return -1;
		if (!ipam_find_usable(ip, &l, pools, np, &cidr, &fresh)) {
			ipam_listing_clean(&l);
			return 1;
		}
		ipam_listing_clean(&l);
		if ((rc = ipam_claim(ip, &cidr, err, errlen)) == -1)
			return -1;
		if (rc == 1)
			continue; /* another host's now: look again */
		if (fresh)
			(*nowned)++;
		rc = ipam_take_cidr(ip, &cidr, req, true, out, err, errlen);
		if (rc != 1)
			return rc;
		/* filled by our other processes already: another */
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "claiming a block for %s: other clients kept taking them (%d "
	    "tries)",
	    ip->host, IPAM_CAS_RETRIES);
	return -1;
}

struct ipam_borrow {
	struct prefix cidr;
	unsigned __int128 pos;
};

static int
ipam_borrow_cmp(const void *a, const void *b)
{
	const struct ipam_borrow *x = a, *y = b;

	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Borrowing: any existing block of the pools with a free address, affine
 * to whoever, each pool's in the order of this host's walk.  Calico reads
 * every block CIDR of the walk in turn; listing the blocks that exist
 * visits the same ones in the same order, in one read.
 */
static int
ipam_assign_borrow(struct ipam *ip, const struct ipam_request *req,
    const struct ipam_pool *pools, size_t np, struct addr *out, char *err,
    size_t errlen)
{
	struct ipam_listing l;
	struct ipam_borrow *v;
	struct ipam_walk w;
	size_t i, k, n;
	int rc = 1;

	if (ipam_list_blocks(ip, req->family, &l, err, errlen) == -1)
		return -1;
	v = xcalloc(l.n + 1, sizeof(*v));
	for (i = 0; i < np && rc == 1; i++) {
		ipam_walk_init(&w, &pools[i].cidr, pools[i].blocklen, ip->host);
		for (k = 0, n = 0; k < l.n; k++) {
			if (!l.v[k].ok || l.v[k].nfree == 0 ||
			    l.v[k].cidr.len != pools[i].blocklen ||
			    !prefix_covers(&pools[i].cidr, &l.v[k].cidr))
				continue;
			v[n].cidr = l.v[k].cidr;
			v[n++].pos = ipam_walk_pos(&w, &l.v[k].cidr.a);
		}
		if (n > 1)
			qsort(v, n, sizeof(*v), ipam_borrow_cmp);
		for (k = 0; k < n && rc == 1; k++)
			rc = ipam_take_cidr(
			    ip, &v[k].cidr, req, false, out, err, errlen);
	}
	free(v);
	ipam_listing_clean(&l);
	return rc;
}

static bool
ipam_request_ok(
    struct ipam *ip, const struct ipam_request *req, char *err, size_t errlen)
{
	char key[IPAM_KEYLEN];

	if (req->family != AF_INET && req->family != AF_INET6) {
		ipam_fail(ip, IPAM_E_INVALID, err, errlen,
		    "address family %d is neither IPv4 nor "
		    "IPv6",
		    req->family);
		return false;
	}
	if (req->handle != NULL &&
	    model_handle_key(req->handle, key, sizeof(key)) == -1) {
		ipam_fail(ip, IPAM_E_INVALID, err, errlen,
		    "invalid handle \"%s\"", req->handle);
		return false;
	}
	return true;
}

static int
ipam_auto_assign1(struct ipam *ip, const struct ipam_request *req,
    struct addr *out, char *err, size_t errlen)
{
	struct ipam_view v;
	struct ipam_pool *pools = NULL;
	char ps[256], a[ADDR_STRLEN];
	size_t np = 0, i, nowned = 0, maxb;
	bool strict, *use = NULL;
	int rc = -1;

	if (!ipam_request_ok(ip, req, err, errlen))
		return -1;
	if (ipam_view_load(ip, req->family, true, &v, err, errlen) == -1)
		return -1;
	if (ipam_pools_choose(ip, &v, req, &pools, &np, err, errlen) == -1)
		goto out;
	ipam_release_unselected(ip, &v, pools, np);
	strict = v.cfg.strict_affinity == MODEL_TRUE;
	maxb = v.cfg.max_blocks_per_host != 0 ? v.cfg.max_blocks_per_host
	                                      : IPAM_DEFAULT_MAX_BLOCKS;

	/* 1. the host's affine blocks */
	use = xcalloc(v.naffs + 1, sizeof(*use));
	for (i = 0; i < v.naffs; i++)
		if (ipam_pool_of(pools, np, &v.affs[i].cidr) != NULL &&
		    v.affs[i].a.state != MODEL_AFF_PENDING_DELETION) {
			use[i] = true;
			nowned++;
		}
	if (nowned >= IPAM_PREFETCH_MIN &&
	    ipam_skip_full(ip, v.affs, v.naffs, use, err, errlen) == -1)
		goto out;
	for (i = 0; i < v.naffs; i++) {
		if (!use[i])
			continue;
		if ((rc = ipam_assign_affine(
		         ip, &v.affs[i], req, out, err, errlen)) != 1)
			goto out;
	}
	/* 2. a new block */
	if (v.cfg.auto_allocate_blocks == MODEL_TRUE &&
	    (rc = ipam_assign_claim(
	         ip, req, pools, np, &nowned, maxb, out, err, errlen)) != 1)
		goto out;
	/* 3. borrowing */
	if (!strict &&
	    (rc = ipam_assign_borrow(ip, req, pools, np, out, err, errlen)) !=
	        1)
		goto out;
	ipam_pools_str(pools, np, ps, sizeof(ps));
	if (strict)
		ipam_fail(ip, IPAM_E_EXHAUSTED, err, errlen,
		    "%s %s no free block for host %s, and strict affinity "
		    "forbids borrowing",
		    ps, np == 1 ? "has" : "have", ip->host);
	else
		ipam_fail(ip, IPAM_E_EXHAUSTED, err, errlen, "%s %s exhausted",
		    ps, np == 1 ? "is" : "are");
	rc = -1;
out:
	if (rc == 0)
		log_debug("ipam: assigned %s to host %s, handle %s",
		    addr_ntop(out, a, sizeof(a)), ip->host,
		    req->handle != NULL ? req->handle : "(none)");
	free(use);
	free(pools);
	ipam_view_clean(&v);
	return rc;
}

/* ---- AssignIP ---- */

static int
ipam_assign_ip1(struct ipam *ip, const struct ipam_request *req,
    const struct addr *want, char *err, size_t errlen)
{
	struct ipam_request r = *req;
	struct ipam_view v;
	struct ipam_blk blk;
	struct ipam_hkv hkv;
	const struct model_ippool *pool = NULL;
	struct prefix cidr;
	struct addr a = *want, got;
	char s[ADDR_STRLEN], c[PREFIX_STRLEN];
	const char *owner;
	size_t i, k;
	bool strict;
	int rc = -1, try;

	a.scope_id = 0;
	addr_ntop(&a, s, sizeof(s));
	r.family = a.family;
	if (!ipam_request_ok(ip, &r, err, errlen))
		return -1;
	if (ipam_view_load(ip, a.family, false, &v, err, errlen) == -1)
		return -1;
	for (i = 0; i < v.npools && pool == NULL; i++)
		if (ipam_pool_usable(&v.pools[i].ippool, a.family) &&
		    prefix_contains(&v.pools[i].ippool.cidr, &a))
			pool = &v.pools[i].ippool;
	if (pool == NULL) {
		ipam_fail(ip, IPAM_E_NOPOOL, err, errlen,
		    "%s is not in any enabled pool", s);
		goto out0;
	}
	for (k = 0; k < req->npools; k++)
		if (prefix_contains(&req->pools[k], &a))
			break;
	if (req->npools > 0 && k == req->npools) {
		ipam_fail(ip, IPAM_E_NOPOOL, err, errlen,
		    "%s is not in the pools requested", s);
		goto out0;
	}
	strict = v.cfg.strict_affinity == MODEL_TRUE;
	if (model_block_cidr_for(&a, pool->block_size, &cidr) == -1)
		fatalx("%s: pool block size %u", __func__, pool->block_size);
	memset(&blk, 0, sizeof(blk));
	memset(&hkv, 0, sizeof(hkv));
	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		if (ipam_read(ip, &cidr, r.handle, &blk, &hkv, NULL, err,
		        errlen) == -1)
			goto out;
		if (blk.mod == 0) {
			/* claimed for us, or by another host meanwhile:
			 * either way the block exists on the next read */
			if (ipam_claim(ip, &cidr, err, errlen) == -1)
				goto out;
			continue;
		}
		owner = model_block_host(&blk.b);
		if (strict && (owner == NULL || strcmp(owner, ip->host) != 0)) {
			ipam_fail(ip, IPAM_E_ASSIGNED, err, errlen,
			    "%s is in block %s, %s%s, and strict affinity is "
			    "on",
			    s, prefix_ntop(&cidr, c, sizeof(c)),
			    owner != NULL ? "affine to " : "affine to nobody",
			    owner != NULL ? owner : "");
			goto out;
		}
		rc =
		    ipam_take(ip, &blk, &hkv, &r, false, &a, &got, err, errlen);
		if (rc == 1) /* the block went away: claim it again */
			continue;
		goto out;
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "block %s: other clients kept changing it",
	    prefix_ntop(&cidr, c, sizeof(c)));
	rc = -1;
out:
	ipam_blk_clean(&blk);
	ipam_hkv_clean(&hkv);
out0:
	ipam_view_clean(&v);
	return rc;
}

int
ipam_auto_assign(struct ipam *ip, const struct ipam_request *req,
    struct addr *out, char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	return ipam_done(ip, ipam_auto_assign1(ip, req, out, err, errlen));
}

int
ipam_assign_ip(struct ipam *ip, const struct ipam_request *req,
    const struct addr *want, char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	return ipam_done(ip, ipam_assign_ip1(ip, req, want, err, errlen));
}
