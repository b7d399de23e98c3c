/*
 * ctl/status.c (compiled into this test by tests/CMakeLists.txt): the rows
 * of `podmeshctl node status` from podmesh-bgpd's peers answer and from
 * BIRD's `show protocols`, and calicoctl's layout, compared byte for byte.
 * Times are in TZ=UTC unless a test sets another zone (POSIX TZ strings,
 * no tzdata needed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ctl/ctl.h"

/* 2026-11-26 16:45:00 UTC */
#define NOW ((time_t)1795711500)

static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static int
setup(void **state)
{
	(void)state;
	set_tz("UTC0");
	return 0;
}

static json_t *
load(const char *text)
{
	json_error_t jerr;
	json_t *doc;

	doc = json_loads(text, JSON_PRESERVE_ORDER, &jerr);
	if (doc == NULL)
		fail_msg("test JSON: %s", jerr.text);
	return doc;
}

/* the printed tables of the peers answer, or NULL and err */
static char *
render(const char *text, char *err, size_t errlen)
{
	struct status st;
	char *out = NULL;
	size_t len;
	json_t *doc;
	FILE *f;

	doc = load(text);
	if (status_from_peers(doc, &st, err, errlen) == -1) {
		json_decref(doc);
		return NULL;
	}
	json_decref(doc);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	status_print(&st, NOW, f);
	fclose(f);
	status_clean(&st);
	return out;
}

static void
test_state_word(void **state)
{
	(void)state;
	assert_string_equal(status_state_word("Established"), "up");
	assert_string_equal(status_state_word("Idle"), "start");
	assert_string_equal(status_state_word("Connect"), "start");
	assert_string_equal(status_state_word("Active"), "start");
	assert_string_equal(status_state_word("OpenSent"), "start");
	assert_string_equal(status_state_word("OpenConfirm"), "start");
	assert_string_equal(status_state_word("Bogus"), "-");
	assert_string_equal(status_state_word(NULL), "-");
}

