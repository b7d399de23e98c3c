/*
 * Sessions: the TCP connections under the FSM, on libevent.
 *
 * A struct conn is one TCP connection.  A peer normally runs its FSM on
 * peer->conn; while in OpenSent or OpenConfirm a second, incoming connection
 * may be parked on peer->incoming until its OPEN arrives, and then RFC 4271
 * §6.8 collision detection keeps one of the two.  Framing happens here
 * (msg_header_check hands over exactly one message); UPDATE bodies go to
 * rde.c unparsed.
 *
 * Output is a bufferevent's evbuffer.  KEEPALIVE and NOTIFICATION are
 * appended directly, so they go out on time whatever UPDATE backlog a peer
 * has; UPDATEs are only encoded (export.c) while the buffer is below
 * SESS_OUT_HIGH.  Connections are freed from a deferred callback, never
 * inside their own callbacks.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"

/* a reflector's clients may all call at once (the kernel caps it) */
#define LISTEN_BACKLOG 4096

struct conn {
	LIST_ENTRY(conn) entry;
	struct bgpd *bgpd;
	struct peer *peer; /* NULL once detached */
	struct bufferevent *bev;
	int fd;
	bool outgoing;
	bool connected;
	bool closing; /* flushing its last bytes, then freed */
	bool freeing; /* free scheduled */
	bool paused;
	struct addr local;
	struct addr remote;
	uint16_t rport;
	struct bgp_open open; /* OPEN received on a parked connection */
};

struct peer_timers {
	struct timer_slot {
		struct peer *peer;
		enum peer_timer which;
		struct event *ev;
	} slot[TIMER_MAX];
};

struct listener {
	struct listener *next;
	struct evconnlistener *lev;
	int fd;
	int family;
};

static void conn_free(struct conn *);
static void conn_close(struct conn *);
static void conn_readcb(struct bufferevent *, void *);
static void conn_writecb(struct bufferevent *, void *);
static void conn_eventcb(struct bufferevent *, short, void *);
static int md5_set(int, const struct addr *, uint8_t, const char *);

/* ---- FSM actions ------------------------------------------------------ */

static struct conn *
conn_new(struct bgpd *b, int fd, bool outgoing)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->bgpd = b;
	LIST_INSERT_HEAD(&b->conns, c, entry);
	c->fd = fd;
	c->outgoing = outgoing;
	c->bev = bufferevent_socket_new(b->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(c->bev, conn_readcb, conn_writecb, conn_eventcb, c);
	bufferevent_setwatermark(c->bev, EV_WRITE, SESS_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	return c;
}

static void
conn_addrs(struct conn *c)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_from_sockaddr((struct sockaddr *)&ss, &c->local, NULL);
	len = sizeof(ss);
	if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
		addr_from_sockaddr(
		    (struct sockaddr *)&ss, &c->remote, &c->rport);
}

static int
sock_ttl(int fd, int family, const struct peer_config *pc, bool ebgp)
{
	int ttl, minttl, lvl = family == AF_INET ? IPPROTO_IP : IPPROTO_IPV6;
	int opt = family == AF_INET ? IP_TTL : IPV6_UNICAST_HOPS;

	if (pc->ttl_security) {
		/* RFC 5082: send with 255, accept only 256 - hops and up */
		ttl = 255;
		minttl = 256 - (pc->multihop ? pc->multihop : 1);
		if (setsockopt(fd, lvl, opt, &ttl, sizeof(ttl)) == -1)
			return -1;
		return setsockopt(fd, lvl,
		    family == AF_INET ? IP_MINTTL : IPV6_MINHOPCOUNT, &minttl,
		    sizeof(minttl));
	}
	if (pc->multihop)
		ttl = pc->multihop;
	else if (ebgp)
		ttl = 1; /* RFC 4271 §5.1.3: directly connected eBGP */
	else
		return 0;
	return setsockopt(fd, lvl, opt, &ttl, sizeof(ttl));
}

