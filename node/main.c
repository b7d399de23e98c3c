/*
 * podmesh-node: the one-shot node startup, calico/node's (calico.md §6),
 * configured by calico/node's environment variables so that existing
 * manifests carry over.  It registers the node in etcd, makes the default
 * pools, brings the tunnel up and exits; node/startup.c does the work.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "lib/log.h"
#include "node/node.h"
#include "store/store.h"

#define PODMESH_VERSION "0.1.0"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: podmesh-node [--help] [--version]\n"
	    "\n"
	    "Registers this node in Calico's etcd datastore the way "
	    "calico/node's\n"
	    "startup does, then exits: 0 once the Node resource is written "
	    "and\n"
	    "the tunnel (tunl0 for IPIP pools, vxlan.calico for VXLAN pools) "
	    "is\n"
	    "up; 1 with one line on stderr saying what is wrong; 2 for bad\n"
	    "arguments.  Running it again with nothing changed writes "
	    "nothing.\n"
	    "Logs go to stderr.  It is configured only by the environment:\n"
	    "\n"
	    "  NODENAME               node name; else NODENAME_FILE's "
	    "content,\n"
	    "                         else HOSTNAME (lower-cased), else\n"
	    "                         gethostname()\n"
	    "  NODENAME_FILE          file to read the name from and write it\n"
	    "                         to (calico/node's /var/lib/calico/\n"
	    "                         nodename); unset: no file\n"
	    "  IP, IP6                autodetect, none, ADDR or ADDR/LEN (a "
	    "bare\n"
	    "                         ADDR takes its interface's length); IP\n"
	    "                         unset autodetects if the Node has none\n"
	    "  IP_AUTODETECTION_METHOD, IP6_AUTODETECTION_METHOD\n"
	    "                         first-found, interface=RE[,RE],\n"
	    "                         skip-interface=RE[,RE], can-reach=DEST,\n"
	    "                         cidr=CIDR[,CIDR]\n"
	    "  AS                     the node's AS number (unset: the "
	    "global)\n"
	    "  DISABLE_NODE_IP_CHECK  true: allow another node's address "
	    "(checked\n"
	    "                         on every start otherwise)\n"
	    "  ETCD_ENDPOINTS         default http://127.0.0.1:2379\n"
	    "  ETCD_CA_CERT_FILE, ETCD_CERT_FILE, ETCD_KEY_FILE,\n"
	    "  ETCD_USERNAME, ETCD_PASSWORD\n"
	    "  PODMESH_NODE_ETCD_TIMEOUT  seconds to wait for etcd (default "
	    "60)\n"
	    "  NO_DEFAULT_POOLS       true: make no default pool\n"
	    "  CALICO_IPV4POOL_CIDR   default 192.168.0.0/16; none: no pool\n"
	    "  CALICO_IPV4POOL_IPIP, CALICO_IPV4POOL_VXLAN\n"
	    "                         Always, CrossSubnet or Never (default)\n"
	    "  CALICO_IPV4POOL_NAT_OUTGOING  default true\n"
	    "  CALICO_IPV4POOL_BLOCK_SIZE    default 26 (20 to 32)\n"
	    "  CALICO_IPV4POOL_NODE_SELECTOR, _DISABLE_BGP_EXPORT\n"
	    "  CALICO_IPV6POOL_CIDR   an IPv6 pool is made only when this is\n"
	    "                         set or the node has an IPv6 address\n"
	    "                         (default fd80:24e2:f998:72d6::/64)\n"
	    "  CALICO_IPV6POOL_NAT_OUTGOING (false), _BLOCK_SIZE (122),\n"
	    "  _NODE_SELECTOR, _DISABLE_BGP_EXPORT; FELIX_IPV6SUPPORT=false:\n"
	    "                         no IPv6 pool\n"
	    "  FELIX_IPINIPMTU        tunl0's MTU (default 1440)\n"
	    "  FELIX_VXLANMTU         vxlan.calico's (default underlay - 50)\n"
	    "  FELIX_VXLANVNI, FELIX_VXLANPORT  default 4096, 4789\n"
	    "  CLUSTER_TYPE           ClusterInformation's clusterType\n"
	    "  CALICO_STARTUP_LOGLEVEL  debug, info, warning or error\n"
	    "\n"
	    "  -h, --help             this text\n"
	    "  -V, --version          print the version\n");
}

static const char *
main_getenv(void *arg, const char *name)
{
	return getenv(name);
}

int
main(int argc, char *argv[])
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct startup_config conf;
	char err[NODE_ERRLEN];
	int ch, rc;

	log_init("podmesh-node", LOG_LVL_INFO);
	store_init();
	while ((ch = getopt_long(argc, argv, "hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("podmesh-node %s\n", PODMESH_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (startup_config_parse(&conf, main_getenv, NULL, err, sizeof(err)) ==
	    -1) {
		log_errorx("%s", err);
		return 1;
	}
	log_setlevel(conf.log_level);
	signal(SIGPIPE, SIG_IGN);
	rc = startup_run(&conf, err, sizeof(err));
	if (rc == -1)
		log_errorx("%s", err);
	startup_config_clean(&conf);
	return rc == 0 ? 0 : 1;
}
