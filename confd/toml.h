/*
 * The TOML subset template resources (conf.d/NAME.toml) are written in,
 * parsed into a flat list of entries: one per key = value, with the table
 * it sits in.  What TOML 1.0 has and confd's files use: comments, [table]
 * and [[array]] headers, bare and quoted keys, basic strings with escapes,
 * literal strings, multi-line strings of both kinds, integers (decimal,
 * 0x, 0o, 0b, underscores), floats, booleans, arrays (nested, multi-line,
 * trailing comma).  Dates and inline tables are parsed so that a file
 * holding them loads, but their contents are not kept: nobody reads them.
 * Dotted keys are kept as written, joined with "." (a quoted key part
 * holding a "." is not told apart); headers and keys are not merged into
 * a tree.
 *
 * Bounded: input at most TOML_MAX_INPUT bytes, arrays and inline tables
 * nest at most TOML_MAX_DEPTH deep.  Errors read "FILE:LINE: message".
 */
#ifndef PODMESH_CONFD_TOML_H
#define PODMESH_CONFD_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOML_MAX_INPUT (1024 * 1024)
#define TOML_MAX_DEPTH 32

enum toml_type {
	TOML_STRING,
	TOML_INT,
	TOML_FLOAT,
	TOML_BOOL,
	TOML_DATETIME, /* s holds the text as written */
	TOML_ARRAY,
	TOML_TABLE, /* an inline table; its contents are dropped */
};

struct toml_value {
	enum toml_type type;
	int line;
	char *s; /* STRING, DATETIME: malloc'd, NUL after len bytes */
	size_t len; /* a STRING may hold NULs (\u0000) */
	int64_t i;
	double f;
	bool b;
	struct toml_value *items; /* ARRAY */
	size_t n;
};

/* One [name] or [[name]] header; tables[0] is the root, name "". */
struct toml_table {
	char *name; /* dotted, as written: "a.b" */
	int line;
	bool array; /* [[name]] */
};

struct toml_entry {
	size_t table; /* index into toml_doc.tables */
	char *key; /* dotted keys joined with "." */
	int line;
	struct toml_value v;
};

struct toml_doc {
	struct toml_table *tables;
	size_t ntables;
	struct toml_entry *entries;
	size_t nentries;
};

/*
 * Parses text (len bytes; NULs are an error).  0 with doc filled, or -1
 * with "FILE:LINE: message" in err and doc left clean.
 */
int toml_parse(const char *text, size_t len, const char *file,
    struct toml_doc *doc, char *err, size_t errlen);
void toml_doc_clean(struct toml_doc *);
/* "string", "integer", "float", "boolean", "datetime", "array", "table" */
const char *toml_type_name(enum toml_type);

#endif
