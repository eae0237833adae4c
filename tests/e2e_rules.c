/*
 * End to end: the rules (sql/0003_rules.sql) through a real certrackd
 * over raw HTTP, each with a case that passes and the nearest one that must
 * not: eligibility, prerequisites, exams only after enrollment, the pass
 * mark's boundary, the attempt limit, the retake wait, certificates issued
 * exactly when the third requirement is met (in any order), amendments
 * (with and without a reason, fail to pass issuing, pass to fail
 * revoking), two graders racing for the same attempt, and the audit trail:
 * every successful write leaves exactly one audit row carrying its request
 * id, every refused write leaves none.  Clinicians are seeded with SQL.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>

static char *conninfo;
static PGconn *db;
static pid_t daemon_pid = -1;
static int port;
static char *admin_tok, *grader_tok;
static int nclinicians;

/* ---- raw HTTP that keeps the X-Request-Id header ------------------------ */

struct reply {
	int status;
	char request_id[64];
	json_t *body;		/* NULL when the body is not JSON */
	char *text;
};

static void
reply_free(struct reply *r)
{
	json_decref(r->body);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* One request; thread-safe (no cmocka calls), status 0 on failure. */
static void
http_call(const char *method, const char *path, const char *token,
    const char *body, struct reply *r)
{
	struct sockaddr_in sa;
	char head[2048], buf[4096];
	size_t blen = body ? strlen(body) : 0, len = 0;
	char *all = NULL;
	ssize_t n;
	int fd;

	memset(r, 0, sizeof(*r));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	snprintf(head, sizeof(head), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s%s%s%sContent-Length: %zu\r\n\r\n",
	    method, path, body ? "Content-Type: application/json\r\n" : "",
	    token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "", "", blen);
	if (write(fd, head, strlen(head)) < 0 ||
	    (blen > 0 && write(fd, body, blen) < 0)) {
		close(fd);
		return;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *p = realloc(all, len + (size_t)n + 1);
		if (p == NULL)
			break;
		all = p;
		memcpy(all + len, buf, (size_t)n);
		len += (size_t)n;
		all[len] = '\0';
	}
	close(fd);
	if (all == NULL)
		return;
	if (sscanf(all, "HTTP/1.%*d %d", &r->status) != 1)
		r->status = 0;
	char *sep = strstr(all, "\r\n\r\n");
	if (sep != NULL) {
		*sep = '\0';
		for (char *line = strstr(all, "\r\n"); line != NULL;
		    line = strstr(line + 2, "\r\n")) {
			if (strncasecmp(line + 2, "X-Request-Id:", 13) == 0) {
				sscanf(line + 15, " %63[0-9a-fA-F]",
				    r->request_id);
			}
		}
		r->text = strdup(sep + 4);
		r->body = json_loads(r->text, 0, NULL);
	}
	free(all);
}

/* ---- database helpers ------------------------------------------------- */

static long long
sql_ll(const char *fmt, ...)
{
	char q[1024], *v;
	va_list ap;
	long long n;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	v = testdb_value(db, q);
	if (v == NULL)
		return -1;
	n = strtoll(v, NULL, 10);
	free(v);
	return n;
}

/* The text of a one-value query (caller frees). */
static char *
sql_text(const char *fmt, ...)
{
	char q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	return testdb_value(db, q);
}

/* Runs a statement that must succeed. */
static void
sql_do(const char *fmt, ...)
{
	char q[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q, sizeof(q), fmt, ap);
	va_end(ap);
	testdb_exec_ok(db, q);
}

static long long
new_clinician(const char *profession)
{
	nclinicians++;
	return sql_ll("INSERT INTO clinicians (email, given_name, family_name,"
	    " profession_code) VALUES ('c%d@rules.example', 'Given%d',"
	    " 'Family', '%s') RETURNING id", nclinicians, nclinicians,
	    profession);
}

static long long
audit_total(void)
{
	return sql_ll("SELECT count(*) FROM audit_log");
}

/* ---- API helpers ------------------------------------------------------ */

/*
 * A write that must succeed with WANT: exactly one audit row of its own
 * carries its request id (a certificate it issues or revokes adds one
 * more, checked where that happens).  Returns the reply body (caller
 * decrefs).
 */
static json_t *
write_ok(const char *method, const char *path, const char *token,
    const char *body, int want)
{
	struct reply r;
	json_t *j;

	http_call(method, path, token, body, &r);
	if (r.status != want)
		fail_msg("%s %s %s: want %d, got %d: %s", method, path,
		    body ? body : "", want, r.status, r.text ? r.text : "");
	assert_non_null(r.body);
	assert_int_equal(strlen(r.request_id), 32);
	assert_int_equal(sql_ll("SELECT count(*) FROM audit_log WHERE "
	    "request_id = '%s' AND entity <> 'certificate'", r.request_id), 1);
	j = json_incref(r.body);
	reply_free(&r);
	return j;
}

/*
 * A write that must be refused with WANT and problem CODE, leaving no
 * audit row.  Returns the problem body (caller decrefs).
 */
static json_t *
refused(const char *method, const char *path, const char *token,
    const char *body, int want, const char *code)
{
	long long before = audit_total();
	struct reply r;
	json_t *j;

	http_call(method, path, token, body, &r);
	if (r.status != want || r.body == NULL ||
	    !json_is_string(json_object_get(r.body, "code")) ||
	    strcmp(json_string_value(json_object_get(r.body, "code")),
	    code) != 0)
		fail_msg("%s %s %s: want %d %s, got %d: %s", method, path,
		    body ? body : "", want, code, r.status,
		    r.text ? r.text : "");
	assert_int_equal(audit_total(), before);
	assert_int_equal(sql_ll("SELECT count(*) FROM audit_log WHERE "
	    "request_id = '%s'", r.request_id), 0);
	j = json_incref(r.body);
	reply_free(&r);
	return j;
}

static const char *
str(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

static long long
num(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	return json_integer_value(v);
}

static long long
enroll(long long clinician, const char *level)
{
	char body[200];
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":\"%s\"}",
	    clinician, level);
	j = write_ok("POST", "/v1/enrollments", admin_tok, body, 201);
	assert_string_equal(str(j, "status"), "enrolled");
	assert_string_equal(str(j, "level"), level);
	id = num(j, "id");
	json_decref(j);
	return id;
}

static json_t *
complete(long long enrollment, const char *on)
{
	char path[100], body[100];

	snprintf(path, sizeof(path), "/v1/enrollments/%lld/complete",
	    enrollment);
	snprintf(body, sizeof(body), "{\"completed_on\":\"%s\"}", on);
	return write_ok("POST", path, grader_tok, body, 200);
}

static void
result_body(char *buf, size_t len, long long clinician, const char *level,
    const char *kind, const char *score, const char *max, const char *on)
{
	snprintf(buf, len, "{\"clinician_id\":%lld,\"level\":\"%s\","
	    "\"kind\":\"%s\",\"score\":%s,\"max_score\":%s,"
	    "\"taken_on\":\"%s\"}", clinician, level, kind, score, max, on);
}

static json_t *
record(long long clinician, const char *level, const char *kind,
    const char *score, const char *on)
{
	char body[300];

	result_body(body, sizeof(body), clinician, level, kind, score, "100",
	    on);
	return write_ok("POST", "/v1/exam-results", grader_tok, body, 201);
}

static json_t *
record_refused(long long clinician, const char *level, const char *kind,
    const char *score, const char *on, int want, const char *code)
{
	char body[300];

	result_body(body, sizeof(body), clinician, level, kind, score, "100",
	    on);
	return refused("POST", "/v1/exam-results", grader_tok, body, want,
	    code);
}

static long long
results_of(long long clinician)
{
	return sql_ll("SELECT count(*) FROM exam_results WHERE clinician_id "
	    "= %lld", clinician);
}

static long long
certs_of(long long clinician)
{
	return sql_ll("SELECT count(*) FROM certificates WHERE clinician_id "
	    "= %lld", clinician);
}

/* Certified in DN1 through the API: enrolled, completed, both passed. */
static long long
certify_dn1(long long c)
{
	long long e = enroll(c, "DN1");
	json_t *j;

	json_decref(complete(e, "2026-01-10"));
	json_decref(record(c, "DN1", "written", "90", "2026-01-11"));
	j = record(c, "DN1", "practical", "90", "2026-01-12");
	assert_true(json_is_object(json_object_get(j, "certificate")));
	json_decref(j);
	return e;
}

/* ---- group setup ------------------------------------------------------ */

static int
setup(void **state)
{
	char *pw;

	(void)state;
	db = testdb_migrated("e2e_rules", &conninfo);
	port = testlib_free_port();
	daemon_pid = testlib_start_daemon("e2e_rules", port, conninfo, NULL);
	pw = testlib_make_user(conninfo, "rules_admin", "admin", 0);
	admin_tok = testlib_login(port, "rules_admin", pw);
	free(pw);
	pw = testlib_make_user(conninfo, "rules_grader", "grader", 0);
	grader_tok = testlib_login(port, "rules_grader", pw);
	free(pw);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	if (daemon_pid > 0)
		assert_int_equal(testlib_stop_daemon(daemon_pid), 0);
	PQfinish(db);
	free(conninfo);
	free(admin_tok);
	free(grader_tok);
	return 0;
}

/* ---- rule 1: eligibility ---------------------------------------------- */

static void
ineligible_profession_refused(void **state)
{
	long long pta = new_clinician("PTA"), pt = new_clinician("PT");
	char body[200];
	json_t *j;

	(void)state;
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\"}", pta);
	j = refused("POST", "/v1/enrollments", admin_tok, body, 422,
	    "profession_not_eligible");
	assert_string_equal(str(j, "detail"), "Physical Therapist Assistant "
	    "(PTA) may not enroll in Dry Needling: eligible professions are "
	    "DC, DO, MD, NP, PA, PT");
	json_decref(j);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE "
	    "clinician_id = %lld", pta), 0);

	/* the eligible neighbour is let in */
	enroll(pt, "DN1");
}

