/*
 * podmesh-bgpd: a BGP-4 speaker for pod networks.  Runs in the foreground,
 * logs to stderr, reloads its configuration on SIGHUP and shuts its sessions
 * down with Cease/Administrative Shutdown on SIGINT or SIGTERM.
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

#define DEFAULT_CONFIG "/etc/podmesh/bgpd.yaml"
#define PODMESH_VERSION "0.1.0"

static const char *config_path = DEFAULT_CONFIG;
static struct bgpd *bgpd;
static struct event_base *base;
static int debug_flag;

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
	    "Signals: SIGHUP reloads FILE (unchanged sessions stay up);\n"
	    "SIGINT and SIGTERM close all sessions and exit.\n"
	    "Inspect a running daemon with `podmeshctl bgp peers|routes`.\n",
	    DEFAULT_CONFIG);
}

static void
on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct bgpd_config *nc;

	log_info("SIGHUP: reloading %s", config_path);
	if ((nc = config_load(config_path, stderr)) == NULL) {
		log_warnx("reload failed: keeping the running configuration");
		return;
	}
	if (debug_flag)
		nc->log_level = LOG_LVL_DEBUG;
	bgpd_reload(bgpd, nc);
}

static void
on_term(evutil_socket_t sig, short what, void *arg)
{
	struct peer *p;
	struct timeval tv = {0, 300000};

	log_info("signal %d: shutting down", (int)sig);
	TAILQ_FOREACH(p, &bgpd->peers, entry)
	peer_stop(p, ERR_CEASE_ADMIN_DOWN);
	/* give the NOTIFICATIONs a moment to leave */
	event_base_loopexit(base, &tv);
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
	int ch, check = 0;

	log_init("podmesh-bgpd", LOG_LVL_INFO);
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
	bgpd = bgpd_new(base, conf);
	if (bgpd_start(bgpd) == -1) {
		bgpd_free(bgpd);
		event_base_free(base);
		return 1;
	}
	ev_hup = evsignal_new(base, SIGHUP, on_hup, NULL);
	ev_int = evsignal_new(base, SIGINT, on_term, NULL);
	ev_term = evsignal_new(base, SIGTERM, on_term, NULL);
	evsignal_add(ev_hup, NULL);
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_term, NULL);
	log_info("started: AS %u, router id %u.%u.%u.%u", conf->asn,
	    conf->router_id >> 24, (conf->router_id >> 16) & 0xff,
	    (conf->router_id >> 8) & 0xff, conf->router_id & 0xff);

	event_base_dispatch(base);

	event_free(ev_hup);
	event_free(ev_int);
	event_free(ev_term);
	bgpd_free(bgpd);
	event_base_free(base);
	log_info("exiting");
	return 0;
}