static void
test_since(void **state)
{
	char buf[32];

	(void)state;
	/* today, earlier */
	status_since(NOW - 3600, NOW, buf, sizeof(buf));
	assert_string_equal(buf, "15:45:00");
	/* midnight today */
	status_since(NOW - (16 * 3600 + 45 * 60), NOW, buf, sizeof(buf));
	assert_string_equal(buf, "00:00:00");
	/* a second before: yesterday, the date */
	status_since(NOW - (16 * 3600 + 45 * 60) - 1, NOW, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-25");
	status_since(NOW - 400 * 86400, NOW, buf, sizeof(buf));
	assert_string_equal(buf, "2025-10-22");
	status_since(0, NOW, buf, sizeof(buf));
	assert_string_equal(buf, "-");
	/* local time: at UTC+9 (no DST) NOW is 01:45 on the 27th */
	set_tz("JST-9");
	status_since(NOW - 3600, NOW, buf, sizeof(buf));
	assert_string_equal(buf, "00:45:00");
	status_since(NOW - 2 * 3600, NOW, buf, sizeof(buf));
	assert_string_equal(buf, "2026-11-26");
	set_tz("UTC0");
}

static void
test_info(void **state)
{
	char *s;

	(void)state;
	s = status_info("Established", NULL);
	assert_string_equal(s, "Established");
	free(s);
	/* an old error does not show once Established */
	s = status_info("Established", "Hold timer expired");
	assert_string_equal(s, "Established");
	free(s);
	s = status_info("Active", "Connection refused");
	assert_string_equal(s, "Active Connection refused");
	free(s);
	s = status_info("Connect", "");
	assert_string_equal(s, "Connect");
	free(s);
	s = status_info(NULL, NULL);
	assert_string_equal(s, "-");
	free(s);
}

static void
test_table(void **state)
{
	char err[256], *out;

	(void)state;
	/* out of order, IPv6 among IPv4, extra fields ignored */
	out = render(
	    "[{\"address\": \"192.0.2.13\", \"asn\": 64512, \"state\": "
	    "\"Active\", \"type\": \"node-to-node mesh\", \"since\": "
	    "1795710000, \"last_error\": \"Connection refused\"},"
	    " {\"address\": \"2001:db8:1::12\", \"state\": \"Established\", "
	    "\"type\": \"node-to-node mesh\", \"since\": 1795600000, "
	    "\"last_error\": null},"
	    " {\"address\": \"192.0.2.12\", \"state\": \"Established\", "
	    "\"type\": \"node-to-node mesh\", \"since\": 1795711204}]",
	    err, sizeof(err));
	assert_non_null(out);
	assert_string_equal(out,
	    "\n"
	    "IPv4 BGP status\n"
	    "+--------------+-------------------+-------+----------+--------"
	    "-------------------+\n"
	    "| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |           "
	    "INFO            |\n"
	    "+--------------+-------------------+-------+----------+--------"
	    "-------------------+\n"
	    "| 192.0.2.12   | node-to-node mesh | up    | 16:40:04 | "
	    "Established               |\n"
	    "| 192.0.2.13   | node-to-node mesh | start | 16:20:00 | Active "
	    "Connection refused |\n"
	    "+--------------+-------------------+-------+----------+--------"
	    "-------------------+\n"
	    "\n"
	    "IPv6 BGP status\n"
	    "+----------------+-------------------+-------+------------+------"
	    "-------+\n"
	    "|  PEER ADDRESS  |     PEER TYPE     | STATE |   SINCE    |    "
	    "INFO     |\n"
	    "+----------------+-------------------+-------+------------+------"
	    "-------+\n"
	    "| 2001:db8:1::12 | node-to-node mesh | up    | 2026-11-25 | "
	    "Established |\n"
	    "+----------------+-------------------+-------+------------+------"
	    "-------+\n"
	    "\n");
	free(out);
}

/* calicoctl's own example, the widths from the titles */
static void
test_calicoctl_layout(void **state)
{
	char err[256], *out;

	(void)state;
	out = render("[{\"address\": \"172.17.8.102\", \"state\": "
	             "\"Established\", \"type\": \"node-to-node mesh\", "
	             "\"since\": 1795711500}]",
	    err, sizeof(err));
	assert_non_null(out);
	assert_string_equal(out,
	    "\n"
	    "IPv4 BGP status\n"
	    "+--------------+-------------------+-------+----------+-------"
	    "------+\n"
	    "| PEER ADDRESS |     PEER TYPE     | STATE |  SINCE   |    INFO "
	    "    |\n"
	    "+--------------+-------------------+-------+----------+-------"
	    "------+\n"
	    "| 172.17.8.102 | node-to-node mesh | up    | 16:45:00 | "
	    "Established |\n"
	    "+--------------+-------------------+-------+----------+-------"
	    "------+\n"
	    "\n"
	    "IPv6 BGP status\n"
	    "No IPv6 peers found.\n"
	    "\n");
	free(out);
}

static void
test_empty(void **state)
{
	char err[256], *out;

	(void)state;
	out = render("[]", err, sizeof(err));
	assert_non_null(out);
	assert_string_equal(out,
	    "\nIPv4 BGP status\nNo IPv4 peers found.\n\n"
	    "IPv6 BGP status\nNo IPv6 peers found.\n\n");
	free(out);
	/* only IPv6; missing type, state and since print as "-" */
	out = render(
	    "[{\"address\": \"2001:db8:1:2:3:4:5:6\"}]", err, sizeof(err));
	assert_non_null(out);
	assert_string_equal(out,
	    "\nIPv4 BGP status\nNo IPv4 peers found.\n\n"
	    "IPv6 BGP status\n"
	    "+----------------------+-----------+-------+-------+------+\n"
	    "|     PEER ADDRESS     | PEER TYPE | STATE | SINCE | INFO |\n"
	    "+----------------------+-----------+-------+-------+------+\n"
	    "| 2001:db8:1:2:3:4:5:6 | -         | -     | -     | -    |\n"
	    "+----------------------+-----------+-------+-------+------+\n"
	    "\n");
	free(out);
}

static void
test_bad_json(void **state)
{
	static const char *const bad[] = {
	    "{\"error\": \"x\"}",
	    "[1]",
	    "[{\"state\": \"Idle\"}]",
	    "[{\"address\": \"not-an-address\"}]",
	    "[{\"address\": 12}]",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_null(render(bad[i], err, sizeof(err)));
		assert_true(strlen(err) > 0);
	}
	render("{}", err, sizeof(err));
	assert_string_equal(err, "the peers answer is not a list");
	render("[{\"address\": \"x\"}]", err, sizeof(err));
	assert_string_equal(err, "peer 0 has no valid address");
}

static void
test_json(void **state)
{
	struct status st;
	char err[256], *s;
	json_t *doc, *out;

	(void)state;
	doc = load("[{\"address\": \"2001:db8:1::12\", \"state\": \"Connect\", "
	           "\"type\": \"global\", \"since\": 1795711500, "
	           "\"last_error\": \"Connection refused\"}, "
	           "{\"address\": \"192.0.2.12\", \"state\": \"Established\", "
	           "\"type\": \"node specific\"}]");
	assert_int_equal(status_from_peers(doc, &st, err, sizeof(err)), 0);
	json_decref(doc);
	out = status_json(&st);
	s = json_dumps(out, JSON_PRESERVE_ORDER | JSON_COMPACT);
	assert_string_equal(s,
	    "{\"running\":true,\"ipv4\":[{\"address\":\"192.0.2.12\","
	    "\"type\":\"node specific\",\"state\":\"up\",\"since\":null,"
	    "\"info\":\"Established\"}],\"ipv6\":[{\"address\":"
	    "\"2001:db8:1::12\",\"type\":\"global\",\"state\":\"start\","
	    "\"since\":\"2026-11-26T16:45:00Z\",\"info\":\"Connect "
	    "Connection refused\"}]}");
	free(s);
	json_decref(out);
	status_clean(&st);
}

/* BIRD 1.6's table and BIRD 2's (titles capitalised, times with ms) */
static void
test_bird(void **state)
{
	static const char bird1[] =
	    "0001 BIRD 1.6.8 ready.\n"
	    "2002-name     proto    table    state  since       info\n"
	    "1002-static1  Static   master   up     16:00:00    \n"
	    " kernel1  Kernel   master   up     16:00:00    \n"
	    " Mesh_192_0_2_12 BGP      master   up     16:40:04    "
	    "Established   \n"
	    " Node_198_51_100_7 BGP      master   start  2026-11-20  Active   "
	    "     Socket: Connection refused\n"
	    " Global_192_0_2_99_port_1790 BGP master start 16:30:00 Connect\n"
	    " Local_Workload_1 BGP master up 16:00:00 Established\n"
	    " Mesh_2001_db8_1__13 BGP master up 16:41:00 Established\n"
	    "0000 \n";
	static const char bird2[] =
	    "2002-Name       Proto      Table      State  Since         Info\n"
	    "1002-device1    Device     ---        up     16:00:00.123  \n"
	    " Mesh_192_0_2_12 BGP        ---        up     16:40:04.456  "
	    "Established   \n"
	    " Global_192_0_2_1 BGP --- start 2026-11-26 16:00:00 Active "
	    "Socket: Connection refused\n"
	    "0000 \n";
	struct status st;
	char err[256], *out = NULL;
	size_t len;
	FILE *f;

	(void)state;
	assert_int_equal(
	    status_from_bird(bird1, strlen(bird1), NOW, &st, err, sizeof(err)),
	    0);
	f = open_memstream(&out, &len);
	status_print(&st, NOW, f);
	fclose(f);
	assert_string_equal(out,
	    "\n"
	    "IPv4 BGP status\n"
	    "+--------------+-------------------+-------+------------+---------"
	    "--------------------------+\n"
	    "| PEER ADDRESS |     PEER TYPE     | STATE |   SINCE    |         "
	    "      INFO                |\n"
	    "+--------------+-------------------+-------+------------+---------"
	    "--------------------------+\n"
	    "| 192.0.2.12   | node-to-node mesh | up    | 16:40:04   | "
	    "Established                       |\n"
	    "| 192.0.2.99   | global            | start | 16:30:00   | Connect "
	    "                          |\n"
	    "| 198.51.100.7 | node specific     | start | 2026-11-20 | Active "
	    "Socket: Connection refused |\n"
	    "+--------------+-------------------+-------+------------+---------"
	    "--------------------------+\n"
	    "\n"
	    "IPv6 BGP status\n"
	    "+----------------+-------------------+-------+----------+---------"
	    "----+\n"
	    "|  PEER ADDRESS  |     PEER TYPE     | STATE |  SINCE   |    INFO "
	    "    |\n"
	    "+----------------+-------------------+-------+----------+---------"
	    "----+\n"
	    "| 2001:db8:1::13 | node-to-node mesh | up    | 16:41:00 | "
	    "Established |\n"
	    "+----------------+-------------------+-------+----------+---------"
	    "----+\n"
	    "\n");
	free(out);
	status_clean(&st);

	assert_int_equal(
	    status_from_bird(bird2, strlen(bird2), NOW, &st, err, sizeof(err)),
	    0);
	assert_int_equal(st.nrows, 2);
	/* BIRD's long format: the date and the time are one since */
	assert_string_equal(st.rows[0].address, "192.0.2.1");
	assert_string_equal(st.rows[0].type, "global");
	assert_string_equal(st.rows[0].state, "start");
	assert_int_equal(st.rows[0].since, NOW - 45 * 60);
	assert_string_equal(
	    st.rows[0].info, "Active Socket: Connection refused");
	assert_string_equal(st.rows[1].address, "192.0.2.12");
	assert_int_equal(st.rows[1].since, NOW - 296);
	status_clean(&st);

	/* an error, no end, another table */
	assert_int_equal(status_from_bird("8001 Access denied\n", 18, NOW, &st,
	                     err, sizeof(err)),
	    -1);
	assert_string_equal(err, "BIRD answered: Access denied");
	assert_int_equal(status_from_bird("2002-name proto table state since "
	                                  "info\n1002-x BGP t up 1:00:00 E\n",
	                     55, NOW, &st, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "incomplete answer from BIRD (no end)");
	assert_int_equal(status_from_bird("2002-a b c\n0000 \n", 17, NOW, &st,
	                     err, sizeof(err)),
	    -1);
}

static void
test_bird_time(void **state)
{
	(void)state;
	assert_int_equal(status_bird_time("16:40:04", NOW), NOW - 296);
	assert_int_equal(status_bird_time("16:40:04.999", NOW), NOW - 296);
	/* later than now: BIRD's 20 hours, so yesterday */
	assert_int_equal(status_bird_time("20:00:00", NOW),
	    NOW - 86400 + 3 * 3600 + 15 * 60);
	assert_int_equal(
	    status_bird_time("2026-11-26", NOW), NOW - (16 * 3600 + 45 * 60));
	assert_int_equal(
	    status_bird_time("2026-11-26 16:00:00", NOW), NOW - 45 * 60);
	assert_int_equal(status_bird_time("soon", NOW), 0);
	assert_int_equal(status_bird_time("16:40:04x", NOW), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_state_word, setup),
	    cmocka_unit_test_setup(test_since, setup),
	    cmocka_unit_test_setup(test_info, setup),
	    cmocka_unit_test_setup(test_table, setup),
	    cmocka_unit_test_setup(test_calicoctl_layout, setup),
	    cmocka_unit_test_setup(test_empty, setup),
	    cmocka_unit_test_setup(test_bad_json, setup),
	    cmocka_unit_test_setup(test_json, setup),
	    cmocka_unit_test_setup(test_bird, setup),
	    cmocka_unit_test_setup(test_bird_time, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
