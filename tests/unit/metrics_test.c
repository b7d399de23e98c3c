/*
 * bgp/metrics.c: the Prometheus text exposition of a struct bgpd put
 * together by hand (real rib, peers without sessions): HELP and TYPE before
 * every family's series, names and _total by the naming rules, no two
 * families that are one under OpenMetrics (X and X_total), label
 * escaping, the values of each peer, the optional kernel and datastore
 * families; and the readiness rule (datastore, mesh, dynamic,
 * route-reflector client and configured peers) with its reasons.
 */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/kernel.h"
#include "bgp/metrics.h"

#define NPEERS 4

struct fixture {
	struct bgpd b;
	struct bgpd_config conf;
	struct peer peers[NPEERS];
	struct peer_config pconf[NPEERS];
	struct metrics_src src;
	struct metrics_ds ds;
	struct kernel_stats ks;
};

static void
fx_peer(struct fixture *f, int i, const char *addr, enum peer_kind kind,
    enum peer_state state)
{
	struct peer *p = &f->peers[i];

	p->conf = &f->pconf[i];
	p->conf->kind = kind;
	p->conf->asn = 64512 + i;
	if (addr_parse(addr, &p->addr) == -1)
		fail_msg("bad address %s", addr);
	p->state = state;
	TAILQ_INSERT_TAIL(&f->b.peers, p, entry);
	f->b.npeers++;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	TAILQ_INIT(&f->b.peers);
	TAILQ_INIT(&f->conf.peers);
	f->b.conf = &f->conf;
	f->conf.router_id = 0xc0000201; /* 192.0.2.1 */
	f->conf.asn = 64512;
	f->b.rib = rib_new(NULL, NULL);
	fx_peer(f, 0, "192.0.2.2", PEER_KIND_CONFIG, STATE_ESTABLISHED);
	f->peers[0].src.npaths = 7;
	f->peers[0].stats.prefixes_in = 9;
	f->peers[0].stats.prefixes_out = 12;
	f->peers[0].stats.msgs_in[MSG_UPDATE] = 3;
	f->peers[0].stats.msgs_out[MSG_UPDATE] = 4;
	f->peers[0].stats.msgs_in[MSG_KEEPALIVE] = 5;
	f->peers[0].stats.flaps = 2;
	f->peers[0].uptime = 1700000000;
	fx_peer(f, 1, "2001:db8::3", PEER_KIND_MESH, STATE_ACTIVE);
	fx_peer(f, 2, "192.0.2.20", PEER_KIND_GLOBAL, STATE_CONNECT);
	fx_peer(f, 3, "192.0.2.30", PEER_KIND_CONFIG, STATE_IDLE);
	f->peers[3].dynamic = true;
	f->src.bgpd = &f->b;
	f->src.version = "0.1.0";
	f->src.started = 1690000000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	rib_free(f->b.rib);
	free(f);
	return 0;
}

static bool
name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 ||
	    !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (i = 1; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != ':')
			return false;
	return true;
}

#define MAXFAM 64

/*
 * Two families that are one under OpenMetrics, which names a counter
 * without its _total: a name twice, or X beside X_total.
 */
static void
check_clashes(char names[][128], int n)
{
	size_t la, lb;
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++) {
			if (i == j)
				continue;
			if (i < j && strcmp(names[i], names[j]) == 0)
				fail_msg("family %s twice", names[i]);
			la = strlen(names[i]);
			lb = strlen(names[j]);
			if (lb == la + 6 &&
			    strncmp(names[i], names[j], la) == 0 &&
			    strcmp(names[j] + la, "_total") == 0)
				fail_msg("families %s and %s clash", names[i],
				    names[j]);
		}
}

/*
 * Checks the exposition's structure line by line: every series belongs to
 * the family whose HELP and TYPE came just before it, names follow the
 * rules, counters end in _total, values are numbers, no family clashes
 * with another, nothing else.  Returns the number of families.
 */
