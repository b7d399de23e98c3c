/*
 * bgp/show.c and bgp/control.c: the JSON of peers and routes built from a
 * struct bgpd put together by hand (real rib and attribute table, peers
 * without sessions), checked field by field after parsing it with jansson;
 * chunked route output with routes withdrawn between chunks; and the
 * control socket itself on a private event base: requests, errors, refresh
 * errors, a large streamed listing, stale and live sockets, permissions.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <jansson.h>

#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/control.h"

#define NOW 1000000

struct fixture {
	struct event_base *base;
	struct bgpd b;
	struct bgpd_config conf;
	struct peer peers[3];
	struct peer_config pconf[3];
	char dir[64];
	char sock[128];
};

static struct prefix
pfx(const char *s)
{
	struct prefix p;

	if (prefix_parse(s, &p) == -1)
		fail_msg("bad prefix %s", s);
	return p;
}

/* AS_PATH segments in the rib's 4-octet form */
static const uint8_t aspath_seq_set[] = {
    AS_SEQUENCE, 2, 0, 0, 0xfc, 0x01, 0xfa, 0x56, 0xea, 0x00, /* 64513, */
    AS_SET, 2, 0, 0, 0x00, 0x0a, 0, 0, 0x00, 0x0b, /* {10 11} */
};
static uint32_t clusters[] = {0x0a000001, 0x0a000002};
static uint32_t communities[] = {65000u << 16 | 1, 65000u << 16 | 2};
static uint32_t large[] = {4200000000u, 1, 2};

static void
add_route(struct fixture *f, struct rib_src *src, const char *prefix,
    const struct attrs *tmpl)
{
	struct attrs *a = attr_intern(f->b.attrs, tmpl);
	struct prefix p = pfx(prefix);

	assert_true(rib_update(f->b.rib, src, &p, 0, a) >= 0);
	attr_unref(a);
}

static void
peer_init(struct fixture *f, int i, const char *addr, uint32_t asn,
    enum peer_state state)
{
	struct peer *p = &f->peers[i];

	p->bgpd = &f->b;
	p->conf = &f->pconf[i];
	assert_int_equal(addr_parse(addr, &p->addr), 0);
	p->conf->addr = p->addr;
	p->conf->asn = asn;
	snprintf(p->name, sizeof(p->name), "%s", addr);
	p->state = state;
	rib_src_init(&p->src, i + 1);
	p->src.addr = p->addr;
	p->src.asn = asn;
	p->src.owner = p;
	TAILQ_INSERT_TAIL(&f->b.peers, p, entry);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct attrs a;

	f->base = event_base_new();
	f->b.base = f->base;
	f->b.conf = &f->conf;
	f->b.attrs = attr_table_new();
	f->b.rib = rib_new(NULL, NULL);
	rib_src_init(&f->b.local, 0);
	TAILQ_INIT(&f->b.peers);

	peer_init(f, 0, "192.0.2.2", 64512, STATE_ESTABLISHED);
	f->peers[0].uptime = NOW - 3723;
	f->peers[0].holdtime = 90;
	f->peers[0].remote_open.bgpid = 0xc0000202;
	f->peers[0].stats.prefixes_out = 7;
	f->pconf[0].description = "rack \"1\"\n";
	f->pconf[0].rr_client = true;
	peer_init(f, 1, "2001:db8::3", 4200000000u, STATE_ACTIVE);
	f->peers[1].uptime = NOW - 50; /* left Established: not an uptime */
	f->peers[1].stats.flaps = 2;
	err_set(&f->peers[1].last_err, ERR_HOLD, NULL, 0,
	    "hold timer expired \xff");
	peer_init(f, 2, "192.0.2.4", 64512, STATE_ESTABLISHED);
	f->peers[2].neg.refresh = false;

	/* 198.18.1.0/26: two paths, the higher LOCAL_PREF is best */
	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP |
	    ATTRF_LOCALPREF | ATTRF_MED | ATTRF_ORIGINATOR_ID;
	a.origin = ORIGIN_IGP;
	a.aspath = (uint8_t *)aspath_seq_set;
	a.aspath_len = sizeof(aspath_seq_set);
	a.aspath_count = 3;
	assert_int_equal(addr_parse("192.0.2.2", &a.nexthop), 0);
	a.local_pref = 200;
	a.med = 5;
	a.originator_id = 0xc0000209;
	a.cluster_list = clusters;
	a.ncluster = 2;
	a.communities = communities;
	a.ncommunities = 2;
	a.large = large;
	a.nlarge = 1;
	add_route(f, &f->peers[0].src, "198.18.1.0/26", &a);

	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	a.origin = ORIGIN_INCOMPLETE;
	assert_int_equal(addr_parse("192.0.2.4", &a.nexthop), 0);
	a.local_pref = 100;
	add_route(f, &f->peers[2].src, "198.18.1.0/26", &a);
	add_route(f, &f->peers[2].src, "198.18.0.0/15", &a);

