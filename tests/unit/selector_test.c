/*
 * store/selector.c: Calico label selectors.  Tables of (selector, labels,
 * expected match) for every operator, precedence, quoting and whitespace;
 * canonical forms and their round trip; bad inputs with the exact message;
 * the length and nesting bounds; a labels view backed by a callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/selector.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* label sets the match table refers to by index */
static const struct label set_node1[] = {
    {"kubernetes.io/hostname", "node1"},
    {"route-reflector", "true"},
    {"zone", "a"},
    {"rack", "r1"},
    {"empty", ""},
};
static const struct label set_node2[] = {
    {"kubernetes.io/hostname", "node2"},
    {"zone", "b"},
    {"rack", "r2"},
    {"quote", "say \"hi\""},
    {"apos", "it's"},
};
enum { L_NONE, L_NODE1, L_NODE2 };
static const struct labels label_sets[] = {
    [L_NONE] = {.v = NULL, .n = 0},
    [L_NODE1] = {.v = set_node1, .n = NITEMS(set_node1)},
    [L_NODE2] = {.v = set_node2, .n = NITEMS(set_node2)},
};

struct match_case {
	const char *sel;
	int labels;
	bool match;
};

static const struct match_case match_cases[] = {
    /* all() and the empty selector */
    {"all()", L_NONE, true},
    {"all()", L_NODE1, true},
    {"", L_NONE, true},
    {" \t ", L_NODE2, true},
    {"!all()", L_NODE1, false},
    /* has() */
    {"has(zone)", L_NODE1, true},
    {"has(zone)", L_NONE, false},
    {"has(route-reflector)", L_NODE1, true},
    {"has(route-reflector)", L_NODE2, false},
    {"!has(route-reflector)", L_NODE2, true},
    {"!has(route-reflector)", L_NODE1, false},
    {"has(empty)", L_NODE1, true},
    {"has(kubernetes.io/hostname)", L_NODE2, true},
    /* == and != (absent label: == false, != true) */
    {"zone == \"a\"", L_NODE1, true},
    {"zone == \"a\"", L_NODE2, false},
    {"zone == \"a\"", L_NONE, false},
    {"zone != \"a\"", L_NODE1, false},
    {"zone != \"a\"", L_NODE2, true},
    {"zone != \"a\"", L_NONE, true},
    {"empty == \"\"", L_NODE1, true},
    {"empty == \"\"", L_NODE2, false},
    {"empty != \"\"", L_NODE2, true},
    {"route-reflector == 'true'", L_NODE1, true},
    {"route-reflector == 'True'", L_NODE1, false},
    {"kubernetes.io/hostname == \"node2\"", L_NODE2, true},
    /* in / not in (absent label: in false, not in true) */
    {"zone in {\"a\", \"c\"}", L_NODE1, true},
    {"zone in {\"a\", \"c\"}", L_NODE2, false},
    {"zone in {\"a\", \"c\"}", L_NONE, false},
    {"zone not in {\"a\", \"c\"}", L_NODE1, false},
    {"zone not in {\"a\", \"c\"}", L_NODE2, true},
    {"zone not in {\"a\", \"c\"}", L_NONE, true},
    {"zone in {}", L_NODE1, false},
    {"zone not in {}", L_NODE1, true},
    {"zone in {'b'}", L_NODE2, true},
    {"zone in {\"c\", \"b\", \"a\", \"b\"}", L_NODE2, true},
    {"zone in {\"a\",}", L_NODE1, true},
    {"zone notin {\"a\"}", L_NODE1, false},
    /* quoting: a string holds the other quote */
    {"quote == 'say \"hi\"'", L_NODE2, true},
    {"apos == \"it's\"", L_NODE2, true},
    {"apos in {'x', \"it's\"}", L_NODE2, true},
    /* && and || */
    {"zone == \"a\" && rack == \"r1\"", L_NODE1, true},
    {"zone == \"a\" && rack == \"r2\"", L_NODE1, false},
    {"zone == \"x\" || rack == \"r1\"", L_NODE1, true},
    {"zone == \"x\" || rack == \"r9\"", L_NODE1, false},
    {"has(a) || has(b) || has(zone)", L_NODE2, true},
    {"has(zone) && has(rack) && has(quote)", L_NODE1, false},
    {"has(zone) && has(rack) && has(quote)", L_NODE2, true},
    /* precedence: ! over && over || */
    {"has(x) && has(y) || has(zone)", L_NODE1, true},
    {"has(zone) || has(x) && has(y)", L_NODE1, true},
    {"has(x) && (has(y) || has(zone))", L_NODE1, false},
    {"(has(zone) || has(x)) && has(y)", L_NODE1, false},
    {"!has(x) && has(zone)", L_NODE1, true},
    {"!(has(x) && has(zone))", L_NODE1, true},
    {"!has(zone) || has(rack)", L_NODE1, true},
    {"!(has(zone) || has(x))", L_NODE1, false},
    {"!zone == \"a\"", L_NODE1, false},
    {"!zone == \"a\"", L_NODE2, true},
    {"!!has(zone)", L_NODE1, true},
    {"!!!has(zone)", L_NODE1, false},
    {"!(!has(zone))", L_NODE1, true},
    {"((((has(zone)))))", L_NODE1, true},
    /* whitespace */
    {"zone==\"a\"&&rack!='r2'", L_NODE1, true},
    {"  zone  ==  \"a\"  ", L_NODE1, true},
    {"\tzone\t==\t\"a\"\n&&\r\nhas( rack )", L_NODE1, true},
    {"zone in{\"a\"}", L_NODE1, true},
    {"zone not   in {\"a\"}", L_NODE2, true},
    {"has ( zone )", L_NODE1, true},
    {"all ( )", L_NONE, true},
    {"!  has(zone)", L_NODE1, false},
    /* has, all, in and not as label keys */
    {"has == \"x\"", L_NODE1, false},
    {"all != \"x\"", L_NODE1, true},
    {"index in {\"1\"}", L_NONE, false},
    /* keys with every allowed character */
    {"has(a.b-c_d/E.9)", L_NODE1, false},
    {"rack-x == 'r1'", L_NODE1, false},
    /* the typical BGPPeer and IPPool selectors */
    {"route-reflector == 'true'", L_NODE2, false},
    {"kubernetes.io/hostname in {'node1', 'node3'}", L_NODE1, true},
    {"kubernetes.io/hostname in {'node1', 'node3'}", L_NODE2, false},
};

