/*
 * Go's fmt over template values: Sprintf (verbs, flags, width and
 * precision with '*', argument indexes, fmt's complaints), Sprint and
 * Sprintln, following fmt's print.go and format.go.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_fmtint.h"

struct fst {
	bool plus, minus, sharp, space, zero;
	bool plusV, sharpV;
	bool widp, precp;
	int wid, prec;
};

/*
 * Containers nested deeper than this print as "[...]" and "map[...]"
 * (Go prints them whole; its stack grows, ours does not).
 */

static const char ldigits[] = "0123456789abcdefx";
static const char udigits[] = "0123456789ABCDEFX";

static void print_value(
    struct tbuf *, struct fst *, const struct tval *, int, int);

static void
write_padding(struct tbuf *b, const struct fst *f, int n)
{
	char pad[256];
	size_t k;

	if (n <= 0)
		return;
	memset(pad, (f->zero && !f->minus) ? '0' : ' ', sizeof(pad));
	for (; n > 0; n -= (int)k) {
		k = (size_t)n < sizeof(pad) ? (size_t)n : sizeof(pad);
		tbuf_add(b, pad, k);
	}
}

/* fmt.pad: width counts runes */
static void
pad(struct tbuf *b, const struct fst *f, const char *s, size_t len)
{
	int w;

	if (!f->widp || f->wid == 0) {
		tbuf_add(b, s, len);
		return;
	}
	w = f->wid - (int)tfmt_rune_count(s, len);
	if (!f->minus) {
		write_padding(b, f, w);
		tbuf_add(b, s, len);
	} else {
		tbuf_add(b, s, len);
		write_padding(b, f, w);
	}
}

/* the first prec runes of s, when a precision is present */
static size_t
truncate_len(const struct fst *f, const char *s, size_t len)
{
	size_t i = 0, w;
	int n;

	if (!f->precp)
		return len;
	for (n = 0; i < len; n++) {
		if (n >= f->prec)
			return i;
		tfmt_decode_rune(s + i, len - i, &w);
		i += w;
	}
	return len;
}

static void
fmt_s(struct tbuf *b, const struct fst *f, const char *s, size_t len)
{
	pad(b, f, s, truncate_len(f, s, len));
}

static void
fmt_sx(struct tbuf *b, const struct fst *f, const char *s, size_t len,
    const char *digits)
{
	size_t length = len, i;
	int width;

	if (f->precp && (size_t)f->prec < length)
		length = (size_t)f->prec;
	width = 2 * (int)length;
	if (width > 0) {
		if (f->space) {
			if (f->sharp)
				width *= 2;
			width += (int)length - 1;
		} else if (f->sharp)
			width += 2;
	} else {
		if (f->widp)
			write_padding(b, f, f->wid);
		return;
	}
	if (f->widp && f->wid > width && !f->minus)
		write_padding(b, f, f->wid - width);
	if (f->sharp) {
		tbuf_add(b, "0", 1);
		tbuf_add(b, &digits[16], 1);
	}
	for (i = 0; i < length; i++) {
		unsigned char c = (unsigned char)s[i];

		if (f->space && i > 0) {
			tbuf_add(b, " ", 1);
			if (f->sharp) {
				tbuf_add(b, "0", 1);
				tbuf_add(b, &digits[16], 1);
			}
		}
		tbuf_add(b, &digits[c >> 4], 1);
		tbuf_add(b, &digits[c & 15], 1);
	}
	if (f->widp && f->wid > width && f->minus)
		write_padding(b, f, f->wid - width);
}

/* strconv.CanBackquote */
static bool
can_backquote(const char *s, size_t len)
{
	size_t i = 0, w;
	int32_t r;

	while (i < len) {
		r = tfmt_decode_rune(s + i, len - i, &w);
		if (w == 1 && r == 0xFFFD)
			return false;
		if (r == 0xFEFF || r == '`')
			return false;
		if ((r < ' ' && r != '\t') || r == 0x7F)
			return false;
		i += w;
	}
	return true;
}

