/*
 * Parse tree nodes: freeing, Go's Node.String() (tnode_string, which
 * round-trips a template and which execution errors quote), Go's
 * ErrorContext location, NumberNode's number rules (tnode_number) and
 * strconv.Unquote (tmpl_unquote).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_fmtint.h"
#include "confd/tmpl_lex.h"
#include "lib/xmalloc.h"

static void
free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
tnode_free_one(struct tnode *n)
{
	if (n == NULL)
		return;
	switch (n->type) {
	case TN_LIST:
		free(n->u.list.nodes);
		break;
	case TN_TEXT:
	case TN_COMMENT:
		free(n->u.text.text);
		break;
	case TN_TEMPLATE:
		free(n->u.tmpl.name);
		break;
	case TN_PIPE:
		free(n->u.pipe.decl);
		free(n->u.pipe.cmds);
		break;
	case TN_COMMAND:
		free(n->u.cmd.args);
		break;
	case TN_FIELD:
	case TN_VARIABLE:
	case TN_IDENTIFIER:
		free_strs(n->u.field.ident, n->u.field.n);
		break;
	case TN_CHAIN:
		free_strs(n->u.chain.field, n->u.chain.n);
		break;
	case TN_NUMBER:
		free(n->u.num.text);
		break;
	case TN_STRING:
		free(n->u.str.quoted);
		free(n->u.str.s);
		break;
	default:
		break;
	}
	free(n);
}

/* a worklist, not recursion: any tree frees in constant stack */
void
tnode_free(struct tnode *n)
{
	struct tnode **todo = NULL;
	size_t ntodo = 0, cap = 0, i;

#define PUSH(x)                                                                \
	do {                                                                   \
		if ((x) != NULL) {                                             \
			if (ntodo == cap) {                                    \
				cap = cap ? cap * 2 : 16;                      \
				todo =                                         \
				    xreallocarray(todo, cap, sizeof(*todo));   \
			}                                                      \
			todo[ntodo++] = (x);                                   \
		}                                                              \
	} while (0)

	PUSH(n);
	while (ntodo > 0) {
		n = todo[--ntodo];
		switch (n->type) {
		case TN_LIST:
			for (i = 0; i < n->u.list.n; i++)
				PUSH(n->u.list.nodes[i]);
			break;
		case TN_ACTION:
			PUSH(n->u.action.pipe);
			break;
		case TN_IF:
		case TN_RANGE:
		case TN_WITH:
			PUSH(n->u.branch.pipe);
			PUSH(n->u.branch.list);
			PUSH(n->u.branch.else_list);
			break;
		case TN_TEMPLATE:
			PUSH(n->u.tmpl.pipe);
			break;
		case TN_PIPE:
			for (i = 0; i < n->u.pipe.ndecl; i++)
				PUSH(n->u.pipe.decl[i]);
			for (i = 0; i < n->u.pipe.ncmds; i++)
				PUSH(n->u.pipe.cmds[i]);
			break;
		case TN_COMMAND:
			for (i = 0; i < n->u.cmd.n; i++)
				PUSH(n->u.cmd.args[i]);
			break;
		case TN_CHAIN:
			PUSH(n->u.chain.node);
			break;
		default:
			break;
		}
		tnode_free_one(n);
	}
#undef PUSH
	free(todo);
}

static bool
unicode_space(int32_t r)
{
	switch (r) {
	case '\t':
	case '\n':
	case '\v':
	case '\f':
	case '\r':
	case ' ':
	case 0x85:
	case 0xA0:
	case 0x1680:
	case 0x2028:
	case 0x2029:
	case 0x202F:
	case 0x205F:
	case 0x3000:
		return true;
	}
	return r >= 0x2000 && r <= 0x200A;
}

/* Go's parse.IsEmptyTree: nothing but spaces and comments */
bool
tnode_is_empty(const struct tnode *n)
{
	size_t i, w;

	if (n == NULL)
		return true;
	switch (n->type) {
	case TN_LIST:
		for (i = 0; i < n->u.list.n; i++)
			if (!tnode_is_empty(n->u.list.nodes[i]))
				return false;
		return true;
	case TN_COMMENT:
		return true;
	case TN_TEXT:
		for (i = 0; i < n->u.text.len; i += w)
			if (!unicode_space(tfmt_decode_rune(
			        n->u.text.text + i, n->u.text.len - i, &w)))
				return false;
		return true;
	default:
		return false;
	}
}

