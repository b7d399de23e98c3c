/*
 * store/model_ipam.c: the IPAM tree of calico.md §2.  Blocks, affinities,
 * handles and the config of each Calico era survive decode -> encode
 * unchanged; block helpers keep Calico's invariants (allocation from the
 * front of unallocated, release to the back, shared attributes removed and
 * renumbered when unused); keys come out exactly as Calico writes them;
 * broken blocks are refused with the field named.
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

#define IPAM_DIR TEST_DATA_DIR "/model/ipam"

static json_t *
load_json(const char *name)
{
	char path[512];
	json_error_t e;
	json_t *j;

	snprintf(path, sizeof(path), "%s/%s", IPAM_DIR, name);
	j = json_load_file(path, 0, &e);
	if (j == NULL)
		fail_msg("%s:%d: %s", path, e.line, e.text);
	return j;
}

static void
same_json(const char *what, const json_t *a, const json_t *b)
{
	char *x, *y;

	if (json_equal(a, b))
		return;
	x = json_dumps(a, JSON_SORT_KEYS);
	y = json_dumps(b, JSON_SORT_KEYS);
	fail_msg("%s:\nwant: %s\n got: %s", what, x, y);
}

static struct addr
A(const char *s) {
	struct addr a;

	if (addr_parse(s, &a) == -1)
		fail_msg("bad address %s", s);
	return a;
}

static struct prefix
P(const char *s) {
	struct prefix p;

	if (prefix_parse(s, &p) == -1)
		fail_msg("bad prefix %s", s);
	return p;
}

static const char *
ntop(const struct addr *a)
{
	static char buf[ADDR_STRLEN];

	return addr_ntop(a, buf, sizeof(buf));
}

static void
test_block_roundtrip(void **state)
{
	static const char *const files[] = {
	    "block-v2.6.json", "block-v3.json", "block-v3.21.json"};
	char err[MODEL_ERRLEN];
	struct model_block b;
	json_t *in, *out;
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		in = load_json(files[i]);
		if (model_block_from_json(in, &b, err, sizeof(err)) == -1)
			fail_msg("%s: %s", files[i], err);
		out = model_block_to_json(&b);
		same_json(files[i], in, out);
		json_decref(out);
		json_decref(in);
		model_block_clean(&b);
	}
}

static void
test_block_values(void **state)
{
	const struct model_ipam_attr *at;
	char err[MODEL_ERRLEN];
	struct model_block b;
	struct addr a;
	json_t *in;

	in = load_json("block-v3.json");
	assert_int_equal(model_block_from_json(in, &b, err, sizeof(err)), 0);
	json_decref(in);
	assert_int_equal(b.nords, 64);
	assert_string_equal(b.affinity, "host:node1");
	assert_string_equal(model_block_host(&b), "node1");
	assert_int_equal(b.strict_affinity, MODEL_FALSE);
	assert_int_equal(b.deleted, MODEL_UNSET);
	assert_int_equal(b.nattrs, 2);
	assert_int_equal(model_block_nfree(&b), 61);
	/* ordinal 3 was released last: it sits at the back */
	assert_int_equal(b.unallocated[0], 4);
	assert_int_equal(b.unallocated[60], 3);
	at = model_block_attr(&b, 0);
	assert_string_equal(at->handle_id, "ipip-tunnel-addr-node1");
	assert_string_equal(
	    model_labels_get(&at->secondary, "type"), "ipipTunnelAddress");
	at = model_block_attr(&b, 2);
	assert_string_equal(at->handle_id, "k8s-pod-network.0123456789abcdef");
	assert_string_equal(
	    model_labels_get(&at->secondary, "pod"), "nginx-7c5d");
	assert_null(model_block_attr(&b, 3));
	assert_null(model_block_attr(&b, 64));
	assert_false(model_block_empty(&b));

	/* the next pod gets ordinal 4, not the freed 3 */
	assert_int_equal(
	    model_block_assign(&b, "k8s-pod-network.aaaa", NULL, &a), 0);
	assert_string_equal(ntop(&a), "198.18.0.68");
	model_block_clean(&b);

	in = load_json("block-v3.21.json");
	assert_int_equal(model_block_from_json(in, &b, err, sizeof(err)), 0);
	json_decref(in);
	assert_null(b.affinity);
	assert_null(model_block_host(&b));
	assert_int_equal(b.strict_affinity, MODEL_UNSET);
	assert_int_equal(b.deleted, MODEL_FALSE);
	assert_int_equal(
	    json_integer_value(json_object_get(b.extra, "sequenceNumber")), 7);
	model_block_clean(&b);
}

