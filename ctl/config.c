/*
 * Where podmeshctl finds the datastore (calico.md §5): --config FILE, else
 * /etc/podmesh/podmeshctl.cfg, else Calico's /etc/calico/calicoctl.cfg,
 * else the environment, else http://127.0.0.1:2379, so nothing needs
 * configuring on a host next to its etcd.  A file is read whole and the
 * environment ignored, as calicoctl does (libcalico-go apiconfig).
 *
 * Three file forms:
 *  - calicoctl v1: apiVersion: v1, kind: calicoApiConfig, spec with
 *    etcdEndpoints, etcdUsername, etcdPassword, etcdKeyFile, etcdCertFile,
 *    etcdCACertFile, datastoreType (etcdv2, its default, or kubernetes),
 *    and Calico v2.6's etcdAuthority and etcdScheme (one endpoint,
 *    scheme://authority; etcdEndpoints wins over them, as in v2.6);
 *  - calicoctl v3: apiVersion: projectcalico.org/v3, kind:
 *    CalicoAPIConfig, the same fields plus inline PEM etcdKey, etcdCert,
 *    etcdCACert, datastoreType etcdv3 (the default) or kubernetes;
 *  - podmesh's own, as podmesh-bgpd's datastore section: datastore: {type,
 *    endpoints, ca-file, cert-file, key-file, username, password}.
 * The environment takes either era's names: ETCD_ENDPOINTS, ETCD_*_FILE
 * and the rest, and v2.6's ETCD_AUTHORITY and ETCD_SCHEME, with
 * DATASTORE_TYPE etcdv3 (the default) or etcdv2, as a v2.6 host where
 * `migrate` runs has them.
 * A v1 file names an etcdv2 datastore; the resource commands still talk
 * to those endpoints over the v3 API (the keyspaces are separate), and a
 * migration reads the v2 side.  Kubernetes datastores are refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/yamljson.h"
#include "ctl/ctl.h"

#define CONFIG_MAX_FILE (1024 * 1024)

/* calicoctl.cfg spec members, and where each goes */
enum cfg_slot {
	CFG_TYPE,
	CFG_ENDPOINTS,
	CFG_USERNAME,
	CFG_PASSWORD,
	CFG_KEY_FILE,
	CFG_CERT_FILE,
	CFG_CA_FILE,
	CFG_KEY_PEM,
	CFG_CERT_PEM,
	CFG_CA_PEM,
	CFG_DISCOVERY,
	CFG_AUTHORITY, /* v1 (Calico v2.6): endpoints = scheme://authority */
	CFG_SCHEME,
	CFG_IGNORED, /* Kubernetes settings: meaningless for etcd */
};

/* which form the values came in: what is allowed, and the defaults */
enum cfg_form {
	FORM_V1, /* calicoApiConfig: etcdv2 */
	FORM_V3, /* CalicoAPIConfig: etcdv3 */
	FORM_NATIVE, /* podmesh's datastore: map, as podmesh-bgpd's */
	FORM_ENV, /* calicoctl's environment, of either era */
};

enum cfg_era {
	ERA_BOTH,
	ERA_V1, /* Calico v2.6's calicoApiConfig only */
	ERA_V3,
};

static const struct cfg_field {
	const char *name;
	enum cfg_slot slot;
	enum cfg_era era;
} cfg_fields[] = {
    {"datastoreType", CFG_TYPE, ERA_BOTH},
    {"etcdEndpoints", CFG_ENDPOINTS, ERA_BOTH},
    {"etcdAuthority", CFG_AUTHORITY, ERA_V1},
    {"etcdScheme", CFG_SCHEME, ERA_V1},
    {"etcdUsername", CFG_USERNAME, ERA_BOTH},
    {"etcdPassword", CFG_PASSWORD, ERA_BOTH},
    {"etcdKeyFile", CFG_KEY_FILE, ERA_BOTH},
    {"etcdCertFile", CFG_CERT_FILE, ERA_BOTH},
    {"etcdCACertFile", CFG_CA_FILE, ERA_BOTH},
    {"etcdKey", CFG_KEY_PEM, ERA_V3},
    {"etcdCert", CFG_CERT_PEM, ERA_V3},
    {"etcdCACert", CFG_CA_PEM, ERA_V3},
    {"etcdDiscoverySrv", CFG_DISCOVERY, ERA_V3},
    {"kubeconfig", CFG_IGNORED, ERA_BOTH},
    {"k8sAPIEndpoint", CFG_IGNORED, ERA_BOTH},
    {"k8sKeyFile", CFG_IGNORED, ERA_BOTH},
    {"k8sCertFile", CFG_IGNORED, ERA_BOTH},
    {"k8sCAFile", CFG_IGNORED, ERA_BOTH},
    {"k8sAPIToken", CFG_IGNORED, ERA_BOTH},
    {"k8sInsecureSkipTLSVerify", CFG_IGNORED, ERA_BOTH},
    {"k8sDisableNodePoll", CFG_IGNORED, ERA_BOTH},
    {"k8sClientQPS", CFG_IGNORED, ERA_V3},
};

