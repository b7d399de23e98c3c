/*
 * BGPConfiguration and BGPPeer (calico.md §1, "Route reflectors").  The
 * configuration named "default" holds the cluster's AS, mesh switch and log
 * level; "node.<name>" ones may only change per-node things.  A peer is
 * global when neither node nor nodeSelector is set; peerSelector makes every
 * matching node a peer instead of one peerIP.  peerIP may carry a port
 * ("192.0.2.1:1179", "[2001:db8::1]:1179"), as Calico 3.19+ writes it.
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/model.h"
#include "store/model_int.h"

/* ---- BGPConfiguration ---- */

static const char *const log_levels[] = {
    "Debug", "Info", "Warning", "Error", "Fatal", NULL};

static const char *const bgpconfig_known[] = {"serviceLoadBalancerIPs",
    "serviceExternalIPs", "serviceClusterIPs", "communities",
    "prefixAdvertisements", "bindMode", "nodeMeshPassword",
    "nodeMeshMaxRestartTime", "ignoredInterfaces", "localWorkloadPeeringIPV4",
    "localWorkloadPeeringIPV6", NULL};

static const struct mfield bgpconfig_fields[] = {
    {.name = "logSeverityScreen",
        .type = MF_STR,
        .names = log_levels,
        .off = offsetof(struct model_bgpconfig, log_severity)},
    {.name = "nodeToNodeMeshEnabled",
        .type = MF_TRI,
        .off = offsetof(struct model_bgpconfig, node_mesh)},
    {.name = "asNumber",
        .type = MF_ASN,
        .off = offsetof(struct model_bgpconfig, asn)},
    {.name = "listenPort",
        .type = MF_U16,
        .min = 1,
        .max = 65535,
        .off = offsetof(struct model_bgpconfig, listen_port)},
};

const struct mtable model_bgpconfig_table =
    MTABLE(bgpconfig_fields, struct model_bgpconfig, bgpconfig_known);

/*
 * libcalico-go's ValidateDefaultOnlyFields.  Names other than "default" and
 * "node.<node>" mean nothing to Calico; users are told so, the datastore's
 * copies are taken as they are.
 */
int
model_bgpconfig_check_meta(struct mctx *c, struct resource *r)
{
	const struct model_bgpconfig *b = &r->bgpconfig;
	const char *name = r->meta.name;
	size_t old;
	int rc = 0;

	if (strcmp(name, "default") == 0)
		return 0;
	if ((c->flags & MODEL_STRICT) &&
	    (strncmp(name, "node.", 5) != 0 || !model_name_valid(name + 5)))
		return mctx_err_at(c, "metadata.name",
		    "a BGPConfiguration is named \"default\" or "
		    "\"node.<node name>\", not \"%s\"",
		    name);
	old = mctx_push(c, "spec");
	if (b->node_mesh != MODEL_UNSET)
		rc = mctx_err_at(c, "nodeToNodeMeshEnabled",
		    "only the \"default\" BGPConfiguration may set it");
	else if (b->asn != 0)
		rc = mctx_err_at(c, "asNumber",
		    "only the \"default\" BGPConfiguration may set it");
	mctx_pop(c, old);
	return rc;
}

int
model_bgpconfig_from_json(const json_t *j, struct model_bgpconfig *b, int flags,
    char *err, size_t errlen)
{
	return model_spec_from_json(MODEL_BGPCONFIG, j, b, flags, err, errlen);
}

json_t *
model_bgpconfig_to_json(const struct model_bgpconfig *b)
{
	return model_spec_to_json(MODEL_BGPCONFIG, b);
}

void
model_bgpconfig_clean(struct model_bgpconfig *b)
{
	model_spec_clean(MODEL_BGPCONFIG, b);
}

uint32_t
model_bgpconfig_asn(const struct model_bgpconfig *b)
{
	return b != NULL && b->asn != 0 ? b->asn : MODEL_DEFAULT_ASN;
}

bool
model_bgpconfig_mesh(const struct model_bgpconfig *b)
{
	return b == NULL || b->node_mesh != MODEL_FALSE;
}

/* confd lowercases it and turns all but debug and info into none */
const char *
model_bgpconfig_loglevel(const struct model_bgpconfig *b)
{
	if (b == NULL || b->log_severity == NULL)
		return "info";
	if (strcmp(b->log_severity, "Debug") == 0)
		return "debug";
	if (strcmp(b->log_severity, "Info") == 0)
		return "info";
	return "none";
}

/* ---- BGPPeer ---- */