static void
test_match_table(void **state)
{
	struct selector *sel;
	char err[256];
	size_t i;

	for (i = 0; i < NITEMS(match_cases); i++) {
		const struct match_case *c = &match_cases[i];

		sel = selector_parse(c->sel, err, sizeof(err));
		if (sel == NULL)
			fail_msg("case %zu \"%s\": %s", i, c->sel, err);
		if (selector_match(sel, &label_sets[c->labels]) != c->match)
			fail_msg("case %zu \"%s\": expected %s", i, c->sel,
			    c->match ? "a match" : "no match");
		selector_free(sel);
	}
}

struct format_case {
	const char *in;
	const char *out;
};

static const struct format_case format_cases[] = {
    {"", "all()"},
    {"all()", "all()"},
    {"  all ( ) ", "all()"},
    {"has( a )", "has(a)"},
    {"!has(a)", "!has(a)"},
    {"a=='b'", "a == \"b\""},
    {"a!=\"b\"", "a != \"b\""},
    {"a == 'say \"hi\"'", "a == 'say \"hi\"'"},
    {"a == \"it's\"", "a == \"it's\""},
    {"a in {'z','a','m','a'}", "a in {\"a\", \"m\", \"z\"}"},
    {"a notin {'x',}", "a not in {\"x\"}"},
    {"a in {}", "a in {}"},
    {"a in {'\"', \"'\"}", "a in {'\"', \"'\"}"},
    {"a == \"\"", "a == \"\""},
    {"has(a) && has(b)", "(has(a) && has(b))"},
    {"has(a) && has(b) && has(c)", "(has(a) && has(b) && has(c))"},
    {"has(a) || has(b) && has(c)", "(has(a) || (has(b) && has(c)))"},
    {"(has(a) || has(b)) && has(c)", "((has(a) || has(b)) && has(c))"},
    {"has(a) && (has(b) && has(c))", "(has(a) && (has(b) && has(c)))"},
    {"((has(a)))", "has(a)"},
    {"!!has(a)", "has(a)"},
    {"!(!has(a))", "has(a)"},
    {"!!(!has(a))", "!has(a)"},
    {"!(a == 'b')", "!a == \"b\""},
    {"!(has(a) || has(b))", "!(has(a) || has(b))"},
    {"!all()", "!all()"},
    {"in == 'x'", "in == \"x\""},
    {"not in {'x'}", "not in {\"x\"}"},
};

