/*
 * The template builtins, as Go's text/template/funcs.go: and or not eq ne
 * lt le gt ge len index print printf println.  and and or short-circuit
 * in the executor (tmpl_exec.c); the entries here give their arity.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_exec.h"
#include "confd/tmpl_fmtint.h"

enum bkind { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum bkind
basic_kind(const struct tval *v)
{
	if (v == NULL)
		return K_INVALID;
	switch (v->kind) {
	case TV_BOOL:
		return K_BOOL;
	case TV_INT:
		return K_INT;
	case TV_FLOAT:
		return K_FLOAT;
	case TV_STRING:
		return K_STRING;
	default:
		return K_INVALID;
	}
}

/* indirectInterface: a nil interface{} is no value */
static const struct tval *
ind(const struct tval *v)
{
	return (v == NULL || v->kind == TV_NIL) ? NULL : v;
}

/* Go's reflect.Kind, for canCompare */
static int
rkind(const struct tval *v)
{
	if (v == NULL)
		return 0;
	switch (v->kind) {
	case TV_LIST:
		return 1;
	case TV_MAP:
		return 2;
	case TV_KV:
	case TV_TIME:
		return 3;
	default:
		return 4 + (int)v->kind;
	}
}

static char *
fmt1(const char *verb, const struct tval *v)
{
	struct tbuf b = {0};
	struct tval *args[1] = {(struct tval *)v};

	tval_sprintf(&b, verb, strlen(verb), args, 1);
	return b.p;
}

static struct tval *
unreachable(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	tmpl_call_error(c, "unreachable");
	return NULL;
}

static struct tval *
b_not(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	return tval_bool(!tval_truth(args[0]));
}

static int
str_cmp(const struct tval *a, const struct tval *b)
{
	size_t n = a->u.s.len < b->u.s.len ? a->u.s.len : b->u.s.len;
	int c = memcmp(a->u.s.p, b->u.s.p, n);

	if (c != 0)
		return c;
	return a->u.s.len < b->u.s.len ? -1 : a->u.s.len > b->u.s.len;
}

/* eq: -1 after an error */
static int
eq(struct tmpl_call *c, struct tval *const *args, size_t n)
{
	const struct tval *a1 = ind(args[0]), *a;
	enum bkind k1, k2;
	size_t i;
	bool truth;
	char *s1, *s2;

	if (n < 2) {
		tmpl_call_error(c, "missing argument for comparison");
		return -1;
	}
	k1 = basic_kind(a1);
	for (i = 1; i < n; i++) {
		a = ind(args[i]);
		k2 = basic_kind(a);
		truth = false;
		if (k1 != k2) {
			if (a1 != NULL && a != NULL) {
				tmpl_call_error(c,
				    "incompatible types for comparison: %s "
				    "and %s",
				    tval_type_name(a1), tval_type_name(a));
				return -1;
			}
		} else {
			switch (k1) {
			case K_BOOL:
				truth = a1->u.b == a->u.b;
				break;
			case K_FLOAT:
				truth = a1->u.f == a->u.f;
				break;
			case K_INT:
				truth = a1->u.i == a->u.i;
				break;
			case K_STRING:
				truth = str_cmp(a1, a) == 0;
				break;
			default:
				if (a1 != NULL && a != NULL &&
				    rkind(a1) != rkind(a)) {
					s1 = fmt1("%s", a1);
					s2 = fmt1("%v", a);
					tmpl_call_error(c,
					    "non-comparable types %s: %s, %s: "
					    "%s",
					    s1, tval_type_name(a1),
					    tval_type_name(a), s2);
					free(s1);
					free(s2);
					return -1;
				}
				if (a1 == NULL || a == NULL) {
					truth = a1 == NULL && a == NULL;
					break;
				}
				if (a->kind == TV_LIST || a->kind == TV_MAP) {
					s1 = fmt1("%s", a);
					tmpl_call_error(c,
					    "non-comparable type %s: %s", s1,
					    tval_type_name(a));
					free(s1);
					return -1;
				}
				if (a1->kind != a->kind)
					truth = false;
				else if (a->kind == TV_KV)
					truth = strcmp(a1->u.kv.key,
					            a->u.kv.key) == 0 &&
					    strcmp(a1->u.kv.value,
					        a->u.kv.value) == 0;
				else if (a->kind == TV_TIME)
					truth = a1->u.time.ts.tv_sec ==
					        a->u.time.ts.tv_sec &&
					    a1->u.time.ts.tv_nsec ==
					        a->u.time.ts.tv_nsec &&
					    a1->u.time.utc_offset ==
					        a->u.time.utc_offset &&
					    strcmp(a1->u.time.zone,
					        a->u.time.zone) == 0;
				else if (a1->kind == TV_LIST)
					truth = false;
			}
		}
		if (truth)
			return 1;
	}
	return 0;
}

/* lt: -1 after an error */
static int
lt(struct tmpl_call *c, const struct tval *a1, const struct tval *a2)
{
	enum bkind k1, k2;

	a1 = ind(a1);
	a2 = ind(a2);
	k1 = basic_kind(a1);
	k2 = basic_kind(a2);
	if (k1 == K_INVALID || k2 == K_INVALID) {
		tmpl_call_error(c, "invalid type for comparison");
		return -1;
	}
	if (k1 != k2) {
		tmpl_call_error(c,
		    "incompatible types for comparison: %s and %s",
		    tval_type_name(a1), tval_type_name(a2));
		return -1;
	}
	switch (k1) {
	case K_FLOAT:
		return a1->u.f < a2->u.f;
	case K_INT:
		return a1->u.i < a2->u.i;
	case K_STRING:
		return str_cmp(a1, a2) < 0;
	default:
		tmpl_call_error(c, "invalid type for comparison");
		return -1;
	}
}

