/*
 * The raw etcd v2 backend (Calico v2.6 deployments): a copy of the subtree
 * config->v2_prefix ("/calico") as confd's etcd v2 backend sees it: every
 * leaf key with its value as stored, directories giving no key.
 *
 * store/etcdv2.h blocks, so a thread runs etcdv2_sync (list, then watch
 * from the listing's index + 1, list again when etcd has cleared that
 * index) with short polls, and queues what it sees; a pipe wakes the event
 * loop, which applies everything queued as one batch and calls
 * confd_backend_changed() once when the tree changed.  When etcd cannot be
 * reached the thread tries again every second, resuming where it was.
 * Freeing stops the thread and joins it: a poll lasts V2_POLL_MS at most.
 * A request to an etcd that accepted it and went quiet lasts the client's
 * whole timeout (15 s): after V2_JOIN_MS the thread is left to finish it
 * alone and free what it holds; nothing it does after stop reaches the
 * loop (v2_push drops it under the lock).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "confd/backend_int.h"
#include "confd/confd.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcdv2.h"

#define V2_POLL_MS 500 /* a long poll; bounds how long free waits */
#define V2_RETRY_MS 1000 /* after an error */
#define V2_JOIN_MS 1000 /* free waits this long for the thread */

enum v2_kind {
	V2_LIST, /* kvs: the whole tree */
	V2_SET, /* key = value */
	V2_REMOVE, /* key and everything under it */
	V2_ERROR, /* msg */
};

struct v2_item {
	enum v2_kind kind;
	int relist; /* V2_LIST: because etcd cleared the index */
	struct confd_kvs kvs;
	char *key, *value, *msg;
	int errkey; /* V2_ERROR: kind, code and HTTP status in one */
	int64_t index; /* etcd's index after it */
	char *endpoint; /* that answered */
};

struct v2_backend {
	struct confd_backend *b;
	struct etcdv2 *e; /* the thread's alone once it runs */
	char *prefix;
	char *endpoints; /* as configured, for describe */
	struct event_base *evb;
	int wake[2]; /* thread -> loop */
	struct event *wev;
	pthread_t thr;
	bool running;

	pthread_mutex_t mu; /* guards what follows */
	pthread_cond_t cv; /* stop was set, or done */
	bool stop;
	bool done; /* the thread is about to return */
	bool orphaned; /* free gave up waiting: the thread frees v */
	struct v2_item *q;
	size_t qn, qcap;

	/* the thread's own */
	int64_t next; /* index to resume watching from; 0: list */
	bool force_list; /* an event this backend cannot apply */

	/* the loop's own */
	char *last_err; /* logged, until etcd answers again */
	int last_errkey;
	int64_t index;
	uint64_t lists, events;
};

static void
item_clean(struct v2_item *it)
{
	confd_kvs_clean(&it->kvs);
	free(it->key);
	free(it->value);
	free(it->msg);
	free(it->endpoint);
	memset(it, 0, sizeof(*it));
}

/*
 * Thread: queues it (taking what it holds) and wakes the loop; once stop
 * is set, drops it: the queue and the pipe may be gone.
 */
static void
v2_push(struct v2_backend *v, struct v2_item *it)
{
	char c = 0;
	ssize_t r;

	pthread_mutex_lock(&v->mu);
	if (v->stop) {
		pthread_mutex_unlock(&v->mu);
		item_clean(it);
		return;
	}
	if (v->qn == v->qcap) {
		v->qcap = v->qcap ? v->qcap * 2 : 16;
		v->q = xreallocarray(v->q, v->qcap, sizeof(*v->q));
	}
	v->q[v->qn++] = *it;
	memset(it, 0, sizeof(*it));
	/* non-blocking; full: the loop has wake-ups pending and drains the
	 * whole queue */
	do
		r = write(v->wake[1], &c, 1);
	while (r == -1 && errno == EINTR);
	pthread_mutex_unlock(&v->mu);
}

static bool
v2_stopping(struct v2_backend *v)
{
	bool s;

	pthread_mutex_lock(&v->mu);
	s = v->stop;
	pthread_mutex_unlock(&v->mu);
	return s;
}

