/*
 * bgp/config.c: every key of a full file lands in the right field, defaults
 * and inheritance, asdot, peer lookup and reload comparison, and the golden
 * files of tests/golden/config: each FILE.yaml either loads silently or
 * prints exactly FILE.err.  PODMESH_UPDATE_GOLDEN=1 rewrites the .err files
 * from the current output (review the diff before keeping it).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/xmalloc.h"
#include "bgp/config.h"

#define GOLDEN_DIR TEST_DATA_DIR "/../golden/config"

static char *
slurp(const char *path)
{
	char *buf = NULL;
	size_t len = 0, n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	for (;;) {
		buf = xrealloc(buf, len + 4096 + 1);
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n == 0)
			break;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* loads PATH; *out gets everything printed to the error stream */
static struct bgpd_config *
load(const char *path, char **out)
{
	struct bgpd_config *conf;
	size_t len;
	FILE *f;

	f = open_memstream(out, &len);
	assert_non_null(f);
	conf = config_load(path, f);
	fclose(f);
	return conf;
}

static struct bgpd_config *
load_golden(const char *name)
{
	char path[PATH_MAX], *out;
	struct bgpd_config *conf;

	snprintf(path, sizeof(path), "%s/%s", GOLDEN_DIR, name);
	conf = load(path, &out);
	if (conf == NULL)
		fprintf(stderr, "%s", out);
	assert_non_null(conf);
	assert_string_equal(out, "");
	free(out);
	return conf;
}

