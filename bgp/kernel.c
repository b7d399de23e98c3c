/*
 * Kernel sync (see kernel.h): one struct kroute per prefix the RIB told us
 * about or the kernel holds with our protocol, with two forms: what the
 * policy wants (want) and what the kernel has (inst).  A prefix whose forms
 * differ sits once on the queue; the queue is sent as one netlink batch per
 * event-loop pass, so a prefix changed twice before the flush goes once and
 * a form equal to the installed one sends nothing.  That is also what makes
 * a restart flap-free: routes adopted at start and learned again with the
 * same form are only marked confirmed.
 *
 * Keeping inst true without scanning: a monitor socket hears route changes
 * of our protocol and table made by anyone else (a BPF filter drops our own
 * echoes and other protocols' routes in the kernel), and link/address
 * removals, after which IPv4 flushes routes without telling; those, and a
 * monitor overrun, lead to one dump of our routes.  Only links our routes
 * may use count: those named by a next hop, and for a next hop without a
 * device (the kernel resolves the gateway) those with a global address, so
 * pod veths coming and going cost nothing.  A refused request is logged and
 * retried with exponential backoff, and at once when a link comes up or the
 * wanted form changes.
 *
 * When the kernel's form is unknown (a failed request, a refused exclusive
 * add: a stale notification said ours was gone, or another protocol holds
 * the prefix), nothing is sent for the prefix until a dump says whose route
 * is there: replacing blindly could take another protocol's route, adding
 * exclusively would fail for ever over our own.  A route someone else keeps
 * removing or changing (a notification with a sender) is repaired at once,
 * then, if it happens again within KERNEL_REPAIR_WINDOW of the last repair,
 * after 2, 4, ... 64 s, so two programs sharing our protocol cannot fight in
 * a tight loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <linux/filter.h>
#include <net/if.h>

#include "lib/hash.h"
#include "lib/log.h"
#include "lib/nl.h"
#include "lib/xmalloc.h"
#include "bgp/kernel.h"
#include "bgp/kernel_links.h"
#include "bgp/rib.h"
#include "bgp/wire.h"
#include "bgp/config.h"

_Static_assert(KERNEL_PROTO_DEFAULT == KERNEL_RTPROT_DEFAULT,
    "the configuration's default protocol is the sync's");

#define KFORM_NONE 0 /* no route of ours */
#define KFORM_UNKNOWN 255 /* ours, in a form we lost track of */

#define KR_QUEUED 0x01 /* on k->queue */
#define KR_RETRY 0x02 /* on k->retry */
#define KR_ADOPTED 0x04 /* found at start, not learned again yet */
#define KR_SEEN 0x08 /* in the dump being read */
#define KR_PROBE 0x10 /* whose route holds the prefix?  The next dump says */
#define KR_HELD 0x20 /* on retry: a repair held back, see kroute_repair */

#define KERNEL_RETRY_MAX 6 /* backoff 2, 4, ... 64 s */
#define KERNEL_REPAIR_WINDOW 10 /* s: undone again this soon is a fight */
#define KERNEL_RESYNC_DELAY_MS 100 /* coalesces bursts of link events */
#define KERNEL_LOG_FAILURES 10 /* per flush, then a count */

struct kform {
	uint8_t type; /* KFORM_NONE, RTN_UNICAST, RTN_BLACKHOLE, ... */
	uint8_t nnh;
	struct kernel_nh nh; /* the first next hop */
	struct kernel_nh *more; /* nnh - 1 more, sorted with the first */
};

struct kroute {
	struct kroute *hnext;
	TAILQ_ENTRY(kroute) entry; /* on queue or retry */
	struct prefix pfx;
	/* what the RIB said last; kept for kernel_reshape */
	bool originated;
	uint8_t nbgp;
	struct addr bgp; /* the first BGP next hop */
	struct addr *bgpmore;
	struct kform want;
	struct kform inst;
	uint8_t flags;
	uint8_t backoff; /* refused requests in a row */
	uint8_t rbackoff; /* repairs in a row, each soon after the last */
	uint32_t repaired; /* kernel_now() of the last repair, 0: never */
	struct timeval retry_at;
};

TAILQ_HEAD(kroute_list, kroute);

struct kreq {
	struct kroute *kr;
	uint16_t type;
	int error;
};

struct kernel {
	struct event_base *base;
	struct kernel_config conf;
	struct nl *req;
	struct nl *mon;
	struct nl_batch *batch;
	kernel_shape_fn *shape;
	void *shape_arg;
	kernel_link_fn *link_cb;
	void *link_arg;

	struct kroute **tab;
	size_t tabsize; /* a power of two */
	size_t count;
	size_t ninst; /* inst not NONE */
	size_t ninst6; /* of which IPv6 (metrics) */
	size_t nadopted;

	struct kroute_list queue;
	struct kroute_list retry;
	size_t nqueued;
	struct kreq *reqs;
	size_t reqcap;
	size_t nfailed; /* in this flush, for the log */
	size_t nrepair; /* found missing since the last flush, for the log */
	size_t nheld; /* repairs held back since the last flush, for the log */
	bool synced;
	bool stale_armed;
	bool flush_scheduled;
	bool relink; /* the monitor overran: read links and addresses again */

	struct kernel_links links;

	struct event *flush_ev;
	struct event *mon_ev;
	struct event *retry_ev;
	struct event *resync_ev;
	struct event *stale_ev;
	struct kernel_stats stats;
};

static enum kernel_shape kernel_default_shape(
    void *, const struct prefix *, const struct addr *, struct kernel_nh *);
static int kernel_nh_cmp(const void *, const void *);
static const struct kernel_nh *kform_nh(const struct kform *, unsigned int);
static void kform_set(
    struct kform *, uint8_t, const struct kernel_nh *, unsigned int);
static void kform_clear(struct kform *);
static void kform_copy(struct kform *, const struct kform *);
static bool kform_match(const struct kform *, const struct kform *);
static bool kform_same(const struct kform *, const struct kform *);
static void kform_from_route(struct kform *, const struct nl_route *);
static void kroute_key(struct prefix *, const struct prefix *);
static uint32_t kroute_hash(const struct prefix *);
static struct kroute *kroute_find(struct kernel *, const struct prefix *);
static struct kroute *kroute_get(struct kernel *, const struct prefix *);
static void kroute_maybe_free(struct kernel *, struct kroute *);
static void kroute_set_inst(
    struct kernel *, struct kroute *, const struct kform *);
