/*
 * Calico v2.6's datastore, read: the v1 keys and values (calico.md §1, §2,
 * §4) turned into the v3 resources and IPAM keys Calico's own migration
 * (libcalico-go lib/upgrade: migrator/migrate.go and converters/) writes.
 * No I/O: the input is a flat listing of the v2 tree, the output a
 * migrate_plan of v3 keys and values, and messages naming the v1 keys.
 *
 * A v2.6 node is spread over keys, so keys are first sorted into per-host
 * records (and the global BGP and cluster keys), and resources built once
 * everything is read; peers, pools, blocks, handles and workload endpoints
 * are one key each (IPAM in migrate_ipam.c, endpoints in migrate_wep.c).
 * This file owns the dispatch on the key, nodes, BGP, pools, the cluster,
 * the helpers the others share, and the plan's order.  Every resource is
 * encoded, then decoded again as the model validates a stored resource
 * (calico-upgrade validates its results too), and that decoded form is
 * what is written.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/migrate_int.h"

void
migrate_v1_msg(struct conv *c, enum migrate_level level, const char *key,
    const char *fmt, ...)
{
	struct migrate_plan *p = c->p;
	struct migrate_msg *m;
	va_list ap;

	p->msgs = xreallocarray(p->msgs, p->nmsgs + 1, sizeof(*p->msgs));
	m = &p->msgs[p->nmsgs++];
	memset(m, 0, sizeof(*m));
	m->level = level;
	m->key = xstrdup(key);
	m->seq = c->seq++;
	va_start(ap, fmt);
	if (vasprintf(&m->text, fmt, ap) == -1)
		fatal("%s: vasprintf", __func__);
	va_end(ap);
	if (level == MIGRATE_ERROR)
		c->nerrors++;
}

/* one more key of a subtree v3 has no place for */
static void
skip(struct conv *c, const char *group, const char *why)
{
	struct migrate_plan *p = c->p;
	size_t i;

	for (i = 0; i < p->nmsgs; i++)
		if (p->msgs[i].level == MIGRATE_SKIPPED &&
		    strcmp(p->msgs[i].key, group) == 0) {
			p->msgs[i].count++;
			return;
		}
	migrate_v1_msg(c, MIGRATE_SKIPPED, group, "%s", why);
	p->msgs[p->nmsgs - 1].count = 1;
}

static bool
eq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

int
migrate_v1_split(const char *key, struct segs *sg)
{
	char *s, *save = NULL;

	if (strlen(key) >= sizeof(sg->buf))
		return -1;
	strcpy(sg->buf, key);
	sg->n = 0;
	for (s = strtok_r(sg->buf, "/", &save); s != NULL;
	     s = strtok_r(NULL, "/", &save)) {
		if (sg->n == SEG_MAX)
			return -1;
		sg->s[sg->n++] = s;
	}
	return 0;
}

/* a value for messages: quoted, cut short */
static const char *
repr(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t n = len < 48 ? len : 48;

	snprintf(buf, buflen, "\"%.*s%s\"", (int)n, s, len > n ? "..." : "");
	return buf;
}

static const char *
vrepr(const struct etcdv2_node *n, char *buf, size_t len)
{
	return repr(n->value, n->value_len, buf, len);
}

const char *
migrate_v1_jrepr(const json_t *j, char *buf, size_t len)
{
	char *s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

	if (s == NULL)
		snprintf(buf, len, "?");
	else {
		snprintf(buf, len, "%.48s%s", s, strlen(s) > 48 ? "..." : "");
		free(s);
	}
	return buf;
}

static bool
empty(const struct etcdv2_node *n)
{
	return n == NULL || n->value_len == 0;
}

/* a v1 value that must be a JSON object */
json_t *
migrate_v1_object(struct conv *c, const struct etcdv2_node *n)
{
	json_error_t je;
	json_t *j;
	char r[96];

	j = json_loadb(n->value, n->value_len,
	    JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (j == NULL) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "not JSON: %s (column %d) in %s", je.text, je.column,
		    vrepr(n, r, sizeof(r)));
		return NULL;
	}
	if (!json_is_object(j)) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "expected a JSON map, got %s", vrepr(n, r, sizeof(r)));
		json_decref(j);
		return NULL;
	}
	return j;
}

void
migrate_v1_unknown(struct conv *c, const struct etcdv2_node *n, json_t *j,
    const char *const *known)
{
	const char *k;
	json_t *v;
	size_t i;

	json_object_foreach(j, k, v)
	{
		for (i = 0; known[i] != NULL; i++)
			if (eq(known[i], k))
				break;
		if (known[i] == NULL)
			migrate_v1_msg(c, MIGRATE_WARNING, n->key,
			    "unknown member \"%s\": not migrated", k);
	}
}