/* writes TEXT to a temporary file and loads it */
static struct bgpd_config *
load_text(const char *text, char **out, char *path, size_t pathlen)
{
	struct bgpd_config *conf;
	FILE *f;
	int fd;

	snprintf(path, pathlen, "/tmp/podmesh-config-test.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	conf = load(path, out);
	unlink(path);
	return conf;
}

static uint32_t
v4(const char *s)
{
	struct in_addr in;

	assert_int_equal(inet_pton(AF_INET, s, &in), 1);
	return ntohl(in.s_addr);
}

static void
assert_addr(const struct addr *a, const char *s)
{
	char buf[ADDR_STRLEN];

	assert_string_equal(addr_ntop(a, buf, sizeof(buf)), s);
}

static void
assert_prefix(const struct prefix *p, const char *s)
{
	char buf[PREFIX_STRLEN];

	assert_string_equal(prefix_ntop(p, buf, sizeof(buf)), s);
}

static struct peer_config *
nth_peer(struct bgpd_config *conf, int n)
{
	struct peer_config *pc;

	TAILQ_FOREACH(pc, &conf->peers, entry)
	if (n-- == 0)
		return pc;
	fail_msg("no peer %d", n);
	return NULL;
}

static void
test_full(void **state)
{
	struct bgpd_config *conf = load_golden("full.yaml");
	struct peer_config *p;

	assert_int_equal(conf->router_id, v4("192.0.2.1"));
	assert_int_equal(conf->asn, 4200000001u);
	assert_addr(&conf->listen_addr, "192.0.2.1");
	assert_int_equal(conf->listen_port, 1179);
	assert_string_equal(
	    conf->control_socket, "/tmp/podmesh-test/bgpd.sock");
	assert_true(conf->route_reflector);
	assert_int_equal(conf->cluster_id, v4("10.0.0.1"));
	assert_int_equal(conf->noriginate, 2);
	assert_prefix(&conf->originate[0], "198.18.1.0/26");
	assert_prefix(&conf->originate[1], "2001:db8:100::/48");
	assert_int_equal(conf->holdtime, 30);
	assert_int_equal(conf->connect_retry, 7);
	assert_int_equal(conf->gr_time, 60);
	assert_int_equal(conf->log_level, LOG_LVL_DEBUG);

	p = nth_peer(conf, 0);
	assert_int_equal(p->line, 19);
	assert_false(p->is_range);
	assert_addr(&p->addr, "192.0.2.2");
	assert_int_equal(p->asn, 4200000001u);
	assert_int_equal(p->port, 10179);
	assert_true(p->passive);
	assert_true(p->rr_client);
	assert_string_equal(p->password, "secret");
	assert_int_equal(p->add_paths, ADDPATH_RECV | ADDPATH_SEND);
	assert_true(p->families[AID_IPV4]);
	assert_false(p->families[AID_IPV6]);
	assert_int_equal(p->holdtime, 9);
	assert_int_equal(p->connect_retry, 3);
	assert_int_equal(p->multihop, 4);
	assert_true(p->ttl_security);
	assert_addr(&p->local_addr, "192.0.2.1");
	assert_false(p->graceful_restart);
	assert_true(p->next_hop_self);
	assert_int_equal(p->max_sessions, 0);
	assert_string_equal(p->description, "rack 1 \"top\"");

	/* defaults, with timers inherited from the global section */
	p = nth_peer(conf, 1);
	assert_int_equal(p->line, 35);
	assert_addr(&p->addr, "2001:db8::2");
	assert_int_equal(p->asn, 65546); /* asdot 1.10 */
	assert_int_equal(p->port, BGP_PORT);
	assert_false(p->passive);
	assert_false(p->rr_client);
	assert_null(p->password);
	assert_int_equal(p->add_paths, 0);
	assert_true(p->families[AID_IPV4]);
	assert_true(p->families[AID_IPV6]);
	assert_int_equal(p->holdtime, 30);
	assert_int_equal(p->connect_retry, 7);
	assert_int_equal(p->multihop, 0);
	assert_false(p->ttl_security);
	assert_int_equal(p->local_addr.family, 0);
	assert_true(p->graceful_restart);
	assert_false(p->next_hop_self);
	assert_null(p->description);

	p = nth_peer(conf, 2);
	assert_true(p->is_range);
	assert_prefix(&p->range, "192.0.2.0/24");
	assert_true(p->rr_client);
	assert_int_equal(p->max_sessions, 500);

	p = nth_peer(conf, 3);
	assert_true(p->is_range);
	assert_prefix(&p->range, "192.0.2.128/25");
	assert_int_equal(p->max_sessions, DEFAULT_RANGE_LIMIT);
	assert_null(TAILQ_NEXT(p, entry));
	config_free(conf);
}

static void
test_defaults(void **state)
{
	struct bgpd_config *conf = load_golden("minimal.yaml");

	assert_string_equal(conf->path, GOLDEN_DIR "/minimal.yaml");
	assert_int_equal(conf->router_id, v4("192.0.2.1"));
	assert_int_equal(conf->asn, 64512);
	assert_int_equal(conf->listen_addr.family, 0);
	assert_int_equal(conf->listen_port, BGP_PORT);
	assert_string_equal(conf->control_socket, DEFAULT_CONTROL_SOCKET);
	assert_false(conf->route_reflector);
	assert_int_equal(conf->noriginate, 0);
	assert_null(conf->originate);
	assert_int_equal(conf->holdtime, DEFAULT_HOLDTIME);
	assert_int_equal(conf->connect_retry, DEFAULT_CONNECT_RETRY);
	assert_int_equal(conf->gr_time, DEFAULT_GR_TIME);
	assert_int_equal(conf->log_level, LOG_LVL_INFO);
	assert_true(TAILQ_EMPTY(&conf->peers));
	config_free(conf);
}

static void
test_contract(void **state)
{
	struct bgpd_config *conf = load_golden("contract.yaml");
	struct peer_config *p;

	assert_addr(&conf->listen_addr, "0.0.0.0");
	assert_true(conf->route_reflector);
	assert_int_equal(conf->cluster_id, v4("192.0.2.1"));
	p = nth_peer(conf, 0);
	assert_int_equal(p->add_paths, ADDPATH_RECV);
	assert_string_equal(p->password, "secret");
	p = nth_peer(conf, 1);
	assert_true(p->is_range);
	assert_true(p->rr_client);
	config_free(conf);
}

/* node mode: router id and ASN are left for the datastore */
static void
test_datastore(void **state)
{
	struct bgpd_config *conf = load_golden("datastore.yaml");

	assert_int_equal(conf->router_id, 0);
	assert_int_equal(conf->asn, 0);
	assert_int_equal(nth_peer(conf, 0)->asn, 64512);
	config_free(conf);
}

/* the datastore and kernel sections, and what config_dup copies */
static void
test_datastore_sections(void **state)
{
	static const char text[] = "node-name: n1\n"
	                           "datastore:\n"
	                           "  endpoints: http://192.0.2.9:2379, "
	                           "https://192.0.2.8:2379\n"
	                           "  cert-file: /c.pem\n"
	                           "  key-file: /k.pem\n"
	                           "kernel: {enabled: true, table: 100, "
	                           "stale-time: 30}\n"
	                           "peers:\n"
	                           "  - {address: 192.0.2.5, asn: 65005}\n"
	                           "  - {address: 192.0.2.6, asn: 65006}\n";
	struct bgpd_config *conf, *dup;
	char path[64], *out;

	conf = load_text(text, &out, path, sizeof(path));
	assert_non_null(conf);
	assert_string_equal(out, "");
	free(out);
	assert_string_equal(conf->node_name, "n1");
	assert_string_equal(conf->datastore.type, "etcdv3");
	assert_int_equal(conf->datastore.nendpoints, 2);
	assert_string_equal(
	    conf->datastore.endpoints[1], "https://192.0.2.8:2379");
	assert_string_equal(conf->datastore.key_file, "/k.pem");
	assert_true(conf->kernel.enabled);
	assert_int_equal(conf->kernel.protocol, KERNEL_PROTO_DEFAULT);
	assert_int_equal(conf->kernel.table, 100);
	assert_int_equal(conf->kernel.stale_time, 30);

	dup = config_dup(conf);
	config_free(conf);
	assert_string_equal(
	    dup->datastore.endpoints[0], "http://192.0.2.9:2379");
	assert_string_equal(dup->node_name, "n1");
	/* each peer copied once, in order, the list well formed */
	assert_int_equal(TAILQ_FIRST(&dup->peers)->asn, 65005);
	assert_int_equal(
	    TAILQ_NEXT(TAILQ_FIRST(&dup->peers), entry)->asn, 65006);
	assert_null(
	    TAILQ_NEXT(TAILQ_NEXT(TAILQ_FIRST(&dup->peers), entry), entry));
	assert_ptr_equal(TAILQ_LAST(&dup->peers, peer_config_list),
	    TAILQ_NEXT(TAILQ_FIRST(&dup->peers), entry));
	config_free(dup);
}

/* our blocks and what is inside them are refused unless lent */
static void
test_import_refused(void **state)
{
	struct bgpd_config *conf = load_golden("datastore.yaml");
	struct prefix own[2], lent, p;

	prefix_parse("198.18.1.0/26", &own[0]);
	prefix_parse("2001:db8:1::/122", &own[1]);
	prefix_parse("198.18.1.7/32", &lent);
	conf->own_blocks = xcalloc(2, sizeof(*own));
	memcpy(conf->own_blocks, own, sizeof(own));
	conf->nown_blocks = 2;
	conf->lent = xcalloc(1, sizeof(lent));
	conf->lent[0] = lent;
	conf->nlent = 1;

	prefix_parse("198.18.1.9/32", &p);
	assert_true(config_import_refused(conf, &p));
	prefix_parse("198.18.1.32/27", &p);
	assert_true(config_import_refused(conf, &p));
	prefix_parse("2001:db8:1::5/128", &p);
	assert_true(config_import_refused(conf, &p));
	assert_false(config_import_refused(conf, &lent));
	prefix_parse("198.18.1.0/26", &p); /* the block itself */
	assert_true(config_import_refused(conf, &p));
	prefix_parse("198.18.0.0/16", &p); /* a covering prefix */
	assert_false(config_import_refused(conf, &p));
	prefix_parse("198.18.2.1/32", &p);
	assert_false(config_import_refused(conf, &p));
	config_free(conf);
}

static void
test_inherit_any_order(void **state)
{
	static const char text[] = "peers:\n"
	                           "  - address: 192.0.2.2\n"
	                           "    asn: 64512\n"
	                           "route-reflector:\n"
	                           "connect-retry: 11\n"
	                           "hold-time: 0\n"
	                           "router-id: 192.0.2.1\n"
	                           "asn: 64512\n";
	struct bgpd_config *conf;
	char path[64], *out;

	conf = load_text(text, &out, path, sizeof(path));
	assert_string_equal(out, "");
	assert_non_null(conf);
	assert_int_equal(nth_peer(conf, 0)->holdtime, 0);
	assert_int_equal(nth_peer(conf, 0)->connect_retry, 11);
	/* an empty route-reflector section: cluster id is the router id */
	assert_true(conf->route_reflector);
	assert_int_equal(conf->cluster_id, v4("192.0.2.1"));
	free(out);
	config_free(conf);
}

static void
test_cluster_id_number(void **state)
{
	static const char text[] = "router-id: 192.0.2.1\n"
	                           "asn: 64512\n"
	                           "route-reflector: {cluster-id: 7}\n";
	struct bgpd_config *conf;
	char path[64], *out;

	conf = load_text(text, &out, path, sizeof(path));
	assert_non_null(conf);
	assert_int_equal(conf->cluster_id, 7);
	free(out);
	config_free(conf);
}

/* inline bad cases: exact message and line of the offending value */
static void
test_errors_inline(void **state)
{
	static const struct {
		const char *text;
		const char *err; /* without the "FILE:" */
	} cases[] = {
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\n"
	                "hold-time: 1\n",
	        .err = "3: hold-time: expected 0 or a number from 3 to "
	               "65535, got '1'\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\n",
	        .err = "1: missing asn\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\npeers:\n"
	                "  - address: 192.0.2.2\n    asn: 64512\n"
	                "    colour: blue\n",
	        .err = "6: unknown key 'colour' in peers[0]\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\npeers:\n"
	                "  - address: 192.0.2.2\n    asn: 64512\n"
	                "  - address: 192.0.2.2\n    asn: 64512\n",
	        .err = "6: peers[1]: duplicate peer 192.0.2.2 (first "
	               "at line 4)\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\n"
	                "originate: [10.0.0.1/8]\n",
	        .err = "3: originate[0]: '10.0.0.1/8' has host bits "
	               "set (did you mean 10.0.0.0/8?)\n",
	    },
	    {
	        .text = "datastore: {type: etcdv3}\n",
	        .err = "1: datastore: needs node-name (the Node resource "
	               "to serve)\n",
	    },
	    {
	        .text = "node-name: n1\ndatastore: {type: consul}\n",
	        .err = "2: datastore.type: expected etcdv3 or etcdv2, got "
	               "'consul'\n",
	    },
	    {
	        .text = "node-name: n1\ndatastore:\n  cert-file: /c\n",
	        .err = "3: datastore: cert-file and key-file go together\n",
	    },
	    {
	        .text = "node-name: n1\ndatastore:\nkernel: {protocol: 2}\n",
	        .err = "3: kernel.protocol: expected a number from 5 to 255, "
	               "got '2'\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\n"
	                "http: {address: localhost}\n",
	        .err = "3: http.address: expected an IPv4 or IPv6 address, "
	               "got 'localhost'\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\nhttp:\n"
	                "  port: 70000\n",
	        .err = "4: http.port: expected a number from 0 to 65535, got "
	               "'70000'\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\nhttp:\n"
	                "  port: 9099\n  path: /metrics\n",
	        .err = "5: unknown key 'path' in http\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\nhttp: 9099\n",
	        .err = "3: http: expected a mapping\n",
	    },
	    {
	        .text = "router-id: 192.0.2.1\nasn: 64512\nlisten: {\n",
	        .err = "4: did not find expected node content (while "
	               "parsing a flow node at line 4)\n",
	    },
	};
	struct bgpd_config *conf;
	char path[64], want[512], *out;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		conf = load_text(cases[i].text, &out, path, sizeof(path));
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].err);
		assert_null(conf);
		assert_string_equal(out, want);
		free(out);
	}
}

