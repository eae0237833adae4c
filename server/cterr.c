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

	if (err == NULL)
		return -1;
	err->status = status;
	snprintf(err->code, sizeof(err->code), "%s", code);
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

bool
cterr_isset(const struct cterr *err)
{
	return err->status != 0;
}
