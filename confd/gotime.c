/*
 * time.Time for confd's datetime: Go's Time.Format with every layout
 * element Go knows (nextStdChunk), and Time.String() without the
 * monotonic clock reading.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "confd/tmpl.h"

enum std {
	STD_NONE,
	STD_LONG_MONTH,
	STD_MONTH,
	STD_NUM_MONTH,
	STD_ZERO_MONTH,
	STD_LONG_WEEKDAY,
	STD_WEEKDAY,
	STD_DAY,
	STD_UNDER_DAY,
	STD_ZERO_DAY,
	STD_UNDER_YEARDAY,
	STD_ZERO_YEARDAY,
	STD_HOUR,
	STD_HOUR12,
	STD_ZERO_HOUR12,
	STD_MINUTE,
	STD_ZERO_MINUTE,
	STD_SECOND,
	STD_ZERO_SECOND,
	STD_LONG_YEAR,
	STD_YEAR,
	STD_PM,
	STD_pm,
	STD_TZ,
	STD_ISO8601_TZ, /* Z0700 */
	STD_ISO8601_SECONDS_TZ, /* Z070000 */
	STD_ISO8601_SHORT_TZ, /* Z07 */
	STD_ISO8601_COLON_TZ, /* Z07:00 */
	STD_ISO8601_COLON_SECONDS_TZ, /* Z07:00:00 */
	STD_NUM_TZ, /* -0700 */
	STD_NUM_SECONDS_TZ, /* -070000 */
	STD_NUM_SHORT_TZ, /* -07 */
	STD_NUM_COLON_TZ, /* -07:00 */
	STD_NUM_COLON_SECONDS_TZ, /* -07:00:00 */
	STD_FRAC0, /* .000 */
	STD_FRAC9, /* .999 */
};

struct chunk {
	size_t prefix; /* literal bytes before the element */
	enum std std;
	size_t len; /* of the element in the layout */
	int digits; /* fractional seconds */
	char sep; /* '.' or ',' */
};

static bool
has(const char *l, size_t n, size_t i, const char *word)
{
	size_t w = strlen(word);

	return n - i >= w && memcmp(l + i, word, w) == 0;
}

static bool
lower_at(const char *l, size_t n, size_t i)
{
	return i < n && l[i] >= 'a' && l[i] <= 'z';
}

/* Go's nextStdChunk over l[0:n] */
static void
next_chunk(const char *l, size_t n, struct chunk *c)
{
	static const enum std std0x[] = {STD_ZERO_MONTH, STD_ZERO_DAY,
	    STD_ZERO_HOUR12, STD_ZERO_MINUTE, STD_ZERO_SECOND, STD_YEAR};
	static const struct {
		const char *word;
		enum std std;
	} tz[] = {
	    {"-070000", STD_NUM_SECONDS_TZ},
	    {"-07:00:00", STD_NUM_COLON_SECONDS_TZ},
	    {"-0700", STD_NUM_TZ},
	    {"-07:00", STD_NUM_COLON_TZ},
	    {"-07", STD_NUM_SHORT_TZ},
	    {"Z070000", STD_ISO8601_SECONDS_TZ},
	    {"Z07:00:00", STD_ISO8601_COLON_SECONDS_TZ},
	    {"Z0700", STD_ISO8601_TZ},
	    {"Z07:00", STD_ISO8601_COLON_TZ},
	    {"Z07", STD_ISO8601_SHORT_TZ},
	};
	size_t i, j, k;

#define FOUND(s, l_)                                                           \
	do {                                                                   \
		c->prefix = i;                                                 \
		c->std = (s);                                                  \
		c->len = (l_);                                                 \
		return;                                                        \
	} while (0)
	for (i = 0; i < n; i++) {
		switch (l[i]) {
		case 'J':
			if (has(l, n, i, "Jan")) {
				if (has(l, n, i, "January"))
					FOUND(STD_LONG_MONTH, 7);
				if (!lower_at(l, n, i + 3))
					FOUND(STD_MONTH, 3);
			}
			break;
		case 'M':
			if (has(l, n, i, "Mon")) {
				if (has(l, n, i, "Monday"))
					FOUND(STD_LONG_WEEKDAY, 6);
				if (!lower_at(l, n, i + 3))
					FOUND(STD_WEEKDAY, 3);
			}
			if (has(l, n, i, "MST"))
				FOUND(STD_TZ, 3);
			break;
		case '0':
			if (i + 1 < n && l[i + 1] >= '1' && l[i + 1] <= '6')
				FOUND(std0x[l[i + 1] - '1'], 2);
			if (has(l, n, i, "002"))
				FOUND(STD_ZERO_YEARDAY, 3);
			break;
		case '1':
			if (i + 1 < n && l[i + 1] == '5')
				FOUND(STD_HOUR, 2);
			FOUND(STD_NUM_MONTH, 1);
		case '2':
			if (has(l, n, i, "2006"))
				FOUND(STD_LONG_YEAR, 4);
			FOUND(STD_DAY, 1);
		case '_':
			if (i + 1 < n && l[i + 1] == '2') {
				if (has(l, n, i + 1, "2006")) {
					/* a literal _ and the long year */
					c->prefix = i + 1;
					c->std = STD_LONG_YEAR;
					c->len = 4;
					return;
				}
				FOUND(STD_UNDER_DAY, 2);
			}
			if (has(l, n, i, "__2"))
				FOUND(STD_UNDER_YEARDAY, 3);
			break;
		case '3':
			FOUND(STD_HOUR12, 1);
		case '4':
			FOUND(STD_MINUTE, 1);
		case '5':
			FOUND(STD_SECOND, 1);
		case 'P':
			if (i + 1 < n && l[i + 1] == 'M')
				FOUND(STD_PM, 2);
			break;
		case 'p':
			if (i + 1 < n && l[i + 1] == 'm')
				FOUND(STD_pm, 2);
			break;
		case '-':
		case 'Z':
			for (k = 0; k < sizeof(tz) / sizeof(tz[0]); k++)
				if (tz[k].word[0] == l[i] &&
				    has(l, n, i, tz[k].word))
					FOUND(tz[k].std, strlen(tz[k].word));
			break;
		case '.':
		case ',':
			if (i + 1 < n && (l[i + 1] == '0' || l[i + 1] == '9')) {
				for (j = i + 1; j < n && l[j] == l[i + 1]; j++)
					;
				if (j < n && l[j] >= '0' && l[j] <= '9')
					break;
				c->digits = (int)(j - (i + 1));
				c->sep = l[i];
				FOUND(l[i + 1] == '0' ? STD_FRAC0 : STD_FRAC9,
				    j - i);
			}
			break;
		}
	}
#undef FOUND
	c->prefix = n;
	c->std = STD_NONE;
	c->len = 0;
}

