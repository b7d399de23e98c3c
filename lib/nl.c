/*
 * Netlink core, routes, link and address messages (see nl.h).  libmnl gives
 * the socket and the message builders; answers are matched to requests by
 * sequence number here, so an error reply can carry the kernel's
 * extended-ACK text to the caller.
 *
 * Messages from the kernel are read through a bounded ibuf cursor: the fixed
 * header first, then attribute after attribute, each carved to its declared
 * length; a short header, an attribute running past its parent or bytes
 * left inside a next hop are errors, never guesses.
 *
 * Batches rely on two kernel rules: rtnetlink handles every message of one
 * sendmsg in order before the call returns, and it answers a request without
 * NLM_F_ACK only when it fails.  So only the last request of a send asks for
 * an ACK, and its answer closes the send.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "lib/ibuf.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "lib/xmalloc.h"

#define NL_RBUFSIZE (64 * 1024) /* a dump chunk is at most 32 KB */
#define NL_REQ_RCVBUF (4 * 1024 * 1024) /* room for a batch's error replies */
#define NL_REQ_SNDBUF (1024 * 1024)
#define NL_MON_RCVBUF (8 * 1024 * 1024)
#define NL_RECV_BUDGET 256 /* datagrams per nl_recv, then back to the loop */
#define NL_BATCH_BYTES (256 * 1024)
#define NL_ERR_TRUESIZE 1024 /* kernel memory one error reply may take */

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int groups;
	uint32_t seq;
	size_t sndbuf; /* as the kernel accounts it */
	size_t rcvbuf;
	uint8_t *rbuf;
};

struct nl_batch {
	struct nl *nl;
	nl_batch_cb *cb;
	void *arg;
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t maxreq; /* error replies that fit the receive buffer */
	size_t *offs; /* offset of each request in buf */
	size_t count; /* requests in buf */
	size_t first; /* index of the first of them */
	size_t next; /* index of the next request */
	uint32_t first_seq;
	int error; /* sticky until nl_batch_flush */
	char errmsg[256];
};

static void nl_sockbuf(struct nl *, int, int, int);
static int nl_errmsg(const struct nlmsghdr *, int *, const char **);
static int nl_attr_get(struct ibuf *, uint16_t *, struct ibuf *, const char **);
static int nl_get_addr(struct ibuf *, int, struct addr *);
static int nl_get_u32(struct ibuf *, uint32_t *);
static int nl_decode_multipath(
    struct ibuf *, struct nl_route *, char *, size_t);
static int nl_put_nexthops(struct nlmsghdr *, size_t, const struct nl_route *);
static bool nl_route_no_nexthops(uint8_t);
static int nl_msg_start(const struct nlmsghdr *, uint16_t, uint16_t, void *,
    size_t, struct ibuf *, char *, size_t);
static int nl_dump_cb(const struct nlmsghdr *, void *);
static int nl_batch_send(struct nl_batch *);

static const char *const nl_names[] = {
    [RTM_NEWLINK] = "RTM_NEWLINK",
    [RTM_DELLINK] = "RTM_DELLINK",
    [RTM_GETLINK] = "RTM_GETLINK",
    [RTM_SETLINK] = "RTM_SETLINK",
    [RTM_NEWADDR] = "RTM_NEWADDR",
    [RTM_DELADDR] = "RTM_DELADDR",
    [RTM_GETADDR] = "RTM_GETADDR",
    [RTM_NEWROUTE] = "RTM_NEWROUTE",
    [RTM_DELROUTE] = "RTM_DELROUTE",
    [RTM_GETROUTE] = "RTM_GETROUTE",
    [RTM_NEWNEIGH] = "RTM_NEWNEIGH",
    [RTM_DELNEIGH] = "RTM_DELNEIGH",
    [RTM_GETNEIGH] = "RTM_GETNEIGH",
};

const char *
nl_msg_name(uint16_t type, char *buf, size_t len)
{
	if (type < sizeof(nl_names) / sizeof(nl_names[0]) &&
	    nl_names[type] != NULL)
		return nl_names[type];
	snprintf(buf, len, "message %u", type);
	return buf;
}

/* best effort: the FORCE forms need CAP_NET_ADMIN, else rmem_max caps it */
static void
nl_sockbuf(struct nl *nl, int force, int plain, int size)
{
	int fd = mnl_socket_get_fd(nl->sock), v = 0;
	socklen_t vlen = sizeof(v);

	if (setsockopt(fd, SOL_SOCKET, force, &size, sizeof(size)) == -1)
		(void)setsockopt(fd, SOL_SOCKET, plain, &size, sizeof(size));
	if (getsockopt(fd, SOL_SOCKET, plain, &v, &vlen) == 0 && v > 0) {
		if (plain == SO_SNDBUF)
			nl->sndbuf = (size_t)v;
		else
			nl->rcvbuf = (size_t)v;
	}
}

