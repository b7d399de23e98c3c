/*
 * node/dsmode.c: the node's derived setup becomes a bgpd_config built on
 * the file's (router id, ASN, peers with their Calico peer type, announced
 * blocks, the own-block import filter), and a change that gives the same
 * configuration is recognised as such so the speaker is not touched.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "derive_fixture.h"
#include "bgp/config.h"
#include "node/dsmode.h"

static struct bgpd_config *
file_config(void)
{
	static const char text[] =
	    "node-name: n1\n"
	    "datastore: {endpoints: [http://192.0.2.9:2379]}\n"
	    "kernel: {enabled: true}\n"
	    "listen: {port: 1179}\n"
	    "originate: [203.0.113.0/24]\n"
	    "peers:\n"
	    "  - address: 192.0.2.3\n"
	    "    asn: 65000\n";
	char path[] = "/tmp/dsmode-test.XXXXXX";
	struct bgpd_config *c;
	FILE *f;
	int fd;

	assert_true((fd = mkstemp(path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
	c = config_load(path, stderr);
	unlink(path);
	assert_non_null(c);
	return c;
}

static void
cluster(struct fx *f)
{
	fx_bgpconfig(f, "default", "\"asNumber\":64600");
	fx_node(f, "n1", NULL, "\"ipv4Address\":\"192.0.2.1/24\"", NULL);
	fx_node(f, "n2", NULL,
	    "\"ipv4Address\":\"192.0.2.2/24\",\"asNumber\":64700", NULL);
	fx_node(f, "n3", NULL, "\"ipv4Address\":\"192.0.2.3/24\"", NULL);
	fx_pool(f, "default-ipv4-ippool",
	    "\"cidr\":\"198.18.0.0/16\",\"ipipMode\":\"Never\","
	    "\"vxlanMode\":\"Never\",\"natOutgoing\":true,\"blockSize\":26,"
	    "\"nodeSelector\":\"all()\"");
	fx_affinity(f, "n1", "198.18.1.0/26", "confirmed");
	fx_affinity(f, "n1", "198.18.2.0/26", "pending");
}

static struct peer_config *
peer(struct bgpd_config *c, const char *a)
{
	struct addr x = fx_addr(a);

	return config_find_peer(c, &x);
}

static void
test_build(void **state)
{
	struct bgpd_config *file = file_config(), *c;
	struct peer_config *pc;
	char err[256];
	struct fx f;

	fx_init(&f);
	cluster(&f);
	fx_load(&f);
	c = node_ds_build(file, f.wc, "n1", err, sizeof(err));
	assert_non_null(c);
	assert_int_equal(c->router_id, 0xc0000201);
	assert_int_equal(c->asn, 64600);
	assert_int_equal(c->listen_port, 1179); /* no listenPort: the file's */
	/* the file's prefix, then the confirmed block only */
	assert_string_equal(fx_plist(c->originate, c->noriginate),
	    "203.0.113.0/24 198.18.1.0/26");
	assert_string_equal(
	    fx_plist(c->own_blocks, c->nown_blocks), "198.18.1.0/26");
	/* mesh peer n2 with its own AS: eBGP, multihop as Calico's BIRD */
	assert_non_null(pc = peer(c, "192.0.2.2"));
	assert_int_equal(pc->asn, 64700);
	assert_int_equal(pc->multihop, 255);
	assert_string_equal(pc->description, "node-to-node mesh n2");
	assert_true(pc->families[AID_IPV4]);
	assert_false(pc->families[AID_IPV6]);
	assert_true(pc->passive); /* "192.0.2.2" > "192.0.2.1" */
	/* n3's address is a static peer of the file: the file wins */
	assert_non_null(pc = peer(c, "192.0.2.3"));
	assert_int_equal(pc->asn, 65000);
	assert_null(pc->description);
	config_free(c);

	/* no Node: an error naming it, nothing applied */
	c = node_ds_build(file, f.wc, "n9", err, sizeof(err));
	assert_null(c);
	assert_non_null(strstr(err, "n9"));
	config_free(file);
	fx_clean(&f);
}

static void
test_same(void **state)
{
	struct bgpd_config *file = file_config(), *a, *b;
	char err[256];
	struct fx f;

	fx_init(&f);
	cluster(&f);
	fx_load(&f);
	a = node_ds_build(file, f.wc, "n1", err, sizeof(err));
	/* an unrelated change: a pending affinity of another node */
	fx_affinity(&f, "n2", "198.18.3.0/26", "pending");
	fx_load(&f);
	b = node_ds_build(file, f.wc, "n1", err, sizeof(err));
	assert_true(node_ds_config_same(a, b));
	config_free(b);

	/* the pending block is confirmed: announced, and filtered on */
	fx_affinity(&f, "n1", "198.18.2.0/26", "confirmed");
	fx_load(&f);
	b = node_ds_build(file, f.wc, "n1", err, sizeof(err));
	assert_false(node_ds_config_same(a, b));
	assert_int_equal(b->nown_blocks, 2);
	config_free(b);

	/* the mesh goes off: the mesh peer goes */
	fx_affinity(&f, "n1", "198.18.2.0/26", "pending");
	fx_bgpconfig(&f, "default",
	    "\"asNumber\":64600,\"nodeToNodeMeshEnabled\":false");
	fx_load(&f);
	b = node_ds_build(file, f.wc, "n1", err, sizeof(err));
	assert_false(node_ds_config_same(a, b));
	assert_null(peer(b, "192.0.2.2"));
	assert_non_null(peer(b, "192.0.2.3"));
	config_free(b);
	config_free(a);
	config_free(file);
	fx_clean(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build),
	    cmocka_unit_test(test_same),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