/* http: absent (on, 127.0.0.1:9099, not set), given, off */
static void
test_http(void **state)
{
	static const char base[] = "router-id: 192.0.2.1\nasn: 64512\n";
	struct bgpd_config *conf;
	char path[64], text[256], *out;

	conf = load_text(base, &out, path, sizeof(path));
	assert_non_null(conf);
	assert_false(conf->http.set);
	assert_addr(&conf->http.addr, "127.0.0.1");
	assert_int_equal(conf->http.port, 9099);
	free(out);
	config_free(conf);

	snprintf(text, sizeof(text), "%shttp: {address: '::1', port: 19099}\n",
	    base);
	conf = load_text(text, &out, path, sizeof(path));
	assert_non_null(conf);
	assert_true(conf->http.set);
	assert_addr(&conf->http.addr, "::1");
	assert_int_equal(conf->http.port, 19099);
	free(out);
	config_free(conf);

	/* port alone keeps the default address; 0 turns it off */
	snprintf(text, sizeof(text), "%shttp:\n  port: 0\n", base);
	conf = load_text(text, &out, path, sizeof(path));
	assert_non_null(conf);
	assert_true(conf->http.set);
	assert_addr(&conf->http.addr, "127.0.0.1");
	assert_int_equal(conf->http.port, 0);
	free(out);
	config_free(conf);
}

