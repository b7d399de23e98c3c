/*
 * store/etcdv2.c without an etcd: answers of the /v2/keys API as etcd
 * 3.4.23 (--enable-v2) sent them, captured with curl -i: a recursive get of
 * a Calico v2.6 tree flattened and sorted, the root directory, set,
 * compareAndSwap, a recursive delete and a watch event; etcd's errors (100
 * Key not found, 101 Compare failed, 102, 105 Key already exists, 108, 110,
 * 203, 401 index cleared) with their HTTP status; the X-Etcd-Index header;
 * answers that are not what etcd sends; the configuration checks and the
 * messages of a handle whose endpoints refuse connections.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "store/etcdv2.h"

/* GET /v2/keys/calico?recursive=true, etcd 3.4.23, X-Etcd-Index: 7 */
static const char calico_tree[] =
    "{\"action\":\"get\",\"node\":{\"key\":\"/calico\",\"dir\":true,"
    "\"nodes\":[{\"key\":\"/calico/bgp\",\"dir\":true,\"nodes\":[{\"key\":"
    "\"/calico/bgp/v1\",\"dir\":true,\"nodes\":[{\"key\":\"/calico/bgp/v1/"
    "global\",\"dir\":true,\"nodes\":[{\"key\":\"/calico/bgp/v1/global/"
    "as_num\",\"value\":\"64512\",\"modifiedIndex\":6,\"createdIndex\":6}],"
    "\"modifiedIndex\":6,\"createdIndex\":6}],\"modifiedIndex\":6,"
    "\"createdIndex\":6}],\"modifiedIndex\":6,\"createdIndex\":6},{\"key\":"
    "\"/calico/v1\",\"dir\":true,\"nodes\":[{\"key\":\"/calico/v1/dir1\","
    "\"dir\":true,\"modifiedIndex\":7,\"createdIndex\":7},{\"key\":\"/calico/"
    "v1/host\",\"dir\":true,\"nodes\":[{\"key\":\"/calico/v1/host/node1\","
    "\"dir\":true,\"nodes\":[{\"key\":\"/calico/v1/host/node1/bird_ip\","
    "\"value\":\"192.0.2.1\",\"modifiedIndex\":4,\"createdIndex\":4}],"
    "\"modifiedIndex\":4,\"createdIndex\":4}],\"modifiedIndex\":4,"
    "\"createdIndex\":4},{\"key\":\"/calico/v1/ipam\",\"dir\":true,\"nodes\":"
    "[{\"key\":\"/calico/v1/ipam/v4\",\"dir\":true,\"nodes\":[{\"key\":"
    "\"/calico/v1/ipam/v4/pool\",\"dir\":true,\"nodes\":[{\"key\":\"/calico/"
    "v1/ipam/v4/pool/10.0.0.0-16\",\"value\":\"{\\\"cidr\\\":\\\"10.0.0.0/"
    "16\\\"}\",\"modifiedIndex\":5,\"createdIndex\":5}],\"modifiedIndex\":5,"
    "\"createdIndex\":5}],\"modifiedIndex\":5,\"createdIndex\":5}],"
    "\"modifiedIndex\":5,\"createdIndex\":5}],\"modifiedIndex\":4,"
    "\"createdIndex\":4}],\"modifiedIndex\":4,\"createdIndex\":4}}";

static void
expect_node(const struct etcdv2_node *n, const char *key, const char *value,
    int dir, int64_t mod)
{
	assert_non_null(n->key);
	assert_string_equal(n->key, key);
	assert_non_null(n->value);
	assert_string_equal(n->value, value);
	assert_int_equal(n->value_len, strlen(value));
	assert_int_equal(n->dir, dir);
	assert_int_equal(n->modified_index, mod);
}

