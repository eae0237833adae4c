/*
 * The lookup cache's token checks end to end (issue 10, item 4), and two
 * daemons on one database: a write through one is served by the other
 * within 100 ms.
 *
 * A token check is cached by the daemon that made it: shown by changing
 * the database behind the daemons' backs (session_replication_role =
 * replica: this session fires no trigger, so nobody is told), after which
 * the daemon still serves the old check.  Every write through the API
 * that changes a check -- a token revoked, a logout, an account disabled,
 * its role changed, a password changed -- is refused (or answered anew)
 * by the very next request on the daemon that wrote, and within 100 ms
 * on the other.
 * An expired token is refused when it expires, though nothing tells the
 * daemon.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* What the issue asks of another daemon. */
#define OTHER_DAEMON_S 0.100

static struct testlib_world w;
static int port2;
static pid_t daemon2;

/* The status of GET PATH with TOKEN on the daemon on PORT. */
static int
ask(int port, const char *path, const char *token)
{
	return testlib_api(port, "GET", path, token, NULL, NULL);
}

static int
me(int port, const char *token)
{
	return ask(port, "/v1/me", token);
}

/* The SQL statement SQL run with no trigger firing (nobody told). */
static void
silently(const char *sql)
{
	char all[600];

	snprintf(all, sizeof(all), "SET session_replication_role = replica;"
	    " %s; SET session_replication_role = DEFAULT", sql);
	testdb_exec_ok(w.db, all);
}

/* A new account NAME of ROLE, logged in: its token (caller frees), its id
 * in *ID. */
static char *
account(const char *name, const char *role, long long *id)
{
	char *pw = testlib_make_user(w.conninfo, name, role, 0);
	char *token = testlib_login(w.port, name, pw);

	*id = testdb_llf(w.db, "SELECT id FROM users WHERE username = '%s'",
	    name);
	free(pw);
	return token;
}

/* The id of the account's newest token. */
static long long
token_id(long long user)
{
	return testdb_llf(w.db, "SELECT max(id) FROM api_tokens WHERE"
	    " user_id = %lld", user);
}

/*
 * Makes both daemons cache TOKEN's check (a request each, then a second,
 * which a notification still on its way may have kept from being stored
 * the first time), and proves it: with the token revoked silently, both
 * still serve it.  Then unrevokes it, silently too.
 */
static void
cached_on_both(const char *token, long long user)
{
	char sql[200];

	for (int i = 0; i < 2; i++) {
		assert_int_equal(me(w.port, token), 200);
		assert_int_equal(me(port2, token), 200);
	}
	snprintf(sql, sizeof(sql), "UPDATE api_tokens SET revoked_at = now()"
	    " WHERE user_id = %lld AND revoked_at IS NULL", user);
	silently(sql);
	assert_int_equal(me(w.port, token), 200);
	assert_int_equal(me(port2, token), 200);
	snprintf(sql, sizeof(sql), "UPDATE api_tokens SET revoked_at = NULL"
	    " WHERE user_id = %lld", user);
	silently(sql);
}

/*
 * GET PATH with TOKEN on the daemon on PORT answers WANT within
 * OTHER_DAEMON_S: another daemon than the one that wrote may serve the
 * old answer for up to 50 ms (include/certrack/cache.h).
 */
static void
answers_within(int port, const char *path, const char *token, int want)
{
	double t0 = testlib_now();
	int got;

	while ((got = ask(port, path, token)) != want)
		if (testlib_now() - t0 >= OTHER_DAEMON_S)
			fail_msg("GET %s still answers %d, not %d, %.0f ms on",
			    path, got, want, (testlib_now() - t0) * 1000);
}

/* TOKEN's very next request is refused on the daemon on FIRST (the one
 * that wrote), and within 100 ms on the other. */
static void
refused_by_both(int first, const char *token)
{
	assert_int_equal(me(first, token), 401);
	answers_within(first == w.port ? port2 : w.port, "/v1/me", token, 401);
}

