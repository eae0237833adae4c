#ifndef CERTRACK_NPI_H
#define CERTRACK_NPI_H
/*
 * National Provider Identifier checks: ten digits whose last is a Luhn check
 * digit computed over the prefix 80840 followed by the first nine digits.
 */
#include <stdbool.h>

/* True when S is exactly ten digits with a valid check digit. */
bool npi_valid(const char *s);

/*
 * The check digit ('0'..'9') for the nine digits FIRST9, or -1 when FIRST9
 * is not exactly nine digits.
 */
int npi_check_digit(const char *first9);

#endif
