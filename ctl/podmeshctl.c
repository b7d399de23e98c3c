/*
 * podmeshctl: the command line of podmesh.  Options come anywhere on the
 * line; the remaining words pick a row of the command tables (resource.c,
 * get.c, ipam.c, migrate.c, bgp.c, node_status.c), which also write the
 * usage text, so --help lists exactly what exists and `podmeshctl COMMAND
 * --help` exactly the options that command takes.  An option a command
 * does not take is a usage error, not silently ignored.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd.h"
#include "store/store.h"
#include "ctl/ctl.h"

#ifndef PODMESH_VERSION
#define PODMESH_VERSION "0.1.0"
#endif

#define CTL_MAX_WORDS 16
#define CTL_O_OUTPUT 0x80000000u /* -o: allowed by ctl_cmd.outputs */

static const struct {
	const char *title;
	const struct ctl_cmd *cmds;
	const size_t *ncmds;
} ctl_groups[] = {
    {"Resources in etcd (Calico's v3 data model, as calicoctl)", resource_cmds,
        &resource_ncmds},
    {NULL, get_cmds, &get_ncmds},
    {"IP address management (Calico's IPAM blocks in etcd)", ipam_cmds,
        &ipam_ncmds},
    {"Migration from Calico v2.6 (etcd v2) to the v3 data model", migrate_cmds,
        &migrate_ncmds},
    {"BGP, from podmesh-bgpd's control socket", bgp_cmds, &bgp_ncmds},
    {NULL, node_cmds, &node_ncmds},
};

#define CTL_NGROUPS (sizeof(ctl_groups) / sizeof(ctl_groups[0]))

