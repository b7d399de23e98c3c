/*
 * libFuzzer target: one route message from the kernel (a dump entry or a
 * notification), nlmsg_len set to the input's size.  A message that decodes
 * must peek the same protocol and table, print, and, when it can be sent
 * (a unicast route with next hops, or a route without), encode and decode
 * back to the same route.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "lib/nl.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setlevel(LOG_LVL_ERROR);
	return 0;
}

static void
same(const struct nl_route *a, const struct nl_route *b)
{
	unsigned int i;

	if (prefix_cmp(&a->dst, &b->dst) != 0 || a->type != b->type ||
	    a->protocol != b->protocol || a->table != b->table ||
	    a->priority != b->priority || a->nnh != b->nnh)
		__builtin_trap();
	for (i = 0; i < a->nnh; i++)
		if (addr_cmp(&a->nh[i].gw, &b->nh[i].gw) != 0 ||
		    a->nh[i].ifindex != b->nh[i].ifindex ||
		    a->nh[i].onlink != b->nh[i].onlink ||
		    (a->nnh > 1 && a->nh[i].weight != b->nh[i].weight))
			__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *buf, out[NL_BUFSIZE];
	struct nlmsghdr *nlh;
	struct nl_route r, again;
	struct prefix masked;
	char err[256], s[NL_ROUTE_STRLEN];
	uint8_t family, protocol;
	uint32_t table;
	unsigned int i;
	int n;

	if (size < sizeof(*nlh) || size > 65536)
		return 0;
	/* netlink messages are 4-byte aligned; give the decoder that */
	buf = aligned_alloc(4, (size + 3) & ~(size_t)3);
	memcpy(buf, data, size);
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)size;
	err[0] = '\0';
	if (nl_route_decode(nlh, &r, err, sizeof(err)) == -1) {
		if (err[0] == '\0')
			__builtin_trap(); /* every failure says why */
		goto done;
	}
	if (r.nnh > NL_MAXNH || r.dst.len > addr_maxlen(r.dst.a.family))
		__builtin_trap();
	for (i = 0; i < r.nnh; i++)
		if (r.nh[i].gw.family != 0 &&
		    r.nh[i].gw.family != r.dst.a.family)
			__builtin_trap();
	if (nl_route_peek(nlh, &family, &protocol, &table) == -1 ||
	    family != r.dst.a.family || protocol != r.protocol ||
	    table != r.table)
		__builtin_trap();
	nl_route_ntop(&r, s, sizeof(s));

	/* the round trip: encoded as a request, read back as the same */
	masked = r.dst;
	prefix_mask(&masked);
	r.dst = masked;
	n = nl_route_encode(out, sizeof(out), RTM_NEWROUTE, NLM_F_CREATE, &r);
	if (n == -1)
		goto done;
	if (nl_route_decode((struct nlmsghdr *)out, &again, err, sizeof(err)) ==
	    -1)
		__builtin_trap();
	for (i = 0; i < r.nnh; i++) {
		if (r.nh[i].weight == 0)
			r.nh[i].weight = 1;
		if (r.nnh == 1)
			again.nh[i].weight = r.nh[i].weight;
	}
	same(&r, &again);
done:
	free(buf);
	return 0;
}