static void
test_recursive_get(void **state)
{
	struct etcdv2_result r;
	struct etcdv2_error err;
	const struct etcdv2_node *n;

	assert_int_equal(etcdv2_parse_answer(calico_tree, strlen(calico_tree),
	                     200, 1, &r, &err),
	    0);
	assert_int_equal(err.kind, ETCDV2_E_NONE);
	assert_int_equal(r.action, ETCDV2_ACT_GET);
	assert_int_equal(r.found, 1);
	assert_int_equal(r.index, 0); /* the header's, set by the caller */
	expect_node(&r.node, "/calico", "", 1, 4);
	assert_null(r.prev.key);
	assert_int_equal(r.nnodes, 13);
	n = r.nodes;
	expect_node(&n[0], "/calico/bgp", "", 1, 6);
	expect_node(&n[1], "/calico/bgp/v1", "", 1, 6);
	expect_node(&n[2], "/calico/bgp/v1/global", "", 1, 6);
	expect_node(&n[3], "/calico/bgp/v1/global/as_num", "64512", 0, 6);
	assert_int_equal(n[3].created_index, 6);
	expect_node(&n[4], "/calico/v1", "", 1, 4);
	expect_node(&n[5], "/calico/v1/dir1", "", 1, 7);
	expect_node(&n[6], "/calico/v1/host", "", 1, 4);
	expect_node(&n[7], "/calico/v1/host/node1", "", 1, 4);
	expect_node(&n[8], "/calico/v1/host/node1/bird_ip", "192.0.2.1", 0, 4);
	expect_node(&n[9], "/calico/v1/ipam", "", 1, 5);
	expect_node(&n[10], "/calico/v1/ipam/v4", "", 1, 5);
	expect_node(&n[11], "/calico/v1/ipam/v4/pool", "", 1, 5);
	expect_node(&n[12], "/calico/v1/ipam/v4/pool/10.0.0.0-16",
	    "{\"cidr\":\"10.0.0.0/16\"}", 0, 5);
	etcdv2_result_clean(&r);
	assert_null(r.nodes);
	assert_int_equal(r.nnodes, 0);

	/* the same answer unflattened: only the node */
	assert_int_equal(etcdv2_parse_answer(calico_tree, strlen(calico_tree),
	                     200, 0, &r, &err),
	    0);
	assert_int_equal(r.nnodes, 0);
	assert_null(r.nodes);
	expect_node(&r.node, "/calico", "", 1, 4);
	etcdv2_result_clean(&r);
}

/*
 * Key order, not tree order: '-' sorts before '/', so /a/b-x comes between
 * the directory /a/b and its child /a/b/c.
 */
static void
test_sort_order(void **state)
{
	static const char a[] =
	    "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	    "\"nodes\":[{\"key\":\"/a/b\",\"dir\":true,\"nodes\":[{\"key\":"
	    "\"/a/b/c\",\"value\":\"1\",\"modifiedIndex\":3}],"
	    "\"modifiedIndex\":2},{\"key\":\"/a/b-x\",\"value\":\"2\","
	    "\"modifiedIndex\":4},{\"key\":\"/a/A\",\"value\":\"3\","
	    "\"modifiedIndex\":5}]}}";
	struct etcdv2_result r;
	struct etcdv2_error err;

	assert_int_equal(
	    etcdv2_parse_answer(a, strlen(a), 200, 1, &r, &err), 0);
	assert_int_equal(r.nnodes, 4);
	expect_node(&r.nodes[0], "/a/A", "3", 0, 5);
	expect_node(&r.nodes[1], "/a/b", "", 1, 2);
	expect_node(&r.nodes[2], "/a/b-x", "2", 0, 4);
	expect_node(&r.nodes[3], "/a/b/c", "1", 0, 3);
	etcdv2_result_clean(&r);
}

