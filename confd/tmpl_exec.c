/*
 * Template execution, as Go's text/template/exec.go: walking the tree,
 * pipelines, variables and their scopes, field access on maps and
 * KVPairs, function calls with Go's arity and type messages, and errors
 * worded and placed as Go's ("template: NAME:LINE:COL: executing ...").
 *
 * Go nests template calls up to 100000 deep.  Each level here costs C
 * stack, so execution also stops, with Go's message, when less than
 * TMPL_STACK_RESERVE bytes of the thread's stack remain: the depth limit
 * is 100000 or what the stack holds, whichever is smaller.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_exec.h"
#include "confd/tmpl_fmtint.h"
#include "lib/xmalloc.h"

#define TMPL_MAX_DEPTH 100000

enum { W_OK, W_ERR, W_BREAK, W_CONTINUE };

struct evar {
	const char *name;
	struct xval val;
};

struct estate {
	struct tmpl *set;
	struct ttree *tree; /* the template executing (its name) */
	struct tbuf *out;
	struct tnode *node; /* current node, for errors */
	struct tnode *call; /* the innermost {{template}} executing */
	struct evar *vars;
	size_t nvars, capvars, base;
	int depth;
	uintptr_t stack_limit;
	char *err;
	size_t errlen;
	bool failed;
};

static int eval_pipeline(
    struct estate *, const struct xval *, struct tnode *, struct xval *);
static int eval_arg(
    struct estate *, const struct xval *, struct tnode *, struct xval *);
static int walk(struct estate *, const struct xval *, struct tnode *);
static bool constant_overflows(struct tnode *);
static int ideal_constant(struct estate *, struct tnode *, struct xval *);

static const struct xval invalid = {NULL, false};

/* ---- values ---- */

static struct xval
xcopy(const struct xval *x)
{
	struct xval r = {tval_ref(x->v), x->iface};

	return r;
}

static void
xfree(struct xval *x)
{
	tval_unref(x->v);
	x->v = NULL;
	x->iface = false;
}

static struct xval
xnew(struct tval *v)
{
	struct xval r = {v, false};

	return r;
}

/* the pipeline's dig: an interface{} becomes what it holds */
static void
xdig(struct xval *x)
{
	if (x->v != NULL && x->v->kind == TV_NIL) {
		tval_unref(x->v);
		x->v = NULL;
	}
	x->iface = false;
}

static const char *
xtype(const struct xval *x)
{
	if (x->iface)
		return "interface {}";
	return tval_type_name(x->v);
}

/* ---- errors ---- */

static void
verrorf(struct estate *s, const char *fmt, va_list ap)
{
	struct tbuf b = {0}, ctx = {0};
	const char *name = s->tree != NULL ? s->tree->name : s->set->name;
	char *msg;
	size_t n, w;
	int runes;

	if (s->failed)
		return;
	s->failed = true;
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	tbuf_adds(&b, "template: ");
	if (s->node == NULL) {
		tbuf_adds(&b, name);
	} else {
		tnode_location(&b, s->node);
		tbuf_adds(&b, ": executing ");
		tfmt_quote(&b, name, strlen(name), false);
		tbuf_adds(&b, " at <");
		tnode_string(&ctx, s->node);
		if (ctx.len > 20) {
			/* %.20s...: twenty runes */
			for (n = 0, runes = 0; n < ctx.len && runes < 20;
			     runes++) {
				tfmt_decode_rune(ctx.p + n, ctx.len - n, &w);
				n += w;
			}
			tbuf_add(&b, ctx.p, n);
			tbuf_adds(&b, "...");
		} else if (ctx.len > 0)
			tbuf_add(&b, ctx.p, ctx.len);
		tbuf_adds(&b, ">");
	}
	tbuf_adds(&b, ": ");
	tbuf_adds(&b, msg != NULL ? msg : "out of memory");
	snprintf(s->err, s->errlen, "%s", b.p);
	free(msg);
	tbuf_free(&b);
	tbuf_free(&ctx);
}

static int __attribute__((format(printf, 2, 3)))
errorf(struct estate *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrorf(s, fmt, ap);
	va_end(ap);
	return -1;
}

int
texec_errorf(struct estate *s, struct tnode *at, const char *fmt, ...)
{
	va_list ap;

	if (at != NULL)
		s->node = at;
	va_start(ap, fmt);
	verrorf(s, fmt, ap);
	va_end(ap);
	return -1;
}

