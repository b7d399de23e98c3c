/*
 * podmeshctl ipam check [--fix [--grace SECONDS]]: the IPAM tree against
 * its users (calico.md §2).  Reported: allocations that nothing uses (no
 * WorkloadEndpoint holds the address or carries the handle's container
 * id, and it is no existing node's tunnel address), blocks and affinity
 * keys for nodes that do not exist, handles that count allocations no
 * block has.
 *
 * --fix releases the leaked addresses, takes the affinity off those
 * blocks (deleting the empty ones) and deletes the dangling affinity keys,
 * per block, each a compare-and-swap transaction.  A CNI ADD allocates
 * first and writes its WorkloadEndpoint seconds later (and a node claims
 * its block before its Node exists), so a single look would take a pod
 * being started for a leak: --fix looks, waits --grace seconds (300 by
 * default), looks again, and fixes only what both looks found, the same:
 * an address still allocated to the same handle, a block still affine to
 * the same missing node, the same affinity key.  The transactions then
 * compare each key's mod_revision against the second look.
 *
 * A Node or WorkloadEndpoint whose addresses cannot be read (ipam.c reads
 * what the model refuses from the raw JSON, and only gives up on what is
 * not even that) would make what it holds look leaked: --fix then refuses
 * to run and writes nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/addr.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"
#include "ctl/ctl.h"

/* ipip-tunnel-addr-<node> and its VXLAN and WireGuard siblings */
static const char *
ipam_tunnel_node(const struct model_ipam_attr *attr)
{
	static const char *const prefixes[] = {"ipip-tunnel-addr-",
	    "vxlan-tunnel-addr-", "vxlan-v6-tunnel-addr-",
	    "wireguard-tunnel-addr-", "wireguard-v6-tunnel-addr-"};
	const char *type = model_labels_get(&attr->secondary, "type");
	size_t i, n;

	if (type != NULL && strstr(type, "TunnelAddress") != NULL)
		return model_labels_get(&attr->secondary, "node");
	if (attr->handle_id == NULL)
		return NULL;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		n = strlen(prefixes[i]);
		if (strncmp(attr->handle_id, prefixes[i], n) == 0)
			return attr->handle_id + n;
	}
	return NULL;
}

/*
 * Does anything use this allocation?  The address is an endpoint's or a
 * node's tunnel address; or the handle is "<network>.<containerID>" of a
 * live endpoint, or a tunnel handle of an existing node.
 */
static bool
ipam_in_use(const struct ipam_users *u, const struct model_ipam_attr *attr,
    const struct addr *a)
{
	const char *cid, *node;

	if (ipam_has_ip(u, a))
		return true;
	if ((node = ipam_tunnel_node(attr)) != NULL)
		return ipam_has_str(u->nodes, u->nnodes, node);
	if (attr->handle_id == NULL)
		return false;
	cid = strchr(attr->handle_id, '.');
	cid = cid != NULL ? cid + 1 : attr->handle_id;
	return ipam_has_str(u->cids, u->ncids, cid) ||
	    ipam_has_str(u->cids, u->ncids, attr->handle_id);
}

struct ipam_leak {
	size_t block;
	struct addr a;
	char *handle;
};

struct ipam_check {
	struct ipam_leak *leaks;
	size_t nleaks;
	size_t *orphan_blocks; /* affine to a missing node */
	size_t norphan_blocks;
	size_t *orphan_affs;
	size_t norphan_affs;
	bool *done; /* leaks[i] released (or found changed) by --fix */
	size_t nunused_handles;
	size_t nallocs;
};

static void
ipam_check_clean(struct ipam_check *c)
{
	size_t i;

	for (i = 0; i < c->nleaks; i++)
		free(c->leaks[i].handle);
	free(c->leaks);
	free(c->done);
	free(c->orphan_blocks);
	free(c->orphan_affs);
	memset(c, 0, sizeof(*c));
}

static struct ipam_handle *
ipam_handle_find(struct ipam_state *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->nhandles; i++)
		if (strcmp(st->handles[i].id, id) == 0)
			return &st->handles[i];
	return NULL;
}