/* ---- rule 2: prerequisites -------------------------------------------- */

static void
prerequisite_missing_refused(void **state)
{
	long long c = new_clinician("NP"), e1;
	char body[200];
	json_t *j;

	(void)state;
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN2\"}", c);
	j = refused("POST", "/v1/enrollments", admin_tok, body, 422,
	    "prerequisite_missing");
	assert_string_equal(str(j, "detail"),
	    "Level 2 requires Level 1 to be certified first");
	json_decref(j);

	/* DN1 completed and the written passed is not yet certified */
	e1 = enroll(c, "DN1");
	json_decref(complete(e1, "2026-01-10"));
	json_decref(record(c, "DN1", "written", "90", "2026-01-11"));
	json_decref(refused("POST", "/v1/enrollments", admin_tok, body, 422,
	    "prerequisite_missing"));
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE "
	    "clinician_id = %lld", c), 1);

	/* certified: DN2 is open */
	json_decref(record(c, "DN1", "practical", "90", "2026-01-12"));
	enroll(c, "DN2");
}

static void
revoked_prerequisite_does_not_count(void **state)
{
	long long c = new_clinician("MD");
	char body[200], sql[200];

	(void)state;
	certify_dn1(c);
	snprintf(sql, sizeof(sql), "UPDATE certificates SET revoked_at = "
	    "now(), revocation_category = 'other', revocation_reason = 'test' "
	    "WHERE clinician_id = %lld", c);
	testdb_exec_ok(db, sql);
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN2\"}", c);
	json_decref(refused("POST", "/v1/enrollments", admin_tok, body, 422,
	    "prerequisite_missing"));
}

