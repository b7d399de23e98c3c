/*
 * etcd v3 client internals, shared by store/etcd_*.c and the unit and fuzz
 * tests.  Not for use outside store/: the public API is store/etcd.h.
 */
#ifndef PODMESH_STORE_ETCD_INT_H
#define PODMESH_STORE_ETCD_INT_H

#include <sys/queue.h>

#include <curl/curl.h>
#include <jansson.h>

#include "store/etcd.h"

#define ETCD_DEFAULT_ENDPOINT "http://127.0.0.1:2379"
#define ETCD_MAX_ANSWER (256u << 20) /* bytes buffered for one answer */
#define ETCD_LIST_PAGE 1000
#define ETCD_LINE_KEEP (64u << 10) /* a stream's buffer, after a long line */

struct etcd_buf {
	char *p;
	size_t len;
	size_t cap;
	size_t scanned; /* streams: bytes known to hold no newline */
};

/*
 * One request to the gateway, through all its attempts (endpoints,
 * re-authentication, /v3beta fallback) and, for paged listings, its pages.
 * complete() sees the final answer: the parsed JSON on success, or err.  It
 * returns 1 when the request is finished, 0 when it has set a new body and
 * wants it sent (the next page).
 */
enum etcd_req_where {
	ETCD_REQ_IDLE, /* being built, run blocking, or between sends */
	ETCD_REQ_MULTI, /* in the curl multi: e->reqs */
	ETCD_REQ_AUTHQ, /* waiting for a token: e->authq */
	ETCD_REQ_PENDING, /* submitted inside a curl callback: e->pending */
};

struct etcd_req {
	struct etcd *e;
	TAILQ_ENTRY(etcd_req) entry; /* the list "where" names */
	enum etcd_req_where where;
	int canceled; /* inside a curl callback: reaped once out of it */
	int is_auth; /* the authenticate request itself */
	enum etcd_op_type op;
	const char *path; /* under the API prefix: "/kv/range" */
	char *body;
	int idempotent; /* safe to resend after a broken exchange */
	int stream; /* watch: lines go to line() as they arrive */
	long timeout_ms; /* per attempt; 0: the handle's */

	CURL *easy; /* own handle (async) or e->easy (blocking) */
	struct curl_slist *hdrs;
	struct etcd_buf resp;
	int overflow; /* answer larger than ETCD_MAX_ANSWER */
	char errbuf[CURL_ERROR_SIZE];
	size_t ep; /* endpoint of the current attempt */
	size_t tried; /* endpoints tried for this send */
	char fails[512]; /* failed endpoints of this send, for the message */
	int auth_retried;
	int beta; /* this attempt goes to /v3beta */
	unsigned token_gen; /* of the token this attempt carried */

	int (*complete)(struct etcd_req *, json_t *, const struct etcd_error *);
	void (*line)(struct etcd_req *, const char *, size_t);
	void (*freed)(struct etcd_req *); /* frees what ctx owns */
	etcd_cb *cb;
	void *arg;
	void *ctx; /* the operation's state (listing, watch) */
};

struct etcd {
	char **eps;
	size_t neps;
	size_t cur; /* endpoint that answered last */
	char *ca_file;
	char *cert_file;
	char *key_file;
	char *username;
	char *password;
	long connect_timeout_ms;
	long timeout_ms;
	const char *prefix; /* "/v3", or "/v3beta" for etcd 3.3 */
	int prefix_known; /* an answer came: prefix is settled */
	char *token;
	unsigned token_gen; /* counts the tokens fetched */
	struct etcd_error err; /* last blocking call */

	CURL *easy; /* blocking calls */

	struct event_base *base;
	CURLM *multi;
	struct event *timer;
	struct event *defer; /* runs what curl callbacks may not do */
	int in_curl; /* inside curl_multi_socket_action */
	TAILQ_HEAD(, etcd_req) reqs; /* async requests in the multi */
	TAILQ_HEAD(, etcd_req) authq; /* waiting for a token */
	TAILQ_HEAD(, etcd_req) pending; /* to add once out of curl */
	struct etcd_req *authreq; /* async authenticate in flight */
};

/* etcd_codec.c: pure JSON and base64, no I/O */
size_t etcd_b64_len(size_t);
void etcd_b64_encode(const void *, size_t, char *);
int etcd_b64_decode(const char *, size_t, char *, size_t *);
size_t etcd_prefix_end(const char *, size_t, char *);
json_t *etcd_json_bytes(const char *, size_t);
json_t *etcd_json_op(const struct etcd_op *, enum etcd_op_type);
json_t *etcd_json_txn(const struct etcd_txn *);
json_t *etcd_json_watch(const struct etcd_watch_req *, int64_t);
char *etcd_json_dump(json_t *);
int etcd_json_int64(const json_t *, const char *, int64_t *);
int etcd_parse_error(const json_t *, struct etcd_error *);
int etcd_parse_kv(const json_t *, struct etcd_kv *);
int etcd_parse_result(const json_t *, enum etcd_op_type, struct etcd_result *,
    struct etcd_error *);
int etcd_parse_answer(const char *, size_t, enum etcd_op_type,
    struct etcd_result *, struct etcd_error *);
int etcd_parse_watch(
    const char *, size_t, struct etcd_watch_update *, struct etcd_error *);
void etcd_watch_update_clean(struct etcd_watch_update *);
void etcd_seterr(struct etcd_error *, enum etcd_errkind, int, const char *, ...)
    __attribute__((format(printf, 4, 5)));
void etcd_classify(struct etcd_error *);

/* etcd_http.c: endpoints, curl, TLS, auth, failover, the libevent glue */
struct etcd_req *etcd_req_new(
    struct etcd *, enum etcd_op_type, const char *, char *);
void etcd_req_free(struct etcd_req *);
int etcd_req_run(struct etcd_req *);
void etcd_req_submit(struct etcd_req *);
void etcd_req_errat(const struct etcd_req *, struct etcd_error *);
int etcd_endpoints_parse(const char *, char ***, size_t *, char *, size_t);
typedef int etcd_line_fn(void *, const char *, size_t);
int etcd_lines_feed(
    struct etcd_buf *, const char *, size_t, etcd_line_fn *, void *);

/* etcd_kv.c */
int etcd_req_finish(struct etcd_req *, json_t *, const struct etcd_error *);

#endif
