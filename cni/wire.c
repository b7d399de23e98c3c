/*
 * Calico's pod wiring (wire.h): the veth pair between this (host) netns and
 * the pod's, the pod's addresses and routes, the host side's sysctls and
 * routes; their removal and their CHECK; and Calico's host-side names.
 *
 * Netlink talks to the netns its socket was opened in, so one socket per
 * netns does everything: the pod's is opened after a setns() into the pod
 * and kept after the setns() back.  The veth is made from the host side in
 * one RTM_NEWLINK whose peer carries IFLA_NET_NS_FD, so no temporary name
 * ever shows in the host netns.  /proc/sys resolves names in the netns of
 * whoever opens the file, so the pod's sysctl is written while inside it.
 *
 * setns() moves the calling thread only; the netns to come back to is this
 * thread's (/proc/thread-self).  Failing to come back is fatal: every later
 * step would act on the wrong netns.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <linux/magic.h>
#include <linux/nsfs.h>
#include <linux/veth.h>
#include <openssl/evp.h>

#include "cni/wire.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define WIRE_SELF_NS "/proc/thread-self/ns/net"
#define WIRE_ERRLEN 256
#define WIRE_HASHLEN 11 /* hex digits of the sha1 in a host-side name */

static const uint8_t wire_host_mac[NL_MACLEN] = {
    0xee, 0xee, 0xee, 0xee, 0xee, 0xee};

/* one call's state: the two netns and a socket in each */
struct wire_ctx {
	const struct cni_wire *w;
	struct cni_error *err;
	int self_ns; /* where this thread runs, to come back to */
	int pod_ns;
	struct nl *host;
	struct nl *pod;
	bool v4, v6; /* which families the addresses have */
	bool made; /* the veth exists: undo it on failure */
	int host_ifindex;
	int pod_ifindex;
	uint8_t pod_mac[NL_MACLEN];
};

/* the first failure of a route batch, and which routes found EEXIST */
struct wire_batch_res {
	int error;
	size_t index;
	char msg[WIRE_ERRLEN];
	bool exists[CNI_MAX_IPS];
	bool eexist_ok; /* EEXIST goes to exists[], not error */
};

/* ---- names, netns, sysctls ---- */

/* the kernel's dev_valid_name, so a name cannot walk out of /proc/sys */
static bool
wire_ifname_ok(const char *name)
{
	size_t len;

	if (name == NULL || (len = strlen(name)) == 0 || len >= IFNAMSIZ)
		return false;
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return false;
	return strpbrk(name, "/: \t\n\r\v\f") == NULL;
}

/*
 * The pod's netns as an fd.  0; 1 when it does not exist or is no network
 * namespace; -1 on other errors.  Both failures have their message in err
 * with code 8.
 */
