/*
 * podmesh-bgpd: a BGP-4 speaker for pod networks.  Runs in the foreground,
 * logs to stderr, reloads its configuration on SIGHUP and shuts its sessions
 * down with Cease/Administrative Shutdown on SIGINT or SIGTERM (SIGTERM is a
 * graceful restart when the kernel sync keeps routes).  With node-name and
 * datastore it runs on a node: node/dsmode.c feeds it from etcd.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "bgp/bgpd.h"
#include "bgp/kernel.h"
#include "bgp/metrics.h"
#include "node/dsmode.h"
#include "store/store.h"
#include "store/wcache.h"

#define DEFAULT_CONFIG "/etc/podmesh/bgpd.yaml"
#define PODMESH_VERSION "0.1.0"

#define SYNC_CHECK_SECS 1 /* how often to ask "has the RIB converged?" */

static const char *config_path = DEFAULT_CONFIG;
static struct bgpd *bgpd;
static struct event_base *base;
static struct kernel *kernel;
static struct node_ds *ds;
static struct bgpd_config *file_conf; /* datastore mode: the file's */
static struct event *sync_ev;
static bool kernel_done; /* adopted kernel routes reconciled */
static bool adopted_at_start;
static struct http *http; /* metrics and health */
static struct http_config http_conf; /* what http listens on */
static time_t started;
static int debug_flag;
static int exit_code;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: podmesh-bgpd [-c FILE] [--check] [-d] [--help] "
	    "[--version]\n"
	    "\n"
	    "A BGP-4 speaker (RFC 4271) that peers with BIRD, GoBGP, FRR and\n"
	    "other podmesh-bgpd instances, optionally as a route reflector.\n"
	    "It runs in the foreground and logs to stderr.\n"
	    "\n"
	    "  -c, --config FILE  YAML configuration (default %s)\n"
	    "  -n, --check        validate FILE, print FILE:LINE: message for\n"
	    "                     each error, exit 0 if it is valid, 1 if not\n"
	    "  -d, --debug        log at debug level whatever FILE says\n"
	    "  -h, --help         this text\n"
	    "  -V, --version      print the version\n"
	    "\n"
	    "With node-name and datastore: in FILE it runs on a node: peers,\n"
	    "router id, ASN and announced blocks come from Calico's etcd\n"
	    "datastore, and with kernel: {enabled: true} learned routes are\n"
	    "installed in the kernel (protocol 44) and kept on exit.\n"
	    "\n"
	    "Signals: SIGHUP reloads FILE (unchanged sessions stay up);\n"
	    "SIGINT closes all sessions with Cease and exits; so does\n"
	    "SIGTERM, except with the kernel sync on or in datastore mode:\n"
	    "then it is a graceful restart (RFC 4724): sessions close\n"
	    "without NOTIFICATION and peers keep our routes for the restart\n"
	    "time.\n"
	    "Inspect a running daemon with `podmeshctl bgp peers|routes`.\n"
	    "Metrics and health: http://127.0.0.1:9099/metrics, /liveness,\n"
	    "/readiness (the http: key of FILE).\n",
	    DEFAULT_CONFIG);
}

