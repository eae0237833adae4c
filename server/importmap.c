#include "certrack/importmap.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "certrack/npi.h"
#include "certrack/strnum.h"
#include "certrack/value.h"

static const struct import_column roster_cols[R_NCOLS] = {
	[R_GIVEN] = { "given_name", true, "'given_name' or 'First Name'",
	    "givenname|firstname|first|given|forename|fname" },
	[R_FAMILY] = { "family_name", true, "'family_name', 'Last Name' or 'Surname'",
	    "familyname|lastname|last|surname|family|lname" },
	[R_EMAIL] = { "email", true, "'email' or 'E-mail'",
	    "email|emailaddress|mail|emailid" },
	[R_NPI] = { "npi", false, "'npi'",
	    "npi|npinumber|nationalprovideridentifier" },
	[R_PROFESSION] = { "profession", true, "'profession' or 'Credential'",
	    "profession|credential|credentials|licensetype|discipline|"
	    "degree|professiontitle" },
	[R_LICENSE_STATE] = { "license_state", false, "'license_state' or 'State'",
	    "licensestate|licencestate|state|licensingstate" },
	[R_LICENSE_NUMBER] = { "license_number", false, "'license_number' or 'License #'",
	    "licensenumber|licencenumber|licenseno|licence|license|"
	    "licensenum|licenseid" },
	[R_LEVEL] = { "level", true, "'level' or 'Course Level'",
	    "level|courselevel|course|levelcode" },
	[R_COURSE_START] = { "course_start", false, "'course_start' or 'Start Date'",
	    "coursestart|startdate|coursestartdate|start|coursedate|"
	    "startson|startedon" },
	[R_COURSE_END] = { "course_end", false, "'course_end' or 'End Date'",
	    "courseend|enddate|courseenddate|end|endson|endedon" },
	[R_LOCATION] = { "location", false, "'location' or 'Site'",
	    "location|site|venue|city|place" },
	[R_INSTRUCTOR] = { "instructor", false, "'instructor'",
	    "instructor|teacher|faculty|leadinstructor" },
	[R_COMPLETED] = { "completed", false, "'completed'",
	    "completed|complete|coursecompleted|completion|passedcourse" },
	/* The directory's (sql/0017_directory_import.sql).  "City" and
	 * "State" alone name the course's place and the license's state, and
	 * "Contact" alone is too likely the attendee's own email or phone to
	 * be published: none of them is read as a directory column. */
	[R_LISTED] = { "directory_listed", false, "'directory_listed' or "
	    "'Listed'", "directorylisted|listed|listindirectory|indirectory|"
	    "directory|directoryoptin|optin|optedin|publiclisting" },
	[R_PRACTICE_CITY] = { "practice_city", false, "'practice_city'",
	    "practicecity|cliniccity|officecity|directorycity" },
	[R_PRACTICE_STATE] = { "practice_state", false, "'practice_state'",
	    "practicestate|clinicstate|officestate|directorystate" },
	[R_PRACTICE_ZIP] = { "practice_zip", false, "'practice_zip' or 'ZIP'",
	    "practicezip|practicezipcode|zip|zipcode|postalcode|postcode|"
	    "cliniczip|officezip|directoryzip" },
	[R_PUBLIC_CONTACT] = { "public_contact", false, "'public_contact'",
	    "publiccontact|practicecontact|directorycontact|contactpublic" },
};

static const struct import_column results_cols[X_NCOLS] = {
	[X_NPI] = { "npi", false, "'npi'", "npi|npinumber|nationalprovideridentifier" },
	[X_EMAIL] = { "email", false, "'email'", "email|emailaddress|mail|emailid" },
	[X_LEVEL] = { "level", true, "'level'", "level|courselevel|course|levelcode" },
	[X_KIND] = { "kind", true, "'kind' or 'Exam'",
	    "kind|exam|examtype|type|examkind|component|part" },
	[X_SCORE] = { "score", true, "'score' or 'Points'", "score|points|result|mark|rawscore" },
	[X_MAX_SCORE] = { "max_score", true, "'max_score' or 'Out Of'",
	    "maxscore|max|outof|possible|maximum|total|maxpoints|"
	    "totalpoints|pointspossible" },
	[X_TAKEN_ON] = { "taken_on", true, "'taken_on' or 'Date Taken'",
	    "takenon|date|datetaken|examdate|taken|testdate|sitting" },
};

/* ---- continuing education (kind ce) ---------------------------------- */

