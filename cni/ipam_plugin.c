/*
 * podmesh-ipam: Calico's calico-ipam (cni-plugin ipam/calico-ipam.go,
 * calico.md §2 and §4) as an exec'd CNI IPAM plugin (SPEC.md "IP Address
 * Management (IPAM) Interface"), on the IPAM library store/ipam.h.
 *
 *  ADD     the handle "<network>.<CNI_CONTAINERID>" gets one IPv4 address
 *          (unless assign_ipv4 is "false") and one IPv6 address (only if
 *          assign_ipv6 is "true"), or the addresses asked for (IP= in
 *          CNI_ARGS, else the conventions' args.cni.ips or
 *          runtimeConfig.ips).  A handle that already holds addresses is
 *          answered with them: the runtime may repeat an ADD.
 *  DEL     every address of the handle is released; 0 when it had none.
 *  CHECK   the handle holds an address, and each one prevResult lists.
 *  STATUS  etcd answers and an enabled pool of each family the config
 *          assigns exists.
 *  GC      handles of this network and this node whose container is not
 *          among the valid attachments are released.
 *
 * Concurrency is the library's compare-and-swap; the host's lock file
 * (ipam_lock_file, default CNI_IPAM_LOCK_FILE) serialises the plugins of
 * one host for ADD, DEL and GC as Calico's does.
 * A failure after an address was taken releases the handle, so a failed
 * ADD leaves nothing behind.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cni/ipam_plugin.h"
#include "cni/util.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/ipam.h"
#include "store/model.h"

#define IPAM_PLUGIN_HANDLE_MAX 512

/* one call's state */
struct ipam_call {
	struct cni_netconf nc;
	struct cni_env env;
	char node[MODEL_NAME_MAX + 1];
	char handle[IPAM_PLUGIN_HANDLE_MAX];
	struct etcd *etcd;
	bool etcd_owned; /* not the caller's (ipam_plugin_run's etcd) */
	struct ipam *ipam;
	struct model_labels attrs;
	int lockfd;
};

/* ---- errors ---- */

/* The library's failure as the CNI error the runtime acts on. */
static void
ipam_plugin_fail(struct ipam_call *c, const char *what, const char *msg,
    bool pools_named, struct cni_error *err)
{
	const struct etcd_error *ee;
	const char *m;
	int code;

	switch (ipam_error_kind(c->ipam)) {
	case IPAM_E_DATASTORE:
		/*
		 * Unreachable or too slow: try again.  Refused (auth,
		 * permission, a request too large) will not get better.
		 */
		ee = etcd_last_error(c->etcd);
		if (ee != NULL && ee->kind != ETCD_E_NONE &&
		    ee->kind != ETCD_E_CONNECT &&
		    !(ee->kind == ETCD_E_SERVER &&
		        (ee->code == 4 || ee->code == 14))) {
			code = CNI_ERR_IO;
			m = "datastore refused the request";
			break;
		}
		/* FALLTHROUGH */
	case IPAM_E_BUSY:
		code = CNI_ERR_TRY_AGAIN;
		m = "datastore unavailable, try again later";
		break;
	case IPAM_E_INVALID:
		code = CNI_ERR_CONFIG;
		m = "invalid request";
		break;
	case IPAM_E_EXHAUSTED:
	case IPAM_E_LIMIT:
		code = CNI_ERR_NO_ADDRESS;
		m = "no free address";
		break;
	case IPAM_E_NOPOOL:
		code = pools_named ? CNI_ERR_CONFIG : CNI_ERR_NO_ADDRESS;
		m = pools_named ? "invalid pool" : "no IP pool";
		break;
	case IPAM_E_ASSIGNED:
		code = CNI_ERR_ADDRESS_TAKEN;
		m = "address already assigned";
		break;
	default:
		code = CNI_ERR_IO;
		m = "IPAM failed";
		break;
	}
	cni_error_set(err, code, "%s: %s", what, m);
	snprintf(err->details, sizeof(err->details), "%s", msg);
}

