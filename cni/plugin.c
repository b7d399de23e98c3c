/*
 * The podmesh CNI plugin's commands (calico.md §4; SPEC.md 0.1.0-1.1.0 as
 * ecosystem.md §1 sums it up):
 *
 *	ADD	IPAM ADD -> veth, /32 and routes (cni/wire.c) ->
 *		WorkloadEndpoint (cni/wep.c) -> result in the config's
 *		cniVersion.  A failure after IPAM answered undoes the wiring
 *		and the endpoint and runs IPAM DEL, so nothing is leaked.
 *	DEL	endpoint (only this container's), host link down, then IPAM DEL
 *		beside the wiring's removal (a thread); each done even when
 *		another failed, and all idempotent.
 *	CHECK	wiring and endpoint against prevResult, then IPAM CHECK.
 *	STATUS	IPAM STATUS.  GC: IPAM GC and the "cni" endpoints of this
 *		network and node that no valid attachment names.
 *	VERSION	answered from the environment alone.
 *
 * Every error leaves through cni_fail(): the spec's JSON on stdout, exit 1.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/exec.h"
#include "cni/ipam_plugin.h"
#include "cni/plugin.h"
#include "cni/util.h"
#include "cni/wep.h"
#include "cni/wire.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"

/* What one invocation works with. */
struct plugin {
	cni_getenv_fn get;
	void *arg;
	struct cni_netconf nc;
	struct cni_env env;
	struct plugin_ident id;
	char node[MODEL_NAME_MAX + 1];
	struct etcd *etcd;
};

const char *
plugin_ifprefix(const char *felix, char *buf, size_t len)
{
	size_t n;

	if (felix == NULL)
		return NULL;
	n = strcspn(felix, ",");
	while (n > 0 && isspace((unsigned char)felix[n - 1]))
		n--;
	while (n > 0 && isspace((unsigned char)*felix)) {
		felix++;
		n--;
	}
	if (n == 0 || n > PLUGIN_PREFIX_MAX || n >= len)
		return NULL;
	memcpy(buf, felix, n);
	buf[n] = '\0';
	return buf;
}

int
plugin_ident(const struct cni_env *env, const char *prefix,
    struct plugin_ident *id, struct cni_error *err)
{
	const struct cni_args *a = &env->args;
	int n;

	memset(id, 0, sizeof(*id));
	id->k8s = a->k8s_pod_namespace != NULL && *a->k8s_pod_namespace != 0 &&
	    a->k8s_pod_name != NULL && *a->k8s_pod_name != '\0';
	if (env->container_id == NULL) {
		cni_error_set(err, CNI_ERR_ENV, "CNI_CONTAINERID: not set");
		return -1;
	}
	if (id->k8s) {
		id->orchestrator = "k8s";
		id->namespace = a->k8s_pod_namespace;
		id->pod = a->k8s_pod_name;
		n = snprintf(id->workload, sizeof(id->workload), "%s.%s",
		    id->namespace, id->pod);
	} else {
		id->orchestrator = "cni";
		id->namespace = "default";
		n = snprintf(id->workload, sizeof(id->workload), "%s",
		    env->container_id);
	}
	if (n < 0 || (size_t)n >= sizeof(id->workload)) {
		cni_error_set(err, CNI_ERR_ENV, "%s: workload name too long",
		    id->k8s ? "CNI_ARGS" : "CNI_CONTAINERID");
		return -1;
	}
	if (cni_host_ifname(prefix, id->k8s ? id->workload : NULL,
	        env->container_id, id->host_ifname,
	        sizeof(id->host_ifname)) == -1) {
		cni_error_set(err, CNI_ERR_ENV,
		    "FELIX_INTERFACEPREFIX: no host interface name fits "
		    "prefix \"%s\"",
		    prefix != NULL ? prefix : "cali");
		return -1;
	}
	return 0;
}

static int
version_parse(const char *v, int out[3])
{
	char *end;
	long n;
	int i;

	for (i = 0; i < 3; i++) {
		if (!isdigit((unsigned char)*v))
			return -1;
		n = strtol(v, &end, 10);
		if (n > 10000)
			return -1;
		out[i] = (int)n;
		v = end;
		if (i < 2 && *v++ != '.')
			return -1;
	}
	return *v == '\0' ? 0 : -1;
}

