/*
 * store/model*.c: Calico's v3 resources both ways.  Every kind's stored
 * form (tests/data/model/resources, shapes from calico.md §1) survives
 * decode -> encode unchanged; the decoded structs hold what the JSON says;
 * defaults are filled in as Calico's client does; a table of invalid
 * documents gives exactly the expected messages; keys, kind names, WEP
 * names; and whole files through resource_load() with file, line and
 * document in every error.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/model.h"
#include "store/selector.h"
#include "store/yamljson.h"

#define MODEL_DIR TEST_DATA_DIR "/model"

static json_t *
load_json(const char *name)
{
	char path[512];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", MODEL_DIR, name);
	j = json_load_file(path, 0, &e);
	if (j == NULL)
		fail_msg("%s:%d: %s", path, e.line, e.text);
	return j;
}

static json_t *
parse_json(const char *text)
{
	json_error_t e;
	json_t *j = json_loads(text, 0, &e);

	if (j == NULL)
		fail_msg("bad test JSON: %s: %s", e.text, text);
	return j;
}

/* decode (strict and not) -> encode gives the input back, twice over */
static void
roundtrip(const char *name, enum model_kind kind)
{
	char err[MODEL_ERRLEN];
	struct resource r, r2;
	json_t *in, *out, *out2;
	int flags;

	in = load_json(name);
	for (flags = 0; flags <= MODEL_STRICT; flags += MODEL_STRICT) {
		if (resource_decode_flags(in, flags, &r, err, sizeof(err)) ==
		    -1)
			fail_msg("%s: %s", name, err);
		assert_int_equal(r.kind, kind);
		out = resource_encode(&r, 0);
		if (!json_equal(in, out)) {
			char *a = json_dumps(in, JSON_SORT_KEYS);
			char *b = json_dumps(out, JSON_SORT_KEYS);
			fail_msg("%s:\n in: %s\nout: %s", name, a, b);
		}
		resource_copy(&r2, &r);
		out2 = resource_encode(&r2, 0);
		assert_true(json_equal(out, out2));
		json_decref(out);
		json_decref(out2);
		resource_clean(&r);
		resource_clean(&r2);
	}
	json_decref(in);
}

static void
test_roundtrip(void **state)
{
	static const struct {
		const char *file;
		enum model_kind kind;
	} files[] = {
	    {"resources/node.json", MODEL_NODE},
	    {"resources/node-vxlan.json", MODEL_NODE},
	    {"resources/bgpconfig-default.json", MODEL_BGPCONFIG},
	    {"resources/bgpconfig-node.json", MODEL_BGPCONFIG},
	    {"resources/bgppeer-global.json", MODEL_BGPPEER},
	    {"resources/bgppeer-rr.json", MODEL_BGPPEER},
	    {"resources/bgppeer-node.json", MODEL_BGPPEER},
	    {"resources/ippool-v4.json", MODEL_IPPOOL},
	    {"resources/ippool-v6.json", MODEL_IPPOOL},
	    {"resources/wep.json", MODEL_WEP},
	    {"resources/clusterinfo.json", MODEL_CLUSTERINFO},
	};
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		roundtrip(files[i].file, files[i].kind);
}

static void
decode_file(const char *name, struct resource *r)
{
	char err[MODEL_ERRLEN];
	json_t *j = load_json(name);

	if (resource_decode(j, r, err, sizeof(err)) == -1)
		fail_msg("%s: %s", name, err);
	json_decref(j);
}

static const char *
ntop(const struct addr *a)
{
	static char buf[ADDR_STRLEN];

	return addr_ntop(a, buf, sizeof(buf));
}

static const char *
pntop(const struct prefix *p)
{
	static char buf[PREFIX_STRLEN];

	return prefix_ntop(p, buf, sizeof(buf));
}

static void
test_node_values(void **state)
{
	struct resource r;
	struct selector *sel;
	struct labels view;
	char err[256];

	decode_file("resources/node.json", &r);
	assert_string_equal(r.meta.name, "node1");
	assert_string_equal(r.meta.uid, "3b7e6a52-9b1c-4f0e-8f64-2d9a1c0e5b11");
	assert_true(r.node.has_bgp);
	assert_int_equal(r.node.bgp.asn, 64512);
	/* the node's own address: host bits are kept */
	assert_string_equal(pntop(&r.node.bgp.ipv4_address), "192.0.2.11/24");
	assert_string_equal(pntop(&r.node.bgp.ipv6_address), "2001:db8::11/64");
	assert_string_equal(
	    ntop(&r.node.bgp.ipv4_ipip_tunnel_addr), "198.18.0.1");
	assert_string_equal(ntop(&r.node.bgp.rr_cluster_id), "224.0.0.1");
	assert_non_null(json_object_get(r.node.extra, "orchRefs"));
	assert_non_null(json_object_get(r.extra, "status"));
	assert_string_equal(
	    model_labels_get(&r.meta.labels, "route-reflector"), "true");
	assert_null(model_labels_get(&r.meta.labels, "nope"));

	/* the labels as the selector engine sees them */
	model_labels_view(&r.meta.labels, &view);
	sel = selector_parse("route-reflector == 'true'", err, sizeof(err));
	assert_non_null(sel);
	assert_true(selector_match(sel, &view));
	selector_free(sel);
	sel = selector_parse("has(zone)", err, sizeof(err));
	assert_non_null(sel);
	assert_false(selector_match(sel, &view));
	selector_free(sel);
	resource_clean(&r);

	decode_file("resources/node-vxlan.json", &r);
	assert_string_equal(ntop(&r.node.ipv4_vxlan_tunnel_addr), "198.18.1.0");
	assert_string_equal(r.node.vxlan_tunnel_mac, "66:1f:8a:02:3c:7d");
	assert_int_equal(r.node.bgp.asn, 0);
	assert_int_equal(r.node.bgp.ipv6_address.a.family, 0);
	resource_clean(&r);
}

