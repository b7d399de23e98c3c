/*
 * Calico's v3 resource model on etcd (calico.md §1, §2): the resources
 * podmesh reads and writes (Node, BGPConfiguration, BGPPeer, IPPool,
 * WorkloadEndpoint, ClusterInformation), the IPAM tree (blocks, affinities,
 * handles, config) and their etcd keys, decoded from and encoded to the
 * JSON Calico stores.  This header is the JSON glue of the datastore, so it
 * names json_t.  No I/O here: the etcd clients move the bytes.
 *
 * Decoding validates like Calico's API server and names the field:
 * `spec.cidr: invalid CIDR "10.0.0.0/33"`.  Values are stored as parsed
 * (addresses, prefixes, ASNs, enums); members the model does not know are
 * kept in `extra` and written back, so a resource written by a newer Calico
 * survives a read-modify-write.  Encoding gives Calico's stored form (its Go
 * structs' omitempty rules), and decode -> encode gives back an equal JSON
 * value for stored resources (defaults are filled in, as Calico's client
 * does before it writes: an IPPool without blockSize gains "blockSize": 26).
 *
 * Optional booleans whose absence matters are enum model_tri, so that a
 * zeroed struct is "all unset".  Every struct starts zeroed (memset or its
 * _init) and its _clean frees what it owns, not the struct itself.
 */
#ifndef PODMESH_STORE_MODEL_H
#define PODMESH_STORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/addr.h"
#include "store/selector.h"

struct yamljson;

#define MODEL_API_VERSION "projectcalico.org/v3"
#define MODEL_RESOURCE_PREFIX "/calico/resources/v3/projectcalico.org/"
#define MODEL_IPAM_PREFIX "/calico/ipam/v2/"
#define MODEL_IPAM_CONFIG_KEY "/calico/ipam/v2/config"
#define MODEL_ERRLEN 512
#define MODEL_NAME_MAX 253 /* a DNS-1123 subdomain */

#define MODEL_DEFAULT_ASN 64512 /* calico.md §1: when nothing sets one */
#define MODEL_DEFAULT_BLOCK4 26 /* IPPool blockSize defaults */
#define MODEL_DEFAULT_BLOCK6 122
#define MODEL_IPAM_HANDLE_PREFIX "ipip-tunnel-addr-" /* + node (v3) */

/* resource_decode flags */
#define MODEL_STRICT 0x01 /* unknown fields are errors (files from users) */
/* resource_encode flags */
#define MODEL_NO_RV 0x01 /* leave out metadata.resourceVersion (etcd) */

enum model_tri {
	MODEL_UNSET,
	MODEL_FALSE,
	MODEL_TRUE,
};

enum model_kind {
	MODEL_NODE,
	MODEL_BGPCONFIG,
	MODEL_BGPPEER,
	MODEL_IPPOOL,
	MODEL_WEP,
	MODEL_CLUSTERINFO,
	MODEL_NKINDS
};

struct model_kind_info {
	enum model_kind kind;
	const char *name; /* "IPPool", the kind field */
	const char *list; /* "IPPoolList" */
	const char *plural; /* "ippools", the etcd key segment */
	bool namespaced; /* key .../<plural>/<namespace>/<name> */
	const char *const *aliases; /* calicoctl's CLI spellings, NULL-ended */
};

const struct model_kind_info *model_kind(enum model_kind);
/* the exact kind field ("IPPool"); NULL if unknown */
const struct model_kind_info *model_kind_by_name(const char *);
/* a CLI spelling: kind, plural or alias, any case ("ippools", "bgpp") */
const struct model_kind_info *model_kind_lookup(const char *);

/* string -> string maps (labels, annotations); view them for selectors */
struct model_labels {
	struct label *v; /* keys and values owned, in document order */
	size_t n;
};

const char *model_labels_get(const struct model_labels *, const char *);
void model_labels_set(struct model_labels *, const char *, const char *);
void model_labels_view(const struct model_labels *, struct labels *);
void model_labels_clean(struct model_labels *);

struct model_meta {
	char *name;
	char *namespace; /* WorkloadEndpoint only */
	char *uid;
	char *creation_timestamp;
	char *resource_version; /* from etcd's ModRevision; not stored */
	struct model_labels labels;
	struct model_labels annotations;
	json_t *extra;
};

enum model_encap {
	MODEL_ENCAP_UNSET,
	MODEL_ENCAP_NEVER,
	MODEL_ENCAP_ALWAYS,
	MODEL_ENCAP_CROSSSUBNET,
};