int
plugin_version_cmp(const char *a, const char *b)
{
	int x[3], y[3], i, pa, pb;

	pa = a != NULL ? version_parse(a, x) : -1;
	pb = b != NULL ? version_parse(b, y) : -1;
	if (pa == -1 || pb == -1)
		return (pa == -1 ? 0 : 1) - (pb == -1 ? 0 : 1);
	for (i = 0; i < 3; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

char *
plugin_peek_version(const char *in, size_t len)
{
	const char *v;
	json_t *j;
	char *s = NULL;

	if (in == NULL || len == 0)
		return NULL;
	if ((j = json_loadb(in, len, 0, NULL)) == NULL)
		return NULL;
	v = json_string_value(json_object_get(j, "cniVersion"));
	if (v != NULL && cni_version_supported(v))
		s = xstrdup(v);
	json_decref(j);
	return s;
}

static int
dns_list(const json_t *dns, const char *key, const char **v, size_t *n,
    struct cni_error *err)
{
	const json_t *a, *e;
	size_t i;

	*n = 0;
	if ((a = json_object_get(dns, key)) == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a)) {
		cni_error_set(err, CNI_ERR_CONFIG, "dns.%s: not a list", key);
		return -1;
	}
	if (json_array_size(a) > CNI_MAX_DNS) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "dns.%s: more than %d entries", key, CNI_MAX_DNS);
		return -1;
	}
	json_array_foreach(a, i, e)
	{
		if (!json_is_string(e)) {
			cni_error_set(err, CNI_ERR_CONFIG,
			    "dns.%s[%zu]: not a string", key, i);
			return -1;
		}
		v[(*n)++] = json_string_value(e);
	}
	return 0;
}

int
plugin_dns(const json_t *root, struct cni_dns *d, struct cni_error *err)
{
	const json_t *dns, *dom;

	memset(d, 0, sizeof(*d));
	if ((dns = json_object_get(root, "dns")) == NULL || json_is_null(dns))
		return 0;
	if (!json_is_object(dns)) {
		cni_error_set(err, CNI_ERR_CONFIG, "dns: not an object");
		return -1;
	}
	if (dns_list(dns, "nameservers", d->nameservers, &d->nnameservers,
	        err) == -1 ||
	    dns_list(dns, "search", d->search, &d->nsearch, err) == -1 ||
	    dns_list(dns, "options", d->options, &d->noptions, err) == -1)
		return -1;
	if ((dom = json_object_get(dns, "domain")) != NULL &&
	    !json_is_null(dom)) {
		if (!json_is_string(dom)) {
			cni_error_set(
			    err, CNI_ERR_CONFIG, "dns.domain: not a string");
			return -1;
		}
		if (*json_string_value(dom) != '\0')
			d->domain = json_string_value(dom);
	}
	return 0;
}

int
plugin_ipam_addrs(const struct cni_result *res, struct prefix *addrs,
    size_t *naddrs, struct cni_error *err)
{
	size_t i;

	*naddrs = 0;
	for (i = 0; i < res->nips && *naddrs < CNI_MAX_IPS; i++) {
		if (res->ips[i].address.a.family != AF_INET &&
		    res->ips[i].address.a.family != AF_INET6)
			continue;
		/* v3's IPAM answers with the block's mask; a pod owns one */
		addrs[*naddrs] = res->ips[i].address;
		addrs[*naddrs].len = addr_maxlen(res->ips[i].address.a.family);
		(*naddrs)++;
	}
	if (*naddrs == 0) {
		cni_error_set(err, CNI_ERR_NO_ADDRESS,
		    "the IPAM plugin returned no IP address");
		return -1;
	}
	return 0;
}

void
plugin_result(const char *host_ifname, const char *ifname, const char *mac,
    const char *netns, int mtu, const struct prefix *addrs, size_t naddrs,
    const struct cni_dns *dns, struct cni_result *res)
{
	bool v4 = false, v6 = false;
	struct cni_route *r;
	size_t i;

	memset(res, 0, sizeof(*res));
	res->ifaces[0].name = host_ifname;
	res->ifaces[0].mac = CNI_HOST_MAC;
	res->ifaces[1].name = ifname;
	res->ifaces[1].mac = mac;
	res->ifaces[1].sandbox = netns;
	res->ifaces[0].mtu = res->ifaces[1].mtu = mtu;
	res->nifaces = 2;
	for (i = 0; i < naddrs && i < CNI_MAX_IPS; i++) {
		res->ips[i].address = addrs[i];
		res->ips[i].iface = 1;
		if (addrs[i].a.family == AF_INET)
			v4 = true;
		else
			v6 = true;
	}
	res->nips = i;
	if (v4) {
		r = &res->routes[res->nroutes++];
		r->dst.a.family = AF_INET;
		if (addr_parse(CNI_GATEWAY4, &r->gw) == -1)
			fatalx("%s: gateway", __func__);
	}
	if (v6) {
		r = &res->routes[res->nroutes++];
		r->dst.a.family = AF_INET6;
		if (addr_parse(CNI_GATEWAY6, &r->gw) == -1)
			fatalx("%s: gateway", __func__);
	}
	if (dns != NULL)
		res->dns = *dns;
}

