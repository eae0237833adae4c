/*
 * End to end: the real certrack binary against a real certrackd on a
 * loopback port.  Every subcommand's happy path and its main refusal
 * (stdout, stderr and exit code checked); --json output equal to the API's
 * own answer for the same resource; login storing the token mode 0600 in
 * a 0700 folder (and never the password); XDG_CONFIG_HOME; usage errors
 * exiting 2 with a hint before any request (the URL points where nothing
 * listens); a network failure exiting 5 naming the URL; a full stdout
 * failing loudly; logout revoking the token on the server.
 *
 * The tests run in order and share one daemon: login first, logout last.
 */
#include "testlib.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "certrack/certnum.h"

#define MAXARGS 40

extern char **environ;

static char *conninfo;
static PGconn *db;
static int port;
static char url[64], dead_url[64];
static char cli[600], home[600], config[700];
static char *admin_pw, *grader_pw, *admin_tok, *grader_tok;
static struct testlib_world w;
static int nclinicians;

/* ---- running the CLI ---------------------------------------------------- */

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

/* The CLI's --json output OUT equals the API's answer to GET PATH. */
static void
same_as_api(const char *out, const char *path, const char *token)
{
	char *resp = NULL;
	json_t *a, *b;
	int st = testlib_api(port, "GET", path, token, NULL, &resp);

	if (st != 200)
		fail_msg("GET %s answered %d: %s", path, st, resp);
	a = parse(out);
	b = parse(resp);
	if (!json_equal(a, b))
		fail_msg("--json output differs from GET %s:\n%s\n%s", path,
		    out, resp);
	json_decref(a);
	json_decref(b);
	free(resp);
}

/*
 * The CLI's --json list OUT is {"total", "limit", "offset", "items"} with
 * the items of the API's answer to GET PATH (its member MEMBER, or the
 * answer itself when NULL), all of them.
 */
static void
same_items(const char *out, const char *path, const char *member)
{
	char *resp = NULL;
	json_t *a, *b, *items;
	int st = testlib_api(port, "GET", path, admin_tok, NULL, &resp);

	if (st != 200)
		fail_msg("GET %s answered %d: %s", path, st, resp);
	a = parse(out);
	b = parse(resp);
	items = member != NULL ? json_object_get(b, member) : b;
	assert_int_equal(json_object_size(a), 4);
	assert_true(json_equal(json_object_get(a, "items"), items));
	assert_int_equal(json_integer_value(json_object_get(a, "total")),
	    json_array_size(items));
	assert_int_equal(json_integer_value(json_object_get(a, "offset")), 0);
	assert_true(json_is_null(json_object_get(a, "limit")));
	json_decref(a);
	json_decref(b);
	free(resp);
}

/* A new clinician of PROFESSION through the API; returns its id. */
static long long
make_clinician(const char *given, const char *family, const char *profession)
{
	char body[512], *resp = NULL;
	json_t *j;
	long long id;
	int st;

	nclinicians++;
	snprintf(body, sizeof(body), "{\"given_name\":\"%s\",\"family_name\":"
	    "\"%s\",\"email\":\"c%d.%s@example.org\",\"profession\":\"%s\"}",
	    given, family, nclinicians, family, profession);
	st = testlib_api(port, "POST", "/v1/clinicians", admin_tok, body,
	    &resp);
	if (st != 201)
		fail_msg("creating a clinician answered %d: %s", st, resp);
	j = parse(resp);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(resp);
	return id;
}

