/*
 * Integration tests of the domain model's constraints (sql/0001_schema.sql)
 * and of the default program's seed (sql/0002_seed.sql).
 *
 * Each test tries the impossible record and expects the exact SQLSTATE, and
 * stores the nearest valid record, so a constraint that is too loose and one
 * that is too strict both fail.  All tests share one migrated database; every
 * test uses its own e-mail addresses, NPIs and certificate numbers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "certrack/npi.h"
#include "testlib.h"

#define CHECK_VIOLATION "23514"
#define UNIQUE_VIOLATION "23505"
#define FK_VIOLATION "23503"
#define NOT_NULL_VIOLATION "23502"
#define INTEGRITY_VIOLATION "23000"

#define SQL_MAX 2048

/* A clinician of profession PT with no NPI; e-mail TAG@example.org. */
#define CLINICIAN_COLS "email, given_name, family_name, profession_code"
#define LEVEL(code) "(SELECT id FROM levels WHERE code = '" code "')"
#define RESULT_COLS \
	"clinician_id, level_id, kind, attempt, score, max_score, pass_mark, " \
	"passed, taken_on"

static void sqlv(char *buf, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
sqlv(char *buf, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, SQL_MAX, fmt, ap);

	assert_true(n > 0 && n < SQL_MAX);
}

static void ok(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs the formatted SQL and fails the test unless it succeeds. */
static void
ok(PGconn *conn, const char *fmt, ...)
{
	char sql[SQL_MAX];
	va_list ap;

	va_start(ap, fmt);
	sqlv(sql, fmt, ap);
	va_end(ap);
	testdb_exec_ok(conn, sql);
}

static void fails(PGconn *conn, const char *sqlstate, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs the formatted SQL and fails the test unless it fails with SQLSTATE. */
static void
fails(PGconn *conn, const char *sqlstate, const char *fmt, ...)
{
	char sql[SQL_MAX];
	va_list ap;

	va_start(ap, fmt);
	sqlv(sql, fmt, ap);
	va_end(ap);
	testdb_exec_fails(conn, sql, sqlstate);
}

static void value_is(PGconn *conn, const char *want, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs the formatted one-value query and compares its value with WANT
 * (NULL for SQL NULL). */
static void
value_is(PGconn *conn, const char *want, const char *fmt, ...)
{
	char sql[SQL_MAX];
	va_list ap;
	char *got;

	va_start(ap, fmt);
	sqlv(sql, fmt, ap);
	va_end(ap);
	got = testdb_value(conn, sql);
	if (want == NULL) {
		if (got != NULL)
			fail_msg("%s: expected NULL, got '%s'", sql, got);
	} else {
		if (got == NULL)
			fail_msg("%s: expected '%s', got NULL", sql, want);
		if (strcmp(got, want) != 0)
			fail_msg("%s: expected '%s', got '%s'", sql, want, got);
	}
	free(got);
}

/* Stores a PT clinician with e-mail TAG@example.org; its id goes to ID. */
static void
new_clinician(PGconn *conn, const char *tag, char id[static 32])
{
	char sql[SQL_MAX];
	char *v;

	snprintf(sql, sizeof sql,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('%s@example.org', 'Given', 'Family', 'PT') RETURNING id",
	    tag);
	v = testdb_value(conn, sql);
	assert_non_null(v);
	assert_true(strlen(v) < 32);
	strcpy(id, v);
	free(v);
}

/* ---- group setup ------------------------------------------------------- */

static int
group_setup(void **state)
{
	PGconn *conn = testdb_migrated("certrack_integ_schema", NULL);

	if (conn == NULL)
		return -1;
	*state = conn;
	return 0;
}

static int
group_teardown(void **state)
{
	PQfinish(*state);
	return 0;
}

/* ---- clinicians ---------------------------------------------------------- */

static void
test_npi_shape(void **state)
{
	PGconn *conn = *state;
	static const char *const bad[] = {
		"12345", "12345678930", "123456789a", " 1234567893", "",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		fails(conn, CHECK_VIOLATION,
		    "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
		    "VALUES ('%s', 'npishape%zu@example.org', 'A', 'B', 'PT')",
		    bad[i], i);
	ok(conn, "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES ('9876543213', 'npishape@example.org', 'A', 'B', 'PT')");
	/* NPI is optional */
	ok(conn, "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES (NULL, 'npinull@example.org', 'A', 'B', 'PT')");
}

static void
test_npi_check_digit(void **state)
{
	PGconn *conn = *state;

	/* The published example 123456789 has check digit 3. */
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES ('1234567890', 'npidigit@example.org', 'A', 'B', 'PT')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES ('1234567894', 'npidigit@example.org', 'A', 'B', 'PT')");
	ok(conn, "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES ('1234567893', 'npidigit@example.org', 'A', 'B', 'PT')");
}

/* The SQL npi_valid() and the C npi_valid() agree, one check digit of ten
 * being right for every nine-digit prefix. */
static void
test_npi_valid_matches_c(void **state)
{
	PGconn *conn = *state;
	char npi[16];
	unsigned prefix = 100000000;

	for (int i = 0; i < 60; i++, prefix += 13579137) {
		int valid = 0;

		for (int d = 0; d < 10; d++) {
			snprintf(npi, sizeof npi, "%09u%d", prefix % 1000000000, d);
			value_is(conn, npi_valid(npi) ? "t" : "f",
			    "SELECT npi_valid('%s')", npi);
			valid += npi_valid(npi);
		}
		assert_int_equal(valid, 1);
	}
	value_is(conn, "f", "SELECT npi_valid('abcdefghij')");
	value_is(conn, NULL, "SELECT npi_valid(NULL)");
}

static void
test_npi_unique(void **state)
{
	PGconn *conn = *state;

	ok(conn, "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES ('1111111112', 'npiuniq1@example.org', 'A', 'B', 'PT')");
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO clinicians (npi, " CLINICIAN_COLS ") "
	    "VALUES ('1111111112', 'npiuniq2@example.org', 'A', 'B', 'PT')");
	/* many clinicians without an NPI */
	ok(conn, "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('npiuniq3@example.org', 'A', 'B', 'PT'), "
	    "       ('npiuniq4@example.org', 'A', 'B', 'PT')");
}

static void
test_email_shape(void **state)
{
	PGconn *conn = *state;
	static const char *const bad[] = {
		"not-an-email", "@example.org", "someone@", "someone@localhost",
		"some one@example.org", "a@b@example.org", "",
		"tab\tbed@example.org",
	};

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		fails(conn, CHECK_VIOLATION,
		    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
		    "VALUES ('%s', 'A', 'B', 'PT')", bad[i]);
	fails(conn, NOT_NULL_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES (NULL, 'A', 'B', 'PT')");
	ok(conn, "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('first.last+dn@mail.example.org', 'A', 'B', 'PT')");
}

static void
test_email_unique_case_insensitive(void **state)
{
	PGconn *conn = *state;

	ok(conn, "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('A@x.org', 'A', 'B', 'PT')");
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('a@X.org', 'A', 'B', 'PT')");
	ok(conn, "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('b@X.org', 'A', 'B', 'PT')");
}

static void
test_blank_names(void **state)
{
	PGconn *conn = *state;

	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('blank1@example.org', '', 'Family', 'PT')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('blank1@example.org', '   ', 'Family', 'PT')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('blank1@example.org', 'Given', ' ', 'PT')");
	fails(conn, NOT_NULL_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('blank1@example.org', 'Given', NULL, 'PT')");
	ok(conn, "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('blank1@example.org', 'G', 'F', 'PT')");
}

static void
test_clinician_profession_and_license(void **state)
{
	PGconn *conn = *state;

	fails(conn, FK_VIOLATION,
	    "INSERT INTO clinicians (" CLINICIAN_COLS ") "
	    "VALUES ('prof1@example.org', 'A', 'B', 'XYZ')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (license_state, " CLINICIAN_COLS ") "
	    "VALUES ('ca', 'prof1@example.org', 'A', 'B', 'PT')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO clinicians (license_state, " CLINICIAN_COLS ") "
	    "VALUES ('CAL', 'prof1@example.org', 'A', 'B', 'PT')");
	/* an ineligible profession is a valid clinician: it just may not enroll */
	ok(conn, "INSERT INTO clinicians (license_state, license_number, "
	    CLINICIAN_COLS ") "
	    "VALUES ('CA', 'PT 12345', 'prof1@example.org', 'A', 'B', 'PTA')");
	value_is(conn, "1",
	    "SELECT version FROM clinicians WHERE email = 'prof1@example.org'");
}

/* ---- exam results -------------------------------------------------------- */

static void
test_score_above_max(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "scoremax", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 101, 100, 75, true, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 100, 100, 75, true, '2024-03-01')",
	    c);
}

static void
test_score_negative(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "scoreneg", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, -1, 100, 75, false, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 0, 100, 75, false, '2024-03-01')",
	    c);
}

static void
test_max_score_zero(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "maxzero", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 0, 0, 75, false, '2024-03-01')",
	    c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 0, -5, 75, false, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 0, 0.5, 75, false, '2024-03-01')",
	    c);
}

