/*
 * server/importmap.c's sentences about a file: a long value is quoted
 * short and cut on a character boundary, so a row's message (stored as
 * text by the import's COPY, sent back as JSON) and a header's refusal
 * stay valid UTF-8 whatever the file held.  Found by the importmap fuzz
 * target (fuzz/corpus/importmap/crash-long-npi-cut-utf8).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "certrack/csvread.h"
#include "certrack/importmap.h"

/* "x" then N "é": every cut at an even byte count splits a character. */
static void
long_text(char *buf, int n)
{
	buf[0] = 'x';
	for (int i = 0; i < n; i++)
		memcpy(buf + 1 + 2 * i, "\xC3\xA9", 2);
	buf[1 + 2 * n] = '\0';
}

static int
utf8(const char *s)
{
	return csvread_utf8_valid(s, strlen(s));
}

static void
row_message_quotes_a_long_value_whole_characters(void **state)
{
	char *header[] = { "npi", "level", "kind", "score", "max_score",
	    "taken_on" };
	char npi[400], kind[400];
	char *row[] = { npi, "DN1", "written", "1", "2", "2025-01-01" };
	struct importmap m;
	struct import_row r;
	char err[300];

	(void)state;
	long_text(npi, 150);
	assert_int_equal(importmap_header(&m, IMPORT_RESULTS, 6, header, err,
	    sizeof(err)), 0);
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_true(utf8(r.message));
	/* 40 bytes at most: "x" and 19 whole characters, then "..." */
	assert_int_equal(strncmp(r.message, "'x", 2), 0);
	assert_non_null(strstr(r.message, "\xC3\xA9...' is not a valid NPI "
	    "(ten digits with a correct check digit)"));
	assert_int_equal(strlen(r.message), strlen("'x...' is not a valid "
	    "NPI (ten digits with a correct check digit)") + 38);

	/* a value of 40 bytes is quoted whole */
	long_text(kind, 19);
	assert_int_equal(strlen(kind), 39);
	strcat(kind, "z");
	row[0] = "1234567893";
	row[2] = kind;
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_int_equal(strncmp(r.message + 1, kind, 40), 0);
	assert_int_equal(strncmp(r.message + 41, "' is not", 8), 0);
}

static void
header_sentences_stay_utf8(void **state)
{
	char a[] = "npi", b[400], names[40][80];
	char *dup[] = { a, b };
	char *many[40];
	struct importmap m;
	char err[300];
	size_t len;

	(void)state;
	/* "N-P-I ééé..." also normalizes to "npi": the refusal quotes it
	 * short, for either parity of the cut */
	for (int n = 140; n < 150; n++) {
		snprintf(b, sizeof(b), "N-P-I ");
		for (int i = 0; i < n; i++)
			strcat(b, "\xC3\xA9");
		assert_int_equal(importmap_header(&m, IMPORT_RESULTS, 2, dup,
		    err, sizeof(err)), -1);
		assert_true(utf8(err));
		len = strlen(err);
		assert_true(len > 13);
		assert_string_equal(err + len - 13, "both give npi");
	}

	/* forty ignored headers of 61 bytes: whole names, as many as fit */
	for (int i = 0; i < 40; i++) {
		long_text(names[i], 30);
		many[i] = names[i];
	}
	importmap_header(&m, IMPORT_RESULTS, 40, many, err, sizeof(err));
	assert_true(utf8(m.ignored));
	len = strlen(m.ignored);
	assert_true(len > 400 && len < sizeof(m.ignored));
	assert_int_equal(m.ignored[len - 1], '\'');
}

/* The directory's roster columns: their headers, and the headers that
 * stay the course's and the license's. */
static void
directory_headers(void **state)
{
	char *header[] = { "First Name", "Last Name", "Email", "Credential",
	    "Level", "City", "State", "Listed", "Practice City",
	    "Practice State", "ZIP Code", "Public Contact", "Contact" };
	struct importmap m;
	char err[300];

	(void)state;
	assert_int_equal(importmap_header(&m, IMPORT_ROSTER, 13, header, err,
	    sizeof(err)), 0);
	assert_int_equal(m.field_of[R_LOCATION], 5);
	assert_int_equal(m.field_of[R_LICENSE_STATE], 6);
	assert_int_equal(m.field_of[R_LISTED], 7);
	assert_int_equal(m.field_of[R_PRACTICE_CITY], 8);
	assert_int_equal(m.field_of[R_PRACTICE_STATE], 9);
	assert_int_equal(m.field_of[R_PRACTICE_ZIP], 10);
	assert_int_equal(m.field_of[R_PUBLIC_CONTACT], 11);
	/* an attendee's "Contact" is never published */
	assert_int_equal(m.col_of_field[12], -1);
	assert_string_equal(m.ignored, "'Contact'");
}

/* Reads one roster row of the directory's columns after the required
 * five; returns importmap_row()'s answer. */
