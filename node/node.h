/*
 * podmesh-node's pieces (calico.md §6, ecosystem.md §5): the node's address
 * (autodetect.c), the startup that registers the node, creates the default
 * pools and brings its tunnel up (startup_env.c reads its environment,
 * startup.c runs it, tunnel.c), and the VXLAN neighbour entries
 * podmesh-bgpd keeps for the remote nodes (vxlan.c).
 *
 * Errors are -1 with one line in err that names what was wrong: the
 * environment variable ("IP_AUTODETECTION_METHOD: ..."), the device
 * ("tunl0: ...") or the etcd endpoint.
 */
#ifndef PODMESH_NODE_H
#define PODMESH_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "lib/addr.h"

struct nl;
struct nl_link_info;
struct nl_addr;
struct model_node;
struct wcache;

#define NODE_ERRLEN 1024

/* ---- autodetect.c: which address is the node's (calico.md §6) ---- */

/* one interface and its addresses (host bits kept), in the kernel's order */
struct autodetect_if {
	int ifindex;
	char name[IFNAMSIZ];
	struct prefix *addrs;
	size_t naddrs;
};

/* interfaces in the order the kernel's link dump gives them */
struct autodetect_iflist {
	struct autodetect_if *v;
	size_t n;
};

enum autodetect_kind {
	AUTODETECT_FIRST_FOUND,
	AUTODETECT_INTERFACE,
	AUTODETECT_SKIP_INTERFACE,
	AUTODETECT_CAN_REACH,
	AUTODETECT_CIDR,
};

struct autodetect; /* a parsed method */

struct autodetect_result {
	struct prefix prefix; /* the address with its interface's length */
	int ifindex;
	char ifname[IFNAMSIZ];
};

/*
 * Parses a method as calico/node takes it from var (IP_AUTODETECTION_METHOD
 * or IP6_AUTODETECTION_METHOD): "" or first-found, interface=RE[,RE...],
 * skip-interface=RE[,RE...], can-reach=DEST, cidr=CIDR[,CIDR...].  Lists
 * split on commas with blanks around them ignored.  Regular expressions
 * are Go's (RE2) as far as POSIX extended ones can say it: unanchored,
 * with \d \w \s (and \D \W \S), (?:...), (?i) at the start and lazy
 * quantifiers (meaningless for a yes/no match) translated.  NULL with
 * "VAR: message" in err when the method cannot be used.
 */
struct autodetect *autodetect_parse(
    const char *var, const char *method, char *err, size_t errlen);
void autodetect_free(struct autodetect *);
enum autodetect_kind autodetect_kind(const struct autodetect *);
/* the method as given ("first-found" when empty) */
const char *autodetect_text(const struct autodetect *);

/*
 * Runs the method over list for family (AF_INET, AF_INET6): interfaces
 * are scanned from the last to the first (Calico's GetInterfaces walks
 * net.Interfaces backwards), each address in order, and the first global
 * unicast one that passes wins.  first-found and
 * skip-interface skip Calico's default list (docker, cbr, dummy, virbr,
 * lxcbr, veth, lo, cali, tunl, flannel, kube-ipvs, cni, vxlan.calico,
 * ...); interface= and cidr= do not.  can-reach takes reached (the local
 * address autodetect_reach found) and reports the interface address equal
 * to it, whatever its interface.  Pure: no system calls.
 */
int autodetect_select(const struct autodetect *, int family,
    const struct autodetect_iflist *, const struct addr *reached,
    struct autodetect_result *, char *err, size_t errlen);

/*
 * can-reach: the local address the kernel picks to send UDP to DEST:80
 * (DEST an address of family or a host name resolved in it).  Nothing is
 * sent.
 */
int autodetect_reach(const struct autodetect *, int family, struct addr *local,
    char *err, size_t errlen);

/* autodetect_reach when the method is can-reach, then autodetect_select */
int autodetect_run(const struct autodetect *, int family,
    const struct autodetect_iflist *, struct autodetect_result *, char *err,
    size_t errlen);

/*
 * The interface holding address a (any interface, the list walked from
 * the last, as Calico's ReachDestination and GetLocalCIDR do); -1 when
 * none does.
 */
int autodetect_find(const struct autodetect_iflist *, const struct addr *a,
    struct autodetect_result *);

/* Go's net.IP.IsGlobalUnicast */
bool autodetect_global_unicast(const struct addr *);

/* the live list, from netlink (lib/nl_link.h), in the dump's order */
int autodetect_iflist_load(
    struct nl *, struct autodetect_iflist *, char *err, size_t errlen);
/* the list from links (kept in their order) and their addresses */
void autodetect_iflist_build(struct autodetect_iflist *,
    const struct nl_link_info *links, size_t nlinks,
    const struct nl_addr *addrs, size_t naddrs);