struct nl *
nl_open(unsigned int groups, char *err, size_t errlen)
{
	struct nl *nl;
	int one = 1, fd;

	nl = xcalloc(1, sizeof(*nl));
	nl->groups = groups;
	nl->seq = (uint32_t)time(NULL);
	nl->sndbuf = nl->rcvbuf = 212992;
	if ((nl->sock = mnl_socket_open(NETLINK_ROUTE)) == NULL) {
		snprintf(err, errlen, "netlink socket: %s", strerror(errno));
		free(nl);
		return NULL;
	}
	/* optional: older kernels answer without these */
	(void)mnl_socket_setsockopt(
	    nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(
	    nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	if (groups == 0) {
		(void)mnl_socket_setsockopt(
		    nl->sock, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
		nl_sockbuf(nl, SO_SNDBUFFORCE, SO_SNDBUF, NL_REQ_SNDBUF);
		nl_sockbuf(nl, SO_RCVBUFFORCE, SO_RCVBUF, NL_REQ_RCVBUF);
	} else
		nl_sockbuf(nl, SO_RCVBUFFORCE, SO_RCVBUF, NL_MON_RCVBUF);
	if (mnl_socket_bind(nl->sock, groups, MNL_SOCKET_AUTOPID) == -1) {
		snprintf(err, errlen, "netlink bind: %s", strerror(errno));
		mnl_socket_close(nl->sock);
		free(nl);
		return NULL;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	fd = mnl_socket_get_fd(nl->sock);
	if (groups != 0 &&
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == -1) {
		snprintf(
		    err, errlen, "netlink O_NONBLOCK: %s", strerror(errno));
		mnl_socket_close(nl->sock);
		free(nl);
		return NULL;
	}
	(void)fcntl(fd, F_SETFD, FD_CLOEXEC);
	nl->rbuf = xmalloc(NL_RBUFSIZE);
	return nl;
}

void
nl_close(struct nl *nl)
{
	if (nl == NULL)
		return;
	mnl_socket_close(nl->sock);
	free(nl->rbuf);
	free(nl);
}

int
nl_fd(const struct nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

unsigned int
nl_portid(const struct nl *nl)
{
	return nl->portid;
}

/*
 * An NLMSG_ERROR: *error is the positive errno (0 for an ACK), *msg the
 * extended-ACK text or "".  -1 if the message is too short to say.
 */
static int
nl_errmsg(const struct nlmsghdr *nlh, int *error, const char **msg)
{
	struct nlmsgerr e;
	struct ibuf b, val;
	const char *why;
	const uint8_t *s;
	uint16_t type;

	*msg = "";
	ibuf_from_buffer(&b, nlh, nlh->nlmsg_len);
	if (ibuf_skip(&b, NLMSG_HDRLEN) == -1 ||
	    ibuf_get(&b, &e.error, sizeof(e.error)) == -1)
		return -1;
	*error = -e.error;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    ibuf_get(&b, &e.msg, sizeof(e.msg)) == -1)
		return 0;
	/* the request comes back whole unless NETLINK_CAP_ACK took */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    (e.msg.nlmsg_len < sizeof(e.msg) ||
	        ibuf_skip(&b, NLMSG_ALIGN(e.msg.nlmsg_len) - sizeof(e.msg)) ==
	            -1))
		return 0;
	while (ibuf_size(&b) > 0 && nl_attr_get(&b, &type, &val, &why) == 0) {
		s = ibuf_data(&val);
		if (type == NLMSGERR_ATTR_MSG && ibuf_size(&val) > 0 &&
		    s[ibuf_size(&val) - 1] == '\0')
			*msg = (const char *)s;
	}
	return 0;
}

int
nl_talk(struct nl *nl, struct nlmsghdr *req, nl_msg_cb *cb, void *arg,
    char *err, size_t errlen)
{
	const struct nlmsghdr *nlh;
	const char *ext;
	char nb[32];
	bool dump, done = false, stopped = false;
	int error = 0, r, rc = 0;
	ssize_t n;
	int left;
	uint32_t seq;

	dump = (req->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (!dump)
		req->nlmsg_flags |= NLM_F_ACK;
	req->nlmsg_flags |= NLM_F_REQUEST;
	req->nlmsg_seq = seq = ++nl->seq;
	req->nlmsg_pid = 0;
	if (mnl_socket_sendto(nl->sock, req, req->nlmsg_len) < 0) {
		snprintf(err, errlen, "%s: send: %s",
		    nl_msg_name(req->nlmsg_type, nb, sizeof(nb)),
		    strerror(errno));
		return -1;
	}
	while (!done) {
		n = mnl_socket_recvfrom(nl->sock, nl->rbuf, NL_RBUFSIZE);
		if (n < 0) {
			error = errno;
			snprintf(err, errlen, "%s: receive: %s",
			    nl_msg_name(req->nlmsg_type, nb, sizeof(nb)),
			    strerror(error));
			errno = error;
			return -1;
		}
		nlh = (const struct nlmsghdr *)nl->rbuf;
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq != seq ||
			    (nlh->nlmsg_pid != 0 &&
			        nlh->nlmsg_pid != nl->portid))
				continue; /* a late answer to an old request */
			if (nlh->nlmsg_type == NLMSG_DONE) {
				done = true;
				if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
					rc = -1;
					error = EINTR;
					snprintf(err, errlen,
					    "%s: dump interrupted by a change",
					    nl_msg_name(req->nlmsg_type, nb,
					        sizeof(nb)));
				}
				break;
			}
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				done = true;
				if (nl_errmsg(nlh, &error, &ext) == -1) {
					error = EBADMSG;
					ext = "short error message";
				}
				if (error != 0) {
					rc = -1;
					snprintf(err, errlen, "%s: %s%s%s",
					    nl_msg_name(req->nlmsg_type, nb,
					        sizeof(nb)),
					    strerror(error), *ext ? ": " : "",
					    ext);
				}
				break;
			}
			/* after a stop, drain: the next request reads clean */
			if (nlh->nlmsg_type == NLMSG_NOOP || cb == NULL ||
			    stopped)
				continue;
			if ((r = cb(nlh, arg)) == MNL_CB_STOP)
				stopped = true;
			else if (r == MNL_CB_ERROR) {
				stopped = true;
				rc = -1;
				error = errno ? errno : EPROTO;
				snprintf(err, errlen, "%s: %s",
				    nl_msg_name(
				        req->nlmsg_type, nb, sizeof(nb)),
				    strerror(error));
			}
		}
	}
	if (rc == -1)
		errno = error;
	return rc;
}

