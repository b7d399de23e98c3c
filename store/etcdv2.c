/*
 * etcd v2 client: requests to /v2/keys over libcurl (blocking, one easy
 * handle), the answer parser, and the list-then-watch loop.  Sources: the
 * etcd v2 API (etcd-io/website v2.3/api.md) and the shapes etcd 3.4.23
 * sends with --enable-v2 (ecosystem.md §2.11).
 *
 * The transport is a small copy of what store/etcd_http.c does for v3
 * (endpoints, TLS, failover): v2 is a plain REST API with form bodies,
 * basic auth and a header carrying the index, and sharing the v3 request
 * machinery would tie the two together for a few dozen lines.
 *
 * A request goes to the endpoint that answered last.  If that endpoint
 * cannot be reached, the next is tried, until each has been tried once;
 * reads (and unconditional writes) are also resent when an exchange breaks
 * half way, conditional writes only when nothing was sent, since etcd may
 * have applied them.  An answer from etcd, even an error, ends the request.
 *
 * Answers: {"action","node":{key,value,dir,nodes,modifiedIndex,
 * createdIndex,ttl},"prevNode"} on success, {"errorCode","message","cause",
 * "index"} on failure; the index of the store travels in X-Etcd-Index.  A
 * recursive get nests directories; the parser flattens them, checking that
 * every child's key lies under its parent's.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd_int.h"
#include "store/etcdv2.h"

#define ETCDV2_DEFAULT_ENDPOINT "http://127.0.0.1:2379"
#define ETCDV2_MAX_ANSWER (256u << 20) /* bytes buffered for one answer */

struct etcdv2 {
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
	CURL *easy;
	struct etcdv2_error err; /* last call */

	/* the exchange in progress */
	char *resp;
	size_t resp_len;
	size_t resp_cap;
	int overflow;
	int64_t hdr_index; /* -1: no X-Etcd-Index yet */
	int hdr_bad;
	char errbuf[CURL_ERROR_SIZE];
};

/* One request, through its attempts at each endpoint. */
struct v2req {
	const char *op; /* for messages: "get", "set", ... */
	const char *key; /* with its leading '/' */
	const char *method; /* NULL: GET */
	char *query; /* without the '?'; "" for none */
	char *body; /* a PUT's form, or NULL */
	int idempotent; /* safe to resend after a broken exchange */
	int watch;
	int flat;
	long timeout_ms; /* 0: no limit */
};

static void seterr(struct etcdv2_error *, enum etcdv2_errkind, int,
    const char *, ...) __attribute__((format(printf, 4, 5)));

