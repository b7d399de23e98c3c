/*
 * etcd_drive: drives store/etcd.h against a real etcd for t_etcd.sh.  Each
 * command does one thing and prints what the script checks; the "crud" and
 * "lease" commands check themselves and print "ok" (or the failed check
 * and exit 1).  Errors print "error: MSG" on stderr and exit 1.
 *
 *   etcd_drive [-e ENDPOINTS] [-C CA] [-c CERT] [-k KEY] [-u USER]
 *              [-p PASSWORD] [-a] [-w IDLE_MS] COMMAND ARGS
 *   put KEY VALUE        "rev=N"
 *   get KEY [REV]        "VALUE mod=N ver=N lease=N via=URL" or "(none)"
 *   get2 KEY FILE        get, wait until FILE exists, get again
 *   del KEY [prefix]     "deleted=N"
 *   list PREFIX [PAGE]   "n=N count=N rev=R" after checking the listing
 *                        (-a: through the async API)
 *   fill PREFIX N        puts PREFIX00000.. in txns of 100 puts
 *   incr KEY N           N compare-and-swap increments: "conflicts=C"
 *   compact REV
 *   rev                  the store revision
 *   watch PREFIX FROM N [SECS]
 *                        events until N PUTs (or SECS, default 40, pass);
 *                        re-lists on compaction; -w: with progress
 *                        notifications and that idle timeout; values over
 *                        64 bytes print as "<N bytes>"; "END got=N cpu=S"
 *   revoke ID KEY        revoke lease ID ("revoke: ok" or "revoke: MSG"),
 *                        then get KEY as get does
 *   leasekeep TTL SECS FILE MS
 *                        grant a lease, put /lease/kept on it, keep it for
 *                        SECS; create FILE after MS.  "granted ID", then
 *                        "KEPT" or "LOST MSG"
 *   authrace             against etcd_fake.py auth: a request that fails
 *                        with an old token after another has fetched a new
 *                        one; "logins=N" (etcd_fake's count)
 *   crud, lease          self-checking scenarios
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "store/etcd.h"
#include "store/store.h"

#define CHECK(c)                                                               \
	do {                                                                   \
		if (!(c)) {                                                    \
			fprintf(stderr, "check failed at %s:%d: %s\n",         \
			    __FILE__, __LINE__, #c);                           \
			exit(1);                                               \
		}                                                              \
	} while (0)

struct drive {
	struct etcd *e;
	struct event_base *base;
	int async;
	/* watch */
	const char *prefix;
	long want, got;
	struct etcd_watch *w;
	int idle_ms;
	/* async steps */
	int step;
	struct etcd_result res;
	struct etcd_error err;
	int failed;
	int lost;
};

static void __attribute__((noreturn)) die(struct etcd *e)
{
	fprintf(stderr, "error: %s\n", etcd_error(e));
	exit(1);
}

