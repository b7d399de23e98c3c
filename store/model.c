/*
 * The generic half of Calico's v3 resource model (model.h, calico.md §1):
 * the decoding context and its field paths, the table-driven codec every
 * kind's spec goes through, metadata, the table of kinds, the v3 resource
 * keys, and resource_decode()/resource_encode() which dispatch on kind.
 * The kinds themselves (their tables and rules) live in model_<kind>.c.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/model.h"
#include "store/model_int.h"

/* ---- decoding context ---- */

void
mctx_init(struct mctx *c, int flags, const char *path, char *err, size_t errlen)
{
	c->flags = flags;
	c->err = err;
	c->errlen = errlen;
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->pathlen = strlen(c->path);
	c->errpath[0] = '\0';
	if (errlen > 0)
		err[0] = '\0';
}

/* n bytes were appended at old (or would have been, had they fit) */
static size_t
mctx_appended(struct mctx *c, size_t old, int n)
{
	if (n < 0 || old + n >= sizeof(c->path))
		c->pathlen = sizeof(c->path) - 1; /* truncated, still a path */
	else
		c->pathlen = old + n;
	return old;
}

size_t
mctx_push(struct mctx *c, const char *key)
{
	size_t old = c->pathlen;

	return mctx_appended(c, old,
	    snprintf(c->path + old, sizeof(c->path) - old, "%s%s",
	        old > 0 ? "." : "", key));
}

size_t
mctx_push_index(struct mctx *c, size_t i)
{
	size_t old = c->pathlen;

	return mctx_appended(
	    c, old, snprintf(c->path + old, sizeof(c->path) - old, "[%zu]", i));
}

void
mctx_pop(struct mctx *c, size_t old)
{
	c->pathlen = old;
	c->path[old] = '\0';
}

static int
mctx_verr(struct mctx *c, const char *fmt, va_list ap)
{
	char msg[MODEL_ERRLEN];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(c->errpath, sizeof(c->errpath), "%s", c->path);
	if (c->errlen == 0)
		return -1;
	if (c->pathlen > 0)
		snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
	else
		snprintf(c->err, c->errlen, "%s", msg);
	return -1;
}

int
mctx_err(struct mctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	mctx_verr(c, fmt, ap);
	va_end(ap);
	return -1;
}

int
mctx_err_at(struct mctx *c, const char *field, const char *fmt, ...)
{
	size_t old = mctx_push(c, field);
	va_list ap;

	va_start(ap, fmt);
	mctx_verr(c, fmt, ap);
	va_end(ap);
	mctx_pop(c, old);
	return -1;
}

const char *
mctx_repr(const json_t *v, char *buf, size_t len)
{
	const char *s = NULL;

	switch (json_typeof(v)) {
	case JSON_STRING:
		s = json_string_value(v);
		if (strlen(s) > 80)
			snprintf(buf, len, "\"%.77s...\"", s);
		else
			snprintf(buf, len, "\"%s\"", s);
		break;
	case JSON_INTEGER:
		snprintf(
		    buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%g", json_real_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_NULL:
		snprintf(buf, len, "null");
		break;
	case JSON_ARRAY:
		snprintf(buf, len, "a list");
		break;
	case JSON_OBJECT:
		snprintf(buf, len, "a map");
		break;
	}
	return buf;
}

/* ---- scalar syntax ---- */

bool
mval_in(const char *s, const char *const *list)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* "Always, CrossSubnet or Never" */
static const char *
mval_choices(const char *const *names, char *buf, size_t len)
{
	size_t n = 0, i, off = 0;

	while (names[n] != NULL)
		n++;
	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++)
		off += snprintf(buf + off, len - off, "%s%s",
		    i == 0           ? ""
		        : i == n - 1 ? " or "
		                     : ", ",
		    names[i]);
	return buf;
}

static bool
mval_digits(const char *s, size_t maxlen)
{
	size_t n = strspn(s, "0123456789");

	return n > 0 && n <= maxlen && s[n] == '\0';
}

int
model_asn_parse(const char *s, uint32_t *out)
{
	char hi[8], *dot;
	unsigned long long v;
	unsigned long a, b;

	if ((dot = strchr(s, '.')) != NULL) {
		/* asdot, RFC 5396, as Calico's numorstring accepts it */
		if ((size_t)(dot - s) >= sizeof(hi))
			return -1;
		memcpy(hi, s, dot - s);
		hi[dot - s] = '\0';
		if (!mval_digits(hi, 5) || !mval_digits(dot + 1, 5))
			return -1;
		a = strtoul(hi, NULL, 10);
		b = strtoul(dot + 1, NULL, 10);
		if (a > 65535 || b > 65535)
			return -1;
		*out = a << 16 | b;
		return 0;
	}
	if (!mval_digits(s, 10))
		return -1;
	v = strtoull(s, NULL, 10);
	if (v > UINT32_MAX)
		return -1;
	*out = v;
	return 0;
}