static void
test_bgp_values(void **state)
{
	struct resource r;

	decode_file("resources/bgpconfig-default.json", &r);
	assert_string_equal(r.bgpconfig.log_severity, "Info");
	assert_int_equal(r.bgpconfig.node_mesh, MODEL_FALSE);
	assert_false(model_bgpconfig_mesh(&r.bgpconfig));
	assert_int_equal(model_bgpconfig_asn(&r.bgpconfig), 64512);
	assert_int_equal(r.bgpconfig.listen_port, 179);
	assert_non_null(
	    json_object_get(r.bgpconfig.extra, "serviceClusterIPs"));
	resource_clean(&r);

	decode_file("resources/bgpconfig-node.json", &r);
	assert_int_equal(r.bgpconfig.node_mesh, MODEL_UNSET);
	assert_string_equal(model_bgpconfig_loglevel(&r.bgpconfig), "debug");
	resource_clean(&r);

	decode_file("resources/bgppeer-global.json", &r);
	assert_true(model_bgppeer_is_global(&r.bgppeer));
	assert_string_equal(ntop(&r.bgppeer.peer_ip), "192.0.2.1");
	assert_int_equal(r.bgppeer.peer_port, 0);
	assert_int_equal(r.bgppeer.asn, 64513);
	resource_clean(&r);

	decode_file("resources/bgppeer-rr.json", &r);
	assert_false(model_bgppeer_is_global(&r.bgppeer));
	assert_int_equal(r.bgppeer.peer_ip.family, 0);
	assert_int_equal(r.bgppeer.asn, 0);
	assert_string_equal(r.bgppeer.node_selector, "all()");
	assert_string_equal(
	    r.bgppeer.peer_selector, "route-reflector == 'true'");
	resource_clean(&r);

	decode_file("resources/bgppeer-node.json", &r);
	assert_string_equal(r.bgppeer.node, "node1");
	assert_int_equal(r.bgppeer.peer_ip.family, AF_INET6);
	assert_string_equal(ntop(&r.bgppeer.peer_ip), "2001:db8::1");
	assert_int_equal(r.bgppeer.peer_port, 1179);
	assert_int_equal(r.bgppeer.asn, 4200000000u);
	assert_true(r.bgppeer.keep_original_next_hop);
	assert_string_equal(r.bgppeer.source_address, "None");
	assert_non_null(json_object_get(r.bgppeer.extra, "password"));
	resource_clean(&r);
}

static void
test_bgpconfig_defaults(void **state)
{
	struct model_bgpconfig b;

	/* calico.md §1: no BGPConfiguration at all */
	assert_int_equal(model_bgpconfig_asn(NULL), 64512);
	assert_true(model_bgpconfig_mesh(NULL));
	assert_string_equal(model_bgpconfig_loglevel(NULL), "info");

	memset(&b, 0, sizeof(b));
	assert_true(model_bgpconfig_mesh(&b));
	b.node_mesh = MODEL_TRUE;
	assert_true(model_bgpconfig_mesh(&b));
	b.log_severity = "Warning";
	assert_string_equal(model_bgpconfig_loglevel(&b), "none");
	b.log_severity = "Fatal";
	assert_string_equal(model_bgpconfig_loglevel(&b), "none");
	b.log_severity = "Info";
	assert_string_equal(model_bgpconfig_loglevel(&b), "info");
	b.asn = 65001;
	assert_int_equal(model_bgpconfig_asn(&b), 65001);
}

static void
test_pool_wep_values(void **state)
{
	struct resource r;

	decode_file("resources/ippool-v4.json", &r);
	assert_string_equal(pntop(&r.ippool.cidr), "198.18.0.0/16");
	assert_int_equal(r.ippool.ipip_mode, MODEL_ENCAP_ALWAYS);
	assert_int_equal(r.ippool.vxlan_mode, MODEL_ENCAP_NEVER);
	assert_true(r.ippool.nat_outgoing);
	assert_false(r.ippool.disabled);
	assert_int_equal(r.ippool.block_size, 26);
	assert_string_equal(model_encap_name(r.ippool.ipip_mode), "Always");
	assert_null(model_encap_name(MODEL_ENCAP_UNSET));
	resource_clean(&r);

	decode_file("resources/ippool-v6.json", &r);
	assert_int_equal(r.ippool.cidr.a.family, AF_INET6);
	assert_int_equal(r.ippool.block_size, 122);
	assert_true(r.ippool.disabled);
	assert_string_equal(r.ippool.node_selector, "!has(no-v6)");
	resource_clean(&r);

	decode_file("resources/wep.json", &r);
	assert_string_equal(r.meta.namespace, "default");
	assert_string_equal(r.wep.pod, "nginx-7c5d");
	assert_int_equal(r.wep.n_ip_networks, 1);
	assert_string_equal(pntop(&r.wep.ip_networks[0]), "198.18.0.5/32");
	assert_int_equal(r.wep.n_profiles, 2);
	assert_string_equal(r.wep.profiles[0], "kns.default");
	assert_string_equal(r.wep.profiles[1], "ksa.default.default");
	assert_string_equal(r.wep.interface_name, "cali1a2b3c4d5e6");
	resource_clean(&r);

	decode_file("resources/clusterinfo.json", &r);
	assert_int_equal(r.clusterinfo.datastore_ready, MODEL_TRUE);
	assert_string_equal(r.clusterinfo.cluster_type, "k8s,bgp");
	resource_clean(&r);
}

/* what Calico's client fills in before it stores a pool */
static void
test_pool_defaults(void **state)
{
	char err[MODEL_ERRLEN];
	struct model_ippool p;
	json_t *in, *out, *want;

	in = parse_json("{\"cidr\": \"198.18.0.0/16\"}");
	assert_int_equal(
	    model_ippool_from_json(in, &p, MODEL_STRICT, err, sizeof(err)), 0);
	out = model_ippool_to_json(&p);
	want = parse_json("{\"cidr\": \"198.18.0.0/16\", \"vxlanMode\": "
	                  "\"Never\", \"ipipMode\": \"Never\", \"blockSize\": "
	                  "26, \"nodeSelector\": \"all()\"}");
	assert_true(json_equal(out, want));
	model_ippool_clean(&p);
	json_decref(in);
	json_decref(out);
	json_decref(want);

	in = parse_json("{\"cidr\": \"2001:db8:1::/48\", \"nodeSelector\": "
	                "\"\", \"natOutgoing\": null}");
	assert_int_equal(
	    model_ippool_from_json(in, &p, 0, err, sizeof(err)), 0);
	assert_int_equal(p.block_size, 122);
	assert_string_equal(p.node_selector, "all()");
	assert_false(p.nat_outgoing);
	model_ippool_clean(&p);
	assert_null(p.node_selector);
	json_decref(in);
}

