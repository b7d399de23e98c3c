/*
 * confd/tmpl_*.c: the template engine, end to end.  A table of template
 * texts run against fixed data and a few fake functions, each with the
 * exact output Go's text/template gives, or the exact error: trimming,
 * literals, fields, pipelines, variables and their scopes, if/else,
 * range (lists, maps, empty, break/continue), with, define/template/block,
 * every builtin, printf, and error positions.  Expected values follow
 * Go's exec.go and funcs.go (and exec_test.go where it has the case).
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "confd/tmpl.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fake functions ---- */

static struct tval *
f_one(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	return tval_int(1);
}

static struct tval *
f_strs(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	struct tval *l = tval_list(TVE_STRING);

	tval_list_append(l, tval_str("x"));
	tval_list_append(l, tval_str("y"));
	return l;
}

static struct tval *
f_kvs(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	struct tval *l = tval_list(TVE_KV);

	tval_list_append(l, tval_kv("/k1", "v1"));
	tval_list_append(l, tval_kv("/k2", "v2"));
	return l;
}

static struct tval *
f_amap(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	struct tval *m = tval_map();

	tval_map_set(m, "n", tval_int(2));
	tval_map_set(m, "k", tval_str("v"));
	return m;
}

static struct tval *
f_fail(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	tmpl_call_error(c, "boom");
	return NULL;
}

static struct tval *
f_nil(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	return tval_nil();
}

static struct tval *
f_up(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	const char *s;
	size_t len, i;
	char *p;

	if (tmpl_arg_string(c, a[0], &s, &len) == -1)
		return NULL;
	p = malloc(len + 1);
	for (i = 0; i < len; i++)
		p[i] = (char)toupper((unsigned char)s[i]);
	return tval_str_take(p, len);
}

static struct tval *
f_add(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	int64_t x, y;

	if (tmpl_arg_int(c, a[0], &x) == -1 || tmpl_arg_int(c, a[1], &y) == -1)
		return NULL;
	return tval_int(x + y);
}

static struct tval *
f_join(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	struct tbuf b = {0};
	const char *s;
	size_t len, i;

	for (i = 0; i < n; i++) {
		if (tmpl_arg_string(c, a[i], &s, &len) == -1) {
			tbuf_free(&b);
			return NULL;
		}
		if (i > 0)
			tbuf_adds(&b, ",");
		tbuf_add(&b, s, len);
	}
	tbuf_add(&b, "", 0);
	return tval_str_take(b.p, b.len);
}

static struct tval *
f_ctx(struct tmpl_call *c, struct tval *const *a, size_t n, void *ctx)
{
	return tval_str(ctx);
}

static const struct tmpl_func funcs[] = {
    {"one", f_one, 0, 0},
    {"strs", f_strs, 0, 0},
    {"kvs", f_kvs, 0, 0},
    {"amap", f_amap, 0, 0},
    {"fail", f_fail, 0, -1},
    {"nilf", f_nil, 0, 0},
    {"up", f_up, 1, 1},
    {"add", f_add, 2, 2},
    {"join", f_join, 1, -1},
    {"ctx", f_ctx, 0, 0},
};

/* ---- data ---- */

static struct tval *
strlist(enum tval_elem e, int n, ...)
{
	struct tval *l = tval_list(e);
	va_list ap;

	va_start(ap, n);
	while (n-- > 0)
		tval_list_append(l, va_arg(ap, struct tval *));
	va_end(ap);
	return l;
}

static struct tval *
make_data(void)
{
	struct tval *m = tval_map(), *msi = tval_map(), *n = tval_map(),
	            *a = tval_map();
	struct timespec ts = {1257894000, 0};

	tval_map_set(m, "I", tval_int(17));
	tval_map_set(m, "F", tval_float(1.5));
	tval_map_set(m, "S", tval_str("xyz"));
	tval_map_set(m, "B", tval_bool(true));
	tval_map_set(m, "Z", tval_str(""));
	tval_map_set(m, "Zero", tval_int(0));
	tval_map_set(m, "Nil", tval_nil());
	tval_map_set(m, "SS",
	    strlist(
	        TVE_STRING, 3, tval_str("a"), tval_str("b"), tval_str("c")));
	tval_map_set(m, "SI",
	    strlist(TVE_ANY, 3, tval_int(3), tval_str("x"), tval_nil()));
	tval_map_set(m, "Empty", tval_list(TVE_ANY));
	tval_map_set(m, "EmptySS", tval_list(TVE_STRING));
	tval_map_set(msi, "one", tval_int(1));
	tval_map_set(msi, "two", tval_int(2));
	tval_map_set(msi, "three", tval_int(3));
	tval_map_set(m, "MSI", msi);
	tval_map_set(m, "M", tval_map());
	tval_map_set(m, "KV", tval_kv("/a/b", "v1"));
	tval_map_set(m, "KVs",
	    strlist(TVE_KV, 2, tval_kv("/k1", "v1"), tval_kv("/k2", "v2")));
	tval_map_set(a, "b", tval_str("deep"));
	tval_map_set(n, "a", a);
	tval_map_set(m, "N", n);
	tval_map_set(m, "T", tval_time(&ts, 0, "UTC"));
	/* JSON numbers are float64, as confd's json gives them */
	tval_map_set(m, "AS", tval_float(64512));
	tval_map_set(m, "Big", tval_float(1e6));
	tval_map_set(m, "Port", tval_float(179));
	return m;
}

