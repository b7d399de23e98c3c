/*
 * podmeshctl ipam show|release (check is ipam_check.c): Calico's IPAM tree
 * in etcd (calico.md §2): blocks under /calico/ipam/v2/assignment/, host
 * affinities under /calico/ipam/v2/host/, handles under
 * /calico/ipam/v2/handle/.  This file also reads the tree and its users
 * (nodes, workload endpoints) for check and for a pool's deletion.
 *
 *  - show: per IP pool, addresses in use of the total (and per block with
 *    --show-blocks); --ip describes one address.
 *  - release --ip: frees the address in its block and takes one off its
 *    handle's count, in one transaction that compares both keys'
 *    mod_revision (Calico does the block CAS, then the handle; one txn
 *    cannot leave them disagreeing).  A block left empty and unaffined is
 *    deleted, a handle reaching 0 too, as Calico's ReleaseIPs does.
 *
 * Who uses an address is read leniently: a Node or WorkloadEndpoint that
 * the model refuses (written by another tool, or a newer Calico) still
 * holds its addresses, so its containerID, ipNetworks and tunnel
 * addresses are taken from the raw JSON; one whose addresses cannot be
 * known at all is listed in users.unreadable, and check --fix refuses to
 * release anything while there is one.
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

bool
ipam_has_str(char **v, size_t n, const char *s)
{
	return n > 0 && bsearch(&s, v, n, sizeof(*v), ipam_strcmp) != NULL;
}

bool
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

void
ipam_users_clean(struct ipam_users *u)
{
	ipam_strs_free(u->nodes, u->nnodes);
	ipam_strs_free(u->cids, u->ncids);
	ipam_strs_free(u->unreadable, u->nunreadable);
	free(u->ips);
	memset(u, 0, sizeof(*u));
}

void
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

json_t *
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
	if (st->nblocks > 1)
		qsort(st->blocks, st->nblocks, sizeof(*st->blocks),
		    ipam_blockcmp);
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

static void
ipam_unreadable(struct ipam_users *u, const char *key, const char *why)
{
	u->unreadable = xreallocarray(
	    u->unreadable, u->nunreadable + 1, sizeof(*u->unreadable));
	xasprintf(&u->unreadable[u->nunreadable++], "%s: %s", key, why);
}

/*
 * An address as a resource holds it: "10.0.0.1", "10.0.0.1/32", or (in a
 * value the model refused) any "ADDR/LEN", whose ADDR is what matters.
 */
static int
ipam_raw_addr(const json_t *v, struct addr *a)
{
	const char *s = json_string_value(v);
	struct prefix p;

	if (s == NULL)
		return -1;
	if (model_addr_parse(s, a) == 0)
		return 0;
	if (prefix_parse(s, &p) == -1)
		return -1;
	*a = p.a;
	return 0;
}

/* a node's tunnel addresses: IPIP, VXLAN and WireGuard (in extra) */
static void
ipam_node_ips(struct ipam_users *u, const struct resource *r)
{
	static const char *const wg[] = {
	    "interfaceIPv4Address", "interfaceIPv6Address"};
	const json_t *w = json_object_get(r->node.extra, "wireguard");
	struct addr a;
	size_t i;

	if (r->node.has_bgp)
		ipam_add_ip(u, &r->node.bgp.ipv4_ipip_tunnel_addr);
	ipam_add_ip(u, &r->node.ipv4_vxlan_tunnel_addr);
	for (i = 0; i < sizeof(wg) / sizeof(wg[0]); i++)
		if (ipam_raw_addr(json_object_get(w, wg[i]), &a) == 0)
			ipam_add_ip(u, &a);
	if (ipam_raw_addr(
	        json_object_get(r->node.extra, "ipv6VXLANTunnelAddr"), &a) == 0)
		ipam_add_ip(u, &a);
}

/*
 * A Node the model refused: its name (from metadata, else the key) and
 * its tunnel addresses, from the raw JSON.  -1 when they cannot be known.
 */
