/*
 * UPDATE messages: decoding with RFC 7606 error handling, and packing
 * prefixes into UPDATEs for sending.
 *
 * RFC 4271 §4.3 (layout), §5 and §6.3 (attributes and their errors),
 * RFC 4760 (MP_REACH_NLRI/MP_UNREACH_NLRI), RFC 7911 (path identifiers),
 * RFC 6793 §4.2.3 (AS4_PATH/AS4_AGGREGATOR from 2-octet peers), RFC 4724 §2
 * (End-of-RIB), RFC 7606 (which error resets the session, which treats the
 * routes as withdrawn and which only discards the attribute).
 *
 * The body is carved into its three sections before anything is read
 * (withdrawn routes, path attributes, NLRI), then each is walked with a
 * bounded reader.  Every attribute has a row in upd_attrs[] saying the flags
 * it must carry and what RFC 7606 §7 does when it is malformed; the row's
 * parser only decides whether the value is good.  When several attributes
 * are bad the strongest action wins (RFC 7606 §3 (j)).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/wire.h"
#include "lib/log.h"
#include "lib/xmalloc.h"

/* RFC 7606 §2 approaches, weakest first */
enum upd_act {
	ACT_OK,
	ACT_DISCARD,
	ACT_WITHDRAW,
	ACT_RESET,
};

struct upd_state;

struct upd_attr {
	const char *name;
	uint8_t flags; /* required Optional and Transitive bits */
	enum upd_act malformed; /* RFC 7606 §7 */
	enum bgp_error code;
	bool ibgp_only; /* from an external peer: attribute discard */
	enum upd_act (*parse)(struct upd_state *, struct ibuf *);
};

struct upd_nlri_list {
	struct nlri **v;
	size_t *n;
	size_t cap;
};

struct upd_state {
	const struct update_ctx *ctx;
	struct update *u;
	const struct upd_attr *def; /* the attribute being parsed */
	enum bgp_error why_code;
	char why[sizeof(((struct bgp_err *)0)->reason)];
	struct upd_nlri_list wd, ann;
	size_t nclassic; /* NLRI in the classic field */
	bool mp_nlri; /* MP_REACH_NLRI announced something */
	bool mp_unreach_empty;
	enum aid mp_unreach_aid;
	unsigned int nattrs;
	uint8_t seen[32]; /* bitmap of attribute types */
	struct addr nh4, mp_nh4;
	uint8_t *as4path;
	uint16_t as4path_len;
	bool as4aggr;
	uint32_t as4aggr_as, as4aggr_id;
};

#define WK ATTR_TRANSITIVE
#define OPT_T (ATTR_OPTIONAL | ATTR_TRANSITIVE)
#define OPT_NT ATTR_OPTIONAL

static enum upd_act upd_origin(struct upd_state *, struct ibuf *);
static enum upd_act upd_aspath(struct upd_state *, struct ibuf *);
static enum upd_act upd_nexthop(struct upd_state *, struct ibuf *);
static enum upd_act upd_med(struct upd_state *, struct ibuf *);
static enum upd_act upd_localpref(struct upd_state *, struct ibuf *);
static enum upd_act upd_atomic(struct upd_state *, struct ibuf *);
static enum upd_act upd_aggregator(struct upd_state *, struct ibuf *);
static enum upd_act upd_communities(struct upd_state *, struct ibuf *);
static enum upd_act upd_originator(struct upd_state *, struct ibuf *);
static enum upd_act upd_cluster(struct upd_state *, struct ibuf *);
static enum upd_act upd_mp_reach(struct upd_state *, struct ibuf *);
static enum upd_act upd_mp_unreach(struct upd_state *, struct ibuf *);
static enum upd_act upd_extcomm(struct upd_state *, struct ibuf *);
static enum upd_act upd_as4path(struct upd_state *, struct ibuf *);
static enum upd_act upd_as4aggr(struct upd_state *, struct ibuf *);
static enum upd_act upd_large(struct upd_state *, struct ibuf *);

static const struct upd_attr upd_attrs[256] = {
    [ATTR_ORIGIN] = {"ORIGIN", WK, ACT_WITHDRAW, ERR_UPD_ORIGIN, false,
        upd_origin},
    [ATTR_ASPATH] = {"AS_PATH", WK, ACT_WITHDRAW, ERR_UPD_ASPATH, false,
        upd_aspath},
    [ATTR_NEXTHOP] = {"NEXT_HOP", WK, ACT_WITHDRAW, ERR_UPD_NEXTHOP, false,
        upd_nexthop},
    [ATTR_MED] = {"MULTI_EXIT_DISC", OPT_NT, ACT_WITHDRAW, ERR_UPD_ATTRLEN,
        false, upd_med},
    [ATTR_LOCALPREF] = {"LOCAL_PREF", WK, ACT_WITHDRAW, ERR_UPD_ATTRLEN, true,
        upd_localpref},
    [ATTR_ATOMIC_AGGR] = {"ATOMIC_AGGREGATE", WK, ACT_DISCARD, ERR_UPD_ATTRLEN,
        false, upd_atomic},
    [ATTR_AGGREGATOR] = {"AGGREGATOR", OPT_T, ACT_DISCARD, ERR_UPD_ATTRLEN,
        false, upd_aggregator},
    [ATTR_COMMUNITIES] = {"COMMUNITIES", OPT_T, ACT_WITHDRAW, ERR_UPD_OPTATTR,
        false, upd_communities},
    [ATTR_ORIGINATOR_ID] = {"ORIGINATOR_ID", OPT_NT, ACT_WITHDRAW,
        ERR_UPD_ATTRLEN, true, upd_originator},
    [ATTR_CLUSTER_LIST] = {"CLUSTER_LIST", OPT_NT, ACT_WITHDRAW,
        ERR_UPD_ATTRLEN, true, upd_cluster},
    [ATTR_MP_REACH] = {"MP_REACH_NLRI", OPT_NT, ACT_RESET, ERR_UPD_OPTATTR,
        false, upd_mp_reach},
    [ATTR_MP_UNREACH] = {"MP_UNREACH_NLRI", OPT_NT, ACT_RESET, ERR_UPD_OPTATTR,
        false, upd_mp_unreach},
    [ATTR_EXT_COMMUNITIES] = {"EXTENDED_COMMUNITIES", OPT_T, ACT_WITHDRAW,
        ERR_UPD_OPTATTR, false, upd_extcomm},
    [ATTR_AS4_PATH] = {"AS4_PATH", OPT_T, ACT_DISCARD, ERR_UPD_OPTATTR, false,
        upd_as4path},
    [ATTR_AS4_AGGREGATOR] = {"AS4_AGGREGATOR", OPT_T, ACT_DISCARD,
        ERR_UPD_OPTATTR, false, upd_as4aggr},
    [ATTR_LARGE_COMMUNITIES] = {"LARGE_COMMUNITY", OPT_T, ACT_WITHDRAW,
        ERR_UPD_OPTATTR, false, upd_large},
};

