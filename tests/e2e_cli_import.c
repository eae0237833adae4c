/*
 * End to end: `certrack import` against a real certrackd on a loopback
 * port.  The samples in docs/examples import cleanly into a fresh
 * database, in order, and a certificate comes of them; a good roster, its
 * re-import (all unchanged), a refused one (exit 1, the report on stdout),
 * --dry-run leaving the database as it was, --partial, --json equal to the
 * API's report, --errors-csv compared whole, standard input, a grader
 * refused a roster (exit 4), `import list` and `import show`, usage errors,
 * and the CLI's memory staying flat on a 200,000-row upload.
 *
 * The tests run in order and share one daemon and database.
 */
#include "testlib.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#define MAXARGS 40

/* The CLI's peak resident memory allowed for a large upload, KiB. */
#define CLI_RSS_MAX_KIB (16 * 1024)
#define BIG_ROWS 200000

static char *conninfo;
static PGconn *db;
static int port;
static char url[64], dead_url[64];
static char cli[600], tmp[600], fixtures[700], examples[700];
static char *admin_pw, *grader_pw, *admin_tok, *grader_tok;
static struct testlib_world w;

/* ---- helpers ------------------------------------------------------------ */

/* The shared helpers of testlib, under this file's short names. */
#define run testlib_cli
#define has testlib_has
#define lacks testlib_lacks
#define RUN TESTLIB_CLI

#define FREE_IO() do { free(out); free(err); out = err = NULL; } while (0)

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, text);
	return j;
}

static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *text;
	long n;

	if (fp == NULL)
		fail_msg("cannot open '%s': %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return text;
}

