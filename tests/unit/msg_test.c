/*
 * bgp/msg.c: header validation (RFC 4271 §6.1, RFC 8654), KEEPALIVE,
 * NOTIFICATION and ROUTE-REFRESH (RFC 2918, RFC 7313) against byte vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bgp/wire.h"

#define MARKER                                                                 \
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,      \
	    0xff, 0xff, 0xff, 0xff, 0xff

/* a 19-byte header with the given length and type */
static void
hdr_make(uint8_t *h, uint16_t len, uint8_t type)
{
	memset(h, 0xff, BGP_MARKER_LEN);
	h[16] = len >> 8;
	h[17] = len & 0xff;
	h[18] = type;
}

static int
hdr_run(uint16_t len, uint8_t type, size_t maxlen, struct bgp_err *err)
{
	uint8_t h[BGP_HDR_LEN];
	struct ibuf b;
	uint8_t t;
	uint16_t l;
	int rv;

	hdr_make(h, len, type);
	ibuf_from_buffer(&b, h, sizeof(h));
	memset(err, 0, sizeof(*err));
	rv = msg_header_check(&b, maxlen, &t, &l, err);
	if (rv == 0) {
		assert_int_equal(t, type);
		assert_int_equal(l, len);
	}
	return rv;
}

/* a header rejected for its length carries the length field as data */
static void
hdr_expect_badlen(uint16_t len, uint8_t type, size_t maxlen)
{
	struct bgp_err err;

	assert_int_equal(hdr_run(len, type, maxlen, &err), -1);
	assert_int_equal(err.err, ERR_HDR_LEN);
	assert_int_equal(err.datalen, 2);
	assert_int_equal(err.data[0], len >> 8);
	assert_int_equal(err.data[1], len & 0xff);
	assert_int_equal(err_code(err.err), 1);
	assert_int_equal(err_subcode(err.err), 2);
}

static void
test_header_valid(void **state)
{
	static const struct {
		uint16_t len;
		uint8_t type;
		size_t maxlen;
	} ok[] = {
	    {19, MSG_KEEPALIVE, BGP_MAX_LEN}, {29, MSG_OPEN, BGP_MAX_LEN},
	    {4096, MSG_OPEN, BGP_MAX_LEN}, {4096, MSG_OPEN, BGP_EXT_MAX_LEN},
	    {23, MSG_UPDATE, BGP_MAX_LEN}, {4096, MSG_UPDATE, BGP_MAX_LEN},
	    {65535, MSG_UPDATE, BGP_EXT_MAX_LEN},
	    {21, MSG_NOTIFICATION, BGP_MAX_LEN},
	    {8000, MSG_NOTIFICATION, BGP_EXT_MAX_LEN},
	    {23, MSG_RREFRESH, BGP_MAX_LEN},
	    {27, MSG_RREFRESH, BGP_MAX_LEN}, /* ORF: judged by the parser */
	};
	struct bgp_err err;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(
		    hdr_run(ok[i].len, ok[i].type, ok[i].maxlen, &err), 0);
}

/* a real KEEPALIVE, and the header must not be consumed */
static void
test_header_keepalive_vector(void **state)
{
	const uint8_t ka[] = {MARKER, 0x00, 0x13, 0x04};
	struct bgp_err err;
	struct ibuf b;
	uint8_t t;
	uint16_t l;

	ibuf_from_buffer(&b, ka, sizeof(ka));
	assert_int_equal(msg_header_check(&b, BGP_MAX_LEN, &t, &l, &err), 0);
	assert_int_equal(t, MSG_KEEPALIVE);
	assert_int_equal(l, 19);
	assert_int_equal(ibuf_size(&b), 19);
}

static void
test_header_sync(void **state)
{
	uint8_t h[BGP_HDR_LEN];
	struct bgp_err err;
	struct ibuf b;
	uint8_t t;
	uint16_t l;
	int i;

	/* any marker byte off breaks synchronisation, length even worse */
	for (i = 0; i < BGP_MARKER_LEN; i++) {
		hdr_make(h, 3, MSG_KEEPALIVE);
		h[i] = 0xfe;
		ibuf_from_buffer(&b, h, sizeof(h));
		assert_int_equal(
		    msg_header_check(&b, BGP_MAX_LEN, &t, &l, &err), -1);
		assert_int_equal(err.err, ERR_HDR_SYNC);
		assert_int_equal(err.datalen, 0);
		assert_int_equal(err_code(err.err), 1);
		assert_int_equal(err_subcode(err.err), 1);
	}
}