static int
check_format(const char *text)
{
	char family[128] = "", type[16] = "", line[1024], *nl, *end, *vend;
	static char names[MAXFAM][128];
	const char *s = text;
	int nfam = 0;
	size_t n;

	assert_true(strlen(text) > 0);
	assert_int_equal(text[strlen(text) - 1], '\n');
	for (; *s != '\0'; s = nl + 1) {
		nl = strchr(s, '\n');
		assert_non_null(nl);
		assert_true((size_t)(nl - s) < sizeof(line));
		memcpy(line, s, nl - s);
		line[nl - s] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0) {
			n = strcspn(line + 7, " ");
			assert_true(name_ok(line + 7, n));
			assert_true(n < sizeof(family));
			memcpy(family, line + 7, n);
			family[n] = '\0';
			assert_true(strlen(line + 7 + n) > 1); /* some text */
			type[0] = '\0';
			assert_true(nfam < MAXFAM);
			memcpy(names[nfam], family, n + 1);
			nfam++;
			continue;
		}
		if (strncmp(line, "# TYPE ", 7) == 0) {
			n = strlen(family);
			if (strncmp(line + 7, family, n) != 0 ||
			    line[7 + n] != ' ')
				fail_msg("TYPE without its HELP: %s", line);
			snprintf(type, sizeof(type), "%s", line + 8 + n);
			if (strcmp(type, "counter") == 0)
				assert_true(n > 6 &&
				    strcmp(family + n - 6, "_total") == 0);
			else if (strcmp(type, "gauge") != 0)
				fail_msg("type %s", type);
			continue;
		}
		assert_true(line[0] != '#');
		if (type[0] == '\0')
			fail_msg("series without HELP and TYPE: %s", line);
		n = strcspn(line, "{ ");
		if (n != strlen(family) || strncmp(line, family, n) != 0)
			fail_msg("series %s under family %s", line, family);
		end = strrchr(line, ' ');
		assert_non_null(end);
		strtod(end + 1, &vend);
		if (*vend != '\0' || vend == end + 1)
			fail_msg("value of %s", line);
	}
	check_clashes(names, nfam);
	return nfam;
}

static char *
render(struct fixture *f)
{
	struct metrics_buf b = {0};

	metrics_render(&f->src, &b);
	return b.p;
}

static void
assert_has(const char *text, const char *line)
{
	char want[512];

	snprintf(want, sizeof(want), "\n%s\n", line);
	if (strstr(text, want) == NULL)
		fail_msg("missing line: %s\nin:\n%s", line, text);
}

static void
test_render_peers(void **state)
{
	struct fixture *f = *state;
	char *text = render(f);

	check_format(text);
	assert_has(text, "# TYPE podmesh_bgp_peer_up gauge");
	assert_has(text,
	    "podmesh_bgp_peer_up{peer=\"192.0.2.2\",asn=\"64512\","
	    "type=\"static\"} 1");
	assert_has(text,
	    "podmesh_bgp_peer_up{peer=\"2001:db8::3\",asn=\"64513\","
	    "type=\"mesh\"} 0");
	assert_has(text,
	    "podmesh_bgp_peer_up{peer=\"192.0.2.20\",asn=\"64514\","
	    "type=\"global\"} 0");
	assert_has(text,
	    "podmesh_bgp_peer_up{peer=\"192.0.2.30\",asn=\"64515\","
	    "type=\"dynamic\"} 0");
	/* a stateset: one series a state, 1 for the current one */
	assert_has(text,
	    "podmesh_bgp_peer_state{peer=\"192.0.2.2\",state=\"Established\"} "
	    "1");
	assert_has(text,
	    "podmesh_bgp_peer_state{peer=\"192.0.2.2\",state=\"Idle\"} 0");
	assert_has(text,
	    "podmesh_bgp_peer_state{peer=\"2001:db8::3\",state=\"Active\"} 1");
	assert_has(text,
	    "podmesh_bgp_peer_state{peer=\"2001:db8::3\",state=\"Connect\"} 0");
	assert_has(
	    text, "podmesh_bgp_peer_prefixes_accepted{peer=\"192.0.2.2\"} 7");
	/* the gauge is not the counter's family under OpenMetrics */
	assert_null(strstr(text, "podmesh_bgp_peer_prefixes_received{"));
	assert_has(text,
	    "podmesh_bgp_peer_prefixes_received_total{peer=\"192.0.2.2\"} 9");
	assert_has(text,
	    "podmesh_bgp_peer_prefixes_sent_total{peer=\"192.0.2.2\"} 12");
	assert_has(text,
	    "podmesh_bgp_peer_updates_received_total{peer=\"192.0.2.2\"} 3");
	assert_has(
	    text, "podmesh_bgp_peer_updates_sent_total{peer=\"192.0.2.2\"} 4");
	assert_has(text,
	    "podmesh_bgp_peer_messages_received_total{peer=\"192.0.2.2\","
	    "type=\"keepalive\"} 5");
	assert_has(text,
	    "podmesh_bgp_peer_messages_sent_total{peer=\"192.0.2.2\","
	    "type=\"update\"} 4");
	assert_has(text,
	    "podmesh_bgp_peer_established_transitions_total{peer=\"192.0.2."
	    "2\"} 2");
	assert_has(text,
	    "podmesh_bgp_peer_established_change_timestamp_seconds{peer="
	    "\"192.0.2.2\"} 1700000000");
	assert_has(text, "podmesh_bgp_rib_prefixes{family=\"ipv4\"} 0");
	assert_has(text, "podmesh_bgp_rib_prefixes{family=\"ipv6\"} 0");
	assert_has(text, "podmesh_bgpd_start_time_seconds 1690000000");
	assert_has(text,
	    "podmesh_bgpd_info{version=\"0.1.0\",router_id=\"192.0.2.1\","
	    "asn=\"64512\",mode=\"standalone\",route_reflector=\"false\"} 1");
	/* no kernel sync, no datastore: none of their families */
	assert_null(strstr(text, "podmesh_kernel_"));
	assert_null(strstr(text, "podmesh_datastore_"));
	free(text);
}

