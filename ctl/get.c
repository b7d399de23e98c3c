/*
 * podmeshctl get KIND [NAME]: Calico v3 resources read from etcd and shown
 * as calicoctl shows them (calico.md §5): an aligned table whose columns
 * are calicoctl's ("ps"), more of them with -o wide, or the resource itself
 * with -o yaml|json in calicoctl's shape: apiVersion, kind, metadata with
 * resourceVersion (etcd's mod_revision of the key) and creationTimestamp,
 * spec.  A NAME prints that resource; without one the result is a
 * <Kind>List whose metadata.resourceVersion is the revision of the listing,
 * which `podmeshctl apply -f` reads back unchanged.
 *
 * A stored value that does not decode (hand-written, or from a newer
 * Calico with a value this model refuses) is still shown, as stored, with
 * a warning: get must never hide what is in the datastore.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"
#include "store/yamljson.h"
#include "ctl/ctl.h"

#define GET_CELL 512

struct get_ctx {
	struct etcd *etcd;
	bool all_ns;
	bool asn_loaded;
	uint32_t global_asn;
};

struct get_col {
	const char *header;
	bool wide_only;
	const char *(*cell)(
	    struct get_ctx *, const struct resource *, char *, size_t);
};

const char *
get_namespace(const struct ctl *ctl)
{
	if (ctl->all_namespaces)
		return NULL;
	return ctl->namespace != NULL ? ctl->namespace : "default";
}

void
get_kinds_help(FILE *out)
{
	const struct model_kind_info *k;
	const char *const *a;
	int i;

	fprintf(
	    out, "Kinds (any case; plural and short names as calicoctl):\n");
	for (i = 0; i < MODEL_NKINDS; i++) {
		k = model_kind(i);
		fprintf(out, "  %-20s", k->name);
		for (a = k->aliases; *a != NULL; a++)
			fprintf(out, "%s%s", a == k->aliases ? "" : ", ", *a);
		fprintf(out, "%s\n", k->namespaced ? "  (namespaced)" : "");
	}
}

/* ---- stored values ---- */

