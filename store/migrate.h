/*
 * Migration of a Calico v2.6 datastore (etcd v2, calico.md §1, §2) to
 * Calico's v3 data model in etcd v3: what `podmeshctl migrate from-etcdv2`
 * does.  The mapping is libcalico-go's upgrade migrator's (calico-upgrade,
 * lib/upgrade/{migrator,converters}):
 *
 *  - /calico/v1/host/<h>/metadata is a node: Node normalize(h), with
 *    spec.bgp from /calico/bgp/v1/host/<h>/{ip_addr_v4,network_v4,
 *    ip_addr_v6,network_v6,as_num} (no address, no spec.bgp) and
 *    ipv4IPIPTunnelAddr from /calico/v1/host/<h>/config/IpInIpTunnelAddr;
 *  - /calico/bgp/v1/global/{as_num,node_mesh,loglevel}: BGPConfiguration
 *    "default" (only when one is set); a node's loglevel: "node.<name>";
 *  - global peers: BGPPeer "192-0-2-1" (IPv6: eight full groups); a node's
 *    peers: "<node>.192-0-2-1" with spec.node;
 *  - /calico/v1/ipam/v{4,6}/pool/<cidr>: IPPool "198-18-0-0-16", ipipMode
 *    Never without an ipip interface, else CrossSubnet or Always from
 *    ipip_mode; natOutgoing from masquerade; blockSize 26 / 122;
 *  - workload endpoints under /calico/v1/host/<h>/workload/: the v3
 *    WorkloadEndpoint, names and profiles as Calico converts them;
 *  - /calico/v1/Ready and the ClusterGUID, ClusterType and CalicoVersion
 *    Felix keys: ClusterInformation "default", datastoreReady true (what
 *    it ends as: podmesh has no separate "complete" step; see Locking);
 *  - the IPAM tree (/calico/ipam/v2/, the same keys in both eras): blocks
 *    and affinities with the host normalised, handles and the IPAM config
 *    as they are; a v2.6 affinity ("{}") becomes {"state":"confirmed"} when
 *    its block is affine to that host, else "pending" (a claim v2.6 never
 *    finished; v3 finishes or drops it).
 *
 * Where Calico's mapping changes what BIRD does, podmesh keeps the meaning:
 * a v1 loglevel "none" becomes Warning (confd renders every level but
 * debug and info as none; calico-upgrade writes Info), and any other level
 * but debug becomes Info (v1 rendered them all as info).  What v3 has no
 * place for (Felix configuration, policy, profiles, host endpoints, custom
 * BIRD filters, route reflector registrations) is listed as skipped.
 *
 * A value that does not parse, or converts into a resource that does not
 * validate, is an error naming the v1 key; two v1 keys that become one v3
 * key are an error naming both.  With any error nothing is written.
 *
 * Writing: a key absent from v3 is created; one present with an equal
 * value (compared through the model, uid and creationTimestamp aside) is
 * unchanged; one present with another value is a conflict and is not
 * written, unless force, which overwrites it (keeping its uid and
 * creationTimestamp).  With conflicts that are not overwritten nothing is
 * written.  Writes go in compare-and-swap txns of at most 128 keys (etcd's
 * --max-txn-ops default) in dependency order (BGP configuration, nodes,
 * peers, pools, IPAM, endpoints, ClusterInformation last), so a second run
 * finds every key unchanged and writes nothing.
 *
 * IPAM (every key under /calico/ipam/) is the exception to force: a block,
 * handle or affinity that v3 holds with another value has most likely been
 * allocated from since v2 was read (Calico v3 was already running), and the
 * v2 snapshot would free those addresses, to be handed out twice.  So force
 * leaves conflicting IPAM keys alone (state KEPT: listed as such, with what
 * differs, and counted) and writes the rest.  Only force_ipam overwrites
 * them: dangerous, for a v3 datastore known to hold nothing live.
 *
 * Locking, as calico-upgrade does it.  Calico v2.6's CNI plugin and Felix
 * go on allocating addresses in etcd v2 while the migration runs, and an
 * allocation made after v2 was read never reaches v3: the address is later
 * handed out again.  v2.6 stops when /calico/v1/Ready is not "true", so
 * with apply, before v2 is listed:
 *  1. Ready is compare-and-swapped from "true" to "false" (prevValue): the
 *     v2.6 side stops allocating.  Already "false" (a run before this one,
 *     or an operator who stopped it) is fine and left so; absent, it is
 *     created "false" (unless /calico is absent too: nothing to lock, and
 *     nothing to migrate); any other value is an error and nothing is
 *     done.
 *  2. /calico is listed; its etcd v2 index is the snapshot's.
 *  3. v3 is compared; with errors or conflicts nothing is written, and a
 *     Ready that step 1 changed is set back to "true".
 *  4. Before the first key is written, ClusterInformation "default" is put
 *     with datastoreReady false, so that v3 clients do not act on half a
 *     datastore; then the keys, batch by batch.
 *  5. etcd v2 must not have changed under /calico since the listing (a
 *     v2.6 component that had read Ready just before step 1): if it has,
 *     the run fails naming the key, datastoreReady stays false and running
 *     again picks the change up.
 *  6. ClusterInformation is put with datastoreReady true: the last write.
 * Ready stays "false" in v2 afterwards: v3 is now the datastore.  A dry run
 * touches neither flag (it says what apply would do).  A v3
 * ClusterInformation that differs from the migrated one only in
 * datastoreReady (a run that stopped between 4 and 6) is an update, not a
 * conflict: the flag is the migration's own.
 */
