/*
 * YAML documents <-> jansson values, as calicoctl reads and writes them: a
 * file holds one or more documents ("---"), each a resource, a list of
 * resources or (JSON being YAML) a JSON object.  This header is glue for
 * jansson and libyaml, so it names json_t.
 *
 * Plain scalars are typed by YAML 1.1 rules close to the Go yaml library
 * calicoctl uses: ~, null and empty are null; true/false, yes/no and on/off
 * (lower, Capitalised or UPPER case) are booleans; decimal, 0x hex, 0o and
 * leading-zero octal are integers; JSON-style numbers with a fraction or an
 * exponent are reals; everything else, and every quoted or block scalar, is
 * a string.  Mapping keys are always strings.  Anchors and aliases work:
 * an alias copies its anchor's value, so what aliases copy is budgeted per
 * file, in values (YAMLJSON_MAX_ALIASED) and in bytes of strings and keys
 * (YAMLJSON_EXPAND_FACTOR times the input, at least YAMLJSON_MIN_EXPANDED
 * and at most YAMLJSON_MAX_EXPANDED): a few lines must not become
 * gigabytes.  Going over either is an error naming the alias's line.
 * Duplicate keys, non-scalar keys and nesting deeper than
 * YAMLJSON_MAX_DEPTH are errors.
 *
 * Each document keeps the line of every value, addressed by its field path:
 * "spec.cidr", "spec.ipNetworks[1]", "items[3].metadata.name" (map keys
 * joined with ".", list indices in brackets; the root is "").  The line of a
 * map member is the line of its key.
 */
#ifndef PODMESH_STORE_YAMLJSON_H
#define PODMESH_STORE_YAMLJSON_H

#include <stddef.h>

#include <jansson.h>

#define YAMLJSON_MAX_DEPTH 64
#define YAMLJSON_MAX_ALIASED 100000 /* values copied by aliases, per file */
/* bytes of strings and keys copied by aliases, per file */
#define YAMLJSON_EXPAND_FACTOR 8 /* times the input's length */
#define YAMLJSON_MIN_EXPANDED (1024 * 1024)
#define YAMLJSON_MAX_EXPANDED (16 * 1024 * 1024)

struct yamljson_doc {
	json_t *value; /* the document (never null: empty ones are dropped) */
	json_t *lines; /* object: field path -> line (1-based) */
	int index; /* 1-based position among all documents of the file */
	int line; /* line where the document starts */
};

struct yamljson {
	char *name; /* the file name used in messages */
	struct yamljson_doc *docs;
	size_t ndocs;
};

/*
 * Parse buf[0..len) named name (for messages).  NULL on error, with
 * "NAME:LINE: document N: problem" in err.  Free with yamljson_free().
 */
struct yamljson *yamljson_parse(
    const char *buf, size_t len, const char *name, char *err, size_t errlen);

/* Read and parse a file; "-" is standard input. */
struct yamljson *yamljson_load(const char *path, char *err, size_t errlen);
void yamljson_free(struct yamljson *);

/*
 * The line of the value at path in doc, or of its nearest ancestor that
 * has one, or the document's first line.
 */
int yamljson_line(const struct yamljson_doc *, const char *path);

#define YAMLJSON_SORT_KEYS 0x01 /* keys in strcmp order, as calicoctl */

/*
 * One YAML document for value, without "---" or "...": block style, two
 * spaces of indent, strings quoted whenever they would otherwise read back
 * as something else.  Reads back to a json_equal() value.  Caller frees.
 */
char *yamljson_emit(const json_t *value, int flags);

/* The YAML 1.1 type of a plain scalar, as the parser gives it (a new ref). */
json_t *yamljson_resolve(const char *plain);

#endif