static void
test_missing_file(void **state)
{
	char *out;

	assert_null(load("/nonexistent/podmesh.yaml", &out));
	assert_string_equal(
	    out, "/nonexistent/podmesh.yaml: No such file or directory\n");
	free(out);
}

static void
test_find_peer(void **state)
{
	struct bgpd_config *conf = load_golden("full.yaml");
	struct addr a;

	assert_int_equal(addr_parse("192.0.2.2", &a), 0);
	assert_ptr_equal(config_find_peer(conf, &a), nth_peer(conf, 0));
	assert_int_equal(addr_parse("2001:db8::2", &a), 0);
	assert_ptr_equal(config_find_peer(conf, &a), nth_peer(conf, 1));
	/* the most specific range wins, whatever the order in the file */
	assert_int_equal(addr_parse("192.0.2.3", &a), 0);
	assert_ptr_equal(config_find_peer(conf, &a), nth_peer(conf, 2));
	assert_int_equal(addr_parse("192.0.2.200", &a), 0);
	assert_ptr_equal(config_find_peer(conf, &a), nth_peer(conf, 3));
	assert_int_equal(addr_parse("198.51.100.1", &a), 0);
	assert_null(config_find_peer(conf, &a));
	assert_int_equal(addr_parse("2001:db8::3", &a), 0);
	assert_null(config_find_peer(conf, &a));
	config_free(conf);
}

