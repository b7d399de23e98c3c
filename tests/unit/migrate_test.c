/*
 * store/migrate*.c: Calico v2.6 keys and values (calico.md §1, §2, §4) to
 * the v3 resources and IPAM keys, as calico-upgrade maps them: a table of
 * v1 inputs, each with the v3 key and JSON it must give, or the message
 * (error or warning, naming the v1 key) it must raise.  Then the parts
 * that are not one key to one key: IPAM blocks and their affinities,
 * names Calico qualifies with a SHA-1, clashes, write order, skipped
 * subtrees; and how a migrated value compares with one already in etcd v3.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "store/etcdv2.h"
#include "store/migrate.h"
#include "store/model.h"
#include "store/store.h"

#define R MODEL_RESOURCE_PREFIX
#define MAXKV 12
#define NOMSG 0, NULL, NULL /* no message to look for */

struct kv {
	const char *k, *v;
};

static void
convert(struct migrate_plan *p, const struct kv *in)
{
	struct etcdv2_node nodes[64];
	size_t n;

	memset(nodes, 0, sizeof(nodes));
	for (n = 0; in[n].k != NULL; n++) {
		assert_true(n < 64);
		nodes[n].key = (char *)in[n].k;
		nodes[n].value = (char *)in[n].v;
		nodes[n].value_len = strlen(in[n].v);
	}
	migrate_plan_init(p);
	migrate_convert(p, nodes, n);
}

static void
same_json(const char *what, const char *want, const char *got)
{
	json_t *a = json_loads(want, 0, NULL), *b = json_loads(got, 0, NULL);
	char *x, *y;

	if (a == NULL)
		fail_msg(
		    "%s: the expected JSON does not parse: %s", what, want);
	assert_non_null(b);
	if (!json_equal(a, b)) {
		x = json_dumps(a, JSON_SORT_KEYS);
		y = json_dumps(b, JSON_SORT_KEYS);
		fail_msg("%s:\nwant: %s\n got: %s", what, x, y);
	}
	json_decref(a);
	json_decref(b);
}

static const struct migrate_msg *
find_msg(const struct migrate_plan *p, enum migrate_level level,
    const char *key, const char *text)
{
	size_t i;

	for (i = 0; i < p->nmsgs; i++)
		if (p->msgs[i].level == level &&
		    strcmp(p->msgs[i].key, key) == 0 &&
		    strstr(p->msgs[i].text, text) != NULL)
			return &p->msgs[i];
	return NULL;
}

static void
dump(const struct migrate_plan *p)
{
	struct migrate_opts o = {0};

	migrate_print(p, &o, stderr);
}

static size_t
nlevel(const struct migrate_plan *p, enum migrate_level level)
{
	size_t i, n = 0;

	for (i = 0; i < p->nmsgs; i++)
		n += p->msgs[i].level == level;
	return n;
}

/* ---- the table: one v1 input, one v3 result or message ---- */

#define POOL4 "/calico/v1/ipam/v4/pool/198.18.0.0-16"
#define POOL6 "/calico/v1/ipam/v6/pool/fd00:24e2:f998:72d6::-64"
#define GLOBAL "/calico/bgp/v1/global/"
#define BGPHOST "/calico/bgp/v1/host/"
#define V1HOST "/calico/v1/host/"
#define META(h)                                                                \
	{                                                                      \
		V1HOST h "/metadata", "{}"                                     \
	}
#define V3POOL R "ippools/198-18-0-0-16"
#define V3DEFAULT R "bgpconfigurations/default"
#define V3NODE1 R "nodes/node1"
#define WEP1 V1HOST "node1/workload/k8s/default.nginx-1/endpoint/eth0"

struct conv_case {
	const char *name;
	struct kv in[MAXKV];
	const char *key; /* a v3 key */
	const char *want; /* its JSON; NULL: the plan must not have the key */
	enum migrate_level level;
	const char *msgkey; /* a message naming this v1 key, if set */
	const char *msg; /* and holding this */
};