int
nl_recv(struct nl *nl, nl_msg_cb *cb, void *arg)
{
	const struct nlmsghdr *nlh;
	ssize_t n;
	int left;
	int i;

	for (i = 0; i < NL_RECV_BUDGET; i++) {
		n = mnl_socket_recvfrom(nl->sock, nl->rbuf, NL_RBUFSIZE);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				return 0;
			return -1;
		}
		nlh = (const struct nlmsghdr *)nl->rbuf;
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type == NLMSG_NOOP ||
			    nlh->nlmsg_type == NLMSG_DONE)
				continue;
			if (cb(nlh, arg) == MNL_CB_ERROR)
				return -1;
		}
	}
	return 0;
}

/* ---- route codec ---- */

/*
 * The next attribute of b: its type, and its value carved as a view.  The
 * padding after a value must be there unless the value ends the buffer.
 */
static int
nl_attr_get(struct ibuf *b, uint16_t *type, struct ibuf *val, const char **why)
{
	struct nlattr nla;
	size_t pad;

	if (ibuf_get(b, &nla, sizeof(nla)) == -1) {
		*why = "truncated attribute header";
		return -1;
	}
	if (nla.nla_len < sizeof(nla)) {
		*why = "attribute length shorter than its header";
		return -1;
	}
	if (ibuf_get_ibuf(b, nla.nla_len - sizeof(nla), val) == -1) {
		*why = "attribute runs past its message";
		return -1;
	}
	pad = NLA_ALIGN(nla.nla_len) - nla.nla_len;
	if (ibuf_size(b) > 0 && ibuf_skip(b, pad) == -1) {
		*why = "truncated attribute padding";
		return -1;
	}
	*type = nla.nla_type & NLA_TYPE_MASK;
	return 0;
}

/* exactly one address of family, nothing more */
static int
nl_get_addr(struct ibuf *v, int family, struct addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ibuf_size(v) != (size_t)addr_bytes(family))
		return -1;
	a->family = (uint8_t)family;
	return ibuf_get(v, a->b, ibuf_size(v));
}

/* netlink integers are in host order */
static int
nl_get_u32(struct ibuf *v, uint32_t *u)
{
	if (ibuf_size(v) != sizeof(*u))
		return -1;
	return ibuf_get(v, u, sizeof(*u));
}

