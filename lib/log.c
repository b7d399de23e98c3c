/*
 * Levelled logging to stderr.  The only process-wide state is the program
 * name and threshold; both live here because every module logs and passing a
 * logger around would add nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

static const char *log_progname = "podmesh";
static enum log_level log_threshold = LOG_LVL_INFO;

static const char *const log_names[] = {
    [LOG_LVL_DEBUG] = "debug",
    [LOG_LVL_INFO] = "info",
    [LOG_LVL_WARN] = "warning",
    [LOG_LVL_ERROR] = "error",
};

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_threshold = level;
}

void
log_setlevel(enum log_level level)
{
	log_threshold = level;
}

enum log_level
log_getlevel(void)
{
	return log_threshold;
}

int
log_level_parse(const char *s, enum log_level *level)
{
	unsigned int i;

	for (i = 0; i < sizeof(log_names) / sizeof(log_names[0]); i++) {
		if (strcasecmp(s, log_names[i]) == 0) {
			*level = i;
			return 0;
		}
	}
	if (strcasecmp(s, "warn") == 0) {
		*level = LOG_LVL_WARN;
		return 0;
	}
	return -1;
}

int
log_enabled(enum log_level level)
{
	return level >= log_threshold;
}

void
log_vmsg(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
	char ts[32], msg[2048];
	struct timespec now;
	struct tm tm;

	if (level < log_threshold)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	fprintf(stderr, "%s.%03ldZ %s %s: %s%s\n", ts, now.tv_nsec / 1000000,
	    log_progname, log_names[level], prefix ? prefix : "", msg);
}

#define LOG_FN(name, level)                                                    \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vmsg(level, NULL, fmt, ap);                                \
		va_end(ap);                                                    \
	}

LOG_FN(log_debug, LOG_LVL_DEBUG)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_warnx, LOG_LVL_WARN)
LOG_FN(log_errorx, LOG_LVL_ERROR)

void
log_warn(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("%s: %s", msg, strerror(saved));
}

void
fatal(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_errorx("fatal: %s: %s", msg, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_errorx("fatal: %s", msg);
	exit(1);
}
