/*
 * End to end: the CLI's output contract against a running certrackd.
 *
 *  - every list command with --json (one shape: total, limit, offset,
 *    items), --csv (a header, a line a record), --quiet (the ids, one a
 *    line) and as a table, stdout for the output and nothing on stderr;
 *  - every command's failure modes (not found, refused by a rule, not
 *    allowed, server down, usage) with their exit codes, the sentence on
 *    stderr with the request id when the server answered, and under
 *    --json the problem document on stdout;
 *  - public reads without a login; contexts; confirmations driven through
 *    a pty; did-you-mean, singular nouns, short help, completion; and the
 *    messages the issue named (pagination, passwd --password-stdin,
 *    attempts, professions, --quiet into a file).
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

static struct testlib_world w;
static char cli[600], url[64], dead_url[64], home[600];
static char *clin_tok;		/* a clinician's own account */
static long long pt, pta, result_id, withdrawn;

#define has testlib_has
#define lacks testlib_lacks

/* ---- running ----------------------------------------------------------- */

/* The placeholders of a row's arguments, with this run's ids. */
static const char *
fill(const char *arg, char *buf, size_t len)
{
	static const struct { const char *name; long long *v; } vars[] = {
		{ "{pt}", &pt }, { "{pta}", &pta }, { "{res}", &result_id },
		{ "{wd}", &withdrawn },
	};

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (strcmp(arg, vars[i].name) == 0) {
			snprintf(buf, len, "%lld", *vars[i].v);
			return buf;
		}
	return arg;
}

/* Who runs a row. */
enum who { ADMIN, GRADER, CLINICIAN, NOBODY, DOWN };

static void
as(enum who who)
{
	setenv("CERTRACK_URL", who == DOWN ? dead_url : url, 1);
	switch (who) {
	case ADMIN:
	case DOWN:
		setenv("CERTRACK_TOKEN", w.admin, 1);
		break;
	case GRADER:
		setenv("CERTRACK_TOKEN", w.grader, 1);
		break;
	case CLINICIAN:
		setenv("CERTRACK_TOKEN", clin_tok, 1);
		break;
	case NOBODY:
		unsetenv("CERTRACK_TOKEN");
		break;
	}
}

/* Runs certrack with FIRST (may be NULL) then ARGS (NULL-terminated). */
static int
run_args(const char *first, const char *const *args, const char *in,
    char **out, char **err)
{
	char *argv[40], bufs[40][32];
	int n = 0, rc;

	argv[n++] = cli;
	if (first != NULL)
		argv[n++] = (char *)first;
	for (int i = 0; args[i] != NULL && n < 39; i++, n++)
		argv[n] = (char *)fill(args[i], bufs[n], sizeof(bufs[n]));
	argv[n] = NULL;
	rc = testlib_run(argv, in, out, err);
	if (getenv("E2E_CLI_SHOW") != NULL) {
		for (int i = 1; i < n; i++)
			fprintf(stderr, "%s ", argv[i]);
		fprintf(stderr, "\n---- exit %d\n%s%s", rc, *out, *err);
	}
	return rc;
}

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL)
		fail_msg("not one JSON document (%s): '%s'", jerr.text, text);
	return j;
}

