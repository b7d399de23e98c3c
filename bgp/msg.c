/*
 * BGP message framing (RFC 4271 §4.1, §6.1) and the small messages:
 * KEEPALIVE (§4.4), NOTIFICATION (§4.5) and ROUTE-REFRESH (RFC 2918,
 * with the RFC 7313 subtypes).
 *
 * msg_header_check() is the only place that judges a header; it never
 * consumes the caller's buffer, so a session can peek at the first 19 bytes
 * of its input, learn the length, and carve the body once it has arrived.
 * Builders start with msg_new(), append through the ibuf writers and finish
 * with msg_close(), which fills in the length field.
 */
#include <string.h>

#include "bgp/wire.h"
#include "lib/log.h"

/*
 * Per-type length bounds.  max 0 means "whatever the session allows"
 * (4096, or 65535 once RFC 8654 extended messages are negotiated); OPEN and
 * KEEPALIVE stay within 4096 whatever was negotiated (RFC 8654 §3).
 */
static const struct {
	const char *name;
	uint16_t min;
	uint16_t max;
} msg_bounds[] = {
    [MSG_OPEN] = {"OPEN", BGP_OPEN_MIN_LEN, BGP_MAX_LEN},
    [MSG_UPDATE] = {"UPDATE", BGP_UPDATE_MIN_LEN, 0},
    [MSG_NOTIFICATION] = {"NOTIFICATION", BGP_NOTIFICATION_MIN_LEN, 0},
    [MSG_KEEPALIVE] = {"KEEPALIVE", BGP_KEEPALIVE_LEN, BGP_KEEPALIVE_LEN},
    /* RFC 7313 subtypes are 23 bytes too; ORF would be longer */
    [MSG_RREFRESH] = {"ROUTE-REFRESH", BGP_RREFRESH_LEN, 0},
};

#define MSG_NTYPES (sizeof(msg_bounds) / sizeof(msg_bounds[0]))

/*
 * Validates a header: hdr holds at least the first 19 bytes of a message
 * and is left untouched.  On success *type and *len describe the message and
 * the caller reads len - 19 body bytes next.  The NOTIFICATION data the
 * errors carry is what RFC 4271 §6.1 asks for: the length field for Bad
 * Message Length, the type byte for Bad Message Type.
 */
int
msg_header_check(struct ibuf *hdr, size_t maxlen, uint8_t *type, uint16_t *len,
    struct bgp_err *err)
{
	struct ibuf h;
	uint8_t marker[BGP_MARKER_LEN], lenfield[2], t;
	uint16_t l;
	size_t max;
	int i;

	ibuf_from_ibuf(&h, hdr);
	if (ibuf_get(&h, marker, sizeof(marker)) == -1 ||
	    ibuf_get(&h, lenfield, sizeof(lenfield)) == -1 ||
	    ibuf_get_n8(&h, &t) == -1) {
		err_set(err, ERR_HDR_LEN, NULL, 0, "short header (%zu bytes)",
		    ibuf_size(hdr));
		return -1;
	}
	l = (uint16_t)(lenfield[0] << 8 | lenfield[1]);
	*type = t;
	*len = l;

	for (i = 0; i < BGP_MARKER_LEN; i++) {
		if (marker[i] != 0xff) {
			err_set(err, ERR_HDR_SYNC, NULL, 0,
			    "marker is not all ones");
			return -1;
		}
	}
	if (maxlen > BGP_EXT_MAX_LEN)
		maxlen = BGP_EXT_MAX_LEN;
	if (l < BGP_HDR_LEN || l > maxlen) {
		err_set(err, ERR_HDR_LEN, lenfield, sizeof(lenfield),
		    "bad length %u (limit %zu)", l, maxlen);
		return -1;
	}
	if (t >= MSG_NTYPES || msg_bounds[t].name == NULL) {
		err_set(err, ERR_HDR_TYPE, &t, sizeof(t), "bad type %u", t);
		return -1;
	}
	max = msg_bounds[t].max ? msg_bounds[t].max : maxlen;
	if (l < msg_bounds[t].min || l > max) {
		err_set(err, ERR_HDR_LEN, lenfield, sizeof(lenfield),
		    "bad length %u for %s", l, msg_bounds[t].name);
		return -1;
	}
	return 0;
}

/*
 * A new message of the given type: marker, length placeholder, type.  maxlen
 * bounds the whole message; appends beyond it fail, so builders notice.
 * The caller owns the buffer (ibuf_free).
 */
struct ibuf *
msg_new(enum msg_type type, size_t maxlen)
{
	struct ibuf *buf;
	uint8_t marker[BGP_MARKER_LEN];
	int errs = 0;

	if (maxlen > BGP_EXT_MAX_LEN)
		maxlen = BGP_EXT_MAX_LEN;
	memset(marker, 0xff, sizeof(marker));
	buf = ibuf_dynamic(BGP_HDR_LEN, maxlen);
	errs += ibuf_add(buf, marker, sizeof(marker));
	errs += ibuf_add_n16(buf, 0);
	errs += ibuf_add_n8(buf, type);
	if (errs)
		fatalx("%s: cannot write a header", __func__);
	return buf;
}