static char *
read_file(const char *path)
{
	FILE *fp = fopen(path, "r");
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

/* The token the CLI stored in the config file (caller frees). */
static char *
stored_token(void)
{
	char *text = read_file(config), *t, *end;

	t = strstr(text, "token = ");
	if (t == NULL)
		fail_msg("no token in the config file:\n%s", text);
	t += strlen("token = ");
	end = strchr(t, '\n');
	if (end != NULL)
		*end = '\0';
	t = strdup(t);
	free(text);
	return t;
}

/* ---- the group --------------------------------------------------------- */

static int
setup(void **state)
{
	const char *tmp = testlib_env("CERTRACK_TEST_TMP");

	(void)state;
	testlib_world_up(&w, "e2e_cli");
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

	/* A home of the tests' own: the CLI's config goes there. */
	snprintf(home, sizeof(home), "%s/e2e_cli_home", tmp);
	if (mkdir(home, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir '%s': %s", home, strerror(errno));
	snprintf(config, sizeof(config), "%s/.config/certrack/config", home);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("CERTRACK_URL");
	unsetenv("CERTRACK_TOKEN");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* ---- login ------------------------------------------------------------- */

static void
login_stores_token(void **state)
{
	char *out = NULL, *err = NULL, *text, pwline[256], dir[700];
	struct stat st;

	(void)state;
	/* A wrong password: exit 4, the server's reason, nothing stored. */
	RUN(4, "not-the-password\n", "--url", url, "login", "--password-stdin",
	    "admin");
	assert_string_equal(out, "");
	has(err, "certrack: cannot log in to '");
	has(err, "wrong username or password");
	assert_int_not_equal(access(config, F_OK), 0);
	FREE_IO();

	snprintf(pwline, sizeof(pwline), "%s\n", admin_pw);
	RUN(0, pwline, "--url", url, "login", "--password-stdin", "admin");
	has(out, "logged in to ");
	has(out, " as admin (admin)");
	assert_string_equal(err, "");
	FREE_IO();

	/* Mode 0600 in a folder 0700; the URL and the token, never the
	 * password. */
	assert_int_equal(stat(config, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(dir, sizeof(dir), "%s/.config/certrack", home);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	text = read_file(config);
	has(text, "token = ");
	has(text, url);
	lacks(text, admin_pw);
	free(text);
	/* Nor in the environment the CLI ran with (argv held only the
	 * username: the password went through stdin). */
	for (char **e = environ; *e != NULL; e++)
		lacks(*e, admin_pw);

	/* The stored token works. */
	RUN(0, NULL, "whoami");
	has(out, "admin");
	has(out, url);
	FREE_IO();
}

static void
login_xdg_config_home(void **state)
{
	char *out = NULL, *err = NULL, xdg[700], path[760], pwline[256];
	struct stat st;

	(void)state;
	snprintf(xdg, sizeof(xdg), "%s/xdg", home);
	snprintf(path, sizeof(path), "%s/certrack/config", xdg);
	setenv("XDG_CONFIG_HOME", xdg, 1);
	snprintf(pwline, sizeof(pwline), "%s\n", grader_pw);
	RUN(0, pwline, "--url", url, "login", "--password-stdin", "grader");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	FREE_IO();
	RUN(0, NULL, "whoami");
	has(out, "grader");
	FREE_IO();
	/* Without the variable, the admin's file under ~/.config again. */
	unsetenv("XDG_CONFIG_HOME");
	RUN(0, NULL, "whoami");
	has(out, "admin");
	FREE_IO();
}

static void
whoami_json(void **state)
{
	char *out = NULL, *err = NULL, *tok = stored_token();

	(void)state;
	RUN(0, NULL, "whoami", "--json");
	same_as_api(out, "/v1/me", tok);
	FREE_IO();
	free(tok);
}

/* ---- clinicians -------------------------------------------------------- */

static void
clinicians_add_show_list(void **state)
{
	char *out = NULL, *err = NULL, path[64], *p;
	long long id;

	(void)state;
	RUN(0, NULL, "clinicians", "add", "--given", "Jane", "--family", "Roe",
	    "--email", "jane.roe@example.org", "--profession", "PT", "--npi",
	    "1234567893", "--license-state", "TX", "--license-number", "1234");
	has(out, "added clinician ");
	has(out, ": Jane Roe");
	has(out, "profession:        PT");
	p = strstr(out, "added clinician ") + strlen("added clinician ");
	id = strtoll(p, NULL, 10);
	assert_true(id > 0);
	assert_string_equal(err, "");
	FREE_IO();

	/* The main refusal: a duplicate email, in the server's words. */
	RUN(1, NULL, "clinicians", "add", "--given", "Jim", "--family", "Roe",
	    "--email", "JANE.ROE@example.org", "--profession", "PT");
	assert_string_equal(out, "");
	has(err, "certrack: cannot add 'Jim Roe': a clinician with email");
	FREE_IO();
	/* A bad NPI check digit. */
	RUN(1, NULL, "clinicians", "add", "--given", "Jim", "--family", "Roe",
	    "--email", "jim@example.org", "--profession", "PT", "--npi",
	    "1234567890");
	has(err, "is not a valid NPI");
	FREE_IO();

	snprintf(path, sizeof(path), "%lld", id);
	RUN(0, NULL, "clinicians", "show", path);
	has(out, "Jane Roe");
	has(out, "1234567893");
	has(out, "TX 1234");
	FREE_IO();
	RUN(0, NULL, "--json", "clinicians", "show", path);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	same_as_api(out, path, admin_tok);
	FREE_IO();

	RUN(3, NULL, "clinicians", "show", "999999");
	has(err, "certrack: there is no clinician 999999");
	FREE_IO();

	RUN(0, NULL, "clinicians", "search", "roe");
	has(out, "NAME");
	has(out, "Jane Roe");
	has(out, "jane.roe@example.org");
	FREE_IO();
	RUN(0, NULL, "clinicians", "list", "--search", "nobody-like-this");
	assert_string_equal(out, "");
	has(err, "no clinicians match");
	FREE_IO();
	RUN(0, NULL, "clinicians", "list", "--limit", "1", "--offset", "0",
	    "--json");
	same_as_api(out, "/v1/clinicians?limit=1&offset=0", admin_tok);
	FREE_IO();
	RUN(0, NULL, "clinicians", "list", "--quiet", "--npi", "1234567893");
	snprintf(path, sizeof(path), "%lld\n", id);
	assert_string_equal(out, path);
	FREE_IO();
}

static void
clinicians_update(void **state)
{
	char *out = NULL, *err = NULL, idtext[24];
	long long id = make_clinician("Ann", "Update", "NP");

	(void)state;
	snprintf(idtext, sizeof(idtext), "%lld", id);
	RUN(0, NULL, "clinicians", "update", idtext, "--email",
	    "ann.new@example.org");
	has(out, "updated clinician ");
	has(out, "(version 2)");
	has(out, "ann.new@example.org");
	FREE_IO();
	/* Someone else's change in between: an update based on version 1
	 * is refused and reported, not applied. */
	RUN(1, NULL, "clinicians", "update", idtext, "--version", "1",
	    "--family", "Lost");
	assert_string_equal(out, "");
	has(err, "certrack: cannot update 'clinician ");
	has(err, "changed by someone else");
	FREE_IO();
	RUN(0, NULL, "clinicians", "show", idtext);
	lacks(out, "Lost");
	has(out, "Ann Update");
	FREE_IO();
	/* Nothing to change is a usage error. */
	RUN(2, NULL, "--url", dead_url, "clinicians", "update", idtext);
	has(err, "say what to change");
	FREE_IO();
}

/* ---- enrollments, results, status, certificates ------------------------ */

static long long jane_id, cert_clinician;
static char cert_number[32];

static void
enroll_complete_withdraw(void **state)
{
	char *out = NULL, *err = NULL, idtext[24], enr[24], *p;
	long long pta;

	(void)state;
	jane_id = make_clinician("Jane", "Doe", "PT");
	snprintf(idtext, sizeof(idtext), "%lld", jane_id);
	RUN(0, NULL, "enroll", idtext, "dn1");
	has(out, "enrolled 'Jane Doe' in DN1 (enrollment ");
	p = strstr(out, "(enrollment ") + strlen("(enrollment ");
	snprintf(enr, sizeof(enr), "%lld", strtoll(p, NULL, 10));
	FREE_IO();

	/* The main refusals: a prerequisite, eligibility, twice. */
	RUN(1, NULL, "enroll", idtext, "DN2");
	assert_string_equal(out, "");
	/* the sentence, then the request id to quote */
	assert_int_equal(strncmp(err, "certrack: cannot enroll 'Jane Doe' in "
	    "DN2: Level 2 requires Level 1 to be certified first\n"
	    "certrack: request id ", 100), 0);
	assert_int_equal(strspn(strstr(err, "request id ") + 11,
	    "0123456789abcdef"), 32);
	assert_string_equal(strstr(err, "request id ") + 43, "\n");
	FREE_IO();
	pta = make_clinician("Pat", "Assistant", "PTA");
	{
		char t[24];
		snprintf(t, sizeof(t), "%lld", pta);
		RUN(1, NULL, "enroll", t, "DN1");
		has(err, "certrack: cannot enroll 'Pat Assistant' in DN1: ");
		has(err, "may not enroll");
		FREE_IO();
	}
	RUN(1, NULL, "enroll", idtext, "DN1");
	has(err, "already has a live enrollment");
	FREE_IO();

	/* Completing, by CLINICIAN LEVEL, then again by enrollment id. */
	/* typed M/D/YYYY, sent and stored as ISO */
	RUN(0, NULL, "complete", idtext, "DN1", "--on", "1/5/2025");
	has(out, "completed enrollment ");
	has(out, "(DN1) on 2025-01-05");
	FREE_IO();
	RUN(1, NULL, "complete", enr, "--on", "2025-01-06");
	has(err, "certrack: cannot complete enrollment ");
	has(err, "already completed");
	FREE_IO();

	/* Withdrawing someone else's enrollment, then once too often. */
	{
		char t[24];
		long long other = make_clinician("Wes", "Withdraw", "MD");
		snprintf(t, sizeof(t), "%lld", other);
		RUN(0, NULL, "enroll", t, "DN1", "--json");
		json_t *j = parse(out);
		snprintf(enr, sizeof(enr), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(j, "id")));
		assert_string_equal(json_string_value(json_object_get(j,
		    "status")), "enrolled");
		json_decref(j);
		FREE_IO();
		RUN(0, NULL, "withdraw", "--yes", enr);
		has(out, "withdrew enrollment ");
		FREE_IO();
		RUN(1, NULL, "withdraw", "--yes", enr);
		has(err, "already withdrawn");
		FREE_IO();
		RUN(3, NULL, "withdraw", "--yes", t, "DN2");
		has(err, "not enrolled");
		FREE_IO();
	}
}

static void
results_record_amend_history(void **state)
{
	char *out = NULL, *err = NULL, idtext[24], res[24], path[80], *p;

	(void)state;
	snprintf(idtext, sizeof(idtext), "%lld", jane_id);
	RUN(0, NULL, "results", "record", idtext, "DN1", "written", "80",
	    "--on", "2025-01-10");
	has(out, "recorded written exam result ");
	has(out, "'Jane Doe' in DN1: attempt 1, 80/100 (80%), passed");
	FREE_IO();
	RUN(0, NULL, "results", "record", idtext, "DN1", "practical", "70.5",
	    "--on", "01/10/2025");
	has(out, "attempt 1, 70.5/100 (70.5%), failed");
	p = strstr(out, "exam result ") + strlen("exam result ");
	snprintf(res, sizeof(res), "%lld", strtoll(p, NULL, 10));
	FREE_IO();

	/* The main refusal: a retake too soon, in the server's words. */
	RUN(1, NULL, "results", "record", idtext, "DN1", "practical", "90",
	    "--on", "2025-01-11");
	assert_string_equal(out, "");
	has(err, "certrack: cannot record the practical exam of 'Jane Doe' "
	    "in DN1: ");
	FREE_IO();
	/* Not enrolled in DN2. */
	RUN(1, NULL, "results", "record", idtext, "DN2", "written", "90");
	has(err, "in DN2: ");
	FREE_IO();
	/* A score above the maximum. */
	RUN(1, NULL, "results", "record", idtext, "DN1", "practical", "90",
	    "--max", "50", "--on", "2025-02-01");
	has(err, "above the maximum");
	FREE_IO();

	/* The amendment turns the fail into a pass: the certificate. */
	RUN(2, NULL, "--url", dead_url, "results", "amend", res, "88");
	has(err, "missing --reason");
	FREE_IO();
	RUN(0, NULL, "results", "amend", res, "88", "--reason",
	    "regraded station 3");
	has(out, "amended practical exam result ");
	has(out, "passed");
	has(out, "certificate ");
	has(out, " issued for DN1");
	has(out, "(supersedes result ");
	FREE_IO();
	RUN(1, NULL, "results", "amend", res, "89", "--reason", "again");
	has(err, "certrack: cannot amend exam result ");
	has(err, "has been amended");
	FREE_IO();

	RUN(0, NULL, "results", "history", idtext);
	has(out, "superseded");
	has(out, "current");
	has(out, "regraded station 3");
	FREE_IO();
	RUN(0, NULL, "results", "history", idtext, "--json");
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/exam-results",
	    jane_id);
	same_items(out, path, "results");
	FREE_IO();
}

static void
status_transcript(void **state)
{
	char *out = NULL, *err = NULL, idtext[24], path[80], *pw, *tok;
	json_t *j, *lv;

	(void)state;
	snprintf(idtext, sizeof(idtext), "%lld", jane_id);
	RUN(0, NULL, "status", idtext);
	has(out, "Jane Doe, Physical Therapist (PT)");
	has(out, "Dry Needling (DN)");
	has(out, "credential: Certified Dry Needling Practitioner, not held");
	has(out, "DN1  Level 1: certified");
	has(out, "completed on 2025-01-05");
	has(out, "attempt 1  2025-01-10  80/100");
	has(out, "DN2  Level 2 (requires DN1): not started");
	has(out, "not enrolled");
	FREE_IO();

	RUN(0, NULL, "status", idtext, "--json");
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", jane_id);
	same_as_api(out, path, admin_tok);
	j = parse(out);
	lv = json_array_get(json_object_get(json_array_get(json_object_get(j,
	    "programs"), 0), "levels"), 0);
	snprintf(cert_number, sizeof(cert_number), "%s", json_string_value(
	    json_object_get(json_object_get(lv, "certificate"), "number")));
	cert_clinician = jane_id;
	json_decref(j);
	FREE_IO();

	/* Staff must name the clinician. */
	RUN(2, NULL, "status");
	has(err, "name the CLINICIAN");
	FREE_IO();

	/* A clinician's own account: no argument needed, others hidden. */
	pw = testlib_make_user(conninfo, "jdoe", "clinician", jane_id);
	tok = testlib_login(port, "jdoe", pw);
	setenv("CERTRACK_TOKEN", tok, 1);
	RUN(0, NULL, "status");
	has(out, "Jane Doe, Physical Therapist (PT)");
	FREE_IO();
	RUN(3, NULL, "status", "1");
	has(err, "certrack: there is no clinician 1");
	FREE_IO();
	RUN(0, NULL, "results", "history");
	has(out, "DN1");
	FREE_IO();
	unsetenv("CERTRACK_TOKEN");
	free(pw);
	free(tok);
}

static void
certificates_verify_revoke(void **state)
{
	char *out = NULL, *err = NULL, unknown[32], data[16], bad[32];
	char empty[700], path[80];

	(void)state;
	assert_true(strlen(cert_number) == CERTNUM_LEN);
	/* No login: a home without any config, no token anywhere. */
	snprintf(empty, sizeof(empty), "%s/nobody", home);
	mkdir(empty, 0700);
	setenv("HOME", empty, 1);
	RUN(0, NULL, "--url", url, "verify", cert_number);
	has(out, "certificate ");
	has(out, ": valid");
	has(out, "Jane Doe");
	has(out, "Level 1");
	FREE_IO();
	RUN(0, NULL, "--url", url, "certificates", "verify", cert_number,
	    "--json");
	snprintf(path, sizeof(path), "/v1/certificates/%s", cert_number);
	same_as_api(out, path, NULL);
	FREE_IO();

	/* A typo is caught by the check character, before any request. */
	snprintf(bad, sizeof(bad), "%s", cert_number);
	bad[CERTNUM_LEN - 1] = bad[CERTNUM_LEN - 1] == '0' ? '1' : '0';
	RUN(2, NULL, "--url", dead_url, "verify", bad);
	has(err, "is not a valid certificate number");
	has(err, "try 'certrack verify --help'");
	FREE_IO();
	/* A well-formed number nobody holds. */
	memcpy(data, "ZZZZZZZZZZZ", 12);
	snprintf(unknown, sizeof(unknown), "ZZZZ-ZZZZ-ZZZ%c",
	    certnum_check_symbol(data, CERTNUM_DATA));
	RUN(3, NULL, "--url", url, "verify", unknown);
	has(err, "certrack: there is no certificate");
	FREE_IO();
	setenv("HOME", home, 1);

	/* Revocation needs a category and a note, then a grader may not, an
	 * admin may. */
	RUN(2, NULL, "--url", dead_url, "certificates", "revoke", cert_number);
	has(err, "missing --category");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "certificates", "revoke", cert_number,
	    "--category", "license_action");
	has(err, "missing --note");
	FREE_IO();
	RUN(4, NULL, "--token", grader_tok, "--yes", "certificates", "revoke",
	    cert_number, "--category", "other", "--note", "x");
	has(err, "certrack: cannot revoke certificate ");
	FREE_IO();
	RUN(1, NULL, "--yes", "certificates", "revoke", cert_number,
	    "--category", "suspended", "--note", "x");
	has(err, "the category must be one of");
	FREE_IO();
	RUN(0, NULL, "--yes", "certificates", "revoke", cert_number,
	    "--category", "license_action", "--note", "license suspended");
	has(out, ": revoked");
	has(out, "license_action");
	has(out, "license suspended");
	FREE_IO();
	RUN(1, NULL, "--yes", "certificates", "revoke", cert_number,
	    "--category", "other", "--note", "y");
	has(err, "already revoked");
	FREE_IO();
	/* A revoked certificate still verifies, and says so: exit 1; the
	 * public sees the category, never the note. */
	RUN(1, NULL, "verify", cert_number);
	has(out, ": revoked");
	has(out, "license_action");
	assert_null(strstr(out, "license suspended"));
	FREE_IO();
}

static void
sessions_add_list(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	RUN(0, NULL, "sessions", "add", "DN1", "--starts", "2025-03-01",
	    "--ends", "2025-03-03", "--location", "Austin", "--instructor",
	    "Sam Lee");
	has(out, "added session ");
	FREE_IO();
	RUN(1, NULL, "sessions", "add", "DN1", "--starts", "2025-03-01",
	    "--ends", "2025-03-03", "--location", "Austin");
	has(err, "already exists");
	FREE_IO();
	RUN(0, NULL, "sessions", "list", "--level", "DN1");
	has(out, "Austin");
	has(out, "Sam Lee");
	FREE_IO();
	RUN(0, NULL, "sessions", "list", "--json");
	same_items(out, "/v1/sessions", "sessions");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "sessions", "add", "DN1", "--starts",
	    "2025-02-30");
	has(err, "--starts: '2025-02-30' is not a date (write YYYY-MM-DD)");
	FREE_IO();
	/* A person may type M/D/YYYY: sent, stored and shown as ISO. */
	RUN(0, NULL, "sessions", "add", "DN1", "--starts", "3/7/2025",
	    "--ends", "03/09/2025", "--location", "Boise");
	has(out, "DN1, 2025-03-07 to 2025-03-09");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "sessions", "add", "DN1", "--starts",
	    "2/29/2025");
	has(err, "--starts: '2/29/2025' is not a date (write YYYY-MM-DD)");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "sessions", "add", "DN1", "--starts",
	    "2025-03-07", "--ends", "13/1/2025");
	has(err, "--ends: '13/1/2025' is not a date (write YYYY-MM-DD)");
	FREE_IO();
}

