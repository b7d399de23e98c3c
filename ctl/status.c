/*
 * `podmeshctl node status` without the sockets: podmesh-bgpd's peers answer
 * (bgp/show.c) or BIRD's `show protocols` reply turned into rows, and the
 * rows printed as calicoctl prints them (a bordered table per family, the
 * column titles centred) or as JSON for scripts.  Pure functions, so that
 * tests/unit/ctl_status_test.c can link this file alone; the command itself
 * is ctl/node_status.c.
 */
#include <sys/socket.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/xmalloc.h"
#include "ctl/ctl.h"

/* BIRD's protocol state word for an RFC 4271 state */
const char *
status_state_word(const char *bgp_state)
{
	static const char *const start[] = {
	    "Idle", "Connect", "Active", "OpenSent", "OpenConfirm"};
	size_t i;

	if (bgp_state == NULL)
		return "-";
	if (strcmp(bgp_state, "Established") == 0)
		return "up";
	for (i = 0; i < sizeof(start) / sizeof(start[0]); i++)
		if (strcmp(bgp_state, start[i]) == 0)
			return "start";
	return "-";
}

/*
 * BIRD's short time format, in local time: HH:MM:SS when t is on the same
 * local day as now, else YYYY-MM-DD; "-" when unknown (0).
 */
void
status_since(time_t t, time_t now, char *buf, size_t len)
{
	struct tm tt, tn;

	if (t <= 0 || localtime_r(&t, &tt) == NULL ||
	    localtime_r(&now, &tn) == NULL) {
		snprintf(buf, len, "-");
		return;
	}
	if (tt.tm_year == tn.tm_year && tt.tm_yday == tn.tm_yday)
		strftime(buf, len, "%H:%M:%S", &tt);
	else
		strftime(buf, len, "%Y-%m-%d", &tt);
}

/* the BGP state, then the last error unless Established; allocated */
char *
status_info(const char *bgp_state, const char *last_error)
{
	char *s;

	if (bgp_state == NULL)
		bgp_state = "-";
	if (strcmp(bgp_state, "Established") != 0 && last_error != NULL &&
	    *last_error != '\0')
		xasprintf(&s, "%s %s", bgp_state, last_error);
	else
		s = xstrdup(bgp_state);
	return s;
}

static void
status_add(struct status *st, const struct addr *a, const char *type,
    const char *state, time_t since, char *info)
{
	struct status_row *r;

	st->rows = xreallocarray(st->rows, st->nrows + 1, sizeof(*st->rows));
	r = &st->rows[st->nrows++];
	memset(r, 0, sizeof(*r));
	r->addr = *a;
	addr_ntop(a, r->address, sizeof(r->address));
	r->type = xstrdup(type);
	r->state = xstrdup(state);
	r->since = since;
	r->info = info;
}

static int
status_row_cmp(const void *a, const void *b)
{
	const struct status_row *ra = a, *rb = b;

	return addr_cmp(&ra->addr, &rb->addr);
}

static void
status_sort(struct status *st)
{
	if (st->nrows > 1)
		qsort(st->rows, st->nrows, sizeof(*st->rows), status_row_cmp);
}

void
status_clean(struct status *st)
{
	size_t i;

	for (i = 0; i < st->nrows; i++) {
		free(st->rows[i].type);
		free(st->rows[i].state);
		free(st->rows[i].info);
	}
	free(st->rows);
	st->rows = NULL;
	st->nrows = 0;
}

/*
 * podmesh-bgpd's peers answer: an array of peer objects, each with an
 * address.  Other fields may be missing ("-").  -1 with a message in err.
 */