static void
test_passed_matches_pass_mark(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "passmark", c);
	/* exactly at the mark passes */
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 75, 100, 75, false, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 75, 100, 75, true, '2024-03-01')",
	    c);
	/* just below fails */
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'practical', 1, 74.99, 100, 75, true, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'practical', 1, 74.99, 100, 75, false, '2024-03-01')",
	    c);
	/* a max score other than 100: 30 of 40 is 75%, 29 of 40 is not */
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN2") ", 'written', 1, 30, 40, 75, true, '2024-03-01')",
	    c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN2") ", 'practical', 1, 29, 40, 75, true, '2024-03-01')",
	    c);
	/* no rounding: 2 of 3 is 66.666...%, which does not reach 66.67 */
	value_is(conn, "f", "SELECT exam_passed(2, 3, 66.67)");
	value_is(conn, "t", "SELECT exam_passed(2, 3, 66.66)");
	value_is(conn, "t", "SELECT exam_passed(0, 3, 0)");
}

static void
test_pass_mark_range(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "markrange", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 50, 100, 100.5, false, '2024-03-01')",
	    c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 50, 100, -1, true, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 100, 100, 100, true, '2024-03-01')",
	    c);
	/* the levels' own marks are bounded the same way */
	fails(conn, CHECK_VIOLATION,
	    "UPDATE levels SET written_pass_mark = 101 WHERE code = 'DN1'");
	fails(conn, CHECK_VIOLATION,
	    "UPDATE levels SET practical_pass_mark = -0.5 WHERE code = 'DN1'");
	fails(conn, CHECK_VIOLATION,
	    "UPDATE levels SET max_attempts = 0 WHERE code = 'DN1'");
	fails(conn, CHECK_VIOLATION,
	    "UPDATE levels SET retake_wait_days = -1 WHERE code = 'DN1'");
	fails(conn, CHECK_VIOLATION,
	    "UPDATE levels SET contact_hours = -1 WHERE code = 'DN1'");
}

