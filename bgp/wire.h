/*
 * BGP-4 wire format: framing, OPEN and capabilities, UPDATE and path
 * attributes, NOTIFICATION, KEEPALIVE and ROUTE-REFRESH.
 *
 * Decoders read through a bounded struct ibuf and never see a partial
 * message: msg_header_check() validates the 19-byte header and the session
 * hands over exactly the body.  Protocol errors are reported as an enum
 * bgp_error plus data; err.c is the one place that maps them to NOTIFICATION
 * code and subcode.  RFC 7606 treat-as-withdraw is reported separately
 * (struct update.treat_as_withdraw) and never resets the session.
 */
#ifndef PODMESH_BGP_WIRE_H
#define PODMESH_BGP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/addr.h"
#include "lib/ibuf.h"

#define BGP_VERSION 4
#define BGP_MARKER_LEN 16
#define BGP_HDR_LEN 19
#define BGP_MAX_LEN 4096
#define BGP_EXT_MAX_LEN 65535 /* RFC 8654 */
#define BGP_OPEN_MIN_LEN 29
#define BGP_UPDATE_MIN_LEN 23
#define BGP_NOTIFICATION_MIN_LEN 21
#define BGP_KEEPALIVE_LEN 19
#define BGP_RREFRESH_LEN 23

#define AS_TRANS 23456

enum msg_type {
	MSG_OPEN = 1,
	MSG_UPDATE = 2,
	MSG_NOTIFICATION = 3,
	MSG_KEEPALIVE = 4,
	MSG_RREFRESH = 5,
};

/* address families we speak: unicast only */
enum aid {
	AID_IPV4,
	AID_IPV6,
	AID_MAX,
};

#define AFI_IPV4 1
#define AFI_IPV6 2
#define SAFI_UNICAST 1

int aid_from_afi(uint16_t, uint8_t, enum aid *);
uint16_t aid_afi(enum aid);
uint8_t aid_safi(enum aid);
int aid_family(enum aid);
enum aid aid_from_family(int);
const char *aid_name(enum aid);

/*
 * Protocol errors.  The order here is free; err.c's table gives each its
 * NOTIFICATION code and subcode (RFC 4271 §4.5, §6; RFC 4486; RFC 5492;
 * RFC 6608; RFC 7313; RFC 8203).
 */
enum bgp_error {
	ERR_NONE,
	ERR_HDR_SYNC,
	ERR_HDR_LEN,
	ERR_HDR_TYPE,
	ERR_OPEN,
	ERR_OPEN_VERSION,
	ERR_OPEN_AS,
	ERR_OPEN_BGPID,
	ERR_OPEN_OPT,
	ERR_OPEN_HOLD,
	ERR_OPEN_CAPA,
	ERR_UPD_ATTRLIST,
	ERR_UPD_UNKNOWN_WK,
	ERR_UPD_MISSING_WK,
	ERR_UPD_ATTRFLAGS,
	ERR_UPD_ATTRLEN,
	ERR_UPD_ORIGIN,
	ERR_UPD_NEXTHOP,
	ERR_UPD_OPTATTR,
	ERR_UPD_NETWORK,
	ERR_UPD_ASPATH,
	ERR_HOLD,
	ERR_FSM,
	ERR_FSM_OPENSENT,
	ERR_FSM_OPENCONFIRM,
	ERR_FSM_ESTABLISHED,
	ERR_CEASE,
	ERR_CEASE_MAX_PREFIX,
	ERR_CEASE_ADMIN_DOWN,
	ERR_CEASE_PEER_UNCONF,
	ERR_CEASE_ADMIN_RESET,
	ERR_CEASE_CONN_REJECT,
	ERR_CEASE_CONF_CHANGE,
	ERR_CEASE_COLLISION,
	ERR_CEASE_RESOURCES,
	ERR_CEASE_HARD_RESET,
	ERR_RREFRESH_LEN,
	ERR_MAX,
};

#define BGP_ERR_DATA_MAX 512

struct bgp_err {
	enum bgp_error err;
	uint16_t datalen;
	uint8_t data[BGP_ERR_DATA_MAX]; /* NOTIFICATION data, truncated */
	char reason[128]; /* for the log line */
};

/* err.c */
void err_set(struct bgp_err *, enum bgp_error, const void *, size_t,
    const char *, ...) __attribute__((format(printf, 5, 6)));
uint8_t err_code(enum bgp_error);
uint8_t err_subcode(enum bgp_error);
const char *err_name(enum bgp_error);
const char *err_describe(uint8_t, uint8_t, char *, size_t);

