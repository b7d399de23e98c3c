/*
 * Go's encoding/json Unmarshal into map[string]interface{} and
 * []interface{}: checkValid's scanner (with its error messages) over the
 * whole input, then the decode, with Go's string unquoting (invalid UTF-8
 * and lone surrogates become U+FFFD) and float64 numbers.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/gojson.h"
#include "confd/tmpl_fmtint.h"
#include "lib/xmalloc.h"

#define GOJSON_MAXDEPTH 10000 /* Go's maxNestingDepth */

struct jscan {
	const char *p, *end;
	int depth;
	char *err;
	size_t errlen;
};

static bool
js_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void
js_skip(struct jscan *s)
{
	while (s->p < s->end && js_space(*s->p))
		s->p++;
}

/* Go's SyntaxError: invalid character 'c' context */
static int
js_error(struct jscan *s, const char *context)
{
	struct tbuf q = {0};
	unsigned char c;
	char enc[4];
	size_t n;

	if (s->p >= s->end) {
		snprintf(s->err, s->errlen, "unexpected end of JSON input");
		return -1;
	}
	c = (unsigned char)*s->p;
	if (c == '\'')
		tbuf_adds(&q, "\"\\'\"");
	else if (c == '"')
		tbuf_adds(&q, "\"\"\"");
	else {
		/* strconv.Quote(string(rune(c))) */
		n = tfmt_encode_rune(enc, c);
		tfmt_quote(&q, enc, n, false);
	}
	snprintf(s->err, s->errlen, "invalid character '%.*s' %s",
	    (int)(q.len - 2), q.p + 1, context);
	tbuf_free(&q);
	return -1;
}

static bool
js_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static bool
js_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
js_check_string(struct jscan *s)
{
	int i;

	s->p++; /* the quote */
	for (;;) {
		if (s->p >= s->end)
			return js_error(s, "");
		if (*s->p == '"') {
			s->p++;
			return 0;
		}
		if ((unsigned char)*s->p < 0x20)
			return js_error(s, "in string literal");
		if (*s->p != '\\') {
			s->p++;
			continue;
		}
		s->p++;
		if (s->p >= s->end)
			return js_error(s, "");
		switch (*s->p) {
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
		case '\\':
		case '/':
		case '"':
			s->p++;
			break;
		case 'u':
			s->p++;
			for (i = 0; i < 4; i++) {
				if (s->p >= s->end)
					return js_error(s, "");
				if (!js_hex(*s->p))
					return js_error(s,
					    "in \\u hexadecimal character "
					    "escape");
				s->p++;
			}
			break;
		default:
			return js_error(s, "in string escape code");
		}
	}
}

/*
 * A number: Go's scanner states; at the end of the input a number may be
 * complete (state1, state0, stateDot0, stateE0) or not.
 */
static int
js_check_number(struct jscan *s)
{
	if (*s->p == '-') {
		s->p++;
		if (s->p >= s->end)
			return js_error(s, "");
		if (!js_digit(*s->p))
			return js_error(s, "in numeric literal");
	}
	if (*s->p == '0')
		s->p++;
	else
		while (s->p < s->end && js_digit(*s->p))
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (s->p >= s->end)
			return js_error(s, "");
		if (!js_digit(*s->p))
			return js_error(
			    s, "after decimal point in numeric literal");
		while (s->p < s->end && js_digit(*s->p))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end)
			return js_error(s, "");
		if (!js_digit(*s->p))
			return js_error(s, "in exponent of numeric literal");
		while (s->p < s->end && js_digit(*s->p))
			s->p++;
	}
	return 0;
}

static int
js_check_literal(struct jscan *s, const char *word)
{
	char ctx[64];
	size_t i;

	s->p++;
	for (i = 1; word[i] != '\0'; i++) {
		if (s->p >= s->end)
			return js_error(s, "");
		if (*s->p != word[i]) {
			snprintf(ctx, sizeof(ctx),
			    "in literal %s (expecting '%c')", word, word[i]);
			return js_error(s, ctx);
		}
		s->p++;
	}
	return 0;
}

/* a scalar: string, number or literal */
static int
js_check_scalar(struct jscan *s)
{
	switch (*s->p) {
	case '"':
		return js_check_string(s);
	case 't':
		return js_check_literal(s, "true");
	case 'f':
		return js_check_literal(s, "false");
	case 'n':
		return js_check_literal(s, "null");
	default:
		if (*s->p == '-' || js_digit(*s->p))
			return js_check_number(s);
		return js_error(s, "looking for beginning of value");
	}
}