static void
revoked_token_is_refused_at_once(void **state)
{
	long long user, id;
	char *token = account("rita", "grader", &user), path[64];

	(void)state;
	cached_on_both(token, user);
	id = token_id(user);
	snprintf(path, sizeof(path), "/v1/tokens/%lld", id);
	assert_int_equal(testlib_api(w.port, "DELETE", path, w.admin, NULL,
	    NULL), 204);
	refused_by_both(w.port, token);
	free(token);
}

static void
logout_is_refused_at_once(void **state)
{
	long long user;
	char *token = account("luke", "grader", &user);

	(void)state;
	cached_on_both(token, user);
	/* through the second daemon this time */
	assert_int_equal(testlib_api(port2, "POST", "/v1/logout", token, NULL,
	    NULL), 204);
	refused_by_both(port2, token);
	free(token);
}

static void
disabled_account_is_refused_at_once(void **state)
{
	long long user;
	char *token = account("dora", "grader", &user), path[64];

	(void)state;
	cached_on_both(token, user);
	snprintf(path, sizeof(path), "/v1/users/%lld", user);
	assert_int_equal(testlib_api(w.port, "PATCH", path, w.admin,
	    "{\"disabled\":true}", NULL), 200);
	refused_by_both(w.port, token);
	/* enabled again, the token stays revoked (the disable revoked it) */
	assert_int_equal(testlib_api(w.port, "PATCH", path, w.admin,
	    "{\"disabled\":false}", NULL), 200);
	assert_int_equal(me(w.port, token), 401);
	free(token);
}

static void
role_change_is_seen_at_once(void **state)
{
	long long user;
	char *token = account("rory", "grader", &user), path[64];

	(void)state;
	cached_on_both(token, user);
	assert_int_equal(ask(w.port, "/v1/users", token), 403);
	assert_int_equal(ask(port2, "/v1/users", token), 403);
	snprintf(path, sizeof(path), "/v1/users/%lld", user);
	assert_int_equal(testlib_api(w.port, "PATCH", path, w.admin,
	    "{\"role\":\"admin\"}", NULL), 200);
	/* the same token, the account's new role */
	assert_int_equal(ask(w.port, "/v1/users", token), 200);
	answers_within(port2, "/v1/users", token, 200);
	assert_int_equal(testlib_api(port2, "PATCH", path, w.admin,
	    "{\"role\":\"grader\"}", NULL), 200);
	assert_int_equal(ask(port2, "/v1/users", token), 403);
	answers_within(w.port, "/v1/users", token, 403);
	free(token);
}

static void
password_change_ends_the_other_sessions_at_once(void **state)
{
	long long user;
	char *pw = testlib_make_user(w.conninfo, "pete", "grader", 0);
	char *one = testlib_login(w.port, "pete", pw);
	char *two = testlib_login(w.port, "pete", pw), body[300];

	(void)state;
	user = testdb_llf(w.db, "SELECT id FROM users WHERE username = 'pete'");
	cached_on_both(one, user);
	cached_on_both(two, user);
	snprintf(body, sizeof(body), "{\"current_password\":\"%s\","
	    "\"new_password\":\"%s-and-more\"}", pw, pw);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/me/password", one,
	    body, NULL), 204);
	refused_by_both(w.port, two);
	/* the session that made the change goes on */
	assert_int_equal(me(w.port, one), 200);
	assert_int_equal(me(port2, one), 200);
	free(one);
	free(two);
	free(pw);
}

/*
 * A token's expiry is kept with its cached check: served until then (even
 * revoked silently), refused from then on, with nothing to tell the
 * daemon.
 */