static const struct conv_case conv_cases[] = {
    /* ---- IP pools ---- */
    {"pool: IPIP always, NAT outgoing (the seed's pool)",
        {{POOL4,
            "{\"cidr\":\"198.18.0.0/16\",\"ipip\":\"tunl0\","
            "\"ipip_mode\":\"always\",\"masquerade\":true,"
            "\"ipam\":true,\"disabled\":false}"}},
        V3POOL,
        "{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"198-18-0-0-16\"},\"spec\":{\"cidr\":"
        "\"198.18.0.0/16\",\"ipipMode\":\"Always\",\"vxlanMode\":\"Never\","
        "\"natOutgoing\":true,\"blockSize\":26,\"nodeSelector\":\"all()\"}}",
        NOMSG},
    {"pool: IPIP cross-subnet",
        {{POOL4,
            "{\"cidr\":\"198.18.0.0/16\",\"ipip\":\"tunl0\","
            "\"ipip_mode\":\"cross-subnet\",\"masquerade\":false,"
            "\"ipam\":true,\"disabled\":false}"}},
        V3POOL,
        "{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"198-18-0-0-16\"},\"spec\":{\"cidr\":"
        "\"198.18.0.0/16\",\"ipipMode\":\"CrossSubnet\",\"vxlanMode\":"
        "\"Never\",\"blockSize\":26,\"nodeSelector\":\"all()\"}}",
        NOMSG},
    {"pool: an ipip_mode without an interface is no IPIP",
        {{POOL4,
            "{\"cidr\":\"198.18.0.0/16\",\"ipip\":\"\","
            "\"ipip_mode\":\"always\",\"masquerade\":true,"
            "\"ipam\":false,\"disabled\":true}"}},
        V3POOL,
        "{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"198-18-0-0-16\"},\"spec\":{\"cidr\":"
        "\"198.18.0.0/16\",\"ipipMode\":\"Never\",\"vxlanMode\":\"Never\","
        "\"natOutgoing\":true,\"disabled\":true,\"blockSize\":26,"
        "\"nodeSelector\":\"all()\"}}",
        NOMSG},
    {"pool: IPv6, blocks of 64 addresses (/122)",
        {{POOL6,
            "{\"cidr\":\"fd00:24e2:f998:72d6::/64\",\"ipip\":\"\","
            "\"ipip_mode\":\"\",\"masquerade\":false,\"ipam\":true,"
            "\"disabled\":false}"}},
        R "ippools/fd00-24e2-f998-72d6---64",
        "{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"fd00-24e2-f998-72d6---64\"},\"spec\":{"
        "\"cidr\":\"fd00:24e2:f998:72d6::/64\",\"ipipMode\":\"Never\","
        "\"vxlanMode\":\"Never\",\"blockSize\":122,\"nodeSelector\":"
        "\"all()\"}}",
        NOMSG},
    {"pool: unknown ipip_mode",
        {{POOL4,
            "{\"cidr\":\"198.18.0.0/16\",\"ipip\":\"tunl0\","
            "\"ipip_mode\":\"sometimes\"}"}},
        V3POOL, NULL, MIGRATE_ERROR, POOL4,
        "ipip_mode: \"sometimes\" is neither always nor cross-subnet"},
    {"pool: host bits", {{POOL4, "{\"cidr\":\"198.18.0.1/16\"}"}}, V3POOL, NULL,
        MIGRATE_ERROR, POOL4,
        "cidr: \"198.18.0.1/16\" has host bits set (the network is "
        "198.18.0.0/16)"},
    {"pool: value and key disagree", {{POOL4, "{\"cidr\":\"198.19.0.0/16\"}"}},
        V3POOL, NULL, MIGRATE_ERROR, POOL4,
        "cidr 198.19.0.0/16 is not the key's 198.18.0.0/16"},
    {"pool: not JSON", {{POOL4, "{\"cidr\":"}}, V3POOL, NULL, MIGRATE_ERROR,
        POOL4, "not JSON: "},
    {"pool: a member of the wrong type",
        {{POOL4, "{\"cidr\":\"198.18.0.0/16\",\"masquerade\":\"yes\"}"}},
        V3POOL, NULL, MIGRATE_ERROR, POOL4,
        "masquerade: expected a boolean, got \"yes\""},
    {"pool: IPIP on IPv6 does not validate in v3",
        {{POOL6,
            "{\"cidr\":\"fd00:24e2:f998:72d6::/64\",\"ipip\":"
            "\"tunl0\"}"}},
        R "ippools/fd00-24e2-f998-72d6---64", NULL, MIGRATE_ERROR, POOL6,
        "becomes IPPool fd00-24e2-f998-72d6---64, which is invalid: "
        "spec.ipipMode: IPIP is not supported on an IPv6 pool"},
    {"pool: an unknown member is named",
        {{POOL4, "{\"cidr\":\"198.18.0.0/16\",\"vxlan\":\"vxlan.calico\"}"}},
        NULL, NULL, MIGRATE_WARNING, POOL4,
        "unknown member \"vxlan\": not migrated"},
    {"pool: the key is not a CIDR",
        {{"/calico/v1/ipam/v4/pool/fd00::-64", "{}"}}, NULL, NULL,
        MIGRATE_ERROR, "/calico/v1/ipam/v4/pool/fd00::-64",
        "\"fd00::-64\" in the key is not an IPv4 CIDR"},

    /* ---- global BGP configuration ---- */
    {"global: AS, mesh off, loglevel none",
        {{GLOBAL "as_num", "64512"},
            {GLOBAL "node_mesh", "{\"enabled\": false}"},
            {GLOBAL "loglevel", "none"}},
        V3DEFAULT,
        "{\"kind\":\"BGPConfiguration\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default\"},"
        "\"spec\":{\"logSeverityScreen\":\"Warning\","
        "\"nodeToNodeMeshEnabled\":false,\"asNumber\":64512}}",
        NOMSG},
    {"global: debug, mesh on, an asdot AS",
        {{GLOBAL "as_num", "1.10"}, {GLOBAL "node_mesh", "{\"enabled\":true}"},
            {GLOBAL "loglevel", "DEBUG"}},
        V3DEFAULT,
        "{\"kind\":\"BGPConfiguration\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default\"},"
        "\"spec\":{\"logSeverityScreen\":\"Debug\","
        "\"nodeToNodeMeshEnabled\":true,\"asNumber\":65546}}",
        NOMSG},
    {"global: info is Info, and nothing else set",
        {{GLOBAL "loglevel", "info"}}, V3DEFAULT,
        "{\"kind\":\"BGPConfiguration\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default\"},"
        "\"spec\":{\"logSeverityScreen\":\"Info\"}}",
        NOMSG},
    {"global: nothing set, no BGPConfiguration",
        {{GLOBAL "as_num", ""}, {GLOBAL "node_mesh", ""}}, V3DEFAULT, NULL,
        NOMSG},
    {"global: an unknown log level logged as BIRD did",
        {{GLOBAL "loglevel", "verbose"}}, V3DEFAULT,
        "{\"kind\":\"BGPConfiguration\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default\"},"
        "\"spec\":{\"logSeverityScreen\":\"Info\"}}",
        MIGRATE_WARNING, GLOBAL "loglevel",
        "unknown log level \"verbose\": Info, as BIRD logged it"},
    {"global: a broken AS number", {{GLOBAL "as_num", "sixty-four"}}, V3DEFAULT,
        NULL, MIGRATE_ERROR, GLOBAL "as_num",
        "invalid AS number \"sixty-four\""},
    {"global: node_mesh is a map", {{GLOBAL "node_mesh", "true"}}, V3DEFAULT,
        NULL, MIGRATE_ERROR, GLOBAL "node_mesh",
        "expected a JSON map, got \"true\""},
    {"global: node_mesh without enabled", {{GLOBAL "node_mesh", "{}"}},
        V3DEFAULT, NULL, MIGRATE_ERROR, GLOBAL "node_mesh",
        "expected {\"enabled\": true|false}"},

    /* ---- peers ---- */
    {"global peer (as_num a string, as v1 writes it)",
        {{GLOBAL "peer_v4/192.0.2.100",
            "{\"ip\":\"192.0.2.100\",\"as_num\":\"64513\"}"}},
        R "bgppeers/192-0-2-100",
        "{\"kind\":\"BGPPeer\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"192-0-2-100\"},\"spec\":{\"peerIP\":"
        "\"192.0.2.100\",\"asNumber\":64513}}",
        NOMSG},
    {"global IPv6 peer: every group in the name, as a number",
        {{GLOBAL "peer_v6/2001:db8::1",
            "{\"ip\":\"2001:db8::1\",\"as_num\":64513}"}},
        R "bgppeers/2001-0db8-0000-0000-0000-0000-0000-0001",
        "{\"kind\":\"BGPPeer\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"2001-0db8-0000-0000-0000-0000-0000-"
        "0001\"},\"spec\":{\"peerIP\":\"2001:db8::1\",\"asNumber\":64513}}",
        NOMSG},
    {"node peer: <node>.<ip>, node normalised",
        {{BGPHOST "Node_1/peer_v4/192.0.2.1",
            "{\"ip\":\"192.0.2.1\",\"as_num\":\"64600\"}"}},
        R "bgppeers/node-1.192-0-2-1",
        "{\"kind\":\"BGPPeer\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node-1.192-0-2-1\"},\"spec\":{\"node\":"
        "\"node-1\",\"peerIP\":\"192.0.2.1\",\"asNumber\":64600}}",
        NOMSG},
    {"peer: no AS number",
        {{GLOBAL "peer_v4/192.0.2.100", "{\"ip\":\"192.0.2.100\"}"}},
        R "bgppeers/192-0-2-100", NULL, MIGRATE_ERROR,
        GLOBAL "peer_v4/192.0.2.100", "as_num: required"},
    {"peer: a broken AS number",
        {{GLOBAL "peer_v4/192.0.2.100",
            "{\"ip\":\"192.0.2.100\",\"as_num\":\"x\"}"}},
        R "bgppeers/192-0-2-100", NULL, MIGRATE_ERROR,
        GLOBAL "peer_v4/192.0.2.100", "as_num: invalid AS number \"x\""},
    {"peer: value and key disagree",
        {{GLOBAL "peer_v4/192.0.2.100",
            "{\"ip\":\"192.0.2.101\",\"as_num\":\"1\"}"}},
        R "bgppeers/192-0-2-100", NULL, MIGRATE_ERROR,
        GLOBAL "peer_v4/192.0.2.100",
        "ip 192.0.2.101 is not the key's 192.0.2.100"},
    {"peer: an IPv4 key under peer_v6",
        {{GLOBAL "peer_v6/192.0.2.100",
            "{\"ip\":\"192.0.2.100\",\"as_num\":\"1\"}"}},
        NULL, NULL, MIGRATE_ERROR, GLOBAL "peer_v6/192.0.2.100",
        "\"192.0.2.100\" in the key is not an IPv6 address"},

    /* ---- nodes ---- */
    {"node: v4 with its subnet, AS, IPIP tunnel address; v6 unset",
        {META("node1"), {V1HOST "node1/bird_ip", "192.0.2.1"},
            {V1HOST "node1/config/IpInIpTunnelAddr", "198.18.0.1"},
            {BGPHOST "node1/ip_addr_v4", "192.0.2.1"},
            {BGPHOST "node1/network_v4", "192.0.2.0/24"},
            {BGPHOST "node1/ip_addr_v6", ""}, {BGPHOST "node1/network_v6", ""},
            {BGPHOST "node1/as_num", "64600"}},
        V3NODE1,
        "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node1\"},\"spec\":{\"bgp\":{"
        "\"asNumber\":64600,\"ipv4Address\":\"192.0.2.1/24\","
        "\"ipv4IPIPTunnelAddr\":\"198.18.0.1\"}}}",
        NOMSG},
    {"node: no network is a full mask; v6 too",
        {META("node1"), {BGPHOST "node1/ip_addr_v4", "192.0.2.1"},
            {BGPHOST "node1/ip_addr_v6", "2001:db8::1"},
            {BGPHOST "node1/network_v6", "2001:db8::/64"}},
        V3NODE1,
        "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node1\"},\"spec\":{\"bgp\":{"
        "\"ipv4Address\":\"192.0.2.1/32\",\"ipv6Address\":"
        "\"2001:db8::1/64\"}}}",
        NOMSG},
    {"node: the name normalised",
        {META("Node_1.Example"),
            {BGPHOST "Node_1.Example/ip_addr_v4", "192.0.2.1"}},
        R "nodes/node-1.example",
        "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node-1.example\"},\"spec\":{\"bgp\":{"
        "\"ipv4Address\":\"192.0.2.1/32\"}}}",
        NOMSG},
    {"node: orchestrator refs kept",
        {META("node1"),
            {V1HOST "node1/orchestrator_refs",
                "[{\"orchestrator\":\"k8s\",\"nodeName\":\"node1\"}]"}},
        V3NODE1,
        "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node1\"},\"spec\":{\"orchRefs\":[{"
        "\"orchestrator\":\"k8s\",\"nodeName\":\"node1\"}]}}",
        NOMSG},
    {"node: no address, no spec.bgp, the AS dropped",
        {META("node1"), {BGPHOST "node1/ip_addr_v4", ""},
            {BGPHOST "node1/as_num", "64600"}},
        V3NODE1,
        "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node1\"},\"spec\":{}}",
        MIGRATE_WARNING, BGPHOST "node1/as_num",
        "node node1 has no BGP address, so no spec.bgp: its AS number is "
        "dropped"},
    {"node: Felix's address is not the BGP one",
        {META("node1"), {V1HOST "node1/bird_ip", "192.0.2.9"},
            {BGPHOST "node1/ip_addr_v4", "192.0.2.1"}},
        V3NODE1,
        "{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","
        "\"metadata\":{\"name\":\"node1\"},\"spec\":{\"bgp\":{"
        "\"ipv4Address\":\"192.0.2.1/32\"}}}",
        MIGRATE_WARNING, V1HOST "node1/bird_ip",
        "Felix's address 192.0.2.9 is not the BGP address (192.0.2.1)"},
    {"node: its own log level",
        {META("node1"), {BGPHOST "node1/loglevel", "debug"}},
        R "bgpconfigurations/node.node1",
        "{\"kind\":\"BGPConfiguration\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"node.node1\"},"
        "\"spec\":{\"logSeverityScreen\":\"Debug\"}}",
        NOMSG},
    {"node: BGP keys without metadata are not a node",
        {{BGPHOST "node9/ip_addr_v4", "192.0.2.9"}}, R "nodes/node9", NULL,
        MIGRATE_WARNING, BGPHOST "node9/ip_addr_v4",
        "host \"node9\" has no /calico/v1/host/node9/metadata: no Node"},
    {"node: a broken address",
        {META("node1"), {BGPHOST "node1/ip_addr_v4", "192.0.2"}}, V3NODE1, NULL,
        MIGRATE_ERROR, BGPHOST "node1/ip_addr_v4",
        "invalid IPv4 address \"192.0.2\""},
    {"node: an IPv6 address under _v4",
        {META("node1"), {BGPHOST "node1/ip_addr_v4", "2001:db8::1"}}, V3NODE1,
        NULL, MIGRATE_ERROR, BGPHOST "node1/ip_addr_v4",
        "invalid IPv4 address \"2001:db8::1\""},
    {"node: a broken network",
        {META("node1"), {BGPHOST "node1/ip_addr_v4", "192.0.2.1"},
            {BGPHOST "node1/network_v4", "192.0.2.0/33"}},
        V3NODE1, NULL, MIGRATE_ERROR, BGPHOST "node1/network_v4",
        "invalid IPv4 network \"192.0.2.0/33\""},
    {"node: a broken tunnel address",
        {META("node1"), {BGPHOST "node1/ip_addr_v4", "192.0.2.1"},
            {V1HOST "node1/config/IpInIpTunnelAddr", "tunl0"}},
        V3NODE1, NULL, MIGRATE_ERROR, V1HOST "node1/config/IpInIpTunnelAddr",
        "invalid IPv4 address \"tunl0\""},
    {"node: a host name with nothing left", {META("__")}, NULL, NULL,
        MIGRATE_ERROR, V1HOST "__/metadata",
        "host name \"__\" gives no v3 node name"},

    /* ---- workload endpoints (what the v2.6 CNI plugin writes) ---- */
    {"workload endpoint: k8s",
        {{WEP1,
            "{\"state\":\"active\",\"name\":\"cali0123456789a\","
            "\"active_instance_id\":\"abc123\",\"mac\":"
            "\"0A:58:C6:12:00:05\",\"profile_ids\":[\"k8s_ns.default\"],"
            "\"ipv4_nets\":[\"198.18.0.5/32\"],\"ipv6_nets\":[],"
            "\"labels\":{\"calico/k8s_ns\":\"default\",\"app\":"
            "\"nginx\"}}"}},
        R "workloadendpoints/default/node1-k8s-nginx--1-eth0",
        "{\"kind\":\"WorkloadEndpoint\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":"
        "\"node1-k8s-nginx--1-eth0\",\"namespace\":\"default\","
        "\"labels\":{\"app\":\"nginx\",\"projectcalico.org/namespace\":"
        "\"default\"}},\"spec\":{\"orchestrator\":\"k8s\",\"node\":"
        "\"node1\",\"containerID\":\"abc123\",\"pod\":\"nginx-1\","
        "\"endpoint\":\"eth0\",\"ipNetworks\":[\"198.18.0.5/32\"],"
        "\"profiles\":[\"kns.default\"],\"interfaceName\":"
        "\"cali0123456789a\",\"mac\":\"0a:58:c6:12:00:05\"}}",
        NOMSG},
    {"workload endpoint: cni, with NAT and gateway",
        {{V1HOST "node1/workload/cni/abc123/endpoint/eth0",
            "{\"state\":\"active\",\"name\":\"caliabc\",\"ipv4_nets\":["
            "\"198.18.0.6/32\"],\"ipv4_nat\":[{\"int_ip\":\"198.18.0.6\","
            "\"ext_ip\":\"203.0.113.6\"}],\"ipv4_gateway\":\"169.254.1.1\"}"}},
        R "workloadendpoints/default/node1-cni-abc123-eth0",
        "{\"kind\":\"WorkloadEndpoint\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":"
        "\"node1-cni-abc123-eth0\",\"namespace\":\"default\"},\"spec\":{"
        "\"orchestrator\":\"cni\",\"node\":\"node1\",\"containerID\":"
        "\"abc123\",\"endpoint\":\"eth0\",\"ipNetworks\":["
        "\"198.18.0.6/32\"],\"interfaceName\":\"caliabc\",\"ipNATs\":[{"
        "\"internalIP\":\"198.18.0.6\",\"externalIP\":\"203.0.113.6\"}],"
        "\"ipv4Gateway\":\"169.254.1.1\"}}",
        NOMSG},
    {"workload endpoint: k8s without <namespace>.<pod>",
        {{V1HOST "node1/workload/k8s/nginx/endpoint/eth0", "{}"}}, NULL, NULL,
        MIGRATE_ERROR, V1HOST "node1/workload/k8s/nginx/endpoint/eth0",
        "k8s workload \"nginx\" is not <namespace>.<pod>"},
    {"workload endpoint: a broken network",
        {{WEP1, "{\"ipv4_nets\":[\"198.18.0.500/32\"]}"}}, NULL, NULL,
        MIGRATE_ERROR, WEP1, "ipv4_nets[0]: invalid CIDR \"198.18.0.500/32\""},
    {"workload endpoint: a network that is not one address",
        {{WEP1, "{\"ipv4_nets\":[\"198.18.0.0/24\"]}"}}, NULL, NULL,
        MIGRATE_ERROR, WEP1,
        "which is invalid: spec.ipNetworks[0]: \"198.18.0.0/24\" is not a "
        "single address"},

    /* ---- the cluster ---- */
    {"cluster: Ready, type, version, GUID",
        {{"/calico/v1/Ready", "true"},
            {"/calico/v1/config/CalicoVersion", "v2.6.6"},
            {"/calico/v1/config/ClusterGUID", "0123abcd"},
            {"/calico/v1/config/ClusterType", "k8s,bgp"},
            {"/calico/v1/config/LogSeverityScreen", "info"}},
        R "clusterinformations/default",
        "{\"kind\":\"ClusterInformation\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default\"},"
        "\"spec\":{\"clusterGUID\":\"0123abcd\",\"clusterType\":"
        "\"k8s,bgp\",\"calicoVersion\":\"v2.6.6\",\"datastoreReady\":"
        "true}}",
        MIGRATE_SKIPPED, "/calico/v1/config/", "Felix configuration"},
    /* Ready is false once the migration has locked v2.6 (migrate.h,
     * Locking): v3 ends ready all the same */
    {"cluster: v1 not ready, v3 ready", {{"/calico/v1/Ready", "false"}},
        R "clusterinformations/default",
        "{\"kind\":\"ClusterInformation\",\"apiVersion\":"
        "\"projectcalico.org/v3\",\"metadata\":{\"name\":\"default\"},"
        "\"spec\":{\"datastoreReady\":true}}",
        NOMSG},
    {"cluster: Ready neither true nor false", {{"/calico/v1/Ready", "yes"}},
        R "clusterinformations/default", NULL, MIGRATE_ERROR,
        "/calico/v1/Ready",
        "expected true or false, got "
        "\"yes\""},

    /* ---- what v3 has no place for ---- */
    {"custom filters are skipped",
        {{GLOBAL "custom_filters/v4/f1", "if net ~ 10.0.0.0/8 then reject;"}},
        NULL, NULL, MIGRATE_SKIPPED, GLOBAL "custom_filters/",
        "custom BIRD filters: not migrated"},
    {"reflector registrations are skipped",
        {{"/calico/bgp/v1/rr_v4/192.0.2.50",
            "{\"ip\":\"192.0.2.50\",\"cluster_id\":\"1.0.0.1\"}"}},
        NULL, NULL, MIGRATE_SKIPPED, "/calico/bgp/v1/rr_v4/",
        "routeReflectorClusterID"},
    {"an unknown key is named", {{"/calico/v1/whatever", "1"}}, NULL, NULL,
        MIGRATE_WARNING, "/calico/v1/whatever", "unknown key: not migrated"},
};