static void
pipe_string(struct tbuf *b, const struct tnode *n)
{
	size_t i;

	for (i = 0; i < n->u.pipe.ndecl; i++) {
		if (i > 0)
			tbuf_adds(b, ", ");
		tnode_string(b, n->u.pipe.decl[i]);
	}
	if (n->u.pipe.ndecl > 0)
		tbuf_adds(b, n->u.pipe.is_assign ? " = " : " := ");
	for (i = 0; i < n->u.pipe.ncmds; i++) {
		if (i > 0)
			tbuf_adds(b, " | ");
		tnode_string(b, n->u.pipe.cmds[i]);
	}
}

static void
branch_string(struct tbuf *b, const struct tnode *n, const char *name)
{
	tbuf_adds(b, "{{");
	tbuf_adds(b, name);
	tbuf_adds(b, " ");
	tnode_string(b, n->u.branch.pipe);
	tbuf_adds(b, "}}");
	tnode_string(b, n->u.branch.list);
	if (n->u.branch.else_list != NULL) {
		tbuf_adds(b, "{{else}}");
		tnode_string(b, n->u.branch.else_list);
	}
	tbuf_adds(b, "{{end}}");
}

/* the nodes without children, out of tnode_string()'s recursive frame */
static __attribute__((noinline)) void
leaf_string(struct tbuf *b, const struct tnode *n)
{
	size_t i;

	switch (n->type) {
	case TN_TEXT:
		tbuf_add(b, n->u.text.text, n->u.text.len);
		break;
	case TN_COMMENT:
		tbuf_adds(b, "{{");
		tbuf_add(b, n->u.text.text, n->u.text.len);
		tbuf_adds(b, "}}");
		break;
	case TN_TEMPLATE: /* its start */
		tbuf_adds(b, "{{template ");
		tfmt_quote(b, n->u.tmpl.name, strlen(n->u.tmpl.name), false);
		break;
	case TN_BREAK:
		tbuf_adds(b, "{{break}}");
		break;
	case TN_CONTINUE:
		tbuf_adds(b, "{{continue}}");
		break;
	case TN_FIELD:
		for (i = 0; i < n->u.field.n; i++) {
			tbuf_adds(b, ".");
			tbuf_adds(b, n->u.field.ident[i]);
		}
		break;
	case TN_VARIABLE:
	case TN_IDENTIFIER:
		for (i = 0; i < n->u.field.n; i++) {
			if (i > 0)
				tbuf_adds(b, ".");
			tbuf_adds(b, n->u.field.ident[i]);
		}
		break;
	case TN_CHAIN: /* its fields */
		for (i = 0; i < n->u.chain.n; i++) {
			tbuf_adds(b, ".");
			tbuf_adds(b, n->u.chain.field[i]);
		}
		break;
	case TN_DOT:
		tbuf_adds(b, ".");
		break;
	case TN_NIL:
		tbuf_adds(b, "nil");
		break;
	case TN_BOOL:
		tbuf_adds(b, n->u.b ? "true" : "false");
		break;
	case TN_NUMBER:
		tbuf_adds(b, n->u.num.text);
		break;
	case TN_STRING:
		tbuf_add(b, n->u.str.quoted, n->u.str.quoted_len);
		break;
	default:
		break;
	}
}

/* a command's argument or a chain's start: a pipeline in parentheses */
static void
arg_string(struct tbuf *b, const struct tnode *n)
{
	if (n->type == TN_PIPE) {
		tbuf_adds(b, "(");
		tnode_string(b, n);
		tbuf_adds(b, ")");
	} else
		tnode_string(b, n);
}

void
tnode_string(struct tbuf *b, const struct tnode *n)
{
	size_t i;

	if (n == NULL)
		return;
	switch (n->type) {
	case TN_LIST:
		for (i = 0; i < n->u.list.n; i++)
			tnode_string(b, n->u.list.nodes[i]);
		break;
	case TN_ACTION:
		tbuf_adds(b, "{{");
		tnode_string(b, n->u.action.pipe);
		tbuf_adds(b, "}}");
		break;
	case TN_IF:
		branch_string(b, n, "if");
		break;
	case TN_RANGE:
		branch_string(b, n, "range");
		break;
	case TN_WITH:
		branch_string(b, n, "with");
		break;
	case TN_TEMPLATE:
		leaf_string(b, n);
		if (n->u.tmpl.pipe != NULL) {
			tbuf_adds(b, " ");
			tnode_string(b, n->u.tmpl.pipe);
		}
		tbuf_adds(b, "}}");
		break;
	case TN_PIPE:
		pipe_string(b, n);
		break;
	case TN_COMMAND:
		for (i = 0; i < n->u.cmd.n; i++) {
			if (i > 0)
				tbuf_adds(b, " ");
			arg_string(b, n->u.cmd.args[i]);
		}
		break;
	case TN_CHAIN:
		arg_string(b, n->u.chain.node);
		leaf_string(b, n);
		break;
	default:
		leaf_string(b, n);
		break;
	}
}

