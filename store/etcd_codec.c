/*
 * The etcd v3 JSON gateway's wire format, with no I/O: request bodies out,
 * answers and watch lines in.  Keys and values are base64 (RFC 4648 §4)
 * inside JSON; int64 fields are decimal strings; zero, false and empty
 * fields are left out by the gateway, so every missing field reads as 0.
 * The answer parsers take untrusted bytes (they are fuzzed) and reject
 * anything of the wrong JSON type rather than guess.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd_int.h"

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int parse_kvs(const json_t *, const char *, struct etcd_result *);
static int parse_txn(const json_t *, struct etcd_result *, struct etcd_error *);
static int b64_value(int);
static size_t key_len(const char *, size_t);
static void set_int64(json_t *, const char *, int64_t);

/* Encoded length of n bytes, without the NUL. */
size_t
etcd_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

/* out holds etcd_b64_len(n) + 1 bytes; it is NUL-terminated. */
void
etcd_b64_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	uint32_t v;

	while (n >= 3) {
		v = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 0x3f];
		*out++ = b64chars[(v >> 6) & 0x3f];
		*out++ = b64chars[v & 0x3f];
		p += 3;
		n -= 3;
	}
	if (n > 0) {
		v = (uint32_t)p[0] << 16;
		if (n == 2)
			v |= (uint32_t)p[1] << 8;
		*out++ = b64chars[v >> 18];
		*out++ = b64chars[(v >> 12) & 0x3f];
		*out++ = n == 2 ? b64chars[(v >> 6) & 0x3f] : '=';
		*out++ = '=';
	}
	*out = '\0';
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Standard alphabet; padding may be left out (Go writes it, but be
 * lenient).  out holds len / 4 * 3 + 3 bytes.  -1 on a character outside
 * the alphabet, padding anywhere but the end, or an impossible length.
 */
int
etcd_b64_decode(const char *in, size_t len, char *out, size_t *outlen)
{
	uint32_t acc = 0;
	size_t i, n = 0, bits = 0, pad = 0;
	int v;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (pad > 0 && (len + pad) % 4 != 0)
		return -1;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)in[i])) == -1)
			return -1;
		acc = acc << 6 | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[n++] = (char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	*outlen = n;
	return 0;
}

/*
 * range_end for "every key starting with key": the key with its last byte
 * incremented, after dropping trailing 0xff bytes, which cannot be
 * incremented.  With nothing left (or an empty key) the answer is "\0",
 * etcd's "to the end of the keyspace".  out holds max(len, 1) bytes.
 */
size_t
etcd_prefix_end(const char *key, size_t len, char *out)
{
	while (len > 0 && (unsigned char)key[len - 1] == 0xff)
		len--;
	if (len == 0) {
		out[0] = '\0';
		return 1;
	}
	memcpy(out, key, len);
	out[len - 1] = (char)((unsigned char)out[len - 1] + 1);
	return len;
}

json_t *
etcd_json_bytes(const char *p, size_t n)
{
	char *s;
	json_t *j;

	s = xmalloc(etcd_b64_len(n) + 1);
	etcd_b64_encode(p, n, s);
	if ((j = json_string(s)) == NULL)
		fatalx("%s: json_string", __func__);
	free(s);
	return j;
}

static size_t
key_len(const char *p, size_t n)
{
	if (p == NULL)
		return 0;
	return n != 0 ? n : strlen(p);
}

/* int64 fields travel as strings (proto3 JSON); 0 is left out as etcd does */
static void
set_int64(json_t *o, const char *name, int64_t v)
{
	char buf[32];

	if (v == 0)
		return;
	snprintf(buf, sizeof(buf), "%" PRId64, v);
	json_object_set_new(o, name, json_string(buf));
}