/* ---- the table ---- */

struct tcase {
	const char *text;
	const char *want; /* the output, before the error if any */
	const char *err; /* NULL: success */
};

static const struct tcase cases[] = {
    /* text and trimming */
    {"hello", "hello", NULL},
    {"", "", NULL},
    {"a {{- \" b \" -}} c", "a b c", NULL},
    {"a  {{- 1}}  {{- 2 -}}  b", "a12b", NULL},
    {"x\n{{- .I}}\n", "x17\n", NULL},
    {"{{/* comment */}}x", "x", NULL},
    {"a {{- /* c */ -}} b", "ab", NULL},
    {"{{- /* c */}}\n  y", "\n  y", NULL},
    {"{{.I -}}\n\t {{.I}}", "1717", NULL},

    /* literals and number constants */
    {"{{\"str\"}}", "str", NULL},
    {"{{`raw\\n`}}", "raw\\n", NULL},
    {"{{\"a\\tb\\u00e9\"}}", "a\tb\xc3\xa9", NULL},
    {"{{1}} {{-1}} {{1.5}} {{1e3}} {{0x1F}} {{0o17}} {{0b101}} {{'a'}} "
     "{{1_000}}",
        "1 -1 1.5 1000 31 15 5 97 1000", NULL},
    {"{{1.0}} {{1e100}} {{0.000001}} {{1e6}} {{123456.0}} {{-0.5}}",
        "1 1e+100 1e-06 1e+06 123456 -0.5", NULL},
    {"{{printf \"%T %T %T %T %T\" 1 1.0 1e2 0x10 'a'}}",
        "int float64 float64 int int", NULL},
    {"{{true}} {{false}}", "true false", NULL},
    /* past int64: Go's IsUint constant, no int and no float */
    {"a{{print 9223372036854775808}}", "a",
        "template: t:1:9: executing \"t\" at <9223372036854775808>: "
        "9223372036854775808 overflows int"},
    {"{{9223372036854775808}}", "",
        "template: t:1:2: executing \"t\" at <9223372036854775808>: "
        "9223372036854775808 overflows int"},
    {"{{add 0xFFFFFFFFFFFFFFFF 1}}", "",
        "template: t:1:6: executing \"t\" at <0xFFFFFFFFFFFFFFFF>: "
        "expected integer; found 0xFFFFFFFFFFFFFFFF"},
    {"{{print 9223372036854775807 -9223372036854775808}}",
        "9223372036854775807 -9223372036854775808", NULL},
    {"{{nil}}", "",
        "template: t:1:2: executing \"t\" at <nil>: nil is not a command"},

    /* fields and dot */
    {"{{.I}} {{.S}} {{.F}} {{.B}}", "17 xyz 1.5 true", NULL},
    {"{{.Missing}}|{{.Nil}}", "<no value>|<no value>", NULL},
    {"{{.N.a.b}} {{.N.x.y}}", "deep <no value>", NULL},
    {"{{.KV.Key}}={{.KV.Value}} {{.KV}}", "/a/b=v1 {/a/b v1}", NULL},
    {"{{.SS}} {{.SI}} {{.Empty}} {{.M}}", "[a b c] [3 x <nil>] [] map[]", NULL},
    {"{{.MSI}}", "map[one:1 three:3 two:2]", NULL},
    {"{{.KVs}}", "[{/k1 v1} {/k2 v2}]", NULL},
    {"{{.S.foo}}", "",
        "template: t:1:4: executing \"t\" at <.S.foo>: can't evaluate field "
        "foo in type interface {}"},
    {"{{$s := .S}}{{$s.foo}}", "",
        "template: t:1:16: executing \"t\" at <$s.foo>: can't evaluate "
        "field foo in type string"},
    {"{{.Nil.foo}}", "",
        "template: t:1:6: executing \"t\" at <.Nil.foo>: nil pointer "
        "evaluating interface {}.foo"},
    {"{{range .KVs}}{{.Foo}}{{end}}", "",
        "template: t:1:16: executing \"t\" at <.Foo>: can't evaluate field "
        "Foo in type memkv.KVPair"},
    {"{{.MSI.one 1}}", "",
        "template: t:1:6: executing \"t\" at <.MSI.one>: one is not a method "
        "but has arguments"},
    {"{{.KV.Key 1}}", "",
        "template: t:1:5: executing \"t\" at <.KV.Key>: Key has arguments "
        "but cannot be invoked as function"},
    {"{{$.I}} {{with .N}}{{$.S}}{{.a.b}}{{end}}", "17 xyzdeep", NULL},

    /* pipelines and functions */
    {"{{.S | up}}", "XYZ", NULL},
    {"{{\"a\" | printf \"%s-%s\" \"b\"}}", "b-a", NULL},
    {"{{1 | add 2}} {{add 3 4 | add 1}}", "3 8", NULL},
    {"{{.I | printf \"%d\" | printf \"[%s]\"}}", "[17]", NULL},
    {"{{one}} {{strs}} {{kvs}} {{amap}}",
        "1 [x y] [{/k1 v1} {/k2 v2}] map[k:v n:2]", NULL},
    {"{{(amap).k}} {{amap.n}} {{(kvs)}}", "v 2 [{/k1 v1} {/k2 v2}]", NULL},
    {"{{nilf}} {{print (nilf)}} {{print nilf}}", "<no value> <nil> <nil>",
        NULL},
    {"{{join \"a\" \"b\" \"c\"}} {{\"z\" | join \"y\"}}", "a,b,c y,z", NULL},
    {"{{ctx}}", "the-ctx", NULL},
    {"{{up}}", "",
        "template: t:1:2: executing \"t\" at <up>: wrong number of args for "
        "up: want 1 got 0"},
    {"{{up \"a\" \"b\"}}", "",
        "template: t:1:2: executing \"t\" at <up>: wrong number of args for "
        "up: want 1 got 2"},
    {"{{\"x\" | up \"a\"}}", "",
        "template: t:1:8: executing \"t\" at <up>: wrong number of args for "
        "up: want 1 got 2"},
    {"{{join}}", "",
        "template: t:1:2: executing \"t\" at <join>: wrong number of args for "
        "join: want at least 1 got 0"},
    {"{{up 3}}", "",
        "template: t:1:5: executing \"t\" at <3>: expected string; found 3"},
    {"{{up nil}}", "",
        "template: t:1:5: executing \"t\" at <nil>: cannot assign nil to "
        "string"},
    {"{{up .I}}", "",
        "template: t:1:5: executing \"t\" at <.I>: wrong type for value; "
        "expected string; got int"},
    {"{{up .Missing}}", "",
        "template: t:1:5: executing \"t\" at <.Missing>: invalid value; "
        "expected string"},
    {"{{.I | up}}", "",
        "template: t:1:7: executing \"t\" at <up>: wrong type for value; "
        "expected string; got int"},
    {"{{add 1 \"2\"}}", "",
        "template: t:1:8: executing \"t\" at <\"2\">: expected integer; found "
        "\"2\""},
    {"{{add 1 .Missing}}", "",
        "template: t:1:8: executing \"t\" at <.Missing>: invalid value; "
        "expected int"},
    {"{{join \"a\" .S .Nil}}", "",
        "template: t:1:14: executing \"t\" at <.Nil>: wrong type for value; "
        "expected string; got interface {}"},
    {"{{fail}}", "",
        "template: t:1:2: executing \"t\" at <fail>: error calling fail: "
        "boom"},
    {"a{{.I}}{{fail 1 2}}b", "a17",
        "template: t:1:9: executing \"t\" at <fail 1 2>: error calling fail: "
        "boom"},
    {"{{fail \"aaaaaaaaaaaaaaaaaaaaaaaaa\"}}", "",
        "template: t:1:2: executing \"t\" at <fail \"aaaaaaaaaaaaaa...>: "
        "error calling fail: boom"},
    {"{{$x := 1}}{{3 | $x}}", "",
        "template: t:1:17: executing \"t\" at <$x>: can't give argument to "
        "non-function $x"},
    {"{{.I | .S}}", "",
        "template: t:1:7: executing \"t\" at <.S>: S is not a method but has "
        "arguments"},

    /* variables */
    {"{{$x := 1}}{{$x}}", "1", NULL},
    {"{{$x := 1}}{{$x = 2}}{{$x}}", "2", NULL},
    {"{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", "2", NULL},
    {"{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", "21", NULL},
    {"{{$x := 1}}{{range .SS}}{{$x = .}}{{end}}{{$x}}", "c", NULL},
    {"{{$x := .I}}{{with $y := .S}}{{$x}}{{$y}}{{end}}", "17xyz", NULL},
    {"{{$x := 1}}{{define \"b\"}}[{{$}}]{{end}}{{template \"b\" 5}}{{$x}}",
        "[5]1", NULL},

    {"{{$x := 1}}{{with $x := 2}}{{$x}}{{end}}{{$x}}", "21", NULL},
    {"{{$i := 0}}{{$v := \"\"}}{{range $i, $v = .SS}}{{end}}{{$i}}{{$v}}", "2c",
        NULL},
    {"{{\"a\" | printf \"%s%s\" \"b\" | printf \"%s|\"}} {{.SS | len}}",
        "ba| 3", NULL},
    {"{{(printf \"a\").x}}", "",
        "template: t:1:10: executing \"t\" at <\"a\">: can't evaluate field "
        "x in type string"},
    {"{{index (index .SI 0) 0}}", "",
        "template: t:1:2: executing \"t\" at <index (index .SI 0) ...>: "
        "error calling index: can't index item of type int"},
    {"{{range $i, $v := 3}}{{end}}", "",
        "template: t:1:18: executing \"t\" at <3>: can't use 3 to iterate "
        "over more than one variable"},

    /* if */
    {"{{if .B}}yes{{else}}no{{end}}", "yes", NULL},
    {"{{if .Z}}y{{else}}n{{end}}{{if .Zero}}y{{else}}n{{end}}"
     "{{if .Empty}}y{{else}}n{{end}}{{if .M}}y{{else}}n{{end}}"
     "{{if .Missing}}y{{else}}n{{end}}{{if .Nil}}y{{else}}n{{end}}",
        "nnnnnn", NULL},
    {"{{if .KV}}y{{end}}{{if .F}}y{{end}}{{if .SS}}y{{end}}"
     "{{if .MSI}}y{{end}}{{if \"0\"}}y{{end}}",
        "yyyyy", NULL},
    {"{{if eq .I 1}}a{{else if eq .I 17}}b{{else}}c{{end}}", "b", NULL},
    {"{{if eq .I 1}}a{{else if eq .I 2}}b{{else}}c{{end}}", "c", NULL},
    {"{{if $v := .S}}{{$v}}{{end}}", "xyz", NULL},

    /* and or not */
    {"{{and .B .S}} {{and .B .Z .S}}| {{or .Z .Zero}} {{or .Z .S}}",
        "xyz | 0 xyz", NULL},
    {"{{or 1 fail}} {{and 0 fail}} {{.S | and 1}} {{.Z | or 0}}", "1 0 xyz ",
        NULL},
    {"{{and 1 fail}}", "",
        "template: t:1:8: executing \"t\" at <fail>: error calling fail: "
        "boom"},
    {"{{and}}", "",
        "template: t:1:2: executing \"t\" at <and>: wrong number of args for "
        "and: want at least 1 got 0"},
    {"{{not .B}} {{not .Z}} {{not 0}} {{not .Missing}}", "false true true true",
        NULL},

    /* exec_test.go's boolean and printf vectors */
    {"{{and false 0}} {{and 1 0}} {{and 0 true}} {{and 1 1}}", "false 0 0 1",
        NULL},
    {"{{or 0 0}} {{or 1 0}} {{or 0 true}} {{or 1 1}}", "0 1 true 1", NULL},
    {"{{and 1 .Unknown}}|{{or 0 .Unknown}}", "<no value>|<no value>", NULL},
    {"{{if true | not | and 1}}TRUE{{else}}FALSE{{end}}", "FALSE", NULL},
    {"{{printf `%T` 0xef}} {{printf \"%04x\" -1}} {{printf \"%d\" \"7\"}} "
     "{{\"aaa\"|printf}} {{print nil}} {{printf \"%o\" 9}} "
     "{{printf \"%b\" 9}}",
        "int -001 %!d(string=7) aaa <nil> 11 1001", NULL},
    {"{{printf \"%G\" 1234567.0}} {{printf \"%b\" 1.0}} "
     "{{printf \"%#g\" 1230000.0}} {{printf \"%+.3x\" 1.0}}",
        "1.234567E+06 4503599627370496p-52 1.23000e+06 +0x1.000p+00", NULL},
    {"{{range $x, $y := .SI}}<{{$x}}={{$y}}>{{end}}",
        "<0=3><1=x><2=<no value>>", NULL},
    {"{{$i := 0}}{{range $i = .SS}}{{end}}{{$i}}", "c", NULL},

    /* with */
    {"{{with .S}}{{.}}{{end}}", "xyz", NULL},
    {"{{with .Z}}x{{else}}empty{{end}}", "empty", NULL},
    {"{{with $v := .I}}{{$v}}{{.}}{{end}}", "1717", NULL},
    {"{{with .Missing}}x{{end}}", "", NULL},
    /* Go 1.23's {{else with}} */
    {"{{with .Z}}a{{else with .S}}[{{.}}]{{else}}n{{end}}", "[xyz]", NULL},
    {"{{with .Z}}a{{else with $v := .Zero}}b{{else with .Nil}}c{{else}}"
     "[{{.I}}]{{end}}",
        "[17]", NULL},
    {"{{with .I}}{{.}}{{else with .S}}{{.}}{{end}}", "17", NULL},

    /* range */
    {"{{range .SS}}{{.}}{{end}}", "abc", NULL},
    {"{{range $i, $v := .SS}}{{$i}}:{{$v}} {{end}}", "0:a 1:b 2:c ", NULL},
    {"{{range $v := .SS}}{{$v}}{{end}}", "abc", NULL},
    {"{{range $k, $v := .MSI}}{{$k}}={{$v}};{{end}}", "one=1;three=3;two=2;",
        NULL},
    {"{{range .MSI}}{{.}}{{end}}", "132", NULL},
    {"{{range .Empty}}x{{else}}empty{{end}}", "empty", NULL},
    {"{{range .EmptySS}}x{{else}}e{{end}}{{range .M}}x{{else}}m{{end}}", "em",
        NULL},
    {"{{range .Missing}}x{{else}}none{{end}}", "none", NULL},
    {"{{range .SI}}[{{.}}]{{end}}", "[3][x][<no value>]", NULL},
    {"{{range $i, $e := .KVs}}{{$i}}{{$e.Key}}{{.Value}}{{end}}",
        "0/k1v11/k2v2", NULL},
    {"{{range kvs}}{{.Key}} {{end}}", "/k1 /k2 ", NULL},
    {"{{range 3}}{{.}}{{end}}", "012", NULL},
    {"{{range .SS}}{{if eq . \"b\"}}{{break}}{{end}}{{.}}{{end}}", "a", NULL},
    {"{{range .SS}}{{if eq . \"b\"}}{{continue}}{{end}}{{.}}{{end}}", "ac",
        NULL},
    {"{{range .SS}}{{range $.SS}}{{break}}{{end}}{{.}}{{end}}", "abc", NULL},
    {"{{range .S}}x{{end}}", "",
        "template: t:1:8: executing \"t\" at <.S>: range can't iterate over "
        "xyz"},
    {"{{range .SI}}{{.foo}}{{end}}", "",
        "template: t:1:15: executing \"t\" at <.foo>: can't evaluate field foo "
        "in type interface {}"},

    /* define, template, block */
    {"{{define \"T1\"}}ONE{{end}}{{define \"T2\"}}TWO {{template "
     "\"T1\"}}{{end}}{{template \"T2\"}}",
        "TWO ONE", NULL},
    {"{{define \"x\"}}{{.}}{{end}}{{template \"x\" .S}}|{{template \"x\"}}",
        "xyz|<no value>", NULL},
    {"{{block \"b\" .I}}[{{.}}]{{end}}", "[17]", NULL},
    {"{{define \"r\"}}{{.}}{{if gt . 0}}{{template \"r\" (add . "
     "-1)}}{{end}}{{end}}{{template \"r\" 3}}",
        "3210", NULL},
    {"{{template \"nope\"}}", "",
        "template: t:1:11: executing \"t\" at <{{template \"nope\"}}>: "
        "template \"nope\" not defined"},
    {"{{define \"d\"}}{{fail}}{{end}}{{template \"d\"}}", "",
        "template: t:1:16: executing \"d\" at <fail>: error calling fail: "
        "boom"},
    {"{{define \"r\"}}{{template \"r\"}}{{end}}{{template \"r\"}}", "",
        "template: t:1:25: executing \"r\" at <{{template \"r\"}}>: exceeded "
        "maximum template depth (100000)"},

    /* error positions on later lines */
    {"line1\n{{.I}}\n  {{up .I}}", "line1\n17\n  ",
        "template: t:3:7: executing \"t\" at <.I>: wrong type for value; "
        "expected string; got int"},
    {"a\nb {{.S.x}}", "a\nb ",
        "template: t:2:6: executing \"t\" at <.S.x>: can't evaluate field x "
        "in type interface {}"},

    /* eq ne lt le gt ge */
    {"{{eq 1 1}} {{eq \"a\" \"a\"}} {{eq 1 2 3 1}} {{eq .I 17}} "
     "{{eq .S \"xyz\"}} {{eq .Missing .Nil}} {{eq .B true}}",
        "true true true true true true true", NULL},
    {"{{ne 1 2}} {{ne \"a\" \"a\"}} {{eq .Nil 1}} {{eq 1.5 1.5}} "
     "{{eq .KV .KV}}",
        "true false false true true", NULL},
    {"{{eq 1 \"a\"}}", "",
        "template: t:1:2: executing \"t\" at <eq 1 \"a\">: error calling eq: "
        "incompatible types for comparison: int and string"},
    {"{{eq 1 1.0}}", "",
        "template: t:1:2: executing \"t\" at <eq 1 1.0>: error calling eq: "
        "incompatible types for comparison: int and float64"},
    {"{{eq .SS .SS}}", "",
        "template: t:1:2: executing \"t\" at <eq .SS .SS>: error calling eq: "
        "non-comparable type [a b c]: []string"},
    {"{{eq .SS .MSI}}", "",
        "template: t:1:2: executing \"t\" at <eq .SS .MSI>: error calling eq: "
        "non-comparable types [a b c]: []string, map[string]interface {}: "
        "map[one:1 three:3 two:2]"},
    {"{{eq 1}}", "",
        "template: t:1:2: executing \"t\" at <eq 1>: error calling eq: "
        "missing argument for comparison"},
    {"{{lt 1 2}} {{lt 2 1}} {{lt 1.5 2.5}} {{lt \"a\" \"b\"}} "
     "{{lt \"b\" \"a\"}} {{le 2 2}} {{gt 3 2}} {{ge 2 3}} {{le \"b\" \"a\"}} "
     "{{gt 1.5 1.5}}",
        "true false true true false true true false false false", NULL},
    {"{{lt \"Z\" \"a\"}} {{lt \"\xc3\xa9\" \"z\"}} {{lt \"ab\" \"abc\"}}",
        "true false true", NULL},
    {"{{lt 1 1.5}}", "",
        "template: t:1:2: executing \"t\" at <lt 1 1.5>: error calling lt: "
        "incompatible types for comparison: int and float64"},
    {"{{lt true false}}", "",
        "template: t:1:2: executing \"t\" at <lt true false>: error calling "
        "lt: invalid type for comparison"},
    {"{{ge .SS 1}}", "",
        "template: t:1:2: executing \"t\" at <ge .SS 1>: error calling ge: "
        "invalid type for comparison"},
    {"{{lt .Nil 1}}", "",
        "template: t:1:2: executing \"t\" at <lt .Nil 1>: error calling lt: "
        "invalid type for comparison"},

    /* len index */
    {"{{len .SS}} {{len .MSI}} {{len .S}} {{len \"h\xc3\xa9llo\"}} "
     "{{len .Empty}} {{len strs}}",
        "3 3 3 6 0 2", NULL},
    {"{{len 3}}", "",
        "template: t:1:2: executing \"t\" at <len 3>: error calling len: len "
        "of type int"},
    {"{{len .Nil}}", "",
        "template: t:1:2: executing \"t\" at <len .Nil>: error calling len: "
        "len of nil pointer"},
    {"{{index .SS 1}} {{index .MSI \"two\"}} {{index .MSI \"x\"}} "
     "{{index .N \"a\" \"b\"}} {{index .SS}} {{index .S 1}} "
     "{{index .SI 2}}",
        "b 2 <no value> deep [a b c] 121 <no value>", NULL},
    {"{{printf \"%v\" (index .MSI \"x\")}}", "<nil>", NULL},
    {"{{index .SS 5}}", "",
        "template: t:1:2: executing \"t\" at <index .SS 5>: error calling "
        "index: index out of range: 5"},
    {"{{index .SS -1}}", "",
        "template: t:1:2: executing \"t\" at <index .SS -1>: error calling "
        "index: index out of range: -1"},
    {"{{index .SS \"a\"}}", "",
        "template: t:1:2: executing \"t\" at <index .SS \"a\">: error calling "
        "index: cannot index slice/array with type string"},
    {"{{index .MSI 1}}", "",
        "template: t:1:2: executing \"t\" at <index .MSI 1>: error calling "
        "index: value has type int; should be string"},
    {"{{index .I 1}}", "",
        "template: t:1:2: executing \"t\" at <index .I 1>: error calling "
        "index: can't index item of type int"},
    {"{{index .Missing 1}}", "",
        "template: t:1:2: executing \"t\" at <index .Missing 1>: error "
        "calling index: index of untyped nil"},
    {"{{index .SI 2 0}}", "",
        "template: t:1:2: executing \"t\" at <index .SI 2 0>: error calling "
        "index: index of nil pointer"},

    /* print printf println */
    {"{{print \"a\" 1 2 \"b\"}}|{{print}}|{{println}}|{{println 1 \"a\"}}",
        "a1 2b||\n|1 a\n", NULL},
    {"{{print .Missing}} {{print .SS .MSI}}",
        "<nil> [a b c] map[one:1 three:3 two:2]", NULL},
    {"{{printf \"%5.2f|%-4d|%x|%q|%v\" 3.14159 7 255 \"hi\" .SS}}",
        " 3.14|7   |ff|\"hi\"|[a b c]", NULL},
    {"{{printf \"%d\"}}|{{printf \"%s\" 1}}|{{printf \"%d %d\" 1 2 3}}",
        "%!d(MISSING)|%!s(int=1)|1 2%!(EXTRA int=3)", NULL},
    {"{{printf \"%v %v %+v\" .Nil .KV .KV}}",
        "<nil> {/a/b v1} {Key:/a/b Value:v1}", NULL},
    {"{{printf \"%T %T %T %T %T\" 1 1.5 \"s\" .SS .MSI}}",
        "int float64 string []string map[string]interface {}", NULL},
    {"{{printf \"%06.2f|%+d|% d|%o|%#x|%X|%c|%U\" -1.5 5 5 8 255 255 65 "
     "65}}",
        "-01.50|+5| 5|10|0xff|FF|A|U+0041", NULL},
    {"{{printf \"%s %10s|%-5s|%.2s\" .SS \"r\" \"l\" \"trunc\"}}",
        "[a b c]          r|l    |tr", NULL},
    {"{{printf \"%g %e %.3g %v\" 1e21 123456.789 2.0 100000000.0}}",
        "1e+21 1.234568e+05 2 1e+08", NULL},
    {"{{printf \"%q %v\" .SI .SI}}", "['\\x03' \"x\" <nil>] [3 x <nil>]", NULL},
    {"{{printf \"%*d|%-*d|\" 4 1 3 2}}", "   1|2  |", NULL},
    {"{{printf \"%[2]d %[1]d\" 1 2}}", "2 1", NULL},
    {"{{printf 3}}", "",
        "template: t:1:9: executing \"t\" at <3>: expected string; found 3"},
    {"{{printf \"%d%%\" 50}}", "50%", NULL},

    /* float64 JSON numbers as Calico's templates use them */
    {"{{.AS}} {{.Big}} {{.Port}} {{print .AS .Port}} {{.AS | printf \"%v\"}}",
        "64512 1e+06 179 64512 179 64512", NULL},
    {"{{printf \"%s_port_%.0f\" \"10_0_0_1\" .Port}} {{printf \"%.0f\" "
     ".Big}}",
        "10_0_0_1_port_179 1000000", NULL},
    {"{{printf \"%d|%s|%5.1f|%x\" .AS .AS .Port .Port}}",
        "%!d(float64=64512)|%!s(float64=64512)|179.0|0x1.66p+07", NULL},
    {"{{if eq .AS 64512.0}}y{{end}}{{if gt .Port 100.0}}g{{end}}", "yg", NULL},
    {"{{eq .AS 64512}}", "",
        "template: t:1:2: executing \"t\" at <eq .AS 64512>: error calling "
        "eq: incompatible types for comparison: float64 and int"},

    /* time values and their Format method */
    {"{{.T.Format \"2006-01-02 15:04\"}} {{.T}}",
        "2009-11-10 23:00 2009-11-10 23:00:00 +0000 UTC", NULL},
    {"{{.T.Format}}", "",
        "template: t:1:4: executing \"t\" at <.T.Format>: wrong number of "
        "args for Format: want 1 got 0"},
    {"{{.T.Format 1}}", "",
        "template: t:1:12: executing \"t\" at <1>: expected string; found 1"},
};

