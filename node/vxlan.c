/*
 * The VXLAN neighbours of vxlan.calico (ecosystem.md §5, the flannel and
 * Calico scheme without miss daemons): for every remote node one permanent
 * ARP entry, its tunnel address -> its VTEP MAC, and one permanent FDB
 * entry, that MAC -> its node address.  The kernel then encapsulates a
 * packet routed "via <remote tunnel address> dev vxlan.calico onlink"
 * straight to the right node.
 *
 * node_vxlan_sync() compares what the kernel holds with what it should and
 * changes only the difference, so running it after every datastore change
 * is cheap and leaves the entries of unchanged nodes untouched.  Entries
 * that are not permanent (the kernel's own) are never removed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/neighbour.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"
#include "lib/xmalloc.h"
#include "node/derive.h"
#include "node/node.h"
#include "store/model.h"

#ifndef AF_BRIDGE
#define AF_BRIDGE 7
#endif

int
node_vxlan_peer_from_node(
    const char *name, const struct model_node *n, struct node_vxlan_peer *p)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	if (!n->has_bgp || n->bgp.ipv4_address.a.family != AF_INET ||
	    n->ipv4_vxlan_tunnel_addr.family != AF_INET ||
	    n->vxlan_tunnel_mac == NULL ||
	    nl_mac_parse(n->vxlan_tunnel_mac, p->mac) == -1)
		return -1;
	p->node_ip = n->bgp.ipv4_address.a;
	p->node_ip.scope_id = 0;
	p->tunnel_addr = n->ipv4_vxlan_tunnel_addr;
	return 0;
}

static const char *
vxlan_name(const struct node_vxlan_peer *p)
{
	return p->name != NULL ? p->name : "(unnamed)";
}

/*
 * The peers that can be programmed, each tunnel address and MAC once (a
 * second owner of either would make the kernel's answer depend on order).
 */
static size_t
vxlan_wanted(const struct node_vxlan_peer *peers, size_t n,
    const struct node_vxlan_peer **want)
{
	char a[ADDR_STRLEN];
	size_t i, j, k = 0;
	bool dup;

	for (i = 0; i < n; i++) {
		if (peers[i].tunnel_addr.family != AF_INET ||
		    (peers[i].node_ip.family != AF_INET &&
		        peers[i].node_ip.family != AF_INET6)) {
			log_warnx("vxlan: node %s: no IPv4 tunnel address or "
			          "node address; skipped",
			    vxlan_name(&peers[i]));
			continue;
		}
		dup = false;
		for (j = 0; j < k && !dup; j++) {
			if (addr_cmp(&want[j]->tunnel_addr,
			        &peers[i].tunnel_addr) == 0 ||
			    memcmp(want[j]->mac, peers[i].mac, NL_MACLEN) ==
			        0) {
				log_warnx("vxlan: node %s has the tunnel "
				          "address %s or MAC of node %s; "
				          "skipped",
				    vxlan_name(&peers[i]),
				    addr_ntop(
				        &peers[i].tunnel_addr, a, sizeof(a)),
				    vxlan_name(want[j]));
				dup = true;
			}
		}
		if (!dup)
			want[k++] = &peers[i];
	}
	return k;
}

static bool
vxlan_permanent(const struct nl_neigh *ne)
{
	return (ne->state & NUD_PERMANENT) != 0;
}

static int
vxlan_sync_arp(struct nl *nl, int ifindex,
    const struct node_vxlan_peer *const *want, size_t nwant,
    struct node_vxlan_stats *st, char *err, size_t errlen)
{
	struct nl_neigh *cur = NULL;
	size_t ncur, i, j;
	bool ok;

	if (nl_neigh_list(nl, AF_INET, ifindex, &cur, &ncur, err, errlen) == -1)
		return -1;
	for (i = 0; i < nwant; i++) {
		ok = false;
		for (j = 0; j < ncur && !ok; j++)
			ok =
			    addr_cmp(&cur[j].dst, &want[i]->tunnel_addr) == 0 &&
			    vxlan_permanent(&cur[j]) && cur[j].has_mac &&
			    memcmp(cur[j].mac, want[i]->mac, NL_MACLEN) == 0;
		if (ok)
			continue;
		if (nl_neigh_replace(nl, ifindex, &want[i]->tunnel_addr,
		        want[i]->mac, err, errlen) == -1)
			goto fail;
		st->arp_added++;
	}
	for (j = 0; j < ncur; j++) {
		if (!vxlan_permanent(&cur[j]))
			continue;
		ok = false;
		for (i = 0; i < nwant && !ok; i++)
			ok = addr_cmp(&cur[j].dst, &want[i]->tunnel_addr) == 0;
		if (ok)
			continue;
		if (nl_neigh_del(nl, ifindex, &cur[j].dst, err, errlen) == -1 &&
		    errno != ENOENT)
			goto fail;
		st->arp_removed++;
	}
	free(cur);
	return 0;
fail:
	free(cur);
	return -1;
}

