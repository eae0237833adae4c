/*
 * CSV imports end to end: every accepted and refused input of
 * tests/fixtures/import against its exact report; idempotence; dry runs;
 * partial mode; results with certificates; a size limit; and an upload cut
 * short by the client or by SIGKILL leaving nothing behind.
 */
#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

static char *conninfo;
static PGconn *db;
static int port;
static pid_t daemon_pid;
static char *admin, *grader;
static struct testlib_world w;

static char *
fixture(const char *name)
{
	char path[700];
	FILE *fp;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/../tests/fixtures/import/%s",
	    testlib_env("CERTRACK_TEST_BIN"), name);
	fp = fopen(path, "rb");
	if (fp == NULL)
		fail_msg("cannot open fixture '%s'", path);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, fp) != (size_t)n)
		fail_msg("cannot read '%s'", path);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

/* Uploads BODY as an import; returns the status and the parsed report. */
static int
upload(const char *token, const char *query, const char *body, json_t **rep)
{
	char path[200], hdr[200], *resp = NULL;
	int st;

	snprintf(path, sizeof(path), "/v1/imports?%s", query);
	snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
	    "Authorization: Bearer %s\r\n", token);
	st = testlib_http(port, "POST", path, hdr, body, &resp);
	*rep = json_loads(resp ? resp : "", 0, NULL);
	if (*rep == NULL)
		fail_msg("import answer is not JSON (%d): %s", st, resp);
	free(resp);
	return st;
}

static long
count(const char *sql)
{
	char *v = testdb_value(db, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* The data a re-import must not change: everything but the reports. */
static char *
dump(void)
{
	char pgdump[64], *out = NULL, *err = NULL, dbname[64];
	char *argv[] = { pgdump, "--data-only", "--no-owner",
	    "--restrict-key=certrack", "-h", NULL,
	    "-U", "postgres", "-T", "imports", "-T", "import_errors", "-T",
	    "audit_log", "-T", "api_tokens", "-T", "import_progress", dbname,
	    NULL };

	snprintf(pgdump, sizeof(pgdump), "/usr/lib/postgresql/15/bin/pg_dump");
	argv[5] = (char *)testlib_env("CERTRACK_TEST_PGHOST");
	snprintf(dbname, sizeof(dbname), "e2e_import");
	if (testlib_run(argv, NULL, &out, &err) != 0)
		fail_msg("pg_dump failed: %s", err);
	free(err);
	return out;
}

/*
 * DUMP without its sequence positions: a rolled-back transaction (a dry
 * run) leaves every row as it was, but PostgreSQL never hands back the ids
 * it drew, so only the rows can be compared.
 */
static char *
rows_only(char *dump)
{
	char *out = malloc(strlen(dump) + 1), *o = out;

	for (char *line = dump; *line != '\0';) {
		char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) + 1 : strlen(line);
		if (strncmp(line, "SELECT pg_catalog.setval(", 25) != 0) {
			memcpy(o, line, n);
			o += n;
		}
		line += n;
	}
	*o = '\0';
	free(dump);
	return out;
}

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_import");
	conninfo = w.conninfo;
	db = w.db;
	port = w.port;
	daemon_pid = w.daemon;
	admin = w.admin;
	grader = w.grader;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	w.daemon = daemon_pid;	/* restarted by daemon_killed_mid_upload */
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* Forget every clinician, enrollment, result, CE activity and certificate. */
static void
reset(void)
{
	testdb_exec_ok(db, "ALTER TABLE exam_results DISABLE TRIGGER "
	    "exam_results_append_only");
	testdb_exec_ok(db, "DELETE FROM ce_activities; "
	    "DELETE FROM certificates; DELETE FROM exam_results; "
	    "DELETE FROM enrollments; DELETE FROM course_sessions; "
	    "DELETE FROM clinicians");
	testdb_exec_ok(db, "ALTER TABLE exam_results ENABLE TRIGGER "
	    "exam_results_append_only");
}

struct expect {
	const char *fixture;
	const char *query;
	int status;
	long rows, created, updated, unchanged, failed;
	const char *errors;		/* the exact JSON array */
	const char *ignored;
};

static void
check_report(const struct expect *e, int status, json_t *rep)
{
	json_t *c = json_object_get(rep, "counts");
	json_error_t jerr;
	json_t *want = json_loads(e->errors, 0, &jerr);

	if (want == NULL)
		fail_msg("bad expectation for %s: %s", e->fixture, jerr.text);
	if (status != e->status || !json_equal(json_object_get(rep, "errors"),
	    want)) {
		char *got = json_dumps(rep, JSON_INDENT(1));
		fail_msg("%s: status %d, report %s", e->fixture, status, got);
	}
	assert_int_equal(json_integer_value(json_object_get(c, "rows")),
	    e->rows);
	assert_int_equal(json_integer_value(json_object_get(c, "created")),
	    e->created);
	assert_int_equal(json_integer_value(json_object_get(c, "updated")),
	    e->updated);
	assert_int_equal(json_integer_value(json_object_get(c, "unchanged")),
	    e->unchanged);
	assert_int_equal(json_integer_value(json_object_get(c, "failed")),
	    e->failed);
	json_t *ign = json_loads(e->ignored ? e->ignored : "[]", 0, NULL);
	assert_true(json_equal(json_object_get(rep, "ignored_columns"), ign));
	json_decref(ign);
	json_decref(want);
}

static void
run_cases(const struct expect *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *body = fixture(cases[i].fixture);
		json_t *rep;
		int st;

		reset();
		long before = count("SELECT count(*) FROM clinicians");
		st = upload(admin, cases[i].query, body, &rep);
		check_report(&cases[i], st, rep);
		if (cases[i].status != 201)
			assert_int_equal(count("SELECT count(*) FROM clinicians"),
			    before);
		json_decref(rep);
		free(body);
	}
}