static void
seterr(struct etcdv2_error *err, enum etcdv2_errkind kind, int code,
    const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/* Printable text of (part of) a string etcd sent, for a message. */
static void
text_of(const char *p, size_t len, char *out, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < len && k + 1 < n && k < 160; i++)
		out[k++] = isprint((unsigned char)p[i]) ? p[i] : ' ';
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

/* ------------------------------------------------------------------ */
/* The parser */

void
etcdv2_node_clean(struct etcdv2_node *n)
{
	free(n->key);
	free(n->value);
	memset(n, 0, sizeof(*n));
}

void
etcdv2_result_clean(struct etcdv2_result *res)
{
	size_t i;

	etcdv2_node_clean(&res->node);
	etcdv2_node_clean(&res->prev);
	for (i = 0; i < res->nnodes; i++)
		etcdv2_node_clean(&res->nodes[i]);
	free(res->nodes);
	memset(res, 0, sizeof(*res));
}

static const struct {
	const char *name;
	enum etcdv2_action action;
} actions[] = {
    {"get", ETCDV2_ACT_GET},
    {"set", ETCDV2_ACT_SET},
    {"create", ETCDV2_ACT_CREATE},
    {"update", ETCDV2_ACT_UPDATE},
    {"delete", ETCDV2_ACT_DELETE},
    {"expire", ETCDV2_ACT_EXPIRE},
    {"compareAndSwap", ETCDV2_ACT_CAS},
    {"compareAndDelete", ETCDV2_ACT_CAD},
};

/* An optional non-negative integer member; -1 if it is something else. */
static int
get_index(
    const json_t *o, const char *name, int64_t *v, struct etcdv2_error *err)
{
	const json_t *j = json_object_get(o, name);

	*v = 0;
	if (j == NULL || json_is_null(j))
		return 0;
	if (!json_is_integer(j) || json_integer_value(j) < 0) {
		seterr(err, ETCDV2_E_PROTO, 0, "%s is not an index", name);
		return -1;
	}
	*v = json_integer_value(j);
	return 0;
}

/*
 * One node object, without its children.  Keys are absolute; the root
 * directory comes without one and is "/".
 */
static int
node_parse(const json_t *o, struct etcdv2_node *n, struct etcdv2_error *err)
{
	const json_t *k, *v, *d, *t;

	memset(n, 0, sizeof(*n));
	if (!json_is_object(o)) {
		seterr(err, ETCDV2_E_PROTO, 0, "a node is not an object");
		return -1;
	}
	k = json_object_get(o, "key");
	d = json_object_get(o, "dir");
	v = json_object_get(o, "value");
	t = json_object_get(o, "ttl");
	if (k != NULL &&
	    (!json_is_string(k) || json_string_length(k) == 0 ||
	        json_string_value(k)[0] != '/' ||
	        strlen(json_string_value(k)) != json_string_length(k))) {
		seterr(err, ETCDV2_E_PROTO, 0, "a node's key is not a key");
		return -1;
	}
	if ((d != NULL && !json_is_boolean(d) && !json_is_null(d)) ||
	    (v != NULL && !json_is_string(v) && !json_is_null(v)) ||
	    (t != NULL && !json_is_integer(t) && !json_is_null(t))) {
		seterr(err, ETCDV2_E_PROTO, 0, "node %s: bad dir, value or ttl",
		    k != NULL ? json_string_value(k) : "/");
		return -1;
	}
	if (get_index(o, "modifiedIndex", &n->modified_index, err) == -1 ||
	    get_index(o, "createdIndex", &n->created_index, err) == -1)
		return -1;
	n->dir = json_is_true(d);
	n->ttl = json_is_integer(t) ? json_integer_value(t) : 0;
	if (!n->dir && json_is_string(v)) {
		n->value_len = json_string_length(v);
		n->value = xmalloc(n->value_len + 1);
		memcpy(n->value, json_string_value(v), n->value_len);
		n->value[n->value_len] = '\0';
	} else
		n->value = xstrdup("");
	n->key = xstrdup(k != NULL ? json_string_value(k) : "/");
	return 0;
}

struct flat {
	struct etcdv2_node *v;
	size_t n;
	size_t cap;
};

/*
 * The children of directory o (key parent), and theirs, appended to f.
 * Depth is bounded by jansson's nesting limit.
 */
static int
flatten(const json_t *o, const char *parent, struct flat *f,
    struct etcdv2_error *err)
{
	const json_t *nodes, *c;
	size_t i, plen;
	const char *key;

	nodes = json_object_get(o, "nodes");
	if (nodes == NULL || json_is_null(nodes))
		return 0;
	if (!json_is_array(nodes)) {
		seterr(err, ETCDV2_E_PROTO, 0, "%s: nodes is not an array",
		    parent);
		return -1;
	}
	plen = strcmp(parent, "/") == 0 ? 0 : strlen(parent);
	json_array_foreach(nodes, i, c)
	{
		if (f->n == f->cap) {
			f->cap = f->cap == 0 ? 64 : f->cap * 2;
			f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
		}
		if (node_parse(c, &f->v[f->n], err) == -1)
			return -1;
		/* f->v moves as it grows; the key string does not */
		key = f->v[f->n++].key;
		if (strncmp(key, parent, plen) != 0 || key[plen] != '/' ||
		    key[plen + 1] == '\0') {
			seterr(err, ETCDV2_E_PROTO, 0, "%s is listed under %s",
			    key, parent);
			return -1;
		}
		if (!f->v[f->n - 1].dir) {
			if (json_object_get(c, "nodes") != NULL) {
				seterr(err, ETCDV2_E_PROTO, 0,
				    "%s has nodes but is not a directory", key);
				return -1;
			}
			continue;
		}
		if (flatten(c, key, f, err) == -1)
			return -1;
	}
	return 0;
}

static int
node_cmp(const void *a, const void *b)
{
	const struct etcdv2_node *x = a, *y = b;

	return strcmp(x->key, y->key);
}

/* etcd's error object: kind ETCD with its code, message and cause. */
static void
parse_error(const json_t *o, long status, struct etcdv2_error *err)
{
	const json_t *c = json_object_get(o, "errorCode");
	const json_t *m = json_object_get(o, "message");
	const json_t *cause = json_object_get(o, "cause");
	const json_t *ix = json_object_get(o, "index");
	char mt[200], ct[200];

	if (!json_is_integer(c) || json_integer_value(c) <= 0 ||
	    json_integer_value(c) > 100000) {
		seterr(err, ETCDV2_E_PROTO, 0, "HTTP %ld: errorCode is not one",
		    status);
		return;
	}
	if (json_is_string(m))
		text_of(json_string_value(m), json_string_length(m), mt,
		    sizeof(mt));
	else
		snprintf(mt, sizeof(mt), "(no message)");
	ct[0] = '\0';
	if (json_is_string(cause))
		text_of(json_string_value(cause), json_string_length(cause), ct,
		    sizeof(ct));
	if (ct[0] != '\0')
		seterr(err, ETCDV2_E_ETCD, (int)json_integer_value(c),
		    "error %d: %s (%s)", (int)json_integer_value(c), mt, ct);
	else
		seterr(err, ETCDV2_E_ETCD, (int)json_integer_value(c),
		    "error %d: %s", (int)json_integer_value(c), mt);
	if (json_is_integer(ix) && json_integer_value(ix) >= 0)
		err->index = json_integer_value(ix);
}

int
etcdv2_parse_answer(const char *body, size_t len, long status, int flat,
    struct etcdv2_result *res, struct etcdv2_error *err)
{
	const json_t *a, *n, *p, *m;
	struct flat f = {NULL, 0, 0};
	json_error_t je;
	json_t *j;
	char text[200];
	size_t i;

	memset(res, 0, sizeof(*res));
	memset(err, 0, sizeof(*err));
	err->http_status = (int)status;
	if ((j = json_loadb(
	         body != NULL ? body : "", len, JSON_ALLOW_NUL, &je)) == NULL) {
		text_of(body != NULL ? body : "", len, text, sizeof(text));
		if (status < 200 || status > 299)
			seterr(err, ETCDV2_E_HTTP, 0, "HTTP %ld: %s", status,
			    text);
		else
			seterr(err, ETCDV2_E_PROTO, 0,
			    "answer is not JSON (%s): %s", je.text, text);
		return -1;
	}
	if (!json_is_object(j)) {
		seterr(err, ETCDV2_E_PROTO, 0, "answer is not a JSON object");
		goto fail;
	}
	if (json_object_get(j, "errorCode") != NULL) {
		parse_error(j, status, err);
		goto fail;
	}
	if (status < 200 || status > 299) {
		m = json_object_get(j, "message");
		if (json_is_string(m))
			text_of(json_string_value(m), json_string_length(m),
			    text, sizeof(text));
		else
			snprintf(text, sizeof(text), "(no message)");
		seterr(err, ETCDV2_E_HTTP, 0, "HTTP %ld: %s", status, text);
		goto fail;
	}
	a = json_object_get(j, "action");
	n = json_object_get(j, "node");
	p = json_object_get(j, "prevNode");
	if (!json_is_string(a) || !json_is_object(n)) {
		seterr(err, ETCDV2_E_PROTO, 0, "answer without action or node");
		goto fail;
	}
	res->action = ETCDV2_ACT_OTHER;
	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(json_string_value(a), actions[i].name) == 0)
			res->action = actions[i].action;
	if (node_parse(n, &res->node, err) == -1)
		goto fail;
	if (p != NULL && !json_is_null(p) &&
	    node_parse(p, &res->prev, err) == -1)
		goto fail;
	if (flat) {
		if (!res->node.dir) {
			if (json_object_get(n, "nodes") != NULL) {
				seterr(err, ETCDV2_E_PROTO, 0,
				    "%s has nodes but is not a directory",
				    res->node.key);
				goto fail;
			}
			f.v = xcalloc(1, sizeof(*f.v));
			f.v[0] = res->node;
			f.v[0].key = xstrdup(res->node.key);
			f.v[0].value = xmalloc(res->node.value_len + 1);
			memcpy(f.v[0].value, res->node.value,
			    res->node.value_len + 1);
			f.n = 1;
		} else if (flatten(n, res->node.key, &f, err) == -1)
			goto fail;
		if (f.n > 1)
			qsort(f.v, f.n, sizeof(*f.v), node_cmp);
		res->nodes = f.v;
		res->nnodes = f.n;
		f.v = NULL;
		f.n = 0;
	}
	res->found = 1;
	json_decref(j);
	return 0;
fail:
	for (i = 0; i < f.n; i++)
		etcdv2_node_clean(&f.v[i]);
	free(f.v);
	etcdv2_result_clean(res);
	json_decref(j);
	return -1;
}

