/*
 * confd/tmpl_lex.c, tmpl_parse.c, tmpl_node.c, tmpl_set.c: the template
 * parser.  Tables of templates and the String() of the main tree (Go's
 * text/template/parse parse_test.go vectors and ours: trimming, comments,
 * every node type, numbers), of bad templates and their exact message
 * with NAME:LINE:COL, defined and block trees, node positions and
 * locations, NumberNode fields, strconv.Unquote, functions shadowing
 * keywords, trees across parse calls, and the nesting bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confd/tmpl_int.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static struct tval *
fake_fn(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	return tval_nil();
}

static const struct tmpl_func fake_funcs[] = {
    {"getv", fake_fn, 1, 2},
    {"ls", fake_fn, 1, 1},
    {"json", fake_fn, 1, 1},
    {"contains", fake_fn, 2, 2},
};

static struct tmpl *
parse_ok(const char *name, const char *text)
{
	struct tmpl *t = tmpl_new(name);
	char err[TMPL_ERRLEN];

	tmpl_funcs(t, fake_funcs, NITEMS(fake_funcs), NULL);
	if (tmpl_parse(t, text, strlen(text), err, sizeof(err)) == -1)
		fail_msg("%s: %s", text, err);
	return t;
}

/* String() of the tree called name */
static char *
tree_string(struct tmpl *t, const char *name)
{
	struct ttree *tr = tmpl_lookup(t, name);
	struct tbuf b = {0};

	assert_non_null(tr);
	tnode_string(&b, tr->root);
	if (b.p == NULL)
		return strdup("");
	return b.p;
}

struct rt_case {
	const char *in;
	const char *out;
};

