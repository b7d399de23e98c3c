/*
 * The RFC 4271 §8 state machine driven without sockets: a recorder stands in
 * for session.c's actions and each test checks state, actions and timers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/session.h"

struct recorder {
	int connects, closes, opens, keepalives, established, downs;
	int notifications;
	enum bgp_error last_notification;
	unsigned int timer[TIMER_MAX]; /* msec, 0 = stopped */
	int check_result;
	enum bgp_error check_err;
};

static struct recorder rec;

static void
r_connect(struct peer *p)
{
	rec.connects++;
}

static void
r_close(struct peer *p)
{
	rec.closes++;
}

static void
r_send_open(struct peer *p)
{
	rec.opens++;
}

static void
r_send_keepalive(struct peer *p)
{
	rec.keepalives++;
}

static void
r_send_notification(struct peer *p, const struct bgp_err *e)
{
	rec.notifications++;
	rec.last_notification = e->err;
}

static void
r_timer_set(struct peer *p, enum peer_timer t, unsigned int msec)
{
	rec.timer[t] = msec;
}

static void
r_timer_stop(struct peer *p, enum peer_timer t)
{
	rec.timer[t] = 0;
}

static void
r_established(struct peer *p)
{
	rec.established++;
}

static void
r_down(struct peer *p)
{
	rec.downs++;
}

static int
r_check_open(struct peer *p, struct bgp_err *e)
{
	if (rec.check_result == -1)
		err_set(e, rec.check_err, NULL, 0, "test");
	return rec.check_result;
}

static const struct fsm_ops recorder_ops = {
    .connect = r_connect,
    .close = r_close,
    .send_open = r_send_open,
    .send_keepalive = r_send_keepalive,
    .send_notification = r_send_notification,
    .timer_set = r_timer_set,
    .timer_stop = r_timer_stop,
    .established = r_established,
    .down = r_down,
    .check_open = r_check_open,
};

struct fixture {
	struct peer peer;
	struct peer_config conf;
};

static int
setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	memset(&rec, 0, sizeof(rec));
	f.conf.holdtime = 90;
	f.conf.connect_retry = 5;
	f.peer.conf = &f.conf;
	f.peer.ops = &recorder_ops;
	f.peer.state = STATE_IDLE;
	f.peer.connect_retry = 5;
	f.peer.local_open.holdtime = 90;
	strcpy(f.peer.name, "192.0.2.2");
	*state = &f;
	return 0;
}

static struct peer *
peer_of(void **state)
{
	return &((struct fixture *)*state)->peer;
}

/* drive a peer to Established with the given remote hold time */
static void
establish(struct peer *p, uint16_t remote_hold)
{
	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPEN);
	p->remote_open.holdtime = remote_hold;
	bgp_fsm(p, EVNT_RCVD_OPEN);
	bgp_fsm(p, EVNT_RCVD_KEEPALIVE);
}

static void
test_start_connects(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_START);
	assert_int_equal(p->state, STATE_CONNECT);
	assert_int_equal(rec.connects, 1);
	/* RFC 4271 §10 jitter: 0.75..1 of 5 s */
	assert_in_range(rec.timer[TIMER_CONNRETRY], 3750, 5000);
}

static void
test_start_passive(void **state)
{
	struct peer *p = peer_of(state);

	p->conf->passive = true;
	bgp_fsm(p, EVNT_START);
	assert_int_equal(p->state, STATE_ACTIVE);
	assert_int_equal(rec.connects, 0);
	/* ConnectRetry in Active does not connect a passive peer */
	bgp_fsm(p, EVNT_TIMER_CONNRETRY);
	assert_int_equal(p->state, STATE_ACTIVE);
	assert_int_equal(rec.connects, 0);
}

static void
test_connect_fail_then_retry(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPENFAIL);
	assert_int_equal(p->state, STATE_ACTIVE);
	assert_int_equal(rec.closes, 1);
	bgp_fsm(p, EVNT_TIMER_CONNRETRY);
	assert_int_equal(p->state, STATE_CONNECT);
	assert_int_equal(rec.connects, 2);
}

