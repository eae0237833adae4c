/*
 * End to end: the holes of issue 9, each on its exact boundary and one
 * either side, through a real certrackd and, where a person would use
 * them, the certrack CLI and CSV imports as well:
 *
 *  - the expiry day (status, credential_held, public verification and
 *    `certrack verify` agree);
 *  - an expired prerequisite counts, a revoked one does not;
 *  - the retake day and the attempt limit, read from the levels table;
 *  - the pass mark, out of 100 and out of 40;
 *  - dates after today (rule 8) and exams before the course session;
 *  - an import refusal listing every problem of every row in one round;
 *  - the whole audit trail of a clinician made by imports;
 *  - a level by its title, and a title or code two programs share;
 *  - an amendment back to pass, seen through status and verification.
 *
 * Dates are relative to the database's current_date, which is what the
 * daemon judges "today" and "expired" by.
 */
#include "testlib.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <pthread.h>

static struct testlib_world w;
static int serial;		/* makes emails and locations unique */

/* ---- database helpers ------------------------------------------------- */

static char *
sql_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static long long
sql_ll(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void
sql_do(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Runs the SQL that FMT and AP make: a statement (VALUE false, NULL
 * returned) or a one-value query (its value, caller frees; NULL for SQL
 * NULL). */
static char *
sql_run(bool value, const char *fmt, va_list ap)
{
	char q[2048];

	vsnprintf(q, sizeof(q), fmt, ap);
	if (!value) {
		testdb_exec_ok(w.db, q);
		return NULL;
	}
	return testdb_value(w.db, q);
}

static char *
sql_text(const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = sql_run(true, fmt, ap);
	va_end(ap);
	return v;
}

/* A one-number query's number. */
static long long
sql_ll(const char *fmt, ...)
{
	va_list ap;
	char *v;
	long long n;

	va_start(ap, fmt);
	v = sql_run(true, fmt, ap);
	va_end(ap);
	if (v == NULL)
		fail_msg("'%s' gave NULL", fmt);
	n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

static void
sql_do(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)sql_run(false, fmt, ap);
	va_end(ap);
}

/* The database's current_date + DAYS, as YYYY-MM-DD, into OUT[11]. */
static void
day(int days, char *out)
{
	char *v = sql_text("SELECT (current_date + %d)::text", days);

	snprintf(out, 11, "%s", v);
	free(v);
}

/* A level's rule, read from the seeded table rather than assumed. */
static long long
level_rule(const char *column, const char *level)
{
	return sql_ll("SELECT %s FROM levels WHERE code = '%s' AND "
	    "program_id = (SELECT id FROM programs WHERE code = 'DN')", column,
	    level);
}

/* A clinician of PROFESSION, seeded with SQL; its email into EMAIL[64]
 * when not NULL. */
static long long
new_clinician(const char *profession, char *email)
{
	char mail[64];

	snprintf(mail, sizeof(mail), "h%d@holes.example", ++serial);
	if (email != NULL)
		snprintf(email, 64, "%s", mail);
	return sql_ll("INSERT INTO clinicians (email, given_name, family_name, "
	    "profession_code) VALUES ('%s', 'Hal', 'Holes%d', '%s') "
	    "RETURNING id", mail, serial, profession);
}

/* A certificate of C for LEVEL issued ISSUED and expiring EXPIRES days
 * from today (negative: in the past), seeded with SQL; its number into
 * NUMBER[16]. */
static void
seed_certificate(long long c, const char *level, int issued, int expires,
    char *number)
{
	char *v = sql_text("INSERT INTO certificates (number, clinician_id, "
	    "level_id, issued_on, expires_on) SELECT certificate_number_new(), "
	    "%lld, id, current_date + %d, current_date + %d FROM levels WHERE "
	    "code = '%s' RETURNING number", c, issued, expires, level);

	snprintf(number, 16, "%s", v);
	free(v);
}

/* ---- API helpers ------------------------------------------------------ */

/* METHOD PATH answers WANT; returns the parsed body (caller decrefs). */
static json_t *
api(const char *method, const char *path, const char *token,
    const char *body, int want)
{
	char *resp = NULL;
	int got = testlib_api(w.port, method, path, token, body, &resp);
	json_t *j;

	if (got != want)
		fail_msg("%s %s %s: %d, wanted %d: %s", method, path,
		    body ? body : "", got, want, resp ? resp : "");
	j = testlib_json(resp ? resp : "");
	free(resp);
	return j;
}

/* J is a problem with CODE (and FIELD, unless NULL) and DETAIL (unless
 * NULL); decrefs J. */
static void
problem(json_t *j, const char *code, const char *field, const char *detail)
{
	assert_string_equal(testlib_str(j, "code"), code);
	if (field != NULL)
		assert_string_equal(testlib_str(j, "field"), field);
	if (detail != NULL)
		assert_string_equal(testlib_str(j, "detail"), detail);
	json_decref(j);
}

/* Enrolls C in LEVEL (as typed), in SESSION when > 0; the enrollment. */
static long long
enroll(long long c, const char *level, long long session)
{
	char body[200];
	json_t *j;
	long long id;

	if (session > 0)
		snprintf(body, sizeof(body), "{\"clinician_id\":%lld,"
		    "\"level\":\"%s\",\"session_id\":%lld}", c, level,
		    session);
	else
		snprintf(body, sizeof(body), "{\"clinician_id\":%lld,"
		    "\"level\":\"%s\"}", c, level);
	j = api("POST", "/v1/enrollments", w.admin, body, 201);
	id = testlib_int(j, "id");
	json_decref(j);
	return id;
}

static json_t *
enroll_refused(long long c, const char *level)
{
	char body[200];

	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"%s\"}", c, level);
	return api("POST", "/v1/enrollments", w.admin, body, 422);
}

/* POST /v1/exam-results answering WANT (201 or a refusal). */
static json_t *
record(long long c, const char *level, const char *kind, const char *score,
    const char *max, const char *on, int want)
{
	char body[300];

	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"%s\",\"kind\":\"%s\",\"score\":%s,\"max_score\":%s,"
	    "\"taken_on\":\"%s\"}", c, level, kind, score, max, on);
	return api("POST", "/v1/exam-results", w.grader, body, want);
}

static json_t *
complete(long long enrollment, const char *on, int want)
{
	char path[80], body[80];

	snprintf(path, sizeof(path), "/v1/enrollments/%lld/complete",
	    enrollment);
	snprintf(body, sizeof(body), "{\"completed_on\":\"%s\"}", on);
	return api("POST", path, w.grader, body, want);
}

/* POST /v1/sessions of DN1 from STARTS to ENDS at LOCATION, answering
 * WANT. */
static json_t *
post_session(const char *starts, const char *ends, const char *location,
    int want)
{
	char body[300];

	snprintf(body, sizeof(body), "{\"level\":\"DN1\",\"starts_on\":"
	    "\"%s\",\"ends_on\":\"%s\",\"location\":\"%s\"}", starts, ends,
	    location);
	return api("POST", "/v1/sessions", w.admin, body, want);
}

