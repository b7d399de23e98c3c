/*
 * podmeshctl migrate from-etcdv2: a Calico v2.6 datastore, read over the
 * etcd v2 API, into Calico's v3 resources and IPAM data in etcd v3 (the
 * mapping, the plan and the compare-and-swap writes are store/migrate.c's;
 * calico.md §1, §2).  This file picks the two ends and maps the outcome
 * to an exit status.
 *
 * The v3 end is the datastore every other command uses (ctl_etcd).  The
 * v2 end is, in order: --v2-endpoints (with --v2-ca-file, --v2-cert-file,
 * --v2-key-file); a v1 calicoApiConfig (given with --config or found),
 * which names the v2.6 datastore itself, with its TLS files and user; else
 * the v3 datastore's endpoints, TLS and user, since one etcd 3.x started
 * with --enable-v2 serves both APIs as separate keyspaces (an upgrade in
 * place).
 *
 * Without --apply nothing is written: the plan is printed and the exit
 * status says whether it could be applied.  --force overwrites v3 keys
 * that differ but IPAM ones (store/migrate.h says why); --force-ipam,
 * only with --force, overwrites those too.
 */
#include <stdlib.h>
#include <string.h>

#include "store/etcd.h"
#include "store/etcdv2.h"
#include "store/migrate.h"
#include "ctl/ctl.h"

/* where the v2 end is, and how it was chosen (for messages) */
struct migrate_src {
	struct etcd_config ec;
	char why[512];
};

/* 0, or 2 after a usage message */
static int
migrate_check_flags(const struct ctl *ctl)
{
	const char *flag = NULL;

	if (ctl->v2_endpoints == NULL) {
		if (ctl->v2_ca_file != NULL)
			flag = "--v2-ca-file";
		else if (ctl->v2_cert_file != NULL)
			flag = "--v2-cert-file";
		else if (ctl->v2_key_file != NULL)
			flag = "--v2-key-file";
		if (flag != NULL) {
			fprintf(stderr,
			    "podmeshctl: %s needs --v2-endpoints (without it "
			    "the TLS files come from the configuration)\n"
			    "Try 'podmeshctl migrate from-etcdv2 --help'.\n",
			    flag);
			return 2;
		}
	}
	if (ctl->force_ipam && !ctl->force) {
		fprintf(stderr,
		    "podmeshctl: --force-ipam goes with --force: it extends "
		    "--force to the IPAM keys\n"
		    "Try 'podmeshctl migrate from-etcdv2 --help'.\n");
		return 2;
	}
	if ((ctl->v2_cert_file == NULL) != (ctl->v2_key_file == NULL)) {
		fprintf(stderr,
		    "podmeshctl: %s needs %s: a client certificate needs both "
		    "a certificate and its key\n"
		    "Try 'podmeshctl migrate from-etcdv2 --help'.\n",
		    ctl->v2_cert_file != NULL ? "--v2-cert-file"
		                              : "--v2-key-file",
		    ctl->v2_cert_file != NULL ? "--v2-key-file"
		                              : "--v2-cert-file");
		return 2;
	}
	return 0;
}

/* "the default", "the environment", "FILE" */
static const char *
migrate_ds_name(const struct ctl_dsconfig *ds, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s",
	    strcmp(ds->source, "default") == 0 ||
	            strcmp(ds->source, "environment") == 0
	        ? "the "
	        : "",
	    ds->source);
	return buf;
}

/* the v2 end; -1 after a message */
static int
migrate_source(struct ctl *ctl, struct migrate_src *src)
{
	const struct ctl_dsconfig *ds;

	memset(src, 0, sizeof(*src));
	if (ctl->v2_endpoints != NULL) {
		src->ec.endpoints = ctl->v2_endpoints;
		src->ec.ca_file = ctl->v2_ca_file;
		src->ec.cert_file = ctl->v2_cert_file;
		src->ec.key_file = ctl->v2_key_file;
		snprintf(src->why, sizeof(src->why), "--v2-endpoints");
		return 0;
	}
	if ((ds = ctl_dsconfig_get(ctl)) == NULL)
		return -1;
	src->ec.endpoints = ds->endpoints;
	src->ec.ca_file = ds->ca_file;
	src->ec.cert_file = ds->cert_file;
	src->ec.key_file = ds->key_file;
	src->ec.username = ds->username;
	src->ec.password = ds->password;
	if (ds->type == CTL_DS_ETCDV2 && strcmp(ds->source, "environment") == 0)
		snprintf(src->why, sizeof(src->why),
		    "the environment (DATASTORE_TYPE=etcdv2)");
	else if (ds->type == CTL_DS_ETCDV2)
		snprintf(src->why, sizeof(src->why),
		    "the v1 calicoApiConfig in %s", ds->source);
	else
		snprintf(src->why, sizeof(src->why),
		    "the v3 datastore's configuration (%s)", ds->source);
	return 0;
}