int
plugin_prev_addrs(const struct cni_result *prev, const char *ifname,
    struct prefix *addrs, size_t *naddrs, struct cni_error *err)
{
	const struct cni_iface *f;
	size_t i;

	*naddrs = 0;
	for (i = 0; i < prev->nips && *naddrs < CNI_MAX_IPS; i++) {
		if (prev->ips[i].iface < 0 ||
		    (size_t)prev->ips[i].iface >= prev->nifaces)
			continue;
		f = &prev->ifaces[prev->ips[i].iface];
		if (f->name == NULL || strcmp(f->name, ifname) != 0 ||
		    f->sandbox == NULL || *f->sandbox == '\0')
			continue;
		addrs[*naddrs] = prev->ips[i].address;
		addrs[*naddrs].len = addr_maxlen(addrs[*naddrs].a.family);
		(*naddrs)++;
	}
	if (*naddrs == 0) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "prevResult: no address on interface %s", ifname);
		return -1;
	}
	return 0;
}

bool
plugin_prev_has_ips(const json_t *prev)
{
	const json_t *ips;

	if (prev == NULL)
		return false;
	ips = json_object_get(prev, "ips");
	if (json_is_array(ips) && json_array_size(ips) > 0)
		return true;
	/* 0.1.0/0.2.0 results */
	return json_object_get(prev, "ip4") != NULL ||
	    json_object_get(prev, "ip6") != NULL;
}

/* ---- the commands ---- */

static void
plugin_wep_req(const struct plugin *p, struct cni_wep_req *req)
{
	memset(req, 0, sizeof(*req));
	req->node = p->node;
	req->orchestrator = p->id.orchestrator;
	req->namespace = p->id.namespace;
	req->pod = p->id.pod;
	req->container_id = p->env.container_id;
	req->endpoint = p->env.ifname;
	req->network = p->nc.name;
}

/* node name and etcd: what ADD, DEL, CHECK and GC all need */
static int
plugin_store(struct plugin *p, struct cni_error *err)
{
	if (cni_nodename(&p->nc, p->node, sizeof(p->node), err) == -1)
		return -1;
	if ((p->etcd = cni_etcd_open(&p->nc, err)) == NULL)
		return -1;
	return 0;
}

/* the endpoint can be named and keyed: found out before IPAM, not after */
static int
plugin_wep_ok(const struct plugin *p, struct cni_error *err)
{
	struct cni_wep_req req;
	struct resource r;
	char key[512];
	int rc = 0;

	plugin_wep_req(p, &req);
	if (cni_wep_build(&req, &r, err) == -1)
		rc = -1;
	else if (resource_key(&r, key, sizeof(key)) == -1) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "WorkloadEndpoint %s/%s: not a valid etcd key",
		    r.meta.namespace, r.meta.name);
		rc = -1;
	}
	resource_clean(&r);
	return rc;
}

/* the environment podmesh-ipam would get: ours with CNI_COMMAND replaced */
struct plugin_ipam_env {
	const struct plugin *p;
	const char *command;
};

static const char *
plugin_ipam_getenv(void *arg, const char *name)
{
	const struct plugin_ipam_env *e = arg;

	if (strcmp(name, "CNI_COMMAND") == 0)
		return e->command;
	return e->p->get(e->p->arg, name);
}

/*
 * Whether the IPAM is ours: "podmesh-ipam", or "calico-ipam" with no
 * calico-ipam binary in CNI_PATH (cni_ipam_exec() would run podmesh-ipam
 * then).  Ours runs in this process: the same code as the podmesh-ipam
 * binary, without a second process start (most of an ADD's time, with
 * libcurl's dependencies to load) and a second etcd connection.
 */
static bool
plugin_ipam_builtin(const struct plugin *p)
{
	struct cni_error e;
	char bin[4096];
	const char *t = p->nc.ipam.type;

	if (t == NULL || p->env.path == NULL || *p->env.path == '\0')
		return false;
	if (strcmp(t, IPAM_PLUGIN_PROG) == 0)
		return true;
	return strcmp(t, "calico-ipam") == 0 &&
	    cni_find_plugin(p->env.path, "calico-ipam", bin, sizeof(bin), &e) ==
	    -1;
}

