/*
 * End to end: the account rules (DESIGN.md rule 11).
 *
 *   - At least one enabled admin, always: two admins, the only two enabled
 *     ones, each disable (or demote) the other at the same moment, many
 *     times over; every time exactly one wins, one enabled admin is left,
 *     and the other is refused: 409 last_admin when both requests were
 *     under way together, which is the race this is about (and must be
 *     seen), or, when the winner committed before the loser's request was
 *     authenticated, 401 (its account is disabled) or 403 (no admin now).
 *   - A generated password (certrackd create-user, an admin's create
 *     without a password or reset) must be changed at first use: the login
 *     says password_change_required, and its token serves only /v1/me,
 *     /v1/me/password and /v1/logout until it is changed; then the token
 *     serves all its role may, and the one-time password is dead.  Through
 *     the API and through `certrack login`, on a pipe and on a terminal.
 */
#include "testlib.h"

#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>

#include "certrack/api.h"

#define TRIALS 28	/* 7 of each kind of race */

static struct testlib_world w;
static char home[600];

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_accounts");
	snprintf(home, sizeof(home), "%s/e2e_accounts-home",
	    testlib_env("CERTRACK_TEST_TMP"));
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("CERTRACK_TOKEN");
	char url[64];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", w.port);
	setenv("CERTRACK_URL", url, 1);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

static long long
count(const char *sql)
{
	char *v = testdb_value(w.db, sql);
	long long n = v ? strtoll(v, NULL, 10) : -1;

	free(v);
	return n;
}

/* Fails unless RESP is a problem with CODE. */
static void
assert_code(const char *resp, const char *code)
{
	json_t *j = testlib_json(resp);
	const char *c = json_string_value(json_object_get(j, "code"));

	if (c == NULL || strcmp(c, code) != 0)
		fail_msg("expected code '%s' in: %s", code, resp);
	json_decref(j);
}

/* POST /v1/users as TOKEN; returns the new id. */
static long long
add_user(const char *token, const char *name, const char *role,
    const char *password)
{
	char body[300], *resp = NULL;
	long long id;
	json_t *j;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"role\":\"%s\","
	    "\"password\":\"%s\"}", name, role, password);
	if (testlib_api(w.port, "POST", "/v1/users", token, body, &resp) != 201)
		fail_msg("cannot add '%s': %s", name, resp);
	j = testlib_json(resp);
	id = json_integer_value(json_object_get(j, "id"));
	json_decref(j);
	free(resp);
	return id;
}

/* ---- at least one enabled admin ---------------------------------------- */

struct racer {
	pthread_barrier_t *go;
	int port;
	const char *token;
	char path[64];
	const char *body;
	int status;
	char *resp;
};

static void *
race(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(r->go);
	r->status = testlib_api(r->port, "PATCH", r->path, r->token, r->body,
	    &r->resp);
	return NULL;
}

/*
 * The ways two requests at once can take away both enabled admins 0 and 1:
 * who sends each request (ACTOR), whose account it changes (TARGET), and
 * how.  Each disables (or demotes) the other; each disables itself; one
 * admin, in two requests, disables the other and demotes itself.
 */
static const struct race_kind {
	int actor[2], target[2];
	const char *body[2];
} kinds[] = {
	{ { 0, 1 }, { 1, 0 }, { "{\"disabled\":true}", "{\"disabled\":true}" } },
	{ { 0, 1 }, { 1, 0 }, { "{\"role\":\"grader\"}", "{\"role\":\"grader\"}" } },
	{ { 0, 1 }, { 0, 1 }, { "{\"disabled\":true}", "{\"disabled\":true}" } },
	{ { 0, 0 }, { 1, 0 }, { "{\"disabled\":true}", "{\"role\":\"grader\"}" } },
};

/* The enabled admin of IDS[0..2), or -1 unless exactly one is. */
static int
the_enabled_admin(const long long ids[2])
{
	char sql[200];
	int found = -1;

	assert_int_equal(count("SELECT count(*) FROM users WHERE "
	    "role = 'admin' AND NOT disabled"), 1);
	for (int i = 0; i < 2; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM users WHERE "
		    "id = %lld AND role = 'admin' AND NOT disabled", ids[i]);
		if (count(sql) == 1)
			found = i;
	}
	return found;
}

