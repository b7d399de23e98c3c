/*
 * podmesh-bgpd's datastore mode: the glue between the watch cache of
 * Calico's datastore and the speaker.  It derives the node's BGP setup
 * (node/derive.h) whenever the datastore changes, turns it into a struct
 * bgpd_config built on the file's, and hands that to the daemon only when
 * it differs from what runs; it keeps the kernel sync's route policy and
 * the VXLAN neighbour entries current.
 *
 *	ds = node_ds_new(base, file_conf, apply, arg, err, sizeof(err));
 *	...apply(nc, arg) is called with each new configuration (ownership
 *	passes), first once the datastore has been read...
 *	node_ds_set_kernel(ds, kernel);
 *	node_ds_free(ds);
 */
#ifndef PODMESH_NODE_DSMODE_H
#define PODMESH_NODE_DSMODE_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct bgpd_config;
struct kernel;
struct node_ds;

typedef void node_ds_apply_fn(struct bgpd_config *, void *);

struct node_ds *node_ds_new(struct event_base *, const struct bgpd_config *,
    node_ds_apply_fn *, void *, char *, size_t);
void node_ds_free(struct node_ds *);
/* SIGHUP: a new file configuration to build on (copied) */
void node_ds_set_file(struct node_ds *, const struct bgpd_config *);
/* the kernel sync to shape routes for (NULL: none) */
void node_ds_set_kernel(struct node_ds *, struct kernel *);
/* 1 while the cache equals etcd (the readiness condition) */
bool node_ds_synced(const struct node_ds *);
/* the watch cache, for its statistics (metrics) */
struct wcache;
const struct wcache *node_ds_cache(const struct node_ds *);

/* for tests: the derived configuration, as it would be applied */
struct bgpd_config *node_ds_build(const struct bgpd_config *,
    const struct wcache *, const char *, char *, size_t);
bool node_ds_config_same(
    const struct bgpd_config *, const struct bgpd_config *);

#endif
