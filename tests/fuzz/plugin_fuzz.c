/*
 * libFuzzer target: what the podmesh plugin reads from the network config
 * beyond cni/netconf.c (cni/plugin.c): the cniVersion peeked before the
 * config is parsed, the "dns" object, and the prevResult that CHECK reads
 * its addresses from and ADD refuses when it holds any.
 *
 * The bytes are a network config.  A peeked version is always a supported
 * one; a refused dns is code 7 naming "dns"; a prevResult that decodes
 * yields only whole addresses (/32, /128) for the pod side, or a code 7;
 * the ADD result built from them and the dns encodes, in the config's own
 * version, as JSON with the same number of addresses (0.3.0 and later).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"
#include "cni/plugin.h"
#include "store/store.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	store_init();
	return 0;
}

static void
fuzz_prev(const struct cni_netconf *nc, const struct cni_dns *dns)
{
	struct prefix a[CNI_MAX_IPS];
	struct cni_result prev, res;
	struct cni_error err;
	size_t n, i;
	json_t *o;
	char *s;

	if (nc->prev_result == NULL ||
	    cni_result_decode(nc->prev_result, &prev, &err) == -1)
		return;
	if (plugin_prev_addrs(&prev, "eth0", a, &n, &err) == -1) {
		if (err.code != CNI_ERR_CONFIG)
			__builtin_trap();
		return;
	}
	if (n == 0 || n > CNI_MAX_IPS)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if (a[i].len != addr_maxlen(a[i].a.family))
			__builtin_trap();
	plugin_result("cali0123456789a", "eth0", "0a:58:00:00:00:01",
	    "/var/run/netns/x", 1500, a, n, dns, &res);
	if ((s = cni_result_encode(&res, nc->cni_version, &err)) == NULL)
		__builtin_trap();
	if ((o = json_loads(s, 0, NULL)) == NULL)
		__builtin_trap();
	if (strcmp(nc->cni_version, "0.3.0") >= 0 &&
	    json_array_size(json_object_get(o, "ips")) != n)
		__builtin_trap();
	json_decref(o);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_netconf nc;
	struct cni_error err;
	struct cni_dns dns;
	char *v;

	if ((v = plugin_peek_version((const char *)data, size)) != NULL) {
		if (!cni_version_supported(v))
			__builtin_trap();
		free(v);
	}
	if (cni_netconf_parse(data, size, &nc, &err) == -1)
		return 0;
	if (plugin_dns(nc.root, &dns, &err) == -1) {
		if (err.code != CNI_ERR_CONFIG ||
		    strstr(err.msg, "dns") == NULL)
			__builtin_trap();
		memset(&dns, 0, sizeof(dns));
	}
	(void)plugin_prev_has_ips(nc.prev_result);
	fuzz_prev(&nc, &dns);
	cni_netconf_clear(&nc);
	return 0;
}
