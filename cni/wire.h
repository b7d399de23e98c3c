/*
 * Calico's pod wiring, in netlink (libmnl, lib/nl.h) and /proc/sys:
 *
 *	host netns                        pod netns (CNI_NETNS)
 *	caliXXXXXXXXXXX  <--- veth --->   eth0 (CNI_IFNAME)
 *	ee:ee:ee:ee:ee:ee                 10.0.0.5/32, fd00::5/128
 *	proxy_arp=1, neigh proxy_delay=0  169.254.1.1/32 dev eth0 scope link
 *	forwarding=1 (v4, v6),            default via 169.254.1.1 dev eth0
 *	proxy_ndp=1, accept_dad=0 (v6)    ::/0 via fe80::ecee:eeff:feee:eeee
 *	10.0.0.5/32 dev cali.. scope link     dev eth0 (the host side's
 *	fd00::5/128 dev cali..                link-local, from its MAC)
 *
 * The pod ARPs for 169.254.1.1, the host side answers by proxy ARP with
 * ee:ee:..., and the host routes at layer 3 (for IPv6 the node also needs
 * net.ipv6.conf.all.forwarding=1: the node's setting, not a pod's; IPv6 is
 * switched back on in a pod that gets an address).  The host side's link-local
 * address is added with the pair (no DAD) rather than left to the kernel,
 * which makes it only when linkwatch notices the carrier, up to a second
 * later.  Host routes are protocol boot (3), never podmesh-bgpd's 44.
 *
 * Every call opens one netlink socket per netns (the pod's after a setns()
 * there and back on the calling thread) and forks nothing.
 */
#ifndef PODMESH_CNI_WIRE_H
#define PODMESH_CNI_WIRE_H

#include <stddef.h>

#include "cni/cni.h"
#include "lib/addr.h"

#define CNI_HOST_MAC "ee:ee:ee:ee:ee:ee"
#define CNI_GATEWAY4 "169.254.1.1"
#define CNI_GATEWAY6 "fe80::ecee:eeff:feee:eeee" /* EUI-64 of CNI_HOST_MAC */
#define CNI_DEFAULT_MTU 1500

struct cni_wire {
	const char *netns; /* path of the pod's netns */
	const char *ifname; /* in the pod */
	const char *host_ifname; /* caliXXXXXXXXXXX, in this (host) netns */
	int mtu; /* 0: CNI_DEFAULT_MTU */
	struct prefix addrs[CNI_MAX_IPS]; /* /32 and /128 */
	size_t naddrs;
};

struct cni_wired {
	char mac[18]; /* the pod side's MAC */
	int host_ifindex;
	int ifindex; /* the pod side's, in its netns */
};

/*
 * Build it.  A host link already named host_ifname is deleted first (a
 * stale one, as Calico does), and so is an ifname already in the pod (a
 * repeated ADD for one container rebuilds the same wiring); either must
 * be a veth, anything else is someone's device and refused.  A host route
 * for an address that already exists through another interface is an
 * error (the address is someone else's).  Errors: 8 when netns does not
 * exist or is not a netns, 5 for the rest, with what failed and the
 * kernel's reason.  On error nothing it made is left behind.
 */
int cni_wire_add(
    const struct cni_wire *, struct cni_wired *, struct cni_error *);

/*
 * The checks cni_wire_add starts with, alone: netns exists and is a
 * network namespace other than this one (error 8).  ADD runs it before
 * IPAM, so that a bad CNI_NETNS costs no allocation.
 */
int cni_wire_netns_check(const char *netns, struct cni_error *);

/*
 * Undo it, idempotently: host_ifname deleted if present (its routes go with
 * it), ifname in netns deleted if both exist.  0 also when the netns or the
 * links are gone; -1 (error 5) only when something exists and cannot be
 * removed.  netns may be NULL or "".
 */
int cni_wire_del(const char *netns, const char *ifname, const char *host_ifname,
    struct cni_error *);

/*
 * The host end down, which takes its routes at once: DEL does this before
 * the addresses are released, so that none can reach another pod on this
 * node while the host route still points here, and leaves the slow part
 * (the kernel takes an RCU grace period or two, 15-30 ms here, to
 * unregister a veth) to cni_wire_del() on another thread meanwhile.  0
 * also when there is no such link.  Safe on any thread, as every call
 * here: the netns switches are the calling thread's.
 */
int cni_wire_down(const char *host_ifname, struct cni_error *);

/*
 * CHECK: the links exist and are up, the pod side holds every address, its
 * routes and the host routes are there, the sysctls are set.  Error 5
 * naming the first thing missing.
 */
int cni_wire_check(const struct cni_wire *, struct cni_error *);

/*
 * Calico's host-side name: "cali" + the first 11 hex digits of
 * sha1(workload id) for Kubernetes pods ("<namespace>.<pod>"), and of
 * sha1(container id) otherwise (k8s_id NULL; Calico takes the id's first
 * 11 characters, which ids with a common prefix share).  prefix NULL:
 * "cali" (FELIX_INTERFACEPREFIX's first).
 */
int cni_host_ifname(const char *prefix, const char *k8s_id,
    const char *container_id, char *buf, size_t len);

#endif
