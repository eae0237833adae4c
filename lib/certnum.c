#include "certrack/certnum.h"

#include <string.h>

static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int
certnum_value(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(alphabet, c);
	return p ? (int)(p - alphabet) : -1;
}

/*
 * The Luhn mod 32 sum of S[0..N), doubling the symbols at odd distance
 * from the right end when DOUBLE_LAST is false (validation, where the last
 * symbol is the check symbol) or at even distance when it is true
 * (generation, where the check symbol is still to come).  -1 for a symbol
 * outside the alphabet.
 */
static int
luhn_sum(const char *s, size_t n, bool double_last)
{
	int sum = 0;
	int factor = double_last ? 2 : 1;

	for (size_t k = n; k-- > 0;) {
		int v = certnum_value(s[k]);
		if (v < 0)
			return -1;
		int a = factor * v;
		sum += a / 32 + a % 32;
		factor = factor == 2 ? 1 : 2;
	}
	return sum % 32;
}

int
certnum_check_symbol(const char *data, size_t n)
{
	int sum;

	if (data == NULL || n == 0)
		return -1;
	sum = luhn_sum(data, n, true);
	if (sum < 0)
		return -1;
	return alphabet[(32 - sum) % 32];
}

/* Twelve canonical symbols in SYM, with a right check symbol? */
static bool
check_ok(const char *sym)
{
	return luhn_sum(sym, CERTNUM_SYMBOLS, false) == 0;
}

bool
certnum_valid(const char *s)
{
	char sym[CERTNUM_SYMBOLS];
	size_t k = 0;

	if (s == NULL || strlen(s) != CERTNUM_LEN)
		return false;
	for (size_t i = 0; i < CERTNUM_LEN; i++) {
		if (i == 4 || i == 9) {
			if (s[i] != '-')
				return false;
			continue;
		}
		if (certnum_value(s[i]) < 0)
			return false;
		sym[k++] = s[i];
	}
	return check_ok(sym);
}

enum certnum_result
certnum_normalize(const char *in, char *out)
{
	char sym[CERTNUM_SYMBOLS];
	size_t n = 0;

	out[0] = '\0';
	if (in == NULL)
		return CERTNUM_MALFORMED;
	for (const char *p = in; *p; p++) {
		char c = *p;

		/* Blanks and hyphens are only grouping, wherever they are. */
		if (c == ' ' || c == '\t' || c == '-')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		/* Crockford's read-alikes: what looks like 1 or 0 is 1 or 0. */
		if (c == 'I' || c == 'L')
			c = '1';
		else if (c == 'O')
			c = '0';
		if (certnum_value(c) < 0 || n == CERTNUM_SYMBOLS)
			return CERTNUM_MALFORMED;
		sym[n++] = c;
	}
	if (n != CERTNUM_SYMBOLS)
		return CERTNUM_MALFORMED;
	memcpy(out, sym, 4);
	out[4] = '-';
	memcpy(out + 5, sym + 4, 4);
	out[9] = '-';
	memcpy(out + 10, sym + 8, 4);
	out[CERTNUM_LEN] = '\0';
	return check_ok(sym) ? CERTNUM_OK : CERTNUM_BAD_CHECK;
}
