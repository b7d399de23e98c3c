/*
 * etcd v3 KV and lease calls, blocking and async: range, put, delete, txn,
 * compaction, paged listings at one revision, compare-and-swap, lease
 * grant/keepalive/revoke and a lease keeper on the event loop.
 *
 * Every call is one struct etcd_req (etcd_http.c); a blocking call runs it
 * on the spot and copies the answer out, an async one submits it and the
 * caller's callback gets the answer.  A listing is one request whose pages
 * are resends with a new body, so one handle cancels it whatever page it
 * is on.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd_int.h"

#define LIST_RESTARTS 5 /* compactions survived by one listing */

struct blocking {
	struct etcd_result *res;
	struct etcd_error err;
	int rc;
};

struct list_state {
	char *prefix;
	size_t prefix_len;
	int64_t page;
	int64_t revision; /* of the first page; 0 before it */
	int restarts;
	struct etcd_result acc;
	size_t cap;
};

struct etcd_lease {
	struct etcd *e;
	int64_t id;
	int64_t ttl;
	struct timespec expires; /* as far as we know, CLOCK_MONOTONIC */
	struct timespec sent; /* the keepalive in flight */
	struct event *tick;
	struct etcd_req *req;
	etcd_lease_cb *cb;
	void *arg;
};

static void blocking_cb(
    struct etcd_result *, const struct etcd_error *, void *);
static int run(struct etcd *, struct etcd_req *, struct etcd_result *);
static struct etcd_req *op_req(
    struct etcd *, enum etcd_op_type, const char *, json_t *, int);
static char *list_body(struct list_state *, const char *, size_t);
static int list_complete(
    struct etcd_req *, json_t *, const struct etcd_error *);
static void list_freed(struct etcd_req *);
static struct etcd_req *list_req(struct etcd *, const char *, int64_t);
static json_t *lease_body(const char *, int64_t);
static void lease_tick(evutil_socket_t, short, void *);
static void lease_answer(
    struct etcd_result *, const struct etcd_error *, void *);

/* The usual complete(): parse the answer for req->op, hand it to cb. */
int
etcd_req_finish(struct etcd_req *req, json_t *j, const struct etcd_error *err)
{
	struct etcd_result res;
	struct etcd_error perr;

	if (err == NULL && etcd_parse_result(j, req->op, &res, &perr) == -1) {
		etcd_req_errat(req, &perr);
		err = &perr;
	}
	if (err != NULL) {
		req->cb(NULL, err, req->arg);
		return 1;
	}
	req->cb(&res, NULL, req->arg);
	etcd_result_clean(&res);
	return 1;
}

static void
blocking_cb(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	struct blocking *b = arg;

	if (err != NULL) {
		b->err = *err;
		b->rc = -1;
		return;
	}
	*b->res = *res;
	memset(res, 0, sizeof(*res));
	b->rc = 0;
}

static int
run(struct etcd *e, struct etcd_req *req, struct etcd_result *res)
{
	struct blocking b = {.res = res, .rc = -1};
	struct etcd_result scratch;

	if (res == NULL)
		b.res = &scratch;
	memset(b.res, 0, sizeof(*b.res));
	req->cb = blocking_cb;
	req->arg = &b;
	etcd_req_run(req);
	if (res == NULL)
		etcd_result_clean(&scratch);
	if (b.rc == -1) {
		e->err = b.err;
		return -1;
	}
	memset(&e->err, 0, sizeof(e->err));
	return 0;
}

static struct etcd_req *
op_req(struct etcd *e, enum etcd_op_type op, const char *path, json_t *body,
    int idempotent)
{
	struct etcd_req *req;

	req = etcd_req_new(e, op, path, etcd_json_dump(body));
	req->idempotent = idempotent;
	req->complete = etcd_req_finish;
	return req;
}

