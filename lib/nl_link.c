/*
 * Links, addresses and neighbours over rtnetlink (nl_link.h), each call one
 * request through nl_talk.  Requests are built with libmnl in a buffer of
 * NL_BUFSIZE; answers from the kernel are input, so every attribute is
 * checked for its type and length (mnl_attr_validate) before it is read,
 * and one that is malformed is skipped rather than trusted.
 *
 * The VXLAN parts follow ecosystem.md §5 (the flannel/Calico scheme: one
 * device, learning off, a permanent ARP entry and a permanent FDB entry
 * per remote node).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "lib/nl.h"
#include "lib/nl_link.h"
#include "lib/xmalloc.h"

#ifndef AF_BRIDGE
#define AF_BRIDGE 7
#endif

/* ---- common ---- */

/* nl_talk, with what names the object in front of its message */
static int
nl_link_talk(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb *cb, void *arg,
    const char *what, char *err, size_t errlen)
{
	char why[256];
	int saved;

	why[0] = '\0';
	if (nl_talk(nl, nlh, cb, arg, why, sizeof(why)) == 0)
		return 0;
	saved = errno;
	if (errlen > 0)
		snprintf(err, errlen, "%s: %s", what, why);
	errno = saved;
	return -1;
}

/*
 * A dump, tried again from the start when a change interrupted it (the
 * kernel's NLM_F_DUMP_INTR); reset empties what cb collected.
 */
static int
nl_link_dump(struct nl *nl, struct nlmsghdr *nlh, nl_msg_cb *cb, void *arg,
    size_t *count, const char *what, char *err, size_t errlen)
{
	int tries;

	for (tries = 0;; tries++) {
		*count = 0;
		if (nl_link_talk(nl, nlh, cb, arg, what, err, errlen) == 0)
			return 0;
		if (errno != EINTR || tries == 3)
			return -1;
	}
}

static int
nl_link_fail(int e, char *err, size_t errlen, const char *what, const char *msg)
{
	if (errlen > 0)
		snprintf(err, errlen, "%s: %s", what, msg);
	errno = e;
	return -1;
}

static struct nlmsghdr *
nl_link_msg(char *buf, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;

	memset(buf, 0, NL_BUFSIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	return nlh;
}

static bool
nl_link_name_ok(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len < IFNAMSIZ;
}

const char *
nl_mac_ntop(const uint8_t *mac, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
	    mac[2], mac[3], mac[4], mac[5]);
	return buf;
}

static int
nl_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
nl_mac_parse(const char *s, uint8_t *mac)
{
	int i, hi, lo;

	for (i = 0; i < NL_MACLEN; i++) {
		if ((hi = nl_hexval(s[0])) == -1 ||
		    (lo = nl_hexval(s[1])) == -1)
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
		s += 2;
		if (i < NL_MACLEN - 1 && *s++ != ':')
			return -1;
	}
	return *s == '\0' ? 0 : -1;
}

/* an attribute holding an address of family (4 or 16 bytes) */
static int
nl_attr_addr(const struct nlattr *a, int family, struct addr *out)
{
	uint16_t len = mnl_attr_get_payload_len(a);

	memset(out, 0, sizeof(*out));
	if (family == AF_UNSPEC)
		family = len == 4 ? AF_INET : len == 16 ? AF_INET6 : 0;
	if (family == AF_INET && len == 4) {
		out->family = AF_INET;
		memcpy(&out->v4, mnl_attr_get_payload(a), 4);
		return 0;
	}
	if (family == AF_INET6 && len == 16) {
		out->family = AF_INET6;
		memcpy(&out->v6, mnl_attr_get_payload(a), 16);
		return 0;
	}
	return -1;
}

static void
nl_put_addr(struct nlmsghdr *nlh, uint16_t type, const struct addr *a)
{
	mnl_attr_put(nlh, type, a->family == AF_INET ? 4 : 16, a->b);
}

/* collects attributes into tb[0..max], each once and of the right type */
struct nl_attrs {
	const struct nlattr **tb;
	uint16_t max;
	const enum mnl_attr_data_type
	    *types; /* [max + 1], MNL_TYPE_UNSPEC ok */
};

