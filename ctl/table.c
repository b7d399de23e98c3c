/*
 * Aligned tables for people: a small column formatter, and the peers and
 * routes listings of podmesh-bgpd's control socket (JSON documents of
 * bgp/show.c) turned into rows.  Missing or mistyped fields print as "-" so
 * that an older or newer daemon never makes the table fail.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/xmalloc.h"
#include "ctl/ctl.h"

struct table {
	int ncols;
	char **cells; /* nrows * ncols, row 0 is the header */
	size_t nrows;
	size_t *width;
};

struct table *
table_new(int ncols, const char *const *header)
{
	struct table *t;

	t = xcalloc(1, sizeof(*t));
	t->ncols = ncols;
	t->width = xcalloc(ncols, sizeof(*t->width));
	table_add(t, header);
	return t;
}

void
table_add(struct table *t, const char *const *row)
{
	size_t len;
	int i;

	t->cells = xreallocarray(
	    t->cells, (t->nrows + 1) * t->ncols, sizeof(*t->cells));
	for (i = 0; i < t->ncols; i++) {
		t->cells[t->nrows * t->ncols + i] = xstrdup(row[i]);
		if ((len = strlen(row[i])) > t->width[i])
			t->width[i] = len;
	}
	t->nrows++;
}

/* two spaces between columns, nothing after the last one */
void
table_print(struct table *t, FILE *out)
{
	const char *cell;
	size_t r;
	int i;

	for (r = 0; r < t->nrows; r++) {
		for (i = 0; i < t->ncols; i++) {
			cell = t->cells[r * t->ncols + i];
			if (i == t->ncols - 1)
				fprintf(out, "%s\n", cell);
			else
				fprintf(out, "%-*s  ", (int)t->width[i], cell);
		}
	}
}

void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->width);
	free(t);
}

/* 45s, 2m05s, 1h02m03s, 3d04h05m */
void
table_duration(uint64_t secs, char *buf, size_t len)
{
	uint64_t d = secs / 86400, h = secs / 3600 % 24, m = secs / 60 % 60,
	         s = secs % 60;

	if (secs < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (secs < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", m, s);
	else if (secs < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m%02" PRIu64 "s",
		    secs / 3600, m, s);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h%02" PRIu64 "m",
		    d, h, m);
}

static const char *
field_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

/* an integer field into buf, or "-" */
static const char *
field_int(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return "-";
	snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	return buf;
}

int
table_peers(json_t *peers, FILE *out)
{
	static const char *const header[] = {
	    "ADDRESS", "ASN", "STATE", "UPTIME", "RECEIVED", "SENT"};
	char asn[24], uptime[32], rcvd[24], sent[24];
	const char *row[6], *state;
	struct table *t;
	json_t *p, *up;
	size_t i;

	if (!json_is_array(peers))
		return -1;
	t = table_new(6, header);
	json_array_foreach(peers, i, p)
	{
		state = field_str(p, "state");
		up = json_object_get(p, "uptime");
		/* uptime counts from Established; other states have none */
		if (strcmp(state, "Established") == 0 && json_is_integer(up) &&
		    json_integer_value(up) >= 0)
			table_duration(
			    json_integer_value(up), uptime, sizeof(uptime));
		else
			strcpy(uptime, "-");
		row[0] = field_str(p, "address");
		row[1] = field_int(p, "asn", asn, sizeof(asn));
		row[2] = state;
		row[3] = uptime;
		row[4] = field_int(p, "received", rcvd, sizeof(rcvd));
		row[5] = field_int(p, "sent", sent, sizeof(sent));
		table_add(t, row);
	}
	table_print(t, out);
	table_free(t);
	return 0;
}

/* "64512 64513 {64514 64515}"; "-" when empty */
static void
aspath_format(json_t *path, char *buf, size_t len)
{
	size_t i, j, off = 0;
	json_t *v, *w;

	buf[0] = '\0';
	json_array_foreach(path, i, v)
	{
		if (off >= len)
			break;
		if (json_is_integer(v)) {
			off += snprintf(buf + off, len - off,
			    "%s%" JSON_INTEGER_FORMAT, off ? " " : "",
			    json_integer_value(v));
			continue;
		}
		if (!json_is_array(v))
			continue;
		off += snprintf(buf + off, len - off, "%s{", off ? " " : "");
		json_array_foreach(v, j, w)
		{
			if (off >= len)
				break;
			off += snprintf(buf + off, len - off,
			    "%s%" JSON_INTEGER_FORMAT, j ? " " : "",
			    json_integer_value(w));
		}
		if (off < len)
			off += snprintf(buf + off, len - off, "}");
	}
	if (buf[0] == '\0')
		snprintf(buf, len, "-");
}

int
table_routes(json_t *routes, FILE *out)
{
	static const char *const header[] = {"", "PREFIX", "NEXT-HOP",
	    "AS-PATH", "LOCAL-PREF", "ORIGIN", "PEER"};
	char aspath[1024], lpref[24];
	json_t *r, *paths, *p;
	const char *row[7];
	struct table *t;
	size_t i, j;

	if (!json_is_array(routes))
		return -1;
	t = table_new(7, header);
	json_array_foreach(routes, i, r)
	{
		paths = json_object_get(r, "paths");
		json_array_foreach(paths, j, p)
		{
			aspath_format(json_object_get(p, "as_path"), aspath,
			    sizeof(aspath));
			row[0] =
			    json_is_true(json_object_get(p, "best")) ? "*" : "";
			row[1] = field_str(r, "prefix");
			row[2] = field_str(p, "next_hop");
			row[3] = aspath;
			row[4] =
			    field_int(p, "local_pref", lpref, sizeof(lpref));
			row[5] = field_str(p, "origin");
			row[6] = field_str(p, "peer");
			table_add(t, row);
		}
	}
	table_print(t, out);
	table_free(t);
	return 0;
}