/* one case; false after printing what differs */
static bool
run_case(const struct tcase *tc, struct tval *data)
{
	struct tmpl *t = tmpl_new("t");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];
	const char *got;
	bool ok = true;
	int rc;

	tmpl_funcs(t, funcs, NITEMS(funcs), (void *)"the-ctx");
	if (tmpl_parse(t, tc->text, strlen(tc->text), err, sizeof(err)) == -1) {
		print_error("case %s: parse: %s\n", tc->text, err);
		tmpl_free(t);
		return false;
	}
	rc = tmpl_execute(t, NULL, data, &out, err, sizeof(err));
	got = out.p != NULL ? out.p : "";
	if (tc->err == NULL && rc != 0) {
		print_error("case %s: unexpected error: %s\n", tc->text, err);
		ok = false;
	} else if (tc->err != NULL && (rc != -1 || strcmp(err, tc->err))) {
		print_error("case %s:\n got  %s\n want %s\n", tc->text,
		    rc == -1 ? err : "(success)", tc->err);
		ok = false;
	}
	if (strcmp(got, tc->want) != 0) {
		print_error("case %s:\n out  [%s]\n want [%s]\n", tc->text, got,
		    tc->want);
		ok = false;
	}
	tbuf_free(&out);
	tmpl_free(t);
	return ok;
}