/* numorstring.ASNumber: a number, a decimal string or asdot "AS.AS" */
static void
test_asn_forms(void **state)
{
	static const struct {
		const char *json;
		uint32_t asn;
	} ok[] = {
	    {"64512", 64512},
	    {"\"64512\"", 64512},
	    {"\"1.10\"", 65546},
	    {"\"65535.65535\"", 4294967295u},
	    {"4294967295", 4294967295u},
	    {"\"0.1\"", 1},
	};
	char text[256], err[MODEL_ERRLEN];
	struct model_node n;
	uint32_t a;
	json_t *j, *out;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "{\"bgp\": {\"asNumber\": %s}}",
		    ok[i].json);
		j = parse_json(text);
		if (model_node_from_json(
		        j, &n, MODEL_STRICT, err, sizeof(err)) == -1)
			fail_msg("%s: %s", ok[i].json, err);
		assert_int_equal(n.bgp.asn, ok[i].asn);
		/* always written back as a number */
		out = model_node_to_json(&n);
		assert_int_equal(json_integer_value(json_object_get(
		                     json_object_get(out, "bgp"), "asNumber")),
		    ok[i].asn);
		json_decref(out);
		model_node_clean(&n);
		json_decref(j);
	}
	assert_int_equal(model_asn_parse("0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(model_asn_parse("4294967296", &a), -1);
	assert_int_equal(model_asn_parse("65536.1", &a), -1);
	assert_int_equal(model_asn_parse("1.", &a), -1);
	assert_int_equal(model_asn_parse(".1", &a), -1);
	assert_int_equal(model_asn_parse("1.2.3", &a), -1);
	assert_int_equal(model_asn_parse("+1", &a), -1);
	assert_int_equal(model_asn_parse("", &a), -1);
}

/* an expected message ending in ": " need only start the real one */
struct bad {
	const char *json;
	int flags;
	const char *err;
};

#define POOL(spec)                                                             \
	"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","        \
	"\"metadata\":{\"name\":\"p\"},\"spec\":" spec "}"
#define PEER(spec)                                                             \
	"{\"kind\":\"BGPPeer\",\"apiVersion\":\"projectcalico.org/v3\","       \
	"\"metadata\":{\"name\":\"p\"},\"spec\":" spec "}"
#define NODE(spec)                                                             \
	"{\"kind\":\"Node\",\"apiVersion\":\"projectcalico.org/v3\","          \
	"\"metadata\":{\"name\":\"n1\"},\"spec\":" spec "}"
#define BGPCONF(name, spec)                                                    \
	"{\"kind\":\"BGPConfiguration\",\"apiVersion\":"                       \
	"\"projectcalico.org/v3\",\"metadata\":{\"name\":\"" name "\"},"       \
	"\"spec\":" spec "}"
#define WEP(meta, spec)                                                        \
	"{\"kind\":\"WorkloadEndpoint\",\"apiVersion\":"                       \
	"\"projectcalico.org/v3\",\"metadata\":" meta ",\"spec\":" spec "}"
#define WEPMETA "{\"name\":\"n1-k8s-p-eth0\",\"namespace\":\"ns\"}"

static const struct bad bad[] = {
    /* IPPool */
    {POOL("{\"cidr\":\"10.0.0.0/33\"}"), 0,
        "spec.cidr: invalid CIDR \"10.0.0.0/33\""},
    {POOL("{\"cidr\":\"198.18.0.0\"}"), 0,
        "spec.cidr: invalid CIDR \"198.18.0.0\""},
    {POOL("{\"cidr\":\"198.18.0.0/ 16\"}"), 0,
        "spec.cidr: invalid CIDR \"198.18.0.0/ 16\""},
    {POOL("{\"cidr\":\"198.18.0.1/16\"}"), 0,
        "spec.cidr: \"198.18.0.1/16\" has host bits set (the network is "
        "198.18.0.0/16)"},
    {POOL("{\"natOutgoing\":true}"), 0, "spec.cidr: required"},
    {POOL("{\"cidr\":\"\"}"), 0, "spec.cidr: required"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"blockSize\":19}"), 0,
        "spec.blockSize: 19 is out of range for an IPv4 pool (20-32)"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"blockSize\":33}"), 0,
        "spec.blockSize: 33 is out of range for an IPv4 pool (20-32)"},
    {POOL("{\"cidr\":\"2001:db8::/48\",\"blockSize\":115}"), 0,
        "spec.blockSize: 115 is out of range for an IPv6 pool (116-128)"},
    {POOL("{\"cidr\":\"2001:db8::/48\",\"blockSize\":129}"), 0,
        "spec.blockSize: 129 is out of range for an IPv6 pool (116-128)"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"blockSize\":-1}"), 0,
        "spec.blockSize: -1 is out of range (0-255)"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"blockSize\":\"26\"}"), 0,
        "spec.blockSize: expected a number, got \"26\""},
    {POOL("{\"cidr\":\"198.18.0.0/27\"}"), 0,
        "spec.cidr: pool 198.18.0.0/27 is smaller than its block size /26"},
    {POOL("{\"cidr\":\"169.254.0.0/16\"}"), 0,
        "spec.cidr: 169.254.0.0/16 overlaps the link-local range "
        "169.254.0.0/16"},
    {POOL("{\"cidr\":\"fe80::/64\"}"), 0,
        "spec.cidr: fe80::/64 overlaps the link-local range fe80::/10"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"ipipMode\":\"always\"}"), 0,
        "spec.ipipMode: invalid value \"always\" (expected Never, Always or "
        "CrossSubnet)"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"vxlanMode\":\"Sometimes\"}"), 0,
        "spec.vxlanMode: invalid value \"Sometimes\" (expected Never, Always "
        "or CrossSubnet)"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"ipipMode\":\"Always\","
          "\"vxlanMode\":\"CrossSubnet\"}"),
        0, "spec.vxlanMode: ipipMode and vxlanMode cannot both be enabled"},
    {POOL("{\"cidr\":\"2001:db8::/48\",\"ipipMode\":\"CrossSubnet\"}"), 0,
        "spec.ipipMode: IPIP is not supported on an IPv6 pool"},
    {POOL("{\"cidr\":\"2001:db8::/48\",\"vxlanMode\":\"Always\"}"), 0,
        "spec.vxlanMode: VXLAN is not supported on an IPv6 pool"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"natOutgoing\":\"yes\"}"), 0,
        "spec.natOutgoing: expected true or false, got \"yes\""},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"ipipmode\":\"Always\"}"), MODEL_STRICT,
        "spec.ipipmode: unknown field"},
    {POOL("{\"cidr\":\"198.18.0.0/16\",\"nodeSelector\":\"foo ==\"}"), 0,
        "spec.nodeSelector: invalid selector \"foo ==\": "},
    {POOL("{\"cidr\":198}"), 0, "spec.cidr: expected a string, got 198"},
    {POOL("[]"), 0, "spec: expected a map, got a list"},
    /* BGPPeer */
    {PEER("{\"peerIP\":\"192.0.2.300\",\"asNumber\":64513}"), 0,
        "spec.peerIP: invalid IP address \"192.0.2.300\""},
    {PEER("{\"peerIP\":\"192.0.2.1:0\",\"asNumber\":64513}"), 0,
        "spec.peerIP: invalid IP address \"192.0.2.1:0\""},
    {PEER("{\"peerIP\":\"fe80::1%eth0\",\"asNumber\":64513}"), 0,
        "spec.peerIP: invalid IP address \"fe80::1%eth0\""},
    {PEER("{\"peerIP\":\"192.0.2.1\",\"asNumber\":64513,"
          "\"peerSelector\":\"all()\"}"),
        0, "spec.peerIP: must be empty when peerSelector is set"},
    {PEER("{\"asNumber\":64513,\"peerSelector\":\"all()\"}"), 0,
        "spec.asNumber: must be empty when peerSelector is set"},
    {PEER("{\"node\":\"n1\",\"nodeSelector\":\"all()\","
          "\"peerSelector\":\"all()\"}"),
        0, "spec.node: must be empty when nodeSelector is set"},
    {PEER("{\"node\":\"n1\"}"), 0, "spec.peerIP: required (or a peerSelector)"},
    {PEER("{\"peerIP\":\"192.0.2.1\"}"), 0,
        "spec.asNumber: required with peerIP"},
    {PEER("{\"peerIP\":\"192.0.2.1\",\"asNumber\":\"70000.1\"}"), 0,
        "spec.asNumber: invalid AS number \"70000.1\""},
    {PEER("{\"peerIP\":\"192.0.2.1\",\"asNumber\":4294967296}"), 0,
        "spec.asNumber: invalid AS number 4294967296"},
    {PEER("{\"peerIP\":\"192.0.2.1\",\"asNumber\":-1}"), 0,
        "spec.asNumber: invalid AS number -1"},
    {PEER("{\"peerIP\":\"192.0.2.1\",\"asNumber\":1.1}"), 0,
        "spec.asNumber: invalid AS number 1.1 (quote an asdot AS number: "
        "\"1.10\")"},
    {PEER("{\"peerIP\":\"192.0.2.1\",\"asNumber\":64513,"
          "\"sourceAddress\":\"Node\"}"),
        0,
        "spec.sourceAddress: invalid value \"Node\" (expected UseNodeIP or "
        "None)"},
    {PEER("{\"node\":\"Node_1\",\"peerIP\":\"192.0.2.1\","
          "\"asNumber\":64513}"),
        0,
        "spec.node: invalid name \"Node_1\" (lower case letters, digits, '-' "
        "and '.')"},
    /* Node */
    {NODE("{\"bgp\":{\"asNumber\":0}}"), 0,
        "spec.bgp.asNumber: invalid AS number 0"},
    {NODE("{\"bgp\":{\"ipv4Address\":\"2001:db8::1/64\"}}"), 0,
        "spec.bgp.ipv4Address: \"2001:db8::1/64\" is not an IPv4 address"},
    {NODE("{\"bgp\":{\"ipv4Address\":\"192.0.2.11/40\"}}"), 0,
        "spec.bgp.ipv4Address: invalid CIDR \"192.0.2.11/40\""},
    {NODE("{\"bgp\":{\"ipv6Address\":\"192.0.2.11\"}}"), 0,
        "spec.bgp.ipv6Address: \"192.0.2.11\" is not an IPv6 address"},
    {NODE("{\"bgp\":{\"routeReflectorClusterID\":\"1\"}}"), 0,
        "spec.bgp.routeReflectorClusterID: invalid IP address \"1\""},
    {NODE("{\"bgp\":{}}"), 0, "spec.bgp: must not be empty"},
    {NODE("{\"bgp\":{\"asnumber\":64512}}"), MODEL_STRICT,
        "spec.bgp.asnumber: unknown field"},
    {NODE("{\"vxlanTunnelMACAddr\":\"66:1f:8a:02:3c\"}"), 0,
        "spec.vxlanTunnelMACAddr: invalid MAC address \"66:1f:8a:02:3c\""},
    /* BGPConfiguration */
    {BGPCONF("node.n1", "{\"nodeToNodeMeshEnabled\":false}"), 0,
        "spec.nodeToNodeMeshEnabled: only the \"default\" BGPConfiguration "
        "may set it"},
    {BGPCONF("node.n1", "{\"asNumber\":64512}"), 0,
        "spec.asNumber: only the \"default\" BGPConfiguration may set it"},
    {BGPCONF("global", "{}"), MODEL_STRICT,
        "metadata.name: a BGPConfiguration is named \"default\" or "
        "\"node.<node name>\", not \"global\""},
    {BGPCONF("default", "{\"logSeverityScreen\":\"info\"}"), 0,
        "spec.logSeverityScreen: invalid value \"info\" (expected Debug, "
        "Info, Warning, Error or Fatal)"},
    {BGPCONF("default", "{\"listenPort\":0}"), 0,
        "spec.listenPort: 0 is out of range (1-65535)"},
    {BGPCONF("default", "{\"nodeToNodeMeshEnabled\":\"false\"}"), 0,
        "spec.nodeToNodeMeshEnabled: expected true or false, got \"false\""},
    /* WorkloadEndpoint */
    {WEP("{\"name\":\"n1-k8s-p-eth0\"}", "{}"), 0,
        "metadata.namespace: required"},
    {WEP("{\"name\":\"n1-k8s-p-eth0\",\"namespace\":\"Default\"}", "{}"), 0,
        "metadata.namespace: invalid namespace \"Default\" (a DNS label: "
        "lower case letters, digits and '-')"},
    {WEP(WEPMETA, "{\"ipNetworks\":[\"198.18.0.5/32\",\"198.18.0.0/24\"]}"), 0,
        "spec.ipNetworks[1]: \"198.18.0.0/24\" is not a single address"},
    {WEP(WEPMETA, "{\"ipNetworks\":[\"198.18.0.5/32\",\"x\"]}"), 0,
        "spec.ipNetworks[1]: invalid CIDR \"x\""},
    {WEP(WEPMETA, "{\"profiles\":\"kns.ns\"}"), 0,
        "spec.profiles: expected a list, got \"kns.ns\""},
    {WEP(WEPMETA, "{\"profiles\":[\"kns.ns\",7]}"), 0,
        "spec.profiles[1]: expected a string, got 7"},
    {WEP(WEPMETA, "{\"interfaceName\":\"cali1a2b3c4d5e6f\"}"), 0,
        "spec.interfaceName: invalid interface name \"cali1a2b3c4d5e6f\""},
    {WEP(WEPMETA,
         "{\"orchestrator\":\"k8s\",\"node\":\"n1\",\"pod\":"
         "\"p-1\",\"endpoint\":\"eth0\"}"),
        0,
        "metadata.name: expected \"n1-k8s-p--1-eth0\" (from the spec's node, "
        "orchestrator, workload and endpoint), got \"n1-k8s-p-eth0\""},
    /* the envelope */
    {"[1]", 0, "expected a resource (a map), got a list"},
    {"{\"apiVersion\":\"projectcalico.org/v3\",\"metadata\":{}}", 0,
        "kind: required"},
    {"{\"kind\":\"IPPool\",\"metadata\":{}}", 0, "apiVersion: required"},
    {"{\"kind\":\"ipPool\",\"apiVersion\":\"v1\",\"metadata\":{}}", 0,
        "apiVersion: \"v1\" is Calico's v2.6 API; expected "
        "\"projectcalico.org/v3\""},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"crd.projectcalico.org/v1\","
     "\"metadata\":{}}",
        0,
        "apiVersion: expected \"projectcalico.org/v3\", got "
        "\"crd.projectcalico.org/v1\""},
    {"{\"kind\":\"Profile\",\"apiVersion\":\"projectcalico.org/v3\"}", 0,
        "kind: unknown kind \"Profile\""},
    {"{\"kind\":\"ippool\",\"apiVersion\":\"projectcalico.org/v3\"}", 0,
        "kind: unknown kind \"ippool\" (did you mean \"IPPool\"?)"},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\"}", 0,
        "metadata: required"},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"labels\":{}}}",
        0, "metadata.name: required"},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"name\":\"Pool_A\"}}",
        0,
        "metadata.name: invalid name \"Pool_A\" (lower case letters, digits, "
        "'-' and '.')"},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"name\":\"p\",\"namespace\":\"default\"}}",
        0, "metadata.namespace: IPPool is not namespaced"},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"name\":\"p\",\"labels\":{\"-bad\":\"x\"}}}",
        0, "metadata.labels.-bad: invalid label key \"-bad\""},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"name\":\"p\",\"labels\":{\"tier\":\"a b\"}}}",
        0, "metadata.labels.tier: invalid label value \"a b\""},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"name\":\"p\",\"labels\":{\"tier\":1}}}",
        0, "metadata.labels.tier: expected a string, got 1"},
    {"{\"kind\":\"IPPool\",\"apiVersion\":\"projectcalico.org/v3\","
     "\"metadata\":{\"name\":\"p\"},\"spec\":{\"cidr\":\"198.18.0.0/16\"},"
     "\"status\":{}}",
        MODEL_STRICT, "status: unknown field"},
};

