/*
 * Path attribute sets: encoding for outgoing UPDATEs (RFC 4271 §4.3, §5;
 * RFC 4456 §8 ORIGINATOR_ID/CLUSTER_LIST; RFC 6793 §4.2.2 AS_TRANS and
 * AS4_PATH/AS4_AGGREGATOR towards 2-octet peers; RFC 1997, RFC 8092
 * communities), the interning table that makes identical sets shared and
 * immutable, and AS_PATH helpers (RFC 4271 §9.1.2.2 path length).
 *
 * Decoding lives in update.c, next to the section carving it depends on.
 * AS_PATH is always held in 4-octet form: segments of type(1) count(1)
 * asn(4 * count).
 */
#include <string.h>
#include <stdlib.h>

#include "bgp/wire.h"
#include "lib/hash.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

struct attr_table {
	struct attrs **buckets;
	size_t nbuckets; /* a power of two */
	size_t count;
};

#define ATTR_TABLE_MIN 256
#define AS2_MAX 65535

static int attr_hdr(struct ibuf *, uint8_t, uint8_t, size_t);
static int attr_put_n32(struct ibuf *, uint8_t, uint8_t, uint32_t);
static int attr_put_words(
    struct ibuf *, uint8_t, uint8_t, const uint32_t *, size_t);
static int attr_put_others(struct ibuf *, const struct attrs *, int, int);
static int aspath_encode(struct ibuf *, const struct attrs *, bool);
static bool aspath_needs_as4(const struct attrs *);
static uint32_t aspath_get(const uint8_t *);
static uint32_t attrs_hash(const struct attrs *);
static void attr_table_grow(struct attr_table *);
static void attrs_free_arrays(struct attrs *);

/*
 * Encoding.  Every writer adds up its failures; attrs_encode checks once.
 * The only failure is running out of room in a bounded buffer.
 */

/* RFC 4271 §4.3: the Extended Length bit only when the value needs it */
static int
attr_hdr(struct ibuf *buf, uint8_t flags, uint8_t type, size_t len)
{
	int errs = 0;

	if (len > UINT16_MAX)
		return -1;
	flags &= ~ATTR_EXTLEN;
	if (len > 255)
		flags |= ATTR_EXTLEN;
	errs += ibuf_add_n8(buf, flags);
	errs += ibuf_add_n8(buf, type);
	if (flags & ATTR_EXTLEN)
		errs += ibuf_add_n16(buf, len);
	else
		errs += ibuf_add_n8(buf, len);
	return errs ? -1 : 0;
}

static int
attr_put_n32(struct ibuf *buf, uint8_t flags, uint8_t type, uint32_t v)
{
	int errs = 0;

	errs += attr_hdr(buf, flags, type, 4);
	errs += ibuf_add_n32(buf, v);
	return errs ? -1 : 0;
}

static int
attr_put_words(
    struct ibuf *buf, uint8_t flags, uint8_t type, const uint32_t *w, size_t n)
{
	size_t i;
	int errs = 0;

	if (n == 0)
		return 0;
	errs += attr_hdr(buf, flags, type, n * 4);
	for (i = 0; i < n; i++)
		errs += ibuf_add_n32(buf, w[i]);
	return errs ? -1 : 0;
}

/* the verbatim attributes whose type is in [lo, hi), already sorted */
static int
attr_put_others(struct ibuf *buf, const struct attrs *a, int lo, int hi)
{
	struct ibuf ob, val;
	uint8_t flags, type;
	uint16_t len;
	int errs = 0;

	ibuf_from_buffer(&ob, a->others, a->others_len);
	while (ibuf_size(&ob) > 0) {
		if (ibuf_get_n8(&ob, &flags) == -1 ||
		    ibuf_get_n8(&ob, &type) == -1 ||
		    ibuf_get_n16(&ob, &len) == -1 ||
		    ibuf_get_ibuf(&ob, len, &val) == -1)
			fatalx("%s: corrupt attribute store", __func__);
		if (type < lo || type >= hi)
			continue;
		errs += attr_hdr(buf, flags, type, len);
		errs += ibuf_add_ibuf(buf, &val);
	}
	return errs ? -1 : 0;
}

static uint32_t
aspath_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

