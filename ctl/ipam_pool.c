/*
 * What deleting an IPPool does to the IPAM tree (calico.md §2), as
 * libcalico-go's IPPool Delete and IPAM ReleasePoolAffinities: resource.c
 * first disables the pool, so that no CNI allocates from it any more,
 * then calls ipam_pool_release(), then deletes the pool.  Each block
 * inside the pool loses its affinity, and every affinity key for it is
 * deleted: an empty block is deleted, one that still holds addresses
 * stays, affine to nobody, until its pods release them (deleting it would
 * hand their addresses out again).  Each block is one transaction that
 * compares the block's and the affinity keys' mod_revision (Calico does
 * the block, then the key; one txn cannot leave a key without its block
 * or the other way round), retried when a concurrent writer got there
 * first.
 *
 * ipam_pool_check() is the look before anything is written: a block that
 * does not decode cannot be told empty or not, so the deletion is refused
 * while there is one.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"
#include "ctl/ctl.h"

/* a block CIDR inside the pool: its block key and its affinity keys */
struct pool_block {
	struct prefix cidr;
	char **affs;
	size_t naffs;
};

struct pool_tree {
	struct pool_block *v;
	size_t n;
};

static void
pool_tree_clean(struct pool_tree *t)
{
	size_t i, k;

	for (i = 0; i < t->n; i++) {
		for (k = 0; k < t->v[i].naffs; k++)
			free(t->v[i].affs[k]);
		free(t->v[i].affs);
	}
	free(t->v);
	memset(t, 0, sizeof(*t));
}

static struct pool_block *
pool_tree_get(struct pool_tree *t, const struct prefix *cidr)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (prefix_cmp(&t->v[i].cidr, cidr) == 0)
			return &t->v[i];
	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	t->v[t->n].cidr = *cidr;
	return &t->v[t->n++];
}

static bool
pool_inside(const struct prefix *pool, const struct prefix *p)
{
	return p->a.family == pool->a.family && prefix_covers(pool, p);
}

/*
 * The block CIDRs inside the pool, from block keys and affinity keys
 * (a claim that never wrote its block leaves a key alone).  With
 * check, every block is decoded: -1 after a message naming the first
 * that does not.
 */
static int
pool_tree_load(struct etcd *e, const struct prefix *pool, const char *id,
    bool check, struct pool_tree *t)
{
	struct etcd_result res;
	struct prefix p;
	char host[256], err[MODEL_ERRLEN];
	struct model_block b;
	struct pool_block *pb;
	json_t *j;
	size_t i;
	int rc;

	memset(t, 0, sizeof(*t));
	if (etcd_list(e, MODEL_IPAM_PREFIX, 0, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(e));
		return -1;
	}
	for (i = 0; i < res.nkvs; i++) {
		if (model_block_key_parse(res.kvs[i].key, &p) == 0) {
			if (!pool_inside(pool, &p))
				continue;
			pool_tree_get(t, &p);
			if (!check)
				continue;
			rc = -1;
			if ((j = ipam_kv_json(&res.kvs[i])) != NULL)
				rc = model_block_from_json(
				    j, &b, err, sizeof(err));
			else
				snprintf(err, sizeof(err), "not JSON");
			json_decref(j);
			if (rc == -1) {
				fprintf(stderr,
				    "podmeshctl: %s: cannot release the pool's "
				    "blocks: %s: %s (whether it still holds "
				    "addresses is not known); repair or delete "
				    "that block first\n",
				    id, res.kvs[i].key, err);
				etcd_result_clean(&res);
				pool_tree_clean(t);
				return -1;
			}
			model_block_clean(&b);
		} else if (model_affinity_key_parse(
		               res.kvs[i].key, host, sizeof(host), &p) == 0 &&
		    pool_inside(pool, &p)) {
			pb = pool_tree_get(t, &p);
			pb->affs = xreallocarray(
			    pb->affs, pb->naffs + 1, sizeof(*pb->affs));
			pb->affs[pb->naffs++] = xstrdup(res.kvs[i].key);
		}
	}
	etcd_result_clean(&res);
	return 0;
}

int
ipam_pool_check(struct etcd *e, const struct prefix *pool, const char *id)
{
	struct pool_tree t;

	if (pool_tree_load(e, pool, id, true, &t) == -1)
		return -1;
	pool_tree_clean(&t);
	return 0;
}

/*
 * One block, one txn: 0 done (or nothing to do), 1 a compare failed (read
 * again), -1 error.
 */