#ifndef PODMESH_STORE_MIGRATE_H
#define PODMESH_STORE_MIGRATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct etcd;
struct etcdv2;
struct etcdv2_node;

#define MIGRATE_V1_ROOT "/calico" /* what is read from etcd v2 */
#define MIGRATE_V1_READY "/calico/v1/Ready" /* v2.6's "go" flag */
#define MIGRATE_IPAM_PREFIX "/calico/ipam/" /* what force leaves alone */
#define MIGRATE_CLUSTER_KEY                                                    \
	"/calico/resources/v3/projectcalico.org/clusterinformations/default"
/* how long to wait for a change under /calico when etcd v2's index moved */
#define MIGRATE_V1_CHECK_MS 1000
#define MIGRATE_TXN_OPS 128
#define MIGRATE_TXN_BYTES (1024 * 1024) /* values per txn, before base64 */

enum migrate_state {
	MIGRATE_PENDING, /* converted; v3 not read yet */
	MIGRATE_CREATE, /* absent from v3 */
	MIGRATE_UNCHANGED, /* present and equal */
	MIGRATE_CONFLICT, /* present and different: left alone */
	MIGRATE_UPDATE, /* present and different, and force: overwritten */
	MIGRATE_KEPT, /* IPAM, present and different, force: left alone */
};

/* one v3 key the migration writes */
struct migrate_item {
	char *key;
	char *value; /* compact JSON; resources without uid, timestamp */
	char *what; /* "Node node1", "IPAM block 198.18.0.0/26" */
	char *source; /* the v1 key (or directory) it comes from */
	int phase; /* write order, then key */
	enum migrate_state state;
	int64_t mod_revision; /* of the v3 key as read; 0: absent */
	char *current; /* the v3 value as read, or NULL */
	char *diff; /* CONFLICT, UPDATE: "spec.asNumber, spec.bgp" */
	bool written;
};

enum migrate_level {
	MIGRATE_ERROR, /* broken v1 data: nothing is written */
	MIGRATE_WARNING, /* migrated, or dropped, with something to know */
	MIGRATE_SKIPPED, /* v1 data v3 (or podmesh) has no place for */
};

struct migrate_msg {
	enum migrate_level level;
	char *key; /* the v1 key; SKIPPED: the subtree, "/calico/v1/config/" */
	char *text;
	size_t count; /* SKIPPED: keys under it */
	size_t seq; /* order of discovery */
};

/* /calico/v1/Ready as the lock found it (Locking, step 1) */
enum migrate_lock_state {
	MIGRATE_LOCK_NONE, /* not touched: a dry run, or no /calico at all */
	MIGRATE_LOCK_TAKEN, /* was "true", set to "false" by this run */
	MIGRATE_LOCK_HELD, /* was "false" already */
	MIGRATE_LOCK_CREATED, /* was absent, created "false" by this run */
};

/* what the run did to the ready flags, and when (for the report) */
struct migrate_lock {
	enum migrate_lock_state state;
	int64_t ready_index; /* v2: Ready's modifiedIndex, "false" */
	int64_t list_index; /* v2: the index the listing was read at */
	int64_t check_index; /* v2: unchanged under /calico up to here */
	int64_t hold_rev; /* v3: ClusterInformation, datastoreReady false */
	int64_t ready_rev; /* v3: ClusterInformation, datastoreReady true */
	bool released; /* Ready set back: nothing was written */
};

