/*
 * What comes in from a peer: UPDATEs into the Adj-RIB-In (the shared RIB),
 * route refresh, and the receiving-speaker side of graceful restart.
 *
 * RFC 4271 §9 (UPDATE handling, AS loop detection), RFC 7606 (treat-as-
 * withdraw is decided by the decoder, applied here), RFC 4456 §8 (reflection
 * loops: ORIGINATOR_ID and CLUSTER_LIST), RFC 4724 §4.2 (stale routes kept
 * across a peer's restart until End-of-RIB or the restart time), RFC 7313
 * (enhanced route refresh: BoRR/EoRR mark and sweep).
 */
#include <string.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "rr/rr.h"

#define STALE_TIME 360 /* seconds to wait for End-of-RIB after a restart */

/* RFC 4271 §9.1.2 and RFC 4456 §8: routes we must not accept */
static const char *
rde_loop(struct peer *p, const struct attrs *a)
{
	const struct bgpd_config *c = p->bgpd->conf;

	if (p->src.ebgp && aspath_contains(a, c->asn))
		return "our AS in AS_PATH";
	return rr_loop(c, a);
}

static void
rde_withdraw_all(struct peer *p, const struct nlri *n, size_t cnt)
{
	size_t i;

	for (i = 0; i < cnt; i++)
		rib_withdraw(p->bgpd->rib, &p->src, &n[i].p, n[i].path_id);
}

/* RFC 4724 §4.2: End-of-RIB ends a restarting peer's stale routes */
static void
rde_eor(struct peer *p, enum aid aid)
{
	enum aid a;

	if (!p->neg.mp[aid])
		return;
	p->eor_rcvd[aid] = true;
	peer_log(p, LOG_LVL_DEBUG, "End-of-RIB for %s", aid_name(aid));
	if (!p->gr_restarting)
		return;
	rib_flush_stale(p->bgpd->rib, &p->src, aid);
	for (a = 0; a < AID_MAX; a++)
		if (p->neg.mp[a] && !p->eor_rcvd[a])
			return;
	p->gr_restarting = false;
	p->ops->timer_stop(p, TIMER_STALE);
	peer_log(p, LOG_LVL_INFO, "graceful restart complete");
}

void
rde_update(struct peer *p, struct ibuf *body)
{
	struct bgpd *b = p->bgpd;
	struct update u;
	struct bgp_err e;
	struct attrs *interned[AID_MAX] = {NULL};
	const char *why = NULL;
	char buf[PREFIX_STRLEN];
	size_t i;

	memset(&e, 0, sizeof(e));
	if (update_parse(body, &p->rx_ctx, &u, &e) == -1) {
		peer_log(p, LOG_LVL_WARN, "malformed UPDATE: %s", e.reason);
		update_clean(&u);
		session_error(p, &e);
		return;
	}
	p->stats.updates_in++;
	if (u.discarded > 0)
		peer_log(p, LOG_LVL_INFO,
		    "UPDATE: %u malformed attribute(s) discarded (RFC 7606)",
		    u.discarded);
	rde_withdraw_all(p, u.withdrawn, u.nwithdrawn);

	if (u.nannounced > 0 && !u.treat_as_withdraw && p->src.ebgp &&
	    aspath_first(&u.attrs) != p->src.asn) {
		/* RFC 4271 §6.3: the neighbour must be first in AS_PATH */
		err_set(&u.tw_err, ERR_UPD_ASPATH, NULL, 0,
		    "AS_PATH starts with %u, not the peer's AS %u",
		    aspath_first(&u.attrs), p->src.asn);
		u.treat_as_withdraw = true;
	}
	if (u.treat_as_withdraw) {
		if (u.nannounced > 0)
			peer_log(p, LOG_LVL_WARN,
			    "UPDATE treated as withdraw (RFC 7606): %s; "
			    "%zu prefix(es), first %s",
			    u.tw_err.reason, u.nannounced,
			    prefix_ntop(&u.announced[0].p, buf, sizeof(buf)));
		rde_withdraw_all(p, u.announced, u.nannounced);
		goto done;
	}
	if (u.nannounced > 0 && (why = rde_loop(p, &u.attrs)) != NULL) {
		peer_log(p, LOG_LVL_DEBUG, "ignoring %zu prefix(es): %s",
		    u.nannounced, why);
		rde_withdraw_all(p, u.announced, u.nannounced);
		goto done;
	}
	for (i = 0; i < u.nannounced; i++) {
		const struct nlri *n = &u.announced[i];
		enum aid aid = aid_from_family(n->p.a.family);

		if (!p->neg.mp[aid]) {
			peer_log(p, LOG_LVL_DEBUG,
			    "ignoring %s prefix of a family not negotiated",
			    prefix_ntop(&n->p, buf, sizeof(buf)));
			continue;
		}
		if (config_import_refused(b->conf, &n->p)) {
			/*
			 * Another node claiming our addresses: say so, and
			 * forget an earlier announcement of it.
			 */
			peer_log(p, LOG_LVL_INFO,
			    "refusing %s: one of our blocks or inside one",
			    prefix_ntop(&n->p, buf, sizeof(buf)));
			rib_withdraw(b->rib, &p->src, &n->p, n->path_id);
			continue;
		}
		if (interned[aid] == NULL) {
			u.attrs.nexthop = u.nexthop[aid];
			u.attrs.nexthop_ll = u.nexthop_ll[aid];
			if (addr_is_set(&u.attrs.nexthop))
				u.attrs.flags |= ATTRF_NEXTHOP;
			else
				u.attrs.flags &= ~ATTRF_NEXTHOP;
			interned[aid] = attr_intern(b->attrs, &u.attrs);
			memset(&u.attrs.nexthop, 0, sizeof(u.attrs.nexthop));
			memset(
			    &u.attrs.nexthop_ll, 0, sizeof(u.attrs.nexthop_ll));
		}
		rib_update(b->rib, &p->src, &n->p, n->path_id, interned[aid]);
	}
	p->stats.prefixes_in += u.nannounced;
done:
	if (u.eor)
		rde_eor(p, u.eor_aid);
	for (i = 0; i < AID_MAX; i++)
		if (interned[i] != NULL)
			attr_unref(interned[i]);
	update_clean(&u);
}