static struct etcd_req *
range_req(struct etcd *e, const struct etcd_op *op)
{
	return op_req(
	    e, ETCD_OP_RANGE, "/kv/range", etcd_json_op(op, ETCD_OP_RANGE), 1);
}

static struct etcd_req *
put_req(struct etcd *e, const struct etcd_op *op)
{
	return op_req(
	    e, ETCD_OP_PUT, "/kv/put", etcd_json_op(op, ETCD_OP_PUT), 0);
}

static struct etcd_req *
delete_req(struct etcd *e, const struct etcd_op *op)
{
	return op_req(e, ETCD_OP_DELETE, "/kv/deleterange",
	    etcd_json_op(op, ETCD_OP_DELETE), 0);
}

static struct etcd_req *
txn_req(struct etcd *e, const struct etcd_txn *t)
{
	return op_req(e, ETCD_OP_TXN, "/kv/txn", etcd_json_txn(t), 0);
}

int
etcd_range(struct etcd *e, const struct etcd_op *op, struct etcd_result *res)
{
	return run(e, range_req(e, op), res);
}

int
etcd_put(struct etcd *e, const struct etcd_op *op, struct etcd_result *res)
{
	return run(e, put_req(e, op), res);
}

int
etcd_delete(struct etcd *e, const struct etcd_op *op, struct etcd_result *res)
{
	return run(e, delete_req(e, op), res);
}

int
etcd_txn(struct etcd *e, const struct etcd_txn *t, struct etcd_result *res)
{
	return run(e, txn_req(e, t), res);
}

int
etcd_get(struct etcd *e, const char *key, struct etcd_result *res)
{
	struct etcd_op op = {.key = key};

	return etcd_range(e, &op, res);
}

int
etcd_compact(struct etcd *e, int64_t revision, int physical)
{
	json_t *o;
	char buf[32];

	if ((o = json_object()) == NULL)
		fatalx("%s: json_object", __func__);
	snprintf(buf, sizeof(buf), "%" PRId64, revision);
	json_object_set_new(o, "revision", json_string(buf));
	if (physical)
		json_object_set_new(o, "physical", json_true());
	return run(e, op_req(e, ETCD_OP_OTHER, "/kv/compaction", o, 1), NULL);
}

/*
 * Compare-and-swap on mod_revision.  On a failed compare the txn's failure
 * branch has read the key, so the caller can retry without another round
 * trip.
 */
static int
cas(struct etcd *e, const struct etcd_op *op, int64_t mod_revision,
    struct etcd_result *res)
{
	struct etcd_cmp cmp = {
	    .target = ETCD_CMP_MOD,
	    .key = op->key,
	    .number = mod_revision,
	};
	struct etcd_op get = {.type = ETCD_OP_RANGE, .key = op->key};
	struct etcd_txn t = {&cmp, 1, op, 1, &get, 1};
	struct etcd_result r, *rr;
	int64_t rev;

	memset(res, 0, sizeof(*res));
	if (etcd_txn(e, &t, &r) == -1)
		return -1;
	rev = r.revision;
	if (r.succeeded) {
		etcd_result_clean(&r);
		res->op = op->type;
		res->revision = rev;
		return 0;
	}
	if (r.nresponses == 1) {
		rr = &r.responses[0];
		*res = *rr;
		memset(rr, 0, sizeof(*rr));
	}
	etcd_result_clean(&r);
	res->op = ETCD_OP_RANGE;
	res->revision = rev;
	return 1;
}

int
etcd_cas_put(struct etcd *e, const char *key, const char *value, size_t len,
    int64_t mod_revision, int64_t lease, struct etcd_result *res)
{
	struct etcd_op put = {
	    .type = ETCD_OP_PUT,
	    .key = key,
	    .value = value != NULL ? value : "",
	    .value_len = len,
	    .lease = lease,
	};

	return cas(e, &put, mod_revision, res);
}

