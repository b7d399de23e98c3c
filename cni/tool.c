/*
 * The runner behind podmesh-cnitool, doing what libcni does for a runtime
 * (libcni/api.go): load a network config list (or a single config as a
 * list of one), build each plugin's config (the plugin object plus the
 * list's "name" and "cniVersion", "prevResult", and "runtimeConfig" from
 * the capabilities it declares), run the chain, and keep the final result
 * in a cache file (libcni's cniCacheV1 layout) so that DEL, CHECK and GC
 * have it later.
 *
 * Where libcni leaves things to the runtime this runner does them itself:
 * a failed ADD is undone by DEL of the plugins that succeeded, in reverse,
 * and DEL goes on past a failing plugin so that one broken link does not
 * leak the others' state.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "cni/exec.h"
#include "cni/tool.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

extern char **environ;

struct tool_list {
	json_t *root; /* as loaded, a list (possibly made of one conf) */
	const char *name; /* borrowed from root */
	const char *version; /* "0.1.0" when the list has none */
	json_t *plugins; /* borrowed array of objects with a "type" */
	char file[4096]; /* where it came from */
	bool disable_check;
	bool disable_gc;
};

static void tool_warn(const char *, ...) __attribute__((format(printf, 1, 2)));

static void
tool_warn(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "podmesh-cnitool: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cni_tool_container_id(const char *netns, char *buf, size_t len)
{
	unsigned char md[SHA512_DIGEST_LENGTH];
	char hex[21];
	int i;

	SHA512((const unsigned char *)netns, strlen(netns), md);
	for (i = 0; i < 10; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	snprintf(buf, len, "cnitool-%s", hex);
}

/* Major.minor.patch compared numerically; unknown forms sort first. */
static bool
tool_version_ge(const char *v, const char *min)
{
	unsigned a[3] = {0, 0, 0}, b[3] = {0, 0, 0};
	int i;

	if (v == NULL || sscanf(v, "%u.%u.%u", &a[0], &a[1], &a[2]) < 2)
		return false;
	sscanf(min, "%u.%u.%u", &b[0], &b[1], &b[2]);
	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] > b[i];
	return true;
}

/* ---- loading the list ---- */

static void
tool_list_clear(struct tool_list *l)
{
	json_decref(l->root);
	memset(l, 0, sizeof(*l));
}

static bool
tool_bool(const json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

/*
 * A conflist as is; a single conf becomes {"cniVersion", "name",
 * "plugins": [conf]} as libcni's ConfListFromConf does.  -1 with a
 * message in buf when the file is not one.
 */
static int
tool_list_load(const char *file, struct tool_list *l, char *msg, size_t len)
{
	json_error_t jerr;
	json_t *o, *v, *p;
	size_t i;

	memset(l, 0, sizeof(*l));
	if ((o = json_load_file(file, 0, &jerr)) == NULL) {
		snprintf(msg, len, "%s:%d: %s", file, jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(o)) {
		snprintf(msg, len, "%s: not a JSON object", file);
		goto fail;
	}
	if (json_object_get(o, "plugins") == NULL) {
		json_t *list = json_object();

		if ((v = json_object_get(o, "cniVersion")) != NULL)
			json_object_set(list, "cniVersion", v);
		if ((v = json_object_get(o, "name")) != NULL)
			json_object_set(list, "name", v);
		json_object_set_new(list, "plugins", json_pack("[O]", o));
		json_decref(o);
		o = list;
	}
	l->root = o;
	snprintf(l->file, sizeof(l->file), "%s", file);
	v = json_object_get(o, "name");
	if (!json_is_string(v) || *json_string_value(v) == '\0' ||
	    strchr(json_string_value(v), '/') != NULL) {
		snprintf(msg, len,
		    "%s: \"name\" must be a non-empty string "
		    "without '/'",
		    file);
		goto fail;
	}
	l->name = json_string_value(v);
	v = json_object_get(o, "cniVersion");
	if (v != NULL && !json_is_string(v)) {
		snprintf(msg, len, "%s: \"cniVersion\" is not a string", file);
		goto fail;
	}
	l->version = v != NULL ? json_string_value(v) : "0.1.0";
	l->plugins = json_object_get(o, "plugins");
	if (!json_is_array(l->plugins) || json_array_size(l->plugins) == 0) {
		snprintf(msg, len, "%s: \"plugins\" must be a non-empty array",
		    file);
		goto fail;
	}
	json_array_foreach(l->plugins, i, p)
	{
		if (!json_is_object(p) ||
		    !json_is_string(json_object_get(p, "type"))) {
			snprintf(msg, len, "%s: plugins[%zu] has no \"type\"",
			    file, i);
			goto fail;
		}
	}
	l->disable_check = tool_bool(o, "disableCheck");
	l->disable_gc = tool_bool(o, "disableGC");
	return 0;
fail:
	if (l->root == NULL)
		json_decref(o);
	tool_list_clear(l);
	return -1;
}

static int
tool_ext_filter(const struct dirent *d)
{
	const char *dot = strrchr(d->d_name, '.');

	return d->d_name[0] != '.' && dot != NULL &&
	    (strcmp(dot, ".conflist") == 0 || strcmp(dot, ".conf") == 0 ||
	        strcmp(dot, ".json") == 0);
}

/*
 * NETCONFPATH's dirs, .conflist files first then .conf/.json, each pass
 * in name order (libcni's LoadConfList); files that do not load are
 * skipped with a warning.
 */
static int
tool_list_find(const char *confpath, const char *name, struct tool_list *l)
{
	struct dirent **ents;
	const char *p, *e, *dot;
	char dir[4096], file[4096 + 256], msg[512];
	int pass, n, i, found = 0;

	for (pass = 0; pass < 2 && !found; pass++) {
		for (p = confpath; *p != '\0' && !found; p = *e ? e + 1 : e) {
			if ((e = strchr(p, ':')) == NULL)
				e = p + strlen(p);
			if (e == p || (size_t)(e - p) >= sizeof(dir))
				continue;
			snprintf(dir, sizeof(dir), "%.*s", (int)(e - p), p);
			if ((n = scandir(
			         dir, &ents, tool_ext_filter, alphasort)) == -1)
				continue;
			for (i = 0; i < n; i++) {
				dot = strrchr(ents[i]->d_name, '.');
				if (!found &&
				    (strcmp(dot, ".conflist") == 0) ==
				        (pass == 0)) {
					snprintf(file, sizeof(file), "%s/%s",
					    dir, ents[i]->d_name);
					if (tool_list_load(file, l, msg,
					        sizeof(msg)) == -1)
						tool_warn("skipping %s", msg);
					else if (strcmp(l->name, name) == 0)
						found = 1;
					else
						tool_list_clear(l);
				}
				free(ents[i]);
			}
			free(ents);
		}
	}
	if (!found) {
		tool_warn(
		    "no network config named \"%s\" in %s", name, confpath);
		return -1;
	}
	return 0;
}

static int
tool_list_open(const struct cni_tool *t, struct tool_list *l)
{
	struct stat st;
	char msg[512];

	if (strchr(t->net, '/') != NULL ||
	    (stat(t->net, &st) == 0 && S_ISREG(st.st_mode))) {
		if (tool_list_load(t->net, l, msg, sizeof(msg)) == -1) {
			tool_warn("%s", msg);
			return -1;
		}
		return 0;
	}
	return tool_list_find(t->confpath, t->net, l);
}

/* ---- one plugin ---- */

/*
 * libcni's buildOneConfig + injectRuntimeConfig: name and cniVersion of
 * the list, the previous result, and runtimeConfig holding the CAP_ARGS
 * the plugin declared in "capabilities" (which is not passed on).
 */
static char *
tool_conf(const struct cni_tool *t, const struct tool_list *l, size_t i,
    const json_t *prev, const json_t *inject, bool runtime)
{
	json_t *c, *caps, *rc, *v;
	const char *key;
	char *s;

	c = json_deep_copy(json_array_get(l->plugins, i));
	json_object_set_new(c, "cniVersion", json_string(l->version));
	json_object_set_new(c, "name", json_string(l->name));
	if (prev != NULL)
		json_object_set(c, "prevResult", (json_t *)prev);
	caps = json_object_get(c, "capabilities");
	if (runtime && json_is_object(caps) && t->cap_args != NULL) {
		rc = json_object();
		json_object_foreach(caps, key, v)
		{
			json_t *arg = json_object_get(t->cap_args, key);

			if (json_is_true(v) && arg != NULL)
				json_object_set(rc, key, arg);
		}
		if (json_object_size(rc) > 0)
			json_object_set(c, "runtimeConfig", rc);
		json_decref(rc);
	}
	json_object_del(c, "capabilities");
	if (inject != NULL)
		json_object_update(c, (json_t *)inject);
	s = json_dumps(c, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(c);
	if (s == NULL)
		fatal("tool: json_dumps");
	return s;
}

static bool
tool_env_ours(const char *e)
{
	static const char *const names[] = {"CNI_COMMAND=", "CNI_CONTAINERID=",
	    "CNI_NETNS=", "CNI_IFNAME=", "CNI_ARGS=", "CNI_PATH=", NULL};
	size_t i;

	for (i = 0; names[i] != NULL; i++)
		if (strncmp(e, names[i], strlen(names[i])) == 0)
			return true;
	return false;
}

/*
 * Our environment with the CNI_* variables of this invocation; GC, STATUS
 * and VERSION concern no container and get only CNI_COMMAND and CNI_PATH.
 * The strings from index *mine on are ours to free.
 */
static char **
tool_env(
    const struct cni_tool *t, const char *command, bool container, size_t *mine)
{
	char **envp, **e;
	size_t n = 0;

	for (e = environ; *e != NULL; e++)
		n++;
	envp = xcalloc(n + 7, sizeof(*envp));
	n = 0;
	for (e = environ; *e != NULL; e++)
		if (!tool_env_ours(*e))
			envp[n++] = *e;
	*mine = n;
	xasprintf(&envp[n++], "CNI_COMMAND=%s", command);
	xasprintf(&envp[n++], "CNI_PATH=%s", t->path);
	if (container) {
		xasprintf(&envp[n++], "CNI_CONTAINERID=%s", t->container_id);
		xasprintf(&envp[n++], "CNI_NETNS=%s", t->netns);
		xasprintf(&envp[n++], "CNI_IFNAME=%s", t->ifname);
		xasprintf(&envp[n++], "CNI_ARGS=%s", t->args);
	}
	envp[n] = NULL;
	return envp;
}

static void
tool_env_free(char **envp, size_t mine)
{
	size_t i;

	for (i = mine; envp[i] != NULL; i++)
		free(envp[i]);
	free(envp);
}

/* Run plugin i with command and the config built as tool_conf() says. */
static int
tool_plugin(const struct cni_tool *t, const struct tool_list *l, size_t i,
    const char *command, const json_t *prev, const json_t *inject, json_t **out,
    struct cni_error *err)
{
	const char *type;
	char bin[4096], *conf, **envp;
	bool container;
	size_t mine;
	int rc;

	*out = NULL;
	type = json_string_value(
	    json_object_get(json_array_get(l->plugins, i), "type"));
	if (cni_find_plugin(t->path, type, bin, sizeof(bin), err) == -1)
		return -1;
	container = strcmp(command, "ADD") == 0 ||
	    strcmp(command, "DEL") == 0 || strcmp(command, "CHECK") == 0;
	conf = tool_conf(t, l, i, prev, inject, container);
	envp = tool_env(t, command, container, &mine);
	rc = cni_exec(
	    bin, command, envp, conf, strlen(conf), t->timeout_ms, out, err);
	tool_env_free(envp, mine);
	free(conf);
	if (rc == -1)
		tool_warn("plugin %s failed (%s): %s%s%s", type, command,
		    err->msg, err->details[0] != '\0' ? ": " : "",
		    err->details);
	return rc;
}

static void
tool_print(const struct cni_tool *t, const json_t *o)
{
	char *s;

	s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_INDENT(4));
	if (s == NULL)
		fatal("tool: json_dumps");
	fprintf(t->out, "%s\n", s);
	fflush(t->out);
	free(s);
}

static void
tool_print_error(const struct cni_tool *t, const struct tool_list *l,
    const struct cni_error *err)
{
	char *s;

	s = cni_error_encode(err, l != NULL ? l->version : NULL);
	fprintf(t->out, "%s\n", s);
	fflush(t->out);
	free(s);
}

/* ---- the cache: <dir>/<net>-<containerid>-<ifname> ---- */

static void
tool_cache_path(
    const struct cni_tool *t, const struct tool_list *l, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s-%s-%s", t->cache_dir, l->name,
	    t->container_id, t->ifname);
}

static int
tool_mkdirs(const char *path)
{
	char buf[4096], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(buf, 0700) == -1 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* CNI_ARGS as libcni keeps it: [["K","V"], ...]. */
static json_t *
tool_cni_args(const char *args)
{
	json_t *a = json_array();
	char *s, *kv, *save, *eq;

	s = xstrdup(args);
	for (kv = strtok_r(s, ";", &save); kv != NULL;
	     kv = strtok_r(NULL, ";", &save))
		if ((eq = strchr(kv, '=')) != NULL) {
			*eq = '\0';
			json_array_append_new(a, json_pack("[ss]", kv, eq + 1));
		}
	free(s);
	return a;
}

/* Written whole under a temporary name then renamed: never half a file. */
static int
tool_cache_write(
    const struct cni_tool *t, const struct tool_list *l, const json_t *res)
{
	char path[8192], tmp[8300], *raw, *b64;
	json_t *o, *args;
	size_t n;
	int rc;

	if (tool_mkdirs(t->cache_dir) == -1) {
		tool_warn("%s: %s", t->cache_dir, strerror(errno));
		return -1;
	}
	raw = json_dumps(l->root, JSON_PRESERVE_ORDER | JSON_COMPACT);
	if (raw == NULL)
		fatal("tool: json_dumps");
	n = strlen(raw);
	b64 = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)raw, n);
	free(raw);
	o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "kind", "cniCacheV1",
	    "containerId", t->container_id, "config", b64, "ifName", t->ifname,
	    "networkName", l->name, "netns", t->netns);
	free(b64);
	if (o == NULL)
		fatal("tool: json_pack");
	args = tool_cni_args(t->args);
	if (json_array_size(args) > 0)
		json_object_set(o, "cniArgs", args);
	json_decref(args);
	if (t->cap_args != NULL && json_object_size(t->cap_args) > 0)
		json_object_set(o, "capabilityArgs", t->cap_args);
	json_object_set(o, "result", (json_t *)res);
	tool_cache_path(t, l, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp%d", path, (int)getpid());
	rc = json_dump_file(o, tmp, JSON_PRESERVE_ORDER | JSON_COMPACT);
	json_decref(o);
	if (rc == -1 || rename(tmp, path) == -1) {
		tool_warn("%s: cannot write the cache", path);
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The cached final result, or NULL when there is none. */
static json_t *
tool_cache_result(const struct cni_tool *t, const struct tool_list *l)
{
	char path[8192];
	json_t *o, *r;

	tool_cache_path(t, l, path, sizeof(path));
	if ((o = json_load_file(path, 0, NULL)) == NULL)
		return NULL;
	r = json_object_get(o, "result");
	if (json_is_object(r))
		json_incref(r);
	else
		r = NULL;
	json_decref(o);
	return r;
}

/* whether name is a cache file being written: "<entry>.tmp<pid>" */
static bool
tool_cache_tmp(const char *name)
{
	const char *p = strrchr(name, '.');

	if (p == NULL || strncmp(p, ".tmp", 4) != 0 || p[4] == '\0')
		return false;
	for (p += 4; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/*
 * GC: every attachment of this network the cache remembers; NULL (a
 * warning said why) when one of its entries cannot be read, since a
 * missing attachment would have its addresses collected.
 */
static json_t *
tool_cache_attachments(const struct cni_tool *t, const struct tool_list *l)
{
	struct dirent **ents;
	json_t *a = json_array(), *o;
	json_error_t jerr;
	char path[8192];
	size_t plen = strlen(l->name);
	int n, i;

	if ((n = scandir(t->cache_dir, &ents, NULL, alphasort)) == -1) {
		if (errno == ENOENT)
			return a;
		tool_warn("%s: %s", t->cache_dir, strerror(errno));
		json_decref(a);
		return NULL;
	}
	for (i = 0; i < n; i++) {
		const char *cid, *ifn, *net;

		if (a != NULL && strncmp(ents[i]->d_name, l->name, plen) == 0 &&
		    ents[i]->d_name[plen] == '-' &&
		    !tool_cache_tmp(ents[i]->d_name)) {
			snprintf(path, sizeof(path), "%s/%s", t->cache_dir,
			    ents[i]->d_name);
			if ((o = json_load_file(path, 0, &jerr)) == NULL) {
				tool_warn("%s: %s", path, jerr.text);
				json_decref(a);
				a = NULL;
			} else {
				cid = json_string_value(
				    json_object_get(o, "containerId"));
				ifn = json_string_value(
				    json_object_get(o, "ifName"));
				net = json_string_value(
				    json_object_get(o, "networkName"));
				if (cid != NULL && ifn != NULL && net != NULL &&
				    strcmp(net, l->name) == 0)
					json_array_append_new(a,
					    json_pack("{s:s, s:s}",
					        "containerID", cid, "ifname",
					        ifn));
				json_decref(o);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return a;
}

/* ---- the commands ---- */

static int
tool_add(const struct cni_tool *t, const struct tool_list *l)
{
	struct cni_error err, derr;
	struct cni_result res;
	json_t *prev = NULL, *out, *dout;
	size_t i, n = json_array_size(l->plugins), j;
	bool with_prev = tool_version_ge(l->version, "0.4.0");

	for (i = 0; i < n; i++) {
		if (tool_plugin(t, l, i, "ADD", prev, NULL, &out, &err) == 0 &&
		    out == NULL) {
			cni_error_set(&err, CNI_ERR_DECODE,
			    "plugin %s printed no result",
			    json_string_value(json_object_get(
			        json_array_get(l->plugins, i), "type")));
			tool_warn("%s", err.msg);
		} else if (out != NULL &&
		    cni_result_decode(out, &res, &err) == -1) {
			tool_warn("plugin %s: bad result: %s",
			    json_string_value(json_object_get(
			        json_array_get(l->plugins, i), "type")),
			    err.msg);
			/*
			 * More entries than podmesh keeps is our limit, not
			 * a malformed result: it is passed on as printed.
			 */
			if (strstr(err.msg, "too many entries") == NULL) {
				json_decref(out);
				out = NULL;
			}
		}
		if (out == NULL) {
			/*
			 * Undo, newest first, the failing plugin too: DEL is
			 * safe on half-done state, and one killed at the
			 * timeout may have taken an address.
			 */
			for (j = i + 1; j-- > 0;) {
				tool_plugin(t, l, j, "DEL",
				    with_prev ? prev : NULL, NULL, &dout,
				    &derr);
				json_decref(dout);
			}
			json_decref(prev);
			tool_print_error(t, l, &err);
			return 1;
		}
		json_decref(prev);
		prev = out;
	}
	if (tool_cache_write(t, l, prev) == -1) {
		/*
		 * Without the cache, DEL has no prevResult and GC would take
		 * this attachment for a leak: undone, as libcni does.
		 */
		for (j = n; j-- > 0;) {
			tool_plugin(t, l, j, "DEL", with_prev ? prev : NULL,
			    NULL, &dout, &derr);
			json_decref(dout);
		}
		json_decref(prev);
		cni_error_set(&err, CNI_ERR_IO, "cannot cache the result in %s",
		    t->cache_dir);
		tool_print_error(t, l, &err);
		return 1;
	}
	tool_print(t, prev);
	json_decref(prev);
	return 0;
}

static int
tool_del(const struct cni_tool *t, const struct tool_list *l)
{
	struct cni_error err, first;
	json_t *prev = NULL, *out;
	char path[8192];
	size_t i;
	bool failed = false;

	if (tool_version_ge(l->version, "0.4.0"))
		prev = tool_cache_result(t, l);
	for (i = json_array_size(l->plugins); i-- > 0;) {
		if (tool_plugin(t, l, i, "DEL", prev, NULL, &out, &err) == -1 &&
		    !failed) {
			first = err;
			failed = true;
		}
		json_decref(out);
	}
	json_decref(prev);
	if (failed) {
		/* kept: the runtime retries DEL, and wants prevResult again */
		tool_print_error(t, l, &first);
		return 1;
	}
	tool_cache_path(t, l, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		tool_warn("%s: %s", path, strerror(errno));
	return 0;
}

static int
tool_check(const struct cni_tool *t, const struct tool_list *l)
{
	struct cni_error err;
	json_t *prev, *out;
	size_t i;

	if (!tool_version_ge(l->version, "0.4.0")) {
		cni_error_set(&err, CNI_ERR_INCOMPATIBLE,
		    "configuration version \"%s\" does not support the CHECK "
		    "command",
		    l->version);
		goto fail;
	}
	if (l->disable_check)
		return 0;
	if ((prev = tool_cache_result(t, l)) == NULL) {
		cni_error_set(&err, CNI_ERR_IO,
		    "no cached result for network \"%s\", container %s, "
		    "interface %s",
		    l->name, t->container_id, t->ifname);
		goto fail;
	}
	for (i = 0; i < json_array_size(l->plugins); i++) {
		if (tool_plugin(t, l, i, "CHECK", prev, NULL, &out, &err) ==
		    -1) {
			json_decref(prev);
			tool_print_error(t, l, &err);
			return 1;
		}
		json_decref(out);
	}
	json_decref(prev);
	return 0;
fail:
	tool_warn("%s", err.msg);
	tool_print_error(t, l, &err);
	return 1;
}

/* GC and STATUS exist from 1.1.0; libcni does nothing for older lists. */
static int
tool_gc_status(const struct cni_tool *t, const struct tool_list *l)
{
	struct cni_error err, first;
	json_t *inject = NULL, *out, *att;
	const char *command = cni_command_name(t->command);
	size_t i;
	bool failed = false;

	if (!tool_version_ge(l->version, "1.1.0"))
		return 0;
	if (t->command == CNI_CMD_GC) {
		if (l->disable_gc)
			return 0;
		if ((att = tool_cache_attachments(t, l)) == NULL) {
			cni_error_set(&err, CNI_ERR_IO,
			    "cannot tell the valid attachments from the cache "
			    "%s: no GC",
			    t->cache_dir);
			tool_print_error(t, l, &err);
			return 1;
		}
		inject = json_object();
		json_object_set(inject, "cni.dev/valid-attachments", att);
		json_object_set(inject, "cni.dev/attachments", att);
		json_decref(att);
	}
	for (i = 0; i < json_array_size(l->plugins); i++) {
		if (tool_plugin(t, l, i, command, NULL, inject, &out, &err) ==
		        -1 &&
		    !failed) {
			first = err;
			failed = true;
		}
		json_decref(out);
		/* STATUS: the first plugin not ready is the answer */
		if (failed && t->command == CNI_CMD_STATUS)
			break;
	}
	json_decref(inject);
	if (failed) {
		tool_print_error(t, l, &first);
		return 1;
	}
	return 0;
}

/* VERSION of every plugin, with its type: [{"type", "cniVersion", ...}]. */
static int
tool_versions(const struct cni_tool *t, const struct tool_list *l)
{
	struct cni_error err;
	const char *type;
	char bin[4096], in[128], **envp;
	json_t *all = json_array(), *out, *e;
	size_t i, mine;
	int rc = 0;

	snprintf(in, sizeof(in), "{\"cniVersion\":\"%.64s\"}", l->version);
	for (i = 0; i < json_array_size(l->plugins); i++) {
		type = json_string_value(
		    json_object_get(json_array_get(l->plugins, i), "type"));
		out = NULL;
		if (cni_find_plugin(t->path, type, bin, sizeof(bin), &err) ==
		    0) {
			envp = tool_env(t, "VERSION", false, &mine);
			if (cni_exec(bin, "VERSION", envp, in, strlen(in),
			        t->timeout_ms, &out, &err) == 0 &&
			    out == NULL)
				cni_error_set(&err, CNI_ERR_DECODE,
				    "plugin %s printed nothing", type);
			tool_env_free(envp, mine);
		}
		e = json_pack("{s:s}", "type", type);
		if (out != NULL)
			json_object_update(e, out);
		else {
			tool_warn(
			    "plugin %s failed (VERSION): %s", type, err.msg);
			json_object_set_new(e, "error",
			    json_pack("{s:i, s:s}", "code", err.code, "msg",
			        err.msg));
			rc = 1;
		}
		json_decref(out);
		json_array_append_new(all, e);
	}
	tool_print(t, all);
	json_decref(all);
	return rc;
}

int
cni_tool_run(const struct cni_tool *t)
{
	struct tool_list l;
	int rc;

	if (tool_list_open(t, &l) == -1)
		return 1;
	switch (t->command) {
	case CNI_CMD_ADD:
		rc = tool_add(t, &l);
		break;
	case CNI_CMD_DEL:
		rc = tool_del(t, &l);
		break;
	case CNI_CMD_CHECK:
		rc = tool_check(t, &l);
		break;
	case CNI_CMD_GC:
	case CNI_CMD_STATUS:
		rc = tool_gc_status(t, &l);
		break;
	case CNI_CMD_VERSION:
		rc = tool_versions(t, &l);
		break;
	default:
		fatalx("tool: command %d", (int)t->command);
	}
	tool_list_clear(&l);
	return rc;
}
