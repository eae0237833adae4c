/*
 * The logged-in pages end to end (issue 12, items 3 and 5): a real
 * certrackd and database, a course session of four clinicians, and
 * tests/web/browser2.py driving headless Chromium through them: an admin
 * marks course completion on the session sheet, a grader records a pass, a
 * fail, a retake too soon and leaves a row empty; the clinician who passed
 * logs in with a generated password (the forced change), reads the
 * transcript, downloads the PDF, lists themself in the directory, logs
 * out, and the back button shows nothing private; a page session ends
 * when its token is revoked or its account disabled (over HTTP and in the
 * browser: the next page is the login page); a row of the sheet with its
 * own exam date.  Forms without their
 * CSRF token, a clinician's cookie on staff pages and the cookie on /v1/
 * routes are refused; every page passes tidy.  The C side seeds, checks
 * through the API what the pages wrote, and asserts the script's exit.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct testlib_world w;

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "web2");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

/* POST BODY to PATH as the admin (201); the id of what it made. */
static long long
post_id(const char *path, const char *body)
{
	char *resp = NULL;
	json_t *j;
	long long id;

	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, body,
	    &resp), 201);
	j = testlib_json(resp);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(resp);
	return id;
}

/* A new PT clinician; its id. */
static long long
clinician(const char *given, const char *family)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"email\":\"%s@web2.example\","
	    "\"given_name\":\"%s\",\"family_name\":\"%s\","
	    "\"profession\":\"PT\"}", given, given, family);
	return post_id("/v1/clinicians", body);
}

static long long
enroll(long long c, long long session)
{
	char body[128];

	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\",\"session_id\":%lld}", c, session);
	return post_id("/v1/enrollments", body);
}

/* Asserts that the SQL (printf-style, one %lld or none) answers WANT. */
#define sql_is(want, ...) do { \
	char *v_ = testdb_textf(w.db, __VA_ARGS__); \
	assert_non_null(v_); \
	assert_string_equal(v_, want); \
	free(v_); \
} while (0)