static int
nl_attr_cb(const struct nlattr *a, void *arg)
{
	struct nl_attrs *at = arg;
	uint16_t type = mnl_attr_get_type(a);

	if (type > at->max)
		return MNL_CB_OK;
	if (at->types != NULL && at->types[type] != MNL_TYPE_UNSPEC &&
	    mnl_attr_validate(a, at->types[type]) < 0)
		return MNL_CB_OK; /* malformed: leave it out */
	at->tb[type] = a;
	return MNL_CB_OK;
}

static void
nl_attrs_parse(const struct nlmsghdr *nlh, size_t hdrlen,
    const struct nlattr **tb, uint16_t max,
    const enum mnl_attr_data_type *types)
{
	struct nl_attrs at = {.tb = tb, .max = max, .types = types};

	memset(tb, 0, sizeof(*tb) * (max + 1));
	mnl_attr_parse(nlh, hdrlen, nl_attr_cb, &at);
}

static void
nl_attrs_nested(const struct nlattr *nest, const struct nlattr **tb,
    uint16_t max, const enum mnl_attr_data_type *types)
{
	struct nl_attrs at = {.tb = tb, .max = max, .types = types};

	memset(tb, 0, sizeof(*tb) * (max + 1));
	mnl_attr_parse_nested(nest, nl_attr_cb, &at);
}

/* ---- links ---- */

static const enum mnl_attr_data_type nl_ifla_types[IFLA_MAX + 1] = {
    [IFLA_IFNAME] = MNL_TYPE_NUL_STRING,
    [IFLA_MTU] = MNL_TYPE_U32,
    [IFLA_LINKINFO] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type nl_info_types[IFLA_INFO_MAX + 1] = {
    [IFLA_INFO_KIND] = MNL_TYPE_NUL_STRING,
    [IFLA_INFO_DATA] = MNL_TYPE_NESTED,
};

static const enum mnl_attr_data_type nl_vxlan_types[IFLA_VXLAN_MAX + 1] = {
    [IFLA_VXLAN_ID] = MNL_TYPE_U32,
    [IFLA_VXLAN_LINK] = MNL_TYPE_U32,
    [IFLA_VXLAN_LEARNING] = MNL_TYPE_U8,
    [IFLA_VXLAN_PORT] = MNL_TYPE_U16,
};

static void
nl_link_parse_vxlan(const struct nlattr *data, struct nl_link_info *li)
{
	const struct nlattr *tb[IFLA_VXLAN_MAX + 1];
	struct nl_vxlan *vx = &li->vxlan;

	nl_attrs_nested(data, tb, IFLA_VXLAN_MAX, nl_vxlan_types);
	memset(vx, 0, sizeof(*vx));
	if (tb[IFLA_VXLAN_ID] != NULL)
		vx->vni = mnl_attr_get_u32(tb[IFLA_VXLAN_ID]);
	if (tb[IFLA_VXLAN_PORT] != NULL)
		vx->port = ntohs(mnl_attr_get_u16(tb[IFLA_VXLAN_PORT]));
	if (tb[IFLA_VXLAN_LINK] != NULL)
		vx->underlay = (int)mnl_attr_get_u32(tb[IFLA_VXLAN_LINK]);
	if (tb[IFLA_VXLAN_LEARNING] != NULL)
		vx->learning = mnl_attr_get_u8(tb[IFLA_VXLAN_LEARNING]) != 0;
	if (tb[IFLA_VXLAN_LOCAL] != NULL)
		(void)nl_attr_addr(tb[IFLA_VXLAN_LOCAL], AF_INET, &vx->local);
	else if (tb[IFLA_VXLAN_LOCAL6] != NULL)
		(void)nl_attr_addr(tb[IFLA_VXLAN_LOCAL6], AF_INET6, &vx->local);
	li->has_vxlan = true;
}

/* an RTM_NEWLINK message into li; -1 if it is not one */
static int
nl_link_parse(const struct nlmsghdr *nlh, struct nl_link_info *li)
{
	const struct nlattr *tb[IFLA_MAX + 1], *info[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifm;

	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifm))
		return -1;
	ifm = mnl_nlmsg_get_payload(nlh);
	memset(li, 0, sizeof(*li));
	li->ifindex = ifm->ifi_index;
	li->flags = ifm->ifi_flags;
	nl_attrs_parse(nlh, sizeof(*ifm), tb, IFLA_MAX, nl_ifla_types);
	if (tb[IFLA_IFNAME] != NULL)
		snprintf(li->name, sizeof(li->name), "%s",
		    mnl_attr_get_str(tb[IFLA_IFNAME]));
	if (tb[IFLA_MTU] != NULL)
		li->mtu = mnl_attr_get_u32(tb[IFLA_MTU]);
	if (tb[IFLA_ADDRESS] != NULL &&
	    mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == NL_MACLEN) {
		memcpy(
		    li->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), NL_MACLEN);
		li->has_mac = true;
	}
	if (tb[IFLA_LINKINFO] != NULL) {
		nl_attrs_nested(
		    tb[IFLA_LINKINFO], info, IFLA_INFO_MAX, nl_info_types);
		if (info[IFLA_INFO_KIND] != NULL)
			snprintf(li->kind, sizeof(li->kind), "%s",
			    mnl_attr_get_str(info[IFLA_INFO_KIND]));
		if (strcmp(li->kind, "vxlan") == 0 &&
		    info[IFLA_INFO_DATA] != NULL)
			nl_link_parse_vxlan(info[IFLA_INFO_DATA], li);
	}
	return 0;
}

