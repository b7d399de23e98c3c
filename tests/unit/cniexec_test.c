/*
 * cni/exec.c: finding plugins over CNI_PATH, running them with fake
 * plugins written as small /bin/sh scripts into a temporary dir (stdin,
 * environment, results, error JSON, garbage, signals, the timeout, a
 * megabyte each way without deadlock) and the IPAM delegation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cni/exec.h"

static char tmpdir[] = "/tmp/cniexec_test.XXXXXX";
static char dir_a[64], dir_b[64], path_ab[160];

static void
write_file(const char *dir, const char *name, const char *body, mode_t mode)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

/* A plugin in dir_a, run with command ADD and the given stdin. */
static int
run(const char *body, const char *in, int timeout_ms, json_t **out,
    struct cni_error *err)
{
	char bin[256];

	write_file(dir_a, "p", body, 0755);
	snprintf(bin, sizeof(bin), "%s/p", dir_a);
	memset(err, 0, sizeof(*err));
	return cni_exec(bin, "ADD", NULL, in, in != NULL ? strlen(in) : 0,
	    timeout_ms, out, err);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(dir_a, sizeof(dir_a), "%s/a", tmpdir);
	snprintf(dir_b, sizeof(dir_b), "%s/b", tmpdir);
	snprintf(path_ab, sizeof(path_ab), "%s::%s", dir_a, dir_b);
	if (mkdir(dir_a, 0755) == -1 || mkdir(dir_b, 0755) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_find(void **state)
{
	struct cni_error err;
	char buf[256], want[256];

	(void)state;
	write_file(dir_b, "only-b", "exit 0", 0755);
	write_file(dir_a, "both", "exit 0", 0755);
	write_file(dir_b, "both", "exit 0", 0755);
	/* not executable in a: b's is the one */
	write_file(dir_a, "noexec", "exit 0", 0644);
	write_file(dir_b, "noexec", "exit 0", 0755);

	assert_int_equal(
	    cni_find_plugin(path_ab, "only-b", buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/only-b", dir_b);
	assert_string_equal(buf, want);
	assert_int_equal(
	    cni_find_plugin(path_ab, "both", buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/both", dir_a);
	assert_string_equal(buf, want);
	assert_int_equal(
	    cni_find_plugin(path_ab, "noexec", buf, sizeof(buf), &err), 0);
	snprintf(want, sizeof(want), "%s/noexec", dir_b);
	assert_string_equal(buf, want);
	/* a directory is not a plugin */
	assert_int_equal(
	    cni_find_plugin(tmpdir, "a", buf, sizeof(buf), &err), -1);
}

static void
test_find_missing(void **state)
{
	struct cni_error err;
	char buf[256], want[256];

	(void)state;
	assert_int_equal(
	    cni_find_plugin(path_ab, "nope", buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
	snprintf(want, sizeof(want),
	    "failed to find plugin \"nope\" in path [%s %s]", dir_a, dir_b);
	assert_string_equal(err.msg, want);

	assert_int_equal(
	    cni_find_plugin(path_ab, "../a/x", buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_int_equal(
	    cni_find_plugin(path_ab, "", buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_int_equal(
	    cni_find_plugin(NULL, "nope", buf, sizeof(buf), &err), -1);
	assert_string_equal(
	    err.msg, "failed to find plugin \"nope\" in path []");
}

static void
test_stdin_through(void **state)
{
	static const char conf[] =
	    "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"type\":\"p\"}";
	struct cni_error err;
	json_t *out, *want;

	(void)state;
	assert_int_equal(run("exec cat", conf, 0, &out, &err), 0);
	want = json_loads(conf, 0, NULL);
	assert_true(json_equal(out, want));
	json_decref(want);
	json_decref(out);
}

static void
test_env(void **state)
{
	char bin[256];
	char *envp[] = {"CNI_COMMAND=DEL", "X=y", NULL};
	struct cni_error err;
	json_t *out;

	(void)state;
	setenv("CNI_COMMAND", "VERSION", 1);
	setenv("CNIEXEC_TEST", "kept", 1);
	assert_int_equal(
	    run("printf '{\"c\":\"%s\",\"t\":\"%s\",\"x\":\"%s\"}' "
	        "\"$CNI_COMMAND\" \"$CNIEXEC_TEST\" \"$X\"",
	        NULL, 0, &out, &err),
	    0);
	/* envp NULL: ours, CNI_COMMAND replaced */
	assert_string_equal(
	    json_string_value(json_object_get(out, "c")), "ADD");
	assert_string_equal(
	    json_string_value(json_object_get(out, "t")), "kept");
	json_decref(out);

	snprintf(bin, sizeof(bin), "%s/p", dir_a);
	assert_int_equal(cni_exec(bin, "ADD", envp, NULL, 0, 0, &out, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "c")), "DEL");
	assert_string_equal(json_string_value(json_object_get(out, "t")), "");
	assert_string_equal(json_string_value(json_object_get(out, "x")), "y");
	json_decref(out);
	unsetenv("CNI_COMMAND");
	unsetenv("CNIEXEC_TEST");
}

/* A descriptor of ours without FD_CLOEXEC does not reach the plugin. */
static void
test_fds(void **state)
{
	struct cni_error err;
	json_t *out;
	int fd;

	(void)state;
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd > 2);
	assert_int_equal(run("ls /proc/self/fd | sort -n | tr '\\n' ' ' | "
	                     "sed 's/^/{\"fds\":\"/; s/ *$/\"}/'",
	                     NULL, 0, &out, &err),
	    0);
	close(fd);
	/* 0 1 2, and the fd ls itself opens on /proc/self/fd */
	assert_string_equal(
	    json_string_value(json_object_get(out, "fds")), "0 1 2 3");
	json_decref(out);
}

static void
test_result(void **state)
{
	struct cni_error err;
	struct cni_result res;
	json_t *out;
	char buf[PREFIX_STRLEN];

	(void)state;
	assert_int_equal(
	    run("cat >/dev/null; echo '{\"cniVersion\":\"1.0.0\","
	        "\"interfaces\":[{\"name\":\"eth0\",\"sandbox\":\"/n\"}],"
	        "\"ips\":[{\"interface\":0,\"address\":\"198.18.0.5/32\"}]}'",
	        "{}", 0, &out, &err),
	    0);
	assert_int_equal(cni_result_decode(out, &res, &err), 0);
	assert_int_equal(res.nips, 1);
	assert_string_equal(prefix_ntop(&res.ips[0].address, buf, sizeof(buf)),
	    "198.18.0.5/32");
	assert_string_equal(res.ifaces[0].sandbox, "/n");
	json_decref(out);

	/* exit 0 and nothing printed: no result, no error */
	out = (json_t *)1;
	assert_int_equal(run("exit 0", NULL, 0, &out, &err), 0);
	assert_null(out);
	assert_int_equal(run("echo; echo", NULL, 0, &out, &err), 0);
	assert_null(out);

	/* exit 0 with text that is no JSON object */
	assert_int_equal(run("echo '[1]'", NULL, 0, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	assert_non_null(strstr(err.msg, "printed no JSON object: [1]"));
	assert_null(out);
}

static void
test_error_json(void **state)
{
	struct cni_error err;
	json_t *out;

	(void)state;
	assert_int_equal(run("echo '{\"cniVersion\":\"1.0.0\",\"code\":7,"
	                     "\"msg\":\"bad config\",\"details\":\"ipam "
	                     "missing\"}'; exit 1",
	                     "{}", 0, &out, &err),
	    -1);
	assert_null(out);
	assert_int_equal(err.code, 7);
	assert_string_equal(err.msg, "bad config");
	assert_string_equal(err.details, "ipam missing");

	assert_int_equal(
	    run("echo '{\"code\":100,\"msg\":\"no address\"}'; exit 1", "{}", 0,
	        &out, &err),
	    -1);
	assert_int_equal(err.code, 100);
	assert_string_equal(err.msg, "no address");
	assert_string_equal(err.details, "");
}

static void
test_not_json(void **state)
{
	struct cni_error err;
	json_t *out;
	char want[256];

	(void)state;
	assert_int_equal(
	    run("echo 'panic: something'; exit 3", "{}", 0, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	snprintf(want, sizeof(want),
	    "plugin %s/p exited with status 3: panic: something", dir_a);
	assert_string_equal(err.msg, want);

	/* JSON, but not the error object: the text is quoted */
	assert_int_equal(
	    run("echo '{\"code\":\"7\"}'; exit 1", "{}", 0, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	assert_non_null(strstr(err.msg, "status 1: {\"code\":\"7\"}"));

	assert_int_equal(run("kill -9 $$", "{}", 0, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	assert_non_null(strstr(err.msg, "killed by signal 9"));
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
test_timeout(void **state)
{
	struct cni_error err;
	json_t *out;
	long long t0, dt;

	(void)state;
	/* the sleep holds stdout open after its parent is killed */
	t0 = now_ms();
	assert_int_equal(run("echo partial; sleep 5 2>/dev/null; echo done",
	                     "{}", 300, &out, &err),
	    -1);
	dt = now_ms() - t0;
	assert_int_equal(err.code, CNI_ERR_TRY_AGAIN);
	assert_non_null(strstr(err.msg, "timed out after 300 ms"));
	assert_true(dt >= 300);
	assert_true(dt < 2000);
	assert_null(out);
}

/*
 * A plugin that writes 1 MiB before reading its 1 MiB of stdin: both
 * pipes fill, and only a reader that polls both ends gets through.
 */
static void
test_large(void **state)
{
	struct cni_error err;
	json_t *out;
	char *in;
	const char *x;
	size_t n = 1 << 20, i;

	(void)state;
	in = malloc(n + 16);
	assert_non_null(in);
	strcpy(in, "{\"big\":\"");
	memset(in + 8, 'b', n);
	strcpy(in + 8 + n, "\"}");
	assert_int_equal(
	    run("printf '{\"x\":\"'; head -c 1048576 /dev/zero | tr '\\0' a; "
	        "printf '\",\"in\":%d}' $(wc -c)",
	        in, 20000, &out, &err),
	    0);
	x = json_string_value(json_object_get(out, "x"));
	assert_non_null(x);
	assert_int_equal(strlen(x), n);
	for (i = 0; i < n; i++)
		if (x[i] != 'a')
			fail();
	assert_int_equal(
	    json_integer_value(json_object_get(out, "in")), (json_int_t)n + 10);
	json_decref(out);

	/* it exits without reading: no SIGPIPE for us, its answer counts */
	assert_int_equal(run("echo '{\"ok\":true}'", in, 0, &out, &err), 0);
	assert_true(json_is_true(json_object_get(out, "ok")));
	json_decref(out);
	free(in);
}

static void
test_missing_binary(void **state)
{
	struct cni_error err;
	json_t *out;
	char bin[256];

	(void)state;
	snprintf(bin, sizeof(bin), "%s/absent", dir_a);
	assert_int_equal(
	    cni_exec(bin, "ADD", NULL, "{}", 2, 0, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
	assert_non_null(strstr(err.msg, "failed to execute plugin"));
	assert_non_null(strstr(err.msg, "No such file"));
}

static void
ipam_conf(const char *type, struct cni_netconf *nc)
{
	struct cni_error err;
	char conf[256];

	snprintf(conf, sizeof(conf),
	    "{\"cniVersion\":\"1.0.0\",\"name\":\"net\",\"type\":\"podmesh\","
	    "\"ipam\":{\"type\":\"%s\"}}",
	    type);
	assert_int_equal(cni_netconf_parse(conf, strlen(conf), nc, &err), 0);
}

/* Each fake IPAM plugin says who it is, its command and its stdin. */
#define IPAM_BODY(who)                                                         \
	"printf '{\"cniVersion\":\"1.0.0\",\"who\":\"" who                     \
	"\",\"cmd\":\"%s\",\"in\":%s}' \"$CNI_COMMAND\" \"$(cat)\""

static void
test_ipam(void **state)
{
	struct cni_netconf nc;
	struct cni_env env;
	struct cni_error err;
	json_t *out;
	char dir_c[80];

	(void)state;
	snprintf(dir_c, sizeof(dir_c), "%s/c", tmpdir);
	assert_int_equal(mkdir(dir_c, 0755), 0);
	write_file(dir_c, "podmesh-ipam", IPAM_BODY("podmesh-ipam"), 0755);
	write_file(dir_c, "host-local", IPAM_BODY("host-local"), 0755);
	memset(&env, 0, sizeof(env));
	env.path = dir_c;

	/* calico-ipam without a calico-ipam binary: podmesh-ipam */
	ipam_conf("calico-ipam", &nc);
	assert_int_equal(cni_ipam_exec(&nc, &env, "ADD", &out, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "who")), "podmesh-ipam");
	assert_string_equal(
	    json_string_value(json_object_get(out, "cmd")), "ADD");
	assert_true(json_equal(json_object_get(out, "in"), nc.root));
	json_decref(out);

	/* with one installed, it runs */
	write_file(dir_c, "calico-ipam", IPAM_BODY("calico-ipam"), 0755);
	assert_int_equal(cni_ipam_exec(&nc, &env, "ADD", &out, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "who")), "calico-ipam");
	json_decref(out);

	/* DEL: the answer is not handed back */
	out = (json_t *)1;
	assert_int_equal(cni_ipam_exec(&nc, &env, "DEL", &out, &err), 0);
	assert_null(out);
	cni_netconf_clear(&nc);

	ipam_conf("podmesh-ipam", &nc);
	assert_int_equal(cni_ipam_exec(&nc, &env, "ADD", &out, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "who")), "podmesh-ipam");
	json_decref(out);
	cni_netconf_clear(&nc);

	ipam_conf("host-local", &nc);
	assert_int_equal(cni_ipam_exec(&nc, &env, "ADD", &out, &err), 0);
	assert_string_equal(
	    json_string_value(json_object_get(out, "who")), "host-local");
	json_decref(out);
	cni_netconf_clear(&nc);

	ipam_conf("dhcp", &nc);
	assert_int_equal(cni_ipam_exec(&nc, &env, "ADD", &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
	assert_non_null(strstr(err.msg, "failed to find plugin \"dhcp\""));
	cni_netconf_clear(&nc);

	/* an IPAM plugin that prints nothing on ADD has failed */
	write_file(dir_c, "host-local", "exit 0", 0755);
	ipam_conf("host-local", &nc);
	assert_int_equal(cni_ipam_exec(&nc, &env, "ADD", &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_INTERNAL);
	assert_non_null(strstr(err.msg, "no result"));
	cni_netconf_clear(&nc);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_find),
	    cmocka_unit_test(test_find_missing),
	    cmocka_unit_test(test_stdin_through),
	    cmocka_unit_test(test_env),
	    cmocka_unit_test(test_fds),
	    cmocka_unit_test(test_result),
	    cmocka_unit_test(test_error_json),
	    cmocka_unit_test(test_not_json),
	    cmocka_unit_test(test_timeout),
	    cmocka_unit_test(test_large),
	    cmocka_unit_test(test_missing_binary),
	    cmocka_unit_test(test_ipam),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
