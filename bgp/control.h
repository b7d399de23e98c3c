/*
 * The control socket of podmesh-bgpd (control.c) and the JSON documents it
 * answers with (show.c).  Internal to bgp/: glue for libevent, so it may name
 * struct evbuffer.
 *
 * Protocol: a client connects to the unix socket, sends one request line
 *   peers | routes [PREFIX|ADDRESS] | refresh ADDRESS
 * and reads one JSON document; the server then closes.  Errors are
 * {"error": "message"}.
 */
#ifndef PODMESH_BGP_CONTROL_H
#define PODMESH_BGP_CONTROL_H

#include <stddef.h>
#include <time.h>

#include "lib/addr.h"

struct bgpd;
struct control;
struct evbuffer;

/* control.c */
struct control *control_new(struct bgpd *, const char *, char *, size_t);
void control_free(struct control *);

/* show.c */
enum show_match {
	SHOW_ALL, /* every route of every family */
	SHOW_COVERED, /* the prefix and everything more specific */
	SHOW_LONGEST, /* the most specific route containing an address */
};

struct show_routes;

void show_peers(struct bgpd *, time_t, struct evbuffer *);
struct show_routes *show_routes_new(
    struct bgpd *, enum show_match, const struct prefix *);
int show_routes_emit(struct show_routes *, struct evbuffer *, size_t);
void show_routes_free(struct show_routes *);
void show_error(struct evbuffer *, const char *);
void show_ok(struct evbuffer *);

#endif
