/*
 * libFuzzer target: template execution (confd/tmpl_exec.c, tmpl_call.c,
 * tmpl_builtin.c, tmpl_fmt.c, tmpl_value.c).  Texts that parse are
 * executed over fixed data (a map of every value kind) with a few
 * functions.  An error must read "template: ..." and the output must be
 * a valid buffer; ASan and LeakSanitizer watch the rest.  A range over an
 * integer runs that many times, as in Go, so texts that could nest large
 * counts are parsed but not executed.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "confd/tmpl.h"
#include "lib/log.h"

int LLVMFuzzerInitialize(int *, char ***);
int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct tval *
fz_nil(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	return NULL;
}

static struct tval *
fz_fail(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	tmpl_call_error(c, "fail %zu", n);
	return NULL;
}

static struct tval *
fz_str(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	const char *s;
	size_t len;

	if (tmpl_arg_string(c, args[0], &s, &len) == -1)
		return NULL;
	return tval_strn(s, len);
}

static struct tval *
fz_list(struct tmpl_call *c, struct tval *const *args, size_t n, void *ctx)
{
	struct tval *l = tval_list(TVE_ANY);
	size_t i;

	for (i = 0; i < n; i++)
		tval_list_append(l, tval_ref(args[i]));
	return l;
}

static const struct tmpl_func fz_funcs[] = {
    {"getv", fz_str, 1, 2},
    {"ls", fz_nil, 1, 1},
    {"fail", fz_fail, 0, -1},
    {"list", fz_list, 0, -1},
};

static struct tval *data;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct tval *l = tval_list(TVE_ANY), *m = tval_map(),
	            *kvs = tval_list(TVE_KV);
	struct timespec ts = {1257894000, 5};

	log_setlevel(LOG_LVL_ERROR);
	tval_list_append(l, tval_int(3));
	tval_list_append(l, tval_str("x"));
	tval_list_append(l, tval_nil());
	tval_list_append(l, tval_float(2.5));
	tval_list_append(kvs, tval_kv("/a", "1"));
	tval_list_append(kvs, tval_kv("/b", "2"));
	data = tval_map();
	tval_map_set(m, "k", tval_str("v"));
	tval_map_set(m, "l", tval_ref(l));
	tval_map_set(data, "M", m);
	tval_map_set(data, "L", l);
	tval_map_set(data, "KV", kvs);
	tval_map_set(data, "I", tval_int(-7));
	tval_map_set(data, "F", tval_float(1e21));
	tval_map_set(data, "S", tval_str("s\xff\n"));
	tval_map_set(data, "B", tval_bool(true));
	tval_map_set(data, "N", tval_nil());
	tval_map_set(data, "T", tval_time(&ts, 3600, "CET"));
	return 0;
}

/* could this text range over a large count? */
static bool
too_costly(const char *text, size_t len)
{
	size_t i, ranges = 0, run = 0, longest = 0;

	for (i = 0; i + 5 <= len; i++)
		if (memcmp(text + i, "range", 5) == 0)
			ranges++;
	for (i = 0; i < len; i++) {
		run = (text[i] >= '0' && text[i] <= '9') ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	return ranges > 6 || (ranges > 0 && longest > 2) ||
	    (ranges > 2 && longest > 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *buf, size_t size)
{
	const char *text = (const char *)buf;
	struct tmpl *t = tmpl_new("fz");
	struct tbuf out = {0};
	char err[TMPL_ERRLEN];

	tmpl_funcs(t, fz_funcs, sizeof(fz_funcs) / sizeof(fz_funcs[0]), NULL);
	if (tmpl_parse(t, text, size, err, sizeof(err)) == 0 &&
	    !too_costly(text, size)) {
		if (tmpl_execute(t, NULL, data, &out, err, sizeof(err)) == -1 &&
		    strncmp(err, "template: ", 10) != 0)
			__builtin_trap();
		if (out.p == NULL || out.p[out.len] != '\0')
			__builtin_trap();
	}
	tbuf_free(&out);
	tmpl_free(t);
	return 0;
}
