/*
 * libFuzzer target: Calico label selectors (store/selector.c).  A selector
 * that parses is printed, parsed again and printed again: both canonical
 * forms must be equal, and both trees must agree on a few fixed label sets,
 * as must the negation "!(...)" of the canonical form when it parses.  A
 * selector that fails must say why, at a column inside the text.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "store/selector.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* short keys and values, so that the fuzzer finds them */
static const struct label fuzz_node[] = {
    {"a", "1"},
    {"b", ""},
    {"c", "x\"y"},
    {"k8s.io/n", "v"},
    {"zone", "a"},
};
static const struct label fuzz_other[] = {
    {"a", "2"},
    {"d", "x'y"},
    {"zone", "b"},
};
static const struct labels fuzz_sets[] = {
    {.v = NULL, .n = 0},
    {.v = fuzz_node, .n = sizeof(fuzz_node) / sizeof(fuzz_node[0])},
    {.v = fuzz_other, .n = sizeof(fuzz_other) / sizeof(fuzz_other[0])},
};
#define NSETS (sizeof(fuzz_sets) / sizeof(fuzz_sets[0]))

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setlevel(LOG_LVL_ERROR);
	return 0;
}

/* the canonical form of sel, in a fresh buffer */
static char *
fuzz_format(const struct selector *sel)
{
	char *out;
	int n;

	if ((n = selector_format(sel, NULL, 0)) < 0)
		__builtin_trap();
	if ((out = malloc(n + 1)) == NULL)
		__builtin_trap();
	if (selector_format(sel, out, n + 1) != n || strlen(out) != (size_t)n)
		__builtin_trap();
	return out;
}

/* a failed parse names a column within the text, or the length limit */
static void
fuzz_check_error(const char *text, const char *err)
{
	unsigned long col;

	if (strncmp(err, "selector longer than", 20) == 0)
		return;
	if (sscanf(err, "column %lu: ", &col) != 1)
		__builtin_trap();
	if (col < 1 || col > strlen(text) + 1)
		__builtin_trap();
	if (strchr(err, ':')[1] != ' ' || strlen(err) < 12)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct selector *sel, *again, *neg;
	char err[256], *text, *canon, *canon2, *negtext;
	size_t i;
	bool m;

	if ((text = malloc(size + 1)) == NULL)
		__builtin_trap();
	memcpy(text, data, size);
	text[size] = '\0';

	if ((sel = selector_parse(text, err, sizeof(err))) == NULL) {
		fuzz_check_error(text, err);
		/* and the same verdict without a buffer */
		if (selector_parse(text, NULL, 0) != NULL)
			__builtin_trap();
		free(text);
		return 0;
	}

	canon = fuzz_format(sel);
	if ((again = selector_parse(canon, err, sizeof(err))) == NULL)
		__builtin_trap();
	canon2 = fuzz_format(again);
	if (strcmp(canon, canon2) != 0)
		__builtin_trap();

	if (asprintf(&negtext, "!(%s)", canon) == -1)
		__builtin_trap();
	neg = selector_parse(negtext, NULL, 0);

	for (i = 0; i < NSETS; i++) {
		m = selector_match(sel, &fuzz_sets[i]);
		if (selector_match(again, &fuzz_sets[i]) != m)
			__builtin_trap();
		if (neg != NULL && selector_match(neg, &fuzz_sets[i]) == m)
			__builtin_trap();
	}

	selector_free(neg);
	selector_free(again);
	selector_free(sel);
	free(negtext);
	free(canon2);
	free(canon);
	free(text);
	return 0;
}