/* ---- requested addresses ---- */

/* "a" or "a/len", as the conventions' ips lists carry them */
static int
ipam_plugin_ip_parse(const char *s, struct addr *a)
{
	struct prefix p;

	if (addr_parse(s, a) == 0)
		return a->scope_id == 0 ? 0 : -1;
	if (prefix_parse(s, &p) == -1)
		return -1;
	*a = p.a;
	return a->scope_id == 0 ? 0 : -1;
}

int
ipam_plugin_requested(const struct cni_netconf *nc, const struct cni_args *args,
    struct addr *v, size_t max, size_t *n, struct cni_error *err)
{
	const char *path = "runtimeConfig.ips";
	json_t *ips = NULL, *e;
	size_t i;

	*n = 0;
	if (args->nips > 0) {
		for (i = 0; i < args->nips && i < max; i++)
			v[i] = args->ips[i];
		*n = i;
		return 0;
	}
	if (nc->args != NULL)
		ips = json_object_get(json_object_get(nc->args, "cni"), "ips");
	if (ips != NULL && !json_is_null(ips))
		path = "args.cni.ips";
	else if (nc->runtime_config != NULL)
		ips = json_object_get(nc->runtime_config, "ips");
	if (ips == NULL || json_is_null(ips))
		return 0;
	if (!json_is_array(ips)) {
		cni_error_set(err, CNI_ERR_CONFIG, "%s: not an array", path);
		return -1;
	}
	if (json_array_size(ips) > max) {
		cni_error_set(err, CNI_ERR_CONFIG, "%s: at most %zu addresses",
		    path, max);
		return -1;
	}
	json_array_foreach(ips, i, e)
	{
		if (!json_is_string(e) ||
		    ipam_plugin_ip_parse(json_string_value(e), &v[i]) == -1) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "%s[%zu]: not an IP address", path, i);
			return -1;
		}
	}
	*n = json_array_size(ips);
	return 0;
}

int
ipam_plugin_prev_ips(const struct cni_netconf *nc, struct addr *v, size_t max,
    size_t *n, struct cni_error *err)
{
	json_t *ips, *e;
	const char *s;
	size_t i;

	*n = 0;
	ips = json_object_get(nc->prev_result, "ips");
	if (ips == NULL || json_is_null(ips))
		return 0;
	if (!json_is_array(ips)) {
		cni_error_set(
		    err, CNI_ERR_DECODE, "prevResult.ips: not an array");
		return -1;
	}
	if (json_array_size(ips) > max) {
		cni_error_set(err, CNI_ERR_DECODE,
		    "prevResult.ips: more than %zu addresses", max);
		return -1;
	}
	json_array_foreach(ips, i, e)
	{
		s = json_string_value(json_object_get(e, "address"));
		if (s == NULL || ipam_plugin_ip_parse(s, &v[i]) == -1) {
			cni_error_set(err, CNI_ERR_DECODE,
			    "prevResult.ips[%zu].address: not an address", i);
			return -1;
		}
	}
	*n = json_array_size(ips);
	return 0;
}

/* ---- the result ---- */

static char *
ipam_plugin_result(const struct ipam_call *c, const struct addr *v, size_t n,
    struct cni_error *err)
{
	struct cni_result res;
	size_t i;

	memset(&res, 0, sizeof(res));
	for (i = 0; i < n && i < CNI_MAX_IPS; i++) {
		res.ips[i].address.a = v[i];
		res.ips[i].address.len = addr_maxlen(v[i].family);
		res.ips[i].iface = -1;
	}
	res.nips = i;
	return cni_result_encode(&res, c->nc.cni_version, err);
}