int
model_addr_parse(const char *s, struct addr *a)
{
	if (strchr(s, '%') != NULL)
		return -1;
	return addr_parse(s, a);
}

/* strictly ADDR/LEN with LEN in decimal digits; host bits allowed */
int
model_prefix_parse(const char *s, struct prefix *p)
{
	const char *slash = strchr(s, '/');

	if (slash == NULL || !mval_digits(slash + 1, 3) ||
	    strchr(s, '%') != NULL)
		return -1;
	return prefix_parse(s, p);
}

/* ADDR or ADDR/LEN; a bare address has a full-length prefix */
static int
mval_ifaddr_parse(const char *s, struct prefix *p)
{
	if (strchr(s, '/') != NULL)
		return model_prefix_parse(s, p);
	memset(p, 0, sizeof(*p));
	if (model_addr_parse(s, &p->a) == -1)
		return -1;
	p->len = addr_maxlen(p->a.family);
	return 0;
}

/*
 * Go's net.ParseMAC, which Calico's "mac" validation calls: 6, 8 or 20
 * octets as xx:xx:.. or xx-xx-.. (one separator throughout), or as
 * dotted groups of four hex digits, xxxx.xxxx.xxxx.
 */
static bool
mac_valid(const char *s)
{
	size_t len = strlen(s), n, i, grp;
	char sep;

	if (len < 14)
		return false;
	if (s[2] == ':' || s[2] == '-') {
		sep = s[2];
		grp = 3;
	} else if (s[4] == '.') {
		sep = '.';
		grp = 5;
	} else
		return false;
	if ((len + 1) % grp != 0)
		return false;
	n = (len + 1) / grp * (grp - 1) / 2; /* octets */
	if (n != 6 && n != 8 && n != 20)
		return false;
	for (i = 0; i < len; i++) {
		if (i % grp == grp - 1) {
			if (s[i] != sep)
				return false;
		} else if (!isxdigit((unsigned char)s[i]))
			return false;
	}
	return true;
}

/* k8s IsQualifiedName's name part, and label values */
static bool
k8s_name_part(const char *s, size_t len, bool empty_ok)
{
	size_t i;

	if (len == 0)
		return empty_ok;
	if (len > 63 || !isalnum((unsigned char)s[0]) ||
	    !isalnum((unsigned char)s[len - 1]))
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_' && s[i] != '.')
			return false;
	return true;
}

/* a DNS-1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static bool
dns_label(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!(s[i] >= 'a' && s[i] <= 'z') &&
		    !(s[i] >= '0' && s[i] <= '9') && s[i] != '-')
			return false;
	return true;
}

/* Calico's nameRegex: DNS-1123 labels joined by dots, 253 bytes at most */
bool
model_name_valid(const char *s)
{
	const char *dot;
	size_t len = strlen(s);

	if (len == 0 || len > MODEL_NAME_MAX)
		return false;
	for (;;) {
		dot = strchr(s, '.');
		if (!dns_label(s, dot != NULL ? (size_t)(dot - s) : strlen(s)))
			return false;
		if (dot == NULL)
			return true;
		s = dot + 1;
	}
}

static bool
label_key_valid(const char *k)
{
	const char *slash = strchr(k, '/');
	char prefix[MODEL_NAME_MAX + 1];

	if (slash != NULL) {
		if ((size_t)(slash - k) > MODEL_NAME_MAX)
			return false;
		memcpy(prefix, k, slash - k);
		prefix[slash - k] = '\0';
		if (!model_name_valid(prefix))
			return false;
		k = slash + 1;
	}
	return k8s_name_part(k, strlen(k), false);
}

/* ---- value decoders ---- */

int
mval_string(struct mctx *c, const json_t *v, const char **out)
{
	char r[96];

	if (!json_is_string(v))
		return mctx_err(
		    c, "expected a string, got %s", mctx_repr(v, r, sizeof(r)));
	*out = json_string_value(v);
	return 0;
}

int
mval_bool(struct mctx *c, const json_t *v, bool *out)
{
	char r[96];

	if (!json_is_boolean(v))
		return mctx_err(c, "expected true or false, got %s",
		    mctx_repr(v, r, sizeof(r)));
	*out = json_is_true(v);
	return 0;
}

int
mval_tri(struct mctx *c, const json_t *v, enum model_tri *out)
{
	bool b = false;

	if (json_is_null(v)) {
		*out = MODEL_UNSET;
		return 0;
	}
	if (mval_bool(c, v, &b) == -1)
		return -1;
	*out = b ? MODEL_TRUE : MODEL_FALSE;
	return 0;
}

int
mval_prefix(struct mctx *c, const json_t *v, struct prefix *p)
{
	const char *s = NULL;

	if (mval_string(c, v, &s) == -1)
		return -1;
	if (model_prefix_parse(s, p) == -1)
		return mctx_err(c, "invalid CIDR \"%s\"", s);
	return 0;
}

json_t *
mval_prefix_json(const struct prefix *p)
{
	char buf[PREFIX_STRLEN];

	return json_string(prefix_ntop(p, buf, sizeof(buf)));
}