/* Writes TEXT to CERTRACK_TEST_TMP/NAME; the path in PATH. */
static void
write_tmp(const char *name, const char *text, char *path, size_t len)
{
	FILE *fp;

	snprintf(path, len, "%s/%s", tmp, name);
	fp = fopen(path, "wb");
	if (fp == NULL)
		fail_msg("cannot create '%s': %s", path, strerror(errno));
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void
fixture(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", fixtures, name);
}

static long long
count(const char *sql)
{
	char *v = testdb_value(db, sql);
	long long n = strtoll(v, NULL, 10);

	free(v);
	return n;
}

/* The id of the newest import. */
static long long
last_import(void)
{
	return count("SELECT max(id) FROM imports");
}

/* ---- the group --------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s", testlib_env("CERTRACK_TEST_TMP"));
	testlib_world_up(&w, "e2e_cli_import");
	conninfo = w.conninfo;
	db = w.db;
	port = w.port;
	admin_pw = w.admin_pw;
	grader_pw = w.grader_pw;
	admin_tok = w.admin;
	grader_tok = w.grader;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	snprintf(dead_url, sizeof(dead_url), "http://127.0.0.1:%d",
	    testlib_free_port());
	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(fixtures, sizeof(fixtures), "%s/../tests/fixtures/import",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(examples, sizeof(examples), "%s/../docs/examples",
	    testlib_env("CERTRACK_TEST_BIN"));
	/* The admin's token through the environment; no config file. */
	setenv("CERTRACK_URL", url, 1);
	setenv("CERTRACK_TOKEN", admin_tok, 1);
	setenv("HOME", tmp, 1);
	unsetenv("XDG_CONFIG_HOME");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* ---- the samples in docs/examples, into the fresh database ------------- */

static void
examples_import_cleanly(void **state)
{
	char *out = NULL, *err = NULL, path[800];

	(void)state;
	assert_int_equal(count("SELECT count(*) FROM clinicians"), 0);
	snprintf(path, sizeof(path), "%s/roster.csv", examples);
	RUN(0, NULL, "import", "roster", path);
	assert_string_equal(out, "imported 'roster.csv': 7 rows: 7 created, "
	    "0 updated, 0 unchanged, 0 failed\n");
	assert_string_equal(err, "");
	FREE_IO();
	snprintf(path, sizeof(path), "%s/results.csv", examples);
	RUN(0, NULL, "import", "results", path);
	assert_string_equal(out, "imported 'results.csv': 11 rows: 11 "
	    "created, 0 updated, 0 unchanged, 0 failed\n");
	FREE_IO();
	/* Four passed both exams after completing the course. */
	assert_int_equal(count("SELECT count(*) FROM certificates"), 4);
	assert_int_equal(count("SELECT count(*) FROM certificates c JOIN "
	    "clinicians k ON k.id = c.clinician_id WHERE k.email = "
	    "'david.okafor@example.org'"), 1);
	/* Both again: nothing new. */
	snprintf(path, sizeof(path), "%s/roster.csv", examples);
	RUN(0, NULL, "import", "roster", path);
	has(out, "7 rows: 0 created, 0 updated, 7 unchanged, 0 failed");
	FREE_IO();
	snprintf(path, sizeof(path), "%s/results.csv", examples);
	RUN(0, NULL, "import", "results", path);
	has(out, "11 rows: 0 created, 0 updated, 11 unchanged, 0 failed");
	FREE_IO();
	assert_int_equal(count("SELECT count(*) FROM exam_results"), 11);
}

/* ---- rosters ----------------------------------------------------------- */

static void
good_roster_and_reimport(void **state)
{
	char *out = NULL, *err = NULL, path[800];

	(void)state;
	fixture("roster_plain.csv", path, sizeof(path));
	RUN(0, NULL, "import", "roster", path);
	assert_string_equal(out, "imported 'roster_plain.csv': 2 rows: "
	    "2 created, 0 updated, 0 unchanged, 0 failed\n");
	assert_string_equal(err, "");
	FREE_IO();
	RUN(0, NULL, "import", "roster", path);
	assert_string_equal(out, "imported 'roster_plain.csv': 2 rows: "
	    "0 created, 0 updated, 2 unchanged, 0 failed\n");
	FREE_IO();
	/* --quiet: nothing on success. */
	RUN(0, NULL, "--quiet", "import", "roster", path);
	assert_string_equal(out, "");
	assert_string_equal(err, "");
	FREE_IO();
	/* Aliases, an extra column: reported as ignored. */
	fixture("roster_aliases.csv", path, sizeof(path));
	RUN(0, NULL, "import", "roster", path, "--dry-run");
	has(out, "dry run of 'roster_aliases.csv': 1 row: 0 created, "
	    "0 updated, 1 unchanged, 0 failed; nothing was written\n");
	has(out, "ignored column: 'Shirt Size'\n");
	FREE_IO();
}

static void
refused_roster(void **state)
{
	char *out = NULL, *err = NULL, path[800];

	(void)state;
	fixture("roster_unknown_profession.csv", path, sizeof(path));
	RUN(1, NULL, "import", "roster", path);
	/* The report goes to stdout, refused or not; stderr stays quiet. */
	has(out, "refused 'roster_unknown_profession.csv': 1 of 1 row has "
	    "problems; nothing was written\n");
	has(out, "LINE  COLUMN      VALUE    MESSAGE\n");
	has(out, "2     profession  Plumber  unknown profession 'Plumber' "
	    "(known: ");
	assert_string_equal(err, "");
	FREE_IO();
	/* A file-level problem. */
	fixture("roster_missing_column.csv", path, sizeof(path));
	RUN(1, NULL, "import", "roster", path);
	has(out, "refused 'roster_missing_column.csv': the file has problems; "
	    "nothing was written\n");
	has(out, "1     -       -      the required column 'family_name' is "
	    "missing");
	FREE_IO();
	/* Still refused with --quiet: the report is printed. */
	fixture("roster_bad_npi.csv", path, sizeof(path));
	RUN(1, NULL, "--quiet", "import", "roster", path);
	has(out, "refused 'roster_bad_npi.csv'");
	has(out, "is not a valid NPI");
	FREE_IO();
}

/* A header and no row: refused as an empty file, by path and by stdin,
 * for either kind, even with --partial; one row is an import. */
static void
header_only_refused(void **state)
{
	char *out = NULL, *err = NULL, path[800];
	long long before = last_import();

	(void)state;
	fixture("roster_header_only.csv", path, sizeof(path));
	RUN(1, NULL, "import", "roster", path);
	assert_string_equal(out, "refused 'roster_header_only.csv': the file "
	    "has problems; nothing was written\n"
	    "LINE  COLUMN  VALUE  MESSAGE\n"
	    "1     -       -      the file is empty (it needs a header line "
	    "and at least one row)\n");
	assert_string_equal(err, "");
	FREE_IO();
	fixture("results_header_only.csv", path, sizeof(path));
	RUN(1, NULL, "import", "results", path, "--partial");
	has(out, "refused 'results_header_only.csv': the file has problems; "
	    "nothing was written\n");
	has(out, "the file is empty (it needs a header line and at least one "
	    "row)\n");
	FREE_IO();
	RUN(1, "given_name,family_name,email,profession,level\n",
	    "import", "roster", "-");
	has(out, "refused standard input: the file has problems");
	has(out, "the file is empty (it needs a header line and at least one "
	    "row)\n");
	FREE_IO();
	assert_int_equal(last_import(), before + 3);
	assert_int_equal(count("SELECT count(*) FROM imports WHERE id > "
	    "(SELECT max(id) - 3 FROM imports) AND status = 'failed' AND "
	    "rows_total = 0 AND rows_failed = 1"), 3);
	/* The boundary: one row is imported. */
	RUN(0, "given_name,family_name,email,profession,level\n"
	    "Una,Row,una.row@example.org,PT,DN1\n", "import", "roster", "-");
	assert_string_equal(out, "imported standard input: 1 row: 1 created, "
	    "0 updated, 0 unchanged, 0 failed\n");
	FREE_IO();
}

static void
dry_run_changes_nothing(void **state)
{
	char *out = NULL, *err = NULL, path[800], *before, *after;
	const char *snapshot = "SELECT (SELECT count(*) FROM clinicians) || '/' "
	    "|| (SELECT count(*) FROM enrollments) || '/' || (SELECT "
	    "count(*) FROM course_sessions) || '/' || (SELECT coalesce(sum("
	    "version), 0) FROM clinicians)";

	(void)state;
	write_tmp("dry.csv", "given_name,family_name,email,profession,level,"
	    "course_start,completed\n"
	    "Dora,Dry,dora.dry@example.org,NP,DN1,2026-05-01,yes\n"
	    "Maria,Alvarez-Lopez,maria.alvarez@example.org,PT,DN1,,no\n",
	    path, sizeof(path));
	before = testdb_value(db, snapshot);
	RUN(0, NULL, "import", "roster", "--dry-run", path);
	assert_string_equal(out, "dry run of 'dry.csv': 2 rows: 1 created, "
	    "1 updated, 0 unchanged, 0 failed; nothing was written\n");
	FREE_IO();
	after = testdb_value(db, snapshot);
	assert_string_equal(before, after);
	free(before);
	free(after);
	assert_int_equal(count("SELECT count(*) FROM clinicians WHERE email = "
	    "'dora.dry@example.org'"), 0);
}

static void
partial_mode(void **state)
{
	char *out = NULL, *err = NULL, path[800];

	(void)state;
	write_tmp("partial.csv", "given_name,family_name,email,npi,"
	    "profession,level\n"
	    "Pat,Partial,pat.partial@example.org,,PT,DN1\n"
	    "Bad,Npi,bad.npi@example.org,1234567890,PT,DN1\n",
	    path, sizeof(path));
	/* All or nothing by default. */
	RUN(1, NULL, "import", "roster", path);
	has(out, "refused 'partial.csv': 1 of 2 rows has problems; nothing "
	    "was written\n");
	FREE_IO();
	assert_int_equal(count("SELECT count(*) FROM clinicians WHERE email = "
	    "'pat.partial@example.org'"), 0);
	RUN(0, NULL, "import", "roster", path, "--partial");
	has(out, "imported 'partial.csv' (partial): 2 rows: 1 created, "
	    "0 updated, 0 unchanged, 1 failed\n");
	has(out, "3     npi     1234567890  '1234567890' is not a valid NPI");
	FREE_IO();
	assert_int_equal(count("SELECT count(*) FROM clinicians WHERE email = "
	    "'pat.partial@example.org'"), 1);
}

static void
json_is_the_report(void **state)
{
	char *out = NULL, *err = NULL, path[800], api[64], *resp = NULL;
	json_t *j, *a;
	const char *keys[] = { "id", "kind", "status", "dry_run", "partial",
	    "filename", "started_at", "finished_at", "user", "counts",
	    "ignored_columns", "errors", "errors_total" };

	(void)state;
	fixture("roster_field_count.csv", path, sizeof(path));
	RUN(1, NULL, "--json", "import", "roster", path);
	assert_string_equal(err, "");
	j = parse(out);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_get(j, keys[i]) == NULL)
			fail_msg("no '%s' in %s", keys[i], out);
	assert_string_equal(json_string_value(json_object_get(j, "status")),
	    "failed");
	assert_int_equal(json_array_size(json_object_get(j, "errors")), 2);
	/* The same as the API's own report of that import. */
	snprintf(api, sizeof(api), "/v1/imports/%lld", last_import());
	assert_int_equal(testlib_api(port, "GET", api, admin_tok, NULL,
	    &resp), 200);
	a = parse(resp);
	if (!json_equal(j, a))
		fail_msg("--json differs from GET %s:\n%s\n%s", api, out, resp);
	json_decref(a);
	json_decref(j);
	free(resp);
	FREE_IO();
	/* import show --json too. */
	snprintf(api, sizeof(api), "%lld", last_import());
	RUN(0, NULL, "--json", "import", "show", api);
	j = parse(out);
	assert_int_equal(json_integer_value(json_object_get(j, "id")),
	    last_import());
	json_decref(j);
	FREE_IO();
}