/* the node as Go's %s of a Node */
char *
texec_node_str(const struct tnode *n)
{
	struct tbuf b = {0};

	tnode_string(&b, n);
	tbuf_add(&b, "", 0);
	return b.p;
}

static int
node_errorf(struct estate *s, const char *fmt, const struct tnode *n)
{
	char *str = texec_node_str(n);

	errorf(s, fmt, str);
	free(str);
	return -1;
}

static bool
stack_low(struct estate *s)
{
	return (uintptr_t)__builtin_frame_address(0) < s->stack_limit;
}

/* blamed on the innermost template call, where Go's limit strikes */
static int
too_deep(struct estate *s)
{
	if (s->call != NULL) {
		/* the call's own template is executing there */
		s->node = s->call;
		s->tree = s->call->tree;
	}
	return errorf(
	    s, "exceeded maximum template depth (%d)", TMPL_MAX_DEPTH);
}

/* ---- variables ---- */

static void
push_var(struct estate *s, const char *name, struct xval val)
{
	if (s->nvars == s->capvars) {
		s->capvars = s->capvars ? s->capvars * 2 : 16;
		s->vars = xreallocarray(s->vars, s->capvars, sizeof(*s->vars));
	}
	s->vars[s->nvars].name = name;
	s->vars[s->nvars].val = val;
	s->nvars++;
}

static void
pop_vars(struct estate *s, size_t mark)
{
	while (s->nvars > mark)
		xfree(&s->vars[--s->nvars].val);
}

static struct evar *
find_var(struct estate *s, const char *name)
{
	size_t i;

	for (i = s->nvars; i > s->base; i--)
		if (strcmp(s->vars[i - 1].name, name) == 0)
			return &s->vars[i - 1];
	return NULL;
}

/* setVar: takes val */
static int
set_var(struct estate *s, const char *name, struct xval val)
{
	struct evar *v = find_var(s, name);

	if (v == NULL) {
		xfree(&val);
		return errorf(s, "undefined variable: %s", name);
	}
	xfree(&v->val);
	v->val = val;
	return 0;
}

static void
set_top_var(struct estate *s, size_t n, struct xval val)
{
	struct evar *v = &s->vars[s->nvars - n];

	xfree(&v->val);
	v->val = val;
}

static bool
xtruth(const struct xval *x)
{
	return tval_truth(x->v);
}

/*
 * evalCall: args are the argument nodes after the function's own; final
 * the pipeline's previous value when has_final.
 */
static int
eval_call(struct estate *s, const struct xval *dot, const struct tmpl_func *f,
    void *ctx, struct tnode *node, const char *name, struct tnode *const *args,
    size_t nargs, bool has_final, const struct xval *final, struct xval *out)
{
	size_t numin = nargs + (has_final ? 1 : 0), i;
	bool variadic = f->max_args != f->min_args;
	const struct tmpl_func *and_f, *or_f;
	struct tmpl_call c;
	struct xval *xargs;
	struct tval **argv, *ret;
	int rc = -1;

	if (variadic && numin < (size_t)f->min_args)
		return errorf(s,
		    "wrong number of args for %s: want at least %d got %zu",
		    name, f->min_args, nargs);
	if (!variadic && numin != (size_t)f->min_args)
		return errorf(s, "wrong number of args for %s: want %d got %zu",
		    name, f->min_args, numin);
	if (f->max_args >= 0 && numin > (size_t)f->max_args)
		return errorf(s,
		    "wrong number of args for %s: want at most %d got %zu",
		    name, f->max_args, numin);

	and_f = tmpl_builtin_find("and");
	or_f = tmpl_builtin_find("or");
	if (f == and_f || f == or_f) {
		struct xval v = invalid;

		for (i = 0; i < nargs; i++) {
			xfree(&v);
			if (eval_arg(s, dot, args[i], &v) == -1)
				return -1;
			if (constant_overflows(args[i]))
				return ideal_constant(s, args[i], &v);
			if (xtruth(&v) == (f == or_f)) {
				*out = v;
				return 0;
			}
		}
		if (has_final) {
			xfree(&v);
			v = xcopy(final);
		}
		*out = v;
		return 0;
	}

	xargs = xcalloc(numin ? numin : 1, sizeof(*xargs));
	argv = xcalloc(numin ? numin : 1, sizeof(*argv));
	for (i = 0; i < nargs; i++)
		if (eval_arg(s, dot, args[i], &xargs[i]) == -1)
			goto done;
	if (has_final)
		xargs[i] = xcopy(final);
	for (i = 0; i < numin; i++)
		/* an invalid argument arrives as its own nil interface{} */
		argv[i] = xargs[i].v != NULL ? xargs[i].v : tval_nil();

	memset(&c, 0, sizeof(c));
	c.s = s;
	c.name = name;
	c.node = node;
	c.argnodes = args;
	c.nexplicit = nargs;
	c.last = s->node;
	c.xargs = xargs;
	c.args = argv;
	c.nargs = numin;
	ret = f->fn(&c, argv, numin, ctx);
	if (c.failed || s->failed) {
		tval_unref(ret);
		goto done;
	}
	/* the function took a constant past int64 as interface{} */
	for (i = 0; i < nargs; i++)
		if (constant_overflows(args[i])) {
			tval_unref(ret);
			ideal_constant(s, args[i], &xargs[i]);
			goto done;
		}
	*out = xnew(ret); /* NULL: nil returned, an invalid value */
	rc = 0;
done:
	for (i = 0; i < numin; i++) {
		if (xargs[i].v == NULL)
			tval_unref(argv[i]);
		xfree(&xargs[i]);
	}
	free(xargs);
	free(argv);
	return rc;
}