static int
migrate_from_v2(struct ctl *ctl, int argc, char **argv)
{
	struct migrate_opts o;
	struct migrate_counts n;
	struct migrate_src src;
	struct etcdv2_error e2;
	struct etcdv2 *v2;
	struct etcd *v3;
	char err[1024], name[256];
	int rc;

	(void)argc;
	(void)argv;
	if ((rc = migrate_check_flags(ctl)) != 0)
		return rc;
	if (migrate_source(ctl, &src) == -1 || (v3 = ctl_etcd(ctl)) == NULL)
		return 1;
	if ((v2 = etcdv2_new(&src.ec, &e2)) == NULL) {
		fprintf(stderr,
		    "podmeshctl: %s (the etcd v2 endpoints came from %s)\n",
		    e2.msg, src.why);
		return 1;
	}
	memset(&o, 0, sizeof(o));
	o.apply = ctl->apply;
	o.force = ctl->force;
	o.force_ipam = ctl->force_ipam;
	o.out = stdout;
	printf("etcd v2 endpoints from %s; etcd v3 endpoints from %s\n",
	    src.why, migrate_ds_name(ctl->ds, name, sizeof(name)));
	rc = migrate_from_etcdv2(v2, v3, &o, &n, err, sizeof(err));
	fflush(stdout);
	etcdv2_free(v2);
	if (n.kept > 0)
		fprintf(stderr,
		    "podmeshctl: %zu IPAM %s other values in etcd v3 and %s "
		    "left alone: --force does not overwrite IPAM data "
		    "(--force-ipam does; see --help for why that is "
		    "dangerous)\n",
		    n.kept, n.kept == 1 ? "key holds" : "keys hold",
		    n.kept == 1 ? "was" : "were");
	if (rc == 0)
		return 0;
	if (rc == 1) {
		fprintf(stderr,
		    "podmeshctl: nothing written: %zu %s in the v1 data, %zu "
		    "%s (the plan on standard output says which)\n",
		    n.errors, n.errors == 1 ? "error" : "errors", n.conflict,
		    n.conflict == 1 ? "conflict" : "conflicts");
		return 1;
	}
	fprintf(stderr, "podmeshctl: %s\n", err);
	/* etcd v3 was fine: v2 failed, or holds no Calico data */
	if (etcd_last_error(v3)->kind == ETCD_E_NONE)
		fprintf(stderr,
		    "podmeshctl: the etcd v2 endpoints came from %s; see "
		    "'podmeshctl migrate from-etcdv2 --help'\n",
		    src.why);
	if (n.written > 0)
		fprintf(stderr,
		    "podmeshctl: %zu of %zu keys were written before that; "
		    "running the command again goes on from there\n",
		    n.written, n.create + n.update);
	return 1;
}

static void
migrate_help(FILE *out)
{
	fprintf(out,
	    "Reads every key under /calico over the etcd v2 API and converts "
	    "nodes\n"
	    "(BGP addresses, AS numbers, IPIP tunnel addresses), the global "
	    "BGP\n"
	    "settings, global and per-node peers, IP pools, the IPAM blocks,\n"
	    "affinities, handles and config, workload endpoints and the "
	    "cluster\n"
	    "information.  Felix configuration, policy, profiles, host "
	    "endpoints\n"
	    "and custom BIRD filters have no place in v3: they are listed as\n"
	    "skipped.  The only v2 key written is /calico/v1/Ready: --apply\n"
	    "sets it to false first, so that v2.6 nodes stop allocating while\n"
	    "the data is copied (and sets it back if nothing was written).\n"
	    "\n"
	    "Without --apply this is a dry run and nothing is written: it "
	    "prints\n"
	    "the plan, one line per v3 key (create, unchanged, conflict, "
	    "update),\n"
	    "then errors, warnings and what is skipped, then a summary line "
	    "with\n"
	    "the counts.  With --apply the keys to create or update are "
	    "written\n"
	    "in compare-and-swap transactions; keys that hold the same value "
	    "are\n"
	    "left alone, so a second run writes nothing.  When the v1 data "
	    "has\n"
	    "errors, or v3 keys hold other values (conflicts) without "
	    "--force,\n"
	    "nothing at all is written.\n"
	    "\n"
	    "--force leaves IPAM keys (blocks, handles, affinities, the IPAM "
	    "config)\n"
	    "that differ alone, and lists them as kept: once Calico v3 runs, "
	    "its CNI\n"
	    "allocates addresses in those blocks, which the v2 snapshot does "
	    "not\n"
	    "know.  --force-ipam (with --force) overwrites them with the v2 "
	    "snapshot\n"
	    "too.  That is dangerous: addresses allocated in v3 since become "
	    "free\n"
	    "again and are handed out to a second pod while the first still "
	    "uses\n"
	    "them, and a block claimed by another node in v3 goes back to its "
	    "v2\n"
	    "owner.  Use it only when nothing allocates from etcd v3 yet (a\n"
	    "migration that stopped half-way, with no Calico v3 running).\n"
	    "\n"
	    "etcd v2 is, in order: --v2-endpoints; else, when the "
	    "configuration\n"
	    "(--config, else the first of %s and\n"
	    "%s) is a v1 calicoApiConfig, its endpoints,\n"
	    "TLS files and user; else the v3 datastore's, as the other "
	    "commands\n"
	    "find it (the same etcd: 3.x serves the v2 API when started with\n"
	    "--enable-v2).\n"
	    "\n"
	    "Exit status: 0 when done (without --apply: when the plan can be\n"
	    "applied), 1 when the v1 data has errors or there are conflicts\n"
	    "(nothing written) or etcd failed, 2 on a usage error.\n",
	    CTL_CONFIG_PATH, CTL_CALICOCTL_PATH);
}

const struct ctl_cmd migrate_cmds[] = {
    {
        .group = "migrate",
        .name = "from-etcdv2",
        .args = "[--apply] [--force [--force-ipam]]",
        .help = "convert a Calico v2.6 datastore (etcd v2 API) into Calico's "
                "v3 resources and IPAM data in etcd v3; a dry run that "
                "prints the plan unless --apply",
        .opts = CTL_O_CONFIG | CTL_O_APPLY | CTL_O_FORCE | CTL_O_FORCE_IPAM |
            CTL_O_V2_ENDPOINTS | CTL_O_V2_CA | CTL_O_V2_CERT | CTL_O_V2_KEY,
        .exec = migrate_from_v2,
        .more_help = migrate_help,
    },
};

const size_t migrate_ncmds = sizeof(migrate_cmds) / sizeof(migrate_cmds[0]);
