/*
 * etcd v3 client transport: the handle, its endpoints, TLS, authentication
 * and failover, over libcurl.  Blocking requests run on one easy handle;
 * async ones run in a curl multi driven by libevent (curl's socket and
 * timer callbacks, as in curl's hiperfifo example).
 *
 * A request is sent to the endpoint that answered last.  If that endpoint
 * cannot be reached, or the exchange breaks and the request is safe to
 * repeat, the next endpoint is tried, until each has been tried once.  An
 * answer from etcd, even an error, ends the request there.  With a
 * username, a token is fetched from /v3/auth/authenticate before the first
 * request and again when etcd says it is no longer valid (simple tokens do
 * not survive an etcd restart).
 *
 * Curl forbids touching the multi from inside its callbacks, and a watch
 * callback runs inside curl's write callback; so a request canceled or
 * submitted there is only marked, and e->defer finishes the job after
 * curl returns.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd_int.h"

enum attempt {
	ATT_RETRY, /* send again (another endpoint, a token, /v3beta) */
	ATT_DONE, /* an answer, or an error to report */
};

static void buf_add(struct etcd_buf *, const char *, size_t);
static size_t write_cb(char *, size_t, size_t, void *);
static void setup_easy(struct etcd_req *);
static void send_reset(struct etcd_req *);
static int need_auth(const struct etcd_req *);
static enum attempt attempt_done(
    struct etcd_req *, CURLcode, json_t **, struct etcd_error *);
static struct etcd_req *auth_req_new(struct etcd *);
static int auth_complete(
    struct etcd_req *, json_t *, const struct etcd_error *);
static void detach(struct etcd_req *);
static void multi_done(struct etcd *);
static int sock_cb(CURL *, curl_socket_t, int, void *, void *);
static int timer_set_cb(CURLM *, long, void *);
static void event_cb(evutil_socket_t, short, void *);
static void timer_cb(evutil_socket_t, short, void *);
static void defer_cb(evutil_socket_t, short, void *);