static int
wire_netns_open(const char *path, int *fd, struct cni_error *err)
{
	struct statfs sf;
	int nstype;

	*fd = -1;
	if (path == NULL || *path == '\0') {
		cni_error_set(err, CNI_ERR_NETNS, "no netns given");
		return 1;
	}
	/* O_NONBLOCK: a FIFO named as the netns must not hang us */
	if ((*fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1) {
		if (errno == ENOENT || errno == ENOTDIR) {
			cni_error_set(err, CNI_ERR_NETNS,
			    "netns %s does not exist", path);
			return 1;
		}
		cni_error_set(
		    err, CNI_ERR_NETNS, "netns %s: %s", path, strerror(errno));
		return -1;
	}
	/* an unmounted bind-mount target is a plain empty file */
	if (fstatfs(*fd, &sf) == -1 || sf.f_type != NSFS_MAGIC ||
	    ((nstype = ioctl(*fd, NS_GET_NSTYPE)) != CLONE_NEWNET &&
	        !(nstype == -1 && errno == ENOTTY))) {
		close(*fd);
		*fd = -1;
		cni_error_set(err, CNI_ERR_NETNS,
		    "netns %s is not a network namespace", path);
		return 1;
	}
	return 0;
}

static bool
wire_same_file(int a, int b)
{
	struct stat sa, sb;

	return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* -1 with error 5 when the pod's netns cannot be entered */
static int
wire_enter(struct wire_ctx *c)
{
	if (setns(c->pod_ns, CLONE_NEWNET) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "entering netns %s: %s",
		    c->w->netns, strerror(errno));
		return -1;
	}
	return 0;
}

static void
wire_leave(struct wire_ctx *c)
{
	if (setns(c->self_ns, CLONE_NEWNET) == -1)
		fatal("cni wire: setns back to the host netns");
}

/* a socket in the host's netns, and in the pod's when it is open */
static int
wire_ctx_sockets(struct wire_ctx *c)
{
	char why[WIRE_ERRLEN];

	if ((c->host = nl_open(0, why, sizeof(why))) == NULL) {
		cni_error_set(c->err, CNI_ERR_IO, "%s", why);
		return -1;
	}
	if (c->pod_ns == -1)
		return 0;
	if (wire_enter(c) == -1)
		return -1;
	c->pod = nl_open(0, why, sizeof(why));
	wire_leave(c);
	if (c->pod == NULL) {
		cni_error_set(
		    c->err, CNI_ERR_IO, "in netns %s: %s", c->w->netns, why);
		return -1;
	}
	return 0;
}

/* the netns to come back to; -1 with error 5 */
static int
wire_self_open(struct wire_ctx *c)
{
	if ((c->self_ns = open(WIRE_SELF_NS, O_RDONLY | O_CLOEXEC)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "%s: %s", WIRE_SELF_NS,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Opens both netns and a socket in each; every fd is -1 or NULL until
 * made, so wire_ctx_clear can run at any point.  0, or -1 with err set (8
 * for the netns, 5 for the rest).
 */
static int
wire_ctx_open(struct wire_ctx *c)
{
	if (wire_netns_open(c->w->netns, &c->pod_ns, c->err) != 0 ||
	    wire_self_open(c) == -1)
		return -1;
	/* eth0 "in the pod" would be the node's own */
	if (wire_same_file(c->pod_ns, c->self_ns)) {
		cni_error_set(c->err, CNI_ERR_NETNS,
		    "netns %s is the host's own network namespace",
		    c->w->netns);
		return -1;
	}
	return wire_ctx_sockets(c);
}

int
cni_wire_netns_check(const char *netns, struct cni_error *err)
{
	struct cni_wire w = {.netns = netns};
	struct wire_ctx c = {.w = &w, .err = err, .self_ns = -1, .pod_ns = -1};
	int rc = -1;

	if (wire_netns_open(netns, &c.pod_ns, err) != 0 ||
	    wire_self_open(&c) == -1)
		goto done;
	if (wire_same_file(c.pod_ns, c.self_ns)) {
		cni_error_set(err, CNI_ERR_NETNS,
		    "netns %s is the host's own network namespace", netns);
		goto done;
	}
	rc = 0;
done:
	if (c.pod_ns != -1)
		close(c.pod_ns);
	if (c.self_ns != -1)
		close(c.self_ns);
	return rc;
}

static void
wire_ctx_clear(struct wire_ctx *c)
{
	nl_close(c->pod);
	nl_close(c->host);
	if (c->pod_ns != -1)
		close(c->pod_ns);
	if (c->self_ns != -1)
		close(c->self_ns);
	c->pod = c->host = NULL;
	c->pod_ns = c->self_ns = -1;
}

/* /proc/sys/<fmt...> in the calling thread's netns */
static int
wire_sysctl_path(char *buf, size_t len, const char *family, const char *dir,
    const char *ifname, const char *key, struct cni_error *err)
{
	int n;

	n = snprintf(
	    buf, len, "/proc/sys/net/%s/%s/%s/%s", family, dir, ifname, key);
	if (n < 0 || (size_t)n >= len) {
		cni_error_set(err, CNI_ERR_IO, "sysctl path too long");
		return -1;
	}
	return 0;
}

static int
wire_sysctl_set(const char *family, const char *dir, const char *ifname,
    const char *key, const char *val, struct cni_error *err)
{
	char path[128];
	size_t len = strlen(val);
	ssize_t n;
	int fd, saved;

	if (wire_sysctl_path(
	        path, sizeof(path), family, dir, ifname, key, err) == -1)
		return -1;
	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) == -1) {
		cni_error_set(
		    err, CNI_ERR_IO, "setting %s: %s", path, strerror(errno));
		return -1;
	}
	n = write(fd, val, len);
	saved = errno;
	close(fd);
	if (n != (ssize_t)len) {
		cni_error_set(err, CNI_ERR_IO, "setting %s to %s: %s", path,
		    val, n == -1 ? strerror(saved) : "short write");
		return -1;
	}
	return 0;
}

/* 0 when the sysctl reads as want, else -1 with error 5 saying so */
static int
wire_sysctl_check(const char *family, const char *dir, const char *ifname,
    const char *key, const char *want, struct cni_error *err)
{
	char path[128], val[32];
	ssize_t n;
	int fd, saved;

	if (wire_sysctl_path(
	        path, sizeof(path), family, dir, ifname, key, err) == -1)
		return -1;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		cni_error_set(err, CNI_ERR_IO, "%s: %s", path, strerror(errno));
		return -1;
	}
	n = read(fd, val, sizeof(val) - 1);
	saved = errno;
	close(fd);
	if (n < 0) {
		cni_error_set(err, CNI_ERR_IO, "%s: %s", path, strerror(saved));
		return -1;
	}
	val[n] = '\0';
	val[strcspn(val, "\n")] = '\0';
	if (strcmp(val, want) != 0) {
		cni_error_set(
		    err, CNI_ERR_IO, "%s is %s, not %s", path + 10, val, want);
		return -1;
	}
	return 0;
}

/* the host side's, in the order wire.h lists them */
static const struct wire_sysctl {
	const char *family, *dir, *key, *val;
	bool v6;
} wire_host_sysctls[] = {
    {"ipv4", "conf", "proxy_arp", "1", false},
    {"ipv4", "neigh", "proxy_delay", "0", false},
    {"ipv4", "conf", "forwarding", "1", false},
    /* accept_dad=0: the link-local next hop is usable at once */
    {"ipv6", "conf", "proxy_ndp", "1", true},
    {"ipv6", "conf", "forwarding", "1", true},
    {"ipv6", "conf", "accept_dad", "0", true},
    {"ipv6", "conf", "accept_ra", "0", true},
};
#define WIRE_NHOST_SYSCTLS                                                     \
	(sizeof(wire_host_sysctls) / sizeof(wire_host_sysctls[0]))

/* ---- links ---- */

/* 0 deleted, 1 there was none, -1 with the kernel's reason in why */
static int
wire_link_del_name(struct nl *nl, const char *name, char *why, size_t len)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_DELLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	if (nl_talk(nl, nlh, NULL, NULL, why, len) == 0)
		return 0;
	return errno == ENODEV ? 1 : -1;
}

