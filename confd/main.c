/*
 * podmesh-confd: confd for BIRD configs (calico.md §3), with confd's
 * command line as Calico runs it (single-dash long options: -confdir,
 * -backend, -node, -onetime, -watch, -interval, -client-*, ...) and
 * calico/node's environment (ETCD_ENDPOINTS, ETCD_*_FILE, DATASTORE_TYPE,
 * NODENAME).  It reads the flags and the environment, makes the backend
 * and hands both to confd_run() (cycle.c).
 */
#include <ctype.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "confd/confd.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/store.h"

#define PODMESH_VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: podmesh-confd [-confdir DIR] [-backend "
	    "etcdv3|etcdv2|file]\n"
	    "           [-node URL]... [-file KV] [-onetime] [-noop] ...\n"
	    "\n"
	    "Renders the template resources of DIR/conf.d (confd's TOML:\n"
	    "src, dest, prefix, keys, check_cmd, reload_cmd, mode, uid, gid)\n"
	    "from the datastore's keys with Go text/template semantics and\n"
	    "confd's functions: when a rendered file differs from dest, it\n"
	    "is staged beside dest, checked with check_cmd ({{.src}} is the\n"
	    "staged file), renamed over dest, and reload_cmd is run.  A "
	    "failed\n"
	    "check keeps the old dest (a missing dest is written anyway, as\n"
	    "Calico's confd does).  Without -onetime it renders once the\n"
	    "backend has loaded, then again after every change; SIGHUP reads\n"
	    "conf.d again; SIGTERM and SIGINT stop it.  Logs go to stderr.\n"
	    "Long options take one dash or two, and -opt=VALUE or -opt VALUE\n"
	    "(a boolean only -opt or -opt=true|false, as Go's flag package).\n"
	    "\n"
	    "  -confdir DIR         conf.d/ and templates/ (default\n"
	    "                       /etc/calico/confd); a relative dest is\n"
	    "                       taken under DIR\n"
	    "  -backend TYPE        etcdv3 (Calico v3 resources seen as the "
	    "v1\n"
	    "                       keys templates read; the default), etcdv2\n"
	    "                       (a Calico v2.6 etcd), file (a YAML or "
	    "JSON\n"
	    "                       file of keys); confd's \"etcd\" means "
	    "etcdv2\n"
	    "  -node URL            an etcd endpoint; repeat or separate with\n"
	    "                       commas (default $ETCD_ENDPOINTS, else\n"
	    "                       http://127.0.0.1:2379)\n"
	    "  -file KV             the file backend's file (read again when "
	    "it\n"
	    "                       changes)\n"
	    "  -prefix PATH         etcdv2: the key prefix mirrored (default\n"
	    "                       /calico)\n"
	    "  -onetime             render once and exit: 1 if any template\n"
	    "                       resource failed or the backend did not "
	    "load\n"
	    "                       within 30 s\n"
	    "  -watch               accepted: watching is what it does unless\n"
	    "                       -onetime\n"
	    "  -interval N          accepted and ignored: changes are "
	    "watched,\n"
	    "                       never polled\n"
	    "  -noop                render and run check_cmd; write and "
	    "reload\n"
	    "                       nothing\n"
	    "  -keep-stage-file     keep staged files that were not renamed "
	    "over\n"
	    "                       dest\n"
	    "  -log-level LEVEL     debug, info (default), warn or error\n"
	    "  -client-ca-keys FILE CA for etcd (default $ETCD_CA_CERT_FILE)\n"
	    "  -client-cert FILE    client certificate ($ETCD_CERT_FILE)\n"
	    "  -client-key FILE     its key ($ETCD_KEY_FILE)\n"
	    "  -username NAME, -password PASS\n"
	    "                       etcd authentication ($ETCD_USERNAME,\n"
	    "                       $ETCD_PASSWORD)\n"
	    "  --nodename NAME      this node, for //NODENAME in prefix and "
	    "keys\n"
	    "                       and the etcdv3 backend's affinities "
	    "(default\n"
	    "                       $NODENAME, else the host name in lower\n"
	    "                       case, as calico/node names it); sets\n"
	    "                       $NODENAME to it for the templates\n"
	    "  --debounce MS        wait this long after a change before\n"
	    "                       rendering (default 50; 0: none)\n"
	    "  -h, --help           this text\n"
	    "  -V, --version        print the version\n"
	    "\n"
	    "Environment: ETCD_ENDPOINTS, ETCD_CA_CERT_FILE, ETCD_CERT_FILE,\n"
	    "ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD (or the same with a\n"
	    "CALICO_ prefix); DATASTORE_TYPE etcdv3 or etcdv2 when there is "
	    "no\n"
	    "-backend (kubernetes is not supported); NODENAME.  Flags win "
	    "over\n"
	    "the environment.\n"
	    "\n"
	    "Exit status: 0 on a clean stop (or a -onetime render without\n"
	    "failures), 1 on a failure, 2 for bad arguments or environment.\n");
}