/* the environment, calicoctl's names; CALICO_<name> is tried first */
static const struct {
	const char *name;
	enum cfg_slot slot;
} cfg_env[] = {
    {"DATASTORE_TYPE", CFG_TYPE},
    {"ETCD_ENDPOINTS", CFG_ENDPOINTS},
    {"ETCD_AUTHORITY", CFG_AUTHORITY},
    {"ETCD_SCHEME", CFG_SCHEME},
    {"ETCD_USERNAME", CFG_USERNAME},
    {"ETCD_PASSWORD", CFG_PASSWORD},
    {"ETCD_KEY_FILE", CFG_KEY_FILE},
    {"ETCD_CERT_FILE", CFG_CERT_FILE},
    {"ETCD_CA_CERT_FILE", CFG_CA_FILE},
    {"ETCD_KEY", CFG_KEY_PEM},
    {"ETCD_CERT", CFG_CERT_PEM},
    {"ETCD_CA_CERT", CFG_CA_PEM},
    {"ETCD_DISCOVERY_SRV", CFG_DISCOVERY},
};

/* podmesh's datastore: map */
static const struct {
	const char *name;
	enum cfg_slot slot;
} cfg_native[] = {
    {"type", CFG_TYPE},
    {"endpoints", CFG_ENDPOINTS},
    {"username", CFG_USERNAME},
    {"password", CFG_PASSWORD},
    {"key-file", CFG_KEY_FILE},
    {"cert-file", CFG_CERT_FILE},
    {"ca-file", CFG_CA_FILE},
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* values gathered before they are checked together */
struct cfg_values {
	const char *v[CFG_IGNORED];
	char where[CFG_IGNORED][64]; /* field path, for messages */
	int line[CFG_IGNORED];
	char *owned[CFG_IGNORED]; /* a list of endpoints joined */
};

static void
cfg_values_clean(struct cfg_values *cv)
{
	size_t i;

	for (i = 0; i < CFG_IGNORED; i++)
		free(cv->owned[i]);
}

void
ctl_config_clean(struct ctl_dsconfig *c)
{
	size_t i;

	for (i = 0; i < c->ntmpfiles; i++) {
		unlink(c->tmpfiles[i]);
		free(c->tmpfiles[i]);
	}
	free(c->source);
	free(c->endpoints);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	free(c->username);
	free(c->password);
	memset(c, 0, sizeof(*c));
}

static char *
cfg_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

/* inline PEM to a private file, since libcurl is given file names */
static int
cfg_pem_file(struct ctl_dsconfig *c, const char *pem, const char *what,
    char **out, char *err, size_t errlen)
{
	const char *dir = getenv("TMPDIR");
	size_t len = strlen(pem), off = 0;
	char *path;
	ssize_t n;
	int fd;

	xasprintf(&path, "%s/podmeshctl-XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp");
	if ((fd = mkstemp(path)) == -1) {
		snprintf(err, errlen, "%s: cannot write the inline %s: %s",
		    path, what, strerror(errno));
		free(path);
		return -1;
	}
	c->tmpfiles[c->ntmpfiles++] = path;
	while (off < len) {
		if ((n = write(fd, pem + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		off += n;
	}
	close(fd);
	free(*out);
	*out = xstrdup(path);
	return 0;
}

static int
cfg_errf(char *err, size_t errlen, const char *name, int line,
    const char *field, const char *msg)
{
	if (line > 0)
		snprintf(err, errlen, "%s:%d: %s: %s", name, line, field, msg);
	else
		snprintf(err, errlen, "%s: %s: %s", name, field, msg);
	return -1;
}

/*
 * etcdAuthority and etcdScheme (Calico v2.6): one endpoint,
 * scheme://authority, each defaulting as v2.6 did (http, 127.0.0.1:2379);
 * etcdEndpoints wins when both are given, as in libcalico-go v1.
 */
static int
cfg_authority(struct cfg_values *cv, const char *name, char *err, size_t errlen)
{
	const char *a = cv->v[CFG_AUTHORITY], *sch = cv->v[CFG_SCHEME];

	if (a != NULL && *a == '\0')
		a = NULL;
	if (sch != NULL && *sch == '\0')
		sch = NULL;
	if (sch != NULL && strcmp(sch, "http") != 0 &&
	    strcmp(sch, "https") != 0)
		return cfg_errf(err, errlen, name, cv->line[CFG_SCHEME],
		    cv->where[CFG_SCHEME], "expected http or https");
	if (a != NULL && strpbrk(a, "/, ") != NULL)
		return cfg_errf(err, errlen, name, cv->line[CFG_AUTHORITY],
		    cv->where[CFG_AUTHORITY],
		    "expected HOST:PORT (the scheme goes in etcdScheme, "
		    "several endpoints in etcdEndpoints)");
	if ((a == NULL && sch == NULL) ||
	    (cv->v[CFG_ENDPOINTS] != NULL && *cv->v[CFG_ENDPOINTS] != '\0'))
		return 0;
	free(cv->owned[CFG_ENDPOINTS]);
	xasprintf(&cv->owned[CFG_ENDPOINTS], "%s://%s",
	    sch != NULL ? sch : "http", a != NULL ? a : "127.0.0.1:2379");
	cv->v[CFG_ENDPOINTS] = cv->owned[CFG_ENDPOINTS];
	return 0;
}

/* the gathered values into c, checked; the form says which apply */
static int
cfg_apply(struct cfg_values *cv, enum cfg_form form, const char *name,
    struct ctl_dsconfig *c, char *err, size_t errlen)
{
	static const char *const pem_what[] = {[CFG_KEY_PEM] = "key",
	    [CFG_CERT_PEM] = "certificate",
	    [CFG_CA_PEM] = "CA certificate"};
	static const char *const expected[] = {
	    [FORM_V1] = "etcdv2 in a v1 configuration",
	    [FORM_V3] = "etcdv3; etcdv2 is the v1 configuration's",
	    [FORM_NATIVE] = "etcdv3 or etcdv2",
	    [FORM_ENV] = "etcdv3 or etcdv2",
	};
	const char *t = cv->v[CFG_TYPE];
	char msg[256];
	char **dst;
	int s;

	c->type = form == FORM_V1 ? CTL_DS_ETCDV2 : CTL_DS_ETCDV3;
	if (t != NULL && *t != '\0') {
		if (strcmp(t, "etcdv3") == 0 && form != FORM_V1)
			c->type = CTL_DS_ETCDV3;
		else if (strcmp(t, "etcdv2") == 0 && form != FORM_V3)
			c->type = CTL_DS_ETCDV2;
		else if (strcmp(t, "kubernetes") == 0)
			return cfg_errf(err, errlen, name, cv->line[CFG_TYPE],
			    cv->where[CFG_TYPE],
			    "the kubernetes datastore is not supported; "
			    "podmeshctl works on etcd");
		else {
			snprintf(msg, sizeof(msg),
			    "unknown datastore type \"%s\" (%s)", t,
			    expected[form]);
			return cfg_errf(err, errlen, name, cv->line[CFG_TYPE],
			    cv->where[CFG_TYPE], msg);
		}
	}
	if (cv->v[CFG_DISCOVERY] != NULL && *cv->v[CFG_DISCOVERY] != '\0')
		return cfg_errf(err, errlen, name, cv->line[CFG_DISCOVERY],
		    cv->where[CFG_DISCOVERY],
		    "DNS SRV discovery is not supported; list the "
		    "endpoints instead");
	if (cfg_authority(cv, name, err, errlen) == -1)
		return -1;
	c->endpoints = cfg_dup(cv->v[CFG_ENDPOINTS]);
	if (c->endpoints == NULL)
		c->endpoints = xstrdup(CTL_DEFAULT_ENDPOINT);
	c->username = cfg_dup(cv->v[CFG_USERNAME]);
	c->password = cfg_dup(cv->v[CFG_PASSWORD]);
	c->key_file = cfg_dup(cv->v[CFG_KEY_FILE]);
	c->cert_file = cfg_dup(cv->v[CFG_CERT_FILE]);
	c->ca_file = cfg_dup(cv->v[CFG_CA_FILE]);
	for (s = CFG_KEY_PEM; s <= CFG_CA_PEM; s++) {
		if (cv->v[s] == NULL || *cv->v[s] == '\0')
			continue;
		dst = s == CFG_KEY_PEM  ? &c->key_file
		    : s == CFG_CERT_PEM ? &c->cert_file
		                        : &c->ca_file;
		if (*dst != NULL) {
			snprintf(msg, sizeof(msg),
			    "give the %s inline or as a file, not both",
			    pem_what[s]);
			return cfg_errf(
			    err, errlen, name, cv->line[s], cv->where[s], msg);
		}
		if (cfg_pem_file(c, cv->v[s], pem_what[s], dst, err, errlen) ==
		    -1)
			return -1;
	}
	if ((c->cert_file == NULL) != (c->key_file == NULL))
		return cfg_errf(err, errlen, name, 0,
		    c->cert_file == NULL ? "certificate" : "key",
		    "missing: a client certificate needs both a certificate "
		    "and its key");
	c->source = xstrdup(name);
	return 0;
}

/* a string or a list of strings (endpoints), into cv */
static int
cfg_value(const struct yamljson_doc *d, const char *path, const json_t *v,
    enum cfg_slot slot, bool list_ok, struct cfg_values *cv, const char *name,
    char *err, size_t errlen)
{
	size_t i, len = 0;
	char *s;

	snprintf(cv->where[slot], sizeof(cv->where[slot]), "%s", path);
	cv->line[slot] = yamljson_line(d, path);
	if (json_is_null(v))
		return 0;
	if (json_is_string(v)) {
		cv->v[slot] = json_string_value(v);
		return 0;
	}
	if (!list_ok || !json_is_array(v))
		return cfg_errf(err, errlen, name, cv->line[slot], path,
		    list_ok ? "expected a string or a list of strings"
		            : "expected a string");
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)))
			return cfg_errf(err, errlen, name, cv->line[slot], path,
			    "expected a list of strings");
		len += strlen(json_string_value(json_array_get(v, i))) + 1;
	}
	s = xcalloc(1, len + 1);
	for (i = 0; i < json_array_size(v); i++) {
		if (i > 0)
			strcat(s, ",");
		strcat(s, json_string_value(json_array_get(v, i)));
	}
	free(cv->owned[slot]);
	cv->owned[slot] = s;
	cv->v[slot] = s;
	return 0;
}

