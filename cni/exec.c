/*
 * Running other CNI plugins (SPEC.md "Section 3: Execution Protocol",
 * libcni's pkg/invoke): the search over CNI_PATH, one execution with the
 * config on stdin and the answer read from stdout, and the IPAM delegation
 * of "Delegated plugins".
 *
 * One execution is posix_spawn (glibc's is a vfork: cheap, and a chain of
 * plugins runs several per pod) and a poll loop over the child's stdin,
 * its stdout and a pidfd, so that a plugin printing megabytes while we
 * still write its config cannot deadlock us, and a plugin that hangs is
 * killed at the deadline.  Its stderr is ours: plugins log there.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cni/exec.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

extern char **environ;

#define EXEC_TIMEOUT_MS 60000
#define EXEC_MAX_OUTPUT (64 << 20) /* a result is a few hundred bytes */
#define EXEC_QUOTE 160 /* bytes of stdout quoted in messages */

struct exec_run {
	pid_t pid;
	int in; /* write end of the child's stdin, -1 when closed */
	int out; /* read end of its stdout, -1 at EOF */
	int pidfd; /* -1: kernel without pidfd_open, poll waitpid */
	const char *inbuf;
	size_t inlen, inoff;
	char *buf;
	size_t len, cap;
	int status;
	bool exited;
};

static bool
exec_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

int
cni_find_plugin(const char *path, const char *type, char *buf, size_t len,
    struct cni_error *err)
{
	const char *p, *e;
	char dirs[256];
	size_t n, dl = 0;
	int w;

	if (type == NULL || *type == '\0' || strchr(type, '/') != NULL) {
		cni_error_set(err, CNI_ERR_CONFIG,
		    "invalid plugin name \"%.64s\"", type == NULL ? "" : type);
		return -1;
	}
	dirs[0] = '\0';
	for (p = path != NULL ? path : ""; *p != '\0'; p = *e ? e + 1 : e) {
		if ((e = strchr(p, ':')) == NULL)
			e = p + strlen(p);
		n = e - p;
		if (n == 0)
			continue;
		/* libcni prints the path as a Go slice: [a b] */
		if (dl < sizeof(dirs) - 1) {
			w = snprintf(dirs + dl, sizeof(dirs) - dl, "%s%.*s",
			    dl > 0 ? " " : "", (int)n, p);
			if (w > 0)
				dl += (size_t)w;
			if (dl >= sizeof(dirs))
				dl = sizeof(dirs) - 1;
		}
		w = snprintf(buf, len, "%.*s/%s", (int)n, p, type);
		if (w < 0 || (size_t)w >= len)
			continue;
		if (exec_is_file(buf))
			return 0;
	}
	cni_error_set(err, CNI_ERR_IO,
	    "failed to find plugin \"%.64s\" in path [%s]", type, dirs);
	return -1;
}

/* environ with CNI_COMMAND replaced; the strings are borrowed. */
static char **
exec_environ(const char *command)
{
	char **envp, **e;
	size_t n = 0;

	for (e = environ; e != NULL && *e != NULL; e++)
		n++;
	envp = xcalloc(n + 2, sizeof(*envp));
	n = 0;
	for (e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, "CNI_COMMAND=", 12) != 0)
			envp[n++] = *e;
	if (command != NULL)
		xasprintf(&envp[n++], "CNI_COMMAND=%s", command);
	envp[n] = NULL;
	return envp;
}

static void
exec_environ_free(char **envp, const char *command)
{
	size_t n;

	if (command != NULL) {
		for (n = 0; envp[n] != NULL; n++)
			;
		free(envp[n - 1]);
	}
	free(envp);
}

static long long
exec_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
exec_close(int *fd)
{
	if (*fd != -1) {
		close(*fd);
		*fd = -1;
	}
}

static int
exec_spawn(struct exec_run *r, const char *bin, char *const *envp,
    struct cni_error *err)
{
	posix_spawn_file_actions_t fa;
	char *argv[2];
	int inp[2], outp[2], rc;

