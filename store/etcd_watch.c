/*
 * etcd v3 watches over the gateway: POST /v3/watch with a create_request
 * answers with an endless chunked stream, one {"result": WatchResponse}
 * per line.  One watch per HTTP request.
 *
 * The watch remembers the revision after the last one it delivered
 * (next_rev).  When the stream breaks it reconnects with a backoff and
 * starts again at next_rev, so an etcd restart loses and repeats nothing.
 * etcd sends all events of one revision in one response, so "last event's
 * mod_revision + 1" is a safe resume point; a progress notification moves
 * it to its header revision + 1.  A start revision below etcd's compaction
 * ends in a cancel carrying compact_revision: the watch stops and says so,
 * and the caller re-lists.
 *
 * The backoff starts over only when next_rev moves forward: a stream that
 * is created and then breaks at once (a proxy that cuts it, a line over
 * ETCD_MAX_ANSWER, a line that does not parse) must not bring a reconnect
 * every 100 ms.  When the same revision has failed to parse or to fit
 * WATCH_STUCK_MAX times, resuming cannot help: the watch stops with
 * ETCD_WATCH_CANCELED, and the caller re-lists past it.
 *
 * A member that is frozen, or cut off from the others, may hold a watch
 * open and never send on it.  Watches ask for "hasleader" (etcd_http.c), so
 * a member without a leader ends them with "no leader"; and a watchdog
 * takes a stream that brings nothing for idle_timeout_ms (events and
 * progress notifications both count), or is not created within the
 * handle's request timeout, for dead.  Either way the watch resumes on the
 * next endpoint.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd_int.h"

#define WATCH_BACKOFF_MIN 100 /* ms */
#define WATCH_BACKOFF_MAX 2000
#define WATCH_STUCK_MAX 5 /* failures at one revision before giving up */

struct etcd_watch {
	struct etcd *e;
	char *key;
	size_t key_len;
	struct etcd_watch_req wr; /* key points at our copy */
	int64_t next_rev; /* 0: "from now", until the first create */
	struct etcd_req *req; /* the stream, when one is open */
	struct event *timer; /* (re)connect */
	struct event *idle; /* the watchdog of the open stream */
	int created; /* the open stream said "created" */
	int backoff; /* ms */
	int stuck; /* failures of streams at next_rev that were not breaks */
	long next_ep; /* the endpoint for the next stream; -1: the handle's */
	int stopped; /* compacted or canceled by etcd */
	int in_cb;
	int dead; /* freed inside its callback */
	etcd_watch_cb *cb;
	void *arg;
};

static void watch_start(evutil_socket_t, short, void *);
static void watch_idle(evutil_socket_t, short, void *);
static void watch_line(struct etcd_req *, const char *, size_t);
static int watch_complete(
    struct etcd_req *, json_t *, const struct etcd_error *);
static int deliver(struct etcd_watch *, struct etcd_watch_update *);
static void reconnect(struct etcd_watch *, int);