static const struct rt_case rt_cases[] = {
    /* parse_test.go parseTests */
    {"", ""},
    {"{{/*\n\n\n*/}}", ""},
    {" \t\n", " \t\n"},
    {"some text", "some text"},
    {"{{.X}}", "{{.X}}"},
    {"{{printf}}", "{{printf}}"},
    {"{{$}}", "{{$}}"},
    {"{{with $x := 3}}{{$x 23}}{{end}}", "{{with $x := 3}}{{$x 23}}{{end}}"},
    {"{{$.I}}", "{{$.I}}"},
    {"{{printf `%d` 23}}", "{{printf `%d` 23}}"},
    {"{{.X|.Y}}", "{{.X | .Y}}"},
    {"{{$x := .X|.Y}}", "{{$x := .X | .Y}}"},
    {"{{.X (.Y .Z) (.A | .B .C) (.E)}}", "{{.X (.Y .Z) (.A | .B .C) (.E)}}"},
    {"{{(.Y .Z).Field}}", "{{(.Y .Z).Field}}"},
    {"{{if .X}}hello{{end}}", "{{if .X}}hello{{end}}"},
    {"{{if .X}}true{{else}}false{{end}}", "{{if .X}}true{{else}}false{{end}}"},
    {"{{if .X}}true{{else if .Y}}false{{end}}",
        "{{if .X}}true{{else}}{{if .Y}}false{{end}}{{end}}"},
    {"+{{if .X}}X{{else if .Y}}Y{{else if .Z}}Z{{end}}+",
        "+{{if .X}}X{{else}}{{if .Y}}Y{{else}}{{if .Z}}Z{{end}}{{end}}{{end}}"
        "+"},
    {"{{with .X}}a{{else with .Y}}b{{end}}",
        "{{with .X}}a{{else}}{{with .Y}}b{{end}}{{end}}"},
    {"{{with .X}}a{{else with $x := .Y}}{{$x}}{{else with .Z}}c{{else}}d"
     "{{end}}",
        "{{with .X}}a{{else}}{{with $x := .Y}}{{$x}}{{else}}{{with .Z}}c"
        "{{else}}d{{end}}{{end}}{{end}}"},
    {"{{range .X}}hello{{end}}", "{{range .X}}hello{{end}}"},
    {"{{range .X.Y.Z}}hello{{end}}", "{{range .X.Y.Z}}hello{{end}}"},
    {"{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}",
        "{{range .X}}hello{{range .Y}}goodbye{{end}}{{end}}"},
    {"{{range .X}}true{{else}}false{{end}}",
        "{{range .X}}true{{else}}false{{end}}"},
    {"{{range .X|.M}}true{{else}}false{{end}}",
        "{{range .X | .M}}true{{else}}false{{end}}"},
    {"{{range .SI}}{{.}}{{end}}", "{{range .SI}}{{.}}{{end}}"},
    {"{{range $x := .SI}}{{.}}{{end}}", "{{range $x := .SI}}{{.}}{{end}}"},
    {"{{range $x, $y := .SI}}{{.}}{{end}}",
        "{{range $x, $y := .SI}}{{.}}{{end}}"},
    {"{{range .SI}}{{.}}{{break}}{{end}}",
        "{{range .SI}}{{.}}{{break}}{{end}}"},
    {"{{range .SI}}{{.}}{{continue}}{{end}}",
        "{{range .SI}}{{.}}{{continue}}{{end}}"},
    {"{{range .SI 1 true false 'a' nil}}{{end}}",
        "{{range .SI 1 true false 'a' nil}}{{end}}"},
    {"{{template `x`}}", "{{template \"x\"}}"},
    {"{{template `x` .Y}}", "{{template \"x\" .Y}}"},
    {"{{with .X}}hello{{end}}", "{{with .X}}hello{{end}}"},
    {"{{with .X}}hello{{else}}goodbye{{end}}",
        "{{with .X}}hello{{else}}goodbye{{end}}"},
    {"x \r\n\t{{- 3}}", "x{{3}}"},
    {"{{3 -}}\n\n\ty", "{{3}}y"},
    {"x \r\n\t{{- 3 -}}\n\n\ty", "x{{3}}y"},
    {"x\n{{-  3   -}}\ny", "x{{3}}y"},
    {"x \r\n\t{{- /* hi */}}", "x"},
    {"{{/* hi */ -}}\n\n\ty", "y"},
    {"x \r\n\t{{- /* */ -}}\n\n\ty", "xy"},
    {"{{block \"foo\" .}}hello{{end}}", "{{template \"foo\" .}}"},
    {"{{ $x \n := \n 1 \n }}", "{{$x := 1}}"},
    {"{{\n\"x\"\n|\nprintf\n}}", "{{\"x\" | printf}}"},
    {"{{/*\nhello\n*/}}", ""},
    {"{{-\n/*\nhello\n*/\n-}}", ""},
    {"{{range .SI}}{{.}}{{ continue }}{{end}}",
        "{{range .SI}}{{.}}{{continue}}{{end}}"},
    {"{{range .SI}}{{.}}{{ break }}{{end}}",
        "{{range .SI}}{{.}}{{break}}{{end}}"},
    {"{{$x := 0}}{{$x}}", "{{$x := 0}}{{$x}}"},
    {"{{$x:=.}}{{$x +2}}", "{{$x := .}}{{$x +2}}"},
    {"{{range $x := 0}}{{$x}}{{end}}", "{{range $x := 0}}{{$x}}{{end}}"},
    {"{{range $x = 0}}{{$x}}{{end}}", "{{range $x = 0}}{{$x}}{{end}}"},
    {"{{ (( 1 )) }}", "{{((1))}}"},
    {"{{ ((( 1 ))) | printf }}", "{{(((1))) | printf}}"},
    {"{{ if ((( true ))) }}YES{{ end }}", "{{if (((true)))}}YES{{end}}"},
    /* trimming: ASCII spaces of the adjacent text, markers need a space */
    {"a {{- 1 -}} b", "a{{1}}b"},
    {"a {{-3}} b", "a {{-3}} b"},
    {"a\n\n{{- 1}}\n\nb", "a{{1}}\n\nb"},
    {"a \t{{- /* c */ -}} \r\n b", "ab"},
    {"a\n{{-\n.\n-}}\nb", "a{{.}}b"},
    {"a {{- 1 -}}{{- 2 -}} b", "a{{1}}{{2}}b"},
    {"{{1 -}} \n {{- 2}}", "{{1}}{{2}}"},
    {"a\v{{- 1}}", "a\v{{1}}"},
    {"{{- 1 -}}", "{{1}}"},
    {"{{\"a\" -}} b", "{{\"a\"}}b"},
    /* confd's shapes */
    {"{{getv \"/x\"}}", "{{getv \"/x\"}}"},
    {"{{range $i, $v := ls \"/a\"}}{{$i}}={{$v}}\n{{end}}",
        "{{range $i, $v := ls \"/a\"}}{{$i}}={{$v}}\n{{end}}"},
    {"{{$d := json (getv \"/n\")}}{{$d.a.b}}",
        "{{$d := json (getv \"/n\")}}{{$d.a.b}}"},
    {"{{(getv \"/x\").A.B}}", "{{(getv \"/x\").A.B}}"},
    {"{{getv.A}}", "{{getv.A}}"},
    {"{{$x := 1}}{{$x = 2}}{{$x}}", "{{$x := 1}}{{$x = 2}}{{$x}}"},
    {"{{if and .A (not .B)}}y{{end}}", "{{if and .A (not .B)}}y{{end}}"},
    {"{{printf \"%s-%d\" .A 3 | printf \"%q\"}}",
        "{{printf \"%s-%d\" .A 3 | printf \"%q\"}}"},
    {"{{with $x := getv \"/a\"}}{{.}}{{$x}}{{else}}none{{end}}",
        "{{with $x := getv \"/a\"}}{{.}}{{$x}}{{else}}none{{end}}"},
    {"{{template \"a\" (getv \"/b\")}}", "{{template \"a\" (getv \"/b\")}}"},
    /* literals as written */
    {"{{printf 0x1F 0o17 0b101 017 1_000 0x_1p4 1e3 .5 +7 -0 1. 0x1.8p1}}",
        "{{printf 0x1F 0o17 0b101 017 1_000 0x_1p4 1e3 .5 +7 -0 1. 0x1.8p1}}"},
    {"{{printf 9223372036854775807 -9223372036854775808}}",
        "{{printf 9223372036854775807 -9223372036854775808}}"},
    {"{{printf '\\n' '\\x41' '\\u00e9' '\xc3\xa9' '\\'' '\"'}}",
        "{{printf '\\n' '\\x41' '\\u00e9' '\xc3\xa9' '\\'' '\"'}}"},
    {"{{printf \"a\\x41\\101\\u00e9\\U0001F600\" `raw\\n`}}",
        "{{printf \"a\\x41\\101\\u00e9\\U0001F600\" `raw\\n`}}"},
    {"{{printf 0i 1+0i}}", "{{printf 0i 1+0i}}"},
    {"{{.\xc3\xa9t\xc3\xa9}}", "{{.\xc3\xa9t\xc3\xa9}}"},
    /* define bodies are trees of their own */
    {"a{{define \"x\"}}body{{end}}b", "ab"},
    {"{{ define \"x\" }}body{{ end }}", ""},
    /* an empty redefinition is no redefinition */
    {"{{define \"a\"}} {{end}}{{define \"a\"}}b{{end}}", ""},
    {"{{define \"a\"}}b{{end}}{{define \"a\"}}\n{{/* c */}}{{end}}", ""},
};

static void
test_round_trip(void **state)
{
	struct tmpl *t;
	size_t i;
	char *s;

	for (i = 0; i < NITEMS(rt_cases); i++) {
		t = parse_ok("t", rt_cases[i].in);
		s = tree_string(t, "t");
		if (strcmp(s, rt_cases[i].out) != 0)
			fail_msg("%s: got %s want %s", rt_cases[i].in, s,
			    rt_cases[i].out);
		free(s);
		tmpl_free(t);
	}
}

