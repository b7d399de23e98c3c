/*
 * Workload endpoints of Calico v2.6 (calico.md §4: the CNI plugin writes
 * /calico/v1/host/<node>/workload/<orchestrator>/<workload>/endpoint/<ep>)
 * as v3 WorkloadEndpoints, the way calico-upgrade converts them
 * (converters/workloadendpoint.go): a k8s workload "<ns>.<pod>" gives the
 * namespace and pod, the active instance the container ID; profiles
 * "k8s_ns.<ns>" become "kns.<ns>", the label calico/k8s_ns becomes
 * projectcalico.org/namespace; names the v3 rules change gain Calico's
 * qualifier, the first 8 hex digits of the SHA-1 of the v1 name.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/migrate_int.h"

static bool
eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* ---- names ---- */

static uint32_t
rol(uint32_t x, int n)
{
	return (x << n) | (x >> (32 - n));
}

static void
sha1_block(uint32_t h[5], const uint8_t *p)
{
	uint32_t w[80], a, b, c, d, e, f, k, t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
	for (i = 0; i < 80; i++) {
		if (i < 20)
			f = (b & c) | (~b & d), k = 0x5a827999;
		else if (i < 40)
			f = b ^ c ^ d, k = 0x6ed9eba1;
		else if (i < 60)
			f = (b & c) | (b & d) | (c & d), k = 0x8f1bbcdc;
		else
			f = b ^ c ^ d, k = 0xca62c1d6;
		t = rol(a, 5) + f + e + k + w[i];
		e = d, d = c, c = rol(b, 30), b = a, a = t;
	}
	h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
}

/* SHA-1 of s, the first four bytes in hex: Calico's name qualifier */
static void
sha1_hex8(const char *s, char out[9])
{
	uint32_t h[5] = {
	    0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0};
	size_t len = strlen(s), i, rest, ntail;
	uint64_t bits = (uint64_t)len * 8;
	uint8_t tail[128];

	for (i = 0; i + 64 <= len; i += 64)
		sha1_block(h, (const uint8_t *)s + i);
	rest = len - i;
	memset(tail, 0, sizeof(tail));
	memcpy(tail, s + i, rest);
	tail[rest] = 0x80;
	ntail = rest + 9 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[ntail - 1 - i] = bits >> (8 * i);
	sha1_block(h, tail);
	if (ntail == 128)
		sha1_block(h, tail + 64);
	snprintf(out, 9, "%08x", h[0]);
}

/* converters.convertName: normalised, and qualified if that changed it */
static int
qualified_name(
    struct conv *c, const char *v1, const char *key, char *buf, size_t len)
{
	char h[9];

	if (model_name_normalize(v1, buf, len) == -1) {
		migrate_v1_msg(
		    c, MIGRATE_ERROR, key, "\"%s\" gives no v3 name", v1);
		return -1;
	}
	if (eq(buf, v1))
		return 0;
	sha1_hex8(v1, h);
	if (strlen(buf) + 10 > len) {
		migrate_v1_msg(
		    c, MIGRATE_ERROR, key, "\"%s\" gives too long a name", v1);
		return -1;
	}
	strcat(buf, "-");
	strcat(buf, h);
	return 0;
}

/* ---- workload endpoints ---- */

/* converters.convertProfileName */
static int
profile_name(
    struct conv *c, const char *v1, const char *key, char *buf, size_t len)
{
	char tmp[MODEL_NAME_MAX + 16];

	if (strncmp(v1, "k8s_ns.", 7) == 0) {
		snprintf(tmp, sizeof(tmp), "kns.%s", v1 + 7);
		return qualified_name(c, tmp, key, buf, len);
	}
	return qualified_name(c, v1, key, buf, len);
}