static void
last_admin_race(void **state)
{
	char *keeper = strdup(w.admin), path[64], name[32], sql[200];
	long long keeper_id = 1;
	int raced = 0;

	(void)state;
	for (int t = 0; t < TRIALS; t++) {
		const struct race_kind *k = &kinds[t % 4];
		long long ids[2];
		char *tok[2];

		/* Two fresh admins, then the keeper steps down: they are the
		 * only enabled admins. */
		for (int i = 0; i < 2; i++) {
			snprintf(name, sizeof(name), "racer%d%c", t, 'a' + i);
			ids[i] = add_user(keeper, name, "admin",
			    "racing-password-1");
			tok[i] = testlib_login(w.port, name,
			    "racing-password-1");
		}
		snprintf(path, sizeof(path), "/v1/users/%lld", keeper_id);
		assert_int_equal(testlib_api(w.port, "PATCH", path, tok[0],
		    "{\"disabled\":true}", NULL), 200);
		assert_int_equal(count("SELECT count(*) FROM users WHERE "
		    "role = 'admin' AND NOT disabled"), 2);

		pthread_barrier_t go;
		pthread_t th[2];
		struct racer r[2];
		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++) {
			r[i] = (struct racer){ &go, w.port, tok[k->actor[i]],
			    "", k->body[i], 0, NULL };
			snprintf(r[i].path, sizeof(r[i].path),
			    "/v1/users/%lld", ids[k->target[i]]);
			pthread_create(&th[i], NULL, race, &r[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		pthread_barrier_destroy(&go);

		int left = the_enabled_admin(ids);
		int won = r[0].status == 200 ? 0 : 1, lost = 1 - won;
		/* 409 last_admin when both were under way together; when the
		 * winner was all done before the loser's request was
		 * authenticated, and took the loser's sender away, 401 (its
		 * account disabled) or 403 (no admin now). */
		bool late_ok = k->target[won] == k->actor[lost];
		int late = strstr(k->body[won], "disabled") ? 401 : 403;
		if (left < 0 || r[won].status != 200 ||
		    (r[lost].status != 409 &&
		    !(late_ok && r[lost].status == late)))
			fail_msg("trial %d: %d and %d (%s | %s)", t,
			    r[0].status, r[1].status, r[0].resp, r[1].resp);
		assert_code(r[lost].resp, r[lost].status == 409 ?
		    "last_admin" : late == 401 ? "unauthenticated" :
		    "forbidden");
		raced += r[lost].status == 409;
		/* The refused request wrote nothing, not even its audit:
		 * one user.update row per target changed. */
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM audit_log "
		    "WHERE action = 'user.update' AND entity_id IN "
		    "('%lld', '%lld')", ids[0], ids[1]);
		assert_int_equal(count(sql), 1);
		for (int i = 0; i < 2; i++)
			free(r[i].resp);
		free(keeper);
		keeper = tok[left];
		keeper_id = ids[left];
		free(tok[1 - left]);
	}
	/* The race itself, both requests past authentication together, was
	 * run, not only one request after the other. */
	print_message("the two-admin race: %d of %d trials both under way\n",
	    raced, TRIALS);
	assert_true(raced > 0);
	/* The survivor is the last enabled admin: refused alone, too. */
	snprintf(path, sizeof(path), "/v1/users/%lld", keeper_id);
	char *resp = NULL;
	assert_int_equal(testlib_api(w.port, "PATCH", path, keeper,
	    "{\"disabled\":true}", &resp), 409);
	assert_code(resp, "last_admin");
	free(resp);
	/* Hand the world back its admin, for the tests after this one. */
	assert_int_equal(testlib_api(w.port, "PATCH", "/v1/users/1", keeper,
	    "{\"disabled\":false}", NULL), 200);
	free(w.admin);
	w.admin = testlib_login(w.port, "admin", w.admin_pw);
	free(keeper);
}

/* ---- a generated password must be changed at first use ------------------- */

/* Logs NAME in with PASSWORD; returns the token, *MUST_CHANGE the flag. */
static char *
login(const char *name, const char *password, bool *must_change)
{
	char body[300], *resp = NULL, *tok;
	json_t *j;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":"
	    "\"%s\"}", name, password);
	if (testlib_api(w.port, "POST", "/v1/login", NULL, body, &resp) != 200)
		fail_msg("login %s failed: %s", name, resp);
	j = testlib_json(resp);
	json_t *flag = json_object_get(j, "password_change_required");
	if (!json_is_boolean(flag))
		fail_msg("no password_change_required in: %s", resp);
	*must_change = json_is_true(flag);
	tok = strdup(json_string_value(json_object_get(j, "token")));
	json_decref(j);
	free(resp);
	return tok;
}