static void
expired_token_is_refused_when_it_expires(void **state)
{
	long long user;
	char *token = account("ella", "grader", &user), sql[200];
	double before, after;

	(void)state;
	snprintf(sql, sizeof(sql), "UPDATE api_tokens SET expires_at = now()"
	    " + interval '2 seconds' WHERE user_id = %lld", user);
	before = testlib_now();
	silently(sql);
	after = testlib_now();
	/* its first check since the login: read with the new expiry */
	for (int i = 0; i < 2; i++)
		assert_int_equal(me(w.port, token), 200);
	snprintf(sql, sizeof(sql), "UPDATE api_tokens SET revoked_at = now()"
	    " WHERE user_id = %lld", user);
	silently(sql);
	/* cached: still served, up to the expiry */
	if (testlib_now() < before + 1.5)
		assert_int_equal(me(w.port, token), 200);
	else
		print_message("the machine is slow: the check before the "
		    "expiry is skipped\n");
	/* the expiry is at most 2 s after the statement returned */
	while (testlib_now() < after + 2.0)
		usleep(10 * 1000);
	assert_int_equal(me(w.port, token), 401);
	free(token);
}

/* ---- two daemons: a write through one, served by the other ------------ */

/* A clinician enrolled in DN1 (through the first daemon): its id. */
static long long
enrolled(const char *email)
{
	char body[300], *resp = NULL;
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"given_name\":"
	    "\"Two\",\"family_name\":\"Daemons\",\"profession\":\"PT\"}",
	    email);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/clinicians",
	    w.admin, body, &resp), 201);
	j = testlib_json(resp);
	id = testlib_int(j, "id");
	json_decref(j);
	free(resp);
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\"}", id);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/enrollments",
	    w.admin, body, NULL), 201);
	return id;
}

/* GET PATH on the daemon on PORT as the admin: 200 and its body (caller
 * frees). */
static char *
body_of(int port, const char *path)
{
	char *resp = NULL;

	assert_int_equal(testlib_api(port, "GET", path, w.admin, NULL,
	    &resp), 200);
	return resp;
}

/*
 * Polls PATH on the second daemon until its answer holds NEEDLE (as the
 * admin; TOKEN instead, with 401 as the new answer, when NEEDLE is
 * NULL), from REPLIED (the first daemon's reply to the write): fails
 * unless the first new answer arrives within OTHER_DAEMON_S.  Returns the
 * number of old answers served first.
 */
static int
served_new_within(const char *what, const char *path, const char *needle,
    const char *token, double replied)
{
	double took;
	int old = 0;

	for (;;) {
		bool fresh;

		if (needle != NULL) {
			char *resp = body_of(port2, path);
			fresh = strstr(resp, needle) != NULL;
			free(resp);
		} else {
			fresh = ask(port2, path, token) == 401;
		}
		took = testlib_now() - replied;
		if (fresh)
			break;
		old++;
		if (took > 5.0)
			fail_msg("%s: the second daemon still serves the old "
			    "answer after %.0f ms", what, took * 1000);
	}
	print_message("%s: the second daemon's first new answer %.1f ms after "
	    "the first daemon's reply (%d old answers first)\n", what,
	    took * 1000, old);
	if (took >= OTHER_DAEMON_S)
		fail_msg("%s: the second daemon's new answer came %.1f ms after "
		    "the write's reply (at most %.0f ms)", what, took * 1000,
		    OTHER_DAEMON_S * 1000);
	return old;
}

/* A written exam of clinician ID taken TODAY, as a request body. */
static void
result_body(char *body, size_t len, long long id, const char *today)
{
	snprintf(body, len, "{\"clinician_id\":%lld,\"level\":\"DN1\","
	    "\"kind\":\"written\",\"score\":73,\"max_score\":100,"
	    "\"taken_on\":\"%s\"}", id, today);
}

/* Records a written exam of clinician ID through the first daemon. */
static void
record(long long id, const char *today)
{
	char body[300];

	result_body(body, sizeof(body), id, today);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/exam-results",
	    w.grader, body, NULL), 201);
}