/* A course session of DN1 from STARTS to ENDS days from today; its id. */
static long long
new_session(int starts, int ends)
{
	char s[11], e[11], location[32];
	json_t *j;
	long long id;

	day(starts, s);
	day(ends, e);
	snprintf(location, sizeof(location), "Hall %d", ++serial);
	j = post_session(s, e, location, 201);
	id = testlib_int(j, "id");
	json_decref(j);
	return id;
}

static json_t *
status_of(long long c)
{
	char path[80];

	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", c);
	return api("GET", path, w.admin, NULL, 200);
}

/* The member of array ARR whose "code" is CODE. */
static json_t *
by_code(json_t *arr, const char *code)
{
	size_t i;
	json_t *it;

	json_array_foreach(arr, i, it)
		if (strcmp(testlib_str(it, "code"), code) == 0)
			return it;
	fail_msg("no '%s' in the status", code);
	return NULL;
}

static json_t *
program_in(json_t *status, const char *code)
{
	return by_code(json_object_get(status, "programs"), code);
}

/* Level CODE of program DN in STATUS. */
static json_t *
level_in(json_t *status, const char *code)
{
	return by_code(json_object_get(program_in(status, "DN"), "levels"),
	    code);
}

/* The KIND exam of level DN1 in STATUS. */
static json_t *
dn1_exam(json_t *status, const char *kind)
{
	return json_object_get(json_object_get(level_in(status, "DN1"),
	    "exams"), kind);
}

static json_t *
verify(const char *number)
{
	char path[80];

	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	return api("GET", path, NULL, NULL, 200);
}

/* Fails when J has a key outside what the public may see. */
static void
public_keys_only(const json_t *j)
{
	static const char *const allowed[] = { "number", "status", "holder",
	    "level", "program", "issued_on", "expires_on", "revoked_on",
	    "revocation_category" };
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)j, key, v) {
		size_t i;
		for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i == sizeof(allowed) / sizeof(allowed[0]))
			fail_msg("verification shows '%s'", key);
	}
}

/* ---- imports ---------------------------------------------------------- */

/* An import (QUERY such as "kind=roster") that must be accepted; its id. */
static long long
import_ok(const char *token, const char *query, const char *csv)
{
	json_t *rep;
	int st = testlib_import(w.port, token, query, csv, &rep);
	long long id;

	if (st != 201) {
		char *t = json_dumps(rep, JSON_INDENT(1));
		fail_msg("import %s refused (%d): %s\n%s", query, st, t, csv);
	}
	id = testlib_int(rep, "id");
	json_decref(rep);
	return id;
}

/* Error I of report REP is LINE, COLUMN, VALUE and MESSAGE (VALUE NULL:
 * not checked; MESSAGE ending in '*': a prefix). */
static void
import_error(json_t *rep, size_t i, long long line, const char *column,
    const char *value, const char *message)
{
	json_t *e = json_array_get(json_object_get(rep, "errors"), i);
	size_t n = strlen(message);

	if (e == NULL) {
		char *t = json_dumps(rep, JSON_INDENT(1));
		fail_msg("no error %zu in %s", i, t);
	}
	assert_int_equal(testlib_int(e, "line"), line);
	assert_string_equal(testlib_str(e, "column"), column);
	if (value != NULL)
		assert_string_equal(testlib_str(e, "value"), value);
	if (message[n - 1] == '*')
		assert_int_equal(strncmp(testlib_str(e, "message"), message,
		    n - 1), 0);
	else
		assert_string_equal(testlib_str(e, "message"), message);
}

/* An import that must be refused with exactly NERR errors; returns the
 * report (caller decrefs). */
static json_t *
import_refused(const char *token, const char *query, const char *csv,
    size_t nerr)
{
	json_t *rep;
	int st = testlib_import(w.port, token, query, csv, &rep);

	if (st != 422 || json_array_size(json_object_get(rep, "errors")) !=
	    nerr) {
		char *t = json_dumps(rep, JSON_INDENT(1));
		fail_msg("import %s: %d, wanted 422 with %zu errors: %s",
		    query, st, nerr, t);
	}
	assert_string_equal(testlib_str(rep, "status"), "failed");
	return rep;
}

static const char roster_head[] = "given_name,family_name,email,npi,"
    "profession,level,course_start,course_end,location,completed\n";
static const char results_head[] = "npi,email,level,kind,score,max_score,"
    "taken_on\n";

/*
 * Clinician C (EMAIL, enrolled in DN1) in a results sheet: the written
 * exam on GOOD and the practical on BAD is refused, line 3's taken_on
 * named with DETAIL, and nothing written; both on GOOD are recorded.
 */
static void
sheet_date_boundary(long long c, const char *email, const char *good,
    const char *bad, const char *detail)
{
	char csv[600];
	json_t *rep;

	snprintf(csv, sizeof(csv), "%s,%s,DN1,written,80,100,%s\n"
	    ",%s,DN1,practical,80,100,%s\n", results_head, email, good, email,
	    bad);
	rep = import_refused(w.grader, "kind=results", csv, 1);
	import_error(rep, 0, 3, "taken_on", bad, detail);
	json_decref(rep);
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results WHERE "
	    "clinician_id = %lld", c), 0);
	snprintf(csv, sizeof(csv), "%s,%s,DN1,written,80,100,%s\n"
	    ",%s,DN1,practical,80,100,%s\n", results_head, email, good, email,
	    good);
	import_ok(w.grader, "kind=results", csv);
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results WHERE "
	    "clinician_id = %lld", c), 2);
}

/* ---- the CLI ---------------------------------------------------------- */

/* Runs certrack (as the admin) expecting exit CODE; out and err are the
 * caller's, freed before each run. */
#define CLI(code, ...) do { \
	free(out); \
	free(err); \
	out = err = NULL; \
	TESTLIB_CLI((code), NULL, __VA_ARGS__); \
} while (0)

/* ---- 1. the expiry day ------------------------------------------------ */

/*
 * A certificate is valid up to the day before its expires_on and expired
 * from expires_on on (certificate_status_on() in sql/0004_status.sql):
 * expires_on is the first day it no longer holds.  So one that expires
 * yesterday or today is expired, one that expires tomorrow valid -- in
 * the status (the level's certificate and the program's credential, held
 * only while every level's certificate is valid), in public verification
 * and in `certrack verify`'s exit code (0 only for a valid certificate).
 */
