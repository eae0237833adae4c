#ifndef CERTRACK_APIFIELDS_H
#define CERTRACK_APIFIELDS_H
/*
 * Checking a request's JSON body against a handler's field list (unknown,
 * missing, null and mistyped fields each refused with the field named) and
 * reading fields as text for SQL parameters.  Pure (jansson and the shared
 * value readers, no database), so the fuzz target links it alone; the
 * handlers get it through apiutil.h.
 */
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "certrack/cterr.h"

/*
 * Field types.  Values are read by the readers the CLI and imports share
 * (lib/value.c): every FT_STRING field is held to its length in the one
 * table of limits (value_max_len()), by its name.
 */
enum field_type {
	FT_STRING,	/* non-empty after trimming, at most its length */
	FT_ID,		/* integer >= 1 */
	FT_INT,		/* any integer */
	FT_NUMBER,	/* integer or decimal number, >= 0 */
	FT_SCORE,	/* a number read by value_score() */
	FT_DATE,	/* "YYYY-MM-DD", a real calendar date (value_date()) */
	FT_STATE,	/* a license state (value_state()), stored upper-case
			 * in the body */
	FT_BOOL,
};

struct field {
	const char *name;
	enum field_type type;
	bool required;
	bool nullable;		/* JSON null allowed (clears the value) */
};

/*
 * Checks BODY (may be NULL) against FIELDS[0..N), and gives each FT_STATE
 * field its stored spelling in BODY.  Returns 0, or -1 with ERR: 400
 * missing_body, 400 unknown_field, 422 missing_field, 422 null_field, 422
 * wrong_type, and the value readers' 422 too_long, invalid_date,
 * invalid_license_state, invalid_score; FIELD names the field.
 */
int api_fields(json_t *body, const struct field *fields, size_t n,
    struct cterr *err);

/*
 * The text of field NAME for a SQL parameter (numbers printed exactly,
 * booleans as true/false), in BUF when it needs converting; NULL when the
 * field is absent or null.
 */
const char *api_text(const json_t *body, const char *name, char *buf,
    size_t len);

/* True when field NAME is present in BODY (null included). */
bool api_has(const json_t *body, const char *name);

/* True when S is a real calendar date written YYYY-MM-DD. */
bool api_date_valid(const char *s);

#endif
