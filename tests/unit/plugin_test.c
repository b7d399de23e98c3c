/*
 * cni/plugin.c and cni/wep.c without I/O: the WorkloadEndpoint built for
 * the k8s and cni orchestrators (exact stored JSON, Calico's name), the
 * workload identity and host link name, the ADD result in every version,
 * the addresses taken from IPAM results and prevResults, the config's dns,
 * and plugin_run's answers that come before any I/O (VERSION, bad
 * environment, bad config, commands a version does not allow, ADD after
 * another main plugin, CHECK without prevResult), read back from stdout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cni/cni.h"
#include "cni/plugin.h"
#include "cni/wep.h"
#include "cni/wire.h"
#include "store/model.h"
#include "store/store.h"

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	assert_int_equal(prefix_parse(s, &p), 0);
	return p;
}

static void
assert_json(json_t *got, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	char *g;

	assert_non_null(w);
	if (!json_equal(got, w)) {
		g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);
		print_error("got  %s\nwant %s\n", g, want);
		free(g);
		fail();
	}
	json_decref(w);
}

/* ---- WorkloadEndpoint ---- */

static void
test_wep_k8s(void **state)
{
	struct prefix nets[2] = {pfx("198.18.0.5/32"), pfx("fd00:1::5/128")};
	struct cni_wep_req req = {
	    .node = "node-1",
	    .orchestrator = "k8s",
	    .namespace = "kube-system",
	    .pod = "coredns-abc",
	    .container_id = "0123456789abcdef",
	    .endpoint = "eth0",
	    .network = "k8s-pod-network",
	    .host_ifname = "cali3d5d6ab04b5",
	    .mac = "0a:58:c6:12:00:05",
	    .nets = nets,
	    .nnets = 2,
	};
	struct resource r, back;
	struct cni_error err;
	char key[512], msg[MODEL_ERRLEN];
	json_t *j;

	(void)state;
	assert_int_equal(cni_wep_build(&req, &r, &err), 0);
	/* each '-' of a part doubled (names.WorkloadEndpointIdentifiers) */
	assert_string_equal(r.meta.name, "node--1-k8s-coredns--abc-eth0");
	assert_int_equal(resource_key(&r, key, sizeof(key)), 0);
	assert_string_equal(key,
	    "/calico/resources/v3/projectcalico.org/"
	    "workloadendpoints/kube-system/"
	    "node--1-k8s-coredns--abc-eth0");
	j = resource_encode(&r, MODEL_NO_RV);
	assert_json(j,
	    "{\"kind\":\"WorkloadEndpoint\",\"apiVersion\":"
	    "\"projectcalico.org/v3\",\"metadata\":{\"name\":"
	    "\"node--1-k8s-coredns--abc-eth0\",\"namespace\":\"kube-system\","
	    "\"labels\":{\"projectcalico.org/namespace\":\"kube-system\","
	    "\"projectcalico.org/orchestrator\":\"k8s\"}},\"spec\":{"
	    "\"orchestrator\":\"k8s\",\"node\":\"node-1\",\"containerID\":"
	    "\"0123456789abcdef\",\"pod\":\"coredns-abc\",\"endpoint\":"
	    "\"eth0\",\"ipNetworks\":[\"198.18.0.5/32\",\"fd00:1::5/128\"],"
	    "\"profiles\":[\"kns.kube-system\"],\"interfaceName\":"
	    "\"cali3d5d6ab04b5\",\"mac\":\"0a:58:c6:12:00:05\"}}");
	/* what podmeshctl and Felix read: it passes Calico's validation */
	assert_int_equal(resource_decode(j, &back, msg, sizeof(msg)), 0);
	assert_string_equal(back.wep.pod, "coredns-abc");
	resource_clean(&back);
	json_decref(j);
	resource_clean(&r);
}