static bool
str_same(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* what a reload cannot change in a running daemon, or NULL */
static const char *
reload_blocked(const struct bgpd_config *run, const struct bgpd_config *nc)
{
	const struct datastore_config *a = &run->datastore, *b = &nc->datastore;
	size_t i;

	if (!str_same(run->node_name, nc->node_name))
		return "node-name";
	if (!str_same(a->type, b->type) || a->nendpoints != b->nendpoints ||
	    !str_same(a->ca_file, b->ca_file) ||
	    !str_same(a->cert_file, b->cert_file) ||
	    !str_same(a->key_file, b->key_file) ||
	    !str_same(a->username, b->username) ||
	    !str_same(a->password, b->password))
		return "datastore";
	for (i = 0; i < a->nendpoints; i++)
		if (strcmp(a->endpoints[i], b->endpoints[i]) != 0)
			return "datastore";
	if (run->kernel.enabled != nc->kernel.enabled ||
	    run->kernel.protocol != nc->kernel.protocol ||
	    run->kernel.table != nc->kernel.table)
		return "kernel";
	return NULL;
}

/* what a scrape or a probe reads: filled for each request */
static void
http_fill(struct metrics_src *src, void *arg)
{
	static struct kernel_stats ks;
	static struct metrics_ds md;
	struct wcache_stats ws;
	const struct wcache *wc;

	src->bgpd = bgpd;
	src->version = PODMESH_VERSION;
	src->started = started;
	if (kernel != NULL) {
		kernel_stats_get(kernel, &ks);
		src->kernel = &ks;
	}
	if (ds != NULL) {
		memset(&md, 0, sizeof(md));
		md.enabled = true;
		md.synced = node_ds_synced(ds);
		if ((wc = node_ds_cache(ds)) != NULL) {
			wcache_stats(wc, &ws);
			md.watch_up = ws.watch_up;
			md.revision = wcache_revision(wc);
			md.keys = ws.keys;
			md.lists = ws.lists;
			md.list_errors = ws.list_errors;
			md.disconnects = ws.disconnects;
			md.events = ws.applied;
		}
		src->ds = &md;
	}
}

static bool
http_same(const struct http_config *a, const struct http_config *b)
{
	return a->port == b->port &&
	    (a->port == 0 || addr_cmp(&a->addr, &b->addr) == 0);
}

/*
 * At start: an http: key in the file makes a failed bind fatal, as for
 * the other listeners; without one (the default, 127.0.0.1:9099) it is
 * only a warning, so several daemons can share a namespace (tests).
 */
static int
http_start(const struct bgpd_config *conf)
{
	char err[256];

	http_conf = conf->http;
	if ((http = http_new(base, &conf->http, http_fill, NULL, err,
	         sizeof(err))) != NULL ||
	    conf->http.port == 0)
		return 0;
	if (conf->http.set) {
		log_warnx("%s", err);
		return -1;
	}
	log_warnx("%s; running without metrics and health (set http: "
	          "{port: 0} to turn them off)",
	    err);
	http_conf.port = 0;
	return 0;
}

/*
 * SIGHUP: a changed http section is listened on at once.  When the new
 * address cannot be had, the old one is kept (a warning says so).
 */
static void
http_reload(const struct bgpd_config *nc)
{
	char err[256], err2[256];
	struct http *nh;

	if (http_same(&http_conf, &nc->http))
		return;
	nh = http_new(base, &nc->http, http_fill, NULL, err, sizeof(err));
	if (nh == NULL && nc->http.port != 0 && http != NULL) {
		/* the new address may overlap the old one: free it first */
		http_free(http);
		http = NULL;
		nh = http_new(
		    base, &nc->http, http_fill, NULL, err, sizeof(err));
		if (nh == NULL &&
		    (http = http_new(base, &http_conf, http_fill, NULL, err2,
		         sizeof(err2))) == NULL)
			http_conf.port = 0;
	}
	if (nh == NULL && nc->http.port != 0) {
		log_warnx("reload: %s; %s", err,
		    http != NULL ? "keeping the previous http address"
		                 : "running without metrics and health");
		return;
	}
	http_free(http);
	http = nh;
	http_conf = nc->http;
	if (http == NULL)
		log_info("http: metrics and health turned off");
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	const struct bgpd_config *run = ds != NULL ? file_conf
	    : bgpd != NULL                         ? bgpd->conf
	                                           : NULL;
	struct bgpd_config *nc;
	const char *why;

	log_info("SIGHUP: reloading %s", config_path);
	if ((nc = config_load(config_path, stderr)) == NULL) {
		log_warnx("reload failed: keeping the running configuration");
		return;
	}
	if (run != NULL && (why = reload_blocked(run, nc)) != NULL) {
		log_warnx("reload: %s changed, which needs a restart; keeping "
		          "the running configuration",
		    why);
		config_free(nc);
		return;
	}
	if (debug_flag)
		nc->log_level = LOG_LVL_DEBUG;
	http_reload(nc);
	if (ds != NULL) {
		log_setlevel(nc->log_level);
		node_ds_set_file(ds, nc);
		config_free(file_conf);
		file_conf = nc;
		return;
	}
	if (bgpd != NULL)
		bgpd_reload(bgpd, nc);
	else
		config_free(nc);
}

/*
 * SIGTERM with the kernel sync on is a graceful restart (RFC 4724): the
 * sessions are closed without a NOTIFICATION, so peers keep our routes as
 * stale for the restart time, as we keep theirs in the kernel.  SIGINT, and
 * SIGTERM without the kernel sync, close every session with Cease, and
 * peers drop our routes at once.
 */
static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct peer *p;
	struct timeval tv = {0, 300000};
	/* as peers were told in our OPENs (session.c): GR families */
	bool graceful = sig == SIGTERM && (kernel != NULL || ds != NULL);

	if (graceful) {
		log_info("signal %d: graceful restart: closing sessions "
		         "without NOTIFICATION%s",
		    (int)sig, kernel != NULL ? "; kernel routes stay" : "");
		event_base_loopbreak(base);
		return;
	}
	log_info("signal %d: shutting down%s", (int)sig,
	    kernel != NULL ? "; kernel routes stay" : "");
	if (bgpd == NULL) {
		event_base_loopbreak(base);
		return;
	}
	/* the withdrawals that follow must not reach the kernel */
	bgpd->kernel = NULL;
	TAILQ_FOREACH(p, &bgpd->peers, entry)
	peer_stop(p, ERR_CEASE_ADMIN_DOWN);
	/* give the NOTIFICATIONs a moment to leave */
	event_base_loopexit(base, &tv);
}