static int64_t
num(const char *s)
{
	char *ep;
	long long v = strtoll(s, &ep, 10);

	if (*s == '\0' || *ep != '\0') {
		fprintf(stderr, "error: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static int64_t
store_rev(struct etcd *e)
{
	struct etcd_op op = {.key = "\0", .key_len = 1, .count_only = 1};
	struct etcd_result r;
	int64_t rev;

	if (etcd_range(e, &op, &r) == -1)
		die(e);
	rev = r.revision;
	etcd_result_clean(&r);
	return rev;
}

/* A listing must be in key order, without repeats, all at one revision. */
static void
check_list(const struct etcd_result *r)
{
	size_t i;

	for (i = 0; i < r->nkvs; i++) {
		CHECK(r->kvs[i].mod_revision <= r->revision);
		if (i > 0)
			CHECK(strcmp(r->kvs[i - 1].key, r->kvs[i].key) < 0);
	}
	CHECK((int64_t)r->nkvs == r->count);
	printf("n=%zu count=%" PRId64 " rev=%" PRId64 "\n", r->nkvs, r->count,
	    r->revision);
}

static void
got_async(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	struct drive *d = arg;

	if (err != NULL) {
		d->err = *err;
		d->failed = 1;
	} else {
		d->res = *res;
		memset(res, 0, sizeof(*res)); /* ours now */
	}
	event_base_loopbreak(d->base);
}

/* Runs the loop until got_async fires; -1 with d->err on failure. */
static int
wait_async(struct drive *d)
{
	d->failed = 0;
	memset(&d->res, 0, sizeof(d->res));
	event_base_dispatch(d->base);
	return d->failed ? -1 : 0;
}

static void
print_get(struct etcd *e, const struct etcd_result *r)
{
	if (r->nkvs == 0)
		printf("(none) via=%s\n", etcd_endpoint(e));
	else
		printf("%s mod=%" PRId64 " ver=%" PRId64 " lease=%" PRId64
		       " via=%s\n",
		    r->kvs[0].value, r->kvs[0].mod_revision, r->kvs[0].version,
		    r->kvs[0].lease, etcd_endpoint(e));
}

/* get, wait for FILE to exist (the script restarts etcd), get again */
static int
cmd_get2(struct drive *d, int argc, char **argv)
{
	struct etcd_result r;
	struct timespec ts = {0, 100000000};
	int i;

	if (etcd_get(d->e, argv[0], &r) == -1)
		die(d->e);
	print_get(d->e, &r);
	etcd_result_clean(&r);
	for (i = 0; i < 300 && access(argv[1], F_OK) == -1; i++)
		nanosleep(&ts, NULL);
	if (etcd_get(d->e, argv[0], &r) == -1)
		die(d->e);
	print_get(d->e, &r);
	etcd_result_clean(&r);
	return 0;
}

static int
cmd_list(struct drive *d, int argc, char **argv)
{
	struct etcd_result r;
	int64_t page = argc > 1 ? num(argv[1]) : 0;

	if (d->async) {
		etcd_list_async(d->e, argv[0], page, got_async, d);
		if (wait_async(d) == -1) {
			fprintf(stderr, "error: %s\n", d->err.msg);
			return 1;
		}
		check_list(&d->res);
		etcd_result_clean(&d->res);
		return 0;
	}
	if (etcd_list(d->e, argv[0], page, &r) == -1)
		die(d->e);
	check_list(&r);
	etcd_result_clean(&r);
	return 0;
}

static int
cmd_fill(struct drive *d, int argc, char **argv)
{
	struct etcd_op ops[100];
	struct etcd_txn t = {.success = ops};
	struct etcd_result r;
	char keys[100][256], vals[100][32];
	long n = num(argv[1]), i = 0, k;

	while (i < n) {
		for (k = 0; k < 100 && i < n; k++, i++) {
			snprintf(
			    keys[k], sizeof(keys[k]), "%s%05ld", argv[0], i);
			snprintf(vals[k], sizeof(vals[k]), "%ld", i);
			ops[k] = (struct etcd_op){
			    .type = ETCD_OP_PUT,
			    .key = keys[k],
			    .value = vals[k],
			};
		}
		t.nsuccess = k;
		if (etcd_txn(d->e, &t, &r) == -1)
			die(d->e);
		CHECK(r.succeeded && r.nresponses == (size_t)k);
		etcd_result_clean(&r);
	}
	return 0;
}

/* Read, add one, write back if nobody else wrote meanwhile; else again. */
static int
cmd_incr(struct drive *d, int argc, char **argv)
{
	struct etcd_result r;
	long n = num(argv[1]), i, conflicts = 0;
	int64_t v, mod;
	char buf[32];
	int rc;

	for (i = 0; i < n; i++) {
		if (etcd_get(d->e, argv[0], &r) == -1)
			die(d->e);
		for (;;) {
			v = r.nkvs > 0 ? strtoll(r.kvs[0].value, NULL, 10) : 0;
			mod = r.nkvs > 0 ? r.kvs[0].mod_revision : 0;
			etcd_result_clean(&r);
			snprintf(buf, sizeof(buf), "%" PRId64, v + 1);
			rc = etcd_cas_put(d->e, argv[0], buf, 0, mod, 0, &r);
			if (rc == -1)
				die(d->e);
			if (rc == 0)
				break;
			conflicts++; /* r holds the current value */
		}
		etcd_result_clean(&r);
	}
	printf("conflicts=%ld\n", conflicts);
	return 0;
}

static void
print_kv(const char *what, const struct etcd_kv *kv)
{
	if (kv->value_len > 64)
		printf("%s %s=<%zu bytes> mod=%" PRId64 "\n", what, kv->key,
		    kv->value_len, kv->mod_revision);
	else
		printf("%s %s=%s mod=%" PRId64 "\n", what, kv->key, kv->value,
		    kv->mod_revision);
}

static void
relisted(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	struct drive *d = arg;

	if (err != NULL) {
		printf("RELIST-FAILED %s\n", err->msg);
		event_base_loopbreak(d->base);
		return;
	}
	printf("RELIST n=%zu rev=%" PRId64 "\n", res->nkvs, res->revision);
	etcd_watch_restart(d->w, res->revision + 1);
}

static void
watch_cb(struct etcd_watch *w, struct etcd_watch_update *u, void *arg)
{
	struct drive *d = arg;
	size_t i;

	switch (u->kind) {
	case ETCD_WATCH_CREATED:
		printf("CREATED rev=%" PRId64 " next=%" PRId64 "\n",
		    u->revision, etcd_watch_next_revision(w));
		break;
	case ETCD_WATCH_EVENTS:
		for (i = 0; i < u->nevents; i++) {
			if (u->events[i].type == ETCD_EV_DELETE) {
				print_kv("DELETE", &u->events[i].kv);
				continue;
			}
			print_kv("PUT", &u->events[i].kv);
			if (++d->got == d->want) {
				/* freed from its own callback, mid-stream */
				etcd_watch_free(w);
				d->w = NULL;
				event_base_loopbreak(d->base);
				return;
			}
		}
		break;
	case ETCD_WATCH_PROGRESS:
		printf("PROGRESS rev=%" PRId64 "\n", u->revision);
		break;
	case ETCD_WATCH_DISCONNECTED:
		printf("DISCONNECTED %s\n", u->err->msg);
		break;
	case ETCD_WATCH_COMPACTED:
		printf("COMPACTED compact=%" PRId64 " %s\n",
		    u->compact_revision, u->err->msg);
		etcd_list_async(d->e, d->prefix, 0, relisted, d);
		break;
	case ETCD_WATCH_CANCELED:
		printf("CANCELED %s\n", u->err->msg);
		event_base_loopbreak(d->base);
		break;
	}
	fflush(stdout);
}

static void
watch_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct drive *d = arg;

	printf("TIMEOUT got=%ld\n", d->got);
	event_base_loopbreak(d->base);
}

static int
cmd_watch(struct drive *d, int argc, char **argv)
{
	struct etcd_watch_req wr = {
	    .key = argv[0],
	    .prefix = 1,
	    .start_revision = num(argv[1]),
	    .progress_notify = d->idle_ms > 0,
	    .idle_timeout_ms = d->idle_ms,
	};
	struct timeval tv = {.tv_sec = argc > 3 ? num(argv[3]) : 40};
	struct event *t;

	d->prefix = argv[0];
	d->want = num(argv[2]);
	t = evtimer_new(d->base, watch_timeout, d);
	evtimer_add(t, &tv);
	d->w = etcd_watch_new(d->e, &wr, watch_cb, d);
	event_base_dispatch(d->base);
	etcd_watch_free(d->w);
	event_free(t);
	printf(
	    "END got=%ld cpu=%.2f\n", d->got, (double)clock() / CLOCKS_PER_SEC);
	return d->got == d->want ? 0 : 1;
}

static void
never(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	fprintf(stderr, "canceled request answered\n");
	exit(1);
}

/* Blocking and async calls against keys under /crud/. */
static int
cmd_crud(struct drive *d)
{
	struct etcd *e = d->e;
	struct etcd_result r;
	struct etcd_op op;
	struct etcd_cmp cmp;
	struct etcd_op ok, no;
	struct etcd_txn t = {&cmp, 1, &ok, 1, &no, 1};
	int64_t mod;
	const char bkey[] = "/crud/b\0\xff", bval[] = "v\0w";

	memset(&op, 0, sizeof(op));
	op = (struct etcd_op){.key = "/crud/", .prefix = 1};
	if (etcd_delete(e, &op, &r) == -1)
		die(e);
	etcd_result_clean(&r);

	op = (struct etcd_op){.key = "/crud/a", .value = "1"};
	CHECK(etcd_put(e, &op, &r) == 0);
	CHECK(r.revision > 0 && r.nkvs == 0);
	etcd_result_clean(&r);
	CHECK(etcd_get(e, "/crud/a", &r) == 0);
	CHECK(r.nkvs == 1 && strcmp(r.kvs[0].value, "1") == 0);
	CHECK(r.kvs[0].version == 1 &&
	    r.kvs[0].create_revision == r.kvs[0].mod_revision);
	etcd_result_clean(&r);

	op = (struct etcd_op){.key = "/crud/a", .value = "2", .prev_kv = 1};
	CHECK(etcd_put(e, &op, &r) == 0);
	CHECK(r.nkvs == 1 && strcmp(r.kvs[0].value, "1") == 0);
	etcd_result_clean(&r);

	/* bytes, not strings */
	op = (struct etcd_op){
	    .key = bkey,
	    .key_len = sizeof(bkey) - 1,
	    .value = bval,
	    .value_len = sizeof(bval) - 1,
	};
	CHECK(etcd_put(e, &op, &r) == 0);
	etcd_result_clean(&r);
	op = (struct etcd_op){.key = bkey, .key_len = sizeof(bkey) - 1};
	CHECK(etcd_range(e, &op, &r) == 0);
	CHECK(r.nkvs == 1 && r.kvs[0].key_len == sizeof(bkey) - 1);
	CHECK(memcmp(r.kvs[0].key, bkey, sizeof(bkey) - 1) == 0);
	CHECK(r.kvs[0].value_len == 3 && memcmp(r.kvs[0].value, bval, 3) == 0);
	etcd_result_clean(&r);

	op = (struct etcd_op){.key = "/crud/", .prefix = 1};
	CHECK(etcd_range(e, &op, &r) == 0);
	CHECK(r.nkvs == 2 && r.count == 2);
	CHECK(strcmp(r.kvs[0].key, "/crud/a") == 0);
	etcd_result_clean(&r);
	op.count_only = 1;
	CHECK(etcd_range(e, &op, &r) == 0);
	CHECK(r.nkvs == 0 && r.count == 2);
	etcd_result_clean(&r);
	op = (struct etcd_op){.key = "/crud/", .prefix = 1, .keys_only = 1};
	CHECK(etcd_range(e, &op, &r) == 0);
	CHECK(r.nkvs == 2 && r.kvs[0].value_len == 0);
	etcd_result_clean(&r);
	op = (struct etcd_op){.key = "/crud/", .prefix = 1, .limit = 1};
	CHECK(etcd_range(e, &op, &r) == 0);
	CHECK(r.nkvs == 1 && r.more == 1 && r.count == 2);
	etcd_result_clean(&r);

	op = (struct etcd_op){.key = "/crud/a", .prev_kv = 1};
	CHECK(etcd_delete(e, &op, &r) == 0);
	CHECK(r.count == 1 && r.nkvs == 1 && strcmp(r.kvs[0].value, "2") == 0);
	etcd_result_clean(&r);
	CHECK(etcd_get(e, "/crud/a", &r) == 0);
	CHECK(r.nkvs == 0);
	etcd_result_clean(&r);

	/* compare-and-swap */
	CHECK(etcd_cas_put(e, "/crud/c", "x", 0, 0, 0, &r) == 0);
	mod = r.revision;
	etcd_result_clean(&r);
	CHECK(etcd_cas_put(e, "/crud/c", "y", 0, 0, 0, &r) == 1);
	CHECK(r.nkvs == 1 && strcmp(r.kvs[0].value, "x") == 0);
	CHECK(r.kvs[0].mod_revision == mod);
	etcd_result_clean(&r);
	CHECK(etcd_cas_put(e, "/crud/c", "y", 0, mod, 0, &r) == 0);
	CHECK(r.revision > mod);
	etcd_result_clean(&r);
	CHECK(etcd_cas_delete(e, "/crud/c", mod, &r) == 1);
	CHECK(r.nkvs == 1 && strcmp(r.kvs[0].value, "y") == 0);
	mod = r.kvs[0].mod_revision;
	etcd_result_clean(&r);
	CHECK(etcd_cas_delete(e, "/crud/c", mod, &r) == 0);
	etcd_result_clean(&r);

	/* the other compare targets */
	op = (struct etcd_op){.key = "/crud/v", .value = "same"};
	CHECK(etcd_put(e, &op, &r) == 0);
	etcd_result_clean(&r);
	cmp = (struct etcd_cmp){
	    .target = ETCD_CMP_VALUE,
	    .key = "/crud/v",
	    .value = "same",
	};
	ok = (struct etcd_op){
	    .type = ETCD_OP_PUT,
	    .key = "/crud/v",
	    .value = "changed",
	};
	no = (struct etcd_op){.type = ETCD_OP_RANGE, .key = "/crud/v"};
	CHECK(etcd_txn(e, &t, &r) == 0);
	CHECK(r.succeeded && r.nresponses == 1 &&
	    r.responses[0].op == ETCD_OP_PUT);
	etcd_result_clean(&r);
	CHECK(etcd_txn(e, &t, &r) == 0);
	CHECK(!r.succeeded && r.nresponses == 1 &&
	    strcmp(r.responses[0].kvs[0].value, "changed") == 0);
	etcd_result_clean(&r);
	cmp = (struct etcd_cmp){
	    .target = ETCD_CMP_VERSION,
	    .result = ETCD_CMP_GREATER,
	    .key = "/crud/v",
	    .number = 1,
	};
	CHECK(etcd_txn(e, &t, &r) == 0 && r.succeeded);
	etcd_result_clean(&r);
	cmp = (struct etcd_cmp){
	    .target = ETCD_CMP_CREATE,
	    .result = ETCD_CMP_NOT_EQUAL,
	    .key = "/crud/v",
	    .number = 0,
	};
	CHECK(etcd_txn(e, &t, &r) == 0 && r.succeeded);
	etcd_result_clean(&r);

	/* etcd's errors come back with the endpoint */
	op = (struct etcd_op){.key = "/crud/v", .revision = 1000000000};
	CHECK(etcd_range(e, &op, &r) == -1);
	CHECK(etcd_last_error(e)->kind == ETCD_E_SERVER &&
	    etcd_last_error(e)->code == 11);
	printf("future: %s\n", etcd_error(e));
	CHECK(strstr(etcd_error(e), "required revision is a future revision") !=
	    NULL);
	CHECK(strncmp(etcd_error(e), "etcd http", 9) == 0);

	/* async: put, range, txn, delete, and a canceled request */
	if (d->base != NULL) {
		op = (struct etcd_op){.key = "/crud/async", .value = "a1"};
		etcd_put_async(e, &op, got_async, d);
		CHECK(wait_async(d) == 0 && d->res.op == ETCD_OP_PUT);
		etcd_result_clean(&d->res);
		etcd_req_cancel(etcd_range_async(e, &op, never, d));
		op = (struct etcd_op){.key = "/crud/", .prefix = 1};
		etcd_range_async(e, &op, got_async, d);
		CHECK(wait_async(d) == 0 && d->res.nkvs == 3);
		CHECK(strcmp(d->res.kvs[0].key, "/crud/async") == 0);
		etcd_result_clean(&d->res);
		cmp = (struct etcd_cmp){
		    .target = ETCD_CMP_MOD,
		    .key = "/crud/async",
		    .number = 1,
		};
		etcd_txn_async(e, &t, got_async, d);
		CHECK(wait_async(d) == 0 && !d->res.succeeded);
		etcd_result_clean(&d->res);
		op = (struct etcd_op){.key = "/crud/", .prefix = 1};
		etcd_delete_async(e, &op, got_async, d);
		CHECK(wait_async(d) == 0 && d->res.count == 3);
		etcd_result_clean(&d->res);
		op = (struct etcd_op){.key = "/crud/", .revision = 1000000000};
		etcd_range_async(e, &op, got_async, d);
		CHECK(wait_async(d) == -1 && d->err.code == 11);
		printf("async future: %s\n", d->err.msg);
	}
	printf("ok\n");
	return 0;
}

static void
lease_lost(struct etcd_lease *l, const struct etcd_error *err, void *arg)
{
	struct drive *d = arg;

	printf("LOST %s\n", err->msg);
	d->lost = 1;
	event_base_loopbreak(d->base);
}

static void
loop_for(struct drive *d, int ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};

	event_base_loopexit(d->base, &tv);
	event_base_dispatch(d->base);
}

/* Grant, attach, keep alive on the loop past the TTL, revoke. */
static int
cmd_lease(struct drive *d)
{
	struct etcd *e = d->e;
	struct etcd_result r;
	struct etcd_op op;
	struct etcd_lease *keeper;
	int64_t id, ttl;

	CHECK(etcd_lease_grant(e, 2, &id, &ttl) == 0);
	CHECK(id != 0 && ttl == 2);
	op = (struct etcd_op){.key = "/lease/k", .value = "v", .lease = id};
	CHECK(etcd_put(e, &op, &r) == 0);
	etcd_result_clean(&r);
	CHECK(etcd_get(e, "/lease/k", &r) == 0);
	CHECK(r.nkvs == 1 && r.kvs[0].lease == id);
	etcd_result_clean(&r);
	CHECK(etcd_lease_keepalive(e, id, &ttl) == 0 && ttl == 2);

	keeper = etcd_lease_keep(e, id, 2, lease_lost, d);
	loop_for(d, 3500);
	CHECK(!d->lost);
	CHECK(etcd_get(e, "/lease/k", &r) == 0);
	CHECK(r.nkvs == 1); /* outlived its TTL: kept alive */
	etcd_result_clean(&r);

	CHECK(etcd_lease_revoke(e, id) == 0);
	CHECK(etcd_get(e, "/lease/k", &r) == 0);
	CHECK(r.nkvs == 0);
	etcd_result_clean(&r);
	CHECK(etcd_lease_keepalive(e, id, &ttl) == 0 && ttl == 0);
	loop_for(d, 3000);
	CHECK(d->lost);
	etcd_lease_free(keeper);

	/* async grant and revoke */
	etcd_lease_grant_async(e, 10, got_async, d);
	CHECK(wait_async(d) == 0 && d->res.lease_id != 0 && d->res.ttl == 10);
	id = d->res.lease_id;
	etcd_lease_revoke_async(e, id, got_async, d);
	CHECK(wait_async(d) == 0);
	etcd_lease_keepalive_async(e, id, got_async, d);
	CHECK(wait_async(d) == 0 && d->res.ttl == 0);
	printf("ok\n");
	return 0;
}

/* Revoke a lease etcd may not have (a 404 from the gateway), then a get. */
static int
cmd_revoke(struct drive *d, int argc, char **argv)
{
	struct etcd_result r;

	if (etcd_lease_revoke(d->e, num(argv[0])) == -1)
		printf("revoke: %s\n", etcd_error(d->e));
	else
		printf("revoke: ok\n");
	if (etcd_get(d->e, argv[1], &r) == -1)
		die(d->e);
	print_get(d->e, &r);
	etcd_result_clean(&r);
	return 0;
}

static void
touch_file(evutil_socket_t fd, short what, void *arg)
{
	FILE *f;

	if ((f = fopen(arg, "w")) != NULL)
		fclose(f);
}

/* A lease kept on the loop while the first endpoint stops answering. */
static int
cmd_leasekeep(struct drive *d, int argc, char **argv)
{
	struct etcd_result r;
	struct etcd_op op;
	struct etcd_lease *keeper;
	struct event *t;
	struct timeval tv;
	int64_t id, ttl, ms = num(argv[3]);

	if (etcd_lease_grant(d->e, num(argv[0]), &id, &ttl) == -1)
		die(d->e);
	op = (struct etcd_op){.key = "/lease/kept", .value = "v", .lease = id};
	if (etcd_put(d->e, &op, &r) == -1)
		die(d->e);
	etcd_result_clean(&r);
	printf("granted %" PRId64 " ttl=%" PRId64 " via=%s\n", id, ttl,
	    etcd_endpoint(d->e));
	keeper = etcd_lease_keep(d->e, id, ttl, lease_lost, d);
	t = evtimer_new(d->base, touch_file, argv[2]);
	tv = (struct timeval){.tv_sec = ms / 1000, .tv_usec = ms % 1000 * 1000};
	evtimer_add(t, &tv);
	loop_for(d, (int)num(argv[1]) * 1000);
	if (!d->lost)
		printf("KEPT via=%s\n", etcd_endpoint(d->e));
	etcd_lease_free(keeper);
	event_free(t);
	return d->lost;
}

/*
 * Two requests go with token 1; the fast one finds it invalid and logs in
 * again (token 2); the slow one finds token 1 invalid after that, and must
 * not throw token 2 away.
 */
static int
cmd_authrace(struct drive *d)
{
	struct etcd_op fast = {.key = "/fast"}, slow = {.key = "/slow"};
	struct etcd_result r;
	int i;

	if (etcd_get(d->e, "/a", &r) == -1) /* logs in: token 1 */
		die(d->e);
	etcd_result_clean(&r);
	if (etcd_get(d->e, "/invalidate", &r) == -1)
		die(d->e);
	etcd_result_clean(&r);
	etcd_range_async(d->e, &slow, got_async, d);
	etcd_range_async(d->e, &fast, got_async, d);
	for (i = 0; i < 2; i++) {
		if (wait_async(d) == -1) {
			fprintf(stderr, "error: %s\n", d->err.msg);
			return 1;
		}
		printf("got %s\n", d->res.kvs[0].key);
		etcd_result_clean(&d->res);
	}
	if (etcd_get(d->e, "/authcount", &r) == -1)
		die(d->e);
	printf("logins=%s\n", r.kvs[0].value);
	etcd_result_clean(&r);
	return 0;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: etcd_drive [-a] [-e endpoints] [-C ca] [-c cert] "
	    "[-k key] [-u user] [-p password] [-w idle-ms] command args\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct etcd_config cfg = {0};
	struct etcd_error err;
	struct etcd_result r;
	struct etcd_op op = {0};
	struct drive d = {0};
	int ch, rc = 0;
	const char *cmd;

	store_init();

	log_init("etcd_drive", LOG_LVL_WARN);
	while ((ch = getopt(argc, argv, "ae:C:c:k:u:p:w:")) != -1) {
		switch (ch) {
		case 'a':
			d.async = 1;
			break;
		case 'w':
			d.idle_ms = (int)num(optarg);
			break;
		case 'e':
			cfg.endpoints = optarg;
			break;
		case 'C':
			cfg.ca_file = optarg;
			break;
		case 'c':
			cfg.cert_file = optarg;
			break;
		case 'k':
			cfg.key_file = optarg;
			break;
		case 'u':
			cfg.username = optarg;
			break;
		case 'p':
			cfg.password = optarg;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	d.base = event_base_new();
	cfg.base = d.base;
	if ((d.e = etcd_new(&cfg, &err)) == NULL) {
		fprintf(stderr, "error: %s\n", err.msg);
		return 1;
	}
	cmd = argv[0];
	argc--;
	argv++;
	if (strcmp(cmd, "put") == 0 && argc == 2) {
		op.key = argv[0];
		op.value = argv[1];
		if (etcd_put(d.e, &op, &r) == -1)
			die(d.e);
		printf("rev=%" PRId64 "\n", r.revision);
		etcd_result_clean(&r);
	} else if (strcmp(cmd, "get") == 0 && (argc == 1 || argc == 2)) {
		op.key = argv[0];
		op.revision = argc == 2 ? num(argv[1]) : 0;
		if (etcd_range(d.e, &op, &r) == -1)
			die(d.e);
		print_get(d.e, &r);
		etcd_result_clean(&r);
	} else if (strcmp(cmd, "get2") == 0 && argc == 2)
		rc = cmd_get2(&d, argc, argv);
	else if (strcmp(cmd, "del") == 0 && (argc == 1 || argc == 2)) {
		op.key = argv[0];
		op.prefix = argc == 2;
		if (etcd_delete(d.e, &op, &r) == -1)
			die(d.e);
		printf("deleted=%" PRId64 "\n", r.count);
		etcd_result_clean(&r);
	} else if (strcmp(cmd, "list") == 0 && (argc == 1 || argc == 2))
		rc = cmd_list(&d, argc, argv);
	else if (strcmp(cmd, "fill") == 0 && argc == 2)
		rc = cmd_fill(&d, argc, argv);
	else if (strcmp(cmd, "incr") == 0 && argc == 2)
		rc = cmd_incr(&d, argc, argv);
	else if (strcmp(cmd, "compact") == 0 && argc == 1) {
		if (etcd_compact(d.e, num(argv[0]), 1) == -1)
			die(d.e);
	} else if (strcmp(cmd, "rev") == 0 && argc == 0)
		printf("%" PRId64 "\n", store_rev(d.e));
	else if (strcmp(cmd, "watch") == 0 && (argc == 3 || argc == 4))
		rc = cmd_watch(&d, argc, argv);
	else if (strcmp(cmd, "revoke") == 0 && argc == 2)
		rc = cmd_revoke(&d, argc, argv);
	else if (strcmp(cmd, "leasekeep") == 0 && argc == 4)
		rc = cmd_leasekeep(&d, argc, argv);
	else if (strcmp(cmd, "authrace") == 0 && argc == 0)
		rc = cmd_authrace(&d);
	else if (strcmp(cmd, "crud") == 0 && argc == 0)
		rc = cmd_crud(&d);
	else if (strcmp(cmd, "lease") == 0 && argc == 0)
		rc = cmd_lease(&d);
	else
		usage();
	etcd_free(d.e);
	event_base_free(d.base);
	return rc;
}