static void
fmt_q(struct tbuf *b, const struct fst *f, const char *s, size_t len)
{
	struct tbuf t = {0};

	len = truncate_len(f, s, len);
	if (f->sharp && can_backquote(s, len)) {
		tbuf_add(&t, "`", 1);
		tbuf_add(&t, s, len);
		tbuf_add(&t, "`", 1);
	} else
		tfmt_quote(&t, s, len, f->plus);
	pad(b, f, t.p, t.len);
	tbuf_free(&t);
}

static void
fmt_integer(struct tbuf *b, struct fst *f, uint64_t u, int base, bool is_signed,
    int verb, const char *digits)
{
	bool negative = is_signed && (int64_t)u < 0;
	char *buf;
	size_t size, i;
	int prec = 0;
	bool oldzero;

	if (negative)
		u = -u;
	size = 68 + 3 + (f->widp ? (size_t)f->wid : 0) +
	    (f->precp ? (size_t)f->prec : 0);
	buf = malloc(size);
	if (buf == NULL)
		abort();
	if (f->precp) {
		prec = f->prec;
		if (prec == 0 && u == 0) {
			oldzero = f->zero;
			f->zero = false;
			write_padding(b, f, f->wid);
			f->zero = oldzero;
			free(buf);
			return;
		}
	} else if (f->zero && !f->minus && f->widp) {
		prec = f->wid;
		if (negative || f->plus || f->space)
			prec--;
	}
	i = size;
	do {
		buf[--i] = digits[u % (unsigned)base];
		u /= (unsigned)base;
	} while (u != 0);
	while (i > 0 && prec > (int)(size - i))
		buf[--i] = '0';
	if (f->sharp) {
		switch (base) {
		case 2:
			buf[--i] = 'b';
			buf[--i] = '0';
			break;
		case 8:
			if (buf[i] != '0')
				buf[--i] = '0';
			break;
		case 16:
			buf[--i] = digits[16];
			buf[--i] = '0';
			break;
		}
	}
	if (verb == 'O') {
		buf[--i] = 'o';
		buf[--i] = '0';
	}
	if (negative)
		buf[--i] = '-';
	else if (f->plus)
		buf[--i] = '+';
	else if (f->space)
		buf[--i] = ' ';
	oldzero = f->zero;
	f->zero = false;
	pad(b, f, buf + i, size - i);
	f->zero = oldzero;
	free(buf);
}

static void
fmt_unicode(struct tbuf *b, struct fst *f, uint64_t u)
{
	struct tbuf t = {0};
	char hex[32], enc[4];
	int prec = 4, n;
	bool oldzero;

	if (f->precp && f->prec > 4)
		prec = f->prec;
	n = snprintf(hex, sizeof(hex), "%llX", (unsigned long long)u);
	tbuf_adds(&t, "U+");
	for (; prec > n; prec--)
		tbuf_add(&t, "0", 1);
	tbuf_add(&t, hex, (size_t)n);
	if (f->sharp && u <= 0x10FFFF && tfmt_isprint((int32_t)u)) {
		tbuf_adds(&t, " '");
		tbuf_add(&t, enc, tfmt_encode_rune(enc, (int32_t)u));
		tbuf_adds(&t, "'");
	}
	oldzero = f->zero;
	f->zero = false;
	pad(b, f, t.p, t.len);
	f->zero = oldzero;
	tbuf_free(&t);
}

static void
bad_verb(struct tbuf *b, struct fst *f, const struct tval *v, int verb)
{
	char enc[4];

	tbuf_adds(b, "%!");
	tbuf_add(b, enc, tfmt_encode_rune(enc, verb));
	tbuf_add(b, "(", 1);
	if (v == NULL || v->kind == TV_NIL)
		tbuf_adds(b, "<nil>");
	else {
		tbuf_adds(b, tval_type_name(v));
		tbuf_add(b, "=", 1);
		print_value(b, f, v, 'v', 0);
	}
	tbuf_add(b, ")", 1);
}