static void
enrollment_refusals(void **state)
{
	long long c = new_clinician("PT"), e;
	char body[200], path[100];
	json_t *j;

	(void)state;
	e = enroll(c, "DN1");
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\"}", c);
	json_decref(refused("POST", "/v1/enrollments", admin_tok, body, 409,
	    "already_enrolled"));
	j = refused("POST", "/v1/enrollments", admin_tok,
	    "{\"clinician_id\":999999,\"level\":\"DN1\"}", 422,
	    "unknown_clinician");
	assert_string_equal(str(j, "field"), "clinician_id");
	json_decref(j);
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN9\"}", c);
	j = refused("POST", "/v1/enrollments", admin_tok, body, 422,
	    "unknown_level");
	assert_string_equal(str(j, "field"), "level");
	json_decref(j);
	/* graders do not enroll */
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\"}", c);
	json_decref(refused("POST", "/v1/enrollments", grader_tok, body, 403,
	    "forbidden"));

	/* withdrawn: may not complete; may enroll again */
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/withdraw", e);
	j = write_ok("POST", path, admin_tok, "{}", 200);
	assert_string_equal(str(j, "status"), "withdrawn");
	json_decref(j);
	json_decref(refused("POST", path, admin_tok, "{}", 409,
	    "already_withdrawn"));
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/complete", e);
	json_decref(refused("POST", path, grader_tok,
	    "{\"completed_on\":\"2026-02-01\"}", 409, "enrollment_withdrawn"));
	e = enroll(c, "DN1");
	json_decref(complete(e, "2026-02-01"));
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/complete", e);
	json_decref(refused("POST", path, grader_tok,
	    "{\"completed_on\":\"2026-02-02\"}", 409, "already_completed"));
	json_decref(refused("POST", "/v1/enrollments/999999/complete",
	    grader_tok, "{\"completed_on\":\"2026-02-02\"}", 404,
	    "not_found"));
}