static void
ipam_scan(struct ipam_state *st, struct ipam_check *c)
{
	const struct model_ipam_attr *attr;
	const struct ipam_block *b;
	struct ipam_handle *h;
	const char *host;
	struct addr a;
	size_t i;
	uint32_t o;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < st->nblocks; i++) {
		b = &st->blocks[i];
		for (o = 0; o < b->b.nords; o++) {
			if ((attr = model_block_attr(&b->b, o)) == NULL)
				continue;
			c->nallocs++;
			model_block_addr(&b->b, o, &a);
			if (attr->handle_id != NULL &&
			    (h = ipam_handle_find(st, attr->handle_id)) != NULL)
				h->used = true;
			if (ipam_in_use(&st->users, attr, &a))
				continue;
			c->leaks = xreallocarray(
			    c->leaks, c->nleaks + 1, sizeof(*c->leaks));
			c->leaks[c->nleaks].block = i;
			c->leaks[c->nleaks].a = a;
			c->leaks[c->nleaks++].handle = attr->handle_id != NULL
			    ? xstrdup(attr->handle_id)
			    : NULL;
		}
		if ((host = model_block_host(&b->b)) != NULL &&
		    !ipam_has_str(st->users.nodes, st->users.nnodes, host)) {
			c->orphan_blocks = xreallocarray(c->orphan_blocks,
			    c->norphan_blocks + 1, sizeof(*c->orphan_blocks));
			c->orphan_blocks[c->norphan_blocks++] = i;
		}
	}
	for (i = 0; i < st->naffs; i++)
		if (!ipam_has_str(
		        st->users.nodes, st->users.nnodes, st->affs[i].host)) {
			c->orphan_affs = xreallocarray(c->orphan_affs,
			    c->norphan_affs + 1, sizeof(*c->orphan_affs));
			c->orphan_affs[c->norphan_affs++] = i;
		}
	for (i = 0; i < st->nhandles; i++)
		if (!st->handles[i].used)
			c->nunused_handles++;
}

static void
ipam_check_report(struct ipam_state *st, struct ipam_check *c)
{
	const struct ipam_block *b;
	char ip[ADDR_STRLEN], cidr[PREFIX_STRLEN];
	size_t i, n, w, problems;

	printf("Checking IPAM for inconsistencies...\n");
	printf("Found %zu IP pools, %zu IPAM blocks with %zu allocations, "
	       "%zu handles, %zu affinities, %zu nodes and %zu workload "
	       "endpoints.\n",
	    st->npools, st->nblocks, c->nallocs, st->nhandles, st->naffs,
	    st->users.nnodes, st->users.nweps);
	if (st->users.nunreadable > 0) {
		printf("\nCould not read %zu node%s or workload endpoint%s; "
		       "the addresses %s may be listed below as leaked:\n",
		    st->users.nunreadable,
		    st->users.nunreadable == 1 ? "" : "s",
		    st->users.nunreadable == 1 ? "" : "s",
		    st->users.nunreadable == 1 ? "it holds" : "they hold");
		for (i = 0; i < st->users.nunreadable; i++)
			printf("  %s\n", st->users.unreadable[i]);
	}
	for (i = 0, w = 0; i < c->nleaks; i++)
		if ((n = strlen(addr_ntop(&c->leaks[i].a, ip, sizeof(ip)))) > w)
			w = n;
	printf("\nFound %zu allocation%s that no workload endpoint or node "
	       "uses%s\n",
	    c->nleaks, c->nleaks == 1 ? "" : "s", c->nleaks > 0 ? ":" : ".");
	for (i = 0; i < c->nleaks; i++) {
		b = &st->blocks[c->leaks[i].block];
		printf("  %-*s  block %s (%s)  handle %s\n", (int)w,
		    addr_ntop(&c->leaks[i].a, ip, sizeof(ip)),
		    prefix_ntop(&b->b.cidr, cidr, sizeof(cidr)),
		    b->b.affinity != NULL ? b->b.affinity : "no affinity",
		    c->leaks[i].handle != NULL ? c->leaks[i].handle : "(none)");
	}
	printf("Found %zu block%s affine to a node that does not exist%s\n",
	    c->norphan_blocks, c->norphan_blocks == 1 ? "" : "s",
	    c->norphan_blocks > 0 ? ":" : ".");
	for (i = 0; i < c->norphan_blocks; i++) {
		b = &st->blocks[c->orphan_blocks[i]];
		printf("  %s  %s (%zu allocation%s)\n",
		    prefix_ntop(&b->b.cidr, cidr, sizeof(cidr)), b->b.affinity,
		    b->inuse, b->inuse == 1 ? "" : "s");
	}
	printf("Found %zu affinit%s to a node that does not exist%s\n",
	    c->norphan_affs, c->norphan_affs == 1 ? "y" : "ies",
	    c->norphan_affs > 0 ? ":" : ".");
	for (i = 0; i < c->norphan_affs; i++)
		printf("  %s\n", st->affs[c->orphan_affs[i]].key);
	if (c->nunused_handles > 0) {
		printf("Found %zu handle%s that no allocation carries (left "
		       "alone: an assignment in progress looks the same):\n",
		    c->nunused_handles, c->nunused_handles == 1 ? "" : "s");
		for (i = 0; i < st->nhandles; i++)
			if (!st->handles[i].used)
				printf("  %s\n", st->handles[i].id);
	}
	problems = c->nleaks + c->norphan_blocks + c->norphan_affs;
	printf("\nCheck complete; found %zu problem%s", problems,
	    problems == 1 ? "" : "s");
	if (c->nunused_handles > 0)
		printf(" and %zu handle%s without allocations",
		    c->nunused_handles, c->nunused_handles == 1 ? "" : "s");
	printf(".\n");
}