static void
fmt_int_verb(struct tbuf *b, struct fst *f, const struct tval *v, int verb)
{
	uint64_t u = (uint64_t)v->u.i;
	struct tbuf t = {0};
	char enc[4];
	int32_t r;

	switch (verb) {
	case 'v':
	case 'd':
		fmt_integer(b, f, u, 10, true, verb, ldigits);
		break;
	case 'b':
		fmt_integer(b, f, u, 2, true, verb, ldigits);
		break;
	case 'o':
	case 'O':
		fmt_integer(b, f, u, 8, true, verb, ldigits);
		break;
	case 'x':
		fmt_integer(b, f, u, 16, true, verb, ldigits);
		break;
	case 'X':
		fmt_integer(b, f, u, 16, true, verb, udigits);
		break;
	case 'c':
		r = u > 0x10FFFF ? 0xFFFD : (int32_t)u;
		pad(b, f, enc, tfmt_encode_rune(enc, r));
		break;
	case 'q':
		r = u > 0x10FFFF ? 0xFFFD : (int32_t)u;
		tfmt_quote_rune(&t, r, f->plus);
		pad(b, f, t.p, t.len);
		tbuf_free(&t);
		break;
	case 'U':
		fmt_unicode(b, f, u);
		break;
	default:
		bad_verb(b, f, v, verb);
	}
}

/* format.go fmtFloat */
static void
fmt_float(struct tbuf *b, struct fst *f, double v, int verb, int prec)
{
	struct tbuf t = {0}, out = {0};
	char *num;
	size_t len;
	bool oldzero;

	if (f->precp)
		prec = f->prec;
	tfmt_float(&t, v, verb, prec);
	num = t.p;
	len = t.len;
	if (f->space && num[0] == '+' && !f->plus)
		num[0] = ' ';
	if (num[1] == 'I' || num[1] == 'N') {
		oldzero = f->zero;
		f->zero = false;
		if (num[1] == 'N' && !f->space && !f->plus) {
			num++;
			len--;
		}
		pad(b, f, num, len);
		f->zero = oldzero;
		tbuf_free(&t);
		return;
	}
	if (f->sharp && verb != 'b') {
		int digits = 0;
		bool has_point = false, nonzero = false;
		size_t i, tail = len;

		switch (verb) {
		case 'v':
		case 'g':
		case 'G':
		case 'x':
			digits = prec;
			if (digits == -1)
				digits = 6;
		}
		for (i = 1; i < len; i++) {
			char c = num[i];

			if (c == '.') {
				has_point = true;
				continue;
			}
			if (c == 'p' || c == 'P') {
				tail = i;
				break;
			}
			if ((c == 'e' || c == 'E') && verb != 'x' &&
			    verb != 'X') {
				tail = i;
				break;
			}
			if (c != '0')
				nonzero = true;
			if (nonzero)
				digits--;
		}
		tbuf_add(&out, num, tail);
		if (!has_point) {
			if (tail == 2 && num[1] == '0')
				digits--;
			tbuf_add(&out, ".", 1);
		}
		for (; digits > 0; digits--)
			tbuf_add(&out, "0", 1);
		tbuf_add(&out, num + tail, len - tail);
		tbuf_free(&t);
		t = out;
		num = t.p;
		len = t.len;
	}
	if (f->plus || num[0] != '+') {
		if (f->zero && !f->minus && f->widp && f->wid > (int)len) {
			tbuf_add(b, num, 1);
			write_padding(b, f, f->wid - (int)len);
			tbuf_add(b, num + 1, len - 1);
		} else
			pad(b, f, num, len);
	} else
		pad(b, f, num + 1, len - 1);
	tbuf_free(&t);
}

static void
fmt_float_verb(struct tbuf *b, struct fst *f, const struct tval *v, int verb)
{
	switch (verb) {
	case 'v':
		fmt_float(b, f, v->u.f, 'g', -1);
		break;
	case 'b':
	case 'g':
	case 'G':
	case 'x':
	case 'X':
		fmt_float(b, f, v->u.f, verb, -1);
		break;
	case 'f':
	case 'e':
	case 'E':
		fmt_float(b, f, v->u.f, verb, 6);
		break;
	case 'F':
		fmt_float(b, f, v->u.f, 'f', 6);
		break;
	default:
		bad_verb(b, f, v, verb);
	}
}

