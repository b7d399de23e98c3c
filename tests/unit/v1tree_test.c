/*
 * confd/v1tree.c: Calico v3 resources in a detached node cache turned into
 * the v1 key tree confd's templates read, compared whole with the tree
 * Calico's confd v3 backend builds for the same data (client.go,
 * bgpnodeprocessor, ippoolprocessor).  Checked: global defaults (with
 * Calico's two spellings of node_mesh), loglevel mapping (global Debug,
 * node Warning -> none), listen ports and the "-<port>" key suffix (179
 * none), node keys always present ("" when unset) for nodes without BGP,
 * masked networks, IPv6; pools (IPIP Always, CrossSubnet, VXLAN, disabled,
 * IPv6) with model.IPPool's JSON; affinities of one node only, pending left
 * out; peers: global, node-scoped with port, keepOriginalNextHop and
 * sourceAddress None, a node peering duplicating a global one dropped, a
 * nodeSelector/peerSelector reflector peering expanded over every node
 * (the reflector's own key included, as Calico's template skips it), the
 * reverse peerings on the reflector over both families, an explicit
 * forward peering winning over a reverse one, a peerIP naming a Calico
 * node taking its listen port and giving the reverse peering; restart
 * times from Go durations; a change recomputed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "confd/confd.h"
#include "derive_fixture.h"

struct ekv {
	const char *key;
	const char *value;
};

#define PEER(ip, as, rr, src, port, keep, rt)                                  \
	"{\"ip\":\"" ip "\",\"as_num\":\"" as "\",\"rr_cluster_id\":\"" rr     \
	"\",\"password\":null,\"source_addr\":\"" src "\",\"port\":" port      \
	",\"keep_next_hop\":" keep ",\"restart_time\":\"" rt "\"}"

/* the whole tree equals exp (in key order), with a readable diff */
static void
tree_equal(const struct confd_kvs *kvs, const struct ekv *exp, size_t n)
{
	size_t i, j;
	int bad = 0;

	for (i = 0, j = 0; i < kvs->n || j < n;) {
		int c = i == kvs->n ? 1
		    : j == n        ? -1
		                    : strcmp(kvs->v[i].key, exp[j].key);

		if (c < 0) {
			print_error("unexpected %s = %s\n", kvs->v[i].key,
			    kvs->v[i].value);
			i++;
			bad = 1;
		} else if (c > 0) {
			print_error(
			    "missing %s = %s\n", exp[j].key, exp[j].value);
			j++;
			bad = 1;
		} else {
			if (strcmp(kvs->v[i].value, exp[j].value) != 0) {
				print_error("%s:\n  got  %s\n  want %s\n",
				    exp[j].key, kvs->v[i].value, exp[j].value);
				bad = 1;
			}
			i++;
			j++;
		}
	}
	for (i = 1; i < kvs->n; i++)
		if (strcmp(kvs->v[i - 1].key, kvs->v[i].key) >= 0) {
			print_error("not sorted at %s\n", kvs->v[i].key);
			bad = 1;
		}
	if (bad)
		fail_msg("the v1 tree differs");
}

#define H "/calico/bgp/v1/host/"
#define G "/calico/bgp/v1/global/"
#define POOL "/calico/v1/ipam/v4/pool/"

