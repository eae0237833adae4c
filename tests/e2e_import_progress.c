/*
 * End to end: a running import's progress (issue 14), seen from a second
 * client while the import's own transaction is still open.
 *
 * - A large roster is sent in pieces; meanwhile GET /v1/imports?key=...,
 *   GET /v1/imports/{id} and the plain list show it running, phase
 *   receiving, its rows received growing, while its imports row is still
 *   invisible to other connections (another daemon on the same database
 *   sees it too); once the file is in, the phases
 *   checking and merging with their counts, before the report arrives;
 *   then the report, found by the same key.  The progress costs a few
 *   writes: the rows received at most twice a second, four others.
 * - The key's rules: its characters, its length (64 yes, 65 no), one
 *   import per key (409, nothing written).
 * - An import whose client goes away, and one whose daemon is killed (no
 *   word written: its backend is gone), answer "failed", nothing written.
 * - The CLI on a terminal (a pty) shows the server's side ("checking
 *   100,000 rows"); on a pipe and with --quiet it shows none.
 *
 * The tests run in order and share one daemon and database.
 */
#include "testlib.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#define ROWS 100000

static struct testlib_world w;
static char cli[600], roster_path[700];

#define has testlib_has
#define lacks testlib_lacks
#define RUN TESTLIB_CLI

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_import_progress");
	testlib_cli_env(&w, "e2e_import_progress", w.admin);
	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(roster_path, sizeof(roster_path), "%s/progress-roster.csv",
	    testlib_env("CERTRACK_TEST_TMP"));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	unlink(roster_path);
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* ---- helpers ------------------------------------------------------------ */

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			fail_msg("cannot send the upload: %s", strerror(errno));
		p += k;
		n -= (size_t)k;
	}
}

/* GET PATH by TOKEN: the answer, parsed (caller json_decref()s). */
static json_t *
get(const char *path, const char *token, int status)
{
	char *resp = NULL;
	json_t *j;

	assert_int_equal(testlib_api(w.port, "GET", path, token, NULL, &resp),
	    status);
	j = testlib_json(resp);
	free(resp);
	return j;
}

/* The import named KEY as a second client (the grader) sees it, or NULL
 * (caller json_decref()s). */
static json_t *
by_key(const char *key)
{
	char path[160];
	json_t *list, *it;

	snprintf(path, sizeof(path), "/v1/imports?key=%s&limit=1", key);
	list = get(path, w.grader, 200);
	assert_true(json_is_array(list));
	assert_true(json_array_size(list) <= 1);
	it = json_incref(json_array_get(list, 0));
	json_decref(list);
	return it;
}

static const char *
phase_of(const json_t *it)
{
	return testlib_str(json_object_get(it, "progress"), "phase");
}

static long long
progress_count(const json_t *it, const char *what)
{
	return testlib_int(json_object_get(it, "progress"), what);
}

/*
 * Sends the next piece of an upload on FD and waits until the import
 * named KEY shows more than AFTER rows received (the daemon writes the
 * count at most twice a second, so a little more is sent after a pause).
 * Returns the import as seen then; *SENT moves on.
 */
static json_t *
grows_past(int fd, const char *body, size_t *sent, size_t upto,
    const char *key, long long after)
{
	for (int tries = 0; tries < 40; tries++) {
		json_t *it;
		size_t step = upto - *sent < 4096 ? upto - *sent : 4096;

		usleep(600 * 1000);
		send_all(fd, body + *sent, step);
		*sent += step;
		usleep(100 * 1000);
		it = by_key(key);
		if (it != NULL && progress_count(it, "received") > after)
			return it;
		json_decref(it);
	}
	fail_msg("the rows received of import '%s' did not grow past %lld",
	    key, after);
	return NULL;
}

static long long
count(const char *sql)
{
	return testdb_llf(w.db, "%s", sql);
}

/* Asserts import ID's phase in import_progress is WANT. */
static void
phase_is(long long id, const char *want)
{
	char *phase = testdb_textf(w.db, "SELECT phase FROM import_progress"
	    " WHERE import_id = %lld", id);

	assert_string_equal(phase, want);
	free(phase);
}

/* ---- 1. a second client watches a large import ------------------------- */