static void
test_wep_cni(void **state)
{
	struct prefix nets[1] = {pfx("198.18.0.9/32")};
	struct cni_wep_req req = {
	    .node = "n1",
	    .orchestrator = "cni",
	    .namespace = NULL,
	    .container_id = "cnitool-77383ca4a0",
	    .endpoint = "eth0",
	    .network = "podmesh-net",
	    .host_ifname = "calicnitool-77",
	    .mac = "0a:58:c6:12:00:09",
	    .nets = nets,
	    .nnets = 1,
	};
	struct resource r, back;
	struct cni_error err;
	char msg[MODEL_ERRLEN];
	json_t *j;

	(void)state;
	assert_int_equal(cni_wep_build(&req, &r, &err), 0);
	j = resource_encode(&r, MODEL_NO_RV);
	assert_json(j,
	    "{\"kind\":\"WorkloadEndpoint\",\"apiVersion\":"
	    "\"projectcalico.org/v3\",\"metadata\":{\"name\":"
	    "\"n1-cni-cnitool--77383ca4a0-eth0\",\"namespace\":\"default\","
	    "\"labels\":{\"projectcalico.org/namespace\":\"default\","
	    "\"projectcalico.org/orchestrator\":\"cni\"}},\"spec\":{"
	    "\"orchestrator\":\"cni\",\"workload\":\"cnitool-77383ca4a0\","
	    "\"node\":\"n1\",\"containerID\":\"cnitool-77383ca4a0\","
	    "\"endpoint\":\"eth0\",\"ipNetworks\":[\"198.18.0.9/32\"],"
	    "\"profiles\":[\"podmesh-net\"],\"interfaceName\":"
	    "\"calicnitool-77\",\"mac\":\"0a:58:c6:12:00:09\"}}");
	assert_int_equal(resource_decode(j, &back, msg, sizeof(msg)), 0);
	resource_clean(&back);
	json_decref(j);
	resource_clean(&r);

	/* DEL's request: no link, no MAC, no address, the same name */
	req.host_ifname = req.mac = NULL;
	req.nnets = 0;
	assert_int_equal(cni_wep_build(&req, &r, &err), 0);
	assert_string_equal(r.meta.name, "n1-cni-cnitool--77383ca4a0-eth0");
	assert_null(r.wep.interface_name);
	resource_clean(&r);
}

static void
test_wep_bad(void **state)
{
	struct cni_wep_req req = {
	    .node = "n1",
	    .orchestrator = "k8s",
	    .namespace = "default",
	    .pod = "-bad",
	    .container_id = "abc",
	    .endpoint = "eth0",
	};
	struct resource r;
	struct cni_error err;

	(void)state;
	assert_int_equal(cni_wep_build(&req, &r, &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "spec.pod"));
	resource_clean(&r);

	req.pod = "web";
	req.node = "";
	assert_int_equal(cni_wep_build(&req, &r, &err), -1);
	assert_non_null(strstr(err.msg, "spec.node: required"));
	resource_clean(&r);
}

/* ---- identity ---- */

static void
test_ifprefix(void **state)
{
	char b[PLUGIN_PREFIX_MAX + 1];

	(void)state;
	assert_null(plugin_ifprefix(NULL, b, sizeof(b)));
	assert_null(plugin_ifprefix("", b, sizeof(b)));
	assert_null(plugin_ifprefix(",cali", b, sizeof(b)));
	assert_string_equal(plugin_ifprefix("tap,cali", b, sizeof(b)), "tap");
	assert_string_equal(plugin_ifprefix(" cali ", b, sizeof(b)), "cali");
	assert_null(plugin_ifprefix("waytoolongprefix", b, sizeof(b)));
}

