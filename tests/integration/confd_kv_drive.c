/*
 * confd_kv_drive: opens one of podmesh-confd's backends (confd.h) on an
 * event loop and prints the whole key tree each time the backend says it
 * changed, for t_confd_etcdv2.sh.  Logs go to stderr.
 *
 *   confd_kv_drive [-e ENDPOINTS] [-p V2_PREFIX] [-f FILE] [-d] TYPE
 *
 * Each change prints a block, flushed at once:
 *
 *	CHANGE <n> keys=<k> desc=<describe>
 *	<key>=<value>		(one line per key, sorted)
 *	END <n>
 *
 * On SIGTERM or SIGINT it frees the backend (joining any thread) and prints
 * "FREED ms=<milliseconds the free took>" before exiting 0.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "confd/confd.h"
#include "lib/log.h"

static unsigned long changes;

static void
on_change(struct confd_backend *b, void *arg)
{
	const struct confd_kvs *kvs = confd_backend_kvs(b);
	size_t i;

	(void)arg;
	changes++;
	printf("CHANGE %lu keys=%zu desc=%s\n", changes, kvs->n,
	    confd_backend_describe(b));
	for (i = 0; i < kvs->n; i++)
		printf("%s=%s\n", kvs->v[i].key, kvs->v[i].value);
	printf("END %lu\n", changes);
	fflush(stdout);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	event_base_loopbreak(arg);
}

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
	    "usage: confd_kv_drive [-e ENDPOINTS] [-p V2_PREFIX] "
	    "[-f FILE] [-d] etcdv3|etcdv2|file\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct confd_backend_config cfg;
	struct confd_backend *b;
	struct event_base *base;
	struct event *sigterm, *sigint;
	struct timespec a, z;
	char err[CONFD_ERRLEN];
	int c;
	enum log_level lvl = LOG_LVL_INFO;

	memset(&cfg, 0, sizeof(cfg));
	while ((c = getopt(argc, argv, "e:p:f:d")) != -1) {
		switch (c) {
		case 'e':
			cfg.etcd.endpoints = optarg;
			break;
		case 'p':
			cfg.v2_prefix = optarg;
			break;
		case 'f':
			cfg.file = optarg;
			break;
		case 'd':
			lvl = LOG_LVL_DEBUG;
			break;
		default:
			usage();
		}
	}
	if (optind + 1 != argc)
		usage();
	log_init("confd_kv_drive", lvl);
	cfg.type = argv[optind];
	base = event_base_new();
	cfg.base = base;
	cfg.etcd.base = base;
	if ((b = confd_backend_new(&cfg, err, sizeof(err))) == NULL) {
		fprintf(stderr, "error: %s\n", err);
		return 1;
	}
	confd_backend_set_callback(b, on_change, NULL);
	if (confd_backend_start(b, err, sizeof(err)) == -1) {
		fprintf(stderr, "error: %s\n", err);
		confd_backend_free(b);
		return 1;
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	event_base_dispatch(base);
	clock_gettime(CLOCK_MONOTONIC, &a);
	confd_backend_free(b);
	clock_gettime(CLOCK_MONOTONIC, &z);
	printf("FREED ms=%ld\n",
	    (long)((z.tv_sec - a.tv_sec) * 1000 +
	        (z.tv_nsec - a.tv_nsec) / 1000000));
	fflush(stdout);
	event_free(sigterm);
	event_free(sigint);
	event_base_free(base);
	return 0;
}