static int
lines(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* ---- setup ------------------------------------------------------------- */

static long long
api_id(const char *method, const char *path, const char *body, int want)
{
	char *resp = NULL;
	int st = testlib_api(w.port, method, path, w.admin, body, &resp);
	json_t *j;
	long long id;

	if (st != want)
		fail_msg("%s %s answered %d: %s", method, path, st, resp);
	j = parse(resp);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(resp);
	return id;
}

static int
setup(void **state)
{
	char path[200], *pw;

	(void)state;
	testlib_world_up(&w, "e2e_cli_contract");
	testlib_cli_env(&w, "e2e_cli_contract", w.admin);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", w.port);
	snprintf(dead_url, sizeof(dead_url), "http://127.0.0.1:%d",
	    testlib_free_port());
	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(home, sizeof(home), "%s", getenv("HOME"));
	unsetenv("CERTRACK_CONTEXT");

	pt = api_id("POST", "/v1/clinicians", "{\"given_name\":\"Pia\","
	    "\"family_name\":\"Contract\",\"email\":\"pia@example.org\","
	    "\"profession\":\"PT\"}", 201);
	pta = api_id("POST", "/v1/clinicians", "{\"given_name\":\"Abe\","
	    "\"family_name\":\"Assistant\",\"email\":\"abe@example.org\","
	    "\"profession\":\"PTA\"}", 201);
	snprintf(path, sizeof(path), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\"}", pt);
	api_id("POST", "/v1/enrollments", path, 201);
	snprintf(path, sizeof(path), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\",\"kind\":\"written\",\"score\":50,\"max_score\":100,\"taken_on\":"
	    "\"2025-01-10\"}", pt);
	result_id = api_id("POST", "/v1/exam-results", path, 201);
	/* an enrollment withdrawn already */
	{
		long long other = api_id("POST", "/v1/clinicians",
		    "{\"given_name\":\"Wyn\",\"family_name\":\"Gone\","
		    "\"email\":\"wyn@example.org\",\"profession\":\"MD\"}",
		    201);
		snprintf(path, sizeof(path), "{\"clinician_id\":%lld,"
		    "\"level\":\"DN1\"}", other);
		withdrawn = api_id("POST", "/v1/enrollments", path, 201);
		snprintf(path, sizeof(path), "/v1/enrollments/%lld/withdraw",
		    withdrawn);
		api_id("POST", path, "{}", 200);
	}
	api_id("POST", "/v1/sessions", "{\"level\":\"DN1\",\"starts_on\":"
	    "\"2025-01-01\",\"ends_on\":\"2025-01-02\"}", 201);
	{
		size_t len;
		char *csv = testlib_roster(1, &len);
		json_t *report;
		int st = testlib_import(w.port, w.admin, "kind=roster", csv,
		    &report);

		if (st != 201)
			fail_msg("the roster import answered %d", st);
		json_decref(report);
		free(csv);
	}
	pw = testlib_make_user(w.conninfo, "pia", "clinician", pt);
	clin_tok = testlib_login(w.port, "pia", pw);
	free(pw);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free(clin_tok);
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* ---- 1. lists ------------------------------------------------------------ */

static const struct {
	enum who who;
	const char *id_key;
	const char *head;	/* the table's and the CSV's first columns */
	const char *args[8];
} lists[] = {
	{ ADMIN, "id", "ID,USERNAME,ROLE", { "users", "list", NULL } },
	{ ADMIN, "id", "ID,CREATED,EXPIRES", { "users", "tokens", "admin",
	    NULL } },
	{ ADMIN, "id", "ID,NAME,PROFESSION", { "clinicians", "list", NULL } },
	{ GRADER, "id", "ID,NAME,PROFESSION", { "clinicians", "search",
	    "contract", NULL } },
	{ ADMIN, "id", "ID,LEVEL,STARTS", { "sessions", "list", NULL } },
	{ ADMIN, "id", "ID,AT,ACTOR", { "audit", "--limit", "3", NULL } },
	{ ADMIN, "id", "ID,STARTED,KIND", { "import", "list", NULL } },
	{ NOBODY, "code", "CODE,NAME,CREDENTIAL", { "programs", NULL } },
	{ NOBODY, "code", "CODE,NAME,CREDENTIAL", { "programs", "list",
	    NULL } },
	{ NOBODY, "code", "CODE,NAME,PROGRAMS", { "professions", NULL } },
	{ CLINICIAN, "id", "ID,LEVEL,EXAM", { "results", "history", NULL } },
	{ ADMIN, "id", "ID,LEVEL,EXAM", { "results", "history", "{pt}",
	    NULL } },
	{ ADMIN, "name", "CURRENT,NAME,URL", { "context", "list", NULL } },
};

static void
every_list(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		char *out = NULL, *err = NULL, want[64], *ids, *p;
		json_t *doc, *items, *it;
		size_t k;
		int rc;

		as(lists[i].who);
		/* --json: the one shape, nothing on stderr */
		rc = run_args("--json", lists[i].args, NULL, &out, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(err, "");
		doc = parse(out);
		assert_int_equal(json_object_size(doc), 4);
		assert_true(json_is_integer(json_object_get(doc, "total")));
		assert_true(json_is_integer(json_object_get(doc, "offset")));
		assert_true(json_is_null(json_object_get(doc, "limit")) ||
		    json_is_integer(json_object_get(doc, "limit")));
		items = json_object_get(doc, "items");
		assert_true(json_is_array(items));
		assert_true(json_array_size(items) > 0);
		assert_true(json_integer_value(json_object_get(doc, "total")) >=
		    (json_int_t)json_array_size(items));
		free(out);
		free(err);

		/* --quiet: the ids of the same items, one a line */
		rc = run_args("--quiet", lists[i].args, NULL, &out, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(err, "");
		ids = calloc(1, 65536);
		json_array_foreach(items, k, it) {
			const json_t *v = json_object_get(it, lists[i].id_key);
			p = ids + strlen(ids);
			if (json_is_integer(v))
				sprintf(p, "%" JSON_INTEGER_FORMAT "\n",
				    json_integer_value(v));
			else
				sprintf(p, "%s\n", json_string_value(v));
		}
		assert_string_equal(out, ids);
		free(ids);
		free(out);
		free(err);

		/* --csv: the header, then a line a record */
		rc = run_args("--csv", lists[i].args, NULL, &out, &err);
		assert_int_equal(rc, 0);
		assert_string_equal(err, "");
		assert_int_equal(strncmp(out, lists[i].head,
		    strlen(lists[i].head)), 0);
		assert_int_equal(lines(out), (int)json_array_size(items) + 1);
		free(out);
		free(err);

		/* a table: the header with the columns two blanks apart;
		 * on stderr at most where the page is */
		rc = run_args(NULL, lists[i].args, NULL, &out, &err);
		assert_int_equal(rc, 0);
		if (err[0] != '\0') {
			assert_int_equal(err[0], '(');
			assert_int_equal(lines(err), 1);
		}
		snprintf(want, sizeof(want), "%.*s", (int)strcspn(
		    lists[i].head, ","), lists[i].head);
		assert_int_equal(strncmp(out, want, strlen(want)), 0);
		assert_int_equal(lines(out), (int)json_array_size(items) + 1);
		free(out);
		free(err);
		json_decref(doc);
	}
	as(ADMIN);
}

/* An empty list: nothing on stdout but JSON; the note on stderr. */
static void
empty_list(void **state)
{
	static const char *const args[] = { "clinicians", "list", "--search",
	    "nobody-like-this", NULL };
	char *out = NULL, *err = NULL;
	json_t *doc;

	(void)state;
	as(ADMIN);
	assert_int_equal(run_args(NULL, args, NULL, &out, &err), 0);
	assert_string_equal(out, "");
	assert_string_equal(err, "no clinicians match\n");
	free(out);
	free(err);
	assert_int_equal(run_args("--quiet", args, NULL, &out, &err), 0);
	assert_string_equal(out, "");
	assert_string_equal(err, "");
	free(out);
	free(err);
	assert_int_equal(run_args("--json", args, NULL, &out, &err), 0);
	doc = parse(out);
	assert_int_equal(json_integer_value(json_object_get(doc, "total")), 0);
	assert_int_equal(json_array_size(json_object_get(doc, "items")), 0);
	json_decref(doc);
	free(out);
	free(err);
	assert_int_equal(run_args("--csv", args, NULL, &out, &err), 0);
	assert_string_equal(out, "ID,NAME,PROFESSION,EMAIL,NPI,LICENSE\n");
	free(out);
	free(err);
}

/* ---- 2. failure modes ---------------------------------------------------- */

/*
 * Each command's failures: who runs it, the arguments, standard input,
 * the exit code and the problem code the --json document carries.
 */
static const struct walk {
	enum who who;
	const char *in;
	int code;
	const char *problem;
	const char *args[14];
} walks[] = {
	/* login, logout, whoami, passwd */
	{ NOBODY, "not-the-password\n", 4, "invalid_credentials",
	  { "login", "--password-stdin", "admin", NULL } },
	{ DOWN, "x\n", 5, "unreachable",
	  { "login", "--password-stdin", "admin", NULL } },
	{ NOBODY, NULL, 2, "usage", { "login", "--password-stdin", NULL } },
	{ NOBODY, NULL, 4, "unauthorized", { "logout", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "logout", NULL } },
	{ NOBODY, NULL, 4, "unauthenticated", { "whoami", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "whoami", NULL } },
	{ ADMIN, "wrong-current-Tq8#vLp2\nNew-Secret-Zx9!qR\n", 4,
	  "invalid_credentials",
	  { "passwd", "--password-stdin", NULL } },
	{ ADMIN, "only-one-line\n", 2, "usage",
	  { "passwd", "--password-stdin", NULL } },
	/* clinicians */
	{ ADMIN, NULL, 3, "not_found", { "clinicians", "show", "999999",
	  NULL } },
	{ CLINICIAN, NULL, 3, "not_found", { "clinicians", "show", "{pta}",
	  NULL } },
	{ DOWN, NULL, 5, "unreachable", { "clinicians", "show", "{pt}",
	  NULL } },
	{ ADMIN, NULL, 1, "duplicate", { "clinicians", "add", "--given", "P",
	  "--family", "Q", "--email", "pia@example.org", "--profession", "PT",
	  NULL } },
	{ GRADER, NULL, 4, "forbidden", { "clinicians", "add", "--given",
	  "P", "--family", "Q", "--email", "q@example.org", "--profession",
	  "PT", NULL } },
	{ CLINICIAN, NULL, 4, "forbidden", { "clinicians", "list", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "clinicians", "list", NULL } },
	{ ADMIN, NULL, 2, "usage", { "clinicians", "list", "--limit", "0",
	  NULL } },
	{ ADMIN, NULL, 1, "version_mismatch", { "clinicians", "update",
	  "{pt}", "--version", "99", "--family", "X", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "clinicians", "update", "999999",
	  "--family", "X", NULL } },
	/* sessions */
	{ ADMIN, NULL, 3, "unknown_level", { "sessions", "add", "DN3",
	  "--starts", "2025-01-01", NULL } },
	{ ADMIN, NULL, 1, "date_in_future", { "sessions", "add", "DN1",
	  "--starts", "2999-01-01", NULL } },
	{ GRADER, NULL, 4, "forbidden", { "sessions", "add", "DN1",
	  "--starts", "2025-01-01", NULL } },
	{ CLINICIAN, NULL, 4, "forbidden", { "sessions", "list", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "sessions", "list", NULL } },
	/* enroll, complete, withdraw */
	{ ADMIN, NULL, 3, "unknown_session", { "enroll", "{pt}", "DN2",
	  "--session", "99", NULL } },
	{ ADMIN, NULL, 3, "unknown_level", { "enroll", "{pt}", "DN9",
	  NULL } },
	{ ADMIN, NULL, 3, "not_found", { "enroll", "999999", "DN1", NULL } },
	{ ADMIN, NULL, 1, "profession_not_eligible", { "enroll", "{pta}",
	  "DN1", NULL } },
	{ GRADER, NULL, 4, "forbidden", { "enroll", "{pta}", "DN1", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "enroll", "{pt}", "DN1", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "complete", "999999", NULL } },
	{ ADMIN, NULL, 1, "enrollment_withdrawn", { "complete", "{wd}",
	  NULL } },
	{ CLINICIAN, NULL, 4, "forbidden", { "complete", "{wd}", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "complete", "{wd}", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "withdraw", "--yes", "999999",
	  NULL } },
	{ ADMIN, NULL, 1, "already_withdrawn", { "withdraw", "--yes", "{wd}",
	  NULL } },
	{ GRADER, NULL, 4, "forbidden", { "withdraw", "--yes", "{wd}",
	  NULL } },
	{ ADMIN, NULL, 2, "usage", { "withdraw", "{wd}", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "withdraw", "--yes", "{wd}",
	  NULL } },
	/* results */
	{ ADMIN, NULL, 1, "not_enrolled", { "results", "record", "{pt}",
	  "DN2", "written", "80", "--on", "2025-02-01", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "results", "record", "999999", "DN1",
	  "written", "80", NULL } },
	{ CLINICIAN, NULL, 4, "forbidden", { "results", "record", "{pt}",
	  "DN1", "written", "80", "--on", "2025-02-01", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "results", "record", "{pt}", "DN1",
	  "written", "80", NULL } },
	{ ADMIN, NULL, 1, "score_above_max", { "results", "amend", "{res}",
	  "120", "--reason", "typo", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "results", "amend", "999999", "80",
	  "--reason", "typo", NULL } },
	{ CLINICIAN, NULL, 4, "forbidden", { "results", "amend", "{res}",
	  "80", "--reason", "typo", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "results", "history", "999999",
	  NULL } },
	{ DOWN, NULL, 5, "unreachable", { "results", "history", "{pt}",
	  NULL } },
	/* status */
	{ ADMIN, NULL, 3, "not_found", { "status", "999999", NULL } },
	{ CLINICIAN, NULL, 3, "not_found", { "status", "{pta}", NULL } },
	{ NOBODY, NULL, 4, "unauthenticated", { "status", "{pt}", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "status", "{pt}", NULL } },
	/* certificates and verify */
	{ NOBODY, NULL, 3, "unknown_certificate", { "verify",
	  "ABCD-EFGH-JKMY", NULL } },
	{ NOBODY, NULL, 2, "usage", { "verify", "ABCD-EFGH-JKMA", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "certificates", "verify",
	  "ABCD-EFGH-JKMY", NULL } },
	{ ADMIN, NULL, 3, "unknown_certificate", { "certificates", "revoke",
	  "--yes", "ABCD-EFGH-JKMY", "--category", "other", "--note", "x",
	  NULL } },
	{ GRADER, NULL, 4, "forbidden", { "certificates", "revoke", "--yes",
	  "ABCD-EFGH-JKMY", "--category", "other", "--note", "x", NULL } },
	{ ADMIN, NULL, 2, "usage", { "certificates", "revoke",
	  "ABCD-EFGH-JKMY", "--category", "other", "--note", "x", NULL } },
	/* users */
	{ GRADER, NULL, 4, "forbidden", { "users", "list", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "users", "list", NULL } },
	{ ADMIN, NULL, 1, "duplicate", { "users", "add", "GRADER", "--role",
	  "grader", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "users", "disable", "--yes",
	  "nobody-here", NULL } },
	{ ADMIN, NULL, 1, "last_admin", { "users", "disable", "--yes",
	  "admin", NULL } },
	{ ADMIN, NULL, 2, "usage", { "users", "disable", "admin", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "users", "enable", "nobody-here",
	  NULL } },
	{ ADMIN, NULL, 3, "not_found", { "users", "reset-password", "--yes",
	  "nobody-here", NULL } },
	{ ADMIN, NULL, 3, "not_found", { "users", "tokens", "nobody-here",
	  NULL } },
	{ ADMIN, NULL, 3, "not_found", { "users", "revoke-token", "--yes",
	  "999999", NULL } },
	{ GRADER, NULL, 4, "forbidden", { "users", "revoke-token", "--yes",
	  "999999", NULL } },
	/* audit */
	{ GRADER, NULL, 4, "forbidden", { "audit", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "audit", NULL } },
	{ ADMIN, NULL, 2, "usage", { "audit", "--since", "yesterday", NULL } },
	/* programs, levels, professions, eligibility */
	{ NOBODY, NULL, 3, "unknown_program", { "programs", "show", "XYZ",
	  NULL } },
	{ DOWN, NULL, 5, "unreachable", { "programs", NULL } },
	{ ADMIN, NULL, 3, "unknown_level", { "levels", "show", "DN9",
	  NULL } },
	{ GRADER, NULL, 4, "forbidden", { "levels", "set", "DN1", "--title",
	  "Level One", NULL } },
	{ NOBODY, NULL, 4, "unauthenticated", { "levels", "show", "DN1",
	  NULL } },
	{ DOWN, NULL, 5, "unreachable", { "professions", NULL } },
	{ NOBODY, NULL, 3, "unknown_profession", { "eligibility", "Herbalist",
	  NULL } },
	{ DOWN, NULL, 5, "unreachable", { "eligibility", "PT", NULL } },
	/* import */
	{ ADMIN, NULL, 2, "usage", { "import", "roster", "no-such-file.csv",
	  NULL } },
	{ GRADER, "given_name\nx\n", 4, "forbidden", { "import", "roster", "-",
	  NULL } },
	{ ADMIN, NULL, 3, "not_found", { "import", "show", "999999", NULL } },
	{ CLINICIAN, NULL, 4, "forbidden", { "import", "list", NULL } },
	{ DOWN, NULL, 5, "unreachable", { "import", "list", NULL } },
	/* context, health, help, and no command at all */
	{ ADMIN, NULL, 3, "not_found", { "context", "use", "nowhere", NULL } },
	{ ADMIN, NULL, 2, "usage", { "--context", "nowhere", "whoami",
	  NULL } },
	{ DOWN, NULL, 5, "unreachable", { "health", NULL } },
	{ ADMIN, NULL, 2, "usage", { "help", "nothing-like-this", NULL } },
	{ ADMIN, NULL, 2, "usage", { "clinicans", "list", NULL } },
};

static void
every_failure(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(walks) / sizeof(walks[0]); i++) {
		const struct walk *r = &walks[i];
		char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
		char line[200];
		const char *rid;
		json_t *doc;
		int rc;

		as(r->who);
		rc = run_args("--json", r->args, r->in, &out, &err);
		if (rc != r->code)
			fail_msg("%s %s: exit %d, expected %d\n%s%s",
			    r->args[0], r->args[1] ? r->args[1] : "", rc,
			    r->code, out, err);
		/* the document on stdout */
		doc = parse(out);
		assert_true(json_is_string(json_object_get(doc, "code")));
		assert_true(json_is_string(json_object_get(doc, "detail")));
		if (r->problem != NULL && strcmp(json_string_value(
		    json_object_get(doc, "code")), r->problem) != 0)
			fail_msg("%s %s: code '%s', expected '%s'", r->args[0],
			    r->args[1] ? r->args[1] : "", json_string_value(
			    json_object_get(doc, "code")), r->problem);
		/* the sentence on stderr, the request id when the server
		 * answered */
		assert_int_equal(strncmp(err, "certrack: ", 10), 0);
		rid = json_string_value(json_object_get(doc, "request_id"));
		if (json_is_integer(json_object_get(doc, "status"))) {
			assert_non_null(rid);
			snprintf(line, sizeof(line), "certrack: request id %s\n",
			    rid);
			has(err, line);
		} else {
			assert_null(rid);
			lacks(err, "request id");
		}
		/* without --json: the same exit, nothing on stdout */
		rc = run_args(NULL, r->args, r->in, &out2, &err2);
		assert_int_equal(rc, r->code);
		assert_string_equal(out2, "");
		assert_int_equal(strncmp(err2, "certrack: ", 10), 0);
		json_decref(doc);
		free(out);
		free(err);
		free(out2);
		free(err2);
	}
	as(ADMIN);
}

/* ---- 3. public reads ----------------------------------------------------- */

static void
public_reads(void **state)
{
	static const char *const elig[] = { "eligibility", "DPT", NULL };
	static const char *const show[] = { "programs", "show", "dn", NULL };
	char *out = NULL, *err = NULL;

	(void)state;
	as(NOBODY);
	assert_int_equal(run_args(NULL, elig, NULL, &out, &err), 0);
	has(out, "(PT) is eligible for DN");
	assert_string_equal(err, "");
	free(out);
	free(err);
	assert_int_equal(run_args(NULL, show, NULL, &out, &err), 0);
	has(out, "Dry Needling (DN)");
	free(out);
	free(err);
	/* not eligible is an answer, exit 1 as grep's no match: the answer
	 * on stdout, not a problem */
	{
		static const char *const no[] = { "--json", "eligibility",
		    "PTA", NULL };
		json_t *doc;

		assert_int_equal(run_args(NULL, no, NULL, &out, &err), 1);
		doc = parse(out);
		assert_true(json_is_false(json_object_get(doc, "eligible")));
		assert_null(json_object_get(doc, "code"));
		assert_string_equal(err, "");
		json_decref(doc);
		free(out);
		free(err);
	}
	as(ADMIN);
}

/* ---- 4. contexts --------------------------------------------------------- */

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text = calloc(1, 65536);

	if (fp == NULL)
		fail_msg("cannot open '%s': %s", path, strerror(errno));
	if (fread(text, 1, 65535, fp) == 0 && ferror(fp))
		fail_msg("cannot read '%s'", path);
	fclose(fp);
	return text;
}

#define RUN(code, in, ...) do { \
	const char *const a_[] = { __VA_ARGS__, NULL }; \
	free(out); \
	free(err); \
	int rc_ = run_args(NULL, a_, (in), &out, &err); \
	if (rc_ != (code)) \
		fail_msg("exit %d, expected %d\nstdout:\n%s\nstderr:\n%s", \
		    rc_, (code), out, err); \
} while (0)

