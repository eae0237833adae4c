#include "certrack/value.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/*
 * The one table of text limits, in characters.  The database holds the
 * same numbers as CHECK constraints (sql/0008_lengths.sql), so a value
 * that slipped past C still cannot be stored, and no indexed value can
 * reach PostgreSQL's index row size limit (2,704 bytes: 200 characters of
 * at most 4 bytes each stay well below it).
 */
static const struct {
	const char *field;
	long max;
} limits[] = {
	{ "given_name", 100 },
	{ "family_name", 100 },
	{ "email", 254 },		/* RFC 5321's longest path */
	{ "profession", 100 },		/* looked up, never stored */
	{ "license_number", 32 },
	{ "location", 200 },
	{ "instructor", 200 },
	{ "title", 200 },
	{ "reason", 500 },
	{ "note", 500 },
	{ "username", 128 },
	/* continuing education and renewal policies */
	{ "provider", 200 },
	{ "category", 60 },
	{ "ce_category", 60 },
	{ "evidence", 500 },
	/* the directory (sql/0015_directory.sql) */
	{ "practice_city", 100 },
	{ "public_contact", 200 },
};

static int
refuse(struct value_err *err, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
refuse(struct value_err *err, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -1;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof(err->detail), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
value_quote(const char *s, char buf[VALUE_QUOTE_LEN])
{
	size_t n = strlen(s);

	if (n <= 40)
		return s;
	/* A cut inside a UTF-8 sequence would make the API's JSON reply, or
	 * an import's stored message, invalid. */
	n = 40;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	memcpy(buf, s, n);
	memcpy(buf + n, "...", 4);
	return buf;
}

static bool
digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int
number(const char *s, size_t n)
{
	int v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

/* M/D/YYYY: one or two digits, one or two digits, four digits. */
static bool
us_date(const char *s, int *y, int *m, int *d)
{
	const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;
	size_t lm, ld;

	if (a == NULL || b == NULL)
		return false;
	lm = (size_t)(a - s);
	ld = (size_t)(b - a - 1);
	if (lm < 1 || lm > 2 || ld < 1 || ld > 2 || strlen(b + 1) != 4 ||
	    !digits(s, lm) || !digits(a + 1, ld) || !digits(b + 1, 4))
		return false;
	*m = number(s, lm);
	*d = number(a + 1, ld);
	*y = number(b + 1, 4);
	return true;
}

int
value_date(const char *s, enum value_date_form form,
    char out[VALUE_DATE_LEN], struct value_err *err)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	char q[VALUE_QUOTE_LEN];
	int y, m, d;
	bool ok;

	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-' && digits(s, 4) &&
	    digits(s + 5, 2) && digits(s + 8, 2)) {
		y = number(s, 4);
		m = number(s + 5, 2);
		d = number(s + 8, 2);
		ok = true;
	} else {
		ok = form == VALUE_DATE_TYPED && us_date(s, &y, &m, &d);
	}
	if (ok) {
		bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		ok = y >= 1900 && y <= 9999 && m >= 1 && m <= 12 && d >= 1 &&
		    d <= mdays[m - 1] + (m == 2 && leap);
	}
	if (!ok)
		return refuse(err, "invalid_date", "'%s' is not a date (write "
		    "YYYY-MM-DD)", value_quote(s, q));
	/* y, m, d are in range now: exactly ten characters */
	snprintf(out, VALUE_DATE_LEN, "%04u-%02u-%02u", (unsigned)y % 10000u,
	    (unsigned)m % 100u, (unsigned)d % 100u);
	return 0;
}

static bool
ascii_letter(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

int
value_state(const char *s, char out[VALUE_STATE_LEN], struct value_err *err)
{
	char q[VALUE_QUOTE_LEN];

	if (strlen(s) != 2 || !ascii_letter(s[0]) || !ascii_letter(s[1]))
		return refuse(err, "invalid_license_state", "'%s' is not a "
		    "two-letter state code", value_quote(s, q));
	for (int i = 0; i < 2; i++)
		out[i] = s[i] >= 'a' ? (char)(s[i] - 'a' + 'A') : s[i];
	out[2] = '\0';
	return 0;
}

/*
 * Reads the JSON number grammar by hand: the significant digits and a
 * power of ten, exact (no double in between), so 0.1 is 0.1 and a
 * thousand-digit number is refused rather than rounded.
 */
static bool
score_units(const char *s, long long *units)
{
	char sig[24];			/* significant digits, leading 0s gone */
	size_t nsig = 0;
	long exp10 = 0;			/* value = sig * 10^exp10 */
	const char *p = s;
	bool any = false, frac = false;

	if (*p == '-')
		p++;			/* only -0 survives the range check */
	for (; *p != '\0'; p++) {
		if (*p == '.') {
			if (frac || !any || p[1] < '0' || p[1] > '9')
				return false;
			frac = true;
			continue;
		}
		if (*p < '0' || *p > '9')
			break;
		any = true;
		if (frac)
			exp10--;
		if (nsig == 0 && *p == '0')
			continue;
		if (nsig == sizeof(sig)) {
			/* Beyond 24 significant digits only zeros may come:
			 * keep the magnitude, drop the digit. */
			if (*p != '0')
				return false;
			exp10++;
			continue;
		}
		sig[nsig++] = *p;
	}
	if (!any)
		return false;
	if (*p == 'e' || *p == 'E') {
		bool neg = false;
		long e = 0;
		p++;
		if (*p == '+' || *p == '-')
			neg = *p++ == '-';
		if (*p < '0' || *p > '9')
			return false;
		for (; *p >= '0' && *p <= '9'; p++)
			if ((e = e * 10 + (*p - '0')) > 1000)
				return false;
		exp10 += neg ? -e : e;
	}
	if (*p != '\0')
		return false;
	if (nsig == 0) {
		*units = 0;
		return true;
	}
	if (s[0] == '-')
		return false;
	/* Trailing zeros say nothing about precision: 85.50 is 85.5. */
	while (nsig > 0 && sig[nsig - 1] == '0') {
		nsig--;
		exp10++;
	}
	exp10 += VALUE_SCORE_DECIMALS;	/* now: units = sig * 10^exp10 */
	if (exp10 < 0 || (long)nsig + exp10 > 10)
		return false;		/* too precise, or far too large */
	long long u = 0;
	for (size_t i = 0; i < nsig; i++)
		u = u * 10 + (sig[i] - '0');
	for (long i = 0; i < exp10; i++)
		u *= 10;
	if (u > (long long)VALUE_SCORE_MAX * 10000)
		return false;
	*units = u;
	return true;
}

/* UNITS (1/10000) as their shortest exact decimal: 8550 -> "0.855". */
static void
units_out(long long u, char out[VALUE_SCORE_LEN])
{
	int n = snprintf(out, VALUE_SCORE_LEN, "%lld.%04lld", u / 10000,
	    u % 10000);

	while (out[n - 1] == '0')
		out[--n] = '\0';
	if (out[n - 1] == '.')
		out[n - 1] = '\0';
}

int
value_score(const char *field, const char *s, char out[VALUE_SCORE_LEN],
    struct value_err *err)
{
	long long u;

	if (!score_units(s, &u))
		return refuse(err, "invalid_score", "the field '%s' must be a "
		    "number from 0 to %d with at most %d decimals", field,
		    VALUE_SCORE_MAX, VALUE_SCORE_DECIMALS);
	units_out(u, out);
	return 0;
}

int
value_hours(const char *s, char out[VALUE_SCORE_LEN], struct value_err *err)
{
	long long u;

	/* units of 1/10000: above 0, at most 100 hours, whole hundredths */
	if (!score_units(s, &u) || u <= 0 || u > VALUE_HOURS_MAX * 10000LL ||
	    u % 100 != 0)
		return refuse(err, "invalid_hours", "the field 'hours' must be "
		    "a number above 0 and at most %d, with at most 2 decimals",
		    VALUE_HOURS_MAX);
	units_out(u, out);
	return 0;
}

long
value_max_len(const char *field)
{
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (strcmp(limits[i].field, field) == 0)
			return limits[i].max;
	return 0;
}

size_t
value_chars(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			n++;
	return n;
}

int
value_text(const char *field, const char *s, struct value_err *err)
{
	long max = value_max_len(field);

	if (max > 0 && value_chars(s) > (size_t)max)
		return refuse(err, "too_long", "the field '%s' may have at "
		    "most %ld characters", field, max);
	return 0;
}

int
value_email(const char *s, struct value_err *err)
{
	const char *at = strchr(s, '@');
	char q[VALUE_QUOTE_LEN];

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    strchr(at, '.') == NULL || at[1] == '.' ||
	    at[strlen(at) - 1] == '.' || strpbrk(s, " \t\r\n,;<>") != NULL)
		return refuse(err, "invalid_email", "'%s' is not an email "
		    "address", value_quote(s, q));
	return value_text("email", s, err);
}

bool
value_blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r' &&
		    *s != '\v' && *s != '\f')
			return false;
	return true;
}

int
value_zip(const char *s, struct value_err *err)
{
	char q[VALUE_QUOTE_LEN];

	for (int i = 0; i < 5; i++)
		if (s[i] < '0' || s[i] > '9')
			goto bad;
	if (s[5] == '\0')
		return 0;
bad:
	return refuse(err, "invalid_zip", "'%s' is not a ZIP code (five "
	    "digits)", value_quote(s, q));
}