static int
wep_nets(struct conv *c, const struct etcdv2_node *n, json_t *j,
    const char *name, struct model_wep *w)
{
	json_t *a, *e;
	struct prefix p;
	size_t i;
	char rr[96];

	if (migrate_v1_member(c, n, j, name, JSON_ARRAY, &a) == -1)
		return -1;
	if (a == NULL)
		return 0;
	w->ip_networks = xreallocarray(w->ip_networks,
	    w->n_ip_networks + json_array_size(a) + 1, sizeof(p));
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e) ||
		    model_prefix_parse(json_string_value(e), &p) == -1) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "%s[%zu]: invalid CIDR %s", name, i,
			    migrate_v1_jrepr(e, rr, sizeof(rr)));
			return -1;
		}
		prefix_mask(&p); /* Calico stores the network */
		w->ip_networks[w->n_ip_networks++] = p;
	}
	return 0;
}

static int
wep_nats(struct conv *c, const struct etcdv2_node *n, json_t *j,
    const char *name, json_t *out)
{
	json_t *a, *e, *in, *ex;
	size_t i;
	char rr[96];

	if (migrate_v1_member(c, n, j, name, JSON_ARRAY, &a) == -1)
		return -1;
	json_array_foreach(a, i, e)
	{
		in = json_object_get(e, "int_ip");
		ex = json_object_get(e, "ext_ip");
		if (!json_is_string(in) || !json_is_string(ex)) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "%s[%zu]: expected {int_ip, ext_ip}, got %s", name,
			    i, migrate_v1_jrepr(e, rr, sizeof(rr)));
			return -1;
		}
		json_array_append_new(out,
		    json_pack("{sOsO}", "internalIP", in, "externalIP", ex));
	}
	return 0;
}

static int
label_cmp(const void *a, const void *b)
{
	return strcmp(
	    ((const struct label *)a)->key, ((const struct label *)b)->key);
}

static int
wep_labels(struct conv *c, const struct etcdv2_node *n, json_t *j,
    struct model_labels *l)
{
	const char *k;
	json_t *o, *v;
	char rr[96];

	if (migrate_v1_member(c, n, j, "labels", JSON_OBJECT, &o) == -1)
		return -1;
	json_object_foreach(o, k, v)
	{
		if (!json_is_string(v)) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "labels.%s: expected a string, got %s", k,
			    migrate_v1_jrepr(v, rr, sizeof(rr)));
			return -1;
		}
		/* converters.convertLabels */
		model_labels_set(l,
		    eq(k, "calico/k8s_ns") ? "projectcalico.org/namespace" : k,
		    json_string_value(v));
	}
	/* as Go writes a map */
	if (l->n > 1)
		qsort(l->v, l->n, sizeof(*l->v), label_cmp);
	return 0;
}