static int
pool_release_block(struct etcd *e, const struct pool_block *pb, const char *id,
    struct ipam_pool_release *out)
{
	struct etcd_result res;
	struct etcd_cmp *cmps;
	struct etcd_op *ops;
	struct etcd_txn txn;
	struct model_block b;
	char key[512], cidr[PREFIX_STRLEN], err[MODEL_ERRLEN], *val = NULL;
	size_t i, ncmp = 0, nops = 0, naffdel = 0;
	bool have = false, deleted = false, kept = false;
	size_t held = 0;
	json_t *j;
	int rc;

	prefix_ntop(&pb->cidr, cidr, sizeof(cidr));
	if (model_block_key(&pb->cidr, key, sizeof(key)) == -1)
		fatalx("%s: no key for %s", __func__, cidr);
	cmps = xcalloc(pb->naffs + 1, sizeof(*cmps));
	ops = xcalloc(pb->naffs + 1, sizeof(*ops));
	memset(&b, 0, sizeof(b));
	if (etcd_get(e, key, &res) == -1)
		goto etcd_err;
	cmps[ncmp].key = key;
	if (res.nkvs == 1) {
		rc = -1;
		if ((j = ipam_kv_json(&res.kvs[0])) != NULL)
			rc = model_block_from_json(j, &b, err, sizeof(err));
		else
			snprintf(err, sizeof(err), "not JSON");
		json_decref(j);
		if (rc == -1) {
			fprintf(
			    stderr, "podmeshctl: %s: %s: %s\n", id, key, err);
			etcd_result_clean(&res);
			rc = -1;
			goto out;
		}
		have = true;
		cmps[ncmp].target = ETCD_CMP_MOD;
		cmps[ncmp++].number = res.kvs[0].mod_revision;
	} else {
		/* absent: and still absent when the keys go */
		cmps[ncmp].target = ETCD_CMP_CREATE;
		cmps[ncmp++].number = 0;
	}
	etcd_result_clean(&res);
	if (have && (b.affinity != NULL || model_block_empty(&b))) {
		free(b.affinity);
		b.affinity = NULL;
		ipam_block_op(key, &b, &val, &ops[nops++]);
		deleted = ops[0].type == ETCD_OP_DELETE;
		kept = !deleted;
		held = b.nords - model_block_nfree(&b);
	}
	for (i = 0; i < pb->naffs; i++) {
		if (etcd_get(e, pb->affs[i], &res) == -1)
			goto etcd_err;
		if (res.nkvs == 1) {
			cmps[ncmp].target = ETCD_CMP_MOD;
			cmps[ncmp].key = pb->affs[i];
			cmps[ncmp++].number = res.kvs[0].mod_revision;
			ops[nops].type = ETCD_OP_DELETE;
			ops[nops++].key = pb->affs[i];
			naffdel++;
		}
		etcd_result_clean(&res);
	}
	rc = 0;
	if (nops == 0)
		goto out;
	memset(&txn, 0, sizeof(txn));
	txn.cmp = cmps;
	txn.ncmp = ncmp;
	txn.success = ops;
	txn.nsuccess = nops;
	if (etcd_txn(e, &txn, &res) == -1)
		goto etcd_err;
	rc = res.succeeded ? 0 : 1;
	etcd_result_clean(&res);
	if (rc == 0) {
		out->blocks_deleted += deleted;
		out->blocks_kept += kept;
		out->addrs_kept += kept ? held : 0;
		out->affs_deleted += naffdel;
		if (kept)
			printf("Block %s still holds %zu address%s: kept, "
			       "affine to no node, until %s released\n",
			    cidr, held, held == 1 ? "" : "es",
			    held == 1 ? "it is" : "they are");
	}
	goto out;
etcd_err:
	fprintf(stderr, "podmeshctl: %s\n", etcd_error(e));
	rc = -1;
out:
	free(val);
	free(cmps);
	free(ops);
	model_block_clean(&b);
	return rc;
}

int
ipam_pool_release(struct etcd *e, const struct prefix *pool, const char *id,
    struct ipam_pool_release *out)
{
	struct pool_tree t;
	char cidr[PREFIX_STRLEN];
	size_t i;
	int rc = 0, tries;

	memset(out, 0, sizeof(*out));
	if (pool_tree_load(e, pool, id, false, &t) == -1)
		return -1;
	for (i = 0; i < t.n && rc == 0; i++) {
		for (tries = 0, rc = 1; tries < IPAM_RETRIES && rc == 1;
		     tries++)
			rc = pool_release_block(e, &t.v[i], id, out);
		if (rc == 1) {
			fprintf(stderr,
			    "podmeshctl: %s: block %s kept changing (%d "
			    "tries); the pool is disabled but not deleted: "
			    "run the delete again\n",
			    id, prefix_ntop(&t.v[i].cidr, cidr, sizeof(cidr)),
			    IPAM_RETRIES);
			rc = -1;
		}
	}
	pool_tree_clean(&t);
	return rc;
}
