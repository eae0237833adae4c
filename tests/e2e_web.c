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

/* Runs SQL (printf-style) that returns no row. */
static void
sql_do(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
sql_do(const char *fmt, ...)
{
	char q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	testdb_exec_ok(w.db, q);
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
	/* the directory: all listed in San Diego but Otto, whose certificate
	 * is valid; only Jane has a valid one among the listed */
	free(certificate(other, 700));
	sql_do("UPDATE clinicians SET directory_listed = given_name <> "
	    "'Otto', practice_city = 'San Diego', practice_state = 'CA', "
	    "practice_zip = '92101', public_contact = CASE WHEN given_name = "
	    "'Jane' THEN 'Call (619) 555-0100' END");

	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", revoked);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin,
	    "{\"category\":\"misconduct\",\"note\":\"seen by staff only\"}",
	    &resp), 200);
	free(resp);

	/* the page reads what the API answers */
	snprintf(path, sizeof(path), "/v1/certificates/%s", valid);
	assert_int_equal(testlib_http(w.port, "GET", path, NULL, NULL, &resp),
	    200);
	j = testlib_json(resp);
	assert_string_equal(testlib_str(j, "status"), "valid");
	assert_string_equal(testlib_str(j, "holder"), "Jane O'Hara & <Sons>");
	json_decref(j);
	free(resp);

	holder_pw = testlib_make_user(w.conninfo, "jane", "clinician", jane);
	holder_tok = testlib_login(w.port, "jane", holder_pw);
	other_pw = testlib_make_user(w.conninfo, "otto", "clinician", other);
	other_tok = testlib_login(w.port, "otto", other_pw);

	snprintf(base, sizeof(base), "http://127.0.0.1:%d", w.port);
	fx = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
	    " s:s, s:s, s:s, s:s, s:s}",
	    "base", base, "valid", valid, "expired", expired,
	    "revoked", revoked, "unknown", unknown,
	    "revoked_note", "seen by staff only",
	    "holder", "Jane O'Hara & <Sons>",
	    "credential", "Certified Dry Needling Practitioner",
	    "level", "Level 1", "program", "Dry Needling",
	    "holder_token", holder_tok, "other_token", other_tok,
	    "expired_holder", "Ben Lapsed", "unlisted", "Otto Other",
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

/* GET PATH; its status, the body in *BODY (caller frees). */
static int
get(const char *path, char **body)
{
	return testlib_http(w.port, "GET", path, NULL, NULL, body);
}

/* GET PATH answers STATUS (and, for 400, names FIELD). */
static void
expect(const char *path, int status, const char *field)
{
	char *body = NULL;
	int got = get(path, &body);

	if (got != status)
		fail_msg("GET %s: %d, expected %d: %s", path, got, status, body);
	if (field != NULL) {
		json_t *j = testlib_json(body);
		assert_string_equal(testlib_str(j, "field"), field);
		json_decref(j);
	}
	free(body);
}

/* The directory's bounds, each on its edge, and who it never shows. */
static void
directory_bounds(void **state)
{
	char name[128], path[256], *body;
	long long zed, gone;
	json_t *j;

	(void)state;
	/* page size 1..50, not further in than 1000 */
	expect("/v1/directory?limit=50", 200, NULL);
	expect("/v1/directory?limit=51", 400, "limit");
	expect("/v1/directory?limit=0", 400, "limit");
	expect("/v1/directory?offset=1000", 200, NULL);
	expect("/v1/directory?offset=1001", 400, "offset");
	/* a name of 100 characters is searched, 101 refused */
	memset(name, 'a', 101);
	name[101] = '\0';
	snprintf(path, sizeof(path), "/v1/directory?name=%s", name);
	expect(path, 400, "name");
	name[100] = '\0';
	snprintf(path, sizeof(path), "/v1/directory?name=%s", name);
	expect(path, 200, NULL);
	expect("/v1/directory?zip=1234", 400, "zip");
	expect("/v1/directory?zip=123456", 400, "zip");
	expect("/v1/directory?zip=12345", 200, NULL);
	expect("/v1/directory?state=C", 400, "state");
	expect("/v1/directory?state=ca", 200, NULL);

	/* Zed: listed, valid; Gone: listed, certificate revoked */
	zed = clinician("Zed", "Zimmer%");
	gone = clinician("Gone", "Zimmer");
	free(certificate(zed, 1));		/* valid until tomorrow */
	free(certificate(gone, 700));
	sql_do("UPDATE clinicians SET directory_listed = true, npi = "
	    "CASE WHEN given_name = 'Zed' THEN '1234567893' END, "
	    "practice_state = 'NV', practice_city = 'Reno', practice_zip = "
	    "'89501' WHERE family_name LIKE 'Zimmer%%'");
	sql_do("UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'other', revocation_reason = 'x' WHERE "
	    "clinician_id = %lld", gone);
	assert_int_equal(get("/v1/directory?name=zim&state=nv&city=reno", &body),
	    200);
	j = testlib_json(body);
	assert_int_equal(testlib_int(j, "total"), 1);
	assert_string_equal(testlib_str(json_array_get(json_object_get(j,
	    "items"), 0), "name"), "Zed Zimmer%");
	assert_true(json_is_null(json_object_get(json_array_get(
	    json_object_get(j, "items"), 0), "contact")));
	/* never an email or NPI */
	testlib_lacks(body, "@web.example");
	testlib_lacks(body, "1234567893");
	json_decref(j);
	free(body);
	/* % and _ are characters, not patterns */
	assert_int_equal(get("/v1/directory?name=%25", &body), 200);
	j = testlib_json(body);
	assert_int_equal(testlib_int(j, "total"), 0);
	json_decref(j);
	free(body);
	assert_int_equal(get("/v1/directory?name=zimmer%25", &body), 200);
	j = testlib_json(body);
	assert_int_equal(testlib_int(j, "total"), 1);
	json_decref(j);
	free(body);
	/* expiring tomorrow is valid today; expiring today is not */
	sql_do("UPDATE certificates SET expires_on = current_date "
	    "WHERE clinician_id = %lld", zed);
	assert_int_equal(get("/v1/directory?zip=89501", &body), 200);
	j = testlib_json(body);
	assert_int_equal(testlib_int(j, "total"), 0);
	json_decref(j);
	free(body);

	/* a name search can use its index, however many are listed */
	sql_do("INSERT INTO clinicians (email, given_name, family_name,"
	    " profession_code, directory_listed) SELECT 'bulk' || i || "
	    "'@web.example', 'Bulk', 'Person' || i, 'PT', true FROM "
	    "generate_series(1, 20000) i");
	testdb_exec_ok(w.db, "ANALYZE clinicians");
	body = sql_text("EXPLAIN (FORMAT JSON) SELECT id FROM clinicians "
	    "WHERE directory_listed AND lower(family_name) LIKE "
	    "directory_prefix('person12')");
	testlib_has(body, "clinicians_directory_family");
	free(body);
}

