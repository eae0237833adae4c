/*
 * End to end over raw HTTP against a real certrackd: a clinician's status
 * (shape and values for a mixed history, the credential held only while
 * every level's certificate is valid, a clinician account seeing only its
 * own), public certificate verification (valid, expired, revoked, unknown,
 * mistyped, typed loosely; never a key beyond the allowed ones),
 * revocation, level rule edits with their audit row, and eligibility.
 * History is seeded with SQL; dates are relative to the database's
 * current_date, which is what the daemon judges expiry by.
 */
#include "testlib.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "certrack/strnum.h"

static PGconn *db;
static char *conninfo;
static int port;
static pid_t daemon_pid = -1;
static char *admin_token, *grader_token, *ada_token;

/* Seeded ids and numbers. */
static long long ada, bob, cy, dee, eve;	/* clinicians */
static long long dn1, dn2;			/* levels */
static char ada_dn1[16], cy_dn2[16], dee_dn1[16], eve_dn1[16];

static long long
sql_id(const char *sql)
{
	char *v = testdb_value(db, sql);
	long long id;

	if (v == NULL || strnum_ll(v, 1, INT64_MAX, &id, NULL) != 0)
		fail_msg("'%s' gave no id", sql);
	free(v);
	return id;
}

static void
sql_text(const char *sql, char *out, size_t len)
{
	char *v = testdb_value(db, sql);

	if (v == NULL)
		fail_msg("'%s' gave NULL", sql);
	snprintf(out, len, "%s", v);
	free(v);
}

static long long
new_clinician(const char *given, const char *family, const char *email,
    const char *profession)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO clinicians (email, given_name, "
	    "family_name, profession_code, license_state, license_number) "
	    "VALUES ('%s', '%s', '%s', '%s', 'CO', 'L-%s') RETURNING id",
	    email, given, family, profession, family);
	return sql_id(sql);
}

/* An enrollment of C in LEVEL in a session of its own, completed
 * DAYS_AGO days ago (the session ending then), or only enrolled when
 * DAYS_AGO < 0. */
static void
enroll(long long c, long long level, int days_ago)
{
	char sql[800], completed[40];
	int end = days_ago < 0 ? 30 : days_ago;

	if (days_ago < 0)
		snprintf(completed, sizeof(completed), "NULL");
	else
		snprintf(completed, sizeof(completed), "current_date - %d",
		    days_ago);
	snprintf(sql, sizeof(sql),
	    "WITH s AS (INSERT INTO course_sessions (level_id, starts_on, "
	    "ends_on, location) VALUES (%lld, current_date - %d, "
	    "current_date - %d, 'Denver %lld') RETURNING id) "
	    "INSERT INTO enrollments (clinician_id, level_id, session_id, "
	    "status, completed_on) SELECT %lld, %lld, s.id, '%s', %s FROM s "
	    "RETURNING id",
	    level, end + 2, end, c, c, level,
	    days_ago < 0 ? "enrolled" : "completed", completed);
	(void)sql_id(sql);
}

static void
result(long long c, long long level, const char *kind, int attempt,
    int score, int days_ago)
{
	char sql[600];

	snprintf(sql, sizeof(sql), "INSERT INTO exam_results (clinician_id, "
	    "level_id, kind, attempt, score, max_score, pass_mark, passed, "
	    "taken_on) VALUES (%lld, %lld, '%s', %d, %d, 100, 75, "
	    "exam_passed(%d, 100, 75), current_date - %d)",
	    c, level, kind, attempt, score, score, days_ago);
	testdb_exec_ok(db, sql);
}

/* A certificate of C for LEVEL issued ISSUED days ago expiring in
 * EXPIRES days (negative: in the past); its number into NUMBER. */
static void
certificate(long long c, long long level, int issued, int expires,
    char *number)
{
	char sql[600];

	snprintf(sql, sizeof(sql), "INSERT INTO certificates (number, "
	    "clinician_id, level_id, issued_on, expires_on) VALUES "
	    "(certificate_number_new(), %lld, %lld, current_date - %d, "
	    "current_date + %d) RETURNING number", c, level, issued, expires);
	sql_text(sql, number, 16);
}