/* each change of one field must make two peer configs differ */
static void
test_peer_config_equal(void **state)
{
	struct bgpd_config *a = load_golden("full.yaml");
	struct bgpd_config *b = load_golden("full.yaml");
	struct peer_config *pa = nth_peer(a, 0), *pb = nth_peer(b, 0);
	struct peer_config saved;
	char *pw, *desc;

	assert_true(peer_config_equal(pa, pb));
	assert_false(peer_config_equal(pa, nth_peer(b, 1)));
	assert_true(peer_config_equal(nth_peer(a, 2), nth_peer(b, 2)));
	assert_false(peer_config_equal(nth_peer(a, 2), nth_peer(b, 3)));

	/* where it is in the file does not matter */
	pb->line = 99;
	assert_true(peer_config_equal(pa, pb));

#define FLIP(stmt)                                                             \
	do {                                                                   \
		saved = *pb;                                                   \
		stmt;                                                          \
		assert_false(peer_config_equal(pa, pb));                       \
		*pb = saved;                                                   \
		assert_true(peer_config_equal(pa, pb));                        \
	} while (0)
	FLIP(addr_parse("192.0.2.9", &pb->addr));
	FLIP(pb->asn++);
	FLIP(pb->port++);
	FLIP(pb->passive = false);
	FLIP(pb->rr_client = false);
	FLIP(pb->add_paths = ADDPATH_SEND);
	FLIP(pb->families[AID_IPV6] = true);
	FLIP(pb->holdtime++);
	FLIP(pb->connect_retry++);
	FLIP(pb->multihop++);
	FLIP(pb->ttl_security = false);
	FLIP(pb->local_addr.family = 0);
	FLIP(pb->graceful_restart = true);
	FLIP(pb->next_hop_self = false);
	FLIP(pb->max_sessions = 3);
	FLIP(pb->is_range = true);
	pw = pb->password;
	FLIP(pb->password = NULL);
	FLIP(pb->password = "other");
	pb->password = pw;
	desc = pb->description;
	FLIP(pb->description = NULL);
	FLIP(pb->description = "rack 2");
	pb->description = desc;
#undef FLIP
	config_free(a);
	config_free(b);
}