struct nl_link_one {
	struct nl_link_info *li;
	bool found;
};

static int
nl_link_one_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_link_one *one = arg;

	if (!one->found && nl_link_parse(nlh, one->li) == 0)
		one->found = true;
	return MNL_CB_OK;
}

static int
nl_link_getreq(struct nl *nl, const char *name, int ifindex,
    struct nl_link_info *li, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[64];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nl_link_one one = {.li = li};

	if (name != NULL)
		snprintf(what, sizeof(what), "%s", name);
	else
		snprintf(what, sizeof(what), "link %d", ifindex);
	if (name != NULL && !nl_link_name_ok(name))
		return nl_link_fail(
		    EINVAL, err, errlen, what, "not a valid interface name");
	nlh = nl_link_msg(buf, RTM_GETLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	if (name != NULL)
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nl_link_talk(nl, nlh, nl_link_one_cb, &one, what, err, errlen) ==
	    -1) {
		if (errno == ENODEV && errlen > 0)
			snprintf(err, errlen, "%s: no such interface", what);
		return -1;
	}
	if (!one.found)
		return nl_link_fail(
		    ENODEV, err, errlen, what, "no such interface");
	return 0;
}

int
nl_link_get(struct nl *nl, const char *name, struct nl_link_info *li, char *err,
    size_t errlen)
{
	return nl_link_getreq(nl, name, 0, li, err, errlen);
}

int
nl_link_get_index(struct nl *nl, int ifindex, struct nl_link_info *li,
    char *err, size_t errlen)
{
	if (ifindex <= 0) {
		errno = ENODEV;
		if (errlen > 0)
			snprintf(
			    err, errlen, "link %d: no such interface", ifindex);
		return -1;
	}
	return nl_link_getreq(nl, NULL, ifindex, li, err, errlen);
}

struct nl_link_all {
	struct nl_link_info *v;
	size_t n, cap;
};

static int
nl_link_all_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_link_all *all = arg;
	struct nl_link_info li;

	if (nl_link_parse(nlh, &li) == -1)
		return MNL_CB_OK;
	if (all->n == all->cap) {
		all->cap = all->cap == 0 ? 16 : all->cap * 2;
		all->v = xreallocarray(all->v, all->cap, sizeof(*all->v));
	}
	all->v[all->n++] = li;
	return MNL_CB_OK;
}

static int
nl_link_cmp(const void *a, const void *b)
{
	const struct nl_link_info *x = a, *y = b;

	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int
nl_link_list_unsorted(struct nl *nl, struct nl_link_info **out, size_t *n,
    char *err, size_t errlen)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nl_link_all all = {0};

	nlh = nl_link_msg(buf, RTM_GETLINK, NLM_F_DUMP);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	if (nl_link_dump(nl, nlh, nl_link_all_cb, &all, &all.n, "links", err,
	        errlen) == -1) {
		free(all.v);
		return -1;
	}
	*out = all.v;
	*n = all.n;
	return 0;
}

int
nl_link_list(struct nl *nl, struct nl_link_info **out, size_t *n, char *err,
    size_t errlen)
{
	if (nl_link_list_unsorted(nl, out, n, err, errlen) == -1)
		return -1;
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), nl_link_cmp);
	return 0;
}

/* RTM_NEWLINK on an existing link; the caller adds attributes */
static struct nlmsghdr *
nl_link_change(char *buf, int ifindex, unsigned int flags, unsigned int change)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = nl_link_msg(buf, RTM_NEWLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	ifm->ifi_flags = flags;
	ifm->ifi_change = change;
	return nlh;
}

