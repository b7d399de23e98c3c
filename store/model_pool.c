/*
 * IPPool (calico.md §1): a pod address range cut into blocks of blockSize
 * (calico.md §2), how traffic to it is encapsulated (ipipMode, vxlanMode)
 * and which nodes may allocate from it.  The rules are libcalico-go's
 * validateIPPoolSpec and ippools.validateAndSetDefaults: a strictly masked
 * CIDR, block size 20-32 or 116-128 and no smaller than the pool (unless
 * disabled), no IPIP or VXLAN on IPv6, not both at once, no link-local
 * overlap; defaults blockSize 26/122, modes Never, nodeSelector all().
 */
#include <arpa/inet.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "store/model.h"
#include "store/model_int.h"

/* indexed by enum model_encap */
static const char *const encap_names[] = {
    "", "Never", "Always", "CrossSubnet", NULL};

const char *
model_encap_name(enum model_encap e)
{
	if (e <= MODEL_ENCAP_UNSET || e > MODEL_ENCAP_CROSSSUBNET)
		return NULL;
	return encap_names[e];
}

static int
pool_cidr_dec(struct mctx *c, const json_t *v, void *base)
{
	struct model_ippool *p = base;
	char buf[PREFIX_STRLEN];
	struct prefix m;

	if (json_is_string(v) && *json_string_value(v) == '\0')
		return 0; /* as absent: "required" says it better */
	if (mval_prefix(c, v, &p->cidr) == -1)
		return -1;
	if (prefix_has_hostbits(&p->cidr)) {
		m = p->cidr;
		prefix_mask(&m);
		return mctx_err(c,
		    "\"%s\" has host bits set (the network is %s)",
		    json_string_value(v), prefix_ntop(&m, buf, sizeof(buf)));
	}
	return 0;
}

static json_t *
pool_cidr_enc(const void *base)
{
	const struct model_ippool *p = base;

	return p->cidr.a.family != 0 ? mval_prefix_json(&p->cidr) : NULL;
}

/* allowedUses and assignmentMode are later Calico; ipip and nat-outgoing
 * are the v1 spellings Calico v3 refuses (mustBeNil) */
static const char *const ippool_known[] = {
    "allowedUses", "assignmentMode", NULL};

static const struct mfield ippool_fields[] = {
    {.name = "cidr",
        .type = MF_CUSTOM,
        .flags = MFF_REQUIRED,
        .dec = pool_cidr_dec,
        .enc = pool_cidr_enc},
    {.name = "vxlanMode",
        .type = MF_ENUM,
        .names = encap_names,
        .off = offsetof(struct model_ippool, vxlan_mode)},
    {.name = "ipipMode",
        .type = MF_ENUM,
        .names = encap_names,
        .off = offsetof(struct model_ippool, ipip_mode)},
    {.name = "natOutgoing",
        .type = MF_BOOL,
        .off = offsetof(struct model_ippool, nat_outgoing)},
    {.name = "disabled",
        .type = MF_BOOL,
        .off = offsetof(struct model_ippool, disabled)},
    {.name = "disableBGPExport",
        .type = MF_BOOL,
        .off = offsetof(struct model_ippool, disable_bgp_export)},
    {.name = "blockSize",
        .type = MF_U8,
        .min = 0,
        .max = 255,
        .off = offsetof(struct model_ippool, block_size)},
    {.name = "nodeSelector",
        .type = MF_SELECTOR,
        .off = offsetof(struct model_ippool, node_selector)},
};

const struct mtable model_ippool_table =
    MTABLE(ippool_fields, struct model_ippool, ippool_known);

static bool
pool_overlaps(const struct prefix *a, const char *range)
{
	struct prefix r;

	if (prefix_parse(range, &r) == -1 || r.a.family != a->a.family)
		return false;
	return prefix_covers(a, &r) || prefix_covers(&r, a);
}

static bool
encap_on(enum model_encap e)
{
	return e == MODEL_ENCAP_ALWAYS || e == MODEL_ENCAP_CROSSSUBNET;
}

int
model_ippool_check(struct mctx *c, void *base)
{
	struct model_ippool *p = base;
	bool v6 = p->cidr.a.family == AF_INET6;
	int lo = v6 ? 116 : 20, hi = v6 ? 128 : 32;
	const char *ll = v6 ? "fe80::/10" : "169.254.0.0/16";
	char buf[PREFIX_STRLEN];

	if (p->block_size == 0)
		p->block_size =
		    v6 ? MODEL_DEFAULT_BLOCK6 : MODEL_DEFAULT_BLOCK4;
	if (p->ipip_mode == MODEL_ENCAP_UNSET)
		p->ipip_mode = MODEL_ENCAP_NEVER;
	if (p->vxlan_mode == MODEL_ENCAP_UNSET)
		p->vxlan_mode = MODEL_ENCAP_NEVER;
	if (p->node_selector == NULL)
		p->node_selector = xstrdup("all()");

	if (p->block_size < lo || p->block_size > hi)
		return mctx_err_at(c, "blockSize",
		    "%u is out of range for an IPv%d pool (%d-%d)",
		    p->block_size, v6 ? 6 : 4, lo, hi);
	if (v6 && encap_on(p->ipip_mode))
		return mctx_err_at(
		    c, "ipipMode", "IPIP is not supported on an IPv6 pool");
	if (v6 && encap_on(p->vxlan_mode))
		return mctx_err_at(
		    c, "vxlanMode", "VXLAN is not supported on an IPv6 pool");
	if (encap_on(p->ipip_mode) && encap_on(p->vxlan_mode))
		return mctx_err_at(c, "vxlanMode",
		    "ipipMode and vxlanMode cannot both be enabled");
	if (!p->disabled && p->cidr.len > p->block_size)
		return mctx_err_at(c, "cidr",
		    "pool %s is smaller than its block size /%u",
		    prefix_ntop(&p->cidr, buf, sizeof(buf)), p->block_size);
	if (pool_overlaps(&p->cidr, ll))
		return mctx_err_at(c, "cidr",
		    "%s overlaps the link-local range %s",
		    prefix_ntop(&p->cidr, buf, sizeof(buf)), ll);
	return 0;
}

int
model_ippool_from_json(const json_t *j, struct model_ippool *p, int flags,
    char *err, size_t errlen)
{
	return model_spec_from_json(MODEL_IPPOOL, j, p, flags, err, errlen);
}

json_t *
model_ippool_to_json(const struct model_ippool *p)
{
	return model_spec_to_json(MODEL_IPPOOL, p);
}

void
model_ippool_clean(struct model_ippool *p)
{
	model_spec_clean(MODEL_IPPOOL, p);
}
