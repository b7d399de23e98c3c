/*
 * podmesh-node's startup, calico/node's (calico.md §6; Calico's
 * node/pkg/lifecycle/startup and pkg/allocateip): the environment read and
 * checked first, then etcd (waited for, with backoff), the Node resource
 * (name, addresses, AS; another node's address refused), the default IP
 * pools, the global BGPConfiguration and ClusterInformation, and the
 * tunnels (tunnel.c), whose addresses are written back to the Node.
 *
 * Every write is a compare-and-swap on what was read (the Node on its
 * mod_revision, the defaults on their absence), and a resource is written
 * only when its encoding differs from the stored one, so running podmesh-node
 * again with nothing changed reads etcd and writes nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sys/random.h>

#include <jansson.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"
#include "lib/xmalloc.h"
#include "node/node.h"
#include "store/etcd.h"
#include "store/ipam.h"
#include "store/model.h"
#include "store/selector.h"

#define STARTUP_POOL4_NAME "default-ipv4-ippool"
#define STARTUP_POOL6_NAME "default-ipv6-ippool"
#define STARTUP_POOL4_CIDR "192.168.0.0/16"
#define STARTUP_POOL6_CIDR "fd80:24e2:f998:72d6::/64" /* calico.md §6 */
#define STARTUP_ETCD_TIMEOUT 60 /* s to wait for etcd at start */
#define STARTUP_CAS_TRIES 10

/* ---- the environment ---- */

static int startup_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
startup_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* the value with blanks around it dropped (in buf); NULL when unset/empty */
static const char *
startup_env(
    startup_getenv_fn *get, void *arg, const char *name, char *buf, size_t len)
{
	const char *v = get(arg, name), *end;

	if (v == NULL)
		return NULL;
	while (isspace((unsigned char)*v))
		v++;
	end = v + strlen(v);
	while (end > v && isspace((unsigned char)end[-1]))
		end--;
	if (end == v)
		return NULL;
	snprintf(buf, len, "%.*s", (int)(end - v), v);
	return buf;
}

static int
startup_bool(startup_getenv_fn *get, void *arg, const char *name, bool def,
    bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = {"true", "1", "yes", "y", "t", "on"};
	static const char *const no[] = {"false", "0", "no", "n", "f", "off"};
	char buf[64];
	const char *v;
	size_t i;

	*out = def;
	if ((v = startup_env(get, arg, name, buf, sizeof(buf))) == NULL)
		return 0;
	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcasecmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	return startup_err(
	    err, errlen, "%s: \"%s\" is not true or false", name, v);
}

/* an unsigned number in [min, max], or def when unset */
static int
startup_uint(startup_getenv_fn *get, void *arg, const char *name,
    unsigned long def, unsigned long min, unsigned long max, unsigned long *out,
    char *err, size_t errlen)
{
	char buf[64], *end;
	const char *v;
	unsigned long n;

	*out = def;
	if ((v = startup_env(get, arg, name, buf, sizeof(buf))) == NULL)
		return 0;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (!isdigit((unsigned char)*v) || *end != '\0' || errno != 0 ||
	    n < min || n > max)
		return startup_err(err, errlen,
		    "%s: \"%s\" is not a number from %lu to %lu", name, v, min,
		    max);
	*out = n;
	return 0;
}

/* Calico's CALICO_IPV4POOL_IPIP / _VXLAN spellings, any case */
static int
startup_encap(startup_getenv_fn *get, void *arg, const char *name,
    const char *what, int *out, char *err, size_t errlen)
{
	char buf[64];
	const char *v;

	*out = MODEL_ENCAP_NEVER;
	if ((v = startup_env(get, arg, name, buf, sizeof(buf))) == NULL)
		return 0; /* empty is Never in v3 */
	if (strcasecmp(v, "never") == 0 || strcasecmp(v, "off") == 0)
		*out = MODEL_ENCAP_NEVER;
	else if (strcasecmp(v, "always") == 0)
		*out = MODEL_ENCAP_ALWAYS;
	else if (strcasecmp(v, "crosssubnet") == 0 ||
	    strcasecmp(v, "cross-subnet") == 0)
		*out = MODEL_ENCAP_CROSSSUBNET;
	else
		return startup_err(err, errlen,
		    "%s: unknown %s mode \"%s\" (Always, CrossSubnet or "
		    "Never)",
		    name, what, v);
	return 0;
}

static int
startup_parse_ip(startup_getenv_fn *get, void *arg, const char *name,
    const char *methodvar, int family, struct startup_ip *ip, char *err,
    size_t errlen)
{
	char buf[256], mbuf[1024];
	const char *v, *m;
	int vers = family == AF_INET ? 4 : 6;

	memset(ip, 0, sizeof(*ip));
	m = startup_env(get, arg, methodvar, mbuf, sizeof(mbuf));
	if ((ip->method = autodetect_parse(methodvar, m, err, errlen)) == NULL)
		return -1;
	if ((v = startup_env(get, arg, name, buf, sizeof(buf))) == NULL)
		ip->mode = STARTUP_IP_UNSET;
	else if (strcmp(v, "autodetect") == 0)
		ip->mode = STARTUP_IP_AUTODETECT;
	else if (strcmp(v, "none") == 0)
		ip->mode = STARTUP_IP_NONE;
	else {
		ip->mode = STARTUP_IP_GIVEN;
		if (strchr(v, '/') != NULL) {
			ip->given_len = true;
			if (model_prefix_parse(v, &ip->given) == -1)
				goto bad;
		} else {
			if (model_addr_parse(v, &ip->given.a) == -1)
				goto bad;
			ip->given.len = (uint8_t)addr_maxlen(family);
		}
		if (ip->given.a.family != family)
			goto bad;
	}
	return 0;
bad:
	autodetect_free(ip->method);
	ip->method = NULL;
	return startup_err(err, errlen,
	    "%s: \"%s\" is not an IPv%d address or address/length (nor "
	    "autodetect or none)",
	    name, v, vers);
}

