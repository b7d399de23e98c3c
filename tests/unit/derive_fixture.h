/*
 * A Calico v3 datastore in memory for the node/ derivation tests: put
 * resources, IPAM blocks and affinities as the JSON Calico stores, then
 * load the whole listing into a detached node cache with wcache_load(),
 * as the live cache does with etcd's answer.
 */
#ifndef PODMESH_TESTS_DERIVE_FIXTURE_H
#define PODMESH_TESTS_DERIVE_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/xmalloc.h"
#include "node/derive.h"
#include "store/model.h"
#include "store/wcache.h"

#define FX_UNUSED __attribute__((unused))
#define FX_RES MODEL_RESOURCE_PREFIX

struct fx {
	struct etcd_kv *kv;
	size_t n, cap;
	int64_t rev;
	struct wcache *wc;
};

static FX_UNUSED void
fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->rev = 100;
	f->wc = node_cache_new(NULL, NULL);
}

static FX_UNUSED void
fx_clean(struct fx *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		etcd_kv_clean(&f->kv[i]);
	free(f->kv);
	wcache_free(f->wc);
	memset(f, 0, sizeof(*f));
}

static FX_UNUSED void
fx_put(struct fx *f, const char *key, const char *value)
{
	struct etcd_kv *kv = NULL;
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->kv[i].key, key) == 0) {
			kv = &f->kv[i];
			etcd_kv_clean(kv);
			break;
		}
	if (kv == NULL) {
		if (f->n == f->cap) {
			f->cap = f->cap ? f->cap * 2 : 64;
			f->kv = xreallocarray(f->kv, f->cap, sizeof(*f->kv));
		}
		kv = &f->kv[f->n++];
		memset(kv, 0, sizeof(*kv));
	}
	kv->key = xstrdup(key);
	kv->key_len = strlen(key);
	kv->value = xstrdup(value);
	kv->value_len = strlen(value);
	kv->create_revision = kv->mod_revision = ++f->rev;
	kv->version = 1;
}

static FX_UNUSED void
fx_del(struct fx *f, const char *key)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (strcmp(f->kv[i].key, key) == 0) {
			etcd_kv_clean(&f->kv[i]);
			f->kv[i] = f->kv[--f->n];
			f->rev++;
			return;
		}
}

/* the cache becomes the fixture's listing */
static FX_UNUSED struct wcache *
fx_load(struct fx *f)
{
	struct etcd_result res = {
	    .op = ETCD_OP_RANGE,
	    .revision = ++f->rev,
	    .kvs = f->kv,
	    .nkvs = f->n,
	    .count = (int64_t)f->n,
	};

	wcache_load(f->wc, &res);
	return f->wc;
}

/* a v3 resource as Calico's etcdv3 backend stores it */
static FX_UNUSED void
fx_res(struct fx *f, const char *kind, const char *plural, const char *name,
    const char *labels, const char *spec)
{
	char key[512], *v;
	unsigned int h = 0;
	const char *p;

	for (p = name; *p; p++)
		h = h * 31 + (unsigned char)*p;
	snprintf(key, sizeof(key), "%s%s/%s", FX_RES, plural, name);
	xasprintf(&v,
	    "{\"kind\":\"%s\",\"apiVersion\":\"projectcalico.org/v3\","
	    "\"metadata\":{\"name\":\"%s\",\"uid\":\"%08x-5b2c-4c1e-9a3d-"
	    "0242ac110002\",\"creationTimestamp\":\"2024-05-01T10:00:00Z\"%s%s}"
	    ","
	    "\"spec\":{%s}}",
	    kind, name, h, labels ? ",\"labels\":" : "", labels ? labels : "",
	    spec);
	fx_put(f, key, v);
	free(v);
}

/* bgp: the members of spec.bgp (NULL: no bgp); more: other spec members */
static FX_UNUSED void
fx_node(struct fx *f, const char *name, const char *labels, const char *bgp,
    const char *more)
{
	char *spec;

	xasprintf(&spec,
	    "\"orchRefs\":[{\"nodeName\":\"%s\",\"orchestrator\":\"k8s\"}]"
	    "%s%s%s%s%s",
	    name, bgp ? ",\"bgp\":{" : "", bgp ? bgp : "", bgp ? "}" : "",
	    more ? "," : "", more ? more : "");
	fx_res(f, "Node", "nodes", name, labels, spec);
	free(spec);
}

static FX_UNUSED void
fx_peer(struct fx *f, const char *name, const char *spec)
{
	fx_res(f, "BGPPeer", "bgppeers", name, NULL, spec);
}

