/*
 * The decision process: which of two paths to the same prefix is better.
 * RFC 4271 §9.1.1 degree of preference (LOCAL_PREF) and the §9.1.2.2 tie
 * breaks, with RFC 4456 §9 for reflected routes (ORIGINATOR_ID stands in for
 * the BGP identifier, then the shorter CLUSTER_LIST wins).  Each step is a
 * row of a table so path_cmp_reason can name the one that decided.
 *
 * Not modelled: the IGP cost to the next hop (§9.1.2.2 e; our next hops are
 * directly connected or on-link), and staleness: RFC 4724 keeps stale routes
 * in use as they were, so a stale path is compared like any other.
 *
 * MED (§9.1.2.2 c) is only compared between paths from the same neighbour
 * AS, which makes path_cmp non-transitive; rib.c documents how the path
 * lists live with that.
 */
#include "bgp/rib.h"

#define DEFAULT_LOCALPREF 100

#define CMP_LOW(x, y) ((x) < (y) ? -1 : (x) > (y) ? 1 : 0)
#define CMP_HIGH(x, y) CMP_LOW(y, x)

typedef int (*decision_cmp)(const struct rib_path *, const struct rib_path *);

static uint32_t decision_localpref(const struct rib_path *);
static int decision_lp(const struct rib_path *, const struct rib_path *);
static int decision_local(const struct rib_path *, const struct rib_path *);
static int decision_aspath(const struct rib_path *, const struct rib_path *);
static int decision_origin(const struct rib_path *, const struct rib_path *);
static int decision_med(const struct rib_path *, const struct rib_path *);
static int decision_ebgp(const struct rib_path *, const struct rib_path *);
static int decision_bgpid(const struct rib_path *, const struct rib_path *);
static int decision_cluster(const struct rib_path *, const struct rib_path *);
static int decision_addr(const struct rib_path *, const struct rib_path *);
static int decision_pathid(const struct rib_path *, const struct rib_path *);
static int decision_src(const struct rib_path *, const struct rib_path *);
static int decision_step(
    const struct rib_path *, const struct rib_path *, const char **);

static const struct {
	const char *name;
	decision_cmp cmp;
} decision_steps[] = {
    {"local-pref", decision_lp}, /* §9.1.1 */
    {"local", decision_local}, /* ours first, like OpenBGPD */
    {"as-path", decision_aspath}, /* §9.1.2.2 a */
    {"origin", decision_origin}, /* §9.1.2.2 b */
    {"med", decision_med}, /* §9.1.2.2 c */
    {"ebgp", decision_ebgp}, /* §9.1.2.2 d */
    {"bgp-id", decision_bgpid}, /* §9.1.2.2 f, RFC 4456 §9 */
    {"cluster-list", decision_cluster}, /* RFC 4456 §9 */
    {"peer-address", decision_addr}, /* §9.1.2.2 g */
    {"path-id", decision_pathid}, /* RFC 7911: same peer, many paths */
    {"source", decision_src}, /* keeps the order total */
};

/*
 * §5.1.5: LOCAL_PREF from an external peer is ignored, so an eBGP-learned
 * route gets the default like an iBGP one that lacks the attribute.
 */
static uint32_t
decision_localpref(const struct rib_path *p)
{
	if (p->src->ebgp || !(p->attrs->flags & ATTRF_LOCALPREF))
		return DEFAULT_LOCALPREF;
	return p->attrs->local_pref;
}

static int
decision_lp(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_HIGH(decision_localpref(a), decision_localpref(b));
}

static int
decision_local(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_HIGH(a->src->id == 0, b->src->id == 0);
}

static int
decision_aspath(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_LOW(a->attrs->aspath_count, b->attrs->aspath_count);
}

static int
decision_origin(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_LOW(a->attrs->origin, b->attrs->origin);
}

/* §9.1.2.2 c: a missing MED is the lowest value; other ASes' MEDs don't count
 */
static int
decision_med(const struct rib_path *a, const struct rib_path *b)
{
	uint32_t ma, mb;

	if (aspath_neighbor(a->attrs) != aspath_neighbor(b->attrs))
		return 0;
	ma = a->attrs->flags & ATTRF_MED ? a->attrs->med : 0;
	mb = b->attrs->flags & ATTRF_MED ? b->attrs->med : 0;
	return CMP_LOW(ma, mb);
}

static int
decision_ebgp(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_HIGH(a->src->ebgp, b->src->ebgp);
}

static int
decision_bgpid(const struct rib_path *a, const struct rib_path *b)
{
	uint32_t ia, ib;

	ia = a->attrs->flags & ATTRF_ORIGINATOR_ID ? a->attrs->originator_id
	                                           : a->src->bgpid;
	ib = b->attrs->flags & ATTRF_ORIGINATOR_ID ? b->attrs->originator_id
	                                           : b->src->bgpid;
	return CMP_LOW(ia, ib);
}

static int
decision_cluster(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_LOW(a->attrs->ncluster, b->attrs->ncluster);
}

static int
decision_addr(const struct rib_path *a, const struct rib_path *b)
{
	return addr_cmp(&a->src->addr, &b->src->addr);
}

static int
decision_pathid(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_LOW(a->path_id, b->path_id);
}

static int
decision_src(const struct rib_path *a, const struct rib_path *b)
{
	return CMP_LOW(a->src->id, b->src->id);
}

static int
decision_step(
    const struct rib_path *a, const struct rib_path *b, const char **why)
{
	size_t i;
	int r;

	for (i = 0; i < sizeof(decision_steps) / sizeof(decision_steps[0]);
	     i++) {
		if ((r = decision_steps[i].cmp(a, b)) != 0) {
			*why = decision_steps[i].name;
			return r;
		}
	}
	*why = "equal";
	return 0;
}

/* < 0 if a is better, > 0 if b is, 0 only for the same (src, path_id) */
int
path_cmp(const struct rib_path *a, const struct rib_path *b)
{
	const char *why;

	return decision_step(a, b, &why);
}

/* the name of the step that decides between a and b, "equal" if none */
const char *
path_cmp_reason(const struct rib_path *a, const struct rib_path *b)
{
	const char *why;

	decision_step(a, b, &why);
	return why;
}