static const struct import_column ce_cols[C_NCOLS] = {
	[C_CLINICIAN_ID] = { "clinician_id", false, "'clinician_id'",
	    "clinicianid|clinician|clinicianno|id" },
	[C_NPI] = { "npi", false, "'npi'", "npi|npinumber|nationalprovideridentifier" },
	[C_EMAIL] = { "email", false, "'email'", "email|emailaddress|mail|emailid" },
	[C_TITLE] = { "title", true, "'title' or 'Activity'",
	    "title|activity|activitytitle|coursetitle|coursename|course|name" },
	[C_PROVIDER] = { "provider", false, "'provider' or 'Sponsor'",
	    "provider|sponsor|organization|organisation|offeredby|host" },
	[C_COMPLETED_ON] = { "completed_on", true, "'completed_on' or 'Date'",
	    "completedon|date|completed|completiondate|datecompleted|"
	    "activitydate" },
	[C_HOURS] = { "hours", true, "'hours' or 'CE Hours'",
	    "hours|cehours|contacthours|credits|credithours" },
	[C_CATEGORY] = { "category", false, "'category'",
	    "category|cecategory|topic" },
	[C_EVIDENCE] = { "evidence", false, "'evidence' or 'Reference'",
	    "evidence|reference|evidencereference|proof|link|url" },
};

/* A header of a CE file says whose activity each row is. */
static int
ce_header(const struct importmap *m, char *errbuf, size_t errlen)
{
	if (m->field_of[C_CLINICIAN_ID] < 0 && m->field_of[C_NPI] < 0 &&
	    m->field_of[C_EMAIL] < 0) {
		snprintf(errbuf, errlen, "a CE file needs a 'clinician_id', an "
		    "'npi' or an 'email' column to say whose activity each row "
		    "is");
		return -1;
	}
	return 0;
}

static int bad(const struct importmap *m, struct import_row *row, int col,
    const char *fmt, const char *value);
static int refused(const struct importmap *m, struct import_row *row,
    int col, const struct value_err *ve);

/* True when S holds only blanks. */
static bool
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (!isspace((unsigned char)*s))
			return false;
	return true;
}

/* The values of a CE row, read as the API reads them (POST
 * /v1/clinicians/{id}/ce): the clinician, the date, the hours. */
static int
ce_row(const struct importmap *m, struct import_row *row)
{
	const char *id = row->value[C_CLINICIAN_ID], *npi = row->value[C_NPI];
	const char *email = row->value[C_EMAIL];
	struct value_err ve;
	long long n;

	/* the database keeps no text of blanks: an optional one is
	 * empty, a required one missing */
	for (int c = C_TITLE; c < C_NCOLS; c++) {
		if (row->value[c] == NULL || !blank(row->value[c]))
			continue;
		if (ce_cols[c].required)
			return bad(m, row, c, "a value is required", NULL);
		row->value[c] = NULL;
	}
	if (id == NULL && npi == NULL && email == NULL)
		return bad(m, row, m->field_of[C_CLINICIAN_ID] >= 0 ?
		    C_CLINICIAN_ID : m->field_of[C_NPI] >= 0 ? C_NPI : C_EMAIL,
		    "say whose activity this is (a clinician id, an NPI or an "
		    "email)", NULL);
	if (id != NULL) {
		if (strnum_ll(id, 1, INT64_MAX, &n, NULL) != 0)
			return bad(m, row, C_CLINICIAN_ID, "'%s' is not a "
			    "clinician id (a whole number above 0)", id);
	} else if (npi != NULL) {
		if (!npi_valid(npi))
			return bad(m, row, C_NPI, "'%s' is not a valid NPI "
			    "(ten digits with a correct check digit)", npi);
	} else if (value_email(email, &ve) != 0) {
		return refused(m, row, C_EMAIL, &ve);
	}
	if (value_date(row->value[C_COMPLETED_ON], VALUE_DATE_TYPED,
	    row->buf[C_COMPLETED_ON], &ve) != 0)
		return refused(m, row, C_COMPLETED_ON, &ve);
	row->value[C_COMPLETED_ON] = row->buf[C_COMPLETED_ON];
	if (value_hours(row->value[C_HOURS], row->buf[C_HOURS], &ve) != 0)
		return refused(m, row, C_HOURS, &ve);
	row->value[C_HOURS] = row->buf[C_HOURS];
	return 0;
}

/* ---- every kind ------------------------------------------------------- */

