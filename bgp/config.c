/*
 * The podmesh-bgpd YAML configuration (DESIGN.md "Contracts"): loads the file
 * with libyaml's document API and walks the tree with one table of keys per
 * section.  Parsing never stops at the first problem: every error is
 * collected with the line of the offending value, sorted by line and printed
 * as "FILE:LINE: message", so one --check run shows them all (the OpenBGPD
 * parse.y habit).  Also owns the lookups the daemon makes on a loaded
 * config: which peer_config an address belongs to, and whether a peer's
 * configuration changed across a reload.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <stddef.h>

#include <yaml.h>

#include "lib/xmalloc.h"
#include "bgp/config.h"

#ifndef TCP_MD5SIG_MAXKEYLEN
#define TCP_MD5SIG_MAXKEYLEN 80
#endif

#define CFG_FIELD_MAX 96
#define GR_TIME_MAX 4095 /* RFC 4724 §3: 12-bit Restart Time */

struct cfg_err {
	int line;
	size_t seq; /* keeps errors of one line in the order found */
	char *msg;
};

/* parse state for one config_load() */
struct cfg {
	const char *file;
	yaml_document_t doc;
	struct bgpd_config *conf;
	struct cfg_err *errs;
	size_t nerrs;
	bool router_id_seen; /* given, valid or not: no "missing" error */
	bool asn_seen;
	bool asn_set; /* given and valid */
	bool datastore; /* router id and ASN may come from the datastore */
	bool cluster_id_set;
};

/*
 * One known key of a mapping.  Plain values (CFG_BOOL, CFG_U8..CFG_U32) are
 * stored at `off` in the struct cfg_map is given as `fields`; CFG_FUNC keys
 * call `parse` with `arg` (no parse: known, handled elsewhere).
 */
enum cfg_type {
	CFG_FUNC,
	CFG_BOOL,
	CFG_U8,
	CFG_U16,
	CFG_U32,
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	void (*parse)(struct cfg *, const char *, yaml_node_t *, void *);
	size_t off;
	uint32_t min, max;
};

#define CFG_KEY_BOOL(n, st, field)                                             \
	{                                                                      \
		.name = n, .type = CFG_BOOL, .off = offsetof(st, field)        \
	}
#define CFG_KEY_UINT(n, width, st, field, lo, hi)                              \
	{                                                                      \
		.name = n, .type = width, .off = offsetof(st, field),          \
		.min = lo, .max = hi                                           \
	}