static void
seen_while_running(void **state)
{
	size_t len, sent;
	char *body = testlib_roster(ROWS, &len), *resp = NULL, path[64];
	json_t *it, *one, *list, *rep;
	long long id, r1, r2;
	bool saw_checking = false, saw_merging = false;
	int fd;

	(void)state;
	/* every write of the progress, as the test sees it (instrumentation
	 * of this test's database only) */
	testdb_exec_ok(w.db, "CREATE TABLE test_writes (import_id bigint,"
	    " phase text, at timestamptz DEFAULT clock_timestamp())");
	testdb_exec_ok(w.db, "CREATE FUNCTION test_write() RETURNS trigger"
	    " LANGUAGE plpgsql AS $$ BEGIN INSERT INTO test_writes (import_id,"
	    " phase) VALUES (NEW.import_id, NEW.phase); RETURN NEW; END $$");
	testdb_exec_ok(w.db, "CREATE TRIGGER test_write AFTER INSERT OR UPDATE"
	    " ON import_progress FOR EACH ROW EXECUTE FUNCTION test_write()");
	sent = len / 4;
	fd = testlib_upload_start(w.port, "/v1/imports?kind=roster&"
	    "filename=big.csv&key=progress-a", w.admin, body, len, sent);

	/* receiving: a second client sees it, its rows growing */
	it = grows_past(fd, body, &sent, len / 2, "progress-a", 0);
	assert_string_equal(testlib_str(it, "status"), "running");
	assert_string_equal(phase_of(it), "receiving");
	assert_string_equal(testlib_str(it, "kind"), "roster");
	assert_string_equal(testlib_str(it, "filename"), "big.csv");
	assert_string_equal(testlib_str(it, "user"), "admin");
	assert_string_equal(testlib_str(it, "key"), "progress-a");
	assert_int_equal(progress_count(it, "checked"), 0);
	assert_int_equal(progress_count(it, "merged"), 0);
	id = testlib_int(it, "id");
	r1 = progress_count(it, "received");
	assert_true(r1 > 0 && r1 < ROWS);
	json_decref(it);
	/* its imports row is the import's, uncommitted: nobody else sees it */
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM imports "
	    "WHERE id = %lld", id), 0);
	/* GET /v1/imports/{id} and the plain list show it too, and so does
	 * another daemon on the same database */
	snprintf(path, sizeof(path), "/v1/imports/%lld", id);
	one = get(path, w.grader, 200);
	assert_int_equal(testlib_int(one, "id"), id);
	assert_string_equal(testlib_str(one, "status"), "running");
	assert_string_equal(phase_of(one), "receiving");
	json_decref(one);
	{
		int port2 = testlib_free_port();
		pid_t other = testlib_start_daemon("e2e_import_progress_b",
		    port2, w.conninfo, NULL);

		assert_int_equal(testlib_api(port2, "GET", path, w.grader, NULL,
		    &resp), 200);
		one = testlib_json(resp);
		free(resp);
		resp = NULL;
		assert_string_equal(testlib_str(one, "status"), "running");
		assert_true(progress_count(one, "received") >= r1);
		json_decref(one);
		assert_int_equal(testlib_stop_daemon(other), 0);
	}
	list = get("/v1/imports", w.grader, 200);
	assert_int_equal(testlib_int(json_array_get(list, 0), "id"), id);
	assert_string_equal(testlib_str(json_array_get(list, 0), "status"),
	    "running");
	json_decref(list);

	it = grows_past(fd, body, &sent, len * 3 / 4, "progress-a", r1);
	r2 = progress_count(it, "received");
	assert_true(r2 > r1 && r2 < ROWS);
	json_decref(it);

	/* the rest: checking, then merging, each seen before the report
	 * (an answer "running" comes before the commit, and so before the
	 * report is sent) */
	send_all(fd, body + sent, len - sent);
	for (int i = 0; i < 3000; i++) {
		it = by_key("progress-a");
		assert_non_null(it);
		if (strcmp(testlib_str(it, "status"), "running") != 0) {
			json_decref(it);
			break;
		}
		if (strcmp(phase_of(it), "checking") == 0) {
			saw_checking = true;
			assert_int_equal(progress_count(it, "received"), ROWS);
			assert_int_equal(progress_count(it, "checked"), 0);
		} else if (strcmp(phase_of(it), "merging") == 0) {
			saw_merging = true;
			assert_int_equal(progress_count(it, "received"), ROWS);
			assert_int_equal(progress_count(it, "checked"), ROWS);
			assert_int_equal(progress_count(it, "failed"), 0);
			assert_true(progress_count(it, "merged") == 0 ||
			    progress_count(it, "merged") == ROWS);
		} else {
			assert_string_equal(phase_of(it), "receiving");
		}
		json_decref(it);
		usleep(20 * 1000);
	}
	assert_true(saw_checking);
	assert_true(saw_merging);

	/* the report; the key finds it, now as the report */
	assert_int_equal(testlib_upload_finish(fd, body, len, len, &resp),
	    201);
	rep = testlib_json(resp);
	assert_int_equal(testlib_int(rep, "id"), id);
	json_decref(rep);
	free(resp);
	it = by_key("progress-a");
	assert_int_equal(testlib_int(it, "id"), id);
	assert_string_equal(testlib_str(it, "status"), "succeeded");
	assert_int_equal(testlib_int(json_object_get(it, "counts"), "created"),
	    ROWS);
	assert_null(json_object_get(it, "progress"));
	json_decref(it);
	phase_is(id, "done");

	/* what it cost: the rows received written at most twice a second
	 * (0.4 s: the gaps are measured where the writes land), even when
	 * the last quarter of the file came at once; one write to start,
	 * three at the phase changes, one at the end */
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM (SELECT phase,"
	    " lag(phase) OVER (ORDER BY at) AS prev, at - lag(at) OVER"
	    " (ORDER BY at) AS gap FROM test_writes WHERE import_id = %lld) x"
	    " WHERE phase = 'receiving' AND prev = 'receiving'"
	    " AND gap < interval '0.4 s'", id), 0);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM test_writes"
	    " WHERE import_id = %lld AND phase <> 'receiving'", id), 4);
	assert_true(testdb_llf(w.db, "SELECT count(*) FROM test_writes"
	    " WHERE import_id = %lld AND phase = 'receiving'", id) >= 3);
	testdb_exec_ok(w.db, "DROP TRIGGER test_write ON import_progress");
	free(body);
}

