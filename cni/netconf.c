/*
 * CNI input and output without I/O: the network configuration (Calico's
 * NetConf, cni-plugin v1.11 utils/ and release-v3.21 pkg/types), the CNI_*
 * environment and CNI_ARGS (SPEC.md "Parameters", pkg/skel), and the JSON
 * answers: results per requested version (SPEC.md "Result", types/020 and
 * types/040 and types/100), errors and VERSION.
 *
 * Go semantics are kept where Calico's behaviour depends on them: a JSON
 * null is an absent field, unknown fields are ignored, a missing cniVersion
 * is 0.1.0, and Go's encoder key order and omitempty rules are reproduced
 * so that chained plugins and runtimes see what Calico would print.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

const char *const cni_versions[] = {
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0", NULL};

#define CNI_LATEST "1.1.0"

bool
cni_version_supported(const char *v)
{
	size_t i;

	for (i = 0; cni_versions[i] != NULL; i++)
		if (strcmp(v, cni_versions[i]) == 0)
			return true;
	return false;
}

void
cni_error_set(struct cni_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	err->details[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* ---- network configuration ---- */

static int
conf_str(json_t *obj, const char *key, const char *path, char **dst,
    struct cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		cni_error_set(
		    err, CNI_ERR_CONFIG, "%s%s: not a string", path, key);
		return -1;
	}
	free(*dst);
	*dst = xstrdup(json_string_value(v));
	return 0;
}

/* The sub-object "key" or NULL; -1 if it is not an object. */
static int
conf_sub(json_t *obj, const char *key, json_t **dst, struct cni_error *err)
{
	json_t *v = json_object_get(obj, key);

	*dst = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		cni_error_set(err, CNI_ERR_CONFIG, "%s: not an object", key);
		return -1;
	}
	*dst = v;
	return 0;
}

/* An object kept as JSON (prevResult, runtimeConfig, ...). */
static int
conf_obj(json_t *obj, const char *key, json_t **dst, struct cni_error *err)
{
	json_t *v;

	if (conf_sub(obj, key, &v, err) == -1)
		return -1;
	if (v != NULL)
		*dst = json_incref(v);
	return 0;
}

static int
conf_pools(json_t *ipam, const char *key, int family, struct prefix *pools,
    size_t *npools, struct cni_error *err)
{
	json_t *arr = json_object_get(ipam, key), *v;
	size_t i;

	if (arr == NULL || json_is_null(arr))
		return 0;
	if (!json_is_array(arr)) {
		cni_error_set(
		    err, CNI_ERR_CONFIG, "ipam.%s: not an array", key);
		return -1;
	}
	if (json_array_size(arr) > CNI_MAX_POOLS) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "ipam.%s: more than %d pools", key, CNI_MAX_POOLS);
		return -1;
	}
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v)) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "ipam.%s[%zu]: not a string", key, i);
			return -1;
		}
		/* Like Go's net.ParseCIDR: host bits are accepted, masked. */
		if (prefix_parse(json_string_value(v), &pools[i]) == -1 ||
		    pools[i].a.family != family) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "ipam.%s[%zu]: invalid CIDR \"%.64s\"", key, i,
			    json_string_value(v));
			return -1;
		}
		prefix_mask(&pools[i]);
	}
	*npools = json_array_size(arr);
	return 0;
}

/* assign_ipv4/assign_ipv6 are strings in Calico's NetConf. */
static int
conf_assign(
    json_t *ipam, const char *key, bool dflt, bool *dst, struct cni_error *err)
{
	json_t *v = json_object_get(ipam, key);

	*dst = dflt;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		cni_error_set(
		    err, CNI_ERR_CONFIG, "ipam.%s: not a string", key);
		return -1;
	}
	if (dflt)
		*dst = strcmp(json_string_value(v), "false") != 0;
	else
		*dst = strcmp(json_string_value(v), "true") == 0;
	return 0;
}

