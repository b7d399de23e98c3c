/*
 * node/autodetect.c and node/startup_env.c: Calico's IP autodetection
 * methods run over made-up interface lists (every method, the backwards
 * walk over the kernel's link order, an address on two links, the list
 * built in dump order, the default skip list and its anchoring, IPv4
 * and IPv6, what counts as global unicast, Go regular expressions as POSIX
 * ones), bad methods with their messages, and startup_config_parse() over
 * made-up environments (defaults, Calico's spellings, every refusal).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/log.h"
#include "lib/nl_link.h"
#include "node/node.h"
#include "store/model.h"
#include "store/store.h"

#define NITEMS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixtures ---- */

/*
 * A host as Calico meets them: lo first, the uplinks, then what container
 * runtimes and CNIs add (all of which first-found must skip).
 */
static void
host_list(struct autodetect_iflist *l)
{
	static const char *const lo[] = {"127.0.0.1/8", "::1/128"};
	static const char *const eth0[] = {"169.254.7.7/16", "192.0.2.10/24",
	    "192.0.2.11/24", "fe80::1/64", "2001:db8:1::10/64"};
	static const char *const eth1[] = {
	    "198.51.100.10/24", "2001:db8:2::10/64"};
	static const char *const docker0[] = {"172.17.0.1/16"};
	static const char *const tunl0[] = {"198.18.0.1/32"};
	static const char *const vx[] = {"198.18.0.65/32"};
	static const char *const cali[] = {"198.18.0.66/32"};
	static const char *const veth[] = {"10.9.9.9/24"};
	static const char *const kube[] = {"10.96.0.1/32"};
	static const char *const cni0[] = {"10.244.0.1/24"};
	static const char *const flannel[] = {"10.244.0.0/32"};
	static const char *const lo1[] = {"10.8.8.8/32"};
	static const char *const nld[] = {"169.254.20.10/32", "10.7.7.7/32"};

	memset(l, 0, sizeof(*l));
	autodetect_iflist_add(l, 1, "lo", lo, NITEMS(lo));
	autodetect_iflist_add(l, 2, "eth0", eth0, NITEMS(eth0));
	autodetect_iflist_add(l, 3, "eth1", eth1, NITEMS(eth1));
	autodetect_iflist_add(l, 4, "docker0", docker0, NITEMS(docker0));
	autodetect_iflist_add(l, 5, "tunl0", tunl0, NITEMS(tunl0));
	autodetect_iflist_add(l, 6, "vxlan.calico", vx, NITEMS(vx));
	autodetect_iflist_add(l, 7, "cali1234abcd", cali, NITEMS(cali));
	autodetect_iflist_add(l, 8, "veth0ab", veth, NITEMS(veth));
	autodetect_iflist_add(l, 9, "kube-ipvs0", kube, NITEMS(kube));
	autodetect_iflist_add(l, 10, "cni0", cni0, NITEMS(cni0));
	autodetect_iflist_add(l, 11, "flannel.1", flannel, NITEMS(flannel));
	autodetect_iflist_add(l, 12, "lo1", lo1, NITEMS(lo1));
	autodetect_iflist_add(l, 13, "nodelocaldns", nld, NITEMS(nld));
	autodetect_iflist_add(l, 14, "dummy0", lo1, NITEMS(lo1));
	autodetect_iflist_add(l, 15, "virbr0", veth, NITEMS(veth));
	autodetect_iflist_add(l, 16, "lxcbr0", veth, NITEMS(veth));
	autodetect_iflist_add(l, 17, "cbr0", veth, NITEMS(veth));
	autodetect_iflist_add(l, 18, "wireguard.cali", veth, NITEMS(veth));
}

struct ad_case {
	const char *method;
	int family;
	const char *want; /* "addr/len on ifname", or NULL: error */
	const char *errpart; /* a piece of the error */
};

static void
run_cases(
    const struct autodetect_iflist *l, const struct ad_case *cases, size_t n)
{
	struct autodetect_result res;
	struct autodetect *ad;
	char err[NODE_ERRLEN], got[128], p[PREFIX_STRLEN];
	const char *var;
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		var = cases[i].family == AF_INET ? "IP_AUTODETECTION_METHOD"
		                                 : "IP6_AUTODETECTION_METHOD";
		ad = autodetect_parse(var, cases[i].method, err, sizeof(err));
		if (ad == NULL)
			fail_msg("%s: %s", cases[i].method, err);
		err[0] = '\0';
		rc = autodetect_select(
		    ad, cases[i].family, l, NULL, &res, err, sizeof(err));
		if (cases[i].want == NULL) {
			if (rc != -1)
				fail_msg("%s: want an error, got %s on %s",
				    cases[i].method,
				    prefix_ntop(&res.prefix, p, sizeof(p)),
				    res.ifname);
			if (strncmp(err, var, strlen(var)) != 0 ||
			    strstr(err, cases[i].errpart) == NULL)
				fail_msg("%s: error \"%s\" lacks \"%s\"",
				    cases[i].method, err, cases[i].errpart);
		} else {
			if (rc != 0)
				fail_msg("%s: %s", cases[i].method, err);
			snprintf(got, sizeof(got), "%s on %s",
			    prefix_ntop(&res.prefix, p, sizeof(p)), res.ifname);
			if (strcmp(got, cases[i].want) != 0)
				fail_msg("%s (IPv%d): want %s, got %s",
				    cases[i].method,
				    cases[i].family == AF_INET ? 4 : 6,
				    cases[i].want, got);
		}
		autodetect_free(ad);
	}
}

/* ---- methods ---- */