static void
accepted_inputs(void **state)
{
	static const struct expect cases[] = {
		{ "roster_plain.csv", "kind=roster", 201, 2, 2, 0, 0, 0, "[]",
		  NULL },
		{ "roster_bom_crlf.csv", "kind=roster", 201, 1, 1, 0, 0, 0,
		  "[]", NULL },
		{ "roster_quoted.csv", "kind=roster", 201, 2, 2, 0, 0, 0, "[]",
		  NULL },
		{ "roster_aliases.csv", "kind=roster", 201, 1, 1, 0, 0, 0,
		  "[]", "[\"Shirt Size\"]" },
		{ "roster_semicolon.csv", "kind=roster", 201, 1, 1, 0, 0, 0,
		  "[]", NULL },
		{ "roster_semicolon.csv", "kind=roster&delimiter=semicolon",
		  201, 1, 1, 0, 0, 0, "[]", NULL },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
	/* The quoted fields arrive whole, the blanks around values gone. */
	reset();
	char *body = fixture("roster_quoted.csv");
	json_t *rep;
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 201);
	json_decref(rep);
	free(body);
	char *v = testdb_value(db, "SELECT given_name || '|' || family_name "
	    "|| '|' || profession_code FROM clinicians WHERE email = "
	    "'mary@example.org'");
	assert_string_equal(v, "Mary, Jr.|O\"Brien|PT");
	free(v);
	v = testdb_value(db, "SELECT location FROM course_sessions");
	assert_string_equal(v, "Austin, TX\nRoom 4");
	free(v);
	assert_int_equal(count("SELECT count(*) FROM course_sessions"), 1);
	reset();
	body = fixture("roster_aliases.csv");
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 201);
	json_decref(rep);
	free(body);
	v = testdb_value(db, "SELECT given_name || '|' || family_name || '|' "
	    "|| email || '|' || e.status || '|' || e.completed_on FROM "
	    "clinicians c JOIN enrollments e ON e.clinician_id = c.id");
	assert_string_equal(v, "Jane|Roe|jane.roe@example.org|completed|"
	    "2026-01-12");
	free(v);
}

