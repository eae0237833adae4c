/*
 * server/importmap.c: a CSV import's header mapping and row checks.  The
 * first line is the header, every further line a row (fields split at
 * commas: the CSV reader has its own target), as server/import.c calls
 * them.  What must hold: a good row has every required column, dates
 * and scores in their one stored spelling, the score at most the maximum;
 * a refused row says why; and every sentence (header error, ignored
 * headers, row message) stays valid UTF-8 when the file was, since it is
 * stored in PostgreSQL and sent back as JSON.
 *
 * Input: byte 0 even for a roster, odd for a results sheet; then lines.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "certrack/csvread.h"
#include "certrack/importmap.h"
#include "certrack/value.h"

static const char T[] = "importmap";

/* Splits LINE at commas in place into FIELDS (at most MAX); the count. */
static int
split(char *line, char **fields, int max)
{
	int n = 0;

	for (char *p = line;; p++) {
		if (n < max)
			fields[n] = p;
		n += n < max;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		*p = '\0';
	}
	return n;
}

static int
utf8(const char *s)
{
	return csvread_utf8_valid(s, strlen(s));
}

static void
check_good(const struct importmap *m, const struct import_row *row)
{
	int ncols;
	const struct import_column *cols = importmap_columns(m->kind, &ncols);
	char iso[VALUE_DATE_LEN], sc[VALUE_SCORE_LEN];

	fuzz_require(row->message[0] == '\0' && row->bad_col == -1, T,
	    "a good row with a message");
	for (int c = 0; c < ncols; c++)
		if (cols[c].required)
			fuzz_require(row->value[c] != NULL, T,
			    "a good row without a required column");
	if (m->kind == IMPORT_ROSTER) {
		for (int c = R_COURSE_START; c <= R_COURSE_END; c++)
			if (row->value[c] != NULL)
				fuzz_require(value_date(row->value[c],
				    VALUE_DATE_ISO, iso, NULL) == 0 &&
				    strcmp(iso, row->value[c]) == 0, T,
				    "a course date not in its stored spelling");
		return;
	}
	if (m->kind == IMPORT_CE) {
		fuzz_require(value_date(row->value[C_COMPLETED_ON],
		    VALUE_DATE_ISO, iso, NULL) == 0, T,
		    "completed_on not a date");
		fuzz_require(value_hours(row->value[C_HOURS], sc, NULL) == 0 &&
		    strcmp(sc, row->value[C_HOURS]) == 0, T,
		    "hours not in their stored spelling");
		fuzz_require(row->value[C_CLINICIAN_ID] != NULL ||
		    row->value[C_NPI] != NULL || row->value[C_EMAIL] != NULL, T,
		    "a CE row naming nobody");
		return;
	}
	fuzz_require(value_date(row->value[X_TAKEN_ON], VALUE_DATE_ISO, iso,
	    NULL) == 0, T, "taken_on not a date");
	for (int c = X_SCORE; c <= X_MAX_SCORE; c++)
		fuzz_require(value_score("score", row->value[c], sc, NULL) == 0 &&
		    strcmp(sc, row->value[c]) == 0, T,
		    "a score not in its stored spelling");
	fuzz_require(strtod(row->value[X_SCORE], NULL) <=
	    strtod(row->value[X_MAX_SCORE], NULL), T, "score above maximum");
}

int
fuzz_importmap(const uint8_t *data, size_t size)
{
	static char *fields[CSVREAD_MAX_FIELDS + 1];
	struct importmap m;
	struct import_row row;
	char errbuf[300];	/* as server/import.c */
	char *text, *line, *next;
	int n, file_utf8;

	if (size < 1)
		return 0;
	text = fuzz_cstring(data + 1, size - 1);
	file_utf8 = utf8(text);
	line = text;
	next = strchr(line, '\n');
	if (next != NULL)
		*next++ = '\0';
	n = split(line, fields, CSVREAD_MAX_FIELDS + 1);
	/* the first byte picks the kind: 'c' a CE file, else odd results */
	if (importmap_header(&m, data[0] == 'c' ? IMPORT_CE : data[0] % 2 ?
	    IMPORT_RESULTS : IMPORT_ROSTER, n, fields, errbuf,
	    sizeof(errbuf)) != 0) {
		fuzz_require(errbuf[0] != '\0', T, "a refused header, no reason");
		fuzz_require(!file_utf8 || utf8(errbuf), T,
		    "the header's refusal is not UTF-8");
		goto out;
	}
	fuzz_require(!file_utf8 || utf8(m.ignored), T,
	    "the ignored headers are not UTF-8");
	while ((line = next) != NULL) {
		int bad = 0;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		n = split(line, fields, CSVREAD_MAX_FIELDS);
		for (int f = 0; f < n && bad == 0; f++)
			if (!utf8(fields[f]))
				bad = f + 1;
		if (importmap_row(&m, n, fields, bad, &row) == 0) {
			check_good(&m, &row);
			continue;
		}
		fuzz_require(row.message[0] != '\0', T, "a refused row, no reason");
		fuzz_require(!file_utf8 || (utf8(row.message) &&
		    utf8(row.bad_field)), T, "a row's refusal is not UTF-8");
	}
out:
	free(text);
	return 0;
}

FUZZ_ENTRY(fuzz_importmap)