struct ipam_fixed {
	size_t released;
	size_t unaffined; /* blocks that lost their affinity */
	size_t blocks_deleted;
	size_t affs_deleted;
	size_t skipped; /* in use again, or changed beyond retries */
};

/*
 * One block: release its confirmed leaks, take the affinity off if its
 * node is gone, delete the affinity keys of gone nodes for it; one txn
 * 0 done, 2 done in part (call again), 1 lost a race (read again and
 * retry), -1 error.
 */
static int
ipam_fix_block(struct ipam_state *st, struct ipam_check *c, size_t bi,
    bool unaffine, struct ipam_fixed *fx)
{
	struct ipam_block *blk = &st->blocks[bi];
	struct etcd_result res;
	struct model_block b;
	const struct model_ipam_attr *attr;
	struct etcd_cmp *cmps;
	struct etcd_op *ops;
	struct etcd_txn txn;
	struct model_handle *hs;
	char **hkeys, **vals, err[MODEL_ERRLEN];
	const char **hids;
	int64_t *hmods;
	size_t i, k, nh = 0, ncmp = 0, nops = 0, nvals = 0, nrel = 0,
	             nafdel = 0, nleak_here = 0;
	bool more = false, *mine, *done = c->done;
	json_t *j;
	int rc = 0, ord;

	if (etcd_get(st->etcd, blk->key, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(st->etcd));
		return -1;
	}
	if (res.nkvs == 0) {
		etcd_result_clean(&res);
		return 0; /* gone meanwhile: nothing left to fix */
	}
	j = ipam_kv_json(&res.kvs[0]);
	if (j == NULL || model_block_from_json(j, &b, err, sizeof(err)) == -1) {
		fprintf(stderr, "podmeshctl: %s: %s\n", blk->key,
		    j == NULL ? "not JSON" : err);
		json_decref(j);
		etcd_result_clean(&res);
		return -1;
	}
	json_decref(j);
	blk->mod = res.kvs[0].mod_revision;
	etcd_result_clean(&res);

	for (i = 0; i < c->nleaks; i++)
		nleak_here += c->leaks[i].block == bi && !done[i];
	cmps = xcalloc(nleak_here + st->naffs + 2, sizeof(*cmps));
	ops = xcalloc(nleak_here + st->naffs + 2, sizeof(*ops));
	vals = xcalloc(nleak_here + 2, sizeof(*vals));
	hkeys = xcalloc(nleak_here + 1, sizeof(*hkeys));
	hmods = xcalloc(nleak_here + 1, sizeof(*hmods));
	hs = xcalloc(nleak_here + 1, sizeof(*hs));
	hids = xcalloc(nleak_here + 1, sizeof(*hids));
	mine = xcalloc(c->nleaks + 1, sizeof(*mine));

	/*
	 * The handles, read now; one txn holds the block, at most
	 * IPAM_TXN_OPS handles and the affinity keys, so a block with more
	 * leaked handles than that takes several rounds (return 2).
	 */
	for (i = 0; i < c->nleaks; i++) {
		struct ipam_leak *l = &c->leaks[i];

		if (l->block != bi || done[i])
			continue;
		ord = model_block_ordinal(&b, &l->a);
		attr = model_block_attr(&b, ord);
		/* still allocated, to the same handle? */
		if (attr == NULL ||
		    (attr->handle_id == NULL) != (l->handle == NULL) ||
		    (l->handle != NULL &&
		        strcmp(attr->handle_id, l->handle) != 0)) {
			fx->skipped++;
			done[i] = true;
			continue;
		}
		for (k = 0; l->handle != NULL && k < nh; k++)
			if (strcmp(hids[k], l->handle) == 0)
				break;
		if (l->handle != NULL && k == nh) {
			char hk[1200];
			bool ok = false;

			if (nh == IPAM_TXN_OPS) {
				more = true;
				continue;
			}
			if (model_handle_key(l->handle, hk, sizeof(hk)) == -1)
				goto release;
			if (etcd_get(st->etcd, hk, &res) == -1) {
				fprintf(stderr, "podmeshctl: %s\n",
				    etcd_error(st->etcd));
				rc = -1;
				goto out;
			}
			if (res.nkvs == 1 &&
			    (j = ipam_kv_json(&res.kvs[0])) != NULL) {
				ok = model_handle_from_json(
				         j, &hs[nh], err, sizeof(err)) == 0;
				json_decref(j);
			}
			hids[nh] = l->handle;
			hkeys[nh] = xstrdup(hk);
			/* no handle (or a broken one): nothing to count */
			hmods[nh] = ok ? res.kvs[0].mod_revision : -1;
			nh++;
			etcd_result_clean(&res);
		}
		if (l->handle != NULL && hmods[k] != -1)
			model_handle_add(&hs[k], &b.cidr, -1);
release:
		model_block_release(&b, &l->a);
		mine[i] = true;
		nrel++;
	}
	/* the affinity the check found, not one a node took since */
	if (unaffine &&
	    (b.affinity == NULL || blk->b.affinity == NULL ||
	        strcmp(b.affinity, blk->b.affinity) != 0))
		unaffine = false;
	if (unaffine && !more) {
		free(b.affinity);
		b.affinity = NULL;
	}

	ncmp = nops = 0;
	cmps[ncmp].target = ETCD_CMP_MOD;
	cmps[ncmp].key = blk->key;
	cmps[ncmp++].number = blk->mod;
	ipam_block_op(blk->key, &b, &vals[nvals++], &ops[nops++]);
	for (k = 0; k < nh; k++) {
		if (hmods[k] == -1)
			continue;
		cmps[ncmp].target = ETCD_CMP_MOD;
		cmps[ncmp].key = hkeys[k];
		cmps[ncmp++].number = hmods[k];
		ipam_handle_op(hkeys[k], &hs[k], &vals[nvals++], &ops[nops++]);
	}
	/* affinity keys of gone nodes for this block, in the last round */
	for (i = 0; i < c->norphan_affs && !more; i++) {
		struct ipam_aff *af = &st->affs[c->orphan_affs[i]];

		if (af->mod == -1 || prefix_cmp(&af->cidr, &b.cidr) != 0)
			continue;
		cmps[ncmp].target = ETCD_CMP_MOD;
		cmps[ncmp].key = af->key;
		cmps[ncmp++].number = af->mod;
		memset(&ops[nops], 0, sizeof(ops[nops]));
		ops[nops].type = ETCD_OP_DELETE;
		ops[nops++].key = af->key;
		nafdel++;
	}
	memset(&txn, 0, sizeof(txn));
	txn.cmp = cmps;
	txn.ncmp = ncmp;
	txn.success = ops;
	txn.nsuccess = nops;
	if (etcd_txn(st->etcd, &txn, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(st->etcd));
		rc = -1;
		goto out;
	}
	rc = res.succeeded ? (more ? 2 : 0) : 1;
	etcd_result_clean(&res);
	if (rc != 1) {
		char cidr[PREFIX_STRLEN];

		for (i = 0; i < c->nleaks; i++)
			done[i] = done[i] || mine[i];
		prefix_ntop(&b.cidr, cidr, sizeof(cidr));
		fx->released += nrel;
		fx->affs_deleted += nafdel;
		if (nrel > 0)
			printf("Released %zu address%s in block %s\n", nrel,
			    nrel == 1 ? "" : "es", cidr);
		if (unaffine && !more) {
			fx->unaffined++;
			printf("Removed the affinity of block %s to %s\n", cidr,
			    blk->b.affinity);
		}
		if (ops[0].type == ETCD_OP_DELETE) {
			fx->blocks_deleted++;
			printf("Deleted the empty block %s\n", cidr);
		}
		for (i = 0; i < nafdel; i++)
			printf("Deleted the affinity %s\n",
			    ops[nops - nafdel + i].key);
		/* done with these: a retry of another block skips them */
		for (i = 0; i < c->norphan_affs; i++)
			if (prefix_cmp(&st->affs[c->orphan_affs[i]].cidr,
			        &b.cidr) == 0)
				st->affs[c->orphan_affs[i]].mod = -1;
	}
out:
	for (k = 0; k < nh; k++) {
		free(hkeys[k]);
		model_handle_clean(&hs[k]);
	}
	free(hids);
	free(mine);
	for (k = 0; k < nvals; k++)
		free(vals[k]);
	free(hkeys);
	free(hmods);
	free(hs);
	free(vals);
	free(cmps);
	free(ops);
	model_block_clean(&b);
	return rc;
}

