/*
 * The control socket: a unix stream socket (mode 0600) where podmeshctl asks
 * one question per connection.  A client sends one request line and gets one
 * JSON document back (show.c), then the server closes.  Requests are a table
 * of commands.  Route listings are written a chunk at a time, refilled as
 * the client drains its output, so a slow reader or a million routes never
 * stall the sessions that share the event loop.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/control.h"

#define CONTROL_MAX_REQUEST 1024
#define CONTROL_MAX_CLIENTS 256
#define CONTROL_READ_TIMEOUT 10 /* seconds to send the request */
#define CONTROL_WRITE_TIMEOUT 60 /* seconds without progress writing */
#define CONTROL_OUT_HIGH (256 * 1024) /* fill output up to this */
#define CONTROL_OUT_LOW (64 * 1024) /* and refill below this */
#define CONTROL_CHUNK 256 /* routes per show_routes_emit() */
#define CONTROL_MAX_ARGS 4

struct control_client {
	TAILQ_ENTRY(control_client) entry;
	struct control *ctl;
	struct bufferevent *bev;
	struct show_routes *routes; /* a listing still being written */
	bool done; /* the answer is complete */
};

struct control {
	struct bgpd *bgpd;
	char *path;
	int fd;
	struct event *ev;
	struct event *pause_ev; /* accept paused: out of descriptors */
	TAILQ_HEAD(, control_client) clients;
	unsigned int nclients;
};

struct control_cmd {
	const char *name;
	int minargs;
	int maxargs;
	void (*exec)(struct control_client *, int, char **);
};

static void control_client_free(struct control_client *);
static void control_fill(struct control_client *);

static void
control_peers(struct control_client *c, int argc, char **argv)
{
	show_peers(c->ctl->bgpd, time(NULL), bufferevent_get_output(c->bev));
	c->done = true;
}

/* routes [PREFIX | ADDRESS] */
static void
control_routes(struct control_client *c, int argc, char **argv)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	enum show_match match = SHOW_ALL;
	struct prefix p;
	char msg[128];

	memset(&p, 0, sizeof(p));
	if (argc == 2) {
		if (strchr(argv[1], '/') != NULL &&
		    prefix_parse(argv[1], &p) == 0) {
			prefix_mask(&p);
			match = SHOW_COVERED;
		} else if (strchr(argv[1], '/') == NULL &&
		    addr_parse(argv[1], &p.a) == 0) {
			p.a.scope_id = 0;
			p.len = addr_maxlen(p.a.family);
			match = SHOW_LONGEST;
		} else {
			snprintf(msg, sizeof(msg),
			    "invalid prefix or address '%.64s'", argv[1]);
			show_error(out, msg);
			c->done = true;
			return;
		}
	}
	c->routes = show_routes_new(c->ctl->bgpd, match, &p);
	control_fill(c);
}

/* refresh ADDRESS: ask the peer to send its routes again (RFC 2918) */
static void
control_refresh(struct control_client *c, int argc, char **argv)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct peer *peer;
	struct addr a;
	char msg[128];

	c->done = true;
	if (addr_parse(argv[1], &a) == -1) {
		snprintf(msg, sizeof(msg), "invalid address '%.64s'", argv[1]);
		show_error(out, msg);
		return;
	}
	if ((peer = bgpd_find_peer(c->ctl->bgpd, &a)) == NULL) {
		show_error(out, "no such peer");
		return;
	}
	if (peer_request_refresh(peer) == 0) {
		show_ok(out);
		return;
	}
	switch (errno) {
	case ENOENT:
		show_error(out, "no such peer");
		break;
	case ENOTCONN:
		show_error(out, "peer not Established");
		break;
	case EOPNOTSUPP:
		show_error(out, "peer does not support route refresh");
		break;
	default:
		show_error(out, strerror(errno));
		break;
	}
}

static const struct control_cmd control_cmds[] = {
    {.name = "peers", .minargs = 0, .maxargs = 0, .exec = control_peers},
    {.name = "routes", .minargs = 0, .maxargs = 1, .exec = control_routes},
    {.name = "refresh", .minargs = 1, .maxargs = 1, .exec = control_refresh},
};