static void kroute_set_adopted(struct kernel *, struct kroute *, bool);
static void kroute_unlist(struct kernel *, struct kroute *);
static void kroute_retry(
    struct kernel *, struct kroute *, unsigned int, uint8_t);
static void kroute_shape(struct kernel *, struct kroute *, struct kform *);
static void kroute_learn(struct kernel *, struct kroute *);
static bool kroute_ok(const struct kroute *);
static void kroute_check(struct kernel *, struct kroute *);
static void kroute_repair(struct kernel *, struct kroute *, bool, bool);
static void kroute_to_nl(
    const struct kernel *, const struct kroute *, struct nl_route *);
static const char *kroute_ntop(
    const struct kernel *, const struct kroute *, char *, size_t);
static uint32_t kernel_now(void);
static void kernel_schedule(struct kernel *);
static void kernel_flush_cb(evutil_socket_t, short, void *);
static void kernel_batch_cb(
    void *, size_t, const struct nlmsghdr *, int, const char *);
static void kernel_done(struct kernel *, struct kreq *, bool);
static void kernel_retry_arm(struct kernel *);
static void kernel_retry_cb(evutil_socket_t, short, void *);
static void kernel_kick(struct kernel *);
static int kernel_adopt_cb(const struct nl_route *, void *);
static int kernel_resync(struct kernel *);
static void kernel_resync_cb(evutil_socket_t, short, void *);
static void kernel_resync_later(struct kernel *, int);
static void kernel_stale_cb(evutil_socket_t, short, void *);
static int kernel_filter(struct kernel *);
static void kernel_mon_cb(evutil_socket_t, short, void *);
static int kernel_mon_msg(const struct nlmsghdr *, void *);
static void kernel_mon_route(
    struct kernel *, uint16_t, const struct nlmsghdr *);
static void kernel_mon_link(struct kernel *, const struct nlmsghdr *);
static void kernel_mon_addr(struct kernel *, const struct nlmsghdr *);
static void kernel_ref_add(struct kernel *, const struct kform *, int);
static int kernel_links_cb(const struct nlmsghdr *, void *);
static int kernel_addrs_cb(const struct nlmsghdr *, void *);
static int kernel_load_links(struct kernel *, char *, size_t);

/* ---- forms ---- */

static enum kernel_shape
kernel_default_shape(void *arg, const struct prefix *p,
    const struct addr *bgp_nh, struct kernel_nh *out)
{
	if (bgp_nh == NULL || bgp_nh->family != p->a.family)
		return KERNEL_SKIP;
	out->gw = *bgp_nh;
	return KERNEL_UNICAST;
}

/* by gateway, then device: an unset device must not split equal gateways */
static int
kernel_nh_cmp(const void *va, const void *vb)
{
	const struct kernel_nh *a = va, *b = vb;
	int r;

	if ((r = addr_cmp(&a->gw, &b->gw)) != 0)
		return r;
	if (a->onlink != b->onlink)
		return a->onlink ? 1 : -1;
	return a->ifindex < b->ifindex ? -1 : a->ifindex > b->ifindex;
}

static const struct kernel_nh *
kform_nh(const struct kform *f, unsigned int i)
{
	return i == 0 ? &f->nh : &f->more[i - 1];
}

/* nh: n next hops, sorted and without duplicates */
static void
kform_set(
    struct kform *f, uint8_t type, const struct kernel_nh *nh, unsigned int n)
{
	kform_clear(f);
	f->type = type;
	f->nnh = (uint8_t)n;
	if (n > 0)
		f->nh = nh[0];
	if (n > 1) {
		f->more = xreallocarray(NULL, n - 1, sizeof(*f->more));
		memcpy(f->more, nh + 1, (n - 1) * sizeof(*f->more));
	}
}

static void
kform_clear(struct kform *f)
{
	free(f->more);
	memset(f, 0, sizeof(*f));
}

static void
kform_copy(struct kform *to, const struct kform *from)
{
	if (to == from)
		return;
	kform_clear(to);
	*to = *from;
	to->more = NULL;
	if (from->nnh > 1) {
		to->more =
		    xreallocarray(NULL, from->nnh - 1, sizeof(*to->more));
		memcpy(
		    to->more, from->more, (from->nnh - 1) * sizeof(*to->more));
	}
}

/*
 * Does the kernel's form (have) satisfy the wanted one?  A wanted device 0
 * leaves the choice to the kernel, which reports the one it picked.
 */
static bool
kform_match(const struct kform *want, const struct kform *have)
{
	const struct kernel_nh *a, *b;
	unsigned int i;

	if (want->type != have->type || want->nnh != have->nnh ||
	    have->type == KFORM_UNKNOWN)
		return false;
	for (i = 0; i < want->nnh; i++) {
		a = kform_nh(want, i);
		b = kform_nh(have, i);
		if (addr_cmp(&a->gw, &b->gw) != 0 || a->onlink != b->onlink ||
		    (a->ifindex != 0 && a->ifindex != b->ifindex))
			return false;
	}
	return true;
}

/* the same form exactly: a device 0 is not any device here */
static bool
kform_same(const struct kform *a, const struct kform *b)
{
	unsigned int i;

	if (a->type != b->type || a->nnh != b->nnh)
		return false;
	for (i = 0; i < a->nnh; i++)
		if (kernel_nh_cmp(kform_nh(a, i), kform_nh(b, i)) != 0)
			return false;
	return true;
}

/*
 * Only a unicast route has next hops: IPv6 reports a blackhole through lo,
 * which would make every IPv6 blackhole differ from the one we want.
 */
static void
kform_from_route(struct kform *f, const struct nl_route *r)
{
	struct kernel_nh nh[NL_MAXNH];
	unsigned int i, n = r->type == RTN_UNICAST ? r->nnh : 0;

	memset(nh, 0, sizeof(nh));
	for (i = 0; i < n; i++) {
		nh[i].gw = r->nh[i].gw;
		nh[i].ifindex = r->nh[i].ifindex;
		nh[i].onlink = r->nh[i].onlink;
	}
	qsort(nh, n, sizeof(nh[0]), kernel_nh_cmp);
	kform_set(f, r->type == KFORM_NONE ? KFORM_UNKNOWN : r->type, nh, n);
}