static void
test_exam_kind(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "examkind", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'oral', 1, 80, 100, 75, true, '2024-03-01')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'practical', 1, 80, 100, 75, true, '2024-03-01')",
	    c);
}

static void
test_duplicate_attempt(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "dupattempt", c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 50, 100, 75, false, '2024-03-01')",
	    c);
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 90, 100, 75, true, '2024-03-20')",
	    c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 0, 90, 100, 75, true, '2024-03-20')",
	    c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 2, 90, 100, 75, true, '2024-03-20')",
	    c);
	/* attempt 1 of the other kind is a different attempt */
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'practical', 1, 90, 100, 75, true, '2024-03-01')",
	    c);
}

static void
test_amendment(void **state)
{
	PGconn *conn = *state;
	char c[32];
	char *orig;
	char *amend;
	char sql[SQL_MAX];

	new_clinician(conn, "amend", c);
	snprintf(sql, sizeof sql,
	    "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 70, 100, 75, false, '2024-03-01') "
	    "RETURNING id", c);
	orig = testdb_value(conn, sql);
	assert_non_null(orig);

	/* an amendment needs a reason ... */
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ", supersedes) VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 80, 100, 75, true, '2024-03-01', %s)",
	    c, orig);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ", supersedes, amend_reason) "
	    "VALUES (%s, " LEVEL("DN1") ", 'written', 1, 80, 100, 75, true, "
	    "'2024-03-01', %s, '  ')", c, orig);
	/* ... and a reason needs an amendment */
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ", amend_reason) VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 2, 80, 100, 75, true, '2024-03-20', "
	    "'why')", c);
	/* it replaces a result of the very same attempt */
	fails(conn, FK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ", supersedes, amend_reason) "
	    "VALUES (%s, " LEVEL("DN1") ", 'written', 2, 80, 100, 75, true, "
	    "'2024-03-01', %s, 'regraded')", c, orig);
	fails(conn, FK_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ", supersedes, amend_reason) "
	    "VALUES (%s, " LEVEL("DN1") ", 'practical', 1, 80, 100, 75, true, "
	    "'2024-03-01', %s, 'regraded')", c, orig);

	snprintf(sql, sizeof sql,
	    "INSERT INTO exam_results (" RESULT_COLS ", supersedes, amend_reason) "
	    "VALUES (%s, " LEVEL("DN1") ", 'written', 1, 80, 100, 75, true, "
	    "'2024-03-01', %s, 'question 12 regraded') RETURNING id", c, orig);
	amend = testdb_value(conn, sql);
	assert_non_null(amend);

	/* a row is superseded at most once: amend the amendment instead */
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO exam_results (" RESULT_COLS ", supersedes, amend_reason) "
	    "VALUES (%s, " LEVEL("DN1") ", 'written', 1, 85, 100, 75, true, "
	    "'2024-03-01', %s, 'again')", c, orig);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ", supersedes, amend_reason) "
	    "VALUES (%s, " LEVEL("DN1") ", 'written', 1, 85, 100, 75, true, "
	    "'2024-03-01', %s, 'again')", c, amend);

	/* the attempt has one current result, the latest amendment */
	value_is(conn, "1",
	    "SELECT count(*) FROM exam_results_current WHERE clinician_id = %s", c);
	value_is(conn, "85",
	    "SELECT score FROM exam_results_current WHERE clinician_id = %s", c);
	value_is(conn, "3",
	    "SELECT count(*) FROM exam_results WHERE clinician_id = %s", c);
	free(orig);
	free(amend);
}

static void
test_exam_results_append_only(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "appendonly", c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 50, 100, 75, false, '2024-03-01')",
	    c);
	fails(conn, INTEGRITY_VIOLATION,
	    "UPDATE exam_results SET score = 90, passed = true "
	    "WHERE clinician_id = %s", c);
	fails(conn, INTEGRITY_VIOLATION,
	    "DELETE FROM exam_results WHERE clinician_id = %s", c);
	value_is(conn, "50",
	    "SELECT score FROM exam_results WHERE clinician_id = %s", c);

	ok(conn, "INSERT INTO audit_log (action, entity, entity_id) "
	    "VALUES ('test', 'clinician', '%s')", c);
	fails(conn, INTEGRITY_VIOLATION,
	    "UPDATE audit_log SET action = 'x' WHERE entity_id = '%s'", c);
	fails(conn, INTEGRITY_VIOLATION,
	    "DELETE FROM audit_log WHERE entity_id = '%s'", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO audit_log (action, entity) VALUES (' ', 'clinician')");
}

/* ---- enrollments --------------------------------------------------------- */