static void
test_header_length(void **state)
{
	struct bgp_err err;

	/* general bounds */
	hdr_expect_badlen(0, MSG_KEEPALIVE, BGP_MAX_LEN);
	hdr_expect_badlen(18, MSG_KEEPALIVE, BGP_MAX_LEN);
	hdr_expect_badlen(4097, MSG_UPDATE, BGP_MAX_LEN);
	hdr_expect_badlen(65535, MSG_UPDATE, BGP_MAX_LEN);
	hdr_expect_badlen(2000, MSG_UPDATE, 1000);
	/* per type */
	hdr_expect_badlen(28, MSG_OPEN, BGP_MAX_LEN);
	hdr_expect_badlen(22, MSG_UPDATE, BGP_MAX_LEN);
	hdr_expect_badlen(20, MSG_NOTIFICATION, BGP_MAX_LEN);
	hdr_expect_badlen(20, MSG_KEEPALIVE, BGP_MAX_LEN);
	hdr_expect_badlen(22, MSG_RREFRESH, BGP_MAX_LEN);
	hdr_expect_badlen(19, MSG_RREFRESH, BGP_MAX_LEN);
	/* RFC 8654 §3: OPEN and KEEPALIVE never grow */
	hdr_expect_badlen(4097, MSG_OPEN, BGP_EXT_MAX_LEN);
	hdr_expect_badlen(4097, MSG_KEEPALIVE, BGP_EXT_MAX_LEN);
	hdr_expect_badlen(4097, MSG_NOTIFICATION, BGP_MAX_LEN);

	assert_int_equal(hdr_run(20, MSG_KEEPALIVE, BGP_MAX_LEN, &err), -1);
	assert_string_equal(err.reason, "bad length 20 for KEEPALIVE");
	assert_int_equal(hdr_run(28, MSG_OPEN, BGP_MAX_LEN, &err), -1);
	assert_string_equal(err.reason, "bad length 28 for OPEN");
}

static void
test_header_type(void **state)
{
	const uint8_t bad[] = {0, 6, 7, 128, 255};
	struct bgp_err err;
	size_t i;

	for (i = 0; i < sizeof(bad); i++) {
		assert_int_equal(hdr_run(19, bad[i], BGP_MAX_LEN, &err), -1);
		assert_int_equal(err.err, ERR_HDR_TYPE);
		assert_int_equal(err.datalen, 1);
		assert_int_equal(err.data[0], bad[i]);
		assert_int_equal(err_code(err.err), 1);
		assert_int_equal(err_subcode(err.err), 3);
	}
}

static void
test_header_short(void **state)
{
	const uint8_t h[] = {MARKER, 0x00, 0x13};
	struct bgp_err err;
	struct ibuf b;
	uint8_t t;
	uint16_t l;

	ibuf_from_buffer(&b, h, sizeof(h));
	assert_int_equal(msg_header_check(&b, BGP_MAX_LEN, &t, &l, &err), -1);
	assert_int_equal(err.err, ERR_HDR_LEN);
}

static void
test_keepalive(void **state)
{
	const uint8_t want[] = {MARKER, 0x00, 0x13, 0x04};
	struct ibuf *b = msg_keepalive();

	assert_int_equal(ibuf_size(b), sizeof(want));
	assert_memory_equal(ibuf_data(b), want, sizeof(want));
	ibuf_free(b);
}