/* any ASN above 65535 that AS4_PATH would carry (no confederations) */
static bool
aspath_needs_as4(const struct attrs *a)
{
	size_t off, i;
	uint8_t type, cnt;

	for (off = 0; off + 2 <= a->aspath_len; off += 2 + cnt * 4) {
		type = a->aspath[off];
		cnt = a->aspath[off + 1];
		if (type != AS_SET && type != AS_SEQUENCE)
			continue;
		for (i = 0; i < cnt; i++)
			if (aspath_get(a->aspath + off + 2 + i * 4) > AS2_MAX)
				return true;
	}
	return false;
}

/*
 * AS_PATH as the peer expects it.  Towards a 2-octet peer every ASN above
 * 65535 becomes AS_TRANS (RFC 6793 §4.2.2); with as4path set, the 4-octet
 * path goes out as AS4_PATH instead, without confederation segments, which
 * RFC 6793 §3 keeps out of AS4_PATH.
 */
static int
aspath_encode(struct ibuf *buf, const struct attrs *a, bool two)
{
	size_t off, i, len = 0;
	uint8_t type, cnt;
	uint32_t as;
	int errs = 0;

	for (off = 0; off + 2 <= a->aspath_len; off += 2 + cnt * 4) {
		type = a->aspath[off];
		cnt = a->aspath[off + 1];
		if (two)
			len += 2 + cnt * 2;
		else if (type == AS_SET || type == AS_SEQUENCE)
			len += 2 + cnt * 4;
	}
	if (two)
		errs += attr_hdr(buf, ATTR_TRANSITIVE, ATTR_ASPATH, len);
	else
		errs += attr_hdr(
		    buf, ATTR_OPTIONAL | ATTR_TRANSITIVE, ATTR_AS4_PATH, len);
	for (off = 0; off + 2 <= a->aspath_len; off += 2 + cnt * 4) {
		type = a->aspath[off];
		cnt = a->aspath[off + 1];
		if (!two && type != AS_SET && type != AS_SEQUENCE)
			continue;
		errs += ibuf_add_n8(buf, type);
		errs += ibuf_add_n8(buf, cnt);
		for (i = 0; i < cnt; i++) {
			as = aspath_get(a->aspath + off + 2 + i * 4);
			if (two)
				errs += ibuf_add_n16(
				    buf, as > AS2_MAX ? AS_TRANS : as);
			else
				errs += ibuf_add_n32(buf, as);
		}
	}
	return errs ? -1 : 0;
}

/*
 * The attribute section for an UPDATE, in ascending type order, without
 * MP_REACH/MP_UNREACH (update.c adds those).  ORIGIN and AS_PATH are
 * well-known mandatory and always written (an unset AS_PATH is the empty
 * path of a locally originated route); LOCAL_PREF, ORIGINATOR_ID and
 * CLUSTER_LIST never leave the AS (RFC 4271 §5.1.5, RFC 4456 §8).
 */
int
attrs_encode(
    struct ibuf *buf, const struct attrs *a, const struct update_ctx *ctx)
{
	bool as4 = ctx->as4, ebgp = ctx->ebgp;
	int errs = 0;