/*
 * The pair in one request from the host side: the host end with Calico's
 * MAC, the peer born in the pod's netns under its final name.
 */
static int
wire_veth_add(struct wire_ctx *c, unsigned int mtu, char *why, size_t len)
{
	char buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *li, *data, *peer;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, c->w->host_ifname);
	mnl_attr_put(nlh, IFLA_ADDRESS, NL_MACLEN, wire_host_mac);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* the peer's attributes follow an ifinfomsg of its own */
	ifm = mnl_nlmsg_get_payload_tail(nlh);
	memset(ifm, 0, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	nlh->nlmsg_len += MNL_ALIGN(sizeof(*ifm));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, c->w->ifname);
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)c->pod_ns);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, li);
	return nl_talk(c->host, nlh, NULL, NULL, why, len);
}

/* ---- routes ---- */

static void
wire_batch_cb(void *arg, size_t index, const struct nlmsghdr *req, int error,
    const char *msg)
{
	struct wire_batch_res *res = arg;

	if (res->eexist_ok && error == EEXIST && index < CNI_MAX_IPS) {
		res->exists[index] = true;
		return;
	}
	if (res->error != 0)
		return;
	res->error = error;
	res->index = index;
	snprintf(res->msg, sizeof(res->msg), "%s%s%s", strerror(error),
	    *msg ? ": " : "", msg);
}

static void
wire_route_dev(struct nl_route *r, const struct prefix *dst,
    const struct addr *gw, int ifindex)
{
	memset(r, 0, sizeof(*r));
	r->dst = *dst;
	r->type = RTN_UNICAST;
	r->protocol = RTPROT_BOOT;
	r->table = RT_TABLE_MAIN;
	r->nnh = 1;
	r->nh[0].ifindex = (unsigned int)ifindex;
	if (gw != NULL)
		r->nh[0].gw = *gw;
}

/* p as a host prefix: /32 or /128 */
static struct prefix
wire_host_prefix(const struct prefix *p)
{
	struct prefix h = *p;

	h.len = (uint8_t)addr_maxlen(p->a.family);
	return h;
}

/* the pod's routes to the host side: up to three, in the order to add */
static size_t
wire_pod_routes(const struct wire_ctx *c, struct nl_route *r, int ifindex)
{
	struct prefix p;
	struct addr gw;
	size_t n = 0;

	if (c->v4) {
		(void)prefix_parse(CNI_GATEWAY4 "/32", &p);
		wire_route_dev(&r[n++], &p, NULL, ifindex);
		(void)addr_parse(CNI_GATEWAY4, &gw);
		(void)prefix_parse("0.0.0.0/0", &p);
		wire_route_dev(&r[n++], &p, &gw, ifindex);
	}
	if (c->v6) {
		(void)addr_parse(CNI_GATEWAY6, &gw);
		(void)prefix_parse("::/0", &p);
		wire_route_dev(&r[n++], &p, &gw, ifindex);
	}
	return n;
}

struct wire_find {
	const struct prefix *dst;
	struct nl_route found;
	bool ok;
};

static int
wire_find_cb(const struct nl_route *r, void *arg)
{
	struct wire_find *f = arg;

	if (prefix_cmp(&r->dst, f->dst) != 0)
		return MNL_CB_OK;
	f->found = *r;
	f->ok = true;
	return MNL_CB_STOP;
}

/* the main table's route for dst, if any; -1 when the dump fails */
static int
wire_route_find(struct nl *nl, const struct prefix *dst, struct nl_route *out,
    bool *ok, char *why, size_t len)
{
	struct wire_find f = {.dst = dst};

	if (nl_route_dump(nl, dst->a.family, 0, RT_TABLE_MAIN, wire_find_cb, &f,
	        why, len) == -1)
		return -1;
	*ok = f.ok;
	if (f.ok)
		*out = f.found;
	return 0;
}

