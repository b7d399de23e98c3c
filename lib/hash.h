/* Non-cryptographic hashing for in-memory tables. */
#ifndef PODMESH_HASH_H
#define PODMESH_HASH_H

#include <stddef.h>
#include <stdint.h>

uint32_t hash_bytes(const void *, size_t, uint32_t);
uint32_t hash_u32(uint32_t, uint32_t);

#endif
