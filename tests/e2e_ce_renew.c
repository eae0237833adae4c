/*
 * Keeping a credential, the rest of issue 13: renewal by re-sitting the
 * written exam (the pass mark exactly and a hundredth below, the last
 * attempt and the one after it, the window's edges by the exam's date,
 * before and after expiry, the refusals), and the CSV import of CE
 * activities (all-or-nothing, dry run, partial, re-import unchanged, the
 * same checks as the API, a completed requirement renewing at once), with
 * the CLI for both.  Certificates are put in the database with the dates
 * each case needs; everything else goes through the API or the CLI.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct testlib_world w;
static int serial;

/* A new clinician (NPI NPI or none) holding a LEVEL certificate issued
 * ISSUED days from today and expiring EXPIRES days from today; its id in
 * *CLIN, its number returned (caller frees). */
static char *
holder_at(const char *level, int issued, int expires, long long *clin)
{
	serial++;
	*clin = testdb_llf(w.db, "INSERT INTO clinicians (given_name,"
	    " family_name, email, profession_code) VALUES ('Exam', 'Case%d',"
	    " 'exam%d@example.org', 'PT') RETURNING id", serial, serial);
	return testdb_textf(w.db, "INSERT INTO certificates (number,"
	    " clinician_id, level_id, issued_on, expires_on) SELECT"
	    " certificate_number_new(), %lld, id, current_date + %d,"
	    " current_date + %d FROM levels WHERE code = '%s' RETURNING number",
	    *clin, issued, expires, level);
}

static char *
holder(int issued, int expires, long long *clin)
{
	return holder_at("DN1", issued, expires, clin);
}

/* The date DAYS from today, YYYY-MM-DD (caller frees). */
static char *
day(int days)
{
	return testdb_textf(w.db, "SELECT (current_date + %d)::text", days);
}

/* POST a renewal exam of NUMBER: SCORE of MAX taken DAYS from today, by
 * the grader; the status must be WANT; the answer returned. */
static json_t *
exam(const char *number, const char *score, const char *max, int days,
    int want)
{
	char path[80], body[200], *resp = NULL, *d = day(days);
	json_t *j;
	int st;

	snprintf(path, sizeof(path), "/v1/certificates/%s/renewal-exams",
	    number);
	snprintf(body, sizeof(body), "{\"score\":%s,\"max_score\":%s,"
	    "\"taken_on\":\"%s\"}", score, max, d);
	free(d);
	st = testlib_api(w.port, "POST", path, w.grader, body, &resp);
	if (st != want)
		fail_msg("POST %s %s: %d, expected %d: %s", path, body, st,
		    want, resp ? resp : "");
	j = testlib_json(resp);
	free(resp);
	return j;
}

/* A renewal exam refused with CODE, its detail holding DETAIL. */
static void
exam_refused(const char *number, const char *score, int days, int status,
    const char *code, const char *detail)
{
	json_t *j = exam(number, score, "100", days, status);

	assert_string_equal(testlib_str(j, "code"), code);
	if (detail != NULL && strstr(testlib_str(j, "detail"), detail) == NULL)
		fail_msg("'%s' lacks '%s'", testlib_str(j, "detail"), detail);
	json_decref(j);
}

/* The level's policy: written_exam at MARK percent in ATTEMPTS. */
static void
exam_policy(const char *level, const char *mark, int attempts)
{
	char body[200], *resp = NULL;

	snprintf(body, sizeof(body), "{\"level\":\"%s\",\"method\":"
	    "\"written_exam\",\"exam_pass_mark\":%s,\"exam_max_attempts\":%d}",
	    level, mark, attempts);
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.admin, body, &resp), 200);
	testlib_has(resp, "\"method\" : \"written_exam\"");
	free(resp);
}

/* How many certificates renew NUMBER with the dates ISSUED..EXPIRES
 * (SQL expressions over o, the renewed one). */
static long long
renewals(const char *number, const char *issued)
{
	return testdb_llf(w.db, "SELECT count(*) FROM certificates n JOIN"
	    " certificates o ON o.id = n.renews WHERE o.number = '%s' AND"
	    " n.issued_on = %s AND n.expires_on = n.issued_on +"
	    " interval '24 months'", number, issued);
}

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_ce_renew");
	exam_policy("DN1", "75", 2);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

/* ---- renewal by the written exam --------------------------------------- */

