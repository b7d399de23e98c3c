/*
 * podmesh, the CNI plugin (calico.md §4): reads the network config on
 * stdin and the CNI_* environment, answers on stdout, logs to stderr or
 * log_file_path.  Everything it does is in plugin.c.
 */
#include <stdlib.h>

#include "cni/plugin.h"
#include "cni/util.h"
#include "store/store.h"

static const char *
main_getenv(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static const char usage[] =
    "usage: podmesh   (a CNI plugin: run by a container runtime)\n"
    "\n"
    "Calico's CNI plugin on Calico's etcd data: gives a pod a veth\n"
    "(host side cali<11 hex>, ee:ee:ee:ee:ee:ee, proxy ARP), its\n"
    "addresses as /32 and /128 from IPAM, routes via 169.254.1.1\n"
    "(fe80::ecee:eeff:feee:eeee for IPv6), host routes to it, and a\n"
    "WorkloadEndpoint in etcd.  CNI 0.1.0 to 1.1.0: ADD, DEL, CHECK,\n"
    "VERSION, STATUS, GC.  ipam.type podmesh-ipam or calico-ipam runs\n"
    "Calico's IPAM in this process (calico-ipam: unless such a binary is\n"
    "in CNI_PATH); any other type is executed from CNI_PATH.\n"
    "\n"
    "input: the network config on stdin (every field of Calico's:\n"
    "etcd_endpoints, etcd_*_file, nodename, nodename_file, mtu,\n"
    "log_level, log_file_path, ipam{assign_ipv4, assign_ipv6,\n"
    "ipv4_pools, ipv6_pools}, ...); CNI_COMMAND, CNI_CONTAINERID,\n"
    "CNI_NETNS, CNI_IFNAME, CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME,\n"
    "IP=), CNI_PATH; ETCD_ENDPOINTS and ETCD_*_FILE when the config has\n"
    "none; FELIX_INTERFACEPREFIX.\n"
    "output: the result or the spec's error JSON on stdout (exit 0 or\n"
    "1); logs on stderr or log_file_path.\n"
    "Try it with podmesh-cnitool, which plays the runtime.\n";

int
main(int argc, char **argv)
{
	struct cni_error err;
	char *in = NULL;
	size_t len = 0;
	int rc;

	if ((rc = cni_usage(argc, argv, usage)) != -1)
		return rc;
	store_init();
	cni_log_setup(PLUGIN_PROG, NULL);
	if (cni_read_stdin(&in, &len, &err) == -1)
		return cni_fail(&err, NULL);
	rc = plugin_run(main_getenv, NULL, in, len);
	free(in);
	return rc;
}
