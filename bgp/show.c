/*
 * The JSON documents of the control socket, built straight from struct bgpd:
 * the peer list, and the routes of the RIB with every path.  Field names are
 * the contract of DESIGN.md (podmeshctl bgp peers|routes -o json); extra
 * fields may be added, none renamed.
 *
 * Routes are written in chunks so that a million of them never hold the
 * event loop for long: show_routes_new() notes the matching prefixes (not
 * entry pointers, which a withdraw may free between chunks) and every
 * show_routes_emit() looks the next few up again and writes them.  A route
 * that went away in between is simply skipped.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "lib/xmalloc.h"
#include "bgp/bgpd.h"
#include "bgp/control.h"

/* a growing text buffer: formatting here is cheaper than evbuffer_printf */
struct show_buf {
	char *p;
	size_t len;
	size_t cap;
};

struct show_routes {
	struct bgpd *bgpd;
	struct prefix *prefixes;
	size_t n;
	size_t next;
	size_t emitted;
	bool started;
	struct show_buf buf;
};

static void
buf_add(struct show_buf *b, const void *s, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = b->cap ? b->cap : 4096;
		while (b->len + len > b->cap)
			b->cap *= 2;
		b->p = xrealloc(b->p, b->cap);
	}
	memcpy(b->p + b->len, s, len);
	b->len += len;
}

static void
buf_str(struct show_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_u64(struct show_buf *b, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);

	do
		*--p = '0' + v % 10;
	while ((v /= 10) != 0);
	buf_add(b, p, tmp + sizeof(tmp) - p);
}

static void
buf_flush(struct show_buf *b, struct evbuffer *out)
{
	if (evbuffer_add(out, b->p, b->len) == -1)
		fatalx("evbuffer_add");
	b->len = 0;
}

