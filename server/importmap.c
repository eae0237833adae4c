#include "certrack/importmap.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "certrack/npi.h"
#include "certrack/strnum.h"

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

const struct import_column *
importmap_columns(enum import_kind kind, int *n)
{
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
				snprintf(errbuf, errlen, "columns %d ('%s') and "
				    "%d ('%s') both give %s",
				    m->field_of[c] + 1, fields[m->field_of[c]],
				    f + 1, fields[f], cols[c].name);
				return -1;
			}
			m->field_of[c] = f;
			m->col_of_field[f] = c;
			break;
		}
		if (m->col_of_field[f] < 0) {
			size_t used = strlen(m->ignored);
			snprintf(m->ignored + used, sizeof(m->ignored) - used,
			    "%s'%s'", used ? ", " : "", fields[f]);
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
	return 0;
}

int
importmap_date(const char *s, char out[11])
{
	int y, mo, d;
	char tmp[16];

	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-') {
		memcpy(out, s, 11);
	} else {
		/* US spreadsheets: M/D/YYYY */
		const char *a = strchr(s, '/'), *b = a ? strchr(a + 1, '/') : NULL;
		if (a == NULL || b == NULL || a - s > 2 || b - a > 3 ||
		    strlen(b + 1) != 4)
			return -1;
		memcpy(tmp, s, (size_t)(a - s));
		tmp[a - s] = '\0';
		if (strnum_int(tmp, 1, 12, &mo, NULL) != 0)
			return -1;
		memcpy(tmp, a + 1, (size_t)(b - a - 1));
		tmp[b - a - 1] = '\0';
		if (strnum_int(tmp, 1, 31, &d, NULL) != 0 ||
		    strnum_int(b + 1, 1900, 9999, &y, NULL) != 0)
			return -1;
		snprintf(out, 11, "%04d-%02d-%02d", y, mo, d);
	}
	/* Then the calendar: digits, month, day within the month. */
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)out[i]))
			return -1;
	y = (out[0] - '0') * 1000 + (out[1] - '0') * 100 +
	    (out[2] - '0') * 10 + (out[3] - '0');
	mo = (out[5] - '0') * 10 + (out[6] - '0');
	d = (out[8] - '0') * 10 + (out[9] - '0');
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	if (y < 1900 || mo < 1 || mo > 12 || d < 1)
		return -1;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[mo - 1] + (mo == 2 && leap) ? 0 : -1;
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

	row->bad_col = col;
	snprintf(row->bad_field, sizeof(row->bad_field), "%s",
	    col >= 0 ? cols[col].name : "");
	snprintf(row->message, sizeof(row->message), fmt, value ? value : "");
	return -1;
}

static bool
email_ok(const char *e)
{
	const char *at = strchr(e, '@');

	return at != NULL && at != e && strchr(at + 1, '@') == NULL &&
	    strchr(at, '.') != NULL && at[strlen(at) - 1] != '.' &&
	    at[1] != '.' && strpbrk(e, " \t\r\n,;<>") == NULL &&
	    strlen(e) <= 254;
}

