/*
 * WorkloadEndpoint (calico.md §1, §4): the host side of a pod's veth, as
 * the CNI plugin writes it.  Its name is derived from the spec, Calico's
 * names.WorkloadEndpointIdentifiers: <node>-k8s-<pod>-<endpoint> (cni:
 * the container ID, libnetwork: "libnetwork", others: the workload), each
 * part with its '-' doubled, so the parts can be split back apart.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/model.h"
#include "store/model_int.h"

static int
wep_nets_dec(struct mctx *c, const json_t *v, void *base)
{
	struct model_wep *w = base;
	struct prefix p;
	const char *s;
	size_t i, old;
	char r[96];

	if (!json_is_array(v))
		return mctx_err(
		    c, "expected a list, got %s", mctx_repr(v, r, sizeof(r)));
	free(w->ip_networks);
	w->n_ip_networks = 0;
	w->ip_networks = xcalloc(json_array_size(v) + 1, sizeof(p));
	for (i = 0; i < json_array_size(v); i++) {
		old = mctx_push_index(c, i);
		if (mval_string(c, json_array_get(v, i), &s) == -1)
			return -1;
		if (strchr(s, '/') == NULL) {
			memset(&p, 0, sizeof(p));
			if (model_addr_parse(s, &p.a) == -1)
				return mctx_err(c, "invalid CIDR \"%s\"", s);
			p.len = addr_maxlen(p.a.family);
		} else if (model_prefix_parse(s, &p) == -1)
			return mctx_err(c, "invalid CIDR \"%s\"", s);
		/* validateWorkloadEndpointSpec: /32 and /128 only */
		if (p.len != addr_maxlen(p.a.family))
			return mctx_err(c, "\"%s\" is not a single address", s);
		mctx_pop(c, old);
		w->ip_networks[w->n_ip_networks++] = p;
	}
	return 0;
}

static json_t *
wep_nets_enc(const void *base)
{
	const struct model_wep *w = base;
	json_t *a;
	size_t i;

	if (w->n_ip_networks == 0)
		return NULL;
	a = json_array();
	for (i = 0; i < w->n_ip_networks; i++)
		json_array_append_new(a, mval_prefix_json(&w->ip_networks[i]));
	return a;
}

static void
wep_nets_clean(void *base)
{
	struct model_wep *w = base;

	free(w->ip_networks);
	w->ip_networks = NULL;
	w->n_ip_networks = 0;
}

static const char *const wep_known[] = {"ipNATs", "ipv4Gateway", "ipv6Gateway",
    "ports", "allowSpoofedSourcePrefixes", "qosControls", NULL};

static const struct mfield wep_fields[] = {
    {.name = "orchestrator",
        .type = MF_STR,
        .off = offsetof(struct model_wep, orchestrator)},
    {.name = "workload",
        .type = MF_STR,
        .off = offsetof(struct model_wep, workload)},
    {.name = "node", .type = MF_NAME, .off = offsetof(struct model_wep, node)},
    {.name = "containerID",
        .type = MF_STR,
        .off = offsetof(struct model_wep, container_id)},
    {.name = "pod", .type = MF_STR, .off = offsetof(struct model_wep, pod)},
    {.name = "endpoint",
        .type = MF_STR,
        .off = offsetof(struct model_wep, endpoint)},
    {.name = "serviceAccountName",
        .type = MF_STR,
        .off = offsetof(struct model_wep, service_account)},
    {.name = "ipNetworks",
        .type = MF_CUSTOM,
        .dec = wep_nets_dec,
        .enc = wep_nets_enc,
        .clean = wep_nets_clean},
    {.name = "profiles",
        .type = MF_STRLIST,
        .off = offsetof(struct model_wep, profiles),
        .aux = offsetof(struct model_wep, n_profiles)},
    {.name = "interfaceName",
        .type = MF_STR,
        .off = offsetof(struct model_wep, interface_name)},
    {.name = "mac", .type = MF_MAC, .off = offsetof(struct model_wep, mac)},
};