int
etcd_cas_delete(struct etcd *e, const char *key, int64_t mod_revision,
    struct etcd_result *res)
{
	struct etcd_op del = {.type = ETCD_OP_DELETE, .key = key};

	return cas(e, &del, mod_revision, res);
}

/*
 * A page of the listing starting at key (the prefix itself first), up to
 * the prefix's range_end, at the first page's revision.
 */
static char *
list_body(struct list_state *st, const char *key, size_t key_len)
{
	struct etcd_op op = {
	    .limit = st->page,
	    .revision = st->revision,
	};
	char *end = xmalloc(st->prefix_len + 1), *body;

	if (st->prefix_len == 0) {
		/* the whole keyspace: from "\0" to the end */
		op.range_end = "";
		op.range_end_len = 1;
		op.key = key_len > 0 ? key : "";
		op.key_len = key_len > 0 ? key_len : 1;
	} else {
		op.range_end = end;
		op.range_end_len =
		    etcd_prefix_end(st->prefix, st->prefix_len, end);
		op.key = key;
		op.key_len = key_len;
	}
	body = etcd_json_dump(etcd_json_op(&op, ETCD_OP_RANGE));
	free(end);
	return body;
}

static int
list_complete(struct etcd_req *req, json_t *j, const struct etcd_error *err)
{
	struct list_state *st = req->ctx;
	struct etcd_result page;
	struct etcd_error perr;
	struct etcd_kv *last;
	size_t got;
	char *next;

	if (err == NULL &&
	    etcd_parse_result(j, ETCD_OP_RANGE, &page, &perr) == -1) {
		etcd_req_errat(req, &perr);
		err = &perr;
	}
	if (err != NULL && err->kind == ETCD_E_COMPACTED && st->revision != 0 &&
	    st->restarts < LIST_RESTARTS) {
		/* compacted under our feet: start over at the latest */
		st->restarts++;
		st->revision = 0;
		etcd_result_clean(&st->acc);
		st->cap = 0;
		free(req->body);
		req->body = list_body(st, st->prefix, st->prefix_len);
		return 0;
	}
	if (err != NULL) {
		req->cb(NULL, err, req->arg);
		return 1;
	}
	if (st->revision == 0) {
		st->revision = page.revision;
		st->acc.revision = page.revision;
		st->acc.count = page.count;
	}
	got = page.nkvs;
	if (st->acc.nkvs + got > st->cap) {
		st->cap = st->acc.nkvs + got + st->cap;
		st->acc.kvs =
		    xreallocarray(st->acc.kvs, st->cap, sizeof(*st->acc.kvs));
	}
	if (got > 0)
		memcpy(st->acc.kvs + st->acc.nkvs, page.kvs,
		    got * sizeof(*page.kvs));
	st->acc.nkvs += got;
	free(page.kvs);
	page.kvs = NULL;
	page.nkvs = 0;
	if (page.more && got == 0) {
		etcd_seterr(&perr, ETCD_E_PROTO, 0,
		    "etcd says more keys follow an empty page");
		etcd_req_errat(req, &perr);
		req->cb(NULL, &perr, req->arg);
		return 1;
	}
	if (page.more) {
		/* next page: right after the last key */
		last = &st->acc.kvs[st->acc.nkvs - 1];
		next = xmalloc(last->key_len + 1);
		memcpy(next, last->key, last->key_len);
		next[last->key_len] = '\0';
		free(req->body);
		req->body = list_body(st, next, last->key_len + 1);
		free(next);
		return 0;
	}
	etcd_result_clean(&page);
	st->acc.op = ETCD_OP_RANGE;
	st->acc.more = 0;
	req->cb(&st->acc, NULL, req->arg);
	return 1;
}

static void
list_freed(struct etcd_req *req)
{
	struct list_state *st = req->ctx;

	etcd_result_clean(&st->acc);
	free(st->prefix);
	free(st);
}

