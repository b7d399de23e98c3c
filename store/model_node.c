/*
 * Node (calico.md §1): spec.bgp holds what confd turns into the v1 keys
 * ip_addr_v4/v6, network_v4/v6, as_num and rr_cluster_id; the tunnel
 * addresses are what podmesh-node allocates.  Field order follows
 * libcalico-go's NodeSpec, so encoded nodes read like Calico's.
 */
#include <stddef.h>
#include <string.h>

#include "store/model.h"
#include "store/model_int.h"

static const char *const node_bgp_known[] = {NULL};

static const struct mfield node_bgp_fields[] = {
    {.name = "asNumber",
        .type = MF_ASN,
        .off = offsetof(struct model_node_bgp, asn)},
    {.name = "ipv4Address",
        .type = MF_IFADDR,
        .family = AF_INET,
        .off = offsetof(struct model_node_bgp, ipv4_address)},
    {.name = "ipv6Address",
        .type = MF_IFADDR,
        .family = AF_INET6,
        .off = offsetof(struct model_node_bgp, ipv6_address)},
    {.name = "ipv4IPIPTunnelAddr",
        .type = MF_ADDR,
        .family = AF_INET,
        .off = offsetof(struct model_node_bgp, ipv4_ipip_tunnel_addr)},
    {.name = "routeReflectorClusterID",
        .type = MF_ADDR,
        .family = AF_INET,
        .off = offsetof(struct model_node_bgp, rr_cluster_id)},
};

static const struct mtable node_bgp_table =
    MTABLE(node_bgp_fields, struct model_node_bgp, node_bgp_known);

/* NodeSpec members Calico has and podmesh leaves as they are */
static const char *const node_known[] = {"orchRefs", "wireguard", "addresses",
    "ipv6VXLANTunnelAddr", "vxlanTunnelMACAddrV6", NULL};

static const struct mfield node_fields[] = {
    {.name = "bgp",
        .type = MF_OBJ,
        .off = offsetof(struct model_node, bgp),
        .aux = offsetof(struct model_node, has_bgp),
        .sub = &node_bgp_table},
    {.name = "ipv4VXLANTunnelAddr",
        .type = MF_ADDR,
        .family = AF_INET,
        .off = offsetof(struct model_node, ipv4_vxlan_tunnel_addr)},
    {.name = "vxlanTunnelMACAddr",
        .type = MF_MAC,
        .off = offsetof(struct model_node, vxlan_tunnel_mac)},
};

const struct mtable model_node_table =
    MTABLE(node_fields, struct model_node, node_known);

/* libcalico-go's validateNodeSpec: a "bgp" that is there must say something */
int
model_node_check(struct mctx *c, void *base)
{
	const struct model_node *n = base;
	const struct model_node_bgp *b = &n->bgp;

	if (n->has_bgp && b->asn == 0 && b->ipv4_address.a.family == 0 &&
	    b->ipv6_address.a.family == 0 &&
	    b->ipv4_ipip_tunnel_addr.family == 0 &&
	    b->rr_cluster_id.family == 0 && b->extra == NULL)
		return mctx_err_at(c, "bgp", "must not be empty");
	return 0;
}

int
model_node_from_json(
    const json_t *j, struct model_node *n, int flags, char *err, size_t errlen)
{
	return model_spec_from_json(MODEL_NODE, j, n, flags, err, errlen);
}

json_t *
model_node_to_json(const struct model_node *n)
{
	return model_spec_to_json(MODEL_NODE, n);
}

void
model_node_clean(struct model_node *n)
{
	model_spec_clean(MODEL_NODE, n);
}