static int
v2_sync_cb(struct etcdv2_sync_update *u, void *arg)
{
	struct v2_backend *v = arg;
	struct v2_item it = {0};
	const struct etcdv2_node *n;
	size_t i;

	if (v2_stopping(v))
		return 1;
	v->next = u->next_index;
	switch (u->kind) {
	case ETCDV2_SYNC_LIST:
		it.kind = V2_LIST;
		it.relist = u->relist;
		for (i = 0; i < u->res->nnodes; i++) {
			n = &u->res->nodes[i];
			if (n->key != NULL && !n->dir)
				confd_kvs_set(&it.kvs, n->key, n->value);
		}
		break;
	case ETCDV2_SYNC_EVENT:
		n = &u->res->node;
		switch (u->res->action) {
		case ETCDV2_ACT_SET:
		case ETCDV2_ACT_CREATE:
		case ETCDV2_ACT_UPDATE:
		case ETCDV2_ACT_CAS:
			if (n->dir)
				return 0; /* a directory gives no key */
			it.kind = V2_SET;
			it.value = xstrdup(n->value);
			break;
		case ETCDV2_ACT_DELETE:
		case ETCDV2_ACT_EXPIRE:
		case ETCDV2_ACT_CAD:
			it.kind = V2_REMOVE;
			break;
		default:
			/* not an event this backend knows: list again */
			v->force_list = true;
			return 1;
		}
		it.key = xstrdup(n->key != NULL ? n->key : "/");
		break;
	case ETCDV2_SYNC_IDLE:
		return 0;
	}
	it.index = u->next_index - 1;
	it.endpoint = xstrdup(etcdv2_endpoint(v->e));
	v2_push(v, &it);
	return 0;
}

/* Thread: sleeps ms unless stopped; true when stopped. */
static bool
v2_sleep(struct v2_backend *v, int ms)
{
	struct timespec ts;
	bool s;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&v->mu);
	while (!v->stop &&
	    pthread_cond_timedwait(&v->cv, &v->mu, &ts) != ETIMEDOUT)
		;
	s = v->stop;
	pthread_mutex_unlock(&v->mu);
	return s;
}

static void *
v2_thread(void *arg)
{
	struct v2_backend *v = arg;
	const struct etcdv2_error *e2;
	struct v2_item it;
	bool orphaned;
	int r;

	while (!v2_stopping(v)) {
		if (v->force_list) {
			v->force_list = false;
			v->next = 0;
		}
		r = etcdv2_sync(
		    v->e, v->prefix, v->next, V2_POLL_MS, v2_sync_cb, v);
		if (r == 0 && v->force_list)
			continue;
		if (r == 0 || v2_stopping(v))
			break;
		memset(&it, 0, sizeof(it));
		it.kind = V2_ERROR;
		it.msg = xstrdup(etcdv2_error(v->e));
		e2 = etcdv2_last_error(v->e);
		it.errkey = (int)e2->kind * 1000000 + e2->code * 1000 +
		    e2->http_status % 1000;
		v2_push(v, &it);
		if (v2_sleep(v, V2_RETRY_MS))
			break;
	}
	pthread_mutex_lock(&v->mu);
	v->done = true;
	pthread_cond_broadcast(&v->cv);
	orphaned = v->orphaned;
	pthread_mutex_unlock(&v->mu);
	if (orphaned) {
		/* free gave up on us: what is left is ours */
		etcdv2_free(v->e);
		pthread_cond_destroy(&v->cv);
		pthread_mutex_destroy(&v->mu);
		free(v->prefix);
		free(v);
	}
	return NULL;
}

/* ---- the event loop's side ---- */

/*
 * Removes key and every key below it; true if any was there.  The keys
 * that start with key are one run in key order, but siblings such as
 * key-b and key.b ('-' and '.' sort before '/') sit inside it, between key
 * and key/...: they stay.
 */
