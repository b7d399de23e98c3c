/*
 * Calico label selectors (libcalico-go lib/selector): a recursive-descent
 * parser over a bounded cursor, a tree evaluator and the canonical printer.
 *
 * Grammar (! binds tighter than &&, which binds tighter than ||):
 *
 *	or      := and ("||" and)*
 *	and     := unary ("&&" unary)*
 *	unary   := "!"* primary
 *	primary := "(" or ")" | "all" "(" ")" | "has" "(" key ")"
 *	         | key ("==" | "!=") string
 *	         | key ("in" | "not" "in") "{" [string ("," string)* [","]] "}"
 *
 * As in Calico, a run of "!" collapses to one or none, a set may end with a
 * comma, and "has"/"all" are keys unless a "(" follows.  We accept a little
 * more than Calico, so that everything it accepts parses here: any of
 * " \t\r\n\f\v" as whitespace, also between "has" and "(", and "in" or
 * "not" as a key (Calico's tokenizer takes them for operators).
 *
 * Recursion is bounded: parentheses nest at most SELECTOR_MAX_DEPTH deep,
 * and so do && and || (their canonical form adds a pair of parentheses each,
 * so this keeps the printed form parseable).  The tree is therefore at most
 * about three nodes per level deep, which bounds evaluation, printing and
 * freeing too.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/selector.h"

enum selector_op {
	SEL_ALL,
	SEL_HAS,
	SEL_EQ,
	SEL_NE,
	SEL_IN,
	SEL_NOT_IN,
	SEL_NOT,
	SEL_AND,
	SEL_OR,
};

/* One node of the tree; the root is the selector. */
struct selector {
	enum selector_op op;
	int height; /* nesting of && and || in this subtree */
	char *key; /* HAS, EQ, NE, IN, NOT_IN */
	char **vals; /* EQ, NE: one value; IN, NOT_IN: sorted, unique */
	size_t nvals;
	struct selector **kids; /* NOT: one; AND, OR: two or more */
	size_t nkids;
};

struct selector_parser {
	const char *s;
	size_t len;
	size_t pos;
	int depth; /* open parentheses */
	char *err;
	size_t errlen;
};

/* what each parse state expects, as the error message names it */
#define EXP_OPERAND "a label, has(), all(), '!' or '('"
#define EXP_OPERATOR "==, !=, in or not in"
#define EXP_STRING "a quoted string"
#define EXP_LBRACE "'{'"
#define EXP_SET_ITEM "a quoted string or '}'"
#define EXP_SET_NEXT "',' or '}'"
#define EXP_KEY "a label"
#define EXP_RPAREN "')'"
#define EXP_END "&&, || or end of input"
#define EXP_GROUP_END "&&, || or ')'"

static struct selector *selector_parse_or(struct selector_parser *);
static bool selector_eval(const struct selector *, const struct labels *);

static void selector_error(struct selector_parser *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
selector_error(struct selector_parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->errlen == 0)
		return;
	n = snprintf(p->err, p->errlen, "column %zu: ", pos + 1);
	if (n < 0 || (size_t)n >= p->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - n, fmt, ap);
	va_end(ap);
}

/* "expected X, found Y" at the cursor */
static void
selector_expected(struct selector_parser *p, const char *what)
{
	unsigned char c;

	if (p->pos >= p->len) {
		selector_error(
		    p, p->pos, "expected %s, found end of input", what);
		return;
	}
	c = p->s[p->pos];
	if (c == '"' || c == '\'')
		selector_error(
		    p, p->pos, "expected %s, found a quoted string", what);
	else if (c >= 0x20 && c < 0x7f)
		selector_error(p, p->pos, "expected %s, found '%c'", what, c);
	else
		selector_error(
		    p, p->pos, "expected %s, found byte 0x%02x", what, c);
}

static bool
selector_isspace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	    c == '\v';
}

static bool
selector_iskey(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' ||
	    c == '-';
}

/* a character that ends a word for Calico's \b after "in" */
static bool
selector_isword(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_';
}

static void
selector_skip_space(struct selector_parser *p)
{
	while (p->pos < p->len && selector_isspace(p->s[p->pos]))
		p->pos++;
}

/* skip blanks, then consume tok if it is next */
static bool
selector_accept(struct selector_parser *p, const char *tok)
{
	size_t n = strlen(tok);

	selector_skip_space(p);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, tok, n) != 0)
		return false;
	p->pos += n;
	return true;
}

/* is the next word exactly w (followed by a non-word character)? */
static bool
selector_accept_word(struct selector_parser *p, const char *w)
{
	size_t n = strlen(w);

	selector_skip_space(p);
	if (p->len - p->pos < n || memcmp(p->s + p->pos, w, n) != 0)
		return false;
	if (p->pos + n < p->len && selector_isword(p->s[p->pos + n]))
		return false;
	p->pos += n;
	return true;
}