/* The body of a RangeRequest, PutRequest or DeleteRangeRequest. */
json_t *
etcd_json_op(const struct etcd_op *op, enum etcd_op_type type)
{
	json_t *o;
	const char *key = op->key != NULL ? op->key : "";
	size_t klen = key_len(op->key, op->key_len), elen;
	char *end;

	if ((o = json_object()) == NULL)
		fatalx("%s: json_object", __func__);
	if (op->prefix && klen == 0) {
		/* the whole keyspace: key = range_end = "\0" */
		json_object_set_new(o, "key", etcd_json_bytes("", 1));
		json_object_set_new(o, "range_end", etcd_json_bytes("", 1));
	} else {
		json_object_set_new(o, "key", etcd_json_bytes(key, klen));
		if (op->prefix) {
			end = xmalloc(klen);
			elen = etcd_prefix_end(key, klen, end);
			json_object_set_new(
			    o, "range_end", etcd_json_bytes(end, elen));
			free(end);
		} else if (op->range_end != NULL)
			json_object_set_new(o, "range_end",
			    etcd_json_bytes(op->range_end,
			        key_len(op->range_end, op->range_end_len)));
	}
	switch (type) {
	case ETCD_OP_RANGE:
		set_int64(o, "limit", op->limit);
		set_int64(o, "revision", op->revision);
		if (op->keys_only)
			json_object_set_new(o, "keys_only", json_true());
		if (op->count_only)
			json_object_set_new(o, "count_only", json_true());
		break;
	case ETCD_OP_PUT:
		json_object_del(o, "range_end");
		json_object_set_new(o, "value",
		    etcd_json_bytes(op->value != NULL ? op->value : "",
		        key_len(op->value, op->value_len)));
		set_int64(o, "lease", op->lease);
		/* FALLTHROUGH */
	case ETCD_OP_DELETE:
		if (op->prev_kv)
			json_object_set_new(o, "prev_kv", json_true());
		break;
	default:
		fatalx("%s: op type %d", __func__, type);
	}
	return o;
}

static const char *const cmp_targets[] = {
    [ETCD_CMP_VERSION] = "VERSION",
    [ETCD_CMP_CREATE] = "CREATE",
    [ETCD_CMP_MOD] = "MOD",
    [ETCD_CMP_VALUE] = "VALUE",
    [ETCD_CMP_LEASE] = "LEASE",
};

static const char *const cmp_fields[] = {
    [ETCD_CMP_VERSION] = "version",
    [ETCD_CMP_CREATE] = "create_revision",
    [ETCD_CMP_MOD] = "mod_revision",
    [ETCD_CMP_VALUE] = "value",
    [ETCD_CMP_LEASE] = "lease",
};

static const char *const cmp_results[] = {
    [ETCD_CMP_EQUAL] = "EQUAL",
    [ETCD_CMP_GREATER] = "GREATER",
    [ETCD_CMP_LESS] = "LESS",
    [ETCD_CMP_NOT_EQUAL] = "NOT_EQUAL",
};

static const char *const txn_requests[] = {
    [ETCD_OP_RANGE] = "request_range",
    [ETCD_OP_PUT] = "request_put",
    [ETCD_OP_DELETE] = "request_delete_range",
};

static json_t *
txn_ops(const struct etcd_op *ops, size_t n)
{
	json_t *a, *o;
	size_t i;

	if ((a = json_array()) == NULL)
		fatalx("%s: json_array", __func__);
	for (i = 0; i < n; i++) {
		if (ops[i].type > ETCD_OP_DELETE)
			fatalx(
			    "%s: op type %d in a txn", __func__, ops[i].type);
		if ((o = json_object()) == NULL)
			fatalx("%s: json_object", __func__);
		json_object_set_new(o, txn_requests[ops[i].type],
		    etcd_json_op(&ops[i], ops[i].type));
		json_array_append_new(a, o);
	}
	return a;
}

