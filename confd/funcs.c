/*
 * confd's template functions (kelseyhightower/confd's newFuncMap and
 * memkv's FuncMap, as projectcalico/confd registers them) with their Go
 * signatures, results and error messages, plus Calico's hashToIPv4.
 * ctx is the memkv store, a const struct confd_kvs *.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <errno.h>
#include <locale.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wctype.h>

#include <openssl/sha.h>

#include "confd/confd.h"
#include "confd/gojson.h"
#include "confd/goutf8.h"
#include "confd/tmpl_fmtint.h"
#include "lib/xmalloc.h"

#define STORE(ctx) ((const struct confd_kvs *)(ctx))

/* The string argument i, NUL-terminated (Go strings hold NULs: cut). */
#define ARG_STR(i, s, len)                                                     \
	do {                                                                   \
		if (tmpl_arg_string(call, args[(i)], &(s), &(len)) == -1)      \
			return NULL;                                           \
	} while (0)

/* a string value taking a malloc'd C string */
static struct tval *
str_own(char *s)
{
	return tval_str_take(s, strlen(s));
}

/* ---- memkv ---- */

/* the value of key (len bytes; a key holding a NUL is never stored) */
static const char *
lookup(void *ctx, const char *key, size_t len)
{
	if (strlen(key) != len)
		return NULL;
	return confd_kvs_get(STORE(ctx), key);
}

static struct tval *
fn_get(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *key, *v;
	size_t len;

	ARG_STR(0, key, len);
	if ((v = lookup(ctx, key, len)) == NULL) {
		tmpl_call_error(call, "key does not exist: %s", key);
		return NULL;
	}
	return tval_kv(key, v);
}

/* memkv's GetAll: the pairs whose key matches pattern, by key */
static struct tval *
getall(struct tmpl_call *call, const struct confd_kvs *kvs, const char *pattern,
    bool values)
{
	struct tval *l = tval_list(values ? TVE_STRING : TVE_KV);
	size_t i;
	int m;

	for (i = 0; i < kvs->n; i++) {
		m = confd_path_match(pattern, kvs->v[i].key);
		if (m == -1) {
			tval_unref(l);
			tmpl_call_error(call, "syntax error in pattern");
			return NULL;
		}
		if (m == 0)
			continue;
		if (values)
			tval_list_append(l, tval_str(kvs->v[i].value));
		else
			tval_list_append(
			    l, tval_kv(kvs->v[i].key, kvs->v[i].value));
	}
	return l;
}

static struct tval *
fn_gets(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *pattern;
	size_t len;

	ARG_STR(0, pattern, len);
	return getall(call, STORE(ctx), pattern, false);
}

static int
cmp_tval_str(const void *a, const void *b)
{
	const struct tval *x = *(struct tval *const *)a;
	const struct tval *y = *(struct tval *const *)b;
	size_t n = x->u.s.len < y->u.s.len ? x->u.s.len : y->u.s.len;
	int c = memcmp(x->u.s.p, y->u.s.p, n);

	if (c != 0)
		return c;
	return (x->u.s.len > y->u.s.len) - (x->u.s.len < y->u.s.len);
}

static struct tval *
fn_getvs(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct tval *l;
	const char *pattern;
	size_t len;

	ARG_STR(0, pattern, len);
	if ((l = getall(call, STORE(ctx), pattern, true)) == NULL)
		return NULL;
	if (l->u.list.n > 1)
		qsort(l->u.list.v, l->u.list.n, sizeof(*l->u.list.v),
		    cmp_tval_str);
	return l;
}

static struct tval *
fn_getv(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *key, *v, *def = NULL;
	size_t keylen, len, deflen = 0, i;

	ARG_STR(0, key, keylen);
	for (i = 1; i < nargs; i++) { /* v ...string */
		if (i == 1)
			ARG_STR(i, def, deflen);
		else
			ARG_STR(i, v, len);
	}
	if ((v = lookup(ctx, key, keylen)) != NULL)
		return tval_str(v);
	if (def != NULL)
		return tval_strn(def, deflen);
	tmpl_call_error(call, "key does not exist: %s", key);
	return NULL;
}

