/*
 * confd/backend_file.c and the dispatcher (backend.c): the file backend's
 * parser on flat and nested YAML and JSON (scalars as written, sequences
 * indexed, nulls dropped, keys cleaned, aliases), its errors with exact
 * messages, and the backend itself on an event loop: the first callback
 * after start, a rewritten or replaced file seen within 100 ms, a bad file
 * keeping the last good keys, an unchanged one giving no callback; a file
 * created in place never read half written; its directory removed and
 * made again, watched again; 100,000 levels of nesting refused at once;
 * a FIFO refused, not waited on; a file rewritten between new and start
 * seen in the first callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "confd/backend_int.h"
#include "confd/confd.h"
#include "lib/xmalloc.h"

/* "k=v\n" per key, in order */
static char *
dump(const struct confd_kvs *kvs)
{
	char *s = xstrdup(""), *t;
	size_t i;

	for (i = 0; i < kvs->n; i++) {
		xasprintf(&t, "%s%s=%s\n", s, kvs->v[i].key, kvs->v[i].value);
		free(s);
		s = t;
	}
	return s;
}

static void
expect_keys(const char *name, const char *text, const char *want)
{
	struct confd_kvs kvs = {0};
	char err[CONFD_ERRLEN], *got;

	if (confd_file_parse(
	        text, strlen(text), name, &kvs, err, sizeof(err)) != 0)
		fail_msg("%s: %s", name, err);
	got = dump(&kvs);
	if (strcmp(got, want) != 0)
		fail_msg("%s\nwant:\n%s got:\n%s", text, want, got);
	free(got);
	confd_kvs_clean(&kvs);
}