static void
expiry_day(void **state)
{
	static const struct {
		int expires;
		const char *status;
		int exit_code;
	} days[] = {
		{ -1, "expired", 1 },
		{ 0, "expired", 1 },
		{ 1, "valid", 0 },
	};
	char *out = NULL, *err = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		long long c = new_clinician("PT", NULL);
		char dn1[16], dn2[16], exp[11], line[64];
		json_t *s, *cert, *v;
		bool valid = strcmp(days[i].status, "valid") == 0;

		/* DN2 valid for long: the credential turns on DN1 alone */
		seed_certificate(c, "DN1", -730, days[i].expires, dn1);
		seed_certificate(c, "DN2", -300, 400, dn2);
		day(days[i].expires, exp);

		s = status_of(c);
		cert = json_object_get(level_in(s, "DN1"), "certificate");
		assert_string_equal(testlib_str(cert, "number"), dn1);
		assert_string_equal(testlib_str(cert, "expires_on"), exp);
		assert_string_equal(testlib_str(cert, "status"),
		    days[i].status);
		assert_string_equal(testlib_str(json_object_get(level_in(s,
		    "DN2"), "certificate"), "status"), "valid");
		assert_true(json_is_boolean(json_object_get(program_in(s,
		    "DN"), "credential_held")));
		assert_int_equal(json_is_true(json_object_get(program_in(s,
		    "DN"), "credential_held")), valid);
		json_decref(s);

		v = verify(dn1);
		assert_string_equal(testlib_str(v, "status"), days[i].status);
		assert_string_equal(testlib_str(v, "expires_on"), exp);
		public_keys_only(v);
		json_decref(v);

		CLI(days[i].exit_code, "verify", dn1);
		snprintf(line, sizeof(line), "certificate %s: %s\n", dn1,
		    days[i].status);
		testlib_has(out, line);
		testlib_has(out, exp);
	}
	free(out);
	free(err);
}

/* ---- 2. prerequisites: expired counts, revoked does not --------------- */

static void
expired_prerequisite_counts(void **state)
{
	long long expired = new_clinician("PT", NULL);
	long long today = new_clinician("PT", NULL);
	long long revoked = new_clinician("PT", NULL);
	long long both = new_clinician("PT", NULL);
	long long o, g;
	char number[16], old[64], gone[64], csv[600];
	json_t *j, *rep;

	(void)state;
	/* expired long ago, and expired this very day: history counts */
	seed_certificate(expired, "DN1", -800, -70, number);
	j = verify(number);
	assert_string_equal(testlib_str(j, "status"), "expired");
	json_decref(j);
	enroll(expired, "DN2", 0);
	seed_certificate(today, "DN1", -730, 0, number);
	enroll(today, "DN2", 0);

	/* revoked, though its dates are good: no */
	seed_certificate(revoked, "DN1", -30, 700, number);
	sql_do("UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'issued_in_error', revocation_reason = "
	    "'wrong person' WHERE number = '%s'", number);
	problem(enroll_refused(revoked, "DN2"), "prerequisite_missing", "level",
	    "Level 2 requires Level 1 to be certified first");
	/* revoked and expired: no */
	seed_certificate(both, "DN1", -800, -70, number);
	sql_do("UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'misconduct', revocation_reason = 'x' "
	    "WHERE number = '%s'", number);
	problem(enroll_refused(both, "DN2"), "prerequisite_missing", "level",
	    NULL);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE "
	    "clinician_id IN (%lld, %lld)", revoked, both), 0);

	/* a roster reads them the same way */
	o = new_clinician("PT", old);
	g = new_clinician("PT", gone);

	seed_certificate(o, "DN1", -800, -1, number);
	seed_certificate(g, "DN1", -30, 700, number);
	sql_do("UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'other', revocation_reason = 'x' "
	    "WHERE number = '%s'", number);
	snprintf(csv, sizeof(csv), "%sHal,Holes,%s,,PT,DN2,,,,no\n"
	    "Hal,Holes,%s,,PT,DN2,,,,no\n", roster_head, old, gone);
	rep = import_refused(w.admin, "kind=roster", csv, 1);
	import_error(rep, 0, 3, "level", "DN2",
	    "Level 2 requires Level 1 to be certified first");
	json_decref(rep);
	snprintf(csv, sizeof(csv), "%sHal,Holes,%s,,PT,DN2,,,,no\n",
	    roster_head, old);
	import_ok(w.admin, "kind=roster", csv);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE "
	    "clinician_id = %lld", o), 1);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE "
	    "clinician_id = %lld", g), 0);
}

/* ---- 3. the retake day ------------------------------------------------ */

static void
retake_day(void **state)
{
	long long wait = level_rule("retake_wait_days", "DN1");
	long long c = new_clinician("PT", NULL), c2 = new_clinician("PT", NULL);
	int d = -(int)wait - 10;	/* the failed attempt: D */
	char on[11], next[11], detail[200];
	json_t *j;

	(void)state;
	assert_true(wait >= 1);
	enroll(c, "DN1", 0);
	enroll(c2, "DN1", 0);
	day(d, on);
	json_decref(record(c, "DN1", "written", "50", "100", on, 201));
	json_decref(record(c2, "DN1", "written", "50", "100", on, 201));
	day(d + (int)wait, next);

	/* the status names the first day allowed */
	j = status_of(c);
	assert_string_equal(testlib_str(dn1_exam(j, "written"),
	    "next_allowed_on"), next);
	json_decref(j);

	/* D+W-1: one day too soon */
	day(d + (int)wait - 1, on);
	j = record(c, "DN1", "written", "90", "100", on, 422);
	assert_string_equal(testlib_str(j, "next_allowed_on"), next);
	snprintf(detail, sizeof(detail), "the next written attempt at Level 1 "
	    "is allowed on or after %s", next);
	problem(j, "retake_too_soon", "taken_on", detail);
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results WHERE "
	    "clinician_id = %lld", c), 1);

	/* D+W: allowed */
	j = record(c, "DN1", "written", "90", "100", next, 201);
	assert_int_equal(testlib_int(j, "attempt"), 2);
	assert_true(json_is_true(json_object_get(j, "passed")));
	json_decref(j);

	/* D+W+1: allowed */
	day(d + (int)wait + 1, on);
	j = record(c2, "DN1", "written", "60", "100", on, 201);
	assert_int_equal(testlib_int(j, "attempt"), 2);
	json_decref(j);
}

/* ---- 4. the pass mark ------------------------------------------------- */

