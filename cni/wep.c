/*
 * The WorkloadEndpoint of a pod (calico.md §4; Calico v3's
 * projectcalico.org/v3 WorkloadEndpoint under
 * /calico/resources/v3/projectcalico.org/workloadendpoints/<ns>/<name>):
 * built from what the plugin knows at ADD, written with compare-and-swap
 * so a concurrent writer is never overwritten blindly, removed at DEL only
 * while it still names the container being deleted (a stale DEL for an
 * old sandbox must not take the new sandbox's endpoint), checked at CHECK,
 * and collected at GC for the "cni" orchestrator.
 *
 * The stored form is store/model.h's resource encoding, with the labels
 * Calico's client adds to every endpoint (projectcalico.org/namespace and
 * projectcalico.org/orchestrator) and the uid and creationTimestamp it
 * stamps on create, kept across a rewrite.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cni/util.h"
#include "cni/wep.h"
#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/model.h"

#define WEP_LABEL_NS "projectcalico.org/namespace"
#define WEP_LABEL_ORCH "projectcalico.org/orchestrator"
#define WEP_KEYLEN 512
#define WEP_TRIES 5 /* compare-and-swap rounds before giving up */

static char *
wep_dup(const char *s)
{
	return s != NULL && *s != '\0' ? xstrdup(s) : NULL;
}

int
cni_wep_build(
    const struct cni_wep_req *req, struct resource *r, struct cni_error *err)
{
	struct model_wep *w;
	char name[MODEL_NAME_MAX + 1], msg[MODEL_ERRLEN], prof[512];
	bool k8s;
	size_t i;

	resource_init(r, MODEL_WEP);
	w = &r->wep;
	k8s =
	    req->orchestrator != NULL && strcmp(req->orchestrator, "k8s") == 0;
	w->orchestrator = wep_dup(req->orchestrator);
	w->node = wep_dup(req->node);
	w->container_id = wep_dup(req->container_id);
	w->endpoint = wep_dup(req->endpoint);
	if (k8s)
		w->pod = wep_dup(req->pod);
	else
		w->workload = wep_dup(req->container_id);
	w->interface_name = wep_dup(req->host_ifname);
	w->mac = wep_dup(req->mac);
	if (req->nnets > 0) {
		w->ip_networks = xcalloc(req->nnets, sizeof(*w->ip_networks));
		for (i = 0; i < req->nnets; i++)
			w->ip_networks[i] = req->nets[i];
		w->n_ip_networks = req->nnets;
	}
	if (k8s)
		snprintf(prof, sizeof(prof), "kns.%s",
		    req->namespace != NULL ? req->namespace : "");
	else
		snprintf(prof, sizeof(prof), "%s",
		    req->network != NULL ? req->network : "");
	if (prof[0] != '\0') {
		w->profiles = xcalloc(1, sizeof(*w->profiles));
		w->profiles[0] = xstrdup(prof);
		w->n_profiles = 1;
	}

	if (model_wep_name(w, name, sizeof(name), msg, sizeof(msg)) == -1) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "cannot name the WorkloadEndpoint: %s", msg);
		return -1;
	}
	r->meta.name = xstrdup(name);
	r->meta.namespace = xstrdup(
	    req->namespace != NULL && *req->namespace != '\0' ? req->namespace
	                                                      : "default");
	model_labels_set(&r->meta.labels, WEP_LABEL_NS, r->meta.namespace);
	model_labels_set(&r->meta.labels, WEP_LABEL_ORCH, w->orchestrator);
	return 0;
}

static int
wep_key(const struct resource *r, char *key, size_t len, struct cni_error *err)
{
	if (resource_key(r, key, len) == -1) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "WorkloadEndpoint %s/%s: not a valid etcd key",
		    r->meta.namespace, r->meta.name);
		return -1;
	}
	return 0;
}

/* a string member two levels down ("metadata", "uid"), or NULL */
static const char *
wep_member(const json_t *j, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(j, obj), key));
}