/*
 * One value and what nests in it, without recursion: the stack holds '{'
 * or '[' for each open container, at most Go's maxNestingDepth.
 */
static int
js_check_value(struct jscan *s)
{
	char *stack = NULL;
	size_t depth = 0, cap = 0;
	int rc = -1;

value:
	js_skip(s);
	if (s->p >= s->end) {
		js_error(s, "");
		goto out;
	}
	if (*s->p == '{' || *s->p == '[') {
		if (depth >= GOJSON_MAXDEPTH) {
			js_error(s, "exceeded max depth");
			goto out;
		}
		if (depth == cap) {
			cap = cap ? cap * 2 : 64;
			stack = xrealloc(stack, cap);
		}
		stack[depth++] = *s->p++;
		js_skip(s);
		if (s->p < s->end &&
		    *s->p == (stack[depth - 1] == '{' ? '}' : ']')) {
			s->p++;
			depth--;
			goto after;
		}
		if (stack[depth - 1] == '[')
			goto value;
		goto key;
	}
	if (js_check_scalar(s) == -1)
		goto out;
after:
	if (depth == 0) {
		rc = 0;
		goto out;
	}
	js_skip(s);
	if (s->p >= s->end) {
		js_error(s, "");
		goto out;
	}
	if (stack[depth - 1] == '{') {
		if (*s->p == '}') {
			s->p++;
			depth--;
			goto after;
		}
		if (*s->p != ',') {
			js_error(s, "after object key:value pair");
			goto out;
		}
		s->p++;
		goto key;
	}
	if (*s->p == ']') {
		s->p++;
		depth--;
		goto after;
	}
	if (*s->p != ',') {
		js_error(s, "after array element");
		goto out;
	}
	s->p++;
	goto value;
key:
	js_skip(s);
	if (s->p >= s->end || *s->p != '"') {
		js_error(s, "looking for beginning of object key string");
		goto out;
	}
	if (js_check_string(s) == -1)
		goto out;
	js_skip(s);
	if (s->p >= s->end || *s->p != ':') {
		js_error(s, "after object key");
		goto out;
	}
	s->p++;
	goto value;
out:
	free(stack);
	return rc;
}

/* ---- decode (the input is known to be valid) ---- */

struct jdec {
	const char *p, *end;
	char *err; /* the first type error, as Go's saveError */
	size_t errlen;
	bool failed;
};

static int
getu4(const char *p, const char *end)
{
	int r = 0, i, c;

	if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (i = 2; i < 6; i++) {
		c = (unsigned char)p[i];
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			c = c - 'A' + 10;
		else
			return -1;
		r = r * 16 + c;
	}
	return r;
}

/* Go's unquote of a valid string literal at d->p */
static struct tval *
jd_string(struct jdec *d)
{
	struct tbuf b = {0};
	char enc[4];
	int32_t r, r2;
	size_t w;

	d->p++;
	tbuf_add(&b, "", 0);
	while (*d->p != '"') {
		if (*d->p == '\\') {
			switch (d->p[1]) {
			case 'b':
				tbuf_add(&b, "\b", 1);
				break;
			case 'f':
				tbuf_add(&b, "\f", 1);
				break;
			case 'n':
				tbuf_add(&b, "\n", 1);
				break;
			case 'r':
				tbuf_add(&b, "\r", 1);
				break;
			case 't':
				tbuf_add(&b, "\t", 1);
				break;
			case 'u':
				r = getu4(d->p, d->end);
				d->p += 6;
				if (r >= 0xd800 && r < 0xe000) {
					r2 = getu4(d->p, d->end);
					if (r < 0xdc00 && r2 >= 0xdc00 &&
					    r2 < 0xe000) {
						r = 0x10000 +
						    ((r - 0xd800) << 10) +
						    (r2 - 0xdc00);
						d->p += 6;
					} else
						r = 0xfffd;
				}
				tbuf_add(&b, enc, tfmt_encode_rune(enc, r));
				continue;
			default: /* \\ / " */
				tbuf_add(&b, d->p + 1, 1);
				break;
			}
			d->p += 2;
			continue;
		}
		r = tfmt_decode_rune(d->p, (size_t)(d->end - d->p), &w);
		if (r == 0xfffd && w == 1)
			tbuf_add(&b, "\xef\xbf\xbd", 3);
		else
			tbuf_add(&b, d->p, w);
		d->p += w;
	}
	d->p++;
	return tval_str_take(b.p, b.len);
}