struct err_case {
	const char *in;
	const char *err;
};

static const struct err_case err_cases[] = {
    {"{{}}", "template: t:1:2: missing value for command"},
    {"{{\n}}", "template: t:2:0: missing value for command"},
    {"hello{{range", "template: t:1:12: unclosed action"},
    {"{{end}}", "template: t:1:5: unexpected {{end}}"},
    {"{{else}}", "template: t:1:6: unexpected {{else}}"},
    {"{{if .X}}hello{{end}}{{else}}", "template: t:1:27: unexpected {{else}}"},
    {"{{if .X}}1{{else}}2{{else}}3{{end}}",
        "template: t:1:25: expected end; found {{else}}"},
    {"hello{{range .x}}", "template: t:1:17: unexpected EOF"},
    {"hello{{range .x}}{{else}}", "template: t:1:25: unexpected EOF"},
    {"hello{{undefined}}",
        "template: t:1:7: function \"undefined\" not defined"},
    {"{{$x}}", "template: t:1:4: undefined variable \"$x\""},
    {"{{with $x := 4}}{{end}}{{$x}}",
        "template: t:1:27: undefined variable \"$x\""},
    {"{{template $v}}",
        "template: t:1:11: unexpected \"$v\" in template clause"},
    {"{{with $x.Y := 4}}{{end}}", "template: t:1:9: undefined variable \"$x\""},
    {"{{template .X}}",
        "template: t:1:11: unexpected \".X\" in template clause"},
    {"{{printf 3, 4}}", "template: t:1:10: unexpected \",\" in operand"},
    {"{{with $v, $u := 3}}{{end}}",
        "template: t:1:9: too many declarations in with"},
    {"{{range $u, $v, $w := 3}}{{end}}",
        "template: t:1:14: too many declarations in range"},
    {"{{printf (printf .).}}", "template: t:1:19: unexpected <.> in operand"},
    {"{{printf 3`x`}}", "template: t:1:10: unexpected \"`x`\" in operand"},
    {"{{printf `x`.}}", "template: t:1:12: unexpected <.> in operand"},
    {"{{if .X}}a{{else if .Y}}b{{end}}{{end}}",
        "template: t:1:37: unexpected {{end}}"},
    {"{{range .}}{{end}} {{break}}",
        "template: t:1:26: {{break}} outside {{range}}"},
    {"{{range .}}{{end}} {{continue}}",
        "template: t:1:29: {{continue}} outside {{range}}"},
    {"{{range .}}{{else}}{{break}}{{end}}",
        "template: t:1:26: {{break}} outside {{range}}"},
    {"{{range .}}{{else}}{{continue}}{{end}}",
        "template: t:1:29: {{continue}} outside {{range}}"},
    {"{{$x += 1}}{{$x}}", "template: t:1:5: undefined variable \"$x\""},
    {"{{$x:=.}}{{$x!2}}", "template: t:1:11: bad character U+0021 '!'"},
    {"{{$x:=.}}{{$x+2}}", "template: t:1:11: bad character U+002B '+'"},
    {"{{range $x := $y := 3}}{{end}}",
        "template: t:1:14: undefined variable \"$y\""},
    {"{{1.E}}", "template: t:1:2: illegal number syntax: \"1.E\""},
    {"{{0.1.E}}", "template: t:1:7: unexpected . after term \"0.1\""},
    {"{{true.E}}", "template: t:1:8: unexpected . after term \"true\""},
    {"{{'a'.any}}", "template: t:1:9: unexpected . after term \"'a'\""},
    {"{{\"hello\".guys}}",
        "template: t:1:14: unexpected . after term \"\\\"hello\\\"\""},
    {"{{..E}}", "template: t:1:5: unexpected . after term \".\""},
    {"{{nil.E}}", "template: t:1:7: unexpected . after term \"nil\""},
    {"{{12|.}}", "template: t:1:6: non executable command in pipeline stage 2"},
    {"{{.|12|printf}}",
        "template: t:1:13: non executable command in pipeline stage 2"},
    {"{{.|printf|\"error\"}}",
        "template: t:1:18: non executable command in pipeline stage 3"},
    {"{{12|printf|'e'}}",
        "template: t:1:15: non executable command in pipeline stage 3"},
    {"{{.|true}}",
        "template: t:1:8: non executable command in pipeline stage 2"},
    {"{{'c'|nil}}",
        "template: t:1:9: non executable command in pipeline stage 2"},
    {"{{printf \"%d\" ( ) }}",
        "template: t:1:16: missing value for parenthesized pipeline"},
    {"{{block \"foo\"}}hello{{end}}",
        "template: t:1:13: missing value for block clause"},
    /* parse_test.go errorTests, lines as Go's */
    {"line1\n{{", "template: t:2:2: unclosed action"},
    {"line1\n{{define `x`}}line2\n{{", "template: t:3:2: unclosed action"},
    {"line1\n{{\"x\"\n\"y\"\n",
        "template: t:4:0: unclosed action started at t:2"},
    {"{{\n\n\n\n\n", "template: t:6:0: unclosed action started at t:1"},
    {"line1\n{{\nx\n}}", "template: t:3:0: function \"x\" not defined"},
    {"{{/*}}", "template: t:1:2: unclosed comment"},
    {"{{/*\nhello\n}}", "template: t:1:2: unclosed comment"},
    {"{{.X (1 2 3}}", "template: t:1:11: unclosed left paren"},
    {"{{.X 1 2 3 ) }}", "template: t:1:11: unexpected right paren"},
    {"{{(.X 1 2 3", "template: t:1:11: unclosed action"},
    {"{{`x`3}}", "template: t:1:5: unexpected \"3\" in operand"},
    {"{{a#}}", "template: t:1:2: bad character U+0023 '#'"},
    {"{{'a}}", "template: t:1:2: unterminated character constant"},
    {"{{\"a}}", "template: t:1:2: unterminated quoted string"},
    {"{{`a}}", "template: t:1:2: unterminated raw quoted string"},
    {"{{0xi}}", "template: t:1:2: illegal number syntax: \"0xi\""},
    {"{{define `a`}}a{{end}}{{define `a`}}b{{end}}",
        "template: t:1:42: template: multiple definition of template \"a\""},
    {"{{range .X}}", "template: t:1:12: unexpected EOF"},
    {"{{$x := 23}}{{with $x.y := 3}}{{$x 23}}{{end}}",
        "template: t:1:24: unexpected \":=\" in operand"},
    {"{{$a,$b,$c := 23}}", "template: t:1:4: too many declarations in command"},
    {"{{ ( ) }}", "template: t:1:5: missing value for parenthesized pipeline"},
    {"{{ $v := `\n` }} {{", "template: t:2:7: unclosed action"},
    {"{{range $k}}{{end}}", "template: t:1:10: undefined variable \"$k\""},
    {"{{range $k, $v}}{{end}}", "template: t:1:14: undefined variable \"$v\""},
    {"{{range $k,}}{{end}}", "template: t:1:11: missing value for range"},
    {"{{range $k, $v := }}{{end}}",
        "template: t:1:18: missing value for range"},
    {"{{range $k, .}}{{end}}",
        "template: t:1:12: range can only initialize variables"},
    {"{{range $k, 123 := .}}{{end}}",
        "template: t:1:12: range can only initialize variables"},
    /* ours */
    {"{{ /* c */ }}", "template: t:1:3: unexpected \"/\" in command"},
    {"{{/* c */ }}", "template: t:1:2: comment ends before closing delimiter"},
    {"{{/* a */x}}", "template: t:1:2: comment ends before closing delimiter"},
    {"{{printf 1}x}}", "template: t:1:10: unexpected \"}\" in operand"},
    {"{{.A}x}}", "template: t:1:2: bad character U+007D '}'"},
    {"{{$x:1}}", "template: t:1:4: undefined variable \"$x\""},
    {"{{$x := 1}}{{$x:1}}", "template: t:1:15: expected :="},
    {"{{\x01}}", "template: t:1:2: unrecognized character in action: U+0001"},
    {"{{\xff}}",
        "template: t:1:2: unrecognized character in action: U+FFFD "
        "'\xef\xbf\xbd'"},
    {"{{if}}{{end}}", "template: t:1:4: missing value for if"},
    {"{{if end}}{{end}}", "template: t:1:5: unexpected <end> in if"},
    {"{{range .}}{{break 1}}{{end}}",
        "template: t:1:19: unexpected \"1\" in {{break}}"},
    {"{{with .}}{{else if .}}{{end}}",
        "template: t:1:17: unexpected <if> in input"},
    {"{{if .X}}a{{else with .Y}}b{{end}}",
        "template: t:1:17: unexpected <with> in input"},
    {"{{with .X}}a{{else with .Y}}b{{end}}{{end}}",
        "template: t:1:41: unexpected {{end}}"},
    {"{{range .}}{{else if .}}{{end}}",
        "template: t:1:18: unexpected <if> in input"},
    {"{{end x}}", "template: t:1:6: unexpected \"x\" in end"},
    {"{{define \"a\"}}x{{else}}y{{end}}",
        "template: t:1:21: unexpected {{else}} in define clause"},
    {"{{define .X}}{{end}}",
        "template: t:1:9: unexpected \".X\" in define clause"},
    {"{{define \"a\" .}}{{end}}",
        "template: t:1:13: unexpected <.> in define clause"},
    {"{{block \"b\" .}}x{{else}}y{{end}}",
        "template: t:1:13: unexpected {{else}} in block clause"},
    {"{{define \"a\"}}{{$x}}{{end}}",
        "template: t:1:18: undefined variable \"$x\""},
    {"{{$x := 1}}{{define \"a\"}}{{$x}}{{end}}",
        "template: t:1:29: undefined variable \"$x\""},
    {"{{range .}}{{block \"b\" .}}{{break}}{{end}}{{end}}",
        "template: t:1:33: {{break}} outside {{range}}"},
    {"y{{define \"t\"}}x{{end}}",
        "template: t:1:23: template: multiple definition of template \"t\""},
    {"{{template \"x\\x00y\"}}",
        "template: t:1:11: template name holds a NUL byte"},
    {"{{\"\\z\"}}", "template: t:1:2: invalid syntax"},
    {"{{\"\\ud800\"}}", "template: t:1:2: invalid syntax"},
    {"{{\"\\'\"}}", "template: t:1:2: invalid syntax"},
    {"{{''}}", "template: t:1:2: invalid syntax"},
    {"{{'\\400'}}", "template: t:1:2: invalid syntax"},
    {"{{'ab'}}", "template: t:1:2: malformed character constant: 'ab'"},
    {"{{1__0}}", "template: t:1:2: illegal number syntax: \"1__0\""},
    {"{{0x}}", "template: t:1:2: illegal number syntax: \"0x\""},
    {"{{08}}", "template: t:1:2: integer overflow: \"08\""},
    {"{{18446744073709551616}}",
        "template: t:1:2: integer overflow: \"18446744073709551616\""},
    {"{{1e400}}", "template: t:1:2: illegal number syntax: \"1e400\""},
    {"{{12ab}}", "template: t:1:2: bad number syntax: \"12a\""},
    {"{{1+2}}", "template: t:1:2: bad number syntax: \"1+2\""},
    {"{{0x1.8}}", "template: t:1:2: illegal number syntax: \"0x1.8\""},
    {"{{-}}", "template: t:1:2: illegal number syntax: \"-\""},
    {"{{1i}}", "template: t:1:2: complex constants are not supported: 1i"},
    {"a {{3-}} b", "template: t:1:4: bad number syntax: \"3-\""},
    {"{{\"0123456789abc\" x}}", "template: t:1:18: function \"x\" not defined"},
    {"{{\"0123456789abc\" }x}}",
        "template: t:1:18: unexpected \"}\" in operand"},
    {"{{define}}", "template: t:1:8: unexpected \"}}\" in define clause"},
    {"{{define. =", "template: t:1:8: unexpected <.> in define clause"},
    /* a block's body is a tree of its own: no variables from outside */
    {"{{define \"a\"}}{{$x := 1}}{{block \"b\" .}}{{$x}}{{end}}{{end}}",
        "template: t:1:44: undefined variable \"$x\""},
    {"{{define \"a\" \"0123456789abcdef\"}}",
        "template: t:1:13: unexpected \"\\\"012345678\"... in define clause"},
    {"{{if .}}{{define \"a\"}}{{end}}{{end}}",
        "template: t:1:10: unexpected <define> in command"},
    {"{{template}}", "template: t:1:10: unexpected \"}}\" in template clause"},
    {"{{- }}", "template: t:1:4: missing value for command"},
    {"{{if .}}\n{{else}}\n{{else}}{{end}}",
        "template: t:3:6: expected end; found {{else}}"},
    {"{{template \"a\" | printf}}",
        "template: t:1:15: unexpected \"|\" in template clause"},
    {"{{$a, $b := 1}}", "template: t:1:4: too many declarations in command"},
    {"{{printf \"0123456789abc\" 1 | \"0123456789abcdef\"}}",
        "template: t:1:47: non executable command in pipeline stage 2"},
    {"{{(printf 1) 2 ) }}", "template: t:1:15: unexpected right paren"},
    {"{{printf\n1 2 !}}", "template: t:2:4: unexpected \"!\" in operand"},
    {"a\nb\n{{if .}}\n{{.A.}}{{end}}",
        "template: t:4:4: unexpected <.> in operand"},
};

