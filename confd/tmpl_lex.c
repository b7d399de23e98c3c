/*
 * The template lexer: Go 1.21's text/template/parse lex.go.  Text runs to
 * "{{"; an action holds spaces (space, tab, CR, LF: actions may span
 * lines), fields, variables, identifiers and keywords, numbers as Go's
 * scanNumber takes them, quoted, raw and character strings, ( ) | = :=
 * and single printable ASCII characters.  "{{- " trims the ASCII spaces
 * before the action, " -}}" those after it (a marker needs the space:
 * "{{-3}}" is the number -3); a comment, slash-star to star-slash right
 * inside the delimiters (or trim markers), is dropped.
 * Messages are Go's word for word.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "confd/tmpl_fmtint.h"
#include "confd/tmpl_lex.h"

#define LEX_EOF (-1)

enum lstate {
	L_EMIT, /* l->item is ready */
	L_TEXT,
	L_LEFT_DELIM,
	L_COMMENT,
	L_RIGHT_DELIM,
	L_INSIDE,
	L_SPACE,
	L_IDENTIFIER,
	L_FIELD,
	L_VARIABLE,
	L_CHAR,
	L_NUMBER,
	L_QUOTE,
	L_RAW_QUOTE,
};

static const struct {
	const char *word;
	enum titem_type typ;
} keywords[] = {
    {".", TI_DOT},
    {"block", TI_BLOCK},
    {"break", TI_BREAK},
    {"continue", TI_CONTINUE},
    {"define", TI_DEFINE},
    {"else", TI_ELSE},
    {"end", TI_END},
    {"if", TI_IF},
    {"range", TI_RANGE},
    {"nil", TI_NIL},
    {"template", TI_TEMPLATE},
    {"with", TI_WITH},
};

/*
 * Not letters or digits outside ASCII: Latin-1 punctuation, modifier
 * symbols, combining marks, general punctuation, symbols, CJK punctuation,
 * private use, specials (U+FFFD among them) and emoji.  Everything else
 * counts as a letter, an approximation of Go's unicode tables.
 */
static const struct {
	int32_t lo, hi;
} notalnum[] = {
    {0x80, 0xA9},
    {0xAB, 0xB4},
    {0xB6, 0xB9},
    {0xBB, 0xBF},
    {0xD7, 0xD7},
    {0xF7, 0xF7},
    {0x2C2, 0x2C5},
    {0x2D2, 0x2DF},
    {0x2E5, 0x2EB},
    {0x2ED, 0x2ED},
    {0x2EF, 0x36F},
    {0x375, 0x375},
    {0x37E, 0x37E},
    {0x384, 0x385},
    {0x387, 0x387},
    {0x2000, 0x206F},
    {0x20A0, 0x20FF},
    {0x2190, 0x2BFF},
    {0x3000, 0x3004},
    {0x3008, 0x3020},
    {0xD800, 0xF8FF},
    {0xFE00, 0xFE6F},
    {0xFEFF, 0xFEFF},
    {0xFF00, 0xFF0F},
    {0xFF1A, 0xFF20},
    {0xFF3B, 0xFF40},
    {0xFF5B, 0xFF65},
    {0xFFF0, 0xFFFF},
    {0x1F000, 0x1FAFF},
    {0xE0000, 0x10FFFF},
};

