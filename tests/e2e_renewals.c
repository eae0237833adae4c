/*
 * Keeping a credential (issue 13, items 1-3): renewal by CE hours, just
 * enough and one hundredth short, CE outside the certificate's time and
 * pending CE not counted, before and after expiry, the renewal window's
 * both edges, a non-renewable level, a category requirement, automatic
 * renewal when CE is approved, and a renewed credential still counting as
 * a prerequisite.  Certificates are put in the database with the dates
 * each case needs; everything else goes through the API.
 */
#include "testlib.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct testlib_world w;
static int serial;



/* A new clinician holding a DN1 certificate issued ISSUED days from today
 * and expiring EXPIRES days from today; its id in *CLIN, its number
 * returned (caller frees). */
static char *
holder(int issued, int expires, long long *clin)
{
	serial++;
	*clin = testdb_llf(w.db, "INSERT INTO clinicians (given_name, family_name, email,"
	    " profession_code) VALUES ('Renew', 'Case%d', 'renew%d@example.org',"
	    " 'PT') RETURNING id", serial, serial);
	return testdb_textf(w.db, "INSERT INTO certificates (number, clinician_id,"
	    " level_id, issued_on, expires_on) SELECT certificate_number_new(),"
	    " %lld, id, current_date + %d, current_date + %d FROM levels"
	    " WHERE code = 'DN1' RETURNING number", *clin, issued, expires);
}

/* POST a CE activity of HOURS completed DAYS from today, by TOKEN. */
static json_t *
ce(const char *token, long long clin, int days, const char *hours,
    const char *category, int want)
{
	char path[64], body[300], *resp = NULL, *date;
	json_t *j;
	int st;

	date = testdb_textf(w.db, "SELECT (current_date + %d)::text", days);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/ce", clin);
	snprintf(body, sizeof(body), "{\"title\":\"Course\",\"completed_on\":"
	    "\"%s\",\"hours\":%s%s%s%s}", date, hours,
	    category ? ",\"category\":\"" : "", category ? category : "",
	    category ? "\"" : "");
	free(date);
	st = testlib_api(w.port, "POST", path, token, body, &resp);
	if (st != want)
		fail_msg("POST %s %s: %d, expected %d: %s", path, body, st,
		    want, resp ? resp : "");
	j = testlib_json(resp);
	free(resp);
	return j;
}

/* POST renew of NUMBER; answers the status, the body in *OUT. */
static int
renew(const char *number, json_t **out)
{
	char path[80], *resp = NULL;
	int st;

	snprintf(path, sizeof(path), "/v1/certificates/%s/renew", number);
	st = testlib_api(w.port, "POST", path, w.grader, NULL, &resp);
	*out = testlib_json(resp);
	free(resp);
	return st;
}

static void
refused(const char *number, const char *code, const char *detail)
{
	json_t *j;
	int st = renew(number, &j);

	if (st < 400 || strcmp(testlib_str(j, "code"), code) != 0)
		fail_msg("renew %s: %d %s, expected %s", number, st,
		    json_dumps(j, 0), code);
	if (detail != NULL && strstr(testlib_str(j, "detail"), detail) == NULL)
		fail_msg("renew %s: '%s' lacks '%s'", number,
		    testlib_str(j, "detail"), detail);
	json_decref(j);
}

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_renewals");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

/* 11.99 hours: refused, saying what is missing; 0.01 more: renewed, from
 * the old expiry date (renewed before it), for the program's 24 months. */
static void
ce_hours_boundary(void **state)
{
	long long c;
	char *num = holder(-700, 30, &c), *want;
	json_t *j;

	(void)state;
	json_decref(ce(w.grader, c, -10, "11.99", NULL, 201));
	refused(num, "renewal_requirement_not_met",
	    "11.99 of 12 CE hours since");
	refused(num, "renewal_requirement_not_met", "0.01 to go");
	/* staff CE is approved at once and renews at once */
	j = ce(w.grader, c, -9, "0.01", NULL, 201);
	assert_string_equal(testlib_str(j, "status"), "approved");
	assert_true(json_is_string(json_object_get(j, "renewed")));
	json_decref(j);
	want = testdb_textf(w.db, "SELECT expires_on::text FROM certificates WHERE"
	    " number = '%s'", num);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM certificates n JOIN"
	    " certificates o ON o.id = n.renews WHERE o.number = '%s'"
	    " AND n.issued_on = '%s' AND n.expires_on = n.issued_on +"
	    " interval '24 months'", num, want), 1);
	/* the old one is renewed: refused again, naming its renewal */
	refused(num, "already_renewed", "was already renewed by");
	free(want);
	free(num);
}