/* for tests: an interface with addresses given as "a/len" strings */
void autodetect_iflist_add(struct autodetect_iflist *, int ifindex,
    const char *name, const char *const *addrs, size_t naddrs);
void autodetect_iflist_clean(struct autodetect_iflist *);

/* ---- startup.c: podmesh-node's environment and run ---- */

enum startup_ip_mode {
	STARTUP_IP_UNSET, /* v4: autodetect if the Node has none; v6: none */
	STARTUP_IP_AUTODETECT,
	STARTUP_IP_NONE, /* keep what the Node has */
	STARTUP_IP_GIVEN,
};

struct startup_ip {
	enum startup_ip_mode mode;
	struct prefix given; /* STARTUP_IP_GIVEN */
	bool given_len; /* "a/len" rather than a bare address */
	struct autodetect *method; /* always parsed */
};

struct startup_pool {
	bool enabled; /* the CIDR variable is not "none" */
	bool cidr_given; /* CALICO_IPV*POOL_CIDR set */
	struct prefix cidr;
	int ipip; /* enum model_encap */
	int vxlan; /* enum model_encap */
	bool nat_outgoing;
	bool disable_bgp_export;
	uint8_t block_size;
	char *node_selector; /* NULL: all() */
};

/* everything podmesh-node reads from its environment, checked */
struct startup_config {
	char *nodename; /* NODENAME */
	char *hostname; /* HOSTNAME, lower-cased, if a valid name */
	/* HOSTNAME when it is not a valid name and NODENAME_FILE may yet
	 * name the node: an error only if it comes to be the name used */
	char *hostname_bad;
	char *nodename_file; /* NODENAME_FILE: read after NODENAME, written */
	struct startup_ip ip4, ip6;
	uint32_t asn; /* AS; 0: unset (the global AS) */
	bool asn_given;
	char *etcd_endpoints; /* ETCD_ENDPOINTS; NULL: http://127.0.0.1:2379 */
	char *etcd_ca, *etcd_cert, *etcd_key; /* ETCD_*_FILE */
	char *etcd_user, *etcd_password; /* ETCD_USERNAME, ETCD_PASSWORD */
	int etcd_timeout_ms; /* PODMESH_NODE_ETCD_TIMEOUT (s), default 60 */
	bool no_default_pools;
	bool ipv6_support; /* FELIX_IPV6SUPPORT != false */
	struct startup_pool pool4, pool6;
	bool disable_ip_check; /* DISABLE_NODE_IP_CHECK=true */
	unsigned int ipip_mtu; /* FELIX_IPINIPMTU, default 1440 */
	unsigned int vxlan_mtu; /* FELIX_VXLANMTU; 0: underlay's - 50 */
	uint32_t vxlan_vni; /* FELIX_VXLANVNI, default 4096 */
	uint16_t vxlan_port; /* FELIX_VXLANPORT, default 4789 */
	char *cluster_type; /* CLUSTER_TYPE */
	int log_level; /* CALICO_STARTUP_LOGLEVEL; enum log_level */
};

/* the environment, through a lookup (getenv, or a test's table) */
typedef const char *startup_getenv_fn(void *arg, const char *name);

/* for startup*.c: the message into err; returns -1 */
int startup_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "VAR: "v" is not a valid node name (...)" into err; returns -1 */
int startup_name_err(char *err, size_t errlen, const char *var, const char *v);

/*
 * Reads and checks every variable, so that a mistake is reported before
 * anything is written ("CALICO_IPV4POOL_IPIP: unknown mode "sometimes"
 * (Always, CrossSubnet or Never)").  Pure apart from the lookup.  On
 * failure c is left clean.
 */
int startup_config_parse(struct startup_config *, startup_getenv_fn *,
    void *arg, char *err, size_t errlen);
void startup_config_clean(struct startup_config *);

/*
 * The whole startup, once: etcd (retried with backoff until
 * etcd_timeout_ms), the Node, the default pools, the global defaults and
 * the tunnels, in the caller's network namespace.  0 when the node is
 * registered and its tunnels are up; -1 with one line in err.  Running it
 * again with nothing changed writes nothing.
 */
int startup_run(const struct startup_config *, char *err, size_t errlen);

/* ---- tunnel.c: tunnel addresses from IPAM, tunl0 and vxlan.calico ---- */

#define NODE_IPIP_DEV "tunl0"
#define NODE_IPIP_MTU 1440
#define NODE_VXLAN_DEV "vxlan.calico"
#define NODE_VXLAN_VNI 4096
#define NODE_VXLAN_PORT 4789
#define NODE_VXLAN_OVERHEAD 50 /* IPv4 + UDP + VXLAN + inner Ethernet */

struct ipam;

enum tunnel_type {
	TUNNEL_IPIP,
	TUNNEL_VXLAN,
};