static void
refused_inputs(void **state)
{
	static const struct expect cases[] = {
		{ "roster_bad_utf8.csv", "kind=roster", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"given_name\",\"value\":null,"
		  "\"message\":\"the text is not valid UTF-8 (save the file as "
		  "UTF-8)\"}]", NULL },
		{ "roster_missing_column.csv", "kind=roster", 422, 0, 0, 0, 0, 1,
		  "[{\"line\":1,\"column\":null,\"value\":null,\"message\":"
		  "\"the required column 'family_name' is missing (a header "
		  "such as 'family_name', 'Last Name' or 'Surname')\"}]", NULL },
		{ "roster_field_count.csv", "kind=roster", 422, 2, 0, 0, 0, 2,
		  "[{\"line\":2,\"column\":null,\"value\":null,\"message\":"
		  "\"expected 12 fields as in the header, found 13\"},"
		  "{\"line\":3,\"column\":null,\"value\":null,\"message\":"
		  "\"expected 12 fields as in the header, found 5\"}]", NULL },
		{ "roster_unterminated.csv", "kind=roster", 422, 0, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":null,\"value\":null,\"message\":"
		  "\"a quoted field is never closed (unterminated quote)\"}]",
		  NULL },
		{ "roster_bad_npi.csv", "kind=roster", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"npi\",\"value\":\"1234567890\","
		  "\"message\":\"'1234567890' is not a valid NPI (ten digits "
		  "with a correct check digit)\"}]", NULL },
		{ "roster_unknown_profession.csv", "kind=roster", 422, 1, 0, 0, 0,
		  1, "[{\"line\":2,\"column\":\"profession\",\"value\":"
		  "\"Plumber\",\"message\":\"unknown profession 'Plumber' "
		  "(known: ATC, DC, DO, LAc, LMT, MD, NP, OT, PA, PT, PTA, "
		  "RN)\"}]", NULL },
		{ "roster_ineligible.csv", "kind=roster", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"profession\",\"value\":\"Physical "
		  "Therapist Assistant\",\"message\":\"Physical Therapist "
		  "Assistant (PTA) may not enroll in Dry Needling: eligible "
		  "professions are DC, DO, MD, NP, PA, PT\"}]", NULL },
		{ "roster_unknown_level.csv", "kind=roster", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"level\",\"value\":\"DN9\","
		  "\"message\":\"there is no level 'DN9' (levels: DN1 Level 1, "
		  "DN2 Level 2)\"}]", NULL },
		{ "roster_duplicate.csv", "kind=roster", 422, 2, 0, 0, 0, 1,
		  "[{\"line\":3,\"column\":\"email\",\"value\":"
		  "\"JANE.ROE@example.org\",\"message\":\"the same person and "
		  "level as line 2\"}]", NULL },
		{ "roster_bad_date.csv", "kind=roster", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"course_start\",\"value\":"
		  "\"2026-02-30\",\"message\":\"'2026-02-30' is not a date "
		  "(write YYYY-MM-DD)\"}]", NULL },
		{ "empty.csv", "kind=roster", 422, 0, 0, 0, 0, 1,
		  "[{\"line\":1,\"column\":null,\"value\":null,\"message\":"
		  "\"the file is empty (it needs a header line and at least one "
		  "row)\"}]", NULL },
		/* A header and no row (blank lines are no rows) is as empty. */
		{ "roster_header_only.csv", "kind=roster", 422, 0, 0, 0, 0, 1,
		  "[{\"line\":1,\"column\":null,\"value\":null,\"message\":"
		  "\"the file is empty (it needs a header line and at least one "
		  "row)\"}]", NULL },
		{ "results_header_only.csv", "kind=results", 422, 0, 0, 0, 0, 1,
		  "[{\"line\":1,\"column\":null,\"value\":null,\"message\":"
		  "\"the file is empty (it needs a header line and at least one "
		  "row)\"}]", NULL },
	};

	(void)state;
	run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void
results_and_certificates(void **state)
{
	static const struct expect cases[] = {
		{ "results_above_max.csv", "kind=results", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"score\",\"value\":\"101\","
		  "\"message\":\"the score 101 is above the maximum score\"}]",
		  NULL },
		{ "results_bad_date.csv", "kind=results", 422, 1, 0, 0, 0, 1,
		  "[{\"line\":2,\"column\":\"taken_on\",\"value\":"
		  "\"yesterday\",\"message\":\"'yesterday' is not a date (write "
		  "YYYY-MM-DD)\"}]", NULL },
	};
	char *roster = fixture("roster_plain.csv");
	char *results = fixture("results_plain.csv");
	json_t *rep;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		reset();
		assert_int_equal(upload(admin, "kind=roster", roster, &rep), 201);
		json_decref(rep);
		char *body = fixture(cases[i].fixture);
		int st = upload(grader, cases[i].query, body, &rep);
		check_report(&cases[i], st, rep);
		json_decref(rep);
		free(body);
	}
	reset();
	assert_int_equal(upload(admin, "kind=roster", roster, &rep), 201);
	json_decref(rep);
	/* Results before the roster's clinician exists would be refused;
	 * here the grader records both exams and the certificate follows. */
	static const struct expect ok = { "results_plain.csv", "kind=results",
	    201, 2, 2, 0, 0, 0, "[]", NULL };
	int st = upload(grader, "kind=results", results, &rep);
	check_report(&ok, st, rep);
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM certificates c JOIN "
	    "clinicians p ON p.id = c.clinician_id WHERE p.npi = '1234567893' "
	    "AND c.issued_on = '2026-01-21' AND c.expires_on = '2028-01-21'"),
	    1);
	/* The same sheet again adds no attempt. */
	char *before = dump();
	static const struct expect again = { "results_plain.csv",
	    "kind=results", 201, 2, 0, 0, 2, 0, "[]", NULL };
	st = upload(grader, "kind=results", results, &rep);
	check_report(&again, st, rep);
	json_decref(rep);
	char *after = dump();
	assert_string_equal(before, after);
	free(before);
	free(after);
	/* A grader may import results but not rosters. */
	assert_int_equal(upload(grader, "kind=roster", roster, &rep), 403);
	json_decref(rep);
	free(roster);
	free(results);
}

/* An empty database but for roster_plain.csv's people and sessions. */
static void
reset_to_roster(void)
{
	char *roster = fixture("roster_plain.csv");
	json_t *rep;

	reset();
	assert_int_equal(upload(admin, "kind=roster", roster, &rep), 201);
	json_decref(rep);
	free(roster);
}

/* Uploads results SHEET, which must be refused whole with N errors and
 * write nothing: its report. */
static json_t *
refused_sheet(const char *sheet, size_t n)
{
	json_t *rep;

	assert_int_equal(upload(grader, "kind=results", sheet, &rep), 422);
	assert_int_equal(json_array_size(json_object_get(rep, "errors")), n);
	assert_int_equal(count("SELECT count(*) FROM exam_results"), 0);
	return rep;
}

/* Asserts error I of REP: its line, column, value (NULL: none) and message. */
static void
error_is(json_t *rep, size_t i, long line, const char *column,
    const char *value, const char *message)
{
	json_t *e = json_array_get(json_object_get(rep, "errors"), i);

	if (e == NULL)
		fail_msg("no error %zu in the report", i);
	assert_int_equal(json_integer_value(json_object_get(e, "line")), line);
	assert_string_equal(json_string_value(json_object_get(e, "column")),
	    column);
	if (value == NULL)
		assert_true(json_is_null(json_object_get(e, "value")));
	else
		assert_string_equal(json_string_value(json_object_get(e,
		    "value")), value);
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    message);
}

/* Uploads SHEET in partial mode: its count of created results. */
static long
created_partial(const char *sheet)
{
	json_t *rep;
	long n;

	assert_int_equal(upload(grader, "kind=results&partial=true", sheet,
	    &rep), 201);
	n = (long)json_integer_value(json_object_get(json_object_get(rep,
	    "counts"), "created"));
	json_decref(rep);
	return n;
}

/*
 * A sheet holding several attempts of one person: recorded in date order,
 * each meeting the rules with the earlier ones already in place -- the
 * fourth attempt is one too many, a retake inside the wait is too soon.
 */
