/*
 * Time bounds toward the database (issue 11, item 4), on a private
 * cluster of this test's own (it is frozen with SIGSTOP, which the shared
 * one must never be):
 * - a row lock held by another session: PATCHes of that row answer 503
 *   database_busy once lock_timeout passes, while /readyz and other
 *   requests still answer;
 * - every pooled connection tied up: the next request answers 503
 *   database_busy after db_pool_wait_ms, and a statement past
 *   statement_timeout answers 503 database_busy too;
 * - PostgreSQL frozen: /readyz answers 503 within its deadline, every
 *   other route 503 within the request deadline, never a hang; after
 *   SIGCONT everything answers again; the outage is logged once and its
 *   end once.
 * Bounds are asserted (answered within N seconds), not timings.
 */
#include "testlib.h"

#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char pgdir[512];
static char conninfo[700];

/* ---- helpers -------------------------------------------------------- */

/* A request run on a thread of its own. */
struct job {
	pthread_t t;
	int port;
	const char *method, *token, *json;
	char path[128];
	struct testlib_answer a;
};

static void *
job_run(void *p)
{
	struct job *j = p;

	testlib_ask(j->port, j->method, j->path, j->token, j->json, &j->a);
	return NULL;
}

static void
job_start(struct job *j, int port, const char *method, const char *path,
    const char *token, const char *json)
{
	j->port = port;
	j->method = method;
	j->token = token;
	j->json = json;
	snprintf(j->path, sizeof(j->path), "%s", path);
	assert_int_equal(pthread_create(&j->t, NULL, job_run, j), 0);
}

static void
job_wait(struct job *j)
{
	pthread_join(j->t, NULL);
}

/* certrackd on the private cluster with the time bounds given as
 * CERTRACK_* variables ("KEY=VALUE" strings, NULL-terminated). */
static pid_t
daemon_with(const char *name, int port, const char *const *env,
    const char *const *extra)
{
	pid_t pid;

	for (int i = 0; env[i] != NULL; i++)
		putenv((char *)env[i]);
	pid = testlib_start_daemon(name, port, conninfo, extra);
	for (int i = 0; env[i] != NULL; i++) {
		char key[64];
		snprintf(key, sizeof(key), "%.*s",
		    (int)strcspn(env[i], "="), env[i]);
		unsetenv(key);
	}
	return pid;
}

static long long
new_clinician(int port, const char *token, const char *email)
{
	char body[300];
	struct testlib_answer a;
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"given_name\":"
	    "\"Jane\",\"family_name\":\"Roe\",\"profession\":\"PT\"}", email);
	testlib_ask(port, "POST", "/v1/clinicians", token, body, &a);
	testlib_expect(&a, "create a clinician", 201, NULL, 30);
	j = testlib_json(a.body);
	id = testlib_int(j, "id");
	json_decref(j);
	return id;
}

/* Another session holds clinician ID's row locked until PQfinish(). */
static PGconn *
lock_row(long long id)
{
	PGconn *c = testdb_connect(conninfo);
	char sql[128];

	testdb_exec_ok(c, "BEGIN");
	snprintf(sql, sizeof(sql), "SELECT 1 FROM clinicians WHERE id = %lld "
	    "FOR UPDATE", id);
	testdb_exec_ok(c, sql);
	return c;
}

/* ---- the private cluster -------------------------------------------- */

static int
setup(void **state)
{
	char script[600];
	char *argv[] = { script, "init", pgdir, "--fast", NULL };

	(void)state;
	snprintf(pgdir, sizeof(pgdir), "%s/pg_dbtime",
	    testlib_env("CERTRACK_TEST_TMP"));
	snprintf(script, sizeof(script), "%s/../scripts/pg",
	    testlib_env("CERTRACK_TEST_BIN"));
	if (testlib_run(argv, NULL, NULL, NULL) != 0 ||
	    testlib_pg("start", pgdir) != 0)
		return -1;
	snprintf(conninfo, sizeof(conninfo),
	    "host=%s/sock user=postgres dbname=postgres", pgdir);
	return 0;
}