/* IPAM command for this config: built in, else delegated (SPEC.md) */
static int
plugin_ipam(
    struct plugin *p, const char *command, json_t **out, struct cni_error *err)
{
	struct plugin_ipam_env e = {p, command};
	json_error_t jerr;
	char version[16], *in, *res = NULL;
	int rc;

	*out = NULL;
	if (!plugin_ipam_builtin(p))
		return cni_ipam_exec(&p->nc, &p->env, command, out, err);
	if ((in = json_dumps(p->nc.root, JSON_PRESERVE_ORDER | JSON_COMPACT)) ==
	    NULL) {
		cni_error_set(err, CNI_ERR_INTERNAL, "ipam: no config to pass");
		return -1;
	}
	rc = ipam_plugin_run(plugin_ipam_getenv, &e, p->etcd, in, strlen(in),
	    &res, version, sizeof(version), err);
	free(in);
	cni_log_setup(PLUGIN_PROG, &p->nc); /* ipam_plugin_run named itself */
	if (rc == -1)
		return -1;
	if (res != NULL && strcmp(command, "ADD") == 0 &&
	    (*out = json_loads(res, 0, &jerr)) == NULL) {
		cni_error_set(
		    err, CNI_ERR_INTERNAL, "ipam: bad result: %s", jerr.text);
		rc = -1;
	}
	free(res);
	if (rc == 0 && *out == NULL && strcmp(command, "ADD") == 0) {
		cni_error_set(err, CNI_ERR_INTERNAL, "ipam returned no result");
		rc = -1;
	}
	return rc;
}

static void
plugin_ipam_del(struct plugin *p)
{
	struct cni_error e;
	json_t *out = NULL;

	if (plugin_ipam(p, "DEL", &out, &e) == -1)
		log_warnx("releasing the address after a failed ADD: %s%s%s",
		    e.msg, e.details[0] != '\0' ? ": " : "", e.details);
	json_decref(out);
}

static int
plugin_add(struct plugin *p, struct cni_error *err)
{
	struct cni_result ipam, res;
	struct cni_wire w;
	struct cni_wired wired;
	struct cni_wep_req req;
	struct cni_dns dns;
	struct cni_error e;
	json_t *ipamj = NULL;
	bool wire_done = false, wep_done = false;
	char *s;
	int rc;

	if (plugin_prev_has_ips(p->nc.prev_result)) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "prevResult: podmesh assigns the pod's addresses and "
		    "must come first in the chain");
		return -1;
	}
	if (plugin_dns(p->nc.root, &dns, err) == -1 ||
	    plugin_store(p, err) == -1 || plugin_wep_ok(p, err) == -1 ||
	    cni_wire_netns_check(p->env.netns, err) == -1)
		return -1;
	if (plugin_ipam(p, "ADD", &ipamj, err) == -1)
		return -1;

	/* from here on the address is ours: any failure gives it back */
	memset(&w, 0, sizeof(w));
	if (ipamj == NULL) {
		cni_error_set(
		    err, CNI_ERR_DECODE, "the IPAM plugin printed no result");
		goto undo;
	}
	if (cni_result_decode(ipamj, &ipam, err) == -1 ||
	    plugin_ipam_addrs(&ipam, w.addrs, &w.naddrs, err) == -1)
		goto undo;
	w.netns = p->env.netns;
	w.ifname = p->env.ifname;
	w.host_ifname = p->id.host_ifname;
	w.mtu = p->nc.mtu;
	if (cni_wire_add(&w, &wired, err) == -1)
		goto undo;
	wire_done = true;

	plugin_wep_req(p, &req);
	req.host_ifname = p->id.host_ifname;
	req.mac = wired.mac;
	req.nets = w.addrs;
	req.nnets = w.naddrs;
	if (cni_wep_write(p->etcd, &req, err) == -1)
		goto undo;
	wep_done = true;

	plugin_result(p->id.host_ifname, p->env.ifname, wired.mac, p->env.netns,
	    p->nc.mtu > 0 ? p->nc.mtu : CNI_DEFAULT_MTU, w.addrs, w.naddrs,
	    &dns, &res);
	if ((s = cni_result_encode(&res, p->nc.cni_version, err)) == NULL)
		goto undo;
	json_decref(ipamj);
	rc = cni_print(s);
	free(s);
	return rc == 0 ? 0 : -2;