/* GET /v1/me as TOKEN: its password_change_required. */
static bool
me_must_change(const char *token)
{
	char *resp = NULL;
	json_t *j, *flag;
	bool must;

	assert_int_equal(testlib_api(w.port, "GET", "/v1/me", token, NULL,
	    &resp), 200);
	j = testlib_json(resp);
	flag = json_object_get(j, "password_change_required");
	if (!json_is_boolean(flag))
		fail_msg("no password_change_required in: %s", resp);
	must = json_is_true(flag);
	json_decref(j);
	free(resp);
	return must;
}

/* Every route but the three of first use answers TOKEN 403
 * password_change_required, whatever its role. */
static void
only_first_use_routes(const char *token)
{
	char path[200], *resp = NULL;
	int checked = 0, first_use = 0;

	for (size_t i = 0; i < api_nroutes; i++) {
		const struct route *r = &api_routes[i];
		const char *p;
		size_t n = 0;

		/* the pages (the session cookie, not the header) send such
		 * an account to /account/password: tests/web/browser2.py */
		if (r->roles & ROUTE_WEB)
			continue;
		if (r->roles & ROUTE_FIRST_USE) {
			/* exactly these three */
			assert_true(strcmp(r->pattern, "/v1/me") == 0 ||
			    strcmp(r->pattern, "/v1/me/password") == 0 ||
			    strcmp(r->pattern, "/v1/logout") == 0);
			first_use++;
		}
		if (r->roles == ROLE_PUBLIC || (r->roles & ROUTE_FIRST_USE))
			continue;
		/* {param} segments become 1 */
		for (p = r->pattern; *p != '\0' && n < sizeof(path) - 2; p++) {
			if (*p == '{') {
				path[n++] = '1';
				p = strchr(p, '}');
			} else {
				path[n++] = *p;
			}
		}
		path[n] = '\0';
		int st = testlib_api(w.port, r->method, path, token, "{}",
		    &resp);
		if (st != 403 || strstr(resp, "\"password_change_required\"")
		    == NULL)
			fail_msg("%s %s answered %d: %s", r->method, path, st,
			    resp);
		free(resp);
		checked++;
	}
	assert_int_equal(first_use, 3);
	assert_true(checked > 0);
}

/* The first-use dance through the API for NAME, whose one-time password
 * is ONCE: refused everywhere but the three routes, changed, then free. */
static void
first_use_over_api(const char *name, const char *once, const char *mine)
{
	char body[300], *resp = NULL;
	bool must;
	char *tok = login(name, once, &must);

	assert_true(must);
	assert_true(me_must_change(tok));
	only_first_use_routes(tok);
	/* "Changed" to itself is no change. */
	snprintf(body, sizeof(body), "{\"current_password\":\"%s\","
	    "\"new_password\":\"%s\"}", once, once);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/me/password", tok,
	    body, &resp), 422);
	assert_code(resp, "password_unchanged");
	free(resp);
	snprintf(body, sizeof(body), "{\"current_password\":\"%s\","
	    "\"new_password\":\"%s\"}", once, mine);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/me/password", tok,
	    body, NULL), 204);
	/* The same token now serves what the role may. */
	assert_int_equal(testlib_api(w.port, "GET", "/v1/clinicians", tok,
	    NULL, NULL), 200);
	assert_false(me_must_change(tok));
	/* The one-time password is dead; the new one needs no change. */
	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":"
	    "\"%s\"}", name, once);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/login", NULL, body,
	    NULL), 401);
	free(login(name, mine, &must));
	assert_false(must);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/logout", tok, NULL,
	    NULL), 204);
	free(tok);
}

static void
create_user_must_change(void **state)
{
	(void)state;
	char *once = testlib_create_user(w.conninfo, "shell-made", "grader", 0);
	first_use_over_api("shell-made", once, "my-own-password-1");
	free(once);
}

