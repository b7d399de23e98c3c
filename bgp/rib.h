/*
 * The routing information base: one prefix trie per address family holding
 * every path received from every source (the Adj-RIBs-In share the entries),
 * ordered best first by the decision process, so the head of an entry's path
 * list is the Loc-RIB route.  The RIB knows nothing of sessions: a source is a
 * struct rib_src that the session layer owns and describes.
 *
 * Every change is reported synchronously through the rib's change hook with
 * the entry's previous best path still valid, so exporters can compare what
 * they advertised with what is best now without keeping an Adj-RIB-Out.
 */
#ifndef PODMESH_BGP_RIB_H
#define PODMESH_BGP_RIB_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "lib/addr.h"
#include "bgp/wire.h"

struct rib_path;

/* a source of paths: a peer, or ourselves (ebgp false, id 0) */
struct rib_src {
	uint32_t id; /* unique, 0 = locally originated */
	struct addr addr; /* peer address, for the tie-break */
	uint32_t bgpid; /* peer BGP identifier, host order */
	uint32_t asn;
	bool ebgp;
	bool rr_client;
	void *owner; /* the session layer's peer */
	TAILQ_HEAD(, rib_path) paths; /* this source's Adj-RIB-In */
	size_t npaths;
	size_t nstale;
};

#define PATH_STALE 0x1 /* RFC 4724: kept from before the peer restarted */

struct rib_path {
	struct rib_path *next; /* in the entry, best first */
	struct rib_entry *entry;
	struct rib_src *src;
	struct attrs *attrs; /* interned, one reference */
	uint32_t path_id; /* as received (ADD-PATH), else 0 */
	uint32_t flags;
	uint32_t tx_id; /* ADD-PATH id we send; assigned by the exporter */
	TAILQ_ENTRY(rib_path) src_entry;
};

struct rib_entry {
	struct prefix prefix;
	struct rib_path *paths; /* best first; NULL once all are gone */
};

enum rib_change {
	RIB_ADD, /* path is new */
	RIB_REPLACE, /* path got new attributes */
	RIB_DELETE, /* path is going away (still valid during the hook) */
};

/*
 * Called after the entry's path list is re-sorted.  old_best is the best path
 * before the change (NULL if there was none); e->paths is the best now.
 * During RIB_DELETE the deleted path is unlinked but not yet freed.
 */
typedef void (*rib_change_cb)(struct rib_entry *e, struct rib_path *old_best,
    struct rib_path *path, enum rib_change what, void *arg);

struct rib;

struct rib *rib_new(rib_change_cb, void *);
void rib_free(struct rib *);
void rib_src_init(struct rib_src *, uint32_t);

/* attrs is interned; the rib takes its own reference */
int rib_update(struct rib *, struct rib_src *, const struct prefix *, uint32_t,
    struct attrs *);
int rib_withdraw(
    struct rib *, struct rib_src *, const struct prefix *, uint32_t);
void rib_flush_src(struct rib *, struct rib_src *);
void rib_mark_stale(struct rib *, struct rib_src *, int);
void rib_flush_stale(struct rib *, struct rib_src *, int);
struct rib_entry *rib_lookup(struct rib *, const struct prefix *);
size_t rib_count(const struct rib *, enum aid);

/* in prefix order; the callback must not change the rib */
typedef void (*rib_walk_cb)(struct rib_entry *, void *);
void rib_walk(struct rib *, enum aid, rib_walk_cb, void *);

/* memory accounting, for the control socket, benchmarks and tests */
struct rib_stats {
	size_t entries[AID_MAX];
	size_t paths;
	size_t nodes; /* internal tree nodes */
	size_t bytes; /* held by the rib, attributes excluded */
};
void rib_stats_get(const struct rib *, struct rib_stats *);

/* decision.c: RFC 4271 §9.1.2.2 plus RFC 4456 §9 tie-breaks */
int path_cmp(const struct rib_path *, const struct rib_path *);
const char *path_cmp_reason(const struct rib_path *, const struct rib_path *);

#endif