static struct etcd_req *
list_req(struct etcd *e, const char *prefix, int64_t page)
{
	struct list_state *st;
	struct etcd_req *req;

	st = xcalloc(1, sizeof(*st));
	st->prefix = xstrdup(prefix != NULL ? prefix : "");
	st->prefix_len = strlen(st->prefix);
	st->page = page > 0 ? page : ETCD_LIST_PAGE;
	req = etcd_req_new(e, ETCD_OP_RANGE, "/kv/range",
	    list_body(st, st->prefix, st->prefix_len));
	req->idempotent = 1;
	req->complete = list_complete;
	req->freed = list_freed;
	req->ctx = st;
	return req;
}

int
etcd_list(
    struct etcd *e, const char *prefix, int64_t page, struct etcd_result *res)
{
	return run(e, list_req(e, prefix, page), res);
}

static json_t *
lease_body(const char *name, int64_t v)
{
	json_t *o;
	char buf[32];

	if ((o = json_object()) == NULL)
		fatalx("%s: json_object", __func__);
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	json_object_set_new(o, name, json_string(buf));
	return o;
}

int
etcd_lease_grant(struct etcd *e, int64_t ttl, int64_t *id, int64_t *granted)
{
	struct etcd_result r;

	if (run(e,
	        op_req(e, ETCD_OP_LEASE, "/lease/grant", lease_body("TTL", ttl),
	            0),
	        &r) == -1)
		return -1;
	*id = r.lease_id;
	if (granted != NULL)
		*granted = r.ttl;
	etcd_result_clean(&r);
	return 0;
}

int
etcd_lease_keepalive(struct etcd *e, int64_t id, int64_t *ttl)
{
	struct etcd_result r;

	if (run(e,
	        op_req(e, ETCD_OP_LEASE, "/lease/keepalive",
	            lease_body("ID", id), 1),
	        &r) == -1)
		return -1;
	*ttl = r.ttl;
	etcd_result_clean(&r);
	return 0;
}

int
etcd_lease_revoke(struct etcd *e, int64_t id)
{
	return run(e,
	    op_req(e, ETCD_OP_LEASE, "/lease/revoke", lease_body("ID", id), 1),
	    NULL);
}

static struct etcd_req *
submit(struct etcd_req *req, etcd_cb *cb, void *arg)
{
	req->cb = cb;
	req->arg = arg;
	etcd_req_submit(req);
	return req;
}

struct etcd_req *
etcd_range_async(
    struct etcd *e, const struct etcd_op *op, etcd_cb *cb, void *arg)
{
	return submit(range_req(e, op), cb, arg);
}

struct etcd_req *
etcd_put_async(struct etcd *e, const struct etcd_op *op, etcd_cb *cb, void *arg)
{
	return submit(put_req(e, op), cb, arg);
}

struct etcd_req *
etcd_delete_async(
    struct etcd *e, const struct etcd_op *op, etcd_cb *cb, void *arg)
{
	return submit(delete_req(e, op), cb, arg);
}

struct etcd_req *
etcd_txn_async(struct etcd *e, const struct etcd_txn *t, etcd_cb *cb, void *arg)
{
	return submit(txn_req(e, t), cb, arg);
}

struct etcd_req *
etcd_list_async(
    struct etcd *e, const char *prefix, int64_t page, etcd_cb *cb, void *arg)
{
	return submit(list_req(e, prefix, page), cb, arg);
}

struct etcd_req *
etcd_lease_grant_async(struct etcd *e, int64_t ttl, etcd_cb *cb, void *arg)
{
	return submit(
	    op_req(e, ETCD_OP_LEASE, "/lease/grant", lease_body("TTL", ttl), 0),
	    cb, arg);
}

struct etcd_req *
etcd_lease_keepalive_async(struct etcd *e, int64_t id, etcd_cb *cb, void *arg)
{
	return submit(op_req(e, ETCD_OP_LEASE, "/lease/keepalive",
	                  lease_body("ID", id), 1),
	    cb, arg);
}

