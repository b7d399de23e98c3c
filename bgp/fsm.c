/*
 * The BGP finite state machine, RFC 4271 §8.
 *
 * bgp_fsm() is the only place where a peer changes state.  It never touches
 * a socket or a timer itself: it asks for actions through peer->ops, which
 * session.c implements on libevent and the unit tests implement as a
 * recorder.  Timers only feed events in here.  Received OPENs are parsed
 * before the event is raised (peer->remote_open) and judged by
 * ops->check_open, so this file knows nothing of the wire format.
 *
 * Deviations kept on purpose: an Idle peer restarts by itself after the
 * IdleHold timer (RFC 4271 §8.1.1 "automatic start", with the damping of
 * §8.2.1.3 done by doubling the hold on each flap), and an Active peer that
 * is not passive also tries to connect when ConnectRetry fires.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "bgp/session.h"

#define OPEN_HOLDTIME 240 /* RFC 4271 §8.2.2: "large value", 4 minutes */
#define IDLE_HOLD_MAX 120 /* seconds */

static const char *const state_names[] = {
    [STATE_NONE] = "None",
    [STATE_IDLE] = "Idle",
    [STATE_CONNECT] = "Connect",
    [STATE_ACTIVE] = "Active",
    [STATE_OPENSENT] = "OpenSent",
    [STATE_OPENCONFIRM] = "OpenConfirm",
    [STATE_ESTABLISHED] = "Established",
};

static const char *const event_names[] = {
    [EVNT_NONE] = "none",
    [EVNT_START] = "start",
    [EVNT_STOP] = "stop",
    [EVNT_CON_OPEN] = "connection open",
    [EVNT_CON_CLOSED] = "connection closed",
    [EVNT_CON_OPENFAIL] = "connection open failed",
    [EVNT_CON_FATAL] = "connection fatal error",
    [EVNT_TIMER_CONNRETRY] = "ConnectRetry timer expired",
    [EVNT_TIMER_HOLDTIME] = "Hold timer expired",
    [EVNT_TIMER_KEEPALIVE] = "Keepalive timer expired",
    [EVNT_TIMER_IDLEHOLD] = "IdleHold timer expired",
    [EVNT_RCVD_OPEN] = "OPEN received",
    [EVNT_RCVD_KEEPALIVE] = "KEEPALIVE received",
    [EVNT_RCVD_UPDATE] = "UPDATE received",
    [EVNT_RCVD_NOTIFICATION] = "NOTIFICATION received",
    [EVNT_RCVD_RREFRESH] = "ROUTE-REFRESH received",
};

const char *
peer_state_name(enum peer_state s)
{
	return s <= STATE_ESTABLISHED ? state_names[s] : "?";
}

const char *
fsm_event_name(enum fsm_event e)
{
	return e <= EVNT_RCVD_RREFRESH ? event_names[e] : "?";
}

void
peer_log(const struct peer *p, enum log_level level, const char *fmt, ...)
{
	char prefix[ADDR_STRLEN + 8];
	va_list ap;

	if (!log_enabled(level))
		return;
	snprintf(prefix, sizeof(prefix), "peer %s: ", p->name);
	va_start(ap, fmt);
	log_vmsg(level, prefix, fmt, ap);
	va_end(ap);
}

/*
 * RFC 4271 §10: ConnectRetry, Keepalive and similar timers are jittered by a
 * random factor in [0.75, 1].  rnd is uniformly distributed over uint32_t.
 */
unsigned int
timer_jitter(unsigned int msec, uint32_t rnd)
{
	uint64_t scaled = (uint64_t)msec * (3 * (uint64_t)UINT32_MAX + rnd);

	return (unsigned int)(scaled / (4 * (uint64_t)UINT32_MAX));
}

static void
fsm_timers_stop(struct peer *p)
{
	p->ops->timer_stop(p, TIMER_CONNRETRY);
	p->ops->timer_stop(p, TIMER_HOLD);
	p->ops->timer_stop(p, TIMER_KEEPALIVE);
	p->ops->timer_stop(p, TIMER_IDLEHOLD);
}

