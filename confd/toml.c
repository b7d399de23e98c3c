/*
 * The TOML subset conf.d/NAME.toml files are written in (toml.h): a single
 * pass over the bytes with a cursor that never reads past the end, one
 * function per production of TOML 1.0's grammar that confd's files can
 * hold.  The first error stops the parse and is reported with its line.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/toml.h"
#include "lib/xmalloc.h"

/* conf.d files are a dozen lines; these only keep hostile input cheap */
#define TOML_MAX_ENTRIES 4096
#define TOML_MAX_TABLES 1024

struct tp {
	const char *p, *end;
	const char *file;
	int line;
	char *err;
	size_t errlen;
	struct toml_doc *doc;
};

struct sbuf {
	char *p;
	size_t len, cap;
};

static void
sbuf_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		while (b->len + n + 1 > b->cap)
			b->cap = b->cap ? b->cap * 2 : 32;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sbuf_addc(struct sbuf *b, char c)
{
	sbuf_add(b, &c, 1);
}

/* Takes the buffer as a NUL-terminated string ("" when empty). */
static char *
sbuf_take(struct sbuf *b, size_t *len)
{
	char *s;

	if (b->p == NULL)
		sbuf_add(b, "", 0);
	s = b->p;
	if (len != NULL)
		*len = b->len;
	memset(b, 0, sizeof(*b));
	return s;
}

static int __attribute__((format(printf, 2, 3)))
tp_error(struct tp *tp, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(tp->err, tp->errlen, "%s:%d: %s", tp->file, tp->line, msg);
	return -1;
}

static bool tp_at(const struct tp *, const char *);

/* What the cursor sees, for messages: "'x'", "byte 0x01", "end of file". */
static const char *
tp_what(const struct tp *tp, char *buf, size_t len)
{
	unsigned char c;

	if (tp->p >= tp->end)
		return "the end of the file";
	c = (unsigned char)*tp->p;
	if (c == '\n' || (c == '\r' && tp_at(tp, "\r\n")))
		return "the end of the line";
	if (c == '\r')
		return "a bare carriage return";
	if (c >= 0x20 && c < 0x7f)
		snprintf(buf, len, "'%c'", c);
	else
		snprintf(buf, len, "byte 0x%02x", c);
	return buf;
}

static int
tp_unexpected(struct tp *tp, const char *want)
{
	char buf[16];

	return tp_error(
	    tp, "expected %s, found %s", want, tp_what(tp, buf, sizeof(buf)));
}

static bool
tp_at(const struct tp *tp, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(tp->end - tp->p) >= n && memcmp(tp->p, s, n) == 0;
}

static void
skip_ws(struct tp *tp)
{
	while (tp->p < tp->end && (*tp->p == ' ' || *tp->p == '\t'))
		tp->p++;
}

