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

/* the index of p in the space, or -1 */
static int64_t
gen_space_index(const struct gen_space *sp, const struct prefix *p)
{
	uint32_t a, off;

	if (p->a.family != AF_INET || p->len != sp->len)
		return -1;
	a = addr_v4(&p->a);
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

static void
gen_count_set(struct gen_count *c, const struct gen_space *sp,
    const struct nlri *v, size_t n, bool on)
{
	uint64_t bit;
	int64_t i;
	size_t k;

	for (k = 0; k < n; k++) {
		if ((i = gen_space_index(sp, &v[k].p)) == -1 ||
		    (uint64_t)i >= c->nbits) {
			c->foreign++;
			continue;
		}
		bit = (uint64_t)1 << (i % 64);
		if (on && !(c->bits[i / 64] & bit)) {
			c->bits[i / 64] |= bit;
			c->have++;
		} else if (!on && (c->bits[i / 64] & bit)) {
			c->bits[i / 64] &= ~bit;
			c->have--;
		}
	}
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