int
nl_link_set_up(struct nl *nl, int ifindex, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[32];

	snprintf(what, sizeof(what), "link %d", ifindex);
	return nl_link_talk(nl, nl_link_change(buf, ifindex, IFF_UP, IFF_UP),
	    NULL, NULL, what, err, errlen);
}

int
nl_link_set_mtu(
    struct nl *nl, int ifindex, unsigned int mtu, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[32];
	struct nlmsghdr *nlh;

	snprintf(what, sizeof(what), "link %d", ifindex);
	nlh = nl_link_change(buf, ifindex, 0, 0);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}

int
nl_link_del(struct nl *nl, int ifindex, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[32];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	snprintf(what, sizeof(what), "link %d", ifindex);
	nlh = nl_link_msg(buf, RTM_DELLINK, 0);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = ifindex;
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}

/* RTM_NEWLINK creating name, with IFLA_LINKINFO opened and kind put */
static struct nlmsghdr *
nl_link_create(
    char *buf, const char *name, const char *kind, struct nlattr **linkinfo)
{
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	nlh = nl_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	*linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, kind);
	return nlh;
}

int
nl_link_add_veth(
    struct nl *nl, const char *name, const char *peer, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct nlattr *li, *data, *pe;
	struct ifinfomsg *pifm;

	if (!nl_link_name_ok(name) || !nl_link_name_ok(peer))
		return nl_link_fail(
		    EINVAL, err, errlen, name, "not a valid interface name");
	nlh = nl_link_create(buf, name, "veth", &li);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	pe = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* the peer's attributes follow an ifinfomsg of its own */
	pifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(pifm, 0, sizeof(*pifm));
	pifm->ifi_family = AF_UNSPEC;
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*pifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, pe);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nl_link_talk(nl, nlh, NULL, NULL, name, err, errlen);
}

int
nl_link_add_vxlan(struct nl *nl, const char *name, const struct nl_vxlan *vx,
    unsigned int mtu, const uint8_t *mac, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct nlattr *li, *data;

	if (!nl_link_name_ok(name))
		return nl_link_fail(
		    EINVAL, err, errlen, name, "not a valid interface name");
	if (vx->vni >= 1u << 24)
		return nl_link_fail(EINVAL, err, errlen, name,
		    "VNI out of range (0 to 16777215)");
	nlh = nl_link_create(buf, name, "vxlan", &li);
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_VXLAN_ID, vx->vni);
	if (vx->port != 0)
		mnl_attr_put_u16(nlh, IFLA_VXLAN_PORT, htons(vx->port));
	if (vx->local.family == AF_INET)
		nl_put_addr(nlh, IFLA_VXLAN_LOCAL, &vx->local);
	else if (vx->local.family == AF_INET6)
		nl_put_addr(nlh, IFLA_VXLAN_LOCAL6, &vx->local);
	if (vx->underlay > 0)
		mnl_attr_put_u32(nlh, IFLA_VXLAN_LINK, (uint32_t)vx->underlay);
	mnl_attr_put_u8(nlh, IFLA_VXLAN_LEARNING, vx->learning ? 1 : 0);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (mac != NULL)
		mnl_attr_put(nlh, IFLA_ADDRESS, NL_MACLEN, mac);
	return nl_link_talk(nl, nlh, NULL, NULL, name, err, errlen);
}

int
nl_link_add_ipip(struct nl *nl, const char *name, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct nlattr *li;

	if (!nl_link_name_ok(name))
		return nl_link_fail(
		    EINVAL, err, errlen, name, "not a valid interface name");
	nlh = nl_link_create(buf, name, "ipip", &li);
	mnl_attr_nest_end(nlh, li);
	if (nl_link_talk(nl, nlh, NULL, NULL, name, err, errlen) == 0)
		return 0;
	/* the module, once loaded, made its fallback tunl0 itself */
	if (errno == EEXIST && strcmp(name, "tunl0") == 0)
		return 0;
	if (errno == EOPNOTSUPP)
		return nl_link_fail(EOPNOTSUPP, err, errlen, name,
		    "this kernel has no ipip support (modprobe ipip "
		    "failed?)");
	return -1;
}

/* ---- addresses ---- */

