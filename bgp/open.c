/*
 * OPEN messages and capabilities: building our OPEN, parsing the peer's
 * (RFC 4271 §4.2 and §6.2, RFC 9072 extended optional parameters), walking
 * capability TLVs (RFC 5492) and agreeing on what both sides support:
 * multiprotocol (RFC 4760), route refresh (RFC 2918, RFC 7313), extended
 * messages (RFC 8654), graceful restart (RFC 4724), 4-octet AS numbers
 * (RFC 6793) and ADD-PATH (RFC 7911).
 *
 * We always advertise route refresh and 4-octet AS support, so negotiation
 * of those depends on the peer alone.  A bgp_open is filled from a zeroed
 * struct by open_parse(); caps_parse() only adds to the caps it is given,
 * because one OPEN may carry several Capabilities parameters.
 */
#include <string.h>

#include "bgp/wire.h"
#include "lib/log.h"

#define OPT_PARAM_CAPA 2
#define OPT_PARAM_EXT 255 /* RFC 9072 marker, in both length and type */

#define GR_RESTARTING 0x8000
#define GR_TIME_MASK 0x0fff
#define GR_AF_FORWARDING 0x80

static void caps_add(struct ibuf *, const struct bgp_caps *, uint32_t);
static int caps_add_mp(struct ibuf *, enum aid);
static void caps_families(const struct bgp_caps *, bool *);
static void capa_mp(struct ibuf *, struct bgp_caps *);
static void capa_refresh(struct ibuf *, struct bgp_caps *);
static void capa_ext_msg(struct ibuf *, struct bgp_caps *);
static void capa_gr(struct ibuf *, struct bgp_caps *);
static void capa_as4(struct ibuf *, struct bgp_caps *);
static void capa_addpath(struct ibuf *, struct bgp_caps *);
static void capa_enhanced(struct ibuf *, struct bgp_caps *);

/*
 * Capabilities we understand.  A valid length is min + k * step (exactly
 * min when step is 0); a known capability with any other length is logged
 * and ignored rather than fatal, as OpenBGPD and BIRD do.
 */
static const struct {
	uint8_t code;
	uint8_t min;
	uint8_t step;
	const char *name;
	void (*parse)(struct ibuf *, struct bgp_caps *);
} capa_table[] = {
    {CAPA_MP, 4, 0, "multiprotocol", capa_mp},
    {CAPA_REFRESH, 0, 0, "route refresh", capa_refresh},
    {CAPA_EXT_MSG, 0, 0, "extended message", capa_ext_msg},
    {CAPA_GR, 2, 4, "graceful restart", capa_gr},
    {CAPA_AS4, 4, 0, "4-octet AS", capa_as4},
    {CAPA_ADDPATH, 4, 4, "ADD-PATH", capa_addpath},
    {CAPA_ENHANCED_REFRESH, 0, 0, "enhanced route refresh", capa_enhanced},
};

#define CAPA_NTABLE (sizeof(capa_table) / sizeof(capa_table[0]))

/* one MP capability TLV: code, len 4, AFI(2), reserved(1), SAFI(1) */
static int
caps_add_mp(struct ibuf *b, enum aid aid)
{
	int errs = 0;

	errs += ibuf_add_n8(b, CAPA_MP);
	errs += ibuf_add_n8(b, 4);
	errs += ibuf_add_n16(b, aid_afi(aid));
	errs += ibuf_add_n8(b, 0);
	errs += ibuf_add_n8(b, aid_safi(aid));
	return errs ? -1 : 0;
}

