/*
 * What the podmesh and podmesh-ipam binaries share around one CNI call
 * (cni/util.h): stdin, logging, the node name as Calico's CNI determines
 * it (cni-plugin release-v3.21 pkg/types DetermineNodename), the etcd
 * client from the network config, the IPAM handle, the answers on stdout
 * and the ipam_lock_file lock.
 *
 * stdout belongs to the runtime: only cni_print() and cni_fail() write
 * there.  Logs go to stderr, or to log_file_path when the config names
 * one (stderr is then pointed at that file, so that lib/log.h and
 * anything a library prints land in the same place).
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cni/util.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"

#define CNI_ETCD_CONNECT_MS 2000
#define CNI_ETCD_TIMEOUT_MS 10000

int
cni_read_stdin(char **bufp, size_t *lenp, struct cni_error *err)
{
	size_t len = 0, cap = 4096;
	char *buf = xmalloc(cap);
	ssize_t n;

	for (;;) {
		if (len > CNI_STDIN_MAX) {
			free(buf);
			cni_error_set(err, CNI_ERR_DECODE,
			    "network config on stdin is larger than %d bytes",
			    CNI_STDIN_MAX);
			return -1;
		}
		if (len + 1 == cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(STDIN_FILENO, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			cni_error_set(err, CNI_ERR_IO, "reading stdin: %s",
			    strerror(errno));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* mkdir -p of path's directory, 0755 */
static int
util_mkdirs(const char *path)
{
	char *dir = xstrdup(path), *p;
	int rc = 0;

	if ((p = strrchr(dir, '/')) == NULL || p == dir) {
		free(dir);
		return 0;
	}
	*p = '\0';
	for (p = dir + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			rc = -1;
		*p = c;
		if (c == '\0')
			break;
	}
	free(dir);
	return rc;
}

/*
 * Calico's levels onto lib/log.h's: panic and fatal are errors here (a
 * plugin has nothing to panic about that an error does not say).
 */
static enum log_level
util_log_level(const char *s)
{
	enum log_level lvl;

	if (s == NULL || *s == '\0')
		return LOG_LVL_INFO;
	if (log_level_parse(s, &lvl) == 0)
		return lvl;
	if (strcasecmp(s, "panic") == 0 || strcasecmp(s, "fatal") == 0)
		return LOG_LVL_ERROR;
	if (strcasecmp(s, "trace") == 0)
		return LOG_LVL_DEBUG;
	return LOG_LVL_INFO;
}

void
cni_log_setup(const char *prog, const struct cni_netconf *nc)
{
	int fd;

	log_init(prog, util_log_level(nc != NULL ? nc->log_level : NULL));
	if (nc == NULL || nc->log_file_path == NULL ||
	    *nc->log_file_path == '\0')
		return;
	if (util_mkdirs(nc->log_file_path) == -1 ||
	    (fd = open(nc->log_file_path,
	         O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		log_warn("log_file_path %s", nc->log_file_path);
		return;
	}
	/* stderr itself becomes the file: log.c writes to stderr */
	fflush(stderr);
	if (dup2(fd, STDERR_FILENO) == -1)
		log_warn("log_file_path %s: dup2", nc->log_file_path);
	close(fd);
}

/*
 * A node name must be an etcd key segment Calico accepts: not empty, no
 * '/', no whitespace or control characters, at most 253 bytes.
 */
static int
util_name_check(const char *field, const char *v, char *buf, size_t len,
    struct cni_error *err)
{
	const char *p;

	if (*v == '\0') {
		cni_error_set(
		    err, CNI_ERR_CONFIG, "%s: empty node name", field);
		return -1;
	}
	for (p = v; *p != '\0'; p++)
		if (*p == '/' || isspace((unsigned char)*p) ||
		    iscntrl((unsigned char)*p))
			break;
	if (*p != '\0' || strlen(v) > MODEL_NAME_MAX || strlen(v) >= len) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "%s: invalid node name \"%.64s\"", field, v);
		return -1;
	}
	strcpy(buf, v);
	return 0;
}

