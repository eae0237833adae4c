#include "certrack/cterr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void
cterr_clear(struct cterr *err)
{
	memset(err, 0, sizeof(*err));
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
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	n = vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	/* A sentence cut short (one quoting a long value) ends on a whole
	 * UTF-8 character, so the problem body stays valid JSON. */
	if (n >= (int)sizeof(err->detail)) {
		size_t end = sizeof(err->detail) - 1, lead = end;
		unsigned char c;

		/* the last character's first byte, and whether it is whole */
		while (lead > 0 &&
		    ((unsigned char)err->detail[lead - 1] & 0xC0) == 0x80)
			lead--;
		if (lead > 0) {
			c = (unsigned char)err->detail[lead - 1];
			if (c >= 0xC0 && lead - 1 + (c >= 0xF0 ? 4 : c >= 0xE0 ?
			    3 : 2) > end)
				err->detail[lead - 1] = '\0';
		}
	}
	return -1;
}

bool
cterr_isset(const struct cterr *err)
{
	return err->status != 0;
}
