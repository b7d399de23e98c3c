/*
 * Resource names Calico derives from other things, for code that creates
 * resources from v1 data (migration) or from addresses: libcalico-go's
 * names.CIDRToName for pools ("198.18.0.0/16" -> "198-18-0-0-16"), the
 * v1->v3 converters' convertIpToName for peers and their normalizeName for
 * node names.  Each returns -1 if the name does not fit.  Also what
 * Calico's client stamps on a resource it creates (uid, timestamp).
 */
#include <sys/random.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/log.h"
#include "lib/xmalloc.h"
#include "store/model.h"

int
model_name_from_cidr(const struct prefix *p, char *buf, size_t len)
{
	char s[PREFIX_STRLEN];
	size_t i;

	if (p->a.family == 0)
		return -1;
	prefix_ntop(p, s, sizeof(s));
	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '.' || s[i] == ':' || s[i] == '/')
			s[i] = '-';
	return snprintf(buf, len, "%s", s) >= (int)len ? -1 : 0;
}

/* 192-0-2-1, or 2001-0db8-0000-0000-0000-0000-0000-0001 (all groups) */
int
model_name_from_ip(const struct addr *a, char *buf, size_t len)
{
	char s[ADDR_STRLEN];
	size_t i, off = 0;

	if (a->family == AF_INET) {
		inet_ntop(AF_INET, &a->v4, s, sizeof(s));
		for (i = 0; s[i] != '\0'; i++)
			if (s[i] == '.')
				s[i] = '-';
		return snprintf(buf, len, "%s", s) >= (int)len ? -1 : 0;
	}
	if (a->family != AF_INET6 || len < 40)
		return -1;
	for (i = 0; i < 16; i += 2)
		off += snprintf(buf + off, len - off, "%s%02x%02x",
		    i == 0 ? "" : "-", a->b[i], a->b[i + 1]);
	return 0;
}

static bool
name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.';
}

/*
 * normalizeName, step by step as libcalico-go does it: lower case, '/' to
 * '.', each run of characters outside [-.a-z0-9] to one '-', each run of
 * [-.] holding a '.' to one '.', then no '-' or '.' at either end.
 */
int
model_name_normalize(const char *in, char *buf, size_t len)
{
	size_t n = strlen(in), i, j, off = 0, start;
	char tmp[MODEL_NAME_MAX * 4 + 1];
	bool dot;
	char c;

	if (n >= sizeof(tmp) || len == 0)
		return -1;
	for (i = 0, j = 0; i < n; i++) {
		c = tolower((unsigned char)in[i]);
		if (c == '/')
			c = '.';
		if (name_char(c))
			tmp[j++] = c;
		else if (j == 0 || tmp[j - 1] != '\x01')
			tmp[j++] = '\x01'; /* a run, marked */
	}
	for (i = 0; i < j; i++)
		if (tmp[i] == '\x01')
			tmp[i] = '-';
	tmp[j] = '\0';

	for (i = 0; i < j;) {
		if (tmp[i] != '-' && tmp[i] != '.') {
			if (off + 1 >= len)
				return -1;
			buf[off++] = tmp[i++];
			continue;
		}
		for (start = i, dot = false;
		     i < j && (tmp[i] == '-' || tmp[i] == '.'); i++)
			dot |= tmp[i] == '.';
		if (dot) {
			if (off + 1 >= len)
				return -1;
			buf[off++] = '.';
		} else {
			if (off + (i - start) >= len)
				return -1;
			memcpy(buf + off, tmp + start, i - start);
			off += i - start;
		}
	}
	buf[off] = '\0';
	for (i = 0; buf[i] == '-' || buf[i] == '.'; i++)
		;
	memmove(buf, buf + i, off - i + 1);
	off -= i;
	while (off > 0 && (buf[off - 1] == '-' || buf[off - 1] == '.'))
		buf[--off] = '\0';
	return off > 0 ? 0 : -1;
}

/* a random (version 4) UUID, as the Kubernetes API machinery makes them */
char *
model_uid_new(void)
{
	uint8_t u[16];
	size_t off = 0;
	ssize_t n;
	char *s;

	while (off < sizeof(u)) {
		if ((n = getrandom(u + off, sizeof(u) - off, 0)) == -1) {
			if (errno == EINTR)
				continue;
			fatal("getrandom");
		}
		off += n;
	}
	u[6] = (u[6] & 0x0f) | 0x40;
	u[8] = (u[8] & 0x3f) | 0x80;
	xasprintf(&s,
	    "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x",
	    u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
	    u[11], u[12], u[13], u[14], u[15]);
	return s;
}

/* now, RFC 3339 in UTC, as Go's metav1.Time marshals */
char *
model_timestamp_now(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}