/*
 * The file's first line, whitespace trimmed at both ends; 1 (the next
 * source) when there is no such file, it cannot be read or the line is
 * empty, as Calico's nodenameFromFile() says "" then.
 */
static int
util_read_nodename(
    const char *path, char *buf, size_t len, bool named, struct cni_error *err)
{
	char line[512], field[PATH_MAX + 32], *s, *e;
	FILE *f;

	if ((f = fopen(path, "re")) == NULL) {
		if (named || errno != ENOENT)
			log_warnx(
			    "nodename_file %s: %s; trying the next source",
			    path, strerror(errno));
		return 1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	for (s = line; isspace((unsigned char)*s); s++)
		;
	for (e = s + strlen(s); e > s && isspace((unsigned char)e[-1]); e--)
		;
	*e = '\0';
	if (*s == '\0') {
		log_warnx(
		    "nodename_file %s is empty; trying the next source", path);
		return 1;
	}
	snprintf(field, sizeof(field), "nodename_file %s", path);
	return util_name_check(field, s, buf, len, err);
}

/*
 * Calico's DetermineNodename(): nodename, the nodename file, the
 * deprecated hostname, then the host's name lowercased (names.Hostname),
 * so that the name is calico/node's and the plugin never fails for want
 * of one (a DEL must not, when /var/lib/calico is gone).
 */
int
cni_nodename(
    const struct cni_netconf *nc, char *buf, size_t len, struct cni_error *err)
{
	char host[256], *c;
	bool named;
	int rc;

	if (nc->nodename != NULL && *nc->nodename != '\0')
		return util_name_check("nodename", nc->nodename, buf, len, err);
	named = nc->nodename_file != NULL && *nc->nodename_file != '\0';
	rc = util_read_nodename(named ? nc->nodename_file : CNI_NODENAME_FILE,
	    buf, len, named, err);
	if (rc <= 0)
		return rc;
	if (nc->hostname != NULL && *nc->hostname != '\0')
		return util_name_check("hostname", nc->hostname, buf, len, err);
	if (gethostname(host, sizeof(host)) == -1) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "nodename: not set and gethostname failed: %s",
		    strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	for (c = host; *c != '\0'; c++)
		*c = tolower((unsigned char)*c);
	return util_name_check("hostname (gethostname)", host, buf, len, err);
}

static const char *
util_conf_or_env(const char *conf, const char *env)
{
	const char *v;

	if (conf != NULL && *conf != '\0')
		return conf;
	if ((v = getenv(env)) != NULL && *v != '\0')
		return v;
	return NULL;
}

struct etcd *
cni_etcd_open(const struct cni_netconf *nc, struct cni_error *err)
{
	struct etcd_config ec;
	struct etcd_error ee;
	struct etcd *e;

	if (nc->datastore_type != NULL && *nc->datastore_type != '\0' &&
	    strcmp(nc->datastore_type, "etcdv3") != 0) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "datastore_type \"%.64s\" is not supported: podmesh "
		    "reads and writes Calico's etcd v3 datastore only "
		    "(datastore_type \"etcdv3\" or absent)",
		    nc->datastore_type);
		return NULL;
	}
	memset(&ec, 0, sizeof(ec));
	ec.endpoints = util_conf_or_env(nc->etcd_endpoints, "ETCD_ENDPOINTS");
	ec.ca_file =
	    util_conf_or_env(nc->etcd_ca_cert_file, "ETCD_CA_CERT_FILE");
	ec.cert_file = util_conf_or_env(nc->etcd_cert_file, "ETCD_CERT_FILE");
	ec.key_file = util_conf_or_env(nc->etcd_key_file, "ETCD_KEY_FILE");
	ec.connect_timeout_ms = CNI_ETCD_CONNECT_MS;
	ec.timeout_ms = CNI_ETCD_TIMEOUT_MS;
	memset(&ee, 0, sizeof(ee));
	if ((e = etcd_new(&ec, &ee)) == NULL) {
		cni_error_set(err, CNI_ERR_CONFIG, "etcd configuration");
		snprintf(err->details, sizeof(err->details), "%.500s", ee.msg);
		return NULL;
	}
	return e;
}