static const struct ctl_opt {
	const char *shortopt; /* "-f", or NULL */
	const char *longopt;
	const char *arg; /* "FILE"; NULL for a flag */
	unsigned bit;
	const char *help;
} ctl_opts[] = {
    {"-f", "--filename", "FILE", CTL_O_FILE,
        "resources in YAML or JSON, one or more documents, each a "
        "resource, a list of them or a List; - reads standard input"},
    {"-o", "--output", "FORMAT", CTL_O_OUTPUT, NULL},
    {"-n", "--namespace", "NS", CTL_O_NAMESPACE,
        "namespace of WorkloadEndpoints: of those named, and of those in "
        "FILE without one (default: \"default\")"},
    {"-A", "--all-namespaces", NULL, CTL_O_ALLNS,
        "WorkloadEndpoints of every namespace"},
    {NULL, "--show-blocks", NULL, CTL_O_SHOWBLOCKS,
        "each pool's blocks too, with their node"},
    {NULL, "--ip", "IP", CTL_O_IP, "one IP address"},
    {NULL, "--fix", NULL, CTL_O_FIX,
        "release the leaked addresses and remove the affinities to "
        "missing nodes"},
    {NULL, "--grace", "SECONDS", CTL_O_GRACE,
        "with --fix: look again after SECONDS (default 300) and fix only "
        "what both looks found unchanged; a pod start allocates its "
        "address before it writes its workload endpoint, so a shorter "
        "grace than a pod takes to start can release a live pod's address"},
    {NULL, "--allow-partial", NULL, CTL_O_ALLOW_PARTIAL,
        "when the writes do not fit one etcd transaction (128 operations, "
        "1.5 MiB), write them in several, each all or nothing; an error "
        "part-way leaves the transactions before it written.  Without it "
        "such a file is refused and nothing is written"},
    {NULL, "--skip-exists", NULL, CTL_O_SKIP_EXISTS,
        "leave resources that exist already as they are (not an error)"},
    {NULL, "--skip-not-exists", NULL, CTL_O_SKIP_NOT_EXISTS,
        "resources that do not exist are not an error"},
    {NULL, "--apply", NULL, CTL_O_APPLY,
        "write to etcd v3; without it, a dry run that prints the plan and "
        "writes nothing"},
    {NULL, "--force", NULL, CTL_O_FORCE,
        "overwrite v3 keys that hold other values (keeping their uid and "
        "creationTimestamp), but IPAM keys, which are left alone; without "
        "it they are conflicts and nothing is written"},
    {NULL, "--force-ipam", NULL, CTL_O_FORCE_IPAM,
        "with --force: also overwrite the v3 IPAM blocks, handles, "
        "affinities and config that differ with the v2 snapshot (without "
        "it --force leaves them as v3 has them, listed as kept).  "
        "Dangerous: once Calico v3 runs, its CNI allocates in v3 while the "
        "v2 data is frozen, so overwriting a block frees addresses running "
        "pods hold (two pods then get one address) and can hand a block "
        "back to another node"},
    {NULL, "--v2-endpoints", "URLS", CTL_O_V2_ENDPOINTS,
        "the etcd v2 API of the Calico v2.6 datastore, comma separated; "
        "default: the endpoints of a v1 calicoApiConfig given by --config "
        "or found, else the v3 datastore's (one etcd 3.x with --enable-v2 "
        "serves both)"},
    {NULL, "--v2-ca-file", "FILE", CTL_O_V2_CA,
        "CA certificate (PEM) for --v2-endpoints"},
    {NULL, "--v2-cert-file", "FILE", CTL_O_V2_CERT,
        "client certificate (PEM) for --v2-endpoints, with --v2-key-file"},
    {NULL, "--v2-key-file", "FILE", CTL_O_V2_KEY,
        "the client certificate's key (PEM)"},
    {NULL, "--node", "NODE", CTL_O_NODE,
        "the node (host) the address is for: its block affinities, and "
        "its labels for the pools' nodeSelector"},
    {NULL, "--handle", "ID", CTL_O_HANDLE,
        "the IPAM handle that holds the address (a pod's is "
        "<network>.<containerID>, a node's tunnel address's "
        "ipip-tunnel-addr-<node>)"},
    {NULL, "--pool", "CIDR", CTL_O_POOL,
        "allocate from this IP pool only, whatever its nodeSelector; "
        "may be given several times (default: every enabled pool that "
        "selects the node)"},
    {NULL, "--ipv6", NULL, CTL_O_IPV6, "an IPv6 address (default IPv4)"},
    {NULL, "--attr", "KEY=VALUE", CTL_O_ATTR,
        "a secondary attribute of the allocation (node, pod, namespace, "
        "type); may be given several times"},
    {"-c", "--config", "FILE", CTL_O_CONFIG,
        "datastore settings: calicoctl.cfg (apiVersion v1 kind "
        "calicoApiConfig, or projectcalico.org/v3 kind CalicoAPIConfig) or "
        "a podmesh datastore: map.  Without it: " CTL_CONFIG_PATH
        ", else " CTL_CALICOCTL_PATH ", else $ETCD_ENDPOINTS (or Calico "
        "v2.6's $ETCD_SCHEME://$ETCD_AUTHORITY), $ETCD_CA_CERT_FILE, "
        "$ETCD_CERT_FILE, $ETCD_KEY_FILE, $ETCD_USERNAME, $ETCD_PASSWORD, "
        "$DATASTORE_TYPE (etcdv3, or v2.6's etcdv2) (each also read as "
        "CALICO_..., which wins), else " CTL_DEFAULT_ENDPOINT},
    {"-s", "--socket", "PATH", CTL_O_SOCKET,
        "control socket of podmesh-bgpd; default $" CTL_SOCKET_ENV
        ", else " CTL_DEFAULT_BGPD_SOCKET},
    {NULL, "--bird", "SOCKET", CTL_O_BIRD,
        "ask BIRD instead of podmesh-bgpd, on its control socket (e.g. "
        "/var/run/calico/bird.ctl; BIRD 2 has both families in one "
        "daemon, BIRD 1.6's bird6.ctl is another run)"},
};

#define CTL_NOPTS (sizeof(ctl_opts) / sizeof(ctl_opts[0]))

static const char *const ctl_output_names[] = {
    [OUTPUT_TABLE] = "table",
    [OUTPUT_JSON] = "json",
    [OUTPUT_YAML] = "yaml",
    [OUTPUT_WIDE] = "wide",
};