/* ---- --errors-csv ------------------------------------------------------ */

static void
errors_csv_whole_file(void **state)
{
	char *out = NULL, *err = NULL, in[800], ecsv[800], *text;

	(void)state;
	/* A good row spanning lines, an NPI with a bad check digit, a short
	 * row, a bad date in a record spanning lines, quotes and commas. */
	write_tmp("mixed.csv",
	    "given_name,family_name,email,npi,profession,level,location,Notes\n"
	    "Ok,One,ok.one@example.org,,PT,DN1,\"Austin,\nRoom 4\",fine\n"
	    "\"Bad, Npi\",\"O\"\"Two\",two@example.org,1234567890,PT,DN1,,x\n"
	    "Short,Row,short@example.org\n"
	    "Multi,Line,multi@example.org,,Plumber,DN1,\"Waco\nTX\",\"two\n"
	    "lines\"\n"
	    "Fine,Four,four@example.org,,MD,DN1,, \n",
	    in, sizeof(in));
	snprintf(ecsv, sizeof(ecsv), "%s/mixed-errors.csv", tmp);
	RUN(1, NULL, "import", "roster", in, "--errors-csv", ecsv);
	has(out, "refused 'mixed.csv': 3 of 5 rows have problems; nothing "
	    "was written\n");
	has(out, "wrote '");
	has(out, "mixed-errors.csv': 3 rows to fix and import again\n");
	FREE_IO();
	text = read_file(ecsv);
	assert_string_equal(text,
	    "given_name,family_name,email,npi,profession,level,location,Notes,"
	    "error\n"
	    "\"Bad, Npi\",\"O\"\"Two\",two@example.org,1234567890,PT,DN1,,x,"
	    "npi: '1234567890' is not a valid NPI (ten digits with a correct "
	    "check digit)\n"
	    "Short,Row,short@example.org,,,,,,\"expected 8 fields as in the "
	    "header, found 3\"\n"
	    "Multi,Line,multi@example.org,,Plumber,DN1,\"Waco\nTX\",\"two\n"
	    "lines\",\"profession: unknown profession 'Plumber' (known: ATC, "
	    "DC, DO, LAc, LMT, MD, NP, OT, PA, PT, PTA, RN)\"\n");
	free(text);

	/* A file-level problem: the header and the problem. */
	fixture("roster_missing_column.csv", in, sizeof(in));
	snprintf(ecsv, sizeof(ecsv), "%s/missing-errors.csv", tmp);
	RUN(1, NULL, "import", "roster", in, "--errors-csv", ecsv);
	FREE_IO();
	text = read_file(ecsv);
	assert_string_equal(text, "given_name,email,profession,level,error\n"
	    ",,,,\"line 1: the required column 'family_name' is missing (a "
	    "header such as 'family_name', 'Last Name' or 'Surname')\"\n");
	free(text);

	/* No problems: no file, and it says so. */
	fixture("roster_plain.csv", in, sizeof(in));
	snprintf(ecsv, sizeof(ecsv), "%s/none-errors.csv", tmp);
	RUN(0, NULL, "import", "roster", in, "--errors-csv", ecsv);
	has(out, "no problems: '");
	has(out, "none-errors.csv' was not written\n");
	FREE_IO();
	assert_int_not_equal(access(ecsv, F_OK), 0);

	/* From standard input, semicolons: kept for the second reading. */
	snprintf(ecsv, sizeof(ecsv), "%s/stdin-errors.csv", tmp);
	RUN(1, "first_name;last_name;email;profession;level\n"
	    "Sam;Semi;sam.semi@example.org;PT;DN9\n", "import", "roster", "-",
	    "--errors-csv", ecsv);
	has(out, "refused standard input: 1 of 1 row has problems");
	FREE_IO();
	text = read_file(ecsv);
	assert_string_equal(text, "first_name;last_name;email;profession;"
	    "level;error\n"
	    "Sam;Semi;sam.semi@example.org;PT;DN9;level: there is no level "
	    "'DN9' (levels: DN1 Level 1, DN2 Level 2)\n");
	free(text);
}

