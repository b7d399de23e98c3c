/*
 * store/yamljson.c: YAML 1.1 scalar typing as calicoctl's Go YAML library
 * does it, several documents per file with their numbers and lines, the
 * line of every field by path, aliases within limits, the errors (with
 * FILE:LINE: document N), the alias budgets in values and in bytes (per
 * file), jansson's allocator, and the emitter: exact output for a resource,
 * quotes for strings other YAML 1.1 readers would type (timestamps,
 * sexagesimal, .inf), and emit -> parse giving back an equal value for
 * awkward strings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "lib/xmalloc.h"
#include "store/store.h"
#include "store/yamljson.h"

static struct yamljson *
parse(const char *text)
{
	char err[512];
	struct yamljson *yj;

	yj = yamljson_parse(text, strlen(text), "t.yaml", err, sizeof(err));
	if (yj == NULL)
		fail_msg("%s", err);
	return yj;
}

static void
expect_error(const char *text, const char *want)
{
	char err[512];
	struct yamljson *yj;

	yj = yamljson_parse(text, strlen(text), "t.yaml", err, sizeof(err));
	if (yj != NULL)
		fail_msg("accepted: %s", text);
	if (strcmp(err, want) != 0)
		fail_msg("%s\nwant: %s\n got: %s", text, want, err);
}

static void
test_resolve(void **state)
{
	static const struct {
		const char *plain;
		const char *json; /* the value, as JSON */
	} cases[] = {
	    {"", "null"},
	    {"~", "null"},
	    {"null", "null"},
	    {"Null", "null"},
	    {"NULL", "null"},
	    {"nULL", "\"nULL\""},
	    {"true", "true"},
	    {"True", "true"},
	    {"TRUE", "true"},
	    {"yes", "true"},
	    {"On", "true"},
	    {"false", "false"},
	    {"no", "false"},
	    {"OFF", "false"},
	    {"y", "\"y\""},
	    {"n", "\"n\""},
	    {"0", "0"},
	    {"123", "123"},
	    {"-7", "-7"},
	    {"+7", "7"},
	    {"0x1F", "31"},
	    {"0o17", "15"},
	    {"017", "15"}, /* YAML 1.1 octal */
	    {"09", "9.0"}, /* not octal: Go's ParseFloat takes it */
	    {"1.5", "1.5"},
	    {".5", "0.5"},
	    {"-1.5e3", "-1500.0"},
	    {"1e3", "1000.0"},
	    {"1.10", "1.1"}, /* why asdot AS numbers need quotes */
	    {"9223372036854775807", "9223372036854775807"},
	    {"-9223372036854775808", "-9223372036854775808"},
	    {"9223372036854775808", "9.2233720368547758e+18"},
	    {"0x", "\"0x\""},
	    {"0xfffffffffffffffff", "\"0xfffffffffffffffff\""},
	    {"1e", "\"1e\""},
	    {"1e999", "\"1e999\""},
	    {".inf", "\".inf\""},
	    {"1_000", "\"1_000\""},
	    {"-", "\"-\""},
	    {".", "\".\""},
	    {"all()", "\"all()\""},
	    {"192.0.2.1", "\"192.0.2.1\""},
	    {"198.18.0.0/16", "\"198.18.0.0/16\""},
	    {"2001:db8::1", "\"2001:db8::1\""},
	    {"k8s,bgp", "\"k8s,bgp\""},
	};
	json_error_t e;
	json_t *got, *want;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = yamljson_resolve(cases[i].plain);
		want = json_loads(cases[i].json, JSON_DECODE_ANY, &e);
		assert_non_null(want);
		if (!json_equal(got, want)) {
			char *s = json_dumps(got, JSON_ENCODE_ANY);
			fail_msg("\"%s\": want %s, got %s", cases[i].plain,
			    cases[i].json, s);
		}
		json_decref(got);
		json_decref(want);
	}
}