static void
test_format_table(void **state)
{
	struct selector *sel, *again;
	char err[256], out[256], out2[256];
	size_t i;
	int n;

	for (i = 0; i < NITEMS(format_cases); i++) {
		const struct format_case *c = &format_cases[i];

		sel = selector_parse(c->in, err, sizeof(err));
		if (sel == NULL)
			fail_msg("case %zu \"%s\": %s", i, c->in, err);
		n = selector_format(sel, out, sizeof(out));
		assert_int_equal(n, strlen(c->out));
		assert_string_equal(out, c->out);

		/* the canonical form is a fixed point */
		again = selector_parse(out, err, sizeof(err));
		if (again == NULL)
			fail_msg("case %zu reparse \"%s\": %s", i, out, err);
		selector_format(again, out2, sizeof(out2));
		assert_string_equal(out2, out);
		selector_free(again);
		selector_free(sel);
	}
}

struct bad_case {
	const char *in;
	const char *err;
};

static const struct bad_case bad_cases[] = {
    {"(",
        "column 2: expected a label, has(), all(), '!' or '(', "
        "found end of input"},
    {"()",
        "column 2: expected a label, has(), all(), '!' or '(', "
        "found ')'"},
    {"zone", "column 5: expected ==, !=, in or not in, found end of input"},
    {"zone = 'a'", "column 6: expected ==, !=, in or not in, found '='"},
    {"zone === 'a'", "column 8: expected a quoted string, found '='"},
    {"zone == a", "column 9: expected a quoted string, found 'a'"},
    {"zone ==", "column 8: expected a quoted string, found end of input"},
    {"zone == \"a", "column 9: unterminated string"},
    {"zone == 'a\"", "column 9: unterminated string"},
    {"zone in {'a'", "column 13: expected ',' or '}', found end of input"},
    {"zone in {'a' 'b'}",
        "column 14: expected ',' or '}', found a quoted string"},
    {"zone in {,}", "column 10: expected a quoted string or '}', found ','"},
    {"zone in {'a',,}",
        "column 14: expected a quoted string or '}', found ','"},
    {"zone in 'a'", "column 9: expected '{', found a quoted string"},
    {"zone not {'a'}",
        "column 6: expected ==, !=, in or not in, "
        "found 'n'"},
    {"zone inx {'a'}",
        "column 6: expected ==, !=, in or not in, "
        "found 'i'"},
    {"zone ! = 'a'", "column 6: expected ==, !=, in or not in, found '!'"},
    {"has()", "column 5: expected a label, found ')'"},
    {"has(a", "column 6: expected ')', found end of input"},
    {"has(a b)", "column 7: expected ')', found 'b'"},
    {"has('a')", "column 5: expected a label, found a quoted string"},
    {"all(x)", "column 5: expected ')', found 'x'"},
    {"ALL()", "column 4: expected ==, !=, in or not in, found '('"},
    {"zone('a')", "column 5: expected ==, !=, in or not in, found '('"},
    {"'a' == zone",
        "column 1: expected a label, has(), all(), '!' or "
        "'(', found a quoted string"},
    {"!",
        "column 2: expected a label, has(), all(), '!' or '(', "
        "found end of input"},
    {"!= 'a'",
        "column 1: expected a label, has(), all(), '!' or '(', "
        "found '!'"},
    {"has(a) &&",
        "column 10: expected a label, has(), all(), '!' or "
        "'(', found end of input"},
    {"has(a) & has(b)",
        "column 8: expected &&, || or end of input, "
        "found '&'"},
    {"has(a) | has(b)",
        "column 8: expected &&, || or end of input, "
        "found '|'"},
    {"has(a) has(b)",
        "column 8: expected &&, || or end of input, "
        "found 'h'"},
    {"has(a))", "column 7: expected &&, || or end of input, found ')'"},
    {"(has(a)", "column 8: expected &&, || or ')', found end of input"},
    {"(has(a) has(b))", "column 9: expected &&, || or ')', found 'h'"},
    {"zone == 'a' zone == 'b'",
        "column 13: expected &&, || or end of "
        "input, found 'z'"},
    {"zone == \"a\"\x01",
        "column 12: expected &&, || or end of input, "
        "found byte 0x01"},
    {"z\xc3\xa9 == 'a'",
        "column 2: expected ==, !=, in or not in, "
        "found byte 0xc3"},
    {"has(a) || || has(b)",
        "column 11: expected a label, has(), all(), "
        "'!' or '(', found '|'"},
};

static void
test_bad_table(void **state)
{
	struct selector *sel;
	char err[256];
	size_t i;

	for (i = 0; i < NITEMS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];

		memset(err, 'x', sizeof(err));
		sel = selector_parse(c->in, err, sizeof(err));
		if (sel != NULL)
			fail_msg("case %zu \"%s\" parsed", i, c->in);
		if (strcmp(err, c->err) != 0)
			fail_msg("case %zu \"%s\":\n got  %s\n want %s", i,
			    c->in, err, c->err);
	}
}

