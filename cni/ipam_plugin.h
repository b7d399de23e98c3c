/*
 * podmesh-ipam, Calico's calico-ipam as an exec'd CNI IPAM plugin
 * (calico.md §2 and §4; cni-plugin ipam/calico-ipam.go) on store/ipam.h:
 * one CNI call from its environment and network config to the JSON it
 * answers.  ipam_main.c does the process's I/O around it.
 */
#ifndef PODMESH_CNI_IPAM_PLUGIN_H
#define PODMESH_CNI_IPAM_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>

#include "cni/cni.h"

struct etcd;

#define IPAM_PLUGIN_PROG "podmesh-ipam"
#define IPAM_PLUGIN_LOCK_MS 30000 /* waiting for ipam_lock_file */

/*
 * Run the call CNI_COMMAND names on the network config conf (len bytes,
 * what stdin held).  0 with *out the JSON to print (free() it; NULL for
 * DEL, GC and STATUS, which print nothing), or -1 with err.  version
 * (vlen bytes) gets the config's cniVersion when it is known and
 * supported, else "", for the error's encoding.  Logging is set up here
 * (cni_log_setup) once the config is read.  etcd: the caller's client (the
 * podmesh plugin's, which runs this in its own process), or NULL to open
 * one from the config.
 */
int ipam_plugin_run(cni_getenv_fn, void *, struct etcd *, const char *conf,
    size_t len, char **out, char *version, size_t vlen, struct cni_error *);

/*
 * The parts of the config and CNI_ARGS the plugin reads beyond
 * cni/netconf.c's fields (CONVENTIONS.md), exposed for tests and fuzzing.
 *
 * ipam_plugin_requested: the addresses asked for, at most max: IP= in
 * CNI_ARGS, else args.cni.ips, else runtimeConfig.ips ("a" or "a/len",
 * the length ignored); *n 0 when none.  Error 7 naming the field.
 *
 * ipam_plugin_prev_ips: prevResult.ips[].address (0.3.0+ form, as CHECK
 * gets it), at most max.  Error 6 naming the field.
 *
 * ipam_plugin_attachments_check: "cni.dev/valid-attachments" (or
 * "cni.dev/attachments") is absent, or an array of objects with a
 * non-empty containerID.  Error 7 naming the entry.
 * ipam_plugin_valid: whether cid is one of them (false when absent).
 */
int ipam_plugin_requested(const struct cni_netconf *, const struct cni_args *,
    struct addr *, size_t max, size_t *n, struct cni_error *);
int ipam_plugin_prev_ips(const struct cni_netconf *, struct addr *, size_t max,
    size_t *n, struct cni_error *);
int ipam_plugin_attachments_check(
    const struct cni_netconf *, struct cni_error *);
bool ipam_plugin_valid(const struct cni_netconf *, const char *cid);

#endif