static int
setup(void **state)
{
	char *pw;

	(void)state;
	db = testdb_migrated("e2e_status", &conninfo);
	port = testlib_free_port();
	daemon_pid = testlib_start_daemon("status", port, conninfo, NULL);

	dn1 = sql_id("SELECT id FROM levels WHERE code = 'DN1'");
	dn2 = sql_id("SELECT id FROM levels WHERE code = 'DN2'");

	/* Ada: DN1 certified (written passed at the second attempt); DN2
	 * enrolled, written failed once 5 days ago, no practical yet. */
	ada = new_clinician("Ada", "Lovelace", "ada@example.org", "PT");
	enroll(ada, dn1, 60);
	result(ada, dn1, "written", 1, 60, 80);
	result(ada, dn1, "written", 2, 80, 62);
	result(ada, dn1, "practical", 1, 90, 61);
	certificate(ada, dn1, 60, 670, ada_dn1);
	enroll(ada, dn2, -1);
	result(ada, dn2, "written", 1, 50, 5);

	/* Bob: both levels certified and valid. */
	bob = new_clinician("Bob", "Stone", "bob@example.org", "MD");
	char scratch[16];
	enroll(bob, dn1, 200);
	result(bob, dn1, "written", 1, 100, 199);
	result(bob, dn1, "practical", 1, 75, 199);
	certificate(bob, dn1, 199, 500, scratch);
	enroll(bob, dn2, 100);
	result(bob, dn2, "written", 1, 76, 99);
	result(bob, dn2, "practical", 1, 88, 99);
	certificate(bob, dn2, 99, 600, scratch);

	/* Cy: DN1 valid, DN2 expired: the credential is not held. */
	cy = new_clinician("Cy", "Young", "cy@example.org", "DC");
	certificate(cy, dn1, 100, 600, scratch);
	certificate(cy, dn2, 1000, -270, cy_dn2);

	/* Dee: DN1 revoked.  Eve: DN1 valid, revoked by the tests. */
	dee = new_clinician("Dee", "Park", "dee@example.org", "NP");
	certificate(dee, dn1, 100, 600, dee_dn1);
	{
		char sql[300];
		snprintf(sql, sizeof(sql), "UPDATE certificates SET revoked_at "
		    "= now(), revocation_category = 'license_action', "
		    "revocation_reason = 'practised outside scope' "
		    "WHERE number = '%s'", dee_dn1);
		testdb_exec_ok(db, sql);
	}
	eve = new_clinician("Eve", "Moss", "eve@example.org", "PA");
	certificate(eve, dn1, 30, 700, eve_dn1);

	pw = testlib_make_user(conninfo, "admin", "admin", 0);
	admin_token = testlib_login(port, "admin", pw);
	free(pw);
	pw = testlib_make_user(conninfo, "grader", "grader", 0);
	grader_token = testlib_login(port, "grader", pw);
	free(pw);
	pw = testlib_make_user(conninfo, "ada", "clinician", ada);
	ada_token = testlib_login(port, "ada", pw);
	free(pw);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (daemon_pid > 0 && testlib_stop_daemon(daemon_pid) != 0)
		return -1;
	free(admin_token);
	free(grader_token);
	free(ada_token);
	PQfinish(db);
	free(conninfo);
	return 0;
}

/* METHOD PATH answers WANT; returns the parsed body (caller decrefs). */
static json_t *
call(const char *method, const char *path, const char *token,
    const char *body, int want)
{
	char *resp = NULL;
	json_error_t jerr;
	json_t *j;
	int got = testlib_api(port, method, path, token, body, &resp);

	if (got != want)
		fail_msg("%s %s: %d, wanted %d: %s", method, path, got, want,
		    resp ? resp : "");
	j = json_loads(resp ? resp : "", 0, &jerr);
	if (j == NULL)
		fail_msg("%s %s: not JSON: %s", method, path, resp);
	free(resp);
	return j;
}

