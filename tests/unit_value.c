/*
 * Unit tests of lib/value.c: the one reader of each value that the API,
 * the CLI and CSV imports share (dates, license states, scores, text
 * lengths), on every boundary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/value.h"

/* ---- dates --------------------------------------------------------- */

static void
date_ok(const char *s, enum value_date_form form, const char *want)
{
	char out[VALUE_DATE_LEN] = "untouched";
	struct value_err ve = { NULL, "" };

	if (value_date(s, form, out, &ve) != 0)
		fail_msg("value_date('%s') refused: %s", s, ve.detail);
	assert_string_equal(out, want);
}

static void
date_bad(const char *s, enum value_date_form form)
{
	char out[VALUE_DATE_LEN];
	struct value_err ve = { NULL, "" };
	char want[200];

	if (value_date(s, form, out, &ve) == 0)
		fail_msg("value_date('%s') accepted it as %s", s, out);
	assert_string_equal(ve.code, "invalid_date");
	snprintf(want, sizeof(want), "'%s' is not a date (write YYYY-MM-DD)",
	    s);
	assert_string_equal(ve.detail, want);
}

static void
test_date_iso(void **state)
{
	(void)state;
	for (int f = VALUE_DATE_ISO; f <= VALUE_DATE_TYPED; f++) {
		date_ok("2025-03-07", f, "2025-03-07");
		/* Feb 29: leap years only (every 4th, not centuries but 400s) */
		date_ok("2024-02-29", f, "2024-02-29");
		date_ok("2000-02-29", f, "2000-02-29");
		date_bad("2025-02-29", f);
		date_bad("1900-02-29", f);
		date_ok("2025-02-28", f, "2025-02-28");
		date_bad("2025-02-30", f);
		/* month and day ends */
		date_ok("2025-01-31", f, "2025-01-31");
		date_bad("2025-01-32", f);
		date_ok("2025-04-30", f, "2025-04-30");
		date_bad("2025-04-31", f);
		date_ok("2025-12-31", f, "2025-12-31");
		date_bad("2025-13-01", f);
		date_bad("2025-00-10", f);
		date_bad("2025-01-00", f);
		/* years 1900 to 9999 */
		date_ok("1900-01-01", f, "1900-01-01");
		date_bad("1899-12-31", f);
		date_ok("9999-12-31", f, "9999-12-31");
		/* shape */
		date_bad("", f);
		date_bad("2025-3-07", f);
		date_bad("2025-03-07 ", f);
		date_bad(" 2025-03-07", f);
		date_bad("2025/03/07", f);
		date_bad("20250307", f);
		date_bad("2025-03-0x", f);
		date_bad("yesterday", f);
	}
}

static void
test_date_typed(void **state)
{
	(void)state;
	/* M/D/YYYY only where a person types or a spreadsheet writes */
	date_ok("3/7/2025", VALUE_DATE_TYPED, "2025-03-07");
	date_bad("3/7/2025", VALUE_DATE_ISO);
	date_ok("03/07/2025", VALUE_DATE_TYPED, "2025-03-07");
	date_ok("12/31/2025", VALUE_DATE_TYPED, "2025-12-31");
	date_ok("2/29/2024", VALUE_DATE_TYPED, "2024-02-29");
	date_bad("2/29/2025", VALUE_DATE_TYPED);
	date_ok("2/28/2025", VALUE_DATE_TYPED, "2025-02-28");
	date_bad("2/30/2025", VALUE_DATE_TYPED);
	date_bad("13/1/2025", VALUE_DATE_TYPED);	/* not D/M/YYYY */
	date_bad("0/1/2025", VALUE_DATE_TYPED);
	date_bad("1/0/2025", VALUE_DATE_TYPED);
	date_bad("1/32/2025", VALUE_DATE_TYPED);
	date_ok("1/1/1900", VALUE_DATE_TYPED, "1900-01-01");
	date_bad("12/31/1899", VALUE_DATE_TYPED);
	date_bad("3/7/25", VALUE_DATE_TYPED);		/* two-digit year */
	date_bad("3/7/02025", VALUE_DATE_TYPED);
	date_bad("003/7/2025", VALUE_DATE_TYPED);
	date_bad("3/007/2025", VALUE_DATE_TYPED);
	date_bad("/7/2025", VALUE_DATE_TYPED);
	date_bad("3//2025", VALUE_DATE_TYPED);
	date_bad("3/7/", VALUE_DATE_TYPED);
	date_bad("3/7/2025/1", VALUE_DATE_TYPED);
	date_bad("+3/7/2025", VALUE_DATE_TYPED);
	date_bad("3-7-2025", VALUE_DATE_TYPED);
}

