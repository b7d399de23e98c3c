/*
 * What the podmesh and podmesh-ipam binaries share around a CNI call:
 * reading stdin, logging to stderr or log_file_path, the node name, the
 * etcd client from the network config, the IPAM handle, printing results
 * and errors on stdout, and the optional IPAM lock file.
 */
#ifndef PODMESH_CNI_UTIL_H
#define PODMESH_CNI_UTIL_H

#include <stddef.h>

#include "cni/cni.h"

struct etcd;

#define CNI_NODENAME_FILE "/var/lib/calico/nodename"
#define CNI_IPAM_LOCK_FILE "/var/run/calico/ipam.lock" /* Calico's default */
#define CNI_STDIN_MAX (4 << 20) /* bytes of network config we accept */

/* All of stdin, NUL-terminated (*buf: free() it); error 5 or 6 (too big). */
int cni_read_stdin(char **buf, size_t *len, struct cni_error *);

/*
 * Logging for a plugin: lib/log.h's log_*() with prog as the name, at
 * log_level (Calico's spellings, any case: debug, info, warning/warn,
 * error, panic, fatal; default info), to log_file_path (appended; created
 * with its directory) or else stderr.  Never stdout: that is the runtime's.
 * nc may be NULL (before the config is read).  With log_file_path, stderr
 * itself is pointed at the file (dup2), so whatever a library prints lands
 * there too; if the file cannot be opened, a warning goes to stderr and
 * logging stays there.
 */
void cni_log_setup(const char *prog, const struct cni_netconf *nc);

/*
 * The node name as Calico's CNI determines it: nodename, then the first
 * line of nodename_file (default CNI_NODENAME_FILE; a file missing,
 * unreadable or empty is the next source's turn), then the deprecated
 * hostname, then gethostname() lowercased.  Error 7 naming the source when
 * the name it gives is not a valid one.
 */
int cni_nodename(
    const struct cni_netconf *, char *buf, size_t len, struct cni_error *);

/*
 * An etcd v3 client from the config: etcd_endpoints (else ETCD_ENDPOINTS
 * from the environment, else http://127.0.0.1:2379), etcd_ca_cert_file,
 * etcd_cert_file, etcd_key_file (else ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
 * ETCD_KEY_FILE).  datastore_type must be absent or "etcdv3"; anything
 * else is error 7 naming the field
 * ("datastore_type \"kubernetes\" is not supported: ...").  Connecting is
 * lazy; a later failure is mapped with cni_etcd_error().
 */
struct etcd *cni_etcd_open(const struct cni_netconf *, struct cni_error *);
/* an etcd failure as a CNI error: unreachable -> 11 (try again), else 5 */
void cni_etcd_error(struct etcd *, const char *what, struct cni_error *);

/* "<network name>.<CNI_CONTAINERID>", Calico's handle for a pod */
int cni_handle_id(const struct cni_netconf *, const struct cni_env *, char *buf,
    size_t len, struct cni_error *);

/*
 * Print the error JSON for version (the config's cniVersion, or NULL when
 * it is not known) on stdout, log it, and return the exit status (1).
 */
int cni_fail(const struct cni_error *, const char *version);
/*
 * A plugin takes no arguments: the runtime talks to it through the
 * environment and stdin.  With any (argc > 1), print usage (on stdout for
 * -h/--help, with status 0; else on stderr, status 2) and return the exit
 * status; -1 when there are none.
 */
int cni_usage(int argc, char **argv, const char *usage);
/* Print json and a newline on stdout; 0, or 1 if stdout failed. */
int cni_print(const char *json);

/*
 * flock() path (ipam_lock_file), creating it and its directory; the fd to
 * close() to unlock, or -1 with error 5.  Waits at most timeout_ms (then
 * error 11).
 */
int cni_lock(const char *path, int timeout_ms, struct cni_error *);

#endif