/* ---- the table of prefixes ---- */

static void
kroute_key(struct prefix *key, const struct prefix *p)
{
	memset(key, 0, sizeof(*key));
	key->a.family = p->a.family;
	key->len = p->len;
	memcpy(key->a.b, p->a.b, sizeof(key->a.b));
	prefix_mask(key);
}

static uint32_t
kroute_hash(const struct prefix *key)
{
	return hash_bytes(key->a.b, (size_t)addr_bytes(key->a.family),
	    (uint32_t)key->len << 8 | key->a.family);
}

static struct kroute *
kroute_find(struct kernel *k, const struct prefix *p)
{
	struct prefix key;
	struct kroute *kr;

	kroute_key(&key, p);
	for (kr = k->tab[kroute_hash(&key) & (k->tabsize - 1)]; kr != NULL;
	     kr = kr->hnext)
		if (kr->pfx.len == key.len &&
		    kr->pfx.a.family == key.a.family &&
		    memcmp(kr->pfx.a.b, key.a.b, sizeof(key.a.b)) == 0)
			return kr;
	return NULL;
}

static struct kroute *
kroute_get(struct kernel *k, const struct prefix *p)
{
	struct kroute *kr, **ntab, *next;
	size_t i, nsize, h;

	if ((kr = kroute_find(k, p)) != NULL)
		return kr;
	if (k->count >= k->tabsize) {
		nsize = k->tabsize * 2;
		ntab = xcalloc(nsize, sizeof(*ntab));
		for (i = 0; i < k->tabsize; i++)
			for (kr = k->tab[i]; kr != NULL; kr = next) {
				next = kr->hnext;
				h = kroute_hash(&kr->pfx) & (nsize - 1);
				kr->hnext = ntab[h];
				ntab[h] = kr;
			}
		free(k->tab);
		k->tab = ntab;
		k->tabsize = nsize;
	}
	kr = xcalloc(1, sizeof(*kr));
	kroute_key(&kr->pfx, p);
	h = kroute_hash(&kr->pfx) & (k->tabsize - 1);
	kr->hnext = k->tab[h];
	k->tab[h] = kr;
	k->count++;
	return kr;
}

/* a prefix nobody speaks of and the kernel does not hold is forgotten */
static void
kroute_maybe_free(struct kernel *k, struct kroute *kr)
{
	struct kroute **pp;

	if (kr->originated || kr->nbgp > 0 || kr->want.type != KFORM_NONE ||
	    kr->inst.type != KFORM_NONE || (kr->flags & (KR_QUEUED | KR_RETRY)))
		return;
	for (pp = &k->tab[kroute_hash(&kr->pfx) & (k->tabsize - 1)]; *pp != kr;
	     pp = &(*pp)->hnext)
		;
	*pp = kr->hnext;
	k->count--;
	kroute_set_adopted(k, kr, false);
	kform_clear(&kr->want);
	kform_clear(&kr->inst);
	free(kr->bgpmore);
	free(kr);
}

static void
kroute_set_inst(struct kernel *k, struct kroute *kr, const struct kform *f)
{
	bool v6 = kr->pfx.a.family == AF_INET6;

	if (kr->inst.type != KFORM_NONE) {
		k->ninst--;
		k->ninst6 -= v6;
	}
	kernel_ref_add(k, &kr->inst, -1);
	kform_copy(&kr->inst, f);
	kernel_ref_add(k, &kr->inst, 1);
	if (kr->inst.type != KFORM_NONE) {
		k->ninst++;
		k->ninst6 += v6;
	}
}

static void
kroute_set_adopted(struct kernel *k, struct kroute *kr, bool on)
{
	if (on && !(kr->flags & KR_ADOPTED)) {
		kr->flags |= KR_ADOPTED;
		k->nadopted++;
	} else if (!on && (kr->flags & KR_ADOPTED)) {
		kr->flags &= ~KR_ADOPTED;
		k->nadopted--;
	}
}

static void
kroute_unlist(struct kernel *k, struct kroute *kr)
{
	if (kr->flags & KR_QUEUED) {
		TAILQ_REMOVE(&k->queue, kr, entry);
		k->nqueued--;
	} else if (kr->flags & KR_RETRY)
		TAILQ_REMOVE(&k->retry, kr, entry);
	kr->flags &= ~(KR_QUEUED | KR_RETRY | KR_HELD);
}

/* off whatever list, onto the retry list: due in secs s */
static void
kroute_retry(
    struct kernel *k, struct kroute *kr, unsigned int secs, uint8_t flags)
{
	struct timeval now, d;

	kroute_unlist(k, kr);
	evutil_gettimeofday(&now, NULL);
	d.tv_sec = secs;
	d.tv_usec = 0;
	evutil_timeradd(&now, &d, &kr->retry_at);
	TAILQ_INSERT_TAIL(&k->retry, kr, entry);
	kr->flags |= KR_RETRY | flags;
}

/* the policy's form for what the RIB said, into f (cleared) */
static void
kroute_shape(struct kernel *k, struct kroute *kr, struct kform *f)
{
	struct kernel_nh nh[NL_MAXNH], out;
	const struct addr *bgp;
	unsigned int i, j, n = 0;
	enum kernel_shape s;
	bool blackhole = false;

	if (kr->originated) {
		memset(&out, 0, sizeof(out));
		s = k->shape(k->shape_arg, &kr->pfx, NULL, &out);
		if (s == KERNEL_BLACKHOLE)
			blackhole = true;
		else if (s == KERNEL_UNICAST)
			nh[n++] = out;
	}
	for (i = 0; i < kr->nbgp && !blackhole; i++) {
		bgp = i == 0 ? &kr->bgp : &kr->bgpmore[i - 1];
		memset(&out, 0, sizeof(out));
		s = k->shape(k->shape_arg, &kr->pfx, bgp, &out);
		if (s == KERNEL_BLACKHOLE)
			blackhole = true;
		else if (s == KERNEL_UNICAST && n < NL_MAXNH &&
		    (out.gw.family == kr->pfx.a.family ||
		        (out.gw.family == 0 && out.ifindex != 0)))
			nh[n++] = out;
	}
	if (blackhole) {
		kform_set(f, RTN_BLACKHOLE, NULL, 0);
		return;
	}
	for (i = 0; i < n; i++)
		nh[i].gw.scope_id = 0;
	qsort(nh, n, sizeof(nh[0]), kernel_nh_cmp);
	for (i = j = 0; i < n; i++)
		if (j == 0 || kernel_nh_cmp(&nh[j - 1], &nh[i]) != 0)
			nh[j++] = nh[i];
	kform_set(f, j > 0 ? RTN_UNICAST : KFORM_NONE, nh, j);
}