static int
nl_decode_multipath(struct ibuf *mp, struct nl_route *r, char *err, size_t len)
{
	struct rtnexthop rtnh;
	struct nl_nexthop *nh;
	struct ibuf sub, val;
	const char *why;
	uint16_t type;
	size_t pad;

	while (ibuf_size(mp) > 0) {
		if (ibuf_get(mp, &rtnh, sizeof(rtnh)) == -1) {
			snprintf(err, len, "RTA_MULTIPATH: truncated next hop");
			return -1;
		}
		if (rtnh.rtnh_len < sizeof(rtnh) ||
		    ibuf_get_ibuf(mp, rtnh.rtnh_len - sizeof(rtnh), &sub) ==
		        -1) {
			snprintf(err, len,
			    "RTA_MULTIPATH: next hop length %u out of bounds",
			    rtnh.rtnh_len);
			return -1;
		}
		pad = RTNH_ALIGN(rtnh.rtnh_len) - rtnh.rtnh_len;
		if (ibuf_size(mp) > 0 && ibuf_skip(mp, pad) == -1) {
			snprintf(err, len, "RTA_MULTIPATH: truncated padding");
			return -1;
		}
		if (r->nnh == NL_MAXNH) {
			snprintf(err, len,
			    "RTA_MULTIPATH: more than %d next hops", NL_MAXNH);
			return -1;
		}
		nh = &r->nh[r->nnh++];
		nh->ifindex = (unsigned int)rtnh.rtnh_ifindex;
		nh->onlink = (rtnh.rtnh_flags & RTNH_F_ONLINK) != 0;
		nh->weight = rtnh.rtnh_hops < 255 ? rtnh.rtnh_hops + 1 : 255;
		while (ibuf_size(&sub) > 0) {
			if (nl_attr_get(&sub, &type, &val, &why) == -1) {
				snprintf(err, len, "RTA_MULTIPATH: %s", why);
				return -1;
			}
			if (type == RTA_GATEWAY &&
			    nl_get_addr(&val, r->dst.a.family, &nh->gw) == -1) {
				snprintf(err, len,
				    "RTA_MULTIPATH: RTA_GATEWAY of %zu bytes",
				    ibuf_size(&val));
				return -1;
			}
		}
	}
	if (r->nnh == 0) {
		snprintf(err, len, "empty RTA_MULTIPATH");
		return -1;
	}
	return 0;
}

/* route types that forward nowhere */
static bool
nl_route_no_nexthops(uint8_t type)
{
	return type == RTN_BLACKHOLE || type == RTN_UNREACHABLE ||
	    type == RTN_PROHIBIT || type == RTN_THROW;
}

int
nl_route_decode(
    const struct nlmsghdr *nlh, struct nl_route *r, char *err, size_t len)
{
	struct ibuf b, val;
	struct rtmsg rtm;
	struct addr gw;
	const char *why;
	uint32_t u, oif = 0;
	uint16_t type;
	bool dst = false, single = false, multi = false;

	memset(r, 0, sizeof(*r));
	memset(&gw, 0, sizeof(gw));
	if (nlh->nlmsg_len < sizeof(*nlh)) {
		snprintf(err, len, "message shorter than its header");
		return -1;
	}
	if (nlh->nlmsg_type != RTM_NEWROUTE &&
	    nlh->nlmsg_type != RTM_DELROUTE) {
		snprintf(err, len, "message type %u is not a route",
		    nlh->nlmsg_type);
		return -1;
	}
	ibuf_from_buffer(&b, nlh, nlh->nlmsg_len);
	if (ibuf_skip(&b, NLMSG_HDRLEN) == -1 ||
	    ibuf_get(&b, &rtm, sizeof(rtm)) == -1 ||
	    ibuf_skip(&b, NLMSG_ALIGN(sizeof(rtm)) - sizeof(rtm)) == -1) {
		snprintf(err, len, "truncated rtmsg");
		return -1;
	}
	if (rtm.rtm_family != AF_INET && rtm.rtm_family != AF_INET6) {
		snprintf(err, len, "address family %u", rtm.rtm_family);
		return -1;
	}
	if (rtm.rtm_dst_len > addr_maxlen(rtm.rtm_family)) {
		snprintf(err, len, "prefix length %u", rtm.rtm_dst_len);
		return -1;
	}
	r->dst.a.family = rtm.rtm_family;
	r->dst.len = rtm.rtm_dst_len;
	r->type = rtm.rtm_type;
	r->protocol = rtm.rtm_protocol;
	r->scope = rtm.rtm_scope;
	r->table = rtm.rtm_table;
	while (ibuf_size(&b) > 0) {
		if (nl_attr_get(&b, &type, &val, &why) == -1) {
			snprintf(err, len, "%s", why);
			return -1;
		}
		switch (type) {
		case RTA_DST:
			if (nl_get_addr(&val, rtm.rtm_family, &r->dst.a) == -1)
				goto badlen;
			dst = true;
			break;
		case RTA_GATEWAY:
			if (nl_get_addr(&val, rtm.rtm_family, &gw) == -1)
				goto badlen;
			single = true;
			break;
		case RTA_OIF:
			if (nl_get_u32(&val, &oif) == -1)
				goto badlen;
			single = true;
			break;
		case RTA_PRIORITY:
			if (nl_get_u32(&val, &r->priority) == -1)
				goto badlen;
			break;
		case RTA_TABLE:
			if (nl_get_u32(&val, &u) == -1)
				goto badlen;
			r->table = u;
			break;
		case RTA_MULTIPATH:
			if (multi) {
				snprintf(err, len, "RTA_MULTIPATH twice");
				return -1;
			}
			multi = true;
			if (nl_decode_multipath(&val, r, err, len) == -1)
				return -1;
			break;
		default:
			break; /* metrics, cache info, preferences, ... */
		}
	}
	if (rtm.rtm_dst_len > 0 && !dst) {
		snprintf(
		    err, len, "/%u route without RTA_DST", rtm.rtm_dst_len);
		return -1;
	}
	if (single && multi) {
		snprintf(err, len, "both RTA_MULTIPATH and a single next hop");
		return -1;
	}
	if (single) {
		r->nnh = 1;
		r->nh[0].gw = gw;
		r->nh[0].ifindex = oif;
		r->nh[0].onlink = (rtm.rtm_flags & RTNH_F_ONLINK) != 0;
		r->nh[0].weight = 1;
	}
	/* IPv6 gives these the loopback device; it is no next hop */
	if (nl_route_no_nexthops(r->type)) {
		r->nnh = 0;
		memset(r->nh, 0, sizeof(r->nh));
	}
	return 0;

badlen:
	snprintf(
	    err, len, "attribute %u: bad length %zu", type, ibuf_size(&val));
	return -1;
}

