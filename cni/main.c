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

int
main(void)
{
	struct cni_error err;
	char *in = NULL;
	size_t len = 0;
	int rc;

	store_init();
	cni_log_setup(PLUGIN_PROG, NULL);
	if (cni_read_stdin(&in, &len, &err) == -1)
		return cni_fail(&err, NULL);
	rc = plugin_run(main_getenv, NULL, in, len);
	free(in);
	return rc;
}