static int
conf_ipam(json_t *root, struct cni_ipam *ipam, struct cni_error *err)
{
	json_t *o;

	ipam->assign_ipv4 = true;
	if (conf_sub(root, "ipam", &o, err) == -1)
		return -1;
	if (o == NULL)
		return 0;
	if (conf_str(o, "type", "ipam.", &ipam->type, err) == -1 ||
	    conf_str(o, "subnet", "ipam.", &ipam->subnet, err) == -1 ||
	    conf_assign(o, "assign_ipv4", true, &ipam->assign_ipv4, err) ==
	        -1 ||
	    conf_assign(o, "assign_ipv6", false, &ipam->assign_ipv6, err) ==
	        -1 ||
	    conf_pools(o, "ipv4_pools", AF_INET, ipam->ipv4_pools,
	        &ipam->nipv4_pools, err) == -1 ||
	    conf_pools(o, "ipv6_pools", AF_INET6, ipam->ipv6_pools,
	        &ipam->nipv6_pools, err) == -1)
		return -1;
	return 0;
}

static int
conf_policy(json_t *root, struct cni_policy *p, struct cni_error *err)
{
	const char *pf = "policy.";
	json_t *o;

	if (conf_sub(root, "policy", &o, err) == -1)
		return -1;
	if (o == NULL)
		return 0;
	if (conf_str(o, "type", pf, &p->type, err) == -1 ||
	    conf_str(o, "k8s_api_root", pf, &p->k8s_api_root, err) == -1 ||
	    conf_str(o, "k8s_auth_token", pf, &p->k8s_auth_token, err) == -1 ||
	    conf_str(o, "k8s_client_certificate", pf,
	        &p->k8s_client_certificate, err) == -1 ||
	    conf_str(o, "k8s_client_key", pf, &p->k8s_client_key, err) == -1 ||
	    conf_str(o, "k8s_certificate_authority", pf,
	        &p->k8s_certificate_authority, err) == -1)
		return -1;
	return 0;
}

static int
conf_kubernetes(json_t *root, struct cni_kubernetes *k, struct cni_error *err)
{
	const char *pf = "kubernetes.";
	json_t *o;

	if (conf_sub(root, "kubernetes", &o, err) == -1)
		return -1;
	if (o == NULL)
		return 0;
	if (conf_str(o, "kubeconfig", pf, &k->kubeconfig, err) == -1 ||
	    conf_str(o, "k8s_api_root", pf, &k->k8s_api_root, err) == -1 ||
	    conf_str(o, "node_name", pf, &k->node_name, err) == -1)
		return -1;
	return 0;
}

static int
conf_scalars(json_t *root, struct cni_netconf *nc, struct cni_error *err)
{
	static const struct {
		const char *key;
		size_t off;
	} strs[] = {
	    {"name", offsetof(struct cni_netconf, name)},
	    {"type", offsetof(struct cni_netconf, type)},
	    {"nodename", offsetof(struct cni_netconf, nodename)},
	    {"nodename_file", offsetof(struct cni_netconf, nodename_file)},
	    {"hostname", offsetof(struct cni_netconf, hostname)},
	    {"datastore_type", offsetof(struct cni_netconf, datastore_type)},
	    {"etcd_endpoints", offsetof(struct cni_netconf, etcd_endpoints)},
	    {"etcd_key_file", offsetof(struct cni_netconf, etcd_key_file)},
	    {"etcd_cert_file", offsetof(struct cni_netconf, etcd_cert_file)},
	    {"etcd_ca_cert_file",
	        offsetof(struct cni_netconf, etcd_ca_cert_file)},
	    {"log_level", offsetof(struct cni_netconf, log_level)},
	    {"log_file_path", offsetof(struct cni_netconf, log_file_path)},
	    {"ipam_lock_file", offsetof(struct cni_netconf, ipam_lock_file)},
	};
	json_t *v;
	size_t i;

	for (i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		if (conf_str(root, strs[i].key, "",
		        (char **)((char *)nc + strs[i].off), err) == -1)
			return -1;

	v = json_object_get(root, "mtu");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v)) {
			cni_error_set(
			    err, CNI_ERR_CONFIG, "mtu: not an integer");
			return -1;
		}
		/* 0 means "the default"; Calico passes anything else on. */
		if (json_integer_value(v) != 0 &&
		    (json_integer_value(v) < 576 ||
		        json_integer_value(v) > 9000)) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "mtu: %lld out of range 576..9000",
			    (long long)json_integer_value(v));
			return -1;
		}
		nc->mtu = json_integer_value(v);
	}
	v = json_object_get(root, "include_default_routes");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "include_default_routes: not a boolean");
			return -1;
		}
		nc->include_default_routes = json_is_true(v);
	}
	return 0;
}