/* errors with no buffer, a tiny one, and a truncated message */
static void
test_error_buffer(void **state)
{
	char err[12];

	assert_null(selector_parse("zone ==", NULL, 0));
	memset(err, 'x', sizeof(err));
	assert_null(selector_parse("zone ==", err, 0));
	assert_int_equal(err[0], 'x');
	assert_null(selector_parse("zone ==", err, 1));
	assert_string_equal(err, "");
	assert_null(selector_parse("zone ==", err, sizeof(err)));
	assert_string_equal(err, "column 8: e");
	assert_null(selector_parse("zone ==", err, 5));
	assert_string_equal(err, "colu");
	/* a good parse clears a stale message */
	strcpy(err, "stale");
	selector_free(selector_parse("all()", err, sizeof(err)));
	assert_string_equal(err, "");
}

static void
test_format_truncates(void **state)
{
	struct selector *sel;
	char out[8];

	sel = selector_parse("zone in {'a', 'b'}", NULL, 0);
	assert_non_null(sel);
	assert_int_equal(selector_format(sel, NULL, 0), 18);
	memset(out, 'x', sizeof(out));
	assert_int_equal(selector_format(sel, out, 1), 18);
	assert_string_equal(out, "");
	assert_int_equal(selector_format(sel, out, sizeof(out)), 18);
	assert_string_equal(out, "zone in");
	selector_free(sel);
}

/* head, then n copies of s, then tail */
static char *
repeat(const char *head, const char *s, size_t n, const char *tail)
{
	size_t hl = strlen(head), sl = strlen(s), tl = strlen(tail), i;
	char *buf;

	buf = malloc(hl + sl * n + tl + 1);
	assert_non_null(buf);
	memcpy(buf, head, hl);
	for (i = 0; i < n; i++)
		memcpy(buf + hl + i * sl, s, sl);
	memcpy(buf + hl + n * sl, tail, tl + 1);
	return buf;
}

/* n copies of open, then mid, then n closing parentheses */
static char *
nest(const char *open, size_t n, const char *mid)
{
	char *head, *text;

	head = repeat("", open, n, mid);
	text = repeat(head, ")", n, "");
	free(head);
	return text;
}

/* deepest parenthesis nesting in text (which holds no strings) */
static int
paren_depth(const char *text)
{
	int d = 0, max = 0;

	for (; *text != '\0'; text++) {
		if (*text == '(' && ++d > max)
			max = d;
		else if (*text == ')')
			d--;
	}
	return max;
}

static void
test_depth_limit(void **state)
{
	struct selector *sel;
	char err[128], *text, *out;
	int n;

	/* 64 parentheses are fine, 65 are not */
	text = nest("(", SELECTOR_MAX_DEPTH, "has(a)");
	sel = selector_parse(text, err, sizeof(err));
	assert_non_null(sel);
	selector_free(sel);
	free(text);
	text = nest("(", SELECTOR_MAX_DEPTH + 1, "has(a)");
	assert_null(selector_parse(text, err, sizeof(err)));
	assert_string_equal(
	    err, "column 65: parentheses nested deeper than 64");
	free(text);

	/* a long run of ! is a loop, not recursion */
	text = repeat("", "!", 100001, "has(a)");
	sel = selector_parse(text, err, sizeof(err));
	assert_non_null(sel);
	assert_true(selector_match(sel, &label_sets[L_NONE]));
	assert_int_equal(selector_format(sel, err, sizeof(err)), 7);
	assert_string_equal(err, "!has(a)");
	selector_free(sel);
	free(text);

	/*
	 * has(a) || (has(a) || (... 64 deep: the top || makes 65 levels of
	 * && and ||, whose canonical form would need 65 parentheses.
	 */
	text = nest("has(a) || (", SELECTOR_MAX_DEPTH, "has(b) || has(c)");
	assert_null(selector_parse(text, err, sizeof(err)));
	assert_string_equal(err, "column 8: expressions nested deeper than 64");
	free(text);

	/* one level less parses, and so does its canonical form */
	text = nest("has(a) || (", SELECTOR_MAX_DEPTH - 1, "has(b) || has(c)");
	sel = selector_parse(text, err, sizeof(err));
	if (sel == NULL)
		fail_msg("%s", err);
	n = selector_format(sel, NULL, 0);
	out = malloc(n + 1);
	assert_non_null(out);
	assert_int_equal(selector_format(sel, out, n + 1), n);
	/* 64 levels of && and ||, and the innermost has() */
	assert_int_equal(paren_depth(out), SELECTOR_MAX_DEPTH + 1);
	selector_free(sel);
	sel = selector_parse(out, err, sizeof(err));
	if (sel == NULL)
		fail_msg("%s", err);
	assert_false(selector_match(sel, &label_sets[L_NONE]));
	free(out);
	free(text);
	selector_free(sel);
}

