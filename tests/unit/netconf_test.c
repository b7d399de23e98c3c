/*
 * cni/netconf.c: Calico's network config (the v2.6 seed manifest's, a v3
 * one, every invalid value), the CNI_* environment and CNI_ARGS, and the
 * exact JSON of results per version, errors and VERSION.
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

/* calico.md §4, v2.6 hosted calico.yaml, with "type" changed. */
static const char seed[] =
    "{\n"
    "    \"name\": \"k8s-pod-network\",\n"
    "    \"cniVersion\": \"0.1.0\",\n"
    "    \"type\": \"podmesh\",\n"
    "    \"etcd_endpoints\": \"__ETCD_ENDPOINTS__\",\n"
    "    \"etcd_key_file\": \"__ETCD_KEY_FILE__\",\n"
    "    \"etcd_cert_file\": \"__ETCD_CERT_FILE__\",\n"
    "    \"etcd_ca_cert_file\": \"__ETCD_CA_CERT_FILE__\",\n"
    "    \"log_level\": \"info\",\n"
    "    \"mtu\": 1500,\n"
    "    \"ipam\": {\n"
    "        \"type\": \"calico-ipam\"\n"
    "    },\n"
    "    \"policy\": {\n"
    "        \"type\": \"k8s\",\n"
    "        \"k8s_api_root\": "
    "\"https://__KUBERNETES_SERVICE_HOST__:__KUBERNETES_SERVICE_PORT__\",\n"
    "        \"k8s_auth_token\": \"__SERVICEACCOUNT_TOKEN__\"\n"
    "    },\n"
    "    \"kubernetes\": {\n"
    "        \"kubeconfig\": \"__KUBECONFIG_FILEPATH__\"\n"
    "    }\n"
    "}\n";

static int
parse(const char *s, struct cni_netconf *nc, struct cni_error *err)
{
	return cni_netconf_parse(s, strlen(s), nc, err);
}

static void
test_seed(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;

	assert_int_equal(parse(seed, &nc, &err), 0);
	assert_string_equal(nc.name, "k8s-pod-network");
	assert_string_equal(nc.cni_version, "0.1.0");
	assert_string_equal(nc.type, "podmesh");
	assert_string_equal(nc.etcd_endpoints, "__ETCD_ENDPOINTS__");
	assert_string_equal(nc.etcd_key_file, "__ETCD_KEY_FILE__");
	assert_string_equal(nc.etcd_cert_file, "__ETCD_CERT_FILE__");
	assert_string_equal(nc.etcd_ca_cert_file, "__ETCD_CA_CERT_FILE__");
	assert_string_equal(nc.log_level, "info");
	assert_int_equal(nc.mtu, 1500);
	assert_string_equal(nc.ipam.type, "calico-ipam");
	assert_true(nc.ipam.assign_ipv4);
	assert_false(nc.ipam.assign_ipv6);
	assert_int_equal(nc.ipam.nipv4_pools, 0);
	assert_string_equal(nc.policy.type, "k8s");
	assert_string_equal(nc.policy.k8s_api_root,
	    "https://__KUBERNETES_SERVICE_HOST__:__KUBERNETES_SERVICE_PORT__");
	assert_string_equal(
	    nc.policy.k8s_auth_token, "__SERVICEACCOUNT_TOKEN__");
	assert_string_equal(
	    nc.kubernetes.kubeconfig, "__KUBECONFIG_FILEPATH__");
	assert_null(nc.kubernetes.node_name);
	assert_null(nc.nodename);
	assert_null(nc.prev_result);
	assert_non_null(nc.root);
	cni_netconf_clear(&nc);
}