	/* originated: no next hop, source id 0 */
	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH;
	a.origin = ORIGIN_EGP;
	add_route(f, &f->b.local, "198.18.2.0/24", &a);
	add_route(f, &f->b.local, "2001:db8:100::/48", &a);

	snprintf(f->dir, sizeof(f->dir), "/tmp/podmesh-show-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/run/sub/bgpd.sock", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char path[160];

	rib_free(f->b.rib);
	attr_table_free(f->b.attrs);
	event_base_free(f->base);
	unlink(f->sock);
	snprintf(path, sizeof(path), "%s/run/sub", f->dir);
	rmdir(path);
	snprintf(path, sizeof(path), "%s/run", f->dir);
	rmdir(path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static json_t *
parse_evbuffer(struct evbuffer *buf)
{
	size_t len = evbuffer_get_length(buf);
	json_error_t jerr;
	json_t *doc;

	doc =
	    json_loadb((const char *)evbuffer_pullup(buf, len), len, 0, &jerr);
	if (doc == NULL)
		fail_msg("bad JSON: %s: %.*s", jerr.text, (int)len,
		    (const char *)evbuffer_pullup(buf, len));
	return doc;
}

static const char *
str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("%s is not a string", key);
	return json_string_value(v);
}

static json_int_t
num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("%s is not an integer", key);
	return json_integer_value(v);
}

static void
test_peers(void **state)
{
	struct fixture *f = *state;
	struct evbuffer *buf = evbuffer_new();
	json_t *doc, *p;

	show_peers(&f->b, NOW, buf);
	doc = parse_evbuffer(buf);
	assert_true(json_is_array(doc));
	assert_int_equal(json_array_size(doc), 3);

	p = json_array_get(doc, 0);
	assert_string_equal(str(p, "address"), "192.0.2.2");
	assert_int_equal(num(p, "asn"), 64512);
	assert_string_equal(str(p, "state"), "Established");
	assert_int_equal(num(p, "uptime"), 3723);
	assert_int_equal(num(p, "received"), 1);
	assert_int_equal(num(p, "sent"), 7);
	assert_string_equal(str(p, "description"), "rack \"1\"\n");
	assert_string_equal(str(p, "router_id"), "192.0.2.2");
	assert_int_equal(num(p, "hold_time"), 90);
	assert_true(json_is_true(json_object_get(p, "rr_client")));
	assert_true(json_is_null(json_object_get(p, "last_error")));

	p = json_array_get(doc, 1);
	assert_string_equal(str(p, "address"), "2001:db8::3");
	assert_int_equal(num(p, "asn"), 4200000000);
	assert_string_equal(str(p, "state"), "Active");
	assert_int_equal(num(p, "uptime"), 0);
	assert_int_equal(num(p, "received"), 0);
	assert_int_equal(num(p, "flaps"), 2);
	assert_true(json_is_null(json_object_get(p, "router_id")));
	assert_true(json_is_null(json_object_get(p, "description")));
	/* invalid UTF-8 from the wire must not break the document */
	assert_string_equal(
	    str(p, "last_error"), "hold timer expired \xef\xbf\xbd");

	p = json_array_get(doc, 2);
	assert_int_equal(num(p, "received"), 2);
	json_decref(doc);
	evbuffer_free(buf);
}

static json_t *
routes_json(
    struct fixture *f, enum show_match m, const char *filter, size_t chunk)
{
	struct evbuffer *buf = evbuffer_new();
	struct show_routes *sr;
	struct prefix p;
	json_t *doc;
	int n = 0;

	if (filter != NULL) {
		if (prefix_parse(filter, &p) == -1) {
			assert_int_equal(addr_parse(filter, &p.a), 0);
			p.len = addr_maxlen(p.a.family);
		}
	}
	sr = show_routes_new(&f->b, m, filter != NULL ? &p : NULL);
	while (show_routes_emit(sr, buf, chunk) == 1)
		assert_true(++n < 1000);
	show_routes_free(sr);
	doc = parse_evbuffer(buf);
	evbuffer_free(buf);
	return doc;
}

static void
test_routes(void **state)
{
	struct fixture *f = *state;
	json_t *doc, *r, *p, *v;

	doc = routes_json(f, SHOW_ALL, NULL, 1);
	assert_int_equal(json_array_size(doc), 4);
	/* prefix order, IPv4 first */
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "198.18.0.0/15");
	assert_string_equal(
	    str(json_array_get(doc, 1), "prefix"), "198.18.1.0/26");
	assert_string_equal(
	    str(json_array_get(doc, 2), "prefix"), "198.18.2.0/24");
	assert_string_equal(
	    str(json_array_get(doc, 3), "prefix"), "2001:db8:100::/48");

