/*
 * libFuzzer target: the parts of the CNI input podmesh-ipam reads beyond
 * cni/netconf.c's fields (cni/ipam_plugin.h): the addresses asked for
 * (IP= in CNI_ARGS, args.cni.ips, runtimeConfig.ips), prevResult.ips for
 * CHECK, and GC's valid attachments.
 *
 * The input's first line is CNI_ARGS, the rest the network config.  Each
 * refusal carries the code its field calls for (7, or 6 for prevResult)
 * and a message naming the field; accepted addresses are set and at most
 * the maximum asked; an accepted attachment list answers membership for
 * each of its containerIDs.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cni/cni.h"
#include "cni/ipam_plugin.h"
#include "lib/log.h"
#include "store/store.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	store_init();
	log_init("ipamconf_fuzz", LOG_LVL_ERROR);
	return 0;
}

static void
fuzz_addrs(const struct addr *v, size_t n, size_t max)
{
	size_t i;

	if (n > max)
		__builtin_trap();
	for (i = 0; i < n; i++)
		if ((v[i].family != AF_INET && v[i].family != AF_INET6) ||
		    v[i].scope_id != 0)
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	struct cni_netconf nc;
	struct cni_args args;
	struct cni_error err;
	struct addr v[CNI_MAX_IPS];
	const json_t *atts, *e;
	char *line;
	size_t n, i;

	if (nl == NULL)
		return 0;
	line = strndup((const char *)data, nl - data);
	if (line == NULL)
		return 0;
	if (cni_args_parse(line, &args, &err) == -1) {
		free(line);
		return 0;
	}
	free(line);
	if (cni_netconf_parse(nl + 1, size - (nl + 1 - data), &nc, &err) ==
	    -1) {
		cni_args_clear(&args);
		return 0;
	}

	memset(&err, 0, sizeof(err));
	if (ipam_plugin_requested(&nc, &args, v, CNI_MAX_ARGS_IPS, &n, &err) ==
	    -1) {
		if (err.code != CNI_ERR_CONFIG ||
		    (strncmp(err.msg, "args.cni.ips", 12) != 0 &&
		        strncmp(err.msg, "runtimeConfig.ips", 17) != 0))
			__builtin_trap();
	} else
		fuzz_addrs(v, n, CNI_MAX_ARGS_IPS);

	memset(&err, 0, sizeof(err));
	if (ipam_plugin_prev_ips(&nc, v, CNI_MAX_IPS, &n, &err) == -1) {
		if (err.code != CNI_ERR_DECODE ||
		    strncmp(err.msg, "prevResult.ips", 14) != 0)
			__builtin_trap();
	} else
		fuzz_addrs(v, n, CNI_MAX_IPS);

	memset(&err, 0, sizeof(err));
	if (ipam_plugin_attachments_check(&nc, &err) == -1) {
		if (err.code != CNI_ERR_CONFIG ||
		    strncmp(err.msg, "cni.dev/valid-attachments", 25) != 0)
			__builtin_trap();
	} else {
		atts = json_object_get(nc.root, "cni.dev/valid-attachments");
		if (atts == NULL)
			atts = json_object_get(nc.root, "cni.dev/attachments");
		json_array_foreach(atts, i, e)
		{
			if (!ipam_plugin_valid(&nc,
			        json_string_value(
			            json_object_get(e, "containerID"))))
				__builtin_trap();
		}
	}
	cni_netconf_clear(&nc);
	cni_args_clear(&args);
	return 0;
}
