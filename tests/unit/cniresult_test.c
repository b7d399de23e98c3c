/*
 * cni/result.c: results of every CNI version as plugins print them
 * (0.1.0/0.2.0 ip4/ip6, 0.3.x/0.4.0 ips with version, 1.0.0/1.1.0
 * interfaces with sandbox/mac/mtu), the round trip through
 * cni_result_encode() for every version we speak, and bad input with the
 * message naming the field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cni/cni.h"

static json_t *
load(const char *s)
{
	json_error_t jerr;
	json_t *o = json_loads(s, 0, &jerr);

	if (o == NULL)
		fail_msg("vector is not JSON: %s: %s", jerr.text, s);
	return o;
}

static const char *
pfx(const struct prefix *p)
{
	static char buf[4][PREFIX_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return prefix_ntop(p, buf[i], sizeof(buf[i]));
}

static const char *
adr(const struct addr *a)
{
	static char buf[4][ADDR_STRLEN];
	static int i;

	i = (i + 1) % 4;
	return addr_ntop(a, buf[i], sizeof(buf[i]));
}

/* Decoding v, encoding as version gives back exactly v (as JSON). */
static void
assert_reencodes(const json_t *v, const char *version)
{
	struct cni_result res;
	struct cni_error err;
	json_t *again;
	char *s;

	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	s = cni_result_encode(&res, version, &err);
	assert_non_null(s);
	again = load(s);
	if (!json_equal(again, v))
		fail_msg("%s re-encoded as %s", version, s);
	json_decref(again);
	free(s);
}

static const char v020[] =
    "{\"cniVersion\":\"0.2.0\","
    "\"ip4\":{\"ip\":\"198.18.0.5/24\",\"gateway\":\"198.18.0.1\","
    "\"routes\":[{\"dst\":\"0.0.0.0/0\"},"
    "{\"dst\":\"198.51.100.0/24\",\"gw\":\"198.18.0.254\"}]},"
    "\"ip6\":{\"ip\":\"2001:db8::5/64\",\"gateway\":\"2001:db8::1\","
    "\"routes\":[{\"dst\":\"::/0\"}]},"
    "\"dns\":{\"nameservers\":[\"192.0.2.53\",\"2001:db8::53\"],"
    "\"domain\":\"example.org\",\"search\":[\"a.example.org\","
    "\"b.example.org\"],\"options\":[\"ndots:5\"]}}";

static void
test_legacy(void **state)
{
	struct cni_result res;
	struct cni_error err;
	json_t *v;

	(void)state;
	v = load(v020);
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nifaces, 0);
	assert_int_equal(res.nips, 2);
	assert_string_equal(pfx(&res.ips[0].address), "198.18.0.5/24");
	assert_string_equal(adr(&res.ips[0].gateway), "198.18.0.1");
	assert_int_equal(res.ips[0].iface, -1);
	assert_string_equal(pfx(&res.ips[1].address), "2001:db8::5/64");
	assert_string_equal(adr(&res.ips[1].gateway), "2001:db8::1");
	assert_int_equal(res.nroutes, 3);
	assert_string_equal(pfx(&res.routes[0].dst), "0.0.0.0/0");
	assert_int_equal(res.routes[0].gw.family, 0);
	assert_string_equal(pfx(&res.routes[1].dst), "198.51.100.0/24");
	assert_string_equal(adr(&res.routes[1].gw), "198.18.0.254");
	assert_string_equal(pfx(&res.routes[2].dst), "::/0");
	assert_int_equal(res.dns.nnameservers, 2);
	assert_string_equal(res.dns.nameservers[1], "2001:db8::53");
	assert_string_equal(res.dns.domain, "example.org");
	assert_int_equal(res.dns.nsearch, 2);
	assert_string_equal(res.dns.search[1], "b.example.org");
	assert_int_equal(res.dns.noptions, 1);
	assert_string_equal(res.dns.options[0], "ndots:5");
	assert_reencodes(v, "0.2.0");
	json_decref(v);

	/* 0.1.0, IPv4 only, no dns; no cniVersion at all reads the same */
	v = load("{\"cniVersion\":\"0.1.0\",\"ip4\":{\"ip\":\"10.0.0.2/8\"},"
	         "\"dns\":{}}");
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nips, 1);
	assert_int_equal(res.nroutes, 0);
	assert_reencodes(v, "0.1.0");
	json_decref(v);
	v = load("{\"ip6\":{\"ip\":\"2001:db8::2/64\"}}");
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nips, 1);
	assert_int_equal(res.ips[0].address.a.family, AF_INET6);
	json_decref(v);
}

