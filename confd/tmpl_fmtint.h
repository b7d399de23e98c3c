/*
 * Number formatting shared by tmpl_value.c (tval_print) and tmpl_fmt.c
 * (tval_sprintf): Go's strconv.FormatFloat for the cases fmt uses, and
 * strconv.Quote.  Private to the template engine's value files.
 */
#ifndef PODMESH_CONFD_TMPL_FMTINT_H
#define PODMESH_CONFD_TMPL_FMTINT_H

#include "confd/tmpl.h"

/*
 * strconv.AppendFloat(v, verb, prec, 64) for verb e E f g G (F is f) and
 * prec -1 (shortest) or >= 0; b x X too.  Always signed: the result starts
 * with '+' or '-' (as Go's strconv does for Inf; fmt strips the '+').
 */
void tfmt_float(struct tbuf *, double v, int verb, int prec);
/* strconv.Quote (ascii: QuoteToASCII) of s, appended */
void tfmt_quote(struct tbuf *, const char *s, size_t len, bool ascii);
/* strconv.QuoteRune (ascii: QuoteRuneToASCII) */
void tfmt_quote_rune(struct tbuf *, int32_t r, bool ascii);
/* strconv.IsPrint */
bool tfmt_isprint(int32_t r);
/* utf8.DecodeRune: the rune at s (0xFFFD, width 1 when invalid) */
int32_t tfmt_decode_rune(const char *s, size_t len, size_t *width);
/* utf8.EncodeRune into buf (4 bytes), the byte count */
size_t tfmt_encode_rune(char *buf, int32_t r);
/* utf8.RuneCount */
size_t tfmt_rune_count(const char *s, size_t len);

/*
 * Recursion guards.  Go's goroutine stacks grow; ours do not, so
 * template calls (tmpl_exec.c) and the printing of nested lists and maps
 * go as deep as Go's do while TMPL_STACK_RESERVE bytes of the thread's
 * stack remain, and stop there: execution with Go's depth error,
 * printing with [...] in place of what is nested deeper.
 */
#define TMPL_STACK_RESERVE (256 * 1024)
/* the stack assumed when the thread's cannot be found */
#define TMPL_STACK_GUESS (1024 * 1024)
/* printing checks the stack from this depth on (Go prints any depth) */
#define TFMT_CHECK_DEPTH 64
/* this thread's lowest usable stack address plus the reserve */
uintptr_t tfmt_stack_limit(void);
/* printing at depth must stop: the stack is low */
bool tfmt_too_deep(int depth);

#endif