	errs += attr_put_others(buf, a, 0, ATTR_ORIGIN);
	errs += attr_hdr(buf, ATTR_TRANSITIVE, ATTR_ORIGIN, 1);
	errs += ibuf_add_n8(buf, a->origin);
	if (as4) {
		errs +=
		    attr_hdr(buf, ATTR_TRANSITIVE, ATTR_ASPATH, a->aspath_len);
		errs += ibuf_add(buf, a->aspath, a->aspath_len);
	} else
		errs += aspath_encode(buf, a, true);
	if ((a->flags & ATTRF_NEXTHOP) && a->nexthop.family == AF_INET) {
		errs += attr_hdr(buf, ATTR_TRANSITIVE, ATTR_NEXTHOP, 4);
		errs += ibuf_add(buf, &a->nexthop.v4, 4);
	}
	if (a->flags & ATTRF_MED)
		errs += attr_put_n32(buf, ATTR_OPTIONAL, ATTR_MED, a->med);
	if ((a->flags & ATTRF_LOCALPREF) && !ebgp)
		errs += attr_put_n32(
		    buf, ATTR_TRANSITIVE, ATTR_LOCALPREF, a->local_pref);
	if (a->flags & ATTRF_ATOMIC_AGGR)
		errs += attr_hdr(buf, ATTR_TRANSITIVE, ATTR_ATOMIC_AGGR, 0);
	if (a->flags & ATTRF_AGGREGATOR) {
		errs += attr_hdr(buf, ATTR_OPTIONAL | ATTR_TRANSITIVE,
		    ATTR_AGGREGATOR, as4 ? 8 : 6);
		if (as4)
			errs += ibuf_add_n32(buf, a->aggr_as);
		else
			errs += ibuf_add_n16(
			    buf, a->aggr_as > AS2_MAX ? AS_TRANS : a->aggr_as);
		errs += ibuf_add_n32(buf, a->aggr_id);
	}
	errs += attr_put_words(buf, ATTR_OPTIONAL | ATTR_TRANSITIVE,
	    ATTR_COMMUNITIES, a->communities, a->ncommunities);
	if ((a->flags & ATTRF_ORIGINATOR_ID) && !ebgp)
		errs += attr_put_n32(
		    buf, ATTR_OPTIONAL, ATTR_ORIGINATOR_ID, a->originator_id);
	if (!ebgp)
		errs += attr_put_words(buf, ATTR_OPTIONAL, ATTR_CLUSTER_LIST,
		    a->cluster_list, a->ncluster);
	errs += attr_put_others(buf, a, ATTR_CLUSTER_LIST + 1, ATTR_AS4_PATH);
	if (!as4 && aspath_needs_as4(a))
		errs += aspath_encode(buf, a, false);
	if (!as4 && (a->flags & ATTRF_AGGREGATOR) && a->aggr_as > AS2_MAX) {
		errs += attr_hdr(buf, ATTR_OPTIONAL | ATTR_TRANSITIVE,
		    ATTR_AS4_AGGREGATOR, 8);
		errs += ibuf_add_n32(buf, a->aggr_as);
		errs += ibuf_add_n32(buf, a->aggr_id);
	}
	errs += attr_put_others(
	    buf, a, ATTR_AS4_AGGREGATOR + 1, ATTR_LARGE_COMMUNITIES);
	errs += attr_put_words(buf, ATTR_OPTIONAL | ATTR_TRANSITIVE,
	    ATTR_LARGE_COMMUNITIES, a->large, (size_t)a->nlarge * 3);
	errs += attr_put_others(buf, a, ATTR_LARGE_COMMUNITIES + 1, 256);
	return errs ? -1 : 0;
}

/*
 * Interning.  Sets are hashed over every field; equal sets share one
 * refcounted copy, so the RIB compares attributes by pointer.
 */

static uint32_t
addr_hash(const struct addr *a, uint32_t h)
{
	h = hash_u32(a->family, h);
	h = hash_u32(a->scope_id, h);
	return hash_bytes(a->b, addr_bytes(a->family), h);
}

static uint32_t
attrs_hash(const struct attrs *a)
{
	uint32_t h = 0;

	h = hash_u32(a->flags, h);
	h = hash_u32(a->origin, h);
	h = hash_u32(a->med, h);
	h = hash_u32(a->local_pref, h);
	h = hash_u32(a->aggr_as, h);
	h = hash_u32(a->aggr_id, h);
	h = hash_u32(a->originator_id, h);
	h = addr_hash(&a->nexthop, h);
	h = addr_hash(&a->nexthop_ll, h);
	h = hash_bytes(a->aspath, a->aspath_len, h);
	h = hash_bytes(a->communities, a->ncommunities * 4, h);
	h = hash_bytes(a->large, a->nlarge * 12, h);
	h = hash_bytes(a->cluster_list, a->ncluster * 4, h);
	h = hash_bytes(a->others, a->others_len, h);
	return h;
}

static bool
mem_equal(const void *a, const void *b, size_t len)
{
	return len == 0 || memcmp(a, b, len) == 0;
}

bool
attrs_equal(const struct attrs *a, const struct attrs *b)
{
	return a->flags == b->flags && a->origin == b->origin &&
	    a->med == b->med && a->local_pref == b->local_pref &&
	    a->aggr_as == b->aggr_as && a->aggr_id == b->aggr_id &&
	    a->originator_id == b->originator_id &&
	    addr_cmp(&a->nexthop, &b->nexthop) == 0 &&
	    addr_cmp(&a->nexthop_ll, &b->nexthop_ll) == 0 &&
	    a->aspath_len == b->aspath_len &&
	    a->ncommunities == b->ncommunities && a->nlarge == b->nlarge &&
	    a->ncluster == b->ncluster && a->others_len == b->others_len &&
	    mem_equal(a->aspath, b->aspath, a->aspath_len) &&
	    mem_equal(a->communities, b->communities, a->ncommunities * 4) &&
	    mem_equal(a->large, b->large, a->nlarge * 12) &&
	    mem_equal(a->cluster_list, b->cluster_list, a->ncluster * 4) &&
	    mem_equal(a->others, b->others, a->others_len);
}