static bool
kvs_remove_tree(struct confd_kvs *kvs, const char *key)
{
	size_t len = strlen(key), lo, hi, i, w;
	const char *k;

	if (len == 1 && key[0] == '/')
		len = 0; /* the root: everything is below it */
	lo = confd_kvs_lower(kvs, key);
	for (hi = lo; hi < kvs->n && strncmp(kvs->v[hi].key, key, len) == 0;
	     hi++)
		;
	for (i = lo, w = lo; i < hi; i++) {
		k = kvs->v[i].key;
		if (len == 0 || k[len] == '\0' || k[len] == '/') {
			free(kvs->v[i].key);
			free(kvs->v[i].value);
		} else
			kvs->v[w++] = kvs->v[i];
	}
	if (w == hi)
		return false;
	memmove(&kvs->v[w], &kvs->v[hi], (kvs->n - hi) * sizeof(*kvs->v));
	kvs->n -= hi - w;
	return true;
}

static bool
v2_apply(struct v2_backend *v, struct v2_item *it)
{
	struct confd_kvs *kvs = &v->b->kvs;
	const char *old;
	char *key;
	bool changed = false;

	switch (it->kind) {
	case V2_ERROR:
		/* once per kind of error: messages carry timings */
		if (v->last_err == NULL || v->last_errkey != it->errkey) {
			log_warnx("etcdv2 %s: %s; trying again every %d ms%s",
			    v->prefix, it->msg, V2_RETRY_MS,
			    v->b->loaded ? ", keeping the last keys" : "");
			free(v->last_err);
			v->last_err = xstrdup(it->msg);
			v->last_errkey = it->errkey;
		}
		return false;
	case V2_LIST:
		v->lists++;
		if (it->relist)
			log_info("etcdv2 %s: etcd cleared index %" PRId64
			         ", listed again: %zu keys",
			    v->prefix, v->index + 1, it->kvs.n);
		if (!v->b->loaded || !confd_kvs_equal(kvs, &it->kvs)) {
			confd_kvs_clean(kvs);
			*kvs = it->kvs;
			memset(&it->kvs, 0, sizeof(it->kvs));
			changed = true;
		}
		break;
	case V2_SET:
		v->events++;
		key = confd_path_clean(it->key);
		old = confd_kvs_get(kvs, key);
		if (old == NULL || strcmp(old, it->value) != 0) {
			confd_kvs_set(kvs, key, it->value);
			changed = true;
		}
		free(key);
		break;
	case V2_REMOVE:
		v->events++;
		key = confd_path_clean(it->key);
		changed = kvs_remove_tree(kvs, key);
		free(key);
		break;
	}
	if (v->last_err != NULL) {
		log_info(
		    "etcdv2 %s: %s answers again", v->prefix, it->endpoint);
		free(v->last_err);
		v->last_err = NULL;
	}
	v->index = it->index;
	snprintf(v->b->describe, sizeof(v->b->describe),
	    "etcdv2 %s %s, index %" PRId64, it->endpoint, v->prefix, v->index);
	return changed;
}

static void
v2_wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct v2_backend *v = arg;
	struct v2_item *q;
	size_t qn, i;
	char buf[256];
	bool changed = false;

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&v->mu);
	q = v->q;
	qn = v->qn;
	v->q = NULL;
	v->qn = v->qcap = 0;
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < qn; i++) {
		/* the first listing always changes: it loads */
		if (v2_apply(v, &q[i]))
			changed = true;
		item_clean(&q[i]);
	}
	free(q);
	if (changed)
		confd_backend_changed(v->b);
}

static int
v2_start(struct confd_backend *b, char *err, size_t errlen)
{
	struct v2_backend *v = b->priv;
	int r;

	if (v->evb == NULL) {
		snprintf(err, errlen, "etcdv2 backend: no event base");
		return -1;
	}
	if (v->running) {
		snprintf(err, errlen, "etcdv2 backend: started twice");
		return -1;
	}
	if (pipe2(v->wake, O_NONBLOCK | O_CLOEXEC) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		v->wake[0] = v->wake[1] = -1;
		return -1;
	}
	v->wev =
	    event_new(v->evb, v->wake[0], EV_READ | EV_PERSIST, v2_wake_cb, v);
	event_add(v->wev, NULL);
	if ((r = pthread_create(&v->thr, NULL, v2_thread, v)) != 0) {
		snprintf(
		    err, errlen, "etcdv2 backend: thread: %s", strerror(r));
		return -1;
	}
	v->running = true;
	return 0;
}