static int
cfg_calicoctl(const struct yamljson_doc *d, bool v1, const char *name,
    struct ctl_dsconfig *c, char *err, size_t errlen)
{
	struct cfg_values cv;
	const json_t *spec = json_object_get(d->value, "spec");
	const char *key;
	char path[128], msg[128];
	json_t *v;
	size_t i;
	int rc = 0;

	memset(&cv, 0, sizeof(cv));
	json_object_foreach((json_t *)d->value, key, v)
	{
		if (strcmp(key, "apiVersion") != 0 &&
		    strcmp(key, "kind") != 0 && strcmp(key, "metadata") != 0 &&
		    strcmp(key, "spec") != 0)
			return cfg_errf(err, errlen, name,
			    yamljson_line(d, key), key, "unknown field");
	}
	if (spec != NULL && !json_is_null(spec) && !json_is_object(spec))
		return cfg_errf(err, errlen, name, yamljson_line(d, "spec"),
		    "spec", "expected a map");
	json_object_foreach((json_t *)spec, key, v)
	{
		snprintf(path, sizeof(path), "spec.%s", key);
		for (i = 0; i < NELEM(cfg_fields); i++)
			if (strcmp(cfg_fields[i].name, key) == 0)
				break;
		if (i == NELEM(cfg_fields) ||
		    cfg_fields[i].era == (v1 ? ERA_V3 : ERA_V1)) {
			snprintf(msg, sizeof(msg), "unknown field%s",
			    i == NELEM(cfg_fields) ? ""
			        : v1
			        ? " in a v1 configuration"
			        : " in a projectcalico.org/v3 configuration "
			          "(Calico v2.6's; use etcdEndpoints)");
			rc = cfg_errf(err, errlen, name, yamljson_line(d, path),
			    path, msg);
			break;
		}
		if (cfg_fields[i].slot == CFG_IGNORED)
			continue;
		if ((rc = cfg_value(d, path, v, cfg_fields[i].slot,
		         cfg_fields[i].slot == CFG_ENDPOINTS, &cv, name, err,
		         errlen)) == -1)
			break;
	}
	if (rc == 0)
		rc = cfg_apply(
		    &cv, v1 ? FORM_V1 : FORM_V3, name, c, err, errlen);
	cfg_values_clean(&cv);
	return rc;
}