static void
ipam_plugin_log_addrs(
    const char *what, const char *handle, const struct addr *v, size_t n)
{
	char line[512], a[ADDR_STRLEN];
	size_t i, off = 0;

	line[0] = '\0';
	for (i = 0; i < n && off < sizeof(line); i++)
		off += snprintf(line + off, sizeof(line) - off, "%s%s",
		    i > 0 ? " " : "", addr_ntop(&v[i], a, sizeof(a)));
	log_info("%s %s: %s", what, handle, n > 0 ? line : "(none)");
}

/* ---- ADD ---- */

static bool
ipam_plugin_has_family(const struct addr *v, size_t n, int family)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (v[i].family == family)
			return true;
	return false;
}

/* whether the config asks for a family that v lacks */
static bool
ipam_plugin_lacks(const struct ipam_call *c, const struct addr *v, size_t n)
{
	return (c->nc.ipam.assign_ipv4 &&
	           !ipam_plugin_has_family(v, n, AF_INET)) ||
	    (c->nc.ipam.assign_ipv6 && !ipam_plugin_has_family(v, n, AF_INET6));
}

static int
ipam_plugin_add(struct ipam_call *c, char **out, struct cni_error *err)
{
	struct addr req[CNI_MAX_IPS], got[CNI_MAX_IPS], *held = NULL;
	struct ipam_request r;
	char msg[IPAM_ERRLEN], a[ADDR_STRLEN];
	size_t nreq, nheld, ngot = 0, i;
	bool named;
	int fam;

	if (ipam_handle_get(
	        c->ipam, c->handle, &held, &nheld, msg, sizeof(msg)) == -1) {
		ipam_plugin_fail(c, "reading the handle", msg, false, err);
		return -1;
	}
	if (ipam_plugin_requested(&c->nc, &c->env.args, req, CNI_MAX_ARGS_IPS,
	        &nreq, err) == -1) {
		free(held);
		return -1;
	}
	/*
	 * A repeated ADD: the container has its addresses.  One killed
	 * between its IPv4 and its IPv6 assignment left only the first,
	 * so a family the config asks for and the handle lacks is still
	 * assigned (auto-assignment only: asked-for addresses came whole).
	 */
	for (i = 0; i < nheld && ngot < CNI_MAX_IPS; i++)
		got[ngot++] = held[i];
	free(held);
	if (nheld > 0 && (nreq > 0 || !ipam_plugin_lacks(c, got, ngot))) {
		ipam_plugin_log_addrs(
		    "ADD again, held by", c->handle, got, ngot);
		*out = ipam_plugin_result(c, got, ngot, err);
		return *out == NULL ? -1 : 0;
	}

	memset(&r, 0, sizeof(r));
	r.handle = c->handle;
	r.attrs = &c->attrs;
	if (nreq > 0) {
		for (i = 0; i < nreq; i++) {
			if (ipam_assign_ip(
			        c->ipam, &r, &req[i], msg, sizeof(msg)) == -1) {
				/* the address names its pool */
				addr_ntop(&req[i], a, sizeof(a));
				ipam_plugin_fail(c, a, msg, true, err);
				goto undo;
			}
			got[ngot++] = req[i];
		}
	} else {
		for (fam = 0; fam < 2; fam++) {
			r.family = fam == 0 ? AF_INET : AF_INET6;
			if (fam == 0 && !c->nc.ipam.assign_ipv4)
				continue;
			if (fam == 1 && !c->nc.ipam.assign_ipv6)
				continue;
			if (ipam_plugin_has_family(got, ngot, r.family))
				continue; /* held since an earlier ADD */
			r.pools = fam == 0 ? c->nc.ipam.ipv4_pools
			                   : c->nc.ipam.ipv6_pools;
			r.npools = fam == 0 ? c->nc.ipam.nipv4_pools
			                    : c->nc.ipam.nipv6_pools;
			named = r.npools > 0;
			if (ipam_auto_assign(c->ipam, &r, &got[ngot], msg,
			        sizeof(msg)) == -1) {
				ipam_plugin_fail(c, fam == 0 ? "IPv4" : "IPv6",
				    msg, named, err);
				goto undo;
			}
			ngot++;
		}
		if (ngot == 0) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "ipam: neither assign_ipv4 nor assign_ipv6 is on");
			return -1;
		}
	}
	ipam_plugin_log_addrs("assigned to", c->handle, got, ngot);
	if ((*out = ipam_plugin_result(c, got, ngot, err)) == NULL)
		goto undo;
	return 0;