static void
test_errors(void **state)
{
	char err[TMPL_ERRLEN];
	struct tmpl *t;
	size_t i;

	for (i = 0; i < NITEMS(err_cases); i++) {
		t = tmpl_new("t");
		tmpl_funcs(t, fake_funcs, NITEMS(fake_funcs), NULL);
		err[0] = '\0';
		if (tmpl_parse(t, err_cases[i].in, strlen(err_cases[i].in), err,
		        sizeof(err)) != -1)
			fail_msg("%s: parsed", err_cases[i].in);
		if (strcmp(err, err_cases[i].err) != 0)
			fail_msg("%s: got '%s' want '%s'", err_cases[i].in, err,
			    err_cases[i].err);
		assert_true(t->broken);
		tmpl_free(t);
	}
}

/* the whole error with a NULL buffer, a short one, and a name */
static void
test_error_buffers(void **state)
{
	struct tmpl *t = tmpl_new("bird.cfg.template");
	char err[20];

	assert_int_equal(tmpl_parse(t, "{{end}}", 7, NULL, 0), -1);
	tmpl_free(t);
	t = tmpl_new("bird.cfg.template");
	assert_int_equal(tmpl_parse(t, "x\n{{foo}}", 9, err, sizeof(err)), -1);
	assert_string_equal(err, "template: bird.cfg.");
	tmpl_free(t);
}