int
status_from_peers(json_t *peers, struct status *st, char *err, size_t errlen)
{
	const char *address, *state, *type, *lerr;
	struct addr a;
	json_t *p, *since;
	size_t i;

	memset(st, 0, sizeof(*st));
	if (!json_is_array(peers)) {
		snprintf(err, errlen, "the peers answer is not a list");
		return -1;
	}
	json_array_foreach(peers, i, p)
	{
		if (!json_is_object(p)) {
			snprintf(err, errlen, "peer %zu is not an object", i);
			goto fail;
		}
		address = json_string_value(json_object_get(p, "address"));
		if (address == NULL || addr_parse(address, &a) == -1) {
			snprintf(
			    err, errlen, "peer %zu has no valid address", i);
			goto fail;
		}
		state = json_string_value(json_object_get(p, "state"));
		type = json_string_value(json_object_get(p, "type"));
		lerr = json_string_value(json_object_get(p, "last_error"));
		since = json_object_get(p, "since");
		status_add(st, &a, type != NULL ? type : "-",
		    status_state_word(state),
		    json_is_integer(since) ? (time_t)json_integer_value(since)
		                           : 0,
		    status_info(state, lerr));
	}
	status_sort(st);
	return 0;
fail:
	status_clean(st);
	return -1;
}

/* "| a | b |" with the cells left aligned, or centred (the titles) */
static void
status_line(
    FILE *out, const char *const *cells, const size_t *width, bool centre)
{
	size_t i, len, gap, left;

	for (i = 0; i < STATUS_NCOLS; i++) {
		len = strlen(cells[i]);
		gap = width[i] - len;
		left = centre ? gap / 2 : 0;
		fprintf(out, "| %*s%s%*s ", (int)left, "", cells[i],
		    (int)(gap - left), "");
	}
	fprintf(out, "|\n");
}

static void
status_rule(FILE *out, const size_t *width)
{
	size_t i, j;

	for (i = 0; i < STATUS_NCOLS; i++) {
		fputc('+', out);
		for (j = 0; j < width[i] + 2; j++)
			fputc('-', out);
	}
	fprintf(out, "+\n");
}

static void
status_family(
    FILE *out, const struct status *st, int family, const char *v, time_t now)
{
	static const char *const header[STATUS_NCOLS] = {
	    "PEER ADDRESS", "PEER TYPE", "STATE", "SINCE", "INFO"};
	size_t width[STATUS_NCOLS], i, j, n = 0;
	char(*since)[32];
	const char *cells[STATUS_NCOLS];
	const struct status_row *r;

	fprintf(out, "\n%s BGP status\n", v);
	for (i = 0; i < st->nrows; i++)
		if (st->rows[i].addr.family == family)
			n++;
	if (n == 0) {
		fprintf(out, "No %s peers found.\n", v);
		return;
	}
	since = xcalloc(st->nrows, sizeof(*since));
	for (j = 0; j < STATUS_NCOLS; j++)
		width[j] = strlen(header[j]);
	for (i = 0; i < st->nrows; i++) {
		r = &st->rows[i];
		if (r->addr.family != family)
			continue;
		status_since(r->since, now, since[i], sizeof(since[i]));
		cells[0] = r->address;
		cells[1] = r->type;
		cells[2] = r->state;
		cells[3] = since[i];
		cells[4] = r->info;
		for (j = 0; j < STATUS_NCOLS; j++)
			if (strlen(cells[j]) > width[j])
				width[j] = strlen(cells[j]);
	}
	status_rule(out, width);
	status_line(out, header, width, true);
	status_rule(out, width);
	for (i = 0; i < st->nrows; i++) {
		r = &st->rows[i];
		if (r->addr.family != family)
			continue;
		cells[0] = r->address;
		cells[1] = r->type;
		cells[2] = r->state;
		cells[3] = since[i];
		cells[4] = r->info;
		status_line(out, cells, width, false);
	}
	status_rule(out, width);
	free(since);
}

/* both families as calicoctl prints them, after the "is running" line */
void
status_print(const struct status *st, time_t now, FILE *out)
{
	status_family(out, st, AF_INET, "IPv4", now);
	status_family(out, st, AF_INET6, "IPv6", now);
	fprintf(out, "\n");
}