static void
fmt_string_verb(struct tbuf *b, struct fst *f, const struct tval *v,
    const char *s, size_t len, int verb)
{
	switch (verb) {
	case 'v':
		if (f->sharpV)
			fmt_q(b, f, s, len);
		else
			fmt_s(b, f, s, len);
		break;
	case 's':
		fmt_s(b, f, s, len);
		break;
	case 'x':
		fmt_sx(b, f, s, len, ldigits);
		break;
	case 'X':
		fmt_sx(b, f, s, len, udigits);
		break;
	case 'q':
		fmt_q(b, f, s, len);
		break;
	default:
		bad_verb(b, f, v, verb);
	}
}

/* a KVPair field, printed as a string value at depth > 0 */
static void
print_field(struct tbuf *b, struct fst *f, const char *s, int verb)
{
	struct tval tmp;

	memset(&tmp, 0, sizeof(tmp));
	tmp.kind = TV_STRING;
	tmp.refs = 1;
	tmp.u.s.p = (char *)s;
	tmp.u.s.len = strlen(s);
	print_value(b, f, &tmp, verb, 1);
}

/* printArg (depth 0) and printValue (depth > 0) */
static void
print_value(
    struct tbuf *b, struct fst *f, const struct tval *v, int verb, int depth)
{
	struct tbuf t = {0};
	size_t i;

	if (v == NULL || v->kind == TV_NIL) {
		if (depth > 0) {
			tbuf_adds(b, f->sharpV ? "interface {}(nil)" : "<nil>");
			return;
		}
		if (verb == 'T' || verb == 'v')
			pad(b, f, "<nil>", 5);
		else
			bad_verb(b, f, v, verb);
		return;
	}
	if (verb == 'T') {
		const char *tn = tval_type_name(v);

		fmt_s(b, f, tn, strlen(tn));
		return;
	}
	switch (v->kind) {
	case TV_NIL:
		break;
	case TV_BOOL:
		if (verb == 't' || verb == 'v')
			pad(b, f, v->u.b ? "true" : "false", v->u.b ? 4 : 5);
		else
			bad_verb(b, f, v, verb);
		break;
	case TV_INT:
		fmt_int_verb(b, f, v, verb);
		break;
	case TV_FLOAT:
		fmt_float_verb(b, f, v, verb);
		break;
	case TV_STRING:
		fmt_string_verb(b, f, v, v->u.s.p, v->u.s.len, verb);
		break;
	case TV_LIST:
		if (tfmt_too_deep(depth)) {
			tbuf_adds(b, "[...]");
			break;
		}
		if (f->sharpV) {
			tbuf_adds(b, tval_type_name(v));
			tbuf_add(b, "{", 1);
		} else
			tbuf_add(b, "[", 1);
		for (i = 0; i < v->u.list.n; i++) {
			if (i > 0)
				tbuf_adds(b, f->sharpV ? ", " : " ");
			print_value(b, f, v->u.list.v[i], verb, depth + 1);
		}
		tbuf_add(b, f->sharpV ? "}" : "]", 1);
		break;
	case TV_MAP:
		if (tfmt_too_deep(depth)) {
			tbuf_adds(b, "map[...]");
			break;
		}
		if (f->sharpV) {
			tbuf_adds(b, tval_type_name(v));
			tbuf_add(b, "{", 1);
		} else
			tbuf_adds(b, "map[");
		for (i = 0; i < v->u.map.n; i++) {
			if (i > 0)
				tbuf_adds(b, f->sharpV ? ", " : " ");
			print_field(b, f, v->u.map.keys[i], verb);
			tbuf_add(b, ":", 1);
			print_value(b, f, v->u.map.vals[i], verb, depth + 1);
		}
		tbuf_add(b, f->sharpV ? "}" : "]", 1);
		break;
	case TV_KV:
		if (f->sharpV)
			tbuf_adds(b, tval_type_name(v));
		tbuf_add(b, "{", 1);
		if (f->plusV || f->sharpV)
			tbuf_adds(b, "Key:");
		print_field(b, f, v->u.kv.key, verb);
		tbuf_adds(b, f->sharpV ? ", " : " ");
		if (f->plusV || f->sharpV)
			tbuf_adds(b, "Value:");
		print_field(b, f, v->u.kv.value, verb);
		tbuf_add(b, "}", 1);
		break;
	case TV_TIME:
		/* a Stringer: String() for v s x X q; others are ours */
		tval_time_string(&t, v);
		if (verb == 'v' || verb == 's' || verb == 'x' || verb == 'X' ||
		    verb == 'q') {
			bool sharpv = f->sharpV;

			f->sharpV = false;
			fmt_string_verb(b, f, v, t.p, t.len, verb);
			f->sharpV = sharpv;
		} else {
			tbuf_adds(b, "%!");
			tbuf_add(b, (char[]){(char)verb}, 1);
			tbuf_adds(b, "(time.Time=");
			tbuf_add(b, t.p, t.len);
			tbuf_add(b, ")", 1);
		}
		tbuf_free(&t);
		break;
	}
}

