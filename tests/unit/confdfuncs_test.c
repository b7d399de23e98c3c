/*
 * confd/funcs.c, gojson.c and gotime.c: every confd template function
 * through whole templates (tmpl_new, tmpl_funcs(confd_funcs), tmpl_parse,
 * tmpl_execute) with exact outputs, Go types and exact error messages;
 * encoding/json's syntax and type errors; Calico's hashToIPv4 against
 * sha256sum; time.Time's Format and String against Go's format tests.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "confd/confd.h"
#include "confd/gojson.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *const store_kv[] = {
    "/global/as_num",
    "64512",
    "/global/node_mesh",
    "{\"enabled\": true}",
    "/global/loglevel",
    "info",
    "/host/node1/ip_addr_v4",
    "192.0.2.1",
    "/host/node1/as_num",
    "64513",
    "/host/node2/ip_addr_v4",
    "192.0.2.2",
    "/host/node2/as_num",
    "64500",
    "/host/node2/rr_cluster_id",
    "",
    "/v1/ipam/v4/pool/198.18.0.0-16",
    ("{\"cidr\":\"198.18.0.0/16\","
     "\"ipip\":\"tunl0\",\"ipip_mode\":\"cross-subnet\",\"masquerade\":true}"),
};

static struct confd_kvs store;

static int
setup(void **state)
{
	size_t i;

	for (i = 0; i + 1 < NITEMS(store_kv); i += 2)
		confd_kvs_set(&store, store_kv[i], store_kv[i + 1]);
	setenv("PODMESH_FUNCS_TEST", "val", 1);
	setenv("PODMESH_FUNCS_EMPTY", "", 1);
	unsetenv("PODMESH_FUNCS_UNSET");
	return 0;
}

static int
teardown(void **state)
{
	confd_kvs_clean(&store);
	return 0;
}

/*
 * Renders text as template "t" over the store: 0 with the output in out,
 * -1 with the error in err.
 */
static int
render(const char *text, struct tbuf *out, char *err, size_t errlen)
{
	const struct tmpl_func *funcs;
	struct tmpl *t;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	tbuf_add(out, "", 0);
	t = tmpl_new("t");
	funcs = confd_funcs(&n);
	tmpl_funcs(t, funcs, n, &store);
	rc = tmpl_parse(t, text, strlen(text), err, errlen);
	if (rc == 0)
		rc = tmpl_execute(t, NULL, NULL, out, err, errlen);
	tmpl_free(t);
	return rc;
}