struct migrate_plan {
	struct migrate_item *items; /* in write order */
	size_t nitems;
	struct migrate_msg *msgs; /* errors, warnings, skipped; by key */
	size_t nmsgs;
	size_t nv1; /* v1 keys read (directories aside) */
	struct migrate_lock lock;
};

struct migrate_counts {
	size_t create, update, unchanged, conflict, written;
	size_t kept; /* IPAM conflicts force left alone */
	size_t errors, warnings, skipped; /* skipped: v1 keys */
};

struct migrate_opts {
	bool apply; /* false: a dry run, nothing is written */
	bool force; /* overwrite v3 keys that hold other values, but IPAM */
	/*
	 * Dangerous: overwrite IPAM keys (blocks, handles, affinities, the
	 * config) that hold other values in v3 with v2's.  Addresses v3
	 * allocated since become free in the blocks and are handed out again
	 * while still in use.  Only for a v3 datastore nothing allocates from
	 * (a half-finished migration, say).  Independent of force.
	 */
	bool force_ipam;
	FILE *out; /* the plan and what was done; NULL: silent */
};

/*
 * The whole command: with opts->apply lock v2.6 (Locking above), list
 * MIGRATE_V1_ROOT over the v2 API, convert, read the v3 keys, print the
 * plan to opts->out and, with opts->apply, write (Locking, 4 to 6).
 * 0: done (dry run: the plan can be applied); 1: the plan has errors, or
 * conflicts not overwritten: nothing written; -1: etcd failed, v2 holds no
 * Calico data, or changed under /calico while migrating; err says why.
 * Batches written before stay, datastoreReady stays false, and running
 * again goes on from there.  counts may be NULL.
 */
int migrate_from_etcdv2(struct etcdv2 *, struct etcd *,
    const struct migrate_opts *, struct migrate_counts *, char *err,
    size_t errlen);

/* The steps, for the command above and for tests. */
void migrate_plan_init(struct migrate_plan *);
void migrate_plan_clean(struct migrate_plan *);
/*
 * migrate_v1.c, pure: a flat listing of the v1 tree (etcdv2_list's nodes;
 * directories are ignored) into items and messages.  Returns the number of
 * errors.
 */
size_t migrate_convert(
    struct migrate_plan *, const struct etcdv2_node *, size_t);
/*
 * An item against the v3 value at its key (NULL: absent) and that key's
 * mod_revision: state, current and diff set.  opts: force and force_ipam
 * (NULL: neither).
 */
void migrate_classify(struct migrate_item *, const char *, size_t, int64_t,
    const struct migrate_opts *);
/* every item against v3, read in txns of MIGRATE_TXN_OPS ranges */
int migrate_compare(struct migrate_plan *, struct etcd *,
    const struct migrate_opts *, char *err, size_t errlen);
/*
 * Locking, step 1 (migrate_lock.c): Ready to "false"; p->lock says how.
 * -1 with err when etcd v2 fails or Ready holds something else.
 */
int migrate_lock_v1(struct migrate_plan *, struct etcdv2 *, char *, size_t);
/* Ready back as it was, if this run changed it; -1 with err */
int migrate_unlock_v1(struct migrate_plan *, struct etcdv2 *, char *, size_t);
/*
 * Locking, step 5: 0 when nothing under MIGRATE_V1_ROOT changed since
 * p->lock.list_index; -1 with err naming the change, or etcd's failure.
 */
int migrate_check_v1(struct migrate_plan *, struct etcdv2 *, char *, size_t);
/*
 * Writes the CREATE and UPDATE items but the ClusterInformation, each txn
 * guarded by the mod_revision read, after putting the ClusterInformation
 * with datastoreReady false (Locking, step 4) if anything else is written.
 * -1 when etcd fails or another writer got there first (err names a key);
 * the txns before stay written.
 */
int migrate_write(struct migrate_plan *, struct etcd *, char *, size_t);
/*
 * Locking, step 6: the ClusterInformation with datastoreReady true, when
 * it is to be written or was held false.  -1 with err.
 */
int migrate_ready(struct migrate_plan *, struct etcd *, char *, size_t);
void migrate_count(const struct migrate_plan *, struct migrate_counts *);
/* the plan, one line per key or message, then a summary */
void migrate_print(
    const struct migrate_plan *, const struct migrate_opts *, FILE *);
const struct migrate_item *migrate_find(
    const struct migrate_plan *, const char *key);
const char *migrate_state_name(enum migrate_state, bool written);

#endif
