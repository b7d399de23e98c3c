/*
 * Links, addresses and neighbours over rtnetlink (lib/nl.h's nl_talk): what
 * podmesh-node needs to find the node's address and to run its tunnel
 * devices (tunl0, vxlan.calico), and what the VXLAN dataplane needs to keep
 * its ARP and FDB entries (ecosystem.md §5).
 *
 * Every call is one request in the socket's netns.  They return 0, or -1
 * with errno set and a message in err that names the object ("tunl0:
 * RTM_NEWLINK: Operation not supported").  A lookup of a link that does not
 * exist fails with errno ENODEV.
 */
#ifndef PODMESH_NL_LINK_H
#define PODMESH_NL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <net/if.h>

#include "lib/addr.h"

struct nl;

#define NL_MACLEN 6
#define NL_MAC_STRLEN 18 /* "ee:ee:ee:ee:ee:ee" */
#define NL_KINDLEN 16

/* IFLA_INFO_DATA of a vxlan link; also the request to make one */
struct nl_vxlan {
	uint32_t vni; /* IFLA_VXLAN_ID */
	uint16_t port; /* IFLA_VXLAN_PORT, host order; 0: the kernel's */
	struct addr local; /* IFLA_VXLAN_LOCAL(6); family 0: none */
	int underlay; /* IFLA_VXLAN_LINK ifindex; 0: none */
	bool learning; /* IFLA_VXLAN_LEARNING */
};

struct nl_link_info {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned int mtu;
	unsigned int flags; /* IFF_UP, IFF_LOWER_UP, ... */
	uint8_t mac[NL_MACLEN]; /* IFLA_ADDRESS when it is 6 bytes long */
	bool has_mac;
	char kind[NL_KINDLEN]; /* IFLA_INFO_KIND: "veth", "vxlan", "" */
	bool has_vxlan; /* kind vxlan and its data decoded */
	struct nl_vxlan vxlan;
};

/* ---- links ---- */

int nl_link_get(struct nl *, const char *name, struct nl_link_info *, char *err,
    size_t errlen);
int nl_link_get_index(
    struct nl *, int ifindex, struct nl_link_info *, char *err, size_t errlen);
/* every link, in ifindex order; *out is an array the caller frees */
int nl_link_list(struct nl *, struct nl_link_info **out, size_t *n, char *err,
    size_t errlen);
/*
 * The same in the order the kernel's dump gives them, which is what Go's
 * net.Interfaces returns and so the order calico/node's autodetection
 * walks: ifindex order on kernels that dump from the index xarray (6.6
 * on), hash-bucket order (ifindex & 255, the newest first in a bucket)
 * before.
 */
int nl_link_list_unsorted(struct nl *, struct nl_link_info **out, size_t *n,
    char *err, size_t errlen);
int nl_link_set_up(struct nl *, int ifindex, char *err, size_t errlen);
int nl_link_set_mtu(
    struct nl *, int ifindex, unsigned int mtu, char *err, size_t errlen);
int nl_link_del(struct nl *, int ifindex, char *err, size_t errlen);

/* a veth pair in this netns (tests and stand-ins) */
int nl_link_add_veth(
    struct nl *, const char *name, const char *peer, char *err, size_t errlen);

/*
 * A vxlan link (exclusive create; EEXIST if name is taken), down, with mtu
 * unless it is 0 and with mac unless it is NULL (else the kernel makes a
 * random one; read it back with nl_link_get).
 */
int nl_link_add_vxlan(struct nl *, const char *name, const struct nl_vxlan *,
    unsigned int mtu, const uint8_t *mac, char *err, size_t errlen);

/*
 * An IPIP tunnel device (rtnetlink kind "ipip", no endpoints: the catch-all
 * tunnel Calico routes through with onlink next hops).  Loading the ipip
 * module makes the kernel create tunl0 itself, so an EEXIST answer for
 * tunl0 counts as success.  Where the kernel has no ipip the error is errno
 * EOPNOTSUPP and "NAME: this kernel has no ipip support (modprobe ipip
 * failed?)".
 */
