/*
 * libFuzzer target for podmesh-confd's file backend parser
 * (confd_file_parse, confd/backend_file.c): arbitrary bytes as a YAML or
 * JSON file of keys.  Beyond memory safety and the limits on aliases and
 * depth: accepted keys are absolute, path.Clean'ed, sorted and unique, with
 * values that are strings; a refusal names the file, leaves no keys, and a
 * second parse of the same bytes gives the same answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confd/backend_int.h"
#include "confd/confd.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_kvs(const struct confd_kvs *kvs)
{
	size_t i;
	char *clean;

	for (i = 0; i < kvs->n; i++) {
		if (kvs->v[i].key == NULL || kvs->v[i].key[0] != '/' ||
		    kvs->v[i].value == NULL)
			__builtin_trap();
		clean = confd_path_clean(kvs->v[i].key);
		if (strcmp(clean, kvs->v[i].key) != 0)
			__builtin_trap();
		free(clean);
		if (i > 0 && strcmp(kvs->v[i - 1].key, kvs->v[i].key) >= 0)
			__builtin_trap();
		if (confd_kvs_get(kvs, kvs->v[i].key) != kvs->v[i].value)
			__builtin_trap();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct confd_kvs a = {0}, b = {0};
	char ea[CONFD_ERRLEN], eb[CONFD_ERRLEN];
	int ra, rb;

	ra = confd_file_parse(
	    (const char *)data, size, "kv.yaml", &a, ea, sizeof(ea));
	if (ra == 0)
		check_kvs(&a);
	else if (a.n != 0 || strncmp(ea, "kv.yaml:", 8) != 0 || ea[8] == '\0')
		__builtin_trap();
	rb = confd_file_parse(
	    (const char *)data, size, "kv.yaml", &b, eb, sizeof(eb));
	if (ra != rb || (ra == 0 && !confd_kvs_equal(&a, &b)) ||
	    (ra != 0 && strcmp(ea, eb) != 0))
		__builtin_trap();
	confd_kvs_clean(&a);
	confd_kvs_clean(&b);
	return 0;
}