static void
cluster(struct fx *f)
{
	fx_bgpconfig(f, "default",
	    "\"logSeverityScreen\":\"Debug\",\"nodeToNodeMeshEnabled\":false,"
	    "\"asNumber\":64600,\"nodeMeshMaxRestartTime\":\"2m30s\"");
	fx_bgpconfig(f, "node.n2",
	    "\"logSeverityScreen\":\"Warning\",\"listenPort\":1791");
	fx_node(f, "n1", "{\"rack\":\"a\"}",
	    "\"ipv4Address\":\"192.0.2.1/24\","
	    "\"ipv4IPIPTunnelAddr\":\"198.18.0.1\"",
	    NULL);
	fx_node(f, "n2", "{\"rack\":\"b\"}",
	    "\"ipv4Address\":\"192.0.2.2/24\","
	    "\"ipv6Address\":\"2001:db8::2/64\",\"asNumber\":65002",
	    NULL);
	/* a Felix-only host: its address keys are still there, empty */
	fx_node(f, "n4", "{\"rack\":\"b\"}", NULL, NULL);
	fx_node(f, "rr1", "{\"route-reflector\":\"true\"}",
	    "\"ipv4Address\":\"192.0.2.10/24\","
	    "\"routeReflectorClusterID\":\"224.0.0.1\"",
	    NULL);

	fx_pool(f, "p-ipip",
	    "\"cidr\":\"198.18.0.0/18\",\"ipipMode\":\"Always\","
	    "\"natOutgoing\":true,\"blockSize\":26,\"nodeSelector\":\"all()\"");
	fx_pool(f, "p-cross",
	    "\"cidr\":\"198.18.64.0/18\",\"ipipMode\":\"CrossSubnet\","
	    "\"vxlanMode\":\"Never\",\"natOutgoing\":true");
	fx_pool(f, "p-vxlan",
	    "\"cidr\":\"198.18.128.0/18\",\"vxlanMode\":\"Always\","
	    "\"ipipMode\":\"Never\",\"disableBGPExport\":true");
	fx_pool(f, "p-off", "\"cidr\":\"198.18.192.0/18\",\"disabled\":true");
	fx_pool(f, "p-v6", "\"cidr\":\"2001:db8:ff::/64\"");

	fx_affinity(f, "n1", "198.18.0.0/26", "confirmed");
	fx_affinity(f, "n1", "198.18.0.64/26", "pending");
	fx_affinity(f, "n1", "198.18.64.0/26", "pendingDeletion");
	fx_affinity(f, "n1", "2001:db8:ff::/122", "confirmed");
	fx_affinity(f, "n2", "198.18.0.128/26", "confirmed");
	fx_block(f, "198.18.0.0/26", "host:n1", "198.18.0.1", "-", NULL);

	/* every node peers with it */
	fx_peer(f, "a-global",
	    "\"peerIP\":\"203.0.113.1\",\"asNumber\":65001,"
	    "\"maxRestartTime\":\"90s\"");
	fx_peer(f, "b-node-n1",
	    "\"node\":\"n1\",\"peerIP\":\"203.0.113.2:1790\","
	    "\"asNumber\":65001,\"keepOriginalNextHop\":true,"
	    "\"sourceAddress\":\"None\"");
	/* duplicates the global peering on n2: dropped */
	fx_peer(f, "c-dup-n2",
	    "\"node\":\"n2\",\"peerIP\":\"203.0.113.1\",\"asNumber\":65001");
	/* explicit port 179: no "-179" in the key */
	fx_peer(f, "c-node-n2-179",
	    "\"node\":\"n2\",\"peerIP\":\"203.0.113.3:179\","
	    "\"asNumber\":65003");
	fx_peer(f, "d-rr",
	    "\"nodeSelector\":\"all()\","
	    "\"peerSelector\":\"route-reflector == 'true'\"");
	/* a Calico node by address: its listen port, a reverse peering */
	fx_peer(f, "e-n1-to-n2",
	    "\"node\":\"n1\",\"peerIP\":\"192.0.2.2\",\"asNumber\":65002,"
	    "\"maxRestartTime\":\"1m30.6s\"");
	/* nodeSelector: rack b (n2 and n4) */
	fx_peer(f, "f-rack-b",
	    "\"nodeSelector\":\"rack == 'b'\",\"peerIP\":\"2001:db8::99\","
	    "\"asNumber\":65099");
}

#define RRV4                                                                   \
	PEER("192.0.2.10", "64600", "224.0.0.1", "UseNodeIP", "0", "false", "")

