/*
 * etcd v3 client over the JSON gRPC gateway (POST /v3/...; keys and values
 * travel base64 encoded, int64 fields as JSON strings).
 *
 * One handle, struct etcd, holds the endpoint list, TLS files, the auth token
 * and the HTTP connections.  It is used in one of two ways, or both:
 *
 *  - blocking (etcd_range, etcd_put, ...): one request at a time on a private
 *    curl easy handle; for podmeshctl and the CNI plugin;
 *  - callbacks on a libevent loop (etcd_*_async, etcd_watch_new,
 *    etcd_lease_keep): curl multi driven by the event_base given in
 *    etcd_config; for daemons.
 *
 * Every call returns -1 on failure with a message naming the endpoint and
 * the etcd error ("etcd http://127.0.0.1:2379: etcdserver: mvcc: required
 * revision has been compacted"); etcd_error() gives the blocking call's
 * error, callbacks receive theirs.  A compare that does not hold in a txn is
 * not an error: it is result.succeeded == 0.
 *
 * Endpoints are tried in order, starting from the last one that answered;
 * a connection failure moves to the next.  With a username, the client
 * authenticates (/v3/auth/authenticate) before its first request and again
 * when etcd calls the token invalid.
 *
 * Not thread safe.  No callback may free the struct etcd it was called for.
 */
#ifndef PODMESH_STORE_ETCD_H
#define PODMESH_STORE_ETCD_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct etcd;
struct etcd_req;
struct etcd_watch;
struct etcd_lease;

struct etcd_config {
	/* URLs separated by commas or spaces, "http://h:2379,https://h2:2379";
	 * a missing scheme means http.  NULL: http://127.0.0.1:2379. */
	const char *endpoints;
	const char *ca_file; /* trusted CA (PEM); NULL: system default */
	const char *cert_file; /* client certificate (PEM) */
	const char *key_file; /* its private key (PEM) */
	const char *username; /* NULL: no etcd authentication */
	const char *password;
	int connect_timeout_ms; /* per endpoint; 0: 2000 */
	int timeout_ms; /* per request (not watches); 0: 15000 */
	struct event_base *base; /* needed by the async API and watches */
};

enum etcd_errkind {
	ETCD_E_NONE,
	ETCD_E_CONNECT, /* no endpoint could be reached */
	ETCD_E_SERVER, /* etcd answered with an error; code = gRPC code */
	ETCD_E_COMPACTED, /* the revision asked for is compacted */
	ETCD_E_AUTH, /* authentication refused or permission denied */
	ETCD_E_PROTO, /* an answer that is not what the gateway sends */
};

struct etcd_error {
	enum etcd_errkind kind;
	int code; /* gRPC status code when etcd sent one, else 0 */
	int http_status;
	char msg[768]; /* "etcd ENDPOINT: what went wrong" */
};

struct etcd_kv {
	char *key; /* bytes, with a NUL after them for convenience */
	size_t key_len; /* not counting that NUL */
	char *value; /* "" (never NULL) for an empty or keys_only value */
	size_t value_len;
	int64_t create_revision;
	int64_t mod_revision;
	int64_t version;
	int64_t lease;
};

enum etcd_op_type {
	ETCD_OP_RANGE,
	ETCD_OP_PUT,
	ETCD_OP_DELETE,
	ETCD_OP_TXN,
	ETCD_OP_LEASE, /* grant, keepalive, revoke */
	ETCD_OP_OTHER, /* compaction, authenticate, watch */
};

/*
 * One request: a range, put or delete, alone or inside a txn.  Keys and
 * values are bytes; a length of 0 with a non-NULL pointer means strlen().
 */
struct etcd_op {
	enum etcd_op_type type; /* inside a txn; the single calls ignore it */
	const char *key;
	size_t key_len;
	int prefix; /* range, delete: every key starting with key */
	const char *range_end; /* or an explicit [key, range_end) */
	size_t range_end_len;
	const char *value; /* put */
	size_t value_len;
	int64_t lease; /* put: attach to this lease */
	int prev_kv; /* put, delete: return the previous kv(s) */
	int64_t limit; /* range: at most this many kvs (0: all) */
	int64_t revision; /* range: read at this revision (0: latest) */
	int keys_only; /* range: no values */
	int count_only; /* range: only count */
};

enum etcd_cmp_target {
	ETCD_CMP_VERSION,
	ETCD_CMP_CREATE,
	ETCD_CMP_MOD,
	ETCD_CMP_VALUE,
	ETCD_CMP_LEASE,
};

enum etcd_cmp_result {
	ETCD_CMP_EQUAL,
	ETCD_CMP_GREATER,
	ETCD_CMP_LESS,
	ETCD_CMP_NOT_EQUAL,
};