/* member of a v1 map: absent (NULL, 0), the right type (0), or an error */
int
migrate_v1_member(struct conv *c, const struct etcdv2_node *n, json_t *j,
    const char *name, int type, json_t **out)
{
	static const char *const tnames[] = {
	    [JSON_OBJECT] = "a map",
	    [JSON_ARRAY] = "a list",
	    [JSON_STRING] = "a string",
	    [JSON_INTEGER] = "a number",
	    [JSON_TRUE] = "a boolean",
	};
	json_t *v = json_object_get(j, name);
	char r[96];

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if ((type == JSON_TRUE && json_is_boolean(v)) ||
	    (int)json_typeof(v) == type) {
		*out = v;
		return 0;
	}
	migrate_v1_msg(c, MIGRATE_ERROR, n->key, "%s: expected %s, got %s",
	    name, tnames[type], migrate_v1_jrepr(v, r, sizeof(r)));
	return -1;
}

/* ---- names ---- */

/* converters.ConvertNodeName; -1 (and an error) if nothing is left */
int
migrate_v1_node_name(
    struct conv *c, const char *v1, const char *key, char *buf, size_t len)
{
	if (model_name_normalize(v1, buf, len) == 0 && model_name_valid(buf))
		return 0;
	migrate_v1_msg(c, MIGRATE_ERROR, key,
	    "host name \"%s\" gives no v3 node name", v1);
	return -1;
}

/* ---- the plan ---- */

void
migrate_v1_add_item(struct conv *c, int phase, const char *key, json_t *value,
    const char *source, const char *what)
{
	struct migrate_plan *p = c->p;
	struct migrate_item *it;

	p->items = xreallocarray(p->items, p->nitems + 1, sizeof(*p->items));
	it = &p->items[p->nitems++];
	memset(it, 0, sizeof(*it));
	it->key = xstrdup(key);
	it->value = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (it->value == NULL)
		it->value = xstrdup("null");
	it->what = xstrdup(what);
	it->source = xstrdup(source);
	it->phase = phase;
	json_decref(value);
}

/*
 * The resource as stored: encoded, decoded again as a stored resource is
 * (which validates it and fills Calico's defaults) and encoded once more.
 */
void
migrate_v1_add_resource(
    struct conv *c, int phase, struct resource *r, const char *source)
{
	char err[MODEL_ERRLEN], key[KEY_MAX], id[MODEL_NAME_MAX + 64];
	json_t *j = resource_encode(r, MODEL_NO_RV);
	struct resource v;

	resource_id(r, id, sizeof(id));
	if (resource_decode(j, &v, err, sizeof(err)) == -1) {
		migrate_v1_msg(c, MIGRATE_ERROR, source,
		    "becomes %s, which is invalid: %s", id, err);
		json_decref(j);
		return;
	}
	json_decref(j);
	if (resource_key(&v, key, sizeof(key)) == -1)
		migrate_v1_msg(c, MIGRATE_ERROR, source,
		    "becomes %s, which has no key", id);
	else
		migrate_v1_add_item(c, phase, key,
		    resource_encode(&v, MODEL_NO_RV), source, id);
	resource_clean(&v);
}

/* ---- single values ---- */

static int
parse_asn(struct conv *c, const struct etcdv2_node *n, uint32_t *asn)
{
	char buf[32], r[96];

	if (n->value_len < sizeof(buf)) {
		memcpy(buf, n->value, n->value_len);
		buf[n->value_len] = '\0';
		if (model_asn_parse(buf, asn) == 0 && *asn != 0)
			return 0;
	}
	migrate_v1_msg(c, MIGRATE_ERROR, n->key, "invalid AS number %s",
	    vrepr(n, r, sizeof(r)));
	return -1;
}

static int
parse_addr(
    struct conv *c, const struct etcdv2_node *n, int family, struct addr *a)
{
	char r[96];

	if (memchr(n->value, '\0', n->value_len) == NULL &&
	    model_addr_parse(n->value, a) == 0 && a->family == family)
		return 0;
	migrate_v1_msg(c, MIGRATE_ERROR, n->key, "invalid IPv%d address %s",
	    family == AF_INET ? 4 : 6, vrepr(n, r, sizeof(r)));
	return -1;
}

static int
parse_net(
    struct conv *c, const struct etcdv2_node *n, int family, struct prefix *p)
{
	char r[96];

