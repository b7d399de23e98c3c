/*
 * confd/backend_v2.c without an etcd: freeing the backend while its
 * thread is stuck in a request to an etcd that accepted the connection
 * and never answers (a listening socket nobody accepts on) returns within
 * about a second, not after the client's request timeout; the thread,
 * left alone, finishes the request later and frees what it holds (ASan
 * and LSan watch that, the test waits for it).  Freeing while the thread
 * sleeps between tries of a refused connection is immediate.  Nothing was
 * ever loaded in either case.  (The live cases, against a real etcd, are
 * in tests/integration/t_confd_etcdv2.sh.)
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "confd/confd.h"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* a loopback TCP socket listening, never accepting; its port in *port */
static int
silent_listener(int *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s;

	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 16), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return s;
}

/* a loopback port nothing listens on */
static int
closed_port(void)
{
	int port, s = silent_listener(&port);

	close(s);
	return port;
}

static void
run_loop(struct event_base *base, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

/* a backend on endpoint, started, the loop run for 300 ms: ms to free */
static long
start_and_free(struct event_base *base, const char *endpoint, int timeout_ms)
{
	struct confd_backend_config cfg;
	struct confd_backend *b;
	char err[CONFD_ERRLEN];
	long t0;

	memset(&cfg, 0, sizeof(cfg));
	cfg.type = "etcdv2";
	cfg.etcd.endpoints = endpoint;
	cfg.etcd.timeout_ms = timeout_ms;
	cfg.base = base;
	b = confd_backend_new(&cfg, err, sizeof(err));
	if (b == NULL)
		fail_msg("%s", err);
	assert_int_equal(confd_backend_start(b, err, sizeof(err)), 0);
	run_loop(base, 300);
	assert_null(confd_backend_kvs(b));
	t0 = now_ms();
	confd_backend_free(b);
	return now_ms() - t0;
}

static void
test_free_stuck_request(void **state)
{
	struct event_base *base = event_base_new();
	char url[64];
	long ms;
	int port, s;

	(void)state;
	s = silent_listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	/* the list request hangs for 3 s; free does not wait for it */
	ms = start_and_free(base, url, 3000);
	if (ms > 1500)
		fail_msg("free took %ld ms", ms);
	assert_true(ms >= 900); /* it did wait V2_JOIN_MS first */
	/* the thread ends with its request and frees the rest */
	usleep(3500 * 1000);
	close(s);
	event_base_free(base);
}

static void
test_free_while_retrying(void **state)
{
	struct event_base *base = event_base_new();
	char url[64];
	long ms;

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
	ms = start_and_free(base, url, 0);
	if (ms > 200)
		fail_msg("free took %ld ms", ms);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_free_stuck_request),
	    cmocka_unit_test(test_free_while_retrying),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