static void
test_conv_table(void **state)
{
	const struct conv_case *t;
	const struct migrate_item *it;
	struct migrate_plan p;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(conv_cases) / sizeof(conv_cases[0]); i++) {
		t = &conv_cases[i];
		convert(&p, t->in);
		it = t->key != NULL ? migrate_find(&p, t->key) : NULL;
		if (t->want != NULL) {
			if (it == NULL) {
				dump(&p);
				fail_msg("%s: no %s", t->name, t->key);
			}
			assert_int_equal(it->state, MIGRATE_PENDING);
			same_json(t->name, t->want, it->value);
		} else if (it != NULL) {
			dump(&p);
			fail_msg("%s: %s was migrated", t->name, t->key);
		}
		if (t->msgkey != NULL &&
		    find_msg(&p, t->level, t->msgkey, t->msg) == NULL) {
			dump(&p);
			fail_msg("%s: no message \"%s: %s\"", t->name,
			    t->msgkey, t->msg);
		}
		/* errors come only where the table says */
		if (t->msgkey == NULL || t->level != MIGRATE_ERROR)
			assert_int_equal(nlevel(&p, MIGRATE_ERROR), 0);
		migrate_plan_clean(&p);
	}
}

/* ---- IPAM ---- */

/* a v2.6 block: 64 ordinals, the first nalloc taken by handles h0, h1.. */
static char *
block26(const char *cidr, const char *affinity, int nalloc)
{
	json_t *o = json_object(), *al = json_array(), *un = json_array(),
	       *at = json_array();
	char h[32], *s;
	int i;

	json_object_set_new(o, "cidr", json_string(cidr));
	json_object_set_new(o,
	    affinity != NULL && strncmp(affinity, "host:", 5) != 0
	        ? "hostAffinity"
	        : "affinity",
	    affinity != NULL ? json_string(affinity) : json_null());
	json_object_set_new(o, "strictAffinity", json_false());
	for (i = 0; i < 64; i++) {
		json_array_append_new(
		    al, i < nalloc ? json_integer(i) : json_null());
		if (i >= nalloc)
			json_array_append_new(un, json_integer(i));
	}
	for (i = 0; i < nalloc; i++) {
		snprintf(h, sizeof(h), "k8s-pod-network.c%d", i);
		json_array_append_new(
		    at, json_pack("{sssn}", "handle_id", h, "secondary"));
	}
	json_object_set_new(o, "allocations", al);
	json_object_set_new(o, "unallocated", un);
	json_object_set_new(o, "attributes", at);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}

