/*
 * confd/tmpl_value.c, tmpl_fmt.c, tmpl_strconv.c: Go's fmt over template
 * values.  tval_print (%v of one operand) for every kind, and Sprintf
 * vectors taken from Go's fmt_test.go: floats (shortest, precision, #,
 * Inf/NaN), integers, strings and %q, widths and flags, argument indexes,
 * and fmt's complaints; then Sprint's and Sprintln's spacing.
 */
#include <sys/resource.h>

#include <math.h>
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

enum akind {
	A_NONE,
	A_INT,
	A_FLOAT,
	A_STR,
	A_BOOL,
	A_NIL,
	A_LIST,
	A_MAP,
	A_KV
};

struct fcase {
	const char *fmt;
	enum akind kind;
	int64_t i;
	double f;
	const char *s;
	const char *want;
};

/* a []interface{}{1, "a", nil, 2.5} */
static struct tval *
mixed_list(void)
{
	struct tval *l = tval_list(TVE_ANY);

	tval_list_append(l, tval_int(1));
	tval_list_append(l, tval_str("a"));
	tval_list_append(l, tval_nil());
	tval_list_append(l, tval_float(2.5));
	return l;
}

/* map[string]interface{}{"b": "x", "a": 1} */
static struct tval *
small_map(void)
{
	struct tval *m = tval_map();

	tval_map_set(m, "b", tval_str("x"));
	tval_map_set(m, "a", tval_int(1));
	return m;
}

static struct tval *
make_arg(const struct fcase *c)
{
	switch (c->kind) {
	case A_INT:
		return tval_int(c->i);
	case A_FLOAT:
		return tval_float(c->f);
	case A_STR:
		return tval_str(c->s);
	case A_BOOL:
		return tval_bool(c->i != 0);
	case A_NIL:
		return tval_nil();
	case A_LIST:
		return mixed_list();
	case A_MAP:
		return small_map();
	case A_KV:
		return tval_kv("/k", "v");
	default:
		return NULL;
	}
}

#define I(f, v, w)                                                             \
	{                                                                      \
		f, A_INT, v, 0, NULL, w                                        \
	}
#define F(f, v, w)                                                             \
	{                                                                      \
		f, A_FLOAT, 0, v, NULL, w                                      \
	}
#define S(f, v, w)                                                             \
	{                                                                      \
		f, A_STR, 0, 0, v, w                                           \
	}

