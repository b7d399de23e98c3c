/*
 * ctl/config.c (compiled into this test by tests/CMakeLists.txt): where
 * podmeshctl finds etcd.  calicoctl.cfg in its v1 (with Calico v2.6's
 * etcdAuthority and etcdScheme) and v3 forms, podmesh's datastore: map,
 * the environment with calicoctl's names of either era (CALICO_ prefix
 * winning; DATASTORE_TYPE=etcdv2 with ETCD_AUTHORITY and ETCD_SCHEME), the
 * search order and the messages for bad files, which name the file, line
 * and field.
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

#include "ctl/ctl.h"

static const char *const env_names[] = {"DATASTORE_TYPE", "ETCD_ENDPOINTS",
    "ETCD_USERNAME", "ETCD_PASSWORD", "ETCD_KEY_FILE", "ETCD_CERT_FILE",
    "ETCD_CA_CERT_FILE", "ETCD_KEY", "ETCD_CERT", "ETCD_CA_CERT",
    "ETCD_DISCOVERY_SRV", "ETCD_AUTHORITY", "ETCD_SCHEME"};

static void
clear_env(void)
{
	char name[64];
	size_t i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++) {
		unsetenv(env_names[i]);
		snprintf(name, sizeof(name), "CALICO_%s", env_names[i]);
		unsetenv(name);
	}
}

static int
setup(void **state)
{
	clear_env();
	return 0;
}

static int
parse(const char *text, struct ctl_dsconfig *c, char *err, size_t errlen)
{
	return ctl_config_parse(text, strlen(text), "t.cfg", c, err, errlen);
}

static void
test_v1(void **state)
{
	struct ctl_dsconfig c;
	char err[512];

	assert_int_equal(
	    parse("apiVersion: v1\n"
	          "kind: calicoApiConfig\n"
	          "metadata:\n"
	          "spec:\n"
	          "  etcdEndpoints: http://e1:2379,http://e2:2379\n"
	          "  etcdUsername: root\n"
	          "  etcdPassword: secret\n"
	          "  etcdKeyFile: /k.pem\n"
	          "  etcdCertFile: /c.pem\n"
	          "  etcdCACertFile: /ca.pem\n",
	        &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.type, CTL_DS_ETCDV2); /* a v1 file's default */
	assert_string_equal(c.endpoints, "http://e1:2379,http://e2:2379");
	assert_string_equal(c.username, "root");
	assert_string_equal(c.password, "secret");
	assert_string_equal(c.key_file, "/k.pem");
	assert_string_equal(c.cert_file, "/c.pem");
	assert_string_equal(c.ca_file, "/ca.pem");
	assert_string_equal(c.source, "t.cfg");
	ctl_config_clean(&c);

	/* the v3-only inline PEM is not a v1 field */
	assert_int_equal(parse("apiVersion: v1\n"
	                       "kind: calicoApiConfig\n"
	                       "spec:\n"
	                       "  datastoreType: etcdv2\n"
	                       "  etcdCACert: abc\n",
	                     &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "t.cfg:5: spec.etcdCACert: unknown field in a v1 configuration");
}

/*
 * Calico v2.6's calicoctl.cfg names one etcd as etcdScheme://etcdAuthority
 * (libcalico-go v1: scheme "http" and authority "127.0.0.1:2379" by
 * default; etcdEndpoints, when given, wins).
 */