static int
directory_row(const char *listed, const char *city, const char *state,
    const char *zip, const char *contact, struct import_row *r)
{
	char *header[] = { "given_name", "family_name", "email",
	    "profession", "level", "directory_listed", "practice_city",
	    "practice_state", "practice_zip", "public_contact" };
	char *row[] = { "Jane", "Roe", "jane@example.org", "PT", "DN1",
	    (char *)listed, (char *)city, (char *)state, (char *)zip,
	    (char *)contact };
	struct importmap m;
	char err[300];

	assert_int_equal(importmap_header(&m, IMPORT_ROSTER, 10, header,
	    err, sizeof(err)), 0);
	return importmap_row(&m, 10, row, 0, r);
}

static void
directory_values(void **state)
{
	struct import_row r;
	char city[120];

	(void)state;
	/* read as the API reads them: the state upper-case, yes/no */
	assert_int_equal(directory_row("Yes", "Austin", "tx", "78701",
	    "(512) 555-0142", &r), 0);
	assert_string_equal(r.value[R_LISTED], "true");
	assert_string_equal(r.value[R_PRACTICE_STATE], "TX");
	assert_string_equal(r.value[R_PRACTICE_ZIP], "78701");
	assert_int_equal(directory_row("no", "", "", "", "", &r), 0);
	assert_string_equal(r.value[R_LISTED], "false");
	/* an empty cell, or blanks only, is no value: nothing changes */
	assert_int_equal(directory_row("", " ", "\t", "", "  ", &r), 0);
	for (int c = R_LISTED; c < R_NCOLS; c++)
		assert_null(r.value[c]);

	assert_int_equal(directory_row("maybe", "", "", "", "", &r), -1);
	assert_string_equal(r.bad_field, "directory_listed");
	assert_string_equal(r.message, "'maybe' is not yes or no");
	assert_int_equal(directory_row("", "", "Texas", "", "", &r), -1);
	assert_string_equal(r.bad_field, "practice_state");
	assert_string_equal(r.message, "'Texas' is not a two-letter state "
	    "code");
	/* five digits exactly: a ZIP+4 and a lost leading zero are not */
	assert_int_equal(directory_row("", "", "", "2139", "", &r), -1);
	assert_string_equal(r.bad_field, "practice_zip");
	assert_string_equal(r.message, "'2139' is not a ZIP code (five "
	    "digits)");
	assert_int_equal(directory_row("", "", "", "78701-1234", "", &r), -1);
	assert_string_equal(r.bad_field, "practice_zip");
	/* the limits of the one table: 100 characters of city */
	memset(city, 'a', 100);
	city[100] = '\0';
	assert_int_equal(directory_row("", city, "", "", "", &r), 0);
	strcat(city, "a");
	assert_int_equal(directory_row("", city, "", "", "", &r), -1);
	assert_string_equal(r.bad_field, "practice_city");
}

/* A CE file: the headers people write, whose activity each row is, and
 * the values read as the API reads them. */
static void
ce_rows(void **state)
{
	char *header[] = { "E-mail", "Activity", "Sponsor", "Date",
	    "CE Hours", "Notes" };
	char *only[] = { "Activity", "Date", "CE Hours" };
	char *row[] = { "a@example.org", "Safety", "  ", "3/7/2026", "1.50",
	    "x" };
	struct importmap m;
	struct import_row r;
	char err[300];

	(void)state;
	assert_int_equal(importmap_header(&m, IMPORT_CE, 3, only, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "needs a 'clinician_id', an 'npi' or an "
	    "'email' column"));
	assert_int_equal(importmap_header(&m, IMPORT_CE, 6, header, err,
	    sizeof(err)), 0);
	assert_int_equal(m.field_of[C_EMAIL], 0);
	assert_int_equal(m.field_of[C_PROVIDER], 2);
	assert_int_equal(m.col_of_field[5], -1);	/* Notes: ignored */
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), 0);
	assert_string_equal(r.value[C_COMPLETED_ON], "2026-03-07");
	assert_string_equal(r.value[C_HOURS], "1.5");
	assert_null(r.value[C_PROVIDER]);	/* blanks: empty */
	row[4] = "0";
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_string_equal(r.bad_field, "hours");
	row[4] = "1";
	row[1] = " ";
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_string_equal(r.bad_field, "title");
	assert_string_equal(r.message, "a value is required");
	row[1] = "Safety";
	row[0] = "not-an-email";
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_string_equal(r.bad_field, "email");
	/* a required date or hours of blanks is missing (found by the
	 * fuzzer: it was passed on as no value at all) */
	row[0] = "a@example.org";
	row[3] = " ";
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_string_equal(r.bad_field, "completed_on");
	assert_string_equal(r.message, "a value is required");
	row[3] = "3/7/2026";
	row[4] = "\t";
	assert_int_equal(importmap_row(&m, 6, row, 0, &r), -1);
	assert_string_equal(r.bad_field, "hours");
	assert_string_equal(r.message, "a value is required");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(row_message_quotes_a_long_value_whole_characters),
		cmocka_unit_test(header_sentences_stay_utf8),
		cmocka_unit_test(directory_headers),
		cmocka_unit_test(directory_values),
		cmocka_unit_test(ce_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
