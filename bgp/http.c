/*
 * The metrics and health server of podmesh-bgpd, on libevent's evhttp:
 *
 *	GET /metrics	the Prometheus text format 0.0.4 (metrics.c)
 *	GET /liveness	200 "ok": the event loop answers
 *	GET /readiness	200 "ready", or 503 with one reason a line
 *
 * Ready (metrics_ready()): the datastore is read and every peer is
 * Established but mesh peers, dynamic neighbours and our route-reflector
 * clients, so neither a node nor a reflector goes out of service because
 * some node elsewhere is down.
 *
 * HEAD as well; other methods get 405, other paths 404.  It listens on
 * loopback by default, at felix's health port, so Calico's probes work
 * unchanged.  Bounded like the control socket: headers and bodies are
 * capped, a connection that says nothing for HTTP_TIMEOUT seconds is
 * closed, and at most HTTP_MAX_CONNS connections are served at once: a
 * connection counts from its first request (evhttp tells of no earlier
 * moment), a request on one more is answered 503 and closed, and one that
 * never asks anything is closed by the timeout.  Every answer is rendered
 * in one go: O(peers), see metrics.c.
 */
#include <sys/socket.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "lib/xmalloc.h"
#include "bgp/config.h"
#include "bgp/metrics.h"

#define HTTP_TIMEOUT 10 /* seconds */
#define HTTP_MAX_HEADERS 8192 /* bytes */
#define HTTP_MAX_BODY 1024 /* bytes: no request needs one */
#define HTTP_MAX_CONNS 64
#define HTTP_BACKLOG 64

/* a connection that has made a request, until evhttp closes it */
struct http_conn {
	TAILQ_ENTRY(http_conn) entry;
	struct http *h;
	struct evhttp_connection *evcon;
};

struct http {
	struct evhttp *evhttp;
	http_src_fn *fill;
	void *arg;
	TAILQ_HEAD(, http_conn) conns;
	unsigned int nconns;
};

struct http_route {
	const char *path;
	void (*serve)(struct http *, struct evhttp_request *);
};

static void
http_reply(struct evhttp_request *req, int code, const char *reason,
    const char *type, const char *body)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);

	evhttp_add_header(hdr, "Content-Type", type);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	if (body != NULL)
		evbuffer_add(
		    evhttp_request_get_output_buffer(req), body, strlen(body));
	evhttp_send_reply(req, code, reason, NULL);
}

static void
http_text(
    struct evhttp_request *req, int code, const char *reason, const char *body)
{
	http_reply(req, code, reason, "text/plain; charset=utf-8", body);
}

static void
http_metrics_free(const void *data, size_t len, void *arg)
{
	free((void *)data);
}

static void
http_metrics(struct http *h, struct evhttp_request *req)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct metrics_buf b = {0};
	struct metrics_src src;

	memset(&src, 0, sizeof(src));
	h->fill(&src, h->arg);
	metrics_render(&src, &b);
	/* the buffer goes to libevent as it is: no copy of megabytes */
	if (evbuffer_add_reference(evhttp_request_get_output_buffer(req), b.p,
	        b.len, http_metrics_free, NULL) == -1)
		fatalx("evbuffer_add_reference");
	evhttp_add_header(hdr, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

static void
http_liveness(struct http *h, struct evhttp_request *req)
{
	http_text(req, HTTP_OK, "OK", "ok\n");
}

static void
http_readiness(struct http *h, struct evhttp_request *req)
{
	struct metrics_buf why = {0};
	struct metrics_src src;

	memset(&src, 0, sizeof(src));
	h->fill(&src, h->arg);
	if (metrics_ready(&src, &why))
		http_text(req, HTTP_OK, "OK", "ready\n");
	else
		http_text(req, HTTP_SERVUNAVAIL, "Service Unavailable", why.p);
	metrics_buf_free(&why);
}

static const struct http_route http_routes[] = {
    {.path = "/metrics", .serve = http_metrics},
    {.path = "/liveness", .serve = http_liveness},
    {.path = "/readiness", .serve = http_readiness},
};

static void
http_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *c = arg;

	TAILQ_REMOVE(&c->h->conns, c, entry);
	c->h->nconns--;
	free(c);
}