static void datastore_config_clean(struct datastore_config *);
static void cfg_error(struct cfg *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static void cfg_map(struct cfg *, yaml_node_t *, const char *,
    const struct cfg_key *, size_t, void *, void *);

static void
cfg_error(struct cfg *cfg, int line, const char *fmt, ...)
{
	struct cfg_err *e;
	va_list ap;

	cfg->errs =
	    xreallocarray(cfg->errs, cfg->nerrs + 1, sizeof(*cfg->errs));
	e = &cfg->errs[cfg->nerrs];
	e->line = line;
	e->seq = cfg->nerrs++;
	va_start(ap, fmt);
	if (vasprintf(&e->msg, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
}

static int
cfg_line(const yaml_node_t *n)
{
	return (int)n->start_mark.line + 1;
}

static int
cfg_err_cmp(const void *a, const void *b)
{
	const struct cfg_err *x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static yaml_node_t *
cfg_node(struct cfg *cfg, int idx)
{
	return yaml_document_get_node(&cfg->doc, idx);
}

/* a plain empty, ~ or null scalar: the key is there without a value */
static bool
cfg_is_null(const yaml_node_t *n)
{
	const char *v = (const char *)n->data.scalar.value;

	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return strcmp(v, "") == 0 || strcmp(v, "~") == 0 ||
	    strcasecmp(v, "null") == 0;
}

static const char *
cfg_scalar(struct cfg *cfg, const char *field, yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected a single value, "
		    "not a %s",
		    field, n->type == YAML_MAPPING_NODE ? "mapping" : "list");
		return NULL;
	}
	if (cfg_is_null(n)) {
		cfg_error(cfg, cfg_line(n), "%s: missing value", field);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

/* decimal only: a leading sign, space or 0x is an error */
static int
cfg_strtou(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
cfg_uint(struct cfg *cfg, const char *field, yaml_node_t *n, uint64_t min,
    uint64_t max, uint64_t *out)
{
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	if (cfg_strtou(s, max, out) == -1 || *out < min) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected a number from %" PRIu64 " to %" PRIu64
		    ", got '%s'",
		    field, min, max, s);
		return -1;
	}
	return 0;
}

static int
cfg_bool(struct cfg *cfg, const char *field, yaml_node_t *n, bool *out)
{
	static const char *const yes[] = {"true", "yes", "on"};
	static const char *const no[] = {"false", "no", "off"};
	const char *s;
	size_t i;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	cfg_error(
	    cfg, cfg_line(n), "%s: expected true or false, got '%s'", field, s);
	return -1;
}

static char *
cfg_string(struct cfg *cfg, const char *field, yaml_node_t *n)
{
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return NULL;
	return xstrdup(s);
}

/* a dotted quad or a 32-bit integer, in host order (router-id, cluster-id) */
static int
cfg_id(struct cfg *cfg, const char *field, yaml_node_t *n, bool intok,
    uint32_t *out)
{
	struct in_addr in;
	uint64_t v;
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	if (inet_pton(AF_INET, s, &in) == 1) {
		*out = ntohl(in.s_addr);
		return 0;
	}
	if (intok && cfg_strtou(s, UINT32_MAX, &v) == 0) {
		*out = v;
		return 0;
	}
	cfg_error(cfg, cfg_line(n), "%s: expected an IPv4 address%s, got '%s'",
	    field, intok ? " or a 32-bit number" : "", s);
	return -1;
}

/* plain ("4200000000") or asdot ("1.10", RFC 5396) */
static int
cfg_asn(struct cfg *cfg, const char *field, yaml_node_t *n, uint32_t *out)
{
	uint64_t hi, lo, v;
	char buf[32], *dot;
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	if (strlen(s) < sizeof(buf) && (dot = strchr(s, '.')) != NULL) {
		strcpy(buf, s);
		buf[dot - s] = '\0';
		if (cfg_strtou(buf, UINT16_MAX, &hi) == 0 &&
		    cfg_strtou(buf + (dot - s) + 1, UINT16_MAX, &lo) == 0 &&
		    (hi << 16 | lo) != 0) {
			*out = hi << 16 | lo;
			return 0;
		}
	} else if (cfg_strtou(s, UINT32_MAX, &v) == 0 && v != 0) {
		*out = v;
		return 0;
	}
	cfg_error(cfg, cfg_line(n),
	    "%s: expected an AS number from 1 to 4294967295, got '%s'", field,
	    s);
	return -1;
}

static int
cfg_addr(struct cfg *cfg, const char *field, yaml_node_t *n, struct addr *out)
{
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	if (addr_parse(s, out) == -1) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected an IPv4 or IPv6 address, got '%s'", field, s);
		return -1;
	}
	return 0;
}

static int
cfg_prefix(
    struct cfg *cfg, const char *field, yaml_node_t *n, struct prefix *out)
{
	char buf[PREFIX_STRLEN];
	struct prefix masked;
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	if (prefix_parse(s, out) == -1) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected a prefix such as 192.0.2.0/24, got '%s'",
		    field, s);
		return -1;
	}
	if (prefix_has_hostbits(out)) {
		masked = *out;
		prefix_mask(&masked);
		cfg_error(cfg, cfg_line(n),
		    "%s: '%s' has host bits set (did you mean %s?)", field, s,
		    prefix_ntop(&masked, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

static int
cfg_holdtime(struct cfg *cfg, const char *field, yaml_node_t *n, uint16_t *out)
{
	const char *s;
	uint64_t v;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return -1;
	/* RFC 4271 §4.2: zero, or at least three seconds */
	if (cfg_strtou(s, UINT16_MAX, &v) == -1 || v == 1 || v == 2) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected 0 or a number from 3 to 65535, got '%s'",
		    field, s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * Walks a mapping: rejects duplicate and unknown keys and calls each known
 * key's parser with the field's full name ("peers[2].asn") for messages.
 */
/* a plain value of a table-driven key, stored into `fields` */
static void
cfg_value(struct cfg *cfg, const char *field, yaml_node_t *n,
    const struct cfg_key *k, void *fields)
{
	uint8_t *p = (uint8_t *)fields + k->off;
	uint64_t v;

	if (k->type == CFG_BOOL) {
		cfg_bool(cfg, field, n, (bool *)p);
		return;
	}
	if (cfg_uint(cfg, field, n, k->min, k->max, &v) == -1)
		return;
	switch (k->type) {
	case CFG_U8:
		*p = v;
		break;
	case CFG_U16:
		*(uint16_t *)p = v;
		break;
	case CFG_U32:
		*(uint32_t *)p = v;
		break;
	default:
		break;
	}
}

static void
cfg_map(struct cfg *cfg, yaml_node_t *map, const char *where,
    const struct cfg_key *keys, size_t nkeys, void *arg, void *fields)
{
	yaml_node_pair_t *pair, *prev;
	yaml_node_t *k, *pk, *v;
	char field[CFG_FIELD_MAX];
	const char *name;
	size_t i;

	for (pair = map->data.mapping.pairs.start;
	     pair < map->data.mapping.pairs.top; pair++) {
		k = cfg_node(cfg, pair->key);
		v = cfg_node(cfg, pair->value);
		if (k->type != YAML_SCALAR_NODE) {
			cfg_error(cfg, cfg_line(k),
			    "keys must be plain words%s%s",
			    *where ? " in " : "", where);
			continue;
		}
		name = (const char *)k->data.scalar.value;
		for (prev = map->data.mapping.pairs.start; prev < pair;
		     prev++) {
			pk = cfg_node(cfg, prev->key);
			if (pk->type == YAML_SCALAR_NODE &&
			    strcmp((char *)pk->data.scalar.value, name) == 0)
				break;
		}
		if (prev < pair) {
			cfg_error(cfg, cfg_line(k),
			    "duplicate key '%s'%s%s (first at line %d)", name,
			    *where ? " in " : "", where, cfg_line(pk));
			continue;
		}
		for (i = 0; i < nkeys; i++)
			if (strcmp(keys[i].name, name) == 0)
				break;
		if (i == nkeys) {
			cfg_error(cfg, cfg_line(k), "unknown key '%s'%s%s",
			    name, *where ? " in " : "", where);
			continue;
		}
		if (snprintf(field, sizeof(field), "%s%s%s", where,
		        *where ? "." : "", name) >= (int)sizeof(field)) {
			cfg_error(cfg, cfg_line(k), "key path too long");
			continue;
		}
		if (keys[i].type != CFG_FUNC)
			cfg_value(cfg, field, v, &keys[i], fields);
		else if (keys[i].parse != NULL)
			keys[i].parse(cfg, field, v, arg);
	}
}

/* a mapping, or null (an empty section) */
static bool
cfg_is_map(struct cfg *cfg, const char *field, yaml_node_t *n)
{
	if (n->type == YAML_MAPPING_NODE)
		return true;
	if (!cfg_is_null(n))
		cfg_error(cfg, cfg_line(n), "%s: expected a mapping", field);
	return false;
}

static bool
cfg_is_seq(struct cfg *cfg, const char *field, yaml_node_t *n)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return true;
	if (!cfg_is_null(n))
		cfg_error(cfg, cfg_line(n), "%s: expected a list", field);
	return false;
}

/* ---- top level ---- */

static void
cfg_router_id(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	cfg->router_id_seen = true;
	if (cfg_id(cfg, field, n, false, &conf->router_id) == 0 &&
	    conf->router_id == 0)
		cfg_error(cfg, cfg_line(n), "%s: must not be 0.0.0.0", field);
}

static void
cfg_global_asn(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	cfg->asn_seen = true;
	if (cfg_asn(cfg, field, n, &conf->asn) == 0)
		cfg->asn_set = true;
}

static void
cfg_listen_address(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	if (cfg_addr(cfg, field, n, &conf->listen_addr) == -1)
		memset(&conf->listen_addr, 0, sizeof(conf->listen_addr));
}

static const struct cfg_key listen_keys[] = {
    {.name = "address", .parse = cfg_listen_address},
    CFG_KEY_UINT(
        "port", CFG_U16, struct bgpd_config, listen_port, 0, UINT16_MAX),
};

static void
cfg_listen(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	if (cfg_is_map(cfg, field, n))
		cfg_map(cfg, n, field, listen_keys,
		    sizeof(listen_keys) / sizeof(listen_keys[0]), arg, arg);
}

static void
cfg_http_address(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct http_config *h = arg;

	cfg_addr(cfg, field, n, &h->addr);
}

static const struct cfg_key http_keys[] = {
    {.name = "address", .parse = cfg_http_address},
    CFG_KEY_UINT("port", CFG_U16, struct http_config, port, 0, UINT16_MAX),
};

/* http: {address, port}: metrics and health; port 0 turns it off */
static void
cfg_http(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	conf->http.set = true;
	if (cfg_is_map(cfg, field, n))
		cfg_map(cfg, n, field, http_keys,
		    sizeof(http_keys) / sizeof(http_keys[0]), &conf->http,
		    &conf->http);
}

static void
cfg_control_socket(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;
	struct sockaddr_un sun;
	char *s;

	if ((s = cfg_string(cfg, field, n)) == NULL)
		return;
	if (strlen(s) >= sizeof(sun.sun_path)) {
		cfg_error(cfg, cfg_line(n), "%s: path longer than %zu bytes",
		    field, sizeof(sun.sun_path) - 1);
		free(s);
		return;
	}
	free(conf->control_socket);
	conf->control_socket = s;
}

static void
cfg_cluster_id(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	if (cfg_id(cfg, field, n, true, &conf->cluster_id) == 0)
		cfg->cluster_id_set = true;
}

static const struct cfg_key rr_keys[] = {
    {.name = "cluster-id", .parse = cfg_cluster_id},
};

static void
cfg_route_reflector(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	/* "route-reflector:" alone, {} or a mapping all mean reflector mode */
	conf->route_reflector = true;
	if (n->type == YAML_SCALAR_NODE && !cfg_is_null(n)) {
		cfg_bool(cfg, field, n, &conf->route_reflector);
		return;
	}
	if (cfg_is_map(cfg, field, n))
		cfg_map(cfg, n, field, rr_keys,
		    sizeof(rr_keys) / sizeof(rr_keys[0]), arg, arg);
}

static void
cfg_originate(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;
	char item[CFG_FIELD_MAX];
	yaml_node_item_t *it;
	struct prefix p;
	size_t i, idx;

	if (!cfg_is_seq(cfg, field, n))
		return;
	idx = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, idx++) {
		yaml_node_t *v = cfg_node(cfg, *it);

		snprintf(item, sizeof(item), "%s[%zu]", field, idx);
		if (cfg_prefix(cfg, item, v, &p) == -1)
			continue;
		for (i = 0; i < conf->noriginate; i++)
			if (prefix_cmp(&conf->originate[i], &p) == 0)
				break;
		if (i < conf->noriginate) {
			cfg_error(cfg, cfg_line(v), "%s: duplicate prefix '%s'",
			    item, (char *)v->data.scalar.value);
			continue;
		}
		conf->originate = xreallocarray(conf->originate,
		    conf->noriginate + 1, sizeof(*conf->originate));
		conf->originate[conf->noriginate++] = p;
	}
}

static void
cfg_global_holdtime(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	cfg_holdtime(cfg, field, n, &conf->holdtime);
}

static const struct cfg_key gr_keys[] = {
    CFG_KEY_UINT(
        "restart-time", CFG_U16, struct bgpd_config, gr_time, 0, GR_TIME_MAX),
};

static void
cfg_global_gr(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	if (cfg_is_map(cfg, field, n))
		cfg_map(cfg, n, field, gr_keys,
		    sizeof(gr_keys) / sizeof(gr_keys[0]), arg, arg);
}

static void
cfg_log_level(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return;
	if (log_level_parse(s, &conf->log_level) == -1)
		cfg_error(cfg, cfg_line(n),
		    "%s: expected debug, info, warning or error, got '%s'",
		    field, s);
}

static void
cfg_node_name(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;
	char *s;

	if ((s = cfg_string(cfg, field, n)) == NULL)
		return;
	if (*s == '\0' || strlen(s) > 253) {
		cfg_error(cfg, cfg_line(n), "%s: expected a node name", field);
		free(s);
		return;
	}
	free(conf->node_name);
	conf->node_name = s;
}

static void
cfg_ds_type(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct datastore_config *ds = arg;
	const char *s;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return;
	if (strcmp(s, "etcdv3") != 0 && strcmp(s, "etcdv2") != 0) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected etcdv3 or etcdv2, got '%s'", field, s);
		return;
	}
	free(ds->type);
	ds->type = xstrdup(s);
}

/* a list of URLs, or one string "http://a:2379,http://b:2379" */
static void
cfg_ds_endpoints(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct datastore_config *ds = arg;
	yaml_node_item_t *it;
	const char *s;
	char *dup, *tok, *save;

	if (n->type == YAML_SCALAR_NODE) {
		if ((s = cfg_scalar(cfg, field, n)) == NULL)
			return;
		dup = xstrdup(s);
		for (tok = strtok_r(dup, ", ", &save); tok != NULL;
		     tok = strtok_r(NULL, ", ", &save)) {
			ds->endpoints = xreallocarray(ds->endpoints,
			    ds->nendpoints + 1, sizeof(*ds->endpoints));
			ds->endpoints[ds->nendpoints++] = xstrdup(tok);
		}
		free(dup);
		return;
	}
	if (!cfg_is_seq(cfg, field, n))
		return;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		if ((s = cfg_scalar(cfg, field, cfg_node(cfg, *it))) == NULL)
			continue;
		ds->endpoints = xreallocarray(
		    ds->endpoints, ds->nendpoints + 1, sizeof(*ds->endpoints));
		ds->endpoints[ds->nendpoints++] = xstrdup(s);
	}
}

static void
cfg_ds_string(struct cfg *cfg, const char *field, yaml_node_t *n, char **out)
{
	char *s;

	if ((s = cfg_string(cfg, field, n)) == NULL)
		return;
	free(*out);
	*out = s;
}

#define CFG_DS_STRING(fn, member)                                              \
	static void fn(                                                        \
	    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)     \
	{                                                                      \
		cfg_ds_string(                                                 \
		    cfg, field, n, &((struct datastore_config *)arg)->member); \
	}
CFG_DS_STRING(cfg_ds_ca, ca_file)
CFG_DS_STRING(cfg_ds_cert, cert_file)
CFG_DS_STRING(cfg_ds_key, key_file)
CFG_DS_STRING(cfg_ds_user, username)
CFG_DS_STRING(cfg_ds_password, password)

static const struct cfg_key ds_keys[] = {
    {.name = "type", .parse = cfg_ds_type},
    {.name = "endpoints", .parse = cfg_ds_endpoints},
    {.name = "ca-file", .parse = cfg_ds_ca},
    {.name = "cert-file", .parse = cfg_ds_cert},
    {.name = "key-file", .parse = cfg_ds_key},
    {.name = "username", .parse = cfg_ds_user},
    {.name = "password", .parse = cfg_ds_password},
};

/* router id and ASN then come from the node's resource */
static void
cfg_datastore(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;
	struct datastore_config *ds = &conf->datastore;

	/* "datastore:" alone means every default */
	if (!cfg_is_map(cfg, field, n) && !cfg_is_null(n))
		return;
	cfg->datastore = true;
	if (n->type == YAML_MAPPING_NODE)
		cfg_map(cfg, n, field, ds_keys,
		    sizeof(ds_keys) / sizeof(ds_keys[0]), ds, ds);
	if (ds->type == NULL)
		ds->type = xstrdup("etcdv3");
	if (ds->nendpoints == 0) {
		ds->endpoints = xcalloc(1, sizeof(*ds->endpoints));
		ds->endpoints[ds->nendpoints++] =
		    xstrdup("http://127.0.0.1:2379");
	}
	if ((ds->cert_file == NULL) != (ds->key_file == NULL))
		cfg_error(cfg, cfg_line(n),
		    "%s: cert-file and key-file go together", field);
}

static const struct cfg_key kernel_keys[] = {
    CFG_KEY_BOOL("enabled", struct kernel_sync_config, enabled),
    CFG_KEY_UINT(
        "protocol", CFG_U8, struct kernel_sync_config, protocol, 5, 255),
    CFG_KEY_UINT(
        "table", CFG_U32, struct kernel_sync_config, table, 1, UINT32_MAX - 1),
    CFG_KEY_UINT("stale-time", CFG_U16, struct kernel_sync_config, stale_time,
        0, UINT16_MAX),
};

static void
cfg_kernel(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;

	if (cfg_is_map(cfg, field, n))
		cfg_map(cfg, n, field, kernel_keys,
		    sizeof(kernel_keys) / sizeof(kernel_keys[0]), NULL,
		    &conf->kernel);
}

/* ---- peers ---- */

struct cfg_peer {
	struct peer_config *pc;
	bool has_addr, has_range, has_asn, has_max_sessions; /* given */
	bool bad; /* a value was invalid (and reported) */
	int max_sessions_line;
	yaml_node_t *local_addr;
};

static void
cfg_peer_address(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;

	cp->has_addr = true;
	if (cfg_addr(cfg, field, n, &cp->pc->addr) == -1)
		cp->bad = true;
}

static void
cfg_peer_range(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;

	cp->has_range = true;
	if (cfg_prefix(cfg, field, n, &cp->pc->range) == -1)
		cp->bad = true;
}

static void
cfg_peer_asn(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;

	/* a bad value is not also reported as missing */
	cp->has_asn = true;
	if (cfg_asn(cfg, field, n, &cp->pc->asn) == -1)
		cp->bad = true;
}

static void
cfg_peer_password(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;
	char *s;

	if ((s = cfg_string(cfg, field, n)) == NULL)
		return;
	/* the kernel's limit for a TCP-MD5 key (RFC 2385) */
	if (strlen(s) > TCP_MD5SIG_MAXKEYLEN) {
		cfg_error(cfg, cfg_line(n), "%s: longer than %d characters",
		    field, TCP_MD5SIG_MAXKEYLEN);
		free(s);
		return;
	}
	free(cp->pc->password);
	cp->pc->password = s;
}

static void
cfg_peer_add_paths(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	static const struct {
		const char *name;
		uint8_t flags;
	} modes[] = {
	    {.name = "off", .flags = 0},
	    {.name = "receive", .flags = ADDPATH_RECV},
	    {.name = "send", .flags = ADDPATH_SEND},
	    {.name = "both", .flags = ADDPATH_RECV | ADDPATH_SEND},
	};
	struct cfg_peer *cp = arg;
	const char *s;
	size_t i;

	if ((s = cfg_scalar(cfg, field, n)) == NULL)
		return;
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		if (strcmp(s, modes[i].name) == 0) {
			cp->pc->add_paths = modes[i].flags;
			return;
		}
	}
	cfg_error(cfg, cfg_line(n),
	    "%s: expected off, receive, send or both, got '%s'", field, s);
}