static void
fsm_change_state(struct peer *p, enum peer_state state, enum fsm_event event)
{
	enum peer_state old = p->state;
	bool cycling;

	if (old == state)
		return;
	p->prev_state = old;
	p->state = state;
	p->last_event = event;
	/*
	 * Every change is logged at info, except the Connect/Active cycle of
	 * a peer we cannot reach, which would say the same every few seconds.
	 */
	cycling = (old == STATE_CONNECT && state == STATE_ACTIVE) ||
	    (old == STATE_ACTIVE && state == STATE_CONNECT);
	peer_log(p, cycling ? LOG_LVL_DEBUG : LOG_LVL_INFO,
	    "state %s -> %s (%s)", peer_state_name(old), peer_state_name(state),
	    fsm_event_name(event));
	if (state == STATE_ESTABLISHED) {
		p->uptime = time(NULL);
		p->idle_hold = 0;
		p->ops->established(p);
	} else if (old == STATE_ESTABLISHED) {
		p->uptime = time(NULL);
		p->stats.flaps++;
		p->ops->down(p);
	}
}

/* any state -> Idle: drop the connection and arm the automatic restart */
static void
fsm_idle(struct peer *p, enum fsm_event event)
{
	unsigned int hold;

	fsm_timers_stop(p);
	p->ops->close(p);
	fsm_change_state(p, STATE_IDLE, event);
	if (event == EVNT_STOP)
		return;
	/* RFC 4271 §8.2.1.3: back off on repeated failures */
	if (p->idle_hold == 0)
		p->idle_hold = 1;
	else if (p->idle_hold < IDLE_HOLD_MAX)
		p->idle_hold = p->idle_hold * 2 > IDLE_HOLD_MAX
		    ? IDLE_HOLD_MAX
		    : p->idle_hold * 2;
	hold = p->idle_hold;
	if (event == EVNT_RCVD_NOTIFICATION || event == EVNT_TIMER_HOLDTIME)
		hold = hold < p->connect_retry ? p->connect_retry : hold;
	p->ops->timer_set(p, TIMER_IDLEHOLD, hold * 1000);
}

static void
fsm_error(struct peer *p, enum bgp_error err, enum fsm_event event)
{
	struct bgp_err e;

	err_set(&e, err, NULL, 0, "%s in state %s", fsm_event_name(event),
	    peer_state_name(p->state));
	p->ops->send_notification(p, &e);
	fsm_idle(p, event);
}

static void
fsm_connretry_start(struct peer *p)
{
	p->ops->timer_set(p, TIMER_CONNRETRY,
	    timer_jitter(p->connect_retry * 1000, (uint32_t)random()));
}

static void
fsm_keepalive_start(struct peer *p)
{
	/* RFC 4271 §10: one third of the hold time */
	if (p->holdtime > 0)
		p->ops->timer_set(p, TIMER_KEEPALIVE,
		    timer_jitter(p->holdtime * 1000 / 3, (uint32_t)random()));
}

static void
fsm_hold_start(struct peer *p)
{
	if (p->holdtime > 0)
		p->ops->timer_set(p, TIMER_HOLD, p->holdtime * 1000);
	else
		p->ops->timer_stop(p, TIMER_HOLD);
}

static void
fsm_open_sent(struct peer *p, enum fsm_event event)
{
	p->ops->timer_stop(p, TIMER_CONNRETRY);
	p->ops->send_open(p);
	p->ops->timer_set(p, TIMER_HOLD, OPEN_HOLDTIME * 1000);
	fsm_change_state(p, STATE_OPENSENT, event);
}

static void
fsm_rcvd_open(struct peer *p, enum fsm_event event)
{
	struct bgp_err e;
	unsigned int remote = p->remote_open.holdtime;

	memset(&e, 0, sizeof(e));
	if (p->ops->check_open(p, &e) == -1) {
		p->ops->send_notification(p, &e);
		fsm_idle(p, event);
		return;
	}
	/* RFC 4271 §4.2: the smaller of the two hold times */
	p->holdtime =
	    p->local_open.holdtime < remote ? p->local_open.holdtime : remote;
	p->ops->send_keepalive(p);
	fsm_keepalive_start(p);
	fsm_hold_start(p);
	fsm_change_state(p, STATE_OPENCONFIRM, event);
}

/*
 * Events handled alike in OpenSent, OpenConfirm and Established, once each
 * state has taken the ones it treats its own way.  Anything else there is
 * an FSM error (RFC 6608 subcode per state).
 */