/*
 * The kernel keeps one remote per unicast MAC (append adds remotes only to
 * the all-zeros and multicast entries), so a MAC whose node moved is
 * replaced in place, a new one appended, and stale pairs deleted.
 */
static int
vxlan_sync_fdb(struct nl *nl, int ifindex,
    const struct node_vxlan_peer *const *want, size_t nwant,
    struct node_vxlan_stats *st, char *err, size_t errlen)
{
	struct nl_neigh *cur = NULL;
	bool *moved = xcalloc(nwant + 1, sizeof(*moved));
	size_t ncur, i, j;
	bool ok, known;
	int rc = -1;

	if (nl_neigh_list(nl, AF_BRIDGE, ifindex, &cur, &ncur, err, errlen) ==
	    -1)
		goto done;
	for (i = 0; i < nwant; i++) {
		ok = known = false;
		for (j = 0; j < ncur && !ok; j++) {
			if (!cur[j].has_mac ||
			    memcmp(cur[j].mac, want[i]->mac, NL_MACLEN) != 0)
				continue;
			known = true;
			ok = vxlan_permanent(&cur[j]) &&
			    addr_cmp(&cur[j].dst, &want[i]->node_ip) == 0;
		}
		if (ok)
			continue;
		if ((known ? nl_neigh_fdb_replace : nl_neigh_fdb_append)(nl,
		        ifindex, want[i]->mac, &want[i]->node_ip, err,
		        errlen) == -1)
			goto done;
		moved[i] = known;
		st->fdb_added++;
	}
	for (j = 0; j < ncur; j++) {
		/* only our kind of entry: permanent, a MAC and a remote */
		if (!vxlan_permanent(&cur[j]) || !cur[j].has_mac ||
		    cur[j].dst.family == 0)
			continue;
		ok = false;
		for (i = 0; i < nwant && !ok; i++)
			ok = memcmp(cur[j].mac, want[i]->mac, NL_MACLEN) == 0 &&
			    (moved[i] ||
			        addr_cmp(&cur[j].dst, &want[i]->node_ip) == 0);
		if (ok)
			continue; /* wanted, or replaced in place just now */
		if (nl_neigh_fdb_del(nl, ifindex, cur[j].mac, &cur[j].dst, err,
		        errlen) == -1) {
			if (errno != ENOENT)
				goto done;
			continue;
		}
		st->fdb_removed++;
	}
	rc = 0;
done:
	free(moved);
	free(cur);
	return rc;
}

int
node_vxlan_sync(struct nl *nl, unsigned int ifindex,
    const struct node_vxlan_peer *peers, size_t npeers,
    struct node_vxlan_stats *stats, char *err, size_t errlen)
{
	const struct node_vxlan_peer **want;
	struct node_vxlan_stats st;
	struct nl_link_info li;
	size_t nwant;
	int rc = -1;

	memset(&st, 0, sizeof(st));
	if (ifindex == 0) {
		if (nl_link_get(nl, NODE_VXLAN_DEV, &li, err, errlen) == -1)
			return -1;
		ifindex = (unsigned int)li.ifindex;
	}
	want = xcalloc(npeers + 1, sizeof(*want));
	nwant = vxlan_wanted(peers, npeers, want);
	if (vxlan_sync_arp(nl, (int)ifindex, want, nwant, &st, err, errlen) ==
	        0 &&
	    vxlan_sync_fdb(nl, (int)ifindex, want, nwant, &st, err, errlen) ==
	        0)
		rc = 0;
	free(want);
	if (stats != NULL)
		*stats = st;
	return rc;
}

int
node_vxlan_sync_cache(const struct wcache *wc, const char *me,
    unsigned int ifindex, char *err, size_t errlen)
{
	struct node_view_iter it;
	const struct resource *r;
	struct node_vxlan_peer *peers = NULL;
	struct node_vxlan_stats st;
	struct nl *nl;
	size_t n = 0;
	int rc;

	for (r = node_view_first(wc, &it, MODEL_NODE); r != NULL;
	     r = node_view_next(&it)) {
		if (me != NULL && strcmp(r->meta.name, me) == 0)
			continue;
		peers = xreallocarray(peers, n + 1, sizeof(*peers));
		/* a node without VXLAN (yet) simply has no entries */
		if (node_vxlan_peer_from_node(
		        r->meta.name, &r->node, &peers[n]) == 0)
			n++;
	}
	if ((nl = nl_open(0, err, errlen)) == NULL) {
		free(peers);
		return -1;
	}
	rc = node_vxlan_sync(nl, ifindex, peers, n, &st, err, errlen);
	nl_close(nl);
	free(peers);
	if (rc == 0 &&
	    (st.arp_added || st.arp_removed || st.fdb_added || st.fdb_removed))
		log_info(
		    "vxlan: %zu remote VTEPs: ARP +%zu -%zu, FDB +%zu -%zu", n,
		    st.arp_added, st.arp_removed, st.fdb_added, st.fdb_removed);
	return rc;
}
