/*
 * Template values (struct tval): construction, reference counting, Go's
 * type names and truth; the output buffer (struct tbuf); and tval_print,
 * fmt's %v of one value.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_fmtint.h"
#include "lib/xmalloc.h"

/* ---- tbuf ---- */

static void
tbuf_grow(struct tbuf *b, size_t more)
{
	size_t need = b->len + more + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->p = xrealloc(b->p, b->cap);
}

void
tbuf_add(struct tbuf *b, const void *p, size_t n)
{
	tbuf_grow(b, n);
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void
tbuf_adds(struct tbuf *b, const char *s)
{
	tbuf_add(b, s, strlen(s));
}

void
tbuf_addf(struct tbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	tbuf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
tbuf_free(struct tbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* ---- values ---- */

static struct tval *
tval_new(enum tval_kind kind)
{
	struct tval *v = xcalloc(1, sizeof(*v));

	v->kind = kind;
	v->refs = 1;
	return v;
}

struct tval *
tval_nil(void)
{
	return tval_new(TV_NIL);
}

struct tval *
tval_bool(bool b)
{
	struct tval *v = tval_new(TV_BOOL);

	v->u.b = b;
	return v;
}

struct tval *
tval_int(int64_t i)
{
	struct tval *v = tval_new(TV_INT);

	v->u.i = i;
	return v;
}

struct tval *
tval_float(double f)
{
	struct tval *v = tval_new(TV_FLOAT);

	v->u.f = f;
	return v;
}

struct tval *
tval_strn(const char *s, size_t len)
{
	char *p = xmalloc(len + 1);

	if (len > 0)
		memcpy(p, s, len);
	p[len] = '\0';
	return tval_str_take(p, len);
}

struct tval *
tval_str(const char *s)
{
	return tval_strn(s, strlen(s));
}

struct tval *
tval_str_take(char *p, size_t len)
{
	struct tval *v = tval_new(TV_STRING);

	if (p == NULL) {
		p = xmalloc(1);
		len = 0;
	}
	p[len] = '\0';
	v->u.s.p = p;
	v->u.s.len = len;
	return v;
}

struct tval *
tval_list(enum tval_elem elem)
{
	struct tval *v = tval_new(TV_LIST);

	v->u.list.elem = elem;
	return v;
}

void
tval_list_append(struct tval *l, struct tval *item)
{
	size_t n = l->u.list.n;

	/* grow in powers of two */
	if ((n & (n - 1)) == 0)
		l->u.list.v = xreallocarray(
		    l->u.list.v, n ? n * 2 : 1, sizeof(*l->u.list.v));
	l->u.list.v[n] = item;
	l->u.list.n = n + 1;
}

struct tval *
tval_map(void)
{
	return tval_new(TV_MAP);
}

/* the index of key, or where it would go (*found false) */
static size_t
map_search(const struct tval *m, const char *key, bool *found)
{
	size_t lo = 0, hi = m->u.map.n, mid;
	int c;

	*found = false;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = strcmp(key, m->u.map.keys[mid]);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

void
tval_map_set(struct tval *m, const char *key, struct tval *val)
{
	bool found;
	size_t i = map_search(m, key, &found), n = m->u.map.n;

	if (found) {
		tval_unref(m->u.map.vals[i]);
		m->u.map.vals[i] = val;
		return;
	}
	if ((n & (n - 1)) == 0) {
		m->u.map.keys = xreallocarray(
		    m->u.map.keys, n ? n * 2 : 1, sizeof(*m->u.map.keys));
		m->u.map.vals = xreallocarray(
		    m->u.map.vals, n ? n * 2 : 1, sizeof(*m->u.map.vals));
	}
	memmove(&m->u.map.keys[i + 1], &m->u.map.keys[i],
	    (n - i) * sizeof(*m->u.map.keys));
	memmove(&m->u.map.vals[i + 1], &m->u.map.vals[i],
	    (n - i) * sizeof(*m->u.map.vals));
	m->u.map.keys[i] = xstrdup(key);
	m->u.map.vals[i] = val;
	m->u.map.n = n + 1;
}

struct tval *
tval_map_get(const struct tval *m, const char *key)
{
	bool found;
	size_t i;

	if (m == NULL || m->kind != TV_MAP)
		return NULL;
	i = map_search(m, key, &found);
	return found ? m->u.map.vals[i] : NULL;
}

struct tval *
tval_kv(const char *key, const char *value)
{
	struct tval *v = tval_new(TV_KV);

	v->u.kv.key = xstrdup(key);
	v->u.kv.value = xstrdup(value);
	return v;
}

struct tval *
tval_time(const struct timespec *ts, int utc_offset, const char *zone)
{
	struct tval *v = tval_new(TV_TIME);

	v->u.time.ts = *ts;
	v->u.time.utc_offset = utc_offset;
	snprintf(v->u.time.zone, sizeof(v->u.time.zone), "%s",
	    zone != NULL ? zone : "");
	return v;
}

struct tval *
tval_ref(struct tval *v)
{
	if (v != NULL)
		v->refs++;
	return v;
}

/*
 * Frees without recursion: a container's items go on a list of values to
 * release, so a deeply nested value cannot exhaust the stack.
 */
void
tval_unref(struct tval *v)
{
	struct tval **todo = NULL;
	size_t ntodo = 0, cap = 0, i;

	for (;;) {
		if (v != NULL && --v->refs == 0) {
			switch (v->kind) {
			case TV_STRING:
				free(v->u.s.p);
				break;
			case TV_LIST:
			case TV_MAP: {
				size_t n = v->kind == TV_LIST ? v->u.list.n
				                              : v->u.map.n;
				struct tval **items = v->kind == TV_LIST
				    ? v->u.list.v
				    : v->u.map.vals;

				if (ntodo + n > cap) {
					while (ntodo + n > cap)
						cap = cap ? cap * 2 : 16;
					todo = xreallocarray(
					    todo, cap, sizeof(*todo));
				}
				for (i = 0; i < n; i++)
					todo[ntodo++] = items[i];
				if (v->kind == TV_MAP) {
					for (i = 0; i < n; i++)
						free(v->u.map.keys[i]);
					free(v->u.map.keys);
				}
				free(items);
				break;
			}
			case TV_KV:
				free(v->u.kv.key);
				free(v->u.kv.value);
				break;
			default:
				break;
			}
			free(v);
		}
		if (ntodo == 0)
			break;
		v = todo[--ntodo];
	}
	free(todo);
}

const char *
tval_type_name(const struct tval *v)
{
	if (v == NULL)
		return "<nil>";
	switch (v->kind) {
	case TV_NIL:
		return "<nil>";
	case TV_BOOL:
		return "bool";
	case TV_INT:
		return "int";
	case TV_FLOAT:
		return "float64";
	case TV_STRING:
		return "string";
	case TV_LIST:
		switch (v->u.list.elem) {
		case TVE_STRING:
			return "[]string";
		case TVE_KV:
			return "[]memkv.KVPair";
		default:
			return "[]interface {}";
		}
	case TV_MAP:
		return "map[string]interface {}";
	case TV_KV:
		return "memkv.KVPair";
	case TV_TIME:
		return "time.Time";
	}
	return "<nil>";
}

bool
tval_truth(const struct tval *v)
{
	if (v == NULL)
		return false;
	switch (v->kind) {
	case TV_NIL:
		return false;
	case TV_BOOL:
		return v->u.b;
	case TV_INT:
		return v->u.i != 0;
	case TV_FLOAT:
		return v->u.f != 0;
	case TV_STRING:
		return v->u.s.len > 0;
	case TV_LIST:
		return v->u.list.n > 0;
	case TV_MAP:
		return v->u.map.n > 0;
	case TV_KV:
	case TV_TIME:
		return true; /* structs are always true */
	}
	return false;
}

/* fmt's %v of a float64: strconv 'g' shortest; "+Inf" keeps its sign */
static void
print_float(struct tbuf *b, double f)
{
	struct tbuf t = {0};

	tfmt_float(&t, f, 'g', -1);
	if (t.p[0] == '+' && t.p[1] != 'I')
		tbuf_add(b, t.p + 1, t.len - 1);
	else
		tbuf_add(b, t.p, t.len);
	tbuf_free(&t);
}

/*
 * The lowest address this thread's stack may use, plus the reserve;
 * computed once per thread (glibc reads /proc for the main thread).
 */
uintptr_t
tfmt_stack_limit(void)
{
	static __thread uintptr_t cached;
	static __thread bool done;
	pthread_attr_t attr;
	void *addr;
	size_t size, reserve = TMPL_STACK_RESERVE;

	if (done)
		return cached;
	done = true;
	/* unknown: allow TMPL_STACK_GUESS bytes below this first caller */
	cached =
	    (uintptr_t)__builtin_frame_address(0) - TMPL_STACK_GUESS + reserve;
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return cached;
	if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
		if (reserve > size / 2)
			reserve = size / 2;
		cached = (uintptr_t)addr + reserve;
	}
	pthread_attr_destroy(&attr);
	return cached;
}

bool
tfmt_too_deep(int depth)
{
	return depth >= TFMT_CHECK_DEPTH &&
	    (uintptr_t)__builtin_frame_address(0) < tfmt_stack_limit();
}

static void
print_depth(struct tbuf *b, const struct tval *v, int depth)
{
	size_t i;

	if (v == NULL) {
		tbuf_adds(b, "<nil>");
		return;
	}
	switch (v->kind) {
	case TV_NIL:
		tbuf_adds(b, "<nil>");
		break;
	case TV_BOOL:
		tbuf_adds(b, v->u.b ? "true" : "false");
		break;
	case TV_INT:
		tbuf_addf(b, "%lld", (long long)v->u.i);
		break;
	case TV_FLOAT:
		print_float(b, v->u.f);
		break;
	case TV_STRING:
		tbuf_add(b, v->u.s.p, v->u.s.len);
		break;
	case TV_LIST:
		if (tfmt_too_deep(depth)) {
			tbuf_adds(b, "[...]");
			break;
		}
		tbuf_add(b, "[", 1);
		for (i = 0; i < v->u.list.n; i++) {
			if (i > 0)
				tbuf_add(b, " ", 1);
			print_depth(b, v->u.list.v[i], depth + 1);
		}
		tbuf_add(b, "]", 1);
		break;
	case TV_MAP:
		if (tfmt_too_deep(depth)) {
			tbuf_adds(b, "map[...]");
			break;
		}
		tbuf_adds(b, "map[");
		for (i = 0; i < v->u.map.n; i++) {
			if (i > 0)
				tbuf_add(b, " ", 1);
			tbuf_adds(b, v->u.map.keys[i]);
			tbuf_add(b, ":", 1);
			print_depth(b, v->u.map.vals[i], depth + 1);
		}
		tbuf_add(b, "]", 1);
		break;
	case TV_KV:
		tbuf_add(b, "{", 1);
		tbuf_adds(b, v->u.kv.key);
		tbuf_add(b, " ", 1);
		tbuf_adds(b, v->u.kv.value);
		tbuf_add(b, "}", 1);
		break;
	case TV_TIME:
		tval_time_string(b, v);
		break;
	}
}

void
tval_print(struct tbuf *b, const struct tval *v)
{
	print_depth(b, v, 0);
}
