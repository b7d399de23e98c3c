/*
 * The node's tunnels (calico.md §6, ecosystem.md §5): the tunnel address
 * from IPAM under the node's handle (Calico v3's allocate-tunnel-addrs,
 * which also adopts or releases an address the Node records that an older
 * calico/node assigned without a handle), and
 * the devices Felix would run, tunl0 for IPIP pools and vxlan.calico for
 * VXLAN ones, each up with its MTU and the tunnel address as its only IPv4
 * address.
 *
 * Each function looks first and changes only what differs, so a second
 * startup with nothing changed writes neither etcd nor the kernel.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"
#include "lib/xmalloc.h"
#include "node/node.h"
#include "store/ipam.h"
#include "store/model.h"

static const char *
tunnel_kind(enum tunnel_type t)
{
	return t == TUNNEL_IPIP ? "ipip" : "vxlan";
}

int
tunnel_handle(enum tunnel_type t, const char *node, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s-tunnel-addr-%s", tunnel_kind(t), node);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static const char *
tunnel_attr_type(enum tunnel_type t)
{
	return t == TUNNEL_IPIP ? "ipipTunnelAddress" : "vxlanTunnelAddress";
}

static bool
tunnel_in_pools(const struct addr *a, const struct prefix *pools, size_t npools)
{
	size_t i;

	for (i = 0; i < npools; i++)
		if (prefix_contains(&pools[i], a))
			return true;
	return false;
}

static bool
tunnel_in(const struct addr *a, const struct addr *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (addr_cmp(&v[i], a) == 0)
			return true;
	return false;
}

/*
 * Whether the address the Node records, which the handle does not count,
 * is still this node's tunnel address in IPAM (ipam_owner_tunnel: an
 * older calico/node's, without handle or attributes, most often).  *ours
 * is false when it is not assigned at all, or is someone else's.
 */
static int
tunnel_recorded_ours(struct ipam *ipam, enum tunnel_type t, const char *node,
    const char *handle, const struct addr *rec, bool *ours, char *err,
    size_t errlen)
{
	struct ipam_owner o;
	char a[ADDR_STRLEN], why[IPAM_ERRLEN];
	int rc;

	*ours = false;
	if ((rc = ipam_ip_owner(ipam, rec, &o, why, sizeof(why))) == -1) {
		snprintf(err, errlen, "%s tunnel address %s: %s",
		    tunnel_kind(t), addr_ntop(rec, a, sizeof(a)), why);
		return -1;
	}
	if (rc == 1)
		return 0;
	*ours = ipam_owner_tunnel(&o, node, handle, tunnel_attr_type(t));
	if (!*ours)
		log_warnx("%s tunnel address %s, which node %s records, is "
		          "assigned to %s: left to it",
		    tunnel_kind(t), addr_ntop(rec, a, sizeof(a)), node,
		    o.handle != NULL ? o.handle : "another owner");
	ipam_owner_clean(&o);
	return 0;
}

/*
 * The recorded address rec, which the handle does not hold: adopted into
 * the handle if it is ours and in one of pools (released and assigned
 * again with the handle and attributes, as Calico's
 * correctAllocationWithHandle; someone taking it in between is not an
 * error), released if it is ours and in none.  *adopted says it became
 * the tunnel address; *wrote that IPAM was written.
 */
static int
tunnel_recorded(struct ipam *ipam, enum tunnel_type t, const char *node,
    const char *handle, const struct addr *rec, const struct prefix *pools,
    size_t npools, bool *adopted, bool *wrote, char *err, size_t errlen)
{
	struct ipam_request req;
	struct model_labels attrs = {0};
	char a[ADDR_STRLEN], why[IPAM_ERRLEN];
	bool ours;
	int rc;

	*adopted = false;
	if (tunnel_recorded_ours(
	        ipam, t, node, handle, rec, &ours, err, errlen) == -1)
		return -1;
	if (!ours)
		return 0;
	addr_ntop(rec, a, sizeof(a));
	if (ipam_release_ip(ipam, rec, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s tunnel address %s: %s",
		    tunnel_kind(t), a, why);
		return -1;
	}
	*wrote = true;
	if (!tunnel_in_pools(rec, pools, npools)) {
		log_info("%s tunnel address %s (assigned without handle %s) "
		         "is in no %s pool: released",
		    tunnel_kind(t), a, handle, tunnel_kind(t));
		return 0;
	}
	model_labels_set(&attrs, "node", node);
	model_labels_set(&attrs, "type", tunnel_attr_type(t));
	memset(&req, 0, sizeof(req));
	req.handle = handle;
	req.attrs = &attrs;
	req.pools = pools;
	req.npools = npools;
	rc = ipam_assign_ip(ipam, &req, rec, why, sizeof(why));
	model_labels_clean(&attrs);
	if (rc == -1 && ipam_error_kind(ipam) != IPAM_E_ASSIGNED) {
		snprintf(err, errlen, "%s tunnel address %s: %s",
		    tunnel_kind(t), a, why);
		return -1;
	}
	if (rc == -1) {
		log_warnx("%s tunnel address %s was taken meanwhile (%s); "
		          "assigning another",
		    tunnel_kind(t), a, why);
		return 0;
	}
	*adopted = true;
	log_info("%s tunnel address %s, assigned without handle %s, "
	         "adopted into it",
	    tunnel_kind(t), a, handle);
	return 0;
}