/* ---- 2. the key ---------------------------------------------------------- */

static void
key_rules(void **state)
{
	const char *csv = "given_name,family_name,email,profession,level\n"
	    "Kay,Key,kay.key@example.org,PT,DN1\n";
	char key64[65], key65[66], query[200];
	long long imports;
	json_t *rep, *it;

	(void)state;
	memset(key64, 'k', 64);
	key64[64] = '\0';
	memset(key65, 'k', 65);
	key65[65] = '\0';
	key64[0] = 'A';
	key64[1] = '_';
	key64[2] = '-';
	key64[3] = '9';

	imports = count("SELECT count(*) FROM imports");
	/* characters and length: 400 before anything is read */
	snprintf(query, sizeof(query), "kind=roster&key=%s", key65);
	assert_int_equal(testlib_import(w.port, w.admin, query, csv, &rep),
	    400);
	assert_string_equal(testlib_str(rep, "field"), "key");
	json_decref(rep);
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster&key=a.b",
	    csv, &rep), 400);
	assert_string_equal(testlib_str(rep, "code"), "invalid_parameter");
	json_decref(rep);
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster&key=",
	    csv, &rep), 400);
	json_decref(rep);
	json_decref(get("/v1/imports?key=a.b", w.admin, 400));
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);

	/* 64 of every allowed kind: taken, and found by it */
	snprintf(query, sizeof(query), "kind=roster&key=%s", key64);
	assert_int_equal(testlib_import(w.port, w.admin, query, csv, &rep),
	    201);
	long long id = testlib_int(rep, "id");
	json_decref(rep);
	it = by_key(key64);
	assert_int_equal(testlib_int(it, "id"), id);
	json_decref(it);
	assert_null(by_key("nobody-has-this-key"));

	/* one import per key, whoever sends it: the second is refused,
	 * nothing written */
	imports = count("SELECT count(*) FROM imports");
	assert_int_equal(testlib_import(w.port, w.admin, query, csv, &rep),
	    409);
	assert_string_equal(testlib_str(rep, "code"), "duplicate");
	assert_string_equal(testlib_str(rep, "field"), "key");
	json_decref(rep);
	snprintf(query, sizeof(query), "kind=results&key=%s", key64);
	assert_int_equal(testlib_import(w.port, w.grader, query,
	    "email,level,kind,score,max_score,taken_on\n", &rep), 409);
	json_decref(rep);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);
}

/* ---- 2b. the table's own rules ------------------------------------------ */