static void
test_documents(void **state)
{
	const char *text = "# leading comment\n"
	                   "a: 1\n"
	                   "b:\n"
	                   "  - x\n"
	                   "  - c: 'true'\n"
	                   "    d: \"12\"\n"
	                   "    e: |\n"
	                   "      literal\n"
	                   "---\n"
	                   "---\n"
	                   "# only a comment\n"
	                   "...\n"
	                   "--- [1, 2]\n"
	                   "---\n"
	                   "k: ~\n"
	                   "e: \"\"\n";
	struct yamljson *yj = parse(text);
	const struct yamljson_doc *d;
	json_t *want;
	json_error_t e;

	assert_string_equal(yj->name, "t.yaml");
	/* documents 2 and 3 are empty and dropped; numbering keeps them */
	assert_int_equal(yj->ndocs, 3);
	d = &yj->docs[0];
	assert_int_equal(d->index, 1);
	assert_int_equal(d->line, 2);
	want = json_loads("{\"a\":1,\"b\":[\"x\",{\"c\":\"true\",\"d\":\"12\","
	                  "\"e\":\"literal\\n\"}]}",
	    0, &e);
	assert_true(json_equal(d->value, want));
	json_decref(want);
	assert_int_equal(yamljson_line(d, "a"), 2);
	assert_int_equal(yamljson_line(d, "b"), 3);
	assert_int_equal(yamljson_line(d, "b[0]"), 4);
	assert_int_equal(yamljson_line(d, "b[1]"), 5);
	assert_int_equal(yamljson_line(d, "b[1].c"), 5);
	assert_int_equal(yamljson_line(d, "b[1].d"), 6);
	assert_int_equal(yamljson_line(d, "b[1].e"), 7);
	/* missing paths fall back to the nearest ancestor */
	assert_int_equal(yamljson_line(d, "b[1].zz.y"), 5);
	assert_int_equal(yamljson_line(d, "b[7]"), 3);
	assert_int_equal(yamljson_line(d, "nope"), 2);
	assert_int_equal(yamljson_line(d, ""), 2);

	d = &yj->docs[1];
	assert_int_equal(d->index, 4);
	assert_int_equal(d->line, 13);
	assert_int_equal(json_array_size(d->value), 2);
	assert_int_equal(yamljson_line(d, "[1]"), 13);

	d = &yj->docs[2];
	assert_int_equal(d->index, 5);
	assert_true(json_is_null(json_object_get(d->value, "k")));
	assert_string_equal(
	    json_string_value(json_object_get(d->value, "e")), "");
	assert_int_equal(d->line, 14);
	assert_int_equal(yamljson_line(d, "e"), 16);
	yamljson_free(yj);

	yj = parse("");
	assert_int_equal(yj->ndocs, 0);
	yamljson_free(yj);
}

/* JSON is YAML: what jq and kubectl print parses with its lines */
static void
test_json_input(void **state)
{
	const char *text = "{\n"
	                   "\t\"kind\": \"IPPool\",\n"
	                   "\t\"spec\": {\n"
	                   "\t\t\"cidr\":\"198.18.0.0/16\",\n"
	                   "\t\t\"blockSize\": 26, \"x\": [true, null, 1.5, "
	                   "\"a\\/b\\u00e9\"]\n"
	                   "\t}\n"
	                   "}\n";
	struct yamljson *yj = parse(text);
	json_t *want;
	json_error_t e;

	assert_int_equal(yj->ndocs, 1);
	want = json_loads(text, 0, &e);
	assert_non_null(want);
	assert_true(json_equal(yj->docs[0].value, want));
	assert_int_equal(yamljson_line(&yj->docs[0], "spec.cidr"), 4);
	assert_int_equal(yamljson_line(&yj->docs[0], "spec.x[3]"), 5);
	json_decref(want);
	yamljson_free(yj);
}