static const struct ekv expect_n1[] = {
    {G "as_num", "64600"},
    {G "loglevel", "debug"},
    {G "node_mesh", "{\"enabled\":false}"},
    {G "node_mesh_restart_time", "150"},
    {G "peer_v4/203.0.113.1",
        PEER("203.0.113.1", "65001", "", "UseNodeIP", "0", "false", "90")},
    {H "n1/ip_addr_v4", "192.0.2.1"},
    {H "n1/ip_addr_v6", ""},
    {H "n1/network_v4", "192.0.2.0/24"},
    {H "n1/peer_v4/192.0.2.10", RRV4},
    {H "n1/peer_v4/192.0.2.2-1791",
        PEER("192.0.2.2", "65002", "", "UseNodeIP", "1791", "false", "91")},
    {H "n1/peer_v4/203.0.113.2-1790",
        PEER("203.0.113.2", "65001", "", "None", "1790", "true", "")},
    {H "n1/rr_cluster_id", ""},
    {H "n2/as_num", "65002"},
    {H "n2/ip_addr_v4", "192.0.2.2"},
    {H "n2/ip_addr_v6", "2001:db8::2"},
    {H "n2/listen_port", "1791"},
    {H "n2/loglevel", "none"},
    {H "n2/network_v4", "192.0.2.0/24"},
    {H "n2/network_v6", "2001:db8::/64"},
    {H "n2/peer_v4/192.0.2.1",
        PEER("192.0.2.1", "64600", "", "UseNodeIP", "0", "false", "91")},
    {H "n2/peer_v4/192.0.2.10", RRV4},
    {H "n2/peer_v4/203.0.113.3",
        PEER("203.0.113.3", "65003", "", "UseNodeIP", "179", "false", "")},
    {H "n2/peer_v6/2001:db8::99",
        PEER("2001:db8::99", "65099", "", "UseNodeIP", "0", "false", "")},
    {H "n2/rr_cluster_id", ""},
    {H "n4/ip_addr_v4", ""},
    {H "n4/ip_addr_v6", ""},
    {H "n4/peer_v4/192.0.2.10", RRV4},
    {H "n4/peer_v6/2001:db8::99",
        PEER("2001:db8::99", "65099", "", "UseNodeIP", "0", "false", "")},
    {H "n4/rr_cluster_id", ""},
    {H "rr1/ip_addr_v4", "192.0.2.10"},
    {H "rr1/ip_addr_v6", ""},
    {H "rr1/network_v4", "192.0.2.0/24"},
    {H "rr1/peer_v4/192.0.2.1",
        PEER("192.0.2.1", "64600", "", "UseNodeIP", "0", "false", "")},
    /* forward first: the reflector's own key, skipped by the template */
    {H "rr1/peer_v4/192.0.2.10", RRV4},
    {H "rr1/peer_v4/192.0.2.2-1791",
        PEER("192.0.2.2", "65002", "", "UseNodeIP", "1791", "false", "")},
    {H "rr1/peer_v6/2001:db8::2-1791",
        PEER("2001:db8::2", "65002", "", "UseNodeIP", "1791", "false", "")},
    {H "rr1/rr_cluster_id", "224.0.0.1"},
    {"/calico/ipam/v2/host/n1/ipv4/block/198.18.0.0-26",
        "{\"state\":\"confirmed\",\"deleted\":false}"},
    {"/calico/ipam/v2/host/n1/ipv4/block/198.18.64.0-26",
        "{\"state\":\"pendingDeletion\",\"deleted\":false}"},
    {"/calico/ipam/v2/host/n1/ipv6/block/2001:db8:ff::-122",
        "{\"state\":\"confirmed\",\"deleted\":false}"},
    {POOL "198.18.0.0-18",
        "{\"cidr\":\"198.18.0.0/18\",\"ipip\":\"tunl0\","
        "\"ipip_mode\":\"always\",\"vxlan_mode\":\"\",\"masquerade\":true,"
        "\"ipam\":true,\"disabled\":false,\"disableBGPExport\":false}"},
    {POOL "198.18.128.0-18",
        "{\"cidr\":\"198.18.128.0/18\",\"ipip\":\"\",\"ipip_mode\":\"\","
        "\"vxlan_mode\":\"always\",\"masquerade\":false,\"ipam\":true,"
        "\"disabled\":false,\"disableBGPExport\":true}"},
    {POOL "198.18.192.0-18",
        "{\"cidr\":\"198.18.192.0/18\",\"ipip\":\"\",\"ipip_mode\":\"\","
        "\"vxlan_mode\":\"\",\"masquerade\":false,\"ipam\":false,"
        "\"disabled\":true,\"disableBGPExport\":false}"},
    {POOL "198.18.64.0-18",
        "{\"cidr\":\"198.18.64.0/18\",\"ipip\":\"tunl0\","
        "\"ipip_mode\":\"cross-subnet\",\"vxlan_mode\":\"\","
        "\"masquerade\":true,\"ipam\":true,\"disabled\":false,"
        "\"disableBGPExport\":false}"},
    {"/calico/v1/ipam/v6/pool/2001:db8:ff::-64",
        "{\"cidr\":\"2001:db8:ff::/64\",\"ipip\":\"\",\"ipip_mode\":\"\","
        "\"vxlan_mode\":\"\",\"masquerade\":false,\"ipam\":true,"
        "\"disabled\":false,\"disableBGPExport\":false}"},
};

static void
test_cluster(void **state)
{
	struct confd_kvs kvs = {0};
	struct fx f;

	(void)state;
	fx_init(&f);
	cluster(&f);
	fx_load(&f);
	confd_v1tree(f.wc, "n1", &kvs);
	tree_equal(&kvs, expect_n1, sizeof(expect_n1) / sizeof(expect_n1[0]));

	/* the same data, the same tree; another node: other affinities */
	{
		struct confd_kvs again = {0};

		confd_v1tree(f.wc, "n1", &again);
		assert_true(confd_kvs_equal(&kvs, &again));
		confd_v1tree(f.wc, "n2", &again);
		assert_false(confd_kvs_equal(&kvs, &again));
		assert_string_equal(confd_kvs_get(&again,
		                        "/calico/ipam/v2/host/n2/ipv4/block/"
		                        "198.18.0.128-26"),
		    "{\"state\":\"confirmed\",\"deleted\":false}");
		assert_null(confd_kvs_get(&again,
		    "/calico/ipam/v2/host/n1/ipv4/block/198.18.0.0-26"));
		assert_int_equal(again.n, kvs.n - 2);
		confd_kvs_clean(&again);
	}
	confd_kvs_clean(&kvs);
	fx_clean(&f);
}