static void
test_v3(void **state)
{
	static const char conf[] =
	    "{\"name\":\"k8s-pod-network\",\"cniVersion\":\"0.3.1\","
	    "\"type\":\"podmesh\",\"log_level\":\"debug\","
	    "\"log_file_path\":\"/var/log/calico/cni/cni.log\","
	    "\"datastore_type\":\"etcdv3\",\"nodename\":\"node-a\","
	    "\"nodename_file\":\"/var/lib/calico/nodename\","
	    "\"hostname\":\"old\",\"mtu\":0,"
	    "\"ipam_lock_file\":\"/var/run/calico/ipam.lock\","
	    "\"include_default_routes\":true,"
	    "\"feature_control\":{\"floating_ips\":false},"
	    "\"container_settings\":{\"allow_ip_forwarding\":true},"
	    "\"ipam\":{\"type\":\"calico-ipam\",\"subnet\":\"usePodCidr\","
	    "\"assign_ipv4\":\"false\",\"assign_ipv6\":\"true\","
	    "\"ipv4_pools\":[\"198.18.0.0/16\",\"198.19.0.1/24\"],"
	    "\"ipv6_pools\":[\"2001:db8:1::/48\"]},"
	    "\"policy\":{\"type\":\"k8s\",\"k8s_client_certificate\":\"c\","
	    "\"k8s_client_key\":\"k\",\"k8s_certificate_authority\":\"ca\"},"
	    "\"kubernetes\":{\"kubeconfig\":\"/etc/cni/net.d/kc\","
	    "\"k8s_api_root\":\"https://10.96.0.1:443\","
	    "\"node_name\":\"node-a\"},"
	    "\"prevResult\":{\"cniVersion\":\"0.3.1\",\"ips\":[]},"
	    "\"runtimeConfig\":{\"portMappings\":[]},"
	    "\"args\":{\"cni\":{\"ips\":[\"198.18.0.9\"]}},"
	    "\"unknown_field\":[1,2,{\"x\":null}],\"snat\":true}";
	struct cni_netconf nc;
	struct cni_error err;
	char buf[PREFIX_STRLEN];

	assert_int_equal(parse(conf, &nc, &err), 0);
	assert_string_equal(nc.cni_version, "0.3.1");
	assert_string_equal(nc.log_file_path, "/var/log/calico/cni/cni.log");
	assert_string_equal(nc.datastore_type, "etcdv3");
	assert_string_equal(nc.nodename, "node-a");
	assert_string_equal(nc.nodename_file, "/var/lib/calico/nodename");
	assert_string_equal(nc.hostname, "old");
	assert_int_equal(nc.mtu, 0);
	assert_string_equal(nc.ipam_lock_file, "/var/run/calico/ipam.lock");
	assert_true(nc.include_default_routes);
	assert_true(
	    json_is_false(json_object_get(nc.feature_control, "floating_ips")));
	assert_true(json_is_true(
	    json_object_get(nc.container_settings, "allow_ip_forwarding")));
	assert_string_equal(nc.ipam.subnet, "usePodCidr");
	assert_false(nc.ipam.assign_ipv4);
	assert_true(nc.ipam.assign_ipv6);
	assert_int_equal(nc.ipam.nipv4_pools, 2);
	assert_string_equal(
	    prefix_ntop(&nc.ipam.ipv4_pools[1], buf, sizeof(buf)),
	    "198.19.0.0/24");
	assert_int_equal(nc.ipam.nipv6_pools, 1);
	assert_string_equal(
	    prefix_ntop(&nc.ipam.ipv6_pools[0], buf, sizeof(buf)),
	    "2001:db8:1::/48");
	assert_string_equal(nc.policy.k8s_client_certificate, "c");
	assert_string_equal(nc.policy.k8s_client_key, "k");
	assert_string_equal(nc.policy.k8s_certificate_authority, "ca");
	assert_string_equal(
	    nc.kubernetes.k8s_api_root, "https://10.96.0.1:443");
	assert_string_equal(nc.kubernetes.node_name, "node-a");
	assert_string_equal(
	    json_string_value(json_object_get(nc.prev_result, "cniVersion")),
	    "0.3.1");
	assert_non_null(json_object_get(nc.runtime_config, "portMappings"));
	assert_non_null(json_object_get(nc.args, "cni"));
	cni_netconf_clear(&nc);
}

/* assign_ipv4 is on unless "false", assign_ipv6 off unless "true". */
static void
test_assign_strings(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;

	assert_int_equal(parse("{\"ipam\":{\"assign_ipv4\":\"False\","
	                       "\"assign_ipv6\":\"yes\"}}",
	                     &nc, &err),
	    0);
	assert_true(nc.ipam.assign_ipv4);
	assert_false(nc.ipam.assign_ipv6);
	assert_string_equal(nc.cni_version, "0.1.0");
	cni_netconf_clear(&nc);
}