static void
test_ident(void **state)
{
	struct cni_env env;
	struct plugin_ident id;
	struct cni_error err;

	(void)state;
	memset(&env, 0, sizeof(env));
	env.container_id = "0123456789abcdef";
	env.args.k8s_pod_namespace = "kube-system";
	env.args.k8s_pod_name = "coredns-abc";
	assert_int_equal(plugin_ident(&env, NULL, &id, &err), 0);
	assert_true(id.k8s);
	assert_string_equal(id.orchestrator, "k8s");
	assert_string_equal(id.workload, "kube-system.coredns-abc");
	/* sha1("kube-system.coredns-abc") = 3d5d6ab04b5152ac... */
	assert_string_equal(id.host_ifname, "cali3d5d6ab04b5");
	assert_int_equal(plugin_ident(&env, "tap", &id, &err), 0);
	assert_string_equal(id.host_ifname, "tap3d5d6ab04b5");

	/* a namespace alone is not Kubernetes */
	env.args.k8s_pod_name = "";
	assert_int_equal(plugin_ident(&env, NULL, &id, &err), 0);
	assert_false(id.k8s);
	assert_string_equal(id.orchestrator, "cni");
	assert_string_equal(id.namespace, "default");
	assert_null(id.pod);
	assert_string_equal(id.workload, "0123456789abcdef");
	/* sha1("0123456789abcdef") = fe5567e8d76... */
	assert_string_equal(id.host_ifname, "calife5567e8d76");

	env.container_id = NULL;
	assert_int_equal(plugin_ident(&env, NULL, &id, &err), -1);
	assert_int_equal(err.code, CNI_ERR_ENV);
}

static void
test_version_cmp(void **state)
{
	char *v;

	(void)state;
	assert_true(plugin_version_cmp("0.3.1", "0.4.0") < 0);
	assert_true(plugin_version_cmp("1.1.0", "1.1.0") == 0);
	assert_true(plugin_version_cmp("1.0.0", "0.4.0") > 0);
	assert_true(plugin_version_cmp("0.10.0", "0.4.0") > 0);
	assert_true(plugin_version_cmp("bogus", "0.1.0") < 0);
	assert_true(plugin_version_cmp("1.0", "0.1.0") < 0);
	assert_true(plugin_version_cmp("1.0.0x", "0.1.0") < 0);

	v = plugin_peek_version("{\"cniVersion\":\"0.4.0\"}", 22);
	assert_string_equal(v, "0.4.0");
	free(v);
	assert_null(plugin_peek_version("{\"cniVersion\":\"9.9.9\"}", 22));
	assert_null(plugin_peek_version("{\"cniVersion\":4}", 16));
	assert_null(plugin_peek_version("not json", 8));
	assert_null(plugin_peek_version("", 0));
}

/* ---- dns ---- */

static void
test_dns(void **state)
{
	struct cni_dns d;
	struct cni_error err;
	json_t *j;
	static const char *const bad[] = {
	    "{\"dns\":[]}",
	    "{\"dns\":{\"nameservers\":\"10.0.0.10\"}}",
	    "{\"dns\":{\"search\":[1]}}",
	    "{\"dns\":{\"domain\":true}}",
	    "{\"dns\":{\"options\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}}",
	};
	size_t i;

	(void)state;
	j = json_loads("{\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"domain\":"
	               "\"cluster.local\",\"search\":[\"svc.cluster.local\","
	               "\"cluster.local\"],\"options\":[\"ndots:5\"]}}",
	    0, NULL);
	assert_int_equal(plugin_dns(j, &d, &err), 0);
	assert_int_equal(d.nnameservers, 1);
	assert_string_equal(d.nameservers[0], "10.96.0.10");
	assert_string_equal(d.domain, "cluster.local");
	assert_int_equal(d.nsearch, 2);
	assert_string_equal(d.search[1], "cluster.local");
	assert_int_equal(d.noptions, 1);
	json_decref(j);

	j = json_loads("{\"name\":\"x\"}", 0, NULL);
	assert_int_equal(plugin_dns(j, &d, &err), 0);
	assert_int_equal(d.nnameservers + d.nsearch + d.noptions, 0);
	assert_null(d.domain);
	json_decref(j);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		j = json_loads(bad[i], 0, NULL);
		assert_non_null(j);
		assert_int_equal(plugin_dns(j, &d, &err), -1);
		assert_int_equal(err.code, CNI_ERR_CONFIG);
		assert_non_null(strstr(err.msg, "dns"));
		json_decref(j);
	}
}

/* ---- addresses and the result ---- */

