/*
 * podmesh-ipam: the process around ipam_plugin_run() (cni/ipam_plugin.h).
 * The runtime gives CNI_* in the environment and the network config on
 * stdin; the answer goes to stdout and the exit status says whether it
 * is a result (0) or an error (1).  Logs go to stderr or log_file_path.
 */
#include <stdlib.h>

#include "cni/ipam_plugin.h"
#include "cni/util.h"
#include "store/store.h"

static const char *
env_get(void *arg, const char *name)
{
	(void)arg;
	return getenv(name);
}

static const char usage[] =
    "usage: podmesh-ipam   (a CNI IPAM plugin: run by a CNI plugin)\n"
    "\n"
    "Calico's calico-ipam on Calico's etcd data: per-node blocks,\n"
    "handles <network>.<container id>.  ADD gives one IPv4 address\n"
    "(unless ipam.assign_ipv4 is \"false\") and one IPv6 (if\n"
    "ipam.assign_ipv6 is \"true\") from ipv4_pools/ipv6_pools or the\n"
    "pools whose nodeSelector matches the node, or the addresses asked\n"
    "for (IP= in CNI_ARGS, args.cni.ips, runtimeConfig.ips); a repeated\n"
    "ADD answers what the handle holds.  DEL releases the handle.\n"
    "CHECK, STATUS, GC (this node's handles of the network that no valid\n"
    "attachment names), VERSION.  ipam_lock_file (default\n"
    "/var/run/calico/ipam.lock) serialises one host's calls.\n"
    "\n"
    "input: the network config on stdin, CNI_* in the environment\n"
    "(ETCD_ENDPOINTS and ETCD_*_FILE when the config has none).\n"
    "output: the result or the spec's error JSON on stdout (exit 0 or\n"
    "1); logs on stderr or log_file_path.\n";

int
main(int argc, char **argv)
{
	struct cni_error err;
	char version[16], *conf = NULL, *out = NULL;
	size_t len;
	int rc;

	if ((rc = cni_usage(argc, argv, usage)) != -1)
		return rc;
	store_init();
	cni_log_setup(IPAM_PLUGIN_PROG, NULL);
	if (cni_read_stdin(&conf, &len, &err) == -1)
		return cni_fail(&err, NULL);
	if (ipam_plugin_run(env_get, NULL, NULL, conf, len, &out, version,
	        sizeof(version), &err) == -1) {
		free(conf);
		return cni_fail(&err, version[0] != '\0' ? version : NULL);
	}
	rc = out != NULL ? cni_print(out) : 0;
	free(out);
	free(conf);
	return rc;
}
