#include "certrack/npi.h"

#include <string.h>

int
npi_check_digit(const char *first9)
{
	/* The constant 24 stands for the prefix 80840 (CMS's NPI standard). */
	int sum = 24;

	if (first9 == NULL || strlen(first9) != 9)
		return -1;
	for (int i = 0; i < 9; i++) {
		if (first9[i] < '0' || first9[i] > '9')
			return -1;
		int d = first9[i] - '0';
		/* Luhn doubles every other digit from the right of the payload;
		 * with a check digit to come, that is positions 0, 2, 4, 6, 8. */
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return '0' + (10 - sum % 10) % 10;
}

bool
npi_valid(const char *s)
{
	char first9[10];

	if (s == NULL || strlen(s) != 10)
		return false;
	memcpy(first9, s, 9);
	first9[9] = '\0';
	int c = npi_check_digit(first9);
	return c >= 0 && c == s[9];
}
