/*
 * The template engine's insides, shared by its files and not by anyone
 * else: the parse tree (Go's text/template/parse, node for node), the
 * template set, and the helpers the parser and the executor both use.
 *
 *	tmpl_lex.c	the lexer (Go's lex.go: items, trim markers, comments)
 *	tmpl_parse.c	the parser: text -> trees (Go's parse.go), in the set
 *	tmpl_set.c	the set: tmpl_new/free/funcs/lookup, tmpl_func_find
 *	tmpl_node.c	nodes: free, and tnode_string() (Go's Node.String(),
 *			which execution errors quote: at <getv "/x">)
 *	tmpl_value.c	struct tval, tbuf, printing (tval_print)
 *	tmpl_strconv.c	Go's strconv: FormatFloat, Quote, IsPrint, UTF-8
 *	tmpl_fmt.c	tval_sprintf and friends (Go's fmt; tmpl_fmtint.h)
 *	tmpl_exec.c	execution (Go's exec.go; tmpl_exec.h)
 *	tmpl_call.c	function calls: errors, argument conversion
 *	tmpl_builtin.c	and or not eq ne lt le gt ge len index print printf
 *			println
 */
#ifndef PODMESH_CONFD_TMPL_INT_H
#define PODMESH_CONFD_TMPL_INT_H

#include "confd/tmpl.h"

enum tnode_type {
	TN_LIST, /* a sequence of nodes */
	TN_TEXT, /* plain text, trimmed already */
	TN_ACTION, /* {{pipe}}: prints unless the pipe declares */
	TN_IF,
	TN_RANGE,
	TN_WITH,
	TN_TEMPLATE, /* {{template "name" pipe}} */
	TN_BREAK, /* {{break}} inside range */
	TN_CONTINUE,
	TN_COMMENT, /* kept only for completeness; never executed */
	TN_PIPE, /* decl := cmd | cmd | ... */
	TN_COMMAND, /* one stage: args */
	TN_FIELD, /* .A.B */
	TN_VARIABLE, /* $x.A.B (ident[0] is "$x" or "$") */
	TN_DOT, /* . */
	TN_NIL, /* nil */
	TN_BOOL,
	TN_NUMBER,
	TN_STRING,
	TN_IDENTIFIER, /* a function name */
	TN_CHAIN, /* (pipe).A.B or other node .A.B */
};

struct tnode {
	enum tnode_type type;
	size_t pos; /* byte offset into the template's text */
	struct ttree *tree; /* whose text pos indexes (error positions) */
	union {
		struct { /* TN_LIST */
			struct tnode **nodes;
			size_t n;
		} list;
		struct { /* TN_TEXT, TN_COMMENT */
			char *text;
			size_t len;
		} text;
		struct { /* TN_ACTION */
			struct tnode *pipe;
		} action;
		struct { /* TN_IF, TN_RANGE, TN_WITH */
			struct tnode *pipe;
			struct tnode *list;
			struct tnode *else_list; /* NULL without else */
		} branch;
		struct { /* TN_TEMPLATE */
			char *name;
			struct tnode *pipe; /* NULL: no data (nil) */
		} tmpl;
		struct { /* TN_PIPE */
			bool is_assign; /* $x = ...; false for := */
			struct tnode **decl; /* TN_VARIABLE nodes; at most 2 */
			size_t ndecl;
			struct tnode **cmds; /* TN_COMMAND nodes, at least 1 */
			size_t ncmds;
		} pipe;
		struct { /* TN_COMMAND */
			struct tnode **args;
			size_t n;
		} cmd;
		struct { /* TN_FIELD, TN_VARIABLE, TN_IDENTIFIER */
			char **ident; /* "A", "B"; a variable's [0] is "$x" */
			size_t n;
		} field;
		struct { /* TN_CHAIN */
			struct tnode *node;
			char **field; /* without the dots */
			size_t n;
		} chain;
		bool b; /* TN_BOOL */
		struct { /* TN_NUMBER, as Go's NumberNode */
			bool is_int, is_float; /* is_uint, is_complex: unused */
			int64_t i;
			double f;
			char *text; /* as written */
		} num;
		struct { /* TN_STRING */
			char *quoted; /* as written, quotes included */
			size_t quoted_len; /* raw strings may hold NULs */
			char *s; /* the unquoted bytes */
			size_t len;
		} str;
	} u;
};

/* one parsed template: Go's parse.Tree */
struct ttree {
	char *name; /* its name: the set's main name, or define's */
	char *parse_name; /* the name of the top-level template parsed */
	const char *text; /* the parsed text, owned by the set */
	size_t text_len;
	struct tnode *root; /* a TN_LIST */
};

/* the set: Go's *Template with its common */
struct tmpl {
	char *name; /* main template */
	struct ttree **trees; /* every defined template, main included */
	size_t ntrees;
	char **texts; /* texts parsed, kept for positions and node text */
	size_t ntexts;
	const struct tmpl_func **funcs; /* caller's, searched newest first */
	size_t *nfuncs_in;
	void **func_ctx;
	size_t nfuncsets;
	bool broken; /* a parse failed */
};

/* the tree named so, or NULL */
struct ttree *tmpl_lookup(const struct tmpl *, const char *);
/* a function by name: the caller's, then the builtins; NULL if none */
const struct tmpl_func *tmpl_func_find(
    const struct tmpl *, const char *, void **ctx);
/* the builtins (tmpl_builtin.c) */
const struct tmpl_func *tmpl_builtin_find(const char *);

void tnode_free(struct tnode *);
/* Go's Node.String() of n, appended */
void tnode_string(struct tbuf *, const struct tnode *);
/*
 * Go's ErrorContext location of n: "NAME:LINE:COL" with the tree's
 * parse_name, LINE 1-based, COL the byte offset into the line (0-based).
 */
void tnode_location(struct tbuf *, const struct tnode *);

/* the number's text to a TN_NUMBER's fields; -1 with Go's message */
int tnode_number(
    struct tnode *, const char *text, size_t len, char *err, size_t errlen);
/* Go's strconv.Unquote for "..." and `...` (and '.' for char constants) */
int tmpl_unquote(const char *, size_t, char **out, size_t *outlen);

#endif