/* A long refused value is quoted cut on a character boundary. */
static void
test_date_message_cut(void **state)
{
	char s[64], out[VALUE_DATE_LEN];
	struct value_err ve;

	(void)state;
	/* 39 ASCII bytes, then "é" (2 bytes) straddling byte 40 */
	memset(s, 'x', 39);
	strcpy(s + 39, "\xc3\xa9yyyyyyyyyy");
	assert_int_equal(value_date(s, VALUE_DATE_TYPED, out, &ve), -1);
	char want[200];
	snprintf(want, sizeof(want), "'%.39s...' is not a date (write "
	    "YYYY-MM-DD)", s);
	assert_string_equal(ve.detail, want);
	/* exactly 40 bytes are quoted whole */
	memset(s, 'x', 40);
	s[40] = '\0';
	assert_int_equal(value_date(s, VALUE_DATE_TYPED, out, &ve), -1);
	snprintf(want, sizeof(want), "'%s' is not a date (write YYYY-MM-DD)",
	    s);
	assert_string_equal(ve.detail, want);
	/* a NULL err is allowed */
	assert_int_equal(value_date("x", VALUE_DATE_ISO, out, NULL), -1);
}

/* ---- license states ----------------------------------------------- */

static void
state_ok(const char *s, const char *want)
{
	char out[VALUE_STATE_LEN];
	struct value_err ve;

	if (value_state(s, out, &ve) != 0)
		fail_msg("value_state('%s') refused: %s", s, ve.detail);
	assert_string_equal(out, want);
}

static void
state_bad(const char *s)
{
	char out[VALUE_STATE_LEN], want[200];
	struct value_err ve;

	if (value_state(s, out, &ve) == 0)
		fail_msg("value_state('%s') accepted it as %s", s, out);
	assert_string_equal(ve.code, "invalid_license_state");
	snprintf(want, sizeof(want), "'%s' is not a two-letter state code", s);
	assert_string_equal(ve.detail, want);
}

static void
test_state(void **state)
{
	(void)state;
	state_ok("TX", "TX");
	state_ok("tx", "TX");
	state_ok("Tx", "TX");
	state_ok("tX", "TX");
	state_ok("az", "AZ");
	state_ok("Zz", "ZZ");
	state_bad("T");
	state_bad("");
	state_bad("TXS");
	state_bad("Texas");
	state_bad("T1");
	state_bad("1X");
	state_bad(" T");
	state_bad("T ");
	state_bad("@X");	/* the characters either side of A-Z, a-z */
	state_bad("[X");
	state_bad("`X");
	state_bad("{X");
	state_bad("\xc3\xa9");	/* two bytes, one letter, not ASCII */
}

/* ---- scores -------------------------------------------------------- */

static void
score_ok(const char *s, const char *want)
{
	char out[VALUE_SCORE_LEN];
	struct value_err ve;

	if (value_score("score", s, out, &ve) != 0)
		fail_msg("value_score('%s') refused: %s", s, ve.detail);
	assert_string_equal(out, want);
}

static void
score_bad(const char *s)
{
	char out[VALUE_SCORE_LEN];
	struct value_err ve;

	if (value_score("max_score", s, out, &ve) == 0)
		fail_msg("value_score('%s') accepted it as %s", s, out);
	assert_string_equal(ve.code, "invalid_score");
	assert_string_equal(ve.detail, "the field 'max_score' must be a number "
	    "from 0 to 100000 with at most 4 decimals");
}

static void
test_score(void **state)
{
	(void)state;
	score_ok("85", "85");
	score_ok("85.5", "85.5");
	score_ok("85.50", "85.5");
	score_ok("085", "85");
	score_ok("0", "0");
	score_ok("0.0", "0");
	score_ok("-0", "0");		/* JSON's -0 is 0 */
	score_ok("100", "100");
	/* JSON's exponents: the API cannot tell 1e2 from 100.0 */
	score_ok("1e2", "100");
	score_ok("1E2", "100");
	score_ok("1e+2", "100");
	score_ok("8.55e1", "85.5");
	score_ok("855e-1", "85.5");
	score_ok("1e-4", "0.0001");
	score_bad("1e-5");
	score_ok("0e5", "0");
	/* range: 0 to 100000 */
	score_ok("100000", "100000");
	score_ok("100000.0000", "100000");
	score_ok("1e5", "100000");
	score_bad("100000.0001");
	score_bad("100001");
	score_bad("1e6");
	score_ok("99999.9999", "99999.9999");
	score_bad("-1");
	score_bad("-0.0001");
	score_bad("-1e2");
	/* four decimals, no more (trailing zeros are not precision) */
	score_ok("0.0001", "0.0001");
	score_bad("0.00001");
	score_ok("0.00010", "0.0001");
	score_ok("12.3400000000000000000000000000", "12.34");
	score_bad("12.3400000000000000000000000001");
	/* huge and tiny magnitudes refused, not wrapped */
	score_bad("99999999999999999999999999999999");
	score_bad("1e1000");
	score_bad("1e99999999999999999999");
	/* syntax: JSON's number grammar */
	score_bad("");
	score_bad("+1");
	score_bad(".5");
	score_bad("1.");
	score_bad("1..5");
	score_bad("1.5.2");
	score_bad(" 1");
	score_bad("1 ");
	score_bad("1e");
	score_bad("1e+");
	score_bad("e2");
	score_bad("0x10");
	score_bad("nan");
	score_bad("inf");
	score_bad("1,5");
	score_bad("-");
}

