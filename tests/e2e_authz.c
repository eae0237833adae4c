/*
 * The authorization matrix: every route of the table against no login and
 * each role, with the status each cell must answer.  A route missing from
 * the matrix fails the test, so a new route must be placed in it.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/api.h"

/* OK: the role gets through to the handler (anything but 401 and 403). */
#define OK (-1)

struct cell {
	const char *method;
	const char *pattern;	/* as in the route table */
	const char *path;	/* concrete; {own}/{other} are clinician ids */
	const char *body;
	int none, admin, grader, clinician;
};

static const struct cell matrix[] = {
	{ "GET", "/healthz", "/healthz", NULL, 200, 200, 200, 200 },
	{ "GET", "/readyz", "/readyz", NULL, 200, 200, 200, 200 },
	{ "GET", "/metrics", "/metrics", NULL, 200, 200, 200, 200 },
	{ "POST", "/v1/login", "/v1/login", "{}", 422, 422, 422, 422 },
	{ "GET", "/v1/me", "/v1/me", NULL, 401, 200, 200, 200 },
	{ "POST", "/v1/me/password", "/v1/me/password", "{}",
	  401, 422, 422, 422 },
	{ "GET", "/v1/users", "/v1/users", NULL, 401, 200, 403, 403 },
	{ "POST", "/v1/users", "/v1/users", "{}", 401, 422, 403, 403 },
	{ "GET", "/v1/users/{id}", "/v1/users/1", NULL, 401, 200, 403, 403 },
	{ "PATCH", "/v1/users/{id}", "/v1/users/1", "{}", 401, 400, 403, 403 },
	{ "GET", "/v1/users/{id}/tokens", "/v1/users/1/tokens", NULL,
	  401, 200, 403, 403 },
	{ "DELETE", "/v1/tokens/{id}", "/v1/tokens/999999", NULL,
	  401, 404, 403, 403 },
	{ "POST", "/v1/imports", "/v1/imports?kind=results", "",
	  401, 422, 422, 403 },
	{ "GET", "/v1/imports", "/v1/imports", NULL, 401, 200, 200, 403 },
	{ "GET", "/v1/imports/{id}", "/v1/imports/999999", NULL,
	  401, 404, 404, 403 },
	{ "GET", "/v1/audit", "/v1/audit", NULL, 401, 200, 403, 403 },
	{ "GET", "/v1/clinicians", "/v1/clinicians", NULL, 401, 200, 200, 403 },
	{ "POST", "/v1/clinicians", "/v1/clinicians", "{}", 401, 422, 403, 403 },
	{ "GET", "/v1/clinicians/{id}", "/v1/clinicians/{own}", NULL,
	  401, 200, 200, 200 },
	{ "GET", "/v1/clinicians/{id}", "/v1/clinicians/{other}", NULL,
	  401, 200, 200, 404 },
	{ "PATCH", "/v1/clinicians/{id}", "/v1/clinicians/{own}", "{}",
	  401, 400, 403, 403 },
	{ "GET", "/v1/sessions", "/v1/sessions", NULL, 401, 200, 200, 403 },
	{ "POST", "/v1/sessions", "/v1/sessions", "{}", 401, 422, 403, 403 },
	{ "GET", "/v1/sessions/{id}", "/v1/sessions/999999", NULL,
	  401, 404, 404, 403 },
	{ "GET", "/v1/enrollments", "/v1/enrollments", NULL,
	  401, 200, 200, 403 },
	{ "GET", "/v1/certificates", "/v1/certificates?status=valid", NULL,
	  401, 200, 200, 403 },
	{ "POST", "/v1/enrollments", "/v1/enrollments", "{}",
	  401, 422, 403, 403 },
	{ "POST", "/v1/enrollments/{id}/complete",
	  "/v1/enrollments/999999/complete", "{\"completed_on\":\"2026-01-01\"}",
	  401, 404, 404, 403 },
	{ "POST", "/v1/enrollments/{id}/withdraw",
	  "/v1/enrollments/999999/withdraw", "{}", 401, 404, 403, 403 },
	{ "POST", "/v1/exam-results", "/v1/exam-results", "{}",
	  401, 422, 422, 403 },
	{ "POST", "/v1/exam-results/{id}/amend",
	  "/v1/exam-results/999999/amend",
	  "{\"score\":1,\"reason\":\"typo\"}", 401, 404, 404, 403 },
	{ "GET", "/v1/clinicians/{id}/exam-results",
	  "/v1/clinicians/{own}/exam-results", NULL, 401, 200, 200, 200 },
	{ "GET", "/v1/clinicians/{id}/exam-results",
	  "/v1/clinicians/{other}/exam-results", NULL, 401, 200, 200, 404 },
	{ "GET", "/v1/professions", "/v1/professions", NULL,
	  200, 200, 200, 200 },
	{ "GET", "/v1/programs", "/v1/programs", NULL, 200, 200, 200, 200 },
	{ "GET", "/v1/programs/{code}", "/v1/programs/DN", NULL,
	  200, 200, 200, 200 },
	{ "GET", "/v1/levels", "/v1/levels?name=dn1", NULL, 401, 200, 200, 200 },
	{ "GET", "/v1/levels/{id}", "/v1/levels/1", NULL, 401, 200, 200, 200 },
	{ "PATCH", "/v1/levels/{id}", "/v1/levels/1", "{\"title\":\"Level 1\"}",
	  401, 200, 403, 403 },
	{ "GET", "/v1/eligibility", "/v1/eligibility?profession=PT", NULL,
	  200, 200, 200, 200 },
	{ "GET", "/v1/clinicians/{id}/status", "/v1/clinicians/{own}/status",
	  NULL, 401, 200, 200, 200 },
	{ "GET", "/v1/clinicians/{id}/status",
	  "/v1/clinicians/{other}/status", NULL, 401, 200, 200, 404 },
	{ "GET", "/v1/certificates/{number}",
	  "/v1/certificates/ABCD-EFGH-JKMY", NULL, 404, 404, 404, 404 },
	{ "POST", "/v1/certificates/{number}/revoke",
	  "/v1/certificates/ABCD-EFGH-JKMY/revoke",
	  "{\"category\":\"other\",\"note\":\"x\"}",
	  401, 404, 403, 403 },
	{ "GET", "/v1/renewal-policies", "/v1/renewal-policies", NULL,
	  401, 200, 200, 200 },
	{ "PUT", "/v1/renewal-policies", "/v1/renewal-policies", "{}",
	  401, 422, 403, 403 },
	{ "GET", "/v1/clinicians/{id}/ce", "/v1/clinicians/{own}/ce", NULL,
	  401, 200, 200, 200 },
	{ "GET", "/v1/clinicians/{id}/ce", "/v1/clinicians/{other}/ce", NULL,
	  401, 200, 200, 404 },
	{ "POST", "/v1/clinicians/{id}/ce", "/v1/clinicians/{other}/ce", "{}",
	  401, 422, 422, 404 },
	{ "POST", "/v1/ce/{id}/approve", "/v1/ce/999999/approve", NULL,
	  401, 404, 404, 403 },
	{ "POST", "/v1/ce/{id}/reject", "/v1/ce/999999/reject",
	  "{\"reason\":\"no evidence\"}", 401, 404, 404, 403 },
	{ "POST", "/v1/certificates/{number}/renew",
	  "/v1/certificates/ABCD-EFGH-JKMY/renew", NULL, 401, 404, 404, 403 },
	{ "POST", "/v1/certificates/{number}/renewal-exams",
	  "/v1/certificates/ABCD-EFGH-JKMY/renewal-exams",
	  "{\"score\":80,\"max_score\":100,\"taken_on\":\"2026-01-05\"}",
	  401, 404, 404, 403 },
	{ "POST", "/v1/imports", "/v1/imports?kind=ce", "",
	  401, 422, 422, 403 },
	/* notifications: webhook endpoints and deliveries (admin) */
	{ "GET", "/v1/webhooks", "/v1/webhooks", NULL, 401, 200, 403, 403 },
	{ "POST", "/v1/webhooks", "/v1/webhooks", "{}", 401, 422, 403, 403 },
	{ "POST", "/v1/webhooks/{id}/disable", "/v1/webhooks/999999/disable",
	  NULL, 401, 404, 403, 403 },
	{ "POST", "/v1/webhooks/{id}/enable", "/v1/webhooks/999999/enable",
	  NULL, 401, 404, 403, 403 },
	{ "POST", "/v1/webhooks/{id}/test", "/v1/webhooks/999999/test", NULL,
	  401, 404, 403, 403 },
	{ "GET", "/v1/deliveries", "/v1/deliveries", NULL, 401, 200, 403, 403 },
	{ "POST", "/v1/deliveries/{id}/replay", "/v1/deliveries/999999/replay",
	  NULL, 401, 404, 403, 403 },
	/* printable certificates and the web pages */
	{ "GET", "/v1/certificates/{number}.pdf",
	  "/v1/certificates/ABCD-EFGH-JKMY.pdf", NULL, 401, 404, 404, 404 },
	{ "GET", "/", "/", NULL, 200, 200, 200, 200 },
	{ "GET", "/static/{file}", "/static/style.css", NULL,
	  200, 200, 200, 200 },
	{ "GET", "/verify", "/verify", NULL, 200, 200, 200, 200 },
	{ "GET", "/verify/{number}", "/verify/ABCD-EFGH-JKMY", NULL,
	  404, 404, 404, 404 },
	{ "GET", "/find", "/find?state=CA", NULL, 200, 200, 200, 200 },
	{ "GET", "/v1/directory", "/v1/directory?zip=92101", NULL,
	  200, 200, 200, 200 },
	{ "PATCH", "/v1/me/directory", "/v1/me/directory",
	  "{\"directory_listed\":true}", 401, 403, 403, 200 },
	/* logged-in pages: the session cookie (the same token) instead of
	 * the header; no login is sent to /login (303); a POST without its
	 * CSRF token is 403 whoever sends it */
	{ "GET", "/login", "/login", NULL, 200, 200, 200, 200 },
	{ "POST", "/login", "/login", NULL, 403, 403, 403, 403 },
	{ "POST", "/logout", "/logout", NULL, 303, 403, 403, 403 },
	{ "GET", "/account/password", "/account/password", NULL,
	  303, 200, 200, 200 },
	{ "POST", "/account/password", "/account/password", NULL,
	  303, 403, 403, 403 },
	{ "GET", "/me", "/me", NULL, 303, 403, 403, 200 },
	{ "POST", "/me/directory", "/me/directory", NULL, 303, 403, 403, 403 },
	{ "GET", "/me/certificates/{number}.pdf",
	  "/me/certificates/ABCD-EFGH-JKMY.pdf", NULL, 303, 403, 403, 404 },
	{ "GET", "/staff/sessions", "/staff/sessions", NULL,
	  303, 200, 200, 403 },
	{ "GET", "/staff/sessions/{id}", "/staff/sessions/999999", NULL,
	  303, 404, 404, 403 },
	{ "POST", "/staff/sessions/{id}", "/staff/sessions/999999", NULL,
	  303, 403, 403, 403 },
	/* last: it ends each caller's session */
	{ "POST", "/v1/logout", "/v1/logout", NULL, 401, 204, 204, 204 },
};
#define NCELLS (sizeof(matrix) / sizeof(matrix[0]))

