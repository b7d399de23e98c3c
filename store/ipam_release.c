/*
 * IPAM release (calico.md §2; libcalico-go v3 ReleaseByHandle, ReleaseIPs,
 * RemoveIPAMHost), the addresses a handle holds and who holds an address
 * (GetAssignmentAttributes).  A freed ordinal goes to the back of its
 * block's unallocated queue (model_block_release); a block left empty and
 * affine to nobody is deleted in the same txn, an affine one stays until
 * its host's affinity is released; a handle counting nothing is deleted,
 * also in that txn.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/ipam_int.h"

/* free every ordinal of blk whose attribute carries handle; how many */
static size_t
ipam_free_handle(struct model_block *b, const char *handle)
{
	const struct model_ipam_attr *attr;
	struct addr a;
	size_t n = 0;
	uint32_t o;

	for (o = 0; o < b->nords; o++) {
		attr = model_block_attr(b, o);
		if (attr == NULL || attr->handle_id == NULL ||
		    strcmp(attr->handle_id, handle) != 0)
			continue;
		model_block_addr(b, o, &a);
		model_block_release(b, &a);
		n++;
	}
	return n;
}

static int
ipam_handle_count(const struct model_handle *h, const struct prefix *cidr)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (prefix_cmp(&h->v[i].cidr, cidr) == 0)
			return h->v[i].count;
	return 0;
}

static int
ipam_release_handle1(
    struct ipam *ip, const char *handle, char *err, size_t errlen)
{
	struct ipam_blk blk;
	struct ipam_hkv hkv;
	struct prefix *cidrs = NULL;
	char c[PREFIX_STRLEN];
	size_t i, n, nblocks;
	int rc = -1, try, count;

	memset(&blk, 0, sizeof(blk));
	memset(&hkv, 0, sizeof(hkv));
	if (ipam_hkv_read(ip, handle, &hkv, err, errlen) == -1)
		return -1;
	if (hkv.mod == 0) {
		rc = 0;
		goto out;
	}
	nblocks = hkv.h.n;
	cidrs = xcalloc(nblocks + 1, sizeof(*cidrs));
	for (i = 0; i < nblocks; i++)
		cidrs[i] = hkv.h.v[i].cidr;
	for (i = 0; i < nblocks; i++) {
		for (try = 0; try < IPAM_CAS_RETRIES; try++) {
			if (ipam_read(ip, &cidrs[i], handle, &blk, &hkv, NULL,
			        err, errlen) == -1)
				goto out;
			if (hkv.mod == 0) {
				rc = 0; /* released by another client */
				goto out;
			}
			n = blk.mod != 0 ? ipam_free_handle(&blk.b, handle) : 0;
			count = ipam_handle_count(&hkv.h, &cidrs[i]);
			if (n == 0 && count == 0)
				break;
			if (count > 0)
				model_handle_add(&hkv.h, &cidrs[i], -count);
			if ((rc = ipam_write(ip, &blk, n > 0, &hkv, true, err,
			         errlen)) == -1)
				goto out;
			if (rc == 0)
				break;
		}
		if (try == IPAM_CAS_RETRIES) {
			ipam_fail(ip, IPAM_E_BUSY, err, errlen,
			    "releasing handle %s in block %s: other clients "
			    "kept changing it (%d tries)",
			    handle, prefix_ntop(&cidrs[i], c, sizeof(c)),
			    IPAM_CAS_RETRIES);
			rc = -1;
			goto out;
		}
	}
	/* what the last read or write left: a handle that counts nothing
	 * (it counted no block at all, or only blocks with none of its
	 * addresses) is deleted too; one that another client counted into
	 * again meanwhile stays */
	rc = 0;
	if (hkv.mod != 0 && hkv.h.n == 0) {
		struct etcd_result res;

		if (etcd_cas_delete(ip->etcd, hkv.key, hkv.mod, &res) == -1)
			rc = ipam_etcd_fail(ip, "deleting handle", err, errlen);
		else
			etcd_result_clean(&res);
	}
out:
	free(cidrs);
	ipam_blk_clean(&blk);
	ipam_hkv_clean(&hkv);
	return rc;
}

/*
 * The block holding a: the pools' block sizes first (one read each, as
 * Calico's getPoolForIP), else a listing of every block of the family,
 * for an address in a pool since deleted.  0 found, 1 none, -1 error.
 */