static const char *
str(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

static long long
num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	return (long long)json_integer_value(v);
}

static bool
flag(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_boolean(v))
		fail_msg("'%s' is not a boolean", key);
	return json_is_true(v);
}

/* The database's current_date + DAYS, as YYYY-MM-DD. */
static void
day(int days, char *out)
{
	char sql[80];

	snprintf(sql, sizeof(sql), "SELECT (current_date + %d)::text", days);
	sql_text(sql, out, 11);
}

static json_t *
status_of(long long c, const char *token)
{
	char path[64];

	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", c);
	return call("GET", path, token, NULL, 200);
}

static void
status_mixed_history(void **state)
{
	json_t *s, *p, *l1, *l2, *w, *pr, *a;
	char d[11];

	(void)state;
	s = status_of(ada, admin_token);
	day(0, d);
	assert_string_equal(str(s, "as_of"), d);

	json_t *c = json_object_get(s, "clinician");
	assert_int_equal(num(c, "id"), ada);
	assert_string_equal(str(c, "given_name"), "Ada");
	assert_string_equal(str(c, "family_name"), "Lovelace");
	assert_string_equal(str(c, "email"), "ada@example.org");
	assert_true(json_is_null(json_object_get(c, "npi")));
	assert_string_equal(str(json_object_get(c, "profession"), "code"),
	    "PT");
	assert_string_equal(str(json_object_get(c, "profession"), "name"),
	    "Physical Therapist");
	assert_string_equal(str(json_object_get(c, "license"), "state"), "CO");
	assert_string_equal(str(json_object_get(c, "license"), "number"),
	    "L-Lovelace");

	assert_int_equal(json_array_size(json_object_get(s, "programs")), 1);
	p = json_array_get(json_object_get(s, "programs"), 0);
	assert_string_equal(str(p, "code"), "DN");
	assert_string_equal(str(p, "credential_title"),
	    "Certified Dry Needling Practitioner");
	assert_true(flag(p, "eligible"));
	assert_int_equal(json_array_size(json_object_get(p,
	    "eligible_professions")), 6);
	assert_false(flag(p, "credential_held"));
	assert_int_equal(json_array_size(json_object_get(p, "levels")), 2);

	/* DN1: completed, written passed at attempt 2, certified */
	l1 = json_array_get(json_object_get(p, "levels"), 0);
	assert_string_equal(str(l1, "code"), "DN1");
	assert_string_equal(str(l1, "title"), "Level 1");
	assert_int_equal(json_array_size(json_object_get(l1,
	    "prerequisites")), 0);
	json_t *e = json_object_get(l1, "enrollment");
	assert_string_equal(str(e, "status"), "completed");
	day(-60, d);
	assert_string_equal(str(e, "completed_on"), d);
	assert_non_null(strstr(str(json_object_get(e, "session"), "location"),
	    "Denver"));
	w = json_object_get(json_object_get(l1, "exams"), "written");
	assert_true(flag(w, "passed"));
	assert_int_equal(num(w, "attempts_used"), 2);
	assert_int_equal(num(w, "attempts_left"), 1);
	assert_int_equal(num(w, "max_attempts"), 3);
	assert_int_equal(num(w, "pass_mark"), 75);
	assert_true(json_is_null(json_object_get(w, "next_allowed_on")));
	assert_int_equal(json_array_size(json_object_get(w, "attempts")), 2);
	a = json_array_get(json_object_get(w, "attempts"), 0);
	assert_int_equal(num(a, "attempt"), 1);
	assert_int_equal(num(a, "score"), 60);
	assert_int_equal(num(a, "max_score"), 100);
	assert_false(flag(a, "passed"));
	assert_false(flag(a, "amended"));
	assert_true(json_is_number(json_object_get(a, "percent")));
	assert_true(json_number_value(json_object_get(a, "percent")) == 60.0);
	day(-80, d);
	assert_string_equal(str(a, "taken_on"), d);
	a = json_array_get(json_object_get(w, "attempts"), 1);
	assert_int_equal(num(a, "attempt"), 2);
	assert_true(flag(a, "passed"));
	json_t *cert = json_object_get(l1, "certificate");
	assert_string_equal(str(cert, "number"), ada_dn1);
	assert_string_equal(str(cert, "status"), "valid");
	day(670, d);
	assert_string_equal(str(cert, "expires_on"), d);
	assert_true(json_is_null(json_object_get(cert, "revocation_category")));
	assert_null(json_object_get(cert, "revocation_reason"));

	/* DN2: enrolled, written failed once 5 days ago, no practical */
	l2 = json_array_get(json_object_get(p, "levels"), 1);
	assert_string_equal(str(l2, "code"), "DN2");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(l2, "prerequisites"), 0)), "DN1");
	assert_string_equal(str(json_object_get(l2, "enrollment"), "status"),
	    "enrolled");
	assert_true(json_is_null(json_object_get(json_object_get(l2,
	    "enrollment"), "completed_on")));
	w = json_object_get(json_object_get(l2, "exams"), "written");
	assert_false(flag(w, "passed"));
	assert_int_equal(num(w, "attempts_used"), 1);
	assert_int_equal(num(w, "attempts_left"), 2);
	day(-5 + 14, d);
	assert_string_equal(str(w, "next_allowed_on"), d);
	pr = json_object_get(json_object_get(l2, "exams"), "practical");
	assert_false(flag(pr, "passed"));
	assert_int_equal(num(pr, "attempts_used"), 0);
	assert_int_equal(num(pr, "attempts_left"), 3);
	assert_true(json_is_null(json_object_get(pr, "next_allowed_on")));
	assert_int_equal(json_array_size(json_object_get(pr, "attempts")), 0);
	assert_true(json_is_null(json_object_get(l2, "certificate")));
	json_decref(s);
}