/* prints text wrapped at 78 columns, each line indented */
static void
ctl_wrap(FILE *out, const char *text, int indent)
{
	const char *s = text, *end, *brk;
	int width = 78 - indent;

	while (*s != '\0') {
		end = s + strlen(s);
		if (end - s > width) {
			for (brk = s + width; brk > s && *brk != ' '; brk--)
				;
			if (brk > s)
				end = brk;
		}
		fprintf(out, "%*s%.*s\n", indent, "", (int)(end - s), s);
		s = *end == ' ' ? end + 1 : end;
	}
}

/* "table|wide|yaml|json" */
static void
ctl_outputs(unsigned outputs, char *buf, size_t len)
{
	static const enum ctl_output order[] = {
	    OUTPUT_TABLE, OUTPUT_WIDE, OUTPUT_YAML, OUTPUT_JSON};
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if ((outputs & CTL_OUT(order[i])) && off < len)
			off += snprintf(buf + off, len - off, "%s%s",
			    off > 0 ? "|" : "", ctl_output_names[order[i]]);
}

static const char *
ctl_cmd_name(const struct ctl_cmd *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", c->group, c->name != NULL ? " " : "",
	    c->name != NULL ? c->name : "");
	return buf;
}

/* "get KIND [NAME]" */
static void
ctl_synopsis(const struct ctl_cmd *c, char *buf, size_t len)
{
	char name[64];

	snprintf(buf, len, "%s%s%s", ctl_cmd_name(c, name, sizeof(name)),
	    *c->args ? " " : "", c->args);
}

static void
ctl_usage(FILE *out)
{
	const struct ctl_cmd *c;
	char line[160];
	size_t g, i;

	fprintf(out,
	    "usage: podmeshctl COMMAND [ARGUMENTS] [OPTIONS]\n"
	    "       podmeshctl COMMAND --help\n");
	for (g = 0; g < CTL_NGROUPS; g++) {
		if (ctl_groups[g].title != NULL)
			fprintf(out, "\n%s:\n", ctl_groups[g].title);
		for (i = 0; i < *ctl_groups[g].ncmds; i++) {
			c = &ctl_groups[g].cmds[i];
			ctl_synopsis(c, line, sizeof(line));
			fprintf(out, "  %s\n", line);
			ctl_wrap(out, c->help, 6);
		}
	}
	fprintf(out,
	    "\n"
	    "Options (which command takes which: podmeshctl COMMAND --help):\n"
	    "  -c, --config FILE    where etcd is; default %s, else\n"
	    "                       %s, else $ETCD_ENDPOINTS and\n"
	    "                       $ETCD_*_FILE, else %s\n"
	    "  -s, --socket PATH    control socket of podmesh-bgpd (bgp "
	    "commands,\n"
	    "                       node status)\n"
	    "  -h, --help           show this help\n"
	    "      --version        show the version\n"
	    "\n"
	    "Exit status: 0 on success, 1 on error, 2 on a usage error.\n",
	    CTL_CONFIG_PATH, CTL_CALICOCTL_PATH, CTL_DEFAULT_ENDPOINT);
}

