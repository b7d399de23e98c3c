/*
 * bgpgen sessions: sockets, the handshake and one epoll(7) loop for all.
 *
 * This is the part of RFC 4271 §8 a generator needs and no more: connect
 * (retrying while the peer is not up yet) or accept one connection, send
 * OPEN, take the peer's OPEN (§6.2 checks via open_parse), exchange
 * KEEPALIVEs, then stay Established: KEEPALIVE every hold/3 (§4.4), treat
 * hold-time silence (§6.5) or a NOTIFICATION as the end.  Any protocol
 * error fails the session, never retries: a benchmark that reconnects would
 * measure something else.
 *
 * Output is two queues: small control messages and the precomputed bulk.
 * Control messages go out only between whole messages of the bulk, so a
 * KEEPALIVE due in the middle of a million prefixes is still framed right.
 *
 * The loop costs what happens, not how many sessions exist: epoll reports
 * only the sockets with work, the counters in struct gen (Established,
 * opening, complete, ...) are kept at each state change instead of being
 * recounted, and the per-session timers (connect retry, KEEPALIVE, hold)
 * are scanned at most every GEN_TICK_S, which is plenty for timers counted
 * in seconds.  With poll(2) over 5,000 sockets every wakeup paid for all
 * 5,000.
 *
 * Input is read into one buffer shared by all sessions, as much as a
 * socket holds per read(2), and framed in place; an Established fan-out
 * session hands each run of UPDATEs to gen_fanout_batch() whole, so that
 * receiving costs no call, copy or clock read per message.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/gen.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/*
 * The read buffer, shared by all sessions: whatever one readiness of one
 * socket holds is read in one read(2) and framed in place, and only the
 * start of a message cut off at the end (under BGP_MAX_LEN) is kept per
 * session.  One buffer stays in the cache; one per session would be tens
 * of megabytes touched at 1,000 sessions.
 */
#define GEN_RBUF (256 * 1024)
#define GEN_RETRY_S 0.2
/*
 * Handshakes in flight at once.  A burst of hundreds of SYNs overflows a
 * daemon's listen backlog (BIRD's is small) and the kernel's SYN back-off
 * then spreads session setup over tens of seconds.
 */
#define GEN_OPENING_MAX 16
#define GEN_TICK_S 0.01
#define GEN_EVENTS 1024