/* ---- users, audit, programs --------------------------------------------- */

static void
users_admin(void **state)
{
	char *out = NULL, *err = NULL, *pw, *tok, *p;

	(void)state;
	RUN(0, NULL, "users", "list");
	has(out, "USERNAME");
	has(out, "admin");
	has(out, "grader");
	FREE_IO();
	RUN(0, NULL, "users", "list", "--json");
	same_items(out, "/v1/users", NULL);
	FREE_IO();

	RUN(0, NULL, "users", "add", "grader2", "--role", "grader");
	has(out, ": grader2 (grader)");
	has(out, "one-time password: ");
	p = strstr(out, "one-time password: ") + strlen("one-time password: ");
	pw = strndup(p, strcspn(p, "\n"));
	FREE_IO();
	RUN(1, NULL, "users", "add", "GRADER2", "--role", "grader");
	has(err, "certrack: cannot add user 'GRADER2': ");
	has(err, "taken");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "users", "add", "x", "--role", "boss");
	has(err, "is not one of admin, grader, clinician");
	FREE_IO();

	/* Tokens: the new grader logs in, the admin sees and revokes it. */
	tok = testlib_login(port, "grader2", pw);
	RUN(0, NULL, "users", "tokens", "grader2", "--json");
	{
		json_t *j = parse(out), *t = json_array_get(json_object_get(j,
		    "items"), 0);
		char id[24];

		snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(json_object_get(t, "id")));
		FREE_IO();
		RUN(0, NULL, "users", "tokens", "grader2");
		has(out, "LAST USED");
		FREE_IO();
		RUN(0, NULL, "users", "revoke-token", "--yes", id);
		has(out, "revoked token ");
		FREE_IO();
		RUN(3, NULL, "users", "revoke-token", "--yes", id);
		has(err, "no live token");
		FREE_IO();
		json_decref(j);
	}
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    401);
	free(tok);

	RUN(0, NULL, "users", "disable", "--yes", "grader2");
	has(out, "disabled user ");
	has(out, ", disabled)");
	FREE_IO();
	RUN(0, NULL, "users", "enable", "grader2");
	has(out, "enabled user ");
	FREE_IO();
	RUN(0, NULL, "users", "reset-password", "grader2", "--quiet", "--yes");
	assert_true(strlen(out) > 10);
	FREE_IO();
	RUN(3, NULL, "users", "disable", "--yes", "nobody-here");
	has(err, "there is no user 'nobody-here'");
	FREE_IO();
	RUN(1, NULL, "users", "disable", "--yes", "admin");
	has(err, "last enabled admin");
	FREE_IO();

	/* A grader is not allowed: exit 4. */
	RUN(4, NULL, "--token", grader_tok, "users", "list");
	assert_string_equal(out, "");
	has(err, "certrack: ");
	FREE_IO();
	free(pw);
}

