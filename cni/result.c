/*
 * Results as other plugins print them (SPEC.md "Success", types/020,
 * types/040, types/100): the 0.1.0/0.2.0 shape with "ip4"/"ip6" objects
 * and the 0.3.0+ shape with "interfaces", "ips", "routes", "dns", decoded
 * into the version-independent struct cni_result that cni_result_encode()
 * writes.  This is outside input (an IPAM plugin's stdout, a prevResult in
 * our config, a runner's cache): types are checked strictly, every error
 * is code 6 naming the field ("ips[1].address: not a CIDR"), and fields we
 * do not know (1.1.0's socketPath, a route's mtu, ...) are ignored.  A
 * JSON null is an absent field, as with Go's decoder.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cni/cni.h"

/* A field's JSON value; NULL when absent or null. */
static const json_t *
res_get(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return v == NULL || json_is_null(v) ? NULL : v;
}

static int __attribute__((format(printf, 2, 3)))
res_fail(struct cni_error *err, const char *fmt, ...)
{
	va_list ap;

	err->code = CNI_ERR_DECODE;
	err->details[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* An optional string field; *dst stays NULL when absent. */
static int
res_str(const json_t *o, const char *key, const char *path, const char **dst,
    struct cni_error *err)
{
	const json_t *v = res_get(o, key);

	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return res_fail(err, "%s%s: not a string", path, key);
	*dst = json_string_value(v);
	return 0;
}

static int
res_cidr(const json_t *o, const char *key, const char *path, struct prefix *p,
    struct cni_error *err)
{
	const json_t *v = res_get(o, key);

	if (v == NULL)
		return res_fail(err, "%s%s: missing", path, key);
	if (!json_is_string(v))
		return res_fail(err, "%s%s: not a string", path, key);
	if (prefix_parse(json_string_value(v), p) == -1)
		return res_fail(err, "%s%s: not a CIDR: \"%.64s\"", path, key,
		    json_string_value(v));
	return 0;
}

/* An optional IP address; family 0 when absent. */
static int
res_ip(const json_t *o, const char *key, const char *path, struct addr *a,
    struct cni_error *err)
{
	const json_t *v = res_get(o, key);

	memset(a, 0, sizeof(*a));
	if (v == NULL)
		return 0;
	if (!json_is_string(v))
		return res_fail(err, "%s%s: not a string", path, key);
	if (addr_parse(json_string_value(v), a) == -1 || a->scope_id != 0) {
		memset(a, 0, sizeof(*a));
		return res_fail(err, "%s%s: not an IP address: \"%.64s\"", path,
		    key, json_string_value(v));
	}
	return 0;
}

/* An optional array; NULL when absent. */
static int
res_array(const json_t *o, const char *key, const char *path, size_t max,
    const json_t **dst, struct cni_error *err)
{
	const json_t *v = res_get(o, key);

	*dst = NULL;
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return res_fail(err, "%s%s: not an array", path, key);
	if (json_array_size(v) > max)
		return res_fail(
		    err, "%s%s: too many entries (max %zu)", path, key, max);
	*dst = v;
	return 0;
}

static int
res_strs(const json_t *o, const char *key, const char **dst, size_t *n,
    struct cni_error *err)
{
	const json_t *a, *v;
	size_t i;

	/*
	 * resolv.conf takes 3 nameservers and 6 search domains; what does not
	 * fit our arrays is advice we drop, not a reason to refuse a result.
	 */
	if (res_array(o, key, "dns.", SIZE_MAX, &a, err) == -1)
		return -1;
	if (a == NULL)
		return 0;
	json_array_foreach(a, i, v)
	{
		if (!json_is_string(v))
			return res_fail(
			    err, "dns.%s[%zu]: not a string", key, i);
		if (*n < CNI_MAX_DNS)
			dst[(*n)++] = json_string_value(v);
	}
	return 0;
}

static int
res_dns(const json_t *o, struct cni_dns *d, struct cni_error *err)
{
	const json_t *v = res_get(o, "dns");

	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return res_fail(err, "dns: not an object");
	if (res_strs(v, "nameservers", d->nameservers, &d->nnameservers, err) ==
	        -1 ||
	    res_str(v, "domain", "dns.", &d->domain, err) == -1 ||
	    res_strs(v, "search", d->search, &d->nsearch, err) == -1 ||
	    res_strs(v, "options", d->options, &d->noptions, err) == -1)
		return -1;
	return 0;
}

static int
res_routes(const json_t *a, const char *path, struct cni_result *res,
    struct cni_error *err)
{
	const json_t *v;
	char p[64];
	size_t i;

	json_array_foreach(a, i, v)
	{
		struct cni_route *r;

		snprintf(p, sizeof(p), "%.8sroutes[%zu].", path, i);
		if (!json_is_object(v))
			return res_fail(
			    err, "%sroutes[%zu]: not an object", path, i);
		if (res->nroutes == CNI_MAX_ROUTES)
			return res_fail(err,
			    "routes: too many entries (max %d)",
			    CNI_MAX_ROUTES);
		r = &res->routes[res->nroutes];
		if (res_cidr(v, "dst", p, &r->dst, err) == -1 ||
		    res_ip(v, "gw", p, &r->gw, err) == -1)
			return -1;
		res->nroutes++;
	}
	return 0;
}

/* 0.1.0/0.2.0: "ip4" or "ip6": {ip, gateway, routes}. */
static int
res_legacy_ip(const json_t *o, const char *key, int family,
    struct cni_result *res, struct cni_error *err)
{
	const json_t *v = res_get(o, key), *routes;
	struct cni_ip *ip;
	char p[16];

	if (v == NULL)
		return 0;
	if (!json_is_object(v))
		return res_fail(err, "%s: not an object", key);
	snprintf(p, sizeof(p), "%.4s.", key);
	ip = &res->ips[res->nips];
	ip->iface = -1;
	if (res_cidr(v, "ip", p, &ip->address, err) == -1 ||
	    res_ip(v, "gateway", p, &ip->gateway, err) == -1)
		return -1;
	if (ip->address.a.family != family)
		return res_fail(err, "%s.ip: not an IPv%c address", key,
		    family == AF_INET ? '4' : '6');
	if (ip->gateway.family != 0 && ip->gateway.family != family)
		return res_fail(err, "%s.gateway: not an IPv%c address", key,
		    family == AF_INET ? '4' : '6');
	res->nips++;
	if (res_array(v, "routes", p, CNI_MAX_ROUTES, &routes, err) == -1)
		return -1;
	return routes == NULL ? 0 : res_routes(routes, p, res, err);
}

static int
res_ifaces(const json_t *o, struct cni_result *res, struct cni_error *err)
{
	const json_t *a, *v, *mtu;
	char p[48];
	size_t i;

	if (res_array(o, "interfaces", "", CNI_MAX_IFACES, &a, err) == -1)
		return -1;
	if (a == NULL)
		return 0;
	json_array_foreach(a, i, v)
	{
		struct cni_iface *f = &res->ifaces[i];

		snprintf(p, sizeof(p), "interfaces[%zu].", i);
		if (!json_is_object(v))
			return res_fail(
			    err, "interfaces[%zu]: not an object", i);
		if (res_get(v, "name") == NULL)
			return res_fail(err, "%sname: missing", p);
		if (res_str(v, "name", p, &f->name, err) == -1 ||
		    res_str(v, "mac", p, &f->mac, err) == -1 ||
		    res_str(v, "sandbox", p, &f->sandbox, err) == -1)
			return -1;
		if ((mtu = res_get(v, "mtu")) != NULL) {
			if (!json_is_integer(mtu) ||
			    json_integer_value(mtu) < 0 ||
			    json_integer_value(mtu) > 65535)
				return res_fail(
				    err, "%smtu: not an integer in 0-65535", p);
			f->mtu = (int)json_integer_value(mtu);
		}
		res->nifaces++;
	}
	return 0;
}

static int
res_ips(const json_t *o, struct cni_result *res, struct cni_error *err)
{
	const json_t *a, *v, *idx;
	const char *ver;
	char p[48];
	size_t i;

	if (res_array(o, "ips", "", CNI_MAX_IPS, &a, err) == -1)
		return -1;
	if (a == NULL)
		return 0;
	json_array_foreach(a, i, v)
	{
		struct cni_ip *ip = &res->ips[i];

		snprintf(p, sizeof(p), "ips[%zu].", i);
		ip->iface = -1;
		if (!json_is_object(v))
			return res_fail(err, "ips[%zu]: not an object", i);
		if (res_cidr(v, "address", p, &ip->address, err) == -1 ||
		    res_ip(v, "gateway", p, &ip->gateway, err) == -1)
			return -1;
		if (ip->gateway.family != 0 &&
		    ip->gateway.family != ip->address.a.family)
			return res_fail(err,
			    "%sgateway: not the family of "
			    "address",
			    p);
		/* 0.3.x/0.4.0 say the family; it must agree */
		ver = NULL;
		if (res_str(v, "version", p, &ver, err) == -1)
			return -1;
		if (ver != NULL &&
		    !(strcmp(ver, "4") == 0 &&
		        ip->address.a.family == AF_INET) &&
		    !(strcmp(ver, "6") == 0 &&
		        ip->address.a.family == AF_INET6))
			return res_fail(err,
			    "%sversion: \"%.8s\" does not match the address", p,
			    ver);
		if ((idx = res_get(v, "interface")) != NULL) {
			if (!json_is_integer(idx))
				return res_fail(
				    err, "%sinterface: not an integer", p);
			if (json_integer_value(idx) < 0 ||
			    json_integer_value(idx) >= (json_int_t)res->nifaces)
				return res_fail(err,
				    "%sinterface: index %lld out of range "
				    "(%zu interfaces)",
				    p, (long long)json_integer_value(idx),
				    res->nifaces);
			ip->iface = (int)json_integer_value(idx);
		}
		res->nips++;
	}
	return 0;
}

/*
 * The shape follows cniVersion when it names a version we know; an
 * unknown or absent one is read by what the object holds.
 */
static bool
res_is_legacy(const json_t *o, const char *version)
{
	if (version != NULL && cni_version_supported(version))
		return strcmp(version, "0.3.0") < 0;
	return (res_get(o, "ip4") != NULL || res_get(o, "ip6") != NULL) &&
	    res_get(o, "ips") == NULL && res_get(o, "interfaces") == NULL;
}

int
cni_result_decode(
    const json_t *o, struct cni_result *res, struct cni_error *err)
{
	const json_t *routes;
	const char *version = NULL;

	memset(res, 0, sizeof(*res));
	if (o == NULL || !json_is_object(o))
		return res_fail(err, "result: not an object");
	if (res_str(o, "cniVersion", "", &version, err) == -1)
		goto fail;
	if (res_is_legacy(o, version)) {
		if (res_legacy_ip(o, "ip4", AF_INET, res, err) == -1 ||
		    res_legacy_ip(o, "ip6", AF_INET6, res, err) == -1)
			goto fail;
	} else {
		if (res_ifaces(o, res, err) == -1 || res_ips(o, res, err) == -1)
			goto fail;
		if (res_array(o, "routes", "", CNI_MAX_ROUTES, &routes, err) ==
		        -1 ||
		    (routes != NULL && res_routes(routes, "", res, err) == -1))
			goto fail;
	}
	if (res_dns(o, &res->dns, err) == -1)
		goto fail;
	return 0;
fail:
	memset(res, 0, sizeof(*res));
	return -1;
}
