/*
 * What this node's BGP speaker must do, computed from Calico's v3 datastore
 * (calico.md §1, §3, §6) as confd and Calico's BIRD templates compute it:
 *
 *  - view.c: the node's watch cache (Nodes, BGPPeers, BGPConfigurations,
 *    IPPools, IPAM blocks and affinities, decoded into store/ objects) and
 *    read-only accessors over it;
 *  - peers.c: node_derive(): router id, AS, listen port, reflector role and
 *    the peer list (node-to-node mesh, global and node BGPPeers, node and
 *    peer selectors, reverse peerings, duplicates dropped);
 *  - blocks.c: the prefixes to announce (confirmed blocks, borrowed /32s),
 *    the own blocks whose more-specifics are refused, and the lent /32s;
 *  - shape.c: how a learned or originated route becomes a kernel route
 *    (native, IPIP onlink on tunl0, CrossSubnet, VXLAN, blackhole).
 *
 * Pure computation over a cache: no I/O, so a detached cache fed with
 * wcache_load() gives the same answers as a live one.  Every function reads
 * the cache as it is; call them again after each change and compare.
 */
#ifndef PODMESH_NODE_DERIVE_H
#define PODMESH_NODE_DERIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/kernel.h"
#include "lib/addr.h"
#include "store/model.h"
#include "store/wcache.h"

struct etcd;
struct event_base;

/* ---- view.c: the cache ---- */

#define NODE_BLOCK_PREFIX MODEL_IPAM_PREFIX "assignment/"
#define NODE_AFFINITY_PREFIX MODEL_IPAM_PREFIX "host/"

/*
 * A watch cache over what a node needs: nodes/, bgppeers/,
 * bgpconfigurations/ and ippools/ under MODEL_RESOURCE_PREFIX (objects are
 * struct resource), NODE_BLOCK_PREFIX (struct model_block) and
 * NODE_AFFINITY_PREFIX (struct model_affinity).  A value that does not
 * decode, or whose kind or name disagrees with its key, is kept without an
 * object and logged once by the cache; the accessors skip it.  etcd NULL:
 * detached (feed it with wcache_load()).  Free with wcache_free(); the
 * caller sets the callback and calls wcache_start().
 */
struct wcache *node_cache_new(struct etcd *, struct event_base *);

/* A resource by kind and name, or NULL (absent or refused). */
const struct resource *node_view_get(
    const struct wcache *, enum model_kind, const char *);
const struct resource *node_view_node(const struct wcache *, const char *);
/* The block with this CIDR, or NULL. */
const struct model_block *node_view_block(
    const struct wcache *, const struct prefix *);

/*
 * Walks in key order over decoded objects only; the cache must not change
 * meanwhile.  Resources of a kind are in name order.
 *
 *	for (r = node_view_first(wc, &it, MODEL_NODE); r != NULL;
 *	    r = node_view_next(&it))
 */
struct node_view_iter {
	struct wcache_iter wi;
	char prefix[MODEL_NAME_MAX + 96];
};

const struct resource *node_view_first(
    const struct wcache *, struct node_view_iter *, enum model_kind);
const struct resource *node_view_next(struct node_view_iter *);
const struct model_block *node_view_block_first(
    const struct wcache *, struct node_view_iter *);
const struct model_block *node_view_block_next(struct node_view_iter *);
/* host's affinities (NULL: every host's), with the block CIDR in *cidr */
const struct model_affinity *node_view_affinity_first(const struct wcache *,
    struct node_view_iter *, const char *host, struct prefix *cidr);
const struct model_affinity *node_view_affinity_next(
    struct node_view_iter *, struct prefix *cidr);

/* ---- peers.c, blocks.c: what the speaker does ---- */

enum node_peer_type {
	NODE_PEER_MESH, /* node-to-node mesh */
	NODE_PEER_GLOBAL, /* a BGPPeer with neither node nor nodeSelector */
	NODE_PEER_NODE, /* node or nodeSelector, or a reverse peering */
};