void
cni_etcd_error(struct etcd *e, const char *what, struct cni_error *err)
{
	const struct etcd_error *ee = etcd_last_error(e);
	int code = CNI_ERR_IO;

	/* unreachable or too slow: the runtime may try again later */
	if (ee != NULL &&
	    (ee->kind == ETCD_E_CONNECT ||
	        (ee->kind == ETCD_E_SERVER &&
	            (ee->code == 4 /* DEADLINE_EXCEEDED */ ||
	                ee->code == 14 /* UNAVAILABLE */))))
		code = CNI_ERR_TRY_AGAIN;
	cni_error_set(err, code, "%s: etcd %s %s", what, etcd_endpoint(e),
	    code == CNI_ERR_TRY_AGAIN ? "unavailable" : "failed");
	snprintf(err->details, sizeof(err->details), "%.500s",
	    ee != NULL && ee->msg[0] != '\0' ? ee->msg : etcd_error(e));
}

int
cni_handle_id(const struct cni_netconf *nc, const struct cni_env *env,
    char *buf, size_t len, struct cni_error *err)
{
	int n;

	if (nc->name == NULL || *nc->name == '\0') {
		cni_error_set(err, CNI_ERR_CONFIG, "name: required");
		return -1;
	}
	if (strchr(nc->name, '/') != NULL) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "name: \"%.64s\" may not contain '/'", nc->name);
		return -1;
	}
	if (env->container_id == NULL || *env->container_id == '\0') {
		cni_error_set(err, CNI_ERR_ENV, "CNI_CONTAINERID: not set");
		return -1;
	}
	n = snprintf(buf, len, "%s.%s", nc->name, env->container_id);
	if (n < 0 || (size_t)n >= len) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "name: handle \"%.64s.%.64s\" is too long", nc->name,
		    env->container_id);
		return -1;
	}
	return 0;
}

int
cni_fail(const struct cni_error *err, const char *version)
{
	char *s = cni_error_encode(err, version);

	if (err->details[0] != '\0')
		log_errorx(
		    "%s: %s (code %d)", err->msg, err->details, err->code);
	else
		log_errorx("%s (code %d)", err->msg, err->code);
	cni_print(s);
	free(s);
	return 1;
}

int
cni_print(const char *json)
{
	if (fputs(json, stdout) == EOF || fputc('\n', stdout) == EOF ||
	    fflush(stdout) == EOF) {
		log_warn("writing the answer to stdout");
		return 1;
	}
	return 0;
}

int
cni_lock(const char *path, int timeout_ms, struct cni_error *err)
{
	struct timespec start, now, nap = {0, 1000 * 1000}; /* 1 ms */
	long waited;
	int fd;

	if (util_mkdirs(path) == -1 ||
	    (fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		cni_error_set(err, CNI_ERR_IO, "ipam_lock_file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			cni_error_set(err, CNI_ERR_IO,
			    "ipam_lock_file %s: flock: %s", path,
			    strerror(errno));
			close(fd);
			return -1;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		waited = (now.tv_sec - start.tv_sec) * 1000 +
		    (now.tv_nsec - start.tv_nsec) / 1000000;
		if (waited >= timeout_ms) {
			cni_error_set(err, CNI_ERR_TRY_AGAIN,
			    "ipam_lock_file %s: still held by another "
			    "process after %d ms",
			    path, timeout_ms);
			close(fd);
			return -1;
		}
		nanosleep(&nap, NULL);
	}
}

int
cni_usage(int argc, char **argv, const char *usage)
{
	bool help;

	if (argc < 2)
		return -1;
	help = strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0;
	fputs(usage, help ? stdout : stderr);
	return help ? 0 : 2;
}