const struct import_column *
importmap_columns(enum import_kind kind, int *n)
{
	if (kind == IMPORT_CE) {
		*n = C_NCOLS;
		return ce_cols;
	}
	*n = kind == IMPORT_ROSTER ? R_NCOLS : X_NCOLS;
	return kind == IMPORT_ROSTER ? roster_cols : results_cols;
}

void
importmap_normalize(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *in != '\0' && o + 1 < outlen; in++)
		if (isalnum((unsigned char)*in))
			out[o++] = (char)tolower((unsigned char)*in);
	out[o] = '\0';
}

static bool
alias_match(const char *aliases, const char *name)
{
	size_t len = strlen(name);

	if (len == 0)
		return false;
	for (const char *p = aliases; *p != '\0';) {
		const char *bar = strchr(p, '|');
		size_t n = bar ? (size_t)(bar - p) : strlen(p);
		if (n == len && memcmp(p, name, n) == 0)
			return true;
		p += n + (bar != NULL);
	}
	return false;
}

int
importmap_header(struct importmap *m, enum import_kind kind, int n,
    char *const *fields, char *errbuf, size_t errlen)
{
	int ncols;
	const struct import_column *cols = importmap_columns(kind, &ncols);
	char norm[128];

	memset(m, 0, sizeof(*m));
	m->kind = kind;
	m->nfields = n;
	for (int c = 0; c < IMPORTMAP_MAX_COLS; c++)
		m->field_of[c] = -1;
	if (n > 256) {
		snprintf(errbuf, errlen, "the header has more than 256 columns");
		return -1;
	}
	for (int f = 0; f < n; f++) {
		m->col_of_field[f] = -1;
		importmap_normalize(fields[f], norm, sizeof(norm));
		for (int c = 0; c < ncols; c++) {
			if (!alias_match(cols[c].aliases, norm))
				continue;
			if (m->field_of[c] >= 0) {
				char q1[VALUE_QUOTE_LEN], q2[VALUE_QUOTE_LEN];
				snprintf(errbuf, errlen, "columns %d ('%s') and "
				    "%d ('%s') both give %s",
				    m->field_of[c] + 1,
				    value_quote(fields[m->field_of[c]], q1),
				    f + 1, value_quote(fields[f], q2),
				    cols[c].name);
				return -1;
			}
			m->field_of[c] = f;
			m->col_of_field[f] = c;
			break;
		}
		if (m->col_of_field[f] < 0) {
			/* Whole names only: a cut one could end inside a
			 * UTF-8 character. */
			char q[VALUE_QUOTE_LEN], one[VALUE_QUOTE_LEN + 8];
			size_t used = strlen(m->ignored);
			int len = snprintf(one, sizeof(one), "%s'%s'",
			    used ? ", " : "", value_quote(fields[f], q));
			if (used + (size_t)len < sizeof(m->ignored))
				memcpy(m->ignored + used, one, (size_t)len + 1);
		}
	}
	for (int c = 0; c < ncols; c++) {
		if (cols[c].required && m->field_of[c] < 0) {
			snprintf(errbuf, errlen, "the required column '%s' is "
			    "missing (a header such as %s)", cols[c].name,
			    cols[c].examples);
			return -1;
		}
	}
	if (kind == IMPORT_RESULTS && m->field_of[X_NPI] < 0 &&
	    m->field_of[X_EMAIL] < 0) {
		snprintf(errbuf, errlen, "a results sheet needs an 'npi' or "
		    "an 'email' column to say whose result each row is");
		return -1;
	}
	if (kind == IMPORT_CE)
		return ce_header(m, errbuf, errlen);
	return 0;
}

int
importmap_yesno(const char *s)
{
	static const char *const yes[] = { "yes", "y", "true", "t", "1", "x",
	    "completed", "complete", "done", "passed" };
	static const char *const no[] = { "no", "n", "false", "f", "0",
	    "incomplete", "notcompleted" };
	char norm[32];

	importmap_normalize(s, norm, sizeof(norm));
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strcmp(norm, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcmp(norm, no[i]) == 0)
			return 0;
	return -1;
}

static int
bad(const struct importmap *m, struct import_row *row, int col,
    const char *fmt, const char *value)
{
	int ncols;
	const struct import_column *cols = importmap_columns(m->kind, &ncols);
	char q[VALUE_QUOTE_LEN];

	row->bad_col = col;
	snprintf(row->bad_field, sizeof(row->bad_field), "%s",
	    col >= 0 ? cols[col].name : "");
	/* The value quoted short and cut on a character boundary: the
	 * message is stored as text and sent back as JSON. */
	snprintf(row->message, sizeof(row->message), fmt,
	    value ? value_quote(value, q) : "");
	return -1;
}