static void
expect_error(const char *text, const char *want)
{
	struct confd_kvs kvs = {0};
	char err[CONFD_ERRLEN];

	if (confd_file_parse(
	        text, strlen(text), "kv.yaml", &kvs, err, sizeof(err)) == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(kvs.n, 0);
	if (strcmp(err, want) != 0)
		fail_msg("%s\nwant: %s\n got: %s", text, want, err);
	confd_kvs_clean(&kvs);
}

static void
test_flat(void **state)
{
	(void)state;
	expect_keys("flat.yaml",
	    "/calico/bgp/v1/global/as_num: \"64512\"\n"
	    "/calico/bgp/v1/global/node_mesh: '{\"enabled\": true}'\n"
	    "/calico/bgp/v1/host/node1/ip_addr_v4: 192.0.2.1\n"
	    "/calico/bgp/v1/host/node1/ip_addr_v6: \"\"\n"
	    "/calico/v1/ipam/v4/pool/198.18.0.0-16: >-\n"
	    "  {\"cidr\":\"198.18.0.0/16\",\n"
	    "  \"ipip\":\"tunl0\"}\n",
	    "/calico/bgp/v1/global/as_num=64512\n"
	    "/calico/bgp/v1/global/node_mesh={\"enabled\": true}\n"
	    "/calico/bgp/v1/host/node1/ip_addr_v4=192.0.2.1\n"
	    "/calico/bgp/v1/host/node1/ip_addr_v6=\n"
	    "/calico/v1/ipam/v4/pool/198.18.0.0-16="
	    "{\"cidr\":\"198.18.0.0/16\", \"ipip\":\"tunl0\"}\n");
	expect_keys("flat.json",
	    "{\"/calico/bgp/v1/global/as_num\": \"64512\",\n"
	    "\t\"/calico/bgp/v1/global/loglevel\": \"info\",\n"
	    "\t\"/calico/bgp/v1/host/node1/ip_addr_v4\": \"192.0.2.1\"}\n",
	    "/calico/bgp/v1/global/as_num=64512\n"
	    "/calico/bgp/v1/global/loglevel=info\n"
	    "/calico/bgp/v1/host/node1/ip_addr_v4=192.0.2.1\n");
}

static void
test_nested(void **state)
{
	(void)state;
	/* scalars keep their text: numbers and booleans as written */
	expect_keys("nested.yaml",
	    "calico:\n"
	    "  bgp:\n"
	    "    v1:\n"
	    "      global:\n"
	    "        as_num: 64512\n"
	    "        node_mesh: '{\"enabled\": true}'\n"
	    "        hex: 0x10\n"
	    "        ratio: 1.50\n"
	    "        on: yes\n"
	    "        flag: true\n"
	    "      host:\n"
	    "        node1: {ip_addr_v4: 192.0.2.1, as_num: 64513}\n"
	    "  /v1/Ready: true\n",
	    "/calico/bgp/v1/global/as_num=64512\n"
	    "/calico/bgp/v1/global/flag=true\n"
	    "/calico/bgp/v1/global/hex=0x10\n"
	    "/calico/bgp/v1/global/node_mesh={\"enabled\": true}\n"
	    "/calico/bgp/v1/global/on=yes\n"
	    "/calico/bgp/v1/global/ratio=1.50\n"
	    "/calico/bgp/v1/host/node1/as_num=64513\n"
	    "/calico/bgp/v1/host/node1/ip_addr_v4=192.0.2.1\n"
	    "/calico/v1/Ready=true\n");
	/* JSON: numbers as written, escapes decoded */
	expect_keys("nested.json",
	    "{\n"
	    "\t\"calico\": {\n"
	    "\t\t\"bgp\": {\"v1\": {\"global\": {\"as_num\": 64512,\n"
	    "\t\t\t\"big\": 1.50e3, \"neg\": -0.0, \"t\": false,\n"
	    "\t\t\t\"s\": \"a\\/b\\u00e9\\n\"}}}\n"
	    "\t}\n"
	    "}\n",
	    "/calico/bgp/v1/global/as_num=64512\n"
	    "/calico/bgp/v1/global/big=1.50e3\n"
	    "/calico/bgp/v1/global/neg=-0.0\n"
	    "/calico/bgp/v1/global/s=a/b\xc3\xa9\n\n"
	    "/calico/bgp/v1/global/t=false\n");
}

static void
test_sequences_nulls_paths(void **state)
{
	(void)state;
	/* sequences are indexed as confd's nodeWalk: /a/0, /a/1 */
	expect_keys("seq.yaml",
	    "peers:\n"
	    "  - 192.0.2.100\n"
	    "  - {ip: 192.0.2.101, as_num: \"64513\"}\n"
	    "  - [x, y]\n"
	    "list: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]\n",
	    "/list/0=1\n/list/1=2\n/list/10=11\n/list/2=3\n/list/3=4\n"
	    "/list/4=5\n/list/5=6\n/list/6=7\n/list/7=8\n/list/8=9\n"
	    "/list/9=10\n"
	    "/peers/0=192.0.2.100\n"
	    "/peers/1/as_num=64513\n"
	    "/peers/1/ip=192.0.2.101\n"
	    "/peers/2/0=x\n"
	    "/peers/2/1=y\n");
	/* nulls give no key, "" does; empty collections give nothing */
	expect_keys("null.yaml",
	    "a: ~\nb: null\nc:\nd: ''\ne: \"null\"\nf: {}\ng: []\n"
	    "h: NULL\ni: Null\n",
	    "/d=\n/e=null\n");
	/* keys are path.Clean'ed, as path.Join does in confd */
	expect_keys("paths.yaml",
	    "//a//b/: 1\n"
	    "a/x/../c: 2\n"
	    "../../up: 3\n"
	    "n: {/deep/: {./k: 4}}\n",
	    "/a/b=1\n/a/c=2\n/n/deep/k=4\n/up=3\n");
	/* an empty mapping is good: no keys */
	expect_keys("empty.yaml", "{}\n", "");
	/* aliases copy their anchor */
	expect_keys("alias.yaml",
	    "base: &b {x: 1, y: [2]}\n"
	    "copy: *b\n"
	    "v: &v 7\n"
	    "w: *v\n",
	    "/base/x=1\n/base/y/0=2\n/copy/x=1\n/copy/y/0=2\n/v=7\n/w=7\n");
}

static void
test_errors(void **state)
{
	(void)state;
	expect_error("", "kv.yaml: empty file, no keys");
	expect_error("# only a comment\n\n", "kv.yaml: empty file, no keys");
	expect_error("- a\n- b\n",
	    "kv.yaml:1:1: the top level is a sequence, not a mapping of keys");
	expect_error("\n  just text\n",
	    "kv.yaml:2:3: the top level is a scalar, not a mapping of keys");
	expect_error("a: 1\nb: [1, 2\n",
	    "kv.yaml:3:1: did not find expected ',' or ']' while parsing a "
	    "flow sequence");
	expect_error("a: 1\n b: 2\n",
	    "kv.yaml:2:3: mapping values are not allowed in this context");
	expect_error("{\"a\": 1,\n \"b\": 2\n \"c\": 3}\n",
	    "kv.yaml:3:5: did not find expected ',' or '}' while parsing a "
	    "flow mapping");
	expect_error("a: *nope\n", "kv.yaml:1:4: found undefined alias");
	expect_error("a: {b: 1}\nc: 2\n/a/b: 3\n",
	    "kv.yaml:3:7: duplicate key /a/b (first at line 1)");
	expect_error(
	    "a: 1\na: 2\n", "kv.yaml:2:4: duplicate key /a (first at line 1)");
	expect_error("a: 1\n---\nb: 2\n",
	    "kv.yaml:2:1: a second document: put every key in one");
	expect_error("? [a, b]\n: 1\n",
	    "kv.yaml:1:3: a key must be a scalar, not a collection");
	expect_error("a: \"\\q\"\n",
	    "kv.yaml:1:5: found unknown escape character while parsing a "
	    "quoted scalar");
}

static void
test_limits(void **state)
{
	char *text, *t;
	int i;

	(void)state;
	/* aliases of aliases: 10^9 values if expanded */
	text = xstrdup("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++) {
		xasprintf(&t,
		    "%sa%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, "
		    "*a%d, *a%d, *a%d]\n",
		    text, i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		    i - 1, i - 1, i - 1);
		free(text);
		text = t;
	}
	/* the mark is the anchored value's */
	expect_error(text, "kv.yaml:1:10: more than 100000 keys");
	free(text);
	/* 70 levels */
	text = xstrdup("x");
	for (i = 0; i < 70; i++) {
		xasprintf(&t, "{a: %s}", text);
		free(text);
		text = t;
	}
	expect_error(text, "kv.yaml:1:261: nested more than 64 levels deep");
	free(text);

	/*
	 * 100,000 levels: refused as soon as level 65 opens, not after
	 * libyaml built them all (quadratic: half a minute here)
	 */
	{
		struct timespec a, z;
		size_t n = 100000, len = 3 + 2 * n;

		t = xmalloc(len + 1);
		memcpy(t, "a: ", 3);
		memset(t + 3, '[', n);
		memset(t + 3 + n, ']', n);
		t[len] = '\0';
		clock_gettime(CLOCK_MONOTONIC, &a);
		expect_error(
		    t, "kv.yaml:1:68: nested more than 64 levels deep");
		clock_gettime(CLOCK_MONOTONIC, &z);
		assert_true(z.tv_sec - a.tv_sec < 3);
		free(t);
	}
}

static void
test_type(void **state)
{
	struct confd_backend_config cfg;
	struct confd_backend *b;
	char err[CONFD_ERRLEN];

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	cfg.type = "consul";
	assert_null(confd_backend_new(&cfg, err, sizeof(err)));
	assert_string_equal(
	    err, "unknown backend type \"consul\": use etcdv3, etcdv2 or file");
	cfg.type = "file";
	assert_null(confd_backend_new(&cfg, err, sizeof(err)));
	assert_string_equal(err, "file backend: no file (--file KV)");
	cfg.file = "/nonexistent/kv.yaml";
	assert_null(confd_backend_new(&cfg, err, sizeof(err)));
	assert_string_equal(
	    err, "/nonexistent/kv.yaml: No such file or directory");
	cfg.file = "/";
	assert_null(confd_backend_new(&cfg, err, sizeof(err)));
	assert_string_equal(err, "/: a directory, not a file");
	/* a FIFO nobody writes to: refused, not waited on for ever */
	{
		char dir[] = "/tmp/backend_file_test.XXXXXX", fifo[512];

		assert_non_null(mkdtemp(dir));
		snprintf(fifo, sizeof(fifo), "%s/kv.yaml", dir);
		assert_int_equal(mkfifo(fifo, 0600), 0);
		cfg.file = fifo;
		alarm(10); /* SIGALRM ends a test that would hang */
		assert_null(confd_backend_new(&cfg, err, sizeof(err)));
		alarm(0);
		assert_non_null(strstr(err, "kv.yaml: not a regular file"));
		assert_int_equal(unlink(fifo), 0);
		assert_int_equal(rmdir(dir), 0);
	}
	/* etcdv2 needs no etcd until it starts */
	cfg.type = "etcdv2";
	cfg.v2_prefix = "calico";
	assert_null(confd_backend_new(&cfg, err, sizeof(err)));
	assert_string_equal(err, "etcdv2 prefix \"calico\": must start with /");
	cfg.v2_prefix = NULL;
	cfg.etcd.endpoints = "http://127.0.0.1:9";
	b = confd_backend_new(&cfg, err, sizeof(err));
	assert_non_null(b);
	assert_string_equal(
	    confd_backend_describe(b), "etcdv2 http://127.0.0.1:9 /calico");
	assert_null(confd_backend_kvs(b));
	confd_backend_free(b);
}

/* ---- the backend on an event loop ---- */

struct watch {
	struct event_base *base;
	int calls;
	char *last; /* dump of the kvs at the last call */
};

static void
on_change(struct confd_backend *b, void *arg)
{
	struct watch *w = arg;

	w->calls++;
	free(w->last);
	w->last = dump(confd_backend_kvs(b));
	event_base_loopbreak(w->base);
}

static void
run_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/*
 * Runs the loop until a callback or ms pass; the milliseconds it took.  A
 * timer of its own, freed after: a loopexit left pending by a run that a
 * callback ended would end a later run early.
 */
static long
run(struct watch *w, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	struct event *t = evtimer_new(w->base, run_timeout, w->base);
	struct timespec a, z;

	clock_gettime(CLOCK_MONOTONIC, &a);
	evtimer_add(t, &tv);
	event_base_dispatch(w->base);
	clock_gettime(CLOCK_MONOTONIC, &z);
	event_free(t);
	return (z.tv_sec - a.tv_sec) * 1000 + (z.tv_nsec - a.tv_nsec) / 1000000;
}

static void
put(const char *dir, const char *path, const char *text, int replace)
{
	char tmp[512];
	FILE *f;

	if (replace) {
		snprintf(tmp, sizeof(tmp), "%s/.kv.tmp", dir);
		f = fopen(tmp, "w");
	} else
		f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	if (replace)
		assert_int_equal(rename(tmp, path), 0);
}

static void
test_watch(void **state)
{
	struct confd_backend_config cfg;
	struct confd_backend *b;
	struct watch w = {0};
	char dir[] = "/tmp/backend_file_test.XXXXXX", path[512], other[512];
	char err[CONFD_ERRLEN], desc[600];
	long ms;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kv.yaml", dir);
	snprintf(other, sizeof(other), "%s/other.yaml", dir);
	put(dir, path, "global: {as_num: 64512}\n", 0);
	w.base = event_base_new();
	memset(&cfg, 0, sizeof(cfg));
	cfg.type = "file";
	cfg.file = path;
	cfg.base = w.base;
	b = confd_backend_new(&cfg, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s", err);
	snprintf(desc, sizeof(desc), "file %s", path);
	assert_string_equal(confd_backend_describe(b), desc);
	confd_backend_set_callback(b, on_change, &w);
	assert_null(confd_backend_kvs(b));
	assert_int_equal(confd_backend_start(b, err, sizeof(err)), 0);
	assert_int_equal(w.calls, 0); /* from the loop, not from start */
	run(&w, 1000);
	assert_int_equal(w.calls, 1);
	assert_string_equal(w.last, "/global/as_num=64512\n");

	/* rewritten in place */
	put(dir, path, "global: {as_num: 64513}\n", 0);
	ms = run(&w, 2000);
	assert_int_equal(w.calls, 2);
	assert_string_equal(w.last, "/global/as_num=64513\n");
	assert_true(ms < 100);

	/* replaced by a rename, as editors and kubelet do */
	put(dir, path, "global: {as_num: 64514, loglevel: debug}\n", 1);
	ms = run(&w, 2000);
	assert_int_equal(w.calls, 3);
	assert_string_equal(
	    w.last, "/global/as_num=64514\n/global/loglevel=debug\n");
	assert_true(ms < 100);

	/* another file in the directory, the same content again: nothing */
	put(dir, other, "x: 1\n", 0);
	put(dir, path, "global: {as_num: 64514, loglevel: debug}\n", 0);
	run(&w, 300);
	assert_int_equal(w.calls, 3);

	/* a bad file, then a missing one: the last good keys stay */
	put(dir, path, "global: {as_num: [64515}\n", 0);
	run(&w, 300);
	assert_int_equal(w.calls, 3);
	assert_int_equal(unlink(path), 0);
	run(&w, 300);
	assert_int_equal(w.calls, 3);
	free(w.last);
	w.last = dump(confd_backend_kvs(b));
	assert_string_equal(
	    w.last, "/global/as_num=64514\n/global/loglevel=debug\n");

	/* back, good */
	put(dir, path, "global: {as_num: 64516}\nnodes: [a, b]\n", 1);
	ms = run(&w, 2000);
	assert_int_equal(w.calls, 4);
	assert_string_equal(
	    w.last, "/global/as_num=64516\n/nodes/0=a\n/nodes/1=b\n");
	assert_true(ms < 100);

	confd_backend_free(b);
	free(w.last);
	event_base_free(w.base);
	unlink(path);
	unlink(other);
	assert_int_equal(rmdir(dir), 0);
}

/*
 * A file created in place and written slowly (a redirect, cp of a large
 * file): nothing is read until the writer closes it, so no half tree is
 * ever passed on.  The directory removed and made again: watched again.
 */
static void
test_watch_create_and_dir(void **state)
{
	struct confd_backend_config cfg;
	struct confd_backend *b;
	struct watch w = {0};
	char dir[] = "/tmp/backend_file_test.XXXXXX", path[512];
	char err[CONFD_ERRLEN];
	FILE *fp;
	long ms;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/kv.yaml", dir);
	put(dir, path, "a: 1\n", 0);
	w.base = event_base_new();
	memset(&cfg, 0, sizeof(cfg));
	cfg.type = "file";
	cfg.file = path;
	cfg.base = w.base;
	b = confd_backend_new(&cfg, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s", err);
	/* rewritten between new and start, before any watch: still seen */
	put(dir, path, "a: 1\nz: 0\n", 1);
	confd_backend_set_callback(b, on_change, &w);
	assert_int_equal(confd_backend_start(b, err, sizeof(err)), 0);
	run(&w, 1000);
	assert_int_equal(w.calls, 1);
	assert_string_equal(w.last, "/a=1\n/z=0\n");
	run(&w, 300);
	assert_int_equal(w.calls, 1);

	/* created anew, its first half written, the writer still at it */
	assert_int_equal(unlink(path), 0);
	run(&w, 100);
	assert_int_equal(w.calls, 1);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("a: 2\n", fp);
	assert_int_equal(fflush(fp), 0);
	run(&w, 300);
	assert_int_equal(w.calls, 1); /* "a: 2" alone is no tree to render */
	fputs("b: 3\n", fp);
	assert_int_equal(fclose(fp), 0);
	ms = run(&w, 2000);
	assert_int_equal(w.calls, 2);
	assert_string_equal(w.last, "/a=2\n/b=3\n");
	assert_true(ms < 100);

	/* the directory goes away, keys kept; it comes back: watched again */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0);
	run(&w, 300);
	assert_int_equal(w.calls, 2);
	assert_int_equal(mkdir(dir, 0700), 0);
	put(dir, path, "a: 4\n", 1);
	run(&w, 3000);
	assert_int_equal(w.calls, 3);
	assert_string_equal(w.last, "/a=4\n");
	/* and changes after that are seen at once */
	put(dir, path, "a: 5\n", 1);
	ms = run(&w, 2000);
	assert_int_equal(w.calls, 4);
	assert_string_equal(w.last, "/a=5\n");
	assert_true(ms < 100);

	confd_backend_free(b);
	free(w.last);
	event_base_free(w.base);
	unlink(path);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_flat),
	    cmocka_unit_test(test_nested),
	    cmocka_unit_test(test_sequences_nulls_paths),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_type),
	    cmocka_unit_test(test_watch),
	    cmocka_unit_test(test_watch_create_and_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
