/*
 * Netlink (NETLINK_ROUTE) over libmnl: a socket, one request and its answer,
 * and the route codec, batches and dumps on top of it.  The link, address
 * and neighbour helpers (lib/nl_link.c) are written against the same core.
 *
 * Messages from the kernel are input like any other: the route, link and
 * address decoders read through a bounded cursor and reject short, overlong
 * or leftover bytes.
 */
#ifndef PODMESH_NL_H
#define PODMESH_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>

#include "lib/addr.h"

/* the size of a request buffer; MNL_SOCKET_BUFFER_SIZE is not a constant */
#define NL_BUFSIZE 8192

/* a NETLINK_ROUTE socket in the caller's netns */
struct nl;

/*
 * groups: RTMGRP_* bits to listen to (a non-blocking socket for nl_recv),
 * 0 for a request socket (blocking; nl_talk, dumps and batches).
 */
struct nl *nl_open(unsigned int groups, char *err, size_t errlen);
void nl_close(struct nl *);
int nl_fd(const struct nl *);
unsigned int nl_portid(const struct nl *);

/* MNL_CB_OK, MNL_CB_STOP or MNL_CB_ERROR */
typedef int nl_msg_cb(const struct nlmsghdr *, void *arg);

/*
 * One request, waits for its answer: the ACK or error, or every message of a
 * dump (NLM_F_DUMP) given to cb.  0, or -1 with errno set and
 * "RTM_NEWLINK: File exists"-style text in err.  The caller builds req in a
 * buffer of NL_BUFSIZE with mnl_nlmsg_put_header; nl_talk sets seq and pid
 * (and NLM_F_ACK unless the request is a dump).
 */
int nl_talk(struct nl *, struct nlmsghdr *req, nl_msg_cb *cb, void *arg,
    char *err, size_t errlen);

/*
 * Reads what is pending on a listening (non-blocking) socket and gives each
 * message to cb.  0 once drained; -1 with errno set on failure.  ENOBUFS
 * means the socket overran and notifications were lost: the caller must
 * dump again to learn the kernel's state.
 */
int nl_recv(struct nl *, nl_msg_cb *cb, void *arg);

/* "RTM_NEWROUTE", or "message 99" */
const char *nl_msg_name(uint16_t, char *, size_t);

/* ---- routes ---- */

#define NL_MAXNH 16 /* next hops of one ECMP route */

struct nl_nexthop {
	struct addr gw; /* family 0 for a device route */
	unsigned int ifindex; /* 0: the kernel picks it from the gateway */
	bool onlink; /* RTNH_F_ONLINK: the gateway need not be on a subnet */
	uint8_t weight; /* ECMP weight, 0 or 1 = equal (rtnh_hops + 1) */
};

struct nl_route {
	struct prefix dst;
	uint8_t type; /* RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint8_t protocol; /* RTPROT_* */
	uint8_t scope; /* decoded only; encoding derives it */
	uint32_t table; /* RT_TABLE_MAIN = 254 */
	uint32_t priority; /* metric */
	struct nl_nexthop nh[NL_MAXNH]; /* RTA_MULTIPATH when nnh > 1 */
	unsigned int nnh;
};

/*
 * Encodes route as one request into buf (room bytes): type RTM_NEWROUTE with
 * flags such as NLM_F_CREATE | NLM_F_REPLACE, or RTM_DELROUTE (which matches
 * destination, table, protocol and metric only, so it removes every next hop).
 * NLM_F_REQUEST | NLM_F_ACK are always set; seq and pid are left 0.  Returns
 * the message's length, or -1 with errno ENOSPC (no room) or EINVAL (a route
 * that cannot be expressed).
 */
int nl_route_encode(void *buf, size_t room, uint16_t type, uint16_t flags,
    const struct nl_route *);