static void
test_root_and_plain(void **state)
{
	/* GET /v2/keys/?recursive=true: the root has no key */
	static const char root[] =
	    "{\"action\":\"get\",\"node\":{\"dir\":true,\"nodes\":[{\"key\":"
	    "\"/calico\",\"dir\":true,\"nodes\":[{\"key\":\"/calico/v1\","
	    "\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4}],"
	    "\"modifiedIndex\":4,\"createdIndex\":4},{\"key\":\"/w\","
	    "\"dir\":true,\"nodes\":[{\"key\":\"/w/a\",\"value\":\"1\","
	    "\"modifiedIndex\":1112,\"createdIndex\":1112}],"
	    "\"modifiedIndex\":1112,\"createdIndex\":1112}]}}";
	/* GET of a plain key, recursive or not; with a TTL */
	static const char plain[] =
	    "{\"action\":\"get\",\"node\":{\"key\":\"/calico/bgp/v1/global/"
	    "as_num\",\"value\":\"2\",\"expiration\":\"2026-11-26T04:43:00Z\","
	    "\"ttl\":29,\"modifiedIndex\":8,\"createdIndex\":6}}";
	struct etcdv2_result r;
	struct etcdv2_error err;

	assert_int_equal(
	    etcdv2_parse_answer(root, strlen(root), 200, 1, &r, &err), 0);
	expect_node(&r.node, "/", "", 1, 0);
	assert_int_equal(r.nnodes, 4);
	expect_node(&r.nodes[0], "/calico", "", 1, 4);
	expect_node(&r.nodes[1], "/calico/v1", "", 1, 4);
	expect_node(&r.nodes[2], "/w", "", 1, 1112);
	expect_node(&r.nodes[3], "/w/a", "1", 0, 1112);
	etcdv2_result_clean(&r);

	assert_int_equal(
	    etcdv2_parse_answer(plain, strlen(plain), 200, 1, &r, &err), 0);
	expect_node(&r.node, "/calico/bgp/v1/global/as_num", "2", 0, 8);
	assert_int_equal(r.node.created_index, 6);
	assert_int_equal(r.node.ttl, 29);
	assert_int_equal(r.nnodes, 1); /* a plain key lists as itself */
	expect_node(&r.nodes[0], "/calico/bgp/v1/global/as_num", "2", 0, 8);
	assert_ptr_not_equal(r.nodes[0].key, r.node.key);
	etcdv2_result_clean(&r);
}

static void
test_writes_and_events(void **state)
{
	static const char set[] =
	    "{\"action\":\"set\",\"node\":{\"key\":\"/calico/v1/host/node1/"
	    "bird_ip\",\"value\":\"192.0.2.1\",\"modifiedIndex\":4,"
	    "\"createdIndex\":4}}";
	static const char cas[] =
	    "{\"action\":\"compareAndSwap\",\"node\":{\"key\":\"/calico/bgp/v1/"
	    "global/as_num\",\"value\":\"2\",\"modifiedIndex\":8,"
	    "\"createdIndex\":6},\"prevNode\":{\"key\":\"/calico/bgp/v1/global/"
	    "as_num\",\"value\":\"64512\",\"modifiedIndex\":6,"
	    "\"createdIndex\":6}}";
	static const char mkdir[] =
	    "{\"action\":\"set\",\"node\":{\"key\":\"/calico/v1/dir1\","
	    "\"dir\":true,\"modifiedIndex\":7,\"createdIndex\":7}}";
	static const char rdel[] =
	    "{\"action\":\"delete\",\"node\":{\"key\":\"/calico/v1\",\"dir\":"
	    "true,\"modifiedIndex\":9,\"createdIndex\":4},\"prevNode\":{"
	    "\"key\":"
	    "\"/calico/v1\",\"dir\":true,\"modifiedIndex\":4,"
	    "\"createdIndex\":4}}";
	/* a watch event: a delete has no value */
	static const char ev[] =
	    "{\"action\":\"delete\",\"node\":{\"key\":\"/w/k1\","
	    "\"modifiedIndex\":1110,\"createdIndex\":1105},\"prevNode\":{"
	    "\"key\":"
	    "\"/w/k1\",\"value\":\"1096\",\"modifiedIndex\":1105,"
	    "\"createdIndex\":1105}}\n";
	static const char cad[] =
	    "{\"action\":\"compareAndDelete\",\"node\":{\"key\":\"/k\","
	    "\"modifiedIndex\":12,\"createdIndex\":11}}";
	static const char odd[] =
	    "{\"action\":\"somethingNew\",\"node\":{\"key\":\"/k\"}}";
	struct etcdv2_result r;
	struct etcdv2_error err;

	assert_int_equal(
	    etcdv2_parse_answer(set, strlen(set), 201, 0, &r, &err), 0);
	assert_int_equal(r.action, ETCDV2_ACT_SET);
	expect_node(
	    &r.node, "/calico/v1/host/node1/bird_ip", "192.0.2.1", 0, 4);
	assert_null(r.prev.key);
	etcdv2_result_clean(&r);

	assert_int_equal(
	    etcdv2_parse_answer(cas, strlen(cas), 200, 0, &r, &err), 0);
	assert_int_equal(r.action, ETCDV2_ACT_CAS);
	expect_node(&r.node, "/calico/bgp/v1/global/as_num", "2", 0, 8);
	expect_node(&r.prev, "/calico/bgp/v1/global/as_num", "64512", 0, 6);
	etcdv2_result_clean(&r);

	assert_int_equal(
	    etcdv2_parse_answer(mkdir, strlen(mkdir), 201, 0, &r, &err), 0);
	expect_node(&r.node, "/calico/v1/dir1", "", 1, 7);
	etcdv2_result_clean(&r);

	assert_int_equal(
	    etcdv2_parse_answer(rdel, strlen(rdel), 200, 0, &r, &err), 0);
	assert_int_equal(r.action, ETCDV2_ACT_DELETE);
	expect_node(&r.node, "/calico/v1", "", 1, 9);
	expect_node(&r.prev, "/calico/v1", "", 1, 4);
	etcdv2_result_clean(&r);

	assert_int_equal(
	    etcdv2_parse_answer(ev, strlen(ev), 200, 0, &r, &err), 0);
	assert_int_equal(r.action, ETCDV2_ACT_DELETE);
	expect_node(&r.node, "/w/k1", "", 0, 1110);
	assert_int_equal(r.node.created_index, 1105);
	expect_node(&r.prev, "/w/k1", "1096", 0, 1105);
	etcdv2_result_clean(&r);

	assert_int_equal(
	    etcdv2_parse_answer(cad, strlen(cad), 200, 0, &r, &err), 0);
	assert_int_equal(r.action, ETCDV2_ACT_CAD);
	etcdv2_result_clean(&r);
	assert_int_equal(
	    etcdv2_parse_answer(odd, strlen(odd), 200, 0, &r, &err), 0);
	assert_int_equal(r.action, ETCDV2_ACT_OTHER);
	expect_node(&r.node, "/k", "", 0, 0);
	etcdv2_result_clean(&r);
}

