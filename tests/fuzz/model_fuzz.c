/*
 * libFuzzer target: a resource file as `podmeshctl apply -f` reads it (YAML
 * or JSON, several documents), then every document through the decoders of
 * store/model*.c.  Beyond "no crash, no leak":
 *  - a failed parse always says why;
 *  - each document emitted as YAML parses back to an equal value;
 *  - every resource that decodes re-encodes to JSON that decodes again to
 *    the same JSON, and has a key;
 *  - the IPAM decoders (block, affinity, handle, config) likewise.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "store/model.h"
#include "store/store.h"
#include "store/yamljson.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_setlevel(LOG_LVL_ERROR);
	store_init();
	return 0;
}

static void
check_emit(const json_t *v)
{
	struct yamljson *yj;
	char err[512], *text;

	text = yamljson_emit(v, YAMLJSON_SORT_KEYS);
	yj = yamljson_parse(text, strlen(text), "emitted", err, sizeof(err));
	if (yj == NULL || yj->ndocs != 1 || !json_equal(v, yj->docs[0].value))
		__builtin_trap();
	yamljson_free(yj);
	free(text);
}

static void
check_resource(const struct resource *r)
{
	char err[MODEL_ERRLEN], key[1024];
	struct resource again;
	json_t *j, *j2;

	if (resource_key(r, key, sizeof(key)) == -1)
		__builtin_trap();
	j = resource_encode(r, 0);
	if (resource_decode(j, &again, err, sizeof(err)) == -1)
		__builtin_trap();
	j2 = resource_encode(&again, 0);
	if (!json_equal(j, j2))
		__builtin_trap();
	json_decref(j);
	json_decref(j2);
	resource_clean(&again);
}

#define CHECK_IPAM(type, from, to, clean, v)                                   \
	do {                                                                   \
		struct type x, y;                                              \
		json_t *a, *b;                                                 \
		if (from(v, &x, err, sizeof(err)) == -1) {                     \
			if (err[0] == '\0')                                    \
				__builtin_trap();                              \
			break;                                                 \
		}                                                              \
		a = to(&x);                                                    \
		if (from(a, &y, err, sizeof(err)) == -1)                       \
			__builtin_trap();                                      \
		b = to(&y);                                                    \
		if (!json_equal(a, b))                                         \
			__builtin_trap();                                      \
		json_decref(a);                                                \
		json_decref(b);                                                \
		clean(&x);                                                     \
		clean(&y);                                                     \
	} while (0)

static void
check_ipam(const json_t *v)
{
	char err[MODEL_ERRLEN];

	CHECK_IPAM(model_block, model_block_from_json, model_block_to_json,
	    model_block_clean, v);
	CHECK_IPAM(model_affinity, model_affinity_from_json,
	    model_affinity_to_json, model_affinity_clean, v);
	CHECK_IPAM(model_handle, model_handle_from_json, model_handle_to_json,
	    model_handle_clean, v);
	CHECK_IPAM(model_ipamconfig, model_ipamconfig_from_json,
	    model_ipamconfig_to_json, model_ipamconfig_clean, v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[MODEL_ERRLEN];
	struct yamljson *yj;
	struct resource *r;
	size_t i, n;
	int flags;

	err[0] = '\0';
	yj = yamljson_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (yj == NULL) {
		if (err[0] == '\0')
			__builtin_trap();
		return 0;
	}
	for (i = 0; i < yj->ndocs; i++) {
		check_emit(yj->docs[i].value);
		check_ipam(yj->docs[i].value);
	}
	for (flags = 0; flags <= MODEL_STRICT; flags += MODEL_STRICT) {
		err[0] = '\0';
		if (resource_load(yj, flags, &r, &n, err, sizeof(err)) == -1) {
			if (err[0] == '\0' || r != NULL)
				__builtin_trap();
			continue;
		}
		for (i = 0; i < n; i++) {
			check_resource(&r[i]);
			resource_clean(&r[i]);
		}
		free(r);
	}
	yamljson_free(yj);
	return 0;
}