static void
test_first_found(void **state)
{
	static const struct ad_case cases[] = {
	    /* reverse index order: eth1 (3) before eth0 (2); every later
	     * interface is on the default skip list */
	    {"", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    {"first-found", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    {"first-found", AF_INET6, "2001:db8:2::10/64 on eth1", NULL},
	};
	struct autodetect_iflist l;

	host_list(&l);
	run_cases(&l, cases, NITEMS(cases));
	autodetect_iflist_clean(&l);
}

static void
test_first_found_order(void **state)
{
	static const char *const a[] = {"169.254.1.1/16", "127.0.0.2/8",
	    "224.0.0.1/4", "0.0.0.0/0", "255.255.255.255/32", "192.0.2.5/24",
	    "192.0.2.6/24"};
	static const char *const b[] = {"203.0.113.9/24"};
	static const char *const c6[] = {"fe80::9/64", "ff02::1/128", "::/128",
	    "::ffff:127.0.0.1/128", "2001:db8::9/64"};
	static const char *const none[] = {"fe80::1/64", "169.254.0.1/16"};
	static const struct ad_case cases[] = {
	    /* ens3 comes last by index and so first; only its IPv6 link
	     * local address: no IPv6 there, on to the next */
	    {"first-found", AF_INET, "203.0.113.9/24 on ens3", NULL},
	    {"first-found", AF_INET6, "2001:db8::9/64 on ens2b", NULL},
	    /* the first global unicast address of the interface */
	    {"skip-interface=ens3", AF_INET, "192.0.2.5/24 on ens2", NULL},
	};
	struct autodetect_iflist l;

	memset(&l, 0, sizeof(l));
	autodetect_iflist_add(&l, 2, "ens2", a, NITEMS(a));
	autodetect_iflist_add(&l, 3, "ens2b", c6, NITEMS(c6));
	autodetect_iflist_add(&l, 7, "ens3", b, NITEMS(b));
	autodetect_iflist_add(&l, 9, "ens4", none, NITEMS(none));
	run_cases(&l, cases, NITEMS(cases));
	autodetect_iflist_clean(&l);

	/* an anchored skip list: "eth-lo" and "my-veth" are not skipped,
	 * "lo2" is */
	{
		static const char *const x[] = {"192.0.2.1/24"};
		static const char *const y[] = {"192.0.2.2/24"};
		static const char *const z[] = {"192.0.2.3/24"};
		static const struct ad_case anch[] = {
		    {"first-found", AF_INET, "192.0.2.2/24 on my-veth", NULL},
		    {"skip-interface=my-.*", AF_INET, "192.0.2.1/24 on eth-lo",
		        NULL},
		};

		memset(&l, 0, sizeof(l));
		autodetect_iflist_add(&l, 1, "eth-lo", x, 1);
		autodetect_iflist_add(&l, 2, "my-veth", y, 1);
		autodetect_iflist_add(&l, 3, "lo2", z, 1);
		run_cases(&l, anch, NITEMS(anch));
		autodetect_iflist_clean(&l);
	}
}

static void
test_interface(void **state)
{
	static const struct ad_case cases[] = {
	    /* unanchored, as Go's MatchString: veth0ab holds "eth0" and
	     * comes later (the IPv6 row: veth0ab has none, eth0 has) */
	    {"interface=eth0", AF_INET, "10.9.9.9/24 on veth0ab", NULL},
	    {"interface=eth0", AF_INET6, "2001:db8:1::10/64 on eth0", NULL},
	    {"interface=^eth0", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"interface=^eth.*", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    {"interface=th1", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    {"interface=^eth0$", AF_INET6, "2001:db8:1::10/64 on eth0", NULL},
	    /* a list, blanks around the commas */
	    {"interface=eth9 , ^eth0", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    /* no default skip list: docker0 is allowed when asked for */
	    {"interface=docker0", AF_INET, "172.17.0.1/16 on docker0", NULL},
	    /* Go syntax: \d, (?i), (?:), lazy quantifiers, [\d] */
	    {"interface=^eth\\d", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    {"interface=(?i)^ETH0$", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"interface=^(?:eth)0", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"interface=^et.+?0$", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"interface=eth[\\d]+$", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    /*
	     * counted repetitions up to Go's 1000 copies (no {n,m}: a comma
	     * separates expressions, in Calico too); a lone { is literal
	     */
	    {"interface=^e(t{1}){1}h0$", AF_INET, "192.0.2.10/24 on eth0",
	        NULL},
	    {"interface=^(e(t){10}){100}h1|^eth1", AF_INET,
	        "198.51.100.10/24 on eth1", NULL},
	    {"interface=eth{0", AF_INET, NULL, "no host interface"},
	    {"interface=^et??h*?0+?$", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"interface=vxlan\\.calico", AF_INET,
	        "198.18.0.65/32 on vxlan.calico", NULL},
	    {"interface=vxlan\\.", AF_INET, "198.18.0.65/32 on vxlan.calico",
	        NULL},
	    {"interface=eth9", AF_INET, NULL, "no host interface"},
	    {"interface=lo$", AF_INET, NULL, "no global unicast IPv4"},
	};
	struct autodetect_iflist l;

	host_list(&l);
	run_cases(&l, cases, NITEMS(cases));
	autodetect_iflist_clean(&l);
}

static void
test_skip_interface(void **state)
{
	static const struct ad_case cases[] = {
	    {"skip-interface=eth1", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"skip-interface=eth1", AF_INET6, "2001:db8:1::10/64 on eth0",
	        NULL},
	    {"skip-interface=eth9,eth1", AF_INET, "192.0.2.10/24 on eth0",
	        NULL},
	    /* the defaults still apply: nothing but eth* was left */
	    {"skip-interface=eth.*", AF_INET, NULL, "no host interface"},
	};
	struct autodetect_iflist l;

	host_list(&l);
	run_cases(&l, cases, NITEMS(cases));
	autodetect_iflist_clean(&l);
}

static void
test_cidr(void **state)
{
	static const struct ad_case cases[] = {
	    {"cidr=198.51.100.0/24", AF_INET, "198.51.100.10/24 on eth1", NULL},
	    {"cidr=203.0.113.0/24, 192.0.2.0/24", AF_INET,
	        "192.0.2.10/24 on eth0", NULL},
	    /* host bits allowed (Go's ParseCIDR masks them) */
	    {"cidr=192.0.2.77/24", AF_INET, "192.0.2.10/24 on eth0", NULL},
	    {"cidr=192.0.2.77/26", AF_INET, NULL, "no global unicast IPv4"},
	    /* no skip list: the highest index in the range wins */
	    {"cidr=10.0.0.0/8", AF_INET, "10.9.9.9/24 on wireguard.cali", NULL},
	    {"cidr=2001:db8:1::/48", AF_INET6, "2001:db8:1::10/64 on eth0",
	        NULL},
	    /* global unicast only: the link-local one is in range but out */
	    {"cidr=169.254.0.0/16", AF_INET, NULL, "no global unicast IPv4"},
	    {"cidr=203.0.113.0/24", AF_INET, NULL, "no global unicast IPv4"},
	    {"cidr=192.0.2.0/24", AF_INET6, NULL, "no global unicast IPv6"},
	};
	struct autodetect_iflist l;

	host_list(&l);
	run_cases(&l, cases, NITEMS(cases));
	autodetect_iflist_clean(&l);
}

static void
test_can_reach(void **state)
{
	struct autodetect_iflist l;
	struct autodetect_result res;
	struct autodetect *ad;
	struct addr a;
	char err[NODE_ERRLEN], p[PREFIX_STRLEN];

	host_list(&l);
	ad = autodetect_parse(
	    "IP_AUTODETECTION_METHOD", "can-reach=8.8.8.8", err, sizeof(err));
	assert_non_null(ad);
	assert_int_equal(autodetect_kind(ad), AUTODETECT_CAN_REACH);

	/* the address the kernel would use, with its interface's length,
	 * whatever the interface (no skip list) */
	assert_int_equal(model_addr_parse("192.0.2.11", &a), 0);
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, &a, &res, err, sizeof(err)), 0);
	assert_string_equal(
	    prefix_ntop(&res.prefix, p, sizeof(p)), "192.0.2.11/24");
	assert_string_equal(res.ifname, "eth0");
	assert_int_equal(res.ifindex, 2);
	assert_int_equal(model_addr_parse("198.18.0.66", &a), 0);
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, &a, &res, err, sizeof(err)), 0);
	assert_string_equal(res.ifname, "cali1234abcd");

	/* an address on no interface */
	assert_int_equal(model_addr_parse("203.0.113.1", &a), 0);
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, &a, &res, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "203.0.113.1, is on no local interface"));
	assert_int_equal(strncmp(err, "IP_AUTODETECTION_METHOD: ", 25), 0);
	/* none found, or of the other family */
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, NULL, &res, err, sizeof(err)),
	    -1);
	assert_int_equal(model_addr_parse("2001:db8:1::10", &a), 0);
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, &a, &res, err, sizeof(err)), -1);
	autodetect_free(ad);

	/* real lookups through a UDP connect to loopback: no packet */
	{
		static const char *const lo[] = {"127.0.0.1/8"};
		static const char *const methods[] = {"can-reach=127.0.0.1",
		    "can-reach=localhost", "can-reach=[127.0.0.1]"};
		struct autodetect_iflist ll;
		size_t i;

		memset(&ll, 0, sizeof(ll));
		autodetect_iflist_add(&ll, 1, "lo", lo, 1);
		for (i = 0; i < NITEMS(methods); i++) {
			ad = autodetect_parse("IP_AUTODETECTION_METHOD",
			    methods[i], err, sizeof(err));
			assert_non_null(ad);
			if (autodetect_run(
			        ad, AF_INET, &ll, &res, err, sizeof(err)) != 0)
				fail_msg("%s: %s", methods[i], err);
			assert_string_equal(
			    prefix_ntop(&res.prefix, p, sizeof(p)),
			    "127.0.0.1/8");
			autodetect_free(ad);
		}
		ad = autodetect_parse("IP_AUTODETECTION_METHOD",
		    "can-reach=no-such-host.invalid", err, sizeof(err));
		assert_non_null(ad);
		assert_int_equal(
		    autodetect_run(ad, AF_INET, &ll, &res, err, sizeof(err)),
		    -1);
		assert_non_null(strstr(err, "can-reach=no-such-host.invalid"));
		autodetect_free(ad);
		autodetect_iflist_clean(&ll);
	}
	autodetect_iflist_clean(&l);
}