undo:
	/*
	 * Nothing is left behind: even an address whose write reached etcd
	 * though the answer did not is under this handle.
	 */
	if (ipam_release_handle(c->ipam, c->handle, msg, sizeof(msg)) == -1)
		log_warnx(
		    "releasing %s after the failed ADD: %s", c->handle, msg);
	return -1;
}

/* ---- DEL, CHECK ---- */

static int
ipam_plugin_del(struct ipam_call *c, struct cni_error *err)
{
	char msg[IPAM_ERRLEN];

	if (ipam_release_handle(c->ipam, c->handle, msg, sizeof(msg)) == -1) {
		ipam_plugin_fail(c, "releasing the handle", msg, false, err);
		return -1;
	}
	log_info("released %s", c->handle);
	return 0;
}

static int
ipam_plugin_check(struct ipam_call *c, struct cni_error *err)
{
	struct addr *held = NULL, want[CNI_MAX_IPS];
	char msg[IPAM_ERRLEN], a[ADDR_STRLEN];
	size_t nheld, nwant, i, k;
	int rc = -1;

	if (ipam_plugin_prev_ips(&c->nc, want, CNI_MAX_IPS, &nwant, err) == -1)
		return -1;
	if (ipam_handle_get(
	        c->ipam, c->handle, &held, &nheld, msg, sizeof(msg)) == -1) {
		ipam_plugin_fail(c, "reading the handle", msg, false, err);
		return -1;
	}
	if (nheld == 0) {
		cni_error_set(err, CNI_ERR_IO, "handle %.200s holds no address",
		    c->handle);
		return -1;
	}
	for (i = 0; i < nwant; i++) {
		for (k = 0; k < nheld; k++)
			if (addr_cmp(&held[k], &want[i]) == 0)
				break;
		if (k == nheld) {
			cni_error_set(err, CNI_ERR_IO,
			    "%s is not assigned to handle %.200s",
			    addr_ntop(&want[i], a, sizeof(a)), c->handle);
			goto out;
		}
	}
	rc = 0;
out:
	free(held);
	return rc;
}

/* ---- STATUS ---- */

static int
ipam_plugin_status(struct ipam_call *c, struct cni_error *err)
{
	struct etcd_result res;
	struct resource r;
	char prefix[256], e[MODEL_ERRLEN];
	bool have4 = false, have6 = false;
	json_t *j;
	size_t i;

	model_key_prefix(MODEL_IPPOOL, NULL, prefix, sizeof(prefix));
	if (etcd_list(c->etcd, prefix, 0, &res) == -1) {
		cni_error_set(err, CNI_ERR_NOT_AVAILABLE,
		    "datastore unavailable: etcd %s", etcd_endpoint(c->etcd));
		snprintf(err->details, sizeof(err->details), "%s",
		    etcd_error(c->etcd));
		return -1;
	}
	for (i = 0; i < res.nkvs; i++) {
		j = json_loadb(res.kvs[i].value, res.kvs[i].value_len, 0, NULL);
		resource_init(&r, MODEL_IPPOOL);
		if (j != NULL && resource_decode(j, &r, e, sizeof(e)) == 0 &&
		    r.kind == MODEL_IPPOOL && !r.ippool.disabled) {
			if (r.ippool.cidr.a.family == AF_INET)
				have4 = true;
			else
				have6 = true;
		}
		resource_clean(&r);
		json_decref(j);
	}
	etcd_result_clean(&res);
	if ((c->nc.ipam.assign_ipv4 && !have4) ||
	    (c->nc.ipam.assign_ipv6 && !have6) || (!have4 && !have6)) {
		cni_error_set(err, CNI_ERR_NOT_AVAILABLE,
		    "no enabled IPv%d pool",
		    c->nc.ipam.assign_ipv4 && !have4 ? 4 : 6);
		return -1;
	}
	return 0;
}