static void
test_open_sent(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPEN);
	assert_int_equal(p->state, STATE_OPENSENT);
	assert_int_equal(rec.opens, 1);
	assert_int_equal(rec.timer[TIMER_CONNRETRY], 0);
	/* RFC 4271 §8.2.2: a large hold time while waiting for OPEN */
	assert_int_equal(rec.timer[TIMER_HOLD], 240000);
}

static void
test_open_negotiates_holdtime(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPEN);
	p->remote_open.holdtime = 30;
	bgp_fsm(p, EVNT_RCVD_OPEN);
	assert_int_equal(p->state, STATE_OPENCONFIRM);
	assert_int_equal(p->holdtime, 30);
	assert_int_equal(rec.keepalives, 1);
	assert_int_equal(rec.timer[TIMER_HOLD], 30000);
	assert_in_range(rec.timer[TIMER_KEEPALIVE], 7500, 10000);
	bgp_fsm(p, EVNT_RCVD_KEEPALIVE);
	assert_int_equal(p->state, STATE_ESTABLISHED);
	assert_int_equal(rec.established, 1);
	assert_int_equal(p->idle_hold, 0);
}

static void
test_holdtime_zero(void **state)
{
	struct peer *p = peer_of(state);

	establish(p, 0);
	assert_int_equal(p->state, STATE_ESTABLISHED);
	assert_int_equal(p->holdtime, 0);
	assert_int_equal(rec.timer[TIMER_HOLD], 0);
	assert_int_equal(rec.timer[TIMER_KEEPALIVE], 0);
}

static void
test_open_rejected(void **state)
{
	struct peer *p = peer_of(state);

	rec.check_result = -1;
	rec.check_err = ERR_OPEN_AS;
	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPEN);
	bgp_fsm(p, EVNT_RCVD_OPEN);
	assert_int_equal(p->state, STATE_IDLE);
	assert_int_equal(rec.notifications, 1);
	assert_int_equal(rec.last_notification, ERR_OPEN_AS);
	assert_int_equal(err_code(rec.last_notification), 2);
	assert_int_equal(err_subcode(rec.last_notification), 2);
	assert_int_not_equal(rec.timer[TIMER_IDLEHOLD], 0);
	assert_int_equal(rec.established, 0);
}

static void
test_unexpected_in_opensent(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPEN);
	bgp_fsm(p, EVNT_RCVD_KEEPALIVE);
	assert_int_equal(p->state, STATE_IDLE);
	/* RFC 6608: 5/1 */
	assert_int_equal(rec.last_notification, ERR_FSM_OPENSENT);
	assert_int_equal(err_code(rec.last_notification), 5);
	assert_int_equal(err_subcode(rec.last_notification), 1);
}

static void
test_open_in_established(void **state)
{
	struct peer *p = peer_of(state);

	establish(p, 90);
	bgp_fsm(p, EVNT_RCVD_OPEN);
	assert_int_equal(p->state, STATE_IDLE);
	assert_int_equal(rec.last_notification, ERR_FSM_ESTABLISHED);
	assert_int_equal(rec.downs, 1);
}

static void
test_hold_expiry(void **state)
{
	struct peer *p = peer_of(state);

	establish(p, 90);
	bgp_fsm(p, EVNT_TIMER_HOLDTIME);
	assert_int_equal(p->state, STATE_IDLE);
	assert_int_equal(rec.last_notification, ERR_HOLD);
	assert_int_equal(err_code(ERR_HOLD), 4);
	assert_int_equal(rec.downs, 1);
	assert_int_equal(p->stats.flaps, 1);
	assert_int_equal(rec.timer[TIMER_KEEPALIVE], 0);
}

static void
test_messages_restart_hold(void **state)
{
	struct peer *p = peer_of(state);

	establish(p, 90);
	rec.timer[TIMER_HOLD] = 0;
	bgp_fsm(p, EVNT_RCVD_UPDATE);
	assert_int_equal(rec.timer[TIMER_HOLD], 90000);
	rec.timer[TIMER_HOLD] = 0;
	bgp_fsm(p, EVNT_RCVD_KEEPALIVE);
	assert_int_equal(rec.timer[TIMER_HOLD], 90000);
	bgp_fsm(p, EVNT_TIMER_KEEPALIVE);
	assert_int_equal(rec.keepalives, 2);
	assert_int_equal(p->state, STATE_ESTABLISHED);
}

