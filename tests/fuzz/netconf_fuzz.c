/*
 * libFuzzer target: the CNI plugin's untrusted input (cni/netconf.c), the
 * network config on stdin and CNI_ARGS from the runtime.
 *
 * The input is parsed as a network config; an accepted one is re-encoded
 * as a result built from its pools and the answers must be JSON again; a
 * refusal must carry a code and a message and encode as the spec's error
 * object with that code.  The same bytes (up to a NUL) are parsed as
 * CNI_ARGS, alone and through cni_env_parse(), where every refusal is
 * code 4 naming its variable.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The error encodes as valid JSON carrying its code and message. */
static void
fuzz_check_error(const struct cni_error *err, const char *version)
{
	json_t *o;
	char *s;

	if (err->code <= 0 || err->msg[0] == '\0')
		__builtin_trap();
	s = cni_error_encode(err, version);
	o = json_loads(s, 0, NULL);
	if (o == NULL ||
	    json_integer_value(json_object_get(o, "code")) != err->code ||
	    !json_is_string(json_object_get(o, "msg")))
		__builtin_trap();
	json_decref(o);
	free(s);
}

static void
fuzz_check_json(char *s)
{
	json_t *o;

	if (s == NULL || (o = json_loads(s, 0, NULL)) == NULL)
		__builtin_trap();
	json_decref(o);
	free(s);
}

static void
fuzz_config(const uint8_t *data, size_t size)
{
	struct cni_netconf nc;
	struct cni_result res;
	struct cni_error err;
	size_t i;

	memset(&err, 0, sizeof(err));
	if (cni_netconf_parse(data, size, &nc, &err) == -1) {
		if (err.code != CNI_ERR_INCOMPATIBLE &&
		    err.code != CNI_ERR_DECODE && err.code != CNI_ERR_CONFIG)
			__builtin_trap();
		fuzz_check_error(&err, NULL);
		return;
	}
	if (!cni_version_supported(nc.cni_version) || nc.mtu < 0 ||
	    nc.mtu > 9000 || (nc.mtu != 0 && nc.mtu < 576))
		__builtin_trap();

	memset(&res, 0, sizeof(res));
	res.ifaces[0].name = nc.name != NULL ? nc.name : "eth0";
	res.ifaces[0].mac = nc.nodename;
	res.ifaces[0].sandbox = nc.type;
	res.ifaces[0].mtu = nc.mtu;
	res.nifaces = 1;
	for (i = 0; i < nc.ipam.nipv4_pools && res.nips < CNI_MAX_IPS; i++) {
		res.ips[res.nips].address = nc.ipam.ipv4_pools[i];
		res.ips[res.nips++].iface = 0;
	}
	for (i = 0; i < nc.ipam.nipv6_pools && res.nips < CNI_MAX_IPS; i++) {
		res.ips[res.nips].address = nc.ipam.ipv6_pools[i];
		res.ips[res.nips].gateway = nc.ipam.ipv6_pools[i].a;
		res.ips[res.nips++].iface = -1;
	}
	for (i = 0; i < res.nips && i < CNI_MAX_ROUTES; i++) {
		res.routes[i].dst = res.ips[i].address;
		res.nroutes++;
	}
	if (nc.log_level != NULL) {
		res.dns.domain = nc.log_level;
		res.dns.search[0] = nc.log_level;
		res.dns.nsearch = 1;
	}
	fuzz_check_json(cni_result_encode(&res, nc.cni_version, &err));
	fuzz_check_json(cni_version_encode(nc.cni_version));
	cni_netconf_clear(&nc);
}

struct fuzz_env {
	const char *args;
};

static const char *
fuzz_getenv(void *arg, const char *name)
{
	const struct fuzz_env *e = arg;

	if (strcmp(name, "CNI_COMMAND") == 0)
		return "ADD";
	if (strcmp(name, "CNI_ARGS") == 0)
		return e->args;
	if (strcmp(name, "CNI_IFNAME") == 0)
		return "eth0";
	if (strcmp(name, "CNI_CONTAINERID") == 0)
		return "c0ffee";
	return "/x";
}

static void
fuzz_args(const uint8_t *data, size_t size)
{
	struct fuzz_env fe;
	struct cni_args a;
	struct cni_env env;
	struct cni_error err;
	char *s;
	size_t i;

	s = strndup((const char *)data, size);
	if (s == NULL)
		abort();
	if (cni_args_parse(s, &a, &err) == -1) {
		if (err.code != CNI_ERR_ENV ||
		    strncmp(err.msg, "CNI_ARGS: ", 10) != 0)
			__builtin_trap();
		fuzz_check_error(&err, "1.0.0");
	} else {
		if (a.nips > CNI_MAX_ARGS_IPS)
			__builtin_trap();
		for (i = 0; i < a.nips; i++)
			if (a.ips[i].family != AF_INET &&
			    a.ips[i].family != AF_INET6)
				__builtin_trap();
		cni_args_clear(&a);
	}

	fe.args = s;
	if (cni_env_parse(fuzz_getenv, &fe, &env, &err) == -1) {
		if (err.code != CNI_ERR_ENV ||
		    strncmp(err.msg, "CNI_ARGS: ", 10) != 0)
			__builtin_trap();
	} else {
		if (env.command != CNI_CMD_ADD || env.netns == NULL)
			__builtin_trap();
		cni_env_clear(&env);
	}
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_config(data, size);
	fuzz_args(data, size);
	return 0;
}