static void *
mem_dup(const void *p, size_t len)
{
	void *d;

	if (len == 0)
		return NULL;
	d = xmalloc(len);
	memcpy(d, p, len);
	return d;
}

/* dst is overwritten (clean it first if it owned arrays) and not interned */
void
attrs_copy(struct attrs *dst, const struct attrs *src)
{
	*dst = *src;
	dst->table = NULL;
	dst->hnext = NULL;
	dst->refcnt = 0;
	dst->aspath = mem_dup(src->aspath, src->aspath_len);
	dst->communities = mem_dup(src->communities, src->ncommunities * 4);
	dst->large = mem_dup(src->large, src->nlarge * 12);
	dst->cluster_list = mem_dup(src->cluster_list, src->ncluster * 4);
	dst->others = mem_dup(src->others, src->others_len);
	if (dst->aspath == NULL)
		dst->aspath_len = dst->aspath_count = 0;
	if (dst->communities == NULL)
		dst->ncommunities = 0;
	if (dst->large == NULL)
		dst->nlarge = 0;
	if (dst->cluster_list == NULL)
		dst->ncluster = 0;
	if (dst->others == NULL)
		dst->others_len = 0;
}

static void
attrs_free_arrays(struct attrs *a)
{
	free(a->aspath);
	free(a->communities);
	free(a->large);
	free(a->cluster_list);
	free(a->others);
	a->aspath = NULL;
	a->communities = a->large = a->cluster_list = NULL;
	a->others = NULL;
	a->aspath_len = a->aspath_count = 0;
	a->ncommunities = a->nlarge = a->ncluster = a->others_len = 0;
}

/* frees the arrays of a set that is not interned; the struct stays usable */
void
attrs_clean(struct attrs *a)
{
	if (a->table != NULL)
		fatalx("%s: set is interned", __func__);
	attrs_free_arrays(a);
}

struct attr_table *
attr_table_new(void)
{
	struct attr_table *t = xcalloc(1, sizeof(*t));

	t->nbuckets = ATTR_TABLE_MIN;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	return t;
}

/* frees every set still in the table, so LeakSanitizer stays quiet */
void
attr_table_free(struct attr_table *t)
{
	struct attrs *a, *next;
	size_t i;

	if (t == NULL)
		return;
	if (t->count > 0)
		log_debug("%s: %zu attribute sets still referenced", __func__,
		    t->count);
	for (i = 0; i < t->nbuckets; i++) {
		for (a = t->buckets[i]; a != NULL; a = next) {
			next = a->hnext;
			attrs_free_arrays(a);
			free(a);
		}
	}
	free(t->buckets);
	free(t);
}

size_t
attr_table_count(const struct attr_table *t)
{
	return t->count;
}