bool
nl_route_is_clone(const struct nlmsghdr *nlh)
{
	const struct rtmsg *rtm;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)))
		return false;
	rtm = mnl_nlmsg_get_payload(nlh);
	return (rtm->rtm_flags & RTM_F_CLONED) != 0;
}

int
nl_route_peek(const struct nlmsghdr *nlh, uint8_t *family, uint8_t *protocol,
    uint32_t *table)
{
	struct ibuf b, val;
	struct rtmsg rtm;
	const char *why;
	uint16_t type;
	uint32_t u;

	if (nlh->nlmsg_len < sizeof(*nlh) ||
	    (nlh->nlmsg_type != RTM_NEWROUTE &&
	        nlh->nlmsg_type != RTM_DELROUTE))
		return -1;
	ibuf_from_buffer(&b, nlh, nlh->nlmsg_len);
	if (ibuf_skip(&b, NLMSG_HDRLEN) == -1 ||
	    ibuf_get(&b, &rtm, sizeof(rtm)) == -1 ||
	    ibuf_skip(&b, NLMSG_ALIGN(sizeof(rtm)) - sizeof(rtm)) == -1)
		return -1;
	*family = rtm.rtm_family;
	*protocol = rtm.rtm_protocol;
	*table = rtm.rtm_table;
	while (ibuf_size(&b) > 0) {
		if (nl_attr_get(&b, &type, &val, &why) == -1)
			return -1;
		if (type == RTA_TABLE && nl_get_u32(&val, &u) == 0)
			*table = u;
	}
	return 0;
}

/* the next hops of a unicast route: single attributes or RTA_MULTIPATH */
static int
nl_put_nexthops(struct nlmsghdr *nlh, size_t room, const struct nl_route *r)
{
	const struct nl_nexthop *nh;
	struct rtnexthop *rtnh;
	struct nlattr *mp;
	size_t alen = (size_t)addr_bytes(r->dst.a.family);
	unsigned int i;

	if (r->nnh == 1) {
		nh = &r->nh[0];
		if (nh->gw.family != 0 &&
		    !mnl_attr_put_check(nlh, room, RTA_GATEWAY, alen, nh->gw.b))
			return -1;
		if (nh->ifindex != 0 &&
		    !mnl_attr_put_u32_check(nlh, room, RTA_OIF, nh->ifindex))
			return -1;
		return 0;
	}
	if ((mp = mnl_attr_nest_start_check(nlh, room, RTA_MULTIPATH)) == NULL)
		return -1;
	mp->nla_type = RTA_MULTIPATH; /* iproute2's form: no NLA_F_NESTED */
	for (i = 0; i < r->nnh; i++) {
		nh = &r->nh[i];
		if (nlh->nlmsg_len + RTNH_ALIGN(sizeof(*rtnh)) > room)
			return -1;
		rtnh = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtnh));
		rtnh->rtnh_flags = nh->onlink ? RTNH_F_ONLINK : 0;
		rtnh->rtnh_hops = nh->weight > 1 ? nh->weight - 1 : 0;
		rtnh->rtnh_ifindex = (int)nh->ifindex;
		if (nh->gw.family != 0 &&
		    !mnl_attr_put_check(nlh, room, RTA_GATEWAY, alen, nh->gw.b))
			return -1;
		rtnh->rtnh_len =
		    (unsigned short)((uint8_t *)mnl_nlmsg_get_payload_tail(
		                         nlh) -
		        (uint8_t *)rtnh);
	}
	mnl_attr_nest_end(nlh, mp);
	return 0;
}

