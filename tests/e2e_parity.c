/*
 * One reading of every value: ONE table of inputs, each run through the
 * three ways in (the API over raw HTTP, the certrack CLI, a CSV import)
 * against one certrackd, asserting the same verdict for each (accepted,
 * or refused with the same code and sentence, the CSV error naming the
 * column) and the same stored value, read back from the database.
 *
 * The one intended difference: the API takes dates as YYYY-MM-DD only,
 * while the CLI and CSV files also take M/D/YYYY (a person types it, a
 * spreadsheet writes it); rows marked api_iso say so.
 */
#include "testlib.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "certrack/cterr.h"
#include "certrack/migrate.h"

static struct testlib_world w;
static char home[600];
static int serial;		/* makes emails and session dates unique */

enum kind {
	K_STATE,	/* license_state of a new clinician */
	K_FAMILY,	/* family_name of a new clinician */
	K_LICNUM,	/* license_number of a new clinician */
	K_PROFESSION,	/* profession of a new clinician, and the list filter */
	K_DATE,		/* taken_on of an exam result */
	K_SCORE,	/* score of an exam result (out of 100) */
	K_LOCATION,	/* location of a course session */
	K_EMAIL,	/* email of a new clinician (refusals only: an
			 * accepted one would be the same person thrice) */
};

static const char *const field_of[] = {
	[K_STATE] = "license_state", [K_FAMILY] = "family_name",
	[K_LICNUM] = "license_number", [K_PROFESSION] = "profession",
	[K_DATE] = "taken_on", [K_SCORE] = "score",
	[K_LOCATION] = "location", [K_EMAIL] = "email",
};

/*
 * One input.  VALUE "@<unit><n>" stands for N copies of the character
 * UNIT ("@a100", "@é101").  STORED "=" means the value itself; NULL means
 * refused, with CODE and DETAIL (the API's problem, the CLI's stderr and
 * the CSV error message alike; CSV_OWN when the import words a refusal
 * of its own, its column still named).
 */
struct pcase {
	enum kind kind;
	const char *value;
	const char *stored;
	const char *code;
	const char *detail;
	bool api_iso;		/* M/D/YYYY: the API refuses it as a date */
	bool csv_own;
};

#define TOO_LONG(f, n) "too_long", "the field '" f "' may have at most " \
	#n " characters"
#define NOT_DATE(v) "invalid_date", "'" v "' is not a date (write YYYY-MM-DD)"
#define NOT_EMAIL(v) "invalid_email", "'" v "' is not an email address"
#define NOT_SCORE "invalid_score", "the field 'score' must be a number " \
	"from 0 to 100000 with at most 4 decimals"