/* A value may hold any string, NUL included. */
static void
test_value_bytes(void **state)
{
	static const char a[] =
	    "{\"action\":\"get\",\"node\":{\"key\":\"/k\",\"value\":"
	    "\"a\\u0000b \\u00e9\\n\",\"modifiedIndex\":3}}";
	struct etcdv2_result r;
	struct etcdv2_error err;

	assert_int_equal(
	    etcdv2_parse_answer(a, strlen(a), 200, 0, &r, &err), 0);
	assert_int_equal(r.node.value_len, 7);
	assert_memory_equal(r.node.value, "a\0b \xc3\xa9\n", 8);
	etcdv2_result_clean(&r);
}

static void
test_etcd_errors(void **state)
{
	static const struct {
		long status;
		const char *body;
		int code;
		int64_t index;
		const char *msg;
	} v[] = {
	    {404,
	        "{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":"
	        "\"/nope\",\"index\":7}",
	        ETCDV2_KEY_NOT_FOUND, 7, "error 100: Key not found (/nope)"},
	    {412,
	        "{\"errorCode\":101,\"message\":\"Compare failed\",\"cause\":"
	        "\"[1 != 6]\",\"index\":7}",
	        ETCDV2_COMPARE_FAILED, 7,
	        "error 101: Compare failed ([1 != 6])"},
	    {403,
	        "{\"errorCode\":102,\"message\":\"Not a file\",\"cause\":"
	        "\"/w/a\",\"index\":1112}",
	        ETCDV2_NOT_A_FILE, 1112, "error 102: Not a file (/w/a)"},
	    {412,
	        "{\"errorCode\":105,\"message\":\"Key already exists\","
	        "\"cause\":\"/calico/bgp/v1/global/as_num\",\"index\":7}",
	        ETCDV2_NODE_EXISTS, 7,
	        "error 105: Key already exists "
	        "(/calico/bgp/v1/global/as_num)"},
	    {403,
	        "{\"errorCode\":108,\"message\":\"Directory not empty\","
	        "\"cause\":\"/w/a\",\"index\":1112}",
	        ETCDV2_DIR_NOT_EMPTY, 1112,
	        "error 108: Directory not empty (/w/a)"},
	    {401,
	        "{\"errorCode\":110,\"message\":\"The request requires user "
	        "authentication\",\"cause\":\"Insufficient credentials\","
	        "\"index\":0}",
	        ETCDV2_UNAUTHORIZED, 0,
	        "error 110: The request requires user authentication "
	        "(Insufficient credentials)"},
	    {400,
	        "{\"errorCode\":203,\"message\":\"The given index in POST form "
	        "is not a number\",\"cause\":\"invalid value for "
	        "\\\"prevIndex\\\"\",\"index\":0}",
	        203, 0,
	        "error 203: The given index in POST form is not a number "
	        "(invalid value for \"prevIndex\")"},
	    {400,
	        "{\"errorCode\":401,\"message\":\"The event in requested index "
	        "is outdated and cleared\",\"cause\":\"the requested history "
	        "has been cleared [110/5]\",\"index\":1109}",
	        ETCDV2_INDEX_CLEARED, 1109,
	        "error 401: The event in requested index is outdated and "
	        "cleared (the requested history has been cleared [110/5])"},
	    /* no cause, no index; control characters are not copied */
	    {500, "{\"errorCode\":300,\"message\":\"Raft\\n Internal\"}", 300,
	        0, "error 300: Raft  Internal"},
	};
	struct etcdv2_result r;
	struct etcdv2_error err;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&r, 0xa5, sizeof(r));
		assert_int_equal(
		    etcdv2_parse_answer(
		        v[i].body, strlen(v[i].body), v[i].status, 1, &r, &err),
		    -1);
		assert_int_equal(err.kind, ETCDV2_E_ETCD);
		assert_int_equal(err.code, v[i].code);
		assert_int_equal(err.http_status, v[i].status);
		assert_int_equal(err.index, v[i].index);
		assert_string_equal(err.msg, v[i].msg);
		/* left clean */
		assert_null(r.node.key);
		assert_null(r.nodes);
		assert_int_equal(r.found, 0);
	}
}

