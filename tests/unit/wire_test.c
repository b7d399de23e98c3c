/*
 * cni/wire.c against the real kernel.  The program first moves into a
 * network namespace and a mount namespace of its own (unshare), so its
 * "host" netns is private and never the machine's; pods are netns bind-
 * mounted onto files in a tmpfs of that private mount namespace, so
 * everything vanishes with the process even when a test dies half-way.
 * Without the privilege only the name vectors run.
 *
 * The host netns plays a node: 192.0.2.1/32 and 2001:db8::1/128 on lo, a
 * default route out a veth (proxy ARP answers only for destinations routed
 * out another interface), IPv6 forwarding on.  Pings are raw ICMP sockets
 * opened inside the pod.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>

#include "cni/wire.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "lib/nl_link.h"

#define SELF_NS "/proc/thread-self/ns/net"
/* fork() is slow under ASan: fewer rounds there, whose figures mean little */
#if defined(__SANITIZE_ADDRESS__)
#define TIMED_PAIRS 40
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TIMED_PAIRS 40
#endif
#endif
#ifndef TIMED_PAIRS
#define TIMED_PAIRS 200
#endif
#define MAX_NS 8

static struct {
	bool ok; /* private namespaces made: the kernel tests can run */
	char dir[64]; /* tmpfs holding the pods' netns files */
	int self; /* the private host netns */
	struct nl *nl; /* a socket in it */
	char ns[MAX_NS][128]; /* pod netns files made by the running test */
	int nns;
	int seq;
} T = {.self = -1};

/* ---- fixture ---- */

static void
sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void
write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, val, strlen(val)), (ssize_t)strlen(val));
	close(fd);
}

/* a new pod netns; its file's path */
static const char *
ns_new(void)
{
	char *path;
	int fd;

	assert_true(T.nns < MAX_NS);
	path = T.ns[T.nns++];
	snprintf(path, sizeof(T.ns[0]), "%s/pod%d", T.dir, ++T.seq);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(unshare(CLONE_NEWNET), 0);
	if (mount(SELF_NS, path, NULL, MS_BIND, NULL) == -1) {
		(void)setns(T.self, CLONE_NEWNET);
		fail_msg("bind mount %s: %s", path, strerror(errno));
	}
	assert_int_equal(setns(T.self, CLONE_NEWNET), 0);
	return path;
}

static void
ns_gone(const char *path)
{
	(void)umount2(path, MNT_DETACH);
	(void)unlink(path);
}