#define BLK "/calico/ipam/v2/assignment/ipv4/block/"
#define AFF "/calico/ipam/v2/host/"

static void
test_ipam(void **state)
{
	char *b1 = block26("198.18.0.0/26", "host:Node_1", 2),
	     *b2 = block26("198.18.0.64/26", NULL, 0),
	     *b3 = block26("198.18.0.128/26", "Node_1", 1);
	const struct kv in[] = {
	    {"/calico/ipam/v2/config",
	        "{\"strict_affinity\":false,\"auto_allocate_blocks\":true}"},
	    {BLK "198.18.0.0-26", b1},
	    {BLK "198.18.0.128-26", b3},
	    {BLK "198.18.0.64-26", b2},
	    {"/calico/ipam/v2/handle/k8s-pod-network.c0",
	        "{\"block\":{\"198.18.0.0/26\":1}}"},
	    {"/calico/ipam/v2/handle/k8s-pod-network.c1",
	        "{\"block\":{\"198.18.0.0/26\":1}}"},
	    {AFF "Node_1/ipv4/block/198.18.0.0-26", "{}"},
	    {AFF "Node_1/ipv4/block/198.18.0.128-26", ""},
	    {AFF "Node_1/ipv4/block/198.18.0.192-26", "{}"},
	    {AFF "node2/ipv4/block/198.18.0.0-26", "{}"},
	    {NULL, NULL},
	};
	const struct migrate_item *it;
	struct migrate_plan p;
	json_t *j, *want;
	char *w;

	(void)state;
	convert(&p, in);
	if (nlevel(&p, MIGRATE_ERROR) != 0)
		dump(&p);
	assert_int_equal(nlevel(&p, MIGRATE_ERROR), 0);
	assert_int_equal(p.nv1, 10);

	/* blocks: the same keys; the affinity names the v3 node */
	it = migrate_find(&p, BLK "198.18.0.0-26");
	assert_non_null(it);
	assert_string_equal(it->what, "IPAM block 198.18.0.0/26");
	w = block26("198.18.0.0/26", "host:node-1", 2);
	same_json("block 0", w, it->value);
	free(w);
	it = migrate_find(&p, BLK "198.18.0.64-26");
	assert_non_null(it);
	same_json("an unaffined block as it was", b2, it->value);
	/* the older hostAffinity member becomes affinity */
	it = migrate_find(&p, BLK "198.18.0.128-26");
	assert_non_null(it);
	w = block26("198.18.0.128/26", "host:node-1", 1);
	same_json("hostAffinity", w, it->value);
	free(w);
	j = json_loads(it->value, 0, NULL);
	assert_null(json_object_get(j, "hostAffinity"));
	json_decref(j);

	/* handles and the config as they are */
	it = migrate_find(&p, "/calico/ipam/v2/handle/k8s-pod-network.c1");
	assert_non_null(it);
	same_json("handle", "{\"block\":{\"198.18.0.0/26\":1}}", it->value);
	it = migrate_find(&p, "/calico/ipam/v2/config");
	assert_non_null(it);
	same_json("config",
	    "{\"strict_affinity\":false,\"auto_allocate_blocks\":true}",
	    it->value);

	/* affinities: confirmed where the block is this host's */
	it = migrate_find(&p, AFF "node-1/ipv4/block/198.18.0.0-26");
	assert_non_null(it);
	same_json("confirmed", "{\"state\":\"confirmed\",\"deleted\":false}",
	    it->value);
	assert_string_equal(it->source, AFF "Node_1/ipv4/block/198.18.0.0-26");
	it = migrate_find(&p, AFF "node-1/ipv4/block/198.18.0.128-26");
	assert_non_null(it);
	same_json("an empty value too",
	    "{\"state\":\"confirmed\",\"deleted\":false}", it->value);
	/* pending: no block, or another host's */
	it = migrate_find(&p, AFF "node-1/ipv4/block/198.18.0.192-26");
	assert_non_null(it);
	same_json(
	    "no block", "{\"state\":\"pending\",\"deleted\":false}", it->value);
	assert_non_null(find_msg(&p, MIGRATE_WARNING,
	    AFF "Node_1/ipv4/block/198.18.0.192-26", "no such block: pending"));
	it = migrate_find(&p, AFF "node2/ipv4/block/198.18.0.0-26");
	assert_non_null(it);
	same_json(
	    "not mine", "{\"state\":\"pending\",\"deleted\":false}", it->value);
	assert_non_null(
	    find_msg(&p, MIGRATE_WARNING, AFF "node2/ipv4/block/198.18.0.0-26",
	        "the block is affine to another host: pending"));
	assert_null(migrate_find(&p, AFF "Node_1/ipv4/block/198.18.0.0-26"));

	/* a v3 affinity already has a state: kept */
	migrate_plan_clean(&p);
	{
		const struct kv in2[] = {{AFF "n1/ipv4/block/198.18.0.0-26",
		                             "{\"state\":\"pendingDeletion\"}"},
		    {NULL, NULL}};
		convert(&p, in2);
		it = migrate_find(&p, AFF "n1/ipv4/block/198.18.0.0-26");
		assert_non_null(it);
		want = json_pack("{ssso}", "state", "pendingDeletion",
		    "deleted", json_false());
		w = json_dumps(want, 0);
		same_json("kept", w, it->value);
		free(w);
		json_decref(want);
	}
	migrate_plan_clean(&p);
	free(b1);
	free(b2);
	free(b3);
}

