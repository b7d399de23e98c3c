/*
 * libFuzzer target for the etcd v2 answer parser (store/etcdv2.c): every
 * input goes through etcdv2_parse_answer() as a success (200) and as an
 * error (404) answer, flattened and not, and through the X-Etcd-Index
 * header parser.  Beyond memory safety: a parsed node's value is
 * NUL-terminated at its length; a flat listing is sorted by key and every
 * node in it lies under the answer's node; a failed parse leaves the result
 * clean and an error with a message, and kind ETCDV2_E_ETCD exactly when
 * there is an errorCode; a parsed header index is the number written.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcdv2.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_node(const struct etcdv2_node *n)
{
	if (n->key == NULL || n->key[0] != '/' || n->value == NULL ||
	    n->value[n->value_len] != '\0' || n->modified_index < 0 ||
	    n->created_index < 0 || (n->dir && n->value_len != 0))
		__builtin_trap();
}

static void
check_result(const struct etcdv2_result *r, int flat)
{
	size_t i, plen;

	check_node(&r->node);
	if (r->prev.key != NULL)
		check_node(&r->prev);
	if (!r->found || (r->nnodes > 0) != (r->nodes != NULL))
		__builtin_trap();
	if (!flat) {
		if (r->nnodes != 0)
			__builtin_trap();
		return;
	}
	if (!r->node.dir) {
		if (r->nnodes != 1 || strcmp(r->nodes[0].key, r->node.key))
			__builtin_trap();
		return;
	}
	plen = strcmp(r->node.key, "/") == 0 ? 0 : strlen(r->node.key);
	for (i = 0; i < r->nnodes; i++) {
		check_node(&r->nodes[i]);
		if (strncmp(r->nodes[i].key, r->node.key, plen) != 0 ||
		    r->nodes[i].key[plen] != '/' ||
		    r->nodes[i].key[plen + 1] == '\0')
			__builtin_trap();
		if (i > 0 && strcmp(r->nodes[i - 1].key, r->nodes[i].key) > 0)
			__builtin_trap();
	}
}

static void
check_clean(const struct etcdv2_result *r, const struct etcdv2_error *err)
{
	static const struct etcdv2_result zero;

	if (memcmp(r, &zero, sizeof(zero)) != 0 || err->kind == ETCDV2_E_NONE ||
	    err->msg[0] == '\0' ||
	    (err->kind == ETCDV2_E_ETCD) != (err->code > 0))
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const long statuses[] = {200, 404};
	const char *p = (const char *)data;
	struct etcdv2_result r;
	struct etcdv2_error err;
	char buf[32];
	int64_t ix;
	size_t i;
	int flat;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		for (flat = 0; flat <= 1; flat++) {
			if (etcdv2_parse_answer(
			        p, size, statuses[i], flat, &r, &err) == 0) {
				if (statuses[i] != 200 ||
				    err.kind != ETCDV2_E_NONE)
					__builtin_trap();
				check_result(&r, flat);
				etcdv2_result_clean(&r);
			} else
				check_clean(&r, &err);
		}
	}
	ix = -1;
	switch (etcdv2_parse_index_header(p, size, &ix)) {
	case 1:
		snprintf(buf, sizeof(buf), "%" PRId64, ix);
		if (ix < 0 || memmem(p, size, buf, strlen(buf)) == NULL)
			__builtin_trap();
		break;
	case 0:
	case -1:
		if (ix != -1)
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
	return 0;
}