/* parsenum: digits at s[*i], refusing numbers above 1e6 */
static bool
parsenum(const char *s, size_t *i, size_t end, int *num)
{
	bool isnum = false;

	*num = 0;
	if (*i >= end)
		return false;
	for (; *i < end && s[*i] >= '0' && s[*i] <= '9'; (*i)++) {
		if (*num > 1000000) {
			*num = 0;
			*i = end;
			return false;
		}
		*num = *num * 10 + (s[*i] - '0');
		isnum = true;
	}
	return isnum;
}

struct pstate {
	size_t argnum;
	bool reordered, good_argnum;
};

/* argNumber: an explicit [n] at s[*i] */
static bool
arg_number(
    struct pstate *ps, const char *s, size_t *i, size_t end, size_t nargs)
{
	size_t j, k;
	int idx;

	if (*i >= end || s[*i] != '[')
		return false;
	ps->reordered = true;
	if (end - *i < 3) {
		(*i)++;
		ps->good_argnum = false;
		return false;
	}
	for (j = *i + 1; j < end; j++) {
		if (s[j] != ']')
			continue;
		k = *i + 1;
		if (!parsenum(s, &k, j, &idx) || k != j) {
			*i = j + 1;
			ps->good_argnum = false;
			return false;
		}
		*i = j + 1;
		idx--;
		if (idx >= 0 && (size_t)idx < nargs) {
			ps->argnum = (size_t)idx;
			return true;
		}
		ps->good_argnum = false;
		return true;
	}
	(*i)++;
	ps->good_argnum = false;
	return false;
}

/* intFromArg */
static bool
int_from_arg(struct tval *const *args, size_t n, struct pstate *ps, int *num)
{
	bool isint = false;

	*num = 0;
	if (ps->argnum < n) {
		const struct tval *a = args[ps->argnum];

		if (a != NULL && a->kind == TV_INT && a->u.i >= -1000000 &&
		    a->u.i <= 1000000) {
			*num = (int)a->u.i;
			isint = true;
		}
		ps->argnum++;
	}
	return isint;
}

void
tval_sprintf(struct tbuf *b, const char *format, size_t end,
    struct tval *const *args, size_t n)
{
	struct pstate ps = {0, false, true};
	struct fst f;
	size_t i = 0, lasti, w;
	bool after_index;
	int32_t verb;
	char enc[4];