static void
passwd_change(void **state)
{
	char *out = NULL, *err = NULL, *pw, *tok, in[256];

	(void)state;
	pw = testlib_make_user(conninfo, "pwuser", "grader", 0);
	tok = testlib_login(port, "pwuser", pw);
	/* Wrong current password: exit 4, nothing changed. */
	RUN(4, "wrong-password\nnew-password-1\n", "--token", tok, "passwd",
	    "--password-stdin");
	has(err, "certrack: cannot change the password: the current password "
	    "is wrong");
	FREE_IO();
	/* Too short: the server's rule, exit 1. */
	snprintf(in, sizeof(in), "%s\nshort\n", pw);
	RUN(1, in, "--token", tok, "passwd", "--password-stdin");
	has(err, "at least 12 characters");
	FREE_IO();
	snprintf(in, sizeof(in), "%s\nnew-password-1\n", pw);
	RUN(0, in, "--token", tok, "passwd", "--password-stdin");
	has(out, "password changed");
	FREE_IO();
	free(testlib_login(port, "pwuser", "new-password-1"));
	free(tok);
	free(pw);
}

static void
audit_filters(void **state)
{
	char *out = NULL, *err = NULL, idtext[24], path[96];

	(void)state;
	snprintf(idtext, sizeof(idtext), "%lld", jane_id);
	RUN(0, NULL, "audit", "--clinician", idtext);
	has(out, "ACTION");
	has(out, "clinician.create");
	has(out, "enrollment.create");
	has(out, "exam_result.amend");
	FREE_IO();
	RUN(0, NULL, "audit", "--clinician", idtext, "--actor", "admin",
	    "--action", "enrollment.complete", "--json");
	snprintf(path, sizeof(path), "/v1/audit?clinician=%lld&actor=admin&"
	    "action=enrollment.complete", jane_id);
	same_as_api(out, path, admin_tok);
	FREE_IO();
	RUN(0, NULL, "audit", "--since", "2000-01-01", "--until", "2000-01-02");
	assert_string_equal(out, "");
	has(err, "no audit entries match");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "audit", "--since", "yesterday");
	has(err, "--since: 'yesterday' is not a date (write YYYY-MM-DD)");
	has(err, "try 'certrack audit --help'");
	FREE_IO();
	RUN(4, NULL, "--token", grader_tok, "audit");
	FREE_IO();
}

