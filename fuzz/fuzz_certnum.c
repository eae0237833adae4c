/*
 * lib/certnum.c: certificate numbers as a person types them.  What must
 * hold: a number normalize() accepts is canonical, valid and normalizes to
 * itself; a wrong check symbol still gives the regrouped number, which is
 * not valid; a malformed one gives ""; a canonical valid number is its
 * own normal form; and eleven symbols with their check symbol appended
 * are a valid number.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "certrack/certnum.h"

static const char T[] = "certnum";

int
fuzz_certnum(const uint8_t *data, size_t size)
{
	char out[CERTNUM_LEN + 1], again[CERTNUM_LEN + 1];
	char *in = fuzz_cstring(data, size);
	enum certnum_result rc = certnum_normalize(in, out);

	switch (rc) {
	case CERTNUM_OK:
		fuzz_require(strlen(out) == CERTNUM_LEN && certnum_valid(out),
		    T, "accepted, but not a valid canonical number");
		fuzz_require(certnum_normalize(out, again) == CERTNUM_OK &&
		    strcmp(out, again) == 0, T, "not its own normal form");
		break;
	case CERTNUM_BAD_CHECK:
		fuzz_require(strlen(out) == CERTNUM_LEN && !certnum_valid(out),
		    T, "a wrong check symbol, but valid");
		break;
	case CERTNUM_MALFORMED:
		fuzz_require(out[0] == '\0', T, "malformed, but an output");
		break;
	default:
		fuzz_require(0, T, "an unknown result");
	}
	if (certnum_valid(in))
		fuzz_require(rc == CERTNUM_OK && strcmp(in, out) == 0, T,
		    "a valid number changed by normalizing");

	size_t n = strlen(in);
	int c = certnum_check_symbol(in, n);
	bool canonical = n > 0;
	for (size_t i = 0; i < n; i++)
		canonical = canonical && certnum_value(in[i]) >= 0;
	fuzz_require((c >= 0) == canonical, T,
	    "a check symbol for other than canonical symbols");
	if (c >= 0)
		fuzz_require(certnum_value((char)c) >= 0, T,
		    "a check symbol outside the alphabet");
	if (c >= 0 && n == CERTNUM_DATA) {
		char num[CERTNUM_LEN + 1];
		memcpy(num, in, 4);
		num[4] = '-';
		memcpy(num + 5, in + 4, 4);
		num[9] = '-';
		memcpy(num + 10, in + 8, 3);
		num[13] = (char)c;
		num[14] = '\0';
		fuzz_require(certnum_valid(num), T,
		    "eleven symbols and their check symbol are not valid");
	}
	free(in);
	return 0;
}

FUZZ_ENTRY(fuzz_certnum)