/* Whether C is a page of the session cookie (ROUTE_WEB). */
static bool
web_route(const struct cell *c)
{
	for (size_t r = 0; r < api_nroutes; r++)
		if (strcmp(c->method, api_routes[r].method) == 0 &&
		    strcmp(c->pattern, api_routes[r].pattern) == 0)
			return (api_routes[r].roles & ROUTE_WEB) != 0;
	return false;
}

static void
every_route_against_every_role(void **state)
{
	char *conninfo, *pw, *tokens[4] = { NULL, NULL, NULL, NULL };
	const char *names[4] = { "no login", "admin", "grader", "clinician" };
	PGconn *db = testdb_migrated("e2e_authz", &conninfo);
	char *own = testdb_value(db, "INSERT INTO clinicians (email, "
	    "given_name, family_name, profession_code) VALUES "
	    "('own@example.org', 'Own', 'One', 'PT') RETURNING id");
	char *other = testdb_value(db, "INSERT INTO clinicians (email, "
	    "given_name, family_name, profession_code) VALUES "
	    "('other@example.org', 'Other', 'One', 'PT') RETURNING id");
	int port = testlib_free_port();
	pid_t pid = testlib_start_daemon("e2e_authz", port, conninfo, NULL);
	long long own_id = strtoll(own, NULL, 10);
	int failures = 0;

	(void)state;
	pw = testlib_make_user(conninfo, "admin", "admin", 0);
	tokens[1] = testlib_login(port, "admin", pw);
	free(pw);
	pw = testlib_make_user(conninfo, "grader", "grader", 0);
	tokens[2] = testlib_login(port, "grader", pw);
	free(pw);
	pw = testlib_make_user(conninfo, "clin", "clinician", own_id);
	tokens[3] = testlib_login(port, "clin", pw);
	free(pw);

	/* Every route of the table has a row here. */
	for (size_t r = 0; r < api_nroutes; r++) {
		bool found = false;
		for (size_t i = 0; i < NCELLS && !found; i++)
			found = strcmp(matrix[i].method, api_routes[r].method) ==
			    0 && strcmp(matrix[i].pattern,
			    api_routes[r].pattern) == 0;
		if (!found) {
			fprintf(stderr, "route %s %s is not in the matrix\n",
			    api_routes[r].method, api_routes[r].pattern);
			failures++;
		}
	}

	for (size_t i = 0; i < NCELLS; i++) {
		const struct cell *c = &matrix[i];
		const int want[4] = { c->none, c->admin, c->grader,
		    c->clinician };
		char path[200];
		const char *p = c->path;

		if (strstr(p, "{own}") != NULL)
			snprintf(path, sizeof(path), "%.*s%s%s",
			    (int)(strstr(p, "{own}") - p), p, own,
			    strstr(p, "{own}") + 5);
		else if (strstr(p, "{other}") != NULL)
			snprintf(path, sizeof(path), "%.*s%s%s",
			    (int)(strstr(p, "{other}") - p), p, other,
			    strstr(p, "{other}") + 7);
		else
			snprintf(path, sizeof(path), "%s", p);
		for (int role = 0; role < 4; role++) {
			char *resp = NULL;
			int got;
			if (web_route(c)) {
				char hdr[200];
				snprintf(hdr, sizeof(hdr), "%s%s%s", tokens[role] ?
				    "Cookie: certrack_session=" : "",
				    tokens[role] ? tokens[role] : "",
				    tokens[role] ? "\r\n" : "");
				got = testlib_http(port, c->method, path, hdr,
				    NULL, &resp);
			} else if (c->body != NULL && c->body[0] == '\0') {
				char hdr[200];
				snprintf(hdr, sizeof(hdr), "Content-Type: text/csv"
				    "\r\n%s%s%s", tokens[role] ?
				    "Authorization: Bearer " : "",
				    tokens[role] ? tokens[role] : "",
				    tokens[role] ? "\r\n" : "");
				got = testlib_http(port, c->method, path, hdr, "",
				    &resp);
			} else {
				got = testlib_api(port, c->method, path,
				    tokens[role], c->body, &resp);
			}
			bool ok = want[role] == OK ? got != 401 && got != 403 &&
			    got != 0 : got == want[role];
			if (!ok) {
				fprintf(stderr, "%s %s as %s: %d, expected %d: "
				    "%s\n", c->method, path, names[role], got,
				    want[role], resp ? resp : "");
				failures++;
			}
			free(resp);
		}
	}
	assert_int_equal(failures, 0);
	assert_int_equal(testlib_stop_daemon(pid), 0);
	for (int i = 0; i < 4; i++)
		free(tokens[i]);
	free(own);
	free(other);
	free(conninfo);
	PQfinish(db);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_route_against_every_role),
	};
	return cmocka_run_group_tests_name("e2e_authz", tests, NULL, NULL);
}
