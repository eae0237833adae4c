/*
 * A dead daemon or a dead client stops its import (issue 10, item 2).
 *
 * certrackd is SIGKILLed while PostgreSQL runs a roster's merge on the
 * import's connection; the backend must notice its client is gone
 * (client_connection_check_interval, set by the db layer on every
 * connection) and stop within seconds instead of running the merge to its
 * end with its locks held, and nothing of the import may stay behind.  A
 * fresh daemon then imports the same file.
 *
 * The uploading client hangs up while the merge runs: certrackd watches
 * the upload's connection and cancels the statement, so the backend stops
 * at once, nothing is written, and the daemon serves on.
 *
 * So that a merge that stops can be told apart from one that merely
 * finished in time, however fast the machine, a session of the test holds
 * a table the merge writes (as a long write of a grader would): the merge
 * waits for that lock, and it is killed while it waits, the lock still
 * held.  Only a backend that gave up can be gone then.
 */
#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Rows in the roster: the merge has written as many clinicians (to be
 * rolled back) before it waits. */
#define ROWS 20000
/* How soon after the kill the backend must be gone. */
#define STOP_SECS 6.0
/* How soon after the client hangs up its statement must be cancelled (no
 * waiting for a check interval: the daemon cancels it). */
#define CANCEL_SECS 3.0

static struct testlib_world w;
/* The session holding a table, or NULL; let go by release(), also when a
 * test fails (teardown), so that no merge is left waiting on it. */
static PGconn *holder;

/* The count SQL answers, on the test's own connection. */
static long long
count(const char *sql)
{
	return testdb_llf(w.db, "%s", sql);
}

/* Seconds (up to LIMIT) until SQL counts 0, or LIMIT, polling every 50 ms. */
static double
until_none(const char *sql, double limit)
{
	double t0 = testlib_now();

	while (count(sql) > 0 && testlib_now() - t0 < limit)
		usleep(50 * 1000);
	return testlib_now() - t0;
}

static void
release(void)
{
	if (holder == NULL)
		return;
	PQfinish(holder);	/* its transaction rolled back */
	holder = NULL;
}

/* The holder: a session holding TABLE against every writer (readers
 * pass). */
static void
hold(const char *table)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "LOCK TABLE %s IN SHARE ROW EXCLUSIVE MODE",
	    table);
	release();	/* a failed test's */
	holder = testdb_connect(w.conninfo);
	testdb_exec_ok(holder, "BEGIN");
	testdb_exec_ok(holder, sql);
}

/* Seconds until the roster's merge waits for the holder; fails after
 * 60 s. */
static double
until_merge_waits(void)
{
	double t0 = testlib_now();

	while (testdb_llf(w.db, "SELECT count(*) FROM pg_stat_activity"
	    " WHERE state = 'active' AND query LIKE '%%import_roster_merge%%'"
	    " AND %d = ANY (pg_blocking_pids(pid))",
	    PQbackendPID(holder)) == 0) {
		if (testlib_now() - t0 > 60)
			fail_msg("the merge did not come to wait for the "
			    "test's lock within 60 s; running: %s",
			    testdb_textf(w.db, "SELECT string_agg(left(query,"
			    " 60) || ' (' || coalesce(wait_event_type, '-') ||"
			    " ')', '; ') FROM pg_stat_activity WHERE state <>"
			    " 'idle' AND pid <> pg_backend_pid()"));
		usleep(50 * 1000);
	}
	return testlib_now() - t0;
}