	r = json_object_get(json_array_get(doc, 1), "paths");
	assert_int_equal(json_array_size(r), 2);
	p = json_array_get(r, 0);
	assert_string_equal(str(p, "next_hop"), "192.0.2.2");
	v = json_object_get(p, "as_path");
	assert_int_equal(json_array_size(v), 3);
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 64513);
	assert_int_equal(json_integer_value(json_array_get(v, 1)), 4200000000);
	/* an AS_SET is a nested array */
	v = json_array_get(v, 2);
	assert_true(json_is_array(v));
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 10);
	assert_int_equal(json_integer_value(json_array_get(v, 1)), 11);
	assert_int_equal(num(p, "local_pref"), 200);
	assert_string_equal(str(p, "origin"), "IGP");
	assert_string_equal(str(p, "originator_id"), "192.0.2.9");
	v = json_object_get(p, "cluster_list");
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(
	    json_string_value(json_array_get(v, 0)), "10.0.0.1");
	assert_string_equal(
	    json_string_value(json_array_get(v, 1)), "10.0.0.2");
	assert_string_equal(str(p, "peer"), "192.0.2.2");
	assert_true(json_is_true(json_object_get(p, "best")));
	assert_int_equal(num(p, "med"), 5);
	v = json_object_get(p, "communities");
	assert_string_equal(json_string_value(json_array_get(v, 1)), "65000:2");
	v = json_object_get(p, "large_communities");
	assert_string_equal(
	    json_string_value(json_array_get(v, 0)), "4200000000:1:2");

	p = json_array_get(r, 1);
	assert_string_equal(str(p, "peer"), "192.0.2.4");
	assert_false(json_is_true(json_object_get(p, "best")));
	assert_string_equal(str(p, "origin"), "incomplete");
	assert_true(json_is_null(json_object_get(p, "originator_id")));
	assert_true(json_is_null(json_object_get(p, "med")));
	assert_int_equal(json_array_size(json_object_get(p, "as_path")), 0);

	/* originated */
	p = json_array_get(json_object_get(json_array_get(doc, 2), "paths"), 0);
	assert_string_equal(str(p, "peer"), "local");
	assert_string_equal(str(p, "origin"), "EGP");
	assert_true(json_is_null(json_object_get(p, "next_hop")));
	assert_true(json_is_null(json_object_get(p, "local_pref")));
	assert_true(json_is_true(json_object_get(p, "best")));
	json_decref(doc);
}

static void
test_routes_filters(void **state)
{
	struct fixture *f = *state;
	json_t *doc;

	/* a prefix and its more specifics */
	doc = routes_json(f, SHOW_COVERED, "198.18.0.0/16", 100);
	assert_int_equal(json_array_size(doc), 2);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "198.18.1.0/26");
	json_decref(doc);
	doc = routes_json(f, SHOW_COVERED, "198.18.0.0/15", 100);
	assert_int_equal(json_array_size(doc), 3);
	json_decref(doc);
	doc = routes_json(f, SHOW_COVERED, "10.0.0.0/8", 100);
	assert_int_equal(json_array_size(doc), 0);
	json_decref(doc);

	/* an address: the most specific route containing it */
	doc = routes_json(f, SHOW_LONGEST, "198.18.1.5", 100);
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "198.18.1.0/26");
	json_decref(doc);
	doc = routes_json(f, SHOW_LONGEST, "198.18.3.1", 100);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "198.18.0.0/15");
	json_decref(doc);
	doc = routes_json(f, SHOW_LONGEST, "2001:db8:100::1", 100);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "2001:db8:100::/48");
	json_decref(doc);
	doc = routes_json(f, SHOW_LONGEST, "203.0.113.1", 100);
	assert_int_equal(json_array_size(doc), 0);
	json_decref(doc);
}