static int
ipam_find_block(struct ipam *ip, const struct addr *a, struct prefix *out,
    char *err, size_t errlen)
{
	struct ipam_listing l;
	struct etcd_result res;
	const struct ipam_lblk *x;
	struct ipam_blk blk;
	char prefix[256], e[MODEL_ERRLEN];
	struct resource r;
	unsigned __int128 u;
	size_t i;
	json_t *j;
	int rc = 1;

	model_key_prefix(MODEL_IPPOOL, NULL, prefix, sizeof(prefix));
	if (etcd_list(ip->etcd, prefix, 0, &res) == -1)
		return ipam_etcd_fail(ip, "listing pools", err, errlen);
	memset(&blk, 0, sizeof(blk));
	for (i = 0; i < res.nkvs && rc == 1; i++) {
		j = json_loadb(res.kvs[i].value, res.kvs[i].value_len, 0, NULL);
		if (j == NULL || resource_decode(j, &r, e, sizeof(e)) == -1) {
			json_decref(j);
			continue;
		}
		json_decref(j);
		if (r.kind == MODEL_IPPOOL &&
		    prefix_contains(&r.ippool.cidr, a) &&
		    model_block_cidr_for(a, r.ippool.block_size, out) == 0) {
			rc = ipam_read(
			    ip, out, NULL, &blk, NULL, NULL, err, errlen);
			if (rc == 0 && blk.mod == 0)
				rc = 1;
			ipam_blk_clean(&blk);
		}
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	if (rc != 1)
		return rc;
	if (ipam_list_blocks(ip, a->family, &l, err, errlen) == -1)
		return -1;
	u = ipam_addr_u128(a);
	if ((x = ipam_listing_find(&l, u, u)) != NULL) {
		*out = x->cidr;
		rc = 0;
	}
	ipam_listing_clean(&l);
	return rc;
}

static int
ipam_release_ip1(
    struct ipam *ip, const struct addr *want, char *err, size_t errlen)
{
	const struct model_ipam_attr *attr;
	struct ipam_blk blk;
	struct ipam_hkv hkv;
	struct prefix cidr;
	struct addr a = *want;
	char s[ADDR_STRLEN], *handle = NULL;
	bool hput;
	int rc, try;

	a.scope_id = 0;
	addr_ntop(&a, s, sizeof(s));
	if (a.family != AF_INET && a.family != AF_INET6) {
		ipam_fail(ip, IPAM_E_INVALID, err, errlen, "not an IP address");
		return -1;
	}
	if ((rc = ipam_find_block(ip, &a, &cidr, err, errlen)) != 0) {
		if (rc == 1)
			snprintf(err, errlen,
			    "%s is not assigned (no block "
			    "holds it)",
			    s);
		return rc;
	}
	memset(&blk, 0, sizeof(blk));
	memset(&hkv, 0, sizeof(hkv));
	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		/* the block says which handle to read with it */
		if (ipam_read(ip, &cidr, NULL, &blk, NULL, NULL, err, errlen) ==
		    -1) {
			rc = -1;
			goto out;
		}
		attr = blk.mod != 0
		    ? model_block_attr(&blk.b, model_block_ordinal(&blk.b, &a))
		    : NULL;
		if (attr == NULL) {
			snprintf(err, errlen, "%s is not assigned", s);
			rc = 1;
			goto out;
		}
		free(handle);
		handle =
		    attr->handle_id != NULL ? xstrdup(attr->handle_id) : NULL;
		if (ipam_read(ip, &cidr, handle, &blk, &hkv, NULL, err,
		        errlen) == -1) {
			rc = -1;
			goto out;
		}
		attr = blk.mod != 0
		    ? model_block_attr(&blk.b, model_block_ordinal(&blk.b, &a))
		    : NULL;
		if (attr == NULL ||
		    (attr->handle_id == NULL) != (handle == NULL) ||
		    (handle != NULL && strcmp(attr->handle_id, handle) != 0))
			continue; /* changed between the reads */
		model_block_release(&blk.b, &a);
		/* a handle that did not count it is left as it is */
		hput = hkv.mod != 0 && model_handle_add(&hkv.h, &cidr, -1) == 0;
		if ((rc = ipam_write(
		         ip, &blk, true, &hkv, hput, err, errlen)) != 1)
			goto out;
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "releasing %s: other clients kept changing its "
	    "block (%d tries)",
	    s, IPAM_CAS_RETRIES);
	rc = -1;
out:
	free(handle);
	ipam_blk_clean(&blk);
	ipam_hkv_clean(&hkv);
	return rc;
}