/* A TxnRequest (etcd api.md "Transaction"). */
json_t *
etcd_json_txn(const struct etcd_txn *t)
{
	json_t *o, *cmps, *c;
	const struct etcd_cmp *cmp;
	size_t i;
	char buf[32];

	if ((o = json_object()) == NULL || (cmps = json_array()) == NULL)
		fatalx("%s: json", __func__);
	for (i = 0; i < t->ncmp; i++) {
		cmp = &t->cmp[i];
		if (cmp->target > ETCD_CMP_LEASE ||
		    cmp->result > ETCD_CMP_NOT_EQUAL)
			fatalx("%s: compare %d/%d", __func__, cmp->target,
			    cmp->result);
		if ((c = json_object()) == NULL)
			fatalx("%s: json_object", __func__);
		json_object_set_new(
		    c, "target", json_string(cmp_targets[cmp->target]));
		json_object_set_new(
		    c, "result", json_string(cmp_results[cmp->result]));
		json_object_set_new(c, "key",
		    etcd_json_bytes(cmp->key != NULL ? cmp->key : "",
		        key_len(cmp->key, cmp->key_len)));
		if (cmp->target == ETCD_CMP_VALUE)
			json_object_set_new(c, "value",
			    etcd_json_bytes(
			        cmp->value != NULL ? cmp->value : "",
			        key_len(cmp->value, cmp->value_len)));
		else {
			/* explicit even when 0: "the key does not exist" */
			snprintf(buf, sizeof(buf), "%" PRId64, cmp->number);
			json_object_set_new(
			    c, cmp_fields[cmp->target], json_string(buf));
		}
		json_array_append_new(cmps, c);
	}
	json_object_set_new(o, "compare", cmps);
	json_object_set_new(o, "success", txn_ops(t->success, t->nsuccess));
	json_object_set_new(o, "failure", txn_ops(t->failure, t->nfailure));
	return o;
}

/* A WatchRequest carrying a WatchCreateRequest. */
json_t *
etcd_json_watch(const struct etcd_watch_req *w, int64_t start)
{
	struct etcd_op op = {
	    .key = w->key,
	    .key_len = w->key_len,
	    .prefix = w->prefix,
	};
	json_t *c, *o;

	c = etcd_json_op(&op, ETCD_OP_RANGE);
	set_int64(c, "start_revision", start);
	if (w->prev_kv)
		json_object_set_new(c, "prev_kv", json_true());
	if (w->progress_notify)
		json_object_set_new(c, "progress_notify", json_true());
	if ((o = json_object()) == NULL)
		fatalx("%s: json_object", __func__);
	json_object_set_new(o, "create_request", c);
	return o;
}

/* Compact text of j, which is consumed; the caller frees the string. */
char *
etcd_json_dump(json_t *j)
{
	char *s;

	if ((s = json_dumps(j, JSON_COMPACT)) == NULL)
		fatalx("%s: json_dumps", __func__);
	json_decref(j);
	return s;
}

/*
 * An int64 field: a decimal string (proto3 JSON) or a JSON integer; absent
 * or null is 0.  -1 on anything else.
 */
int
etcd_json_int64(const json_t *o, const char *name, int64_t *v)
{
	const json_t *j;
	const char *s;
	char *ep;
	long long n;

	*v = 0;
	if ((j = json_object_get(o, name)) == NULL || json_is_null(j))
		return 0;
	if (json_is_integer(j)) {
		*v = json_integer_value(j);
		return 0;
	}
	if (!json_is_string(j))
		return -1;
	s = json_string_value(j);
	/* digits with an optional minus, nothing strtoll would skip */
	if (json_string_length(j) != strlen(s) ||
	    !(isdigit((unsigned char)s[0]) ||
	        (s[0] == '-' && isdigit((unsigned char)s[1]))))
		return -1;
	errno = 0;
	n = strtoll(s, &ep, 10);
	if (errno != 0 || *ep != '\0')
		return -1;
	*v = n;
	return 0;
}

static int
json_bool(const json_t *o, const char *name, int *v)
{
	const json_t *j;

	*v = 0;
	if ((j = json_object_get(o, name)) == NULL || json_is_null(j))
		return 0;
	if (!json_is_boolean(j))
		return -1;
	*v = json_is_true(j);
	return 0;
}