int
etcdv2_parse_index_header(const char *p, size_t len, int64_t *index)
{
	static const char name[] = "x-etcd-index:";
	const size_t nlen = sizeof(name) - 1;
	int64_t v = 0;
	size_t i;

	if (len < nlen || strncasecmp(p, name, nlen) != 0)
		return 0;
	p += nlen;
	len -= nlen;
	while (len > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		len--;
	}
	while (len > 0 &&
	    (p[len - 1] == '\r' || p[len - 1] == '\n' || p[len - 1] == ' ' ||
	        p[len - 1] == '\t'))
		len--;
	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)p[i]) ||
		    v > (INT64_MAX - (p[i] - '0')) / 10)
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	*index = v;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The handle */

static int
file_check(const char *what, const char *path, struct etcdv2_error *err)
{
	if (path == NULL || *path == '\0' || access(path, R_OK) == 0)
		return 0;
	seterr(err, ETCDV2_E_CONNECT, 0, "etcd: %s %s: %s", what, path,
	    strerror(errno));
	return -1;
}

static char *
dup_opt(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

struct etcdv2 *
etcdv2_new(const struct etcd_config *cfg, struct etcdv2_error *err)
{
	static const struct etcd_config none;
	struct etcdv2 *e;
	const char *eps;
	char why[256]; /* the list itself is what the message names */

	memset(err, 0, sizeof(*err));
	if (cfg == NULL)
		cfg = &none;
	eps = cfg->endpoints;
	if (eps == NULL || strspn(eps, ", \t\n") == strlen(eps))
		eps = ETCDV2_DEFAULT_ENDPOINT;
	if (file_check("CA file", cfg->ca_file, err) == -1 ||
	    file_check("certificate file", cfg->cert_file, err) == -1 ||
	    file_check("key file", cfg->key_file, err) == -1)
		return NULL;
	e = xcalloc(1, sizeof(*e));
	if (etcd_endpoints_parse(eps, &e->eps, &e->neps, why, sizeof(why)) ==
	    -1) {
		seterr(err, ETCDV2_E_CONNECT, 0, "etcd: bad endpoint list: %s",
		    eps);
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
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (e->easy = curl_easy_init()) == NULL)
		fatalx("%s: curl init", __func__);
	return e;
}

void
etcdv2_free(struct etcdv2 *e)
{
	size_t i;

	if (e == NULL)
		return;
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
	free(e->resp);
	free(e);
}

const char *
etcdv2_error(const struct etcdv2 *e)
{
	return e->err.msg;
}

const struct etcdv2_error *
etcdv2_last_error(const struct etcdv2 *e)
{
	return &e->err;
}

const char *
etcdv2_endpoint(const struct etcdv2 *e)
{
	return e->eps[e->cur];
}

/* ------------------------------------------------------------------ */
/* Requests */

static size_t
write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct etcdv2 *e = arg;
	size_t len = size * n;

	if (e->resp_len + len > ETCDV2_MAX_ANSWER) {
		e->overflow = 1;
		return 0;
	}
	if (e->resp_len + len + 1 > e->resp_cap) {
		e->resp_cap = e->resp_cap == 0 ? 4096 : e->resp_cap;
		while (e->resp_len + len + 1 > e->resp_cap)
			e->resp_cap *= 2;
		e->resp = xrealloc(e->resp, e->resp_cap);
	}
	memcpy(e->resp + e->resp_len, p, len);
	e->resp_len += len;
	e->resp[e->resp_len] = '\0';
	return len;
}