/* does r go out ifindex alone, via gw (family 0: directly)? */
static bool
wire_route_is(const struct nl_route *r, int ifindex, const struct addr *gw)
{
	if (r->type != RTN_UNICAST || r->nnh != 1 ||
	    r->nh[0].ifindex != (unsigned int)ifindex)
		return false;
	if (gw == NULL)
		return r->nh[0].gw.family == 0;
	return addr_cmp(&r->nh[0].gw, gw) == 0;
}

/* "cali123 (link 7)" or "link 7" for an error message */
static const char *
wire_link_name(struct nl *nl, unsigned int ifindex, char *buf, size_t len)
{
	struct nl_link_info li;
	char why[WIRE_ERRLEN];

	if (nl_link_get_index(nl, (int)ifindex, &li, why, sizeof(why)) == 0)
		snprintf(buf, len, "%s", li.name);
	else
		snprintf(buf, len, "link %u", ifindex);
	return buf;
}

/*
 * A host route that found EEXIST: fine when it already goes out the host
 * side, else the address is someone else's.
 */
static int
wire_host_route_taken(struct wire_ctx *c, const struct prefix *p)
{
	struct nl_route r;
	char why[WIRE_ERRLEN], a[PREFIX_STRLEN], dev[IFNAMSIZ + 16];
	char gw[ADDR_STRLEN];
	bool ok;

	prefix_ntop(p, a, sizeof(a));
	if (wire_route_find(c->host, p, &r, &ok, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO,
		    "host route %s exists; looking it up: %s", a, why);
		return -1;
	}
	if (!ok) {
		cni_error_set(c->err, CNI_ERR_IO,
		    "host route %s dev %s: RTM_NEWROUTE: %s", a,
		    c->w->host_ifname, strerror(EEXIST));
		return -1;
	}
	if (wire_route_is(&r, c->host_ifindex, NULL))
		return 0;
	if (r.nnh == 0)
		cni_error_set(c->err, CNI_ERR_IO,
		    "%s is already routed (route type %u)", a, r.type);
	else if (r.nh[0].gw.family != 0)
		cni_error_set(c->err, CNI_ERR_IO,
		    "%s is already routed via %s dev %s", a,
		    addr_ntop(&r.nh[0].gw, gw, sizeof(gw)),
		    wire_link_name(c->host, r.nh[0].ifindex, dev, sizeof(dev)));
	else
		cni_error_set(c->err, CNI_ERR_IO, "%s is already routed via %s",
		    a,
		    wire_link_name(c->host, r.nh[0].ifindex, dev, sizeof(dev)));
	return -1;
}

/* ---- ADD ---- */

static int
wire_validate(const struct cni_wire *w, struct cni_error *err)
{
	size_t i;

	if (!wire_ifname_ok(w->ifname)) {
		cni_error_set(err, CNI_ERR_IO,
		    "interface name \"%s\" is invalid",
		    w->ifname ? w->ifname : "");
		return -1;
	}
	if (!wire_ifname_ok(w->host_ifname)) {
		cni_error_set(err, CNI_ERR_IO,
		    "host interface name \"%s\" is invalid",
		    w->host_ifname ? w->host_ifname : "");
		return -1;
	}
	if (w->mtu != 0 && (w->mtu < 68 || w->mtu > 65535)) {
		cni_error_set(
		    err, CNI_ERR_IO, "mtu %d is out of range", w->mtu);
		return -1;
	}
	if (w->naddrs > CNI_MAX_IPS) {
		cni_error_set(err, CNI_ERR_IO, "%zu addresses, at most %d",
		    w->naddrs, CNI_MAX_IPS);
		return -1;
	}
	for (i = 0; i < w->naddrs; i++)
		if (w->addrs[i].a.family != AF_INET &&
		    w->addrs[i].a.family != AF_INET6) {
			cni_error_set(err, CNI_ERR_IO,
			    "address %zu is not an IP address", i);
			return -1;
		}
	return 0;
}

/*
 * Whether an existing link of that name may go as a leftover (an earlier
 * ADD of the container, a stale host end): only a veth.  Anything else is
 * someone's device that a name happens to match (a FELIX_INTERFACEPREFIX
 * of "eth" and a short container id, a second network given the same
 * CNI_IFNAME as a macvlan): refused, never deleted.  0 when there is none
 * or it is a veth, -1 with error 5.
 */
static int
wire_leftover_ok(
    struct wire_ctx *c, struct nl *nl, const char *name, const char *where)
{
	struct nl_link_info li;
	char why[WIRE_ERRLEN];