	tbuf_add(b, "", 0);
	while (i < end) {
		ps.good_argnum = true;
		lasti = i;
		while (i < end && format[i] != '%')
			i++;
		if (i > lasti)
			tbuf_add(b, format + lasti, i - lasti);
		if (i >= end)
			break;
		i++;
		memset(&f, 0, sizeof(f));
		for (; i < end; i++) {
			char c = format[i];

			if (c == '#')
				f.sharp = true;
			else if (c == '0')
				f.zero = !f.minus;
			else if (c == '+')
				f.plus = true;
			else if (c == '-') {
				f.minus = true;
				f.zero = false;
			} else if (c == ' ')
				f.space = true;
			else
				break;
		}
		after_index = arg_number(&ps, format, &i, end, n);
		if (i < end && format[i] == '*') {
			i++;
			f.widp = int_from_arg(args, n, &ps, &f.wid);
			if (!f.widp)
				tbuf_adds(b, "%!(BADWIDTH)");
			if (f.wid < 0) {
				f.wid = -f.wid;
				f.minus = true;
				f.zero = false;
			}
			after_index = false;
		} else {
			f.widp = parsenum(format, &i, end, &f.wid);
			if (after_index && f.widp)
				ps.good_argnum = false;
		}
		if (i + 1 < end && format[i] == '.') {
			i++;
			if (after_index)
				ps.good_argnum = false;
			after_index = arg_number(&ps, format, &i, end, n);
			if (i < end && format[i] == '*') {
				i++;
				f.precp = int_from_arg(args, n, &ps, &f.prec);
				if (f.prec < 0) {
					f.prec = 0;
					f.precp = false;
				}
				if (!f.precp)
					tbuf_adds(b, "%!(BADPREC)");
				after_index = false;
			} else {
				f.precp = parsenum(format, &i, end, &f.prec);
				if (!f.precp) {
					f.prec = 0;
					f.precp = true;
				}
			}
		}
		if (!after_index)
			after_index = arg_number(&ps, format, &i, end, n);
		if (i >= end) {
			tbuf_adds(b, "%!(NOVERB)");
			break;
		}
		verb = tfmt_decode_rune(format + i, end - i, &w);
		i += w;
		if (verb == '%')
			tbuf_add(b, "%", 1);
		else if (!ps.good_argnum) {
			tbuf_adds(b, "%!");
			tbuf_add(b, enc, tfmt_encode_rune(enc, verb));
			tbuf_adds(b, "(BADINDEX)");
		} else if (ps.argnum >= n) {
			tbuf_adds(b, "%!");
			tbuf_add(b, enc, tfmt_encode_rune(enc, verb));
			tbuf_adds(b, "(MISSING)");
		} else {
			if (verb == 'v') {
				f.sharpV = f.sharp;
				f.sharp = false;
				f.plusV = f.plus;
				f.plus = false;
			}
			print_value(b, &f, args[ps.argnum], verb, 0);
			ps.argnum++;
		}
	}
	if (!ps.reordered && ps.argnum < n) {
		memset(&f, 0, sizeof(f));
		tbuf_adds(b, "%!(EXTRA ");
		for (i = ps.argnum; i < n; i++) {
			if (i > ps.argnum)
				tbuf_adds(b, ", ");
			if (args[i] == NULL || args[i]->kind == TV_NIL)
				tbuf_adds(b, "<nil>");
			else {
				tbuf_adds(b, tval_type_name(args[i]));
				tbuf_add(b, "=", 1);
				print_value(b, &f, args[i], 'v', 0);
			}
		}
		tbuf_add(b, ")", 1);
	}
}

static bool
is_string(const struct tval *v)
{
	return v != NULL && v->kind == TV_STRING;
}

void
tval_sprint(struct tbuf *b, struct tval *const *args, size_t n)
{
	struct fst f;
	size_t i;

	tbuf_add(b, "", 0);
	for (i = 0; i < n; i++) {
		if (i > 0 && !is_string(args[i]) && !is_string(args[i - 1]))
			tbuf_add(b, " ", 1);
		memset(&f, 0, sizeof(f));
		print_value(b, &f, args[i], 'v', 0);
	}
}

void
tval_sprintln(struct tbuf *b, struct tval *const *args, size_t n)
{
	struct fst f;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			tbuf_add(b, " ", 1);
		memset(&f, 0, sizeof(f));
		print_value(b, &f, args[i], 'v', 0);
	}
	tbuf_add(b, "\n", 1);
}