static void
sessions_and_completion_dates(void **state)
{
	long long c = new_clinician("PA"), sid, e;
	char body[300], path[100];
	json_t *j;
	struct reply r;

	(void)state;
	j = write_ok("POST", "/v1/sessions", admin_tok, "{\"level\":\"DN1\","
	    "\"starts_on\":\"2026-05-01\",\"ends_on\":\"2026-05-03\","
	    "\"location\":\"Denver, CO\",\"instructor\":\"J. Smith\"}", 201);
	sid = num(j, "id");
	assert_string_equal(str(j, "level"), "DN1");
	assert_string_equal(str(j, "starts_on"), "2026-05-01");
	json_decref(j);
	json_decref(refused("POST", "/v1/sessions", admin_tok, "{\"level\":"
	    "\"DN1\",\"starts_on\":\"2026-05-01\",\"ends_on\":\"2026-05-03\","
	    "\"location\":\"Denver, CO\"}", 409, "duplicate"));
	json_decref(refused("POST", "/v1/sessions", admin_tok, "{\"level\":"
	    "\"DN1\",\"starts_on\":\"2026-05-03\",\"ends_on\":\"2026-05-01\"}",
	    422, "invalid_dates"));

	http_call("GET", "/v1/sessions?level=DN1", grader_tok, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_array_size(json_object_get(r.body, "sessions")) >= 1);
	reply_free(&r);
	http_call("GET", "/v1/sessions?level=DN2", grader_tok, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.body,
	    "sessions")), 0);
	reply_free(&r);

	/* a session of another level is refused */
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN2\",\"session_id\":%lld}", c, sid);
	json_decref(refused("POST", "/v1/enrollments", admin_tok, body, 422,
	    "session_level_mismatch"));
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\",\"session_id\":%lld}", c, sid);
	j = write_ok("POST", "/v1/enrollments", admin_tok, body, 201);
	e = num(j, "id");
	assert_int_equal(num(j, "session_id"), sid);
	json_decref(j);

	/* completed the day before the session starts: refused */
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/complete", e);
	j = refused("POST", path, grader_tok,
	    "{\"completed_on\":\"2026-04-30\"}", 422,
	    "completed_before_session");
	assert_string_equal(str(j, "field"), "completed_on");
	json_decref(j);
	assert_int_equal(sql_ll("SELECT count(*) FROM enrollments WHERE id = "
	    "%lld AND status = 'enrolled'", e), 1);
	j = complete(e, "2026-05-01");
	assert_string_equal(str(j, "status"), "completed");
	assert_string_equal(str(j, "completed_on"), "2026-05-01");
	assert_true(json_is_null(json_object_get(j, "certificate")));
	json_decref(j);
}

/* ---- rule 3: exams follow coursework ---------------------------------- */

static void
exam_without_enrollment_refused(void **state)
{
	long long c = new_clinician("PT"), e;
	char path[100];
	json_t *j;

	(void)state;
	j = record_refused(c, "DN1", "written", "90", "2026-01-10", 422,
	    "not_enrolled");
	json_decref(j);
	assert_int_equal(results_of(c), 0);

	/* a withdrawn enrollment is not an enrollment */
	e = enroll(c, "DN1");
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/withdraw", e);
	json_decref(write_ok("POST", path, admin_tok, NULL, 200));
	json_decref(record_refused(c, "DN1", "written", "90", "2026-01-10",
	    422, "not_enrolled"));
	assert_int_equal(results_of(c), 0);

	enroll(c, "DN1");
	json_decref(record(c, "DN1", "written", "90", "2026-01-10"));
	assert_int_equal(results_of(c), 1);
}

/* ---- rule 4: pass marks ----------------------------------------------- */

static void
pass_mark_boundary(void **state)
{
	long long c = new_clinician("DO");
	json_t *j;
	char body[300];

	(void)state;
	enroll(c, "DN1");
	j = record(c, "DN1", "written", "75", "2026-01-10");
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_int_equal(num(j, "pass_mark"), 75);
	assert_int_equal(num(j, "attempt"), 1);
	assert_string_equal(str(j, "graded_by"), "rules_grader");
	json_decref(j);

	j = record(c, "DN1", "practical", "74.99", "2026-01-10");
	assert_true(json_is_false(json_object_get(j, "passed")));
	assert_int_equal(sql_ll("SELECT count(*) FROM exam_results WHERE "
	    "clinician_id = %lld AND kind = 'practical' AND score = 74.99 AND "
	    "NOT passed", c), 1);
	json_decref(j);

	/* the mark is a percentage: 30 of 40 is exactly 75 % */
	long long c2 = new_clinician("DO");
	enroll(c2, "DN1");
	result_body(body, sizeof(body), c2, "DN1", "written", "30", "40",
	    "2026-01-10");
	j = write_ok("POST", "/v1/exam-results", grader_tok, body, 201);
	assert_true(json_is_true(json_object_get(j, "passed")));
	json_decref(j);

	/* above the maximum: refused, nothing stored */
	result_body(body, sizeof(body), c2, "DN1", "practical", "41", "40",
	    "2026-01-10");
	json_decref(refused("POST", "/v1/exam-results", grader_tok, body, 422,
	    "score_above_max"));
	result_body(body, sizeof(body), c2, "DN1", "oral", "30", "40",
	    "2026-01-10");
	json_decref(refused("POST", "/v1/exam-results", grader_tok, body, 422,
	    "invalid_kind"));
	assert_int_equal(results_of(c2), 1);
}

