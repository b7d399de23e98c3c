/*
 * The IPAM client's etcd reads and writes (calico.md §2): blocks, handles
 * and affinities read together in one txn, written back in one txn that
 * compares every key's mod_revision (the failure branch reads them again,
 * so a lost race costs no extra round trip), the two-phase block claim
 * (affinity pending, block created, affinity confirmed) and the release of
 * an affinity (block deleted or left to nobody, affinity deleted, one txn).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/ipam_int.h"

int
ipam_fail(struct ipam *ip, enum ipam_error kind, char *err, size_t errlen,
    const char *fmt, ...)
{
	va_list ap;

	ip->errkind = kind;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

int
ipam_done(struct ipam *ip, int rc)
{
	if (rc == -1 && ip->errkind == IPAM_E_NONE)
		ip->errkind = IPAM_E_OTHER;
	return rc;
}

int
ipam_etcd_fail(struct ipam *ip, const char *what, char *err, size_t errlen)
{
	return ipam_fail(ip, IPAM_E_DATASTORE, err, errlen, "%s: %s", what,
	    etcd_error(ip->etcd));
}

static json_t *
ipam_kv_value(const struct etcd_kv *kv)
{
	return json_loadb(kv->value, kv->value_len, 0, NULL);
}

static char *
ipam_dump(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(j);
	return s;
}

void
ipam_blk_clean(struct ipam_blk *blk)
{
	model_block_clean(&blk->b);
	blk->mod = 0;
}

void
ipam_hkv_clean(struct ipam_hkv *hkv)
{
	model_handle_clean(&hkv->h);
	free(hkv->id);
	hkv->id = NULL;
	hkv->mod = 0;
}

/* a range answer (0 or 1 kv) into blk */
static int
ipam_blk_load(
    struct ipam_blk *blk, const struct etcd_result *r, char *err, size_t errlen)
{
	char e[MODEL_ERRLEN], c[PREFIX_STRLEN];
	json_t *j;

	model_block_clean(&blk->b);
	blk->mod = 0;
	if (r->nkvs == 0)
		return 0;
	if ((j = ipam_kv_value(&r->kvs[0])) == NULL ||
	    model_block_from_json(j, &blk->b, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "block %s: %s", blk->key,
		    j == NULL ? "not JSON" : e);
		json_decref(j);
		return -1;
	}
	json_decref(j);
	if (prefix_cmp(&blk->b.cidr, &blk->cidr) != 0) {
		snprintf(err, errlen, "block %s: holds the CIDR %s", blk->key,
		    prefix_ntop(&blk->b.cidr, c, sizeof(c)));
		model_block_clean(&blk->b);
		return -1;
	}
	blk->mod = r->kvs[0].mod_revision;
	return 0;
}

static int
ipam_hkv_load(
    struct ipam_hkv *hkv, const struct etcd_result *r, char *err, size_t errlen)
{
	char e[MODEL_ERRLEN];
	json_t *j;

	model_handle_clean(&hkv->h);
	hkv->mod = 0;
	if (r->nkvs == 0)
		return 0;
	if ((j = ipam_kv_value(&r->kvs[0])) == NULL ||
	    model_handle_from_json(j, &hkv->h, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "handle %s: %s", hkv->key,
		    j == NULL ? "not JSON" : e);
		json_decref(j);
		return -1;
	}
	json_decref(j);
	hkv->mod = r->kvs[0].mod_revision;
	return 0;
}

static int
ipam_akv_load(
    struct ipam_akv *akv, const struct etcd_result *r, char *err, size_t errlen)
{
	char e[MODEL_ERRLEN];
	json_t *j;

	model_affinity_clean(&akv->a);
	akv->mod = 0;
	if (r->nkvs == 0)
		return 0;
	if ((j = ipam_kv_value(&r->kvs[0])) == NULL ||
	    model_affinity_from_json(j, &akv->a, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "affinity %s: %s", akv->key,
		    j == NULL ? "not JSON" : e);
		json_decref(j);
		return -1;
	}
	json_decref(j);
	akv->mod = r->kvs[0].mod_revision;
	return 0;
}