/* our capability TLVs, in the order BIRD and OpenBGPD send them */
static void
caps_add(struct ibuf *b, const struct bgp_caps *caps, uint32_t asn)
{
	int errs = 0, n, aid;
	uint16_t flags;

	for (aid = 0; aid < AID_MAX; aid++)
		if (caps->mp[aid])
			errs += caps_add_mp(b, aid);

	errs += ibuf_add_n8(b, CAPA_REFRESH);
	errs += ibuf_add_n8(b, 0);
	if (caps->enhanced_refresh) {
		errs += ibuf_add_n8(b, CAPA_ENHANCED_REFRESH);
		errs += ibuf_add_n8(b, 0);
	}
	errs += ibuf_add_n8(b, CAPA_AS4);
	errs += ibuf_add_n8(b, 4);
	errs += ibuf_add_n32(b, asn);

	if (caps->gr) {
		for (n = 0, aid = 0; aid < AID_MAX; aid++)
			n += caps->gr_af[aid];
		errs += ibuf_add_n8(b, CAPA_GR);
		errs += ibuf_add_n8(b, 2 + 4 * n);
		flags = caps->gr_restarting ? GR_RESTARTING : 0;
		errs += ibuf_add_n16(b, flags | (caps->gr_time & GR_TIME_MASK));
		for (aid = 0; aid < AID_MAX; aid++) {
			if (!caps->gr_af[aid])
				continue;
			errs += ibuf_add_n16(b, aid_afi(aid));
			errs += ibuf_add_n8(b, aid_safi(aid));
			errs += ibuf_add_n8(
			    b, caps->gr_af_fwd[aid] ? GR_AF_FORWARDING : 0);
		}
	}

	for (n = 0, aid = 0; aid < AID_MAX; aid++)
		n += caps->addpath[aid] != 0;
	if (n > 0) {
		errs += ibuf_add_n8(b, CAPA_ADDPATH);
		errs += ibuf_add_n8(b, 4 * n);
		for (aid = 0; aid < AID_MAX; aid++) {
			if (caps->addpath[aid] == 0)
				continue;
			errs += ibuf_add_n16(b, aid_afi(aid));
			errs += ibuf_add_n8(b, aid_safi(aid));
			errs += ibuf_add_n8(b,
			    caps->addpath[aid] & (ADDPATH_RECV | ADDPATH_SEND));
		}
	}

	if (caps->ext_msg) {
		errs += ibuf_add_n8(b, CAPA_EXT_MSG);
		errs += ibuf_add_n8(b, 0);
	}
	if (errs)
		fatalx("%s: capability buffer too small", __func__);
}

/*
 * Our OPEN.  as2 of 0 means "derive it": the ASN, or AS_TRANS when it does
 * not fit in two octets (RFC 6793 §4.1); the 4-octet AS capability carries
 * caps.as4_asn, or as2 when that is unset.  version 0 means BGP_VERSION.
 * The caller frees the message.
 */
struct ibuf *
open_build(const struct bgp_open *open)
{
	struct ibuf *msg, *caps;
	uint32_t asn;
	uint16_t as2;
	size_t clen;
	int errs = 0;

	asn = open->caps.as4_asn ? open->caps.as4_asn : open->as2;
	as2 = open->as2;
	if (as2 == 0)
		as2 = asn > UINT16_MAX ? AS_TRANS : asn;

	caps = ibuf_dynamic(64, BGP_MAX_LEN);
	caps_add(caps, &open->caps, asn);
	clen = ibuf_size(caps);

	msg = msg_new(MSG_OPEN, BGP_MAX_LEN);
	errs += ibuf_add_n8(msg, open->version ? open->version : BGP_VERSION);
	errs += ibuf_add_n16(msg, as2);
	errs += ibuf_add_n16(msg, open->holdtime);
	errs += ibuf_add_n32(msg, open->bgpid);
	if (clen + 2 < OPT_PARAM_EXT) {
		/* one Capabilities parameter, RFC 5492 §4 */
		errs += ibuf_add_n8(msg, clen + 2);
		errs += ibuf_add_n8(msg, OPT_PARAM_CAPA);
		errs += ibuf_add_n8(msg, clen);
	} else {
		/* RFC 9072 §2: 255 as length and type, then 2-octet lengths */
		errs += ibuf_add_n8(msg, OPT_PARAM_EXT);
		errs += ibuf_add_n8(msg, OPT_PARAM_EXT);
		errs += ibuf_add_n16(msg, clen + 3);
		errs += ibuf_add_n8(msg, OPT_PARAM_CAPA);
		errs += ibuf_add_n16(msg, clen);
	}
	errs += ibuf_add_ibuf(msg, caps);
	ibuf_free(caps);
	if (errs || msg_close(msg) == -1) {
		log_warnx("OPEN message does not fit in %d bytes", BGP_MAX_LEN);
		ibuf_free(msg);
		return NULL;
	}
	return msg;
}