void
tnode_location(struct tbuf *b, const struct tnode *n)
{
	const struct ttree *t = n->tree;
	size_t pos = n->pos, i, line = 1, col = pos;

	if (t == NULL || t->text == NULL) {
		tbuf_addf(b, "?:0:%zu", pos);
		return;
	}
	if (pos > t->text_len)
		pos = t->text_len;
	col = pos;
	for (i = 0; i < pos; i++)
		if (t->text[i] == '\n') {
			line++;
			col = pos - i - 1;
		}
	tbuf_addf(b, "%s:%zu:%zu", t->parse_name, line, col);
}

/* ---- strconv ---- */

static int
unhex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * strconv.UnquoteChar(s, quote): the value at s, *multibyte set when it
 * is a rune to encode as UTF-8 (not a single byte), *used the bytes
 * taken.  -1 for ErrSyntax.
 */
static int
unquote_char(const char *s, size_t len, char quote, int32_t *value,
    bool *multibyte, size_t *used)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n, j, w;
	int32_t v;
	int x;

	*multibyte = false;
	if (len == 0)
		return -1;
	if (u[0] == (unsigned char)quote && (quote == '\'' || quote == '"'))
		return -1;
	if (u[0] >= 0x80) {
		*value = tfmt_decode_rune(s, len, &w);
		*multibyte = true;
		*used = w;
		return 0;
	}
	if (u[0] != '\\') {
		*value = u[0];
		*used = 1;
		return 0;
	}
	if (len <= 1)
		return -1;
	*used = 2;
	switch (u[1]) {
	case 'a':
		*value = '\a';
		return 0;
	case 'b':
		*value = '\b';
		return 0;
	case 'f':
		*value = '\f';
		return 0;
	case 'n':
		*value = '\n';
		return 0;
	case 'r':
		*value = '\r';
		return 0;
	case 't':
		*value = '\t';
		return 0;
	case 'v':
		*value = '\v';
		return 0;
	case 'x':
	case 'u':
	case 'U':
		n = u[1] == 'x' ? 2 : u[1] == 'u' ? 4 : 8;
		if (len - 2 < n)
			return -1;
		for (v = 0, j = 0; j < n; j++) {
			if ((x = unhex(u[2 + j])) < 0)
				return -1;
			v = (int32_t)(((uint32_t)v << 4) | (uint32_t)x);
		}
		*used = 2 + n;
		if (u[1] != 'x') {
			if (v < 0 || v > 0x10FFFF ||
			    (v >= 0xD800 && v <= 0xDFFF))
				return -1;
			*multibyte = true;
		}
		*value = v;
		return 0;
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
		if (len - 2 < 2)
			return -1;
		v = u[1] - '0';
		for (j = 0; j < 2; j++) {
			if (u[2 + j] < '0' || u[2 + j] > '7')
				return -1;
			v = (v << 3) | (u[2 + j] - '0');
		}
		if (v > 255)
			return -1;
		*used = 4;
		*value = v;
		return 0;
	case '\\':
		*value = '\\';
		return 0;
	case '\'':
	case '"':
		if (u[1] != (unsigned char)quote)
			return -1;
		*value = u[1];
		return 0;
	}
	return -1;
}

int
tmpl_unquote(const char *s, size_t len, char **out, size_t *outlen)
{
	struct tbuf b = {0};
	char quote, enc[4];
	size_t i, used;
	int32_t v;
	bool mb;

	*out = NULL;
	*outlen = 0;
	if (len < 2)
		return -1;
	quote = s[0];
	if (quote == '`') {
		if (s[len - 1] != '`' || memchr(s + 1, '`', len - 2) != NULL)
			return -1;
		/* carriage returns are dropped from raw strings */
		for (i = 1; i < len - 1; i++)
			if (s[i] != '\r')
				tbuf_add(&b, s + i, 1);
	} else if (quote == '"' || quote == '\'') {
		i = 1;
		while (i < len && s[i] != quote) {
			if (s[i] == '\n' ||
			    unquote_char(
			        s + i, len - i, quote, &v, &mb, &used) == -1) {
				tbuf_free(&b);
				return -1;
			}
			i += used;
			if (v < 0x80 || !mb) {
				enc[0] = (char)v;
				tbuf_add(&b, enc, 1);
			} else
				tbuf_add(&b, enc, tfmt_encode_rune(enc, v));
			if (quote == '\'')
				break;
		}
		if (i != len - 1 || s[i] != quote) {
			tbuf_free(&b);
			return -1;
		}
	} else
		return -1;
	if (b.p == NULL)
		*out = xstrdup("");
	else {
		*out = b.p;
		*outlen = b.len;
	}
	return 0;
}

