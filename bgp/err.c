/*
 * The one place where protocol errors become NOTIFICATION code and subcode
 * (RFC 4271 §4.5 and §6, RFC 4486 and RFC 8203 for Cease, RFC 5492 for
 * Unsupported Capability, RFC 6608 for FSM errors, RFC 7313 for
 * ROUTE-REFRESH).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bgp/wire.h"

static const struct {
	uint8_t code;
	uint8_t subcode;
	const char *name;
} err_table[ERR_MAX] = {
    [ERR_NONE] = {0, 0, "no error"},
    [ERR_HDR_SYNC] = {1, 1, "connection not synchronized"},
    [ERR_HDR_LEN] = {1, 2, "bad message length"},
    [ERR_HDR_TYPE] = {1, 3, "bad message type"},
    [ERR_OPEN] = {2, 0, "OPEN message error"},
    [ERR_OPEN_VERSION] = {2, 1, "unsupported version number"},
    [ERR_OPEN_AS] = {2, 2, "bad peer AS"},
    [ERR_OPEN_BGPID] = {2, 3, "bad BGP identifier"},
    [ERR_OPEN_OPT] = {2, 4, "unsupported optional parameter"},
    [ERR_OPEN_HOLD] = {2, 6, "unacceptable hold time"},
    [ERR_OPEN_CAPA] = {2, 7, "unsupported capability"},
    [ERR_UPD_ATTRLIST] = {3, 1, "malformed attribute list"},
    [ERR_UPD_UNKNOWN_WK] = {3, 2, "unrecognized well-known attribute"},
    [ERR_UPD_MISSING_WK] = {3, 3, "missing well-known attribute"},
    [ERR_UPD_ATTRFLAGS] = {3, 4, "attribute flags error"},
    [ERR_UPD_ATTRLEN] = {3, 5, "attribute length error"},
    [ERR_UPD_ORIGIN] = {3, 6, "invalid ORIGIN attribute"},
    [ERR_UPD_NEXTHOP] = {3, 8, "invalid NEXT_HOP attribute"},
    [ERR_UPD_OPTATTR] = {3, 9, "optional attribute error"},
    [ERR_UPD_NETWORK] = {3, 10, "invalid network field"},
    [ERR_UPD_ASPATH] = {3, 11, "malformed AS_PATH"},
    [ERR_HOLD] = {4, 0, "hold timer expired"},
    [ERR_FSM] = {5, 0, "finite state machine error"},
    [ERR_FSM_OPENSENT] = {5, 1, "unexpected message in OpenSent"},
    [ERR_FSM_OPENCONFIRM] = {5, 2, "unexpected message in OpenConfirm"},
    [ERR_FSM_ESTABLISHED] = {5, 3, "unexpected message in Established"},
    [ERR_CEASE] = {6, 0, "cease"},
    [ERR_CEASE_MAX_PREFIX] = {6, 1, "maximum number of prefixes reached"},
    [ERR_CEASE_ADMIN_DOWN] = {6, 2, "administrative shutdown"},
    [ERR_CEASE_PEER_UNCONF] = {6, 3, "peer de-configured"},
    [ERR_CEASE_ADMIN_RESET] = {6, 4, "administrative reset"},
    [ERR_CEASE_CONN_REJECT] = {6, 5, "connection rejected"},
    [ERR_CEASE_CONF_CHANGE] = {6, 6, "other configuration change"},
    [ERR_CEASE_COLLISION] = {6, 7, "connection collision resolution"},
    [ERR_CEASE_RESOURCES] = {6, 8, "out of resources"},
    [ERR_CEASE_HARD_RESET] = {6, 9, "hard reset"},
    [ERR_RREFRESH_LEN] = {7, 1, "invalid ROUTE-REFRESH message length"},
};

static const char *const err_codes[] = {
    [0] = "error",
    [1] = "message header error",
    [2] = "OPEN message error",
    [3] = "UPDATE message error",
    [4] = "hold timer expired",
    [5] = "finite state machine error",
    [6] = "cease",
    [7] = "ROUTE-REFRESH message error",
};

void
err_set(struct bgp_err *e, enum bgp_error err, const void *data, size_t len,
    const char *fmt, ...)
{
	va_list ap;

	e->err = err;
	if (len > sizeof(e->data))
		len = sizeof(e->data);
	e->datalen = len;
	if (len > 0)
		memcpy(e->data, data, len);
	e->reason[0] = '\0';
	if (fmt != NULL) {
		va_start(ap, fmt);
		vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
		va_end(ap);
	}
}

uint8_t
err_code(enum bgp_error err)
{
	return err < ERR_MAX ? err_table[err].code : 0;
}

uint8_t
err_subcode(enum bgp_error err)
{
	return err < ERR_MAX ? err_table[err].subcode : 0;
}

const char *
err_name(enum bgp_error err)
{
	return err < ERR_MAX ? err_table[err].name : "unknown error";
}

/* a received code/subcode, for the log: "OPEN message error/bad peer AS" */
const char *
err_describe(uint8_t code, uint8_t subcode, char *buf, size_t len)
{
	int i;

	for (i = 1; i < ERR_MAX; i++) {
		if (err_table[i].code == code &&
		    err_table[i].subcode == subcode && subcode != 0) {
			snprintf(buf, len, "%s/%s", err_codes[code],
			    err_table[i].name);
			return buf;
		}
	}
	if (code < sizeof(err_codes) / sizeof(err_codes[0]) && code != 0)
		snprintf(buf, len, "%s/subcode %u", err_codes[code], subcode);
	else
		snprintf(buf, len, "code %u/subcode %u", code, subcode);
	return buf;
}
