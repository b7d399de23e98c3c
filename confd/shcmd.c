/*
 * check_cmd and reload_cmd as child processes (shcmd.h): posix_spawn of
 * /bin/sh -c in a new process group with default signal dispositions and
 * an empty mask (the daemon ignores SIGPIPE; the command must not) and no
 * file descriptor but 0, 1 and 2 (whatever the daemon or a library left
 * without FD_CLOEXEC, etcd sockets, inotify, stays out), the
 * output read from one pipe while waiting for the exit through a pidfd,
 * so that neither a silent command nor one that leaves a child holding
 * the pipe delays the render cycle past the command's own exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "confd/shcmd.h"
#include "lib/xmalloc.h"

extern char **environ;

struct capture {
	char *p;
	size_t len;
	size_t dropped;
};

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads what is there; 1 at EOF (or an error), 0 otherwise. */
static int
capture_read(int fd, struct capture *c)
{
	char buf[4096];
	ssize_t n;
	size_t keep;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return 1;
		keep = SHCMD_MAX_OUTPUT - c->len;
		if (keep > (size_t)n)
			keep = (size_t)n;
		if (keep > 0) {
			c->p = xrealloc(c->p, c->len + keep + 1);
			memcpy(c->p + c->len, buf, keep);
			c->len += keep;
			c->p[c->len] = '\0';
		}
		c->dropped += (size_t)n - keep;
	}
}

static const char *
signame(int sig)
{
	/* Go's names (syscall.Signal.String) for the likely ones */
	switch (sig) {
	case SIGHUP:
		return "hangup";
	case SIGINT:
		return "interrupt";
	case SIGQUIT:
		return "quit";
	case SIGABRT:
		return "aborted";
	case SIGKILL:
		return "killed";
	case SIGSEGV:
		return "segmentation fault";
	case SIGPIPE:
		return "broken pipe";
	case SIGALRM:
		return "alarm clock";
	case SIGTERM:
		return "terminated";
	default:
		return NULL;
	}
}

static void
describe_status(int status, char *why, size_t whylen)
{
	const char *s;

	if (WIFEXITED(status))
		snprintf(why, whylen, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status) && (s = signame(WTERMSIG(status))) != NULL)
		snprintf(why, whylen, "signal: %s", s);
	else if (WIFSIGNALED(status))
		snprintf(why, whylen, "signal: signal %d", WTERMSIG(status));
	else
		snprintf(why, whylen, "wait status 0x%x", status);
}

static int
spawn_sh(const char *cmd, int wfd, pid_t *pid, char *why, size_t whylen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t def, none;
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};
	int rc;

	/* every signal default (glibc's spawn would leave its own two ignored)
	 */
	sigfillset(&def);
	sigdelset(&def, SIGKILL);
	sigdelset(&def, SIGSTOP);
	sigemptyset(&none);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, wfd, 1);
	posix_spawn_file_actions_adddup2(&fa, wfd, 2);
	/* nothing of the daemon's: etcd sockets, inotify, whatever leaked */
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigdefault(&attr, &def);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setpgroup(&attr, 0);
	posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF |
	        POSIX_SPAWN_SETSIGMASK);
	rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(why, whylen, "cannot run /bin/sh: %s", strerror(rc));
		return -1;
	}
	return 0;
}

/*
 * As PID 1 (a container without an init) or a subreaper, the commands'
 * orphans (a background child of reload_cmd, what the timeout's kill left)
 * are ours to wait for: the exited ones are collected before and after
 * every command, so that zombies never pile up.  Otherwise init does it.
 */
static void
reap_orphans(void)
{
	int reaper = 0;

	if (getpid() != 1 &&
	    (prctl(PR_GET_CHILD_SUBREAPER, &reaper) == -1 || reaper == 0))
		return;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int
shcmd_run(const char *cmd, int timeout_ms, char **out, size_t *outlen,
    char *why, size_t whylen)
{
	struct capture c = {0};
	struct pollfd fds[2];
	int pfd[2], pidfd, status = 0, nfds, wait;
	int64_t deadline, left;
	bool eof = false, exited = false, timedout = false;
	pid_t pid;

	*out = NULL;
	*outlen = 0;
	why[0] = '\0';
	if (timeout_ms <= 0)
		timeout_ms = 30000;
	if (pipe2(pfd, O_CLOEXEC) == -1) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return -1;
	}
	reap_orphans();
	if (spawn_sh(cmd, pfd[1], &pid, why, whylen) == -1) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, fcntl(pfd[0], F_GETFL) | O_NONBLOCK);
	/* without a pidfd (old kernels), look at the child every 10 ms */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	deadline = now_ms() + timeout_ms;
	while (!exited) {
		if ((left = deadline - now_ms()) <= 0) {
			timedout = true;
			break;
		}
		nfds = 0;
		if (!eof)
			fds[nfds++] =
			    (struct pollfd){.fd = pfd[0], .events = POLLIN};
		if (pidfd != -1)
			fds[nfds++] =
			    (struct pollfd){.fd = pidfd, .events = POLLIN};
		wait = (int)left;
		if (pidfd == -1 && wait > 10)
			wait = 10;
		if (poll(fds, (nfds_t)nfds, wait) == -1 && errno != EINTR)
			break;
		if (!eof)
			eof = capture_read(pfd[0], &c) == 1;
		if (waitpid(pid, &status, WNOHANG) == pid)
			exited = true;
	}
	if (!exited) {
		kill(-pid, SIGKILL);
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
	}
	reap_orphans();
	if (!eof)
		capture_read(pfd[0], &c);
	close(pfd[0]);
	if (pidfd != -1)
		close(pidfd);
	if (c.dropped > 0) {
		char note[64];
		int n = snprintf(note, sizeof(note),
		    "\n[%zu more bytes dropped]", c.dropped);

		c.p = xrealloc(c.p, c.len + (size_t)n + 1);
		memcpy(c.p + c.len, note, (size_t)n + 1);
		c.len += (size_t)n;
	}
	if (c.p == NULL)
		c.p = xstrdup("");
	*out = c.p;
	*outlen = c.len;
	if (timedout) {
		snprintf(why, whylen, "timed out after %d ms", timeout_ms);
		return -1;
	}
	if (!exited) {
		snprintf(why, whylen, "poll: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	describe_status(status, why, whylen);
	return -1;
}

void
shcmd_escape(char *dst, size_t dstlen, const char *s, size_t n)
{
	size_t len = strlen(dst), i;
	unsigned char ch;
	char e[5];
	const char *add;
	size_t alen;

	while (n > 0 &&
	    (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' ||
	        s[n - 1] == '\t'))
		n--;
	for (i = 0; i < n; i++) {
		ch = (unsigned char)s[i];
		if (ch == '\n')
			add = "\\n";
		else if (ch == '\t')
			add = "\t";
		else if (ch < 0x20 || ch == 0x7f) {
			snprintf(e, sizeof(e), "\\x%02x", ch);
			add = e;
		} else {
			e[0] = (char)ch;
			e[1] = '\0';
			add = e;
		}
		alen = strlen(add);
		if (len + alen + 1 > dstlen)
			break;
		memcpy(dst + len, add, alen + 1);
		len += alen;
	}
}