struct etcd_cmp {
	enum etcd_cmp_target target;
	enum etcd_cmp_result result;
	const char *key;
	size_t key_len;
	int64_t number; /* VERSION, CREATE, MOD, LEASE (0 = absent key) */
	const char *value; /* VALUE */
	size_t value_len;
};

struct etcd_txn {
	const struct etcd_cmp *cmp;
	size_t ncmp;
	const struct etcd_op *success;
	size_t nsuccess;
	const struct etcd_op *failure;
	size_t nfailure;
};

/*
 * What a request answers.  Which fields mean something depends on op:
 *  RANGE   kvs, count, more
 *  PUT     kvs: the previous kv when prev_kv was asked (0 or 1)
 *  DELETE  count: keys deleted; kvs: previous kvs when prev_kv was asked
 *  TXN     succeeded, responses (one per op of the branch that ran)
 *  LEASE   lease_id, ttl (keepalive: ttl 0 = the lease is gone)
 * revision is the store revision when the request was served.
 */
struct etcd_result {
	enum etcd_op_type op;
	int64_t revision;
	struct etcd_kv *kvs;
	size_t nkvs;
	int64_t count;
	int more;
	int succeeded;
	struct etcd_result *responses;
	size_t nresponses;
	int64_t lease_id;
	int64_t ttl;
};

/* Frees what a result holds (not the struct) and zeroes it. */
void etcd_result_clean(struct etcd_result *);
/* Frees one kv's key and value and zeroes it. */
void etcd_kv_clean(struct etcd_kv *);

/* NULL with *err filled when the configuration is unusable. */
struct etcd *etcd_new(const struct etcd_config *, struct etcd_error *);
/*
 * Drops outstanding async requests without calling their callbacks.
 * Watches and lease keepers must be freed before their handle.
 */
void etcd_free(struct etcd *);
const char *etcd_error(const struct etcd *); /* last blocking call's msg */
const struct etcd_error *etcd_last_error(const struct etcd *);
/* The endpoint that answered last (or will be tried first). */
const char *etcd_endpoint(const struct etcd *);

/*
 * Blocking calls: 0 on success with *res filled (the caller cleans it),
 * -1 on failure (res is left clean).
 */
int etcd_range(struct etcd *, const struct etcd_op *, struct etcd_result *);
int etcd_put(struct etcd *, const struct etcd_op *, struct etcd_result *);
int etcd_delete(struct etcd *, const struct etcd_op *, struct etcd_result *);
int etcd_txn(struct etcd *, const struct etcd_txn *, struct etcd_result *);
int etcd_compact(struct etcd *, int64_t, int); /* revision, physical */

/* One key; res->nkvs is 0 when it does not exist. */
int etcd_get(struct etcd *, const char *, struct etcd_result *);
/*
 * Every key under a prefix, read page by page (page_size kvs per request,
 * 0: 1000) at the revision of the first page, so the set is consistent
 * however long it is; res->revision is that revision, the one to watch
 * from + 1.  If the revision is compacted between pages, the listing starts
 * again at the latest revision.
 */
int etcd_list(struct etcd *, const char *, int64_t, struct etcd_result *);

/*
 * Compare-and-swap: put (or delete) key only if its mod_revision is still
 * mod_revision (0: only if the key does not exist).  Returns 0 when done,
 * 1 when the compare failed (res->kvs then holds the key's current kv, if
 * any), -1 on error.
 */
int etcd_cas_put(struct etcd *, const char *, const char *, size_t, int64_t,
    int64_t, struct etcd_result *); /* key, value, len, mod_rev, lease */
int etcd_cas_delete(struct etcd *, const char *, int64_t, struct etcd_result *);

int etcd_lease_grant(struct etcd *, int64_t, int64_t *, int64_t *);
/* *ttl is 0 when the lease has expired or never existed. */
int etcd_lease_keepalive(struct etcd *, int64_t, int64_t *);
int etcd_lease_revoke(struct etcd *, int64_t);

/*
 * Async calls (need etcd_config.base).  The callback runs once from the
 * event loop, with err NULL and res filled on success, or res NULL and err
 * set.  It may move kvs out of res (setting them NULL/0); the rest is freed
 * after it returns.  The returned handle is valid until the callback starts;
 * etcd_req_cancel() before that drops the request without a callback.
 */
typedef void etcd_cb(struct etcd_result *, const struct etcd_error *, void *);

struct etcd_req *etcd_range_async(
    struct etcd *, const struct etcd_op *, etcd_cb *, void *);
struct etcd_req *etcd_put_async(
    struct etcd *, const struct etcd_op *, etcd_cb *, void *);
struct etcd_req *etcd_delete_async(
    struct etcd *, const struct etcd_op *, etcd_cb *, void *);