/* ---- GC ---- */

/* "cni.dev/valid-attachments", or the 1.1.0 drafts' "cni.dev/attachments" */
static const json_t *
ipam_plugin_attachments(const struct cni_netconf *nc)
{
	const json_t *v;

	v = json_object_get(nc->root, "cni.dev/valid-attachments");
	if (v == NULL)
		v = json_object_get(nc->root, "cni.dev/attachments");
	return v;
}

int
ipam_plugin_attachments_check(
    const struct cni_netconf *nc, struct cni_error *err)
{
	const json_t *v = ipam_plugin_attachments(nc), *e, *cid;
	size_t i;

	/*
	 * An absent list would make every handle of the network on this
	 * node collectable: refused, where an explicit [] means just that.
	 */
	if (v == NULL || json_is_null(v)) {
		cni_error_set(
		    err, CNI_ERR_CONFIG, "cni.dev/valid-attachments: missing");
		return -1;
	}
	if (!json_is_array(v)) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "cni.dev/valid-attachments: not an array");
		return -1;
	}
	json_array_foreach(v, i, e)
	{
		cid = json_object_get(e, "containerID");
		if (!json_is_object(e) || !json_is_string(cid) ||
		    json_string_length(cid) == 0) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "cni.dev/valid-attachments[%zu].containerID: "
			    "not a container id",
			    i);
			return -1;
		}
	}
	return 0;
}

bool
ipam_plugin_valid(const struct cni_netconf *nc, const char *cid)
{
	const json_t *atts = ipam_plugin_attachments(nc), *e;
	const char *s;
	size_t i;

	json_array_foreach(atts, i, e)
	{
		s = json_string_value(json_object_get(e, "containerID"));
		if (s != NULL && strcmp(s, cid) == 0)
			return true;
	}
	return false;
}

/*
 * Handles are cluster-wide and the runtime knows only its own node's
 * containers, so a handle is this node's to collect only when every
 * address it holds says node = this node in its attributes (Calico's CNI
 * writes them; an address without them is left alone).
 */
static int
ipam_plugin_gc_mine(struct ipam_call *c, const char *handle, bool *mine,
    char *msg, size_t msglen)
{
	struct ipam_owner o;
	struct addr *v = NULL;
	const char *node;
	size_t n, i;
	int rc;

	*mine = false;
	if (ipam_handle_get(c->ipam, handle, &v, &n, msg, msglen) == -1)
		return -1;
	*mine = n > 0;
	for (i = 0; i < n && *mine; i++) {
		if ((rc = ipam_ip_owner(c->ipam, &v[i], &o, msg, msglen)) ==
		    -1) {
			free(v);
			return -1;
		}
		if (rc == 1)
			continue; /* released meanwhile */
		node = model_labels_get(&o.attrs, "node");
		if (node == NULL || strcmp(node, c->node) != 0)
			*mine = false;
		ipam_owner_clean(&o);
	}
	free(v);
	return 0;
}