/* ---- numbers: strconv.ParseUint/ParseInt base 0, ParseFloat ---- */

static char
lower(char c)
{
	return (char)(c | ('x' - 'X'));
}

static bool
underscore_ok(const char *s, size_t n)
{
	char saw = '^';
	size_t i = 0;
	bool hex = false;

	if (n >= 1 && (s[0] == '-' || s[0] == '+')) {
		s++;
		n--;
	}
	if (n >= 2 && s[0] == '0' &&
	    (lower(s[1]) == 'b' || lower(s[1]) == 'o' || lower(s[1]) == 'x')) {
		i = 2;
		saw = '0';
		hex = lower(s[1]) == 'x';
	}
	for (; i < n; i++) {
		if ((s[i] >= '0' && s[i] <= '9') ||
		    (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f')) {
			saw = '0';
			continue;
		}
		if (s[i] == '_') {
			if (saw != '0')
				return false;
			saw = '_';
			continue;
		}
		if (saw == '_')
			return false;
		saw = '!';
	}
	return saw != '_';
}

/* ParseUint(s, 0, 64): 0, or -1 on a syntax or range error */
static int
parse_uint(const char *s, size_t n, uint64_t *out)
{
	const char *s0 = s;
	size_t n0 = n, i;
	unsigned base = 10;
	uint64_t v = 0;
	bool underscores = false;
	int d;

	if (n == 0)
		return -1;
	if (s[0] == '0') {
		if (n >= 3 && lower(s[1]) == 'b')
			base = 2, s += 2, n -= 2;
		else if (n >= 3 && lower(s[1]) == 'o')
			base = 8, s += 2, n -= 2;
		else if (n >= 3 && lower(s[1]) == 'x')
			base = 16, s += 2, n -= 2;
		else
			base = 8, s += 1, n -= 1;
	}
	for (i = 0; i < n; i++) {
		if (s[i] == '_') {
			underscores = true;
			continue;
		}
		if ((d = unhex((unsigned char)s[i])) < 0 || (unsigned)d >= base)
			return -1;
		if (v > (UINT64_MAX - (uint64_t)d) / base)
			return -1;
		v = v * base + (uint64_t)d;
	}
	if (underscores && !underscore_ok(s0, n0))
		return -1;
	*out = v;
	return 0;
}

static int
parse_int(const char *s, size_t n, int64_t *out)
{
	bool neg = false;
	uint64_t u;

	if (n == 0)
		return -1;
	if (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-';
		s++;
		n--;
	}
	if (parse_uint(s, n, &u) == -1)
		return -1;
	if (neg) {
		if (u > (uint64_t)1 << 63)
			return -1;
		*out = u == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u >= (uint64_t)1 << 63)
			return -1;
		*out = (int64_t)u;
	}
	return 0;
}

/*
 * ParseFloat(s, 64): Go's syntax checked here (decimal or hex with a 'p'
 * exponent, underscores between digits), the value from strtod; -1 on a
 * syntax error or an overflow to infinity.
 */
static int
parse_float(const char *s, size_t n, double *out)
{
	char *clean, *end;
	size_t i = 0, j;
	bool hex = false, sawdot = false, sawdigits = false;
	bool underscores = false;
	char expch = 'e';
	double f;

	if (i < n && (s[i] == '+' || s[i] == '-'))
		i++;
	if (i + 2 < n && s[i] == '0' && lower(s[i + 1]) == 'x') {
		hex = true;
		expch = 'p';
		i += 2;
	}
	for (; i < n; i++) {
		if (s[i] == '_')
			underscores = true;
		else if (s[i] == '.') {
			if (sawdot)
				break;
			sawdot = true;
		} else if ((s[i] >= '0' && s[i] <= '9') ||
		    (hex && lower(s[i]) >= 'a' && lower(s[i]) <= 'f'))
			sawdigits = true;
		else
			break;
	}
	if (!sawdigits)
		return -1;
	if (i < n && lower(s[i]) == expch) {
		i++;
		if (i >= n)
			return -1;
		if (s[i] == '+' || s[i] == '-')
			i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return -1;
		for (; i < n && ((s[i] >= '0' && s[i] <= '9') || s[i] == '_');
		     i++)
			if (s[i] == '_')
				underscores = true;
	} else if (hex)
		return -1;
	if (i != n)
		return -1;
	if (underscores && !underscore_ok(s, n))
		return -1;
	clean = xmalloc(n + 1);
	for (i = 0, j = 0; i < n; i++)
		if (s[i] != '_')
			clean[j++] = s[i];
	clean[j] = '\0';
	errno = 0;
	f = strtod(clean, &end);
	if (*end != '\0' || isinf(f)) {
		free(clean);
		return -1;
	}
	free(clean);
	*out = f;
	return 0;
}