static struct tval *
list_fn(struct tmpl_call *call, struct tval *const *args, void *ctx, bool dir)
{
	struct tval *l;
	const char *path;
	char **names;
	size_t len, n, i;

	ARG_STR(0, path, len);
	names = confd_kvs_list(STORE(ctx), path, dir, &n);
	l = tval_list(TVE_STRING);
	for (i = 0; i < n; i++) {
		tval_list_append(l, tval_str(names[i]));
		free(names[i]);
	}
	free(names);
	return l;
}

static struct tval *
fn_ls(struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	return list_fn(call, args, ctx, false);
}

static struct tval *
fn_lsdir(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	return list_fn(call, args, ctx, true);
}

static struct tval *
fn_exists(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *key;
	size_t len;

	ARG_STR(0, key, len);
	return tval_bool(lookup(ctx, key, len) != NULL);
}

/* ---- json ---- */

static struct tval *
json_fn(struct tmpl_call *call, struct tval *const *args, enum gojson_want want)
{
	char err[256];
	struct tval *v;
	const char *s;
	size_t len;

	ARG_STR(0, s, len);
	if ((v = gojson_unmarshal(s, len, want, err, sizeof(err))) == NULL)
		tmpl_call_error(call, "%s", err);
	return v;
}

static struct tval *
fn_json(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	return json_fn(call, args, GOJSON_OBJECT);
}

static struct tval *
fn_json_array(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	return json_fn(call, args, GOJSON_ARRAY);
}

/* ---- path ---- */

static struct tval *
fn_base(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s;
	size_t len;

	ARG_STR(0, s, len);
	return str_own(confd_path_base(s));
}

static struct tval *
fn_dir(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s;
	size_t len;

	ARG_STR(0, s, len);
	return str_own(confd_path_dir(s));
}

/* ---- strings ---- */

/* strings.Index of sep (len > 0) in s, or -1 */
static ssize_t
str_index(const char *s, size_t len, const char *sep, size_t seplen)
{
	const char *p = memmem(s, len, sep, seplen);

	return p == NULL ? -1 : (ssize_t)(p - s);
}

static struct tval *
fn_split(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s, *sep;
	size_t len, seplen, w;
	struct tval *l;
	ssize_t i;

	ARG_STR(0, s, len);
	ARG_STR(1, sep, seplen);
	l = tval_list(TVE_STRING);
	if (seplen == 0) {
		/* explode: one element per UTF-8 sequence (or bad byte) */
		while (len > 0) {
			go_utf8_decode(s, len, &w);
			tval_list_append(l, tval_strn(s, w));
			s += w;
			len -= w;
		}
		return l;
	}
	while ((i = str_index(s, len, sep, seplen)) >= 0) {
		tval_list_append(l, tval_strn(s, (size_t)i));
		s += (size_t)i + seplen;
		len -= (size_t)i + seplen;
	}
	tval_list_append(l, tval_strn(s, len));
	return l;
}

static struct tval *
fn_join(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct tbuf b = {0};
	const struct tval *a = args[0];
	const char *sep;
	size_t seplen, i;

	/* a []string; nil converts to an empty slice, as reflect */
	if (a->kind != TV_NIL &&
	    (a->kind != TV_LIST || a->u.list.elem != TVE_STRING)) {
		tmpl_call_type_error(call, a, "[]string");
		return NULL;
	}
	ARG_STR(1, sep, seplen);
	tbuf_add(&b, "", 0);
	if (a->kind == TV_LIST)
		for (i = 0; i < a->u.list.n; i++) {
			if (i > 0)
				tbuf_add(&b, sep, seplen);
			tbuf_add(
			    &b, a->u.list.v[i]->u.s.p, a->u.list.v[i]->u.s.len);
		}
	return tval_str_take(b.p, b.len);
}

static struct tval *
fn_map(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct tval *m;
	char *key;
	size_t i;

	if (nargs % 2 != 0) {
		tmpl_call_error(call, "invalid map call");
		return NULL;
	}
	m = tval_map();
	for (i = 0; i < nargs; i += 2) {
		if (args[i]->kind != TV_STRING) {
			tval_unref(m);
			tmpl_call_error(call, "map keys must be strings");
			return NULL;
		}
		key = xstrndup(args[i]->u.s.p, args[i]->u.s.len);
		tval_map_set(m, key, tval_ref(args[i + 1]));
		free(key);
	}
	return m;
}