static void
pass_mark(void **state)
{
	/* out of 100 and out of 40: the mark, 0.01 below and 0.01 above,
	 * computed from the seeded mark */
	static const struct {
		const char *kind, *max;
		int delta;		/* hundredths from the mark's score */
		bool passed;
	} cases[] = {
		{ "written", "100", 0, true },
		{ "written", "100", -1, false },
		{ "written", "100", 1, true },
		{ "practical", "100", 0, true },
		{ "practical", "100", -1, false },
		{ "written", "40", 0, true },
		{ "written", "40", -1, false },
		{ "written", "40", 1, true },
		{ "practical", "40", 0, true },
		{ "practical", "40", -1, false },
	};
	char sheet[2048];
	size_t n;

	(void)state;
	/* who in the sheet should pass */
	sql_do("CREATE TEMP TABLE pm (email text, passed boolean)");
	n = (size_t)snprintf(sheet, sizeof(sheet), "%s", results_head);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char email[64], *score, *mark, today[11];
		long long c = new_clinician("MD", email);
		json_t *j;

		score = sql_text("SELECT trim_scale(%s_pass_mark * %s / 100 + "
		    "%d * 0.01)::text FROM levels WHERE code = 'DN1'",
		    cases[i].kind, cases[i].max, cases[i].delta);
		mark = sql_text("SELECT %s_pass_mark::text FROM levels WHERE "
		    "code = 'DN1'", cases[i].kind);
		enroll(c, "DN1", 0);
		day(-1, today);
		j = record(c, "DN1", cases[i].kind, score, cases[i].max, today,
		    201);
		if (json_is_true(json_object_get(j, "passed")) !=
		    cases[i].passed)
			fail_msg("%s %s of %s (mark %s): passed is %s",
			    cases[i].kind, score, cases[i].max, mark,
			    cases[i].passed ? "false" : "true");
		json_decref(j);
		assert_int_equal(sql_ll("SELECT count(*) FROM exam_results "
		    "WHERE clinician_id = %lld AND passed = %s AND pass_mark = "
		    "%s AND score = %s", c, cases[i].passed ? "true" : "false",
		    mark, score), 1);

		/* the same score in a results sheet, for another clinician */
		c = new_clinician("MD", email);
		enroll(c, "DN1", 0);
		n += (size_t)snprintf(sheet + n, sizeof(sheet) - n,
		    ",%s,DN1,%s,%s,%s,%s\n", email, cases[i].kind, score,
		    cases[i].max, today);
		sql_do("INSERT INTO pm VALUES ('%s', %s)", email,
		    cases[i].passed ? "true" : "false");
		free(score);
		free(mark);
	}
	import_ok(w.grader, "kind=results", sheet);
	assert_int_equal(sql_ll("SELECT count(*) FROM pm JOIN clinicians c ON "
	    "c.email = pm.email JOIN exam_results r ON r.clinician_id = c.id "
	    "WHERE r.passed = pm.passed"), (long long)(sizeof(cases) /
	    sizeof(cases[0])));
	sql_do("DROP TABLE pm");
}

/* ---- 5. attempts ------------------------------------------------------ */

static void
attempts_used_up(void **state)
{
	long long max = level_rule("max_attempts", "DN1");
	long long wait = level_rule("retake_wait_days", "DN1");
	long long c = new_clinician("PA", NULL);
	int first = -(int)(max * wait) - 10;
	char on[11], detail[200];
	json_t *j, *wr;

	(void)state;
	assert_true(max >= 1);
	enroll(c, "DN1", 0);
	for (long long k = 1; k < max; k++) {
		day(first + (int)((k - 1) * wait), on);
		json_decref(record(c, "DN1", "written", "10", "100", on, 201));
	}
	/* one left */
	j = status_of(c);
	wr = dn1_exam(j, "written");
	assert_int_equal(testlib_int(wr, "attempts_left"), 1);
	assert_int_equal(testlib_int(wr, "max_attempts"), max);
	json_decref(j);

	/* attempt N: accepted */
	day(first + (int)((max - 1) * wait), on);
	j = record(c, "DN1", "written", "20", "100", on, 201);
	assert_int_equal(testlib_int(j, "attempt"), max);
	json_decref(j);

	/* attempt N+1, however long after: refused */
	day(first + (int)(max * wait) + 5, on);
	snprintf(detail, sizeof(detail), "all %lld attempts at the written "
	    "exam of Level 1 are used", max);
	problem(record(c, "DN1", "written", "90", "100", on, 422),
	    "attempts_exhausted", "kind", detail);
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results WHERE "
	    "clinician_id = %lld", c), max);

	j = status_of(c);
	wr = dn1_exam(j, "written");
	assert_int_equal(testlib_int(wr, "attempts_used"), max);
	assert_int_equal(testlib_int(wr, "attempts_left"), 0);
	assert_true(json_is_false(json_object_get(wr, "passed")));
	assert_true(json_is_null(json_object_get(wr, "next_allowed_on")));
	/* the practical keeps its own */
	assert_int_equal(testlib_int(dn1_exam(j, "practical"),
	    "attempts_left"), max);
	json_decref(j);
}

/* ---- 6. dates after today --------------------------------------------- */

static void
future_exam_date(void **state)
{
	char today[11], tomorrow[11], detail[200], id[24], email[64];
	char *out = NULL, *err = NULL, path[80], body[200];
	long long c, r;

	(void)state;
	day(0, today);
	day(1, tomorrow);
	snprintf(detail, sizeof(detail), "the exam cannot be dated %s, after "
	    "today", tomorrow);

	/* the API */
	c = new_clinician("PT", NULL);
	enroll(c, "DN1", 0);
	problem(record(c, "DN1", "written", "80", "100", tomorrow, 422),
	    "date_in_future", "taken_on", detail);
	json_decref(record(c, "DN1", "written", "80", "100", today, 201));

	/* the CLI */
	c = new_clinician("PT", NULL);
	enroll(c, "DN1", 0);
	snprintf(id, sizeof(id), "%lld", c);
	CLI(1, "results", "record", id, "DN1", "written", "80", "--on",
	    tomorrow);
	testlib_has(err, detail);
	CLI(0, "results", "record", id, "DN1", "written", "80", "--on",
	    today);

	/* a results sheet, line and column named */
	c = new_clinician("PT", email);
	enroll(c, "DN1", 0);
	sheet_date_boundary(c, email, today, tomorrow, detail);

	/* an amendment is held to the same day */
	r = sql_ll("SELECT id FROM exam_results WHERE clinician_id = %lld "
	    "AND kind = 'written'", c);
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", r);
	snprintf(body, sizeof(body), "{\"score\":81,\"taken_on\":\"%s\","
	    "\"reason\":\"date\"}", tomorrow);
	problem(api("POST", path, w.grader, body, 422), "date_in_future",
	    "taken_on", detail);
	snprintf(body, sizeof(body), "{\"score\":81,\"taken_on\":\"%s\","
	    "\"reason\":\"date\"}", today);
	json_decref(api("POST", path, w.grader, body, 201));
	free(out);
	free(err);
}

static void
future_completion_date(void **state)
{
	char today[11], tomorrow[11], detail[200], id[24];
	char *out = NULL, *err = NULL;
	long long c, e;
	json_t *j;

	(void)state;
	day(0, today);
	day(1, tomorrow);
	snprintf(detail, sizeof(detail), "the course cannot be completed on "
	    "%s, after today", tomorrow);

	/* the API: refused, and no certificate issued for next year */
	c = new_clinician("NP", NULL);
	e = enroll(c, "DN1", 0);
	json_decref(record(c, "DN1", "written", "80", "100", today, 201));
	json_decref(record(c, "DN1", "practical", "80", "100", today, 201));
	problem(complete(e, tomorrow, 422), "date_in_future", "completed_on",
	    detail);
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "clinician_id = %lld", c), 0);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE id = "
	    "%lld AND status = 'enrolled'", e), 1);
	j = complete(e, today, 200);
	assert_string_equal(testlib_str(j, "completed_on"), today);
	assert_string_equal(testlib_str(json_object_get(j, "certificate"),
	    "issued_on"), today);
	json_decref(j);

	/* the CLI */
	c = new_clinician("NP", NULL);
	e = enroll(c, "DN1", 0);
	snprintf(id, sizeof(id), "%lld", e);
	CLI(1, "complete", id, "--on", tomorrow);
	testlib_has(err, detail);
	CLI(0, "complete", id, "--on", today);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE id = "
	    "%lld AND status = 'completed' AND completed_on = current_date",
	    e), 1);
	free(out);
	free(err);
}

