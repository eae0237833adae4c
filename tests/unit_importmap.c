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
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(row_message_quotes_a_long_value_whole_characters),
		cmocka_unit_test(header_sentences_stay_utf8),
		cmocka_unit_test(ce_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