static struct tval *
fn_getenv(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *key, *def = "", *v;
	size_t len, deflen = 0, i;

	ARG_STR(0, key, len);
	for (i = 1; i < nargs; i++) { /* v ...string */
		if (i == 1)
			ARG_STR(i, def, deflen);
		else
			ARG_STR(i, v, len);
	}
	v = getenv(key);
	if (v == NULL || *v == '\0')
		return tval_strn(def, deflen);
	return tval_str(v);
}

/*
 * strings.ToUpper/ToLower: ASCII directly, other runes by the C.UTF-8
 * locale's simple case mapping (Go's unicode.ToUpper); invalid UTF-8
 * becomes U+FFFD as strings.Map does.
 */
static struct tval *
case_fn(struct tmpl_call *call, struct tval *const *args, bool upper)
{
	static locale_t loc;
	struct tbuf b = {0};
	const char *s;
	size_t len, i, w;
	uint32_t r;
	char enc[4];

	ARG_STR(0, s, len);
	tbuf_add(&b, "", 0);
	for (i = 0; i < len; i += w) {
		r = go_utf8_decode(s + i, len - i, &w);
		if (r < 0x80) {
			if (upper && r >= 'a' && r <= 'z')
				r -= 'a' - 'A';
			else if (!upper && r >= 'A' && r <= 'Z')
				r += 'a' - 'A';
		} else if (!(r == 0xfffd && w == 1)) {
			if (loc == (locale_t)0)
				loc = newlocale(
				    LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
			if (loc != (locale_t)0)
				r = upper
				    ? (uint32_t)towupper_l((wint_t)r, loc)
				    : (uint32_t)towlower_l((wint_t)r, loc);
		}
		tbuf_add(&b, enc, tfmt_encode_rune(enc, (int32_t)r));
	}
	return tval_str_take(b.p, b.len);
}

static struct tval *
fn_to_upper(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	return case_fn(call, args, true);
}

static struct tval *
fn_to_lower(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	return case_fn(call, args, false);
}

static struct tval *
fn_contains(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s, *sub;
	size_t len, sublen;

	ARG_STR(0, s, len);
	ARG_STR(1, sub, sublen);
	return tval_bool(sublen == 0 || str_index(s, len, sub, sublen) >= 0);
}

static struct tval *
fn_has_suffix(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s, *x;
	size_t len, xlen;

	ARG_STR(0, s, len);
	ARG_STR(1, x, xlen);
	return tval_bool(len >= xlen && memcmp(s + len - xlen, x, xlen) == 0);
}

static struct tval *
fn_has_prefix(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s, *x;
	size_t len, xlen;

	ARG_STR(0, s, len);
	ARG_STR(1, x, xlen);
	return tval_bool(len >= xlen && memcmp(s, x, xlen) == 0);
}

/* strings.Replace(s, old, new, n) */
static struct tval *
fn_replace(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s, *old, *new;
	size_t len, oldlen, newlen, start = 0, j, m, w;
	struct tbuf b = {0};
	int64_t n, k;
	ssize_t at;

	ARG_STR(0, s, len);
	ARG_STR(1, old, oldlen);
	ARG_STR(2, new, newlen);
	if (tmpl_arg_int(call, args[3], &n) == -1)
		return NULL;
	if ((oldlen == newlen && memcmp(old, new, oldlen) == 0) || n == 0)
		return tval_strn(s, len);
	/* strings.Count */
	if (oldlen == 0)
		m = tfmt_rune_count(s, len) + 1;
	else
		for (m = 0, j = 0;
		     (at = str_index(s + j, len - j, old, oldlen)) >= 0; m++)
			j += (size_t)at + oldlen;
	if (m == 0)
		return tval_strn(s, len);
	if (n < 0 || (uint64_t)n > m)
		n = (int64_t)m;
	tbuf_add(&b, "", 0);
	for (k = 0; k < n; k++) {
		j = start;
		if (oldlen == 0) {
			if (k > 0) {
				go_utf8_decode(s + start, len - start, &w);
				j += w;
			}
		} else
			j += (size_t)str_index(
			    s + start, len - start, old, oldlen);
		tbuf_add(&b, s + start, j - start);
		tbuf_add(&b, new, newlen);
		start = j + oldlen;
	}
	tbuf_add(&b, s + start, len - start);
	return tval_str_take(b.p, b.len);
}

/* ---- base64 (StdEncoding) ---- */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static struct tval *
fn_base64_encode(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const unsigned char *s;
	struct tbuf b = {0};
	const char *p;
	size_t len, i;
	uint32_t v;
	char q[4];

	ARG_STR(0, p, len);
	s = (const unsigned char *)p;
	tbuf_add(&b, "", 0);
	for (i = 0; i + 3 <= len; i += 3) {
		v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = b64[v >> 6 & 63];
		q[3] = b64[v & 63];
		tbuf_add(&b, q, 4);
	}
	if (len - i > 0) {
		v = (uint32_t)s[i] << 16;
		if (len - i == 2)
			v |= (uint32_t)s[i + 1] << 8;
		q[0] = b64[v >> 18 & 63];
		q[1] = b64[v >> 12 & 63];
		q[2] = len - i == 2 ? b64[v >> 6 & 63] : '=';
		q[3] = '=';
		tbuf_add(&b, q, 4);
	}
	return tval_str_take(b.p, b.len);
}

static int
b64_val(unsigned char c)
{
	const char *p;

	if (c == '\0' || (p = strchr(b64, c)) == NULL)
		return -1;
	return (int)(p - b64);
}

/*
 * Go's base64.StdEncoding.DecodeString: \r and \n ignored, padding
 * required; -1 with *errat the CorruptInputError offset.
 */
static int
b64_decode(
    const unsigned char *src, size_t len, struct tbuf *out, size_t *errat)
{
	unsigned char dbuf[4], o[3];
	size_t si = 0, j, dlen;
	bool err = false;
	uint32_t val;
	int v;

	while (si < len && !err) {
		dlen = 4;
		memset(dbuf, 0, sizeof(dbuf));
		for (j = 0; j < 4; j++) {
			if (si == len) {
				if (j == 0)
					return 0;
				*errat = si - j;
				return -1;
			}
			unsigned char in = src[si++];
			if ((v = b64_val(in)) >= 0) {
				dbuf[j] = (unsigned char)v;
				continue;
			}
			if (in == '\n' || in == '\r') {
				j--;
				continue;
			}
			if (in != '=' || j < 2) {
				*errat = si - 1;
				return -1;
			}
			if (j == 2) {
				while (si < len &&
				    (src[si] == '\n' || src[si] == '\r'))
					si++;
				if (si == len) {
					*errat = len;
					return -1;
				}
				if (src[si] != '=') {
					*errat = si - 1;
					return -1;
				}
				si++;
			}
			while (si < len && (src[si] == '\n' || src[si] == '\r'))
				si++;
			if (si < len) {
				*errat = si;
				err = true;
			}
			dlen = j;
			break;
		}
		val = (uint32_t)dbuf[0] << 18 | (uint32_t)dbuf[1] << 12 |
		    (uint32_t)dbuf[2] << 6 | dbuf[3];
		o[0] = (unsigned char)(val >> 16);
		o[1] = (unsigned char)(val >> 8);
		o[2] = (unsigned char)val;
		tbuf_add(out, o, dlen - 1);
	}
	return err ? -1 : 0;
}

static struct tval *
fn_base64_decode(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct tbuf b = {0};
	const char *s;
	size_t len, at = 0;

	ARG_STR(0, s, len);
	tbuf_add(&b, "", 0);
	if (b64_decode((const unsigned char *)s, len, &b, &at) == -1) {
		tbuf_free(&b);
		tmpl_call_error(
		    call, "illegal base64 data at input byte %zu", at);
		return NULL;
	}
	return tval_str_take(b.p, b.len);
}

/* ---- system ---- */

/* confd's isFileExist: false only when os.Stat says it does not exist */
static struct tval *
fn_file_exists(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct stat st;
	const char *s;
	size_t len;

	ARG_STR(0, s, len);
	return tval_bool(stat(s, &st) == 0 || errno != ENOENT);
}

static int
cmp_cstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * confd's LookupIP: the addresses of the name as strings, sorted; none
 * (a nil []string) when the lookup fails.  IPv4-mapped IPv6 addresses
 * print as IPv4, as Go's net.IP.String.
 */
static struct tval *
fn_lookup_ip(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct addrinfo hints, *res = NULL, *ai;
	char buf[INET6_ADDRSTRLEN], **ips = NULL;
	const struct sockaddr_in6 *sin6;
	struct in_addr v4;
	struct tval *l;
	size_t len, n = 0, i;
	const char *name;

	ARG_STR(0, name, len);
	l = tval_list(TVE_STRING);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if (*name == '\0' || getaddrinfo(name, NULL, &hints, &res) != 0)
		return l;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET,
			    &((struct sockaddr_in *)ai->ai_addr)->sin_addr, buf,
			    sizeof(buf));
		else if (ai->ai_family == AF_INET6) {
			sin6 = (const struct sockaddr_in6 *)ai->ai_addr;
			if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr)) {
				memcpy(&v4, &sin6->sin6_addr.s6_addr[12], 4);
				inet_ntop(AF_INET, &v4, buf, sizeof(buf));
			} else
				inet_ntop(AF_INET6, &sin6->sin6_addr, buf,
				    sizeof(buf));
		} else
			continue;
		ips = xreallocarray(ips, n + 1, sizeof(*ips));
		ips[n++] = xstrdup(buf);
	}
	freeaddrinfo(res);
	if (n > 1)
		qsort(ips, n, sizeof(*ips), cmp_cstr);
	for (i = 0; i < n; i++)
		tval_list_append(l, str_own(ips[i]));
	free(ips);
	return l;
}