/* calico.md §2's block, built from nothing */
static void
test_block_new(void **state)
{
	struct model_labels sec = {NULL, 0}, sec2 = {NULL, 0};
	struct prefix cidr = P("198.18.0.0/26");
	struct model_block b;
	struct addr a;
	json_t *j;
	int i;

	model_block_init(&b, &cidr, "node1");
	assert_int_equal(b.nords, 64);
	assert_int_equal(model_block_nfree(&b), 64);
	assert_true(model_block_empty(&b));
	j = model_block_to_json(&b);
	assert_string_equal(
	    json_string_value(json_object_get(j, "cidr")), "198.18.0.0/26");
	assert_string_equal(
	    json_string_value(json_object_get(j, "affinity")), "host:node1");
	assert_true(json_is_false(json_object_get(j, "strictAffinity")));
	assert_true(json_is_false(json_object_get(j, "deleted")));
	assert_int_equal(
	    json_array_size(json_object_get(j, "allocations")), 64);
	assert_true(json_is_null(
	    json_array_get(json_object_get(j, "allocations"), 63)));
	assert_int_equal(
	    json_array_size(json_object_get(j, "unallocated")), 64);
	assert_int_equal(json_array_size(json_object_get(j, "attributes")), 0);
	json_decref(j);

	/* the tunnel address, with no handle: the block's base (calico.md §6)
	 */
	assert_int_equal(model_block_assign(&b, NULL, NULL, &a), 0);
	assert_string_equal(ntop(&a), "198.18.0.0");
	model_labels_set(&sec, "node", "node1");
	model_labels_set(&sec, "pod", "p");
	model_labels_set(&sec, "namespace", "ns");
	assert_int_equal(model_block_assign(&b, "net.c1", &sec, &a), 0);
	assert_string_equal(ntop(&a), "198.18.0.1");
	/* the same handle and secondary share one attribute entry */
	assert_int_equal(model_block_assign(&b, "net.c1", &sec, &a), 0);
	assert_string_equal(ntop(&a), "198.18.0.2");
	assert_int_equal(b.nattrs, 2);
	assert_int_equal(b.allocations[1], 1);
	assert_int_equal(b.allocations[2], 1);
	/* equal labels in another order are still equal */
	model_labels_set(&sec2, "namespace", "ns");
	model_labels_set(&sec2, "pod", "p");
	model_labels_set(&sec2, "node", "node1");
	assert_int_equal(model_block_assign(&b, "net.c1", &sec2, &a), 0);
	assert_int_equal(b.nattrs, 2);
	assert_int_equal(model_block_assign(&b, "net.c2", NULL, &a), 0);
	assert_string_equal(ntop(&a), "198.18.0.4");
	assert_int_equal(b.nattrs, 3);
	assert_int_equal(model_block_nfree(&b), 59);

	/* a given address */
	assert_int_equal(
	    model_block_assign_addr(&b, &(struct addr){0}, "x", NULL), -1);
	a = A("198.18.0.4");
	assert_int_equal(model_block_assign_addr(&b, &a, "x", NULL), -1);
	a = A("198.18.0.64");
	assert_int_equal(model_block_assign_addr(&b, &a, "x", NULL), -1);
	a = A("198.18.0.40");
	assert_int_equal(model_block_assign_addr(&b, &a, "net.c3", NULL), 0);
	assert_int_equal(b.allocations[40], 3);
	assert_int_equal(model_block_nfree(&b), 58);
	for (i = 0; i < (int)b.nunallocated; i++)
		assert_int_not_equal(b.unallocated[i], 40);

	/* releasing c1's first address keeps its attribute */
	a = A("198.18.0.1");
	assert_int_equal(model_block_release(&b, &a), 0);
	assert_int_equal(model_block_release(&b, &a), -1);
	assert_int_equal(b.nattrs, 4);
	assert_int_equal(b.unallocated[b.nunallocated - 1], 1);
	/* releasing the tunnel's drops attribute 0 and renumbers the rest */
	a = A("198.18.0.0");
	assert_int_equal(model_block_release(&b, &a), 0);
	assert_int_equal(b.nattrs, 3);
	assert_string_equal(b.attrs[0].handle_id, "net.c1");
	assert_int_equal(b.allocations[2], 0);
	assert_int_equal(b.allocations[3], 0);
	assert_int_equal(b.allocations[4], 1);
	assert_int_equal(b.allocations[40], 2);
	assert_int_equal(b.unallocated[b.nunallocated - 2], 1);
	assert_int_equal(b.unallocated[b.nunallocated - 1], 0);
	/* the next allocation comes from the front: ordinal 5 */
	assert_int_equal(model_block_assign(&b, "net.c4", NULL, &a), 0);
	assert_string_equal(ntop(&a), "198.18.0.5");

	/* encode -> decode keeps all of it */
	{
		struct model_block b2;
		char err[MODEL_ERRLEN];
		json_t *j2;

		j = model_block_to_json(&b);
		assert_int_equal(
		    model_block_from_json(j, &b2, err, sizeof(err)), 0);
		j2 = model_block_to_json(&b2);
		same_json("rebuilt block", j, j2);
		json_decref(j);
		json_decref(j2);
		model_block_clean(&b2);
	}

	/* fill it up */
	while (model_block_assign(&b, "fill", NULL, &a) == 0)
		;
	assert_int_equal(model_block_nfree(&b), 0);
	assert_int_equal(model_block_assign(&b, "fill", NULL, &a), -1);
	model_block_clean(&b);
	model_block_init(&b, &cidr, NULL);
	assert_null(b.affinity);
	model_block_clean(&b);
	model_labels_clean(&sec);
	model_labels_clean(&sec2);
}