/* 74.99 of 100 at a pass mark of 75 fails and uses attempt 1; 75 exactly
 * passes on the last attempt and renews at once, from the old expiry
 * (taken before it); the renewed certificate takes no more exams. */
static void
pass_mark_boundary(void **state)
{
	long long c;
	char *num = holder(-700, 30, &c), path[64], *resp = NULL;
	json_t *j, *r;

	(void)state;
	j = exam(num, "74.99", "100", -1, 201);
	assert_false(json_is_true(json_object_get(j, "passed")));
	assert_int_equal(testlib_int(j, "attempt"), 1);
	assert_int_equal(testlib_int(j, "attempts_allowed"), 2);
	assert_true(json_is_null(json_object_get(j, "renewed")));
	json_decref(j);
	/* status shows it: one attempt left, what is missing */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", c);
	assert_int_equal(testlib_api(w.port, "GET", path, w.grader, NULL,
	    &resp), 200);
	j = testlib_json(resp);
	free(resp);
	r = json_array_get(json_object_get(j, "renewal"), 0);
	assert_string_equal(testlib_str(r, "method"), "written_exam");
	assert_int_equal(testlib_int(r, "exam_attempts_used"), 1);
	assert_int_equal(testlib_int(r, "exam_attempts_allowed"), 2);
	testlib_has(testlib_str(r, "missing"),
	    "a renewal written exam passed at 75%; 1 of 2 attempts left");
	json_decref(j);
	/* the explicit renewal says the same */
	snprintf(path, sizeof(path), "/v1/certificates/%s/renew", num);
	assert_int_equal(testlib_api(w.port, "POST", path, w.grader, NULL,
	    &resp), 422);
	testlib_has(resp, "renewal_requirement_not_met");
	testlib_has(resp, "1 of 2 attempts left");
	free(resp);
	/* 3 of 4 is 75% exactly: passed, renewed from the old expiry */
	j = exam(num, "3", "4", 0, 201);
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_int_equal(testlib_int(j, "attempt"), 2);
	assert_true(json_is_object(json_object_get(j, "renewed")));
	json_decref(j);
	assert_int_equal(renewals(num, "o.expires_on"), 1);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM audit_log WHERE"
	    " action = 'renewal_exam.record' AND after->>'clinician_id' ="
	    " '%lld'", c), 2);
	exam_refused(num, "90", 0, 409, "already_renewed",
	    "was already renewed by");
	free(num);
}

/* Two attempts: two failures, and the third is refused saying so; the
 * explicit renewal says none is left. */
static void
last_attempt(void **state)
{
	long long c;
	char *num = holder(-700, 30, &c), path[64], *resp = NULL;

	(void)state;
	json_decref(exam(num, "10", "100", -2, 201));
	json_decref(exam(num, "74", "100", -1, 201));
	exam_refused(num, "100", 0, 422, "attempts_exhausted",
	    "all 2 renewal exam attempts of certificate");
	snprintf(path, sizeof(path), "/v1/certificates/%s/renew", num);
	assert_int_equal(testlib_api(w.port, "POST", path, w.grader, NULL,
	    &resp), 422);
	testlib_has(resp, "all 2 renewal written exam attempts are used");
	free(resp);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM renewal_exams x"
	    " JOIN certificates c ON c.id = x.certificate_id WHERE c.number ="
	    " '%s'", num), 2);
	free(num);
}

/* The window by the exam's date: a certificate expiring in 30 days opens
 * its window 60 days ago (day -61 refused, day -60 renews from the old
 * expiry); one expired 365 days ago renews from the exam's date, one
 * expired 366 days ago is closed. */
static void
exam_window(void **state)
{
	long long c;
	char *num, *today = day(0), want[40];

	(void)state;
	num = holder(-700, 30, &c);
	exam_refused(num, "90", -61, 422, "renewal_window_not_open",
	    "the renewal window opens on");
	json_decref(exam(num, "90", "100", -60, 201));
	assert_int_equal(renewals(num, "o.expires_on"), 1);
	free(num);

	num = holder(-1095, -365, &c);
	json_decref(exam(num, "90", "100", 0, 201));
	snprintf(want, sizeof(want), "'%s'", today);
	assert_int_equal(renewals(num, want), 1);
	free(num);

	num = holder(-1096, -366, &c);
	exam_refused(num, "90", 0, 422, "renewal_window_closed",
	    "the renewal window closed on");
	free(num);

	/* a retake before the previous attempt, an exam after today */
	num = holder(-700, 30, &c);
	json_decref(exam(num, "10", "100", -1, 201));
	exam_refused(num, "90", -2, 422, "exam_before_previous",
	    "a retake is not dated before it");
	exam_refused(num, "90", 1, 422, "date_in_future", "after today");
	free(num);
	free(today);
}

