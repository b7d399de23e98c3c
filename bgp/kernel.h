/*
 * Kernel sync: the speaker's best routes become kernel routes in one table
 * with podmesh's own protocol number, shaped by the node's policy (native,
 * IPIP onlink, VXLAN, blackhole).  Changes are batched once per event-loop
 * pass; routes of other protocols are never touched; routes stay in the
 * kernel on exit (graceful restart) and are adopted again at start.  A route
 * of ours that someone else keeps removing or changing is put back at once
 * the first time, then after 2, 4, ... 64 s.
 */
#ifndef PODMESH_BGP_KERNEL_H
#define PODMESH_BGP_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"

/*
 * podmesh's own protocol number: named in neither iproute2's rt_protos
 * nor FRR's rt_protos.d (which takes 186-197 for its daemons), nor used by
 * BIRD (12) or Felix (80).  The sync owns every route of this protocol in
 * its table, so no other program may use it there.
 */
#define KERNEL_RTPROT_DEFAULT 44
#define KERNEL_TABLE_MAIN 254
#define KERNEL_STALE_TIME 120

struct event_base;
struct rib_entry;

struct kernel_config {
	bool enabled;
	uint8_t protocol; /* KERNEL_RTPROT_DEFAULT */
	uint32_t table; /* KERNEL_TABLE_MAIN */
	int stale_time; /* s: adopted routes not learned again by then go */
};

struct kernel_nh {
	struct addr gw; /* family 0: a device route */
	unsigned int ifindex; /* 0: the kernel resolves the gateway */
	bool onlink;
};

enum kernel_shape {
	KERNEL_SKIP, /* not in the kernel */
	KERNEL_UNICAST, /* via *out */
	KERNEL_BLACKHOLE,
};

/*
 * The node's policy, asked once per next hop: bgp_nh is NULL for a route we
 * originate.  Fill *out (zeroed by the caller) for KERNEL_UNICAST.
 */
typedef enum kernel_shape kernel_shape_fn(void *arg, const struct prefix *,
    const struct addr *bgp_nh, struct kernel_nh *out);

struct kernel;

/*
 * Opens a request socket and a monitor socket in the caller's netns, dumps
 * our protocol's routes in the table and adopts them: nothing changes until
 * they are learned again (kept as they are) or kernel_synced() / the stale
 * timer removes the rest.  The stale timer does not run yet: see
 * kernel_stale_arm.  NULL with a message in err.
 */
struct kernel *kernel_new(
    struct event_base *, const struct kernel_config *, char *err, size_t);
/* the routes stay in the kernel (graceful restart) */
void kernel_free(struct kernel *);

/*
 * Starts the stale timer: adopted routes not learned again stale_time s
 * from now are removed, unless kernel_synced() comes first.  Call it when
 * the speaker starts (its sessions can begin to learn routes), not before:
 * a datastore read that takes longer than stale_time must not cost the
 * adopted routes.  Only the first call counts; none after kernel_synced().
 */
void kernel_stale_arm(struct kernel *);

/* default: originated -> SKIP, learned -> UNICAST via the BGP next hop */
void kernel_set_shaper(struct kernel *, kernel_shape_fn *, void *);

/*
 * Links: called for every RTM_NEWLINK (a link appeared or changed: state,
 * name, ...) and RTM_DELLINK (gone) the monitor hears, after the sync's own
 * handling, so the policy can be rebuilt (kernel_reshape) when a tunnel
 * device appears, disappears or is made again with a new index.  ifname is
 * "" if the message had none.  After the monitor overran (messages lost)
 * it is called once with ifindex 0 and "": anything may have changed.  The
 * callback must not free the kernel.
 */
typedef void kernel_link_fn(
    void *arg, unsigned int ifindex, const char *ifname, bool gone);
void kernel_set_link_cb(struct kernel *, kernel_link_fn *, void *);

/*
 * The best route(s) for prefix now: nnh > 1 = ECMP next hops; nnh == 0 &&
 * !originated = gone.  Queued, sent with the next flush.  A route adopted at
 * start that the policy skips (KERNEL_SKIP: say its tunnel device is not
 * there yet) stays as the kernel has it and adopted: kernel_reshape may
 * shape it yet, kernel_synced() and the stale timer remove it if not.
 */
void kernel_update(struct kernel *, const struct prefix *,
    const struct addr *nhs, size_t nnh, bool originated);
/* the same, derived from a RIB entry's paths (equal-cost best paths) */
void kernel_rib_entry(struct kernel *, const struct rib_entry *);
/* the policy changed: shape every known route again, send only differences */
void kernel_reshape(struct kernel *);
/* the RIB is complete after start: delete adopted routes nobody re-learned */
void kernel_synced(struct kernel *);
/* sends what is queued now instead of at the end of this loop pass */
void kernel_flush(struct kernel *);

struct kernel_stats {
	size_t routes; /* installed or adopted, ours */
	size_t routes6; /* of which IPv6 */
	size_t adopted; /* adopted and not yet confirmed */
	size_t queued; /* waiting for a flush or a retry */
	uint64_t installs; /* routes added or replaced */
	uint64_t deletes;
	uint64_t failures; /* requests the kernel refused */
	uint64_t repairs; /* routes removed or changed behind our back */
	uint64_t repairs_held; /* repairs delayed: someone keeps undoing ours */
	uint64_t requests; /* netlink requests sent */
	uint64_t resyncs; /* dumps: a lost notification, a link event, EEXIST */
};
void kernel_stats_get(const struct kernel *, struct kernel_stats *);

#endif
