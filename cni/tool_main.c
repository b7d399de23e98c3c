/*
 * podmesh-cnitool: the command line and environment of the runner that
 * plays the container runtime (Debian ships no cnitool); the work is in
 * cni/tool.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cni/tool.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define TOOL_NETCONFPATH "/etc/cni/net.d"
#define TOOL_CNI_PATH "/opt/cni/bin:/usr/lib/cni"
#define TOOL_CACHE "/var/lib/cni/results"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: podmesh-cnitool add|check|del NETNAME-or-FILE NETNS-PATH\n"
	    "       podmesh-cnitool gc|status|version NETNAME-or-FILE "
	    "[NETNS-PATH]\n"
	    "\n"
	    "Runs the plugins of a network config list as a container runtime\n"
	    "does (libcni).  add: ADD in order, each plugin given the "
	    "previous\n"
	    "one's result as prevResult; prints the final result and caches\n"
	    "it.  A failed ADD is undone by DEL of the plugins that "
	    "succeeded,\n"
	    "newest first.  del: DEL in reverse order (prevResult = the "
	    "cached\n"
	    "result from 0.4.0 on), going on past failures; the cache entry "
	    "is\n"
	    "removed when all succeeded.  check: CHECK in order with the "
	    "cached\n"
	    "result (0.4.0 and later).  gc, status: GC (valid attachments =\n"
	    "the cached ones of this network) and STATUS, 1.1.0 lists only.\n"
	    "version: VERSION of each plugin, printed as a JSON array.\n"
	    "A failure prints the plugin's error JSON on stdout and exits 1.\n"
	    "A single-plugin .conf is a list of one.  Each plugin's config is\n"
	    "its entry plus the list's name and cniVersion, and runtimeConfig\n"
	    "with the CAP_ARGS keys it declares in \"capabilities\".\n"
	    "\n"
	    "environment:\n"
	    "  NETCONFPATH      dirs searched for *.conflist, then *.conf and\n"
	    "                   *.json, for the \"name\" NETNAME (default "
	    "%s);\n"
	    "                   a FILE path is used as is\n"
	    "  CNI_PATH         plugin dirs (default %s)\n"
	    "  CNI_ARGS         passed to the plugins\n"
	    "  CAP_ARGS         JSON object: the runtimeConfig values\n"
	    "  CNI_IFNAME       default eth0\n"
	    "  CNI_CONTAINERID  default cnitool-<20 hex of sha512(netns)>\n"
	    "  PODMESH_CNI_CACHE  result cache dir (default %s)\n"
	    "\n"
	    "exit status: 0 success, 1 failure, 2 usage\n",
	    TOOL_NETCONFPATH, TOOL_CNI_PATH, TOOL_CACHE);
}

static const char *
env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : def;
}

static int
parse_command(const char *s, enum cni_command *c)
{
	static const struct {
		const char *name;
		enum cni_command cmd;
	} cmds[] = {{"add", CNI_CMD_ADD}, {"del", CNI_CMD_DEL},
	    {"check", CNI_CMD_CHECK}, {"gc", CNI_CMD_GC},
	    {"status", CNI_CMD_STATUS}, {"version", CNI_CMD_VERSION}};
	size_t i;

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(s, cmds[i].name) == 0) {
			*c = cmds[i].cmd;
			return 0;
		}
	return -1;
}

int
main(int argc, char **argv)
{
	struct cni_tool t;
	json_error_t jerr;
	const char *cap;
	char cid[64], cwd[PATH_MAX], *netns = NULL;
	bool container;
	int rc;

	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	}
	memset(&t, 0, sizeof(t));
	if (argc < 3 || parse_command(argv[1], &t.command) == -1) {
		usage(stderr);
		return 2;
	}
	container = t.command == CNI_CMD_ADD || t.command == CNI_CMD_DEL ||
	    t.command == CNI_CMD_CHECK;
	if ((container && argc != 4) || (!container && argc > 4) ||
	    *argv[2] == '\0' || (argc == 4 && *argv[3] == '\0')) {
		usage(stderr);
		return 2;
	}
	log_init("podmesh-cnitool", LOG_LVL_WARN);
	t.net = argv[2];
	if (container) {
		/* cnitool makes the path absolute (filepath.Abs) */
		if (argv[3][0] == '/')
			netns = xstrdup(argv[3]);
		else if (getcwd(cwd, sizeof(cwd)) != NULL)
			xasprintf(&netns, "%s/%s", cwd, argv[3]);
		else
			fatal("getcwd");
		t.netns = netns;
	}
	t.confpath = env_or("NETCONFPATH", TOOL_NETCONFPATH);
	t.path = env_or("CNI_PATH", TOOL_CNI_PATH);
	t.args = env_or("CNI_ARGS", "");
	t.ifname = env_or("CNI_IFNAME", "eth0");
	t.cache_dir = env_or("PODMESH_CNI_CACHE", TOOL_CACHE);
	t.out = stdout;
	if ((t.container_id = getenv("CNI_CONTAINERID")) == NULL ||
	    *t.container_id == '\0') {
		cni_tool_container_id(
		    netns != NULL ? netns : "", cid, sizeof(cid));
		t.container_id = cid;
	}
	if ((cap = getenv("CAP_ARGS")) != NULL && *cap != '\0') {
		t.cap_args = json_loads(cap, 0, &jerr);
		if (!json_is_object(t.cap_args)) {
			fprintf(stderr,
			    "podmesh-cnitool: CAP_ARGS: not a JSON "
			    "object%s%s\n",
			    t.cap_args == NULL ? ": " : "",
			    t.cap_args == NULL ? jerr.text : "");
			json_decref(t.cap_args);
			free(netns);
			return 1;
		}
	}
	rc = cni_tool_run(&t);
	json_decref(t.cap_args);
	free(netns);
	return rc;
}
