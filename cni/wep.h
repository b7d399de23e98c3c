/*
 * The WorkloadEndpoint a pod gets in etcd (Calico v3, projectcalico.org
 * workloadendpoints/<namespace>/<name>), written at ADD, removed at DEL
 * only when it still belongs to the container being deleted.
 */
#ifndef PODMESH_CNI_WEP_H
#define PODMESH_CNI_WEP_H

#include <stddef.h>

#include "cni/cni.h"
#include "lib/addr.h"

struct etcd;
struct resource;

struct cni_wep_req {
	const char *node;
	const char *orchestrator; /* "k8s" or "cni" */
	const char *namespace; /* k8s: the pod's; cni: "default" */
	const char *pod; /* k8s only */
	const char *container_id;
	const char *endpoint; /* CNI_IFNAME */
	const char *network; /* the network name (cni: the profile) */
	const char *host_ifname; /* NULL at DEL */
	const char *mac; /* the pod side's; NULL at DEL */
	const struct prefix *nets; /* /32 and /128 */
	size_t nnets;
};

/* Create or replace it; error 11 when etcd is unreachable. */
int cni_wep_write(
    struct etcd *, const struct cni_wep_req *, struct cni_error *);
/*
 * Delete it if its containerID is req->container_id (compare-and-delete on
 * its revision): CNI_WEP_DELETED; CNI_WEP_KEPT when it is another
 * container's (a stale DEL for an old sandbox of the pod, whose host link
 * name the new sandbox now uses); CNI_WEP_ABSENT when there is none (or
 * the request cannot even name one: what ADD refused, DEL must not); -1
 * on error.
 */
#define CNI_WEP_DELETED 0
#define CNI_WEP_KEPT 1
#define CNI_WEP_ABSENT 2
int cni_wep_delete(
    struct etcd *, const struct cni_wep_req *, struct cni_error *);
/* CHECK: it exists, is this container's and lists nets; error 5 if not */
int cni_wep_check(
    struct etcd *, const struct cni_wep_req *, struct cni_error *);

/*
 * The resource cni_wep_write stores, without uid and creationTimestamp
 * (no I/O; for tests and for the writer).  Error 7 naming the part when a
 * name cannot be made (a part empty, or starting or ending with '-').  r
 * is left to resource_clean() either way.
 */
int cni_wep_build(
    const struct cni_wep_req *, struct resource *, struct cni_error *);
/*
 * GC: delete this node's WorkloadEndpoints of orchestrator "cni" for this
 * network (profile = network) whose containerID/endpoint pair is not in
 * valid (the config's "cni.dev/valid-attachments": [{containerID, ifname}]).
 * Kubernetes ones are left to the Kubernetes side.  Continues past
 * failures; error 11/5 for the first one.  *ndeleted counts removals.
 */
int cni_wep_gc(struct etcd *, const char *node, const char *network,
    const json_t *valid, size_t *ndeleted, struct cni_error *);

#endif