/*
 * Decodes an RTM_NEWROUTE/RTM_DELROUTE message (from a dump or a
 * notification) whose nlmsg_len bytes are readable.  0, or -1 with a message
 * in err for a malformed or unsupported one.  Unknown attributes are skipped.
 * Blackhole, unreachable, prohibit and throw routes have no next hops: the
 * device IPv6 reports for them (lo) is dropped.
 */
int nl_route_decode(
    const struct nlmsghdr *, struct nl_route *, char *err, size_t errlen);

/* RTM_F_CLONED cache entries and other noise a route user never wants */
bool nl_route_is_clone(const struct nlmsghdr *);

/* "198.18.0.0/26 via 192.0.2.2 dev 3 onlink proto 196" for logs */
const char *nl_route_ntop(const struct nl_route *, char *, size_t);
#define NL_ROUTE_STRLEN 512

/* the route's protocol and table, without a full decode; -1 if not a route */
int nl_route_peek(const struct nlmsghdr *, uint8_t *family, uint8_t *protocol,
    uint32_t *table);

/* nl_route_dump: return MNL_CB_OK to go on, MNL_CB_STOP to stop */
typedef int nl_route_cb(const struct nl_route *, void *arg);

/*
 * Every route of family (AF_UNSPEC: both), protocol (0: any) and table (0:
 * any), cache clones left out.  Routes that fail to decode are logged and
 * skipped.  0, or -1 with a message in err.
 */
int nl_route_dump(struct nl *, int family, uint8_t protocol, uint32_t table,
    nl_route_cb *, void *arg, char *err, size_t errlen);

/* ---- link and address notifications ---- */

#define NL_IFNAMSIZ 16 /* IFNAMSIZ, with its NUL */

/* an RTM_NEWLINK / RTM_DELLINK */
struct nl_ifinfo {
	unsigned int ifindex;
	unsigned int flags; /* IFF_UP, IFF_LOWER_UP, ... */
	char name[NL_IFNAMSIZ]; /* IFLA_IFNAME; "" if the message has none */
};

/* an RTM_NEWADDR / RTM_DELADDR */
struct nl_ifaddr {
	unsigned int ifindex;
	uint8_t scope; /* RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_HOST */
	struct prefix prefix; /* IFA_LOCAL (else IFA_ADDRESS), host bits kept */
};

/*
 * Decode one such message (a dump entry or a notification) whose nlmsg_len
 * bytes are readable, as nl_route_decode does: 0, or -1 with a message in
 * err.  Unknown attributes are skipped; a name without its NUL or longer
 * than NL_IFNAMSIZ, or an address of the wrong size, is an error.
 */
int nl_ifinfo_decode(
    const struct nlmsghdr *, struct nl_ifinfo *, char *err, size_t errlen);
int nl_ifaddr_decode(
    const struct nlmsghdr *, struct nl_ifaddr *, char *err, size_t errlen);

/*
 * Batches: many requests packed into one large buffer, sent with one
 * sendmsg each time it fills; only failures are answered (plus one ACK
 * closing each send), so thousands of routes cost a few system calls.
 * Requests are numbered from 0 after each nl_batch_flush; a failed one is
 * reported to cb with its index, the request itself (valid during the call)
 * and the kernel's errno and extended-ACK text ("" if none).
 */
struct nl_batch;
typedef void nl_batch_cb(void *arg, size_t index, const struct nlmsghdr *req,
    int error, const char *msg);

struct nl_batch *nl_batch_new(struct nl *, nl_batch_cb *, void *arg);
void nl_batch_free(struct nl_batch *);
/* the index of the request; a full buffer is sent on the way */
size_t nl_batch_route(
    struct nl_batch *, uint16_t type, uint16_t flags, const struct nl_route *);
/* queued requests not yet answered */
size_t nl_batch_pending(const struct nl_batch *);
/*
 * Sends what is queued and reads every answer.  0, or -1 with a message in
 * err when the socket failed: the outcome of requests not reported is then
 * unknown and the caller must dump to learn it.
 */
int nl_batch_flush(struct nl_batch *, char *err, size_t errlen);

#endif