int
cni_netconf_parse(
    const void *buf, size_t len, struct cni_netconf *nc, struct cni_error *err)
{
	json_error_t jerr;
	json_t *root;

	memset(nc, 0, sizeof(*nc));
	nc->ipam.assign_ipv4 = true;
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		cni_error_set(err, CNI_ERR_DECODE,
		    "decoding network config: %s", jerr.text);
		snprintf(err->details, sizeof(err->details),
		    "line %d column %d", jerr.line, jerr.column);
		return -1;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		cni_error_set(err, CNI_ERR_DECODE,
		    "decoding network config: not a JSON object");
		return -1;
	}
	nc->root = root;
	if (conf_str(root, "cniVersion", "", &nc->cni_version, err) == -1)
		goto fail;
	if (nc->cni_version == NULL || nc->cni_version[0] == '\0') {
		free(nc->cni_version);
		nc->cni_version = xstrdup("0.1.0");
	}
	if (!cni_version_supported(nc->cni_version)) {
		cni_error_set(
		    err, CNI_ERR_INCOMPATIBLE, "incompatible CNI versions");
		snprintf(err->details, sizeof(err->details),
		    "config is \"%.64s\", plugin supports [\"0.1.0\" \"0.2.0\" "
		    "\"0.3.0\" \"0.3.1\" \"0.4.0\" \"1.0.0\" \"1.1.0\"]",
		    nc->cni_version);
		goto fail;
	}
	if (conf_scalars(root, nc, err) == -1 ||
	    conf_ipam(root, &nc->ipam, err) == -1 ||
	    conf_policy(root, &nc->policy, err) == -1 ||
	    conf_kubernetes(root, &nc->kubernetes, err) == -1 ||
	    conf_obj(root, "feature_control", &nc->feature_control, err) ==
	        -1 ||
	    conf_obj(root, "container_settings", &nc->container_settings,
	        err) == -1 ||
	    conf_obj(root, "prevResult", &nc->prev_result, err) == -1 ||
	    conf_obj(root, "runtimeConfig", &nc->runtime_config, err) == -1 ||
	    conf_obj(root, "args", &nc->args, err) == -1)
		goto fail;
	return 0;
fail:
	cni_netconf_clear(nc);
	return -1;
}

void
cni_netconf_clear(struct cni_netconf *nc)
{
	free(nc->name);
	free(nc->cni_version);
	free(nc->type);
	free(nc->nodename);
	free(nc->nodename_file);
	free(nc->hostname);
	free(nc->datastore_type);
	free(nc->etcd_endpoints);
	free(nc->etcd_key_file);
	free(nc->etcd_cert_file);
	free(nc->etcd_ca_cert_file);
	free(nc->log_level);
	free(nc->log_file_path);
	free(nc->ipam_lock_file);
	free(nc->ipam.type);
	free(nc->ipam.subnet);
	free(nc->policy.type);
	free(nc->policy.k8s_api_root);
	free(nc->policy.k8s_auth_token);
	free(nc->policy.k8s_client_certificate);
	free(nc->policy.k8s_client_key);
	free(nc->policy.k8s_certificate_authority);
	free(nc->kubernetes.kubeconfig);
	free(nc->kubernetes.k8s_api_root);
	free(nc->kubernetes.node_name);
	json_decref(nc->feature_control);
	json_decref(nc->container_settings);
	json_decref(nc->prev_result);
	json_decref(nc->runtime_config);
	json_decref(nc->args);
	json_decref(nc->root);
	memset(nc, 0, sizeof(*nc));
}

