/*
 * End to end: a real certrackd on a loopback port, driven by the real
 * certrack binary.  `certrack health` against a ready daemon, with --json,
 * against a schema that is not current, against a port where nothing
 * listens; the CLI's manners (unknown
 * command, --version, help, a full stdout); and certrackd refusing an
 * unmigrated database.  The group teardown stops the daemon with SIGTERM
 * and expects exit 0.
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#define PATH_MAX_LEN 1024

/* The daemon the group shares. */
static pid_t daemon_pid = -1;
static int daemon_port;
static char daemon_url[64];
static char daemon_log[PATH_MAX_LEN];
static char cli[PATH_MAX_LEN];
static char *daemon_conninfo;
/* How the daemon ended in the group teardown: cmocka 1.1 reports a failed
 * group teardown but still exits 0, so main() checks this too. */
static int daemon_exit = -3;

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Prints the daemon's log, so a failure shows what it said. */
static void
show_log(const char *path)
{
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL)
		return;
	fprintf(stderr, "---- %s ----\n", path);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, stderr);
	fprintf(stderr, "---- end ----\n");
	fclose(fp);
}

/*
 * Starts ARGV with stdin from /dev/null and stdout and stderr to LOG;
 * writes its pid to CERTRACK_TEST_TMP/NAME.pid so the runner can kill a
 * leftover.  Returns the pid.
 */
static pid_t
spawn(const char *name, char *const argv[], const char *log)
{
	char pidfile[PATH_MAX_LEN];
	FILE *fp;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (in < 0 || out < 0)
			_exit(126);
		dup2(in, 0);
		dup2(out, 1);
		dup2(out, 2);
		close(in);
		close(out);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run '%s': %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid",
	    testlib_env("CERTRACK_TEST_TMP"), name);
	fp = fopen(pidfile, "w");
	if (fp == NULL)
		fail_msg("cannot write '%s': %s", pidfile, strerror(errno));
	fprintf(fp, "%ld\n", (long)pid);
	fclose(fp);
	return pid;
}

/*
 * Waits up to TIMEOUT_MS for PID to exit; returns its exit status, -1 when
 * a signal ended it, or -2 when it is still running.
 */
static int
wait_exit(pid_t pid, long timeout_ms)
{
	long until = now_ms() + timeout_ms;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		if (r < 0)
			fail_msg("waitpid: %s", strerror(errno));
		if (now_ms() >= until)
			return -2;
		usleep(20 * 1000);
	}
}

static size_t
discard(char *data, size_t size, size_t nmemb, void *arg)
{
	(void)data;
	(void)arg;
	return size * nmemb;
}

/* The HTTP status of GET URL, or 0 when nothing answered. */
static long
http_status(const char *url)
{
	CURL *curl = curl_easy_init();
	long status = 0;

	if (curl == NULL)
		fail_msg("curl_easy_init failed");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 2L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	if (curl_easy_perform(curl) == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	return status;
}

/* Runs certrack with ARGS (NULL-terminated); captures like testlib_run. */
static int
run_cli(char **out, char **err, ...)
{
	char *argv[16];
	va_list ap;
	int argc = 0;

	argv[argc++] = cli;
	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL) {
		argc++;
		assert_true(argc < 15);
	}
	va_end(ap);
	return testlib_run(argv, NULL, out, err);
}

