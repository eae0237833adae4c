#ifndef CERTRACK_STRBUF_H
#define CERTRACK_STRBUF_H
/*
 * A growable, always NUL-terminated byte buffer (after git's strbuf).
 * strbuf_init()/strbuf_release() for embedded ones; the buffer owns buf.
 *
 * A failed append (memory ran out, or the buffer's limit was reached) is
 * sticky: nothing of it is added, the buffer is marked failed, and every
 * later append is refused too, so the contents are never a text with a
 * hole in it.  Append as much as needed, then check once, with
 * strbuf_failed() or strbuf_detach(), before using the contents.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;	/* NUL-terminated; "" (static) until first growth */
	size_t len;
	size_t alloc;
	size_t max;	/* len never goes past it; 0: only memory limits */
	bool failed;	/* an append was lost: the contents are incomplete */
};

void strbuf_init(struct strbuf *sb);
/* strbuf_init() with a limit: an append that would make len exceed MAX
 * fails (and marks the buffer failed) as if memory had run out. */
void strbuf_init_max(struct strbuf *sb, size_t max);
/* Frees the contents and forgets a failure; the limit stays. */
void strbuf_release(struct strbuf *sb);
/* Empties the buffer, keeping its memory.  A failure is not forgotten:
 * what was lost is not found again by emptying. */
void strbuf_reset(struct strbuf *sb);

/*
 * Append; each returns 0, or -1 when the bytes could not be added (memory
 * ran out, or the limit): the buffer is then failed, and every later
 * append returns -1 and adds nothing.
 */
int strbuf_add(struct strbuf *sb, const void *data, size_t len);
int strbuf_addstr(struct strbuf *sb, const char *s);
int strbuf_addf(struct strbuf *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* True once an append was lost: the contents must not be used. */
bool strbuf_failed(const struct strbuf *sb);

/*
 * Hands the buffer to the caller (who frees it) and resets SB.  NULL when
 * an append was lost (the contents are freed) or memory ran out.
 */
char *strbuf_detach(struct strbuf *sb, size_t *len);

#endif