	if (nl_link_get(nl, name, &li, why, sizeof(why)) == -1) {
		if (errno == ENODEV)
			return 0;
		cni_error_set(c->err, CNI_ERR_IO, "%s%s: %s", name, where, why);
		return -1;
	}
	if (strcmp(li.kind, "veth") == 0)
		return 0;
	cni_error_set(c->err, CNI_ERR_IO,
	    "%s already exists%s and is not a veth (%s): not touched", name,
	    where, li.kind[0] != '\0' ? li.kind : "no kind");
	return -1;
}

/* in the pod's netns: stale ifname out, the pair in, the pod's sysctl */
static int
wire_add_links(struct wire_ctx *c, unsigned int mtu)
{
	const struct cni_wire *w = c->w;
	char why[WIRE_ERRLEN], where[PATH_MAX + 8];

	snprintf(where, sizeof(where), " in %s", w->netns);
	if (wire_leftover_ok(c, c->pod, w->ifname, where) == -1 ||
	    wire_leftover_ok(c, c->host, w->host_ifname, "") == -1)
		return -1;
	if (wire_link_del_name(c->pod, w->ifname, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO,
		    "deleting the old %s in %s: %s", w->ifname, w->netns, why);
		return -1;
	}
	if (wire_link_del_name(c->host, w->host_ifname, why, sizeof(why)) ==
	    -1) {
		cni_error_set(c->err, CNI_ERR_IO, "deleting the stale %s: %s",
		    w->host_ifname, why);
		return -1;
	}
	/*
	 * A runtime or image may have turned IPv6 off in the pod: on again
	 * when it gets an IPv6 address (as Calico), before the pod end is
	 * made so that it inherits "default".
	 */
	if (c->v6 &&
	    (wire_sysctl_set(
	         "ipv6", "conf", "all", "disable_ipv6", "0", c->err) == -1 ||
	        wire_sysctl_set("ipv6", "conf", "default", "disable_ipv6", "0",
	            c->err) == -1))
		return -1;
	if (wire_veth_add(c, mtu, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "creating veth %s/%s: %s",
		    w->host_ifname, w->ifname, why);
		return -1;
	}
	c->made = true;
	/* DAD would hold the pod's link-local address for a second */
	if (c->v6 &&
	    wire_sysctl_set(
	        "ipv6", "conf", w->ifname, "accept_dad", "0", c->err) == -1)
		return -1;
	return 0;
}

static int
wire_add_host(struct wire_ctx *c)
{
	const struct cni_wire *w = c->w;
	struct nl_link_info li;
	char why[WIRE_ERRLEN];
	size_t i;

	if (nl_link_get(c->host, w->host_ifname, &li, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "%s", why);
		return -1;
	}
	c->host_ifindex = li.ifindex;
	if (nl_link_get(c->pod, w->ifname, &li, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "in %s: %s", w->netns, why);
		return -1;
	}
	c->pod_ifindex = li.ifindex;
	memcpy(c->pod_mac, li.mac, sizeof(c->pod_mac));
	for (i = 0; i < WIRE_NHOST_SYSCTLS; i++) {
		const struct wire_sysctl *s = &wire_host_sysctls[i];

		if (s->v6 && !c->v6)
			continue;
		if (wire_sysctl_set(s->family, s->dir, w->host_ifname, s->key,
		        s->val, c->err) == -1)
			return -1;
	}
	/*
	 * The kernel makes the same link-local address itself, but only once
	 * linkwatch sees the carrier, up to a second later: the pod's default
	 * route needs it from the start.
	 */
	if (c->v6) {
		struct prefix ll;

		(void)prefix_parse(CNI_GATEWAY6 "/64", &ll);
		if (nl_addr_replace(c->host, c->host_ifindex, &ll, why,
		        sizeof(why)) == -1) {
			cni_error_set(c->err, CNI_ERR_IO, "adding %s to %s: %s",
			    CNI_GATEWAY6, w->host_ifname, why);
			return -1;
		}
	}
	if (nl_link_set_up(c->host, c->host_ifindex, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "setting %s up: %s",
		    w->host_ifname, why);
		return -1;
	}
	return 0;
}