/* A refusal by one of the shared value readers, its sentence as is. */
static int
refused(const struct importmap *m, struct import_row *row, int col,
    const struct value_err *ve)
{
	bad(m, row, col, "", NULL);
	/* A whole sentence (it quotes its value short itself): fits. */
	snprintf(row->message, sizeof(row->message), "%s", ve->detail);
	return -1;
}

/* Yes/no column COL, when given, as "true" or "false" (COPY's spelling). */
static int
yesno(const struct importmap *m, struct import_row *row, int col)
{
	int yn;

	if (row->value[col] == NULL)
		return 0;
	if ((yn = importmap_yesno(row->value[col])) < 0)
		return bad(m, row, col, "'%s' is not yes or no",
		    row->value[col]);
	row->value[col] = yn ? "true" : "false";
	return 0;
}

static int
kind_of(const char *s)
{
	char norm[32];

	importmap_normalize(s, norm, sizeof(norm));
	if (strcmp(norm, "written") == 0 || strcmp(norm, "w") == 0 ||
	    strcmp(norm, "writtenexam") == 0 || strcmp(norm, "theory") == 0 ||
	    strcmp(norm, "knowledge") == 0)
		return 0;
	if (strcmp(norm, "practical") == 0 || strcmp(norm, "p") == 0 ||
	    strcmp(norm, "practicalexam") == 0 ||
	    strcmp(norm, "practicum") == 0 || strcmp(norm, "skills") == 0)
		return 1;
	return -1;
}

