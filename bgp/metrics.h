/*
 * Metrics and health of podmesh-bgpd: the Prometheus text exposition
 * format 0.0.4 of the daemon's state (metrics.c), the readiness rule, and
 * the HTTP server that serves both (http.c).  No libevent types here: the
 * server is made and fed by main.c, which alone knows the datastore and
 * the kernel sync; bgp/ still knows nothing of etcd.
 */
#ifndef PODMESH_BGP_METRICS_H
#define PODMESH_BGP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct bgpd;
struct event_base;
struct http_config;
struct kernel_stats;

/* the datastore (watch cache) as main.c sees it; enabled false: none */
struct metrics_ds {
	bool enabled; /* datastore mode */
	bool synced; /* read, and its configuration applied */
	bool watch_up; /* the watch stream is up */
	int64_t revision; /* the etcd revision the cache equals */
	size_t keys;
	uint64_t lists; /* complete listings: the first and re-lists */
	uint64_t list_errors;
	uint64_t disconnects; /* watch streams that broke */
	uint64_t events; /* watch events applied */
};

/* everything one scrape or probe reads; filled per request */
struct metrics_src {
	const struct bgpd *bgpd; /* NULL: not started (datastore unread) */
	const struct kernel_stats *kernel; /* NULL: kernel sync off */
	const struct metrics_ds *ds; /* NULL or !enabled: no datastore */
	const char *version;
	time_t started; /* process start */
};

/* a growing text buffer; {0} is empty */
struct metrics_buf {
	char *p;
	size_t len;
	size_t cap;
};

void metrics_buf_free(struct metrics_buf *);

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * Appends the exposition of src to out: HELP and TYPE for every family,
 * then its series.  Costs O(peers) (about 20 series a peer), never
 * O(routes): every number is a counter the daemon already keeps.
 */
void metrics_render(const struct metrics_src *, struct metrics_buf *);

/*
 * The readiness rule: the datastore is read (or there is none) and every
 * configured peer that is not part of the node-to-node mesh, not a
 * dynamic neighbour and not one of our route-reflector clients is
 * Established.  Mesh peers and clients never count: a node down elsewhere
 * must not take this one (or every reflector) out of service.  A node's
 * session to its reflector does count: there the peer is no client of
 * ours.  Returns true if ready; else why holds one reason a line.
 */
bool metrics_ready(const struct metrics_src *, struct metrics_buf *why);

/* http.c: GET/HEAD /metrics, /liveness, /readiness on a TCP port */
struct http;
typedef void http_src_fn(struct metrics_src *, void *);

/*
 * Listens on conf's address and port (port 0: returns NULL with err
 * empty).  fill is called for each request to describe the daemon.
 * NULL with a message in err if the socket cannot be had.
 */
struct http *http_new(struct event_base *, const struct http_config *,
    http_src_fn *fill, void *arg, char *err, size_t errlen);
void http_free(struct http *);

#endif