void
migrate_wep_convert(struct conv *c, const struct etcdv2_node *n,
    const char *hostname, const char *orch, const char *wid, const char *eid)
{
	static const char *const known[] = {"state", "name",
	    "active_instance_id", "mac", "profile_ids", "ipv4_nets",
	    "ipv6_nets", "ipv4_nat", "ipv6_nat", "ipv4_gateway", "ipv6_gateway",
	    "labels", "ports", NULL};
	char buf[MODEL_NAME_MAX + 16], name[MODEL_NAME_MAX + 1],
	    err[MODEL_ERRLEN], rr[96];
	json_t *j, *v, *profs, *nats, *e;
	const char *dot;
	struct resource r;
	size_t i;

	if ((j = migrate_v1_object(c, n)) == NULL)
		return;
	resource_init(&r, MODEL_WEP);
	r.meta.namespace = xstrdup("default");
	if (eq(orch, "k8s")) {
		/* the CNI plugin's "<namespace>.<pod>" */
		if ((dot = strchr(wid, '.')) == NULL) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "k8s workload \"%s\" is not <namespace>.<pod>: "
			    "not added by the Calico CNI plugin",
			    wid);
			goto out;
		}
		free(r.meta.namespace);
		r.meta.namespace = xstrndup(wid, dot - wid);
		r.wep.pod = xstrdup(dot + 1);
		if (migrate_v1_member(
		        c, n, j, "active_instance_id", JSON_STRING, &v) == -1)
			goto out;
		if (v != NULL && *json_string_value(v) != '\0')
			r.wep.container_id = xstrdup(json_string_value(v));
	} else if (eq(orch, "cni"))
		r.wep.container_id = xstrdup(wid);
	else if (eq(orch, "libnetwork"))
		r.wep.workload = xstrdup("libnetwork");
	else {
		if (qualified_name(c, wid, n->key, buf, sizeof(buf)) == -1)
			goto out;
		r.wep.workload = xstrdup(buf);
	}
	if (qualified_name(c, orch, n->key, buf, sizeof(buf)) == -1)
		goto out;
	r.wep.orchestrator = xstrdup(buf);
	if (migrate_v1_node_name(c, hostname, n->key, buf, sizeof(buf)) == -1)
		goto out;
	r.wep.node = xstrdup(buf);
	if (qualified_name(c, eid, n->key, buf, sizeof(buf)) == -1)
		goto out;
	r.wep.endpoint = xstrdup(buf);

	if (wep_nets(c, n, j, "ipv4_nets", &r.wep) == -1 ||
	    wep_nets(c, n, j, "ipv6_nets", &r.wep) == -1 ||
	    wep_labels(c, n, j, &r.meta.labels) == -1 ||
	    migrate_v1_member(c, n, j, "profile_ids", JSON_ARRAY, &profs) == -1)
		goto out;
	json_array_foreach(profs, i, e)
	{
		if (!json_is_string(e)) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "profile_ids[%zu]: expected a string, got %s", i,
			    migrate_v1_jrepr(e, rr, sizeof(rr)));
			goto out;
		}
		if (profile_name(c, json_string_value(e), n->key, buf,
		        sizeof(buf)) == -1)
			goto out;
		r.wep.profiles = xreallocarray(
		    r.wep.profiles, r.wep.n_profiles + 1, sizeof(char *));
		r.wep.profiles[r.wep.n_profiles++] = xstrdup(buf);
	}
	if (migrate_v1_member(c, n, j, "name", JSON_STRING, &v) == -1)
		goto out;
	if (v != NULL && *json_string_value(v) != '\0')
		r.wep.interface_name = xstrdup(json_string_value(v));
	if (migrate_v1_member(c, n, j, "mac", JSON_STRING, &v) == -1)
		goto out;
	if (v != NULL && *json_string_value(v) != '\0') {
		r.wep.mac = xstrdup(json_string_value(v));
		for (i = 0; r.wep.mac[i] != '\0'; i++)
			r.wep.mac[i] = tolower((unsigned char)r.wep.mac[i]);
	}

	/* what the model keeps as it is */
	r.wep.extra = json_object();
	nats = json_array();
	if (wep_nats(c, n, j, "ipv4_nat", nats) == -1 ||
	    wep_nats(c, n, j, "ipv6_nat", nats) == -1) {
		json_decref(nats);
		goto out;
	}
	if (json_array_size(nats) > 0)
		json_object_set(r.wep.extra, "ipNATs", nats);
	json_decref(nats);
	if (migrate_v1_member(c, n, j, "ipv4_gateway", JSON_STRING, &v) == -1)
		goto out;
	if (v != NULL && *json_string_value(v) != '\0')
		json_object_set(r.wep.extra, "ipv4Gateway", v);
	if (migrate_v1_member(c, n, j, "ipv6_gateway", JSON_STRING, &v) == -1)
		goto out;
	if (v != NULL && *json_string_value(v) != '\0')
		json_object_set(r.wep.extra, "ipv6Gateway", v);
	if (migrate_v1_member(c, n, j, "ports", JSON_ARRAY, &v) == -1)
		goto out;
	if (v != NULL && json_array_size(v) > 0)
		json_object_set(r.wep.extra, "ports", v);
	migrate_v1_unknown(c, n, j, known);

	if (model_wep_name(&r.wep, name, sizeof(name), err, sizeof(err)) ==
	    -1) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key, "no v3 name: %s", err);
		goto out;
	}
	r.meta.name = xstrdup(name);
	migrate_v1_add_resource(c, PHASE_WEP, &r, n->key);
out:
	resource_clean(&r);
	json_decref(j);
}