static void
control_dispatch(struct control_client *c, char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	char *argv[CONTROL_MAX_ARGS + 1], *tok, *save, msg[160];
	const struct control_cmd *cmd = NULL;
	size_t i;
	int argc = 0;

	for (tok = strtok_r(line, " \t", &save); tok != NULL;
	     tok = strtok_r(NULL, " \t", &save)) {
		if (argc == CONTROL_MAX_ARGS) {
			argc++;
			break;
		}
		argv[argc++] = tok;
	}
	if (argc == 0) {
		show_error(out, "empty request");
		c->done = true;
		return;
	}
	for (i = 0; i < sizeof(control_cmds) / sizeof(control_cmds[0]); i++)
		if (strcmp(control_cmds[i].name, argv[0]) == 0)
			cmd = &control_cmds[i];
	if (cmd == NULL) {
		snprintf(msg, sizeof(msg), "unknown request '%.64s'", argv[0]);
		show_error(out, msg);
		c->done = true;
		return;
	}
	if (argc - 1 < cmd->minargs || argc - 1 > cmd->maxargs) {
		snprintf(msg, sizeof(msg), "wrong number of arguments for '%s'",
		    cmd->name);
		show_error(out, msg);
		c->done = true;
		return;
	}
	argv[argc] = NULL;
	cmd->exec(c, argc, argv);
}

/* writes route chunks until the output holds enough, or all is written */
static void
control_fill(struct control_client *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	while (
	    c->routes != NULL && evbuffer_get_length(out) < CONTROL_OUT_HIGH) {
		if (show_routes_emit(c->routes, out, CONTROL_CHUNK) == 0) {
			show_routes_free(c->routes);
			c->routes = NULL;
			c->done = true;
		}
	}
}

/* the answer is queued: close once the client has it all */
static void
control_answered(struct control_client *c)
{
	bufferevent_disable(c->bev, EV_READ);
	if (c->done) {
		if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
			control_client_free(c);
			return;
		}
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	} else
		bufferevent_setwatermark(c->bev, EV_WRITE, CONTROL_OUT_LOW, 0);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void
control_request(struct control_client *c, char *line)
{
	log_debug("control: request '%s'", line);
	control_dispatch(c, line);
	control_answered(c);
}

static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	char *line;

	if ((line = evbuffer_readln(in, NULL, EVBUFFER_EOL_CRLF)) != NULL) {
		control_request(c, line);
		free(line);
		return;
	}
	if (evbuffer_get_length(in) > CONTROL_MAX_REQUEST) {
		show_error(bufferevent_get_output(bev), "request too long");
		c->done = true;
		control_answered(c);
	}
}

static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct control_client *c = arg;

	if (!c->done)
		control_fill(c);
	control_answered(c);
}

static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line;

	/* a request without its newline, then shutdown(SHUT_WR): take it */
	if ((what & (BEV_EVENT_READING | BEV_EVENT_EOF)) ==
	        (BEV_EVENT_READING | BEV_EVENT_EOF) &&
	    (len = evbuffer_get_length(in)) > 0) {
		line = xmalloc(len + 1);
		evbuffer_remove(in, line, len);
		line[len] = '\0';
		control_request(c, line);
		free(line);
		return;
	}
	if (what & BEV_EVENT_TIMEOUT)
		log_debug("control: client timed out");
	else if (what & BEV_EVENT_ERROR)
		log_debug("control: client: %s", strerror(errno));
	control_client_free(c);
}

static void
control_client_free(struct control_client *c)
{
	struct control *ctl = c->ctl;

	TAILQ_REMOVE(&ctl->clients, c, entry);
	ctl->nclients--;
	show_routes_free(c->routes);
	bufferevent_free(c->bev);
	free(c);
}

static void
control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *ctl = arg;

	event_add(ctl->ev, NULL);
}