static void
buf_add(struct etcd_buf *b, const char *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap == 0 ? 4096 : b->cap;
		while (b->len + n + 1 > b->cap)
			b->cap *= 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/*
 * Endpoint URLs from "a,b c": a missing scheme means http, the scheme is
 * lower-cased, a trailing slash is dropped.  The v2 client uses it too, so
 * one ETCD_ENDPOINTS serves both.  -1 with the reason in why (whylen bytes) on
 * an empty list, a scheme other than http(s), or a URL without a host.
 */
int
etcd_endpoints_parse(
    const char *s, char ***epsp, size_t *np, char *why, size_t whylen)
{
	char **eps = NULL;
	size_t n = 0, len, hlen;
	const char *p, *h;
	char *url;

	snprintf(why, whylen, "no endpoint");
	while (*s != '\0') {
		s += strspn(s, ", \t\n");
		if ((len = strcspn(s, ", \t\n")) == 0)
			break;
		p = memmem(s, len, "://", 3);
		h = p != NULL ? p + 3 : s;
		if (p != NULL &&
		    !(p - s == 4 && strncasecmp(s, "http", 4) == 0) &&
		    !(p - s == 5 && strncasecmp(s, "https", 5) == 0)) {
			snprintf(why, whylen, "%.*s: not http or https",
			    (int)len, s);
			goto bad;
		}
		hlen = strcspn(h, "/, \t\n");
		if (hlen == 0 || *h == ':') {
			snprintf(why, whylen, "%.*s: no host", (int)len, s);
			goto bad;
		}
		/* the scheme in lower case, as curl and messages want it */
		xasprintf(&url, "%s://%.*s",
		    p != NULL && p - s == 5 ? "https" : "http",
		    (int)(s + len - h), h);
		while (strlen(url) > 0 && url[strlen(url) - 1] == '/')
			url[strlen(url) - 1] = '\0';
		eps = xreallocarray(eps, n + 1, sizeof(*eps));
		eps[n++] = url;
		s += len;
	}
	if (n == 0)
		goto bad;
	*epsp = eps;
	*np = n;
	return 0;
bad:
	while (n > 0)
		free(eps[--n]);
	free(eps);
	return -1;
}

static int
file_check(const char *what, const char *path, struct etcd_error *err)
{
	if (path == NULL || *path == '\0' || access(path, R_OK) == 0)
		return 0;
	etcd_seterr(err, ETCD_E_CONNECT, 0, "etcd: %s %s: %s", what, path,
	    strerror(errno));
	return -1;
}

static char *
dup_opt(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

struct etcd *
etcd_new(const struct etcd_config *cfg, struct etcd_error *err)
{
	struct etcd *e;
	const char *eps = cfg->endpoints;
	char why[256];

	memset(err, 0, sizeof(*err));
	if (eps == NULL || strspn(eps, ", \t\n") == strlen(eps))
		eps = ETCD_DEFAULT_ENDPOINT;
	if (file_check("CA file", cfg->ca_file, err) == -1 ||
	    file_check("certificate file", cfg->cert_file, err) == -1 ||
	    file_check("key file", cfg->key_file, err) == -1)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	if (etcd_endpoints_parse(eps, &e->eps, &e->neps, why, sizeof(why)) ==
	    -1) {
		etcd_seterr(err, ETCD_E_CONNECT, 0,
		    "etcd: bad endpoint list \"%s\": %s", eps, why);
		free(e);
		return NULL;
	}
	e->ca_file = dup_opt(cfg->ca_file);
	e->cert_file = dup_opt(cfg->cert_file);
	e->key_file = dup_opt(cfg->key_file);
	e->username = dup_opt(cfg->username);
	e->password = xstrdup(cfg->password != NULL ? cfg->password : "");
	e->connect_timeout_ms =
	    cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 2000;
	e->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 15000;
	e->prefix = "/v3";
	TAILQ_INIT(&e->reqs);
	TAILQ_INIT(&e->authq);
	TAILQ_INIT(&e->pending);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (e->easy = curl_easy_init()) == NULL)
		fatalx("%s: curl init", __func__);
	if ((e->base = cfg->base) != NULL) {
		if ((e->multi = curl_multi_init()) == NULL)
			fatalx("%s: curl_multi_init", __func__);
		curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
		curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
		curl_multi_setopt(
		    e->multi, CURLMOPT_TIMERFUNCTION, timer_set_cb);
		curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
		if ((e->timer = evtimer_new(e->base, timer_cb, e)) == NULL ||
		    (e->defer = event_new(e->base, -1, 0, defer_cb, e)) == NULL)
			fatalx("%s: event_new", __func__);
	}
	return e;
}

void
etcd_free(struct etcd *e)
{
	struct etcd_req *req;
	size_t i;

	if (e == NULL)
		return;
	while ((req = TAILQ_FIRST(&e->reqs)) != NULL) {
		detach(req);
		etcd_req_free(req);
	}
	while ((req = TAILQ_FIRST(&e->authq)) != NULL) {
		TAILQ_REMOVE(&e->authq, req, entry);
		etcd_req_free(req);
	}
	while ((req = TAILQ_FIRST(&e->pending)) != NULL) {
		TAILQ_REMOVE(&e->pending, req, entry);
		etcd_req_free(req);
	}
	if (e->timer != NULL)
		event_free(e->timer);
	if (e->defer != NULL)
		event_free(e->defer);
	if (e->multi != NULL)
		curl_multi_cleanup(e->multi);
	curl_easy_cleanup(e->easy);
	curl_global_cleanup();
	for (i = 0; i < e->neps; i++)
		free(e->eps[i]);
	free(e->eps);
	free(e->ca_file);
	free(e->cert_file);
	free(e->key_file);
	free(e->username);
	free(e->password);
	free(e->token);
	free(e);
}

const char *
etcd_error(const struct etcd *e)
{
	return e->err.msg;
}

const struct etcd_error *
etcd_last_error(const struct etcd *e)
{
	return &e->err;
}

const char *
etcd_endpoint(const struct etcd *e)
{
	return e->eps[e->cur];
}

/* A request for path (under the API prefix) with body, which it owns. */
struct etcd_req *
etcd_req_new(struct etcd *e, enum etcd_op_type op, const char *path, char *body)
{
	struct etcd_req *req;

	req = xcalloc(1, sizeof(*req));
	req->e = e;
	req->op = op;
	req->path = path;
	req->body = body;
	send_reset(req);
	return req;
}

void
etcd_req_free(struct etcd_req *req)
{
	if (req->freed != NULL)
		req->freed(req);
	if (req->easy != NULL && req->easy != req->e->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->hdrs);
	free(req->resp.p);
	free(req->body);
	free(req);
}

/* Prefixes err's message with the endpoint of req's last attempt. */
void
etcd_req_errat(const struct etcd_req *req, struct etcd_error *err)
{
	char tmp[sizeof(err->msg)];
	size_t n, l;
	int r;

	r = snprintf(tmp, sizeof(tmp), "etcd %s: ", req->e->eps[req->ep]);
	n = r < 0 || (size_t)r >= sizeof(tmp) ? sizeof(tmp) - 1 : (size_t)r;
	l = strnlen(err->msg, sizeof(tmp) - n - 1);
	memcpy(tmp + n, err->msg, l);
	tmp[n + l] = '\0';
	memcpy(err->msg, tmp, sizeof(tmp));
}

/* A new send of the request (first, or the next page) starts over. */
static void
send_reset(struct etcd_req *req)
{
	req->ep = req->e->cur;
	req->tried = 0;
	req->fails[0] = '\0';
	req->auth_retried = 0;
	req->beta = 0;
}

static int
need_auth(const struct etcd_req *req)
{
	return req->e->username != NULL && req->e->token == NULL &&
	    !req->is_auth;
}

/*
 * Appends n bytes of a stream to b and hands each complete line to fn,
 * without its newline.  b->scanned remembers how far b is known to hold no
 * newline, so a long line arriving in small pieces is searched once, not
 * once per piece; after such a line the buffer shrinks back.  -1 when fn
 * returned non-zero (stop: b is then left as it is).
 */
int
etcd_lines_feed(
    struct etcd_buf *b, const char *p, size_t n, etcd_line_fn *fn, void *arg)
{
	size_t off = 0, cap;
	char *nl;

	buf_add(b, p, n);
	while ((nl = memchr(b->p + b->scanned, '\n', b->len - b->scanned)) !=
	    NULL) {
		if (fn(arg, b->p + off, (size_t)(nl - (b->p + off))) != 0)
			return -1;
		off = (size_t)(nl - b->p) + 1;
		b->scanned = off;
	}
	if (off > 0) {
		memmove(b->p, b->p + off, b->len - off);
		b->len -= off;
	}
	b->scanned = b->len;
	b->p[b->len] = '\0';
	if (b->cap > ETCD_LINE_KEEP && b->len < b->cap / 4) {
		for (cap = ETCD_LINE_KEEP; cap < b->len + 1; cap *= 2)
			;
		if (cap < b->cap) {
			b->p = xrealloc(b->p, cap);
			b->cap = cap;
		}
	}
	return 0;
}

static int
stream_line(void *arg, const char *line, size_t len)
{
	struct etcd_req *req = arg;
	struct etcd *e = req->e;

	if (!e->prefix_known) {
		/* a stream is an answer too (see attempt_done) */
		e->prefix_known = 1;
		e->prefix = req->beta ? "/v3beta" : "/v3";
	}
	req->line(req, line, len);
	return req->canceled;
}

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_req *req = arg;
	size_t len = size * n;
	long status = 0;

	if (req->canceled)
		return 0;
	if (req->resp.len + len > ETCD_MAX_ANSWER) {
		req->overflow = 1;
		return 0;
	}
	if (req->stream) {
		curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
		/* not 200: an error object, read when the request ends */
		if (status == 200)
			return etcd_lines_feed(
			           &req->resp, p, len, stream_line, req) == 0
			    ? len
			    : 0;
	}
	buf_add(&req->resp, p, len);
	return len;
}

