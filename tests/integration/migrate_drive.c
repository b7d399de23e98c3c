/*
 * migrate_drive: store/migrate.h against a real etcd for t_migrate.sh, the
 * way `podmeshctl migrate from-etcdv2` calls it: read Calico v2.6 data over
 * the v2 API at one endpoint list, write v3 at another (the same etcd
 * serves both, as separate keyspaces).
 *
 *   migrate_drive -2 V2ENDPOINTS -3 V3ENDPOINTS [--apply] [--force]
 *       [--force-ipam]
 *
 * Prints the plan on stdout.  Exit status: 0 done, 1 the plan has errors
 * or conflicts (nothing written), 2 etcd failed ("error: MSG" on stderr).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/etcd.h"
#include "store/etcdv2.h"
#include "store/migrate.h"
#include "store/store.h"

static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
	    "usage: migrate_drive -2 V2ENDPOINTS -3 V3ENDPOINTS "
	    "[--apply] [--force] [--force-ipam]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"apply", no_argument, NULL, 'a'},
	    {"force", no_argument, NULL, 'f'},
	    {"force-ipam", no_argument, NULL, 'F'},
	    {NULL, 0, NULL, 0},
	};
	struct etcd_config c2 = {0}, c3 = {0};
	struct migrate_opts o = {0};
	struct migrate_counts n;
	struct etcdv2_error e2;
	struct etcd_error e3;
	struct etcdv2 *v2;
	struct etcd *v3;
	char err[1024];
	int ch, rc;

	store_init();
	while ((ch = getopt_long(argc, argv, "2:3:", longopts, NULL)) != -1) {
		switch (ch) {
		case '2':
			c2.endpoints = optarg;
			break;
		case '3':
			c3.endpoints = optarg;
			break;
		case 'a':
			o.apply = true;
			break;
		case 'f':
			o.force = true;
			break;
		case 'F':
			o.force_ipam = true;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || c2.endpoints == NULL || c3.endpoints == NULL)
		usage();
	if ((v2 = etcdv2_new(&c2, &e2)) == NULL) {
		fprintf(stderr, "error: %s\n", e2.msg);
		return 2;
	}
	if ((v3 = etcd_new(&c3, &e3)) == NULL) {
		fprintf(stderr, "error: %s\n", e3.msg);
		etcdv2_free(v2);
		return 2;
	}
	o.out = stdout;
	rc = migrate_from_etcdv2(v2, v3, &o, &n, err, sizeof(err));
	fflush(stdout);
	if (rc == -1)
		fprintf(stderr, "error: %s\n", err);
	else
		fprintf(stderr,
		    "counts: create=%zu update=%zu unchanged=%zu "
		    "conflict=%zu kept=%zu written=%zu errors=%zu "
		    "warnings=%zu skipped=%zu\n",
		    n.create, n.update, n.unchanged, n.conflict, n.kept,
		    n.written, n.errors, n.warnings, n.skipped);
	etcd_free(v3);
	etcdv2_free(v2);
	return rc == -1 ? 2 : rc;
}