static void
test_defines_and_blocks(void **state)
{
	struct tmpl *t;
	char *s;

	t = parse_ok("main",
	    "a{{define \"x\"}}X{{.}}{{end}}b{{block \"y\" .A}}Y{{template "
	    "\"x\"}}{{end}}c");
	s = tree_string(t, "main");
	assert_string_equal(s, "ab{{template \"y\" .A}}c");
	free(s);
	s = tree_string(t, "x");
	assert_string_equal(s, "X{{.}}");
	free(s);
	s = tree_string(t, "y");
	assert_string_equal(s, "Y{{template \"x\"}}");
	free(s);
	assert_null(tmpl_lookup(t, "z"));
	assert_string_equal(tmpl_lookup(t, "y")->parse_name, "main");
	tmpl_free(t);

	/* parse_test.go TestBlock */
	t = parse_ok("outer", "a{{block \"inner\" .}}bar{{.}}baz{{end}}b");
	s = tree_string(t, "outer");
	assert_string_equal(s, "a{{template \"inner\" .}}b");
	free(s);
	s = tree_string(t, "inner");
	assert_string_equal(s, "bar{{.}}baz");
	free(s);
	tmpl_free(t);

	/* the main template defined by name: the main body is empty */
	t = parse_ok("t", "{{define \"t\"}}x{{end}}\n");
	s = tree_string(t, "t");
	assert_string_equal(s, "x");
	free(s);
	tmpl_free(t);
}

/* Go's associate across Parse calls: later non-empty trees replace */
static void
test_parse_twice(void **state)
{
	struct tmpl *t = parse_ok("t", "{{define \"a\"}}one{{end}}main");
	char err[TMPL_ERRLEN];
	const char *two = "{{define \"a\"}}two{{end}}{{define \"b\"}} {{end}}";
	char *s;

	assert_int_equal(tmpl_parse(t, two, strlen(two), err, sizeof(err)), 0);
	s = tree_string(t, "a");
	assert_string_equal(s, "two");
	free(s);
	/* the second text's main body is empty: the first one stays */
	s = tree_string(t, "t");
	assert_string_equal(s, "main");
	free(s);
	s = tree_string(t, "b");
	assert_string_equal(s, " ");
	free(s);
	assert_int_equal(t->ntrees, 3);
	/* a failed parse leaves the trees alone and marks the set */
	assert_int_equal(
	    tmpl_parse(t, "{{define \"a\"}}x{{end}}{{", 24, err, sizeof(err)),
	    -1);
	s = tree_string(t, "a");
	assert_string_equal(s, "two");
	free(s);
	assert_true(t->broken);
	tmpl_free(t);
}