static void
test_bad_methods(void **state)
{
	static const struct {
		const char *var, *method, *errpart;
	} cases[] = {
	    {"IP_AUTODETECTION_METHOD", "bogus", "unknown method \"bogus\""},
	    {"IP_AUTODETECTION_METHOD", "first-found=eth0", "unknown method"},
	    {"IP_AUTODETECTION_METHOD", "Interface=eth0", "unknown method"},
	    {"IP6_AUTODETECTION_METHOD",
	        "interface=", "interface= needs a comma-separated list"},
	    {"IP_AUTODETECTION_METHOD", "interface=eth0,,eth1", "none empty"},
	    {"IP_AUTODETECTION_METHOD",
	        "skip-interface=", "skip-interface= needs"},
	    {"IP_AUTODETECTION_METHOD", "interface=eth[",
	        "bad regular expression \"eth[\""},
	    {"IP_AUTODETECTION_METHOD", "interface=eth(0",
	        "bad regular expression"},
	    {"IP_AUTODETECTION_METHOD", "interface=\\beth0",
	        "\\b is not supported"},
	    {"IP_AUTODETECTION_METHOD", "interface=(?P<n>eth)",
	        "(?P is not supported"},
	    {"IP_AUTODETECTION_METHOD", "interface=eth0\\", "trailing"},
	    {"IP_AUTODETECTION_METHOD", "interface=[\\]]", "inside [...]"},
	    /* Go's limit of 1000 copies; glibc would expand these */
	    {"IP_AUTODETECTION_METHOD", "interface=e{1001}",
	        "invalid repeat count"},
	    {"IP_AUTODETECTION_METHOD", "interface=(e{100}){11}",
	        "invalid nested repetition"},
	    {"IP_AUTODETECTION_METHOD", "interface=((e{10}x){10}){11}",
	        "invalid nested repetition"},
	    {"IP_AUTODETECTION_METHOD", "interface=e{999}{999}{999}",
	        "invalid nested repetition"},
	    {"IP_AUTODETECTION_METHOD", "interface=e+++", "invalid nested"},
	    {"IP_AUTODETECTION_METHOD", "interface=e???", "invalid nested"},
	    {"IP_AUTODETECTION_METHOD", "interface=e*{2}", "invalid nested"},
	    {"IP_AUTODETECTION_METHOD", "cidr=", "cidr= needs"},
	    {"IP_AUTODETECTION_METHOD", "cidr=10.0.0.0/33",
	        "invalid CIDR \"10.0.0.0/33\""},
	    {"IP_AUTODETECTION_METHOD", "cidr=10.0.0.0", "invalid CIDR"},
	    {"IP_AUTODETECTION_METHOD", "cidr=10.0.0.0/8,bogus",
	        "invalid CIDR \"bogus\""},
	    {"IP_AUTODETECTION_METHOD", "can-reach=", "can-reach= needs"},
	    {"IP_AUTODETECTION_METHOD", "can-reach=a b", "can-reach= needs"},
	    {"IP_AUTODETECTION_METHOD", "kubernetes-internal-ip",
	        "Kubernetes API"},
	};
	char err[NODE_ERRLEN];
	size_t i;

	for (i = 0; i < NITEMS(cases); i++) {
		err[0] = '\0';
		if (autodetect_parse(cases[i].var, cases[i].method, err,
		        sizeof(err)) != NULL)
			fail_msg("%s: parsed", cases[i].method);
		if (strncmp(err, cases[i].var, strlen(cases[i].var)) != 0 ||
		    err[strlen(cases[i].var)] != ':' ||
		    strstr(err, cases[i].errpart) == NULL)
			fail_msg("%s: error \"%s\" lacks \"%s\"",
			    cases[i].method, err, cases[i].errpart);
	}
}