/* Every process of the cluster: the postmaster and its children. */
static int
cluster_pids(pid_t *pids, int max)
{
	char path[700], line[64];
	FILE *fp;
	DIR *d;
	struct dirent *de;
	int n = 0;
	pid_t pm;

	snprintf(path, sizeof(path), "%s/data/postmaster.pid", pgdir);
	fp = fopen(path, "r");
	if (fp == NULL || fgets(line, sizeof(line), fp) == NULL)
		fail_msg("cannot read '%s'", path);
	fclose(fp);
	pm = (pid_t)strtol(line, NULL, 10);
	pids[n++] = pm;
	d = opendir("/proc");
	assert_non_null(d);
	while ((de = readdir(d)) != NULL && n < max) {
		char stat[512];
		long ppid;
		char *close_paren;
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", de->d_name);
		fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		if (fgets(stat, sizeof(stat), fp) != NULL &&
		    (close_paren = strrchr(stat, ')')) != NULL &&
		    sscanf(close_paren + 2, "%*c %ld", &ppid) == 1 &&
		    ppid == (long)pm)
			pids[n++] = (pid_t)strtol(de->d_name, NULL, 10);
		fclose(fp);
	}
	closedir(d);
	return n;
}

/* SIGSTOP (or SIGCONT) to the whole cluster, the postmaster first. */
static void
cluster_signal(int sig)
{
	pid_t pids[256];
	int n = cluster_pids(pids, 256);

	for (int i = 0; i < n; i++)
		kill(pids[i], sig);
}

static int
teardown(void **state)
{
	(void)state;
	cluster_signal(SIGCONT);
	testlib_pg("stop", pgdir);
	return 0;
}

/* ---- the tests ------------------------------------------------------ */

/*
 * The scene of the lock tests: certrackd with ENV and EXTRA, an admin
 * logged in, a clinician whose row another session holds locked, and
 * NJOBS PATCHes of that row under way.
 */
struct scene {
	int port;
	pid_t pid;
	char *pw, *token;
	char path[64];
	PGconn *holder;
	struct job jobs[4];
	int njobs;
};

static void
scene_up(struct scene *s, const char *name, const char *const *env,
    const char *const *extra, int njobs)
{
	char email[100];
	long long id;

	memset(s, 0, sizeof(*s));
	s->port = testlib_free_port();
	s->pid = daemon_with(name, s->port, env, extra);
	s->pw = testlib_make_user(conninfo, name, "admin", 0);
	s->token = testlib_login(s->port, name, s->pw);
	snprintf(email, sizeof(email), "%s@example.org", name);
	id = new_clinician(s->port, s->token, email);
	snprintf(s->path, sizeof(s->path), "/v1/clinicians/%lld", id);
	s->holder = lock_row(id);
	s->njobs = njobs;
	for (int i = 0; i < njobs; i++)
		job_start(&s->jobs[i], s->port, "PATCH", s->path, s->token,
		    "{\"version\":1,\"given_name\":\"Waiting\"}");
}

/* Every PATCH answered 503 database_busy, saying WHY, within MAX_S. */
static void
scene_refused(struct scene *s, const char *why, double max_s)
{
	for (int i = 0; i < s->njobs; i++) {
		job_wait(&s->jobs[i]);
		testlib_expect(&s->jobs[i].a, "PATCH of a locked row", 503,
		    "\"database_busy\"", max_s);
		assert_non_null(strstr(s->jobs[i].a.body, why));
		assert_non_null(strstr(s->jobs[i].a.head, "Retry-After: 2"));
	}
}

/* The lock goes: the same PATCH succeeds; the daemon stops cleanly. */
static void
scene_down(struct scene *s)
{
	struct testlib_answer a;

	PQfinish(s->holder);
	testlib_ask(s->port, "PATCH", s->path, s->token,
	    "{\"version\":1,\"given_name\":\"Free\"}", &a);
	testlib_expect(&a, "PATCH once the lock is gone", 200, "Free", 5);
	assert_int_equal(testlib_stop_daemon(s->pid), 0);
	free(s->pw);
	free(s->token);
}

