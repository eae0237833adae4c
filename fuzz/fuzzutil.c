/* What every fuzz target shares. */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void
fuzz_require(int ok, const char *target, const char *what)
{
	if (ok)
		return;
	fprintf(stderr, "fuzz: %s: %s\n", target, what);
	abort();
}

char *
fuzz_cstring(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	fuzz_require(s != NULL, "fuzz", "out of memory");
	if (size > 0)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}