/* ---- CNI_ARGS and the environment ---- */

static int
args_ips(const char *v, struct cni_args *a, struct cni_error *err)
{
	char buf[2 * ADDR_STRLEN], *tok, *save;

	if (strlen(v) >= sizeof(buf))
		goto bad;
	strcpy(buf, v);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		if (a->nips == CNI_MAX_ARGS_IPS ||
		    addr_parse(tok, &a->ips[a->nips]) == -1 ||
		    a->ips[a->nips].scope_id != 0)
			goto bad;
		a->nips++;
	}
	if (a->nips == 0)
		goto bad;
	return 0;
bad:
	cni_error_set(
	    err, CNI_ERR_ENV, "CNI_ARGS: IP: invalid address \"%.64s\"", v);
	return -1;
}

int
cni_args_parse(const char *s, struct cni_args *a, struct cni_error *err)
{
	const char *p, *end, *eq;
	char *key = NULL, *val = NULL, **dst;

	memset(a, 0, sizeof(*a));
	if (s == NULL || *s == '\0')
		return 0;
	for (p = s;; p = end + 1) {
		end = strchrnul(p, ';');
		eq = memchr(p, '=', end - p);
		if (eq == NULL || eq == p) {
			cni_error_set(err, CNI_ERR_ENV,
			    "CNI_ARGS: invalid pair \"%.*s\"",
			    (int)(end - p > 64 ? 64 : end - p), p);
			goto fail;
		}
		key = xstrndup(p, eq - p);
		val = xstrndup(eq + 1, end - eq - 1);
		dst = NULL;
		if (strcmp(key, "IP") == 0) {
			if (a->nips != 0) {
				cni_error_set(err, CNI_ERR_ENV,
				    "CNI_ARGS: IP given twice");
				goto fail;
			}
			if (args_ips(val, a, err) == -1)
				goto fail;
		} else if (strcmp(key, "K8S_POD_NAMESPACE") == 0)
			dst = &a->k8s_pod_namespace;
		else if (strcmp(key, "K8S_POD_NAME") == 0)
			dst = &a->k8s_pod_name;
		else if (strcmp(key, "K8S_POD_INFRA_CONTAINER_ID") == 0)
			dst = &a->k8s_pod_infra_container_id;
		if (dst != NULL) {
			free(*dst);
			*dst = val;
			val = NULL;
		}
		free(key);
		free(val);
		key = val = NULL;
		if (*end == '\0')
			break;
	}
	return 0;
fail:
	free(key);
	free(val);
	cni_args_clear(a);
	return -1;
}

void
cni_args_clear(struct cni_args *a)
{
	free(a->k8s_pod_namespace);
	free(a->k8s_pod_name);
	free(a->k8s_pod_infra_container_id);
	memset(a, 0, sizeof(*a));
}

static const char *const command_names[] = {
    [CNI_CMD_NONE] = "",
    [CNI_CMD_ADD] = "ADD",
    [CNI_CMD_DEL] = "DEL",
    [CNI_CMD_CHECK] = "CHECK",
    [CNI_CMD_VERSION] = "VERSION",
    [CNI_CMD_STATUS] = "STATUS",
    [CNI_CMD_GC] = "GC",
};

const char *
cni_command_name(enum cni_command c)
{
	return command_names[c];
}

