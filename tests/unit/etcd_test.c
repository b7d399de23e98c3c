/*
 * store/etcd_codec.c and the pure parts of etcd_http.c: base64 (RFC 4648
 * §10 vectors), range_end for prefixes, request bodies byte for byte,
 * answers and watch lines as etcd 3.4.23's gateway sent them (captured with
 * curl), the error kinds, endpoint lists, and the error messages of a
 * handle whose endpoints refuse connections, blocking and on a libevent
 * loop (request, listing, watch, cancel).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <event2/event.h>

#include "store/etcd_int.h"

#define HDR                                                                    \
	"\"header\":{\"cluster_id\":\"15118495548433857066\","                 \
	"\"member_id\":\"13668033151171901709\",\"revision\":\"3\","           \
	"\"raft_term\":\"2\"}"

static void
test_b64(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} v[] = {
	    {"", 0, ""},
	    {"f", 1, "Zg=="},
	    {"fo", 2, "Zm8="},
	    {"foo", 3, "Zm9v"},
	    {"foob", 4, "Zm9vYg=="},
	    {"fooba", 5, "Zm9vYmE="},
	    {"foobar", 6, "Zm9vYmFy"},
	    {"\xff\x00\xfe", 3, "/wD+"},
	    {"\0", 1, "AA=="},
	    {"/calico/", 8, "L2NhbGljby8="},
	};
	char enc[64], dec[64];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(etcd_b64_len(v[i].len), strlen(v[i].out));
		etcd_b64_encode(v[i].in, v[i].len, enc);
		assert_string_equal(enc, v[i].out);
		assert_int_equal(
		    etcd_b64_decode(v[i].out, strlen(v[i].out), dec, &n), 0);
		assert_int_equal(n, v[i].len);
		assert_memory_equal(dec, v[i].in, n);
	}
	/* padding may be left out */
	assert_int_equal(etcd_b64_decode("Zm8", 3, dec, &n), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(dec, "fo", 2);
	assert_int_equal(etcd_b64_decode("Zg", 2, dec, &n), 0);
	assert_int_equal(n, 1);
	/* not base64 */
	assert_int_equal(etcd_b64_decode("Zm9v!A==", 8, dec, &n), -1);
	assert_int_equal(etcd_b64_decode("Z", 1, dec, &n), -1);
	assert_int_equal(etcd_b64_decode("Zg=a", 4, dec, &n), -1);
	assert_int_equal(etcd_b64_decode("Zg===", 5, dec, &n), -1);
	assert_int_equal(etcd_b64_decode("Zm9=", 4, dec, &n), 0);
	assert_int_equal(etcd_b64_decode("Zm=9", 4, dec, &n), -1);
	assert_int_equal(etcd_b64_decode("Zm8=Zm8=", 8, dec, &n), -1);
	assert_int_equal(etcd_b64_decode("Zm-_", 4, dec, &n), -1);
}

static void
test_prefix_end(void **state)
{
	static const struct {
		const char *key;
		size_t len;
		const char *end;
		size_t elen;
	} v[] = {
	    {"/calico/", 8, "/calico0", 8},
	    {"abc", 3, "abd", 3},
	    {"a\xff", 2, "b", 1},
	    {"a\xff\xff", 3, "b", 1},
	    {"\xff\xff", 2, "\0", 1},
	    {"", 0, "\0", 1},
	    {"a\x7f", 2, "a\x80", 2},
	    {"a\xfe", 2, "a\xff", 2},
	};
	char out[16];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		n = etcd_prefix_end(v[i].key, v[i].len, out);
		assert_int_equal(n, v[i].elen);
		assert_memory_equal(out, v[i].end, n);
	}
}

static void
assert_json(json_t *j, const char *want)
{
	char *s = etcd_json_dump(j);

	assert_string_equal(s, want);
	free(s);
}