static void
test_bad_configs(void **state)
{
	static const struct {
		const char *conf;
		int code;
		const char *msg;
	} v[] = {
	    {"{\"cniVersion\":\"0.5.0\"}", 1, "incompatible CNI versions"},
	    {"{\"cniVersion\":7}", 7, "cniVersion: not a string"},
	    {"{\"cniVersion\":\"1.0.0\",", 6, NULL},
	    {"", 6, NULL},
	    {"[1]", 6, "decoding network config: not a JSON object"},
	    {"{\"a\":1,\"a\":2}", 6, NULL},
	    {"{\"mtu\":575}", 7, "mtu: 575 out of range 576..9000"},
	    {"{\"mtu\":9001}", 7, "mtu: 9001 out of range 576..9000"},
	    {"{\"mtu\":\"1500\"}", 7, "mtu: not an integer"},
	    {"{\"mtu\":1500.5}", 7, "mtu: not an integer"},
	    {"{\"name\":3}", 7, "name: not a string"},
	    {"{\"nodename\":[]}", 7, "nodename: not a string"},
	    {"{\"ipam\":\"x\"}", 7, "ipam: not an object"},
	    {"{\"ipam\":{\"assign_ipv4\":false}}", 7,
	        "ipam.assign_ipv4: not a string"},
	    {"{\"ipam\":{\"assign_ipv6\":true}}", 7,
	        "ipam.assign_ipv6: not a string"},
	    {"{\"ipam\":{\"ipv4_pools\":\"198.18.0.0/16\"}}", 7,
	        "ipam.ipv4_pools: not an array"},
	    {"{\"ipam\":{\"ipv4_pools\":[\"198.18.0.0/16\",\"x\"]}}", 7,
	        "ipam.ipv4_pools[1]: invalid CIDR \"x\""},
	    {"{\"ipam\":{\"ipv4_pools\":[\"2001:db8::/64\"]}}", 7,
	        "ipam.ipv4_pools[0]: invalid CIDR \"2001:db8::/64\""},
	    {"{\"ipam\":{\"ipv6_pools\":[\"2001:db8::/129\"]}}", 7,
	        "ipam.ipv6_pools[0]: invalid CIDR \"2001:db8::/129\""},
	    {"{\"ipam\":{\"ipv6_pools\":[1]}}", 7,
	        "ipam.ipv6_pools[0]: not a string"},
	    {"{\"policy\":{\"k8s_auth_token\":1}}", 7,
	        "policy.k8s_auth_token: not a string"},
	    {"{\"kubernetes\":{\"node_name\":false}}", 7,
	        "kubernetes.node_name: not a string"},
	    {"{\"include_default_routes\":\"true\"}", 7,
	        "include_default_routes: not a boolean"},
	    {"{\"prevResult\":[]}", 7, "prevResult: not an object"},
	    {"{\"feature_control\":1}", 7, "feature_control: not an object"},
	};
	struct cni_netconf nc;
	struct cni_error err;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (parse(v[i].conf, &nc, &err) != -1)
			fail_msg("accepted %s", v[i].conf);
		if (err.code != v[i].code)
			fail_msg("%s: code %d", v[i].conf, err.code);
		if (v[i].msg != NULL)
			assert_string_equal(err.msg, v[i].msg);
		else
			assert_true(strncmp(err.msg,
			                "decoding network config: ", 25) == 0);
		assert_null(nc.root);
	}
	/* code 1 names the version in details */
	assert_int_equal(parse("{\"cniVersion\":\"0.5.0\"}", &nc, &err), -1);
	assert_non_null(strstr(err.details, "config is \"0.5.0\""));
}

static void
test_null_is_absent(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;

	assert_int_equal(parse("{\"mtu\":null,\"ipam\":null,\"name\":null,"
	                       "\"cniVersion\":null,\"prevResult\":null}",
	                     &nc, &err),
	    0);
	assert_int_equal(nc.mtu, 0);
	assert_null(nc.name);
	assert_null(nc.prev_result);
	assert_string_equal(nc.cni_version, "0.1.0");
	cni_netconf_clear(&nc);
}

/* ---- CNI_ARGS and the environment ---- */