static int
startup_parse_pool(startup_getenv_fn *get, void *arg, int family,
    struct startup_pool *p, char *err, size_t errlen)
{
	char var[64], buf[1024], why[256];
	const char *v,
	    *pfx = family == AF_INET ? "CALICO_IPV4POOL"
	                             : "CALICO_"
	                               "IPV6POOL";
	struct selector *sel;
	unsigned long bs;
	int vers = family == AF_INET ? 4 : 6;

	memset(p, 0, sizeof(p[0]));
	p->enabled = true;
	snprintf(var, sizeof(var), "%s_CIDR", pfx);
	v = startup_env(get, arg, var, buf, sizeof(buf));
	p->cidr_given = v != NULL;
	if (v != NULL && strcmp(v, "none") == 0)
		p->enabled = false;
	else {
		if (v == NULL)
			v = family == AF_INET ? STARTUP_POOL4_CIDR
			                      : STARTUP_POOL6_CIDR;
		/* Go's ParseCIDR: host bits allowed, then masked */
		if (model_prefix_parse(v, &p->cidr) == -1 ||
		    p->cidr.a.family != family)
			return startup_err(err, errlen,
			    "%s: \"%s\" is not an IPv%d CIDR", var, v, vers);
		prefix_mask(&p->cidr);
	}
	snprintf(var, sizeof(var), "%s_IPIP", pfx);
	if (family == AF_INET &&
	    startup_encap(get, arg, var, "IPIP", &p->ipip, err, errlen) == -1)
		return -1;
	if (family == AF_INET6)
		p->ipip = MODEL_ENCAP_NEVER;
	snprintf(var, sizeof(var), "%s_VXLAN", pfx);
	if (startup_encap(get, arg, var, "VXLAN", &p->vxlan, err, errlen) == -1)
		return -1;
	if (family == AF_INET6 && p->vxlan != MODEL_ENCAP_NEVER)
		return startup_err(err, errlen,
		    "%s: VXLAN is not supported on an IPv6 pool", var);
	if (p->ipip != MODEL_ENCAP_NEVER && p->vxlan != MODEL_ENCAP_NEVER)
		return startup_err(err, errlen,
		    "%s_IPIP and %s_VXLAN cannot both be enabled: a pool "
		    "is IPIP or VXLAN",
		    pfx, pfx);
	snprintf(var, sizeof(var), "%s_NAT_OUTGOING", pfx);
	if (startup_bool(get, arg, var, family == AF_INET, &p->nat_outgoing,
	        err, errlen) == -1)
		return -1;
	snprintf(var, sizeof(var), "%s_DISABLE_BGP_EXPORT", pfx);
	if (startup_bool(get, arg, var, false, &p->disable_bgp_export, err,
	        errlen) == -1)
		return -1;
	snprintf(var, sizeof(var), "%s_BLOCK_SIZE", pfx);
	if (startup_uint(get, arg, var,
	        family == AF_INET ? MODEL_DEFAULT_BLOCK4 : MODEL_DEFAULT_BLOCK6,
	        family == AF_INET ? 20 : 116, family == AF_INET ? 32 : 128, &bs,
	        err, errlen) == -1)
		return -1;
	p->block_size = (uint8_t)bs;
	if (p->enabled && p->block_size < p->cidr.len) {
		prefix_ntop(&p->cidr, why, sizeof(why));
		return startup_err(err, errlen,
		    "%s: /%u blocks do not fit in the pool %s", var,
		    p->block_size, why);
	}
	snprintf(var, sizeof(var), "%s_NODE_SELECTOR", pfx);
	if ((v = startup_env(get, arg, var, buf, sizeof(buf))) != NULL) {
		if ((sel = selector_parse(v, why, sizeof(why))) == NULL)
			return startup_err(
			    err, errlen, "%s: \"%s\": %s", var, v, why);
		selector_free(sel);
		p->node_selector = xstrdup(v);
	}
	return 0;
}

