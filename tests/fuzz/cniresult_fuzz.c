/*
 * libFuzzer target: a CNI result as another plugin prints it (an IPAM
 * plugin's stdout, a prevResult in our config, the runner's cache),
 * decoded by cni_result_decode() (cni/result.c).
 *
 * A refusal must be code 6 with a message and leave nothing decoded.  An
 * accepted result must stay within the struct's bounds, encode in every
 * version we speak, and that encoding must decode again and re-encode to
 * the same bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cni/cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_bounds(const struct cni_result *res)
{
	size_t i;

	if (res->nifaces > CNI_MAX_IFACES || res->nips > CNI_MAX_IPS ||
	    res->nroutes > CNI_MAX_ROUTES ||
	    res->dns.nnameservers > CNI_MAX_DNS ||
	    res->dns.nsearch > CNI_MAX_DNS || res->dns.noptions > CNI_MAX_DNS)
		__builtin_trap();
	for (i = 0; i < res->nifaces; i++)
		if (res->ifaces[i].name == NULL || res->ifaces[i].mtu < 0)
			__builtin_trap();
	for (i = 0; i < res->nips; i++)
		if (res->ips[i].iface < -1 ||
		    res->ips[i].iface >= (int)res->nifaces ||
		    (res->ips[i].address.a.family != AF_INET &&
		        res->ips[i].address.a.family != AF_INET6))
			__builtin_trap();
}

static void
fuzz_version(const struct cni_result *res, const char *version)
{
	struct cni_result back;
	struct cni_error err;
	json_t *o;
	char *s1, *s2;

	if ((s1 = cni_result_encode(res, version, &err)) == NULL)
		__builtin_trap();
	if ((o = json_loads(s1, 0, NULL)) == NULL)
		__builtin_trap();
	if (cni_result_decode(o, &back, &err) == -1)
		__builtin_trap();
	fuzz_bounds(&back);
	if ((s2 = cni_result_encode(&back, version, &err)) == NULL ||
	    strcmp(s1, s2) != 0)
		__builtin_trap();
	json_decref(o);
	free(s1);
	free(s2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cni_result res;
	struct cni_error err;
	json_t *o;
	size_t i;

	if ((o = json_loadb((const char *)data, size, 0, NULL)) == NULL)
		return 0;
	memset(&err, 0, sizeof(err));
	if (cni_result_decode(o, &res, &err) == -1) {
		if (err.code != CNI_ERR_DECODE || err.msg[0] == '\0' ||
		    res.nips != 0 || res.nifaces != 0 || res.nroutes != 0)
			__builtin_trap();
	} else {
		fuzz_bounds(&res);
		for (i = 0; cni_versions[i] != NULL; i++)
			fuzz_version(&res, cni_versions[i]);
	}
	json_decref(o);
	return 0;
}