static void
test_json_requests(void **state)
{
	struct etcd_op range = {
	    .key = "/calico/",
	    .prefix = 1,
	    .limit = 1000,
	    .revision = 42,
	};
	struct etcd_op all = {.prefix = 1, .count_only = 1};
	struct etcd_op put = {
	    .key = "/a",
	    .value = "v",
	    .lease = 7,
	    .prev_kv = 1,
	};
	struct etcd_op bin = {
	    .key = "k\0x",
	    .key_len = 3,
	    .value = "",
	};
	struct etcd_op del = {.key = "/calico/", .prefix = 1, .prev_kv = 1};
	struct etcd_op between = {
	    .key = "a",
	    .range_end = "c",
	    .keys_only = 1,
	};

	assert_json(etcd_json_op(&range, ETCD_OP_RANGE),
	    "{\"key\":\"L2NhbGljby8=\",\"range_end\":\"L2NhbGljbzA=\","
	    "\"limit\":\"1000\",\"revision\":\"42\"}");
	assert_json(etcd_json_op(&all, ETCD_OP_RANGE),
	    "{\"key\":\"AA==\",\"range_end\":\"AA==\",\"count_only\":true}");
	assert_json(etcd_json_op(&between, ETCD_OP_RANGE),
	    "{\"key\":\"YQ==\",\"range_end\":\"Yw==\",\"keys_only\":true}");
	assert_json(etcd_json_op(&put, ETCD_OP_PUT),
	    "{\"key\":\"L2E=\",\"value\":\"dg==\",\"lease\":\"7\","
	    "\"prev_kv\":true}");
	assert_json(etcd_json_op(&bin, ETCD_OP_PUT),
	    "{\"key\":\"awB4\",\"value\":\"\"}");
	assert_json(etcd_json_op(&del, ETCD_OP_DELETE),
	    "{\"key\":\"L2NhbGljby8=\",\"range_end\":\"L2NhbGljbzA=\","
	    "\"prev_kv\":true}");
}

static void
test_json_txn(void **state)
{
	struct etcd_cmp cmp[] = {
	    {.target = ETCD_CMP_MOD, .key = "/a", .number = 42},
	    {.target = ETCD_CMP_CREATE, .key = "/b", .number = 0},
	    {.target = ETCD_CMP_VERSION,
	        .result = ETCD_CMP_GREATER,
	        .key = "/c",
	        .number = 2},
	    {.target = ETCD_CMP_VALUE,
	        .result = ETCD_CMP_NOT_EQUAL,
	        .key = "/d",
	        .value = "x"},
	    {.target = ETCD_CMP_LEASE,
	        .result = ETCD_CMP_LESS,
	        .key = "/e",
	        .number = 9},
	};
	struct etcd_op ok[] = {
	    {.type = ETCD_OP_PUT, .key = "/a", .value = "v"},
	    {.type = ETCD_OP_DELETE, .key = "/b"},
	};
	struct etcd_op fail[] = {{.type = ETCD_OP_RANGE, .key = "/a"}};
	struct etcd_txn t = {cmp, 1, ok, 1, fail, 1};
	struct etcd_txn t2 = {cmp + 1, 4, ok, 2, NULL, 0};

	/* reference/ecosystem.md §2.6, the compare-and-swap shape */
	assert_json(etcd_json_txn(&t),
	    "{\"compare\":[{\"target\":\"MOD\",\"result\":\"EQUAL\","
	    "\"key\":\"L2E=\",\"mod_revision\":\"42\"}],"
	    "\"success\":[{\"request_put\":{\"key\":\"L2E=\","
	    "\"value\":\"dg==\"}}],"
	    "\"failure\":[{\"request_range\":{\"key\":\"L2E=\"}}]}");
	assert_json(etcd_json_txn(&t2),
	    "{\"compare\":["
	    "{\"target\":\"CREATE\",\"result\":\"EQUAL\",\"key\":\"L2I=\","
	    "\"create_revision\":\"0\"},"
	    "{\"target\":\"VERSION\",\"result\":\"GREATER\",\"key\":\"L2M=\","
	    "\"version\":\"2\"},"
	    "{\"target\":\"VALUE\",\"result\":\"NOT_EQUAL\",\"key\":\"L2Q=\","
	    "\"value\":\"eA==\"},"
	    "{\"target\":\"LEASE\",\"result\":\"LESS\",\"key\":\"L2U=\","
	    "\"lease\":\"9\"}],"
	    "\"success\":[{\"request_put\":{\"key\":\"L2E=\","
	    "\"value\":\"dg==\"}},"
	    "{\"request_delete_range\":{\"key\":\"L2I=\"}}],"
	    "\"failure\":[]}");
}