static void
test_global_unicast(void **state)
{
	static const struct {
		const char *a;
		bool want;
	} cases[] = {
	    {"192.0.2.1", true},
	    {"10.0.0.1", true},
	    {"100.64.0.1", true},
	    {"0.0.0.0", false},
	    {"127.0.0.1", false},
	    {"127.255.0.9", false},
	    {"169.254.1.1", false},
	    {"224.0.0.5", false},
	    {"239.1.1.1", false},
	    {"255.255.255.255", false},
	    {"2001:db8::1", true},
	    {"fd00::1", true},
	    {"::", false},
	    {"::1", false},
	    {"fe80::1", false},
	    {"febf::1", false},
	    {"fec0::1", true},
	    {"ff02::1", false},
	    {"::ffff:192.0.2.1", true},
	    {"::ffff:127.0.0.1", false},
	    {"::2", true},
	};
	struct addr a;
	size_t i;

	for (i = 0; i < NITEMS(cases); i++) {
		assert_int_equal(model_addr_parse(cases[i].a, &a), 0);
		if (autodetect_global_unicast(&a) != cases[i].want)
			fail_msg("%s: want %d", cases[i].a, cases[i].want);
	}
	memset(&a, 0, sizeof(a));
	assert_false(autodetect_global_unicast(&a));
}

static void
test_find(void **state)
{
	struct autodetect_iflist l;
	struct autodetect_result res;
	struct addr a;
	char p[PREFIX_STRLEN];

	host_list(&l);
	assert_int_equal(model_addr_parse("192.0.2.11", &a), 0);
	assert_int_equal(autodetect_find(&l, &a, &res), 0);
	assert_string_equal(
	    prefix_ntop(&res.prefix, p, sizeof(p)), "192.0.2.11/24");
	assert_string_equal(res.ifname, "eth0");
	assert_int_equal(model_addr_parse("2001:db8:2::10", &a), 0);
	assert_int_equal(autodetect_find(&l, &a, &res), 0);
	assert_int_equal(res.prefix.len, 64);
	assert_string_equal(res.ifname, "eth1");
	assert_int_equal(model_addr_parse("192.0.2.99", &a), 0);
	assert_int_equal(autodetect_find(&l, &a, &res), -1);
	autodetect_iflist_clean(&l);
}

/*
 * One address on two links, a /32 on lo and a /24 on eth0: Calico's
 * ReachDestination (can-reach) and GetLocalCIDR (a bare IP) walk
 * GetInterfaces' list, net.Interfaces backwards, so eth0's /24 wins.
 */