static void
results_in_sequence(void **state)
{
	const char *sheet =
	    "email,level,kind,score,max_score,taken_on\n"
	    "john.doe@example.org,DN1,written,50,100,2026-03-29\n"
	    "john.doe@example.org,DN1,written,40,100,2026-03-01\n"
	    "john.doe@example.org,DN1,written,60,100,2026-03-15\n"
	    "john.doe@example.org,DN1,written,70,100,2026-04-12\n"
	    "john.doe@example.org,DN1,practical,80,100,2026-03-01\n"
	    "john.doe@example.org,DN1,practical,90,100,2026-03-05\n";
	json_t *rep;

	(void)state;
	reset_to_roster();
	/* all-or-nothing: two refusals, nothing written */
	rep = refused_sheet(sheet, 2);
	error_is(rep, 0, 5, "kind", "written",
	    "all 3 attempts at the written exam of Level 1 are used");
	error_is(rep, 1, 7, "kind", "practical",
	    "the practical exam of Level 1 is already passed (attempt 1)");
	json_decref(rep);

	/* partial: the three written attempts in date order, one practical */
	assert_int_equal(created_partial(sheet), 4);
	char *v = testdb_value(db, "SELECT string_agg(attempt || ':' || "
	    "taken_on || ':' || score, ' ' ORDER BY attempt) FROM exam_results "
	    "WHERE kind = 'written'");
	assert_string_equal(v, "1:2026-03-01:40 2:2026-03-15:60 "
	    "3:2026-03-29:50");
	free(v);

	/* a retake inside the 14-day wait, in one sheet */
	reset_to_roster();
	rep = refused_sheet("email,level,kind,score,max_score,taken_on\n"
	    "john.doe@example.org,DN1,written,50,100,2026-03-01\n"
	    "john.doe@example.org,DN1,written,90,100,2026-03-14\n", 1);
	error_is(rep, 0, 3, "taken_on", "2026-03-14",
	    "the next written attempt at Level 1 is allowed on or after "
	    "2026-03-15");
	json_decref(rep);
}

/*
 * Every refusal of the results sheet's own check, each with its column,
 * value and message: a value C could not read, an unknown level, an
 * unknown NPI, an unknown email, a second line for one sitting; and, once
 * a sitting is recorded, another score for it.
 */
static void
results_check_refusals(void **state)
{
	const char *sheet =
	    "npi,email,level,kind,score,max_score,taken_on\n"
	    ",john.doe@example.org,DN1,written,50,100,2026-03-01\n"
	    ",john.doe@example.org,dn1,written,55,100,2026-03-01\n"
	    "1234567802,,DN1,written,70,100,2026-03-01\n"
	    ",nobody@example.org,DN1,written,70,100,2026-03-01\n"
	    "1234567893,,DN9,written,70,100,2026-03-01\n"
	    "1234567893,,DN1,written,70,100,2026-02-30\n"
	    "1234567893,,DN1,practical,70,100,2026-03-01\n";
	json_t *rep;

	(void)state;
	reset_to_roster();
	rep = refused_sheet(sheet, 5);
	error_is(rep, 0, 3, "taken_on", "2026-03-01",
	    "the same exam and date as line 2");
	error_is(rep, 1, 4, "npi", "1234567802",
	    "there is no clinician with NPI 1234567802");
	error_is(rep, 2, 5, "email", "nobody@example.org",
	    "there is no clinician with email 'nobody@example.org'");
	error_is(rep, 3, 6, "level", "DN9",
	    "there is no level 'DN9' (levels: DN1 Level 1, DN2 Level 2)");
	error_is(rep, 4, 7, "taken_on", "2026-02-30",
	    "'2026-02-30' is not a date (write YYYY-MM-DD)");
	json_decref(rep);

	/* The good lines alone; then one of them again with another score. */
	assert_int_equal(created_partial(sheet), 2);
	assert_int_equal(upload(grader, "kind=results",
	    "npi,email,level,kind,score,max_score,taken_on\n"
	    "1234567893,,DN1,practical,70,100,2026-03-01\n"
	    ",john.doe@example.org,DN1,written,60,100,2026-03-01\n", &rep),
	    422);
	assert_int_equal(json_array_size(json_object_get(rep, "errors")), 1);
	error_is(rep, 0, 3, "score", "60",
	    "attempt 1 on 2026-03-01 is recorded with 50 of 100; amend it "
	    "rather than import another score");
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM exam_results"), 2);
}

/* A roster line whose email is one clinician's and its NPI another's. */
static void
roster_email_and_npi_of_two(void **state)
{
	char msg[200];
	json_t *rep;

	(void)state;
	reset_to_roster();
	snprintf(msg, sizeof(msg), "the email belongs to clinician %ld, the NPI "
	    "to clinician %ld", count("SELECT id FROM clinicians WHERE email = "
	    "'john.doe@example.org'"), count("SELECT id FROM clinicians WHERE "
	    "npi = '1234567893'"));
	assert_int_equal(upload(admin, "kind=roster", "given_name,family_name,"
	    "email,npi,profession,level,course_start,course_end\n"
	    "John,Doe,john.doe@example.org,1234567893,MD,DN1,2026-01-10,"
	    "2026-01-12\n", &rep), 422);
	assert_int_equal(json_array_size(json_object_get(rep, "errors")), 1);
	error_is(rep, 0, 2, "email", "john.doe@example.org", msg);
	json_decref(rep);
}