static const enum mnl_attr_data_type nl_ifa_types[IFA_MAX + 1] = {
    [IFA_FLAGS] = MNL_TYPE_U32,
};

struct nl_addr_all {
	int family;
	int ifindex;
	struct nl_addr *v;
	size_t n, cap;
};

static int
nl_addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_addr_all *all = arg;
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa;
	struct nl_addr na;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ifa))
		return MNL_CB_OK;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return MNL_CB_OK;
	if (all->family != AF_UNSPEC && ifa->ifa_family != all->family)
		return MNL_CB_OK;
	if (all->ifindex != 0 && (int)ifa->ifa_index != all->ifindex)
		return MNL_CB_OK;
	nl_attrs_parse(nlh, sizeof(*ifa), tb, IFA_MAX, nl_ifa_types);
	/* IFA_LOCAL is ours; IFA_ADDRESS is the peer on point-to-point */
	if ((a = tb[IFA_LOCAL]) == NULL)
		a = tb[IFA_ADDRESS];
	memset(&na, 0, sizeof(na));
	if (a == NULL || nl_attr_addr(a, ifa->ifa_family, &na.prefix.a) == -1)
		return MNL_CB_OK;
	if (ifa->ifa_prefixlen > addr_maxlen(ifa->ifa_family))
		return MNL_CB_OK;
	na.prefix.len = ifa->ifa_prefixlen;
	na.ifindex = (int)ifa->ifa_index;
	na.scope = ifa->ifa_scope;
	na.flags = tb[IFA_FLAGS] != NULL ? mnl_attr_get_u32(tb[IFA_FLAGS])
	                                 : ifa->ifa_flags;
	if (all->n == all->cap) {
		all->cap = all->cap == 0 ? 16 : all->cap * 2;
		all->v = xreallocarray(all->v, all->cap, sizeof(*all->v));
	}
	all->v[all->n++] = na;
	return MNL_CB_OK;
}

int
nl_addr_list(struct nl *nl, int family, int ifindex, struct nl_addr **out,
    size_t *n, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;
	struct nl_addr_all all = {.family = family, .ifindex = ifindex};
	struct nl_link_info *links = NULL;
	size_t nlinks = 0, i, j;

	nlh = nl_link_msg(buf, RTM_GETADDR, NLM_F_DUMP);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = (uint8_t)family;
	if (nl_link_dump(nl, nlh, nl_addr_cb, &all, &all.n, "addresses", err,
	        errlen) == -1)
		goto fail;
	if (nl_link_list(nl, &links, &nlinks, err, errlen) == -1)
		goto fail;
	for (i = 0; i < all.n; i++)
		for (j = 0; j < nlinks; j++)
			if (links[j].ifindex == all.v[i].ifindex) {
				memcpy(all.v[i].ifname, links[j].name,
				    sizeof(all.v[i].ifname));
				break;
			}
	free(links);
	*out = all.v;
	*n = all.n;
	return 0;
fail:
	free(all.v);
	return -1;
}

static int
nl_addr_req(struct nl *nl, uint16_t type, uint16_t flags, int ifindex,
    const struct prefix *p, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[PREFIX_STRLEN + 32];
	struct nlmsghdr *nlh;
	struct ifaddrmsg *ifa;

	prefix_ntop(p, what, sizeof(what));
	snprintf(what + strlen(what), sizeof(what) - strlen(what),
	    " on link %d", ifindex);
	if (p->a.family != AF_INET && p->a.family != AF_INET6)
		return nl_link_fail(
		    EAFNOSUPPORT, err, errlen, what, "not an IP address");
	nlh = nl_link_msg(buf, type, flags);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = p->a.family;
	ifa->ifa_prefixlen = p->len;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)ifindex;
	nl_put_addr(nlh, IFA_LOCAL, &p->a);
	nl_put_addr(nlh, IFA_ADDRESS, &p->a);
	if (p->a.family == AF_INET6 && type == RTM_NEWADDR)
		mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}

int
nl_addr_replace(struct nl *nl, int ifindex, const struct prefix *p, char *err,
    size_t errlen)
{
	return nl_addr_req(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE,
	    ifindex, p, err, errlen);
}

int
nl_addr_del(struct nl *nl, int ifindex, const struct prefix *p, char *err,
    size_t errlen)
{
	return nl_addr_req(nl, RTM_DELADDR, 0, ifindex, p, err, errlen);
}