static int
ipam_node_raw(struct ipam_users *u, const struct etcd_kv *kv, const char **why)
{
	static const char *const paths[][2] = {
	    {"bgp", "ipv4IPIPTunnelAddr"},
	    {NULL, "ipv4VXLANTunnelAddr"},
	    {NULL, "ipv6VXLANTunnelAddr"},
	    {"wireguard", "interfaceIPv4Address"},
	    {"wireguard", "interfaceIPv6Address"},
	};
	const char *name = strrchr(kv->key, '/') + 1, *s;
	const json_t *spec = NULL, *v;
	struct addr a[5];
	size_t i, n = 0;
	json_t *j;

	/* a node that does not decode still exists: its blocks are not
	 * orphans whatever else is wrong with it */
	if ((j = ipam_kv_json(kv)) != NULL &&
	    (s = json_string_value(json_object_get(
	         json_object_get(j, "metadata"), "name"))) != NULL &&
	    *s != '\0')
		name = s;
	u->nodes[u->nnodes++] = xstrdup(name);
	*why = NULL;
	if (j == NULL || !json_is_object(j))
		*why = "not a JSON object";
	else if ((spec = json_object_get(j, "spec")) != NULL &&
	    !json_is_object(spec) && !json_is_null(spec))
		*why = "spec is not a map";
	if (json_is_null(spec))
		spec = NULL;
	for (i = 0; *why == NULL && spec != NULL &&
	     i < sizeof(paths) / sizeof(paths[0]);
	     i++) {
		v = paths[i][0] != NULL
		    ? json_object_get(
		          json_object_get(spec, paths[i][0]), paths[i][1])
		    : json_object_get(spec, paths[i][1]);
		if (v == NULL || json_is_null(v) ||
		    (json_is_string(v) && *json_string_value(v) == '\0'))
			continue;
		if (ipam_raw_addr(v, &a[n]) == -1)
			*why = "a tunnel address that is not an address";
		else
			n++;
	}
	json_decref(j);
	if (*why != NULL)
		return -1;
	for (i = 0; i < n; i++)
		ipam_add_ip(u, &a[i]);
	return 0;
}

/*
 * A WorkloadEndpoint the model refused: spec.containerID and
 * spec.ipNetworks from the raw JSON, so that its addresses are not taken
 * for leaks.  -1 (nothing added) when they cannot be known.
 */
static int
ipam_wep_raw(
    struct ipam_users *u, const struct etcd_kv *kv, const char *decode_err)
{
	const json_t *spec, *meta, *cid, *nets;
	const char *why = NULL, *name, *ns;
	struct addr *a = NULL;
	size_t i, n = 0;
	json_t *j;

	j = ipam_kv_json(kv);
	spec = json_object_get(j, "spec");
	meta = json_object_get(j, "metadata");
	cid = json_object_get(spec, "containerID");
	nets = json_object_get(spec, "ipNetworks");
	if (j == NULL || !json_is_object(j))
		why = "not a JSON object";
	else if (!json_is_object(spec))
		why = "no spec map";
	else if (cid != NULL && !json_is_null(cid) && !json_is_string(cid))
		why = "spec.containerID is not a string";
	else if (nets != NULL && !json_is_null(nets) && !json_is_array(nets))
		why = "spec.ipNetworks is not a list";
	a = xcalloc(json_array_size(nets) + 1, sizeof(*a));
	for (i = 0; why == NULL && i < json_array_size(nets); i++)
		if (ipam_raw_addr(json_array_get(nets, i), &a[n++]) == -1)
			why = "an entry of spec.ipNetworks is not an address";
	if (why != NULL) {
		ipam_unreadable(u, kv->key, why);
		free(a);
		json_decref(j);
		return -1;
	}
	name = json_string_value(json_object_get(meta, "name"));
	ns = json_string_value(json_object_get(meta, "namespace"));
	fprintf(stderr,
	    "podmeshctl: warning: %s: %s; WorkloadEndpoint %s/%s: its "
	    "containerID and ipNetworks read as they are\n",
	    kv->key, decode_err, ns != NULL ? ns : "?",
	    name != NULL ? name : "?");
	u->nweps++;
	if (json_string_value(cid) != NULL && *json_string_value(cid) != '\0')
		u->cids[u->ncids++] = xstrdup(json_string_value(cid));
	for (i = 0; i < n; i++)
		ipam_add_ip(u, &a[i]);
	free(a);
	json_decref(j);
	return 0;
}

