/*
 * The API's own machinery over raw HTTP against a real certrackd:
 * clinicians (create, read, search, update with optimistic concurrency),
 * accounts (disable, reset, tokens), what bad requests answer, the audit
 * row of every write, and /metrics.
 */
#include "testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static PGconn *db;
static char *conninfo;
static int port;
static char *admin_token, *grader_token;
static struct testlib_world w;

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_api");
	conninfo = w.conninfo;
	db = w.db;
	port = w.port;
	admin_token = w.admin;
	grader_token = w.grader;
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

static long
count(const char *sql)
{
	char *v = testdb_value(db, sql);
	long n = v ? strtol(v, NULL, 10) : -1;

	free(v);
	return n;
}

#define parse testlib_json

/* The problem code of an error answer. */
static void
assert_problem(const char *body, const char *code, const char *field)
{
	json_t *j = parse(body);

	assert_string_equal(json_string_value(json_object_get(j, "code")),
	    code);
	if (field != NULL)
		assert_string_equal(json_string_value(json_object_get(j,
		    "field")), field);
	assert_non_null(json_string_value(json_object_get(j, "detail")));
	json_decref(j);
}

static long long
create_clinician(const char *email, const char *npi)
{
	char body[512], *resp = NULL;
	long long id;
	json_t *j;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"given_name\":"
	    "\"Jane\",\"family_name\":\"Roe\",\"profession\":\"Physical "
	    "Therapist\"%s%s%s}", email, npi ? ",\"npi\":\"" : "",
	    npi ? npi : "", npi ? "\"" : "");
	assert_int_equal(testlib_api(port, "POST", "/v1/clinicians",
	    admin_token, body, &resp), 201);
	j = parse(resp);
	id = json_integer_value(json_object_get(j, "id"));
	assert_string_equal(json_string_value(json_object_get(j,
	    "profession")), "PT");
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
	json_decref(j);
	free(resp);
	return id;
}

static void
clinician_create_read_search(void **state)
{
	char path[64], *resp = NULL;
	long long id;
	json_t *j;

	(void)state;
	long audits = count("SELECT count(*) FROM audit_log");
	id = create_clinician("jane.roe@example.org", "1234567893");
	assert_int_equal(count("SELECT count(*) FROM audit_log"), audits + 1);
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE action = "
	    "'clinician.create' AND actor_name = 'admin' AND before IS NULL "
	    "AND after ->> 'email' = 'jane.roe@example.org'"), 1);

	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	assert_int_equal(testlib_api(port, "GET", path, grader_token, NULL,
	    &resp), 200);
	j = parse(resp);
	assert_string_equal(json_string_value(json_object_get(j, "npi")),
	    "1234567893");
	json_decref(j);
	free(resp);

	/* search by name prefix, any case; by email; by NPI */
	const char *queries[] = { "/v1/clinicians?q=ro",
	    "/v1/clinicians?q=JANE%20R", "/v1/clinicians?email=JANE.ROE@example.org",
	    "/v1/clinicians?npi=1234567893" };
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(testlib_api(port, "GET", queries[i],
		    grader_token, NULL, &resp), 200);
		j = parse(resp);
		assert_int_equal(json_integer_value(json_object_get(j,
		    "total")), 1);
		json_decref(j);
		free(resp);
	}
	assert_int_equal(testlib_api(port, "GET", "/v1/clinicians?q=zzz",
	    grader_token, NULL, &resp), 200);
	j = parse(resp);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 0);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 0);
	json_decref(j);
	free(resp);
}

static void
clinician_pagination(void **state)
{
	char email[64], *resp = NULL;
	json_t *j;

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(email, sizeof(email), "page%d@example.org", i);
		char body[300];
		snprintf(body, sizeof(body), "{\"email\":\"%s\",\"given_name\":"
		    "\"P%d\",\"family_name\":\"Pager\",\"profession\":\"MD\"}",
		    email, i);
		assert_int_equal(testlib_api(port, "POST", "/v1/clinicians",
		    admin_token, body, NULL), 201);
	}
	assert_int_equal(testlib_api(port, "GET",
	    "/v1/clinicians?q=pager&limit=2&offset=2", grader_token, NULL,
	    &resp), 200);
	j = parse(resp);
	assert_int_equal(json_integer_value(json_object_get(j, "total")), 5);
	json_t *items = json_object_get(j, "items");
	assert_int_equal(json_array_size(items), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(items, 0), "given_name")), "P2");
	json_decref(j);
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/clinicians?limit=0",
	    grader_token, NULL, &resp), 400);
	assert_problem(resp, "invalid_parameter", "limit");
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/clinicians?limit=2x",
	    grader_token, NULL, &resp), 400);
	free(resp);
}

