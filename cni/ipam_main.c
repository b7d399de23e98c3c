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

int
main(void)
{
	struct cni_error err;
	char version[16], *conf = NULL, *out = NULL;
	size_t len;
	int rc;

	store_init();
	cni_log_setup(IPAM_PLUGIN_PROG, NULL);
	if (cni_read_stdin(&conf, &len, &err) == -1)
		return cni_fail(&err, NULL);
	if (ipam_plugin_run(env_get, NULL, conf, len, &out, version,
	        sizeof(version), &err) == -1) {
		free(conf);
		return cni_fail(&err, version[0] != '\0' ? version : NULL);
	}
	rc = out != NULL ? cni_print(out) : 0;
	free(out);
	free(conf);
	return rc;
}