struct etcd_req *
etcd_lease_revoke_async(struct etcd *e, int64_t id, etcd_cb *cb, void *arg)
{
	return submit(
	    op_req(e, ETCD_OP_LEASE, "/lease/revoke", lease_body("ID", id), 1),
	    cb, arg);
}

/* Milliseconds from a to b. */
static long long
ms_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000 +
	    (b->tv_nsec - a->tv_nsec) / 1000000;
}

/* Keepalives go every ttl/3 seconds, but not more often than once a second. */
static long long
lease_interval(const struct etcd_lease *l)
{
	return l->ttl * 1000 / 3 > 1000 ? l->ttl * 1000 / 3 : 1000;
}

static void
lease_schedule(struct etcd_lease *l, long long ms)
{
	struct timeval tv;

	if (ms < 0)
		ms = 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	evtimer_add(l->tick, &tv);
}

/*
 * A keepalive.  Each endpoint gets a third of the TTL at most: one that
 * hangs (frozen, cut off) would otherwise hold the request for the whole
 * request timeout, longer than the lease lives, while the next endpoint
 * could have kept it.
 */
static void
lease_tick(evutil_socket_t fd, short what, void *arg)
{
	struct etcd_lease *l = arg;
	struct etcd_req *req;
	long t = (long)(l->ttl * 1000 / 3);

	req = op_req(l->e, ETCD_OP_LEASE, "/lease/keepalive",
	    lease_body("ID", l->id), 1);
	req->timeout_ms = t < 500 ? 500 : t < l->e->timeout_ms ? t : 0;
	clock_gettime(CLOCK_MONOTONIC, &l->sent);
	l->req = submit(req, lease_answer, l);
}

/*
 * A keepalive's answer: TTL 0 means the lease is gone; an error is retried
 * every second while the lease may still be alive.  etcd counted the TTL
 * from when it got the keepalive, after we sent it: counting from the
 * sending errs on the safe side.
 */
static void
lease_answer(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	struct etcd_lease *l = arg;
	struct etcd_error lost;
	struct timespec now;

	l->req = NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (err == NULL && res->ttl > 0) {
		l->expires = l->sent;
		l->expires.tv_sec += res->ttl;
		lease_schedule(
		    l, lease_interval(l) - ms_between(&l->sent, &now));
		return;
	}
	if (err != NULL && ms_between(&now, &l->expires) > 0) {
		log_debug(
		    "%s: lease %" PRId64 ": %s", __func__, l->id, err->msg);
		lease_schedule(l, 1000);
		return;
	}
	if (err == NULL) {
		etcd_seterr(&lost, ETCD_E_SERVER, 5,
		    "etcd %s: lease %" PRId64 " expired or was revoked",
		    etcd_endpoint(l->e), l->id);
		err = &lost;
	}
	l->cb(l, err, l->arg);
}

struct etcd_lease *
etcd_lease_keep(
    struct etcd *e, int64_t id, int64_t ttl, etcd_lease_cb *cb, void *arg)
{
	struct etcd_lease *l;

	if (e->base == NULL)
		fatalx("%s: no event base", __func__);
	l = xcalloc(1, sizeof(*l));
	l->e = e;
	l->id = id;
	l->ttl = ttl;
	l->cb = cb;
	l->arg = arg;
	clock_gettime(CLOCK_MONOTONIC, &l->expires);
	l->expires.tv_sec += ttl;
	if ((l->tick = evtimer_new(e->base, lease_tick, l)) == NULL)
		fatalx("%s: evtimer_new", __func__);
	lease_schedule(l, lease_interval(l));
	return l;
}

void
etcd_lease_free(struct etcd_lease *l)
{
	if (l == NULL)
		return;
	if (l->req != NULL)
		etcd_req_cancel(l->req);
	event_free(l->tick);
	free(l);
}