/* A level renewed by CE hours, a revoked certificate, an unknown number,
 * a score above the maximum, a clinician, a policy lacking its marks. */
static void
exam_refusals(void **state)
{
	long long c;
	char *num, *resp = NULL, *pw, *tok, path[80];

	(void)state;
	num = holder_at("DN2", -700, 30, &c);
	exam_refused(num, "90", 0, 422, "not_renewed_by_exam",
	    "renewed by continuing education hours");
	free(num);

	num = holder(-700, 30, &c);
	testdb_exec_ok(w.db, "UPDATE certificates SET revoked_at = now(),"
	    " revocation_category = 'other', revocation_reason = 'test'"
	    " WHERE clinician_id = (SELECT max(id) FROM clinicians)");
	(void)c;
	exam_refused(num, "90", 0, 409, "certificate_revoked", "was revoked");
	free(num);

	exam_refused("ABCD-EFGH-JKMY", "90", 0, 404, "unknown_certificate",
	    NULL);

	num = holder(-700, 30, &c);
	json_decref(exam(num, "101", "100", 0, 422));
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM renewal_exams"
	    " WHERE clinician_id = %lld", c), 0);
	pw = testlib_make_user(w.conninfo, "examinee", "clinician", c);
	tok = testlib_login(w.port, "examinee", pw);
	snprintf(path, sizeof(path), "/v1/certificates/%s/renewal-exams", num);
	assert_int_equal(testlib_api(w.port, "POST", path, tok,
	    "{\"score\":90,\"max_score\":100,\"taken_on\":\"2026-01-05\"}",
	    &resp), 403);
	free(resp);
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.admin, "{\"level\":\"DN3\",\"method\":\"written_exam\","
	    "\"exam_pass_mark\":80}", &resp), 422);
	testlib_has(resp, "exam_max_attempts");
	free(resp);
	free(pw);
	free(tok);
	free(num);
}

/* The CLI: the policy, a failure, a pass that renews, a refusal. */
static void
exam_cli(void **state)
{
	long long c;
	char *num = holder(-700, 20, &c), *out = NULL, *err = NULL;

	(void)state;
	testlib_cli_env(&w, "ce_renew", w.admin);
	TESTLIB_CLI(0, NULL, "renewal-policies", "set", "--level", "DN1",
	    "--method", "written_exam", "--pass-mark", "80", "--attempts",
	    "3");
	testlib_has(out, "written_exam");
	free(out);
	free(err);
	TESTLIB_CLI(2, NULL, "certificates", "renewal-exam", num);
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "certificates", "renewal-exam", num, "79.5");
	testlib_has(out, "1 of 3");
	testlib_has(out, "failed");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "certificates", "renewal-exam", num, "40",
	    "--max", "50");
	testlib_has(out, "passed");
	testlib_has(out, "renewed by:");
	free(out);
	free(err);
	TESTLIB_CLI(1, NULL, "certificates", "renewal-exam", num, "40");
	testlib_has(err, "already renewed");
	free(out);
	free(err);
	exam_policy("DN1", "75", 2);
	free(num);
}

/* ---- the CE import ----------------------------------------------------- */

static json_t *
import(const char *token, const char *query, const char *csv, int want)
{
	json_t *rep = NULL;
	int st = testlib_import(w.port, token, query, csv, &rep);

	if (st != want)
		fail_msg("import %s: %d, expected %d: %s", query, st, want,
		    json_dumps(rep, JSON_COMPACT));
	return rep;
}

static long long
counted(const json_t *rep, const char *what)
{
	return testlib_int(json_object_get(rep, "counts"), what);
}

/* The report's error on LINE: its column and message holding TEXT. */
static void
error_on(const json_t *rep, long line, const char *column, const char *text)
{
	const json_t *errs = json_object_get(rep, "errors");

	for (size_t i = 0; i < json_array_size(errs); i++) {
		const json_t *e = json_array_get(errs, i);
		if (testlib_int(e, "line") != line)
			continue;
		assert_string_equal(testlib_str(e, "column"), column);
		testlib_has(testlib_str(e, "message"), text);
		return;
	}
	fail_msg("no error on line %ld: %s", line, json_dumps(errs, 0));
}