/* CE before the certificate was issued does not count; pending CE does
 * not count until approved, and its approval renews. */
static void
what_counts(void **state)
{
	long long c;
	char *num = holder(-700, 30, &c), path[64], *resp = NULL;
	char *pw, *tok;
	json_t *j;
	long long id;

	(void)state;
	json_decref(ce(w.grader, c, -701, "12", NULL, 201));
	refused(num, "renewal_requirement_not_met", "0 of 12");
	/* the clinician's own entry waits for staff */
	pw = testlib_make_user(w.conninfo, "renewer", "clinician", c);
	tok = testlib_login(w.port, "renewer", pw);
	j = ce(tok, c, -5, "12", NULL, 201);
	assert_string_equal(testlib_str(j, "status"), "pending");
	id = testlib_int(j, "id");
	json_decref(j);
	refused(num, "renewal_requirement_not_met", "0 of 12");
	/* the clinician may not approve it, nor enter CE for another */
	snprintf(path, sizeof(path), "/v1/ce/%lld/approve", id);
	assert_int_equal(testlib_api(w.port, "POST", path, tok, NULL, &resp),
	    403);
	free(resp);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/ce", c - 1);
	assert_int_equal(testlib_api(w.port, "POST", path, tok,
	    "{\"title\":\"x\",\"completed_on\":\"2026-01-01\",\"hours\":1}",
	    &resp), 404);
	free(resp);
	/* a rejection says why */
	snprintf(path, sizeof(path), "/v1/ce/%lld/reject", id);
	assert_int_equal(testlib_api(w.port, "POST", path, w.grader, "{}",
	    &resp), 422);
	testlib_has(resp, "reason_required");
	free(resp);
	/* approved: renewed at once */
	snprintf(path, sizeof(path), "/v1/ce/%lld/approve", id);
	assert_int_equal(testlib_api(w.port, "POST", path, w.grader, NULL,
	    &resp), 200);
	testlib_has(resp, "\"renewed\":");
	testlib_lacks(resp, "\"renewed\": null");
	free(resp);
	assert_int_equal(testlib_api(w.port, "POST", path, w.grader, NULL,
	    &resp), 409);
	testlib_has(resp, "already_decided");
	free(resp);
	/* announced: the decision and the renewal, once each (the refused
	 * second decision announces nothing) */
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM notify_events"
	    " WHERE clinician_id = %lld AND kind = 'ce.approved'", c), 1);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM notify_events"
	    " WHERE clinician_id = %lld AND kind = 'certificate.renewed'", c),
	    1);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM notify_events"
	    " WHERE clinician_id = %lld AND kind = 'certificate.issued'", c),
	    1);			/* the first one, put in by holder() */
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM audit_log WHERE action"
	    " IN ('ce.record', 'ce.approve', 'certificate.renew') AND"
	    " entity_id IN (SELECT id::text FROM ce_activities WHERE"
	    " clinician_id = %lld UNION SELECT id::text FROM certificates"
	    " WHERE clinician_id = %lld)", c, c), 4);
	free(pw);
	free(tok);
	free(num);
}

/* The window: opens 90 days before expiry (day 90 in, day 91 not), closes
 * 365 days after it (day 365 in, day 366 not); renewed after expiry, the
 * new certificate runs from today. */
