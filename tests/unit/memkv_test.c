/*
 * confd/memkv.c: Go's path.Clean, path.Join, path.Base, path.Dir and
 * path.Match against the vectors of Go's path_test.go and match_test.go;
 * the sorted store; confd's key selection for a template resource (prefix
 * stripping, "/ab" not under "/a", the key "/"); memkv's List and ListDir.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confd/confd.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in, *out;
} clean_tests[] = {
    {"", "."},
    {"abc", "abc"},
    {"abc/def", "abc/def"},
    {"a/b/c", "a/b/c"},
    {".", "."},
    {"..", ".."},
    {"../..", "../.."},
    {"../../abc", "../../abc"},
    {"/abc", "/abc"},
    {"/", "/"},
    {"abc/", "abc"},
    {"abc/def/", "abc/def"},
    {"a/b/c/", "a/b/c"},
    {"./", "."},
    {"../", ".."},
    {"../../", "../.."},
    {"/abc/", "/abc"},
    {"abc//def//ghi", "abc/def/ghi"},
    {"//abc", "/abc"},
    {"///abc", "/abc"},
    {"//abc//", "/abc"},
    {"abc//", "abc"},
    {"abc/./def", "abc/def"},
    {"/./abc/def", "/abc/def"},
    {"abc/.", "abc"},
    {"abc/def/ghi/../jkl", "abc/def/jkl"},
    {"abc/def/../ghi/../jkl", "abc/jkl"},
    {"abc/def/..", "abc"},
    {"abc/def/../..", "."},
    {"/abc/def/../..", "/"},
    {"abc/def/../../..", ".."},
    {"/abc/def/../../..", "/"},
    {"abc/def/../../../ghi/jkl/../../../mno", "../../mno"},
    {"abc/./../def", "def"},
    {"abc//./../def", "def"},
    {"abc/../../././../def", "../../def"},
    {"/..", "/"},
    {"/../a/..b/.c", "/a/..b/.c"},
};

static void
test_clean(void **state)
{
	size_t i;
	char *s, *again;

	for (i = 0; i < NITEMS(clean_tests); i++) {
		s = confd_path_clean(clean_tests[i].in);
		if (strcmp(s, clean_tests[i].out) != 0)
			fail_msg("Clean(%s) = %s, want %s", clean_tests[i].in,
			    s, clean_tests[i].out);
		again = confd_path_clean(s);
		assert_string_equal(again, s);
		free(again);
		free(s);
	}
}

static const struct {
	const char *a, *b, *out;
} join_tests[] = {
    /* path.Join("/", a, b) */
    {"", "", "/"},
    {"a", "", "/a"},
    {"", "b", "/b"},
    {"a", "b", "/a/b"},
    {"/", "a", "/a"},
    {"/", "", "/"},
    {"a/", "b", "/a/b"},
    {"/calico/bgp/v1", "/global", "/calico/bgp/v1/global"},
    {"/calico/bgp/v1", "/", "/calico/bgp/v1"},
    {"/calico/bgp/v1/", "host//node1/", "/calico/bgp/v1/host/node1"},
    {"/a", "../b", "/b"},
    {"..", "..", "/"},
};

static void
test_join(void **state)
{
	size_t i;
	char *s;

	for (i = 0; i < NITEMS(join_tests); i++) {
		s = confd_path_join(join_tests[i].a, join_tests[i].b);
		if (strcmp(s, join_tests[i].out) != 0)
			fail_msg("Join(/, %s, %s) = %s, want %s",
			    join_tests[i].a, join_tests[i].b, s,
			    join_tests[i].out);
		free(s);
	}
}

static const struct {
	const char *in, *base, *dir;
} basedir_tests[] = {
    {"", ".", "."},
    {".", ".", "."},
    {"/.", ".", "/"},
    {"/", "/", "/"},
    {"////", "/", "/"},
    {"x/", "x", "x"},
    {"abc", "abc", "."},
    {"abc/def", "def", "abc"},
    {"a/b/.x", ".x", "a/b"},
    {"a/b/c.", "c.", "a/b"},
    {"a/b/c.x", "c.x", "a/b"},
    {"/calico/bgp/v1/host/node1", "node1", "/calico/bgp/v1/host"},
    {"/a/b/", "b", "/a/b"},
    {"a/b/../c", "c", "a/b/.."},
};