int
nl_route_encode(void *buf, size_t room, uint16_t type, uint16_t flags,
    const struct nl_route *r)
{
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	struct prefix dst;
	unsigned int i;
	bool gateway = false;

	if ((r->dst.a.family != AF_INET && r->dst.a.family != AF_INET6) ||
	    r->dst.len > addr_maxlen(r->dst.a.family) || r->nnh > NL_MAXNH ||
	    (type != RTM_NEWROUTE && type != RTM_DELROUTE))
		goto inval;
	for (i = 0; i < r->nnh; i++) {
		if (r->nh[i].gw.family != 0 &&
		    r->nh[i].gw.family != r->dst.a.family)
			goto inval; /* RTA_VIA is not ours to need */
		if (r->nh[i].gw.family == 0 && r->nh[i].ifindex == 0)
			goto inval;
		if (r->nh[i].gw.family != 0)
			gateway = true;
	}
	if (type == RTM_NEWROUTE &&
	    ((r->type == RTN_UNICAST && r->nnh == 0) ||
	        (r->type != RTN_UNICAST && r->nnh != 0)))
		goto inval;
	if (room < NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*rtm)))
		goto nospace;

	dst = r->dst;
	prefix_mask(&dst);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = dst.a.family;
	rtm->rtm_dst_len = dst.len;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = r->protocol;
	if (type == RTM_DELROUTE) {
		/* iproute2's form: match the route, whatever its next hops */
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
		rtm->rtm_type = RTN_UNSPEC;
	} else {
		rtm->rtm_type = r->type;
		rtm->rtm_scope = r->type == RTN_UNICAST && !gateway
		    ? RT_SCOPE_LINK
		    : RT_SCOPE_UNIVERSE;
		if (r->nnh == 1 && r->nh[0].onlink)
			rtm->rtm_flags |= RTNH_F_ONLINK;
	}
	if (!mnl_attr_put_check(
	        nlh, room, RTA_DST, (size_t)addr_bytes(dst.a.family), dst.a.b))
		goto nospace;
	if (r->table >= 256 &&
	    !mnl_attr_put_u32_check(nlh, room, RTA_TABLE, r->table))
		goto nospace;
	if (r->priority != 0 &&
	    !mnl_attr_put_u32_check(nlh, room, RTA_PRIORITY, r->priority))
		goto nospace;
	if (type == RTM_NEWROUTE && r->nnh > 0 &&
	    nl_put_nexthops(nlh, room, r) == -1)
		goto nospace;
	return (int)nlh->nlmsg_len;

nospace:
	errno = ENOSPC;
	return -1;
inval:
	errno = EINVAL;
	return -1;
}

const char *
nl_route_ntop(const struct nl_route *r, char *buf, size_t len)
{
	char a[PREFIX_STRLEN];
	const struct nl_nexthop *nh;
	size_t off = 0;
	unsigned int i;

#define NL_PUT(...)                                                            \
	do {                                                                   \
		if (off < len)                                                 \
			off += (size_t)snprintf(                               \
			    buf + off, len - off, __VA_ARGS__);                \
	} while (0)

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (r->type == RTN_BLACKHOLE)
		NL_PUT("blackhole ");
	else if (r->type != RTN_UNICAST)
		NL_PUT("type %u ", r->type);
	NL_PUT("%s", prefix_ntop(&r->dst, a, sizeof(a)));
	for (i = 0; i < r->nnh; i++) {
		nh = &r->nh[i];
		if (r->nnh > 1)
			NL_PUT(" nexthop");
		if (nh->gw.family != 0)
			NL_PUT(" via %s", addr_ntop(&nh->gw, a, sizeof(a)));
		if (nh->ifindex != 0)
			NL_PUT(" dev %u", nh->ifindex);
		if (nh->onlink)
			NL_PUT(" onlink");
		if (r->nnh > 1 && nh->weight > 1)
			NL_PUT(" weight %u", nh->weight);
	}
	if (r->table != RT_TABLE_MAIN)
		NL_PUT(" table %u", r->table);
	NL_PUT(" proto %u", r->protocol);
	if (r->priority != 0)
		NL_PUT(" metric %u", r->priority);
#undef NL_PUT
	return buf;
}

/* ---- link and address notifications ---- */

/*
 * The message's fixed header (one of two types) copied into hdr, and b left
 * on its attributes.
 */
static int
nl_msg_start(const struct nlmsghdr *nlh, uint16_t t1, uint16_t t2, void *hdr,
    size_t hdrlen, struct ibuf *b, char *err, size_t len)
{
	if (nlh->nlmsg_len < sizeof(*nlh)) {
		snprintf(err, len, "message shorter than its header");
		return -1;
	}
	if (nlh->nlmsg_type != t1 && nlh->nlmsg_type != t2) {
		snprintf(err, len, "message type %u is not %s", nlh->nlmsg_type,
		    t1 == RTM_NEWLINK ? "a link" : "an address");
		return -1;
	}
	ibuf_from_buffer(b, nlh, nlh->nlmsg_len);
	if (ibuf_skip(b, NLMSG_HDRLEN) == -1 ||
	    ibuf_get(b, hdr, hdrlen) == -1 ||
	    ibuf_skip(b, NLMSG_ALIGN(hdrlen) - hdrlen) == -1) {
		snprintf(err, len, "truncated %s",
		    t1 == RTM_NEWLINK ? "ifinfomsg" : "ifaddrmsg");
		return -1;
	}
	return 0;
}

