/*
 * confd's memkv store (kelseyhightower/memkv 0.1.x as confd and Calico use
 * it) over a sorted array of keys, with Go's path.Clean, path.Join,
 * path.Dir, path.Base and path.Match that its semantics rest on, and
 * confd's selection of the keys one template resource sees.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "confd/confd.h"
#include "confd/goutf8.h"
#include "lib/xmalloc.h"

/* ---- Go's path package ---- */

char *
confd_path_clean(const char *path)
{
	size_t n = strlen(path), r = 0, w = 0, dotdot = 0;
	bool rooted;
	char *out;

	if (n == 0)
		return xstrdup(".");
	rooted = path[0] == '/';
	out = xmalloc(n + 2);
	if (rooted) {
		out[w++] = '/';
		r = dotdot = 1;
	}
	while (r < n) {
		if (path[r] == '/')
			r++;
		else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/'))
			r++;
		else if (path[r] == '.' && path[r + 1] == '.' &&
		    (r + 2 == n || path[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				w--;
				while (w > dotdot && out[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					out[w++] = '/';
				out[w++] = '.';
				out[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				out[w++] = '/';
			for (; r < n && path[r] != '/'; r++)
				out[w++] = path[r];
		}
	}
	if (w == 0)
		out[w++] = '.';
	out[w] = '\0';
	return out;
}

/* path.Join("/", a, b) */
char *
confd_path_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *buf, *out;

	buf = xmalloc(la + lb + 3);
	buf[0] = '/';
	memcpy(buf + 1, a, la);
	buf[1 + la] = '/';
	memcpy(buf + 2 + la, b, lb);
	buf[2 + la + lb] = '\0';
	out = confd_path_clean(buf);
	free(buf);
	return out;
}

/* Go's path.Dir */
static char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	size_t n = slash ? (size_t)(slash - path) + 1 : 0;
	char *d = xstrndup(path, n), *out;

	out = confd_path_clean(d);
	free(d);
	return out;
}

/* Go's path.Base */
static char *
path_base(const char *path)
{
	size_t n = strlen(path);
	const char *p;

	if (n == 0)
		return xstrdup(".");
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n == 0)
		return xstrdup("/");
	for (p = path + n; p > path && p[-1] != '/'; p--)
		;
	return xstrndup(p, (size_t)(path + n - p));
}

char *
confd_path_base(const char *path)
{
	return path_base(path);
}

char *
confd_path_dir(const char *path)
{
	return path_dir(path);
}

/*
 * Go's getEsc: one possibly escaped rune of a character class.  0, or -1
 * for ErrBadPattern.
 */
static int
match_getesc(const char **chunk, const char *end, uint32_t *r)
{
	const char *c = *chunk;
	size_t size;

	if (c == end || *c == '-' || *c == ']')
		return -1;
	if (*c == '\\') {
		c++;
		if (c == end)
			return -1;
	}
	*r = go_utf8_decode(c, (size_t)(end - c), &size);
	if (*r == 0xfffd && size == 1)
		return -1;
	c += size;
	*chunk = c;
	if (c == end)
		return -1;
	return 0;
}

/*
 * Go's matchChunk: 1 with *rest set when chunk matches a prefix of s, 0
 * when not, -1 for a bad pattern (checked even after a mismatch).
 */
static int
match_chunk(const char *chunk, const char *cend, const char *s,
    const char *send, const char **rest)
{
	bool failed = false, negated, match;
	uint32_t r, lo, hi;
	size_t size, nrange;

	while (chunk < cend) {
		if (!failed && s == send)
			failed = true;
		switch (*chunk) {
		case '[':
			r = 0;
			if (!failed) {
				r = go_utf8_decode(
				    s, (size_t)(send - s), &size);
				s += size;
			}
			chunk++;
			negated = false;
			if (chunk < cend && *chunk == '^') {
				negated = true;
				chunk++;
			}
			match = false;
			nrange = 0;
			for (;;) {
				if (chunk < cend && *chunk == ']' &&
				    nrange > 0) {
					chunk++;
					break;
				}
				if (match_getesc(&chunk, cend, &lo) == -1)
					return -1;
				hi = lo;
				if (*chunk == '-') {
					chunk++;
					if (match_getesc(&chunk, cend, &hi) ==
					    -1)
						return -1;
				}
				if (lo <= r && r <= hi)
					match = true;
				nrange++;
			}
			if (match == negated)
				failed = true;
			break;
		case '?':
			if (!failed) {
				if (*s == '/')
					failed = true;
				go_utf8_decode(s, (size_t)(send - s), &size);
				s += size;
			}
			chunk++;
			break;
		case '\\':
			chunk++;
			if (chunk == cend)
				return -1;
			/* FALLTHROUGH */
		default:
			if (!failed) {
				if (*chunk != *s)
					failed = true;
				s++;
			}
			chunk++;
			break;
		}
	}
	if (failed)
		return 0;
	*rest = s;
	return 1;
}

/* Go's scanChunk */
static const char *
match_scan(
    const char *pattern, const char *pend, bool *star, const char **chunk)
{
	bool inrange = false;
	const char *p;

	*star = false;
	while (pattern < pend && *pattern == '*') {
		pattern++;
		*star = true;
	}
	*chunk = pattern;
	for (p = pattern; p < pend; p++) {
		if (*p == '\\') {
			if (p + 1 < pend)
				p++;
		} else if (*p == '[')
			inrange = true;
		else if (*p == ']')
			inrange = false;
		else if (*p == '*' && !inrange)
			break;
	}
	return p;
}

int
confd_path_match(const char *pattern, const char *name)
{
	const char *pend = pattern + strlen(pattern);
	const char *nend = name + strlen(name);
	const char *chunk, *cend, *t;
	bool star;
	size_t i;
	int m;

next:
	while (pattern < pend) {
		cend = match_scan(pattern, pend, &star, &chunk);
		pattern = cend;
		if (star && chunk == cend)
			return memchr(name, '/', (size_t)(nend - name)) == NULL;
		m = match_chunk(chunk, cend, name, nend, &t);
		if (m == 1 && (t == nend || pattern < pend)) {
			name = t;
			continue;
		}
		if (m == -1)
			return -1;
		if (star) {
			for (i = 0; name + i < nend && name[i] != '/'; i++) {
				m = match_chunk(
				    chunk, cend, name + i + 1, nend, &t);
				if (m == 1) {
					if (pattern == pend && t < nend)
						continue;
					name = t;
					goto next;
				}
				if (m == -1)
					return -1;
			}
		}
		/* the rest of the pattern must still be well formed */
		while (pattern < pend) {
			cend = match_scan(pattern, pend, &star, &chunk);
			pattern = cend;
			if (match_chunk(chunk, cend, "", "", &t) == -1)
				return -1;
		}
		return 0;
	}
	return name == nend;
}

/* ---- the store ---- */

size_t
confd_kvs_lower(const struct confd_kvs *kvs, const char *key)
{
	size_t lo = 0, hi = kvs->n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (strcmp(kvs->v[mid].key, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
confd_kvs_set(struct confd_kvs *kvs, const char *key, const char *value)
{
	char *k = confd_path_clean(key);
	size_t i = confd_kvs_lower(kvs, k);

	if (i < kvs->n && strcmp(kvs->v[i].key, k) == 0) {
		free(k);
		free(kvs->v[i].value);
		kvs->v[i].value = xstrdup(value);
		return;
	}
	if (kvs->n == kvs->cap) {
		kvs->cap = kvs->cap ? kvs->cap * 2 : 16;
		kvs->v = xreallocarray(kvs->v, kvs->cap, sizeof(*kvs->v));
	}
	memmove(&kvs->v[i + 1], &kvs->v[i], (kvs->n - i) * sizeof(*kvs->v));
	kvs->v[i].key = k;
	kvs->v[i].value = xstrdup(value);
	kvs->n++;
}

const char *
confd_kvs_get(const struct confd_kvs *kvs, const char *key)
{
	size_t i = confd_kvs_lower(kvs, key);

	if (i < kvs->n && strcmp(kvs->v[i].key, key) == 0)
		return kvs->v[i].value;
	return NULL;
}

void
confd_kvs_clean(struct confd_kvs *kvs)
{
	size_t i;

	for (i = 0; i < kvs->n; i++) {
		free(kvs->v[i].key);
		free(kvs->v[i].value);
	}
	free(kvs->v);
	memset(kvs, 0, sizeof(*kvs));
}

bool
confd_kvs_equal(const struct confd_kvs *a, const struct confd_kvs *b)
{
	size_t i;

	if (a->n != b->n)
		return false;
	for (i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    strcmp(a->v[i].value, b->v[i].value) != 0)
			return false;
	return true;
}

void
confd_kvs_select(struct confd_kvs *out, const struct confd_kvs *all,
    const char *prefix, char *const *keys, size_t nkeys)
{
	char *p = confd_path_join(prefix, ""), *full, *k;
	const char *key, *rest;
	size_t i, j, plen = strlen(p), flen;

	for (i = 0; i < nkeys; i++) {
		full = confd_path_join(p, keys[i]);
		flen = strlen(full);
		for (j = confd_kvs_lower(all, full); j < all->n; j++) {
			key = all->v[j].key;
			if (strncmp(key, full, flen) != 0)
				break;
			if (key[flen] != '\0' && key[flen] != '/' &&
			    strcmp(full, "/") != 0)
				continue;
			rest = key;
			if (strcmp(p, "/") != 0 && strncmp(key, p, plen) == 0)
				rest = key + plen;
			k = confd_path_join(rest, "");
			confd_kvs_set(out, k, all->v[j].value);
			free(k);
		}
		free(full);
	}
	free(p);
}

/* ---- memkv's List and ListDir ---- */

struct terms {
	char *buf; /* the cleaned path, '/' replaced by NUL */
	char **v;
	size_t n;
};

/* strings.Split(path.Clean(p), "/") */
static void
terms_of(struct terms *t, char *cleaned)
{
	char *s;

	t->buf = cleaned;
	t->n = 1;
	for (s = cleaned; *s != '\0'; s++)
		if (*s == '/')
			t->n++;
	t->v = xreallocarray(NULL, t->n, sizeof(*t->v));
	t->n = 0;
	t->v[t->n++] = cleaned;
	for (s = cleaned; *s != '\0'; s++)
		if (*s == '/') {
			*s = '\0';
			t->v[t->n++] = s + 1;
		}
}

static void
terms_free(struct terms *t)
{
	free(t->buf);
	free(t->v);
}

static bool
terms_prefix(const struct terms *prefix, const struct terms *test)
{
	size_t i;

	if (test->n < prefix->n)
		return false;
	for (i = 0; i < prefix->n; i++)
		if (strcmp(prefix->v[i], test->v[i]) != 0)
			return false;
	return true;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **
confd_kvs_list(
    const struct confd_kvs *kvs, const char *path, bool dir, size_t *np)
{
	struct terms prefix, target;
	char **names = NULL, *name;
	const char *key, *s;
	size_t i, n = 0, w, plen = strlen(path);

	terms_of(&prefix, confd_path_clean(path));
	for (i = 0; i < kvs->n; i++) {
		key = kvs->v[i].key;
		name = NULL;
		if (!dir) {
			if (strcmp(key, path) == 0)
				name = path_base(key);
			else {
				terms_of(&target, path_dir(key));
				if (terms_prefix(&prefix, &target)) {
					s = key;
					if (strncmp(s, path, plen) == 0)
						s += plen;
					if (*s == '/')
						s++;
					name = xstrndup(s, strcspn(s, "/"));
				}
				terms_free(&target);
			}
		} else if (strncmp(key, path, plen) == 0) {
			terms_of(&target, path_dir(key));
			if (terms_prefix(&prefix, &target) &&
			    target.n > prefix.n)
				name = xstrdup(target.v[prefix.n]);
			terms_free(&target);
		}
		if (name != NULL) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = name;
		}
	}
	terms_free(&prefix);
	if (n > 1)
		qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0, w = 0; i < n; i++) {
		if (w > 0 && strcmp(names[w - 1], names[i]) == 0)
			free(names[i]);
		else
			names[w++] = names[i];
	}
	*np = w;
	return names;
}
