/*
 * The daemon's state as a whole: peers made from the configuration, the
 * prefixes we originate, listeners and the control socket, and SIGHUP
 * reloads that touch only what changed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/control.h"

struct bgpd *
bgpd_new(struct event_base *base, struct bgpd_config *conf)
{
	struct bgpd *b = xcalloc(1, sizeof(*b));

	b->base = base;
	b->conf = conf;
	b->attrs = attr_table_new();
	b->rib = rib_new(export_rib_change, b);
	rib_src_init(&b->local, 0);
	TAILQ_INIT(&b->peers);
	TAILQ_INIT(&b->groups);
	LIST_INIT(&b->conns);
	b->flush_ev = event_new(base, -1, 0, export_flush_all, b);
	b->started = time(NULL);
	return b;
}

static void
bgpd_originate(struct bgpd *b, const struct prefix *pfx, bool add)
{
	struct attrs a, *ia;
	char buf[PREFIX_STRLEN];

	if (!add) {
		rib_withdraw(b->rib, &b->local, pfx, 0);
		log_info("withdrawing %s", prefix_ntop(pfx, buf, sizeof(buf)));
		return;
	}
	memset(&a, 0, sizeof(a));
	a.origin = ORIGIN_IGP;
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH;
	ia = attr_intern(b->attrs, &a);
	rib_update(b->rib, &b->local, pfx, 0, ia);
	attr_unref(ia);
	log_info("originating %s", prefix_ntop(pfx, buf, sizeof(buf)));
}

static bool
bgpd_has_prefix(const struct bgpd_config *c, const struct prefix *pfx)
{
	size_t i;

	for (i = 0; i < c->noriginate; i++)
		if (prefix_cmp(&c->originate[i], pfx) == 0)
			return true;
	return false;
}

int
bgpd_start(struct bgpd *b)
{
	struct peer_config *pc;
	char err[256];
	size_t i;

	if (listener_setup(b) == -1 && b->conf->listen_port != 0)
		return -1;
	if (b->conf->control_socket != NULL) {
		b->control =
		    control_new(b, b->conf->control_socket, err, sizeof(err));
		if (b->control == NULL) {
			log_warnx("control socket: %s", err);
			return -1;
		}
	}
	for (i = 0; i < b->conf->noriginate; i++)
		bgpd_originate(b, &b->conf->originate[i], true);
	TAILQ_FOREACH(pc, &b->conf->peers, entry)
	if (!pc->is_range)
		peer_start(peer_new(b, pc, &pc->addr));
	return 0;
}

/*
 * RFC 4724 §4.1: while restarting, End-of-RIB waits until our own route
 * selection is complete (export_member_done holds it back); main.c says
 * when that is.  Members already caught up get theirs at the next flush.
 */
void
bgpd_restart_over(struct bgpd *b)
{
	struct peer *p;

	if (!b->restarting)
		return;
	b->restarting = false; /* OPENs from now on: R and F clear */
	TAILQ_FOREACH(p, &b->peers, entry)
	if (p->state == STATE_ESTABLISHED && p->ug != NULL)
		export_flush(p);
}

struct peer *
bgpd_find_peer(struct bgpd *b, const struct addr *a)
{
	struct peer *p;

	TAILQ_FOREACH(p, &b->peers, entry)
	if (addr_cmp(&p->addr, a) == 0)
		return p;
	return NULL;
}

static bool
bgpd_global_changed(const struct bgpd_config *o, const struct bgpd_config *n)
{
	return o->asn != n->asn || o->router_id != n->router_id ||
	    o->route_reflector != n->route_reflector ||
	    o->cluster_id != n->cluster_id || o->gr_time != n->gr_time;
}

/* a new control-socket path: open the new one before closing the old */
static void
bgpd_control_move(
    struct bgpd *b, const struct bgpd_config *old, const struct bgpd_config *nc)
{
	struct control *c;
	char err[256];

	if (old->control_socket == nc->control_socket ||
	    (old->control_socket != NULL && nc->control_socket != NULL &&
	        strcmp(old->control_socket, nc->control_socket) == 0))
		return;
	c = NULL;
	if (nc->control_socket != NULL &&
	    (c = control_new(b, nc->control_socket, err, sizeof(err))) ==
	        NULL) {
		log_warnx("control socket %s: %s; keeping %s",
		    nc->control_socket, err,
		    old->control_socket ? old->control_socket : "none");
		return;
	}
	if (b->control != NULL)
		control_free(b->control);
	b->control = c;
	log_info("control socket moved to %s",
	    nc->control_socket ? nc->control_socket : "none");
}