/* the format's escapes: \\, \" and \n in label values; \\ and \n in HELP */
static void
test_escaping(void **state)
{
	struct fixture *f = *state;
	char *text;

	f->src.version = "1\"2\\3\n4";
	text = render(f);
	check_format(text);
	assert_has(text,
	    "podmesh_bgpd_info{version=\"1\\\"2\\\\3\\n4\",router_id=\"192.0."
	    "2.1\",asn=\"64512\",mode=\"standalone\",route_reflector="
	    "\"false\"} 1");
	free(text);
}

static void
test_kernel_and_datastore(void **state)
{
	struct fixture *f = *state;
	char *text;
	int nfam, nfam0;

	text = render(f);
	nfam0 = check_format(text);
	free(text);

	f->ks.routes = 10;
	f->ks.routes6 = 3;
	f->ks.failures = 2;
	f->ks.installs = 40;
	f->src.kernel = &f->ks;
	f->ds.enabled = true;
	f->ds.synced = true;
	f->ds.watch_up = true;
	f->ds.revision = 123456789012LL;
	f->ds.lists = 3;
	f->ds.disconnects = 4;
	f->src.ds = &f->ds;
	text = render(f);
	nfam = check_format(text);
	assert_int_equal(nfam, nfam0 + 8 + 8);
	assert_has(text, "podmesh_kernel_routes{family=\"ipv4\"} 7");
	assert_has(text, "podmesh_kernel_routes{family=\"ipv6\"} 3");
	assert_has(text, "podmesh_kernel_route_errors_total 2");
	assert_has(text, "podmesh_kernel_route_installs_total 40");
	assert_has(text, "podmesh_datastore_synced 1");
	assert_has(text, "podmesh_datastore_watch_connected 1");
	assert_has(text, "podmesh_datastore_revision 123456789012");
	assert_has(text, "podmesh_datastore_relists_total 2");
	assert_has(text, "podmesh_datastore_watch_disconnects_total 4");
	assert_has(text,
	    "podmesh_bgpd_info{version=\"0.1.0\",router_id=\"192.0.2.1\","
	    "asn=\"64512\",mode=\"datastore\",route_reflector=\"false\"} 1");
	free(text);

	/* before the speaker starts: process and datastore only */
	f->src.bgpd = NULL;
	f->ds.synced = false;
	text = render(f);
	check_format(text);
	assert_has(text, "podmesh_datastore_synced 0");
	assert_null(strstr(text, "podmesh_bgp_peer_up{"));
	assert_has(text,
	    "podmesh_bgpd_info{version=\"0.1.0\",router_id=\"\",asn=\"\","
	    "mode=\"datastore\",route_reflector=\"false\"} 1");
	free(text);
}