static void
test_block_v6(void **state)
{
	struct prefix cidr, p;
	struct model_block b;
	struct addr a;
	char buf[PREFIX_STRLEN];

	a = A("2001:db8:1::1:2345");
	assert_int_equal(model_block_cidr_for(&a, 122, &cidr), 0);
	assert_string_equal(
	    prefix_ntop(&cidr, buf, sizeof(buf)), "2001:db8:1::1:2340/122");
	model_block_init(&b, &cidr, "node2");
	assert_int_equal(b.nords, 64);
	assert_int_equal(model_block_ordinal(&b, &a), 5);
	model_block_addr(&b, 63, &a);
	assert_string_equal(ntop(&a), "2001:db8:1::1:237f");
	a = A("2001:db8:1::1:2380");
	assert_int_equal(model_block_ordinal(&b, &a), -1);
	a = A("198.18.0.1");
	assert_int_equal(model_block_ordinal(&b, &a), -1);
	model_block_clean(&b);

	/* block sizes Calico allows, and the CIDR of an address */
	a = A("198.18.3.77");
	assert_int_equal(model_block_cidr_for(&a, 26, &p), 0);
	assert_string_equal(
	    prefix_ntop(&p, buf, sizeof(buf)), "198.18.3.64/26");
	assert_int_equal(model_block_cidr_for(&a, 32, &p), 0);
	assert_string_equal(
	    prefix_ntop(&p, buf, sizeof(buf)), "198.18.3.77/32");
	assert_int_equal(model_block_cidr_for(&a, 20, &p), 0);
	assert_string_equal(prefix_ntop(&p, buf, sizeof(buf)), "198.18.0.0/20");
	assert_int_equal(model_block_cidr_for(&a, 19, &p), -1);
	assert_int_equal(model_block_cidr_for(&a, 122, &p), -1);
	a = A("2001:db8::1");
	assert_int_equal(model_block_cidr_for(&a, 115, &p), -1);
	assert_int_equal(model_block_cidr_for(&a, 128, &p), 0);

	/* a /20 has 4096 ordinals: the largest block */
	a = A("198.18.17.1");
	assert_int_equal(model_block_cidr_for(&a, 20, &p), 0);
	model_block_init(&b, &p, "n");
	assert_int_equal(b.nords, MODEL_BLOCK_MAX_ORDS);
	a = A("198.18.31.255");
	assert_int_equal(model_block_ordinal(&b, &a), 4095);
	model_block_clean(&b);
}

struct bad {
	const char *json;
	const char *err;
};

#define ALLOC4 "[null,null,null,null]"