void
etcd_seterr(struct etcd_error *err, enum etcd_errkind kind, int code,
    const char *fmt, ...)
{
	va_list ap;

	err->kind = kind;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

/*
 * Sorts a server error into the kinds callers act on, from its gRPC code
 * (11 OutOfRange, 7 PermissionDenied, 16 Unauthenticated) and, for auth
 * errors etcd reports as InvalidArgument, its text.
 */
void
etcd_classify(struct etcd_error *err)
{
	if (err->code == 11 && strstr(err->msg, "compacted") != NULL)
		err->kind = ETCD_E_COMPACTED;
	else if (err->code == 7 || err->code == 16 ||
	    strstr(err->msg, "user name is empty") != NULL ||
	    strstr(err->msg, "authentication failed") != NULL ||
	    strstr(err->msg, "permission denied") != NULL ||
	    strstr(err->msg, "invalid auth token") != NULL)
		err->kind = ETCD_E_AUTH;
	else
		err->kind = ETCD_E_SERVER;
}

/*
 * 1 when j is the gateway's error object, err filled: either the flat
 * {"error": "..", "message": "..", "code": N} of unary calls and 3.4 streams,
 * or the older {"error": {"grpc_code": N, "message": ".."}} of streams.
 */
int
etcd_parse_error(const json_t *j, struct etcd_error *err)
{
	const json_t *e, *m, *c;
	const char *msg = NULL;
	int64_t code = 0;

	if (!json_is_object(j))
		return 0;
	e = json_object_get(j, "error");
	m = json_object_get(j, "message");
	c = json_object_get(j, "code");
	if (json_is_object(e)) {
		m = json_object_get(e, "message");
		c = json_object_get(e, "grpc_code");
		if (json_is_string(m))
			msg = json_string_value(m);
		if (json_is_integer(c))
			code = json_integer_value(c);
	} else if (e != NULL || (m != NULL && c != NULL)) {
		if (json_is_string(m))
			msg = json_string_value(m);
		else if (json_is_string(e))
			msg = json_string_value(e);
		if (json_is_integer(c))
			code = json_integer_value(c);
	} else
		return 0;
	if (code < 0 || code > 1000)
		code = 0;
	etcd_seterr(err, ETCD_E_SERVER, (int)code, "%s",
	    msg != NULL && *msg != '\0' ? msg : "error without a message");
	etcd_classify(err);
	return 1;
}

static char *
dup_bytes(const char *b64, size_t len, size_t *n)
{
	char *p;

	p = xmalloc(len / 4 * 3 + 4);
	if (etcd_b64_decode(b64, len, p, n) == -1) {
		free(p);
		return NULL;
	}
	p[*n] = '\0';
	return p;
}

/* A mvccpb.KeyValue; kv is zeroed first and left zeroed on failure. */
int
etcd_parse_kv(const json_t *j, struct etcd_kv *kv)
{
	const json_t *k, *v;

	memset(kv, 0, sizeof(*kv));
	if (!json_is_object(j))
		return -1;
	k = json_object_get(j, "key");
	v = json_object_get(j, "value");
	if ((k != NULL && !json_is_string(k)) ||
	    (v != NULL && !json_is_string(v)))
		return -1;
	if (etcd_json_int64(j, "create_revision", &kv->create_revision) == -1 ||
	    etcd_json_int64(j, "mod_revision", &kv->mod_revision) == -1 ||
	    etcd_json_int64(j, "version", &kv->version) == -1 ||
	    etcd_json_int64(j, "lease", &kv->lease) == -1)
		goto bad;
	kv->key = dup_bytes(k != NULL ? json_string_value(k) : "",
	    k != NULL ? json_string_length(k) : 0, &kv->key_len);
	kv->value = dup_bytes(v != NULL ? json_string_value(v) : "",
	    v != NULL ? json_string_length(v) : 0, &kv->value_len);
	if (kv->key == NULL || kv->value == NULL)
		goto bad;
	return 0;
bad:
	etcd_kv_clean(kv);
	return -1;
}

void
etcd_kv_clean(struct etcd_kv *kv)
{
	free(kv->key);
	free(kv->value);
	memset(kv, 0, sizeof(*kv));
}

void
etcd_result_clean(struct etcd_result *r)
{
	size_t i;

	for (i = 0; i < r->nkvs; i++)
		etcd_kv_clean(&r->kvs[i]);
	free(r->kvs);
	for (i = 0; i < r->nresponses; i++)
		etcd_result_clean(&r->responses[i]);
	free(r->responses);
	memset(r, 0, sizeof(*r));
}

/* An array of kvs under name (absent: none), or one object for prev_kv. */
static int
parse_kvs(const json_t *o, const char *name, struct etcd_result *r)
{
	const json_t *a, *kv;
	size_t i;

	if ((a = json_object_get(o, name)) == NULL || json_is_null(a))
		return 0;
	if (json_is_object(a)) {
		r->kvs = xcalloc(1, sizeof(*r->kvs));
		if (etcd_parse_kv(a, &r->kvs[0]) == -1)
			return -1;
		r->nkvs = 1;
		return 0;
	}
	if (!json_is_array(a))
		return -1;
	if (json_array_size(a) == 0)
		return 0;
	r->kvs = xcalloc(json_array_size(a), sizeof(*r->kvs));
	json_array_foreach(a, i, kv)
	{
		if (etcd_parse_kv(kv, &r->kvs[i]) == -1)
			return -1;
		r->nkvs = i + 1;
	}
	return 0;
}

static const struct {
	const char *name;
	enum etcd_op_type op;
} txn_responses[] = {
    {"response_range", ETCD_OP_RANGE},
    {"response_put", ETCD_OP_PUT},
    {"response_delete_range", ETCD_OP_DELETE},
};

static int
parse_txn(const json_t *o, struct etcd_result *r, struct etcd_error *err)
{
	const json_t *a, *resp, *body = NULL;
	size_t i, k;

	if (json_bool(o, "succeeded", &r->succeeded) == -1)
		return -1;
	if ((a = json_object_get(o, "responses")) == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return -1;
	if (json_array_size(a) == 0)
		return 0;
	r->responses = xcalloc(json_array_size(a), sizeof(*r->responses));
	json_array_foreach(a, i, resp)
	{
		if (!json_is_object(resp) || json_object_size(resp) != 1)
			return -1;
		for (k = 0;
		     k < sizeof(txn_responses) / sizeof(txn_responses[0]); k++)
			if ((body = json_object_get(
			         resp, txn_responses[k].name)) != NULL)
				break;
		/* nested txns are never sent, so never answered */
		if (body == NULL)
			return -1;
		r->nresponses = i + 1;
		if (etcd_parse_result(
		        body, txn_responses[k].op, &r->responses[i], err) == -1)
			return -1;
	}
	return 0;
}

/*
 * The answer to one request of kind op, already known not to be an error
 * object.  A keepalive's answer is wrapped in {"result": ..} as streams are.
 */
int
etcd_parse_result(const json_t *j, enum etcd_op_type op, struct etcd_result *r,
    struct etcd_error *err)
{
	const json_t *h, *w;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	r->op = op;
	if (json_is_object(j) &&
	    json_is_object(w = json_object_get(j, "result")))
		j = w;
	if (!json_is_object(j))
		goto bad;
	if ((h = json_object_get(j, "header")) != NULL &&
	    (!json_is_object(h) ||
	        etcd_json_int64(h, "revision", &r->revision) == -1))
		goto bad;
	switch (op) {
	case ETCD_OP_RANGE:
		rc = parse_kvs(j, "kvs", r);
		if (rc == 0 &&
		    (etcd_json_int64(j, "count", &r->count) == -1 ||
		        json_bool(j, "more", &r->more) == -1))
			rc = -1;
		break;
	case ETCD_OP_PUT:
		rc = parse_kvs(j, "prev_kv", r);
		break;
	case ETCD_OP_DELETE:
		rc = parse_kvs(j, "prev_kvs", r);
		if (rc == 0 && etcd_json_int64(j, "deleted", &r->count) == -1)
			rc = -1;
		break;
	case ETCD_OP_TXN:
		rc = parse_txn(j, r, err);
		break;
	case ETCD_OP_LEASE:
		if (etcd_json_int64(j, "ID", &r->lease_id) == 0 &&
		    etcd_json_int64(j, "TTL", &r->ttl) == 0)
			rc = 0;
		break;
	case ETCD_OP_OTHER:
		rc = 0;
		break;
	}
	if (rc == 0)
		return 0;
bad:
	etcd_result_clean(r);
	etcd_seterr(err, ETCD_E_PROTO, 0, "unexpected answer from etcd");
	return -1;
}

/* Bytes of one answer: JSON, then an error object or a result. */
int
etcd_parse_answer(const char *buf, size_t len, enum etcd_op_type op,
    struct etcd_result *r, struct etcd_error *err)
{
	json_t *j;
	json_error_t je;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((j = json_loadb(buf, len, 0, &je)) == NULL) {
		etcd_seterr(
		    err, ETCD_E_PROTO, 0, "answer is not JSON: %s", je.text);
		return -1;
	}
	if (etcd_parse_error(j, err))
		rc = -1;
	else
		rc = etcd_parse_result(j, op, r, err);
	json_decref(j);
	return rc;
}

void
etcd_watch_update_clean(struct etcd_watch_update *u)
{
	size_t i;

	for (i = 0; i < u->nevents; i++) {
		etcd_kv_clean(&u->events[i].kv);
		etcd_kv_clean(&u->events[i].prev_kv);
	}
	free(u->events);
	memset(u, 0, sizeof(*u));
}

static int
parse_event(const json_t *j, struct etcd_event *ev)
{
	const json_t *t, *p;

	memset(ev, 0, sizeof(*ev));
	if (!json_is_object(j))
		return -1;
	if ((t = json_object_get(j, "type")) == NULL ||
	    (json_is_string(t) && strcmp(json_string_value(t), "PUT") == 0))
		ev->type = ETCD_EV_PUT;
	else if (json_is_string(t) &&
	    strcmp(json_string_value(t), "DELETE") == 0)
		ev->type = ETCD_EV_DELETE;
	else
		return -1;
	if (etcd_parse_kv(json_object_get(j, "kv"), &ev->kv) == -1)
		return -1;
	if ((p = json_object_get(j, "prev_kv")) != NULL &&
	    etcd_parse_kv(p, &ev->prev_kv) == -1)
		return -1;
	return 0;
}

/*
 * One line of a watch stream: {"result": WatchResponse} or an error
 * object.  A cancel (compaction, auth) is a result, not an error: u->kind
 * says so and err carries the cancel reason.
 */
int
etcd_parse_watch(const char *buf, size_t len, struct etcd_watch_update *u,
    struct etcd_error *err)
{
	json_t *j;
	const json_t *r, *h, *evs, *ev, *why;
	json_error_t je;
	int created, canceled;
	size_t i;

	memset(u, 0, sizeof(*u));
	if ((j = json_loadb(buf, len, 0, &je)) == NULL) {
		etcd_seterr(err, ETCD_E_PROTO, 0,
		    "watch stream is not JSON: %s", je.text);
		return -1;
	}
	if (etcd_parse_error(j, err))
		goto fail;
	if (!json_is_object(r = json_object_get(j, "result")))
		goto bad;
	if ((h = json_object_get(r, "header")) != NULL &&
	    (!json_is_object(h) ||
	        etcd_json_int64(h, "revision", &u->revision) == -1))
		goto bad;
	if (json_bool(r, "created", &created) == -1 ||
	    json_bool(r, "canceled", &canceled) == -1 ||
	    etcd_json_int64(r, "compact_revision", &u->compact_revision) == -1)
		goto bad;
	evs = json_object_get(r, "events");
	if (evs != NULL && !json_is_array(evs) && !json_is_null(evs))
		goto bad;
	if (canceled) {
		why = json_object_get(r, "cancel_reason");
		if (u->compact_revision > 0) {
			u->kind = ETCD_WATCH_COMPACTED;
			etcd_seterr(err, ETCD_E_COMPACTED, 11,
			    "watch revision compacted (compact revision "
			    "%" PRId64 ")",
			    u->compact_revision);
		} else {
			u->kind = ETCD_WATCH_CANCELED;
			etcd_seterr(err, ETCD_E_SERVER, 0, "watch canceled: %s",
			    json_is_string(why) ? json_string_value(why)
			                        : "no reason given");
			etcd_classify(err);
		}
	} else if (created)
		u->kind = ETCD_WATCH_CREATED;
	else if (json_array_size(evs) > 0) {
		u->kind = ETCD_WATCH_EVENTS;
		u->events = xcalloc(json_array_size(evs), sizeof(*u->events));
		json_array_foreach(evs, i, ev)
		{
			u->nevents = i + 1;
			if (parse_event(ev, &u->events[i]) == -1)
				goto bad;
		}
	} else
		u->kind = ETCD_WATCH_PROGRESS;
	json_decref(j);
	return 0;
bad:
	etcd_seterr(err, ETCD_E_PROTO, 0, "unexpected watch answer from etcd");
fail:
	etcd_watch_update_clean(u);
	json_decref(j);
	return -1;
}