/*
 * What the RIB said, shaped into want.  A new wanted form goes at once,
 * whatever backoff its predecessor had earned.  An adopted route that the
 * policy skips stays adopted in the kernel's form: a tunnel device missing
 * for a moment must not cost a route that kernel_synced() or the stale
 * timer would remove anyway if the policy still skips it then.
 */
static void
kroute_learn(struct kernel *k, struct kroute *kr)
{
	struct kform f;

	memset(&f, 0, sizeof(f));
	kroute_shape(k, kr, &f);
	if (kr->flags & KR_ADOPTED) {
		if (f.type == KFORM_NONE && (kr->originated || kr->nbgp > 0)) {
			kform_clear(&f);
			kroute_check(k, kr);
			return;
		}
		kroute_set_adopted(k, kr, false);
	}
	if (kform_same(&f, &kr->want)) {
		kform_clear(&f);
	} else {
		kform_clear(&kr->want);
		kr->want = f;
		if (kr->flags & KR_RETRY) {
			kroute_unlist(k, kr);
			kr->backoff = 0;
		}
	}
	kroute_check(k, kr);
}

/* does the kernel's form satisfy the wanted one? */
static bool
kroute_ok(const struct kroute *kr)
{
	if (kr->want.type == KFORM_NONE)
		return kr->inst.type == KFORM_NONE;
	return kform_match(&kr->want, &kr->inst);
}

/* queue kr if the kernel's form is not the wanted one */
static void
kroute_check(struct kernel *k, struct kroute *kr)
{
	if (kroute_ok(kr)) {
		kroute_unlist(k, kr);
		kr->backoff = 0;
		kroute_maybe_free(k, kr);
		return;
	}
	if (kr->flags & (KR_QUEUED | KR_RETRY))
		return; /* a retry keeps its backoff */
	TAILQ_INSERT_TAIL(&k->queue, kr, entry);
	kr->flags |= KR_QUEUED;
	k->nqueued++;
	kernel_schedule(k);
}

/*
 * A route of ours was removed or changed by someone else (sender: a process,
 * not the kernel itself).  Put back at once the first time; undone again
 * within KERNEL_REPAIR_WINDOW of the last repair, it is a fight (another
 * program sharing our protocol, most likely), so the next repair waits 2,
 * 4, ... 64 s, a notification meanwhile changing nothing.
 */
static void
kroute_repair(struct kernel *k, struct kroute *kr, bool removed, bool sender)
{
	char buf[NL_ROUTE_STRLEN];
	uint32_t now;
	unsigned int secs;

	if (kroute_ok(kr)) {
		kroute_check(k, kr);
		return;
	}
	if (kr->flags & KR_HELD)
		return;
	k->stats.repairs++;
	now = kernel_now();
	if (sender && kr->repaired != 0 &&
	    (int32_t)(now - kr->repaired) < KERNEL_REPAIR_WINDOW) {
		if (kr->rbackoff < KERNEL_RETRY_MAX)
			kr->rbackoff++;
	} else
		kr->rbackoff = 0;
	if (kr->rbackoff == 0) {
		kr->repaired = now;
		if (k->nrepair++ < KERNEL_LOG_FAILURES)
			log_info("kernel: %s %s behind our back; putting it "
			         "back",
			    kroute_ntop(k, kr, buf, sizeof(buf)),
			    removed ? "removed" : "changed");
		kroute_check(k, kr);
		return;
	}
	secs = 1U << kr->rbackoff;
	kr->repaired = now + secs;
	k->stats.repairs_held++;
	if (k->nheld++ < KERNEL_LOG_FAILURES)
		log_warnx(
		    "kernel: %s keeps being %s by someone else (another "
		    "program using protocol %u?); putting it back in %u s",
		    kroute_ntop(k, kr, buf, sizeof(buf)),
		    removed ? "removed" : "changed", k->conf.protocol, secs);
	kroute_retry(k, kr, secs, KR_HELD);
	kernel_retry_arm(k);
}

static void
kroute_to_nl(
    const struct kernel *k, const struct kroute *kr, struct nl_route *r)
{
	const struct kernel_nh *nh;
	unsigned int i;

	memset(r, 0, sizeof(*r));
	r->dst = kr->pfx;
	r->protocol = k->conf.protocol;
	r->table = k->conf.table;
	r->type = kr->want.type == KFORM_NONE ? RTN_UNICAST : kr->want.type;
	r->nnh = kr->want.nnh;
	for (i = 0; i < r->nnh; i++) {
		nh = kform_nh(&kr->want, i);
		r->nh[i].gw = nh->gw;
		r->nh[i].ifindex = nh->ifindex;
		r->nh[i].onlink = nh->onlink;
	}
}

static const char *
kroute_ntop(
    const struct kernel *k, const struct kroute *kr, char *buf, size_t len)
{
	struct nl_route r;

	kroute_to_nl(k, kr, &r);
	if (kr->want.type == KFORM_NONE) {
		r.nnh = 0;
		r.type = RTN_UNICAST;
	}
	return nl_route_ntop(&r, buf, len);
}

/* ---- flushing ---- */

/* s on a monotonic clock, never 0 */
static uint32_t
kernel_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)ts.tv_sec + 1;
}

static void
kernel_schedule(struct kernel *k)
{
	if (!k->flush_scheduled) {
		k->flush_scheduled = true;
		event_active(k->flush_ev, EV_TIMEOUT, 0);
	}
}

static void
kernel_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kernel *k = arg;

	k->flush_scheduled = false;
	kernel_flush(k);
}