static const struct fcase fcases[] = {
    /* %v of floats: strconv 'g' shortest, %e from exponent 21 on? no: 6 */
    F("%v", 1e6, "1e+06"),
    F("%v", 64512, "64512"),
    F("%v", 1.5, "1.5"),
    F("%v", 1e-5, "1e-05"),
    F("%v", 0.0001, "0.0001"),
    F("%v", 123456, "123456"),
    F("%v", 1234567, "1.234567e+06"),
    F("%v", 1.2345678, "1.2345678"),
    F("%v", 0.1, "0.1"),
    F("%v", 1.0 / 3, "0.3333333333333333"),
    F("%v", 0, "0"),
    F("%v", -0.0, "-0"),
    F("%v", 5e-324, "5e-324"),
    F("%v", 1.7976931348623157e308, "1.7976931348623157e+308"),
    F("%v", INFINITY, "+Inf"),
    F("%v", -INFINITY, "-Inf"),
    F("%v", NAN, "NaN"),
    /* fmt_test.go floats */
    F("%+.3e", 0.0, "+0.000e+00"),
    F("%+.3e", 1.0, "+1.000e+00"),
    F("%+.3x", 0.0, "+0x0.000p+00"),
    F("%+.3x", 1.0, "+0x1.000p+00"),
    F("%+.3f", -1.0, "-1.000"),
    F("%+.3F", -1.0, "-1.000"),
    F("%+07.2f", 1.0, "+001.00"),
    F("%+07.2f", -1.0, "-001.00"),
    F("%-07.2f", 1.0, "1.00   "),
    F("%-07.2f", -1.0, "-1.00  "),
    F("%+-07.2f", 1.0, "+1.00  "),
    F("%+10.2f", +1.0, "     +1.00"),
    F("% .3E", -1.0, "-1.000E+00"),
    F("% .3e", 1.0, " 1.000e+00"),
    F("% .3X", -1.0, "-0X1.000P+00"),
    F("% .3x", 1.0, " 0x1.000p+00"),
    F("%+.3g", 0.0, "+0"),
    F("%+.3g", 1.0, "+1"),
    F("% .3g", 1.0, " 1"),
    F("%b", 1.0, "4503599627370496p-52"),
    F("%#g", 1e-323, "1.00000e-323"),
    F("%#g", -1.0, "-1.00000"),
    F("%#g", 1.1, "1.10000"),
    F("%#g", 123456.0, "123456."),
    F("%#g", 1234567.0, "1.234567e+06"),
    F("%#g", 1230000.0, "1.23000e+06"),
    F("%#.0f", 1.0, "1."),
    F("%#.0e", 1.0, "1.e+00"),
    F("%#.0x", 1.0, "0x1.p+00"),
    F("%#.0g", 1.0, "1."),
    F("%#.0g", 1100000.0, "1.e+06"),
    F("%#.4f", 1.0, "1.0000"),
    F("%#.4e", 1.0, "1.0000e+00"),
    F("%#.4x", 1.0, "0x1.0000p+00"),
    F("%#.4g", 1.0, "1.000"),
    F("%#.4g", 100000.0, "1.000e+05"),
    F("%#.4g", 0.012, "0.01200"),
    F("%#.0x", 123.0, "0x1.p+07"),
    F("%#.4x", 123.0, "0x1.ec00p+06"),
    F("%#.4g", 123000.0, "1.230e+05"),
    F("%#9.4g", 1.0, "    1.000"),
    F("%#b", 1.0, "4503599627370496p-52"),
    F("%.4b", -1.0, "-4503599627370496p-52"),
    F("%f", INFINITY, "+Inf"),
    F("%.1f", -INFINITY, "-Inf"),
    F("% f", NAN, " NaN"),
    F("%20f", INFINITY, "                +Inf"),
    F("% 20F", INFINITY, "                 Inf"),
    F("% 20e", -INFINITY, "                -Inf"),
    F("%+20E", -INFINITY, "                -Inf"),
    F("% +20g", -INFINITY, "                -Inf"),
    F("%+-20G", INFINITY, "+Inf                "),
    F("%20e", NAN, "                 NaN"),
    F("% +20E", NAN, "                +NaN"),
    F("% -20g", NAN, " NaN                "),
    F("%+020e", INFINITY, "                +Inf"),
    F("%-020f", -INFINITY, "-Inf                "),
    F("%e", 1.0, "1.000000e+00"),
    F("%e", 1234.5678e3, "1.234568e+06"),
    F("%e", 1234.5678e-8, "1.234568e-05"),
    F("%e", -1e-9, "-1.000000e-09"),
    F("%f", 1234.5678e3, "1234567.800000"),
    F("%f", 1234.5678e-8, "0.000012"),
    F("%f", -1e-9, "-0.000000"),
    F("%g", 1234.5678e3, "1.2345678e+06"),
    F("%g", 1234.5678e-8, "1.2345678e-05"),
    F("%g", -7.0, "-7"),
    F("%g", -1e-9, "-1e-09"),
    F("%G", -1e-9, "-1E-09"),
    F("%E", 1234.5678e3, "1.234568E+06"),
    F("%G", 1234.5678e3, "1.2345678E+06"),
    F("%20.6e", 1.2345e3, "        1.234500e+03"),
    F("%20f", 12345678901.23456789, "  12345678901.234568"),
    F("%20.8f", 1.23456789e-3, "          0.00123457"),
    F("%g", 1.23456789e20, "1.23456789e+20"),
    F("%.2f", 1.0, "1.00"),
    F("% .2f", 1.0, " 1.00"),
    F("%07.2f", -1.0, "-001.00"),
    F("% 07.2f", 1.0, " 001.00"),
    F("%-05.1f", 1.0, "1.0  "),
    F("%.68f", 1.0,
        "1.00000000000000000000000000000000000000000000000000"
        "000000000000000000"),
    F("%x", 1.0, "0x1p+00"),
    F("%X", 3.0, "0X1.8P+01"),
    F("%d", 1.5, "%!d(float64=1.5)"),
    F("%s", 1.5, "%!s(float64=1.5)"),
    F("%T", 1.5, "float64"),

    /* integers */
    I("%d", -12345, "-12345"),
    I("%.d", 0, ""),
    I("%6.0d", 0, "      "),
    I("%06.0d", 0, "      "),
    I("% d", 12345, " 12345"),
    I("%+d", 12345, "+12345"),
    I("%+d", -12345, "-12345"),
    I("%b", 7, "111"),
    I("%b", -6, "-110"),
    I("%#b", 7, "0b111"),
    I("%#b", -6, "-0b110"),
    I("%o", 01234, "1234"),
    I("%#o", -01234, "-01234"),
    I("%O", 01234, "0o1234"),
    I("%O", -01234, "-0o1234"),
    I("%#X", 0, "0X0"),
    I("%x", 0x12abcdef, "12abcdef"),
    I("%X", 0x12abcdef, "12ABCDEF"),
    I("%.20b", 7, "00000000000000000111"),
    I("%10d", -12345, "    -12345"),
    I("%+10d", 12345, "    +12345"),
    I("%010d", 12345, "0000012345"),
    I("%010d", -12345, "-000012345"),
    I("%20.8d", -1234, "           -00001234"),
    I("%020.8d", 1234, "            00001234"),
    I("%-20.8d", -1234, "-00001234           "),
    I("%-#20.8x", 0x1234abc, "0x01234abc          "),
    I("%-#20.8X", 0x1234abc, "0X01234ABC          "),
    I("%-#20.8o", 01234, "00001234            "),
    I("%d", INT64_MIN, "-9223372036854775808"),
    I("%U", 0, "U+0000"),
    I("%U", -1, "U+FFFFFFFFFFFFFFFF"),
    I("%#U", '\n', "U+000A"),
    I("%+U", 'x', "U+0078"),
    I("%# U", 'x', "U+0078 'x'"),
    I("%#.2U", 'x', "U+0078 'x'"),
    I("%#U", 0x263a, "U+263A '\xe2\x98\xba'"),
    I("%#14.6U", 0x2318, "  U+002318 '\xe2\x8c\x98'"),
    I("%#-14.6U", 0x2318, "U+002318 '\xe2\x8c\x98'  "),
    I("%c", 'x', "x"),
    I("%c", 0xe4, "\xc3\xa4"),
    I("%3c", 0x2318, "  \xe2\x8c\x98"),
    I("%-3c", 0x2318, "\xe2\x8c\x98  "),
    I("%c", -1, "\xef\xbf\xbd"),
    I("%c", 0xDC80, "\xef\xbf\xbd"),
    I("%q", 0, "'\\x00'"),
    I("%q", '"', "'\"'"),
    I("%q", '\'', "'\\''"),
    I("%q", 0xff, "'\xc3\xbf'"),
    I("%+q", 0xff, "'\\u00ff'"),
    I("%q", '\n', "'\\n'"),
    I("%q", 0x0e00, "'\\u0e00'"),
    I("%q", 0x10ffff, "'\\U0010ffff'"),
    I("%10q", 0x2318, "       '\xe2\x8c\x98'"),
    I("%+10q", 0x2318, "  '\\u2318'"),
    I("%-10q", 0x2318, "'\xe2\x8c\x98'       "),
    I("%010q", 0x2318, "0000000'\xe2\x8c\x98'"),
    I("%s", 1, "%!s(int=1)"),
    I("%t", 1, "%!t(int=1)"),
    I("%v", 42, "42"),
    I("%#v", 1000000000, "1000000000"),
    I("%p", 27, "%!p(int=27)"),

    /* strings and %q */
    S("%s", "abc", "abc"),
    S("%x", "abc", "616263"),
    S("%x", "\xff\xf0\x0f\xff", "fff00fff"),
    S("%X", "\xff\xf0\x0f\xff", "FFF00FFF"),
    S("%x", "", ""),
    S("% x", "xyz", "78 79 7a"),
    S("%#x", "xyz", "0x78797a"),
    S("%# X", "xyz", "0X78 0X79 0X7A"),
    S("%2x", "", "  "),
    S("% 02x", "", "00"),
    S("%08x", "\xab", "000000ab"),
    S("%#08x", "\xab", "00000xab"),
    S("% 10x", "\xab\xcd", "     ab cd"),
    S("%# 010x", "\xab\xcd", "00xab 0xcd"),
    S("%# -010X", "\xab\xcd", "0XAB 0XCD "),
    S("%.5x", "abcdefghijklmnopqrstuvwxyz", "6162636465"),
    S("%q", "", "\"\""),
    S("%#q", "", "``"),
    S("%q", "\"", "\"\\\"\""),
    S("%#q", "\"", "`\"`"),
    S("%q", "`", "\"`\""),
    S("%#q", "`", "\"`\""),
    S("%q", "\n", "\"\\n\""),
    S("%#q", "\\n", "`\\n`"),
    S("%q", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "\"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\""),
    S("%+q", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "\"\\u65e5\\u672c\\u8a9e\""),
    S("%#+q", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e",
        "`\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e`"),
    S("%q", "\a\b\f\n\r\t\v\"\\", "\"\\a\\b\\f\\n\\r\\t\\v\\\"\\\\\""),
    S("% q", "\xe2\x98\xba", "\"\xe2\x98\xba\""),
    S("%10q", "\xe2\x8c\x98", "       \"\xe2\x8c\x98\""),
    S("%+10q", "\xe2\x8c\x98", "  \"\\u2318\""),
    S("%-10q", "\xe2\x8c\x98", "\"\xe2\x8c\x98\"       "),
    S("%010q", "\xe2\x8c\x98", "0000000\"\xe2\x8c\x98\""),
    S("%-010q", "\xe2\x8c\x98", "\"\xe2\x8c\x98\"       "),
    S("%#8q", "\n", "    \"\\n\""),
    S("%#-8q", "\t", "`\t`     "),
    S("%q",
        "abc\xff"
        "def",
        "\"abc\\xffdef\""),
    S("%#q",
        "abc\xff"
        "def",
        "\"abc\\xffdef\""),
    S("%q", "\xf4\x8f\xbf\xbf", "\"\\U0010ffff\""),
    S("%q", "a\x01\x7f\xc2\xa0z", "\"a\\x01\\x7f\\u00a0z\""),
    S("%5s", "abc", "  abc"),
    S("%2s", "\xe2\x98\xba", " \xe2\x98\xba"),
    S("%-5s", "abc", "abc  "),
    S("%05s", "abc", "00abc"),
    S("%0-5s", "abc", "abc  "),
    S("%5s", "abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"),
    S("%.5s", "abcdefghijklmnopqrstuvwxyz", "abcde"),
    S("%.0s", "\xe6\x97\xa5\xe6\x9c\xac", ""),
    S("%.1s", "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5"),
    S("%08q", "abc", "000\"abc\""),
    S("%-8q", "abc", "\"abc\"   "),
    S("%.5q", "abcdefghijklmnopqrstuvwxyz", "\"abcde\""),
    S("%.1x", "\xe6\x97\xa5", "e6"),
    S("%10.1q", "\xe6\x97\xa5\xe6\x9c\xac", "       \"\xe6\x97\xa5\""),
    S("%20.5s", "qwertyuiop", "               qwert"),
    S("%d", "x", "%!d(string=x)"),
    S("%5d", "x", "%!d(string=    x)"),
    S("%#v", "foo", "\"foo\""),
    S("%T", "s", "string"),
    S("%.", "s", "%!.(string=s)"),

    /* other kinds */
    {"%v", A_BOOL, 1, 0, NULL, "true"},
    {"%t", A_BOOL, 0, 0, NULL, "false"},
    {"%6v", A_BOOL, 1, 0, NULL, "  true"},
    {"%d", A_BOOL, 1, 0, NULL, "%!d(bool=true)"},
    {"%v", A_NIL, 0, 0, NULL, "<nil>"},
    {"%10v", A_NIL, 0, 0, NULL, "     <nil>"},
    {"%-10v", A_NIL, 0, 0, NULL, "<nil>     "},
    {"%10T", A_NIL, 0, 0, NULL, "     <nil>"},
    {"%d", A_NIL, 0, 0, NULL, "%!d(<nil>)"},
    {"%#v", A_NIL, 0, 0, NULL, "<nil>"},
    {"%v", A_LIST, 0, 0, NULL, "[1 a <nil> 2.5]"},
    {"%d", A_LIST, 0, 0, NULL, "[1 %!d(string=a) <nil> %!d(float64=2.5)]"},
    {"%q", A_LIST, 0, 0, NULL, "['\\x01' \"a\" <nil> %!q(float64=2.5)]"},
    {"%#v", A_LIST, 0, 0, NULL,
        "[]interface {}{1, \"a\", interface {}(nil), 2.5}"},
    {"%5v", A_LIST, 0, 0, NULL, "[    1     a <nil>   2.5]"},
    {"%T", A_LIST, 0, 0, NULL, "[]interface {}"},
    {"%v", A_MAP, 0, 0, NULL, "map[a:1 b:x]"},
    {"%#v", A_MAP, 0, 0, NULL, "map[string]interface {}{\"a\":1, \"b\":\"x\"}"},
    {"%s", A_MAP, 0, 0, NULL, "map[a:%!s(int=1) b:x]"},
    {"%v", A_KV, 0, 0, NULL, "{/k v}"},
    {"%+v", A_KV, 0, 0, NULL, "{Key:/k Value:v}"},
    {"%#v", A_KV, 0, 0, NULL, "memkv.KVPair{Key:\"/k\", Value:\"v\"}"},
    {"%q", A_KV, 0, 0, NULL, "{\"/k\" \"v\"}"},
    {"%d", A_KV, 0, 0, NULL, "{%!d(string=/k) %!d(string=v)}"},

    /* fmt's complaints */
    {"%s", A_NONE, 0, 0, NULL, "%!s(MISSING)"},
    {"%!", A_NONE, 0, 0, NULL, "%!!(MISSING)"},
    {"%", A_NONE, 0, 0, NULL, "%!(NOVERB)"},
    {"abc%", A_NONE, 0, 0, NULL, "abc%!(NOVERB)"},
    {"%d%%", A_INT, 5, 0, NULL, "5%"},
    {"", A_INT, 2, 0, NULL, "%!(EXTRA int=2)"},
    {"", A_NIL, 0, 0, NULL, "%!(EXTRA <nil>)"},
    {"no args", A_STR, 0, 0, "hello", "no args%!(EXTRA string=hello)"},
    {"%s %", A_STR, 0, 0, "hello", "hello %!(NOVERB)"},
    {"%s %.2", A_STR, 0, 0, "hello", "hello %!(NOVERB)"},
    {"%010.2", A_STR, 0, 0, "12345", "%!(NOVERB)%!(EXTRA string=12345)"},
    {"%017091901790959340919092959340919017929593813360", A_INT, 0, 0, NULL,
        "%!(NOVERB)%!(EXTRA int=0)"},
    {"%[2]d", A_INT, 1, 0, NULL, "%!d(BADINDEX)"},
    {"%[1]d %[1]d", A_INT, 7, 0, NULL, "7 7"},
    {"%[x]d", A_INT, 7, 0, NULL, "%!d(BADINDEX)"},
    {"%*d", A_STR, 0, 0, "x", "%!(BADWIDTH)%!d(MISSING)"},
    {"%.*d", A_STR, 0, 0, "x", "%!(BADPREC)%!d(MISSING)"},
};