static const struct {
	const char *text, *out;
} good[] = {
    /* the brief's own examples */
    {"{{range gets \"/host/*/ip_addr_v4\"}}{{.Key}}={{.Value}} {{end}}",
        "/host/node1/ip_addr_v4=192.0.2.1 /host/node2/ip_addr_v4=192.0.2.2 "},
    {"{{$d := json (getv \"/global/node_mesh\")}}"
     "{{if $d.enabled}}mesh{{end}}",
        "mesh"},
    {"{{range lsdir \"/host\"}}{{.}} {{end}}", "node1 node2 "},
    {"{{join (split \"a-b\" \"-\") \"/\"}}", "a/b"},
    /* get */
    {"{{get \"/global/as_num\"}}", "{/global/as_num 64512}"},
    {"{{(get \"/global/as_num\").Value}}", "64512"},
    {"{{with get \"/host/node1/as_num\"}}{{.Key}}{{end}}",
        "/host/node1/as_num"},
    /* gets: by key; getvs: by value */
    {"{{range gets \"/host/*/as_num\"}}{{.Value}} {{end}}", "64513 64500 "},
    {"{{getvs \"/host/*/as_num\"}}", "[64500 64513]"},
    {"{{gets \"/nothing/*\"}}|{{len (gets \"/nothing/*\")}}", "[]|0"},
    {"{{len (gets \"/*/*\")}}", "3"},
    {"{{len (gets \"/*/*/*\")}}", "5"},
    {"{{range gets \"/host/node[0-1]/*\"}}{{base .Key}} {{end}}",
        "as_num ip_addr_v4 "},
    {"{{getvs \"/host/node[^1]/*\"}}", "[ 192.0.2.2 64500]"},
    /* getv */
    {"{{getv \"/global/as_num\"}}", "64512"},
    {"{{getv \"/nope\" \"dflt\"}}", "dflt"},
    {"{{getv \"/global/as_num\" \"x\" \"y\"}}", "64512"},
    {"{{getv \"/nope\" \"\" \"y\"}}|", "|"},
    {"{{getv \"/host/node2/rr_cluster_id\" \"x\"}}|", "|"},
    {"{{getv \"/global/as_num/\" \"unclean\"}}", "unclean"},
    {"{{getv \"/global/as_num\\x00x\" \"nul\"}} "
     "{{exists \"/global/as_num\\x00\"}}",
        "nul false"},
    /* ls, lsdir */
    {"{{ls \"/host/node1\"}}", "[as_num ip_addr_v4]"},
    {"{{ls \"/host/node1/as_num\"}}", "[as_num]"},
    {"{{ls \"/host/\"}} {{lsdir \"/host/\"}}", "[node1 node2] [node1 node2]"},
    {"{{ls \"/\"}} {{lsdir \"/\"}} {{ls \"/x\"}}", "[] [] []"},
    {"{{lsdir \"/v1\"}}", "[ipam]"},
    {"{{range $i, $n := lsdir \"/host\"}}{{$i}}:{{$n}},{{end}}",
        "0:node1,1:node2,"},
    /* exists */
    {"{{exists \"/global/as_num\"}} {{exists \"/global\"}} "
     "{{exists \"/global/as_num/\"}}",
        "true false false"},
    /* Go types of the results */
    {"{{printf \"%T\" (get \"/global/as_num\")}}", "memkv.KVPair"},
    {"{{printf \"%T\" (gets \"/x\")}}", "[]memkv.KVPair"},
    {"{{printf \"%T\" (getvs \"/x\")}}", "[]string"},
    {"{{printf \"%T\" (ls \"/x\")}} {{printf \"%T\" (lsdir \"/x\")}}",
        "[]string []string"},
    {"{{printf \"%T\" (split \"a\" \"\")}}", "[]string"},
    {"{{printf \"%T\" (json \"{}\")}}", "map[string]interface {}"},
    {"{{printf \"%T\" (jsonArray \"[]\")}}", "[]interface {}"},
    {"{{printf \"%T\" (map)}}", "map[string]interface {}"},
    {"{{printf \"%T\" datetime}}", "time.Time"},
    {"{{printf \"%T\" (exists \"/x\")}}", "bool"},
    /* json, jsonArray */
    {"{{$j := json `{\"n\": 1000000, \"f\": 2.5, \"i\": 7, "
     "\"a\": [1, \"x\", null, true], \"o\": {\"k\": \"v\"}}`}}"
     "{{$j.n}} {{$j.f}} {{$j.i}} {{$j.a}} {{$j.o.k}} {{index $j.a 2}} "
     "{{printf \"%T %T %T\" $j.i $j.a $j.o}}",
        "1e+06 2.5 7 [1 x <nil> true] v <no value> "
        "float64 []interface {} map[string]interface {}"},
    {"{{$p := json (getv \"/v1/ipam/v4/pool/198.18.0.0-16\")}}"
     "{{$p.cidr}} {{$p.ipip_mode}} {{$p.masquerade}}",
        "198.18.0.0/16 cross-subnet true"},
    {"{{json `{\"b\": 1, \"a\": 2, \"b\": 3}`}}", "map[a:2 b:3]"},
    {"{{json \"null\"}} {{len (json \" null \")}}", "map[] 0"},
    {"{{jsonArray \"null\"}}{{len (jsonArray \"null\")}}", "[]0"},
    {"{{range jsonArray `[\"a\", 2, {\"x\": 1}]`}}{{.}};{{end}}",
        "a;2;map[x:1];"},
    {"{{(json `{\"s\": \"\\u00e9\\ud83d\\ude00\\ud800\\n\\\"\"}`).s}}",
        "\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbd\n\""},
    {"{{printf \"%q\" (json `{\"s\": \"a\\u0000b\"}`).s}}", "\"a\\x00b\""},
    {"{{(json `{\"n\": -0.0}`).n}} {{(json `{\"n\": 1E-2}`).n}} "
     "{{(json `{\"n\": 12345678901234567890}`).n}}",
        "-0 0.01 1.2345678901234567e+19"},
    /* base, dir */
    {"{{base \"/a/b/c\"}} {{dir \"/a/b/c\"}} {{base \"\"}} {{dir \"\"}} "
     "{{base \"/\"}} {{dir \"a\"}} {{base \"a/b/\"}}",
        "c /a/b . . / . b"},
    {"{{range gets \"/host/*/ip_addr_v4\"}}{{base (dir .Key)}} {{end}}",
        "node1 node2 "},
    /* split, join */
    {"{{split \"a,b,,c\" \",\"}} {{len (split \"a,b,,c\" \",\")}}",
        "[a b  c] 4"},
    {"{{len (split \"\" \"-\")}} {{len (split \"\" \"\")}} "
     "{{len (split \"h\xc3\xa9llo\" \"\")}}",
        "1 0 5"},
    {"{{index (split \"h\xc3\xa9\" \"\") 1}}", "\xc3\xa9"},
    {"{{split \"a--b\" \"--\"}}", "[a b]"},
    {"{{join (split \"a.b.c\" \".\") \"\"}}", "abc"},
    {"{{join (ls \"/host\") \",\"}}", "node1,node2"},
    {"{{join nil \",\"}}|", "|"},
    /* map */
    {"{{map \"a\" 1 \"b\" \"x\"}}", "map[a:1 b:x]"},
    {"{{(map \"k\" \"v\").k}}", "v"},
    {"{{$m := map \"x\" (split \"1 2\" \" \")}}{{index $m.x 1}}", "2"},
    {"{{map}}", "map[]"},
    {"{{map \"a\" 1 \"a\" 2}}", "map[a:2]"},
    /* getenv */
    {"{{getenv \"PODMESH_FUNCS_TEST\"}}", "val"},
    {"{{getenv \"PODMESH_FUNCS_TEST\" \"d\"}}", "val"},
    {"{{getenv \"PODMESH_FUNCS_UNSET\"}}|", "|"},
    {"{{getenv \"PODMESH_FUNCS_UNSET\" \"d\"}}", "d"},
    {"{{getenv \"PODMESH_FUNCS_EMPTY\" \"d\"}}", "d"},
    {"{{getenv \"PODMESH_FUNCS_UNSET\" \"d\" \"e\"}}", "d"},
    /* strings */
    {"{{toUpper \"abc-\xc3\xa9\"}} {{toLower \"\xc3\x80"
     "B-C\"}}",
        "ABC-\xc3\x89 \xc3\xa0"
        "b-c"},
    {"{{toUpper \"a\xffz\"}}", "A\xef\xbf\xbdZ"},
    {"{{toUpper \"plain\xff\"}}|{{toLower \"MiXeD\"}}",
        "PLAIN\xef\xbf\xbd|mixed"},
    {"{{contains \"abc\" \"b\"}} {{contains \"abc\" \"x\"}} "
     "{{contains \"abc\" \"\"}} {{contains \"\" \"\"}}",
        "true false true true"},
    {"{{hasSuffix \"abc\" \"bc\"}} {{hasSuffix \"abc\" \"b\"}} "
     "{{hasSuffix \"abc\" \"\"}} {{hasSuffix \"c\" \"abc\"}}",
        "true false true false"},
    {"{{hasPrefix \"abc\" \"ab\"}} {{hasPrefix \"abc\" \"b\"}} "
     "{{hasPrefix \"abc\" \"\"}}",
        "true false true"},
    {"{{replace \"aaaa\" \"a\" \"b\" 2}} {{replace \"aaaa\" \"a\" \"b\" -1}} "
     "{{replace \"aaaa\" \"a\" \"b\" 0}} {{replace \"aaaa\" \"aa\" \"b\" 9}}",
        "bbaa bbbb aaaa bb"},
    {"{{replace \"abc\" \"\" \"-\" 2}} {{replace \"abc\" \"\" \"-\" -1}} "
     "{{replace \"\" \"\" \"-\" -1}} {{replace \"x\" \"y\" \"z\" -1}}",
        "-a-bc -a-b-c- - x"},
    {"{{replace \"h\xc3\xa9\" \"\" \".\" -1}}", ".h.\xc3\xa9."},
    {"{{replace \"192.0.2.1\" \".\" \"_\" -1}}", "192_0_2_1"},
    /* base64 */
    {"{{base64Encode \"hello\"}} {{base64Encode \"\"}} {{base64Encode \"a\"}} "
     "{{base64Encode \"ab\"}} {{base64Encode \"\\xff\\xfe\\x00\"}}",
        "aGVsbG8=  YQ== YWI= //4A"},
    {"{{base64Decode \"aGVsbG8=\"}}|{{base64Decode \"\"}}|"
     "{{base64Decode \"aG\\r\\nVs\\nbA==\\n\"}}|{{base64Decode \"YQ==\"}}",
        "hello||hell|a"},
    {"{{base64Decode (base64Encode \"round trip \\x01\")}}", "round trip \x01"},
    /* fileExists */
    {"{{fileExists \"/\"}} {{fileExists \"/nonexistent-podmesh\"}} "
     "{{fileExists \"\"}}",
        "true false false"},
    /* lookupIP (literals: no resolver needed) */
    {"{{lookupIP \"192.0.2.7\"}} {{lookupIP \"2001:db8:0:0::1\"}}",
        "[192.0.2.7] [2001:db8::1]"},
    {"{{lookupIP \"\"}}{{len (lookupIP \"\")}}", "[]0"},
    {"{{printf \"%T\" (lookupIP \"192.0.2.7\")}}", "[]string"},
    /* hashToIPv4: sha256 of the name, first octet > 223 lowered by 32 */
    {"{{hashToIPv4 \"node1\"}}", "202.18.243.27"},
    {"{{hashToIPv4 \"node2\"}}", "21.177.138.114"},
    {"{{hashToIPv4 \"kube-master-0\"}}", "36.223.106.75"},
    {"{{hashToIPv4 \"node16\"}}", "200.251.245.244"},
    {"{{hashToIPv4 \"node19\"}}", "211.40.105.50"},
    {"{{hashToIPv4 \"\"}}", "195.176.196.66"},
    /* datetime: now, in the local zone */
    {"{{if datetime}}t{{end}}", "t"},
};