/* msg.c: framing, KEEPALIVE, NOTIFICATION, ROUTE-REFRESH */
int msg_header_check(
    struct ibuf *, size_t, uint8_t *, uint16_t *, struct bgp_err *);
struct ibuf *msg_new(enum msg_type, size_t);
int msg_close(struct ibuf *);
struct ibuf *msg_keepalive(void);
struct ibuf *msg_notification(const struct bgp_err *);
int msg_notification_parse(struct ibuf *, uint8_t *, uint8_t *, struct ibuf *);

#define RREFRESH_NORMAL 0
#define RREFRESH_BORR 1 /* RFC 7313 */
#define RREFRESH_EORR 2
struct ibuf *msg_rrefresh(enum aid, uint8_t);
int msg_rrefresh_parse(struct ibuf *, enum aid *, uint8_t *, struct bgp_err *);

/* open.c: OPEN and capabilities (RFC 4271 §4.2, RFC 5492, RFC 9072) */
#define CAPA_MP 1
#define CAPA_REFRESH 2
#define CAPA_EXT_MSG 6
#define CAPA_GR 64
#define CAPA_AS4 65
#define CAPA_ADDPATH 69
#define CAPA_ENHANCED_REFRESH 70

#define ADDPATH_RECV 0x1
#define ADDPATH_SEND 0x2

struct bgp_caps {
	bool mp[AID_MAX];
	bool mp_seen; /* any MP capability, even for families we lack */
	bool as4;
	uint32_t as4_asn;
	bool refresh;
	bool enhanced_refresh;
	bool ext_msg;
	bool gr;
	bool gr_restarting; /* R bit */
	uint16_t gr_time;
	bool gr_af[AID_MAX];
	bool gr_af_fwd[AID_MAX];
	uint8_t addpath[AID_MAX]; /* ADDPATH_RECV | ADDPATH_SEND */
};

struct bgp_open {
	uint8_t version;
	uint16_t as2; /* the 2-octet My Autonomous System field */
	uint16_t holdtime;
	uint32_t bgpid; /* host byte order */
	struct bgp_caps caps;
};

/* what both sides agreed on */
struct bgp_neg {
	bool as4;
	bool mp[AID_MAX];
	bool refresh;
	bool enhanced_refresh;
	bool ext_msg;
	bool addpath_recv[AID_MAX]; /* NLRI we receive carry path ids */
	bool addpath_send[AID_MAX]; /* NLRI we send carry path ids */
	bool gr; /* peer is graceful-restart capable */
	uint16_t gr_time;
	bool gr_af[AID_MAX];
};

struct ibuf *open_build(const struct bgp_open *);
int open_parse(struct ibuf *, struct bgp_open *, struct bgp_err *);
int caps_parse(struct ibuf *, struct bgp_caps *, struct bgp_err *);
uint32_t open_peer_as(const struct bgp_open *);
int caps_negotiate(const struct bgp_caps *, const struct bgp_caps *,
    struct bgp_neg *, struct bgp_err *);

/* attr.c: path attributes (RFC 4271 §5, RFC 4456, RFC 6793, RFC 7606) */
#define ATTR_OPTIONAL 0x80
#define ATTR_TRANSITIVE 0x40
#define ATTR_PARTIAL 0x20
#define ATTR_EXTLEN 0x10

enum attr_type {
	ATTR_ORIGIN = 1,
	ATTR_ASPATH = 2,
	ATTR_NEXTHOP = 3,
	ATTR_MED = 4,
	ATTR_LOCALPREF = 5,
	ATTR_ATOMIC_AGGR = 6,
	ATTR_AGGREGATOR = 7,
	ATTR_COMMUNITIES = 8,
	ATTR_ORIGINATOR_ID = 9,
	ATTR_CLUSTER_LIST = 10,
	ATTR_MP_REACH = 14,
	ATTR_MP_UNREACH = 15,
	ATTR_EXT_COMMUNITIES = 16,
	ATTR_AS4_PATH = 17,
	ATTR_AS4_AGGREGATOR = 18,
	ATTR_LARGE_COMMUNITIES = 32,
};

#define ORIGIN_IGP 0
#define ORIGIN_EGP 1
#define ORIGIN_INCOMPLETE 2

#define AS_SET 1
#define AS_SEQUENCE 2
#define AS_CONFED_SEQUENCE 3
#define AS_CONFED_SET 4