static void
test_one_live_enrollment(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "liveenroll", c);
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id) "
	    "VALUES (%s, " LEVEL("DN1") ")", c);
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id) "
	    "VALUES (%s, " LEVEL("DN1") ")", c);
	/* another level is another enrollment */
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id) "
	    "VALUES (%s, " LEVEL("DN2") ")", c);
	/* withdrawn, then enrolled again */
	ok(conn, "UPDATE enrollments SET status = 'withdrawn' "
	    "WHERE clinician_id = %s AND level_id = " LEVEL("DN1"), c);
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id) "
	    "VALUES (%s, " LEVEL("DN1") ")", c);
	/* a completed enrollment is live too */
	ok(conn, "UPDATE enrollments SET status = 'completed', "
	    "completed_on = '2024-02-01' WHERE clinician_id = %s "
	    "AND level_id = " LEVEL("DN1") " AND status = 'enrolled'", c);
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id) "
	    "VALUES (%s, " LEVEL("DN1") ")", c);
	/* but any number of withdrawn ones */
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id, status) "
	    "VALUES (%s, " LEVEL("DN1") ", 'withdrawn')", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id, status) "
	    "VALUES (%s, " LEVEL("DN1") ", 'paused')", c);
}

static void
test_completed_needs_date(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "completedon", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id, status) "
	    "VALUES (%s, " LEVEL("DN1") ", 'completed')", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id, status, completed_on) "
	    "VALUES (%s, " LEVEL("DN1") ", 'enrolled', '2024-02-01')", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id, status, completed_on) "
	    "VALUES (%s, " LEVEL("DN1") ", 'withdrawn', '2024-02-01')", c);
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id, status, completed_on) "
	    "VALUES (%s, " LEVEL("DN1") ", 'completed', '2024-02-01')", c);
}

static void
test_session_constraints(void **state)
{
	PGconn *conn = *state;
	char c[32];
	char *s;

	new_clinician(conn, "session", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO course_sessions (level_id, starts_on, ends_on, location) "
	    "VALUES (" LEVEL("DN1") ", '2024-05-03', '2024-05-01', 'Denver')");
	s = testdb_value(conn,
	    "INSERT INTO course_sessions (level_id, starts_on, ends_on, location) "
	    "VALUES (" LEVEL("DN1") ", '2024-05-01', '2024-05-03', 'Denver') "
	    "RETURNING id");
	assert_non_null(s);
	/* the same session twice is one session */
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO course_sessions (level_id, starts_on, ends_on, location) "
	    "VALUES (" LEVEL("DN1") ", '2024-05-01', '2024-05-03', 'Denver')");
	/* a one-day session */
	ok(conn, "INSERT INTO course_sessions (level_id, starts_on, ends_on) "
	    "VALUES (" LEVEL("DN1") ", '2024-06-01', '2024-06-01')");
	/* a DN1 session does not teach DN2 */
	fails(conn, FK_VIOLATION,
	    "INSERT INTO enrollments (clinician_id, level_id, session_id) "
	    "VALUES (%s, " LEVEL("DN2") ", %s)", c, s);
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id, session_id) "
	    "VALUES (%s, " LEVEL("DN1") ", %s)", c, s);
	free(s);
}

/* ---- accounts ------------------------------------------------------------ */

static void
test_clinician_account_needs_clinician(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "account", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('acct1', 'clinician', 'x')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, clinician_id, password_hash) "
	    "VALUES ('acct1', 'admin', %s, 'x')", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, clinician_id, password_hash) "
	    "VALUES ('acct1', 'grader', %s, 'x')", c);
	ok(conn, "INSERT INTO users (username, role, clinician_id, password_hash) "
	    "VALUES ('acct1', 'clinician', %s, 'x')", c);
	/* one account per clinician */
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO users (username, role, clinician_id, password_hash) "
	    "VALUES ('acct2', 'clinician', %s, 'x')", c);
	ok(conn, "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('acct2', 'grader', 'x')");
}

static void
test_bad_role(void **state)
{
	PGconn *conn = *state;

	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('role1', 'root', 'x')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('role1', 'Admin', 'x')");
	ok(conn, "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('role1', 'admin', 'x')");
}

static void
test_username_unique_case_insensitive(void **state)
{
	PGconn *conn = *state;

	ok(conn, "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('Grader.One', 'grader', 'x')");
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('grader.one', 'grader', 'x')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('grader two', 'grader', 'x')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('', 'grader', 'x')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('grader.three', 'grader', '')");
}

static void
test_api_tokens(void **state)
{
	PGconn *conn = *state;
	char *u;

	u = testdb_value(conn,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('tokenuser', 'admin', 'x') RETURNING id");
	assert_non_null(u);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO api_tokens (user_id, token_hash, expires_at) "
	    "VALUES (%s, '\\x0102', now() + interval '1 day')", u);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO api_tokens (user_id, token_hash, expires_at) "
	    "VALUES (%s, sha256('a') || '\\x00', now() + interval '1 day')", u);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO api_tokens (user_id, token_hash, expires_at) "
	    "VALUES (%s, sha256('a'), now() - interval '1 second')", u);
	ok(conn, "INSERT INTO api_tokens (user_id, token_hash, expires_at) "
	    "VALUES (%s, sha256('a'), now() + interval '1 day')", u);
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO api_tokens (user_id, token_hash, expires_at) "
	    "VALUES (%s, sha256('a'), now() + interval '1 day')", u);
	/* tokens go with their user */
	ok(conn, "DELETE FROM users WHERE id = %s", u);
	value_is(conn, "0",
	    "SELECT count(*) FROM api_tokens WHERE token_hash = sha256('a')");
	free(u);
}