	if (memchr(n->value, '\0', n->value_len) == NULL &&
	    model_prefix_parse(n->value, p) == 0 && p->a.family == family)
		return 0;
	migrate_v1_msg(c, MIGRATE_ERROR, n->key, "invalid IPv%d network %s",
	    family == AF_INET ? 4 : 6, vrepr(n, r, sizeof(r)));
	return -1;
}

/*
 * BIRD's view decides: v1 rendered debug as "debug all", none as nothing
 * and anything else as "debug { states }"; v3's confd renders Debug and
 * Info so and every other level as none.
 */
static const char *
log_severity(struct conv *c, const struct etcdv2_node *n)
{
	static const char *const quiet[] = {
	    "info", "warning", "error", "fatal", "panic", NULL};
	char low[16], r[96];
	size_t i;

	for (i = 0; i < n->value_len && i + 1 < sizeof(low); i++)
		low[i] = tolower((unsigned char)n->value[i]);
	low[i] = '\0';
	if (n->value_len < sizeof(low)) {
		if (eq(low, "debug"))
			return "Debug";
		if (eq(low, "none"))
			return "Warning";
		for (i = 0; quiet[i] != NULL; i++)
			if (eq(low, quiet[i]))
				return "Info";
	}
	migrate_v1_msg(c, MIGRATE_WARNING, n->key,
	    "unknown log level %s: Info, as BIRD logged it",
	    vrepr(n, r, sizeof(r)));
	return "Info";
}

/* ---- global BGP configuration, nodes ---- */

static void
conv_bgpconfig(struct conv *c)
{
	json_t *j, *v;
	struct resource r;
	bool set = false, bad = false;
	char rr[96];

	resource_init(&r, MODEL_BGPCONFIG);
	r.meta.name = xstrdup("default");
	if (!empty(c->g_asn)) {
		if (parse_asn(c, c->g_asn, &r.bgpconfig.asn) == 0)
			set = true;
		else
			bad = true;
	}
	if (!empty(c->g_mesh)) {
		if ((j = migrate_v1_object(c, c->g_mesh)) == NULL)
			bad = true;
		else if (migrate_v1_member(
		             c, c->g_mesh, j, "enabled", JSON_TRUE, &v) == -1)
			bad = true;
		else if (v == NULL) {
			migrate_v1_msg(c, MIGRATE_ERROR, c->g_mesh->key,
			    "expected {\"enabled\": true|false}, got %s",
			    vrepr(c->g_mesh, rr, sizeof(rr)));
			bad = true;
		} else {
			r.bgpconfig.node_mesh =
			    json_is_true(v) ? MODEL_TRUE : MODEL_FALSE;
			set = true;
		}
		json_decref(j);
	}
	if (!empty(c->g_log)) {
		r.bgpconfig.log_severity = xstrdup(log_severity(c, c->g_log));
		set = true;
	}
	if (set && !bad)
		migrate_v1_add_resource(
		    c, PHASE_BGPCONFIG, &r, "/calico/bgp/v1/global/");
	resource_clean(&r);
}

static void
orch_refs(struct conv *c, const struct v1host *h, struct resource *r)
{
	const struct etcdv2_node *n = h->orchrefs;
	json_error_t je;
	json_t *j, *e;
	size_t i;
	char rr[96];

	j = json_loadb(n->value, n->value_len, 0, &je);
	if (j == NULL || !json_is_array(j)) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "expected a JSON list of {orchestrator, nodeName}, got %s",
		    vrepr(n, rr, sizeof(rr)));
		json_decref(j);
		return;
	}
	json_array_foreach(j, i, e)
	{
		if (!json_is_object(e)) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "[%zu]: expected a map, got %s", i,
			    migrate_v1_jrepr(e, rr, sizeof(rr)));
			json_decref(j);
			return;
		}
	}
	if (r->node.extra == NULL)
		r->node.extra = json_object();
	json_object_set_new(r->node.extra, "orchRefs", j);
}

