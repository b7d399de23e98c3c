/*
 * podmeshctl bgp ...: asks podmesh-bgpd over its control socket (one request
 * line, one JSON document back; see bgp/control.h) and prints the answer as
 * a table or, with -o json, as indented JSON.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/xmalloc.h"
#include "ctl/ctl.h"

#define BGP_TIMEOUT_MS 30000 /* without a byte from the daemon */

static int
bgp_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd;

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
		fprintf(stderr,
		    "podmeshctl: cannot connect to %s: %s; is podmesh-bgpd "
		    "running?\n",
		    path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int
bgp_send(int fd, const char *path, const char *req)
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

/* everything until the daemon closes */
static char *
bgp_read_all(int fd, const char *path, size_t *lenp)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	size_t len = 0, cap = 65536;
	char *buf = xmalloc(cap);
	ssize_t n;
	int rv;

	for (;;) {
		if ((rv = poll(&pfd, 1, BGP_TIMEOUT_MS)) == -1 &&
		    errno == EINTR)
			continue;
		if (rv == 0) {
			fprintf(stderr,
			    "podmeshctl: %s: no answer from "
			    "podmesh-bgpd\n",
			    path);
			free(buf);
			return NULL;
		}
		if (len == cap)
			buf = xrealloc(buf, cap *= 2);
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			fprintf(stderr, "podmeshctl: %s: %s\n", path,
			    strerror(errno));
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += n;
	}
	*lenp = len;
	return buf;
}

/*
 * Sends one request to the control socket at `path` and returns the parsed
 * answer, or NULL after printing why.  An {"error": ...} answer is printed
 * and also returns NULL.
 */
json_t *
bgp_request(const char *path, const char *request)
{
	json_error_t jerr;
	json_t *doc, *err;
	char *line, *buf;
	size_t len;
	int fd;

	if ((fd = bgp_connect(path)) == -1)
		return NULL;
	xasprintf(&line, "%s\n", request);
	if (bgp_send(fd, path, line) == -1) {
		free(line);
		close(fd);
		return NULL;
	}
	free(line);
	shutdown(fd, SHUT_WR);
	buf = bgp_read_all(fd, path, &len);
	close(fd);
	if (buf == NULL)
		return NULL;
	doc = json_loadb(buf, len, JSON_PRESERVE_ORDER, &jerr);
	free(buf);
	if (doc == NULL) {
		fprintf(stderr,
		    "podmeshctl: %s: bad answer from podmesh-bgpd: "
		    "%s\n",
		    path, len == 0 ? "empty" : jerr.text);
		return NULL;
	}
	if ((err = json_object_get(doc, "error")) != NULL) {
		fprintf(stderr, "podmeshctl: %s\n",
		    json_is_string(err) ? json_string_value(err)
		                        : "podmesh-bgpd reported an error");
		json_decref(doc);
		return NULL;
	}
	return doc;
}

static int
bgp_print(struct ctl *ctl, json_t *doc, int (*table)(json_t *, FILE *))
{
	int rv = 0;

	if (ctl->output == OUTPUT_JSON) {
		if (json_dumpf(doc, stdout,
		        JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1)
			rv = -1;
		fputc('\n', stdout);
	} else if (table(doc, stdout) == -1) {
		fprintf(stderr,
		    "podmeshctl: unexpected answer from podmesh-bgpd\n");
		rv = -1;
	}
	json_decref(doc);
	return rv;
}

static int
bgp_peers(struct ctl *ctl, int argc, char **argv)
{
	json_t *doc;

	if ((doc = bgp_request(ctl->socket, "peers")) == NULL)
		return -1;
	return bgp_print(ctl, doc, table_peers);
}

static int
bgp_routes(struct ctl *ctl, int argc, char **argv)
{
	struct prefix p;
	struct addr a;
	char *req;
	json_t *doc;

	if (argc == 1 && prefix_parse(argv[0], &p) == -1 &&
	    addr_parse(argv[0], &a) == -1) {
		fprintf(stderr,
		    "podmeshctl: '%s' is neither a prefix nor an address\n",
		    argv[0]);
		return -1;
	}
	xasprintf(
	    &req, "routes%s%s", argc == 1 ? " " : "", argc == 1 ? argv[0] : "");
	doc = bgp_request(ctl->socket, req);
	free(req);
	if (doc == NULL)
		return -1;
	return bgp_print(ctl, doc, table_routes);
}

static int
bgp_refresh(struct ctl *ctl, int argc, char **argv)
{
	struct addr a;
	char *req;
	json_t *doc;

	if (addr_parse(argv[0], &a) == -1) {
		fprintf(
		    stderr, "podmeshctl: '%s' is not an address\n", argv[0]);
		return -1;
	}
	xasprintf(&req, "refresh %s", argv[0]);
	doc = bgp_request(ctl->socket, req);
	free(req);
	if (doc == NULL)
		return -1;
	if (ctl->output == OUTPUT_JSON)
		return bgp_print(ctl, doc, NULL);
	printf("route refresh sent to %s\n", argv[0]);
	json_decref(doc);
	return 0;
}

#define BGP_OUTPUTS (CTL_OUT(OUTPUT_TABLE) | CTL_OUT(OUTPUT_JSON))

const struct ctl_cmd bgp_cmds[] = {
    {
        .group = "bgp",
        .name = "peers",
        .args = "",
        .help = "BGP peers: state, uptime, prefixes received and sent",
        .minargs = 0,
        .maxargs = 0,
        .opts = CTL_O_SOCKET,
        .outputs = BGP_OUTPUTS,
        .exec = bgp_peers,
    },
    {
        .group = "bgp",
        .name = "routes",
        .args = "[PREFIX|ADDRESS]",
        .help = "routes with all their paths, '*' marking the best; "
                "PREFIX shows it and its more specifics, ADDRESS the "
                "most specific route containing it",
        .minargs = 0,
        .maxargs = 1,
        .opts = CTL_O_SOCKET,
        .outputs = BGP_OUTPUTS,
        .exec = bgp_routes,
    },
    {
        .group = "bgp",
        .name = "refresh",
        .args = "ADDRESS",
        .help = "ask the Established peer at ADDRESS to send its "
                "routes again (route refresh, RFC 2918)",
        .minargs = 1,
        .maxargs = 1,
        .opts = CTL_O_SOCKET,
        .outputs = BGP_OUTPUTS,
        .exec = bgp_refresh,
    },
};

const size_t bgp_ncmds = sizeof(bgp_cmds) / sizeof(bgp_cmds[0]);