/* All-or-nothing, dry run, partial, re-import, and every check: the
 * clinician by id, NPI or email, hours at both edges, the date, the same
 * activity twice, an activity recorded with other hours. */
static void
ce_import_modes(void **state)
{
	long long a, b, cc;
	char csv[4096], good[2048], *today, *tomorrow, *errs;
	json_t *rep;

	(void)state;
	serial++;
	a = testdb_llf(w.db, "INSERT INTO clinicians (given_name, family_name,"
	    " email, npi, profession_code) VALUES ('Ann', 'Import',"
	    " 'ann.import@example.org', '1234567893', 'PT') RETURNING id");
	b = testdb_llf(w.db, "INSERT INTO clinicians (given_name, family_name,"
	    " email, profession_code) VALUES ('Bo', 'Import',"
	    " 'bo.import@example.org', 'PT') RETURNING id");
	cc = testdb_llf(w.db, "INSERT INTO clinicians (given_name, family_name,"
	    " email, profession_code) VALUES ('Cy', 'Import',"
	    " 'cy.import@example.org', 'PT') RETURNING id");
	today = day(0);
	tomorrow = day(1);
	snprintf(good, sizeof(good),
	    "Clinician ID,NPI,Email,Activity,Sponsor,Date,CE Hours,Category,"
	    "Reference\n"
	    ",1234567893,,Needling safety,APTA,%s,100,safety,CERT-1\n"
	    ",,BO.IMPORT@example.org,Journal club,,2026-01-05,0.01,,\n"
	    "%lld,,,\"Pain science, part 2\",NOI,%s,2.5,,\n",
	    today, cc, today);
	/* the good rows and six bad ones */
	snprintf(csv, sizeof(csv), "%s"
	    ",,nobody@example.org,Unknown person,,2026-01-05,1,,\n"
	    ",,,No one,,2026-01-05,1,,\n"
	    "%lld,,,Too long,,2026-01-05,100.01,,\n"
	    "%lld,,,Too fine,,2026-01-05,1.005,,\n"
	    "%lld,,,Tomorrow,,%s,1,,\n"
	    "%lld,,,  needling SAFETY ,apta,%s,3,,\n"
	    "%lld,,,   ,,2026-01-05,1,,\n",
	    good, b, b, b, tomorrow, a, today, b);
	rep = import(w.grader, "kind=ce", csv, 422);
	assert_int_equal(counted(rep, "failed"), 7);
	assert_int_equal(counted(rep, "created"), 0);
	error_on(rep, 5, "email", "there is no clinician with email");
	error_on(rep, 6, "clinician_id",
	    "say whose activity this is");
	error_on(rep, 7, "hours", "at most 100, with at most 2 decimals");
	error_on(rep, 8, "hours", "at most 2 decimals");
	error_on(rep, 9, "completed_on", "after today");
	error_on(rep, 10, "title", "the same CE activity");
	error_on(rep, 11, "title", "a value is required");
	json_decref(rep);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM ce_activities"
	    " WHERE clinician_id IN (%lld, %lld, %lld)", a, b, cc), 0);

	/* a dry run: the real report, nothing written */
	rep = import(w.grader, "kind=ce&dry_run=true", good, 201);
	assert_int_equal(counted(rep, "created"), 3);
	json_decref(rep);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM ce_activities"
	    " WHERE clinician_id IN (%lld, %lld, %lld)", a, b, cc), 0);

	/* partial: the good rows written, approved, the bad reported */
	rep = import(w.grader, "kind=ce&partial=true", csv, 201);
	assert_int_equal(counted(rep, "created"), 3);
	assert_int_equal(counted(rep, "failed"), 7);
	json_decref(rep);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM ce_activities"
	    " WHERE clinician_id IN (%lld, %lld, %lld) AND status = 'approved'"
	    " AND entered_by = (SELECT id FROM users WHERE username ="
	    " 'grader')", a, b, cc), 3);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM audit_log WHERE"
	    " action = 'ce.record' AND import_id IS NOT NULL AND"
	    " after->>'clinician_id' IN ('%lld', '%lld', '%lld')", a, b, cc), 3);

	/* again: unchanged, whatever the case and blanks of title and
	 * provider */
	rep = import(w.grader, "kind=ce", good, 201);
	assert_int_equal(counted(rep, "unchanged"), 3);
	assert_int_equal(counted(rep, "created"), 0);
	json_decref(rep);
	snprintf(csv, sizeof(csv), "npi,title,provider,completed_on,hours,"
	    "category,evidence\n"
	    "1234567893, NEEDLING safety ,apta,%s,100,safety,CERT-1\n", today);
	rep = import(w.grader, "kind=ce", csv, 201);
	assert_int_equal(counted(rep, "unchanged"), 1);
	json_decref(rep);
	/* the same activity with other hours: a conflict */
	snprintf(csv, sizeof(csv), "npi,title,provider,completed_on,hours\n"
	    "1234567893,Needling safety,APTA,%s,99\n", today);
	rep = import(w.grader, "kind=ce", csv, 422);
	error_on(rep, 2, "hours", "an import does not change a recorded "
	    "activity");
	json_decref(rep);
	/* a file that says nobody's activities is refused whole */
	rep = import(w.grader, "kind=ce", "title,completed_on,hours\nx,"
	    "2026-01-05,1\n", 422);
	errs = json_dumps(json_object_get(rep, "errors"), 0);
	testlib_has(errs, "needs a 'clinician_id', an 'npi' or an 'email' "
	    "column");
	free(errs);
	json_decref(rep);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM ce_activities"
	    " WHERE clinician_id IN (%lld, %lld, %lld)", a, b, cc), 3);
	free(today);
	free(tomorrow);
}