/* a label key at the cursor; 0 with the message set when there is none */
static size_t
selector_key(struct selector_parser *p, const char *what, size_t *start)
{
	size_t n;

	selector_skip_space(p);
	*start = p->pos;
	for (n = 0; p->pos + n < p->len && selector_iskey(p->s[p->pos + n]);
	     n++)
		;
	if (n == 0) {
		selector_expected(p, what);
		return 0;
	}
	if (n > SELECTOR_MAX_KEY) {
		selector_error(
		    p, p->pos, "label longer than %d bytes", SELECTOR_MAX_KEY);
		return 0;
	}
	p->pos += n;
	return n;
}

/* a quoted string at the cursor, copied; NULL with the message set */
static char *
selector_string(struct selector_parser *p, const char *what)
{
	const char *end;
	size_t start;
	char q;

	selector_skip_space(p);
	if (p->pos >= p->len || (p->s[p->pos] != '"' && p->s[p->pos] != '\'')) {
		selector_expected(p, what);
		return NULL;
	}
	start = p->pos;
	q = p->s[p->pos++];
	end = memchr(p->s + p->pos, q, p->len - p->pos);
	if (end == NULL) {
		selector_error(p, start, "unterminated string");
		return NULL;
	}
	start = p->pos;
	p->pos = end - p->s + 1;
	return xstrndup(p->s + start, end - (p->s + start));
}

static struct selector *
selector_node(enum selector_op op)
{
	struct selector *n;

	n = xcalloc(1, sizeof(*n));
	n->op = op;
	return n;
}

/* arrays double when their length reaches a power of two */
static bool
selector_full(size_t len)
{
	return (len & (len - 1)) == 0;
}

static void
selector_add_val(struct selector *n, char *v)
{
	if (selector_full(n->nvals))
		n->vals = xreallocarray(
		    n->vals, n->nvals ? n->nvals * 2 : 1, sizeof(*n->vals));
	n->vals[n->nvals++] = v;
}