int
mval_labels(struct mctx *c, const json_t *v, struct model_labels *l)
{
	const char *key, *s = NULL;
	size_t old;
	json_t *x;
	char r[96];

	if (!json_is_object(v))
		return mctx_err(
		    c, "expected a map, got %s", mctx_repr(v, r, sizeof(r)));
	json_object_foreach((json_t *)v, key, x)
	{
		old = mctx_push(c, key);
		if (mval_string(c, x, &s) == -1) {
			mctx_pop(c, old);
			return -1;
		}
		mctx_pop(c, old);
		model_labels_set(l, key, s);
	}
	return 0;
}

json_t *
mval_labels_json(const struct model_labels *l)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; i < l->n; i++)
		json_object_set_new(o, l->v[i].key, json_string(l->v[i].value));
	return o;
}

void
mval_extra(json_t **extra, const char *key, json_t *v)
{
	if (*extra == NULL)
		*extra = json_object();
	json_object_set(*extra, key, v);
}

void
mval_merge_extra(json_t *o, const json_t *extra)
{
	const char *key;
	json_t *v;

	if (extra == NULL)
		return;
	json_object_foreach((json_t *)extra, key, v)
	{
		json_object_set(o, key, v);
	}
}

static int
mval_asn(struct mctx *c, const json_t *v, bool zero_ok, uint32_t *out)
{
	json_int_t i;
	uint32_t a;
	char r[96];

	if (json_is_integer(v)) {
		i = json_integer_value(v);
		if (i >= 0 && i <= UINT32_MAX && (i != 0 || zero_ok)) {
			*out = i;
			return 0;
		}
	} else if (json_is_string(v) &&
	    model_asn_parse(json_string_value(v), &a) == 0 &&
	    (a != 0 || zero_ok)) {
		*out = a;
		return 0;
	}
	if (json_is_real(v)) /* YAML read an unquoted 1.10 as 1.1 */
		return mctx_err(c,
		    "invalid AS number %s (quote an asdot AS number: \"1.10\")",
		    mctx_repr(v, r, sizeof(r)));
	return mctx_err(c, "invalid AS number %s", mctx_repr(v, r, sizeof(r)));
}

static int
mval_addr(struct mctx *c, const json_t *v, int family, struct addr *a)
{
	const char *s = NULL;

	if (mval_string(c, v, &s) == -1)
		return -1;
	if (*s == '\0') {
		memset(a, 0, sizeof(*a));
		return 0;
	}
	if (model_addr_parse(s, a) == -1)
		return mctx_err(c, "invalid IP address \"%s\"", s);
	if (family != 0 && a->family != family)
		return mctx_err(c, "\"%s\" is not an IPv%d address", s,
		    family == AF_INET ? 4 : 6);
	return 0;
}

static void
strlist_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* ---- the table codec ---- */

static const struct mfield *
mtable_find(const struct mtable *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->f[i].name, name) == 0)
			return &t->f[i];
	return NULL;
}

static int
mfield_decode_str(
    struct mctx *c, const struct mfield *f, const json_t *v, char **p)
{
	struct selector *sel;
	const char *s = NULL;
	char e[256], choices[256];

	if (mval_string(c, v, &s) == -1)
		return -1;
	if (*s == '\0')
		return 0; /* Go: "" is the same as absent */
	switch (f->type) {
	case MF_STR:
		if (f->names != NULL && !mval_in(s, f->names))
			return mctx_err(c, "invalid value \"%s\" (expected %s)",
			    s,
			    mval_choices(f->names, choices, sizeof(choices)));
		break;
	case MF_NAME:
		if (!model_name_valid(s))
			return mctx_err(c,
			    "invalid name \"%s\" (lower case letters, digits, "
			    "'-' and '.')",
			    s);
		break;
	case MF_SELECTOR:
		if ((sel = selector_parse(s, e, sizeof(e))) == NULL)
			return mctx_err(c, "invalid selector \"%s\": %s", s, e);
		selector_free(sel);
		break;
	case MF_MAC:
		if (!mac_valid(s))
			return mctx_err(c, "invalid MAC address \"%s\"", s);
		break;
	default:
		fatalx("%s: not a string field", __func__);
	}
	free(*p);
	*p = xstrdup(s);
	return 0;
}

static int
mfield_decode_uint(
    struct mctx *c, const struct mfield *f, const json_t *v, void *p)
{
	json_int_t i;
	char r[96];

	if (!json_is_integer(v))
		return mctx_err(
		    c, "expected a number, got %s", mctx_repr(v, r, sizeof(r)));
	i = json_integer_value(v);
	if (i < (json_int_t)f->min || i > (json_int_t)f->max)
		return mctx_err(c,
		    "%" JSON_INTEGER_FORMAT " is out of range (%u-%u)", i,
		    f->min, f->max);
	if (f->type == MF_U8)
		*(uint8_t *)p = i;
	else if (f->type == MF_U16)
		*(uint16_t *)p = i;
	else
		*(uint32_t *)p = i;
	return 0;
}