static void
test_good(void **state)
{
	char err[TMPL_ERRLEN];
	struct tbuf out;
	size_t i;

	for (i = 0; i < NITEMS(good); i++) {
		err[0] = '\0';
		if (render(good[i].text, &out, err, sizeof(err)) == -1)
			fail_msg("%s: error %s", good[i].text, err);
		if (strcmp(out.p, good[i].out) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", good[i].text,
			    out.p, good[i].out);
		tbuf_free(&out);
	}
}

/*
 * Errors: the message after "error calling NAME: " (a function's error)
 * or after the executor's location (a conversion error), exactly.
 */
static const struct {
	const char *text, *tail;
} bad[] = {
    {"{{get \"/nope\"}}", "error calling get: key does not exist: /nope"},
    {"{{getv \"/nope\"}}", "error calling getv: key does not exist: /nope"},
    {"{{get \"/global/as_num\\x00\"}}",
        "error calling get: key does not exist: /global/as_num"},
    {"{{getv \"/global\"}}", "error calling getv: key does not exist: /global"},
    {"{{gets \"/host/[\"}}", "error calling gets: syntax error in pattern"},
    {"{{gets \"[]a]\"}}", "error calling gets: syntax error in pattern"},
    {"{{gets \"/x\\\\\"}}", "error calling gets: syntax error in pattern"},
    {"{{getvs \"/host/[^\"}}", "error calling getvs: syntax error in pattern"},
    /* values of the wrong type (literals are the executor's: Go's
     * "expected string; found 1") */
    {"{{getv (len \"a\")}}", "wrong type for value; expected string; got int"},
    {"{{getv \"/nope\" (len \"a\")}}",
        "wrong type for value; expected string; got int"},
    {"{{base (exists \"/x\")}}",
        "wrong type for value; expected string; got bool"},
    {"{{split (ls \"/\") \",\"}}",
        "wrong type for value; expected string; got []string"},
    {"{{hashToIPv4 (get \"/global/as_num\")}}",
        "wrong type for value; expected string; got memkv.KVPair"},
    {"{{join (jsonArray `[\"a\"]`) \",\"}}",
        "wrong type for value; expected []string; got []interface {}"},
    {"{{join (getv \"/global/as_num\") \",\"}}",
        "wrong type for value; expected []string; got string"},
    {"{{join (gets \"/x\") \",\"}}",
        "wrong type for value; expected []string; got []memkv.KVPair"},
    {"{{replace \"abc\" \"b\" \"x\" (json `{\"n\": 1}`).n}}",
        "wrong type for value; expected int; got float64"},
    {"{{map \"a\"}}", "error calling map: invalid map call"},
    {"{{map 1 2}}", "error calling map: map keys must be strings"},
    {"{{map \"a\" 1 2 3}}", "error calling map: map keys must be strings"},
    {"{{base64Decode \"aGVsbG8\"}}",
        "error calling base64Decode: illegal base64 data at input byte 4"},
    {"{{base64Decode \"aGV!bG8=\"}}",
        "error calling base64Decode: illegal base64 data at input byte 3"},
    {"{{base64Decode \"aGVsbG8=x\"}}",
        "error calling base64Decode: illegal base64 data at input byte 8"},
    {"{{base64Decode \"=\"}}",
        "error calling base64Decode: illegal base64 data at input byte 0"},
    {"{{base64Decode \"YQ=\"}}",
        "error calling base64Decode: illegal base64 data at input byte 3"},
    {"{{base64Decode \"YQ=x\"}}",
        "error calling base64Decode: illegal base64 data at input byte 2"},
    {"{{lookupSRV \"bgp\" \"tcp\" \"example.org\"}}",
        "error calling lookupSRV: lookupSRV is not supported by "
        "podmesh-confd"},
    /* encoding/json's messages */
    {"{{json \"x\"}}",
        "error calling json: invalid character 'x' looking for beginning of "
        "value"},
    {"{{json \"\"}}", "error calling json: unexpected end of JSON input"},
    {"{{json \"{\\\"a\\\": 1\"}}",
        "error calling json: unexpected end of JSON input"},
    {"{{json `{\"a\" 1}`}}",
        "error calling json: invalid character '1' after object key"},
    {"{{json `{\"a\": 1,}`}}",
        "error calling json: invalid character '}' looking for beginning of "
        "object key string"},
    {"{{json `{\"a\": 1 \"b\"}`}}",
        "error calling json: invalid character '\"' after object key:value "
        "pair"},
    {"{{json `{a: 1}`}}",
        "error calling json: invalid character 'a' looking for beginning of "
        "object key string"},
    {"{{json `{\"a\": 1} x`}}",
        "error calling json: invalid character 'x' after top-level value"},
    {"{{json `{\"a\": tru}`}}",
        "error calling json: invalid character '}' in literal true "
        "(expecting 'e')"},
    {"{{json `{\"a\": nul}`}}",
        "error calling json: invalid character '}' in literal null "
        "(expecting 'l')"},
    {"{{json `{\"a\": 01}`}}",
        "error calling json: invalid character '1' after object key:value "
        "pair"},
    {"{{json `{\"a\": 1.}`}}",
        "error calling json: invalid character '}' after decimal point in "
        "numeric literal"},
    {"{{json `{\"a\": 1e}`}}",
        "error calling json: invalid character '}' in exponent of numeric "
        "literal"},
    {"{{json `{\"a\": -}`}}",
        "error calling json: invalid character '}' in numeric literal"},
    {"{{json `{\"a\": \"\\x\"}`}}",
        "error calling json: invalid character 'x' in string escape code"},
    {"{{json `{\"a\": \"\\u12g4\"}`}}",
        "error calling json: invalid character 'g' in \\u hexadecimal "
        "character escape"},
    {"{{json \"{\\\"a\\\": \\\"\\t\\\"}\"}}",
        "error calling json: invalid character '\\t' in string literal"},
    {"{{json `{'a': 1}`}}",
        "error calling json: invalid character '\\'' looking for beginning "
        "of object key string"},
    {"{{json `[1, 2,]`}}",
        "error calling json: invalid character ']' looking for beginning of "
        "value"},
    {"{{jsonArray `[1 2]`}}",
        "error calling jsonArray: invalid character '2' after array element"},
    {"{{json \"\xc3\xa9\"}}",
        "error calling json: invalid character '\xc3\x83' looking for "
        "beginning of value"},
    {"{{json `[1]`}}",
        "error calling json: json: cannot unmarshal array into Go value of "
        "type map[string]interface {}"},
    {"{{json `\"s\"`}}",
        "error calling json: json: cannot unmarshal string into Go value of "
        "type map[string]interface {}"},
    {"{{json `1`}}",
        "error calling json: json: cannot unmarshal number into Go value of "
        "type map[string]interface {}"},
    {"{{json `true`}}",
        "error calling json: json: cannot unmarshal bool into Go value of "
        "type map[string]interface {}"},
    {"{{jsonArray `{}`}}",
        "error calling jsonArray: json: cannot unmarshal object into Go "
        "value of type []interface {}"},
    {"{{json `{\"a\": 1e400}`}}",
        "error calling json: json: cannot unmarshal number 1e400 into Go "
        "value of type float64"},
};