/* ---- fields ---- */

static int
eval_field(struct estate *s, const struct xval *dot, const char *field,
    struct tnode *node, struct tnode *const *args, size_t nargs, bool has_final,
    const struct xval *final, const struct xval *recv, struct xval *out)
{
	const char *typ;
	struct tval *v = recv->v, *r;
	bool has_args = nargs > 1 || has_final;

	*out = invalid;
	if (v == NULL)
		return 0;
	typ = xtype(recv);
	if (v->kind == TV_NIL)
		return errorf(s, "nil pointer evaluating %s.%s", typ, field);
	if (v->kind == TV_TIME && strcmp(field, "Format") == 0)
		return eval_call(s, dot, &texec_time_format, v, node, field,
		    nargs > 0 ? args + 1 : NULL, nargs > 0 ? nargs - 1 : 0,
		    has_final, final, out);
	switch (v->kind) {
	case TV_KV:
		if (strcmp(field, "Key") != 0 && strcmp(field, "Value") != 0)
			break;
		if (has_args)
			return errorf(s,
			    "%s has arguments but cannot be invoked as "
			    "function",
			    field);
		*out = xnew(
		    tval_str(field[0] == 'K' ? v->u.kv.key : v->u.kv.value));
		return 0;
	case TV_TIME:
		if (strcmp(field, "wall") == 0 || strcmp(field, "ext") == 0 ||
		    strcmp(field, "loc") == 0)
			return errorf(s,
			    "%s is an unexported field of struct type %s",
			    field, typ);
		break;
	case TV_MAP:
		if (has_args)
			return errorf(
			    s, "%s is not a method but has arguments", field);
		r = tval_map_get(v, field);
		if (r != NULL) {
			out->v = tval_ref(r);
			out->iface = true;
		}
		return 0;
	default:
		break;
	}
	return errorf(s, "can't evaluate field %s in type %s", field, typ);
}

static int
eval_field_chain(struct estate *s, const struct xval *dot,
    const struct xval *recv, struct tnode *node, char *const *ident, size_t n,
    struct tnode *const *args, size_t nargs, bool has_final,
    const struct xval *final, struct xval *out)
{
	struct xval cur = xcopy(recv), next;
	size_t i;

	for (i = 0; i + 1 < n; i++) {
		if (eval_field(s, dot, ident[i], node, NULL, 0, false, NULL,
		        &cur, &next) == -1) {
			xfree(&cur);
			return -1;
		}
		xfree(&cur);
		cur = next;
	}
	i = eval_field(s, dot, ident[n - 1], node, args, nargs, has_final,
	    final, &cur, out);
	xfree(&cur);
	return (int)i;
}

static int
not_a_function(
    struct estate *s, struct tnode *const *args, size_t nargs, bool has_final)
{
	if (nargs > 1 || has_final)
		return node_errorf(
		    s, "can't give argument to non-function %s", args[0]);
	return 0;
}

static int
eval_field_node(struct estate *s, const struct xval *dot, struct tnode *f,
    struct tnode *const *args, size_t nargs, bool has_final,
    const struct xval *final, struct xval *out)
{
	s->node = f;
	return eval_field_chain(s, dot, dot, f, f->u.field.ident, f->u.field.n,
	    args, nargs, has_final, final, out);
}

