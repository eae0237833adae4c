#ifndef CERTRACK_VALUE_H
#define CERTRACK_VALUE_H
/*
 * One reader per value, shared by the three ways in: the API's field
 * reader (server/apiutil.c), the CLI's option parsing (cli/) and the CSV
 * row mapping (server/importmap.c).  Each reader either writes the value's
 * one stored spelling or refuses it with a stable problem code and the
 * same sentence wherever it came in (docs/data-model.md, "Values").  Pure:
 * no I/O, no allocation, nothing locale-dependent.
 */
#include <stdbool.h>
#include <stddef.h>

/* A refusal: CODE is a static problem code ("invalid_date", "too_long"),
 * DETAIL the lower-case sentence the API, the CLI and an import report
 * all print. */
struct value_err {
	const char *code;
	char detail[200];
};

/* Sizes of the readers' output buffers, terminating NUL included. */
#define VALUE_DATE_LEN 11	/* "YYYY-MM-DD" */
#define VALUE_STATE_LEN 3	/* "TX" */
#define VALUE_SCORE_LEN 24	/* "100000", "87.5", "0.0625" */

/* Scores: 0 to VALUE_SCORE_MAX, at most VALUE_SCORE_DECIMALS decimals. */
#define VALUE_SCORE_MAX 100000
#define VALUE_SCORE_DECIMALS 4

/* Which spellings of a date a way in takes. */
enum value_date_form {
	VALUE_DATE_ISO,		/* YYYY-MM-DD only (the API) */
	VALUE_DATE_TYPED,	/* also M/D/YYYY (the CLI and CSV files) */
};

/*
 * A real calendar date (years 1900 to 9999, Feb 29 only in leap years)
 * written YYYY-MM-DD, or with FORM VALUE_DATE_TYPED also M/D/YYYY (one or
 * two digits for month and day, four for the year: 3/7/2025, 03/07/2025).
 * Writes it as YYYY-MM-DD into OUT.  Returns 0, or -1 with ERR
 * invalid_date.
 */
int value_date(const char *s, enum value_date_form form,
    char out[VALUE_DATE_LEN], struct value_err *err);

/*
 * A license state: two ASCII letters, any case, written upper-case into
 * OUT ("tx" -> "TX").  Returns 0, or -1 with ERR invalid_license_state.
 */
int value_state(const char *s, char out[VALUE_STATE_LEN],
    struct value_err *err);

/*
 * Score field FIELD ("score", "max_score"): the syntax of a JSON number
 * ("85", "85.5", "1e2", "8.55E1"; not "+1", ".5", "1.", " 1", "0x10",
 * "nan"; "-0" is 0) whose value lies in 0 to
 * VALUE_SCORE_MAX with at most VALUE_SCORE_DECIMALS decimals, written
 * into OUT as its shortest exact decimal ("1e2" -> "100", "85.50" ->
 * "85.5").  The API reads JSON numbers, so the text syntax of the CLI and
 * CSV files is JSON's: the API cannot tell 1e2 from 100.0 (so the
 * refusal names the field, not the text, which the API only has as a
 * parsed number).  Returns 0, or -1 with ERR invalid_score.
 */
int value_score(const char *field, const char *s, char out[VALUE_SCORE_LEN],
    struct value_err *err);

/*
 * Continuing-education hours: a number in value_score()'s syntax above 0
 * and at most VALUE_HOURS_MAX with at most 2 decimals (the database holds
 * numeric(5, 2)), written as its shortest exact decimal.  Returns 0, or
 * -1 with ERR invalid_hours.
 */
#define VALUE_HOURS_MAX 100
int value_hours(const char *s, char out[VALUE_SCORE_LEN],
    struct value_err *err);

/*
 * The most characters text field FIELD may hold ("family_name" -> 100),
 * from the one table of limits; 0 when FIELD has no limit of its own.
 */
long value_max_len(const char *field);

/* The characters (UTF-8 code points) in S; a byte that is not a UTF-8
 * continuation byte counts as one. */
size_t value_chars(const char *s);

/*
 * Checks text field FIELD's value S against its limit: characters are
 * counted, not bytes, and the value is counted as given.  Returns 0, or
 * -1 with ERR too_long naming the field and the limit.
 */
int value_text(const char *field, const char *s, struct value_err *err);

/*
 * An email address: one '@' with something before it, a dot in the part
 * after it (not first, not last), no blanks, commas, semicolons or angle
 * brackets, at most the email field's length.  Returns 0, or -1 with ERR
 * invalid_email (or too_long).
 */
int value_email(const char *s, struct value_err *err);

/*
 * S for quoting back in a message: S itself when at most 40 bytes, else
 * its first 40 bytes or fewer, cut on a character boundary, and "..." in
 * BUF.  A message quoting it stays valid UTF-8 when S was, and short.
 */
#define VALUE_QUOTE_LEN 48
const char *value_quote(const char *s, char buf[VALUE_QUOTE_LEN]);
/* Whether S is empty or blanks only (space, tab, newline, CR, VT, FF):
 * what the API refuses as a text field's value and an import takes as an
 * empty cell. */
bool value_blank(const char *s);

/* A practice's ZIP code: five digits.  0, or -1 with ERR invalid_zip. */
int value_zip(const char *s, struct value_err *err);

#endif