static void
test_table(void **state)
{
	struct tval *data = make_data();
	size_t i, bad = 0;

	for (i = 0; i < NITEMS(cases); i++)
		if (!run_case(&cases[i], data))
			bad++;
	tval_unref(data);
	assert_int_equal(bad, 0);
}

/* {{$}} prints the whole data map: %v of map[string]interface {} */
static void
test_print_dot(void **state)
{
	struct tval *m = tval_map(), *l = tval_list(TVE_ANY);
	struct tmpl *t = tmpl_new("t");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];

	tval_list_append(l, tval_float(0.25));
	tval_list_append(l, tval_list(TVE_STRING));
	tval_map_set(m, "b", l);
	tval_map_set(m, "a", tval_kv("/k", "v"));
	tval_map_set(m, "c", tval_nil());
	assert_int_equal(tmpl_parse(t, "{{$}}|{{.}}", 11, err, sizeof(err)), 0);
	assert_int_equal(tmpl_execute(t, NULL, m, &out, err, sizeof(err)), 0);
	assert_string_equal(out.p,
	    "map[a:{/k v} b:[0.25 []] c:<nil>]|"
	    "map[a:{/k v} b:[0.25 []] c:<nil>]");
	tbuf_free(&out);
	tmpl_free(t);
	tval_unref(m);
}

