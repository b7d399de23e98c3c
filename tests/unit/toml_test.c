/*
 * confd/toml.c: the TOML subset of conf.d files.  Every kind of value with
 * its exact bytes (escapes, multi-line strings and their trimming,
 * integers in every base and at the int64 limits), tables and where each
 * entry sits, what is parsed and dropped (dates, inline tables), and the
 * exact "FILE:LINE: message" of each error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confd/toml.h"

static void
parse_ok(const char *text, struct toml_doc *doc)
{
	char err[256];

	if (toml_parse(text, strlen(text), "t.toml", doc, err, sizeof(err)) ==
	    -1)
		fail_msg("refused: %s\n%s", err, text);
}

static void
expect_error(const char *text, size_t len, const char *want)
{
	struct toml_doc doc;
	char err[256];

	if (toml_parse(text, len, "t.toml", &doc, err, sizeof(err)) == 0) {
		toml_doc_clean(&doc);
		fail_msg("accepted: %s", text);
	}
	if (strcmp(err, want) != 0)
		fail_msg("%s\nwant: %s\n got: %s", text, want, err);
	assert_null(doc.entries);
	assert_int_equal(doc.nentries, 0);
}

static const struct toml_entry *
find(const struct toml_doc *doc, const char *table, const char *key)
{
	size_t i;

	for (i = 0; i < doc->nentries; i++)
		if (strcmp(doc->tables[doc->entries[i].table].name, table) ==
		        0 &&
		    strcmp(doc->entries[i].key, key) == 0)
			return &doc->entries[i];
	fail_msg("no [%s] %s", table, key);
	return NULL;
}

static void
assert_str(const struct toml_value *v, const char *want, size_t len)
{
	assert_int_equal(v->type, TOML_STRING);
	assert_int_equal(v->len, len);
	assert_memory_equal(v->s, want, len);
	assert_int_equal(v->s[len], '\0');
}

static void
test_calico_resource(void **state)
{
	static const char text[] =
	    "# Calico's bird.toml\n"
	    "[template]\n"
	    "src = \"bird.cfg.template\"\n"
	    "dest = \"/etc/calico/confd/config/bird.cfg\"\n"
	    "prefix = \"/calico/bgp/v1\"\n"
	    "keys = [\n"
	    "    \"/host\",\n"
	    "    \"/global\", # the global settings\n"
	    "]\n"
	    "check_cmd = \"bird -p -c {{.src}}\"\n"
	    "reload_cmd = \"sv hup bird || true\"\n"
	    "mode = \"0644\"\n"
	    "uid = 0\n"
	    "gid = 0\n";
	struct toml_doc doc;
	const struct toml_entry *e;

	parse_ok(text, &doc);
	assert_int_equal(doc.ntables, 2);
	assert_string_equal(doc.tables[0].name, "");
	assert_string_equal(doc.tables[1].name, "template");
	assert_int_equal(doc.tables[1].line, 2);
	assert_false(doc.tables[1].array);
	assert_int_equal(doc.nentries, 9);
	e = find(&doc, "template", "src");
	assert_int_equal(e->line, 3);
	assert_int_equal(e->table, 1);
	assert_str(&e->v, "bird.cfg.template", 17);
	e = find(&doc, "template", "keys");
	assert_int_equal(e->line, 6);
	assert_int_equal(e->v.type, TOML_ARRAY);
	assert_int_equal(e->v.n, 2);
	assert_str(&e->v.items[0], "/host", 5);
	assert_int_equal(e->v.items[0].line, 7);
	assert_str(&e->v.items[1], "/global", 7);
	assert_int_equal(e->v.items[1].line, 8);
	e = find(&doc, "template", "check_cmd");
	assert_str(&e->v, "bird -p -c {{.src}}", 19);
	e = find(&doc, "template", "uid");
	assert_int_equal(e->v.type, TOML_INT);
	assert_int_equal(e->v.i, 0);
	assert_int_equal(e->line, 13);
	toml_doc_clean(&doc);
	assert_null(doc.tables);
}

static void
test_strings(void **state)
{
	static const char text[] =
	    "esc = \"a\\tb\\n\\\"q\\\" \\\\ \\b\\f\\r\\u00e9\\U0001F600\"\n"
	    "nul = \"x\\u0000y\"\n"
	    "lit = 'C:\\path\\{{.src}}'\n"
	    "empty = \"\"\n"
	    "ml = \"\"\"\n"
	    "line one\n"
	    "  line \\\n"
	    "     two\\\n"
	    "\n"
	    "   three\"\"\"\n"
	    "mlq = \"\"\"x\"\"y\"\"\"\"\"\n"
	    "mll = '''\n"
	    "raw \\n 'q'\n"
	    "end'''\n"
	    "crlf = \"\"\"a\r\nb\"\"\"\r\n"
	    "\"quoted key\" = 1\n"
	    "'lit.key' = 2\n"
	    "dotted . key = 3\n"
	    "tab = \"a\tb\"\n";
	struct toml_doc doc;

	parse_ok(text, &doc);
	assert_str(&find(&doc, "", "esc")->v,
	    "a\tb\n\"q\" \\ \b\f\r\xc3\xa9\xf0\x9f\x98\x80", 19);
	assert_str(&find(&doc, "", "nul")->v, "x\0y", 3);
	assert_str(&find(&doc, "", "lit")->v, "C:\\path\\{{.src}}", 16);
	assert_str(&find(&doc, "", "empty")->v, "", 0);
	assert_str(&find(&doc, "", "ml")->v, "line one\n  line twothree", 24);
	assert_int_equal(find(&doc, "", "ml")->line, 5);
	assert_str(&find(&doc, "", "mlq")->v, "x\"\"y\"\"", 6);
	assert_int_equal(find(&doc, "", "mlq")->line, 11);
	assert_str(&find(&doc, "", "mll")->v, "raw \\n 'q'\nend", 14);
	assert_str(&find(&doc, "", "crlf")->v, "a\r\nb", 4);
	assert_int_equal(find(&doc, "", "quoted key")->v.i, 1);
	assert_int_equal(find(&doc, "", "lit.key")->v.i, 2);
	assert_int_equal(find(&doc, "", "dotted.key")->v.i, 3);
	assert_int_equal(find(&doc, "", "dotted.key")->line, 19);
	assert_str(&find(&doc, "", "tab")->v, "a\tb", 3);
	toml_doc_clean(&doc);
}

static void
test_numbers(void **state)
{
	static const struct {
		const char *text;
		int64_t want;
	} ints[] = {
	    {"0", 0},
	    {"-0", 0},
	    {"+17", 17},
	    {"-17", -17},
	    {"1_000_000", 1000000},
	    {"420", 420},
	    {"0x1F", 31},
	    {"0xdead_beef", 0xdeadbeef},
	    {"0o644", 0644},
	    {"0o755", 0755},
	    {"0b101", 5},
	    {"9223372036854775807", INT64_MAX},
	    {"-9223372036854775808", INT64_MIN},
	    {"0x7fffffffffffffff", INT64_MAX},
	};
	static const struct {
		const char *text;
		double want;
	} floats[] = {
	    {"1.5", 1.5},
	    {"-0.25", -0.25},
	    {"1e3", 1000},
	    {"6.02E+2", 602},
	    {"1_0.5", 10.5},
	    {"5e-1", 0.5},
	};
	struct toml_doc doc;
	char text[64];
	size_t i;

	for (i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
		snprintf(text, sizeof(text), "v = %s\n", ints[i].text);
		parse_ok(text, &doc);
		assert_int_equal(doc.entries[0].v.type, TOML_INT);
		if (doc.entries[0].v.i != ints[i].want)
			fail_msg("%s: %lld", ints[i].text,
			    (long long)doc.entries[0].v.i);
		toml_doc_clean(&doc);
	}
	for (i = 0; i < sizeof(floats) / sizeof(floats[0]); i++) {
		snprintf(text, sizeof(text), "v = %s", floats[i].text);
		parse_ok(text, &doc);
		assert_int_equal(doc.entries[0].v.type, TOML_FLOAT);
		assert_true(doc.entries[0].v.f == floats[i].want);
		toml_doc_clean(&doc);
	}
	parse_ok("a = inf\nb = -inf\nc = nan\nd = true\ne = false\n", &doc);
	assert_true(doc.entries[0].v.f > 1e308);
	assert_true(doc.entries[1].v.f < -1e308);
	assert_true(doc.entries[2].v.f != doc.entries[2].v.f);
	assert_int_equal(doc.entries[3].v.type, TOML_BOOL);
	assert_true(doc.entries[3].v.b);
	assert_int_equal(doc.entries[4].v.type, TOML_BOOL);
	assert_false(doc.entries[4].v.b);
	toml_doc_clean(&doc);
}

static void
test_other_values(void **state)
{
	static const char text[] =
	    "[other]\n"
	    "when = 1979-05-27T07:32:00Z\n"
	    "day = 1979-05-27\n"
	    "spaced = 1979-05-27 07:32:00.5+01:00\n"
	    "time = 07:32:00\n"
	    "point = { x = 1, y = [2, 3], name = \"p\" }\n"
	    "none = {}\n"
	    "nested = [ [1, 2], [\"a\", [true]], [], ]\n"
	    "mixed = [1, 'x', 1.5]\n"
	    "[[servers]]\n"
	    "name = \"a\"\n"
	    "[[servers]]\n"
	    "name = \"b\"\n"
	    "[template]\n"
	    "src = \"x\" # trailing comment\n";
	struct toml_doc doc;
	const struct toml_entry *e;

	parse_ok(text, &doc);
	assert_int_equal(doc.ntables, 5);
	assert_true(doc.tables[2].array);
	assert_true(doc.tables[3].array);
	assert_string_equal(doc.tables[3].name, "servers");
	assert_int_equal(doc.tables[3].line, 12);
	e = find(&doc, "other", "when");
	assert_int_equal(e->v.type, TOML_DATETIME);
	assert_string_equal(e->v.s, "1979-05-27T07:32:00Z");
	assert_string_equal(find(&doc, "other", "day")->v.s, "1979-05-27");
	assert_string_equal(
	    find(&doc, "other", "spaced")->v.s, "1979-05-27 07:32:00.5+01:00");
	assert_string_equal(find(&doc, "other", "time")->v.s, "07:32:00");
	assert_int_equal(find(&doc, "other", "point")->v.type, TOML_TABLE);
	assert_int_equal(find(&doc, "other", "none")->v.type, TOML_TABLE);
	e = find(&doc, "other", "nested");
	assert_int_equal(e->v.n, 3);
	assert_int_equal(e->v.items[0].n, 2);
	assert_int_equal(e->v.items[0].items[1].i, 2);
	assert_int_equal(e->v.items[1].items[1].items[0].type, TOML_BOOL);
	assert_int_equal(e->v.items[2].type, TOML_ARRAY);
	assert_int_equal(e->v.items[2].n, 0);
	assert_int_equal(find(&doc, "other", "mixed")->v.n, 3);
	assert_int_equal(doc.entries[8].table, 2);
	assert_int_equal(doc.entries[9].table, 3);
	assert_str(&find(&doc, "template", "src")->v, "x", 1);
	toml_doc_clean(&doc);

	/* an empty file, comments only, a BOM, CRLF lines */
	parse_ok("", &doc);
	assert_int_equal(doc.ntables, 1);
	assert_int_equal(doc.nentries, 0);
	toml_doc_clean(&doc);
	parse_ok("\xef\xbb\xbf# c\r\n\r\n  [ template ]  \r\na=1\r\n", &doc);
	assert_string_equal(doc.tables[1].name, "template");
	assert_int_equal(doc.entries[0].line, 4);
	toml_doc_clean(&doc);
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
	    {"a\n",
	        "t.toml:1: expected '=' after a key, found the end of "
	        "the line"},
	    {"a =\n", "t.toml:1: expected a value, found the end of the line"},
	    {"a = ", "t.toml:1: expected a value, found the end of the file"},
	    {"= 1", "t.toml:1: expected a key, found '='"},
	    {"[template]\nsrc = \"a\"\nsrc = \"b\"\n",
	        "t.toml:3: duplicate key src (first at line 2)"},
	    {"[template]\n[x]\n\n[template]\n",
	        "t.toml:4: table [template] defined twice (first at line 1)"},
	    {"[[x]]\n[x]\n",
	        "t.toml:2: [x] is both a table and an array of tables (line "
	        "1)"},
	    {"[x\n", "t.toml:1: expected ']', found the end of the line"},
	    {"[[x]\n", "t.toml:1: expected ']]', found ']'"},
	    {"[x] y\n", "t.toml:1: expected the end of the line, found 'y'"},
	    {"a = 1 x\n", "t.toml:1: expected the end of the line, found 'x'"},
	    {"a = \"abc\n", "t.toml:1: unterminated string"},
	    {"a = 'abc", "t.toml:1: unterminated string"},
	    {"\na = \"\"\"abc\n\ndef", "t.toml:4: unterminated string"},
	    {"a = \"\"\"abc\"\"\"\"\"\"\n",
	        "t.toml:1: too many quotes ending a string"},
	    {"a = \"a\\qb\"", "t.toml:1: invalid escape \\q in a string"},
	    {"a = \"\\u12\"", "t.toml:1: \\u needs 4 hex digits"},
	    {"a = \"\\uD800\"",
	        "t.toml:1: \\uD800 is not a Unicode scalar value"},
	    {"a = \"\\U00110000\"",
	        "t.toml:1: \\U00110000 is not a Unicode scalar value"},
	    {"a = \"x\x01y\"", "t.toml:1: control character 0x01 in a string"},
	    {"# x\x7f\n", "t.toml:1: control character 0x7f in a comment"},
	    {"a = 0644\n",
	        "t.toml:1: leading zeros are not allowed in integers: 0644"},
	    {"a = 9223372036854775808\n",
	        "t.toml:1: integer out of range: 9223372036854775808"},
	    {"a = -9223372036854775809\n",
	        "t.toml:1: integer out of range: -9223372036854775809"},
	    {"a = 0x1_0000_0000_0000_0000\n",
	        "t.toml:1: integer out of range: 0x1_0000_0000_0000_0000"},
	    {"a = 1__0\n", "t.toml:1: invalid value: 1__0"},
	    {"a = _1\n", "t.toml:1: invalid value: _1"},
	    {"a = 0xg\n", "t.toml:1: invalid value: 0xg"},
	    {"a = +0x1\n", "t.toml:1: invalid value: +0x1"},
	    {"a = 1.\n", "t.toml:1: invalid value: 1."},
	    {"a = .5\n", "t.toml:1: invalid value: .5"},
	    {"a = tru\n", "t.toml:1: invalid value: tru"},
	    {"a = truex\n", "t.toml:1: invalid value: truex"},
	    {"a = [\"a\" \"b\"]\n",
	        "t.toml:1: expected ',' or ']' in an array, found '\"'"},
	    {"a = [\n1,\n2\n",
	        "t.toml:4: expected ',' or ']' in an array, "
	        "found the end of the file"},
	    {"a = [,]\n", "t.toml:1: expected a value, found ','"},
	    {"a = {x = 1,}\n", "t.toml:1: expected a key, found '}'"},
	    {"a = {x = 1\n}\n",
	        "t.toml:1: expected ',' or '}' in an inline table, found the "
	        "end of the line"},
	    {"a = 1\r",
	        "t.toml:1: expected the end of the line, found a "
	        "bare carriage return"},
	};
	static const char nul[] = "a = 1\nb = \"x\0y\"\n";
	char deep[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_error(
		    cases[i].text, strlen(cases[i].text), cases[i].want);
	expect_error(nul, sizeof(nul) - 1, "t.toml:2: NUL byte in the file");
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "a = ", 4);
	expect_error(
	    deep, sizeof(deep), "t.toml:1: arrays nest more than 32 deep");
}

static void
test_bounds(void **state)
{
	struct toml_doc doc;
	char err[256], *big;
	size_t i, n = 0;

	big = malloc(TOML_MAX_INPUT + 1);
	memset(big, '#', TOML_MAX_INPUT + 1);
	assert_int_equal(toml_parse(big, TOML_MAX_INPUT + 1, "t.toml", &doc,
	                     err, sizeof(err)),
	    -1);
	assert_string_equal(err, "t.toml: larger than 1048576 bytes");
	/* 5000 keys: the cap is 4096 */
	for (i = 0; i < 5000; i++)
		n += (size_t)sprintf(big + n, "k%zu = %zu\n", i, i);
	assert_int_equal(
	    toml_parse(big, n, "t.toml", &doc, err, sizeof(err)), -1);
	assert_string_equal(err, "t.toml:4097: more than 4096 keys");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_calico_resource),
	    cmocka_unit_test(test_strings),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_other_values),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