static void
reset_password_must_change(void **state)
{
	char *resp = NULL, path[64];
	bool must;
	json_t *j;

	(void)state;
	/* A password the admin chose is no generated one. */
	long long id = add_user(w.admin, "resetme", "grader",
	    "chosen-password-1");
	free(login("resetme", "chosen-password-1", &must));
	assert_false(must);
	snprintf(path, sizeof(path), "/v1/users/%lld", id);
	assert_int_equal(testlib_api(w.port, "PATCH", path, w.admin,
	    "{\"reset_password\":true}", &resp), 200);
	j = testlib_json(resp);
	char *once = strdup(json_string_value(json_object_get(j, "password")));
	assert_true(json_is_true(json_object_get(json_object_get(j, "user"),
	    "password_change_required")));
	json_decref(j);
	free(resp);
	first_use_over_api("resetme", once, "chosen-password-2");
	free(once);

	/* An account created through the API without a password, too. */
	assert_int_equal(testlib_api(w.port, "POST", "/v1/users", w.admin,
	    "{\"username\":\"madeup\",\"role\":\"admin\"}", &resp), 201);
	j = testlib_json(resp);
	once = strdup(json_string_value(json_object_get(j, "password")));
	json_decref(j);
	free(resp);
	first_use_over_api("madeup", once, "madeup-password-1");
	free(once);
}

/* ---- the CLI --------------------------------------------------------------- */

static void
cli_login_on_a_pipe(void **state)
{
	char *out = NULL, *err = NULL, input[200];

	(void)state;
	char *once = testlib_create_user(w.conninfo, "piped", "grader", 0);
	snprintf(input, sizeof(input), "%s\n", once);
	TESTLIB_CLI(0, input, "login", "--password-stdin", "piped");
	testlib_has(out, "logged in to");
	testlib_has(err, "run 'certrack passwd'");
	free(out);
	free(err);
	TESTLIB_CLI(4, NULL, "clinicians", "list");
	testlib_has(err, "must be changed first: run 'certrack passwd'");
	free(out);
	free(err);
	snprintf(input, sizeof(input), "%s\npiped-password-1\n", once);
	TESTLIB_CLI(0, input, "passwd", "--password-stdin");
	testlib_has(out, "password changed");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "clinicians", "list");
	free(out);
	free(err);
	snprintf(input, sizeof(input), "%s\n", once);
	TESTLIB_CLI(4, input, "login", "--password-stdin", "piped");
	free(out);
	free(err);
	TESTLIB_CLI(0, "piped-password-1\n", "login", "--password-stdin",
	    "piped");
	testlib_lacks(err, "passwd");
	free(out);
	free(err);
	free(once);
}

/* Reads from FD into BUF (appending) until it holds WANT; fails after 10 s. */
static void
expect(int fd, char *buf, size_t len, const char *want)
{
	size_t n = strlen(buf);

	while (strstr(buf, want) == NULL) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 10000) != 1 || n + 1 >= len)
			fail_msg("no '%s' on the terminal; got:\n%s", want, buf);
		ssize_t r = read(fd, buf + n, len - n - 1);
		if (r <= 0)
			fail_msg("the terminal closed before '%s'; got:\n%s",
			    want, buf);
		n += (size_t)r;
		buf[n] = '\0';
	}
}

static void
cli_login_on_a_terminal(void **state)
{
	char cli[600], buf[8192] = "", line[200];
	int fd, st;
	pid_t pid;
	bool must;

	(void)state;
	char *once = testlib_create_user(w.conninfo, "typist", "grader", 0);
	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	pid = forkpty(&fd, NULL, NULL, NULL);
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(cli, cli, "login", "typist", (char *)NULL);
		_exit(127);
	}
	expect(fd, buf, sizeof(buf), "password: ");
	snprintf(line, sizeof(line), "%s\n", once);
	assert_int_equal(write(fd, line, strlen(line)), (ssize_t)strlen(line));
	expect(fd, buf, sizeof(buf), "new password: ");
	assert_int_equal(write(fd, "typed-password-1\n", 17), 17);
	expect(fd, buf, sizeof(buf), "new password again: ");
	assert_int_equal(write(fd, "typed-password-1\n", 17), 17);
	expect(fd, buf, sizeof(buf), "password changed");
	assert_int_equal(waitpid(pid, &st, 0), pid);
	close(fd);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	testlib_has(buf, "was generated: choose one of your own");
	/* Nothing typed was echoed. */
	testlib_lacks(buf, once);
	testlib_lacks(buf, "typed-password-1");
	/* The account is past its first use, with the password typed. */
	free(login("typist", "typed-password-1", &must));
	assert_false(must);
	free(once);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(last_admin_race),
		cmocka_unit_test(create_user_must_change),
		cmocka_unit_test(reset_password_must_change),
		cmocka_unit_test(cli_login_on_a_pipe),
		cmocka_unit_test(cli_login_on_a_terminal),
	};
	return cmocka_run_group_tests_name("e2e_accounts", tests, setup,
	    teardown);
}