static const struct pcase cases[] = {
	{ K_STATE, "tx", "TX", NULL, NULL, false, false },
	{ K_STATE, "TX", "TX", NULL, NULL, false, false },
	{ K_STATE, "T", NULL, "invalid_license_state",
	  "'T' is not a two-letter state code", false, false },
	{ K_STATE, "Texas", NULL, "invalid_license_state",
	  "'Texas' is not a two-letter state code", false, false },

	{ K_DATE, "2025-03-07", "2025-03-07", NULL, NULL, false, false },
	{ K_DATE, "3/7/2025", "2025-03-07", NOT_DATE("3/7/2025"), true,
	  false },
	{ K_DATE, "2/29/2024", "2024-02-29", NOT_DATE("2/29/2024"), true,
	  false },
	{ K_DATE, "2025-02-30", NULL, NOT_DATE("2025-02-30"), false, false },
	{ K_DATE, "2/29/2025", NULL, NOT_DATE("2/29/2025"), false, false },
	{ K_DATE, "13/1/2025", NULL, NOT_DATE("13/1/2025"), false, false },

	{ K_SCORE, "85.5", "85.5", NULL, NULL, false, false },
	{ K_SCORE, "85.50", "85.5", NULL, NULL, false, false },
	{ K_SCORE, "1e2", "100", NULL, NULL, false, false },
	{ K_SCORE, "0", "0", NULL, NULL, false, false },
	{ K_SCORE, "-1", NULL, NOT_SCORE, false, false },
	{ K_SCORE, "0.00001", NULL, NOT_SCORE, false, false },
	{ K_SCORE, "100000.5", NULL, NOT_SCORE, false, false },

	{ K_FAMILY, "@a100", "=", NULL, NULL, false, false },
	{ K_FAMILY, "@a101", NULL, TOO_LONG("family_name", 100), false,
	  false },
	{ K_FAMILY, "@\xc3\xa9" "100", "=", NULL, NULL, false, false },
	{ K_FAMILY, "@\xc3\xa9" "101", NULL, TOO_LONG("family_name", 100),
	  false, false },
	{ K_FAMILY, "@a3000", NULL, TOO_LONG("family_name", 100), false,
	  false },
	{ K_LICNUM, "@7" "32", "=", NULL, NULL, false, false },
	{ K_LICNUM, "@7" "33", NULL, TOO_LONG("license_number", 32), false,
	  false },
	{ K_LOCATION, "@L200", "=", NULL, NULL, false, false },
	{ K_LOCATION, "@\xe2\x82\xac" "200", "=", NULL, NULL, false, false },
	{ K_LOCATION, "@L201", NULL, TOO_LONG("location", 200), false,
	  false },
	{ K_LOCATION, "@L3000", NULL, TOO_LONG("location", 200), false,
	  false },

	{ K_EMAIL, "kim@example", NULL, NOT_EMAIL("kim@example"), false,
	  false },
	{ K_EMAIL, "kim@.example.org", NULL, NOT_EMAIL("kim@.example.org"),
	  false, false },
	{ K_EMAIL, "kim@example.org.", NULL, NOT_EMAIL("kim@example.org."),
	  false, false },
	{ K_EMAIL, "kim ng@example.org", NULL,
	  NOT_EMAIL("kim ng@example.org"), false, false },
	{ K_EMAIL, "kim,ng@example.org", NULL,
	  NOT_EMAIL("kim,ng@example.org"), false, false },
	{ K_EMAIL, "kim@ng@example.org", NULL,
	  NOT_EMAIL("kim@ng@example.org"), false, false },

	{ K_PROFESSION, "Physical Therapist", "PT", NULL, NULL, false, false },
	{ K_PROFESSION, "pt", "PT", NULL, NULL, false, false },
	{ K_PROFESSION, "DPT", "PT", NULL, NULL, false, false },
	{ K_PROFESSION, "Astronaut", NULL, "unknown_profession",
	  "'Astronaut' is not a known profession (see GET /v1/professions)",
	  false, true },
};

/* What one way in made of an input. */
struct outcome {
	bool accepted;
	char *code;		/* API: the problem code */
	char *message;		/* API detail, CLI stderr, CSV error message */
	char *column;		/* CSV: the error's column */
	char *stored;		/* the value in the database, or NULL */
};

static void
outcome_release(struct outcome *o)
{
	free(o->code);
	free(o->message);
	free(o->column);
	free(o->stored);
	memset(o, 0, sizeof(*o));
}

/* The value an input stands for (caller frees). */
static char *
expand(const char *v)
{
	if (v[0] != '@')
		return strdup(v);
	/* "@<one UTF-8 character><count>" */
	size_t ulen = 1;
	while ((((unsigned char)v[1 + ulen]) & 0xC0) == 0x80)
		ulen++;
	long n = strtol(v + 1 + ulen, NULL, 10);
	char *s = malloc(ulen * (size_t)n + 1);
	assert_non_null(s);
	for (long i = 0; i < n; i++)
		memcpy(s + (size_t)i * ulen, v + 1, ulen);
	s[ulen * (size_t)n] = '\0';
	return s;
}

static json_t *
parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text ? text : "", 0, &jerr);

	if (j == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, text);
	return j;
}

static char *
jdup(const json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s ? strdup(s) : NULL;
}