static size_t
header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct etcdv2 *e = arg;
	size_t len = size * n;
	int64_t v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		/* a new header block (after a 100 Continue, say) */
		e->hdr_index = -1;
		e->hdr_bad = 0;
	} else {
		switch (etcdv2_parse_index_header(p, len, &v)) {
		case 1:
			e->hdr_index = v;
			break;
		case -1:
			e->hdr_bad = 1;
			break;
		}
	}
	return len;
}

/* The key as a URL path: every byte but unreserved ones and '/' escaped. */
static char *
key_path(const char *key)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out, *o;
	const unsigned char *k;

	out = o = xmalloc(strlen(key) * 3 + 1);
	for (k = (const unsigned char *)key; *k != '\0'; k++) {
		if (isalnum(*k) || strchr("/-._~", *k) != NULL)
			*o++ = (char)*k;
		else {
			*o++ = '%';
			*o++ = hex[*k >> 4];
			*o++ = hex[*k & 15];
		}
	}
	*o = '\0';
	return out;
}

static void
setup(struct etcdv2 *e, const struct v2req *rq, size_t ep,
    struct curl_slist *hdrs)
{
	CURL *c = e->easy;
	char *url, *path;

	curl_easy_reset(c);
	path = key_path(rq->key);
	xasprintf(&url, "%s/v2/keys%s%s%s", e->eps[ep], path,
	    rq->query[0] != '\0' ? "?" : "", rq->query);
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);
	free(path);
	if (rq->method != NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	if (rq->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(rq->body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	/* etcd serves gRPC on the same port: stay on HTTP/1.1 over TLS */
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
	if (rq->timeout_ms > 0)
		curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
	/* a watch may wait for hours: let TCP find a dead peer */
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, 5L);
	if (e->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);
	if (e->cert_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLCERT, e->cert_file);
	if (e->key_file != NULL)
		curl_easy_setopt(c, CURLOPT_SSLKEY, e->key_file);
	if (e->username != NULL) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, e->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, e->password);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, e);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, e);
	e->errbuf[0] = '\0';
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, e->errbuf);
	e->resp_len = 0;
	e->overflow = 0;
	e->hdr_index = -1;
	e->hdr_bad = 0;
}