static void
test_ipam_errors(void **state)
{
	static const struct {
		struct kv in;
		const char *text;
	} cases[] = {
	    {{BLK "198.18.0.0-26",
	         "{\"cidr\":\"198.18.0.0/26\",\"allocations\":[0],"
	         "\"unallocated\":[],\"attributes\":[]}"},
	        "allocations: "},
	    {{BLK "198.18.0.0-26",
	         "{\"cidr\":\"198.18.0.1/32\","
	         "\"allocations\":[null],\"unallocated\":[0],"
	         "\"attributes\":[]}"},
	        "cidr 198.18.0.1/32 is not the key's"},
	    {{BLK "198.18.0.0-99", "{}"}, "in the key is not a CIDR"},
	    {{"/calico/ipam/v2/assignment/ipv6/block/198.18.0.0-26", "{}"},
	        "in the key is not a CIDR of the family beside it"},
	    {{"/calico/ipam/v2/handle/h1", "{\"block\":{\"x\":1}}"},
	        "block.x: invalid CIDR \"x\""},
	    {{"/calico/ipam/v2/handle/h1", "[]"}, "expected a JSON map"},
	    {{AFF "n1/ipv4/block/198.18.0.0-26", "{\"state\":\"maybe\"}"},
	        "state: invalid value \"maybe\""},
	    {{"/calico/ipam/v2/config", "{\"strict_affinity\":\"no\"}"},
	        "strict_affinity"},
	};
	struct migrate_plan p;
	struct kv in[2];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		in[0] = cases[i].in;
		in[1].k = NULL;
		convert(&p, in);
		if (find_msg(&p, MIGRATE_ERROR, in[0].k, cases[i].text) ==
		    NULL) {
			dump(&p);
			fail_msg("case %zu: no error \"%s: ...%s...\"", i,
			    in[0].k, cases[i].text);
		}
		assert_int_equal(p.nitems, 0);
		migrate_plan_clean(&p);
	}
}

/* ---- names Calico qualifies, clashes, order ---- */