/* routes withdrawn between chunks are skipped; the JSON stays whole */
static void
test_routes_withdrawn_between_chunks(void **state)
{
	struct fixture *f = *state;
	struct evbuffer *buf = evbuffer_new();
	struct show_routes *sr;
	struct prefix p;
	json_t *doc;

	sr = show_routes_new(&f->b, SHOW_ALL, NULL);
	assert_int_equal(show_routes_emit(sr, buf, 0), 1); /* just "[" */
	/* the first two are withdrawn before anything of them was written */
	p = pfx("198.18.0.0/15");
	assert_true(rib_withdraw(f->b.rib, &f->peers[2].src, &p, 0) >= 0);
	p = pfx("198.18.1.0/26");
	assert_true(rib_withdraw(f->b.rib, &f->peers[0].src, &p, 0) >= 0);
	assert_true(rib_withdraw(f->b.rib, &f->peers[2].src, &p, 0) >= 0);
	assert_int_equal(show_routes_emit(sr, buf, 1), 1);
	p = pfx("2001:db8:100::/48");
	assert_true(rib_withdraw(f->b.rib, &f->b.local, &p, 0) >= 0);
	assert_int_equal(show_routes_emit(sr, buf, 1), 0);
	show_routes_free(sr);
	doc = parse_evbuffer(buf);
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "198.18.2.0/24");
	json_decref(doc);
	evbuffer_free(buf);
}

static void
test_error_escaping(void **state)
{
	struct evbuffer *buf = evbuffer_new();
	json_t *doc;

	show_error(buf, "bad \"x\"\\\t\x01 caf\xc3\xa9 \xc0\xaf \xed\xa0\x80");
	doc = parse_evbuffer(buf);
	assert_string_equal(str(doc, "error"),
	    "bad \"x\"\\\t\x01 caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
	json_decref(doc);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	show_ok(buf);
	doc = parse_evbuffer(buf);
	assert_true(json_is_true(json_object_get(doc, "ok")));
	json_decref(doc);
	evbuffer_free(buf);
}

/* ---- the socket ---- */

struct client {
	int fd;
	char *buf;
	size_t len;
};

static void
client_open(struct fixture *f, struct client *c, const char *req)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	strcpy(sun.sun_path, f->sock);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c->fd >= 0);
	assert_int_equal(
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(write(c->fd, req, strlen(req)), (ssize_t)strlen(req));
}

/* runs the loop and reads; returns 1 once the server closed */
static int
client_poll(struct fixture *f, struct client *c)
{
	char tmp[65536];
	ssize_t n;

	event_base_loop(f->base, EVLOOP_NONBLOCK);
	for (;;) {
		n = read(c->fd, tmp, sizeof(tmp));
		if (n == -1 && errno == EAGAIN)
			return 0;
		assert_true(n >= 0);
		if (n == 0)
			return 1;
		c->buf = xrealloc(c->buf, c->len + n + 1);
		memcpy(c->buf + c->len, tmp, n);
		c->len += n;
		c->buf[c->len] = '\0';
	}
}

static json_t *
client_finish(struct fixture *f, struct client *c)
{
	json_error_t jerr;
	json_t *doc;
	int i;

	for (i = 0; client_poll(f, c) == 0; i++) {
		assert_true(i < 200000);
		if (i > 100)
			usleep(100);
	}
	close(c->fd);
	doc = json_loadb(c->buf ? c->buf : "", c->len, 0, &jerr);
	if (doc == NULL)
		fail_msg("bad JSON (%s): %.200s", jerr.text, c->buf);
	free(c->buf);
	return doc;
}

static json_t *
ask(struct fixture *f, const char *req)
{
	struct client c;

	client_open(f, &c, req);
	return client_finish(f, &c);
}

static void
assert_error(struct fixture *f, const char *req, const char *msg)
{
	json_t *doc = ask(f, req);

	assert_string_equal(str(doc, "error"), msg);
	json_decref(doc);
}