static void
session_connect(struct peer *p)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct conn *c;
	int fd, one = 1;

	if (p->conn != NULL)
		conn_close(p->conn);
	p->conn = NULL;
	fd = socket(
	    p->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		peer_log(p, LOG_LVL_WARN, "socket: %s", strerror(errno));
		return; /* ConnectRetry tries again */
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (p->conf->password != NULL &&
	    md5_set(fd, &p->addr, addr_maxlen(p->addr.family),
	        p->conf->password) == -1) {
		peer_log(p, LOG_LVL_WARN, "TCP-MD5: %s", strerror(errno));
		close(fd);
		return; /* ConnectRetry tries again */
	}
	if (sock_ttl(fd, p->addr.family, p->conf, p->src.ebgp) == -1)
		peer_log(p, LOG_LVL_WARN, "setting TTL: %s", strerror(errno));
	if (p->conf->local_addr.family == p->addr.family) {
		len = addr_to_sockaddr(&p->conf->local_addr, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
			peer_log(p, LOG_LVL_WARN, "bind to local-address: %s",
			    strerror(errno));
			close(fd);
			return; /* ConnectRetry tries again */
		}
	}
	c = conn_new(p->bgpd, fd, true);
	c->peer = p;
	p->conn = c;
	len = addr_to_sockaddr(&p->addr, p->conf->port, &ss);
	/* a failure now or later ends in conn_eventcb or ConnectRetry */
	if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&ss, len) ==
	    -1)
		peer_log(p, LOG_LVL_DEBUG, "connect: %s", strerror(errno));
}

static void
session_close(struct peer *p)
{
	if (p->conn != NULL) {
		conn_close(p->conn);
		p->conn = NULL;
	}
	if (p->incoming != NULL) {
		conn_close(p->incoming);
		p->incoming = NULL;
	}
}

/* queue a whole message (NULL: nothing) on a connection, and free it */
static void
conn_write(struct conn *c, struct ibuf *msg)
{
	if (msg == NULL)
		return;
	if (bufferevent_write(c->bev, ibuf_data(msg), ibuf_size(msg)) == -1)
		fatalx("bufferevent_write");
	ibuf_free(msg);
}

/* RFC 4271 §6.8: the connection that loses a collision gets Cease/7 */
static void
conn_cease_close(struct conn *c)
{
	struct bgp_err e;

	err_set(&e, ERR_CEASE_COLLISION, NULL, 0, NULL);
	conn_write(c, msg_notification(&e));
	conn_close(c);
}

void
session_send(struct peer *p, struct ibuf *msg)
{
	session_send_copy(p, msg);
	ibuf_free(msg);
}

/* the same message to many peers (update groups): msg stays the caller's */
void
session_send_copy(struct peer *p, const struct ibuf *msg)
{
	uint8_t type = ((uint8_t *)ibuf_data(msg))[BGP_HDR_LEN - 1];

	if (p->conn == NULL || p->conn->closing)
		return;
	if (type <= MSG_RREFRESH)
		p->stats.msgs_out[type]++;
	if (bufferevent_write(p->conn->bev, ibuf_data(msg), ibuf_size(msg)) ==
	    -1)
		fatalx("bufferevent_write");
}

/*
 * Whole messages that stay where they are until written (update group
 * pages): done(data, len, arg) runs once they are, or at once if they
 * cannot be sent.
 */
void
session_send_ref(struct peer *p, const void *data, size_t len,
    void (*done)(const void *, size_t, void *), void *arg)
{
	if (p->conn == NULL || p->conn->closing ||
	    evbuffer_add_reference(bufferevent_get_output(p->conn->bev), data,
	        len, done, arg) == -1)
		done(data, len, arg);
}

size_t
session_output_len(const struct peer *p)
{
	if (p->conn == NULL || p->conn->closing)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(p->conn->bev));
}

const struct addr *
session_local_addr(const struct peer *p)
{
	return p->conn != NULL ? &p->conn->local : NULL;
}

/*
 * Our OPEN as of now: the R and F bits say whether we are restarting at
 * the moment we send it (RFC 4724 §3), not when the peer was made.
 */
static struct ibuf *
peer_open_msg(struct peer *p)
{
	struct bgp_open *o = &p->local_open;
	enum aid aid;

	o->caps.gr_restarting = p->bgpd->restarting;
	for (aid = 0; aid < AID_MAX; aid++)
		o->caps.gr_af_fwd[aid] =
		    o->caps.gr_af[aid] && p->bgpd->restarting;
	return open_build(o);
}

static void
session_send_open(struct peer *p)
{
	struct ibuf *msg = peer_open_msg(p);

	if (msg == NULL)
		fatalx("cannot encode OPEN");
	session_send(p, msg);
}

static void
session_send_keepalive(struct peer *p)
{
	session_send(p, msg_keepalive());
}

static void
session_send_notification(struct peer *p, const struct bgp_err *e)
{
	struct ibuf *msg;

	if (p->conn == NULL || !p->conn->connected || e->err == ERR_NONE)
		return;
	peer_log(p, LOG_LVL_WARN, "sending NOTIFICATION %u/%u (%s)%s%s",
	    err_code(e->err), err_subcode(e->err), err_name(e->err),
	    e->reason[0] ? ": " : "", e->reason);
	p->last_err = *e;
	p->last_err_sent = true;
	if ((msg = msg_notification(e)) != NULL)
		session_send(p, msg);
}

