#ifndef CERTRACK_CERTNUM_H
#define CERTRACK_CERTNUM_H
/*
 * Certificate numbers: XXXX-XXXX-XXXX, twelve Crockford base32 symbols
 * (0123456789ABCDEFGHJKMNPQRSTVWXYZ) of which the last is a Luhn mod 32
 * check symbol over the first eleven.  Pure (no I/O); the same algorithm as
 * the SQL certificate_check_symbol() and certificate_number_valid()
 * (docs/data-model.md, docs/certificates.md), so a mistyped number is
 * caught before any lookup.
 */
#include <stdbool.h>
#include <stddef.h>

/* Symbols in a number, data symbols, and the canonical text's length. */
#define CERTNUM_SYMBOLS 12
#define CERTNUM_DATA 11
#define CERTNUM_LEN 14		/* "XXXX-XXXX-XXXX" without the NUL */

enum certnum_result {
	CERTNUM_OK = 0,
	CERTNUM_MALFORMED = -1,	/* not twelve Crockford symbols */
	CERTNUM_BAD_CHECK = -2,	/* twelve symbols, wrong check symbol */
};

/*
 * The value 0..31 of the canonical upper-case symbol C, or -1 for anything
 * else (lower case, I, L, O, U, '-', ...).
 */
int certnum_value(char c);

/*
 * The Luhn mod 32 check symbol for the N canonical symbols DATA, or -1
 * when N is 0 or DATA holds anything but canonical symbols.  Agrees with
 * the SQL certificate_check_symbol() for any length.
 */
int certnum_check_symbol(const char *data, size_t n);

/*
 * True when S is a canonical number ("XXXX-XXXX-XXXX", upper case) with
 * the right check symbol; the SQL certificate_number_valid().
 */
bool certnum_valid(const char *s);

/*
 * Normalises a number as a person typed it: drops blanks and hyphens,
 * upper-cases, reads I and L as 1 and O as 0 (Crockford's decoding), and
 * regroups the twelve symbols as XXXX-XXXX-XXXX into OUT (CERTNUM_LEN + 1
 * bytes).  Returns CERTNUM_OK; CERTNUM_MALFORMED when what is left is not
 * twelve Crockford symbols (OUT is then the empty string); or
 * CERTNUM_BAD_CHECK when the check symbol is wrong (OUT still holds the
 * regrouped number, for the message).
 */
enum certnum_result certnum_normalize(const char *in, char *out);

#endif