static void
selector_add_kid(struct selector *n, struct selector *kid)
{
	if (selector_full(n->nkids))
		n->kids = xreallocarray(
		    n->kids, n->nkids ? n->nkids * 2 : 1, sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
	if (kid->height > n->height)
		n->height = kid->height;
}

static int
selector_strcmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sort the set and drop duplicates, so membership is a bsearch */
static void
selector_set_sort(struct selector *n)
{
	size_t i, j;

	if (n->nvals == 0)
		return;
	qsort(n->vals, n->nvals, sizeof(*n->vals), selector_strcmp);
	for (i = 1, j = 0; i < n->nvals; i++) {
		if (strcmp(n->vals[i], n->vals[j]) == 0)
			free(n->vals[i]);
		else
			n->vals[++j] = n->vals[i];
	}
	n->nvals = j + 1;
}

/* "{" [string ("," string)* [","]] "}" */
static int
selector_parse_set(struct selector_parser *p, struct selector *n)
{
	char *v;

	if (!selector_accept(p, "{")) {
		selector_expected(p, EXP_LBRACE);
		return -1;
	}
	for (;;) {
		if (selector_accept(p, "}"))
			break;
		if ((v = selector_string(p, EXP_SET_ITEM)) == NULL)
			return -1;
		selector_add_val(n, v);
		if (selector_accept(p, "}"))
			break;
		if (!selector_accept(p, ",")) {
			selector_expected(p, EXP_SET_NEXT);
			return -1;
		}
	}
	selector_set_sort(n);
	return 0;
}

/* key ("==" | "!=" | "in" | "not in") ... */
static struct selector *
selector_parse_comparison(struct selector_parser *p, size_t start, size_t len)
{
	struct selector *n;
	char *v;

	if (selector_accept(p, "==") || selector_accept(p, "!=")) {
		n = selector_node(p->s[p->pos - 2] == '=' ? SEL_EQ : SEL_NE);
		n->key = xstrndup(p->s + start, len);
		if ((v = selector_string(p, EXP_STRING)) == NULL) {
			selector_free(n);
			return NULL;
		}
		selector_add_val(n, v);
		return n;
	}
	if (selector_accept_word(p, "in"))
		n = selector_node(SEL_IN);
	else if (selector_accept(p, "not") && selector_accept_word(p, "in"))
		n = selector_node(SEL_NOT_IN);
	else {
		/* report at the operator, not after a half-read "not" */
		p->pos = start + len;
		selector_skip_space(p);
		selector_expected(p, EXP_OPERATOR);
		return NULL;
	}
	n->key = xstrndup(p->s + start, len);
	if (selector_parse_set(p, n) == -1) {
		selector_free(n);
		return NULL;
	}
	return n;
}

/* "(" or ")" | all() | has(key) | comparison */
static struct selector *
selector_parse_primary(struct selector_parser *p)
{
	struct selector *n;
	size_t start, len, kstart, klen;

	selector_skip_space(p);
	if (p->pos < p->len && p->s[p->pos] == '(') {
		if (p->depth >= SELECTOR_MAX_DEPTH) {
			selector_error(p, p->pos,
			    "parentheses nested deeper than %d",
			    SELECTOR_MAX_DEPTH);
			return NULL;
		}
		p->pos++;
		p->depth++;
		if ((n = selector_parse_or(p)) == NULL)
			return NULL;
		if (!selector_accept(p, ")")) {
			selector_expected(p, EXP_GROUP_END);
			selector_free(n);
			return NULL;
		}
		p->depth--;
		return n;
	}

	if ((len = selector_key(p, EXP_OPERAND, &start)) == 0)
		return NULL;
	if (!selector_accept(p, "("))
		return selector_parse_comparison(p, start, len);

	if (len == 3 && memcmp(p->s + start, "all", 3) == 0) {
		if (!selector_accept(p, ")")) {
			selector_expected(p, EXP_RPAREN);
			return NULL;
		}
		return selector_node(SEL_ALL);
	}
	if (len == 3 && memcmp(p->s + start, "has", 3) == 0) {
		if ((klen = selector_key(p, EXP_KEY, &kstart)) == 0)
			return NULL;
		if (!selector_accept(p, ")")) {
			selector_expected(p, EXP_RPAREN);
			return NULL;
		}
		n = selector_node(SEL_HAS);
		n->key = xstrndup(p->s + kstart, klen);
		return n;
	}
	/* some other word before "(": the operator was expected there */
	p->pos--;
	selector_expected(p, EXP_OPERATOR);
	return NULL;
}

/* "!"* primary; an even number of "!" cancels out */
static struct selector *
selector_parse_unary(struct selector_parser *p)
{
	struct selector *n, *not ;
	bool negate = false;

	for (;;) {
		selector_skip_space(p);
		/* "!=" here is not a negation; let primary report it */
		if (p->pos + 1 < p->len && p->s[p->pos] == '!' &&
		    p->s[p->pos + 1] == '=')
			break;
		if (!selector_accept(p, "!"))
			break;
		negate = !negate;
	}
	if ((n = selector_parse_primary(p)) == NULL || !negate)
		return n;
	/* !(!x) is x: keeps the printed form a fixed point */
	if (n->op == SEL_NOT) {
		not = n;
		n = not ->kids[0];
		not ->nkids = 0;
		selector_free(not );
		return n;
	}
	not = selector_node(SEL_NOT);
	selector_add_kid(not, n);
	return not ;
}

/*
 * One level of "&&" or "||": operands joined by tok.  A single operand is
 * returned as is; two or more become an AND/OR node, one level of nesting.
 */
static struct selector *
selector_parse_list(struct selector_parser *p, enum selector_op op)
{
	struct selector *n, *list = NULL;
	const char *tok = op == SEL_AND ? "&&" : "||";
	size_t at, first = 0;

	for (;;) {
		if (op == SEL_AND)
			n = selector_parse_unary(p);
		else
			n = selector_parse_list(p, SEL_AND);
		if (n == NULL) {
			selector_free(list);
			return NULL;
		}
		if (list != NULL)
			selector_add_kid(list, n);
		selector_skip_space(p);
		at = p->pos;
		if (!selector_accept(p, tok))
			break;
		if (list == NULL) {
			list = selector_node(op);
			selector_add_kid(list, n);
			first = at;
		}
	}
	if (list == NULL)
		return n;
	if (++list->height > SELECTOR_MAX_DEPTH) {
		selector_error(p, first, "expressions nested deeper than %d",
		    SELECTOR_MAX_DEPTH);
		selector_free(list);
		return NULL;
	}
	return list;
}

static struct selector *
selector_parse_or(struct selector_parser *p)
{
	return selector_parse_list(p, SEL_OR);
}

struct selector *
selector_parse(const char *text, char *err, size_t errlen)
{
	struct selector_parser p;
	struct selector *n;

	memset(&p, 0, sizeof(p));
	p.s = text;
	p.len = strnlen(text, SELECTOR_MAX_LEN + 1);
	p.err = err;
	p.errlen = err == NULL ? 0 : errlen;
	if (p.errlen > 0)
		err[0] = '\0';
	if (p.len > SELECTOR_MAX_LEN) {
		if (p.errlen > 0)
			snprintf(err, errlen, "selector longer than %d bytes",
			    SELECTOR_MAX_LEN);
		return NULL;
	}

	selector_skip_space(&p);
	if (p.pos == p.len)
		return selector_node(SEL_ALL);
	if ((n = selector_parse_or(&p)) == NULL)
		return NULL;
	selector_skip_space(&p);
	if (p.pos != p.len) {
		selector_expected(&p, EXP_END);
		selector_free(n);
		return NULL;
	}
	return n;
}

void
selector_free(struct selector *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		selector_free(n->kids[i]);
	for (i = 0; i < n->nvals; i++)
		free(n->vals[i]);
	free(n->kids);
	free(n->vals);
	free(n->key);
	free(n);
}

const char *
selector_label_get(const struct labels *l, const char *key)
{
	size_t i;

	if (l == NULL)
		return NULL;
	if (l->lookup != NULL)
		return l->lookup(l->arg, key);
	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

static bool
selector_in_set(const struct selector *n, const char *v)
{
	if (n->nvals == 0) /* "in {}" has no array, and bsearch needs one */
		return false;
	return bsearch(&v, n->vals, n->nvals, sizeof(*n->vals),
	           selector_strcmp) != NULL;
}

static bool
selector_eval(const struct selector *n, const struct labels *l)
{
	const char *v = NULL;
	size_t i;

	if (n->key != NULL)
		v = selector_label_get(l, n->key);
	switch (n->op) {
	case SEL_ALL:
		return true;
	case SEL_HAS:
		return v != NULL;
	case SEL_EQ:
		return v != NULL && strcmp(v, n->vals[0]) == 0;
	case SEL_NE:
		return v == NULL || strcmp(v, n->vals[0]) != 0;
	case SEL_IN:
		return v != NULL && selector_in_set(n, v);
	case SEL_NOT_IN:
		return v == NULL || !selector_in_set(n, v);
	case SEL_NOT:
		return !selector_eval(n->kids[0], l);
	case SEL_AND:
		for (i = 0; i < n->nkids; i++)
			if (!selector_eval(n->kids[i], l))
				return false;
		return true;
	case SEL_OR:
		for (i = 0; i < n->nkids; i++)
			if (selector_eval(n->kids[i], l))
				return true;
		return false;
	}
	return false;
}

bool
selector_match(const struct selector *sel, const struct labels *l)
{
	return selector_eval(sel, l);
}

/* bounded output that still counts what did not fit, like snprintf */
struct selector_out {
	char *buf;
	size_t len;
	size_t n;
};

static void
selector_put(struct selector_out *o, const char *s, size_t len)
{
	size_t room;

	if (o->n < o->len) {
		room = o->len - o->n - 1;
		memcpy(o->buf + o->n, s, len < room ? len : room);
	}
	o->n += len;
}

static void
selector_puts(struct selector_out *o, const char *s)
{
	selector_put(o, s, strlen(s));
}

/* Calico quotes with ' only when the value holds a " */
static void
selector_put_string(struct selector_out *o, const char *v)
{
	const char *q = strchr(v, '"') != NULL ? "'" : "\"";

	selector_puts(o, q);
	selector_puts(o, v);
	selector_puts(o, q);
}

static void
selector_print(struct selector_out *o, const struct selector *n)
{
	static const char *const ops[] = {
	    [SEL_EQ] = " == ",
	    [SEL_NE] = " != ",
	    [SEL_IN] = " in {",
	    [SEL_NOT_IN] = " not in {",
	    [SEL_AND] = " && ",
	    [SEL_OR] = " || ",
	};
	size_t i;

	switch (n->op) {
	case SEL_ALL:
		selector_puts(o, "all()");
		break;
	case SEL_HAS:
		selector_puts(o, "has(");
		selector_puts(o, n->key);
		selector_puts(o, ")");
		break;
	case SEL_EQ:
	case SEL_NE:
		selector_puts(o, n->key);
		selector_puts(o, ops[n->op]);
		selector_put_string(o, n->vals[0]);
		break;
	case SEL_IN:
	case SEL_NOT_IN:
		selector_puts(o, n->key);
		selector_puts(o, ops[n->op]);
		for (i = 0; i < n->nvals; i++) {
			if (i > 0)
				selector_puts(o, ", ");
			selector_put_string(o, n->vals[i]);
		}
		selector_puts(o, "}");
		break;
	case SEL_NOT:
		selector_puts(o, "!");
		selector_print(o, n->kids[0]);
		break;
	case SEL_AND:
	case SEL_OR:
		selector_puts(o, "(");
		for (i = 0; i < n->nkids; i++) {
			if (i > 0)
				selector_puts(o, ops[n->op]);
			selector_print(o, n->kids[i]);
		}
		selector_puts(o, ")");
		break;
	}
}

int
selector_format(const struct selector *sel, char *buf, size_t len)
{
	struct selector_out o = {.buf = buf, .len = len, .n = 0};

	selector_print(&o, sel);
	if (len > 0)
		buf[o.n < len ? o.n : len - 1] = '\0';
	return o.n > INT_MAX ? -1 : (int)o.n;
}