static int
wire_add_pod(struct wire_ctx *c)
{
	const struct cni_wire *w = c->w;
	struct nl_route r[3];
	struct wire_batch_res res = {0};
	struct nl_batch *b;
	struct prefix p;
	char why[WIRE_ERRLEN], a[PREFIX_STRLEN], rs[NL_ROUTE_STRLEN];
	size_t i, n;
	int rc;

	for (i = 0; i < w->naddrs; i++) {
		p = wire_host_prefix(&w->addrs[i]);
		if (nl_addr_replace(
		        c->pod, c->pod_ifindex, &p, why, sizeof(why)) == -1) {
			cni_error_set(c->err, CNI_ERR_IO,
			    "adding %s to %s in %s: %s",
			    prefix_ntop(&p, a, sizeof(a)), w->ifname, w->netns,
			    why);
			return -1;
		}
	}
	if (nl_link_set_up(c->pod, c->pod_ifindex, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "setting %s in %s up: %s",
		    w->ifname, w->netns, why);
		return -1;
	}
	if ((n = wire_pod_routes(c, r, c->pod_ifindex)) == 0)
		return 0;
	/* in order: the gateway's route before the default through it */
	b = nl_batch_new(c->pod, wire_batch_cb, &res);
	for (i = 0; i < n; i++)
		(void)nl_batch_route(
		    b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &r[i]);
	rc = nl_batch_flush(b, why, sizeof(why));
	nl_batch_free(b);
	if (rc == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "adding routes in %s: %s",
		    w->netns, why);
		return -1;
	}
	if (res.error != 0) {
		cni_error_set(c->err, CNI_ERR_IO, "adding route %s in %s: %s",
		    nl_route_ntop(
		        &r[res.index < n ? res.index : 0], rs, sizeof(rs)),
		    w->netns, res.msg);
		return -1;
	}
	return 0;
}

static int
wire_add_host_routes(struct wire_ctx *c)
{
	const struct cni_wire *w = c->w;
	struct nl_route r[CNI_MAX_IPS];
	struct wire_batch_res res = {.eexist_ok = true};
	struct nl_batch *b;
	struct prefix p;
	char why[WIRE_ERRLEN], a[PREFIX_STRLEN];
	size_t i;
	int rc;

	if (w->naddrs == 0)
		return 0;
	b = nl_batch_new(c->host, wire_batch_cb, &res);
	for (i = 0; i < w->naddrs; i++) {
		p = wire_host_prefix(&w->addrs[i]);
		wire_route_dev(&r[i], &p, NULL, c->host_ifindex);
		(void)nl_batch_route(
		    b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &r[i]);
	}
	rc = nl_batch_flush(b, why, sizeof(why));
	nl_batch_free(b);
	if (rc == -1) {
		cni_error_set(
		    c->err, CNI_ERR_IO, "adding host routes: %s", why);
		return -1;
	}
	if (res.error != 0) {
		i = res.index < w->naddrs ? res.index : 0;
		cni_error_set(c->err, CNI_ERR_IO, "host route %s dev %s: %s",
		    prefix_ntop(&r[i].dst, a, sizeof(a)), w->host_ifname,
		    res.msg);
		return -1;
	}
	for (i = 0; i < w->naddrs; i++)
		if (res.exists[i] && wire_host_route_taken(c, &r[i].dst) == -1)
			return -1;
	return 0;
}

int
cni_wire_add(
    const struct cni_wire *w, struct cni_wired *out, struct cni_error *err)
{
	struct wire_ctx c = {.w = w, .err = err, .self_ns = -1, .pod_ns = -1};
	char why[WIRE_ERRLEN];
	unsigned int mtu;
	size_t i;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (wire_validate(w, err) == -1)
		return -1;
	mtu = w->mtu != 0 ? (unsigned int)w->mtu : CNI_DEFAULT_MTU;
	for (i = 0; i < w->naddrs; i++) {
		if (w->addrs[i].a.family == AF_INET)
			c.v4 = true;
		else
			c.v6 = true;
	}
	if (wire_ctx_open(&c) == -1)
		goto done;
	if (wire_enter(&c) == -1)
		goto done;
	rc = wire_add_links(&c, mtu);
	wire_leave(&c);
	if (rc == -1 || wire_add_host(&c) == -1 || wire_add_pod(&c) == -1 ||
	    wire_add_host_routes(&c) == -1) {
		rc = -1;
		goto done;
	}
	nl_mac_ntop(c.pod_mac, out->mac, sizeof(out->mac));
	out->host_ifindex = c.host_ifindex;
	out->ifindex = c.pod_ifindex;
	rc = 0;
done:
	/* the pod's end and the host routes go with the host's */
	if (rc == -1 && c.made && c.host != NULL &&
	    wire_link_del_name(c.host, w->host_ifname, why, sizeof(why)) == -1)
		log_warnx("cni: undoing %s: %s", w->host_ifname, why);
	wire_ctx_clear(&c);
	return rc;
}

/* ---- DEL ---- */

int
cni_wire_del(const char *netns, const char *ifname, const char *host_ifname,
    struct cni_error *err)
{
	struct wire_ctx c = {.err = err, .self_ns = -1, .pod_ns = -1};
	struct cni_wire w = {.netns = netns, .ifname = ifname};
	struct cni_error ignored;
	char why[WIRE_ERRLEN];
	bool host;
	int rc = -1;