bool
tlex_isalnum(int32_t r)
{
	size_t i;

	if (r < 0)
		return false;
	if (r < 0x80)
		return r == '_' || (r >= 'a' && r <= 'z') ||
		    (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9');
	for (i = 0; i < sizeof(notalnum) / sizeof(notalnum[0]); i++)
		if (r >= notalnum[i].lo && r <= notalnum[i].hi)
			return false;
	return true;
}

static bool
is_space(int32_t r)
{
	return r == ' ' || r == '\t' || r == '\r' || r == '\n';
}

void
tlex_quote(struct tbuf *b, const char *s, size_t len, int maxrunes)
{
	size_t i, w;
	int n;

	if (maxrunes >= 0) {
		/* fmt's precision truncates to that many runes */
		for (i = 0, n = 0; i < len && n < maxrunes; n++) {
			tfmt_decode_rune(s + i, len - i, &w);
			i += w;
		}
		len = i;
	}
	tfmt_quote(b, s, len, false);
}

void
titem_string(struct tbuf *b, const struct titem *it)
{
	if (it->typ == TI_EOF)
		tbuf_adds(b, "EOF");
	else if (it->typ == TI_ERROR)
		tbuf_add(b, it->val, it->len);
	else if (it->typ > TI_KEYWORD) {
		tbuf_adds(b, "<");
		tbuf_add(b, it->val, it->len);
		tbuf_adds(b, ">");
	} else if (it->len > 10) {
		tlex_quote(b, it->val, it->len, 10);
		tbuf_adds(b, "...");
	} else
		tlex_quote(b, it->val, it->len, -1);
}

void
tlex_init(struct tlexer *l, const char *input, size_t len, bool break_ok,
    bool continue_ok)
{
	memset(l, 0, sizeof(*l));
	l->input = input;
	l->len = len;
	l->break_ok = break_ok;
	l->continue_ok = continue_ok;
}

static int32_t
lnext(struct tlexer *l)
{
	size_t w;
	int32_t r;

	if (l->pos >= l->len) {
		l->at_eof = true;
		return LEX_EOF;
	}
	r = tfmt_decode_rune(l->input + l->pos, l->len - l->pos, &w);
	l->pos += w;
	return r;
}

/* Go's backup: one rune back, as utf8.DecodeLastRune finds it */
static void
lbackup(struct tlexer *l)
{
	const unsigned char *s = (const unsigned char *)l->input;
	size_t end = l->pos, start, lim, w;

	if (l->at_eof || end == 0)
		return;
	start = end - 1;
	if (s[start] < 0x80) {
		l->pos = start;
		return;
	}
	lim = end >= 4 ? end - 4 : 0;
	while (start > lim) {
		start--;
		if ((s[start] & 0xC0) != 0x80)
			break;
	}
	tfmt_decode_rune(l->input + start, end - start, &w);
	if (start + w != end)
		l->pos = end - 1;
	else
		l->pos = start;
}

static int32_t
lpeek(struct tlexer *l)
{
	int32_t r = lnext(l);

	lbackup(l);
	return r;
}

static bool
laccept(struct tlexer *l, const char *valid)
{
	int32_t r = lnext(l);

	if (r > 0 && r < 0x80 && strchr(valid, (int)r) != NULL)
		return true;
	lbackup(l);
	return false;
}

static void
laccept_run(struct tlexer *l, const char *valid)
{
	while (laccept(l, valid))
		;
}

static bool
has_prefix(const struct tlexer *l, size_t at, const char *p)
{
	size_t n = strlen(p);

	return at <= l->len && l->len - at >= n &&
	    memcmp(l->input + at, p, n) == 0;
}

static bool
has_left_trim(const struct tlexer *l, size_t at)
{
	return at <= l->len && l->len - at >= 2 && l->input[at] == '-' &&
	    is_space((unsigned char)l->input[at + 1]);
}

static bool
has_right_trim(const struct tlexer *l, size_t at)
{
	return at <= l->len && l->len - at >= 2 &&
	    is_space((unsigned char)l->input[at]) && l->input[at + 1] == '-';
}

static enum lstate
lemit(struct tlexer *l, enum titem_type t)
{
	l->item.typ = t;
	l->item.pos = l->start;
	l->item.val = l->input + l->start;
	l->item.len = l->pos - l->start;
	l->start = l->pos;
	return L_EMIT;
}

static enum lstate lerrorf(struct tlexer *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static enum lstate
lerrorf(struct tlexer *l, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(l->err, sizeof(l->err), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(l->err))
		n = sizeof(l->err) - 1;
	l->item.typ = TI_ERROR;
	l->item.pos = l->start;
	l->item.val = l->err;
	l->item.len = (size_t)n;
	/* as Go: the input is gone, what follows is EOF */
	l->start = l->pos = 0;
	l->len = 0;
	return L_EMIT;
}

/* Go's %#U of r, into buf */
static const char *
fmt_rune(char *buf, size_t len, int32_t r)
{
	char enc[5];
	size_t n;

	if (tfmt_isprint(r)) {
		n = tfmt_encode_rune(enc, r);
		enc[n] = '\0';
		snprintf(buf, len, "U+%04X '%s'", (unsigned)r, enc);
	} else
		snprintf(buf, len, "U+%04X", (unsigned)r);
	return buf;
}

static size_t
right_trim_length(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && is_space((unsigned char)s[i - 1]))
		i--;
	return n - i;
}

static size_t
left_trim_length(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_space((unsigned char)s[i]))
		i++;
	return i;
}