const struct mtable model_wep_table =
    MTABLE(wep_fields, struct model_wep, wep_known);

static bool
wep_chars(const char *s, const char *extra)
{
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr(extra, *s) == NULL)
			return false;
	return true;
}

/* validator.go's interfaceRegex and containerIDRegex */
int
model_wep_check(struct mctx *c, void *base)
{
	const struct model_wep *w = base;
	const char *id = w->container_id;

	if (w->interface_name != NULL &&
	    (strlen(w->interface_name) > 15 ||
	        !wep_chars(w->interface_name, "_.-")))
		return mctx_err_at(c, "interfaceName",
		    "invalid interface name \"%s\"", w->interface_name);
	if (id != NULL &&
	    (!wep_chars(id, "-") || id[0] == '-' || id[strlen(id) - 1] == '-'))
		return mctx_err_at(
		    c, "containerID", "invalid container ID \"%s\"", id);
	return 0;
}

int
model_wep_name(
    const struct model_wep *w, char *buf, size_t len, char *err, size_t errlen)
{
	const char *parts[4], *names[4], *s;
	size_t i, off = 0;

	parts[0] = w->node;
	names[0] = "node";
	parts[1] = w->orchestrator;
	names[1] = "orchestrator";
	if (w->orchestrator != NULL && strcmp(w->orchestrator, "k8s") == 0) {
		parts[2] = w->pod;
		names[2] = "pod";
	} else if (w->orchestrator != NULL &&
	    strcmp(w->orchestrator, "cni") == 0) {
		parts[2] = w->container_id;
		names[2] = "containerID";
	} else if (w->orchestrator != NULL &&
	    strcmp(w->orchestrator, "libnetwork") == 0) {
		parts[2] = w->orchestrator;
		names[2] = "orchestrator";
	} else {
		parts[2] = w->workload;
		names[2] = "workload";
	}
	parts[3] = w->endpoint;
	names[3] = "endpoint";

	for (i = 0; i < 4; i++) {
		s = parts[i];
		if (s == NULL || *s == '\0') {
			snprintf(err, errlen, "spec.%s: required", names[i]);
			return -1;
		}
		if (s[0] == '-' || s[strlen(s) - 1] == '-') {
			snprintf(err, errlen,
			    "spec.%s: \"%s\" must not begin or end with '-'",
			    names[i], s);
			return -1;
		}
		if (i > 0 && off + 1 < len)
			buf[off++] = '-';
		for (; *s != '\0'; s++) {
			if (off + 2 >= len) {
				snprintf(err, errlen, "name too long");
				return -1;
			}
			buf[off++] = *s;
			if (*s == '-')
				buf[off++] = '-';
		}
	}
	buf[off] = '\0';
	return 0;
}

/*
 * Calico builds the name when none is given and otherwise insists that it
 * matches the spec; podmesh always wants a name, so it checks the match
 * whenever the spec has every part.
 */
int
model_wep_check_meta(struct mctx *c, struct resource *r)
{
	char want[MODEL_NAME_MAX + 1], err[MODEL_ERRLEN];

	if (model_wep_name(&r->wep, want, sizeof(want), err, sizeof(err)) == -1)
		return 0;
	if (strcmp(want, r->meta.name) != 0)
		return mctx_err_at(c, "metadata.name",
		    "expected \"%s\" (from the spec's node, orchestrator, "
		    "workload and endpoint), got \"%s\"",
		    want, r->meta.name);
	return 0;
}

int
model_wep_from_json(
    const json_t *j, struct model_wep *w, int flags, char *err, size_t errlen)
{
	return model_spec_from_json(MODEL_WEP, j, w, flags, err, errlen);
}

json_t *
model_wep_to_json(const struct model_wep *w)
{
	return model_spec_to_json(MODEL_WEP, w);
}

void
model_wep_clean(struct model_wep *w)
{
	model_spec_clean(MODEL_WEP, w);
}