static struct tnode *
first_node(struct tmpl *t)
{
	struct ttree *tr = tmpl_lookup(t, "t");

	assert_non_null(tr);
	assert_true(tr->root->u.list.n > 0);
	return tr->root->u.list.nodes[0];
}

static void
assert_location(const struct tnode *n, const char *want)
{
	struct tbuf b = {0};

	tnode_location(&b, n);
	assert_string_equal(b.p, want);
	tbuf_free(&b);
}

static void
assert_string_of(const struct tnode *n, const char *want)
{
	struct tbuf b = {0};

	tnode_string(&b, n);
	assert_string_equal(b.p, want);
	tbuf_free(&b);
}

/* node kinds, fields and positions, as Go's parser sets them */
static void
test_nodes(void **state)
{
	struct tnode *a, *pipe, *cmd, *n;
	struct tmpl *t;

	t = parse_ok("t", "x\n  {{ getv \"/a\" .B.C $.D (ls `/`).E | json }}");
	assert_int_equal(tmpl_lookup(t, "t")->root->u.list.n, 2);
	a = tmpl_lookup(t, "t")->root->u.list.nodes[1];
	assert_int_equal(a->type, TN_ACTION);
	assert_int_equal(a->pos, 7); /* the first item after "{{" */
	pipe = a->u.action.pipe;
	assert_int_equal(pipe->type, TN_PIPE);
	assert_int_equal(pipe->u.pipe.ncmds, 2);
	assert_int_equal(pipe->u.pipe.ndecl, 0);
	cmd = pipe->u.pipe.cmds[0];
	assert_int_equal(cmd->type, TN_COMMAND);
	assert_int_equal(cmd->u.cmd.n, 5);
	assert_location(cmd, "t:2:5");
	assert_string_of(cmd, "getv \"/a\" .B.C $.D (ls `/`).E");
	n = cmd->u.cmd.args[0];
	assert_int_equal(n->type, TN_IDENTIFIER);
	assert_string_equal(n->u.field.ident[0], "getv");
	n = cmd->u.cmd.args[1];
	assert_int_equal(n->type, TN_STRING);
	assert_string_equal(n->u.str.s, "/a");
	assert_int_equal(n->u.str.len, 2);
	assert_string_equal(n->u.str.quoted, "\"/a\"");
	n = cmd->u.cmd.args[2];
	assert_int_equal(n->type, TN_FIELD);
	assert_int_equal(n->u.field.n, 2);
	assert_string_equal(n->u.field.ident[0], "B");
	assert_string_equal(n->u.field.ident[1], "C");
	/* Go's operand gives the chain's position: that of ".C" */
	assert_location(n, "t:2:17");
	n = cmd->u.cmd.args[3];
	assert_int_equal(n->type, TN_VARIABLE);
	assert_int_equal(n->u.field.n, 2);
	assert_string_equal(n->u.field.ident[0], "$");
	assert_string_equal(n->u.field.ident[1], "D");
	n = cmd->u.cmd.args[4];
	assert_int_equal(n->type, TN_CHAIN);
	assert_int_equal(n->u.chain.node->type, TN_PIPE);
	assert_int_equal(n->u.chain.n, 1);
	assert_string_equal(n->u.chain.field[0], "E");
	assert_location(n, "t:2:32");
	assert_string_of(n, "(ls `/`).E");
	cmd = pipe->u.pipe.cmds[1];
	assert_location(cmd, "t:2:37");
	tmpl_free(t);

	t = parse_ok("t", "{{if $x := getv \"/a\"}}{{$x}}{{else}}{{.}}{{end}}");
	n = first_node(t);
	assert_int_equal(n->type, TN_IF);
	assert_int_equal(n->pos, 5); /* the pipeline's */
	assert_int_equal(n->u.branch.pipe->u.pipe.ndecl, 1);
	assert_false(n->u.branch.pipe->u.pipe.is_assign);
	assert_string_equal(
	    n->u.branch.pipe->u.pipe.decl[0]->u.field.ident[0], "$x");
	assert_int_equal(n->u.branch.list->u.list.n, 1);
	assert_int_equal(
	    n->u.branch.else_list->u.list.nodes[0]->type, TN_ACTION);
	assert_int_equal(n->u.branch.else_list->u.list.nodes[0]
	                     ->u.action.pipe->u.pipe.cmds[0]
	                     ->u.cmd.args[0]
	                     ->type,
	    TN_DOT);
	tmpl_free(t);

	t = parse_ok("t", "{{range $i, $v := .}}{{break}}{{continue}}{{end}}");
	n = first_node(t);
	assert_int_equal(n->type, TN_RANGE);
	assert_int_equal(n->u.branch.pipe->u.pipe.ndecl, 2);
	assert_int_equal(n->u.branch.list->u.list.nodes[0]->type, TN_BREAK);
	assert_int_equal(n->u.branch.list->u.list.nodes[0]->pos, 23);
	assert_int_equal(n->u.branch.list->u.list.nodes[1]->type, TN_CONTINUE);
	assert_null(n->u.branch.else_list);
	tmpl_free(t);

	t = parse_ok("t", "{{with $x := 1}}{{$x = 2}}{{end}}");
	n = first_node(t)->u.branch.list->u.list.nodes[0];
	assert_true(n->u.action.pipe->u.pipe.is_assign);
	tmpl_free(t);

	t = parse_ok("t", "{{template \"a\"}}{{nil}}{{true}}{{false}}");
	n = first_node(t);
	assert_int_equal(n->type, TN_TEMPLATE);
	assert_string_equal(n->u.tmpl.name, "a");
	assert_null(n->u.tmpl.pipe);
	assert_int_equal(n->pos, 11);
	n = tmpl_lookup(t, "t")->root->u.list.nodes[1];
	assert_int_equal(
	    n->u.action.pipe->u.pipe.cmds[0]->u.cmd.args[0]->type, TN_NIL);
	n = tmpl_lookup(t, "t")->root->u.list.nodes[2];
	assert_true(n->u.action.pipe->u.pipe.cmds[0]->u.cmd.args[0]->u.b);
	n = tmpl_lookup(t, "t")->root->u.list.nodes[3];
	assert_false(n->u.action.pipe->u.pipe.cmds[0]->u.cmd.args[0]->u.b);
	tmpl_free(t);

	/* text keeps its bytes, NULs included */
	t = tmpl_new("t");
	assert_int_equal(tmpl_parse(t, "a\0b{{`\0`}}", 10, NULL, 0), 0);
	n = first_node(t);
	assert_int_equal(n->type, TN_TEXT);
	assert_int_equal(n->u.text.len, 3);
	assert_memory_equal(n->u.text.text, "a\0b", 3);
	n = tmpl_lookup(t, "t")->root->u.list.nodes[1];
	n = n->u.action.pipe->u.pipe.cmds[0]->u.cmd.args[0];
	assert_int_equal(n->u.str.len, 1);
	assert_int_equal(n->u.str.quoted_len, 3);
	tmpl_free(t);
}