struct bad_case {
	const char *method, *path, *body, *code, *field;
	int status;
};

static void
bad_requests_change_nothing(void **state)
{
	static const struct bad_case cases[] = {
		{ "POST", "/v1/clinicians", "{\"email\":", "malformed_json",
		  NULL, 400 },
		{ "POST", "/v1/clinicians", "[1,2]", "malformed_json", NULL,
		  400 },
		{ "POST", "/v1/clinicians", NULL, "missing_body", NULL, 400 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "\"A\",\"family_name\":\"B\",\"profession\":\"PT\",\"age\":3}",
		  "unknown_field", "age", 400 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "\"A\",\"profession\":\"PT\"}", "missing_field",
		  "family_name", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "7,\"family_name\":\"B\",\"profession\":\"PT\"}", "wrong_type",
		  "given_name", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "\"  \",\"family_name\":\"B\",\"profession\":\"PT\"}",
		  "wrong_type", "given_name", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "\"A\",\"family_name\":\"B\",\"profession\":\"PT\",\"npi\":"
		  "\"1234567890\"}", "invalid_npi", "npi", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"not-an-email\","
		  "\"given_name\":\"A\",\"family_name\":\"B\",\"profession\":"
		  "\"PT\"}", "invalid_email", "email", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "\"A\",\"family_name\":\"B\",\"profession\":\"Plumber\"}",
		  "unknown_profession", "profession", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"given_name\":"
		  "\"A\",\"family_name\":\"B\",\"profession\":\"PT\","
		  "\"license_state\":\"Texas\"}", "invalid_license_state",
		  "license_state", 422 },
		{ "POST", "/v1/clinicians", "{\"email\":\"a@b.org\",\"email\":"
		  "\"c@d.org\"}", "malformed_json", NULL, 400 },
		{ "GET", "/v1/clinicians/abc", NULL, "not_found", "id", 404 },
		{ "GET", "/v1/clinicians/0", NULL, "not_found", "id", 404 },
		{ "GET", "/v1/clinicians/99999999999999999999", NULL,
		  "not_found", "id", 404 },
		{ "GET", "/v1/clinicians/424242", NULL, "not_found", NULL, 404 },
		{ "DELETE", "/v1/clinicians/1", NULL, "method_not_allowed",
		  NULL, 405 },
		{ "GET", "/v1/nothing-here", NULL, "not_found", NULL, 404 },
		{ "PATCH", "/v1/clinicians/1", "{\"given_name\":\"X\"}",
		  "version_required", "version", 428 },
	};
	char *resp = NULL;

	(void)state;
	long before = count("SELECT count(*) FROM clinicians");
	long audits = count("SELECT count(*) FROM audit_log");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *c = &cases[i];
		int st = testlib_api(port, c->method, c->path, admin_token,
		    c->body, &resp);
		if (st != c->status)
			fail_msg("case %zu: %s %s answered %d, expected %d: %s",
			    i, c->method, c->path, st, c->status, resp);
		assert_problem(resp, c->code, c->field);
		free(resp);
	}
	/* A body of the wrong media type. */
	assert_int_equal(testlib_http(port, "POST", "/v1/clinicians",
	    "Content-Type: text/plain\r\nAuthorization: Bearer x\r\n", "{}",
	    &resp), 401);
	free(resp);
	char hdr[200];
	snprintf(hdr, sizeof(hdr), "Content-Type: text/plain\r\n"
	    "Authorization: Bearer %s\r\n", admin_token);
	assert_int_equal(testlib_http(port, "POST", "/v1/clinicians", hdr,
	    "{}", &resp), 415);
	assert_problem(resp, "unsupported_media_type", NULL);
	free(resp);
	/* An oversize body: 2 MiB against the 1 MiB default. */
	size_t big = 2u << 20;
	char *huge = malloc(big + 1);
	memset(huge, ' ', big);
	huge[0] = '{';
	huge[big - 1] = '}';
	huge[big] = '\0';
	assert_int_equal(testlib_api(port, "POST", "/v1/clinicians",
	    admin_token, huge, &resp), 413);
	assert_problem(resp, "body_too_large", NULL);
	free(resp);
	free(huge);

	assert_int_equal(count("SELECT count(*) FROM clinicians"), before);
	assert_int_equal(count("SELECT count(*) FROM audit_log"), audits);
}