static void
programs_levels_eligibility(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	RUN(0, NULL, "programs");
	has(out, "Dry Needling");
	has(out, "DN1, DN2");
	FREE_IO();
	RUN(0, NULL, "programs", "show", "dn");
	has(out, "Certified Dry Needling Practitioner");
	has(out, "DC, DO, MD, NP, PA, PT");
	has(out, "Level 2");
	FREE_IO();
	RUN(0, NULL, "programs", "show", "DN", "--json");
	same_as_api(out, "/v1/programs/DN", admin_tok);
	FREE_IO();
	RUN(3, NULL, "programs", "show", "XX");
	has(err, "there is no program");
	FREE_IO();

	RUN(0, NULL, "levels", "show", "DN2");
	has(out, "WRITTEN %");
	has(out, "DN1");
	FREE_IO();
	RUN(0, NULL, "levels", "set", "DN2", "--max-attempts", "4",
	    "--retake-wait-days", "7");
	has(out, "updated level DN2");
	FREE_IO();
	RUN(1, NULL, "levels", "set", "DN2", "--written-pass-mark", "150");
	has(err, "certrack: cannot change level 'DN2': ");
	has(err, "between");
	FREE_IO();
	RUN(4, NULL, "--token", grader_tok, "levels", "set", "DN2",
	    "--max-attempts", "5");
	FREE_IO();
	RUN(3, NULL, "levels", "show", "DN9");
	has(err, "there is no level 'DN9'");
	FREE_IO();

	RUN(0, NULL, "professions");
	has(out, "Physical Therapist Assistant");
	FREE_IO();
	RUN(0, NULL, "eligibility", "DPT");
	has(out, "Physical Therapist (PT) is eligible for DN");
	FREE_IO();
	RUN(1, NULL, "eligibility", "Physical Therapist Assistant");
	has(out, "is NOT eligible for DN");
	FREE_IO();
	RUN(3, NULL, "eligibility", "Astronaut");
	has(err, "unknown profession");
	FREE_IO();
}

