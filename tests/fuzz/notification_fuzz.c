/*
 * libFuzzer target: the body of a NOTIFICATION.  Whatever parses is
 * described for the log, and code, subcode and data survive a trip
 * through msg_notification() when the code is one we can name.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "bgp/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ibuf in, ndata, *msg, body, ndata2;
	struct bgp_err err;
	uint8_t code, subcode, c2, s2;
	char desc[128];
	int e;

	ibuf_from_buffer(&in, data, size);
	if (msg_notification_parse(&in, &code, &subcode, &ndata) == -1) {
		if (size >= 2)
			__builtin_trap();
		return 0;
	}
	if (ibuf_size(&ndata) != size - 2 || ibuf_size(&in) != 0)
		__builtin_trap();
	err_describe(code, subcode, desc, sizeof(desc));
	if (desc[0] == '\0')
		__builtin_trap();

	for (e = ERR_NONE + 1; e < ERR_MAX; e++)
		if (err_code(e) == code && err_subcode(e) == subcode)
			break;
	if (e == ERR_MAX)
		return 0;
	err_set(&err, e, ibuf_data(&ndata), ibuf_size(&ndata), "fuzz");
	if ((msg = msg_notification(&err)) == NULL)
		__builtin_trap();
	ibuf_from_ibuf(&body, msg);
	if (ibuf_skip(&body, BGP_HDR_LEN) == -1 ||
	    msg_notification_parse(&body, &c2, &s2, &ndata2) == -1 ||
	    c2 != code || s2 != subcode || ibuf_size(&ndata2) != err.datalen ||
	    memcmp(ibuf_data(&ndata2), ibuf_data(&ndata), err.datalen) != 0)
		__builtin_trap();
	ibuf_free(msg);
	return 0;
}