static void
contexts(void **state)
{
	char *out = NULL, *err = NULL, *text, config[700], pwline[200];
	struct stat st;
	json_t *doc;

	(void)state;
	snprintf(config, sizeof(config), "%s/.config/certrack/config", home);
	unsetenv("CERTRACK_TOKEN");
	unsetenv("CERTRACK_URL");

	RUN(0, NULL, "context", "add", "staging", "--url", url);
	has(out, "added context staging: ");
	RUN(0, NULL, "context", "add", "prod", "--url", dead_url);
	RUN(1, NULL, "context", "add", "prod", "--url", dead_url);
	has(err, "there is a context 'prod' already");
	RUN(2, NULL, "context", "add", "bad name", "--url", url);
	RUN(2, NULL, "context", "add", "x", "--url", "http://example.org");
	has(err, "refusing plain http://");
	assert_int_equal(stat(config, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* a login in one context keeps its token there, in the same 0600
	 * file; the other contexts stay logged out */
	snprintf(pwline, sizeof(pwline), "%s\n", w.grader_pw);
	RUN(0, pwline, "--context", "staging", "login", "--password-stdin",
	    "grader");
	assert_int_equal(stat(config, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	text = slurp(config);
	has(text, "[staging]\nurl = ");
	has(text, "token = ");
	has(text, "[prod]\nurl = ");
	lacks(text, w.grader_pw);
	free(text);
	RUN(0, NULL, "--context", "staging", "whoami");
	has(out, "context:           staging\n");
	has(out, "username:          grader\n");
	RUN(5, NULL, "--context", "prod", "whoami");
	has(err, dead_url);

	/* use: the current one, shown by whoami and context list */
	RUN(0, NULL, "context", "use", "staging");
	RUN(0, NULL, "whoami");
	has(out, "context:           staging\n");
	RUN(0, NULL, "--json", "context", "list");
	doc = parse(out);
	assert_int_equal(json_array_size(json_object_get(doc, "items")), 3);
	{
		json_t *it;
		size_t i;
		int current = 0;

		json_array_foreach(json_object_get(doc, "items"), i, it) {
			bool cur = json_is_true(json_object_get(it, "current"));
			const char *name = testlib_str(it, "name");

			current += cur;
			assert_int_equal(cur, strcmp(name, "staging") == 0);
			assert_int_equal(json_is_true(json_object_get(it,
			    "logged_in")), strcmp(name, "staging") == 0);
		}
		assert_int_equal(current, 1);
	}
	json_decref(doc);

	/* CERTRACK_CONTEXT for a run; --context over it */
	setenv("CERTRACK_CONTEXT", "prod", 1);
	RUN(5, NULL, "whoami");
	has(err, dead_url);
	RUN(0, NULL, "--context", "staging", "whoami");
	setenv("CERTRACK_CONTEXT", "nowhere", 1);
	RUN(2, NULL, "whoami");
	has(err, "there is no context 'nowhere'");
	unsetenv("CERTRACK_CONTEXT");

	/* remove: the current one asks first (it has a token), is gone, and
	 * the default is current again */
	RUN(2, NULL, "context", "remove", "staging");
	has(err, "--yes");
	RUN(0, NULL, "--yes", "context", "remove", "staging");
	RUN(0, NULL, "context", "remove", "prod");
	RUN(3, NULL, "context", "remove", "prod");
	text = slurp(config);
	lacks(text, "[staging]");
	lacks(text, "current =");
	lacks(text, "token = ");
	free(text);
	RUN(0, NULL, "context", "list");
	has(out, "*        default");
	free(out);
	free(err);
	setenv("CERTRACK_URL", url, 1);
	setenv("CERTRACK_TOKEN", w.admin, 1);
}

/* ---- 5. confirmations through a pty -------------------------------------- */

/* Runs certrack ARGS on a pty, answering ANSWER to its question; returns
 * the exit status, *SHOWN what the terminal showed (caller frees). */
static int
on_pty(const char *const *args, const char *answer, char **shown)
{
	char *argv[20];
	int i = 0;

	argv[i++] = cli;
	for (; args[i - 1] != NULL; i++)
		argv[i] = (char *)args[i - 1];
	argv[i] = NULL;
	return testlib_pty(argv, "[y/N] ", answer, shown);
}

static void
confirmations(void **state)
{
	char *shown, *out = NULL, *err = NULL, path[64], id[24], *resp = NULL;
	long long tok_id;
	json_t *j;

	(void)state;
	/* a token of the grader's to revoke */
	free(testlib_login(w.port, "grader", w.grader_pw));
	assert_int_equal(testlib_api(w.port, "GET", "/v1/users/2/tokens",
	    w.admin, NULL, &resp), 200);
	j = parse(resp);
	tok_id = json_integer_value(json_object_get(json_array_get(j,
	    json_array_size(j) - 1), "id"));
	json_decref(j);
	free(resp);
	snprintf(id, sizeof(id), "%lld", tok_id);
	const char *const args[] = { "users", "revoke-token", id, NULL };

	/* no: nothing done, exit 1 */
	assert_int_equal(on_pty(args, "n\n", &shown), 1);
	has(shown, "certrack: revoke token ");
	has(shown, "? [y/N] ");
	has(shown, "not confirmed");
	free(shown);
	snprintf(path, sizeof(path), "/v1/users/2/tokens");
	assert_int_equal(testlib_api(w.port, "GET", path, w.admin, NULL,
	    &resp), 200);
	j = parse(resp);
	{
		json_t *it;
		size_t i;
		json_array_foreach(j, i, it)
			if (json_integer_value(json_object_get(it, "id")) ==
			    tok_id)
				assert_true(json_is_null(json_object_get(it,
				    "revoked_at")));
	}
	json_decref(j);
	free(resp);

	/* yes: done */
	assert_int_equal(on_pty(args, "y\n", &shown), 0);
	has(shown, "revoked token ");
	free(shown);

	/* not a terminal: refused with the hint, nothing asked */
	RUN(2, NULL, "withdraw", "{wd}");
	has(err, "add --yes");
	lacks(err, "[y/N]");
	assert_string_equal(out, "");
	free(out);
	free(err);
}

/* ---- 6. manners -------------------------------------------------------- */

static void
manners(void **state)
{
	char *out = NULL, *err = NULL, script[3000];

	(void)state;
	/* did you mean: commands, subcommands, options */
	RUN(2, NULL, "clinicans", "list");
	has(err, "unknown command 'clinicans'; did you mean 'clinician");
	RUN(2, NULL, "users", "lst");
	has(err, "did you mean 'users list'?");
	RUN(2, NULL, "clinicians", "list", "--offest", "3");
	has(err, "unknown option '--offest'; did you mean '--offset'?");
	RUN(2, NULL, "--jsn", "users", "list");
	has(err, "did you mean '--json'?");
	RUN(2, NULL, "zzzzzzzz");
	lacks(err, "did you mean");
	/* the singular works as the plural */
	RUN(0, NULL, "clinician", "show", "{pt}");
	has(out, "Pia Contract");
	RUN(0, NULL, "user", "list");
	/* short help; the global options once, in help options */
	RUN(0, NULL, "help", "users");
	has(out, "usage: certrack users ");
	has(out, "'certrack help options'");
	lacks(out, "--insecure-http");
	RUN(0, NULL, "users", "--help");
	lacks(out, "--cacert");
	RUN(0, NULL, "help", "options");
	has(out, "--cacert FILE");
	has(out, "--insecure-http");
	has(out, "--context NAME");
	/* bash completion: commands, every global option, a command's own */
	snprintf(script, sizeof(script), "source '%s/../scripts/"
	    "certrack-completion.bash'; t() { COMP_WORDS=(\"$@\"); "
	    "COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMP_WORDS[0]='%s'; "
	    "_certrack; echo \"${COMPREPLY[*]}\"; }; t certrack --; "
	    "t certrack clinicians list --; t certrack cl; "
	    "t certrack users add --role ''", testlib_env("CERTRACK_TEST_BIN"),
	    cli);
	{
		char *argv[] = { "/bin/bash", "-c", script, NULL };

		free(out);
		free(err);
		assert_int_equal(testlib_run(argv, NULL, &out, &err), 0);
	}
	has(out, "--cacert");
	has(out, "--insecure-http");
	has(out, "--context");
	has(out, "--offset");
	has(out, "clinicians clinician");
	has(out, "admin grader clinician");
	free(out);
	free(err);
	out = err = NULL;
	/* zsh and fish ask the same */
	{
		char path[700], *text;

		snprintf(path, sizeof(path), "%s/../scripts/"
		    "certrack-completion.zsh", testlib_env("CERTRACK_TEST_BIN"));
		text = slurp(path);
		has(text, "#compdef certrack");
		has(text, "__complete");
		free(text);
		snprintf(path, sizeof(path), "%s/../scripts/"
		    "certrack-completion.fish", testlib_env("CERTRACK_TEST_BIN"));
		text = slurp(path);
		has(text, "complete -c certrack");
		has(text, "__complete");
		free(text);
	}
	/* every subcommand the completion offers is one */
	RUN(0, NULL, "__complete", "users", "");
	has(out, "revoke-token\n");
	{
		static const char *const groups[] = { "clinicians", "sessions",
		    "results", "certificates", "users", "programs", "levels",
		    "import", "context" };

		for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]);
		    g++) {
			char *subs = NULL, *e2 = NULL, *s, *save = NULL;
			const char *a[] = { "__complete", groups[g], "", NULL };

			assert_int_equal(run_args(NULL, a, NULL, &subs, &e2),
			    0);
			for (s = strtok_r(subs, "\n", &save); s != NULL;
			    s = strtok_r(NULL, "\n", &save)) {
				const char *b[] = { groups[g], s, "--help",
				    NULL };
				char *o3 = NULL, *e3 = NULL;

				if (run_args(NULL, b, NULL, &o3, &e3) != 0)
					fail_msg("'%s %s' is offered but not "
					    "a subcommand: %s", groups[g], s, e3);
				free(o3);
				free(e3);
			}
			free(subs);
			free(e2);
		}
	}
	free(out);
	free(err);
}

/* ---- 7. the messages the issue named --------------------------------------- */

/* `clinicians list --limit LIMIT --offset OFFSET` says WANT on stderr. */
static void
page_hint(const char *limit, long long offset, const char *want)
{
	char *out = NULL, *err = NULL, off[24];
	const char *a[] = { "clinicians", "list", "--limit", limit,
	    "--offset", off, NULL };

	snprintf(off, sizeof(off), "%lld", offset);
	assert_int_equal(run_args(NULL, a, NULL, &out, &err), 0);
	assert_string_equal(err, want);
	free(out);
	free(err);
}

static void
messages(void **state)
{
	char *out = NULL, *err = NULL, script[1600], line[160];
	long long total;
	json_t *doc;

	(void)state;
	as(ADMIN);
	/* the page hint: "for more" only when there is more */
	RUN(0, NULL, "--json", "clinicians", "list", "--limit", "1");
	doc = parse(out);
	total = json_integer_value(json_object_get(doc, "total"));
	json_decref(doc);
	assert_true(total >= 3);
	snprintf(line, sizeof(line), "(1-1 of %lld; --offset 1 for more)\n",
	    total);
	page_hint("1", 0, line);
	snprintf(line, sizeof(line), "(%lld-%lld of %lld)\n", total - 1,
	    total, total);
	page_hint("2", total - 2, line);
	snprintf(line, sizeof(line), "(%lld-%lld of %lld; --offset %lld for "
	    "more)\n", total - 2, total - 1, total, total - 1);
	page_hint("2", total - 3, line);

	/* --quiet into a file or /dev/null: exit 0, the ids */
	snprintf(script, sizeof(script), "'%s' --quiet users list > /dev/null "
	    "&& '%s' --quiet users list > \"$HOME/ids\" && cat \"$HOME/ids\"",
	    cli, cli);
	{
		char *argv[] = { "/bin/sh", "-c", script, NULL };
		for (int k = 0; k < 5; k++) {
			free(out);
			free(err);
			assert_int_equal(testlib_run(argv, NULL, &out, &err),
			    0);
			assert_string_equal(out, "1\n2\n3\n");
		}
	}

	/* passwd --password-stdin says what it reads: two lines */
	RUN(2, "only-the-current\n", "passwd", "--password-stdin");
	has(err, "no new password on standard input (two lines are "
	    "expected: the current password, then the new one)");
	lacks(err, "one line is expected");

	/* every attempt used: no "the next is 4" */
	{
		char body[200];
		snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
		    "\"DN1\",\"kind\":\"written\",\"score\":50,\"max_score\":100,\"taken_on\":"
		    "\"2025-02-10\"}", pt);
		api_id("POST", "/v1/exam-results", body, 201);
		snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
		    "\"DN1\",\"kind\":\"written\",\"score\":50,\"max_score\":100,\"taken_on\":"
		    "\"2025-03-10\"}", pt);
		api_id("POST", "/v1/exam-results", body, 201);
	}
	RUN(1, NULL, "results", "record", "{pt}", "DN1", "written", "80",
	    "--on", "2025-04-10", "--attempt", "2");
	has(err, "attempt 2 is already recorded, and all 3 attempts at the "
	    "written exam are used");
	lacks(err, "the next is 4");

	/* an unknown profession names the command that lists them */
	RUN(1, NULL, "clinicians", "add", "--given", "H", "--family", "Erb",
	    "--email", "herb@example.org", "--profession", "Herbalist");
	has(err, "(see 'certrack professions')");
	lacks(err, "GET /v1/professions");
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_list),
		cmocka_unit_test(empty_list),
		cmocka_unit_test(every_failure),
		cmocka_unit_test(public_reads),
		cmocka_unit_test(confirmations),
		cmocka_unit_test(manners),
		cmocka_unit_test(messages),
		cmocka_unit_test(contexts),
	};

	return cmocka_run_group_tests_name("e2e_cli_contract", tests, setup,
	    teardown);
}