static void
cfg_peer_families(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;
	bool fam[AID_MAX] = {false};
	char item[CFG_FIELD_MAX];
	yaml_node_item_t *it;
	const char *s;
	size_t idx;
	int aid, bad = 0;

	if (n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.start == n->data.sequence.items.top) {
		cfg_error(cfg, cfg_line(n),
		    "%s: expected a list of ipv4 and/or ipv6", field);
		return;
	}
	idx = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, idx++) {
		yaml_node_t *v = cfg_node(cfg, *it);

		snprintf(item, sizeof(item), "%s[%zu]", field, idx);
		if ((s = cfg_scalar(cfg, item, v)) == NULL) {
			bad = 1;
			continue;
		}
		for (aid = 0; aid < AID_MAX; aid++)
			if (strcmp(s, aid_name(aid)) == 0)
				break;
		if (aid == AID_MAX) {
			cfg_error(cfg, cfg_line(v),
			    "%s: expected ipv4 or ipv6, got '%s'", item, s);
			bad = 1;
			continue;
		}
		fam[aid] = true;
	}
	if (!bad)
		memcpy(cp->pc->families, fam, sizeof(fam));
}

static void
cfg_peer_holdtime(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;

	cfg_holdtime(cfg, field, n, &cp->pc->holdtime);
}

