/*
 * What bgpgen sends and how it counts what it receives.
 *
 * The prefix space is a run of equal-length IPv4 prefixes from a base, so
 * every prefix has an index and a receiver can keep a bitmap of the ones it
 * holds: one bit per prefix, 128 KiB for a million.  Announcements set bits,
 * withdrawals (and RFC 7606 treat-as-withdraw) clear them, so "all
 * received" means all distinct prefixes are held at the same moment.
 *
 * Sending is precomputed: the UPDATEs (RFC 4271 §4.3, packed as full as
 * 4096 bytes allow, one attribute set) and the End-of-RIB marker
 * (RFC 4724 §2) are encoded once with update_build() into one flat buffer
 * before the session comes up, so the timed part of a run is only write(2).
 *
 * Fan-out counting knows who owns each index.  A route reflector may send
 * a client its own routes back (RFC 4456 §8 leaves loop prevention to the
 * client, by ORIGINATOR_ID), so those are counted apart and never make a
 * session complete.  A route of another session only counts while its
 * NEXT_HOP is the owner's address: a reflector must leave the next hop
 * alone (RFC 4456 §10), so a wrong one clears the bit like a withdrawal.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/gen.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* prefixes queued for update_build(); one UPDATE takes ~1000 /24s */
#define GEN_CHUNK 16384
#define GEN_MSG_MAX 2048

int
gen_space_init(struct gen_space *sp, const char *base, int len, uint64_t size)
{
	struct addr a;
	uint32_t b;
	uint64_t first, room;

	if (len < 8 || len > 32)
		return -1;
	if (addr_parse(base, &a) == -1 || a.family != AF_INET)
		return -1;
	b = addr_v4(&a);
	if (len < 32)
		b &= ~((1U << (32 - len)) - 1);
	first = (uint64_t)b >> (32 - len);
	room = ((uint64_t)1 << len) - first;
	if (size > room)
		return -1;
	sp->base = b;
	sp->len = len;
	sp->size = size;
	return 0;
}

void
gen_space_prefix(const struct gen_space *sp, uint64_t i, struct prefix *p)
{
	memset(p, 0, sizeof(*p));
	addr_from_v4(&p->a, sp->base + (uint32_t)(i << (32 - sp->len)));
	p->len = sp->len;
}

/* the index of the prefix a/len in the space, or -1 */
int64_t
gen_space_index_v4(const struct gen_space *sp, uint32_t a, uint8_t len)
{
	uint32_t off;

	if (len != sp->len)
		return -1;
	if (a < sp->base)
		return -1;
	off = a - sp->base;
	if (sp->len < 32 && (off & ((1U << (32 - sp->len)) - 1)) != 0)
		return -1;
	if (sp->len < 32)
		off >>= 32 - sp->len;
	if (off >= sp->size)
		return -1;
	return off;
}

/* the index of p in the space, or -1 */
static int64_t
gen_space_index(const struct gen_space *sp, const struct prefix *p)
{
	if (p->a.family != AF_INET)
		return -1;
	return gen_space_index_v4(sp, addr_v4(&p->a), p->len);
}

static void
gen_payload_add(struct gen_payload *pl, size_t *cap, const struct ibuf *m)
{
	size_t n = ibuf_size(m);

	if (pl->len + n > *cap) {
		while (pl->len + n > *cap)
			*cap *= 2;
		pl->buf = xrealloc(pl->buf, *cap);
	}
	memcpy(pl->buf + pl->len, ibuf_data(m), n);
	pl->len += n;
	pl->nmsgs++;
}

/*
 * UPDATEs announcing indices [first, first + n) with attrs, then IPv4
 * End-of-RIB.  Returns -1 if the codec refuses (attributes too large).
 */