/* RFC 3339 in UTC, or null when unknown */
static json_t *
status_time_json(time_t t)
{
	struct tm tm;
	char buf[32];

	if (t <= 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

/* {"running": true, "ipv4": [{address, type, state, since, info}], "ipv6"} */
json_t *
status_json(const struct status *st)
{
	json_t *doc, *fam[2], *o;
	const struct status_row *r;
	size_t i;

	doc = json_object();
	json_object_set_new(doc, "running", json_true());
	fam[0] = json_array();
	fam[1] = json_array();
	for (i = 0; i < st->nrows; i++) {
		r = &st->rows[i];
		o = json_object();
		json_object_set_new(o, "address", json_string(r->address));
		json_object_set_new(o, "type", json_string(r->type));
		json_object_set_new(o, "state", json_string(r->state));
		json_object_set_new(o, "since", status_time_json(r->since));
		json_object_set_new(o, "info", json_string(r->info));
		json_array_append_new(
		    fam[r->addr.family == AF_INET6 ? 1 : 0], o);
	}
	json_object_set_new(doc, "ipv4", fam[0]);
	json_object_set_new(doc, "ipv6", fam[1]);
	return doc;
}

/*
 * BIRD's since column in its short formats (HH:MM:SS[.fff] for recent
 * times, YYYY-MM-DD for older ones) or its long one (date and time, here
 * joined by one space) as a time in local time; 0 when none of these.
 */
time_t
status_bird_time(const char *s, time_t now)
{
	struct tm tm, tn;
	const char *end;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (localtime_r(&now, &tn) == NULL)
		return 0;
	if ((end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm)) != NULL ||
	    (memset(&tm, 0, sizeof(tm)),
	        (end = strptime(s, "%Y-%m-%d", &tm)) != NULL)) {
		/* nothing else */
	} else if ((memset(&tm, 0, sizeof(tm)),
	               (end = strptime(s, "%H:%M:%S", &tm)) != NULL)) {
		tm.tm_year = tn.tm_year;
		tm.tm_mon = tn.tm_mon;
		tm.tm_mday = tn.tm_mday;
	} else
		return 0;
	if (*end == '.')
		for (end++; isdigit((unsigned char)*end); end++)
			;
	if (*end != '\0')
		return 0;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == -1)
		return 0;
	/* BIRD prints a time alone for the last 20 hours: maybe yesterday */
	if (t > now + 60)
		t -= 86400;
	return t;
}

/* Mesh_192_0_2_12, Node_2001_db8__1, Global_192_0_2_1_port_1790 */
static int
status_bird_name(const char *name, struct addr *a, const char **type)
{
	static const struct {
		const char *prefix;
		const char *type;
	} kinds[] = {
	    {"Mesh_", "node-to-node mesh"},
	    {"Node_", "node specific"},
	    {"Global_", "global"},
	};
	char buf[128], *p;
	size_t i, n;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncmp(name, kinds[i].prefix, strlen(kinds[i].prefix)) ==
		    0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		return -1;
	*type = kinds[i].type;
	name += strlen(kinds[i].prefix);
	if ((n = strlen(name)) == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, name, n + 1);
	if ((p = strstr(buf, "_port_")) != NULL)
		*p = '\0';
	for (p = buf; *p != '\0'; p++)
		if (*p == '_')
			*p = '.';
	if (addr_parse(buf, a) == 0 && a->family == AF_INET)
		return 0;
	for (p = buf; *p != '\0'; p++)
		if (*p == '.')
			*p = ':';
	if (addr_parse(buf, a) == 0 && a->family == AF_INET6)
		return 0;
	return -1;
}