static void
kernel_batch_cb(void *arg, size_t index, const struct nlmsghdr *req, int error,
    const char *msg)
{
	struct kernel *k = arg;
	struct kreq *q = &k->reqs[index];
	char buf[NL_ROUTE_STRLEN];

	q->error = error;
	/* already gone is what a delete wants */
	if (q->type == RTM_DELROUTE && error == ESRCH)
		return;
	if (q->type == RTM_NEWROUTE && error == EEXIST) {
		if (k->nfailed++ < KERNEL_LOG_FAILURES)
			log_info(
			    "kernel: %s: a route is there already; reading "
			    "the table to see whose",
			    kroute_ntop(k, q->kr, buf, sizeof(buf)));
		return;
	}
	if (k->nfailed++ < KERNEL_LOG_FAILURES)
		log_warnx("kernel: %s %s: %s%s%s",
		    q->type == RTM_DELROUTE ? "delete" : "install",
		    kroute_ntop(k, q->kr, buf, sizeof(buf)), strerror(error),
		    *msg ? ": " : "", msg);
}

void
kernel_flush(struct kernel *k)
{
	struct kroute *kr;
	struct nl_route r;
	struct kreq *q;
	char err[256];
	size_t n = 0, i;
	uint16_t type, flags;
	bool probe = false;
	int rc;

	if (k->nqueued > k->reqcap) {
		k->reqcap = k->nqueued + k->nqueued / 2;
		k->reqs = xreallocarray(k->reqs, k->reqcap, sizeof(*k->reqs));
	}
	k->nfailed = 0;
	while ((kr = TAILQ_FIRST(&k->queue)) != NULL) {
		kroute_unlist(k, kr);
		if (kr->want.type == KFORM_NONE) {
			if (kr->inst.type == KFORM_NONE) {
				kroute_maybe_free(k, kr);
				continue;
			}
			type = RTM_DELROUTE;
			flags = 0;
		} else {
			if (kform_match(&kr->want, &kr->inst)) {
				kroute_maybe_free(k, kr);
				continue;
			}
			/* ours or another protocol's?  The dump tells */
			if (kr->inst.type == KFORM_UNKNOWN) {
				kr->flags |= KR_PROBE;
				probe = true;
				continue;
			}
			type = RTM_NEWROUTE;
			/* replace only our own: never another protocol's */
			flags = NLM_F_CREATE |
			    (kr->inst.type != KFORM_NONE ? NLM_F_REPLACE
			                                 : NLM_F_EXCL);
		}
		kroute_to_nl(k, kr, &r);
		q = &k->reqs[n];
		q->kr = kr;
		q->type = type;
		q->error = 0;
		if (nl_batch_route(k->batch, type, flags, &r) != n)
			fatalx("kernel: batch index out of step");
		n++;
		k->stats.requests++;
	}
	if (probe)
		kernel_resync_later(k, 0);
	if (n == 0)
		return;
	rc = nl_batch_flush(k->batch, err, sizeof(err));
	if (rc == -1)
		log_warnx("kernel: %s; reading the table again", err);
	if (k->nfailed > KERNEL_LOG_FAILURES)
		log_warnx("kernel: %zu more routes refused",
		    k->nfailed - KERNEL_LOG_FAILURES);
	for (i = 0; i < n; i++)
		kernel_done(k, &k->reqs[i], rc == -1);
	if (rc == -1)
		kernel_resync_later(k, 0);
	kernel_retry_arm(k);
}

/* the outcome of one request; unknown after a socket failure */
static void
kernel_done(struct kernel *k, struct kreq *q, bool unknown)
{
	struct kroute *kr = q->kr;
	struct kform none, lost;

	memset(&none, 0, sizeof(none));
	memset(&lost, 0, sizeof(lost));
	lost.type = KFORM_UNKNOWN;
	if (unknown && q->error == 0) {
		kroute_set_inst(k, kr, &lost);
		return; /* the resync tells */
	}
	if (q->error == 0 || (q->type == RTM_DELROUTE && q->error == ESRCH)) {
		if (q->type == RTM_DELROUTE) {
			kroute_set_inst(k, kr, &none);
			k->stats.deletes++;
		} else {
			kroute_set_inst(k, kr, &kr->want);
			k->stats.installs++;
		}
		kr->backoff = 0;
		kroute_maybe_free(k, kr);
		return;
	}
	k->stats.failures++;
	/*
	 * A refused replace or delete leaves our route in some form.  A
	 * refused exclusive add means a route is there: another protocol's,
	 * or ours after a stale notification said it was gone.  Either way the
	 * next dump says which, and the retry waits its backoff only for
	 * another's.
	 */
	if (q->type == RTM_NEWROUTE && q->error == EEXIST) {
		kroute_set_inst(k, kr, &lost);
		kr->flags |= KR_PROBE;
		kernel_resync_later(k, 0);
	} else if (kr->inst.type != KFORM_NONE)
		kroute_set_inst(k, kr, &lost);
	if (kr->backoff < KERNEL_RETRY_MAX)
		kr->backoff++;
	kroute_retry(k, kr, 1U << kr->backoff, 0);
}

static void
kernel_retry_arm(struct kernel *k)
{
	struct kroute *kr;
	struct timeval now, first, d;
	bool any = false;

	TAILQ_FOREACH(kr, &k->retry, entry)
	{
		if (!any || evutil_timercmp(&kr->retry_at, &first, <))
			first = kr->retry_at;
		any = true;
	}
	if (!any) {
		evtimer_del(k->retry_ev);
		return;
	}
	evutil_gettimeofday(&now, NULL);
	if (evutil_timercmp(&first, &now, <))
		evutil_timerclear(&d);
	else
		evutil_timersub(&first, &now, &d);
	evtimer_add(k->retry_ev, &d);
}

static void
kernel_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kernel *k = arg;
	struct kroute *kr, *next;
	struct timeval now;

	evutil_gettimeofday(&now, NULL);
	for (kr = TAILQ_FIRST(&k->retry); kr != NULL; kr = next) {
		next = TAILQ_NEXT(kr, entry);
		if (evutil_timercmp(&kr->retry_at, &now, >))
			continue;
		kroute_unlist(k, kr);
		kroute_check(k, kr);
	}
	kernel_retry_arm(k);
}

/*
 * Something changed for the better (a link came up): retry now, but for
 * repairs held back from a fight, which no link settles.
 */
static void
kernel_kick(struct kernel *k)
{
	struct kroute *kr, *next;

	if (TAILQ_EMPTY(&k->retry))
		return;
	for (kr = TAILQ_FIRST(&k->retry); kr != NULL; kr = next) {
		next = TAILQ_NEXT(kr, entry);
		if (kr->flags & KR_HELD)
			continue;
		kroute_unlist(k, kr);
		kroute_check(k, kr);
	}
	kernel_retry_arm(k);
}