/* "ipip-tunnel-addr-<node>", "vxlan-tunnel-addr-<node>"; -1 if too long */
int tunnel_handle(enum tunnel_type, const char *node, char *, size_t);

/*
 * The node's tunnel address: the one its handle holds if that is inside
 * one of pools, else the handle is released and a new address assigned
 * from pools with attributes {node: NODE, type: ipipTunnelAddress or
 * vxlanTunnelAddress}.  rec (NULL or family 0: none) is the address the
 * Node records: if IPAM has it assigned to this node without the handle
 * (an older calico/node's, with neither handle nor attributes), it is
 * adopted into the handle when it is in one of pools and released when
 * it is not, so no second address is assigned beside it.  *assigned says
 * whether IPAM was written.
 */
int tunnel_addr_ensure(struct ipam *, enum tunnel_type, const char *node,
    const struct addr *rec, const struct prefix *pools, size_t npools,
    struct addr *out, bool *assigned, char *err, size_t errlen);
/*
 * Gives the handle's addresses back, and rec (the Node's, as above) if
 * IPAM has it assigned to this node without the handle; *released says
 * whether anything was.
 */
int tunnel_addr_release(struct ipam *, enum tunnel_type, const char *node,
    const struct addr *rec, bool *released, char *err, size_t errlen);

/*
 * tunl0 (made if missing; a link of that name that is not ipip, such as a
 * test's stand-in, is used as it is) up, with mtu, and addr/32 its only
 * IPv4 address.  Where the kernel has no ipip and there is no tunl0:
 * "tunl0: this kernel has no ipip support (modprobe ipip failed?)".
 */
int tunnel_ipip_up(struct nl *, const struct addr *addr, unsigned int mtu,
    char *err, size_t errlen);
/*
 * No IPIP pool: every IPv4 address off the link named tunl0 (whatever its
 * kind), if there is one.
 */
int tunnel_ipip_down(struct nl *, char *err, size_t errlen);

struct tunnel_vxlan {
	uint32_t vni;
	uint16_t port;
	struct addr local; /* the node's IPv4 address */
	unsigned int mtu; /* 0: the underlay's less NODE_VXLAN_OVERHEAD */
	bool has_mac; /* mac: the one the Node records, kept if the device
	                 has to be made */
	uint8_t mac[6];
};

/*
 * vxlan.calico made (or made again when its VNI, port, local address,
 * underlay or learning differ), up, with its MTU and addr/32 its only IPv4
 * address; the underlay is the interface holding local.  mac_out gets the
 * device's MAC.
 */
int tunnel_vxlan_up(struct nl *, const struct tunnel_vxlan *,
    const struct addr *addr, uint8_t *mac_out, char *err, size_t errlen);
/* deletes vxlan.calico if it is there */
int tunnel_vxlan_down(struct nl *, char *err, size_t errlen);

/* ---- vxlan.c: VXLAN neighbours for the remote nodes (ecosystem.md §5) */

/* what one remote node's VTEP is */
struct node_vxlan_peer {
	const char *name; /* for messages; may be NULL */
	struct addr node_ip; /* its underlay address: the FDB entry's dst */
	struct addr tunnel_addr; /* its vxlan.calico address: the ARP entry */
	uint8_t mac[6]; /* its vxlan.calico MAC */
};

/* -1 when the Node has no IPv4 address, VXLAN address or valid MAC */
int node_vxlan_peer_from_node(
    const char *name, const struct model_node *, struct node_vxlan_peer *);

struct node_vxlan_stats {
	size_t arp_added, arp_removed; /* added counts replaced ones too */
	size_t fdb_added, fdb_removed;
};

/*
 * Makes the permanent neighbours on the VXLAN device ifindex (0: the link
 * named vxlan.calico) exactly one ARP entry tunnel_addr -> mac and one FDB
 * entry mac -> node_ip per peer: missing or different ones are written,
 * permanent ones for anything else removed; entries that are not
 * permanent, and other devices, are left alone.  Peers without an IPv4
 * tunnel address and node address, and a second peer with the same tunnel
 * address or MAC, are skipped with a warning.  With nothing to change it
 * only reads.  stats may be NULL.
 */
int node_vxlan_sync(struct nl *, unsigned int ifindex,
    const struct node_vxlan_peer *, size_t npeers, struct node_vxlan_stats *,
    char *err, size_t errlen);

/*
 * node_vxlan_sync for podmesh-bgpd's datastore mode: the peers are every
 * Node in the watch cache (node/derive.h's view) but me that has a VXLAN
 * tunnel address and MAC; a netlink socket is opened for the call.
 */
int node_vxlan_sync_cache(const struct wcache *, const char *me,
    unsigned int ifindex, char *err, size_t errlen);

#endif