static void
setup_easy(struct etcd_req *req)
{
	struct etcd *e = req->e;
	CURL *c = req->easy;
	char *s;

	curl_easy_reset(c);
	xasprintf(&s, "%s%s%s", e->eps[req->ep],
	    req->beta ? "/v3beta" : e->prefix, req->path);
	curl_easy_setopt(c, CURLOPT_URL, s);
	free(s);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body);
	curl_easy_setopt(
	    c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(req->body));
	curl_slist_free_all(req->hdrs);
	req->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	/* no "Expect: 100-continue" round trip for large bodies */
	req->hdrs = curl_slist_append(req->hdrs, "Expect:");
	req->token_gen = e->token_gen;
	if (e->token != NULL && *e->token != '\0' && !req->is_auth) {
		/* etcd wants the bare token, no "Bearer" */
		xasprintf(&s, "Authorization: %s", e->token);
		req->hdrs = curl_slist_append(req->hdrs, s);
		free(s);
	}
	if (req->stream) {
		/*
		 * A member cut off from the leader keeps a watch open and
		 * silent; asked this way (the gateway passes Grpc-Metadata-*
		 * on as gRPC metadata), it ends the watch with "no leader".
		 */
		req->hdrs = curl_slist_append(
		    req->hdrs, "Grpc-Metadata-hasleader: true");
	}
	if (req->hdrs == NULL)
		fatalx("%s: curl_slist_append", __func__);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, req->hdrs);
	/* over TLS, ALPN h2 would reach etcd's gRPC server, not the gateway */
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
	if (!req->stream)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
		    req->timeout_ms > 0 ? req->timeout_ms : e->timeout_ms);
	/* a watch may be silent for hours: let TCP find a dead peer */
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 5L);
	if (e->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
	if (e->cert_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert_file);
	if (e->key_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key_file);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, req);
	req->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, req->errbuf);
	curl_easy_setopt(c, CURLOPT_PRIVATE, req);
	req->resp.len = 0;
	req->resp.scanned = 0;
	req->overflow = 0;
}