/* $NAME, else $CALICO_NAME, else NULL (empty counts as unset). */
static const char *
env(const char *name)
{
	char calico[64];
	const char *v;

	if ((v = getenv(name)) != NULL && *v != '\0')
		return v;
	snprintf(calico, sizeof(calico), "CALICO_%s", name);
	if ((v = getenv(calico)) != NULL && *v != '\0')
		return v;
	return NULL;
}

/* Go's flag package takes "-onetime", "-onetime=true", "-onetime=false". */
static int
bool_arg(const char *name, const char *arg, bool *out)
{
	if (arg == NULL || strcasecmp(arg, "true") == 0 ||
	    strcmp(arg, "1") == 0 || strcmp(arg, "t") == 0) {
		*out = true;
		return 0;
	}
	if (strcasecmp(arg, "false") == 0 || strcmp(arg, "0") == 0 ||
	    strcmp(arg, "f") == 0) {
		*out = false;
		return 0;
	}
	fprintf(stderr, "podmesh-confd: invalid boolean value \"%s\" for -%s\n",
	    arg, name);
	return -1;
}

static int
int_arg(const char *name, const char *arg, int min, int *out)
{
	char *end;
	long v;

	v = strtol(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || v < min || v > 1000000000) {
		fprintf(stderr, "podmesh-confd: invalid value \"%s\" for -%s\n",
		    arg, name);
		return -1;
	}
	*out = (int)v;
	return 0;
}