/* Container IDs: an alphanumeric, then [A-Za-z0-9_.-] (libcni). */
static bool
env_valid_id(const char *s)
{
	if (!isalnum((unsigned char)*s))
		return false;
	for (s++; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return false;
	return true;
}

/* Interface names as the kernel and libcni accept them. */
static bool
env_valid_ifname(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (; *s != '\0'; s++)
		if (*s == '/' || *s == ':' || isspace((unsigned char)*s))
			return false;
	return true;
}

static char *
env_get(cni_getenv_fn get, void *arg, const char *name, bool required,
    struct cni_env *env, struct cni_error *err)
{
	const char *v = get(arg, name);

	if (v == NULL || *v == '\0') {
		if (required)
			cni_error_set(err, CNI_ERR_ENV,
			    "%s: required for %s but not set", name,
			    cni_command_name(env->command));
		return NULL;
	}
	return xstrdup(v);
}

/*
 * What each command needs (pkg/skel): ADD and CHECK the container, netns
 * and interface; DEL no netns, since it must succeed once the netns is
 * gone; all three CNI_PATH to reach IPAM; VERSION nothing; STATUS and GC
 * only CNI_PATH.
 */
int
cni_env_parse(
    cni_getenv_fn get, void *arg, struct cni_env *env, struct cni_error *err)
{
	enum cni_command c;
	const char *v;
	bool full, del;

	memset(env, 0, sizeof(*env));
	v = get(arg, "CNI_COMMAND");
	if (v == NULL || *v == '\0') {
		cni_error_set(err, CNI_ERR_ENV, "CNI_COMMAND: not set");
		return -1;
	}
	for (c = CNI_CMD_ADD; c <= CNI_CMD_GC; c++)
		if (strcmp(v, command_names[c]) == 0)
			break;
	if (c > CNI_CMD_GC) {
		cni_error_set(err, CNI_ERR_ENV,
		    "CNI_COMMAND: unknown command \"%.32s\"", v);
		return -1;
	}
	env->command = c;
	if (c == CNI_CMD_VERSION)
		return 0;
	full = c == CNI_CMD_ADD || c == CNI_CMD_CHECK;
	del = c == CNI_CMD_DEL;

	env->container_id =
	    env_get(get, arg, "CNI_CONTAINERID", full || del, env, err);
	if (env->container_id == NULL && (full || del))
		goto fail;
	if (env->container_id != NULL && !env_valid_id(env->container_id)) {
		cni_error_set(err, CNI_ERR_ENV,
		    "CNI_CONTAINERID: invalid container id \"%.64s\"",
		    env->container_id);
		goto fail;
	}
	env->netns = env_get(get, arg, "CNI_NETNS", full, env, err);
	if (env->netns == NULL && full)
		goto fail;
	env->ifname = env_get(get, arg, "CNI_IFNAME", full || del, env, err);
	if (env->ifname == NULL && (full || del))
		goto fail;
	if (env->ifname != NULL && !env_valid_ifname(env->ifname)) {
		cni_error_set(err, CNI_ERR_ENV,
		    "CNI_IFNAME: invalid interface name \"%.32s\"",
		    env->ifname);
		goto fail;
	}
	env->path = env_get(get, arg, "CNI_PATH", true, env, err);
	if (env->path == NULL)
		goto fail;
	if (cni_args_parse(get(arg, "CNI_ARGS"), &env->args, err) == -1)
		goto fail;
	return 0;
fail:
	cni_env_clear(env);
	return -1;
}

void
cni_env_clear(struct cni_env *env)
{
	free(env->container_id);
	free(env->netns);
	free(env->ifname);
	free(env->path);
	cni_args_clear(&env->args);
	memset(env, 0, sizeof(*env));
}

/* ---- answers ---- */

static char *
enc_dump(json_t *o)
{
	char *s;

	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		fatal("cni: json_dumps");
	return s;
}

/*
 * Messages quote input cut at a byte count, which may split a UTF-8
 * sequence, and CNI_ARGS bytes are anything; jansson refuses invalid
 * UTF-8, so such text is sent with the offending bytes as '?'.
 */
static json_t *
enc_text(const char *s)
{
	json_t *j;
	char *c, *p;

	if ((j = json_string(s)) != NULL)
		return j;
	c = xstrdup(s);
	for (p = c; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(c);
	free(c);
	if (j == NULL)
		fatal("cni: json_string");
	return j;
}

static json_t *
enc_addr(const struct addr *a)
{
	char buf[ADDR_STRLEN];

	return enc_text(addr_ntop(a, buf, sizeof(buf)));
}

static json_t *
enc_prefix(const struct prefix *p)
{
	char buf[PREFIX_STRLEN];

	return enc_text(prefix_ntop(p, buf, sizeof(buf)));
}

static json_t *
enc_strs(const char *const *v, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, enc_text(v[i]));
	return a;
}

/* types.DNS: every field omitempty, the object itself always present. */
static json_t *
enc_dns(const struct cni_dns *d)
{
	json_t *o = json_object();

	if (d->nnameservers > 0)
		json_object_set_new(o, "nameservers",
		    enc_strs(d->nameservers, d->nnameservers));
	if (d->domain != NULL)
		json_object_set_new(o, "domain", enc_text(d->domain));
	if (d->nsearch > 0)
		json_object_set_new(
		    o, "search", enc_strs(d->search, d->nsearch));
	if (d->noptions > 0)
		json_object_set_new(
		    o, "options", enc_strs(d->options, d->noptions));
	return o;
}

static json_t *
enc_route(const struct cni_route *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "dst", enc_prefix(&r->dst));
	if (r->gw.family != 0)
		json_object_set_new(o, "gw", enc_addr(&r->gw));
	return o;
}