static void
test_args(void **state)
{
	struct cni_args a;
	struct cni_error err;
	char buf[ADDR_STRLEN];

	assert_int_equal(
	    cni_args_parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=default;"
	                   "K8S_POD_NAME=nginx-1;"
	                   "K8S_POD_INFRA_CONTAINER_ID=abc123;"
	                   "IP=198.18.0.7,2001:db8::7",
	        &a, &err),
	    0);
	assert_string_equal(a.k8s_pod_namespace, "default");
	assert_string_equal(a.k8s_pod_name, "nginx-1");
	assert_string_equal(a.k8s_pod_infra_container_id, "abc123");
	assert_int_equal(a.nips, 2);
	assert_string_equal(
	    addr_ntop(&a.ips[0], buf, sizeof(buf)), "198.18.0.7");
	assert_string_equal(
	    addr_ntop(&a.ips[1], buf, sizeof(buf)), "2001:db8::7");
	cni_args_clear(&a);

	assert_int_equal(cni_args_parse("", &a, &err), 0);
	assert_int_equal(cni_args_parse(NULL, &a, &err), 0);
	assert_int_equal(cni_args_parse("K8S_POD_NAME=", &a, &err), 0);
	assert_string_equal(a.k8s_pod_name, "");
	cni_args_clear(&a);
}

static void
test_args_bad(void **state)
{
	static const struct {
		const char *s;
		const char *msg;
	} v[] = {
	    {"K8S_POD_NAME", "CNI_ARGS: invalid pair \"K8S_POD_NAME\""},
	    {"A=1;;B=2", "CNI_ARGS: invalid pair \"\""},
	    {"A=1;", "CNI_ARGS: invalid pair \"\""},
	    {"=x", "CNI_ARGS: invalid pair \"=x\""},
	    {"IP=300.1.1.1", "CNI_ARGS: IP: invalid address \"300.1.1.1\""},
	    {"IP=", "CNI_ARGS: IP: invalid address \"\""},
	    {"IP=198.18.0.1,198.18.0.2,198.18.0.3",
	        "CNI_ARGS: IP: invalid address "
	        "\"198.18.0.1,198.18.0.2,198.18.0.3\""},
	    {"IP=198.18.0.1;IP=198.18.0.2", "CNI_ARGS: IP given twice"},
	};
	struct cni_args a;
	struct cni_error err;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (cni_args_parse(v[i].s, &a, &err) != -1)
			fail_msg("accepted %s", v[i].s);
		assert_int_equal(err.code, CNI_ERR_ENV);
		assert_string_equal(err.msg, v[i].msg);
		assert_null(a.k8s_pod_name);
	}
}

/* A fake environment: NULL-terminated NAME, value pairs. */
static const char *
fake_getenv(void *arg, const char *name)
{
	const char **e = arg;

	for (; e[0] != NULL; e += 2)
		if (strcmp(e[0], name) == 0)
			return e[1];
	return NULL;
}

static void
test_env(void **state)
{
	const char *add[] = {"CNI_COMMAND", "ADD", "CNI_CONTAINERID",
	    "f00d.c-1_x", "CNI_NETNS", "/var/run/netns/pm", "CNI_IFNAME",
	    "eth0", "CNI_PATH", "/usr/lib/cni:/opt/cni/bin", "CNI_ARGS",
	    "K8S_POD_NAMESPACE=ns;K8S_POD_NAME=p", NULL};
	const char *del[] = {"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "c1",
	    "CNI_IFNAME", "eth0", "CNI_PATH", "/usr/lib/cni", NULL};
	const char *ver[] = {"CNI_COMMAND", "VERSION", NULL};
	const char *gc[] = {"CNI_COMMAND", "GC", "CNI_PATH", "/x", NULL};
	struct cni_env env;
	struct cni_error err;

	assert_int_equal(cni_env_parse(fake_getenv, add, &env, &err), 0);
	assert_int_equal(env.command, CNI_CMD_ADD);
	assert_string_equal(env.container_id, "f00d.c-1_x");
	assert_string_equal(env.netns, "/var/run/netns/pm");
	assert_string_equal(env.ifname, "eth0");
	assert_string_equal(env.path, "/usr/lib/cni:/opt/cni/bin");
	assert_string_equal(env.args.k8s_pod_namespace, "ns");
	assert_string_equal(env.args.k8s_pod_name, "p");
	cni_env_clear(&env);

	assert_int_equal(cni_env_parse(fake_getenv, del, &env, &err), 0);
	assert_int_equal(env.command, CNI_CMD_DEL);
	assert_null(env.netns);
	cni_env_clear(&env);

	assert_int_equal(cni_env_parse(fake_getenv, ver, &env, &err), 0);
	assert_int_equal(env.command, CNI_CMD_VERSION);
	cni_env_clear(&env);

	assert_int_equal(cni_env_parse(fake_getenv, gc, &env, &err), 0);
	assert_int_equal(env.command, CNI_CMD_GC);
	assert_null(env.container_id);
	cni_env_clear(&env);
}