static enum upd_act upd_bad(struct upd_state *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static enum upd_act upd_fail(struct upd_state *, enum upd_act, enum bgp_error,
    const char *, ...) __attribute__((format(printf, 4, 5)));
static int upd_nlri(
    struct ibuf *, enum aid, bool, struct upd_nlri_list *, const char **);
static int upd_attributes(struct upd_state *, struct ibuf *, struct bgp_err *);
static int upd_apply(
    struct upd_state *, enum upd_act, const void *, size_t, struct bgp_err *);
static int upd_aspath_read(struct upd_state *, struct ibuf *, bool, bool,
    uint8_t **, uint16_t *, uint16_t *);
static void upd_as4_merge(struct upd_state *);
static void upd_others_add(
    struct attrs *, uint8_t, uint8_t, const struct ibuf *);
static void upd_finish(struct upd_state *);
static bool upd_nh4_bad(const struct addr *);
static bool upd_seen(const struct upd_state *, uint8_t);
static size_t upd_put_nlri(
    struct ibuf *, size_t, bool, const struct nlri *, size_t);

static bool
upd_seen(const struct upd_state *st, uint8_t type)
{
	return st->seen[type / 8] & (1 << (type % 8));
}

static enum upd_act
upd_vfail(struct upd_state *st, enum upd_act act, enum bgp_error code,
    const char *fmt, va_list ap)
{
	st->why_code = code;
	vsnprintf(st->why, sizeof(st->why), fmt, ap);
	return act;
}

/* the current attribute is malformed: its row says what to do */
static enum upd_act
upd_bad(struct upd_state *st, const char *fmt, ...)
{
	va_list ap;
	enum upd_act act;

	va_start(ap, fmt);
	act = upd_vfail(st, st->def->malformed, st->def->code, fmt, ap);
	va_end(ap);
	return act;
}

static enum upd_act
upd_fail(struct upd_state *st, enum upd_act act, enum bgp_error code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	act = upd_vfail(st, act, code, fmt, ap);
	va_end(ap);
	return act;
}

/*
 * Prefixes: RFC 4271 §4.3 length(1) prefix(ceil(length / 8)), preceded by a
 * 4-octet path identifier under ADD-PATH (RFC 7911 §3).  Host bits beyond
 * the length are cleared rather than refused: being strict here would
 * reset the session (RFC 7606 §5.3) over something harmless.
 */
static int
upd_nlri(struct ibuf *b, enum aid aid, bool addpath, struct upd_nlri_list *l,
    const char **why)
{
	int family = aid_family(aid), maxlen = addr_maxlen(family);
	struct nlri *x;
	uint32_t pid = 0;
	uint8_t plen, mask;
	char pbuf[PREFIX_STRLEN];

	while (ibuf_size(b) > 0) {
		if (addpath && ibuf_get_n32(b, &pid) == -1) {
			*why = "truncated path identifier";
			return -1;
		}
		if (ibuf_get_n8(b, &plen) == -1) {
			*why = "missing prefix length";
			return -1;
		}
		if (plen > maxlen) {
			*why = "prefix length too long";
			return -1;
		}
		if (*l->n == l->cap) {
			l->cap = l->cap ? l->cap * 2 : 64;
			*l->v = xreallocarray(*l->v, l->cap, sizeof(**l->v));
		}
		x = &(*l->v)[*l->n];
		memset(x, 0, sizeof(*x));
		x->p.a.family = family;
		x->p.len = plen;
		x->path_id = pid;
		if (ibuf_get(b, x->p.a.b, (plen + 7) / 8) == -1) {
			*why = "prefix overruns its field";
			return -1;
		}
		mask = plen % 8 ? 0xff >> (plen % 8) : 0;
		if (mask && (x->p.a.b[plen / 8] & mask)) {
			x->p.a.b[plen / 8] &= ~mask;
			if (log_enabled(LOG_LVL_DEBUG))
				log_debug("UPDATE: host bits cleared in %s",
				    prefix_ntop(&x->p, pbuf, sizeof(pbuf)));
		}
		(*l->n)++;
	}
	return 0;
}

/* ORIGIN, RFC 7606 §7.1 */
static enum upd_act
upd_origin(struct upd_state *st, struct ibuf *b)
{
	uint8_t v;

	if (ibuf_size(b) != 1)
		return upd_bad(st, "ORIGIN length %zu", ibuf_size(b));
	ibuf_get_n8(b, &v);
	if (v > ORIGIN_INCOMPLETE)
		return upd_bad(st, "ORIGIN value %u", v);
	st->u->attrs.origin = v;
	st->u->attrs.flags |= ATTRF_ORIGIN;
	return ACT_OK;
}

/*
 * AS_PATH or AS4_PATH into the 4-octet form of struct attrs.  RFC 7606 §7.2:
 * a segment is malformed if its length is zero, it overruns the attribute,
 * a lone octet is left over, or its type is unknown.  Confederation
 * segments from an external peer are malformed too (RFC 7606 §7.2, RFC 5065
 * §5): we are not in a confederation.  Two passes: validate and size, then
 * convert.
 */
static int
upd_aspath_read(struct upd_state *st, struct ibuf *b, bool as4, bool ebgp,
    uint8_t **out, uint16_t *outlen, uint16_t *count)
{
	struct ibuf w;
	size_t asz = as4 ? 4 : 2, len = 0, n = 0, o, i;
	uint8_t type, cnt, *p;
	uint16_t as2;
	uint32_t as;

	ibuf_from_ibuf(&w, b);
	while (ibuf_size(&w) > 0) {
		if (ibuf_get_n8(&w, &type) == -1 ||
		    ibuf_get_n8(&w, &cnt) == -1) {
			upd_bad(
			    st, "%s: truncated segment header", st->def->name);
			return -1;
		}
		if (type < AS_SET || type > AS_CONFED_SET) {
			upd_bad(st, "%s: segment type %u", st->def->name, type);
			return -1;
		}
		if (cnt == 0) {
			upd_bad(st, "%s: empty segment", st->def->name);
			return -1;
		}
		if (ebgp && type >= AS_CONFED_SEQUENCE) {
			upd_bad(st,
			    "%s: confederation segment from an "
			    "external peer",
			    st->def->name);
			return -1;
		}
		if (ibuf_skip(&w, cnt * asz) == -1) {
			upd_bad(st, "%s: segment overruns the attribute",
			    st->def->name);
			return -1;
		}
		len += 2 + cnt * 4;
		n += type == AS_SEQUENCE ? cnt : type == AS_SET ? 1 : 0;
	}
	if (len > UINT16_MAX || n > UINT16_MAX) {
		upd_bad(st, "%s: too long", st->def->name);
		return -1;
	}
	p = len ? xmalloc(len) : NULL;
	for (o = 0; ibuf_size(b) > 0;) {
		ibuf_get_n8(b, &type);
		ibuf_get_n8(b, &cnt);
		p[o++] = type;
		p[o++] = cnt;
		for (i = 0; i < cnt; i++) {
			if (as4)
				ibuf_get_n32(b, &as);
			else {
				ibuf_get_n16(b, &as2);
				as = as2;
			}
			p[o++] = as >> 24;
			p[o++] = as >> 16;
			p[o++] = as >> 8;
			p[o++] = as;
		}
	}
	*out = p;
	*outlen = len;
	*count = n;
	return 0;
}

static enum upd_act
upd_aspath(struct upd_state *st, struct ibuf *b)
{
	struct attrs *a = &st->u->attrs;

	if (upd_aspath_read(st, b, st->ctx->as4, st->ctx->ebgp, &a->aspath,
	        &a->aspath_len, &a->aspath_count) == -1)
		return st->def->malformed;
	a->flags |= ATTRF_ASPATH;
	return ACT_OK;
}

/* not a host address: RFC 4271 §6.3, RFC 7606 §7.3 */
static bool
upd_nh4_bad(const struct addr *a)
{
	uint32_t v = addr_v4(a);

	return v == 0 || v == 0xffffffff || (v >> 28) == 0xe;
}

/*
 * NEXT_HOP, RFC 7606 §7.3.  An UPDATE whose only NLRI are in MP_REACH_NLRI
 * should not carry it and we ignore it there (RFC 4760 §3), so a bad one is
 * only discarded then.
 */
static enum upd_act
upd_nexthop(struct upd_state *st, struct ibuf *b)
{
	enum upd_act act = st->nclassic ? ACT_WITHDRAW : ACT_DISCARD;
	struct addr a;

	memset(&a, 0, sizeof(a));
	if (ibuf_size(b) != 4)
		return upd_fail(st, act, ERR_UPD_ATTRLEN, "NEXT_HOP length %zu",
		    ibuf_size(b));
	a.family = AF_INET;
	ibuf_get(b, &a.v4, 4);
	if (upd_nh4_bad(&a)) {
		char buf[ADDR_STRLEN];
		return upd_fail(st, act, ERR_UPD_NEXTHOP, "NEXT_HOP %s",
		    addr_ntop(&a, buf, sizeof(buf)));
	}
	st->nh4 = a;
	return ACT_OK;
}

static enum upd_act
upd_med(struct upd_state *st, struct ibuf *b)
{
	if (ibuf_size(b) != 4)
		return upd_bad(st, "MULTI_EXIT_DISC length %zu", ibuf_size(b));
	ibuf_get_n32(b, &st->u->attrs.med);
	st->u->attrs.flags |= ATTRF_MED;
	return ACT_OK;
}

static enum upd_act
upd_localpref(struct upd_state *st, struct ibuf *b)
{
	if (ibuf_size(b) != 4)
		return upd_bad(st, "LOCAL_PREF length %zu", ibuf_size(b));
	ibuf_get_n32(b, &st->u->attrs.local_pref);
	st->u->attrs.flags |= ATTRF_LOCALPREF;
	return ACT_OK;
}

static enum upd_act
upd_atomic(struct upd_state *st, struct ibuf *b)
{
	if (ibuf_size(b) != 0)
		return upd_bad(st, "ATOMIC_AGGREGATE length %zu", ibuf_size(b));
	st->u->attrs.flags |= ATTRF_ATOMIC_AGGR;
	return ACT_OK;
}

/* RFC 7606 §7.7: 6 octets from a 2-octet speaker, 8 from a 4-octet one */
static enum upd_act
upd_aggregator(struct upd_state *st, struct ibuf *b)
{
	struct attrs *a = &st->u->attrs;
	uint16_t as2;

	if (ibuf_size(b) != (st->ctx->as4 ? 8u : 6u))
		return upd_bad(st, "AGGREGATOR length %zu", ibuf_size(b));
	if (st->ctx->as4)
		ibuf_get_n32(b, &a->aggr_as);
	else {
		ibuf_get_n16(b, &as2);
		a->aggr_as = as2;
	}
	ibuf_get_n32(b, &a->aggr_id);
	a->flags |= ATTRF_AGGREGATOR;
	return ACT_OK;
}

/* a non-zero multiple of size octets, as 32-bit words */
static int
upd_words(struct ibuf *b, size_t size, uint32_t **v, uint16_t *n)
{
	size_t i, cnt = ibuf_size(b) / 4;

	if (ibuf_size(b) == 0 || ibuf_size(b) % size != 0)
		return -1;
	*v = xreallocarray(NULL, cnt, sizeof(**v));
	for (i = 0; i < cnt; i++)
		ibuf_get_n32(b, &(*v)[i]);
	*n = cnt * 4 / size;
	return 0;
}

/* RFC 7606 §7.8 */
static enum upd_act
upd_communities(struct upd_state *st, struct ibuf *b)
{
	struct attrs *a = &st->u->attrs;

	if (upd_words(b, 4, &a->communities, &a->ncommunities) == -1)
		return upd_bad(st, "COMMUNITIES length %zu", ibuf_size(b));
	return ACT_OK;
}

/* RFC 7606 §7.9 */
static enum upd_act
upd_originator(struct upd_state *st, struct ibuf *b)
{
	if (ibuf_size(b) != 4)
		return upd_bad(st, "ORIGINATOR_ID length %zu", ibuf_size(b));
	ibuf_get_n32(b, &st->u->attrs.originator_id);
	st->u->attrs.flags |= ATTRF_ORIGINATOR_ID;
	return ACT_OK;
}

/* RFC 7606 §7.10 */
static enum upd_act
upd_cluster(struct upd_state *st, struct ibuf *b)
{
	struct attrs *a = &st->u->attrs;

	if (upd_words(b, 4, &a->cluster_list, &a->ncluster) == -1)
		return upd_bad(st, "CLUSTER_LIST length %zu", ibuf_size(b));
	return ACT_OK;
}

/* RFC 8092 §6 */
static enum upd_act
upd_large(struct upd_state *st, struct ibuf *b)
{
	struct attrs *a = &st->u->attrs;

	if (upd_words(b, 12, &a->large, &a->nlarge) == -1)
		return upd_bad(st, "LARGE_COMMUNITY length %zu", ibuf_size(b));
	return ACT_OK;
}

/* RFC 7606 §7.14: carried verbatim, never interpreted */
static enum upd_act
upd_extcomm(struct upd_state *st, struct ibuf *b)
{
	if (ibuf_size(b) == 0 || ibuf_size(b) % 8 != 0)
		return upd_bad(
		    st, "EXTENDED_COMMUNITIES length %zu", ibuf_size(b));
	upd_others_add(&st->u->attrs, OPT_T, ATTR_EXT_COMMUNITIES, b);
	return ACT_OK;
}

/*
 * AS4_PATH and AS4_AGGREGATOR, RFC 6793 §6: malformed ones are discarded,
 * and a 4-octet peer has no business sending them, so they are ignored.
 */
static enum upd_act
upd_as4path(struct upd_state *st, struct ibuf *b)
{
	uint16_t count;

	if (st->ctx->as4)
		return upd_fail(st, ACT_DISCARD, ERR_UPD_OPTATTR,
		    "AS4_PATH from a 4-octet AS peer");
	if (ibuf_size(b) < 6 || ibuf_size(b) % 2 != 0)
		return upd_bad(st, "AS4_PATH length %zu", ibuf_size(b));
	if (upd_aspath_read(st, b, true, false, &st->as4path, &st->as4path_len,
	        &count) == -1)
		return st->def->malformed;
	return ACT_OK;
}

static enum upd_act
upd_as4aggr(struct upd_state *st, struct ibuf *b)
{
	if (st->ctx->as4)
		return upd_fail(st, ACT_DISCARD, ERR_UPD_OPTATTR,
		    "AS4_AGGREGATOR from a 4-octet AS peer");
	if (ibuf_size(b) != 8)
		return upd_bad(st, "AS4_AGGREGATOR length %zu", ibuf_size(b));
	ibuf_get_n32(b, &st->as4aggr_as);
	ibuf_get_n32(b, &st->as4aggr_id);
	st->as4aggr = true;
	return ACT_OK;
}

/*
 * MP_REACH_NLRI, RFC 4760 §3 and RFC 7606 §7.11: anything we cannot parse
 * resets the session; a next hop that is no host address is treated like a
 * bad NEXT_HOP.  IPv6 next hops are 16 octets (global) or 32 (global and
 * link-local, RFC 2545 §3); a link-local address alone, or after an
 * all-zero global one, is accepted as the next hop too, as some speakers
 * send on a shared link.  Families we do not know are skipped whole.
 */
static enum upd_act
upd_mp_reach(struct upd_state *st, struct ibuf *b)
{
	struct ibuf nhb;
	struct addr nh, ll;
	uint16_t afi;
	uint8_t safi, nhlen;
	enum aid aid;
	size_t before = *st->ann.n;
	const char *why;
	char buf[ADDR_STRLEN];

	if (ibuf_get_n16(b, &afi) == -1 || ibuf_get_n8(b, &safi) == -1 ||
	    ibuf_get_n8(b, &nhlen) == -1 ||
	    ibuf_get_ibuf(b, nhlen, &nhb) == -1 || ibuf_skip(b, 1) == -1)
		return upd_bad(st, "MP_REACH_NLRI truncated");
	if (aid_from_afi(afi, safi, &aid) == -1) {
		log_debug("UPDATE: MP_REACH_NLRI for AFI %u SAFI %u ignored",
		    afi, safi);
		return ACT_OK;
	}
	memset(&nh, 0, sizeof(nh));
	memset(&ll, 0, sizeof(ll));
	nh.family = aid_family(aid);
	if (aid == AID_IPV4 && nhlen == 4)
		ibuf_get(&nhb, &nh.v4, 4);
	else if (aid == AID_IPV6 && (nhlen == 16 || nhlen == 32)) {
		ibuf_get(&nhb, &nh.v6, 16);
		if (nhlen == 32) {
			ll.family = AF_INET6;
			ibuf_get(&nhb, &ll.v6, 16);
			if (!addr_is_linklocal(&ll))
				memset(&ll, 0, sizeof(ll));
		}
		if (addr_is_linklocal(&nh) && !addr_is_set(&ll))
			ll = nh;
		else if (!addr_is_set(&nh) && addr_is_set(&ll))
			nh = ll;
	} else
		return upd_bad(st, "MP_REACH_NLRI %s next hop length %u",
		    aid_name(aid), nhlen);
	if (upd_nlri(b, aid, st->ctx->addpath[aid], &st->ann, &why) == -1)
		return upd_bad(st, "MP_REACH_NLRI %s: %s", aid_name(aid), why);
	if (*st->ann.n > before)
		st->mp_nlri = true;
	if (aid == AID_IPV4) {
		if (upd_nh4_bad(&nh))
			return upd_fail(st, ACT_WITHDRAW, ERR_UPD_NEXTHOP,
			    "MP_REACH_NLRI next hop %s",
			    addr_ntop(&nh, buf, sizeof(buf)));
		st->mp_nh4 = nh;
		return ACT_OK;
	}
	if (!addr_is_set(&nh) || IN6_IS_ADDR_MULTICAST(&nh.v6))
		return upd_fail(st, ACT_WITHDRAW, ERR_UPD_NEXTHOP,
		    "MP_REACH_NLRI next hop %s",
		    addr_ntop(&nh, buf, sizeof(buf)));
	st->u->nexthop[aid] = nh;
	st->u->nexthop_ll[aid] = ll;
	return ACT_OK;
}

/* MP_UNREACH_NLRI, RFC 4760 §4; with no NLRI it may be End-of-RIB */
static enum upd_act
upd_mp_unreach(struct upd_state *st, struct ibuf *b)
{
	uint16_t afi;
	uint8_t safi;
	enum aid aid;
	const char *why;

	if (ibuf_get_n16(b, &afi) == -1 || ibuf_get_n8(b, &safi) == -1)
		return upd_bad(st, "MP_UNREACH_NLRI truncated");
	if (aid_from_afi(afi, safi, &aid) == -1) {
		log_debug("UPDATE: MP_UNREACH_NLRI for AFI %u SAFI %u ignored",
		    afi, safi);
		return ACT_OK;
	}
	st->mp_unreach_aid = aid;
	st->mp_unreach_empty = ibuf_size(b) == 0;
	if (upd_nlri(b, aid, st->ctx->addpath[aid], &st->wd, &why) == -1)
		return upd_bad(
		    st, "MP_UNREACH_NLRI %s: %s", aid_name(aid), why);
	return ACT_OK;
}

/*
 * `others` holds flags(1) type(1) length(2) value, sorted by type so that
 * encoding stays in ascending order and equal sets compare equal.
 */
static void
upd_others_add(
    struct attrs *a, uint8_t flags, uint8_t type, const struct ibuf *val)
{
	size_t off = 0, len = ibuf_size(val), add = 4 + len;
	uint16_t vlen;

	if (a->others_len + add > UINT16_MAX) {
		log_debug("UPDATE: no room to keep attribute %u", type);
		return;
	}
	while (off + 4 <= a->others_len && a->others[off + 1] < type) {
		vlen = a->others[off + 2] << 8 | a->others[off + 3];
		off += 4 + vlen;
	}
	a->others = xrealloc(a->others, a->others_len + add);
	memmove(a->others + off + add, a->others + off, a->others_len - off);
	a->others[off] = flags & ~ATTR_EXTLEN;
	a->others[off + 1] = type;
	a->others[off + 2] = len >> 8;
	a->others[off + 3] = len & 0xff;
	if (len > 0)
		memcpy(a->others + off + 4, ibuf_data(val), len);
	a->others_len += add;
}

/*
 * Records an outcome.  attr/attrlen are the whole attribute, the data of a
 * NOTIFICATION for it (RFC 4271 §6.3).  Returns -1 on session reset.
 */
static int
upd_apply(struct upd_state *st, enum upd_act act, const void *attr,
    size_t attrlen, struct bgp_err *err)
{
	switch (act) {
	case ACT_OK:
		break;
	case ACT_DISCARD:
		st->u->discarded++;
		log_debug(
		    "UPDATE: attribute discarded (RFC 7606): %s", st->why);
		break;
	case ACT_WITHDRAW:
		if (!st->u->treat_as_withdraw) {
			st->u->treat_as_withdraw = true;
			err_set(&st->u->tw_err, st->why_code, NULL, 0, "%s",
			    st->why);
		}
		break;
	case ACT_RESET:
		err_set(err, st->why_code, attr, attrlen, "%s", st->why);
		return -1;
	}
	return 0;
}

/* the path attributes section, RFC 4271 §4.3 and RFC 7606 §3 and §4 */
static int
upd_attributes(struct upd_state *st, struct ibuf *ab, struct bgp_err *err)
{
	const struct upd_attr *def;
	struct ibuf val;
	const uint8_t *start;
	uint8_t flags, type, len8;
	uint16_t len;
	enum upd_act act;
	size_t hdr;

	while (ibuf_size(ab) > 0) {
		start = ibuf_data(ab);
		if (ibuf_get_n8(ab, &flags) == -1 ||
		    ibuf_get_n8(ab, &type) == -1)
			goto overrun;
		if (flags & ATTR_EXTLEN) {
			if (ibuf_get_n16(ab, &len) == -1)
				goto overrun;
			hdr = 4;
		} else {
			if (ibuf_get_n8(ab, &len8) == -1)
				goto overrun;
			len = len8;
			hdr = 3;
		}
		if (ibuf_get_ibuf(ab, len, &val) == -1)
			goto overrun;
		st->nattrs++;
		def = &upd_attrs[type];
		st->def = def;

		/* RFC 7606 §3 (g): only MP attributes may not repeat */
		if (upd_seen(st, type)) {
			if (type == ATTR_MP_REACH || type == ATTR_MP_UNREACH) {
				upd_fail(st, ACT_RESET, ERR_UPD_ATTRLIST,
				    "%s appears twice", def->name);
				return upd_apply(st, ACT_RESET, NULL, 0, err);
			}
			upd_fail(st, ACT_DISCARD, ERR_UPD_ATTRLIST,
			    "attribute %u appears twice", type);
			upd_apply(st, ACT_DISCARD, NULL, 0, err);
			continue;
		}
		st->seen[type / 8] |= 1 << (type % 8);

		if (def->parse == NULL) {
			/* RFC 4271 §6.3: unknown well-known is fatal */
			if (!(flags & ATTR_OPTIONAL)) {
				upd_fail(st, ACT_RESET, ERR_UPD_UNKNOWN_WK,
				    "unrecognized well-known attribute %u",
				    type);
				return upd_apply(
				    st, ACT_RESET, start, hdr + len, err);
			}
			/* RFC 4271 §5: pass transitive ones on, Partial */
			if (flags & ATTR_TRANSITIVE)
				upd_others_add(&st->u->attrs,
				    flags | ATTR_PARTIAL, type, &val);
			continue;
		}
		if (def->ibgp_only && st->ctx->ebgp) {
			upd_fail(st, ACT_DISCARD, def->code,
			    "%s from an external peer", def->name);
			upd_apply(st, ACT_DISCARD, NULL, 0, err);
			continue;
		}
		/* RFC 7606 §3 (c): wrong flags make the attribute malformed */
		if ((flags & (ATTR_OPTIONAL | ATTR_TRANSITIVE)) != def->flags) {
			act = def->malformed;
			if (type == ATTR_NEXTHOP && st->nclassic == 0)
				act = ACT_DISCARD;
			upd_fail(st, act, ERR_UPD_ATTRFLAGS, "%s flags 0x%02x",
			    def->name, flags);
		} else
			act = def->parse(st, &val);
		if (upd_apply(st, act, start, hdr + len, err) == -1)
			return -1;
	}
	return 0;

overrun:
	/*
	 * RFC 7606 §4: the attribute lengths disagree with the section, so
	 * the rest cannot be read.  Treat-as-withdraw relies on having found
	 * every NLRI; if there are none in the classic field and no
	 * MP_REACH_NLRI has been seen, one may be hidden past the error and
	 * withdrawing "nothing" would be wrong: RFC 7606 §5 says fall back to
	 * session reset then.
	 */
	if (st->nclassic == 0 && !upd_seen(st, ATTR_MP_REACH)) {
		upd_fail(st, ACT_RESET, ERR_UPD_ATTRLIST,
		    "attribute overruns the attribute section");
		return upd_apply(st, ACT_RESET, NULL, 0, err);
	}
	upd_fail(st, ACT_WITHDRAW, ERR_UPD_ATTRLEN,
	    "attribute overruns the attribute section");
	return upd_apply(st, ACT_WITHDRAW, NULL, 0, err);
}

/*
 * RFC 6793 §4.2.3: rebuild the path of a 2-octet peer from AS_PATH and
 * AS4_PATH.  AS4_AGGREGATOR replaces an AGGREGATOR of AS_TRANS; an
 * AGGREGATOR of any other AS means an old speaker aggregated and both AS4
 * attributes are stale.  Otherwise the leading ASes of AS_PATH that
 * AS4_PATH lacks (counted as for path length) are put in front of it.
 */
static void
upd_as4_merge(struct upd_state *st)
{
	struct attrs *a = &st->u->attrs;
	size_t off, o = 0, need, n2 = a->aspath_count, n4 = 0, take;
	uint8_t *p, type, cnt, *last = NULL;

	if (st->as4aggr && (a->flags & ATTRF_AGGREGATOR)) {
		if (a->aggr_as != AS_TRANS)
			return;
		a->aggr_as = st->as4aggr_as;
		a->aggr_id = st->as4aggr_id;
	}
	if ((a->flags & ATTRF_AGGREGATOR) && a->aggr_as == AS_TRANS &&
	    !st->as4aggr)
		log_debug("UPDATE: AGGREGATOR AS_TRANS, no AS4_AGGREGATOR");
	if (st->as4path == NULL || !(a->flags & ATTRF_ASPATH))
		return;
	for (off = 0; off < st->as4path_len; off += 2 + cnt * 4) {
		type = st->as4path[off];
		cnt = st->as4path[off + 1];
		n4 += type == AS_SEQUENCE ? cnt : type == AS_SET ? 1 : 0;
	}
	if (n2 < n4) {
		log_debug("UPDATE: AS4_PATH longer than AS_PATH, ignored");
		return;
	}
	need = n2 - n4;
	p = xmalloc(a->aspath_len + st->as4path_len);
	for (off = 0; off < a->aspath_len; off += 2 + cnt * 4) {
		type = a->aspath[off];
		cnt = a->aspath[off + 1];
		if (type == AS_CONFED_SEQUENCE || type == AS_CONFED_SET)
			take = cnt;
		else if (need == 0)
			break;
		else if (type == AS_SET) {
			take = cnt;
			need--;
		} else {
			take = cnt < need ? cnt : need;
			need -= take;
		}
		last = p + o;
		p[o++] = type;
		p[o++] = take;
		memcpy(p + o, a->aspath + off + 2, take * 4);
		o += take * 4;
	}
	/* confederation segments have no place in AS4_PATH (RFC 6793 §3) */
	for (off = 0; off < st->as4path_len; off += 2 + cnt * 4) {
		type = st->as4path[off];
		cnt = st->as4path[off + 1];
		if (type == AS_CONFED_SEQUENCE || type == AS_CONFED_SET)
			continue;
		if (last != NULL && type == AS_SEQUENCE &&
		    last[0] == AS_SEQUENCE && last[1] + cnt <= 255) {
			/* keep one segment where the two paths meet */
			last[1] += cnt;
		} else {
			last = p + o;
			p[o++] = type;
			p[o++] = cnt;
		}
		memcpy(p + o, st->as4path + off + 2, cnt * 4);
		o += cnt * 4;
		last = last[0] == AS_SEQUENCE ? last : NULL;
	}
	if (o > UINT16_MAX) {
		/* AS_SETs in AS4_PATH can make the merge longer than both */
		log_debug("UPDATE: merged AS4_PATH too long, ignored");
		free(p);
		return;
	}
	free(a->aspath);
	a->aspath = p;
	a->aspath_len = o;
	/* the path length is the AS_PATH's by construction */
}

/* what can only be judged once every attribute has been read */
static void
upd_finish(struct upd_state *st)
{
	struct update *u = st->u;
	const char *missing = NULL;

	if (!st->ctx->as4)
		upd_as4_merge(st);
	free(st->as4path);
	st->as4path = NULL;

	/* the classic NLRI use NEXT_HOP; MP_REACH has its own (RFC 4760) */
	if (st->nclassic > 0 || st->mp_nh4.family == 0)
		u->nexthop[AID_IPV4] = st->nh4;
	else
		u->nexthop[AID_IPV4] = st->mp_nh4;

	/* RFC 7606 §3 (d); LOCAL_PREF is not checked (§3 (d) again) */
	if (st->nclassic > 0 || st->mp_nlri) {
		if (!(u->attrs.flags & ATTRF_ORIGIN))
			missing = "ORIGIN";
		else if (!(u->attrs.flags & ATTRF_ASPATH))
			missing = "AS_PATH";
		else if (st->nclassic > 0 && st->nh4.family == 0)
			missing = "NEXT_HOP";
	}
	if (missing != NULL) {
		upd_fail(st, ACT_WITHDRAW, ERR_UPD_MISSING_WK,
		    "missing well-known attribute %s", missing);
		upd_apply(st, ACT_WITHDRAW, NULL, 0, NULL);
	}

	/*
	 * RFC 4724 §2: End-of-RIB is an UPDATE with nothing in it (IPv4), or
	 * with only an empty MP_UNREACH_NLRI.
	 */
	if (u->nwithdrawn == 0 && u->nannounced == 0) {
		if (st->nattrs == 0) {
			u->eor = true;
			u->eor_aid = AID_IPV4;
		} else if (st->nattrs == 1 && st->mp_unreach_empty) {
			u->eor = true;
			u->eor_aid = st->mp_unreach_aid;
		}
	}
}

/*
 * Decodes an UPDATE body (the message after its 19-byte header).  Returns
 * 0, with treat-as-withdraw and discarded attributes reported in u, or -1
 * when the session must be reset, with err filled and u already cleaned.
 * u need not be initialised; free it with update_clean() in both cases.
 */
int
update_parse(struct ibuf *body, const struct update_ctx *ctx, struct update *u,
    struct bgp_err *err)
{
	struct upd_state st;
	struct ibuf wd, ab, nl;
	uint16_t wlen, alen;
	unsigned int nmp;
	const char *why;

	memset(u, 0, sizeof(*u));
	memset(&st, 0, sizeof(st));
	st.ctx = ctx;
	st.u = u;
	st.wd.v = &u->withdrawn;
	st.wd.n = &u->nwithdrawn;
	st.ann.v = &u->announced;
	st.ann.n = &u->nannounced;

	/* RFC 4271 §6.3: section lengths beyond the message */
	if (ibuf_get_n16(body, &wlen) == -1 ||
	    ibuf_get_ibuf(body, wlen, &wd) == -1 ||
	    ibuf_get_n16(body, &alen) == -1 ||
	    ibuf_get_ibuf(body, alen, &ab) == -1) {
		err_set(err, ERR_UPD_ATTRLIST, NULL, 0,
		    "UPDATE section lengths exceed the message");
		goto fail;
	}
	ibuf_from_ibuf(&nl, body);
	ibuf_skip(body, ibuf_size(body));

	/* RFC 7606 §5.3: NLRI we cannot parse leave no safe way on */
	if (upd_nlri(&wd, AID_IPV4, ctx->addpath[AID_IPV4], &st.wd, &why) ==
	    -1) {
		err_set(
		    err, ERR_UPD_NETWORK, NULL, 0, "withdrawn routes: %s", why);
		goto fail;
	}
	if (upd_nlri(&nl, AID_IPV4, ctx->addpath[AID_IPV4], &st.ann, &why) ==
	    -1) {
		err_set(err, ERR_UPD_NETWORK, NULL, 0, "NLRI: %s", why);
		goto fail;
	}
	st.nclassic = u->nannounced;

	if (upd_attributes(&st, &ab, err) == -1)
		goto fail;
	/* path attributes beyond the MP ones, which only carry NLRI */
	nmp = upd_seen(&st, ATTR_MP_REACH) + upd_seen(&st, ATTR_MP_UNREACH);
	u->has_attrs = st.nattrs > nmp;
	upd_finish(&st);
	return 0;

fail:
	free(st.as4path);
	update_clean(u);
	return -1;
}

void
update_clean(struct update *u)
{
	attrs_clean(&u->attrs);
	free(u->withdrawn);
	free(u->announced);
	u->withdrawn = u->announced = NULL;
	u->nwithdrawn = u->nannounced = 0;
}

/*
 * Building.  One message per call, the attribute block encoded once; the
 * per-prefix loop only checks room and copies bytes.
 */

static size_t
upd_put_nlri(struct ibuf *buf, size_t limit, bool addpath,
    const struct nlri *nlri, size_t n)
{
	size_t i, bytes, need;
	uint8_t pb[16];
	int errs = 0;

	for (i = 0; i < n; i++) {
		if (nlri[i].p.len > 128)
			fatalx("%s: prefix length %u", __func__, nlri[i].p.len);
		bytes = (nlri[i].p.len + 7) / 8;
		need = 1 + bytes + (addpath ? 4 : 0);
		if (ibuf_wpos(buf) + need > limit)
			break;
		memcpy(pb, nlri[i].p.a.b, bytes);
		if (nlri[i].p.len % 8)
			pb[bytes - 1] &= 0xff << (8 - nlri[i].p.len % 8);
		if (addpath)
			errs += ibuf_add_n32(buf, nlri[i].path_id);
		errs += ibuf_add_n8(buf, nlri[i].p.len);
		errs += ibuf_add(buf, pb, bytes);
		if (errs)
			break;
	}
	return i;
}

/* RFC 2545 §3: global, then link-local if we have one */
static int
upd_put_nexthop6(struct ibuf *buf, const struct attrs *a)
{
	struct in6_addr g;
	bool ll =
	    a->nexthop_ll.family == AF_INET6 && addr_is_set(&a->nexthop_ll);
	int errs = 0;

	memset(&g, 0, sizeof(g));
	if (a->nexthop.family == AF_INET6) {
		g = a->nexthop.v6;
	} else if (a->nexthop.family == AF_INET) {
		/* an IPv4 session carrying IPv6: the mapped address */
		struct addr m;

		addr_v4mapped(&m, &a->nexthop);
		g = m.v6;
	}
	errs += ibuf_add_n8(buf, ll ? 32 : 16);
	errs += ibuf_add(buf, &g, 16);
	if (ll)
		errs += ibuf_add(buf, &a->nexthop_ll.v6, 16);
	return errs ? -1 : 0;
}

struct ibuf *
update_build(const struct update_ctx *ctx, enum aid aid,
    const struct attrs *attrs, const struct nlri *nlri, size_t n, size_t *done)
{
	struct ibuf *buf, *ab = NULL;
	struct attrs a6;
	size_t maxlen = ctx->maxlen ? ctx->maxlen : BGP_MAX_LEN, pos, mppos;
	bool addpath = ctx->addpath[aid];
	int errs = 0;

	*done = 0;
	if (n == 0 || aid >= AID_MAX)
		return NULL;
	buf = msg_new(MSG_UPDATE, maxlen);
	if (aid == AID_IPV4 && attrs == NULL) {
		pos = ibuf_wpos(buf);
		errs += ibuf_add_n16(buf, 0);
		*done = upd_put_nlri(buf, maxlen - 2, addpath, nlri, n);
		errs += ibuf_set_n16(buf, pos, ibuf_wpos(buf) - pos - 2);
		errs += ibuf_add_n16(buf, 0);
	} else if (aid == AID_IPV4) {
		errs += ibuf_add_n16(buf, 0);
		pos = ibuf_wpos(buf);
		errs += ibuf_add_n16(buf, 0);
		errs += attrs_encode(buf, attrs, ctx);
		errs += ibuf_set_n16(buf, pos, ibuf_wpos(buf) - pos - 2);
		if (errs == 0)
			*done = upd_put_nlri(buf, maxlen, addpath, nlri, n);
	} else {
		/* RFC 7606 §5.1: MP_(UN)REACH_NLRI goes first */
		if (attrs != NULL) {
			a6 = *attrs;
			a6.flags &= ~ATTRF_NEXTHOP; /* RFC 4760 §3 */
			ab = ibuf_dynamic(256, maxlen);
			errs += attrs_encode(ab, &a6, ctx);
		}
		errs += ibuf_add_n16(buf, 0);
		pos = ibuf_wpos(buf);
		errs += ibuf_add_n16(buf, 0);
		errs += ibuf_add_n8(buf, ATTR_OPTIONAL | ATTR_EXTLEN);
		errs +=
		    ibuf_add_n8(buf, attrs ? ATTR_MP_REACH : ATTR_MP_UNREACH);
		mppos = ibuf_wpos(buf);
		errs += ibuf_add_n16(buf, 0);
		errs += ibuf_add_n16(buf, aid_afi(aid));
		errs += ibuf_add_n8(buf, aid_safi(aid));
		if (attrs != NULL) {
			errs += upd_put_nexthop6(buf, attrs);
			errs += ibuf_add_n8(buf, 0); /* reserved */
		}
		if (errs == 0 && (ab == NULL || ibuf_size(ab) < maxlen))
			*done =
			    upd_put_nlri(buf, maxlen - (ab ? ibuf_size(ab) : 0),
			        addpath, nlri, n);
		errs += ibuf_set_n16(buf, mppos, ibuf_wpos(buf) - mppos - 2);
		if (ab != NULL)
			errs += ibuf_add_ibuf(buf, ab);
		errs += ibuf_set_n16(buf, pos, ibuf_wpos(buf) - pos - 2);
		ibuf_free(ab);
	}
	if (errs || *done == 0 || msg_close(buf) == -1) {
		log_warnx("%s: cannot build an UPDATE for %s", __func__,
		    aid_name(aid));
		*done = 0;
		ibuf_free(buf);
		return NULL;
	}
	return buf;
}

/* RFC 4724 §2 */
struct ibuf *
update_build_eor(enum aid aid)
{
	struct ibuf *buf = msg_new(MSG_UPDATE, BGP_MAX_LEN);
	int errs = 0;

	errs += ibuf_add_n16(buf, 0);
	if (aid == AID_IPV4)
		errs += ibuf_add_n16(buf, 0);
	else {
		errs += ibuf_add_n16(buf, 6);
		errs += ibuf_add_n8(buf, ATTR_OPTIONAL);
		errs += ibuf_add_n8(buf, ATTR_MP_UNREACH);
		errs += ibuf_add_n8(buf, 3);
		errs += ibuf_add_n16(buf, aid_afi(aid));
		errs += ibuf_add_n8(buf, aid_safi(aid));
	}
	if (errs || msg_close(buf) == -1)
		fatalx("%s: cannot build End-of-RIB", __func__);
	return buf;
}
