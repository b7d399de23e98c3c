/*
 * UPDATE decoding and building (bgp/update.c): RFC 7606 outcomes for every
 * attribute as byte vectors, AS4_PATH merging, End-of-RIB, build -> parse
 * round trips and packing, and real UPDATEs captured from BIRD 2 and GoBGP
 * (tests/data/bird2-ebgp.hex and gobgp-ebgp.hex, made by
 * tests/data/capture-updates.sh).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "bgp/wire.h"
#include "lib/log.h"
#include "tests/unit/vectors.h"

enum outcome {
	OK,
	DISCARD, /* parsed, an attribute discarded */
	TW, /* treat-as-withdraw */
	RESET, /* session reset */
};

static const struct update_ctx ibgp4 = {.as4 = true, .maxlen = 4096};

#define ORIGIN_IGP_HEX "40010100"
#define ASPATH4_HEX "400206 0201 0000fde9" /* AS_SEQUENCE 65001 */
#define ASPATH2_HEX "400204 0201 fde9" /* the same, 2-octet */
#define NH_HEX "400304 c0000201" /* 192.0.2.1 */
#define BASE4 ORIGIN_IGP_HEX ASPATH4_HEX NH_HEX
#define BASE2 ORIGIN_IGP_HEX ASPATH2_HEX NH_HEX
#define NLRI_HEX "18c61200" /* 198.18.0.0/24 */
/* MP_REACH_NLRI IPv6, next hop 2001:db8::1, 2001:db8:1::/48 */
#define MPREACH6_HEX                                                           \
	"800e1c 0002 01 10 20010db8000000000000000000000001 00 "               \
	"30 20010db80001"

static void
test_basic_ipv4(void **state)
{
	struct update u;
	struct bgp_err e;
	uint32_t path[4];

	(void)state;
	assert_int_equal(
	    parse(&ibgp4, "",
	        ORIGIN_IGP_HEX "40020a 0202 0000fde9 0000fdea" NH_HEX
	                       "80040400000064" /* MED 100 */
	                       "40050400000096" /* LOCAL_PREF 150 */
	                       "c00808 fde90001 ffffff01" /* communities */
	                       "c0200c 0000fde9 00000001 00000002",
	        "18c61200 1ac6120100", &u, &e),
	    0);
	assert_false(u.treat_as_withdraw);
	assert_true(u.has_attrs);
	assert_int_equal(u.discarded, 0);
	assert_false(u.eor);
	assert_int_equal(u.nannounced, 2);
	assert_prefix(&u.announced[0], "198.18.0.0/24", 0);
	assert_prefix(&u.announced[1], "198.18.1.0/26", 0);
	assert_int_equal(u.nwithdrawn, 0);
	assert_addr(&u.nexthop[AID_IPV4], "192.0.2.1");
	assert_int_equal(u.attrs.flags & ATTRF_NEXTHOP, 0);
	assert_int_equal(u.attrs.origin, ORIGIN_IGP);
	assert_int_equal(u.attrs.flags,
	    ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_MED | ATTRF_LOCALPREF);
	assert_int_equal(u.attrs.med, 100);
	assert_int_equal(u.attrs.local_pref, 150);
	assert_int_equal(u.attrs.aspath_count, 2);
	assert_int_equal(aspath_to_array(&u.attrs, path, 4), 2);
	assert_int_equal(path[0], 65001);
	assert_int_equal(path[1], 65002);
	assert_int_equal(u.attrs.ncommunities, 2);
	assert_int_equal(u.attrs.communities[0], 0xfde90001);
	assert_int_equal(u.attrs.communities[1], 0xffffff01);
	assert_int_equal(u.attrs.nlarge, 1);
	assert_int_equal(u.attrs.large[0], 65001);
	assert_int_equal(u.attrs.large[2], 2);
	update_clean(&u);
}

/*
 * Every attribute, good and malformed, and what RFC 7606 does with it.
 * Each vector is a whole attribute section, sent with 198.18.0.0/24 in the
 * NLRI field unless nlri says otherwise.
 */
struct attr_vec {
	const char *name;
	bool as2; /* the session is 2-octet */
	bool ebgp; /* the peer is external */
	const char *attrs;
	enum outcome want;
	enum bgp_error code; /* of the reset or treat-as-withdraw */
	const char *nlri; /* NULL: NLRI_HEX */
};