static void
conv_node(struct conv *c, const struct v1host *h)
{
	char name[MODEL_NAME_MAX + 1], src[KEY_MAX], r4[ADDR_STRLEN],
	    r6[ADDR_STRLEN];
	struct addr ip4 = {0}, ip6 = {0}, tun = {0}, bird;
	struct prefix net4 = {0}, net6 = {0};
	struct resource r;
	uint32_t asn = 0;
	int bad = 0;

	if (h->meta == NULL) {
		migrate_v1_msg(c, MIGRATE_WARNING, h->any->key,
		    "host \"%s\" has no /calico/v1/host/%s/metadata: no "
		    "Node for it (as calico-upgrade)",
		    h->name, h->name);
		return;
	}
	snprintf(src, sizeof(src), "%s", h->meta->key);
	if (migrate_v1_node_name(c, h->name, src, name, sizeof(name)) == -1)
		return;
	if (!empty(h->ip4))
		bad |= parse_addr(c, h->ip4, AF_INET, &ip4);
	if (!empty(h->net4))
		bad |= parse_net(c, h->net4, AF_INET, &net4);
	if (!empty(h->ip6))
		bad |= parse_addr(c, h->ip6, AF_INET6, &ip6);
	if (!empty(h->net6))
		bad |= parse_net(c, h->net6, AF_INET6, &net6);
	if (!empty(h->asn))
		bad |= parse_asn(c, h->asn, &asn);
	if (!empty(h->tunnel))
		bad |= parse_addr(c, h->tunnel, AF_INET, &tun);

	resource_init(&r, MODEL_NODE);
	r.meta.name = xstrdup(name);
	if (ip4.family != 0 || ip6.family != 0) {
		/* converters.Node: no address, no spec.bgp */
		r.node.has_bgp = true;
		r.node.bgp.asn = asn;
		if (ip4.family != 0) {
			r.node.bgp.ipv4_address.a = ip4;
			r.node.bgp.ipv4_address.len =
			    net4.a.family != 0 ? net4.len : 32;
		}
		if (ip6.family != 0) {
			r.node.bgp.ipv6_address.a = ip6;
			r.node.bgp.ipv6_address.len =
			    net6.a.family != 0 ? net6.len : 128;
		}
		r.node.bgp.ipv4_ipip_tunnel_addr = tun;
	} else {
		if (asn != 0)
			migrate_v1_msg(c, MIGRATE_WARNING, h->asn->key,
			    "node %s has no BGP address, so no spec.bgp: "
			    "its AS number is dropped (as calico-upgrade "
			    "does)",
			    name);
		if (tun.family != 0)
			migrate_v1_msg(c, MIGRATE_WARNING, h->tunnel->key,
			    "node %s has no BGP address, so no spec.bgp: "
			    "its IPIP tunnel address is dropped (as "
			    "calico-upgrade does)",
			    name);
	}
	/* Felix's address for the node; v3 has only the BGP one */
	if (!empty(h->bird4) && parse_addr(c, h->bird4, AF_INET, &bird) == 0 &&
	    addr_cmp(&bird, &ip4) != 0)
		migrate_v1_msg(c, MIGRATE_WARNING, h->bird4->key,
		    "Felix's address %s is not the BGP address (%s): v3 "
		    "keeps the BGP one",
		    addr_ntop(&bird, r4, sizeof(r4)),
		    ip4.family != 0 ? addr_ntop(&ip4, r6, sizeof(r6)) : "none");
	if (!empty(h->bird6) && parse_addr(c, h->bird6, AF_INET6, &bird) == 0 &&
	    addr_cmp(&bird, &ip6) != 0)
		migrate_v1_msg(c, MIGRATE_WARNING, h->bird6->key,
		    "Felix's address %s is not the BGP address (%s): v3 "
		    "keeps the BGP one",
		    addr_ntop(&bird, r4, sizeof(r4)),
		    ip6.family != 0 ? addr_ntop(&ip6, r6, sizeof(r6)) : "none");
	if (!empty(h->orchrefs))
		orch_refs(c, h, &r);
	if (!bad)
		migrate_v1_add_resource(c, PHASE_NODE, &r, src);
	resource_clean(&r);

	/* a node's own BIRD log level: BGPConfiguration node.<name> */
	if (!empty(h->loglevel)) {
		resource_init(&r, MODEL_BGPCONFIG);
		xasprintf(&r.meta.name, "node.%s", name);
		r.bgpconfig.log_severity =
		    xstrdup(log_severity(c, h->loglevel));
		migrate_v1_add_resource(
		    c, PHASE_BGPCONFIG, &r, h->loglevel->key);
		resource_clean(&r);
	}
}

static struct v1host *
host(struct conv *c, const char *name, const struct etcdv2_node *n)
{
	struct v1host *h;
	size_t i;

	if (c->nhosts > 0 && eq(c->hosts[c->last].name, name))
		return &c->hosts[c->last];
	for (i = 0; i < c->nhosts; i++)
		if (eq(c->hosts[i].name, name))
			break;
	if (i == c->nhosts) {
		c->hosts = xreallocarray(c->hosts, ++c->nhosts, sizeof(*h));
		memset(&c->hosts[i], 0, sizeof(*h));
		c->hosts[i].name = xstrdup(name);
		c->hosts[i].any = n;
	}
	c->last = i;
	return &c->hosts[i];
}

/* ---- peers, pools ---- */

