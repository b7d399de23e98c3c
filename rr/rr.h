/*
 * Route reflection, RFC 4456: which iBGP routes a reflector passes on and to
 * whom, the attributes it adds, and the loops it refuses.  The speaker
 * (bgp/) asks; nothing here knows about sessions or queues.
 */
#ifndef PODMESH_RR_RR_H
#define PODMESH_RR_RR_H

#include <stdbool.h>
#include <stdint.h>

#include "bgp/config.h"
#include "bgp/wire.h"

/*
 * RFC 4456 §6: may an iBGP-learned route from a peer (client or not) go to
 * an iBGP peer (client or not)?  Without reflection, never (RFC 4271
 * §9.2); a reflector passes client routes to everyone and non-client
 * routes to clients only.
 */
bool rr_allowed(const struct bgpd_config *, bool from_client, bool to_client);

/*
 * RFC 4456 §8: a reflected route gets ORIGINATOR_ID (the originator's BGP
 * identifier, unless already set) and our cluster id in front of
 * CLUSTER_LIST.  Everything else, next hop included, stays as it was.
 */
void rr_reflect(
    const struct bgpd_config *, uint32_t originator, struct attrs *);

/* RFC 4456 §8: why a received route must be ignored, or NULL */
const char *rr_loop(const struct bgpd_config *, const struct attrs *);

#endif
