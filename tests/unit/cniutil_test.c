/*
 * cni/util.c: the node name's precedence (nodename, nodename_file,
 * hostname, gethostname lowercased) and refusals, the handle id, datastore_type
 * refusal, etcd failures mapped to CNI codes, the ipam_lock_file lock and
 * its timeout, log_file_path creation, stdin and the error on stdout.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "cni/cni.h"
#include "cni/util.h"
#include "lib/log.h"
#include "store/etcd.h"
#include "store/store.h"

static char tmpdir[] = "/tmp/cniutil_test.XXXXXX";

static int
setup_all(void **state)
{
	(void)state;
	store_init();
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_all(void **state)
{
	char cmd[256];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
parse(const char *s, struct cni_netconf *nc)
{
	struct cni_error err;

	if (cni_netconf_parse(s, strlen(s), nc, &err) == -1)
		fail_msg("parse %s: %s", s, err.msg);
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ---- node name ---- */

static void
test_nodename_precedence(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;
	char conf[1024], file[256], name[256], host[256];

	(void)state;
	snprintf(file, sizeof(file), "%s/nodename", tmpdir);
	write_file(file, "  node-from-file \n\nignored\n");

	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"nodename\":\"node-a\",\"hostname\":\"node-b\","
	    "\"nodename_file\":\"%s\"}",
	    file);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, "node-a");
	cni_netconf_clear(&nc);

	/* the file before the deprecated hostname, as Calico */
	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"hostname\":\"node-b\",\"nodename_file\":\"%s\"}",
	    file);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, "node-from-file");
	cni_netconf_clear(&nc);

	/* no file: hostname */
	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"hostname\":\"node-b\",\"nodename_file\":"
	    "\"%s/absent\"}",
	    tmpdir);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, "node-b");
	cni_netconf_clear(&nc);

	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"nodename_file\":\"%s\"}", file);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, "node-from-file");
	cni_netconf_clear(&nc);

	/* an empty nodename is not set: the next source decides */
	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"nodename\":\"\",\"nodename_file\":\"%s\"}",
	    file);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, "node-from-file");
	cni_netconf_clear(&nc);

	/* nothing set, the default file absent here: gethostname(), lower */
	if (access(CNI_NODENAME_FILE, F_OK) == 0)
		skip();
	parse("{\"name\":\"n\"}", &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	for (char *c = host; *c != '\0'; c++)
		*c = tolower((unsigned char)*c);
	assert_string_equal(name, host);
	cni_netconf_clear(&nc);
}

