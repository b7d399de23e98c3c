/*
 * podmeshctl bgp ...: asks podmesh-bgpd over its control socket (one request
 * line, one JSON document back; see bgp/control.h) and prints the answer as
 * a table or, with -o json, as indented JSON.
 */
#include <sys/socket.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/addr.h"
#include "lib/xmalloc.h"
#include "ctl/ctl.h"

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
	int fd, rv;

	if ((rv = ctl_sock_connect(path, &fd)) == 1)
		fprintf(stderr,
		    "podmeshctl: cannot connect to %s: %s; is podmesh-bgpd "
		    "running?\n",
		    path, strerror(errno));
	if (rv != 0)
		return NULL;
	xasprintf(&line, "%s\n", request);
	if (ctl_sock_send(fd, path, line) == -1) {
		free(line);
		close(fd);
		return NULL;
	}
	free(line);
	shutdown(fd, SHUT_WR);
	rv = ctl_sock_read(fd, path, "podmesh-bgpd", &buf, &len, NULL);
	close(fd);
	if (rv == -1)
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