/* 0.1.0/0.2.0: the first address of a family, with that family's routes. */
static json_t *
enc_ip_legacy(const struct cni_result *res, int family)
{
	json_t *o, *routes;
	size_t i;

	for (i = 0; i < res->nips; i++)
		if (res->ips[i].address.a.family == family)
			break;
	if (i == res->nips)
		return NULL;
	o = json_object();
	json_object_set_new(o, "ip", enc_prefix(&res->ips[i].address));
	if (res->ips[i].gateway.family != 0)
		json_object_set_new(
		    o, "gateway", enc_addr(&res->ips[i].gateway));
	routes = json_array();
	for (i = 0; i < res->nroutes; i++)
		if (res->routes[i].dst.a.family == family)
			json_array_append_new(
			    routes, enc_route(&res->routes[i]));
	if (json_array_size(routes) > 0)
		json_object_set_new(o, "routes", routes);
	else
		json_decref(routes);
	return o;
}

static int
enc_check(const struct cni_result *res, struct cni_error *err)
{
	size_t i;

	if (res->nifaces > CNI_MAX_IFACES || res->nips > CNI_MAX_IPS ||
	    res->nroutes > CNI_MAX_ROUTES ||
	    res->dns.nnameservers > CNI_MAX_DNS ||
	    res->dns.nsearch > CNI_MAX_DNS || res->dns.noptions > CNI_MAX_DNS) {
		cni_error_set(
		    err, CNI_ERR_INTERNAL, "result: too many entries");
		return -1;
	}
	for (i = 0; i < res->nifaces; i++)
		if (res->ifaces[i].name == NULL) {
			cni_error_set(err, CNI_ERR_INTERNAL,
			    "result: interfaces[%zu] has no name", i);
			return -1;
		}
	for (i = 0; i < res->nips; i++)
		if (res->ips[i].iface < -1 ||
		    res->ips[i].iface >= (int)res->nifaces) {
			cni_error_set(err, CNI_ERR_INTERNAL,
			    "result: ips[%zu].interface %d out of range", i,
			    res->ips[i].iface);
			return -1;
		}
	return 0;
}

/*
 * The result in the requested version's format; NULL and err if the
 * version is unknown.  Key order and omissions follow Go's encoder.
 */
