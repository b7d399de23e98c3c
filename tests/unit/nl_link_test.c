/*
 * lib/nl_link.c against the real kernel, in a network namespace of the
 * test's own (unshare(CLONE_NEWNET); skipped without the privilege): veth
 * and vxlan links and what a dump says of them, the ipip refusal, address
 * replace/list/only-one, ARP and FDB entries added, dumped and deleted; and
 * on top of them node/tunnel.c's devices and node/vxlan.c's neighbour sync
 * (stale entries removed, others left alone, a second run changing nothing).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <linux/neighbour.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"
#include "node/node.h"
#include "store/model.h"
#include "store/store.h"

#ifndef AF_BRIDGE
#define AF_BRIDGE 7
#endif

static const uint8_t mac1[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
static const uint8_t mac2[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t mac3[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x03};
static const uint8_t zero[6];

struct t {
	struct nl *nl;
};

static int
group_setup(void **state)
{
	static struct t t;
	char err[256];

	if (unshare(CLONE_NEWNET) == -1) {
		fprintf(stderr,
		    "nl_link_test: unshare(CLONE_NEWNET): %s: "
		    "every test is skipped\n",
		    strerror(errno));
		t.nl = NULL;
		*state = &t;
		return 0;
	}
	if ((t.nl = nl_open(0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "nl_open: %s\n", err);
		return -1;
	}
	*state = &t;
	return 0;
}

static int
group_teardown(void **state)
{
	struct t *t = *state;

	if (t->nl != NULL)
		nl_close(t->nl);
	return 0;
}

static struct nl *
nl_of(void **state)
{
	struct t *t = *state;

	if (t->nl == NULL)
		skip();
	return t->nl;
}

static void
addr_of(const char *s, struct addr *a)
{
	if (model_addr_parse(s, a) == -1)
		fail_msg("bad address %s", s);
}

static void
prefix_of(const char *s, struct prefix *p)
{
	if (model_prefix_parse(s, p) == -1)
		fail_msg("bad prefix %s", s);
}

static int
link_index(struct nl *nl, const char *name)
{
	struct nl_link_info li;
	char err[256];

	if (nl_link_get(nl, name, &li, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	return li.ifindex;
}

static void
link_gone(struct nl *nl, const char *name)
{
	struct nl_link_info li;
	char err[256];

	if (nl_link_get(nl, name, &li, err, sizeof(err)) == 0)
		assert_int_equal(
		    nl_link_del(nl, li.ifindex, err, sizeof(err)), 0);
}

/* a veth end with an address, up: an underlay */
static int
underlay(struct nl *nl, const char *name, const char *peer, const char *pfx)
{
	struct prefix p;
	char err[256];
	int ifindex;

	if (nl_link_add_veth(nl, name, peer, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	ifindex = link_index(nl, name);
	prefix_of(pfx, &p);
	assert_int_equal(nl_addr_replace(nl, ifindex, &p, err, sizeof(err)), 0);
	assert_int_equal(nl_link_set_up(nl, ifindex, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_link_set_up(nl, link_index(nl, peer), err, sizeof(err)), 0);
	return ifindex;
}

/* ---- links ---- */

static void
test_veth(void **state)
{
	struct nl *nl = nl_of(state);
	struct nl_link_info li, li2, *all, *raw;
	char err[256];
	size_t n, nraw, i, j;
	int a, b, seen = 0;

	assert_int_equal(
	    nl_link_add_veth(nl, "pm-a", "pm-b", err, sizeof(err)), 0);
	assert_int_equal(nl_link_get(nl, "pm-a", &li, err, sizeof(err)), 0);
	a = li.ifindex;
	assert_true(a > 0);
	assert_string_equal(li.name, "pm-a");
	assert_string_equal(li.kind, "veth");
	assert_false(li.has_vxlan);
	assert_int_equal(li.mtu, 1500);
	assert_true(li.has_mac);
	assert_false(li.flags & IFF_UP);
	b = link_index(nl, "pm-b");
	assert_int_not_equal(a, b);

	assert_int_equal(nl_link_get_index(nl, a, &li2, err, sizeof(err)), 0);
	assert_string_equal(li2.name, "pm-a");
	assert_memory_equal(li2.mac, li.mac, 6);

	assert_int_equal(nl_link_set_mtu(nl, a, 1400, err, sizeof(err)), 0);
	assert_int_equal(nl_link_set_up(nl, a, err, sizeof(err)), 0);
	assert_int_equal(nl_link_get(nl, "pm-a", &li, err, sizeof(err)), 0);
	assert_int_equal(li.mtu, 1400);
	assert_true(li.flags & IFF_UP);

	/* the list is in ifindex order and has both ends */
	assert_int_equal(nl_link_list(nl, &all, &n, err, sizeof(err)), 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			assert_true(all[i - 1].ifindex < all[i].ifindex);
		if (all[i].ifindex == a || all[i].ifindex == b)
			seen++;
	}
	assert_int_equal(seen, 2);
	/* the dump's order: the same links (on kernels from 6.6 in the same
	 * order too: they dump from the ifindex xarray) */
	assert_int_equal(
	    nl_link_list_unsorted(nl, &raw, &nraw, err, sizeof(err)), 0);
	assert_int_equal(nraw, n);
	for (i = 0; i < n; i++) {
		for (j = 0; j < nraw; j++)
			if (raw[j].ifindex == all[i].ifindex)
				break;
		assert_true(j < nraw);
		assert_string_equal(raw[j].name, all[i].name);
	}
	free(raw);
	free(all);

	/* refusals name the link */
	assert_int_equal(
	    nl_link_add_veth(nl, "pm-a", "pm-c", err, sizeof(err)), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(strncmp(err, "pm-a: ", 6), 0);
	assert_int_equal(nl_link_get(nl, "pm-nope", &li, err, sizeof(err)), -1);
	assert_int_equal(errno, ENODEV);
	assert_string_equal(err, "pm-nope: no such interface");
	assert_int_equal(
	    nl_link_get_index(nl, 999999, &li, err, sizeof(err)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nl_link_get(nl, "a-name-far-too-long-for-linux", &li,
	                     err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EINVAL);

	/* deleting one end takes the pair */
	assert_int_equal(nl_link_del(nl, a, err, sizeof(err)), 0);
	assert_int_equal(nl_link_get(nl, "pm-b", &li, err, sizeof(err)), -1);
	assert_int_equal(errno, ENODEV);
	assert_int_equal(nl_link_del(nl, a, err, sizeof(err)), -1);
}

static void
test_vxlan(void **state)
{
	struct nl *nl = nl_of(state);
	struct nl_link_info li;
	struct nl_vxlan vx;
	char err[256];
	int u;

	u = underlay(nl, "pm-u", "pm-up", "192.0.2.1/24");
	memset(&vx, 0, sizeof(vx));
	vx.vni = 4096;
	vx.port = 4789;
	addr_of("192.0.2.1", &vx.local);
	vx.underlay = u;
	vx.learning = false;
	assert_int_equal(
	    nl_link_add_vxlan(nl, "pm-vx", &vx, 1450, NULL, err, sizeof(err)),
	    0);
	assert_int_equal(nl_link_get(nl, "pm-vx", &li, err, sizeof(err)), 0);
	assert_string_equal(li.kind, "vxlan");
	assert_true(li.has_vxlan);
	assert_int_equal(li.vxlan.vni, 4096);
	assert_int_equal(li.vxlan.port, 4789);
	assert_int_equal(li.vxlan.underlay, u);
	assert_false(li.vxlan.learning);
	assert_int_equal(addr_cmp(&li.vxlan.local, &vx.local), 0);
	assert_int_equal(li.mtu, 1450);
	assert_true(li.has_mac);
	assert_int_equal(
	    nl_link_add_vxlan(nl, "pm-vx", &vx, 0, NULL, err, sizeof(err)), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(nl_link_del(nl, li.ifindex, err, sizeof(err)), 0);

	/* a given MAC and learning on; the kernel's MTU when 0 */
	vx.vni = 7;
	vx.port = 8472;
	vx.learning = true;
	assert_int_equal(
	    nl_link_add_vxlan(nl, "pm-vx2", &vx, 0, mac3, err, sizeof(err)), 0);
	assert_int_equal(nl_link_get(nl, "pm-vx2", &li, err, sizeof(err)), 0);
	assert_memory_equal(li.mac, mac3, 6);
	assert_int_equal(li.vxlan.vni, 7);
	assert_int_equal(li.vxlan.port, 8472);
	assert_true(li.vxlan.learning);
	assert_int_equal(li.mtu, 1450); /* underlay's 1500 - 50 */
	assert_int_equal(nl_link_del(nl, li.ifindex, err, sizeof(err)), 0);

	vx.vni = 1u << 24;
	assert_int_equal(
	    nl_link_add_vxlan(nl, "pm-vx3", &vx, 0, NULL, err, sizeof(err)),
	    -1);
	assert_int_equal(errno, EINVAL);
	link_gone(nl, "pm-u");
}

static void
test_ipip(void **state)
{
	struct nl *nl = nl_of(state);
	struct nl_link_info li;
	char err[256];
	int rc;

	rc = nl_link_add_ipip(nl, "tunl0", err, sizeof(err));
	if (rc == 0) {
		/* a kernel with ipip: tunl0 is its fallback device */
		assert_int_equal(
		    nl_link_get(nl, "tunl0", &li, err, sizeof(err)), 0);
		assert_string_equal(li.kind, "ipip");
		return;
	}
	assert_int_equal(errno, EOPNOTSUPP);
	assert_string_equal(err,
	    "tunl0: this kernel has no ipip support (modprobe ipip failed?)");
	assert_int_equal(nl_link_get(nl, "tunl0", &li, err, sizeof(err)), -1);
	assert_int_equal(errno, ENODEV);
}

/* ---- addresses ---- */

static size_t
count_addrs(struct nl *nl, int family, int ifindex, const char *want)
{
	struct nl_addr *v;
	char err[256], p[PREFIX_STRLEN];
	size_t n, i, hits = 0;

	if (nl_addr_list(nl, family, ifindex, &v, &n, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	for (i = 0; i < n; i++) {
		if (ifindex != 0)
			assert_int_equal(v[i].ifindex, ifindex);
		if (family != AF_UNSPEC)
			assert_int_equal(v[i].prefix.a.family, family);
		if (want == NULL ||
		    strcmp(prefix_ntop(&v[i].prefix, p, sizeof(p)), want) == 0)
			hits++;
	}
	free(v);
	return hits;
}

static void
test_addr(void **state)
{
	struct nl *nl = nl_of(state);
	struct nl_addr *v;
	struct prefix p;
	char err[256];
	size_t n, i;
	bool changed, found = false;
	int ifx;

	ifx = underlay(nl, "pm-ad", "pm-adp", "192.0.2.1/24");
	prefix_of("192.0.2.2/24", &p);
	assert_int_equal(nl_addr_replace(nl, ifx, &p, err, sizeof(err)), 0);
	assert_int_equal(nl_addr_replace(nl, ifx, &p, err, sizeof(err)), 0);
	prefix_of("2001:db8::1/64", &p);
	assert_int_equal(nl_addr_replace(nl, ifx, &p, err, sizeof(err)), 0);

	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 2);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "192.0.2.1/24"), 1);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "192.0.2.2/24"), 1);
	assert_int_equal(count_addrs(nl, AF_INET6, ifx, "2001:db8::1/64"), 1);

	/* every link: names filled in, lo's 127.0.0.1 there too */
	assert_int_equal(
	    nl_addr_list(nl, AF_UNSPEC, 0, &v, &n, err, sizeof(err)), 0);
	for (i = 0; i < n; i++)
		if (v[i].ifindex == ifx && v[i].prefix.a.family == AF_INET) {
			assert_string_equal(v[i].ifname, "pm-ad");
			assert_int_equal(v[i].scope, 0);
			found = true;
		}
	assert_true(found);
	free(v);

	/* only one IPv4 address; IPv6 ones stay */
	prefix_of("198.51.100.1/32", &p);
	assert_int_equal(
	    nl_addr_set_only(nl, ifx, &p, &changed, err, sizeof(err)), 0);
	assert_true(changed);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 1);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "198.51.100.1/32"), 1);
	assert_int_equal(count_addrs(nl, AF_INET6, ifx, "2001:db8::1/64"), 1);
	assert_int_equal(
	    nl_addr_set_only(nl, ifx, &p, &changed, err, sizeof(err)), 0);
	assert_false(changed);

	assert_int_equal(nl_addr_del(nl, ifx, &p, err, sizeof(err)), 0);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 0);
	assert_int_equal(nl_addr_del(nl, ifx, &p, err, sizeof(err)), -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
	link_gone(nl, "pm-ad");
}

/* ---- neighbours ---- */

static int
make_vxlan(
    struct nl *nl, const char *name, uint32_t vni, int u, const char *local)
{
	struct nl_vxlan vx;
	char err[256];

	memset(&vx, 0, sizeof(vx));
	vx.vni = vni; /* the kernel takes one device per VNI, port, local */
	vx.port = 4789;
	addr_of(local, &vx.local);
	vx.underlay = u;
	if (nl_link_add_vxlan(nl, name, &vx, 0, NULL, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	return link_index(nl, name);
}

/* how many permanent entries of family on ifindex match dst and mac */
static size_t
count_neigh(struct nl *nl, int family, int ifindex, const char *dst,
    const uint8_t *mac, bool permanent_only)
{
	struct nl_neigh *v;
	struct addr a;
	char err[256];
	size_t n, i, hits = 0;

	if (nl_neigh_list(nl, family, ifindex, &v, &n, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	if (dst != NULL)
		addr_of(dst, &a);
	for (i = 0; i < n; i++) {
		assert_int_equal(v[i].ifindex, ifindex);
		assert_int_equal(v[i].family, family);
		if (permanent_only && !(v[i].state & NUD_PERMANENT))
			continue;
		if (family == AF_BRIDGE && v[i].dst.family == 0)
			continue; /* not one of our kind */
		if (dst != NULL && addr_cmp(&v[i].dst, &a) != 0)
			continue;
		if (mac != NULL &&
		    (!v[i].has_mac || memcmp(v[i].mac, mac, 6) != 0))
			continue;
		if (family == AF_BRIDGE)
			assert_true(v[i].flags & NTF_SELF);
		hits++;
	}
	free(v);
	return hits;
}

static void
test_neigh(void **state)
{
	struct nl *nl = nl_of(state);
	struct addr a, d1, d2;
	char err[256];
	int u, vx;

	u = underlay(nl, "pm-nu", "pm-nup", "192.0.2.1/24");
	vx = make_vxlan(nl, "pm-nvx", 4096, u, "192.0.2.1");
	assert_int_equal(nl_link_set_up(nl, vx, err, sizeof(err)), 0);

	/* ARP */
	addr_of("198.18.1.0", &a);
	assert_int_equal(
	    nl_neigh_replace(nl, vx, &a, mac1, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_INET, vx, NULL, NULL, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_INET, vx, "198.18.1.0", mac1, true), 1);
	assert_int_equal(
	    nl_neigh_replace(nl, vx, &a, mac2, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_INET, vx, NULL, NULL, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_INET, vx, "198.18.1.0", mac2, true), 1);
	assert_int_equal(nl_neigh_del(nl, vx, &a, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_INET, vx, NULL, NULL, true), 0);
	assert_int_equal(nl_neigh_del(nl, vx, &a, err, sizeof(err)), -1);
	assert_int_equal(errno, ENOENT);

	/* FDB: append is idempotent */
	addr_of("192.0.2.9", &d1);
	addr_of("192.0.2.10", &d2);
	assert_int_equal(
	    nl_neigh_fdb_append(nl, vx, mac1, &d1, err, sizeof(err)), 0);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.9", mac1, true), 1);
	assert_int_equal(
	    nl_neigh_fdb_append(nl, vx, mac1, &d1, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, NULL, true), 1);
	/* a unicast MAC keeps one remote: append leaves it, replace moves
	 * it */
	assert_int_equal(
	    nl_neigh_fdb_append(nl, vx, mac1, &d2, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, mac1, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.9", mac1, true), 1);
	assert_int_equal(
	    nl_neigh_fdb_replace(nl, vx, mac1, &d2, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, mac1, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.10", mac1, true), 1);
	/* the all-zeros entry takes several remotes (flooding) */
	assert_int_equal(
	    nl_neigh_fdb_append(nl, vx, zero, &d1, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_neigh_fdb_append(nl, vx, zero, &d2, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, zero, true), 2);
	assert_int_equal(
	    nl_neigh_fdb_del(nl, vx, zero, &d1, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, zero, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.10", zero, true), 1);
	assert_int_equal(
	    nl_neigh_fdb_del(nl, vx, zero, NULL, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_neigh_fdb_del(nl, vx, mac1, NULL, err, sizeof(err)), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, NULL, true), 0);
	assert_int_equal(
	    nl_neigh_fdb_del(nl, vx, mac1, &d1, err, sizeof(err)), -1);

	link_gone(nl, "pm-nvx");
	link_gone(nl, "pm-nu");
}

static void
peer(struct node_vxlan_peer *p, const char *name, const char *node,
    const char *tun, const uint8_t *mac)
{
	memset(p, 0, sizeof(*p));
	p->name = name;
	addr_of(node, &p->node_ip);
	addr_of(tun, &p->tunnel_addr);
	memcpy(p->mac, mac, 6);
}

static void
test_vxlan_sync(void **state)
{
	struct nl *nl = nl_of(state);
	struct node_vxlan_peer peers[3];
	struct node_vxlan_stats st;
	struct addr a, d;
	char err[256], cmd[256];
	int u, vx, other;

	u = underlay(nl, "pm-su", "pm-sup", "192.0.2.1/24");
	vx = make_vxlan(nl, "vxlan.calico", 4096, u, "192.0.2.1");
	other = make_vxlan(nl, "pm-other", 4097, u, "192.0.2.1");
	assert_int_equal(nl_link_set_up(nl, vx, err, sizeof(err)), 0);

	/* stale permanent entries, a kernel-made one, another device's */
	addr_of("198.18.9.9", &a);
	addr_of("192.0.2.99", &d);
	assert_int_equal(
	    nl_neigh_replace(nl, vx, &a, mac3, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_neigh_fdb_append(nl, vx, mac3, &d, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_neigh_replace(nl, other, &a, mac3, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_neigh_fdb_append(nl, other, mac3, &d, err, sizeof(err)), 0);
	snprintf(cmd, sizeof(cmd),
	    "ip neigh replace 198.18.8.8 lladdr 02:00:00:00:00:08 dev "
	    "vxlan.calico nud stale");
	assert_int_equal(system(cmd), 0);

	peer(&peers[0], "a", "192.0.2.20", "198.18.1.0", mac1);
	peer(&peers[1], "b", "192.0.2.21", "198.18.2.0", mac2);
	assert_int_equal(
	    node_vxlan_sync(nl, 0, peers, 2, &st, err, sizeof(err)), 0);
	assert_int_equal(st.arp_added, 2);
	assert_int_equal(st.arp_removed, 1);
	assert_int_equal(st.fdb_added, 2);
	assert_int_equal(st.fdb_removed, 1);
	assert_int_equal(count_neigh(nl, AF_INET, vx, NULL, NULL, true), 2);
	assert_int_equal(
	    count_neigh(nl, AF_INET, vx, "198.18.1.0", mac1, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_INET, vx, "198.18.2.0", mac2, true), 1);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, NULL, true), 2);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.20", mac1, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.21", mac2, true), 1);
	/* left alone: the stale entry, the other device */
	assert_int_equal(
	    count_neigh(nl, AF_INET, vx, "198.18.8.8", NULL, false), 1);
	assert_int_equal(
	    count_neigh(nl, AF_INET, other, "198.18.9.9", mac3, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, other, "192.0.2.99", mac3, true), 1);

	/* nothing to do the second time */
	assert_int_equal(node_vxlan_sync(nl, (unsigned int)vx, peers, 2, &st,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(
	    st.arp_added + st.arp_removed + st.fdb_added + st.fdb_removed, 0);

	/* b moves to another node address, keeping its MAC */
	peer(&peers[0], "a", "192.0.2.20", "198.18.1.0", mac1);
	peer(&peers[1], "b", "192.0.2.31", "198.18.2.0", mac2);
	assert_int_equal(
	    node_vxlan_sync(nl, 0, peers, 2, &st, err, sizeof(err)), 0);
	assert_int_equal(st.arp_added + st.arp_removed, 0);
	assert_int_equal(st.fdb_added, 1);
	assert_int_equal(st.fdb_removed, 0); /* replaced in place */
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, NULL, true), 2);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.31", mac2, true), 1);

	/* b gets a new VTEP MAC and moves again; a leaves */
	peer(&peers[0], "b", "192.0.2.22", "198.18.2.0", mac3);
	assert_int_equal(
	    node_vxlan_sync(nl, 0, peers, 1, &st, err, sizeof(err)), 0);
	assert_int_equal(st.arp_added, 1);
	assert_int_equal(st.arp_removed, 1);
	assert_int_equal(st.fdb_added, 1);
	assert_int_equal(st.fdb_removed, 2);
	assert_int_equal(count_neigh(nl, AF_INET, vx, NULL, NULL, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_INET, vx, "198.18.2.0", mac3, true), 1);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, NULL, true), 1);
	assert_int_equal(
	    count_neigh(nl, AF_BRIDGE, vx, "192.0.2.22", mac3, true), 1);

	/* a second owner of a tunnel address or MAC is skipped */
	peer(&peers[1], "c", "192.0.2.23", "198.18.2.0", mac1);
	peer(&peers[2], "d", "192.0.2.24", "198.18.4.0", mac3);
	assert_int_equal(
	    node_vxlan_sync(nl, 0, peers, 3, &st, err, sizeof(err)), 0);
	assert_int_equal(
	    st.arp_added + st.arp_removed + st.fdb_added + st.fdb_removed, 0);

	/* none left */
	assert_int_equal(
	    node_vxlan_sync(nl, 0, NULL, 0, &st, err, sizeof(err)), 0);
	assert_int_equal(st.arp_removed, 1);
	assert_int_equal(st.fdb_removed, 1);
	assert_int_equal(count_neigh(nl, AF_INET, vx, NULL, NULL, true), 0);
	assert_int_equal(count_neigh(nl, AF_BRIDGE, vx, NULL, NULL, true), 0);

	link_gone(nl, "vxlan.calico");
	assert_int_equal(
	    node_vxlan_sync(nl, 0, peers, 1, &st, err, sizeof(err)), -1);
	assert_string_equal(err, "vxlan.calico: no such interface");
	link_gone(nl, "pm-other");
	link_gone(nl, "pm-su");
}

static void
test_peer_from_node(void **state)
{
	struct model_node n;
	struct node_vxlan_peer p;

	memset(&n, 0, sizeof(n));
	assert_int_equal(node_vxlan_peer_from_node("x", &n, &p), -1);
	n.has_bgp = true;
	prefix_of("192.0.2.5/24", &n.bgp.ipv4_address);
	assert_int_equal(node_vxlan_peer_from_node("x", &n, &p), -1);
	addr_of("198.18.0.0", &n.ipv4_vxlan_tunnel_addr);
	n.vxlan_tunnel_mac = (char *)"66:55:44:33:22:1g";
	assert_int_equal(node_vxlan_peer_from_node("x", &n, &p), -1);
	n.vxlan_tunnel_mac = (char *)"66:55:44:33:22:1F";
	assert_int_equal(node_vxlan_peer_from_node("x", &n, &p), 0);
	assert_string_equal(p.name, "x");
	assert_int_equal(p.mac[0], 0x66);
	assert_int_equal(p.mac[5], 0x1f);
	assert_int_equal(addr_v4(&p.node_ip), 0xc0000205);
	assert_int_equal(addr_v4(&p.tunnel_addr), 0xc6120000);
}

/* ---- node/tunnel.c's devices ---- */

static void
test_tunnel_ipip(void **state)
{
	struct nl *nl = nl_of(state);
	struct nl_link_info li;
	struct addr a, b;
	struct prefix p;
	char err[NODE_ERRLEN];
	int ifx;

	addr_of("198.18.0.0", &a);
	if (nl_link_add_ipip(nl, "pm-probe", err, sizeof(err)) == 0) {
		link_gone(nl, "pm-probe");
		skip(); /* this kernel has ipip: the stand-in case is moot */
	}
	link_gone(nl, "tunl0");
	assert_int_equal(tunnel_ipip_up(nl, &a, 1440, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "tunl0: this kernel has no ipip support (modprobe ipip failed?)");

	/* a stand-in, as the integration tests use */
	assert_int_equal(
	    nl_link_add_veth(nl, "tunl0", "tunl0-peer", err, sizeof(err)), 0);
	ifx = link_index(nl, "tunl0");
	prefix_of("203.0.113.7/24", &p);
	assert_int_equal(nl_addr_replace(nl, ifx, &p, err, sizeof(err)), 0);
	assert_int_equal(tunnel_ipip_up(nl, &a, 1440, err, sizeof(err)), 0);
	assert_int_equal(nl_link_get(nl, "tunl0", &li, err, sizeof(err)), 0);
	assert_int_equal(li.mtu, 1440);
	assert_true(li.flags & IFF_UP);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 1);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "198.18.0.0/32"), 1);
	/* again: the same */
	assert_int_equal(tunnel_ipip_up(nl, &a, 1440, err, sizeof(err)), 0);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "198.18.0.0/32"), 1);
	/* a new address replaces it */
	addr_of("198.18.0.64", &b);
	assert_int_equal(tunnel_ipip_up(nl, &b, 1400, err, sizeof(err)), 0);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 1);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "198.18.0.64/32"), 1);
	assert_int_equal(nl_link_get(nl, "tunl0", &li, err, sizeof(err)), 0);
	assert_int_equal(li.mtu, 1400);
	/* down: every IPv4 address goes, whoever put it there; IPv6 and
	 * other links are left alone */
	prefix_of("203.0.113.8/24", &p);
	assert_int_equal(nl_addr_replace(nl, ifx, &p, err, sizeof(err)), 0);
	prefix_of("2001:db8::8/64", &p);
	assert_int_equal(nl_addr_replace(nl, ifx, &p, err, sizeof(err)), 0);
	prefix_of("203.0.113.9/24", &p);
	assert_int_equal(nl_addr_replace(nl, link_index(nl, "tunl0-peer"), &p,
	                     err, sizeof(err)),
	    0);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 2);
	assert_int_equal(tunnel_ipip_down(nl, err, sizeof(err)), 0);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 0);
	assert_int_equal(count_addrs(nl, AF_INET6, ifx, "2001:db8::8/64"), 1);
	assert_int_equal(count_addrs(nl, AF_INET, link_index(nl, "tunl0-peer"),
	                     "203.0.113.9/24"),
	    1);
	assert_int_equal(tunnel_ipip_down(nl, err, sizeof(err)), 0);
	link_gone(nl, "tunl0");
	assert_int_equal(tunnel_ipip_down(nl, err, sizeof(err)), 0);
}

