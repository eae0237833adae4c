#include "certrack/strnum.h"

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

static int
fail(const char **errstr, const char *why)
{
	if (errstr != NULL)
		*errstr = why;
	return -1;
}

/*
 * Accumulates digits by hand rather than with strtoll(): strtoll accepts
 * leading blanks and a '+', which are exactly what a strict parser refuses.
 */
int
strnum_decimal(const char *s, int frac_digits, long long min, long long max,
    long long *out, const char **errstr)
{
	bool neg = false, overflow = false;
	unsigned long long acc = 0, limit;
	int frac = -1, ndigits = 0;
	const char *p = s;

	if (s == NULL || *s == '\0' || frac_digits < 0 || frac_digits > 18)
		return fail(errstr, "invalid");
	if (*p == '-') {
		neg = true;
		p++;
	}
	limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			/* one point, between digits */
			if (frac >= 0 || ndigits == 0 || p[1] == '\0')
				return fail(errstr, "invalid");
			frac = 0;
			continue;
		}
		if (*p < '0' || *p > '9')
			return fail(errstr, "invalid");
		if (frac >= 0 && ++frac > frac_digits)
			return fail(errstr, "invalid");
		ndigits++;
		if (acc > (limit - (unsigned)(*p - '0')) / 10)
			overflow = true;
		else
			acc = acc * 10 + (unsigned)(*p - '0');
	}
	if (ndigits == 0)
		return fail(errstr, "invalid");
	for (int i = frac < 0 ? 0 : frac; i < frac_digits && !overflow; i++) {
		if (acc > limit / 10)
			overflow = true;
		else
			acc *= 10;
	}
	if (overflow)
		return fail(errstr, neg ? "too small" : "too large");

	long long v;
	if (neg)
		v = acc == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		    -(long long)acc;
	else
		v = (long long)acc;
	if (neg && v == 0)
		return fail(errstr, "invalid");	/* "-0" is nobody's number */
	if (v < min)
		return fail(errstr, "too small");
	if (v > max)
		return fail(errstr, "too large");
	*out = v;
	return 0;
}

int
strnum_ll(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	if (s != NULL) {
		for (const char *p = s; *p != '\0'; p++)
			if (*p == '.')
				return fail(errstr, "invalid");
	}
	return strnum_decimal(s, 0, min, max, out, errstr);
}

int
strnum_int(const char *s, int min, int max, int *out, const char **errstr)
{
	long long v;

	if (strnum_ll(s, min, max, &v, errstr) != 0)
		return -1;
	*out = (int)v;
	return 0;
}