static void
result_through_one_is_served_by_the_other(void **state)
{
	long long warm = enrolled("warm@example.org");
	long long id = enrolled("two@example.org");
	char path[64], *today, *resp;
	double replied;

	(void)state;
	today = testdb_value(w.db, "SELECT current_date::text");
	/* The first status with a result in it runs (and so plans)
	 * statements of the status functions that no status ran before:
	 * tens of milliseconds once, on a slow machine, that have nothing
	 * to do with how the second daemon learns of the write. */
	record(warm, today);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", warm);
	free(body_of(port2, path));
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	for (int i = 0; i < 2; i++) {
		resp = body_of(port2, path);
		testlib_lacks(resp, "\"score\"");
		free(resp);
	}
	record(id, today);
	replied = testlib_now();
	served_new_within("an exam result", path, "\"score\"", NULL, replied);
	free(today);
}

static void
revocation_through_one_is_served_by_the_other(void **state)
{
	long long id = enrolled("rev@example.org");
	char sql[300], path[80], *number, *resp;
	double replied;

	(void)state;
	/* issued silently: no notification of it still on its way */
	snprintf(sql, sizeof(sql), "INSERT INTO certificates (number,"
	    " clinician_id, level_id, issued_on) SELECT"
	    " certificate_number_new(), %lld, id, current_date - 1 FROM levels"
	    " WHERE code = 'DN1'", id);
	silently(sql);
	number = testdb_textf(w.db, "SELECT number FROM certificates WHERE"
	    " clinician_id = %lld", id);
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	for (int i = 0; i < 2; i++) {
		resp = body_of(port2, path);
		testlib_has(resp, "\"valid\"");
		free(resp);
	}
	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", number);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin,
	    "{\"category\":\"other\",\"note\":\"two daemons\"}", NULL), 200);
	replied = testlib_now();
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	served_new_within("a revocation", path, "\"revoked\"", NULL, replied);
	free(number);
}

static void
token_revoked_through_one_is_refused_by_the_other(void **state)
{
	long long user;
	char *token = account("tess", "grader", &user), path[64];
	double replied;

	(void)state;
	cached_on_both(token, user);
	snprintf(path, sizeof(path), "/v1/tokens/%lld", token_id(user));
	assert_int_equal(testlib_api(w.port, "DELETE", path, w.admin, NULL,
	    NULL), 204);
	replied = testlib_now();
	served_new_within("a token revoked", "/v1/me", NULL, token, replied);
	free(token);
}

/* Sends POST PATH with the JSON BODY as TOKEN to the daemon on PORT
 * (Connection: close), without waiting for the answer: the socket. */
static int
post_start(int port, const char *path, const char *token, const char *body)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((uint16_t)port) };
	char req[1024];
	int fd = socket(AF_INET, SOCK_STREAM, 0), n;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Authorization: Bearer %s\r\nContent-Type: application/json\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", path, token,
	    strlen(body), body);
	assert_int_equal(write(fd, req, (size_t)n), n);
	return fd;
}