static void
ctl_cmd_usage(FILE *out, const struct ctl_cmd *c)
{
	const struct ctl_opt *o;
	char line[256], outs[64];
	size_t i;

	ctl_synopsis(c, line, sizeof(line));
	fprintf(out, "usage: podmeshctl %s", line);
	for (i = 0; i < CTL_NOPTS; i++) {
		o = &ctl_opts[i];
		if (o->bit == CTL_O_OUTPUT ? c->outputs == 0
		                           : !(c->opts & o->bit))
			continue;
		/* the synopsis already names the options it needs */
		if (strstr(c->args, o->longopt) != NULL ||
		    (o->shortopt != NULL &&
		        strstr(c->args, o->shortopt) != NULL))
			continue;
		if (o->bit == CTL_O_OUTPUT) {
			ctl_outputs(c->outputs, outs, sizeof(outs));
			fprintf(out, " [-o %s]", outs);
		} else
			fprintf(out, " [%s%s%s]",
			    o->shortopt ? o->shortopt : o->longopt,
			    o->arg ? " " : "", o->arg ? o->arg : "");
	}
	fprintf(out, "\n\n");
	ctl_wrap(out, c->help, 2);
	fprintf(out, "\nOptions:\n");
	for (i = 0; i < CTL_NOPTS; i++) {
		o = &ctl_opts[i];
		if (o->bit == CTL_O_OUTPUT ? c->outputs == 0
		                           : !(c->opts & o->bit))
			continue;
		snprintf(line, sizeof(line), "%s%s%s%s%s",
		    o->shortopt ? o->shortopt : "", o->shortopt ? ", " : "    ",
		    o->longopt, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %s\n", line);
		if (o->bit == CTL_O_OUTPUT) {
			ctl_outputs(c->outputs, outs, sizeof(outs));
			snprintf(line, sizeof(line),
			    "one of %s; table is the default%s", outs,
			    (c->outputs & CTL_OUT(OUTPUT_WIDE))
			        ? ", wide adds columns"
			        : "");
			ctl_wrap(out, line, 6);
		} else
			ctl_wrap(out, o->help, 6);
	}
	fprintf(out, "  -h, --help\n");
	if (c->more_help != NULL) {
		fprintf(out, "\n");
		c->more_help(out);
	}
}

static int ctl_usage_error(const char *, ...)
    __attribute__((format(printf, 1, 2)));

static int
ctl_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "podmeshctl: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'podmeshctl --help'.\n");
	return 2;
}

/*
 * The command the words name.  *group_found says whether words[0] is a
 * command or group at all; *used is how many words the name took.
 */
static const struct ctl_cmd *
ctl_find(int nwords, char **words, bool *group_found, int *used)
{
	const struct ctl_cmd *c;
	size_t g, i;

	*group_found = false;
	*used = 0;
	for (g = 0; g < CTL_NGROUPS; g++) {
		for (i = 0; i < *ctl_groups[g].ncmds; i++) {
			c = &ctl_groups[g].cmds[i];
			if (strcmp(c->group, words[0]) != 0)
				continue;
			*group_found = true;
			if (c->name == NULL) {
				*used = 1;
				return c;
			}
			if (nwords > 1 && strcmp(c->name, words[1]) == 0) {
				*used = 2;
				return c;
			}
		}
	}
	return NULL;
}

static void
ctl_group_usage(FILE *out, const char *group)
{
	const struct ctl_cmd *c;
	char line[160];
	size_t g, i;

	for (g = 0; g < CTL_NGROUPS; g++)
		for (i = 0; i < *ctl_groups[g].ncmds; i++) {
			c = &ctl_groups[g].cmds[i];
			if (strcmp(c->group, group) != 0)
				continue;
			ctl_synopsis(c, line, sizeof(line));
			fprintf(out, "podmeshctl %s\n", line);
			ctl_wrap(out, c->help, 4);
		}
	fprintf(out,
	    "\nRun 'podmeshctl %s SUBCOMMAND --help' for its "
	    "options.\n",
	    group);
}

static const struct ctl_opt *
ctl_opt_find(const char *a, const char **val)
{
	const struct ctl_opt *o;
	size_t i, n;

	*val = NULL;
	for (i = 0; i < CTL_NOPTS; i++) {
		o = &ctl_opts[i];
		n = strlen(o->longopt);
		if (strcmp(a, o->longopt) == 0)
			return o;
		if (o->arg != NULL && strncmp(a, o->longopt, n) == 0 &&
		    a[n] == '=') {
			*val = a + n + 1;
			return o;
		}
		if (o->shortopt == NULL)
			continue;
		if (strcmp(a, o->shortopt) == 0)
			return o;
		if (o->arg != NULL && strncmp(a, o->shortopt, 2) == 0) {
			*val = a + 2;
			return o;
		}
	}
	return NULL;
}

