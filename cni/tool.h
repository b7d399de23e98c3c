/*
 * podmesh-cnitool: plays the container runtime over a network config list
 * as libcni does (AddNetworkList, DelNetworkList, CheckNetworkList,
 * GCNetworkList, GetStatusNetworkList, GetVersionInfo).  tool_main.c
 * turns the command line and environment into a struct cni_tool.
 */
#ifndef PODMESH_CNI_TOOL_H
#define PODMESH_CNI_TOOL_H

#include <stdio.h>

#include <jansson.h>

#include "cni/cni.h"

struct cni_tool {
	enum cni_command command; /* CNI_CMD_VERSION for "version" */
	const char *net; /* NETNAME, or a file path */
	const char *netns; /* absolute; NULL for gc/status/version */
	const char *confpath; /* NETCONFPATH, ':'-separated dirs */
	const char *path; /* CNI_PATH */
	const char *args; /* CNI_ARGS, "" when unset */
	json_t *cap_args; /* CAP_ARGS, an object or NULL */
	const char *ifname; /* CNI_IFNAME */
	const char *container_id;
	const char *cache_dir;
	int timeout_ms; /* per plugin; 0 = cni_exec's default */
	FILE *out; /* answers (result, error JSON) */
};

/* "cnitool-" + 20 hex digits of sha512(netns), as cnitool names it. */
void cni_tool_container_id(const char *netns, char *buf, size_t len);

/* Run the command over the whole list: 0, or 1 after printing the error. */
int cni_tool_run(const struct cni_tool *);

#endif