static void
status_amended_and_exhausted(void **state)
{
	json_t *s, *w;
	char sql[400];
	long long c, first;

	(void)state;
	/* three failures: no attempt left, so no next date; an amendment of
	 * the first shows as amended */
	c = new_clinician("Fay", "Wray", "fay@example.org", "DO");
	enroll(c, dn1, -1);
	result(c, dn1, "written", 1, 10, 60);
	result(c, dn1, "written", 2, 20, 40);
	result(c, dn1, "written", 3, 30, 20);
	snprintf(sql, sizeof(sql), "SELECT id FROM exam_results WHERE "
	    "clinician_id = %lld AND attempt = 1", c);
	first = sql_id(sql);
	snprintf(sql, sizeof(sql), "INSERT INTO exam_results (clinician_id, "
	    "level_id, kind, attempt, score, max_score, pass_mark, passed, "
	    "taken_on, supersedes, amend_reason) VALUES (%lld, %lld, "
	    "'written', 1, 74, 100, 75, exam_passed(74, 100, 75), "
	    "current_date - 60, %lld, 'recounted')", c, dn1, first);
	testdb_exec_ok(db, sql);
	s = status_of(c, grader_token);
	w = json_object_get(json_object_get(json_array_get(json_object_get(
	    json_array_get(json_object_get(s, "programs"), 0), "levels"), 0),
	    "exams"), "written");
	assert_int_equal(num(w, "attempts_used"), 3);
	assert_int_equal(num(w, "attempts_left"), 0);
	assert_false(flag(w, "passed"));
	assert_true(json_is_null(json_object_get(w, "next_allowed_on")));
	json_t *a = json_array_get(json_object_get(w, "attempts"), 0);
	assert_int_equal(num(a, "score"), 74);
	assert_true(flag(a, "amended"));
	assert_false(flag(json_array_get(json_object_get(w, "attempts"), 1),
	    "amended"));
	json_decref(s);
}