static void
test_bad(void **state)
{
	char err[TMPL_ERRLEN];
	struct tbuf out;
	size_t i, el, tl;

	for (i = 0; i < NITEMS(bad); i++) {
		err[0] = '\0';
		if (render(bad[i].text, &out, err, sizeof(err)) == 0)
			fail_msg(
			    "%s: no error, output \"%s\"", bad[i].text, out.p);
		el = strlen(err);
		tl = strlen(bad[i].tail);
		if (el < tl + 2 || strcmp(err + el - tl, bad[i].tail) != 0 ||
		    strncmp(err, "template: t:1:", 14) != 0)
			fail_msg("%s: error \"%s\", want \"...: %s\"",
			    bad[i].text, err, bad[i].tail);
		tbuf_free(&out);
	}
}

/* the whole message, as Go's text/template words it */
static void
test_error_context(void **state)
{
	char err[TMPL_ERRLEN];
	struct tbuf out;

	assert_int_equal(
	    render("x\n{{getv \"/nope\"}}", &out, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "template: t:2:2: executing \"t\" at <getv \"/nope\">: error "
	    "calling getv: key does not exist: /nope");
	assert_string_equal(out.p, "x\n");
	tbuf_free(&out);
}

static void
test_table(void **state)
{
	const struct tmpl_func *f;
	size_t n, i, j;
	static const char *const names[] = {"get", "gets", "getv", "getvs",
	    "ls", "lsdir", "exists", "json", "jsonArray", "base", "dir",
	    "split", "join", "map", "getenv", "toUpper", "toLower", "contains",
	    "replace", "hasSuffix", "hasPrefix", "base64Encode", "base64Decode",
	    "fileExists", "lookupIP", "lookupSRV", "datetime", "hashToIPv4"};

	f = confd_funcs(&n);
	assert_int_equal(n, NITEMS(names));
	for (i = 0; i < NITEMS(names); i++) {
		for (j = 0; j < n; j++)
			if (strcmp(f[j].name, names[i]) == 0)
				break;
		if (j == n)
			fail_msg("%s missing", names[i]);
		assert_non_null(f[j].fn);
	}
}

/* Go's maxNestingDepth (10000), without recursion */
static void
test_json_depth(void **state)
{
	size_t n = 10001, i;
	char *s = malloc(2 * n + 16), err[256];
	struct tval *v, *w;

	memset(s, '[', n);
	memset(s + n, ']', n);
	v = gojson_unmarshal(s, 2 * n, GOJSON_ARRAY, err, sizeof(err));
	assert_null(v);
	assert_string_equal(err, "invalid character '[' exceeded max depth");
	/* 10000 levels pass the check (the type error comes after it) */
	v = gojson_unmarshal(s + 1, 2 * n - 2, GOJSON_OBJECT, err, sizeof(err));
	assert_null(v);
	assert_string_equal(err,
	    "json: cannot unmarshal array into Go value of type "
	    "map[string]interface {}");
	/* and decode whole (nothing recurses, freeing included) */
	v = gojson_unmarshal(s + 1, 2 * n - 2, GOJSON_ARRAY, err, sizeof(err));
	assert_non_null(v);
	for (w = v, i = 1; w->kind == TV_LIST && w->u.list.n == 1; i++)
		w = w->u.list.v[0];
	assert_int_equal(i, 10000);
	tval_unref(v);
	/* objects too, and the end of the input inside them */
	free(s);
	s = calloc(1, 5000 * 8 + 1);
	for (i = 0; i < 1500; i++)
		strcat(s, "{\"a\":[");
	v = gojson_unmarshal(s, strlen(s), GOJSON_OBJECT, err, sizeof(err));
	assert_null(v);
	assert_string_equal(err, "unexpected end of JSON input");
	for (i = 0; i < 1500; i++)
		strcat(s, "]}");
	v = gojson_unmarshal(s, strlen(s), GOJSON_OBJECT, err, sizeof(err));
	assert_non_null(v);
	assert_int_equal(v->kind, TV_MAP);
	tval_unref(v);
	free(s);
}

/* datetime is time.Now() in the local zone */
static void
test_datetime(void **state)
{
	char err[TMPL_ERRLEN], want[128];
	struct tbuf out;
	struct tm tm;
	time_t now;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		now = time(NULL);
		localtime_r(&now, &tm);
		strftime(want, sizeof(want), "%Y-%m-%d %H:%M:%S %z %Z", &tm);
		assert_int_equal(render("{{(datetime).Format "
		                        "\"2006-01-02 15:04:05 -0700 MST\"}}",
		                     &out, err, sizeof(err)),
		    0);
		if (time(NULL) == now || tries == 2)
			break;
		tbuf_free(&out);
	}
	assert_string_equal(out.p, want);
	tbuf_free(&out);
}