/*
 * The roster check's questions about several lines: a person and level
 * twice (by email, any case), an NPI and level twice, an NPI with two
 * emails (the line with the second email names the first one's line; a
 * later line with the first email names the second's), and an NPI other
 * than the one the clinician has.  Each on its line, the lines between
 * them good, the file refused whole.
 */
static void
roster_checks_across_lines(void **state)
{
	char msg[200];
	json_t *rep;

	(void)state;
	reset_to_roster();
	snprintf(msg, sizeof(msg), "clinician %ld (jane.roe@example.org) has "
	    "NPI 1234567893 already", count("SELECT id FROM clinicians WHERE "
	    "email = 'jane.roe@example.org'"));
	assert_int_equal(upload(admin, "kind=roster", "given_name,family_name,"
	    "email,npi,profession,level\n"
	    "Ann,Lee,ann@example.org,1000000012,PT,DN1\n"           /* 2 */
	    "Ann,Lee,ann.lee@example.org,1000000012,PT,DN2\n"       /* 3 */
	    "Bo,Kim,bo@example.org,,PT,DN1\n"                       /* 4 */
	    "Bo,Kim,BO@example.org,,PT,DN1\n"                       /* 5 */
	    "Cy,Ray,cy@example.org,1000000053,PT,DN1\n"             /* 6 */
	    "Cy,Ray,cy.ray@example.org,1000000053,PT,DN1\n"         /* 7 */
	    "Di,Fox,di@example.org,1000000061,PT,DN1\n"             /* 8 */
	    "Di,Fox,di2@example.org,,PT,DN1\n"                      /* 9 */
	    "Di,Fox,di2@example.org,1000000061,PT,DN1\n"            /* 10 */
	    "Di,Fox,di@example.org,1000000061,PT,DN2\n"             /* 11 */
	    "Jane,Roe,jane.roe@example.org,1000000111,PT,DN1\n"     /* 12 */
	    "Ed,Yu,ed@example.org,1000000152,PT,DN1\n", &rep), 422);  /* 13 */
	assert_int_equal(json_array_size(json_object_get(rep, "errors")), 6);
	error_is(rep, 0, 3, "email", "ann.lee@example.org",
	    "NPI 1000000012 has another email on line 2");
	error_is(rep, 1, 5, "email", "BO@example.org",
	    "the same person and level as line 4");
	error_is(rep, 2, 7, "npi", "1000000053",
	    "the same NPI and level as line 6");
	error_is(rep, 3, 10, "email", "di2@example.org",
	    "the same person and level as line 9");
	error_is(rep, 4, 11, "email", "di@example.org",
	    "NPI 1000000061 has another email on line 10");
	error_is(rep, 5, 12, "npi", "1000000111", msg);
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 2);
}

static void
reimport_changes_nothing(void **state)
{
	char *body = fixture("roster_plain.csv");
	json_t *rep;

	(void)state;
	reset();
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 201);
	json_decref(rep);
	char *before = dump();
	static const struct expect again = { "roster_plain.csv", "kind=roster",
	    201, 2, 0, 0, 2, 0, "[]", NULL };
	int st = upload(admin, "kind=roster", body, &rep);
	check_report(&again, st, rep);
	json_decref(rep);
	char *after = dump();
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(body);
}

static void
dry_run_is_the_real_report(void **state)
{
	const char *files[] = { "roster_plain.csv", "roster_duplicate.csv" };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		char *body = fixture(files[i]);
		json_t *dry, *real;
		reset();
		char *before = rows_only(dump());
		int st1 = upload(admin, "kind=roster&dry_run=true", body, &dry);
		char *after = rows_only(dump());
		assert_string_equal(before, after);
		assert_true(json_is_true(json_object_get(dry, "dry_run")));
		int st2 = upload(admin, "kind=roster", body, &real);
		assert_int_equal(st1, st2);
		assert_true(json_equal(json_object_get(dry, "counts"),
		    json_object_get(real, "counts")));
		assert_true(json_equal(json_object_get(dry, "errors"),
		    json_object_get(real, "errors")));
		assert_true(json_equal(json_object_get(dry, "status"),
		    json_object_get(real, "status")));
		json_decref(dry);
		json_decref(real);
		free(before);
		free(after);
		free(body);
	}
}

static void
partial_writes_the_good_rows(void **state)
{
	const char *body =
	    "given_name,family_name,email,profession,level\n"
	    "Good,One,good1@example.org,PT,DN1\n"
	    "Bad,Two,bad2@example.org,PTA,DN1\n"
	    "Good,Three,good3@example.org,DC,DN1\n";
	json_t *rep;

	(void)state;
	reset();
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 422);
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 0);
	assert_int_equal(upload(admin, "kind=roster&partial=true", body, &rep),
	    201);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    rep, "counts"), "created")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    rep, "counts"), "failed")), 1);
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 2);
	assert_int_equal(count("SELECT count(*) FROM enrollments"), 2);
	/* The report is kept and listed. */
	char *resp = NULL;
	assert_int_equal(testlib_api(port, "GET", "/v1/imports?limit=1", admin,
	    NULL, &resp), 200);
	json_t *list = json_loads(resp, 0, NULL);
	long long id = json_integer_value(json_object_get(json_array_get(list,
	    0), "id"));
	json_decref(list);
	free(resp);
	char path[64];
	snprintf(path, sizeof(path), "/v1/imports/%lld", id);
	assert_int_equal(testlib_api(port, "GET", path, admin, NULL, &resp),
	    200);
	json_t *report = json_loads(resp, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(report, "errors"), 0), "line")), 3);
	json_decref(report);
	free(resp);
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = "
	    "'import.run'") > 0, 1);
	assert_int_equal(testlib_http(port, "GET", "/metrics", NULL, NULL,
	    &resp), 200);
	assert_non_null(strstr(resp, "certrack_import_rows_total{outcome="
	    "\"created\"} "));
	assert_null(strstr(resp, "certrack_import_rows_total{outcome="
	    "\"created\"} 0\n"));
	free(resp);
}