static void
test_find_order(void **state)
{
	static const char *const lo[] = {"127.0.0.1/8", "10.0.0.5/32"};
	static const char *const eth0[] = {"10.0.0.5/24"};
	struct autodetect_iflist l;
	struct autodetect_result res;
	struct autodetect *ad;
	struct addr a;
	char err[NODE_ERRLEN], p[PREFIX_STRLEN];

	memset(&l, 0, sizeof(l));
	autodetect_iflist_add(&l, 1, "lo", lo, NITEMS(lo));
	autodetect_iflist_add(&l, 2, "eth0", eth0, NITEMS(eth0));
	assert_int_equal(model_addr_parse("10.0.0.5", &a), 0);
	assert_int_equal(autodetect_find(&l, &a, &res), 0);
	assert_string_equal(
	    prefix_ntop(&res.prefix, p, sizeof(p)), "10.0.0.5/24");
	assert_string_equal(res.ifname, "eth0");
	ad = autodetect_parse(
	    "IP_AUTODETECTION_METHOD", "can-reach=10.0.0.1", err, sizeof(err));
	assert_non_null(ad);
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, &a, &res, err, sizeof(err)), 0);
	assert_string_equal(
	    prefix_ntop(&res.prefix, p, sizeof(p)), "10.0.0.5/24");
	assert_int_equal(res.ifindex, 2);
	autodetect_free(ad);
	autodetect_iflist_clean(&l);
}

/*
 * The list keeps the links in the order given (the kernel's dump, Go's
 * net.Interfaces order), not ifindex order.  Before 6.6 the dump went by
 * hash bucket (ifindex & 255, newest first in a bucket): 256, then 257
 * and 1, then 2.  Walked backwards, eth0 (2) is first, where ifindex
 * order would have made ens257 first.
 */
static void
test_iflist_build(void **state)
{
	static const char *const names[] = {"ens256", "ens257", "lo", "eth0"};
	static const int index[] = {256, 257, 1, 2};
	static const struct {
		int ifindex;
		const char *p;
	} addrs[] = {
	    {1, "127.0.0.1/8"}, {2, "192.0.2.1/24"}, {256, "198.51.100.1/24"},
	    {257, "203.0.113.1/24"}, {2, "192.0.2.2/24"},
	    {999, "198.18.0.1/32"}, /* a link gone meanwhile: dropped */
	};
	struct nl_link_info links[4];
	struct nl_addr na[6];
	struct autodetect_iflist l;
	struct autodetect_result res;
	struct autodetect *ad;
	char err[NODE_ERRLEN], p[PREFIX_STRLEN];
	size_t i;

	memset(links, 0, sizeof(links));
	memset(na, 0, sizeof(na));
	for (i = 0; i < NITEMS(links); i++) {
		links[i].ifindex = index[i];
		snprintf(links[i].name, sizeof(links[i].name), "%s", names[i]);
	}
	for (i = 0; i < NITEMS(na); i++) {
		na[i].ifindex = addrs[i].ifindex;
		assert_int_equal(
		    model_prefix_parse(addrs[i].p, &na[i].prefix), 0);
	}
	autodetect_iflist_build(&l, links, NITEMS(links), na, NITEMS(na));
	assert_int_equal(l.n, 4);
	for (i = 0; i < l.n; i++) {
		assert_string_equal(l.v[i].name, names[i]);
		assert_int_equal(l.v[i].ifindex, index[i]);
	}
	assert_int_equal(l.v[3].naddrs, 2);
	assert_string_equal(
	    prefix_ntop(&l.v[3].addrs[1], p, sizeof(p)), "192.0.2.2/24");
	ad = autodetect_parse("IP_AUTODETECTION_METHOD", "", err, sizeof(err));
	assert_non_null(ad);
	assert_int_equal(
	    autodetect_select(ad, AF_INET, &l, NULL, &res, err, sizeof(err)),
	    0);
	assert_string_equal(
	    prefix_ntop(&res.prefix, p, sizeof(p)), "192.0.2.1/24");
	assert_string_equal(res.ifname, "eth0");
	autodetect_free(ad);
	autodetect_iflist_clean(&l);
}

/* ---- the environment ---- */

struct env {
	const char *const *kv; /* "NAME=value", NULL-ended */
};

static const char *
env_get(void *arg, const char *name)
{
	const struct env *e = arg;
	size_t n = strlen(name), i;

	for (i = 0; e->kv[i] != NULL; i++)
		if (strncmp(e->kv[i], name, n) == 0 && e->kv[i][n] == '=')
			return e->kv[i] + n + 1;
	return NULL;
}

static int
parse(struct startup_config *c, char *err, size_t errlen, ...)
{
	const char *kv[32], *s;
	struct env e = {.kv = kv};
	va_list ap;
	size_t n = 0;

	va_start(ap, errlen);
	while ((s = va_arg(ap, const char *)) != NULL && n < NITEMS(kv) - 1)
		kv[n++] = s;
	va_end(ap);
	kv[n] = NULL;
	err[0] = '\0';
	return startup_config_parse(c, env_get, &e, err, errlen);
}