/* fills in the length; -1 if the message is too long for its buffer */
int
msg_close(struct ibuf *buf)
{
	size_t len = ibuf_wpos(buf);
	size_t max = buf->max ? buf->max : buf->size;

	if (len < BGP_HDR_LEN || len > max || len > BGP_EXT_MAX_LEN)
		return -1;
	return ibuf_set_n16(buf, BGP_MARKER_LEN, len);
}

struct ibuf *
msg_keepalive(void)
{
	struct ibuf *buf = msg_new(MSG_KEEPALIVE, BGP_KEEPALIVE_LEN);

	if (msg_close(buf) == -1)
		fatalx("%s: cannot close", __func__);
	return buf;
}

/*
 * A NOTIFICATION for err: code and subcode from err.c's table, then the
 * data.  The data was already truncated to BGP_ERR_DATA_MAX, so the message
 * always fits in 4096 bytes.
 */
struct ibuf *
msg_notification(const struct bgp_err *err)
{
	struct ibuf *buf;
	int errs = 0;

	buf = msg_new(MSG_NOTIFICATION, BGP_MAX_LEN);
	errs += ibuf_add_n8(buf, err_code(err->err));
	errs += ibuf_add_n8(buf, err_subcode(err->err));
	errs += ibuf_add(buf, err->data, err->datalen);
	if (errs || msg_close(buf) == -1) {
		ibuf_free(buf);
		return NULL;
	}
	return buf;
}

/* body of a NOTIFICATION: code, subcode and a view of the data */
int
msg_notification_parse(
    struct ibuf *body, uint8_t *code, uint8_t *subcode, struct ibuf *data)
{
	if (ibuf_get_n8(body, code) == -1 || ibuf_get_n8(body, subcode) == -1)
		return -1;
	return ibuf_get_ibuf(body, ibuf_size(body), data);
}

/* ROUTE-REFRESH: AFI(2), subtype (reserved before RFC 7313)(1), SAFI(1) */
struct ibuf *
msg_rrefresh(enum aid aid, uint8_t subtype)
{
	struct ibuf *buf;
	int errs = 0;

	if (aid >= AID_MAX)
		return NULL;
	buf = msg_new(MSG_RREFRESH, BGP_RREFRESH_LEN);
	errs += ibuf_add_n16(buf, aid_afi(aid));
	errs += ibuf_add_n8(buf, subtype);
	errs += ibuf_add_n8(buf, aid_safi(aid));
	if (errs || msg_close(buf) == -1) {
		ibuf_free(buf);
		return NULL;
	}
	return buf;
}

/*
 * RFC 7313 §5: a bad length is ROUTE-REFRESH Message Error / Invalid
 * Message Length, and the data is the complete message.  We received only
 * the body, so the header is rebuilt around it.
 */
static void
msg_rrefresh_badlen(struct ibuf *body, struct bgp_err *err)
{
	uint8_t data[BGP_ERR_DATA_MAX];
	size_t blen = ibuf_size(body), n, wirelen;

	n = blen + BGP_HDR_LEN;
	wirelen = n > BGP_EXT_MAX_LEN ? BGP_EXT_MAX_LEN : n;
	memset(data, 0xff, BGP_MARKER_LEN);
	data[BGP_MARKER_LEN] = wirelen >> 8;
	data[BGP_MARKER_LEN + 1] = wirelen & 0xff;
	data[BGP_MARKER_LEN + 2] = MSG_RREFRESH;
	if (n > sizeof(data))
		n = sizeof(data);
	if (ibuf_get(body, data + BGP_HDR_LEN, n - BGP_HDR_LEN) == -1)
		fatalx("%s: short body", __func__);
	err_set(err, ERR_RREFRESH_LEN, data, n, "bad ROUTE-REFRESH length %zu",
	    blen + BGP_HDR_LEN);
}

/*
 * Body of a ROUTE-REFRESH.  Returns -1 with err->err == ERR_NONE for a
 * message to be ignored: an AFI/SAFI we do not speak (RFC 2918 §4) or an
 * unknown subtype (RFC 7313 §5).
 */
int
msg_rrefresh_parse(
    struct ibuf *body, enum aid *aid, uint8_t *subtype, struct bgp_err *err)
{
	uint16_t afi;
	uint8_t safi;

	/* we never offer ORF (RFC 5291), so every valid body is 4 bytes */
	if (ibuf_size(body) != BGP_RREFRESH_LEN - BGP_HDR_LEN) {
		msg_rrefresh_badlen(body, err);
		return -1;
	}
	if (ibuf_get_n16(body, &afi) == -1 ||
	    ibuf_get_n8(body, subtype) == -1 || ibuf_get_n8(body, &safi) == -1)
		fatalx("%s: short body", __func__);
	if (*subtype > RREFRESH_EORR) {
		err_set(err, ERR_NONE, NULL, 0,
		    "ROUTE-REFRESH with unknown subtype %u ignored", *subtype);
		return -1;
	}
	if (aid_from_afi(afi, safi, aid) == -1) {
		err_set(err, ERR_NONE, NULL, 0,
		    "ROUTE-REFRESH for unsupported AFI %u SAFI %u ignored", afi,
		    safi);
		return -1;
	}
	return 0;
}