/* SQL's one value of QUERY (caller frees; NULL for no row or NULL). */
static char *
db_value(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *
db_value(const char *fmt, ...)
{
	char sql[600];
	va_list ap;
	PGresult *res;
	char *v = NULL;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	res = PQexec(w.db, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		fail_msg("%s: %s", sql, PQerrorMessage(w.db));
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* ---- the things each input needs around it ------------------------- */

/* A new clinician enrolled in DN1 (for exam results); its id. */
static long long
enrolled_clinician(char *email, size_t len)
{
	char body[300], *resp = NULL;
	long long id;
	json_t *j;
	int st;

	snprintf(email, len, "r%d@example.org", ++serial);
	snprintf(body, sizeof(body), "{\"given_name\": \"Ria\", "
	    "\"family_name\": \"Diaz\", \"email\": \"%s\", \"profession\": "
	    "\"PT\"}", email);
	st = testlib_api(w.port, "POST", "/v1/clinicians", w.admin, body,
	    &resp);
	if (st != 201)
		fail_msg("making a clinician: %d %s", st, resp);
	j = parse(resp);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(resp);
	snprintf(body, sizeof(body), "{\"clinician_id\": %lld, \"level\": "
	    "\"DN1\"}", id);
	st = testlib_api(w.port, "POST", "/v1/enrollments", w.admin, body,
	    &resp);
	if (st != 201)
		fail_msg("enrolling: %d %s", st, resp);
	free(resp);
	return id;
}

/* A CSV field, quoted (quotes doubled). */
static void
csv_field(char *out, size_t len, const char *v, bool last)
{
	size_t o = 0;

	out[o++] = '"';
	for (; *v != '\0' && o + 4 < len; v++) {
		if (*v == '"')
			out[o++] = '"';
		out[o++] = *v;
	}
	out[o++] = '"';
	out[o++] = last ? '\n' : ',';
	out[o] = '\0';
}

/* ---- the three ways in ----------------------------------------------- */

/*
 * Where input C with value V goes, per way: the clinician fields (or
 * the exam result or the session) around it, with unique emails and
 * dates.  Fills KEY with what finds the stored row afterwards.
 */
struct target {
	char email[64];		/* clinicians, results */
	long long clinician;	/* results */
	char day[16];		/* sessions: the start date */
};

static void
target_new(const struct pcase *c, struct target *t)
{
	memset(t, 0, sizeof(*t));
	if (c->kind == K_DATE || c->kind == K_SCORE) {
		t->clinician = enrolled_clinician(t->email, sizeof(t->email));
	} else if (c->kind == K_LOCATION) {
		serial++;
		snprintf(t->day, sizeof(t->day), "2024-%02d-%02d",
		    1 + serial / 28 % 12, 1 + serial % 28);
		snprintf(t->email, sizeof(t->email), "s%d@example.org",
		    serial);
	} else {
		snprintf(t->email, sizeof(t->email), "c%d@example.org",
		    ++serial);
	}
}

/* What the database holds for input C at T (caller frees), or NULL. */
static char *
stored(const struct pcase *c, const struct target *t)
{
	switch (c->kind) {
	case K_STATE:
	case K_FAMILY:
	case K_LICNUM:
	case K_EMAIL:
	case K_PROFESSION: {
		static const char *const col[] = { [K_STATE] = "license_state",
		    [K_FAMILY] = "family_name", [K_LICNUM] = "license_number",
		    [K_EMAIL] = "email", [K_PROFESSION] = "profession_code" };
		return db_value("SELECT %s FROM clinicians WHERE email = '%s'",
		    col[c->kind], t->email);
	}
	case K_DATE:
		return db_value("SELECT taken_on::text FROM exam_results "
		    "WHERE clinician_id = %lld", t->clinician);
	case K_SCORE:
		return db_value("SELECT score::text FROM exam_results "
		    "WHERE clinician_id = %lld", t->clinician);
	case K_LOCATION:
		return db_value("SELECT location FROM course_sessions "
		    "WHERE starts_on = '%s'", t->day);
	}
	return NULL;
}

/* The clinician fields with input C's one replaced by V. */
static json_t *
clinician_body(const struct pcase *c, const char *v, const char *email)
{
	json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "given_name", "Kim",
	    "family_name", "Ng", "email", email, "profession", "PT");

	assert_non_null(b);
	json_object_set_new(b, field_of[c->kind], json_string(v));
	return b;
}

static void
via_api(const struct pcase *c, const char *v, const struct target *t,
    struct outcome *o)
{
	char *text = NULL, *resp = NULL;
	const char *path;
	size_t len = 400;
	json_t *b = NULL;
	int st;

	switch (c->kind) {
	case K_DATE:
	case K_SCORE:
		/* raw: a score goes in as the JSON number token typed */
		path = "/v1/exam-results";
		text = malloc(len);
		assert_non_null(text);
		snprintf(text, len, "{\"clinician_id\": %lld, \"level\": "
		    "\"DN1\", \"kind\": \"written\", \"score\": %s, "
		    "\"max_score\": 100, \"taken_on\": \"%s\"}", t->clinician,
		    c->kind == K_SCORE ? v : "85", c->kind == K_DATE ? v :
		    "2025-03-07");
		break;
	case K_LOCATION:
		path = "/v1/sessions";
		b = json_pack("{s:s, s:s, s:s, s:s}", "level", "DN1",
		    "starts_on", t->day, "ends_on", t->day, "location", v);
		text = json_dumps(b, 0);
		break;
	default:
		path = "/v1/clinicians";
		b = clinician_body(c, v, t->email);
		text = json_dumps(b, 0);
		break;
	}
	json_decref(b);
	st = testlib_api(w.port, "POST", path, w.admin, text, &resp);
	free(text);
	json_t *j = parse(resp);
	o->accepted = st == 201;
	if (!o->accepted) {
		if (st != 422)
			fail_msg("POST %s answered %d: %s", path, st, resp);
		o->code = jdup(j, "code");
		o->message = jdup(j, "detail");
		o->column = jdup(j, "field");
	}
	json_decref(j);
	free(resp);
}

static void
via_cli(const struct pcase *c, const char *v, const struct target *t,
    struct outcome *o)
{
	char *out = NULL, *err = NULL, id[24];
	int rc;

	switch (c->kind) {
	case K_DATE:
	case K_SCORE:
		snprintf(id, sizeof(id), "%lld", t->clinician);
		/* "--" so that a score such as -1 is an operand */
		rc = testlib_cli(NULL, &out, &err, "results", "record", "--on",
		    c->kind == K_DATE ? v : "2025-03-07", "--", id, "DN1",
		    "written", c->kind == K_SCORE ? v : "85", NULL);
		break;
	case K_LOCATION:
		rc = testlib_cli(NULL, &out, &err, "sessions", "add", "DN1",
		    "--starts", t->day, "--location", v, NULL);
		break;
	default: {
		json_t *b = clinician_body(c, v, t->email);
		rc = testlib_cli(NULL, &out, &err, "clinicians", "add",
		    "--given", json_string_value(json_object_get(b,
		    "given_name")), "--family", json_string_value(
		    json_object_get(b, "family_name")), "--email",
		    c->kind == K_EMAIL ? v : t->email,
		    "--profession", json_string_value(json_object_get(b,
		    "profession")), c->kind == K_STATE ? "--license-state" :
		    "--license-number", c->kind == K_STATE ? v :
		    c->kind == K_LICNUM ? v : "L-1", NULL);
		json_decref(b);
		break;
	}
	}
	o->accepted = rc == 0;
	if (!o->accepted) {
		if (rc != 1 && rc != 2)
			fail_msg("certrack exited %d: %s", rc, err);
		o->message = strdup(err);
	}
	free(out);
	free(err);
}

static void
via_csv(const struct pcase *c, const char *v, const struct target *t,
    struct outcome *o)
{
	static const char *const roster_cols[] = { "given_name",
	    "family_name", "email", "profession", "license_state",
	    "license_number", "level", "course_start", "course_end",
	    "location" };
	char *body = malloc(20000), field[16000], hdr[300], *resp = NULL;
	const char *query;
	size_t n = 0;
	int st;

	assert_non_null(body);
	body[0] = '\0';
	if (c->kind == K_DATE || c->kind == K_SCORE) {
		query = "/v1/imports?kind=results";
		n += (size_t)sprintf(body, "email,level,kind,score,max_score,"
		    "taken_on\n");
		const char *vals[] = { t->email, "DN1", "written",
		    c->kind == K_SCORE ? v : "85", "100",
		    c->kind == K_DATE ? v : "2025-03-07" };
		for (int i = 0; i < 6; i++) {
			csv_field(field, sizeof(field), vals[i], i == 5);
			n += (size_t)sprintf(body + n, "%s", field);
		}
	} else {
		query = "/v1/imports?kind=roster";
		for (int i = 0; i < 10; i++)
			n += (size_t)sprintf(body + n, "%s%s", roster_cols[i],
			    i == 9 ? "\n" : ",");
		const char *vals[] = { "Kim", "Ng", t->email, "PT", "CO",
		    "L-1", "DN1", t->day[0] ? t->day : "", t->day[0] ?
		    t->day : "", "" };
		for (int i = 0; i < 10; i++) {
			const char *x = strcmp(roster_cols[i],
			    field_of[c->kind]) == 0 ? v : vals[i];
			csv_field(field, sizeof(field), x, i == 9);
			n += (size_t)sprintf(body + n, "%s", field);
		}
	}
	snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
	    "Authorization: Bearer %s\r\n", w.admin);
	st = testlib_http(w.port, "POST", query, hdr, body, &resp);
	free(body);
	json_t *j = parse(resp);
	o->accepted = st == 201;
	if (!o->accepted) {
		json_t *e = json_array_get(json_object_get(j, "errors"), 0);
		if (st != 422 || json_array_size(json_object_get(j,
		    "errors")) != 1)
			fail_msg("import answered %d: %s", st, resp);
		o->message = jdup(e, "message");
		o->column = jdup(e, "column");
	}
	json_decref(j);
	free(resp);
}

static const char *const way_name[] = { "API", "CLI", "CSV" };

/* DETAIL as the CLI says it: where the API names a route, the CLI names
 * the command that shows the same ("(see 'certrack professions')"). */
static void
cli_words(const char *detail, char *buf, size_t len)
{
	static const char api[] = "(see GET /v1/professions)";
	const char *at = strstr(detail, api);

	if (at == NULL)
		snprintf(buf, len, "%s", detail);
	else
		snprintf(buf, len, "%.*s(see 'certrack professions')%s",
		    (int)(at - detail), detail, at + strlen(api));
}

static void
check(const struct pcase *c, int way, const struct outcome *o,
    const char *v)
{
	bool refused = c->stored == NULL || (way == 0 && c->api_iso);
	char what[200], said[600];

	snprintf(what, sizeof(what), "%s of %s '%.40s'", way_name[way],
	    field_of[c->kind], c->value);
	if (refused) {
		if (o->accepted)
			fail_msg("%s: accepted (stored '%.60s'), expected %s",
			    what, o->stored ? o->stored : "", c->code);
		if (o->stored != NULL)
			fail_msg("%s: refused, but '%.60s' was stored", what,
			    o->stored);
		switch (way) {
		case 0:
			if (strcmp(o->code, c->code) != 0 ||
			    strcmp(o->message, c->detail) != 0 ||
			    strcmp(o->column, field_of[c->kind]) != 0)
				fail_msg("%s: %s (%s) '%s', expected %s '%s'",
				    what, o->code, o->column, o->message,
				    c->code, c->detail);
			break;
		case 1:
			cli_words(c->detail, said, sizeof(said));
			if (strstr(o->message, said) == NULL)
				fail_msg("%s: stderr '%s', expected '%s'",
				    what, o->message, said);
			break;
		case 2:
			if (o->column == NULL ||
			    strcmp(o->column, field_of[c->kind]) != 0 ||
			    (!c->csv_own && strcmp(o->message, c->detail) != 0))
				fail_msg("%s: column %s '%s', expected %s '%s'",
				    what, o->column, o->message,
				    field_of[c->kind], c->detail);
			break;
		}
		return;
	}
	if (!o->accepted)
		fail_msg("%s: refused '%s', expected '%.60s' stored", what,
		    o->message, c->stored);
	const char *want = strcmp(c->stored, "=") == 0 ? v : c->stored;
	if (o->stored == NULL || strcmp(o->stored, want) != 0)
		fail_msg("%s: stored '%.60s', expected '%.60s'", what,
		    o->stored ? o->stored : "(nothing)", want);
}

static void
one_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		char *v = expand(c->value);

		for (int way = 0; way < 3; way++) {
			struct outcome o = { 0 };
			struct target t;

			target_new(c, &t);
			if (way == 0)
				via_api(c, v, &t, &o);
			else if (way == 1)
				via_cli(c, v, &t, &o);
			else
				via_csv(c, v, &t, &o);
			o.stored = stored(c, &t);
			check(c, way, &o, v);
			outcome_release(&o);
		}
		free(v);
	}
}