static int
ipam_plugin_gc(struct ipam_call *c, struct cni_error *err)
{
	char prefix[IPAM_PLUGIN_HANDLE_MAX + 64], id[IPAM_PLUGIN_HANDLE_MAX],
	    msg[IPAM_ERRLEN], idpfx[IPAM_PLUGIN_HANDLE_MAX];
	struct etcd_result res;
	size_t i, plen, nrel = 0;
	bool mine, failed = false;

	if (c->nc.name == NULL || *c->nc.name == '\0') {
		cni_error_set(err, CNI_ERR_CONFIG, "name: required");
		return -1;
	}
	if (ipam_plugin_attachments_check(&c->nc, err) == -1)
		return -1;
	snprintf(idpfx, sizeof(idpfx), "%s.", c->nc.name);
	plen = strlen(idpfx);
	if (model_handle_key(idpfx, prefix, sizeof(prefix)) == -1) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "name: \"%.64s\" cannot name a handle", c->nc.name);
		return -1;
	}
	if (etcd_list(c->etcd, prefix, 0, &res) == -1) {
		cni_etcd_error(c->etcd, "listing handles", err);
		return -1;
	}
	for (i = 0; i < res.nkvs; i++) {
		if (model_handle_key_parse(res.kvs[i].key, id, sizeof(id)) ==
		        -1 ||
		    strncmp(id, idpfx, plen) != 0 || id[plen] == '\0' ||
		    ipam_plugin_valid(&c->nc, id + plen))
			continue;
		/*
		 * "k8s.sriov.<id>" under the prefix "k8s." is network
		 * k8s.sriov's: a network name may hold dots, runtimes' ids
		 * do not, so such a handle is never ours to collect.
		 */
		if (strchr(id + plen, '.') != NULL)
			continue;
		if (ipam_plugin_gc_mine(c, id, &mine, msg, sizeof(msg)) == -1 ||
		    (mine &&
		        ipam_release_handle(c->ipam, id, msg, sizeof(msg)) ==
		            -1)) {
			log_warnx("GC: %s: %s", id, msg);
			if (!failed)
				ipam_plugin_fail(c, id, msg, false, err);
			failed = true;
			continue;
		}
		if (mine) {
			log_info("GC: released %s", id);
			nrel++;
		} else
			log_debug("GC: %s is another node's", id);
	}
	etcd_result_clean(&res);
	log_info("GC: released %zu handles", nrel);
	return failed ? -1 : 0;
}

/* ---- the call ---- */

/* cniVersion from a config that may not parse otherwise (VERSION, errors) */
static void
ipam_plugin_conf_version(
    const char *conf, size_t len, char *version, size_t vlen)
{
	json_t *j = json_loadb(conf, len, 0, NULL);
	const char *v = json_string_value(json_object_get(j, "cniVersion"));

	if (v != NULL && cni_version_supported(v))
		snprintf(version, vlen, "%s", v);
	else if (j != NULL && v == NULL)
		snprintf(version, vlen, "0.1.0");
	json_decref(j);
}

static bool
ipam_plugin_at_least(const char *v, const char *min)
{
	return strcmp(v, min) >= 0; /* x.y.z with one digit each */
}

static void
ipam_plugin_clean(struct ipam_call *c)
{
	if (c->ipam != NULL)
		ipam_free(c->ipam);
	if (c->etcd != NULL && c->etcd_owned)
		etcd_free(c->etcd);
	if (c->lockfd != -1)
		close(c->lockfd);
	model_labels_clean(&c->attrs);
	cni_netconf_clear(&c->nc);
	cni_env_clear(&c->env);
}

/*
 * The host's IPAM lock, as Calico's plugin takes it (by default the same
 * file, so a calico-ipam beside us waits too): the plugins of one host
 * would otherwise all race for the same block and lose compare-and-swap
 * rounds to each other.  Best effort, when the file cannot be made (as in
 * Calico) or is held past IPAM_PLUGIN_LOCK_MS: CAS keeps allocation
 * correct without it.
 */
static int
ipam_plugin_lock(struct ipam_call *c, struct cni_error *err)
{
	const char *path = c->nc.ipam_lock_file;
	struct cni_error e;

	if (path == NULL || *path == '\0')
		path = CNI_IPAM_LOCK_FILE;
	(void)err;
	if ((c->lockfd = cni_lock(path, IPAM_PLUGIN_LOCK_MS, &e)) != -1)
		return 0;
	/* held too long (a GC of thousands of handles) or not to be had */
	log_warnx("%s; going on without it", e.msg);
	return 0;
}