static void
test_json_watch(void **state)
{
	struct etcd_watch_req w = {
	    .key = "/calico/",
	    .prefix = 1,
	    .prev_kv = 1,
	    .progress_notify = 1,
	};
	struct etcd_watch_req k = {.key = "/a"};

	assert_json(etcd_json_watch(&w, 7),
	    "{\"create_request\":{\"key\":\"L2NhbGljby8=\","
	    "\"range_end\":\"L2NhbGljbzA=\",\"start_revision\":\"7\","
	    "\"prev_kv\":true,\"progress_notify\":true}}");
	assert_json(
	    etcd_json_watch(&k, 0), "{\"create_request\":{\"key\":\"L2E=\"}}");
}

static void
parse_ok(const char *s, enum etcd_op_type op, struct etcd_result *r)
{
	struct etcd_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(etcd_parse_answer(s, strlen(s), op, r, &err), 0);
	assert_int_equal(err.kind, ETCD_E_NONE);
	assert_int_equal(r->op, op);
}

static void
parse_fail(const char *s, enum etcd_op_type op, enum etcd_errkind kind,
    int code, const char *msg)
{
	struct etcd_result r;
	struct etcd_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(etcd_parse_answer(s, strlen(s), op, &r, &err), -1);
	assert_int_equal(err.kind, kind);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	assert_int_equal(r.nkvs, 0);
	assert_null(r.kvs);
	assert_null(r.responses);
}

static void
assert_kv(const struct etcd_kv *kv, const char *key, const char *value,
    int64_t create, int64_t mod, int64_t version, int64_t lease)
{
	assert_int_equal(kv->key_len, strlen(key));
	assert_string_equal(kv->key, key);
	assert_int_equal(kv->value_len, strlen(value));
	assert_string_equal(kv->value, value);
	assert_int_equal(kv->create_revision, create);
	assert_int_equal(kv->mod_revision, mod);
	assert_int_equal(kv->version, version);
	assert_int_equal(kv->lease, lease);
}

static void
test_parse_kv_answers(void **state)
{
	struct etcd_result r;

	parse_ok("{" HDR ",\"kvs\":[{\"key\":\"L2EvYg==\","
	         "\"create_revision\":\"2\",\"mod_revision\":\"3\","
	         "\"version\":\"2\",\"value\":\"aGVsbG8=\"}],\"count\":\"1\"}",
	    ETCD_OP_RANGE, &r);
	assert_int_equal(r.revision, 3);
	assert_int_equal(r.count, 1);
	assert_int_equal(r.more, 0);
	assert_int_equal(r.nkvs, 1);
	assert_kv(&r.kvs[0], "/a/b", "hello", 2, 3, 2, 0);
	etcd_result_clean(&r);
	assert_null(r.kvs);

	/* a missing key: only the header */
	parse_ok("{" HDR "}", ETCD_OP_RANGE, &r);
	assert_int_equal(r.revision, 3);
	assert_int_equal(r.nkvs, 0);
	assert_int_equal(r.count, 0);
	etcd_result_clean(&r);

	/* a page: more, keys_only (no value), a lease */
	parse_ok("{\"header\":{\"revision\":\"9\"},\"kvs\":[{\"key\":\"YQ==\","
	         "\"create_revision\":\"4\",\"mod_revision\":\"4\","
	         "\"version\":\"1\",\"lease\":\"7587867449127498254\"},"
	         "{\"key\":\"Yg==\",\"create_revision\":5,\"mod_revision\":"
	         "\"6\",\"version\":\"2\",\"value\":\"\"}],"
	         "\"more\":true,\"count\":\"2500\"}",
	    ETCD_OP_RANGE, &r);
	assert_int_equal(r.nkvs, 2);
	assert_int_equal(r.more, 1);
	assert_int_equal(r.count, 2500);
	assert_kv(&r.kvs[0], "a", "", 4, 4, 1, 7587867449127498254LL);
	assert_kv(&r.kvs[1], "b", "", 5, 6, 2, 0);
	etcd_result_clean(&r);

	parse_ok("{" HDR ",\"prev_kv\":{\"key\":\"L2EvYg==\","
	         "\"create_revision\":\"2\",\"mod_revision\":\"2\","
	         "\"version\":\"1\",\"value\":\"aGVsbG8=\"}}",
	    ETCD_OP_PUT, &r);
	assert_int_equal(r.nkvs, 1);
	assert_kv(&r.kvs[0], "/a/b", "hello", 2, 2, 1, 0);
	etcd_result_clean(&r);

	parse_ok("{" HDR ",\"deleted\":\"2\",\"prev_kvs\":[{\"key\":\"YQ==\","
	         "\"mod_revision\":\"2\",\"value\":\"AP8=\"},{\"key\":\"Yg==\"}"
	         "]}",
	    ETCD_OP_DELETE, &r);
	assert_int_equal(r.count, 2);
	assert_int_equal(r.nkvs, 2);
	assert_int_equal(r.kvs[0].value_len, 2);
	assert_memory_equal(r.kvs[0].value, "\x00\xff", 2);
	etcd_result_clean(&r);

	/* binary keys stay whole */
	parse_ok("{\"kvs\":[{\"key\":\"awB4\"}]}", ETCD_OP_RANGE, &r);
	assert_int_equal(r.kvs[0].key_len, 3);
	assert_memory_equal(r.kvs[0].key, "k\0x", 4);
	etcd_result_clean(&r);
}