static int
ctl_set_output(struct ctl *ctl, const char *val)
{
	size_t i;

	if (strcmp(val, "ps") == 0) /* calicoctl's name for the table */
		val = "table";
	for (i = 0; i < sizeof(ctl_output_names) / sizeof(ctl_output_names[0]);
	     i++)
		if (strcmp(val, ctl_output_names[i]) == 0) {
			ctl->output = i;
			ctl->output_given = true;
			return 0;
		}
	return -1;
}

static int
ctl_set_opt(struct ctl *ctl, const struct ctl_opt *o, const char *val)
{
	switch (o->bit) {
	case CTL_O_OUTPUT:
		if (ctl_set_output(ctl, val) == -1)
			return ctl_usage_error("unknown output format '%s' "
			                       "(table, wide, yaml or json)",
			    val);
		break;
	case CTL_O_FILE:
		ctl->file = val;
		break;
	case CTL_O_NAMESPACE:
		ctl->namespace = val;
		break;
	case CTL_O_ALLNS:
		ctl->all_namespaces = true;
		break;
	case CTL_O_SHOWBLOCKS:
		ctl->show_blocks = true;
		break;
	case CTL_O_IP:
		ctl->ip = val;
		break;
	case CTL_O_FIX:
		ctl->fix = true;
		break;
	case CTL_O_GRACE: {
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno != 0 || *end != '\0' || end == val || v < 0 ||
		    v > CTL_MAX_GRACE)
			return ctl_usage_error("--grace takes seconds, 0 to "
			                       "%d, not '%s'",
			    CTL_MAX_GRACE, val);
		ctl->grace = (int)v;
		ctl->grace_given = true;
		break;
	}
	case CTL_O_ALLOW_PARTIAL:
		ctl->allow_partial = true;
		break;
	case CTL_O_FORCE_IPAM:
		ctl->force_ipam = true;
		break;
	case CTL_O_SKIP_EXISTS:
		ctl->skip_exists = true;
		break;
	case CTL_O_SKIP_NOT_EXISTS:
		ctl->skip_not_exists = true;
		break;
	case CTL_O_APPLY:
		ctl->apply = true;
		break;
	case CTL_O_FORCE:
		ctl->force = true;
		break;
	case CTL_O_V2_ENDPOINTS:
		ctl->v2_endpoints = val;
		break;
	case CTL_O_V2_CA:
		ctl->v2_ca_file = val;
		break;
	case CTL_O_V2_CERT:
		ctl->v2_cert_file = val;
		break;
	case CTL_O_V2_KEY:
		ctl->v2_key_file = val;
		break;
	case CTL_O_NODE:
		ctl->node = val;
		break;
	case CTL_O_HANDLE:
		ctl->handle = val;
		break;
	case CTL_O_POOL:
		if (ctl->npools == CTL_MAX_REPEAT)
			return ctl_usage_error(
			    "--pool given more than %d times", CTL_MAX_REPEAT);
		ctl->pools[ctl->npools++] = val;
		break;
	case CTL_O_IPV6:
		ctl->ipv6 = true;
		break;
	case CTL_O_ATTR:
		if (ctl->nattrs == CTL_MAX_REPEAT)
			return ctl_usage_error(
			    "--attr given more than %d times", CTL_MAX_REPEAT);
		ctl->attrs[ctl->nattrs++] = val;
		break;
	case CTL_O_CONFIG:
		ctl->config = val;
		break;
	case CTL_O_SOCKET:
		ctl->socket = val;
		break;
	case CTL_O_BIRD:
		ctl->bird = val;
		break;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct ctl ctl;
	char *words[CTL_MAX_WORDS], name[64];
	const struct ctl_opt *o;
	const char *env, *val;
	const struct ctl_cmd *cmd;
	bool endopts = false, found, help = false;
	unsigned given = 0;
	int i, nwords = 0, nargs, used, rv;

	store_init();
	memset(&ctl, 0, sizeof(ctl));
	ctl.output = OUTPUT_TABLE;
	ctl.grace = CTL_DEFAULT_GRACE;
	if ((env = getenv(CTL_SOCKET_ENV)) != NULL && *env != '\0')
		ctl.socket = env;
	else
		ctl.socket = CTL_DEFAULT_BGPD_SOCKET;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (endopts || a[0] != '-' || a[1] == '\0') {
			if (nwords == CTL_MAX_WORDS)
				return ctl_usage_error("too many arguments");
			words[nwords++] = argv[i];
		} else if (strcmp(a, "--") == 0) {
			endopts = true;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			help = true;
		} else if (strcmp(a, "--version") == 0) {
			printf("podmeshctl %s\n", PODMESH_VERSION);
			return 0;
		} else if ((o = ctl_opt_find(a, &val)) != NULL) {
			if (o->arg != NULL && val == NULL) {
				if (i + 1 >= argc)
					return ctl_usage_error("%s needs %s %s",
					    a, o->bit == CTL_O_IP ? "an" : "a",
					    o->arg);
				val = argv[++i];
			}
			if (o->arg != NULL && *val == '\0')
				return ctl_usage_error(
				    "%s needs a non-empty %s", a, o->arg);
			if ((rv = ctl_set_opt(&ctl, o, val)) != 0)
				return rv;
			given |= o->bit; /* given twice: the last wins */
		} else
			return ctl_usage_error("unknown option '%s'", a);
	}

	if (nwords == 0) {
		ctl_usage(help ? stdout : stderr);
		return help ? 0 : 2;
	}
	if (strcmp(words[0], "help") == 0 && !help) {
		/* `podmeshctl help [COMMAND]` */
		help = true;
		memmove(words, words + 1, --nwords * sizeof(*words));
		if (nwords == 0) {
			ctl_usage(stdout);
			return 0;
		}
	}
	cmd = ctl_find(nwords, words, &found, &used);
	if (!found)
		return ctl_usage_error("unknown command '%s'", words[0]);
	if (cmd == NULL) {
		if (help) {
			ctl_group_usage(stdout, words[0]);
			return 0;
		}
		if (nwords == 1)
			return ctl_usage_error(
			    "'%s' needs a subcommand", words[0]);
		return ctl_usage_error(
		    "unknown subcommand '%s %s'", words[0], words[1]);
	}
	if (help) {
		ctl_cmd_usage(stdout, cmd);
		return 0;
	}
	ctl_cmd_name(cmd, name, sizeof(name));
	for (i = 0; i < (int)CTL_NOPTS; i++) {
		o = &ctl_opts[i];
		if (!(given & o->bit))
			continue;
		if (o->bit == CTL_O_OUTPUT ? cmd->outputs == 0
		                           : !(cmd->opts & o->bit))
			return ctl_usage_error(
			    "%s does not apply to '%s'", o->longopt, name);
	}
	if (ctl.output_given && !(cmd->outputs & CTL_OUT(ctl.output))) {
		char outs[64];

		ctl_outputs(cmd->outputs, outs, sizeof(outs));
		return ctl_usage_error("'%s' prints %s, not %s", name, outs,
		    ctl_output_names[ctl.output]);
	}
	nargs = nwords - used;
	if (nargs < cmd->minargs || nargs > cmd->maxargs) {
		char line[160];

		ctl_synopsis(cmd, line, sizeof(line));
		fprintf(stderr,
		    "usage: podmeshctl %s\nTry 'podmeshctl %s --help'.\n", line,
		    name);
		return 2;
	}
	rv = cmd->exec(&ctl, nargs, words + used);
	if (rv != 0 && ctl.etcd != NULL &&
	    etcd_last_error(ctl.etcd)->kind == ETCD_E_CONNECT)
		fprintf(stderr,
		    "podmeshctl: the etcd endpoints came from %s%s; see "
		    "'podmeshctl %s --help' for --config\n",
		    strcmp(ctl.ds->source, "default") == 0 ||
		            strcmp(ctl.ds->source, "environment") == 0
		        ? "the "
		        : "",
		    ctl.ds->source, name);
	ctl_close(&ctl);
	return rv == 0 ? 0 : rv == 2 ? 2 : 1;
}
