/*
 * Internals of the IPAM client (store/ipam*.c): the keys as read with the
 * mod_revision each write compares (ipam_io.c), the block claim and the
 * affinity release (ipam_io.c), and the hostname-seeded walk over a
 * pool's blocks (ipam_walk.c).  Names here avoid those podmeshctl's
 * ctl/ipam*.c define (ipam_block_op, ipam_kv_json, ...), which links this
 * library beside them.
 */
#ifndef PODMESH_STORE_IPAM_INT_H
#define PODMESH_STORE_IPAM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "store/etcd.h"
#include "store/ipam.h"
#include "store/model.h"

#define IPAM_KEYLEN 1200 /* handle keys carry a CNI network and id */

struct ipam {
	struct etcd *etcd;
	char *host;
	enum ipam_error errkind; /* of the last call */
	bool badblock; /* ipam_read() failed on the block's value */
};

/* a block as read; mod 0 when the key does not exist (b is then zeroed) */
struct ipam_blk {
	char key[IPAM_KEYLEN];
	struct prefix cidr;
	int64_t mod;
	struct model_block b;
};

/* a handle as read; key "" when there is none, mod 0 when absent */
struct ipam_hkv {
	char key[IPAM_KEYLEN];
	char *id;
	int64_t mod;
	struct model_handle h;
};

/* an affinity key as read or listed */
struct ipam_akv {
	char key[IPAM_KEYLEN];
	struct prefix cidr;
	int64_t mod; /* 0: absent */
	struct model_affinity a;
};

/* a block of a listing, as the claim and borrowing phases need it */
struct ipam_lblk {
	unsigned __int128 lo, hi; /* its first and last address */
	struct prefix cidr;
	char *host; /* its affinity's host, or NULL */
	size_t nfree;
	bool ok; /* decoded; a block that does not is never touched */
};

struct ipam_listing {
	struct ipam_lblk *v; /* sorted by lo */
	size_t n;
};

/* ipam_io.c */
/* the message into err, the kind for ipam_error_kind(); returns -1 */
int ipam_fail(struct ipam *, enum ipam_error, char *, size_t, const char *, ...)
    __attribute__((format(printf, 5, 6)));
/* a public call's end: a -1 nothing classified is IPAM_E_OTHER */
int ipam_done(struct ipam *, int);
/* "WHAT: etcd ENDPOINT: ..." as IPAM_E_DATASTORE */
int ipam_etcd_fail(struct ipam *, const char *, char *, size_t);
void ipam_blk_clean(struct ipam_blk *);
void ipam_hkv_clean(struct ipam_hkv *);
/*
 * One txn reading the block of cidr, the handle (if handle is set) and this
 * host's affinity for the block (if akv is not NULL).  blk, hkv and akv
 * start zeroed (or hold an earlier read, which is replaced).
 */
int ipam_read(struct ipam *, const struct prefix *, const char *handle,
    struct ipam_blk *, struct ipam_hkv *, struct ipam_akv *, char *, size_t);
/*
 * One txn: the block (put, or deleted when empty and affine to nobody) if
 * bput, the handle (put, or deleted when it counts nothing) if hput, each
 * key compared on its mod_revision whether written or not.  0 written
 * (mods updated), 1 another client changed one of them (both read again
 * into blk and hkv), -1 error.  hkv NULL or with key "": no handle.
 */
int ipam_write(struct ipam *, struct ipam_blk *, bool bput, struct ipam_hkv *,
    bool hput, char *, size_t);
/* the handle alone; 0 (hkv->mod 0 if absent) or -1 */
int ipam_hkv_read(
    struct ipam *, const char *, struct ipam_hkv *, char *, size_t);
int ipam_akv_read(struct ipam *, const char *host, const struct prefix *,
    struct ipam_akv *, char *, size_t);
/* every affinity of host for family, sorted by key; *out free()d */
int ipam_akv_list(struct ipam *, const char *host, int family,
    struct ipam_akv **out, size_t *n, char *, size_t);
void ipam_akvs_free(struct ipam_akv *, size_t);
/* the same from a range answer (keys of other hosts, families skipped) */
void ipam_akv_parse(const char *host, int family, const struct etcd_result *,
    struct ipam_akv **out, size_t *n);
/* every block of family, values decoded (for claims and borrowing) */
int ipam_list_blocks(
    struct ipam *, int family, struct ipam_listing *, char *, size_t);
void ipam_listing_clean(struct ipam_listing *);
/* the listed block overlapping [lo, hi], or NULL */
const struct ipam_lblk *ipam_listing_find(
    const struct ipam_listing *, unsigned __int128, unsigned __int128);
/*
 * Make cidr's block this host's, Calico's two phases: the affinity
 * written pending (created, or moved back from pendingDeletion), the
 * block created if absent, the affinity confirmed.  0: the block exists,
 * affine to this host, the affinity confirmed.  1: the block is another
 * host's (or nobody's): our pending affinity is deleted again.  -1 error.
 */
int ipam_claim(struct ipam *, const struct prefix *, char *, size_t);
/*
 * Release host's affinity for cidr in one txn: its block deleted if empty,
 * else left affine to nobody (or, with require_empty, left as it is: 1),
 * and the affinity key deleted.  0 done (or nothing to do), 1 refused.
 */
int ipam_unaffine(struct ipam *, const char *host, const struct prefix *,
    bool require_empty, char *, size_t);

/* ipam_walk.c: the blocks of a pool, from a start the host name seeds */
struct ipam_walk {
	struct prefix pool;
	int blocklen;
	unsigned __int128 nblocks;
	unsigned __int128 start; /* index of the first block */
	unsigned __int128 done; /* blocks returned so far */
};

/* FNV-1 32-bit, Go's hash/fnv New32 (the seed Calico takes) */
uint32_t ipam_fnv32(const char *);
void ipam_walk_init(
    struct ipam_walk *, const struct prefix *pool, int blocklen, const char *);
/* the next block, false after every block of the pool came once */
bool ipam_walk_next(struct ipam_walk *, struct prefix *);
/* where a block inside the pool comes in the walk: 0 is the first */
unsigned __int128 ipam_walk_pos(const struct ipam_walk *, const struct addr *);
/* an address as a 128-bit number and back */
unsigned __int128 ipam_addr_u128(const struct addr *);
void ipam_u128_addr(unsigned __int128, int family, struct addr *);

#endif