static void
test_invalid(void **state)
{
	char err[MODEL_ERRLEN];
	struct resource r;
	size_t i, n;
	json_t *j;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = parse_json(bad[i].json);
		memset(err, 'x', sizeof(err));
		if (resource_decode_flags(
		        j, bad[i].flags, &r, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", bad[i].json);
		n = strlen(bad[i].err);
		if (n >= 2 && strcmp(bad[i].err + n - 2, ": ") == 0
		        ? strncmp(err, bad[i].err, n) != 0 || strlen(err) <= n
		        : strcmp(err, bad[i].err) != 0)
			fail_msg("%s\nwant: %s\n got: %s", bad[i].json,
			    bad[i].err, err);
		/* nothing leaks, and r is left clean */
		assert_null(r.meta.name);
		assert_null(r.extra);
		json_decref(j);
	}
}

/*
 * spec.mac and vxlanTunnelMACAddr take what Go's net.ParseMAC takes (its
 * test table): 6, 8 and 20 octets, with ':' or '-' between octets, or
 * dotted groups of four hex digits; anything else is refused.
 */
static void
test_mac(void **state)
{
	static const char *const good[] = {
	    "00:00:5e:00:53:01",
	    "02:00:5e:10:00:00:00:01",
	    "00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01",
	    "00-00-5e-00-53-01",
	    "02-00-5e-10-00-00-00-01",
	    "00-00-00-00-fe-80-00-00-00-00-00-00-02-00-5e-10-00-00-00-01",
	    "0000.5e00.5301",
	    "0200.5e10.0000.0001",
	    "0000.0000.fe80.0000.0000.0000.0200.5e10.0000.0001",
	    "0a58.0a00.0005",
	    "AB:CD:EF:ab:cd:ef",
	};
	static const char *const badmac[] = {
	    "01.02.03.04.05.06",
	    "01:02:03:04:05:06:",
	    "x1:02:03:04:05:06",
	    "01002:03:04:05:06",
	    "01:02003:04:05:06",
	    "01:02:03:04:05:06:07",
	    "01:02:03:04:05:06:07:08:09",
	    "01:02-03:04:05:06",
	    "0123.4567.89AB.CDEF.",
	    "0123.4567.89AB.CDE",
	    "0123:4567:89AF",
	    "0123-4567.89ab",
	    "01:02:03:04:05",
	    "0000.5e00.530x",
	    "0000.5e00.53:1",
	    "00:00:5e:00:53:01 ",
	};
	char json[512], err[MODEL_ERRLEN], want[MODEL_ERRLEN];
	struct resource r;
	size_t i;
	json_t *j;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(json, sizeof(json), WEP(WEPMETA, "{\"mac\":\"%s\"}"),
		    good[i]);
		j = parse_json(json);
		if (resource_decode_flags(
		        j, MODEL_STRICT, &r, err, sizeof(err)) == -1)
			fail_msg("refused %s: %s", good[i], err);
		assert_string_equal(r.wep.mac, good[i]);
		resource_clean(&r);
		json_decref(j);
		snprintf(json, sizeof(json),
		    NODE("{\"vxlanTunnelMACAddr\":\"%s\"}"), good[i]);
		j = parse_json(json);
		if (resource_decode_flags(
		        j, MODEL_STRICT, &r, err, sizeof(err)) == -1)
			fail_msg("refused %s: %s", good[i], err);
		assert_string_equal(r.node.vxlan_tunnel_mac, good[i]);
		resource_clean(&r);
		json_decref(j);
	}
	for (i = 0; i < sizeof(badmac) / sizeof(badmac[0]); i++) {
		snprintf(json, sizeof(json), WEP(WEPMETA, "{\"mac\":\"%s\"}"),
		    badmac[i]);
		j = parse_json(json);
		if (resource_decode_flags(j, 0, &r, err, sizeof(err)) == 0)
			fail_msg("accepted \"%s\"", badmac[i]);
		snprintf(want, sizeof(want),
		    "spec.mac: invalid MAC address \"%s\"", badmac[i]);
		assert_string_equal(err, want);
		json_decref(j);
	}
}