static void
renewal_window(void **state)
{
	static const struct {
		int expires;
		const char *code;
	} cases[] = {
		{ 91, "renewal_window_not_open" },
		{ 90, NULL },
		{ -365, NULL },
		{ -366, "renewal_window_closed" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long c;
		char *num = holder(cases[i].expires - 730, cases[i].expires,
		    &c);
		json_t *j;

		if (cases[i].code != NULL) {
			/* the CE is there: only the window refuses */
			json_decref(ce(w.grader, c, -1, "12", NULL, 201));
			refused(num, cases[i].code, NULL);
		} else {
			json_decref(ce(w.grader, c, -1, "12", NULL, 201));
			/* renewed automatically by the CE */
			j = NULL;
			assert_int_equal(renew(num, &j), 409);
			json_decref(j);
			assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM"
			    " certificates n JOIN certificates o ON o.id ="
			    " n.renews WHERE o.number = '%s' AND n.issued_on ="
			    " greatest(o.expires_on, current_date)", num), 1);
		}
		free(num);
	}
}

/* A level whose policy is none is not renewable; a category requirement
 * counts only that category's hours; the change of policy is audited and
 * admin-only. */
static void
policies(void **state)
{
	long long c, d;
	char *num, *num2, *resp = NULL;

	(void)state;
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.grader, "{\"level\":\"DN2\",\"method\":\"none\"}", &resp), 403);
	free(resp);
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.admin, "{\"level\":\"DN2\",\"method\":\"none\"}", &resp), 200);
	free(resp);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM audit_log WHERE action ="
	    " 'renewal_policy.set'"), 1);
	serial++;
	c = testdb_llf(w.db, "INSERT INTO clinicians (given_name, family_name, email,"
	    " profession_code) VALUES ('Two', 'Level', 'two%d@example.org',"
	    " 'PT') RETURNING id", serial);
	num = testdb_textf(w.db, "INSERT INTO certificates (number, clinician_id,"
	    " level_id, issued_on, expires_on) SELECT certificate_number_new(),"
	    " %lld, id, current_date - 700, current_date + 30 FROM levels"
	    " WHERE code = 'DN2' RETURNING number", c);
	refused(num, "not_renewable", "not renewable");
	/* DN1: 12 hours, 4 of them in "safety" */
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.admin, "{\"level\":\"DN1\",\"method\":\"ce_hours\",\"ce_hours\":"
	    "12,\"ce_category\":\"safety\",\"ce_category_hours\":4}", &resp),
	    200);
	free(resp);
	num2 = holder(-700, 30, &d);
	json_decref(ce(w.grader, d, -3, "10", "technique", 201));
	json_decref(ce(w.grader, d, -2, "3", "safety", 201));
	refused(num2, "renewal_requirement_not_met", "3 of 4 CE hours in "
	    "safety; 1 to go");
	json_decref(ce(w.grader, d, -1, "1", "safety", 201));
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM certificates WHERE"
	    " renews = (SELECT id FROM certificates WHERE number = '%s')",
	    num2), 1);
	/* a level's own policy removed: the program's applies again */
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.admin, "{\"level\":\"DN1\",\"method\":null}", &resp), 200);
	testlib_has(resp, "\"set_on\" : \"program\"");
	free(resp);
	assert_int_equal(testlib_api(w.port, "PUT", "/v1/renewal-policies",
	    w.admin, "{\"level\":\"DN2\",\"method\":null}", &resp), 200);
	free(resp);
	free(num);
	free(num2);
}