/* runs in the pod's netns: a socket opened there stays there */
static void
enter(const char *ns)
{
	int fd = open(ns, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(setns(fd, CLONE_NEWNET), 0);
	close(fd);
}

static void
leave(void)
{
	if (setns(T.self, CLONE_NEWNET) == -1)
		abort();
}

static struct nl *
ns_nl(const char *ns)
{
	struct nl *nl;
	char err[256];

	enter(ns);
	nl = nl_open(0, err, sizeof(err));
	leave();
	if (nl == NULL)
		fail_msg("nl_open in %s: %s", ns, err);
	return nl;
}

/* a sysctl under /proc/sys/net/, read in ns (NULL: the host's) */
static int
sysctl_get(const char *ns, const char *fmt, ...)
{
	char path[256], buf[32];
	va_list ap;
	ssize_t n;
	int fd;

	strcpy(path, "/proc/sys/net/");
	va_start(ap, fmt);
	vsnprintf(path + strlen(path), sizeof(path) - strlen(path), fmt, ap);
	va_end(ap);
	if (ns != NULL)
		enter(ns);
	fd = open(path, O_RDONLY);
	if (ns != NULL)
		leave();
	if (fd == -1)
		fail_msg("%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	return atoi(buf);
}

static int
group_setup(void **state)
{
	char err[256];

	if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) == -1) {
		fprintf(stderr,
		    "wire_test: not root or no unshare: only the name "
		    "vectors run\n");
		return 0;
	}
	/* bind mounts stay in this process's mount namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	strcpy(T.dir, "/tmp/pm-wire-XXXXXX");
	if (mkdtemp(T.dir) == NULL ||
	    mount("tmpfs", T.dir, "tmpfs", 0, "size=1m") == -1)
		return -1;
	if ((T.self = open(SELF_NS, O_RDONLY)) == -1)
		return -1;
	if ((T.nl = nl_open(0, err, sizeof(err))) == NULL) {
		fprintf(stderr, "nl_open: %s\n", err);
		return -1;
	}
	if (system("set -e; ip link set lo up;"
	           "ip link add pmup0 type veth peer name pmup1;"
	           "ip link set pmup0 up; ip link set pmup1 up;"
	           "ip addr add 192.0.2.1/32 dev lo;"
	           "ip addr add 2001:db8::1/128 dev lo;"
	           "ip route add default dev pmup0;"
	           "ip -6 route add default dev pmup0;"
	           "echo 1 > /proc/sys/net/ipv6/conf/all/forwarding") != 0)
		return -1;
	T.ok = true;
	return 0;
}

static int
group_teardown(void **state)
{
	nl_close(T.nl);
	if (T.self != -1)
		close(T.self);
	if (T.dir[0] != '\0') {
		(void)umount2(T.dir, MNT_DETACH);
		(void)rmdir(T.dir);
	}
	return 0;
}

static int
setup(void **state)
{
	if (!T.ok)
		skip();
	T.nns = 0;
	return 0;
}

/* everything a test made, whether it passed or not */
static int
teardown(void **state)
{
	struct nl_link_info *links = NULL;
	char err[256];
	size_t i, n = 0;

	if (!T.ok)
		return 0;
	(void)setns(T.self, CLONE_NEWNET);
	for (i = 0; i < (size_t)T.nns; i++)
		ns_gone(T.ns[i]);
	T.nns = 0;
	if (nl_link_list(T.nl, &links, &n, err, sizeof(err)) == 0)
		for (i = 0; i < n; i++)
			if (strncmp(links[i].name, "calit", 5) == 0)
				(void)nl_link_del(
				    T.nl, links[i].ifindex, err, sizeof(err));
	free(links);
	return 0;
}

/* ---- probes ---- */

static void
wire_init(struct cni_wire *w, const char *ns, const char *host, ...)
{
	const char *a;
	va_list ap;

	memset(w, 0, sizeof(*w));
	w->netns = ns;
	w->ifname = "eth0";
	w->host_ifname = host;
	va_start(ap, host);
	while ((a = va_arg(ap, const char *)) != NULL)
		assert_int_equal(prefix_parse(a, &w->addrs[w->naddrs++]), 0);
	va_end(ap);
}

static bool
link_exists(struct nl *nl, const char *name)
{
	struct nl_link_info li;
	char err[256];

	return nl_link_get(nl, name, &li, err, sizeof(err)) == 0;
}

struct find {
	struct prefix dst;
	struct nl_route r;
	int n;
};

static int
find_cb(const struct nl_route *r, void *arg)
{
	struct find *f = arg;

	if (prefix_cmp(&r->dst, &f->dst) == 0 && f->n++ == 0)
		f->r = *r;
	return MNL_CB_OK;
}

/* the main table's one route to dst: false if there is none */
static bool
route_get(struct nl *nl, const char *dst, struct nl_route *r)
{
	struct find f = {0};
	char err[256];

	assert_int_equal(prefix_parse(dst, &f.dst), 0);
	assert_int_equal(nl_route_dump(nl, f.dst.a.family, 0, RT_TABLE_MAIN,
	                     find_cb, &f, err, sizeof(err)),
	    0);
	assert_true(f.n <= 1);
	if (f.n == 1)
		*r = f.r;
	return f.n == 1;
}

/* dst dev ifindex [via gw] */
static void
assert_route(struct nl *nl, const char *dst, int ifindex, const char *gw)
{
	struct nl_route r;
	struct addr g;

	if (!route_get(nl, dst, &r))
		fail_msg("no route %s", dst);
	assert_int_equal(r.type, RTN_UNICAST);
	assert_int_equal(r.nnh, 1);
	assert_int_equal(r.nh[0].ifindex, ifindex);
	if (gw == NULL) {
		assert_int_equal(r.nh[0].gw.family, 0);
		/* IPv6 routes have no scope to speak of */
		if (r.dst.a.family == AF_INET)
			assert_int_equal(r.scope, RT_SCOPE_LINK);
	} else {
		assert_int_equal(addr_parse(gw, &g), 0);
		assert_int_equal(addr_cmp(&r.nh[0].gw, &g), 0);
	}
}

/* the addresses of ifindex of family, as "a/len" joined by spaces */
static void
addrs_of(struct nl *nl, int family, int ifindex, char *buf, size_t len,
    uint32_t *flags)
{
	struct nl_addr *a = NULL;
	char err[256], p[PREFIX_STRLEN];
	size_t i, n = 0;

	assert_int_equal(
	    nl_addr_list(nl, family, ifindex, &a, &n, err, sizeof(err)), 0);
	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (addr_is_linklocal(&a[i].prefix.a))
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
		    buf[0] ? " " : "", prefix_ntop(&a[i].prefix, p, sizeof(p)));
		if (flags != NULL)
			*flags = a[i].flags;
	}
	free(a);
}