/* A clinician lists themself; an admin's change takes the same fields. */
static void
directory_writes(void **state)
{
	long long c = clinician("Ivy", "Self");
	char *pw, *tok, *resp = NULL, path[64];
	json_t *j;

	(void)state;
	free(certificate(c, 700));
	pw = testlib_make_user(w.conninfo, "ivy", "clinician", c);
	tok = testlib_login(w.port, "ivy", pw);
	assert_int_equal(testlib_api(w.port, "PATCH", "/v1/me/directory", tok,
	    "{\"directory_listed\": true, \"practice_zip\": \"02139\","
	    " \"practice_state\": \"ma\", \"public_contact\": "
	    "\"ivy.self@clinic.example\"}", &resp), 200);
	j = testlib_json(resp);
	assert_true(json_is_true(json_object_get(json_object_get(j,
	    "directory"), "listed")));
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    j, "directory"), "state")), "MA");
	json_decref(j);
	free(resp);
	assert_int_equal(get("/v1/directory?zip=02139", &resp), 200);
	testlib_has(resp, "\"Ivy Self\"");
	/* the contact the clinician chose is shown, their email is not */
	testlib_has(resp, "ivy.self@clinic.example");
	testlib_lacks(resp, "@web.example");
	free(resp);
	/* the audit keeps the change */
	resp = sql_text("SELECT count(*) FROM audit_log WHERE action = "
	    "'clinician.directory' AND entity_id = '%lld'", c);
	assert_string_equal(resp, "1");
	free(resp);
	/* refused as the readers refuse */
	assert_int_equal(testlib_api(w.port, "PATCH", "/v1/me/directory", tok,
	    "{\"practice_zip\": \"2139\"}", &resp), 422);
	testlib_has(resp, "invalid_zip");
	free(resp);
	assert_int_equal(testlib_api(w.port, "PATCH", "/v1/me/directory", tok,
	    "{\"email\": \"x@y.org\"}", &resp), 400);
	testlib_has(resp, "unknown_field");
	free(resp);
	/* staff have no listing of their own */
	assert_int_equal(testlib_api(w.port, "PATCH", "/v1/me/directory",
	    w.grader, "{\"directory_listed\": true}", &resp), 403);
	free(resp);
	/* an admin unlists them, naming the version */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld", c);
	assert_int_equal(testlib_api(w.port, "PATCH", path, w.admin,
	    "{\"version\": 2, \"directory_listed\": false, "
	    "\"public_contact\": null}", &resp), 200);
	j = testlib_json(resp);
	assert_true(json_is_false(json_object_get(json_object_get(j,
	    "directory"), "listed")));
	assert_true(json_is_null(json_object_get(json_object_get(j,
	    "directory"), "contact")));
	json_decref(j);
	free(resp);
	assert_int_equal(get("/v1/directory?zip=02139", &resp), 200);
	testlib_lacks(resp, "Ivy Self");
	free(resp);
	free(pw);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(browser),
		cmocka_unit_test(directory_bounds),
		cmocka_unit_test(directory_writes),
	};

	return cmocka_run_group_tests_name("e2e_web", tests, setup, teardown);
}