static void
future_session_date(void **state)
{
	char today[11], tomorrow[11], detail[200];
	char *out = NULL, *err = NULL, loc[40];

	(void)state;
	day(0, today);
	day(1, tomorrow);
	snprintf(detail, sizeof(detail), "a session cannot be dated after "
	    "today (%s)", tomorrow);

	/* the API: starting tomorrow, or starting today and ending
	 * tomorrow, is refused; today and today is taken */
	problem(post_session(tomorrow, tomorrow, "Future A", 422),
	    "date_in_future", "starts_on", detail);
	problem(post_session(today, tomorrow, "Future A", 422),
	    "date_in_future", "ends_on", detail);
	assert_int_equal(sql_ll("SELECT count(*) FROM course_sessions WHERE "
	    "location = 'Future A'"), 0);
	json_decref(post_session(today, today, "Future A", 201));

	/* the CLI */
	snprintf(loc, sizeof(loc), "Future B");
	CLI(1, "sessions", "add", "DN1", "--starts", tomorrow, "--location",
	    loc);
	testlib_has(err, detail);
	CLI(1, "sessions", "add", "DN1", "--starts", today, "--ends", tomorrow,
	    "--location", loc);
	testlib_has(err, detail);
	assert_int_equal(sql_ll("SELECT count(*) FROM course_sessions WHERE "
	    "location = 'Future B'"), 0);
	CLI(0, "sessions", "add", "DN1", "--starts", today, "--location", loc);
	assert_int_equal(sql_ll("SELECT count(*) FROM course_sessions WHERE "
	    "location = 'Future B' AND starts_on = current_date"), 1);
	free(out);
	free(err);
}

static void
future_roster_dates(void **state)
{
	char today[11], tomorrow[11], detail[200], csv[1200];
	long long before = sql_ll("SELECT count(*) FROM clinicians");
	json_t *rep;

	(void)state;
	day(0, today);
	day(1, tomorrow);
	snprintf(detail, sizeof(detail), "a course cannot be dated after "
	    "today (%s)", tomorrow);
	snprintf(csv, sizeof(csv), "%s"
	    "Ann,Soon,ann.soon@holes.example,,PT,DN1,%s,%s,Future C,yes\n"
	    "Ben,Soon,ben.soon@holes.example,,PT,DN1,%s,%s,Future C,no\n"
	    "Cat,Soon,cat.soon@holes.example,,PT,DN1,%s,%s,Future C,yes\n",
	    roster_head, tomorrow, tomorrow, today, tomorrow, today, today);
	rep = import_refused(w.admin, "kind=roster", csv, 2);
	import_error(rep, 0, 2, "course_start", tomorrow, detail);
	import_error(rep, 1, 3, "course_end", tomorrow, detail);
	json_decref(rep);
	assert_int_equal(sql_ll("SELECT count(*) FROM clinicians"), before);

	/* today, both ends: imported and completed today */
	snprintf(csv, sizeof(csv), "%s"
	    "Cat,Soon,cat.soon@holes.example,,PT,DN1,%s,%s,Future C,yes\n",
	    roster_head, today, today);
	import_ok(w.admin, "kind=roster", csv);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments e JOIN "
	    "clinicians c ON c.id = e.clinician_id WHERE c.email = "
	    "'cat.soon@holes.example' AND e.completed_on = current_date"), 1);
}

/* ---- 7. an exam before its course ------------------------------------- */

static void
exam_before_course(void **state)
{
	long long session = new_session(-20, -18);
	char email[64], email2[64], s[11], before[11], detail[200];
	long long c = new_clinician("DO", email), c2 = new_clinician("DO",
	    email2);

	(void)state;
	enroll(c, "DN1", session);
	enroll(c2, "DN1", session);
	day(-20, s);
	day(-21, before);
	snprintf(detail, sizeof(detail), "the exam cannot be dated %s, before "
	    "its course session starts on %s", before, s);

	/* the API: the day before is refused, the first day taken */
	problem(record(c, "DN1", "written", "80", "100", before, 422),
	    "exam_before_course", "taken_on", detail);
	json_decref(record(c, "DN1", "written", "80", "100", s, 201));

	/* a results sheet */
	sheet_date_boundary(c2, email2, s, before, detail);
}

/* ---- 8. every problem of every row in one round ----------------------- */

static void
every_problem_in_one_round(void **state)
{
	long long max = level_rule("max_attempts", "DN1");
	long long wait = level_rule("retake_wait_days", "DN1");
	char soon[64], used[64], good[64], on[11], next[11], late[11];
	char csv[1500], detail[200];
	long long a = new_clinician("PT", soon), b = new_clinician("PT", used);
	long long g = new_clinician("PT", good);
	long long results, people, enrollments;
	json_t *rep;

	(void)state;
	enroll(a, "DN1", 0);
	enroll(b, "DN1", 0);
	enroll(g, "DN1", 0);
	/* A failed 10 days ago: a retake 5 days ago is too soon */
	day(-10, on);
	json_decref(record(a, "DN1", "written", "40", "100", on, 201));
	day(-10 + (int)wait, next);
	/* B used every attempt */
	for (long long k = 0; k < max; k++) {
		day(-(int)((max + 1) * wait) + (int)(k * wait), on);
		json_decref(record(b, "DN1", "written", "40", "100", on, 201));
	}
	day(-5, late);
	results = sql_ll("SELECT count(*) FROM exam_results");

	snprintf(csv, sizeof(csv), "%s"
	    ",nobody@holes.example,DN1,written,80,100,%s\n"	/* 2 */
	    ",%s,DN9,written,80,100,%s\n"			/* 3 */
	    ",%s,DN1,written,90,100,%s\n"			/* 4 */
	    ",%s,DN1,written,90,100,%s\n"			/* 5 */
	    ",%s,DN1,written,90,100,%s\n",			/* 6: good */
	    results_head, late, good, late, soon, late, used, late, good,
	    late);
	rep = import_refused(w.grader, "kind=results", csv, 4);
	import_error(rep, 0, 2, "email", "nobody@holes.example",
	    "there is no clinician with email 'nobody@holes.example'");
	import_error(rep, 1, 3, "level", "DN9", "there is no level 'DN9'*");
	snprintf(detail, sizeof(detail), "the next written attempt at Level 1 "
	    "is allowed on or after %s", next);
	import_error(rep, 2, 4, "taken_on", late, detail);
	snprintf(detail, sizeof(detail), "all %lld attempts at the written "
	    "exam of Level 1 are used", max);
	import_error(rep, 3, 5, "kind", NULL, detail);
	assert_int_equal(testlib_int(json_object_get(rep, "counts"), "rows"),
	    5);
	assert_int_equal(testlib_int(json_object_get(rep, "counts"),
	    "failed"), 4);
	json_decref(rep);
	/* all or nothing: not even the good row */
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results"), results);

	/* a roster: an NPI that fails its own check, a profession that is
	 * not eligible, a prerequisite missing, and a good row */
	people = sql_ll("SELECT count(*) FROM clinicians");
	enrollments = sql_ll("SELECT count(*) FROM enrollments");
	snprintf(csv, sizeof(csv), "%s"
	    "Ida,Npi,ida.npi@holes.example,1234567890,PT,DN1,,,,no\n"
	    "Pat,Asst,pat.asst@holes.example,,PTA,DN1,,,,no\n"
	    "Rex,Early,rex.early@holes.example,,PT,DN2,,,,no\n"
	    "Gus,Good,gus.good@holes.example,,PT,DN1,,,,no\n", roster_head);
	rep = import_refused(w.admin, "kind=roster", csv, 3);
	import_error(rep, 0, 2, "npi", "1234567890", "'1234567890' is not a "
	    "valid NPI (ten digits with a correct check digit)");
	import_error(rep, 1, 3, "profession", "PTA", "Physical Therapist "
	    "Assistant (PTA) may not enroll in Dry Needling: eligible "
	    "professions are DC, DO, MD, NP, PA, PT");
	import_error(rep, 2, 4, "level", "DN2",
	    "Level 2 requires Level 1 to be certified first");
	json_decref(rep);
	assert_int_equal(sql_ll("SELECT count(*) FROM clinicians"), people);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments"),
	    enrollments);
}