static void
test_base_dir(void **state)
{
	size_t i;
	char *s;

	for (i = 0; i < NITEMS(basedir_tests); i++) {
		s = confd_path_base(basedir_tests[i].in);
		if (strcmp(s, basedir_tests[i].base) != 0)
			fail_msg("Base(%s) = %s", basedir_tests[i].in, s);
		free(s);
		s = confd_path_dir(basedir_tests[i].in);
		if (strcmp(s, basedir_tests[i].dir) != 0 &&
		    strcmp(basedir_tests[i].in, "a/b/../c") != 0)
			fail_msg("Dir(%s) = %s", basedir_tests[i].in, s);
		free(s);
	}
	/* Dir cleans: a/b/.. is a */
	s = confd_path_dir("a/b/../c");
	assert_string_equal(s, "a");
	free(s);
}

static const struct {
	const char *pattern, *s;
	int match; /* 1, 0, -1 ErrBadPattern */
} match_tests[] = {
    {"abc", "abc", 1},
    {"*", "abc", 1},
    {"*c", "abc", 1},
    {"a*", "a", 1},
    {"a*", "abc", 1},
    {"a*", "ab/c", 0},
    {"a*/b", "abc/b", 1},
    {"a*/b", "a/c/b", 0},
    {"a*b*c*d*e*/f", "axbxcxdxe/f", 1},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/f", 1},
    {"a*b*c*d*e*/f", "axbxcxdxe/xxx/f", 0},
    {"a*b*c*d*e*/f", "axbxcxdxexxx/fff", 0},
    {"a*b?c*x", "abxbbxdbxebxczzx", 1},
    {"a*b?c*x", "abxbbxdbxebxczzy", 0},
    {"ab[c]", "abc", 1},
    {"ab[b-d]", "abc", 1},
    {"ab[e-g]", "abc", 0},
    {"ab[^c]", "abc", 0},
    {"ab[^b-d]", "abc", 0},
    {"ab[^e-g]", "abc", 1},
    {"a\\*b", "a*b", 1},
    {"a\\*b", "ab", 0},
    {"a?b",
        "a\xe2\x98\xba"
        "b",
        1},
    {"a[^a]b",
        "a\xe2\x98\xba"
        "b",
        1},
    {"a???b",
        "a\xe2\x98\xba"
        "b",
        0},
    {"a[^a][^a][^a]b",
        "a\xe2\x98\xba"
        "b",
        0},
    {"[a-\xce\xb6]*", "\xce\xb1", 1},
    {"*[a-\xce\xb6]", "A", 0},
    {"a?b", "a/b", 0},
    {"a*b", "a/b", 0},
    {"[\\]a]", "]", 1},
    {"[\\-]", "-", 1},
    {"[x\\-]", "x", 1},
    {"[x\\-]", "-", 1},
    {"[x\\-]", "z", 0},
    {"[\\-x]", "x", 1},
    {"[\\-x]", "-", 1},
    {"[\\-x]", "a", 0},
    {"[]a]", "]", -1},
    {"[-]", "-", -1},
    {"[x-]", "x", -1},
    {"[x-]", "-", -1},
    {"[x-]", "z", -1},
    {"[-x]", "x", -1},
    {"[-x]", "-", -1},
    {"[-x]", "a", -1},
    {"\\", "a", -1},
    {"[a-b-c]", "a", -1},
    {"[", "a", -1},
    {"[^", "a", -1},
    {"[^bc", "a", -1},
    {"a[", "a", -1},
    {"a[", "ab", -1},
    {"a[", "x", -1},
    {"a/b[", "x", -1},
    {"*x", "xxx", 1},
    /* confd-style key patterns */
    {"/host/*/ip_addr_v4", "/host/node1/ip_addr_v4", 1},
    {"/host/*/ip_addr_v4", "/host/node1/ip_addr_v6", 0},
    {"/host/*", "/host/node1/ip_addr_v4", 0},
    {"/host/*/*", "/host/node1/ip_addr_v4", 1},
    {"/host/node[0-9]/as_num", "/host/node7/as_num", 1},
    {"/host/node[^0-9]/as_num", "/host/node7/as_num", 0},
    {"", "", 1},
    {"", "a", 0},
    {"*", "", 1},
    {"a*", "x[", -1 + 1}, /* "a*" is well formed: no match */
    {"x*[", "abc", -1},
};