/* ---- certificates -------------------------------------------------------- */

#define CERT_COLS "number, clinician_id, level_id, issued_on, expires_on"

static void
test_certificate_number_shape(void **state)
{
	PGconn *conn = *state;
	char c[32];
	static const char *const bad[] = {
		"K7QM-2X9P-RT4A",  /* wrong check symbol */
		"K7QM-2X9P-TR4K",  /* transposed symbols */
		"K7QN-2X9P-RT4K",  /* one symbol mistyped */
		"k7qm-2x9p-rt4k",  /* not canonical: lower case */
		"K7QM2X9PRT4K",    /* not canonical: no hyphens */
		"K7QM-2X9P-RT4K-", /* trailing junk */
		"K7QM-2X9P-RT4",   /* too short */
		"K7QM-2X9I-RT4K",  /* I is not a Crockford symbol */
		"K7QM-2X9U-RT4K",  /* neither is U */
		"",
	};

	new_clinician(conn, "certshape", c);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fails(conn, CHECK_VIOLATION,
		    "INSERT INTO certificates (" CERT_COLS ") VALUES "
		    "('%s', %s, " LEVEL("DN1") ", '2024-04-01', NULL)", bad[i], c);
		value_is(conn, "f", "SELECT certificate_number_valid('%s')", bad[i]);
	}
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "('K7QM-2X9P-RT4K', %s, " LEVEL("DN1") ", '2024-04-01', NULL)", c);
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "('K7QM-2X9P-RT4K', %s, " LEVEL("DN2") ", '2024-04-01', NULL)", c);
	/* the reference vectors of docs/data-model.md */
	value_is(conn, "Y", "SELECT certificate_check_symbol('ABCDEFGHJKM')");
	value_is(conn, "0", "SELECT certificate_check_symbol('00000000000')");
	value_is(conn, "B", "SELECT certificate_check_symbol('ZZZZZZZZZZZ')");
	value_is(conn, "t", "SELECT certificate_number_valid('ABCD-EFGH-JKMY')");
	/* generated numbers are valid and differ */
	value_is(conn, "200",
	    "SELECT count(DISTINCT n) FROM (SELECT certificate_number_new() AS n "
	    "FROM generate_series(1, 200)) AS g WHERE certificate_number_valid(n)");
}

static void
test_two_unrevoked_certificates(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "twocerts", c);
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN1") ", '2024-04-01', "
	    "'2026-04-01')", c);
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN1") ", '2024-05-01', "
	    "'2026-05-01')", c);
	/* another level is fine */
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN2") ", '2024-05-01', "
	    "'2026-05-01')", c);
	/* revoked, then issued again */
	ok(conn, "UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'issued_in_error', "
	    "revocation_reason = 'issued in error' "
	    "WHERE clinician_id = %s AND level_id = " LEVEL("DN1"), c);
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN1") ", '2024-05-01', "
	    "'2026-05-01')", c);
	value_is(conn, "3",
	    "SELECT count(*) FROM certificates WHERE clinician_id = %s", c);
}

/*
 * The view certificates_due (rule 6 over every completed enrollment,
 * sql/0022): what it owes, on which day, and what an earlier revocation
 * changes.  The clinician's rows of the view must match
 * certificates_due_for() asked of the pair alone.
 */
#define DUE_ROW(c) \
	"SELECT (SELECT concat_ws(' ', issued_on, expires_on, replaces) " \
	"FROM certificates_due WHERE clinician_id = " c ")"