static int
ipam_plugin_dispatch(struct ipam_call *c, char **out, struct cni_error *err)
{
	enum cni_command cmd = c->env.command;
	const struct cni_args *a = &c->env.args;

	if (cmd == CNI_CMD_CHECK &&
	    !ipam_plugin_at_least(c->nc.cni_version, "0.4.0")) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE,
		    "config version does not allow CHECK");
		return -1;
	}
	if ((cmd == CNI_CMD_STATUS || cmd == CNI_CMD_GC) &&
	    !ipam_plugin_at_least(c->nc.cni_version, "1.1.0")) {
		cni_error_set(err, CNI_ERR_INCOMPATIBLE,
		    "config version does not allow %s", cni_command_name(cmd));
		return -1;
	}
	if (cni_nodename(&c->nc, c->node, sizeof(c->node), err) == -1)
		return -1;
	if ((cmd == CNI_CMD_ADD || cmd == CNI_CMD_DEL ||
	        cmd == CNI_CMD_CHECK) &&
	    cni_handle_id(&c->nc, &c->env, c->handle, sizeof(c->handle), err) ==
	        -1)
		return -1;
	if (c->etcd == NULL) {
		if ((c->etcd = cni_etcd_open(&c->nc, err)) == NULL)
			return -1;
		c->etcd_owned = true;
	}
	if ((c->ipam = ipam_new(c->etcd, c->node)) == NULL) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "nodename: \"%.64s\" cannot name an IPAM host", c->node);
		return -1;
	}
	/* Go's map order: namespace, node, pod */
	if (a->k8s_pod_namespace != NULL && a->k8s_pod_name != NULL) {
		model_labels_set(&c->attrs, "namespace", a->k8s_pod_namespace);
		model_labels_set(&c->attrs, "node", c->node);
		model_labels_set(&c->attrs, "pod", a->k8s_pod_name);
	} else
		model_labels_set(&c->attrs, "node", c->node);

	if (cmd == CNI_CMD_STATUS)
		return ipam_plugin_status(c, err);
	if (cmd == CNI_CMD_CHECK)
		return ipam_plugin_check(c, err);
	if (ipam_plugin_lock(c, err) == -1)
		return -1;
	switch (cmd) {
	case CNI_CMD_ADD:
		return ipam_plugin_add(c, out, err);
	case CNI_CMD_DEL:
		return ipam_plugin_del(c, err);
	case CNI_CMD_GC:
		return ipam_plugin_gc(c, err);
	default:
		cni_error_set(err, CNI_ERR_ENV, "CNI_COMMAND: %s not supported",
		    cni_command_name(cmd));
		return -1;
	}
}

int
ipam_plugin_run(cni_getenv_fn get, void *arg, struct etcd *etcd,
    const char *conf, size_t len, char **out, char *version, size_t vlen,
    struct cni_error *err)
{
	struct ipam_call c;
	int rc;

	*out = NULL;
	version[0] = '\0';
	memset(&c, 0, sizeof(c));
	c.lockfd = -1;
	c.etcd = etcd;
	ipam_plugin_conf_version(conf, len, version, vlen);
	if (cni_env_parse(get, arg, &c.env, err) == -1)
		return -1;
	if (c.env.command == CNI_CMD_VERSION) {
		*out = cni_version_encode(version[0] != '\0' ? version : NULL);
		return 0;
	}
	if (cni_netconf_parse(conf, len, &c.nc, err) == -1) {
		cni_env_clear(&c.env);
		return -1;
	}
	cni_log_setup(IPAM_PLUGIN_PROG, &c.nc);
	log_debug("%s %s container %s", cni_command_name(c.env.command),
	    c.nc.name != NULL ? c.nc.name : "(no name)",
	    c.env.container_id != NULL ? c.env.container_id : "-");
	rc = ipam_plugin_dispatch(&c, out, err);
	ipam_plugin_clean(&c);
	return rc;
}