static void
test_match(void **state)
{
	size_t i;
	int m;

	for (i = 0; i < NITEMS(match_tests); i++) {
		m = confd_path_match(match_tests[i].pattern, match_tests[i].s);
		if (m != match_tests[i].match)
			fail_msg("Match(%s, %s) = %d, want %d",
			    match_tests[i].pattern, match_tests[i].s, m,
			    match_tests[i].match);
	}
}

static void
fill(struct confd_kvs *kvs, const char *const *kv, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		confd_kvs_set(kvs, kv[i], kv[i + 1]);
}

static void
test_store(void **state)
{
	static const char *const kv[] = {"/b", "2", "/a/x", "3", "/a", "1",
	    "//c/./d/", "4", "/a-b", "5", "/b", "22"};
	struct confd_kvs kvs = {0}, other = {0};

	fill(&kvs, kv, NITEMS(kv));
	assert_int_equal(kvs.n, 5);
	assert_string_equal(kvs.v[0].key, "/a");
	assert_string_equal(kvs.v[1].key, "/a-b");
	assert_string_equal(kvs.v[2].key, "/a/x");
	assert_string_equal(kvs.v[3].key, "/b");
	assert_string_equal(kvs.v[4].key, "/c/d");
	assert_string_equal(confd_kvs_get(&kvs, "/b"), "22");
	assert_string_equal(confd_kvs_get(&kvs, "/c/d"), "4");
	assert_null(confd_kvs_get(&kvs, "/c/d/"));
	assert_null(confd_kvs_get(&kvs, "/zz"));
	assert_int_equal(confd_kvs_lower(&kvs, "/a/"), 2);
	assert_int_equal(confd_kvs_lower(&kvs, "/z"), 5);
	assert_int_equal(confd_kvs_lower(&kvs, ""), 0);

	fill(&other, kv, NITEMS(kv));
	assert_true(confd_kvs_equal(&kvs, &other));
	confd_kvs_set(&other, "/b", "2");
	assert_false(confd_kvs_equal(&kvs, &other));
	confd_kvs_set(&other, "/b", "22");
	assert_true(confd_kvs_equal(&kvs, &other));
	confd_kvs_set(&other, "/e", "");
	assert_false(confd_kvs_equal(&kvs, &other));
	confd_kvs_clean(&other);
	assert_int_equal(other.n, 0);
	assert_null(other.v);
	confd_kvs_clean(&kvs);
}

/* "key=value key=value" of a store */
static char *
dump(const struct confd_kvs *kvs)
{
	size_t i, len = 1;
	char *s;

	for (i = 0; i < kvs->n; i++)
		len += strlen(kvs->v[i].key) + strlen(kvs->v[i].value) + 2;
	s = calloc(1, len);
	for (i = 0; i < kvs->n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, kvs->v[i].key);
		strcat(s, "=");
		strcat(s, kvs->v[i].value);
	}
	return s;
}