static void
cfg_peer_local_address(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;

	if (cfg_addr(cfg, field, n, &cp->pc->local_addr) == 0)
		cp->local_addr = n;
	else
		memset(&cp->pc->local_addr, 0, sizeof(cp->pc->local_addr));
}

static void
cfg_peer_max_sessions(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;
	uint64_t v;

	cp->has_max_sessions = true;
	cp->max_sessions_line = cfg_line(n);
	if (cfg_uint(cfg, field, n, 1, UINT32_MAX, &v) == 0)
		cp->pc->max_sessions = v;
}

static void
cfg_peer_description(
    struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct cfg_peer *cp = arg;
	char *s;

	if ((s = cfg_string(cfg, field, n)) == NULL)
		return;
	free(cp->pc->description);
	cp->pc->description = s;
}

static const struct cfg_key peer_keys[] = {
    {.name = "address", .parse = cfg_peer_address},
    {.name = "range", .parse = cfg_peer_range},
    {.name = "asn", .parse = cfg_peer_asn},
    CFG_KEY_UINT("port", CFG_U16, struct peer_config, port, 1, UINT16_MAX),
    CFG_KEY_BOOL("passive", struct peer_config, passive),
    CFG_KEY_BOOL("rr-client", struct peer_config, rr_client),
    {.name = "password", .parse = cfg_peer_password},
    {.name = "add-paths", .parse = cfg_peer_add_paths},
    CFG_KEY_UINT("add-paths-send-max", CFG_U16, struct peer_config,
        add_paths_max, 1, UINT16_MAX),
    {.name = "families", .parse = cfg_peer_families},
    {.name = "hold-time", .parse = cfg_peer_holdtime},
    CFG_KEY_UINT("connect-retry", CFG_U16, struct peer_config, connect_retry, 1,
        UINT16_MAX),
    CFG_KEY_UINT("multihop", CFG_U8, struct peer_config, multihop, 1, 255),
    CFG_KEY_BOOL("ttl-security", struct peer_config, ttl_security),
    {.name = "local-address", .parse = cfg_peer_local_address},
    CFG_KEY_BOOL("graceful-restart", struct peer_config, graceful_restart),
    CFG_KEY_BOOL("next-hop-self", struct peer_config, next_hop_self),
    {.name = "max-sessions", .parse = cfg_peer_max_sessions},
    {.name = "description", .parse = cfg_peer_description},
};