/* ---- time.Time ---- */

static struct tval *
mktime_at(int64_t sec, long nsec, int offset, const char *zone)
{
	struct timespec ts = {.tv_sec = sec, .tv_nsec = nsec};

	return tval_time(&ts, offset, zone);
}

static const struct {
	const char *layout, *out;
} format_tests[] = {
    /* Go's format_test.go, for 2009-02-04 21:00:57.0123456 PST */
    {"Mon Jan _2 15:04:05 2006", "Wed Feb  4 21:00:57 2009"},
    {"Mon Jan _2 15:04:05 MST 2006", "Wed Feb  4 21:00:57 PST 2009"},
    {"Mon Jan 02 15:04:05 -0700 2006", "Wed Feb 04 21:00:57 -0800 2009"},
    {"02 Jan 06 15:04 MST", "04 Feb 09 21:00 PST"},
    {"Monday, 02-Jan-06 15:04:05 MST", "Wednesday, 04-Feb-09 21:00:57 PST"},
    {"Mon, 02 Jan 2006 15:04:05 MST", "Wed, 04 Feb 2009 21:00:57 PST"},
    {"Mon, 02 Jan 2006 15:04:05 -0700", "Wed, 04 Feb 2009 21:00:57 -0800"},
    {"2006-01-02T15:04:05Z07:00", "2009-02-04T21:00:57-08:00"},
    {"2006-01-02T15:04:05.999999999Z07:00",
        "2009-02-04T21:00:57.0123456-08:00"},
    {"3:04PM", "9:00PM"},
    {"3pm", "9pm"},
    {"3PM", "9PM"},
    {"06 01 02", "09 02 04"},
    {"Hi Janet, the Month is January", "Hi Janet, the Month is February"},
    {"Jan _2 15:04:05", "Feb  4 21:00:57"},
    {"Jan _2 15:04:05.000", "Feb  4 21:00:57.012"},
    {"Jan _2 15:04:05.000000", "Feb  4 21:00:57.012345"},
    {"Jan _2 15:04:05.000000000", "Feb  4 21:00:57.012345600"},
    {"2006-01-02 15:04:05", "2009-02-04 21:00:57"},
    {"Jan  2 002 __2 2", "Feb  4 035  35 4"},
    {"2006 6 06 _6 __6 ___6", "2009 6 09 _6 __6 ___6"},
    {"Jan January 1 01 _1", "Feb February 2 02 _2"},
    {"2 02 _2 __2", "4 04  4  35"},
    {"Mon Monday", "Wed Wednesday"},
    {"15 3 03 _3", "21 9 09 _9"},
    {"4 04 _4", "0 00 _0"},
    {"5 05 _5", "57 57 _57"},
    /* more of nextStdChunk */
    {"05,000 05,999 .9 .99999999999", "57,012 57,012  .0123456"},
    {".0000000000", ".012345600"},
    {"05.00x 05.0001", "57.01x 57.0002"},
    {"_2006 2006_", "_2009 2009_"},
    {"-07 -0700 -07:00 -070000 -07:00:00",
        "-08 -0800 -08:00 -080000 -08:00:00"},
    {"Z07 Z0700 Z07:00 Z070000 Z07:00:00",
        "-08 -0800 -08:00 -080000 -08:00:00"},
    {"PM pm Pm Mo Ja MS", "PM pm Pm Mo Ja MS"},
    {"", ""},
};