static void
test_ipam_addrs(void **state)
{
	struct cni_result res;
	struct prefix a[CNI_MAX_IPS];
	struct cni_error err;
	char b[PREFIX_STRLEN];
	size_t n;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.ips[0].address = pfx("198.18.3.7/26");
	res.ips[0].iface = -1;
	res.ips[1].address = pfx("fd00:1::1:7/122");
	res.ips[1].iface = -1;
	res.nips = 2;
	assert_int_equal(plugin_ipam_addrs(&res, a, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(prefix_ntop(&a[0], b, sizeof(b)), "198.18.3.7/32");
	assert_string_equal(
	    prefix_ntop(&a[1], b, sizeof(b)), "fd00:1::1:7/128");

	res.nips = 0;
	assert_int_equal(plugin_ipam_addrs(&res, a, &n, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NO_ADDRESS);
}

static char *
encode_add(const char *version, bool v6, const struct cni_dns *dns)
{
	struct prefix a[2] = {pfx("198.18.3.7/32"), pfx("fd00:1::7/128")};
	struct cni_result res;
	struct cni_error err;
	char *s;

	plugin_result("cali3d5d6ab04b5", "eth0", "0a:58:c6:12:03:07",
	    "/var/run/netns/p1", 1440, a, v6 ? 2 : 1, dns, &res);
	s = cni_result_encode(&res, version, &err);
	assert_non_null(s);
	return s;
}

static void
test_result_versions(void **state)
{
	struct cni_dns dns;
	json_t *j;
	char *s;

	(void)state;
	memset(&dns, 0, sizeof(dns));
	dns.nameservers[0] = "10.96.0.10";
	dns.nnameservers = 1;

	s = encode_add("1.0.0", true, &dns);
	j = json_loads(s, 0, NULL);
	assert_json(j,
	    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":"
	    "\"cali3d5d6ab04b5\",\"mac\":\"ee:ee:ee:ee:ee:ee\"},{\"name\":"
	    "\"eth0\",\"mac\":\"0a:58:c6:12:03:07\",\"sandbox\":"
	    "\"/var/run/netns/p1\"}],\"ips\":[{\"interface\":1,\"address\":"
	    "\"198.18.3.7/32\"},{\"interface\":1,\"address\":"
	    "\"fd00:1::7/128\"}],\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":"
	    "\"169.254.1.1\"},{\"dst\":\"::/0\",\"gw\":"
	    "\"fe80::ecee:eeff:feee:eeee\"}],\"dns\":{\"nameservers\":"
	    "[\"10.96.0.10\"]}}");
	json_decref(j);
	free(s);

	/* 0.3.x and 0.4.0 carry ips[].version */
	s = encode_add("0.3.1", false, NULL);
	j = json_loads(s, 0, NULL);
	assert_json(j,
	    "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":"
	    "\"cali3d5d6ab04b5\",\"mac\":\"ee:ee:ee:ee:ee:ee\"},{\"name\":"
	    "\"eth0\",\"mac\":\"0a:58:c6:12:03:07\",\"sandbox\":"
	    "\"/var/run/netns/p1\"}],\"ips\":[{\"version\":\"4\","
	    "\"interface\":1,\"address\":\"198.18.3.7/32\"}],\"routes\":"
	    "[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"}],\"dns\":{}}");
	json_decref(j);
	free(s);

	/* 1.1.0: the interfaces' mtu */
	s = encode_add("1.1.0", false, NULL);
	j = json_loads(s, 0, NULL);
	assert_json(j,
	    "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":"
	    "\"cali3d5d6ab04b5\",\"mac\":\"ee:ee:ee:ee:ee:ee\",\"mtu\":1440},"
	    "{\"name\":\"eth0\",\"mac\":\"0a:58:c6:12:03:07\",\"mtu\":1440,"
	    "\"sandbox\":\"/var/run/netns/p1\"}],\"ips\":[{\"interface\":1,"
	    "\"address\":\"198.18.3.7/32\"}],\"routes\":[{\"dst\":"
	    "\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"}],\"dns\":{}}");
	json_decref(j);
	free(s);

	/* the seed's 0.1.0: ip4/ip6 with their routes */
	s = encode_add("0.1.0", true, NULL);
	j = json_loads(s, 0, NULL);
	assert_json(j,
	    "{\"cniVersion\":\"0.1.0\",\"ip4\":{\"ip\":\"198.18.3.7/32\","
	    "\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"}]},"
	    "\"ip6\":{\"ip\":\"fd00:1::7/128\",\"routes\":[{\"dst\":"
	    "\"::/0\",\"gw\":\"fe80::ecee:eeff:feee:eeee\"}]},\"dns\":{}}");
	json_decref(j);
	free(s);
}

