/*
 * libFuzzer target: the value of one Capabilities optional parameter
 * (RFC 5492), walked by caps_parse() and then negotiated both ways against
 * a local side with every capability we know.
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

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bgp_caps caps, local;
	struct bgp_neg neg;
	struct bgp_err err;
	struct ibuf in;
	int aid;

	memset(&caps, 0, sizeof(caps));
	ibuf_from_buffer(&in, data, size);
	if (caps_parse(&in, &caps, &err) == -1) {
		if (err.err != ERR_OPEN)
			__builtin_trap();
		return 0;
	}
	if (ibuf_size(&in) != 0)
		__builtin_trap();
	for (aid = 0; aid < AID_MAX; aid++)
		if (caps.mp[aid] && !caps.mp_seen)
			__builtin_trap();

	memset(&local, 0, sizeof(local));
	local.mp[AID_IPV4] = local.mp[AID_IPV6] = true;
	local.as4 = local.refresh = local.ext_msg = true;
	local.enhanced_refresh = true;
	local.addpath[AID_IPV4] = ADDPATH_RECV;
	local.addpath[AID_IPV6] = ADDPATH_SEND;
	if (caps_negotiate(&local, &caps, &neg, &err) == -1 &&
	    err.err != ERR_OPEN_CAPA)
		__builtin_trap();
	if (caps_negotiate(&caps, &local, &neg, &err) == -1 &&
	    err.err != ERR_OPEN_CAPA)
		__builtin_trap();
	return 0;
}