static enum lstate
lex_text(struct tlexer *l)
{
	const char *p;
	size_t x, trim;

	p = memmem(l->input + l->pos, l->len - l->pos, "{{", 2);
	if (p != NULL) {
		x = (size_t)(p - (l->input + l->pos));
		if (x > 0) {
			l->pos += x;
			trim = 0;
			if (has_left_trim(l, l->pos + 2))
				trim = right_trim_length(
				    l->input + l->start, l->pos - l->start);
			l->pos -= trim;
			l->item.typ = TI_TEXT;
			l->item.pos = l->start;
			l->item.val = l->input + l->start;
			l->item.len = l->pos - l->start;
			l->pos += trim;
			l->start = l->pos;
			if (l->item.len > 0)
				return L_EMIT;
		}
		return L_LEFT_DELIM;
	}
	l->pos = l->len;
	if (l->pos > l->start)
		return lemit(l, TI_TEXT);
	return lemit(l, TI_EOF);
}

static enum lstate
lex_left_delim(struct tlexer *l)
{
	size_t after;

	l->pos += 2;
	after = has_left_trim(l, l->pos) ? 2 : 0;
	if (has_prefix(l, l->pos + after, "/*")) {
		l->pos += after;
		l->start = l->pos;
		return L_COMMENT;
	}
	lemit(l, TI_LEFT_DELIM);
	l->inside_action = true;
	l->pos += after;
	l->start = l->pos;
	l->paren_depth = 0;
	return L_EMIT;
}

/* at "}}" or " -}}"; *trim says which */
static bool
at_right_delim(const struct tlexer *l, bool *trim)
{
	*trim = false;
	if (has_right_trim(l, l->pos) && has_prefix(l, l->pos + 2, "}}")) {
		*trim = true;
		return true;
	}
	return has_prefix(l, l->pos, "}}");
}

static enum lstate
lex_comment(struct tlexer *l)
{
	const char *p;
	bool trim;

	l->pos += 2;
	p = memmem(l->input + l->pos, l->len - l->pos, "*/", 2);
	if (p == NULL)
		return lerrorf(l, "unclosed comment");
	l->pos = (size_t)(p - l->input) + 2;
	if (!at_right_delim(l, &trim))
		return lerrorf(l, "comment ends before closing delimiter");
	if (trim)
		l->pos += 2;
	l->pos += 2;
	if (trim)
		l->pos += left_trim_length(l->input + l->pos, l->len - l->pos);
	l->start = l->pos;
	return L_TEXT;
}

static enum lstate
lex_right_delim(struct tlexer *l)
{
	bool trim;

	at_right_delim(l, &trim);
	if (trim) {
		l->pos += 2;
		l->start = l->pos;
	}
	l->pos += 2;
	lemit(l, TI_RIGHT_DELIM);
	if (trim) {
		l->pos += left_trim_length(l->input + l->pos, l->len - l->pos);
		l->start = l->pos;
	}
	l->inside_action = false;
	return L_EMIT;
}