static int
bgpd_config_cmp(const void *a, const void *b)
{
	const struct peer_config *const *x = a, *const *y = b;

	return addr_cmp(&(*x)->addr, &(*y)->addr);
}

/* the static peers of c, sorted by address; free() the array */
static struct peer_config **
bgpd_index_configs(struct bgpd_config *c, size_t *n)
{
	struct peer_config *pc, **v = NULL;
	size_t cap = 0;

	*n = 0;
	TAILQ_FOREACH(pc, &c->peers, entry)
	{
		if (pc->is_range)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[(*n)++] = pc;
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), bgpd_config_cmp);
	return v;
}

static int
bgpd_config_key_cmp(const void *key, const void *elem)
{
	const struct peer_config *const *pc = elem;

	return addr_cmp(key, &(*pc)->addr);
}

static struct peer_config *
bgpd_index_find(struct peer_config **v, size_t n, const struct addr *a)
{
	struct peer_config **pc;

	if (n == 0)
		return NULL;
	pc = bsearch(a, v, n, sizeof(*v), bgpd_config_key_cmp);
	return pc != NULL ? *pc : NULL;
}

static int
bgpd_peer_cmp(const void *a, const void *b)
{
	const struct peer *const *x = a, *const *y = b;

	return addr_cmp(&(*x)->addr, &(*y)->addr);
}

static int
bgpd_peer_key_cmp(const void *key, const void *elem)
{
	const struct peer *const *p = elem;

	return addr_cmp(key, &(*p)->addr);
}

/* the running peers, sorted by address; free() the array */
static struct peer **
bgpd_index_peers(struct bgpd *b, size_t *n)
{
	struct peer **v, *p;

	*n = 0;
	v = xcalloc(b->npeers + 1, sizeof(*v));
	TAILQ_FOREACH(p, &b->peers, entry)
	if (*n < b->npeers)
		v[(*n)++] = p;
	if (*n > 1)
		qsort(v, *n, sizeof(*v), bgpd_peer_cmp);
	return v;
}

/* same listening address and the same TCP-MD5 keys for the same peers */
static bool
bgpd_listen_changed(const struct bgpd_config *a, const struct bgpd_config *b)
{
	const struct peer_config *x, *y;
	size_t na = 0, nb = 0;

	if (a->listen_port != b->listen_port ||
	    addr_cmp(&a->listen_addr, &b->listen_addr) != 0)
		return true;
	TAILQ_FOREACH(y, &b->peers, entry)
	nb += y->password != NULL;
	TAILQ_FOREACH(x, &a->peers, entry)
	{
		if (x->password == NULL)
			continue;
		na++;
		TAILQ_FOREACH(y, &b->peers, entry)
		if (y->password != NULL && y->is_range == x->is_range &&
		    (x->is_range ? prefix_cmp(&x->range, &y->range) == 0
		                 : addr_cmp(&x->addr, &y->addr) == 0) &&
		    strcmp(x->password, y->password) == 0)
			break;
		if (y == NULL)
			return true;
	}
	return na != nb;
}

/*
 * Differences that a running session does not depend on: the description
 * (Calico's peer type, which moves when the mesh becomes a BGPPeer of the
 * same address) and passive (read only when connecting).
 */
static bool
bgpd_peer_same_session(const struct peer_config *a, const struct peer_config *b)
{
	struct peer_config x = *a;

	x.description = b->description;
	x.passive = b->passive;
	return peer_config_equal(&x, b);
}

static bool
bgpd_has(const struct prefix *v, size_t n, const struct prefix *p)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (prefix_cmp(&v[i], p) == 0)
			return true;
	return false;
}

/*
 * The node's import filter changed (a block claimed or released, an
 * address lent): drop what is refused now, and ask peers again for what
 * may be accepted now that was refused before.
 */
static void
bgpd_refilter(struct bgpd *b, const struct bgpd_config *old)
{
	const struct bgpd_config *nc = b->conf;
	struct rib_path *path, *next;
	struct prefix pfx;
	bool looser = false;
	struct peer *p;
	size_t i;

	for (i = 0; i < old->nown_blocks && !looser; i++)
		looser = !bgpd_has(
		    nc->own_blocks, nc->nown_blocks, &old->own_blocks[i]);
	for (i = 0; i < nc->nlent && !looser; i++)
		looser = !bgpd_has(old->lent, old->nlent, &nc->lent[i]);
	TAILQ_FOREACH(p, &b->peers, entry)
	{
		for (path = TAILQ_FIRST(&p->src.paths); path != NULL;
		     path = next) {
			next = TAILQ_NEXT(path, src_entry);
			pfx = path->entry->prefix;
			if (config_import_refused(nc, &pfx))
				rib_withdraw(
				    b->rib, &p->src, &pfx, path->path_id);
		}
		if (looser)
			peer_request_refresh(p);
	}
}