static void
test_env_defaults(void **state)
{
	struct startup_config c;
	char err[NODE_ERRLEN], p[PREFIX_STRLEN];

	assert_int_equal(parse(&c, err, sizeof(err), NULL), 0);
	assert_null(c.nodename);
	assert_null(c.hostname);
	assert_null(c.nodename_file);
	assert_int_equal(c.ip4.mode, STARTUP_IP_UNSET);
	assert_int_equal(c.ip6.mode, STARTUP_IP_UNSET);
	assert_int_equal(autodetect_kind(c.ip4.method), AUTODETECT_FIRST_FOUND);
	assert_false(c.asn_given);
	assert_null(c.etcd_endpoints);
	assert_int_equal(c.etcd_timeout_ms, 60000);
	assert_false(c.no_default_pools);
	assert_true(c.ipv6_support);
	assert_false(c.disable_ip_check);
	assert_true(c.pool4.enabled);
	assert_false(c.pool4.cidr_given);
	assert_string_equal(
	    prefix_ntop(&c.pool4.cidr, p, sizeof(p)), "192.168.0.0/16");
	assert_int_equal(c.pool4.ipip, MODEL_ENCAP_NEVER);
	assert_int_equal(c.pool4.vxlan, MODEL_ENCAP_NEVER);
	assert_true(c.pool4.nat_outgoing);
	assert_false(c.pool4.disable_bgp_export);
	assert_int_equal(c.pool4.block_size, 26);
	assert_null(c.pool4.node_selector);
	assert_string_equal(prefix_ntop(&c.pool6.cidr, p, sizeof(p)),
	    "fd80:24e2:f998:72d6::/64");
	assert_false(c.pool6.nat_outgoing);
	assert_int_equal(c.pool6.block_size, 122);
	assert_int_equal(c.ipip_mtu, 1440);
	assert_int_equal(c.vxlan_mtu, 0);
	assert_int_equal(c.vxlan_vni, 4096);
	assert_int_equal(c.vxlan_port, 4789);
	assert_int_equal(c.log_level, LOG_LVL_INFO);
	startup_config_clean(&c);
}

static void
test_env_values(void **state)
{
	struct startup_config c;
	char err[NODE_ERRLEN], p[PREFIX_STRLEN];

	assert_int_equal(
	    parse(&c, err, sizeof(err), "NODENAME=node-1.example",
	        "HOSTNAME=Host1", "NODENAME_FILE=/tmp/x", "IP=192.0.2.5",
	        "IP6=2001:db8::5/64", "IP_AUTODETECTION_METHOD=interface=eth.*",
	        "IP6_AUTODETECTION_METHOD=cidr=2001:db8::/32", "AS=1.10",
	        "ETCD_ENDPOINTS= http://e:2379 ", "ETCD_CERT_FILE=c",
	        "ETCD_KEY_FILE=k", "PODMESH_NODE_ETCD_TIMEOUT=5",
	        "CALICO_IPV4POOL_CIDR=10.1.2.3/16",
	        "CALICO_IPV4POOL_IPIP=cross-subnet",
	        "CALICO_IPV4POOL_NAT_OUTGOING=false",
	        "CALICO_IPV4POOL_BLOCK_SIZE=24",
	        "CALICO_IPV4POOL_NODE_SELECTOR=zone == 'a'",
	        "CALICO_IPV6POOL_CIDR=2001:db8:100::/56",
	        "FELIX_IPINIPMTU=1400", "FELIX_VXLANMTU=1300",
	        "DISABLE_NODE_IP_CHECK=true", "CALICO_STARTUP_LOGLEVEL=DEBUG",
	        NULL),
	    0);
	assert_string_equal(c.nodename, "node-1.example");
	assert_string_equal(c.hostname, "host1"); /* lower-cased */
	assert_string_equal(c.nodename_file, "/tmp/x");
	assert_int_equal(c.ip4.mode, STARTUP_IP_GIVEN);
	assert_false(c.ip4.given_len);
	assert_string_equal(
	    prefix_ntop(&c.ip4.given, p, sizeof(p)), "192.0.2.5/32");
	assert_int_equal(c.ip6.mode, STARTUP_IP_GIVEN);
	assert_true(c.ip6.given_len);
	assert_string_equal(
	    prefix_ntop(&c.ip6.given, p, sizeof(p)), "2001:db8::5/64");
	assert_int_equal(autodetect_kind(c.ip4.method), AUTODETECT_INTERFACE);
	assert_int_equal(autodetect_kind(c.ip6.method), AUTODETECT_CIDR);
	assert_true(c.asn_given);
	assert_int_equal(c.asn, 65546);
	assert_string_equal(c.etcd_endpoints, "http://e:2379");
	assert_int_equal(c.etcd_timeout_ms, 5000);
	assert_true(c.pool4.cidr_given);
	assert_string_equal(
	    prefix_ntop(&c.pool4.cidr, p, sizeof(p)), "10.1.0.0/16");
	assert_int_equal(c.pool4.ipip, MODEL_ENCAP_CROSSSUBNET);
	assert_false(c.pool4.nat_outgoing);
	assert_int_equal(c.pool4.block_size, 24);
	assert_string_equal(c.pool4.node_selector, "zone == 'a'");
	assert_true(c.pool6.cidr_given);
	assert_int_equal(c.ipip_mtu, 1400);
	assert_int_equal(c.vxlan_mtu, 1300);
	assert_true(c.disable_ip_check);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	startup_config_clean(&c);

	assert_int_equal(
	    parse(&c, err, sizeof(err), "IP=autodetect", "IP6=none",
	        "CALICO_IPV4POOL_CIDR=none", "NO_DEFAULT_POOLS=False",
	        "FELIX_IPINIPMTU=0", "FELIX_IPV6SUPPORT=false", NULL),
	    0);
	assert_int_equal(c.ip4.mode, STARTUP_IP_AUTODETECT);
	assert_int_equal(c.ip6.mode, STARTUP_IP_NONE);
	assert_false(c.pool4.enabled);
	assert_false(c.no_default_pools);
	assert_false(c.ipv6_support);
	assert_int_equal(c.ipip_mtu, 1440);
	startup_config_clean(&c);

	assert_int_equal(
	    parse(&c, err, sizeof(err), "NO_DEFAULT_POOLS=TRUE", NULL), 0);
	assert_true(c.no_default_pools);
	startup_config_clean(&c);
}