static void
table_rules(void **state)
{
	long long done_id = testdb_llf(w.db, "SELECT min(import_id) FROM "
	    "import_progress WHERE phase = 'done'");
	char sql[200];

	(void)state;
	/* done (and failed) are final: a late write changes nothing */
	testdb_exec_ok(w.db, "SELECT import_progress_set((SELECT min(import_id)"
	    " FROM import_progress WHERE phase = 'done'), 'checking', 1, 0, 0,"
	    " 0, NULL)");
	phase_is(done_id, "done");
	/* the database refuses what the daemon would never write */
	testdb_exec_fails(w.db, "SELECT import_progress_start(900001, 'a.b', 1,"
	    " 'roster', NULL, false, false, pg_backend_pid())", "23514");
	testdb_exec_fails(w.db, "SELECT import_progress_start(900001, 'progress-a',"
	    " 1, 'roster', NULL, false, false, pg_backend_pid())", "23505");
	testdb_exec_fails(w.db, "UPDATE import_progress SET rows_checked ="
	    " rows_received + 1 WHERE phase = 'done'", "23514");
	testdb_exec_fails(w.db, "UPDATE import_progress SET phase = 'paused'",
	    "23514");
	/* a row last written more than a day ago goes at the next start */
	testdb_exec_ok(w.db, "SELECT import_progress_start(900001, NULL, 1,"
	    " 'roster', NULL, false, false, pg_backend_pid())");
	testdb_exec_ok(w.db, "UPDATE import_progress SET updated_at ="
	    " clock_timestamp() - interval '1 day 1 minute'"
	    " WHERE import_id = 900001");
	snprintf(sql, sizeof(sql), "UPDATE import_progress SET updated_at ="
	    " clock_timestamp() - interval '23 hours 59 minutes'"
	    " WHERE import_id = %lld", done_id);
	testdb_exec_ok(w.db, sql);
	testdb_exec_ok(w.db, "SELECT import_progress_start(900002, NULL, 1,"
	    " 'roster', NULL, false, false, pg_backend_pid())");
	assert_int_equal(count("SELECT count(*) FROM import_progress"
	    " WHERE import_id = 900001"), 0);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM import_progress"
	    " WHERE import_id = %lld", done_id), 1);
	testdb_exec_ok(w.db, "DELETE FROM import_progress"
	    " WHERE import_id = 900002");
}

/* ---- 3. imports that end without a report ------------------------------ */

/* Starts a 20,000-row upload named KEY, sends a part of it and waits
 * until it shows running; returns the socket, *ID the import's id. */
static int
running_upload(const char *key, char **body, size_t *len, long long *id)
{
	char path[160];
	size_t sent;
	json_t *it;
	int fd;

	*body = testlib_roster(20000, len);
	sent = *len / 4;
	snprintf(path, sizeof(path), "/v1/imports?kind=roster&key=%s", key);
	fd = testlib_upload_start(w.port, path, w.admin, *body, *len, sent);
	it = grows_past(fd, *body, &sent, *len / 2, key, 0);
	assert_string_equal(testlib_str(it, "status"), "running");
	*id = testlib_int(it, "id");
	json_decref(it);
	return fd;
}

/* Waits until import ID answers "failed"; returns it. */
static json_t *
fails(long long id)
{
	char path[64];

	snprintf(path, sizeof(path), "/v1/imports/%lld", id);
	for (int i = 0; i < 100; i++) {
		json_t *it = get(path, w.admin, 200);

		if (strcmp(testlib_str(it, "status"), "failed") == 0)
			return it;
		json_decref(it);
		usleep(100 * 1000);
	}
	fail_msg("import %lld never answered failed", id);
	return NULL;
}

static void
client_goes_away(void **state)
{
	size_t len;
	char *body;
	long long id, imports = count("SELECT count(*) FROM imports");
	json_t *it;
	int fd;

	char *out = NULL, *err = NULL, ids[24];

	(void)state;
	fd = running_upload("gone-a", &body, &len, &id);
	snprintf(ids, sizeof(ids), "%lld", id);
	/* `import show` tells what it is doing */
	RUN(0, NULL, "import", "show", ids);
	has(out, "import of import ");
	has(out, ": running: the server has read ");
	free(out);
	free(err);
	close(fd);
	it = fails(id);
	assert_string_equal(phase_of(it), "failed");
	has(testlib_str(it, "message"), "nothing was written");
	assert_false(json_is_null(json_object_get(it, "finished_at")));
	json_decref(it);
	RUN(0, NULL, "import", "show", ids);
	has(out, ": failed: the connection closed before the import finished; "
	    "nothing was written");
	free(out);
	free(err);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);
	free(body);
}