static const struct attr_vec attr_vecs[] = {
    {"base", false, false, BASE4, OK, 0, NULL},
    {"base 2-octet", true, false, BASE2, OK, 0, NULL},
    {"base ebgp", false, true, BASE4, OK, 0, NULL},
    {"no NLRI, no mandatory", false, false, "80040400000001", OK, 0, ""},
    /* ORIGIN, RFC 7606 §7.1 */
    {"ORIGIN 2", false, false, "40010102" ASPATH4_HEX NH_HEX, OK, 0, NULL},
    {"ORIGIN 3", false, false, "40010103" ASPATH4_HEX NH_HEX, TW,
        ERR_UPD_ORIGIN, NULL},
    {"ORIGIN len 2", false, false, "4001020000" ASPATH4_HEX NH_HEX, TW,
        ERR_UPD_ORIGIN, NULL},
    {"ORIGIN len 0", false, false, "400100" ASPATH4_HEX NH_HEX, TW,
        ERR_UPD_ORIGIN, NULL},
    {"ORIGIN optional", false, false, "c0010100" ASPATH4_HEX NH_HEX, TW,
        ERR_UPD_ATTRFLAGS, NULL},
    {"ORIGIN non-transitive", false, false, "00010100" ASPATH4_HEX NH_HEX, TW,
        ERR_UPD_ATTRFLAGS, NULL},
    {"ORIGIN partial ok", false, false, "60010100" ASPATH4_HEX NH_HEX, OK, 0,
        NULL},
    {"ORIGIN extlen", false, false, "5001000100" ASPATH4_HEX NH_HEX, OK, 0,
        NULL},
    {"ORIGIN missing", false, false, ASPATH4_HEX NH_HEX, TW, ERR_UPD_MISSING_WK,
        NULL},
    /* AS_PATH, RFC 7606 §7.2 */
    {"AS_PATH empty", false, false, ORIGIN_IGP_HEX "400200" NH_HEX, OK, 0,
        NULL},
    {"AS_PATH count 0", false, false, ORIGIN_IGP_HEX "4002020200" NH_HEX, TW,
        ERR_UPD_ASPATH, NULL},
    {"AS_PATH type 5", false, false,
        ORIGIN_IGP_HEX "400206 0501 0000fde9" NH_HEX, TW, ERR_UPD_ASPATH, NULL},
    {"AS_PATH type 0", false, false,
        ORIGIN_IGP_HEX "400206 0001 0000fde9" NH_HEX, TW, ERR_UPD_ASPATH, NULL},
    {"AS_PATH overrun", false, false,
        ORIGIN_IGP_HEX "400206 0202 0000fde9" NH_HEX, TW, ERR_UPD_ASPATH, NULL},
    {"AS_PATH lone octet", false, false,
        ORIGIN_IGP_HEX "400207 0201 0000fde9 02" NH_HEX, TW, ERR_UPD_ASPATH,
        NULL},
    {"AS_PATH 2-octet on 4-octet session", false, false,
        ORIGIN_IGP_HEX "400204 0201 fde9" NH_HEX, TW, ERR_UPD_ASPATH, NULL},
    {"AS_PATH 4-octet on 2-octet session", true, false,
        ORIGIN_IGP_HEX "400206 0201 0000fde9" NH_HEX, TW, ERR_UPD_ASPATH, NULL},
    {"AS_PATH confed from ibgp", false, false,
        ORIGIN_IGP_HEX "40020c 0301 0000fdea 0201 0000fde9" NH_HEX, OK, 0,
        NULL},
    {"AS_PATH confed from ebgp", false, true,
        ORIGIN_IGP_HEX "40020c 0301 0000fdea 0201 0000fde9" NH_HEX, TW,
        ERR_UPD_ASPATH, NULL},
    {"AS_PATH set", false, false,
        ORIGIN_IGP_HEX "40020c 0201 0000fde9 0101 0000fdea" NH_HEX, OK, 0,
        NULL},
    {"AS_PATH optional", false, false,
        ORIGIN_IGP_HEX "c00206 0201 0000fde9" NH_HEX, TW, ERR_UPD_ATTRFLAGS,
        NULL},
    {"AS_PATH missing", false, false, ORIGIN_IGP_HEX NH_HEX, TW,
        ERR_UPD_MISSING_WK, NULL},
    /* NEXT_HOP, RFC 7606 §7.3 */
    {"NEXT_HOP len 5", false, false,
        ORIGIN_IGP_HEX ASPATH4_HEX "400305 c000020100", TW, ERR_UPD_ATTRLEN,
        NULL},
    {"NEXT_HOP 0.0.0.0", false, false,
        ORIGIN_IGP_HEX ASPATH4_HEX "400304 00000000", TW, ERR_UPD_NEXTHOP,
        NULL},
    {"NEXT_HOP multicast", false, false,
        ORIGIN_IGP_HEX ASPATH4_HEX "400304 e0000001", TW, ERR_UPD_NEXTHOP,
        NULL},
    {"NEXT_HOP broadcast", false, false,
        ORIGIN_IGP_HEX ASPATH4_HEX "400304 ffffffff", TW, ERR_UPD_NEXTHOP,
        NULL},
    {"NEXT_HOP optional", false, false,
        ORIGIN_IGP_HEX ASPATH4_HEX "c00304 c0000201", TW, ERR_UPD_ATTRFLAGS,
        NULL},
    {"NEXT_HOP missing", false, false, ORIGIN_IGP_HEX ASPATH4_HEX, TW,
        ERR_UPD_MISSING_WK, NULL},
    {"NEXT_HOP bad, MP only", false, false,
        MPREACH6_HEX ORIGIN_IGP_HEX ASPATH4_HEX "400304 00000000", DISCARD, 0,
        ""},
    {"NEXT_HOP missing, MP only", false, false,
        MPREACH6_HEX ORIGIN_IGP_HEX ASPATH4_HEX, OK, 0, ""},
    /* MULTI_EXIT_DISC, RFC 7606 §7.4 */
    {"MED", false, false, BASE4 "80040400000001", OK, 0, NULL},
    {"MED len 3", false, false, BASE4 "800403000001", TW, ERR_UPD_ATTRLEN,
        NULL},
    {"MED well-known", false, false, BASE4 "40040400000001", TW,
        ERR_UPD_ATTRFLAGS, NULL},
    {"MED transitive", false, false, BASE4 "c0040400000001", TW,
        ERR_UPD_ATTRFLAGS, NULL},
    /* LOCAL_PREF, RFC 7606 §7.5 */
    {"LOCAL_PREF", false, false, BASE4 "40050400000064", OK, 0, NULL},
    {"LOCAL_PREF len 3", false, false, BASE4 "400503000064", TW,
        ERR_UPD_ATTRLEN, NULL},
    {"LOCAL_PREF from ebgp", false, true, BASE4 "40050400000064", DISCARD, 0,
        NULL},
    {"LOCAL_PREF len 3 from ebgp", false, true, BASE4 "400503000064", DISCARD,
        0, NULL},
    {"LOCAL_PREF missing is fine", false, false, BASE4, OK, 0, NULL},
    /* ATOMIC_AGGREGATE, RFC 7606 §7.6 */
    {"ATOMIC_AGGREGATE", false, false, BASE4 "400600", OK, 0, NULL},
    {"ATOMIC_AGGREGATE len 1", false, false, BASE4 "40060100", DISCARD, 0,
        NULL},
    {"ATOMIC_AGGREGATE optional", false, false, BASE4 "c00600", DISCARD, 0,
        NULL},
    /* AGGREGATOR, RFC 7606 §7.7 */
    {"AGGREGATOR 8", false, false, BASE4 "c00708 0000fde9 c0000202", OK, 0,
        NULL},
    {"AGGREGATOR 6 on 4-octet", false, false, BASE4 "c00706 fde9 c0000202",
        DISCARD, 0, NULL},
    {"AGGREGATOR 6 on 2-octet", true, false, BASE2 "c00706 fde9 c0000202", OK,
        0, NULL},
    {"AGGREGATOR 8 on 2-octet", true, false, BASE2 "c00708 0000fde9 c0000202",
        DISCARD, 0, NULL},
    {"AGGREGATOR non-transitive", false, false,
        BASE4 "800708 0000fde9 c0000202", DISCARD, 0, NULL},
    /* COMMUNITIES, RFC 7606 §7.8 */
    {"COMMUNITIES", false, false, BASE4 "c00804 fde90064", OK, 0, NULL},
    {"COMMUNITIES len 3", false, false, BASE4 "c00803 fde900", TW,
        ERR_UPD_OPTATTR, NULL},
    {"COMMUNITIES len 0", false, false, BASE4 "c00800", TW, ERR_UPD_OPTATTR,
        NULL},
    {"COMMUNITIES well-known", false, false, BASE4 "400804 fde90064", TW,
        ERR_UPD_ATTRFLAGS, NULL},
    /* ORIGINATOR_ID, RFC 7606 §7.9 */
    {"ORIGINATOR_ID", false, false, BASE4 "800904 c0000203", OK, 0, NULL},
    {"ORIGINATOR_ID len 3", false, false, BASE4 "800903 c00002", TW,
        ERR_UPD_ATTRLEN, NULL},
    {"ORIGINATOR_ID from ebgp", false, true, BASE4 "800904 c0000203", DISCARD,
        0, NULL},
    /* CLUSTER_LIST, RFC 7606 §7.10 */
    {"CLUSTER_LIST", false, false, BASE4 "800a08 c0000201 c0000202", OK, 0,
        NULL},
    {"CLUSTER_LIST len 6", false, false, BASE4 "800a06 c0000201 0000", TW,
        ERR_UPD_ATTRLEN, NULL},
    {"CLUSTER_LIST len 0", false, false, BASE4 "800a00", TW, ERR_UPD_ATTRLEN,
        NULL},
    {"CLUSTER_LIST from ebgp", false, true, BASE4 "800a04 c0000201", DISCARD, 0,
        NULL},
    /* MP_REACH_NLRI / MP_UNREACH_NLRI, RFC 7606 §7.11 */
    {"MP_REACH IPv6", false, false, MPREACH6_HEX ORIGIN_IGP_HEX ASPATH4_HEX, OK,
        0, ""},
    {"MP_REACH extlen", false, false,
        "900e001c 0002 01 10 20010db8000000000000000000000001 00 "
        "30 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
        OK, 0, ""},
    {"MP_REACH truncated", false, false, "800e02 0002" BASE4, RESET,
        ERR_UPD_OPTATTR, NULL},
    {"MP_REACH no reserved octet", false, false,
        "800e14 0002 01 10 20010db8000000000000000000000001" BASE4, RESET,
        ERR_UPD_OPTATTR, NULL},
    {"MP_REACH IPv6 next hop len 8", false, false,
        "800e0d 0002 01 08 20010db800000000 00" BASE4, RESET, ERR_UPD_OPTATTR,
        NULL},
    {"MP_REACH IPv4 next hop len 16", false, false,
        "800e15 0001 01 10 20010db8000000000000000000000001 00" BASE4, RESET,
        ERR_UPD_OPTATTR, NULL},
    {"MP_REACH prefix /129", false, false,
        "800e1c 0002 01 10 20010db8000000000000000000000001 00 "
        "81 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
        RESET, ERR_UPD_OPTATTR, ""},
    {"MP_REACH prefix overrun", false, false,
        "800e1c 0002 01 10 20010db8000000000000000000000001 00 "
        "40 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
        RESET, ERR_UPD_OPTATTR, ""},
    {"MP_REACH twice", false, false,
        MPREACH6_HEX MPREACH6_HEX ORIGIN_IGP_HEX ASPATH4_HEX, RESET,
        ERR_UPD_ATTRLIST, ""},
    {"MP_REACH transitive", false, false,
        "c00e1c 0002 01 10 20010db8000000000000000000000001 00 "
        "30 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
        RESET, ERR_UPD_ATTRFLAGS, ""},
    {"MP_REACH next hop ::", false, false,
        "800e1c 0002 01 10 00000000000000000000000000000000 00 "
        "30 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
        TW, ERR_UPD_NEXTHOP, ""},
    {"MP_REACH next hop multicast", false, false,
        "800e1c 0002 01 10 ff020000000000000000000000000001 00 "
        "30 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
        TW, ERR_UPD_NEXTHOP, ""},
    {"MP_REACH unknown family", false, false,
        "800e0e 0019 41 04 c0000201 00 0102030405" BASE4, OK, 0, NULL},
    {"MP_REACH missing ORIGIN", false, false, MPREACH6_HEX ASPATH4_HEX, TW,
        ERR_UPD_MISSING_WK, ""},
    {"MP_UNREACH", false, false, "800f0a 0002 01 30 20010db80001", OK, 0, ""},
    {"MP_UNREACH truncated", false, false, "800f02 0002", RESET,
        ERR_UPD_OPTATTR, ""},
    {"MP_UNREACH bad prefix", false, false, "800f0a 0002 01 90 20010db80001",
        RESET, ERR_UPD_OPTATTR, ""},
    {"MP_UNREACH twice", false, false,
        "800f03 000201 800f0a 0002 01 30 20010db80001", RESET, ERR_UPD_ATTRLIST,
        ""},
    /* EXTENDED_COMMUNITIES, RFC 7606 §7.14 */
    {"EXT_COMMUNITIES", false, false, BASE4 "c01008 0002fde900000064", OK, 0,
        NULL},
    {"EXT_COMMUNITIES len 7", false, false, BASE4 "c01007 0002fde9000000", TW,
        ERR_UPD_OPTATTR, NULL},
    /* AS4_PATH / AS4_AGGREGATOR, RFC 6793 §6 */
    {"AS4_PATH on 4-octet session", false, false, BASE4 "c01106 0201 0000fde9",
        DISCARD, 0, NULL},
    {"AS4_PATH len 4", true, false, BASE2 "c01104 0201 fde9", DISCARD, 0, NULL},
    {"AS4_PATH count 0", true, false, BASE2 "c01106 0200 0000fde9", DISCARD, 0,
        NULL},
    {"AS4_PATH type 9", true, false, BASE2 "c01106 0901 0000fde9", DISCARD, 0,
        NULL},
    {"AS4_PATH good", true, false, BASE2 "c01106 0201 0000fde9", OK, 0, NULL},
    {"AS4_AGGREGATOR len 6", true, false,
        BASE2 "c00706 5ba0 c0000202 c01206 fde9 c0000202", DISCARD, 0, NULL},
    {"AS4_AGGREGATOR on 4-octet session", false, false,
        BASE4 "c01208 0000fde9 c0000202", DISCARD, 0, NULL},
    /* LARGE_COMMUNITY, RFC 8092 §6 */
    {"LARGE_COMMUNITY", false, false, BASE4 "c0200c 0000fde9 00000001 00000002",
        OK, 0, NULL},
    {"LARGE_COMMUNITY len 11", false, false,
        BASE4 "c0200b 0000fde9 00000001 000000", TW, ERR_UPD_OPTATTR, NULL},
    {"LARGE_COMMUNITY non-transitive", false, false,
        BASE4 "80200c 0000fde9 00000001 00000002", TW, ERR_UPD_ATTRFLAGS, NULL},
    /* RFC 7606 §3 (g): repeats */
    {"ORIGIN twice", false, false, BASE4 "40010102", DISCARD, 0, NULL},
    {"COMMUNITIES twice", false, false, BASE4 "c00804 fde90064 c00804 fde90065",
        DISCARD, 0, NULL},
    /* unknown attributes, RFC 4271 §5 and §6.3 */
    {"unknown well-known", false, false, BASE4 "406302 abcd", RESET,
        ERR_UPD_UNKNOWN_WK, NULL},
    {"unknown optional transitive", false, false, BASE4 "c06302 abcd", OK, 0,
        NULL},
    {"unknown optional non-transitive", false, false, BASE4 "806302 abcd", OK,
        0, NULL},
    /* RFC 7606 §4: lengths that do not add up */
    {"attribute overruns section", false, false, BASE4 "c00808 fde90064", TW,
        ERR_UPD_ATTRLEN, NULL},
    {"two octets left", false, false, BASE4 "c008", TW, ERR_UPD_ATTRLEN, NULL},
    {"extlen header cut", false, false, BASE4 "d00800", TW, ERR_UPD_ATTRLEN,
        NULL},
    {"overrun with no NLRI anywhere", false, false,
        ORIGIN_IGP_HEX "c00808 fde90064", RESET, ERR_UPD_ATTRLIST, ""},
    {"overrun after MP_REACH", false, false,
        MPREACH6_HEX ORIGIN_IGP_HEX "c00808 fde90064", TW, ERR_UPD_ATTRLEN, ""},
    /* RFC 7606 §3 (j): the strongest action wins */
    {"withdraw beats discard", false, false,
        "40010107" ASPATH4_HEX NH_HEX "40060100", TW, ERR_UPD_ORIGIN, NULL},
    {"reset beats withdraw", false, false,
        "40010107" ASPATH4_HEX NH_HEX "806302abcd 406402abcd", RESET,
        ERR_UPD_UNKNOWN_WK, NULL},
    {"first withdraw reason kept", false, false,
        "40010107 400200" NH_HEX "c00803 000000", TW, ERR_UPD_ORIGIN, NULL},
};

