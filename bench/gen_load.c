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

/* asks for the bitmap's first 4 KiB in the cache, not waiting for it */
void
gen_count_prefetch(const struct gen_count *c)
{
	size_t k, words = (c->nbits + 63) / 64;

	if (words > 512)
		words = 512;
	for (k = 0; k < words; k += 8)
		__builtin_prefetch(&c->bits[k], 1);
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

/*
 * The fan-out fast path.  A fan-out run receives N^2 UPDATEs (a million
 * at 1,000 clients, 25 million at 5,000), and the generator must stay far
 * cheaper than the reflector it measures, so the loop below is what the
 * whole receive side costs per message: frame it in place in the read
 * buffer, walk its attributes for NEXT_HOP, ORIGINATOR_ID and
 * MP_(UN)REACH_NLRI (RFC 4271 §4.3, RFC 4456 §8, RFC 4760), skipping the
 * rest by length, and flip one bit per prefix.  Plain pointer arithmetic
 * with explicit bounds, no allocation, no call per message or per prefix,
 * no clock: update_parse() costs several times more (it builds the whole
 * route, RFC 7606 included) and stays available as --full-parse.
 * Anything malformed fails the session: there is no treat-as-withdraw.
 */

/* the wire is big-endian and unaligned */
static inline uint16_t
gen_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
gen_be32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

/* the octets of an address a prefix of 0..4 octets leaves */
static const uint32_t gen_nbmask[5] = {
    0, 0xff000000, 0xffff0000, 0xffffff00, 0xffffffff};

void
gen_fanout_init(struct gen_fanout *fo, const struct gen_space *sp)
{
	fo->base = sp->base;
	fo->len = sp->len;
	fo->shift = 32 - sp->len;
	fo->hostmask = sp->len < 32 ? (1U << (32 - sp->len)) - 1 : 0;
}

/* the largest attribute section gen_fo_learn() keeps, in 8-octet words */
#define GEN_FO_TWORDS 8

/*
 * The fast path's working state, a local copy of the run's constants and
 * of the session's counters.  Through a struct gen_count the compiler
 * must assume that every store to the bitmap (uint64_t) may change the
 * counters and the constants beside it, and reload them; this copy lives
 * on the stack of gen_fanout_batch() and its address escapes nowhere, so
 * the prefix loop keeps what it needs in registers (gen_fo_prefixes()
 * copies it into locals).  gen_fo_done() adds the counters back.
 */
struct gen_fo {
	uint64_t *bits;
	uint64_t nbits;
	uint64_t per;
	uint32_t base, nh_base, id_base;
	uint32_t mask; /* the octets a prefix of the space has */
	uint32_t hbits; /* host bits inside them: set, not of the space */
	uint8_t len, shift;
	uint8_t nb; /* how many */
	bool check_nexthop;
	unsigned int self;
	/*
	 * The owner of the index looked up last: an UPDATE's prefixes, and
	 * those of the next UPDATEs from the same originator, share one, so
	 * the division is done about once per originator, not per prefix.
	 */
	uint64_t lo; /* its first index */
	uint64_t owner;
	uint64_t nown; /* how many owners the space has */

	uint64_t have, updates, eors, announced, withdrawn, foreign, own;
	uint64_t wrong, badorig;
	struct gen_count *c; /* for the first wrong next hop */

	/*
	 * The attribute section of the UPDATE before, as 8-octet words with
	 * the values of NEXT_HOP and ORIGINATOR_ID masked out.  A reflector
	 * sends each originator's routes with the same attributes but for
	 * those two, so a section that matches it needs no walk, only the
	 * two values read at known offsets.
	 */
	uint64_t tw[GEN_FO_TWORDS]; /* the octets, masked */
	uint64_t tm[GEN_FO_TWORDS]; /* the mask */
	size_t talen; /* 0: no template */
	size_t tnh, tid; /* offsets of the two values, SIZE_MAX if absent */
};

/* learns the attribute section a[0, alen) as the template */
static void
gen_fo_learn(
    struct gen_fo *f, const uint8_t *a, size_t alen, size_t nh, size_t id)
{
	uint8_t val[GEN_FO_TWORDS * 8], mask[GEN_FO_TWORDS * 8];

	memset(val, 0, sizeof(val));
	memset(mask, 0, sizeof(mask));
	memcpy(val, a, alen);
	memset(mask, 0xff, alen);
	if (nh != SIZE_MAX) {
		memset(val + nh, 0, 4);
		memset(mask + nh, 0, 4);
	}
	if (id != SIZE_MAX) {
		memset(val + id, 0, 4);
		memset(mask + id, 0, 4);
	}
	memcpy(f->tw, val, sizeof(f->tw));
	memcpy(f->tm, mask, sizeof(f->tm));
	f->talen = alen;
	f->tnh = nh;
	f->tid = id;
}

/*
 * Does a[0, alen) match the template?  Reads up to 7 octets past the
 * section (masked out), which the caller guarantees are there.
 */
static inline __attribute__((always_inline)) bool
gen_fo_same(const struct gen_fo *f, const uint8_t *a, size_t alen)
{
	uint64_t w, diff = 0;
	size_t k;

	if (alen == 0 || alen != f->talen)
		return false;
	for (k = 0; k < (alen + 7) / 8; k++) {
		memcpy(&w, a + 8 * k, sizeof(w));
		diff |= (w & f->tm[k]) ^ f->tw[k];
	}
	return diff == 0;
}

static inline __attribute__((always_inline)) void
gen_fo_start(struct gen_fo *f, struct gen_count *c, const struct gen_fanout *fo,
    unsigned int self)
{
	memset(f, 0, sizeof(*f));
	f->bits = c->bits;
	f->nbits = c->nbits;
	f->per = fo->per;
	f->base = fo->base;
	f->nh_base = fo->nh_base;
	f->id_base = fo->id_base;
	f->len = fo->len;
	f->shift = fo->shift;
	f->nb = (fo->len + 7) / 8;
	f->mask = gen_nbmask[f->nb];
	f->hbits = fo->hostmask & f->mask;
	f->check_nexthop = fo->check_nexthop;
	f->self = self;
	f->owner = self;
	f->lo = (uint64_t)self * fo->per;
	f->nown = c->nbits / fo->per;
	f->have = c->have;
	f->c = c;
}

/* the first wrong next hop of a session, for the report */
static void
gen_fo_wrong(struct gen_count *c, uint32_t a, unsigned int plen, uint32_t nh,
    uint32_t want)
{
	memset(&c->wrong_prefix, 0, sizeof(c->wrong_prefix));
	addr_from_v4(&c->wrong_prefix.a, a);
	c->wrong_prefix.len = plen;
	c->wrong_nh = nh;
	c->wrong_want = want;
}

static inline __attribute__((always_inline)) void
gen_fo_done(const struct gen_fo *f, struct gen_count *c)
{
	c->have = f->have;
	c->updates += f->updates;
	c->eors += f->eors;
	c->announced += f->announced;
	c->withdrawn += f->withdrawn;
	c->foreign += f->foreign;
	c->own += f->own;
	c->wrong_nexthop += f->wrong;
	c->bad_originator += f->badorig;
}

/* what a route of a given owner is to a session, as gen_fo_verdict says */
#define GEN_FO_OWN 0x1 /* the session's own prefix, sent back */
#define GEN_FO_WRONG 0x2 /* not the owner's next hop */
#define GEN_FO_BADORIG 0x4 /* ORIGINATOR_ID absent or not the owner's */

static inline __attribute__((always_inline)) unsigned int
gen_fo_verdict(
    const struct gen_fo *f, uint64_t owner, uint32_t by_nh, uint32_t by_id)
{
	unsigned int v = 0;

	if (owner == f->self)
		return GEN_FO_OWN;
	if (f->check_nexthop && by_nh != (uint32_t)owner)
		v |= GEN_FO_WRONG;
	if (by_id != (uint32_t)owner)
		v |= GEN_FO_BADORIG;
	return v;
}

/*
 * The prefixes in p[0, end) (RFC 4271 §4.3: a length octet, then as few
 * octets as the length needs), announced with r or, with r NULL,
 * withdrawn.  Returns how many there were, or -1 if one is malformed.
 *
 * A prefix of the space's length with four octets to spare behind it
 * costs one load; any other goes octet by octet.  The owners that the
 * next hop and ORIGINATOR_ID name are worked out once per call, and what
 * a route is to the session (held, own, wrong next hop) once per owner,
 * so a prefix of the same originator as the one before is one branch.
 * The loop works on locals, written back at the end.
 */
static inline __attribute__((always_inline)) long
gen_fo_prefixes(struct gen_fo *f, const uint8_t *p, const uint8_t *end,
    const struct gen_route *r)
{
	uint64_t *bits = f->bits;
	const uint64_t nbits = f->nbits, per = f->per;
	uint64_t lo = f->lo, owner = f->owner, have = f->have, w, bit;
	const uint32_t base = f->base, hbits = f->hbits;
	const unsigned int len = f->len, shift = f->shift, step = 1 + f->nb;
	uint32_t a, i, by_nh = 0, by_id = 0;
	unsigned int plen, nb, v = 0;
	long n = 0;

	if (r != NULL) {
		by_nh = r->nexthop - f->nh_base;
		by_id =
		    r->has_originator ? r->originator - f->id_base : UINT32_MAX;
		/*
		 * Guess that the prefixes are the next hop's owner's, as
		 * they are unless the reflector is wrong; an index outside
		 * [lo, lo + per) corrects it.  A next hop of no session
		 * gives lo = nbits, which no index is inside.
		 */
		if (by_nh < f->nown) {
			owner = by_nh;
			lo = (uint64_t)by_nh * per;
		} else
			lo = nbits;
		v = gen_fo_verdict(f, owner, by_nh, by_id);
	}
	for (; p < end; n++) {
		plen = *p;
		if (__builtin_expect(plen == len && end - p > 4, 1)) {
			/*
			 * One load.  The octets past the prefix are host bits
			 * of the space's length, which the index drops (the
			 * base is aligned): only those inside it are checked.
			 */
			a = gen_be32(p + 1);
			p += step;
		} else {
			p++;
			nb = (plen + 7) / 8;
			if (plen > 32 || (size_t)(end - p) < nb) {
				n = -1;
				break;
			}
			a = 0;
			switch (nb) {
			case 4:
				a |= p[3];
				__attribute__((fallthrough));
			case 3:
				a |= (uint32_t)p[2] << 8;
				__attribute__((fallthrough));
			case 2:
				a |= (uint32_t)p[1] << 16;
				__attribute__((fallthrough));
			case 1:
				a |= (uint32_t)p[0] << 24;
			}
			p += nb;
			if (plen != len) {
				f->foreign++;
				continue;
			}
		}
		/*
		 * Below the base, a - base wraps to an index past the space:
		 * the base is aligned and the space ends by 2^32 at the
		 * latest.
		 */
		if ((a & hbits) || (i = (a - base) >> shift) >= nbits) {
			f->foreign++;
			continue;
		}
		if (i - lo >= per) {
			/* another owner than the one before (a 32-bit div) */
			owner = i / (uint32_t)per;
			lo = owner * per;
			if (r != NULL)
				v = gen_fo_verdict(f, owner, by_nh, by_id);
		}
		w = i / 64;
		bit = (uint64_t)1 << (i % 64);
		if (r == NULL) {
			/* our own prefixes never count; nothing to clear */
			if (owner != f->self && (bits[w] & bit)) {
				bits[w] &= ~bit;
				have--;
			}
			continue;
		}
		if (__builtin_expect(v == 0, 1)) {
			have += !(bits[w] & bit);
			bits[w] |= bit;
			continue;
		}
		if (v & GEN_FO_OWN) {
			f->own++;
			continue;
		}
		if (v & GEN_FO_BADORIG)
			f->badorig++;
		if (v & GEN_FO_WRONG) {
			/* not held (RFC 4456 §10); the first is reported */
			if (f->wrong++ == 0 && f->c->wrong_nexthop == 0)
				gen_fo_wrong(f->c, a & f->mask, plen,
				    r->nexthop, f->nh_base + (uint32_t)owner);
			if (bits[w] & bit) {
				bits[w] &= ~bit;
				have--;
			}
			continue;
		}
		have += !(bits[w] & bit);
		bits[w] |= bit;
	}
	f->lo = lo;
	f->owner = owner;
	f->have = have;
	return n;
}

/* the attributes the fast path reads; it skips the others by length */
#define GEN_FO_ATTRS                                                           \
	(1U << ATTR_NEXTHOP | 1U << ATTR_ORIGINATOR_ID | 1U << ATTR_MP_REACH | \
	    1U << ATTR_MP_UNREACH)

/*
 * One UPDATE body p[0, n).  Returns how many prefixes it announced, or -1
 * with err set.
 */
static inline __attribute__((always_inline)) long
gen_fo_body(struct gen_fo *f, const uint8_t *p, size_t n, struct bgp_err *err)
{
	const uint8_t *end = p + n, *a, *aend, *v, *sect;
	const uint8_t *mpr = NULL, *mprend = NULL, *mpu = NULL, *mpuend = NULL;
	struct gen_route r, mr;
	size_t wlen, alen, vlen, nhoff = SIZE_MAX, idoff = SIZE_MAX;
	uint8_t type;
	long k, nann = 0;

	if (n < 4 || (wlen = gen_be16(p)) > n - 4 ||
	    (alen = gen_be16(p + 2 + wlen)) > n - 4 - wlen) {
		err_set(err, ERR_UPD_ATTRLIST, NULL, 0,
		    "section lengths overrun the UPDATE");
		return -1;
	}
	f->updates++;
	if (n == 4) {
		f->eors++; /* RFC 4724 §2: IPv4 End-of-RIB */
		return 0;
	}
	a = p + 4 + wlen;
	aend = a + alen;
	r.has_nexthop = r.has_originator = false;
	r.nexthop = r.originator = 0;
	if (end - aend >= 7 && gen_fo_same(f, a, alen)) {
		if (f->tnh != SIZE_MAX) {
			r.nexthop = gen_be32(a + f->tnh);
			r.has_nexthop = true;
		}
		if (f->tid != SIZE_MAX) {
			r.originator = gen_be32(a + f->tid);
			r.has_originator = true;
		}
		goto walked;
	}
	sect = a;
	while (a < aend) {
		if (aend - a < 3)
			goto badattrs;
		type = a[1];
		if (a[0] & ATTR_EXTLEN) {
			if (aend - a < 4)
				goto badattrs;
			vlen = gen_be16(a + 2);
			v = a + 4;
		} else {
			vlen = a[2];
			v = a + 3;
		}
		if (vlen > (size_t)(aend - v))
			goto badattrs;
		a = v + vlen;
		if (type >= 16 || !((1U << type) & GEN_FO_ATTRS))
			continue;
		switch (type) {
		case ATTR_NEXTHOP:
		case ATTR_ORIGINATOR_ID:
			if (vlen != 4) {
				err_set(err, ERR_UPD_ATTRLEN, NULL, 0,
				    "attribute %u: length %zu", type, vlen);
				return -1;
			}
			if (type == ATTR_NEXTHOP) {
				r.nexthop = gen_be32(v);
				r.has_nexthop = true;
				nhoff = v - sect;
			} else {
				r.originator = gen_be32(v);
				r.has_originator = true;
				idoff = v - sect;
			}
			break;
		case ATTR_MP_REACH:
			mpr = v;
			mprend = a;
			break;
		case ATTR_MP_UNREACH:
			mpu = v;
			mpuend = a;
			break;
		}
	}
	/* a section with MP attributes varies with its NLRI: not learnt */
	if (mpr == NULL && mpu == NULL && alen > 0 && alen <= sizeof(f->tw))
		gen_fo_learn(f, sect, alen, nhoff, idoff);

walked:
	if ((k = gen_fo_prefixes(f, p + 2, p + 2 + wlen, NULL)) == -1)
		goto badnet;
	f->withdrawn += k;
	if (mpu != NULL) {
		/* RFC 4760 §4: AFI, SAFI, withdrawn routes */
		if (mpuend - mpu < 3)
			goto badmp;
		if (gen_be16(mpu) == AFI_IPV4 && mpu[2] == SAFI_UNICAST) {
			if ((k = gen_fo_prefixes(f, mpu + 3, mpuend, NULL)) ==
			    -1)
				goto badmp;
			f->withdrawn += k;
		}
	}
	if (aend < end) {
		if (!r.has_nexthop) {
			err_set(
			    err, ERR_UPD_MISSING_WK, NULL, 0, "no NEXT_HOP");
			return -1;
		}
		if ((k = gen_fo_prefixes(f, aend, end, &r)) == -1)
			goto badnet;
		f->announced += k;
		nann += k;
	}
	if (mpr != NULL) {
		/* RFC 4760 §3: AFI, SAFI, next hop, a reserved octet, NLRI */
		if (mprend - mpr < 5 || mprend - mpr < 5 + mpr[3])
			goto badmp;
		if (gen_be16(mpr) == AFI_IPV4 && mpr[2] == SAFI_UNICAST) {
			if (mpr[3] != 4)
				goto badmp;
			mr = r;
			mr.nexthop = gen_be32(mpr + 4);
			mr.has_nexthop = true;
			if ((k = gen_fo_prefixes(f, mpr + 9, mprend, &mr)) ==
			    -1)
				goto badmp;
			f->announced += k;
			nann += k;
		}
	}
	return nann;

badattrs:
	err_set(err, ERR_UPD_ATTRLIST, NULL, 0, "malformed attribute list");
	return -1;
badnet:
	err_set(err, ERR_UPD_NETWORK, NULL, 0, "malformed prefix");
	return -1;
badmp:
	err_set(err, ERR_UPD_OPTATTR, NULL, 0, "malformed MP_(UN)REACH_NLRI");
	return -1;
}

/*
 * Counts the whole UPDATEs at the start of buf[0, len), in place, and
 * stops at the first message that is anything else: not complete yet,
 * another type, or a header the general path must judge (and refuse).
 * Returns the bytes consumed, or -1 with err set at a malformed UPDATE
 * (those before it are counted); adds the prefixes announced to *nann.
 */
long
gen_fanout_batch(struct gen_count *c, const struct gen_fanout *fo,
    unsigned int self, const uint8_t *buf, size_t len, uint64_t *nann,
    struct bgp_err *err)
{
	struct gen_fo f;
	const uint8_t *m;
	uint64_t m0, m1, ann = 0;
	size_t pos = 0, mlen;
	long k = 0;

	gen_fo_start(&f, c, fo, self);
	while (len - pos >= BGP_HDR_LEN) {
		m = buf + pos;
		mlen = gen_be16(m + BGP_MARKER_LEN);
		memcpy(&m0, m, sizeof(m0));
		memcpy(&m1, m + 8, sizeof(m1));
		if (m[BGP_MARKER_LEN + 2] != MSG_UPDATE ||
		    mlen < BGP_HDR_LEN + 4 || mlen > BGP_MAX_LEN ||
		    mlen > len - pos || (m0 & m1) != UINT64_MAX)
			break;
		k = gen_fo_body(&f, m + BGP_HDR_LEN, mlen - BGP_HDR_LEN, err);
		if (k == -1)
			break;
		ann += k;
		pos += mlen;
	}
	gen_fo_done(&f, c);
	*nann += ann;
	return k == -1 ? -1 : (long)pos;
}

/* one UPDATE body framed elsewhere; returns prefixes announced or -1 */
int
gen_fanout_update(struct gen_count *c, const struct gen_fanout *fo,
    unsigned int self, const struct ibuf *body, struct bgp_err *err)
{
	struct gen_fo f;
	long k;

	gen_fo_start(&f, c, fo, self);
	k = gen_fo_body(&f, ibuf_data(body), ibuf_size(body), err);
	gen_fo_done(&f, c);
	return k;
}