static void
add_fail(struct etcd_req *req, const char *msg)
{
	size_t len = strlen(req->fails);

	snprintf(req->fails + len, sizeof(req->fails) - len, "%s%s: %s",
	    len > 0 ? "; " : "", req->e->eps[req->ep], msg);
}

/* Moves to the next endpoint; 0 when every one has been tried. */
static int
next_endpoint(struct etcd_req *req, const char *msg)
{
	add_fail(req, msg);
	if (++req->tried >= req->e->neps)
		return 0;
	req->ep = (req->ep + 1) % req->e->neps;
	return 1;
}

/* Printable text of an answer that is not JSON, for a message. */
static void
body_text(const struct etcd_buf *b, char *out, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < b->len && k + 1 < n && k < 120; i++)
		out[k++] = isprint((unsigned char)b->p[i]) ? b->p[i] : ' ';
	out[k] = '\0';
}

/*
 * What one attempt came to: an answer (*jp, the parsed JSON), an error, or
 * a reason to send again.  Error messages name the endpoint.
 */
static enum attempt
attempt_done(
    struct etcd_req *req, CURLcode rc, json_t **jp, struct etcd_error *err)
{
	struct etcd *e = req->e;
	json_error_t je;
	json_t *j = NULL;
	long status = 0, sent = 0;
	const char *cmsg;
	char text[128];