static void
test_time_format(void **state)
{
	struct tval *t = mktime_at(1233810057, 12345600, -8 * 3600, "PST");
	struct tbuf b;
	size_t i;

	for (i = 0; i < NITEMS(format_tests); i++) {
		memset(&b, 0, sizeof(b));
		tval_time_format(&b, t, format_tests[i].layout);
		if (strcmp(b.p, format_tests[i].out) != 0)
			fail_msg("Format(%s) = \"%s\", want \"%s\"",
			    format_tests[i].layout, b.p, format_tests[i].out);
		tbuf_free(&b);
	}
	tval_unref(t);
}

static void
test_time_zones(void **state)
{
	struct tval *t;
	struct tbuf b = {0};

	/* UTC: the Z forms print Z */
	t = mktime_at(1136214245, 0, 0, "UTC");
	tval_time_format(&b, t, "Z07 Z0700 Z07:00 -0700 MST 3:04:05.999 PM");
	assert_string_equal(b.p, "Z Z Z +0000 UTC 3:04:05 PM");
	tbuf_free(&b);
	tval_time_string(&b, t);
	assert_string_equal(b.p, "2006-01-02 15:04:05 +0000 UTC");
	tbuf_free(&b);
	tval_unref(t);

	/* a half hour west, with seconds; no zone name: MST as -0700 */
	t = mktime_at(1136214245 + 12600 + 30, 5, -(12600 + 30), "");
	tval_time_format(
	    &b, t, "Z07:00:00 -070000 -07 -07:00 Z0700 MST 15:04:05.000000000");
	assert_string_equal(
	    b.p, "-03:30:30 -033030 -03 -03:30 -0330 -0330 15:04:05.000000005");
	tbuf_free(&b);
	tval_unref(t);

	/* east, midnight and noon on the 12-hour clock */
	t = mktime_at(
	    1136214245 - 15 * 3600 - 4 * 60 - 5 - 3600, 0, 3600, "CET");
	tval_time_format(&b, t, "2006-01-02 03:04:05 PM -07:00 MST Mon");
	assert_string_equal(b.p, "2006-01-02 12:00:00 AM +01:00 CET Mon");
	tbuf_free(&b);
	tval_unref(t);

	/* Go's String(): nanoseconds trimmed */
	t = mktime_at(1136239445, 123456789, -7 * 3600, "MST");
	tval_time_string(&b, t);
	assert_string_equal(b.p, "2006-01-02 15:04:05.123456789 -0700 MST");
	tbuf_free(&b);
	tval_unref(t);
	t = mktime_at(1136239445, 120000000, -7 * 3600, "MST");
	tval_time_string(&b, t);
	assert_string_equal(b.p, "2006-01-02 15:04:05.12 -0700 MST");
	tbuf_free(&b);
	tval_unref(t);

	/* before the epoch, a leap day */
	t = mktime_at(-86400 * 365 * 2 + 86400 * 58, 0, 0, "UTC");
	tval_time_format(&b, t, "2006-01-02 Mon 002");
	assert_string_equal(b.p, "1968-02-29 Thu 060");
	tbuf_free(&b);
	tval_unref(t);
	t = mktime_at(951782400, 0, 0, "UTC");
	tval_time_format(&b, t, "Jan 2 2006 Monday __2");
	assert_string_equal(b.p, "Feb 29 2000 Tuesday  60");
	tbuf_free(&b);
	tval_unref(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_good),
	    cmocka_unit_test(test_bad),
	    cmocka_unit_test(test_error_context),
	    cmocka_unit_test(test_datetime),
	    cmocka_unit_test(test_json_depth),
	    cmocka_unit_test(test_time_format),
	    cmocka_unit_test(test_time_zones),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