/* A control character TOML refuses in strings and comments. */
static bool
is_ctl(unsigned char c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* At '#': up to (not over) the end of the line. */
static int
skip_comment(struct tp *tp)
{
	if (tp->p >= tp->end || *tp->p != '#')
		return 0;
	for (tp->p++; tp->p < tp->end && *tp->p != '\n'; tp->p++) {
		if (*tp->p == '\r' && tp_at(tp, "\r\n"))
			break;
		if (is_ctl((unsigned char)*tp->p))
			return tp_error(tp,
			    "control character 0x%02x in a comment",
			    (unsigned char)*tp->p);
	}
	return 0;
}

/* At a newline: steps over it.  1 when there was one, 0 if not. */
static int
skip_newline(struct tp *tp)
{
	if (tp->p < tp->end && *tp->p == '\n') {
		tp->p++;
		tp->line++;
		return 1;
	}
	if (tp_at(tp, "\r\n")) {
		tp->p += 2;
		tp->line++;
		return 1;
	}
	return 0;
}

/* After a key/value pair or a header: nothing but a comment. */
static int
expect_eol(struct tp *tp)
{
	skip_ws(tp);
	if (skip_comment(tp) == -1)
		return -1;
	if (tp->p >= tp->end || skip_newline(tp))
		return 0;
	return tp_unexpected(tp, "the end of the line");
}

/* Whitespace, newlines and comments, inside arrays. */
static int
skip_ws_nl(struct tp *tp)
{
	for (;;) {
		skip_ws(tp);
		if (tp->p < tp->end && *tp->p == '#') {
			if (skip_comment(tp) == -1)
				return -1;
			continue;
		}
		if (!skip_newline(tp))
			return 0;
	}
}

static void
value_clean(struct toml_value *v)
{
	size_t i;

	free(v->s);
	for (i = 0; i < v->n; i++)
		value_clean(&v->items[i]);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
add_utf8(struct sbuf *b, uint32_t cp)
{
	char u[4];

	if (cp < 0x80) {
		u[0] = (char)cp;
		sbuf_add(b, u, 1);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(b, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(b, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		sbuf_add(b, u, 4);
	}
}

/* At the '\\' of an escape in a basic string. */
static int
parse_escape(struct tp *tp, struct sbuf *b)
{
	static const char plain[] = "b\bt\tn\nf\fr\r\"\"\\\\";
	uint32_t cp = 0;
	size_t i, n;
	char c;
	int h;

	tp->p++;
	if (tp->p >= tp->end)
		return tp_error(tp, "unterminated string");
	c = *tp->p;
	for (i = 0; plain[i] != '\0'; i += 2) {
		if (plain[i] == c) {
			sbuf_addc(b, plain[i + 1]);
			tp->p++;
			return 0;
		}
	}
	if (c != 'u' && c != 'U') {
		if (c >= 0x20 && c < 0x7f)
			return tp_error(
			    tp, "invalid escape \\%c in a string", c);
		return tp_error(tp, "invalid escape in a string");
	}
	n = c == 'u' ? 4 : 8;
	tp->p++;
	if ((size_t)(tp->end - tp->p) < n)
		return tp_error(tp, "\\%c needs %zu hex digits", c, n);
	for (i = 0; i < n; i++) {
		if ((h = hexval(tp->p[i])) == -1)
			return tp_error(tp, "\\%c needs %zu hex digits", c, n);
		cp = cp << 4 | (uint32_t)h;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return tp_error(tp, "\\%c%.*s is not a Unicode scalar value", c,
		    (int)n, tp->p);
	tp->p += n;
	add_utf8(b, cp);
	return 0;
}

/*
 * A string of any of the four kinds, at its opening quote.  Multi-line
 * strings drop a newline right after the opening quotes and, in basic
 * ones, a backslash at the end of a line eats the whitespace after it.
 */
static int
parse_string(struct tp *tp, struct toml_value *v, bool allow_multi)
{
	struct sbuf b = {0};
	char q = *tp->p;
	bool multi = false;
	size_t nq;
	const char *s;

	if (allow_multi && tp_at(tp, q == '"' ? "\"\"\"" : "'''")) {
		multi = true;
		tp->p += 3;
		skip_newline(tp);
	} else
		tp->p++;
	for (;;) {
		if (tp->p >= tp->end) {
			free(b.p);
			return tp_error(tp, "unterminated string");
		}
		if (*tp->p == q) {
			if (!multi) {
				tp->p++;
				break;
			}
			for (nq = 0; tp->p + nq < tp->end && tp->p[nq] == q;)
				nq++;
			if (nq >= 3) {
				if (nq > 5) {
					free(b.p);
					return tp_error(tp,
					    "too many quotes ending a string");
				}
				sbuf_add(&b, tp->p, nq - 3);
				tp->p += nq;
				break;
			}
			sbuf_add(&b, tp->p, nq);
			tp->p += nq;
			continue;
		}
		if (*tp->p == '\n' || tp_at(tp, "\r\n")) {
			if (!multi) {
				free(b.p);
				return tp_error(tp, "unterminated string");
			}
			s = tp->p;
			skip_newline(tp);
			sbuf_add(&b, s, (size_t)(tp->p - s));
			continue;
		}
		if (q == '"' && *tp->p == '\\') {
			if (multi) {
				/* a line-ending backslash */
				s = tp->p + 1;
				while (s < tp->end && (*s == ' ' || *s == '\t'))
					s++;
				if (s < tp->end &&
				    (*s == '\n' ||
				        (*s == '\r' && s + 1 < tp->end &&
				            s[1] == '\n'))) {
					tp->p = s;
					while (skip_newline(tp))
						skip_ws(tp);
					continue;
				}
			}
			if (parse_escape(tp, &b) == -1) {
				free(b.p);
				return -1;
			}
			continue;
		}
		if (is_ctl((unsigned char)*tp->p)) {
			free(b.p);
			return tp_error(tp,
			    "control character 0x%02x in a string",
			    (unsigned char)*tp->p);
		}
		sbuf_addc(&b, *tp->p);
		tp->p++;
	}
	v->type = TOML_STRING;
	v->s = sbuf_take(&b, &v->len);
	return 0;
}

static bool
is_bare(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* A key, dotted or not; the parts joined with ".". */
static int
parse_key(struct tp *tp, char **out)
{
	struct sbuf b = {0};
	struct toml_value v = {0};
	const char *s;

	for (;;) {
		if (tp->p < tp->end && (*tp->p == '"' || *tp->p == '\'')) {
			if (parse_string(tp, &v, false) == -1) {
				free(b.p);
				return -1;
			}
			sbuf_add(&b, v.s, v.len);
			value_clean(&v);
		} else {
			s = tp->p;
			while (tp->p < tp->end && is_bare(*tp->p))
				tp->p++;
			if (tp->p == s) {
				free(b.p);
				return tp_unexpected(tp, "a key");
			}
			sbuf_add(&b, s, (size_t)(tp->p - s));
		}
		skip_ws(tp);
		if (tp->p >= tp->end || *tp->p != '.')
			break;
		tp->p++;
		skip_ws(tp);
		sbuf_addc(&b, '.');
	}
	*out = sbuf_take(&b, NULL);
	return 0;
}

static int parse_value(struct tp *, struct toml_value *, int);

static int
parse_array(struct tp *tp, struct toml_value *v, int depth)
{
	struct toml_value item;

	v->type = TOML_ARRAY;
	tp->p++;
	for (;;) {
		if (skip_ws_nl(tp) == -1)
			return -1;
		if (tp->p < tp->end && *tp->p == ']') {
			tp->p++;
			return 0;
		}
		memset(&item, 0, sizeof(item));
		if (parse_value(tp, &item, depth + 1) == -1)
			return -1;
		v->items = xreallocarray(v->items, v->n + 1, sizeof(*v->items));
		v->items[v->n++] = item;
		if (skip_ws_nl(tp) == -1)
			return -1;
		if (tp->p < tp->end && *tp->p == ',') {
			tp->p++;
			continue;
		}
		if (tp->p < tp->end && *tp->p == ']') {
			tp->p++;
			return 0;
		}
		return tp_unexpected(tp, "',' or ']' in an array");
	}
}

/* { key = value, ... } on one line; the contents are dropped. */
static int
parse_inline_table(struct tp *tp, struct toml_value *v, int depth)
{
	struct toml_value item;
	char *key;

	v->type = TOML_TABLE;
	tp->p++;
	skip_ws(tp);
	if (tp->p < tp->end && *tp->p == '}') {
		tp->p++;
		return 0;
	}
	for (;;) {
		if (parse_key(tp, &key) == -1)
			return -1;
		free(key);
		if (tp->p >= tp->end || *tp->p != '=')
			return tp_unexpected(tp, "'=' after a key");
		tp->p++;
		skip_ws(tp);
		memset(&item, 0, sizeof(item));
		if (parse_value(tp, &item, depth + 1) == -1)
			return -1;
		value_clean(&item);
		skip_ws(tp);
		if (tp->p < tp->end && *tp->p == ',') {
			tp->p++;
			skip_ws(tp);
			continue;
		}
		if (tp->p < tp->end && *tp->p == '}') {
			tp->p++;
			return 0;
		}
		return tp_unexpected(tp, "',' or '}' in an inline table");
	}
}

/*
 * Digits of base with single underscores between them: "1_000", not
 * "_1", "1_", "1__0".
 */
static bool
digits_ok(const char *s, size_t n, int base)
{
	size_t i;
	int d;

	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			if (i == 0 || i == n - 1 || s[i - 1] == '_')
				return false;
			continue;
		}
		d = hexval(s[i]);
		if (d == -1 || d >= base)
			return false;
	}
	return true;
}

static int
parse_int(struct tp *tp, struct toml_value *v, const char *t, size_t n)
{
	int base = 10;
	bool neg = false;
	uint64_t acc = 0, lim;
	const char *s = t;
	size_t i, len = n;

	if (n > 2 && t[0] == '0' && strchr("xob", t[1]) != NULL) {
		base = t[1] == 'x' ? 16 : t[1] == 'o' ? 8 : 2;
		s += 2;
		len -= 2;
	} else if (*s == '+' || *s == '-') {
		neg = *s == '-';
		s++;
		len--;
	}
	if (!digits_ok(s, len, base))
		return tp_error(
		    tp, "invalid value: %.*s", (int)(n > 40 ? 40 : n), t);
	if (base == 10 && len > 1 && s[0] == '0')
		return tp_error(tp,
		    "leading zeros are not allowed in integers: %.*s",
		    (int)(n > 40 ? 40 : n), t);
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (i = 0; i < len; i++) {
		if (s[i] == '_')
			continue;
		if (acc > (lim - (uint64_t)hexval(s[i])) / (uint64_t)base)
			return tp_error(tp, "integer out of range: %.*s",
			    (int)(n > 40 ? 40 : n), t);
		acc = acc * (uint64_t)base + (uint64_t)hexval(s[i]);
	}
	v->type = TOML_INT;
	v->i = neg ? (int64_t)(0 - acc) : (int64_t)acc;
	return 0;
}

/* [+-]? int ('.' digits)? ([eE] [+-]? digits)?, int without leading 0s */
static int
parse_float(struct tp *tp, struct toml_value *v, const char *t, size_t n)
{
	char buf[128];
	const char *s = t, *e = t + n, *q;
	size_t k = 0;

	if (s < e && (*s == '+' || *s == '-'))
		s++;
	for (q = s; q < e && *q != '.' && *q != 'e' && *q != 'E'; q++)
		;
	if (!digits_ok(s, (size_t)(q - s), 10) ||
	    ((size_t)(q - s) > 1 && *s == '0'))
		goto bad;
	if (q < e && *q == '.') {
		s = ++q;
		while (q < e && *q != 'e' && *q != 'E')
			q++;
		if (!digits_ok(s, (size_t)(q - s), 10))
			goto bad;
	}
	if (q < e) {
		s = ++q;
		if (s < e && (*s == '+' || *s == '-'))
			s++;
		if (!digits_ok(s, (size_t)(e - s), 10))
			goto bad;
	}
	if (n >= sizeof(buf))
		goto bad;
	for (q = t; q < e; q++)
		if (*q != '_')
			buf[k++] = *q;
	buf[k] = '\0';
	v->type = TOML_FLOAT;
	v->f = strtod(buf, NULL);
	return 0;
bad:
	return tp_error(tp, "invalid value: %.*s", (int)(n > 40 ? 40 : n), t);
}

static bool
is_datetime(const char *t, size_t n)
{
	size_t i;

	if (n >= 5 && isdigit((unsigned char)t[0]) &&
	    isdigit((unsigned char)t[1]) && isdigit((unsigned char)t[2]) &&
	    isdigit((unsigned char)t[3]) && t[4] == '-')
		;
	else if (n >= 3 && isdigit((unsigned char)t[0]) &&
	    isdigit((unsigned char)t[1]) && t[2] == ':')
		;
	else
		return false;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)t[i]) &&
		    strchr("-:.+TtZz ", t[i]) == NULL)
			return false;
	return true;
}

static bool
is_token(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '+' || c == '-' ||
	    c == '.' || c == ':';
}

/* Numbers, booleans, inf/nan and dates: one token. */
static int
parse_scalar(struct tp *tp, struct toml_value *v)
{
	const char *t = tp->p;
	size_t n;

	while (tp->p < tp->end && is_token(*tp->p))
		tp->p++;
	/* "1979-05-27 07:32:00": a date, a space, a time */
	if (tp->p - t == 10 && is_datetime(t, 10) && tp->end - tp->p >= 2 &&
	    tp->p[0] == ' ' && isdigit((unsigned char)tp->p[1])) {
		tp->p++;
		while (tp->p < tp->end && is_token(*tp->p))
			tp->p++;
	}
	n = (size_t)(tp->p - t);
	if (n == 0)
		return tp_unexpected(tp, "a value");
	if ((n == 4 && memcmp(t, "true", 4) == 0) ||
	    (n == 5 && memcmp(t, "false", 5) == 0)) {
		v->type = TOML_BOOL;
		v->b = n == 4;
		return 0;
	}
	if ((n == 3 || (n == 4 && (*t == '+' || *t == '-'))) &&
	    (memcmp(t + n - 3, "inf", 3) == 0 ||
	        memcmp(t + n - 3, "nan", 3) == 0)) {
		v->type = TOML_FLOAT;
		v->f = t[n - 1] == 'f' ? INFINITY : NAN;
		if (*t == '-')
			v->f = -v->f;
		return 0;
	}
	if (is_datetime(t, n)) {
		v->type = TOML_DATETIME;
		v->s = xstrndup(t, n);
		v->len = n;
		return 0;
	}
	if (n > 2 && t[0] == '0' && strchr("xob", t[1]) != NULL)
		return parse_int(tp, v, t, n);
	if (memchr(t, '.', n) != NULL || memchr(t, 'e', n) != NULL ||
	    memchr(t, 'E', n) != NULL)
		return parse_float(tp, v, t, n);
	return parse_int(tp, v, t, n);
}

static int
parse_value(struct tp *tp, struct toml_value *v, int depth)
{
	int rc;

	v->line = tp->line;
	if (depth > TOML_MAX_DEPTH)
		return tp_error(
		    tp, "arrays nest more than %d deep", TOML_MAX_DEPTH);
	if (tp->p >= tp->end)
		return tp_unexpected(tp, "a value");
	switch (*tp->p) {
	case '"':
	case '\'':
		rc = parse_string(tp, v, true);
		break;
	case '[':
		rc = parse_array(tp, v, depth);
		break;
	case '{':
		rc = parse_inline_table(tp, v, depth);
		break;
	default:
		rc = parse_scalar(tp, v);
		break;
	}
	if (rc == -1)
		value_clean(v);
	return rc;
}

static int
parse_header(struct tp *tp)
{
	struct toml_doc *doc = tp->doc;
	struct toml_table *t;
	bool array;
	char *name;
	size_t i;
	int line = tp->line;

	tp->p++;
	array = tp->p < tp->end && *tp->p == '[';
	if (array)
		tp->p++;
	skip_ws(tp);
	if (parse_key(tp, &name) == -1)
		return -1;
	if (!tp_at(tp, array ? "]]" : "]")) {
		free(name);
		return tp_unexpected(tp, array ? "']]'" : "']'");
	}
	tp->p += array ? 2 : 1;
	for (i = 1; i < doc->ntables; i++) {
		t = &doc->tables[i];
		if (strcmp(t->name, name) != 0 || (array && t->array))
			continue;
		tp->line = line;
		if (t->array != array)
			tp_error(tp,
			    "[%s] is both a table and an array of tables "
			    "(line %d)",
			    name, t->line);
		else
			tp_error(tp,
			    "table [%s] defined twice (first at line "
			    "%d)",
			    name, t->line);
		free(name);
		return -1;
	}
	if (doc->ntables >= TOML_MAX_TABLES) {
		free(name);
		return tp_error(tp, "more than %d tables", TOML_MAX_TABLES);
	}
	doc->tables =
	    xreallocarray(doc->tables, doc->ntables + 1, sizeof(*doc->tables));
	t = &doc->tables[doc->ntables++];
	t->name = name;
	t->line = line;
	t->array = array;
	return expect_eol(tp);
}

static int
parse_keyval(struct tp *tp)
{
	struct toml_doc *doc = tp->doc;
	struct toml_entry e = {0};
	size_t i, cur = doc->ntables - 1;

	e.line = tp->line;
	e.table = cur;
	if (parse_key(tp, &e.key) == -1)
		return -1;
	if (tp->p >= tp->end || *tp->p != '=') {
		free(e.key);
		return tp_unexpected(tp, "'=' after a key");
	}
	tp->p++;
	skip_ws(tp);
	if (parse_value(tp, &e.v, 0) == -1) {
		free(e.key);
		return -1;
	}
	for (i = doc->nentries; i-- > 0 && doc->entries[i].table == cur;) {
		if (strcmp(doc->entries[i].key, e.key) == 0) {
			tp->line = e.line;
			tp_error(tp, "duplicate key %s (first at line %d)",
			    e.key, doc->entries[i].line);
			free(e.key);
			value_clean(&e.v);
			return -1;
		}
	}
	if (doc->nentries >= TOML_MAX_ENTRIES) {
		free(e.key);
		value_clean(&e.v);
		return tp_error(tp, "more than %d keys", TOML_MAX_ENTRIES);
	}
	doc->entries = xreallocarray(
	    doc->entries, doc->nentries + 1, sizeof(*doc->entries));
	doc->entries[doc->nentries++] = e;
	return expect_eol(tp);
}

int
toml_parse(const char *text, size_t len, const char *file, struct toml_doc *doc,
    char *err, size_t errlen)
{
	struct tp tp = {
	    .p = text,
	    .end = text + len,
	    .file = file,
	    .line = 1,
	    .err = err,
	    .errlen = errlen,
	    .doc = doc,
	};
	const char *nul;

	memset(doc, 0, sizeof(*doc));
	if (len > TOML_MAX_INPUT) {
		snprintf(err, errlen, "%s: larger than %d bytes", file,
		    TOML_MAX_INPUT);
		return -1;
	}
	if ((nul = memchr(text, '\0', len)) != NULL) {
		for (; tp.p < nul; tp.p++)
			if (*tp.p == '\n')
				tp.line++;
		return tp_error(&tp, "NUL byte in the file");
	}
	/* a UTF-8 byte order mark is allowed */
	if (tp_at(&tp, "\xef\xbb\xbf"))
		tp.p += 3;
	doc->tables = xcalloc(1, sizeof(*doc->tables));
	doc->tables[0].name = xstrdup("");
	doc->ntables = 1;
	while (tp.p < tp.end) {
		skip_ws(&tp);
		if (tp.p >= tp.end)
			break;
		if (skip_newline(&tp))
			continue;
		if (*tp.p == '#') {
			if (skip_comment(&tp) == -1)
				goto fail;
			continue;
		}
		if (*tp.p == '[') {
			if (parse_header(&tp) == -1)
				goto fail;
		} else if (parse_keyval(&tp) == -1)
			goto fail;
	}
	return 0;
fail:
	toml_doc_clean(doc);
	return -1;
}

void
toml_doc_clean(struct toml_doc *doc)
{
	size_t i;

	for (i = 0; i < doc->ntables; i++)
		free(doc->tables[i].name);
	free(doc->tables);
	for (i = 0; i < doc->nentries; i++) {
		free(doc->entries[i].key);
		value_clean(&doc->entries[i].v);
	}
	free(doc->entries);
	memset(doc, 0, sizeof(*doc));
}

const char *
toml_type_name(enum toml_type t)
{
	switch (t) {
	case TOML_STRING:
		return "string";
	case TOML_INT:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOL:
		return "boolean";
	case TOML_DATETIME:
		return "datetime";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "value";
}