static void
status_credential_held(void **state)
{
	json_t *s;

	(void)state;
	s = status_of(bob, admin_token);
	json_t *p = json_array_get(json_object_get(s, "programs"), 0);
	assert_true(flag(p, "credential_held"));
	json_decref(s);

	s = status_of(cy, admin_token);
	p = json_array_get(json_object_get(s, "programs"), 0);
	assert_false(flag(p, "credential_held"));
	json_t *l2 = json_array_get(json_object_get(p, "levels"), 1);
	assert_string_equal(str(json_object_get(l2, "certificate"), "status"),
	    "expired");
	assert_true(json_is_null(json_object_get(l2, "enrollment")));
	json_decref(s);

	s = status_of(dee, admin_token);
	p = json_array_get(json_object_get(s, "programs"), 0);
	assert_false(flag(p, "credential_held"));
	json_t *c1 = json_object_get(json_array_get(json_object_get(p,
	    "levels"), 0), "certificate");
	assert_string_equal(str(c1, "status"), "revoked");
	/* the public category, never the staff note */
	assert_string_equal(str(c1, "revocation_category"), "license_action");
	assert_null(json_object_get(c1, "revocation_reason"));
	json_decref(s);
}

static void
status_access(void **state)
{
	char path[64];
	json_t *j;

	(void)state;
	/* a clinician account sees its own status ... */
	j = status_of(ada, ada_token);
	assert_int_equal(num(json_object_get(j, "clinician"), "id"), ada);
	json_decref(j);
	/* ... and nobody else's, as if it did not exist */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", bob);
	j = call("GET", path, ada_token, NULL, 404);
	assert_string_equal(str(j, "code"), "not_found");
	json_decref(j);
	/* unknown and malformed ids */
	j = call("GET", "/v1/clinicians/999999/status", admin_token, NULL, 404);
	json_decref(j);
	j = call("GET", "/v1/clinicians/abc/status", admin_token, NULL, 404);
	json_decref(j);
	/* no login */
	j = call("GET", path, NULL, NULL, 401);
	json_decref(j);
}

/* Fails unless every key of J is in ALLOWED and every one of REQUIRED
 * (the first NREQ of ALLOWED) is there. */
static void
only_keys(const json_t *j, const char *const *allowed, size_t n, size_t nreq)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)j, key, v) {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (i == n)
			fail_msg("verification leaks '%s'", key);
	}
	for (size_t i = 0; i < nreq; i++)
		if (json_object_get(j, allowed[i]) == NULL)
			fail_msg("verification lacks '%s'", allowed[i]);
}

static const char *const verify_keys[] = {
	"number", "status", "holder", "level", "program", "issued_on",
	"expires_on", "revoked_on", "revocation_category",
};

static void
verify_valid_expired_revoked(void **state)
{
	char path[80], d[11];
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "/v1/certificates/%s", ada_dn1);
	j = call("GET", path, NULL, NULL, 200);	/* no login needed */
	only_keys(j, verify_keys, 9, 7);
	assert_int_equal(json_object_size(j), 7);
	assert_string_equal(str(j, "number"), ada_dn1);
	assert_string_equal(str(j, "status"), "valid");
	assert_string_equal(str(j, "holder"), "Ada Lovelace");
	assert_string_equal(str(j, "level"), "Level 1");
	assert_string_equal(str(j, "program"), "Dry Needling");
	day(-60, d);
	assert_string_equal(str(j, "issued_on"), d);
	day(670, d);
	assert_string_equal(str(j, "expires_on"), d);
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/certificates/%s", cy_dn2);
	j = call("GET", path, NULL, NULL, 200);
	only_keys(j, verify_keys, 9, 7);
	assert_int_equal(json_object_size(j), 7);
	assert_string_equal(str(j, "status"), "expired");
	assert_string_equal(str(j, "level"), "Level 2");
	day(-270, d);
	assert_string_equal(str(j, "expires_on"), d);
	day(-1000, d);
	assert_string_equal(str(j, "issued_on"), d);
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/certificates/%s", dee_dn1);
	j = call("GET", path, admin_token, NULL, 200);
	only_keys(j, verify_keys, 9, 9);
	assert_string_equal(str(j, "status"), "revoked");
	assert_string_equal(str(j, "revocation_category"), "license_action");
	day(0, d);
	assert_string_equal(str(j, "revoked_on"), d);
	json_decref(j);
}