struct peer_config *
peer_config_new(const struct bgpd_config *conf, int line)
{
	struct peer_config *pc;
	int aid;

	pc = xcalloc(1, sizeof(*pc));
	pc->line = line;
	pc->port = BGP_PORT;
	for (aid = 0; aid < AID_MAX; aid++)
		pc->families[aid] = true;
	/* per-peer timers inherit the global values */
	pc->holdtime = conf->holdtime;
	pc->connect_retry = conf->connect_retry;
	pc->graceful_restart = true;
	return pc;
}

void
peer_config_free(struct peer_config *pc)
{
	if (pc == NULL)
		return;
	free(pc->password);
	free(pc->description);
	free(pc);
}

/* checks that need the whole peer (and the peers before it) */
static bool
cfg_peer_check(
    struct cfg *cfg, const char *where, yaml_node_t *n, struct cfg_peer *cp)
{
	struct peer_config *pc = cp->pc, *o;
	char buf[PREFIX_STRLEN];
	int line = cfg_line(n);
	bool ok = true;
	int family;

	if (cp->has_addr && cp->has_range) {
		cfg_error(cfg, line,
		    "%s: give either address or range, not both", where);
		return false;
	}
	if (!cp->has_addr && !cp->has_range) {
		cfg_error(cfg, line, "%s: missing address or range", where);
		ok = false;
	}
	if (!cp->has_asn) {
		cfg_error(cfg, line, "%s: missing asn", where);
		ok = false;
	}
	/* the cross checks below need valid values */
	if (!ok || cp->bad)
		return false;
	pc->is_range = cp->has_range;
	family = pc->is_range ? pc->range.a.family : pc->addr.family;
	if (cp->has_max_sessions && !pc->is_range) {
		cfg_error(cfg, cp->max_sessions_line,
		    "%s.max-sessions: only allowed with range", where);
		ok = false;
	} else if (pc->is_range && !cp->has_max_sessions)
		pc->max_sessions = DEFAULT_RANGE_LIMIT;
	if (cp->local_addr != NULL && pc->local_addr.family != family) {
		cfg_error(cfg, cfg_line(cp->local_addr),
		    "%s.local-address: not the same address family as the "
		    "peer",
		    where);
		ok = false;
	}
	if (pc->rr_client && cfg->asn_set && pc->asn != cfg->conf->asn) {
		cfg_error(cfg, line,
		    "%s: rr-client needs an iBGP peer (asn %u, ours is %u)",
		    where, pc->asn, cfg->conf->asn);
		ok = false;
	}
	TAILQ_FOREACH(o, &cfg->conf->peers, entry)
	{
		if (o->is_range != pc->is_range)
			continue;
		if (pc->is_range ? prefix_cmp(&o->range, &pc->range) != 0
		                 : addr_cmp(&o->addr, &pc->addr) != 0)
			continue;
		if (pc->is_range)
			prefix_ntop(&pc->range, buf, sizeof(buf));
		else
			addr_ntop(&pc->addr, buf, sizeof(buf));
		cfg_error(cfg, line, "%s: duplicate %s %s (first at line %d)",
		    where, pc->is_range ? "range" : "peer", buf, o->line);
		ok = false;
		break;
	}
	return ok;
}

