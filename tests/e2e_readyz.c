/*
 * The daemon against a database that goes away and comes back: /readyz
 * answers 503 while the cluster is down and 200 once it is back, without a
 * restart; /healthz stays 200 throughout; SIGTERM exits 0.  Uses a second,
 * private cluster so the shared one is never stopped.
 */
#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char pgdir[512];

static int
setup(void **state)
{
	(void)state;
	snprintf(pgdir, sizeof(pgdir), "%s/pg_readyz",
	    testlib_env("CERTRACK_TEST_TMP"));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	testlib_pg("stop", pgdir);
	return 0;
}

static int
status_within(int port, const char *path, int want, int tries)
{
	int got = 0;

	for (int i = 0; i < tries; i++) {
		got = testlib_http(port, "GET", path, NULL, NULL, NULL);
		if (got == want)
			break;
		usleep(100 * 1000);
	}
	return got;
}

static void
readyz_follows_the_database(void **state)
{
	char conninfo[700], *body = NULL;
	const char *const extra[] = { "--migrate", NULL };
	int port = testlib_free_port();
	pid_t pid;

	(void)state;
	{
		char *argv[] = { NULL, "init", pgdir, "--fast", NULL };
		char script[600];
		snprintf(script, sizeof(script), "%s/../scripts/pg",
		    testlib_env("CERTRACK_TEST_BIN"));
		argv[0] = script;
		assert_int_equal(testlib_run(argv, NULL, NULL, NULL), 0);
	}
	assert_int_equal(testlib_pg("start", pgdir), 0);
	snprintf(conninfo, sizeof(conninfo),
	    "host=%s/sock user=postgres dbname=postgres", pgdir);
	pid = testlib_start_daemon("readyz", port, conninfo, extra);

	assert_int_equal(testlib_http(port, "GET", "/readyz", NULL, NULL,
	    &body), 200);
	assert_non_null(strstr(body, "\"ready\""));
	free(body);

	/* The database goes away under the running daemon. */
	assert_int_equal(testlib_pg("stop", pgdir), 0);
	assert_int_equal(status_within(port, "/readyz", 503, 20), 503);
	assert_int_equal(testlib_http(port, "GET", "/readyz", NULL, NULL,
	    &body), 503);
	assert_non_null(strstr(body, "\"database_unavailable\""));
	free(body);
	assert_int_equal(testlib_http(port, "GET", "/healthz", NULL, NULL,
	    NULL), 200);

	/* ... and comes back: service resumes without a restart. */
	assert_int_equal(testlib_pg("start", pgdir), 0);
	assert_int_equal(status_within(port, "/readyz", 200, 50), 200);
	/* Every worker thread reconnects, not just one. */
	for (int i = 0; i < 20; i++)
		assert_int_equal(testlib_http(port, "GET", "/readyz", NULL,
		    NULL, NULL), 200);

	assert_int_equal(testlib_stop_daemon(pid), 0);
}

static void
refuses_unmigrated_database(void **state)
{
	char *ci = testdb_create("readyz_empty");
	char bin[600], *out = NULL, *err = NULL;
	char *argv[] = { bin, "--listen", "127.0.0.1:1", "--database-url", ci,
	    NULL };

	(void)state;
	snprintf(bin, sizeof(bin), "%s/certrackd",
	    testlib_env("CERTRACK_TEST_BIN"));
	assert_int_equal(testlib_run(argv, NULL, &out, &err), 1);
	assert_non_null(strstr(err, "refusing to serve"));
	assert_non_null(strstr(err, "certrackd migrate"));

	/* `certrackd migrate` then lets it start. */
	char *margv[] = { bin, "migrate", "--database-url", ci, NULL };
	free(out);
	free(err);
	assert_int_equal(testlib_run(margv, NULL, &out, &err), 0);
	assert_non_null(strstr(err, "applied"));
	free(out);
	free(err);
	assert_int_equal(testlib_run(margv, NULL, &out, &err), 0);
	assert_non_null(strstr(err, "nothing to do"));
	free(out);
	free(err);
	free(ci);
}

static void
check_config_reports_mistakes(void **state)
{
	char bin[600], path[600], *out = NULL, *err = NULL;
	FILE *fp;

	(void)state;
	snprintf(bin, sizeof(bin), "%s/certrackd",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(path, sizeof(path), "%s/bad.conf",
	    testlib_env("CERTRACK_TEST_TMP"));
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("# comment\nthreads = many\nlisten = 127.0.0.1:8080\n"
	    "colour = blue\n", fp);
	fclose(fp);
	char *argv[] = { bin, "--config", path, "--check-config", NULL };
	assert_int_equal(testlib_run(argv, NULL, &out, &err), 1);
	assert_non_null(strstr(err, "bad.conf:2: threads: 'many'"));
	assert_non_null(strstr(err, "bad.conf:4: unknown setting 'colour'"));
	free(out);
	free(err);

	fp = fopen(path, "w");
	fputs("threads = 2\nlog_level = warn\n", fp);
	fclose(fp);
	assert_int_equal(testlib_run(argv, NULL, &out, &err), 0);
	assert_string_equal(out, "configuration ok\n");
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(readyz_follows_the_database),
		cmocka_unit_test(refuses_unmigrated_database),
		cmocka_unit_test(check_config_reports_mistakes),
	};
	return cmocka_run_group_tests_name("e2e_readyz", tests, setup,
	    teardown);
}