/* ---- 9. the audit trail of an imported clinician ---------------------- */

static void
imported_audit_trail(void **state)
{
	static const char *const roster_actions[] = { "clinician.create",
	    "enrollment.create", "enrollment.complete" };
	static const char *const results_actions[] = { "exam_result.record",
	    "exam_result.record", "certificate.issue" };
	char s[11], e[11], wd[11], pd[11], csv[800], path[80], id[24];
	char *out = NULL, *err = NULL;
	long long roster, roster2, results, c;
	json_t *j, *items, *it;
	size_t i;
	int seen[6] = { 0 };

	(void)state;
	day(-30, s);
	day(-28, e);
	day(-27, wd);
	day(-26, pd);
	/* enrolled by one roster, completed by the next (a roster row of a
	 * completed course enrolls it completed: one enrollment.create) */
	snprintf(csv, sizeof(csv), "%s"
	    "Ava,Trail,ava.trail@holes.example,1234567893,PT,DN1,%s,%s,"
	    "Trail Hall,no\n", roster_head, s, e);
	roster = import_ok(w.admin, "kind=roster", csv);
	snprintf(csv, sizeof(csv), "%s"
	    "Ava,Trail,ava.trail@holes.example,1234567893,PT,DN1,%s,%s,"
	    "Trail Hall,yes\n", roster_head, s, e);
	roster2 = import_ok(w.admin, "kind=roster", csv);
	c = sql_ll("SELECT id FROM clinicians WHERE npi = '1234567893'");
	snprintf(csv, sizeof(csv), "%s"
	    "1234567893,,DN1,written,80,100,%s\n"
	    "1234567893,,DN1,practical,90,100,%s\n", results_head, wd, pd);
	results = import_ok(w.grader, "kind=results", csv);
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "clinician_id = %lld AND revoked_at IS NULL", c), 1);

	snprintf(path, sizeof(path), "/v1/audit?clinician=%lld", c);
	j = api("GET", path, w.admin, NULL, 200);
	items = json_object_get(j, "items");
	if (json_array_size(items) != 6 || testlib_int(j, "total") != 6) {
		char *t = json_dumps(j, JSON_INDENT(1));
		fail_msg("want 6 audit entries: %s", t);
	}
	/* each action once (the result twice), with its import's id */
	json_array_foreach(items, i, it) {
		const char *action = testlib_str(it, "action");
		size_t k;
		for (k = 0; k < 6; k++) {
			const char *want = k < 3 ? roster_actions[k] :
			    results_actions[k - 3];
			if (!seen[k] && strcmp(action, want) == 0)
				break;
		}
		if (k == 6) {
			fail_msg("unexpected audit entry '%s'", action);
			return;
		}
		seen[k] = 1;
		assert_int_equal(testlib_int(it, "import_id"), k < 2 ? roster :
		    k == 2 ? roster2 : results);
		assert_string_equal(testlib_str(it, "actor"), k < 3 ? "admin" :
		    "grader");
	}
	json_decref(j);

	/* the CLI shows the same trail */
	snprintf(id, sizeof(id), "%lld", c);
	CLI(0, "audit", "--clinician", id);
	for (i = 0; i < 3; i++) {
		testlib_has(out, roster_actions[i]);
		testlib_has(out, results_actions[i]);
	}
	assert_non_null(strstr(strstr(out, "exam_result.record") + 1,
	    "exam_result.record"));
	CLI(0, "audit", "--clinician", id, "--json");
	j = testlib_json(out);
	items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 6);
	json_array_foreach(items, i, it) {
		const char *a = testlib_str(it, "action");
		long long want = strncmp(a, "exam_result", 11) == 0 ||
		    strncmp(a, "certificate", 11) == 0 ? results :
		    strcmp(a, "enrollment.complete") == 0 ? roster2 : roster;
		assert_int_equal(testlib_int(it, "import_id"), want);
	}
	json_decref(j);
	free(out);
	free(err);
}

/* ---- 10. level names -------------------------------------------------- */

/* Enrolls a new clinician in LEVEL (as typed) through the API, the CLI
 * and a roster import; each must be refused with CODE and DETAIL, or
 * (CODE NULL) enroll in DN1. */
static void
three_ways(const char *level, const char *code, const char *detail)
{
	char *out = NULL, *err = NULL, id[24], csv[600], email[64];
	long long c;
	json_t *j;

	/* the API */
	c = new_clinician("PT", NULL);
	if (code == NULL) {
		char body[200];
		snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
		    "\"%s\"}", c, level);
		j = api("POST", "/v1/enrollments", w.admin, body, 201);
		assert_string_equal(testlib_str(j, "level"), "DN1");
		json_decref(j);
	} else {
		problem(enroll_refused(c, level), code, "level", detail);
	}

	/* the CLI */
	c = new_clinician("PT", NULL);
	snprintf(id, sizeof(id), "%lld", c);
	CLI(code == NULL ? 0 : 1, "enroll", id, level);
	if (code != NULL)
		testlib_has(err, detail);

	/* a roster */
	snprintf(email, sizeof(email), "lv%d@holes.example", ++serial);
	snprintf(csv, sizeof(csv), "%sLee,Level,%s,,PT,%s,,,,no\n",
	    roster_head, email, level);
	if (code == NULL) {
		import_ok(w.admin, "kind=roster", csv);
	} else {
		json_t *rep = import_refused(w.admin, "kind=roster", csv, 1);
		import_error(rep, 0, 2, "level", level, detail);
		json_decref(rep);
	}
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments e JOIN "
	    "clinicians c ON c.id = e.clinician_id JOIN levels l ON l.id = "
	    "e.level_id WHERE c.email = '%s' AND l.code = 'DN1' AND "
	    "l.program_id = (SELECT id FROM programs WHERE code = 'DN')",
	    email),
	    code == NULL ? 1 : 0);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments e JOIN "
	    "levels l ON l.id = e.level_id WHERE e.clinician_id = %lld AND "
	    "l.code = 'DN1'", c), code == NULL ? 1 : 0);
	free(out);
	free(err);
}