int
nl_ifinfo_decode(
    const struct nlmsghdr *nlh, struct nl_ifinfo *li, char *err, size_t len)
{
	struct ifinfomsg ifi;
	struct ibuf b, val;
	const char *why;
	const uint8_t *s;
	uint16_t type;
	size_t n;

	memset(li, 0, sizeof(*li));
	if (nl_msg_start(nlh, RTM_NEWLINK, RTM_DELLINK, &ifi, sizeof(ifi), &b,
	        err, len) == -1)
		return -1;
	if (ifi.ifi_index <= 0) {
		snprintf(err, len, "interface index %d", ifi.ifi_index);
		return -1;
	}
	li->ifindex = (unsigned int)ifi.ifi_index;
	li->flags = ifi.ifi_flags;
	while (ibuf_size(&b) > 0) {
		if (nl_attr_get(&b, &type, &val, &why) == -1) {
			snprintf(err, len, "%s", why);
			return -1;
		}
		if (type != IFLA_IFNAME)
			continue;
		s = ibuf_data(&val);
		n = ibuf_size(&val);
		if (n == 0 || memchr(s, '\0', n) == NULL ||
		    strlen((const char *)s) >= sizeof(li->name)) {
			snprintf(err, len, "IFLA_IFNAME of %zu bytes, %s", n,
			    n == 0 || memchr(s, '\0', n) == NULL
			        ? "without its NUL"
			        : "too long");
			return -1;
		}
		memcpy(li->name, s, strlen((const char *)s) + 1);
	}
	return 0;
}

int
nl_ifaddr_decode(
    const struct nlmsghdr *nlh, struct nl_ifaddr *ia, char *err, size_t len)
{
	struct ifaddrmsg ifa;
	struct ibuf b, val;
	struct addr a;
	const char *why;
	uint16_t type;
	bool local = false, address = false;

	memset(ia, 0, sizeof(*ia));
	if (nl_msg_start(nlh, RTM_NEWADDR, RTM_DELADDR, &ifa, sizeof(ifa), &b,
	        err, len) == -1)
		return -1;
	if (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6) {
		snprintf(err, len, "address family %u", ifa.ifa_family);
		return -1;
	}
	if (ifa.ifa_prefixlen > addr_maxlen(ifa.ifa_family)) {
		snprintf(err, len, "prefix length %u", ifa.ifa_prefixlen);
		return -1;
	}
	if (ifa.ifa_index == 0) {
		snprintf(err, len, "interface index 0");
		return -1;
	}
	ia->ifindex = ifa.ifa_index;
	ia->scope = ifa.ifa_scope;
	ia->prefix.len = ifa.ifa_prefixlen;
	while (ibuf_size(&b) > 0) {
		if (nl_attr_get(&b, &type, &val, &why) == -1) {
			snprintf(err, len, "%s", why);
			return -1;
		}
		if (type != IFA_LOCAL && type != IFA_ADDRESS)
			continue;
		if (nl_get_addr(&val, ifa.ifa_family, &a) == -1) {
			snprintf(err, len, "attribute %u: bad length %zu", type,
			    ibuf_size(&val));
			return -1;
		}
		/* IFA_LOCAL is ours; IFA_ADDRESS is the peer on a tunnel */
		if (type == IFA_LOCAL) {
			ia->prefix.a = a;
			local = true;
		} else if (!local) {
			ia->prefix.a = a;
			address = true;
		}
	}
	if (!local && !address) {
		snprintf(err, len, "no IFA_LOCAL or IFA_ADDRESS");
		return -1;
	}
	return 0;
}

/* ---- dumps ---- */

struct nl_dump {
	uint8_t protocol;
	uint32_t table;
	nl_route_cb *cb;
	void *arg;
};

static int
nl_dump_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nl_dump *d = arg;
	struct nl_route r;
	char err[128];
	uint8_t family, protocol;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE || nl_route_is_clone(nlh))
		return MNL_CB_OK;
	if (nl_route_peek(nlh, &family, &protocol, &table) == -1)
		return MNL_CB_OK;
	/* the kernel filters too, but only with strict checking */
	if ((d->protocol != 0 && protocol != d->protocol) ||
	    (d->table != 0 && table != d->table))
		return MNL_CB_OK;
	if (nl_route_decode(nlh, &r, err, sizeof(err)) == -1) {
		log_warnx("netlink route dump: skipping a route: %s", err);
		return MNL_CB_OK;
	}
	return d->cb(&r, d->arg);
}

int
nl_route_dump(struct nl *nl, int family, uint8_t protocol, uint32_t table,
    nl_route_cb *cb, void *arg, char *err, size_t errlen)
{
	uint8_t buf[NL_BUFSIZE];
	struct nl_dump d = {protocol, table, cb, arg};
	struct nlmsghdr *nlh;
	struct rtmsg *rtm;
	int tries;

	for (tries = 0;; tries++) {
		nlh = mnl_nlmsg_put_header(buf);
		nlh->nlmsg_type = RTM_GETROUTE;
		nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
		rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
		rtm->rtm_family = (uint8_t)family;
		rtm->rtm_protocol = protocol;
		if (table != 0 && table < 256)
			rtm->rtm_table = (uint8_t)table;
		else if (table != 0)
			mnl_attr_put_u32(nlh, RTA_TABLE, table);
		if (nl_talk(nl, nlh, nl_dump_cb, &d, err, errlen) == 0)
			return 0;
		/* an interrupted dump is retried whole; callers are idempotent
		 */
		if (errno != EINTR || tries == 3)
			return -1;
	}
}