enum {
	OPT_CONFDIR = 256,
	OPT_BACKEND,
	OPT_NODE,
	OPT_FILE,
	OPT_PREFIX,
	OPT_ONETIME,
	OPT_WATCH,
	OPT_INTERVAL,
	OPT_NOOP,
	OPT_KEEP_STAGE,
	OPT_LOG_LEVEL,
	OPT_CERT,
	OPT_KEY,
	OPT_CA,
	OPT_USERNAME,
	OPT_PASSWORD,
	OPT_NODENAME,
	OPT_DEBOUNCE,
};

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
	    {"confdir", required_argument, NULL, OPT_CONFDIR},
	    {"backend", required_argument, NULL, OPT_BACKEND},
	    {"node", required_argument, NULL, OPT_NODE},
	    {"file", required_argument, NULL, OPT_FILE},
	    {"prefix", required_argument, NULL, OPT_PREFIX},
	    {"onetime", optional_argument, NULL, OPT_ONETIME},
	    {"watch", optional_argument, NULL, OPT_WATCH},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"noop", optional_argument, NULL, OPT_NOOP},
	    {"keep-stage-file", optional_argument, NULL, OPT_KEEP_STAGE},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"client-cert", required_argument, NULL, OPT_CERT},
	    {"client-key", required_argument, NULL, OPT_KEY},
	    {"client-ca-keys", required_argument, NULL, OPT_CA},
	    {"username", required_argument, NULL, OPT_USERNAME},
	    {"password", required_argument, NULL, OPT_PASSWORD},
	    {"nodename", required_argument, NULL, OPT_NODENAME},
	    {"debounce", required_argument, NULL, OPT_DEBOUNCE},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct confd_opts opts = {.confdir = "/etc/calico/confd"};
	struct confd_backend_config bc = {0};
	struct confd_backend *backend;
	struct event_base *base;
	enum log_level level = LOG_LVL_INFO;
	const char *type = NULL, *ds, *nodename = NULL;
	char err[CONFD_ERRLEN], host[256], *nodes = NULL, *s;
	bool watch = false, b;
	int ch, rc, interval;

	log_init("podmesh-confd", LOG_LVL_INFO);
	store_init();
	while (
	    (ch = getopt_long_only(argc, argv, "hV", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_CONFDIR:
			opts.confdir = optarg;
			break;
		case OPT_BACKEND:
			type = optarg;
			break;
		case OPT_NODE:
			if (nodes == NULL)
				nodes = xstrdup(optarg);
			else {
				xasprintf(&s, "%s,%s", nodes, optarg);
				free(nodes);
				nodes = s;
			}
			break;
		case OPT_FILE:
			bc.file = optarg;
			break;
		case OPT_PREFIX:
			bc.v2_prefix = optarg;
			break;
		case OPT_ONETIME:
			if (bool_arg("onetime", optarg, &b) == -1)
				goto usage;
			opts.onetime = b;
			break;
		case OPT_WATCH:
			if (bool_arg("watch", optarg, &watch) == -1)
				goto usage;
			break;
		case OPT_INTERVAL:
			if (int_arg("interval", optarg, 0, &interval) == -1)
				goto usage;
			break;
		case OPT_NOOP:
			if (bool_arg("noop", optarg, &b) == -1)
				goto usage;
			opts.noop = b;
			break;
		case OPT_KEEP_STAGE:
			if (bool_arg("keep-stage-file", optarg, &b) == -1)
				goto usage;
			opts.keep_stage = b;
			break;
		case OPT_LOG_LEVEL:
			if (strcasecmp(optarg, "warning") == 0)
				level = LOG_LVL_WARN;
			else if (strcasecmp(optarg, "fatal") == 0 ||
			    strcasecmp(optarg, "panic") == 0)
				level = LOG_LVL_ERROR;
			else if (log_level_parse(optarg, &level) == -1) {
				fprintf(stderr,
				    "podmesh-confd: unknown log level \"%s\": "
				    "use debug, info, warn or error\n",
				    optarg);
				goto usage;
			}
			break;
		case OPT_CERT:
			bc.etcd.cert_file = optarg;
			break;
		case OPT_KEY:
			bc.etcd.key_file = optarg;
			break;
		case OPT_CA:
			bc.etcd.ca_file = optarg;
			break;
		case OPT_USERNAME:
			bc.etcd.username = optarg;
			break;
		case OPT_PASSWORD:
			bc.etcd.password = optarg;
			break;
		case OPT_NODENAME:
			nodename = optarg;
			break;
		case OPT_DEBOUNCE:
			if (int_arg("debounce", optarg, 0, &opts.debounce_ms) ==
			    -1)
				goto usage;
			if (opts.debounce_ms == 0)
				opts.debounce_ms = -1; /* confd.h: 0 = 50 */
			break;
		case 'h':
			usage(stdout);
			free(nodes);
			return 0;
		case 'V':
			printf("podmesh-confd %s\n", PODMESH_VERSION);
			free(nodes);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "podmesh-confd: unexpected argument \"%s\"\n",
		    argv[optind]);
		goto usage;
	}
	log_setlevel(level);

	/* the datastore: flags, then calico/node's environment */
	ds = type == NULL ? env("DATASTORE_TYPE") : NULL;
	if (ds != NULL && strcmp(ds, "etcdv3") != 0 &&
	    strcmp(ds, "etcdv2") != 0) {
		fprintf(stderr,
		    "podmesh-confd: DATASTORE_TYPE=%s is not supported: "
		    "podmesh-confd reads etcd (etcdv3, etcdv2) or a file\n",
		    ds);
		free(nodes);
		return 2;
	}
	if (type == NULL)
		type = ds != NULL ? ds : "etcdv3";
	else if (strcmp(type, "etcd") == 0)
		type = "etcdv2"; /* confd's name for its etcd v2 backend */
	if (strcmp(type, "etcdv3") != 0 && strcmp(type, "etcdv2") != 0 &&
	    strcmp(type, "file") != 0) {
		fprintf(stderr,
		    "podmesh-confd: unknown backend \"%s\": use etcdv3, etcdv2 "
		    "or file\n",
		    type);
		goto usage;
	}
	if (strcmp(type, "file") == 0 && bc.file == NULL) {
		fprintf(stderr, "podmesh-confd: -backend file needs -file\n");
		goto usage;
	}
	bc.type = type;
	bc.etcd.endpoints = nodes != NULL ? nodes : env("ETCD_ENDPOINTS");
	if (bc.etcd.ca_file == NULL)
		bc.etcd.ca_file = env("ETCD_CA_CERT_FILE");
	if (bc.etcd.cert_file == NULL)
		bc.etcd.cert_file = env("ETCD_CERT_FILE");
	if (bc.etcd.key_file == NULL)
		bc.etcd.key_file = env("ETCD_KEY_FILE");
	if (bc.etcd.username == NULL)
		bc.etcd.username = env("ETCD_USERNAME");
	if (bc.etcd.password == NULL)
		bc.etcd.password = env("ETCD_PASSWORD");

	/* the node: --nodename, $NODENAME, the host name */
	if (nodename == NULL)
		nodename = env("NODENAME");
	if (nodename == NULL) {
		if (gethostname(host, sizeof(host)) == -1) {
			log_warn("gethostname");
			host[0] = '\0';
		}
		host[sizeof(host) - 1] = '\0';
		/* as calico/node (and podmesh-node) name a node after it */
		for (s = host; *s != '\0'; s++)
			*s = (char)tolower((unsigned char)*s);
		nodename = host;
	}
	/* templates read $NODENAME: the same node as //NODENAME */
	setenv("NODENAME", nodename, 1);
	opts.nodename = nodename;
	bc.nodename = nodename;
	(void)watch;

	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new failed");
	bc.base = base;
	bc.etcd.base = base;
	log_info("podmesh-confd %s: node %s, backend %s, confdir %s%s",
	    PODMESH_VERSION, nodename, type, opts.confdir,
	    opts.onetime ? ", onetime" : "");
	if ((backend = confd_backend_new(&bc, err, sizeof(err))) == NULL) {
		log_errorx("%s", err);
		event_base_free(base);
		free(nodes);
		return 1;
	}
	rc = confd_run(&opts, backend, base, err, sizeof(err));
	if (rc == -1)
		log_errorx("%s", err);
	confd_backend_free(backend);
	event_base_free(base);
	free(nodes);
	return rc == 0 ? 0 : 1;
usage:
	fprintf(stderr,
	    "usage: podmesh-confd [-confdir DIR] [-backend TYPE] "
	    "[-node URL]... [-onetime] ...; --help for more\n");
	free(nodes);
	return 2;
}