static FX_UNUSED void
fx_bgpconfig(struct fx *f, const char *name, const char *spec)
{
	fx_res(f, "BGPConfiguration", "bgpconfigurations", name, NULL, spec);
}

static FX_UNUSED void
fx_pool(struct fx *f, const char *name, const char *spec)
{
	fx_res(f, "IPPool", "ippools", name, NULL, spec);
}

static FX_UNUSED void
fx_affinity(struct fx *f, const char *host, const char *cidr, const char *state)
{
	char key[512], v[128];
	struct prefix p;

	if (prefix_parse(cidr, &p) == -1 ||
	    model_affinity_key(host, &p, key, sizeof(key)) == -1)
		abort();
	snprintf(v, sizeof(v), "{\"state\":\"%s\",\"deleted\":false}", state);
	fx_put(f, key, v);
}

/*
 * A block as calico-ipam writes it: host NULL for an unaffined one; then
 * pairs of (address, node) ending with NULL; node NULL allocates without
 * secondary attributes (v2.6 CNI), "-" as a tunnel address of no node.
 */
static FX_UNUSED void
fx_block(struct fx *f, const char *cidr, const char *host, ...)
{
	struct model_labels sec = {0};
	struct model_block b;
	struct prefix p;
	struct addr a;
	const char *ip, *node;
	char key[512], handle[128], *s;
	va_list ap;
	json_t *j;

	if (prefix_parse(cidr, &p) == -1 ||
	    model_block_key(&p, key, sizeof(key)) == -1)
		abort();
	model_block_init(&b, &p, host);
	va_start(ap, host);
	while ((ip = va_arg(ap, const char *)) != NULL) {
		node = va_arg(ap, const char *);
		if (addr_parse(ip, &a) == -1)
			abort();
		snprintf(handle, sizeof(handle), "k8s-pod-network.%s", ip);
		model_labels_clean(&sec);
		if (node != NULL) {
			model_labels_set(&sec, "node", node);
			model_labels_set(&sec, "pod", ip);
			model_labels_set(&sec, "namespace", "default");
		}
		if (model_block_assign_addr(
		        &b, &a, handle, node != NULL ? &sec : NULL) == -1)
			abort();
	}
	va_end(ap);
	model_labels_clean(&sec);
	j = model_block_to_json(&b);
	s = json_dumps(j, JSON_COMPACT);
	fx_put(f, key, s);
	free(s);
	json_decref(j);
	model_block_clean(&b);
}

static FX_UNUSED struct prefix
fx_prefix(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p) == -1)
		abort();
	return p;
}

static FX_UNUSED struct addr
fx_addr(const char *s)
{
	struct addr a;

	if (addr_parse(s, &a) == -1)
		abort();
	return a;
}

static FX_UNUSED const char *
fx_ntop(const struct addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return addr_ntop(a, buf[i], sizeof(buf[i]));
}

static FX_UNUSED const char *
fx_pntop(const struct prefix *p)
{
	static char buf[4][PREFIX_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return prefix_ntop(p, buf[i], sizeof(buf[i]));
}

/* "a b c": the prefixes of a list, for one assert_string_equal */
static FX_UNUSED const char *
fx_plist(const struct prefix *v, size_t n)
{
	static char buf[8192];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < sizeof(buf); i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
		    i ? " " : "", fx_pntop(&v[i]));
	return buf;
}

/*
 * "192.0.2.2 as64512 passive mesh n2; 203.0.113.1:1790 as65001 global p"
 * for one assert_string_equal over a whole peer list
 */
static FX_UNUSED const char *
fx_peers(const struct node_bgp *b)
{
	static const char *const types[] = {"mesh", "global", "node"};
	static char buf[16384];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < b->npeers && len < sizeof(buf); i++) {
		const struct node_peer *p = &b->peers[i];

		if (p->port != 0 && p->addr.family == AF_INET6)
			len +=
			    snprintf(buf + len, sizeof(buf) - len, "%s[%s]:%u",
			        i ? "; " : "", fx_ntop(&p->addr), p->port);
		else if (p->port != 0)
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s:%u",
			    i ? "; " : "", fx_ntop(&p->addr), p->port);
		else
			len += snprintf(buf + len, sizeof(buf) - len, "%s%s",
			    i ? "; " : "", fx_ntop(&p->addr));
		if (len < sizeof(buf))
			len += snprintf(buf + len, sizeof(buf) - len,
			    " as%u%s%s%s%s %s %s", p->asn,
			    p->passive ? " passive" : "",
			    p->rr_client ? " rr" : "",
			    p->keep_next_hop ? " keep" : "",
			    p->password ? " password" : "", types[p->type],
			    p->name);
	}
	return buf;
}

#endif