struct etcd_req *etcd_txn_async(
    struct etcd *, const struct etcd_txn *, etcd_cb *, void *);
struct etcd_req *etcd_list_async(
    struct etcd *, const char *, int64_t, etcd_cb *, void *);
struct etcd_req *etcd_lease_grant_async(
    struct etcd *, int64_t, etcd_cb *, void *);
struct etcd_req *etcd_lease_keepalive_async(
    struct etcd *, int64_t, etcd_cb *, void *);
struct etcd_req *etcd_lease_revoke_async(
    struct etcd *, int64_t, etcd_cb *, void *);
void etcd_req_cancel(struct etcd_req *);

/*
 * Watches (async only).  A watch streams events for a key or prefix from
 * start_revision (0: from now on).  When the stream breaks (etcd restarted,
 * endpoint lost, a member without a leader) it reconnects, trying each
 * endpoint, and resumes at the revision after the last one it delivered,
 * so nothing is missed or repeated.  If that revision has been compacted
 * meanwhile, it reports ETCD_WATCH_COMPACTED and stops: the caller re-lists
 * (etcd_list) and calls etcd_watch_restart() with the listing's revision
 * + 1.  The same goes for ETCD_WATCH_CANCELED, which also comes when a
 * revision cannot be got past (an answer at it that does not parse, or is
 * larger than the client takes, several times over).
 *
 * A stream that is not created within the handle's request timeout, or
 * (idle_timeout_ms) brings nothing for that long once created, is taken
 * for a frozen member: the watch resumes on the next endpoint.  A quiet key
 * is silent for ever unless progress_notify is set; then etcd sends a
 * progress notification every 10 minutes (its
 * --experimental-watch-progress-notify-interval), and twice that is a
 * sound idle_timeout_ms.  (Asking for progress on an open watch is not
 * possible here: etcd 3.4's gateway starts the stream only once the
 * request body has ended.)
 */
struct etcd_watch_req {
	const char *key;
	size_t key_len;
	int prefix;
	int64_t start_revision;
	int prev_kv; /* events carry the kv before the change */
	int progress_notify; /* etcd sends empty updates to move revision */
	int idle_timeout_ms; /* no message this long: next endpoint; 0: never */
};

enum etcd_event_type {
	ETCD_EV_PUT,
	ETCD_EV_DELETE, /* kv holds only key and mod_revision */
};

struct etcd_event {
	enum etcd_event_type type;
	struct etcd_kv kv;
	struct etcd_kv prev_kv; /* key NULL unless prev_kv was asked */
};

enum etcd_watch_kind {
	ETCD_WATCH_CREATED, /* the stream is up (again) */
	ETCD_WATCH_EVENTS, /* events, in revision order */
	ETCD_WATCH_PROGRESS, /* no events; revision moved on */
	ETCD_WATCH_DISCONNECTED, /* err says why; reconnecting on its own */
	ETCD_WATCH_COMPACTED, /* stopped; compact_revision set */
	ETCD_WATCH_CANCELED, /* stopped by etcd, or stuck; err says why */
};

struct etcd_watch_update {
	enum etcd_watch_kind kind;
	int64_t revision; /* header revision of this update */
	int64_t compact_revision;
	struct etcd_event *events;
	size_t nevents;
	const struct etcd_error *err;
};

typedef void etcd_watch_cb(
    struct etcd_watch *, struct etcd_watch_update *, void *);

struct etcd_watch *etcd_watch_new(
    struct etcd *, const struct etcd_watch_req *, etcd_watch_cb *, void *);
/* May be called from the watch's own callback. */
void etcd_watch_free(struct etcd_watch *);
/* Start again from this revision (after a compaction or a cancel). */
void etcd_watch_restart(struct etcd_watch *, int64_t);
/* The revision the watch resumes from after a disconnect. */
int64_t etcd_watch_next_revision(const struct etcd_watch *);

/*
 * Lease keeper (async): sends a keepalive every ttl/3 seconds (but not
 * more often than once a second), each endpoint given min(request timeout,
 * ttl/3) to answer before the next is asked, so a member that hangs does not
 * cost the lease while another could keep it.  The lease is known to live until
 * the TTL etcd answered, counted from when the keepalive was sent; failed
 * keepalives are retried each second until then.  When the lease is lost
 * (expired or revoked), the callback runs once and the keeper stops; its
 * owner still frees it, which the callback may do.
 */
typedef void etcd_lease_cb(
    struct etcd_lease *, const struct etcd_error *, void *);

struct etcd_lease *etcd_lease_keep(struct etcd *, int64_t, int64_t,
    etcd_lease_cb *, void *); /* lease id, ttl */
void etcd_lease_free(struct etcd_lease *);

#endif
