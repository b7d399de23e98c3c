/*
 * A function call's side of the template engine: the errors a function
 * reports (Go's "error calling NAME: ..." and reflect's argument type
 * messages, placed on the argument's node as Go's evalArg does), the
 * argument helpers, and time.Time's Format method.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_exec.h"

void
tmpl_call_error(struct tmpl_call *c, const char *fmt, ...)
{
	char *msg;
	va_list ap;

	if (c->failed)
		return;
	c->failed = true;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	va_end(ap);
	texec_errorf(c->s, c->node, "error calling %s: %s", c->name,
	    msg != NULL ? msg : "out of memory");
	free(msg);
}

void
tmpl_call_type_error(
    struct tmpl_call *c, const struct tval *arg, const char *want)
{
	struct tnode *n = c->last;
	const struct xval *x = NULL;
	const char *found;
	size_t i;

	if (c->failed)
		return;
	c->failed = true;
	for (i = 0; i < c->nargs; i++) {
		if (c->args[i] != arg)
			continue;
		x = &c->xargs[i];
		if (i < c->nexplicit)
			n = c->argnodes[i];
		break;
	}
	if (x != NULL && i < c->nexplicit) {
		/* literals meet a typed parameter: evalString and friends */
		switch (n->type) {
		case TN_NIL:
			texec_errorf(c->s, n, "cannot assign nil to %s", want);
			return;
		case TN_BOOL:
		case TN_NUMBER:
		case TN_STRING:
			found = strcmp(want, "string") == 0 ? "string"
			    : strcmp(want, "int") == 0      ? "integer"
			    : strcmp(want, "bool") == 0     ? "bool"
			    : strcmp(want, "float64") == 0  ? "float"
			                                    : NULL;
			if (found != NULL) {
				char *str = texec_node_str(n);

				texec_errorf(c->s, n, "expected %s; found %s",
				    found, str);
				free(str);
				return;
			}
			break;
		default:
			break;
		}
	}
	if (x != NULL && x->v == NULL)
		texec_errorf(c->s, n, "invalid value; expected %s", want);
	else if (x != NULL && x->iface && x->v->kind == TV_NIL)
		texec_errorf(c->s, n,
		    "wrong type for value; expected %s; got %s", want,
		    "interface {}");
	else if (arg == NULL || arg->kind == TV_NIL)
		texec_errorf(c->s, n, "invalid value; expected %s", want);
	else
		texec_errorf(c->s, n,
		    "wrong type for value; expected %s; got %s", want,
		    tval_type_name(arg));
}

int
tmpl_arg_string(
    struct tmpl_call *c, const struct tval *v, const char **p, size_t *len)
{
	if (v == NULL || v->kind != TV_STRING) {
		tmpl_call_type_error(c, v, "string");
		return -1;
	}
	*p = v->u.s.p;
	if (len != NULL)
		*len = v->u.s.len;
	return 0;
}

int
tmpl_arg_int(struct tmpl_call *c, const struct tval *v, int64_t *i)
{
	if (v == NULL || v->kind != TV_INT) {
		tmpl_call_type_error(c, v, "int");
		return -1;
	}
	*i = v->u.i;
	return 0;
}

const char *
tmpl_call_name(const struct tmpl_call *c)
{
	return c->name;
}

/* time.Time.Format, the one method templates call */
static struct tval *
method_format(
    struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	const struct tval *t = ctx;
	struct tbuf b = {0};
	const char *layout;

	if (tmpl_arg_string(c, args[0], &layout, NULL) == -1)
		return NULL;
	tval_time_format(&b, t, layout);
	if (b.p == NULL)
		return tval_str("");
	return tval_str_take(b.p, b.len);
}

const struct tmpl_func texec_time_format = {"Format", method_format, 1, 1};