/* ---- rule 5: attempts and the retake wait ----------------------------- */

static void
attempts_limited_to_three(void **state)
{
	long long c = new_clinician("PT");
	json_t *j;

	(void)state;
	enroll(c, "DN1");
	json_decref(record(c, "DN1", "written", "10", "2026-01-01"));
	json_decref(record(c, "DN1", "written", "20", "2026-01-15"));
	j = record(c, "DN1", "written", "30", "2026-01-29");
	assert_int_equal(num(j, "attempt"), 3);
	json_decref(j);

	j = record_refused(c, "DN1", "written", "90", "2026-02-12", 422,
	    "attempts_exhausted");
	assert_string_equal(str(j, "detail"),
	    "all 3 attempts at the written exam of Level 1 are used");
	json_decref(j);
	assert_int_equal(results_of(c), 3);

	/* the practical has its own three */
	j = record(c, "DN1", "practical", "10", "2026-02-12");
	assert_int_equal(num(j, "attempt"), 1);
	json_decref(j);
}

static void
retake_wait(void **state)
{
	long long c = new_clinician("PT");
	json_t *j;

	(void)state;
	enroll(c, "DN1");
	json_decref(record(c, "DN1", "written", "50", "2026-03-01"));

	/* 13 days later: one day too early */
	j = record_refused(c, "DN1", "written", "90", "2026-03-14", 422,
	    "retake_too_soon");
	assert_string_equal(str(j, "next_allowed_on"), "2026-03-15");
	assert_string_equal(str(j, "detail"), "the next written attempt at "
	    "Level 1 is allowed on or after 2026-03-15");
	json_decref(j);
	assert_int_equal(results_of(c), 1);

	/* 14 days later: allowed */
	j = record(c, "DN1", "written", "90", "2026-03-15");
	assert_int_equal(num(j, "attempt"), 2);
	assert_true(json_is_true(json_object_get(j, "passed")));
	json_decref(j);

	/* passed: no further attempt, however late */
	json_decref(record_refused(c, "DN1", "written", "95", "2026-06-01",
	    422, "already_passed"));
	assert_int_equal(results_of(c), 2);
}

static void
explicit_attempt_checked(void **state)
{
	long long c = new_clinician("PT");
	char body[300];
	json_t *j;

	(void)state;
	enroll(c, "DN1");
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\",\"kind\":\"written\",\"score\":50,\"max_score\":100,"
	    "\"taken_on\":\"2026-01-01\",\"attempt\":2}", c);
	j = refused("POST", "/v1/exam-results", grader_tok, body, 409,
	    "attempt_conflict");
	assert_string_equal(str(j, "field"), "attempt");
	json_decref(j);
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\",\"kind\":\"written\",\"score\":50,\"max_score\":100,"
	    "\"taken_on\":\"2026-01-01\",\"attempt\":1}", c);
	json_decref(write_ok("POST", "/v1/exam-results", grader_tok, body,
	    201));
	j = refused("POST", "/v1/exam-results", grader_tok, body, 409,
	    "attempt_conflict");
	assert_string_equal(str(j, "detail"),
	    "attempt 1 is already recorded; the next is 2");
	json_decref(j);
	assert_int_equal(results_of(c), 1);
}

/* Two graders submit the same next attempt at the same moment. */
struct racer {
	const char *body;
	pthread_barrier_t *go;
	struct reply r;
};

static void *
race(void *arg)
{
	struct racer *rc = arg;

	pthread_barrier_wait(rc->go);
	http_call("POST", "/v1/exam-results", grader_tok, rc->body, &rc->r);
	return NULL;
}