/* More problems than one report holds: the rest are fetched. */
static void
errors_csv_beyond_first_thousand(void **state)
{
	char *out = NULL, *err = NULL, in[800], ecsv[800], *text, *p;
	FILE *fp;
	int lines = 0;

	(void)state;
	snprintf(in, sizeof(in), "%s/many-bad.csv", tmp);
	fp = fopen(in, "w");
	assert_non_null(fp);
	fputs("given_name,family_name,email,profession,level\n", fp);
	for (int i = 0; i < 1500; i++)
		fprintf(fp, "G%d,F%d,m%d@example.org,Plumber,DN1\n", i, i, i);
	assert_int_equal(fclose(fp), 0);
	snprintf(ecsv, sizeof(ecsv), "%s/many-bad-errors.csv", tmp);
	RUN(1, NULL, "import", "roster", in, "--errors-csv", ecsv);
	has(out, "1500 of 1500 rows have problems");
	has(out, "(the first 1000 of 1500 problems;");
	has(out, "1500 rows to fix");
	FREE_IO();
	text = read_file(ecsv);
	for (p = text; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 1501);
	has(text, "\nG1499,F1499,m1499@example.org,Plumber,DN1,\"profession: ");
	free(text);
}

/* ---- results ----------------------------------------------------------- */

