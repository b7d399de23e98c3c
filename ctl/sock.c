/*
 * The control-socket client of podmeshctl: connect to a unix socket, send a
 * request, read the answer.  bgp.c (podmesh-bgpd, one request line, one JSON
 * document back until the daemon closes) and node_status.c (the same, or
 * BIRD's control socket, which answers without closing) use it.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "ctl/ctl.h"

#define CTL_SOCK_TIMEOUT_MS 30000 /* without a byte from the daemon */
/* a runaway bound only: `bgp routes -o json` is some 250 bytes a path */
#define CTL_SOCK_MAX_ANSWER ((size_t)8 << 30)

int
ctl_sock_connect(const char *path, int *fdp)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "podmeshctl: %s: path too long for a socket\n",
		    path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		fprintf(stderr, "podmeshctl: socket: %s\n", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		if (saved == ENOENT || saved == ECONNREFUSED ||
		    saved == ENOTDIR) {
			errno = saved;
			return 1;
		}
		fprintf(stderr, "podmeshctl: cannot connect to %s: %s\n", path,
		    strerror(saved));
		return -1;
	}
	*fdp = fd;
	return 0;
}

int
ctl_sock_send(int fd, const char *path, const char *req)
{
	size_t len = strlen(req), off = 0;
	ssize_t n;

	while (off < len) {
		n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "podmeshctl: %s: %s\n", path,
			    strerror(errno));
			return -1;
		}
		off += n;
	}
	return 0;
}

int
ctl_sock_read(int fd, const char *path, const char *who, char **bufp,
    size_t *lenp, bool (*stop)(const char *, size_t))
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t len = 0, cap = 65536;
	char *buf = xmalloc(cap);
	ssize_t n;
	int rv;

	for (;;) {
		if ((rv = poll(&pfd, 1, CTL_SOCK_TIMEOUT_MS)) == -1 &&
		    errno == EINTR)
			continue;
		if (rv == 0) {
			fprintf(stderr, "podmeshctl: %s: no answer from %s\n",
			    path, who);
			goto fail;
		}
		if (len + 1 >= cap) {
			if (cap >= CTL_SOCK_MAX_ANSWER) {
				fprintf(stderr,
				    "podmeshctl: %s: answer too long\n", path);
				goto fail;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "podmeshctl: %s: %s\n", path,
			    strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += n;
		buf[len] = '\0';
		if (stop != NULL && stop(buf, len))
			break;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
fail:
	free(buf);
	return -1;
}