static void
test_sprintf(void **state)
{
	size_t i, bad = 0;

	for (i = 0; i < NITEMS(fcases); i++) {
		const struct fcase *c = &fcases[i];
		struct tval *arg = make_arg(c);
		struct tbuf b = {0};

		tval_sprintf(
		    &b, c->fmt, strlen(c->fmt), &arg, arg != NULL ? 1 : 0);
		if (strcmp(b.p, c->want) != 0) {
			print_error(
			    "%s: got [%s] want [%s]\n", c->fmt, b.p, c->want);
			bad++;
		}
		tbuf_free(&b);
		tval_unref(arg);
	}
	assert_int_equal(bad, 0);
}

static char *
sprintf_args(const char *fmt, struct tval **args, size_t n)
{
	struct tbuf b = {0};
	size_t i;

	tval_sprintf(&b, fmt, strlen(fmt), args, n);
	for (i = 0; i < n; i++)
		tval_unref(args[i]);
	return b.p;
}

static void
test_sprintf_multi(void **state)
{
	struct tval *a[4];
	char *s;

	a[0] = tval_int(8);
	a[1] = tval_int(2);
	a[2] = tval_float(3.14159);
	s = sprintf_args("%*.*f|", a, 3);
	assert_string_equal(s, "    3.14|");
	free(s);
	a[0] = tval_int(-8);
	a[1] = tval_str("x");
	s = sprintf_args("%*s|", a, 2);
	assert_string_equal(s, "x       |");
	free(s);
	a[0] = tval_int(1);
	a[1] = tval_int(2);
	s = sprintf_args("%[2]d %[1]d %d", a, 2);
	assert_string_equal(s, "2 1 2");
	free(s);
	a[0] = tval_int(1);
	a[1] = tval_str("a");
	a[2] = tval_nil();
	s = sprintf_args("%d", a, 3);
	assert_string_equal(s, "1%!(EXTRA string=a, <nil>)");
	free(s);
	a[0] = tval_int(10000000);
	a[1] = tval_int(1);
	s = sprintf_args("%*d", a, 2);
	assert_string_equal(s, "%!(BADWIDTH)1");
	free(s);
	a[0] = tval_str("a");
	a[1] = tval_int(3);
	a[2] = tval_str("b");
	s = sprintf_args("%s%d%s", a, 3);
	assert_string_equal(s, "a3b");
	free(s);
}