/* An import that completes a requirement renews at once, as the API
 * does; the hours short of it do not. */
static void
ce_import_renews(void **state)
{
	long long c, d;
	char *num = holder_at("DN2", -700, 30, &c);
	char *num2 = holder_at("DN2", -700, 30, &d), csv[600];
	char *d1 = day(-20), *d2 = day(-10);
	json_t *rep;

	(void)state;
	snprintf(csv, sizeof(csv), "clinician_id,title,completed_on,hours\n"
	    "%lld,Course A,%s,8\n"
	    "%lld,Course B,%s,4\n"
	    "%lld,Course A,%s,11.99\n", c, d1, c, d2, d, d1);
	free(d1);
	free(d2);
	rep = import(w.grader, "kind=ce", csv, 201);
	assert_int_equal(counted(rep, "created"), 3);
	json_decref(rep);
	assert_int_equal(renewals(num, "o.expires_on"), 1);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM certificates"
	    " WHERE renews = (SELECT id FROM certificates WHERE number ="
	    " '%s')", num2), 0);
	free(num);
	free(num2);
}

/* certrack import ce FILE: created, then unchanged; a clinician is
 * refused. */
static void
ce_import_cli(void **state)
{
	long long c;
	char *num = holder_at("DN2", -700, 30, &c), path[256], *out = NULL;
	char *err = NULL, *pw, *tok;
	FILE *f;
	(void)state;

	char *d = day(-5);

	snprintf(path, sizeof(path), "%s/ce-cli.csv",
	    testlib_env("CERTRACK_TEST_TMP"));
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "clinician_id,title,completed_on,hours\n"
	    "%lld,CLI course,%s,12\n", c, d);
	fclose(f);
	free(d);
	testlib_cli_env(&w, "ce_import", w.grader);
	TESTLIB_CLI(0, NULL, "import", "ce", path, "--dry-run");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "import", "ce", path);
	testlib_has(out, "1 created");
	free(out);
	free(err);
	assert_int_equal(renewals(num, "o.expires_on"), 1);
	TESTLIB_CLI(0, NULL, "import", "ce", path);
	testlib_has(out, "1 unchanged");
	free(out);
	free(err);
	pw = testlib_make_user(w.conninfo, "ceimporter", "clinician", c);
	tok = testlib_login(w.port, "ceimporter", pw);
	setenv("CERTRACK_TOKEN", tok, 1);
	TESTLIB_CLI(4, NULL, "import", "ce", path);
	free(out);
	free(err);
	setenv("CERTRACK_TOKEN", w.grader, 1);
	unlink(path);
	free(pw);
	free(tok);
	free(num);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pass_mark_boundary),
		cmocka_unit_test(last_attempt),
		cmocka_unit_test(exam_window),
		cmocka_unit_test(exam_refusals),
		cmocka_unit_test(exam_cli),
		cmocka_unit_test(ce_import_modes),
		cmocka_unit_test(ce_import_renews),
		cmocka_unit_test(ce_import_cli),
	};

	return cmocka_run_group_tests_name("e2e_ce_renew", tests, setup,
	    teardown);
}