struct etcd_watch *
etcd_watch_new(struct etcd *e, const struct etcd_watch_req *wr,
    etcd_watch_cb *cb, void *arg)
{
	struct etcd_watch *w;

	if (e->base == NULL)
		fatalx("%s: no event base", __func__);
	w = xcalloc(1, sizeof(*w));
	w->e = e;
	w->key_len = wr->key != NULL
	    ? (wr->key_len != 0 ? wr->key_len : strlen(wr->key))
	    : 0;
	w->key = xmalloc(w->key_len + 1);
	if (w->key_len > 0)
		memcpy(w->key, wr->key, w->key_len);
	w->key[w->key_len] = '\0';
	w->wr = *wr;
	w->wr.key = w->key;
	w->wr.key_len = w->key_len;
	if (w->key_len == 0 && !wr->prefix) {
		/* a watch on nothing: etcd wants a key */
		w->wr.prefix = 1;
	}
	w->next_rev = wr->start_revision;
	w->backoff = WATCH_BACKOFF_MIN;
	w->next_ep = -1;
	w->cb = cb;
	w->arg = arg;
	if ((w->timer = evtimer_new(e->base, watch_start, w)) == NULL ||
	    (w->idle = evtimer_new(e->base, watch_idle, w)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	watch_start(-1, 0, w);
	return w;
}

void
etcd_watch_free(struct etcd_watch *w)
{
	if (w == NULL)
		return;
	if (w->req != NULL) {
		etcd_req_cancel(w->req);
		w->req = NULL;
	}
	evtimer_del(w->timer);
	evtimer_del(w->idle);
	if (w->in_cb) {
		w->dead = 1;
		return;
	}
	event_free(w->timer);
	event_free(w->idle);
	free(w->key);
	free(w);
}

void
etcd_watch_restart(struct etcd_watch *w, int64_t revision)
{
	if (w->req != NULL) {
		etcd_req_cancel(w->req);
		w->req = NULL;
	}
	evtimer_del(w->idle);
	w->next_rev = revision;
	w->stopped = 0;
	w->stuck = 0;
	w->backoff = WATCH_BACKOFF_MIN;
	reconnect(w, 0);
}

int64_t
etcd_watch_next_revision(const struct etcd_watch *w)
{
	return w->next_rev;
}

static void
reconnect(struct etcd_watch *w, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};

	evtimer_add(w->timer, &tv);
}

static void
arm_idle(struct etcd_watch *w)
{
	long ms = w->created ? w->wr.idle_timeout_ms : w->e->timeout_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};

	if (ms > 0)
		evtimer_add(w->idle, &tv);
	else
		evtimer_del(w->idle);
}

static void
watch_start(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_watch *w = arg;
	struct etcd_req *req;

	if (w->req != NULL || w->stopped)
		return;
	req = etcd_req_new(w->e, ETCD_OP_OTHER, "/watch",
	    etcd_json_dump(etcd_json_watch(&w->wr, w->next_rev)));
	req->stream = 1;
	req->idempotent = 1;
	req->line = watch_line;
	req->complete = watch_complete;
	req->ctx = w;
	if (w->next_ep >= 0 && (size_t)w->next_ep < w->e->neps)
		req->ep = (size_t)w->next_ep;
	w->next_ep = -1;
	w->req = req;
	w->created = 0;
	arm_idle(w);
	etcd_req_submit(req);
}

/* Calls back; 1 when the watch was freed meanwhile (touch nothing). */
static int
deliver(struct etcd_watch *w, struct etcd_watch_update *u)
{
	w->in_cb = 1;
	w->cb(w, u, w->arg);
	w->in_cb = 0;
	if (w->dead) {
		etcd_watch_free(w);
		return 1;
	}
	return 0;
}

static void
stop_stream(struct etcd_watch *w)
{
	evtimer_del(w->idle);
	if (w->req != NULL) {
		etcd_req_cancel(w->req);
		w->req = NULL;
	}
}

/* The next stream goes to the endpoint after ep, and so do other requests. */
static void
avoid_endpoint(struct etcd_watch *w, size_t ep)
{
	struct etcd *e = w->e;

	if (e->neps < 2)
		return;
	w->next_ep = (long)((ep + 1) % e->neps);
	if (e->cur == ep)
		e->cur = (size_t)w->next_ep;
}

/* next_rev moved forward: whatever failed before is behind us. */
static void
advance(struct etcd_watch *w, int64_t next)
{
	if (next <= w->next_rev)
		return;
	w->next_rev = next;
	w->stuck = 0;
	w->backoff = WATCH_BACKOFF_MIN;
}

/*
 * The stream (already stopped) failed with err: say so and come back after
 * the backoff, or give up on a revision that fails every time.
 */
static void
stream_failed(struct etcd_watch *w, struct etcd_error *err)
{
	struct etcd_watch_update u;
	size_t l;

	memset(&u, 0, sizeof(u));
	u.kind = ETCD_WATCH_DISCONNECTED;
	u.err = err;
	/* breaks and "no leader" come and go; unreadable answers stay */
	if (err->kind == ETCD_E_PROTO && ++w->stuck >= WATCH_STUCK_MAX) {
		l = strlen(err->msg);
		snprintf(err->msg + l, sizeof(err->msg) - l,
		    " (stuck at revision %" PRId64 ": %d tries)", w->next_rev,
		    w->stuck);
		w->stopped = 1;
		u.kind = ETCD_WATCH_CANCELED;
		deliver(w, &u);
		return;
	}
	if (deliver(w, &u))
		return;
	if (w->req == NULL && !w->stopped && !evtimer_pending(w->timer, NULL)) {
		reconnect(w, w->backoff);
		w->backoff = w->backoff * 2 > WATCH_BACKOFF_MAX
		    ? WATCH_BACKOFF_MAX
		    : w->backoff * 2;
	}
}

