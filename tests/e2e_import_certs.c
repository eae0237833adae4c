/*
 * The import report names the certificates the import issued (issue 13):
 * certificates_issued (number, clinician id, level code; the first N by
 * ?certificates=N, 1000 by default) and certificates_issued_total, checked
 * against the database; none for a dry run, a refused import or a
 * re-import; a roster whose completion meets a level's last requirement
 * names its certificate too; the CLI's `import show` and `import results
 * --certificates` print them.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static struct testlib_world w;

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_import_certs");
	testlib_cli_env(&w, "e2e_import_certs", w.admin);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* Four people who completed DN1 (Dee has not: she completes it later). */
static const char roster[] =
	"given_name,family_name,email,profession,level,course_start,"
	"course_end,completed\n"
	"Ann,Able,ann.able@example.org,PT,DN1,2026-03-02,2026-03-04,yes\n"
	"Bob,Best,bob.best@example.org,PT,DN1,2026-03-02,2026-03-04,yes\n"
	"Cy,Cole,cy.cole@example.org,MD,DN1,2026-03-02,2026-03-04,yes\n"
	"Dee,Dunn,dee.dunn@example.org,DO,DN1,2026-03-02,2026-03-04,no\n";

/* Dee's completion. */
static const char completion[] =
	"given_name,family_name,email,profession,level,course_start,"
	"course_end,completed\n"
	"Dee,Dunn,dee.dunn@example.org,DO,DN1,2026-03-02,2026-03-04,yes\n";

/* Ann passes both (the written exactly at the pass mark, 75), Bob fails
 * his practical, Cy passes both, Dee passes both before completing. */
static const char sheet[] =
	"email,level,kind,score,max_score,taken_on\n"
	"ann.able@example.org,DN1,written,75,100,2026-03-05\n"
	"ann.able@example.org,DN1,practical,80,100,2026-03-05\n"
	"bob.best@example.org,DN1,written,90,100,2026-03-05\n"
	"bob.best@example.org,DN1,practical,74,100,2026-03-05\n"
	"cy.cole@example.org,DN1,written,88,100,2026-03-05\n"
	"cy.cole@example.org,DN1,practical,91,100,2026-03-05\n"
	"dee.dunn@example.org,DN1,written,95,100,2026-03-05\n"
	"dee.dunn@example.org,DN1,practical,95,100,2026-03-05\n";

/* "number clinician_id level" of each certificate of the array, a line
 * each (caller frees). */
static char *
listed(const json_t *list)
{
	size_t i, n = 0;
	const json_t *e;
	char *s = calloc(1, 4096);

	json_array_foreach(list, i, e)
		n += (size_t)snprintf(s + n, 4096 - n, "%s %lld %s\n",
		    testlib_str(e, "number"), testlib_int(e, "clinician_id"),
		    testlib_str(e, "level"));
	return s;
}

/* The same, of the certificates the database holds for the people named
 * by SQL's email list, by id. */
static char *
held(const char *emails)
{
	char *v = testdb_textf(w.db, "SELECT coalesce(string_agg(c.number || "
	    "' ' || c.clinician_id || ' ' || l.code || E'\\n', '' ORDER BY "
	    "c.id), '') FROM certificates c JOIN levels l ON l.id = "
	    "c.level_id JOIN clinicians k ON k.id = c.clinician_id WHERE "
	    "k.email IN (%s)", emails);
	return v;
}

/* REP names TOTAL certificates, and they are those the database holds
 * for the people of EMAILS; returns listed() of them (caller frees). */
static char *
expect_issued(const json_t *rep, long long total, const char *emails)
{
	char *a = listed(json_object_get(rep, "certificates_issued"));
	char *b = held(emails);

	assert_int_equal(testlib_int(rep, "certificates_issued_total"), total);
	assert_string_equal(a, b);
	free(b);
	return a;
}

static void
expect_none(const json_t *rep)
{
	assert_int_equal(json_array_size(json_object_get(rep,
	    "certificates_issued")), 0);
	assert_int_equal(testlib_int(rep, "certificates_issued_total"), 0);
}

