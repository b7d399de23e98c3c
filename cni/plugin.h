/*
 * The podmesh CNI plugin (calico.md §4, ecosystem.md §1): the commands
 * ADD, DEL, CHECK, VERSION, STATUS and GC over the pieces in cni/ (config
 * and environment parsing, IPAM delegation, wiring, the WorkloadEndpoint).
 * main.c only reads stdin and calls plugin_run(); the pure parts (the
 * workload's identity, the result, the addresses) are here for the tests.
 */
#ifndef PODMESH_CNI_PLUGIN_H
#define PODMESH_CNI_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "cni/cni.h"

#define PLUGIN_PROG "podmesh"
#define PLUGIN_IFNAMSIZ 16 /* IFNAMSIZ */
#define PLUGIN_PREFIX_MAX 12 /* FELIX_INTERFACEPREFIX item kept */

/* Who the pod is, from CNI_ARGS and CNI_CONTAINERID. */
struct plugin_ident {
	bool k8s; /* K8S_POD_NAMESPACE and K8S_POD_NAME both given */
	const char *orchestrator; /* "k8s" or "cni" */
	const char *namespace; /* the pod's, or "default" */
	const char *pod; /* NULL outside Kubernetes */
	char workload[512]; /* "<ns>.<pod>" or the container id */
	char host_ifname[PLUGIN_IFNAMSIZ]; /* cali... */
};

/*
 * FELIX_INTERFACEPREFIX's first comma-separated item into buf, or NULL
 * (the default "cali") when felix is NULL or the item is empty or longer
 * than PLUGIN_PREFIX_MAX.
 */
const char *plugin_ifprefix(const char *felix, char *buf, size_t len);
/* the identity; strings borrowed from env.  Error 4 if no name fits. */
int plugin_ident(const struct cni_env *, const char *prefix,
    struct plugin_ident *, struct cni_error *);
/* "X.Y.Z" order; unparsable versions sort first */
int plugin_version_cmp(const char *, const char *);
/* the cniVersion in a config, when it is a supported one (free() it) */
char *plugin_peek_version(const char *, size_t);
/* the config's "dns" object; strings borrowed.  Error 7 naming the field. */
int plugin_dns(const json_t *root, struct cni_dns *, struct cni_error *);
/*
 * The addresses of an IPAM result as the pod gets them (/32, /128, host
 * bits kept); error 100 when there is none.
 */
int plugin_ipam_addrs(const struct cni_result *, struct prefix *addrs,
    size_t *naddrs, struct cni_error *);
/*
 * ADD's result: [host link (ee:ee:ee:ee:ee:ee), pod link (mac, sandbox
 * netns)], both with mtu (1.1.0 shows it), the addresses on the pod link,
 * a default route per family via 169.254.1.1 / fe80::ecee:eeff:feee:eeee,
 * and dns.  Strings borrowed.
 */
void plugin_result(const char *host_ifname, const char *ifname, const char *mac,
    const char *netns, int mtu, const struct prefix *addrs, size_t naddrs,
    const struct cni_dns *, struct cni_result *);
/*
 * CHECK: the addresses of prevResult on the pod side (an interface named
 * ifname with a sandbox); error 7 when there is none.
 */
int plugin_prev_addrs(const struct cni_result *, const char *ifname,
    struct prefix *addrs, size_t *naddrs, struct cni_error *);
/* is a prevResult handed to ADD one from another main plugin? */
bool plugin_prev_has_ips(const json_t *prev);

/*
 * The whole plugin: environment from get(arg, NAME), config in (inlen
 * bytes, possibly empty for VERSION).  Prints the answer on stdout and
 * returns the exit status.
 */
int plugin_run(cni_getenv_fn get, void *arg, const char *in, size_t inlen);

#endif