static uint16_t
cksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* one echo from inside ns to dst, three tries of a second: 0 if answered */
static int
ping(const char *ns, const char *dst)
{
	struct sockaddr_storage ss;
	struct addr a;
	struct pollfd pfd;
	uint8_t pkt[64], rbuf[1500];
	const uint8_t *icmp;
	socklen_t sl;
	uint16_t id = (uint16_t)getpid();
	bool v6;
	int fd, try, rc = -1;
	ssize_t n;

	assert_int_equal(addr_parse(dst, &a), 0);
	v6 = a.family == AF_INET6;
	enter(ns);
	fd = socket(a.family, SOCK_RAW, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	leave();
	assert_true(fd >= 0);
	sl = addr_to_sockaddr(&a, 0, &ss);
	for (try = 0; try < 3 && rc == -1; try++) {
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = v6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
		memcpy(pkt + 4, &id, 2);
		pkt[7] = (uint8_t)(try + 1);
		if (!v6) { /* the kernel sums ICMPv6 itself */
			uint16_t c = cksum(pkt, sizeof(pkt));
			memcpy(pkt + 2, &c, 2);
		}
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&ss,
		        sl) != (ssize_t)sizeof(pkt))
			continue;
		pfd.fd = fd;
		pfd.events = POLLIN;
		while (rc == -1 && poll(&pfd, 1, 1000) == 1) {
			if ((n = recv(fd, rbuf, sizeof(rbuf), 0)) <= 0)
				break;
			icmp = rbuf;
			if (!v6) { /* IPv4 raw sockets see the IP header */
				icmp += (rbuf[0] & 0xf) * 4;
				n -= (rbuf[0] & 0xf) * 4;
			}
			if (n >= 8 &&
			    icmp[0] ==
			        (v6 ? ICMP6_ECHO_REPLY : ICMP_ECHOREPLY) &&
			    memcmp(icmp + 4, &id, 2) == 0)
				rc = 0;
		}
	}
	close(fd);
	return rc;
}

/* an ADD that must work, and its netns socket */
static void
add_ok(const struct cni_wire *w, struct cni_wired *out)
{
	struct cni_error err = {0};

	if (cni_wire_add(w, out, &err) != 0)
		fail_msg("add %s: %d %s", w->host_ifname, err.code, err.msg);
}