/*
 * Puts "etcd ENDPOINT: OP KEY: " before e->err's message, dropping a
 * trailing " (KEY)" (etcd's cause is often the key again).
 */
static void
errat(struct etcdv2 *e, const char *ep, const struct v2req *rq)
{
	char tmp[sizeof(e->err.msg)];
	size_t ml = strlen(e->err.msg), kl = strlen(rq->key), n, l;
	int r;

	if (ml > kl + 3 && e->err.msg[ml - 1] == ')' &&
	    strncmp(e->err.msg + ml - kl - 1, rq->key, kl) == 0 &&
	    strncmp(e->err.msg + ml - kl - 3, " (", 2) == 0)
		e->err.msg[ml - kl - 3] = '\0';
	r = snprintf(tmp, sizeof(tmp),
	    "etcd%s%s: %s %s: ", ep != NULL ? " " : "", ep != NULL ? ep : "",
	    rq->op, rq->key);
	n = r < 0 || (size_t)r >= sizeof(tmp) ? sizeof(tmp) - 1 : (size_t)r;
	l = strnlen(e->err.msg, sizeof(tmp) - n - 1);
	memcpy(tmp + n, e->err.msg, l);
	tmp[n + l] = '\0';
	memcpy(e->err.msg, tmp, sizeof(tmp));
}

static void
add_fail(char *fails, size_t n, const char *ep, const char *msg)
{
	size_t len = strlen(fails);

	snprintf(
	    fails + len, n - len, "%s%s: %s", len > 0 ? "; " : "", ep, msg);
}

/*
 * Runs one request: 0 with res filled, 1 for a watch whose time ran out
 * (res clean but for index), -1 with e->err set (res clean).
 */