static void
results_issue_a_certificate(void **state)
{
	char *out = NULL, *err = NULL, path[800];

	(void)state;
	write_tmp("cert-roster.csv", "given_name,family_name,email,npi,"
	    "profession,level,course_start,course_end,completed\n"
	    "Cara,Cert,cara.cert@example.org,1493827160,DO,DN1,2026-06-01,"
	    "2026-06-03,yes\n", path, sizeof(path));
	RUN(0, NULL, "import", "roster", path);
	FREE_IO();
	write_tmp("cert-results.csv", "npi,level,kind,score,max_score,"
	    "taken_on\n"
	    "1493827160,DN1,written,80,100,2026-06-04\n"
	    "1493827160,DN1,practical,77,100,2026-06-04\n", path,
	    sizeof(path));
	/* A grader may import results. */
	RUN(0, NULL, "--token", grader_tok, "import", "results", path);
	assert_string_equal(out, "imported 'cert-results.csv': 2 rows: "
	    "2 created, 0 updated, 0 unchanged, 0 failed\n");
	FREE_IO();
	assert_int_equal(count("SELECT count(*) FROM certificates c JOIN "
	    "clinicians k ON k.id = c.clinician_id WHERE k.npi = "
	    "'1493827160' AND c.issued_on = '2026-06-04'"), 1);
	RUN(0, NULL, "import", "results", path);
	has(out, "2 rows: 0 created, 0 updated, 2 unchanged, 0 failed");
	FREE_IO();
	/* A score above the maximum is refused. */
	fixture("results_above_max.csv", path, sizeof(path));
	RUN(1, NULL, "import", "results", path);
	has(out, "the score 101 is above the maximum score");
	FREE_IO();
}