static void
jd_skip(struct jdec *d)
{
	while (d->p < d->end && js_space(*d->p))
		d->p++;
}

static struct tval *
jd_number(struct jdec *d)
{
	const char *start = d->p;
	char *s, *end;
	double f;

	while (d->p < d->end &&
	    (js_digit(*d->p) || *d->p == '-' || *d->p == '+' || *d->p == '.' ||
	        *d->p == 'e' || *d->p == 'E'))
		d->p++;
	s = xstrndup(start, (size_t)(d->p - start));
	errno = 0;
	f = strtod(s, &end);
	if (errno == ERANGE && isinf(f)) {
		if (!d->failed)
			snprintf(d->err, d->errlen,
			    "json: cannot unmarshal number %s into Go value "
			    "of type float64",
			    s);
		d->failed = true;
	}
	free(s);
	return tval_float(f);
}

static struct tval *
jd_scalar(struct jdec *d)
{
	switch (*d->p) {
	case '"':
		return jd_string(d);
	case 't':
		d->p += 4;
		return tval_bool(true);
	case 'f':
		d->p += 5;
		return tval_bool(false);
	case 'n':
		d->p += 4;
		return tval_nil();
	default:
		return jd_number(d);
	}
}

struct jframe {
	struct tval *c; /* the open map or list */
	char *key; /* a map's key waiting for its value */
};

/* the key of an object member at d->p, and past its colon */
static char *
jd_key(struct jdec *d)
{
	struct tval *k;
	char *key;

	jd_skip(d);
	k = jd_string(d);
	key = xstrndup(k->u.s.p, k->u.s.len);
	tval_unref(k);
	jd_skip(d);
	d->p++; /* : */
	return key;
}

/* a valid value, without recursion */
static struct tval *
jd_value(struct jdec *d)
{
	struct jframe *stack = NULL;
	size_t depth = 0, cap = 0;
	struct tval *v;
	char c;

value:
	jd_skip(d);
	if (*d->p == '{' || *d->p == '[') {
		c = *d->p++;
		v = c == '{' ? tval_map() : tval_list(TVE_ANY);
		jd_skip(d);
		if (*d->p == (c == '{' ? '}' : ']')) {
			d->p++;
			goto emit;
		}
		if (depth == cap) {
			cap = cap ? cap * 2 : 64;
			stack = xreallocarray(stack, cap, sizeof(*stack));
		}
		stack[depth].c = v;
		stack[depth].key = c == '{' ? jd_key(d) : NULL;
		depth++;
		goto value;
	}
	v = jd_scalar(d);
emit:
	if (depth == 0) {
		free(stack);
		return v;
	}
	if (stack[depth - 1].c->kind == TV_MAP) {
		tval_map_set(stack[depth - 1].c, stack[depth - 1].key, v);
		free(stack[depth - 1].key);
		stack[depth - 1].key = NULL;
	} else
		tval_list_append(stack[depth - 1].c, v);
	jd_skip(d);
	if (*d->p++ == ',') {
		if (stack[depth - 1].c->kind == TV_MAP)
			stack[depth - 1].key = jd_key(d);
		goto value;
	}
	v = stack[--depth].c;
	goto emit;
}

struct tval *
gojson_unmarshal(const char *data, size_t len, enum gojson_want want, char *err,
    size_t errlen)
{
	struct jscan s = {data, data + len, 0, err, errlen};
	struct jdec d = {data, data + len, err, errlen, false};
	struct tval *v;
	const char *what = NULL;

	if (js_check_value(&s) == -1)
		return NULL;
	js_skip(&s);
	if (s.p < s.end) {
		js_error(&s, "after top-level value");
		return NULL;
	}
	jd_skip(&d);
	switch (*d.p) {
	case '{':
		if (want != GOJSON_OBJECT)
			what = "object";
		break;
	case '[':
		if (want != GOJSON_ARRAY)
			what = "array";
		break;
	case '"':
		what = "string";
		break;
	case 't':
	case 'f':
		what = "bool";
		break;
	case 'n':
		return want == GOJSON_OBJECT ? tval_map() : tval_list(TVE_ANY);
	default:
		what = "number";
		break;
	}
	if (what != NULL) {
		snprintf(err, errlen,
		    "json: cannot unmarshal %s into Go value of type %s", what,
		    want == GOJSON_OBJECT ? "map[string]interface {}"
		                          : "[]interface {}");
		return NULL;
	}
	v = jd_value(&d);
	if (d.failed) {
		tval_unref(v);
		return NULL;
	}
	return v;
}
