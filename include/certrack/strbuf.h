#ifndef CERTRACK_STRBUF_H
#define CERTRACK_STRBUF_H
/*
 * A growable, always NUL-terminated byte buffer (after git's strbuf).
 * strbuf_init()/strbuf_release() for embedded ones; the buffer owns buf.
 */
#include <stdarg.h>
#include <stddef.h>

struct strbuf {
	char *buf;	/* NUL-terminated; "" (static) until first growth */
	size_t len;
	size_t alloc;
};

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
void strbuf_reset(struct strbuf *sb);

/* Append; each returns 0, or -1 when memory ran out (the buffer is kept). */
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Hands the buffer to the caller (who frees it) and resets SB. */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