/* uid and creationTimestamp of the stored kv, if any, into r */
static void
wep_identity(struct resource *r, const struct etcd_result *cur)
{
	const char *s;
	json_t *j;

	free(r->meta.uid);
	free(r->meta.creation_timestamp);
	r->meta.uid = r->meta.creation_timestamp = NULL;
	if (cur->nkvs > 0) {
		j = json_loadb(
		    cur->kvs[0].value, cur->kvs[0].value_len, 0, NULL);
		if ((s = wep_member(j, "metadata", "uid")) != NULL)
			r->meta.uid = xstrdup(s);
		if ((s = wep_member(j, "metadata", "creationTimestamp")) !=
		    NULL)
			r->meta.creation_timestamp = xstrdup(s);
		json_decref(j);
	}
	if (r->meta.uid == NULL)
		r->meta.uid = model_uid_new();
	if (r->meta.creation_timestamp == NULL)
		r->meta.creation_timestamp = model_timestamp_now();
}

/*
 * A new pod's endpoint does not exist yet, so the first try creates it
 * (compare: absent) without reading first; a failed compare hands back
 * the stored kv, whose revision and identity the next try uses: a
 * rewrite keeps the uid and creationTimestamp Calico stamped on it.
 */
int
cni_wep_write(
    struct etcd *etcd, const struct cni_wep_req *req, struct cni_error *err)
{
	struct etcd_result cur, cas;
	struct resource r;
	char key[WEP_KEYLEN], *value;
	json_t *j;
	int64_t mod = 0;
	int tries, rc = -1, c;

	memset(&cur, 0, sizeof(cur));
	if (cni_wep_build(req, &r, err) == -1 ||
	    wep_key(&r, key, sizeof(key), err) == -1)
		goto out;
	for (tries = 0; tries < WEP_TRIES; tries++) {
		wep_identity(&r, &cur);
		etcd_result_clean(&cur);
		j = resource_encode(&r, MODEL_NO_RV);
		value = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		if (value == NULL)
			fatalx("%s: json_dumps", __func__);
		c = etcd_cas_put(etcd, key, value, 0, mod, 0, &cas);
		free(value);
		if (c == -1) {
			cni_etcd_error(
			    etcd, "writing the WorkloadEndpoint", err);
			goto out;
		}
		if (c == 0) {
			etcd_result_clean(&cas);
			log_info("WorkloadEndpoint %s/%s written",
			    r.meta.namespace, r.meta.name);
			rc = 0;
			goto out;
		}
		cur = cas; /* the stored kv, or none if it went meanwhile */
		mod = cur.nkvs > 0 ? cur.kvs[0].mod_revision : 0;
		log_debug("WorkloadEndpoint %s exists (revision %lld); "
		          "rewriting it",
		    key, (long long)mod);
	}
	cni_error_set(err, CNI_ERR_TRY_AGAIN,
	    "WorkloadEndpoint %s/%s keeps changing under us", r.meta.namespace,
	    r.meta.name);
out:
	etcd_result_clean(&cur);
	resource_clean(&r);
	return rc;
}

int
cni_wep_delete(
    struct etcd *etcd, const struct cni_wep_req *req, struct cni_error *err)
{
	struct etcd_result res, cas;
	struct resource r;
	struct cni_error e;
	char key[WEP_KEYLEN];
	const char *cid;
	json_t *cur;
	int64_t mod;
	int tries, rc = -1, c;