static bool
nl_addr_same(const struct nl_addr *a, const struct prefix *p)
{
	return a->prefix.len == p->len && addr_cmp(&a->prefix.a, &p->a) == 0;
}

int
nl_addr_set_only(struct nl *nl, int ifindex, const struct prefix *p,
    bool *changed, char *err, size_t errlen)
{
	struct nl_addr *v = NULL;
	size_t n, i;
	bool found = false, removed = false;

	*changed = false;
	if (nl_addr_list(nl, p->a.family, ifindex, &v, &n, err, errlen) == -1)
		return -1;
	/*
	 * Others go first: removing an IPv4 primary takes its secondaries
	 * with it, so p is looked for again afterwards.
	 */
	for (i = 0; i < n; i++) {
		if (nl_addr_same(&v[i], p))
			continue;
		if (v[i].prefix.a.family == AF_INET6 &&
		    addr_is_linklocal(&v[i].prefix.a))
			continue;
		if (nl_addr_del(nl, ifindex, &v[i].prefix, err, errlen) == -1 &&
		    errno != EADDRNOTAVAIL)
			goto fail;
		removed = true;
	}
	if (removed) {
		free(v);
		v = NULL;
		if (nl_addr_list(
		        nl, p->a.family, ifindex, &v, &n, err, errlen) == -1)
			return -1;
		*changed = true;
	}
	for (i = 0; i < n; i++)
		if (nl_addr_same(&v[i], p))
			found = true;
	free(v);
	if (!found) {
		if (nl_addr_replace(nl, ifindex, p, err, errlen) == -1)
			return -1;
		*changed = true;
	}
	return 0;
fail:
	free(v);
	return -1;
}

/* ---- neighbours ---- */

struct nl_neigh_all {
	int family;
	int ifindex;
	struct nl_neigh *v;
	size_t n, cap;
};

static int
nl_neigh_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_neigh_all *all = arg;
	const struct nlattr *tb[NDA_MAX + 1];
	const struct ndmsg *ndm;
	struct nl_neigh ne;

	if (nlh->nlmsg_type != RTM_NEWNEIGH ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*ndm))
		return MNL_CB_OK;
	ndm = mnl_nlmsg_get_payload(nlh);
	if (ndm->ndm_family != all->family)
		return MNL_CB_OK;
	if (all->ifindex != 0 && ndm->ndm_ifindex != all->ifindex)
		return MNL_CB_OK;
	nl_attrs_parse(nlh, sizeof(*ndm), tb, NDA_MAX, NULL);
	memset(&ne, 0, sizeof(ne));
	ne.family = ndm->ndm_family;
	ne.ifindex = ndm->ndm_ifindex;
	ne.state = ndm->ndm_state;
	ne.flags = ndm->ndm_flags;
	if (tb[NDA_DST] != NULL &&
	    nl_attr_addr(tb[NDA_DST],
	        ne.family == AF_BRIDGE ? AF_UNSPEC : ne.family, &ne.dst) == -1)
		return MNL_CB_OK; /* an address we cannot read */
	if (tb[NDA_LLADDR] != NULL &&
	    mnl_attr_get_payload_len(tb[NDA_LLADDR]) == NL_MACLEN) {
		memcpy(ne.mac, mnl_attr_get_payload(tb[NDA_LLADDR]), NL_MACLEN);
		ne.has_mac = true;
	}
	if (all->n == all->cap) {
		all->cap = all->cap == 0 ? 16 : all->cap * 2;
		all->v = xreallocarray(all->v, all->cap, sizeof(*all->v));
	}
	all->v[all->n++] = ne;
	return MNL_CB_OK;
}

int
nl_neigh_list(struct nl *nl, int family, int ifindex, struct nl_neigh **out,
    size_t *n, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	struct nl_neigh_all all = {.family = family, .ifindex = ifindex};

	nlh = nl_link_msg(buf, RTM_GETNEIGH, NLM_F_DUMP);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = (uint8_t)family;
	if (nl_link_dump(nl, nlh, nl_neigh_cb, &all, &all.n,
	        family == AF_BRIDGE ? "fdb" : "neighbours", err,
	        errlen) == -1) {
		free(all.v);
		return -1;
	}
	*out = all.v;
	*n = all.n;
	return 0;
}