static void
conv_peer(struct conv *c, const struct etcdv2_node *n, const char *hostname,
    const char *keyip, int family)
{
	static const char *const known[] = {"ip", "as_num", NULL};
	char node[MODEL_NAME_MAX + 1], ipname[64], name[MODEL_NAME_MAX + 80],
	    a[ADDR_STRLEN], b[ADDR_STRLEN], rr[96];
	struct addr kip, ip;
	json_t *j, *v, *asv;
	struct resource r;
	json_int_t x;
	uint32_t asn = 0;

	if (model_addr_parse(keyip, &kip) == -1 || kip.family != family) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "\"%s\" in the key is not an IPv%d address", keyip,
		    family == AF_INET ? 4 : 6);
		return;
	}
	if ((j = migrate_v1_object(c, n)) == NULL)
		return;
	if (migrate_v1_member(c, n, j, "ip", JSON_STRING, &v) == -1)
		goto out;
	/* v1's numorstring: a number, or one in a string */
	asv = json_object_get(j, "as_num");
	if (asv == NULL || json_is_null(asv)) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key, "as_num: required");
		goto out;
	}
	if (json_is_integer(asv) && (x = json_integer_value(asv)) >= 1 &&
	    x <= UINT32_MAX)
		asn = x;
	else if (!json_is_string(asv) ||
	    model_asn_parse(json_string_value(asv), &asn) == -1 || asn == 0) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "as_num: invalid AS number %s",
		    migrate_v1_jrepr(asv, rr, sizeof(rr)));
		goto out;
	}
	ip = kip;
	if (v != NULL &&
	    (model_addr_parse(json_string_value(v), &ip) == -1 ||
	        ip.family != family)) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "ip: invalid IPv%d address %s", family == AF_INET ? 4 : 6,
		    migrate_v1_jrepr(v, rr, sizeof(rr)));
		goto out;
	}
	if (addr_cmp(&ip, &kip) != 0) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "ip %s is not the key's %s", addr_ntop(&ip, a, sizeof(a)),
		    addr_ntop(&kip, b, sizeof(b)));
		goto out;
	}
	migrate_v1_unknown(c, n, j, known);
	if (model_name_from_ip(&ip, ipname, sizeof(ipname)) == -1)
		goto out;
	resource_init(&r, MODEL_BGPPEER);
	r.bgppeer.peer_ip = ip;
	r.bgppeer.asn = asn;
	if (hostname != NULL) {
		if (migrate_v1_node_name(
		        c, hostname, n->key, node, sizeof(node)) == -1) {
			resource_clean(&r);
			goto out;
		}
		/* converters.BGPPeer: "<node>.<ip>", spec.node */
		snprintf(name, sizeof(name), "%s.%s", node, ipname);
		r.bgppeer.node = xstrdup(node);
	} else
		snprintf(name, sizeof(name), "%s", ipname);
	r.meta.name = xstrdup(name);
	migrate_v1_add_resource(c, PHASE_PEER, &r, n->key);
	resource_clean(&r);
out:
	json_decref(j);
}