/* ---- what the kernel holds ---- */

/*
 * A route of ours from a dump.  Unknown ones are adopted until the RIB is
 * complete; after that they are someone else's business.
 */
static int
kernel_adopt_cb(const struct nl_route *r, void *arg)
{
	struct kernel *k = arg;
	struct kroute *kr;
	struct kform f;

	memset(&f, 0, sizeof(f));
	if ((kr = kroute_find(k, &r->dst)) == NULL) {
		if (k->synced)
			return MNL_CB_OK;
		kr = kroute_get(k, &r->dst);
		kroute_set_adopted(k, kr, true);
	}
	kr->flags |= KR_SEEN;
	kform_from_route(&f, r);
	if (!kform_match(&kr->inst, &f) || !kform_match(&f, &kr->inst))
		kroute_set_inst(k, kr, &f);
	if (kr->flags & KR_ADOPTED)
		kform_copy(&kr->want, &kr->inst);
	kform_clear(&f);
	return MNL_CB_OK;
}

/* reads our routes again and puts right what differs */
static int
kernel_resync(struct kernel *k)
{
	struct kroute *kr, *next;
	struct kform none;
	char err[256];
	size_t i, missing = 0;

	memset(&none, 0, sizeof(none));
	k->stats.resyncs++;
	if (k->relink) {
		if (kernel_load_links(k, err, sizeof(err)) == -1) {
			log_warnx("kernel: %s", err);
			return -1;
		}
		k->relink = false;
		if (k->link_cb != NULL)
			k->link_cb(k->link_arg, 0, "", false);
	}
	for (i = 0; i < k->tabsize; i++)
		for (kr = k->tab[i]; kr != NULL; kr = kr->hnext)
			kr->flags &= ~KR_SEEN;
	if (nl_route_dump(k->req, AF_UNSPEC, k->conf.protocol, k->conf.table,
	        kernel_adopt_cb, k, err, sizeof(err)) == -1) {
		log_warnx("kernel: %s", err);
		return -1;
	}
	for (i = 0; i < k->tabsize; i++)
		for (kr = k->tab[i]; kr != NULL; kr = next) {
			next = kr->hnext;
			if (!(kr->flags & KR_SEEN) &&
			    kr->inst.type != KFORM_NONE) {
				if (kr->want.type != KFORM_NONE &&
				    kr->inst.type != KFORM_UNKNOWN) {
					k->stats.repairs++;
					missing++;
				}
				kroute_set_inst(k, kr, &none);
			}
			if (kr->flags & KR_PROBE) {
				kr->flags &= ~KR_PROBE;
				if (kr->inst.type == KFORM_UNKNOWN) {
					/* a type we cannot tell: no loop */
					if (kr->backoff < KERNEL_RETRY_MAX)
						kr->backoff++;
					kroute_retry(
					    k, kr, 1U << kr->backoff, 0);
				} else if ((kr->flags & KR_SEEN) &&
				    (kr->flags & KR_RETRY) &&
				    !(kr->flags & KR_HELD)) {
					/* ours after all: no reason to wait */
					kroute_unlist(k, kr);
					kr->backoff = 0;
				}
			}
			kroute_check(k, kr);
		}
	kernel_retry_arm(k);
	if (missing > 0)
		log_info("kernel: %zu routes of ours went missing; installing "
		         "them again",
		    missing);
	return 0;
}

static void
kernel_resync_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kernel *k = arg;

	if (kernel_resync(k) == -1)
		kernel_resync_later(k, 1000);
}

static void
kernel_resync_later(struct kernel *k, int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	if (!evtimer_pending(k->resync_ev, NULL))
		evtimer_add(k->resync_ev, &tv);
}

static void
kernel_stale_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kernel *k = arg;

	if (!k->synced) {
		log_info("kernel: %zu adopted routes not learned again in "
		         "%d s: removing them",
		    k->nadopted, k->conf.stale_time);
		kernel_synced(k);
	}
}

/* ---- the monitor ---- */

/*
 * In-kernel filter for the monitor: drop route messages of other protocols
 * and echoes of our own route requests, so installing 100k routes costs the
 * monitor nothing and cannot overrun it.  Link and address messages all
 * pass.  Each notification is one message.
 */
static int
kernel_filter(struct kernel *k)
{
	struct sock_filter code[] = {
	    /* nlmsg_type is host order; BPF loads are big-endian */
	    BPF_STMT(BPF_LD | BPF_H | BPF_ABS,
	        offsetof(struct nlmsghdr, nlmsg_type)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(RTM_NEWROUTE), 1, 0),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htons(RTM_DELROUTE), 0, 4),
	    /* our own echo: nlmsg_pid is the request socket's port */
	    BPF_STMT(
	        BPF_LD | BPF_W | BPF_ABS, offsetof(struct nlmsghdr, nlmsg_pid)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, htonl(nl_portid(k->req)), 3, 0),
	    BPF_STMT(BPF_LD | BPF_B | BPF_ABS,
	        sizeof(struct nlmsghdr) + offsetof(struct rtmsg, rtm_protocol)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k->conf.protocol, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
	    BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = {sizeof(code) / sizeof(code[0]), code};

	return setsockopt(
	    nl_fd(k->mon), SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog));
}

static void
kernel_mon_cb(evutil_socket_t fd, short what, void *arg)
{
	struct kernel *k = arg;

	if (nl_recv(k->mon, kernel_mon_msg, k) == -1) {
		if (errno == ENOBUFS)
			log_info("kernel: route notifications lost; reading "
			         "the table again");
		else
			log_warn("kernel: netlink monitor");
		k->relink = true;
		kernel_resync_later(k, 0);
	}
	if (k->nrepair > KERNEL_LOG_FAILURES)
		log_info("kernel: %zu routes were removed or changed behind "
		         "our back; putting them back",
		    k->nrepair);
	if (k->nheld > KERNEL_LOG_FAILURES)
		log_warnx("kernel: %zu routes keep being removed or changed "
		          "by someone else; their repairs wait",
		    k->nheld);
	k->nrepair = k->nheld = 0;
}