/*
 * The list filter reads a profession as writes do: code or any alias,
 * any case; an unknown one is refused, not answered with nobody.  The CLI
 * prints the API's own answer with --json.
 */
static void
profession_filter(void **state)
{
	static const char *const spellings[] = { "Physical%20Therapist", "pt",
	    "DPT", "PT" };
	static const char *const typed[] = { "Physical Therapist", "pt", "DPT",
	    "PT" };
	char path[200], *resp = NULL, *out = NULL, *err = NULL;
	long long total = -1;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "/v1/clinicians?profession=%s&"
		    "limit=500", spellings[i]);
		assert_int_equal(testlib_api(w.port, "GET", path, w.admin,
		    NULL, &resp), 200);
		json_t *j = parse(resp), *it;
		size_t k;
		/* every one of them, and only PTs */
		if (total < 0)
			total = json_integer_value(json_object_get(j,
			    "total"));
		assert_int_equal(json_integer_value(json_object_get(j,
		    "total")), total);
		json_array_foreach(json_object_get(j, "items"), k, it)
			assert_string_equal(json_string_value(
			    json_object_get(it, "profession")), "PT");
		int rc = testlib_cli(NULL, &out, &err, "clinicians", "list",
		    "--profession", typed[i], "--limit", "500", "--json", NULL);
		assert_int_equal(rc, 0);
		json_t *cli = parse(out);
		assert_true(json_equal(cli, j));
		json_decref(cli);
		json_decref(j);
		free(resp);
		free(out);
		free(err);
	}
	char *n = db_value("SELECT count(*) FROM clinicians "
	    "WHERE profession_code = 'PT'");
	assert_int_equal(total, strtoll(n, NULL, 10));
	assert_true(total >= 20);	/* the table above made many */
	free(n);

	assert_int_equal(testlib_api(w.port, "GET",
	    "/v1/clinicians?profession=Astronaut", w.admin, NULL, &resp), 422);
	json_t *j = parse(resp);
	assert_string_equal(json_string_value(json_object_get(j, "code")),
	    "unknown_profession");
	int rc = testlib_cli(NULL, &out, &err, "clinicians", "list",
	    "--profession", "Astronaut", NULL);
	assert_int_equal(rc, 1);
	{
		char said[600];

		cli_words(json_string_value(json_object_get(j, "detail")), said,
		    sizeof(said));
		testlib_has(err, said);
	}
	json_decref(j);
	free(resp);
	free(out);
	free(err);
}