static void
test_msg_new_close(void **state)
{
	const uint8_t want[] = {
	    MARKER, 0x00, 0x1e, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	struct ibuf *b;
	struct bgp_err err;
	uint8_t t;
	uint16_t l;

	b = msg_new(MSG_UPDATE, 30);
	assert_int_equal(ibuf_size(b), BGP_HDR_LEN);
	assert_int_equal(ibuf_add_zero(b, 11), 0);
	/* the 31st byte does not fit */
	assert_int_equal(ibuf_add_n8(b, 0), -1);
	assert_int_equal(msg_close(b), 0);
	assert_int_equal(ibuf_size(b), 30);
	assert_memory_equal(ibuf_data(b), want, sizeof(want));
	ibuf_free(b);

	/* an extended UPDATE: fine with RFC 8654, too long without */
	b = msg_new(MSG_UPDATE, BGP_EXT_MAX_LEN);
	assert_int_equal(ibuf_add_zero(b, 10000 - BGP_HDR_LEN), 0);
	assert_int_equal(msg_close(b), 0);
	assert_int_equal(msg_header_check(b, BGP_EXT_MAX_LEN, &t, &l, &err), 0);
	assert_int_equal(l, 10000);
	assert_int_equal(msg_header_check(b, BGP_MAX_LEN, &t, &l, &err), -1);
	assert_int_equal(err.err, ERR_HDR_LEN);
	ibuf_free(b);

	/* a message longer than its buffer's limit is refused */
	b = msg_new(MSG_UPDATE, 100);
	assert_int_equal(ibuf_add_zero(b, 60), 0);
	b->max = 50;
	assert_int_equal(msg_close(b), -1);
	ibuf_free(b);
}

static void
test_notification_build(void **state)
{
	const uint8_t hold[] = {MARKER, 0x00, 0x15, 0x03, 0x02, 0x06};
	const uint8_t hdrlen[] = {
	    MARKER, 0x00, 0x17, 0x03, 0x01, 0x02, 0x00, 0x12};
	const uint8_t shut[] = {
	    MARKER, 0x00, 0x19, 0x03, 0x06, 0x02, 0x03, 'b', 'y', 'e'};
	const uint8_t len18[] = {0x00, 0x12};
	const uint8_t comm[] = {3, 'b', 'y', 'e'};
	struct bgp_err err;
	struct ibuf *b;

	err_set(&err, ERR_OPEN_HOLD, NULL, 0, "hold 1");
	b = msg_notification(&err);
	assert_int_equal(ibuf_size(b), sizeof(hold));
	assert_memory_equal(ibuf_data(b), hold, sizeof(hold));
	ibuf_free(b);

	err_set(&err, ERR_HDR_LEN, len18, sizeof(len18), NULL);
	b = msg_notification(&err);
	assert_int_equal(ibuf_size(b), sizeof(hdrlen));
	assert_memory_equal(ibuf_data(b), hdrlen, sizeof(hdrlen));
	ibuf_free(b);

	/* RFC 8203 shutdown communication is just data to us */
	err_set(&err, ERR_CEASE_ADMIN_DOWN, comm, sizeof(comm), NULL);
	b = msg_notification(&err);
	assert_int_equal(ibuf_size(b), sizeof(shut));
	assert_memory_equal(ibuf_data(b), shut, sizeof(shut));
	ibuf_free(b);
}

static void
test_notification_parse(void **state)
{
	const uint8_t cease[] = {0x06, 0x02, 0x03, 'b', 'y', 'e'};
	const uint8_t nodata[] = {0x04, 0x00};
	const uint8_t one[] = {0x04};
	struct ibuf b, data;
	uint8_t code, sub;

	ibuf_from_buffer(&b, cease, sizeof(cease));
	assert_int_equal(msg_notification_parse(&b, &code, &sub, &data), 0);
	assert_int_equal(code, 6);
	assert_int_equal(sub, 2);
	assert_int_equal(ibuf_size(&data), 4);
	assert_memory_equal(ibuf_data(&data), cease + 2, 4);
	assert_int_equal(ibuf_size(&b), 0);

	ibuf_from_buffer(&b, nodata, sizeof(nodata));
	assert_int_equal(msg_notification_parse(&b, &code, &sub, &data), 0);
	assert_int_equal(code, 4);
	assert_int_equal(sub, 0);
	assert_int_equal(ibuf_size(&data), 0);

	ibuf_from_buffer(&b, one, sizeof(one));
	assert_int_equal(msg_notification_parse(&b, &code, &sub, &data), -1);
	ibuf_from_buffer(&b, one, 0);
	assert_int_equal(msg_notification_parse(&b, &code, &sub, &data), -1);
}

/* build -> header check -> parse, for each subtype and family */
static void
test_rrefresh_roundtrip(void **state)
{
	const uint8_t v6borr[] = {
	    MARKER, 0x00, 0x17, 0x05, 0x00, 0x02, 0x01, 0x01};
	const uint8_t v4[] = {MARKER, 0x00, 0x17, 0x05, 0x00, 0x01, 0x00, 0x01};
	struct bgp_err err;
	struct ibuf *b, body;
	enum aid aid;
	uint8_t t, sub, st;
	uint16_t l;
	int a;

	b = msg_rrefresh(AID_IPV6, RREFRESH_BORR);
	assert_int_equal(ibuf_size(b), sizeof(v6borr));
	assert_memory_equal(ibuf_data(b), v6borr, sizeof(v6borr));
	ibuf_free(b);
	b = msg_rrefresh(AID_IPV4, RREFRESH_NORMAL);
	assert_memory_equal(ibuf_data(b), v4, sizeof(v4));
	ibuf_free(b);

	for (a = 0; a < AID_MAX; a++) {
		for (st = RREFRESH_NORMAL; st <= RREFRESH_EORR; st++) {
			b = msg_rrefresh(a, st);
			assert_int_equal(
			    msg_header_check(b, BGP_MAX_LEN, &t, &l, &err), 0);
			assert_int_equal(t, MSG_RREFRESH);
			ibuf_from_buffer(&body,
			    (uint8_t *)ibuf_data(b) + BGP_HDR_LEN,
			    l - BGP_HDR_LEN);
			assert_int_equal(
			    msg_rrefresh_parse(&body, &aid, &sub, &err), 0);
			assert_int_equal(aid, a);
			assert_int_equal(sub, st);
			ibuf_free(b);
		}
	}
	assert_null(msg_rrefresh(AID_MAX, 0));
}

static void
test_rrefresh_parse_errors(void **state)
{
	const uint8_t longer[] = {0x00, 0x01, 0x01, 0x01, 0xaa};
	const uint8_t want[] = {
	    MARKER, 0x00, 0x18, 0x05, 0x00, 0x01, 0x01, 0x01, 0xaa};
	const uint8_t shorter[] = {0x00, 0x01, 0x00};
	const uint8_t l2vpn[] = {0x00, 0x19, 0x00, 0x41};
	const uint8_t v4mcast[] = {0x00, 0x01, 0x00, 0x02};
	const uint8_t subtype3[] = {0x00, 0x01, 0x03, 0x01};
	struct bgp_err err;
	struct ibuf b;
	enum aid aid;
	uint8_t sub;

	/* RFC 7313 §5: 7/1 with the whole message as data */
	ibuf_from_buffer(&b, longer, sizeof(longer));
	assert_int_equal(msg_rrefresh_parse(&b, &aid, &sub, &err), -1);
	assert_int_equal(err.err, ERR_RREFRESH_LEN);
	assert_int_equal(err_code(err.err), 7);
	assert_int_equal(err_subcode(err.err), 1);
	assert_int_equal(err.datalen, sizeof(want));
	assert_memory_equal(err.data, want, sizeof(want));

	ibuf_from_buffer(&b, shorter, sizeof(shorter));
	assert_int_equal(msg_rrefresh_parse(&b, &aid, &sub, &err), -1);
	assert_int_equal(err.err, ERR_RREFRESH_LEN);
	assert_int_equal(err.datalen, BGP_HDR_LEN + sizeof(shorter));

	/* RFC 2918 §4: a family we do not speak is ignored */
	ibuf_from_buffer(&b, l2vpn, sizeof(l2vpn));
	err.err = ERR_HDR_SYNC;
	assert_int_equal(msg_rrefresh_parse(&b, &aid, &sub, &err), -1);
	assert_int_equal(err.err, ERR_NONE);
	assert_non_null(strstr(err.reason, "AFI 25 SAFI 65"));
	ibuf_from_buffer(&b, v4mcast, sizeof(v4mcast));
	assert_int_equal(msg_rrefresh_parse(&b, &aid, &sub, &err), -1);
	assert_int_equal(err.err, ERR_NONE);

	/* RFC 7313 §5: an unknown subtype is ignored */
	ibuf_from_buffer(&b, subtype3, sizeof(subtype3));
	err.err = ERR_HDR_SYNC;
	assert_int_equal(msg_rrefresh_parse(&b, &aid, &sub, &err), -1);
	assert_int_equal(err.err, ERR_NONE);
	assert_int_equal(sub, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header_valid),
	    cmocka_unit_test(test_header_keepalive_vector),
	    cmocka_unit_test(test_header_sync),
	    cmocka_unit_test(test_header_length),
	    cmocka_unit_test(test_header_type),
	    cmocka_unit_test(test_header_short),
	    cmocka_unit_test(test_keepalive),
	    cmocka_unit_test(test_msg_new_close),
	    cmocka_unit_test(test_notification_build),
	    cmocka_unit_test(test_notification_parse),
	    cmocka_unit_test(test_rrefresh_roundtrip),
	    cmocka_unit_test(test_rrefresh_parse_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
