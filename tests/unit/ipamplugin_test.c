/*
 * cni/ipam_plugin.c without a datastore: VERSION, and every refusal that
 * comes before or instead of IPAM work, with the CNI code the runtime
 * sees: versions (unknown, CHECK below 0.4.0, GC and STATUS below 1.1.0),
 * the environment, the config (name, nodename, datastore_type,
 * valid-attachments), etcd unreachable for STATUS (50).  Vectors for
 * the config parts the plugin reads itself: requested addresses,
 * prevResult's, valid attachments.  The IPAM work itself
 * is tests/integration/t_cni_ipam.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "cni/cni.h"
#include "cni/ipam_plugin.h"
#include "lib/log.h"
#include "store/store.h"

/* NULL-terminated "NAME=VALUE" list */
static const char *
fake_getenv(void *arg, const char *name)
{
	const char *const *v = arg;
	size_t n = strlen(name);

	for (; *v != NULL; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

#define NOETCD "\"etcd_endpoints\":\"http://127.0.0.1:1\""

static int
run(const char *const *env, const char *conf, char **out, char *version,
    struct cni_error *err)
{
	return ipam_plugin_run(fake_getenv, (void *)env, NULL, conf,
	    strlen(conf), out, version, 16, err);
}

static const char *const env_add[] = {"CNI_COMMAND=ADD", "CNI_CONTAINERID=c1",
    "CNI_NETNS=/var/run/netns/x", "CNI_IFNAME=eth0", "CNI_PATH=/opt/cni/bin",
    NULL};

static void
expect_fail(const char *const *env, const char *conf, int code,
    const char *msg_part, const char *version)
{
	struct cni_error err;
	char v[16], *out;

	memset(&err, 0, sizeof(err));
	assert_int_equal(run(env, conf, &out, v, &err), -1);
	assert_null(out);
	if (err.code != code)
		fail_msg("%s: code %d (%s), wanted %d", conf, err.code, err.msg,
		    code);
	if (strstr(err.msg, msg_part) == NULL)
		fail_msg(
		    "%s: msg \"%s\" lacks \"%s\"", conf, err.msg, msg_part);
	assert_string_equal(v, version);
}

static void
test_version(void **state)
{
	static const char *const env[] = {"CNI_COMMAND=VERSION", NULL};
	struct cni_error err;
	char v[16], *out;
	json_t *j;

	(void)state;
	assert_int_equal(
	    run(env, "{\"cniVersion\":\"0.4.0\"}", &out, v, &err), 0);
	assert_non_null(j = json_loads(out, 0, NULL));
	assert_string_equal(
	    json_string_value(json_object_get(j, "cniVersion")), "0.4.0");
	assert_int_equal(
	    json_array_size(json_object_get(j, "supportedVersions")), 7);
	json_decref(j);
	free(out);

	/* VERSION answers whatever the config is */
	assert_int_equal(run(env, "not json", &out, v, &err), 0);
	assert_non_null(strstr(out, "\"cniVersion\":\"1.1.0\""));
	free(out);
}

static void
test_versions_refused(void **state)
{
	static const char *const env_check[] = {"CNI_COMMAND=CHECK",
	    "CNI_CONTAINERID=c1", "CNI_NETNS=/x", "CNI_IFNAME=eth0",
	    "CNI_PATH=/p", NULL};
	static const char *const env_gc[] = {
	    "CNI_COMMAND=GC", "CNI_PATH=/p", NULL};
	static const char *const env_status[] = {
	    "CNI_COMMAND=STATUS", "CNI_PATH=/p", NULL};

	(void)state;
	expect_fail(env_add, "{\"cniVersion\":\"0.5.0\",\"name\":\"n\"}",
	    CNI_ERR_INCOMPATIBLE, "incompatible CNI versions", "");
	expect_fail(env_check,
	    "{\"cniVersion\":\"0.3.1\",\"name\":\"n\"," NOETCD "}",
	    CNI_ERR_INCOMPATIBLE, "does not allow CHECK", "0.3.1");
	expect_fail(env_gc,
	    "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"," NOETCD "}",
	    CNI_ERR_INCOMPATIBLE, "does not allow GC", "1.0.0");
	expect_fail(env_status,
	    "{\"cniVersion\":\"0.4.0\",\"name\":\"n\"," NOETCD "}",
	    CNI_ERR_INCOMPATIBLE, "does not allow STATUS", "0.4.0");
}

static void
test_bad_input(void **state)
{
	static const char *const env_noid[] = {"CNI_COMMAND=ADD",
	    "CNI_NETNS=/x", "CNI_IFNAME=eth0", "CNI_PATH=/p", NULL};
	static const char *const env_gc[] = {
	    "CNI_COMMAND=GC", "CNI_PATH=/p", NULL};

	(void)state;
	expect_fail(env_add, "{\"cniVersion\":\"1.0.0\",", CNI_ERR_DECODE,
	    "decoding network config", "");
	expect_fail(env_noid, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\"}",
	    CNI_ERR_ENV, "CNI_CONTAINERID", "1.0.0");
	expect_fail(env_add,
	    "{\"cniVersion\":\"1.0.0\",\"nodename\":\"n1\"," NOETCD "}",
	    CNI_ERR_CONFIG, "name: required", "1.0.0");
	expect_fail(env_add,
	    "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"nodename\":\"a/b\"}",
	    CNI_ERR_CONFIG, "nodename: invalid node name", "1.0.0");
	expect_fail(env_add,
	    "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"nodename\":\"n1\","
	    "\"datastore_type\":\"kubernetes\"}",
	    CNI_ERR_CONFIG, "datastore_type \"kubernetes\" is not supported",
	    "1.0.0");
	expect_fail(env_gc,
	    "{\"cniVersion\":\"1.1.0\",\"name\":\"n\",\"nodename\":\"n1\","
	    "\"cni.dev/valid-attachments\":{}," NOETCD "}",
	    CNI_ERR_CONFIG, "cni.dev/valid-attachments", "1.1.0");
}

static void
test_etcd_unreachable(void **state)
{
	static const char *const env_status[] = {
	    "CNI_COMMAND=STATUS", "CNI_PATH=/p", NULL};
	static const char conf[] = "{\"cniVersion\":\"1.1.0\",\"name\":\"n\","
	                           "\"nodename\":\"n1\"," NOETCD "}";

	(void)state;
	/*
	 * ADD and DEL against an unreachable etcd (11) are in
	 * t_cni_ipam.sh: store/ipam_io.c's ipam_hkv_read() leaks the
	 * handle id on that path, which LeakSanitizer would report here.
	 */
	expect_fail(env_status, conf, CNI_ERR_NOT_AVAILABLE,
	    "datastore unavailable", "1.1.0");
}

/* ---- vectors ---- */

static void
conf(const char *s, struct cni_netconf *nc)
{
	struct cni_error err;

	if (cni_netconf_parse(s, strlen(s), nc, &err) == -1)
		fail_msg("parse %s: %s", s, err.msg);
}

static void
expect_requested(const char *cfg, const char *cni_args, const char *want)
{
	struct cni_netconf nc;
	struct cni_args args;
	struct cni_error err;
	struct addr v[2];
	char got[300], a[ADDR_STRLEN];
	size_t n, i, off = 0;

	conf(cfg, &nc);
	assert_int_equal(cni_args_parse(cni_args, &args, &err), 0);
	got[0] = '\0';
	if (ipam_plugin_requested(&nc, &args, v, 2, &n, &err) == -1)
		snprintf(got, sizeof(got), "error %d: %s", err.code, err.msg);
	else
		for (i = 0; i < n; i++)
			off += snprintf(got + off, sizeof(got) - off, "%s%s",
			    i > 0 ? "," : "", addr_ntop(&v[i], a, sizeof(a)));
	if (strcmp(got, want) != 0)
		fail_msg("%s with CNI_ARGS %s: got \"%s\", wanted \"%s\"", cfg,
		    cni_args, got, want);
	cni_args_clear(&args);
	cni_netconf_clear(&nc);
}

static void
test_requested(void **state)
{
	(void)state;
	expect_requested("{}", "", "");
	expect_requested("{\"runtimeConfig\":{\"ips\":null}}", "", "");
	expect_requested("{\"runtimeConfig\":{\"ips\":[\"198.18.0.5/24\","
	                 "\"2001:db8::5/64\"]}}",
	    "", "198.18.0.5,2001:db8::5");
	expect_requested("{\"args\":{\"cni\":{\"ips\":[\"198.18.0.6\"]}},"
	                 "\"runtimeConfig\":{\"ips\":[\"198.18.0.5\"]}}",
	    "", "198.18.0.6");
	/* IP= wins over the config */
	expect_requested("{\"args\":{\"cni\":{\"ips\":[\"198.18.0.6\"]}}}",
	    "IgnoreUnknown=1;IP=198.18.0.7,2001:db8::7",
	    "198.18.0.7,2001:db8::7");
	expect_requested("{\"runtimeConfig\":{\"ips\":\"198.18.0.5\"}}", "",
	    "error 7: runtimeConfig.ips: not an array");
	expect_requested("{\"args\":{\"cni\":{\"ips\":[\"a\",\"b\",\"c\"]}}}",
	    "", "error 7: args.cni.ips: at most 2 addresses");
	expect_requested("{\"args\":{\"cni\":{\"ips\":[\"198.18.0.1\",7]}}}",
	    "", "error 7: args.cni.ips[1]: not an IP address");
	expect_requested("{\"args\":{\"cni\":{\"ips\":[\"fe80::1%eth0\"]}}}",
	    "", "error 7: args.cni.ips[0]: not an IP address");
	expect_requested("{\"runtimeConfig\":{\"ips\":[\"198.18.0.0/33\"]}}",
	    "", "error 7: runtimeConfig.ips[0]: not an IP address");
}

static void
expect_prev(const char *cfg, const char *want)
{
	struct cni_netconf nc;
	struct cni_error err;
	struct addr v[4];
	char got[300], a[ADDR_STRLEN];
	size_t n, i, off = 0;

	conf(cfg, &nc);
	got[0] = '\0';
	if (ipam_plugin_prev_ips(&nc, v, 4, &n, &err) == -1)
		snprintf(got, sizeof(got), "error %d: %s", err.code, err.msg);
	else
		for (i = 0; i < n; i++)
			off += snprintf(got + off, sizeof(got) - off, "%s%s",
			    i > 0 ? "," : "", addr_ntop(&v[i], a, sizeof(a)));
	if (strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", wanted \"%s\"", cfg, got, want);
	cni_netconf_clear(&nc);
}

static void
test_prev_ips(void **state)
{
	(void)state;
	expect_prev("{}", "");
	expect_prev("{\"prevResult\":{\"cniVersion\":\"1.0.0\"}}", "");
	expect_prev("{\"prevResult\":{\"ips\":[{\"address\":\"198.18.0.5/32\"},"
	            "{\"interface\":0,\"address\":\"2001:db8::5/128\"}]}}",
	    "198.18.0.5,2001:db8::5");
	expect_prev("{\"prevResult\":{\"ips\":{}}}",
	    "error 6: prevResult.ips: not an array");
	expect_prev("{\"prevResult\":{\"ips\":[{\"ip\":\"198.18.0.5/32\"}]}}",
	    "error 6: prevResult.ips[0].address: not an address");
	expect_prev("{\"prevResult\":{\"ips\":[{},{},{},{},{}]}}",
	    "error 6: prevResult.ips: more than 4 addresses");
}

static void
test_attachments(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;

	(void)state;
	/* absent: refused, or GC would take every handle of the network */
	conf("{}", &nc);
	assert_int_equal(ipam_plugin_attachments_check(&nc, &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_string_equal(err.msg, "cni.dev/valid-attachments: missing");
	assert_false(ipam_plugin_valid(&nc, "c1"));
	cni_netconf_clear(&nc);

	/* [] says none is valid */
	conf("{\"cni.dev/valid-attachments\":[]}", &nc);
	assert_int_equal(ipam_plugin_attachments_check(&nc, &err), 0);
	assert_false(ipam_plugin_valid(&nc, "c1"));
	cni_netconf_clear(&nc);

	conf("{\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\","
	     "\"ifname\":\"eth0\"},{\"containerID\":\"c2\"}]}",
	    &nc);
	assert_int_equal(ipam_plugin_attachments_check(&nc, &err), 0);
	assert_true(ipam_plugin_valid(&nc, "c1"));
	assert_true(ipam_plugin_valid(&nc, "c2"));
	assert_false(ipam_plugin_valid(&nc, "c"));
	cni_netconf_clear(&nc);

	/* the older key */
	conf("{\"cni.dev/attachments\":[{\"containerID\":\"c3\"}]}", &nc);
	assert_int_equal(ipam_plugin_attachments_check(&nc, &err), 0);
	assert_true(ipam_plugin_valid(&nc, "c3"));
	cni_netconf_clear(&nc);

	conf("{\"cni.dev/valid-attachments\":\"c1\"}", &nc);
	assert_int_equal(ipam_plugin_attachments_check(&nc, &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	cni_netconf_clear(&nc);

	conf("{\"cni.dev/valid-attachments\":[{\"containerID\":\"c1\"},"
	     "{\"containerID\":\"\"}]}",
	    &nc);
	assert_int_equal(ipam_plugin_attachments_check(&nc, &err), -1);
	assert_string_equal(err.msg,
	    "cni.dev/valid-attachments[1].containerID: not a container id");
	cni_netconf_clear(&nc);
}

static int
setup(void **state)
{
	(void)state;
	store_init();
	log_init("ipamplugin_test", LOG_LVL_ERROR);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_version),
	    cmocka_unit_test(test_versions_refused),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_etcd_unreachable),
	    cmocka_unit_test(test_requested),
	    cmocka_unit_test(test_prev_ips),
	    cmocka_unit_test(test_attachments),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
