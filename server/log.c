#include "certrack/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum log_level min_level = LOG_INFO;
static _Thread_local char request_id[40];
static const char *const names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
	min_level = level;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_request_id(const char *id)
{
	snprintf(request_id, sizeof(request_id), "%s", id ? id : "");
}

/*
 * Copies S with every control character written as \xNN, so nothing a
 * client sent can forge or colour a log line.  (A field that is quoted in
 * a line escapes its own quotes and backslashes, as the login lines do.)
 */
static void
escape(char *dst, size_t len, const char *s)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(dst + o, len - o, "\\x%02x", c);
		else
			dst[o++] = (char)c;
	}
	dst[o] = '\0';
}

static void
vlog(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char raw[2048], msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	if (level < min_level)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	escape(msg, sizeof(msg), raw);
	/* One fprintf per line: stdio locks the stream, so threads' lines do
	 * not interleave. */
	fprintf(stderr, "%s.%03ldZ %s %s%s%s%s%s%s\n", stamp,
	    ts.tv_nsec / 1000000, names[level],
	    request_id[0] ? "[req=" : "", request_id,
	    request_id[0] ? "] " : "", msg,
	    errnum ? ": " : "", errnum ? strerror(errnum) : "");
}

#define LOG_FN(name, level, with_errno)				\
void								\
name(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
	va_start(ap, fmt);					\
	vlog(level, with_errno ? saved : 0, fmt, ap);		\
	va_end(ap);						\
	errno = saved;						\
}
LOG_FN(log_debug, LOG_DEBUG, 0)
LOG_FN(log_info, LOG_INFO, 0)
LOG_FN(log_warn, LOG_WARN, 0)
LOG_FN(log_error, LOG_ERROR, 0)
LOG_FN(log_warn_errno, LOG_WARN, 1)
LOG_FN(log_error_errno, LOG_ERROR, 1)