static void
grader_may_not_import_rosters(void **state)
{
	char *out = NULL, *err = NULL, path[800];

	(void)state;
	fixture("roster_plain.csv", path, sizeof(path));
	RUN(4, NULL, "--token", grader_tok, "import", "roster", path);
	assert_string_equal(out, "");
	has(err, "certrack: cannot import '");
	has(err, "roster_plain.csv': only admins import rosters\n");
	FREE_IO();
	/* No token at all. */
	unsetenv("CERTRACK_TOKEN");
	RUN(4, NULL, "import", "roster", path);
	has(err, "certrack: cannot import '");
	FREE_IO();
	setenv("CERTRACK_TOKEN", admin_tok, 1);
}

static void
stdin_input(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	RUN(0, "given_name,family_name,email,profession,level\n"
	    "Stan,Din,stan.din@example.org,PA,DN1\n",
	    "import", "roster", "-");
	assert_string_equal(out, "imported standard input: 1 row: 1 created, "
	    "0 updated, 0 unchanged, 0 failed\n");
	FREE_IO();
	assert_int_equal(count("SELECT count(*) FROM clinicians WHERE email = "
	    "'stan.din@example.org'"), 1);
}

/* ---- list and show ----------------------------------------------------- */

static void
list_and_show(void **state)
{
	char *out = NULL, *err = NULL, id[32], *resp = NULL;
	json_t *a, *b;
	long long refused;

	(void)state;
	RUN(0, NULL, "import", "list", "--limit", "5");
	has(out, "ID");
	has(out, "STARTED");
	has(out, "UNCHANGED");
	has(out, "roster");
	has(out, "admin");
	FREE_IO();
	RUN(0, NULL, "--json", "import", "list", "--limit", "3");
	assert_int_equal(testlib_api(port, "GET", "/v1/imports?limit=3",
	    admin_tok, NULL, &resp), 200);
	a = parse(out);
	b = parse(resp);
	/* the one shape of a list: the answer's imports are its items */
	assert_true(json_equal(json_object_get(a, "items"), b));
	assert_int_equal(json_array_size(json_object_get(a, "items")), 3);
	assert_int_equal(json_integer_value(json_object_get(a, "limit")), 3);
	assert_int_equal(json_integer_value(json_object_get(a, "offset")), 0);
	json_decref(a);
	json_decref(b);
	free(resp);
	FREE_IO();

	refused = count("SELECT max(id) FROM imports WHERE filename = "
	    "'roster_unknown_profession.csv'");
	snprintf(id, sizeof(id), "%lld", refused);
	RUN(0, NULL, "import", "show", id);
	has(out, "status:            failed\n");
	has(out, "file:              roster_unknown_profession.csv\n");
	has(out, "by:                admin\n");
	has(out, "refused 'roster_unknown_profession.csv': 1 of 1 row has "
	    "problems; nothing was written\n");
	has(out, "2     profession  Plumber  unknown profession 'Plumber'");
	FREE_IO();
	RUN(0, NULL, "import", "show", id, "--errors", "0");
	lacks(out, "Plumber  unknown");
	has(out, "(the first 0 of 1 problems;");
	FREE_IO();
	RUN(3, NULL, "import", "show", "999999");
	has(err, "certrack: there is no import 999999\ncertrack: request id ");
	FREE_IO();
}

/* ---- usage ------------------------------------------------------------- */