static int
setup(void **state)
{
	char bin[PATH_MAX_LEN], listen[64], health[128];
	char *conninfo;
	long until;
	int rc;

	(void)state;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fail_msg("curl_global_init failed");
	snprintf(bin, sizeof(bin), "%s/certrackd",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(daemon_log, sizeof(daemon_log), "%s/e2e_health.log",
	    testlib_env("CERTRACK_TEST_TMP"));

	conninfo = testdb_create("e2e_health");
	daemon_conninfo = conninfo;
	daemon_port = testlib_free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", daemon_port);
	snprintf(daemon_url, sizeof(daemon_url), "http://127.0.0.1:%d",
	    daemon_port);
	snprintf(health, sizeof(health), "%s/healthz", daemon_url);
	{
		char *argv[] = { bin, "--database-url", conninfo, "--listen",
		    listen, "--threads", "2", "--migrate", NULL };
		daemon_pid = spawn("e2e_health", argv, daemon_log);
	}

	/* Up within 10 s, or say why not. */
	until = now_ms() + 10000;
	while (http_status(health) != 200) {
		rc = wait_exit(daemon_pid, 0);
		if (rc != -2) {
			daemon_pid = -1;
			show_log(daemon_log);
			fail_msg("certrackd exited with %d before answering",
			    rc);
		}
		if (now_ms() >= until) {
			show_log(daemon_log);
			fail_msg("certrackd did not answer %s within 10 s",
			    health);
		}
		usleep(50 * 1000);
	}
	return 0;
}

static int
teardown(void **state)
{
	int rc;

	(void)state;
	if (daemon_pid > 0) {
		/* SIGTERM finishes in-flight requests and exits 0. */
		kill(daemon_pid, SIGTERM);
		rc = wait_exit(daemon_pid, 10000);
		if (rc == -2) {
			kill(daemon_pid, SIGKILL);
			waitpid(daemon_pid, NULL, 0);
		}
		daemon_pid = -1;
		daemon_exit = rc;
		if (rc != 0)
			show_log(daemon_log);
		assert_int_equal(rc, 0);
	}
	free(daemon_conninfo);
	daemon_conninfo = NULL;
	curl_global_cleanup();
	return 0;
}

static void
health_ready(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(run_cli(&out, &err, "--url", daemon_url, "health",
	    NULL), 0);
	assert_non_null(strstr(out, "ready"));
	assert_non_null(strstr(out, "schema version "));
	assert_string_equal(err, "");
	free(out);
	free(err);

	/* Global options also work after the command; --quiet is silent. */
	assert_int_equal(run_cli(&out, &err, "health", "--url", daemon_url,
	    "--quiet", NULL), 0);
	assert_string_equal(out, "");
	assert_string_equal(err, "");
	free(out);
	free(err);
}

static void
health_json(void **state)
{
	json_error_t jerr;
	json_t *doc;
	char *out, *err;

	(void)state;
	assert_int_equal(run_cli(&out, &err, "--url", daemon_url, "--json",
	    "health", NULL), 0);
	doc = json_loads(out, 0, &jerr);
	if (doc == NULL)
		fail_msg("--json output is not JSON (%s): %s", jerr.text, out);
	assert_string_equal(json_string_value(json_object_get(doc, "status")),
	    "ready");
	assert_true(json_is_integer(json_object_get(doc, "schema_version")));
	assert_true(json_integer_value(json_object_get(doc,
	    "schema_version")) > 0);
	json_decref(doc);
	free(out);
	free(err);
}

static void
health_not_ready(void **state)
{
	PGconn *conn = testdb_connect(daemon_conninfo);
	char *out, *err;
	int rc;

	(void)state;
	/* Forget the newest migration behind the running daemon's back:
	 * /readyz checks on every request, so it now answers 503. */
	testdb_exec_ok(conn, "CREATE TABLE e2e_saved AS SELECT * FROM "
	    "schema_migrations WHERE version = (SELECT max(version) FROM "
	    "schema_migrations)");
	testdb_exec_ok(conn, "DELETE FROM schema_migrations WHERE version = "
	    "(SELECT version FROM e2e_saved)");
	rc = run_cli(&out, &err, "--url", daemon_url, "health", NULL);
	/* Put it back before asserting, so later tests find it ready. */
	testdb_exec_ok(conn, "INSERT INTO schema_migrations SELECT * FROM "
	    "e2e_saved");
	testdb_exec_ok(conn, "DROP TABLE e2e_saved");
	PQfinish(conn);

	assert_int_equal(rc, 5);
	assert_string_equal(out, "");
	if (strncmp(err, "certrack: not ready: ", 21) != 0 ||
	    strstr(err, "certrackd migrate") == NULL)
		fail_msg("expected 'certrack: not ready: ...', got: %s", err);
	free(out);
	free(err);

	assert_int_equal(run_cli(&out, &err, "--url", daemon_url, "health",
	    NULL), 0);
	free(out);
	free(err);
}

static void
health_url_from_environment(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(setenv("CERTRACK_URL", daemon_url, 1), 0);
	assert_int_equal(run_cli(&out, &err, "health", NULL), 0);
	unsetenv("CERTRACK_URL");
	assert_non_null(strstr(out, "ready"));
	free(out);
	free(err);
}

static void
health_unreachable(void **state)
{
	char url[64], want[128], *out, *err;

	(void)state;
	/* A port that was free a moment ago: nothing listens there. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d",
	    testlib_free_port());
	snprintf(want, sizeof(want), "certrack: cannot reach '%s': ", url);
	assert_int_equal(run_cli(&out, &err, "--url", url, "health", NULL), 5);
	assert_string_equal(out, "");
	if (strstr(err, want) == NULL)
		fail_msg("expected '%s' in: %s", want, err);
	free(out);
	free(err);
}

static void
unknown_command(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(run_cli(&out, &err, "frobnicate", NULL), 2);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "certrack: unknown command 'frobnicate'"));
	assert_non_null(strstr(err, "certrack: try 'certrack --help'"));
	free(out);
	free(err);

	/* An unknown option, before or after the command, likewise. */
	assert_int_equal(run_cli(&out, &err, "--frobnicate", "health", NULL),
	    2);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "certrack: unknown option '--frobnicate'"));
	assert_non_null(strstr(err, "certrack: try 'certrack --help'"));
	free(out);
	free(err);
	assert_int_equal(run_cli(&out, &err, "health", "--frobnicate", NULL),
	    2);
	assert_string_equal(out, "");
	assert_non_null(strstr(err, "certrack: unknown option '--frobnicate'"));
	free(out);
	free(err);
}