/* ---- batches ---- */

struct nl_batch *
nl_batch_new(struct nl *nl, nl_batch_cb *cb, void *arg)
{
	struct nl_batch *b;

	b = xcalloc(1, sizeof(*b));
	b->nl = nl;
	b->cb = cb;
	b->arg = arg;
	b->cap = NL_BATCH_BYTES;
	/* netlink refuses a send longer than the send buffer */
	if (nl->sndbuf > 4096 && b->cap > nl->sndbuf - 1024)
		b->cap = nl->sndbuf - 1024;
	b->maxreq = nl->rcvbuf / NL_ERR_TRUESIZE;
	if (b->maxreq < 16)
		b->maxreq = 16;
	b->buf = xmalloc(b->cap);
	b->offs = xreallocarray(NULL, b->maxreq, sizeof(*b->offs));
	return b;
}

void
nl_batch_free(struct nl_batch *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	free(b->offs);
	free(b);
}

size_t
nl_batch_pending(const struct nl_batch *b)
{
	return b->count;
}

size_t
nl_batch_route(
    struct nl_batch *b, uint16_t type, uint16_t flags, const struct nl_route *r)
{
	struct nlmsghdr *nlh;
	size_t index = b->next++;
	int n;

	if (b->count == b->maxreq)
		(void)nl_batch_send(b);
	n = nl_route_encode(b->buf + b->len, b->cap - b->len, type, flags, r);
	if (n == -1 && errno == ENOSPC && b->count > 0) {
		(void)nl_batch_send(b);
		n = nl_route_encode(b->buf, b->cap, type, flags, r);
	}
	if (n == -1) {
		b->cb(b->arg, index, NULL, errno, "cannot encode the route");
		return index;
	}
	nlh = (struct nlmsghdr *)(b->buf + b->len);
	nlh->nlmsg_flags &= ~NLM_F_ACK;
	nlh->nlmsg_seq = ++b->nl->seq;
	if (b->count == 0) {
		b->first = index;
		b->first_seq = nlh->nlmsg_seq;
	}
	b->offs[b->count++] = b->len;
	b->len += (size_t)n;
	return index;
}

/* sends the buffer and reads answers until the one for its last request */
static int
nl_batch_send(struct nl_batch *b)
{
	struct nl *nl = b->nl;
	struct nlmsghdr *last;
	const struct nlmsghdr *nlh, *req;
	const char *ext;
	uint32_t last_seq, i;
	ssize_t n;
	int left;
	int error, rc = 0;
	bool done = false;

	if (b->count == 0)
		return 0;
	last = (struct nlmsghdr *)(b->buf + b->offs[b->count - 1]);
	last->nlmsg_flags |= NLM_F_ACK;
	last_seq = last->nlmsg_seq;
	if (mnl_socket_sendto(nl->sock, b->buf, b->len) < 0) {
		error = errno;
		snprintf(b->errmsg, sizeof(b->errmsg),
		    "netlink batch of %zu: send: %s", b->count,
		    strerror(error));
		b->error = error;
		rc = -1;
		done = true;
	}
	while (!done) {
		n = mnl_socket_recvfrom(nl->sock, nl->rbuf, NL_RBUFSIZE);
		if (n < 0) {
			error = errno;
			snprintf(b->errmsg, sizeof(b->errmsg),
			    "netlink batch of %zu: receive: %s", b->count,
			    strerror(error));
			b->error = error;
			rc = -1;
			break;
		}
		nlh = (const struct nlmsghdr *)nl->rbuf;
		left = (int)n;
		for (; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			i = nlh->nlmsg_seq - b->first_seq;
			if (i >= b->count)
				continue; /* not of this send */
			if (nl_errmsg(nlh, &error, &ext) == -1) {
				error = EBADMSG;
				ext = "short error message";
			}
			if (error != 0) {
				req = (const struct nlmsghdr *)(b->buf +
				    b->offs[i]);
				b->cb(b->arg, b->first + i, req, error, ext);
			}
			if (nlh->nlmsg_seq == last_seq)
				done = true;
		}
	}
	b->len = 0;
	b->count = 0;
	return rc;
}

int
nl_batch_flush(struct nl_batch *b, char *err, size_t errlen)
{
	int rc;

	(void)nl_batch_send(b);
	b->next = 0;
	rc = b->error != 0 ? -1 : 0;
	if (rc == -1) {
		snprintf(err, errlen, "%s", b->errmsg);
		errno = b->error;
	}
	b->error = 0;
	b->errmsg[0] = '\0';
	return rc;
}