static const struct bad bad_blocks[] = {
    {"[]", "expected a block (a map), got a list"},
    {"{\"allocations\":" ALLOC4 "}", "cidr: required"},
    {"{\"cidr\":\"198.18.0.1/30\",\"allocations\":" ALLOC4 "}",
        "cidr: \"198.18.0.1/30\" has host bits set"},
    {"{\"cidr\":\"198.18.0.0/19\",\"allocations\":[]}",
        "cidr: /19 is not a valid block size"},
    {"{\"cidr\":\"2001:db8::/64\",\"allocations\":[]}",
        "cidr: /64 is not a valid block size"},
    {"{\"cidr\":\"198.18.0.0/30\"}", "allocations: required"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":[null]}",
        "allocations: 1 entries for a block of 4 addresses"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":[null,0,null,null]}",
        "allocations[1]: attribute index 0 out of range (0 attributes)"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":[null,\"0\",null,null]}",
        "allocations[1]: expected an attribute index, got \"0\""},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":[0,null,null,null],"
     "\"attributes\":[{\"handle_id\":null,\"secondary\":null}],"
     "\"unallocated\":[1,2,0]}",
        "unallocated[2]: ordinal 0 is allocated"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4
     ",\"unallocated\":[1,1]}",
        "unallocated[1]: ordinal 1 listed twice"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4
     ",\"unallocated\":[4]}",
        "unallocated[0]: ordinal 4 outside the block (0-3)"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4
     ",\"unallocated\":\"0\"}",
        "unallocated: expected a list, got \"0\""},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4
     ",\"attributes\":[{\"handle_id\":5}]}",
        "attributes[0].handle_id: expected a string, got 5"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4
     ",\"attributes\":[{\"secondary\":{\"node\":true}}]}",
        "attributes[0].secondary.node: expected a string, got true"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4 ",\"affinity\":7}",
        "affinity: expected a string, got 7"},
    {"{\"cidr\":\"198.18.0.0/30\",\"allocations\":" ALLOC4
     ",\"strictAffinity\":\"false\"}",
        "strictAffinity: expected true or false, got \"false\""},
};

static void
test_block_invalid(void **state)
{
	char err[MODEL_ERRLEN];
	struct model_block b;
	json_error_t e;
	size_t i;
	json_t *j;

	for (i = 0; i < sizeof(bad_blocks) / sizeof(bad_blocks[0]); i++) {
		j = json_loads(bad_blocks[i].json, JSON_DECODE_ANY, &e);
		assert_non_null(j);
		if (model_block_from_json(j, &b, err, sizeof(err)) == 0)
			fail_msg("accepted: %s", bad_blocks[i].json);
		if (strcmp(err, bad_blocks[i].err) != 0)
			fail_msg("%s\nwant: %s\n got: %s", bad_blocks[i].json,
			    bad_blocks[i].err, err);
		assert_null(b.allocations);
		json_decref(j);
	}
}