static void
test_bad_answers(void **state)
{
	static const struct {
		long status;
		const char *body;
		enum etcdv2_errkind kind;
		const char *msg;
	} v[] = {
	    /* etcd 3.4 without --enable-v2 */
	    {404, "404 page not found\n", ETCDV2_E_HTTP,
	        "HTTP 404: 404 page not found"},
	    {503, "", ETCDV2_E_HTTP, "HTTP 503: "},
	    {500, "{\"message\":\"etcdserver: request timed out\"}",
	        ETCDV2_E_HTTP, "HTTP 500: etcdserver: request timed out"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":\"/a\"}",
	        ETCDV2_E_PROTO, NULL},
	    {200, "[1,2]", ETCDV2_E_PROTO, "answer is not a JSON object"},
	    {200, "{\"node\":{\"key\":\"/a\"}}", ETCDV2_E_PROTO,
	        "answer without action or node"},
	    {200, "{\"action\":\"get\",\"node\":[]}", ETCDV2_E_PROTO,
	        "answer without action or node"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":\"a\"}}",
	        ETCDV2_E_PROTO, "a node's key is not a key"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":\"\"}}",
	        ETCDV2_E_PROTO, "a node's key is not a key"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":\"/a\\u0000b\"}}",
	        ETCDV2_E_PROTO, "a node's key is not a key"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":7}}", ETCDV2_E_PROTO,
	        "a node's key is not a key"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"value\":1}}",
	        ETCDV2_E_PROTO, "node /a: bad dir, value or ttl"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":\"y\"}}",
	        ETCDV2_E_PROTO, "node /a: bad dir, value or ttl"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/"
	        "a\",\"modifiedIndex\":"
	        "-1}}",
	        ETCDV2_E_PROTO, "modifiedIndex is not an index"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"createdIndex\":"
	        "\"4\"}}",
	        ETCDV2_E_PROTO, "createdIndex is not an index"},
	    {200,
	        "{\"action\":\"set\",\"node\":{\"key\":\"/a\"},\"prevNode\":3}",
	        ETCDV2_E_PROTO, "a node is not an object"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	        "\"nodes\":{}}}",
	        ETCDV2_E_PROTO, "/a: nodes is not an array"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	        "\"nodes\":[7]}}",
	        ETCDV2_E_PROTO, "a node is not an object"},
	    /* a child outside its directory, or the directory itself */
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	        "\"nodes\":[{\"key\":\"/ab\"}]}}",
	        ETCDV2_E_PROTO, "/ab is listed under /a"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	        "\"nodes\":[{\"key\":\"/a/\"}]}}",
	        ETCDV2_E_PROTO, "/a/ is listed under /a"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	        "\"nodes\":[{\"key\":\"/a/b\",\"dir\":true,\"nodes\":[{\"key\":"
	        "\"/a/c\"}]}]}}",
	        ETCDV2_E_PROTO, "/a/c is listed under /a/b"},
	    {200,
	        "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"dir\":true,"
	        "\"nodes\":[{\"key\":\"/a/b\",\"nodes\":[]}]}}",
	        ETCDV2_E_PROTO, "/a/b has nodes but is not a directory"},
	    {200, "{\"action\":\"get\",\"node\":{\"key\":\"/a\",\"nodes\":[]}}",
	        ETCDV2_E_PROTO, "/a has nodes but is not a directory"},
	    {200, "{\"errorCode\":\"100\",\"message\":\"Key not found\"}",
	        ETCDV2_E_PROTO, "HTTP 200: errorCode is not one"},
	    {404, "{\"errorCode\":0}", ETCDV2_E_PROTO,
	        "HTTP 404: errorCode is not one"},
	};
	struct etcdv2_result r;
	struct etcdv2_error err;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(
		    etcdv2_parse_answer(
		        v[i].body, strlen(v[i].body), v[i].status, 1, &r, &err),
		    -1);
		assert_int_equal(err.kind, v[i].kind);
		assert_int_equal(err.code, 0);
		if (v[i].msg != NULL)
			assert_string_equal(err.msg, v[i].msg);
		else
			assert_non_null(strstr(err.msg, "answer is not JSON"));
		assert_null(r.node.key);
		assert_null(r.prev.key);
		assert_null(r.nodes);
		assert_int_equal(r.nnodes, 0);
	}
	/* NULL and empty bodies */
	assert_int_equal(etcdv2_parse_answer(NULL, 0, 200, 0, &r, &err), -1);
	assert_int_equal(err.kind, ETCDV2_E_PROTO);
}