static int
mfield_decode_strlist(
    struct mctx *c, const struct mfield *f, const json_t *v, void *base)
{
	char ***pv = (char ***)((char *)base + f->off);
	size_t *pn = (size_t *)((char *)base + f->aux), i, old;
	const char *s = NULL;
	char r[96];

	if (!json_is_array(v))
		return mctx_err(
		    c, "expected a list, got %s", mctx_repr(v, r, sizeof(r)));
	strlist_free(*pv, *pn);
	*pn = 0;
	*pv = xcalloc(json_array_size(v) + 1, sizeof(char *));
	for (i = 0; i < json_array_size(v); i++) {
		old = mctx_push_index(c, i);
		if (mval_string(c, json_array_get(v, i), &s) == -1)
			return -1;
		mctx_pop(c, old);
		(*pv)[(*pn)++] = xstrdup(s);
	}
	return 0;
}

static int
mfield_decode(
    struct mctx *c, const struct mfield *f, const json_t *v, void *base)
{
	void *p = (char *)base + f->off;
	const char *s = NULL;
	char choices[256];
	int i;

	if (json_is_null(v))
		return 0; /* Go's encoding/json: null leaves the zero value */
	switch (f->type) {
	case MF_STR:
	case MF_NAME:
	case MF_SELECTOR:
	case MF_MAC:
		return mfield_decode_str(c, f, v, p);
	case MF_ENUM:
		if (mval_string(c, v, &s) == -1)
			return -1;
		if (*s == '\0')
			return 0;
		for (i = 1; f->names[i] != NULL; i++)
			if (strcmp(f->names[i], s) == 0) {
				*(int *)p = i;
				return 0;
			}
		return mctx_err(c, "invalid value \"%s\" (expected %s)", s,
		    mval_choices(f->names + 1, choices, sizeof(choices)));
	case MF_BOOL:
		return mval_bool(c, v, p);
	case MF_TRI:
		return mval_tri(c, v, p);
	case MF_ASN:
		return mval_asn(c, v, f->flags & MFF_ZERO, p);
	case MF_U8:
	case MF_U16:
	case MF_U32:
		return mfield_decode_uint(c, f, v, p);
	case MF_ADDR:
		return mval_addr(c, v, f->family, p);
	case MF_IFADDR:
		if (mval_string(c, v, &s) == -1)
			return -1;
		if (*s == '\0')
			return 0;
		if (mval_ifaddr_parse(s, p) == -1)
			return mctx_err(c, "invalid CIDR \"%s\"", s);
		if (f->family != 0 &&
		    ((struct prefix *)p)->a.family != f->family)
			return mctx_err(c, "\"%s\" is not an IPv%d address", s,
			    f->family == AF_INET ? 4 : 6);
		return 0;
	case MF_STRLIST:
		return mfield_decode_strlist(c, f, v, base);
	case MF_LABELS:
		return mval_labels(c, v, p);
	case MF_OBJ:
		*(bool *)((char *)base + f->aux) = true;
		return mtable_decode(c, f->sub, v, p);
	case MF_CUSTOM:
		return f->dec(c, v, base);
	}
	return 0;
}

static bool
mfield_missing(const json_t *v)
{
	return v == NULL || json_is_null(v) ||
	    (json_is_string(v) && *json_string_value(v) == '\0');
}

int
mtable_decode(
    struct mctx *c, const struct mtable *t, const json_t *obj, void *base)
{
	json_t **extra = (json_t **)((char *)base + t->extra_off);
	const struct mfield *f;
	const char *key;
	size_t i, old;
	json_t *v;
	char r[96];

	if (!json_is_object(obj))
		return mctx_err(
		    c, "expected a map, got %s", mctx_repr(obj, r, sizeof(r)));
	json_object_foreach((json_t *)obj, key, v)
	{
		old = mctx_push(c, key);
		if ((f = mtable_find(t, key)) != NULL) {
			if (mfield_decode(c, f, v, base) == -1)
				return -1;
		} else if ((c->flags & MODEL_STRICT) && !mval_in(key, t->known))
			return mctx_err(c, "unknown field");
		else
			mval_extra(extra, key, v);
		mctx_pop(c, old);
	}
	for (i = 0; i < t->n; i++)
		if ((t->f[i].flags & MFF_REQUIRED) &&
		    mfield_missing(json_object_get(obj, t->f[i].name)))
			return mctx_err_at(c, t->f[i].name, "required");
	return 0;
}

