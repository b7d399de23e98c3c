/*
 * The daemon: its configuration, peers, RIB and listeners.  One struct bgpd
 * is created by main.c and passed to everything that needs the whole picture
 * (sessions, export, control socket).
 */
#ifndef PODMESH_BGP_BGPD_H
#define PODMESH_BGP_BGPD_H

#include <sys/queue.h>

#include "bgp/config.h"
#include "bgp/rib.h"
#include "bgp/session.h"

struct event_base;
struct control;
struct listener;
struct ugroup;
struct export_scratch;
struct kernel;

struct bgpd {
	struct event_base *base;
	struct bgpd_config *conf;
	struct attr_table *attrs;
	struct rib *rib;
	struct rib_src local; /* originate: prefixes */
	TAILQ_HEAD(, peer) peers;
	unsigned int npeers;
	uint32_t next_src_id;
	uint32_t next_tx_id; /* ADD-PATH ids we send */
	TAILQ_HEAD(, ugroup) groups; /* update groups (ugroup.c) */
	unsigned int ngroups;
	struct export_scratch *export_scratch;
	struct event *flush_ev; /* packs queued changes into UPDATEs */
	bool paused; /* input paused for output backlog */
	struct listener *listeners;
	LIST_HEAD(, conn) conns; /* every TCP connection, for shutdown */
	struct control *control;
	struct kernel *kernel; /* kernel sync (kernel.c); NULL when off */
	/*
	 * RFC 4724 R and F bits: kernel routes from before (or no kernel
	 * sync in datastore mode: forwarding is not ours to lose); End-of-RIB
	 * waits until it is over
	 */
	bool restarting;
	time_t started;
};

/* bgpd.c */
struct bgpd *bgpd_new(struct event_base *, struct bgpd_config *);
void bgpd_free(struct bgpd *);
int bgpd_start(struct bgpd *);
void bgpd_restart_over(struct bgpd *);
void bgpd_reload(struct bgpd *, struct bgpd_config *);
struct peer *bgpd_find_peer(struct bgpd *, const struct addr *);

/* session.c: what the control socket may ask of a peer */
int peer_request_refresh(struct peer *);
void session_free_all(struct bgpd *);

#endif
