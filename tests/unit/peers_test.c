/*
 * node/view.c and node/peers.c: node_derive() over a detached node cache
 * fed with Calico v3 JSON.  Checked: the node-to-node mesh among three
 * nodes (exactly one side of every pair passive, by string comparison as
 * Calico's template does; per-node and global AS; nodes without BGP left
 * out); mesh off with a reflector cluster from nodeSelector/peerSelector
 * (clients peer only with the reflectors, a reflector with every client as
 * rr client, two reflectors of one cluster not each other's clients, a
 * reflector of another cluster a client); global and node BGPPeers,
 * peerIP with a port, keepOriginalNextHop, skipping myself; nodeSelector;
 * reverse peerings from a node-scoped peerSelector, and an explicit
 * peering winning over one; duplicates (global over node, explicit over
 * mesh, the first BGPPeer by name); listenPort (global and per node) and
 * the peers' ports; IPv6 mesh and peers; log levels; errors (my Node
 * missing, refused, without IPv4); refused values (bad address, bad
 * kind, name not the key's, not JSON) not breaking the rest; re-deriving
 * after a change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "derive_fixture.h"

#define HOST(n) "{\"kubernetes.io/hostname\":\"" n "\"}"

static const char *
derive_ok(struct fx *f, const char *me, struct node_bgp *b)
{
	char err[256];

	err[0] = '\0';
	if (node_derive(f->wc, me, b, err, sizeof(err)) == -1)
		fail_msg("node_derive %s: %s", me, err);
	return fx_peers(b);
}

static void
test_mesh3(void **state)
{
	struct node_bgp b;
	struct fx f;
	size_t i, j, k;
	const char *names[] = {"n1", "n2", "n3"};
	struct node_bgp all[3];

	(void)state;
	fx_init(&f);
	fx_bgpconfig(&f, "default",
	    "\"logSeverityScreen\":\"Info\",\"nodeToNodeMeshEnabled\":true,"
	    "\"asNumber\":64600");
	fx_node(&f, "n1", HOST("n1"),
	    "\"ipv4Address\":\"192.0.2.1/24\","
	    "\"ipv4IPIPTunnelAddr\":\"198.18.0.1\"",
	    NULL);
	fx_node(&f, "n2", HOST("n2"),
	    "\"ipv4Address\":\"192.0.2.2/24\",\"asNumber\":64513", NULL);
	fx_node(
	    &f, "n3", HOST("n3"), "\"ipv4Address\":\"192.0.2.10/24\"", NULL);
	/* a node without BGP (a Felix-only host): no peering */
	fx_node(&f, "n4", HOST("n4"), NULL, NULL);
	fx_load(&f);

	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2 as64513 passive mesh n2; "
	    "192.0.2.10 as64600 passive mesh n3");
	assert_int_equal(b.router_id, 0xc0000201);
	assert_int_equal(b.asn, 64600);
	assert_int_equal(b.listen_port, 0);
	assert_false(b.route_reflector);
	assert_string_equal(b.log_level, "info");
	assert_null(b.peers[0].password);
	node_bgp_clean(&b);

	/* "192.0.2.10" < "192.0.2.2" as strings, so n2 connects to n3 */
	assert_string_equal(derive_ok(&f, "n2", &b),
	    "192.0.2.1 as64600 mesh n1; 192.0.2.10 as64600 mesh n3");
	assert_int_equal(b.asn, 64513);
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "n3", &b),
	    "192.0.2.1 as64600 mesh n1; 192.0.2.2 as64513 passive mesh n2");
	node_bgp_clean(&b);

	/* every pair: exactly one side passive */
	for (i = 0; i < 3; i++)
		derive_ok(&f, names[i], &all[i]);
	for (i = 0; i < 3; i++)
		for (j = 0; j < all[i].npeers; j++) {
			const struct node_peer *p = &all[i].peers[j], *q;

			for (k = 0; k < 3; k++)
				if (strcmp(names[k], p->name) == 0)
					break;
			assert_true(k < 3);
			q = NULL;
			for (size_t m = 0; m < all[k].npeers; m++)
				if (strcmp(all[k].peers[m].name, names[i]) == 0)
					q = &all[k].peers[m];
			assert_non_null(q);
			assert_true(p->passive != q->passive);
		}
	for (i = 0; i < 3; i++)
		node_bgp_clean(&all[i]);

	/* no BGPConfiguration at all: AS 64512, mesh on */
	fx_del(&f, FX_RES "bgpconfigurations/default");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2 as64513 passive mesh n2; "
	    "192.0.2.10 as64512 passive mesh n3");
	assert_int_equal(b.asn, 64512);
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
reflector_fixture(struct fx *f)
{
	fx_init(f);
	fx_bgpconfig(f, "default", "\"nodeToNodeMeshEnabled\":false");
	fx_node(f, "c1", HOST("c1"), "\"ipv4Address\":\"192.0.2.11/24\"", NULL);
	fx_node(f, "c2", HOST("c2"), "\"ipv4Address\":\"192.0.2.12/24\"", NULL);
	fx_node(f, "c3", HOST("c3"), "\"ipv4Address\":\"192.0.2.13/24\"", NULL);
	fx_node(f, "r1", "{\"route-reflector\":\"true\"}",
	    "\"ipv4Address\":\"192.0.2.21/24\","
	    "\"routeReflectorClusterID\":\"244.0.0.1\"",
	    NULL);
	fx_node(f, "r2", "{\"route-reflector\":\"true\"}",
	    "\"ipv4Address\":\"192.0.2.22/24\","
	    "\"routeReflectorClusterID\":\"244.0.0.1\"",
	    NULL);
	fx_peer(f, "peer-with-route-reflectors",
	    "\"nodeSelector\":\"all()\","
	    "\"peerSelector\":\"route-reflector == 'true'\"");
	fx_load(f);
}