struct model_node_bgp {
	uint32_t asn; /* 0: the global AS */
	/* the node's address and subnet length ("10.0.0.5/24", host bits
	 * kept); family 0 when unset; a bare address reads as /32, /128 */
	struct prefix ipv4_address;
	struct prefix ipv6_address;
	struct addr ipv4_ipip_tunnel_addr;
	struct addr rr_cluster_id; /* set: this node is a route reflector */
	json_t *extra;
};

struct model_node {
	bool has_bgp;
	struct model_node_bgp bgp;
	struct addr ipv4_vxlan_tunnel_addr;
	char *vxlan_tunnel_mac;
	json_t *extra; /* orchRefs, addresses, wireguard, ... */
};

/* "default" or "node.<name>" */
struct model_bgpconfig {
	char *log_severity; /* Debug, Info, Warning, Error or Fatal */
	enum model_tri node_mesh; /* unset: enabled */
	uint32_t asn; /* 0: MODEL_DEFAULT_ASN */
	uint16_t listen_port;
	json_t *extra;
};

struct model_bgppeer {
	char *node;
	struct addr peer_ip; /* family 0 when peerSelector picks the peers */
	uint16_t peer_port; /* "IP:port" in peerIP; 0 when not given */
	uint32_t asn;
	char *node_selector;
	char *peer_selector;
	bool keep_original_next_hop;
	char *source_address; /* UseNodeIP or None */
	json_t *extra; /* password, maxRestartTime, ... */
};

struct model_ippool {
	struct prefix cidr; /* strictly masked */
	enum model_encap ipip_mode; /* NEVER after decoding, unless given */
	enum model_encap vxlan_mode; /* likewise */
	bool nat_outgoing;
	bool disabled;
	bool disable_bgp_export;
	uint8_t block_size; /* 20-32 or 116-128; defaulted */
	char *node_selector; /* "all()" by default */
	json_t *extra; /* allowedUses, ... */
};

struct model_wep {
	char *orchestrator;
	char *workload;
	char *node;
	char *container_id;
	char *pod;
	char *endpoint;
	char *service_account;
	struct prefix *ip_networks; /* /32 and /128 */
	size_t n_ip_networks;
	char **profiles; /* "kns.<ns>", "ksa.<ns>.<sa>" */
	size_t n_profiles;
	char *interface_name;
	char *mac;
	json_t *extra; /* ipNATs, ports, gateways, ... */
};

struct model_clusterinfo {
	char *cluster_guid;
	char *cluster_type;
	char *calico_version;
	char *variant;
	enum model_tri datastore_ready;
	json_t *extra;
};

/* one v3 resource: kind, metadata and the decoded spec */
struct resource {
	enum model_kind kind;
	struct model_meta meta;
	union {
		struct model_node node;
		struct model_bgpconfig bgpconfig;
		struct model_bgppeer bgppeer;
		struct model_ippool ippool;
		struct model_wep wep;
		struct model_clusterinfo clusterinfo;
	};
	json_t *extra; /* top-level members besides the four, e.g. status */
};

/* model.c: the generic layer */
void resource_init(struct resource *, enum model_kind);
void resource_clean(struct resource *);
/*
 * Decode a whole object {kind, apiVersion: projectcalico.org/v3, metadata,
 * spec}.  0, or -1 with "path: message" in err and r left clean.
 */
int resource_decode(const json_t *, struct resource *, char *, size_t);
int resource_decode_flags(
    const json_t *, int flags, struct resource *, char *, size_t);
json_t *resource_encode(const struct resource *, int flags);
/* a deep copy, through JSON */
void resource_copy(struct resource *dst, const struct resource *src);
/* "IPPool default-ipv4-ippool", "WorkloadEndpoint ns/name" */
const char *resource_id(const struct resource *, char *, size_t);

/*
 * Every resource of a parsed YAML/JSON file: a document is a resource, a
 * list of resources, or {kind: List or <Kind>List, items: [...]}.  Errors
 * read "FILE:LINE: document N: PATH: message" with the line of the field.
 * A kind/namespace/name given twice is an error.  *out is an array of *n
 * resources; free each with resource_clean(), then the array.
 */
int resource_load(const struct yamljson *, int flags, struct resource **out,
    size_t *n, char *err, size_t errlen);

/* v3 resource keys: MODEL_RESOURCE_PREFIX<plural>/[<namespace>/]<name> */
int resource_key(const struct resource *, char *, size_t);
int model_key(
    enum model_kind, const char *ns, const char *name, char *, size_t);
