/*
 * libFuzzer target: the body of an OPEN.  A message that parses is built
 * again and must parse again, and building that result must give the same
 * bytes (open_build normalises once, then is stable); it is also
 * negotiated against a fixed local side.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bgp/wire.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setlevel(LOG_LVL_ERROR);
	return 0;
}

static struct ibuf *
rebuild(struct ibuf *msg, struct bgp_open *open)
{
	struct bgp_err err;
	struct ibuf body, *again;

	ibuf_from_ibuf(&body, msg);
	if (ibuf_skip(&body, BGP_HDR_LEN) == -1 ||
	    open_parse(&body, open, &err) == -1)
		__builtin_trap();
	if ((again = open_build(open)) == NULL)
		__builtin_trap();
	return again;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_open open, open2, open3;
	struct bgp_caps local;
	struct bgp_neg neg;
	struct bgp_err err;
	struct ibuf in, *b1, *b2, *b3;

	ibuf_from_buffer(&in, data, size);
	if (open_parse(&in, &open, &err) == -1) {
		if (err.err == ERR_NONE || err.err >= ERR_MAX)
			__builtin_trap();
		return 0;
	}

	memset(&local, 0, sizeof(local));
	local.mp[AID_IPV4] = local.mp[AID_IPV6] = true;
	local.addpath[AID_IPV4] = ADDPATH_RECV | ADDPATH_SEND;
	local.as4 = local.refresh = true;
	caps_negotiate(&local, &open.caps, &neg, &err);

	if ((b1 = open_build(&open)) == NULL)
		__builtin_trap();
	b2 = rebuild(b1, &open2);
	b3 = rebuild(b2, &open3);
	if (open_peer_as(&open2) != open_peer_as(&open) ||
	    open2.holdtime != open.holdtime || open2.bgpid != open.bgpid)
		__builtin_trap();
	if (ibuf_size(b2) != ibuf_size(b3) ||
	    memcmp(ibuf_data(b2), ibuf_data(b3), ibuf_size(b2)) != 0)
		__builtin_trap();
	ibuf_free(b1);
	ibuf_free(b2);
	ibuf_free(b3);
	return 0;
}
