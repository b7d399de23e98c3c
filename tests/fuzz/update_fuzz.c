/*
 * libFuzzer target for update_parse().  The first input byte picks the
 * session: bit 0 4-octet ASNs, bit 1 external peer, bits 2 and 3 ADD-PATH
 * for IPv4 and IPv6, bit 4 extended messages; the rest is an UPDATE body.
 *
 * Whatever parses is pushed through the rest of the codec: interning, the
 * AS_PATH helpers, and re-encoding with attrs_encode() and update_build(),
 * whose output must parse again without a session reset.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bgp/wire.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init("update_fuzz", LOG_LVL_ERROR);
	return 0;
}

/* our own encoding of what we accepted must be acceptable */
static void
reparse(const struct update_ctx *ctx, struct ibuf *m, size_t skip)
{
	struct ibuf b;
	struct update u;
	struct bgp_err e;

	ibuf_from_buffer(
	    &b, (uint8_t *)ibuf_data(m) + skip, ibuf_size(m) - skip);
	if (update_parse(&b, ctx, &u, &e) == -1)
		__builtin_trap();
	update_clean(&u);
}

/* one family per message: runs of the same family */
static void
build(const struct update_ctx *ctx, const struct update *u,
    const struct nlri *v, size_t n, bool announce)
{
	struct attrs send;
	struct ibuf *m;
	size_t i, j, done;
	enum aid aid;

	for (i = 0; i < n; i = j) {
		for (j = i; j < n && v[j].p.a.family == v[i].p.a.family; j++)
			;
		aid = aid_from_family(v[i].p.a.family);
		send = u->attrs;
		send.nexthop = u->nexthop[aid];
		send.nexthop_ll = u->nexthop_ll[aid];
		send.flags |= ATTRF_NEXTHOP;
		for (; i < j; i += done) {
			m = update_build(ctx, aid, announce ? &send : NULL,
			    v + i, j - i, &done);
			if (m == NULL)
				break;
			reparse(ctx, m, BGP_HDR_LEN);
			ibuf_free(m);
		}
	}
}

static void
exercise(const struct update_ctx *ctx, struct update *u)
{
	struct attr_table *t = attr_table_new();
	struct attrs *a, *b, copy;
	struct ibuf *m;
	uint32_t path[512];
	uint16_t len;

	a = attr_intern(t, &u->attrs);
	b = attr_intern(t, &u->attrs);
	if (a != b || a->refcnt != 2 || !attrs_equal(a, &u->attrs))
		__builtin_trap();
	aspath_to_array(a, path, 512);
	(void)aspath_first(a);
	(void)aspath_neighbor(a);
	(void)aspath_contains(a, 65001);
	attrs_copy(&copy, a);
	aspath_prepend(&copy, 4200000000u);
	attr_unref(b);
	attr_unref(a);
	if (attr_table_count(t) != 0)
		__builtin_trap();
	attrs_clean(&copy);
	attr_table_free(t);

	/* the attribute section alone */
	m = ibuf_dynamic(64, BGP_EXT_MAX_LEN);
	ibuf_add_n16(m, 0);
	ibuf_add_n16(m, 0);
	if (attrs_encode(m, &u->attrs, ctx) == 0 &&
	    ibuf_size(m) - 4 <= UINT16_MAX) {
		len = ibuf_size(m) - 4;
		ibuf_set_n16(m, 2, len);
		reparse(ctx, m, 0);
	}
	ibuf_free(m);

	/* whole UPDATEs for what was announced and withdrawn */
	if (u->treat_as_withdraw)
		return;
	build(ctx, u, u->announced, u->nannounced, true);
	build(ctx, u, u->withdrawn, u->nwithdrawn, false);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct update_ctx ctx;
	struct update u;
	struct bgp_err e;
	struct ibuf b;

	if (size < 1)
		return 0;
	memset(&ctx, 0, sizeof(ctx));
	ctx.as4 = data[0] & 0x01;
	ctx.ebgp = data[0] & 0x02;
	ctx.addpath[AID_IPV4] = data[0] & 0x04;
	ctx.addpath[AID_IPV6] = data[0] & 0x08;
	ctx.maxlen = data[0] & 0x10 ? BGP_EXT_MAX_LEN : BGP_MAX_LEN;
	ibuf_from_buffer(&b, data + 1, size - 1);
	if (update_parse(&b, &ctx, &u, &e) == 0)
		exercise(&ctx, &u);
	update_clean(&u);
	return 0;
}
