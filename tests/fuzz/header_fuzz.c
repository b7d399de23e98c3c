/*
 * libFuzzer target: message framing.  The input is a byte stream as read
 * from a peer; msg_header_check() with the RFC 8654 limit judges the header,
 * and a complete message goes on to the parser for its type, the way the
 * session hands bodies over.
 */
#include <stddef.h>
#include <stdint.h>

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
	struct ibuf in, body, ndata;
	struct bgp_open open;
	struct bgp_err err;
	enum aid aid;
	uint8_t type, code, subcode, subtype;
	uint16_t len;

	ibuf_from_buffer(&in, data, size);
	while (ibuf_size(&in) >= BGP_HDR_LEN) {
		if (msg_header_check(&in, BGP_EXT_MAX_LEN, &type, &len, &err) ==
		    -1) {
			if (err.err == ERR_NONE || err.err >= ERR_MAX)
				__builtin_trap();
			break;
		}
		if (len < BGP_HDR_LEN || ibuf_size(&in) < len)
			break;
		if (ibuf_skip(&in, BGP_HDR_LEN) == -1 ||
		    ibuf_get_ibuf(&in, len - BGP_HDR_LEN, &body) == -1)
			__builtin_trap();
		switch (type) {
		case MSG_OPEN:
			open_parse(&body, &open, &err);
			break;
		case MSG_NOTIFICATION:
			msg_notification_parse(&body, &code, &subcode, &ndata);
			break;
		case MSG_RREFRESH:
			msg_rrefresh_parse(&body, &aid, &subtype, &err);
			break;
		default:
			break;
		}
	}
	return 0;
}