static void
bad_requests(void **state)
{
	json_t *rep;

	(void)state;
	assert_int_equal(upload(admin, "kind=people", "a\n", &rep), 400);
	json_decref(rep);
	assert_int_equal(upload(admin, "kind=roster&delimiter=pipe", "a\n",
	    &rep), 400);
	json_decref(rep);
	assert_int_equal(upload(admin, "kind=roster&dry_run=maybe", "a\n",
	    &rep), 400);
	json_decref(rep);
	assert_int_equal(testlib_http(port, "POST", "/v1/imports?kind=roster",
	    NULL, "a\n", NULL), 401);
	/* A refusal comes before the body is read: a large upload without a
	 * login is answered at once (the connection is then closed). */
	size_t len = 8u << 20;
	char *big = malloc(len + 1);
	memset(big, 'a', len);
	big[len] = '\0';
	int fd = testlib_upload_start(port, "/v1/imports?kind=roster", "x",
	    big, len, 0);
	char buf[512];
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_non_null(strstr(buf, " 401 "));
	close(fd);
	free(big);
}

/* Sends the headers and HALF of BODY; returns the open socket. */
static int
half_upload(const char *body, size_t len)
{
	int fd = testlib_upload_start(port, "/v1/imports?kind=roster", admin,
	    body, len, len / 2);

	usleep(500 * 1000);	/* let the daemon stream some rows in */
	return fd;
}

static void
client_goes_away_mid_upload(void **state)
{
	size_t len;
	char *body = testlib_roster(20000, &len);
	json_t *rep;

	(void)state;
	reset();
	long imports = count("SELECT count(*) FROM imports");
	int fd = half_upload(body, len);
	close(fd);
	/* The import's transaction is rolled back once the daemon notices. */
	for (int i = 0; i < 100 && count("SELECT count(*) FROM pg_stat_activity"
	    " WHERE query LIKE 'COPY import_rows%'") > 0; i++)
		usleep(100 * 1000);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 0);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);
	/* and the next import works */
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 201);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    rep, "counts"), "created")), 20000);
	json_decref(rep);
	free(body);
}

static void
daemon_killed_mid_upload(void **state)
{
	size_t len;
	char *body = testlib_roster(20000, &len);
	json_t *rep;
	int st;

	(void)state;
	reset();
	long imports = count("SELECT count(*) FROM imports");
	int fd = half_upload(body, len);
	kill(daemon_pid, SIGKILL);
	waitpid(daemon_pid, &st, 0);
	close(fd);
	for (int i = 0; i < 100 && count("SELECT count(*) FROM pg_stat_activity"
	    " WHERE query LIKE 'COPY import_rows%'") > 0; i++)
		usleep(100 * 1000);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 0);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);
	daemon_pid = testlib_start_daemon("e2e_import2", port, conninfo, NULL);
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 201);
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 20000);
	free(body);
}

/*
 * What the roster's merge asks of enrollment_create() (sql/0031): its
 * refused-only form answers exactly the refused entries of the full
 * form, in the same words, and writes the same rows.  On a database of
 * its own: clinician 3 already in DN1, no clinician 99, clinician 2 not
 * certified in DN1 for DN2.
 */
static void
enroll_refused_only_is_the_refused(void **state)
{
	static const char *const entries = "ARRAY[ROW(2, 1, 1, NULL,"
	    " current_date - 1), ROW(3, 3, 1, NULL, NULL), ROW(4, 99, 1, NULL,"
	    " NULL), ROW(5, 2, 2, NULL, NULL), ROW(6, 2, 1, NULL, NULL)]"
	    "::enroll_entry[]";
	static const char *const refused = "3:already_enrolled:clinician 3"
	    " already has a live enrollment in DN1 (enrollment 1, enrolled),"
	    "4:unknown_clinician:there is no clinician 99,"
	    "5:prerequisite_missing:Level 2 requires Level 1 to be certified"
	    " first";
	char *ci, *v;
	PGconn *c = testdb_migrated("e2e_import_enroll", &ci);

	(void)state;
	testdb_exec_ok(c, "INSERT INTO clinicians (email, given_name,"
	    " family_name, profession_code) VALUES ('a@example.org', 'A', 'A',"
	    " 'PT'), ('b@example.org', 'B', 'B', 'PT'), ('c@example.org', 'C',"
	    " 'C', 'PT')");
	testdb_exec_ok(c, "SELECT enrollment_create(ARRAY[ROW(1, 3, 1, NULL,"
	    " NULL)]::enroll_entry[])");
	for (int only = 0; only <= 1; only++) {
		testdb_exec_ok(c, "BEGIN");
		v = testdb_textf(c, "SELECT string_agg(line || ':' || coalesce("
		    "code || ':' || detail, 'written'), ',' ORDER BY line) FROM"
		    " enrollment_create(%s, false, %s)", entries,
		    only ? "true" : "false");
		if (only)
			assert_string_equal(v, refused);
		else
			assert_string_equal(v, "2:written,"
			    "3:already_enrolled:clinician 3 already has a live"
			    " enrollment in DN1 (enrollment 1, enrolled),"
			    "4:unknown_clinician:there is no clinician 99,"
			    "5:prerequisite_missing:Level 2 requires Level 1 to"
			    " be certified first,6:written");
		free(v);
		v = testdb_value(c, "SELECT string_agg(clinician_id || ':' ||"
		    " level_id || ':' || status, ',' ORDER BY id) FROM"
		    " enrollments");
		assert_string_equal(v, "3:1:enrolled,1:1:completed,2:1:enrolled");
		free(v);
		testdb_exec_ok(c, "ROLLBACK");
	}
	PQfinish(c);
	free(ci);
}

