/*
 * podmesh-bgpd configuration: the YAML file of DESIGN.md "Contracts", parsed
 * with libyaml into plain structs.  Every error is reported as FILE:LINE:
 * message; parsing goes on after an error so that all of them are shown.
 */
#ifndef PODMESH_BGP_CONFIG_H
#define PODMESH_BGP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>

#include "lib/addr.h"
#include "lib/log.h"
#include "bgp/wire.h"

#define BGP_PORT 179
#define DEFAULT_HOLDTIME 90
#define DEFAULT_CONNECT_RETRY 5
#define DEFAULT_GR_TIME 120
#define DEFAULT_RANGE_LIMIT 10000
#define DEFAULT_CONTROL_SOCKET "/run/podmesh/bgpd.sock"
#define DEFAULT_HTTP_ADDRESS "127.0.0.1"
#define DEFAULT_HTTP_PORT 9099 /* felix's health port: Calico's probes */

/*
 * Where a peer comes from: the configuration file, or (datastore mode) the
 * node-to-node mesh, a global BGPPeer or one for this node (a node or
 * nodeSelector, or a reverse peering).  `podmeshctl node status` prints it
 * as calicoctl does; readiness waits for every peer but the mesh's,
 * dynamic neighbours and our route-reflector clients (metrics_ready()).
 */
enum peer_kind {
	PEER_KIND_CONFIG,
	PEER_KIND_MESH,
	PEER_KIND_GLOBAL,
	PEER_KIND_NODE,
};

struct peer_config {
	TAILQ_ENTRY(peer_config) entry;
	int line; /* where it was defined */
	enum peer_kind kind;
	bool is_range; /* a dynamic-neighbour range */
	struct addr addr; /* static peer */
	struct prefix range; /* range peer */
	uint32_t asn;
	uint16_t port; /* remote port */
	bool passive;
	bool rr_client;
	char *password; /* TCP-MD5, NULL if none */
	uint8_t add_paths; /* ADDPATH_RECV | ADDPATH_SEND */
	uint16_t add_paths_max; /* paths sent per prefix, 0 = all */
	bool families[AID_MAX];
	uint16_t holdtime;
	uint16_t connect_retry;
	uint8_t multihop; /* TTL; 0 = directly connected (TTL 1 for eBGP) */
	bool ttl_security; /* GTSM, RFC 5082 */
	struct addr local_addr; /* source address, family 0 = any */
	bool graceful_restart;
	bool next_hop_self;
	uint32_t max_sessions; /* ranges only */
	char *description;
};

TAILQ_HEAD(peer_config_list, peer_config);

/* datastore mode (DESIGN.md): where the node's peers and blocks come from */
struct datastore_config {
	char *type; /* "etcdv3" or "etcdv2" */
	char **endpoints;
	size_t nendpoints;
	char *ca_file, *cert_file, *key_file;
	char *username, *password;
};

#define KERNEL_PROTO_DEFAULT 44 /* = KERNEL_RTPROT_DEFAULT (kernel.h) */
#define KERNEL_TABLE_MAIN 254
#define KERNEL_STALE_DEFAULT 120

/* kernel: {enabled, protocol, table, stale-time} */
struct kernel_sync_config {
	bool enabled;
	uint8_t protocol;
	uint32_t table;
	uint16_t stale_time; /* s to wait for adopted routes to be re-learned */
};

/*
 * http: {address, port}: metrics and health (http.c).  Absent: on at
 * 127.0.0.1:9099, and a failed bind is only a warning; given: a failed
 * bind stops the daemon.  port 0: off.
 */
struct http_config {
	struct addr addr;
	uint16_t port;
	bool set; /* the file has the key */
};

struct bgpd_config {
	char *path;
	uint32_t router_id; /* host order */
	uint32_t asn;
	struct addr listen_addr; /* family 0 = any (dual stack) */
	uint16_t listen_port; /* 0 = do not listen */
	char *control_socket;
	struct http_config http;
	bool route_reflector;
	uint32_t cluster_id; /* host order; defaults to router_id */
	struct prefix *originate;
	size_t noriginate;
	uint16_t holdtime;
	uint16_t connect_retry;
	uint16_t gr_time; /* restart time we advertise */
	enum log_level log_level;
	struct peer_config_list peers;

	char *node_name; /* datastore mode when datastore.type is set */
	struct datastore_config datastore;
	struct kernel_sync_config kernel;
	/*
	 * Import filter set by the node: one of own_blocks or a prefix inside
	 * it is refused from peers, except those in lent (addresses of our
	 * blocks that another node was given and announces).
	 */
	struct prefix *own_blocks;
	size_t nown_blocks;
	struct prefix *lent;
	size_t nlent;
};

/* a deep copy (the node's derived configuration starts from the file's) */
struct bgpd_config *config_dup(const struct bgpd_config *);
/* a peer with the file's defaults (timers inherited from conf) */
struct peer_config *peer_config_new(const struct bgpd_config *, int line);
struct peer_config *peer_config_dup(const struct peer_config *);
void peer_config_free(struct peer_config *);
/* refused by the own-blocks filter: our block, or inside it, not lent */
bool config_import_refused(const struct bgpd_config *, const struct prefix *);

/*
 * Parses FILE.  Returns the config, or NULL after printing every error as
 * "FILE:LINE: message" to `errors`.
 */
struct bgpd_config *config_load(const char *, FILE *);
void config_free(struct bgpd_config *);
bool peer_config_equal(const struct peer_config *, const struct peer_config *);
const char *peer_kind_name(enum peer_kind);
struct peer_config *config_find_peer(
    const struct bgpd_config *, const struct addr *);

#endif