int
importmap_row(const struct importmap *m, int n, char *const *fields,
    int bad_utf8, struct import_row *row)
{
	int ncols;
	const struct import_column *cols = importmap_columns(m->kind, &ncols);
	struct value_err ve;

	memset(row, 0, sizeof(*row));
	row->bad_col = -1;
	for (int c = 0; c < ncols; c++) {
		int f = m->field_of[c];
		row->value[c] = f >= 0 && f < n && fields[f][0] != '\0' ?
		    fields[f] : NULL;
	}
	/* A directory cell of blanks only is an empty one: it leaves the
	 * clinician's value as it is, as an absent column does. */
	if (m->kind == IMPORT_ROSTER)
		for (int c = R_LISTED; c < R_NCOLS; c++)
			if (row->value[c] != NULL && value_blank(row->value[c]))
				row->value[c] = NULL;
	if (n != m->nfields) {
		snprintf(row->message, sizeof(row->message), "expected %d "
		    "fields as in the header, found %d", m->nfields, n);
		return -1;
	}
	if (bad_utf8 > 0) {
		int c = m->col_of_field[bad_utf8 - 1];
		if (c >= 0)
			row->value[c] = NULL;
		bad(m, row, c, "the text is not valid UTF-8 (save the file as "
		    "UTF-8)", NULL);
		if (c < 0)
			snprintf(row->bad_field, sizeof(row->bad_field),
			    "column %d", bad_utf8);
		return -1;
	}
	for (int c = 0; c < ncols; c++)
		if (cols[c].required && row->value[c] == NULL)
			return bad(m, row, c, "a value is required", NULL);
	/* Every text column against the one table of limits, by name. */
	for (int c = 0; c < ncols; c++)
		if (row->value[c] != NULL &&
		    value_text(cols[c].name, row->value[c], &ve) != 0)
			return refused(m, row, c, &ve);
	if (m->kind == IMPORT_CE)
		return ce_row(m, row);

	if (m->kind == IMPORT_ROSTER) {
		const char *npi = row->value[R_NPI], *st;
		if (npi != NULL && !npi_valid(npi))
			return bad(m, row, R_NPI, "'%s' is not a valid NPI "
			    "(ten digits with a correct check digit)", npi);
		if (value_email(row->value[R_EMAIL], &ve) != 0)
			return refused(m, row, R_EMAIL, &ve);
		st = row->value[R_LICENSE_STATE];
		if (st != NULL) {
			if (value_state(st, row->buf[R_LICENSE_STATE], &ve) != 0)
				return refused(m, row, R_LICENSE_STATE, &ve);
			row->value[R_LICENSE_STATE] = row->buf[R_LICENSE_STATE];
		}
		for (int c = R_COURSE_START; c <= R_COURSE_END; c++) {
			if (row->value[c] == NULL)
				continue;
			if (value_date(row->value[c], VALUE_DATE_TYPED,
			    row->buf[c], &ve) != 0)
				return refused(m, row, c, &ve);
			row->value[c] = row->buf[c];
		}
		if (row->value[R_COURSE_START] && row->value[R_COURSE_END] &&
		    strcmp(row->value[R_COURSE_END],
		    row->value[R_COURSE_START]) < 0)
			return bad(m, row, R_COURSE_END, "the course ends (%s) "
			    "before it starts", row->value[R_COURSE_END]);
		if (yesno(m, row, R_COMPLETED) != 0)
			return -1;
		if (row->value[R_COMPLETED] != NULL &&
		    strcmp(row->value[R_COMPLETED], "true") == 0 &&
		    row->value[R_COURSE_END] == NULL &&
		    row->value[R_COURSE_START] == NULL)
			return bad(m, row, R_COMPLETED, "a completed course "
			    "needs its dates (course_start or course_end)%s", "");
		/* The directory's, read as the API reads them. */
		if (yesno(m, row, R_LISTED) != 0)
			return -1;
		st = row->value[R_PRACTICE_STATE];
		if (st != NULL) {
			if (value_state(st, row->buf[R_PRACTICE_STATE], &ve) != 0)
				return refused(m, row, R_PRACTICE_STATE, &ve);
			row->value[R_PRACTICE_STATE] = row->buf[R_PRACTICE_STATE];
		}
		if (row->value[R_PRACTICE_ZIP] != NULL &&
		    value_zip(row->value[R_PRACTICE_ZIP], &ve) != 0)
			return refused(m, row, R_PRACTICE_ZIP, &ve);
		return 0;
	}

	const char *npi = row->value[X_NPI], *email = row->value[X_EMAIL];
	if (npi == NULL && email == NULL)
		return bad(m, row, m->field_of[X_NPI] >= 0 ? X_NPI : X_EMAIL,
		    "say whose result this is (an NPI or an email)", NULL);
	if (npi != NULL && !npi_valid(npi))
		return bad(m, row, X_NPI, "'%s' is not a valid NPI (ten digits "
		    "with a correct check digit)", npi);
	if (npi == NULL && value_email(email, &ve) != 0)
		return refused(m, row, X_EMAIL, &ve);
	int k = kind_of(row->value[X_KIND]);
	if (k < 0)
		return bad(m, row, X_KIND, "'%s' is not an exam kind (written "
		    "or practical)", row->value[X_KIND]);
	row->value[X_KIND] = k == 0 ? "written" : "practical";
	if (value_score(cols[X_SCORE].name, row->value[X_SCORE],
	    row->buf[X_SCORE], &ve) != 0)
		return refused(m, row, X_SCORE, &ve);
	if (value_score(cols[X_MAX_SCORE].name, row->value[X_MAX_SCORE],
	    row->buf[X_MAX_SCORE], &ve) != 0)
		return refused(m, row, X_MAX_SCORE, &ve);
	if (strcmp(row->buf[X_MAX_SCORE], "0") == 0)
		return bad(m, row, X_MAX_SCORE, "'%s' is not a maximum score "
		    "(a number above 0)", row->value[X_MAX_SCORE]);
	/* Compare as numbers: both are exact decimals, at most four places. */
	long long s, mx;
	strnum_decimal(row->buf[X_SCORE], VALUE_SCORE_DECIMALS, 0,
	    (long long)VALUE_SCORE_MAX * 10000, &s, NULL);
	strnum_decimal(row->buf[X_MAX_SCORE], VALUE_SCORE_DECIMALS, 0,
	    (long long)VALUE_SCORE_MAX * 10000, &mx, NULL);
	if (s > mx)
		return bad(m, row, X_SCORE, "the score %s is above the maximum "
		    "score", row->value[X_SCORE]);
	row->value[X_SCORE] = row->buf[X_SCORE];
	row->value[X_MAX_SCORE] = row->buf[X_MAX_SCORE];
	if (value_date(row->value[X_TAKEN_ON], VALUE_DATE_TYPED,
	    row->buf[X_TAKEN_ON], &ve) != 0)
		return refused(m, row, X_TAKEN_ON, &ve);
	row->value[X_TAKEN_ON] = row->buf[X_TAKEN_ON];
	return 0;
}