static void
test_certificates_due_view(void **state)
{
	PGconn *conn = *state;
	char c[32];
	char *first;
	char *second;

	new_clinician(conn, "dueview", c);
	/* not completed yet: nothing owed, whatever the results */
	ok(conn, "INSERT INTO enrollments (clinician_id, level_id) "
	    "VALUES (%s, " LEVEL("DN1") ")", c);
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'written', 1, 80, 100, 75, true, '2024-03-01'), "
	    "(%s, " LEVEL("DN1") ", 'practical', 1, 60, 100, 75, false, '2024-03-02')",
	    c, c);
	value_is(conn, NULL, DUE_ROW("%s"), c);
	/* completed, but the practical not passed */
	ok(conn, "UPDATE enrollments SET status = 'completed', "
	    "completed_on = '2024-03-10' WHERE clinician_id = %s", c);
	value_is(conn, NULL, DUE_ROW("%s"), c);
	/* passed at the second attempt: owed from the last of the three days
	 * (the practical's, after the completion), for the program's months */
	ok(conn, "INSERT INTO exam_results (" RESULT_COLS ") VALUES "
	    "(%s, " LEVEL("DN1") ", 'practical', 2, 90, 100, 75, true, '2024-03-20')",
	    c);
	value_is(conn, "2024-03-20 2026-03-20", DUE_ROW("%s"), c);
	value_is(conn, "2024-03-20 2026-03-20",
	    "SELECT concat_ws(' ', issued_on, expires_on, replaces) "
	    "FROM certificates_due_for(ARRAY[%s]::bigint[], ARRAY[" LEVEL("DN1")
	    "]::bigint[])", c);
	/* issued: no longer owed */
	first = testdb_textf(conn, "INSERT INTO certificates (" CERT_COLS ") "
	    "VALUES (certificate_number_new(), %s, " LEVEL("DN1") ", "
	    "'2024-03-20', '2026-03-20') RETURNING id", c);
	assert_non_null(first);
	value_is(conn, NULL, DUE_ROW("%s"), c);
	/* revoked because a result was amended: owed again, replacing it */
	ok(conn, "UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'exam_result_amended', "
	    "revocation_reason = 'regraded' WHERE id = %s", first);
	second = testdb_textf(conn, "SELECT '2024-03-20 2026-03-20 ' || %s",
	    first);
	value_is(conn, second, DUE_ROW("%s"), c);
	free(second);
	/* issued again, then revoked for any other reason: never owed again */
	second = testdb_textf(conn, "INSERT INTO certificates (" CERT_COLS ", "
	    "replaces) VALUES (certificate_number_new(), %s, " LEVEL("DN1") ", "
	    "'2024-03-20', '2026-03-20', %s) RETURNING id", c, first);
	assert_non_null(second);
	value_is(conn, NULL, DUE_ROW("%s"), c);
	ok(conn, "UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'license_action', "
	    "revocation_reason = 'license lapsed' WHERE id = %s", second);
	value_is(conn, NULL, DUE_ROW("%s"), c);
	/* every row of the view is a completed enrollment's */
	value_is(conn, "0", "SELECT count(*) FROM certificates_due d "
	    "WHERE NOT EXISTS (SELECT 1 FROM enrollments e WHERE "
	    "e.clinician_id = d.clinician_id AND e.level_id = d.level_id "
	    "AND e.status = 'completed')");
	free(first);
	free(second);
}

static void
test_revoked_needs_reason(void **state)
{
	PGconn *conn = *state;
	char c[32];
	char *u;

	new_clinician(conn, "revoke", c);
	u = testdb_value(conn,
	    "INSERT INTO users (username, role, password_hash) "
	    "VALUES ('revoker', 'admin', 'x') RETURNING id");
	assert_non_null(u);
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "('ABCD-EFGH-JKMY', %s, " LEVEL("DN1") ", '2024-04-01', NULL)", c);
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revoked_at = now(), revoked_by = %s "
	    "WHERE number = 'ABCD-EFGH-JKMY'", u);
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revoked_at = now(), revoked_by = %s, "
	    "revocation_reason = ' ' WHERE number = 'ABCD-EFGH-JKMY'", u);
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revocation_reason = 'fraud' "
	    "WHERE number = 'ABCD-EFGH-JKMY'");
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revoked_by = %s "
	    "WHERE number = 'ABCD-EFGH-JKMY'", u);
	/* a revocation has a public category from the fixed list, and only
	 * a revoked certificate has one */
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revoked_at = now(), revoked_by = %s, "
	    "revocation_reason = 'license suspended' "
	    "WHERE number = 'ABCD-EFGH-JKMY'", u);
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revoked_at = now(), revoked_by = %s, "
	    "revocation_category = 'suspended', "
	    "revocation_reason = 'license suspended' "
	    "WHERE number = 'ABCD-EFGH-JKMY'", u);
	fails(conn, CHECK_VIOLATION,
	    "UPDATE certificates SET revocation_category = 'other' "
	    "WHERE number = 'ABCD-EFGH-JKMY'");
	ok(conn, "UPDATE certificates SET revoked_at = now(), revoked_by = %s, "
	    "revocation_category = 'license_action', "
	    "revocation_reason = 'license suspended' "
	    "WHERE number = 'ABCD-EFGH-JKMY'", u);
	free(u);
}

static void
test_expires_after_issued(void **state)
{
	PGconn *conn = *state;
	char c[32];

	new_clinician(conn, "expiry", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN1") ", '2024-04-01', "
	    "'2024-03-31')", c);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN1") ", '2024-04-01', "
	    "'2024-04-01')", c);
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN1") ", '2024-04-01', "
	    "'2024-04-02')", c);
	/* no expiry at all: a program without a validity period */
	ok(conn, "INSERT INTO certificates (" CERT_COLS ") VALUES "
	    "(certificate_number_new(), %s, " LEVEL("DN2") ", '2024-04-01', NULL)",
	    c);
}

/* ---- notifications ------------------------------------------------------- */

/* An email's template (sql/0026_notify_render_parts.sql): placeholders are
 * {{a.b}} paths into the event's payload; anything else is text. */