static int
peer_ip_parse(const char *s, struct addr *a, uint16_t *port)
{
	char buf[ADDR_STRLEN];
	const char *colon, *end;
	unsigned long p;
	size_t n;

	*port = 0;
	if (s[0] == '[') {
		/* [v6]:port */
		if ((end = strstr(s, "]:")) == NULL)
			return -1;
		n = end - (s + 1);
		colon = end + 1;
		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, s + 1, n);
		buf[n] = '\0';
		if (model_addr_parse(buf, a) == -1 || a->family != AF_INET6)
			return -1;
	} else if ((colon = strchr(s, ':')) != NULL &&
	    strchr(colon + 1, ':') == NULL) {
		/* v4:port */
		n = colon - s;
		if (n >= sizeof(buf))
			return -1;
		memcpy(buf, s, n);
		buf[n] = '\0';
		if (model_addr_parse(buf, a) == -1 || a->family != AF_INET)
			return -1;
	} else
		return model_addr_parse(s, a);
	n = strspn(colon + 1, "0123456789");
	if (n == 0 || n > 5 || colon[1 + n] != '\0')
		return -1;
	p = strtoul(colon + 1, NULL, 10);
	if (p == 0 || p > 65535)
		return -1;
	*port = p;
	return 0;
}

static int
peer_ip_dec(struct mctx *c, const json_t *v, void *base)
{
	struct model_bgppeer *p = base;
	const char *s;

	if (mval_string(c, v, &s) == -1)
		return -1;
	memset(&p->peer_ip, 0, sizeof(p->peer_ip));
	p->peer_port = 0;
	if (*s == '\0')
		return 0;
	if (peer_ip_parse(s, &p->peer_ip, &p->peer_port) == -1)
		return mctx_err(c, "invalid IP address \"%s\"", s);
	return 0;
}

/* Calico's peerIP has no omitempty: "" when peerSelector is used */
static json_t *
peer_ip_enc(const void *base)
{
	const struct model_bgppeer *p = base;
	char a[ADDR_STRLEN], buf[ADDR_STRLEN + 16];

	if (p->peer_ip.family == 0)
		return json_string("");
	addr_ntop(&p->peer_ip, a, sizeof(a));
	if (p->peer_port == 0)
		return json_string(a);
	if (p->peer_ip.family == AF_INET6)
		snprintf(buf, sizeof(buf), "[%s]:%u", a, p->peer_port);
	else
		snprintf(buf, sizeof(buf), "%s:%u", a, p->peer_port);
	return json_string(buf);
}

static const char *const source_addresses[] = {"UseNodeIP", "None", NULL};

static const char *const bgppeer_known[] = {"password", "maxRestartTime",
    "numAllowedLocalASNumbers", "ttlSecurity", "reachableBy", "filters",
    "localWorkloadSelector", "keepaliveTime", "nextHopMode", NULL};

static const struct mfield bgppeer_fields[] = {
    {.name = "node",
        .type = MF_NAME,
        .off = offsetof(struct model_bgppeer, node)},
    {.name = "peerIP",
        .type = MF_CUSTOM,
        .dec = peer_ip_dec,
        .enc = peer_ip_enc},
    {.name = "asNumber",
        .type = MF_ASN,
        .flags = MFF_ZERO | MFF_ALWAYS,
        .off = offsetof(struct model_bgppeer, asn)},
    {.name = "nodeSelector",
        .type = MF_SELECTOR,
        .off = offsetof(struct model_bgppeer, node_selector)},
    {.name = "peerSelector",
        .type = MF_SELECTOR,
        .off = offsetof(struct model_bgppeer, peer_selector)},
    {.name = "keepOriginalNextHop",
        .type = MF_BOOL,
        .off = offsetof(struct model_bgppeer, keep_original_next_hop)},
    {.name = "sourceAddress",
        .type = MF_STR,
        .names = source_addresses,
        .off = offsetof(struct model_bgppeer, source_address)},
};

const struct mtable model_bgppeer_table =
    MTABLE(bgppeer_fields, struct model_bgppeer, bgppeer_known);

/* libcalico-go's validateBGPPeerSpec, and a peer must name someone */
int
model_bgppeer_check(struct mctx *c, void *base)
{
	const struct model_bgppeer *p = base;

	if (p->node != NULL && p->node_selector != NULL)
		return mctx_err_at(
		    c, "node", "must be empty when nodeSelector is set");
	if (p->peer_selector != NULL) {
		if (p->peer_ip.family != 0)
			return mctx_err_at(c, "peerIP",
			    "must be empty when peerSelector is set");
		if (p->asn != 0)
			return mctx_err_at(c, "asNumber",
			    "must be empty when peerSelector is set");
		return 0;
	}
	if (p->peer_ip.family == 0)
		return mctx_err_at(c, "peerIP", "required (or a peerSelector)");
	if (p->asn == 0)
		return mctx_err_at(c, "asNumber", "required with peerIP");
	return 0;
}

int
model_bgppeer_from_json(const json_t *j, struct model_bgppeer *p, int flags,
    char *err, size_t errlen)
{
	return model_spec_from_json(MODEL_BGPPEER, j, p, flags, err, errlen);
}

json_t *
model_bgppeer_to_json(const struct model_bgppeer *p)
{
	return model_spec_to_json(MODEL_BGPPEER, p);
}

void
model_bgppeer_clean(struct model_bgppeer *p)
{
	model_spec_clean(MODEL_BGPPEER, p);
}

bool
model_bgppeer_is_global(const struct model_bgppeer *p)
{
	return p->node == NULL && p->node_selector == NULL;
}