static struct tval *
fn_lookup_srv(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	const char *s;
	size_t len, i;

	for (i = 0; i < 3; i++)
		ARG_STR(i, s, len);
	tmpl_call_error(call, "lookupSRV is not supported by podmesh-confd");
	return NULL;
}

/* time.Now() in the local zone */
static struct tval *
fn_datetime(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (localtime_r(&ts.tv_sec, &tm) == NULL)
		return tval_time(&ts, 0, "UTC");
	return tval_time(
	    &ts, (int)tm.tm_gmtoff, tm.tm_zone != NULL ? tm.tm_zone : "UTC");
}

/*
 * Calico's hashToIPv4: the first four bytes of sha256(nodeName) as a
 * dotted quad, the first octet lowered by 32 when above 223 (router ids
 * stay out of the multicast and reserved ranges).
 */
static struct tval *
fn_hash_to_ipv4(
    struct tmpl_call *call, struct tval *const *args, size_t nargs, void *ctx)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	const char *s;
	char buf[16];
	size_t len;
	int o0;

	ARG_STR(0, s, len);
	SHA256((const unsigned char *)s, len, md);
	o0 = md[0] > 223 ? md[0] - 32 : md[0];
	snprintf(buf, sizeof(buf), "%d.%d.%d.%d", o0, md[1], md[2], md[3]);
	return tval_str(buf);
}