static const char v040[] =
    "{\"cniVersion\":\"0.4.0\","
    "\"interfaces\":[{\"name\":\"cali12345\",\"mac\":\"ee:ee:ee:ee:ee:ee\"},"
    "{\"name\":\"eth0\",\"sandbox\":\"/var/run/netns/pod\"}],"
    "\"ips\":[{\"version\":\"4\",\"interface\":1,"
    "\"address\":\"198.18.0.5/32\",\"gateway\":\"169.254.1.1\"},"
    "{\"version\":\"6\",\"address\":\"2001:db8::5/128\"}],"
    "\"routes\":[{\"dst\":\"0.0.0.0/0\"},{\"dst\":\"::/0\","
    "\"gw\":\"fe80::ecee:eeff:feee:eeee\"}],"
    "\"dns\":{}}";

static void
test_v04(void **state)
{
	struct cni_result res;
	struct cni_error err;
	json_t *v;
	char *s;

	(void)state;
	v = load(v040);
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nifaces, 2);
	assert_string_equal(res.ifaces[0].name, "cali12345");
	assert_string_equal(res.ifaces[0].mac, "ee:ee:ee:ee:ee:ee");
	assert_null(res.ifaces[0].sandbox);
	assert_string_equal(res.ifaces[1].sandbox, "/var/run/netns/pod");
	assert_int_equal(res.nips, 2);
	assert_int_equal(res.ips[0].iface, 1);
	assert_string_equal(adr(&res.ips[0].gateway), "169.254.1.1");
	assert_int_equal(res.ips[1].iface, -1);
	assert_string_equal(pfx(&res.ips[1].address), "2001:db8::5/128");
	assert_int_equal(res.nroutes, 2);
	assert_string_equal(
	    adr(&res.routes[1].gw), "fe80::ecee:eeff:feee:eeee");
	assert_int_equal(res.dns.nnameservers, 0);
	assert_reencodes(v, "0.4.0");
	json_decref(v);

	/* 0.3.1 is the same shape */
	s = strdup(v040);
	memcpy(strstr(s, "0.4.0"), "0.3.1", 5);
	v = load(s);
	assert_reencodes(v, "0.3.1");
	json_decref(v);
	free(s);
}

static const char v110[] =
    "{\"cniVersion\":\"1.1.0\","
    "\"interfaces\":[{\"name\":\"cali12345\",\"mac\":\"ee:ee:ee:ee:ee:ee\"},"
    "{\"name\":\"eth0\",\"mac\":\"0a:58:c6:12:00:05\",\"mtu\":1440,"
    "\"sandbox\":\"/var/run/netns/pod\"}],"
    "\"ips\":[{\"interface\":1,\"address\":\"198.18.0.5/32\"},"
    "{\"interface\":1,\"address\":\"2001:db8::5/128\"}],"
    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"}],"
    "\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"search\":["
    "\"default.svc.cluster.local\"]}}";

static void
test_v1(void **state)
{
	struct cni_result res;
	struct cni_error err;
	json_t *v;
	char *s;

	(void)state;
	v = load(v110);
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nifaces, 2);
	assert_int_equal(res.ifaces[0].mtu, 0);
	assert_int_equal(res.ifaces[1].mtu, 1440);
	assert_string_equal(res.ifaces[1].mac, "0a:58:c6:12:00:05");
	assert_int_equal(res.ips[0].iface, 1);
	assert_int_equal(res.ips[1].iface, 1);
	assert_string_equal(adr(&res.routes[0].gw), "169.254.1.1");
	assert_string_equal(res.dns.nameservers[0], "10.96.0.10");
	assert_null(res.dns.domain);
	assert_reencodes(v, "1.1.0");
	json_decref(v);

	/* 1.0.0 has no interface mtu */
	s = strdup(v110);
	memcpy(strstr(s, "1.1.0"), "1.0.0", 5);
	memcpy(strstr(s, "\"mtu\":1440,"), "\"zzz\":1440,", 11);
	v = load(s);
	free(s);
	json_object_del(
	    json_array_get(json_object_get(v, "interfaces"), 1), "zzz");
	assert_reencodes(v, "1.0.0");
	json_decref(v);
}

