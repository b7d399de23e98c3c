/*
 * Running check_cmd and reload_cmd: /bin/sh -c CMD with stdin from
 * /dev/null and stdout and stderr captured together (Go's CombinedOutput,
 * as confd runs them), in a process group of its own that is killed when
 * the command outlives its timeout.
 */
#ifndef PODMESH_CONFD_SHCMD_H
#define PODMESH_CONFD_SHCMD_H

#include <stddef.h>

#define SHCMD_MAX_OUTPUT (64 * 1024) /* bytes of output kept */

/*
 * Runs cmd and waits at most timeout_ms (<= 0: 30000).  *out gets the
 * output (malloc'd, NUL-terminated, at most SHCMD_MAX_OUTPUT bytes and a
 * note when more was dropped).  0 when the command exited 0; -1 with why
 * as Go words it ("exit status 1", "signal: killed") or "timed out after
 * N ms" or why it could not start.  The command's own children that keep
 * the output open are not waited for.
 */
int shcmd_run(const char *cmd, int timeout_ms, char **out, size_t *outlen,
    char *why, size_t whylen);

/*
 * Appends s (n bytes) to dst (a NUL-terminated string in a buffer of
 * dstlen) for a log line: trailing whitespace dropped, newlines and other
 * control bytes escaped (\n, \xNN), truncated to fit.
 */
void shcmd_escape(char *dst, size_t dstlen, const char *s, size_t n);

#endif