static bool
float_is_int(double f, int64_t *i)
{
	if (!(f >= -9223372036854775808.0 && f < 9223372036854775808.0))
		return false;
	if ((double)(int64_t)f != f)
		return false;
	*i = (int64_t)f;
	return true;
}

static int
number_error(char *err, size_t errlen, const char *what, const char *text,
    size_t len, bool quote)
{
	struct tbuf b = {0};

	if (quote)
		tlex_quote(&b, text, len, -1);
	else
		tbuf_add(&b, text, len);
	snprintf(err, errlen, "%s%s", what, b.p != NULL ? b.p : "");
	tbuf_free(&b);
	return -1;
}

/* a complex constant whose imaginary part is zero is its real part */
static int
number_complex(
    struct tnode *n, const char *text, size_t len, char *err, size_t errlen)
{
	double re = 0, im = 0;
	size_t i, split = 0;

	for (i = 1; i < len - 1; i++)
		if ((text[i] == '+' || text[i] == '-') &&
		    lower(text[i - 1]) != 'e' && lower(text[i - 1]) != 'p')
			split = i;
	if (split > 0 && parse_float(text, split, &re) == -1)
		return number_error(
		    err, errlen, "illegal number syntax: ", text, len, true);
	if (parse_float(text + split, len - 1 - split, &im) == -1)
		return number_error(
		    err, errlen, "illegal number syntax: ", text, len, true);
	if (im != 0)
		return number_error(err, errlen,
		    "complex constants are not supported: ", text, len, false);
	n->u.num.is_float = true;
	n->u.num.f = re;
	n->u.num.is_int = float_is_int(re, &n->u.num.i);
	return 0;
}

int
tnode_number(
    struct tnode *n, const char *text, size_t len, char *err, size_t errlen)
{
	int32_t r;
	uint64_t u;
	size_t used;
	bool mb, is_uint;
	double f;

	n->u.num.is_int = n->u.num.is_float = false;
	if (len > 0 && text[0] == '\'') {
		if (unquote_char(text + 1, len - 1, '\'', &r, &mb, &used) ==
		    -1) {
			snprintf(err, errlen, "invalid syntax");
			return -1;
		}
		if (len - 1 - used != 1 || text[len - 1] != '\'')
			return number_error(err, errlen,
			    "malformed character constant: ", text, len, false);
		n->u.num.is_int = n->u.num.is_float = true;
		n->u.num.i = r;
		n->u.num.f = r;
		return 0;
	}
	if (len > 0 && text[len - 1] == 'i') {
		/* 1i, 0i, 1+0i: only a zero imaginary part is a number */
		for (used = 1; used < len - 1; used++)
			if ((text[used] == '+' || text[used] == '-') &&
			    lower(text[used - 1]) != 'e' &&
			    lower(text[used - 1]) != 'p')
				return number_complex(
				    n, text, len, err, errlen);
		if (parse_float(text, len - 1, &f) == 0)
			return number_complex(n, text, len, err, errlen);
	}
	is_uint = parse_uint(text, len, &u) == 0;
	if (parse_int(text, len, &n->u.num.i) == 0) {
		n->u.num.is_int = n->u.num.is_float = true;
		n->u.num.f = (double)n->u.num.i;
		return 0;
	}
	if (is_uint) {
		n->u.num.is_float = true;
		n->u.num.f = (double)u;
		return 0;
	}
	if (parse_float(text, len, &f) == 0) {
		if (memchr(text, '.', len) == NULL &&
		    memchr(text, 'e', len) == NULL &&
		    memchr(text, 'E', len) == NULL &&
		    memchr(text, 'p', len) == NULL &&
		    memchr(text, 'P', len) == NULL)
			return number_error(
			    err, errlen, "integer overflow: ", text, len, true);
		n->u.num.is_float = true;
		n->u.num.f = f;
		n->u.num.is_int = float_is_int(f, &n->u.num.i);
		return 0;
	}
	return number_error(
	    err, errlen, "illegal number syntax: ", text, len, true);
}