static const char *const backend[] = {
    "/calico/bgp/v1/global/as_num",
    "64512",
    "/calico/bgp/v1/global/node_mesh",
    "{\"enabled\": true}",
    "/calico/bgp/v1/global/peer_v4/192.0.2.9",
    "{\"as_num\":\"65000\"}",
    "/calico/bgp/v1/host/node1/ip_addr_v4",
    "192.0.2.1",
    "/calico/bgp/v1/host/node1/as_num",
    "64513",
    "/calico/bgp/v1/host/node2/ip_addr_v4",
    "192.0.2.2",
    "/calico/bgp/v1/hostx/node3/ip_addr_v4",
    "192.0.2.3",
    "/calico/bgp/v1",
    "root",
    "/calico/bgp/v1x",
    "sibling",
    "/calico/v1/ipam/v4/pool/198.18.0.0-16",
    "{}",
};

static const struct {
	const char *prefix;
	const char *keys[3];
	const char *want;
} select_tests[] = {
    {"/calico/bgp/v1", {"/host/node1"},
        "/host/node1/as_num=64513 /host/node1/ip_addr_v4=192.0.2.1"},
    /* "/host" does not take "/hostx" */
    {"/calico/bgp/v1", {"/host"},
        "/host/node1/as_num=64513 /host/node1/ip_addr_v4=192.0.2.1 "
        "/host/node2/ip_addr_v4=192.0.2.2"},
    {"/calico/bgp/v1", {"/global/as_num", "/host/node2"},
        "/global/as_num=64512 /host/node2/ip_addr_v4=192.0.2.2"},
    /* the key "/": everything under the prefix, the prefix itself as "/" */
    {"/calico/bgp/v1", {"/"},
        "/=root /global/as_num=64512 /global/node_mesh={\"enabled\": true} "
        "/global/peer_v4/192.0.2.9={\"as_num\":\"65000\"} "
        "/host/node1/as_num=64513 /host/node1/ip_addr_v4=192.0.2.1 "
        "/host/node2/ip_addr_v4=192.0.2.2 /hostx/node3/ip_addr_v4=192.0.2.3"},
    /* a prefix written loosely is cleaned */
    {"calico/bgp/v1/", {"global/as_num"}, "/global/as_num=64512"},
    /* no prefix: keys as they are */
    {"", {"/calico/v1/ipam/v4/pool"},
        "/calico/v1/ipam/v4/pool/198.18.0.0-16={}"},
    {"/calico", {"/v1/ipam/v4/pool", "/bgp/v1/host/node2"},
        "/bgp/v1/host/node2/ip_addr_v4=192.0.2.2 "
        "/v1/ipam/v4/pool/198.18.0.0-16={}"},
    /* missing keys select nothing */
    {"/calico/bgp/v1", {"/host/node9"}, ""},
    {"/nothing", {"/"}, ""},
    /* overlapping keys once */
    {"/calico/bgp/v1", {"/host/node2", "/host"},
        "/host/node1/as_num=64513 /host/node1/ip_addr_v4=192.0.2.1 "
        "/host/node2/ip_addr_v4=192.0.2.2"},
};

static void
test_select(void **state)
{
	struct confd_kvs all = {0}, out;
	char *keys[3], *s;
	size_t i, n;

	fill(&all, backend, NITEMS(backend));
	for (i = 0; i < NITEMS(select_tests); i++) {
		for (n = 0; n < 3 && select_tests[i].keys[n] != NULL; n++)
			keys[n] = (char *)select_tests[i].keys[n];
		memset(&out, 0, sizeof(out));
		confd_kvs_select(&out, &all, select_tests[i].prefix, keys, n);
		s = dump(&out);
		if (strcmp(s, select_tests[i].want) != 0)
			fail_msg("select %zu: %s, want %s", i, s,
			    select_tests[i].want);
		free(s);
		confd_kvs_clean(&out);
	}
	/* "/ab" is not under "/a" */
	confd_kvs_clean(&all);
	confd_kvs_set(&all, "/a", "1");
	confd_kvs_set(&all, "/a/b", "2");
	confd_kvs_set(&all, "/a-c", "3");
	confd_kvs_set(&all, "/ab", "4");
	memset(&out, 0, sizeof(out));
	keys[0] = "/a";
	confd_kvs_select(&out, &all, "", keys, 1);
	s = dump(&out);
	assert_string_equal(s, "/a=1 /a/b=2");
	free(s);
	confd_kvs_clean(&out);
	confd_kvs_select(&out, &all, "/a", keys, 0);
	assert_int_equal(out.n, 0);
	confd_kvs_clean(&all);
}