int
ipam_load_users(struct etcd *e, struct ipam_users *u)
{
	struct etcd_result res;
	struct resource r;
	char prefix[256], err[MODEL_ERRLEN];
	const char *why;
	size_t i, k;

	memset(u, 0, sizeof(*u));
	model_key_prefix(MODEL_NODE, NULL, prefix, sizeof(prefix));
	if (ipam_list(e, prefix, &res) == -1)
		return -1;
	u->nodes = xcalloc(res.nkvs + 1, sizeof(*u->nodes));
	for (i = 0; i < res.nkvs; i++) {
		if (get_decode_kv(&res.kvs[i], &r, err, sizeof(err)) == -1) {
			if (ipam_node_raw(u, &res.kvs[i], &why) == -1)
				ipam_unreadable(u, res.kvs[i].key, why);
			else
				fprintf(stderr,
				    "podmeshctl: warning: %s: %s; its tunnel "
				    "addresses read as they are\n",
				    res.kvs[i].key, err);
			continue;
		}
		u->nodes[u->nnodes++] = xstrdup(r.meta.name);
		ipam_node_ips(u, &r);
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	if (u->nnodes > 1)
		qsort(u->nodes, u->nnodes, sizeof(*u->nodes), ipam_strcmp);

	model_key_prefix(MODEL_WEP, NULL, prefix, sizeof(prefix));
	if (ipam_list(e, prefix, &res) == -1) {
		ipam_users_clean(u);
		return -1;
	}
	u->cids = xcalloc(res.nkvs + 1, sizeof(*u->cids));
	for (i = 0; i < res.nkvs; i++) {
		if (get_decode_kv(&res.kvs[i], &r, err, sizeof(err)) == -1) {
			ipam_wep_raw(u, &res.kvs[i], err);
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
	/* qsort(NULL, 0, ...) is undefined: nothing may be there at all */
	if (u->ncids > 0)
		qsort(u->cids, u->ncids, sizeof(*u->cids), ipam_strcmp);
	if (u->nips > 0)
		qsort(u->ips, u->nips, sizeof(*u->ips), ipam_addrcmp);
	return 0;
}

int
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
void
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
void
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

	if (ctl->handle != NULL) /* ipam_assign.c */
		return ipam_release_handle_cmd(ctl, argc, argv);
	if (ctl->ip == NULL) {
		fprintf(stderr,
		    "podmeshctl: ipam release needs --ip IP or --handle ID\n");
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
        .name = "assign",
        .args = "--node NODE",
        .help = "allocate an address for NODE as Calico's IPAM does (its "
                "affine blocks, else a new block for it, else one borrowed "
                "from another node's block unless affinity is strict), or "
                "the address --ip, and print it; with --handle the handle "
                "holds it, for ipam release --handle",
        .opts = CTL_O_CONFIG | CTL_O_NODE | CTL_O_HANDLE | CTL_O_IP |
            CTL_O_POOL | CTL_O_IPV6 | CTL_O_ATTR,
        .exec = ipam_assign_cmd,
    },
    {
        .group = "ipam",
        .name = "release",
        .args = "--ip IP",
        .help = "release the address IP: free it in its block and take it "
                "off its handle, in one compare-and-swap transaction; for "
                "an address no workload uses any more.  --handle ID "
                "releases every address the handle holds and deletes it",
        .opts = CTL_O_CONFIG | CTL_O_IP | CTL_O_HANDLE,
        .exec = ipam_release,
    },
    {
        .group = "ipam",
        .name = "check",
        .args = "[--fix [--grace SECONDS]]",
        .help = "look for allocations no workload endpoint or node uses "
                "(their handle names no endpoint's container), blocks and "
                "affinities of nodes that do not exist, and handles no "
                "allocation carries; report the counts.  --fix looks again "
                "after --grace seconds (default 300) and, of what both looks "
                "found unchanged, releases those allocations, takes the "
                "affinity off those blocks (deleting empty ones) and "
                "deletes the dangling affinity keys; handles are only "
                "reported.  --fix refuses to run while a node or workload "
                "endpoint cannot be read",
        .opts = CTL_O_CONFIG | CTL_O_FIX | CTL_O_GRACE,
        .exec = ipam_check,
        .more_help = ipam_check_help,
    },
};

const size_t ipam_ncmds = sizeof(ipam_cmds) / sizeof(ipam_cmds[0]);