static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timer_slot *t = arg;
	struct peer *p = t->peer;

	switch (t->which) {
	case TIMER_CONNRETRY:
		bgp_fsm(p, EVNT_TIMER_CONNRETRY);
		break;
	case TIMER_HOLD:
		/* we stopped reading: the peer is not to blame */
		if (p->conn != NULL && p->conn->paused) {
			p->ops->timer_set(p, TIMER_HOLD, p->holdtime * 1000);
			break;
		}
		bgp_fsm(p, EVNT_TIMER_HOLDTIME);
		break;
	case TIMER_KEEPALIVE:
		bgp_fsm(p, EVNT_TIMER_KEEPALIVE);
		break;
	case TIMER_IDLEHOLD:
		/* a dynamic neighbour that dropped is forgotten */
		if (p->dynamic && (p->conn != NULL || p->incoming != NULL))
			break; /* it called again meanwhile */
		if (p->dynamic) {
			peer_log(p, LOG_LVL_INFO, "dynamic neighbour removed");
			peer_free(p);
			break;
		}
		bgp_fsm(p, EVNT_TIMER_IDLEHOLD);
		break;
	case TIMER_RESTART:
	case TIMER_STALE:
		rde_stale_expired(p);
		break;
	case TIMER_MAX:
		break;
	}
}

static void
session_timer_set(struct peer *p, enum peer_timer which, unsigned int msec)
{
	struct peer_timers *pt = p->timers;
	struct timeval tv = {msec / 1000, (msec % 1000) * 1000};

	evtimer_add(pt->slot[which].ev, &tv);
}

static void
session_timer_stop(struct peer *p, enum peer_timer which)
{
	struct peer_timers *pt = p->timers;

	evtimer_del(pt->slot[which].ev);
}

/* RFC 4271 §6.2 and RFC 6286 checks that need the configuration */
static int
session_check_open(struct peer *p, struct bgp_err *e)
{
	const struct bgp_open *o = &p->remote_open;
	uint32_t as = open_peer_as(o);
	uint8_t as2[2] = {o->as2 >> 8, o->as2 & 0xff};
	enum aid aid;

	if (as != p->conf->asn) {
		err_set(e, ERR_OPEN_AS, as2, sizeof(as2),
		    "peer says AS %u, configured AS %u", as, p->conf->asn);
		return -1;
	}
	if (o->caps.as4 && as > 0xffff && o->as2 != AS_TRANS) {
		err_set(e, ERR_OPEN_AS, as2, sizeof(as2),
		    "4-octet AS %u but My AS %u is not AS_TRANS", as, o->as2);
		return -1;
	}
	/* RFC 6286 §2.2: identifiers differ within an AS */
	if (as == p->bgpd->conf->asn && o->bgpid == p->bgpd->conf->router_id) {
		err_set(
		    e, ERR_OPEN_BGPID, NULL, 0, "peer uses our BGP identifier");
		return -1;
	}
	if (caps_negotiate(&p->local_open.caps, &o->caps, &p->neg, e) == -1)
		return -1;
	p->src.bgpid = o->bgpid;
	p->src.asn = as;
	p->rx_ctx.as4 = p->tx_ctx.as4 = p->neg.as4;
	p->rx_ctx.maxlen = p->tx_ctx.maxlen =
	    p->neg.ext_msg ? BGP_EXT_MAX_LEN : BGP_MAX_LEN;
	for (aid = 0; aid < AID_MAX; aid++) {
		p->rx_ctx.addpath[aid] = p->neg.addpath_recv[aid];
		p->tx_ctx.addpath[aid] = p->neg.addpath_send[aid];
	}
	return 0;
}

static void
session_established(struct peer *p)
{
	/* last_err_sent tells how a session ended: this one has not */
	p->last_err_sent = false;
	rde_established(p);
}

static void
session_down(struct peer *p)
{
	rde_down(p);
}

static const struct fsm_ops session_ops = {
    .connect = session_connect,
    .close = session_close,
    .send_open = session_send_open,
    .send_keepalive = session_send_keepalive,
    .send_notification = session_send_notification,
    .timer_set = session_timer_set,
    .timer_stop = session_timer_stop,
    .established = session_established,
    .down = session_down,
    .check_open = session_check_open,
};

/* ---- peers ------------------------------------------------------------ */