static void
test_aliases(void **state)
{
	struct yamljson *yj;
	json_t *v;

	yj = parse("base: &b {x: 1, y: [a, b]}\n"
	           "copy: *b\n"
	           "s: &s text\n"
	           "t: *s\n");
	v = yj->docs[0].value;
	assert_true(
	    json_equal(json_object_get(v, "base"), json_object_get(v, "copy")));
	assert_string_equal(json_string_value(json_object_get(v, "t")), "text");
	assert_int_equal(yamljson_line(&yj->docs[0], "copy"), 2);
	yamljson_free(yj);

	/* an anchored key is a string value too */
	yj = parse("&k key: 1\nother: *k\n");
	assert_string_equal(
	    json_string_value(json_object_get(yj->docs[0].value, "other")),
	    "key");
	yamljson_free(yj);

	/* anchors belong to their document */
	expect_error("a: &x 1\n---\nb: *x\n",
	    "t.yaml:3: document 2: undefined alias \"x\"");
	/* a collection cannot contain itself */
	expect_error(
	    "a: &x [1, *x]\n", "t.yaml:1: document 1: undefined alias \"x\"");
	expect_error("a: &x 1\n*x : 2\n",
	    "t.yaml:2: document 1: an alias cannot be a mapping key");
}

static void
test_anchor_limit(void **state)
{
	char *text, *p;
	int i;

	text = malloc(300 * 16);
	p = text;
	for (i = 0; i < 257; i++)
		p += sprintf(p, "k%d: &a%d %d\n", i, i, i);
	expect_error(text, "t.yaml:257: document 1: more than 256 anchors");
	free(text);
}