/* counts the request's connection in; false if there are too many */
static bool
http_conn_admit(struct http *h, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct http_conn *c;

	if (evcon == NULL)
		return true;
	TAILQ_FOREACH(c, &h->conns, entry)
	if (c->evcon == evcon)
		return true;
	if (h->nconns >= HTTP_MAX_CONNS)
		return false;
	c = xcalloc(1, sizeof(*c));
	c->h = h;
	c->evcon = evcon;
	TAILQ_INSERT_TAIL(&h->conns, c, entry);
	h->nconns++;
	evhttp_connection_set_closecb(evcon, http_conn_closed, c);
	return true;
}

static void
http_request(struct evhttp_request *req, void *arg)
{
	struct http *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct http_route *r = NULL;
	const char *path;
	size_t i;

	if (!http_conn_admit(h, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		http_text(req, HTTP_SERVUNAVAIL, "Service Unavailable",
		    "too many connections\n");
		return;
	}
	path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	for (i = 0;
	     path != NULL && i < sizeof(http_routes) / sizeof(http_routes[0]);
	     i++)
		if (strcmp(http_routes[i].path, path) == 0)
			r = &http_routes[i];
	log_debug("http: %s", evhttp_request_get_uri(req));
	if (r == NULL) {
		http_text(req, HTTP_NOTFOUND, "Not Found", "not found\n");
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, HEAD");
		http_text(
		    req, 405, "Method Not Allowed", "method not allowed\n");
		return;
	}
	r->serve(h, req);
}

static int
http_listen(const struct http_config *conf, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	char buf[ADDR_STRLEN];
	int fd, one = 1, zero = 0;
	socklen_t len;

	addr_ntop(&conf->addr, buf, sizeof(buf));
	fd = socket(
	    conf->addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (conf->addr.family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		    addr_is_set(&conf->addr) ? &one : &zero, sizeof(one));
	len = addr_to_sockaddr(&conf->addr, conf->port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, HTTP_BACKLOG) == -1) {
		snprintf(err, errlen,
		    "http: cannot listen on %s%s%s port %u: %s",
		    conf->addr.family == AF_INET6 ? "[" : "", buf,
		    conf->addr.family == AF_INET6 ? "]" : "", conf->port,
		    strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

struct http *
http_new(struct event_base *base, const struct http_config *conf,
    http_src_fn *fill, void *arg, char *err, size_t errlen)
{
	char buf[ADDR_STRLEN];
	struct http *h;
	int fd;

	*err = '\0';
	if (conf->port == 0)
		return NULL;
	if ((fd = http_listen(conf, err, errlen)) == -1)
		return NULL;
	h = xcalloc(1, sizeof(*h));
	h->fill = fill;
	h->arg = arg;
	TAILQ_INIT(&h->conns);
	if ((h->evhttp = evhttp_new(base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_max_headers_size(h->evhttp, HTTP_MAX_HEADERS);
	evhttp_set_max_body_size(h->evhttp, HTTP_MAX_BODY);
	evhttp_set_timeout(h->evhttp, HTTP_TIMEOUT);
	/* any method reaches http_request, which answers 405 itself */
	evhttp_set_allowed_methods(h->evhttp,
	    EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
	        EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS |
	        EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_gencb(h->evhttp, http_request, h);
	if (evhttp_accept_socket_with_handle(h->evhttp, fd) == NULL) {
		snprintf(
		    err, errlen, "http: cannot accept on port %u", conf->port);
		close(fd);
		evhttp_free(h->evhttp);
		free(h);
		return NULL;
	}
	log_info("http: metrics and health on %s%s%s port %u",
	    conf->addr.family == AF_INET6 ? "[" : "",
	    addr_ntop(&conf->addr, buf, sizeof(buf)),
	    conf->addr.family == AF_INET6 ? "]" : "", conf->port);
	return h;
}

void
http_free(struct http *h)
{
	if (h == NULL)
		return;
	/* closes the listener and every connection (http_conn_closed) */
	evhttp_free(h->evhttp);
	while (!TAILQ_EMPTY(&h->conns))
		http_conn_closed(NULL, TAILQ_FIRST(&h->conns));
	free(h);
}