static struct nlmsghdr *
nl_neigh_msg(char *buf, uint16_t type, uint16_t flags, uint8_t family,
    int ifindex, uint16_t state, uint8_t ntf)
{
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;

	nlh = nl_link_msg(buf, type, flags);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family;
	ndm->ndm_ifindex = ifindex;
	ndm->ndm_state = state;
	ndm->ndm_flags = ntf;
	ndm->ndm_type = RTN_UNICAST;
	return nlh;
}

static const char *
nl_neigh_what(char *buf, size_t len, const uint8_t *mac, const struct addr *dst,
    int ifindex)
{
	char m[NL_MAC_STRLEN], a[ADDR_STRLEN];

	snprintf(buf, len, "%s%s%s on link %d",
	    mac != NULL ? nl_mac_ntop(mac, m, sizeof(m)) : "",
	    mac != NULL && dst != NULL ? " -> " : "",
	    dst != NULL ? addr_ntop(dst, a, sizeof(a)) : "", ifindex);
	return buf;
}

static bool
nl_neigh_family_ok(const struct addr *a)
{
	return a->family == AF_INET || a->family == AF_INET6;
}

int
nl_neigh_replace(struct nl *nl, int ifindex, const struct addr *dst,
    const uint8_t *mac, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[128];
	struct nlmsghdr *nlh;

	nl_neigh_what(what, sizeof(what), mac, dst, ifindex);
	if (!nl_neigh_family_ok(dst))
		return nl_link_fail(
		    EAFNOSUPPORT, err, errlen, what, "not an IP address");
	nlh = nl_neigh_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE,
	    dst->family, ifindex, NUD_PERMANENT, 0);
	nl_put_addr(nlh, NDA_DST, dst);
	mnl_attr_put(nlh, NDA_LLADDR, NL_MACLEN, mac);
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}

int
nl_neigh_del(struct nl *nl, int ifindex, const struct addr *dst, char *err,
    size_t errlen)
{
	char buf[NL_BUFSIZE], what[128];
	struct nlmsghdr *nlh;

	nl_neigh_what(what, sizeof(what), NULL, dst, ifindex);
	if (!nl_neigh_family_ok(dst))
		return nl_link_fail(
		    EAFNOSUPPORT, err, errlen, what, "not an IP address");
	nlh = nl_neigh_msg(buf, RTM_DELNEIGH, 0, dst->family, ifindex, 0, 0);
	nl_put_addr(nlh, NDA_DST, dst);
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}

static int
nl_neigh_fdb_put(struct nl *nl, uint16_t how, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[128];
	struct nlmsghdr *nlh;

	nl_neigh_what(what, sizeof(what), mac, dst, ifindex);
	if (!nl_neigh_family_ok(dst))
		return nl_link_fail(
		    EAFNOSUPPORT, err, errlen, what, "not an IP address");
	nlh = nl_neigh_msg(buf, RTM_NEWNEIGH, NLM_F_CREATE | how, AF_BRIDGE,
	    ifindex, NUD_PERMANENT, NTF_SELF);
	mnl_attr_put(nlh, NDA_LLADDR, NL_MACLEN, mac);
	nl_put_addr(nlh, NDA_DST, dst);
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}

int
nl_neigh_fdb_append(struct nl *nl, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen)
{
	return nl_neigh_fdb_put(
	    nl, NLM_F_APPEND, ifindex, mac, dst, err, errlen);
}

int
nl_neigh_fdb_replace(struct nl *nl, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen)
{
	return nl_neigh_fdb_put(
	    nl, NLM_F_REPLACE, ifindex, mac, dst, err, errlen);
}

int
nl_neigh_fdb_del(struct nl *nl, int ifindex, const uint8_t *mac,
    const struct addr *dst, char *err, size_t errlen)
{
	char buf[NL_BUFSIZE], what[128];
	struct nlmsghdr *nlh;

	nl_neigh_what(what, sizeof(what), mac, dst, ifindex);
	if (dst != NULL && !nl_neigh_family_ok(dst))
		return nl_link_fail(
		    EAFNOSUPPORT, err, errlen, what, "not an IP address");
	nlh =
	    nl_neigh_msg(buf, RTM_DELNEIGH, 0, AF_BRIDGE, ifindex, 0, NTF_SELF);
	mnl_attr_put(nlh, NDA_LLADDR, NL_MACLEN, mac);
	if (dst != NULL)
		nl_put_addr(nlh, NDA_DST, dst);
	return nl_link_talk(nl, nlh, NULL, NULL, what, err, errlen);
}