static void
pages_in_a_browser(void **state)
{
	long long pat, fay, rex, emma, session, rex_enr;
	char *resp = NULL, *pat_pw, *fay_pw, *fay_user, *today, *ends;
	char *rex_pw, *rex_user;
	char body[256], path[64], base[64], fixture[512], script[512];
	char *out = NULL, *err = NULL;
	json_t *fx;
	int rc;

	(void)state;
	today = testdb_value(w.db, "SELECT current_date::text");
	ends = testdb_value(w.db, "SELECT (current_date - 1)::text");
	snprintf(body, sizeof(body), "{\"level\":\"DN1\",\"starts_on\":"
	    "\"%s\",\"ends_on\":\"%s\",\"location\":\"Austin, TX\"}", ends,
	    ends);
	session = post_id("/v1/sessions", body);
	pat = clinician("Pat", "Passer");
	fay = clinician("Fay", "Failer");
	rex = clinician("Rex", "Retaker");
	emma = clinician("Emma", "Empty");
	enroll(pat, session);
	enroll(fay, session);
	rex_enr = enroll(rex, session);
	enroll(emma, session);
	/* Rex completed and failed his written exam today already */
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/complete", rex_enr);
	snprintf(body, sizeof(body), "{\"completed_on\":\"%s\"}", ends);
	assert_int_equal(testlib_api(w.port, "POST", path, w.grader, body,
	    &resp), 200);
	free(resp);
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\",\"kind\":\"written\",\"score\":40,\"max_score\":100,"
	    "\"taken_on\":\"%s\"}", rex, today);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/exam-results",
	    w.grader, body, &resp), 201);
	free(resp);
	pat_pw = testlib_create_user(w.conninfo, "pat", "clinician", pat);
	fay_pw = testlib_make_user(w.conninfo, "fay", "clinician", fay);
	fay_user = testdb_value(w.db, "SELECT id FROM users WHERE username = "
	    "'fay'");
	rex_pw = testlib_make_user(w.conninfo, "rex", "clinician", rex);
	rex_user = testdb_value(w.db, "SELECT id FROM users WHERE username = "
	    "'rex'");

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", w.port);
	fx = json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:s, s:s, s:s, s:s, s:s}", "base", base, "session",
	    (json_int_t)session, "fay_pw", fay_pw, "fay_user", fay_user,
	    "admin_pw", w.admin_pw, "grader_pw", w.grader_pw,
	    "pat_pw", pat_pw, "pat", "Pat Passer", "fay", "Fay Failer",
	    "rex", "Rex Retaker", "emma", "Emma Empty", "today", today,
	    "yesterday", ends, "rex_pw", rex_pw, "rex_user", rex_user);
	assert_non_null(fx);
	snprintf(fixture, sizeof(fixture), "%s/web2-fixture.json",
	    testlib_env("CERTRACK_TEST_TMP"));
	assert_int_equal(json_dump_file(fx, fixture, JSON_INDENT(1)), 0);
	json_decref(fx);
	snprintf(script, sizeof(script), "%s/../tests/web/browser2.py",
	    testlib_env("CERTRACK_TEST_BIN"));
	char *argv[] = { "/usr/bin/python3", script, fixture, NULL };
	rc = testlib_run(argv, NULL, &out, &err);
	if (rc != 0) {
		fprintf(stderr, "%s%s", out, err);
		fail_msg("browser2.py exited %d (its output is above)", rc);
	}
	testlib_has(out, "all checks passed");
	testlib_lacks(out, "FAIL ");

	/* what the pages wrote, in the database */
	sql_is("1", "SELECT count(*) FROM certificates WHERE clinician_id = "
	    "%lld AND revoked_at IS NULL", pat);
	sql_is("false", "SELECT string_agg(passed::text, ',') FROM "
	    "exam_results WHERE clinician_id = %lld", fay);
	/* Fay's row had its own date, Pat's the sheet's */
	sql_is("1", "SELECT count(*) FROM exam_results WHERE clinician_id = "
	    "%lld AND taken_on = current_date - 1", fay);
	sql_is("2", "SELECT count(*) FROM exam_results WHERE clinician_id = "
	    "%lld AND taken_on = current_date", pat);
	sql_is("1", "SELECT count(*) FROM exam_results WHERE clinician_id = "
	    "%lld", rex);		/* the retake too soon was refused */
	sql_is("0", "SELECT count(*) FROM exam_results WHERE clinician_id = "
	    "%lld", emma);
	sql_is("completed", "SELECT string_agg(DISTINCT status, ',') FROM "
	    "enrollments WHERE session_id = %lld", session);
	sql_is("t", "SELECT directory_listed::text::char FROM clinicians "
	    "WHERE id = %lld", pat);
	/* the web login is the API's: its audit rows, its token rows */
	sql_is("t", "SELECT (count(*) >= 2)::text::char FROM audit_log WHERE "
	    "action = 'user.login' AND entity_id = (SELECT id::text FROM "
	    "users WHERE username = 'pat')");
	sql_is("0", "SELECT count(*) FROM api_tokens t JOIN users u ON "
	    "u.id = t.user_id WHERE u.username = 'pat' AND t.revoked_at IS "
	    "NULL AND t.expires_at > now()");
	/* Rex's page sessions ended by a revocation, then by the disable */
	sql_is("t", "SELECT disabled::text::char FROM users WHERE username = "
	    "'rex'");
	sql_is("0", "SELECT count(*) FROM api_tokens t JOIN users u ON "
	    "u.id = t.user_id WHERE u.username = 'rex' AND t.revoked_at IS "
	    "NULL");
	free(out);
	free(err);
	free(pat_pw);
	free(fay_pw);
	free(fay_user);
	free(rex_pw);
	free(rex_user);
	free(today);
	free(ends);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pages_in_a_browser),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