static int
ipam_hkv_setup(struct ipam *ip, struct ipam_hkv *hkv, const char *handle,
    char *err, size_t errlen)
{
	ipam_hkv_clean(hkv);
	hkv->key[0] = '\0';
	if (handle == NULL)
		return 0;
	if (model_handle_key(handle, hkv->key, sizeof(hkv->key)) == -1) {
		hkv->key[0] = '\0';
		ipam_fail(ip, IPAM_E_INVALID, err, errlen,
		    "invalid handle \"%s\"", handle);
		return -1;
	}
	hkv->id = xstrdup(handle);
	return 0;
}

/* one txn of ranges, each answer checked to be one */
static int
ipam_get_keys(struct ipam *ip, const char *const *keys, size_t n,
    struct etcd_result *res, char *err, size_t errlen)
{
	struct etcd_op ops[4];
	struct etcd_txn t;
	size_t i;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < n; i++) {
		ops[i].type = ETCD_OP_RANGE;
		ops[i].key = keys[i];
	}
	memset(&t, 0, sizeof(t));
	t.success = ops;
	t.nsuccess = n;
	if (etcd_txn(ip->etcd, &t, res) == -1)
		return ipam_etcd_fail(ip, "reading IPAM keys", err, errlen);
	if (!res->succeeded || res->nresponses != n) {
		etcd_result_clean(res);
		ipam_fail(ip, IPAM_E_DATASTORE, err, errlen,
		    "etcd %s: a txn of %zu reads answered %zu",
		    etcd_endpoint(ip->etcd), n, res->nresponses);
		return -1;
	}
	return 0;
}

int
ipam_read(struct ipam *ip, const struct prefix *cidr, const char *handle,
    struct ipam_blk *blk, struct ipam_hkv *hkv, struct ipam_akv *akv, char *err,
    size_t errlen)
{
	struct etcd_result res;
	const char *keys[3];
	size_t n = 0, ih = 0, ia = 0;
	int rc = 0;

	blk->cidr = *cidr;
	if (model_block_key(cidr, blk->key, sizeof(blk->key)) == -1)
		fatalx("%s: no key for a block", __func__);
	keys[n++] = blk->key;
	if (hkv != NULL) {
		if (ipam_hkv_setup(ip, hkv, handle, err, errlen) == -1)
			return -1;
		if (hkv->key[0] != '\0') {
			ih = n;
			keys[n++] = hkv->key;
		}
	}
	if (akv != NULL) {
		akv->cidr = *cidr;
		if (model_affinity_key(
		        ip->host, cidr, akv->key, sizeof(akv->key)) == -1)
			fatalx("%s: no affinity key", __func__);
		ia = n;
		keys[n++] = akv->key;
	}
	ip->badblock = false;
	if (ipam_get_keys(ip, keys, n, &res, err, errlen) == -1)
		return -1;
	if (ipam_blk_load(blk, &res.responses[0], err, errlen) == -1) {
		ip->badblock = true;
		rc = -1;
	} else if ((ih > 0 &&
	               ipam_hkv_load(hkv, &res.responses[ih], err, errlen) ==
	                   -1) ||
	    (ia > 0 &&
	        ipam_akv_load(akv, &res.responses[ia], err, errlen) == -1))
		rc = -1;
	etcd_result_clean(&res);
	return rc;
}

int
ipam_hkv_read(struct ipam *ip, const char *handle, struct ipam_hkv *hkv,
    char *err, size_t errlen)
{
	struct etcd_result res;
	const char *key;
	int rc;

	if (ipam_hkv_setup(ip, hkv, handle, err, errlen) == -1)
		return -1;
	key = hkv->key;
	if (ipam_get_keys(ip, &key, 1, &res, err, errlen) == -1) {
		/* callers return at once on -1: nothing may stay held */
		ipam_hkv_clean(hkv);
		return -1;
	}
	rc = ipam_hkv_load(hkv, &res.responses[0], err, errlen);
	etcd_result_clean(&res);
	if (rc == -1)
		ipam_hkv_clean(hkv);
	return rc;
}

