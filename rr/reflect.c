/*
 * Route reflection (RFC 4456 §6, §8).  A reflector is one speaker of the
 * iBGP full mesh standing in for many: clients send it their routes and get
 * everyone else's back.  Loop prevention is by ORIGINATOR_ID (the route
 * came back to the router that first put it into the AS) and by CLUSTER_LIST
 * (it came back to a cluster it already passed through); both are checked on
 * input, so a reflector can be a client of a higher one, and several
 * reflectors can share one cluster id.
 */
#include <string.h>

#include "lib/xmalloc.h"
#include "rr/rr.h"

bool
rr_allowed(const struct bgpd_config *c, bool from_client, bool to_client)
{
	if (!c->route_reflector)
		return false;
	return from_client || to_client;
}

void
rr_reflect(const struct bgpd_config *c, uint32_t originator, struct attrs *a)
{
	if (!(a->flags & ATTRF_ORIGINATOR_ID)) {
		a->originator_id = originator;
		a->flags |= ATTRF_ORIGINATOR_ID;
	}
	a->cluster_list =
	    xreallocarray(a->cluster_list, a->ncluster + 1, sizeof(uint32_t));
	if (a->ncluster > 0)
		memmove(a->cluster_list + 1, a->cluster_list,
		    a->ncluster * sizeof(uint32_t));
	a->cluster_list[0] = c->cluster_id;
	a->ncluster++;
}

const char *
rr_loop(const struct bgpd_config *c, const struct attrs *a)
{
	uint16_t i;

	if ((a->flags & ATTRF_ORIGINATOR_ID) &&
	    a->originator_id == c->router_id)
		return "our router id as ORIGINATOR_ID";
	/* a client of a reflector checks nothing else: the list is not ours */
	if (!c->route_reflector)
		return NULL;
	for (i = 0; i < a->ncluster; i++)
		if (a->cluster_list[i] == c->cluster_id)
			return "our cluster id in CLUSTER_LIST";
	return NULL;
}
