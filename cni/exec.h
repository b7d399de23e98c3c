/*
 * Running other CNI plugins: finding a binary in CNI_PATH, executing it
 * with a command, the network config on stdin and the CNI_* environment,
 * collecting its stdout (result or error JSON) while its stderr passes
 * through; the IPAM delegation of SPEC.md ("Delegated plugins").  Used by
 * the podmesh plugin (IPAM) and podmesh-cnitool (the whole chain).
 */
#ifndef PODMESH_CNI_EXEC_H
#define PODMESH_CNI_EXEC_H

#include <stddef.h>

#include <jansson.h>

#include "cni/cni.h"

/*
 * The first executable "<dir>/<type>" over path (':'-separated CNI_PATH);
 * error 5 ("failed to find plugin \"x\" in path [a b]") when none, error
 * 7 when type is empty or holds '/'.
 */
int cni_find_plugin(const char *path, const char *type, char *buf, size_t len,
    struct cni_error *);

/*
 * Run bin with in (inlen bytes) on stdin.  envp NULL: this process's
 * environment with CNI_COMMAND set to command; else exactly envp (the
 * caller sets CNI_COMMAND).  Waits at most timeout_ms (0: 60 s; then the
 * child is killed: error 11).  Exit 0: 0 with *out the JSON it printed
 * (NULL when it printed nothing; json_decref() it).  Otherwise -1 with err
 * from the error JSON it printed (code, msg, details), or, when stdout is
 * not that, code 999 "plugin bin ... exited with status N: <stdout>".
 */
int cni_exec(const char *bin, const char *command, char *const *envp,
    const char *in, size_t inlen, int timeout_ms, json_t **out,
    struct cni_error *);

/*
 * Delegate command to the config's IPAM plugin, as SPEC.md says: ipam.type
 * from env->path, given the whole config (nc->root) on stdin and this
 * process's environment with CNI_COMMAND = command.  ipam.type
 * "calico-ipam" runs podmesh-ipam (Calico's IPAM, same data) unless a
 * calico-ipam is found in the path.  ADD: *out is the IPAM result; others:
 * *out NULL.
 */
int cni_ipam_exec(const struct cni_netconf *nc, const struct cni_env *env,
    const char *command, json_t **out, struct cni_error *);

#endif