static void
test_notify_render(void **state)
{
	PGconn *conn = *state;
	static const struct {
		const char *template, *payload, *want;
	} cases[] = {
		{ "Hi {{a.b}} and {{c}}!", "{\"a\": {\"b\": \"X\"}, \"c\": \"Y\"}",
		  "Hi X and Y!" },
		{ "{{c}}{{c}}", "{\"c\": \"Y\"}", "YY" },
		{ "{{n}} days", "{\"n\": 30}", "30 days" },
		{ "[{{no.such}}]", "{\"c\": \"Y\"}", "[]" },
		{ "{{a}}", "{\"a\": {\"b\": 1}}", "{\"b\": 1}" },
		{ "{{Bad}} {{ c }} {c} {{c.}} {{c", "{\"c\": \"Y\"}",
		  "{{Bad}} {{ c }} {c} {{c.}} {{c" },
		/* a value is not read again for placeholders */
		{ "{{a}} {{c}}", "{\"a\": \"{{c}}\", \"c\": \"Y\"}", "{{c}} Y" },
		{ "no placeholder", "{}", "no placeholder" },
		{ "", "{}", "" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		value_is(conn, cases[i].want, "SELECT notify_render('%s', '%s')",
		    cases[i].template, cases[i].payload);
	value_is(conn, NULL, "SELECT notify_render(NULL, '{}')");
	/* the fan-out fills each kind's templates like notify_render() */
	value_is(conn, "0",
	    "SELECT count(*) FROM notify_event_kinds k, "
	    "notify_template_parts(k.email_body) p WHERE "
	    "notify_fill(p.pieces, p.keys, '{\"certificate\": {\"level\": "
	    "\"L\"}}') IS DISTINCT FROM notify_render(k.email_body, "
	    "'{\"certificate\": {\"level\": \"L\"}}') "
	    "OR (k.email_body IS NOT NULL AND p.keys = '{}')");
}

/* ---- program definition -------------------------------------------------- */

static void
test_program_and_prerequisites(void **state)
{
	PGconn *conn = *state;

	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO programs (code, name, credential_title, "
	    "certificate_validity_months) VALUES ('XP', 'X', 'X', 0)");
	ok(conn, "INSERT INTO programs (code, name, credential_title, "
	    "certificate_validity_months) VALUES ('XP', 'X', 'X', NULL)");
	ok(conn, "INSERT INTO levels (program_id, code, ordinal, title, "
	    "written_pass_mark, practical_pass_mark, max_attempts, "
	    "retake_wait_days) SELECT id, 'XP1', 1, 'One', 70, 80, 1, 0 "
	    "FROM programs WHERE code = 'XP'");
	/* the ordinal and the code are unique within a program */
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO levels (program_id, code, ordinal, title, "
	    "written_pass_mark, practical_pass_mark, max_attempts, "
	    "retake_wait_days) SELECT id, 'XP2', 1, 'Two', 70, 80, 1, 0 "
	    "FROM programs WHERE code = 'XP'");
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO levels (program_id, code, ordinal, title, "
	    "written_pass_mark, practical_pass_mark, max_attempts, "
	    "retake_wait_days) SELECT id, 'XP1', 2, 'Two', 70, 80, 1, 0 "
	    "FROM programs WHERE code = 'XP'");
	/* no self-reference, no cycle, no prerequisite from another program */
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO level_prerequisites (program_id, level_id, "
	    "requires_level_id) SELECT program_id, id, id FROM levels "
	    "WHERE code = 'DN1'");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO level_prerequisites (program_id, level_id, "
	    "requires_level_id) SELECT l1.program_id, l1.id, l2.id "
	    "FROM levels l1, levels l2 WHERE l1.code = 'DN1' AND l2.code = 'DN2'");
	fails(conn, FK_VIOLATION,
	    "INSERT INTO level_prerequisites (program_id, level_id, "
	    "requires_level_id) SELECT x.program_id, x.id, d.id "
	    "FROM levels x, levels d WHERE x.code = 'XP1' AND d.code = 'DN1'");
	fails(conn, FK_VIOLATION,
	    "INSERT INTO level_prerequisites (program_id, level_id, "
	    "requires_level_id) SELECT d.program_id, x.id, d.id "
	    "FROM levels x, levels d WHERE x.code = 'XP1' AND d.code = 'DN1'");
}

static void
test_import_tables(void **state)
{
	PGconn *conn = *state;
	char *imp;

	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO imports (kind) VALUES ('grades')");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO imports (kind, rows_failed) VALUES ('roster', -1)");
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO imports (kind, status) VALUES ('roster', 'succeeded')");
	imp = testdb_value(conn,
	    "INSERT INTO imports (kind) VALUES ('results') RETURNING id");
	assert_non_null(imp);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO import_errors (import_id, line, message) "
	    "VALUES (%s, 0, 'bad')", imp);
	fails(conn, CHECK_VIOLATION,
	    "INSERT INTO import_errors (import_id, line, message) "
	    "VALUES (%s, 2, '')", imp);
	ok(conn, "INSERT INTO import_errors (import_id, line, column_name, value, "
	    "message) VALUES (%s, 2, 'npi', '1234567890', 'invalid NPI')", imp);
	ok(conn, "UPDATE imports SET status = 'failed', finished_at = now(), "
	    "rows_total = 1, rows_failed = 1 WHERE id = %s", imp);
	/* the errors go with their import */
	ok(conn, "DELETE FROM imports WHERE id = %s", imp);
	value_is(conn, "0",
	    "SELECT count(*) FROM import_errors WHERE import_id = %s", imp);
	free(imp);
}

/* ---- seed ---------------------------------------------------------------- */

static void
test_seed_eligible_professions(void **state)
{
	PGconn *conn = *state;

	value_is(conn, "DC,DO,MD,NP,PA,PT",
	    "SELECT string_agg(pp.profession_code, ',' ORDER BY pp.profession_code) "
	    "FROM program_professions pp JOIN programs p ON p.id = pp.program_id "
	    "WHERE p.code = 'DN'");
	value_is(conn, "Certified Dry Needling Practitioner",
	    "SELECT credential_title FROM programs WHERE code = 'DN'");
	value_is(conn, "24",
	    "SELECT certificate_validity_months FROM programs WHERE code = 'DN'");
}