static int
run(struct etcdv2 *e, const struct v2req *rq, struct etcdv2_result *res)
{
	struct curl_slist *hdrs;
	size_t ep = e->cur, tried = 0;
	char fails[512];
	long status, sent;
	const char *cmsg;
	CURLcode rc;
	int r;

	memset(res, 0, sizeof(*res));
	memset(&e->err, 0, sizeof(e->err));
	fails[0] = '\0';
	/* no "Expect: 100-continue" round trip before a large form */
	if ((hdrs = curl_slist_append(NULL, "Expect:")) == NULL)
		fatalx("%s: curl_slist_append", __func__);
	for (;;) {
		setup(e, rq, ep, hdrs);
		rc = curl_easy_perform(e->easy);
		status = sent = 0;
		curl_easy_getinfo(e->easy, CURLINFO_RESPONSE_CODE, &status);
		curl_easy_getinfo(e->easy, CURLINFO_REQUEST_SIZE, &sent);
		if (e->overflow) {
			e->cur = ep;
			seterr(&e->err, ETCDV2_E_PROTO, 0,
			    "answer larger than %u bytes", ETCDV2_MAX_ANSWER);
			errat(e, e->eps[ep], rq);
			r = -1;
			break;
		}
		if (rc == CURLE_OPERATION_TIMEDOUT && rq->watch &&
		    status == 200) {
			/*
			 * etcd is there and had nothing to say in time.  If
			 * the event itself made it in, take it; a partial
			 * one is asked for again from the same index.
			 */
			e->cur = ep;
			r = 1;
			if (e->resp_len > 0 &&
			    etcdv2_parse_answer(e->resp, e->resp_len, status, 0,
			        res, &e->err) == 0) {
				r = 0;
				res->index =
				    e->hdr_index > 0 ? e->hdr_index : 0;
			} else if (e->resp_len == 0) {
				/*
				 * Nothing at all: no change up to the index
				 * etcd took the poll at.  (Not so with half an
				 * event: it may be one from history, below.)
				 */
				res->index =
				    e->hdr_index > 0 ? e->hdr_index : 0;
			}
			memset(&e->err, 0, sizeof(e->err));
			break;
		}
		if (rc != CURLE_OK) {
			cmsg = e->errbuf[0] != '\0' ? e->errbuf
			                            : curl_easy_strerror(rc);
			add_fail(fails, sizeof(fails), e->eps[ep], cmsg);
			if ((rq->idempotent || sent == 0 ||
			        rc == CURLE_COULDNT_CONNECT ||
			        rc == CURLE_COULDNT_RESOLVE_HOST) &&
			    ++tried < e->neps) {
				ep = (ep + 1) % e->neps;
				continue;
			}
			if (e->neps == 1 || tried < e->neps) {
				/* one endpoint, or a write that broke */
				e->cur = ep;
				seterr(&e->err, ETCDV2_E_CONNECT, 0, "%s%s",
				    cmsg,
				    rq->idempotent || sent == 0
				        ? ""
				        : " (it may have been applied)");
				errat(e, e->eps[ep], rq);
			} else {
				seterr(&e->err, ETCDV2_E_CONNECT, 0,
				    "no endpoint answered: %s", fails);
				errat(e, NULL, rq);
			}
			r = -1;
			break;
		}
		e->cur = ep;
		if (rq->watch && status == 200 && e->resp_len == 0) {
			r = 1; /* etcd ended the poll without an event */
			res->index = e->hdr_index > 0 ? e->hdr_index : 0;
			break;
		}
		if (e->hdr_bad) {
			seterr(&e->err, ETCDV2_E_PROTO, 0,
			    "X-Etcd-Index is not a number");
			errat(e, e->eps[ep], rq);
			r = -1;
			break;
		}
		if (etcdv2_parse_answer(e->resp, e->resp_len, status, rq->flat,
		        res, &e->err) == -1) {
			if (e->err.kind == ETCDV2_E_HTTP && status == 404) {
				size_t l = strlen(e->err.msg);

				snprintf(e->err.msg + l, sizeof(e->err.msg) - l,
				    " (no v2 API? etcd 3.4 needs --enable-v2)");
			}
			if (e->err.index == 0 && e->hdr_index > 0)
				e->err.index = e->hdr_index;
			errat(e, e->eps[ep], rq);
			r = -1;
			break;
		}
		res->index = e->hdr_index > 0 ? e->hdr_index : 0;
		r = 0;
		break;
	}
	curl_slist_free_all(hdrs);
	return r;
}

