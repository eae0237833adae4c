#ifndef CERTRACK_STRNUM_H
#define CERTRACK_STRNUM_H
/*
 * Strict number parsing (after OpenBSD's strtonum): the whole string must be
 * a decimal number inside [min, max]; no blanks, no '+', no trailing junk,
 * no empty string ("-5" with min 0 is "too small", "-0" always "invalid").  Nothing here is locale-dependent.
 */

/*
 * Parses S into *OUT.  Returns 0, or -1 leaving *OUT untouched and setting
 * *ERRSTR (when not NULL) to a static "invalid", "too small" or "too large".
 */
int strnum_ll(const char *s, long long min, long long max, long long *out,
    const char **errstr);

/* strnum_ll() for int-sized ranges. */
int strnum_int(const char *s, int min, int max, int *out, const char **errstr);

/*
 * Parses a decimal with at most FRAC_DIGITS digits after the point
 * ("87", "87.5", "0.25"; not ".5", "1e3", "nan", " 1") into a count of
 * 10^-frac_digits units, so 87.5 with frac_digits 2 gives 8750.  Same
 * return convention and range checks (on the scaled value) as strnum_ll().
 */
int strnum_decimal(const char *s, int frac_digits, long long min,
    long long max, long long *out, const char **errstr);

#endif