	if (cni_wep_build(req, &r, &e) == -1 ||
	    wep_key(&r, key, sizeof(key), &e) == -1) {
		/* ADD refused it before anything was made */
		log_debug("no WorkloadEndpoint to delete: %s", e.msg);
		rc = CNI_WEP_ABSENT;
		goto out;
	}
	for (tries = 0; tries < WEP_TRIES; tries++) {
		if (etcd_get(etcd, key, &res) == -1) {
			cni_etcd_error(
			    etcd, "reading the WorkloadEndpoint", err);
			goto out;
		}
		if (res.nkvs == 0) {
			etcd_result_clean(&res);
			log_debug("WorkloadEndpoint %s/%s: none to delete",
			    r.meta.namespace, r.meta.name);
			rc = CNI_WEP_ABSENT;
			goto out;
		}
		mod = res.kvs[0].mod_revision;
		cur =
		    json_loadb(res.kvs[0].value, res.kvs[0].value_len, 0, NULL);
		cid = wep_member(cur, "spec", "containerID");
		/*
		 * Another container's: a DEL for an old sandbox arriving after
		 * the new sandbox's ADD.  One that does not parse is at this
		 * pod's own key and of no use to anybody: it goes.
		 */
		if (cur != NULL && cid != NULL &&
		    strcmp(cid, req->container_id) != 0) {
			log_info("WorkloadEndpoint %s/%s belongs to container "
			         "%s, not %s: kept",
			    r.meta.namespace, r.meta.name, cid,
			    req->container_id);
			json_decref(cur);
			etcd_result_clean(&res);
			rc = CNI_WEP_KEPT;
			goto out;
		}
		json_decref(cur);
		etcd_result_clean(&res);
		c = etcd_cas_delete(etcd, key, mod, &cas);
		if (c == -1) {
			cni_etcd_error(
			    etcd, "deleting the WorkloadEndpoint", err);
			goto out;
		}
		etcd_result_clean(&cas);
		if (c == 0) {
			log_info("WorkloadEndpoint %s/%s deleted",
			    r.meta.namespace, r.meta.name);
			rc = CNI_WEP_DELETED;
			goto out;
		}
	}
	cni_error_set(err, CNI_ERR_TRY_AGAIN,
	    "WorkloadEndpoint %s/%s keeps changing under us", r.meta.namespace,
	    r.meta.name);
out:
	resource_clean(&r);
	return rc;
}

int
cni_wep_check(
    struct etcd *etcd, const struct cni_wep_req *req, struct cni_error *err)
{
	struct etcd_result res;
	struct resource r, cur;
	char key[WEP_KEYLEN], msg[MODEL_ERRLEN], b[PREFIX_STRLEN];
	const struct model_wep *w = &cur.wep;
	json_t *j;
	size_t i, k;
	int rc = -1;

	resource_init(&cur, MODEL_WEP);
	if (cni_wep_build(req, &r, err) == -1 ||
	    wep_key(&r, key, sizeof(key), err) == -1)
		goto out;
	if (etcd_get(etcd, key, &res) == -1) {
		cni_etcd_error(etcd, "reading the WorkloadEndpoint", err);
		goto out;
	}
	if (res.nkvs == 0) {
		etcd_result_clean(&res);
		cni_error_set(err, CNI_ERR_IO,
		    "WorkloadEndpoint %s/%s: missing", r.meta.namespace,
		    r.meta.name);
		goto out;
	}
	j = json_loadb(res.kvs[0].value, res.kvs[0].value_len, 0, NULL);
	etcd_result_clean(&res);
	if (j == NULL || resource_decode(j, &cur, msg, sizeof(msg)) == -1) {
		json_decref(j);
		cni_error_set(err, CNI_ERR_IO, "WorkloadEndpoint %s/%s: %s",
		    r.meta.namespace, r.meta.name,
		    j == NULL ? "not JSON" : msg);
		goto out;
	}
	json_decref(j);
	if (w->container_id == NULL ||
	    strcmp(w->container_id, req->container_id) != 0) {
		cni_error_set(err, CNI_ERR_IO,
		    "WorkloadEndpoint %s/%s: containerID is \"%s\", not \"%s\"",
		    r.meta.namespace, r.meta.name,
		    w->container_id != NULL ? w->container_id : "",
		    req->container_id);
		goto out;
	}
	if (req->host_ifname != NULL &&
	    (w->interface_name == NULL ||
	        strcmp(w->interface_name, req->host_ifname) != 0)) {
		cni_error_set(err, CNI_ERR_IO,
		    "WorkloadEndpoint %s/%s: interfaceName is \"%s\", not "
		    "\"%s\"",
		    r.meta.namespace, r.meta.name,
		    w->interface_name != NULL ? w->interface_name : "",
		    req->host_ifname);
		goto out;
	}
	for (i = 0; i < req->nnets; i++) {
		for (k = 0; k < w->n_ip_networks; k++)
			if (prefix_cmp(&w->ip_networks[k], &req->nets[i]) == 0)
				break;
		if (k == w->n_ip_networks) {
			cni_error_set(err, CNI_ERR_IO,
			    "WorkloadEndpoint %s/%s: ipNetworks lacks %s",
			    r.meta.namespace, r.meta.name,
			    prefix_ntop(&req->nets[i], b, sizeof(b)));
			goto out;
		}
	}
	rc = 0;
out:
	resource_clean(&cur);
	resource_clean(&r);
	return rc;
}