static void
peer_local_open(struct peer *p)
{
	const struct bgpd_config *gc = p->bgpd->conf;
	struct bgp_open *o = &p->local_open;
	enum aid aid;

	memset(o, 0, sizeof(*o));
	o->version = BGP_VERSION;
	o->as2 = gc->asn > 0xffff ? AS_TRANS : gc->asn;
	o->holdtime = p->conf->holdtime;
	o->bgpid = gc->router_id;
	o->caps.as4 = true;
	o->caps.as4_asn = gc->asn;
	o->caps.refresh = true;
	o->caps.enhanced_refresh = true;
	o->caps.ext_msg = true;
	/*
	 * RFC 4724: always the receiving side.  With the kernel sync on, the
	 * forwarding state (kernel routes) outlives the process, so each
	 * family is announced, and after a restart that found our routes in
	 * the kernel (R and F set while they wait for End-of-RIB) peers keep
	 * our routes and replace them in place instead of flushing them.  So
	 * too in datastore mode without it (a dedicated reflector): there is
	 * no forwarding state of ours to lose.
	 */
	o->caps.gr = p->conf->graceful_restart;
	o->caps.gr_time = gc->gr_time;
	for (aid = 0; aid < AID_MAX; aid++) {
		o->caps.mp[aid] = p->conf->families[aid];
		if (o->caps.mp[aid])
			o->caps.addpath[aid] = p->conf->add_paths;
		o->caps.gr_af[aid] = o->caps.gr && o->caps.mp[aid] &&
		    (gc->kernel.enabled || gc->datastore.type != NULL);
	} /* R and F: peer_open_msg, when the OPEN is sent */
}

struct peer *
peer_new(struct bgpd *b, const struct peer_config *pc, const struct addr *a)
{
	struct peer *p = xcalloc(1, sizeof(*p));
	struct peer_timers *pt = xcalloc(1, sizeof(*pt));
	int i;

	p->bgpd = b;
	p->conf = xcalloc(1, sizeof(*p->conf));
	*p->conf = *pc;
	p->conf->password = pc->password ? xstrdup(pc->password) : NULL;
	p->conf->description =
	    pc->description ? xstrdup(pc->description) : NULL;
	p->conf->is_range = false;
	p->conf->addr = *a;
	p->addr = *a;
	addr_ntop(a, p->name, sizeof(p->name));
	p->ops = &session_ops;
	rib_src_init(&p->src, ++b->next_src_id);
	p->src.addr = *a;
	p->src.asn = pc->asn;
	p->src.ebgp = pc->asn != b->conf->asn;
	p->src.rr_client = pc->rr_client;
	p->src.owner = p;
	p->state = STATE_IDLE;
	/* "since": when it was configured, until its state first changes */
	p->uptime = time(NULL);
	p->connect_retry = pc->connect_retry;
	p->rx_ctx.ebgp = p->tx_ctx.ebgp = p->src.ebgp;
	p->rx_ctx.maxlen = p->tx_ctx.maxlen = BGP_MAX_LEN;
	for (i = 0; i < TIMER_MAX; i++) {
		pt->slot[i].peer = p;
		pt->slot[i].which = i;
		pt->slot[i].ev =
		    evtimer_new(b->base, session_timer_cb, &pt->slot[i]);
	}
	p->timers = pt;
	peer_local_open(p);
	TAILQ_INSERT_TAIL(&b->peers, p, entry);
	b->npeers++;
	return p;
}

void
peer_free(struct peer *p)
{
	struct peer_timers *pt = p->timers;
	int i;

	export_peer_down(p);
	session_close(p);
	rib_flush_src(p->bgpd->rib, &p->src);
	TAILQ_REMOVE(&p->bgpd->peers, p, entry);
	p->bgpd->npeers--;
	for (i = 0; i < TIMER_MAX; i++)
		event_free(pt->slot[i].ev);
	free(pt);
	free(p->conf->password);
	free(p->conf->description);
	free(p->conf);
	free(p);
}

void
peer_start(struct peer *p)
{
	bgp_fsm(p, EVNT_START);
}

void
peer_stop(struct peer *p, enum bgp_error why)
{
	err_set(&p->stop_err, why, NULL, 0, NULL);
	bgp_fsm(p, EVNT_STOP);
}

void
session_error(struct peer *p, const struct bgp_err *e)
{
	p->ops->send_notification(p, e);
	bgp_fsm(p, EVNT_CON_FATAL);
}

int
peer_request_refresh(struct peer *p)
{
	enum aid aid;

	if (p->state != STATE_ESTABLISHED) {
		errno = ENOTCONN;
		return -1;
	}
	if (!p->neg.refresh) {
		errno = EOPNOTSUPP;
		return -1;
	}
	for (aid = 0; aid < AID_MAX; aid++)
		if (p->neg.mp[aid])
			session_send(p, msg_rrefresh(aid, RREFRESH_NORMAL));
	peer_log(p, LOG_LVL_INFO, "route refresh requested");
	return 0;
}