static void
test_env_bad(void **state)
{
	static const struct {
		const char *env[14];
		const char *msg;
	} v[] = {
	    {{NULL}, "CNI_COMMAND: not set"},
	    {{"CNI_COMMAND", "add", NULL},
	        "CNI_COMMAND: unknown command \"add\""},
	    {{"CNI_COMMAND", "ADD", "CNI_NETNS", "/n", "CNI_IFNAME", "eth0",
	         "CNI_PATH", "/p", NULL},
	        "CNI_CONTAINERID: required for ADD but not set"},
	    {{"CNI_COMMAND", "CHECK", "CNI_CONTAINERID", "c", "CNI_IFNAME",
	         "eth0", "CNI_PATH", "/p", NULL},
	        "CNI_NETNS: required for CHECK but not set"},
	    {{"CNI_COMMAND", "ADD", "CNI_CONTAINERID", "c", "CNI_NETNS", "/n",
	         "CNI_IFNAME", "", "CNI_PATH", "/p", NULL},
	        "CNI_IFNAME: required for ADD but not set"},
	    {{"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "c", "CNI_IFNAME",
	         "eth0", NULL},
	        "CNI_PATH: required for DEL but not set"},
	    {{"CNI_COMMAND", "GC", NULL},
	        "CNI_PATH: required for GC but not set"},
	    {{"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "-c", "CNI_IFNAME",
	         "eth0", "CNI_PATH", "/p", NULL},
	        "CNI_CONTAINERID: invalid container id \"-c\""},
	    {{"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "c", "CNI_IFNAME",
	         "eth0:1", "CNI_PATH", "/p", NULL},
	        "CNI_IFNAME: invalid interface name \"eth0:1\""},
	    {{"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "c", "CNI_IFNAME",
	         "abcdefghijklmnop", "CNI_PATH", "/p", NULL},
	        "CNI_IFNAME: invalid interface name \"abcdefghijklmnop\""},
	    {{"CNI_COMMAND", "DEL", "CNI_CONTAINERID", "c", "CNI_IFNAME",
	         "eth0", "CNI_PATH", "/p", "CNI_ARGS", "x", NULL},
	        "CNI_ARGS: invalid pair \"x\""},
	};
	struct cni_env env;
	struct cni_error err;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		if (cni_env_parse(fake_getenv, (void *)v[i].env, &env, &err) !=
		    -1)
			fail_msg("accepted vector %zu", i);
		assert_int_equal(err.code, CNI_ERR_ENV);
		assert_string_equal(err.msg, v[i].msg);
		assert_null(env.container_id);
	}
}

/* ---- answers ---- */

static void
sample(struct cni_result *r)
{
	memset(r, 0, sizeof(*r));
	r->ifaces[0].name = "cali1234567890a";
	r->ifaces[0].mac = "ee:ee:ee:ee:ee:ee";
	r->ifaces[1].name = "eth0";
	r->ifaces[1].mac = "6a:00:00:00:00:01";
	r->ifaces[1].sandbox = "/var/run/netns/x";
	r->ifaces[1].mtu = 1440;
	r->nifaces = 2;
	assert_int_equal(prefix_parse("198.18.0.5/32", &r->ips[0].address), 0);
	assert_int_equal(addr_parse("169.254.1.1", &r->ips[0].gateway), 0);
	r->ips[0].iface = 1;
	assert_int_equal(
	    prefix_parse("2001:db8::5/128", &r->ips[1].address), 0);
	r->ips[1].iface = 1;
	r->nips = 2;
	assert_int_equal(prefix_parse("0.0.0.0/0", &r->routes[0].dst), 0);
	assert_int_equal(addr_parse("169.254.1.1", &r->routes[0].gw), 0);
	assert_int_equal(prefix_parse("::/0", &r->routes[1].dst), 0);
	assert_int_equal(
	    addr_parse("fe80::ecee:eeff:feee:eeee", &r->routes[1].gw), 0);
	assert_int_equal(prefix_parse("198.18.0.0/15", &r->routes[2].dst), 0);
	r->nroutes = 3;
	r->dns.nameservers[0] = "10.96.0.10";
	r->dns.nnameservers = 1;
	r->dns.search[0] = "svc.cluster.local";
	r->dns.nsearch = 1;
}