int
gen_payload_build(struct gen_payload *pl, const struct gen_space *sp,
    uint64_t first, uint64_t n, const struct attrs *attrs,
    const struct update_ctx *ctx)
{
	struct nlri *chunk;
	struct ibuf *m;
	struct timespec t0, t1;
	size_t cap, fill, pos, done;
	uint64_t i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(pl, 0, sizeof(*pl));
	/* ~4.3 bytes per /24 on the wire; start near the final size */
	cap = 4096 + n * (1 + (sp->len + 7) / 8) * 105 / 100;
	pl->buf = xmalloc(cap);
	chunk = xcalloc(GEN_CHUNK, sizeof(*chunk));

	/*
	 * Keep at least a message's worth queued (2038 /8s fit in 4096
	 * bytes), so every UPDATE but the last is full.
	 */
	for (i = 0, pos = 0, fill = 0;;) {
		if (fill - pos < GEN_MSG_MAX) {
			memmove(
			    chunk, chunk + pos, (fill - pos) * sizeof(*chunk));
			fill -= pos;
			pos = 0;
			for (; fill < GEN_CHUNK && i < n; fill++, i++)
				gen_space_prefix(sp, first + i, &chunk[fill].p);
		}
		if (pos == fill)
			break;
		m = update_build(
		    ctx, AID_IPV4, attrs, chunk + pos, fill - pos, &done);
		if (m == NULL) {
			free(chunk);
			gen_payload_free(pl);
			return -1;
		}
		gen_payload_add(pl, &cap, m);
		ibuf_free(m);
		pos += done;
	}
	m = update_build_eor(AID_IPV4);
	gen_payload_add(pl, &cap, m);
	ibuf_free(m);
	free(chunk);

	pl->nprefixes = n;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	pl->encode_s =
	    (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	return 0;
}

void
gen_payload_free(struct gen_payload *pl)
{
	free(pl->buf);
	memset(pl, 0, sizeof(*pl));
}

void
gen_count_init(struct gen_count *c, uint64_t nbits)
{
	memset(c, 0, sizeof(*c));
	c->nbits = nbits;
	c->bits = xcalloc((nbits + 63) / 64 + 1, sizeof(uint64_t));
}

void
gen_count_free(struct gen_count *c)
{
	free(c->bits);
	memset(c, 0, sizeof(*c));
}

/* the index of a prefix of the space, or -1 (counted as foreign) */
static int64_t
gen_count_index(
    struct gen_count *c, const struct gen_space *sp, const struct nlri *v)
{
	int64_t i;

	if ((i = gen_space_index(sp, &v->p)) == -1 || (uint64_t)i >= c->nbits) {
		c->foreign++;
		return -1;
	}
	return i;
}

static void
gen_count_bit(struct gen_count *c, uint64_t i, bool on)
{
	uint64_t bit = (uint64_t)1 << (i % 64);

	if (on && !(c->bits[i / 64] & bit)) {
		c->bits[i / 64] |= bit;
		c->have++;
	} else if (!on && (c->bits[i / 64] & bit)) {
		c->bits[i / 64] &= ~bit;
		c->have--;
	}
}

static void
gen_count_set(struct gen_count *c, const struct gen_space *sp,
    const struct nlri *v, size_t n, bool on)
{
	int64_t i;
	size_t k;

	for (k = 0; k < n; k++)
		if ((i = gen_count_index(c, sp, &v[k])) != -1)
			gen_count_bit(c, i, on);
}

void
gen_count_update(
    struct gen_count *c, const struct gen_space *sp, const struct update *u)
{
	c->updates++;
	if (u->eor)
		c->eors++;
	c->withdrawn += u->nwithdrawn;
	gen_count_set(c, sp, u->withdrawn, u->nwithdrawn, false);
	if (u->treat_as_withdraw) {
		c->taw++;
		c->withdrawn += u->nannounced;
		gen_count_set(c, sp, u->announced, u->nannounced, false);
		return;
	}
	c->announced += u->nannounced;
	gen_count_set(c, sp, u->announced, u->nannounced, true);
	if (!c->sampled && u->nannounced > 0) {
		c->sampled = true;
		c->sample_nexthop = u->nexthop[AID_IPV4];
		c->sample_aspath_len =
		    aspath_to_array(&u->attrs, c->sample_aspath,
		        sizeof(c->sample_aspath) / sizeof(uint32_t));
	}
}

/*
 * One prefix of fan-out session self's UPDATE: have counts the prefixes of
 * other sessions currently held (with the right next hop if checked).  r
 * is NULL for a withdrawal.
 */
static void
gen_fanout_prefix(struct gen_count *c, const struct gen_space *sp,
    const struct gen_fanout *fo, unsigned int self, int64_t i,
    const struct gen_route *r)
{
	uint64_t owner = (uint64_t)i / fo->per;
	uint32_t want;

	if (owner == self) {
		if (r != NULL)
			c->own++;
		return;
	}
	if (r == NULL) {
		gen_count_bit(c, i, false);
		return;
	}
	if (!r->has_originator ||
	    r->originator != fo->id_base + (uint32_t)owner)
		c->bad_originator++;
	want = fo->nh_base + (uint32_t)owner;
	if (fo->check_nexthop && r->nexthop != want) {
		if (c->wrong_nexthop++ == 0) {
			gen_space_prefix(sp, i, &c->wrong_prefix);
			c->wrong_nh = r->nexthop;
			c->wrong_want = want;
		}
		gen_count_bit(c, i, false);
		return;
	}
	gen_count_bit(c, i, true);
}

/* fan-out counting from an UPDATE that went through update_parse() */
void
gen_count_fanout(struct gen_count *c, const struct gen_space *sp,
    const struct gen_fanout *fo, unsigned int self, const struct update *u)
{
	struct gen_route r;
	int64_t i;
	size_t k;

	c->updates++;
	if (u->eor)
		c->eors++;
	c->withdrawn += u->nwithdrawn;
	for (k = 0; k < u->nwithdrawn; k++)
		if ((i = gen_count_index(c, sp, &u->withdrawn[k])) != -1)
			gen_fanout_prefix(c, sp, fo, self, i, NULL);
	if (u->nannounced == 0)
		return;
	if (u->treat_as_withdraw) {
		c->taw++;
		c->withdrawn += u->nannounced;
	} else
		c->announced += u->nannounced;
	memset(&r, 0, sizeof(r));
	if (u->nexthop[AID_IPV4].family == AF_INET) {
		r.nexthop = addr_v4(&u->nexthop[AID_IPV4]);
		r.has_nexthop = true;
	}
	if (u->attrs.flags & ATTRF_ORIGINATOR_ID) {
		r.originator = u->attrs.originator_id;
		r.has_originator = true;
	}
	for (k = 0; k < u->nannounced; k++)
		if ((i = gen_count_index(c, sp, &u->announced[k])) != -1)
			gen_fanout_prefix(c, sp, fo, self, i,
			    u->treat_as_withdraw ? NULL : &r);
}

/* one encoded IPv4 prefix (RFC 4271 §4.3: length, then its bytes) */
static int
gen_prefix_get(struct ibuf *b, uint32_t *a, uint8_t *len)
{
	uint8_t plen, v[4] = {0, 0, 0, 0};

	if (ibuf_get_n8(b, &plen) == -1 || plen > 32 ||
	    ibuf_get(b, v, (plen + 7) / 8) == -1)
		return -1;
	*a = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 |
	    v[3];
	*len = plen;
	return 0;
}

/*
 * The fan-out fast path: one pass over an UPDATE body (RFC 4271 §4.3), no
 * allocation, reading only what a client checks: IPv4 withdrawn routes and
 * NLRI, NEXT_HOP and ORIGINATOR_ID (RFC 4456 §8); other attributes are
 * skipped by length.  update_parse() costs ~5x more (it builds the whole
 * route, RFC 7606 included), and a generator receiving N^2 UPDATEs must
 * stay far cheaper than the reflector it measures.  Anything malformed
 * fails the session: there is no treat-as-withdraw here.  Returns how many
 * prefixes were announced, or -1 with err set.
 */
int
gen_fanout_update(struct gen_count *c, const struct gen_space *sp,
    const struct gen_fanout *fo, unsigned int self, struct ibuf *body,
    struct bgp_err *err)
{
	struct ibuf wd, attrs, val;
	struct gen_route r;
	uint16_t wlen, alen, vlen;
	uint8_t hdr[3], flags, type, v8, len;
	uint32_t a;
	int64_t i;
	int n = 0;

	if (ibuf_get_n16(body, &wlen) == -1 ||
	    ibuf_get_ibuf(body, wlen, &wd) == -1 ||
	    ibuf_get_n16(body, &alen) == -1 ||
	    ibuf_get_ibuf(body, alen, &attrs) == -1) {
		err_set(err, ERR_UPD_ATTRLIST, NULL, 0,
		    "section lengths overrun the UPDATE");
		return -1;
	}
	memset(&r, 0, sizeof(r));
	while (ibuf_size(&attrs) > 0) {
		/* flags, type and a one-octet length in one read */
		if (ibuf_get(&attrs, hdr, sizeof(hdr)) == -1)
			goto badattrs;
		flags = hdr[0];
		type = hdr[1];
		vlen = hdr[2];
		if (flags & ATTR_EXTLEN) {
			if (ibuf_get_n8(&attrs, &v8) == -1)
				goto badattrs;
			vlen = vlen << 8 | v8;
		}
		if (type != ATTR_NEXTHOP && type != ATTR_ORIGINATOR_ID) {
			if (ibuf_skip(&attrs, vlen) == -1)
				goto badattrs;
			continue;
		}
		if (ibuf_get_ibuf(&attrs, vlen, &val) == -1)
			goto badattrs;
		if (vlen != 4 || ibuf_get_n32(&val, &a) == -1) {
			err_set(err, ERR_UPD_ATTRLEN, NULL, 0,
			    "attribute %u: length %u", type, vlen);
			return -1;
		}
		if (type == ATTR_NEXTHOP) {
			r.nexthop = a;
			r.has_nexthop = true;
		} else {
			r.originator = a;
			r.has_originator = true;
		}
	}

	c->updates++;
	if (wlen == 0 && alen == 0 && ibuf_size(body) == 0) {
		c->eors++; /* RFC 4724 §2: IPv4 End-of-RIB */
		return 0;
	}
	while (ibuf_size(&wd) > 0) {
		if (gen_prefix_get(&wd, &a, &len) == -1)
			goto badnet;
		c->withdrawn++;
		if ((i = gen_space_index_v4(sp, a, len)) == -1 ||
		    (uint64_t)i >= c->nbits)
			c->foreign++;
		else
			gen_fanout_prefix(c, sp, fo, self, i, NULL);
	}
	if (ibuf_size(body) > 0 && !r.has_nexthop) {
		err_set(err, ERR_UPD_MISSING_WK, NULL, 0, "no NEXT_HOP");
		return -1;
	}
	while (ibuf_size(body) > 0) {
		if (gen_prefix_get(body, &a, &len) == -1)
			goto badnet;
		c->announced++;
		n++;
		if ((i = gen_space_index_v4(sp, a, len)) == -1 ||
		    (uint64_t)i >= c->nbits)
			c->foreign++;
		else
			gen_fanout_prefix(c, sp, fo, self, i, &r);
	}
	return n;

badattrs:
	err_set(err, ERR_UPD_ATTRLIST, NULL, 0, "malformed attribute list");
	return -1;
badnet:
	err_set(err, ERR_UPD_NETWORK, NULL, 0, "malformed prefix");
	return -1;
}