	*jp = NULL;
	memset(err, 0, sizeof(*err));
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(req->easy, CURLINFO_REQUEST_SIZE, &sent);
	cmsg = req->errbuf[0] != '\0' ? req->errbuf : curl_easy_strerror(rc);
	err->http_status = (int)status;
	if (req->overflow) {
		etcd_seterr(err, ETCD_E_PROTO, 0, "answer larger than %u bytes",
		    ETCD_MAX_ANSWER);
		goto fail;
	}
	if (req->stream && status == 200) {
		e->cur = req->ep;
		/* an error ends the stream, without a newline after it */
		if (req->resp.len > 0 &&
		    (j = json_loadb(req->resp.p, req->resp.len, 0, &je)) !=
		        NULL &&
		    etcd_parse_error(j, err)) {
			json_decref(j);
			err->http_status = (int)status;
			goto fail;
		}
		json_decref(j);
		etcd_seterr(err, ETCD_E_CONNECT, 0, "watch stream ended: %s",
		    rc == CURLE_OK ? "closed by etcd" : cmsg);
		goto fail;
	}
	if (rc != CURLE_OK) {
		/* resend only what etcd cannot have applied, or reads */
		if (req->idempotent || sent == 0 ||
		    rc == CURLE_COULDNT_CONNECT ||
		    rc == CURLE_COULDNT_RESOLVE_HOST) {
			if (next_endpoint(req, cmsg))
				return ATT_RETRY;
			if (e->neps == 1)
				etcd_seterr(err, ETCD_E_CONNECT, 0, "etcd %s",
				    req->fails);
			else
				etcd_seterr(err, ETCD_E_CONNECT, 0,
				    "etcd: no endpoint answered: %s",
				    req->fails);
			return ATT_DONE;
		}
		etcd_seterr(err, ETCD_E_CONNECT, 0, "%s", cmsg);
		goto fail;
	}
	e->cur = req->ep;
	j = json_loadb(
	    req->resp.p != NULL ? req->resp.p : "", req->resp.len, 0, &je);
	if (j == NULL && status == 404 && !e->prefix_known && !req->beta) {
		/*
		 * etcd 3.3 serves the gateway under /v3beta only, and says so
		 * with a bare 404 page.  A 404 in JSON is etcd's answer (gRPC
		 * NotFound, a lease that is gone), and once something has
		 * answered the question is settled: etcd 3.5 has no /v3beta.
		 */
		req->beta = 1;
		return ATT_RETRY;
	}
	if (j != NULL && !e->prefix_known) {
		e->prefix_known = 1;
		e->prefix = req->beta ? "/v3beta" : "/v3";
	}
	if (j != NULL && etcd_parse_error(j, err)) {
		json_decref(j);
		err->http_status = (int)status;
		if (e->username != NULL && !req->is_auth &&
		    !req->auth_retried &&
		    (err->code == 16 ||
		        (err->kind == ETCD_E_AUTH && e->token != NULL &&
		            *e->token == '\0'))) {
			/*
			 * The token lapsed, or auth was enabled since.  Only
			 * if it is still the one this attempt carried: another
			 * request may have fetched a new one meanwhile.
			 */
			req->auth_retried = 1;
			if (req->token_gen == e->token_gen) {
				free(e->token);
				e->token = NULL;
			}
			return ATT_RETRY;
		}
		if (err->code == 14 && req->idempotent &&
		    next_endpoint(req, err->msg))
			return ATT_RETRY; /* "no leader": ask another member */
		goto fail;
	}
	if (j == NULL || status != 200) {
		json_decref(j);
		body_text(&req->resp, text, sizeof(text));
		if (status != 200)
			etcd_seterr(err, ETCD_E_SERVER, 0, "HTTP %ld: %s",
			    status, text);
		else
			etcd_seterr(err, ETCD_E_PROTO, 0,
			    "answer is not JSON (%s): %s", je.text, text);
		err->http_status = (int)status;
		goto fail;
	}
	*jp = j;
	return ATT_DONE;
fail:
	etcd_req_errat(req, err);
	return ATT_DONE;
}

static struct etcd_req *
auth_req_new(struct etcd *e)
{
	struct etcd_req *req;
	json_t *o;

	if ((o = json_object()) == NULL)
		fatalx("%s: json_object", __func__);
	json_object_set_new(o, "name", json_string(e->username));
	json_object_set_new(o, "password", json_string(e->password));
	req = etcd_req_new(
	    e, ETCD_OP_OTHER, "/auth/authenticate", etcd_json_dump(o));
	req->is_auth = 1;
	req->idempotent = 1;
	req->complete = auth_complete;
	return req;
}