static json_t *
mfield_encode(const struct mfield *f, const void *base)
{
	const void *p = (const char *)base + f->off;
	bool always = f->flags & MFF_ALWAYS;
	char buf[PREFIX_STRLEN];
	const char *s = NULL;
	size_t i, n;
	json_t *a;

	switch (f->type) {
	case MF_STR:
	case MF_NAME:
	case MF_SELECTOR:
	case MF_MAC:
		s = *(char *const *)p;
		return s != NULL ? json_string(s)
		    : always     ? json_string("")
		                 : NULL;
	case MF_ENUM:
		return *(const int *)p != 0
		    ? json_string(f->names[*(const int *)p])
		    : NULL;
	case MF_BOOL:
		return *(const bool *)p || always
		    ? json_boolean(*(const bool *)p)
		    : NULL;
	case MF_TRI:
		return *(const enum model_tri *)p != MODEL_UNSET
		    ? json_boolean(*(const enum model_tri *)p == MODEL_TRUE)
		    : NULL;
	case MF_ASN:
	case MF_U32:
		return *(const uint32_t *)p != 0 || always
		    ? json_integer(*(const uint32_t *)p)
		    : NULL;
	case MF_U16:
		return *(const uint16_t *)p != 0
		    ? json_integer(*(const uint16_t *)p)
		    : NULL;
	case MF_U8:
		return *(const uint8_t *)p != 0
		    ? json_integer(*(const uint8_t *)p)
		    : NULL;
	case MF_ADDR:
		if (((const struct addr *)p)->family == 0)
			return always ? json_string("") : NULL;
		return json_string(addr_ntop(p, buf, sizeof(buf)));
	case MF_IFADDR:
		if (((const struct prefix *)p)->a.family == 0)
			return NULL;
		return json_string(prefix_ntop(p, buf, sizeof(buf)));
	case MF_STRLIST:
		n = *(const size_t *)((const char *)base + f->aux);
		if (n == 0)
			return NULL;
		a = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(
			    a, json_string((*(char *const *const *)p)[i]));
		return a;
	case MF_LABELS:
		if (((const struct model_labels *)p)->n == 0)
			return NULL;
		return mval_labels_json(p);
	case MF_OBJ:
		if (!*(const bool *)((const char *)base + f->aux))
			return NULL;
		return mtable_encode(f->sub, p);
	case MF_CUSTOM:
		return f->enc(base);
	}
	return NULL;
}

json_t *
mtable_encode(const struct mtable *t, const void *base)
{
	json_t *o = json_object(), *v;
	size_t i;

	for (i = 0; i < t->n; i++)
		if ((v = mfield_encode(&t->f[i], base)) != NULL)
			json_object_set_new(o, t->f[i].name, v);
	mval_merge_extra(
	    o, *(json_t *const *)((const char *)base + t->extra_off));
	return o;
}

void
mtable_clean(const struct mtable *t, void *base)
{
	json_t **extra = (json_t **)((char *)base + t->extra_off);
	const struct mfield *f;
	size_t i;
	void *p;

	for (i = 0; i < t->n; i++) {
		f = &t->f[i];
		p = (char *)base + f->off;
		switch (f->type) {
		case MF_STR:
		case MF_NAME:
		case MF_SELECTOR:
		case MF_MAC:
			free(*(char **)p);
			*(char **)p = NULL;
			break;
		case MF_STRLIST:
			strlist_free(
			    *(char ***)p, *(size_t *)((char *)base + f->aux));
			*(char ***)p = NULL;
			*(size_t *)((char *)base + f->aux) = 0;
			break;
		case MF_LABELS:
			model_labels_clean(p);
			break;
		case MF_OBJ:
			mtable_clean(f->sub, p);
			break;
		case MF_CUSTOM:
			if (f->clean != NULL)
				f->clean(base);
			break;
		default:
			break;
		}
	}
	json_decref(*extra);
	*extra = NULL;
}

/* ---- labels ---- */

const char *
model_labels_get(const struct model_labels *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0)
			return l->v[i].value;
	return NULL;
}