/* a billion laughs stops at the alias budget */
static void
test_alias_budget(void **state)
{
	char *text, *p;
	int i;

	text = malloc(4096);
	p = text;
	p += sprintf(p, "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (i = 1; i < 10; i++)
		p += sprintf(p,
		    "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
		    "*l%d, *l%d, *l%d]\n",
		    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		    i - 1, i - 1, i - 1);
	expect_error(text,
	    "t.yaml:5: document 1: aliases expand to more than 100000 values");
	free(text);
}

/* the value budget is the file's, not each document's */
static void
test_alias_budget_file(void **state)
{
	char *text, *p;
	int d, i;

	/* each document copies 12330 values: fine alone, not 9 times */
	text = malloc(10 * 4096);
	p = text;
	for (d = 0; d < 10; d++) {
		p +=
		    sprintf(p, "---\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
		for (i = 1; i < 4; i++)
			p += sprintf(p,
			    "l%d: &l%d [*l%d, *l%d, *l%d, *l%d, *l%d, *l%d, "
			    "*l%d, *l%d, *l%d, *l%d]\n",
			    i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
			    i - 1, i - 1, i - 1, i - 1);
	}
	/* 8 documents copy 98640; the 9th starts on line 41, its l3 (line
	 * 45) goes over */
	expect_error(text,
	    "t.yaml:45: document 9: aliases expand to more than 100000 "
	    "values");
	free(text);
}

/* a string of n 'x' at p; returns the end */
static char *
fill(char *p, size_t n)
{
	memset(p, 'x', n);
	return p + n;
}

/*
 * The byte budget: one 1 MiB anchored string aliased 2,000 times once
 * made 2 GB.  The budget is 8 times the input (at least 1 MiB, at most
 * 16 MiB), counting strings and keys, across documents.
 */
static void
test_alias_bytes(void **state)
{
	const size_t big = 1024 * 1024;
	char want[256], *text, *p;
	struct yamljson *yj;
	size_t len, max;
	int i;

	/* a: &big <1 MiB>, then b: a list of 2,000 aliases, one a line */
	text = malloc(big + 2000 * 16 + 64);
	p = text;
	p += sprintf(p, "a: &big ");
	p = fill(p, big);
	p += sprintf(p, "\nb:\n");
	for (i = 0; i < 2000; i++)
		p += sprintf(p, "- *big\n");
	*p = '\0';
	len = p - text;
	max = len * YAMLJSON_EXPAND_FACTOR;
	/* 8 copies fit in 8 times the input; the 9th, on line 11, does not */
	snprintf(want, sizeof(want),
	    "t.yaml:11: document 1: aliases expand to more than %zu bytes "
	    "(anchor \"big\" holds %zu)",
	    max, big);
	expect_error(text, want);

	/* fewer aliases than that are fine, and copy the whole string */
	p = text + strlen("a: &big ") + big + strlen("\nb:\n");
	for (i = 0; i < 8; i++)
		p += sprintf(p, "- *big\n");
	yj = parse(text);
	assert_int_equal(
	    json_array_size(json_object_get(yj->docs[0].value, "b")), 8);
	assert_int_equal(json_string_length(json_array_get(
	                     json_object_get(yj->docs[0].value, "b"), 7)),
	    big);
	yamljson_free(yj);
	free(text);

	/* keys count: a mapping of 100 keys of 1000 bytes is 100,000 bytes,
	 * and a short file may copy 1 MiB: 10 aliases, not 11 */
	text = malloc(200 * 1024);
	p = text;
	p += sprintf(p, "m: &m\n");
	for (i = 0; i < 100; i++) {
		p += sprintf(p, "  k%03d", i);
		p = fill(p, 996);
		p += sprintf(p, ": 1\n");
	}
	for (i = 0; i < 11; i++)
		p += sprintf(p, "c%d: *m\n", i);
	*p = '\0';
	assert_true((size_t)(p - text) * YAMLJSON_EXPAND_FACTOR <
	    YAMLJSON_MIN_EXPANDED);
	snprintf(want, sizeof(want),
	    "t.yaml:112: document 1: aliases expand to more than %d bytes "
	    "(anchor \"m\" holds 100000)",
	    YAMLJSON_MIN_EXPANDED);
	expect_error(text, want);
	free(text);

	/* the budget is the file's: 2 documents, each 100 KiB aliased 9
	 * times, is 1.8 MiB from 200 KiB; each alone fits in 1.6 MiB */
	text = malloc(4 * big);
	p = text;
	for (i = 0; i < 2; i++) {
		p += sprintf(p, "---\na: &s ");
		p = fill(p, 100 * 1024);
		p += sprintf(p, "\nb: [*s, *s, *s, *s, *s, *s, *s, *s, *s]\n");
	}
	*p = '\0';
	len = p - text;
	max = len * YAMLJSON_EXPAND_FACTOR;
	assert_true(max > 9 * 100 * 1024 && max < 18 * 100 * 1024);
	snprintf(want, sizeof(want),
	    "t.yaml:6: document 2: aliases expand to more than %zu bytes "
	    "(anchor \"s\" holds %d)",
	    max, 100 * 1024);
	expect_error(text, want);
	free(text);

	/* never more than 16 MiB: a 4 MiB string, 5 aliases */
	text = malloc(4 * big + 256);
	p = text;
	p += sprintf(p, "a: &s ");
	p = fill(p, 4 * big);
	p += sprintf(p, "\nb: [*s, *s, *s, *s,\n  *s]\n");
	*p = '\0';
	snprintf(want, sizeof(want),
	    "t.yaml:3: document 1: aliases expand to more than %d bytes "
	    "(anchor \"s\" holds %zu)",
	    YAMLJSON_MAX_EXPANDED, 4 * big);
	expect_error(text, want);
	free(text);
}

/*
 * store_init: jansson allocates with xmalloc, so running out of memory in
 * jansson is fatal (exit 1) rather than a NULL nobody checks.
 */
static void
test_store_init(void **state)
{
	json_malloc_t m = NULL;
	json_free_t f = NULL;
	const char c = 'x';
	json_t *j;
	pid_t pid;
	int status;

	store_init();
	json_get_alloc_funcs(&m, &f);
	assert_ptr_equal(m, xmalloc);
	assert_ptr_equal(f, free);
	j = json_pack("{s:[i,s]}", "a", 1, "b");
	assert_non_null(j);
	json_decref(j);
#if defined(__SANITIZE_ADDRESS__)
	return; /* ASan aborts on an impossible malloc by itself */
#endif
	/* a string of SIZE_MAX - 1 bytes: malloc(SIZE_MAX) fails */
	fflush(NULL);
	if ((pid = fork()) == 0) {
		j = json_stringn_nocheck(&c, SIZE_MAX - 1);
		_exit(j == NULL ? 3 : 4);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 1);
}

static void
test_depth(void **state)
{
	char text[512];
	struct yamljson *yj;
	int i;

	for (i = 0; i < YAMLJSON_MAX_DEPTH; i++)
		text[i] = '[';
	for (i = 0; i < YAMLJSON_MAX_DEPTH; i++)
		text[YAMLJSON_MAX_DEPTH + i] = ']';
	text[2 * YAMLJSON_MAX_DEPTH] = '\0';
	yj = parse(text);
	yamljson_free(yj);

	text[0] = '[';
	for (i = 0; i <= YAMLJSON_MAX_DEPTH; i++)
		text[i] = '[';
	for (i = 0; i <= YAMLJSON_MAX_DEPTH; i++)
		text[YAMLJSON_MAX_DEPTH + 1 + i] = ']';
	text[2 * YAMLJSON_MAX_DEPTH + 2] = '\0';
	expect_error(
	    text, "t.yaml:1: document 1: nested deeper than 64 levels");

	/* an alias may not take a value past the limit either */
	snprintf(text, sizeof(text), "a: &a [[[[1]]]]\nb: ");
	for (i = 0; i < YAMLJSON_MAX_DEPTH - 4; i++)
		strcat(text, "[");
	strcat(text, "*a");
	for (i = 0; i < YAMLJSON_MAX_DEPTH - 4; i++)
		strcat(text, "]");
	strcat(text, "\n");
	expect_error(
	    text, "t.yaml:2: document 1: nested deeper than 64 levels");
}

static void
test_errors(void **state)
{
	char err[256];
	const char nul[] = "a: \"x\\0y\"\n";
	const char bad_utf8[] = "a: \xff\xfe\n";

	expect_error(
	    "a: 1\nb: 2\na: 3\n", "t.yaml:3: document 1: duplicate key \"a\"");
	expect_error("ok: 1\n---\nspec:\n  a: 1\n b: 2\n",
	    "t.yaml:5: document 2: did not find expected key (while parsing a "
	    "block mapping)");
	expect_error("a: [1, 2\n",
	    "t.yaml:2: document 1: did not find expected ',' or ']' (while "
	    "parsing a flow sequence)");
	expect_error("? [a, b]\n: c\n",
	    "t.yaml:1: document 1: a mapping key must be a scalar");
	expect_error("a:\n\t- b\n",
	    "t.yaml:2: document 1: found character that cannot start any "
	    "token (while scanning for the next token)");
	expect_error(nul,
	    "t.yaml:1: document 1: NUL characters are not "
	    "supported");
	assert_null(yamljson_parse(
	    bad_utf8, sizeof(bad_utf8) - 1, "u.yaml", err, sizeof(err)));
	assert_string_equal(
	    err, "u.yaml:1: document 1: invalid leading UTF-8 octet at byte 3");
}

static void
test_emit(void **state)
{
	const char *in =
	    "{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
	    "\"metadata\":{\"name\":\"pool-a\",\"resourceVersion\":\"123\","
	    "\"labels\":{}},"
	    "\"spec\":{\"cidr\":\"198.18.0.0/16\",\"ipipMode\":\"Always\","
	    "\"natOutgoing\":true,\"blockSize\":26,\"nodeSelector\":\"all()\","
	    "\"allowedUses\":[\"Workload\",\"Tunnel\"],\"x\":[],\"y\":null,"
	    "\"z\":1.5}}";
	const char *want = "apiVersion: projectcalico.org/v3\n"
	                   "kind: IPPool\n"
	                   "metadata:\n"
	                   "  labels: {}\n"
	                   "  name: pool-a\n"
	                   "  resourceVersion: \"123\"\n"
	                   "spec:\n"
	                   "  allowedUses:\n"
	                   "  - Workload\n"
	                   "  - Tunnel\n"
	                   "  blockSize: 26\n"
	                   "  cidr: 198.18.0.0/16\n"
	                   "  ipipMode: Always\n"
	                   "  natOutgoing: true\n"
	                   "  nodeSelector: all()\n"
	                   "  x: []\n"
	                   "  \"y\": null\n" /* go-yaml: y is true */
	                   "  z: 1.5\n";
	json_error_t e;
	json_t *v;
	char *out;

	v = json_loads(in, 0, &e);
	assert_non_null(v);
	out = yamljson_emit(v, YAMLJSON_SORT_KEYS);
	assert_string_equal(out, want);
	free(out);
	/* without sorting, the object's own order */
	out = yamljson_emit(v, 0);
	assert_int_equal(strncmp(out, "kind: IPPool\napiVersion:", 24), 0);
	free(out);
	json_decref(v);
}

/*
 * Strings another YAML 1.1 reader would type, which this parser reads as
 * strings, are quoted all the same: timestamps and dates (PyYAML's and
 * go-yaml's), sexagesimal numbers, numbers with '_', 0b binary, .inf,
 * .nan, go-yaml's y/n booleans, merge and value keys.  Look-alikes no
 * reader types stay plain: addresses, versions, 12:60.
 */
static void
test_emit_yaml11(void **state)
{
	static const struct {
		const char *s;
		const char *yaml; /* as emitted in a list */
	} cases[] = {
	    {"2026-11-26T05:00:00Z", "\"2026-11-26T05:00:00Z\""},
	    {"2026-11-26", "\"2026-11-26\""},
	    {"2026-11-26 05:00:00", "\"2026-11-26 05:00:00\""},
	    {"2026-11-26t05:00:00.5 +01:00",
	        "\"2026-11-26t05:00:00.5 +01:00\""},
	    {"2026-1-2", "\"2026-1-2\""}, /* go-yaml's one-digit fields */
	    {"2026-1-2T3:4:5+01:00", "\"2026-1-2T3:4:5+01:00\""},
	    {"1:20", "\"1:20\""}, /* sexagesimal: 80 */
	    {"-1:30", "\"-1:30\""},
	    {"190:20:30.15", "\"190:20:30.15\""},
	    {"1_000", "\"1_000\""},
	    {"1_", "\"1_\""}, /* go-yaml drops every '_' */
	    {"1_0.5", "\"1_0.5\""},
	    {"0b101", "\"0b101\""},
	    {"-0b1", "\"-0b1\""},
	    {"0x_", "\"0x_\""},
	    {"0O17", "\"0O17\""},
	    {"0x1p3", "\"0x1p3\""},
	    {".inf", "\".inf\""},
	    {"-.Inf", "\"-.Inf\""},
	    {"+.INF", "\"+.INF\""},
	    {".nan", "\".nan\""},
	    {".NaN", "\".NaN\""},
	    {"+inf", "\"+inf\""},
	    {"-Infinity", "\"-Infinity\""},
	    {"y", "\"y\""},
	    {"Y", "\"Y\""},
	    {"n", "\"n\""},
	    {"N", "\"N\""},
	    {"<<", "\"<<\""},
	    {"=", "\"=\""},
	    /* and as before: what this parser types */
	    {"yes", "\"yes\""},
	    {"Off", "\"Off\""},
	    {"~", "\"~\""},
	    {"017", "\"017\""},
	    {"1e3", "\"1e3\""},
	    /* not typed by any reader: plain */
	    {"192.0.2.1", "192.0.2.1"},
	    {"2001:db8::1", "2001:db8::1"},
	    {"198.18.0.0/16", "198.18.0.0/16"},
	    {"1.2.3", "1.2.3"},
	    {"12:60", "12:60"},
	    {"._5", "._5"},
	    {"0b", "0b"},
	    {"2026-11-26x", "2026-11-26x"},
	    {"v2.6.6", "v2.6.6"},
	    {"yes_", "yes_"},
	    {"nan", "nan"},
	    {"inf", "inf"},
	};
	char err[256], *text, want[4096];
	struct yamljson *yj;
	json_t *v;
	size_t i, off = 0;

	v = json_array();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_array_append_new(v, json_string(cases[i].s));
		off += snprintf(
		    want + off, sizeof(want) - off, "- %s\n", cases[i].yaml);
		assert_true(off < sizeof(want));
	}
	text = yamljson_emit(v, 0);
	assert_string_equal(text, want);
	yj = yamljson_parse(text, strlen(text), "t11", err, sizeof(err));
	if (yj == NULL)
		fail_msg("%s\n%s", err, text);
	assert_int_equal(yj->ndocs, 1);
	assert_true(json_equal(v, yj->docs[0].value));
	yamljson_free(yj);
	free(text);
	json_decref(v);

	/* a resource's timestamp, and a key that go-yaml would make a bool */
	v = json_pack("{s:{s:s,s:s},s:{s:s}}", "metadata", "name", "node1",
	    "creationTimestamp", "2026-11-26T05:00:00Z", "spec", "n", "1:20");
	assert_non_null(v);
	text = yamljson_emit(v, YAMLJSON_SORT_KEYS);
	assert_string_equal(text,
	    "metadata:\n"
	    "  creationTimestamp: \"2026-11-26T05:00:00Z\"\n"
	    "  name: node1\n"
	    "spec:\n"
	    "  \"n\": \"1:20\"\n");
	yj = yamljson_parse(text, strlen(text), "t11", err, sizeof(err));
	assert_non_null(yj);
	assert_true(json_equal(v, yj->docs[0].value));
	yamljson_free(yj);
	free(text);
	json_decref(v);
}

/* strings that would read back as something else come back as strings */
static void
test_emit_roundtrip(void **state)
{
	static const char *const strings[] = {"", "true", "yes", "No", "123",
	    "0x1f", "1.10", "1e3", "null", "~", "a: b", "- x", "#c", "c #d",
	    " lead", "trail ", "multi\nline", "two\n\nbreaks\n", "ünïcødé",
	    "x\ty", "'q'", "\"dq\"", "@x", "`x", "%x", "!x", "&x", "*x", "? x",
	    "{x}", "[x]", ",", "a,b", "http://x:80/p?q#f", "k8s,bgp", "all()",
	    "has(a) && b in {'c'}", "---", "...", "=", "<<", "\\", "\x01", "y",
	    "n", "a\\nb"};
	char err[256], *text;
	struct yamljson *yj;
	json_t *v, *item;
	size_t i;

	v = json_object();
	item = json_array();
	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		json_array_append_new(item, json_string(strings[i]));
		/* and as keys */
		json_object_set_new(v, strings[i], json_string(strings[i]));
	}
	json_object_set_new(v, "list", item);
	json_object_set_new(v, "int", json_integer(-42));
	json_object_set_new(v, "big", json_integer(9007199254740993LL));
	json_object_set_new(v, "real", json_real(0.1));
	json_object_set_new(v, "realint", json_real(3.0));
	json_object_set_new(v, "tiny", json_real(1e-300));
	text = yamljson_emit(v, 0);
	yj = yamljson_parse(text, strlen(text), "rt", err, sizeof(err));
	if (yj == NULL)
		fail_msg("%s\n%s", err, text);
	assert_int_equal(yj->ndocs, 1);
	if (!json_equal(v, yj->docs[0].value))
		fail_msg("not equal after a round trip:\n%s", text);
	yamljson_free(yj);
	free(text);
	json_decref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resolve),
	    cmocka_unit_test(test_documents),
	    cmocka_unit_test(test_json_input),
	    cmocka_unit_test(test_aliases),
	    cmocka_unit_test(test_alias_budget),
	    cmocka_unit_test(test_alias_budget_file),
	    cmocka_unit_test(test_alias_bytes),
	    cmocka_unit_test(test_store_init),
	    cmocka_unit_test(test_anchor_limit),
	    cmocka_unit_test(test_depth),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_emit),
	    cmocka_unit_test(test_emit_roundtrip),
	    cmocka_unit_test(test_emit_yaml11),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