static int
eval_chain_node(struct estate *s, const struct xval *dot, struct tnode *ch,
    struct tnode *const *args, size_t nargs, bool has_final,
    const struct xval *final, struct xval *out)
{
	struct xval pipe;
	int rc;

	s->node = ch;
	if (ch->u.chain.n == 0)
		return errorf(s, "internal error: no fields in evalChainNode");
	if (ch->u.chain.node->type == TN_NIL)
		return node_errorf(
		    s, "indirection through explicit nil in %s", ch);
	if (eval_arg(s, dot, ch->u.chain.node, &pipe) == -1)
		return -1;
	rc = eval_field_chain(s, dot, &pipe, ch, ch->u.chain.field,
	    ch->u.chain.n, args, nargs, has_final, final, out);
	xfree(&pipe);
	return rc;
}

static int
eval_variable_node(struct estate *s, const struct xval *dot, struct tnode *var,
    struct tnode *const *args, size_t nargs, bool has_final,
    const struct xval *final, struct xval *out)
{
	struct evar *v;

	s->node = var;
	v = find_var(s, var->u.field.ident[0]);
	if (v == NULL)
		return errorf(
		    s, "undefined variable: %s", var->u.field.ident[0]);
	if (var->u.field.n == 1) {
		if (args != NULL && not_a_function(s, args, nargs, has_final))
			return -1;
		*out = xcopy(&v->val);
		return 0;
	}
	return eval_field_chain(s, dot, &v->val, var, var->u.field.ident + 1,
	    var->u.field.n - 1, args, nargs, has_final, final, out);
}

static int
eval_function(struct estate *s, const struct xval *dot, struct tnode *id,
    struct tnode *cmd, struct tnode *const *args, size_t nargs, bool has_final,
    const struct xval *final, struct xval *out)
{
	const struct tmpl_func *f;
	const char *name = id->u.field.ident[0];
	void *ctx = NULL;

	s->node = id;
	f = tmpl_func_find(s->set, name, &ctx);
	if (f == NULL) {
		struct tbuf q = {0};

		tfmt_quote(&q, name, strlen(name), false);
		errorf(s, "%s is not a defined function", q.p);
		tbuf_free(&q);
		return -1;
	}
	return eval_call(s, dot, f, ctx, cmd, name, nargs > 0 ? args + 1 : NULL,
	    nargs > 0 ? nargs - 1 : 0, has_final, final, out);
}

/*
 * idealConstant's choice: 'f' float64, 'i' int, or 0 for Go's IsUint-only
 * constant (past int64), which overflows int.
 */