	c.w = &w;
	host = host_ifname != NULL && *host_ifname != '\0';
	if (host && !wire_ifname_ok(host_ifname)) {
		cni_error_set(err, CNI_ERR_IO,
		    "host interface name \"%s\" is invalid", host_ifname);
		return -1;
	}
	/* a netns that is gone took the pod's end with it */
	if (netns != NULL && *netns != '\0' && wire_ifname_ok(ifname) &&
	    wire_netns_open(netns, &c.pod_ns, &ignored) == 0) {
		if (wire_self_open(&c) == -1)
			goto done;
		/* never the host's own eth0 */
		if (wire_same_file(c.pod_ns, c.self_ns)) {
			close(c.pod_ns);
			c.pod_ns = -1;
		}
	}
	if (wire_ctx_sockets(&c) == -1)
		goto done;
	if (host &&
	    wire_link_del_name(c.host, host_ifname, why, sizeof(why)) == -1) {
		cni_error_set(
		    err, CNI_ERR_IO, "deleting %s: %s", host_ifname, why);
		goto done;
	}
	/* usually gone already, as the host end's peer */
	if (c.pod != NULL &&
	    wire_link_del_name(c.pod, ifname, why, sizeof(why)) == -1) {
		cni_error_set(err, CNI_ERR_IO, "deleting %s in %s: %s", ifname,
		    netns, why);
		goto done;
	}
	rc = 0;
done:
	wire_ctx_clear(&c);
	return rc;
}

/* the ifindex of name, 0 if there is none, -1 on failure (why says) */
static int
wire_link_index(struct nl *nl, const char *name, char *why, size_t len)
{
	struct nl_link_info li;

	if (nl_link_get(nl, name, &li, why, len) == 0)
		return li.ifindex;
	return errno == ENODEV ? 0 : -1;
}

int
cni_wire_down(const char *host_ifname, struct cni_error *err)
{
	struct cni_wire w = {0};
	struct wire_ctx c = {.err = err, .self_ns = -1, .pod_ns = -1};
	char buf[NL_BUFSIZE], why[WIRE_ERRLEN];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	int idx, rc = -1;

	c.w = &w;
	if (host_ifname == NULL || !wire_ifname_ok(host_ifname)) {
		cni_error_set(err, CNI_ERR_IO,
		    "host interface name \"%s\" is "
		    "invalid",
		    host_ifname != NULL ? host_ifname : "");
		return -1;
	}
	if (wire_ctx_sockets(&c) == -1)
		goto done;
	if ((idx = wire_link_index(c.host, host_ifname, why, sizeof(why))) ==
	    -1) {
		cni_error_set(err, CNI_ERR_IO, "%s", why);
		goto done;
	}
	rc = 0;
	if (idx == 0)
		goto done;
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = idx;
	ifm->ifi_change = IFF_UP; /* and ifi_flags without it: down */
	if (nl_talk(c.host, nlh, NULL, NULL, why, sizeof(why)) == -1 &&
	    errno != ENODEV) {
		cni_error_set(
		    err, CNI_ERR_IO, "setting %s down: %s", host_ifname, why);
		rc = -1;
	}
done:
	wire_ctx_clear(&c);
	return rc;
}

/* ---- CHECK ---- */

static int
wire_check_link(struct nl *nl, const char *name, const char *where,
    struct nl_link_info *li, struct cni_error *err)
{
	char why[WIRE_ERRLEN];

	if (nl_link_get(nl, name, li, why, sizeof(why)) == -1) {
		if (errno == ENODEV)
			cni_error_set(err, CNI_ERR_IO, "%s%s does not exist",
			    name, where);
		else
			cni_error_set(err, CNI_ERR_IO, "%s%s", why, where);
		return -1;
	}
	if (!(li->flags & IFF_UP)) {
		cni_error_set(err, CNI_ERR_IO, "%s%s is down", name, where);
		return -1;
	}
	return 0;
}

static int
wire_check_route(struct wire_ctx *c, struct nl *nl, const struct nl_route *want,
    const char *where, const char *dev)
{
	struct nl_route r;
	const struct addr *gw;
	char why[WIRE_ERRLEN], a[PREFIX_STRLEN], g[ADDR_STRLEN];
	bool ok;

	if (wire_route_find(nl, &want->dst, &r, &ok, why, sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "%s: %s", where, why);
		return -1;
	}
	gw = want->nh[0].gw.family != 0 ? &want->nh[0].gw : NULL;
	if (ok && wire_route_is(&r, (int)want->nh[0].ifindex, gw))
		return 0;
	prefix_ntop(&want->dst, a, sizeof(a));
	if (gw != NULL)
		cni_error_set(c->err, CNI_ERR_IO,
		    "%s: route %s via %s dev %s is missing", where, a,
		    addr_ntop(gw, g, sizeof(g)), dev);
	else
		cni_error_set(c->err, CNI_ERR_IO,
		    "%s: route %s dev %s is missing", where, a, dev);
	return -1;
}