/* Uploads BODY as KIND with TOKEN, which must be taken (201) with COUNTS,
 * "created/updated/unchanged/failed", no error and no column ignored
 * (check_report()). */
static void
imported_with(const char *token, const char *kind, const char *body,
    const char *counts)
{
	struct expect e = { kind, kind, 201, 0, 0, 0, 0, 0, "[]", NULL };
	json_t *rep;
	int st;

	if (sscanf(counts, "%ld/%ld/%ld/%ld", &e.created, &e.updated,
	    &e.unchanged, &e.failed) != 4)
		fail_msg("bad counts '%s'", counts);
	e.rows = e.created + e.updated + e.unchanged + e.failed;
	st = upload(token, kind, body, &rep);
	check_report(&e, st, rep);
	json_decref(rep);
}

/*
 * A merge of 50,000 good rows or more plans each statement once, for any
 * number of rows, joining by hash (sql/0033): import_plans_begin() sets
 * those plans from that number on and not below (rows with an error do
 * not count), and import_plans_end() sets back what it found.  A roster
 * and a results sheet of 50,000 rows then go through merges so planned
 * with the reports a small file gets: all created; a line exam_record()
 * refuses named on its line, and nothing written; the same files again,
 * all unchanged; the results written in the order of their indexes
 * (sql/0037).  A CE file of 50,000 activities the same (sql/0036), and
 * each of the three merges calls both helpers.
 */
static void
large_merge_plans(void **state)
{
	static const char *const settings = "SELECT import_plans_begin()::text"
	    " || ' ' || current_setting('plan_cache_mode') || ' ' ||"
	    " current_setting('enable_nestloop')";
	size_t len, cap = 50000 * 64 + 200, used;
	char *roster = testlib_roster(50000, &len), *sheet = malloc(cap), *v,
	    *id, msg[100];
	json_t *rep;

	(void)state;
	reset();
	testdb_exec_ok(db, "BEGIN");
	testdb_exec_ok(db, "SELECT import_staging_create('results')");
	testdb_exec_ok(db, "INSERT INTO import_rows (line)"
	    " SELECT generate_series(1, 49999)");
	v = testdb_value(db, settings);
	assert_string_equal(v, "{auto,on} auto on");
	free(v);
	testdb_exec_ok(db, "INSERT INTO import_rows (line) VALUES (50000)");
	v = testdb_value(db, settings);
	assert_string_equal(v, "{auto,on} force_generic_plan off");
	free(v);
	testdb_exec_ok(db, "SELECT import_plans_end('{auto,on}')");
	testdb_exec_ok(db, "UPDATE import_rows SET err_message = 'bad'"
	    " WHERE line = 1");
	v = testdb_value(db, settings);
	assert_string_equal(v, "{auto,on} auto on");
	free(v);
	testdb_exec_ok(db, "ROLLBACK");

	imported_with(admin, "kind=roster", roster, "50000/0/0/0");
	used = (size_t)snprintf(sheet, cap,
	    "email,level,kind,score,max_score,taken_on\n");
	for (long i = 0; i < 50000; i++)
		used += (size_t)snprintf(sheet + used, cap - used,
		    "person%ld@example.org,DN1,written,80,100,2025-06-02\n", i);
	/* line 50,002: enrolled in DN1 only */
	snprintf(sheet + used, cap - used,
	    "person7@example.org,DN2,written,80,100,2025-06-02\n");
	rep = refused_sheet(sheet, 1);
	id = testdb_value(db, "SELECT id FROM clinicians"
	    " WHERE email = 'person7@example.org'");
	snprintf(msg, sizeof(msg), "clinician %s is not enrolled in Level 2",
	    id);
	error_is(rep, 0, 50002, "level", "DN2", msg);
	json_decref(rep);
	sheet[used] = '\0';
	/* the enrollments out of the clinicians' order, as a year of updates
	 * leaves them: every other one moved to the end of the table */
	testdb_exec_ok(db, "UPDATE enrollments SET session_id = session_id"
	    " WHERE clinician_id % 2 = 0");
	assert_true(count("SELECT count(*) FROM (SELECT clinician_id <"
	    " lag(clinician_id) OVER (ORDER BY ctid) AS back FROM enrollments) e"
	    " WHERE back") > 0);
	imported_with(grader, "kind=results", sheet, "50000/0/0/0");
	assert_int_equal(count("SELECT count(*) FROM exam_results"), 50000);
	/* written in their indexes' order, not the enrollments' (sql/0037):
	 * each id greater than the one before it by clinician and level */
	assert_int_equal(count("SELECT count(*) FROM (SELECT id < lag(id) OVER"
	    " (ORDER BY clinician_id, level_id, kind, attempt) AS back"
	    " FROM exam_results) r WHERE back"), 0);
	imported_with(grader, "kind=results", sheet, "0/0/50000/0");
	imported_with(admin, "kind=roster", roster, "0/0/50000/0");

	/* A CE file as large, through its merge's generic plans. */
	used = (size_t)snprintf(sheet, cap, "email,title,completed_on,hours\n");
	for (long i = 0; i < 50000; i++)
		used += (size_t)snprintf(sheet + used, cap - used,
		    "person%ld@example.org,Course %ld,2025-07-01,2\n", i, i);
	imported_with(admin, "kind=ce", sheet, "50000/0/0/0");
	assert_int_equal(count("SELECT count(*) FROM ce_activities"), 50000);
	imported_with(admin, "kind=ce", sheet, "0/0/50000/0");
	/* Every merge takes the plans, and sets them back. */
	assert_int_equal(count("SELECT count(*) FROM pg_proc WHERE proname IN"
	    " ('import_roster_merge', 'import_results_merge',"
	    " 'import_ce_merge') AND prosrc LIKE"
	    " '%v_plans text[] := import_plans_begin();%' AND prosrc LIKE"
	    " '%PERFORM import_plans_end(v_plans);%END%'"), 3);
	free(id);
	free(sheet);
	free(roster);
}

