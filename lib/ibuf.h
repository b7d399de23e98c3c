/*
 * Bounded byte buffers for all wire input and output.
 *
 * A struct ibuf is a cursor over bytes: writers append at wpos (growing a
 * dynamic buffer up to its max), readers consume from rpos.  Every reader
 * returns -1 with errno = EBADMSG when fewer bytes remain than asked for, so a
 * decoder never reads past the end of a message.  ibuf_get_ibuf() carves a
 * bounded sub-reader (a view) and advances the parent: decoders carve sections
 * first and then loop while ibuf_size() > 0.  Views are never freed.
 */
#ifndef PODMESH_IBUF_H
#define PODMESH_IBUF_H

#include <stddef.h>
#include <stdint.h>

struct ibuf {
	uint8_t *buf;
	size_t size; /* allocated bytes */
	size_t max; /* growth limit; 0 for a fixed buffer or a view */
	size_t rpos;
	size_t wpos;
	int view; /* does not own buf */
};

/* writers: ibuf_open()/ibuf_dynamic() allocate, ibuf_free() frees */
struct ibuf *ibuf_open(size_t);
struct ibuf *ibuf_dynamic(size_t, size_t);
void ibuf_free(struct ibuf *);
int ibuf_add(struct ibuf *, const void *, size_t);
int ibuf_add_n8(struct ibuf *, uint8_t);
int ibuf_add_n16(struct ibuf *, uint16_t);
int ibuf_add_n32(struct ibuf *, uint32_t);
int ibuf_add_zero(struct ibuf *, size_t);
int ibuf_add_ibuf(struct ibuf *, const struct ibuf *);
void *ibuf_reserve(struct ibuf *, size_t);
int ibuf_set_n8(struct ibuf *, size_t, uint8_t);
int ibuf_set_n16(struct ibuf *, size_t, uint16_t);
void ibuf_truncate(struct ibuf *, size_t);
size_t ibuf_left(const struct ibuf *);

/* both */
size_t ibuf_size(const struct ibuf *);
void *ibuf_data(const struct ibuf *);
size_t ibuf_wpos(const struct ibuf *);

/* readers */
void ibuf_from_buffer(struct ibuf *, const void *, size_t);
void ibuf_from_ibuf(struct ibuf *, const struct ibuf *);
int ibuf_get(struct ibuf *, void *, size_t);
int ibuf_get_n8(struct ibuf *, uint8_t *);
int ibuf_get_n16(struct ibuf *, uint16_t *);
int ibuf_get_n32(struct ibuf *, uint32_t *);
int ibuf_get_ibuf(struct ibuf *, size_t, struct ibuf *);
int ibuf_skip(struct ibuf *, size_t);
void ibuf_rewind(struct ibuf *);

#endif