static void
duplicate_npi_and_email(void **state)
{
	char *resp = NULL;

	(void)state;
	create_clinician("dup@example.org", "1245319599");
	long audits = count("SELECT count(*) FROM audit_log");
	assert_int_equal(testlib_api(port, "POST", "/v1/clinicians",
	    admin_token, "{\"email\":\"DUP@example.org\",\"given_name\":\"A\","
	    "\"family_name\":\"B\",\"profession\":\"PT\"}", &resp), 409);
	assert_problem(resp, "duplicate", "email");
	free(resp);
	assert_int_equal(testlib_api(port, "POST", "/v1/clinicians",
	    admin_token, "{\"email\":\"other@example.org\",\"given_name\":"
	    "\"A\",\"family_name\":\"B\",\"profession\":\"PT\",\"npi\":"
	    "\"1245319599\"}", &resp), 409);
	assert_problem(resp, "duplicate", "npi");
	free(resp);
	assert_int_equal(count("SELECT count(*) FROM audit_log"), audits);
}

static void
update_with_versions(void **state)
{
	long long id = create_clinician("versions@example.org", NULL);
	char path[64], *resp = NULL;
	json_t *j;

	(void)state;
	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	/* By If-Match */
	char hdr[300];
	snprintf(hdr, sizeof(hdr), "Content-Type: application/json\r\n"
	    "Authorization: Bearer %s\r\nIf-Match: \"1\"\r\n", admin_token);
	assert_int_equal(testlib_http(port, "PATCH", path, hdr,
	    "{\"family_name\":\"Doe\",\"license_state\":\"TX\"}", &resp), 200);
	j = parse(resp);
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 2);
	assert_string_equal(json_string_value(json_object_get(j,
	    "family_name")), "Doe");
	json_decref(j);
	free(resp);
	/* The same If-Match again is stale now. */
	assert_int_equal(testlib_http(port, "PATCH", path, hdr,
	    "{\"family_name\":\"Lost\"}", &resp), 412);
	assert_problem(resp, "version_mismatch", "version");
	free(resp);
	/* By a version field; null clears an optional field. */
	assert_int_equal(testlib_api(port, "PATCH", path, admin_token,
	    "{\"version\":2,\"license_state\":null}", &resp), 200);
	j = parse(resp);
	assert_true(json_is_null(json_object_get(j, "license_state")));
	assert_int_equal(json_integer_value(json_object_get(j, "version")), 3);
	json_decref(j);
	free(resp);
	/* A required field cannot be cleared. */
	assert_int_equal(testlib_api(port, "PATCH", path, admin_token,
	    "{\"version\":3,\"email\":null}", &resp), 422);
	assert_problem(resp, "null_field", "email");
	free(resp);
	char sql[200];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log WHERE "
	    "action = 'clinician.update' AND entity_id = '%lld' AND before ->> "
	    "'family_name' = 'Roe' AND after ->> 'family_name' = 'Doe'", id);
	assert_int_equal(count(sql), 1);
	snprintf(sql, sizeof(sql), "SELECT family_name FROM clinicians "
	    "WHERE id = %lld", id);
	char *name = testdb_value(db, sql);
	assert_string_equal(name, "Doe");
	free(name);
}

struct racer {
	const char *path;
	int status;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	r->status = testlib_api(port, "PATCH", r->path, admin_token,
	    "{\"version\":1,\"given_name\":\"Racer\"}", NULL);
	return NULL;
}

