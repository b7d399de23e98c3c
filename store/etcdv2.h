/*
 * etcd v2 client (the /v2/keys HTTP API), for reading and writing the
 * datastore of an existing Calico v2.6 deployment (calico.md §1); the main
 * user is `podmeshctl migrate from-etcdv2`.  etcd 3.4 serves this API only
 * when started with --enable-v2, and keeps its keys apart from v3's.
 *
 * Every call blocks (one curl easy handle) and returns -1 on failure with a
 * message naming the endpoint, the operation, the key and etcd's errorCode
 * and message:
 *
 *	etcd http://127.0.0.1:2379: set /calico/v1/Ready: error 105: Key
 *	already exists
 *
 * etcdv2_error() gives it, etcdv2_last_error() the code (an etcdv2_code
 * for answers from etcd).  A compare that does not hold (prevIndex,
 * prevValue, prevExist) is such an error: code 101 or 105.
 *
 * The handle takes the v3 client's struct etcd_config: endpoints (tried in
 * order, starting from the last one that answered; one that cannot be
 * reached moves to the next), TLS (CA, client certificate and key) and a
 * username/password, sent as HTTP basic auth as etcd v2 wants it.  base is
 * not used.
 *
 * Not thread safe.
 */
#ifndef PODMESH_STORE_ETCDV2_H
#define PODMESH_STORE_ETCDV2_H

#include <stddef.h>
#include <stdint.h>

#include "store/etcd.h"

struct etcdv2;

/* etcd v2's errorCode values (etcd's error package) a caller acts on. */
enum etcdv2_code {
	ETCDV2_KEY_NOT_FOUND = 100,
	ETCDV2_COMPARE_FAILED = 101, /* prevIndex or prevValue */
	ETCDV2_NOT_A_FILE = 102,
	ETCDV2_NOT_A_DIR = 104,
	ETCDV2_NODE_EXISTS = 105, /* prevExist=false on an existing key */
	ETCDV2_DIR_NOT_EMPTY = 108,
	ETCDV2_UNAUTHORIZED = 110,
	ETCDV2_INDEX_CLEARED = 401, /* waitIndex older than etcd's history */
};

enum etcdv2_errkind {
	ETCDV2_E_NONE,
	ETCDV2_E_CONNECT, /* no endpoint could be reached */
	ETCDV2_E_ETCD, /* etcd answered with an errorCode: code */
	ETCDV2_E_HTTP, /* an HTTP error without etcd's JSON (404: no v2) */
	ETCDV2_E_PROTO, /* an answer that is not what etcd sends */
};

struct etcdv2_error {
	enum etcdv2_errkind kind;
	int code; /* etcd's errorCode; 0 unless kind is ETCDV2_E_ETCD */
	int http_status;
	int64_t index; /* etcd's index in the error answer */
	char msg[768];
};

/*
 * One node.  Values are strings in v2; value_len allows for a "\u0000" in
 * one.  A directory, a deleted or expired key have value "".
 */
struct etcdv2_node {
	char *key; /* "/calico/v1/Ready"; NULL in an empty slot */
	char *value; /* never NULL when key is set */
	size_t value_len;
	int dir;
	int64_t modified_index;
	int64_t created_index;
	int64_t ttl; /* seconds left; 0: no TTL */
};

enum etcdv2_action {
	ETCDV2_ACT_OTHER, /* an action this client does not know */
	ETCDV2_ACT_GET,
	ETCDV2_ACT_SET,
	ETCDV2_ACT_CREATE,
	ETCDV2_ACT_UPDATE,
	ETCDV2_ACT_DELETE,
	ETCDV2_ACT_EXPIRE,
	ETCDV2_ACT_CAS, /* compareAndSwap */
	ETCDV2_ACT_CAD, /* compareAndDelete */
};

/*
 * An answer.  node is what the request (or the watched event) acted on;
 * prev the node before it when etcd sends one (set over an existing key,
 * delete, compare-and-swap).  nodes is filled by etcdv2_list only.
 */
struct etcdv2_result {
	enum etcdv2_action action;
	int64_t index; /* X-Etcd-Index: etcd's index when it answered */
	int found; /* get, list: 0 when the key does not exist */
	struct etcdv2_node node;
	struct etcdv2_node prev;
	struct etcdv2_node *nodes;
	size_t nnodes;
};

enum etcdv2_prev_exist {
	ETCDV2_PREV_ANY, /* no condition */
	ETCDV2_PREV_EXISTS, /* update only */
	ETCDV2_PREV_ABSENT, /* create only (105 if it exists) */
};