static char *
print_args(bool ln, struct tval **args, size_t n)
{
	struct tbuf b = {0};
	size_t i;

	if (ln)
		tval_sprintln(&b, args, n);
	else
		tval_sprint(&b, args, n);
	for (i = 0; i < n; i++)
		tval_unref(args[i]);
	return b.p;
}

static void
test_sprint(void **state)
{
	struct tval *a[5];
	char *s;

	a[0] = tval_int(1);
	a[1] = tval_int(2);
	a[2] = tval_str("a");
	a[3] = tval_str("b");
	a[4] = tval_float(3.5);
	s = print_args(false, a, 5);
	assert_string_equal(s, "1 2ab3.5");
	free(s);
	a[0] = tval_int(1);
	a[1] = tval_int(2);
	a[2] = tval_str("a");
	a[3] = tval_str("b");
	a[4] = tval_nil();
	s = print_args(true, a, 5);
	assert_string_equal(s, "1 2 a b <nil>\n");
	free(s);
	a[0] = tval_nil();
	a[1] = tval_bool(true);
	s = print_args(false, a, 2);
	assert_string_equal(s, "<nil> true");
	free(s);
	s = print_args(true, a, 0);
	assert_string_equal(s, "\n");
	free(s);
}

/* tval_print: %v of one value of every kind */
static void
test_print(void **state)
{
	struct tval *l = tval_list(TVE_ANY), *inner = tval_list(TVE_STRING),
	            *m = tval_map(), *kvs = tval_list(TVE_KV);
	static const char want[] =
	    "[[a] map[e:[] k:v] 1e+21 false <nil> -3 a\0b]";
	struct tbuf b = {0};

	tval_list_append(inner, tval_str("a"));
	tval_list_append(l, inner);
	tval_map_set(m, "k", tval_str("v"));
	tval_map_set(m, "e", tval_list(TVE_ANY));
	tval_list_append(l, m);
	tval_list_append(l, tval_float(1e21));
	tval_list_append(l, tval_bool(false));
	tval_list_append(l, tval_nil());
	tval_list_append(l, tval_int(-3));
	tval_list_append(l, tval_strn("a\0b", 3));
	tval_print(&b, l);
	assert_int_equal(b.len, sizeof(want) - 1);
	assert_memory_equal(b.p, want, sizeof(want) - 1);
	tbuf_free(&b);
	tval_list_append(kvs, tval_kv("/a", "1"));
	tval_list_append(kvs, tval_kv("/b", ""));
	tval_print(&b, kvs);
	assert_string_equal(b.p, "[{/a 1} {/b }]");
	tbuf_free(&b);
	tval_print(&b, NULL);
	tval_print(&b, inner);
	assert_string_equal(b.p, "<nil>[a]");
	tbuf_free(&b);
	assert_string_equal(tval_type_name(l), "[]interface {}");
	assert_string_equal(tval_type_name(inner), "[]string");
	assert_string_equal(tval_type_name(kvs), "[]memkv.KVPair");
	assert_string_equal(tval_type_name(m), "map[string]interface {}");
	tval_unref(l);
	tval_unref(kvs);
}