static int
kernel_mon_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct kernel *k = arg;

	switch (nlh->nlmsg_type) {
	case RTM_NEWROUTE:
	case RTM_DELROUTE:
		/* the filter drops these; this holds if it did not attach */
		if (nlh->nlmsg_pid != nl_portid(k->req))
			kernel_mon_route(k, nlh->nlmsg_type, nlh);
		break;
	case RTM_NEWLINK:
	case RTM_DELLINK:
		kernel_mon_link(k, nlh);
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		kernel_mon_addr(k, nlh);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

/* someone else changed a route of our protocol */
static void
kernel_mon_route(struct kernel *k, uint16_t type, const struct nlmsghdr *nlh)
{
	struct nl_route r;
	struct kroute *kr;
	struct kform f;
	char err[128];
	uint8_t family, protocol;
	uint32_t table;

	if (nl_route_peek(nlh, &family, &protocol, &table) == -1 ||
	    protocol != k->conf.protocol || table != k->conf.table ||
	    nl_route_is_clone(nlh))
		return;
	if (nl_route_decode(nlh, &r, err, sizeof(err)) == -1) {
		log_warnx("kernel: bad route notification (%s); reading the "
		          "table again",
		    err);
		kernel_resync_later(k, 0);
		return;
	}
	memset(&f, 0, sizeof(f));
	if ((kr = kroute_find(k, &r.dst)) == NULL) {
		if (type == RTM_NEWROUTE && !k->synced) {
			kr = kroute_get(k, &r.dst);
			kroute_set_adopted(k, kr, true);
			kform_from_route(&kr->want, &r);
			kroute_set_inst(k, kr, &kr->want);
		}
		return;
	}
	if (type == RTM_DELROUTE) {
		if (kr->inst.type == KFORM_NONE)
			return;
		/* an IPv6 next hop of several may go alone */
		f.type = r.nnh < kr->inst.nnh ? KFORM_UNKNOWN : KFORM_NONE;
		kroute_set_inst(k, kr, &f);
		if (kr->flags & KR_ADOPTED) {
			kroute_set_adopted(k, kr, false);
			kform_clear(&kr->want);
		}
	} else {
		kform_from_route(&f, &r);
		kroute_set_inst(k, kr, &f);
		kform_clear(&f);
		if (kr->flags & KR_ADOPTED)
			kform_copy(&kr->want, &kr->inst);
	}
	/* a sender of 0 is the kernel itself (a link went), no fight */
	kroute_repair(k, kr, type == RTM_DELROUTE, nlh->nlmsg_pid != 0);
}

/*
 * IPv4 flushes routes through a link going down or away without a word,
 * so the link's going down means reading our routes again, when any of
 * them may use it.  Then the node's callback: a tunnel device may have come
 * or gone.
 */
static void
kernel_mon_link(struct kernel *k, const struct nlmsghdr *nlh)
{
	struct nl_ifinfo li;
	char err[128];
	bool up, was, gone;

	if (nl_ifinfo_decode(nlh, &li, err, sizeof(err)) == -1) {
		log_warnx("kernel: bad link notification: %s", err);
		return;
	}
	gone = nlh->nlmsg_type == RTM_DELLINK;
	up = !gone && (li.flags & IFF_UP);
	was = kernel_links_is_up(&k->links, li.ifindex);
	if (up != was) {
		if (!up && kernel_links_used(&k->links, li.ifindex))
			kernel_resync_later(k, KERNEL_RESYNC_DELAY_MS);
		kernel_links_set_up(&k->links, li.ifindex, up);
		if (up)
			kernel_kick(k);
	}
	if (gone)
		kernel_links_gone(&k->links, li.ifindex);
	if (k->link_cb != NULL)
		k->link_cb(k->link_arg, li.ifindex, li.name, gone);
}

/* global addresses: which links a gateway may be reached through */
static void
kernel_mon_addr(struct kernel *k, const struct nlmsghdr *nlh)
{
	struct nl_ifaddr ia;
	char err[128];

	if (nl_ifaddr_decode(nlh, &ia, err, sizeof(err)) == -1) {
		log_debug("kernel: address notification: %s", err);
		return;
	}
	if (ia.scope == RT_SCOPE_LINK || ia.scope == RT_SCOPE_HOST)
		return;
	if (nlh->nlmsg_type == RTM_DELADDR &&
	    kernel_links_used(&k->links, ia.ifindex))
		kernel_resync_later(k, KERNEL_RESYNC_DELAY_MS);
	kernel_links_addr(&k->links, &ia, nlh->nlmsg_type == RTM_NEWADDR);
}

/* ---- links and addresses ---- */

/* count f's next hops in (delta 1) or out (-1) of the links they name */
static void
kernel_ref_add(struct kernel *k, const struct kform *f, int delta)
{
	unsigned int i;

	for (i = 0; i < f->nnh; i++)
		kernel_links_ref(&k->links, kform_nh(f, i)->ifindex, delta);
}

static int
kernel_links_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kernel *k = arg;
	struct nl_ifinfo li;
	char err[128];

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (nl_ifinfo_decode(nlh, &li, err, sizeof(err)) == -1) {
		log_warnx("kernel: link dump: %s", err);
		return MNL_CB_OK;
	}
	if (li.flags & IFF_UP)
		kernel_links_set_up(&k->links, li.ifindex, true);
	return MNL_CB_OK;
}

static int
kernel_addrs_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct kernel *k = arg;
	struct nl_ifaddr ia;
	char err[128];

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	if (nl_ifaddr_decode(nlh, &ia, err, sizeof(err)) == -1) {
		log_debug("kernel: address dump: %s", err);
		return MNL_CB_OK;
	}
	if (ia.scope != RT_SCOPE_LINK && ia.scope != RT_SCOPE_HOST)
		kernel_links_addr(&k->links, &ia, true);
	return MNL_CB_OK;
}