static void
usage_errors(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	/* Nothing listens at dead_url: no request is made. */
	RUN(2, NULL, "--url", dead_url, "import", "roster",
	    "no-such-file.csv");
	assert_string_equal(err, "certrack: cannot open 'no-such-file.csv': "
	    "No such file or directory\n");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "import", "roster");
	has(err, "certrack: missing FILE");
	has(err, "certrack: try 'certrack import --help'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "import", "roster", "x.csv",
	    "--delimiter", "pipe");
	has(err, "--delimiter 'pipe' is not one of comma, semicolon, tab");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "import", "grades", "x.csv");
	has(err, "unknown subcommand 'import grades'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "import", "show", "abc");
	has(err, "is not a number");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "import", "roster", tmp);
	has(err, "Is a directory");
	FREE_IO();
	RUN(0, NULL, "import", "--help");
	has(out, "usage: certrack import roster|results|ce FILE");
	FREE_IO();
	RUN(0, NULL, "help", "import");
	has(out, "--errors-csv OUT");
	FREE_IO();
	/* Network failure: exit 5, the URL named. */
	{
		char path[800];
		fixture("roster_plain.csv", path, sizeof(path));
		RUN(5, NULL, "--url", dead_url, "import", "roster", path);
		has(err, "roster_plain.csv': cannot reach 'http://127.0.0.1:");
		FREE_IO();
	}
}

/* ---- memory ------------------------------------------------------------ */

static void
upload_memory_stays_flat(void **state)
{
	char path[800], outpath[800], *out;
	struct rusage ru;
	FILE *fp;
	pid_t pid;
	int status, fd;
	char *argv[] = { cli, "--timeout", "120", "import", "roster",
	    "--dry-run", path, NULL };

	(void)state;
	snprintf(path, sizeof(path), "%s/big-roster.csv", tmp);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("given_name,family_name,email,profession,level,course_start,"
	    "course_end,location,completed\n", fp);
	for (int i = 0; i < BIG_ROWS; i++)
		fprintf(fp, "Given%d,Family%d,person%d@big.example.org,PT,DN1,"
		    "2026-07-01,2026-07-03,\"Austin, TX\",yes\n", i, i, i);
	assert_int_equal(fclose(fp), 0);

	snprintf(outpath, sizeof(outpath), "%s/big-roster.out", tmp);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
		execv(cli, argv);
		_exit(127);
	}
	/* wait4: this child's own peak, not the largest of all children. */
	assert_int_equal(wait4(pid, &status, 0, &ru), pid);
	out = read_file(outpath);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the big import failed (status %d):\n%s", status, out);
	has(out, "dry run of 'big-roster.csv': 200000 rows: 200000 created, "
	    "0 updated, 0 unchanged, 0 failed");
	free(out);
	fprintf(stderr, "certrack peak RSS for a %d-row upload: %ld KiB\n",
	    BIG_ROWS, ru.ru_maxrss);
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's shadow memory is no measure of the CLI's own:
	 * the upload still ran, streamed; the limit is checked in the plain
	 * build. */
	(void)CLI_RSS_MAX_KIB;
#else
	if (ru.ru_maxrss >= CLI_RSS_MAX_KIB)
		fail_msg("certrack's peak RSS was %ld KiB (limit %d KiB)",
		    ru.ru_maxrss, CLI_RSS_MAX_KIB);
#endif
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(examples_import_cleanly),
		cmocka_unit_test(good_roster_and_reimport),
		cmocka_unit_test(refused_roster),
		cmocka_unit_test(header_only_refused),
		cmocka_unit_test(dry_run_changes_nothing),
		cmocka_unit_test(partial_mode),
		cmocka_unit_test(json_is_the_report),
		cmocka_unit_test(errors_csv_whole_file),
		cmocka_unit_test(errors_csv_beyond_first_thousand),
		cmocka_unit_test(results_issue_a_certificate),
		cmocka_unit_test(grader_may_not_import_rosters),
		cmocka_unit_test(stdin_input),
		cmocka_unit_test(list_and_show),
		cmocka_unit_test(usage_errors),
		cmocka_unit_test(upload_memory_stays_flat),
	};

	return cmocka_run_group_tests_name("e2e_cli_import", tests, setup,
	    teardown);
}
