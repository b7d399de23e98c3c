/*
 * Go's utf8.DecodeRuneInString for confd's functions and path.Match: the
 * rune at s and its length; an invalid or short sequence decodes as
 * U+FFFD with length 1, as Go's.
 */
#ifndef PODMESH_CONFD_GOUTF8_H
#define PODMESH_CONFD_GOUTF8_H

#include <stddef.h>
#include <stdint.h>

static inline uint32_t
go_utf8_decode(const char *str, size_t len, size_t *size)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo = 0x80, hi = 0xbf;
	uint32_t r;
	size_t n, i;

	*size = 1;
	if (len == 0)
		return 0xfffd;
	if (s[0] < 0x80)
		return s[0];
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		r = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		r = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0;
		else if (s[0] == 0xed)
			hi = 0x9f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		r = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0xfffd;
	if (len < n)
		return 0xfffd;
	if (s[1] < lo || s[1] > hi)
		return 0xfffd;
	for (i = 1; i < n; i++) {
		if (i > 1 && (s[i] < 0x80 || s[i] > 0xbf))
			return 0xfffd;
		r = (r << 6) | (s[i] & 0x3f);
	}
	*size = n;
	return r;
}

#endif