/* length of a valid UTF-8 sequence at s, or 0 (RFC 3629 §4) */
static size_t
utf8_len(const unsigned char *s)
{
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

/*
 * A JSON string.  Text here can come from peers (shutdown messages in
 * last_error), so invalid UTF-8 becomes U+FFFD instead of breaking clients.
 */
static void
buf_json_str(struct show_buf *b, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	char esc[8];
	size_t n;

	buf_add(b, "\"", 1);
	while (*s != '\0') {
		if (*s >= 0x80) {
			if ((n = utf8_len(s)) == 0) {
				buf_str(b, "\\ufffd");
				s++;
			} else {
				buf_add(b, s, n);
				s += n;
			}
			continue;
		}
		switch (*s) {
		case '"':
			buf_str(b, "\\\"");
			break;
		case '\\':
			buf_str(b, "\\\\");
			break;
		case '\n':
			buf_str(b, "\\n");
			break;
		case '\t':
			buf_str(b, "\\t");
			break;
		case '\r':
			buf_str(b, "\\r");
			break;
		default:
			if (*s < 0x20) {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[*s >> 4];
				esc[5] = hex[*s & 0xf];
				buf_add(b, esc, 6);
			} else
				buf_add(b, s, 1);
		}
		s++;
	}
	buf_add(b, "\"", 1);
}

/* "key": */
static void
buf_key(struct show_buf *b, const char *key)
{
	buf_json_str(b, key);
	buf_add(b, ": ", 2);
}

static void
buf_addr(struct show_buf *b, const struct addr *a)
{
	char tmp[ADDR_STRLEN];

	if (a->family == 0) {
		buf_str(b, "null");
		return;
	}
	buf_json_str(b, addr_ntop(a, tmp, sizeof(tmp)));
}

/* a BGP identifier, ORIGINATOR_ID or cluster id (host order), dotted */
static void
buf_id(struct show_buf *b, uint32_t id)
{
	char tmp[INET_ADDRSTRLEN];
	struct in_addr in = {.s_addr = htonl(id)};

	inet_ntop(AF_INET, &in, tmp, sizeof(tmp));
	buf_json_str(b, tmp);
}

static void
buf_bool(struct show_buf *b, bool v)
{
	buf_str(b, v ? "true" : "false");
}

/* ---- peers ---- */

static void
show_peer(struct show_buf *b, const struct peer *p, time_t now)
{
	const struct peer_config *pc = p->conf;
	bool up = p->state == STATE_ESTABLISHED;

	buf_add(b, "{", 1);
	buf_key(b, "address");
	buf_addr(b, &p->addr);
	buf_str(b, ", ");
	buf_key(b, "asn");
	buf_u64(b, pc->asn);
	buf_str(b, ", ");
	buf_key(b, "state");
	buf_json_str(b, peer_state_name(p->state));
	buf_str(b, ", ");
	buf_key(b, "uptime");
	buf_u64(b, up && now > p->uptime ? (uint64_t)(now - p->uptime) : 0);
	buf_str(b, ", ");
	buf_key(b, "received");
	buf_u64(b, p->src.npaths);
	buf_str(b, ", ");
	buf_key(b, "sent");
	buf_u64(b, p->stats.prefixes_out);
	buf_str(b, ", ");
	buf_key(b, "type");
	buf_json_str(b, p->dynamic ? "dynamic" : peer_kind_name(pc->kind));
	buf_str(b, ", ");
	buf_key(b, "since");
	buf_u64(b, (uint64_t)p->uptime);

	/* extras, for people and scripts that want more */
	buf_str(b, ", ");
	buf_key(b, "description");
	if (pc->description != NULL)
		buf_json_str(b, pc->description);
	else
		buf_str(b, "null");
	buf_str(b, ", ");
	buf_key(b, "router_id");
	if (p->state >= STATE_OPENCONFIRM)
		buf_id(b, p->remote_open.bgpid);
	else
		buf_str(b, "null");
	buf_str(b, ", ");
	buf_key(b, "hold_time");
	buf_u64(b, up ? p->holdtime : 0);
	buf_str(b, ", ");
	buf_key(b, "rr_client");
	buf_bool(b, pc->rr_client);
	buf_str(b, ", ");
	buf_key(b, "dynamic");
	buf_bool(b, p->dynamic);
	buf_str(b, ", ");
	buf_key(b, "stale");
	buf_u64(b, p->src.nstale);
	buf_str(b, ", ");
	buf_key(b, "flaps");
	buf_u64(b, p->stats.flaps);
	buf_str(b, ", ");
	buf_key(b, "last_error");
	if (p->last_err.err == ERR_NONE)
		buf_str(b, "null");
	else
		buf_json_str(b,
		    p->last_err.reason[0] != '\0' ? p->last_err.reason
		                                  : err_name(p->last_err.err));
	buf_add(b, "}", 1);
}

/* the peer list, in configuration order (dynamic peers as they came) */
void
show_peers(struct bgpd *bgpd, time_t now, struct evbuffer *out)
{
	struct show_buf b = {0};
	struct peer *p;
	bool first = true;

	buf_add(&b, "[", 1);
	TAILQ_FOREACH(p, &bgpd->peers, entry)
	{
		buf_str(&b, first ? "\n" : ",\n");
		show_peer(&b, p, now);
		first = false;
	}
	buf_str(&b, "\n]\n");
	buf_flush(&b, out);
	free(b.p);
}

/* ---- routes ---- */

static const char *
show_origin(uint8_t origin)
{
	switch (origin) {
	case ORIGIN_IGP:
		return "IGP";
	case ORIGIN_EGP:
		return "EGP";
	default:
		return "incomplete";
	}
}

/* sequences as numbers, AS_SET and AS_CONFED_SET as nested arrays */
static void
show_aspath(struct show_buf *b, const struct attrs *a)
{
	const uint8_t *p;
	uint8_t type, cnt;
	size_t off, i;
	bool first = true, set;

	buf_add(b, "[", 1);
	for (off = 0; off + 2 <= a->aspath_len; off += 2 + cnt * 4) {
		type = a->aspath[off];
		cnt = a->aspath[off + 1];
		if (off + 2 + cnt * 4 > a->aspath_len)
			break;
		set = type == AS_SET || type == AS_CONFED_SET;
		if (set) {
			buf_str(b, first ? "[" : ", [");
			first = true;
		}
		for (i = 0; i < cnt; i++) {
			p = a->aspath + off + 2 + i * 4;
			if (!first)
				buf_str(b, ", ");
			buf_u64(b,
			    (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
			        (uint32_t)p[2] << 8 | p[3]);
			first = false;
		}
		if (set)
			buf_add(b, "]", 1);
		first = false;
	}
	buf_add(b, "]", 1);
}

static void
show_communities(struct show_buf *b, const struct attrs *a)
{
	char tmp[48];
	size_t i;

	buf_add(b, "[", 1);
	for (i = 0; i < a->ncommunities; i++) {
		snprintf(tmp, sizeof(tmp), "%s\"%u:%u\"", i ? ", " : "",
		    a->communities[i] >> 16, a->communities[i] & 0xffff);
		buf_str(b, tmp);
	}
	buf_add(b, "]", 1);
}

static void
show_large_communities(struct show_buf *b, const struct attrs *a)
{
	char tmp[48];
	size_t i;

	buf_add(b, "[", 1);
	for (i = 0; i < a->nlarge; i++) {
		snprintf(tmp, sizeof(tmp), "%s\"%u:%u:%u\"", i ? ", " : "",
		    a->large[i * 3], a->large[i * 3 + 1], a->large[i * 3 + 2]);
		buf_str(b, tmp);
	}
	buf_add(b, "]", 1);
}

static void
show_path(struct show_buf *b, const struct rib_path *p, bool best)
{
	const struct attrs *a = p->attrs;
	size_t i;

	buf_add(b, "{", 1);
	buf_key(b, "next_hop");
	buf_addr(b, &a->nexthop);
	buf_str(b, ", ");
	buf_key(b, "as_path");
	show_aspath(b, a);
	buf_str(b, ", ");
	buf_key(b, "local_pref");
	if (a->flags & ATTRF_LOCALPREF)
		buf_u64(b, a->local_pref);
	else
		buf_str(b, "null");
	buf_str(b, ", ");
	buf_key(b, "origin");
	buf_json_str(b, show_origin(a->origin));
	buf_str(b, ", ");
	buf_key(b, "originator_id");
	if (a->flags & ATTRF_ORIGINATOR_ID)
		buf_id(b, a->originator_id);
	else
		buf_str(b, "null");
	buf_str(b, ", ");
	buf_key(b, "cluster_list");
	buf_add(b, "[", 1);
	for (i = 0; i < a->ncluster; i++) {
		if (i > 0)
			buf_str(b, ", ");
		buf_id(b, a->cluster_list[i]);
	}
	buf_add(b, "]", 1);
	buf_str(b, ", ");
	buf_key(b, "peer");
	if (p->src->id == 0)
		buf_json_str(b, "local");
	else
		buf_addr(b, &p->src->addr);
	buf_str(b, ", ");
	buf_key(b, "best");
	buf_bool(b, best);

	buf_str(b, ", ");
	buf_key(b, "med");
	if (a->flags & ATTRF_MED)
		buf_u64(b, a->med);
	else
		buf_str(b, "null");
	buf_str(b, ", ");
	buf_key(b, "communities");
	show_communities(b, a);
	buf_str(b, ", ");
	buf_key(b, "large_communities");
	show_large_communities(b, a);
	buf_str(b, ", ");
	buf_key(b, "path_id");
	buf_u64(b, p->path_id);
	buf_str(b, ", ");
	buf_key(b, "stale");
	buf_bool(b, (p->flags & PATH_STALE) != 0);
	buf_add(b, "}", 1);
}

static void
show_entry(struct show_buf *b, const struct rib_entry *e)
{
	const struct rib_path *p;
	char tmp[PREFIX_STRLEN];

	buf_add(b, "{", 1);
	buf_key(b, "prefix");
	buf_json_str(b, prefix_ntop(&e->prefix, tmp, sizeof(tmp)));
	buf_str(b, ", ");
	buf_key(b, "paths");
	buf_add(b, "[", 1);
	for (p = e->paths; p != NULL; p = p->next) {
		if (p != e->paths)
			buf_str(b, ", ");
		/* the head of the list is the Loc-RIB route (rib.h) */
		show_path(b, p, p == e->paths);
	}
	buf_str(b, "]}");
}

struct show_walk {
	struct show_routes *sr;
	const struct prefix *filter; /* NULL: all */
};

static void
show_collect(struct rib_entry *e, void *arg)
{
	struct show_walk *w = arg;
	struct show_routes *sr = w->sr;

	if (e->paths == NULL)
		return;
	if (w->filter != NULL && !prefix_covers(w->filter, &e->prefix))
		return;
	if ((sr->n & (sr->n - 1)) == 0) /* grow at powers of two */
		sr->prefixes = xreallocarray(
		    sr->prefixes, sr->n ? sr->n * 2 : 1, sizeof(*sr->prefixes));
	sr->prefixes[sr->n++] = e->prefix;
}

/* the most specific route containing the address: one lookup per length */
static void
show_longest(struct show_routes *sr, const struct prefix *addr)
{
	struct rib_entry *e;
	struct prefix p;
	int len;

	for (len = addr_maxlen(addr->a.family); len >= 0; len--) {
		p = *addr;
		p.len = len;
		prefix_mask(&p);
		e = rib_lookup(sr->bgpd->rib, &p);
		if (e != NULL && e->paths != NULL) {
			sr->prefixes = xmalloc(sizeof(*sr->prefixes));
			sr->prefixes[0] = e->prefix;
			sr->n = 1;
			return;
		}
	}
}

/*
 * Notes which routes to show.  For SHOW_COVERED and SHOW_LONGEST, `filter`
 * is the prefix or the address (as a host prefix).
 */
struct show_routes *
show_routes_new(
    struct bgpd *bgpd, enum show_match match, const struct prefix *filter)
{
	struct show_routes *sr;
	struct show_walk w;
	int aid;

	sr = xcalloc(1, sizeof(*sr));
	sr->bgpd = bgpd;
	w.sr = sr;
	w.filter = match == SHOW_ALL ? NULL : filter;
	switch (match) {
	case SHOW_ALL:
		for (aid = 0; aid < AID_MAX; aid++)
			rib_walk(bgpd->rib, aid, show_collect, &w);
		break;
	case SHOW_COVERED:
		rib_walk(bgpd->rib, aid_from_family(filter->a.family),
		    show_collect, &w);
		break;
	case SHOW_LONGEST:
		show_longest(sr, filter);
		break;
	}
	return sr;
}

/*
 * Writes up to `max` more routes; returns 1 while there are more to come, 0
 * once the document is complete.
 */
int
show_routes_emit(struct show_routes *sr, struct evbuffer *out, size_t max)
{
	struct rib_entry *e;

	if (!sr->started) {
		buf_add(&sr->buf, "[", 1);
		sr->started = true;
	}
	for (; max > 0 && sr->next < sr->n; sr->next++) {
		e = rib_lookup(sr->bgpd->rib, &sr->prefixes[sr->next]);
		if (e == NULL || e->paths == NULL)
			continue; /* withdrawn since we looked */
		buf_str(&sr->buf, sr->emitted++ > 0 ? ",\n" : "\n");
		show_entry(&sr->buf, e);
		max--;
	}
	if (sr->next == sr->n)
		buf_str(&sr->buf, "\n]\n");
	buf_flush(&sr->buf, out);
	return sr->next < sr->n;
}

void
show_routes_free(struct show_routes *sr)
{
	if (sr == NULL)
		return;
	free(sr->prefixes);
	free(sr->buf.p);
	free(sr);
}

void
show_error(struct evbuffer *out, const char *msg)
{
	struct show_buf b = {0};

	buf_str(&b, "{\"error\": ");
	buf_json_str(&b, msg);
	buf_str(&b, "}\n");
	buf_flush(&b, out);
	free(b.p);
}

void
show_ok(struct evbuffer *out)
{
	if (evbuffer_add(out, "{\"ok\": true}\n", 13) == -1)
		fatalx("evbuffer_add");
}