/* lenient decoding keeps what it does not know; strict refuses it */
static void
test_unknown_fields(void **state)
{
	const char *text =
	    POOL("{\"cidr\":\"198.18.0.0/16\",\"futureField\":{\"a\":[1]}}");
	char err[MODEL_ERRLEN];
	struct resource r;
	json_t *in, *out;

	in = parse_json(text);
	assert_int_equal(resource_decode(in, &r, err, sizeof(err)), 0);
	out = resource_encode(&r, 0);
	assert_true(json_equal(
	    json_object_get(json_object_get(in, "spec"), "futureField"),
	    json_object_get(json_object_get(out, "spec"), "futureField")));
	json_decref(out);
	resource_clean(&r);
	assert_int_equal(
	    resource_decode_flags(in, MODEL_STRICT, &r, err, sizeof(err)), -1);
	assert_string_equal(err, "spec.futureField: unknown field");
	json_decref(in);

	/* Calico's own fields the model leaves alone pass strict decoding */
	in = load_json("resources/bgpconfig-default.json");
	assert_int_equal(
	    resource_decode_flags(in, MODEL_STRICT, &r, err, sizeof(err)), 0);
	resource_clean(&r);
	json_decref(in);
}

static void
test_resource_version(void **state)
{
	char err[MODEL_ERRLEN], buf[128];
	struct resource r;
	json_t *in, *out;

	in = parse_json(POOL("{\"cidr\":\"198.18.0.0/16\"}"));
	assert_int_equal(resource_decode(in, &r, err, sizeof(err)), 0);
	r.meta.resource_version = strdup("1234");
	out = resource_encode(&r, 0);
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(out, "metadata"), "resourceVersion")),
	    "1234");
	json_decref(out);
	/* stripped on write, as Calico's etcdv3 backend does */
	out = resource_encode(&r, MODEL_NO_RV);
	assert_null(json_object_get(
	    json_object_get(out, "metadata"), "resourceVersion"));
	json_decref(out);
	assert_string_equal(resource_id(&r, buf, sizeof(buf)), "IPPool p");
	resource_clean(&r);
	json_decref(in);

	decode_file("resources/wep.json", &r);
	assert_string_equal(resource_id(&r, buf, sizeof(buf)),
	    "WorkloadEndpoint default/node1-k8s-nginx--7c5d-eth0");
	resource_clean(&r);
}

