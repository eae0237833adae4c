/*
 * The limits of a continuing-education activity, on each boundary: the
 * text fields at their longest and one character over (title and
 * provider 200, category 60, evidence 500, counted in characters, not
 * bytes), blank text, hours from 0.01 to 100 and just outside, a date of
 * today and of tomorrow.  Every refusal names its field and writes
 * nothing (422, with the field's name in `field`).  The same for a
 * renewal policy's hours and window.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct testlib_world w;
static long long clin;

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_celimits");
	clin = testdb_llf(w.db, "INSERT INTO clinicians (given_name,"
	    " family_name, email, profession_code) VALUES ('Limit', 'Case',"
	    " 'limits@example.org', 'PT') RETURNING id");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

static long long
activities(void)
{
	return testdb_llf(w.db, "SELECT count(*) FROM ce_activities WHERE"
	    " clinician_id = %lld", clin);
}

/* A string of N copies of the UTF-8 character C (one to four bytes). */
static char *
repeat(const char *c, int n)
{
	size_t len = strlen(c);
	char *s = malloc(len * (size_t)n + 1);
	int i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		memcpy(s + len * (size_t)i, c, len);
	s[len * (size_t)n] = '\0';
	return s;
}

/*
 * POSTs a CE activity with FIELD set to the JSON value VALUE (the others
 * fixed and valid); expects status WANT, and for a refusal, the field's
 * name in the answer and no new row.
 */
static void
post(const char *field, const char *value, int want)
{
	char path[64], *body, *resp = NULL;
	long long before = activities();
	size_t cap = strlen(value) + 400;
	int st;

	body = malloc(cap);
	assert_non_null(body);
	snprintf(body, cap, "{\"title\":%s,\"provider\":%s,"
	    "\"completed_on\":%s,\"hours\":%s,\"category\":%s,"
	    "\"evidence\":%s}",
	    strcmp(field, "title") == 0 ? value : "\"Course\"",
	    strcmp(field, "provider") == 0 ? value : "\"Provider\"",
	    strcmp(field, "completed_on") == 0 ? value : "\"2026-01-05\"",
	    strcmp(field, "hours") == 0 ? value : "1",
	    strcmp(field, "category") == 0 ? value : "\"technique\"",
	    strcmp(field, "evidence") == 0 ? value : "\"cert.pdf\"");
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/ce", clin);
	st = testlib_api(w.port, "POST", path, w.grader, body, &resp);
	if (st != want)
		fail_msg("%s = %.60s...: %d, expected %d: %s", field, value,
		    st, want, resp ? resp : "");
	if (want == 201)
		assert_int_equal(activities(), before + 1);
	else {
		json_t *j = testlib_json(resp);

		if (strcmp(testlib_str(j, "field"), field) != 0)
			fail_msg("%s = %.60s: the refusal names '%s': %s",
			    field, value, testlib_str(j, "field"), resp);
		json_decref(j);
		assert_int_equal(activities(), before);
	}
	free(resp);
	free(body);
}

/* VALUE of N copies of C, quoted as a JSON string. */
static void
post_len(const char *field, const char *c, int n, int want)
{
	char *s = repeat(c, n), *q = malloc(strlen(s) + 3);

	assert_non_null(q);
	sprintf(q, "\"%s\"", s);
	post(field, q, want);
	free(q);
	free(s);
}

/* Each text field at its limit and one over, in ASCII and in two-byte
 * and four-byte characters (the limit counts characters). */
static void
text_limits(void **state)
{
	static const struct { const char *field; int max; } f[] = {
		{ "title", 200 }, { "provider", 200 }, { "category", 60 },
		{ "evidence", 500 },
	};
	static const char *chars[] = { "a", "\xc3\xa9", "\xf0\x9f\x92\x89" };
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		for (k = 0; k < sizeof(chars) / sizeof(chars[0]); k++) {
			post_len(f[i].field, chars[k], f[i].max, 201);
			post_len(f[i].field, chars[k], f[i].max + 1, 422);
		}
}

/* Blank text is no value: a blank title is refused (it is required). */
static void
blank_title(void **state)
{
	(void)state;
	post("title", "\"   \"", 422);
	post("title", "\"\"", 422);
	post("title", "null", 422);
}

/* Hours: more than 0 and at most 100, in hundredths. */
static void
hours_limits(void **state)
{
	(void)state;
	post("hours", "0", 422);
	post("hours", "-1", 422);
	post("hours", "0.01", 201);
	post("hours", "100", 201);
	post("hours", "100.01", 422);
	post("hours", "\"5\"", 422);
}

/* Completed today is fine; tomorrow is refused. */
static void
date_limits(void **state)
{
	char *today = testdb_textf(w.db, "SELECT '\"' || current_date || '\"'");
	char *tomorrow = testdb_textf(w.db,
	    "SELECT '\"' || (current_date + 1) || '\"'");

	(void)state;
	post("completed_on", today, 201);
	post("completed_on", tomorrow, 422);
	post("completed_on", "\"2026-02-30\"", 422);
	free(today);
	free(tomorrow);
}

/* PUT a renewal policy for DN2 with BODY's members; expect WANT, and for
 * a refusal, FIELD named. */
static void
policy(const char *members, int want, const char *field)
{
	char body[300], *resp = NULL;
	int st;

	snprintf(body, sizeof(body), "{\"level\":\"DN2\",\"method\":"
	    "\"ce_hours\",%s}", members);
	st = testlib_api(w.port, "PUT", "/v1/renewal-policies", w.admin, body,
	    &resp);
	if (st != want)
		fail_msg("%s: %d, expected %d: %s", body, st, want,
		    resp ? resp : "");
	if (field != NULL) {
		json_t *j = testlib_json(resp);

		assert_string_equal(testlib_str(j, "field"), field);
		testlib_has(testlib_str(j, "detail"), field);
		json_decref(j);
	}
	free(resp);
}

/* A renewal policy's hours and window, on each edge. */
static void
policy_limits(void **state)
{
	(void)state;
	policy("\"ce_hours\":0", 422, "ce_hours");
	policy("\"ce_hours\":1000.01", 422, "ce_hours");
	policy("\"ce_hours\":1000", 200, NULL);
	policy("\"ce_hours\":0.01", 200, NULL);
	policy("\"ce_hours\":10,\"ce_category\":\"safety\","
	    "\"ce_category_hours\":10.01", 422, "ce_category_hours");
	policy("\"ce_hours\":10,\"ce_category\":\"safety\","
	    "\"ce_category_hours\":10", 200, NULL);
	policy("\"ce_hours\":10,\"window_before_days\":3661", 422,
	    "window_before_days");
	policy("\"ce_hours\":10,\"window_after_days\":-1", 422,
	    "window_after_days");
	policy("\"ce_hours\":10,\"window_before_days\":3660,"
	    "\"window_after_days\":0", 200, NULL);
	/* nothing refused was kept: the last good one is in force */
	assert_int_equal(testdb_llf(w.db, "SELECT window_before_days * 10000"
	    " + window_after_days FROM renewal_policies p JOIN levels l ON"
	    " l.id = p.level_id WHERE l.code = 'DN2'"), 3660 * 10000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(text_limits),
		cmocka_unit_test(blank_title),
		cmocka_unit_test(hours_limits),
		cmocka_unit_test(date_limits),
		cmocka_unit_test(policy_limits),
	};

	return cmocka_run_group_tests_name("e2e_celimits", tests, setup,
	    teardown);
}
