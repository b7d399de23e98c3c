/*
 * podmeshctl node status: calicoctl's `node status` for a podmesh node.  It
 * asks podmesh-bgpd's control socket for its peers (bgp/control.h), or, with
 * --bird SOCKET, a BIRD daemon's control socket for `show protocols` (nodes
 * where podmesh-confd writes BIRD's configuration), and prints the BGP peers
 * of each family with status.c.  A daemon that is not there (no socket, or
 * nobody listening on it) is "not running" on standard output and exit
 * status 1, as calicoctl's "Calico process is not running.".
 */
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/xmalloc.h"
#include "ctl/ctl.h"

static void
ns_not_running(struct ctl *ctl, const char *who)
{
	if (ctl->output == OUTPUT_JSON)
		printf("{\n  \"running\": false\n}\n");
	else
		printf("%s is not running.\n", who);
}

static int
ns_print(struct ctl *ctl, const struct status *st, const char *who)
{
	json_t *doc;
	int rv = 0;

	if (ctl->output == OUTPUT_JSON) {
		doc = status_json(st);
		if (json_dumpf(doc, stdout,
		        JSON_INDENT(2) | JSON_PRESERVE_ORDER) == -1)
			rv = -1;
		fputc('\n', stdout);
		json_decref(doc);
		return rv;
	}
	printf("%s is running.\n", who);
	status_print(st, time(NULL), stdout);
	return 0;
}

/* podmesh-bgpd: "peers", one JSON document back */
static int
ns_bgpd(struct ctl *ctl)
{
	struct status st;
	json_error_t jerr;
	json_t *doc, *e;
	char err[256], *buf;
	size_t len;
	int fd, rv;

	if ((rv = ctl_sock_connect(ctl->socket, &fd)) == 1) {
		ns_not_running(ctl, "podmesh-bgpd");
		return -1;
	}
	if (rv == -1)
		return -1;
	if (ctl_sock_send(fd, ctl->socket, "peers\n") == -1) {
		close(fd);
		return -1;
	}
	shutdown(fd, SHUT_WR);
	rv = ctl_sock_read(fd, ctl->socket, "podmesh-bgpd", &buf, &len, NULL);
	close(fd);
	if (rv == -1)
		return -1;
	doc = json_loadb(buf, len, JSON_PRESERVE_ORDER, &jerr);
	free(buf);
	if (doc == NULL) {
		fprintf(stderr,
		    "podmeshctl: %s: bad answer from podmesh-bgpd: %s\n",
		    ctl->socket, len == 0 ? "empty" : jerr.text);
		return -1;
	}
	if ((e = json_object_get(doc, "error")) != NULL) {
		fprintf(stderr, "podmeshctl: %s: podmesh-bgpd: %s\n",
		    ctl->socket,
		    json_is_string(e) ? json_string_value(e) : "an error");
		json_decref(doc);
		return -1;
	}
	rv = status_from_peers(doc, &st, err, sizeof(err));
	json_decref(doc);
	if (rv == -1) {
		fprintf(stderr,
		    "podmeshctl: %s: unexpected answer from podmesh-bgpd: "
		    "%s\n",
		    ctl->socket, err);
		return -1;
	}
	rv = ns_print(ctl, &st, "podmesh-bgpd");
	status_clean(&st);
	return rv;
}

/* a whole BIRD reply: its last line has a final code (space after it) */
static bool
ns_bird_whole(const char *buf, size_t len)
{
	const char *last;

	if (len == 0 || buf[len - 1] != '\n')
		return false;
	for (last = buf + len - 1; last > buf && last[-1] != '\n'; last--)
		;
	return len - (last - buf) >= 5 && last[0] >= '0' && last[0] <= '9' &&
	    last[4] == ' ' &&
	    (strncmp(last, "0000", 4) == 0 || last[0] == '8' ||
	        last[0] == '9' || strncmp(last, "0001", 4) == 0);
}

/* BIRD: greeting 0001, then `show protocols` */
static int
ns_bird(struct ctl *ctl)
{
	const char *path = ctl->bird;
	struct status st;
	char err[256], *buf;
	size_t len;
	int fd, rv;

	if ((rv = ctl_sock_connect(path, &fd)) == 1) {
		ns_not_running(ctl, "BIRD");
		return -1;
	}
	if (rv == -1)
		return -1;
	if (ctl_sock_read(fd, path, "BIRD", &buf, &len, ns_bird_whole) == -1) {
		close(fd);
		return -1;
	}
	if (strncmp(buf, "0001 ", 5) != 0) {
		fprintf(stderr, "podmeshctl: %s: not BIRD's greeting: %.60s\n",
		    path, buf);
		free(buf);
		close(fd);
		return -1;
	}
	free(buf);
	if (ctl_sock_send(fd, path, "show protocols\n") == -1 ||
	    ctl_sock_read(fd, path, "BIRD", &buf, &len, ns_bird_whole) == -1) {
		close(fd);
		return -1;
	}
	close(fd);
	rv = status_from_bird(buf, len, time(NULL), &st, err, sizeof(err));
	free(buf);
	if (rv == -1) {
		fprintf(stderr, "podmeshctl: %s: %s\n", path, err);
		return -1;
	}
	rv = ns_print(ctl, &st, "BIRD");
	status_clean(&st);
	return rv;
}

static int
ns_status(struct ctl *ctl, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return ctl->bird != NULL ? ns_bird(ctl) : ns_bgpd(ctl);
}

static void
ns_help(FILE *out)
{
	fprintf(out,
	    "As calicoctl node status: the first line says whether the BGP\n"
	    "daemon runs (exit status 1 when not), then a table per family:\n"
	    "PEER TYPE is node-to-node mesh, global or node specific (BGPPeer\n"
	    "resources), static (podmesh-bgpd's own configuration file) or\n"
	    "dynamic (accepted from a range); STATE is BIRD's word (up when\n"
	    "Established, else start); SINCE the last change into or out of\n"
	    "Established, in local time (HH:MM:SS today, else the date); INFO\n"
	    "the BGP state, then the last error when not Established.\n"
	    "-o json: {\"running\", \"ipv4\": [...], \"ipv6\": [...]}, each "
	    "peer\n"
	    "with address, type, state, since (RFC 3339, UTC) and info.\n");
}

const struct ctl_cmd node_cmds[] = {
    {
        .group = "node",
        .name = "status",
        .args = "",
        .help = "BGP peers of this node and their state, as calicoctl node "
                "status: from podmesh-bgpd's control socket, or with "
                "--bird from a BIRD daemon's",
        .minargs = 0,
        .maxargs = 0,
        .opts = CTL_O_SOCKET | CTL_O_BIRD,
        .outputs = CTL_OUT(OUTPUT_TABLE) | CTL_OUT(OUTPUT_JSON),
        .exec = ns_status,
        .more_help = ns_help,
    },
};

const size_t node_ncmds = sizeof(node_cmds) / sizeof(node_cmds[0]);