static void
cfg_peers(struct cfg *cfg, const char *field, yaml_node_t *n, void *arg)
{
	struct bgpd_config *conf = arg;
	char where[CFG_FIELD_MAX];
	yaml_node_item_t *it;
	struct cfg_peer cp;
	size_t idx;

	if (!cfg_is_seq(cfg, field, n))
		return;
	idx = 0;
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, idx++) {
		yaml_node_t *v = cfg_node(cfg, *it);

		snprintf(where, sizeof(where), "%s[%zu]", field, idx);
		if (v->type != YAML_MAPPING_NODE) {
			cfg_error(
			    cfg, cfg_line(v), "%s: expected a mapping", where);
			continue;
		}
		memset(&cp, 0, sizeof(cp));
		cp.pc = peer_config_new(conf, cfg_line(v));
		cfg_map(cfg, v, where, peer_keys,
		    sizeof(peer_keys) / sizeof(peer_keys[0]), &cp, cp.pc);
		if (cfg_peer_check(cfg, where, v, &cp))
			TAILQ_INSERT_TAIL(&conf->peers, cp.pc, entry);
		else
			peer_config_free(cp.pc);
	}
}

/*
 * Top-level keys.  peers is parsed last (by config_load) so that per-peer
 * timers can inherit global values whatever the order in the file.
 */