/* CHECK reads the result ADD printed back as prevResult */
static void
test_prev_addrs(void **state)
{
	struct cni_result prev;
	struct prefix a[CNI_MAX_IPS];
	struct cni_error err;
	char b[PREFIX_STRLEN], *s;
	json_t *j;
	size_t n;

	(void)state;
	s = encode_add("1.0.0", true, NULL);
	j = json_loads(s, 0, NULL);
	free(s);
	assert_int_equal(cni_result_decode(j, &prev, &err), 0);
	assert_int_equal(plugin_prev_addrs(&prev, "eth0", a, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(prefix_ntop(&a[0], b, sizeof(b)), "198.18.3.7/32");
	assert_string_equal(prefix_ntop(&a[1], b, sizeof(b)), "fd00:1::7/128");
	/* another CNI_IFNAME has none */
	assert_int_equal(plugin_prev_addrs(&prev, "net1", a, &n, &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	json_decref(j);

	/* an address on the host side does not count */
	j = json_loads("{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":"
	               "\"eth0\"}],\"ips\":[{\"interface\":0,\"address\":"
	               "\"198.18.0.1/32\"}]}",
	    0, NULL);
	assert_int_equal(cni_result_decode(j, &prev, &err), 0);
	assert_int_equal(plugin_prev_addrs(&prev, "eth0", a, &n, &err), -1);
	json_decref(j);
}

static void
test_prev_has_ips(void **state)
{
	json_t *j;

	(void)state;
	assert_false(plugin_prev_has_ips(NULL));
	j = json_loads("{\"cniVersion\":\"1.0.0\",\"ips\":[]}", 0, NULL);
	assert_false(plugin_prev_has_ips(j));
	json_decref(j);
	j = json_loads("{\"cniVersion\":\"1.0.0\",\"interfaces\":[]}", 0, NULL);
	assert_false(plugin_prev_has_ips(j));
	json_decref(j);
	j = json_loads("{\"ips\":[{\"address\":\"10.0.0.1/24\"}]}", 0, NULL);
	assert_true(plugin_prev_has_ips(j));
	json_decref(j);
	j = json_loads("{\"ip4\":{\"ip\":\"10.0.0.1/24\"}}", 0, NULL);
	assert_true(plugin_prev_has_ips(j));
	json_decref(j);
}

/* ---- plugin_run, up to the first I/O ---- */

struct fakeenv {
	const char *kv[16][2];
};

static const char *
fake_get(void *arg, const char *name)
{
	struct fakeenv *e = arg;
	size_t i;

	for (i = 0; i < 16 && e->kv[i][0] != NULL; i++)
		if (strcmp(e->kv[i][0], name) == 0)
			return e->kv[i][1];
	return NULL;
}

/* run it with stdout caught; the output parsed (NULL: printed nothing) */
static json_t *
run(struct fakeenv *e, const char *in, int *rc)
{
	char buf[8192];
	FILE *f;
	ssize_t n;
	int saved;
	json_t *j;

	f = tmpfile();
	assert_non_null(f);
	fflush(stdout);
	saved = dup(1);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(f), 1) == 1);
	*rc = plugin_run(fake_get, e, in, in != NULL ? strlen(in) : 0);
	fflush(stdout);
	assert_true(dup2(saved, 1) == 1);
	close(saved);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n > 0 ? n : 0] = '\0';
	if (n <= 0)
		return NULL;
	j = json_loads(buf, 0, NULL);
	if (j == NULL)
		print_error("not JSON: %s\n", buf);
	assert_non_null(j);
	return j;
}

static void
expect_error(json_t *j, int rc, int code, const char *msg_part)
{
	const char *m;

	assert_int_equal(rc, 1);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "code")), code);
	m = json_string_value(json_object_get(j, "msg"));
	assert_non_null(m);
	if (strstr(m, msg_part) == NULL) {
		print_error("msg \"%s\" lacks \"%s\"\n", m, msg_part);
		fail();
	}
	json_decref(j);
}