static void
test_v1_authority(void **state)
{
	static const struct {
		const char *spec;
		const char *endpoints;
	} cases[] = {
	    {"  etcdAuthority: etcd.example:2379\n",
	        "http://etcd.example:2379"},
	    {"  etcdAuthority: 10.0.0.1:4001\n  etcdScheme: https\n",
	        "https://10.0.0.1:4001"},
	    {"  etcdScheme: https\n", "https://127.0.0.1:2379"},
	    {"  etcdAuthority: a:2379\n  etcdEndpoints: http://b:2379\n",
	        "http://b:2379"},
	    {"  etcdAuthority: \"\"\n  etcdScheme: \"\"\n",
	        CTL_DEFAULT_ENDPOINT},
	};
	struct ctl_dsconfig c;
	char text[512], err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text),
		    "apiVersion: v1\nkind: calicoApiConfig\nmetadata:\n"
		    "spec:\n  datastoreType: etcdv2\n%s",
		    cases[i].spec);
		if (parse(text, &c, err, sizeof(err)) != 0)
			fail_msg("case %zu: %s", i, err);
		assert_int_equal(c.type, CTL_DS_ETCDV2);
		assert_string_equal(c.endpoints, cases[i].endpoints);
		ctl_config_clean(&c);
	}

	assert_int_equal(parse("apiVersion: v1\nkind: calicoApiConfig\n"
	                       "spec:\n  etcdScheme: ftp\n",
	                     &c, err, sizeof(err)),
	    -1);
	assert_string_equal(
	    err, "t.cfg:4: spec.etcdScheme: expected http or https");
	assert_int_equal(parse("apiVersion: v1\nkind: calicoApiConfig\n"
	                       "spec:\n  etcdAuthority: http://a:2379\n",
	                     &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "t.cfg:4: spec.etcdAuthority: expected HOST:PORT (the scheme goes "
	    "in etcdScheme, several endpoints in etcdEndpoints)");
	/* v2.6's fields are not v3's */
	assert_int_equal(parse("apiVersion: projectcalico.org/v3\n"
	                       "kind: CalicoAPIConfig\n"
	                       "spec:\n  etcdAuthority: a:2379\n",
	                     &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err,
	    "t.cfg:4: spec.etcdAuthority: unknown field in a "
	    "projectcalico.org/v3 configuration (Calico v2.6's; use "
	    "etcdEndpoints)");
}

static void
test_v3(void **state)
{
	struct ctl_dsconfig c;
	char err[512], buf[64];
	FILE *f;

	assert_int_equal(parse("apiVersion: projectcalico.org/v3\n"
	                       "kind: CalicoAPIConfig\n"
	                       "metadata: {}\n"
	                       "spec:\n"
	                       "  datastoreType: etcdv3\n"
	                       "  etcdEndpoints: https://e1:2379\n"
	                       "  etcdCACert: |\n"
	                       "    -----BEGIN CERTIFICATE-----\n"
	                       "  k8sAPIEndpoint: ignored\n",
	                     &c, err, sizeof(err)),
	    0);
	assert_int_equal(c.type, CTL_DS_ETCDV3);
	assert_string_equal(c.endpoints, "https://e1:2379");
	assert_null(c.username);
	/* inline PEM went to a private file */
	assert_non_null(c.ca_file);
	assert_int_equal(c.ntmpfiles, 1);
	f = fopen(c.ca_file, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "-----BEGIN CERTIFICATE-----\n");
	snprintf(buf, sizeof(buf), "%s", c.ca_file);
	ctl_config_clean(&c);
	assert_int_equal(access(buf, F_OK), -1); /* removed */

	/* no endpoints: the default */
	assert_int_equal(parse("apiVersion: projectcalico.org/v3\n"
	                       "kind: CalicoAPIConfig\n",
	                     &c, err, sizeof(err)),
	    0);
	assert_string_equal(c.endpoints, CTL_DEFAULT_ENDPOINT);
	ctl_config_clean(&c);
}

static void
test_native(void **state)
{
	struct ctl_dsconfig c;
	char err[512];

	assert_int_equal(parse("datastore:\n"
	                       "  type: etcdv3\n"
	                       "  endpoints: [http://a:2379, http://b:2379]\n"
	                       "  ca-file: /ca.pem\n"
	                       "  cert-file: /c.pem\n"
	                       "  key-file: /k.pem\n",
	                     &c, err, sizeof(err)),
	    0);
	assert_string_equal(c.endpoints, "http://a:2379,http://b:2379");
	assert_string_equal(c.ca_file, "/ca.pem");
	assert_string_equal(c.cert_file, "/c.pem");
	assert_string_equal(c.key_file, "/k.pem");
	ctl_config_clean(&c);

	assert_int_equal(parse("datastore:\n"
	                       "  endpoints: http://a:2379\n"
	                       "  ca_file: /x\n",
	                     &c, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "t.cfg:3: datastore.ca_file: unknown field");
}

static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *err;
	} cases[] = {
	    {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
	     "spec:\n  datastoreType: kubernetes\n",
	        "t.cfg:4: spec.datastoreType: the kubernetes datastore is not "
	        "supported; podmeshctl works on etcd"},
	    {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
	     "spec:\n  datastoreType: etcdv2\n",
	        "t.cfg:4: spec.datastoreType: unknown datastore type "
	        "\"etcdv2\" (etcdv3; etcdv2 is the v1 configuration's)"},
	    {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
	     "spec:\n  etcdEndpoint: http://x:2379\n",
	        "t.cfg:4: spec.etcdEndpoint: unknown field"},
	    {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
	     "spec:\n  etcdEndpoints: 42\n",
	        "t.cfg:4: spec.etcdEndpoints: expected a string or a list of "
	        "strings"},
	    {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
	     "spec:\n  etcdCertFile: /c.pem\n",
	        "t.cfg: key: missing: a client certificate needs both a "
	        "certificate and its key"},
	    {"apiVersion: projectcalico.org/v3\nkind: CalicoAPIConfig\n"
	     "spec:\n  etcdCACertFile: /ca.pem\n  etcdCACert: x\n",
	        "t.cfg:5: spec.etcdCACert: give the CA certificate inline or "
	        "as a file, not both"},
	    {"apiVersion: projectcalico.org/v3\nkind: IPPool\n",
	        "t.cfg:2: kind: expected CalicoAPIConfig with apiVersion "
	        "projectcalico.org/v3"},
	    {"apiVersion: v2\nkind: calicoApiConfig\n",
	        "t.cfg:1: apiVersion: expected v1 or projectcalico.org/v3"},
	    {"spec: {}\n",
	        "t.cfg:1: apiVersion: required (v1 with kind calicoApiConfig, "
	        "or projectcalico.org/v3 with kind CalicoAPIConfig), or a "
	        "datastore: map"},
	    {"- a\n",
	        "t.cfg: expected one document, a map (calicoctl.cfg or "
	        "podmesh's datastore: section)"},
	    {"apiVersion: v1\nkind: calicoApiConfig\nbogus: 1\n",
	        "t.cfg:3: bogus: unknown field"},
	};
	struct ctl_dsconfig c;
	char err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (parse(cases[i].text, &c, err, sizeof(err)) != -1)
			fail_msg("case %zu parsed", i);
		if (strcmp(err, cases[i].err) != 0)
			fail_msg("case %zu: got \"%s\"\nwanted \"%s\"", i, err,
			    cases[i].err);
	}
	/* a syntax error: the YAML parser's message, with the file */
	assert_int_equal(parse("a: [1\n", &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.cfg:"));
}

static void
test_env(void **state)
{
	struct ctl_dsconfig c;
	char err[512];

	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "default");
	assert_string_equal(c.endpoints, "http://127.0.0.1:2379");
	assert_int_equal(c.type, CTL_DS_ETCDV3);
	ctl_config_clean(&c);

	setenv("ETCD_ENDPOINTS", "http://plain:2379", 1);
	setenv("ETCD_CA_CERT_FILE", "/ca.pem", 1);
	setenv("ETCD_CERT_FILE", "/c.pem", 1);
	setenv("ETCD_KEY_FILE", "/k.pem", 1);
	setenv("ETCD_USERNAME", "u", 1);
	setenv("ETCD_PASSWORD", "p", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.source, "environment");
	assert_string_equal(c.endpoints, "http://plain:2379");
	assert_string_equal(c.ca_file, "/ca.pem");
	assert_string_equal(c.cert_file, "/c.pem");
	assert_string_equal(c.key_file, "/k.pem");
	assert_string_equal(c.username, "u");
	assert_string_equal(c.password, "p");
	ctl_config_clean(&c);

	/* CALICO_ wins, as in libcalico-go's envconfig */
	setenv("CALICO_ETCD_ENDPOINTS", "http://prefixed:2379", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "http://prefixed:2379");
	ctl_config_clean(&c);

	/* a Calico v2.6 host's environment, where migrate runs */
	clear_env();
	setenv("DATASTORE_TYPE", "etcdv2", 1);
	setenv("ETCD_AUTHORITY", "etcd1:2379", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.type, CTL_DS_ETCDV2);
	assert_string_equal(c.endpoints, "http://etcd1:2379");
	assert_string_equal(c.source, "environment");
	ctl_config_clean(&c);
	setenv("ETCD_SCHEME", "https", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "https://etcd1:2379");
	ctl_config_clean(&c);
	setenv("CALICO_ETCD_AUTHORITY", "etcd2:4001", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "https://etcd2:4001");
	ctl_config_clean(&c);
	setenv("ETCD_ENDPOINTS", "http://e1:2379,http://e2:2379", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "http://e1:2379,http://e2:2379");
	assert_int_equal(c.type, CTL_DS_ETCDV2);
	ctl_config_clean(&c);
	/* the authority alone, with no type: the v3 API on that etcd */
	clear_env();
	setenv("ETCD_AUTHORITY", "etcd1:2379", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), 0);
	assert_int_equal(c.type, CTL_DS_ETCDV3);
	assert_string_equal(c.endpoints, "http://etcd1:2379");
	ctl_config_clean(&c);
	setenv("ETCD_SCHEME", "tcp", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), -1);
	assert_string_equal(
	    err, "environment: ETCD_SCHEME: expected http or https");
	clear_env();
	setenv("DATASTORE_TYPE", "etcdv4", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "environment: DATASTORE_TYPE: unknown datastore type \"etcdv4\" "
	    "(etcdv3 or etcdv2)");
	clear_env();

	setenv("DATASTORE_TYPE", "kubernetes", 1);
	assert_int_equal(ctl_config_env(&c, err, sizeof(err)), -1);
	assert_string_equal(err,
	    "environment: DATASTORE_TYPE: the kubernetes "
	    "datastore is not supported; podmeshctl "
	    "works on etcd");
	clear_env();
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_search(void **state)
{
	char dir[] = "/tmp/ctl_config_test.XXXXXX", a[128], b[128], err[512];
	const char *defaults[2];
	struct ctl_dsconfig c;

	assert_non_null(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/podmeshctl.cfg", dir);
	snprintf(b, sizeof(b), "%s/calicoctl.cfg", dir);
	defaults[0] = a;
	defaults[1] = b;
	setenv("ETCD_ENDPOINTS", "http://env:2379", 1);

	/* neither file: the environment */
	assert_int_equal(
	    ctl_config_load(NULL, defaults, 2, &c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "http://env:2379");
	ctl_config_clean(&c);

	/* calicoctl.cfg, and the environment is ignored */
	write_file(b,
	    "apiVersion: v1\nkind: calicoApiConfig\nspec:\n"
	    "  etcdEndpoints: http://calico:2379\n");
	assert_int_equal(
	    ctl_config_load(NULL, defaults, 2, &c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "http://calico:2379");
	assert_string_equal(c.source, b);
	ctl_config_clean(&c);

	/* podmeshctl.cfg before it */
	write_file(a, "datastore: {endpoints: http://podmesh:2379}\n");
	assert_int_equal(
	    ctl_config_load(NULL, defaults, 2, &c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "http://podmesh:2379");
	ctl_config_clean(&c);

	/* --config before both; a missing one is an error, not a fallback */
	assert_int_equal(
	    ctl_config_load(b, defaults, 2, &c, err, sizeof(err)), 0);
	assert_string_equal(c.endpoints, "http://calico:2379");
	ctl_config_clean(&c);
	unlink(b);
	assert_int_equal(
	    ctl_config_load(b, defaults, 2, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "No such file"));

	unlink(a);
	rmdir(dir);
	clear_env();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_v1, setup),
	    cmocka_unit_test_setup(test_v1_authority, setup),
	    cmocka_unit_test_setup(test_v3, setup),
	    cmocka_unit_test_setup(test_native, setup),
	    cmocka_unit_test_setup(test_errors, setup),
	    cmocka_unit_test_setup(test_env, setup),
	    cmocka_unit_test_setup(test_search, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