static int
ipam_fix(struct ipam_state *st, struct ipam_check *c)
{
	struct ipam_fixed fx;
	struct etcd_result res;
	struct etcd_cmp cmp;
	struct etcd_op op;
	struct etcd_txn txn;
	bool *touch, *unaff;
	size_t i, nfailed = 0;
	int rc, tries;

	memset(&fx, 0, sizeof(fx));
	c->done = xcalloc(c->nleaks + 1, sizeof(*c->done));
	touch = xcalloc(st->nblocks + 1, sizeof(*touch));
	unaff = xcalloc(st->nblocks + 1, sizeof(*unaff));
	for (i = 0; i < c->nleaks; i++)
		touch[c->leaks[i].block] = true;
	for (i = 0; i < c->norphan_blocks; i++)
		touch[c->orphan_blocks[i]] = unaff[c->orphan_blocks[i]] = true;
	for (i = 0; i < c->norphan_affs; i++) {
		size_t k;

		for (k = 0; k < st->nblocks; k++)
			if (prefix_cmp(&st->blocks[k].b.cidr,
			        &st->affs[c->orphan_affs[i]].cidr) == 0)
				touch[k] = true;
	}
	for (i = 0; i < st->nblocks; i++) {
		if (!touch[i])
			continue;
		for (tries = 0, rc = 1; tries < IPAM_RETRIES && rc != 0;
		     tries++) {
			rc = ipam_fix_block(st, c, i, unaff[i], &fx);
			if (rc == 2)
				tries = -1; /* progress: a new round */
			if (rc == -1)
				break;
		}
		if (rc == -1) {
			free(touch);
			free(unaff);
			return -1;
		}
		if (rc == 1)
			nfailed++;
	}
	/* affinity keys whose block is gone or another's */
	for (i = 0; i < c->norphan_affs; i++) {
		struct ipam_aff *af = &st->affs[c->orphan_affs[i]];

		if (af->mod == -1)
			continue;
		memset(&cmp, 0, sizeof(cmp));
		cmp.target = ETCD_CMP_MOD;
		cmp.key = af->key;
		cmp.number = af->mod;
		memset(&op, 0, sizeof(op));
		op.type = ETCD_OP_DELETE;
		op.key = af->key;
		memset(&txn, 0, sizeof(txn));
		txn.cmp = &cmp;
		txn.ncmp = 1;
		txn.success = &op;
		txn.nsuccess = 1;
		if (etcd_txn(st->etcd, &txn, &res) == -1) {
			fprintf(
			    stderr, "podmeshctl: %s\n", etcd_error(st->etcd));
			free(touch);
			free(unaff);
			return -1;
		}
		if (res.succeeded) {
			fx.affs_deleted++;
			printf("Deleted the affinity %s\n", af->key);
		} else
			nfailed++;
		etcd_result_clean(&res);
	}
	free(touch);
	free(unaff);
	printf("Fixed: released %zu address%s, removed %zu block "
	       "affinit%s and %zu affinity key%s, deleted %zu empty "
	       "block%s.\n",
	    fx.released, fx.released == 1 ? "" : "es", fx.unaffined,
	    fx.unaffined == 1 ? "y" : "ies", fx.affs_deleted,
	    fx.affs_deleted == 1 ? "" : "s", fx.blocks_deleted,
	    fx.blocks_deleted == 1 ? "" : "s");
	if (fx.skipped > 0)
		printf("Left %zu address%s that changed since the check.\n",
		    fx.skipped, fx.skipped == 1 ? "" : "es");
	if (nfailed > 0) {
		fprintf(stderr,
		    "podmeshctl: %zu item%s kept changing and %s not fixed; "
		    "run the check again\n",
		    nfailed, nfailed == 1 ? "" : "s",
		    nfailed == 1 ? "was" : "were");
		return -1;
	}
	return 0;
}

