#ifndef CERTRACK_LOG_H
#define CERTRACK_LOG_H
/*
 * Level-gated logging to stderr, one line each:
 *   2026-11-27T14:03:01.123Z info [req=9f2c...] message
 * The _errno variants append ": strerror(errno)" (OpenBSD's log_warn vs
 * log_warnx).  A thread's current request id, when set, is on every line.
 */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
/* Parses "debug", "info", "warn", "error"; returns 0 or -1. */
int log_parse_level(const char *s, enum log_level *out);

/* Sets (or, with NULL, clears) the calling thread's request id. */
void log_set_request_id(const char *id);

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