int nl_link_add_ipip(struct nl *, const char *name, char *err, size_t errlen);

/* "ee:ee:ee:ee:ee:ee" (lower case), and back; -1 if malformed */
const char *nl_mac_ntop(const uint8_t *mac, char *buf, size_t len);
int nl_mac_parse(const char *, uint8_t *mac);

/* ---- addresses ---- */

struct nl_addr {
	int ifindex;
	char ifname[IFNAMSIZ]; /* "" if the link went away meanwhile */
	struct prefix prefix; /* the address (host bits kept) and its length */
	uint8_t scope; /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST */
	uint32_t flags; /* IFA_F_* */
};

/*
 * Every address of family (AF_UNSPEC: both) on every link (ifindex 0) or
 * on one link, in the kernel's order; *out is an array the caller frees.
 */
int nl_addr_list(struct nl *, int family, int ifindex, struct nl_addr **out,
    size_t *n, char *err, size_t errlen);
/* add, or update (NLM_F_REPLACE) an address that is already there */
int nl_addr_replace(
    struct nl *, int ifindex, const struct prefix *, char *err, size_t errlen);
int nl_addr_del(
    struct nl *, int ifindex, const struct prefix *, char *err, size_t errlen);
/*
 * Make p the only address of its family on the link: p is replaced in and
 * every other address of the family removed (IPv6 link-local ones stay:
 * the kernel owns them).  *changed says whether anything was done.
 */
int nl_addr_set_only(struct nl *, int ifindex, const struct prefix *p,
    bool *changed, char *err, size_t errlen);

/* ---- neighbours: ARP/NDP entries and bridge/VXLAN FDB entries ---- */

struct nl_neigh {
	uint8_t family; /* AF_INET, AF_INET6 (ARP/NDP) or AF_BRIDGE (FDB) */
	int ifindex;
	struct addr dst; /* ARP/NDP: the IP; FDB: NDA_DST, the remote VTEP */
	uint8_t mac[NL_MACLEN]; /* NDA_LLADDR */
	bool has_mac;
	uint16_t state; /* NUD_* */
	uint8_t flags; /* NTF_* */
};

/*
 * The entries of one link (ifindex 0: every link) of family AF_INET,
 * AF_INET6 or AF_BRIDGE; *out is an array the caller frees.  Permanent
 * ones have state NUD_PERMANENT.
 */
int nl_neigh_list(struct nl *, int family, int ifindex, struct nl_neigh **out,
    size_t *n, char *err, size_t errlen);
/* a permanent ARP (IPv4) or NDP (IPv6) entry dst -> mac, made or updated */
int nl_neigh_replace(struct nl *, int ifindex, const struct addr *dst,
    const uint8_t *mac, char *err, size_t errlen);
int nl_neigh_del(
    struct nl *, int ifindex, const struct addr *dst, char *err, size_t errlen);
/*
 * A permanent FDB entry on a VXLAN device, mac -> remote VTEP dst (AF_BRIDGE,
 * NTF_SELF, NUD_PERMANENT, NLM_F_APPEND: `bridge fdb append MAC dev DEV dst
 * DST self permanent`).  Appending a pair that is there already succeeds.
 * The kernel adds a second remote only to the all-zeros and multicast
 * entries: for a unicast MAC that has an entry, append changes nothing, and
 * nl_neigh_fdb_replace moves it.
 */
int nl_neigh_fdb_append(struct nl *, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen);
/* the same with NLM_F_REPLACE: mac's (first) remote becomes dst */
int nl_neigh_fdb_replace(struct nl *, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen);
/* removes the pair mac -> dst (dst NULL: the whole entry for mac) */
int nl_neigh_fdb_del(struct nl *, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen);

#endif