char *
cni_result_encode(
    const struct cni_result *res, const char *version, struct cni_error *err)
{
	json_t *o, *a, *e;
	bool legacy, with_version, v11;
	size_t i;

	if (version == NULL || !cni_version_supported(version)) {
		cni_error_set(
		    err, CNI_ERR_INCOMPATIBLE, "incompatible CNI versions");
		snprintf(err->details, sizeof(err->details),
		    "cannot encode a result as version \"%.64s\"",
		    version == NULL ? "" : version);
		return NULL;
	}
	if (enc_check(res, err) == -1)
		return NULL;
	legacy = strcmp(version, "0.3.0") < 0;
	with_version = !legacy && strcmp(version, "1.0.0") < 0;
	v11 = strcmp(version, "1.1.0") >= 0;

	o = json_object();
	json_object_set_new(o, "cniVersion", enc_text(version));
	if (legacy) {
		if ((e = enc_ip_legacy(res, AF_INET)) != NULL)
			json_object_set_new(o, "ip4", e);
		if ((e = enc_ip_legacy(res, AF_INET6)) != NULL)
			json_object_set_new(o, "ip6", e);
		json_object_set_new(o, "dns", enc_dns(&res->dns));
		return enc_dump(o);
	}
	if (res->nifaces > 0) {
		a = json_array();
		for (i = 0; i < res->nifaces; i++) {
			const struct cni_iface *f = &res->ifaces[i];

			e = json_object();
			json_object_set_new(e, "name", enc_text(f->name));
			if (f->mac != NULL && *f->mac != '\0')
				json_object_set_new(e, "mac", enc_text(f->mac));
			if (v11 && f->mtu > 0)
				json_object_set_new(
				    e, "mtu", json_integer(f->mtu));
			if (f->sandbox != NULL && *f->sandbox != '\0')
				json_object_set_new(
				    e, "sandbox", enc_text(f->sandbox));
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "interfaces", a);
	}
	if (res->nips > 0) {
		a = json_array();
		for (i = 0; i < res->nips; i++) {
			const struct cni_ip *ip = &res->ips[i];

			e = json_object();
			if (with_version)
				json_object_set_new(e, "version",
				    enc_text(ip->address.a.family == AF_INET6
				            ? "6"
				            : "4"));
			if (ip->iface >= 0)
				json_object_set_new(
				    e, "interface", json_integer(ip->iface));
			json_object_set_new(
			    e, "address", enc_prefix(&ip->address));
			if (ip->gateway.family != 0)
				json_object_set_new(
				    e, "gateway", enc_addr(&ip->gateway));
			json_array_append_new(a, e);
		}
		json_object_set_new(o, "ips", a);
	}
	if (res->nroutes > 0) {
		a = json_array();
		for (i = 0; i < res->nroutes; i++)
			json_array_append_new(a, enc_route(&res->routes[i]));
		json_object_set_new(o, "routes", a);
	}
	json_object_set_new(o, "dns", enc_dns(&res->dns));
	return enc_dump(o);
}

/*
 * The error object on stdout.  cniVersion is the config's when known and
 * supported, else the newest we speak.
 */
char *
cni_error_encode(const struct cni_error *err, const char *version)
{
	json_t *o = json_object();

	if (version == NULL || !cni_version_supported(version))
		version = CNI_LATEST;
	json_object_set_new(o, "cniVersion", enc_text(version));
	json_object_set_new(o, "code", json_integer(err->code));
	json_object_set_new(o, "msg", enc_text(err->msg));
	if (err->details[0] != '\0')
		json_object_set_new(o, "details", enc_text(err->details));
	return enc_dump(o);
}

/* VERSION: the requested version echoed when we speak it. */
char *
cni_version_encode(const char *version)
{
	json_t *o = json_object();

	if (version == NULL || !cni_version_supported(version))
		version = CNI_LATEST;
	json_object_set_new(o, "cniVersion", enc_text(version));
	json_object_set_new(o, "supportedVersions",
	    enc_strs(cni_versions,
	        sizeof(cni_versions) / sizeof(cni_versions[0]) - 1));
	return enc_dump(o);
}