int
get_decode_kv(
    const struct etcd_kv *kv, struct resource *r, char *err, size_t errlen)
{
	char rv[32];
	json_error_t jerr;
	json_t *j;
	int rc;

	resource_init(r, MODEL_NODE);
	if ((j = json_loadb(kv->value, kv->value_len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "%s: not JSON: %s", kv->key, jerr.text);
		return -1;
	}
	rc = resource_decode(j, r, err, errlen);
	json_decref(j);
	if (rc == -1)
		return -1;
	snprintf(rv, sizeof(rv), "%" PRId64, kv->mod_revision);
	free(r->meta.resource_version);
	r->meta.resource_version = xstrdup(rv);
	return 0;
}

/* the resource for -o yaml|json; NULL for a value that is not JSON */
static json_t *
get_kv_json(const struct etcd_kv *kv, struct resource *r, bool *decoded)
{
	char err[MODEL_ERRLEN], rv[32];
	json_t *j, *meta;

	*decoded = false;
	if (get_decode_kv(kv, r, err, sizeof(err)) == 0) {
		*decoded = true;
		return resource_encode(r, 0);
	}
	fprintf(stderr, "podmeshctl: warning: %s: %s; shown as stored\n",
	    kv->key, err);
	if ((j = json_loadb(kv->value, kv->value_len, 0, NULL)) == NULL)
		return NULL;
	if (json_is_object(j) &&
	    json_is_object(meta = json_object_get(j, "metadata"))) {
		snprintf(rv, sizeof(rv), "%" PRId64, kv->mod_revision);
		json_object_set_new(meta, "resourceVersion", json_string(rv));
	}
	return j;
}

/* ---- table cells ---- */

static const char *
cell_name(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->meta.name;
}

static const char *
cell_ns(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->meta.namespace != NULL ? r->meta.namespace : "";
}

static const char *
cell_bool(bool v)
{
	return v ? "true" : "false";
}

static const char *
cell_tri(enum model_tri t)
{
	return t == MODEL_UNSET ? "" : cell_bool(t == MODEL_TRUE);
}

static const char *
cell_asn(uint32_t asn, char *b, size_t n)
{
	if (asn == 0)
		return "";
	snprintf(b, n, "%" PRIu32, asn);
	return b;
}

static const char *
pool_cidr(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return prefix_ntop(&r->ippool.cidr, b, n);
}

static const char *
pool_sel(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->ippool.node_selector != NULL ? r->ippool.node_selector : "";
}

static const char *
pool_nat(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_bool(r->ippool.nat_outgoing);
}

static const char *
pool_ipip(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	const char *s = model_encap_name(r->ippool.ipip_mode);

	return s != NULL ? s : "Never";
}

static const char *
pool_vxlan(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	const char *s = model_encap_name(r->ippool.vxlan_mode);

	return s != NULL ? s : "Never";
}

static const char *
pool_disabled(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_bool(r->ippool.disabled);
}

static const char *
pool_noexport(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_bool(r->ippool.disable_bgp_export);
}

/* the global AS, for nodes without their own: BGPConfiguration default */
static uint32_t
get_global_asn(struct get_ctx *g)
{
	struct etcd_result res;
	struct resource r;
	char key[512], err[MODEL_ERRLEN];

	if (g->asn_loaded)
		return g->global_asn;
	g->asn_loaded = true;
	g->global_asn = MODEL_DEFAULT_ASN;
	if (model_key(MODEL_BGPCONFIG, NULL, "default", key, sizeof(key)) ==
	        -1 ||
	    etcd_get(g->etcd, key, &res) == -1)
		return g->global_asn;
	if (res.nkvs == 1 &&
	    get_decode_kv(&res.kvs[0], &r, err, sizeof(err)) == 0) {
		g->global_asn = model_bgpconfig_asn(&r.bgpconfig);
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	return g->global_asn;
}

/* calicoctl: the node's AS, or the global one in parentheses */
static const char *
node_asn(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	if (!r->node.has_bgp)
		return "";
	if (r->node.bgp.asn != 0)
		snprintf(b, n, "%" PRIu32, r->node.bgp.asn);
	else
		snprintf(b, n, "(%" PRIu32 ")", get_global_asn(g));
	return b;
}

static const char *
node_ipv4(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	if (!r->node.has_bgp || r->node.bgp.ipv4_address.a.family == 0)
		return "";
	return prefix_ntop(&r->node.bgp.ipv4_address, b, n);
}

static const char *
node_ipv6(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	if (!r->node.has_bgp || r->node.bgp.ipv6_address.a.family == 0)
		return "";
	return prefix_ntop(&r->node.bgp.ipv6_address, b, n);
}

static const char *
peer_ip(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	char a[ADDR_STRLEN];

	if (r->bgppeer.peer_ip.family == 0)
		return r->bgppeer.peer_selector != NULL
		    ? r->bgppeer.peer_selector
		    : "";
	addr_ntop(&r->bgppeer.peer_ip, a, sizeof(a));
	if (r->bgppeer.peer_port == 0)
		snprintf(b, n, "%s", a);
	else if (r->bgppeer.peer_ip.family == AF_INET6)
		snprintf(b, n, "[%s]:%u", a, r->bgppeer.peer_port);
	else
		snprintf(b, n, "%s:%u", a, r->bgppeer.peer_port);
	return b;
}

static const char *
peer_node(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	if (r->bgppeer.node != NULL)
		return r->bgppeer.node;
	if (r->bgppeer.node_selector != NULL)
		return r->bgppeer.node_selector;
	return "(global)";
}

static const char *
peer_asn(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_asn(r->bgppeer.asn, b, n);
}

static const char *
bgpc_log(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->bgpconfig.log_severity != NULL ? r->bgpconfig.log_severity
	                                         : "";
}

static const char *
bgpc_mesh(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_tri(r->bgpconfig.node_mesh);
}

static const char *
bgpc_asn(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_asn(r->bgpconfig.asn, b, n);
}

static const char *
wep_workload(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	if (r->wep.pod != NULL)
		return r->wep.pod;
	return r->wep.workload != NULL ? r->wep.workload : "";
}

static const char *
wep_node(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->wep.node != NULL ? r->wep.node : "";
}

static const char *
wep_nets(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	char p[PREFIX_STRLEN];
	size_t i, off = 0;

	b[0] = '\0';
	for (i = 0; i < r->wep.n_ip_networks && off < n; i++)
		off += snprintf(b + off, n - off, "%s%s", i > 0 ? "," : "",
		    prefix_ntop(&r->wep.ip_networks[i], p, sizeof(p)));
	return b;
}

static const char *
wep_iface(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->wep.interface_name != NULL ? r->wep.interface_name : "";
}

static const char *
wep_profiles(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	size_t i, off = 0;

	b[0] = '\0';
	for (i = 0; i < r->wep.n_profiles && off < n; i++)
		off += snprintf(b + off, n - off, "%s%s", i > 0 ? "," : "",
		    r->wep.profiles[i]);
	return b;
}

/* ipNATs live in extra: [{internalIP, externalIP}] */
static const char *
wep_nats(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	json_t *nats = json_object_get(r->wep.extra, "ipNATs"), *v;
	size_t i, off = 0;

	b[0] = '\0';
	json_array_foreach(nats, i, v)
	{
		if (off >= n)
			break;
		off += snprintf(b + off, n - off, "%s%s->%s", i > 0 ? "," : "",
		    json_string_value(json_object_get(v, "internalIP")) ?: "",
		    json_string_value(json_object_get(v, "externalIP")) ?: "");
	}
	return b;
}

static const char *
ci_type(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->clusterinfo.cluster_type ?: "";
}

static const char *
ci_version(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return r->clusterinfo.calico_version ?: "";
}

static const char *
ci_ready(struct get_ctx *g, const struct resource *r, char *b, size_t n)
{
	return cell_tri(r->clusterinfo.datastore_ready);
}

#define COL(h, w, f)                                                           \
	{                                                                      \
		h, w, f                                                        \
	}
#define COLS_END                                                               \
	{                                                                      \
		NULL, false, NULL                                              \
	}

/* calicoctl's columns (calicoctl/resourcemgr/<kind>.go), by kind */
static const struct get_col *const get_columns[MODEL_NKINDS] = {
    [MODEL_NODE] = (const struct get_col[]){COL("NAME", false, cell_name),
        COL("ASN", true, node_asn), COL("IPV4", true, node_ipv4),
        COL("IPV6", true, node_ipv6), COLS_END},
    [MODEL_BGPCONFIG] = (const struct get_col[]){COL("NAME", false, cell_name),
        COL("LOGSEVERITY", false, bgpc_log),
        COL("MESHENABLED", false, bgpc_mesh), COL("ASNUMBER", false, bgpc_asn),
        COLS_END},
    [MODEL_BGPPEER] = (const struct get_col[]){COL("NAME", false, cell_name),
        COL("PEERIP", false, peer_ip), COL("NODE", false, peer_node),
        COL("ASN", false, peer_asn), COLS_END},
    [MODEL_IPPOOL] = (const struct get_col[]){COL("NAME", false, cell_name),
        COL("CIDR", false, pool_cidr), COL("NAT", true, pool_nat),
        COL("IPIPMODE", true, pool_ipip), COL("VXLANMODE", true, pool_vxlan),
        COL("DISABLED", true, pool_disabled),
        COL("DISABLEBGPEXPORT", true, pool_noexport),
        COL("SELECTOR", false, pool_sel), COLS_END},
    [MODEL_WEP] = (const struct get_col[]){COL("NAME", true, cell_name),
        COL("WORKLOAD", false, wep_workload), COL("NODE", false, wep_node),
        COL("NETWORKS", false, wep_nets), COL("INTERFACE", false, wep_iface),
        COL("PROFILES", true, wep_profiles), COL("NATS", true, wep_nats),
        COLS_END},
    [MODEL_CLUSTERINFO] =
        (const struct get_col[]){COL("NAME", false, cell_name),
            COL("CLUSTERTYPE", true, ci_type),
            COL("CALICOVERSION", true, ci_version),
            COL("DATASTOREREADY", true, ci_ready), COLS_END},
};

static void
get_table(struct get_ctx *g, enum model_kind kind, bool wide,
    struct resource *rs, size_t n)
{
	const struct get_col *cols = get_columns[kind], *c;
	const char *hdr[16], *row[16];
	char bufs[16][GET_CELL];
	struct table *t;
	size_t i;
	int nc = 0;

	if (g->all_ns && model_kind(kind)->namespaced)
		hdr[nc++] = "NAMESPACE";
	for (c = cols; c->header != NULL; c++)
		if (wide || !c->wide_only)
			hdr[nc++] = c->header;
	t = table_new(nc, hdr);
	for (i = 0; i < n; i++) {
		nc = 0;
		if (g->all_ns && model_kind(kind)->namespaced)
			row[nc++] = cell_ns(g, &rs[i], NULL, 0);
		for (c = cols; c->header != NULL; c++)
			if (wide || !c->wide_only) {
				row[nc] = c->cell(
				    g, &rs[i], bufs[nc], sizeof(bufs[nc]));
				if (row[nc] == NULL)
					row[nc] = "";
				nc++;
			}
		table_add(t, row);
	}
	table_print(t, stdout);
	table_free(t);
}

static int
get_print_doc(enum ctl_output out, json_t *doc)
{
	char *s;

	if (out == OUTPUT_YAML) {
		s = yamljson_emit(doc, YAMLJSON_SORT_KEYS);
		fputs(s, stdout);
		free(s);
	} else {
		if (json_dumpf(doc, stdout,
		        JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1)
			return -1;
		fputc('\n', stdout);
	}
	return fflush(stdout) == 0 ? 0 : -1;
}

static int
get_one(struct ctl *ctl, struct get_ctx *g, const struct model_kind_info *k,
    const char *ns, const char *name)
{
	struct etcd_result res;
	struct resource r;
	char key[1024];
	bool decoded;
	json_t *doc;
	int rc = 0;

	if (k->namespaced && ns == NULL) {
		fprintf(stderr,
		    "podmeshctl: a %s is namespaced: give -n NAMESPACE with "
		    "its name, not -A\n",
		    k->name);
		return -1;
	}
	if (model_key(k->kind, ns, name, key, sizeof(key)) == -1) {
		fprintf(stderr, "podmeshctl: invalid name \"%s\"\n", name);
		return -1;
	}
	if (etcd_get(g->etcd, key, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(g->etcd));
		return -1;
	}
	if (res.nkvs == 0) {
		fprintf(stderr,
		    "podmeshctl: resource does not exist: %s(%s%s%s)\n",
		    k->name, k->namespaced ? ns : "", k->namespaced ? "/" : "",
		    name);
		etcd_result_clean(&res);
		return -1;
	}
	doc = get_kv_json(&res.kvs[0], &r, &decoded);
	if (ctl->output == OUTPUT_YAML || ctl->output == OUTPUT_JSON) {
		if (doc == NULL || get_print_doc(ctl->output, doc) == -1) {
			fprintf(
			    stderr, "podmeshctl: %s: cannot print it\n", key);
			rc = -1;
		}
	} else if (decoded)
		get_table(g, k->kind, ctl->output == OUTPUT_WIDE, &r, 1);
	else
		rc = -1;
	json_decref(doc);
	if (decoded)
		resource_clean(&r);
	etcd_result_clean(&res);
	return rc;
}

static int
get_list(struct ctl *ctl, struct get_ctx *g, const struct model_kind_info *k,
    const char *ns)
{
	struct etcd_result res;
	struct resource *rs;
	char prefix[1024], rv[32], kns[256], kname[512];
	enum model_kind kk;
	json_t *list, *items, *meta, *doc;
	size_t i, n = 0;
	bool decoded, bad = false;
	int rc = 0;

	if (model_key_prefix(k->kind, ns, prefix, sizeof(prefix)) == -1) {
		fprintf(stderr, "podmeshctl: invalid namespace \"%s\"\n", ns);
		return -1;
	}
	if (etcd_list(g->etcd, prefix, 0, &res) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", etcd_error(g->etcd));
		return -1;
	}
	rs = xcalloc(res.nkvs + 1, sizeof(*rs));
	items = json_array();
	for (i = 0; i < res.nkvs; i++) {
		/* deeper keys under the prefix are not resources of k */
		if (model_key_parse(res.kvs[i].key, &kk, kns, sizeof(kns),
		        kname, sizeof(kname)) == -1 ||
		    kk != k->kind)
			continue;
		doc = get_kv_json(&res.kvs[i], &rs[n], &decoded);
		if (decoded)
			n++;
		else
			bad = true;
		if (doc != NULL)
			json_array_append_new(items, doc);
	}
	if (ctl->output == OUTPUT_YAML || ctl->output == OUTPUT_JSON) {
		list = json_object();
		json_object_set_new(list, "kind", json_string(k->list));
		json_object_set_new(
		    list, "apiVersion", json_string(MODEL_API_VERSION));
		meta = json_object();
		snprintf(rv, sizeof(rv), "%" PRId64, res.revision);
		json_object_set_new(meta, "resourceVersion", json_string(rv));
		json_object_set_new(list, "metadata", meta);
		json_object_set(list, "items", items);
		if (get_print_doc(ctl->output, list) == -1)
			rc = -1;
		json_decref(list);
	} else
		get_table(g, k->kind, ctl->output == OUTPUT_WIDE, rs, n);
	if (bad && ctl->output != OUTPUT_YAML && ctl->output != OUTPUT_JSON)
		fprintf(stderr,
		    "podmeshctl: some stored values did not decode; "
		    "-o yaml shows them\n");
	json_decref(items);
	for (i = 0; i < n; i++)
		resource_clean(&rs[i]);
	free(rs);
	etcd_result_clean(&res);
	return rc;
}

static int
get_exec(struct ctl *ctl, int argc, char **argv)
{
	const struct model_kind_info *k;
	struct get_ctx g;

	if ((k = model_kind_lookup(argv[0])) == NULL) {
		fprintf(stderr,
		    "podmeshctl: unknown resource type '%s'; 'podmeshctl get "
		    "--help' lists the kinds\n",
		    argv[0]);
		return -1;
	}
	if (ctl->namespace != NULL && ctl->all_namespaces) {
		fprintf(stderr, "podmeshctl: -n and -A together: pick one\n");
		return 2;
	}
	memset(&g, 0, sizeof(g));
	if ((g.etcd = ctl_etcd(ctl)) == NULL)
		return -1;
	g.all_ns = ctl->all_namespaces;
	if (argc == 2)
		return get_one(ctl, &g, k,
		    k->namespaced ? get_namespace(ctl) : NULL, argv[1]);
	return get_list(ctl, &g, k, k->namespaced ? get_namespace(ctl) : NULL);
}

const struct ctl_cmd get_cmds[] = {
    {
        .group = "get",
        .name = NULL,
        .args = "KIND [NAME]",
        .help = "show resources of KIND (all of them, or NAME) from "
                "etcd: a table as calicoctl prints it, more columns with "
                "-o wide, or the resources with -o yaml|json (a <Kind>List "
                "without NAME), which apply -f takes back unchanged",
        .minargs = 1,
        .maxargs = 2,
        .opts = CTL_O_CONFIG | CTL_O_NAMESPACE | CTL_O_ALLNS,
        .outputs = CTL_OUT(OUTPUT_TABLE) | CTL_OUT(OUTPUT_WIDE) |
            CTL_OUT(OUTPUT_YAML) | CTL_OUT(OUTPUT_JSON),
        .exec = get_exec,
        .more_help = get_kinds_help,
    },
};

const size_t get_ncmds = sizeof(get_cmds) / sizeof(get_cmds[0]);