/* ---- connections -------------------------------------------------------- */

static void
conn_free_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_free(arg);
}

static void
conn_free(struct conn *c)
{
	LIST_REMOVE(c, entry);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	free(c);
}

static void
conn_free_later(struct conn *c)
{
	if (c->freeing)
		return;
	c->freeing = true;
	if (c->bev != NULL)
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_base_once(c->bgpd->base, -1, EV_TIMEOUT, conn_free_cb, c, NULL);
}

/* at exit: whatever is still flushing is dropped */
void
session_free_all(struct bgpd *b)
{
	struct conn *c;

	while ((c = LIST_FIRST(&b->conns)) != NULL)
		conn_free(c);
}

/* let the last bytes (a NOTIFICATION) go out, then free */
static void
conn_close(struct conn *c)
{
	struct timeval tv = {1, 0};

	if (c->closing)
		return;
	c->closing = true;
	c->peer = NULL;
	if (!c->connected || c->bev == NULL ||
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		conn_free_later(c);
		return;
	}
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	bufferevent_set_timeouts(c->bev, NULL, &tv);
}

static void
conn_writecb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			conn_free_later(c);
		return;
	}
	if (c->peer != NULL && c->peer->conn == c &&
	    c->peer->state == STATE_ESTABLISHED)
		export_flush(c->peer);
}

static void
conn_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	struct peer *p = c->peer;

	if (c->closing) {
		conn_free_later(c);
		return;
	}
	if (what & BEV_EVENT_CONNECTED) {
		c->connected = true;
		conn_addrs(c);
		if (p != NULL) {
			peer_log(p, LOG_LVL_DEBUG, "connected from %s",
			    addr_ntop(&c->local, (char[ADDR_STRLEN]){0},
			        ADDR_STRLEN));
			bgp_fsm(p, EVNT_CON_OPEN);
		}
		return;
	}
	if (p == NULL) {
		conn_close(c);
		return;
	}
	if (p->incoming == c) {
		p->incoming = NULL;
		conn_close(c);
		return;
	}
	if (!c->connected) {
		peer_log(p, LOG_LVL_DEBUG, "connect failed: %s",
		    evutil_socket_error_to_string(
		        evutil_socket_geterror(c->fd)));
		bgp_fsm(p, EVNT_CON_OPENFAIL);
		return;
	}
	if (what & BEV_EVENT_EOF)
		peer_log(p, LOG_LVL_INFO, "connection closed by peer");
	else
		peer_log(p, LOG_LVL_INFO, "connection error: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	bgp_fsm(p, EVNT_CON_CLOSED);
	/*
	 * A dynamic neighbour back in Active (it closed before Established)
	 * would wait there for good, holding a slot of its range: it is
	 * forgotten like one that dropped.
	 */
	if (p->dynamic && p->state == STATE_ACTIVE && p->conn == NULL &&
	    p->incoming == NULL)
		p->ops->timer_set(p, TIMER_IDLEHOLD, 0);
}

static void
conn_notification(struct peer *p, struct ibuf *body)
{
	uint8_t code, subcode;
	struct ibuf data;
	char desc[96];

	if (msg_notification_parse(body, &code, &subcode, &data) == -1) {
		peer_log(p, LOG_LVL_WARN, "received a short NOTIFICATION");
		code = subcode = 0;
	}
	/* RFC 8203: Cease/2 and Cease/4 may carry a reason */
	if (code == 6 && (subcode == 2 || subcode == 4) &&
	    ibuf_size(&data) > 0) {
		uint8_t len = ((uint8_t *)ibuf_data(&data))[0];
		const char *txt = (const char *)ibuf_data(&data) + 1;
		if (len > ibuf_size(&data) - 1)
			len = ibuf_size(&data) - 1;
		peer_log(p, LOG_LVL_WARN,
		    "received NOTIFICATION %u/%u (%s): \"%.*s\"", code, subcode,
		    err_describe(code, subcode, desc, sizeof(desc)), (int)len,
		    txt);
	} else {
		peer_log(p, LOG_LVL_WARN, "received NOTIFICATION %u/%u (%s)",
		    code, subcode,
		    err_describe(code, subcode, desc, sizeof(desc)));
	}
	memset(&p->last_err, 0, sizeof(p->last_err));
	snprintf(p->last_err.reason, sizeof(p->last_err.reason),
	    "received %u/%u %s", code, subcode, desc);
	p->last_err_sent = false;
	bgp_fsm(p, EVNT_RCVD_NOTIFICATION);
}