/*
 * A roster's new course session takes its instructor from the first line
 * that names the session (sql/0034 finds that line by hash): two lines of
 * one session in Austin, two of one without a location (grouped
 * together, as one session), one of a session in Boston with no end date
 * and no instructor; the sessions made in key order.
 */
static void
session_instructor_of_first_line(void **state)
{
	const char *roster =
	    "given_name,family_name,email,profession,level,course_start,"
	    "course_end,location,instructor\n"
	    "A,A,a@example.org,PT,DN1,2025-03-01,2025-03-03,Austin,Ann First\n"
	    "B,B,b@example.org,PT,DN1,2025-03-01,2025-03-03,Austin,Bob Later\n"
	    "C,C,c@example.org,PT,DN1,2025-03-01,2025-03-03,,Cy First\n"
	    "D,D,d@example.org,PT,DN1,2025-03-01,2025-03-03,,Di Later\n"
	    "E,E,e@example.org,PT,DN1,2025-04-01,,Boston,\n";
	char *v;

	(void)state;
	reset();
	imported_with(admin, "kind=roster", roster, "5/0/0/0");
	v = testdb_value(db, "SELECT string_agg(starts_on || '/' || ends_on"
	    " || '/' || coalesce(location, '-') || '/' || coalesce(instructor,"
	    " '-'), ',' ORDER BY id) FROM course_sessions");
	assert_string_equal(v, "2025-03-01/2025-03-03/Austin/Ann First,"
	    "2025-03-01/2025-03-03/-/Cy First,2025-04-01/2025-04-01/Boston/-");
	free(v);
	assert_int_equal(count("SELECT count(DISTINCT session_id) FROM"
	    " enrollments"), 3);
}

static void
size_limit(void **state)
{
	const char *const extra[] = { NULL };
	int p2 = testlib_free_port(), saved = port;
	json_t *rep;

	(void)state;
	setenv("CERTRACK_IMPORT_MAX_BYTES", "1K", 1);
	pid_t pid = testlib_start_daemon("e2e_import_small", p2, conninfo,
	    extra);
	unsetenv("CERTRACK_IMPORT_MAX_BYTES");
	size_t len;
	char *body = testlib_roster(100, &len);
	reset();
	port = p2;
	assert_int_equal(upload(admin, "kind=roster", body, &rep), 422);
	port = saved;
	json_t *e = json_array_get(json_object_get(rep, "errors"), 0);
	assert_string_equal(json_string_value(json_object_get(e, "message")),
	    "the file is larger than the limit of 1024 bytes "
	    "(import_max_bytes)");
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 0);
	assert_int_equal(testlib_stop_daemon(pid), 0);
	free(body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepted_inputs),
		cmocka_unit_test(refused_inputs),
		cmocka_unit_test(results_and_certificates),
		cmocka_unit_test(results_in_sequence),
		cmocka_unit_test(results_check_refusals),
		cmocka_unit_test(roster_email_and_npi_of_two),
		cmocka_unit_test(roster_checks_across_lines),
		cmocka_unit_test(reimport_changes_nothing),
		cmocka_unit_test(dry_run_is_the_real_report),
		cmocka_unit_test(partial_writes_the_good_rows),
		cmocka_unit_test(bad_requests),
		cmocka_unit_test(client_goes_away_mid_upload),
		cmocka_unit_test(enroll_refused_only_is_the_refused),
		cmocka_unit_test(large_merge_plans),
		cmocka_unit_test(session_instructor_of_first_line),
		cmocka_unit_test(size_limit),
		cmocka_unit_test(daemon_killed_mid_upload),
	};
	return cmocka_run_group_tests_name("e2e_import", tests, setup,
	    teardown);
}