static int
ipam_addr_cmp(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

static int
ipam_handle_get1(struct ipam *ip, const char *handle, struct addr **out,
    size_t *n, char *err, size_t errlen)
{
	const struct model_ipam_attr *attr;
	struct ipam_blk blk;
	struct ipam_hkv hkv;
	struct addr *v = NULL;
	size_t i, nv = 0;
	uint32_t o;
	int rc = -1;

	*out = NULL;
	*n = 0;
	memset(&blk, 0, sizeof(blk));
	memset(&hkv, 0, sizeof(hkv));
	if (ipam_hkv_read(ip, handle, &hkv, err, errlen) == -1)
		return -1;
	for (i = 0; i < hkv.h.n; i++) {
		if (ipam_read(ip, &hkv.h.v[i].cidr, NULL, &blk, NULL, NULL, err,
		        errlen) == -1)
			goto out;
		for (o = 0; blk.mod != 0 && o < blk.b.nords; o++) {
			attr = model_block_attr(&blk.b, o);
			if (attr == NULL || attr->handle_id == NULL ||
			    strcmp(attr->handle_id, handle) != 0)
				continue;
			v = xreallocarray(v, nv + 1, sizeof(*v));
			model_block_addr(&blk.b, o, &v[nv++]);
		}
	}
	if (nv > 0)
		qsort(v, nv, sizeof(*v), ipam_addr_cmp);
	*out = v;
	*n = nv;
	v = NULL;
	rc = 0;
out:
	free(v);
	ipam_blk_clean(&blk);
	ipam_hkv_clean(&hkv);
	return rc;
}

static int
ipam_ip_owner1(struct ipam *ip, const struct addr *want, struct ipam_owner *out,
    char *err, size_t errlen)
{
	const struct model_ipam_attr *attr;
	struct ipam_blk blk;
	struct prefix cidr;
	struct addr a = *want;
	size_t i;
	int rc;

	a.scope_id = 0;
	if (a.family != AF_INET && a.family != AF_INET6) {
		ipam_fail(ip, IPAM_E_INVALID, err, errlen, "not an IP address");
		return -1;
	}
	if ((rc = ipam_find_block(ip, &a, &cidr, err, errlen)) != 0)
		return rc;
	memset(&blk, 0, sizeof(blk));
	if (ipam_read(ip, &cidr, NULL, &blk, NULL, NULL, err, errlen) == -1)
		return -1;
	attr = blk.mod != 0
	    ? model_block_attr(&blk.b, model_block_ordinal(&blk.b, &a))
	    : NULL;
	if (attr != NULL) {
		if (attr->handle_id != NULL)
			out->handle = xstrdup(attr->handle_id);
		for (i = 0; attr->has_secondary && i < attr->secondary.n; i++)
			model_labels_set(&out->attrs, attr->secondary.v[i].key,
			    attr->secondary.v[i].value);
	}
	ipam_blk_clean(&blk);
	return attr != NULL ? 0 : 1;
}

static int
ipam_remove_host1(struct ipam *ip, const char *host, char *err, size_t errlen)
{
	static const int families[] = {AF_INET, AF_INET6};
	struct ipam_akv *affs;
	size_t i, k, n;

	for (k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		if (ipam_akv_list(
		        ip, host, families[k], &affs, &n, err, errlen) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (ipam_unaffine(ip, host, &affs[i].cidr, false, err,
			        errlen) == -1) {
				ipam_akvs_free(affs, n);
				return -1;
			}
		ipam_akvs_free(affs, n);
	}
	return 0;
}

int
ipam_release_handle(
    struct ipam *ip, const char *handle, char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	return ipam_done(ip, ipam_release_handle1(ip, handle, err, errlen));
}

int
ipam_release_ip(struct ipam *ip, const struct addr *a, char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	return ipam_done(ip, ipam_release_ip1(ip, a, err, errlen));
}

int
ipam_handle_get(struct ipam *ip, const char *handle, struct addr **out,
    size_t *n, char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	return ipam_done(ip, ipam_handle_get1(ip, handle, out, n, err, errlen));
}

int
ipam_ip_owner(struct ipam *ip, const struct addr *a, struct ipam_owner *out,
    char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	memset(out, 0, sizeof(*out));
	return ipam_done(ip, ipam_ip_owner1(ip, a, out, err, errlen));
}

void
ipam_owner_clean(struct ipam_owner *o)
{
	free(o->handle);
	model_labels_clean(&o->attrs);
	memset(o, 0, sizeof(*o));
}

bool
ipam_owner_tunnel(const struct ipam_owner *o, const char *node,
    const char *handle, const char *type)
{
	const char *on = model_labels_get(&o->attrs, "node");
	const char *ot = model_labels_get(&o->attrs, "type");

	if (o->handle == NULL && o->attrs.n == 0)
		return true;
	if (o->handle != NULL && strcmp(o->handle, handle) == 0)
		return true;
	return on != NULL && ot != NULL && strcmp(on, node) == 0 &&
	    strcmp(ot, type) == 0;
}

int
ipam_remove_host(struct ipam *ip, const char *host, char *err, size_t errlen)
{
	ip->errkind = IPAM_E_NONE;
	return ipam_done(ip, ipam_remove_host1(ip, host, err, errlen));
}