	if (pipe2(inp, O_CLOEXEC) == -1) {
		cni_error_set(err, CNI_ERR_IO, "pipe: %s", strerror(errno));
		return -1;
	}
	if (pipe2(outp, O_CLOEXEC) == -1) {
		cni_error_set(err, CNI_ERR_IO, "pipe: %s", strerror(errno));
		close(inp[0]);
		close(inp[1]);
		return -1;
	}
	if (posix_spawn_file_actions_init(&fa) != 0)
		fatal("posix_spawn_file_actions_init");
	/* dup2 onto 0 and 1 clears FD_CLOEXEC on the copies only */
	if (posix_spawn_file_actions_adddup2(&fa, inp[0], 0) != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, outp[1], 1) != 0)
		fatal("posix_spawn_file_actions_adddup2");
	/*
	 * Nothing of ours but stderr: a caller's etcd socket or lock file
	 * left without FD_CLOEXEC must not live on in the plugin.
	 */
	if (posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0)
		fatal("posix_spawn_file_actions_addclosefrom_np");
	argv[0] = (char *)bin;
	argv[1] = NULL;
	rc = posix_spawn(&r->pid, bin, &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	close(inp[0]);
	close(outp[1]);
	if (rc != 0) {
		close(inp[1]);
		close(outp[0]);
		cni_error_set(err, CNI_ERR_IO,
		    "failed to execute plugin %s: %s", bin, strerror(rc));
		return -1;
	}
	r->in = inp[1];
	r->out = outp[0];
	if (fcntl(r->in, F_SETFL, O_NONBLOCK) == -1 ||
	    fcntl(r->out, F_SETFL, O_NONBLOCK) == -1)
		fatal("fcntl O_NONBLOCK");
	r->pidfd = pidfd_open(r->pid, 0);
	return 0;
}

static void
exec_reap(struct exec_run *r, bool block)
{
	pid_t p;

	if (r->exited)
		return;
	do
		p = waitpid(r->pid, &r->status, block ? 0 : WNOHANG);
	while (p == -1 && errno == EINTR);
	if (p == r->pid || (p == -1 && errno == ECHILD))
		r->exited = true;
}