/*
 * The body of a peer's OPEN (everything after the header).  Fills *open
 * from scratch.  Errors carry what RFC 4271 §6.2 asks for; malformed
 * optional parameter framing is an unspecific OPEN error, as OpenBGPD
 * reports it, since no subcode describes it.
 */
int
open_parse(struct ibuf *body, struct bgp_open *open, struct bgp_err *err)
{
	struct ibuf params, param, peek;
	size_t msglen = ibuf_size(body) + BGP_HDR_LEN;
	uint16_t optlen, plen;
	uint8_t len8, ptype, vdata[2] = {0, BGP_VERSION}, ldata[2];
	bool ext = false;

	memset(open, 0, sizeof(*open));
	if (ibuf_get_n8(body, &open->version) == -1 ||
	    ibuf_get_n16(body, &open->as2) == -1 ||
	    ibuf_get_n16(body, &open->holdtime) == -1 ||
	    ibuf_get_n32(body, &open->bgpid) == -1 ||
	    ibuf_get_n8(body, &len8) == -1) {
		/* the header check should have caught it: §6.1 */
		ldata[0] = msglen > UINT16_MAX ? 0xff : msglen >> 8;
		ldata[1] = msglen > UINT16_MAX ? 0xff : msglen & 0xff;
		err_set(err, ERR_HDR_LEN, ldata, sizeof(ldata),
		    "short OPEN (%zu bytes)", msglen);
		return -1;
	}
	if (open->version != BGP_VERSION) {
		err_set(err, ERR_OPEN_VERSION, vdata, sizeof(vdata),
		    "unsupported version %u", open->version);
		return -1;
	}

	/* carve the optional parameters before looking at anything else */
	optlen = len8;
	if (len8 == OPT_PARAM_EXT) {
		ibuf_from_ibuf(&peek, body);
		if (ibuf_get_n8(&peek, &ptype) == 0 && ptype == OPT_PARAM_EXT) {
			ext = true;
			if (ibuf_skip(body, 1) == -1 ||
			    ibuf_get_n16(body, &optlen) == -1) {
				err_set(err, ERR_OPEN, NULL, 0,
				    "truncated extended optional parameters "
				    "length");
				return -1;
			}
		}
	}
	if (optlen != ibuf_size(body)) {
		err_set(err, ERR_OPEN, NULL, 0,
		    "optional parameters length %u but %zu bytes follow",
		    optlen, ibuf_size(body));
		return -1;
	}
	if (ibuf_get_ibuf(body, optlen, &params) == -1)
		fatalx("%s: optional parameters vanished", __func__);

	if (open->holdtime == 1 || open->holdtime == 2) {
		err_set(err, ERR_OPEN_HOLD, NULL, 0,
		    "unacceptable hold time %u", open->holdtime);
		return -1;
	}
	if (open->bgpid == 0) {
		/* RFC 6286 §2.2: zero is not a valid identifier */
		err_set(err, ERR_OPEN_BGPID, NULL, 0, "BGP identifier 0");
		return -1;
	}

	while (ibuf_size(&params) > 0) {
		if (ibuf_get_n8(&params, &ptype) == -1)
			goto bad_param;
		if (ext) {
			if (ibuf_get_n16(&params, &plen) == -1)
				goto bad_param;
		} else {
			if (ibuf_get_n8(&params, &len8) == -1)
				goto bad_param;
			plen = len8;
		}
		if (ibuf_get_ibuf(&params, plen, &param) == -1)
			goto bad_param;
		if (ptype != OPT_PARAM_CAPA) {
			err_set(err, ERR_OPEN_OPT, NULL, 0,
			    "unsupported optional parameter %u", ptype);
			return -1;
		}
		if (caps_parse(&param, &open->caps, err) == -1)
			return -1;
	}

	if (open_peer_as(open) == 0) {
		/* RFC 7607 §2 */
		err_set(err, ERR_OPEN_AS, NULL, 0, "peer AS 0");
		return -1;
	}
	return 0;

bad_param:
	err_set(err, ERR_OPEN, NULL, 0,
	    "optional parameter overruns the parameters length");
	return -1;
}