static void
test_reflector_cluster(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	reflector_fixture(&f);
	assert_string_equal(derive_ok(&f, "c1", &b),
	    "192.0.2.21 as64512 node r1; 192.0.2.22 as64512 node r2");
	assert_false(b.route_reflector);
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "c3", &b),
	    "192.0.2.21 as64512 node r1; 192.0.2.22 as64512 node r2");
	node_bgp_clean(&b);

	/* the reflector: its clients come from the reverse peerings */
	assert_string_equal(derive_ok(&f, "r1", &b),
	    "192.0.2.11 as64512 rr node c1; 192.0.2.12 as64512 rr node c2; "
	    "192.0.2.13 as64512 rr node c3; 192.0.2.22 as64512 node r2");
	assert_true(b.route_reflector);
	assert_int_equal(b.cluster_id, 0xf4000001);
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "r2", &b),
	    "192.0.2.11 as64512 rr node c1; 192.0.2.12 as64512 rr node c2; "
	    "192.0.2.13 as64512 rr node c3; 192.0.2.21 as64512 node r1");
	node_bgp_clean(&b);

	/*
	 * A reflector of another cluster: Calico's rule (same AS, cluster
	 * ids differ) makes each the other's client.  A client in another
	 * AS is not a client.
	 */
	fx_node(&f, "r3", "{\"route-reflector\":\"true\"}",
	    "\"ipv4Address\":\"192.0.2.23/24\","
	    "\"routeReflectorClusterID\":\"244.0.0.2\"",
	    NULL);
	fx_node(&f, "c4", HOST("c4"),
	    "\"ipv4Address\":\"192.0.2.14/24\",\"asNumber\":65000", NULL);
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "r1", &b),
	    "192.0.2.11 as64512 rr node c1; 192.0.2.12 as64512 rr node c2; "
	    "192.0.2.13 as64512 rr node c3; 192.0.2.14 as65000 node c4; "
	    "192.0.2.22 as64512 node r2; 192.0.2.23 as64512 rr node r3");
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "c4", &b),
	    "192.0.2.21 as64512 node r1; 192.0.2.22 as64512 node r2; "
	    "192.0.2.23 as64512 node r3");
	assert_int_equal(b.asn, 65000);
	node_bgp_clean(&b);

	/* the mesh back on: explicit peerings still win over mesh ones */
	fx_bgpconfig(&f, "default", "\"nodeToNodeMeshEnabled\":true");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "c1", &b),
	    "192.0.2.12 as64512 passive mesh c2; "
	    "192.0.2.13 as64512 passive mesh c3; "
	    "192.0.2.14 as65000 passive mesh c4; "
	    "192.0.2.21 as64512 node r1; 192.0.2.22 as64512 node r2; "
	    "192.0.2.23 as64512 node r3");
	node_bgp_clean(&b);
	fx_clean(&f);
}

