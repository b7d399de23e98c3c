/*
 * Logging to stderr with levels.  One line per event:
 *   2026-11-26T03:10:00.123Z podmesh-bgpd info: peer 192.0.2.2: Established
 * The level and destination are process state, set once by main().
 */
#ifndef PODMESH_LOG_H
#define PODMESH_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_WARN,
	LOG_LVL_ERROR,
};

void log_init(const char *, enum log_level);
void log_setlevel(enum log_level);
enum log_level log_getlevel(void);
int log_level_parse(const char *, enum log_level *);
int log_enabled(enum log_level);
void log_vmsg(enum log_level, const char *, const char *, va_list)
    __attribute__((format(printf, 3, 0)));
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_errorx(const char *, ...) __attribute__((format(printf, 1, 2)));
void fatal(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
