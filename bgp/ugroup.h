/*
 * Update groups: peers whose outbound policy is the same share one queue of
 * pending changes, one export computation and one stream of encoded
 * UPDATEs.  Each message is encoded once and written to every member; each
 * member has its own position in the stream, so a slow member falls behind
 * without holding the others back, and one that falls too far behind leaves
 * for a group of its own (and comes back once it has caught up).
 *
 * Only export.c and ugroup.c see these structures.
 */
#ifndef PODMESH_BGP_UGROUP_H
#define PODMESH_BGP_UGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "lib/addr.h"
#include "bgp/wire.h"

#define UG_LAG_MAX (4 * 1024 * 1024) /* stream bytes a member may lag */

struct bgpd;
struct peer;
struct out_queue;
struct rib_path;
struct export_cache;

/* what makes two peers' outbound UPDATEs byte for byte the same */
struct ugroup_key {
	struct update_ctx ctx; /* 4-octet AS, eBGP, ADD-PATH send, max size */
	struct addr local; /* our address: the next hop we set */
	bool mp[AID_MAX];
	uint16_t addpath_max[AID_MAX]; /* best N paths sent; 0 = all */
	bool rr_client;
	bool next_hop_self;
};

#define UG_PAGE_SIZE (64 * 1024)

/*
 * The stream's bytes, a page at a time.  Members' output buffers refer to
 * the pages instead of holding copies, so a thousand members cost one copy
 * of the stream plus a small reference each.  A page is freed when the
 * last message on it and the last output buffer referring to it let go.
 */
struct ug_page {
	unsigned int refcnt;
	size_t len, cap;
	uint8_t data[];
};

/* one encoded UPDATE in a group's stream */
struct ug_msg {
	unsigned int refcnt; /* groups holding it: a split shares the tail */
	uint32_t src_id; /* the single source of what it announces, or 0 */
	uint32_t nprefixes; /* prefixes announced, for statistics */
	uint64_t off; /* stream bytes before it */
	struct ug_page *page; /* where its bytes are */
	uint32_t pos, len;
	struct ibuf *wd; /* for the source member instead: withdrawals */
};

struct ugroup {
	TAILQ_ENTRY(ugroup) entry;
	struct bgpd *bgpd;
	struct ugroup_key key;
	TAILQ_HEAD(, peer) members;
	unsigned int nmembers;
	struct out_queue *q; /* changes not yet encoded */
	bool fed; /* changes have been queued for it (backpressure) */
	/* the stream: messages [head, tail) by sequence number, in a ring */
	struct ug_msg **ring;
	uint64_t cap; /* a power of two */
	uint64_t head, tail;
	uint64_t tail_off; /* stream bytes up to tail */
	struct ug_page *page; /* being filled */
	bool dirty; /* members moved on: trim and check at the next flush */
	struct export_cache *cache; /* export.c's, per group */
};

/* ugroup.c */
void ugroup_key_make(const struct peer *, struct ugroup_key *);
struct ugroup *ugroup_new(struct bgpd *, const struct ugroup_key *);
void ugroup_free(struct ugroup *);
void ugroup_add_member(struct ugroup *, struct peer *);
void ugroup_remove_member(struct peer *);
struct ugroup *ugroup_split(struct peer *);
void ugroup_append(
    struct ugroup *, struct ibuf *, struct ibuf *, uint32_t, uint32_t);
void ugroup_flush(struct ugroup *);
void ugroup_member_ready(struct peer *);

/* outq.c: pending changes, one item per (prefix, path id) */
struct out_queue *outq_new(void);
void outq_free(struct out_queue *);
void outq_clear(struct out_queue *);
size_t outq_len(const struct out_queue *);
void outq_add(struct out_queue *, const struct prefix *, uint32_t, bool);
bool outq_pop(struct out_queue *, struct prefix *, uint32_t *, bool *);
void outq_copy(struct out_queue *, const struct out_queue *);

/* export.c: policy and encoding for a group */
size_t export_encode(struct ugroup *);
void export_group_table(struct ugroup *, enum aid);
void export_member_done(struct peer *);
void export_cache_free(struct export_cache *);

#endif