static void
version(void **state)
{
	char *out, *err;

	(void)state;
	assert_int_equal(run_cli(&out, &err, "--version", NULL), 0);
	assert_string_equal(out, "certrack " CERTRACK_VERSION "\n");
	assert_string_equal(err, "");
	free(out);
	free(err);
}

static void
help(void **state)
{
	char *out, *err, *out2, *err2;

	(void)state;
	assert_int_equal(run_cli(&out, &err, "help", "health", NULL), 0);
	assert_non_null(strstr(out, "usage: certrack health"));
	assert_non_null(strstr(out, "Example"));
	assert_string_equal(err, "");
	/* `certrack health --help` says the same. */
	assert_int_equal(run_cli(&out2, &err2, "health", "--help", NULL), 0);
	assert_string_equal(out2, out);
	free(out);
	free(err);
	free(out2);
	free(err2);

	/* --help lists the commands and the exit codes, on stdout. */
	assert_int_equal(run_cli(&out, &err, "--help", NULL), 0);
	assert_non_null(strstr(out, "health"));
	assert_non_null(strstr(out, "Exit codes"));
	assert_string_equal(err, "");
	free(out);
	free(err);
}

static void
help_to_full_disk(void **state)
{
	char script[PATH_MAX_LEN + 64], *out, *err;
	char *argv[] = { "/bin/sh", "-c", script, NULL };

	(void)state;
	snprintf(script, sizeof(script), "'%s' --help > /dev/full", cli);
	assert_int_not_equal(testlib_run(argv, NULL, &out, &err), 0);
	assert_non_null(strstr(err, "certrack: cannot write the output"));
	free(out);
	free(err);
}

static void
unmigrated_database_refused(void **state)
{
	char bin[PATH_MAX_LEN], listen[64], log[PATH_MAX_LEN];
	char *conninfo, *text = NULL;
	long size;
	FILE *fp;
	pid_t pid;
	int rc;

	(void)state;
	conninfo = testdb_create("e2e_health_bare");
	snprintf(bin, sizeof(bin), "%s/certrackd",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", testlib_free_port());
	snprintf(log, sizeof(log), "%s/e2e_health_bare.log",
	    testlib_env("CERTRACK_TEST_TMP"));
	{
		char *argv[] = { bin, "--database-url", conninfo, "--listen",
		    listen, NULL };
		pid = spawn("e2e_health_bare", argv, log);
	}
	free(conninfo);
	/* A daemon that serves anyway must not hang the test. */
	rc = wait_exit(pid, 15000);
	if (rc == -2) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		show_log(log);
		fail_msg("certrackd served an unmigrated database");
	}
	fp = fopen(log, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	if (rc != 1 || strstr(text, "certrackd migrate") == NULL)
		fail_msg("expected exit 1 and 'certrackd migrate', got %d: %s",
		    rc, text);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(health_ready),
		cmocka_unit_test(health_json),
		cmocka_unit_test(health_not_ready),
		cmocka_unit_test(health_url_from_environment),
		cmocka_unit_test(health_unreachable),
		cmocka_unit_test(unknown_command),
		cmocka_unit_test(version),
		cmocka_unit_test(help),
		cmocka_unit_test(help_to_full_disk),
		cmocka_unit_test(unmigrated_database_refused),
	};

	int rc = cmocka_run_group_tests_name("e2e_health", tests, setup,
	    teardown);

	if (daemon_exit != 0) {
		fprintf(stderr, "e2e_health: certrackd did not exit 0 on "
		    "SIGTERM (%d)\n", daemon_exit);
		return rc != 0 ? rc : 1;
	}
	return rc;
}
