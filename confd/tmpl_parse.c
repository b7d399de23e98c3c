/*
 * The template parser: Go 1.21's text/template/parse parse.go over the
 * items of tmpl_lex.c, building the trees of tmpl_int.h (define and block
 * bodies become trees of their own), with Go's checks (variables in scope,
 * functions known, break/continue inside range, non-executable pipeline
 * stages) and Go's messages, prefixed "template: NAME:LINE:COL: ".  The
 * line is Go's (that of the last item read); the column is ours.  Errors
 * unwind with longjmp: every node made is recorded, and freed on failure.
 * Nesting (if/range/with/block bodies, parentheses) is refused past
 * TMPL_MAX_DEPTH levels, so the recursion here, in tnode_free() and
 * tnode_string() stays bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_fmtint.h"
#include "confd/tmpl_lex.h"
#include "lib/xmalloc.h"

#define TMPL_MAX_DEPTH 1000

struct pvar {
	const char *p;
	size_t n;
};

struct pctx;

/* one tree being parsed: Go's *parse.Tree while parsing */
struct parser {
	struct pctx *pc;
	struct parser *outer; /* the parser of the enclosing block */
	struct ttree *tree;
	struct titem token[3];
	int peek_count;
	struct pvar *vars; /* variables in scope, "$" first */
	size_t nvars, varcap;
	bool in_action; /* Go's actionLine != 0 */
	size_t action_pos;
	int range_depth;
};

/* one tmpl_parse() call */
struct pctx {
	struct tmpl *set;
	struct tlexer lex;
	const char *text;
	size_t len;
	const char *parse_name;
	struct ttree **treeset; /* Go's treeSet of this parse */
	size_t ntreeset;
	struct ttree **made; /* every tree made */
	size_t nmade;
	struct tnode **nodes; /* every node made */
	size_t nnodes;
	struct parser *top;
	int depth;
	char *err;
	size_t errlen;
	jmp_buf jb;
};

/* what ended an item list */
enum pend { PEND_NONE, PEND_END, PEND_ELSE };

/* room for one more element in an array of n elements of size */
static void *
grow(void *arr, size_t n, size_t size)
{
	if (n == 0)
		return xreallocarray(arr, 4, size);
	if (n >= 4 && (n & (n - 1)) == 0)
		return xreallocarray(arr, n * 2, size);
	return arr;
}

#define APPEND(arr, n, item)                                                   \
	do {                                                                   \
		(arr) = grow((arr), (n), sizeof(*(arr)));                      \
		(arr)[(n)++] = (item);                                         \
	} while (0)

static void
line_col(const struct pctx *pc, size_t pos, size_t *line, size_t *col)
{
	size_t i;

	if (pos > pc->len)
		pos = pc->len;
	*line = 1;
	*col = pos;
	for (i = 0; i < pos; i++)
		if (pc->text[i] == '\n') {
			(*line)++;
			*col = pos - i - 1;
		}
}

