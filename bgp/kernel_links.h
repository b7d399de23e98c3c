/*
 * The links the kernel sync's routes may go through (bgp/kernel.c): which
 * links are up, which links installed next hops name (0 for a next hop
 * whose device the kernel picks from the gateway), and which links carry a
 * global address, where such a gateway can be reached.  A link event then
 * costs a lookup, not a scan of every route.
 */
#ifndef PODMESH_BGP_KERNEL_LINKS_H
#define PODMESH_BGP_KERNEL_LINKS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/nl.h"

/* a link and a count: of next hops naming it, or 1 for "up" */
struct kernel_link_count {
	unsigned int ifindex;
	size_t n;
};

/* sorted arrays, all zero to start with */
struct kernel_links {
	struct kernel_link_count *up;
	size_t nup, upcap;
	struct kernel_link_count *refs;
	size_t nrefs, refcap;
	struct nl_ifaddr *addrs; /* global ones, by link */
	size_t naddrs, addrcap;
};

void kernel_links_free(struct kernel_links *);
/* forget the links that are up and the addresses, to read them afresh */
void kernel_links_reset(struct kernel_links *);

bool kernel_links_is_up(const struct kernel_links *, unsigned int ifindex);
void kernel_links_set_up(struct kernel_links *, unsigned int ifindex, bool);
/* one next hop more (delta 1) or less (-1) names the link */
void kernel_links_ref(struct kernel_links *, unsigned int ifindex, int delta);
/* a global address added (on) or removed; its link gone: all of them */
void kernel_links_addr(struct kernel_links *, const struct nl_ifaddr *, bool);
void kernel_links_gone(struct kernel_links *, unsigned int ifindex);

/*
 * May an installed route go through the link?  Yes if a next hop names it,
 * or if a next hop names none and the link has a global address.
 */
bool kernel_links_used(const struct kernel_links *, unsigned int ifindex);

#endif