static void
concurrent_updates_one_wins(void **state)
{
	char path[64], sql[200];

	(void)state;
	for (int round = 0; round < 5; round++) {
		char email[64];
		snprintf(email, sizeof(email), "race%d@example.org", round);
		long long id = create_clinician(email, NULL);
		snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
		struct racer a = { path, 0 }, b = { path, 0 };
		pthread_t ta, tb;
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		assert_true((a.status == 200 && b.status == 412) ||
		    (a.status == 412 && b.status == 200));
		snprintf(sql, sizeof(sql), "SELECT version FROM clinicians "
		    "WHERE id = %lld", id);
		assert_int_equal(count(sql), 2);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log "
		    "WHERE action = 'clinician.update' AND entity_id = '%lld'",
		    id);
		assert_int_equal(count(sql), 1);
	}
}

static void
accounts_disable_and_tokens(void **state)
{
	char *resp = NULL, path[64];
	json_t *j;

	(void)state;
	assert_int_equal(testlib_api(port, "POST", "/v1/users", admin_token,
	    "{\"username\":\"temp\",\"role\":\"grader\"}", &resp), 201);
	j = parse(resp);
	const char *pw = json_string_value(json_object_get(j, "password"));
	assert_non_null(pw);
	long long uid = json_integer_value(json_object_get(json_object_get(j,
	    "user"), "id"));
	char *tok = testlib_login(port, "temp", pw);
	char *pwcopy = strdup(pw);
	json_decref(j);
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    200);
	/* a grader may not manage accounts */
	assert_int_equal(testlib_api(port, "GET", "/v1/users", tok, NULL,
	    NULL), 403);

	/* Disabled: the live token stops working at once, and no login. */
	snprintf(path, sizeof(path), "/v1/users/%lld", uid);
	assert_int_equal(testlib_api(port, "PATCH", path, admin_token,
	    "{\"disabled\":true}", &resp), 200);
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    401);
	char body[200];
	snprintf(body, sizeof(body), "{\"username\":\"temp\",\"password\":"
	    "\"%s\"}", pwcopy);
	assert_int_equal(testlib_api(port, "POST", "/v1/login", NULL, body,
	    &resp), 401);
	assert_problem(resp, "invalid_credentials", NULL);
	free(resp);
	free(tok);

	/* Re-enabled with a reset password: the old one no longer works. */
	assert_int_equal(testlib_api(port, "PATCH", path, admin_token,
	    "{\"disabled\":false,\"reset_password\":true}", &resp), 200);
	j = parse(resp);
	const char *pw2 = json_string_value(json_object_get(j, "password"));
	assert_non_null(pw2);
	assert_string_not_equal(pw2, pwcopy);
	tok = testlib_login(port, "TEMP", pw2);
	json_decref(j);
	free(resp);
	assert_int_equal(testlib_api(port, "POST", "/v1/login", NULL, body,
	    NULL), 401);

	/* An admin revokes a token. */
	snprintf(path, sizeof(path), "/v1/users/%lld/tokens", uid);
	assert_int_equal(testlib_api(port, "GET", path, admin_token, NULL,
	    &resp), 200);
	j = parse(resp);
	size_t n = json_array_size(j);
	assert_true(n >= 2);
	long long tid = json_integer_value(json_object_get(json_array_get(j,
	    n - 1), "id"));
	assert_null(strstr(resp, "hash"));
	json_decref(j);
	free(resp);
	snprintf(path, sizeof(path), "/v1/tokens/%lld", tid);
	assert_int_equal(testlib_api(port, "DELETE", path, admin_token, NULL,
	    NULL), 204);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    401);
	assert_int_equal(testlib_api(port, "DELETE", path, admin_token, NULL,
	    NULL), 404);
	free(tok);
	free(pwcopy);

	/* Only the hash of a token is stored. */
	assert_int_equal(count("SELECT count(*) FROM api_tokens WHERE "
	    "octet_length(token_hash) <> 32"), 0);
	/* The last admin cannot lock everyone out. */
	assert_int_equal(testlib_api(port, "PATCH", "/v1/users/1", admin_token,
	    "{\"disabled\":true}", &resp), 409);
	assert_problem(resp, "last_admin", NULL);
	free(resp);
	assert_int_equal(testlib_api(port, "POST", "/v1/users", admin_token,
	    "{\"username\":\"Grader\",\"role\":\"grader\"}", &resp), 409);
	assert_problem(resp, "duplicate", "username");
	free(resp);
	assert_int_equal(testlib_api(port, "POST", "/v1/users", admin_token,
	    "{\"username\":\"c1\",\"role\":\"clinician\"}", &resp), 422);
	assert_problem(resp, "clinician_required", "clinician_id");
	free(resp);
}