/* what the second look found that the first did too, unchanged */
static bool
ipam_same_leak(const struct ipam_leak *a, const struct ipam_leak *b)
{
	if (addr_cmp(&a->a, &b->a) != 0)
		return false;
	if (a->handle == NULL || b->handle == NULL)
		return a->handle == b->handle;
	return strcmp(a->handle, b->handle) == 0;
}

/*
 * Keep in c2 (found by the second look, of st2) only what c1 (the first
 * look, of st1) found too: the same address with the same handle, the
 * same block affine to the same node, the same affinity key.  Says what
 * was left out.
 */
static void
ipam_confirm(const struct ipam_state *st1, const struct ipam_check *c1,
    const struct ipam_state *st2, struct ipam_check *c2)
{
	const struct ipam_block *b1, *b2;
	size_t i, k, n, dropped[3], first[3];

	first[0] = c1->nleaks;
	first[1] = c1->norphan_blocks;
	first[2] = c1->norphan_affs;
	for (i = 0, n = 0; i < c2->nleaks; i++) {
		for (k = 0; k < c1->nleaks; k++)
			if (ipam_same_leak(&c1->leaks[k], &c2->leaks[i]))
				break;
		if (k < c1->nleaks)
			c2->leaks[n++] = c2->leaks[i];
		else
			free(c2->leaks[i].handle);
	}
	c2->nleaks = n;
	for (i = 0, n = 0; i < c2->norphan_blocks; i++) {
		b2 = &st2->blocks[c2->orphan_blocks[i]];
		for (k = 0; k < c1->norphan_blocks; k++) {
			b1 = &st1->blocks[c1->orphan_blocks[k]];
			if (prefix_cmp(&b1->b.cidr, &b2->b.cidr) == 0 &&
			    strcmp(b1->b.affinity, b2->b.affinity) == 0)
				break;
		}
		if (k < c1->norphan_blocks)
			c2->orphan_blocks[n++] = c2->orphan_blocks[i];
	}
	c2->norphan_blocks = n;
	for (i = 0, n = 0; i < c2->norphan_affs; i++) {
		for (k = 0; k < c1->norphan_affs; k++)
			if (strcmp(st1->affs[c1->orphan_affs[k]].key,
			        st2->affs[c2->orphan_affs[i]].key) == 0)
				break;
		if (k < c1->norphan_affs)
			c2->orphan_affs[n++] = c2->orphan_affs[i];
	}
	c2->norphan_affs = n;
	dropped[0] = first[0] - c2->nleaks;
	dropped[1] = first[1] - c2->norphan_blocks;
	dropped[2] = first[2] - c2->norphan_affs;
	printf("Confirmed: %zu of %zu allocation%s, %zu of %zu block%s and "
	       "%zu of %zu affinit%s still unused and unchanged.\n",
	    c2->nleaks, first[0], first[0] == 1 ? "" : "s", c2->norphan_blocks,
	    first[1], first[1] == 1 ? "" : "s", c2->norphan_affs, first[2],
	    first[2] == 1 ? "y" : "ies");
	if (dropped[0] + dropped[1] + dropped[2] > 0)
		printf("Left alone: %zu allocation%s, %zu block%s and %zu "
		       "affinit%s that came into use or changed meanwhile.\n",
		    dropped[0], dropped[0] == 1 ? "" : "s", dropped[1],
		    dropped[1] == 1 ? "" : "s", dropped[2],
		    dropped[2] == 1 ? "y" : "ies");
}