static void
test_attr_vectors(void **state)
{
	const struct attr_vec *v;
	struct update_ctx ctx;
	struct update u;
	struct bgp_err e;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(attr_vecs) / sizeof(attr_vecs[0]); i++) {
		v = &attr_vecs[i];
		memset(&ctx, 0, sizeof(ctx));
		ctx.as4 = !v->as2;
		ctx.ebgp = v->ebgp;
		ctx.maxlen = BGP_MAX_LEN;
		rc = parse(
		    &ctx, "", v->attrs, v->nlri ? v->nlri : NLRI_HEX, &u, &e);
		print_message("%-40s rc %d tw %d discarded %u err %s (%s)\n",
		    v->name, rc, u.treat_as_withdraw, u.discarded,
		    err_name(rc ? e.err : u.tw_err.err),
		    rc ? e.reason : u.tw_err.reason);
		switch (v->want) {
		case OK:
			assert_int_equal(rc, 0);
			assert_false(u.treat_as_withdraw);
			assert_int_equal(u.discarded, 0);
			break;
		case DISCARD:
			assert_int_equal(rc, 0);
			assert_false(u.treat_as_withdraw);
			assert_int_equal(u.discarded, 1);
			break;
		case TW:
			assert_int_equal(rc, 0);
			assert_true(u.treat_as_withdraw);
			assert_int_equal(u.tw_err.err, v->code);
			assert_true(u.tw_err.reason[0] != '\0');
			break;
		case RESET:
			assert_int_equal(rc, -1);
			assert_int_equal(e.err, v->code);
			assert_true(e.reason[0] != '\0');
			/* nothing left for the caller to free */
			assert_null(u.announced);
			assert_null(u.withdrawn);
			assert_null(u.attrs.aspath);
			break;
		}
		update_clean(&u);
	}
}