static void
test_qualified_names(void **state)
{
	/* converters.convertName: a name the normalisation changed gains
	 * "-" and the first 8 hex digits of SHA-1(original) */
	static const struct {
		const char *wid, *workload;
	} cases[] = {
	    {"My_Workload", "my-workload-0a3cbb8a"},
	    {"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-"
	        "0933b39d"},
	    {"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx-"
	        "7dafc92d"},
	    {"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
	        "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	        "xx-dac23c13"},
	    {"plain", "plain"},
	};
	char key[512];
	struct kv in[2];
	struct migrate_plan p;
	const struct migrate_item *it;
	json_t *j;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(key, sizeof(key),
		    V1HOST "node1/workload/openstack/%s/endpoint/tap1",
		    cases[i].wid);
		in[0].k = key;
		in[0].v = "{\"ipv4_nets\":[\"198.18.0.9/32\"]}";
		in[1].k = NULL;
		convert(&p, in);
		assert_int_equal(p.nitems, 1);
		j = json_loads(p.items[0].value, 0, NULL);
		assert_string_equal(
		    json_string_value(json_object_get(
		        json_object_get(j, "spec"), "workload")),
		    cases[i].workload);
		json_decref(j);
		migrate_plan_clean(&p);
	}

	/* orchestrator, endpoint and profiles are qualified too */
	in[0].k = V1HOST "node1/workload/Mesos/w1/endpoint/Eth0";
	in[0].v = "{\"profile_ids\":[\"k8s_ns.Kube_System\",\"p1\"]}";
	convert(&p, in);
	it = migrate_find(&p,
	    R "workloadendpoints/default/"
	      "node1-mesos--e3d4373f-w1-eth0--f6d63f35");
	if (it == NULL)
		dump(&p);
	assert_non_null(it);
	j = json_loads(it->value, 0, NULL);
	assert_string_equal(
	    json_string_value(json_array_get(
	        json_object_get(json_object_get(j, "spec"), "profiles"), 0)),
	    "kns.kube-system-f59ebe45");
	json_decref(j);
	migrate_plan_clean(&p);
}

static void
test_clash(void **state)
{
	const struct kv in[] = {
	    META("Node1"),
	    META("node1"),
	    META("node2"),
	    {NULL, NULL},
	};
	struct migrate_plan p;

	(void)state;
	convert(&p, in);
	assert_null(migrate_find(&p, V3NODE1));
	assert_non_null(migrate_find(&p, R "nodes/node2"));
	assert_non_null(find_msg(&p, MIGRATE_ERROR, V1HOST "Node1/metadata",
	    "becomes Node node1, as does /calico/v1/host/node1/metadata"));
	assert_non_null(find_msg(&p, MIGRATE_ERROR, V1HOST "node1/metadata",
	    "becomes Node node1, as does /calico/v1/host/Node1/metadata"));
	migrate_plan_clean(&p);
}

/* a v2.6 install in one listing: what it becomes, in write order */
static void
test_install(void **state)
{
	char *blk = block26("198.18.0.0/26", "host:node1", 1);
	const struct kv in[] = {
	    {"/calico/bgp/v1/global/as_num", "64512"},
	    {"/calico/bgp/v1/global/custom_filters/v4/a", "x"},
	    {"/calico/bgp/v1/global/custom_filters/v4/b", "y"},
	    {"/calico/bgp/v1/global/node_mesh", "{\"enabled\": true}"},
	    {"/calico/bgp/v1/global/peer_v4/192.0.2.100",
	        "{\"ip\":\"192.0.2.100\",\"as_num\":\"64513\"}"},
	    {"/calico/bgp/v1/host/node1/ip_addr_v4", "192.0.2.1"},
	    {"/calico/felix/v1/host/node1/status", "{}"},
	    {BLK "198.18.0.0-26", blk},
	    {"/calico/ipam/v2/handle/k8s-pod-network.c0",
	        "{\"block\":{\"198.18.0.0/26\":1}}"},
	    {AFF "node1/ipv4/block/198.18.0.0-26", "{}"},
	    {"/calico/v1/Ready", "true"},
	    {"/calico/v1/config/IpInIpEnabled", "true"},
	    {"/calico/v1/config/LogSeverityScreen", "info"},
	    {"/calico/v1/host/node1/config/DefaultEndpointToHostAction",
	        "RETURN"},
	    {"/calico/v1/host/node1/metadata", "{}"},
	    {POOL4,
	        "{\"cidr\":\"198.18.0.0/16\",\"ipip\":\"tunl0\","
	        "\"ipip_mode\":\"always\",\"masquerade\":true}"},
	    {"/calico/v1/policy/tier/default/metadata", "{}"},
	    {NULL, NULL},
	};
	static const char *const order[] = {
	    R "bgpconfigurations/default",
	    R "nodes/node1",
	    R "bgppeers/192-0-2-100",
	    R "ippools/198-18-0-0-16",
	    BLK "198.18.0.0-26",
	    "/calico/ipam/v2/handle/k8s-pod-network.c0",
	    AFF "node1/ipv4/block/198.18.0.0-26",
	    R "clusterinformations/default",
	};
	struct migrate_plan p;
	struct migrate_counts c;
	const struct migrate_msg *m;
	size_t i;

	(void)state;
	convert(&p, in);
	assert_int_equal(p.nv1, 17);
	assert_int_equal(p.nitems, sizeof(order) / sizeof(order[0]));
	for (i = 0; i < p.nitems; i++)
		assert_string_equal(p.items[i].key, order[i]);
	migrate_count(&p, &c);
	assert_int_equal(c.errors, 0);
	assert_int_equal(c.warnings, 0);
	/* 2 filters, 2 Felix keys, 1 per node, 1 status, 1 policy */
	assert_int_equal(c.skipped, 7);
	m = find_msg(&p, MIGRATE_SKIPPED, "/calico/v1/config/", "Felix");
	assert_non_null(m);
	assert_int_equal(m->count, 2);
	m = find_msg(&p, MIGRATE_SKIPPED, GLOBAL "custom_filters/", "BIRD");
	assert_non_null(m);
	assert_int_equal(m->count, 2);
	assert_non_null(find_msg(&p, MIGRATE_SKIPPED,
	    "/calico/v1/host/*/config/", "per-node Felix"));
	assert_non_null(
	    find_msg(&p, MIGRATE_SKIPPED, "/calico/felix/", "status"));
	assert_non_null(
	    find_msg(&p, MIGRATE_SKIPPED, "/calico/v1/policy/", "policy"));
	migrate_plan_clean(&p);
	free(blk);
}

/* ---- against what etcd v3 holds ---- */

