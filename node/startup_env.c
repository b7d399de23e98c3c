/*
 * podmesh-node's environment, calico/node's variables (calico.md §6; see
 * node/main.c's usage for the list): every one read and checked before
 * anything is done, so that a mistake is one clear line and nothing is
 * written.  Calico's spellings are taken as Calico takes them (encapsulation
 * modes in any case, "cross-subnet", Go's boolean words, asdot AS numbers).
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "node/node.h"
#include "store/model.h"
#include "store/selector.h"

#define STARTUP_POOL4_CIDR "192.168.0.0/16"
#define STARTUP_POOL6_CIDR "fd80:24e2:f998:72d6::/64" /* calico.md §6 */
#define STARTUP_ETCD_TIMEOUT 60 /* s to wait for etcd at start */

int
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

static char *
startup_str(startup_getenv_fn *get, void *arg, const char *name)
{
	char buf[4096];
	const char *v = startup_env(get, arg, name, buf, sizeof(buf));

	return v != NULL ? xstrdup(v) : NULL;
}

int
startup_name_err(char *err, size_t errlen, const char *var, const char *v)
{
	return startup_err(err, errlen,
	    "%s: \"%s\" is not a valid node name (lower-case letters, "
	    "digits, '-' and '.', at most %d)",
	    var, v, MODEL_NAME_MAX);
}

/*
 * The node name's variables, as Calico's DetermineNodeName takes them:
 * NODENAME, else NODENAME_FILE's content, else HOSTNAME (lower-cased).
 * HOSTNAME is checked only where it may be the name: not at all beside
 * NODENAME, at startup_run beside NODENAME_FILE (the file may name the
 * node), here otherwise.
 */
static int
startup_parse_names(struct startup_config *c, startup_getenv_fn *get, void *arg,
    char *err, size_t errlen)
{
	char buf[512], *p;
	const char *v;

	if ((v = startup_env(get, arg, "NODENAME", buf, sizeof(buf))) != NULL) {
		if (!model_name_valid(v))
			return startup_name_err(err, errlen, "NODENAME", v);
		c->nodename = xstrdup(v);
	}
	c->nodename_file = startup_str(get, arg, "NODENAME_FILE");
	if ((v = startup_env(get, arg, "HOSTNAME", buf, sizeof(buf))) == NULL)
		return 0;
	for (p = buf; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (model_name_valid(v))
		c->hostname = xstrdup(v);
	else if (c->nodename == NULL && c->nodename_file == NULL)
		return startup_name_err(err, errlen, "HOSTNAME", v);
	else if (c->nodename == NULL)
		c->hostname_bad = xstrdup(v);
	return 0;
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
	if (startup_parse_names(c, get, arg, err, errlen) == -1)
		goto fail;
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
	free(c->hostname_bad);
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