static void
control_accept_cb(evutil_socket_t lfd, short what, void *arg)
{
	struct timeval tv = {.tv_sec = 1};
	struct timeval rtv = {.tv_sec = CONTROL_READ_TIMEOUT};
	struct timeval wtv = {.tv_sec = CONTROL_WRITE_TIMEOUT};
	struct control *ctl = arg;
	struct control_client *c;
	int fd;

	if ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE) {
			/* the listener would stay readable: wait a second */
			log_warn("control: accept");
			event_del(ctl->ev);
			evtimer_add(ctl->pause_ev, &tv);
		} else if (errno != EAGAIN && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("control: accept");
		return;
	}
	if (ctl->nclients >= CONTROL_MAX_CLIENTS) {
		log_warnx("control: too many clients, closing a new one");
		close(fd);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->bev =
	    bufferevent_socket_new(ctl->bgpd->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_setcb(
	    c->bev, control_read_cb, control_write_cb, control_event_cb, c);
	bufferevent_set_timeouts(c->bev, &rtv, &wtv);
	bufferevent_setwatermark(c->bev, EV_READ, 0, CONTROL_MAX_REQUEST + 1);
	bufferevent_enable(c->bev, EV_READ);
	TAILQ_INSERT_TAIL(&ctl->clients, c, entry);
	ctl->nclients++;
}

/* mkdir -p of everything before the last slash */
static int
control_mkdirs(const char *path)
{
	char *dir, *s;
	int rv = 0;

	dir = xstrdup(path);
	for (s = strchr(dir + 1, '/'); s != NULL && rv == 0;
	     s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST)
			rv = -1;
		*s = '/';
	}
	free(dir);
	return rv;
}

/*
 * A socket left by a daemon that died is removed; one that still answers
 * belongs to a running daemon and is left alone.
 */
static int
control_clear_stale(const struct sockaddr_un *sun, char *err, size_t errlen)
{
	struct stat st;
	int fd, rv;

	if (lstat(sun->sun_path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket",
		    sun->sun_path);
		errno = EEXIST;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rv = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (rv == 0) {
		snprintf(err, errlen,
		    "%s: another podmesh-bgpd is listening there",
		    sun->sun_path);
		errno = EADDRINUSE;
		return -1;
	}
	if (unlink(sun->sun_path) == -1 && errno != ENOENT)
		return -1;
	return 0;
}

/*
 * Listens at `path` on the daemon's event base.  Returns NULL with a message
 * in err on failure.
 */
struct control *
control_new(struct bgpd *bgpd, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct control *ctl;
	mode_t old;
	int fd;

	*err = '\0';
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(
		    err, errlen, "%s: path too long for a unix socket", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if (control_mkdirs(path) == -1) {
		snprintf(err, errlen, "%s: cannot create its directory: %s",
		    path, strerror(errno));
		return NULL;
	}
	if (control_clear_stale(&sun, err, errlen) == -1) {
		if (*err == '\0')
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	         0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	/* no window in which the socket exists with looser permissions */
	old = umask(S_IRWXG | S_IRWXO | S_IXUSR);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		snprintf(err, errlen, "bind %s: %s", path, strerror(errno));
		umask(old);
		close(fd);
		return NULL;
	}
	umask(old);
	if (chmod(path, S_IRUSR | S_IWUSR) == -1 || listen(fd, 128) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return NULL;
	}

	ctl = xcalloc(1, sizeof(*ctl));
	ctl->bgpd = bgpd;
	ctl->path = xstrdup(path);
	ctl->fd = fd;
	TAILQ_INIT(&ctl->clients);
	ctl->ev = event_new(
	    bgpd->base, fd, EV_READ | EV_PERSIST, control_accept_cb, ctl);
	ctl->pause_ev = evtimer_new(bgpd->base, control_resume_cb, ctl);
	if (ctl->ev == NULL || ctl->pause_ev == NULL)
		fatalx("event_new");
	event_add(ctl->ev, NULL);
	log_debug("control socket %s", path);
	return ctl;
}

/* closes every client (answers are cut short) and removes the socket */
void
control_free(struct control *ctl)
{
	struct control_client *c;

	if (ctl == NULL)
		return;
	while ((c = TAILQ_FIRST(&ctl->clients)) != NULL)
		control_client_free(c);
	event_free(ctl->ev);
	event_free(ctl->pause_ev);
	close(ctl->fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}