/* Go's appendInt(b, x, width) */
static void
append_int(struct tbuf *b, long long x, int width)
{
	if (x < 0) {
		tbuf_add(b, "-", 1);
		x = -x;
	}
	tbuf_addf(b, "%0*lld", width, x);
}

static const char *const months[] = {"January", "February", "March", "April",
    "May", "June", "July", "August", "September", "October", "November",
    "December"};
static const char *const days[] = {"Sunday", "Monday", "Tuesday", "Wednesday",
    "Thursday", "Friday", "Saturday"};

static void
append_nano(struct tbuf *b, long nsec, const struct chunk *c)
{
	char digits[10];
	int n = c->digits > 9 ? 9 : c->digits;

	if (c->std == STD_FRAC9 && (n == 0 || nsec == 0))
		return;
	snprintf(digits, sizeof(digits), "%09ld", nsec);
	if (c->std == STD_FRAC9)
		while (n > 0 && digits[n - 1] == '0')
			n--;
	if (n == 0)
		return;
	tbuf_add(b, &c->sep, 1);
	tbuf_add(b, digits, (size_t)n);
}

static void
append_zone(struct tbuf *b, int offset, enum std std)
{
	bool iso = std >= STD_ISO8601_TZ && std <= STD_ISO8601_COLON_SECONDS_TZ;
	bool colon = std == STD_ISO8601_COLON_TZ || std == STD_NUM_COLON_TZ ||
	    std == STD_ISO8601_COLON_SECONDS_TZ ||
	    std == STD_NUM_COLON_SECONDS_TZ;
	bool secs = std == STD_ISO8601_SECONDS_TZ ||
	    std == STD_NUM_SECONDS_TZ || std == STD_NUM_COLON_SECONDS_TZ ||
	    std == STD_ISO8601_COLON_SECONDS_TZ;
	int zone = offset / 60, abs = offset;

	if (offset == 0 && iso) {
		tbuf_add(b, "Z", 1);
		return;
	}
	if (zone < 0) {
		tbuf_add(b, "-", 1);
		zone = -zone;
		abs = -abs;
	} else
		tbuf_add(b, "+", 1);
	append_int(b, zone / 60, 2);
	if (colon)
		tbuf_add(b, ":", 1);
	if (std != STD_NUM_SHORT_TZ && std != STD_ISO8601_SHORT_TZ)
		append_int(b, zone % 60, 2);
	if (secs) {
		if (std == STD_NUM_COLON_SECONDS_TZ ||
		    std == STD_ISO8601_COLON_SECONDS_TZ)
			tbuf_add(b, ":", 1);
		append_int(b, abs % 60, 2);
	}
}

