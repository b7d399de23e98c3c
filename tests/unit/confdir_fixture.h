/*
 * A temporary confdir for the podmesh-confd tests (resource_test.c,
 * cycle_test.c): the test makes dir (mkdtemp) and names files in it
 * relative to it; put() writes one, get() reads one back, assert_file()
 * compares, lines() counts a file's lines (reload_cmd appends one per
 * run), teardown() removes the confdir.  Include after <cmocka.h>.
 */
#ifndef PODMESH_TESTS_CONFDIR_FIXTURE_H
#define PODMESH_TESTS_CONFDIR_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"

static char dir[64]; /* the confdir */

static char *
path_of(const char *rel)
{
	static char buf[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", dir, rel);
	return buf[i];
}

static void
put(const char *rel, const char *text)
{
	FILE *f = fopen(path_of(rel), "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The file's contents (malloc'd, up to 64 KiB), or NULL when missing. */
static char *
get(const char *rel)
{
	FILE *f = fopen(path_of(rel), "r");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = xcalloc(1, 65536);
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
assert_file(const char *rel, const char *want)
{
	char *got = get(rel);

	if (got == NULL)
		fail_msg("%s: missing", rel);
	if (strcmp(got, want) != 0)
		fail_msg("%s:\nwant: %s\n got: %s", rel, want, got);
	free(got);
}

static int
lines(const char *rel)
{
	char *s = get(rel), *p;
	int n = 0;

	if (s == NULL)
		return 0;
	for (p = s; *p != '\0'; p++)
		n += *p == '\n';
	free(s);
	return n;
}

/* cmocka teardown: the confdir and everything in it */
static int
teardown(void **state)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

#endif
