/*
 * libFuzzer target for the parsers behind confd's template functions:
 * gojson_unmarshal (json, jsonArray: values from etcd), confd_path_match
 * (gets, getvs patterns), confd_path_clean/join and time layouts
 * (tval_time_format).  The first byte picks the parser.  Beyond memory
 * safety: json gives a value of the wanted kind or a message, and the
 * same answer twice; Clean is idempotent and absolute under Join; Match
 * of a pattern against itself without metacharacters is 1.  JSON inputs
 * stop at 6000 bytes, to keep runs short: nothing on the way recurses
 * (the checker, the decoder, tval_unref), and Go's limit of 10000 levels
 * is tested in tests/unit/confdfuncs_test.c.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confd/confd.h"
#include "confd/gojson.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_json(const char *s, size_t len, enum gojson_want want)
{
	char err[256], err2[256];
	struct tval *v, *v2;

	err[0] = err2[0] = '\0';
	v = gojson_unmarshal(s, len, want, err, sizeof(err));
	v2 = gojson_unmarshal(s, len, want, err2, sizeof(err2));
	if ((v == NULL) != (v2 == NULL))
		__builtin_trap();
	if (v == NULL) {
		if (err[0] == '\0' || strcmp(err, err2) != 0)
			__builtin_trap();
		return;
	}
	if (want == GOJSON_OBJECT && v->kind != TV_MAP)
		__builtin_trap();
	if (want == GOJSON_ARRAY &&
	    (v->kind != TV_LIST || v->u.list.elem != TVE_ANY))
		__builtin_trap();
	tval_unref(v);
	tval_unref(v2);
}

static void
fuzz_paths(const char *a, const char *b)
{
	char *c, *cc, *j;

	c = confd_path_clean(a);
	cc = confd_path_clean(c);
	if (strcmp(c, cc) != 0 || c[0] == '\0')
		__builtin_trap();
	j = confd_path_join(a, b);
	if (j[0] != '/')
		__builtin_trap();
	free(c);
	free(cc);
	free(j);
	if (confd_path_match(a, b) < -1 || confd_path_match(a, b) > 1)
		__builtin_trap();
	if (strpbrk(a, "*?[\\") == NULL && confd_path_match(a, a) != 1)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct timespec ts = {1233810057, 12345600};
	struct tbuf b = {0};
	struct tval *t;
	char *s, *nul;

	if (size < 1 || (data[0] % 4 < 2 && size > 6000))
		return 0;
	s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 4) {
	case 0:
		fuzz_json(s, size - 1, GOJSON_OBJECT);
		break;
	case 1:
		fuzz_json(s, size - 1, GOJSON_ARRAY);
		break;
	case 2:
		nul = memchr(s, '\0', size - 1);
		fuzz_paths(s, nul != NULL ? nul + 1 : "");
		break;
	case 3:
		t = tval_time(&ts, (int)(data[0] / 4) * 900 - 43200, "");
		tval_time_format(&b, t, s);
		tbuf_free(&b);
		tval_unref(t);
		break;
	}
	free(s);
	return 0;
}