/*
 * The RIB is complete once every configured peer is Established and has
 * sent End-of-RIB for each family: then routes adopted from the kernel at
 * start that nobody announced again are stale.  (A peer that never comes
 * back is covered by the kernel's own stale-time.)  For our own End-of-RIB
 * (for_eor) RFC 4724 §4.1 waits for neither peers without graceful restart
 * nor peers restarting themselves, which wait for ours; the kernel's stale
 * routes wait for everyone, or a reflector restarting beside us would
 * have them removed before it has learned them again.
 */
static bool
rib_converged(bool for_eor)
{
	struct peer_config *pc;
	struct peer *p;
	enum aid aid;
	bool ranges = false, statics = false;

	if (bgpd == NULL || (ds != NULL && !node_ds_synced(ds)))
		return false;
	TAILQ_FOREACH(pc, &bgpd->conf->peers, entry)
	{
		ranges |= pc->is_range;
		statics |= !pc->is_range;
	}
	/* dynamic neighbours come when they come: leave it to stale-time */
	if (ranges && !statics)
		return false;
	TAILQ_FOREACH(p, &bgpd->peers, entry)
	{
		if (p->dynamic)
			continue;
		if (p->state != STATE_ESTABLISHED)
			return false;
		if (for_eor &&
		    (!p->neg.gr || p->remote_open.caps.gr_restarting))
			continue;
		for (aid = 0; aid < AID_MAX; aid++)
			if (p->neg.mp[aid] && !p->eor_rcvd[aid])
				return false;
	}
	return true;
}

/*
 * Every SYNC_CHECK_SECS until both are done: our restart (End-of-RIB held
 * back, R and F in OPENs) and, with the kernel sync, the removal of
 * adopted routes nobody announced again.
 */
static void
on_sync_check(evutil_socket_t fd, short what, void *arg)
{
	struct timeval tv = {SYNC_CHECK_SECS, 0};
	struct kernel_stats ks;
	time_t limit;

	if (bgpd != NULL && bgpd->restarting) {
		/* the kernel's stale timer started with bgpd (start_bgpd) */
		limit = kernel != NULL ? bgpd->conf->kernel.stale_time
		                       : bgpd->conf->gr_time;
		if (time(NULL) - bgpd->started >= limit) {
			log_info("restart time over: sending End-of-RIB");
			bgpd_restart_over(bgpd);
		} else if (rib_converged(true)) {
			log_info("routes converged: restart over");
			bgpd_restart_over(bgpd);
		}
	}
	if (kernel != NULL && !kernel_done) {
		kernel_stats_get(kernel, &ks);
		if (adopted_at_start && ks.adopted == 0) {
			/* learned again, or the stale time removed them */
			kernel_done = true;
		} else if (rib_converged(false)) {
			log_info("routes converged: removing stale kernel "
			         "routes");
			kernel_synced(kernel);
			kernel_done = true;
		}
	}
	if (bgpd == NULL || bgpd->restarting ||
	    (kernel != NULL && !kernel_done))
		evtimer_add(sync_ev, &tv);
}