/* the prefix that lists a kind (ns NULL: every namespace) */
int model_key_prefix(enum model_kind, const char *ns, char *, size_t);
int model_key_parse(
    const char *key, enum model_kind *, char *ns, size_t, char *name, size_t);
bool model_name_valid(const char *);
/* "64512", or asdot "1.10" as Calico's numorstring accepts; 0 is allowed */
int model_asn_parse(const char *, uint32_t *);
/* an address without a %scope */
int model_addr_parse(const char *, struct addr *);
/* ADDR/LEN strictly (LEN in digits), host bits allowed */
int model_prefix_parse(const char *, struct prefix *);

/* model_names.c: names Calico derives (v1 -> v3 migration, defaults) */
/* names.CIDRToName: "198.18.0.0/16" -> "198-18-0-0-16" */
int model_name_from_cidr(const struct prefix *, char *, size_t);
/* what Calico's client stamps on create: metadata.uid, creationTimestamp */
char *model_uid_new(void);
char *model_timestamp_now(void);
/* a global peer's: "192-0-2-1"; IPv6 in eight full groups */
int model_name_from_ip(const struct addr *, char *, size_t);
/* a v1 hostname as a v3 node name ("Node_1.Example" -> "node-1.example") */
int model_name_normalize(const char *, char *, size_t);

/* per-kind spec codecs; errors name "spec.<field>" */
int model_node_from_json(
    const json_t *, struct model_node *, int, char *, size_t);
json_t *model_node_to_json(const struct model_node *);
void model_node_clean(struct model_node *);

int model_bgpconfig_from_json(
    const json_t *, struct model_bgpconfig *, int, char *, size_t);
json_t *model_bgpconfig_to_json(const struct model_bgpconfig *);
void model_bgpconfig_clean(struct model_bgpconfig *);
/* confd's view (calico.md §1): AS, mesh and BIRD log level with defaults */
uint32_t model_bgpconfig_asn(const struct model_bgpconfig *);
bool model_bgpconfig_mesh(const struct model_bgpconfig *);
const char *model_bgpconfig_loglevel(const struct model_bgpconfig *);

int model_bgppeer_from_json(
    const json_t *, struct model_bgppeer *, int, char *, size_t);
json_t *model_bgppeer_to_json(const struct model_bgppeer *);
void model_bgppeer_clean(struct model_bgppeer *);
/* neither node nor nodeSelector: every node peers */
bool model_bgppeer_is_global(const struct model_bgppeer *);

int model_ippool_from_json(
    const json_t *, struct model_ippool *, int, char *, size_t);
json_t *model_ippool_to_json(const struct model_ippool *);
void model_ippool_clean(struct model_ippool *);
const char *model_encap_name(enum model_encap);

int model_wep_from_json(
    const json_t *, struct model_wep *, int, char *, size_t);
json_t *model_wep_to_json(const struct model_wep *);
void model_wep_clean(struct model_wep *);
/*
 * The name Calico requires: <node>-<orchestrator>-<pod|containerID|
 * workload>-<endpoint> with each '-' in a part doubled.  -1 with a message
 * if a part is missing or starts or ends with '-'.
 */
int model_wep_name(const struct model_wep *, char *, size_t, char *, size_t);

int model_clusterinfo_from_json(
    const json_t *, struct model_clusterinfo *, int, char *, size_t);
json_t *model_clusterinfo_to_json(const struct model_clusterinfo *);
void model_clusterinfo_clean(struct model_clusterinfo *);

/* ---- IPAM (calico.md §2), model_ipam.c ---- */

/* "host:node1" */
#define MODEL_AFFINITY_HOST "host:"
#define MODEL_BLOCK_MAX_ORDS 4096 /* a /20 or a /116 */

struct model_ipam_attr {
	char *handle_id; /* NULL: JSON null */
	bool has_secondary;
	struct model_labels secondary; /* {node, pod, namespace} or type */
	json_t *extra;
};

/* /calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26 */
struct model_block {
	struct prefix cidr;
	char *affinity; /* "host:NAME", or NULL (JSON null) */
	enum model_tri strict_affinity; /* up to v3.20; unset if absent */
	enum model_tri deleted; /* v3.21; unset if absent */
	uint32_t nords; /* addresses in the block */
	int32_t *allocations; /* [nords]: index into attrs, or -1 if free */
	uint32_t *unallocated; /* free ordinals; allocation pops the front */
	size_t nunallocated;
	struct model_ipam_attr *attrs;
	size_t nattrs;
	json_t *extra;
};