/* the write of a block: put, or delete when empty and nobody's */
static bool
ipam_blk_op(const struct ipam_blk *blk, struct etcd_op *op, char **val)
{
	memset(op, 0, sizeof(*op));
	op->key = blk->key;
	if (model_block_empty(&blk->b) && blk->b.affinity == NULL) {
		op->type = ETCD_OP_DELETE;
		return true;
	}
	op->type = ETCD_OP_PUT;
	*val = ipam_dump(model_block_to_json(&blk->b));
	op->value = *val;
	return false;
}

static bool
ipam_hkv_op(const struct ipam_hkv *hkv, struct etcd_op *op, char **val)
{
	memset(op, 0, sizeof(*op));
	op->key = hkv->key;
	if (hkv->h.n == 0) {
		op->type = ETCD_OP_DELETE;
		return true;
	}
	op->type = ETCD_OP_PUT;
	*val = ipam_dump(model_handle_to_json(&hkv->h));
	op->value = *val;
	return false;
}

static void
ipam_cmp_mod(struct etcd_cmp *c, const char *key, int64_t mod)
{
	memset(c, 0, sizeof(*c));
	c->target = ETCD_CMP_MOD;
	c->result = ETCD_CMP_EQUAL;
	c->key = key;
	c->number = mod;
}

static void
ipam_op_range(struct etcd_op *op, const char *key)
{
	memset(op, 0, sizeof(*op));
	op->type = ETCD_OP_RANGE;
	op->key = key;
}

int
ipam_write(struct ipam *ip, struct ipam_blk *blk, bool bput,
    struct ipam_hkv *hkv, bool hput, char *err, size_t errlen)
{
	struct etcd_cmp cmp[2];
	struct etcd_op ops[2], rd[2], op;
	struct etcd_result res;
	struct etcd_txn t;
	char *bval = NULL, *hval = NULL;
	bool hok = hkv != NULL && hkv->key[0] != '\0', bdel = false,
	     hdel = false;
	size_t ncmp = 0, nops = 0;
	int rc;

	ipam_cmp_mod(&cmp[ncmp], blk->key, blk->mod);
	ipam_op_range(&rd[ncmp++], blk->key);
	if (bput) {
		bdel = ipam_blk_op(blk, &op, &bval);
		if (!bdel || blk->mod != 0)
			ops[nops++] = op;
	}
	if (hok) {
		ipam_cmp_mod(&cmp[ncmp], hkv->key, hkv->mod);
		ipam_op_range(&rd[ncmp++], hkv->key);
		if (hput) {
			hdel = ipam_hkv_op(hkv, &op, &hval);
			if (!hdel || hkv->mod != 0)
				ops[nops++] = op;
		}
	}
	memset(&t, 0, sizeof(t));
	t.cmp = cmp;
	t.ncmp = ncmp;
	t.success = ops;
	t.nsuccess = nops;
	t.failure = rd;
	t.nfailure = ncmp;
	rc = etcd_txn(ip->etcd, &t, &res);
	free(bval);
	free(hval);
	if (rc == -1)
		return ipam_etcd_fail(ip, "writing IPAM block", err, errlen);
	if (res.succeeded) {
		if (bput)
			blk->mod = bdel ? 0 : res.revision;
		if (hok && hput)
			hkv->mod = hdel ? 0 : res.revision;
		etcd_result_clean(&res);
		return 0;
	}
	rc = 1;
	if (res.nresponses != ncmp) {
		ipam_fail(ip, IPAM_E_DATASTORE, err, errlen,
		    "etcd %s: a failed txn answered %zu reads",
		    etcd_endpoint(ip->etcd), res.nresponses);
		rc = -1;
	} else if (ipam_blk_load(blk, &res.responses[0], err, errlen) == -1 ||
	    (hok && ipam_hkv_load(hkv, &res.responses[1], err, errlen) == -1))
		rc = -1;
	etcd_result_clean(&res);
	return rc;
}

/* ---- affinities ---- */