undo:
	log_warnx("ADD of %s failed: %s; undoing it", p->id.workload, err->msg);
	if (wep_done) {
		plugin_wep_req(p, &req);
		if (cni_wep_delete(p->etcd, &req, &e) == -1)
			log_warnx("removing the WorkloadEndpoint: %s", e.msg);
	}
	if (wire_done &&
	    cni_wire_del(p->env.netns, p->env.ifname, p->id.host_ifname, &e) ==
	        -1)
		log_warnx("removing the wiring: %s", e.msg);
	plugin_ipam_del(p);
	json_decref(ipamj);
	return -1;
}

/*
 * DEL does every step whatever the others did, since each one left
 * undone leaks something; the first failure is the answer.
 */
/* the wiring's removal, run beside IPAM's release */
struct plugin_unwire {
	const char *netns;
	const char *ifname;
	const char *host_ifname; /* NULL: leave the host link alone */
	struct cni_error err;
	int rc;
};

static void *
plugin_unwire(void *arg)
{
	struct plugin_unwire *u = arg;

	u->rc = cni_wire_del(u->netns, u->ifname, u->host_ifname, &u->err);
	return NULL;
}

static int
plugin_del(struct plugin *p, struct cni_error *err)
{
	struct plugin_unwire u;
	struct cni_wep_req req;
	struct cni_error e;
	json_t *out = NULL;
	pthread_t t;
	bool threaded, failed = false;
	int w;

	if (plugin_store(p, err) == -1)
		return -1;
	plugin_wep_req(p, &req);
	if ((w = cni_wep_delete(p->etcd, &req, &e)) == -1) {
		*err = e;
		failed = true;
	}
	/*
	 * The host link is named after the pod, and a pod's sandboxes share
	 * the name: it is touched by name only when the endpoint just
	 * deleted was this container's.  When it was another's (a stale DEL),
	 * absent (an ADD that never wrote it, or an earlier DEL), or etcd
	 * could not tell, only CNI_IFNAME in the old netns goes, and the
	 * host end of its veth with it (a netns already gone took both).
	 */
	memset(&u, 0, sizeof(u));
	u.netns = p->env.netns;
	u.ifname = p->env.ifname;
	u.host_ifname = w == CNI_WEP_DELETED ? p->id.host_ifname : NULL;
	/*
	 * The host link down first: its routes go at once, before the
	 * address is released and can be another pod's.  Unregistering the
	 * veth then takes the kernel longer than the rest of the DEL, so it
	 * runs on a thread beside the release, and DEL returns when both
	 * are done.
	 */
	if (u.host_ifname != NULL && cni_wire_down(u.host_ifname, &e) == -1 &&
	    !failed) {
		*err = e;
		failed = true;
	}
	threaded = pthread_create(&t, NULL, plugin_unwire, &u) == 0;
	if (!threaded)
		plugin_unwire(&u);
	if (plugin_ipam(p, "DEL", &out, &e) == -1 && !failed) {
		*err = e;
		failed = true;
	}
	json_decref(out);
	if (threaded)
		pthread_join(t, NULL);
	if (u.rc == -1 && !failed) {
		*err = u.err;
		failed = true;
	}
	if (!failed)
		log_info("DEL of %s (container %s) done", p->id.workload,
		    p->env.container_id);
	return failed ? -1 : 0;
}

static int
plugin_check(struct plugin *p, struct cni_error *err)
{
	struct cni_result prev;
	struct cni_wire w;
	struct cni_wep_req req;
	json_t *out = NULL;
	int rc;

	if (p->nc.prev_result == NULL) {
		cni_error_set(err, CNI_ERR_CONFIG, "prevResult missing");
		return -1;
	}
	memset(&w, 0, sizeof(w));
	if (cni_result_decode(p->nc.prev_result, &prev, err) == -1 ||
	    plugin_prev_addrs(&prev, p->env.ifname, w.addrs, &w.naddrs, err) ==
	        -1)
		return -1;
	w.netns = p->env.netns;
	w.ifname = p->env.ifname;
	w.host_ifname = p->id.host_ifname;
	w.mtu = p->nc.mtu;
	if (cni_wire_check(&w, err) == -1 || plugin_store(p, err) == -1)
		return -1;
	plugin_wep_req(p, &req);
	req.host_ifname = p->id.host_ifname;
	req.nets = w.addrs;
	req.nnets = w.naddrs;
	if (cni_wep_check(p->etcd, &req, err) == -1)
		return -1;
	rc = plugin_ipam(p, "CHECK", &out, err);
	json_decref(out);
	return rc;
}