/*
 * A session holds a clinician's row; four PATCHes of it (as many as the
 * pool has connections) answer 503 database_busy once the 1 s lock
 * timeout passes, and meanwhile /readyz and /v1/me still answer 200.
 */
static void
lock_wait_is_a_503(void **state)
{
	static const char *const env[] = {
		"CERTRACK_DB_LOCK_TIMEOUT_MS=1000", NULL,
	};
	const char *const extra[] = { "--migrate", NULL };
	struct testlib_answer a;
	struct scene s;

	(void)state;
	scene_up(&s, "dbtime_lock", env, extra, 4);
	usleep(200 * 1000);
	testlib_ask(s.port, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz during the lock wait", 200, "ready", 3);
	testlib_ask(s.port, "GET", "/v1/me", s.token, NULL, &a);
	testlib_expect(&a, "/v1/me during the lock wait", 200, "dbtime_lock",
	    6);
	scene_refused(&s, "locked", 1 + 4);
	scene_down(&s);
	/* Busy is said in the log, but not once per request. */
	assert_int_equal(testlib_log_count("dbtime_lock", "database busy"), 1);
}

/*
 * A pool of two, both held by PATCHes waiting on a lock (no lock timeout
 * here, so the 2 s statement timeout ends them): a third request answers
 * 503 database_busy after the 500 ms pool wait, not a hang, while
 * /readyz, on its own connection, answers 200; the PATCHes answer 503
 * database_busy once the statement timeout passes.
 */
static void
pool_wait_is_bounded(void **state)
{
	static const char *const env[] = {
		"CERTRACK_DB_LOCK_TIMEOUT_MS=0",
		"CERTRACK_DB_STATEMENT_TIMEOUT_MS=2000",
		"CERTRACK_DB_POOL_WAIT_MS=500", NULL,
	};
	const char *const extra[] = { "--threads", "2", NULL };
	struct testlib_answer a;
	struct scene s;

	(void)state;
	scene_up(&s, "dbtime_pool", env, extra, 2);
	usleep(500 * 1000);
	testlib_ask(s.port, "GET", "/v1/me", s.token, NULL, &a);
	testlib_expect(&a, "/v1/me with every connection taken", 503,
	    "\"database_busy\"", 0.5 + 1.5);
	assert_non_null(strstr(a.body, "all 2 database connections"));
	testlib_ask(s.port, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz with every connection taken", 200,
	    "ready", 3);
	scene_refused(&s, "out of time", 2 + 4);
	scene_down(&s);
}

/*
 * PostgreSQL frozen (SIGSTOP on every process of the cluster) for about
 * ten seconds under requests: /readyz answers 503 within its 1 s
 * deadline (plus slack), every route 503 within the request deadline (2 s
 * statement timeout + 1 s grace, plus the 1 s pool wait and slack),
 * /healthz 200.  After SIGCONT everything answers 200 again, and the log
 * has one "database lost" and one "database back".
 */
static void
frozen_database_is_a_503(void **state)
{
	static const char *const env[] = {
		"CERTRACK_DB_STATEMENT_TIMEOUT_MS=2000",
		"CERTRACK_DB_POOL_WAIT_MS=1000",
		"CERTRACK_DB_READYZ_TIMEOUT_MS=1000", NULL,
	};
	static const struct {
		const char *method, *path, *json;
		bool token;
	} routes[] = {
		{ "GET", "/v1/me", NULL, true },
		{ "GET", "/v1/clinicians", NULL, true },
		{ "GET", "/v1/programs", NULL, true },
		{ "GET", "/v1/audit", NULL, true },
		{ "POST", "/v1/clinicians", "{\"email\":\"f@example.org\","
		  "\"given_name\":\"F\",\"family_name\":\"Z\","
		  "\"profession\":\"PT\"}", true },
		{ "POST", "/v1/login", "{\"username\":\"freezer\","
		  "\"password\":\"whatever-it-is\"}", false },
		{ "GET", "/v1/professions", NULL, true },
	};
	const size_t nroutes = sizeof(routes) / sizeof(routes[0]);
	const double request_bound = 2 + 1 + 1 + 2;
	const char *const extra[] = { NULL };
	int port = testlib_free_port(), answered = 0;
	struct job jobs[7];
	struct testlib_answer a;
	char *pw, *token;
	double t0;
	pid_t pid;

	(void)state;
	pid = daemon_with("dbtime_frozen", port, env, extra);
	pw = testlib_make_user(conninfo, "freezer", "admin", 0);
	token = testlib_login(port, "freezer", pw);
	/* every pooled connection open before the freeze */
	for (size_t i = 0; i < 4; i++)
		job_start(&jobs[i], port, "GET", "/v1/me", token, NULL);
	for (size_t i = 0; i < 4; i++) {
		job_wait(&jobs[i]);
		testlib_expect(&jobs[i].a, "/v1/me before the freeze", 200, NULL, 10);
	}
	testlib_ask(port, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz before the freeze", 200, "ready", 5);

	cluster_signal(SIGSTOP);
	t0 = testlib_now();
	testlib_ask(port, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz, frozen", 503, "\"database_unavailable\"",
	    1 + 1.5);
	/* every route at once, then one after another, for ten seconds */
	for (size_t i = 0; i < nroutes; i++)
		job_start(&jobs[i], port, routes[i].method, routes[i].path,
		    routes[i].token ? token : NULL, routes[i].json);
	for (size_t i = 0; i < nroutes; i++) {
		job_wait(&jobs[i]);
		testlib_expect(&jobs[i].a, jobs[i].path, 503, "\"database_",
		    request_bound);
	}
	while (testlib_now() - t0 < 10) {
		size_t i = (size_t)answered++ % nroutes;
		testlib_ask(port, routes[i].method, routes[i].path,
		    routes[i].token ? token : NULL, routes[i].json, &a);
		testlib_expect(&a, routes[i].path, 503, "\"database_", request_bound);
		testlib_ask(port, "GET", "/healthz", NULL, NULL, &a);
		testlib_expect(&a, "/healthz, frozen", 200, NULL, 1);
	}
	testlib_ask(port, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz, still frozen", 503, "\"database_unavailable\"",
	    1 + 1.5);

	cluster_signal(SIGCONT);
	for (int i = 0; i < 100; i++) {
		testlib_ask(port, "GET", "/readyz", NULL, NULL, &a);
		if (a.status == 200)
			break;
		usleep(100 * 1000);
	}
	testlib_expect(&a, "/readyz after SIGCONT", 200, "ready", 3);
	for (int i = 0; i < 100; i++) {
		testlib_ask(port, "GET", "/v1/me", token, NULL, &a);
		if (a.status == 200)
			break;
		usleep(100 * 1000);
	}
	testlib_expect(&a, "/v1/me after SIGCONT", 200, "freezer", 5);
	/* every pooled connection serves again, not just one */
	for (size_t i = 0; i < 4; i++)
		job_start(&jobs[i], port, "GET", "/v1/clinicians", token, NULL);
	for (size_t i = 0; i < 4; i++) {
		job_wait(&jobs[i]);
		testlib_expect(&jobs[i].a, "/v1/clinicians after SIGCONT", 200, NULL,
		    5);
	}
	assert_int_equal(testlib_stop_daemon(pid), 0);
	/* One outage, said twice: when it began and when it ended. */
	assert_int_equal(testlib_log_count("dbtime_frozen", "database lost"), 1);
	assert_int_equal(testlib_log_count("dbtime_frozen", "database back"), 1);
	assert_in_range(testlib_log_count("dbtime_frozen", "database busy"), 0, 2);
	free(pw);
	free(token);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lock_wait_is_a_503),
		cmocka_unit_test(pool_wait_is_bounded),
		cmocka_unit_test(frozen_database_is_a_503),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