/*
 * Walks the capability TLVs of one Capabilities parameter, adding to
 * *caps.  Unknown capabilities are ignored (RFC 5492 §4); only a TLV that
 * runs past the parameter is an error.
 */
int
caps_parse(struct ibuf *buf, struct bgp_caps *caps, struct bgp_err *err)
{
	struct ibuf value;
	uint8_t code, len;
	size_t i;

	while (ibuf_size(buf) > 0) {
		if (ibuf_get_n8(buf, &code) == -1 ||
		    ibuf_get_n8(buf, &len) == -1 ||
		    ibuf_get_ibuf(buf, len, &value) == -1) {
			err_set(err, ERR_OPEN, NULL, 0,
			    "capability overruns its parameter");
			return -1;
		}
		for (i = 0; i < CAPA_NTABLE; i++)
			if (capa_table[i].code == code)
				break;
		if (i == CAPA_NTABLE)
			continue;
		if (len < capa_table[i].min ||
		    (capa_table[i].step == 0 && len != capa_table[i].min) ||
		    (capa_table[i].step != 0 &&
		        (len - capa_table[i].min) % capa_table[i].step != 0)) {
			log_warnx("%s capability with bad length %u ignored",
			    capa_table[i].name, len);
			continue;
		}
		capa_table[i].parse(&value, caps);
	}
	return 0;
}

/* RFC 4760 §8: one capability per AFI/SAFI, they accumulate */
static void
capa_mp(struct ibuf *b, struct bgp_caps *caps)
{
	uint16_t afi;
	uint8_t reserved, safi;
	enum aid aid;

	if (ibuf_get_n16(b, &afi) == -1 || ibuf_get_n8(b, &reserved) == -1 ||
	    ibuf_get_n8(b, &safi) == -1)
		return;
	caps->mp_seen = true;
	if (aid_from_afi(afi, safi, &aid) == 0)
		caps->mp[aid] = true;
}

static void
capa_refresh(struct ibuf *b, struct bgp_caps *caps)
{
	caps->refresh = true;
}

static void
capa_ext_msg(struct ibuf *b, struct bgp_caps *caps)
{
	caps->ext_msg = true;
}

static void
capa_enhanced(struct ibuf *b, struct bgp_caps *caps)
{
	caps->enhanced_refresh = true;
}

static void
capa_as4(struct ibuf *b, struct bgp_caps *caps)
{
	if (ibuf_get_n32(b, &caps->as4_asn) == 0)
		caps->as4 = true;
}

/* RFC 4724 §3: flags and restart time, then AFI(2) SAFI(1) flags(1) */
static void
capa_gr(struct ibuf *b, struct bgp_caps *caps)
{
	uint16_t timer, afi;
	uint8_t safi, flags;
	enum aid aid;

	if (ibuf_get_n16(b, &timer) == -1)
		return;
	/* a later instance replaces an earlier one */
	memset(caps->gr_af, 0, sizeof(caps->gr_af));
	memset(caps->gr_af_fwd, 0, sizeof(caps->gr_af_fwd));
	caps->gr = true;
	caps->gr_restarting = (timer & GR_RESTARTING) != 0;
	caps->gr_time = timer & GR_TIME_MASK;
	while (ibuf_size(b) > 0) {
		if (ibuf_get_n16(b, &afi) == -1 ||
		    ibuf_get_n8(b, &safi) == -1 || ibuf_get_n8(b, &flags) == -1)
			return;
		if (aid_from_afi(afi, safi, &aid) == -1)
			continue;
		caps->gr_af[aid] = true;
		caps->gr_af_fwd[aid] = (flags & GR_AF_FORWARDING) != 0;
	}
}