static void
test_keys(void **state)
{
	static const struct {
		enum model_kind kind;
		const char *ns, *name, *key;
	} keys[] = {
	    {MODEL_NODE, NULL, "node1",
	        "/calico/resources/v3/projectcalico.org/nodes/node1"},
	    {MODEL_BGPCONFIG, NULL, "default",
	        "/calico/resources/v3/projectcalico.org/bgpconfigurations/"
	        "default"},
	    {MODEL_BGPPEER, NULL, "tor-a",
	        "/calico/resources/v3/projectcalico.org/bgppeers/tor-a"},
	    {MODEL_IPPOOL, NULL, "default-ipv4-ippool",
	        "/calico/resources/v3/projectcalico.org/ippools/"
	        "default-ipv4-ippool"},
	    {MODEL_WEP, "default", "node1-k8s-nginx--7c5d-eth0",
	        "/calico/resources/v3/projectcalico.org/workloadendpoints/"
	        "default/node1-k8s-nginx--7c5d-eth0"},
	    {MODEL_CLUSTERINFO, NULL, "default",
	        "/calico/resources/v3/projectcalico.org/clusterinformations/"
	        "default"},
	};
	char buf[256], ns[64], name[256];
	enum model_kind k;
	struct resource r;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		assert_int_equal(model_key(keys[i].kind, keys[i].ns,
		                     keys[i].name, buf, sizeof(buf)),
		    0);
		assert_string_equal(buf, keys[i].key);
		assert_int_equal(model_key_parse(buf, &k, ns, sizeof(ns), name,
		                     sizeof(name)),
		    0);
		assert_int_equal(k, keys[i].kind);
		assert_string_equal(name, keys[i].name);
		assert_string_equal(ns, keys[i].ns != NULL ? keys[i].ns : "");
	}
	decode_file("resources/wep.json", &r);
	assert_int_equal(resource_key(&r, buf, sizeof(buf)), 0);
	assert_string_equal(buf, keys[4].key);
	resource_clean(&r);

	assert_int_equal(
	    model_key_prefix(MODEL_IPPOOL, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(
	    buf, "/calico/resources/v3/projectcalico.org/ippools/");
	assert_int_equal(
	    model_key_prefix(MODEL_WEP, "kube-system", buf, sizeof(buf)), 0);
	assert_string_equal(buf,
	    "/calico/resources/v3/projectcalico.org/"
	    "workloadendpoints/kube-system/");
	assert_int_equal(
	    model_key_prefix(MODEL_WEP, NULL, buf, sizeof(buf)), 0);
	assert_string_equal(
	    buf, "/calico/resources/v3/projectcalico.org/workloadendpoints/");

	/* what cannot be a key */
	assert_int_equal(model_key(MODEL_WEP, NULL, "x", buf, sizeof(buf)), -1);
	assert_int_equal(
	    model_key(MODEL_IPPOOL, NULL, "", buf, sizeof(buf)), -1);
	assert_int_equal(
	    model_key(MODEL_IPPOOL, NULL, "a/b", buf, sizeof(buf)), -1);
	assert_int_equal(model_key(MODEL_IPPOOL, NULL, "p", buf, 10), -1);
	assert_int_equal(
	    model_key_parse("/calico/resources/v3/projectcalico.org/"
	                    "profiles/kns.default",
	        &k, ns, sizeof(ns), name, sizeof(name)),
	    -1);
	assert_int_equal(
	    model_key_parse("/calico/resources/v3/projectcalico.org/"
	                    "workloadendpoints/default",
	        &k, ns, sizeof(ns), name, sizeof(name)),
	    -1);
	assert_int_equal(
	    model_key_parse("/calico/resources/v3/projectcalico.org/"
	                    "ippools/a/b",
	        &k, ns, sizeof(ns), name, sizeof(name)),
	    -1);
	assert_int_equal(model_key_parse("/calico/v1/ipam/v4/pool/x", &k, ns,
	                     sizeof(ns), name, sizeof(name)),
	    -1);
}

static void
test_kinds(void **state)
{
	static const struct {
		const char *cli;
		enum model_kind kind;
	} cli[] = {
	    {"ippool", MODEL_IPPOOL},
	    {"IPPools", MODEL_IPPOOL},
	    {"ipp", MODEL_IPPOOL},
	    {"pool", MODEL_IPPOOL},
	    {"bgpPeer", MODEL_BGPPEER},
	    {"bp", MODEL_BGPPEER},
	    {"nodes", MODEL_NODE},
	    {"bgpconfig", MODEL_BGPCONFIG},
	    {"bgpconfigurations", MODEL_BGPCONFIG},
	    {"wep", MODEL_WEP},
	    {"WorkloadEndpoints", MODEL_WEP},
	    {"clusterinfo", MODEL_CLUSTERINFO},
	};
	const struct model_kind_info *k;
	size_t i;

	for (i = 0; i < sizeof(cli) / sizeof(cli[0]); i++) {
		k = model_kind_lookup(cli[i].cli);
		assert_non_null(k);
		assert_int_equal(k->kind, cli[i].kind);
	}
	assert_null(model_kind_lookup("profile"));
	k = model_kind_by_name("WorkloadEndpoint");
	assert_non_null(k);
	assert_true(k->namespaced);
	assert_string_equal(k->list, "WorkloadEndpointList");
	assert_string_equal(k->plural, "workloadendpoints");
	assert_null(model_kind_by_name("ippool"));
	assert_string_equal(
	    model_kind(MODEL_BGPCONFIG)->name, "BGPConfiguration");
	assert_false(model_kind(MODEL_NODE)->namespaced);
}

static void
test_names(void **state)
{
	char *long_name;

	assert_true(model_name_valid("node1"));
	assert_true(model_name_valid("node1.example.com"));
	assert_true(model_name_valid("a--b"));
	assert_false(model_name_valid(""));
	assert_false(model_name_valid("Node1"));
	assert_false(model_name_valid("-a"));
	assert_false(model_name_valid("a."));
	assert_false(model_name_valid("a..b"));
	assert_false(model_name_valid("a_b"));
	long_name = malloc(256);
	memset(long_name, 'a', 254);
	long_name[254] = '\0';
	assert_false(model_name_valid(long_name));
	long_name[253] = '\0';
	assert_true(model_name_valid(long_name));
	free(long_name);
}

/* the names Calico's v1 -> v3 conversion gives */
static void
test_derived_names(void **state)
{
	static const struct {
		const char *in, *out;
	} norm[] = {
	    {"abc-def", "abc-def"},
	    {"abc---def", "abc---def"},
	    {"abc/def", "abc.def"},
	    {"abc$$def", "abc-def"},
	    {"abc$!$def", "abc-def"},
	    {"abc$-$def", "abc---def"},
	    {"abc..def", "abc.def"},
	    {"abc.-.def", "abc.def"},
	    {"-.abc.-", "abc"},
	    {"Node_1.Example.COM", "node-1.example.com"},
	    {"k8s-node/3", "k8s-node.3"},
	};
	char buf[128];
	struct prefix p;
	struct addr a;
	size_t i;

	for (i = 0; i < sizeof(norm) / sizeof(norm[0]); i++) {
		assert_int_equal(
		    model_name_normalize(norm[i].in, buf, sizeof(buf)), 0);
		assert_string_equal(buf, norm[i].out);
		assert_true(model_name_valid(buf));
	}
	assert_int_equal(model_name_normalize("$$", buf, sizeof(buf)), -1);
	assert_int_equal(model_name_normalize("abcdef", buf, 4), -1);

	assert_int_equal(prefix_parse("198.18.0.0/16", &p), 0);
	assert_int_equal(model_name_from_cidr(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "198-18-0-0-16");
	assert_int_equal(prefix_parse("fd80:24e2:f998:72d6::/64", &p), 0);
	assert_int_equal(model_name_from_cidr(&p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fd80-24e2-f998-72d6---64");
	assert_int_equal(model_name_from_cidr(&p, buf, 8), -1);

	assert_int_equal(addr_parse("192.0.2.1", &a), 0);
	assert_int_equal(model_name_from_ip(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "192-0-2-1");
	assert_int_equal(addr_parse("aa:bb::50", &a), 0);
	assert_int_equal(model_name_from_ip(&a, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00aa-00bb-0000-0000-0000-0000-0000-0050");
	assert_true(model_name_valid(buf));
}

static void
test_wep_name(void **state)
{
	struct model_wep w;
	char buf[128], err[MODEL_ERRLEN];

	memset(&w, 0, sizeof(w));
	w.node = "node-1.example.com";
	w.orchestrator = "k8s";
	w.pod = "web-0";
	w.endpoint = "eth0";
	assert_int_equal(
	    model_wep_name(&w, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "node--1.example.com-k8s-web--0-eth0");

	w.orchestrator = "cni";
	w.container_id = "abc-123";
	assert_int_equal(
	    model_wep_name(&w, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "node--1.example.com-cni-abc--123-eth0");

	w.orchestrator = "libnetwork";
	assert_int_equal(
	    model_wep_name(&w, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(
	    buf, "node--1.example.com-libnetwork-libnetwork-eth0");

	w.orchestrator = "openstack";
	w.workload = "vm1";
	assert_int_equal(
	    model_wep_name(&w, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_string_equal(buf, "node--1.example.com-openstack-vm1-eth0");

	w.endpoint = NULL;
	assert_int_equal(
	    model_wep_name(&w, buf, sizeof(buf), err, sizeof(err)), -1);
	assert_string_equal(err, "spec.endpoint: required");
	w.endpoint = "eth0-";
	assert_int_equal(
	    model_wep_name(&w, buf, sizeof(buf), err, sizeof(err)), -1);
	assert_string_equal(
	    err, "spec.endpoint: \"eth0-\" must not begin or end with '-'");
	w.endpoint = "eth0";
	assert_int_equal(model_wep_name(&w, buf, 10, err, sizeof(err)), -1);
}

static void
test_spec_codecs(void **state)
{
	char err[MODEL_ERRLEN];
	struct model_bgppeer p;
	struct model_wep w;
	struct model_clusterinfo ci;
	struct model_bgpconfig bc;
	json_t *in, *out;

	in = parse_json("{\"peerIP\":\"192.0.2.9:1179\",\"asNumber\":64513}");
	assert_int_equal(
	    model_bgppeer_from_json(in, &p, MODEL_STRICT, err, sizeof(err)), 0);
	assert_int_equal(p.peer_port, 1179);
	out = model_bgppeer_to_json(&p);
	assert_true(json_equal(in, out));
	model_bgppeer_clean(&p);
	json_decref(in);
	json_decref(out);

	/* eight groups: an IPv6 address, no port */
	in = parse_json("{\"peerIP\":\"2001:db8::1:179\",\"asNumber\":1}");
	assert_int_equal(
	    model_bgppeer_from_json(in, &p, MODEL_STRICT, err, sizeof(err)), 0);
	assert_int_equal(p.peer_port, 0);
	assert_string_equal(ntop(&p.peer_ip), "2001:db8::1:179");
	model_bgppeer_clean(&p);
	json_decref(in);

	in = parse_json("{\"ipNetworks\":[\"198.18.0.7\",\"2001:db8::7\"]}");
	assert_int_equal(
	    model_wep_from_json(in, &w, MODEL_STRICT, err, sizeof(err)), 0);
	out = model_wep_to_json(&w);
	/* bare addresses are written as /32 and /128 */
	assert_string_equal(json_string_value(json_array_get(
	                        json_object_get(out, "ipNetworks"), 1)),
	    "2001:db8::7/128");
	model_wep_clean(&w);
	json_decref(in);
	json_decref(out);

	in = parse_json("{\"datastoreReady\":false,\"variant\":\"Calico\"}");
	assert_int_equal(model_clusterinfo_from_json(
	                     in, &ci, MODEL_STRICT, err, sizeof(err)),
	    0);
	assert_int_equal(ci.datastore_ready, MODEL_FALSE);
	out = model_clusterinfo_to_json(&ci);
	assert_true(json_equal(in, out));
	model_clusterinfo_clean(&ci);
	json_decref(in);
	json_decref(out);

	in = parse_json("{\"asNumber\":\"x\"}");
	assert_int_equal(
	    model_bgpconfig_from_json(in, &bc, MODEL_STRICT, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "spec.asNumber: invalid AS number \"x\"");
	json_decref(in);
}

/* ---- files ---- */

static void
test_load(void **state)
{
	char err[MODEL_ERRLEN];
	struct yamljson *yj;
	struct resource *r;
	size_t n, i;

	yj = yamljson_load(MODEL_DIR "/apply.yaml", err, sizeof(err));
	if (yj == NULL)
		fail_msg("%s", err);
	if (resource_load(yj, MODEL_STRICT, &r, &n, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(n, 5);
	assert_int_equal(r[0].kind, MODEL_IPPOOL);
	assert_string_equal(r[0].meta.name, "pool-a");
	assert_int_equal(r[0].ippool.ipip_mode, MODEL_ENCAP_CROSSSUBNET);
	assert_true(r[0].ippool.nat_outgoing);
	assert_int_equal(r[0].ippool.block_size, 26);
	assert_int_equal(r[1].kind, MODEL_BGPCONFIG);
	assert_int_equal(r[1].bgpconfig.node_mesh, MODEL_FALSE);
	assert_int_equal(r[2].kind, MODEL_BGPPEER);
	assert_string_equal(r[2].meta.name, "peer-with-route-reflectors");
	assert_int_equal(r[3].kind, MODEL_BGPPEER);
	assert_int_equal(r[3].bgppeer.asn, 65546);
	assert_int_equal(r[4].kind, MODEL_NODE);
	assert_string_equal(ntop(&r[4].node.bgp.rr_cluster_id), "224.0.0.1");
	for (i = 0; i < n; i++)
		resource_clean(&r[i]);
	free(r);
	yamljson_free(yj);
}

static void
test_load_errors(void **state)
{
	static const struct {
		const char *file;
		const char *err;
	} files[] = {
	    {"bad-cidr.yaml",
	        "%s:14: document 2: spec.cidr: invalid CIDR \"198.19.0.0/33\""},
	    {"bad-kind.yaml",
	        "%s:9: document 2: kind: unknown kind \"GlobalNetworkPolicy\""},
	    {"bad-dup.yaml",
	        "%s:22: document 2: items[1].metadata.name: BGPPeer tor-a "
	        "given twice (also in document 1)"},
	    {"bad-missing.yaml",
	        "%s:8: document 1: items[0].spec.asNumber: required with "
	        "peerIP"},
	    {"bad-yaml.yaml",
	        "%s:12: document 2: did not find expected key (while parsing a "
	        "block mapping)"},
	};
	char path[512], want[1024], err[MODEL_ERRLEN];
	struct yamljson *yj;
	struct resource *r;
	size_t i, n;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", MODEL_DIR, files[i].file);
		snprintf(want, sizeof(want), files[i].err, path);
		r = (struct resource *)1;
		n = 99;
		yj = yamljson_load(path, err, sizeof(err));
		if (yj != NULL) {
			assert_int_equal(resource_load(yj, MODEL_STRICT, &r, &n,
			                     err, sizeof(err)),
			    -1);
			assert_null(r);
			assert_int_equal(n, 0);
			yamljson_free(yj);
		}
		if (strcmp(err, want) != 0)
			fail_msg(
			    "%s\nwant: %s\n got: %s", files[i].file, want, err);
	}

	yj = yamljson_load(MODEL_DIR "/nonexistent.yaml", err, sizeof(err));
	assert_null(yj);
	assert_string_equal(
	    err, MODEL_DIR "/nonexistent.yaml: No such file or directory");
}

/* a top-level list, and an empty file */
static void
test_load_lists(void **state)
{
	const char *text = "- apiVersion: projectcalico.org/v3\n"
	                   "  kind: IPPool\n"
	                   "  metadata: {name: a}\n"
	                   "  spec: {cidr: 198.18.0.0/16}\n"
	                   "- apiVersion: projectcalico.org/v3\n"
	                   "  kind: IPPool\n"
	                   "  metadata: {name: b}\n"
	                   "  spec: {cidr: 198.19.0.0/16, blockSize: 40}\n";
	char err[MODEL_ERRLEN];
	struct yamljson *yj;
	struct resource *r;
	size_t n;

	yj = yamljson_parse(text, strlen(text), "list.yaml", err, sizeof(err));
	assert_non_null(yj);
	assert_int_equal(resource_load(yj, 0, &r, &n, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "list.yaml:8: document 1: [1].spec.blockSize: "
	    "40 is out of range for an IPv4 pool (20-32)");
	yamljson_free(yj);

	yj = yamljson_parse("# nothing\n", 10, "empty.yaml", err, sizeof(err));
	assert_non_null(yj);
	assert_int_equal(resource_load(yj, 0, &r, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	free(r);
	yamljson_free(yj);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_node_values),
	    cmocka_unit_test(test_bgp_values),
	    cmocka_unit_test(test_bgpconfig_defaults),
	    cmocka_unit_test(test_pool_wep_values),
	    cmocka_unit_test(test_pool_defaults),
	    cmocka_unit_test(test_asn_forms),
	    cmocka_unit_test(test_invalid),
	    cmocka_unit_test(test_mac),
	    cmocka_unit_test(test_unknown_fields),
	    cmocka_unit_test(test_resource_version),
	    cmocka_unit_test(test_keys),
	    cmocka_unit_test(test_kinds),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_derived_names),
	    cmocka_unit_test(test_wep_name),
	    cmocka_unit_test(test_spec_codecs),
	    cmocka_unit_test(test_load),
	    cmocka_unit_test(test_load_errors),
	    cmocka_unit_test(test_load_lists),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
