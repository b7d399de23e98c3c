/*
 * podmeshctl ipam show|release|check: Calico's IPAM tree in etcd
 * (calico.md §2): blocks under /calico/ipam/v2/assignment/, host
 * affinities under /calico/ipam/v2/host/, handles under
 * /calico/ipam/v2/handle/.
 *
 *  - show: per IP pool, addresses in use of the total (and per block with
 *    --show-blocks); --ip describes one address.
 *  - release --ip: frees the address in its block and takes one off its
 *    handle's count, in one transaction that compares both keys'
 *    mod_revision (Calico does the block CAS, then the handle; one txn
 *    cannot leave them disagreeing).  A block left empty and unaffined is
 *    deleted, a handle reaching 0 too, as Calico's ReleaseIPs does.
 *  - check: allocations that nothing uses (no WorkloadEndpoint holds the
 *    address or carries the handle's container id, and it is no existing
 *    node's tunnel address), blocks and affinity keys for nodes that do
 *    not exist, handles that count allocations no block has.  --fix
 *    releases the leaked addresses, takes the affinity off those blocks
 *    (deleting the empty ones) and deletes the dangling affinity keys, per
 *    block, each a compare-and-swap transaction.  Candidates are confirmed
 *    against a second reading of the endpoints and nodes just before the
 *    fix, since a CNI ADD allocates first and writes its endpoint after.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"
#include "ctl/ctl.h"

#define IPAM_RETRIES 10
#define IPAM_TXN_OPS 120 /* under etcd's 128 */
#define IPAM_HANDLE_PATH MODEL_IPAM_PREFIX "handle/"

struct ipam_block {
	char *key;
	int64_t mod;
	struct model_block b;
	int pool; /* index into pools, -1: none */
	size_t inuse;
};

struct ipam_aff {
	char *key;
	int64_t mod;
	char host[256];
	struct prefix cidr;
};

struct ipam_handle {
	char *key;
	char *id;
	int64_t mod;
	struct model_handle h;
	bool used; /* an allocation carries it */
};

/* who uses addresses: endpoints and nodes */
struct ipam_users {
	char **nodes;
	size_t nnodes;
	char **cids; /* WorkloadEndpoint containerIDs */
	size_t ncids;
	struct addr *ips; /* endpoint addresses and node tunnel addresses */
	size_t nips;
	size_t nweps;
};

struct ipam_state {
	struct etcd *etcd;
	struct resource *pools;
	size_t npools;
	struct ipam_block *blocks;
	size_t nblocks;
	struct ipam_aff *affs;
	size_t naffs;
	struct ipam_handle *handles;
	size_t nhandles;
	struct ipam_users users;
};

/* ---- small helpers ---- */

static int
ipam_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ipam_addrcmp(const void *a, const void *b)
{
	return addr_cmp(a, b);
}

static bool
ipam_has_str(char **v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), ipam_strcmp) != NULL;
}

static bool
ipam_has_ip(const struct ipam_users *u, const struct addr *a)
{
	return u->nips > 0 &&
	    bsearch(a, u->ips, u->nips, sizeof(*u->ips), ipam_addrcmp) != NULL;
}

static int
ipam_blockcmp(const void *a, const void *b)
{
	const struct ipam_block *x = a, *y = b;

	return prefix_cmp(&x->b.cidr, &y->b.cidr);
}

static void
ipam_strs_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
ipam_users_clean(struct ipam_users *u)
{
	ipam_strs_free(u->nodes, u->nnodes);
	ipam_strs_free(u->cids, u->ncids);
	free(u->ips);
	memset(u, 0, sizeof(*u));
}

static void
ipam_state_clean(struct ipam_state *st)
{
	size_t i;

	for (i = 0; i < st->npools; i++)
		resource_clean(&st->pools[i]);
	free(st->pools);
	for (i = 0; i < st->nblocks; i++) {
		free(st->blocks[i].key);
		model_block_clean(&st->blocks[i].b);
	}
	free(st->blocks);
	for (i = 0; i < st->naffs; i++)
		free(st->affs[i].key);
	free(st->affs);
	for (i = 0; i < st->nhandles; i++) {
		free(st->handles[i].key);
		free(st->handles[i].id);
		model_handle_clean(&st->handles[i].h);
	}
	free(st->handles);
	ipam_users_clean(&st->users);
	memset(st, 0, sizeof(*st));
}

