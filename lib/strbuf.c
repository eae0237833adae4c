#include "certrack/strbuf.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static char strbuf_empty[1];

void
strbuf_init(struct strbuf *sb)
{
	strbuf_init_max(sb, 0);
}

void
strbuf_init_max(struct strbuf *sb, size_t max)
{
	sb->buf = strbuf_empty;
	sb->len = 0;
	sb->alloc = 0;
	sb->max = max;
	sb->failed = false;
}

void
strbuf_release(struct strbuf *sb)
{
	if (sb->alloc > 0)
		free(sb->buf);
	strbuf_init_max(sb, sb->max);
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->alloc > 0)
		sb->buf[0] = '\0';
}

bool
strbuf_failed(const struct strbuf *sb)
{
	return sb->failed;
}

/* Makes room for EXTRA more bytes, or marks the buffer failed. */
static int
grow(struct strbuf *sb, size_t extra)
{
	size_t need, n;
	char *p;

	if (sb->failed)
		return -1;
	if (extra > SIZE_MAX - sb->len - 1 ||
	    (sb->max > 0 && extra > sb->max - sb->len))
		goto fail;
	need = sb->len + extra + 1;
	if (need <= sb->alloc)
		return 0;
	n = sb->alloc < 64 ? 64 : sb->alloc;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	p = realloc(sb->alloc > 0 ? sb->buf : NULL, n);
	if (p == NULL)
		goto fail;
	if (sb->alloc == 0)
		p[0] = '\0';
	sb->buf = p;
	sb->alloc = n;
	return 0;
fail:
	sb->failed = true;
	return -1;
}

int
strbuf_add(struct strbuf *sb, const void *data, size_t len)
{
	if (grow(sb, len) != 0)
		return -1;
	if (len > 0)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int
strbuf_addstr(struct strbuf *sb, const char *s)
{
	return strbuf_add(sb, s, strlen(s));
}

int
strbuf_vaddf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	if (sb->failed)
		return -1;
	va_copy(cp, ap);
	n = vsnprintf(NULL, 0, fmt, cp);
	va_end(cp);
	if (n < 0) {
		sb->failed = true;
		return -1;
	}
	if (grow(sb, (size_t)n) != 0)
		return -1;
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
	return 0;
}

int
strbuf_addf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vaddf(sb, fmt, ap);
	va_end(ap);
	return r;
}

char *
strbuf_detach(struct strbuf *sb, size_t *len)
{
	char *p;

	if (len != NULL)
		*len = 0;
	if (sb->failed) {
		strbuf_release(sb);
		return NULL;
	}
	if (len != NULL)
		*len = sb->len;
	p = sb->alloc > 0 ? sb->buf : calloc(1, 1);
	strbuf_init_max(sb, sb->max);
	return p;
}