static void
check_fails(const struct cni_wire *w, const char *what)
{
	struct cni_error err = {0};

	assert_int_equal(cni_wire_check(w, &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
	if (strstr(err.msg, what) == NULL)
		fail_msg("check said \"%s\", not \"%s\"", err.msg, what);
}

static void
check_ok(const struct cni_wire *w)
{
	struct cni_error err = {0};

	if (cni_wire_check(w, &err) != 0)
		fail_msg("check %s: %d %s", w->host_ifname, err.code, err.msg);
}

/* ---- tests ---- */

static void
test_host_ifname(void **state)
{
	char buf[32];

	/* printf %s default.pod1 | sha1sum: ce0906292e2b9fc7... */
	assert_int_equal(
	    cni_host_ifname(NULL, "default.pod1", "cid", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "calice0906292e2");
	/* 4d5f75c480cc7f4e... */
	assert_int_equal(
	    cni_host_ifname(NULL, "kube-system.coredns-5d78c9869d-abcde", NULL,
	        buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "cali4d5f75c480c");
	/* 0ad56bf5e97652f7... */
	assert_int_equal(
	    cni_host_ifname("tap", "ns.p", NULL, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tap0ad56bf5e97");
	/* not Kubernetes: sha1 of the container id, b1775a785f0... */
	assert_int_equal(
	    cni_host_ifname(NULL, NULL, "0123456789abcdef0123456789abcdef", buf,
	        sizeof(buf)),
	    0);
	assert_string_equal(buf, "calib1775a785f0");
	/* a9993e36470... */
	assert_int_equal(
	    cni_host_ifname(NULL, NULL, "abc", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "calia9993e36470");
	/* ids with a common prefix get different links */
	assert_int_equal(cni_host_ifname(NULL, NULL, "cnitool-1eb0000000001",
	                     buf, sizeof(buf)),
	    0);
	assert_string_not_equal(buf, "calicnitool-1e");
	{
		char other[32];

		assert_int_equal(
		    cni_host_ifname(NULL, NULL, "cnitool-1eb0000000002", other,
		        sizeof(other)),
		    0);
		assert_string_not_equal(buf, other);
	}
	/* no id at all */
	assert_int_equal(
	    cni_host_ifname(NULL, NULL, NULL, buf, sizeof(buf)), -1);
	assert_int_equal(cni_host_ifname(NULL, NULL, "", buf, sizeof(buf)), -1);
	/* what cannot be an interface name */
	assert_int_equal(
	    cni_host_ifname("ca/li", NULL, "abc", buf, sizeof(buf)), -1);
	assert_int_equal(cni_host_ifname("longprefix", "default.pod1", NULL,
	                     buf, sizeof(buf)),
	    -1);
	assert_int_equal(
	    cni_host_ifname(NULL, "default.pod1", NULL, buf, 15), -1);
	assert_int_equal(
	    cni_host_ifname(NULL, "default.pod1", NULL, buf, 16), 0);
}

/* what ADD checks before IPAM: a netns other than ours, and only that */
static void
test_netns_check(void **state)
{
	struct cni_error err = {0};
	char path[300];

	(void)state;
	assert_int_equal(cni_wire_netns_check(ns_new(), &err), 0);
	snprintf(path, sizeof(path), "%s/absent", T.dir);
	assert_int_equal(cni_wire_netns_check(path, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);
	assert_non_null(strstr(err.msg, "does not exist"));
	snprintf(path, sizeof(path), "%s/plain", T.dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(cni_wire_netns_check(path, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);
	assert_non_null(strstr(err.msg, "is not a network namespace"));
	/* a FIFO: refused at once, not waited on */
	snprintf(path, sizeof(path), "%s/fifo", T.dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(cni_wire_netns_check(path, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);
	assert_int_equal(cni_wire_netns_check("/proc/self/ns/net", &err), -1);
	assert_non_null(strstr(err.msg, "host's own"));
	assert_int_equal(cni_wire_netns_check("", &err), -1);
	assert_int_equal(cni_wire_netns_check(NULL, &err), -1);
}

static void
test_bad_input(void **state)
{
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};
	const char *bad[] = {"", "a/b", "eth 0", "..", "x234567890123456"};
	size_t i;

	/* refused before the netns is even looked at */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		wire_init(
		    &w, "/nonexistent", "calitbad", "198.18.0.1/32", NULL);
		w.ifname = bad[i];
		assert_int_equal(cni_wire_add(&w, &out, &err), -1);
		assert_int_equal(err.code, CNI_ERR_IO);
		assert_non_null(strstr(err.msg, "invalid"));
		w.ifname = "eth0";
		w.host_ifname = bad[i];
		assert_int_equal(cni_wire_add(&w, &out, &err), -1);
		assert_int_equal(err.code, CNI_ERR_IO);
		assert_int_equal(
		    cni_wire_del("/nonexistent", "eth0", bad[i], &err),
		    i == 0 ? 0 : -1);
	}
	wire_init(&w, "/nonexistent", "calitbad", "198.18.0.1/32", NULL);
	w.mtu = 67;
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_non_null(strstr(err.msg, "mtu"));
	w.mtu = 0;
	w.addrs[0].a.family = 0;
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_non_null(strstr(err.msg, "not an IP address"));
}

static void
test_add_v4(void **state)
{
	const char *ns = ns_new();
	struct nl *pod = ns_nl(ns);
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};
	struct nl_link_info li;
	char e[256], mac[NL_MAC_STRLEN], buf[256];

	wire_init(&w, ns, "calit1", "198.18.0.5/32", NULL);
	w.mtu = 1400;
	add_ok(&w, &out);

	/* the host end */
	assert_int_equal(nl_link_get(T.nl, "calit1", &li, e, sizeof(e)), 0);
	assert_int_equal(li.ifindex, out.host_ifindex);
	assert_string_equal(
	    nl_mac_ntop(li.mac, mac, sizeof(mac)), CNI_HOST_MAC);
	assert_int_equal(li.mtu, 1400);
	assert_true(li.flags & IFF_UP);
	assert_string_equal(li.kind, "veth");
	assert_int_equal(sysctl_get(NULL, "ipv4/conf/calit1/proxy_arp"), 1);
	assert_int_equal(sysctl_get(NULL, "ipv4/neigh/calit1/proxy_delay"), 0);
	assert_int_equal(sysctl_get(NULL, "ipv4/conf/calit1/forwarding"), 1);
	/* no IPv6 address: its sysctls are left alone */
	assert_int_equal(sysctl_get(NULL, "ipv6/conf/calit1/proxy_ndp"), 0);
	assert_route(T.nl, "198.18.0.5/32", out.host_ifindex, NULL);
	{
		struct nl_route r;

		assert_true(route_get(T.nl, "198.18.0.5/32", &r));
		assert_int_equal(r.protocol, RTPROT_BOOT);
	}

	/* the pod end */
	assert_int_equal(nl_link_get(pod, "eth0", &li, e, sizeof(e)), 0);
	assert_int_equal(li.ifindex, out.ifindex);
	assert_string_equal(nl_mac_ntop(li.mac, mac, sizeof(mac)), out.mac);
	assert_string_not_equal(out.mac, CNI_HOST_MAC);
	assert_int_equal(li.mtu, 1400);
	assert_true(li.flags & IFF_UP);
	addrs_of(pod, AF_INET, out.ifindex, buf, sizeof(buf), NULL);
	assert_string_equal(buf, "198.18.0.5/32");
	assert_route(pod, "169.254.1.1/32", out.ifindex, NULL);
	assert_route(pod, "0.0.0.0/0", out.ifindex, "169.254.1.1");
	assert_false(link_exists(T.nl, "eth0"));

	/* proxy ARP answers for 169.254.1.1; the host routes back */
	assert_int_equal(ping(ns, "192.0.2.1"), 0);
	check_ok(&w);

	assert_int_equal(cni_wire_del(ns, "eth0", "calit1", &err), 0);
	assert_false(link_exists(T.nl, "calit1"));
	assert_false(link_exists(pod, "eth0"));
	assert_false(route_get(T.nl, "198.18.0.5/32", &(struct nl_route){0}));
	nl_close(pod);
}

/* a pod whose runtime turned IPv6 off still gets its IPv6 address */
static void
test_v6_disabled(void **state)
{
	const char *ns = ns_new();
	struct cni_wire w;
	struct cni_wired out;

	(void)state;
	sh("nsenter --net=%s sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/"
	   "disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/default/"
	   "disable_ipv6'",
	    ns);
	assert_int_equal(sysctl_get(ns, "ipv6/conf/default/disable_ipv6"), 1);
	wire_init(
	    &w, ns, "calit3", "198.18.0.7/32", "2001:db8:42::7/128", NULL);
	add_ok(&w, &out);
	assert_int_equal(sysctl_get(ns, "ipv6/conf/all/disable_ipv6"), 0);
	assert_int_equal(sysctl_get(ns, "ipv6/conf/eth0/disable_ipv6"), 0);
	check_ok(&w);
}

static void
test_add_dual(void **state)
{
	const char *ns = ns_new();
	struct nl *pod = ns_nl(ns);
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};
	struct nl_addr *a = NULL;
	char e[256], buf[256];
	uint32_t flags = 0;
	size_t i, n = 0;
	bool ll = false;

	wire_init(
	    &w, ns, "calit2", "198.18.0.6/32", "2001:db8:42::6/128", NULL);
	add_ok(&w, &out);

	assert_int_equal(sysctl_get(NULL, "ipv6/conf/calit2/proxy_ndp"), 1);
	assert_int_equal(sysctl_get(NULL, "ipv6/conf/calit2/forwarding"), 1);
	assert_int_equal(sysctl_get(NULL, "ipv6/conf/calit2/accept_dad"), 0);
	assert_int_equal(sysctl_get(NULL, "ipv6/conf/calit2/accept_ra"), 0);
	assert_int_equal(sysctl_get(ns, "ipv6/conf/eth0/accept_dad"), 0);
	assert_int_equal(sysctl_get(NULL, "ipv4/conf/calit2/proxy_arp"), 1);
	/* the host side's link-local, usable at once (no DAD) */
	assert_int_equal(nl_addr_list(T.nl, AF_INET6, out.host_ifindex, &a, &n,
	                     e, sizeof(e)),
	    0);
	for (i = 0; i < n; i++)
		if (strcmp(prefix_ntop(&a[i].prefix, buf, sizeof(buf)),
		        CNI_GATEWAY6 "/64") == 0) {
			ll = true;
			assert_false(a[i].flags & IFA_F_TENTATIVE);
		}
	free(a);
	assert_true(ll);

	addrs_of(pod, AF_INET6, out.ifindex, buf, sizeof(buf), &flags);
	assert_string_equal(buf, "2001:db8:42::6/128");
	assert_true(flags & IFA_F_NODAD);
	addrs_of(pod, AF_INET, out.ifindex, buf, sizeof(buf), NULL);
	assert_string_equal(buf, "198.18.0.6/32");
	assert_route(pod, "::/0", out.ifindex, CNI_GATEWAY6);
	assert_route(pod, "0.0.0.0/0", out.ifindex, CNI_GATEWAY4);
	assert_route(T.nl, "2001:db8:42::6/128", out.host_ifindex, NULL);
	assert_route(T.nl, "198.18.0.6/32", out.host_ifindex, NULL);

	assert_int_equal(ping(ns, "2001:db8::1"), 0);
	assert_int_equal(ping(ns, "192.0.2.1"), 0);
	check_ok(&w);
	assert_int_equal(cni_wire_del(ns, "eth0", "calit2", &err), 0);
	assert_false(link_exists(T.nl, "calit2"));
	assert_false(
	    route_get(T.nl, "2001:db8:42::6/128", &(struct nl_route){0}));
	nl_close(pod);
}

static void
test_pod_to_pod(void **state)
{
	const char *a = ns_new(), *b = ns_new();
	struct cni_wire wa, wb;
	struct cni_wired oa, ob;

	wire_init(
	    &wa, a, "calita", "198.18.0.10/32", "2001:db8:42::10/128", NULL);
	wire_init(
	    &wb, b, "calitb", "198.18.0.11/32", "2001:db8:42::11/128", NULL);
	add_ok(&wa, &oa);
	add_ok(&wb, &ob);
	assert_int_equal(ping(a, "198.18.0.11"), 0);
	assert_int_equal(ping(b, "198.18.0.10"), 0);
	assert_int_equal(ping(a, "2001:db8:42::11"), 0);
	/* and not to an address nobody has */
	assert_int_equal(ping(a, "198.18.0.12"), -1);
}

static void
test_repeated_add(void **state)
{
	const char *ns = ns_new();
	struct nl *pod = ns_nl(ns);
	struct cni_wire w;
	struct cni_wired o1, o2;
	char buf[256];

	wire_init(&w, ns, "calit3", "198.18.0.7/32", NULL);
	add_ok(&w, &o1);
	/* the same container again, with another address: rebuilt */
	wire_init(&w, ns, "calit3", "198.18.0.8/32", NULL);
	add_ok(&w, &o2);
	assert_int_not_equal(o1.host_ifindex, o2.host_ifindex);
	addrs_of(pod, AF_INET, o2.ifindex, buf, sizeof(buf), NULL);
	assert_string_equal(buf, "198.18.0.8/32");
	assert_false(route_get(T.nl, "198.18.0.7/32", &(struct nl_route){0}));
	assert_route(T.nl, "198.18.0.8/32", o2.host_ifindex, NULL);
	check_ok(&w);
	assert_int_equal(ping(ns, "192.0.2.1"), 0);

	/* a stale host link of that name, from nothing we know, goes too */
	sh("ip link del calit3 && ip link add calit3 type veth peer name "
	   "calit3p");
	add_ok(&w, &o1);
	assert_false(link_exists(T.nl, "calit3p"));
	check_ok(&w);
	nl_close(pod);
}

/* a name that matches someone else's device: refused, the device kept */
static void
test_not_ours(void **state)
{
	const char *ns = ns_new();
	struct nl *pod = ns_nl(ns);
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};

	(void)state;
	wire_init(&w, ns, "calit5", "198.18.0.9/32", NULL, NULL);
	/* in the pod: a bridge called eth0 */
	sh("nsenter --net=%s ip link add eth0 type bridge", ns);
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
	assert_non_null(strstr(err.msg, "eth0 already exists in "));
	assert_non_null(strstr(err.msg, "is not a veth (bridge)"));
	assert_true(link_exists(pod, "eth0"));
	assert_false(link_exists(T.nl, "calit5"));
	sh("nsenter --net=%s ip link del eth0", ns);
	/* on the host: a bridge with the host end's name */
	sh("ip link add calit5 type bridge");
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_string_equal(err.msg,
	    "calit5 already exists and is not a veth (bridge): not touched");
	assert_true(link_exists(T.nl, "calit5"));
	assert_false(link_exists(pod, "eth0"));
	assert_false(route_get(T.nl, "198.18.0.9/32", &(struct nl_route){0}));
	sh("ip link del calit5");
	/* and with both gone it wires as usual */
	add_ok(&w, &out);
	check_ok(&w);
	nl_close(pod);
}

static void
test_no_netns(void **state)
{
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};
	char path[128], want[256];
	int fd;

	snprintf(path, sizeof(path), "%s/none", T.dir);
	wire_init(&w, path, "calit4", "198.18.0.4/32", NULL);
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);
	snprintf(want, sizeof(want), "netns %s does not exist", path);
	assert_string_equal(err.msg, want);
	assert_false(link_exists(T.nl, "calit4"));
	assert_false(route_get(T.nl, "198.18.0.4/32", &(struct nl_route){0}));
	assert_int_equal(cni_wire_check(&w, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);

	/* a file that is no netns */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);
	assert_non_null(strstr(err.msg, "not a network namespace"));
	assert_false(link_exists(T.nl, "calit4"));
	unlink(path);

	/* the host's own: its eth0 (here pmup1) must never be touched */
	w.netns = "/proc/self/ns/net";
	w.ifname = "pmup1";
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_NETNS);
	assert_true(link_exists(T.nl, "pmup1"));
	assert_false(link_exists(T.nl, "calit4"));
	assert_int_equal(cni_wire_del(w.netns, "pmup1", "calit4", &err), 0);
	assert_true(link_exists(T.nl, "pmup1"));
}

static void
test_route_taken(void **state)
{
	const char *ns = ns_new();
	struct nl *pod = ns_nl(ns);
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};
	struct nl_link_info li;
	char e[256];

	assert_int_equal(nl_link_get(T.nl, "pmup0", &li, e, sizeof(e)), 0);
	sh("ip route add 198.18.0.9/32 dev pmup0");
	wire_init(&w, ns, "calit5", "198.18.0.20/32", "198.18.0.9/32", NULL);
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_int_equal(err.code, CNI_ERR_IO);
	assert_string_equal(
	    err.msg, "198.18.0.9/32 is already routed via pmup0");
	/* nothing left: links, the pod side, the route that did go in */
	assert_false(link_exists(T.nl, "calit5"));
	assert_false(link_exists(pod, "eth0"));
	assert_false(route_get(T.nl, "198.18.0.20/32", &(struct nl_route){0}));
	assert_route(T.nl, "198.18.0.9/32", li.ifindex, NULL);
	sh("ip route del 198.18.0.9/32 dev pmup0");

	/* via a gateway, too */
	sh("ip route add 203.0.113.0/24 dev pmup0 && "
	   "ip route add 198.18.0.9/32 via 203.0.113.7");
	assert_int_equal(cni_wire_add(&w, &out, &err), -1);
	assert_string_equal(err.msg,
	    "198.18.0.9/32 is already routed via 203.0.113.7 dev pmup0");
	assert_false(link_exists(T.nl, "calit5"));
	sh("ip route del 198.18.0.9/32 && ip route del 203.0.113.0/24");
	nl_close(pod);
}

static void
test_del(void **state)
{
	const char *ns = ns_new();
	struct nl *pod = ns_nl(ns);
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};

	wire_init(&w, ns, "calit6", "198.18.0.30/32", NULL);
	add_ok(&w, &out);
	assert_int_equal(cni_wire_del(ns, "eth0", "calit6", &err), 0);
	assert_int_equal(cni_wire_del(ns, "eth0", "calit6", &err), 0);
	assert_int_equal(cni_wire_del(NULL, "eth0", "calit6", &err), 0);
	assert_int_equal(cni_wire_del("", NULL, NULL, &err), 0);

	/* the pod's end alone: deleted in the pod */
	sh("nsenter --net=%s ip link add eth0 type veth peer name eth1", ns);
	assert_true(link_exists(pod, "eth0"));
	assert_int_equal(cni_wire_del(ns, "eth0", "calit6", &err), 0);
	assert_false(link_exists(pod, "eth0"));
	assert_false(link_exists(pod, "eth1"));

	/* the netns gone first: the host end still goes */
	add_ok(&w, &out);
	ns_gone(ns);
	assert_int_equal(cni_wire_del(ns, "eth0", "calit6", &err), 0);
	assert_false(link_exists(T.nl, "calit6"));
	assert_int_equal(cni_wire_del(ns, "eth0", "calit6", &err), 0);
	nl_close(pod);
}

static void
test_check(void **state)
{
	const char *ns = ns_new();
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};

	wire_init(
	    &w, ns, "calit7", "198.18.0.40/32", "2001:db8:42::40/128", NULL);
	add_ok(&w, &out);
	check_ok(&w);

	sh("nsenter --net=%s ip route del default", ns);
	check_fails(&w, "route 0.0.0.0/0 via 169.254.1.1 dev eth0 is missing");
	add_ok(&w, &out);
	sh("nsenter --net=%s ip -6 route del default", ns);
	check_fails(&w, "route ::/0 via fe80::ecee:eeff:feee:eeee dev eth0");
	add_ok(&w, &out);
	sh("ip route del 198.18.0.40/32");
	check_fails(&w, "host: route 198.18.0.40/32 dev calit7 is missing");
	add_ok(&w, &out);
	sh("ip -6 route del 2001:db8:42::40/128");
	check_fails(&w, "route 2001:db8:42::40/128 dev calit7 is missing");
	add_ok(&w, &out);
	sh("nsenter --net=%s ip addr del 198.18.0.40/32 dev eth0", ns);
	check_fails(&w, "address 198.18.0.40/32 is missing on eth0");
	add_ok(&w, &out);
	write_file("/proc/sys/net/ipv4/conf/calit7/proxy_arp", "0");
	check_fails(&w, "proxy_arp is 0, not 1");
	add_ok(&w, &out);
	write_file("/proc/sys/net/ipv6/conf/calit7/proxy_ndp", "0");
	check_fails(&w, "proxy_ndp is 0, not 1");
	add_ok(&w, &out);
	sh("ip link set calit7 down");
	check_fails(&w, "calit7 is down");
	add_ok(&w, &out);
	sh("ip link set calit7 address 02:00:00:00:00:01");
	check_fails(&w, "MAC 02:00:00:00:00:01");
	add_ok(&w, &out);
	sh("nsenter --net=%s ip link set eth0 down", ns);
	check_fails(&w, "eth0 in");
	add_ok(&w, &out);
	check_ok(&w);
	assert_int_equal(cni_wire_del(ns, "eth0", "calit7", &err), 0);
	check_fails(&w, "calit7 does not exist");
}

static void
test_down(void **state)
{
	const char *ns = ns_new();
	struct cni_wire w;
	struct cni_wired out;
	struct cni_error err = {0};
	struct nl_link_info li;
	char e[256];

	wire_init(
	    &w, ns, "calit9", "198.18.0.60/32", "2001:db8:42::60/128", NULL);
	add_ok(&w, &out);
	assert_int_equal(cni_wire_down("calit9", &err), 0);
	/* down, still there, without its routes */
	assert_int_equal(nl_link_get(T.nl, "calit9", &li, e, sizeof(e)), 0);
	assert_false(li.flags & IFF_UP);
	assert_false(route_get(T.nl, "198.18.0.60/32", &(struct nl_route){0}));
	assert_false(
	    route_get(T.nl, "2001:db8:42::60/128", &(struct nl_route){0}));
	/* a CHECK now names what is wrong */
	assert_int_equal(cni_wire_check(&w, &err), -1);
	/* then deleted as usual */
	assert_int_equal(cni_wire_del(ns, "eth0", "calit9", &err), 0);
	assert_false(link_exists(T.nl, "calit9"));
	/* no such link, bad names */
	assert_int_equal(cni_wire_down("calit9", &err), 0);
	assert_int_equal(cni_wire_down("a/b", &err), -1);
	assert_int_equal(cni_wire_down(NULL, &err), -1);
	/* the same ADD right after */
	add_ok(&w, &out);
	check_ok(&w);
	assert_int_equal(ping(ns, "192.0.2.1"), 0);
	assert_int_equal(cni_wire_del(ns, "eth0", "calit9", &err), 0);
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
time_pairs(const char *what, const struct cni_wire *w)
{
	enum { N = TIMED_PAIRS };
	static long long add[N], pair[N];
	struct cni_wired out;
	struct cni_error err = {0};
	long long t0, t1, sum = 0;
	int i;

	for (i = 0; i < N; i++) {
		t0 = now_ns();
		add_ok(w, &out);
		t1 = now_ns();
		assert_int_equal(
		    cni_wire_del(w->netns, w->ifname, w->host_ifname, &err), 0);
		add[i] = t1 - t0;
		pair[i] = now_ns() - t0;
		sum += pair[i];
	}
	qsort(add, N, sizeof(add[0]), cmp_ll);
	qsort(pair, N, sizeof(pair[0]), cmp_ll);
	printf("wire_test: %d add+del pairs (%s): mean %.0f us, p50 %.0f us, "
	       "p99 %.0f us; add p50 %.0f us\n",
	    N, what, sum / (double)N / 1000, pair[N / 2] / 1000.0,
	    pair[N * 99 / 100] / 1000.0, add[N / 2] / 1000.0);
	assert_false(link_exists(T.nl, w->host_ifname));
}

static void
test_timing(void **state)
{
	const char *ns = ns_new();
	struct cni_wire w;

	wire_init(&w, ns, "calit8", "198.18.0.50/32", NULL);
	time_pairs("IPv4", &w);
	wire_init(
	    &w, ns, "calit8", "198.18.0.50/32", "2001:db8:42::50/128", NULL);
	time_pairs("dual stack", &w);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_ifname),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test_setup_teardown(test_netns_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_v4, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_dual, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v6_disabled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pod_to_pod, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_repeated_add, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_ours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_netns, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_route_taken, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_del, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_down, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_timing, setup, teardown),
	};

	log_init("wire_test", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