/* RFC 4724 §4.2: the peer is back; keep stale routes only where it can */
void
rde_established(struct peer *p)
{
	struct bgpd *b = p->bgpd;
	enum aid aid;
	bool waiting = false;

	p->ops->timer_stop(p, TIMER_RESTART);
	memset(p->eor_sent, 0, sizeof(p->eor_sent));
	memset(p->eor_rcvd, 0, sizeof(p->eor_rcvd));
	if (p->gr_restarting) {
		for (aid = 0; aid < AID_MAX; aid++) {
			const struct bgp_caps *rc = &p->remote_open.caps;
			if (rc->gr && rc->gr_af[aid] && rc->gr_af_fwd[aid] &&
			    p->neg.mp[aid])
				waiting = true;
			else
				rib_flush_stale(b->rib, &p->src, aid);
		}
		if (waiting)
			p->ops->timer_set(p, TIMER_STALE, STALE_TIME * 1000);
		else
			p->gr_restarting = false;
	}
	export_peer_up(p);
}

void
rde_down(struct peer *p)
{
	struct bgpd *b = p->bgpd;

	export_peer_down(p);
	/*
	 * RFC 4724 §4.2: a GR-capable peer's routes survive the loss of
	 * the TCP session (not a NOTIFICATION: we do not do RFC 8538).
	 */
	if (p->neg.gr && !p->dynamic &&
	    (p->last_event == EVNT_CON_CLOSED ||
	        p->last_event == EVNT_CON_FATAL) &&
	    !p->last_err_sent) {
		rib_mark_stale(b->rib, &p->src, -1);
		p->gr_restarting = true;
		p->ops->timer_set(p, TIMER_RESTART,
		    (p->neg.gr_time ? p->neg.gr_time : 1) * 1000);
		peer_log(p, LOG_LVL_INFO,
		    "graceful restart: keeping %zu route(s) as stale for up "
		    "to %u s",
		    p->src.npaths, p->neg.gr_time);
		return;
	}
	p->gr_restarting = false;
	rib_flush_src(b->rib, &p->src);
}

/* restart time or stale time ran out: the stale routes go */
void
rde_stale_expired(struct peer *p)
{
	if (!p->gr_restarting)
		return;
	peer_log(p, LOG_LVL_INFO,
	    "graceful restart: %zu stale route(s) removed after timeout",
	    p->src.nstale);
	p->gr_restarting = false;
	rib_flush_stale(p->bgpd->rib, &p->src, -1);
}

/* ROUTE-REFRESH from the peer, with the subtypes of RFC 7313 */
void
rde_rrefresh(struct peer *p, enum aid aid, uint8_t subtype)
{
	struct bgpd *b = p->bgpd;

	if (!p->neg.mp[aid])
		return;
	switch (subtype) {
	case RREFRESH_NORMAL:
		peer_log(
		    p, LOG_LVL_INFO, "route refresh for %s", aid_name(aid));
		if (p->neg.enhanced_refresh) {
			session_send(p, msg_rrefresh(aid, RREFRESH_BORR));
			p->refresh_pending[aid] = true;
		}
		export_refresh(p, aid);
		break;
	case RREFRESH_BORR:
		if (!p->neg.enhanced_refresh)
			break;
		rib_mark_stale(b->rib, &p->src, aid);
		break;
	case RREFRESH_EORR:
		if (!p->neg.enhanced_refresh)
			break;
		rib_flush_stale(b->rib, &p->src, aid);
		break;
	}
}