struct node_peer {
	struct addr addr;
	uint16_t port; /* 0: 179 */
	uint32_t asn;
	bool passive; /* mesh: the peer's address is greater (as a string) */
	bool rr_client;
	/*
	 * Always NULL: Calico's BGPPeer password is a Kubernetes secret
	 * reference (spec.password.secretKeyRef), which etcd does not hold.
	 */
	char *password;
	enum node_peer_type type;
	/* the peer Node's name (mesh, peerSelector, reverse) or the BGPPeer's
	 */
	char *name;
	/* keepOriginalNextHop, for eBGP peers only ("next hop keep") */
	bool keep_next_hop;
	/*
	 * My Node address of the peer's family, to connect from (the
	 * templates' "source address"); family 0 for sourceAddress: None.
	 */
	struct addr source;
};

struct node_bgp {
	uint32_t router_id; /* host order: my Node's IPv4 address */
	uint32_t asn; /* my Node's, else the global (default 64512) */
	uint16_t
	    listen_port; /* listenPort of node.<me>, else default; 0: 179 */
	bool route_reflector; /* my Node has a routeReflectorClusterID */
	uint32_t cluster_id; /* host order */
	/* sorted by address (addr_cmp), one per address */
	struct node_peer *peers;
	size_t npeers;
	/* sorted (prefix_cmp) and unique */
	struct prefix *announce; /* exported blocks and borrowed /32 /128 */
	size_t nannounce;
	struct prefix *own_blocks; /* refuse more-specifics of these ... */
	size_t nown;
	struct prefix *lent; /* ... except these, announced by their node */
	size_t nlent;
	char *log_level; /* "debug", "info" or "none", as confd maps it */
};

/*
 * Everything the speaker on node me does.  0, or -1 with a message when my
 * Node is missing (or refused) or has no IPv4 address (the router id).
 * out is overwritten (not cleaned first); node_bgp_clean() it either way.
 */
int node_derive(
    const struct wcache *, const char *me, struct node_bgp *, char *, size_t);
/* The announce, own_blocks and lent parts alone (blocks.c). */
void node_derive_blocks(
    const struct wcache *, const char *me, struct node_bgp *);
/* own_blocks alone, sorted: *out is NULL when *n is 0; free(3) it */
void node_derive_own_blocks(
    const struct wcache *, const char *me, struct prefix **out, size_t *n);
void node_bgp_clean(struct node_bgp *);
/* Every field equal (name and type included). */
bool node_bgp_peer_equal(const struct node_peer *, const struct node_peer *);
/* The peer at this address, or NULL (binary search). */
const struct node_peer *node_bgp_peer_find(
    const struct node_bgp *, const struct addr *);

/* ---- shape.c: kernel routes ---- */

/* a Node's VXLAN endpoint, for routes and the caller's ARP/FDB entries */
struct node_vtep {
	char *name;
	struct addr node_ip; /* spec.bgp.ipv4Address, no length */
	struct addr tunnel; /* ipv4VXLANTunnelAddr; family 0 if unset */
	bool has_mac;
	uint8_t mac[6]; /* vxlanTunnelMACAddr */
};

struct node_shape_pool {
	struct prefix cidr;
	enum model_encap ipip;
	enum model_encap vxlan;
};

struct node_shaper {
	struct prefix subnet; /* my ipv4Address, masked; len 0: none */
	unsigned int tunl0; /* ifindexes; 0: the device is absent */
	unsigned int vxlan;
	struct prefix *own; /* my own blocks, sorted */
	size_t nown;
	struct node_shape_pool *pools; /* sorted, disjoint */
	size_t npools;
	struct node_vtep *vteps; /* every Node with an IPv4 address, sorted */
	size_t nvteps;
	/* prefixes already logged as skipped (private) */
	struct prefix *logged;
	size_t nlogged, logged_cap;
};

/*
 * The policy for node me: 0, or -1 with a message if my Node is missing.
 * s is overwritten; node_shaper_clean() it either way.
 */
int node_shaper_build(struct node_shaper *, const struct wcache *,
    const char *me, unsigned int tunl0_ifindex, unsigned int vxlan_ifindex,
    char *, size_t);
void node_shaper_clean(struct node_shaper *);
/* Same policy (the log memory aside): no kernel_reshape needed. */
bool node_shaper_equal(const struct node_shaper *, const struct node_shaper *);
/* The VTEP of the Node whose ipv4Address is node_ip, or NULL. */
const struct node_vtep *node_shaper_vtep(
    const struct node_shaper *, const struct addr *node_ip);
/* a kernel_shape_fn; arg is a struct node_shaper */
enum kernel_shape node_shape(void *, const struct prefix *,
    const struct addr *bgp_nh, struct kernel_nh *);

#endif