/*
 * HOSTNAME is checked only where it may be the node's name: never beside
 * NODENAME, at the run beside NODENAME_FILE (whose content comes first).
 */
static void
test_env_hostname(void **state)
{
	struct startup_config c;
	char err[NODE_ERRLEN];

	assert_int_equal(parse(&c, err, sizeof(err), "NODENAME=node-1",
	                     "HOSTNAME=Bad_Host", NULL),
	    0);
	assert_string_equal(c.nodename, "node-1");
	assert_null(c.hostname);
	assert_null(c.hostname_bad);
	startup_config_clean(&c);

	assert_int_equal(parse(&c, err, sizeof(err), "NODENAME_FILE=/tmp/nf",
	                     "HOSTNAME=Bad_Host", NULL),
	    0);
	assert_null(c.hostname);
	assert_string_equal(c.hostname_bad, "bad_host");
	startup_config_clean(&c);

	assert_int_equal(
	    parse(&c, err, sizeof(err), "HOSTNAME=Bad_Host", NULL), -1);
	assert_string_equal(err,
	    "HOSTNAME: \"bad_host\" is not a valid node name (lower-case "
	    "letters, digits, '-' and '.', at most 253)");
	assert_int_equal(parse(&c, err, sizeof(err), "NODENAME=Bad_Host",
	                     "HOSTNAME=good", NULL),
	    -1);
	assert_int_equal(strncmp(err, "NODENAME: ", 10), 0);
}

/* Calico's spellings of the encapsulation modes */
static void
test_env_encap(void **state)
{
	static const struct {
		const char *v;
		int mode;
	} cases[] = {
	    {"", MODEL_ENCAP_NEVER},
	    {"Never", MODEL_ENCAP_NEVER},
	    {"never", MODEL_ENCAP_NEVER},
	    {"off", MODEL_ENCAP_NEVER},
	    {"Off", MODEL_ENCAP_NEVER},
	    {"Always", MODEL_ENCAP_ALWAYS},
	    {"always", MODEL_ENCAP_ALWAYS},
	    {"ALWAYS", MODEL_ENCAP_ALWAYS},
	    {" Always ", MODEL_ENCAP_ALWAYS},
	    {"CrossSubnet", MODEL_ENCAP_CROSSSUBNET},
	    {"crosssubnet", MODEL_ENCAP_CROSSSUBNET},
	    {"cross-subnet", MODEL_ENCAP_CROSSSUBNET},
	    {"Cross-Subnet", MODEL_ENCAP_CROSSSUBNET},
	};
	struct startup_config c;
	char err[NODE_ERRLEN], ipip[64], vxlan[64];
	size_t i;

	for (i = 0; i < NITEMS(cases); i++) {
		snprintf(
		    ipip, sizeof(ipip), "CALICO_IPV4POOL_IPIP=%s", cases[i].v);
		if (parse(&c, err, sizeof(err), ipip, NULL) != 0)
			fail_msg("%s: %s", ipip, err);
		assert_int_equal(c.pool4.ipip, cases[i].mode);
		assert_int_equal(c.pool4.vxlan, MODEL_ENCAP_NEVER);
		startup_config_clean(&c);
		snprintf(vxlan, sizeof(vxlan), "CALICO_IPV4POOL_VXLAN=%s",
		    cases[i].v);
		if (parse(&c, err, sizeof(err), vxlan, NULL) != 0)
			fail_msg("%s: %s", vxlan, err);
		assert_int_equal(c.pool4.vxlan, cases[i].mode);
		startup_config_clean(&c);
	}
}