/*
 * The database holds the same limits as CHECK constraints (0008): the
 * last line behind the readers, on the exact boundary, counted in
 * characters as the readers count them.
 */
static void
database_last_line(void **state)
{
	static const struct {
		const char *sql;	/* %s: repeat(unit, n) */
		int max;
	} rows[] = {
		{ "INSERT INTO clinicians (email, given_name, family_name, "
		  "profession_code) VALUES ('db%d@example.org', %s, 'F', 'PT')",
		  100 },
		{ "INSERT INTO clinicians (email, given_name, family_name, "
		  "profession_code) VALUES ('db%d@example.org', 'G', %s, 'PT')",
		  100 },
		{ "INSERT INTO clinicians (email, given_name, family_name, "
		  "profession_code, license_number) VALUES "
		  "('db%d@example.org', 'G', 'F', 'PT', %s)", 32 },
		{ "INSERT INTO course_sessions (level_id, starts_on, ends_on, "
		  "location) SELECT id, date '2023-01-01' + %d, '2023-02-01', "
		  "%s FROM levels WHERE code = 'DN1'", 200 },
		{ "INSERT INTO course_sessions (level_id, starts_on, ends_on, "
		  "instructor) SELECT id, '2022-01-01', date '2022-01-01' + %d, "
		  "%s FROM levels WHERE code = 'DN1'", 200 },
		{ "UPDATE levels SET title = %2$s WHERE code = 'DN2' AND "
		  "%1$d > 0", 200 },
	};
	char sql[600], rep[80];
	int n = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* the limit in two-byte characters is stored; one more is not
		 * (the row's own number takes characters of the location and
		 * title, so those repeat one fewer) */
		int own = strstr(rows[i].sql, "%d ||") ? 1 : 0;
		snprintf(rep, sizeof(rep), "repeat('\xc3\xa9', %d)",
		    rows[i].max - own);
		snprintf(sql, sizeof(sql), rows[i].sql, ++n, rep);
		testdb_exec_ok(w.db, sql);
		snprintf(rep, sizeof(rep), "repeat('\xc3\xa9', %d)",
		    rows[i].max + 1 - own);
		snprintf(sql, sizeof(sql), rows[i].sql, ++n, rep);
		testdb_exec_fails(w.db, sql, "23514");
	}
	/* every limit is there, validated on a fresh database */
	char *v = db_value("SELECT count(*) FROM pg_constraint WHERE conname "
	    "IN ('clinicians_given_name_length', 'clinicians_family_name_length',"
	    " 'clinicians_license_number_length', "
	    "'course_sessions_location_length', "
	    "'course_sessions_instructor_length', 'levels_title_length', "
	    "'exam_results_amend_reason_length', "
	    "'certificates_revocation_reason_length') AND convalidated");
	assert_string_equal(v, "8");
	free(v);
}

