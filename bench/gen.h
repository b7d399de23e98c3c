/*
 * bgpgen internals: a BGP load generator built on podmesh's own codec
 * (bgp/wire.h).  One epoll(7) loop drives any number of sessions; each
 * session may send a precomputed run of UPDATEs (gen_load.c) and may count
 * the distinct prefixes it is sent (a bitmap over the generated prefix
 * space).  bgpgen.c parses the command line and reports; gen_sess.c owns
 * sockets, the OPEN/KEEPALIVE handshake (RFC 4271 §8, reduced to what a
 * generator needs) and timers.
 *
 * In fan-out runs every session does both: it announces its own block of
 * the space and counts the blocks of all the others, as a route-reflector
 * client does (struct gen_fanout says who owns which index).
 */
#ifndef PODMESH_BENCH_GEN_H
#define PODMESH_BENCH_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bgp/wire.h"
#include "lib/addr.h"

/* the prefixes a run generates: index i is base + i * 2^(32 - len) */
struct gen_space {
	uint32_t base; /* host byte order, masked to len */
	uint8_t len; /* 8..32 */
	uint64_t size; /* how many indices exist */
};

/* a precomputed stream of whole BGP messages */
struct gen_payload {
	uint8_t *buf;
	size_t len;
	size_t nmsgs;
	size_t nprefixes;
	double encode_s; /* wall time to build it */
};

/*
 * Fan-out ownership: session i owns indices [i * per, (i + 1) * per),
 * announces them with next hop nh_base + i, and its BGP identifier (so a
 * reflector's ORIGINATOR_ID) is id_base + i, its own address.  The owner
 * of a prefix is therefore arithmetic: (prefix - base) >> shift is its
 * index, the index / per its owner; no table, no hash.
 */
struct gen_fanout {
	uint64_t per;
	uint32_t nh_base; /* host byte order */
	uint32_t id_base;
	bool check_nexthop;
	bool full_parse; /* update_parse() instead of the fast path */

	/* the space, copied here by gen_fanout_init() for the fast path */
	uint32_t base;
	uint32_t hostmask; /* the bits below the prefix length */
	uint8_t len;
	uint8_t shift; /* 32 - len */
};

/* what a fan-out client checks of a received route */
struct gen_route {
	uint32_t nexthop;
	uint32_t originator;
	bool has_nexthop;
	bool has_originator;
};

/* distinct prefixes seen on one session */
struct gen_count {
	uint64_t *bits;
	uint64_t nbits;
	uint64_t have; /* distinct announced, not since withdrawn */
	uint64_t announced; /* NLRI entries, duplicates included */
	uint64_t withdrawn; /* withdrawn entries */
	uint64_t foreign; /* prefixes outside the space */
	uint64_t updates;
	uint64_t eors;
	uint64_t taw; /* RFC 7606 treat-as-withdraw UPDATEs */
	uint64_t own; /* fan-out: our own prefixes sent back to us */
	uint64_t wrong_nexthop; /* fan-out: not the owner's address */
	uint64_t bad_originator; /* fan-out: ORIGINATOR_ID absent or wrong */
	/* fan-out: the first wrong next hop, for the report */
	struct prefix wrong_prefix;
	uint32_t wrong_nh, wrong_want;

	/* the first route's path, to show the DUT did eBGP's work */
	bool sampled;
	struct addr sample_nexthop;
	uint32_t sample_aspath[8];
	int sample_aspath_len;
};

enum gen_state {
	GS_IDLE, /* waiting to (re)connect */
	GS_CONNECT,
	GS_LISTEN,
	GS_OPENSENT,
	GS_OPENCONFIRM,
	GS_ESTABLISHED,
	GS_FAILED,
};

struct gen;

struct gen_sess {
	struct gen *gen;
	unsigned int idx;
	struct addr local;
	struct addr peer;
	uint16_t port;
	bool listen;
	int fd;
	int lfd;
	bool ev_out; /* epoll is asked for EPOLLOUT */
	bool tried; /* a first connect or listen happened */
	enum gen_state state; /* change only through gen_sess_state() */
	double retry_at; /* monotonic, for GS_IDLE */

	uint32_t asn;
	uint32_t peer_asn;
	uint16_t holdtime; /* negotiated */
	double keepalive_at; /* monotonic: next KEEPALIVE due */
	double hold_at; /* monotonic: peer silent until then = dead */
	struct update_ctx ctx;