static const struct cfg_key top_keys[] = {
    {.name = "router-id", .parse = cfg_router_id},
    {.name = "asn", .parse = cfg_global_asn},
    {.name = "listen", .parse = cfg_listen},
    {.name = "control-socket", .parse = cfg_control_socket},
    {.name = "http", .parse = cfg_http},
    {.name = "route-reflector", .parse = cfg_route_reflector},
    {.name = "originate", .parse = cfg_originate},
    {.name = "hold-time", .parse = cfg_global_holdtime},
    CFG_KEY_UINT("connect-retry", CFG_U16, struct bgpd_config, connect_retry, 1,
        UINT16_MAX),
    {.name = "graceful-restart", .parse = cfg_global_gr},
    {.name = "log-level", .parse = cfg_log_level},
    {.name = "peers", .parse = NULL},
    /* datastore mode: the node integration reads these */
    {.name = "node-name", .parse = cfg_node_name},
    {.name = "datastore", .parse = cfg_datastore},
    {.name = "kernel", .parse = cfg_kernel},
};

static struct bgpd_config *
cfg_defaults(const char *path)
{
	struct bgpd_config *conf;

	conf = xcalloc(1, sizeof(*conf));
	conf->path = xstrdup(path);
	conf->listen_port = BGP_PORT;
	conf->control_socket = xstrdup(DEFAULT_CONTROL_SOCKET);
	if (addr_parse(DEFAULT_HTTP_ADDRESS, &conf->http.addr) == -1)
		fatalx("addr_parse %s", DEFAULT_HTTP_ADDRESS);
	conf->http.port = DEFAULT_HTTP_PORT;
	conf->holdtime = DEFAULT_HOLDTIME;
	conf->connect_retry = DEFAULT_CONNECT_RETRY;
	conf->gr_time = DEFAULT_GR_TIME;
	conf->log_level = LOG_LVL_INFO;
	conf->kernel.protocol = KERNEL_PROTO_DEFAULT;
	conf->kernel.table = KERNEL_TABLE_MAIN;
	conf->kernel.stale_time = KERNEL_STALE_DEFAULT;
	TAILQ_INIT(&conf->peers);
	return conf;
}