static void
concurrent_same_attempt(void **state)
{
	(void)state;
	for (int round = 0; round < 5; round++) {
		long long c = new_clinician("PT");
		long long audits = audit_total();
		pthread_barrier_t go;
		pthread_t t[2];
		struct racer rc[2];
		char body[300];
		int created = 0, conflicts = 0;

		enroll(c, "DN1");
		audits = audit_total();
		snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
		    "\"DN1\",\"kind\":\"written\",\"score\":50,\"max_score\":"
		    "100,\"taken_on\":\"2026-01-01\",\"attempt\":1}", c);
		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++) {
			rc[i].body = body;
			rc[i].go = &go;
			assert_int_equal(pthread_create(&t[i], NULL, race,
			    &rc[i]), 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < 2; i++) {
			if (rc[i].r.status == 201) {
				created++;
			} else {
				if (rc[i].r.status != 409 ||
				    strcmp(str(rc[i].r.body, "code"),
				    "attempt_conflict") != 0)
					fail_msg("racer: %d %s", rc[i].r.status,
					    rc[i].r.text);
				conflicts++;
			}
		}
		assert_int_equal(created, 1);
		assert_int_equal(conflicts, 1);
		assert_int_equal(results_of(c), 1);
		assert_int_equal(audit_total(), audits + 1);
		for (int i = 0; i < 2; i++)
			reply_free(&rc[i].r);
	}
}

/* ---- rule 6: certification -------------------------------------------- */

static void
expect_certificate(json_t *j, long long c, const char *issued,
    const char *expires)
{
	json_t *cert = json_object_get(j, "certificate");

	assert_true(json_is_object(cert));
	assert_string_equal(str(cert, "issued_on"), issued);
	assert_string_equal(str(cert, "expires_on"), expires);
	assert_string_equal(str(cert, "level"), "DN1");
	assert_int_equal(strlen(str(cert, "number")), 14);
	assert_int_equal(certs_of(c), 1);
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "clinician_id = %lld AND issued_on = '%s' AND expires_on = '%s' "
	    "AND number = '%s' AND certificate_number_valid(number)", c,
	    issued, expires, str(cert, "number")), 1);
}

static void
expect_no_certificate(json_t *j, long long c)
{
	assert_true(json_is_null(json_object_get(j, "certificate")));
	assert_int_equal(certs_of(c), 0);
}

static void
certificate_when_completion_is_last(void **state)
{
	long long c = new_clinician("PT"), e = enroll(c, "DN1");
	json_t *j;

	(void)state;
	j = record(c, "DN1", "written", "80", "2026-02-01");
	expect_no_certificate(j, c);
	json_decref(j);
	j = record(c, "DN1", "practical", "80", "2026-02-02");
	expect_no_certificate(j, c);
	json_decref(j);
	j = complete(e, "2026-02-03");
	expect_certificate(j, c, "2026-02-03", "2028-02-03");
	json_decref(j);
}

static void
certificate_when_written_is_last(void **state)
{
	long long c = new_clinician("PT"), e = enroll(c, "DN1");
	json_t *j;

	(void)state;
	j = complete(e, "2026-02-01");
	expect_no_certificate(j, c);
	json_decref(j);
	j = record(c, "DN1", "practical", "80", "2026-02-02");
	expect_no_certificate(j, c);
	json_decref(j);
	/* a failed written is not the third requirement */
	j = record(c, "DN1", "written", "60", "2026-02-03");
	expect_no_certificate(j, c);
	json_decref(j);
	j = record(c, "DN1", "written", "80", "2026-02-17");
	expect_certificate(j, c, "2026-02-17", "2028-02-17");
	json_decref(j);
	/* exactly once */
	assert_int_equal(certs_of(c), 1);
}

static void
certificate_when_practical_is_last(void **state)
{
	long long c = new_clinician("PT"), e = enroll(c, "DN1");
	json_t *j;

	(void)state;
	j = record(c, "DN1", "written", "80", "2026-02-01");
	expect_no_certificate(j, c);
	json_decref(j);
	j = complete(e, "2026-02-10");
	expect_no_certificate(j, c);
	json_decref(j);
	/* the practical sat before the course ended, graded last: issued on
	 * the day the last requirement was met, the completion */
	j = record(c, "DN1", "practical", "100", "2026-02-05");
	expect_certificate(j, c, "2026-02-10", "2028-02-10");
	json_decref(j);
}

/* ---- amendments ------------------------------------------------------- */