/* A second program, CP (Cupping, open to PTs), whose level CP1 is also
 * titled "Level 1". */
static void
second_program_add(void)
{
	sql_do("INSERT INTO programs (code, name, credential_title, "
	    "certificate_validity_months) VALUES ('CP', 'Cupping', "
	    "'Certified Cupping Practitioner', 12)");
	sql_do("INSERT INTO program_professions (program_id, profession_code) "
	    "SELECT id, 'PT' FROM programs WHERE code = 'CP'");
	sql_do("INSERT INTO levels (program_id, code, ordinal, title, "
	    "written_pass_mark, practical_pass_mark, max_attempts, "
	    "retake_wait_days) SELECT id, 'CP1', 1, 'Level 1', 70, 70, 2, 7 "
	    "FROM programs WHERE code = 'CP'");
}

/* Program CP gone again, with any enrollment in it. */
static void
second_program_drop(void)
{
	sql_do("DELETE FROM enrollments WHERE level_id IN (SELECT l.id FROM "
	    "levels l JOIN programs g ON g.id = l.program_id WHERE g.code = "
	    "'CP')");
	sql_do("DELETE FROM program_professions WHERE program_id = (SELECT id "
	    "FROM programs WHERE code = 'CP')");
	sql_do("DELETE FROM levels WHERE program_id = (SELECT id FROM programs "
	    "WHERE code = 'CP')");
	sql_do("DELETE FROM programs WHERE code = 'CP'");
}

static void
level_names(void **state)
{
	char detail[200], today[11], email[64], csv[600];
	long long c;
	json_t *rep;

	(void)state;
	/* a title in any case, or a code in any case */
	three_ways("level 1", NULL, NULL);
	three_ways("Level 1", NULL, NULL);
	three_ways("LEVEL 1", NULL, NULL);
	three_ways("dn1", NULL, NULL);
	/* and the exam results too */
	c = new_clinician("PT", email);
	enroll(c, "Level 1", 0);
	day(-1, today);
	json_decref(record(c, "level 1", "written", "80", "100", today, 201));

	/* a second program with a level of the same title */
	second_program_add();
	snprintf(detail, sizeof(detail), "'Level 1' names 2 levels: write "
	    "one of CP/CP1, DN/DN1");
	three_ways("Level 1", "ambiguous_level", detail);
	snprintf(detail, sizeof(detail), "'level 1' names 2 levels: write "
	    "one of CP/CP1, DN/DN1");
	three_ways("level 1", "ambiguous_level", detail);
	/* the program's code tells them apart */
	three_ways("DN/Level 1", NULL, NULL);
	three_ways("dn / level 1", NULL, NULL);
	/* the code DN1 stays one level while only one program has it */
	three_ways("DN1", NULL, NULL);
	three_ways("dn1", NULL, NULL);

	/* ... and is ambiguous once the other program has a DN1 too */
	sql_do("INSERT INTO levels (program_id, code, ordinal, title, "
	    "written_pass_mark, practical_pass_mark, max_attempts, "
	    "retake_wait_days) SELECT id, 'DN1', 2, 'Dry Cupping', 70, 70, 2, "
	    "7 FROM programs WHERE code = 'CP'");
	snprintf(detail, sizeof(detail), "'DN1' names 2 levels: write one "
	    "of CP/DN1, DN/DN1");
	three_ways("DN1", "ambiguous_level", detail);
	three_ways("DN/DN1", NULL, NULL);
	/* the results sheet reads a level the same way */
	snprintf(csv, sizeof(csv), "%s,%s,DN1,practical,80,100,%s\n"
	    ",%s,level 1,practical,80,100,%s\n", results_head, email, today,
	    email, today);
	rep = import_refused(w.grader, "kind=results", csv, 2);
	import_error(rep, 0, 2, "level", "DN1", detail);
	import_error(rep, 1, 3, "level", "level 1", "'level 1' names 2 levels: "
	    "write one of CP/CP1, DN/DN1");
	json_decref(rep);
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results WHERE "
	    "clinician_id = %lld", c), 1);

	/* the second program goes, and the names are one level again */
	second_program_drop();
	three_ways("DN1", NULL, NULL);
	three_ways("Level 1", NULL, NULL);
}

/*
 * `certrack complete CLINICIAN LEVEL` and `certrack withdraw CLINICIAN
 * LEVEL` read the level through the server (GET /v1/levels/{name}, SQL
 * level_resolve()): a title two programs share is refused as `enroll`, the
 * API and imports refuse it, and neither program's enrollment changes.
 * (They once matched it in C and took the first program's.)
 */
static void
cli_complete_shared_title(void **state)
{
	char *out = NULL, *err = NULL, id[24], today[11];
	const char *detail = "'Level 1' names 2 levels: write one of CP/CP1, "
	    "DN/DN1";
	long long c = new_clinician("PT", NULL);

	(void)state;
	day(0, today);
	enroll(c, "DN1", 0);
	second_program_add();
	enroll(c, "CP1", 0);
	snprintf(id, sizeof(id), "%lld", c);
	/* refused as `enroll` refuses it, and nothing changed */
	CLI(1, "complete", id, "Level 1", "--on", today);
	testlib_has(err, detail);
	CLI(1, "withdraw", "--yes", id, "Level 1");
	testlib_has(err, detail);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE "
	    "clinician_id = %lld AND status = 'enrolled'", c), 2);
	second_program_drop();
	free(out);
	free(err);
}

/* ---- GET /v1/levels?name=: the new input, as an attacker sends it ----- */

static void *
levels_flood(void *arg)
{
	char hdr[200];
	long ok = 0;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", w.grader);
	for (int i = 0; i < 125; i++)
		if (testlib_http(w.port, "GET", "/v1/levels?name=Level%201",
		    hdr, NULL, NULL) == 200)
			ok++;
	(void)arg;
	return (void *)ok;
}