static void
test_parse_txn(void **state)
{
	struct etcd_result r;

	/* a failed compare: no "succeeded", the failure branch's read */
	parse_ok("{" HDR ",\"responses\":[{\"response_range\":{\"header\":"
	         "{\"revision\":\"6\"},\"kvs\":[{\"key\":\"L2EvYg==\","
	         "\"create_revision\":\"2\",\"mod_revision\":\"6\","
	         "\"version\":\"5\",\"value\":\"eA==\"}],\"count\":\"1\"}}]}",
	    ETCD_OP_TXN, &r);
	assert_int_equal(r.succeeded, 0);
	assert_int_equal(r.nresponses, 1);
	assert_int_equal(r.responses[0].op, ETCD_OP_RANGE);
	assert_int_equal(r.responses[0].revision, 6);
	assert_kv(&r.responses[0].kvs[0], "/a/b", "x", 2, 6, 5, 0);
	etcd_result_clean(&r);

	parse_ok("{" HDR ",\"succeeded\":true,\"responses\":["
	         "{\"response_put\":{\"header\":{\"revision\":\"7\"}}},"
	         "{\"response_delete_range\":{\"header\":{\"revision\":\"7\"},"
	         "\"deleted\":\"1\"}}]}",
	    ETCD_OP_TXN, &r);
	assert_int_equal(r.succeeded, 1);
	assert_int_equal(r.nresponses, 2);
	assert_int_equal(r.responses[0].op, ETCD_OP_PUT);
	assert_int_equal(r.responses[1].op, ETCD_OP_DELETE);
	assert_int_equal(r.responses[1].count, 1);
	etcd_result_clean(&r);

	parse_ok("{" HDR ",\"succeeded\":true}", ETCD_OP_TXN, &r);
	assert_int_equal(r.succeeded, 1);
	assert_int_equal(r.nresponses, 0);
	etcd_result_clean(&r);
}

static void
test_parse_lease(void **state)
{
	struct etcd_result r;

	parse_ok("{" HDR ",\"ID\":\"4111120250484405769\",\"TTL\":\"30\"}",
	    ETCD_OP_LEASE, &r);
	assert_int_equal(r.lease_id, 4111120250484405769LL);
	assert_int_equal(r.ttl, 30);
	etcd_result_clean(&r);

	/* keepalive: wrapped like a stream; no TTL = the lease is gone */
	parse_ok("{\"result\":{" HDR ",\"ID\":\"1\"}}", ETCD_OP_LEASE, &r);
	assert_int_equal(r.lease_id, 1);
	assert_int_equal(r.ttl, 0);
	assert_int_equal(r.revision, 3);
	etcd_result_clean(&r);

	parse_ok("{\"result\":{" HDR ",\"ID\":\"5\",\"TTL\":\"9\"}}",
	    ETCD_OP_LEASE, &r);
	assert_int_equal(r.ttl, 9);
	etcd_result_clean(&r);
}