static void
login_logout_and_password(void **state)
{
	char *resp = NULL;

	(void)state;
	assert_int_equal(testlib_api(port, "POST", "/v1/users", admin_token,
	    "{\"username\":\"pwuser\",\"role\":\"grader\",\"password\":"
	    "\"first-password\"}", &resp), 201);
	assert_null(strstr(resp, "first-password"));
	free(resp);
	char *tok = testlib_login(port, "pwuser", "first-password");
	assert_int_equal(testlib_api(port, "POST", "/v1/me/password", tok,
	    "{\"current_password\":\"wrong\",\"new_password\":"
	    "\"second-password\"}", &resp), 403);
	free(resp);
	assert_int_equal(testlib_api(port, "POST", "/v1/me/password", tok,
	    "{\"current_password\":\"first-password\",\"new_password\":"
	    "\"short\"}", &resp), 422);
	assert_problem(resp, "weak_password", "new_password");
	free(resp);
	assert_int_equal(testlib_api(port, "POST", "/v1/me/password", tok,
	    "{\"current_password\":\"first-password\",\"new_password\":"
	    "\"second-password\"}", NULL), 204);
	free(testlib_login(port, "pwuser", "second-password"));
	assert_int_equal(testlib_api(port, "POST", "/v1/logout", tok, NULL,
	    NULL), 204);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    401);
	/* unknown user and wrong password answer alike */
	assert_int_equal(testlib_api(port, "POST", "/v1/login", NULL,
	    "{\"username\":\"nobody\",\"password\":\"x\"}", &resp), 401);
	assert_problem(resp, "invalid_credentials", NULL);
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", NULL, NULL, &resp),
	    401);
	assert_problem(resp, "unauthenticated", NULL);
	free(resp);
	assert_int_equal(testlib_http(port, "GET", "/v1/me",
	    "Authorization: Basic abc\r\n", NULL, NULL), 401);
	free(tok);
	/* No password or token text in the audit log (an account's flag
	 * password_change_required is no secret). */
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE "
	    "(after - 'password_change_required')::text LIKE '%password%' "
	    "AND after::text NOT LIKE '%changed%'"), 0);
}

static void
audit_log_filters(void **state)
{
	char *resp = NULL;
	json_t *j;

	(void)state;
	assert_int_equal(testlib_api(port, "GET",
	    "/v1/audit?entity=clinician&limit=3", admin_token, NULL, &resp),
	    200);
	j = parse(resp);
	assert_true(json_integer_value(json_object_get(j, "total")) >= 3);
	assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
	json_decref(j);
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/audit?actor=ADMIN&"
	    "action=user.create", admin_token, NULL, &resp), 200);
	j = parse(resp);
	json_t *items = json_object_get(j, "items");
	assert_true(json_array_size(items) >= 1);
	for (size_t i = 0; i < json_array_size(items); i++)
		assert_string_equal(json_string_value(json_object_get(
		    json_array_get(items, i), "action")), "user.create");
	json_decref(j);
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/audit?since=2026-13-01",
	    admin_token, NULL, &resp), 400);
	assert_problem(resp, "invalid_parameter", "since");
	free(resp);
	assert_int_equal(testlib_api(port, "GET", "/v1/audit", grader_token,
	    NULL, NULL), 403);
	/* Every audit row names its request. */
	assert_int_equal(count("SELECT count(*) FROM audit_log WHERE "
	    "request_id IS NULL AND actor_name NOT LIKE 'shell:%'"), 0);
}