/* "name proto table state since info" in any case and spacing */
static bool
status_bird_header(const char *s)
{
	static const char *const want[] = {
	    "name", "proto", "table", "state", "since", "info"};
	size_t i, n;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		n = strlen(want[i]);
		if (strncasecmp(s, want[i], n) != 0 ||
		    (s[n] != '\0' && s[n] != ' ' && s[n] != '\t'))
			return false;
		s += n;
	}
	return true;
}

static void
status_bird_row(char *line, time_t now, struct status *st)
{
	char *tok[32], *save = NULL, *w, since[64];
	const char *type;
	size_t n = 0, i, first;
	struct addr a;
	char *info;
	size_t ilen = 0;

	for (w = strtok_r(line, " \t", &save); w != NULL && n < 32;
	     w = strtok_r(NULL, " \t", &save))
		tok[n++] = w;
	if (n < 5 || strcmp(tok[1], "BGP") != 0 ||
	    status_bird_name(tok[0], &a, &type) == -1)
		return;
	/* a long since: a date, then a time */
	first = 5;
	snprintf(since, sizeof(since), "%s", tok[4]);
	if (n > 5 && strchr(tok[4], '-') != NULL &&
	    strchr(tok[5], ':') != NULL) {
		snprintf(since, sizeof(since), "%s %s", tok[4], tok[5]);
		first = 6;
	}
	for (i = first; i < n; i++)
		ilen += strlen(tok[i]) + 1;
	info = xcalloc(1, ilen + 1);
	for (i = first; i < n; i++) {
		if (i > first)
			strcat(info, " ");
		strcat(info, tok[i]);
	}
	status_add(st, &a, type, tok[3], status_bird_time(since, now), info);
}

/*
 * BIRD's reply to `show protocols` (its greeting included or not):
 * "CODE-text" or "CODE text" lines, " text" continuing the last code, 0000
 * at the end, 8xxx and 9xxx errors.  Keeps the BGP protocols with Calico's
 * names.  -1 with a message in err.
 */
int
status_from_bird(const char *text, size_t len, time_t now, struct status *st,
    char *err, size_t errlen)
{
	const char *s = text, *end = text + len, *nl;
	bool header = false, done = false;
	char *line, *content;
	int code = -1;

	memset(st, 0, sizeof(*st));
	while (s < end && !done) {
		nl = memchr(s, '\n', end - s);
		line = xstrndup(
		    s, nl != NULL ? (size_t)(nl - s) : (size_t)(end - s));
		s = nl != NULL ? nl + 1 : end;
		if (strlen(line) >= 5 && isdigit((unsigned char)line[0]) &&
		    isdigit((unsigned char)line[1]) &&
		    isdigit((unsigned char)line[2]) &&
		    isdigit((unsigned char)line[3]) &&
		    (line[4] == '-' || line[4] == ' ')) {
			code = atoi(line);
			content = line + 5;
		} else if (strlen(line) == 4 && strcmp(line, "0000") == 0) {
			code = 0;
			content = line + 4;
		} else if (line[0] == ' ' || line[0] == '+') {
			content = line + 1;
		} else if (line[0] == '\0') {
			free(line);
			continue;
		} else {
			snprintf(err, errlen,
			    "unexpected line from BIRD: %.60s", line);
			free(line);
			goto fail;
		}
		if (code == 0)
			done = true;
		else if (code >= 8000) {
			snprintf(err, errlen, "BIRD answered: %.100s", content);
			free(line);
			goto fail;
		} else if (code == 2002) {
			if (!status_bird_header(content)) {
				snprintf(err, errlen,
				    "unexpected header from BIRD: %.80s",
				    content);
				free(line);
				goto fail;
			}
			header = true;
		} else if (code == 1002)
			status_bird_row(content, now, st);
		free(line);
	}
	if (!done || !header) {
		snprintf(err, errlen, "incomplete answer from BIRD (%s)",
		    !header ? "no protocol table" : "no end");
		goto fail;
	}
	status_sort(st);
	return 0;
fail:
	status_clean(st);
	return -1;
}