int
tunnel_addr_ensure(struct ipam *ipam, enum tunnel_type t, const char *node,
    const struct addr *rec, const struct prefix *pools, size_t npools,
    struct addr *out, bool *assigned, char *err, size_t errlen)
{
	struct ipam_request req;
	struct model_labels attrs = {0};
	struct addr *held = NULL;
	char handle[MODEL_NAME_MAX + 32], a[ADDR_STRLEN], why[IPAM_ERRLEN];
	size_t n, i, keep;
	bool adopted = false;
	int rc = -1;

	*assigned = false;
	if (tunnel_handle(t, node, handle, sizeof(handle)) == -1) {
		snprintf(err, errlen, "%s: node name too long", node);
		return -1;
	}
	if (ipam_handle_get(ipam, handle, &held, &n, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "IPAM handle %s: %s", handle, why);
		return -1;
	}
	if (rec != NULL && rec->family == AF_INET && !tunnel_in(rec, held, n) &&
	    tunnel_recorded(ipam, t, node, handle, rec, pools, npools, &adopted,
	        assigned, err, errlen) == -1)
		goto done;
	/* Calico keeps a tunnel address that is still in a pool: the one
	 * the Node records, else the first */
	for (keep = n, i = 0; i < n && !adopted; i++)
		if (held[i].family == AF_INET &&
		    tunnel_in_pools(&held[i], pools, npools) &&
		    (keep == n ||
		        (rec != NULL && addr_cmp(&held[i], rec) == 0)))
			keep = i;
	if (adopted || keep < n) {
		*out = adopted ? *rec : held[keep];
		for (i = 0; i < n; i++) {
			if (!adopted && i == keep)
				continue;
			if (ipam_release_ip(ipam, &held[i], why, sizeof(why)) ==
			    -1) {
				snprintf(err, errlen, "IPAM handle %s: %s",
				    handle, why);
				goto done;
			}
			*assigned = true;
		}
		rc = 0;
		goto done;
	}
	if (n > 0) {
		log_info("%s tunnel address %s is in no %s pool any more; "
		         "releasing it",
		    tunnel_kind(t), addr_ntop(&held[0], a, sizeof(a)),
		    tunnel_kind(t));
		if (ipam_release_handle(ipam, handle, why, sizeof(why)) == -1) {
			snprintf(
			    err, errlen, "IPAM handle %s: %s", handle, why);
			goto done;
		}
	}
	model_labels_set(&attrs, "node", node);
	model_labels_set(&attrs, "type", tunnel_attr_type(t));
	memset(&req, 0, sizeof(req));
	req.family = AF_INET;
	req.handle = handle;
	req.attrs = &attrs;
	req.pools = pools;
	req.npools = npools;
	if (ipam_auto_assign(ipam, &req, out, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s tunnel address for node %s: %s",
		    tunnel_kind(t), node, why);
		goto done;
	}
	*assigned = true;
	log_info("%s tunnel address %s assigned (IPAM handle %s)",
	    tunnel_kind(t), addr_ntop(out, a, sizeof(a)), handle);
	rc = 0;
done:
	model_labels_clean(&attrs);
	free(held);
	return rc;
}

int
tunnel_addr_release(struct ipam *ipam, enum tunnel_type t, const char *node,
    const struct addr *rec, bool *released, char *err, size_t errlen)
{
	struct addr *held = NULL;
	char handle[MODEL_NAME_MAX + 32], a[ADDR_STRLEN], why[IPAM_ERRLEN];
	size_t n;
	bool ours, other;

	*released = false;
	if (tunnel_handle(t, node, handle, sizeof(handle)) == -1) {
		snprintf(err, errlen, "%s: node name too long", node);
		return -1;
	}
	if (ipam_handle_get(ipam, handle, &held, &n, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "IPAM handle %s: %s", handle, why);
		return -1;
	}
	/* Calico's removeHostTunnelAddr: the recorded address too, when it
	 * is ours but not the handle's */
	other =
	    rec != NULL && rec->family == AF_INET && !tunnel_in(rec, held, n);
	free(held);
	if (other) {
		if (tunnel_recorded_ours(
		        ipam, t, node, handle, rec, &ours, err, errlen) == -1)
			return -1;
		if (ours) {
			if (ipam_release_ip(ipam, rec, why, sizeof(why)) ==
			    -1) {
				snprintf(err, errlen,
				    "%s tunnel address %s: %s", tunnel_kind(t),
				    addr_ntop(rec, a, sizeof(a)), why);
				return -1;
			}
			*released = true;
			log_info("no %s pool: tunnel address %s (assigned "
			         "without handle %s) released",
			    tunnel_kind(t), addr_ntop(rec, a, sizeof(a)),
			    handle);
		}
	}
	if (n == 0)
		return 0; /* nothing held: nothing written */
	if (ipam_release_handle(ipam, handle, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "IPAM handle %s: %s", handle, why);
		return -1;
	}
	*released = true;
	log_info("no %s pool: tunnel address released (IPAM handle %s)",
	    tunnel_kind(t), handle);
	return 0;
}