static void
conn_rrefresh(struct peer *p, struct ibuf *body)
{
	struct bgp_err e;
	enum aid aid;
	uint8_t subtype;

	memset(&e, 0, sizeof(e));
	if (msg_rrefresh_parse(body, &aid, &subtype, &e) == -1) {
		if (e.err != ERR_NONE)
			session_error(p, &e);
		else
			peer_log(p, LOG_LVL_DEBUG,
			    "ignoring ROUTE-REFRESH for an unknown family");
		return;
	}
	bgp_fsm(p, EVNT_RCVD_RREFRESH);
	if (p->state == STATE_ESTABLISHED)
		rde_rrefresh(p, aid, subtype);
}

/*
 * The peer restarted: its new connection, parked until its OPEN came (a
 * bare TCP connection proves nothing), replaces the Established session.
 */
static void
session_restart(struct peer *p, struct conn *c)
{
	peer_log(p, LOG_LVL_INFO,
	    "OPEN on a new connection while Established: "
	    "peer restarted");
	p->incoming = NULL;
	bgp_fsm(p, EVNT_CON_CLOSED);
	bgp_fsm(p, EVNT_START);
	if (p->conn != NULL)
		conn_close(p->conn);
	p->conn = c;
	p->ops->timer_stop(p, TIMER_CONNRETRY);
	p->state = STATE_OPENSENT; /* our OPEN went out on c */
	p->remote_open = c->open;
	bgp_fsm(p, EVNT_RCVD_OPEN);
}

/*
 * RFC 4271 §6.8: both sides opened a connection.  The one opened by the
 * speaker with the higher BGP identifier survives.  c is the parked incoming
 * connection whose OPEN is in c->open.  A passive peer (dynamic ones are)
 * opened both: the newer is the live one.
 */
static void
conn_collision(struct peer *p, struct conn *c)
{
	uint32_t local = p->bgpd->conf->router_id;

	if (p->state == STATE_ESTABLISHED) {
		session_restart(p, c);
		return;
	}
	if (local < c->open.bgpid || p->conf->passive) {
		peer_log(p, LOG_LVL_INFO, "connection collision: keeping %s",
		    p->conf->passive ? "the newer connection"
		                     : "the peer's connection");
		if (p->conn != NULL)
			conn_cease_close(p->conn);
		p->conn = c;
		p->incoming = NULL;
		p->ops->timer_stop(p, TIMER_KEEPALIVE);
		p->state = STATE_OPENSENT; /* our OPEN went out on c */
		p->remote_open = c->open;
		bgp_fsm(p, EVNT_RCVD_OPEN);
		return;
	}
	peer_log(
	    p, LOG_LVL_INFO, "connection collision: keeping our connection");
	p->incoming = NULL;
	conn_cease_close(c);
}

/* returns -1 when the connection went away */
static int
conn_dispatch(struct conn *c, uint8_t type, struct ibuf *body)
{
	struct peer *p = c->peer;
	struct bgp_err e;

	memset(&e, 0, sizeof(e));
	p->stats.msgs_in[type]++;
	if (p->incoming == c) {
		/* a parked connection only ever gets to say OPEN */
		if (type != MSG_OPEN || open_parse(body, &c->open, &e) == -1) {
			p->incoming = NULL;
			conn_close(c);
			return -1;
		}
		conn_collision(p, c);
		return c->closing ? -1 : 0;
	}
	switch (type) {
	case MSG_OPEN:
		if (p->state == STATE_OPENSENT &&
		    open_parse(body, &p->remote_open, &e) == -1) {
			peer_log(p, LOG_LVL_WARN, "bad OPEN: %s", e.reason);
			session_error(p, &e);
			return -1;
		}
		bgp_fsm(p, EVNT_RCVD_OPEN);
		break;
	case MSG_UPDATE:
		bgp_fsm(p, EVNT_RCVD_UPDATE);
		if (p->state == STATE_ESTABLISHED)
			rde_update(p, body);
		break;
	case MSG_NOTIFICATION:
		conn_notification(p, body);
		break;
	case MSG_KEEPALIVE:
		bgp_fsm(p, EVNT_RCVD_KEEPALIVE);
		break;
	case MSG_RREFRESH:
		conn_rrefresh(p, body);
		break;
	}
	return c->closing ? -1 : 0;
}