void
model_labels_set(struct model_labels *l, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i].key, key) == 0) {
			free((char *)l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

void
model_labels_view(const struct model_labels *l, struct labels *view)
{
	memset(view, 0, sizeof(*view));
	view->v = l->v;
	view->n = l->n;
}

void
model_labels_clean(struct model_labels *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free((char *)l->v[i].key);
		free((char *)l->v[i].value);
	}
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---- metadata ---- */

static const char *const meta_known[] = {"generation", "finalizers",
    "ownerReferences", "deletionTimestamp", "deletionGracePeriodSeconds",
    "managedFields", "selfLink", "generateName", "clusterName", NULL};

static const struct mfield meta_fields[] = {
    {.name = "name", .type = MF_NAME, .off = offsetof(struct model_meta, name)},
    {.name = "namespace",
        .type = MF_STR,
        .off = offsetof(struct model_meta, namespace)},
    {.name = "uid", .type = MF_STR, .off = offsetof(struct model_meta, uid)},
    {.name = "creationTimestamp",
        .type = MF_STR,
        .off = offsetof(struct model_meta, creation_timestamp)},
    {.name = "resourceVersion",
        .type = MF_STR,
        .off = offsetof(struct model_meta, resource_version)},
    {.name = "labels",
        .type = MF_LABELS,
        .off = offsetof(struct model_meta, labels)},
    {.name = "annotations",
        .type = MF_LABELS,
        .off = offsetof(struct model_meta, annotations)},
};

static const struct mtable meta_table =
    MTABLE(meta_fields, struct model_meta, meta_known);

static int
meta_check(
    struct mctx *c, const struct model_kind_info *k, struct model_meta *m)
{
	size_t i, old;
	int rc = 0;

	if (m->name == NULL)
		return mctx_err_at(c, "name", "required");
	if (k->namespaced && m->namespace == NULL)
		return mctx_err_at(c, "namespace", "required");
	if (!k->namespaced && m->namespace != NULL)
		return mctx_err_at(
		    c, "namespace", "%s is not namespaced", k->name);
	if (m->namespace != NULL &&
	    (strlen(m->namespace) > 63 ||
	        !dns_label(m->namespace, strlen(m->namespace))))
		return mctx_err_at(c, "namespace",
		    "invalid namespace \"%s\" (a DNS label: lower case "
		    "letters, digits and '-')",
		    m->namespace);
	old = mctx_push(c, "labels");
	for (i = 0; i < m->labels.n && rc == 0; i++) {
		if (!label_key_valid(m->labels.v[i].key))
			rc = mctx_err_at(c, m->labels.v[i].key,
			    "invalid label key \"%s\"", m->labels.v[i].key);
		else if (!k8s_name_part(m->labels.v[i].value,
		             strlen(m->labels.v[i].value), true))
			rc = mctx_err_at(c, m->labels.v[i].key,
			    "invalid label value \"%s\"", m->labels.v[i].value);
	}
	mctx_pop(c, old);
	return rc;
}

/* ---- kinds ---- */

static const char *const node_aliases[] = {"node", "nodes", "no", "nos", NULL};
static const char *const bgpconfig_aliases[] = {
    "bgpconfiguration", "bgpconfigurations", "bgpconfig", "bgpconfigs", NULL};
static const char *const bgppeer_aliases[] = {
    "bgppeer", "bgppeers", "bgpp", "bgpps", "bp", "bps", NULL};
static const char *const ippool_aliases[] = {
    "ippool", "ippools", "ipp", "ipps", "pool", "pools", NULL};
static const char *const wep_aliases[] = {
    "workloadendpoint", "workloadendpoints", "wep", "weps", NULL};
static const char *const clusterinfo_aliases[] = {"clusterinformation",
    "clusterinformations", "clusterinfo", "clusterinfos", NULL};
static const char *const node_top[] = {"status", NULL};

#define KIND(k, n, p, ns, a, tab, type, chk, chkm, top)                        \
	[k] = {.info = {k, n, n "List", p, ns, a},                             \
	    .spec = tab,                                                       \
	    .size = sizeof(type),                                              \
	    .check = chk,                                                      \
	    .check_meta = chkm,                                                \
	    .top_known = top}

static const struct model_kind_ops kinds[MODEL_NKINDS] = {
    KIND(MODEL_NODE, "Node", "nodes", false, node_aliases, &model_node_table,
        struct model_node, model_node_check, NULL, node_top),
    KIND(MODEL_BGPCONFIG, "BGPConfiguration", "bgpconfigurations", false,
        bgpconfig_aliases, &model_bgpconfig_table, struct model_bgpconfig, NULL,
        model_bgpconfig_check_meta, NULL),
    KIND(MODEL_BGPPEER, "BGPPeer", "bgppeers", false, bgppeer_aliases,
        &model_bgppeer_table, struct model_bgppeer, model_bgppeer_check, NULL,
        NULL),
    KIND(MODEL_IPPOOL, "IPPool", "ippools", false, ippool_aliases,
        &model_ippool_table, struct model_ippool, model_ippool_check, NULL,
        NULL),
    KIND(MODEL_WEP, "WorkloadEndpoint", "workloadendpoints", true, wep_aliases,
        &model_wep_table, struct model_wep, model_wep_check,
        model_wep_check_meta, NULL),
    KIND(MODEL_CLUSTERINFO, "ClusterInformation", "clusterinformations", false,
        clusterinfo_aliases, &model_clusterinfo_table, struct model_clusterinfo,
        NULL, NULL, NULL),
};

const struct model_kind_info *
model_kind(enum model_kind k)
{
	if ((unsigned)k >= MODEL_NKINDS)
		fatalx("%s: kind %d", __func__, k);
	return &kinds[k].info;
}

const struct model_kind_info *
model_kind_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < MODEL_NKINDS; i++)
		if (strcmp(kinds[i].info.name, name) == 0)
			return &kinds[i].info;
	return NULL;
}

const struct model_kind_info *
model_kind_lookup(const char *name)
{
	const char *const *a;
	size_t i;

	for (i = 0; i < MODEL_NKINDS; i++) {
		if (strcasecmp(kinds[i].info.name, name) == 0 ||
		    strcasecmp(kinds[i].info.plural, name) == 0)
			return &kinds[i].info;
		for (a = kinds[i].info.aliases; *a != NULL; a++)
			if (strcasecmp(*a, name) == 0)
				return &kinds[i].info;
	}
	return NULL;
}