static int
cfg_native_map(const struct yamljson_doc *d, const char *name,
    struct ctl_dsconfig *c, char *err, size_t errlen)
{
	struct cfg_values cv;
	const json_t *ds = json_object_get(d->value, "datastore");
	const char *key;
	char path[128];
	json_t *v;
	size_t i;
	int rc = 0;

	memset(&cv, 0, sizeof(cv));
	if (!json_is_object(ds))
		return cfg_errf(err, errlen, name,
		    yamljson_line(d, "datastore"), "datastore",
		    "expected a map");
	json_object_foreach((json_t *)ds, key, v)
	{
		snprintf(path, sizeof(path), "datastore.%s", key);
		for (i = 0; i < NELEM(cfg_native); i++)
			if (strcmp(cfg_native[i].name, key) == 0)
				break;
		if (i == NELEM(cfg_native)) {
			rc = cfg_errf(err, errlen, name, yamljson_line(d, path),
			    path, "unknown field");
			break;
		}
		if ((rc = cfg_value(d, path, v, cfg_native[i].slot,
		         cfg_native[i].slot == CFG_ENDPOINTS, &cv, name, err,
		         errlen)) == -1)
			break;
	}
	if (rc == 0)
		rc = cfg_apply(&cv, FORM_NATIVE, name, c, err, errlen);
	cfg_values_clean(&cv);
	return rc;
}