static void
test_length_limits(void **state)
{
	struct selector *sel;
	char err[128], *text;

	/* a 512-byte key is fine, 513 is not */
	text = repeat("has(", "k", SELECTOR_MAX_KEY, ")");
	sel = selector_parse(text, err, sizeof(err));
	assert_non_null(sel);
	selector_free(sel);
	free(text);
	text = repeat("has(", "k", SELECTOR_MAX_KEY + 1, ")");
	assert_null(selector_parse(text, err, sizeof(err)));
	assert_string_equal(err, "column 5: label longer than 512 bytes");
	free(text);

	/* the whole text */
	text = repeat("", " ", SELECTOR_MAX_LEN - 5, "all()");
	sel = selector_parse(text, err, sizeof(err));
	assert_non_null(sel);
	selector_free(sel);
	free(text);
	text = repeat("", " ", SELECTOR_MAX_LEN - 4, "all()");
	assert_null(selector_parse(text, err, sizeof(err)));
	assert_string_equal(err, "selector longer than 1048576 bytes");
	free(text);
}

/* a large set, found by binary search */
static void
test_big_set(void **state)
{
	struct label l = {"host", NULL};
	struct labels ls = {.v = &l, .n = 1};
	struct selector *sel;
	char *text, *p, val[16];
	size_t i;

	text = malloc(32 * 1000 + 32);
	assert_non_null(text);
	p = text + sprintf(text, "host in {");
	for (i = 1000; i > 0; i--)
		p += sprintf(p, "'n%zu',", i * 2);
	strcpy(p, "}");
	sel = selector_parse(text, NULL, 0);
	assert_non_null(sel);
	for (i = 0; i <= 2001; i++) {
		snprintf(val, sizeof(val), "n%zu", i);
		l.value = val;
		assert_int_equal(
		    selector_match(sel, &ls), i > 0 && i <= 2000 && i % 2 == 0);
	}
	selector_free(sel);
	free(text);
}

/* the first of two entries with one key wins; NULL labels are no labels */
static void
test_labels_array(void **state)
{
	static const struct label dup[] = {{"a", "1"}, {"a", "2"}};
	struct labels ls = {.v = dup, .n = 2};
	struct selector *sel;

	assert_string_equal(selector_label_get(&ls, "a"), "1");
	assert_null(selector_label_get(&ls, "b"));
	assert_null(selector_label_get(NULL, "a"));
	sel = selector_parse("a == '1'", NULL, 0);
	assert_true(selector_match(sel, &ls));
	assert_false(selector_match(sel, NULL));
	selector_free(sel);
	sel = selector_parse("a != '1' && b not in {'x'}", NULL, 0);
	assert_false(selector_match(sel, &ls));
	selector_free(sel);
	sel = selector_parse("b not in {'x'}", NULL, 0);
	assert_true(selector_match(sel, NULL));
	selector_free(sel);
}

/* labels served by a callback, as a watch cache holding JSON would */
struct lookup_ctx {
	int calls;
};

static const char *
lookup_zone(void *arg, const char *key)
{
	struct lookup_ctx *ctx = arg;

	ctx->calls++;
	return strcmp(key, "zone") == 0 ? "b" : NULL;
}

static void
test_labels_callback(void **state)
{
	struct lookup_ctx ctx = {0};
	struct labels ls = {.lookup = lookup_zone, .arg = &ctx};
	struct selector *sel;

	sel = selector_parse("zone in {'a','b'} && !has(rack)", NULL, 0);
	assert_non_null(sel);
	assert_true(selector_match(sel, &ls));
	assert_int_equal(ctx.calls, 2);
	selector_free(sel);

	/* || stops at the first true operand */
	ctx.calls = 0;
	sel = selector_parse("zone == 'b' || has(x) || has(y)", NULL, 0);
	assert_true(selector_match(sel, &ls));
	assert_int_equal(ctx.calls, 1);
	selector_free(sel);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_match_table),
	    cmocka_unit_test(test_format_table),
	    cmocka_unit_test(test_bad_table),
	    cmocka_unit_test(test_error_buffer),
	    cmocka_unit_test(test_format_truncates),
	    cmocka_unit_test(test_depth_limit),
	    cmocka_unit_test(test_length_limits),
	    cmocka_unit_test(test_big_set),
	    cmocka_unit_test(test_labels_array),
	    cmocka_unit_test(test_labels_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