/*
 * The token, or why there is none.  Blocking: reported through ctx.
 * Async: the queue of requests waiting for it goes on, or fails.
 */
static int
auth_complete(struct etcd_req *req, json_t *j, const struct etcd_error *err)
{
	struct etcd *e = req->e;
	struct etcd_error aerr;
	struct etcd_req *q;
	const json_t *t;
	size_t n = 0;

	if (err != NULL && strstr(err->msg, "authentication is not enabled")) {
		free(e->token);
		e->token = xstrdup(""); /* nothing to authenticate */
		e->token_gen++;
		err = NULL;
	} else if (err == NULL) {
		t = json_object_get(j, "token");
		if (json_is_string(t) && json_string_length(t) > 0 &&
		    strpbrk(json_string_value(t), "\r\n") == NULL) {
			free(e->token);
			e->token = xstrdup(json_string_value(t));
			e->token_gen++;
		} else {
			etcd_seterr(&aerr, ETCD_E_AUTH, 0,
			    "no token in the authenticate answer");
			etcd_req_errat(req, &aerr);
			err = &aerr;
		}
	}
	if (req->ctx != NULL) {
		if (err != NULL)
			*(struct etcd_error *)req->ctx = *err;
		req->ctx = NULL;
		return 1;
	}
	e->authreq = NULL;
	/*
	 * Only those waiting now: a failed request may queue itself again,
	 * and a callback may cancel others, so take them one at a time.
	 */
	TAILQ_FOREACH(q, &e->authq, entry)
	n++;
	while (n-- > 0 && (q = TAILQ_FIRST(&e->authq)) != NULL) {
		TAILQ_REMOVE(&e->authq, q, entry);
		q->where = ETCD_REQ_IDLE;
		if (err == NULL)
			etcd_req_submit(q);
		else if (q->complete(q, NULL, err))
			etcd_req_free(q);
		else {
			send_reset(q);
			etcd_req_submit(q);
		}
	}
	return 1;
}

static int
auth_blocking(struct etcd *e, struct etcd_error *err)
{
	struct etcd_req *req;

	memset(err, 0, sizeof(*err));
	req = auth_req_new(e);
	req->ctx = err;
	etcd_req_run(req);
	return err->kind == ETCD_E_NONE ? 0 : -1;
}

/*
 * Runs a request to the end on the blocking handle; complete() reports.
 * Frees req.
 */
int
etcd_req_run(struct etcd_req *req)
{
	struct etcd *e = req->e;
	struct etcd_error err;
	json_t *j;
	CURLcode rc;
	int fin;

	req->easy = e->easy;
	for (;;) {
		if (need_auth(req) && auth_blocking(e, &err) == -1) {
			j = NULL;
		} else {
			setup_easy(req);
			rc = curl_easy_perform(req->easy);
			if (attempt_done(req, rc, &j, &err) == ATT_RETRY)
				continue;
		}
		fin = req->complete(req, j, j == NULL ? &err : NULL);
		json_decref(j);
		if (fin)
			break;
		send_reset(req);
	}
	req->easy = NULL;
	etcd_req_free(req);
	return 0;
}

/* Hands req to the multi, or queues it for a token or for after curl. */
void
etcd_req_submit(struct etcd_req *req)
{
	struct etcd *e = req->e;

	if (e->multi == NULL)
		fatalx("etcd: async request on a handle without an event base");
	if (e->in_curl) {
		req->where = ETCD_REQ_PENDING;
		TAILQ_INSERT_TAIL(&e->pending, req, entry);
		event_active(e->defer, EV_TIMEOUT, 0);
		return;
	}
	if (need_auth(req)) {
		req->where = ETCD_REQ_AUTHQ;
		TAILQ_INSERT_TAIL(&e->authq, req, entry);
		if (e->authreq == NULL) {
			e->authreq = auth_req_new(e);
			etcd_req_submit(e->authreq);
		}
		return;
	}
	if (req->easy == NULL && (req->easy = curl_easy_init()) == NULL)
		fatalx("%s: curl_easy_init", __func__);
	setup_easy(req);
	if (curl_multi_add_handle(e->multi, req->easy) != CURLM_OK)
		fatalx("%s: curl_multi_add_handle", __func__);
	req->where = ETCD_REQ_MULTI;
	TAILQ_INSERT_TAIL(&e->reqs, req, entry);
}