static void
test_affinity(void **state)
{
	static const char *const files[] = {
	    "affinity-v2.6.json", "affinity-v3.json"};
	char err[MODEL_ERRLEN];
	struct model_affinity a;
	json_t *in, *out;
	size_t i;

	for (i = 0; i < 2; i++) {
		in = load_json(files[i]);
		assert_int_equal(
		    model_affinity_from_json(in, &a, err, sizeof(err)), 0);
		assert_int_equal(
		    a.state, i == 0 ? MODEL_AFF_NONE : MODEL_AFF_CONFIRMED);
		out = model_affinity_to_json(&a);
		same_json(files[i], in, out);
		json_decref(in);
		json_decref(out);
		model_affinity_clean(&a);
	}
	assert_string_equal(
	    model_affinity_state_name(MODEL_AFF_PENDING_DELETION),
	    "pendingDeletion");
	in = json_loads("{\"state\":\"claimed\"}", 0, NULL);
	assert_int_equal(
	    model_affinity_from_json(in, &a, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "state: invalid value \"claimed\" (expected "
	    "pending, confirmed or pendingDeletion)");
	json_decref(in);
	in = json_loads("{\"state\":\"pending\",\"deleted\":true}", 0, NULL);
	assert_int_equal(model_affinity_from_json(in, &a, err, sizeof(err)), 0);
	assert_int_equal(a.state, MODEL_AFF_PENDING);
	assert_int_equal(a.deleted, MODEL_TRUE);
	model_affinity_clean(&a);
	json_decref(in);
}

static void
test_handle(void **state)
{
	static const char *const files[] = {"handle.json", "handle-v3.21.json"};
	struct prefix b1 = P("198.18.0.64/26"), b2 = P("198.18.1.0/26");
	char err[MODEL_ERRLEN];
	struct model_handle h;
	json_t *in, *out, *want;
	size_t i;

	for (i = 0; i < 2; i++) {
		in = load_json(files[i]);
		assert_int_equal(
		    model_handle_from_json(in, &h, err, sizeof(err)), 0);
		out = model_handle_to_json(&h);
		same_json(files[i], in, out);
		json_decref(in);
		json_decref(out);
		if (i == 0) {
			assert_int_equal(h.n, 1);
			assert_int_equal(h.v[0].count, 2);
			assert_int_equal(prefix_cmp(&h.v[0].cidr, &b1), 0);
		}
		model_handle_clean(&h);
	}

	/* incremented before the block CAS, rolled back if it fails */
	memset(&h, 0, sizeof(h));
	assert_int_equal(model_handle_add(&h, &b1, 1), 0);
	assert_int_equal(model_handle_add(&h, &b2, 1), 0);
	assert_int_equal(model_handle_add(&h, &b1, 1), 0);
	out = model_handle_to_json(&h);
	want = json_loads(
	    "{\"block\":{\"198.18.0.64/26\":2,\"198.18.1.0/26\":1}}", 0, NULL);
	same_json("handle after adds", want, out);
	json_decref(out);
	json_decref(want);
	assert_int_equal(model_handle_add(&h, &b1, -3), -1);
	assert_int_equal(model_handle_add(&h, &b1, -2), 0);
	assert_int_equal(h.n, 1);
	assert_int_equal(model_handle_add(&h, &b2, -1), 0);
	assert_int_equal(h.n, 0);
	assert_int_equal(model_handle_add(&h, &b2, -1), -1);
	assert_int_equal(model_handle_add(&h, &b2, 0), 0);
	assert_int_equal(h.n, 0);
	model_handle_clean(&h);

	in = json_loads("{\"block\":{\"198.18.0.64-26\":1}}", 0, NULL);
	assert_int_equal(model_handle_from_json(in, &h, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "block.198.18.0.64-26: invalid CIDR "
	    "\"198.18.0.64-26\"");
	json_decref(in);
	in = json_loads("{\"block\":{\"198.18.0.64/26\":-1}}", 0, NULL);
	assert_int_equal(model_handle_from_json(in, &h, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "block.198.18.0.64/26: expected a count, got -1");
	json_decref(in);
}

static void
test_ipamconfig(void **state)
{
	static const char *const files[] = {"config.json", "config-v3.json"};
	char err[MODEL_ERRLEN];
	struct model_ipamconfig ic;
	json_t *in, *out;
	size_t i;

	for (i = 0; i < 2; i++) {
		in = load_json(files[i]);
		assert_int_equal(
		    model_ipamconfig_from_json(in, &ic, err, sizeof(err)), 0);
		out = model_ipamconfig_to_json(&ic);
		same_json(files[i], in, out);
		json_decref(in);
		json_decref(out);
		if (i == 1) {
			assert_int_equal(ic.strict_affinity, MODEL_TRUE);
			/* Go's omitempty: an absent member is false */
			assert_int_equal(ic.auto_allocate_blocks, MODEL_UNSET);
			assert_int_equal(ic.max_blocks_per_host, 4);
		}
		model_ipamconfig_clean(&ic);
	}
	/* no config key: strict off, auto-allocation on */
	model_ipamconfig_init(&ic);
	out = model_ipamconfig_to_json(&ic);
	in = load_json("config.json");
	same_json("default config", in, out);
	json_decref(in);
	json_decref(out);
	model_ipamconfig_clean(&ic);
}

static void
test_keys(void **state)
{
	struct prefix p4 = P("10.0.0.0/26"), p6 = P("2001:db8:1::/122"), p;
	char buf[256], host[64];

	assert_int_equal(model_cidr_key(&p4, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.0-26");
	assert_int_equal(model_cidr_from_key("10.0.0.0-26", &p), 0);
	assert_int_equal(prefix_cmp(&p, &p4), 0);
	assert_int_equal(model_cidr_from_key("10.0.0.0/26", &p), -1);
	assert_int_equal(model_cidr_from_key("10.0.0.0", &p), -1);

	assert_int_equal(model_block_key(&p4, buf, sizeof(buf)), 0);
	assert_string_equal(
	    buf, "/calico/ipam/v2/assignment/ipv4/block/10.0.0.0-26");
	assert_int_equal(model_block_key_parse(buf, &p), 0);
	assert_int_equal(prefix_cmp(&p, &p4), 0);
	assert_int_equal(model_block_key(&p6, buf, sizeof(buf)), 0);
	assert_string_equal(
	    buf, "/calico/ipam/v2/assignment/ipv6/block/2001:db8:1::-122");
	assert_int_equal(model_block_key_parse(buf, &p), 0);
	assert_int_equal(prefix_cmp(&p, &p6), 0);
	assert_int_equal(model_block_key_prefix(AF_INET, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/calico/ipam/v2/assignment/ipv4/block/");
	assert_int_equal(model_block_key_prefix(AF_INET6, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/calico/ipam/v2/assignment/ipv6/block/");
	assert_int_equal(model_block_key_prefix(0, buf, sizeof(buf)), -1);
	assert_int_equal(
	    model_block_key_parse(
	        "/calico/ipam/v2/assignment/ipv6/block/10.0.0.0-26", &p),
	    -1);
	assert_int_equal(
	    model_block_key_parse("/calico/ipam/v2/assignment/ipv4/block/", &p),
	    -1);
	assert_int_equal(model_block_key(&p4, buf, 20), -1);

	assert_int_equal(model_affinity_key("node1", &p4, buf, sizeof(buf)), 0);
	assert_string_equal(
	    buf, "/calico/ipam/v2/host/node1/ipv4/block/10.0.0.0-26");
	assert_int_equal(
	    model_affinity_key_parse(buf, host, sizeof(host), &p), 0);
	assert_string_equal(host, "node1");
	assert_int_equal(prefix_cmp(&p, &p4), 0);
	assert_int_equal(
	    model_affinity_key("n.example.com", &p6, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
	    "/calico/ipam/v2/host/n.example.com/ipv6/"
	    "block/2001:db8:1::-122");
	assert_int_equal(
	    model_affinity_key_parse(buf, host, sizeof(host), &p), 0);
	assert_string_equal(host, "n.example.com");
	assert_int_equal(model_affinity_key_parse(buf, host, 4, &p), -1);
	assert_int_equal(model_affinity_key("a/b", &p4, buf, sizeof(buf)), -1);
	assert_int_equal(model_affinity_key("", &p4, buf, sizeof(buf)), -1);
	assert_int_equal(
	    model_affinity_key_prefix("node1", AF_INET, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/calico/ipam/v2/host/node1/ipv4/block/");
	assert_int_equal(
	    model_affinity_key_prefix(NULL, AF_INET, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/calico/ipam/v2/host/");
	assert_int_equal(
	    model_affinity_key_parse("/calico/ipam/v2/host/node1/ipv4/block",
	        host, sizeof(host), &p),
	    -1);
	assert_int_equal(model_affinity_key_parse(
	                     "/calico/ipam/v2/host//ipv4/block/10.0.0.0-26",
	                     host, sizeof(host), &p),
	    -1);

	assert_int_equal(model_handle_key("k8s-pod-network.0123456789abcdef",
	                     buf, sizeof(buf)),
	    0);
	assert_string_equal(
	    buf, "/calico/ipam/v2/handle/k8s-pod-network.0123456789abcdef");
	assert_int_equal(model_handle_key_parse(buf, host, sizeof(host)), 0);
	assert_string_equal(host, "k8s-pod-network.0123456789abcdef");
	assert_int_equal(
	    model_handle_key("ipip-tunnel-addr-node1", buf, sizeof(buf)), 0);
	assert_string_equal(
	    buf, "/calico/ipam/v2/handle/ipip-tunnel-addr-node1");
	assert_int_equal(model_handle_key("", buf, sizeof(buf)), -1);
	assert_int_equal(model_handle_key("a/b", buf, sizeof(buf)), -1);
	assert_int_equal(
	    model_handle_key_parse("/calico/ipam/v2/handle/", host, 64), -1);
	assert_string_equal(MODEL_IPAM_CONFIG_KEY, "/calico/ipam/v2/config");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_roundtrip),
	    cmocka_unit_test(test_block_values),
	    cmocka_unit_test(test_block_new),
	    cmocka_unit_test(test_block_v6),
	    cmocka_unit_test(test_block_invalid),
	    cmocka_unit_test(test_affinity),
	    cmocka_unit_test(test_handle),
	    cmocka_unit_test(test_ipamconfig),
	    cmocka_unit_test(test_keys),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