/* truth, map order and replacement, references */
static void
test_values(void **state)
{
	struct tval *m = tval_map(), *e = tval_list(TVE_STRING), *v;
	struct tbuf b = {0};

	assert_false(tval_truth(NULL));
	assert_false(tval_truth(e));
	assert_false(tval_truth(m));
	tval_map_set(m, "z", tval_int(1));
	tval_map_set(m, "a", tval_int(2));
	tval_map_set(m, "m", tval_int(3));
	tval_map_set(m, "a", tval_str("new"));
	assert_int_equal(m->u.map.n, 3);
	assert_true(tval_truth(m));
	v = tval_map_get(m, "a");
	assert_non_null(v);
	assert_string_equal(v->u.s.p, "new");
	assert_null(tval_map_get(m, "b"));
	tval_print(&b, m);
	assert_string_equal(b.p, "map[a:new m:3 z:1]");
	tbuf_free(&b);
	tval_ref(m);
	assert_int_equal(m->refs, 2);
	tval_unref(m);
	assert_int_equal(m->refs, 1);
	tval_unref(m);
	v = tval_float(0);
	assert_false(tval_truth(v));
	tval_unref(v);
	v = tval_kv("", "");
	assert_true(tval_truth(v));
	tval_unref(v);
	tval_unref(e);
	tbuf_addf(&b, "%d-%s", 5, "x");
	tbuf_adds(&b, "!");
	assert_string_equal(b.p, "5-x!");
	tbuf_free(&b);
}