static void
conv_pool(struct conv *c, const struct etcdv2_node *n, const char *keycidr,
    int family)
{
	static const char *const known[] = {"cidr", "ipip", "ipip_mode",
	    "masquerade", "ipam", "disabled", NULL};
	json_t *j, *cidr, *ipip, *mode, *masq, *ipam, *dis;
	char name[MODEL_NAME_MAX + 1], a[PREFIX_STRLEN], b[PREFIX_STRLEN];
	struct prefix kp, p, m;
	struct resource r;
	const char *s;

	if (model_cidr_from_key(keycidr, &kp) == -1 || kp.a.family != family) {
		migrate_v1_msg(c, MIGRATE_ERROR, n->key,
		    "\"%s\" in the key is not an IPv%d CIDR", keycidr,
		    family == AF_INET ? 4 : 6);
		return;
	}
	if ((j = migrate_v1_object(c, n)) == NULL)
		return;
	if (migrate_v1_member(c, n, j, "cidr", JSON_STRING, &cidr) == -1 ||
	    migrate_v1_member(c, n, j, "ipip", JSON_STRING, &ipip) == -1 ||
	    migrate_v1_member(c, n, j, "ipip_mode", JSON_STRING, &mode) == -1 ||
	    migrate_v1_member(c, n, j, "masquerade", JSON_TRUE, &masq) == -1 ||
	    migrate_v1_member(c, n, j, "ipam", JSON_TRUE, &ipam) == -1 ||
	    migrate_v1_member(c, n, j, "disabled", JSON_TRUE, &dis) == -1)
		goto out;
	p = kp;
	if (cidr != NULL) {
		s = json_string_value(cidr);
		if (model_prefix_parse(s, &p) == -1) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "cidr: invalid CIDR \"%s\"", s);
			goto out;
		}
		m = p;
		prefix_mask(&m);
		if (prefix_cmp(&m, &p) != 0) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "cidr: \"%s\" has host bits set (the network is "
			    "%s)",
			    s, prefix_ntop(&m, a, sizeof(a)));
			goto out;
		}
		if (prefix_cmp(&p, &kp) != 0) {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "cidr %s is not the key's %s",
			    prefix_ntop(&p, a, sizeof(a)),
			    prefix_ntop(&kp, b, sizeof(b)));
			goto out;
		}
	}
	migrate_v1_unknown(c, n, j, known);

	resource_init(&r, MODEL_IPPOOL);
	model_name_from_cidr(&p, name, sizeof(name));
	r.meta.name = xstrdup(name);
	r.ippool.cidr = p;
	/* converters.convertIPIPMode: no interface, no IPIP */
	r.ippool.ipip_mode = MODEL_ENCAP_NEVER;
	if (ipip != NULL && *json_string_value(ipip) != '\0') {
		s = mode != NULL ? json_string_value(mode) : "";
		if (strcasecmp(s, "cross-subnet") == 0)
			r.ippool.ipip_mode = MODEL_ENCAP_CROSSSUBNET;
		else if (*s == '\0' || strcasecmp(s, "always") == 0)
			r.ippool.ipip_mode = MODEL_ENCAP_ALWAYS;
		else {
			migrate_v1_msg(c, MIGRATE_ERROR, n->key,
			    "ipip_mode: \"%s\" is neither always nor "
			    "cross-subnet",
			    s);
			resource_clean(&r);
			goto out;
		}
	}
	r.ippool.nat_outgoing = masq != NULL && json_is_true(masq);
	r.ippool.disabled = dis != NULL && json_is_true(dis);
	/* v2.6 blocks are 64 addresses */
	r.ippool.block_size =
	    family == AF_INET ? MODEL_DEFAULT_BLOCK4 : MODEL_DEFAULT_BLOCK6;
	r.ippool.node_selector = xstrdup("all()");
	migrate_v1_add_resource(c, PHASE_POOL, &r, n->key);
	resource_clean(&r);
out:
	json_decref(j);
}

/* ---- cluster ---- */

static void
set_str(char **dst, const struct etcdv2_node *n)
{
	if (!empty(n))
		*dst = xstrndup(n->value, n->value_len);
}

/*
 * migrate.go: ClusterGUID, ClusterType, CalicoVersion.  datastoreReady is
 * true, what it ends as: the migration sets v1's Ready to false before
 * reading (migrate.h, Locking), and holds datastoreReady false in v3 only
 * while writing.  v1's Ready must still be a boolean.
 */
static void
conv_cluster(struct conv *c)
{
	struct resource r;
	char rr[96];

	if (c->ready == NULL && empty(c->guid) && empty(c->ctype) &&
	    empty(c->cversion))
		return;
	resource_init(&r, MODEL_CLUSTERINFO);
	r.meta.name = xstrdup("default");
	set_str(&r.clusterinfo.cluster_guid, c->guid);
	set_str(&r.clusterinfo.cluster_type, c->ctype);
	set_str(&r.clusterinfo.calico_version, c->cversion);
	r.clusterinfo.datastore_ready = MODEL_TRUE;
	if (c->ready != NULL &&
	    !(c->ready->value_len == 4 &&
	        memcmp(c->ready->value, "true", 4) == 0) &&
	    !(c->ready->value_len == 5 &&
	        memcmp(c->ready->value, "false", 5) == 0)) {
		migrate_v1_msg(c, MIGRATE_ERROR, c->ready->key,
		    "expected true or false, got %s",
		    vrepr(c->ready, rr, sizeof(rr)));
		resource_clean(&r);
		return;
	}
	migrate_v1_add_resource(c, PHASE_CLUSTER, &r,
	    c->ready != NULL ? c->ready->key : "/calico/v1/config/");
	resource_clean(&r);
}

/* ---- dispatch ---- */

static void
unknown(struct conv *c, const struct etcdv2_node *n)
{
	migrate_v1_msg(c, MIGRATE_WARNING, n->key, "unknown key: not migrated");
}