static json_t *
ipam_kv_json(const struct etcd_kv *kv)
{
	return json_loadb(kv->value, kv->value_len, 0, NULL);
}

/* a count of addresses: an IPv6 pool may hold 2^96 or more */
static const char *
ipam_u128(unsigned __int128 v, char *buf, size_t len)
{
	char tmp[48];
	int i = sizeof(tmp) - 1;

	tmp[i] = '\0';
	do {
		tmp[--i] = '0' + (int)(v % 10);
		v /= 10;
	} while (v != 0);
	snprintf(buf, len, "%s", tmp + i);
	return buf;
}

/* 2^bits; 2^128 (::/0) saturates */
static unsigned __int128
ipam_pow2(int bits)
{
	return bits >= 128 ? ~(unsigned __int128)0
	                   : (unsigned __int128)1 << bits;
}

/* ---- loading ---- */

static int
ipam_list(struct etcd *e, const char *prefix, struct etcd_result *res)
{
	if (etcd_list(e, prefix, 0, res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(e));
		return -1;
	}
	return 0;
}

static int
ipam_load_pools(struct ipam_state *st)
{
	struct etcd_result res;
	char prefix[256], err[MODEL_ERRLEN];
	size_t i;

	model_key_prefix(MODEL_IPPOOL, NULL, prefix, sizeof(prefix));
	if (ipam_list(st->etcd, prefix, &res) == -1)
		return -1;
	st->pools = xcalloc(res.nkvs + 1, sizeof(*st->pools));
	for (i = 0; i < res.nkvs; i++) {
		if (get_decode_kv(&res.kvs[i], &st->pools[st->npools], err,
		        sizeof(err)) == -1) {
			fprintf(stderr, "podmeshctl: warning: %s: %s\n",
			    res.kvs[i].key, err);
			continue;
		}
		if (st->pools[st->npools].kind != MODEL_IPPOOL) {
			resource_clean(&st->pools[st->npools]);
			continue;
		}
		st->npools++;
	}
	etcd_result_clean(&res);
	return 0;
}

/* the IPAM tree, at one revision */
static int
ipam_load_tree(struct ipam_state *st)
{
	struct etcd_result res;
	struct prefix p;
	char host[256], id[1024], err[MODEL_ERRLEN];
	struct etcd_kv *kv;
	json_t *j;
	size_t i, k;
	int rc;

	if (ipam_list(st->etcd, MODEL_IPAM_PREFIX, &res) == -1)
		return -1;
	st->blocks = xcalloc(res.nkvs + 1, sizeof(*st->blocks));
	st->affs = xcalloc(res.nkvs + 1, sizeof(*st->affs));
	st->handles = xcalloc(res.nkvs + 1, sizeof(*st->handles));
	for (i = 0; i < res.nkvs; i++) {
		kv = &res.kvs[i];
		if (model_block_key_parse(kv->key, &p) == 0) {
			struct ipam_block *b = &st->blocks[st->nblocks];

			rc = -1;
			if ((j = ipam_kv_json(kv)) != NULL)
				rc = model_block_from_json(
				    j, &b->b, err, sizeof(err));
			else
				snprintf(err, sizeof(err), "not JSON");
			json_decref(j);
			if (rc == -1) {
				fprintf(stderr,
				    "podmeshctl: warning: %s: %s; left "
				    "alone\n",
				    kv->key, err);
				continue;
			}
			b->key = xstrdup(kv->key);
			b->mod = kv->mod_revision;
			b->pool = -1;
			for (k = 0; k < st->npools; k++)
				if (prefix_covers(
				        &st->pools[k].ippool.cidr, &b->b.cidr))
					b->pool = k;
			b->inuse = b->b.nords - model_block_nfree(&b->b);
			st->nblocks++;
		} else if (model_affinity_key_parse(
		               kv->key, host, sizeof(host), &p) == 0) {
			struct ipam_aff *a = &st->affs[st->naffs++];

			a->key = xstrdup(kv->key);
			a->mod = kv->mod_revision;
			snprintf(a->host, sizeof(a->host), "%s", host);
			a->cidr = p;
		} else if (model_handle_key_parse(kv->key, id, sizeof(id)) ==
		    0) {
			struct ipam_handle *h = &st->handles[st->nhandles];

			rc = -1;
			if ((j = ipam_kv_json(kv)) != NULL)
				rc = model_handle_from_json(
				    j, &h->h, err, sizeof(err));
			json_decref(j);
			if (rc == -1) {
				fprintf(stderr,
				    "podmeshctl: warning: %s: %s; left "
				    "alone\n",
				    kv->key, err);
				continue;
			}
			h->key = xstrdup(kv->key);
			h->id = xstrdup(id);
			h->mod = kv->mod_revision;
			st->nhandles++;
		}
	}
	etcd_result_clean(&res);
	qsort(st->blocks, st->nblocks, sizeof(*st->blocks), ipam_blockcmp);
	return 0;
}

