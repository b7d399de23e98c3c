/*
 * The render cycle (confd.h's confd_run), confd's processor on a libevent
 * loop: the backend says when its keys changed, a timer collapses a burst
 * of changes into one render (opts->debounce_ms after the first of them;
 * the render after the first load is not delayed), and a render processes
 * every template resource in conf.d order, logging each outcome.  With
 * onetime it waits for the first load (CYCLE_LOAD_TIMEOUT_MS at most),
 * renders once and stops.  SIGHUP reads conf.d again (a bad file keeps the
 * resources already loaded) and renders; SIGTERM and SIGINT stop the loop.
 * All state lives in struct cycle on confd_run()'s stack.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "confd/confd.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

#define CYCLE_LOAD_TIMEOUT_MS 30000
#define CYCLE_DEBOUNCE_MS 50

struct cycle {
	const struct confd_opts *opts;
	struct confd_backend *backend;
	struct event_base *base;
	struct confd_resource *res;
	size_t nres;
	struct event *render_ev; /* the debounce timer */
	struct event *load_ev; /* onetime: the backend's deadline */
	struct event *sig_ev[3]; /* SIGHUP, SIGTERM, SIGINT */
	bool loaded; /* the backend has called back once */
	uint64_t renders;
	int rc;
	char *err;
	size_t errlen;
};

static void
ms_timeval(int ms, struct timeval *tv)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (ms % 1000) * 1000;
}

static double
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void
cycle_schedule(struct cycle *c, int ms)
{
	struct timeval tv;

	if (evtimer_pending(c->render_ev, NULL))
		return;
	ms_timeval(ms, &tv);
	evtimer_add(c->render_ev, &tv);
}

static void
cycle_backend_cb(struct confd_backend *b, void *arg)
{
	struct cycle *c = arg;
	int ms = c->opts->debounce_ms > 0 ? c->opts->debounce_ms
	    : c->opts->debounce_ms == 0   ? CYCLE_DEBOUNCE_MS
	                                  : 0;

	if (!c->loaded) {
		c->loaded = true;
		log_info("%s: loaded", confd_backend_describe(b));
		if (c->load_ev != NULL)
			evtimer_del(c->load_ev);
		ms = 0;
	} else
		log_debug("%s: changed", confd_backend_describe(b));
	cycle_schedule(c, ms);
}

/* Every resource, in order: the outcome of each in the log. */
static void
cycle_render(evutil_socket_t fd, short what, void *arg)
{
	struct cycle *c = arg;
	const struct confd_kvs *kvs = confd_backend_kvs(c->backend);
	struct confd_resource *r;
	struct timespec t0;
	char err[CONFD_ERRLEN];
	size_t i, updated = 0, failed = 0;
	const char *last = NULL;

	if (kvs == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	c->renders++;
	for (i = 0; i < c->nres; i++) {
		r = &c->res[i];
		switch (
		    confd_resource_process(r, kvs, c->opts, err, sizeof(err))) {
		case CONFD_UNCHANGED:
			log_debug("%s: unchanged", r->dest);
			break;
		case CONFD_UPDATED:
			updated++;
			if (err[0] != '\0')
				log_warnx("%s: updated: %s", r->dest, err);
			else
				log_info("%s: updated", r->dest);
			break;
		case CONFD_FAILED:
			failed++;
			last = r->last_error;
			log_errorx("%s: %s", r->dest, err);
			break;
		}
	}
	if (updated > 0 || failed > 0)
		log_info("render %llu: %zu template resources, %zu updated, "
		         "%zu failed, %.1f ms",
		    (unsigned long long)c->renders, c->nres, updated, failed,
		    elapsed_ms(&t0));
	else
		log_debug("render %llu: %zu template resources unchanged, "
		          "%.1f ms",
		    (unsigned long long)c->renders, c->nres, elapsed_ms(&t0));
	if (c->opts->onetime) {
		if (failed > 0) {
			snprintf(c->err, c->errlen,
			    "%zu of %zu template resources failed (last: %s)",
			    failed, c->nres, last);
			c->rc = -1;
		}
		event_base_loopbreak(c->base);
	}
}

static void
cycle_load_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct cycle *c = arg;

	snprintf(c->err, c->errlen, "%s: no complete load within %d s",
	    confd_backend_describe(c->backend), CYCLE_LOAD_TIMEOUT_MS / 1000);
	c->rc = -1;
	event_base_loopbreak(c->base);
}

static void
cycle_free_resources(struct confd_resource *res, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		confd_resource_clean(&res[i]);
	free(res);
}

static void
cycle_signal(evutil_socket_t sig, short what, void *arg)
{
	struct cycle *c = arg;
	struct confd_resource *res;
	char err[CONFD_ERRLEN];
	size_t n;

	if (sig != SIGHUP) {
		log_info("%s: stopping", strsignal((int)sig));
		if (c->opts->onetime) {
			snprintf(c->err, c->errlen, "%s before the render",
			    strsignal((int)sig));
			c->rc = -1;
		}
		event_base_loopbreak(c->base);
		return;
	}
	if (confd_resources_load(c->opts, &res, &n, err, sizeof(err)) == -1) {
		log_errorx("SIGHUP: %s; keeping the %zu template resources "
		           "loaded before",
		    err, c->nres);
		return;
	}
	cycle_free_resources(c->res, c->nres);
	c->res = res;
	c->nres = n;
	log_info("SIGHUP: %zu template resources loaded", n);
	if (c->loaded)
		cycle_schedule(c, 0);
}

int
confd_run(const struct confd_opts *opts, struct confd_backend *backend,
    struct event_base *base, char *err, size_t errlen)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	struct cycle c = {
	    .opts = opts,
	    .backend = backend,
	    .base = base,
	    .err = err,
	    .errlen = errlen,
	};
	struct timeval tv;
	size_t i;

	err[0] = '\0';
	if (confd_resources_load(opts, &c.res, &c.nres, err, errlen) == -1)
		return -1;
	for (i = 0; i < c.nres; i++)
		log_debug("template resource %s: %s -> %s", c.res[i].toml,
		    c.res[i].src, c.res[i].dest);
	log_info("%zu template resources from %s/conf.d", c.nres,
	    opts->confdir != NULL ? opts->confdir : "/etc/calico/confd");
	c.render_ev = evtimer_new(base, cycle_render, &c);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		c.sig_ev[i] = evsignal_new(base, sigs[i], cycle_signal, &c);
		event_add(c.sig_ev[i], NULL);
	}
	if (opts->onetime) {
		c.load_ev = evtimer_new(base, cycle_load_timeout, &c);
		ms_timeval(CYCLE_LOAD_TIMEOUT_MS, &tv);
		evtimer_add(c.load_ev, &tv);
	}
	confd_backend_set_callback(backend, cycle_backend_cb, &c);
	if (confd_backend_start(backend, err, errlen) == -1)
		c.rc = -1;
	else if (event_base_dispatch(base) == -1) {
		snprintf(err, errlen, "the event loop failed");
		c.rc = -1;
	}
	confd_backend_set_callback(backend, NULL, NULL);
	if (c.load_ev != NULL)
		event_free(c.load_ev);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		event_free(c.sig_ev[i]);
	event_free(c.render_ev);
	cycle_free_resources(c.res, c.nres);
	return c.rc;
}