/* The status of the answer on FD (read to its end), which is closed. */
static int
post_finish(int fd)
{
	char buf[4096];
	size_t len = 0;
	ssize_t n;
	int status = 0;

	while (len < sizeof(buf) - 1 &&
	    (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = '\0';
	close(fd);
	if (sscanf(buf, "HTTP/1.1 %d", &status) != 1)
		fail_msg("no answer: '%s'", buf);
	return status;
}

/*
 * A cached answer needs no pooled database connection: with the only one
 * of a third daemon (--threads 1) held by a write waiting for a row lock
 * this test holds, a status cached with its token check is answered all
 * the same, while a lookup that misses is refused (database_busy).
 */
static void
cached_answers_need_no_pooled_connection(void **state)
{
	const char *const one[] = { "--threads", "1", NULL };
	long long id = enrolled("pool@example.org");
	long long other = enrolled("miss@example.org");
	char path[64], body[300], *today, *resp = NULL;
	PGconn *hold;
	int port3 = testlib_free_port(), fd, i;
	pid_t d3;

	(void)state;
	/* a lock wait longer than the test, a short wait for the pool */
	setenv("CERTRACK_DB_LOCK_TIMEOUT_MS", "60000", 1);
	setenv("CERTRACK_DB_POOL_WAIT_MS", "200", 1);
	d3 = testlib_start_daemon("e2e_tokencache3", port3, w.conninfo, one);
	unsetenv("CERTRACK_DB_LOCK_TIMEOUT_MS");
	unsetenv("CERTRACK_DB_POOL_WAIT_MS");
	today = testdb_value(w.db, "SELECT current_date::text");
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	for (i = 0; i < 2; i++)
		assert_int_equal(ask(port3, path, w.grader), 200);
	/* the write waits for the enrollment's row, on the only connection */
	hold = PQconnectdb(w.conninfo);
	assert_int_equal(PQstatus(hold), CONNECTION_OK);
	snprintf(body, sizeof(body), "BEGIN; SELECT 1 FROM enrollments WHERE"
	    " clinician_id = %lld FOR UPDATE", id);
	testdb_exec_ok(hold, body);
	result_body(body, sizeof(body), id, today);
	fd = post_start(port3, "/v1/exam-results", w.grader, body);
	for (i = 0; i < 500; i++) {
		char *n = testdb_value(w.db, "SELECT count(*) FROM"
		    " pg_stat_activity WHERE datname = current_database()"
		    " AND wait_event_type = 'Lock'");
		bool waiting = strcmp(n, "1") == 0;

		free(n);
		if (waiting)
			break;
		usleep(10 * 1000);
	}
	if (i == 500)
		fail_msg("the write did not wait for the row lock (it answered "
		    "%d)", post_finish(fd));
	/* the pool is taken: a miss is refused ... */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", other);
	assert_int_equal(testlib_api(port3, "GET", path, w.admin, NULL,
	    &resp), 503);
	testlib_has(resp, "database_busy");
	free(resp);
	/* ... and the cached answer, with its cached token check, comes all
	 * the same (/v1/me would not: it reads the account) */
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	assert_int_equal(ask(port3, path, w.grader), 200);
	/* the write goes on when the lock goes */
	testdb_exec_ok(hold, "COMMIT");
	PQfinish(hold);
	assert_int_equal(post_finish(fd), 201);
	resp = body_of(port3, path);
	testlib_has(resp, "\"score\"");
	free(resp);
	free(today);
	assert_int_equal(testlib_stop_daemon(d3), 0);
}

/* /metrics counts token checks served from the cache and not. */
static void
metrics_count_token_checks(void **state)
{
	char *resp = NULL;

	(void)state;
	assert_int_equal(testlib_http(w.port, "GET", "/metrics", NULL, NULL,
	    &resp), 200);
	testlib_has(resp, "certrack_cache_token_checks_total{result=\"hit\"} ");
	testlib_has(resp, "certrack_cache_token_checks_total{result=\"miss\"} ");
	testlib_has(resp, "certrack_cache_token_entries ");
	/* the tests above were served from the cache */
	testlib_lacks(resp, "certrack_cache_token_checks_total{result=\"hit\"} "
	    "0\n");
	free(resp);
}

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_tokencache");
	port2 = testlib_free_port();
	daemon2 = testlib_start_daemon("e2e_tokencache2", port2, w.conninfo,
	    NULL);
	return 0;
}

static int
teardown(void **state)
{
	/* no second daemon when the setup failed: never kill(0) */
	int rc = daemon2 > 0 ? testlib_stop_daemon(daemon2) : -1;

	(void)state;
	return testlib_world_down(&w) == 0 && rc == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(revoked_token_is_refused_at_once),
		cmocka_unit_test(logout_is_refused_at_once),
		cmocka_unit_test(disabled_account_is_refused_at_once),
		cmocka_unit_test(role_change_is_seen_at_once),
		cmocka_unit_test(password_change_ends_the_other_sessions_at_once),
		cmocka_unit_test(expired_token_is_refused_when_it_expires),
		cmocka_unit_test(result_through_one_is_served_by_the_other),
		cmocka_unit_test(revocation_through_one_is_served_by_the_other),
		cmocka_unit_test(token_revoked_through_one_is_refused_by_the_other),
		cmocka_unit_test(cached_answers_need_no_pooled_connection),
		cmocka_unit_test(metrics_count_token_checks),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