static void
test_env_bad(void **state)
{
	static const struct {
		const char *kv[4];
		const char *err; /* the whole message, or its start */
	} cases[] = {
	    {{"CALICO_IPV4POOL_IPIP=sometimes"},
	        "CALICO_IPV4POOL_IPIP: unknown IPIP mode \"sometimes\" "
	        "(Always, CrossSubnet or Never)"},
	    {{"CALICO_IPV4POOL_VXLAN=yes"},
	        "CALICO_IPV4POOL_VXLAN: unknown VXLAN mode \"yes\""},
	    {{"CALICO_IPV4POOL_IPIP=Always", "CALICO_IPV4POOL_VXLAN=Always"},
	        "CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN cannot both "
	        "be enabled"},
	    {{"CALICO_IPV4POOL_IPIP=CrossSubnet",
	         "CALICO_IPV4POOL_VXLAN=always"},
	        "CALICO_IPV4POOL_IPIP and CALICO_IPV4POOL_VXLAN"},
	    {{"CALICO_IPV6POOL_VXLAN=Always"},
	        "CALICO_IPV6POOL_VXLAN: VXLAN is not supported on an IPv6 "
	        "pool"},
	    {{"CALICO_IPV4POOL_CIDR=10.0.0.0/33"},
	        "CALICO_IPV4POOL_CIDR: \"10.0.0.0/33\" is not an IPv4 CIDR"},
	    {{"CALICO_IPV4POOL_CIDR=2001:db8::/64"},
	        "CALICO_IPV4POOL_CIDR: \"2001:db8::/64\" is not an IPv4 "
	        "CIDR"},
	    {{"CALICO_IPV6POOL_CIDR=10.0.0.0/8"}, "CALICO_IPV6POOL_CIDR: "},
	    {{"CALICO_IPV4POOL_CIDR=10.0.0.0/27"},
	        "CALICO_IPV4POOL_BLOCK_SIZE: /26 blocks do not fit in the pool "
	        "10.0.0.0/27"},
	    {{"CALICO_IPV4POOL_BLOCK_SIZE=19"},
	        "CALICO_IPV4POOL_BLOCK_SIZE: \"19\" is not a number from 20 to "
	        "32"},
	    {{"CALICO_IPV4POOL_BLOCK_SIZE=33"}, "CALICO_IPV4POOL_BLOCK_SIZE: "},
	    {{"CALICO_IPV4POOL_BLOCK_SIZE=26x"},
	        "CALICO_IPV4POOL_BLOCK_SIZE: "},
	    {{"CALICO_IPV4POOL_BLOCK_SIZE=-26"},
	        "CALICO_IPV4POOL_BLOCK_SIZE: "},
	    {{"CALICO_IPV6POOL_BLOCK_SIZE=115"},
	        "CALICO_IPV6POOL_BLOCK_SIZE: \"115\" is not a number from 116 "
	        "to 128"},
	    {{"CALICO_IPV4POOL_NAT_OUTGOING=maybe"},
	        "CALICO_IPV4POOL_NAT_OUTGOING: \"maybe\" is not true or false"},
	    {{"CALICO_IPV4POOL_NODE_SELECTOR=zone =="},
	        "CALICO_IPV4POOL_NODE_SELECTOR: \"zone ==\": "},
	    {{"NO_DEFAULT_POOLS=true", "CALICO_IPV4POOL_CIDR=10.0.0.0/16"},
	        "NO_DEFAULT_POOLS: true, but CALICO_IPV4POOL_CIDR is set too"},
	    {{"NO_DEFAULT_POOLS=true", "CALICO_IPV6POOL_CIDR=none"},
	        "NO_DEFAULT_POOLS: true, but CALICO_IPV6POOL_CIDR"},
	    {{"IP=192.0.2.300"},
	        "IP: \"192.0.2.300\" is not an IPv4 address or address/length"},
	    {{"IP=2001:db8::1"}, "IP: \"2001:db8::1\" is not an IPv4"},
	    {{"IP=192.0.2.1/33"}, "IP: "},
	    {{"IP=192.0.2.1/"}, "IP: "},
	    {{"IP6=192.0.2.1"}, "IP6: \"192.0.2.1\" is not an IPv6"},
	    {{"IP6=fe80::1%eth0"}, "IP6: "},
	    {{"IP=Autodetect"}, "IP: "},
	    {{"IP_AUTODETECTION_METHOD=nope"},
	        "IP_AUTODETECTION_METHOD: unknown method \"nope\""},
	    {{"IP6_AUTODETECTION_METHOD=interface=("},
	        "IP6_AUTODETECTION_METHOD: interface=: bad regular "
	        "expression"},
	    {{"AS=0"}, "AS: \"0\" is not an AS number"},
	    {{"AS=4294967296"}, "AS: "},
	    {{"AS=as64512"}, "AS: "},
	    {{"NODENAME=Node_1"},
	        "NODENAME: \"Node_1\" is not a valid node name"},
	    {{"NODENAME=-node"}, "NODENAME: "},
	    {{"HOSTNAME=a..b"}, "HOSTNAME: \"a..b\" is not a valid"},
	    {{"ETCD_CERT_FILE=c"},
	        "ETCD_CERT_FILE: set ETCD_CERT_FILE and ETCD_KEY_FILE "
	        "together"},
	    {{"ETCD_KEY_FILE=k"}, "ETCD_KEY_FILE: "},
	    {{"PODMESH_NODE_ETCD_TIMEOUT=soon"}, "PODMESH_NODE_ETCD_TIMEOUT: "},
	    {{"FELIX_IPINIPMTU=67"},
	        "FELIX_IPINIPMTU: 67 is below IPv4's minimum MTU of 68"},
	    {{"FELIX_IPINIPMTU=70000"}, "FELIX_IPINIPMTU: "},
	    {{"FELIX_VXLANMTU=10"}, "FELIX_VXLANMTU: "},
	    {{"FELIX_VXLANVNI=16777216"}, "FELIX_VXLANVNI: "},
	    {{"FELIX_VXLANPORT=0"}, "FELIX_VXLANPORT: "},
	    {{"FELIX_IPV6SUPPORT=perhaps"}, "FELIX_IPV6SUPPORT: "},
	    {{"CALICO_STARTUP_LOGLEVEL=loud"},
	        "CALICO_STARTUP_LOGLEVEL: \"loud\" is not a level"},
	};
	struct startup_config c;
	char err[NODE_ERRLEN];
	size_t i;

	for (i = 0; i < NITEMS(cases); i++) {
		if (parse(&c, err, sizeof(err), cases[i].kv[0], cases[i].kv[1],
		        cases[i].kv[2], NULL) != -1)
			fail_msg("%s: parsed", cases[i].kv[0]);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("%s: want \"%s...\", got \"%s\"",
			    cases[i].kv[0], cases[i].err, err);
		/* one line */
		assert_null(strchr(err, '\n'));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_found),
	    cmocka_unit_test(test_first_found_order),
	    cmocka_unit_test(test_interface),
	    cmocka_unit_test(test_skip_interface),
	    cmocka_unit_test(test_cidr),
	    cmocka_unit_test(test_can_reach),
	    cmocka_unit_test(test_bad_methods),
	    cmocka_unit_test(test_global_unicast),
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_find_order),
	    cmocka_unit_test(test_iflist_build),
	    cmocka_unit_test(test_env_defaults),
	    cmocka_unit_test(test_env_values),
	    cmocka_unit_test(test_env_hostname),
	    cmocka_unit_test(test_env_encap),
	    cmocka_unit_test(test_env_bad),
	};

	log_init("autodetect_test", LOG_LVL_ERROR);
	store_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