static void
test_index_header(void **state)
{
	static const struct {
		const char *line;
		int ret;
		int64_t index;
	} v[] = {
	    {"X-Etcd-Index: 7\r\n", 1, 7},
	    {"x-etcd-index:1109\r\n", 1, 1109},
	    {"X-ETCD-INDEX: \t 42 \r\n", 1, 42},
	    {"X-Etcd-Index: 0\r\n", 1, 0},
	    {"X-Etcd-Index: 9223372036854775807\r\n", 1, INT64_MAX},
	    {"X-Etcd-Index: 9223372036854775808\r\n", -1, 0},
	    {"X-Etcd-Index: 99999999999999999999\r\n", -1, 0},
	    {"X-Etcd-Index: \r\n", -1, 0},
	    {"X-Etcd-Index: 12a\r\n", -1, 0},
	    {"X-Etcd-Index: -3\r\n", -1, 0},
	    {"X-Etcd-Index: 1 2\r\n", -1, 0},
	    {"X-Raft-Index: 5\r\n", 0, 0},
	    {"X-Etcd-Cluster-Id: 6c438ba6ce8a0f60\r\n", 0, 0},
	    {"X-Etcd-Index-Other: 5\r\n", 0, 0},
	    {"HTTP/1.1 200 OK\r\n", 0, 0},
	    {"\r\n", 0, 0},
	};
	int64_t ix;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ix = -5;
		assert_int_equal(etcdv2_parse_index_header(
		                     v[i].line, strlen(v[i].line), &ix),
		    v[i].ret);
		assert_int_equal(ix, v[i].ret == 1 ? v[i].index : -5);
	}
	/* only the bytes given count */
	assert_int_equal(
	    etcdv2_parse_index_header("X-Etcd-Index: 123", 16, &ix), 1);
	assert_int_equal(ix, 12);
	assert_int_equal(
	    etcdv2_parse_index_header("X-Etcd-Index: 1", 10, &ix), 0);
}