static bool
bgpd_filter_changed(const struct bgpd_config *a, const struct bgpd_config *b)
{
	size_t i;

	if (a->nown_blocks != b->nown_blocks || a->nlent != b->nlent)
		return true;
	for (i = 0; i < a->nown_blocks; i++)
		if (prefix_cmp(&a->own_blocks[i], &b->own_blocks[i]) != 0)
			return true;
	for (i = 0; i < a->nlent; i++)
		if (prefix_cmp(&a->lent[i], &b->lent[i]) != 0)
			return true;
	return false;
}

/*
 * SIGHUP: peers whose configuration did not change keep their sessions;
 * changed ones are reset with Cease/6, removed ones told Cease/3.
 */
void
bgpd_reload(struct bgpd *b, struct bgpd_config *nc)
{
	struct bgpd_config *old = b->conf;
	bool global = bgpd_global_changed(old, nc);
	struct peer_config *pc, **idx;
	struct peer *p, *next, **have;
	size_t i, nidx, nhave;

	b->conf = nc;
	/* thousands of derived peers: look them up by address, not by scan */
	idx = bgpd_index_configs(nc, &nidx);
	for (p = TAILQ_FIRST(&b->peers); p != NULL; p = next) {
		next = TAILQ_NEXT(p, entry);
		if ((pc = bgpd_index_find(idx, nidx, &p->addr)) == NULL)
			pc = config_find_peer(nc, &p->addr);
		if (p->dynamic) {
			if (pc != NULL && pc->is_range && !global &&
			    peer_config_equal(pc, p->range)) {
				p->range = pc;
				continue;
			}
		} else if (pc != NULL && !pc->is_range && !global) {
			if (peer_config_equal(pc, p->conf))
				continue;
			if (bgpd_peer_same_session(pc, p->conf)) {
				/* the peer's label or passive flag: no reset */
				free(p->conf->description);
				p->conf->description = pc->description
				    ? xstrdup(pc->description)
				    : NULL;
				p->conf->passive = pc->passive;
				continue;
			}
			peer_log(p, LOG_LVL_INFO, "configuration changed");
			peer_stop(p, ERR_CEASE_CONF_CHANGE);
			peer_free(p);
			peer_start(peer_new(b, pc, &pc->addr));
			continue;
		}
		peer_log(p, LOG_LVL_INFO, "removed from the configuration");
		peer_stop(
		    p, global ? ERR_CEASE_CONF_CHANGE : ERR_CEASE_PEER_UNCONF);
		peer_free(p);
	}
	have = bgpd_index_peers(b, &nhave);
	for (i = 0; i < nidx; i++)
		if (bsearch(&idx[i]->addr, have, nhave, sizeof(*have),
		        bgpd_peer_key_cmp) == NULL)
			peer_start(peer_new(b, idx[i], &idx[i]->addr));
	free(have);
	free(idx);

	for (i = 0; i < old->noriginate; i++)
		if (!bgpd_has_prefix(nc, &old->originate[i]))
			bgpd_originate(b, &old->originate[i], false);
	for (i = 0; i < nc->noriginate; i++)
		if (!bgpd_has_prefix(old, &nc->originate[i]))
			bgpd_originate(b, &nc->originate[i], true);

	if (bgpd_filter_changed(old, nc))
		bgpd_refilter(b, old);

	/*
	 * Listeners carry the TCP-MD5 keys: rebuild them when those or the
	 * address change, not on every reload (datastore mode reloads on
	 * every peer change, and a rebuilt socket drops pending accepts),
	 * or when an earlier attempt failed.
	 */
	if ((bgpd_listen_changed(old, nc) ||
	        (b->listeners == NULL && nc->listen_port != 0)) &&
	    listener_setup(b) == -1 && nc->listen_port != 0)
		log_warnx("reload: cannot listen on port %u; incoming "
		          "sessions are refused until this is fixed",
		    nc->listen_port);
	bgpd_control_move(b, old, nc);
	log_setlevel(nc->log_level);
	config_free(old);
	log_info("configuration reloaded");
}

void
bgpd_free(struct bgpd *b)
{
	struct peer *p;

	if (b == NULL)
		return;
	if (b->control != NULL)
		control_free(b->control);
	listener_free(b);
	while ((p = TAILQ_FIRST(&b->peers)) != NULL)
		peer_free(p);
	session_free_all(b);
	rib_free(b->rib);
	attr_table_free(b->attrs);
	event_free(b->flush_ev);
	free(b->export_scratch);
	config_free(b->conf);
	free(b);
}