/* a node name from NODENAME or HOSTNAME, checked */
static int
startup_parse_name(startup_getenv_fn *get, void *arg, const char *var,
    bool lower, char **out, char *err, size_t errlen)
{
	char buf[512], *p;
	const char *v;

	*out = NULL;
	if ((v = startup_env(get, arg, var, buf, sizeof(buf))) == NULL)
		return 0;
	if (lower)
		for (p = buf; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	if (!model_name_valid(v))
		return startup_err(err, errlen,
		    "%s: \"%s\" is not a valid node name (lower-case letters, "
		    "digits, '-' and '.', at most %d)",
		    var, v, MODEL_NAME_MAX);
	*out = xstrdup(v);
	return 0;
}

static char *
startup_str(startup_getenv_fn *get, void *arg, const char *name)
{
	char buf[4096];
	const char *v = startup_env(get, arg, name, buf, sizeof(buf));

	return v != NULL ? xstrdup(v) : NULL;
}

static int
startup_parse_rest(struct startup_config *c, startup_getenv_fn *get, void *arg,
    char *err, size_t errlen)
{
	char buf[256];
	const char *v;
	unsigned long n;
	enum log_level lvl;

	if ((v = startup_env(get, arg, "AS", buf, sizeof(buf))) != NULL) {
		if (model_asn_parse(v, &c->asn) == -1 || c->asn == 0)
			return startup_err(err, errlen,
			    "AS: \"%s\" is not an AS number (1 to 4294967295, "
			    "or asdot)",
			    v);
		c->asn_given = true;
	}
	c->etcd_endpoints = startup_str(get, arg, "ETCD_ENDPOINTS");
	c->etcd_ca = startup_str(get, arg, "ETCD_CA_CERT_FILE");
	c->etcd_cert = startup_str(get, arg, "ETCD_CERT_FILE");
	c->etcd_key = startup_str(get, arg, "ETCD_KEY_FILE");
	c->etcd_user = startup_str(get, arg, "ETCD_USERNAME");
	c->etcd_password = startup_str(get, arg, "ETCD_PASSWORD");
	if ((c->etcd_cert == NULL) != (c->etcd_key == NULL))
		return startup_err(err, errlen,
		    "%s: set ETCD_CERT_FILE and ETCD_KEY_FILE together",
		    c->etcd_cert == NULL ? "ETCD_KEY_FILE" : "ETCD_CERT_FILE");
	if (startup_uint(get, arg, "PODMESH_NODE_ETCD_TIMEOUT",
	        STARTUP_ETCD_TIMEOUT, 0, 86400, &n, err, errlen) == -1)
		return -1;
	c->etcd_timeout_ms = (int)n * 1000;
	if (startup_uint(get, arg, "FELIX_IPINIPMTU", NODE_IPIP_MTU, 0, 65535,
	        &n, err, errlen) == -1)
		return -1;
	/* 0 is Felix's "work it out"; the tunnel's own default then */
	c->ipip_mtu = n == 0 ? NODE_IPIP_MTU : (unsigned int)n;
	if (c->ipip_mtu < 68)
		return startup_err(err, errlen,
		    "FELIX_IPINIPMTU: %u is below IPv4's minimum MTU of 68",
		    c->ipip_mtu);
	if (startup_uint(
	        get, arg, "FELIX_VXLANMTU", 0, 0, 65535, &n, err, errlen) == -1)
		return -1;
	if (n != 0 && n < 68)
		return startup_err(err, errlen,
		    "FELIX_VXLANMTU: %lu is below IPv4's minimum MTU of 68", n);
	c->vxlan_mtu = (unsigned int)n;
	if (startup_uint(get, arg, "FELIX_VXLANVNI", NODE_VXLAN_VNI, 1,
	        (1ul << 24) - 1, &n, err, errlen) == -1)
		return -1;
	c->vxlan_vni = (uint32_t)n;
	if (startup_uint(get, arg, "FELIX_VXLANPORT", NODE_VXLAN_PORT, 1, 65535,
	        &n, err, errlen) == -1)
		return -1;
	c->vxlan_port = (uint16_t)n;
	c->cluster_type = startup_str(get, arg, "CLUSTER_TYPE");
	c->log_level = LOG_LVL_INFO;
	if ((v = startup_env(get, arg, "CALICO_STARTUP_LOGLEVEL", buf,
	         sizeof(buf))) != NULL) {
		if (strcasecmp(v, "fatal") == 0 || strcasecmp(v, "panic") == 0)
			lvl = LOG_LVL_ERROR;
		else if (log_level_parse(v, &lvl) == -1)
			return startup_err(err, errlen,
			    "CALICO_STARTUP_LOGLEVEL: \"%s\" is not a level "
			    "(debug, info, warning, error)",
			    v);
		c->log_level = (int)lvl;
	}
	return 0;
}

int
startup_config_parse(struct startup_config *c, startup_getenv_fn *get,
    void *arg, char *err, size_t errlen)
{
	char buf[64];
	const char *v;

	memset(c, 0, sizeof(*c));
	if (startup_parse_name(
	        get, arg, "NODENAME", false, &c->nodename, err, errlen) == -1 ||
	    startup_parse_name(
	        get, arg, "HOSTNAME", true, &c->hostname, err, errlen) == -1)
		goto fail;
	c->nodename_file = startup_str(get, arg, "NODENAME_FILE");
	if (startup_parse_ip(get, arg, "IP", "IP_AUTODETECTION_METHOD", AF_INET,
	        &c->ip4, err, errlen) == -1 ||
	    startup_parse_ip(get, arg, "IP6", "IP6_AUTODETECTION_METHOD",
	        AF_INET6, &c->ip6, err, errlen) == -1)
		goto fail;
	if (startup_parse_rest(c, get, arg, err, errlen) == -1)
		goto fail;
	v = startup_env(get, arg, "NO_DEFAULT_POOLS", buf, sizeof(buf));
	c->no_default_pools = v != NULL && strcasecmp(v, "true") == 0;
	if (startup_bool(get, arg, "FELIX_IPV6SUPPORT", true, &c->ipv6_support,
	        err, errlen) == -1)
		goto fail;
	v = startup_env(get, arg, "DISABLE_NODE_IP_CHECK", buf, sizeof(buf));
	c->disable_ip_check = v != NULL && strcasecmp(v, "true") == 0;
	if (startup_parse_pool(get, arg, AF_INET, &c->pool4, err, errlen) ==
	        -1 ||
	    startup_parse_pool(get, arg, AF_INET6, &c->pool6, err, errlen) ==
	        -1)
		goto fail;
	/* Calico refuses the two together rather than guess */
	if (c->no_default_pools &&
	    (c->pool4.cidr_given || c->pool6.cidr_given)) {
		startup_err(err, errlen,
		    "NO_DEFAULT_POOLS: true, but %s is set too: remove one",
		    c->pool4.cidr_given ? "CALICO_IPV4POOL_CIDR"
		                        : "CALICO_IPV6POOL_CIDR");
		goto fail;
	}
	return 0;
fail:
	startup_config_clean(c);
	return -1;
}

void
startup_config_clean(struct startup_config *c)
{
	free(c->nodename);
	free(c->hostname);
	free(c->nodename_file);
	autodetect_free(c->ip4.method);
	autodetect_free(c->ip6.method);
	free(c->etcd_endpoints);
	free(c->etcd_ca);
	free(c->etcd_cert);
	free(c->etcd_key);
	free(c->etcd_user);
	free(c->etcd_password);
	free(c->pool4.node_selector);
	free(c->pool6.node_selector);
	free(c->cluster_type);
	memset(c, 0, sizeof(*c));
}

/* ---- the run ---- */

struct startup {
	const struct startup_config *c;
	char name[MODEL_NAME_MAX + 2];
	char key[MODEL_NAME_MAX + 96];
	struct etcd *etcd;
	struct nl *nl;
	struct ipam *ipam;
	struct autodetect_iflist ifl;
	bool have_ifl;

	/* the Node as last read */
	bool exists;
	int64_t rev;
	struct resource node;
	json_t *stored;

	/* what this run wants in it */
	struct prefix want4, want6; /* family 0: leave as it is */
	bool tunnels_done;
	struct addr ipip, vxlan; /* family 0: none */
	char vxlan_mac[NL_MAC_STRLEN];

	struct resource *pools; /* every decodable IPPool */
	size_t npools;
	size_t writes;
};

static void
startup_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long
startup_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static char *
startup_uuid(void)
{
	uint8_t b[16];
	char *s;
	size_t i;

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		for (i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)random();
	b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
	b[8] = (b[8] & 0x3f) | 0x80;
	xasprintf(&s,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
	    "%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
	    b[11], b[12], b[13], b[14], b[15]);
	return s;
}

static char *
startup_timestamp(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/* what Calico's client adds on create */
static void
startup_meta_new(struct resource *r, const char *name)
{
	free(r->meta.name);
	r->meta.name = xstrdup(name);
	if (r->meta.uid == NULL)
		r->meta.uid = startup_uuid();
	if (r->meta.creation_timestamp == NULL)
		r->meta.creation_timestamp = startup_timestamp();
}

static char *
startup_dump(const struct resource *r, json_t **jout)
{
	json_t *j = resource_encode(r, MODEL_NO_RV);
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	if (s == NULL)
		fatalx("%s: json_dumps", __func__);
	if (jout != NULL)
		*jout = j;
	else
		json_decref(j);
	return s;
}

/* a stored value into r; -1 with "what: why" */
static int
startup_decode(const struct etcd_kv *kv, enum model_kind kind,
    struct resource *r, char *err, size_t errlen)
{
	json_error_t je;
	json_t *j;
	char why[MODEL_ERRLEN];

	if ((j = json_loadb(kv->value, kv->value_len, 0, &je)) == NULL)
		return startup_err(
		    err, errlen, "%s: not JSON: %s", kv->key, je.text);
	if (resource_decode(j, r, why, sizeof(why)) == -1) {
		json_decref(j);
		return startup_err(err, errlen, "%s: %s", kv->key, why);
	}
	json_decref(j);
	if (r->kind != kind) {
		resource_clean(r);
		return startup_err(err, errlen, "%s: not a %s", kv->key,
		    model_kind(kind)->name);
	}
	return 0;
}

/* ---- etcd ---- */

/*
 * The first request, retried with backoff while etcd cannot be reached (a
 * node often boots before its datastore): 0.25 s doubling to 5 s, until
 * etcd_timeout_ms has passed.
 */
static int
startup_first_get(
    struct startup *s, struct etcd_result *res, char *err, size_t errlen)
{
	const struct etcd_error *e;
	long start = startup_now_ms(), wait = 250, left;
	int tries = 0;

	for (;;) {
		if (etcd_get(s->etcd, s->key, res) == 0) {
			if (tries > 0)
				log_info("etcd %s answers, after %d attempts "
				         "in %.1f s",
				    etcd_endpoint(s->etcd), tries + 1,
				    (startup_now_ms() - start) / 1000.0);
			return 0;
		}
		e = etcd_last_error(s->etcd);
		tries++;
		left = s->c->etcd_timeout_ms - (startup_now_ms() - start);
		if (e->kind == ETCD_E_AUTH)
			return startup_err(err, errlen, "%s", e->msg);
		if (left <= 0)
			return startup_err(err, errlen,
			    "%s; giving up after %.1f s "
			    "(PODMESH_NODE_ETCD_TIMEOUT=%d)",
			    e->msg, (startup_now_ms() - start) / 1000.0,
			    s->c->etcd_timeout_ms / 1000);
		if (wait > left)
			wait = left;
		log_warnx("%s; retrying in %.2f s (%d attempt%s; giving up "
		          "in %.1f s)",
		    e->msg, wait / 1000.0, tries, tries == 1 ? "" : "s",
		    left / 1000.0);
		startup_sleep_ms(wait);
		wait = wait * 2 > 5000 ? 5000 : wait * 2;
	}
}

static void
startup_node_forget(struct startup *s)
{
	if (s->exists)
		resource_clean(&s->node);
	json_decref(s->stored);
	s->stored = NULL;
	s->exists = false;
	s->rev = 0;
}

/* res: the answer to a get of the Node's key */
static int
startup_node_take(
    struct startup *s, struct etcd_result *res, char *err, size_t errlen)
{
	json_error_t je;

	startup_node_forget(s);
	if (res->nkvs == 0)
		return 0;
	if (startup_decode(&res->kvs[0], MODEL_NODE, &s->node, err, errlen) ==
	    -1)
		return -1;
	if ((s->stored = json_loadb(
	         res->kvs[0].value, res->kvs[0].value_len, 0, &je)) == NULL)
		fatalx("%s: %s", __func__, je.text);
	s->exists = true;
	s->rev = res->kvs[0].mod_revision;
	return 0;
}

static int
startup_node_read(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	int rc;

	if (etcd_get(s->etcd, s->key, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	rc = startup_node_take(s, &res, err, errlen);
	etcd_result_clean(&res);
	return rc;
}

/* puts key only if it is still absent; 1 when it was there already */
static int
startup_create(struct startup *s, const char *key, const struct resource *r,
    char *err, size_t errlen)
{
	struct etcd_result res;
	char *val = startup_dump(r, NULL);
	int rc;

	rc = etcd_cas_put(s->etcd, key, val, strlen(val), 0, 0, &res);
	free(val);
	if (rc == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	etcd_result_clean(&res);
	if (rc == 0)
		s->writes++;
	return rc;
}

typedef void startup_edit_fn(struct startup *, struct resource *);

/*
 * Read-modify-write of the Node: edit applied to what was read, written
 * only if the result differs, compared on its mod_revision and done again
 * on what is there now when someone else wrote it first.
 */
static int
startup_node_update(struct startup *s, startup_edit_fn *edit, const char *what,
    char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	json_t *j;
	char *val;
	int tries, rc;

	for (tries = 0; tries < STARTUP_CAS_TRIES; tries++) {
		if (tries > 0 && startup_node_read(s, err, errlen) == -1)
			return -1;
		if (s->exists)
			resource_copy(&r, &s->node);
		else {
			resource_init(&r, MODEL_NODE);
			startup_meta_new(&r, s->name);
		}
		edit(s, &r);
		val = startup_dump(&r, &j);
		if (s->exists && json_equal(j, s->stored)) {
			log_debug(
			    "Node %s: %s: nothing to change", s->name, what);
			json_decref(j);
			free(val);
			resource_clean(&r);
			return 0;
		}
		rc = etcd_cas_put(
		    s->etcd, s->key, val, strlen(val), s->rev, 0, &res);
		free(val);
		if (rc == -1) {
			json_decref(j);
			resource_clean(&r);
			return startup_err(err, errlen, "Node %s: %s: %s",
			    s->name, what, etcd_error(s->etcd));
		}
		if (rc == 0) {
			s->writes++;
			log_info("Node %s: %s: %s", s->name, what,
			    s->exists ? "updated" : "created");
			startup_node_forget(s);
			s->node = r;
			s->stored = j;
			s->exists = true;
			s->rev = res.revision;
			etcd_result_clean(&res);
			return 0;
		}
		log_info(
		    "Node %s changed meanwhile; reading it again", s->name);
		etcd_result_clean(&res);
		json_decref(j);
		resource_clean(&r);
	}
	return startup_err(err, errlen,
	    "Node %s: %s: still changing under us after %d tries", s->name,
	    what, STARTUP_CAS_TRIES);
}

/* ---- the node's name and addresses ---- */

static int
startup_name_file_read(const char *path, char *buf, size_t len)
{
	FILE *f;
	char *p;

	if ((f = fopen(path, "r")) == NULL)
		return -1;
	if (fgets(buf, (int)len, f) == NULL) {
		fclose(f);
		return -1;
	}
	fclose(f);
	for (p = buf + strlen(buf); p > buf && isspace((unsigned char)p[-1]);)
		*--p = '\0';
	return buf[0] != '\0' && model_name_valid(buf) ? 0 : -1;
}

/* NODENAME, the name file, HOSTNAME, gethostname(): Calico's order */
static int
startup_name(struct startup *s, char *err, size_t errlen)
{
	char buf[MODEL_NAME_MAX + 2], *p;
	const struct startup_config *c = s->c;

	if (c->nodename != NULL)
		snprintf(s->name, sizeof(s->name), "%s", c->nodename);
	else if (c->nodename_file != NULL &&
	    startup_name_file_read(c->nodename_file, buf, sizeof(buf)) == 0)
		snprintf(s->name, sizeof(s->name), "%s", buf);
	else if (c->hostname != NULL)
		snprintf(s->name, sizeof(s->name), "%s", c->hostname);
	else {
		if (gethostname(buf, sizeof(buf)) == -1)
			return startup_err(err, errlen,
			    "gethostname: %s (set NODENAME)", strerror(errno));
		buf[sizeof(buf) - 1] = '\0';
		for (p = buf; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
		if (!model_name_valid(buf))
			return startup_err(err, errlen,
			    "the host name \"%s\" is not a valid node name; "
			    "set NODENAME",
			    buf);
		snprintf(s->name, sizeof(s->name), "%s", buf);
	}
	if (model_key(MODEL_NODE, NULL, s->name, s->key, sizeof(s->key)) == -1)
		return startup_err(
		    err, errlen, "node name %s: no key", s->name);
	return 0;
}

static int
startup_ifl(struct startup *s, char *err, size_t errlen)
{
	if (s->have_ifl)
		return 0;
	if (autodetect_iflist_load(s->nl, &s->ifl, err, errlen) == -1)
		return -1;
	s->have_ifl = true;
	return 0;
}

/*
 * One family's address (Calico's configureIPsAndSubnets): want gets the
 * address to record, or family 0 to leave the Node's as it is.
 */
static int
startup_addr(struct startup *s, int family, const struct startup_ip *ip,
    const struct prefix *cur, struct prefix *want, char *err, size_t errlen)
{
	struct autodetect_result res;
	char a[PREFIX_STRLEN], why[NODE_ERRLEN];
	const char *var = family == AF_INET ? "IP" : "IP6";
	bool detect;

	memset(want, 0, sizeof(*want));
	detect = ip->mode == STARTUP_IP_AUTODETECT ||
	    (family == AF_INET && ip->mode == STARTUP_IP_UNSET &&
	        cur->a.family == 0);
	if (detect) {
		if (startup_ifl(s, err, errlen) == -1)
			return -1;
		if (autodetect_run(ip->method, family, &s->ifl, &res, why,
		        sizeof(why)) == -1) {
			if (cur->a.family == 0)
				return startup_err(err, errlen,
				    "%s; set %s to an address or choose "
				    "another method",
				    why, var);
			log_warnx("%s; keeping the Node's %s", why,
			    prefix_ntop(cur, a, sizeof(a)));
			return 0;
		}
		log_info("%s: %s autodetected on %s (%s)", var,
		    prefix_ntop(&res.prefix, a, sizeof(a)), res.ifname,
		    autodetect_text(ip->method));
		*want = res.prefix;
		return 0;
	}
	if (ip->mode != STARTUP_IP_GIVEN)
		return 0;
	*want = ip->given;
	if (startup_ifl(s, err, errlen) == -1)
		return -1;
	if (autodetect_find(&s->ifl, &ip->given.a, &res) == -1)
		log_warnx("%s: %s is on no local interface", var,
		    prefix_ntop(&ip->given, a, sizeof(a)));
	else if (!ip->given_len)
		want->len = res.prefix.len; /* Calico's GetLocalCIDR */
	return 0;
}

static bool
startup_same_addr(const struct prefix *a, const struct prefix *b)
{
	return a->a.family == b->a.family &&
	    (a->a.family == 0 || addr_cmp(&a->a, &b->a) == 0);
}

/* Calico's checkConflictingNodes, over every other Node */
static int
startup_conflicts(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	const struct prefix *mine[2] = {&s->want4, &s->want6}, *theirs[2];
	char prefix[128], why[NODE_ERRLEN], a[ADDR_STRLEN];
	size_t i, k;
	int rc = 0;

	if (model_key_prefix(MODEL_NODE, NULL, prefix, sizeof(prefix)) == -1)
		fatalx("%s: prefix", __func__);
	if (etcd_list(s->etcd, prefix, 0, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	for (i = 0; i < res.nkvs && rc == 0; i++) {
		if (strcmp(res.kvs[i].key, s->key) == 0)
			continue;
		if (startup_decode(
		        &res.kvs[i], MODEL_NODE, &r, why, sizeof(why)) == -1) {
			log_warnx("%s (left out of the address check)", why);
			continue;
		}
		theirs[0] = &r.node.bgp.ipv4_address;
		theirs[1] = &r.node.bgp.ipv6_address;
		for (k = 0; k < 2 && rc == 0; k++)
			if (mine[k]->a.family != 0 && r.node.has_bgp &&
			    theirs[k]->a.family == mine[k]->a.family &&
			    addr_cmp(&theirs[k]->a, &mine[k]->a) == 0)
				rc = startup_err(err, errlen,
				    "IPv%d address %s is already node %s's: "
				    "refusing to register node %s with it "
				    "(DISABLE_NODE_IP_CHECK=true allows it)",
				    k == 0 ? 4 : 6,
				    addr_ntop(&mine[k]->a, a, sizeof(a)),
				    r.meta.name, s->name);
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	return rc;
}

static void
startup_edit_addrs(struct startup *s, struct resource *r)
{
	struct model_node *n = &r->node;

	n->has_bgp = true;
	if (s->want4.a.family != 0)
		n->bgp.ipv4_address = s->want4;
	if (s->want6.a.family != 0)
		n->bgp.ipv6_address = s->want6;
	if (s->c->asn_given)
		n->bgp.asn = s->c->asn;
}

static int
startup_register(struct startup *s, char *err, size_t errlen)
{
	const struct prefix *cur4 = &s->node.node.bgp.ipv4_address;
	const struct prefix *cur6 = &s->node.node.bgp.ipv6_address;
	struct prefix none;
	bool changed;

	memset(&none, 0, sizeof(none));
	if (!s->exists) {
		cur4 = &none;
		cur6 = &none;
	}
	if (startup_addr(
	        s, AF_INET, &s->c->ip4, cur4, &s->want4, err, errlen) == -1 ||
	    startup_addr(
	        s, AF_INET6, &s->c->ip6, cur6, &s->want6, err, errlen) == -1)
		return -1;
	if (s->want4.a.family == 0 && cur4->a.family == 0 &&
	    s->want6.a.family == 0 && cur6->a.family == 0)
		return startup_err(err, errlen,
		    "no IPv4 or IPv6 address configured or detected for node "
		    "%s (IP, IP6)",
		    s->name);
	changed =
	    (s->want4.a.family != 0 && !startup_same_addr(&s->want4, cur4)) ||
	    (s->want6.a.family != 0 && !startup_same_addr(&s->want6, cur6));
	if (changed && !s->c->disable_ip_check &&
	    startup_conflicts(s, err, errlen) == -1)
		return -1;
	return startup_node_update(
	    s, startup_edit_addrs, "addresses and AS", err, errlen);
}

/* ---- pools and global defaults ---- */

static void
startup_pools_free(struct startup *s)
{
	size_t i;

	for (i = 0; i < s->npools; i++)
		resource_clean(&s->pools[i]);
	free(s->pools);
	s->pools = NULL;
	s->npools = 0;
}

static int
startup_pools_load(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	char prefix[128], why[NODE_ERRLEN];
	size_t i;

	startup_pools_free(s);
	if (model_key_prefix(MODEL_IPPOOL, NULL, prefix, sizeof(prefix)) == -1)
		fatalx("%s: prefix", __func__);
	if (etcd_list(s->etcd, prefix, 0, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	s->pools = xcalloc(res.nkvs + 1, sizeof(*s->pools));
	for (i = 0; i < res.nkvs; i++) {
		if (startup_decode(&res.kvs[i], MODEL_IPPOOL,
		        &s->pools[s->npools], why, sizeof(why)) == -1) {
			log_warnx("%s (pool left out)", why);
			continue;
		}
		s->npools++;
	}
	etcd_result_clean(&res);
	return 0;
}

static bool
startup_has_pool(const struct startup *s, int family)
{
	size_t i;

	for (i = 0; i < s->npools; i++)
		if (s->pools[i].ippool.cidr.a.family == family)
			return true;
	return false;
}

static int
startup_pool_create(struct startup *s, int family, char *err, size_t errlen)
{
	const struct startup_pool *p =
	    family == AF_INET ? &s->c->pool4 : &s->c->pool6;
	const char *name =
	    family == AF_INET ? STARTUP_POOL4_NAME : STARTUP_POOL6_NAME;
	struct resource r, chk;
	char key[256], why[MODEL_ERRLEN], c[PREFIX_STRLEN];
	json_t *j;
	int rc;

	resource_init(&r, MODEL_IPPOOL);
	startup_meta_new(&r, name);
	r.ippool.cidr = p->cidr;
	r.ippool.ipip_mode = p->ipip;
	r.ippool.vxlan_mode = p->vxlan;
	r.ippool.nat_outgoing = p->nat_outgoing;
	r.ippool.disable_bgp_export = p->disable_bgp_export;
	r.ippool.block_size = p->block_size;
	r.ippool.node_selector =
	    xstrdup(p->node_selector != NULL ? p->node_selector : "all()");
	/* what Calico's API would refuse, refused before it is written */
	j = resource_encode(&r, MODEL_NO_RV);
	rc = resource_decode(j, &chk, why, sizeof(why));
	json_decref(j);
	if (rc == -1) {
		resource_clean(&r);
		return startup_err(err, errlen,
		    "CALICO_IPV%dPOOL_*: the default pool would not be valid: "
		    "%s",
		    family == AF_INET ? 4 : 6, why);
	}
	resource_clean(&chk);
	if (resource_key(&r, key, sizeof(key)) == -1)
		fatalx("%s: key", __func__);
	rc = startup_create(s, key, &r, err, errlen);
	if (rc == 0)
		log_info("IPPool %s created: %s, ipipMode %s, vxlanMode %s, "
		         "natOutgoing %s, blockSize %u",
		    name, prefix_ntop(&p->cidr, c, sizeof(c)),
		    model_encap_name(p->ipip), model_encap_name(p->vxlan),
		    p->nat_outgoing ? "true" : "false", p->block_size);
	else if (rc == 1)
		log_info("IPPool %s: made by another node meanwhile", name);
	resource_clean(&r);
	return rc == -1 ? -1 : 0;
}

static int
startup_pools(struct startup *s, char *err, size_t errlen)
{
	const struct startup_config *c = s->c;
	bool v6_in_use, made = false;

	if (startup_pools_load(s, err, errlen) == -1)
		return -1;
	if (c->no_default_pools) {
		log_info("NO_DEFAULT_POOLS: no default pool made");
		return 0;
	}
	if (c->pool4.enabled && !startup_has_pool(s, AF_INET)) {
		if (startup_pool_create(s, AF_INET, err, errlen) == -1)
			return -1;
		made = true;
	}
	/* an IPv6 pool only for a cluster that uses IPv6 */
	v6_in_use = c->pool6.cidr_given ||
	    s->node.node.bgp.ipv6_address.a.family == AF_INET6;
	if (c->pool6.enabled && c->ipv6_support && v6_in_use &&
	    !startup_has_pool(s, AF_INET6)) {
		if (startup_pool_create(s, AF_INET6, err, errlen) == -1)
			return -1;
		made = true;
	}
	return made ? startup_pools_load(s, err, errlen) : 0;
}

/* an existing ClusterInformation gains datastoreReady: true if unset */
static int
startup_update_ready(struct startup *s, const char *key,
    const struct etcd_kv *kv, char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	char *val;
	int rc;

	if (startup_decode(kv, MODEL_CLUSTERINFO, &r, err, errlen) == -1)
		return -1;
	if (r.clusterinfo.datastore_ready != MODEL_UNSET) {
		resource_clean(&r);
		return 0;
	}
	r.clusterinfo.datastore_ready = MODEL_TRUE;
	val = startup_dump(&r, NULL);
	resource_clean(&r);
	rc = etcd_cas_put(
	    s->etcd, key, val, strlen(val), kv->mod_revision, 0, &res);
	free(val);
	if (rc == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	etcd_result_clean(&res);
	if (rc == 0) {
		s->writes++;
		log_info("ClusterInformation default: datastoreReady set");
	}
	return 0; /* 1: someone else wrote it meanwhile, and set it */
}

/* the global BGPConfiguration and ClusterInformation, when absent */
static int
startup_defaults(struct startup *s, char *err, size_t errlen)
{
	struct etcd_result res;
	struct resource r;
	char key[256], hex[40];
	uint8_t b[16];
	size_t i;
	int rc;

	if (model_key(MODEL_BGPCONFIG, NULL, "default", key, sizeof(key)) == -1)
		fatalx("%s: key", __func__);
	resource_init(&r, MODEL_BGPCONFIG);
	startup_meta_new(&r, "default");
	rc = startup_create(s, key, &r, err, errlen);
	resource_clean(&r);
	if (rc == -1)
		return -1;
	if (rc == 0)
		log_info("BGPConfiguration default created");

	if (model_key(MODEL_CLUSTERINFO, NULL, "default", key, sizeof(key)) ==
	    -1)
		fatalx("%s: key", __func__);
	if (etcd_get(s->etcd, key, &res) == -1)
		return startup_err(err, errlen, "%s", etcd_error(s->etcd));
	if (res.nkvs > 0) {
		rc = startup_update_ready(s, key, &res.kvs[0], err, errlen);
		etcd_result_clean(&res);
		return rc;
	}
	etcd_result_clean(&res);
	resource_init(&r, MODEL_CLUSTERINFO);
	startup_meta_new(&r, "default");
	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		for (i = 0; i < sizeof(b); i++)
			b[i] = (uint8_t)random();
	for (i = 0; i < sizeof(b); i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	r.clusterinfo.cluster_guid = xstrdup(hex);
	if (s->c->cluster_type != NULL)
		r.clusterinfo.cluster_type = xstrdup(s->c->cluster_type);
	r.clusterinfo.datastore_ready = MODEL_TRUE;
	rc = startup_create(s, key, &r, err, errlen);
	resource_clean(&r);
	if (rc == 0)
		log_info("ClusterInformation default created");
	return rc == -1 ? -1 : 0;
}

/* ---- tunnels ---- */

/* the enabled IPv4 pools of an encapsulation whose selector takes us */
static size_t
startup_encap_pools(struct startup *s, enum tunnel_type t, struct prefix *out)
{
	const struct model_ippool *p;
	struct selector *sel;
	struct labels lv;
	char why[256];
	size_t i, n = 0;
	int mode;

	model_labels_view(&s->node.meta.labels, &lv);
	for (i = 0; i < s->npools; i++) {
		p = &s->pools[i].ippool;
		mode = t == TUNNEL_IPIP ? p->ipip_mode : p->vxlan_mode;
		if (p->disabled || p->cidr.a.family != AF_INET ||
		    mode == MODEL_ENCAP_NEVER || mode == MODEL_ENCAP_UNSET)
			continue;
		sel = selector_parse(
		    p->node_selector != NULL ? p->node_selector : "all()", why,
		    sizeof(why));
		if (sel == NULL) {
			log_warnx("IPPool %s: nodeSelector: %s (pool left out)",
			    s->pools[i].meta.name, why);
			continue;
		}
		if (selector_match(sel, &lv))
			out[n++] = p->cidr;
		selector_free(sel);
	}
	return n;
}

static int
startup_ipam(struct startup *s, char *err, size_t errlen)
{
	if (s->ipam == NULL && (s->ipam = ipam_new(s->etcd, s->name)) == NULL)
		return startup_err(
		    err, errlen, "IPAM: bad host name %s", s->name);
	return 0;
}

static int
startup_ipip(struct startup *s, char *err, size_t errlen)
{
	struct prefix *pools = xcalloc(s->npools + 1, sizeof(*pools));
	size_t n = startup_encap_pools(s, TUNNEL_IPIP, pools);
	bool changed;
	int rc = -1;

	memset(&s->ipip, 0, sizeof(s->ipip));
	if (startup_ipam(s, err, errlen) == -1)
		goto done;
	if (n == 0) {
		if (tunnel_addr_release(s->ipam, TUNNEL_IPIP, s->name, &changed,
		        err, errlen) == -1 ||
		    tunnel_ipip_down(s->nl,
		        &s->node.node.bgp.ipv4_ipip_tunnel_addr, err,
		        errlen) == -1)
			goto done;
		rc = 0;
		goto done;
	}
	if (tunnel_addr_ensure(s->ipam, TUNNEL_IPIP, s->name, pools, n,
	        &s->ipip, &changed, err, errlen) == -1)
		goto done;
	if (changed)
		s->writes++;
	rc = tunnel_ipip_up(s->nl, &s->ipip, s->c->ipip_mtu, err, errlen);
done:
	free(pools);
	return rc;
}

static int
startup_vxlan(struct startup *s, char *err, size_t errlen)
{
	struct prefix *pools = xcalloc(s->npools + 1, sizeof(*pools));
	size_t n = startup_encap_pools(s, TUNNEL_VXLAN, pools);
	const struct model_node *nd = &s->node.node;
	struct tunnel_vxlan tv;
	uint8_t mac[NL_MACLEN];
	bool changed;
	int rc = -1;

	memset(&s->vxlan, 0, sizeof(s->vxlan));
	s->vxlan_mac[0] = '\0';
	if (startup_ipam(s, err, errlen) == -1)
		goto done;
	if (n == 0) {
		if (tunnel_addr_release(s->ipam, TUNNEL_VXLAN, s->name,
		        &changed, err, errlen) == -1 ||
		    tunnel_vxlan_down(s->nl, err, errlen) == -1)
			goto done;
		rc = 0;
		goto done;
	}
	if (nd->bgp.ipv4_address.a.family != AF_INET) {
		startup_err(err, errlen,
		    "a VXLAN pool needs node %s's IPv4 address (IP) for "
		    "%s's local end",
		    s->name, NODE_VXLAN_DEV);
		goto done;
	}
	if (tunnel_addr_ensure(s->ipam, TUNNEL_VXLAN, s->name, pools, n,
	        &s->vxlan, &changed, err, errlen) == -1)
		goto done;
	if (changed)
		s->writes++;
	memset(&tv, 0, sizeof(tv));
	tv.vni = s->c->vxlan_vni;
	tv.port = s->c->vxlan_port;
	tv.local = nd->bgp.ipv4_address.a;
	tv.mtu = s->c->vxlan_mtu;
	if (nd->vxlan_tunnel_mac != NULL &&
	    nl_mac_parse(nd->vxlan_tunnel_mac, tv.mac) == 0)
		tv.has_mac = true;
	if (tunnel_vxlan_up(s->nl, &tv, &s->vxlan, mac, err, errlen) == -1)
		goto done;
	nl_mac_ntop(mac, s->vxlan_mac, sizeof(s->vxlan_mac));
	rc = 0;
done:
	free(pools);
	return rc;
}

static void
startup_edit_tunnels(struct startup *s, struct resource *r)
{
	struct model_node *n = &r->node;

	n->bgp.ipv4_ipip_tunnel_addr = s->ipip;
	n->ipv4_vxlan_tunnel_addr = s->vxlan;
	free(n->vxlan_tunnel_mac);
	n->vxlan_tunnel_mac =
	    s->vxlan_mac[0] != '\0' ? xstrdup(s->vxlan_mac) : NULL;
}

static int
startup_tunnels(struct startup *s, char *err, size_t errlen)
{
	if (startup_ipip(s, err, errlen) == -1 ||
	    startup_vxlan(s, err, errlen) == -1)
		return -1;
	return startup_node_update(
	    s, startup_edit_tunnels, "tunnel addresses", err, errlen);
}

/* the name, for what starts next (Calico's /var/lib/calico/nodename) */
static int
startup_name_file_write(struct startup *s, char *err, size_t errlen)
{
	char buf[MODEL_NAME_MAX + 2], *tmp;
	FILE *f;

	if (s->c->nodename_file == NULL)
		return 0;
	if (startup_name_file_read(s->c->nodename_file, buf, sizeof(buf)) ==
	        0 &&
	    strcmp(buf, s->name) == 0)
		return 0;
	xasprintf(&tmp, "%s.tmp%ld", s->c->nodename_file, (long)getpid());
	if ((f = fopen(tmp, "w")) == NULL || fprintf(f, "%s", s->name) < 0 ||
	    fclose(f) != 0 || rename(tmp, s->c->nodename_file) == -1) {
		startup_err(err, errlen, "NODENAME_FILE: %s: %s",
		    s->c->nodename_file, strerror(errno));
		unlink(tmp);
		free(tmp);
		return -1;
	}
	free(tmp);
	return 0;
}

int
startup_run(const struct startup_config *c, char *err, size_t errlen)
{
	struct startup s;
	struct etcd_config ec;
	struct etcd_error ee;
	struct etcd_result res;
	int rc = -1;

	memset(&s, 0, sizeof(s));
	s.c = c;
	if (startup_name(&s, err, errlen) == -1)
		return -1;
	log_info("node %s: starting", s.name);
	if ((s.nl = nl_open(0, err, errlen)) == NULL)
		return -1;
	memset(&ec, 0, sizeof(ec));
	ec.endpoints = c->etcd_endpoints;
	ec.ca_file = c->etcd_ca;
	ec.cert_file = c->etcd_cert;
	ec.key_file = c->etcd_key;
	ec.username = c->etcd_user;
	ec.password = c->etcd_password;
	ec.connect_timeout_ms = 1000;
	ec.timeout_ms = 10000;
	if ((s.etcd = etcd_new(&ec, &ee)) == NULL) {
		startup_err(err, errlen, "ETCD_ENDPOINTS: %s", ee.msg);
		goto done;
	}
	if (startup_first_get(&s, &res, err, errlen) == -1)
		goto done;
	rc = startup_node_take(&s, &res, err, errlen);
	etcd_result_clean(&res);
	if (rc == -1)
		goto done;
	rc = -1;
	if (startup_register(&s, err, errlen) == -1 ||
	    startup_pools(&s, err, errlen) == -1 ||
	    startup_defaults(&s, err, errlen) == -1 ||
	    startup_tunnels(&s, err, errlen) == -1 ||
	    startup_name_file_write(&s, err, errlen) == -1)
		goto done;
	log_info("node %s: ready (%zu write%s to etcd)", s.name, s.writes,
	    s.writes == 1 ? "" : "s");
	rc = 0;
done:
	startup_pools_free(&s);
	startup_node_forget(&s);
	autodetect_iflist_clean(&s.ifl);
	ipam_free(s.ipam);
	if (s.etcd != NULL)
		etcd_free(s.etcd);
	nl_close(s.nl);
	return rc;
}