#define CONF(v, extra)                                                         \
	"{\"cniVersion\":\"" v "\",\"name\":\"net\",\"type\":\"podmesh\","     \
	"\"ipam\":{\"type\":\"podmesh-ipam\"}" extra "}"

static void
test_run_version(void **state)
{
	struct fakeenv e = {{{"CNI_COMMAND", "VERSION"}}};
	json_t *j;
	int rc;

	(void)state;
	j = run(&e, "{\"cniVersion\":\"0.4.0\"}", &rc);
	assert_int_equal(rc, 0);
	assert_json(j,
	    "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":"
	    "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\",\"0.4.0\","
	    "\"1.0.0\",\"1.1.0\"]}");
	json_decref(j);
	/* empty stdin: the newest */
	j = run(&e, "", &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(
	    json_string_value(json_object_get(j, "cniVersion")), "1.1.0");
	json_decref(j);
}

static void
test_run_errors(void **state)
{
	struct fakeenv none = {{{NULL, NULL}}};
	struct fakeenv add = {{{"CNI_COMMAND", "ADD"},
	    {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/var/run/netns/x"},
	    {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/nonexistent"}}};
	struct fakeenv noid = {
	    {{"CNI_COMMAND", "ADD"}, {"CNI_NETNS", "/var/run/netns/x"},
	        {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/nonexistent"}}};
	struct fakeenv check = {{{"CNI_COMMAND", "CHECK"},
	    {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/var/run/netns/x"},
	    {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/nonexistent"}}};
	struct fakeenv badpod = {{{"CNI_COMMAND", "ADD"},
	    {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/var/run/netns/x"},
	    {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/nonexistent"},
	    {"CNI_ARGS", "K8S_POD_NAMESPACE=default;K8S_POD_NAME=-bad"}}};
	struct fakeenv slashpod = {{{"CNI_COMMAND", "ADD"},
	    {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", "/var/run/netns/x"},
	    {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/nonexistent"},
	    {"CNI_ARGS", "K8S_POD_NAMESPACE=a/b;K8S_POD_NAME=web"}}};
	struct fakeenv status = {
	    {{"CNI_COMMAND", "STATUS"}, {"CNI_PATH", "/nonexistent"}}};
	struct fakeenv gc = {
	    {{"CNI_COMMAND", "GC"}, {"CNI_PATH", "/nonexistent"}}};
	json_t *j;
	int rc;

	(void)state;
	j = run(&none, CONF("1.0.0", ""), &rc);
	expect_error(j, rc, CNI_ERR_ENV, "CNI_COMMAND");
	j = run(&noid, CONF("1.0.0", ""), &rc);
	expect_error(j, rc, CNI_ERR_ENV, "CNI_CONTAINERID");
	/* the error speaks the config's version when it has a known one */
	j = run(&noid, CONF("0.4.0", ""), &rc);
	assert_string_equal(
	    json_string_value(json_object_get(j, "cniVersion")), "0.4.0");
	expect_error(j, rc, CNI_ERR_ENV, "CNI_CONTAINERID");

	j = run(&add, "{\"cniVersion\":", &rc);
	expect_error(j, rc, CNI_ERR_DECODE, "decoding network config");
	j = run(&add, "", &rc);
	expect_error(j, rc, CNI_ERR_DECODE, "decoding network config");
	j = run(&add, CONF("0.9.0", ""), &rc);
	expect_error(j, rc, CNI_ERR_INCOMPATIBLE, "incompatible CNI versions");
	j = run(&add, CONF("1.0.0", ",\"mtu\":\"big\""), &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "mtu");
	j = run(&add, CONF("1.0.0", ",\"dns\":{\"search\":\"x\"}"), &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "dns.search");
	/* after another main plugin: refused before any address is taken */
	j = run(&add,
	    CONF("1.0.0",
	        ",\"prevResult\":{\"cniVersion\":\"1.0.0\",\"ips\":"
	        "[{\"address\":\"10.1.0.2/24\"}]}"),
	    &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "prevResult");

	/* an endpoint that cannot be named: refused before IPAM runs */
	j = run(&badpod, CONF("1.0.0", ",\"nodename\":\"n1\""), &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "spec.pod");
	j = run(&slashpod, CONF("1.0.0", ",\"nodename\":\"n1\""), &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "WorkloadEndpoint");

	/* commands a config version does not allow (pkg/skel) */
	j = run(&check, CONF("0.3.1", ""), &rc);
	expect_error(j, rc, CNI_ERR_INCOMPATIBLE, "does not allow CHECK");
	j = run(&status, CONF("1.0.0", ""), &rc);
	expect_error(j, rc, CNI_ERR_INCOMPATIBLE, "does not allow STATUS");
	j = run(&gc, CONF("0.4.0", ""), &rc);
	expect_error(j, rc, CNI_ERR_INCOMPATIBLE, "does not allow GC");
	j = run(&check, CONF("1.0.0", ""), &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "prevResult missing");
	/* a prevResult without an address on CNI_IFNAME */
	j = run(&check,
	    CONF("1.0.0",
	        ",\"prevResult\":{\"cniVersion\":\"1.0.0\","
	        "\"interfaces\":[{\"name\":\"net1\",\"sandbox\":"
	        "\"/x\"}],\"ips\":[{\"interface\":0,\"address\":"
	        "\"10.1.0.2/32\"}]}"),
	    &rc);
	expect_error(j, rc, CNI_ERR_CONFIG, "no address on interface eth0");
}

/*
 * DEL with etcd away: the endpoint and the release both fail, and the
 * answer is still a failure (it once counted the second failure as the
 * first's undoing and said 0): the runtime must retry.
 */
static void
test_run_del_unreachable(void **state)
{
	struct fakeenv del = {{{"CNI_COMMAND", "DEL"},
	    {"CNI_CONTAINERID", "c1"}, {"CNI_NETNS", ""},
	    {"CNI_IFNAME", "eth0"}, {"CNI_PATH", "/nonexistent"}}};
	char lock[64], conf[512];
	json_t *j;
	int rc;

	(void)state;
	snprintf(lock, sizeof(lock), "/tmp/plugin_test.%d.lock", (int)getpid());
	snprintf(conf, sizeof(conf),
	    CONF("1.0.0",
	        ",\"nodename\":\"n1\",\"ipam_lock_file\":\"%s\","
	        "\"etcd_endpoints\":\"http://127.0.0.1:1\""),
	    lock);
	j = run(&del, conf, &rc);
	expect_error(j, rc, CNI_ERR_TRY_AGAIN, "");
	unlink(lock);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wep_k8s),
	    cmocka_unit_test(test_wep_cni),
	    cmocka_unit_test(test_wep_bad),
	    cmocka_unit_test(test_ifprefix),
	    cmocka_unit_test(test_ident),
	    cmocka_unit_test(test_version_cmp),
	    cmocka_unit_test(test_dns),
	    cmocka_unit_test(test_ipam_addrs),
	    cmocka_unit_test(test_result_versions),
	    cmocka_unit_test(test_prev_addrs),
	    cmocka_unit_test(test_prev_has_ips),
	    cmocka_unit_test(test_run_version),
	    cmocka_unit_test(test_run_errors),
	    cmocka_unit_test(test_run_del_unreachable),
	};

	store_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