/* Progress is shown; a renewed credential is still the prerequisite. */
static void
progress_and_prerequisite(void **state)
{
	long long c;
	char *num = holder(-700, 30, &c), path[64], body[128], *resp = NULL;
	json_t *j, *r;

	(void)state;
	json_decref(ce(w.grader, c, -4, "8", NULL, 201));
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/ce", c);
	assert_int_equal(testlib_api(w.port, "GET", path, w.grader, NULL,
	    &resp), 200);
	j = testlib_json(resp);
	free(resp);
	r = json_array_get(json_object_get(j, "renewal"), 0);
	assert_string_equal(testlib_str(r, "certificate"), num);
	assert_string_equal(testlib_str(r, "window"), "open");
	testlib_has(testlib_str(r, "missing"), "8 of 12 CE hours");
	json_decref(j);
	/* status shows it too (and is cached now) */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", c);
	assert_int_equal(testlib_api(w.port, "GET", path, w.grader, NULL,
	    &resp), 200);
	j = testlib_json(resp);
	free(resp);
	r = json_array_get(json_object_get(j, "renewal"), 0);
	assert_string_equal(testlib_str(r, "certificate"), num);
	assert_int_equal(json_number_value(json_object_get(r, "hours_done")),
	    8);
	json_decref(j);
	json_decref(ce(w.grader, c, -3, "4", NULL, 201));
	/* the CE renewed it: the next status says so at once (the cached
	 * answer was dropped by the write) */
	assert_int_equal(testlib_api(w.port, "GET", path, w.grader, NULL,
	    &resp), 200);
	j = testlib_json(resp);
	free(resp);
	r = json_array_get(json_object_get(j, "renewal"), 0);
	assert_string_not_equal(testlib_str(r, "certificate"), num);
	assert_string_equal(testlib_str(r, "window"), "not_open");
	json_decref(j);
	/* DN2 needs DN1: the renewal keeps it held */
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN2\"}", c);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/enrollments",
	    w.admin, body, &resp), 201);
	free(resp);
	free(num);
}

/* The CLI: ce add/list/approve/reject, renewal-policies, renew. */
static void
cli_commands(void **state)
{
	long long c;
	char *num = holder(-700, 20, &c), sid[24], *out = NULL, *err = NULL;
	char *pw, *tok;

	(void)state;
	snprintf(sid, sizeof(sid), "%lld", c);
	testlib_cli_env(&w, "renewals", w.grader);
	TESTLIB_CLI(0, NULL, "renewal-policies");
	testlib_has(out, "DN1    ce_hours  12");
	free(out);
	free(err);
	TESTLIB_CLI(1, NULL, "certificates", "renew", num);
	testlib_has(err, "0 of 12 CE hours since");
	testlib_has(err, "request id");
	free(out);
	free(err);
	TESTLIB_CLI(2, NULL, "ce", "add", sid, "--title", "x");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "ce", "add", sid, "--title", "Needling safety",
	    "--completed", "2026-11-01", "--hours", "8", "--quiet");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "ce", "list", sid);
	testlib_has(out, "Needling safety");
	testlib_has(out, "8 of 12 CE hours since");
	free(out);
	free(err);
	/* the clinician's own entry is pending; staff approve it: renewed */
	pw = testlib_make_user(w.conninfo, "clirenew", "clinician", c);
	tok = testlib_login(w.port, "clirenew", pw);
	setenv("CERTRACK_TOKEN", tok, 1);
	TESTLIB_CLI(0, NULL, "ce", "add", "--title", "Journal club",
	    "--completed", "2026-11-02", "--hours", "4");
	testlib_has(out, "pending");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "ce", "list");	/* one's own, no operand */
	testlib_has(out, "Journal club");
	free(out);
	free(err);
	setenv("CERTRACK_TOKEN", w.grader, 1);
	{
		char id[24];
		snprintf(id, sizeof(id), "%lld", testdb_llf(w.db, "SELECT max(id) FROM"
		    " ce_activities WHERE clinician_id = %lld", c));
		TESTLIB_CLI(2, NULL, "ce", "reject", id);
		free(out);
		free(err);
		TESTLIB_CLI(0, NULL, "ce", "approve", id);
		testlib_has(out, "renewed:");
		free(out);
		free(err);
	}
	TESTLIB_CLI(1, NULL, "certificates", "renew", num);
	testlib_has(err, "already renewed");
	free(out);
	free(err);
	free(pw);
	free(tok);
	free(num);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ce_hours_boundary),
		cmocka_unit_test(what_counts),
		cmocka_unit_test(renewal_window),
		cmocka_unit_test(policies),
		cmocka_unit_test(progress_and_prerequisite),
		cmocka_unit_test(cli_commands),
	};

	return cmocka_run_group_tests_name("e2e_renewals", tests, setup,
	    teardown);
}