static void
test_classify(void **state)
{
	const struct kv in[] = {
	    {GLOBAL "as_num", "64512"},
	    {AFF "node1/ipv4/block/198.18.0.0-26", "{}"},
	    {NULL, NULL},
	};
	const struct migrate_opts force = {.force = true};
	struct migrate_plan p;
	struct migrate_item *res, *aff;
	const char *s;

	(void)state;
	convert(&p, in);
	assert_int_equal(p.nitems, 2);
	res = &p.items[0];
	aff = &p.items[1];
	assert_string_equal(res->key, V3DEFAULT);

	migrate_classify(res, NULL, 0, 0, NULL);
	assert_int_equal(res->state, MIGRATE_CREATE);
	assert_null(res->current);

	/* uid, creationTimestamp, resourceVersion and key order aside */
	s = "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":"
	    "\"BGPConfiguration\",\"metadata\":{\"name\":\"default\","
	    "\"uid\":\"5b5b4c1c-0000-4000-8000-000000000001\","
	    "\"creationTimestamp\":\"2018-01-01T00:00:00Z\","
	    "\"resourceVersion\":\"12\"},\"spec\":{\"asNumber\":64512}}";
	migrate_classify(res, s, strlen(s), 12, NULL);
	assert_int_equal(res->state, MIGRATE_UNCHANGED);
	assert_int_equal(res->mod_revision, 12);
	assert_string_equal(res->current, s);
	assert_null(res->diff);

	s = "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":"
	    "\"BGPConfiguration\",\"metadata\":{\"name\":\"default\"},"
	    "\"spec\":{\"asNumber\":64999,\"logSeverityScreen\":\"Info\"}}";
	migrate_classify(res, s, strlen(s), 13, NULL);
	assert_int_equal(res->state, MIGRATE_CONFLICT);
	assert_string_equal(res->diff, "spec.logSeverityScreen, spec.asNumber");
	migrate_classify(res, s, strlen(s), 13, &force);
	assert_int_equal(res->state, MIGRATE_UPDATE);
	assert_int_equal(res->mod_revision, 13);

	s = "{\"kind\":\"BGPConfiguration\"}";
	migrate_classify(res, s, strlen(s), 14, NULL);
	assert_int_equal(res->state, MIGRATE_CONFLICT);
	assert_non_null(strstr(res->diff, "the stored value is invalid ("));

	/* IPAM (no block here: the affinity is pending); an absent
	 * "deleted" is false */
	same_json(
	    "pending", "{\"state\":\"pending\",\"deleted\":false}", aff->value);
	s = "{\"state\":\"pending\"}";
	migrate_classify(aff, s, strlen(s), 20, NULL);
	assert_int_equal(aff->state, MIGRATE_UNCHANGED);
	s = "{\"state\":\"confirmed\",\"deleted\":false}";
	migrate_classify(aff, s, strlen(s), 21, NULL);
	assert_int_equal(aff->state, MIGRATE_CONFLICT);
	assert_string_equal(aff->diff, "state");
	assert_string_equal(
	    migrate_state_name(MIGRATE_CONFLICT, false), "conflict");
	assert_string_equal(
	    migrate_state_name(MIGRATE_CREATE, true), "created");
	migrate_plan_clean(&p);
}

static void
test_print(void **state)
{
	const struct kv in[] = {
	    {GLOBAL "as_num", "64512"},
	    {GLOBAL "peer_v4/192.0.2.100", "{\"ip\":\"192.0.2.100\"}"},
	    {"/calico/v1/config/Ipv6Support", "false"},
	    {NULL, NULL},
	};
	struct migrate_opts o = {0};
	struct migrate_plan p;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	convert(&p, in);
	migrate_classify(&p.items[0], NULL, 0, 0, NULL);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	migrate_print(&p, &o, f);
	fclose(f);
	assert_string_equal(buf,
	    "create    " V3DEFAULT "  (BGPConfiguration default, from "
	    "/calico/bgp/v1/global/)\n"
	    "error     /calico/bgp/v1/global/peer_v4/192.0.2.100: as_num: "
	    "required\n"
	    "skipped   /calico/v1/config/ (1 key): Felix configuration: not "
	    "migrated (podmesh keeps no FelixConfiguration)\n"
	    "summary: 3 v1 keys; 1 to create, 0 to update, 0 unchanged, 0 "
	    "conflicts, 1 error, 0 warnings, 1 skipped\n"
	    "not written: the v1 data has errors (above)\n"
	    "dry run: --apply first sets /calico/v1/Ready to false (Calico "
	    "v2.6 stops writing), then holds datastoreReady false in etcd v3 "
	    "until the last key is written\n");
	free(buf);
	migrate_plan_clean(&p);
}

static char *
print(const struct migrate_plan *p, const struct migrate_opts *o)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	migrate_print(p, o, f);
	fclose(f);
	return buf;
}

/*
 * force never overwrites IPAM: a block v3 allocated from since v2 was
 * read would lose those allocations.  It is left alone (KEPT), listed and
 * counted; only force_ipam overwrites it, and force_ipam alone does not
 * overwrite resources.
 */
static void
test_force_ipam(void **state)
{
	char *blk = block26("198.18.0.0/26", "host:node1", 1);
	char *blk3 = block26("198.18.0.0/26", "host:node1", 3);
	const struct kv in[] = {
	    {GLOBAL "as_num", "64512"},
	    {BLK "198.18.0.0-26", blk},
	    {"/calico/ipam/v2/handle/k8s-pod-network.c0",
	        "{\"block\":{\"198.18.0.0/26\":1}}"},
	    {"/calico/ipam/v2/config",
	        "{\"strict_affinity\":false,\"auto_allocate_blocks\":true}"},
	    {NULL, NULL},
	};
	/* what v3 holds: another AS; 3 addresses allocated in the block, the
	 * handle's count grown; the IPAM config as v2 has it */
	const char *cur[] = {
	    "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":"
	    "\"BGPConfiguration\",\"metadata\":{\"name\":\"default\"},"
	    "\"spec\":{\"asNumber\":64999}}",
	    "{\"strict_affinity\":false,\"auto_allocate_blocks\":true}",
	    blk3,
	    "{\"block\":{\"198.18.0.0/26\":3}}",
	};
	static const struct {
		struct migrate_opts o;
		enum migrate_state res, ipam;
	} cases[] = {
	    {{.apply = true}, MIGRATE_CONFLICT, MIGRATE_CONFLICT},
	    {{.apply = true, .force = true}, MIGRATE_UPDATE, MIGRATE_KEPT},
	    {{.apply = true, .force_ipam = true}, MIGRATE_CONFLICT,
	        MIGRATE_UPDATE},
	    {{.apply = true, .force = true, .force_ipam = true}, MIGRATE_UPDATE,
	        MIGRATE_UPDATE},
	};
	struct migrate_counts c;
	struct migrate_plan p;
	size_t i, k;
	char *out;

	(void)state;
	convert(&p, in);
	assert_int_equal(p.nitems, 4);
	assert_string_equal(p.items[0].key, V3DEFAULT);
	assert_string_equal(p.items[1].key, "/calico/ipam/v2/config");
	assert_string_equal(p.items[2].key, BLK "198.18.0.0-26");
	assert_string_equal(
	    p.items[3].key, "/calico/ipam/v2/handle/k8s-pod-network.c0");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (k = 0; k < p.nitems; k++)
			migrate_classify(&p.items[k], cur[k], strlen(cur[k]),
			    10 + k, &cases[i].o);
		assert_int_equal(p.items[0].state, cases[i].res);
		assert_int_equal(p.items[1].state, MIGRATE_UNCHANGED);
		assert_int_equal(p.items[2].state, cases[i].ipam);
		assert_int_equal(p.items[3].state, cases[i].ipam);
		assert_string_equal(
		    p.items[2].diff, "allocations, unallocated, attributes");
		assert_string_equal(p.items[3].diff, "block.198.18.0.0/26");
		migrate_count(&p, &c);
		assert_int_equal(c.kept, cases[i].ipam == MIGRATE_KEPT ? 2 : 0);
	}

	/* force: the resource updated, the IPAM keys listed as left alone */
	for (k = 0; k < p.nitems; k++)
		migrate_classify(
		    &p.items[k], cur[k], strlen(cur[k]), 10 + k, &cases[1].o);
	migrate_count(&p, &c);
	assert_int_equal(c.update, 1);
	assert_int_equal(c.conflict, 0);
	assert_int_equal(c.kept, 2);
	out = print(&p, &cases[1].o);
	assert_string_equal(out,
	    "update    " V3DEFAULT "  (BGPConfiguration default, from "
	    "/calico/bgp/v1/global/)\n"
	    "            differs in spec.asNumber\n"
	    "unchanged /calico/ipam/v2/config  (IPAM config, from "
	    "/calico/ipam/v2/config)\n"
	    "kept      " BLK
	    "198.18.0.0-26  (IPAM block 198.18.0.0/26, from " BLK
	    "198.18.0.0-26)\n"
	    "            differs in allocations, unallocated, attributes\n"
	    "            left alone: IPAM (--force-ipam overwrites it)\n"
	    "kept      /calico/ipam/v2/handle/k8s-pod-network.c0  (IPAM handle "
	    "k8s-pod-network.c0, from "
	    "/calico/ipam/v2/handle/k8s-pod-network.c0)\n"
	    "            differs in block.198.18.0.0/26\n"
	    "            left alone: IPAM (--force-ipam overwrites it)\n"
	    "summary: 4 v1 keys; 0 to create, 1 to update, 1 unchanged, 2 "
	    "conflicts, 0 errors, 0 warnings, 0 skipped\n"
	    "left alone: 2 IPAM keys hold other values in etcd v3: --force "
	    "does not overwrite IPAM data, which v3 may have allocated from "
	    "since (--force-ipam does, freeing those addresses)\n"
	    "written: 0 of 1 keys, then stopped\n");
	free(out);

	/* no force: a conflict, and the way out for IPAM named */
	for (k = 0; k < p.nitems; k++)
		migrate_classify(
		    &p.items[k], cur[k], strlen(cur[k]), 10 + k, &cases[0].o);
	out = print(&p, &cases[0].o);
	assert_non_null(strstr(out,
	    "\nnot written: 3 keys hold other values in etcd v3 (--force "
	    "overwrites them but leaves the IPAM ones alone; --force-ipam "
	    "overwrites those)\n"));
	free(out);
	migrate_plan_clean(&p);
	free(blk);
	free(blk3);
}