/* -1 at EOF or error, 0 when it would block; grows the buffer. */
static int
exec_read(struct exec_run *r)
{
	ssize_t n;

	for (;;) {
		if (r->cap - r->len < 4096) {
			r->cap = r->cap == 0 ? 8192 : r->cap * 2;
			r->buf = xrealloc(r->buf, r->cap + 1);
		}
		n = read(r->out, r->buf + r->len, r->cap - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			if (r->len > EXEC_MAX_OUTPUT)
				return -1;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		return -1;
	}
}

static void
exec_write(struct exec_run *r)
{
	ssize_t n;

	while (r->inoff < r->inlen) {
		n = write(r->in, r->inbuf + r->inoff, r->inlen - r->inoff);
		if (n > 0) {
			r->inoff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return;
		/* EPIPE: it does not read its stdin; what it says matters */
		break;
	}
	exec_close(&r->in);
}

/*
 * Feed stdin, drain stdout, until the child has exited and its stdout is
 * drained.  Once it has exited we only take what is already in the pipe:
 * a daemon it left behind may hold the pipe open forever.  0, or -1 at
 * the deadline.
 */
static int
exec_loop(struct exec_run *r, long long deadline)
{
	struct pollfd pfd[3];
	nfds_t n;
	int idx_in, idx_out, idx_pid, timeout;
	long long left;

	if (r->inlen == 0)
		exec_close(&r->in);
	while (r->out != -1 || !r->exited) {
		if (r->exited) {
			exec_read(r);
			exec_close(&r->out);
			break;
		}
		n = 0;
		idx_in = idx_out = idx_pid = -1;
		if (r->in != -1) {
			pfd[n].fd = r->in;
			pfd[n].events = POLLOUT;
			idx_in = n++;
		}
		if (r->out != -1) {
			pfd[n].fd = r->out;
			pfd[n].events = POLLIN;
			idx_out = n++;
		}
		if (r->pidfd != -1) {
			pfd[n].fd = r->pidfd;
			pfd[n].events = POLLIN;
			idx_pid = n++;
		}
		left = deadline - exec_now_ms();
		if (left <= 0)
			return -1;
		timeout = left > 1000 ? 1000 : (int)left;
		/* without a pidfd, look at the child every few ms */
		if (r->pidfd == -1 && r->out == -1 && timeout > 5)
			timeout = 5;
		if (poll(pfd, n, timeout) == -1) {
			if (errno == EINTR)
				continue;
			fatal("poll");
		}
		if (idx_in != -1 && pfd[idx_in].revents != 0)
			exec_write(r);
		if (idx_out != -1 && pfd[idx_out].revents != 0 &&
		    exec_read(r) == -1) {
			exec_close(&r->out);
			if (r->len > EXEC_MAX_OUTPUT)
				return -1;
		}
		if (idx_pid == -1 || pfd[idx_pid].revents != 0)
			exec_reap(r, false);
	}
	return 0;
}

/* First bytes of the output for messages, without the trailing newline. */
static void
exec_quote(const struct exec_run *r, char *q, size_t qlen)
{
	size_t n = r->len;

	while (n > 0 &&
	    (r->buf[n - 1] == '\n' || r->buf[n - 1] == '\r' ||
	        r->buf[n - 1] == ' '))
		n--;
	if (n > qlen - 1)
		n = qlen - 1;
	memcpy(q, r->buf, n);
	q[n] = '\0';
}

static bool
exec_blank(const struct exec_run *r)
{
	size_t i;

	for (i = 0; i < r->len; i++)
		if (strchr(" \t\r\n", r->buf[i]) == NULL)
			return false;
	return true;
}

/* The spec's error object: {"code": N, "msg": "...", "details": "..."} */
static int
exec_error_json(const struct exec_run *r, struct cni_error *err)
{
	json_t *o, *code, *msg, *details;

	if ((o = json_loadb(r->buf, r->len, 0, NULL)) == NULL)
		return -1;
	code = json_object_get(o, "code");
	msg = json_object_get(o, "msg");
	details = json_object_get(o, "details");
	if (!json_is_object(o) || !json_is_integer(code) ||
	    json_integer_value(code) <= 0 ||
	    json_integer_value(code) > 0x7fffffff ||
	    (msg != NULL && !json_is_string(msg) && !json_is_null(msg)) ||
	    (details != NULL && !json_is_string(details) &&
	        !json_is_null(details))) {
		json_decref(o);
		return -1;
	}
	cni_error_set(err, (int)json_integer_value(code), "%s",
	    json_is_string(msg) ? json_string_value(msg) : "");
	if (json_is_string(details))
		snprintf(err->details, sizeof(err->details), "%s",
		    json_string_value(details));
	json_decref(o);
	return 0;
}

static int
exec_answer(
    struct exec_run *r, const char *bin, json_t **out, struct cni_error *err)
{
	char q[EXEC_QUOTE + 1], how[64];
	json_error_t jerr;
	json_t *o;

	if (r->len > EXEC_MAX_OUTPUT) {
		cni_error_set(err, CNI_ERR_INTERNAL,
		    "plugin %s printed more than %d bytes", bin,
		    EXEC_MAX_OUTPUT);
		return -1;
	}
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0) {
		if (exec_blank(r))
			return 0;
		o = json_loadb(r->buf, r->len, 0, &jerr);
		if (o != NULL && json_is_object(o)) {
			*out = o;
			return 0;
		}
		json_decref(o);
		exec_quote(r, q, sizeof(q));
		cni_error_set(err, CNI_ERR_INTERNAL,
		    "plugin %s printed no JSON object: %s", bin, q);
		return -1;
	}
	if (exec_error_json(r, err) == 0)
		return -1;
	if (WIFEXITED(r->status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(r->status));
	else
		snprintf(
		    how, sizeof(how), "ended with wait status %d", r->status);
	exec_quote(r, q, sizeof(q));
	cni_error_set(err, CNI_ERR_INTERNAL, "plugin %s %s: %s", bin, how, q);
	return -1;
}

int
cni_exec(const char *bin, const char *command, char *const *envp,
    const char *in, size_t inlen, int timeout_ms, json_t **out,
    struct cni_error *err)
{
	struct exec_run r;
	sigset_t pipeset, oldset, pending;
	struct timespec zero = {0, 0};
	char **myenv = NULL;
	bool pipe_pending;
	int rc;

	*out = NULL;
	memset(&r, 0, sizeof(r));
	r.in = r.out = r.pidfd = -1;
	r.inbuf = in;
	r.inlen = in != NULL ? inlen : 0;
	if (timeout_ms <= 0)
		timeout_ms = EXEC_TIMEOUT_MS;
	if (envp == NULL)
		envp = myenv = exec_environ(command);
	rc = exec_spawn(&r, bin, envp, err);
	if (myenv != NULL)
		exec_environ_free(myenv, command);
	if (rc == -1)
		return -1;

	/*
	 * A plugin that exits without reading stdin makes our write fail
	 * with EPIPE; the SIGPIPE is blocked here and taken back afterwards
	 * unless one was already pending for someone else.
	 */
	sigemptyset(&pipeset);
	sigaddset(&pipeset, SIGPIPE);
	sigpending(&pending);
	pipe_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipeset, &oldset);
	rc = exec_loop(&r, exec_now_ms() + timeout_ms);
	if (!pipe_pending)
		while (sigtimedwait(&pipeset, NULL, &zero) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, &oldset, NULL);

	exec_close(&r.in);
	exec_close(&r.out);
	if (rc == -1 && !r.exited)
		kill(r.pid, SIGKILL);
	exec_reap(&r, true);
	exec_close(&r.pidfd);
	if (rc == -1 && r.len <= EXEC_MAX_OUTPUT) {
		cni_error_set(err, CNI_ERR_TRY_AGAIN,
		    "plugin %s timed out after %d ms", bin, timeout_ms);
		rc = -1;
	} else
		rc = exec_answer(&r, bin, out, err);
	free(r.buf);
	return rc;
}

/*
 * ipam.type names the binary, except Calico's: "calico-ipam" is served by
 * podmesh-ipam (same datastore, same blocks) unless a real calico-ipam is
 * installed next to us.
 */
int
cni_ipam_exec(const struct cni_netconf *nc, const struct cni_env *env,
    const char *command, json_t **out, struct cni_error *err)
{
	char bin[4096], *in;
	int rc;

	*out = NULL;
	if (nc->ipam.type == NULL || *nc->ipam.type == '\0') {
		cni_error_set(err, CNI_ERR_CONFIG, "ipam: type is required");
		return -1;
	}
	if (env->path == NULL || *env->path == '\0') {
		cni_error_set(err, CNI_ERR_ENV, "CNI_PATH is not set");
		return -1;
	}
	if (strcmp(nc->ipam.type, "calico-ipam") == 0) {
		if (cni_find_plugin(env->path, "calico-ipam", bin, sizeof(bin),
		        err) == -1 &&
		    cni_find_plugin(
		        env->path, "podmesh-ipam", bin, sizeof(bin), err) == -1)
			return -1;
	} else if (cni_find_plugin(
	               env->path, nc->ipam.type, bin, sizeof(bin), err) == -1)
		return -1;

	if (nc->root == NULL ||
	    (in = json_dumps(nc->root, JSON_PRESERVE_ORDER | JSON_COMPACT)) ==
	        NULL) {
		cni_error_set(err, CNI_ERR_INTERNAL, "ipam: no config to pass");
		return -1;
	}
	rc = cni_exec(bin, command, NULL, in, strlen(in), 0, out, err);
	free(in);
	if (rc == -1)
		return -1;
	if (strcmp(command, "ADD") == 0) {
		if (*out == NULL) {
			cni_error_set(err, CNI_ERR_INTERNAL,
			    "IPAM plugin %s returned no result", nc->ipam.type);
			return -1;
		}
	} else {
		json_decref(*out);
		*out = NULL;
	}
	return 0;
}