/*
 * A database in the field that already holds a value longer than a new
 * limit still migrates: that constraint stays NOT VALID (the others are
 * validated), the old row stays, and a new long value is refused.
 */
static void
old_long_rows_still_migrate(void **state)
{
	char *ci = testdb_create("parity_old_rows");
	PGconn *conn = testdb_connect(ci);
	struct migration_set all, upto;
	struct cterr err;
	size_t k = 0;
	int applied;

	(void)state;
	cterr_clear(&err);
	assert_int_equal(migrate_set_embedded(&all, &err), 0);
	while (k < all.n && strcmp(all.v[k].name, "0008_lengths.sql") != 0)
		k++;
	assert_true(k < all.n);
	upto.v = all.v;
	upto.n = k;		/* everything before 0008 */
	assert_int_equal(migrate_apply(conn, &upto, &applied, &err), 0);
	testdb_exec_ok(conn, "INSERT INTO clinicians (email, given_name, "
	    "family_name, profession_code, license_number) VALUES "
	    "('old@example.org', 'Old', 'Row', 'PT', repeat('9', 40))");
	upto.n = k + 1;
	if (migrate_apply(conn, &upto, &applied, &err) != 0)
		fail_msg("0008 refused an old database: %s", err.detail);
	assert_int_equal(applied, 1);
	char *v = testdb_value(conn, "SELECT string_agg(conname, ',' ORDER BY "
	    "conname) FROM pg_constraint WHERE conname LIKE '%\\_length' "
	    "AND NOT convalidated");
	assert_string_equal(v, "clinicians_license_number_length");
	free(v);
	v = testdb_value(conn, "SELECT length(license_number) FROM clinicians");
	assert_string_equal(v, "40");
	free(v);
	testdb_exec_fails(conn, "INSERT INTO clinicians (email, given_name, "
	    "family_name, profession_code, license_number) VALUES "
	    "('new@example.org', 'New', 'Row', 'PT', repeat('9', 33))",
	    "23514");
	migrate_set_release(&all);
	PQfinish(conn);
	free(ci);
}

static int
setup(void **state)
{
	char url[64];

	(void)state;
	testlib_world_up(&w, "e2e_parity");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", w.port);
	snprintf(home, sizeof(home), "%s/parity-home",
	    testlib_env("CERTRACK_TEST_TMP"));
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	setenv("CERTRACK_URL", url, 1);
	setenv("CERTRACK_TOKEN", w.admin, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_table),
		cmocka_unit_test(profession_filter),
		cmocka_unit_test(database_last_line),
		cmocka_unit_test(old_long_rows_still_migrate),
	};

	return cmocka_run_group_tests_name("e2e_parity", tests, setup,
	    teardown);
}