	/*
	 * input: the start of a message that a read cut off (less than
	 * BGP_MAX_LEN), kept until the next read; allocated when needed.
	 * Whole messages are framed in g->rbuf, shared by all sessions.
	 */
	uint8_t *stash;
	size_t slen;
	size_t scap; /* 0, 256 or BGP_MAX_LEN */

	/* output: control messages first, at message boundaries only */
	struct ibuf *ctl;
	size_t ctl_off;
	const struct gen_payload *bulk;
	size_t bulk_off;
	size_t bulk_msg; /* start of the message bulk_off is inside */

	struct gen_count count;
	bool counting;

	/* CLOCK_REALTIME stamps, 0 until they happen */
	double established_at;
	double first_write_at; /* first byte of the bulk handed to TCP */
	double last_write_at; /* last byte of the bulk handed to TCP */
	double first_update_at; /* first UPDATE received */
	double complete_at; /* count.have reached the expectation */
	uint64_t expect;
};

struct gen {
	struct gen_sess *sess;
	unsigned int nsess;
	struct gen_space space;
	const struct gen_fanout *fanout; /* NULL unless a fan-out run */
	uint16_t holdtime; /* what we offer */
	uint8_t *rbuf; /* the read buffer, one for all sessions (gen_run) */
	size_t rbuf_size; /* its size; 0 = the default */
	unsigned int opening_max; /* handshakes in flight; 0 = the default */
	double deadline; /* monotonic; 0 = none */
	double pace; /* once ready, wake at most this often (s); 0 = always */
	const char *ready_file; /* created once all are Established */
	/* hold every bulk payload back until all sessions are Established */
	bool gate_bulk;
	bool ready;
	double ready_at; /* CLOCK_REALTIME: the last one became Established */
	void (*on_ready)(struct gen *); /* called once, at ready_at */
	void *arg; /* for on_ready and done callbacks */
	bool verbose;

	/* kept by gen_sess_state() and the session code, not scanned */
	unsigned int opening; /* sessions between connect and Established */
	unsigned int nestablished;
	unsigned int nfailed;
	unsigned int ncomplete; /* sessions whose complete_at is set */
	unsigned int nwritten; /* sessions whose last_write_at is set */
	uint64_t nreads; /* read(2) calls that returned data */
	uint64_t nread_bytes;
	uint64_t nwakeups; /* epoll_wait returns with events */
	double now; /* monotonic, at the last wakeup */
	unsigned int next_new; /* sessions [0, next_new) were started */
	int epfd; /* during gen_run(), else -1 */
};

/* gen_load.c */
int gen_space_init(struct gen_space *, const char *, int, uint64_t);
void gen_space_prefix(const struct gen_space *, uint64_t, struct prefix *);
int64_t gen_space_index_v4(const struct gen_space *, uint32_t, uint8_t);
int gen_payload_build(struct gen_payload *, const struct gen_space *, uint64_t,
    uint64_t, const struct attrs *, const struct update_ctx *);
void gen_payload_free(struct gen_payload *);
void gen_count_init(struct gen_count *, uint64_t);
void gen_count_free(struct gen_count *);
void gen_count_prefetch(const struct gen_count *);
void gen_count_update(
    struct gen_count *, const struct gen_space *, const struct update *);
void gen_count_fanout(struct gen_count *, const struct gen_space *,
    const struct gen_fanout *, unsigned int, const struct update *);
void gen_fanout_init(struct gen_fanout *, const struct gen_space *);
long gen_fanout_batch(struct gen_count *, const struct gen_fanout *,
    unsigned int, const uint8_t *, size_t, uint64_t *, struct bgp_err *);
int gen_fanout_update(struct gen_count *, const struct gen_fanout *,
    unsigned int, const struct ibuf *, struct bgp_err *);

/* gen_sess.c */
void gen_init(struct gen *);
void gen_sess_init(struct gen *, struct gen_sess *, unsigned int,
    const struct addr *, const struct addr *, uint16_t, bool, uint32_t,
    uint32_t);
void gen_sess_free(struct gen_sess *);
int gen_run(struct gen *, bool (*)(struct gen *));
bool gen_all_established(const struct gen *);
double gen_now(void);
double gen_realtime(void);
const char *gen_sess_name(const struct gen_sess *, char *, size_t);

#endif