enum model_affinity_state {
	MODEL_AFF_NONE, /* v2.6's "{}": the key alone is the affinity */
	MODEL_AFF_PENDING,
	MODEL_AFF_CONFIRMED,
	MODEL_AFF_PENDING_DELETION,
};

/* /calico/ipam/v2/host/<host>/ipv4/block/<cidr> */
struct model_affinity {
	enum model_affinity_state state;
	enum model_tri deleted;
	json_t *extra;
};

struct model_handle_block {
	struct prefix cidr;
	uint32_t count;
};

/* /calico/ipam/v2/handle/<id> = {"block":{"10.0.0.0/26":1}} */
struct model_handle {
	struct model_handle_block *v;
	size_t n;
	enum model_tri deleted;
	json_t *extra;
};

/* /calico/ipam/v2/config; a missing key means model_ipamconfig_init() */
struct model_ipamconfig {
	enum model_tri strict_affinity; /* unset member: false (omitempty) */
	enum model_tri auto_allocate_blocks; /* unset member: false */
	uint32_t max_blocks_per_host; /* 0: unlimited (v3 "maxBlocksPerHost") */
	json_t *extra;
};

int model_block_from_json(const json_t *, struct model_block *, char *, size_t);
json_t *model_block_to_json(const struct model_block *);
void model_block_clean(struct model_block *);
/* an empty block: everything free in order, affine to host (NULL: none) */
void model_block_init(
    struct model_block *, const struct prefix *cidr, const char *host);
/* the block of length blocklen that holds a; -1 if blocklen is invalid */
int model_block_cidr_for(const struct addr *, int blocklen, struct prefix *);
/* NAME of "host:NAME", or NULL */
const char *model_block_host(const struct model_block *);
/* a's ordinal in the block, or -1 */
int model_block_ordinal(const struct model_block *, const struct addr *);
void model_block_addr(const struct model_block *, uint32_t, struct addr *);
size_t model_block_nfree(const struct model_block *);
bool model_block_empty(const struct model_block *);
/* the attribute an ordinal points at, or NULL if it is free */
const struct model_ipam_attr *model_block_attr(
    const struct model_block *, uint32_t);
/*
 * Allocate the first free ordinal (the front of unallocated) to handle
 * with the given secondary attributes (NULL: null), sharing an equal
 * attribute entry.  -1 when the block is full.
 */
int model_block_assign(struct model_block *, const char *handle,
    const struct model_labels *secondary, struct addr *out);
/* allocate a given address; -1 if outside the block or taken */
int model_block_assign_addr(struct model_block *, const struct addr *,
    const char *handle, const struct model_labels *secondary);
/*
 * Free an address: it goes to the back of unallocated, and an attribute
 * left without references is removed (the others renumbered).  -1 if it
 * was not allocated.
 */
int model_block_release(struct model_block *, const struct addr *);

int model_affinity_from_json(
    const json_t *, struct model_affinity *, char *, size_t);
json_t *model_affinity_to_json(const struct model_affinity *);
void model_affinity_clean(struct model_affinity *);
const char *model_affinity_state_name(enum model_affinity_state);

int model_handle_from_json(
    const json_t *, struct model_handle *, char *, size_t);
json_t *model_handle_to_json(const struct model_handle *);
void model_handle_clean(struct model_handle *);
/* add delta to the count for cidr; an entry reaching 0 goes away */
int model_handle_add(struct model_handle *, const struct prefix *, int);

/* strict_affinity false, auto_allocate_blocks true: the absent key */
void model_ipamconfig_init(struct model_ipamconfig *);
int model_ipamconfig_from_json(
    const json_t *, struct model_ipamconfig *, char *, size_t);
json_t *model_ipamconfig_to_json(const struct model_ipamconfig *);
void model_ipamconfig_clean(struct model_ipamconfig *);

/* IPAM keys; a CIDR's '/' becomes '-' ("10.0.0.0-26", "fd00::-122") */
int model_cidr_key(const struct prefix *, char *, size_t);
int model_cidr_from_key(const char *, struct prefix *);
int model_block_key(const struct prefix *, char *, size_t);
int model_block_key_prefix(int family, char *, size_t);
int model_block_key_parse(const char *, struct prefix *);
int model_affinity_key(const char *host, const struct prefix *, char *, size_t);
/* host NULL: MODEL_IPAM_PREFIX "host/" (every host) */
int model_affinity_key_prefix(const char *host, int family, char *, size_t);
int model_affinity_key_parse(const char *, char *host, size_t, struct prefix *);
int model_handle_key(const char *id, char *, size_t);
int model_handle_key_parse(const char *, char *id, size_t);

#endif
