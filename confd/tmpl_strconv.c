/*
 * Go's strconv for the template engine's printing: FormatFloat (shortest
 * and fixed precision, e f g b x), Quote, QuoteRune, IsPrint, and the
 * UTF-8 helpers fmt needs (widths count runes).
 */
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "confd/tmpl_fmtint.h"

/* decimal digits of |v|: d[0..nd) with the point after dp digits */
struct tdigits {
	char d[32];
	int nd;
	int dp;
};

/* the shortest digits that read back as v (strconv's shortest) */
static void
shortest_digits(double v, struct tdigits *dg)
{
	char buf[64];
	int p, exp;
	char *e;

	dg->nd = 0;
	dg->dp = 0;
	if (v == 0)
		return;
	for (p = 1; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	/* buf: d[.ddd]e[+-]xx */
	e = strchr(buf, 'e');
	exp = atoi(e + 1);
	for (char *c = buf; c < e; c++)
		if (*c >= '0' && *c <= '9')
			dg->d[dg->nd++] = *c;
	while (dg->nd > 1 && dg->d[dg->nd - 1] == '0')
		dg->nd--;
	dg->dp = exp + 1;
}

static void
fmt_e(struct tbuf *b, const struct tdigits *dg, int prec, char ech)
{
	int exp, i;
	char ch;

	ch = dg->nd == 0 ? '0' : dg->d[0];
	tbuf_add(b, &ch, 1);
	if (prec > 0) {
		tbuf_add(b, ".", 1);
		i = 1;
		for (; i < dg->nd && i <= prec; i++)
			tbuf_add(b, &dg->d[i], 1);
		for (; i <= prec; i++)
			tbuf_add(b, "0", 1);
	}
	exp = dg->nd == 0 ? 0 : dg->dp - 1;
	tbuf_addf(b, "%c%c%02d", ech, exp < 0 ? '-' : '+', abs(exp));
}

static void
fmt_f(struct tbuf *b, const struct tdigits *dg, int prec)
{
	int i, j;

	if (dg->dp > 0) {
		i = 0;
		for (; i < dg->dp && i < dg->nd; i++)
			tbuf_add(b, &dg->d[i], 1);
		for (; i < dg->dp; i++)
			tbuf_add(b, "0", 1);
	} else
		tbuf_add(b, "0", 1);
	if (prec > 0) {
		tbuf_add(b, ".", 1);
		for (i = 1; i <= prec; i++) {
			j = dg->dp + i - 1;
			tbuf_add(
			    b, (j >= 0 && j < dg->nd) ? &dg->d[j] : "0", 1);
		}
	}
}

/* %b: mantissa p exponent, decimal */
static void
fmt_b(struct tbuf *b, double v)
{
	uint64_t bits, mant;
	int exp;

	memcpy(&bits, &v, sizeof(bits));
	exp = (int)((bits >> 52) & 0x7ff);
	mant = bits & ((UINT64_C(1) << 52) - 1);
	if (exp == 0)
		exp++;
	else
		mant |= UINT64_C(1) << 52;
	exp += -1023 - 52;
	tbuf_addf(b, "%llup%c%d", (unsigned long long)mant, exp < 0 ? '-' : '+',
	    abs(exp));
}

/* %x %X: 0x1.fffp+ee, prec hex digits after the point (-1: shortest) */
static void
fmt_x(struct tbuf *b, double v, int prec, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const uint64_t mask60 = (UINT64_C(1) << 60) - 1;
	uint64_t bits, mant, frac;
	int exp, shift, i, n;
	char out[16];

	memcpy(&bits, &v, sizeof(bits));
	exp = (int)((bits >> 52) & 0x7ff);
	mant = bits & ((UINT64_C(1) << 52) - 1);
	if (exp == 0)
		exp++;
	else
		mant |= UINT64_C(1) << 52;
	exp -= 1023;
	if (mant == 0)
		exp = 0;
	else {
		/* normalize: leading 1 at bit 60 */
		mant <<= 60 - 52;
		while ((mant & (UINT64_C(1) << 60)) == 0) {
			mant <<= 1;
			exp--;
		}
	}
	/* round to prec hex digits after the point (60 bits of fraction) */
	if (prec >= 0 && prec < 15) {
		uint64_t extra, half;

		shift = 60 - prec * 4;
		extra = mant & ((UINT64_C(1) << shift) - 1);
		mant >>= shift;
		half = UINT64_C(1) << (shift - 1);
		if (extra > half || (extra == half && (mant & 1)))
			mant++;
		mant <<= shift;
		if (mant & (UINT64_C(1) << 61)) {
			mant >>= 1;
			exp++;
		}
	}
	tbuf_add(b, "0", 1);
	tbuf_add(b, upper ? "X" : "x", 1);
	tbuf_add(b, &digits[(mant >> 60) & 1], 1);
	frac = mant & mask60;
	n = 0;
	while (n < 15 && (prec < 0 ? frac != 0 : n < prec)) {
		out[n++] = digits[frac >> 56];
		frac = (frac << 4) & mask60;
	}
	if (n > 0 || prec > 0) {
		tbuf_add(b, ".", 1);
		tbuf_add(b, out, n);
		for (i = n; i < prec; i++)
			tbuf_add(b, "0", 1);
	}
	tbuf_addf(
	    b, "%c%c%02d", upper ? 'P' : 'p', exp < 0 ? '-' : '+', abs(exp));
}

void
tfmt_float(struct tbuf *b, double v, int verb, int prec)
{
	struct tdigits dg;
	char fmt[8];
	int eprec, exp;

	if (isnan(v)) {
		tbuf_adds(b, "+NaN");
		return;
	}
	tbuf_add(b, signbit(v) ? "-" : "+", 1);
	if (isinf(v)) {
		tbuf_adds(b, "Inf");
		return;
	}
	v = fabs(v);
	if (verb == 'F')
		verb = 'f';
	switch (verb) {
	case 'b':
		fmt_b(b, v);
		return;
	case 'x':
	case 'X':
		fmt_x(b, v, prec, verb == 'X');
		return;
	}
	if (prec >= 0) {
		/* glibc rounds exactly, as strconv does */
		char tmp[512];
		char *big = NULL;
		int n;

		snprintf(fmt, sizeof(fmt), "%%.*%c", verb);
		n = snprintf(tmp, sizeof(tmp), fmt, prec, v);
		if (n >= (int)sizeof(tmp)) {
			big = malloc(n + 1);
			if (big == NULL)
				abort();
			snprintf(big, n + 1, fmt, prec, v);
			tbuf_add(b, big, n);
			free(big);
		} else
			tbuf_add(b, tmp, n);
		return;
	}
	shortest_digits(v, &dg);
	switch (verb) {
	case 'e':
	case 'E':
		fmt_e(b, &dg, dg.nd > 1 ? dg.nd - 1 : 0, (char)verb);
		return;
	case 'f':
		fmt_f(b, &dg, dg.nd - dg.dp > 0 ? dg.nd - dg.dp : 0);
		return;
	}
	/* g G, shortest: %e when exp < -4 || exp >= 6 */
	eprec = 6;
	exp = dg.dp - 1;
	if (dg.nd == 0)
		exp = 0;
	if (exp < -4 || exp >= eprec) {
		fmt_e(
		    b, &dg, dg.nd > 1 ? dg.nd - 1 : 0, verb == 'G' ? 'E' : 'e');
		return;
	}
	fmt_f(b, &dg, dg.nd - dg.dp > 0 ? dg.nd - dg.dp : 0);
}

int32_t
tfmt_decode_rune(const char *s, size_t len, size_t *width)
{
	const unsigned char *u = (const unsigned char *)s;
	int32_t r;
	size_t n, i;

	*width = 1;
	if (len == 0)
		return 0xFFFD;
	if (u[0] < 0x80)
		return u[0];
	if (u[0] >= 0xC2 && u[0] <= 0xDF) {
		n = 2;
		r = u[0] & 0x1F;
	} else if (u[0] >= 0xE0 && u[0] <= 0xEF) {
		n = 3;
		r = u[0] & 0x0F;
	} else if (u[0] >= 0xF0 && u[0] <= 0xF4) {
		n = 4;
		r = u[0] & 0x07;
	} else
		return 0xFFFD;
	if (len < n)
		return 0xFFFD;
	for (i = 1; i < n; i++) {
		if ((u[i] & 0xC0) != 0x80)
			return 0xFFFD;
		r = (r << 6) | (u[i] & 0x3F);
	}
	if ((n == 3 && r < 0x800) || (n == 4 && r < 0x10000) || r > 0x10FFFF ||
	    (r >= 0xD800 && r <= 0xDFFF))
		return 0xFFFD;
	*width = n;
	return r;
}

size_t
tfmt_encode_rune(char *buf, int32_t r)
{
	unsigned char *u = (unsigned char *)buf;

	if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	if (r < 0x80) {
		u[0] = (unsigned char)r;
		return 1;
	}
	if (r < 0x800) {
		u[0] = 0xC0 | (r >> 6);
		u[1] = 0x80 | (r & 0x3F);
		return 2;
	}
	if (r < 0x10000) {
		u[0] = 0xE0 | (r >> 12);
		u[1] = 0x80 | ((r >> 6) & 0x3F);
		u[2] = 0x80 | (r & 0x3F);
		return 3;
	}
	u[0] = 0xF0 | (r >> 18);
	u[1] = 0x80 | ((r >> 12) & 0x3F);
	u[2] = 0x80 | ((r >> 6) & 0x3F);
	u[3] = 0x80 | (r & 0x3F);
	return 4;
}

size_t
tfmt_rune_count(const char *s, size_t len)
{
	size_t i = 0, n = 0, w;

	while (i < len) {
		tfmt_decode_rune(s + i, len - i, &w);
		i += w;
		n++;
	}
	return n;
}

static locale_t utf8_locale;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void
utf8_locale_init(void)
{
	utf8_locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

/*
 * unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the
 * ASCII space.  Outside ASCII the controls, spaces, format characters,
 * private use areas and noncharacters are listed here; for the rest
 * glibc's C.UTF-8 tables say which code points are assigned (its Unicode
 * version may differ from Go's for the newest characters; without that
 * locale every other code point counts as printable).
 */
bool
tfmt_isprint(int32_t r)
{
	static const struct {
		int32_t lo, hi;
	} notprint[] = {
	    {0x7F, 0xA0},
	    {0xAD, 0xAD},
	    {0x378, 0x379},
	    {0x600, 0x605},
	    {0x61C, 0x61C},
	    {0x6DD, 0x6DD},
	    {0x70F, 0x70F},
	    {0x1680, 0x1680},
	    {0x180E, 0x180E},
	    {0x2000, 0x200F},
	    {0x2028, 0x202F},
	    {0x205F, 0x206F},
	    {0x3000, 0x3000},
	    {0xD800, 0xF8FF},
	    {0xFDD0, 0xFDEF},
	    {0xFEFF, 0xFEFF},
	    {0xFFF0, 0xFFFB},
	    {0xFFFE, 0xFFFF},
	    {0x110BD, 0x110BD},
	    {0x1BCA0, 0x1BCA3},
	    {0x1D173, 0x1D17A},
	    {0xE0000, 0xE0FFF},
	    {0xF0000, 0x10FFFF},
	};
	size_t i;

	if (r < 0x20)
		return false;
	if (r < 0x7F)
		return true;
	if (r > 0x10FFFF)
		return false;
	if ((r & 0xFFFE) == 0xFFFE)
		return false;
	for (i = 0; i < sizeof(notprint) / sizeof(notprint[0]); i++)
		if (r >= notprint[i].lo && r <= notprint[i].hi)
			return false;
	pthread_once(&utf8_once, utf8_locale_init);
	if (utf8_locale != (locale_t)0)
		return iswprint_l((wint_t)r, utf8_locale) != 0;
	return true;
}

static void
quote_one(struct tbuf *b, int32_t r, size_t width, const char *raw, char quote,
    bool ascii)
{
	char enc[4];

	if (width == 1 && r == 0xFFFD) {
		tbuf_addf(b, "\\x%02x", (unsigned char)raw[0]);
		return;
	}
	if (r == quote || r == '\\') {
		tbuf_add(b, "\\", 1);
		tbuf_add(b, enc, tfmt_encode_rune(enc, r));
		return;
	}
	if (ascii) {
		if (r < 0x80 && tfmt_isprint(r)) {
			tbuf_add(b, enc, tfmt_encode_rune(enc, r));
			return;
		}
	} else if (tfmt_isprint(r)) {
		tbuf_add(b, enc, tfmt_encode_rune(enc, r));
		return;
	}
	switch (r) {
	case '\a':
		tbuf_adds(b, "\\a");
		return;
	case '\b':
		tbuf_adds(b, "\\b");
		return;
	case '\f':
		tbuf_adds(b, "\\f");
		return;
	case '\n':
		tbuf_adds(b, "\\n");
		return;
	case '\r':
		tbuf_adds(b, "\\r");
		return;
	case '\t':
		tbuf_adds(b, "\\t");
		return;
	case '\v':
		tbuf_adds(b, "\\v");
		return;
	}
	if (r < ' ' || r == 0x7F)
		tbuf_addf(b, "\\x%02x", (unsigned)r);
	else if (r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		tbuf_adds(b, "\\ufffd");
	else if (r < 0x10000)
		tbuf_addf(b, "\\u%04x", (unsigned)r);
	else
		tbuf_addf(b, "\\U%08x", (unsigned)r);
}

void
tfmt_quote(struct tbuf *b, const char *s, size_t len, bool ascii)
{
	size_t i = 0, w;
	int32_t r;

	tbuf_add(b, "\"", 1);
	while (i < len) {
		r = tfmt_decode_rune(s + i, len - i, &w);
		quote_one(b, r, w, s + i, '"', ascii);
		i += w;
	}
	tbuf_add(b, "\"", 1);
}

void
tfmt_quote_rune(struct tbuf *b, int32_t r, bool ascii)
{
	if (r < 0 || r > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF))
		r = 0xFFFD;
	tbuf_add(b, "'", 1);
	quote_one(b, r, 2, "", '\'', ascii);
	tbuf_add(b, "'", 1);
}