/* 1,000 peers: one pass, about 20 lines a peer, every one well formed */
static void
test_many_peers(void **state)
{
	struct fixture *f = *state;
	struct peer *many = xcalloc(1000, sizeof(*many));
	struct peer_config pc = {0};
	char *text, addr[32];
	size_t i, lines = 0;
	const char *s;

	for (i = 0; i < 1000; i++) {
		many[i].conf = &pc;
		snprintf(addr, sizeof(addr), "198.51.100.%zu", i % 250);
		addr_parse(addr, &many[i].addr);
		many[i].state = STATE_ESTABLISHED;
		TAILQ_INSERT_TAIL(&f->b.peers, &many[i], entry);
	}
	text = render(f);
	check_format(text);
	for (s = text; (s = strchr(s, '\n')) != NULL; s++)
		lines++;
	assert_true(lines > 1004 * 20 && lines < 1004 * 30);
	free(text);
	free(many);
}

static bool
ready(struct fixture *f, char **why)
{
	struct metrics_buf b = {0};
	bool r;

	r = metrics_ready(&f->src, &b);
	*why = b.p != NULL ? b.p : xstrdup("");
	return r;
}

static void
test_readiness(void **state)
{
	struct fixture *f = *state;
	char *why;

	/* the global peer is down: that, not the mesh or dynamic peer */
	assert_false(ready(f, &why));
	assert_string_equal(why, "peer 192.0.2.20 (global) is Connect\n");
	free(why);

	f->peers[2].state = STATE_ESTABLISHED;
	assert_true(ready(f, &why));
	assert_string_equal(why, "");
	free(why);

	/* a configured static peer and a node-specific one count too */
	f->peers[0].state = STATE_OPENSENT;
	f->pconf[2].kind = PEER_KIND_NODE;
	f->peers[2].state = STATE_ACTIVE;
	assert_false(ready(f, &why));
	assert_string_equal(why,
	    "peer 192.0.2.2 (static) is OpenSent\n"
	    "peer 192.0.2.20 (node specific) is Active\n");
	free(why);

	/*
	 * a reflector: its clients (reverse peerings, kind node) down do not
	 * count, a node-specific peer that is no client (another
	 * reflector, or a node's own reflector) does
	 */
	f->peers[0].state = STATE_ESTABLISHED;
	f->pconf[2].rr_client = true;
	assert_true(ready(f, &why));
	assert_string_equal(why, "");
	free(why);
	f->pconf[0].kind = PEER_KIND_NODE;
	f->peers[0].state = STATE_ACTIVE;
	assert_false(ready(f, &why));
	assert_string_equal(why, "peer 192.0.2.2 (node specific) is Active\n");
	free(why);
	/* a static client of a reflector's file does not count either */
	f->pconf[0].kind = PEER_KIND_CONFIG;
	f->pconf[0].rr_client = true;
	assert_true(ready(f, &why));
	free(why);
	f->pconf[0].rr_client = false;
	f->pconf[2].rr_client = false;
	f->peers[0].state = STATE_OPENSENT;

	/* datastore not read yet: said first */
	f->ds.enabled = true;
	f->src.ds = &f->ds;
	assert_false(ready(f, &why));
	assert_string_equal(why,
	    "datastore not synced\n"
	    "peer 192.0.2.2 (static) is OpenSent\n"
	    "peer 192.0.2.20 (node specific) is Active\n");
	free(why);

	/* synced, only mesh peers (down) and a dynamic one: ready */
	f->ds.synced = true;
	f->pconf[0].kind = PEER_KIND_MESH;
	f->pconf[2].kind = PEER_KIND_MESH;
	assert_true(ready(f, &why));
	free(why);

	/* no peers at all */
	TAILQ_INIT(&f->b.peers);
	assert_true(ready(f, &why));
	free(why);

	/* a graceful restart not over: End-of-RIB still held back */
	f->b.restarting = true;
	assert_false(ready(f, &why));
	assert_string_equal(
	    why, "graceful restart in progress: End-of-RIB held back\n");
	free(why);
	f->b.restarting = false;

	/* the speaker not started */
	f->src.bgpd = NULL;
	assert_false(ready(f, &why));
	assert_string_equal(why, "BGP speaker not started\n");
	free(why);
	f->ds.synced = false;
	assert_false(ready(f, &why));
	assert_string_equal(why, "datastore not synced\n");
	free(why);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_render_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escaping, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_kernel_and_datastore, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_many_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_readiness, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
