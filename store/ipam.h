/*
 * Calico's IPAM on etcd v3 (calico.md §2; libcalico-go lib/ipam), as a
 * library: per-host block affinities, allocation from affine blocks,
 * claiming new blocks, borrowing, handles, release.  Used by podmesh-node
 * (the tunnel address, handle "ipip-tunnel-addr-<node>"), podmeshctl
 * (ipam assign/release) and the CNI IPAM plugin.
 *
 * The data is Calico's own (store/model.h holds the codecs and keys), so a
 * podmesh client and a Calico client can share one datastore.  Every write
 * is a compare-and-swap transaction on the mod_revision of each key it
 * depends on, retried up to IPAM_CAS_RETRIES times when another client got
 * there first, so any number of processes on any number of hosts may
 * allocate at once and no address is ever handed out twice.
 *
 * An address and its handle's count are written in one transaction (Calico
 * increments the handle, writes the block, and decrements the handle again
 * if that failed; one etcd txn does the same with no window in between, so
 * a client killed at any point leaves no handle counting an address no
 * block holds).  Claiming a block is Calico's two phases: the affinity
 * written "pending", the block created (only if absent), the affinity
 * "confirmed"; a client killed between them leaves a pending affinity that
 * the host's next allocation completes.
 *
 * Functions return 0 on success and -1 with a message in err (errlen
 * bytes) otherwise: "pool 198.18.0.0/16 is exhausted", "198.18.0.5 is
 * already assigned", "etcd http://...: ...".  Not thread safe: one struct
 * ipam (and its struct etcd) per thread.
 */
#ifndef PODMESH_STORE_IPAM_H
#define PODMESH_STORE_IPAM_H

#include <stddef.h>

#include "lib/addr.h"
#include "store/model.h"

struct etcd;

#define IPAM_CAS_RETRIES 100 /* compare-and-swap rounds, as Calico's */
#define IPAM_DEFAULT_MAX_BLOCKS 20 /* maxBlocksPerHost absent or 0 */
#define IPAM_ERRLEN 512

/* an IPAM client acting for one host */
struct ipam;

/* what made the last call fail, for callers that map it (CNI codes) */
enum ipam_error {
	IPAM_E_NONE,
	IPAM_E_OTHER, /* e.g. stored data that does not decode */
	IPAM_E_DATASTORE, /* etcd unreachable or refusing: try again later */
	IPAM_E_BUSY, /* other clients won every race (IPAM_CAS_RETRIES) */
	IPAM_E_INVALID, /* the request: family, handle, host name */
	IPAM_E_NOPOOL, /* no enabled pool fits the request or the address */
	IPAM_E_EXHAUSTED, /* no free address this host may take */
	IPAM_E_LIMIT, /* maxBlocksPerHost reached and those blocks full */
	IPAM_E_ASSIGNED, /* the address asked for is taken (or another
	                    host's under strict affinity) */
};

/*
 * host is the node name (the affinity "host:<host>" and the Node resource
 * whose labels the pools' nodeSelectors match).  The etcd handle stays the
 * caller's; NULL if host is not a valid key segment (empty, or with '/').
 */
struct ipam *ipam_new(struct etcd *, const char *host);
void ipam_free(struct ipam *);
const char *ipam_host(const struct ipam *);
/* the kind of the last call's error (IPAM_E_NONE after a success) */
enum ipam_error ipam_error_kind(const struct ipam *);

struct ipam_request {
	int family; /* AF_INET or AF_INET6 */
	const char *handle; /* NULL: none */
	/* secondary attributes ({node, pod, namespace} or {node, type});
	 * NULL: null */
	const struct model_labels *attrs;
	/* 0: every enabled pool of that family whose nodeSelector matches
	 * this host's Node labels (a host without a Node resource has no
	 * labels); else these pools, each of which must exist, be enabled
	 * and be of that family, whatever their nodeSelector says */
	const struct prefix *pools;
	size_t npools;
};

/*
 * One address, as Calico's AutoAssign (v3): from the host's affine blocks
 * first (a pending affinity gets its block created), then a new block
 * claimed, walking each pool's blocks from a start seeded by the FNV-32
 * hash of the host name (so a host starts at the same place every time,
 * and different hosts at different places), while the host holds fewer
 * than maxBlocksPerHost blocks in those pools (IPAM config; 0 or absent:
 * 20); then, unless strict affinity is on, from any block with a free
 * address (borrowing).  Having reached maxBlocksPerHost with full blocks
 * is an error, as in Calico (no borrowing then).
 */
int ipam_auto_assign(struct ipam *, const struct ipam_request *,
    struct addr *out, char *err, size_t errlen);

/*
 * This address (req->family is ignored; req->pools, if given, must hold
 * it).  It must be in an enabled pool; its block is claimed for this host
 * if it does not exist; under strict affinity the block must be this
 * host's.
 */
int ipam_assign_ip(struct ipam *, const struct ipam_request *,
    const struct addr *, char *err, size_t errlen);

/*
 * Free every address the handle holds, in each block it counts, and delete
 * the handle.  Blocks left empty and affine to nobody are deleted; affine
 * ones stay.  0 also when the handle holds nothing or does not exist.
 */
int ipam_release_handle(
    struct ipam *, const char *handle, char *err, size_t errlen);

/*
 * Free one address and take it off its handle's count.  0 when released,
 * 1 when it was not assigned (err says so), -1 on error.
 */
int ipam_release_ip(
    struct ipam *, const struct addr *, char *err, size_t errlen);

/*
 * The addresses the handle holds now, sorted; *out (free() it) is NULL and
 * *n 0 when it holds none.
 */
int ipam_handle_get(struct ipam *, const char *handle, struct addr **out,
    size_t *n, char *err, size_t errlen);

/* what an address's allocation says (Calico's AllocationAttribute) */
struct ipam_owner {
	char *handle; /* NULL: none (an address from before handles) */
	struct model_labels attrs; /* {node, type} or {node, pod, namespace};
	                              empty when null */
};

/*
 * Calico's GetAssignmentAttributes: 0 with *out filled (give it to
 * ipam_owner_clean()) when the address is assigned, 1 when it is not (no
 * block holds it, or its ordinal is free), -1 on error.
 */
int ipam_ip_owner(struct ipam *, const struct addr *, struct ipam_owner *out,
    char *err, size_t errlen);
void ipam_owner_clean(struct ipam_owner *);
/*
 * Whether an allocation is node's tunnel address of type
 * ("ipipTunnelAddress", "vxlanTunnelAddress") under handle, as Calico's
 * allocateip.go tells: neither handle nor attributes (an older
 * calico/node's: tunnel addresses got both at once, pods always had a
 * handle), the tunnel handle itself, or attributes {node, type} saying so.
 */
bool ipam_owner_tunnel(const struct ipam_owner *, const char *node,
    const char *handle, const char *type);

/*
 * Calico's RemoveIPAMHost: release every block affinity of host (IPv4 and
 * IPv6): empty blocks are deleted, the others stay, affine to nobody, with
 * their addresses still assigned.  Releases no address.
 */
int ipam_remove_host(struct ipam *, const char *host, char *err, size_t errlen);

#endif