static char *
list(const struct confd_kvs *kvs, const char *path, bool dir)
{
	char **names, *s;
	size_t i, n, len = 3;

	names = confd_kvs_list(kvs, path, dir, &n);
	for (i = 0; i < n; i++)
		len += strlen(names[i]) + 1;
	s = calloc(1, len);
	strcat(s, "[");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(s, " ");
		strcat(s, names[i]);
		free(names[i]);
	}
	strcat(s, "]");
	free(names);
	return s;
}

static const char *const tree[] = {
    "/host/node1/ip_addr_v4",
    "192.0.2.1",
    "/host/node1/as_num",
    "64513",
    "/host/node2/ip_addr_v4",
    "192.0.2.2",
    "/host/node2/rr/cluster_id",
    "1",
    "/host/leaf",
    "x",
    "/hostx/node3/ip",
    "3",
    "/global/as_num",
    "64512",
    "/top",
    "t",
};

static const struct {
	const char *path;
	const char *ls, *lsdir;
} list_tests[] = {
    {"/host", "[leaf node1 node2]", "[node1 node2]"},
    {"/host/", "[leaf node1 node2]", "[node1 node2]"},
    {"/host/node1", "[as_num ip_addr_v4]", "[]"},
    {"/host/node2", "[ip_addr_v4 rr]", "[rr]"},
    /* ls of a key lists the key's own name */
    {"/host/leaf", "[leaf]", "[]"},
    {"/global/as_num", "[as_num]", "[]"},
    /* memkv's quirk: "/" lists only keys directly under it */
    {"/", "[top]", "[]"},
    {"/nothing", "[]", "[]"},
    {"/hos", "[]", "[]"},
    {"", "[]", "[]"},
};

static void
test_list(void **state)
{
	struct confd_kvs kvs = {0};
	size_t i;
	char *s;

	fill(&kvs, tree, NITEMS(tree));
	for (i = 0; i < NITEMS(list_tests); i++) {
		s = list(&kvs, list_tests[i].path, false);
		if (strcmp(s, list_tests[i].ls) != 0)
			fail_msg("ls %s: %s, want %s", list_tests[i].path, s,
			    list_tests[i].ls);
		free(s);
		s = list(&kvs, list_tests[i].path, true);
		if (strcmp(s, list_tests[i].lsdir) != 0)
			fail_msg("lsdir %s: %s, want %s", list_tests[i].path, s,
			    list_tests[i].lsdir);
		free(s);
	}
	confd_kvs_clean(&kvs);
}

/* kelseyhightower/memkv's store_test.go */
static const char *const deis[] = {
    "/deis/database/user",
    "user",
    "/deis/database/pass",
    "pass",
    "/deis/services/key",
    "value",
    "/deis/services/notaservice/foo",
    "bar",
    "/deis/services/srv1/node1",
    "10.244.1.1:80",
    "/deis/services/srv1/node2",
    "10.244.1.2:80",
    "/deis/services/srv1/node3",
    "10.244.1.3:80",
    "/deis/services/srv2/node1",
    "10.244.2.1:80",
    "/deis/services/srv2/node2",
    "10.244.2.2:80",
    "/deis/prefix/node1",
    "prefix_node1",
    "/deis/prefix/node2/leafnode",
    "prefix_node2",
    "/deis/prefix/node3/leafnode",
    "prefix_node3",
    "/deis/prefix_a/node4",
    "prefix_a_node4",
    "/deis/prefixb/node5/leafnode",
    "prefixb_node5",
    "/deis/dirprefix/node1",
    "prefix_node1",
    "/deis/dirprefix/node2/leafnode",
    "prefix_node2",
    "/deis/dirprefix/node3/leafnode",
    "prefix_node3",
    "/deis/dirprefix_a/node4",
    "prefix_a_node4",
    "/deis/dirprefixb/node5/leafnode",
    "prefixb_node5",
};

