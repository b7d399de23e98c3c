/*
 * FNV-1a over bytes, with a final avalanche so that low bits are usable as a
 * bucket index.
 */
#include "hash.h"

static uint32_t
hash_final(uint32_t h)
{
	h ^= h >> 16;
	h *= 0x85ebca6bU;
	h ^= h >> 13;
	h *= 0xc2b2ae35U;
	h ^= h >> 16;
	return h;
}

uint32_t
hash_bytes(const void *data, size_t len, uint32_t seed)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261U ^ seed;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619U;
	}
	return hash_final(h);
}

uint32_t
hash_u32(uint32_t v, uint32_t seed)
{
	return hash_final(v ^ (seed * 0x9e3779b9U));
}