/* ---- text lengths -------------------------------------------------- */

/* N copies of UNIT (a UTF-8 character), caller frees. */
static char *
repeat(const char *unit, long n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * (size_t)n + 1);

	assert_non_null(s);
	for (long i = 0; i < n; i++)
		memcpy(s + (size_t)i * len, unit, len);
	s[len * (size_t)n] = '\0';
	return s;
}

static void
test_text_table(void **state)
{
	static const struct { const char *field; long max; } want[] = {
		{ "given_name", 100 }, { "family_name", 100 },
		{ "email", 254 }, { "profession", 100 },
		{ "license_number", 32 }, { "location", 200 },
		{ "instructor", 200 }, { "title", 200 }, { "reason", 500 },
		{ "note", 500 }, { "username", 128 },
	};
	struct value_err ve;
	char msg[200];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		long max = want[i].max;
		assert_int_equal(value_max_len(want[i].field), max);
		/* exactly the limit, in ASCII and in 2-, 3- and 4-byte
		 * characters: characters count, not bytes */
		static const char *const units[] = { "a", "\xc3\xa9",
		    "\xe2\x82\xac", "\xf0\x9f\x98\x80" };
		for (size_t u = 0; u < 4; u++) {
			char *s = repeat(units[u], max);
			assert_int_equal(value_chars(s), (size_t)max);
			if (value_text(want[i].field, s, &ve) != 0)
				fail_msg("%s: %ld characters refused",
				    want[i].field, max);
			free(s);
			s = repeat(units[u], max + 1);
			assert_int_equal(value_text(want[i].field, s, &ve), -1);
			assert_string_equal(ve.code, "too_long");
			snprintf(msg, sizeof(msg), "the field '%s' may have at "
			    "most %ld characters", want[i].field, max);
			assert_string_equal(ve.detail, msg);
			free(s);
		}
	}
	/* fields with no limit of their own */
	assert_int_equal(value_max_len("level"), 0);
	assert_int_equal(value_max_len(""), 0);
	assert_int_equal(value_max_len("Family_Name"), 0);
	char *s = repeat("a", 5000);
	assert_int_equal(value_text("level", s, &ve), 0);
	free(s);
	assert_int_equal(value_chars(""), 0);
	/* a stray continuation byte does not count; a lead byte does */
	assert_int_equal(value_chars("a\x80"), 1);
	assert_int_equal(value_chars("\xc3"), 1);
}

/* ---- CE hours ------------------------------------------------------- */

/* Above 0, at most 100, whole hundredths: each edge and one step past. */
static void
test_hours(void **state)
{
	static const struct { const char *in, *out; } ok[] = {
		{ "0.01", "0.01" }, { "100", "100" }, { "100.00", "100" },
		{ "12.5", "12.5" }, { "1e1", "10" }, { "99.99", "99.99" },
	};
	static const char *const bad[] = { "0", "-0", "100.01", "1.005",
	    "0.001", "-1", "", "x", "1e3", " 1", "1." };
	char out[VALUE_SCORE_LEN];
	struct value_err ve;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(value_hours(ok[i].in, out, &ve), 0);
		assert_string_equal(out, ok[i].out);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (value_hours(bad[i], out, &ve) != -1)
			fail_msg("'%s' was taken as hours", bad[i]);
		assert_string_equal(ve.code, "invalid_hours");
	}
	assert_string_equal(ve.detail, "the field 'hours' must be a number "
	    "above 0 and at most 100, with at most 2 decimals");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hours),
		cmocka_unit_test(test_date_iso),
		cmocka_unit_test(test_date_typed),
		cmocka_unit_test(test_date_message_cut),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_score),
		cmocka_unit_test(test_text_table),
	};

	return cmocka_run_group_tests_name("unit_value", tests, NULL, NULL);
}
