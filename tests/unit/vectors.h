/*
 * Helpers shared by the UPDATE tests: hex vectors, prefixes and addresses.
 */
#ifndef PODMESH_TEST_VECTORS_H
#define PODMESH_TEST_VECTORS_H

#include <stdio.h>
#include <string.h>

#include "bgp/wire.h"

/* hex with optional spaces into out; returns the byte count */
static inline size_t
hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;
	unsigned int v;

	while (*s != '\0') {
		if (*s == ' ' || *s == '\n' || *s == '\t') {
			s++;
			continue;
		}
		assert_true(sscanf(s, "%2x", &v) == 1);
		assert_true(n < max);
		out[n++] = v;
		s += 2;
	}
	return n;
}

static inline struct prefix
pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, &p), 0);
	return p;
}

static inline void
assert_prefix(const struct nlri *n, const char *s, uint32_t pid)
{
	struct prefix p = pfx(s);
	char a[PREFIX_STRLEN], b[PREFIX_STRLEN];

	prefix_ntop(&n->p, a, sizeof(a));
	prefix_ntop(&p, b, sizeof(b));
	assert_string_equal(a, b);
	assert_int_equal(prefix_cmp(&n->p, &p), 0);
	assert_int_equal(n->path_id, pid);
}

static inline void
assert_addr(const struct addr *a, const char *s)
{
	char buf[ADDR_STRLEN];

	if (s == NULL) {
		assert_int_equal(a->family, 0);
		return;
	}
	assert_string_equal(addr_ntop(a, buf, sizeof(buf)), s);
}

/* an UPDATE body from its three sections in hex */
static inline size_t
body(uint8_t *out, size_t max, const char *wd, const char *attrs,
    const char *nlri)
{
	size_t n = 0, l;

	l = hex(wd, out + 2, max - 2);
	out[0] = l >> 8;
	out[1] = l & 0xff;
	n = 2 + l;
	l = hex(attrs, out + n + 2, max - n - 2);
	out[n] = l >> 8;
	out[n + 1] = l & 0xff;
	n += 2 + l;
	n += hex(nlri, out + n, max - n);
	return n;
}

static inline int
parse(const struct update_ctx *ctx, const char *wd, const char *attrs,
    const char *nlri, struct update *u, struct bgp_err *e)
{
	uint8_t buf[8192];
	struct ibuf b;
	size_t n = body(buf, sizeof(buf), wd, attrs, nlri);

	memset(e, 0, sizeof(*e));
	ibuf_from_buffer(&b, buf, n);
	return update_parse(&b, ctx, u, e);
}

#endif