static void
levels_name_inputs(void **state)
{
	char path[8000], *resp = NULL;
	size_t n;
	pthread_t t[8];
	long total = 0;
	json_t *j;

	(void)state;
	/* no login, then any role */
	assert_int_equal(testlib_api(w.port, "GET", "/v1/levels?name=dn1",
	    NULL, NULL, &resp), 401);
	free(resp);
	j = api("GET", "/v1/levels?name=dn1", w.grader, NULL, 200);
	assert_string_equal(testlib_str(j, "code"), "DN1");
	json_decref(j);
	/* missing, invalid UTF-8, a NUL: clear 400s naming the parameter */
	problem(api("GET", "/v1/levels", w.grader, NULL, 400),
	    "invalid_parameter", "name", NULL);
	problem(api("GET", "/v1/levels?name=", w.grader, NULL, 400),
	    "invalid_parameter", "name", NULL);
	problem(api("GET", "/v1/levels?name=%FF", w.grader, NULL, 400),
	    "invalid_parameter", "name",
	    "the query parameter 'name' is not valid UTF-8 text");
	problem(api("GET", "/v1/levels?name=dn1%00x", w.grader, NULL, 400),
	    "invalid_parameter", "name",
	    "the query parameter 'name' holds a NUL byte");
	/* the same check stands before every route */
	problem(api("GET", "/v1/clinicians?profession=%C3", w.admin, NULL,
	    400), "invalid_parameter", "profession", NULL);
	/* an over-long name: refused as unknown, its quote cut on a whole
	 * character, the body still JSON */
	n = (size_t)snprintf(path, sizeof(path), "/v1/levels?name=");
	for (int i = 0; i < 1000; i++)
		n += (size_t)snprintf(path + n, sizeof(path) - n, "%%C3%%A9");
	j = api("GET", path, w.grader, NULL, 422);
	assert_string_equal(testlib_str(j, "code"), "unknown_level");
	assert_true(strlen(testlib_str(j, "detail")) < 512);
	json_decref(j);
	/* a thousand at once, from eight connections: every one answered */
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&t[i], NULL, levels_flood,
		    NULL), 0);
	for (int i = 0; i < 8; i++) {
		void *r;
		assert_int_equal(pthread_join(t[i], &r), 0);
		total += (long)r;
	}
	assert_int_equal(total, 1000);
	j = api("GET", "/v1/levels?name=dn2", w.grader, NULL, 200);
	json_decref(j);
}

/* ---- 11. an amendment back to pass ------------------------------------ */

static void
amend_back_to_pass(void **state)
{
	long long c = new_clinician("PT", NULL), e, written;
	char d0[11], d1[11], d2[11], path[80], first[16], second[16];
	char *out = NULL, *err = NULL;
	json_t *j, *cert, *s, *v;

	(void)state;
	day(-20, d0);
	day(-19, d1);
	day(-18, d2);
	e = enroll(c, "DN1", 0);
	json_decref(complete(e, d0, 200));
	j = record(c, "DN1", "written", "90", "100", d1, 201);
	written = testlib_int(j, "id");
	json_decref(j);
	j = record(c, "DN1", "practical", "90", "100", d2, 201);
	snprintf(first, sizeof(first), "%s", testlib_str(json_object_get(j,
	    "certificate"), "number"));
	json_decref(j);

	/* pass -> fail: revoked, category exam_result_amended */
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", written);
	j = api("POST", path, w.grader, "{\"score\":60,\"reason\":\"page two "
	    "counted twice\"}", 201);
	assert_true(json_is_false(json_object_get(j, "passed")));
	cert = json_object_get(j, "revoked_certificate");
	assert_string_equal(testlib_str(cert, "number"), first);
	assert_string_equal(testlib_str(cert, "revocation_category"),
	    "exam_result_amended");
	assert_true(json_is_null(json_object_get(j, "certificate")));
	written = testlib_int(j, "id");
	json_decref(j);

	s = status_of(c);
	cert = json_object_get(level_in(s, "DN1"), "certificate");
	assert_string_equal(testlib_str(cert, "number"), first);
	assert_string_equal(testlib_str(cert, "status"), "revoked");
	assert_string_equal(testlib_str(cert, "revocation_category"),
	    "exam_result_amended");
	assert_null(json_object_get(cert, "revocation_reason"));
	json_decref(s);
	CLI(1, "verify", first);
	testlib_has(out, "exam_result_amended");

	/* fail -> pass: a new certificate in place of the revoked one */
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", written);
	j = api("POST", path, w.grader, "{\"score\":88,\"reason\":\"page two "
	    "counted once after all\"}", 201);
	assert_true(json_is_true(json_object_get(j, "passed")));
	cert = json_object_get(j, "certificate");
	assert_true(json_is_object(cert));
	snprintf(second, sizeof(second), "%s", testlib_str(cert, "number"));
	assert_string_not_equal(second, first);
	assert_string_equal(testlib_str(cert, "replaces"), first);
	assert_true(json_is_null(json_object_get(cert, "revoked_at")));
	/* dated as the rules date it: the day the last requirement was met */
	assert_string_equal(testlib_str(cert, "issued_on"), d2);
	assert_true(json_is_null(json_object_get(j, "revoked_certificate")));
	json_decref(j);

	s = status_of(c);
	cert = json_object_get(level_in(s, "DN1"), "certificate");
	assert_string_equal(testlib_str(cert, "number"), second);
	assert_string_equal(testlib_str(cert, "status"), "valid");
	assert_string_equal(testlib_str(cert, "replaces"), first);
	assert_true(json_is_null(json_object_get(cert, "revocation_category")));
	json_decref(s);

	/* the old one still revoked, publicly: category, no note */
	v = verify(first);
	public_keys_only(v);
	assert_string_equal(testlib_str(v, "status"), "revoked");
	assert_string_equal(testlib_str(v, "revocation_category"),
	    "exam_result_amended");
	{
		char *t = json_dumps(v, 0);
		testlib_lacks(t, "page two");
		testlib_lacks(t, "exam result amended:");
		free(t);
	}
	json_decref(v);
	v = verify(second);
	assert_string_equal(testlib_str(v, "status"), "valid");
	json_decref(v);
	CLI(1, "verify", first);
	testlib_has(out, ": revoked\n");
	testlib_has(out, "exam_result_amended");
	testlib_lacks(out, "page two");
	testlib_lacks(out, "note:");
	CLI(0, "verify", second);
	testlib_has(out, ": valid\n");
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "clinician_id = %lld", c), 2);
	/* the level counts as certified again */
	enroll(c, "DN2", 0);
	free(out);
	free(err);
}

/* ---- group setup ------------------------------------------------------ */

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_holes");
	testlib_cli_env(&w, "holes", w.admin);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(expiry_day),
		cmocka_unit_test(expired_prerequisite_counts),
		cmocka_unit_test(retake_day),
		cmocka_unit_test(pass_mark),
		cmocka_unit_test(attempts_used_up),
		cmocka_unit_test(future_exam_date),
		cmocka_unit_test(future_completion_date),
		cmocka_unit_test(future_session_date),
		cmocka_unit_test(future_roster_dates),
		cmocka_unit_test(exam_before_course),
		cmocka_unit_test(every_problem_in_one_round),
		cmocka_unit_test(imported_audit_trail),
		cmocka_unit_test(level_names),
		cmocka_unit_test(amend_back_to_pass),
		cmocka_unit_test(cli_complete_shared_title),
		cmocka_unit_test(levels_name_inputs),
	};

	return cmocka_run_group_tests_name("e2e_holes", tests, setup,
	    teardown);
}