/* ---- manners ------------------------------------------------------------ */

static void
usage_errors_without_server(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	/* Each is refused before any request: the URL leads nowhere, so a
	 * request would have exited 5. */
	RUN(2, NULL, "--url", dead_url, "frobnicate");
	has(err, "certrack: unknown command 'frobnicate'");
	has(err, "certrack: try 'certrack --help'");
	assert_string_equal(out, "");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "clinicians", "show");
	has(err, "certrack: missing CLINICIAN");
	has(err, "certrack: try 'certrack clinicians --help'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "clinicians", "show", "abc");
	has(err, "clinician 'abc' is not a number");
	has(err, "try 'certrack clinicians --help'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "clinicians", "list", "--limit", "ten");
	has(err, "--limit 'ten' is not a number");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "clinicians", "frob");
	has(err, "unknown subcommand 'clinicians frob'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "clinicians");
	has(err, "needs a subcommand");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "enroll", "12");
	has(err, "missing CLINICIAN and LEVEL");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "results", "record", "1", "DN1",
	    "oral", "80");
	has(err, "neither 'written' nor 'practical'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "results", "record", "1", "DN1",
	    "written", "eighty");
	has(err, "SCORE: the field 'score' must be a number from 0 to 100000 "
	    "with at most 4 decimals");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "complete", "1", "--on", "2025-13-01");
	has(err, "is not a date");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "enroll", "1", "DN1", "--bogus");
	has(err, "unknown option '--bogus'");
	FREE_IO();
	RUN(2, NULL, "--url", dead_url, "login", "admin", "extra");
	has(err, "unexpected argument 'extra'");
	FREE_IO();
}