/* nothing configured: client.go's globalDefaults alone */
static void
test_defaults(void **state)
{
	static const struct ekv exp[] = {
	    {G "as_num", "64512"},
	    {G "loglevel", "info"},
	    {G "node_mesh", "{\"enabled\": true}"},
	};
	struct confd_kvs kvs = {0};
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_load(&f);
	confd_v1tree(f.wc, "n1", &kvs);
	tree_equal(&kvs, exp, sizeof(exp) / sizeof(exp[0]));

	/* set explicitly: Calico's other spelling, without the space */
	fx_bgpconfig(&f, "default",
	    "\"nodeToNodeMeshEnabled\":true,\"logSeverityScreen\":\"Info\","
	    "\"listenPort\":1790");
	fx_load(&f);
	confd_v1tree(f.wc, NULL, &kvs);
	assert_string_equal(
	    confd_kvs_get(&kvs, G "node_mesh"), "{\"enabled\":true}");
	assert_string_equal(confd_kvs_get(&kvs, G "loglevel"), "info");
	assert_string_equal(confd_kvs_get(&kvs, G "listen_port"), "1790");
	assert_int_equal(kvs.n, 4);
	confd_kvs_clean(&kvs);
	fx_clean(&f);
}

/*
 * The global listen port reaches every node peering; nodesWithIPPortAndAS
 * with a port in peerIP; a global BGPPeer with a peerSelector; the
 * duplicate check on address and port.
 */
static void
test_ports(void **state)
{
	struct confd_kvs kvs = {0};
	struct fx f;

	(void)state;
	fx_init(&f);
	fx_bgpconfig(&f, "default", "\"listenPort\":1790");
	fx_node(&f, "a", "{\"rr\":\"y\"}",
	    "\"ipv4Address\":\"198.51.100.1/24\"", NULL);
	fx_node(&f, "b", NULL, "\"ipv4Address\":\"198.51.100.2\"", NULL);
	fx_peer(&f, "to-a",
	    "\"node\":\"b\",\"peerIP\":\"198.51.100.1:1790\","
	    "\"asNumber\":64512");
	fx_peer(&f, "to-rr", "\"peerSelector\":\"rr == 'y'\"");
	fx_load(&f);
	confd_v1tree(f.wc, "a", &kvs);
	/* a bare address reads as /32 */
	assert_string_equal(
	    confd_kvs_get(&kvs, H "b/network_v4"), "198.51.100.2/32");
	/* to-a duplicates the global peering of to-rr (address and port) */
	assert_null(confd_kvs_get(&kvs, H "b/peer_v4/198.51.100.1-1790"));
	/* the reverse of to-a: b's own port is the global one */
	assert_string_equal(
	    confd_kvs_get(&kvs, H "a/peer_v4/198.51.100.2-1790"),
	    PEER(
	        "198.51.100.2", "64512", "", "UseNodeIP", "1790", "false", ""));
	/* a global BGPPeer with a peerSelector: a global key per node */
	assert_string_equal(confd_kvs_get(&kvs, G "peer_v4/198.51.100.1-1790"),
	    PEER(
	        "198.51.100.1", "64512", "", "UseNodeIP", "1790", "false", ""));
	assert_null(confd_kvs_get(&kvs, H "a/peer_v4/198.51.100.1-1790"));
	confd_kvs_clean(&kvs);
	fx_clean(&f);
}

/* a change in the datastore, a new tree */
static void
test_change(void **state)
{
	struct confd_kvs a = {0}, b = {0};
	struct fx f;

	(void)state;
	fx_init(&f);
	cluster(&f);
	fx_load(&f);
	confd_v1tree(f.wc, "n1", &a);
	fx_del(&f, FX_RES "bgppeers/a-global");
	fx_load(&f);
	confd_v1tree(f.wc, "n1", &b);
	assert_null(confd_kvs_get(&b, G "peer_v4/203.0.113.1"));
	/* n2's node peering no longer duplicates a global one */
	assert_string_equal(confd_kvs_get(&b, H "n2/peer_v4/203.0.113.1"),
	    PEER("203.0.113.1", "65001", "", "UseNodeIP", "0", "false", ""));
	assert_int_equal(b.n, a.n);
	/* a block allocation changes nothing confd sees */
	fx_block(&f, "198.18.0.0/26", "host:n1", "198.18.0.1", "-",
	    "198.18.0.2", "n1", NULL);
	fx_load(&f);
	confd_v1tree(f.wc, "n1", &a);
	assert_true(confd_kvs_equal(&a, &b));
	confd_kvs_clean(&a);
	confd_kvs_clean(&b);
	fx_clean(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cluster),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_ports),
	    cmocka_unit_test(test_change),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