static void
conn_readcb(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct ibuf hdr, body;
	struct bgp_err e;
	struct peer *p;
	uint8_t *data, type;
	uint16_t len;
	size_t maxlen;

	while (!c->closing && (p = c->peer) != NULL && !c->paused) {
		if (evbuffer_get_length(in) < BGP_HDR_LEN)
			break;
		data = evbuffer_pullup(in, BGP_HDR_LEN);
		ibuf_from_buffer(&hdr, data, BGP_HDR_LEN);
		maxlen = p->state == STATE_ESTABLISHED ? p->rx_ctx.maxlen
		                                       : BGP_MAX_LEN;
		if (msg_header_check(&hdr, maxlen, &type, &len, &e) == -1) {
			peer_log(p, LOG_LVL_WARN, "bad message header: %s",
			    e.reason);
			if (p->incoming == c) {
				p->incoming = NULL;
				conn_close(c);
			} else {
				session_error(p, &e);
			}
			return;
		}
		if (evbuffer_get_length(in) < len)
			break;
		data = evbuffer_pullup(in, len);
		ibuf_from_buffer(&body, data + BGP_HDR_LEN, len - BGP_HDR_LEN);
		if (conn_dispatch(c, type, &body) == -1)
			return;
		evbuffer_drain(in, len);
	}
}

/* backpressure: stop taking routes in while some peer cannot keep up */
void
session_pause_reading(struct bgpd *b, bool pause)
{
	struct peer *p;

	TAILQ_FOREACH(p, &b->peers, entry)
	{
		struct conn *c = p->conn;

		if (c == NULL || c->closing || c->paused == pause ||
		    p->state != STATE_ESTABLISHED)
			continue;
		c->paused = pause;
		if (pause) {
			bufferevent_disable(c->bev, EV_READ);
		} else {
			bufferevent_enable(c->bev, EV_READ);
			conn_readcb(c->bev, c);
		}
	}
}

/* ---- accepting ---------------------------------------------------------- */

static struct peer *
session_match(struct bgpd *b, const struct addr *a, int fd)
{
	struct peer_config *pc;
	struct peer *p;
	char buf[ADDR_STRLEN];
	unsigned int n = 0;

	if ((p = bgpd_find_peer(b, a)) != NULL)
		return p;
	if ((pc = config_find_peer(b->conf, a)) == NULL || !pc->is_range) {
		log_warnx("connection from %s refused: no peer or range "
		          "matches it",
		    addr_ntop(a, buf, sizeof(buf)));
		return NULL;
	}
	TAILQ_FOREACH(p, &b->peers, entry)
	if (p->dynamic && p->range == pc)
		n++;
	if (n >= pc->max_sessions) {
		log_warnx("connection from %s refused: range %s is at its "
		          "limit of %u sessions",
		    addr_ntop(a, buf, sizeof(buf)),
		    prefix_ntop(
		        &pc->range, (char[PREFIX_STRLEN]){0}, PREFIX_STRLEN),
		    pc->max_sessions);
		return NULL;
	}
	p = peer_new(b, pc, a);
	p->dynamic = true;
	p->range = pc;
	p->conf->passive = true;
	peer_log(p, LOG_LVL_INFO, "dynamic neighbour from range %s",
	    prefix_ntop(&pc->range, (char[PREFIX_STRLEN]){0}, PREFIX_STRLEN));
	return p;
}

static void
session_accept(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct bgpd *b = arg;
	struct peer *p;
	struct conn *c;
	struct addr a;
	int one = 1;

	if (addr_from_sockaddr(sa, &a, NULL) == -1 ||
	    (p = session_match(b, &a, fd)) == NULL) {
		close(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sock_ttl(fd, a.family, p->conf, p->src.ebgp) == -1)
		peer_log(p, LOG_LVL_WARN, "setting TTL: %s", strerror(errno));
	c = conn_new(b, fd, false);
	c->connected = true;
	c->peer = p;
	conn_addrs(c);
	peer_log(p, LOG_LVL_DEBUG, "accepted connection in state %s",
	    peer_state_name(p->state));

	switch (p->state) {
	case STATE_NONE:
	case STATE_IDLE:
		/* peers are always allowed in: start at once */
		bgp_fsm(p, EVNT_START);
		/* FALLTHROUGH */
	case STATE_CONNECT:
	case STATE_ACTIVE:
		if (p->conn != NULL)
			conn_close(p->conn);
		p->conn = c;
		bgp_fsm(p, EVNT_CON_OPEN);
		break;
	case STATE_OPENSENT:
	case STATE_OPENCONFIRM:
		if (p->incoming != NULL)
			conn_close(p->incoming);
		p->incoming = c;
		/* our OPEN on it, so either connection can win */
		conn_write(c, peer_open_msg(p));
		break;
	case STATE_ESTABLISHED:
		/*
		 * RFC 4724 §4.2: a GR peer that connects again restarted.
		 * So did a dynamic neighbour: an address in a range is one
		 * node, and the node that is calling is the live one;
		 * refusing it would leave it stuck until the hold timer.
		 * Its OPEN decides (session_restart), not the bare connection.
		 */
		if (p->neg.gr || p->dynamic) {
			peer_log(p, LOG_LVL_INFO,
			    "new connection while Established: waiting for "
			    "its OPEN");
			if (p->incoming != NULL)
				conn_close(p->incoming);
			p->incoming = c;
			conn_write(c, peer_open_msg(p));
		} else {
			peer_log(p, LOG_LVL_INFO,
			    "connection refused: session is Established");
			conn_cease_close(c);
		}
		break;
	}
}

/* ---- listeners and TCP-MD5 ------------------------------------------- */

/*
 * RFC 2385 via Linux TCP_MD5SIG.  On a listening socket the key applies to
 * connections from that address; a prefix length makes it apply to a range.
 */
static int
md5_set(int fd, const struct addr *a, uint8_t plen, const char *key)
{
	struct tcp_md5sig md5;

	memset(&md5, 0, sizeof(md5));
	addr_to_sockaddr(a, 0, (struct sockaddr_storage *)&md5.tcpm_addr);
	if (key != NULL) {
		if (strlen(key) > TCP_MD5SIG_MAXKEYLEN) {
			errno = EINVAL;
			return -1;
		}
		md5.tcpm_keylen = strlen(key);
		memcpy(md5.tcpm_key, key, md5.tcpm_keylen);
	}
	if (plen != addr_maxlen(a->family)) {
		md5.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
		md5.tcpm_prefixlen = plen;
		return setsockopt(
		    fd, IPPROTO_TCP, TCP_MD5SIG_EXT, &md5, sizeof(md5));
	}
	return setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &md5, sizeof(md5));
}