/* Unknown fields anywhere are ignored; null is absent. */
static void
test_tolerant(void **state)
{
	struct cni_result res;
	struct cni_error err;
	json_t *v;

	(void)state;
	v = load("{\"cniVersion\":\"1.1.0\",\"extra\":{\"a\":[1]},"
	         "\"interfaces\":[{\"name\":\"eth0\",\"socketPath\":\"/s\","
	         "\"pciID\":\"0000:00:01.0\",\"mac\":null}],"
	         "\"ips\":[{\"address\":\"198.18.0.5/24\",\"interface\":0,"
	         "\"gateway\":null,\"x\":1}],"
	         "\"routes\":[{\"dst\":\"198.51.100.0/24\",\"mtu\":1400,"
	         "\"advmss\":1360,\"priority\":10,\"table\":100,"
	         "\"scope\":0}],\"dns\":null}");
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nifaces, 1);
	assert_null(res.ifaces[0].mac);
	assert_int_equal(res.ips[0].gateway.family, 0);
	assert_int_equal(res.nroutes, 1);
	json_decref(v);

	/* a version we do not know: read by shape */
	v = load("{\"cniVersion\":\"9.9.9\",\"ips\":[{\"address\":"
	         "\"198.18.0.5/24\"}]}");
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nips, 1);
	json_decref(v);
	/* DNS lists longer than ours are cut, not refused */
	v = load("{\"cniVersion\":\"1.0.0\",\"dns\":{\"search\":[\"a\",\"b\","
	         "\"c\",\"d\",\"e\",\"f\"],\"nameservers\":[\"192.0.2.1\"]}}");
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.dns.nsearch, CNI_MAX_DNS);
	assert_string_equal(res.dns.search[CNI_MAX_DNS - 1], "d");
	json_decref(v);
	v = load("{}");
	assert_int_equal(cni_result_decode(v, &res, &err), 0);
	assert_int_equal(res.nips, 0);
	json_decref(v);
}

/* A result built in C survives encode -> decode -> encode at every version. */
static void
test_round_trip(void **state)
{
	struct cni_result res, back;
	struct cni_error err;
	json_t *v;
	char *s1, *s2;
	size_t i;
	bool legacy;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.ifaces[0].name = "cali0";
	res.ifaces[0].mac = "ee:ee:ee:ee:ee:ee";
	res.ifaces[1].name = "eth0";
	res.ifaces[1].sandbox = "/var/run/netns/p";
	res.ifaces[1].mtu = 1480;
	res.nifaces = 2;
	assert_int_equal(prefix_parse("198.18.3.4/26", &res.ips[0].address), 0);
	assert_int_equal(addr_parse("198.18.3.1", &res.ips[0].gateway), 0);
	res.ips[0].iface = 1;
	assert_int_equal(
	    prefix_parse("2001:db8:1::4/128", &res.ips[1].address), 0);
	res.ips[1].iface = 1;
	res.nips = 2;
	assert_int_equal(prefix_parse("0.0.0.0/0", &res.routes[0].dst), 0);
	assert_int_equal(addr_parse("198.18.3.1", &res.routes[0].gw), 0);
	assert_int_equal(prefix_parse("::/0", &res.routes[1].dst), 0);
	res.nroutes = 2;
	res.dns.nameservers[0] = "192.0.2.53";
	res.dns.nnameservers = 1;
	res.dns.domain = "cluster.local";

	for (i = 0; cni_versions[i] != NULL; i++) {
		legacy = strcmp(cni_versions[i], "0.3.0") < 0;
		s1 = cni_result_encode(&res, cni_versions[i], &err);
		assert_non_null(s1);
		v = load(s1);
		assert_int_equal(cni_result_decode(v, &back, &err), 0);
		s2 = cni_result_encode(&back, cni_versions[i], &err);
		assert_non_null(s2);
		if (strcmp(s1, s2) != 0)
			fail_msg("%s: %s became %s", cni_versions[i], s1, s2);
		assert_int_equal(back.nips, 2);
		assert_int_equal(back.nroutes, 2);
		assert_int_equal(
		    prefix_cmp(&back.ips[0].address, &res.ips[0].address), 0);
		assert_int_equal(
		    prefix_cmp(&back.ips[1].address, &res.ips[1].address), 0);
		assert_int_equal(
		    addr_cmp(&back.routes[0].gw, &res.routes[0].gw), 0);
		assert_string_equal(back.dns.domain, "cluster.local");
		assert_int_equal(back.nifaces, legacy ? 0 : 2);
		assert_int_equal(back.ips[0].iface, legacy ? -1 : 1);
		if (!legacy)
			assert_string_equal(
			    back.ifaces[1].sandbox, "/var/run/netns/p");
		if (strcmp(cni_versions[i], "1.1.0") == 0)
			assert_int_equal(back.ifaces[1].mtu, 1480);
		json_decref(v);
		free(s1);
		free(s2);
	}
}