void
ipam_akvs_free(struct ipam_akv *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		model_affinity_clean(&v[i].a);
	free(v);
}

void
ipam_akv_parse(const char *host, int family, const struct etcd_result *res,
    struct ipam_akv **out, size_t *n)
{
	char h[MODEL_NAME_MAX + 1], e[IPAM_ERRLEN];
	struct etcd_result one;
	struct ipam_akv *v;
	struct prefix p;
	size_t i;

	*n = 0;
	v = xcalloc(res->nkvs + 1, sizeof(*v));
	for (i = 0; i < res->nkvs; i++) {
		struct ipam_akv *a = &v[*n];

		if (model_affinity_key_parse(
		        res->kvs[i].key, h, sizeof(h), &p) == -1 ||
		    strcmp(h, host) != 0 || p.a.family != family)
			continue;
		snprintf(a->key, sizeof(a->key), "%s", res->kvs[i].key);
		a->cidr = p;
		memset(&one, 0, sizeof(one));
		one.kvs = &res->kvs[i];
		one.nkvs = 1;
		if (ipam_akv_load(a, &one, e, sizeof(e)) == -1) {
			log_warnx("ipam: %s; left alone", e);
			continue;
		}
		(*n)++;
	}
	*out = v;
}

int
ipam_akv_list(struct ipam *ip, const char *host, int family,
    struct ipam_akv **out, size_t *n, char *err, size_t errlen)
{
	struct etcd_result res;
	char prefix[IPAM_KEYLEN];

	*out = NULL;
	*n = 0;
	if (model_affinity_key_prefix(host, family, prefix, sizeof(prefix)) ==
	    -1) {
		ipam_fail(ip, IPAM_E_INVALID, err, errlen,
		    "invalid host name \"%s\"", host);
		return -1;
	}
	if (etcd_list(ip->etcd, prefix, 0, &res) == -1)
		return ipam_etcd_fail(ip, "listing affinities", err, errlen);
	ipam_akv_parse(host, family, &res, out, n);
	etcd_result_clean(&res);
	return 0;
}

/* put the affinity in state st, compared on its mod_revision */
static int
ipam_akv_put(struct ipam *ip, struct ipam_akv *akv,
    enum model_affinity_state st, char *err, size_t errlen)
{
	struct etcd_result res;
	char *val;
	int rc;

	akv->a.state = st;
	if (akv->a.deleted == MODEL_UNSET)
		akv->a.deleted = MODEL_FALSE; /* as v3.21 writes it */
	val = ipam_dump(model_affinity_to_json(&akv->a));
	rc = etcd_cas_put(
	    ip->etcd, akv->key, val, strlen(val), akv->mod, 0, &res);
	free(val);
	if (rc == -1)
		return ipam_etcd_fail(ip, "writing affinity", err, errlen);
	if (rc == 0)
		akv->mod = res.revision;
	etcd_result_clean(&res);
	return rc;
}

static int
ipam_akv_delete(struct ipam *ip, struct ipam_akv *akv, char *err, size_t errlen)
{
	struct etcd_result res;
	int rc;

	rc = etcd_cas_delete(ip->etcd, akv->key, akv->mod, &res);
	if (rc == -1)
		return ipam_etcd_fail(ip, "deleting affinity", err, errlen);
	if (rc == 0)
		akv->mod = 0;
	etcd_result_clean(&res);
	return rc;
}