static void
network_failure(void **state)
{
	char *out = NULL, *err = NULL, want[128];

	(void)state;
	snprintf(want, sizeof(want), "certrack: cannot reach '%s': ",
	    dead_url);
	RUN(5, NULL, "--url", dead_url, "clinicians", "list");
	assert_string_equal(out, "");
	has(err, want);
	FREE_IO();
	RUN(5, NULL, "--url", dead_url, "verify", cert_number);
	has(err, want);
	FREE_IO();
}

static void
help_everywhere(void **state)
{
	static const char *const cmds[] = { "login", "logout", "whoami",
	    "passwd", "clinicians", "sessions", "enroll", "complete",
	    "withdraw", "results", "status", "certificates", "verify",
	    "users", "audit", "programs", "levels", "professions",
	    "eligibility", "health" };
	char *out = NULL, *err = NULL, *out2, *err2, want[64];

	(void)state;
	RUN(0, NULL, "--help");
	has(out, "Exit codes");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		has(out, cmds[i]);
	FREE_IO();
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		RUN(0, NULL, "help", cmds[i]);
		snprintf(want, sizeof(want), "usage: certrack %s", cmds[i]);
		has(out, want);
		has(out, "Example");
		assert_string_equal(err, "");
		assert_int_equal(run(NULL, &out2, &err2, cmds[i], "--help",
		    NULL), 0);
		assert_string_equal(out2, out);
		free(out2);
		free(err2);
		FREE_IO();
	}
	RUN(0, NULL, "users", "disable", "--help");
	has(out, "usage: certrack users");
	FREE_IO();
}