/* n lists, each holding the next, the innermost holding 1 */
static struct tval *
nested(int n)
{
	struct tval *v = tval_int(1), *l;
	int i;

	for (i = 0; i < n; i++) {
		l = tval_list(TVE_ANY);
		tval_list_append(l, v);
		v = l;
	}
	return v;
}

/*
 * Deep nesting prints in full as Go's fmt does, at least as deep as JSON
 * nests (Go's decoder stops at 10000); only a nesting deeper than the
 * stack holds prints [...] inside.  Freeing does not recurse.
 */
static void
test_deep(void **state)
{
	struct tval *v, *m = tval_map();
	struct tbuf b = {0}, want = {0};
	struct rlimit rl;
	int i, n = 10000;

	/* a stack below the usual 8 MiB holds less (1 MiB: ~3000) */
	if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < 8 * 1024 * 1024)
		n = 1000;
	v = nested(n);
	for (i = 0; i < n; i++)
		tbuf_adds(&want, "[");
	tbuf_adds(&want, "1");
	for (i = 0; i < n; i++)
		tbuf_adds(&want, "]");
	tval_print(&b, v);
	assert_string_equal(b.p, want.p);
	tbuf_free(&b);
	tval_sprintf(&b, "%v", 2, &v, 1);
	assert_string_equal(b.p, want.p);
	tbuf_free(&b);
	tbuf_free(&want);
	tval_map_set(m, "k", v);
	tval_sprintf(&b, "%v", 2, &m, 1);
	assert_int_equal(b.len, 6 + 2 * (size_t)n + 1 + 1);
	assert_memory_equal(b.p, "map[k:[[[", 9);
	assert_memory_equal(b.p + b.len - 3, "]]]", 3);
	tbuf_free(&b);
	tval_unref(m);

	v = nested(2000000);
	tval_print(&b, v);
	assert_non_null(strstr(b.p, "[[...]]"));
	assert_int_equal(b.p[b.len - 1], ']');
	tbuf_free(&b);
	tval_sprintf(&b, "%#v", 3, &v, 1);
	assert_non_null(strstr(b.p, "{[...]}"));
	tbuf_free(&b);
	tval_unref(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sprintf),
	    cmocka_unit_test(test_sprintf_multi),
	    cmocka_unit_test(test_sprint),
	    cmocka_unit_test(test_print),
	    cmocka_unit_test(test_values),
	    cmocka_unit_test(test_deep),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