static void
test_config(void **state)
{
	struct etcd_config cfg = {.ca_file = "/nonexistent/ca.pem"};
	struct etcdv2_error err;
	struct etcdv2 *e;

	assert_null(etcdv2_new(&cfg, &err));
	assert_int_equal(err.kind, ETCDV2_E_CONNECT);
	assert_string_equal(err.msg,
	    "etcd: CA file /nonexistent/ca.pem: No such file or directory");
	cfg.ca_file = NULL;
	cfg.key_file = "/nonexistent/key.pem";
	assert_null(etcdv2_new(&cfg, &err));
	assert_string_equal(err.msg,
	    "etcd: key file /nonexistent/key.pem: No such file or directory");
	cfg.key_file = NULL;
	cfg.endpoints = "gopher://x";
	assert_null(etcdv2_new(&cfg, &err));
	assert_string_equal(err.msg, "etcd: bad endpoint list: gopher://x");
	cfg.endpoints = "http://";
	assert_null(etcdv2_new(&cfg, &err));
	cfg.endpoints = "http://a,unix://b";
	assert_null(etcdv2_new(&cfg, &err));

	/* no endpoints: the default; the list keeps its order */
	assert_non_null(e = etcdv2_new(NULL, &err));
	assert_string_equal(etcdv2_endpoint(e), "http://127.0.0.1:2379");
	etcdv2_free(e);
	cfg.endpoints = " , ";
	assert_non_null(e = etcdv2_new(&cfg, &err));
	assert_string_equal(etcdv2_endpoint(e), "http://127.0.0.1:2379");
	etcdv2_free(e);
	cfg.endpoints = "10.0.0.1:2379/, https://b:1";
	assert_non_null(e = etcdv2_new(&cfg, &err));
	assert_string_equal(etcdv2_endpoint(e), "http://10.0.0.1:2379");
	etcdv2_free(e);
	cfg.endpoints = "HTTPS://10.0.0.1:2379//";
	assert_non_null(e = etcdv2_new(&cfg, &err));
	assert_string_equal(etcdv2_endpoint(e), "https://10.0.0.1:2379");
	etcdv2_free(e);
	cfg.endpoints = "https:///";
	assert_null(etcdv2_new(&cfg, &err));
	assert_string_equal(err.msg, "etcd: bad endpoint list: https:///");
}

/* Nothing listens on port 1: refused at once, and named in the message. */
static void
test_refused(void **state)
{
	struct etcd_config cfg = {.endpoints = "http://127.0.0.1:1"};
	struct etcdv2_error err;
	struct etcdv2_result r;
	struct etcdv2 *e;
	const char *m;

	assert_non_null(e = etcdv2_new(&cfg, &err));
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(etcdv2_get(e, "calico/v1/Ready", &r), -1);
	assert_null(r.node.key);
	assert_int_equal(etcdv2_last_error(e)->kind, ETCDV2_E_CONNECT);
	m = etcdv2_error(e);
	assert_true(
	    strncmp(m, "etcd http://127.0.0.1:1: get /calico/v1/Ready: ", 47) ==
	    0);
	assert_true(strstr(m, "onnect") != NULL || strstr(m, "efused"));
	assert_int_equal(etcdv2_set(e, "/k", "v", NULL, NULL), -1);
	assert_true(strncmp(etcdv2_error(e),
	                "etcd http://127.0.0.1:1: set /k: ", 33) == 0);
	assert_int_equal(etcdv2_watch(e, "/calico", 5, 1, 1000, &r), -1);
	assert_true(strncmp(etcdv2_error(e),
	                "etcd http://127.0.0.1:1: watch /calico: ", 40) == 0);
	etcdv2_free(e);

	cfg.endpoints = "127.0.0.1:1,http://127.0.0.2:1";
	assert_non_null(e = etcdv2_new(&cfg, &err));
	assert_int_equal(etcdv2_list(e, "/calico", &r), -1);
	m = etcdv2_error(e);
	assert_true(strncmp(m,
	                "etcd: list /calico: no endpoint answered: "
	                "http://127.0.0.1:1: ",
	                61) == 0);
	assert_non_null(strstr(m, "; http://127.0.0.2:1: "));
	assert_int_equal(etcdv2_delete(e, "/calico", NULL, NULL), -1);
	assert_non_null(strstr(etcdv2_error(e), "delete /calico: no endpoint"));
	etcdv2_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_recursive_get),
	    cmocka_unit_test(test_sort_order),
	    cmocka_unit_test(test_root_and_plain),
	    cmocka_unit_test(test_writes_and_events),
	    cmocka_unit_test(test_value_bytes),
	    cmocka_unit_test(test_etcd_errors),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_index_header),
	    cmocka_unit_test(test_config),
	    cmocka_unit_test(test_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