/* the link up, with mtu (0: as it is) and addr/32 its only IPv4 address */
static int
tunnel_link_setup(struct nl *nl, const struct nl_link_info *li,
    unsigned int mtu, const struct addr *addr, char *err, size_t errlen)
{
	struct prefix p;
	char a[ADDR_STRLEN], why[NODE_ERRLEN];
	bool changed;

	if (mtu != 0 && li->mtu != mtu) {
		if (nl_link_set_mtu(nl, li->ifindex, mtu, why, sizeof(why)) ==
		    -1) {
			snprintf(
			    err, errlen, "%s: MTU %u: %s", li->name, mtu, why);
			return -1;
		}
		log_info("%s: MTU %u (was %u)", li->name, mtu, li->mtu);
	}
	if (!(li->flags & IFF_UP)) {
		if (nl_link_set_up(nl, li->ifindex, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s: up: %s", li->name, why);
			return -1;
		}
		log_info("%s: up", li->name);
	}
	memset(&p, 0, sizeof(p));
	p.a = *addr;
	p.a.scope_id = 0;
	p.len = 32;
	if (nl_addr_set_only(nl, li->ifindex, &p, &changed, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen, "%s: address %s/32: %s", li->name,
		    addr_ntop(addr, a, sizeof(a)), why);
		return -1;
	}
	if (changed)
		log_info("%s: %s/32 is its only IPv4 address", li->name,
		    addr_ntop(addr, a, sizeof(a)));
	return 0;
}

int
tunnel_ipip_up(struct nl *nl, const struct addr *addr, unsigned int mtu,
    char *err, size_t errlen)
{
	struct nl_link_info li;

	if (nl_link_get(nl, NODE_IPIP_DEV, &li, err, errlen) == -1) {
		if (errno != ENODEV)
			return -1;
		/* Felix's `ip tunnel add tunl0 mode ipip` */
		if (nl_link_add_ipip(nl, NODE_IPIP_DEV, err, errlen) == -1)
			return -1;
		log_info("%s: created", NODE_IPIP_DEV);
		if (nl_link_get(nl, NODE_IPIP_DEV, &li, err, errlen) == -1)
			return -1;
	} else if (strcmp(li.kind, "ipip") != 0)
		log_debug("%s is a %s link, not ipip: used as it is",
		    NODE_IPIP_DEV, li.kind[0] != '\0' ? li.kind : "plain");
	return tunnel_link_setup(nl, &li, mtu, addr, err, errlen);
}

int
tunnel_ipip_down(struct nl *nl, char *err, size_t errlen)
{
	struct nl_link_info li;
	struct nl_addr *v = NULL;
	char p[PREFIX_STRLEN], why[NODE_ERRLEN];
	size_t n, i;
	int rc = 0;

	if (nl_link_get(nl, NODE_IPIP_DEV, &li, why, sizeof(why)) == -1) {
		if (errno == ENODEV)
			return 0;
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (nl_addr_list(nl, AF_INET, li.ifindex, &v, &n, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", NODE_IPIP_DEV, why);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		prefix_ntop(&v[i].prefix, p, sizeof(p));
		if (nl_addr_del(
		        nl, li.ifindex, &v[i].prefix, why, sizeof(why)) == -1) {
			if (errno == EADDRNOTAVAIL)
				continue; /* gone meanwhile */
			rc = -1;
			snprintf(err, errlen, "%s: %s", NODE_IPIP_DEV, why);
		} else
			log_info(
			    "%s: %s removed (no IPIP pool)", NODE_IPIP_DEV, p);
	}
	free(v);
	return rc;
}

/* the link holding the node address: the VXLAN underlay */
static int
tunnel_underlay(struct nl *nl, const struct addr *local,
    struct nl_link_info *li, char *err, size_t errlen)
{
	struct nl_addr *v = NULL;
	char a[ADDR_STRLEN], why[NODE_ERRLEN];
	size_t n, i;
	int ifindex = 0;

	if (nl_addr_list(nl, local->family, 0, &v, &n, why, sizeof(why)) ==
	    -1) {
		snprintf(err, errlen, "%s: %s", NODE_VXLAN_DEV, why);
		return -1;
	}
	for (i = 0; i < n && ifindex == 0; i++)
		if (addr_cmp(&v[i].prefix.a, local) == 0)
			ifindex = v[i].ifindex;
	free(v);
	if (ifindex == 0) {
		snprintf(err, errlen,
		    "%s: the node address %s is on no local interface, so "
		    "there is no underlay for VXLAN",
		    NODE_VXLAN_DEV, addr_ntop(local, a, sizeof(a)));
		return -1;
	}
	if (nl_link_get_index(nl, ifindex, li, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: underlay: %s", NODE_VXLAN_DEV, why);
		return -1;
	}
	return 0;
}

static bool
tunnel_vxlan_same(const struct nl_link_info *li, const struct nl_vxlan *want)
{
	const struct nl_vxlan *vx = &li->vxlan;

	return strcmp(li->kind, "vxlan") == 0 && li->has_vxlan &&
	    vx->vni == want->vni && vx->port == want->port &&
	    addr_cmp(&vx->local, &want->local) == 0 &&
	    vx->underlay == want->underlay && vx->learning == want->learning;
}

int
tunnel_vxlan_up(struct nl *nl, const struct tunnel_vxlan *conf,
    const struct addr *addr, uint8_t *mac_out, char *err, size_t errlen)
{
	struct nl_link_info under, li;
	struct nl_vxlan want;
	char why[NODE_ERRLEN], a[ADDR_STRLEN];
	unsigned int mtu;
	bool exists = true;

	if (tunnel_underlay(nl, &conf->local, &under, err, errlen) == -1)
		return -1;
	mtu = conf->mtu;
	if (mtu == 0) {
		if (under.mtu <= NODE_VXLAN_OVERHEAD + 68) {
			snprintf(err, errlen,
			    "%s: the underlay %s has MTU %u, too small for "
			    "VXLAN",
			    NODE_VXLAN_DEV, under.name, under.mtu);
			return -1;
		}
		mtu = under.mtu - NODE_VXLAN_OVERHEAD;
	}
	memset(&want, 0, sizeof(want));
	want.vni = conf->vni;
	want.port = conf->port;
	want.local = conf->local;
	want.local.scope_id = 0;
	want.underlay = under.ifindex;
	want.learning = false;

	if (nl_link_get(nl, NODE_VXLAN_DEV, &li, why, sizeof(why)) == -1) {
		if (errno != ENODEV) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		exists = false;
	} else if (!tunnel_vxlan_same(&li, &want)) {
		/* as Felix: a device that is not what we want is made again */
		log_info("%s: not VNI %u port %u local %s dev %s nolearning; "
		         "making it again",
		    NODE_VXLAN_DEV, want.vni, want.port,
		    addr_ntop(&want.local, a, sizeof(a)), under.name);
		if (nl_link_del(nl, li.ifindex, why, sizeof(why)) == -1) {
			snprintf(
			    err, errlen, "%s: delete: %s", NODE_VXLAN_DEV, why);
			return -1;
		}
		exists = false;
	}
	if (!exists) {
		if (nl_link_add_vxlan(nl, NODE_VXLAN_DEV, &want, mtu,
		        conf->has_mac ? conf->mac : NULL, err, errlen) == -1)
			return -1;
		log_info("%s: created (VNI %u, port %u, local %s, dev %s, "
		         "MTU %u)",
		    NODE_VXLAN_DEV, want.vni, want.port,
		    addr_ntop(&want.local, a, sizeof(a)), under.name, mtu);
		if (nl_link_get(nl, NODE_VXLAN_DEV, &li, err, errlen) == -1)
			return -1;
	}
	if (!li.has_mac) {
		snprintf(err, errlen, "%s: the kernel reports no MAC address",
		    NODE_VXLAN_DEV);
		return -1;
	}
	memcpy(mac_out, li.mac, NL_MACLEN);
	return tunnel_link_setup(nl, &li, mtu, addr, err, errlen);
}

int
tunnel_vxlan_down(struct nl *nl, char *err, size_t errlen)
{
	struct nl_link_info li;
	char why[NODE_ERRLEN];

	if (nl_link_get(nl, NODE_VXLAN_DEV, &li, why, sizeof(why)) == -1) {
		if (errno == ENODEV)
			return 0;
		snprintf(err, errlen, "%s", why);
		return -1;
	}
	if (strcmp(li.kind, "vxlan") != 0)
		return 0; /* not one of ours */
	if (nl_link_del(nl, li.ifindex, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: delete: %s", NODE_VXLAN_DEV, why);
		return -1;
	}
	log_info("%s: deleted (no VXLAN pool)", NODE_VXLAN_DEV);
	return 0;
}