/* --fix with unreadable users: a message, and true */
static bool
ipam_refuse(const struct ipam_users *u)
{
	size_t i;

	if (u->nunreadable == 0)
		return false;
	fprintf(stderr,
	    "podmeshctl: --fix refused: %zu node%s or workload endpoint%s "
	    "could not be read, and the addresses %s would look leaked:\n",
	    u->nunreadable, u->nunreadable == 1 ? "" : "s",
	    u->nunreadable == 1 ? "" : "s",
	    u->nunreadable == 1 ? "it holds" : "they hold");
	for (i = 0; i < u->nunreadable; i++)
		fprintf(stderr, "  %s\n", u->unreadable[i]);
	fprintf(stderr,
	    "podmeshctl: repair or delete %s, then run the check again; "
	    "nothing was written\n",
	    u->nunreadable == 1 ? "it" : "them");
	return true;
}

static void
ipam_sleep(int seconds)
{
	struct timespec ts;

	ts.tv_sec = seconds;
	ts.tv_nsec = 0;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

int
ipam_check(struct ctl *ctl, int argc, char **argv)
{
	struct ipam_state st, st2;
	struct ipam_check c, c2;
	int grace = ctl->grace_given ? ctl->grace : CTL_DEFAULT_GRACE;
	int rc = 0;

	if (ctl->grace_given && !ctl->fix) {
		fprintf(stderr,
		    "podmeshctl: --grace goes with --fix\n"
		    "Try 'podmeshctl ipam check --help'.\n");
		return 2;
	}
	if (ipam_load(ctl, &st, true) == -1)
		return -1;
	ipam_scan(&st, &c);
	ipam_check_report(&st, &c);
	if (!ctl->fix) {
		if (c.nleaks + c.norphan_blocks + c.norphan_affs > 0)
			printf("Run 'podmeshctl ipam check --fix' to release "
			       "the leaked addresses and remove the affinities "
			       "to missing nodes.\n");
		goto out;
	}
	if (ipam_refuse(&st.users)) {
		rc = -1;
		goto out;
	}
	if (c.nleaks + c.norphan_blocks + c.norphan_affs == 0) {
		printf("\nNothing to fix.\n");
		goto out;
	}
	printf("\nFixing: confirming in %d s (--grace) that these are still "
	       "unused...\n",
	    grace);
	fflush(stdout);
	ipam_sleep(grace);
	if (ipam_load(ctl, &st2, true) == -1) {
		rc = -1;
		goto out;
	}
	ipam_scan(&st2, &c2);
	if (ipam_refuse(&st2.users))
		rc = -1;
	else {
		ipam_confirm(&st, &c, &st2, &c2);
		rc = ipam_fix(&st2, &c2);
	}
	ipam_check_clean(&c2);
	ipam_state_clean(&st2);
out:
	ipam_check_clean(&c);
	ipam_state_clean(&st);
	return rc;
}

void
ipam_check_help(FILE *out)
{
	fprintf(out,
	    "--fix looks twice, --grace seconds apart (default %d), and fixes "
	    "only what\n"
	    "both looks found the same: an address still allocated to the "
	    "same handle,\n"
	    "a block still affine to the same missing node, the same affinity "
	    "key.  A pod\n"
	    "start allocates its address before it writes its "
	    "WorkloadEndpoint, so a\n"
	    "shorter grace can release the address of a pod being started.  "
	    "It refuses\n"
	    "to run (exit 1, nothing written) while a Node or WorkloadEndpoint "
	    "cannot be\n"
	    "read, since the addresses it holds would look leaked.\n",
	    CTL_DEFAULT_GRACE);
}