static void
daemon_killed(void **state)
{
	size_t len;
	char *body;
	long long id, imports = count("SELECT count(*) FROM imports");
	json_t *it;
	int fd, st;

	(void)state;
	fd = running_upload("killed-a", &body, &len, &id);
	/* killed: it writes nothing more, its phase stays "receiving" */
	kill(w.daemon, SIGKILL);
	waitpid(w.daemon, &st, 0);
	close(fd);
	phase_is(id, "receiving");
	w.daemon = testlib_start_daemon("e2e_import_progress2", w.port,
	    w.conninfo, NULL);
	/* its backend went with its connection: failed */
	it = fails(id);
	assert_string_equal(phase_of(it), "failed");
	has(testlib_str(it, "message"), "database connection went away");
	json_decref(it);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);
	free(body);
}

/* ---- 4. the CLI ----------------------------------------------------------- */

static void
cli_on_a_terminal(void **state)
{
	size_t len;
	char *body = testlib_roster(ROWS, &len), *shown, *out = NULL,
	    *err = NULL;
	char *argv[] = { cli, "import", "roster", roster_path, NULL };
	char *quiet[] = { cli, "--quiet", "import", "roster", roster_path,
	    NULL };
	FILE *fp = fopen(roster_path, "w");
	char line[3][128];
	long long id;

	(void)state;
	assert_non_null(fp);
	assert_int_equal(fwrite(body, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
	free(body);

	/* a terminal: the server's side on the progress line */
	assert_int_equal(testlib_pty(argv, NULL, NULL, &shown), 0);
	id = testdb_llf(w.db, "SELECT max(import_id) FROM import_progress");
	snprintf(line[0], sizeof(line[0]), "\r\033[Kcertrack: import %lld: "
	    "checking 100,000 rows: ", id);
	snprintf(line[1], sizeof(line[1]), "\r\033[Kcertrack: import %lld: "
	    "merging 100,000 rows: ", id);
	snprintf(line[2], sizeof(line[2]), "\r\033[Kcertrack: import %lld: "
	    "merged 100,000 rows; writing the report: ", id);
	if (strstr(shown, line[0]) == NULL && strstr(shown, line[1]) == NULL &&
	    strstr(shown, line[2]) == NULL)
		fail_msg("no progress of the server's side in:\n%s", shown);
	has(shown, "imported 'progress-roster.csv': 100000 rows");
	/* every progress line fits the 80 columns: a wider one would wrap,
	 * and \r go back to its last row only (the label alone is long) */
	for (char *p = strstr(shown, "\r\033[Kcertrack: "); p != NULL;
	    p = strstr(p + 1, "\r\033[Kcertrack: ")) {
		size_t n = strcspn(p + 4, "\r\n");

		if (n > 79)
			fail_msg("a progress line of %zu columns: %.*s", n,
			    (int)n, p + 4);
	}
	has(shown, "\r\033[Kcertrack: sending '");
	free(shown);

	/* the import was named, and followed by its name */
	assert_int_equal(testdb_llf(w.db, "SELECT length(import_key) FROM"
	    " import_progress ORDER BY import_id DESC LIMIT 1"), 32);

	/* --quiet: none, and not even asked for */
	assert_int_equal(testlib_pty(quiet, NULL, NULL, &shown), 0);
	lacks(shown, "rows");
	lacks(shown, "\r");
	free(shown);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM import_progress"
	    " WHERE import_id = (SELECT max(import_id) FROM import_progress)"
	    " AND import_key IS NULL"), 1);

	/* a pipe: none, not asked for either */
	RUN(0, NULL, "import", "roster", roster_path);
	has(out, "imported 'progress-roster.csv': 100000 rows");
	assert_string_equal(err, "");
	free(out);
	free(err);
	assert_int_equal(testdb_llf(w.db, "SELECT count(*) FROM import_progress"
	    " WHERE import_id = (SELECT max(import_id) FROM import_progress)"
	    " AND import_key IS NULL"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seen_while_running),
		cmocka_unit_test(key_rules),
		cmocka_unit_test(table_rules),
		cmocka_unit_test(client_goes_away),
		cmocka_unit_test(daemon_killed),
		cmocka_unit_test(cli_on_a_terminal),
	};

	return cmocka_run_group_tests_name("e2e_import_progress", tests, setup,
	    teardown);
}