static void
test_stop_sends_cease(void **state)
{
	struct peer *p = peer_of(state);

	establish(p, 90);
	err_set(&p->stop_err, ERR_CEASE_ADMIN_DOWN, NULL, 0, NULL);
	bgp_fsm(p, EVNT_STOP);
	assert_int_equal(p->state, STATE_IDLE);
	assert_int_equal(rec.last_notification, ERR_CEASE_ADMIN_DOWN);
	/* stopped on purpose: no automatic restart */
	assert_int_equal(rec.timer[TIMER_IDLEHOLD], 0);
	bgp_fsm(p, EVNT_TIMER_CONNRETRY);
	assert_int_equal(p->state, STATE_IDLE);
}

static void
test_idle_hold_backoff(void **state)
{
	struct peer *p = peer_of(state);
	unsigned int prev = 0;
	int i;

	for (i = 0; i < 10; i++) {
		bgp_fsm(p, EVNT_TIMER_IDLEHOLD);
		assert_int_equal(p->state, STATE_CONNECT);
		bgp_fsm(p, EVNT_CON_OPEN);
		bgp_fsm(p, EVNT_CON_FATAL);
		assert_int_equal(p->state, STATE_IDLE);
		assert_true(rec.timer[TIMER_IDLEHOLD] >= prev);
		assert_true(rec.timer[TIMER_IDLEHOLD] <= 120000);
		prev = rec.timer[TIMER_IDLEHOLD];
	}
	assert_int_equal(prev, 120000);
	/* a successful session resets the damping */
	establish(p, 90);
	assert_int_equal(p->idle_hold, 0);
}

static void
test_peer_closes_in_opensent(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_START);
	bgp_fsm(p, EVNT_CON_OPEN);
	bgp_fsm(p, EVNT_CON_CLOSED);
	/* RFC 4271 §8.2.2: OpenSent goes back to Active */
	assert_int_equal(p->state, STATE_ACTIVE);
	assert_int_not_equal(rec.timer[TIMER_CONNRETRY], 0);
}

static void
test_idle_ignores_messages(void **state)
{
	struct peer *p = peer_of(state);

	bgp_fsm(p, EVNT_RCVD_UPDATE);
	bgp_fsm(p, EVNT_TIMER_HOLDTIME);
	assert_int_equal(p->state, STATE_IDLE);
	assert_int_equal(rec.notifications, 0);
	assert_int_equal(rec.connects, 0);
}

static void
test_jitter(void **state)
{
	assert_int_equal(timer_jitter(1000, 0), 750);
	assert_int_equal(timer_jitter(1000, UINT32_MAX), 1000);
	assert_in_range(timer_jitter(1000, UINT32_MAX / 2), 870, 880);
	assert_string_equal(peer_state_name(STATE_OPENCONFIRM), "OpenConfirm");
	assert_string_equal(peer_state_name(STATE_ESTABLISHED), "Established");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_start_connects, setup),
	    cmocka_unit_test_setup(test_start_passive, setup),
	    cmocka_unit_test_setup(test_connect_fail_then_retry, setup),
	    cmocka_unit_test_setup(test_open_sent, setup),
	    cmocka_unit_test_setup(test_open_negotiates_holdtime, setup),
	    cmocka_unit_test_setup(test_holdtime_zero, setup),
	    cmocka_unit_test_setup(test_open_rejected, setup),
	    cmocka_unit_test_setup(test_unexpected_in_opensent, setup),
	    cmocka_unit_test_setup(test_open_in_established, setup),
	    cmocka_unit_test_setup(test_hold_expiry, setup),
	    cmocka_unit_test_setup(test_messages_restart_hold, setup),
	    cmocka_unit_test_setup(test_stop_sends_cease, setup),
	    cmocka_unit_test_setup(test_idle_hold_backoff, setup),
	    cmocka_unit_test_setup(test_peer_closes_in_opensent, setup),
	    cmocka_unit_test_setup(test_idle_ignores_messages, setup),
	    cmocka_unit_test_setup(test_jitter, setup),
	};

	log_init("fsm_test", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