static void
amend_needs_reason_and_current_row(void **state)
{
	long long c = new_clinician("PT"), id, id2;
	char path[100];
	struct reply r;
	json_t *j;

	(void)state;
	enroll(c, "DN1");
	j = record(c, "DN1", "written", "70", "2026-01-05");
	id = num(j, "id");
	json_decref(j);

	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", id);
	j = refused("POST", path, grader_tok, "{\"score\":72}", 422,
	    "missing_field");
	assert_string_equal(str(j, "field"), "reason");
	json_decref(j);
	assert_int_equal(results_of(c), 1);

	j = write_ok("POST", path, grader_tok,
	    "{\"score\":72,\"reason\":\"page 3 was not counted\"}", 201);
	id2 = num(j, "id");
	assert_int_equal(num(j, "supersedes"), id);
	assert_int_equal(num(j, "attempt"), 1);
	assert_string_equal(str(j, "amend_reason"), "page 3 was not counted");
	assert_true(json_is_false(json_object_get(j, "passed")));
	assert_true(json_is_true(json_object_get(j, "current")));
	assert_string_equal(str(j, "taken_on"), "2026-01-05");
	json_decref(j);
	assert_int_equal(results_of(c), 2);

	/* the superseded row may not be amended again */
	j = refused("POST", path, grader_tok,
	    "{\"score\":90,\"reason\":\"again\"}", 409, "superseded");
	json_decref(j);
	assert_int_equal(results_of(c), 2);

	/* the amendment is not a new attempt */
	json_decref(record(c, "DN1", "written", "50", "2026-01-19"));
	assert_int_equal(sql_ll("SELECT max(attempt) FROM exam_results WHERE "
	    "clinician_id = %lld", c), 2);

	/* history: every row, the first no longer current */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/exam-results", c);
	http_call("GET", path, grader_tok, NULL, &r);
	assert_int_equal(r.status, 200);
	json_t *rows = json_object_get(r.body, "results");
	assert_int_equal(json_array_size(rows), 3);
	assert_int_equal(num(json_array_get(rows, 0), "id"), id);
	assert_true(json_is_false(json_object_get(json_array_get(rows, 0),
	    "current")));
	assert_int_equal(num(json_array_get(rows, 1), "id"), id2);
	assert_true(json_is_true(json_object_get(json_array_get(rows, 1),
	    "current")));
	assert_string_equal(str(json_array_get(rows, 1), "graded_by"),
	    "rules_grader");
	reply_free(&r);
}

static void
amend_fail_to_pass_issues_certificate(void **state)
{
	long long c = new_clinician("PT"), e = enroll(c, "DN1"), id;
	char path[100];
	json_t *j;

	(void)state;
	json_decref(complete(e, "2026-03-01"));
	json_decref(record(c, "DN1", "practical", "90", "2026-03-02"));
	j = record(c, "DN1", "written", "74", "2026-03-03");
	id = num(j, "id");
	expect_no_certificate(j, c);
	json_decref(j);

	/* the pass mark used is the one stored with the original row */
	testdb_exec_ok(db, "UPDATE levels SET written_pass_mark = 90 "
	    "WHERE code = 'DN1'");
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", id);
	j = write_ok("POST", path, grader_tok,
	    "{\"score\":76,\"reason\":\"question 12 regraded\"}", 201);
	testdb_exec_ok(db, "UPDATE levels SET written_pass_mark = 75 "
	    "WHERE code = 'DN1'");
	assert_true(json_is_true(json_object_get(j, "passed")));
	assert_int_equal(num(j, "pass_mark"), 75);
	expect_certificate(j, c, "2026-03-03", "2028-03-03");
	assert_true(json_is_null(json_object_get(j, "revoked_certificate")));
	json_decref(j);
}