static const struct tmpl_func confd_func_table[] = {
    /* memkv */
    {"exists", fn_exists, 1, 1},
    {"ls", fn_ls, 1, 1},
    {"lsdir", fn_lsdir, 1, 1},
    {"get", fn_get, 1, 1},
    {"gets", fn_gets, 1, 1},
    {"getv", fn_getv, 1, -1},
    {"getvs", fn_getvs, 1, 1},
    /* confd */
    {"base", fn_base, 1, 1},
    {"split", fn_split, 2, 2},
    {"json", fn_json, 1, 1},
    {"jsonArray", fn_json_array, 1, 1},
    {"dir", fn_dir, 1, 1},
    {"map", fn_map, 0, -1},
    {"getenv", fn_getenv, 1, -1},
    {"join", fn_join, 2, 2},
    {"datetime", fn_datetime, 0, 0},
    {"toUpper", fn_to_upper, 1, 1},
    {"toLower", fn_to_lower, 1, 1},
    {"contains", fn_contains, 2, 2},
    {"replace", fn_replace, 4, 4},
    {"hasSuffix", fn_has_suffix, 2, 2},
    {"hasPrefix", fn_has_prefix, 2, 2},
    {"lookupIP", fn_lookup_ip, 1, 1},
    {"lookupSRV", fn_lookup_srv, 3, 3},
    {"fileExists", fn_file_exists, 1, 1},
    {"base64Encode", fn_base64_encode, 1, 1},
    {"base64Decode", fn_base64_decode, 1, 1},
    /* Calico */
    {"hashToIPv4", fn_hash_to_ipv4, 1, 1},
};

const struct tmpl_func *
confd_funcs(size_t *n)
{
	*n = sizeof(confd_func_table) / sizeof(confd_func_table[0]);
	return confd_func_table;
}