/* what the good vectors decoded into */
static void
test_attr_values(void **state)
{
	struct update_ctx c2 = {.as4 = false, .maxlen = 4096};
	struct update_ctx eb = {.as4 = true, .ebgp = true, .maxlen = 4096};
	struct update u;
	struct bgp_err e;
	uint32_t path[8];

	(void)state;
	/* 2-octet AS_PATH widened */
	assert_int_equal(parse(&c2, "", BASE2, NLRI_HEX, &u, &e), 0);
	assert_int_equal(u.attrs.aspath_len, 6);
	assert_int_equal(aspath_first(&u.attrs), 65001);
	update_clean(&u);

	/* AS_SET counts one, confederation segments none (§9.1.2.2 (a)) */
	assert_int_equal(
	    parse(&ibgp4, "",
	        ORIGIN_IGP_HEX "40021e 0301 0000fdea 0202 0000fde9 0000fdeb "
	                       "0103 00000001 00000002 00000003" NH_HEX,
	        NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(u.attrs.aspath_count, 3);
	assert_int_equal(aspath_to_array(&u.attrs, path, 8), 6);
	assert_int_equal(aspath_first(&u.attrs), 65001);
	assert_int_equal(aspath_neighbor(&u.attrs), 65001);
	update_clean(&u);

	/* LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST from ebgp are dropped */
	assert_int_equal(parse(&eb, "",
	                     BASE4 "40050400000064 800904c0000203 "
	                           "800a04c0000201",
	                     NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(u.discarded, 3);
	assert_int_equal(
	    u.attrs.flags & (ATTRF_LOCALPREF | ATTRF_ORIGINATOR_ID), 0);
	assert_int_equal(u.attrs.ncluster, 0);
	update_clean(&u);

	/* ORIGINATOR_ID and CLUSTER_LIST from ibgp */
	assert_int_equal(
	    parse(&ibgp4, "", BASE4 "800904c0000203 800a08c0000201c0000202",
	        NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(
	    u.attrs.flags & ATTRF_ORIGINATOR_ID, ATTRF_ORIGINATOR_ID);
	assert_int_equal(u.attrs.originator_id, 0xc0000203);
	assert_int_equal(u.attrs.ncluster, 2);
	assert_int_equal(u.attrs.cluster_list[1], 0xc0000202);
	update_clean(&u);

	/* AGGREGATOR and ATOMIC_AGGREGATE */
	assert_int_equal(
	    parse(&ibgp4, "", BASE4 "400600 c00708 0000fde9 c0000202", NLRI_HEX,
	        &u, &e),
	    0);
	assert_true(u.attrs.flags & ATTRF_ATOMIC_AGGR);
	assert_true(u.attrs.flags & ATTRF_AGGREGATOR);
	assert_int_equal(u.attrs.aggr_as, 65001);
	assert_int_equal(u.attrs.aggr_id, 0xc0000202);
	update_clean(&u);

	/*
	 * Unknown optional transitive kept with Partial, sorted by type with
	 * extended communities; unknown non-transitive dropped.
	 */
	assert_int_equal(
	    parse(&ibgp4, "",
	        BASE4 "c06302abcd 806401ff c01008 0002fde900000064 "
	              "d00b0001ee",
	        NLRI_HEX, &u, &e),
	    0);
	{
		static const uint8_t want[] = {0xe0, 0x0b, 0x00, 0x01, 0xee,
		    0xc0, 0x10, 0x00, 0x08, 0x00, 0x02, 0xfd, 0xe9, 0x00, 0x00,
		    0x00, 0x64, 0xe0, 0x63, 0x00, 0x02, 0xab, 0xcd};
		assert_int_equal(u.attrs.others_len, sizeof(want));
		assert_memory_equal(u.attrs.others, want, sizeof(want));
	}
	update_clean(&u);
}

/* RFC 4271 §6.3: the NOTIFICATION data is the offending attribute */
static void
test_reset_data(void **state)
{
	struct update u;
	struct bgp_err e;
	static const uint8_t attr[] = {0x40, 0x63, 0x02, 0xab, 0xcd};

	(void)state;
	assert_int_equal(
	    parse(&ibgp4, "", BASE4 "406302abcd", NLRI_HEX, &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_UNKNOWN_WK);
	assert_int_equal(err_code(e.err), 3);
	assert_int_equal(err_subcode(e.err), 2);
	assert_int_equal(e.datalen, sizeof(attr));
	assert_memory_equal(e.data, attr, sizeof(attr));
	update_clean(&u);

	assert_int_equal(
	    parse(&ibgp4, "", "800e02 0002" BASE4, NLRI_HEX, &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_OPTATTR);
	assert_int_equal(e.datalen, 5);
	update_clean(&u);
}

/* the sections themselves, RFC 4271 §6.3 and RFC 7606 §5.3 */
static void
test_sections(void **state)
{
	struct update u;
	struct bgp_err e;
	struct ibuf b;
	static const uint8_t wdover[] = {0x00, 0x05, 0x18, 0xc6, 0x12};
	static const uint8_t attrover[] = {
	    0x00, 0x00, 0x00, 0x09, 0x40, 0x01, 0x01, 0x00};
	static const uint8_t shorty[] = {0x00};

	(void)state;
	ibuf_from_buffer(&b, wdover, sizeof(wdover));
	assert_int_equal(update_parse(&b, &ibgp4, &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_ATTRLIST);
	update_clean(&u);
	ibuf_from_buffer(&b, attrover, sizeof(attrover));
	assert_int_equal(update_parse(&b, &ibgp4, &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_ATTRLIST);
	update_clean(&u);
	ibuf_from_buffer(&b, shorty, sizeof(shorty));
	assert_int_equal(update_parse(&b, &ibgp4, &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_ATTRLIST);
	update_clean(&u);

	/* prefixes that cannot be parsed reset the session */
	assert_int_equal(parse(&ibgp4, "", BASE4, "21c6120000ff", &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_NETWORK);
	assert_int_equal(parse(&ibgp4, "", BASE4, "18c612", &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_NETWORK);
	assert_int_equal(parse(&ibgp4, "21c6120000ff", "", "", &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_NETWORK);
	assert_int_equal(parse(&ibgp4, "18c6", "", "", &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_NETWORK);

	/* withdrawn only, with a /0 and a /32 */
	assert_int_equal(
	    parse(&ibgp4, "00 20c0000201 18c61200", "", "", &u, &e), 0);
	assert_int_equal(u.nwithdrawn, 3);
	assert_prefix(&u.withdrawn[0], "0.0.0.0/0", 0);
	assert_prefix(&u.withdrawn[1], "192.0.2.1/32", 0);
	assert_prefix(&u.withdrawn[2], "198.18.0.0/24", 0);
	assert_false(u.eor);
	assert_false(u.has_attrs);
	update_clean(&u);

	/* host bits are cleared, not refused */
	assert_int_equal(
	    parse(&ibgp4, "", BASE4, "17c61201 1ac61212ff", &u, &e), 0);
	assert_int_equal(u.nannounced, 2);
	assert_prefix(&u.announced[0], "198.18.0.0/23", 0);
	assert_prefix(&u.announced[1], "198.18.18.192/26", 0);
	update_clean(&u);
}

static void
test_addpath(void **state)
{
	struct update_ctx ctx = {.as4 = true, .maxlen = 4096};
	struct update u;
	struct bgp_err e;

	(void)state;
	ctx.addpath[AID_IPV4] = true;
	ctx.addpath[AID_IPV6] = true;
	assert_int_equal(parse(&ctx, "00000007 18c61300", BASE4,
	                     "00000001 18c61200 00000002 18c61200", &u, &e),
	    0);
	assert_int_equal(u.nwithdrawn, 1);
	assert_prefix(&u.withdrawn[0], "198.19.0.0/24", 7);
	assert_int_equal(u.nannounced, 2);
	assert_prefix(&u.announced[0], "198.18.0.0/24", 1);
	assert_prefix(&u.announced[1], "198.18.0.0/24", 2);
	update_clean(&u);

	assert_int_equal(
	    parse(&ctx, "", "800f0e 0002 01 00000009 30 20010db80001", "", &u,
	        &e),
	    0);
	assert_int_equal(u.nwithdrawn, 1);
	assert_prefix(&u.withdrawn[0], "2001:db8:1::/48", 9);
	update_clean(&u);

	/* a path id cut short */
	assert_int_equal(parse(&ctx, "", BASE4, "000000", &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_NETWORK);
	/* without ADD-PATH the same bytes are a different (bad) prefix */
	assert_int_equal(
	    parse(&ibgp4, "", BASE4, "00000001 18c61200", &u, &e), -1);
	assert_int_equal(e.err, ERR_UPD_NETWORK);
}

static void
test_mp_nexthops(void **state)
{
	struct update u;
	struct bgp_err e;

	(void)state;
	/* global only */
	assert_int_equal(parse(&ibgp4, "", MPREACH6_HEX BASE4, "", &u, &e), 0);
	assert_int_equal(u.nannounced, 1);
	assert_prefix(&u.announced[0], "2001:db8:1::/48", 0);
	assert_addr(&u.nexthop[AID_IPV6], "2001:db8::1");
	assert_addr(&u.nexthop_ll[AID_IPV6], NULL);
	/* NEXT_HOP is there but no classic NLRI: still reported */
	assert_addr(&u.nexthop[AID_IPV4], "192.0.2.1");
	update_clean(&u);

	/* global and link-local */
	assert_int_equal(
	    parse(&ibgp4, "",
	        "800e35 0002 01 20 20010db8000000000000000000000001 "
	        "fe800000000000000000000000000001 00 "
	        "30 20010db80001 40 20010db800020000" ORIGIN_IGP_HEX
	            ASPATH4_HEX,
	        "", &u, &e),
	    0);
	assert_int_equal(u.nannounced, 2);
	assert_prefix(&u.announced[1], "2001:db8:2::/64", 0);
	assert_addr(&u.nexthop[AID_IPV6], "2001:db8::1");
	assert_addr(&u.nexthop_ll[AID_IPV6], "fe80::1");
	update_clean(&u);

	/* link-local only, 16 octets */
	assert_int_equal(
	    parse(&ibgp4, "",
	        "800e1c 0002 01 10 fe800000000000000000000000000001 "
	        "00 30 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
	        "", &u, &e),
	    0);
	assert_false(u.treat_as_withdraw);
	assert_addr(&u.nexthop[AID_IPV6], "fe80::1");
	assert_addr(&u.nexthop_ll[AID_IPV6], "fe80::1");
	update_clean(&u);

	/* link-local behind an all-zero global */
	assert_int_equal(
	    parse(&ibgp4, "",
	        "800e2c 0002 01 20 00000000000000000000000000000000 "
	        "fe800000000000000000000000000002 00 "
	        "30 20010db80001" ORIGIN_IGP_HEX ASPATH4_HEX,
	        "", &u, &e),
	    0);
	assert_false(u.treat_as_withdraw);
	assert_addr(&u.nexthop[AID_IPV6], "fe80::2");
	assert_addr(&u.nexthop_ll[AID_IPV6], "fe80::2");
	update_clean(&u);

	/* IPv4 unicast in MP_REACH_NLRI with a 4-octet next hop */
	assert_int_equal(
	    parse(&ibgp4, "",
	        "800e0d 0001 01 04 c0000209 00 18c61400" ORIGIN_IGP_HEX
	            ASPATH4_HEX,
	        "", &u, &e),
	    0);
	assert_false(u.treat_as_withdraw);
	assert_int_equal(u.nannounced, 1);
	assert_prefix(&u.announced[0], "198.20.0.0/24", 0);
	assert_addr(&u.nexthop[AID_IPV4], "192.0.2.9");
	update_clean(&u);
}

/* RFC 7606 §5.2: the MP_REACH_NLRI prefixes are withdrawn as well */
static void
test_tw_keeps_mp_nlri(void **state)
{
	struct update u;
	struct bgp_err e;

	(void)state;
	assert_int_equal(
	    parse(&ibgp4, "", MPREACH6_HEX "40010109" ASPATH4_HEX NH_HEX,
	        NLRI_HEX, &u, &e),
	    0);
	assert_true(u.treat_as_withdraw);
	assert_int_equal(u.tw_err.err, ERR_UPD_ORIGIN);
	assert_string_equal(u.tw_err.reason, "ORIGIN value 9");
	assert_int_equal(u.nannounced, 2);
	assert_prefix(&u.announced[0], "198.18.0.0/24", 0);
	assert_prefix(&u.announced[1], "2001:db8:1::/48", 0);
	update_clean(&u);
}

static void
test_eor(void **state)
{
	struct update u;
	struct bgp_err e;
	struct ibuf *m, b;
	enum aid aid;

	(void)state;
	assert_int_equal(parse(&ibgp4, "", "", "", &u, &e), 0);
	assert_true(u.eor);
	assert_int_equal(u.eor_aid, AID_IPV4);
	update_clean(&u);

	assert_int_equal(parse(&ibgp4, "", "800f03 000201", "", &u, &e), 0);
	assert_true(u.eor);
	assert_int_equal(u.eor_aid, AID_IPV6);
	assert_int_equal(u.nwithdrawn, 0);
	update_clean(&u);

	/* an MP_UNREACH_NLRI with prefixes, or with company, is no EoR */
	assert_int_equal(
	    parse(&ibgp4, "", "800f0a 0002 01 30 20010db80001", "", &u, &e), 0);
	assert_false(u.eor);
	assert_int_equal(u.nwithdrawn, 1);
	update_clean(&u);
	assert_int_equal(
	    parse(&ibgp4, "", "800f03 000201 80040400000001", "", &u, &e), 0);
	assert_false(u.eor);
	update_clean(&u);
	assert_int_equal(parse(&ibgp4, "18c61200", "", "", &u, &e), 0);
	assert_false(u.eor);
	update_clean(&u);

	/* what we send */
	for (aid = AID_IPV4; aid < AID_MAX; aid++) {
		static const uint8_t v4[] = {
		    0x00, 0x17, 0x02, 0x00, 0x00, 0x00, 0x00};
		static const uint8_t v6[] = {0x00, 0x1d, 0x02, 0x00, 0x00, 0x00,
		    0x06, 0x80, 0x0f, 0x03, 0x00, 0x02, 0x01};

		m = update_build_eor(aid);
		if (aid == AID_IPV4) {
			assert_int_equal(ibuf_size(m), sizeof(v4) + 16);
			assert_memory_equal(
			    (uint8_t *)ibuf_data(m) + 16, v4, sizeof(v4));
		} else {
			assert_int_equal(ibuf_size(m), sizeof(v6) + 16);
			assert_memory_equal(
			    (uint8_t *)ibuf_data(m) + 16, v6, sizeof(v6));
		}
		ibuf_from_buffer(&b, (uint8_t *)ibuf_data(m) + BGP_HDR_LEN,
		    ibuf_size(m) - BGP_HDR_LEN);
		assert_int_equal(update_parse(&b, &ibgp4, &u, &e), 0);
		assert_true(u.eor);
		assert_int_equal(u.eor_aid, aid);
		update_clean(&u);
		ibuf_free(m);
	}
}

/* RFC 6793 §4.2.3 */
static void
test_as4_merge(void **state)
{
	struct update_ctx c2 = {.as4 = false, .maxlen = 4096};
	struct update u;
	struct bgp_err e;
	uint32_t path[16];

	(void)state;
	/* AS_PATH 65001 23456 23456, AS4_PATH 4200000000 4200000001 */
	assert_int_equal(parse(&c2, "",
	                     ORIGIN_IGP_HEX "400208 0203 fde9 5ba0 5ba0" NH_HEX
	                                    "c0110a 0202 fa56ea00 fa56ea01",
	                     NLRI_HEX, &u, &e),
	    0);
	assert_false(u.treat_as_withdraw);
	assert_int_equal(u.discarded, 0);
	assert_int_equal(aspath_to_array(&u.attrs, path, 16), 3);
	assert_int_equal(path[0], 65001);
	assert_int_equal(path[1], 4200000000u);
	assert_int_equal(path[2], 4200000001u);
	assert_int_equal(u.attrs.aspath_count, 3);
	/* one segment where the two paths meet */
	assert_int_equal(u.attrs.aspath_len, 2 + 3 * 4);
	assert_int_equal(aspath_first(&u.attrs), 65001);
	update_clean(&u);

	/* AS_SET in the leading part counts one and goes along whole */
	assert_int_equal(
	    parse(&c2, "",
	        ORIGIN_IGP_HEX "40020c 0102 fde9 fdea 0202 5ba0 5ba0" NH_HEX
	                       "c0110a 0202 fa56ea00 fa56ea01",
	        NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(u.attrs.aspath_count, 3);
	assert_int_equal(aspath_to_array(&u.attrs, path, 16), 4);
	assert_int_equal(u.attrs.aspath[0], AS_SET);
	assert_int_equal(path[2], 4200000000u);
	update_clean(&u);

	/* AS4_PATH longer than AS_PATH: ignored */
	assert_int_equal(parse(&c2, "",
	                     ORIGIN_IGP_HEX "400204 0201 5ba0" NH_HEX
	                                    "c0110a 0202 fa56ea00 fa56ea01",
	                     NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(aspath_to_array(&u.attrs, path, 16), 1);
	assert_int_equal(path[0], AS_TRANS);
	update_clean(&u);

	/* AGGREGATOR of a real 2-octet AS: both AS4 attributes are stale */
	assert_int_equal(parse(&c2, "",
	                     ORIGIN_IGP_HEX "400206 0202 fde9 5ba0" NH_HEX
	                                    "c00706 fdea c0000202 "
	                                    "c01106 0201 fa56ea00 "
	                                    "c01208 fa56ea01 c0000203",
	                     NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(aspath_to_array(&u.attrs, path, 16), 2);
	assert_int_equal(path[1], AS_TRANS);
	assert_int_equal(u.attrs.aggr_as, 65002);
	assert_int_equal(u.attrs.aggr_id, 0xc0000202);
	update_clean(&u);

	/* AGGREGATOR of AS_TRANS: AS4_AGGREGATOR and AS4_PATH apply */
	assert_int_equal(parse(&c2, "",
	                     ORIGIN_IGP_HEX "400206 0202 fde9 5ba0" NH_HEX
	                                    "c00706 5ba0 c0000202 "
	                                    "c01106 0201 fa56ea00 "
	                                    "c01208 fa56ea01 c0000203",
	                     NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(aspath_to_array(&u.attrs, path, 16), 2);
	assert_int_equal(path[0], 65001);
	assert_int_equal(path[1], 4200000000u);
	assert_int_equal(u.attrs.aggr_as, 4200000001u);
	assert_int_equal(u.attrs.aggr_id, 0xc0000203);
	update_clean(&u);

	/* a malformed AS4_PATH is discarded and AS_PATH stands */
	assert_int_equal(parse(&c2, "",
	                     ORIGIN_IGP_HEX "400206 0202 fde9 5ba0" NH_HEX
	                                    "c01106 0200 fa56ea00",
	                     NLRI_HEX, &u, &e),
	    0);
	assert_int_equal(u.discarded, 1);
	assert_int_equal(aspath_to_array(&u.attrs, path, 16), 2);
	assert_int_equal(path[1], AS_TRANS);
	update_clean(&u);
}

/* build, strip the header, parse: the same prefixes and attributes */
static void
roundtrip(const struct update_ctx *ctx, enum aid aid, const struct attrs *a,
    const struct nlri *nlri, size_t n)
{
	struct ibuf *m, b;
	struct update u;
	struct bgp_err e;
	size_t done, i, off = 0;
	uint8_t *p;

	while (off < n) {
		m = update_build(ctx, aid, a, nlri + off, n - off, &done);
		assert_non_null(m);
		assert_true(done > 0);
		assert_true(ibuf_size(m) <= (ctx->maxlen ? ctx->maxlen : 4096));
		p = ibuf_data(m);
		assert_int_equal(p[16] << 8 | p[17], ibuf_size(m));
		assert_int_equal(p[18], MSG_UPDATE);
		ibuf_from_buffer(
		    &b, p + BGP_HDR_LEN, ibuf_size(m) - BGP_HDR_LEN);
		assert_int_equal(update_parse(&b, ctx, &u, &e), 0);
		assert_false(u.treat_as_withdraw);
		assert_int_equal(u.discarded, 0);
		if (a == NULL) {
			assert_int_equal(u.nwithdrawn, done);
			assert_int_equal(u.nannounced, 0);
			for (i = 0; i < done; i++) {
				assert_int_equal(prefix_cmp(&u.withdrawn[i].p,
				                     &nlri[off + i].p),
				    0);
				assert_int_equal(u.withdrawn[i].path_id,
				    ctx->addpath[aid] ? nlri[off + i].path_id
				                      : 0);
			}
		} else {
			struct attrs got;

			assert_int_equal(u.nannounced, done);
			assert_int_equal(u.nwithdrawn, 0);
			for (i = 0; i < done; i++) {
				assert_int_equal(prefix_cmp(&u.announced[i].p,
				                     &nlri[off + i].p),
				    0);
				assert_int_equal(u.announced[i].path_id,
				    ctx->addpath[aid] ? nlri[off + i].path_id
				                      : 0);
			}
			got = u.attrs;
			got.nexthop = u.nexthop[aid];
			got.nexthop_ll = u.nexthop_ll[aid];
			got.flags |= ATTRF_NEXTHOP;
			assert_true(attrs_equal(&got, a));
		}
		update_clean(&u);
		ibuf_free(m);
		off += done;
	}
}

static void
fill_attrs(struct attrs *a, enum aid aid, bool ll)
{
	static uint8_t path[] = {
	    AS_SEQUENCE, 2, 0, 0, 0xfd, 0xe9, 0xfa, 0x56, 0xea, 0x00};
	static uint32_t comm[] = {0xfde90001, 0xfde90002};
	static uint32_t large[] = {4200000000u, 1, 2};

	memset(a, 0, sizeof(*a));
	a->flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_MED |
	    ATTRF_LOCALPREF;
	a->origin = ORIGIN_INCOMPLETE;
	a->med = 5;
	a->local_pref = 200;
	a->aspath = path;
	a->aspath_len = sizeof(path);
	a->aspath_count = 2;
	a->communities = comm;
	a->ncommunities = 2;
	a->large = large;
	a->nlarge = 1;
	if (aid == AID_IPV4)
		assert_int_equal(addr_parse("192.0.2.7", &a->nexthop), 0);
	else
		assert_int_equal(addr_parse("2001:db8::7", &a->nexthop), 0);
	if (ll)
		assert_int_equal(addr_parse("fe80::7", &a->nexthop_ll), 0);
}

static struct nlri *
make_nlri(enum aid aid, size_t n, int len)
{
	struct nlri *v = calloc(n, sizeof(*v));
	size_t i;

	assert_non_null(v);
	for (i = 0; i < n; i++) {
		v[i].p.a.family = aid_family(aid);
		v[i].p.len = len;
		v[i].path_id = i + 1;
		if (aid == AID_IPV4) {
			/* 198.18.0.0/15 and on */
			v[i].p.a.b[0] = 198;
			v[i].p.a.b[1] = 18 + (i >> 16);
			v[i].p.a.b[2] = (i >> 8) & 0xff;
			v[i].p.a.b[3] = i & 0xff;
		} else {
			v[i].p.a.b[0] = 0x20;
			v[i].p.a.b[1] = 0x01;
			v[i].p.a.b[2] = 0x0d;
			v[i].p.a.b[3] = 0xb8;
			v[i].p.a.b[4] = i >> 8;
			v[i].p.a.b[5] = i & 0xff;
		}
		prefix_mask(&v[i].p);
	}
	return v;
}

static void
test_roundtrip(void **state)
{
	struct update_ctx ctx;
	struct attrs a;
	struct nlri *v4 = make_nlri(AID_IPV4, 300, 32);
	struct nlri *v6 = make_nlri(AID_IPV6, 300, 64);
	int addpath, ll, as4;

	(void)state;
	for (addpath = 0; addpath < 2; addpath++) {
		for (as4 = 0; as4 < 2; as4++) {
			memset(&ctx, 0, sizeof(ctx));
			ctx.as4 = as4;
			ctx.maxlen = BGP_MAX_LEN;
			ctx.addpath[AID_IPV4] = addpath;
			ctx.addpath[AID_IPV6] = addpath;
			fill_attrs(&a, AID_IPV4, false);
			roundtrip(&ctx, AID_IPV4, &a, v4, 300);
			roundtrip(&ctx, AID_IPV4, NULL, v4, 300);
			for (ll = 0; ll < 2; ll++) {
				fill_attrs(&a, AID_IPV6, ll);
				roundtrip(&ctx, AID_IPV6, &a, v6, 300);
			}
			roundtrip(&ctx, AID_IPV6, NULL, v6, 300);
		}
	}
	free(v4);
	free(v6);
}

/* exact bytes of a small IPv6 announcement with a link-local next hop */
static void
test_build_ipv6_bytes(void **state)
{
	struct update_ctx ctx = {.as4 = true, .ebgp = true, .maxlen = 4096};
	struct attrs a;
	struct nlri n;
	struct ibuf *m;
	size_t done;
	uint8_t want[256];
	size_t wl;
	static uint8_t path[] = {AS_SEQUENCE, 1, 0, 0, 0xfd, 0xe9};

	(void)state;
	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	a.aspath = path;
	a.aspath_len = sizeof(path);
	a.local_pref = 100; /* not sent to an external peer */
	addr_parse("2001:db8::1", &a.nexthop);
	addr_parse("fe80::1", &a.nexthop_ll);
	memset(&n, 0, sizeof(n));
	prefix_parse("2001:db8:1::/48", &n.p);
	m = update_build(&ctx, AID_IPV6, &a, &n, 1, &done);
	assert_non_null(m);
	assert_int_equal(done, 1);
	wl = hex("ffffffffffffffffffffffffffffffff 0054 02 0000 003d "
	         "900e 002c 0002 01 20 20010db8000000000000000000000001 "
	         "fe800000000000000000000000000001 00 30 20010db80001 "
	         "40010100 400206 0201 0000fde9",
	    want, sizeof(want));
	assert_int_equal(ibuf_size(m), wl);
	assert_memory_equal(ibuf_data(m), want, wl);
	ibuf_free(m);

	/* withdrawal */
	m = update_build(&ctx, AID_IPV6, NULL, &n, 1, &done);
	wl = hex("ffffffffffffffffffffffffffffffff 0025 02 0000 000e "
	         "900f 000a 0002 01 30 20010db80001",
	    want, sizeof(want));
	assert_int_equal(ibuf_size(m), wl);
	assert_memory_equal(ibuf_data(m), want, wl);
	ibuf_free(m);
}

static void
test_build_ipv4_bytes(void **state)
{
	struct update_ctx ctx = {.as4 = true, .maxlen = 4096};
	struct attrs a;
	struct nlri n[2];
	struct ibuf *m;
	size_t done;
	uint8_t want[256];
	size_t wl;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.flags = ATTRF_ORIGIN | ATTRF_ASPATH | ATTRF_NEXTHOP | ATTRF_LOCALPREF;
	a.local_pref = 100;
	addr_parse("192.0.2.1", &a.nexthop);
	memset(n, 0, sizeof(n));
	prefix_parse("198.18.0.0/26", &n[0].p);
	prefix_parse("198.18.0.64/26", &n[1].p);
	m = update_build(&ctx, AID_IPV4, &a, n, 2, &done);
	assert_non_null(m);
	assert_int_equal(done, 2);
	wl = hex("ffffffffffffffffffffffffffffffff 0036 02 0000 0015 "
	         "40010100 400200 400304c0000201 40050400000064 "
	         "1ac6120000 1ac6120040",
	    want, sizeof(want));
	assert_int_equal(ibuf_size(m), wl);
	assert_memory_equal(ibuf_data(m), want, wl);
	ibuf_free(m);

	m = update_build(&ctx, AID_IPV4, NULL, n, 2, &done);
	wl = hex("ffffffffffffffffffffffffffffffff 0021 02 000a "
	         "1ac6120000 1ac6120040 0000",
	    want, sizeof(want));
	assert_int_equal(ibuf_size(m), wl);
	assert_memory_equal(ibuf_data(m), want, wl);
	ibuf_free(m);

	assert_null(update_build(&ctx, AID_IPV4, NULL, n, 0, &done));
	assert_int_equal(done, 0);
}

/* how many messages n prefixes take, every one within maxlen */
static size_t
pack_count(const struct update_ctx *ctx, enum aid aid, const struct attrs *a,
    const struct nlri *v, size_t n, size_t *first)
{
	struct ibuf *m;
	size_t off = 0, done, msgs = 0;

	while (off < n) {
		m = update_build(ctx, aid, a, v + off, n - off, &done);
		assert_non_null(m);
		assert_true(ibuf_size(m) <= ctx->maxlen);
		/* full: the next prefix would not have fit */
		if (off + done < n)
			assert_true(ibuf_size(m) + 1 +
			        (v[off + done].p.len + 7) / 8 +
			        (ctx->addpath[aid] ? 4 : 0) >
			    ctx->maxlen);
		if (msgs == 0)
			*first = done;
		ibuf_free(m);
		off += done;
		msgs++;
	}
	return msgs;
}

static void
test_packing(void **state)
{
	struct update_ctx ctx = {.as4 = true, .maxlen = BGP_MAX_LEN};
	struct attrs a;
	struct nlri *v = make_nlri(AID_IPV4, 20000, 24);
	struct nlri *v6 = make_nlri(AID_IPV6, 20000, 64);
	size_t msgs, first, msgs_ext, first_ext;

	(void)state;
	fill_attrs(&a, AID_IPV4, false);
	/* 4096 - 19 - 4 - 64 octets of attributes = 4009, /24s take 4 */
	msgs = pack_count(&ctx, AID_IPV4, &a, v, 20000, &first);
	assert_int_equal(first, 1002);
	assert_int_equal(msgs, 20);
	ctx.maxlen = BGP_EXT_MAX_LEN;
	msgs_ext = pack_count(&ctx, AID_IPV4, &a, v, 20000, &first_ext);
	assert_int_equal(first_ext, (65535 - 19 - 4 - 64) / 4);
	assert_int_equal(msgs_ext, 2);

	/* withdrawals: 4096 - 19 - 4 = 4073 octets */
	ctx.maxlen = BGP_MAX_LEN;
	msgs = pack_count(&ctx, AID_IPV4, NULL, v, 20000, &first);
	assert_int_equal(first, 4073 / 4);

	/* IPv6 /64s take 9 */
	fill_attrs(&a, AID_IPV6, true);
	msgs = pack_count(&ctx, AID_IPV6, &a, v6, 20000, &first);
	ctx.maxlen = BGP_EXT_MAX_LEN;
	msgs_ext = pack_count(&ctx, AID_IPV6, &a, v6, 20000, &first_ext);
	assert_true(first > 400 && first < 455);
	assert_true(first_ext > 16 * first);
	assert_true(msgs_ext * 15 < msgs);

	/* ADD-PATH: 4 more octets each */
	ctx.maxlen = BGP_MAX_LEN;
	ctx.addpath[AID_IPV4] = true;
	fill_attrs(&a, AID_IPV4, false);
	pack_count(&ctx, AID_IPV4, &a, v, 20000, &first);
	assert_int_equal(first, 4009 / 8);

	/* attributes that leave no room for a prefix: the call fails */
	{
		static uint32_t many[1100];
		size_t done;

		a.communities = many;
		a.ncommunities = 1100;
		assert_null(update_build(&ctx, AID_IPV4, &a, v, 10, &done));
		assert_int_equal(done, 0);
		ctx.maxlen = BGP_EXT_MAX_LEN;
		struct ibuf *m = update_build(&ctx, AID_IPV4, &a, v, 10, &done);
		assert_non_null(m);
		assert_int_equal(done, 10);
		ibuf_free(m);
	}
	free(v);
	free(v6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_basic_ipv4),
	    cmocka_unit_test(test_attr_vectors),
	    cmocka_unit_test(test_attr_values),
	    cmocka_unit_test(test_reset_data),
	    cmocka_unit_test(test_sections),
	    cmocka_unit_test(test_addpath),
	    cmocka_unit_test(test_mp_nexthops),
	    cmocka_unit_test(test_tw_keeps_mp_nlri),
	    cmocka_unit_test(test_eor),
	    cmocka_unit_test(test_as4_merge),
	    cmocka_unit_test(test_roundtrip),
	    cmocka_unit_test(test_build_ipv6_bytes),
	    cmocka_unit_test(test_build_ipv4_bytes),
	    cmocka_unit_test(test_packing),
	};

	log_init("update_test", LOG_LVL_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