/* struct attrs.flags: which optional fields are present */
#define ATTRF_NEXTHOP 0x0001
#define ATTRF_MED 0x0002
#define ATTRF_LOCALPREF 0x0004
#define ATTRF_ATOMIC_AGGR 0x0008
#define ATTRF_AGGREGATOR 0x0010
#define ATTRF_ORIGINATOR_ID 0x0020
#define ATTRF_ORIGIN 0x0040
#define ATTRF_ASPATH 0x0080

/*
 * A set of path attributes.  AS_PATH is kept in 4-octet form whatever the
 * peer speaks (AS4_PATH already merged, RFC 6793 §4.2.3), as segments of
 * type(1) count(1) asn(4 * count).  Unknown optional transitive attributes
 * (and extended communities, which we carry but do not interpret) are kept
 * verbatim in `others`, re-emitted with the Partial bit set when unknown.
 *
 * Interned sets (attr_intern) are shared and immutable; the arrays of a
 * non-interned set belong to whoever filled it (attrs_clean frees them).
 */
struct attr_table;

struct attrs {
	struct attr_table *table; /* NULL unless interned */
	struct attrs *hnext;
	uint32_t refcnt;
	uint32_t hash;

	uint32_t flags;
	uint8_t origin;
	uint32_t med;
	uint32_t local_pref;
	uint32_t aggr_as;
	uint32_t aggr_id;
	uint32_t originator_id;
	struct addr nexthop;
	struct addr nexthop_ll; /* IPv6 link-local next hop, if any */

	uint8_t *aspath;
	uint16_t aspath_len; /* bytes */
	uint16_t aspath_count; /* path length for the decision process */
	uint32_t *communities;
	uint16_t ncommunities;
	uint32_t *large; /* 3 words each */
	uint16_t nlarge;
	uint32_t *cluster_list;
	uint16_t ncluster;
	uint8_t *others; /* raw flags(1) type(1) len(2) value TLVs */
	uint16_t others_len;
};

struct attr_table *attr_table_new(void);
void attr_table_free(struct attr_table *);
size_t attr_table_count(const struct attr_table *);
struct attrs *attr_intern(struct attr_table *, const struct attrs *);
struct attrs *attr_ref(struct attrs *);
void attr_unref(struct attrs *);
void attrs_clean(struct attrs *);
void attrs_copy(struct attrs *, const struct attrs *);
bool attrs_equal(const struct attrs *, const struct attrs *);

uint32_t aspath_first(const struct attrs *);
uint32_t aspath_neighbor(const struct attrs *);
bool aspath_contains(const struct attrs *, uint32_t);
void aspath_prepend(struct attrs *, uint32_t);
int aspath_to_array(const struct attrs *, uint32_t *, size_t);

/* decoding context: what the session negotiated */
struct update_ctx {
	bool as4;
	bool ebgp;
	bool addpath[AID_MAX]; /* path ids present in NLRI */
	size_t maxlen; /* BGP_MAX_LEN or BGP_EXT_MAX_LEN */
};

/* attr.c encoding: the attribute section for an UPDATE (no MP attrs) */
int attrs_encode(
    struct ibuf *, const struct attrs *, const struct update_ctx *);

/* update.c: UPDATE (RFC 4271 §4.3, RFC 4760, RFC 7911, RFC 4724 EoR) */
struct nlri {
	struct prefix p;
	uint32_t path_id;
};

struct update {
	struct attrs attrs; /* not interned; nexthop unset */
	bool has_attrs;
	struct addr nexthop[AID_MAX]; /* per family */
	struct addr nexthop_ll[AID_MAX]; /* IPv6 link-local */
	struct nlri *withdrawn;
	size_t nwithdrawn;
	struct nlri *announced;
	size_t nannounced;
	bool eor; /* End-of-RIB marker for eor_aid */
	enum aid eor_aid;
	bool treat_as_withdraw; /* RFC 7606: announced are withdrawn */
	struct bgp_err tw_err; /* why, for the log */
	unsigned int discarded; /* attributes discarded (RFC 7606) */
};

int update_parse(struct ibuf *, const struct update_ctx *, struct update *,
    struct bgp_err *);
void update_clean(struct update *);

/*
 * Packs as many of nlri[0..n) as fit into one UPDATE message.  attrs NULL
 * means withdraw.  *done is set to how many were consumed (at least one, or
 * the call fails).  IPv4 uses the classic fields, IPv6 MP_(UN)REACH_NLRI.
 */
struct ibuf *update_build(const struct update_ctx *, enum aid,
    const struct attrs *, const struct nlri *, size_t, size_t *);
struct ibuf *update_build_eor(enum aid);

#endif