static void
ipam_add_ip(struct ipam_users *u, const struct addr *a)
{
	if (a->family == 0)
		return;
	u->ips = xreallocarray(u->ips, u->nips + 1, sizeof(*u->ips));
	u->ips[u->nips] = *a;
	u->ips[u->nips++].scope_id = 0;
}

/* a node's tunnel addresses: IPIP, VXLAN and WireGuard (in extra) */
static void
ipam_node_ips(struct ipam_users *u, const struct resource *r)
{
	const char *s;
	struct addr a;

	if (r->node.has_bgp)
		ipam_add_ip(u, &r->node.bgp.ipv4_ipip_tunnel_addr);
	ipam_add_ip(u, &r->node.ipv4_vxlan_tunnel_addr);
	s = json_string_value(
	    json_object_get(json_object_get(r->node.extra, "wireguard"),
	        "interfaceIPv4Address"));
	if (s != NULL && model_addr_parse(s, &a) == 0)
		ipam_add_ip(u, &a);
	s = json_string_value(
	    json_object_get(r->node.extra, "ipv6VXLANTunnelAddr"));
	if (s != NULL && model_addr_parse(s, &a) == 0)
		ipam_add_ip(u, &a);
}

static int
ipam_load_users(struct etcd *e, struct ipam_users *u)
{
	struct etcd_result res;
	struct resource r;
	char prefix[256], err[MODEL_ERRLEN];
	size_t i, k;

	memset(u, 0, sizeof(*u));
	model_key_prefix(MODEL_NODE, NULL, prefix, sizeof(prefix));
	if (ipam_list(e, prefix, &res) == -1)
		return -1;
	u->nodes = xcalloc(res.nkvs + 1, sizeof(*u->nodes));
	for (i = 0; i < res.nkvs; i++) {
		if (get_decode_kv(&res.kvs[i], &r, err, sizeof(err)) == -1) {
			/* a node that does not decode still exists */
			const char *name = strrchr(res.kvs[i].key, '/');

			u->nodes[u->nnodes++] = xstrdup(name + 1);
			continue;
		}
		u->nodes[u->nnodes++] = xstrdup(r.meta.name);
		ipam_node_ips(u, &r);
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	qsort(u->nodes, u->nnodes, sizeof(*u->nodes), ipam_strcmp);

	model_key_prefix(MODEL_WEP, NULL, prefix, sizeof(prefix));
	if (ipam_list(e, prefix, &res) == -1)
		return -1;
	u->cids = xcalloc(res.nkvs + 1, sizeof(*u->cids));
	for (i = 0; i < res.nkvs; i++) {
		if (get_decode_kv(&res.kvs[i], &r, err, sizeof(err)) == -1) {
			fprintf(stderr, "podmeshctl: warning: %s: %s\n",
			    res.kvs[i].key, err);
			continue;
		}
		u->nweps++;
		if (r.wep.container_id != NULL)
			u->cids[u->ncids++] = xstrdup(r.wep.container_id);
		for (k = 0; k < r.wep.n_ip_networks; k++)
			ipam_add_ip(u, &r.wep.ip_networks[k].a);
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	qsort(u->cids, u->ncids, sizeof(*u->cids), ipam_strcmp);
	qsort(u->ips, u->nips, sizeof(*u->ips), ipam_addrcmp);
	return 0;
}

static int
ipam_load(struct ctl *ctl, struct ipam_state *st, bool users)
{
	memset(st, 0, sizeof(*st));
	if ((st->etcd = ctl_etcd(ctl)) == NULL)
		return -1;
	if (ipam_load_pools(st) == -1 || ipam_load_tree(st) == -1 ||
	    (users && ipam_load_users(st->etcd, &st->users) == -1)) {
		ipam_state_clean(st);
		return -1;
	}
	return 0;
}

/* ---- show ---- */

/* "TOTAL", "N (P%)" in use and free, as calicoctl's ipam show */
static void
ipam_usage_cells(unsigned __int128 total, size_t inuse, char *tot, size_t tlen,
    char *use, size_t ulen, char *free_, size_t flen)
{
	double pct = total > 0 ? 100.0 * inuse / (double)total : 0;
	char n[48];

	ipam_u128(total, tot, tlen);
	snprintf(use, ulen, "%zu (%.0f%%)", inuse, pct);
	snprintf(free_, flen, "%s (%.0f%%)",
	    ipam_u128(total - inuse, n, sizeof(n)), 100.0 - pct);
}

static json_t *
ipam_block_json(const struct ipam_block *b)
{
	char cidr[PREFIX_STRLEN];
	json_t *o = json_object();

	json_object_set_new(o, "cidr",
	    json_string(prefix_ntop(&b->b.cidr, cidr, sizeof(cidr))));
	json_object_set_new(o, "affinity",
	    b->b.affinity != NULL ? json_string(b->b.affinity) : json_null());
	json_object_set_new(o, "total", json_integer(b->b.nords));
	json_object_set_new(o, "in_use", json_integer(b->inuse));
	json_object_set_new(o, "free", json_integer(b->b.nords - b->inuse));
	return o;
}

static int
ipam_show_ip(struct ctl *ctl, struct ipam_state *st)
{
	const struct model_ipam_attr *attr = NULL;
	const struct ipam_block *b = NULL;
	char cidr[PREFIX_STRLEN], ip[ADDR_STRLEN];
	struct addr a;
	size_t i;
	int ord = -1;
	json_t *o;

	if (addr_parse(ctl->ip, &a) == -1 || a.scope_id != 0) {
		fprintf(
		    stderr, "podmeshctl: '%s' is not an IP address\n", ctl->ip);
		return 2;
	}
	addr_ntop(&a, ip, sizeof(ip));
	for (i = 0; i < st->nblocks && b == NULL; i++)
		if ((ord = model_block_ordinal(&st->blocks[i].b, &a)) >= 0)
			b = &st->blocks[i];
	if (b != NULL)
		attr = model_block_attr(&b->b, ord);
	if (ctl->output == OUTPUT_JSON) {
		o = json_object();
		json_object_set_new(o, "ip", json_string(ip));
		json_object_set_new(o, "in_use", json_boolean(attr != NULL));
		json_object_set_new(o, "block",
		    b != NULL ? json_string(
		                    prefix_ntop(&b->b.cidr, cidr, sizeof(cidr)))
		              : json_null());
		json_object_set_new(o, "affinity",
		    b != NULL && b->b.affinity != NULL
		        ? json_string(b->b.affinity)
		        : json_null());
		json_object_set_new(o, "handle",
		    attr != NULL && attr->handle_id != NULL
		        ? json_string(attr->handle_id)
		        : json_null());
		if (attr != NULL && attr->has_secondary) {
			json_t *sec = json_object();

			for (i = 0; i < attr->secondary.n; i++)
				json_object_set_new(sec,
				    attr->secondary.v[i].key,
				    json_string(attr->secondary.v[i].value));
			json_object_set_new(o, "attributes", sec);
		}
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return 0;
	}
	if (b == NULL) {
		printf("IP %s is not in any IPAM block\n", ip);
		return 0;
	}
	prefix_ntop(&b->b.cidr, cidr, sizeof(cidr));
	if (attr == NULL) {
		printf("IP %s is not assigned (block %s, %s)\n", ip, cidr,
		    b->b.affinity != NULL ? b->b.affinity : "no affinity");
		return 0;
	}
	printf("IP %s is in use\n", ip);
	printf("Block %s, %s\n", cidr,
	    b->b.affinity != NULL ? b->b.affinity : "no affinity");
	printf("Handle %s\n",
	    attr->handle_id != NULL ? attr->handle_id : "(none)");
	if (attr->has_secondary) {
		printf("Attributes:");
		for (i = 0; i < attr->secondary.n; i++)
			printf(" %s=%s", attr->secondary.v[i].key,
			    attr->secondary.v[i].value);
		printf("\n");
	}
	return 0;
}

static void
ipam_show_block_row(
    struct table *t, const struct ipam_block *b, const char *grouping)
{
	char cidr[PREFIX_STRLEN], total[48], use[64], fr[64];
	const char *row[6];
	const char *host = model_block_host(&b->b);

	ipam_usage_cells(b->b.nords, b->inuse, total, sizeof(total), use,
	    sizeof(use), fr, sizeof(fr));
	row[0] = grouping;
	row[1] = prefix_ntop(&b->b.cidr, cidr, sizeof(cidr));
	row[2] = total;
	row[3] = use;
	row[4] = fr;
	row[5] = host != NULL       ? host
	    : b->b.affinity != NULL ? b->b.affinity
	                            : "-";
	table_add(t, row);
}

static int
ipam_show(struct ctl *ctl, int argc, char **argv)
{
	static const char *const hdr[] = {
	    "GROUPING", "CIDR", "IPS TOTAL", "IPS IN USE", "IPS FREE", "NODE"};
	struct ipam_state st;
	struct table *t;
	char cidr[PREFIX_STRLEN], total[48], use[64], fr[64];
	const char *row[6];
	json_t *arr, *o, *blocks;
	size_t i, k, inuse, orphans = 0;
	int bits, ncols = ctl->show_blocks ? 6 : 5;
	int rc = 0;

	if (ipam_load(ctl, &st, false) == -1)
		return -1;
	if (ctl->ip != NULL) {
		rc = ipam_show_ip(ctl, &st);
		ipam_state_clean(&st);
		return rc;
	}
	arr = json_array();
	t = table_new(ncols, hdr);
	for (i = 0; i < st.npools; i++) {
		const struct model_ippool *p = &st.pools[i].ippool;

		bits = addr_maxlen(p->cidr.a.family) - p->cidr.len;
		inuse = 0;
		for (k = 0; k < st.nblocks; k++)
			if (st.blocks[k].pool == (int)i)
				inuse += st.blocks[k].inuse;
		ipam_usage_cells(ipam_pow2(bits), inuse, total, sizeof(total),
		    use, sizeof(use), fr, sizeof(fr));
		row[0] = "IP Pool";
		row[1] = prefix_ntop(&p->cidr, cidr, sizeof(cidr));
		row[2] = total;
		row[3] = use;
		row[4] = fr;
		row[5] = "";
		table_add(t, row);
		o = json_object();
		json_object_set_new(
		    o, "name", json_string(st.pools[i].meta.name));
		json_object_set_new(o, "cidr", json_string(cidr));
		json_object_set_new(o, "total",
		    bits < 63 ? json_integer((json_int_t)1 << bits)
		              : json_string(total));
		json_object_set_new(o, "in_use", json_integer(inuse));
		blocks = json_array();
		for (k = 0; k < st.nblocks; k++) {
			if (st.blocks[k].pool != (int)i)
				continue;
			json_array_append_new(
			    blocks, ipam_block_json(&st.blocks[k]));
			if (ctl->show_blocks)
				ipam_show_block_row(t, &st.blocks[k], "Block");
		}
		json_object_set_new(o, "blocks", blocks);
		json_array_append_new(arr, o);
	}
	/* blocks of deleted pools still hold addresses */
	blocks = json_array();
	for (k = 0; k < st.nblocks; k++) {
		if (st.blocks[k].pool != -1)
			continue;
		orphans++;
		json_array_append_new(blocks, ipam_block_json(&st.blocks[k]));
		if (ctl->show_blocks)
			ipam_show_block_row(
			    t, &st.blocks[k], "Block (no pool)");
	}
	if (ctl->output == OUTPUT_JSON) {
		o = json_object();
		json_object_set_new(o, "pools", arr);
		json_object_set_new(o, "blocks_without_pool", blocks);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
	} else {
		table_print(t, stdout);
		if (orphans > 0 && !ctl->show_blocks)
			printf("%zu block%s outside every IP pool "
			       "(--show-blocks lists them)\n",
			    orphans, orphans == 1 ? " is" : "s are");
		json_decref(arr);
		json_decref(blocks);
	}
	table_free(t);
	ipam_state_clean(&st);
	return rc;
}

/* ---- release ---- */

/* write a changed handle: put it, or delete it when it counts nothing */
static void
ipam_handle_op(const char *key, const struct model_handle *h, char **valp,
    struct etcd_op *op)
{
	json_t *j;

	memset(op, 0, sizeof(*op));
	op->key = key;
	if (h->n == 0) {
		op->type = ETCD_OP_DELETE;
		return;
	}
	j = model_handle_to_json(h);
	*valp = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	op->type = ETCD_OP_PUT;
	op->value = *valp;
}

/* the block, or its deletion when it is empty and affine to nobody */
static void
ipam_block_op(const char *key, const struct model_block *b, char **valp,
    struct etcd_op *op)
{
	json_t *j;

	memset(op, 0, sizeof(*op));
	op->key = key;
	if (model_block_empty(b) && b->affinity == NULL) {
		op->type = ETCD_OP_DELETE;
		return;
	}
	j = model_block_to_json(b);
	*valp = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	op->type = ETCD_OP_PUT;
	op->value = *valp;
}

/* the key of the block holding a, found by trying each block size */
static int
ipam_find_block(struct ipam_state *st, const struct addr *a, char *key,
    size_t len, struct etcd_result *res)
{
	int lo = a->family == AF_INET ? 20 : 116, hi = lo + 12, l;
	struct prefix p;
	size_t i;

	/* the pools' block sizes first: one read in the usual case */
	for (i = 0; i <= st->npools; i++) {
		for (l = lo; l <= hi; l++) {
			if (i < st->npools &&
			    (!prefix_contains(&st->pools[i].ippool.cidr, a) ||
			        st->pools[i].ippool.block_size != l))
				continue;
			if (model_block_cidr_for(a, l, &p) == -1 ||
			    model_block_key(&p, key, len) == -1)
				continue;
			if (etcd_get(st->etcd, key, res) == -1) {
				fprintf(stderr, "podmeshctl: %s\n",
				    etcd_error(st->etcd));
				return -1;
			}
			if (res->nkvs == 1)
				return 0;
			etcd_result_clean(res);
		}
	}
	return 1;
}

static int
ipam_release_once(struct ipam_state *st, const struct addr *a, const char *ip)
{
	struct etcd_result res, hres;
	struct model_block b;
	struct model_handle h;
	const struct model_ipam_attr *attr;
	struct etcd_cmp cmp[2];
	struct etcd_op ops[2];
	struct etcd_txn txn;
	char key[512], hkey[1200], err[MODEL_ERRLEN], *bval = NULL,
	                                              *hval = NULL;
	char *handle = NULL;
	int64_t bmod, hmod = 0;
	bool have_handle = false;
	json_t *j;
	int rc, ord;

	memset(&hres, 0, sizeof(hres));
	if ((rc = ipam_find_block(st, a, key, sizeof(key), &res)) != 0) {
		if (rc == 1)
			fprintf(stderr,
			    "podmeshctl: IP %s is not in any IPAM block\n", ip);
		return -1;
	}
	bmod = res.kvs[0].mod_revision;
	if ((j = ipam_kv_json(&res.kvs[0])) == NULL ||
	    model_block_from_json(j, &b, err, sizeof(err)) == -1) {
		fprintf(stderr, "podmeshctl: %s: %s\n", key,
		    j == NULL ? "not JSON" : err);
		json_decref(j);
		etcd_result_clean(&res);
		return -1;
	}
	json_decref(j);
	etcd_result_clean(&res);
	ord = model_block_ordinal(&b, a);
	if ((attr = model_block_attr(&b, ord)) == NULL) {
		fprintf(stderr, "podmeshctl: IP %s is not assigned\n", ip);
		model_block_clean(&b);
		return -1;
	}
	if (attr->handle_id != NULL)
		handle = xstrdup(attr->handle_id);
	model_block_release(&b, a);
	memset(cmp, 0, sizeof(cmp));
	cmp[0].target = ETCD_CMP_MOD;
	cmp[0].key = key;
	cmp[0].number = bmod;
	ipam_block_op(key, &b, &bval, &ops[0]);
	memset(&txn, 0, sizeof(txn));
	txn.cmp = cmp;
	txn.ncmp = 1;
	txn.success = ops;
	txn.nsuccess = 1;
	if (handle != NULL &&
	    model_handle_key(handle, hkey, sizeof(hkey)) == 0) {
		if (etcd_get(st->etcd, hkey, &hres) == -1) {
			fprintf(
			    stderr, "podmeshctl: %s\n", etcd_error(st->etcd));
			rc = -1;
			goto out;
		}
		memset(&h, 0, sizeof(h));
		if (hres.nkvs == 1 &&
		    (j = ipam_kv_json(&hres.kvs[0])) != NULL) {
			if (model_handle_from_json(j, &h, err, sizeof(err)) ==
			    0)
				have_handle = true;
			json_decref(j);
		}
		if (have_handle) {
			hmod = hres.kvs[0].mod_revision;
			if (model_handle_add(&h, &b.cidr, -1) == -1)
				/* counted nothing here: leave it be */
				have_handle = false;
		}
		if (have_handle) {
			cmp[1].target = ETCD_CMP_MOD;
			cmp[1].key = hkey;
			cmp[1].number = hmod;
			ipam_handle_op(hkey, &h, &hval, &ops[1]);
			txn.ncmp = txn.nsuccess = 2;
		}
		model_handle_clean(&h);
	}
	if (etcd_txn(st->etcd, &txn, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(st->etcd));
		rc = -1;
		goto out;
	}
	rc = res.succeeded ? 0 : 1;
	etcd_result_clean(&res);
out:
	etcd_result_clean(&hres);
	free(bval);
	free(hval);
	free(handle);
	model_block_clean(&b);
	return rc;
}

static int
ipam_release(struct ctl *ctl, int argc, char **argv)
{
	struct ipam_state st;
	char ip[ADDR_STRLEN];
	struct addr a;
	int i, rc = 1;

	if (ctl->ip == NULL) {
		fprintf(stderr, "podmeshctl: ipam release needs --ip IP\n");
		return 2;
	}
	if (addr_parse(ctl->ip, &a) == -1 || a.scope_id != 0) {
		fprintf(
		    stderr, "podmeshctl: '%s' is not an IP address\n", ctl->ip);
		return 2;
	}
	addr_ntop(&a, ip, sizeof(ip));
	memset(&st, 0, sizeof(st));
	if ((st.etcd = ctl_etcd(ctl)) == NULL || ipam_load_pools(&st) == -1) {
		ipam_state_clean(&st);
		return -1;
	}
	for (i = 0; i < IPAM_RETRIES && rc == 1; i++)
		rc = ipam_release_once(&st, &a, ip);
	ipam_state_clean(&st);
	if (rc == 1) {
		fprintf(stderr,
		    "podmeshctl: the block of %s kept changing (%d tries)\n",
		    ip, IPAM_RETRIES);
		return -1;
	}
	if (rc == 0)
		printf("Successfully released IP address %s\n", ip);
	return rc;
}

/* ---- check ---- */

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

/* drop candidates that a fresh look at endpoints and nodes clears */
static int
ipam_confirm(struct ipam_state *st, struct ipam_check *c)
{
	struct ipam_users u;
	const struct model_ipam_attr *attr;
	size_t i, n;
	int ord;

	if (ipam_load_users(st->etcd, &u) == -1)
		return -1;
	for (i = 0, n = 0; i < c->nleaks; i++) {
		const struct ipam_block *b = &st->blocks[c->leaks[i].block];

		ord = model_block_ordinal(&b->b, &c->leaks[i].a);
		attr = model_block_attr(&b->b, ord);
		if (attr != NULL && ipam_in_use(&u, attr, &c->leaks[i].a)) {
			free(c->leaks[i].handle);
			continue;
		}
		c->leaks[n++] = c->leaks[i];
	}
	c->nleaks = n;
	for (i = 0, n = 0; i < c->norphan_blocks; i++) {
		const char *host =
		    model_block_host(&st->blocks[c->orphan_blocks[i]].b);

		if (!ipam_has_str(u.nodes, u.nnodes, host))
			c->orphan_blocks[n++] = c->orphan_blocks[i];
	}
	c->norphan_blocks = n;
	for (i = 0, n = 0; i < c->norphan_affs; i++)
		if (!ipam_has_str(
		        u.nodes, u.nnodes, st->affs[c->orphan_affs[i]].host))
			c->orphan_affs[n++] = c->orphan_affs[i];
	c->norphan_affs = n;
	ipam_users_clean(&u);
	return 0;
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
	printf("\nFixing...\n");
	if (ipam_confirm(st, c) == -1)
		return -1;
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

static int
ipam_check(struct ctl *ctl, int argc, char **argv)
{
	struct ipam_state st;
	struct ipam_check c;
	int rc = 0;

	if (ipam_load(ctl, &st, true) == -1)
		return -1;
	ipam_scan(&st, &c);
	ipam_check_report(&st, &c);
	if (ctl->fix)
		rc = ipam_fix(&st, &c);
	else if (c.nleaks + c.norphan_blocks + c.norphan_affs > 0)
		printf("Run 'podmeshctl ipam check --fix' to release the "
		       "leaked addresses and remove the affinities to missing "
		       "nodes.\n");
	ipam_check_clean(&c);
	ipam_state_clean(&st);
	return rc;
}

const struct ctl_cmd ipam_cmds[] = {
    {
        .group = "ipam",
        .name = "show",
        .args = "",
        .help = "addresses in use and free in each IP pool (and in each "
                "block with --show-blocks); --ip IP tells whether that "
                "address is in use, its block, handle and attributes",
        .opts = CTL_O_CONFIG | CTL_O_SHOWBLOCKS | CTL_O_IP,
        .outputs = CTL_OUT(OUTPUT_TABLE) | CTL_OUT(OUTPUT_JSON),
        .exec = ipam_show,
    },
    {
        .group = "ipam",
        .name = "release",
        .args = "--ip IP",
        .help = "release the address IP: free it in its block and take it "
                "off its handle, in one compare-and-swap transaction; for "
                "an address no workload uses any more",
        .opts = CTL_O_CONFIG | CTL_O_IP,
        .exec = ipam_release,
    },
    {
        .group = "ipam",
        .name = "check",
        .args = "[--fix]",
        .help = "look for allocations no workload endpoint or node uses "
                "(their handle names no endpoint's container), blocks and "
                "affinities of nodes that do not exist, and handles no "
                "allocation carries; report the counts.  --fix releases "
                "those allocations, takes the affinity off those blocks "
                "(deleting empty ones) and deletes the dangling affinity "
                "keys; handles are only reported",
        .opts = CTL_O_CONFIG | CTL_O_FIX,
        .exec = ipam_check,
    },
};

const size_t ipam_ncmds = sizeof(ipam_cmds) / sizeof(ipam_cmds[0]);