/* RFC 7911 §4: AFI(2) SAFI(1) Send/Receive(1), 1 receive, 2 send, 3 both */
static void
capa_addpath(struct ibuf *b, struct bgp_caps *caps)
{
	uint16_t afi;
	uint8_t safi, mode;
	enum aid aid;

	while (ibuf_size(b) > 0) {
		if (ibuf_get_n16(b, &afi) == -1 ||
		    ibuf_get_n8(b, &safi) == -1 || ibuf_get_n8(b, &mode) == -1)
			return;
		if (aid_from_afi(afi, safi, &aid) == -1)
			continue;
		if (mode < ADDPATH_RECV ||
		    mode > (ADDPATH_RECV | ADDPATH_SEND)) {
			log_warnx(
			    "ADD-PATH %s mode %u ignored", aid_name(aid), mode);
			continue;
		}
		caps->addpath[aid] = mode;
	}
}

uint32_t
open_peer_as(const struct bgp_open *open)
{
	return open->caps.as4 ? open->caps.as4_asn : open->as2;
}

/*
 * The families a side speaks: what its MP capabilities say, or IPv4
 * unicast alone when it sent none (RFC 4760 §8).
 */
static void
caps_families(const struct bgp_caps *caps, bool *mp)
{
	int aid;
	bool any = caps->mp_seen;

	for (aid = 0; aid < AID_MAX; aid++)
		any |= caps->mp[aid];
	for (aid = 0; aid < AID_MAX; aid++)
		mp[aid] = any ? caps->mp[aid] : aid == AID_IPV4;
}

/*
 * What both sides agreed on.  With no family in common the session cannot
 * carry anything: RFC 5492 §3 says to send Unsupported Capability with the
 * capabilities we need in the data, here our MP capabilities.
 */
int
caps_negotiate(const struct bgp_caps *local, const struct bgp_caps *remote,
    struct bgp_neg *neg, struct bgp_err *err)
{
	bool lmp[AID_MAX], rmp[AID_MAX], common = false;
	struct ibuf *data;
	int aid;

	memset(neg, 0, sizeof(*neg));
	caps_families(local, lmp);
	caps_families(remote, rmp);
	for (aid = 0; aid < AID_MAX; aid++) {
		neg->mp[aid] = lmp[aid] && rmp[aid];
		common |= neg->mp[aid];
	}
	if (!common) {
		data = ibuf_dynamic(16, BGP_ERR_DATA_MAX);
		for (aid = 0; aid < AID_MAX; aid++)
			if (lmp[aid] && caps_add_mp(data, aid) == -1)
				fatalx("%s: error data too small", __func__);
		err_set(err, ERR_OPEN_CAPA, ibuf_data(data), ibuf_size(data),
		    "no address family in common");
		ibuf_free(data);
		return -1;
	}

	/* open_build() always advertises these two */
	neg->as4 = remote->as4;
	neg->refresh = remote->refresh;
	neg->enhanced_refresh =
	    local->enhanced_refresh && remote->enhanced_refresh;
	neg->ext_msg = local->ext_msg && remote->ext_msg;

	for (aid = 0; aid < AID_MAX; aid++) {
		if (!neg->mp[aid])
			continue;
		neg->addpath_recv[aid] = (local->addpath[aid] & ADDPATH_RECV) &&
		    (remote->addpath[aid] & ADDPATH_SEND);
		neg->addpath_send[aid] = (local->addpath[aid] & ADDPATH_SEND) &&
		    (remote->addpath[aid] & ADDPATH_RECV);
	}

	/* RFC 4724: the peer's restart time and forwarding families */
	neg->gr = remote->gr;
	if (remote->gr) {
		neg->gr_time = remote->gr_time;
		for (aid = 0; aid < AID_MAX; aid++)
			neg->gr_af[aid] = remote->gr_af[aid] && neg->mp[aid];
	}
	return 0;
}