static void
test_parse_errors(void **state)
{
	parse_fail("{\"error\":\"etcdserver: mvcc: required revision has been "
	           "compacted\",\"message\":\"etcdserver: mvcc: required "
	           "revision has been compacted\",\"code\":11}",
	    ETCD_OP_RANGE, ETCD_E_COMPACTED, 11,
	    "etcdserver: mvcc: required revision has been compacted");
	parse_fail("{\"error\":\"etcdserver: mvcc: required revision is a "
	           "future revision\",\"message\":\"etcdserver: mvcc: required "
	           "revision is a future revision\",\"code\":11}",
	    ETCD_OP_RANGE, ETCD_E_SERVER, 11,
	    "etcdserver: mvcc: required revision is a future revision");
	parse_fail("{\"error\":\"etcdserver: invalid auth token\",\"message\":"
	           "\"etcdserver: invalid auth token\",\"code\":16}",
	    ETCD_OP_RANGE, ETCD_E_AUTH, 16, "etcdserver: invalid auth token");
	parse_fail("{\"error\":\"etcdserver: user name is empty\",\"message\":"
	           "\"etcdserver: user name is empty\",\"code\":3}",
	    ETCD_OP_PUT, ETCD_E_AUTH, 3, "etcdserver: user name is empty");
	parse_fail("{\"error\":\"unexpected EOF\",\"message\":\"unexpected "
	           "EOF\",\"code\":3}",
	    ETCD_OP_RANGE, ETCD_E_SERVER, 3, "unexpected EOF");
	parse_fail("{\"error\":\"etcdserver: duplicate key given in txn "
	           "request\",\"code\":3}",
	    ETCD_OP_TXN, ETCD_E_SERVER, 3,
	    "etcdserver: duplicate key given in txn request");
	/* the grpc-gateway v1 stream error shape */
	parse_fail("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":"
	           "\"etcdserver: no leader\",\"http_status\":\"Service "
	           "Unavailable\"}}",
	    ETCD_OP_RANGE, ETCD_E_SERVER, 14, "etcdserver: no leader");
	parse_fail("{\"error\":\"\",\"code\":2}", ETCD_OP_RANGE, ETCD_E_SERVER,
	    2, "error without a message");

	/* not what the gateway sends */
	parse_fail("{\"kvs\":{\"key\":1}}", ETCD_OP_RANGE, ETCD_E_PROTO, 0,
	    "unexpected answer from etcd");
	parse_fail("{\"kvs\":[{\"key\":\"@@@@\"}]}", ETCD_OP_RANGE,
	    ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("{\"kvs\":[{\"key\":\"YQ==\"},3]}", ETCD_OP_RANGE,
	    ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("{\"header\":{\"revision\":\"12x\"}}", ETCD_OP_RANGE,
	    ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("{\"header\":{\"revision\":\" 12\"}}", ETCD_OP_RANGE,
	    ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("{\"header\":{\"revision\":\"99999999999999999999\"}}",
	    ETCD_OP_RANGE, ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("{\"more\":\"yes\"}", ETCD_OP_RANGE, ETCD_E_PROTO, 0,
	    "unexpected answer from etcd");
	parse_fail("{\"responses\":[{\"response_txn\":{}}]}", ETCD_OP_TXN,
	    ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("{\"responses\":[{\"response_put\":{},\"response_range\":"
	           "{}}]}",
	    ETCD_OP_TXN, ETCD_E_PROTO, 0, "unexpected answer from etcd");
	parse_fail("[1]", ETCD_OP_RANGE, ETCD_E_PROTO, 0,
	    "unexpected answer from etcd");
	parse_fail("{\"kvs\":[", ETCD_OP_RANGE, ETCD_E_PROTO, 0,
	    "answer is not JSON: ']' expected near end of file");
}

static void
watch_ok(const char *s, struct etcd_watch_update *u, struct etcd_error *err)
{
	memset(err, 0, sizeof(*err));
	assert_int_equal(etcd_parse_watch(s, strlen(s), u, err), 0);
}

static void
test_parse_watch(void **state)
{
	struct etcd_watch_update u;
	struct etcd_error err;
	const char *s;

	watch_ok("{\"result\":{" HDR ",\"created\":true}}", &u, &err);
	assert_int_equal(u.kind, ETCD_WATCH_CREATED);
	assert_int_equal(u.revision, 3);
	etcd_watch_update_clean(&u);

	watch_ok(
	    "{\"result\":{" HDR ",\"events\":[{\"kv\":{\"key\":"
	    "\"L2EvYg==\",\"create_revision\":\"2\",\"mod_revision\":\"5\","
	    "\"version\":\"4\",\"value\":\"eA==\"}},{\"type\":\"DELETE\","
	    "\"kv\":{\"key\":\"L2EvYg==\",\"mod_revision\":\"6\"},"
	    "\"prev_kv\":{\"key\":\"L2EvYg==\",\"create_revision\":\"2\","
	    "\"mod_revision\":\"5\",\"version\":\"4\",\"value\":\"eA==\"}}"
	    "]}}",
	    &u, &err);
	assert_int_equal(u.kind, ETCD_WATCH_EVENTS);
	assert_int_equal(u.nevents, 2);
	assert_int_equal(u.events[0].type, ETCD_EV_PUT);
	assert_kv(&u.events[0].kv, "/a/b", "x", 2, 5, 4, 0);
	assert_null(u.events[0].prev_kv.key);
	assert_int_equal(u.events[1].type, ETCD_EV_DELETE);
	assert_kv(&u.events[1].kv, "/a/b", "", 0, 6, 0, 0);
	assert_kv(&u.events[1].prev_kv, "/a/b", "x", 2, 5, 4, 0);
	etcd_watch_update_clean(&u);
	assert_null(u.events);

	/* compacted: no header revision, a compact_revision */
	watch_ok("{\"result\":{\"header\":{\"cluster_id\":\"1\"},"
	         "\"canceled\":true,\"compact_revision\":\"5\"}}",
	    &u, &err);
	assert_int_equal(u.kind, ETCD_WATCH_COMPACTED);
	assert_int_equal(u.compact_revision, 5);
	assert_int_equal(err.kind, ETCD_E_COMPACTED);
	etcd_watch_update_clean(&u);

	/* created and canceled at once: auth */
	watch_ok("{\"result\":{" HDR ",\"watch_id\":\"-1\",\"created\":true,"
	         "\"canceled\":true,\"cancel_reason\":\"rpc error: code = "
	         "InvalidArgument desc = etcdserver: user name is empty\"}}",
	    &u, &err);
	assert_int_equal(u.kind, ETCD_WATCH_CANCELED);
	assert_int_equal(err.kind, ETCD_E_AUTH);
	assert_string_equal(err.msg,
	    "watch canceled: rpc error: code = InvalidArgument desc = "
	    "etcdserver: user name is empty");
	etcd_watch_update_clean(&u);

	watch_ok("{\"result\":{" HDR "}}", &u, &err);
	assert_int_equal(u.kind, ETCD_WATCH_PROGRESS);
	assert_int_equal(u.revision, 3);
	etcd_watch_update_clean(&u);

	s = "{\"error\":\"unexpected EOF\",\"message\":\"unexpected EOF\","
	    "\"code\":2}";
	memset(&err, 0, sizeof(err));
	assert_int_equal(etcd_parse_watch(s, strlen(s), &u, &err), -1);
	assert_int_equal(err.kind, ETCD_E_SERVER);
	assert_int_equal(err.code, 2);

	s = "{\"result\":{\"events\":[{\"type\":\"EXPIRE\",\"kv\":{}}]}}";
	assert_int_equal(etcd_parse_watch(s, strlen(s), &u, &err), -1);
	assert_int_equal(err.kind, ETCD_E_PROTO);
	assert_null(u.events);
	s = "{\"result\":{\"events\":[{\"kv\":{\"key\":\"YQ==\"}},"
	    "{\"kv\":{\"key\":\"!\"}}]}}";
	assert_int_equal(etcd_parse_watch(s, strlen(s), &u, &err), -1);
	assert_null(u.events);
	s = "{\"result\":[]}";
	assert_int_equal(etcd_parse_watch(s, strlen(s), &u, &err), -1);
	s = "{\"result\":{\"created\":1}}";
	assert_int_equal(etcd_parse_watch(s, strlen(s), &u, &err), -1);
}

static void
test_endpoints(void **state)
{
	static const struct {
		const char *list;
		const char *why;
	} bad[] = {
	    {"ftp://x", "ftp://x: not http or https"},
	    {" , ", "no endpoint"},
	    {"http://a,unix://b", "unix://b: not http or https"},
	    {"http://", "http://: no host"},
	    {"https:///", "https:///: no host"},
	    {"a:1,http:///v3", "http:///v3: no host"},
	    {"http://:2379", "http://:2379: no host"},
	    {":2379", ":2379: no host"},
	};
	char **eps, why[128];
	size_t n, i;

	assert_int_equal(etcd_endpoints_parse("127.0.0.1:2379, "
	                                      "https://a:1/ http://b,,",
	                     &eps, &n, why, sizeof(why)),
	    0);
	assert_int_equal(n, 3);
	assert_string_equal(eps[0], "http://127.0.0.1:2379");
	assert_string_equal(eps[1], "https://a:1");
	assert_string_equal(eps[2], "http://b");
	for (i = 0; i < n; i++)
		free(eps[i]);
	free(eps);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(etcd_endpoints_parse(
		                     bad[i].list, &eps, &n, why, sizeof(why)),
		    -1);
		assert_string_equal(why, bad[i].why);
	}
}

struct lines {
	char got[8][16];
	size_t len[8];
	int n;
	int stop_at; /* 1 + the line to stop at; 0 never */
};

static int
line_got(void *arg, const char *p, size_t len)
{
	struct lines *l = arg;

	if (l->n < 8) {
		l->len[l->n] = len;
		memcpy(l->got[l->n], p, len < 16 ? len : 16);
	}
	l->n++;
	return l->n == l->stop_at;
}

static int
line_len(void *arg, const char *p, size_t len)
{
	size_t *got = arg;

	assert_true(len < 2 || (p[0] == 'x' && p[len - 1] == 'x'));
	*got = len;
	return 0;
}

/*
 * The watch stream's line splitter: lines across pieces, and a long line
 * in small pieces searched once (each piece's bytes, not the whole buffer
 * again) and its memory given back after.
 */
static void
test_lines(void **state)
{
	struct etcd_buf b = {0};
	struct lines l = {0};
	size_t piece = 1024, total = 32u << 20, i, got = 0;
	char *chunk;
	clock_t t0;

	assert_int_equal(etcd_lines_feed(&b, "a\nbb", 4, line_got, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(b.len, 2);
	assert_int_equal(b.scanned, 2);
	assert_int_equal(etcd_lines_feed(&b, "\n\nccc", 5, line_got, &l), 0);
	assert_int_equal(etcd_lines_feed(&b, "", 0, line_got, &l), 0);
	assert_int_equal(etcd_lines_feed(&b, "c\r\ndd", 5, line_got, &l), 0);
	assert_int_equal(l.n, 4);
	assert_int_equal(l.len[0], 1);
	assert_memory_equal(l.got[0], "a", 1);
	assert_int_equal(l.len[1], 2);
	assert_memory_equal(l.got[1], "bb", 2);
	assert_int_equal(l.len[2], 0);
	assert_int_equal(l.len[3], 5);
	assert_memory_equal(l.got[3], "cccc\r", 5);
	assert_int_equal(b.len, 2);
	assert_string_equal(b.p, "dd");
	/* the callback stops it: the rest is not handed over */
	l.stop_at = 5;
	assert_int_equal(etcd_lines_feed(&b, "\ne\nf\n", 6, line_got, &l), -1);
	assert_int_equal(l.n, 5);
	assert_memory_equal(l.got[4], "dd", 2);
	free(b.p);

	/* 32 MiB in 1 KiB pieces (curl hands over a chunk at a time) */
	memset(&b, 0, sizeof(b));
	chunk = malloc(piece);
	assert_non_null(chunk);
	memset(chunk, 'x', piece);
	t0 = clock();
	for (i = 0; i < total / piece; i++) {
		assert_int_equal(
		    etcd_lines_feed(&b, chunk, piece, line_len, &got), 0);
		/* what is in the buffer has been searched already */
		assert_int_equal(b.scanned, b.len);
	}
	assert_int_equal(got, 0);
	assert_int_equal(etcd_lines_feed(&b, "\nxx", 3, line_len, &got), 0);
	assert_int_equal(got, total);
	/* linear: searching from the start for each piece is 512 GiB */
	assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
	assert_int_equal(b.len, 2);
	assert_true(b.cap <= ETCD_LINE_KEEP);
	free(b.p);
	free(chunk);
}

static void
test_handle_errors(void **state)
{
	struct etcd_config cfg = {.ca_file = "/nonexistent/ca.pem"};
	struct etcd_error err;
	struct etcd_result r;
	struct etcd *e;

	assert_null(etcd_new(&cfg, &err));
	assert_string_equal(err.msg,
	    "etcd: CA file /nonexistent/ca.pem: No such file or directory");
	cfg.ca_file = NULL;
	cfg.endpoints = "gopher://x";
	assert_null(etcd_new(&cfg, &err));
	assert_string_equal(err.msg,
	    "etcd: bad endpoint list \"gopher://x\": gopher://x: not http or "
	    "https");
	cfg.endpoints = "http://127.0.0.1:2379,http://";
	assert_null(etcd_new(&cfg, &err));
	assert_string_equal(err.msg,
	    "etcd: bad endpoint list \"http://127.0.0.1:2379,http://\": "
	    "http://: no host");

	/* nothing listens on port 1: refused at once, named in the message */
	cfg.endpoints = "127.0.0.1:1";
	assert_non_null(e = etcd_new(&cfg, &err));
	assert_string_equal(etcd_endpoint(e), "http://127.0.0.1:1");
	assert_int_equal(etcd_get(e, "/a", &r), -1);
	assert_int_equal(etcd_last_error(e)->kind, ETCD_E_CONNECT);
	assert_true(
	    strncmp(etcd_error(e), "etcd http://127.0.0.1:1: ", 25) == 0);
	assert_non_null(strstr(etcd_error(e), "onnect"));
	assert_null(r.kvs);
	etcd_free(e);

	cfg.endpoints = "http://127.0.0.1:1,http://127.0.0.1:2";
	assert_non_null(e = etcd_new(&cfg, &err));
	assert_int_equal(etcd_list(e, "/calico/", 0, &r), -1);
	assert_true(
	    strncmp(etcd_error(e),
	        "etcd: no endpoint answered: http://127.0.0.1:1: ", 48) == 0);
	assert_non_null(strstr(etcd_error(e), "; http://127.0.0.1:2: "));
	etcd_free(e);
}

struct async_state {
	struct event_base *base;
	int answers;
	int updates;
	struct etcd_error err;
	enum etcd_watch_kind kind;
};

static void
async_answer(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	struct async_state *st = arg;

	assert_null(res);
	assert_non_null(err);
	st->err = *err;
	st->answers++;
	event_base_loopbreak(st->base);
}

static void
never_called(struct etcd_result *res, const struct etcd_error *err, void *arg)
{
	fail_msg("a canceled request was answered");
}

static void
watch_update(struct etcd_watch *w, struct etcd_watch_update *u, void *arg)
{
	struct async_state *st = arg;

	st->kind = u->kind;
	st->err = *u->err;
	/* freeing the watch from its own callback is allowed */
	etcd_watch_free(w);
	st->updates++;
	event_base_loopbreak(st->base);
}

/* The curl multi on libevent, against an endpoint that refuses. */
static void
test_async_refused(void **state)
{
	struct async_state st = {0};
	struct etcd_config cfg = {.endpoints = "127.0.0.1:1"};
	struct etcd_watch_req wr = {.key = "/calico/", .prefix = 1};
	struct etcd_op op = {.key = "/a"};
	struct etcd_error err;
	struct etcd *e;

	assert_non_null(st.base = event_base_new());
	cfg.base = st.base;
	assert_non_null(e = etcd_new(&cfg, &err));
	etcd_req_cancel(etcd_range_async(e, &op, never_called, &st));
	etcd_range_async(e, &op, async_answer, &st);
	event_base_dispatch(st.base);
	assert_int_equal(st.answers, 1);
	assert_int_equal(st.err.kind, ETCD_E_CONNECT);
	assert_true(strncmp(st.err.msg, "etcd http://127.0.0.1:1: ", 25) == 0);

	etcd_list_async(e, "/calico/", 10, async_answer, &st);
	event_base_dispatch(st.base);
	assert_int_equal(st.answers, 2);
	assert_int_equal(st.err.kind, ETCD_E_CONNECT);

	etcd_watch_new(e, &wr, watch_update, &st);
	event_base_dispatch(st.base);
	assert_int_equal(st.updates, 1);
	assert_int_equal(st.kind, ETCD_WATCH_DISCONNECTED);
	assert_true(strncmp(st.err.msg, "etcd http://127.0.0.1:1: ", 25) == 0);

	/* outstanding requests go with the handle, unanswered */
	etcd_range_async(e, &op, never_called, &st);
	etcd_free(e);
	event_base_free(st.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_b64),
	    cmocka_unit_test(test_prefix_end),
	    cmocka_unit_test(test_json_requests),
	    cmocka_unit_test(test_json_txn),
	    cmocka_unit_test(test_json_watch),
	    cmocka_unit_test(test_parse_kv_answers),
	    cmocka_unit_test(test_parse_txn),
	    cmocka_unit_test(test_parse_lease),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_watch),
	    cmocka_unit_test(test_endpoints),
	    cmocka_unit_test(test_lines),
	    cmocka_unit_test(test_handle_errors),
	    cmocka_unit_test(test_async_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