static void
listener_md5(struct bgpd *b, struct listener *l)
{
	struct peer_config *pc;
	struct addr a;

	TAILQ_FOREACH(pc, &b->conf->peers, entry)
	{
		const struct addr *pa = pc->is_range ? &pc->range.a : &pc->addr;
		uint8_t plen =
		    pc->is_range ? pc->range.len : addr_maxlen(pc->addr.family);

		if (pc->password == NULL)
			continue;
		a = *pa;
		if (a.family != l->family) {
			/* IPv4 peers reach a dual-stack socket v4-mapped */
			if (l->family != AF_INET6 || a.family != AF_INET)
				continue;
			addr_v4mapped(&a, pa);
			plen += 96;
		}
		if (md5_set(l->fd, &a, plen, pc->password) == -1)
			log_warn("TCP-MD5 key for %s on listener",
			    addr_ntop(pa, (char[ADDR_STRLEN]){0}, ADDR_STRLEN));
	}
}

static void
listener_error(struct evconnlistener *lev, void *arg)
{
	log_warn("accept");
}

static int
listener_open(struct bgpd *b, const struct addr *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct listener *l;
	socklen_t len;
	int fd, one = 1, zero = 0;
	char buf[ADDR_STRLEN];

	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (a->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    addr_is_set(a) ? &one : &zero, sizeof(one));
	len = addr_to_sockaddr(a, port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1) {
		log_warn(
		    "bind %s port %u", addr_ntop(a, buf, sizeof(buf)), port);
		close(fd);
		return -1;
	}
	l = xcalloc(1, sizeof(*l));
	l->fd = fd;
	l->family = a->family;
	listener_md5(b, l);
	l->lev = evconnlistener_new(b->base, session_accept, b,
	    LEV_OPT_CLOSE_ON_FREE, LISTEN_BACKLOG, fd);
	if (l->lev == NULL) {
		log_warn(
		    "listen %s port %u", addr_ntop(a, buf, sizeof(buf)), port);
		close(fd);
		free(l);
		return -1;
	}
	evconnlistener_set_error_cb(l->lev, listener_error);
	l->next = b->listeners;
	b->listeners = l;
	log_info(
	    "listening on %s port %u", addr_ntop(a, buf, sizeof(buf)), port);
	return 0;
}

int
listener_setup(struct bgpd *b)
{
	const struct bgpd_config *c = b->conf;
	struct addr any;

	listener_free(b);
	if (c->listen_port == 0)
		return 0;
	if (c->listen_addr.family != 0)
		return listener_open(b, &c->listen_addr, c->listen_port);
	/* any address: one dual-stack socket, or IPv4 alone without IPv6 */
	memset(&any, 0, sizeof(any));
	any.family = AF_INET6;
	if (listener_open(b, &any, c->listen_port) == 0)
		return 0;
	any.family = AF_INET;
	return listener_open(b, &any, c->listen_port);
}

void
listener_free(struct bgpd *b)
{
	struct listener *l;

	while ((l = b->listeners) != NULL) {
		b->listeners = l->next;
		evconnlistener_free(l->lev);
		free(l);
	}
}