/* Nothing came on the stream for too long: a frozen member. */
static void
watch_idle(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_watch *w = arg;
	struct etcd_error err;

	if (w->req == NULL)
		return;
	if (w->created)
		etcd_seterr(&err, ETCD_E_CONNECT, 0,
		    "no message on the watch for %d ms", w->wr.idle_timeout_ms);
	else
		etcd_seterr(&err, ETCD_E_CONNECT, 0,
		    "watch not created within %ld ms", w->e->timeout_ms);
	etcd_req_errat(w->req, &err);
	avoid_endpoint(w, w->req->ep);
	stop_stream(w);
	stream_failed(w, &err);
}

static void
watch_line(struct etcd_req *req, const char *line, size_t len)
{
	struct etcd_watch *w = req->ctx;
	struct etcd_watch_update u;
	struct etcd_error err;
	size_t i;

	for (i = 0; i < len && (line[i] == ' ' || line[i] == '\r'); i++)
		;
	if (i == len)
		return;
	memset(&err, 0, sizeof(err));
	if (etcd_parse_watch(line, len, &u, &err) == -1) {
		/* etcd said no, or sent nonsense: drop the stream, retry */
		etcd_req_errat(req, &err);
		if (err.code == 14)
			avoid_endpoint(w, req->ep); /* "no leader" */
		stop_stream(w);
		stream_failed(w, &err);
		return;
	}
	switch (u.kind) {
	case ETCD_WATCH_CREATED:
		w->created = 1;
		if (w->next_rev == 0)
			advance(w, u.revision + 1);
		break;
	case ETCD_WATCH_EVENTS:
		advance(w, u.events[u.nevents - 1].kv.mod_revision + 1);
		break;
	case ETCD_WATCH_PROGRESS:
		if (w->next_rev != 0)
			advance(w, u.revision + 1);
		break;
	case ETCD_WATCH_CANCELED:
		if (err.kind == ETCD_E_AUTH &&
		    strstr(err.msg, "invalid auth token") != NULL &&
		    w->e->username != NULL) {
			/*
			 * The token lapsed: log in again and come back.  Not
			 * if another request has fetched a new one meanwhile.
			 */
			if (req->token_gen == w->e->token_gen) {
				free(w->e->token);
				w->e->token = NULL;
			}
			etcd_req_errat(req, &err);
			stop_stream(w);
			reconnect(w, 0);
			etcd_watch_update_clean(&u);
			u.kind = ETCD_WATCH_DISCONNECTED;
			u.err = &err;
			deliver(w, &u);
			return;
		}
		/* FALLTHROUGH */
	case ETCD_WATCH_COMPACTED:
		etcd_req_errat(req, &err);
		u.err = &err;
		w->stopped = 1;
		stop_stream(w);
		break;
	default:
		break;
	}
	if (w->req == req)
		arm_idle(w); /* any message: the stream is alive */
	deliver(w, &u); /* nothing follows, freed or not */
	etcd_watch_update_clean(&u);
}

/* The stream ended: say so, and come back after a pause. */
static int
watch_complete(struct etcd_req *req, json_t *j, const struct etcd_error *err)
{
	struct etcd_watch *w = req->ctx;
	struct etcd_error e2;

	w->req = NULL;
	evtimer_del(w->idle);
	if (w->stopped)
		return 1;
	if (err == NULL) {
		etcd_seterr(
		    &e2, ETCD_E_PROTO, 0, "watch answered without a stream");
		etcd_req_errat(req, &e2);
	} else
		e2 = *err;
	if (e2.code == 14)
		avoid_endpoint(w, req->ep); /* "no leader" */
	stream_failed(w, &e2);
	return 1;
}