/* Conditions and flags of a set or delete; NULL means none. */
struct etcdv2_opts {
	int64_t prev_index; /* only if modifiedIndex is this (0: any) */
	const char *prev_value; /* only if the value is this (NULL: any) */
	enum etcdv2_prev_exist prev_exist;
	int64_t ttl; /* set: expire after ttl seconds (0: never) */
	int dir; /* set: a directory; delete: an empty directory */
	int recursive; /* delete: a directory and everything under it */
};

/* NULL with *err filled when the configuration is unusable. */
struct etcdv2 *etcdv2_new(const struct etcd_config *, struct etcdv2_error *);
void etcdv2_free(struct etcdv2 *);
const char *etcdv2_error(const struct etcdv2 *);
const struct etcdv2_error *etcdv2_last_error(const struct etcdv2 *);
/* The endpoint that answered last (or will be tried first). */
const char *etcdv2_endpoint(const struct etcdv2 *);

/* Frees what a result or node holds (not the struct) and zeroes it. */
void etcdv2_result_clean(struct etcdv2_result *);
void etcdv2_node_clean(struct etcdv2_node *);

/*
 * Reads are linearizable (quorum=true).  0 on success with *res filled,
 * which the caller cleans; -1 on failure with res left clean.
 */
/* One key (or a directory, without its children); found 0 if absent. */
int etcdv2_get(struct etcdv2 *, const char *, struct etcdv2_result *);
/*
 * A whole tree: res->nodes holds every directory and key under dir, flat
 * and sorted by key (strcmp), dir itself left out (res->node); a plain key
 * lists as itself.  A missing dir is found 0 and no nodes, not an error.
 * res->index is the index to watch from, plus one.
 */
int etcdv2_list(struct etcdv2 *, const char *, struct etcdv2_result *);
/* key, value (ignored for opts->dir), opts or NULL, res or NULL */
int etcdv2_set(struct etcdv2 *, const char *, const char *,
    const struct etcdv2_opts *, struct etcdv2_result *);
int etcdv2_delete(struct etcdv2 *, const char *, const struct etcdv2_opts *,
    struct etcdv2_result *);

/*
 * Long poll for the first change to key (recursive: or under it) at index
 * wait_index or later (0: the next one from now).  0: res holds it (action,
 * node, prev); resume from res->node.modified_index + 1.  1: timeout_ms
 * passed (0: wait for ever) without a change; res->index is etcd's index
 * when it took the poll (0 if it did not say), so nothing changed up to
 * there and the next poll may wait from res->index + 1.  -1: error; code
 * ETCDV2_INDEX_CLEARED says wait_index is older than the 1000 events etcd
 * keeps, and the caller must list again.
 */
int etcdv2_watch(struct etcdv2 *, const char *, int64_t, int, int,
    struct etcdv2_result *); /* key, wait_index, recursive, timeout_ms */

/*
 * etcdv2_sync keeps a caller's copy of a tree: list, then watch from the
 * listing's index + 1, one event at a time; when etcd has cleared that
 * index, list again (relist 1), and go on from the new listing.
 */
enum etcdv2_sync_kind {
	ETCDV2_SYNC_LIST, /* res: a full listing, replacing what came before */
	ETCDV2_SYNC_EVENT, /* res: one change */
	ETCDV2_SYNC_IDLE, /* poll_ms passed without a change; res NULL;
	                   * next_index moved on to etcd's index + 1 */
};

struct etcdv2_sync_update {
	enum etcdv2_sync_kind kind;
	struct etcdv2_result *res; /* the callback may take nodes out */
	int relist; /* LIST: because the index was cleared */
	int64_t next_index; /* the waitIndex of the next poll */
};

/* Returns 0 to go on, anything else to stop etcdv2_sync. */
typedef int etcdv2_sync_cb(struct etcdv2_sync_update *, void *);

/*
 * Runs until the callback stops it (0) or an error (-1: no endpoint
 * answered, say).  from: 0 lists first; else watching starts at that index,
 * so a sync that failed resumes with the last update's next_index.  Events
 * that remove (delete, expire, compareAndDelete) a directory remove
 * everything under it.
 */
int etcdv2_sync(struct etcdv2 *, const char *, int64_t, int, etcdv2_sync_cb *,
    void *); /* prefix, from, poll_ms */

/*
 * Parsers, pure (no I/O), for the client itself and for tests.  An answer
 * is the body etcd sent and its HTTP status; with flat, every node under
 * the answer's node goes into res->nodes, sorted.  0 with res filled
 * (res->index untouched), or -1 with err filled and res clean.
 */
int etcdv2_parse_answer(const char *, size_t, long, int, struct etcdv2_result *,
    struct etcdv2_error *);
/*
 * One header line as curl hands it over ("X-Etcd-Index: 7\r\n"): 1 with
 * *index set for X-Etcd-Index, 0 for any other header, -1 for an
 * X-Etcd-Index that is not a number.
 */
int etcdv2_parse_index_header(const char *, size_t, int64_t *);

#endif