static int
plugin_gc(struct plugin *p, struct cni_error *err)
{
	const json_t *valid;
	struct cni_error e;
	json_t *out = NULL;
	size_t n;
	int rc;

	rc = plugin_ipam(p, "GC", &out, err);
	json_decref(out);
	/* only a runtime that told which attachments live gets collection */
	valid = json_object_get(p->nc.root, "cni.dev/valid-attachments");
	if (!json_is_array(valid) || p->nc.name == NULL)
		return rc;
	if (plugin_store(p, &e) == -1 ||
	    cni_wep_gc(p->etcd, p->node, p->nc.name, valid, &n, &e) == -1) {
		if (rc == 0)
			*err = e;
		return -1;
	}
	if (n > 0)
		log_info("GC: %zu stale WorkloadEndpoints deleted", n);
	return rc;
}

static int
plugin_command(struct plugin *p, struct cni_error *err)
{
	static const struct {
		enum cni_command cmd;
		const char *min;
	} min[] = {
	    {CNI_CMD_CHECK, "0.4.0"},
	    {CNI_CMD_STATUS, "1.1.0"},
	    {CNI_CMD_GC, "1.1.0"},
	};
	char prefix[PLUGIN_PREFIX_MAX + 1];
	json_t *out = NULL;
	size_t i;
	int rc;

	/* pkg/skel: "config version does not allow CHECK" (code 1) */
	for (i = 0; i < sizeof(min) / sizeof(min[0]); i++)
		if (p->env.command == min[i].cmd &&
		    plugin_version_cmp(p->nc.cni_version, min[i].min) < 0) {
			cni_error_set(err, CNI_ERR_INCOMPATIBLE,
			    "config version does not allow %s",
			    cni_command_name(p->env.command));
			return -1;
		}
	switch (p->env.command) {
	case CNI_CMD_STATUS:
		rc = plugin_ipam(p, "STATUS", &out, err);
		json_decref(out);
		return rc;
	case CNI_CMD_GC:
		return plugin_gc(p, err);
	default:
		break;
	}
	if (plugin_ident(&p->env,
	        plugin_ifprefix(p->get(p->arg, "FELIX_INTERFACEPREFIX"), prefix,
	            sizeof(prefix)),
	        &p->id, err) == -1)
		return -1;
	switch (p->env.command) {
	case CNI_CMD_ADD:
		return plugin_add(p, err);
	case CNI_CMD_DEL:
		return plugin_del(p, err);
	case CNI_CMD_CHECK:
		return plugin_check(p, err);
	default:
		cni_error_set(err, CNI_ERR_ENV, "CNI_COMMAND: %s not handled",
		    cni_command_name(p->env.command));
		return -1;
	}
}

int
plugin_run(cni_getenv_fn get, void *arg, const char *in, size_t inlen)
{
	struct plugin p;
	struct cni_error err;
	char *peek, *s;
	int rc;

	memset(&p, 0, sizeof(p));
	memset(&err, 0, sizeof(err));
	p.get = get;
	p.arg = arg;
	peek = plugin_peek_version(in, inlen);
	if (cni_env_parse(get, arg, &p.env, &err) == -1) {
		rc = cni_fail(&err, peek);
		goto out;
	}
	if (p.env.command == CNI_CMD_VERSION) {
		s = cni_version_encode(peek);
		rc = cni_print(s);
		free(s);
		goto out;
	}
	if (cni_netconf_parse(in != NULL ? in : "", inlen, &p.nc, &err) == -1) {
		rc = cni_fail(&err, peek);
		goto out;
	}
	cni_log_setup(PLUGIN_PROG, &p.nc);
	log_debug("%s container %s netns %s ifname %s",
	    cni_command_name(p.env.command),
	    p.env.container_id != NULL ? p.env.container_id : "-",
	    p.env.netns != NULL ? p.env.netns : "-",
	    p.env.ifname != NULL ? p.env.ifname : "-");
	switch (plugin_command(&p, &err)) {
	case 0:
		rc = 0;
		break;
	case -2: /* the answer could not be printed: nothing more to say */
		rc = 1;
		break;
	default:
		rc = cni_fail(&err, p.nc.cni_version);
		break;
	}
out:
	if (p.etcd != NULL)
		etcd_free(p.etcd);
	cni_netconf_clear(&p.nc);
	cni_env_clear(&p.env);
	free(peek);
	return rc;
}
