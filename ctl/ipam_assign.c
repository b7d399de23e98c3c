/*
 * podmeshctl ipam assign and ipam release --handle: Calico's IPAM
 * (store/ipam.h) from the command line, for scripts and tests that need
 * addresses (and so blocks) allocated to nodes the way the CNI plugin and
 * podmesh-node allocate them.
 *
 *  - assign --node NODE [--handle ID] [--ip ADDR] [--pool CIDR]...
 *    [--ipv6] [--attr KEY=VALUE]...: auto-assigns one address (or the
 *    address ADDR) for NODE and prints it alone on a line;
 *  - release --handle ID: frees every address the handle holds and prints
 *    them (ipam release --ip stays ipam.c's).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/addr.h"
#include "lib/xmalloc.h"
#include "store/etcd.h"
#include "store/ipam.h"
#include "store/model.h"
#include "ctl/ctl.h"

static int
ipam_assign_args(struct ctl *ctl, struct ipam_request *req,
    struct prefix *pools, struct model_labels *attrs, struct addr *ip)
{
	const char *eq;
	char *key;
	size_t i;

	if (ctl->node == NULL) {
		fprintf(stderr, "podmeshctl: ipam assign needs --node NODE\n");
		return 2;
	}
	memset(req, 0, sizeof(*req));
	req->family = ctl->ipv6 ? AF_INET6 : AF_INET;
	req->handle = ctl->handle;
	if (ctl->ip != NULL) {
		if (addr_parse(ctl->ip, ip) == -1 || ip->scope_id != 0) {
			fprintf(stderr,
			    "podmeshctl: '%s' is not an IP address\n", ctl->ip);
			return 2;
		}
		if (ctl->ipv6 && ip->family != AF_INET6) {
			fprintf(stderr,
			    "podmeshctl: --ipv6 with the IPv4 address %s\n",
			    ctl->ip);
			return 2;
		}
		req->family = ip->family;
	}
	for (i = 0; i < ctl->npools; i++)
		if (model_prefix_parse(ctl->pools[i], &pools[i]) == -1) {
			fprintf(stderr,
			    "podmeshctl: --pool '%s' is not a CIDR\n",
			    ctl->pools[i]);
			return 2;
		}
	req->pools = pools;
	req->npools = ctl->npools;
	for (i = 0; i < ctl->nattrs; i++) {
		if ((eq = strchr(ctl->attrs[i], '=')) == NULL ||
		    eq == ctl->attrs[i]) {
			fprintf(stderr,
			    "podmeshctl: --attr takes KEY=VALUE, not '%s'\n",
			    ctl->attrs[i]);
			return 2;
		}
		key = xstrndup(ctl->attrs[i], eq - ctl->attrs[i]);
		model_labels_set(attrs, key, eq + 1);
		free(key);
	}
	if (ctl->nattrs > 0)
		req->attrs = attrs;
	return 0;
}

int
ipam_assign_cmd(struct ctl *ctl, int argc, char **argv)
{
	struct ipam_request req;
	struct prefix pools[CTL_MAX_REPEAT];
	struct model_labels attrs;
	struct ipam *ip = NULL;
	struct addr a, got;
	struct etcd *e;
	char err[IPAM_ERRLEN], s[ADDR_STRLEN];
	int rc;

	(void)argc;
	(void)argv;
	memset(&attrs, 0, sizeof(attrs));
	memset(&a, 0, sizeof(a));
	if ((rc = ipam_assign_args(ctl, &req, pools, &attrs, &a)) != 0)
		goto out;
	rc = -1;
	if ((e = ctl_etcd(ctl)) == NULL)
		goto out;
	if ((ip = ipam_new(e, ctl->node)) == NULL) {
		fprintf(
		    stderr, "podmeshctl: '%s' is not a node name\n", ctl->node);
		rc = 2;
		goto out;
	}
	if (ctl->ip != NULL) {
		rc = ipam_assign_ip(ip, &req, &a, err, sizeof(err));
		got = a;
	} else
		rc = ipam_auto_assign(ip, &req, &got, err, sizeof(err));
	if (rc == -1)
		fprintf(stderr, "podmeshctl: %s\n", err);
	else
		printf("%s\n", addr_ntop(&got, s, sizeof(s)));
out:
	ipam_free(ip);
	model_labels_clean(&attrs);
	return rc;
}

int
ipam_release_handle_cmd(struct ctl *ctl, int argc, char **argv)
{
	struct addr *v = NULL;
	struct ipam *ip;
	struct etcd *e;
	char err[IPAM_ERRLEN], s[ADDR_STRLEN];
	size_t i, n = 0;
	int rc = -1;

	(void)argc;
	(void)argv;
	if (ctl->ip != NULL) {
		fprintf(stderr,
		    "podmeshctl: ipam release takes --ip or --handle, not "
		    "both\n");
		return 2;
	}
	if ((e = ctl_etcd(ctl)) == NULL)
		return -1;
	/* the client's host matters only to allocation */
	ip = ipam_new(e, "podmeshctl");
	if (ipam_handle_get(ip, ctl->handle, &v, &n, err, sizeof(err)) == -1 ||
	    ipam_release_handle(ip, ctl->handle, err, sizeof(err)) == -1)
		fprintf(stderr, "podmeshctl: %s\n", err);
	else {
		for (i = 0; i < n; i++)
			printf("Released %s\n", addr_ntop(&v[i], s, sizeof(s)));
		printf("Released handle %s (%zu address%s)\n", ctl->handle, n,
		    n == 1 ? "" : "es");
		rc = 0;
	}
	free(v);
	ipam_free(ip);
	return rc;
}