/* What the event loop's side holds; the thread no longer touches it. */
static void
v2_free_loop_side(struct v2_backend *v)
{
	size_t i;

	for (i = 0; i < v->qn; i++)
		item_clean(&v->q[i]);
	free(v->q);
	v->q = NULL;
	v->qn = 0;
	if (v->wev != NULL)
		event_free(v->wev);
	if (v->wake[0] != -1)
		close(v->wake[0]);
	if (v->wake[1] != -1)
		close(v->wake[1]);
	free(v->endpoints);
	free(v->last_err);
}

/*
 * Stops the thread and joins it, waiting V2_JOIN_MS at most.  A thread
 * still in a request then is detached and frees the rest (e, prefix, mu,
 * cv, v) when it ends: from the moment orphaned is set under the lock,
 * v is no longer ours.
 */
static void
v2_free(struct confd_backend *b)
{
	struct v2_backend *v = b->priv;
	struct timespec ts;
	pthread_t thr;

	if (v == NULL)
		return;
	b->priv = NULL;
	if (v->running) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += V2_JOIN_MS / 1000;
		ts.tv_nsec += (long)(V2_JOIN_MS % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_mutex_lock(&v->mu);
		v->stop = true;
		pthread_cond_broadcast(&v->cv);
		while (!v->done &&
		    pthread_cond_timedwait(&v->cv, &v->mu, &ts) != ETIMEDOUT)
			;
		if (!v->done) {
			log_warnx("etcdv2 %s: a request to etcd is still "
			          "running, not waiting for it",
			    v->prefix);
			v2_free_loop_side(v);
			v->orphaned = true;
			thr = v->thr;
			pthread_mutex_unlock(&v->mu);
			pthread_detach(thr);
			return;
		}
		pthread_mutex_unlock(&v->mu);
		pthread_join(v->thr, NULL);
	}
	v2_free_loop_side(v);
	if (v->e != NULL)
		etcdv2_free(v->e);
	pthread_cond_destroy(&v->cv);
	pthread_mutex_destroy(&v->mu);
	free(v->prefix);
	free(v);
}

static const struct confd_backend_ops v2_ops = {
    .type = "etcdv2",
    .start = v2_start,
    .free = v2_free,
};

struct confd_backend *
confd_backend_v2_new(
    const struct confd_backend_config *config, char *err, size_t errlen)
{
	struct confd_backend *b;
	struct v2_backend *v;
	struct etcdv2_error e2;
	const char *prefix = config->v2_prefix;

	if (prefix == NULL || *prefix == '\0')
		prefix = "/calico";
	if (*prefix != '/') {
		snprintf(err, errlen, "etcdv2 prefix \"%s\": must start with /",
		    prefix);
		return NULL;
	}
	b = xcalloc(1, sizeof(*b));
	v = xcalloc(1, sizeof(*v));
	b->ops = &v2_ops;
	b->priv = v;
	v->b = b;
	v->wake[0] = v->wake[1] = -1;
	v->evb = config->base;
	v->prefix = confd_path_clean(prefix);
	v->endpoints =
	    xstrdup(config->etcd.endpoints != NULL ? config->etcd.endpoints
	                                           : "http://127.0.0.1:2379");
	pthread_mutex_init(&v->mu, NULL);
	pthread_cond_init(&v->cv, NULL);
	memset(&e2, 0, sizeof(e2));
	if ((v->e = etcdv2_new(&config->etcd, &e2)) == NULL) {
		snprintf(err, errlen, "etcdv2 backend: %s", e2.msg);
		confd_backend_free(b);
		return NULL;
	}
	snprintf(b->describe, sizeof(b->describe), "etcdv2 %s %s", v->endpoints,
	    v->prefix);
	return b;
}