static void
daemon_killed_mid_merge(void **state)
{
	long rows = ROWS;
	size_t len;
	char *body = testlib_roster(rows, &len), *resp = NULL;
	long long clinicians = count("SELECT count(*) FROM clinicians");
	long long imports = count("SELECT count(*) FROM imports");
	double waited, gone;
	int fd, st;

	(void)state;
	/* The merge creates its sessions and clinicians, then waits.  (The
	 * check before it would wait too, had it to analyze the enrollments
	 * after a big import: this test runs first.) */
	hold("enrollments");
	/* The whole file is sent; the answer is never read. */
	fd = testlib_upload_start(w.port, "/v1/imports?kind=roster", w.admin,
	    body, len, len);
	waited = until_merge_waits();
	kill(w.daemon, SIGKILL);
	waitpid(w.daemon, &st, 0);
	gone = until_none("SELECT count(*) FROM pg_stat_activity WHERE"
	    " query LIKE '%import_roster_merge%' AND pid <> pg_backend_pid()",
	    60);
	print_message("merge waiting %.1f s after the upload; its backend "
	    "gone %.1f s after the kill\n", waited, gone);
	if (gone > STOP_SECS)
		fail_msg("the merge's backend ran on %.1f s after its daemon "
		    "died (at most %.0f s allowed)", gone, STOP_SECS);
	/* Still held: the merge could not have finished, it gave up. */
	assert_int_equal(PQtransactionStatus(holder), PQTRANS_INTRANS);
	release();
	close(fd);
	/* Nothing of the import was written, not even its report. */
	assert_int_equal(count("SELECT count(*) FROM clinicians"), clinicians);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);

	/* A fresh daemon imports the same file. */
	w.daemon = testlib_start_daemon("e2e_deadclient2", w.port, w.conninfo,
	    NULL);
	st = testlib_upload_finish(testlib_upload_start(w.port,
	    "/v1/imports?kind=roster", w.admin, body, len, len), body, len,
	    len, &resp);
	if (st != 201)
		fail_msg("the import after the restart answered %d: %s", st,
		    resp ? resp : "");
	free(resp);
	assert_int_equal(count("SELECT count(*) FROM clinicians"),
	    clinicians + rows);
	free(body);
}

static void
client_gone_mid_merge(void **state)
{
	size_t len;
	char *body = testlib_roster(ROWS, &len), *p, *resp = NULL;
	long long clinicians = count("SELECT count(*) FROM clinicians");
	long long imports = count("SELECT count(*) FROM imports");
	double waited, gone;
	int fd;

	(void)state;
	/* People of their own (the roster of the test above is imported):
	 * the same length, another domain. */
	for (p = body; (p = strstr(p, "@example.org")) != NULL; p += 12)
		memcpy(p + 9, "net", 3);
	/* The enrollments, now a big import's, are analyzed by the check:
	 * the merge waits at its first write, of the audit log. */
	hold("audit_log");
	fd = testlib_upload_start(w.port, "/v1/imports?kind=roster", w.admin,
	    body, len, len);
	waited = until_merge_waits();
	close(fd);
	gone = until_none("SELECT count(*) FROM pg_stat_activity WHERE"
	    " query LIKE '%import_roster_merge%' AND state = 'active'"
	    " AND pid <> pg_backend_pid()", 60);
	print_message("merge waiting %.1f s after the upload; its statement "
	    "stopped %.1f s after the client hung up\n", waited, gone);
	if (gone > CANCEL_SECS)
		fail_msg("the merge ran on %.1f s after its client hung up (at "
		    "most %.0f s allowed)", gone, CANCEL_SECS);
	release();
	/* Nothing of the import was written, not even its report. */
	until_none("SELECT count(*) FROM pg_stat_activity WHERE query LIKE"
	    " '%import_roster%' AND state = 'active'"
	    " AND pid <> pg_backend_pid()", 10);
	assert_int_equal(count("SELECT count(*) FROM clinicians"), clinicians);
	assert_int_equal(count("SELECT count(*) FROM imports"), imports);
	/* The daemon lives on. */
	assert_int_equal(testlib_http(w.port, "GET", "/healthz", NULL, NULL,
	    &resp), 200);
	free(resp);
	free(body);
}

static int
setup(void **state)
{
	(void)state;
	testlib_world_up(&w, "e2e_deadclient");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	release();
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(daemon_killed_mid_merge),
		cmocka_unit_test(client_gone_mid_merge),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