#define IFACES                                                                 \
	"\"interfaces\":[{\"name\":\"cali1234567890a\",\"mac\":"               \
	"\"ee:ee:ee:ee:ee:ee\"},{\"name\":\"eth0\",\"mac\":"                   \
	"\"6a:00:00:00:00:01\",\"sandbox\":\"/var/run/netns/x\"}]"
#define ROUTES                                                                 \
	"\"routes\":[{\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1.1\"},{\"dst\":" \
	"\"::/0\",\"gw\":\"fe80::ecee:eeff:feee:eeee\"},{\"dst\":"             \
	"\"198.18.0.0/15\"}]"
#define DNS                                                                    \
	"\"dns\":{\"nameservers\":[\"10.96.0.10\"],\"search\":["               \
	"\"svc.cluster.local\"]}"

static void
check_encode(const char *version, const char *want)
{
	struct cni_result r;
	struct cni_error err;
	char *s;

	sample(&r);
	s = cni_result_encode(&r, version, &err);
	assert_non_null(s);
	assert_string_equal(s, want);
	free(s);
}

static void
test_result_versions(void **state)
{
	static const char *legacy = ",\"ip4\":{\"ip\":\"198.18.0.5/32\","
	                            "\"gateway\":\"169.254.1.1\",\"routes\":[{"
	                            "\"dst\":\"0.0.0.0/0\",\"gw\":\"169.254.1."
	                            "1\"},{\"dst\":\"198.18.0.0/15\"}]},"
	                            "\"ip6\":{\"ip\":\"2001:db8::5/128\","
	                            "\"routes\":[{\"dst\":\"::/0\",\"gw\":"
	                            "\"fe80::ecee:eeff:feee:eeee\"}]}," DNS "}";
	char want[1024];

	snprintf(want, sizeof(want), "{\"cniVersion\":\"0.1.0\"%s", legacy);
	check_encode("0.1.0", want);
	snprintf(want, sizeof(want), "{\"cniVersion\":\"0.2.0\"%s", legacy);
	check_encode("0.2.0", want);

	check_encode("0.3.1",
	    "{\"cniVersion\":\"0.3.1\"," IFACES
	    ",\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":"
	    "\"198.18.0.5/32\",\"gateway\":\"169.254.1.1\"},{\"version\":"
	    "\"6\",\"interface\":1,\"address\":\"2001:db8::5/128\"}]," ROUTES
	    "," DNS "}");
	check_encode("0.4.0",
	    "{\"cniVersion\":\"0.4.0\"," IFACES
	    ",\"ips\":[{\"version\":\"4\",\"interface\":1,\"address\":"
	    "\"198.18.0.5/32\",\"gateway\":\"169.254.1.1\"},{\"version\":"
	    "\"6\",\"interface\":1,\"address\":\"2001:db8::5/128\"}]," ROUTES
	    "," DNS "}");
	check_encode("1.0.0",
	    "{\"cniVersion\":\"1.0.0\"," IFACES
	    ",\"ips\":[{\"interface\":1,\"address\":\"198.18.0.5/32\","
	    "\"gateway\":\"169.254.1.1\"},{\"interface\":1,\"address\":"
	    "\"2001:db8::5/128\"}]," ROUTES "," DNS "}");
	check_encode("1.1.0",
	    "{\"cniVersion\":\"1.1.0\",\"interfaces\":[{\"name\":"
	    "\"cali1234567890a\",\"mac\":\"ee:ee:ee:ee:ee:ee\"},{\"name\":"
	    "\"eth0\",\"mac\":\"6a:00:00:00:00:01\",\"mtu\":1440,\"sandbox\":"
	    "\"/var/run/netns/x\"}],\"ips\":[{\"interface\":1,\"address\":"
	    "\"198.18.0.5/32\",\"gateway\":\"169.254.1.1\"},{\"interface\":1,"
	    "\"address\":\"2001:db8::5/128\"}]," ROUTES "," DNS "}");
}

