/*
 * Internals of the v1 reader (store/migrate_v1.c, migrate_wep.c,
 * migrate_ipam.c): the conversion state, v1 keys sorted into per-host
 * records and the IPAM blocks seen so far, and the helpers that parse v1
 * values and add v3 items and messages to the plan.  Not for other
 * modules: store/migrate.h is the interface.
 */
#ifndef PODMESH_STORE_MIGRATE_INT_H
#define PODMESH_STORE_MIGRATE_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "store/etcdv2.h"
#include "store/migrate.h"
#include "store/model.h"

/* write order: what refers to something comes after it */
enum {
	PHASE_BGPCONFIG,
	PHASE_NODE,
	PHASE_PEER,
	PHASE_POOL,
	PHASE_IPAMCONFIG,
	PHASE_BLOCK,
	PHASE_HANDLE,
	PHASE_AFFINITY,
	PHASE_WEP,
	PHASE_CLUSTER, /* datastoreReady once the rest is there */
};

#define SEG_MAX 12
#define KEY_MAX 1024

struct v1host {
	char *name; /* as v1 spells it */
	const struct etcdv2_node *meta, *ip4, *ip6, *net4, *net6, *asn;
	const struct etcdv2_node *loglevel, *bird4, *bird6, *tunnel, *orchrefs;
	const struct etcdv2_node *any; /* some key of this host */
};

struct v1block {
	struct prefix cidr;
	char *host; /* normalised; NULL: no host affinity */
};

struct conv {
	struct migrate_plan *p;
	struct v1host *hosts;
	size_t nhosts;
	size_t last; /* the host looked up last: keys come sorted */
	const struct etcdv2_node *g_asn, *g_mesh, *g_log;
	const struct etcdv2_node *ready, *guid, *ctype, *cversion;
	struct v1block *blocks;
	size_t nblocks;
	const struct etcdv2_node **affs;
	size_t naffs;
	size_t seq;
	size_t nerrors;
};

struct segs {
	char buf[KEY_MAX];
	const char *s[SEG_MAX];
	size_t n;
};

/* migrate_v1.c */
void migrate_v1_msg(struct conv *, enum migrate_level, const char *,
    const char *, ...) __attribute__((format(printf, 4, 5)));
/* a key's segments: "/calico/v1/Ready" -> calico, v1, Ready */
int migrate_v1_split(const char *, struct segs *);
/* a JSON value for messages, cut short */
const char *migrate_v1_jrepr(const json_t *, char *, size_t);
/* the v1 value as a JSON map, or NULL after an error naming the key */
json_t *migrate_v1_object(struct conv *, const struct etcdv2_node *);
/* a warning for each member not in the NULL-ended list */
void migrate_v1_unknown(
    struct conv *, const struct etcdv2_node *, json_t *, const char *const *);
/*
 * A member of a v1 map: *out NULL when absent (or null), else it has
 * jansson type (JSON_TRUE: a boolean); -1 after an error naming the key.
 */
int migrate_v1_member(struct conv *, const struct etcdv2_node *, json_t *,
    const char *, int, json_t **);
/* converters.ConvertNodeName; -1 after an error naming key */
int migrate_v1_node_name(struct conv *, const char *, const char *, char *,
    size_t); /* v1 name, key, buf, len */
/* value is taken over */
void migrate_v1_add_item(struct conv *, int, const char *, json_t *,
    const char *, const char *); /* phase, key, value, source, what */
/* the resource as stored (validated) */
void migrate_v1_add_resource(
    struct conv *, int, struct resource *, const char *);

/* migrate_wep.c: /calico/v1/host/<h>/workload/<orch>/<id>/endpoint/<ep> */
void migrate_wep_convert(struct conv *, const struct etcdv2_node *,
    const char *, const char *, const char *, const char *);

/* migrate_ipam.c */
void migrate_ipam_block(struct conv *, const struct etcdv2_node *, const char *,
    const char *); /* "ipv4", the key's CIDR */
/* after every block */
void migrate_ipam_affinity(struct conv *, const struct etcdv2_node *);
void migrate_ipam_handle(
    struct conv *, const struct etcdv2_node *, const char *);
void migrate_ipam_config(struct conv *, const struct etcdv2_node *);

#endif