static int
wire_check_addrs(struct wire_ctx *c)
{
	const struct cni_wire *w = c->w;
	struct nl_addr *addrs = NULL;
	struct prefix p;
	char why[WIRE_ERRLEN], a[PREFIX_STRLEN];
	size_t i, j, n = 0;

	if (nl_addr_list(c->pod, AF_UNSPEC, c->pod_ifindex, &addrs, &n, why,
	        sizeof(why)) == -1) {
		cni_error_set(c->err, CNI_ERR_IO, "in %s: %s", w->netns, why);
		return -1;
	}
	for (i = 0; i < w->naddrs; i++) {
		p = wire_host_prefix(&w->addrs[i]);
		for (j = 0; j < n; j++)
			if (prefix_cmp(&addrs[j].prefix, &p) == 0)
				break;
		if (j == n) {
			free(addrs);
			cni_error_set(c->err, CNI_ERR_IO,
			    "address %s is missing on %s in %s",
			    prefix_ntop(&p, a, sizeof(a)), w->ifname, w->netns);
			return -1;
		}
	}
	free(addrs);
	return 0;
}

int
cni_wire_check(const struct cni_wire *w, struct cni_error *err)
{
	struct wire_ctx c = {.w = w, .err = err, .self_ns = -1, .pod_ns = -1};
	struct nl_link_info li;
	struct nl_route r[CNI_MAX_IPS > 3 ? CNI_MAX_IPS : 3];
	struct prefix p;
	char where[PATH_MAX + 16], mac[NL_MAC_STRLEN];
	size_t i, n;
	int rc = -1;

	if (wire_validate(w, err) == -1)
		return -1;
	for (i = 0; i < w->naddrs; i++) {
		if (w->addrs[i].a.family == AF_INET)
			c.v4 = true;
		else
			c.v6 = true;
	}
	if (wire_ctx_open(&c) == -1)
		goto done;
	if (wire_check_link(c.host, w->host_ifname, "", &li, err) == -1)
		goto done;
	c.host_ifindex = li.ifindex;
	if (!li.has_mac || memcmp(li.mac, wire_host_mac, NL_MACLEN) != 0) {
		cni_error_set(err, CNI_ERR_IO, "%s has MAC %s, not %s",
		    w->host_ifname,
		    li.has_mac ? nl_mac_ntop(li.mac, mac, sizeof(mac)) : "none",
		    CNI_HOST_MAC);
		goto done;
	}
	for (i = 0; i < WIRE_NHOST_SYSCTLS; i++) {
		const struct wire_sysctl *s = &wire_host_sysctls[i];

		if (s->v6 && !c.v6)
			continue;
		if (wire_sysctl_check(s->family, s->dir, w->host_ifname, s->key,
		        s->val, err) == -1)
			goto done;
	}
	snprintf(where, sizeof(where), " in %s", w->netns);
	if (wire_check_link(c.pod, w->ifname, where, &li, err) == -1)
		goto done;
	c.pod_ifindex = li.ifindex;
	if (wire_check_addrs(&c) == -1)
		goto done;
	n = wire_pod_routes(&c, r, c.pod_ifindex);
	snprintf(where, sizeof(where), "netns %s", w->netns);
	for (i = 0; i < n; i++)
		if (wire_check_route(&c, c.pod, &r[i], where, w->ifname) == -1)
			goto done;
	for (i = 0; i < w->naddrs; i++) {
		p = wire_host_prefix(&w->addrs[i]);
		wire_route_dev(&r[0], &p, NULL, c.host_ifindex);
		if (wire_check_route(
		        &c, c.host, &r[0], "host", w->host_ifname) == -1)
			goto done;
	}
	rc = 0;
done:
	wire_ctx_clear(&c);
	return rc;
}

/* ---- names ---- */

int
cni_host_ifname(const char *prefix, const char *k8s_id,
    const char *container_id, char *buf, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char tail[WIRE_HASHLEN + 1];
	size_t i, n;

	if (prefix == NULL)
		prefix = "cali";
	/*
	 * Outside Kubernetes Calico takes the container id's first 11
	 * characters; ids that share a prefix (cnitool's "cnitool-<hex>"
	 * leaves 3 hex digits) then share a link, and one ADD deletes the
	 * other's as stale.  Its sha1 tells them apart like a pod's name.
	 */
	if (k8s_id == NULL)
		k8s_id = container_id;
	if (k8s_id == NULL || *k8s_id == '\0' ||
	    EVP_Digest(k8s_id, strlen(k8s_id), md, &mdlen, EVP_sha1(), NULL) !=
	        1 ||
	    mdlen < (WIRE_HASHLEN + 1) / 2)
		return -1;
	for (i = 0; i < WIRE_HASHLEN; i++)
		tail[i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	tail[WIRE_HASHLEN] = '\0';
	n = strlen(prefix) + strlen(tail);
	if (n >= len || n >= IFNAMSIZ)
		return -1;
	snprintf(buf, len, "%s%s", prefix, tail);
	return wire_ifname_ok(buf) ? 0 : -1;
}