static void
verify_unknown_and_mistyped(void **state)
{
	char path[80], number[16], detail[120];
	json_t *j;

	(void)state;
	/* a well-formed number nobody holds */
	sql_text("SELECT certificate_number_new()", number, sizeof(number));
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	j = call("GET", path, NULL, NULL, 404);
	assert_string_equal(str(j, "code"), "unknown_certificate");
	json_decref(j);

	/* the documentation's example: the check symbol is wrong */
	j = call("GET", "/v1/certificates/ABCD-EFGH-JKMZ", NULL, NULL, 422);
	assert_string_equal(str(j, "code"), "invalid_certificate_number");
	assert_string_equal(str(j, "detail"), "'ABCD-EFGH-JKMZ' is not a "
	    "valid certificate number (check the digits)");
	json_decref(j);

	/* one symbol of a real number mistyped: caught before any lookup */
	strcpy(number, ada_dn1);
	number[5] = number[5] == 'A' ? 'B' : 'A';
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	j = call("GET", path, NULL, NULL, 422);
	assert_string_equal(str(j, "code"), "invalid_certificate_number");
	snprintf(detail, sizeof(detail), "'%s' is not a valid certificate "
	    "number (check the digits)", number);
	assert_string_equal(str(j, "detail"), detail);
	json_decref(j);

	/* too short, a U */
	j = call("GET", "/v1/certificates/ABCD-EFGH", NULL, NULL, 422);
	assert_string_equal(str(j, "code"), "invalid_certificate_number");
	json_decref(j);
	j = call("GET", "/v1/certificates/ABCD-EFGH-JKMU", NULL, NULL, 422);
	assert_string_equal(str(j, "code"), "invalid_certificate_number");
	json_decref(j);
}

static void
verify_loose_input(void **state)
{
	char path[80], typed[20];
	json_t *j;
	size_t k = 0;

	(void)state;
	/* lower case, no hyphens */
	for (const char *p = ada_dn1; *p; p++)
		if (*p != '-')
			typed[k++] = (char)(*p >= 'A' && *p <= 'Z' ?
			    *p - 'A' + 'a' : *p);
	typed[k] = '\0';
	snprintf(path, sizeof(path), "/v1/certificates/%s", typed);
	j = call("GET", path, NULL, NULL, 200);
	assert_string_equal(str(j, "number"), ada_dn1);
	json_decref(j);
	/* blanks (URL-encoded) instead of hyphens */
	snprintf(path, sizeof(path), "/v1/certificates/%.4s%%20%.4s%%20%.4s",
	    ada_dn1, ada_dn1 + 5, ada_dn1 + 10);
	j = call("GET", path, NULL, NULL, 200);
	assert_string_equal(str(j, "number"), ada_dn1);
	json_decref(j);
}