static void
amend_pass_to_fail_revokes(void **state)
{
	long long c = new_clinician("PT"), id;
	char path[100], *old;
	json_t *j, *rev;

	(void)state;
	certify_dn1(c);
	id = sql_ll("SELECT id FROM exam_results WHERE clinician_id = %lld "
	    "AND kind = 'written'", c);
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", id);
	j = write_ok("POST", path, grader_tok,
	    "{\"score\":60,\"max_score\":100,\"reason\":\"answer key error\"}",
	    201);
	assert_true(json_is_false(json_object_get(j, "passed")));
	assert_true(json_is_null(json_object_get(j, "certificate")));
	rev = json_object_get(j, "revoked_certificate");
	assert_true(json_is_object(rev));
	assert_string_equal(str(rev, "revocation_reason"),
	    "exam result amended: answer key error");
	assert_string_equal(str(rev, "revocation_category"),
	    "exam_result_amended");
	json_decref(j);
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "clinician_id = %lld AND revoked_at IS NOT NULL AND "
	    "revocation_reason = 'exam result amended: answer key error'", c),
	    1);
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates WHERE "
	    "clinician_id = %lld AND revoked_at IS NULL", c), 0);

	/* passing again issues a new certificate in place of the revoked
	 * one (rule 9): a new number, dated as the rules date it, linked;
	 * the revoked one stays revoked */
	id = sql_ll("SELECT id FROM exam_results_current WHERE clinician_id "
	    "= %lld AND kind = 'written'", c);
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", id);
	j = write_ok("POST", path, grader_tok,
	    "{\"score\":95,\"reason\":\"answer key fixed\"}", 201);
	assert_true(json_is_true(json_object_get(j, "passed")));
	rev = json_object_get(j, "certificate");
	assert_true(json_is_object(rev));
	old = sql_text("SELECT number FROM certificates WHERE clinician_id = "
	    "%lld AND revoked_at IS NOT NULL", c);
	assert_string_equal(str(rev, "replaces"), old);
	free(old);
	assert_true(json_is_null(json_object_get(rev, "revoked_at")));
	json_decref(j);
	assert_int_equal(certs_of(c), 2);
	assert_int_equal(sql_ll("SELECT count(*) FROM certificates n JOIN "
	    "certificates o ON o.id = n.replaces WHERE n.clinician_id = %lld "
	    "AND n.revoked_at IS NULL AND o.revoked_at IS NOT NULL AND "
	    "n.number <> o.number AND n.issued_on = (SELECT issued_on FROM "
	    "certificates WHERE id = o.id)", c), 1);
	/* the level counts as certified again: DN2 may be enrolled in */
	enroll(c, "DN2");

	/* an administrator's revocation is never undone by the rules */
	sql_do("UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'misconduct', revocation_reason = 'x' "
	    "WHERE clinician_id = %lld AND revoked_at IS NULL", c);
	id = sql_ll("SELECT id FROM exam_results_current WHERE clinician_id "
	    "= %lld AND kind = 'written'", c);
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", id);
	j = write_ok("POST", path, grader_tok,
	    "{\"score\":96,\"reason\":\"typo\"}", 201);
	assert_true(json_is_null(json_object_get(j, "certificate")));
	json_decref(j);
	assert_int_equal(certs_of(c), 2);
}

/* ---- who sees what ---------------------------------------------------- */

static void
history_only_own_for_clinicians(void **state)
{
	long long me = new_clinician("PT"), other = new_clinician("PT");
	char path[100], *pw, *tok;
	struct reply r;

	(void)state;
	enroll(me, "DN1");
	json_decref(record(me, "DN1", "written", "80", "2026-01-10"));
	pw = testlib_make_user(conninfo, "rules_clinician", "clinician", me);
	tok = testlib_login(port, "rules_clinician", pw);

	snprintf(path, sizeof(path), "/v1/clinicians/%lld/exam-results", me);
	http_call("GET", path, tok, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(json_array_size(json_object_get(r.body, "results")),
	    1);
	reply_free(&r);

	snprintf(path, sizeof(path), "/v1/clinicians/%lld/exam-results",
	    other);
	http_call("GET", path, tok, NULL, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	http_call("GET", "/v1/clinicians/999999/exam-results", grader_tok,
	    NULL, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);

	/* clinicians write nothing */
	json_decref(refused("POST", "/v1/exam-results", tok, "{}", 403,
	    "forbidden"));
	free(pw);
	free(tok);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ineligible_profession_refused),
		cmocka_unit_test(prerequisite_missing_refused),
		cmocka_unit_test(revoked_prerequisite_does_not_count),
		cmocka_unit_test(enrollment_refusals),
		cmocka_unit_test(sessions_and_completion_dates),
		cmocka_unit_test(exam_without_enrollment_refused),
		cmocka_unit_test(pass_mark_boundary),
		cmocka_unit_test(attempts_limited_to_three),
		cmocka_unit_test(retake_wait),
		cmocka_unit_test(explicit_attempt_checked),
		cmocka_unit_test(concurrent_same_attempt),
		cmocka_unit_test(certificate_when_completion_is_last),
		cmocka_unit_test(certificate_when_written_is_last),
		cmocka_unit_test(certificate_when_practical_is_last),
		cmocka_unit_test(amend_needs_reason_and_current_row),
		cmocka_unit_test(amend_fail_to_pass_issues_certificate),
		cmocka_unit_test(amend_pass_to_fail_revokes),
		cmocka_unit_test(history_only_own_for_clinicians),
	};

	return cmocka_run_group_tests_name("e2e_rules", tests, setup,
	    teardown);
}