static void
test_control(void **state)
{
	struct fixture *f = *state;
	struct control *ctl;
	struct client c1, c2;
	struct stat st;
	char err[256];
	json_t *doc, *d2;

	ctl = control_new(&f->b, f->sock, err, sizeof(err));
	if (ctl == NULL)
		fail_msg("control_new: %s", err);
	/* parent directories were made; only the owner may connect */
	assert_int_equal(stat(f->sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	doc = ask(f, "peers\n");
	assert_int_equal(json_array_size(doc), 3);
	assert_string_equal(
	    str(json_array_get(doc, 0), "state"), "Established");
	json_decref(doc);

	doc = ask(f, "routes 198.18.1.7\r\n");
	assert_int_equal(json_array_size(doc), 1);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "198.18.1.0/26");
	json_decref(doc);
	/* host bits in a filter are forgiven */
	doc = ask(f, "routes 198.18.1.1/16\n");
	assert_int_equal(json_array_size(doc), 2);
	json_decref(doc);

	/* two clients at once, answered independently */
	client_open(f, &c1, "rou");
	client_open(f, &c2, "peers\n");
	assert_int_equal(client_poll(f, &c1), 0);
	assert_int_equal(write(c1.fd, "tes\n", 4), 4);
	d2 = client_finish(f, &c2);
	doc = client_finish(f, &c1);
	assert_int_equal(json_array_size(doc), 4);
	assert_int_equal(json_array_size(d2), 3);
	json_decref(doc);
	json_decref(d2);

	/* a request without newline, ended by shutdown */
	client_open(f, &c1, "peers");
	shutdown(c1.fd, SHUT_WR);
	doc = client_finish(f, &c1);
	assert_int_equal(json_array_size(doc), 3);
	json_decref(doc);

	assert_error(f, "bogus\n", "unknown request 'bogus'");
	assert_error(f, "\n", "empty request");
	assert_error(f, "peers now\n", "wrong number of arguments for 'peers'");
	assert_error(f, "refresh\n", "wrong number of arguments for 'refresh'");
	assert_error(f, "routes 1.2.3\n", "invalid prefix or address '1.2.3'");
	assert_error(f, "refresh nope\n", "invalid address 'nope'");
	assert_error(f, "refresh 192.0.2.99\n", "no such peer");
	assert_error(f, "refresh 2001:db8::3\n", "peer not Established");
	assert_error(
	    f, "refresh 192.0.2.4\n", "peer does not support route refresh");

	control_free(ctl);
	assert_int_equal(stat(f->sock, &st), -1);
	assert_int_equal(errno, ENOENT);
}

/* a listing far larger than the output high-water mark, streamed */
static void
test_control_large(void **state)
{
	struct fixture *f = *state;
	struct control *ctl;
	struct client c;
	struct attrs a;
	char name[32], err[256];
	struct prefix p;
	json_t *doc;
	int i;

	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP;
	assert_int_equal(addr_parse("192.0.2.4", &a.nexthop), 0);
	for (i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "10.%d.%d.0/24", i / 256, i % 256);
		add_route(f, &f->peers[2].src, name, &a);
	}
	ctl = control_new(&f->b, f->sock, err, sizeof(err));
	assert_non_null(ctl);

	client_open(f, &c, "routes\n");
	for (i = 0; c.len == 0; i++) {
		assert_int_equal(client_poll(f, &c), 0);
		assert_true(i < 100000);
	}
	/* not all of it can have been written yet: withdraw the tail */
	for (i = 19000; i < 20000; i++) {
		snprintf(name, sizeof(name), "10.%d.%d.0/24", i / 256, i % 256);
		p = pfx(name);
		assert_true(
		    rib_withdraw(f->b.rib, &f->peers[2].src, &p, 0) >= 0);
	}
	doc = client_finish(f, &c);
	assert_int_equal(json_array_size(doc), 19000 + 4);
	assert_string_equal(
	    str(json_array_get(doc, 0), "prefix"), "10.0.0.0/24");
	assert_string_equal(
	    str(json_array_get(doc, 18999), "prefix"), "10.74.55.0/24");
	json_decref(doc);
	control_free(ctl);
}

static void
test_control_stale_and_live(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	struct control *ctl, *ctl2;
	char err[256], dir[160];
	json_t *doc;
	int fd;

	/* a socket file nobody listens on, left by a crash */
	snprintf(dir, sizeof(dir), "%s/run", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(dir, sizeof(dir), "%s/run/sub", f->dir);
	assert_int_equal(mkdir(dir, 0755), 0);
	strcpy(sun.sun_path, f->sock);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	ctl = control_new(&f->b, f->sock, err, sizeof(err));
	if (ctl == NULL)
		fail_msg("control_new over a stale socket: %s", err);
	doc = ask(f, "peers\n");
	assert_int_equal(json_array_size(doc), 3);
	json_decref(doc);

	/* a live one is not taken over */
	ctl2 = control_new(&f->b, f->sock, err, sizeof(err));
	assert_null(ctl2);
	assert_non_null(strstr(err, "another podmesh-bgpd is listening"));
	control_free(ctl);

	/* nor is something that is not a socket */
	fd = open(f->sock, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(control_new(&f->b, f->sock, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a socket"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_peers, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_routes_filters, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_routes_withdrawn_between_chunks, setup, teardown),
	    cmocka_unit_test(test_error_escaping),
	    cmocka_unit_test_setup_teardown(test_control, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_control_large, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_control_stale_and_live, setup, teardown),
	};

	log_init("show_test", LOG_LVL_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