/* An IPAM-style result: no interfaces, no index, empty DNS. */
static void
test_result_minimal(void **state)
{
	struct cni_result r;
	struct cni_error err;
	char *s;

	memset(&r, 0, sizeof(r));
	assert_int_equal(prefix_parse("198.18.0.9/26", &r.ips[0].address), 0);
	r.ips[0].iface = -1;
	r.nips = 1;
	s = cni_result_encode(&r, "1.0.0", &err);
	assert_string_equal(s,
	    "{\"cniVersion\":\"1.0.0\",\"ips\":[{\"address\":"
	    "\"198.18.0.9/26\"}],\"dns\":{}}");
	free(s);
	s = cni_result_encode(&r, "0.2.0", &err);
	assert_string_equal(s,
	    "{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":"
	    "\"198.18.0.9/26\"},\"dns\":{}}");
	free(s);

	assert_null(cni_result_encode(&r, "0.5.0", &err));
	assert_int_equal(err.code, CNI_ERR_INCOMPATIBLE);
	r.ips[0].iface = 0; /* no interfaces */
	assert_null(cni_result_encode(&r, "1.0.0", &err));
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	assert_string_equal(err.msg, "result: ips[0].interface 0 out of range");
}

static void
test_error_encode(void **state)
{
	struct cni_error err;
	char *s;

	cni_error_set(&err, CNI_ERR_CONFIG,
	    "ipam.ipv4_pools[1]: invalid CIDR \"%s\"", "x");
	s = cni_error_encode(&err, "0.3.1");
	assert_string_equal(s,
	    "{\"cniVersion\":\"0.3.1\",\"code\":7,\"msg\":"
	    "\"ipam.ipv4_pools[1]: invalid CIDR \\\"x\\\"\"}");
	free(s);

	cni_error_set(&err, CNI_ERR_INCOMPATIBLE, "incompatible CNI versions");
	strcpy(err.details, "config is \"9.9.9\"");
	s = cni_error_encode(&err, "9.9.9");
	assert_string_equal(s,
	    "{\"cniVersion\":\"1.1.0\",\"code\":1,\"msg\":"
	    "\"incompatible CNI versions\",\"details\":"
	    "\"config is \\\"9.9.9\\\"\"}");
	free(s);

	/* invalid UTF-8 from CNI_ARGS still gives valid JSON */
	cni_error_set(&err, CNI_ERR_ENV, "CNI_ARGS: invalid pair \"\xff\"");
	s = cni_error_encode(&err, NULL);
	assert_string_equal(s,
	    "{\"cniVersion\":\"1.1.0\",\"code\":4,\"msg\":"
	    "\"CNI_ARGS: invalid pair \\\"?\\\"\"}");
	free(s);
}

static void
test_version_encode(void **state)
{
	char *s;

	s = cni_version_encode("0.4.0");
	assert_string_equal(s,
	    "{\"cniVersion\":\"0.4.0\",\"supportedVersions\":"
	    "[\"0.1.0\",\"0.2.0\",\"0.3.0\",\"0.3.1\","
	    "\"0.4.0\",\"1.0.0\",\"1.1.0\"]}");
	free(s);
	s = cni_version_encode(NULL);
	assert_non_null(strstr(s, "{\"cniVersion\":\"1.1.0\","));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_seed),
	    cmocka_unit_test(test_v3),
	    cmocka_unit_test(test_assign_strings),
	    cmocka_unit_test(test_bad_configs),
	    cmocka_unit_test(test_null_is_absent),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_args_bad),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_env_bad),
	    cmocka_unit_test(test_result_versions),
	    cmocka_unit_test(test_result_minimal),
	    cmocka_unit_test(test_error_encode),
	    cmocka_unit_test(test_version_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