int
ctl_config_parse(const char *buf, size_t len, const char *name,
    struct ctl_dsconfig *c, char *err, size_t errlen)
{
	const char *api, *kind;
	const struct yamljson_doc *d;
	struct yamljson *yj;
	int rc;

	memset(c, 0, sizeof(*c));
	if ((yj = yamljson_parse(buf, len, name, err, errlen)) == NULL)
		return -1;
	if (yj->ndocs != 1 || !json_is_object(yj->docs[0].value)) {
		snprintf(err, errlen,
		    "%s: expected one document, a map (calicoctl.cfg or "
		    "podmesh's datastore: section)",
		    name);
		yamljson_free(yj);
		return -1;
	}
	d = &yj->docs[0];
	api = json_string_value(json_object_get(d->value, "apiVersion"));
	kind = json_string_value(json_object_get(d->value, "kind"));
	if (json_object_get(d->value, "datastore") != NULL && api == NULL &&
	    kind == NULL)
		rc = cfg_native_map(d, name, c, err, errlen);
	else if (api != NULL && strcmp(api, "v1") == 0 && kind != NULL &&
	    strcmp(kind, "calicoApiConfig") == 0)
		rc = cfg_calicoctl(d, true, name, c, err, errlen);
	else if (api != NULL && strcmp(api, "projectcalico.org/v3") == 0 &&
	    kind != NULL && strcmp(kind, "CalicoAPIConfig") == 0)
		rc = cfg_calicoctl(d, false, name, c, err, errlen);
	else if (api == NULL && kind == NULL)
		rc = cfg_errf(err, errlen, name, d->line, "apiVersion",
		    "required (v1 with kind calicoApiConfig, or "
		    "projectcalico.org/v3 with kind CalicoAPIConfig), or a "
		    "datastore: map");
	else if (api == NULL ||
	    (strcmp(api, "v1") != 0 &&
	        strcmp(api, "projectcalico.org/v3") != 0))
		rc = cfg_errf(err, errlen, name, yamljson_line(d, "apiVersion"),
		    "apiVersion", "expected v1 or projectcalico.org/v3");
	else
		rc = cfg_errf(err, errlen, name, yamljson_line(d, "kind"),
		    "kind",
		    strcmp(api, "v1") == 0
		        ? "expected calicoApiConfig with apiVersion v1"
		        : "expected CalicoAPIConfig with apiVersion "
		          "projectcalico.org/v3");
	yamljson_free(yj);
	if (rc == -1)
		ctl_config_clean(c);
	return rc;
}