void
tval_time_format(struct tbuf *b, const struct tval *v, const char *layout)
{
	const char *l = layout;
	size_t n = strlen(layout);
	struct chunk c;
	time_t sec;
	struct tm tm;
	long long year;
	int hr, zone;

	sec = v->u.time.ts.tv_sec + v->u.time.utc_offset;
	memset(&tm, 0, sizeof(tm));
	gmtime_r(&sec, &tm);
	year = (long long)tm.tm_year + 1900;
	tbuf_add(b, "", 0);
	while (n > 0) {
		memset(&c, 0, sizeof(c));
		next_chunk(l, n, &c);
		tbuf_add(b, l, c.prefix);
		if (c.std == STD_NONE)
			break;
		l += c.prefix + c.len;
		n -= c.prefix + c.len;
		switch (c.std) {
		case STD_YEAR:
			append_int(b, (year < 0 ? -year : year) % 100, 2);
			break;
		case STD_LONG_YEAR:
			append_int(b, year, 4);
			break;
		case STD_MONTH:
			tbuf_add(b, months[tm.tm_mon], 3);
			break;
		case STD_LONG_MONTH:
			tbuf_adds(b, months[tm.tm_mon]);
			break;
		case STD_NUM_MONTH:
			append_int(b, tm.tm_mon + 1, 0);
			break;
		case STD_ZERO_MONTH:
			append_int(b, tm.tm_mon + 1, 2);
			break;
		case STD_WEEKDAY:
			tbuf_add(b, days[tm.tm_wday], 3);
			break;
		case STD_LONG_WEEKDAY:
			tbuf_adds(b, days[tm.tm_wday]);
			break;
		case STD_DAY:
			append_int(b, tm.tm_mday, 0);
			break;
		case STD_UNDER_DAY:
			if (tm.tm_mday < 10)
				tbuf_add(b, " ", 1);
			append_int(b, tm.tm_mday, 0);
			break;
		case STD_ZERO_DAY:
			append_int(b, tm.tm_mday, 2);
			break;
		case STD_UNDER_YEARDAY:
			if (tm.tm_yday + 1 < 100)
				tbuf_add(b, " ", 1);
			if (tm.tm_yday + 1 < 10)
				tbuf_add(b, " ", 1);
			append_int(b, tm.tm_yday + 1, 0);
			break;
		case STD_ZERO_YEARDAY:
			append_int(b, tm.tm_yday + 1, 3);
			break;
		case STD_HOUR:
			append_int(b, tm.tm_hour, 2);
			break;
		case STD_HOUR12:
		case STD_ZERO_HOUR12:
			hr = tm.tm_hour % 12;
			if (hr == 0)
				hr = 12;
			append_int(b, hr, c.std == STD_HOUR12 ? 0 : 2);
			break;
		case STD_MINUTE:
			append_int(b, tm.tm_min, 0);
			break;
		case STD_ZERO_MINUTE:
			append_int(b, tm.tm_min, 2);
			break;
		case STD_SECOND:
			append_int(b, tm.tm_sec, 0);
			break;
		case STD_ZERO_SECOND:
			append_int(b, tm.tm_sec, 2);
			break;
		case STD_PM:
			tbuf_adds(b, tm.tm_hour >= 12 ? "PM" : "AM");
			break;
		case STD_pm:
			tbuf_adds(b, tm.tm_hour >= 12 ? "pm" : "am");
			break;
		case STD_TZ:
			if (v->u.time.zone[0] != '\0') {
				tbuf_adds(b, v->u.time.zone);
				break;
			}
			zone = v->u.time.utc_offset / 60;
			if (zone < 0) {
				tbuf_add(b, "-", 1);
				zone = -zone;
			} else
				tbuf_add(b, "+", 1);
			append_int(b, zone / 60, 2);
			append_int(b, zone % 60, 2);
			break;
		case STD_FRAC0:
		case STD_FRAC9:
			append_nano(b, v->u.time.ts.tv_nsec, &c);
			break;
		default:
			append_zone(b, v->u.time.utc_offset, c.std);
			break;
		}
	}
}

void
tval_time_string(struct tbuf *b, const struct tval *v)
{
	tval_time_format(b, v, "2006-01-02 15:04:05.999999999 -0700 MST");
}
