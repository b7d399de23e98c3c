/*
 * Peers and sessions: the RFC 4271 §8 finite state machine, its timers, and
 * the TCP connection under it.  The FSM (fsm.c) is pure: it changes state and
 * asks for actions through struct fsm_ops, so tests drive it without sockets.
 * session.c supplies the real actions on libevent.
 */
#ifndef PODMESH_BGP_SESSION_H
#define PODMESH_BGP_SESSION_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <time.h>

#include "bgp/config.h"
#include "bgp/rib.h"
#include "bgp/wire.h"

enum peer_state {
	STATE_NONE,
	STATE_IDLE,
	STATE_CONNECT,
	STATE_ACTIVE,
	STATE_OPENSENT,
	STATE_OPENCONFIRM,
	STATE_ESTABLISHED,
};

enum fsm_event {
	EVNT_NONE,
	EVNT_START,
	EVNT_STOP,
	EVNT_CON_OPEN, /* TCP connection up */
	EVNT_CON_CLOSED, /* peer closed, or read/write failed */
	EVNT_CON_OPENFAIL, /* connect() failed */
	EVNT_CON_FATAL, /* local failure on the connection */
	EVNT_TIMER_CONNRETRY,
	EVNT_TIMER_HOLDTIME,
	EVNT_TIMER_KEEPALIVE,
	EVNT_TIMER_IDLEHOLD,
	EVNT_RCVD_OPEN,
	EVNT_RCVD_KEEPALIVE,
	EVNT_RCVD_UPDATE,
	EVNT_RCVD_NOTIFICATION,
	EVNT_RCVD_RREFRESH,
};

enum peer_timer {
	TIMER_CONNRETRY,
	TIMER_HOLD,
	TIMER_KEEPALIVE,
	TIMER_IDLEHOLD,
	TIMER_RESTART, /* RFC 4724 restart time of a restarting peer */
	TIMER_STALE, /* RFC 4724 stale routes deadline after re-open */
	TIMER_MAX,
};

struct peer;

/* actions the FSM asks for; session.c implements them, tests record them */
struct fsm_ops {
	void (*connect)(struct peer *);
	void (*close)(struct peer *);
	void (*send_open)(struct peer *);
	void (*send_keepalive)(struct peer *);
	void (*send_notification)(struct peer *, const struct bgp_err *);
	void (*timer_set)(struct peer *, enum peer_timer, unsigned int msec);
	void (*timer_stop)(struct peer *, enum peer_timer);
	void (*established)(struct peer *);
	void (*down)(struct peer *); /* left Established */
	int (*check_open)(struct peer *, struct bgp_err *);
};

struct peer_stats {
	uint64_t msgs_in[MSG_RREFRESH + 1];
	uint64_t msgs_out[MSG_RREFRESH + 1];
	uint64_t updates_in;
	uint64_t prefixes_in;
	uint64_t prefixes_out;
	uint32_t flaps;
};

struct conn; /* session.c */
struct bgpd;
struct ugroup; /* ugroup.h */

struct peer {
	TAILQ_ENTRY(peer) entry;
	struct bgpd *bgpd;
	struct peer_config *conf; /* owned by the peer (a copy) */
	const struct fsm_ops *ops;
	struct rib_src src;
	struct addr addr; /* remote address */
	char name[ADDR_STRLEN]; /* for log lines */
	bool dynamic; /* accepted from a range: freed when it drops */
	struct peer_config *range; /* the range it came from */

	enum peer_state state;
	enum peer_state prev_state;
	enum fsm_event last_event;
	struct bgp_err last_err; /* last NOTIFICATION sent or received */
	bool last_err_sent;
	struct bgp_err stop_err; /* what EVNT_STOP says in its NOTIFICATION */
	time_t uptime; /* when it entered or left Established */
	unsigned int idle_hold; /* seconds, grows on flaps */
	unsigned int holdtime; /* negotiated */
	unsigned int connect_retry;

	struct bgp_open local_open;
	struct bgp_open remote_open;
	struct bgp_neg neg;
	struct update_ctx rx_ctx, tx_ctx;
	bool gr_restarting; /* peer restarted: its routes are stale */
	bool eor_sent[AID_MAX];
	bool eor_rcvd[AID_MAX];

	struct conn *conn; /* the connection the FSM runs on */
	struct conn *incoming; /* second connection, for collision */
	void *timers; /* owned by the ops implementation */
	struct peer_stats stats;

	/* outbound: the update group and where p is in its stream */
	struct ugroup *ug;
	TAILQ_ENTRY(peer) ug_entry;
	uint64_t ug_seq;
	bool ug_skipped; /* its last messages were all its own routes */
	bool refresh_pending[AID_MAX]; /* EoRR owed (RFC 7313) */
};

/* fsm.c */
void bgp_fsm(struct peer *, enum fsm_event);
const char *peer_state_name(enum peer_state);
const char *fsm_event_name(enum fsm_event);
unsigned int timer_jitter(unsigned int, uint32_t);
void peer_log(const struct peer *, enum log_level, const char *, ...)
    __attribute__((format(printf, 3, 4)));

#endif

/* session.c */
#define SESS_OUT_HIGH (256 * 1024) /* stop writing UPDATEs above this */
/*
 * and write more once the output buffer is empty: the kernel's socket
 * buffer keeps the link busy meanwhile, and an update group member's
 * output then holds one run of page references at a time, not one per
 * flush (ugroup.c)
 */
#define SESS_OUT_LOW 0

struct peer *peer_new(
    struct bgpd *, const struct peer_config *, const struct addr *);
void peer_free(struct peer *);
void peer_start(struct peer *);
void peer_stop(struct peer *, enum bgp_error);
void session_send(struct peer *, struct ibuf *);
void session_send_copy(struct peer *, const struct ibuf *);
void session_send_ref(struct peer *, const void *, size_t,
    void (*)(const void *, size_t, void *), void *);
size_t session_output_len(const struct peer *);
void session_error(struct peer *, const struct bgp_err *);
const struct addr *session_local_addr(const struct peer *);
void session_pause_reading(struct bgpd *, bool);
int listener_setup(struct bgpd *);
void listener_free(struct bgpd *);

/* rde.c: what comes in */
void rde_update(struct peer *, struct ibuf *);
void rde_established(struct peer *);
void rde_down(struct peer *);
void rde_rrefresh(struct peer *, enum aid, uint8_t);
void rde_stale_expired(struct peer *);

/* export.c: what goes out */
void export_rib_change(struct rib_entry *, struct rib_path *, struct rib_path *,
    enum rib_change, void *);
void export_peer_up(struct peer *);
void export_peer_down(struct peer *);
void export_refresh(struct peer *, enum aid);
void export_flush(struct peer *);
void export_flush_all(int, short, void *);
