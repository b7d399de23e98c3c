/*
 * ctl/table.c (compiled into this test by tests/CMakeLists.txt, since
 * podmeshctl is not a library): the tables podmeshctl prints for people from
 * the control socket's JSON, compared byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ctl/ctl.h"

/* runs fn on the JSON text and returns what it printed */
static char *
render(int (*fn)(json_t *, FILE *), const char *text, int *rv)
{
	json_error_t jerr;
	char *out = NULL;
	size_t len;
	json_t *doc;
	FILE *f;

	doc = json_loads(text, JSON_PRESERVE_ORDER, &jerr);
	if (doc == NULL)
		fail_msg("test JSON: %s", jerr.text);
	f = open_memstream(&out, &len);
	assert_non_null(f);
	*rv = fn(doc, f);
	fclose(f);
	json_decref(doc);
	return out;
}

static void
test_duration(void **state)
{
	static const struct {
		uint64_t secs;
		const char *want;
	} cases[] = {
	    {0, "0s"},
	    {45, "45s"},
	    {60, "1m00s"},
	    {125, "2m05s"},
	    {3723, "1h02m03s"},
	    {86399, "23h59m59s"},
	    {86400, "1d00h00m"},
	    {3 * 86400 + 4 * 3600 + 5 * 60 + 6, "3d04h05m"},
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		table_duration(cases[i].secs, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].want);
	}
}

static void
test_peers(void **state)
{
	static const char json[] =
	    "[{\"address\": \"192.0.2.2\", \"asn\": 64512, \"state\": "
	    "\"Established\", \"uptime\": 3723, \"received\": 4, \"sent\": "
	    "1200},"
	    " {\"address\": \"2001:db8::3\", \"asn\": 4200000000, \"state\": "
	    "\"Active\", \"uptime\": 0, \"received\": 0, \"sent\": 0,"
	    " \"description\": \"extra fields are ignored\"},"
	    " {\"address\": \"192.0.2.9\", \"state\": \"OpenSent\"}]";
	static const char want[] =
	    "ADDRESS      ASN         STATE        UPTIME    RECEIVED  SENT\n"
	    "192.0.2.2    64512       Established  1h02m03s  4         1200\n"
	    "2001:db8::3  4200000000  Active       -         0         0\n"
	    "192.0.2.9    -           OpenSent     -         -         -\n";
	char *out;
	int rv;

	out = render(table_peers, json, &rv);
	assert_int_equal(rv, 0);
	assert_string_equal(out, want);
	free(out);

	/* no peers: just the header */
	out = render(table_peers, "[]", &rv);
	assert_int_equal(rv, 0);
	assert_string_equal(
	    out, "ADDRESS  ASN  STATE  UPTIME  RECEIVED  SENT\n");
	free(out);

	out = render(table_peers, "{\"error\": \"x\"}", &rv);
	assert_int_equal(rv, -1);
	assert_string_equal(out, "");
	free(out);
}

static void
test_routes(void **state)
{
	static const char json[] =
	    "[{\"prefix\": \"198.18.1.0/26\", \"paths\": ["
	    "  {\"next_hop\": \"192.0.2.2\", \"as_path\": [64513, 4200000000,"
	    "   [10, 11]], \"local_pref\": 200, \"origin\": \"IGP\","
	    "   \"originator_id\": null, \"cluster_list\": [], \"peer\": "
	    "\"192.0.2.2\", \"best\": true},"
	    "  {\"next_hop\": \"192.0.2.4\", \"as_path\": [], \"local_pref\": "
	    "100, \"origin\": \"incomplete\", \"peer\": \"192.0.2.4\", "
	    "\"best\": false}]},"
	    " {\"prefix\": \"2001:db8:100::/48\", \"paths\": ["
	    "  {\"next_hop\": null, \"as_path\": [], \"local_pref\": null,"
	    "   \"origin\": \"IGP\", \"peer\": \"local\", \"best\": true}]}]";
	static const char want[] =
	    "   PREFIX             NEXT-HOP   AS-PATH                   "
	    "LOCAL-PREF  ORIGIN      PEER\n"
	    "*  198.18.1.0/26      192.0.2.2  64513 4200000000 {10 11}  "
	    "200         IGP         192.0.2.2\n"
	    "   198.18.1.0/26      192.0.2.4  -                         "
	    "100         incomplete  192.0.2.4\n"
	    "*  2001:db8:100::/48  -          -                         "
	    "-           IGP         local\n";
	char *out;
	int rv;

	out = render(table_routes, json, &rv);
	assert_int_equal(rv, 0);
	assert_string_equal(out, want);
	free(out);

	out = render(table_routes, "{}", &rv);
	assert_int_equal(rv, -1);
	free(out);
}

static void
test_table_alignment(void **state)
{
	static const char *const header[] = {"A", "LONG-HEADER", "C"};
	static const char *const row1[] = {"wide cell", "x", "last"};
	static const char *const row2[] = {"", "", ""};
	struct table *t = table_new(3, header);
	char *out = NULL;
	size_t len;
	FILE *f;

	table_add(t, row1);
	table_add(t, row2);
	f = open_memstream(&out, &len);
	table_print(t, f);
	fclose(f);
	/* two spaces between columns, no trailing blanks after the last */
	assert_string_equal(out,
	    "A          LONG-HEADER  C\n"
	    "wide cell  x            last\n"
	    "                        \n");
	table_free(t);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_duration),
	    cmocka_unit_test(test_peers),
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_table_alignment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