static void
test_seed_ineligible_known(void **state)
{
	PGconn *conn = *state;
	static const char *const known[] = { "PTA", "ATC", "OT", "LAc", "RN", "LMT" };

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
		value_is(conn, "1",
		    "SELECT count(*) FROM professions WHERE code = '%s'", known[i]);
		value_is(conn, "0",
		    "SELECT count(*) FROM program_professions pp "
		    "JOIN programs p ON p.id = pp.program_id "
		    "WHERE p.code = 'DN' AND pp.profession_code = '%s'", known[i]);
	}
	value_is(conn, "PTA",
	    "SELECT profession_lookup('physical therapist assistant')");
}

static void
test_seed_alias_lookup(void **state)
{
	PGconn *conn = *state;

	value_is(conn, "PT",
	    "SELECT profession_code FROM profession_aliases "
	    "WHERE lower(alias) = lower('physical therapist')");
	value_is(conn, "PT", "SELECT profession_lookup('physical therapist')");
	value_is(conn, "PT", "SELECT profession_lookup('  PHYSICAL THERAPIST ')");
	value_is(conn, "PT", "SELECT profession_lookup('dpt')");
	value_is(conn, "PT", "SELECT profession_lookup('pt')");
	value_is(conn, "PA", "SELECT profession_lookup('pa-c')");
	value_is(conn, "NP", "SELECT profession_lookup('Aprn')");
	value_is(conn, "MD", "SELECT profession_lookup('m.d.')");
	value_is(conn, "DO", "SELECT profession_lookup('D.O.')");
	value_is(conn, "DC", "SELECT profession_lookup('chiropractor')");
	value_is(conn, "LAc", "SELECT profession_lookup('lac')");
	value_is(conn, NULL, "SELECT profession_lookup('astronaut')");
	/* aliases are unique case-insensitively */
	fails(conn, UNIQUE_VIOLATION,
	    "INSERT INTO profession_aliases (alias, profession_code) "
	    "VALUES ('PHYSICAL THERAPIST', 'PTA')");
}

static void
test_seed_levels(void **state)
{
	PGconn *conn = *state;

	value_is(conn, "DN1:1:Level 1:27.00:75:75:3:14,DN2:2:Level 2:27.00:75:75:3:14",
	    "SELECT string_agg(concat_ws(':', code, ordinal, title, contact_hours, "
	    "written_pass_mark, practical_pass_mark, max_attempts, "
	    "retake_wait_days), ',' ORDER BY ordinal) "
	    "FROM levels WHERE program_id = (SELECT id FROM programs "
	    "WHERE code = 'DN')");
	value_is(conn, "DN1",
	    "SELECT r.code FROM level_prerequisites p "
	    "JOIN levels l ON l.id = p.level_id "
	    "JOIN levels r ON r.id = p.requires_level_id WHERE l.code = 'DN2'");
	value_is(conn, "0",
	    "SELECT count(*) FROM level_prerequisites p "
	    "JOIN levels l ON l.id = p.level_id WHERE l.code = 'DN1'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_npi_shape),
		cmocka_unit_test(test_npi_check_digit),
		cmocka_unit_test(test_npi_valid_matches_c),
		cmocka_unit_test(test_npi_unique),
		cmocka_unit_test(test_email_shape),
		cmocka_unit_test(test_email_unique_case_insensitive),
		cmocka_unit_test(test_blank_names),
		cmocka_unit_test(test_clinician_profession_and_license),
		cmocka_unit_test(test_score_above_max),
		cmocka_unit_test(test_score_negative),
		cmocka_unit_test(test_max_score_zero),
		cmocka_unit_test(test_passed_matches_pass_mark),
		cmocka_unit_test(test_pass_mark_range),
		cmocka_unit_test(test_exam_kind),
		cmocka_unit_test(test_duplicate_attempt),
		cmocka_unit_test(test_amendment),
		cmocka_unit_test(test_exam_results_append_only),
		cmocka_unit_test(test_one_live_enrollment),
		cmocka_unit_test(test_completed_needs_date),
		cmocka_unit_test(test_session_constraints),
		cmocka_unit_test(test_clinician_account_needs_clinician),
		cmocka_unit_test(test_bad_role),
		cmocka_unit_test(test_username_unique_case_insensitive),
		cmocka_unit_test(test_api_tokens),
		cmocka_unit_test(test_certificate_number_shape),
		cmocka_unit_test(test_two_unrevoked_certificates),
		cmocka_unit_test(test_revoked_needs_reason),
		cmocka_unit_test(test_certificates_due_view),
		cmocka_unit_test(test_notify_render),
		cmocka_unit_test(test_expires_after_issued),
		cmocka_unit_test(test_program_and_prerequisites),
		cmocka_unit_test(test_import_tables),
		cmocka_unit_test(test_seed_eligible_professions),
		cmocka_unit_test(test_seed_ineligible_known),
		cmocka_unit_test(test_seed_alias_lookup),
		cmocka_unit_test(test_seed_levels),
	};

	return cmocka_run_group_tests_name("integ_schema", tests,
	    group_setup, group_teardown);
}
