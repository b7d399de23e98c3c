/*
 * libFuzzer target: the TOML subset of conf.d files (confd/toml.c).  A
 * refusal must read "f.toml:LINE: message" with LINE inside the input and
 * leave the document clean; an accepted document must be consistent:
 * every entry in a table that exists, lines in order and inside the
 * input, strings NUL-terminated at their length, arrays within the depth
 * limit.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_value(const struct toml_value *v, int depth, int nlines)
{
	size_t i;

	if (depth > TOML_MAX_DEPTH + 1 || v->line < 1 || v->line > nlines)
		__builtin_trap();
	switch (v->type) {
	case TOML_STRING:
	case TOML_DATETIME:
		if (v->s == NULL || v->s[v->len] != '\0')
			__builtin_trap();
		break;
	case TOML_ARRAY:
		if (v->n > 0 && v->items == NULL)
			__builtin_trap();
		for (i = 0; i < v->n; i++) {
			if (v->items[i].line < v->line)
				__builtin_trap();
			check_value(&v->items[i], depth + 1, nlines);
		}
		break;
	case TOML_INT:
	case TOML_FLOAT:
	case TOML_BOOL:
	case TOML_TABLE:
		if (v->s != NULL || v->n != 0)
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct toml_doc doc;
	char err[256], *end;
	const char *text = (const char *)data;
	size_t i;
	long line;
	int nlines = 1, last = 0;

	for (i = 0; i < size; i++)
		nlines += data[i] == '\n';
	if (toml_parse(text, size, "f.toml", &doc, err, sizeof(err)) == -1) {
		if (strncmp(err, "f.toml:", 7) != 0)
			__builtin_trap();
		line = strtol(err + 7, &end, 10);
		if (end == err + 7 || line < 1 || line > nlines ||
		    strncmp(end, ": ", 2) != 0 || end[2] == '\0')
			__builtin_trap();
		if (doc.entries != NULL || doc.tables != NULL ||
		    doc.nentries != 0 || doc.ntables != 0)
			__builtin_trap();
		return 0;
	}
	if (doc.ntables < 1 || doc.tables[0].name[0] != '\0')
		__builtin_trap();
	for (i = 1; i < doc.ntables; i++)
		if (doc.tables[i].line < doc.tables[i - 1].line ||
		    doc.tables[i].line > nlines)
			__builtin_trap();
	for (i = 0; i < doc.nentries; i++) {
		if (doc.entries[i].table >= doc.ntables ||
		    doc.entries[i].line < last || doc.entries[i].key == NULL ||
		    doc.entries[i].line < doc.tables[doc.entries[i].table].line)
			__builtin_trap();
		last = doc.entries[i].line;
		check_value(&doc.entries[i].v, 0, nlines);
	}
	toml_doc_clean(&doc);
	return 0;
}