/*
 * The ClusterInformation is migrated ready, and a v3 one that differs
 * only in datastoreReady (a run that stopped after holding it false) is
 * the migration's to update, force or not.
 */
static void
test_cluster_ready(void **state)
{
	const struct kv in[] = {
	    {"/calico/v1/Ready", "false"},
	    {"/calico/v1/config/ClusterType", "k8s,bgp"},
	    {NULL, NULL},
	};
	const char *held =
	    "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":"
	    "\"ClusterInformation\",\"metadata\":{\"name\":\"default\","
	    "\"uid\":\"5b5b4c1c-0000-4000-8000-000000000002\"},\"spec\":"
	    "{\"clusterType\":\"k8s,bgp\",\"datastoreReady\":false}}";
	const char *other =
	    "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":"
	    "\"ClusterInformation\",\"metadata\":{\"name\":\"default\"},"
	    "\"spec\":{\"clusterType\":\"kdd\",\"datastoreReady\":false}}";
	const char *done =
	    "{\"apiVersion\":\"projectcalico.org/v3\",\"kind\":"
	    "\"ClusterInformation\",\"metadata\":{\"name\":\"default\"},"
	    "\"spec\":{\"clusterType\":\"k8s,bgp\",\"datastoreReady\":"
	    "true}}";
	struct migrate_plan p;
	struct migrate_item *ci;

	(void)state;
	convert(&p, in);
	assert_int_equal(p.nitems, 1);
	ci = &p.items[0];
	assert_string_equal(ci->key, MIGRATE_CLUSTER_KEY);
	assert_string_equal(ci->key, R "clusterinformations/default");
	same_json("ready", done, ci->value);

	migrate_classify(ci, held, strlen(held), 7, NULL);
	assert_int_equal(ci->state, MIGRATE_UPDATE);
	assert_string_equal(ci->diff, "spec.datastoreReady");
	migrate_classify(ci, other, strlen(other), 7, NULL);
	assert_int_equal(ci->state, MIGRATE_CONFLICT);
	assert_string_equal(ci->diff, "spec.clusterType, spec.datastoreReady");
	migrate_classify(ci, done, strlen(done), 7, NULL);
	assert_int_equal(ci->state, MIGRATE_UNCHANGED);
	migrate_plan_clean(&p);
}

/* what the lock did, in the order it did it */
static void
test_print_lock(void **state)
{
	const struct kv in[] = {
	    {GLOBAL "as_num", "64512"},
	    {"/calico/v1/Ready", "false"},
	    {NULL, NULL},
	};
	const struct migrate_opts o = {.apply = true};
	struct migrate_plan p;
	char *out;

	(void)state;
	convert(&p, in);
	assert_int_equal(p.nitems, 2);
	migrate_classify(&p.items[0], NULL, 0, 0, &o);
	migrate_classify(&p.items[1], NULL, 0, 0, &o);
	p.items[0].written = p.items[1].written = true;
	p.lock.state = MIGRATE_LOCK_TAKEN;
	p.lock.ready_index = 41;
	p.lock.list_index = 42;
	p.lock.hold_rev = 5;
	p.lock.check_index = 43;
	p.lock.ready_rev = 7;
	out = print(&p, &o);
	assert_string_equal(out,
	    "locked    /calico/v1/Ready: true -> false at etcd v2 index 41 "
	    "(Calico v2.6's CNI plugin and Felix stop writing)\n"
	    "read      /calico at etcd v2 index 42 (2 keys)\n"
	    "created   " V3DEFAULT "  (BGPConfiguration default, from "
	    "/calico/bgp/v1/global/)\n"
	    "created   " MIGRATE_CLUSTER_KEY "  (ClusterInformation default, "
	    "from /calico/v1/Ready)\n"
	    "summary: 2 v1 keys; 2 to create, 0 to update, 0 unchanged, 0 "
	    "conflicts, 0 errors, 0 warnings, 0 skipped\n"
	    "held      ClusterInformation default: datastoreReady false at "
	    "etcd v3 revision 5 while writing\n"
	    "written: 2 keys\n"
	    "checked   etcd v2 unchanged under /calico since index 42 (at "
	    "index 43)\n"
	    "ready     ClusterInformation default: datastoreReady true at "
	    "etcd v3 revision 7\n");
	free(out);

	/* stopped after holding; or refused, Ready set back */
	p.lock.state = MIGRATE_LOCK_HELD;
	p.lock.check_index = 0;
	p.lock.ready_rev = 0;
	p.items[1].written = false;
	out = print(&p, &o);
	assert_non_null(strstr(out,
	    "locked    /calico/v1/Ready: false already (since index 41)\n"));
	assert_non_null(strstr(out,
	    "written: 1 of 2 keys, then stopped\n"
	    "not ready ClusterInformation default: datastoreReady stays false "
	    "(run again)\n"));
	free(out);
	p.lock.state = MIGRATE_LOCK_TAKEN;
	p.lock.hold_rev = 0;
	p.lock.released = true;
	p.items[0].written = false;
	out = print(&p, &o);
	assert_non_null(strstr(out,
	    "unlocked  /calico/v1/Ready: back to true (nothing was "
	    "written)\n"));
	assert_null(strstr(out, "held"));
	free(out);
	migrate_plan_clean(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_conv_table),
	    cmocka_unit_test(test_ipam),
	    cmocka_unit_test(test_ipam_errors),
	    cmocka_unit_test(test_qualified_names),
	    cmocka_unit_test(test_clash),
	    cmocka_unit_test(test_install),
	    cmocka_unit_test(test_classify),
	    cmocka_unit_test(test_print),
	    cmocka_unit_test(test_force_ipam),
	    cmocka_unit_test(test_cluster_ready),
	    cmocka_unit_test(test_print_lock),
	};

	store_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