/* Calico's template: a reflector ignores the mesh, the mesh skips it */
static void
test_reflector_and_mesh(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	reflector_fixture(&f);
	fx_bgpconfig(&f, "default", "\"nodeToNodeMeshEnabled\":true");
	fx_del(&f, FX_RES "bgppeers/peer-with-route-reflectors");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "c1", &b),
	    "192.0.2.12 as64512 passive mesh c2; "
	    "192.0.2.13 as64512 passive mesh c3");
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "r1", &b), "");
	assert_true(b.route_reflector);
	node_bgp_clean(&b);

	/* a peerIP peer of the reflector is a client unless in another AS */
	fx_peer(&f, "r1-tor",
	    "\"node\":\"r1\",\"peerIP\":\"203.0.113.1\",\"asNumber\":64512");
	fx_peer(&f, "r1-ebgp",
	    "\"node\":\"r1\",\"peerIP\":\"203.0.113.2\",\"asNumber\":65000,"
	    "\"keepOriginalNextHop\":true");
	fx_peer(&f, "r1-ibgp-keep",
	    "\"node\":\"r1\",\"peerIP\":\"203.0.113.3\",\"asNumber\":64512,"
	    "\"keepOriginalNextHop\":true");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "r1", &b),
	    "203.0.113.1 as64512 rr node r1-tor; "
	    "203.0.113.2 as65000 keep node r1-ebgp; "
	    "203.0.113.3 as64512 rr node r1-ibgp-keep");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_global_and_node_peers(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_node(&f, "n1", HOST("n1"), "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n2", HOST("n2"), "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_peer(
	    &f, "global-tor", "\"peerIP\":\"203.0.113.1\",\"asNumber\":65001");
	fx_peer(&f, "n1-extra",
	    "\"node\":\"n1\",\"peerIP\":\"203.0.113.2:1790\","
	    "\"asNumber\":65002,\"keepOriginalNextHop\":true");
	/* confd drops a node peering that duplicates a global one */
	fx_peer(&f, "n1-dup-of-global",
	    "\"node\":\"n1\",\"peerIP\":\"203.0.113.1\",\"asNumber\":65009");
	/* an explicit peering wins over the mesh */
	fx_peer(&f, "n1-over-mesh",
	    "\"node\":\"n1\",\"peerIP\":\"192.0.2.2\",\"asNumber\":64512");
	/* "Skipping ourselves" */
	fx_peer(&f, "n1-self",
	    "\"node\":\"n1\",\"peerIP\":\"192.0.2.1\",\"asNumber\":64512");
	/* two global peers at one address: the first by name */
	fx_peer(
	    &f, "a-first", "\"peerIP\":\"198.51.100.9\",\"asNumber\":65301");
	fx_peer(
	    &f, "b-second", "\"peerIP\":\"198.51.100.9\",\"asNumber\":65302");
	fx_load(&f);

	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2 as64512 node n1-over-mesh; "
	    "198.51.100.9 as65301 global a-first; "
	    "203.0.113.1 as65001 global global-tor; "
	    "203.0.113.2:1790 as65002 keep node n1-extra");
	node_bgp_clean(&b);
	/* n1-over-mesh names n2 (address and AS): n2 peers back */
	assert_string_equal(derive_ok(&f, "n2", &b),
	    "192.0.2.1 as64512 node n1; "
	    "198.51.100.9 as65301 global a-first; "
	    "203.0.113.1 as65001 global global-tor");
	node_bgp_clean(&b);

	/* a node BGPPeer for a node that does not exist applies nowhere */
	fx_peer(&f, "ghost",
	    "\"node\":\"n9\",\"peerIP\":\"203.0.113.9\","
	    "\"asNumber\":65009");
	fx_load(&f);
	assert_null(strstr(derive_ok(&f, "n2", &b), "203.0.113.9"));
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_node_selector(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_bgpconfig(&f, "default", "\"nodeToNodeMeshEnabled\":false");
	fx_node(&f, "n1", "{\"rack\":\"a\"}",
	    "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n2", "{\"rack\":\"b\"}",
	    "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n3", NULL, "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_peer(&f, "rack-a-tor",
	    "\"nodeSelector\":\"rack == 'a'\",\"peerIP\":\"198.51.100.1\","
	    "\"asNumber\":65100");
	/* != is true when the label is absent (Calico's selectors) */
	fx_peer(&f, "not-rack-a",
	    "\"nodeSelector\":\"rack != 'a'\",\"peerIP\":\"198.51.100.2\","
	    "\"asNumber\":65101");
	fx_load(&f);
	assert_string_equal(
	    derive_ok(&f, "n1", &b), "198.51.100.1 as65100 node rack-a-tor");
	node_bgp_clean(&b);
	assert_string_equal(
	    derive_ok(&f, "n2", &b), "198.51.100.2 as65101 node not-rack-a");
	node_bgp_clean(&b);
	assert_string_equal(
	    derive_ok(&f, "n3", &b), "198.51.100.2 as65101 node not-rack-a");
	node_bgp_clean(&b);

	/* labels change: the peering follows */
	fx_node(&f, "n3", "{\"rack\":\"a\"}",
	    "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_load(&f);
	assert_string_equal(
	    derive_ok(&f, "n3", &b), "198.51.100.1 as65100 node rack-a-tor");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_reverse_peerings(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_bgpconfig(&f, "default", "\"nodeToNodeMeshEnabled\":false");
	fx_node(&f, "n1", HOST("n1"),
	    "\"ipv4Address\":\"192.0.2.1/24\",\"asNumber\":65001", NULL);
	fx_node(&f, "n2", HOST("n2"), "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n3", HOST("n3"),
	    "\"ipv4Address\":\"192.0.2.3/24\",\"asNumber\":65003", NULL);
	fx_peer(&f, "n1-to-n3",
	    "\"node\":\"n1\",\"keepOriginalNextHop\":true,"
	    "\"peerSelector\":\"kubernetes.io/hostname == 'n3'\"");
	fx_load(&f);

	assert_string_equal(
	    derive_ok(&f, "n1", &b), "192.0.2.3 as65003 keep node n3");
	node_bgp_clean(&b);
	/* n3 is selected by a peering it is not the subject of: the reverse */
	assert_string_equal(
	    derive_ok(&f, "n3", &b), "192.0.2.1 as65001 keep node n1");
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "n2", &b), "");
	node_bgp_clean(&b);

	/* an explicit peering wins over the reverse one */
	fx_peer(&f, "n3-explicit",
	    "\"node\":\"n3\",\"peerIP\":\"192.0.2.1\",\"asNumber\":65123");
	fx_load(&f);
	assert_string_equal(
	    derive_ok(&f, "n3", &b), "192.0.2.1 as65123 node n3-explicit");
	node_bgp_clean(&b);

	/* nodeSelector to peerSelector: every rack-a node with every rack-b */
	fx_del(&f, FX_RES "bgppeers/n1-to-n3");
	fx_del(&f, FX_RES "bgppeers/n3-explicit");
	fx_node(&f, "n1", "{\"rack\":\"a\"}",
	    "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n2", "{\"rack\":\"a\"}",
	    "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n3", "{\"rack\":\"b\"}",
	    "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_peer(&f, "a-to-b",
	    "\"nodeSelector\":\"rack == 'a'\",\"peerSelector\":\"rack == "
	    "'b'\"");
	fx_load(&f);
	assert_string_equal(
	    derive_ok(&f, "n1", &b), "192.0.2.3 as64512 node n3");
	node_bgp_clean(&b);
	assert_string_equal(
	    derive_ok(&f, "n2", &b), "192.0.2.3 as64512 node n3");
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "n3", &b),
	    "192.0.2.1 as64512 node n1; 192.0.2.2 as64512 node n2");
	node_bgp_clean(&b);

	/* a global peerSelector: everyone peers with the selected, as GLOBAL */
	fx_del(&f, FX_RES "bgppeers/a-to-b");
	fx_peer(&f, "all-to-b", "\"peerSelector\":\"rack == 'b'\"");
	fx_load(&f);
	assert_string_equal(
	    derive_ok(&f, "n1", &b), "192.0.2.3 as64512 global n3");
	node_bgp_clean(&b);
	/* the selected node peers back with every node */
	assert_string_equal(derive_ok(&f, "n3", &b),
	    "192.0.2.1 as64512 node n1; 192.0.2.2 as64512 node n2");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_listen_port(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_bgpconfig(&f, "default", "\"listenPort\":1790");
	fx_bgpconfig(&f, "node.n2", "\"listenPort\":1791");
	fx_node(&f, "n1", HOST("n1"), "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n2", HOST("n2"), "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n3", HOST("n3"), "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_peer(&f, "tor", "\"peerIP\":\"203.0.113.1\",\"asNumber\":65001");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2:1791 as64512 passive mesh n2; "
	    "192.0.2.3:1790 as64512 passive mesh n3; "
	    "203.0.113.1 as65001 global tor");
	assert_int_equal(b.listen_port, 1790);
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "n2", &b),
	    "192.0.2.1:1790 as64512 mesh n1; "
	    "192.0.2.3:1790 as64512 passive mesh n3; "
	    "203.0.113.1 as65001 global tor");
	assert_int_equal(b.listen_port, 1791);
	node_bgp_clean(&b);

	/* selected peers are reached on their listen port too */
	fx_bgpconfig(&f, "default",
	    "\"listenPort\":1790,\"nodeToNodeMeshEnabled\":false");
	fx_peer(&f, "to-n2",
	    "\"nodeSelector\":\"all()\","
	    "\"peerSelector\":\"kubernetes.io/hostname == 'n2'\"");
	/* a peerIP that is a Calico node, without a port: its listen port */
	fx_peer(&f, "to-n3-ip",
	    "\"node\":\"n1\",\"peerIP\":\"192.0.2.3\",\"asNumber\":64512");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2:1791 as64512 node n2; 192.0.2.3:1790 as64512 node "
	    "to-n3-ip; 203.0.113.1 as65001 global tor");
	node_bgp_clean(&b);
	/* and n3 peers back with n1, on n1's port */
	assert_string_equal(derive_ok(&f, "n3", &b),
	    "192.0.2.1:1790 as64512 node n1; 192.0.2.2:1791 as64512 node n2; "
	    "203.0.113.1 as65001 global tor");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_ipv6(void **state)
{
	struct node_bgp b;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_node(&f, "n1", HOST("n1"),
	    "\"ipv4Address\":\"192.0.2.1/24\","
	    "\"ipv6Address\":\"2001:db8::1/64\"",
	    NULL);
	fx_node(&f, "n2", HOST("n2"),
	    "\"ipv4Address\":\"192.0.2.2/24\","
	    "\"ipv6Address\":\"2001:db8::a/64\"",
	    NULL);
	fx_node(&f, "n3", HOST("n3"), "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_peer(&f, "v6-tor",
	    "\"peerIP\":\"[2001:db8:ff::1]:1179\",\"asNumber\":65200");
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2 as64512 passive mesh n2; "
	    "192.0.2.3 as64512 passive mesh n3; "
	    "2001:db8::a as64512 passive mesh n2; "
	    "[2001:db8:ff::1]:1179 as65200 global v6-tor");
	node_bgp_clean(&b);
	assert_string_equal(derive_ok(&f, "n2", &b),
	    "192.0.2.1 as64512 mesh n1; 192.0.2.3 as64512 passive mesh n3; "
	    "2001:db8::1 as64512 mesh n1; "
	    "[2001:db8:ff::1]:1179 as65200 global v6-tor");
	node_bgp_clean(&b);
	/* no IPv6 address here: no IPv6 mesh, explicit peers stay */
	assert_string_equal(derive_ok(&f, "n3", &b),
	    "192.0.2.1 as64512 mesh n1; 192.0.2.2 as64512 mesh n2; "
	    "[2001:db8:ff::1]:1179 as65200 global v6-tor");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_log_level_equal_find(void **state)
{
	struct node_bgp a, b;
	struct addr x;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_bgpconfig(&f, "default", "\"logSeverityScreen\":\"Debug\"");
	fx_bgpconfig(&f, "node.n2", "\"logSeverityScreen\":\"Warning\"");
	fx_node(&f, "n1", HOST("n1"), "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n2", HOST("n2"), "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n3", HOST("n3"), "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_load(&f);
	derive_ok(&f, "n1", &a);
	assert_string_equal(a.log_level, "debug");
	derive_ok(&f, "n2", &b);
	assert_string_equal(b.log_level, "none");

	x = fx_addr("192.0.2.3");
	assert_non_null(node_bgp_peer_find(&a, &x));
	assert_string_equal(node_bgp_peer_find(&a, &x)->name, "n3");
	x = fx_addr("192.0.2.9");
	assert_null(node_bgp_peer_find(&a, &x));
	/* each connects from its own Node address ("source address") */
	assert_string_equal(fx_ntop(&a.peers[1].source), "192.0.2.1");
	assert_string_equal(fx_ntop(&b.peers[1].source), "192.0.2.2");
	assert_false(node_bgp_peer_equal(&a.peers[1], &b.peers[1]));
	b.peers[1].source = a.peers[1].source;
	/* else n1 and n2 see n3 the same way; n1 passive towards n2, n2 not */
	assert_true(node_bgp_peer_equal(&a.peers[1], &b.peers[1]));
	assert_false(node_bgp_peer_equal(&a.peers[0], &b.peers[0]));
	node_bgp_clean(&b);
	derive_ok(&f, "n1", &b);
	assert_true(node_bgp_peer_equal(&a.peers[0], &b.peers[0]));
	b.peers[0].asn++;
	assert_false(node_bgp_peer_equal(&a.peers[0], &b.peers[0]));
	b.peers[0].asn--;
	b.peers[0].keep_next_hop = true;
	assert_false(node_bgp_peer_equal(&a.peers[0], &b.peers[0]));
	node_bgp_clean(&a);
	node_bgp_clean(&b);

	fx_clean(&f);
}

static void
test_errors(void **state)
{
	struct node_bgp b;
	char err[256];
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_node(
	    &f, "n1", HOST("n1"), "\"ipv6Address\":\"2001:db8::1/64\"", NULL);
	fx_node(&f, "n2", HOST("n2"), "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n5", HOST("n5"), NULL, NULL);
	fx_node(
	    &f, "bad", HOST("bad"), "\"ipv4Address\":\"192.0.2.300/24\"", NULL);
	fx_load(&f);

	assert_int_equal(node_derive(f.wc, "n9", &b, err, sizeof(err)), -1);
	assert_string_equal(err, "node n9: not in the datastore");
	assert_int_equal(b.npeers, 0);
	node_bgp_clean(&b);
	assert_int_equal(node_derive(f.wc, "n1", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "node n1: no spec.bgp.ipv4Address"));
	node_bgp_clean(&b);
	assert_int_equal(node_derive(f.wc, "n5", &b, err, sizeof(err)), -1);
	node_bgp_clean(&b);
	/* my own Node refused: the cache's reason */
	assert_int_equal(node_derive(f.wc, "bad", &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "node bad: "));
	assert_non_null(strstr(err, "ipv4Address"));
	assert_non_null(strstr(err, "192.0.2.300"));
	node_bgp_clean(&b);
	/* an odd name never builds a key */
	assert_int_equal(node_derive(f.wc, "a/b", &b, err, sizeof(err)), -1);
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_refused_values(void **state)
{
	struct wcache_stats st;
	struct node_bgp b;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_node(&f, "n1", HOST("n1"), "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n2", HOST("n2"), "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	/* an address that does not parse */
	fx_node(
	    &f, "n3", HOST("n3"), "\"ipv4Address\":\"192.0.2.300/24\"", NULL);
	fx_node(&f, "n4", HOST("n4"), "\"ipv4Address\":\"not-an-ip\"", NULL);
	/* not JSON at all */
	fx_put(&f, FX_RES "nodes/n5", "{\"kind\":\"Node\",");
	/* an IPPool under nodes/, and a name that is not the key's */
	fx_res(&f, "IPPool", "nodes", "n6", NULL, "\"cidr\":\"198.18.0.0/16\"");
	fx_put(&f, FX_RES "nodes/n7",
	    "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
	    "\"metadata\":{\"name\":\"n2\"},\"spec\":{\"bgp\":{"
	    "\"ipv4Address\":\"192.0.2.7/24\"}}}");
	/* a pool with an invalid mode, a peer with a bad selector */
	fx_pool(&f, "bad-pool",
	    "\"cidr\":\"198.18.0.0/16\",\"ipipMode\":\"Sometimes\"");
	fx_peer(&f, "bad-peer", "\"peerSelector\":\"a ==\"");
	fx_peer(&f, "tor", "\"peerIP\":\"203.0.113.1\",\"asNumber\":65001");
	fx_load(&f);

	wcache_stats(f.wc, &st);
	assert_int_equal(st.refused, 7);
	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2 as64512 passive mesh n2; "
	    "203.0.113.1 as65001 global tor");
	node_bgp_clean(&b);
	assert_non_null(node_view_node(f.wc, "n2"));
	assert_null(node_view_node(f.wc, "n3"));
	assert_null(node_view_node(f.wc, "n6"));
	assert_null(node_view_node(f.wc, "n7"));
	assert_null(node_view_get(f.wc, MODEL_IPPOOL, "bad-pool"));

	/* fixed: it joins */
	fx_node(&f, "n3", HOST("n3"), "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_load(&f);
	assert_string_equal(derive_ok(&f, "n1", &b),
	    "192.0.2.2 as64512 passive mesh n2; "
	    "192.0.2.3 as64512 passive mesh n3; "
	    "203.0.113.1 as65001 global tor");
	node_bgp_clean(&b);
	fx_clean(&f);
}

static void
test_view_walks(void **state)
{
	const struct resource *r;
	const struct model_affinity *a;
	const struct model_block *blk;
	struct node_view_iter it;
	struct prefix cidr;
	struct fx f;
	int n;

	(void)state;
	fx_init(&f);
	fx_node(&f, "n2", NULL, "\"ipv4Address\":\"192.0.2.2/24\"", NULL);
	fx_node(&f, "n1", NULL, "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(&f, "n10", NULL, "\"ipv4Address\":\"bad\"", NULL);
	fx_pool(&f, "p", "\"cidr\":\"198.18.0.0/16\"");
	fx_affinity(&f, "n1", "198.18.1.0/26", "confirmed");
	fx_affinity(&f, "n1", "198.18.1.64/26", "pending");
	fx_affinity(&f, "n10", "198.18.2.0/26", "confirmed");
	fx_block(&f, "198.18.1.0/26", "n1", "198.18.1.1", "n1", NULL);
	fx_put(
	    &f, MODEL_IPAM_PREFIX "assignment/ipv4/block/198.18.3.0-26", "{}");
	/* keys that are not what their prefix holds */
	fx_put(&f, MODEL_IPAM_PREFIX "host/n1/ipv4/block/nonsense", "{}");
	fx_put(&f, MODEL_IPAM_PREFIX "handle/x", "{}"); /* not watched */
	fx_load(&f);

	n = 0;
	for (r = node_view_first(f.wc, &it, MODEL_NODE); r != NULL;
	     r = node_view_next(&it))
		assert_string_equal(r->meta.name, n++ == 0 ? "n1" : "n2");
	assert_int_equal(n, 2);
	n = 0;
	for (a = node_view_affinity_first(f.wc, &it, "n1", &cidr); a != NULL;
	     a = node_view_affinity_next(&it, &cidr)) {
		assert_string_equal(fx_pntop(&cidr),
		    n == 0 ? "198.18.1.0/26" : "198.18.1.64/26");
		assert_int_equal(a->state,
		    n++ == 0 ? MODEL_AFF_CONFIRMED : MODEL_AFF_PENDING);
	}
	assert_int_equal(n, 2);
	n = 0;
	for (a = node_view_affinity_first(f.wc, &it, NULL, &cidr); a != NULL;
	     a = node_view_affinity_next(&it, &cidr))
		n++;
	assert_int_equal(n, 3);
	assert_null(node_view_affinity_first(f.wc, &it, "n", &cidr));
	assert_null(node_view_affinity_first(f.wc, &it, "x/y", &cidr));
	n = 0;
	for (blk = node_view_block_first(f.wc, &it); blk != NULL;
	     blk = node_view_block_next(&it))
		n++;
	assert_int_equal(n, 1);
	cidr = fx_prefix("198.18.1.0/26");
	assert_non_null(node_view_block(f.wc, &cidr));
	cidr = fx_prefix("198.18.3.0/26");
	assert_null(node_view_block(f.wc, &cidr));
	assert_int_equal(wcache_count(f.wc, MODEL_IPAM_PREFIX "handle/"), 0);
	fx_clean(&f);
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1e3 +
	    (t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/* 5,000 nodes: the mesh, then 3 reflectors; timings printed */
static void
test_scale(void **state)
{
	char name[32], bgp[160], labels[64];
	struct timespec t0;
	struct node_bgp b;
	struct fx *f;
	size_t i, passive = 0;
	double ms;

	(void)state;
	f = xcalloc(1, sizeof(*f));
	fx_init(f);
	for (i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "node%04zu", i);
		snprintf(labels, sizeof(labels), "{\"rack\":\"r%zu\"%s}",
		    i % 10, i < 3 ? ",\"route-reflector\":\"true\"" : "");
		snprintf(bgp, sizeof(bgp),
		    "\"ipv4Address\":\"198.51.%zu.%zu/16\"", i / 250,
		    i % 250 + 1);
		fx_node(f, name, labels, bgp, NULL);
	}
	fx_load(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	derive_ok(f, "node1234", &b);
	ms = ms_since(&t0);
	assert_int_equal(b.npeers, 4999);
	for (i = 0; i < b.npeers; i++)
		passive += b.peers[i].passive;
	print_message(
	    "derive: mesh of 5000 nodes, %.1f ms, %zu passive\n", ms, passive);
	node_bgp_clean(&b);

	/* the three first nodes become one cluster's reflectors */
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "node%04zu", i);
		snprintf(bgp, sizeof(bgp),
		    "\"ipv4Address\":\"198.51.0.%zu/16\","
		    "\"routeReflectorClusterID\":\"244.0.0.1\"",
		    i + 1);
		fx_node(f, name, "{\"route-reflector\":\"true\"}", bgp, NULL);
	}
	fx_bgpconfig(f, "default", "\"nodeToNodeMeshEnabled\":false");
	fx_peer(f, "to-rr",
	    "\"nodeSelector\":\"all()\","
	    "\"peerSelector\":\"route-reflector == 'true'\"");
	fx_load(f);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	derive_ok(f, "node0001", &b);
	ms = ms_since(&t0);
	assert_int_equal(b.npeers, 4999);
	for (i = 0, passive = 0; i < b.npeers; i++)
		passive += b.peers[i].rr_client;
	assert_int_equal(passive, 4997);
	print_message("derive: reflector of 4997 clients, %.1f ms\n", ms);
	node_bgp_clean(&b);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_string_equal(derive_ok(f, "node4999", &b),
	    "198.51.0.1 as64512 node node0000; "
	    "198.51.0.2 as64512 node node0001; "
	    "198.51.0.3 as64512 node node0002");
	print_message("derive: client, %.1f ms\n", ms_since(&t0));
	node_bgp_clean(&b);
	fx_clean(f);
	free(f);
}

/* BGPPeer sourceAddress: UseNodeIP (default) binds my address, None not */
static void
test_source_address(void **state)
{
	struct node_bgp b;
	struct addr x;
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_node(&f, "n1", HOST("n1"),
	    "\"ipv4Address\":\"192.0.2.1/24\",\"ipv6Address\":\"2001:db8::1/"
	    "64\"",
	    NULL);
	fx_node(&f, "n2", HOST("n2"),
	    "\"ipv4Address\":\"192.0.2.2/24\",\"ipv6Address\":\"2001:db8::2/"
	    "64\"",
	    NULL);
	fx_peer(&f, "tor", "\"peerIP\":\"203.0.113.1\",\"asNumber\":65001");
	fx_peer(&f, "tor6",
	    "\"peerIP\":\"2001:db8:ff::1\",\"asNumber\":65001,"
	    "\"sourceAddress\":\"UseNodeIP\"");
	fx_peer(&f, "far",
	    "\"peerIP\":\"198.51.100.1\",\"asNumber\":65002,"
	    "\"sourceAddress\":\"None\"");
	fx_load(&f);
	derive_ok(&f, "n1", &b);
	x = fx_addr("203.0.113.1");
	assert_string_equal(
	    fx_ntop(&node_bgp_peer_find(&b, &x)->source), "192.0.2.1");
	x = fx_addr("2001:db8:ff::1");
	assert_string_equal(
	    fx_ntop(&node_bgp_peer_find(&b, &x)->source), "2001:db8::1");
	x = fx_addr("198.51.100.1");
	assert_int_equal(node_bgp_peer_find(&b, &x)->source.family, 0);
	x = fx_addr("2001:db8::2"); /* the IPv6 mesh peer: from my IPv6 */
	assert_string_equal(
	    fx_ntop(&node_bgp_peer_find(&b, &x)->source), "2001:db8::1");
	node_bgp_clean(&b);
	fx_clean(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mesh3),
	    cmocka_unit_test(test_reflector_cluster),
	    cmocka_unit_test(test_reflector_and_mesh),
	    cmocka_unit_test(test_global_and_node_peers),
	    cmocka_unit_test(test_node_selector),
	    cmocka_unit_test(test_reverse_peerings),
	    cmocka_unit_test(test_listen_port),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test(test_log_level_equal_find),
	    cmocka_unit_test(test_source_address),
	    cmocka_unit_test(test_errors),
	    cmocka_unit_test(test_refused_values),
	    cmocka_unit_test(test_view_walks),
	    cmocka_unit_test(test_scale),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