static void
attr_table_grow(struct attr_table *t)
{
	struct attrs **nb, *a, *next;
	size_t i, n = t->nbuckets * 2;

	nb = xcalloc(n, sizeof(*nb));
	for (i = 0; i < t->nbuckets; i++) {
		for (a = t->buckets[i]; a != NULL; a = next) {
			next = a->hnext;
			a->hnext = nb[a->hash & (n - 1)];
			nb[a->hash & (n - 1)] = a;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = n;
}

/* an equal set with one more reference, or a new copy with one */
struct attrs *
attr_intern(struct attr_table *t, const struct attrs *tmpl)
{
	struct attrs *a;
	uint32_t h = attrs_hash(tmpl);

	for (a = t->buckets[h & (t->nbuckets - 1)]; a != NULL; a = a->hnext) {
		if (a->hash == h && attrs_equal(a, tmpl)) {
			a->refcnt++;
			return a;
		}
	}
	if (t->count >= t->nbuckets)
		attr_table_grow(t);
	a = xmalloc(sizeof(*a));
	attrs_copy(a, tmpl);
	a->table = t;
	a->refcnt = 1;
	a->hash = h;
	a->hnext = t->buckets[h & (t->nbuckets - 1)];
	t->buckets[h & (t->nbuckets - 1)] = a;
	t->count++;
	return a;
}

struct attrs *
attr_ref(struct attrs *a)
{
	if (a->table == NULL || a->refcnt == 0)
		fatalx("%s: set is not interned", __func__);
	a->refcnt++;
	return a;
}

void
attr_unref(struct attrs *a)
{
	struct attr_table *t;
	struct attrs **pp;

	if (a == NULL)
		return;
	if ((t = a->table) == NULL || a->refcnt == 0)
		fatalx("%s: set is not interned", __func__);
	if (--a->refcnt > 0)
		return;
	for (pp = &t->buckets[a->hash & (t->nbuckets - 1)]; *pp != a;
	     pp = &(*pp)->hnext)
		if (*pp == NULL)
			fatalx("%s: set missing from its table", __func__);
	*pp = a->hnext;
	t->count--;
	attrs_free_arrays(a);
	free(a);
}

/*
 * AS_PATH helpers.  Segments were validated on input, so these walk them
 * without bounds errors; a truncated trailing segment is simply ignored.
 */

#define ASPATH_FOREACH(a, off, type, cnt)                                      \
	for ((off) = 0; (off) + 2 <= (a)->aspath_len &&                        \
	     ((type) = (a)->aspath[(off)], (cnt) = (a)->aspath[(off) + 1],     \
	     (off) + 2 + (size_t)(cnt)*4 <= (a)->aspath_len);                  \
	     (off) += 2 + (size_t)(cnt)*4)

/* the leftmost AS of the first AS_SEQUENCE, 0 if there is none */
uint32_t
aspath_first(const struct attrs *a)
{
	size_t off;
	uint8_t type, cnt;

	ASPATH_FOREACH(a, off, type, cnt)
	{
		if (type == AS_SEQUENCE && cnt > 0)
			return aspath_get(a->aspath + off + 2);
	}
	return 0;
}

/*
 * The neighbour AS for MED comparison (RFC 4271 §9.1.2.2 (c)): the first AS
 * once confederation segments are skipped (RFC 5065 §5.3); 0, meaning our
 * own AS, when the path is empty or starts with an AS_SET.
 */
uint32_t
aspath_neighbor(const struct attrs *a)
{
	size_t off;
	uint8_t type, cnt;

	ASPATH_FOREACH(a, off, type, cnt)
	{
		if (type == AS_CONFED_SEQUENCE || type == AS_CONFED_SET)
			continue;
		if (type == AS_SEQUENCE && cnt > 0)
			return aspath_get(a->aspath + off + 2);
		return 0;
	}
	return 0;
}

bool
aspath_contains(const struct attrs *a, uint32_t as)
{
	size_t off, i;
	uint8_t type, cnt;

	ASPATH_FOREACH(a, off, type, cnt)
	{
		(void)type; /* every segment type counts */
		for (i = 0; i < cnt; i++)
			if (aspath_get(a->aspath + off + 2 + i * 4) == as)
				return true;
	}
	return false;
}

/*
 * Prepends as to a set that is not interned: into the leading AS_SEQUENCE
 * while it has room for 255 ASes, else as a new segment in front.
 */
void
aspath_prepend(struct attrs *a, uint32_t as)
{
	uint8_t *p, be[4] = {as >> 24, as >> 16, as >> 8, as};
	size_t nlen, grow;
	bool join;

	if (a->table != NULL)
		fatalx("%s: set is interned", __func__);
	join = a->aspath_len >= 6 && a->aspath[0] == AS_SEQUENCE &&
	    a->aspath[1] < 255;
	grow = join ? 4 : 6;
	nlen = a->aspath_len + grow;
	if (nlen > UINT16_MAX) {
		log_warnx("%s: AS_PATH too long to prepend %u", __func__, as);
		return;
	}
	p = xmalloc(nlen);
	if (join) {
		p[0] = AS_SEQUENCE;
		p[1] = a->aspath[1] + 1;
		memcpy(p + 2, be, 4);
		memcpy(p + 6, a->aspath + 2, a->aspath_len - 2);
	} else {
		p[0] = AS_SEQUENCE;
		p[1] = 1;
		memcpy(p + 2, be, 4);
		if (a->aspath_len > 0)
			memcpy(p + 6, a->aspath, a->aspath_len);
	}
	free(a->aspath);
	a->aspath = p;
	a->aspath_len = nlen;
	a->aspath_count++;
	a->flags |= ATTRF_ASPATH;
}

/*
 * The path flattened for display: every AS of every segment in order.
 * Writes at most max entries (aspath_len / 4 always suffices) and returns
 * how many it wrote.
 */
int
aspath_to_array(const struct attrs *a, uint32_t *out, size_t max)
{
	size_t off, i, n = 0;
	uint8_t type, cnt;

	ASPATH_FOREACH(a, off, type, cnt)
	{
		(void)type;
		for (i = 0; i < cnt && n < max; i++)
			out[n++] = aspath_get(a->aspath + off + 2 + i * 4);
	}
	return (int)n;
}