/* nil data, as confd passes */
static void
test_nil_data(void **state)
{
	struct tmpl *t = tmpl_new("n");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];
	const char *text = "{{.}}|{{.Foo.Bar}}|{{$}}|{{if .}}y{{else}}n{{end}}"
	                   "|{{len .}}";

	assert_int_equal(
	    tmpl_parse(t, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(
	    tmpl_execute(t, NULL, NULL, &out, err, sizeof(err)), -1);
	assert_string_equal(out.p, "<no value>|<no value>|<no value>|n|");
	assert_string_equal(err,
	    "template: n:1:53: executing \"n\" at <len .>: error calling len: "
	    "reflect: call of reflect.Value.Type on zero Value");
	tbuf_free(&out);
	tmpl_free(t);
}

/* tmpl_execute by name, and a name the set lacks */
static void
test_execute_named(void **state)
{
	struct tmpl *t = tmpl_new("main");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];
	const char *text = "M{{define \"sub\"}}S{{.}}{{end}}";

	assert_int_equal(
	    tmpl_parse(t, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(
	    tmpl_execute(t, "sub", NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out.p, "S<no value>");
	assert_int_equal(
	    tmpl_execute(t, NULL, NULL, &out, err, sizeof(err)), 0);
	assert_string_equal(out.p, "S<no value>M");
	assert_int_equal(
	    tmpl_execute(t, "nope", NULL, &out, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "template: no template \"nope\" associated with template \"main\"");
	tbuf_free(&out);
	tmpl_free(t);
}

/* parse errors carry name, line and column */
static void
test_parse_errors(void **state)
{
	static const struct {
		const char *text, *err;
	} pe[] = {
	    {"{{nofunc}}", "template: p:1:2: function \"nofunc\" not defined"},
	    {"a\n{{.x | nofunc}}",
	        "template: p:2:7: function \"nofunc\" not defined"},
	    {"{{$x}}", "template: p:1:4: undefined variable \"$x\""},
	    {"{{break}}", "template: p:1:7: {{break}} outside {{range}}"},
	    {"{{with $x := .I}}{{$x}}{{end}}{{$x}}",
	        "template: p:1:34: undefined variable \"$x\""},
	};
	char err[TMPL_ERRLEN];
	size_t i;

	for (i = 0; i < NITEMS(pe); i++) {
		struct tmpl *t = tmpl_new("p");

		tmpl_funcs(t, funcs, NITEMS(funcs), NULL);
		assert_int_equal(tmpl_parse(t, pe[i].text, strlen(pe[i].text),
		                     err, sizeof(err)),
		    -1);
		if (strcmp(err, pe[i].err) != 0)
			print_error("parse %s: %s\n", pe[i].text, err);
		assert_string_equal(err, pe[i].err);
		tmpl_free(t);
	}
}

/* a long range runs every item; output is what Go writes */
static void
test_long_range(void **state)
{
	struct tval *l = tval_list(TVE_STRING);
	struct tmpl *t = tmpl_new("t");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];
	int i;

	for (i = 0; i < 100000; i++)
		tval_list_append(l, tval_str("ab"));
	assert_int_equal(tmpl_parse(t, "{{range $i, $v := .}}{{$v}}{{end}}", 34,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(tmpl_execute(t, NULL, l, &out, err, sizeof(err)), 0);
	assert_int_equal(out.len, 200000);
	tbuf_free(&out);
	tmpl_free(t);
	tval_unref(l);
}

/*
 * Mutual recursion runs out of depth (or of stack, first) in either
 * template: the message names the template whose {{template}} it quotes.
 */
static void
test_depth_names_caller(void **state)
{
	struct tmpl *t = tmpl_new("t");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];
	const char *text = "{{define \"a\"}}{{template \"b\" .}}{{end}}"
	                   "{{define \"b\"}}{{if true}}{{template \"a\" .}}"
	                   "{{end}}{{end}}{{template \"a\"}}";
	const char *in_a = "template: t:1:25: executing \"a\" at <{{template "
	                   "\"b\" .}}>: exceeded maximum template depth "
	                   "(100000)";
	const char *in_b = "template: t:1:75: executing \"b\" at <{{template "
	                   "\"a\" .}}>: exceeded maximum template depth "
	                   "(100000)";

	assert_int_equal(
	    tmpl_parse(t, text, strlen(text), err, sizeof(err)), 0);
	assert_int_equal(
	    tmpl_execute(t, NULL, NULL, &out, err, sizeof(err)), -1);
	if (strcmp(err, in_a) != 0 && strcmp(err, in_b) != 0)
		fail_msg("%s", err);
	tbuf_free(&out);
	tmpl_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_print_dot),
	    cmocka_unit_test(test_nil_data),
	    cmocka_unit_test(test_execute_named),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_long_range),
	    cmocka_unit_test(test_depth_names_caller),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