static int
constant_kind(const struct tnode *n)
{
	const char *t = n->u.num.text;
	bool hexint, runeint;

	hexint = strlen(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') &&
	    strpbrk(t, "pP") == NULL;
	runeint = t[0] == '\'';
	if (n->u.num.is_float && !hexint && !runeint &&
	    strpbrk(t, ".eEpP") != NULL)
		return 'f';
	return n->u.num.is_int ? 'i' : 0;
}

/* the constant's value; invalid when it overflows int */
static struct xval
constant_value(const struct tnode *n)
{
	switch (constant_kind(n)) {
	case 'f':
		return xnew(tval_float(n->u.num.f));
	case 'i':
		return xnew(tval_int(n->u.num.i));
	default:
		return invalid;
	}
}

/* is n a constant that idealConstant refuses ("overflows int")? */
static bool
constant_overflows(struct tnode *n)
{
	return n->type == TN_NUMBER && constant_kind(n) == 0;
}

static int
ideal_constant(struct estate *s, struct tnode *n, struct xval *out)
{
	s->node = n;
	*out = constant_value(n);
	if (out->v == NULL)
		return errorf(s, "%s overflows int", n->u.num.text);
	return 0;
}

static int
eval_arg(
    struct estate *s, const struct xval *dot, struct tnode *n, struct xval *out)
{
	struct tnode *self[1] = {n};

	s->node = n;
	*out = invalid;
	switch (n->type) {
	case TN_DOT:
		*out = xcopy(dot);
		return 0;
	case TN_NIL:
		return 0;
	case TN_FIELD:
		return eval_field_node(s, dot, n, self, 1, false, NULL, out);
	case TN_VARIABLE:
		return eval_variable_node(s, dot, n, NULL, 0, false, NULL, out);
	case TN_PIPE:
		return eval_pipeline(s, dot, n, out);
	case TN_IDENTIFIER:
		return eval_function(s, dot, n, n, NULL, 0, false, NULL, out);
	case TN_CHAIN:
		return eval_chain_node(s, dot, n, NULL, 0, false, NULL, out);
	case TN_BOOL:
		*out = xnew(tval_bool(n->u.b));
		return 0;
	case TN_NUMBER:
		/*
		 * Invalid when past int64: a typed parameter refuses it
		 * ("expected integer"), an interface{} one overflows
		 * (eval_call checks after the call).
		 */
		*out = constant_value(n);
		return 0;
	case TN_STRING:
		*out = xnew(tval_strn(n->u.str.s, n->u.str.len));
		return 0;
	default:
		return node_errorf(s,
		    "can't handle assignment of %s to empty interface argument",
		    n);
	}
}

static int
eval_command(struct estate *s, const struct xval *dot, struct tnode *cmd,
    bool has_final, const struct xval *final, struct xval *out)
{
	struct tnode *const *args = cmd->u.cmd.args;
	size_t nargs = cmd->u.cmd.n;
	struct tnode *first = args[0];
	char *str;

	*out = invalid;
	if (stack_low(s))
		return too_deep(s);
	switch (first->type) {
	case TN_FIELD:
		return eval_field_node(
		    s, dot, first, args, nargs, has_final, final, out);
	case TN_CHAIN:
		return eval_chain_node(
		    s, dot, first, args, nargs, has_final, final, out);
	case TN_IDENTIFIER:
		return eval_function(
		    s, dot, first, cmd, args, nargs, has_final, final, out);
	case TN_PIPE:
		if (not_a_function(s, args, nargs, has_final) == -1)
			return -1;
		return eval_pipeline(s, dot, first, out);
	case TN_VARIABLE:
		return eval_variable_node(
		    s, dot, first, args, nargs, has_final, final, out);
	default:
		break;
	}
	s->node = first;
	if (not_a_function(s, args, nargs, has_final) == -1)
		return -1;
	switch (first->type) {
	case TN_BOOL:
		*out = xnew(tval_bool(first->u.b));
		return 0;
	case TN_DOT:
		*out = xcopy(dot);
		return 0;
	case TN_NIL:
		return errorf(s, "nil is not a command");
	case TN_NUMBER:
		return ideal_constant(s, first, out);
	case TN_STRING:
		*out = xnew(tval_strn(first->u.str.s, first->u.str.len));
		return 0;
	default:
		str = texec_node_str(first);
		{
			struct tbuf q = {0};

			tfmt_quote(&q, str, strlen(str), false);
			errorf(s, "can't evaluate command %s", q.p);
			tbuf_free(&q);
		}
		free(str);
		return -1;
	}
}

static int
eval_pipeline(struct estate *s, const struct xval *dot, struct tnode *pipe,
    struct xval *out)
{
	struct xval value = invalid, next;
	bool has_final = false;
	size_t i;

	*out = invalid;
	if (pipe == NULL)
		return 0;
	s->node = pipe;
	for (i = 0; i < pipe->u.pipe.ncmds; i++) {
		if (eval_command(s, dot, pipe->u.pipe.cmds[i], has_final,
		        &value, &next) == -1) {
			xfree(&value);
			return -1;
		}
		xfree(&value);
		value = next;
		xdig(&value);
		has_final = true;
	}
	for (i = 0; i < pipe->u.pipe.ndecl; i++) {
		const char *name = pipe->u.pipe.decl[i]->u.field.ident[0];

		if (pipe->u.pipe.is_assign) {
			if (set_var(s, name, xcopy(&value)) == -1) {
				xfree(&value);
				return -1;
			}
		} else
			push_var(s, name, xcopy(&value));
	}
	*out = value;
	return 0;
}

/* ---- walking ---- */

static int
print_value(struct estate *s, struct tnode *n, const struct xval *v)
{
	s->node = n;
	if (v->v == NULL)
		tbuf_adds(s->out, "<no value>");
	else
		tval_print(s->out, v->v);
	return 0;
}

static int
walk_if_with(struct estate *s, const struct xval *dot, struct tnode *n)
{
	size_t mark = s->nvars;
	struct xval val;
	int r;

	if (eval_pipeline(s, dot, n->u.branch.pipe, &val) == -1)
		return W_ERR;
	if (xtruth(&val))
		r = walk(s, n->type == TN_WITH ? &val : dot, n->u.branch.list);
	else if (n->u.branch.else_list != NULL)
		r = walk(s, dot, n->u.branch.else_list);
	else
		r = W_OK;
	xfree(&val);
	pop_vars(s, mark);
	return r;
}

/* one iteration of range; takes index and elem */
static int
range_once(struct estate *s, struct tnode *r, size_t mark, struct xval index,
    struct xval elem)
{
	struct tnode *pipe = r->u.branch.pipe;
	size_t ndecl = pipe->u.pipe.ndecl;
	int rc;

	if (ndecl > 0) {
		if (pipe->u.pipe.is_assign) {
			const char *v0 = pipe->u.pipe.decl[0]->u.field.ident[0];

			if (set_var(s, v0, xcopy(ndecl > 1 ? &index : &elem)) ==
			    -1)
				goto fail;
		} else
			set_top_var(s, 1, xcopy(&elem));
	}
	if (ndecl > 1) {
		if (pipe->u.pipe.is_assign) {
			const char *v1 = pipe->u.pipe.decl[1]->u.field.ident[0];

			if (set_var(s, v1, xcopy(&elem)) == -1)
				goto fail;
		} else
			set_top_var(s, 2, xcopy(&index));
	}
	rc = walk(s, &elem, r->u.branch.list);
	pop_vars(s, mark);
	xfree(&index);
	xfree(&elem);
	return rc == W_CONTINUE ? W_OK : rc;
fail:
	xfree(&index);
	xfree(&elem);
	return W_ERR;
}

static int
walk_range(struct estate *s, const struct xval *dot, struct tnode *r)
{
	size_t mark0 = s->nvars, mark, i, n;
	struct xval val, idx, elem;
	struct tval *v;
	bool ran = false;
	int rc = W_OK;
	char *str;

	s->node = r;
	if (eval_pipeline(s, dot, r->u.branch.pipe, &val) == -1)
		return W_ERR;
	mark = s->nvars;
	v = val.v;
	if (v == NULL)
		goto empty;
	switch (v->kind) {
	case TV_LIST:
		n = v->u.list.n;
		for (i = 0; i < n && rc == W_OK; i++) {
			ran = true;
			idx = xnew(tval_int((int64_t)i));
			elem.v = tval_ref(v->u.list.v[i]);
			elem.iface = v->u.list.elem == TVE_ANY;
			rc = range_once(s, r, mark, idx, elem);
		}
		break;
	case TV_MAP:
		n = v->u.map.n;
		for (i = 0; i < n && rc == W_OK; i++) {
			ran = true;
			idx = xnew(tval_str(v->u.map.keys[i]));
			elem.v = tval_ref(v->u.map.vals[i]);
			elem.iface = true;
			rc = range_once(s, r, mark, idx, elem);
		}
		break;
	case TV_INT:
		/* Go 1.24: range over an int */
		if (r->u.branch.pipe->u.pipe.ndecl > 1) {
			errorf(s,
			    "can't use %lld to iterate over more than one "
			    "variable",
			    (long long)v->u.i);
			rc = W_ERR;
			break;
		}
		for (int64_t k = 0; k < v->u.i && rc == W_OK; k++) {
			ran = true;
			rc = range_once(s, r, mark, invalid, xnew(tval_int(k)));
		}
		break;
	default: {
		struct tbuf b = {0};

		tval_print(&b, v);
		str = b.p;
		errorf(s, "range can't iterate over %s", str);
		free(str);
		rc = W_ERR;
		break;
	}
	}
	if (rc == W_BREAK)
		rc = W_OK;
	if (rc == W_OK && ran)
		goto done;
	if (rc != W_OK)
		goto done;
empty:
	if (r->u.branch.else_list != NULL)
		rc = walk(s, dot, r->u.branch.else_list);
done:
	xfree(&val);
	pop_vars(s, mark0);
	return rc;
}

static int
walk_template(struct estate *s, const struct xval *dot, struct tnode *t)
{
	struct ttree *tree, *saved_tree;
	struct tnode *saved_call;
	size_t saved_base;
	struct xval newdot;
	int rc;

	s->node = t;
	tree = tmpl_lookup(s->set, t->u.tmpl.name);
	if (tree == NULL || tree->root == NULL) {
		struct tbuf q = {0};

		tfmt_quote(&q, t->u.tmpl.name, strlen(t->u.tmpl.name), false);
		errorf(s, "template %s not defined", q.p);
		tbuf_free(&q);
		return W_ERR;
	}
	if (s->depth >= TMPL_MAX_DEPTH || stack_low(s)) {
		s->call = t;
		too_deep(s);
		return W_ERR;
	}
	if (eval_pipeline(s, dot, t->u.tmpl.pipe, &newdot) == -1)
		return W_ERR;
	saved_tree = s->tree;
	saved_base = s->base;
	saved_call = s->call;
	s->call = t;
	s->depth++;
	s->tree = tree;
	s->base = s->nvars;
	push_var(s, "$", xcopy(&newdot));
	rc = walk(s, &newdot, tree->root);
	pop_vars(s, s->base);
	s->base = saved_base;
	s->tree = saved_tree;
	s->call = saved_call;
	s->depth--;
	xfree(&newdot);
	return rc;
}

static int
walk(struct estate *s, const struct xval *dot, struct tnode *n)
{
	struct xval val;
	size_t i;
	int r;

	if (stack_low(s)) {
		too_deep(s);
		return W_ERR;
	}
	s->node = n;
	switch (n->type) {
	case TN_ACTION:
		if (eval_pipeline(s, dot, n->u.action.pipe, &val) == -1)
			return W_ERR;
		if (n->u.action.pipe->u.pipe.ndecl == 0)
			print_value(s, n, &val);
		xfree(&val);
		return W_OK;
	case TN_BREAK:
		return W_BREAK;
	case TN_CONTINUE:
		return W_CONTINUE;
	case TN_COMMENT:
		return W_OK;
	case TN_IF:
	case TN_WITH:
		return walk_if_with(s, dot, n);
	case TN_LIST:
		for (i = 0; i < n->u.list.n; i++) {
			r = walk(s, dot, n->u.list.nodes[i]);
			if (r != W_OK)
				return r;
		}
		return W_OK;
	case TN_RANGE:
		return walk_range(s, dot, n);
	case TN_TEMPLATE:
		return walk_template(s, dot, n);
	case TN_TEXT:
		tbuf_add(s->out, n->u.text.text, n->u.text.len);
		return W_OK;
	default:
		node_errorf(s, "unknown node: %s", n);
		return W_ERR;
	}
}

int
tmpl_execute(struct tmpl *t, const char *name, struct tval *dot,
    struct tbuf *out, char *err, size_t errlen)
{
	struct estate s;
	struct ttree *tree;
	struct xval d = invalid;
	int rc;

	memset(&s, 0, sizeof(s));
	s.set = t;
	s.out = out;
	s.err = err;
	s.errlen = errlen;
	if (errlen > 0)
		err[0] = '\0';
	tbuf_add(out, "", 0);
	if (name == NULL)
		name = t->name;
	if (t->broken) {
		snprintf(err, errlen,
		    "template: %s: \"%s\" is an incomplete or empty template",
		    name, name);
		return -1;
	}
	tree = tmpl_lookup(t, name);
	if (tree == NULL && strcmp(name, t->name) != 0) {
		struct tbuf b = {0};

		tbuf_adds(&b, "template: no template ");
		tfmt_quote(&b, name, strlen(name), false);
		tbuf_adds(&b, " associated with template ");
		tfmt_quote(&b, t->name, strlen(t->name), false);
		snprintf(err, errlen, "%s", b.p);
		tbuf_free(&b);
		return -1;
	}
	if (tree == NULL || tree->root == NULL) {
		struct tbuf b = {0};

		tbuf_adds(&b, "template: ");
		tbuf_adds(&b, name);
		tbuf_adds(&b, ": ");
		tfmt_quote(&b, name, strlen(name), false);
		tbuf_adds(&b, " is an incomplete or empty template");
		snprintf(err, errlen, "%s", b.p);
		tbuf_free(&b);
		return -1;
	}
	s.tree = tree;
	s.stack_limit = tfmt_stack_limit();
	if (dot != NULL && dot->kind != TV_NIL)
		d.v = tval_ref(dot);
	push_var(&s, "$", xcopy(&d));
	rc = walk(&s, &d, tree->root);
	pop_vars(&s, 0);
	free(s.vars);
	xfree(&d);
	if (rc == W_ERR || s.failed)
		return -1;
	return 0;
}