static void
revoke_twice(void **state)
{
	char path[80], sql[200], *v;
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", eve_dn1);
	/* not by a grader, not without a category and a note, not with a
	 * category off the list */
	json_decref(call("POST", path, grader_token,
	    "{\"category\":\"other\",\"note\":\"x\"}", 403));
	json_decref(call("POST", path, admin_token, "{}", 422));
	json_decref(call("POST", path, admin_token,
	    "{\"category\":\"other\"}", 422));
	j = call("POST", path, admin_token,
	    "{\"category\":\"lapsed\",\"note\":\"x\"}", 422);
	assert_string_equal(str(j, "code"), "invalid_category");
	json_decref(j);
	j = call("POST", path, admin_token, "{\"category\":\"license_action\","
	    "\"note\":\"  licence lapsed  \"}", 200);
	assert_string_equal(str(j, "number"), eve_dn1);
	assert_string_equal(str(j, "status"), "revoked");
	assert_string_equal(str(j, "revocation_category"), "license_action");
	assert_string_equal(str(j, "revocation_note"), "licence lapsed");
	json_decref(j);

	j = call("POST", path, admin_token,
	    "{\"category\":\"other\",\"note\":\"again\"}", 409);
	assert_string_equal(str(j, "code"), "already_revoked");
	json_decref(j);

	/* one audit row, with the row before and after */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'certificate.revoke' AND after->>'number' = '%s' "
	    "AND before->>'revoked_at' IS NULL "
	    "AND after->>'revocation_reason' = 'licence lapsed'", eve_dn1);
	v = testdb_value(db, sql);
	assert_string_equal(v, "1");
	free(v);

	snprintf(path, sizeof(path), "/v1/certificates/%s", eve_dn1);
	j = call("GET", path, NULL, NULL, 200);
	assert_string_equal(str(j, "status"), "revoked");
	/* the public sees the category, never the staff note */
	assert_string_equal(str(j, "revocation_category"), "license_action");
	assert_null(json_object_get(j, "revocation_reason"));
	assert_null(json_object_get(j, "revocation_note"));
	v = json_dumps(j, 0);
	assert_null(strstr(v, "lapsed"));
	free(v);
	json_decref(j);

	/* unknown and mistyped numbers */
	json_decref(call("POST", "/v1/certificates/ABCD-EFGH-JKMY/revoke",
	    admin_token, "{\"category\":\"other\",\"note\":\"x\"}", 404));
	json_decref(call("POST", "/v1/certificates/ABCD-EFGH-JKMZ/revoke",
	    admin_token, "{\"category\":\"other\",\"note\":\"x\"}", 422));
}

static void
level_edit(void **state)
{
	char path[64], sql[300], *v;
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "/v1/levels/%lld", dn2);
	j = call("GET", path, grader_token, NULL, 200);
	assert_int_equal(num(j, "written_pass_mark"), 75);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(j, "prerequisites"), 0)), "DN1");
	json_decref(j);

	/* a grader may not */
	j = call("PATCH", path, grader_token, "{\"written_pass_mark\":80}",
	    403);
	json_decref(j);
	/* out of range, named */
	j = call("PATCH", path, admin_token, "{\"written_pass_mark\":101}",
	    422);
	assert_string_equal(str(j, "field"), "written_pass_mark");
	json_decref(j);
	j = call("PATCH", path, admin_token, "{\"max_attempts\":0}", 422);
	assert_string_equal(str(j, "field"), "max_attempts");
	json_decref(j);
	j = call("PATCH", path, admin_token, "{\"colour\":\"red\"}", 400);
	json_decref(j);
	j = call("PATCH", path, admin_token, "{}", 422);
	json_decref(j);

	j = call("PATCH", path, admin_token,
	    "{\"written_pass_mark\":80.5,\"retake_wait_days\":21}", 200);
	assert_true(json_number_value(json_object_get(j,
	    "written_pass_mark")) == 80.5);
	assert_int_equal(num(j, "retake_wait_days"), 21);
	assert_int_equal(num(j, "practical_pass_mark"), 75);
	json_decref(j);

	snprintf(sql, sizeof(sql), "SELECT count(*) || ' ' || "
	    "min(before->>'written_pass_mark') || ' ' || "
	    "min(after->>'written_pass_mark') || ' ' || "
	    "min(before->>'retake_wait_days') || ' ' || "
	    "min(after->>'retake_wait_days') FROM audit_log "
	    "WHERE action = 'level.update' AND entity = 'level' "
	    "AND entity_id = '%lld'", dn2);
	v = testdb_value(db, sql);
	assert_string_equal(v, "1 75 80.5 14 21");
	free(v);

	/* the status shows the rule in force, and a level unknown is 404 */
	j = status_of(ada, admin_token);
	json_t *w = json_object_get(json_object_get(json_array_get(
	    json_object_get(json_array_get(json_object_get(j, "programs"), 0),
	    "levels"), 1), "exams"), "written");
	char d[11];
	day(-5 + 21, d);
	assert_string_equal(str(w, "next_allowed_on"), d);
	json_decref(j);
	json_decref(call("PATCH", "/v1/levels/999999", admin_token,
	    "{\"title\":\"X\"}", 404));

	/* put the rule back */
	json_decref(call("PATCH", path, admin_token,
	    "{\"written_pass_mark\":75,\"retake_wait_days\":14}", 200));
}