int
ipam_claim(struct ipam *ip, const struct prefix *cidr, char *err, size_t errlen)
{
	struct ipam_blk blk;
	struct ipam_akv akv;
	char c[PREFIX_STRLEN];
	const char *owner;
	int rc = -1, try;

	memset(&blk, 0, sizeof(blk));
	memset(&akv, 0, sizeof(akv));
	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		if (ipam_read(ip, cidr, NULL, &blk, NULL, &akv, err, errlen) ==
		    -1)
			goto out;
		if (blk.mod != 0) {
			owner = model_block_host(&blk.b);
			if (owner == NULL || strcmp(owner, ip->host) != 0) {
				/* another host's: take our claim back */
				if (akv.mod != 0 &&
				    (rc = ipam_akv_delete(
				         ip, &akv, err, errlen)) != 0) {
					if (rc == -1)
						goto out;
					continue;
				}
				rc = 1;
				goto out;
			}
			/* ours, by another of our processes or an earlier
			 * try: the affinity says so too */
			if (akv.mod == 0 ||
			    (akv.a.state != MODEL_AFF_CONFIRMED &&
			        akv.a.state != MODEL_AFF_NONE)) {
				if ((rc = ipam_akv_put(ip, &akv,
				         MODEL_AFF_CONFIRMED, err, errlen)) ==
				    -1)
					goto out;
				if (rc == 1)
					continue;
			}
			rc = 0;
			goto out;
		}
		/* phase 1: the affinity, pending */
		if (akv.mod == 0 || akv.a.state != MODEL_AFF_PENDING) {
			if ((rc = ipam_akv_put(ip, &akv, MODEL_AFF_PENDING, err,
			         errlen)) == -1)
				goto out;
			if (rc == 1)
				continue;
		}
		/* phase 2: the block, only if nobody created it meanwhile */
		model_block_init(&blk.b, cidr, ip->host);
		if ((rc = ipam_write(
		         ip, &blk, true, NULL, false, err, errlen)) == -1)
			goto out;
		if (rc == 1)
			continue; /* it exists now: whose? */
		/* phase 3: confirmed; if that loses a race, the next round
		 * finds the block ours and confirms again */
		if ((rc = ipam_akv_put(
		         ip, &akv, MODEL_AFF_CONFIRMED, err, errlen)) == -1)
			goto out;
		if (rc == 1)
			continue;
		log_debug("ipam: host %s claimed block %s", ip->host,
		    prefix_ntop(cidr, c, sizeof(c)));
		rc = 0;
		goto out;
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "claiming block %s: other clients kept changing it (%d tries)",
	    prefix_ntop(cidr, c, sizeof(c)), IPAM_CAS_RETRIES);
	rc = -1;
out:
	ipam_blk_clean(&blk);
	model_affinity_clean(&akv.a);
	return rc;
}

int
ipam_unaffine(struct ipam *ip, const char *host, const struct prefix *cidr,
    bool require_empty, char *err, size_t errlen)
{
	struct etcd_cmp cmp[2];
	struct etcd_op ops[2];
	struct etcd_result res;
	struct etcd_txn t;
	struct ipam_blk blk;
	struct ipam_akv akv;
	const char *keys[2], *owner;
	char *bval, c[PREFIX_STRLEN];
	size_t nops;
	int rc = -1, try;

	memset(&blk, 0, sizeof(blk));
	memset(&akv, 0, sizeof(akv));
	blk.cidr = akv.cidr = *cidr;
	if (model_block_key(cidr, blk.key, sizeof(blk.key)) == -1 ||
	    model_affinity_key(host, cidr, akv.key, sizeof(akv.key)) == -1) {
		ipam_fail(ip, IPAM_E_INVALID, err, errlen,
		    "invalid host name \"%s\"", host);
		return -1;
	}
	keys[0] = blk.key;
	keys[1] = akv.key;
	for (try = 0; try < IPAM_CAS_RETRIES; try++) {
		if (ipam_get_keys(ip, keys, 2, &res, err, errlen) == -1)
			goto out;
		rc = ipam_blk_load(&blk, &res.responses[0], err, errlen);
		if (rc == 0)
			rc =
			    ipam_akv_load(&akv, &res.responses[1], err, errlen);
		etcd_result_clean(&res);
		if (rc == -1)
			goto out;
		if (akv.mod == 0) {
			rc = 0; /* released already */
			goto out;
		}
		ipam_cmp_mod(&cmp[0], blk.key, blk.mod);
		ipam_cmp_mod(&cmp[1], akv.key, akv.mod);
		memset(ops, 0, sizeof(ops));
		ops[0].type = ETCD_OP_DELETE;
		ops[0].key = akv.key;
		nops = 1;
		bval = NULL;
		owner = blk.mod != 0 ? model_block_host(&blk.b) : NULL;
		if (owner != NULL && strcmp(owner, host) == 0) {
			if (require_empty && !model_block_empty(&blk.b)) {
				rc = 1;
				goto out;
			}
			free(blk.b.affinity);
			blk.b.affinity = NULL;
			ipam_blk_op(&blk, &ops[nops++], &bval);
		}
		memset(&t, 0, sizeof(t));
		t.cmp = cmp;
		t.ncmp = 2;
		t.success = ops;
		t.nsuccess = nops;
		rc = etcd_txn(ip->etcd, &t, &res);
		free(bval);
		if (rc == -1) {
			rc = ipam_etcd_fail(
			    ip, "releasing an affinity", err, errlen);
			goto out;
		}
		rc = res.succeeded ? 0 : 1;
		etcd_result_clean(&res);
		if (rc == 0) {
			log_debug("ipam: released the affinity of block %s to "
			          "%s",
			    prefix_ntop(cidr, c, sizeof(c)), host);
			goto out;
		}
	}
	ipam_fail(ip, IPAM_E_BUSY, err, errlen,
	    "releasing block %s: other clients kept changing it (%d tries)",
	    prefix_ntop(cidr, c, sizeof(c)), IPAM_CAS_RETRIES);
	rc = -1;
out:
	ipam_blk_clean(&blk);
	model_affinity_clean(&akv.a);
	return rc;
}