static void
report_names_issued_certificates(void **state)
{
	json_t *rep = NULL, *got;
	char path[80], *resp = NULL, *a, *b, id[24];
	long long certs;

	(void)state;
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster",
	    roster, &rep), 201);
	/* a roster of people with no results issues nothing */
	expect_none(rep);
	json_decref(rep);

	/* a dry run issues none: what it wrote is rolled back */
	assert_int_equal(testlib_import(w.port, w.grader,
	    "kind=results&dry_run=true", sheet, &rep), 201);
	expect_none(rep);
	json_decref(rep);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM "
	    "certificates"), 0);

	/* a refused sheet (one bad row) issues none either */
	{
		char bad[sizeof(sheet) + 80];

		snprintf(bad, sizeof(bad), "%snobody@example.org,DN1,written,"
		    "80,100,2026-03-05\n", sheet);
		assert_int_equal(testlib_import(w.port, w.grader,
		    "kind=results", bad, &rep), 422);
		expect_none(rep);
		json_decref(rep);
	}

	/* Ann (written exactly at the mark) and Cy: two certificates, in
	 * the order issued; Bob failed, Dee has not completed */
	assert_int_equal(testlib_import(w.port, w.grader, "kind=results",
	    sheet, &rep), 201);
	a = expect_issued(rep, 2, "'ann.able@example.org', "
	    "'cy.cole@example.org'");
	b = held("'bob.best@example.org', 'dee.dunn@example.org'");
	assert_string_equal(b, "");
	free(b);
	snprintf(id, sizeof(id), "%lld", testlib_int(rep, "id"));
	json_decref(rep);

	/* GET: the same list, or its first N (1 and 0 of 2), and the
	 * total */
	for (int n = 2; n >= 0; n--) {
		snprintf(path, sizeof(path), "/v1/imports/%s%s%d", id,
		    n == 2 ? "?errors=" : "?certificates=", n);
		assert_int_equal(testlib_api(w.port, "GET", path, w.admin,
		    NULL, &resp), 200);
		got = testlib_json(resp);
		assert_int_equal(json_array_size(json_object_get(got,
		    "certificates_issued")), n);
		assert_int_equal(testlib_int(got,
		    "certificates_issued_total"), 2);
		b = listed(json_object_get(got, "certificates_issued"));
		assert_true(strncmp(a, b, strlen(b)) == 0);
		if (n == 2)
			assert_string_equal(a, b);
		free(b);
		json_decref(got);
		free(resp);
	}
	snprintf(path, sizeof(path), "/v1/imports/%s?certificates=-1", id);
	assert_int_equal(testlib_api(w.port, "GET", path, w.admin, NULL,
	    &resp), 400);
	testlib_has(resp, "certificates");
	free(resp);
	free(a);

	/* the same sheet again: unchanged, nothing issued */
	assert_int_equal(testlib_import(w.port, w.grader, "kind=results",
	    sheet, &rep), 201);
	expect_none(rep);
	json_decref(rep);

	/* Dee completes her course: the roster's completion meets her last
	 * requirement, and the roster's report names the certificate */
	certs = testdb_llf(w.db, "SELECT count(*) FROM certificates");
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster",
	    completion, &rep), 201);
	free(expect_issued(rep, 1, "'dee.dunn@example.org'"));
	json_decref(rep);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM "
	    "certificates"), certs + 1);
}

static void
cli_prints_issued_certificates(void **state)
{
	char *out = NULL, *err = NULL, *num, id[24], path[700];
	FILE *fp;

	(void)state;
	/* Eve completed DN1; her sheet issues one certificate */
	{
		json_t *rep = NULL;

		assert_int_equal(testlib_import(w.port, w.admin, "kind=roster",
		    "given_name,family_name,email,profession,level,"
		    "course_start,course_end,completed\n"
		    "Eve,Ende,eve.ende@example.org,PT,DN1,2026-04-06,"
		    "2026-04-08,yes\n", &rep), 201);
		json_decref(rep);
	}
	snprintf(path, sizeof(path), "%s/eve.csv",
	    testlib_env("CERTRACK_TEST_TMP"));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("email,level,kind,score,max_score,taken_on\n"
	    "eve.ende@example.org,DN1,written,80,100,2026-04-09\n"
	    "eve.ende@example.org,DN1,practical,80,100,2026-04-09\n", fp);
	fclose(fp);
	TESTLIB_CLI(0, NULL, "import", "results", path, "--certificates");
	num = testdb_value(w.db, "SELECT c.number FROM certificates c JOIN "
	    "clinicians k ON k.id = c.clinician_id WHERE k.email = "
	    "'eve.ende@example.org'");
	assert_non_null(num);
	testlib_has(out, "imported 'eve.csv': 2 rows: 2 created, 0 updated, "
	    "0 unchanged, 0 failed\ncertificates issued: 1\nNUMBER");
	testlib_has(out, num);
	testlib_has(out, "DN1");
	free(out);
	free(err);
	out = err = NULL;

	/* without --certificates the summary stays as it was */
	TESTLIB_CLI(0, NULL, "import", "results", path);
	assert_string_equal(out, "imported 'eve.csv': 2 rows: 0 created, "
	    "0 updated, 2 unchanged, 0 failed\n");
	free(out);
	free(err);
	out = err = NULL;

	/* import show lists them, the first N with a hint for all */
	snprintf(id, sizeof(id), "%lld", testdb_llf(w.db, "SELECT max(a.import_id) "
	    "FROM audit_log a WHERE a.action = 'certificate.issue'"));
	TESTLIB_CLI(0, NULL, "import", "show", id);
	testlib_has(out, "certificates issued: 1\n");
	testlib_has(out, num);
	testlib_lacks(out, "(the first");
	free(out);
	free(err);
	out = err = NULL;
	TESTLIB_CLI(0, NULL, "import", "show", id, "--certificates", "0");
	testlib_lacks(out, num);
	testlib_has(out, "(the first 0 of 1 certificates; 'certrack import "
	    "show ");
	free(out);
	free(err);
	out = err = NULL;
	TESTLIB_CLI(2, NULL, "import", "show", id, "--certificates", "x");
	free(out);
	free(err);
	free(num);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(report_names_issued_certificates),
		cmocka_unit_test(cli_prints_issued_certificates),
	};

	return cmocka_run_group_tests_name("e2e_import_certs", tests, setup,
	    teardown);
}