/* the links that are up and the global addresses, read afresh */
static int
kernel_load_links(struct kernel *k, char *err, size_t errlen)
{
	uint8_t buf[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct ifaddrmsg *ifa;

	kernel_links_reset(&k->links);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (nl_talk(k->req, nlh, kernel_links_cb, k, err, errlen) == -1)
		return -1;
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	return nl_talk(k->req, nlh, kernel_addrs_cb, k, err, errlen);
}

/* ---- API ---- */

struct kernel *
kernel_new(struct event_base *base, const struct kernel_config *conf, char *err,
    size_t errlen)
{
	struct kernel *k;

	k = xcalloc(1, sizeof(*k));
	k->base = base;
	k->conf = *conf;
	if (k->conf.protocol == 0)
		k->conf.protocol = KERNEL_RTPROT_DEFAULT;
	if (k->conf.table == 0)
		k->conf.table = KERNEL_TABLE_MAIN;
	if (k->conf.stale_time <= 0)
		k->conf.stale_time = KERNEL_STALE_TIME;
	k->shape = kernel_default_shape;
	k->tabsize = 1024;
	k->tab = xcalloc(k->tabsize, sizeof(*k->tab));
	TAILQ_INIT(&k->queue);
	TAILQ_INIT(&k->retry);
	if ((k->req = nl_open(0, err, errlen)) == NULL)
		goto fail;
	/* the link group is there for the link callback and IPv4's flushes */
	if ((k->mon = nl_open(RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE |
	             RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR,
	         err, errlen)) == NULL)
		goto fail;
	if (kernel_filter(k) == -1)
		log_warn("kernel: monitor filter (echoes are dropped later)");
	k->batch = nl_batch_new(k->req, kernel_batch_cb, k);
	k->flush_ev = event_new(base, -1, 0, kernel_flush_cb, k);
	k->mon_ev = event_new(
	    base, nl_fd(k->mon), EV_READ | EV_PERSIST, kernel_mon_cb, k);
	k->retry_ev = evtimer_new(base, kernel_retry_cb, k);
	k->resync_ev = evtimer_new(base, kernel_resync_cb, k);
	k->stale_ev = evtimer_new(base, kernel_stale_cb, k);
	if (k->flush_ev == NULL || k->mon_ev == NULL || k->retry_ev == NULL ||
	    k->resync_ev == NULL || k->stale_ev == NULL)
		fatalx("kernel: event_new");

	/* listening first, then reading: nothing falls in between */
	if (kernel_load_links(k, err, errlen) == -1 ||
	    nl_route_dump(k->req, AF_UNSPEC, k->conf.protocol, k->conf.table,
	        kernel_adopt_cb, k, err, errlen) == -1) {
		kernel_free(k);
		return NULL;
	}
	event_add(k->mon_ev, NULL);
	log_info("kernel: table %u protocol %u: adopted %zu routes",
	    k->conf.table, k->conf.protocol, k->nadopted);
	return k;

fail:
	nl_close(k->mon);
	nl_close(k->req);
	free(k->tab);
	free(k);
	return NULL;
}

void
kernel_free(struct kernel *k)
{
	struct kroute *kr, *next;
	size_t i;

	if (k == NULL)
		return;
	/* queued changes are dropped: what is installed stays */
	for (i = 0; i < k->tabsize; i++)
		for (kr = k->tab[i]; kr != NULL; kr = next) {
			next = kr->hnext;
			kform_clear(&kr->want);
			kform_clear(&kr->inst);
			free(kr->bgpmore);
			free(kr);
		}
	event_free(k->flush_ev);
	event_free(k->mon_ev);
	event_free(k->retry_ev);
	event_free(k->resync_ev);
	event_free(k->stale_ev);
	nl_batch_free(k->batch);
	nl_close(k->mon);
	nl_close(k->req);
	free(k->tab);
	free(k->reqs);
	kernel_links_free(&k->links);
	free(k);
}

void
kernel_stale_arm(struct kernel *k)
{
	struct timeval tv = {k->conf.stale_time, 0};

	if (k->synced || k->stale_armed)
		return;
	k->stale_armed = true;
	evtimer_add(k->stale_ev, &tv);
}

void
kernel_set_shaper(struct kernel *k, kernel_shape_fn *fn, void *arg)
{
	k->shape = fn != NULL ? fn : kernel_default_shape;
	k->shape_arg = arg;
}

void
kernel_set_link_cb(struct kernel *k, kernel_link_fn *fn, void *arg)
{
	k->link_cb = fn;
	k->link_arg = arg;
}

void
kernel_update(struct kernel *k, const struct prefix *p, const struct addr *nhs,
    size_t nnh, bool originated)
{
	struct kroute *kr;
	size_t i;

	if (p->a.family != AF_INET && p->a.family != AF_INET6)
		return;
	if (nnh > NL_MAXNH)
		nnh = NL_MAXNH;
	if (nnh == 0 && !originated) {
		if ((kr = kroute_find(k, p)) == NULL)
			return;
	} else
		kr = kroute_get(k, p);
	kr->originated = originated;
	kr->nbgp = (uint8_t)nnh;
	free(kr->bgpmore);
	kr->bgpmore = NULL;
	if (nnh > 0)
		kr->bgp = nhs[0];
	if (nnh > 1) {
		kr->bgpmore =
		    xreallocarray(NULL, nnh - 1, sizeof(*kr->bgpmore));
		for (i = 1; i < nnh; i++)
			kr->bgpmore[i - 1] = nhs[i];
	}
	kroute_learn(k, kr);
}

void
kernel_reshape(struct kernel *k)
{
	struct kroute *kr, *next;
	size_t i;

	for (i = 0; i < k->tabsize; i++)
		for (kr = k->tab[i]; kr != NULL; kr = next) {
			next = kr->hnext;
			/* adopted and not learned again: nothing to shape */
			if ((kr->flags & KR_ADOPTED) && !kr->originated &&
			    kr->nbgp == 0)
				continue;
			kroute_learn(k, kr);
		}
}

void
kernel_synced(struct kernel *k)
{
	struct kroute *kr, *next;
	size_t i, n = 0;

	if (!k->synced)
		evtimer_del(k->stale_ev);
	k->synced = true;
	for (i = 0; i < k->tabsize; i++)
		for (kr = k->tab[i]; kr != NULL; kr = next) {
			next = kr->hnext;
			if (!(kr->flags & KR_ADOPTED))
				continue;
			kroute_set_adopted(k, kr, false);
			kform_clear(&kr->want);
			kroute_check(k, kr);
			n++;
		}
	if (n > 0)
		log_info("kernel: removing %zu stale routes", n);
}

void
kernel_stats_get(const struct kernel *k, struct kernel_stats *st)
{
	*st = k->stats;
	st->routes = k->ninst;
	st->routes6 = k->ninst6;
	st->adopted = k->nadopted;
	st->queued = k->nqueued;
	for (const struct kroute *kr = TAILQ_FIRST(&k->retry); kr != NULL;
	     kr = TAILQ_NEXT(kr, entry))
		st->queued++;
}