static void
cfg_root(struct cfg *cfg, yaml_node_t *root)
{
	struct bgpd_config *conf = cfg->conf;
	yaml_node_pair_t *pair;
	yaml_node_t *k;

	if (root == NULL || cfg_is_null(root)) {
		cfg_error(cfg, 1, "the configuration is empty");
		return;
	}
	if (root->type != YAML_MAPPING_NODE) {
		cfg_error(cfg, cfg_line(root),
		    "expected a mapping of keys at the top level");
		return;
	}
	cfg_map(cfg, root, "", top_keys, sizeof(top_keys) / sizeof(top_keys[0]),
	    conf, conf);
	for (pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		k = cfg_node(cfg, pair->key);
		if (k->type == YAML_SCALAR_NODE &&
		    strcmp((char *)k->data.scalar.value, "peers") == 0) {
			cfg_peers(
			    cfg, "peers", cfg_node(cfg, pair->value), conf);
			break; /* a duplicate was reported by cfg_map */
		}
	}
	/* in datastore mode both come from the node's resource */
	if (!cfg->datastore && !cfg->router_id_seen)
		cfg_error(cfg, cfg_line(root), "missing router-id");
	if (!cfg->datastore && !cfg->asn_seen)
		cfg_error(cfg, cfg_line(root), "missing asn");
	if (conf->route_reflector && !cfg->cluster_id_set)
		conf->cluster_id = conf->router_id;
	if (cfg->datastore && conf->node_name == NULL)
		cfg_error(cfg, cfg_line(root),
		    "datastore: needs node-name (the Node resource to serve)");
}

static char *
cfg_read(const char *path, size_t *lenp)
{
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	for (;;) {
		buf = xrealloc(buf, len + 65536 + 1);
		n = fread(buf + len, 1, 65536, f);
		len += n;
		if (n < 65536)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		errno = EIO;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

/* libyaml reader errors carry only a byte offset */
static int
cfg_offset_line(const char *buf, size_t len, size_t off)
{
	int line = 1;
	size_t i;

	for (i = 0; i < off && i < len; i++)
		if (buf[i] == '\n')
			line++;
	return line;
}

static void
cfg_yaml_error(struct cfg *cfg, yaml_parser_t *p, const char *buf, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		fatalx("%s: libyaml out of memory", cfg->file);
	case YAML_READER_ERROR:
		cfg_error(cfg, cfg_offset_line(buf, len, p->problem_offset),
		    "%s", problem);
		break;
	default:
		if (p->context != NULL)
			cfg_error(cfg, (int)p->problem_mark.line + 1,
			    "%s (%s at line %d)", problem, p->context,
			    (int)p->context_mark.line + 1);
		else
			cfg_error(
			    cfg, (int)p->problem_mark.line + 1, "%s", problem);
		break;
	}
}

static void
cfg_load_yaml(struct cfg *cfg, const char *buf, size_t len)
{
	yaml_document_t extra;
	yaml_parser_t parser;
	yaml_node_t *n;

	if (!yaml_parser_initialize(&parser))
		fatalx("yaml_parser_initialize");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &cfg->doc)) {
		cfg_yaml_error(cfg, &parser, buf, len);
		yaml_parser_delete(&parser);
		return;
	}
	/* a second document is almost certainly a mistake */
	if (!yaml_parser_load(&parser, &extra)) {
		cfg_yaml_error(cfg, &parser, buf, len);
	} else {
		if ((n = yaml_document_get_root_node(&extra)) != NULL)
			cfg_error(cfg, cfg_line(n),
			    "only one YAML document is allowed");
		yaml_document_delete(&extra);
	}
	yaml_parser_delete(&parser);
	cfg_root(cfg, yaml_document_get_root_node(&cfg->doc));
	yaml_document_delete(&cfg->doc);
}

struct bgpd_config *
config_load(const char *path, FILE *errors)
{
	struct cfg cfg;
	size_t i, len;
	char *buf;

	memset(&cfg, 0, sizeof(cfg));
	cfg.file = path;
	if ((buf = cfg_read(path, &len)) == NULL) {
		fprintf(errors, "%s: %s\n", path, strerror(errno));
		return NULL;
	}
	cfg.conf = cfg_defaults(path);
	cfg_load_yaml(&cfg, buf, len);
	free(buf);

	if (cfg.nerrs > 0)
		qsort(cfg.errs, cfg.nerrs, sizeof(*cfg.errs), cfg_err_cmp);
	for (i = 0; i < cfg.nerrs; i++) {
		fprintf(errors, "%s:%d: %s\n", path, cfg.errs[i].line,
		    cfg.errs[i].msg);
		free(cfg.errs[i].msg);
	}
	free(cfg.errs);
	if (cfg.nerrs > 0) {
		config_free(cfg.conf);
		return NULL;
	}
	return cfg.conf;
}

void
config_free(struct bgpd_config *conf)
{
	struct peer_config *pc;

	if (conf == NULL)
		return;
	while ((pc = TAILQ_FIRST(&conf->peers)) != NULL) {
		TAILQ_REMOVE(&conf->peers, pc, entry);
		peer_config_free(pc);
	}
	free(conf->originate);
	free(conf->control_socket);
	free(conf->path);
	free(conf->node_name);
	datastore_config_clean(&conf->datastore);
	free(conf->own_blocks);
	free(conf->lent);
	free(conf);
}

static void
datastore_config_clean(struct datastore_config *ds)
{
	size_t i;

	for (i = 0; i < ds->nendpoints; i++)
		free(ds->endpoints[i]);
	free(ds->endpoints);
	free(ds->type);
	free(ds->ca_file);
	free(ds->cert_file);
	free(ds->key_file);
	free(ds->username);
	free(ds->password);
	memset(ds, 0, sizeof(*ds));
}
