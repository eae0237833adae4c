#include "certrack/cterr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
cterr_clear(struct cterr *err)
{
	memset(err, 0, sizeof(*err));
}

/*
 * BUF (SIZE bytes) after a print that wanted N bytes: when it was cut
 * short (quoting a long value, or a long field name from a request), it
 * ends on a whole UTF-8 character, so the problem body stays valid JSON.
 */
static void
cut_whole(char *buf, size_t size, int n)
{
	size_t end = size - 1, lead = end;
	unsigned char c;

	if (n < (int)size)
		return;
	/* the last character's first byte, and whether it is whole */
	while (lead > 0 && ((unsigned char)buf[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead > 0) {
		c = (unsigned char)buf[lead - 1];
		if (c >= 0xC0 && lead - 1 + (c >= 0xF0 ? 4 : c >= 0xE0 ? 3 :
		    2) > end)
			buf[lead - 1] = '\0';
	}
}

int
cterr_set(struct cterr *err, int status, const char *code, const char *field,
    const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL)
		return -1;
	err->status = status;
	err->retry_after = 0;
	snprintf(err->code, sizeof(err->code), "%s", code);
	n = snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	cut_whole(err->field, sizeof(err->field), n);
	va_start(ap, fmt);
	n = vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	cut_whole(err->detail, sizeof(err->detail), n);
	return -1;
}

bool
cterr_isset(const struct cterr *err)
{
	return err->status != 0;
}