static enum lstate
lex_inside(struct tlexer *l)
{
	char rb[32];
	bool trim;
	int32_t r;
	unsigned char c;

	if (at_right_delim(l, &trim)) {
		if (l->paren_depth == 0)
			return L_RIGHT_DELIM;
		return lerrorf(l, "unclosed left paren");
	}
	r = lnext(l);
	if (r == LEX_EOF)
		return lerrorf(l, "unclosed action");
	if (is_space(r)) {
		lbackup(l);
		return L_SPACE;
	}
	switch (r) {
	case '=':
		return lemit(l, TI_ASSIGN);
	case ':':
		if (lnext(l) != '=')
			return lerrorf(l, "expected :=");
		return lemit(l, TI_DECLARE);
	case '|':
		return lemit(l, TI_PIPE);
	case '"':
		return L_QUOTE;
	case '`':
		return L_RAW_QUOTE;
	case '$':
		return L_VARIABLE;
	case '\'':
		return L_CHAR;
	case '.':
		/* ".field"; '.' and a digit start a number */
		if (l->pos < l->len) {
			c = (unsigned char)l->input[l->pos];
			if (c < '0' || c > '9')
				return L_FIELD;
		}
		lbackup(l);
		return L_NUMBER;
	case '(':
		l->paren_depth++;
		return lemit(l, TI_LEFT_PAREN);
	case ')':
		l->paren_depth--;
		if (l->paren_depth < 0)
			return lerrorf(l, "unexpected right paren");
		return lemit(l, TI_RIGHT_PAREN);
	}
	if (r == '+' || r == '-' || (r >= '0' && r <= '9')) {
		lbackup(l);
		return L_NUMBER;
	}
	if (tlex_isalnum(r)) {
		lbackup(l);
		return L_IDENTIFIER;
	}
	if (r >= 0x20 && r < 0x7F)
		return lemit(l, TI_CHAR);
	return lerrorf(l, "unrecognized character in action: %s",
	    fmt_rune(rb, sizeof(rb), r));
}

static enum lstate
lex_space(struct tlexer *l)
{
	int nspaces = 0;

	while (is_space(lpeek(l))) {
		lnext(l);
		nspaces++;
	}
	/* " -}}": the space belongs to the trim marker */
	if (has_right_trim(l, l->pos - 1) && has_prefix(l, l->pos + 1, "}}")) {
		lbackup(l);
		if (nspaces == 1)
			return L_RIGHT_DELIM;
	}
	return lemit(l, TI_SPACE);
}

static bool
at_terminator(struct tlexer *l)
{
	int32_t r = lpeek(l);

	if (is_space(r))
		return true;
	switch (r) {
	case LEX_EOF:
	case '.':
	case ',':
	case '|':
	case ':':
	case ')':
	case '(':
		return true;
	}
	return has_prefix(l, l->pos, "}}");
}

static enum lstate
lex_identifier(struct tlexer *l)
{
	const char *word;
	char rb[32];
	size_t i, n;
	int32_t r;

	while (tlex_isalnum(r = lnext(l)))
		;
	lbackup(l);
	word = l->input + l->start;
	n = l->pos - l->start;
	if (!at_terminator(l))
		return lerrorf(
		    l, "bad character %s", fmt_rune(rb, sizeof(rb), r));
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strlen(keywords[i].word) != n ||
		    memcmp(keywords[i].word, word, n) != 0)
			continue;
		if ((keywords[i].typ == TI_BREAK && !l->break_ok) ||
		    (keywords[i].typ == TI_CONTINUE && !l->continue_ok))
			return lemit(l, TI_IDENTIFIER);
		return lemit(l, keywords[i].typ);
	}
	if ((n == 4 && memcmp(word, "true", 4) == 0) ||
	    (n == 5 && memcmp(word, "false", 5) == 0))
		return lemit(l, TI_BOOL);
	return lemit(l, TI_IDENTIFIER);
}

/* after '.' or '$' */
static enum lstate
lex_field_or_variable(struct tlexer *l, enum titem_type typ)
{
	char rb[32];
	int32_t r;

	if (at_terminator(l))
		return lemit(l, typ == TI_VARIABLE ? TI_VARIABLE : TI_DOT);
	while (tlex_isalnum(r = lnext(l)))
		;
	lbackup(l);
	if (!at_terminator(l))
		return lerrorf(
		    l, "bad character %s", fmt_rune(rb, sizeof(rb), r));
	return lemit(l, typ);
}

static enum lstate
lex_variable(struct tlexer *l)
{
	if (at_terminator(l))
		return lemit(l, TI_VARIABLE);
	return lex_field_or_variable(l, TI_VARIABLE);
}

/*
 * A char constant or an interpreted string, after its opening quote: up to
 * the closing one, escapes skipped (Go's lexChar and lexQuote).
 */
static enum lstate
lex_quoted(
    struct tlexer *l, int32_t quote, const char *what, enum titem_type item)
{
	int32_t r;