static int
start_bgpd(struct bgpd_config *conf)
{
	bgpd = bgpd_new(base, conf);
	bgpd->kernel = kernel;
	/*
	 * RFC 4724: restarting with forwarding state kept when the kernel
	 * sync adopted routes from before; in datastore mode without one
	 * (a dedicated reflector), forwarding is not ours to lose, so every
	 * start is a restart: peers keep our routes until our End-of-RIB.
	 */
	if (kernel != NULL) {
		struct kernel_stats ks;

		kernel_stats_get(kernel, &ks);
		adopted_at_start = ks.adopted > 0;
		bgpd->restarting = adopted_at_start;
	} else
		bgpd->restarting = ds != NULL;
	if (bgpd_start(bgpd) == -1)
		return -1;
	/* sessions can learn routes from now on: adopted ones wait so long */
	if (kernel != NULL)
		kernel_stale_arm(kernel);
	log_info("started: AS %u, router id %u.%u.%u.%u", conf->asn,
	    conf->router_id >> 24, (conf->router_id >> 16) & 0xff,
	    (conf->router_id >> 8) & 0xff, conf->router_id & 0xff);
	return 0;
}

/* datastore mode: the node's configuration, first or changed */
static void
on_apply(struct bgpd_config *nc, void *arg)
{
	if (bgpd != NULL) {
		bgpd_reload(bgpd, nc);
		return;
	}
	if (start_bgpd(nc) == -1) {
		exit_code = 1;
		event_base_loopbreak(base);
	}
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'n'},
	    {"debug", no_argument, NULL, 'd'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct event *ev_hup, *ev_int, *ev_term;
	struct bgpd_config *conf;
	char err[512];
	int ch, check = 0;

	log_init("podmesh-bgpd", LOG_LVL_INFO);
	store_init();
	while ((ch = getopt_long(argc, argv, "c:ndhV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'd':
			debug_flag = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("podmesh-bgpd %s\n", PODMESH_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if ((conf = config_load(config_path, stderr)) == NULL)
		return 1;
	if (check) {
		printf("%s: configuration OK\n", config_path);
		config_free(conf);
		return 0;
	}
	if (debug_flag)
		conf->log_level = LOG_LVL_DEBUG;
	log_setlevel(conf->log_level);
	srandom((unsigned int)time(NULL) ^ (unsigned int)getpid());
	signal(SIGPIPE, SIG_IGN);

	if ((base = event_base_new()) == NULL)
		fatalx("event_base_new");
	started = time(NULL);
	/* first: liveness answers while the datastore is being read */
	if (http_start(conf) == -1) {
		config_free(conf);
		event_base_free(base);
		return 1;
	}
	if (conf->kernel.enabled) {
		struct kernel_config kc = {
		    .enabled = true,
		    .protocol = conf->kernel.protocol,
		    .table = conf->kernel.table,
		    .stale_time = conf->kernel.stale_time,
		};
		if ((kernel = kernel_new(base, &kc, err, sizeof(err))) ==
		    NULL) {
			log_warnx("kernel: %s", err);
			config_free(conf);
			http_free(http);
			event_base_free(base);
			return 1;
		}
	}
	if (conf->node_name != NULL) {
		ds = node_ds_new(base, conf, on_apply, NULL, err, sizeof(err));
		if (ds == NULL) {
			log_warnx("datastore: %s", err);
			config_free(conf);
			http_free(http);
			kernel_free(kernel);
			event_base_free(base);
			return 1;
		}
		node_ds_set_kernel(ds, kernel);
		log_info("node %s: reading the datastore", conf->node_name);
		file_conf = conf;
	} else if (start_bgpd(conf) == -1) {
		http_free(http);
		bgpd_free(bgpd);
		kernel_free(kernel);
		event_base_free(base);
		return 1;
	}
	if (kernel != NULL || ds != NULL) {
		struct timeval tv = {SYNC_CHECK_SECS, 0};

		sync_ev = evtimer_new(base, on_sync_check, NULL);
		evtimer_add(sync_ev, &tv);
	}
	ev_hup = evsignal_new(base, SIGHUP, on_hup, NULL);
	ev_int = evsignal_new(base, SIGINT, on_term, NULL);
	ev_term = evsignal_new(base, SIGTERM, on_term, NULL);
	evsignal_add(ev_hup, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_term, NULL);

	event_base_dispatch(base);

	event_free(ev_hup);
	event_free(ev_int);
	event_free(ev_term);
	if (sync_ev != NULL)
		event_free(sync_ev);
	http_free(http);
	if (bgpd != NULL)
		bgpd->kernel =
		    NULL; /* routes stay: no withdrawal on the way out */
	bgpd_free(bgpd);
	config_free(file_conf);
	node_ds_free(ds);
	kernel_free(kernel);
	event_base_free(base);
	log_info("exiting");
	return exit_code;
}