void
etcd_req_cancel(struct etcd_req *req)
{
	struct etcd *e = req->e;

	switch (req->where) {
	case ETCD_REQ_MULTI:
		if (e->in_curl) {
			req->canceled = 1;
			event_active(e->defer, EV_TIMEOUT, 0);
			return;
		}
		detach(req);
		break;
	case ETCD_REQ_AUTHQ:
		TAILQ_REMOVE(&e->authq, req, entry);
		break;
	case ETCD_REQ_PENDING:
		TAILQ_REMOVE(&e->pending, req, entry);
		break;
	case ETCD_REQ_IDLE:
		break;
	}
	etcd_req_free(req);
}

static void
detach(struct etcd_req *req)
{
	curl_multi_remove_handle(req->e->multi, req->easy);
	TAILQ_REMOVE(&req->e->reqs, req, entry);
	req->where = ETCD_REQ_IDLE;
}

/* Finished transfers: answer, retry, or reap. */
static void
multi_done(struct etcd *e)
{
	struct etcd_req *req;
	struct etcd_error err;
	CURLMsg *m;
	CURLcode rc;
	json_t *j;
	char *p;
	int left, fin;

	while ((m = curl_multi_info_read(e->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &p);
		req = (struct etcd_req *)p;
		detach(req);
		if (req->canceled) {
			etcd_req_free(req);
			continue;
		}
		if (attempt_done(req, rc, &j, &err) == ATT_RETRY) {
			etcd_req_submit(req);
			continue;
		}
		fin = req->complete(req, j, j == NULL ? &err : NULL);
		json_decref(j);
		if (fin)
			etcd_req_free(req);
		else {
			send_reset(req);
			etcd_req_submit(req);
		}
	}
}

static int
sock_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
	struct etcd *e = arg;
	struct event *ev = sockp;
	short kind;

	if (what == CURL_POLL_REMOVE) {
		if (ev != NULL) {
			event_free(ev);
			curl_multi_assign(e->multi, s, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (ev == NULL) {
		if ((ev = event_new(e->base, s, kind, event_cb, e)) == NULL)
			fatalx("%s: event_new", __func__);
		curl_multi_assign(e->multi, s, ev);
	} else {
		event_del(ev);
		event_assign(ev, e->base, s, kind, event_cb, e);
	}
	event_add(ev, NULL);
	return 0;
}

static int
timer_set_cb(CURLM *multi, long ms, void *arg)
{
	struct etcd *e = arg;
	struct timeval tv;

	if (ms < 0) {
		evtimer_del(e->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(e->timer, &tv);
	return 0;
}

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *e = arg;
	int running, action = 0;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	e->in_curl = 1;
	curl_multi_socket_action(e->multi, fd, action, &running);
	e->in_curl = 0;
	multi_done(e);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *e = arg;
	int running;

	e->in_curl = 1;
	curl_multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	e->in_curl = 0;
	multi_done(e);
}

/* What curl callbacks asked for: reap canceled requests, submit new ones. */
static void
defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct etcd *e = arg;
	struct etcd_req *req, *next;
	size_t n = 0;

	for (req = TAILQ_FIRST(&e->reqs); req != NULL; req = next) {
		next = TAILQ_NEXT(req, entry);
		if (req->canceled) {
			detach(req);
			etcd_req_free(req);
		}
	}
	TAILQ_FOREACH(req, &e->pending, entry)
	n++;
	while (n-- > 0 && (req = TAILQ_FIRST(&e->pending)) != NULL) {
		TAILQ_REMOVE(&e->pending, req, entry);
		req->where = ETCD_REQ_IDLE;
		etcd_req_submit(req);
	}
}