static void
test_locations(void **state)
{
	struct tmpl *t = parse_ok("loc",
	    "{{.A}}\n\nab{{.B}}\n{{define \"d\"}}"
	    "\n  {{.C}}{{end}}");
	struct ttree *tr;

	tr = tmpl_lookup(t, "loc");
	assert_location(tr->root->u.list.nodes[0], "loc:1:2");
	assert_location(tr->root->u.list.nodes[2], "loc:3:4");
	tr = tmpl_lookup(t, "d");
	/* a define's nodes index the same text, under the parse's name */
	assert_location(tr->root->u.list.nodes[1], "loc:5:4");
	tmpl_free(t);
}

struct num_case {
	const char *text;
	bool is_int, is_float;
	int64_t i;
	double f;
};

/* parse_test.go numberTests, without the complex ones */
static const struct num_case num_cases[] = {
    {"0", true, true, 0, 0},
    {"-0", true, true, 0, 0},
    {"73", true, true, 73, 73},
    {"7_3", true, true, 73, 73},
    {"0b10_010_01", true, true, 73, 73},
    {"0B10_010_01", true, true, 73, 73},
    {"073", true, true, 073, 073},
    {"0o73", true, true, 073, 073},
    {"0O73", true, true, 073, 073},
    {"0x73", true, true, 0x73, 0x73},
    {"0X73", true, true, 0x73, 0x73},
    {"0x7_3", true, true, 0x73, 0x73},
    {"-73", true, true, -73, -73},
    {"+73", true, true, 73, 73},
    {"100", true, true, 100, 100},
    {"1e9", true, true, 1000000000, 1e9},
    {"-1e9", true, true, -1000000000, -1e9},
    {"-1.2", false, true, 0, -1.2},
    {"1e19", false, true, 0, 1e19},
    {"1e1_9", false, true, 0, 1e19},
    {"1E19", false, true, 0, 1e19},
    {"-1e19", false, true, 0, -1e19},
    {"0x_1p4", true, true, 16, 16},
    {"0X_1P4", true, true, 16, 16},
    {"0x_1p-4", false, true, 0, 1.0 / 16},
    {"4i", false, false, 0, 0}, /* refused: complex */
    {"0i", true, true, 0, 0},
    {"1+0i", true, true, 1, 1},
    {"'a'", true, true, 'a', 'a'},
    {"'\\n'", true, true, '\n', '\n'},
    {"'\\\\'", true, true, '\\', '\\'},
    {"'\\''", true, true, '\'', '\''},
    {"'\\xFF'", true, true, 0xFF, 0xFF},
    {"'\xe3\x83\x91'", true, true, 0x30D1, 0x30D1},
    {"'\\u30d1'", true, true, 0x30D1, 0x30D1},
    {"'\\U000030d1'", true, true, 0x30D1, 0x30D1},
    {"18446744073709551615", false, true, 0, 18446744073709551615.0},
    {"9223372036854775808", false, true, 0, 9223372036854775808.0},
    {"-9223372036854775808", true, true, INT64_MIN, -9223372036854775808.0},
    {"1.", true, true, 1, 1},
    {"2.5e0", false, true, 0, 2.5},
    {"+-2", false, false, 0, 0},
    {"0x123.", false, false, 0, 0},
    {"1e.", false, false, 0, 0},
    {"0xi.", false, false, 0, 0},
    {"1+2.", false, false, 0, 0},
    {"'x", false, false, 0, 0},
    {"'xx'", false, false, 0, 0},
    {"'433937734937734969526500969526500'", false, false, 0, 0},
    {"0xef", true, true, 0xef, 0xef},
};

