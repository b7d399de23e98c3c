/*
 * What the RIB hands the kernel sync (bgp/kernel.c): for each changed
 * entry, the best route's next hops with those of the paths equal to it up
 * to the tie-breaks that only pick one (ECMP), or "originated here", or
 * "gone".  The sync itself knows nothing of paths.
 */
#include <string.h>

#include "lib/addr.h"
#include "lib/nl.h"
#include "bgp/kernel.h"
#include "bgp/rib.h"
#include "bgp/wire.h"

/*
 * Equal-cost paths: the best and those equal to it up to the tie-breaks
 * that only pick one (router id, cluster list, peer address, path id).
 */
static bool
kernel_multipath(const struct rib_path *best, const struct rib_path *p)
{
	static const char *const ties[] = {"bgp-id", "cluster-list",
	    "peer-address", "path-id", "source", "equal"};
	const char *why;
	size_t i;

	if (p->src->id == 0)
		return false;
	why = path_cmp_reason(best, p);
	for (i = 0; i < sizeof(ties) / sizeof(ties[0]); i++)
		if (strcmp(why, ties[i]) == 0)
			return true;
	return false;
}

void
kernel_rib_entry(struct kernel *k, const struct rib_entry *e)
{
	const struct rib_path *best = e->paths, *p;
	struct addr nhs[NL_MAXNH];
	size_t n = 0, i;

	if (best == NULL) {
		kernel_update(k, &e->prefix, NULL, 0, false);
		return;
	}
	if (best->src->id == 0) {
		kernel_update(k, &e->prefix, NULL, 0, true);
		return;
	}
	for (p = best; p != NULL && n < NL_MAXNH; p = p->next) {
		if (p != best && !kernel_multipath(best, p))
			continue;
		if (p->attrs->nexthop.family == 0)
			continue;
		for (i = 0; i < n; i++)
			if (addr_cmp(&nhs[i], &p->attrs->nexthop) == 0)
				break;
		if (i == n)
			nhs[n++] = p->attrs->nexthop;
	}
	kernel_update(k, &e->prefix, nhs, n, false);
}