static void
key_v1_host(struct conv *c, const struct etcdv2_node *n, struct segs *sg)
{
	const char *const *s = sg->s;
	struct v1host *h = host(c, s[3], n);

	if (sg->n == 5 && eq(s[4], "metadata"))
		h->meta = n;
	else if (sg->n == 5 && eq(s[4], "bird_ip"))
		h->bird4 = n;
	else if (sg->n == 5 && eq(s[4], "bird6_ip"))
		h->bird6 = n;
	else if (sg->n == 5 && eq(s[4], "orchestrator_refs"))
		h->orchrefs = n;
	else if (sg->n == 6 && eq(s[4], "config")) {
		if (eq(s[5], "IpInIpTunnelAddr"))
			h->tunnel = n;
		else
			skip(c, "/calico/v1/host/*/config/",
			    "per-node Felix configuration: not migrated "
			    "(podmesh keeps no FelixConfiguration)");
	} else if (sg->n == 9 && eq(s[4], "workload") && eq(s[7], "endpoint"))
		migrate_wep_convert(c, n, s[3], s[5], s[6], s[8]);
	else if (sg->n >= 5 && eq(s[4], "endpoint"))
		skip(c, "/calico/v1/host/*/endpoint/",
		    "host endpoints: not migrated");
	else
		unknown(c, n);
}

static void
key_v1(struct conv *c, const struct etcdv2_node *n, struct segs *sg)
{
	const char *const *s = sg->s;

	if (sg->n == 3 && eq(s[2], "Ready"))
		c->ready = n;
	else if (sg->n == 4 && eq(s[2], "config")) {
		if (eq(s[3], "ClusterGUID"))
			c->guid = n;
		else if (eq(s[3], "ClusterType"))
			c->ctype = n;
		else if (eq(s[3], "CalicoVersion"))
			c->cversion = n;
		else
			skip(c, "/calico/v1/config/",
			    "Felix configuration: not migrated (podmesh "
			    "keeps no FelixConfiguration)");
	} else if (sg->n >= 5 && eq(s[2], "host"))
		key_v1_host(c, n, sg);
	else if (sg->n == 6 && eq(s[2], "ipam") && eq(s[4], "pool") &&
	    (eq(s[3], "v4") || eq(s[3], "v6")))
		conv_pool(c, n, s[5], eq(s[3], "v4") ? AF_INET : AF_INET6);
	else if (sg->n >= 3 && (eq(s[2], "policy") || eq(s[2], "tier")))
		skip(c, "/calico/v1/policy/",
		    "policy: not migrated (podmesh routes, it does not "
		    "enforce policy)");
	else if (sg->n >= 3 && eq(s[2], "profile"))
		skip(c, "/calico/v1/profile/",
		    "profiles: not migrated (podmesh routes, it does not "
		    "enforce policy)");
	else
		unknown(c, n);
}

static void
key_bgp(struct conv *c, const struct etcdv2_node *n, struct segs *sg)
{
	const char *const *s = sg->s;
	struct v1host *h;

	if (sg->n == 5 && eq(s[3], "global")) {
		if (eq(s[4], "as_num"))
			c->g_asn = n;
		else if (eq(s[4], "node_mesh"))
			c->g_mesh = n;
		else if (eq(s[4], "loglevel"))
			c->g_log = n;
		else
			unknown(c, n);
	} else if (sg->n == 6 && eq(s[3], "global") &&
	    (eq(s[4], "peer_v4") || eq(s[4], "peer_v6")))
		conv_peer(
		    c, n, NULL, s[5], eq(s[4], "peer_v4") ? AF_INET : AF_INET6);
	else if (sg->n >= 5 && eq(s[3], "global") && eq(s[4], "custom_filters"))
		skip(c, "/calico/bgp/v1/global/custom_filters/",
		    "custom BIRD filters: not migrated (Calico v3 dropped "
		    "them)");
	else if (sg->n == 6 && eq(s[3], "host")) {
		h = host(c, s[4], n);
		if (eq(s[5], "ip_addr_v4"))
			h->ip4 = n;
		else if (eq(s[5], "ip_addr_v6"))
			h->ip6 = n;
		else if (eq(s[5], "network_v4"))
			h->net4 = n;
		else if (eq(s[5], "network_v6"))
			h->net6 = n;
		else if (eq(s[5], "as_num"))
			h->asn = n;
		else if (eq(s[5], "loglevel"))
			h->loglevel = n;
		else
			unknown(c, n);
	} else if (sg->n == 7 && eq(s[3], "host") &&
	    (eq(s[5], "peer_v4") || eq(s[5], "peer_v6")))
		conv_peer(
		    c, n, s[4], s[6], eq(s[5], "peer_v4") ? AF_INET : AF_INET6);
	else if (sg->n >= 4 && (eq(s[3], "rr_v4") || eq(s[3], "rr_v6")))
		skip(c,
		    eq(s[3], "rr_v4") ? "/calico/bgp/v1/rr_v4/"
		                      : "/calico/bgp/v1/rr_v6/",
		    "route reflector registrations (calico/routereflector): "
		    "not migrated; in v3 a reflector is a Node with "
		    "routeReflectorClusterID");
	else
		unknown(c, n);
}

