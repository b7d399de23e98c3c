/*
 * libFuzzer target for the etcd v3 gateway answer parsers
 * (store/etcd_codec.c): every input goes through etcd_parse_answer() as the
 * answer to each kind of request, through etcd_parse_watch() as a watch
 * line, and through the base64 decoder.  Beyond memory safety, a parsed
 * kv must be NUL-terminated at its length, a failed parse must leave
 * nothing allocated, and base64 must survive decode -> encode -> decode.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/etcd_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_kv(const struct etcd_kv *kv)
{
	if (kv->key == NULL)
		return;
	if (kv->key[kv->key_len] != '\0' || kv->value == NULL ||
	    kv->value[kv->value_len] != '\0')
		__builtin_trap();
}

static void
check_result(const struct etcd_result *r)
{
	size_t i;

	if ((r->nkvs > 0) != (r->kvs != NULL) ||
	    (r->nresponses > 0) != (r->responses != NULL))
		__builtin_trap();
	for (i = 0; i < r->nkvs; i++) {
		if (r->kvs[i].key == NULL)
			__builtin_trap();
		check_kv(&r->kvs[i]);
	}
	for (i = 0; i < r->nresponses; i++)
		check_result(&r->responses[i]);
}

static void
check_b64(const char *in, size_t len)
{
	char *out, *enc, *again;
	size_t n, m;

	out = malloc(len / 4 * 3 + 3);
	if (etcd_b64_decode(in, len, out, &n) == 0) {
		enc = malloc(etcd_b64_len(n) + 1);
		etcd_b64_encode(out, n, enc);
		again = malloc(strlen(enc) / 4 * 3 + 3);
		if (etcd_b64_decode(enc, strlen(enc), again, &m) == -1 ||
		    m != n || memcmp(out, again, n) != 0)
			__builtin_trap();
		free(again);
		free(enc);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum etcd_op_type ops[] = {ETCD_OP_RANGE, ETCD_OP_PUT,
	    ETCD_OP_DELETE, ETCD_OP_TXN, ETCD_OP_LEASE, ETCD_OP_OTHER};
	const char *p = (const char *)data;
	struct etcd_result r;
	struct etcd_watch_update u;
	struct etcd_error err;
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		memset(&err, 0, sizeof(err));
		if (etcd_parse_answer(p, size, ops[i], &r, &err) == 0) {
			if (r.op != ops[i] || err.kind != ETCD_E_NONE)
				__builtin_trap();
			check_result(&r);
			etcd_result_clean(&r);
		} else if (r.kvs != NULL || r.responses != NULL ||
		    err.kind == ETCD_E_NONE || err.msg[0] == '\0')
			__builtin_trap();
	}
	memset(&err, 0, sizeof(err));
	if (etcd_parse_watch(p, size, &u, &err) == 0) {
		if ((u.nevents > 0) != (u.kind == ETCD_WATCH_EVENTS))
			__builtin_trap();
		for (i = 0; i < u.nevents; i++) {
			check_kv(&u.events[i].kv);
			check_kv(&u.events[i].prev_kv);
		}
		if ((u.kind == ETCD_WATCH_COMPACTED ||
		        u.kind == ETCD_WATCH_CANCELED) &&
		    err.msg[0] == '\0')
			__builtin_trap();
		etcd_watch_update_clean(&u);
	} else if (u.events != NULL || err.kind == ETCD_E_NONE)
		__builtin_trap();
	check_b64(p, size);
	return 0;
}