/* The key with a leading '/', which etcd's URLs need. */
static char *
norm_key(const char *key)
{
	char *k;

	if (key == NULL)
		key = "";
	if (key[0] == '/')
		return xstrdup(key);
	xasprintf(&k, "/%s", key);
	return k;
}

/* Appends "&name=value" (value escaped) to a form or query. */
static void
form_add(struct etcdv2 *e, char **s, const char *name, const char *value)
{
	char *esc, *n;

	if ((esc = curl_easy_escape(e->easy, value, (int)strlen(value))) ==
	    NULL)
		fatalx("%s: curl_easy_escape", __func__);
	xasprintf(&n, "%s%s%s=%s", *s, **s != '\0' ? "&" : "", name, esc);
	curl_free(esc);
	free(*s);
	*s = n;
}

static void
form_add_int(struct etcdv2 *e, char **s, const char *name, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, v);
	form_add(e, s, name, buf);
}

/* A get or list: etcd's 100 is an answer here, found 0. */
static int
read_key(struct etcdv2 *e, struct v2req *rq, struct etcdv2_result *res)
{
	int r;

	r = run(e, rq, res);
	if (r == -1 && e->err.kind == ETCDV2_E_ETCD &&
	    e->err.code == ETCDV2_KEY_NOT_FOUND) {
		res->index = e->err.index;
		res->found = 0;
		memset(&e->err, 0, sizeof(e->err));
		r = 0;
	}
	return r;
}

int
etcdv2_get(struct etcdv2 *e, const char *key, struct etcdv2_result *res)
{
	struct v2req rq = {
	    .op = "get", .idempotent = 1, .timeout_ms = e->timeout_ms};
	char *k = norm_key(key);
	int r;

	rq.key = k;
	rq.query = xstrdup("quorum=true");
	r = read_key(e, &rq, res);
	free(rq.query);
	free(k);
	return r;
}

int
etcdv2_list(struct etcdv2 *e, const char *dir, struct etcdv2_result *res)
{
	struct v2req rq = {.op = "list",
	    .idempotent = 1,
	    .flat = 1,
	    .timeout_ms = e->timeout_ms};
	char *k = norm_key(dir);
	int r;

	rq.key = k;
	rq.query = xstrdup("recursive=true&quorum=true");
	r = read_key(e, &rq, res);
	free(rq.query);
	free(k);
	return r;
}

/* prevIndex, prevValue and prevExist into a form or query. */
static int
add_conds(struct etcdv2 *e, char **s, const struct etcdv2_opts *o)
{
	int conds = 0;

	if (o->prev_index > 0) {
		form_add_int(e, s, "prevIndex", o->prev_index);
		conds = 1;
	}
	if (o->prev_value != NULL) {
		form_add(e, s, "prevValue", o->prev_value);
		conds = 1;
	}
	if (o->prev_exist != ETCDV2_PREV_ANY) {
		form_add(e, s, "prevExist",
		    o->prev_exist == ETCDV2_PREV_EXISTS ? "true" : "false");
		conds = 1;
	}
	return conds;
}

int
etcdv2_set(struct etcdv2 *e, const char *key, const char *value,
    const struct etcdv2_opts *opts, struct etcdv2_result *res)
{
	static const struct etcdv2_opts none;
	struct v2req rq = {
	    .op = "set", .method = "PUT", .timeout_ms = e->timeout_ms};
	struct etcdv2_result tmp;
	char *k = norm_key(key);
	int r;

	if (opts == NULL)
		opts = &none;
	rq.key = k;
	rq.query = xstrdup("");
	rq.body = xstrdup("");
	if (opts->dir)
		form_add(e, &rq.body, "dir", "true");
	else
		form_add(e, &rq.body, "value", value != NULL ? value : "");
	if (opts->ttl > 0)
		form_add_int(e, &rq.body, "ttl", opts->ttl);
	/* setting a key to a value twice is harmless; a compare is not */
	rq.idempotent = !add_conds(e, &rq.body, opts);
	r = run(e, &rq, res != NULL ? res : &tmp);
	if (res == NULL && r == 0)
		etcdv2_result_clean(&tmp);
	free(rq.query);
	free(rq.body);
	free(k);
	return r;
}