static void
key_ipam(struct conv *c, const struct etcdv2_node *n, struct segs *sg)
{
	const char *const *s = sg->s;

	if (sg->n == 7 && eq(s[3], "assignment") && eq(s[5], "block"))
		migrate_ipam_block(c, n, s[4], s[6]);
	else if (sg->n == 8 && eq(s[3], "host") && eq(s[6], "block")) {
		/* after every block: whether its block is there decides */
		c->affs = xreallocarray(c->affs, c->naffs + 1, sizeof(n));
		c->affs[c->naffs++] = n;
	} else if (sg->n == 5 && eq(s[3], "handle"))
		migrate_ipam_handle(c, n, s[4]);
	else if (sg->n == 4 && eq(s[3], "config"))
		migrate_ipam_config(c, n);
	else
		unknown(c, n);
}

static void
key_one(struct conv *c, const struct etcdv2_node *n)
{
	struct segs sg;
	const char *const *s = sg.s;

	if (migrate_v1_split(n->key, &sg) == -1 || sg.n < 3 ||
	    !eq(s[0], "calico")) {
		unknown(c, n);
		return;
	}
	if (eq(s[1], "v1"))
		key_v1(c, n, &sg);
	else if (eq(s[1], "bgp") && eq(s[2], "v1") && sg.n >= 4)
		key_bgp(c, n, &sg);
	else if (eq(s[1], "ipam") && eq(s[2], "v2") && sg.n >= 4)
		key_ipam(c, n, &sg);
	else if (eq(s[1], "felix"))
		skip(c, "/calico/felix/",
		    "Felix status reports: not migrated (Felix writes them "
		    "again)");
	else
		unknown(c, n);
}

/* ---- the plan in order ---- */

static int
item_cmp(const void *a, const void *b)
{
	const struct migrate_item *x = a, *y = b;

	if (x->phase != y->phase)
		return x->phase < y->phase ? -1 : 1;
	return strcmp(x->key, y->key);
}

static int
msg_cmp(const void *a, const void *b)
{
	const struct migrate_msg *x = a, *y = b;
	int d;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	if ((d = strcmp(x->key, y->key)) != 0)
		return d;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void
item_free(struct migrate_item *it)
{
	free(it->key);
	free(it->value);
	free(it->what);
	free(it->source);
	free(it->current);
	free(it->diff);
}

/* two v1 keys that become one v3 key: neither is migrated */
static void
clashes(struct conv *c)
{
	struct migrate_plan *p = c->p;
	size_t i, j, k, out = 0;

	for (i = 0; i < p->nitems; i = j) {
		for (j = i + 1;
		     j < p->nitems && eq(p->items[j].key, p->items[i].key); j++)
			;
		if (j - i == 1) {
			p->items[out++] = p->items[i];
			continue;
		}
		for (k = i; k < j; k++)
			migrate_v1_msg(c, MIGRATE_ERROR, p->items[k].source,
			    "becomes %s, as does %s", p->items[k].what,
			    p->items[k == i ? i + 1 : i].source);
		for (k = i; k < j; k++)
			item_free(&p->items[k]);
	}
	p->nitems = out;
}

size_t
migrate_convert(
    struct migrate_plan *p, const struct etcdv2_node *nodes, size_t n)
{
	struct conv c;
	size_t i;

	memset(&c, 0, sizeof(c));
	c.p = p;
	c.seq = p->nmsgs;
	for (i = 0; i < n; i++) {
		if (nodes[i].dir || nodes[i].key == NULL)
			continue;
		p->nv1++;
		key_one(&c, &nodes[i]);
	}
	conv_bgpconfig(&c);
	for (i = 0; i < c.nhosts; i++)
		conv_node(&c, &c.hosts[i]);
	for (i = 0; i < c.naffs; i++)
		migrate_ipam_affinity(&c, c.affs[i]);
	conv_cluster(&c);

	/* qsort(NULL, 0, ...) is undefined: an empty plan has no array */
	if (p->nitems > 0)
		qsort(p->items, p->nitems, sizeof(*p->items), item_cmp);
	clashes(&c);
	if (p->nmsgs > 0)
		qsort(p->msgs, p->nmsgs, sizeof(*p->msgs), msg_cmp);

	for (i = 0; i < c.nhosts; i++)
		free(c.hosts[i].name);
	free(c.hosts);
	for (i = 0; i < c.nblocks; i++)
		free(c.blocks[i].host);
	free(c.blocks);
	free(c.affs);
	return c.nerrors;
}