static void
test_nodename_bad(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;
	char conf[1024], file[256], name[256], host[256];

	(void)state;
	/*
	 * A named file that does not exist, or holds nothing, is the next
	 * source's turn (Calico's nodenameFromFile): the host's name here.
	 */
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	for (char *c = host; *c != '\0'; c++)
		*c = tolower((unsigned char)*c);
	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"nodename_file\":\"%s/absent\"}", tmpdir);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, host);
	cni_netconf_clear(&nc);

	snprintf(file, sizeof(file), "%s/blank", tmpdir);
	write_file(file, " \n");
	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"nodename_file\":\"%s\"}", file);
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), 0);
	assert_string_equal(name, host);
	cni_netconf_clear(&nc);

	/* a file holding an impossible name is refused, naming the file */
	write_file(file, "a/b\n");
	parse(conf, &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_non_null(strstr(err.msg, "nodename_file"));
	assert_non_null(strstr(err.msg, "blank"));
	cni_netconf_clear(&nc);

	parse("{\"name\":\"n\",\"nodename\":\"a/b\"}", &nc);
	assert_int_equal(cni_nodename(&nc, name, sizeof(name), &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_string_equal(err.msg, "nodename: invalid node name \"a/b\"");
	cni_netconf_clear(&nc);

	/* too long for the caller's buffer */
	parse("{\"name\":\"n\",\"nodename\":\"node-with-a-long-name\"}", &nc);
	assert_int_equal(cni_nodename(&nc, name, 8, &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	cni_netconf_clear(&nc);
}

/* ---- handle ---- */

static void
test_handle_id(void **state)
{
	struct cni_netconf nc;
	struct cni_env env;
	struct cni_error err;
	char buf[128];

	(void)state;
	memset(&env, 0, sizeof(env));
	env.container_id = "abc123";
	parse("{\"name\":\"k8s-pod-network\"}", &nc);
	assert_int_equal(cni_handle_id(&nc, &env, buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "k8s-pod-network.abc123");
	assert_int_equal(cni_handle_id(&nc, &env, buf, 10, &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	env.container_id = NULL;
	assert_int_equal(cni_handle_id(&nc, &env, buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, CNI_ERR_ENV);
	cni_netconf_clear(&nc);

	env.container_id = "abc123";
	parse("{\"cniVersion\":\"1.0.0\"}", &nc);
	assert_int_equal(cni_handle_id(&nc, &env, buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_string_equal(err.msg, "name: required");
	cni_netconf_clear(&nc);
}

/* ---- etcd ---- */

static void
test_etcd_datastore_type(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;
	struct etcd *e;

	(void)state;
	parse("{\"name\":\"n\",\"datastore_type\":\"kubernetes\"}", &nc);
	assert_null(cni_etcd_open(&nc, &err));
	assert_int_equal(err.code, CNI_ERR_CONFIG);
	assert_non_null(strstr(
	    err.msg, "datastore_type \"kubernetes\" is not supported: "));
	cni_netconf_clear(&nc);

	parse("{\"name\":\"n\",\"datastore_type\":\"etcdv3\","
	      "\"etcd_endpoints\":\"http://127.0.0.1:1\"}",
	    &nc);
	assert_non_null(e = cni_etcd_open(&nc, &err));
	etcd_free(e);
	cni_netconf_clear(&nc);
}

/* nothing listens on port 1: the runtime is told to try again */
static void
test_etcd_unreachable(void **state)
{
	struct cni_netconf nc;
	struct cni_error err;
	struct etcd_result res;
	struct etcd *e;

	(void)state;
	parse(
	    "{\"name\":\"n\",\"etcd_endpoints\":\"http://127.0.0.1:1\"}", &nc);
	assert_non_null(e = cni_etcd_open(&nc, &err));
	assert_int_equal(etcd_get(e, "/x", &res), -1);
	cni_etcd_error(e, "reading x", &err);
	assert_int_equal(err.code, CNI_ERR_TRY_AGAIN);
	assert_non_null(strstr(err.msg, "reading x"));
	assert_non_null(strstr(err.msg, "127.0.0.1:1"));
	assert_true(err.details[0] != '\0');
	etcd_free(e);
	cni_netconf_clear(&nc);

	/* ETCD_ENDPOINTS when the config has none */
	setenv("ETCD_ENDPOINTS", "http://127.0.0.1:1", 1);
	parse("{\"name\":\"n\"}", &nc);
	assert_non_null(e = cni_etcd_open(&nc, &err));
	assert_int_equal(etcd_get(e, "/x", &res), -1);
	cni_etcd_error(e, "reading x", &err);
	assert_non_null(strstr(err.msg, "127.0.0.1:1"));
	etcd_free(e);
	cni_netconf_clear(&nc);
	unsetenv("ETCD_ENDPOINTS");
}

/* ---- lock ---- */

static void
test_lock(void **state)
{
	struct cni_error err;
	struct timespec t0, t1;
	char path[256];
	long ms;
	int fd, fd2;

	(void)state;
	snprintf(path, sizeof(path), "%s/run/lock/ipam.lock", tmpdir);
	assert_true((fd = cni_lock(path, 100, &err)) >= 0);
	assert_int_equal(access(path, F_OK), 0);

	/* a second open file description waits, then gives up */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(cni_lock(path, 200, &err), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	    (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(ms >= 200 && ms < 2000);
	assert_int_equal(err.code, CNI_ERR_TRY_AGAIN);
	assert_non_null(strstr(err.msg, path));

	close(fd);
	assert_true((fd2 = cni_lock(path, 100, &err)) >= 0);
	close(fd2);

	/* a path that cannot be created */
	assert_int_equal(cni_lock("/proc/nonexistent/x.lock", 10, &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
}

/* ---- logging ---- */

static void
test_log_file(void **state)
{
	struct cni_netconf nc;
	char conf[512], path[256], buf[1024];
	int saved;
	ssize_t n;
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "%s/log/deep/cni.log", tmpdir);
	snprintf(conf, sizeof(conf),
	    "{\"name\":\"n\",\"log_level\":\"WARNING\","
	    "\"log_file_path\":\"%s\"}",
	    path);
	parse(conf, &nc);
	saved = dup(STDERR_FILENO);
	cni_log_setup("cniutil_test", &nc);
	log_info("not at warning level");
	log_warnx("to the file %d", 42);
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	log_init("cniutil_test", LOG_LVL_INFO);
	cni_netconf_clear(&nc);

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "cniutil_test warning: to the file 42"));
	assert_null(strstr(buf, "not at warning level"));

	/* Calico's spellings */
	parse("{\"name\":\"n\",\"log_level\":\"debug\"}", &nc);
	cni_log_setup("cniutil_test", &nc);
	assert_int_equal(log_getlevel(), LOG_LVL_DEBUG);
	cni_netconf_clear(&nc);
	parse("{\"name\":\"n\",\"log_level\":\"Fatal\"}", &nc);
	cni_log_setup("cniutil_test", &nc);
	assert_int_equal(log_getlevel(), LOG_LVL_ERROR);
	cni_netconf_clear(&nc);
	cni_log_setup("cniutil_test", NULL);
	assert_int_equal(log_getlevel(), LOG_LVL_INFO);
}

/* ---- stdin, stdout ---- */

static void
test_stdin(void **state)
{
	struct cni_error err;
	char *buf;
	size_t len;
	int p[2], saved;
	static const char msg[] = "{\"cniVersion\":\"1.0.0\"}";

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], msg, strlen(msg)), (ssize_t)strlen(msg));
	close(p[1]);
	saved = dup(STDIN_FILENO);
	dup2(p[0], STDIN_FILENO);
	close(p[0]);
	assert_int_equal(cni_read_stdin(&buf, &len, &err), 0);
	dup2(saved, STDIN_FILENO);
	close(saved);
	assert_int_equal(len, strlen(msg));
	assert_string_equal(buf, msg);
	free(buf);
}

/* stdin from a file of n bytes of 'x' */
static int
stdin_of(size_t n, char **buf, size_t *len, struct cni_error *err)
{
	char path[256], chunk[65536];
	int fd, saved, rc;
	size_t left;

	snprintf(path, sizeof(path), "%s/stdin", tmpdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	memset(chunk, 'x', sizeof(chunk));
	for (left = n; left > 0;) {
		size_t k = left < sizeof(chunk) ? left : sizeof(chunk);

		assert_int_equal(write(fd, chunk, k), (ssize_t)k);
		left -= k;
	}
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	saved = dup(STDIN_FILENO);
	dup2(fd, STDIN_FILENO);
	close(fd);
	rc = cni_read_stdin(buf, len, err);
	dup2(saved, STDIN_FILENO);
	close(saved);
	unlink(path);
	return rc;
}

/* the limit is CNI_STDIN_MAX bytes, not the next buffer size */
static void
test_stdin_limit(void **state)
{
	struct cni_error err;
	char *buf = NULL, want[128];
	size_t len = 0;

	(void)state;
	assert_int_equal(stdin_of(CNI_STDIN_MAX, &buf, &len, &err), 0);
	assert_int_equal(len, CNI_STDIN_MAX);
	assert_int_equal(buf[len], '\0');
	free(buf);
	buf = NULL;
	assert_int_equal(stdin_of(CNI_STDIN_MAX + 1, &buf, &len, &err), -1);
	assert_null(buf);
	assert_int_equal(err.code, CNI_ERR_DECODE);
	snprintf(want, sizeof(want),
	    "network config on stdin is larger than %d bytes", CNI_STDIN_MAX);
	assert_string_equal(err.msg, want);
	/* 5 MiB, the size that got through when the check ran late */
	assert_int_equal(stdin_of(5 << 20, &buf, &len, &err), -1);
}

static void
test_fail_stdout(void **state)
{
	struct cni_error err;
	char path[256], buf[1024];
	json_t *j;
	int fd, saved, saved_err;
	ssize_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/stdout", tmpdir);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644)) >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	saved_err = dup(STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO); /* the log line must not go to stdout */
	close(fd);
	cni_error_set(&err, CNI_ERR_NO_ADDRESS, "no free address");
	snprintf(err.details, sizeof(err.details), "pool is exhausted");
	assert_int_equal(cni_fail(&err, "0.4.0"), 1);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	dup2(saved_err, STDERR_FILENO);
	close(saved);
	close(saved_err);

	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	/* stdout and stderr shared the file: the JSON is one line of it */
	{
		char *line = strstr(buf, "{\"cniVersion\"");

		assert_non_null(line);
		*strchr(line, '\n') = '\0';
		j = json_loads(line, 0, NULL);
	}
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "code")), 100);
	assert_string_equal(
	    json_string_value(json_object_get(j, "cniVersion")), "0.4.0");
	assert_string_equal(json_string_value(json_object_get(j, "details")),
	    "pool is exhausted");
	json_decref(j);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nodename_precedence),
	    cmocka_unit_test(test_nodename_bad),
	    cmocka_unit_test(test_handle_id),
	    cmocka_unit_test(test_etcd_datastore_type),
	    cmocka_unit_test(test_etcd_unreachable),
	    cmocka_unit_test(test_lock),
	    cmocka_unit_test(test_log_file),
	    cmocka_unit_test(test_stdin),
	    cmocka_unit_test(test_stdin_limit),
	    cmocka_unit_test(test_fail_stdout),
	};

	return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