int
ctl_config_env(struct ctl_dsconfig *c, char *err, size_t errlen)
{
	struct cfg_values cv;
	char name[64];
	const char *v;
	bool any = false;
	size_t i;
	int rc;

	memset(c, 0, sizeof(*c));
	memset(&cv, 0, sizeof(cv));
	for (i = 0; i < NELEM(cfg_env); i++) {
		snprintf(name, sizeof(name), "CALICO_%s", cfg_env[i].name);
		if ((v = getenv(name)) == NULL || *v == '\0') {
			snprintf(name, sizeof(name), "%s", cfg_env[i].name);
			v = getenv(name);
		}
		if (v == NULL || *v == '\0')
			continue;
		any = true;
		cv.v[cfg_env[i].slot] = v;
		snprintf(cv.where[cfg_env[i].slot],
		    sizeof(cv.where[cfg_env[i].slot]), "%s", name);
	}
	rc = cfg_apply(
	    &cv, FORM_ENV, any ? "environment" : "default", c, err, errlen);
	cfg_values_clean(&cv); /* scheme://authority, when built */
	if (rc == -1)
		ctl_config_clean(c);
	return rc;
}

static int
cfg_file(const char *path, struct ctl_dsconfig *c, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		buf = xrealloc(buf, len + 65536);
		if ((n = fread(buf + len, 1, 65536, f)) == 0 ||
		    (len += n) > CONFIG_MAX_FILE)
			break;
	}
	if (ferror(f) || len > CONFIG_MAX_FILE) {
		snprintf(err, errlen, "%s: %s", path,
		    len > CONFIG_MAX_FILE ? "file too large" : strerror(errno));
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	rc = ctl_config_parse(buf, len, path, c, err, errlen);
	free(buf);
	return rc;
}

int
ctl_config_load(const char *path, const char *const *defaults, size_t ndefaults,
    struct ctl_dsconfig *c, char *err, size_t errlen)
{
	size_t i;

	if (path != NULL)
		return cfg_file(path, c, err, errlen);
	for (i = 0; i < ndefaults; i++)
		if (access(defaults[i], F_OK) == 0)
			return cfg_file(defaults[i], c, err, errlen);
	return ctl_config_env(c, err, errlen);
}

const struct ctl_dsconfig *
ctl_dsconfig_get(struct ctl *ctl)
{
	static const char *const defaults[] = {
	    CTL_CONFIG_PATH, CTL_CALICOCTL_PATH};
	char err[1024];

	if (ctl->ds != NULL)
		return ctl->ds;
	ctl->ds = xcalloc(1, sizeof(*ctl->ds));
	if (ctl_config_load(ctl->config, defaults, NELEM(defaults), ctl->ds,
	        err, sizeof(err)) == -1) {
		fprintf(stderr, "podmeshctl: %s\n", err);
		free(ctl->ds);
		ctl->ds = NULL;
		return NULL;
	}
	return ctl->ds;
}

struct etcd *
ctl_etcd(struct ctl *ctl)
{
	const struct ctl_dsconfig *ds;
	struct etcd_config ec;
	struct etcd_error ee;

	if (ctl->etcd != NULL)
		return ctl->etcd;
	if ((ds = ctl_dsconfig_get(ctl)) == NULL)
		return NULL;
	memset(&ec, 0, sizeof(ec));
	ec.endpoints = ds->endpoints;
	ec.ca_file = ds->ca_file;
	ec.cert_file = ds->cert_file;
	ec.key_file = ds->key_file;
	ec.username = ds->username;
	ec.password = ds->password;
	if ((ctl->etcd = etcd_new(&ec, &ee)) == NULL) {
		fprintf(stderr, "podmeshctl: %s (configuration from %s)\n",
		    ee.msg, ds->source);
		return NULL;
	}
	return ctl->etcd;
}

void
ctl_close(struct ctl *ctl)
{
	if (ctl->etcd != NULL)
		etcd_free(ctl->etcd);
	ctl->etcd = NULL;
	if (ctl->ds != NULL) {
		ctl_config_clean(ctl->ds);
		free(ctl->ds);
	}
	ctl->ds = NULL;
}