int
model_spec_from_json(enum model_kind k, const json_t *j, void *base, int flags,
    char *err, size_t errlen)
{
	const struct model_kind_ops *ops = &kinds[k];
	struct mctx c;

	memset(base, 0, ops->size);
	mctx_init(&c, flags, "spec", err, errlen);
	if (mtable_decode(&c, ops->spec, j, base) == -1 ||
	    (ops->check != NULL && ops->check(&c, base) == -1)) {
		model_spec_clean(k, base);
		return -1;
	}
	return 0;
}

json_t *
model_spec_to_json(enum model_kind k, const void *base)
{
	return mtable_encode(kinds[k].spec, base);
}

void
model_spec_clean(enum model_kind k, void *base)
{
	mtable_clean(kinds[k].spec, base);
	memset(base, 0, kinds[k].size);
}

/* ---- resources ---- */

void
resource_init(struct resource *r, enum model_kind k)
{
	memset(r, 0, sizeof(*r));
	r->kind = k;
}

void
resource_clean(struct resource *r)
{
	enum model_kind k = r->kind;

	mtable_clean(&meta_table, &r->meta);
	if ((unsigned)k < MODEL_NKINDS)
		model_spec_clean(k, &r->node);
	json_decref(r->extra);
	resource_init(r, k);
}

static int
resource_version(struct mctx *c, const json_t *j)
{
	const json_t *v = json_object_get(j, "apiVersion");
	const char *s = NULL;

	if (mfield_missing(v))
		return mctx_err_at(c, "apiVersion", "required");
	if (!json_is_string(v))
		return mctx_err_at(c, "apiVersion", "expected a string");
	s = json_string_value(v);
	if (strcmp(s, MODEL_API_VERSION) == 0)
		return 0;
	if (strcmp(s, "v1") == 0)
		return mctx_err_at(c, "apiVersion",
		    "\"v1\" is Calico's v2.6 API; expected \"%s\"",
		    MODEL_API_VERSION);
	return mctx_err_at(c, "apiVersion", "expected \"%s\", got \"%s\"",
	    MODEL_API_VERSION, s);
}

static const struct model_kind_ops *
resource_kind(struct mctx *c, const json_t *j)
{
	const json_t *v = json_object_get(j, "kind");
	const struct model_kind_info *k;
	const char *s = NULL;
	size_t i;

	if (mfield_missing(v)) {
		mctx_err_at(c, "kind", "required");
		return NULL;
	}
	if (!json_is_string(v)) {
		mctx_err_at(c, "kind", "expected a string");
		return NULL;
	}
	s = json_string_value(v);
	for (i = 0; i < MODEL_NKINDS; i++)
		if (strcmp(kinds[i].info.name, s) == 0)
			return &kinds[i];
	if ((k = model_kind_lookup(s)) != NULL)
		mctx_err_at(c, "kind",
		    "unknown kind \"%s\" (did you mean \"%s\"?)", s, k->name);
	else
		mctx_err_at(c, "kind", "unknown kind \"%s\"", s);
	return NULL;
}

static int
resource_decode_ctx(struct mctx *c, const json_t *j, struct resource *r)
{
	static const char *const top[] = {
	    "kind", "apiVersion", "metadata", "spec", NULL};
	const struct model_kind_ops *ops;
	json_t *spec, *empty = NULL;
	const char *key;
	size_t old;
	json_t *v;
	char rep[96];
	int rc;

	resource_init(r, MODEL_NODE);
	if (!json_is_object(j))
		return mctx_err(c, "expected a resource (a map), got %s",
		    mctx_repr(j, rep, sizeof(rep)));
	if (resource_version(c, j) == -1 || (ops = resource_kind(c, j)) == NULL)
		return -1;
	r->kind = ops->info.kind;

	json_object_foreach((json_t *)j, key, v)
	{
		if (mval_in(key, top))
			continue;
		if ((c->flags & MODEL_STRICT) && !mval_in(key, ops->top_known))
			return mctx_err_at(c, key, "unknown field");
		mval_extra(&r->extra, key, v);
	}

	if (mfield_missing(v = json_object_get(j, "metadata")))
		return mctx_err_at(c, "metadata", "required");
	old = mctx_push(c, "metadata");
	rc = mtable_decode(c, &meta_table, v, &r->meta);
	if (rc == 0)
		rc = meta_check(c, &ops->info, &r->meta);
	mctx_pop(c, old);
	if (rc == -1)
		return -1;

	if ((spec = json_object_get(j, "spec")) == NULL || json_is_null(spec))
		spec = empty = json_object();
	old = mctx_push(c, "spec");
	rc = mtable_decode(c, ops->spec, spec, &r->node);
	if (rc == 0 && ops->check != NULL)
		rc = ops->check(c, &r->node);
	mctx_pop(c, old);
	json_decref(empty);
	if (rc == -1)
		return -1;
	if (ops->check_meta != NULL && ops->check_meta(c, r) == -1)
		return -1;
	return 0;
}