/* Scores: decimals with up to 4 places, 0 .. 100000. */
static int
number(const char *s, char out[40])
{
	long long v;

	if (strnum_decimal(s, 4, 0, 100000LL * 10000, &v, NULL) != 0)
		return -1;
	/* the shortest exact text: 88, 87.5, 0.125 (as the API stores) */
	int n = snprintf(out, 40, "%lld.%04lld", v / 10000, v % 10000);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
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

	memset(row, 0, sizeof(*row));
	row->bad_col = -1;
	for (int c = 0; c < ncols; c++) {
		int f = m->field_of[c];
		row->value[c] = f >= 0 && f < n && fields[f][0] != '\0' ?
		    fields[f] : NULL;
	}
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

	if (m->kind == IMPORT_ROSTER) {
		const char *npi = row->value[R_NPI], *st;
		if (npi != NULL && !npi_valid(npi))
			return bad(m, row, R_NPI, "'%s' is not a valid NPI "
			    "(ten digits with a correct check digit)", npi);
		if (!email_ok(row->value[R_EMAIL]))
			return bad(m, row, R_EMAIL, "'%s' is not an email "
			    "address", row->value[R_EMAIL]);
		st = row->value[R_LICENSE_STATE];
		if (st != NULL) {
			if (strlen(st) != 2 || !isalpha((unsigned char)st[0]) ||
			    !isalpha((unsigned char)st[1]))
				return bad(m, row, R_LICENSE_STATE, "'%s' is not "
				    "a two-letter state code", st);
			row->buf[R_LICENSE_STATE][0] =
			    (char)toupper((unsigned char)st[0]);
			row->buf[R_LICENSE_STATE][1] =
			    (char)toupper((unsigned char)st[1]);
			row->value[R_LICENSE_STATE] = row->buf[R_LICENSE_STATE];
		}
		for (int c = R_COURSE_START; c <= R_COURSE_END; c++) {
			if (row->value[c] == NULL)
				continue;
			if (importmap_date(row->value[c], row->buf[c]) != 0)
				return bad(m, row, c, "'%s' is not a date "
				    "(write YYYY-MM-DD)", row->value[c]);
			row->value[c] = row->buf[c];
		}
		if (row->value[R_COURSE_START] && row->value[R_COURSE_END] &&
		    strcmp(row->value[R_COURSE_END],
		    row->value[R_COURSE_START]) < 0)
			return bad(m, row, R_COURSE_END, "the course ends (%s) "
			    "before it starts", row->value[R_COURSE_END]);
		if (row->value[R_COMPLETED] != NULL) {
			int yn = importmap_yesno(row->value[R_COMPLETED]);
			if (yn < 0)
				return bad(m, row, R_COMPLETED, "'%s' is not "
				    "yes or no", row->value[R_COMPLETED]);
			row->value[R_COMPLETED] = yn ? "true" : "false";
			if (yn && row->value[R_COURSE_END] == NULL &&
			    row->value[R_COURSE_START] == NULL)
				return bad(m, row, R_COMPLETED, "a completed "
				    "course needs its dates (course_start or "
				    "course_end)%s", "");
		}
		return 0;
	}

	const char *npi = row->value[X_NPI], *email = row->value[X_EMAIL];
	if (npi == NULL && email == NULL)
		return bad(m, row, m->field_of[X_NPI] >= 0 ? X_NPI : X_EMAIL,
		    "say whose result this is (an NPI or an email)", NULL);
	if (npi != NULL && !npi_valid(npi))
		return bad(m, row, X_NPI, "'%s' is not a valid NPI (ten digits "
		    "with a correct check digit)", npi);
	if (npi == NULL && !email_ok(email))
		return bad(m, row, X_EMAIL, "'%s' is not an email address",
		    email);
	int k = kind_of(row->value[X_KIND]);
	if (k < 0)
		return bad(m, row, X_KIND, "'%s' is not an exam kind (written "
		    "or practical)", row->value[X_KIND]);
	row->value[X_KIND] = k == 0 ? "written" : "practical";
	if (number(row->value[X_SCORE], row->buf[X_SCORE]) != 0)
		return bad(m, row, X_SCORE, "'%s' is not a score (a number of "
		    "at least 0)", row->value[X_SCORE]);
	if (number(row->value[X_MAX_SCORE], row->buf[X_MAX_SCORE]) != 0 ||
	    strcmp(row->buf[X_MAX_SCORE], "0") == 0)
		return bad(m, row, X_MAX_SCORE, "'%s' is not a maximum score "
		    "(a number above 0)", row->value[X_MAX_SCORE]);
	/* Compare as numbers: both are fixed-point with four places. */
	long long s, mx;
	strnum_decimal(row->buf[X_SCORE], 4, 0, 100000LL * 10000, &s, NULL);
	strnum_decimal(row->buf[X_MAX_SCORE], 4, 0, 100000LL * 10000, &mx,
	    NULL);
	if (s > mx)
		return bad(m, row, X_SCORE, "the score %s is above the maximum "
		    "score", row->value[X_SCORE]);
	row->value[X_SCORE] = row->buf[X_SCORE];
	row->value[X_MAX_SCORE] = row->buf[X_MAX_SCORE];
	if (importmap_date(row->value[X_TAKEN_ON], row->buf[X_TAKEN_ON]) != 0)
		return bad(m, row, X_TAKEN_ON, "'%s' is not a date (write "
		    "YYYY-MM-DD)", row->value[X_TAKEN_ON]);
	row->value[X_TAKEN_ON] = row->buf[X_TAKEN_ON];
	return 0;
}
