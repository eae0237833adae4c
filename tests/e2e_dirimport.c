/*
 * The directory's columns in roster imports (issue 12): a clinician
 * listed by a roster is found by GET /v1/directory once certified; a bad
 * ZIP code, state, yes/no or city is refused with its line and column and
 * nothing is written; a file without the columns, or with empty cells in
 * them, leaves what the clinician set as it is; the same file again is
 * unchanged, and a changed directory field is an update with its audit
 * row.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct testlib_world w;
static char *done_on;		/* a course's last day: yesterday */

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_dirimport");
	done_on = testdb_value(w.db, "SELECT (current_date - 1)::text");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(done_on);
	return testlib_world_down(&w);
}

/* Imports CSV (printf-style; the course date is given as %1$s) as the
 * admin; the status, and the report into *REP. */
static int
roster(json_t **rep, const char *query, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
roster(json_t **rep, const char *query, const char *fmt, ...)
{
	char csv[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(csv, sizeof(csv), fmt, ap);
	va_end(ap);
	return testlib_import(w.port, w.admin, query, csv, rep);
}

/* Fails unless REP counts CREATED, UPDATED, UNCHANGED and FAILED rows. */
static void
counts(const json_t *rep, long created, long updated, long unchanged,
    long failed)
{
	const json_t *c = json_object_get(rep, "counts");
	char *got = json_dumps(rep, JSON_COMPACT);

	if (testlib_int(c, "created") != created ||
	    testlib_int(c, "updated") != updated ||
	    testlib_int(c, "unchanged") != unchanged ||
	    testlib_int(c, "failed") != failed)
		fail_msg("expected %ld/%ld/%ld/%ld, report %s", created,
		    updated, unchanged, failed, got);
	free(got);
}

/* Asserts that the SQL answers WANT. */
static void
sql_is(const char *want, const char *sql)
{
	char *v = testdb_value(w.db, sql);

	if (v == NULL || strcmp(v, want) != 0)
		fail_msg("%s\n  answered '%s', expected '%s'", sql,
		    v ? v : "(null)", want);
	free(v);
}

/* A clinician's directory fields, '|'-separated, '-' for none. */
#define DIRECTORY_OF(email) "SELECT directory_listed || '|' || " \
	"coalesce(practice_city, '-') || '|' || coalesce(practice_state, " \
	"'-') || '|' || coalesce(practice_zip, '-') || '|' || " \
	"coalesce(public_contact, '-') FROM clinicians WHERE email = '" \
	email "'"
#define JANE DIRECTORY_OF("jane.roe@example.org")

/* Imports CSV, a roster of Jane's row alone; fails unless it comes out
 * UPDATED or else unchanged, and her directory fields then read WANT. */
static void
jane_again(const char *csv, long updated, const char *want)
{
	json_t *rep;

	assert_int_equal(roster(&rep, "kind=roster", "%s", csv), 201);
	counts(rep, 0, updated, 1 - updated, 0);
	json_decref(rep);
	sql_is(want, JANE);
}

/* Jane Roe listed by her roster row, Sam Poe on the same roster without a
 * word about the directory; both complete DN1. */
static const char listed_roster[] =
	"given_name,family_name,email,npi,profession,level,course_end,"
	"completed,Listed,Practice City,Practice State,ZIP,Public Contact\n"
	"Jane,Roe,jane.roe@example.org,1234567893,PT,DN1,%1$s,yes,yes,"
	" Austin ,tx,78701,\"Roe Physical Therapy, (512) 555-0142\"\n"
	"Sam,Poe,sam.poe@example.org,,PT,DN1,%1$s,yes,,,,,\n";

static void
listed_by_import_is_found(void **state)
{
	char csv[1024], *resp = NULL;
	json_t *rep, *page, *item;

	(void)state;
	assert_int_equal(roster(&rep, "kind=roster", listed_roster, done_on),
	    201);
	counts(rep, 2, 0, 0, 0);
	json_decref(rep);
	/* the city trimmed and the state upper-case, as the API stores them;
	 * a new clinician the file does not list is not listed */
	sql_is("true|Austin|TX|78701|Roe Physical Therapy, (512) 555-0142",
	    JANE);
	sql_is("false|-|-|-|-", DIRECTORY_OF("sam.poe@example.org"));

	/* certified (the directory shows certified clinicians only) */
	snprintf(csv, sizeof(csv), "email,level,kind,score,max_score,taken_on\n"
	    "jane.roe@example.org,DN1,written,90,100,%1$s\n"
	    "jane.roe@example.org,DN1,practical,90,100,%1$s\n"
	    "sam.poe@example.org,DN1,written,90,100,%1$s\n"
	    "sam.poe@example.org,DN1,practical,90,100,%1$s\n", done_on);
	assert_int_equal(testlib_import(w.port, w.grader, "kind=results", csv,
	    &rep), 201);
	json_decref(rep);
	sql_is("2", "SELECT count(*) FROM certificates");

	assert_int_equal(testlib_api(w.port, "GET",
	    "/v1/directory?state=TX&city=austin", NULL, NULL, &resp), 200);
	page = testlib_json(resp);
	assert_int_equal(testlib_int(page, "total"), 1);
	item = json_array_get(json_object_get(page, "items"), 0);
	assert_string_equal(testlib_str(item, "name"), "Jane Roe");
	assert_string_equal(testlib_str(item, "zip"), "78701");
	assert_string_equal(testlib_str(item, "contact"),
	    "Roe Physical Therapy, (512) 555-0142");
	json_decref(page);
	free(resp);
	/* Sam, certified but not listed, is not found */
	assert_int_equal(testlib_api(w.port, "GET", "/v1/directory?name=poe",
	    NULL, NULL, &resp), 200);
	page = testlib_json(resp);
	assert_int_equal(testlib_int(page, "total"), 0);
	json_decref(page);
	free(resp);
}

static void
same_file_again_is_unchanged(void **state)
{
	json_t *rep;

	(void)state;
	assert_int_equal(roster(&rep, "kind=roster", listed_roster, done_on),
	    201);
	counts(rep, 0, 0, 2, 0);
	json_decref(rep);
}

static void
absent_or_empty_leaves_it(void **state)
{
	(void)state;
	/* no directory columns at all */
	jane_again("given_name,family_name,email,profession,level\n"
	    "Jane,Roe,jane.roe@example.org,PT,DN1\n", 0,
	    "true|Austin|TX|78701|Roe Physical Therapy, (512) 555-0142");
	/* the columns, their cells empty or blank */
	jane_again("given_name,family_name,email,profession,level,"
	    "directory_listed,practice_city,practice_state,practice_zip,"
	    "public_contact\n"
	    "Jane,Roe,jane.roe@example.org,PT,DN1,,\"  \",,,\n", 0,
	    "true|Austin|TX|78701|Roe Physical Therapy, (512) 555-0142");
}

static void
changed_field_is_an_update(void **state)
{
	(void)state;
	sql_is("0", "SELECT count(*) FROM audit_log WHERE action = "
	    "'clinician.update'");
	jane_again("given_name,family_name,email,profession,level,"
	    "practice_zip\nJane,Roe,jane.roe@example.org,PT,DN1,78702\n", 1,
	    "true|Austin|TX|78702|Roe Physical Therapy, (512) 555-0142");
	sql_is("78701>78702", "SELECT (before->>'practice_zip') || '>' || "
	    "(after->>'practice_zip') FROM audit_log WHERE action = "
	    "'clinician.update'");
	/* opting out by file: listed no */
	jane_again("given_name,family_name,email,profession,level,listed\n"
	    "Jane,Roe,jane.roe@example.org,PT,DN1,no\n", 1,
	    "false|Austin|TX|78702|Roe Physical Therapy, (512) 555-0142");
}

static void
bad_values_refused(void **state)
{
	static const char want[] =
	    "[{\"line\":2,\"column\":\"practice_zip\",\"value\":\"7870\","
	    "\"message\":\"'7870' is not a ZIP code (five digits)\"},"
	    "{\"line\":3,\"column\":\"practice_state\",\"value\":\"Texas\","
	    "\"message\":\"'Texas' is not a two-letter state code\"},"
	    "{\"line\":4,\"column\":\"directory_listed\",\"value\":\"maybe\","
	    "\"message\":\"'maybe' is not yes or no\"},"
	    "{\"line\":5,\"column\":\"practice_zip\",\"value\":\"78701-1234\","
	    "\"message\":\"'78701-1234' is not a ZIP code (five digits)\"},"
	    "{\"line\":6,\"column\":\"public_contact\",\"value\":\"";
	char csv[2048], contact[202], *got;
	json_t *rep;
	size_t n;

	(void)state;
	memset(contact, 'c', 201);
	contact[201] = '\0';
	snprintf(csv, sizeof(csv), "given_name,family_name,email,profession,"
	    "level,directory_listed,practice_state,practice_zip,"
	    "public_contact\n"
	    "Ann,One,ann@example.org,PT,DN1,yes,TX,7870,\n"
	    "Bea,Two,bea@example.org,PT,DN1,yes,Texas,78701,\n"
	    "Cy,Three,cy@example.org,PT,DN1,maybe,TX,78701,\n"
	    "Di,Four,di@example.org,PT,DN1,yes,TX,78701-1234,\n"
	    "Ed,Five,ed@example.org,PT,DN1,yes,TX,78701,%s\n"
	    "Flo,Six,flo@example.org,PT,DN1,yes,TX,78701,%.200s\n",
	    contact, contact);
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster", csv,
	    &rep), 422);
	counts(rep, 0, 0, 0, 5);
	got = json_dumps(json_object_get(rep, "errors"), JSON_COMPACT);
	n = strlen(want);
	if (strncmp(got, want, n) != 0)
		fail_msg("errors: %s", got);
	/* the contact one character too long; 200 were fine (line 7) */
	testlib_has(got + n, "\"message\":\"the field 'public_contact' ");
	testlib_lacks(got, "\"line\":7");
	free(got);
	json_decref(rep);
	/* all or nothing: not even the good row */
	sql_is("0", "SELECT count(*) FROM clinicians WHERE email LIKE "
	    "'%@example.org' AND family_name IN ('One', 'Six')");
	/* partial: the good row written, listed */
	assert_int_equal(testlib_import(w.port, w.admin,
	    "kind=roster&partial=true", csv, &rep), 201);
	counts(rep, 1, 0, 0, 5);
	json_decref(rep);
	sql_is("true|TX|78701", "SELECT directory_listed || '|' || "
	    "practice_state || '|' || practice_zip FROM clinicians WHERE "
	    "email = 'flo@example.org'");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listed_by_import_is_found),
		cmocka_unit_test(same_file_again_is_unchanged),
		cmocka_unit_test(absent_or_empty_leaves_it),
		cmocka_unit_test(changed_field_is_an_update),
		cmocka_unit_test(bad_values_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