static const char *const app[] = {
    "/app/db/pass",
    "foo",
    "/app/db/user",
    "admin",
    "/app/port",
    "443",
    "/app/url",
    "app.example.com",
    "/app/vhosts/host1",
    "app.example.com",
    "/app/upstream/host1",
    "203.0.113.0.1:8080",
    "/app/upstream/host1/domain",
    "app.example.com",
    "/app/upstream/host2",
    "203.0.113.0.2:8080",
    "/app/upstream/host2/domain",
    "app.example.com",
};

/* memkv's GetAll over the store: "key=value ..." or "ERR" */
static char *
getall(const struct confd_kvs *kvs, const char *pattern)
{
	char *s = calloc(1, 4096);
	size_t i;
	int m;

	for (i = 0; i < kvs->n; i++) {
		if ((m = confd_path_match(pattern, kvs->v[i].key)) == -1) {
			strcpy(s, "ERR");
			return s;
		}
		if (m == 0)
			continue;
		if (*s != '\0')
			strcat(s, " ");
		strcat(s, kvs->v[i].key);
		strcat(s, "=");
		strcat(s, kvs->v[i].value);
	}
	return s;
}

static void
test_memkv_vectors(void **state)
{
	struct confd_kvs kvs = {0};
	char *s;

	fill(&kvs, deis, NITEMS(deis));
	s = list(&kvs, "/deis/services", false);
	assert_string_equal(s, "[key notaservice srv1 srv2]");
	free(s);
	s = list(&kvs, "/deis/services/", false);
	assert_string_equal(s, "[key notaservice srv1 srv2]");
	free(s);
	s = list(&kvs, "/deis/prefix", false);
	assert_string_equal(s, "[node1 node2 node3]");
	free(s);
	s = list(&kvs, "/deis/prefix/", false);
	assert_string_equal(s, "[node1 node2 node3]");
	free(s);
	s = list(&kvs, "/deis/services/key", false);
	assert_string_equal(s, "[key]");
	free(s);
	s = list(&kvs, "/deis/services", true);
	assert_string_equal(s, "[notaservice srv1 srv2]");
	free(s);
	s = list(&kvs, "/deis/services/", true);
	assert_string_equal(s, "[notaservice srv1 srv2]");
	free(s);
	s = list(&kvs, "/deis/dirprefix", true);
	assert_string_equal(s, "[node2 node3]");
	free(s);
	s = list(&kvs, "/deis/dirprefix/", true);
	assert_string_equal(s, "[node2 node3]");
	free(s);
	confd_kvs_clean(&kvs);

	fill(&kvs, app, NITEMS(app));
	s = getall(&kvs, "/app/db/*");
	assert_string_equal(s, "/app/db/pass=foo /app/db/user=admin");
	free(s);
	s = getall(&kvs, "/app/*/host1");
	assert_string_equal(s,
	    "/app/upstream/host1=203.0.113.0.1:8080 "
	    "/app/vhosts/host1=app.example.com");
	free(s);
	s = getall(&kvs, "/app/upstream/*");
	assert_string_equal(s,
	    "/app/upstream/host1=203.0.113.0.1:8080 "
	    "/app/upstream/host2=203.0.113.0.2:8080");
	free(s);
	s = getall(&kvs, "[]a]");
	assert_string_equal(s, "ERR");
	free(s);
	s = getall(&kvs, "/app/missing/*");
	assert_string_equal(s, "");
	free(s);
	confd_kvs_clean(&kvs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clean),
	    cmocka_unit_test(test_join),
	    cmocka_unit_test(test_base_dir),
	    cmocka_unit_test(test_match),
	    cmocka_unit_test(test_store),
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_list),
	    cmocka_unit_test(test_memkv_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
