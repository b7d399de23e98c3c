/*
 * libFuzzer target: the template parser (confd/tmpl_lex.c, tmpl_parse.c,
 * tmpl_node.c).  Arbitrary bytes are parsed with getv, ls and json
 * registered.  A failure must read "template: fz:LINE:COL: message" with
 * the line and column inside the text.  A success prints every tree
 * (tnode_string) and locates every tree's root; the main tree's text,
 * when it parses again, must print the same.  ASan and LeakSanitizer
 * watch the rest.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confd/tmpl_int.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct tval *
fuzz_fn(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	return tval_nil();
}

static const struct tmpl_func fuzz_funcs[] = {
    {"getv", fuzz_fn, 1, 2},
    {"ls", fuzz_fn, 1, 1},
    {"json", fuzz_fn, 1, 1},
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setlevel(LOG_LVL_ERROR);
	return 0;
}

static void
fuzz_check_error(const char *err, const uint8_t *data, size_t size)
{
	unsigned long line, col, lines = 1, i;
	int off = 0;

	if (sscanf(err, "template: fz:%lu:%lu: %n", &line, &col, &off) != 2 ||
	    off == 0 || err[off] == '\0')
		__builtin_trap();
	for (i = 0; i < size; i++)
		if (data[i] == '\n')
			lines++;
	if (line < 1 || line > lines || col > size)
		__builtin_trap();
}

/* String() of the main tree, or NULL when the text does not parse */
static char *
fuzz_parse(
    const char *text, size_t len, size_t *outlen, char *err, size_t errlen)
{
	struct tmpl *t = tmpl_new("fz");
	struct tbuf b = {0};
	struct ttree *tr;
	size_t i;

	tmpl_funcs(t, fuzz_funcs, 3, NULL);
	if (tmpl_parse(t, text, len, err, errlen) == -1) {
		tmpl_free(t);
		return NULL;
	}
	for (i = 0; i < t->ntrees; i++) {
		struct tbuf s = {0}, loc = {0};

		tnode_string(&s, t->trees[i]->root);
		tnode_location(&loc, t->trees[i]->root);
		if (loc.p == NULL || strncmp(loc.p, "fz:", 3) != 0)
			__builtin_trap();
		tbuf_free(&s);
		tbuf_free(&loc);
	}
	if ((tr = tmpl_lookup(t, "fz")) == NULL)
		__builtin_trap();
	tnode_string(&b, tr->root);
	tmpl_free(t);
	*outlen = b.len;
	if (b.p == NULL)
		return calloc(1, 1);
	return b.p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[TMPL_ERRLEN], err2[TMPL_ERRLEN];
	char *s1, *s2;
	size_t n1, n2;

	if (size > 64 * 1024)
		return 0;
	err[0] = '\0';
	s1 = fuzz_parse((const char *)data, size, &n1, err, sizeof(err));
	if (s1 == NULL) {
		fuzz_check_error(err, data, size);
		return 0;
	}
	s2 = fuzz_parse(s1, n1, &n2, err2, sizeof(err2));
	if (s2 != NULL && (n1 != n2 || memcmp(s1, s2, n1) != 0))
		__builtin_trap();
	free(s2);
	free(s1);
	return 0;
}