static void
fsm_session(struct peer *p, enum fsm_event event, enum bgp_error unexpected)
{
	switch (event) {
	case EVNT_START:
		break;
	case EVNT_STOP:
		p->ops->send_notification(p, &p->stop_err);
		fsm_idle(p, event);
		break;
	case EVNT_TIMER_KEEPALIVE:
		/* no KeepaliveTimer runs before our KEEPALIVE went out */
		if (p->state == STATE_OPENSENT) {
			fsm_error(p, unexpected, event);
			break;
		}
		p->ops->send_keepalive(p);
		fsm_keepalive_start(p);
		break;
	case EVNT_TIMER_HOLDTIME:
		fsm_error(p, ERR_HOLD, event);
		break;
	case EVNT_RCVD_NOTIFICATION:
	case EVNT_CON_CLOSED:
	case EVNT_CON_FATAL:
		fsm_idle(p, event);
		break;
	default:
		fsm_error(p, unexpected, event);
		break;
	}
}

void
bgp_fsm(struct peer *p, enum fsm_event event)
{
	switch (p->state) {
	case STATE_NONE:
	case STATE_IDLE:
		switch (event) {
		case EVNT_START:
		case EVNT_TIMER_IDLEHOLD:
			fsm_timers_stop(p);
			fsm_connretry_start(p);
			if (p->conf->passive) {
				fsm_change_state(p, STATE_ACTIVE, event);
			} else {
				fsm_change_state(p, STATE_CONNECT, event);
				p->ops->connect(p);
			}
			break;
		case EVNT_STOP:
			fsm_timers_stop(p);
			break;
		default:
			/* RFC 4271 §8.2.2: other events are ignored in Idle */
			break;
		}
		break;
	case STATE_CONNECT:
		switch (event) {
		case EVNT_START:
			break;
		case EVNT_CON_OPEN:
			fsm_open_sent(p, event);
			break;
		case EVNT_CON_OPENFAIL:
			p->ops->close(p);
			fsm_connretry_start(p);
			fsm_change_state(p, STATE_ACTIVE, event);
			break;
		case EVNT_TIMER_CONNRETRY:
			p->ops->close(p);
			fsm_connretry_start(p);
			p->ops->connect(p);
			break;
		default:
			fsm_idle(p, event);
			break;
		}
		break;
	case STATE_ACTIVE:
		switch (event) {
		case EVNT_START:
			break;
		case EVNT_CON_OPEN:
			fsm_open_sent(p, event);
			break;
		case EVNT_CON_OPENFAIL:
			p->ops->close(p);
			fsm_connretry_start(p);
			break;
		case EVNT_TIMER_CONNRETRY:
			fsm_connretry_start(p);
			if (!p->conf->passive) {
				fsm_change_state(p, STATE_CONNECT, event);
				p->ops->connect(p);
			}
			break;
		default:
			fsm_idle(p, event);
			break;
		}
		break;
	case STATE_OPENSENT:
		switch (event) {
		case EVNT_CON_CLOSED:
			/* RFC 4271 §8.2.2: back to Active, keep listening */
			p->ops->close(p);
			p->ops->timer_stop(p, TIMER_HOLD);
			fsm_connretry_start(p);
			fsm_change_state(p, STATE_ACTIVE, event);
			break;
		case EVNT_CON_OPENFAIL:
			fsm_idle(p, event);
			break;
		case EVNT_RCVD_OPEN:
			fsm_rcvd_open(p, event);
			break;
		default:
			fsm_session(p, event, ERR_FSM_OPENSENT);
			break;
		}
		break;
	case STATE_OPENCONFIRM:
		switch (event) {
		case EVNT_RCVD_KEEPALIVE:
			fsm_hold_start(p);
			fsm_change_state(p, STATE_ESTABLISHED, event);
			break;
		default:
			fsm_session(p, event, ERR_FSM_OPENCONFIRM);
			break;
		}
		break;
	case STATE_ESTABLISHED:
		switch (event) {
		case EVNT_RCVD_KEEPALIVE:
		case EVNT_RCVD_UPDATE:
		case EVNT_RCVD_RREFRESH:
			/* RFC 4271 §8.2.2: restart the HoldTimer */
			fsm_hold_start(p);
			break;
		default:
			fsm_session(p, event, ERR_FSM_ESTABLISHED);
			break;
		}
		break;
	}
}