static void
test_numbers(void **state)
{
	struct tnode n;
	char err[128];
	size_t i;
	int rc;

	for (i = 0; i < NITEMS(num_cases); i++) {
		const struct num_case *c = &num_cases[i];

		memset(&n, 0, sizeof(n));
		n.type = TN_NUMBER;
		rc = tnode_number(
		    &n, c->text, strlen(c->text), err, sizeof(err));
		if (!c->is_int && !c->is_float) {
			if (rc != -1)
				fail_msg("%s: parsed", c->text);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %s", c->text, err);
		if (n.u.num.is_int != c->is_int ||
		    n.u.num.is_float != c->is_float)
			fail_msg("%s: int %d float %d", c->text, n.u.num.is_int,
			    n.u.num.is_float);
		if (c->is_int && n.u.num.i != c->i)
			fail_msg("%s: %lld", c->text, (long long)n.u.num.i);
		if (n.u.num.f != c->f)
			fail_msg("%s: %g", c->text, n.u.num.f);
	}
}

struct unq_case {
	const char *in;
	const char *out; /* NULL: ErrSyntax */
	size_t outlen;
};

static const struct unq_case unq_cases[] = {
    {"\"\"", "", 0},
    {"\"a\"", "a", 1},
    {"\"abc\"", "abc", 3},
    {"\"\\a\\b\\f\\n\\r\\t\\v\\\\\\\"\"", "\a\b\f\n\r\t\v\\\"", 9},
    {"\"\\x00\"", "\0", 1},
    {"\"\\377\"", "\xff", 1},
    {"\"\\u263a\"", "\xe2\x98\xba", 3},
    {"\"\\U0010ffff\"", "\xf4\x8f\xbf\xbf", 4},
    {"\"\xff\"", "\xef\xbf\xbd", 3}, /* invalid UTF-8: U+FFFD */
    {"`a\\nb`", "a\\nb", 4},
    {"`a\r\nb`", "a\nb", 3},
    {"`\"`", "\"", 1},
    {"'a'", "a", 1},
    {"'\\''", "'", 1},
    {"'ab'", NULL, 0},
    {"\"a", NULL, 0},
    {"\"\\q\"", NULL, 0},
    {"\"\\'\"", NULL, 0},
    {"'\\\"'", NULL, 0},
    {"\"\\400\"", NULL, 0},
    {"\"\\x4\"", NULL, 0},
    {"\"\\U00110000\"", NULL, 0},
    {"\"\\udfff\"", NULL, 0},
    {"\"a\nb\"", NULL, 0},
    {"\"a\"b\"", NULL, 0},
    {"`a`b`", NULL, 0},
    {"x", NULL, 0},
    {"", NULL, 0},
};

static void
test_unquote(void **state)
{
	size_t i, len;
	char *out;
	int rc;

	for (i = 0; i < NITEMS(unq_cases); i++) {
		rc = tmpl_unquote(
		    unq_cases[i].in, strlen(unq_cases[i].in), &out, &len);
		if (unq_cases[i].out == NULL) {
			if (rc != -1)
				fail_msg("%s: unquoted", unq_cases[i].in);
			assert_null(out);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: failed", unq_cases[i].in);
		assert_int_equal(len, unq_cases[i].outlen);
		assert_memory_equal(out, unq_cases[i].out, len);
		assert_int_equal(out[len], '\0');
		free(out);
	}
}

static struct tval *
brk_fn(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	return tval_nil();
}

/* parse_test.go TestKeywordsAndFuncs; functions found newest first */
static void
test_functions(void **state)
{
	static const struct tmpl_func brk[] = {{"break", brk_fn, 1, 1}};
	static const struct tmpl_func one[] = {
	    {"f", brk_fn, 0, 0},
	    {"f", fake_fn, 1, 1},
	};
	static const struct tmpl_func two[] = {{"f", fake_fn, 2, 2}};
	const char *in = "{{range .X}}{{break 20}}{{end}}";
	struct tmpl *t;
	char err[TMPL_ERRLEN];
	void *ctx;
	int x, y;
	char *s;

	t = tmpl_new("t");
	tmpl_funcs(t, brk, 1, NULL);
	assert_int_equal(tmpl_parse(t, in, strlen(in), err, sizeof(err)), 0);
	s = tree_string(t, "t");
	assert_string_equal(s, in);
	free(s);
	tmpl_free(t);

	t = tmpl_new("t");
	assert_int_equal(tmpl_parse(t, in, strlen(in), err, sizeof(err)), -1);
	assert_string_equal(
	    err, "template: t:1:20: unexpected \"20\" in {{break}}");
	tmpl_free(t);

	t = tmpl_new("t");
	tmpl_funcs(t, one, 2, &x);
	assert_ptr_equal(tmpl_func_find(t, "f", &ctx), &one[1]);
	assert_ptr_equal(ctx, &x);
	tmpl_funcs(t, two, 1, &y);
	assert_ptr_equal(tmpl_func_find(t, "f", &ctx), &two[0]);
	assert_ptr_equal(ctx, &y);
	assert_null(tmpl_func_find(t, "nosuch", &ctx));
	/* the builtins come last */
	assert_non_null(tmpl_func_find(t, "printf", &ctx));
	assert_null(ctx);
	tmpl_free(t);
}

/* nesting beyond the bound is refused, at the bound it parses */
static void
test_depth(void **state)
{
	struct tmpl *t;
	char err[TMPL_ERRLEN], *in;
	size_t n, depth;
	int rc;

	for (depth = 1000; depth <= 1001; depth++) {
		in = malloc(depth * 16 + 16);
		n = 0;
		for (size_t i = 0; i < depth; i++)
			n += sprintf(in + n, "{{if .}}");
		n += sprintf(in + n, "x");
		for (size_t i = 0; i < depth; i++)
			n += sprintf(in + n, "{{end}}");
		t = tmpl_new("t");
		rc = tmpl_parse(t, in, n, err, sizeof(err));
		if (depth == 1000)
			assert_int_equal(rc, 0);
		else {
			assert_int_equal(rc, -1);
			assert_string_equal(err,
			    "template: t:1:8002: max "
			    "nesting depth exceeded");
		}
		tmpl_free(t);

		n = sprintf(in, "{{");
		for (size_t i = 0; i < depth; i++)
			in[n++] = '(';
		in[n++] = '1';
		for (size_t i = 0; i < depth; i++)
			in[n++] = ')';
		n += sprintf(in + n, "}}");
		t = tmpl_new("t");
		rc = tmpl_parse(t, in, n, err, sizeof(err));
		if (depth == 1000)
			assert_int_equal(rc, 0);
		else {
			assert_int_equal(rc, -1);
			assert_string_equal(err,
			    "template: t:1:1002: max "
			    "expression depth exceeded");
		}
		tmpl_free(t);
		free(in);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_error_buffers),
	    cmocka_unit_test(test_defines_and_blocks),
	    cmocka_unit_test(test_parse_twice),
	    cmocka_unit_test(test_nodes),
	    cmocka_unit_test(test_locations),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_unquote),
	    cmocka_unit_test(test_functions),
	    cmocka_unit_test(test_depth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