/* ---- block listings ---- */

static int
ipam_lblk_cmp(const void *a, const void *b)
{
	const struct ipam_lblk *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

void
ipam_listing_clean(struct ipam_listing *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].host);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

int
ipam_list_blocks(struct ipam *ip, int family, struct ipam_listing *l, char *err,
    size_t errlen)
{
	struct etcd_result res;
	struct model_block b;
	char prefix[128], e[MODEL_ERRLEN];
	struct ipam_lblk *x;
	struct prefix p;
	const char *h;
	size_t i;
	json_t *j;
	int bits;

	memset(l, 0, sizeof(*l));
	if (model_block_key_prefix(family, prefix, sizeof(prefix)) == -1)
		fatalx("%s: family %d", __func__, family);
	if (etcd_list(ip->etcd, prefix, 0, &res) == -1)
		return ipam_etcd_fail(ip, "listing blocks", err, errlen);
	l->v = xcalloc(res.nkvs + 1, sizeof(*l->v));
	for (i = 0; i < res.nkvs; i++) {
		if (model_block_key_parse(res.kvs[i].key, &p) == -1)
			continue;
		x = &l->v[l->n++];
		x->cidr = p;
		bits = addr_maxlen(family) - p.len;
		x->lo = ipam_addr_u128(&p.a);
		x->hi = x->lo + (((unsigned __int128)1 << bits) - 1);
		j = ipam_kv_value(&res.kvs[i]);
		if (j != NULL &&
		    model_block_from_json(j, &b, e, sizeof(e)) == 0) {
			x->ok = prefix_cmp(&b.cidr, &p) == 0;
			x->nfree = model_block_nfree(&b);
			if ((h = model_block_host(&b)) != NULL)
				x->host = xstrdup(h);
			model_block_clean(&b);
		}
		json_decref(j);
		if (!x->ok)
			log_warnx("ipam: block %s does not decode; left alone",
			    res.kvs[i].key);
	}
	etcd_result_clean(&res);
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), ipam_lblk_cmp);
	return 0;
}

const struct ipam_lblk *
ipam_listing_find(
    const struct ipam_listing *l, unsigned __int128 lo, unsigned __int128 hi)
{
	size_t a = 0, b = l->n, m;

	/* the last block starting at or before hi; blocks do not overlap,
	 * so if it ends before lo, no block meets [lo, hi] */
	while (a < b) {
		m = a + (b - a) / 2;
		if (l->v[m].lo <= hi)
			a = m + 1;
		else
			b = m;
	}
	if (a == 0 || l->v[a - 1].hi < lo)
		return NULL;
	return &l->v[a - 1];
}
