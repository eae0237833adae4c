#ifndef CERTRACK_IMPORTMAP_H
#define CERTRACK_IMPORTMAP_H
/*
 * What a CSV import's columns mean: the columns of each kind with their
 * header aliases, the mapping of a header line onto them, and the checks a
 * row's values get before the database sees them (NPI check digit, email
 * syntax, yes/no, and the readers every way in shares: dates, license
 * states, scores and text lengths, lib/value.c).  Pure: no I/O.
 */
#include <stdbool.h>
#include <stddef.h>

enum import_kind { IMPORT_ROSTER, IMPORT_RESULTS, IMPORT_CE };

/* Column ids, per kind (the staging table has one text column each). */
enum roster_col {
	R_GIVEN, R_FAMILY, R_EMAIL, R_NPI, R_PROFESSION, R_LICENSE_STATE,
	R_LICENSE_NUMBER, R_LEVEL, R_COURSE_START, R_COURSE_END, R_LOCATION,
	R_INSTRUCTOR, R_COMPLETED,
	/* the directory's (optional; absent or empty: left as it is) */
	R_LISTED, R_PRACTICE_CITY, R_PRACTICE_STATE, R_PRACTICE_ZIP,
	R_PUBLIC_CONTACT,
	R_NCOLS
};
enum results_col {
	X_NPI, X_EMAIL, X_LEVEL, X_KIND, X_SCORE, X_MAX_SCORE, X_TAKEN_ON,
	X_NCOLS
};
/* continuing-education activities: the clinician by id, NPI or email */
enum ce_col {
	C_CLINICIAN_ID, C_NPI, C_EMAIL, C_TITLE, C_PROVIDER, C_COMPLETED_ON,
	C_HOURS, C_CATEGORY, C_EVIDENCE, C_NCOLS
};
#define IMPORTMAP_MAX_COLS 18

struct import_column {
	const char *name;		/* canonical, also the staging column */
	bool required;
	const char *examples;		/* headers people write, for messages */
	const char *aliases;		/* normalised, '|'-separated */
};

/* The columns of KIND and how many there are. */
const struct import_column *importmap_columns(enum import_kind kind,
    int *n);

/* Lower-case letters and digits only: "E-Mail Address" -> "emailaddress". */
void importmap_normalize(const char *in, char *out, size_t outlen);

struct importmap {
	enum import_kind kind;
	int nfields;			/* fields in the header line */
	int field_of[IMPORTMAP_MAX_COLS];	/* column -> field, or -1 */
	int col_of_field[256];		/* field -> column, or -1 (ignored) */
	char ignored[512];		/* ignored headers, ", "-separated,
					 * each quoted short, as many as fit */
};

/*
 * Maps header FIELDS[0..N) onto KIND's columns.  Returns 0, or -1 with a
 * message in ERRBUF: a missing required column (named, with the headers
 * accepted for it), a column given twice, no columns at all.
 */
int importmap_header(struct importmap *m, enum import_kind kind, int n,
    char *const *fields, char *errbuf, size_t errlen);

/* A checked row: the text of each column (NULL when empty), and the first
 * problem found, if any. */
struct import_row {
	const char *value[IMPORTMAP_MAX_COLS];
	char buf[IMPORTMAP_MAX_COLS][40];	/* normalised dates, numbers */
	int bad_col;			/* column id of the problem, or -1 */
	char bad_field[64];		/* the header of that column */
	char message[200];		/* "" when the row is good */
};

/*
 * Checks one data row against M.  BAD_UTF8 is the 1-based field csvread
 * found not UTF-8, or 0.  Fills ROW; returns 0 when good, -1 with the
 * problem in ROW.
 */
int importmap_row(const struct importmap *m, int n, char *const *fields,
    int bad_utf8, struct import_row *row);

/* yes/no/true/false/y/n/1/0/x (any case) -> 1/0; -1 otherwise. */
int importmap_yesno(const char *s);

#endif
