/*
 * The web pages end to end (issue 12): a real certrackd and database, a
 * valid, an expired and a revoked certificate, and tests/web/browser.py
 * driving headless Chromium through them (verify: valid, expired,
 * revoked, a typo, an unknown number; the printable PDF; every page
 * through `tidy -e`; no console errors).  The C side seeds the data, checks
 * what the API says of the same certificates, and asserts the script's
 * exit status.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct testlib_world w;

/* One value of SQL (printf-style), as text (caller frees). */
static char *
sql_text(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
sql_text(const char *fmt, ...)
{
	char q[1024];
	va_list ap;
	char *v;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	v = testdb_value(w.db, q);
	assert_non_null(v);
	return v;
}

/* A new PT clinician (names may hold anything: they are parameters). */
static long long
clinician(const char *given, const char *family)
{
	static int serial;
	char email[64];
	const char *params[3] = { email, given, family };
	PGresult *res;
	long long id;

	snprintf(email, sizeof(email), "person%d@web.example", ++serial);
	res = PQexecParams(w.db, "INSERT INTO clinicians (email, given_name, "
	    "family_name, profession_code) VALUES ($1, $2, $3, 'PT') "
	    "RETURNING id", 3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("insert clinician: %s", PQerrorMessage(w.db));
	id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return id;
}

/* A DN1 certificate of clinician C issued 30 days ago, expiring DAYS
 * from today; its number (caller frees). */
static char *
certificate(long long c, int days)
{
	return sql_text("INSERT INTO certificates (number, clinician_id, "
	    "level_id, issued_on, expires_on) SELECT certificate_number_new(), "
	    "%lld, id, current_date - 30, current_date + %d FROM levels WHERE "
	    "code = 'DN1' RETURNING number", c, days);
}

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "web");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

/* The pages, the PDF and the browser: tests/web/browser.py. */
static void
browser(void **state)
{
	long long jane, ben, rae, other;
	char *valid, *expired, *revoked, *unknown, *resp = NULL;
	char *holder_pw, *other_pw, *holder_tok, *other_tok;
	char path[128], base[64], fixture[512], script[512];
	json_t *j, *fx;
	char *out = NULL, *err = NULL;
	int rc;

	(void)state;
	jane = clinician("Jane", "O'Hara & <Sons>");
	ben = clinician("Ben", "Lapsed");
	rae = clinician("Rae", "Revoked");
	other = clinician("Otto", "Other");
	valid = certificate(jane, 700);
	expired = certificate(ben, 0);		/* expires today: expired */
	revoked = certificate(rae, 700);
	unknown = sql_text("SELECT certificate_number_new()");

	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", revoked);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin,
	    "{\"category\":\"misconduct\",\"note\":\"seen by staff only\"}",
	    &resp), 200);
	free(resp);

	/* the page reads what the API answers: the credential too */
	snprintf(path, sizeof(path), "/v1/certificates/%s", valid);
	assert_int_equal(testlib_http(w.port, "GET", path, NULL, NULL, &resp),
	    200);
	j = testlib_json(resp);
	assert_string_equal(testlib_str(j, "credential"),
	    "Certified Dry Needling Practitioner");
	assert_string_equal(testlib_str(j, "status"), "valid");
	json_decref(j);
	free(resp);

	holder_pw = testlib_make_user(w.conninfo, "jane", "clinician", jane);
	holder_tok = testlib_login(w.port, "jane", holder_pw);
	other_pw = testlib_make_user(w.conninfo, "otto", "clinician", other);
	other_tok = testlib_login(w.port, "otto", other_pw);

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", w.port);
	fx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:s, s:s, s:s}",
	    "base", base, "valid", valid, "expired", expired,
	    "revoked", revoked, "unknown", unknown,
	    "revoked_note", "seen by staff only",
	    "holder", "Jane O'Hara & <Sons>",
	    "credential", "Certified Dry Needling Practitioner",
	    "level", "Level 1", "program", "Dry Needling",
	    "holder_token", holder_tok, "other_token", other_tok,
	    "staff_token", w.grader);
	assert_non_null(fx);
	snprintf(fixture, sizeof(fixture), "%s/web-fixture.json",
	    testlib_env("CERTRACK_TEST_TMP"));
	assert_int_equal(json_dump_file(fx, fixture, JSON_INDENT(1)), 0);
	json_decref(fx);

	snprintf(script, sizeof(script), "%s/../tests/web/browser.py",
	    testlib_env("CERTRACK_TEST_BIN"));
	char *argv[] = { "/usr/bin/python3", script, fixture, NULL };
	rc = testlib_run(argv, NULL, &out, &err);
	if (rc != 0) {
		fprintf(stderr, "%s%s", out, err);
		fail_msg("browser.py exited %d (its output is above)", rc);
	}
	testlib_has(out, "all checks passed");
	testlib_lacks(out, "FAIL ");
	free(out);
	free(err);
	free(valid);
	free(expired);
	free(revoked);
	free(unknown);
	free(holder_pw);
	free(holder_tok);
	free(other_pw);
	free(other_tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(browser),
	};

	return cmocka_run_group_tests_name("e2e_web", tests, setup, teardown);
}
