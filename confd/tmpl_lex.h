/*
 * The template lexer (Go's text/template/parse lex.go, Go 1.21): items of
 * a template's text, with {{- -}} trimming and comments dropped, for the
 * parser (tmpl_parse.c); and the node and set helpers the parser shares
 * with tmpl_node.c and tmpl_set.c.  Private to the parser's files.
 */
#ifndef PODMESH_CONFD_TMPL_LEX_H
#define PODMESH_CONFD_TMPL_LEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "confd/tmpl_int.h"

/* Go's itemType, in Go's order: keywords after TI_KEYWORD */
enum titem_type {
	TI_ERROR, /* val is the message */
	TI_BOOL,
	TI_CHAR, /* a printable ASCII character: ',' and the like */
	TI_CHARCONST,
	TI_COMMENT, /* never emitted: comments are dropped */
	TI_COMPLEX,
	TI_ASSIGN, /* = */
	TI_DECLARE, /* := */
	TI_EOF,
	TI_FIELD, /* .Name */
	TI_IDENTIFIER,
	TI_LEFT_DELIM,
	TI_LEFT_PAREN,
	TI_NUMBER,
	TI_PIPE,
	TI_RAW_STRING,
	TI_RIGHT_DELIM,
	TI_RIGHT_PAREN,
	TI_SPACE,
	TI_STRING,
	TI_TEXT,
	TI_VARIABLE, /* $ or $name */
	TI_KEYWORD, /* only delimits the keywords */
	TI_BLOCK,
	TI_BREAK,
	TI_CONTINUE,
	TI_DOT,
	TI_DEFINE,
	TI_ELSE,
	TI_END,
	TI_IF,
	TI_NIL,
	TI_RANGE,
	TI_TEMPLATE,
	TI_WITH,
};

struct titem {
	enum titem_type typ;
	size_t pos; /* byte offset of the item in the text */
	const char *val; /* into the text, or the lexer's message */
	size_t len;
};

#define TLEX_ERRLEN 128

struct tlexer {
	const char *input;
	size_t len;
	size_t pos; /* current position */
	size_t start; /* start of the pending item */
	bool at_eof; /* next() returned EOF: backup() no longer moves */
	bool inside_action;
	int paren_depth;
	bool break_ok, continue_ok; /* no function named break, continue */
	struct titem item; /* the item to return */
	char err[TLEX_ERRLEN];
};

void tlex_init(
    struct tlexer *, const char *, size_t, bool break_ok, bool continue_ok);
/* the next item; after TI_ERROR or TI_EOF, EOF items */
struct titem tlex_next(struct tlexer *);

/* Go's item.String(), appended */
void titem_string(struct tbuf *, const struct titem *);
/* fmt's %.<maxrunes>q of s (maxrunes < 0: %q), appended */
void tlex_quote(struct tbuf *, const char *, size_t, int maxrunes);
/* Go's unicode.IsLetter || IsDigit || '_' (approximate off ASCII) */
bool tlex_isalnum(int32_t);

/* frees n's own allocations and n, not its children */
void tnode_free_one(struct tnode *);
/* Go's parse.IsEmptyTree: only spaces (unicode.IsSpace) and comments */
bool tnode_is_empty(const struct tnode *);

/* frees the tree and its nodes */
void ttree_free(struct ttree *);
/* the trees a parse made and kept (its tree set), into the set */
void tmpl_set_merge(struct tmpl *, struct ttree **made, size_t nmade,
    struct ttree **kept, size_t nkept);

#endif
