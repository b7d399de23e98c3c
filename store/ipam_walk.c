/*
 * The order in which a host looks at a pool's blocks (calico.md §2,
 * libcalico-go randomBlockGenerator): every block of the pool once, from a
 * start index chosen by a generator seeded with the FNV-32 hash of the
 * host name, walking forward and wrapping around.  Each host thus starts
 * at its own place, the same every time, and hosts allocating at once
 * rarely reach for the same free block.
 *
 * Calico draws the start from Go's math/rand seeded with that hash; this
 * draws it from splitmix64 seeded with the same hash, so the walk has the
 * same shape and is as deterministic, but does not start at the block
 * Calico's would for the same name.
 */
#include <string.h>

#include "store/ipam_int.h"

uint32_t
ipam_fnv32(const char *s)
{
	uint32_t h = 0x811c9dc5;

	for (; *s != '\0'; s++) {
		h *= 0x01000193;
		h ^= (uint8_t)*s;
	}
	return h;
}

static uint64_t
ipam_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

unsigned __int128
ipam_addr_u128(const struct addr *a)
{
	unsigned __int128 v = 0;
	int i, n = addr_bytes(a->family);

	for (i = 0; i < n; i++)
		v = (v << 8) | a->b[i];
	return v;
}

void
ipam_u128_addr(unsigned __int128 v, int family, struct addr *a)
{
	int i, n = addr_bytes(family);

	memset(a, 0, sizeof(*a));
	a->family = family;
	for (i = n - 1; i >= 0; i--) {
		a->b[i] = (uint8_t)v;
		v >>= 8;
	}
}

void
ipam_walk_init(struct ipam_walk *w, const struct prefix *pool, int blocklen,
    const char *host)
{
	uint64_t seed = ipam_fnv32(host);
	unsigned __int128 r;
	int bits = blocklen - pool->len;

	memset(w, 0, sizeof(*w));
	w->pool = *pool;
	prefix_mask(&w->pool);
	w->blocklen = blocklen;
	if (bits < 0)
		bits = 0; /* a pool smaller than a block (callers skip it) */
	if (bits > 127)
		bits = 127; /* ::/0 in /128 blocks: the walk covers half */
	w->nblocks = (unsigned __int128)1 << bits;
	r = ipam_splitmix64(&seed);
	r = (r << 64) | ipam_splitmix64(&seed);
	w->start = r % w->nblocks;
}

static int
ipam_walk_shift(const struct ipam_walk *w)
{
	return addr_maxlen(w->pool.a.family) - w->blocklen;
}

bool
ipam_walk_next(struct ipam_walk *w, struct prefix *out)
{
	unsigned __int128 idx, base;

	if (w->done >= w->nblocks)
		return false;
	idx = w->start + w->done;
	if (idx >= w->nblocks) /* no overflow: both are below 2^127 */
		idx -= w->nblocks;
	w->done++;
	base = ipam_addr_u128(&w->pool.a) + (idx << ipam_walk_shift(w));
	memset(out, 0, sizeof(*out));
	ipam_u128_addr(base, w->pool.a.family, &out->a);
	out->len = w->blocklen;
	return true;
}

unsigned __int128
ipam_walk_pos(const struct ipam_walk *w, const struct addr *a)
{
	unsigned __int128 idx;

	idx = (ipam_addr_u128(a) - ipam_addr_u128(&w->pool.a)) >>
	    ipam_walk_shift(w);
	idx %= w->nblocks;
	return idx >= w->start ? idx - w->start : idx + w->nblocks - w->start;
}