	for (;;) {
		r = lnext(l);
		if (r == '\\') {
			r = lnext(l);
			if (r != LEX_EOF && r != '\n')
				continue;
		}
		if (r == LEX_EOF || r == '\n')
			return lerrorf(l, "unterminated %s", what);
		if (r == quote)
			break;
	}
	return lemit(l, item);
}

static enum lstate
lex_char(struct tlexer *l)
{
	return lex_quoted(l, '\'', "character constant", TI_CHARCONST);
}

static bool
scan_number(struct tlexer *l)
{
	const char *digits = "0123456789_";

	laccept(l, "+-");
	if (laccept(l, "0")) {
		/* a leading 0 does not mean octal in floats */
		if (laccept(l, "xX"))
			digits = "0123456789abcdefABCDEF_";
		else if (laccept(l, "oO"))
			digits = "01234567_";
		else if (laccept(l, "bB"))
			digits = "01_";
	}
	laccept_run(l, digits);
	if (laccept(l, "."))
		laccept_run(l, digits);
	if (strlen(digits) == 10 + 1 && laccept(l, "eE")) {
		laccept(l, "+-");
		laccept_run(l, "0123456789_");
	}
	if (strlen(digits) == 16 + 6 + 1 && laccept(l, "pP")) {
		laccept(l, "+-");
		laccept_run(l, "0123456789_");
	}
	laccept(l, "i");
	if (tlex_isalnum(lpeek(l))) {
		lnext(l);
		return false;
	}
	return true;
}

static enum lstate
lex_number_error(struct tlexer *l)
{
	struct tbuf b = {0};
	enum lstate st;

	tlex_quote(&b, l->input + l->start, l->pos - l->start, -1);
	st = lerrorf(l, "bad number syntax: %s", b.p);
	tbuf_free(&b);
	return st;
}

static enum lstate
lex_number(struct tlexer *l)
{
	int32_t sign;

	if (!scan_number(l))
		return lex_number_error(l);
	sign = lpeek(l);
	if (sign == '+' || sign == '-') {
		/* complex: 1+2i, no spaces, ends in 'i' */
		if (!scan_number(l) || l->input[l->pos - 1] != 'i')
			return lex_number_error(l);
		return lemit(l, TI_COMPLEX);
	}
	return lemit(l, TI_NUMBER);
}

static enum lstate
lex_quote(struct tlexer *l)
{
	return lex_quoted(l, '"', "quoted string", TI_STRING);
}

static enum lstate
lex_raw_quote(struct tlexer *l)
{
	const char *p;

	p = memchr(l->input + l->pos, '`', l->len - l->pos);
	if (p == NULL) {
		l->pos = l->len;
		return lerrorf(l, "unterminated raw quoted string");
	}
	l->pos = (size_t)(p - l->input) + 1;
	return lemit(l, TI_RAW_STRING);
}

struct titem
tlex_next(struct tlexer *l)
{
	enum lstate st;

	l->item.typ = TI_EOF;
	l->item.pos = l->pos;
	l->item.val = "EOF";
	l->item.len = 3;
	st = l->inside_action ? L_INSIDE : L_TEXT;
	/* every state consumes input or emits: bounded by the length */
	while (st != L_EMIT) {
		switch (st) {
		case L_TEXT:
			st = lex_text(l);
			break;
		case L_LEFT_DELIM:
			st = lex_left_delim(l);
			break;
		case L_COMMENT:
			st = lex_comment(l);
			break;
		case L_RIGHT_DELIM:
			st = lex_right_delim(l);
			break;
		case L_INSIDE:
			st = lex_inside(l);
			break;
		case L_SPACE:
			st = lex_space(l);
			break;
		case L_IDENTIFIER:
			st = lex_identifier(l);
			break;
		case L_FIELD:
			st = lex_field_or_variable(l, TI_FIELD);
			break;
		case L_VARIABLE:
			st = lex_variable(l);
			break;
		case L_CHAR:
			st = lex_char(l);
			break;
		case L_NUMBER:
			st = lex_number(l);
			break;
		case L_QUOTE:
			st = lex_quote(l);
			break;
		case L_RAW_QUOTE:
			st = lex_raw_quote(l);
			break;
		case L_EMIT:
			break;
		}
	}
	return l->item;
}