int
resource_decode_at(const json_t *j, int flags, const char *path,
    struct resource *r, char *err, size_t errlen, char *errpath, size_t pathlen)
{
	struct mctx c;

	mctx_init(&c, flags, path, err, errlen);
	if (resource_decode_ctx(&c, j, r) == -1) {
		if (pathlen > 0)
			snprintf(errpath, pathlen, "%s", c.errpath);
		resource_clean(r);
		return -1;
	}
	return 0;
}

int
resource_decode_flags(
    const json_t *j, int flags, struct resource *r, char *err, size_t errlen)
{
	return resource_decode_at(j, flags, "", r, err, errlen, NULL, 0);
}

int
resource_decode(const json_t *j, struct resource *r, char *err, size_t len)
{
	return resource_decode_flags(j, 0, r, err, len);
}

json_t *
resource_encode(const struct resource *r, int flags)
{
	json_t *o = json_object(), *meta;

	json_object_set_new(o, "kind", json_string(kinds[r->kind].info.name));
	json_object_set_new(o, "apiVersion", json_string(MODEL_API_VERSION));
	meta = mtable_encode(&meta_table, &r->meta);
	if (flags & MODEL_NO_RV)
		json_object_del(meta, "resourceVersion");
	json_object_set_new(o, "metadata", meta);
	json_object_set_new(o, "spec", model_spec_to_json(r->kind, &r->node));
	mval_merge_extra(o, r->extra);
	return o;
}

void
resource_copy(struct resource *dst, const struct resource *src)
{
	char err[MODEL_ERRLEN];
	json_t *j = resource_encode(src, 0);

	if (resource_decode(j, dst, err, sizeof(err)) == -1)
		fatalx("%s: %s", __func__, err);
	json_decref(j);
}

const char *
resource_id(const struct resource *r, char *buf, size_t len)
{
	const char *name = r->meta.name != NULL ? r->meta.name : "";

	if (kinds[r->kind].info.namespaced)
		snprintf(buf, len, "%s %s/%s", kinds[r->kind].info.name,
		    r->meta.namespace != NULL ? r->meta.namespace : "", name);
	else
		snprintf(buf, len, "%s %s", kinds[r->kind].info.name, name);
	return buf;
}

/* ---- keys ---- */

static int key_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
key_fmt(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static bool
key_segment_ok(const char *s)
{
	return s != NULL && *s != '\0' && strchr(s, '/') == NULL;
}

int
model_key(
    enum model_kind k, const char *ns, const char *name, char *buf, size_t len)
{
	const struct model_kind_info *info = model_kind(k);

	if (!key_segment_ok(name))
		return -1;
	if (!info->namespaced)
		return key_fmt(buf, len, "%s%s/%s", MODEL_RESOURCE_PREFIX,
		    info->plural, name);
	if (!key_segment_ok(ns))
		return -1;
	return key_fmt(buf, len, "%s%s/%s/%s", MODEL_RESOURCE_PREFIX,
	    info->plural, ns, name);
}

int
model_key_prefix(enum model_kind k, const char *ns, char *buf, size_t len)
{
	const struct model_kind_info *info = model_kind(k);

	if (ns == NULL || !info->namespaced)
		return key_fmt(
		    buf, len, "%s%s/", MODEL_RESOURCE_PREFIX, info->plural);
	if (!key_segment_ok(ns))
		return -1;
	return key_fmt(
	    buf, len, "%s%s/%s/", MODEL_RESOURCE_PREFIX, info->plural, ns);
}

int
resource_key(const struct resource *r, char *buf, size_t len)
{
	return model_key(r->kind, r->meta.namespace, r->meta.name, buf, len);
}

int
model_key_parse(const char *key, enum model_kind *k, char *ns, size_t nslen,
    char *name, size_t namelen)
{
	const char *p, *slash, *rest;
	size_t i, n = strlen(MODEL_RESOURCE_PREFIX);

	if (strncmp(key, MODEL_RESOURCE_PREFIX, n) != 0)
		return -1;
	p = key + n;
	if ((slash = strchr(p, '/')) == NULL)
		return -1;
	rest = slash + 1;
	for (i = 0; i < MODEL_NKINDS; i++) {
		if (strlen(kinds[i].info.plural) != (size_t)(slash - p) ||
		    strncmp(kinds[i].info.plural, p, slash - p) != 0)
			continue;
		*k = kinds[i].info.kind;
		if (kinds[i].info.namespaced) {
			if ((slash = strchr(rest, '/')) == NULL ||
			    slash == rest || !key_segment_ok(slash + 1) ||
			    (size_t)(slash - rest) >= nslen)
				return -1;
			memcpy(ns, rest, slash - rest);
			ns[slash - rest] = '\0';
			rest = slash + 1;
		} else if (nslen > 0)
			ns[0] = '\0';
		if (!key_segment_ok(rest) ||
		    key_fmt(name, namelen, "%s", rest) == -1)
			return -1;
		return 0;
	}
	return -1;
}