static void gen_sess_fail(struct gen_sess *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void gen_sess_notify(struct gen_sess *, const struct bgp_err *);
static void gen_sess_queue(struct gen_sess *, struct ibuf *);
static int gen_sess_flush(struct gen_sess *);
static void gen_sess_kick(struct gen_sess *);
static void gen_sess_connect(struct gen *, struct gen_sess *);
static void gen_sess_listen(struct gen_sess *);
static void gen_sess_accept(struct gen *, struct gen_sess *);
static void gen_sess_start(struct gen *, struct gen_sess *);
static void gen_sess_read(struct gen *, struct gen_sess *);
static void gen_sess_msg(
    struct gen *, struct gen_sess *, uint8_t, struct ibuf *);
static void gen_sess_open(struct gen *, struct gen_sess *, struct ibuf *);
static void gen_sess_update(struct gen *, struct gen_sess *, struct ibuf *);
static void gen_sess_timers(struct gen *, struct gen_sess *, double);
static void gen_sess_event(struct gen *, struct gen_sess *, uint32_t);
static void gen_ready(struct gen *);

double
gen_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* wall clock: comparable between processes, even across namespaces */
double
gen_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

const char *
gen_sess_name(const struct gen_sess *s, char *buf, size_t len)
{
	char l[ADDR_STRLEN], p[ADDR_STRLEN];

	snprintf(buf, len, "session %u (%s -> %s)", s->idx,
	    addr_ntop(&s->local, l, sizeof(l)),
	    addr_ntop(&s->peer, p, sizeof(p)));
	return buf;
}

void
gen_init(struct gen *g)
{
	memset(g, 0, sizeof(*g));
	g->epfd = -1;
}

void
gen_sess_init(struct gen *g, struct gen_sess *s, unsigned int idx,
    const struct addr *local, const struct addr *peer, uint16_t port,
    bool listen, uint32_t asn, uint32_t peer_asn)
{
	memset(s, 0, sizeof(*s));
	s->gen = g;
	s->idx = idx;
	s->local = *local;
	s->peer = *peer;
	s->port = port;
	s->listen = listen;
	s->fd = s->lfd = -1;
	s->state = GS_IDLE;
	s->asn = asn;
	s->peer_asn = peer_asn;
}

void
gen_sess_free(struct gen_sess *s)
{
	struct bgp_err err;

	if (s->state == GS_ESTABLISHED) {
		/* RFC 4486 §4: Administrative Shutdown, not a crash */
		memset(&err, 0, sizeof(err));
		err_set(&err, ERR_CEASE_ADMIN_DOWN, NULL, 0, "done");
		gen_sess_notify(s, &err);
	}
	if (s->fd != -1)
		close(s->fd);
	if (s->lfd != -1)
		close(s->lfd);
	free(s->stash);
	ibuf_free(s->ctl);
	if (s->counting)
		gen_count_free(&s->count);
	s->fd = s->lfd = -1;
	s->stash = NULL;
	s->slen = s->scap = 0;
	s->ctl = NULL;
}

static bool
gen_state_opening(enum gen_state st)
{
	return st == GS_CONNECT || st == GS_OPENSENT || st == GS_OPENCONFIRM;
}

/* every state change goes through here, so that the counters stay exact */
static void
gen_sess_state(struct gen_sess *s, enum gen_state st)
{
	struct gen *g = s->gen;

	if (gen_state_opening(s->state))
		g->opening--;
	if (gen_state_opening(st))
		g->opening++;
	if (s->state == GS_ESTABLISHED)
		g->nestablished--;
	if (st == GS_ESTABLISHED)
		g->nestablished++;
	if (st == GS_FAILED && s->state != GS_FAILED)
		g->nfailed++;
	s->state = st;
}

static void
gen_sess_fail(struct gen_sess *s, const char *fmt, ...)
{
	char name[160], msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", gen_sess_name(s, name, sizeof(name)), msg);
	/* closing the socket also takes it out of the epoll set */
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	gen_sess_state(s, GS_FAILED);
}

/* best effort: the session is going down whatever happens */
static void
gen_sess_notify(struct gen_sess *s, const struct bgp_err *err)
{
	struct ibuf *m;
	ssize_t n;

	if (s->fd == -1 || (m = msg_notification(err)) == NULL)
		return;
	n = write(s->fd, ibuf_data(m), ibuf_size(m));
	(void)n;
	ibuf_free(m);
}

static void
gen_sess_queue(struct gen_sess *s, struct ibuf *m)
{
	if (m == NULL)
		fatalx("%s: no message", __func__);
	if (s->ctl == NULL)
		s->ctl = ibuf_dynamic(256, 1 << 20);
	if (ibuf_add_ibuf(s->ctl, m) == -1)
		fatalx("%s: control queue full", __func__);
	ibuf_free(m);
}

/* the length field of the bulk message that starts at off */
static size_t
gen_bulk_msglen(const struct gen_payload *pl, size_t off)
{
	return (size_t)pl->buf[off + BGP_MARKER_LEN] << 8 |
	    pl->buf[off + BGP_MARKER_LEN + 1];
}

/* may the bulk go out now?  With gate_bulk, only once all are up */
static bool
gen_sess_bulk_ok(const struct gen_sess *s)
{
	return s->state == GS_ESTABLISHED && s->bulk != NULL &&
	    s->bulk_off < s->bulk->len && (!s->gen->gate_bulk || s->gen->ready);
}

/* writes until the socket is full or nothing is left; -1 on error */
static int
gen_sess_flush(struct gen_sess *s)
{
	const struct gen_payload *pl = s->bulk;
	size_t left, end;
	ssize_t n;

	for (;;) {
		if (s->ctl != NULL &&
		    (pl == NULL || s->bulk_off == s->bulk_msg ||
		        s->bulk_off == pl->len)) {
			left = ibuf_size(s->ctl) - s->ctl_off;
			n = write(s->fd,
			    (uint8_t *)ibuf_data(s->ctl) + s->ctl_off, left);
			if (n == -1)
				goto err;
			s->ctl_off += n;
			if (s->ctl_off == ibuf_size(s->ctl)) {
				ibuf_free(s->ctl);
				s->ctl = NULL;
				s->ctl_off = 0;
			}
			continue;
		}
		if (!gen_sess_bulk_ok(s))
			return 0;
		end = pl->len;
		if (s->ctl != NULL)
			end = s->bulk_msg + gen_bulk_msglen(pl, s->bulk_msg);
		if (s->first_write_at == 0)
			s->first_write_at = gen_realtime();
		n = write(s->fd, pl->buf + s->bulk_off, end - s->bulk_off);
		if (n == -1)
			goto err;
		s->bulk_off += n;
		while (s->bulk_msg < pl->len &&
		    s->bulk_msg + gen_bulk_msglen(pl, s->bulk_msg) <=
		        s->bulk_off)
			s->bulk_msg += gen_bulk_msglen(pl, s->bulk_msg);
		if (s->bulk_off == pl->len) {
			s->last_write_at = gen_realtime();
			s->gen->nwritten++;
		}
	}
err:
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return 0;
	gen_sess_fail(s, "write: %s", strerror(errno));
	return -1;
}

static bool
gen_sess_wants_write(const struct gen_sess *s)
{
	if (s->state == GS_CONNECT)
		return true;
	if (s->fd == -1)
		return false;
	return s->ctl != NULL || gen_sess_bulk_ok(s);
}

/* a new socket of s (connecting, listening or accepted) joins the set */
static void
gen_sess_watch(struct gen_sess *s, int fd)
{
	struct epoll_event ev;

	if (s->gen->epfd == -1)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = s;
	if (epoll_ctl(s->gen->epfd, EPOLL_CTL_ADD, fd, &ev) == -1)
		fatal("epoll_ctl add");
	s->ev_out = false;
}

/* ask for EPOLLOUT only while something waits to be written */
static void
gen_sess_interest(struct gen_sess *s)
{
	struct epoll_event ev;
	bool out;
	int fd;

	fd = s->state == GS_LISTEN ? s->lfd : s->fd;
	if (fd == -1 || s->gen->epfd == -1)
		return;
	out = gen_sess_wants_write(s);
	if (out == s->ev_out)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = s;
	if (epoll_ctl(s->gen->epfd, EPOLL_CTL_MOD, fd, &ev) == -1)
		fatal("epoll_ctl mod");
	s->ev_out = out;
}

/* after anything that may have queued output: write it, then re-arm */
static void
gen_sess_kick(struct gen_sess *s)
{
	if (s->state == GS_FAILED)
		return;
	if (s->fd != -1 && s->state >= GS_OPENSENT && gen_sess_wants_write(s) &&
	    gen_sess_flush(s) == -1)
		return;
	gen_sess_interest(s);
}

static int
gen_socket(const struct addr *a)
{
	int fd, on = 1;

	fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	/* KEEPALIVEs and OPENs are tiny; do not let Nagle hold them */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	return fd;
}

/* not up yet: try again shortly, until the deadline */
static void
gen_sess_retry(struct gen_sess *s)
{
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
	gen_sess_state(s, GS_IDLE);
	s->retry_at = gen_now() + GEN_RETRY_S;
}

static void
gen_sess_connect(struct gen *g, struct gen_sess *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if ((s->fd = gen_socket(&s->peer)) == -1) {
		gen_sess_fail(s, "socket: %s", strerror(errno));
		return;
	}
	sl = addr_to_sockaddr(&s->local, 0, &ss);
	if (bind(s->fd, (struct sockaddr *)&ss, sl) == -1) {
		gen_sess_fail(s, "bind: %s", strerror(errno));
		return;
	}
	gen_sess_watch(s, s->fd);
	sl = addr_to_sockaddr(&s->peer, s->port, &ss);
	if (connect(s->fd, (struct sockaddr *)&ss, sl) == 0) {
		gen_sess_start(g, s);
		return;
	}
	if (errno == EINPROGRESS) {
		gen_sess_state(s, GS_CONNECT);
		return;
	}
	gen_sess_retry(s);
}

static void
gen_sess_listen(struct gen_sess *s)
{
	struct sockaddr_storage ss;
	socklen_t sl;

	if ((s->lfd = gen_socket(&s->local)) == -1) {
		gen_sess_fail(s, "socket: %s", strerror(errno));
		return;
	}
	sl = addr_to_sockaddr(&s->local, s->port, &ss);
	if (bind(s->lfd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(s->lfd, 4) == -1) {
		gen_sess_fail(
		    s, "listen on port %u: %s", s->port, strerror(errno));
		return;
	}
	gen_sess_state(s, GS_LISTEN);
	gen_sess_watch(s, s->lfd);
}

static void
gen_sess_accept(struct gen *g, struct gen_sess *s)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct addr from;
	char buf[ADDR_STRLEN];
	int fd, on = 1;

	fd = accept4(
	    s->lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return;
	if (addr_from_sockaddr((struct sockaddr *)&ss, &from, NULL) == -1 ||
	    (addr_is_set(&s->peer) && addr_cmp(&from, &s->peer) != 0)) {
		log_warnx("refusing a connection from %s",
		    addr_ntop(&from, buf, sizeof(buf)));
		close(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	close(s->lfd);
	s->lfd = -1;
	s->fd = fd;
	gen_sess_watch(s, s->fd);
	gen_sess_start(g, s);
}

/* TCP is up: send our OPEN (RFC 4271 §8.2.2, Connect -> OpenSent) */
static void
gen_sess_start(struct gen *g, struct gen_sess *s)
{
	struct bgp_open o;

	memset(&o, 0, sizeof(o));
	o.holdtime = g->holdtime;
	o.bgpid = s->local.family == AF_INET ? addr_v4(&s->local)
	                                     : 0x0a000000 + s->idx + 1;
	o.caps.mp[AID_IPV4] = true;
	o.caps.as4 = true;
	o.caps.as4_asn = s->asn;
	o.caps.refresh = true;
	gen_sess_queue(s, open_build(&o));
	gen_sess_state(s, GS_OPENSENT);
	/* RFC 4271 §8.2.2: a large hold timer while waiting for OPEN */
	s->hold_at = gen_now() + 240;
}

static void
gen_sess_open(struct gen *g, struct gen_sess *s, struct ibuf *body)
{
	struct bgp_open o;
	struct bgp_caps ours;
	struct bgp_neg neg;
	struct bgp_err err;
	uint32_t as;

	memset(&err, 0, sizeof(err));
	if (open_parse(body, &o, &err) == -1) {
		gen_sess_notify(s, &err);
		gen_sess_fail(s, "bad OPEN: %s", err.reason);
		return;
	}
	if ((as = open_peer_as(&o)) != s->peer_asn) {
		err_set(&err, ERR_OPEN_AS, NULL, 0, "peer says AS %u", as);
		gen_sess_notify(s, &err);
		gen_sess_fail(
		    s, "peer says AS %u, expected %u", as, s->peer_asn);
		return;
	}
	memset(&ours, 0, sizeof(ours));
	ours.mp[AID_IPV4] = ours.as4 = ours.refresh = true;
	if (caps_negotiate(&ours, &o.caps, &neg, &err) == -1) {
		gen_sess_notify(s, &err);
		gen_sess_fail(s, "capabilities: %s", err.reason);
		return;
	}
	if (!neg.as4) {
		/* the precomputed UPDATEs carry 4-octet AS_PATHs */
		err_set(&err, ERR_OPEN_CAPA, NULL, 0, "no AS4");
		gen_sess_notify(s, &err);
		gen_sess_fail(s, "peer lacks 4-octet AS numbers (RFC 6793)");
		return;
	}
	s->holdtime = o.holdtime < g->holdtime ? o.holdtime : g->holdtime;
	memset(&s->ctx, 0, sizeof(s->ctx));
	s->ctx.as4 = true;
	s->ctx.ebgp = s->asn != s->peer_asn;
	s->ctx.maxlen = BGP_MAX_LEN;
	gen_sess_queue(s, msg_keepalive());
	gen_sess_state(s, GS_OPENCONFIRM);
	s->keepalive_at = gen_now() + s->holdtime / 3.0;
	s->hold_at = s->holdtime > 0 ? gen_now() + s->holdtime : 0;
}

/*
 * After counting: the clock is read only when something happens for the
 * first time (the first prefix, completion), never per message.
 */
static void
gen_sess_progress(struct gen *g, struct gen_sess *s, uint64_t announced)
{
	if (s->first_update_at == 0 && announced > 0)
		s->first_update_at = gen_realtime();
	if (s->expect > 0 && s->complete_at == 0 &&
	    s->count.have >= s->expect) {
		s->complete_at = gen_realtime();
		g->ncomplete++;
	}
}

/* fan-out runs count in gen_sess_frames(); this is everything else */
static void
gen_sess_update(struct gen *g, struct gen_sess *s, struct ibuf *body)
{
	struct update u;
	struct bgp_err err;
	int n;

	if (!s->counting)
		return;
	if (g->fanout != NULL && !g->fanout->full_parse) {
		n = gen_fanout_update(&s->count, g->fanout, s->idx, body, &err);
		if (n == -1) {
			gen_sess_notify(s, &err);
			gen_sess_fail(s, "bad UPDATE: %s", err.reason);
			return;
		}
		gen_sess_progress(g, s, n);
		return;
	}
	memset(&err, 0, sizeof(err));
	if (update_parse(body, &s->ctx, &u, &err) == -1) {
		update_clean(&u);
		gen_sess_notify(s, &err);
		gen_sess_fail(s, "bad UPDATE: %s", err.reason);
		return;
	}
	if (g->fanout != NULL)
		gen_count_fanout(&s->count, &g->space, g->fanout, s->idx, &u);
	else
		gen_count_update(&s->count, &g->space, &u);
	gen_sess_progress(g, s, u.nannounced);
	update_clean(&u);
}

static void
gen_sess_msg(struct gen *g, struct gen_sess *s, uint8_t type, struct ibuf *body)
{
	struct bgp_err err;
	struct ibuf data;
	uint8_t code, sub;
	char name[160], desc[128];

	/* no memset of err: 660 bytes per message; err_set() fills it */
	switch (type) {
	case MSG_OPEN:
		if (s->state == GS_OPENSENT) {
			gen_sess_open(g, s, body);
			return;
		}
		break;
	case MSG_KEEPALIVE:
		if (s->state == GS_OPENCONFIRM) {
			gen_sess_state(s, GS_ESTABLISHED);
			s->established_at = gen_realtime();
			if (g->verbose)
				log_info("%s: Established",
				    gen_sess_name(s, name, sizeof(name)));
			return;
		}
		if (s->state == GS_ESTABLISHED)
			return;
		break;
	case MSG_UPDATE:
		if (s->state == GS_ESTABLISHED) {
			gen_sess_update(g, s, body);
			return;
		}
		break;
	case MSG_NOTIFICATION:
		if (msg_notification_parse(body, &code, &sub, &data) == -1)
			code = sub = 0;
		gen_sess_fail(s, "peer sent NOTIFICATION %s",
		    err_describe(code, sub, desc, sizeof(desc)));
		return;
	case MSG_RREFRESH:
		/* a generator has no Adj-RIB-Out to resend; ignore */
		if (s->state == GS_ESTABLISHED)
			return;
		break;
	}
	err_set(&err,
	    s->state == GS_OPENSENT          ? ERR_FSM_OPENSENT
	        : s->state == GS_OPENCONFIRM ? ERR_FSM_OPENCONFIRM
	                                     : ERR_FSM_ESTABLISHED,
	    &type, 1, "unexpected message type %u", type);
	gen_sess_notify(s, &err);
	gen_sess_fail(s, "unexpected message type %u", type);
}

/*
 * Frames and handles the whole messages in buf[0, len); returns the bytes
 * they took.  Established fan-out sessions hand every run of UPDATEs to
 * gen_fanout_batch() at once, without a call or a clock read per
 * message; whatever it stops at (another type, a header to refuse) goes
 * through the general path, one message.
 */
static size_t
gen_sess_frames(struct gen *g, struct gen_sess *s, uint8_t *buf, size_t len)
{
	struct ibuf h, body;
	struct bgp_err err;
	uint64_t announced = 0;
	size_t pos = 0;
	long n;
	uint16_t mlen;
	uint8_t type;
	bool fast = s->counting && g->fanout != NULL && !g->fanout->full_parse;

	while (s->state != GS_FAILED) {
		if (fast && s->state == GS_ESTABLISHED) {
			announced = 0;
			n = gen_fanout_batch(&s->count, g->fanout, s->idx,
			    buf + pos, len - pos, &announced, &err);
			/* first: what was counted counts, whatever follows */
			gen_sess_progress(g, s, announced);
			if (n == -1) {
				gen_sess_notify(s, &err);
				gen_sess_fail(s, "bad UPDATE: %s", err.reason);
				break;
			}
			pos += n;
		}
		if (len - pos < BGP_HDR_LEN)
			break;
		ibuf_from_buffer(&h, buf + pos, len - pos);
		if (msg_header_check(&h, BGP_MAX_LEN, &type, &mlen, &err) ==
		    -1) {
			gen_sess_notify(s, &err);
			gen_sess_fail(s, "bad header: %s", err.reason);
			break;
		}
		if (len - pos < mlen)
			break;
		ibuf_from_buffer(
		    &body, buf + pos + BGP_HDR_LEN, mlen - BGP_HDR_LEN);
		gen_sess_msg(g, s, type, &body);
		pos += mlen;
	}
	return pos;
}

/*
 * One readiness of s's socket: the message a previous read cut off goes
 * to the front of the shared buffer, then read(2)s of up to the whole
 * buffer until the socket is drained (a read that does not fill what it
 * was offered), framing in place after each.
 */
static void
gen_sess_read(struct gen *g, struct gen_sess *s)
{
	uint8_t *buf = g->rbuf;
	size_t len = s->slen, room, pos;
	bool alive = false;
	ssize_t n;

	if (len > 0)
		memcpy(buf, s->stash, len);
	/*
	 * The session's bitmap has left the cache since its last read (78 MB
	 * stream through at 1,000 x 4); fetch it during the read(2).
	 */
	if (s->counting)
		gen_count_prefetch(&s->count);
	for (;;) {
		room = g->rbuf_size - len;
		n = read(s->fd, buf + len, room);
		if (n == 0) {
			gen_sess_fail(s, "connection closed by peer");
			return;
		}
		if (n == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR) {
				gen_sess_fail(s, "read: %s", strerror(errno));
				return;
			}
			break;
		}
		g->nreads++;
		g->nread_bytes += n;
		len += n;
		pos = gen_sess_frames(g, s, buf, len);
		if (s->state == GS_FAILED)
			return;
		if (pos > 0) {
			alive = true;
			/* what is left is a part of one message */
			len -= pos;
			memmove(buf, buf + pos, len);
		}
		if ((size_t)n < room)
			break;
	}
	if (len > s->scap) {
		/* most cut-off messages are small UPDATEs: no page each */
		s->scap = len < 256 ? 256 : BGP_MAX_LEN;
		free(s->stash);
		s->stash = xmalloc(s->scap);
	}
	if (len > 0)
		memcpy(s->stash, buf, len);
	s->slen = len;
	/* the peer is alive (§6.5); once per readiness, not per message */
	if (alive && s->hold_at > 0)
		s->hold_at = g->now + (s->holdtime > 0 ? s->holdtime : 240);
}

static unsigned int
gen_opening_max(const struct gen *g)
{
	return g->opening_max > 0 ? g->opening_max : GEN_OPENING_MAX;
}

/* starts sessions never tried yet, as many as the handshake limit allows */
static void
gen_fill(struct gen *g)
{
	struct gen_sess *s;

	while (g->next_new < g->nsess) {
		s = &g->sess[g->next_new];
		if (!s->listen && g->opening >= gen_opening_max(g))
			break;
		g->next_new++;
		s->tried = true;
		if (s->listen)
			gen_sess_listen(s);
		else
			gen_sess_connect(g, s);
		gen_sess_kick(s);
	}
}

static void
gen_sess_timers(struct gen *g, struct gen_sess *s, double now)
{
	if (s->state == GS_IDLE) {
		if (!s->tried || now < s->retry_at)
			return;
		if (s->listen)
			gen_sess_listen(s);
		else if (g->opening < gen_opening_max(g))
			gen_sess_connect(g, s);
		return;
	}
	if (s->state < GS_OPENSENT || s->state == GS_FAILED)
		return;
	if (s->hold_at > 0 && now >= s->hold_at) {
		struct bgp_err err;

		memset(&err, 0, sizeof(err));
		err_set(&err, ERR_HOLD, NULL, 0, "hold timer expired");
		gen_sess_notify(s, &err);
		gen_sess_fail(s, "hold timer expired");
		return;
	}
	if (s->state >= GS_OPENCONFIRM && s->holdtime > 0 &&
	    now >= s->keepalive_at) {
		gen_sess_queue(s, msg_keepalive());
		s->keepalive_at = now + s->holdtime / 3.0;
	}
}

/*
 * Runs every session's timers; returns when the next one is due, but not
 * sooner than GEN_TICK_S from now (a scan is O(sessions)).
 */
static double
gen_tick(struct gen *g, double now)
{
	struct gen_sess *s;
	double next = now + 1.0;
	unsigned int i;

	for (i = 0; i < g->nsess; i++) {
		s = &g->sess[i];
		gen_sess_timers(g, s, now);
		gen_sess_kick(s);
		if (s->state == GS_IDLE && s->tried && s->retry_at < next)
			next = s->retry_at;
		if (s->state < GS_OPENSENT || s->state == GS_FAILED)
			continue;
		if (s->hold_at > 0 && s->hold_at < next)
			next = s->hold_at;
		if (s->state >= GS_OPENCONFIRM && s->holdtime > 0 &&
		    s->keepalive_at < next)
			next = s->keepalive_at;
	}
	if (g->deadline > 0 && g->deadline < next)
		next = g->deadline;
	return next > now + GEN_TICK_S ? next : now + GEN_TICK_S;
}

bool
gen_all_established(const struct gen *g)
{
	return g->nestablished == g->nsess;
}

/*
 * All sessions are Established: t0 of a fan-out run.  Held-back bulks go
 * out now, to every session in one pass, and whoever started us (a script
 * polling for the file) learns that we are up.
 */
static void
gen_ready(struct gen *g)
{
	unsigned int i;
	int fd;

	g->ready = true;
	g->ready_at = gen_realtime();
	if (g->on_ready != NULL)
		g->on_ready(g);
	if (g->gate_bulk)
		for (i = 0; i < g->nsess; i++)
			gen_sess_kick(&g->sess[i]);
	if (g->verbose)
		log_info("all %u sessions Established", g->nsess);
	if (g->ready_file == NULL)
		return;
	fd =
	    open(g->ready_file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1)
		log_warn("%s", g->ready_file);
	else
		close(fd);
}

/*
 * While busy, wake at most every g->pace seconds.  A reflector writes each
 * client an UPDATE at a time; reading each as it comes costs a read(2), an
 * ACK and a wakeup per message, and that kernel work, not parsing, is most
 * of a generator's CPU.  Letting a millisecond's worth pile up in the
 * socket buffers makes the generator several times cheaper, delays no
 * write of the reflector (the buffers are far from full) and costs the
 * timing at most that millisecond.
 */
static void
gen_pace(const struct gen *g, double last_wake)
{
	struct timespec ts;
	double left;

	if (g->pace <= 0 || (left = last_wake + g->pace - gen_now()) <= 0)
		return;
	ts.tv_sec = 0;
	ts.tv_nsec = left * 1e9;
	nanosleep(&ts, NULL);
}

static void
gen_sess_event(struct gen *g, struct gen_sess *s, uint32_t events)
{
	socklen_t el;
	int err;

	switch (s->state) {
	case GS_LISTEN:
		gen_sess_accept(g, s);
		break;
	case GS_CONNECT:
		el = sizeof(err);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el) == -1 ||
		    err != 0) {
			gen_sess_retry(s);
			return;
		}
		gen_sess_start(g, s);
		break;
	case GS_IDLE:
	case GS_FAILED:
		/* the socket went away earlier in this batch */
		return;
	default:
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			gen_sess_read(g, s);
		break;
	}
	gen_sess_kick(s);
}

/*
 * Runs every session until done(g) says so (0), a session fails (-1) or
 * the deadline passes (1).
 */
int
gen_run(struct gen *g, bool (*done)(struct gen *))
{
	struct epoll_event *ev;
	struct gen_sess *s;
	double now, next_tick = 0, wake, last_wake = 0;
	unsigned int i;
	int n = 0, k, timeout, rc = -1;

	if ((g->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		fatal("epoll_create1");
	if (g->rbuf_size == 0)
		g->rbuf_size = GEN_RBUF;
	if (g->rbuf_size < 2 * BGP_MAX_LEN)
		fatalx("%s: a read buffer of %zu bytes is too small", __func__,
		    g->rbuf_size);
	g->rbuf = xmalloc(g->rbuf_size);
	g->now = gen_now();
	/* a second run (send --hold-after) picks up the sockets it has */
	for (i = 0; i < g->nsess; i++) {
		s = &g->sess[i];
		if (s->state == GS_LISTEN)
			gen_sess_watch(s, s->lfd);
		else if (s->fd != -1)
			gen_sess_watch(s, s->fd);
		gen_sess_interest(s);
	}
	ev = xcalloc(GEN_EVENTS, sizeof(*ev));
	for (;;) {
		now = gen_now();
		gen_fill(g);
		if (now >= next_tick)
			next_tick = gen_tick(g, now);
		if (!g->ready && gen_all_established(g))
			gen_ready(g);
		/* done first: a peer may hang up right after the last route */
		if (done(g)) {
			rc = 0;
			break;
		}
		if (g->nfailed > 0)
			break;
		if (g->deadline > 0 && now >= g->deadline) {
			rc = 1;
			break;
		}
		/* a full batch means more is ready now: no pause */
		if (g->ready && n > 0 && n < GEN_EVENTS)
			gen_pace(g, last_wake);
		wake = next_tick;
		if (g->deadline > 0 && g->deadline < wake)
			wake = g->deadline;
		timeout = wake > now ? (int)((wake - now) * 1000) + 1 : 0;
		if ((n = epoll_wait(g->epfd, ev, GEN_EVENTS, timeout)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("epoll_wait");
		}
		g->now = last_wake = gen_now();
		if (n > 0)
			g->nwakeups++;
		for (k = 0; k < n; k++)
			gen_sess_event(g, ev[k].data.ptr, ev[k].events);
	}
	free(ev);
	free(g->rbuf);
	g->rbuf = NULL;
	close(g->epfd);
	g->epfd = -1;
	return rc;
}
