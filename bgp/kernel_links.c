/*
 * The kernel sync's links (see kernel_links.h): three arrays sorted by
 * interface index, searched by halves.  A node has a few links with
 * addresses and next hops, and many pod veths that are merely up.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/kernel_links.h"

static bool kernel_links_find(
    const struct kernel_link_count *, size_t, unsigned int, size_t *);
static void kernel_links_count(
    struct kernel_link_count **, size_t *, size_t *, unsigned int, int);
static int kernel_links_addr_cmp(
    const struct nl_ifaddr *, const struct nl_ifaddr *);
static bool kernel_links_addr_find(
    const struct kernel_links *, const struct nl_ifaddr *, size_t *);
static bool kernel_links_global(const struct kernel_links *, unsigned int);

static bool
kernel_links_find(const struct kernel_link_count *v, size_t n,
    unsigned int ifindex, size_t *at)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (v[mid].ifindex < ifindex)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (at != NULL)
		*at = lo;
	return lo < n && v[lo].ifindex == ifindex;
}

/* ifindex's count moves by delta; at 0 it leaves the array */
static void
kernel_links_count(struct kernel_link_count **v, size_t *n, size_t *cap,
    unsigned int ifindex, int delta)
{
	size_t at;

	if (!kernel_links_find(*v, *n, ifindex, &at)) {
		if (delta < 0)
			fatalx("kernel: link count out of step");
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*v = xreallocarray(*v, *cap, sizeof(**v));
		}
		memmove(&(*v)[at + 1], &(*v)[at], (*n - at) * sizeof(**v));
		(*v)[at].ifindex = ifindex;
		(*v)[at].n = 0;
		(*n)++;
	}
	if (delta > 0)
		(*v)[at].n++;
	else if (--(*v)[at].n == 0) {
		memmove(&(*v)[at], &(*v)[at + 1], (*n - at - 1) * sizeof(**v));
		(*n)--;
	}
}

void
kernel_links_free(struct kernel_links *kl)
{
	free(kl->up);
	free(kl->refs);
	free(kl->addrs);
	memset(kl, 0, sizeof(*kl));
}

void
kernel_links_reset(struct kernel_links *kl)
{
	kl->nup = 0;
	kl->naddrs = 0;
}

bool
kernel_links_is_up(const struct kernel_links *kl, unsigned int ifindex)
{
	return kernel_links_find(kl->up, kl->nup, ifindex, NULL);
}

void
kernel_links_set_up(struct kernel_links *kl, unsigned int ifindex, bool up)
{
	if (kernel_links_is_up(kl, ifindex) != up)
		kernel_links_count(
		    &kl->up, &kl->nup, &kl->upcap, ifindex, up ? 1 : -1);
}

void
kernel_links_ref(struct kernel_links *kl, unsigned int ifindex, int delta)
{
	kernel_links_count(&kl->refs, &kl->nrefs, &kl->refcap, ifindex, delta);
}

/* by link first, so a link's addresses sit together */
static int
kernel_links_addr_cmp(const struct nl_ifaddr *a, const struct nl_ifaddr *b)
{
	int r;

	if (a->ifindex != b->ifindex)
		return a->ifindex < b->ifindex ? -1 : 1;
	if ((r = addr_cmp(&a->prefix.a, &b->prefix.a)) != 0)
		return r;
	return (int)a->prefix.len - (int)b->prefix.len;
}

/* where ia is or would go */
static bool
kernel_links_addr_find(
    const struct kernel_links *kl, const struct nl_ifaddr *ia, size_t *at)
{
	size_t lo = 0, hi = kl->naddrs, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (kernel_links_addr_cmp(&kl->addrs[mid], ia) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < kl->naddrs &&
	    kernel_links_addr_cmp(&kl->addrs[lo], ia) == 0;
}

void
kernel_links_addr(struct kernel_links *kl, const struct nl_ifaddr *ia, bool on)
{
	size_t at;

	if (kernel_links_addr_find(kl, ia, &at) == on)
		return;
	if (on) {
		if (kl->naddrs == kl->addrcap) {
			kl->addrcap = kl->addrcap ? kl->addrcap * 2 : 16;
			kl->addrs = xreallocarray(
			    kl->addrs, kl->addrcap, sizeof(*kl->addrs));
		}
		memmove(&kl->addrs[at + 1], &kl->addrs[at],
		    (kl->naddrs - at) * sizeof(*kl->addrs));
		kl->addrs[at] = *ia;
		kl->naddrs++;
	} else {
		memmove(&kl->addrs[at], &kl->addrs[at + 1],
		    (kl->naddrs - at - 1) * sizeof(*kl->addrs));
		kl->naddrs--;
	}
}

/* the link went: its addresses with it, told or not */
void
kernel_links_gone(struct kernel_links *kl, unsigned int ifindex)
{
	size_t i, j;

	kernel_links_set_up(kl, ifindex, false);
	for (i = j = 0; i < kl->naddrs; i++)
		if (kl->addrs[i].ifindex != ifindex)
			kl->addrs[j++] = kl->addrs[i];
	kl->naddrs = j;
}

static bool
kernel_links_global(const struct kernel_links *kl, unsigned int ifindex)
{
	struct nl_ifaddr key;
	size_t at;

	memset(&key, 0, sizeof(key));
	key.ifindex = ifindex; /* sorts before the link's first address */
	(void)kernel_links_addr_find(kl, &key, &at);
	return at < kl->naddrs && kl->addrs[at].ifindex == ifindex;
}

bool
kernel_links_used(const struct kernel_links *kl, unsigned int ifindex)
{
	if (kernel_links_find(kl->refs, kl->nrefs, ifindex, NULL))
		return true;
	return kernel_links_find(kl->refs, kl->nrefs, 0, NULL) &&
	    kernel_links_global(kl, ifindex);
}