int
etcdv2_delete(struct etcdv2 *e, const char *key, const struct etcdv2_opts *opts,
    struct etcdv2_result *res)
{
	static const struct etcdv2_opts none;
	struct v2req rq = {
	    .op = "delete", .method = "DELETE", .timeout_ms = e->timeout_ms};
	struct etcdv2_result tmp;
	char *k = norm_key(key);
	int r;

	if (opts == NULL)
		opts = &none;
	rq.key = k;
	rq.query = xstrdup("");
	if (opts->recursive)
		form_add(e, &rq.query, "recursive", "true");
	if (opts->dir)
		form_add(e, &rq.query, "dir", "true");
	add_conds(e, &rq.query, opts);
	r = run(e, &rq, res != NULL ? res : &tmp);
	if (res == NULL && r == 0)
		etcdv2_result_clean(&tmp);
	free(rq.query);
	free(k);
	return r;
}

int
etcdv2_watch(struct etcdv2 *e, const char *key, int64_t wait_index,
    int recursive, int timeout_ms, struct etcdv2_result *res)
{
	struct v2req rq = {.op = "watch",
	    .idempotent = 1,
	    .watch = 1,
	    .timeout_ms = timeout_ms > 0 ? timeout_ms : 0};
	char *k = norm_key(key);
	int r;

	rq.key = k;
	rq.query = xstrdup("wait=true");
	if (recursive)
		form_add(e, &rq.query, "recursive", "true");
	if (wait_index > 0)
		form_add_int(e, &rq.query, "waitIndex", wait_index);
	r = run(e, &rq, res);
	if (r == 0 && res->node.modified_index < wait_index) {
		/* going backwards would loop for ever in etcdv2_sync */
		seterr(&e->err, ETCDV2_E_PROTO, 0,
		    "event at index %" PRId64 " before waitIndex %" PRId64,
		    res->node.modified_index, wait_index);
		etcdv2_result_clean(res);
		errat(e, e->eps[e->cur], &rq);
		r = -1;
	}
	free(rq.query);
	free(k);
	return r;
}

int
etcdv2_sync(struct etcdv2 *e, const char *prefix, int64_t from, int poll_ms,
    etcdv2_sync_cb *cb, void *arg)
{
	struct etcdv2_sync_update u;
	struct etcdv2_result res;
	int64_t next = from > 0 ? from : 0;
	int relist = 0, r, stop;

	for (;;) {
		memset(&u, 0, sizeof(u));
		if (next == 0) {
			if (etcdv2_list(e, prefix, &res) == -1)
				return -1;
			next = res.index + 1;
			u.kind = ETCDV2_SYNC_LIST;
			u.res = &res;
			u.relist = relist;
			u.next_index = next;
			relist = 0;
			stop = cb(&u, arg);
			etcdv2_result_clean(&res);
			if (stop)
				return 0;
			continue;
		}
		r = etcdv2_watch(e, prefix, next, 1, poll_ms, &res);
		if (r == -1) {
			if (e->err.kind == ETCDV2_E_ETCD &&
			    e->err.code == ETCDV2_INDEX_CLEARED) {
				log_info("%s: listing again", e->err.msg);
				next = 0;
				relist = 1;
				continue;
			}
			return -1;
		}
		if (r == 1) {
			/*
			 * etcd's index when it took the poll (X-Etcd-Index):
			 * nothing under prefix changed up to there.  Going on
			 * from the old index instead, other keys' writes would
			 * push it out of the 1000 events etcd keeps, and every
			 * quiet spell would end in a 401 and a re-list.
			 */
			if (res.index + 1 > next)
				next = res.index + 1;
			u.kind = ETCDV2_SYNC_IDLE;
			u.next_index = next;
			if (cb(&u, arg))
				return 0;
			continue;
		}
		next = res.node.modified_index + 1;
		u.kind = ETCDV2_SYNC_EVENT;
		u.res = &res;
		u.next_index = next;
		stop = cb(&u, arg);
		etcdv2_result_clean(&res);
		if (stop)
			return 0;
	}
}