static void
programs_and_professions(void **state)
{
	json_t *j, *p;

	(void)state;
	j = call("GET", "/v1/programs", ada_token, NULL, 200);
	p = json_array_get(json_object_get(j, "programs"), 0);
	assert_string_equal(str(p, "code"), "DN");
	assert_int_equal(json_array_size(json_object_get(p, "levels")), 2);
	assert_int_equal(json_array_size(json_object_get(p,
	    "eligible_professions")), 6);
	json_decref(j);
	j = call("GET", "/v1/programs/dn", ada_token, NULL, 200);
	assert_string_equal(str(j, "name"), "Dry Needling");
	assert_int_equal(num(json_array_get(json_object_get(j, "levels"), 1),
	    "max_attempts"), 3);
	json_decref(j);
	j = call("GET", "/v1/programs/XX", ada_token, NULL, 404);
	assert_string_equal(str(j, "code"), "unknown_program");
	json_decref(j);

	j = call("GET", "/v1/professions", grader_token, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "professions")),
	    12);
	json_decref(j);
	/* public: an applicant asks without an account */
	j = call("GET", "/v1/professions", NULL, NULL, 200);
	assert_int_equal(json_array_size(json_object_get(j, "professions")),
	    12);
	json_decref(j);
}

static void
eligibility(void **state)
{
	json_t *j;

	(void)state;
	j = call("GET", "/v1/eligibility?profession=physical%20therapist",
	    ada_token, NULL, 200);
	assert_string_equal(str(json_object_get(j, "profession"), "code"),
	    "PT");
	assert_string_equal(str(j, "program"), "DN");
	assert_true(flag(j, "eligible"));
	json_decref(j);

	j = call("GET", "/v1/eligibility?profession=PTA&program=DN",
	    grader_token, NULL, 200);
	assert_string_equal(str(json_object_get(j, "profession"), "name"),
	    "Physical Therapist Assistant");
	assert_false(flag(j, "eligible"));
	json_decref(j);

	j = call("GET", "/v1/eligibility?profession=plumber", admin_token,
	    NULL, 404);
	assert_string_equal(str(j, "code"), "unknown_profession");
	assert_non_null(strstr(str(j, "detail"), "'plumber'"));
	assert_non_null(strstr(str(j, "detail"), "PT, PTA"));
	json_decref(j);

	json_decref(call("GET", "/v1/eligibility", admin_token, NULL, 400));
	json_decref(call("GET", "/v1/eligibility?profession=PT&program=ZZ",
	    admin_token, NULL, 404));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_mixed_history),
		cmocka_unit_test(status_amended_and_exhausted),
		cmocka_unit_test(status_credential_held),
		cmocka_unit_test(status_access),
		cmocka_unit_test(verify_valid_expired_revoked),
		cmocka_unit_test(verify_unknown_and_mistyped),
		cmocka_unit_test(verify_loose_input),
		cmocka_unit_test(revoke_twice),
		cmocka_unit_test(level_edit),
		cmocka_unit_test(programs_and_professions),
		cmocka_unit_test(eligibility),
	};

	return cmocka_run_group_tests_name("e2e_status", tests, setup,
	    teardown);
}
