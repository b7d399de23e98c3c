/*
 * Bounded byte buffers (see ibuf.h).  Modelled on OpenBGPD's ibuf: writers
 * check capacity before every append, readers check length before every
 * read, and a short read sets errno = EBADMSG.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ibuf.h"
#include "xmalloc.h"

struct ibuf *
ibuf_open(size_t len)
{
	struct ibuf *b = xcalloc(1, sizeof(*b));

	if (len > 0)
		b->buf = xmalloc(len);
	b->size = len;
	return b;
}

struct ibuf *
ibuf_dynamic(size_t len, size_t max)
{
	struct ibuf *b;

	if (max < len)
		max = len;
	b = ibuf_open(len);
	b->max = max;
	return b;
}

void
ibuf_free(struct ibuf *b)
{
	if (b == NULL)
		return;
	if (!b->view)
		free(b->buf);
	free(b);
}

static int
ibuf_realloc(struct ibuf *b, size_t len)
{
	size_t need, nsize;

	if (b->view || len > SIZE_MAX - b->wpos)
		goto full;
	need = b->wpos + len;
	if (need <= b->size)
		return 0;
	if (b->max == 0 || need > b->max)
		goto full;
	nsize = b->size ? b->size : 64;
	while (nsize < need)
		nsize *= 2;
	if (nsize > b->max)
		nsize = b->max;
	b->buf = xrealloc(b->buf, nsize);
	b->size = nsize;
	return 0;
full:
	errno = ERANGE;
	return -1;
}

void *
ibuf_reserve(struct ibuf *b, size_t len)
{
	void *p;

	if (ibuf_realloc(b, len) == -1)
		return NULL;
	p = b->buf + b->wpos;
	b->wpos += len;
	return p;
}

int
ibuf_add(struct ibuf *b, const void *data, size_t len)
{
	void *p;

	if (len == 0)
		return 0;
	if ((p = ibuf_reserve(b, len)) == NULL)
		return -1;
	memcpy(p, data, len);
	return 0;
}

int
ibuf_add_n8(struct ibuf *b, uint8_t v)
{
	return ibuf_add(b, &v, 1);
}

int
ibuf_add_n16(struct ibuf *b, uint16_t v)
{
	uint8_t x[2] = {v >> 8, v & 0xff};

	return ibuf_add(b, x, sizeof(x));
}

int
ibuf_add_n32(struct ibuf *b, uint32_t v)
{
	uint8_t x[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};

	return ibuf_add(b, x, sizeof(x));
}

int
ibuf_add_zero(struct ibuf *b, size_t len)
{
	void *p;

	if (len == 0)
		return 0;
	if ((p = ibuf_reserve(b, len)) == NULL)
		return -1;
	memset(p, 0, len);
	return 0;
}

int
ibuf_add_ibuf(struct ibuf *b, const struct ibuf *from)
{
	return ibuf_add(b, ibuf_data(from), ibuf_size(from));
}

int
ibuf_set_n8(struct ibuf *b, size_t off, uint8_t v)
{
	if (off >= b->wpos) {
		errno = ERANGE;
		return -1;
	}
	b->buf[off] = v;
	return 0;
}

int
ibuf_set_n16(struct ibuf *b, size_t off, uint16_t v)
{
	if (off > b->wpos || b->wpos - off < 2) {
		errno = ERANGE;
		return -1;
	}
	b->buf[off] = v >> 8;
	b->buf[off + 1] = v & 0xff;
	return 0;
}

void
ibuf_truncate(struct ibuf *b, size_t len)
{
	if (b->rpos + len < b->wpos)
		b->wpos = b->rpos + len;
}

size_t
ibuf_left(const struct ibuf *b)
{
	if (b->view)
		return 0;
	return (b->max ? b->max : b->size) - b->wpos;
}

size_t
ibuf_size(const struct ibuf *b)
{
	return b->wpos - b->rpos;
}

void *
ibuf_data(const struct ibuf *b)
{
	return b->buf + b->rpos;
}

size_t
ibuf_wpos(const struct ibuf *b)
{
	return b->wpos;
}

void
ibuf_from_buffer(struct ibuf *b, const void *data, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->buf = (uint8_t *)data;
	b->size = b->wpos = len;
	b->view = 1;
}

void
ibuf_from_ibuf(struct ibuf *b, const struct ibuf *from)
{
	ibuf_from_buffer(b, ibuf_data(from), ibuf_size(from));
}

int
ibuf_get(struct ibuf *b, void *data, size_t len)
{
	if (ibuf_size(b) < len) {
		errno = EBADMSG;
		return -1;
	}
	if (len > 0)
		memcpy(data, b->buf + b->rpos, len);
	b->rpos += len;
	return 0;
}

int
ibuf_get_n8(struct ibuf *b, uint8_t *v)
{
	return ibuf_get(b, v, 1);
}

int
ibuf_get_n16(struct ibuf *b, uint16_t *v)
{
	uint8_t x[2];

	if (ibuf_get(b, x, sizeof(x)) == -1)
		return -1;
	*v = (uint16_t)(x[0] << 8 | x[1]);
	return 0;
}

int
ibuf_get_n32(struct ibuf *b, uint32_t *v)
{
	uint8_t x[4];

	if (ibuf_get(b, x, sizeof(x)) == -1)
		return -1;
	*v = (uint32_t)x[0] << 24 | (uint32_t)x[1] << 16 | (uint32_t)x[2] << 8 |
	    x[3];
	return 0;
}

int
ibuf_get_ibuf(struct ibuf *b, size_t len, struct ibuf *sub)
{
	if (ibuf_size(b) < len) {
		errno = EBADMSG;
		return -1;
	}
	ibuf_from_buffer(sub, b->buf + b->rpos, len);
	b->rpos += len;
	return 0;
}

int
ibuf_skip(struct ibuf *b, size_t len)
{
	if (ibuf_size(b) < len) {
		errno = EBADMSG;
		return -1;
	}
	b->rpos += len;
	return 0;
}

void
ibuf_rewind(struct ibuf *b)
{
	b->rpos = 0;
}