static void
full_stdout(void **state)
{
	char script[1400], *out = NULL, *err = NULL;
	char *argv[] = { "/bin/sh", "-c", script, NULL };

	(void)state;
	snprintf(script, sizeof(script), "'%s' clinicians list > /dev/full",
	    cli);
	assert_int_not_equal(testlib_run(argv, NULL, &out, &err), 0);
	has(err, "certrack: cannot write the output");
	FREE_IO();
	snprintf(script, sizeof(script), "'%s' status %lld --json > /dev/full",
	    cli, jane_id);
	assert_int_not_equal(testlib_run(argv, NULL, &out, &err), 0);
	has(err, "certrack: cannot write the output");
	FREE_IO();
}

static void
logout_revokes(void **state)
{
	char *out = NULL, *err = NULL, *tok = stored_token(), *text;

	(void)state;
	RUN(0, NULL, "logout");
	has(out, "logged out of ");
	FREE_IO();
	/* Forgotten here, refused there. */
	text = read_file(config);
	lacks(text, "token =");
	has(text, url);
	free(text);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    401);
	free(tok);
	/* The URL stays, so the next command knows where, but not who. */
	RUN(4, NULL, "clinicians", "list");
	has(err, "certrack: ");
	FREE_IO();
	RUN(4, NULL, "logout");
	has(err, "not logged in");
	FREE_IO();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(login_stores_token),
		cmocka_unit_test(login_xdg_config_home),
		cmocka_unit_test(whoami_json),
		cmocka_unit_test(clinicians_add_show_list),
		cmocka_unit_test(clinicians_update),
		cmocka_unit_test(enroll_complete_withdraw),
		cmocka_unit_test(results_record_amend_history),
		cmocka_unit_test(status_transcript),
		cmocka_unit_test(certificates_verify_revoke),
		cmocka_unit_test(sessions_add_list),
		cmocka_unit_test(users_admin),
		cmocka_unit_test(passwd_change),
		cmocka_unit_test(audit_filters),
		cmocka_unit_test(programs_levels_eligibility),
		cmocka_unit_test(usage_errors_without_server),
		cmocka_unit_test(network_failure),
		cmocka_unit_test(help_everywhere),
		cmocka_unit_test(full_stdout),
		cmocka_unit_test(logout_revokes),
	};

	return cmocka_run_group_tests_name("e2e_cli", tests, setup, teardown);
}