static int
golden_name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Runs from inside the golden directory so messages carry the bare file
 * name, as `podmesh-bgpd --check name.yaml` would print them.
 */
static void
test_golden(void **state)
{
	char cwd[PATH_MAX], errname[NAME_MAX + 1], **names = NULL, *out, *want;
	struct bgpd_config *conf;
	size_t n = 0, i, nbad = 0;
	struct dirent *de;
	bool update;
	DIR *d;
	FILE *f;

	update = getenv("PODMESH_UPDATE_GOLDEN") != NULL;
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(GOLDEN_DIR), 0);
	d = opendir(".");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len > 5 && strcmp(de->d_name + len - 5, ".yaml") == 0) {
			names = xreallocarray(names, n + 1, sizeof(*names));
			names[n++] = xstrdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(*names), golden_name_cmp);
	assert_true(n >= 10);

	for (i = 0; i < n; i++) {
		snprintf(errname, sizeof(errname), "%.*s.err",
		    (int)strlen(names[i]) - 5, names[i]);
		conf = load(names[i], &out);
		want = slurp(errname);
		if (update) {
			if (*out != '\0') {
				f = fopen(errname, "w");
				assert_non_null(f);
				fputs(out, f);
				fclose(f);
			} else
				unlink(errname);
		} else if (want == NULL) {
			if (conf == NULL)
				fail_msg("%s: unexpected errors:\n%s", names[i],
				    out);
			assert_string_equal(out, "");
		} else {
			if (conf != NULL)
				fail_msg("%s: loaded, expected %s", names[i],
				    errname);
			if (strcmp(out, want) != 0)
				fail_msg("%s: got:\n%swant:\n%s", names[i], out,
				    want);
			nbad++;
		}
		config_free(conf);
		free(want);
		free(out);
		free(names[i]);
	}
	free(names);
	assert_int_equal(chdir(cwd), 0);
	if (!update)
		assert_true(nbad >= 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_contract),
	    cmocka_unit_test(test_datastore),
	    cmocka_unit_test(test_datastore_sections),
	    cmocka_unit_test(test_import_refused),
	    cmocka_unit_test(test_inherit_any_order),
	    cmocka_unit_test(test_cluster_id_number),
	    cmocka_unit_test(test_errors_inline),
	    cmocka_unit_test(test_http),
	    cmocka_unit_test(test_missing_file),
	    cmocka_unit_test(test_find_peer),
	    cmocka_unit_test(test_peer_config_equal),
	    cmocka_unit_test(test_golden),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