static void
metrics_count_requests(void **state)
{
	char *resp = NULL;

	(void)state;
	assert_int_equal(testlib_http(port, "GET", "/metrics", NULL, NULL,
	    &resp), 200);
	assert_non_null(strstr(resp, "# TYPE certrack_http_requests_total "
	    "counter"));
	assert_non_null(strstr(resp, "certrack_http_requests_total{method="
	    "\"POST\",route=\"/v1/clinicians\",status=\"201\"}"));
	assert_non_null(strstr(resp, "route=\"unmatched\",status=\"404\"}"));
	assert_non_null(strstr(resp, "certrack_http_request_duration_seconds_"
	    "bucket{method=\"GET\",route=\"/v1/clinicians/{id}\",le=\"+Inf\"}"));
	assert_non_null(strstr(resp, "certrack_db_errors_total "));
	free(resp);
}

/* A token lives token_ttl_hours (12 by default), and not a moment more. */
static void
tokens_expire(void **state)
{
	char *pw = testlib_make_user(conninfo, "shortlived", "grader", 0);
	char *tok = testlib_login(port, "shortlived", pw);

	(void)state;
	assert_int_equal(count("SELECT count(*) FROM api_tokens t JOIN users u "
	    "ON u.id = t.user_id WHERE u.username = 'shortlived' AND "
	    "t.expires_at BETWEEN now() + interval '11 hours 59 minutes' AND "
	    "now() + interval '12 hours 1 minute'"), 1);
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, NULL),
	    200);
	testdb_exec_ok(db, "UPDATE api_tokens SET created_at = now() - "
	    "interval '13 hours', expires_at = now() - interval '1 second' "
	    "WHERE user_id = (SELECT id FROM users WHERE username = "
	    "'shortlived')");
	char *resp = NULL;
	assert_int_equal(testlib_api(port, "GET", "/v1/me", tok, NULL, &resp),
	    401);
	assert_problem(resp, "unauthenticated", NULL);
	free(resp);
	free(tok);
	free(pw);
}

/* A daemon on a read-only standby serves logged-in reads; writes are
 * refused with a clear word, and nothing is written. */
static void
read_only_database(void **state)
{
	char ro[600], *resp = NULL, path[64];
	int p2 = testlib_free_port();
	long long id = create_clinician("standby@example.org", NULL);

	(void)state;
	snprintf(ro, sizeof(ro), "%s options='-c default_transaction_read_only=on'",
	    conninfo);
	pid_t pid = testlib_start_daemon("e2e_api_ro", p2, ro, NULL);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	/* the token's last use is a write a standby refuses: it is skipped */
	testdb_exec_ok(db, "UPDATE api_tokens SET last_used_at = NULL");
	assert_int_equal(testlib_api(p2, "GET", path, grader_token, NULL, NULL),
	    200);
	assert_int_equal(testlib_api(p2, "GET", "/v1/me", admin_token, NULL,
	    NULL), 200);
	long before = count("SELECT count(*) FROM clinicians");
	assert_int_equal(testlib_api(p2, "POST", "/v1/clinicians", admin_token,
	    "{\"email\":\"ro@example.org\",\"given_name\":\"R\","
	    "\"family_name\":\"O\",\"profession\":\"PT\"}", &resp), 503);
	assert_problem(resp, "read_only_database", NULL);
	free(resp);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), before);
	assert_int_equal(testlib_stop_daemon(pid), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(clinician_create_read_search),
		cmocka_unit_test(clinician_pagination),
		cmocka_unit_test(bad_requests_change_nothing),
		cmocka_unit_test(duplicate_npi_and_email),
		cmocka_unit_test(update_with_versions),
		cmocka_unit_test(concurrent_updates_one_wins),
		cmocka_unit_test(accounts_disable_and_tokens),
		cmocka_unit_test(login_logout_and_password),
		cmocka_unit_test(audit_log_filters),
		cmocka_unit_test(metrics_count_requests),
		cmocka_unit_test(tokens_expire),
		cmocka_unit_test(read_only_database),
	};
	return cmocka_run_group_tests_name("e2e_api", tests, setup, teardown);
}