/* is (containerID, endpoint) one of the valid attachments? */
static bool
wep_gc_valid(const json_t *valid, const char *cid, const char *ifname)
{
	const json_t *a;
	const char *c, *i;
	size_t n;

	json_array_foreach(valid, n, a)
	{
		c = json_string_value(json_object_get(a, "containerID"));
		i = json_string_value(json_object_get(a, "ifname"));
		if (c != NULL && strcmp(c, cid) == 0 &&
		    (i == NULL || ifname == NULL || strcmp(i, ifname) == 0))
			return true;
	}
	return false;
}

/* one stored endpoint: ours to collect? */
static bool
wep_gc_candidate(const struct model_wep *w, const char *node,
    const char *network, const json_t *valid)
{
	size_t i;

	if (w->node == NULL || strcmp(w->node, node) != 0 ||
	    w->orchestrator == NULL || strcmp(w->orchestrator, "cni") != 0 ||
	    w->container_id == NULL)
		return false;
	for (i = 0; i < w->n_profiles; i++)
		if (strcmp(w->profiles[i], network) == 0)
			break;
	if (i == w->n_profiles)
		return false;
	return !wep_gc_valid(valid, w->container_id, w->endpoint);
}

int
cni_wep_gc(struct etcd *etcd, const char *node, const char *network,
    const json_t *valid, size_t *ndeleted, struct cni_error *err)
{
	struct etcd_result res, del;
	struct resource r;
	char prefix[WEP_KEYLEN], msg[MODEL_ERRLEN];
	struct cni_error e;
	json_t *j;
	size_t i;
	int rc = 0, c;

	*ndeleted = 0;
	/* the plugin writes "cni" endpoints in "default" only: list those */
	if (model_key_prefix(MODEL_WEP, "default", prefix, sizeof(prefix)) ==
	    -1)
		fatalx("%s: prefix", __func__);
	if (etcd_list(etcd, prefix, 0, &res) == -1) {
		cni_etcd_error(etcd, "listing WorkloadEndpoints", err);
		return -1;
	}
	for (i = 0; i < res.nkvs; i++) {
		j = json_loadb(res.kvs[i].value, res.kvs[i].value_len, 0, NULL);
		if (j == NULL ||
		    resource_decode(j, &r, msg, sizeof(msg)) == -1) {
			json_decref(j);
			continue; /* not one the plugin wrote */
		}
		json_decref(j);
		if (wep_gc_candidate(&r.wep, node, network, valid)) {
			c = etcd_cas_delete(etcd, res.kvs[i].key,
			    res.kvs[i].mod_revision, &del);
			if (c == -1 && rc == 0) {
				cni_etcd_error(etcd,
				    "deleting a stale WorkloadEndpoint", &e);
				*err = e;
				rc = -1;
			} else if (c != -1) {
				etcd_result_clean(&del);
				if (c == 0) {
					log_info("GC: WorkloadEndpoint %s/%s "
					         "(container %s) deleted",
					    r.meta.namespace, r.meta.name,
					    r.wep.container_id);
					(*ndeleted)++;
				}
			}
		}
		resource_clean(&r);
	}
	etcd_result_clean(&res);
	return rc;
}