static void
test_tunnel_vxlan(void **state)
{
	struct nl *nl = nl_of(state);
	struct tunnel_vxlan tv;
	struct nl_link_info li;
	struct autodetect_iflist l;
	struct autodetect_result res;
	struct addr a;
	uint8_t mac[6], mac_b[6];
	char err[NODE_ERRLEN];
	int u, ifx;

	u = underlay(nl, "pm-tu", "pm-tup", "192.0.2.1/24");
	assert_int_equal(nl_link_set_mtu(nl, u, 9000, err, sizeof(err)), 0);
	memset(&tv, 0, sizeof(tv));
	tv.vni = 4096;
	tv.port = 4789;
	addr_of("192.0.2.1", &tv.local);
	addr_of("198.18.0.192", &a);
	assert_int_equal(
	    tunnel_vxlan_up(nl, &tv, &a, mac, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_link_get(nl, "vxlan.calico", &li, err, sizeof(err)), 0);
	ifx = li.ifindex;
	assert_int_equal(li.vxlan.vni, 4096);
	assert_int_equal(li.vxlan.port, 4789);
	assert_int_equal(li.vxlan.underlay, u);
	assert_false(li.vxlan.learning);
	assert_int_equal(li.mtu, 8950);
	assert_true(li.flags & IFF_UP);
	assert_memory_equal(li.mac, mac, 6);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, NULL), 1);
	assert_int_equal(count_addrs(nl, AF_INET, ifx, "198.18.0.192/32"), 1);

	/* again: the same device */
	assert_int_equal(
	    tunnel_vxlan_up(nl, &tv, &a, mac_b, err, sizeof(err)), 0);
	assert_int_equal(link_index(nl, "vxlan.calico"), ifx);
	assert_memory_equal(mac_b, mac, 6);

	/* another VNI: made again, keeping the MAC the Node records */
	tv.vni = 4097;
	tv.has_mac = true;
	memcpy(tv.mac, mac, 6);
	tv.mtu = 1400;
	assert_int_equal(
	    tunnel_vxlan_up(nl, &tv, &a, mac_b, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_link_get(nl, "vxlan.calico", &li, err, sizeof(err)), 0);
	assert_int_not_equal(li.ifindex, ifx);
	assert_int_equal(li.vxlan.vni, 4097);
	assert_int_equal(li.mtu, 1400);
	assert_memory_equal(li.mac, mac, 6);
	assert_memory_equal(mac_b, mac, 6);

	/* the live interface list sees it all */
	assert_int_equal(autodetect_iflist_load(nl, &l, err, sizeof(err)), 0);
	assert_int_equal(autodetect_find(&l, &a, &res), 0);
	assert_string_equal(res.ifname, "vxlan.calico");
	assert_int_equal(res.prefix.len, 32);
	autodetect_iflist_clean(&l);

	/* no underlay holds the local address */
	addr_of("192.0.2.77", &tv.local);
	assert_int_equal(
	    tunnel_vxlan_up(nl, &tv, &a, mac, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "192.0.2.77 is on no local interface"));

	assert_int_equal(tunnel_vxlan_down(nl, err, sizeof(err)), 0);
	assert_int_equal(
	    nl_link_get(nl, "vxlan.calico", &li, err, sizeof(err)), -1);
	assert_int_equal(tunnel_vxlan_down(nl, err, sizeof(err)), 0);
	link_gone(nl, "pm-tu");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_veth),
	    cmocka_unit_test(test_vxlan),
	    cmocka_unit_test(test_ipip),
	    cmocka_unit_test(test_addr),
	    cmocka_unit_test(test_neigh),
	    cmocka_unit_test(test_vxlan_sync),
	    cmocka_unit_test(test_peer_from_node),
	    cmocka_unit_test(test_tunnel_ipip),
	    cmocka_unit_test(test_tunnel_vxlan),
	};

	log_init("nl_link_test", LOG_LVL_ERROR);
	store_init();
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