static struct tval *
b_eq(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	int r = eq(c, args, n);

	return r < 0 ? NULL : tval_bool(r);
}

static struct tval *
b_ne(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	int r = eq(c, args, n);

	return r < 0 ? NULL : tval_bool(!r);
}

static struct tval *
b_lt(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	int r = lt(c, args[0], args[1]);

	return r < 0 ? NULL : tval_bool(r);
}

static int
le(struct tmpl_call *c, struct tval *const *args)
{
	int r = lt(c, args[0], args[1]);

	if (r != 0)
		return r;
	return eq(c, args, 2);
}

static struct tval *
b_le(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	int r = le(c, args);

	return r < 0 ? NULL : tval_bool(r);
}

static struct tval *
b_gt(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	int r = le(c, args);

	return r < 0 ? NULL : tval_bool(!r);
}

static struct tval *
b_ge(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	int r = lt(c, args[0], args[1]);

	return r < 0 ? NULL : tval_bool(!r);
}

static struct tval *
b_len(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	const struct xval *x = &c->xargs[0];

	if (x->v == NULL) {
		tmpl_call_error(
		    c, "reflect: call of reflect.Value.Type on zero Value");
		return NULL;
	}
	switch (x->v->kind) {
	case TV_NIL:
		tmpl_call_error(c, "len of nil pointer");
		return NULL;
	case TV_STRING:
		return tval_int((int64_t)x->v->u.s.len);
	case TV_LIST:
		return tval_int((int64_t)x->v->u.list.n);
	case TV_MAP:
		return tval_int((int64_t)x->v->u.map.n);
	default:
		tmpl_call_error(c, "len of type %s", tval_type_name(x->v));
		return NULL;
	}
}

/* indexArg */
static int
index_arg(struct tmpl_call *c, const struct tval *idx, size_t cap, int64_t *out)
{
	idx = ind(idx);
	if (idx == NULL) {
		tmpl_call_error(c, "cannot index slice/array with nil");
		return -1;
	}
	if (idx->kind != TV_INT) {
		tmpl_call_error(c, "cannot index slice/array with type %s",
		    tval_type_name(idx));
		return -1;
	}
	if (idx->u.i < 0 || (uint64_t)idx->u.i > cap) {
		tmpl_call_error(
		    c, "index out of range: %lld", (long long)idx->u.i);
		return -1;
	}
	*out = idx->u.i;
	return 0;
}

static struct tval *
b_index(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	struct tval *item = args[0], *r;
	const struct tval *idx;
	int64_t x;
	size_t i;

	if (ind(item) == NULL) {
		tmpl_call_error(c, "index of untyped nil");
		return NULL;
	}
	item = tval_ref(item);
	for (i = 1; i < n; i++) {
		idx = args[i];
		if (item->kind == TV_NIL) {
			tmpl_call_error(c, "index of nil pointer");
			goto fail;
		}
		switch (item->kind) {
		case TV_LIST:
			if (index_arg(c, idx, item->u.list.n, &x) == -1)
				goto fail;
			if ((size_t)x == item->u.list.n) {
				tmpl_call_error(
				    c, "reflect: slice index out of range");
				goto fail;
			}
			r = tval_ref(item->u.list.v[x]);
			break;
		case TV_STRING:
			if (index_arg(c, idx, item->u.s.len, &x) == -1)
				goto fail;
			if ((size_t)x == item->u.s.len) {
				tmpl_call_error(
				    c, "reflect: string index out of range");
				goto fail;
			}
			r = tval_int((unsigned char)item->u.s.p[x]);
			break;
		case TV_MAP:
			idx = ind(idx);
			if (idx == NULL) {
				tmpl_call_error(c,
				    "value is nil; should be of type string");
				goto fail;
			}
			if (idx->kind != TV_STRING) {
				tmpl_call_error(c,
				    "value has type %s; should be string",
				    tval_type_name(idx));
				goto fail;
			}
			r = tval_map_get(item, idx->u.s.p);
			r = r != NULL ? tval_ref(r) : tval_nil();
			break;
		default:
			tmpl_call_error(c, "can't index item of type %s",
			    tval_type_name(item));
			goto fail;
		}
		tval_unref(item);
		item = r;
	}
	return item;
fail:
	tval_unref(item);
	return NULL;
}

static struct tval *
b_print(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	struct tbuf b = {0};

	tval_sprint(&b, args, n);
	return tval_str_take(b.p, b.len);
}

static struct tval *
b_println(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	struct tbuf b = {0};

	tval_sprintln(&b, args, n);
	return tval_str_take(b.p, b.len);
}

static struct tval *
b_printf(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	struct tbuf b = {0};
	const char *f;
	size_t len;

	if (tmpl_arg_string(c, args[0], &f, &len) == -1)
		return NULL;
	tval_sprintf(&b, f, len, args + 1, n - 1);
	return tval_str_take(b.p, b.len);
}

/* sorted by name */
static const struct tmpl_func builtins[] = {
    {"and", unreachable, 1, -1},
    {"eq", b_eq, 1, -1},
    {"ge", b_ge, 2, 2},
    {"gt", b_gt, 2, 2},
    {"index", b_index, 1, -1},
    {"le", b_le, 2, 2},
    {"len", b_len, 1, 1},
    {"lt", b_lt, 2, 2},
    {"ne", b_ne, 2, 2},
    {"not", b_not, 1, 1},
    {"or", unreachable, 1, -1},
    {"print", b_print, 0, -1},
    {"printf", b_printf, 1, -1},
    {"println", b_println, 0, -1},
};

const struct tmpl_func *
tmpl_builtin_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	return NULL;
}