static void perr(struct parser *, const char *, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

static void
perr(struct parser *p, const char *fmt, ...)
{
	struct pctx *pc = p->pc;
	char msg[TMPL_ERRLEN];
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	line_col(pc, p->token[0].pos, &line, &col);
	snprintf(pc->err, pc->errlen, "template: %s:%zu:%zu: %s",
	    pc->parse_name, line, col, msg);
	/* the parsers live in the frames longjmp() drops: free scopes now */
	for (p = pc->top; p != NULL; p = p->outer) {
		free(p->vars);
		p->vars = NULL;
	}
	pc->top = NULL;
	longjmp(pc->jb, 1);
}

static void perr_q(struct parser *, const char *, const char *, size_t,
    const char *) __attribute__((noreturn));

/* perr() of before, Go's %q of s, after */
static void
perr_q(struct parser *p, const char *before, const char *s, size_t n,
    const char *after)
{
	char msg[TMPL_ERRLEN];
	struct tbuf b = {0};

	tlex_quote(&b, s, n, -1);
	snprintf(msg, sizeof(msg), "%s", b.p);
	tbuf_free(&b);
	perr(p, "%s%s%s", before, msg, after);
}

static void
unexpected(struct parser *p, const struct titem *tok, const char *context)
{
	struct tbuf b = {0};
	size_t aline, acol, tline, tcol;
	char extra[TMPL_ERRLEN];

	if (tok->typ == TI_ERROR) {
		extra[0] = '\0';
		line_col(p->pc, p->action_pos, &aline, &acol);
		line_col(p->pc, tok->pos, &tline, &tcol);
		if (p->in_action && aline != tline) {
			if (tok->len >= 7 &&
			    memcmp(tok->val + tok->len - 7, " action", 7) == 0)
				snprintf(extra, sizeof(extra),
				    " started at %s:%zu", p->pc->parse_name,
				    aline);
			else
				snprintf(extra, sizeof(extra),
				    " in action started at %s:%zu",
				    p->pc->parse_name, aline);
		}
		perr(p, "%.*s%s", (int)tok->len, tok->val, extra);
	}
	titem_string(&b, tok);
	snprintf(extra, sizeof(extra), "%s", b.p);
	tbuf_free(&b);
	perr(p, "unexpected %s in %s", extra, context);
}

/* ---- tokens: Go's three-token look-ahead ---- */

static struct titem
next(struct parser *p)
{
	if (p->peek_count > 0)
		p->peek_count--;
	else
		p->token[0] = tlex_next(&p->pc->lex);
	return p->token[p->peek_count];
}

static void
backup(struct parser *p)
{
	p->peek_count++;
}

static void
backup2(struct parser *p, struct titem t1)
{
	p->token[1] = t1;
	p->peek_count = 2;
}

static void
backup3(struct parser *p, struct titem t2, struct titem t1)
{
	p->token[1] = t1;
	p->token[2] = t2;
	p->peek_count = 3;
}

static struct titem
peek(struct parser *p)
{
	if (p->peek_count > 0)
		return p->token[p->peek_count - 1];
	p->peek_count = 1;
	p->token[0] = tlex_next(&p->pc->lex);
	return p->token[0];
}

static struct titem
next_non_space(struct parser *p)
{
	struct titem t;

	do
		t = next(p);
	while (t.typ == TI_SPACE);
	return t;
}

static struct titem
peek_non_space(struct parser *p)
{
	struct titem t = next_non_space(p);

	backup(p);
	return t;
}

/*
 * The type or position of the next item: the item copies stay in these
 * small frames, out of the parser's recursive ones.
 */
static enum titem_type
peek_type(struct parser *p)
{
	return peek(p).typ;
}

static size_t
peek_pos(struct parser *p)
{
	return peek(p).pos;
}

static enum titem_type
peek_ns_type(struct parser *p)
{
	return peek_non_space(p).typ;
}

static size_t
peek_ns_pos(struct parser *p)
{
	return peek_non_space(p).pos;
}

static enum titem_type
next_ns_type(struct parser *p)
{
	return next_non_space(p).typ;
}

static struct titem
expect(struct parser *p, enum titem_type want, const char *context)
{
	struct titem t = next_non_space(p);

	if (t.typ != want)
		unexpected(p, &t, context);
	return t;
}

/* ---- nodes ---- */

static struct tnode *
newnode(struct parser *p, enum tnode_type type, size_t pos)
{
	struct pctx *pc = p->pc;
	struct tnode *n;

	n = xcalloc(1, sizeof(*n));
	n->type = type;
	n->pos = pos;
	n->tree = p->tree;
	APPEND(pc->nodes, pc->nnodes, n);
	return n;
}

static void
list_append(struct tnode *list, struct tnode *n)
{
	APPEND(list->u.list.nodes, list->u.list.n, n);
}

static struct tnode *
new_ident(
    struct parser *p, enum tnode_type type, size_t pos, const char *s, size_t n)
{
	struct tnode *node = newnode(p, type, pos);

	APPEND(node->u.field.ident, node->u.field.n, xstrndup(s, n));
	return node;
}

static void
depth_enter(struct parser *p, const char *what)
{
	if (p->pc->depth >= TMPL_MAX_DEPTH)
		perr(p, "max %s depth exceeded", what);
	p->pc->depth++;
}

static void
depth_leave(struct parser *p)
{
	p->pc->depth--;
}

static bool
has_function(const struct pctx *pc, const char *name, size_t n)
{
	char buf[64], *s;
	bool found;
	void *ctx;

	if (n < sizeof(buf)) {
		memcpy(buf, name, n);
		buf[n] = '\0';
		return tmpl_func_find(pc->set, buf, &ctx) != NULL;
	}
	s = xstrndup(name, n);
	found = tmpl_func_find(pc->set, s, &ctx) != NULL;
	free(s);
	return found;
}

/* ---- trees ---- */

static void
start_parse(struct parser *p, struct pctx *pc, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->pc = pc;
	p->tree = xcalloc(1, sizeof(*p->tree));
	p->tree->name = xstrdup(name);
	p->tree->parse_name = xstrdup(pc->parse_name);
	p->tree->text = pc->text;
	p->tree->text_len = pc->len;
	APPEND(pc->made, pc->nmade, p->tree);
	APPEND(p->vars, p->nvars, ((struct pvar){"$", 1}));
	p->outer = pc->top;
	pc->top = p;
}

static void
stop_parse(struct parser *p)
{
	p->pc->top = p->outer;
	free(p->vars);
	p->vars = NULL;
}

/* Go's Tree.add: into this parse's tree set */
static void
add_tree(struct parser *p)
{
	struct pctx *pc = p->pc;
	size_t i;

	for (i = 0; i < pc->ntreeset; i++)
		if (strcmp(pc->treeset[i]->name, p->tree->name) == 0)
			break;
	if (i == pc->ntreeset) {
		APPEND(pc->treeset, pc->ntreeset, p->tree);
		return;
	}
	if (tnode_is_empty(pc->treeset[i]->root)) {
		pc->treeset[i] = p->tree;
		return;
	}
	if (!tnode_is_empty(p->tree->root))
		perr_q(p, "template: multiple definition of template ",
		    p->tree->name, strlen(p->tree->name), "");
}

/* ---- the grammar ---- */

static struct tnode *pipeline(struct parser *, const char *, enum titem_type);
static struct tnode *item_list(struct parser *, enum pend *, size_t *);
static struct tnode *if_control(struct parser *);

static char *
template_name(struct parser *p, const struct titem *tok, const char *context)
{
	char *s;
	size_t n;

	if (tok->typ != TI_STRING && tok->typ != TI_RAW_STRING)
		unexpected(p, tok, context);
	if (tmpl_unquote(tok->val, tok->len, &s, &n) == -1)
		perr(p, "invalid syntax");
	if (strlen(s) != n) {
		free(s);
		perr(p, "template name holds a NUL byte");
	}
	return s;
}

static void
use_var(struct parser *p, const struct titem *tok)
{
	size_t i;

	for (i = 0; i < p->nvars; i++)
		if (p->vars[i].n == tok->len &&
		    memcmp(p->vars[i].p, tok->val, tok->len) == 0)
			return;
	perr_q(p, "undefined variable ", tok->val, tok->len, "");
}

/*
 * The number and the error below keep their buffers out of the frames of
 * the recursion term -> pipeline -> command -> operand -> term.
 */
static __attribute__((noinline)) struct tnode *
number(struct parser *p, const struct titem *tok)
{
	char msg[TMPL_ERRLEN];
	struct tnode *n;

	n = newnode(p, TN_NUMBER, tok->pos);
	n->u.num.text = xstrndup(tok->val, tok->len);
	if (tnode_number(n, tok->val, tok->len, msg, sizeof(msg)) == -1)
		perr(p, "%s", msg);
	return n;
}

static __attribute__((noinline, noreturn)) void
dot_after_term(struct parser *p, const struct tnode *node)
{
	char msg[TMPL_ERRLEN];
	struct tbuf b = {0};
	size_t n;

	tnode_string(&b, node);
	n = b.len < sizeof(msg) ? b.len : sizeof(msg);
	memcpy(msg, b.p, n);
	tbuf_free(&b);
	perr_q(p, "unexpected . after term ", msg, n, "");
}

/* a term that is not a parenthesized pipeline, or NULL */
static __attribute__((noinline)) struct tnode *
term_leaf(struct parser *p)
{
	struct titem tok = next_non_space(p);
	struct tnode *n;

	switch (tok.typ) {
	case TI_IDENTIFIER:
		if (!has_function(p->pc, tok.val, tok.len))
			perr_q(
			    p, "function ", tok.val, tok.len, " not defined");
		return new_ident(p, TN_IDENTIFIER, tok.pos, tok.val, tok.len);
	case TI_DOT:
		return newnode(p, TN_DOT, tok.pos);
	case TI_NIL:
		return newnode(p, TN_NIL, tok.pos);
	case TI_VARIABLE:
		use_var(p, &tok);
		return new_ident(p, TN_VARIABLE, tok.pos, tok.val, tok.len);
	case TI_FIELD:
		return new_ident(
		    p, TN_FIELD, tok.pos, tok.val + 1, tok.len - 1);
	case TI_BOOL:
		n = newnode(p, TN_BOOL, tok.pos);
		n->u.b = tok.len == 4;
		return n;
	case TI_CHARCONST:
	case TI_COMPLEX:
	case TI_NUMBER:
		return number(p, &tok);
	case TI_STRING:
	case TI_RAW_STRING:
		n = newnode(p, TN_STRING, tok.pos);
		n->u.str.quoted = xmalloc(tok.len + 1);
		memcpy(n->u.str.quoted, tok.val, tok.len);
		n->u.str.quoted[tok.len] = '\0';
		n->u.str.quoted_len = tok.len;
		if (tmpl_unquote(
		        tok.val, tok.len, &n->u.str.s, &n->u.str.len) == -1)
			perr(p, "invalid syntax");
		return n;
	default:
		break;
	}
	backup(p);
	return NULL;
}

static struct tnode *
term(struct parser *p)
{
	struct tnode *n;

	if (peek_ns_type(p) != TI_LEFT_PAREN)
		return term_leaf(p);
	(void)next_ns_type(p);
	depth_enter(p, "expression");
	n = pipeline(p, "parenthesized pipeline", TI_RIGHT_PAREN);
	depth_leave(p);
	return n;
}

/* term .Field .Field: a chain, or more fields on a field or variable */
static __attribute__((noinline)) struct tnode *
fields(struct parser *p, struct tnode *node)
{
	struct tnode *chain;
	struct titem tok;
	size_t pos, i;

	pos = peek_pos(p);
	chain = newnode(p, TN_CHAIN, pos);
	chain->u.chain.node = node;
	while (peek_type(p) == TI_FIELD) {
		tok = next(p);
		APPEND(chain->u.chain.field, chain->u.chain.n,
		    xstrndup(tok.val + 1, tok.len - 1));
	}
	switch (node->type) {
	case TN_FIELD:
	case TN_VARIABLE:
		/* more fields on the original, at the chain's position */
		for (i = 0; i < chain->u.chain.n; i++)
			APPEND(node->u.field.ident, node->u.field.n,
			    chain->u.chain.field[i]);
		chain->u.chain.n = 0;
		node->pos = pos;
		/* the chain was the last node made: unmake it */
		p->pc->nnodes--;
		tnode_free_one(chain);
		return node;
	case TN_BOOL:
	case TN_STRING:
	case TN_NUMBER:
	case TN_NIL:
	case TN_DOT:
		dot_after_term(p, node);
	default:
		return chain;
	}
}

static struct tnode *
operand(struct parser *p)
{
	struct tnode *node;

	if ((node = term(p)) == NULL)
		return NULL;
	if (peek_type(p) != TI_FIELD)
		return node;
	return fields(p, node);
}

static struct tnode *
command(struct parser *p)
{
	struct tnode *cmd, *arg;
	struct titem tok;

	cmd = newnode(p, TN_COMMAND, peek_ns_pos(p));
	for (;;) {
		(void)peek_ns_type(p);
		if ((arg = operand(p)) != NULL)
			APPEND(cmd->u.cmd.args, cmd->u.cmd.n, arg);
		tok = next(p);
		if (tok.typ == TI_SPACE)
			continue;
		if (tok.typ == TI_RIGHT_DELIM || tok.typ == TI_RIGHT_PAREN)
			backup(p);
		else if (tok.typ != TI_PIPE)
			unexpected(p, &tok, "operand");
		break;
	}
	if (cmd->u.cmd.n == 0)
		perr(p, "empty command");
	return cmd;
}

static void
check_pipeline(struct parser *p, struct tnode *pipe, const char *context)
{
	size_t i;

	if (pipe->u.pipe.ncmds == 0)
		perr(p, "missing value for %s", context);
	for (i = 1; i < pipe->u.pipe.ncmds; i++)
		switch (pipe->u.pipe.cmds[i]->u.cmd.args[0]->type) {
		case TN_BOOL:
		case TN_DOT:
		case TN_NIL:
		case TN_NUMBER:
		case TN_STRING:
			perr(p, "non executable command in pipeline stage %zu",
			    i + 1);
		default:
			break;
		}
}

static void
declare(struct parser *p, struct tnode *pipe, const struct titem *v)
{
	APPEND(pipe->u.pipe.decl, pipe->u.pipe.ndecl,
	    new_ident(p, TN_VARIABLE, v->pos, v->val, v->len));
	APPEND(p->vars, p->nvars, ((struct pvar){v->val, v->len}));
}

/* the declarations that may start a pipeline */
static __attribute__((noinline)) void
decls(struct parser *p, struct tnode *pipe, const char *context)
{
	struct titem v, after, nx;

decls:
	if ((v = peek_non_space(p)).typ == TI_VARIABLE) {
		next(p);
		/* "$x foo" vs "$x := foo": three tokens of look-ahead */
		after = peek(p);
		nx = peek_non_space(p);
		if (nx.typ == TI_ASSIGN || nx.typ == TI_DECLARE) {
			pipe->u.pipe.is_assign = nx.typ == TI_ASSIGN;
			next_non_space(p);
			declare(p, pipe, &v);
		} else if (nx.typ == TI_CHAR && nx.len == 1 &&
		    nx.val[0] == ',') {
			next_non_space(p);
			declare(p, pipe, &v);
			if (strcmp(context, "range") == 0 &&
			    pipe->u.pipe.ndecl < 2) {
				switch (peek_ns_type(p)) {
				case TI_VARIABLE:
				case TI_RIGHT_DELIM:
				case TI_RIGHT_PAREN:
					goto decls;
				default:
					perr(p,
					    "range can only initialize "
					    "variables");
				}
			}
			perr(p, "too many declarations in %s", context);
		} else if (after.typ == TI_SPACE)
			backup3(p, v, after);
		else
			backup2(p, v);
	}
}

static struct tnode *
pipeline(struct parser *p, const char *context, enum titem_type end)
{
	struct tnode *pipe;
	struct titem tok;

	pipe = newnode(p, TN_PIPE, peek_ns_pos(p));
	decls(p, pipe, context);
	for (;;) {
		tok = next_non_space(p);
		if (tok.typ == end) {
			check_pipeline(p, pipe, context);
			return pipe;
		}
		switch (tok.typ) {
		case TI_BOOL:
		case TI_CHARCONST:
		case TI_COMPLEX:
		case TI_DOT:
		case TI_FIELD:
		case TI_IDENTIFIER:
		case TI_NUMBER:
		case TI_NIL:
		case TI_RAW_STRING:
		case TI_STRING:
		case TI_VARIABLE:
		case TI_LEFT_PAREN:
			backup(p);
			APPEND(
			    pipe->u.pipe.cmds, pipe->u.pipe.ncmds, command(p));
			break;
		default:
			unexpected(p, &tok, context);
		}
	}
}

static const char *
pend_string(enum pend e)
{
	return e == PEND_END ? "{{end}}" : "{{else}}";
}

static struct tnode *with_control(struct parser *);

/*
 * if, range, with.  {{else if b}} in an if, and {{else with b}} in a with
 * (Go 1.23), are {{else}}{{if b}}...{{end}}: the else list holds the
 * chained control, which consumes the one {{end}}.
 */
static struct tnode *
parse_control(struct parser *p, const char *context, enum tnode_type type)
{
	size_t nvars = p->nvars, else_pos;
	bool range = type == TN_RANGE;
	struct tnode *n, *pipe;
	enum pend e;

	depth_enter(p, "nesting");
	pipe = pipeline(p, context, TI_RIGHT_DELIM);
	n = newnode(p, type, pipe->pos);
	n->u.branch.pipe = pipe;
	if (range)
		p->range_depth++;
	n->u.branch.list = item_list(p, &e, &else_pos);
	if (range)
		p->range_depth--;
	if (e == PEND_ELSE) {
		if ((type == TN_IF && peek_type(p) == TI_IF) ||
		    (type == TN_WITH && peek_type(p) == TI_WITH)) {
			next(p);
			n->u.branch.else_list = newnode(p, TN_LIST, else_pos);
			list_append(n->u.branch.else_list,
			    type == TN_IF ? if_control(p) : with_control(p));
		} else {
			n->u.branch.else_list = item_list(p, &e, &else_pos);
			if (e != PEND_END)
				perr(p, "expected end; found %s",
				    pend_string(e));
		}
	}
	p->nvars = nvars;
	depth_leave(p);
	return n;
}

static struct tnode *
if_control(struct parser *p)
{
	return parse_control(p, "if", TN_IF);
}

static struct tnode *
with_control(struct parser *p)
{
	return parse_control(p, "with", TN_WITH);
}

static struct tnode *
loop_control(struct parser *p, enum titem_type t, size_t pos, const char *what)
{
	struct titem tok = next_non_space(p);

	if (tok.typ != TI_RIGHT_DELIM)
		unexpected(
		    p, &tok, t == TI_BREAK ? "{{break}}" : "{{continue}}");
	if (p->range_depth == 0)
		perr(p, "{{%s}} outside {{range}}", what);
	return newnode(p, t == TI_BREAK ? TN_BREAK : TN_CONTINUE, pos);
}

static struct tnode *
template_control(struct parser *p)
{
	const char *context = "template clause";
	struct titem tok = next_non_space(p);
	struct tnode *n;

	n = newnode(p, TN_TEMPLATE, tok.pos);
	n->u.tmpl.name = template_name(p, &tok, context);
	if (next_ns_type(p) != TI_RIGHT_DELIM) {
		backup(p);
		n->u.tmpl.pipe = pipeline(p, context, TI_RIGHT_DELIM);
	}
	return n;
}

static struct tnode *
block_control(struct parser *p)
{
	const char *context = "block clause";
	struct titem tok = next_non_space(p);
	struct parser block;
	struct tnode *n;
	enum pend e;
	size_t pos;

	depth_enter(p, "nesting");
	n = newnode(p, TN_TEMPLATE, tok.pos);
	n->u.tmpl.name = template_name(p, &tok, context);
	n->u.tmpl.pipe = pipeline(p, context, TI_RIGHT_DELIM);
	start_parse(&block, p->pc, n->u.tmpl.name);
	block.tree->root = item_list(&block, &e, &pos);
	if (e != PEND_END)
		perr(p, "unexpected %s in %s", pend_string(e), context);
	add_tree(&block);
	stop_parse(&block);
	depth_leave(p);
	return n;
}

/* an action: the left delimiter is past */
static struct tnode *
action(struct parser *p, enum pend *e, size_t *epos)
{
	struct titem tok = next_non_space(p);
	struct tnode *n;

	switch (tok.typ) {
	case TI_BLOCK:
		return block_control(p);
	case TI_BREAK:
		return loop_control(p, TI_BREAK, tok.pos, "break");
	case TI_CONTINUE:
		return loop_control(p, TI_CONTINUE, tok.pos, "continue");
	case TI_ELSE:
		/* {{else if ...}}, {{else with ...}} leave if/with pending */
		tok = peek_non_space(p);
		if (tok.typ != TI_IF && tok.typ != TI_WITH)
			tok = expect(p, TI_RIGHT_DELIM, "else");
		*e = PEND_ELSE;
		*epos = tok.pos;
		return NULL;
	case TI_END:
		tok = expect(p, TI_RIGHT_DELIM, "end");
		*e = PEND_END;
		*epos = tok.pos;
		return NULL;
	case TI_IF:
		return if_control(p);
	case TI_RANGE:
		return parse_control(p, "range", TN_RANGE);
	case TI_TEMPLATE:
		return template_control(p);
	case TI_WITH:
		return with_control(p);
	default:
		break;
	}
	backup(p);
	tok = peek(p);
	/* variables declared here persist until the enclosing end */
	n = newnode(p, TN_ACTION, tok.pos);
	n->u.action.pipe = pipeline(p, "command", TI_RIGHT_DELIM);
	return n;
}

static __attribute__((noinline)) struct tnode *
text(struct parser *p, const struct titem *tok)
{
	struct tnode *n;

	n = newnode(p, TN_TEXT, tok->pos);
	n->u.text.text = xmalloc(tok->len + 1);
	memcpy(n->u.text.text, tok->val, tok->len);
	n->u.text.text[tok->len] = '\0';
	n->u.text.len = tok->len;
	return n;
}

static struct tnode *
text_or_action(struct parser *p, enum pend *e, size_t *epos)
{
	struct titem tok = next_non_space(p);
	struct tnode *n;

	*e = PEND_NONE;
	switch (tok.typ) {
	case TI_TEXT:
		return text(p, &tok);
	case TI_LEFT_DELIM:
		p->in_action = true;
		p->action_pos = tok.pos;
		n = action(p, e, epos);
		p->in_action = false;
		return n;
	default:
		unexpected(p, &tok, "input");
	}
	return NULL;
}

static struct tnode *
item_list(struct parser *p, enum pend *e, size_t *epos)
{
	struct tnode *list, *n;

	list = newnode(p, TN_LIST, peek_ns_pos(p));
	while (peek_ns_type(p) != TI_EOF) {
		n = text_or_action(p, e, epos);
		if (*e != PEND_NONE)
			return list;
		list_append(list, n);
	}
	perr(p, "unexpected EOF");
}

static void
parse_definition(struct parser *p)
{
	const char *context = "define clause";
	struct titem tok = next_non_space(p);
	size_t pos;
	enum pend e;

	if (tok.typ != TI_STRING && tok.typ != TI_RAW_STRING)
		unexpected(p, &tok, context);
	free(p->tree->name);
	p->tree->name = NULL;
	p->tree->name = template_name(p, &tok, context);
	expect(p, TI_RIGHT_DELIM, context);
	p->tree->root = item_list(p, &e, &pos);
	if (e != PEND_END)
		perr(p, "unexpected %s in %s", pend_string(e), context);
	add_tree(p);
}

/* Go's Tree.parse: the top level, where define may appear */
static void
parse_top(struct parser *p)
{
	struct titem delim;
	struct parser def;
	struct tnode *n;
	enum pend e;
	size_t pos;

	p->tree->root = newnode(p, TN_LIST, peek_pos(p));
	while (peek_type(p) != TI_EOF) {
		if (peek_type(p) == TI_LEFT_DELIM) {
			delim = next(p);
			if (next_ns_type(p) == TI_DEFINE) {
				start_parse(&def, p->pc, "definition");
				parse_definition(&def);
				stop_parse(&def);
				continue;
			}
			backup2(p, delim);
		}
		n = text_or_action(p, &e, &pos);
		if (e != PEND_NONE)
			perr(p, "unexpected %s", pend_string(e));
		list_append(p->tree->root, n);
	}
}

/* ---- the parse call ---- */

/* after a failure: every node and tree made (perr() freed the scopes) */
static void
pctx_unwind(struct pctx *pc)
{
	size_t i;

	for (i = 0; i < pc->nnodes; i++)
		tnode_free_one(pc->nodes[i]);
	for (i = 0; i < pc->nmade; i++) {
		free(pc->made[i]->name);
		free(pc->made[i]->parse_name);
		free(pc->made[i]);
	}
}

int
tmpl_parse(
    struct tmpl *t, const char *text, size_t len, char *err, size_t errlen)
{
	char localerr[TMPL_ERRLEN];
	struct parser *top;
	struct pctx *pc;
	char *copy;
	void *ctx;

	copy = xmalloc(len + 1);
	if (len > 0)
		memcpy(copy, text, len);
	copy[len] = '\0';
	pc = xcalloc(1, sizeof(*pc));
	top = xcalloc(1, sizeof(*top));
	pc->set = t;
	pc->text = copy;
	pc->len = len;
	pc->parse_name = t->name;
	if (err != NULL && errlen > 0) {
		pc->err = err;
		pc->errlen = errlen;
	} else {
		pc->err = localerr;
		pc->errlen = sizeof(localerr);
	}
	tlex_init(&pc->lex, copy, len, tmpl_func_find(t, "break", &ctx) == NULL,
	    tmpl_func_find(t, "continue", &ctx) == NULL);
	if (setjmp(pc->jb) != 0) {
		pctx_unwind(pc);
		free(pc->nodes);
		free(pc->made);
		free(pc->treeset);
		free(pc);
		free(top);
		free(copy);
		t->broken = true;
		return -1;
	}
	start_parse(top, pc, t->name);
	parse_top(top);
	add_tree(top);
	stop_parse(top);
	tmpl_set_merge(t, pc->made, pc->nmade, pc->treeset, pc->ntreeset);
	APPEND(t->texts, t->ntexts, copy);
	free(pc->nodes);
	free(pc->made);
	free(pc->treeset);
	free(pc);
	free(top);
	return 0;
}