struct bad {
	const char *json;
	const char *msg;
};

static const struct bad bad[] = {
    {"[]", "result: not an object"},
    {"{\"cniVersion\":1}", "cniVersion: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"a\"},"
     "{\"name\":\"b\"}],\"ips\":[{\"address\":\"198.18.0.1/32\","
     "\"interface\":0},{\"address\":\"198.18.0.2/32\",\"interface\":3}]}",
        "ips[1].interface: index 3 out of range (2 interfaces)"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.0.1/32\","
     "\"interface\":0}]}",
        "ips[0].interface: index 0 out of range (0 interfaces)"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"a\"}],"
     "\"ips\":[{\"address\":\"198.18.0.1/32\",\"interface\":-1}]}",
        "ips[0].interface: index -1 out of range (1 interfaces)"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"a\"}],"
     "\"ips\":[{\"address\":\"198.18.0.1/32\",\"interface\":\"0\"}]}",
        "ips[0].interface: not an integer"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.0.1/32\"},"
     "{\"address\":\"198.18.0.2\"}]}",
        "ips[1].address: not a CIDR: \"198.18.0.2\""},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.0.1/33\"}]}",
        "ips[0].address: not a CIDR: \"198.18.0.1/33\""},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"fe80::1%lo/64\"}]}",
        "ips[0].address: not a CIDR: \"fe80::1%lo/64\""},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"gateway\":\"198.18.0.1\"}]}",
        "ips[0].address: missing"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":5}]}",
        "ips[0].address: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.0.1/24\","
     "\"gateway\":\"198.18.0.300\"}]}",
        "ips[0].gateway: not an IP address: \"198.18.0.300\""},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.0.1/24\","
     "\"gateway\":\"2001:db8::1\"}]}",
        "ips[0].gateway: not the family of address"},
    {"{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":\"6\","
     "\"address\":\"198.18.0.1/24\"}]}",
        "ips[0].version: \"6\" does not match the address"},
    {"{\"cniVersion\":\"0.4.0\",\"ips\":[{\"version\":4,"
     "\"address\":\"198.18.0.1/24\"}]}",
        "ips[0].version: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":{}}", "ips: not an array"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[\"198.18.0.1/24\"]}",
        "ips[0]: not an object"},
    {"{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":\"198.18.0.1/32\"},"
     "{\"address\":\"198.18.0.2/32\"},{\"address\":\"198.18.0.3/32\"},"
     "{\"address\":\"198.18.0.4/32\"},{\"address\":\"198.18.0.5/32\"}]}",
        "ips: too many entries (max 4)"},
    {"{\"cniVersion\":\"1.0.0\",\"routes\":[{\"dst\":\"10.0.0.0/8\"},"
     "{\"dst\":\"10.0.0.0/8\"},{\"dst\":\"10.0.0.0/8\"},{\"dst\":\"10.0.0.0/"
     "8\"},"
     "{\"dst\":\"10.0.0.0/8\"},{\"dst\":\"10.0.0.0/8\"},{\"dst\":\"10.0.0.0/"
     "8\"},"
     "{\"dst\":\"10.0.0.0/8\"},{\"dst\":\"10.0.0.0/8\"}]}",
        "routes: too many entries (max 8)"},
    {"{\"cniVersion\":\"1.0.0\",\"dns\":{\"search\":[\"a\",\"b\",\"c\","
     "\"d\",\"e\",7]}}",
        "dns.search[5]: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":\"eth0\"}",
        "interfaces: not an array"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"mac\":\"x\"}]}",
        "interfaces[0].name: missing"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":1}]}",
        "interfaces[0].name: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"a\","
     "\"sandbox\":false}]}",
        "interfaces[0].sandbox: not a string"},
    {"{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"a\","
     "\"mtu\":-1}]}",
        "interfaces[0].mtu: not an integer in 0-65535"},
    {"{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":\"a\","
     "\"mtu\":\"1500\"}]}",
        "interfaces[0].mtu: not an integer in 0-65535"},
    {"{\"cniVersion\":\"1.0.0\",\"routes\":[{\"gw\":\"198.18.0.1\"}]}",
        "routes[0].dst: missing"},
    {"{\"cniVersion\":\"1.0.0\",\"routes\":[{\"dst\":\"0.0.0.0/0\"},"
     "{\"dst\":\"::/0\",\"gw\":\"x\"}]}",
        "routes[1].gw: not an IP address: \"x\""},
    {"{\"cniVersion\":\"1.0.0\",\"routes\":[{\"dst\":\"10.0.0.0\"}]}",
        "routes[0].dst: not a CIDR: \"10.0.0.0\""},
    {"{\"cniVersion\":\"1.0.0\",\"dns\":[]}", "dns: not an object"},
    {"{\"cniVersion\":\"1.0.0\",\"dns\":{\"nameservers\":[\"a\",2]}}",
        "dns.nameservers[1]: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"dns\":{\"domain\":[]}}",
        "dns.domain: not a string"},
    {"{\"cniVersion\":\"1.0.0\",\"dns\":{\"search\":\"a\"}}",
        "dns.search: not an array"},
    {"{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"2001:db8::1/64\"}}",
        "ip4.ip: not an IPv4 address"},
    {"{\"cniVersion\":\"0.2.0\",\"ip6\":{\"ip\":\"198.18.0.1/24\"}}",
        "ip6.ip: not an IPv6 address"},
    {"{\"cniVersion\":\"0.2.0\",\"ip4\":{\"gateway\":\"198.18.0.1\"}}",
        "ip4.ip: missing"},
    {"{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"198.18.0.1/24\","
     "\"gateway\":\"2001:db8::1\"}}",
        "ip4.gateway: not an IPv4 address"},
    {"{\"cniVersion\":\"0.1.0\",\"ip4\":{\"ip\":\"198.18.0.1/24\","
     "\"routes\":[{\"dst\":1}]}}",
        "ip4.routes[0].dst: not a string"},
    {"{\"cniVersion\":\"0.1.0\",\"ip4\":\"198.18.0.1/24\"}",
        "ip4: not an object"},
};

static void
test_bad(void **state)
{
	struct cni_result res;
	struct cni_error err;
	json_t *v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = load(bad[i].json);
		memset(&err, 0, sizeof(err));
		if (cni_result_decode(v, &res, &err) != -1)
			fail_msg("accepted: %s", bad[i].json);
		assert_int_equal(err.code, CNI_ERR_DECODE);
		if (strcmp(err.msg, bad[i].msg) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", bad[i].json,
			    err.msg, bad[i].msg);
		/* nothing half-decoded is left behind */
		assert_int_equal(res.nips + res.nifaces + res.nroutes, 0);
		json_decref(v);
	}
	assert_int_equal(cni_result_decode(NULL, &res, &err), -1);
	assert_int_equal(err.code, CNI_ERR_DECODE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_legacy),
	    cmocka_unit_test(test_v04),
	    cmocka_unit_test(test_v1),
	    cmocka_unit_test(test_tolerant),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
