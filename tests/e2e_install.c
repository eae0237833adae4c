/*
 * End to end: a staged install.  `make install DESTDIR=<scratch>
 * PREFIX=/usr/local` puts every file where docs/deployment.md says; the
 * staged certrackd migrates a fresh database (its migrations compiled in,
 * no path given), checks the shipped example configuration, serves, answers
 * /readyz, and the staged certrack's `health` says ready; `make uninstall`
 * then leaves nothing at all under the staging folder.
 *
 * make runs with -o bin/certrackd -o bin/certrack: it installs the binaries
 * the test run is using and never rebuilds them (with other flags) while
 * other tests run.
 */
#define _XOPEN_SOURCE 700
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char top[600], stage[600], prefix[700];

static char *
slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *text;
	long n;

	if (fp == NULL)
		fail_msg("cannot open '%s': %s", path, strerror(errno));
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	text = calloc(1, (size_t)n + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)n, fp), (size_t)n);
	fclose(fp);
	return text;
}

/* Runs `make -C TOP TARGET DESTDIR=STAGE PREFIX=/usr/local` without
 * rebuilding the binaries. */
static void
make(const char *target)
{
	char destdir[700], *out = NULL, *err = NULL;
	char *argv[] = { "/usr/bin/env", "make", "--no-print-directory", "-C",
	    top, (char *)target, destdir, "PREFIX=/usr/local",
	    "-o", "bin/certrackd", "-o", "bin/certrack", NULL };
	int rc;

	snprintf(destdir, sizeof(destdir), "DESTDIR=%s", stage);
	rc = testlib_run(argv, NULL, &out, &err);
	if (rc != 0)
		fail_msg("make %s exited %d\nstdout:\n%s\nstderr:\n%s", target,
		    rc, out, err);
	free(out);
	free(err);
}

static void
installed(const char *rel, mode_t mode)
{
	char path[1000];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", prefix, rel);
	if (stat(path, &st) != 0)
		fail_msg("make install did not install '%s': %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode)
		fail_msg("'%s' has mode %o, expected a file of mode %o", path,
		    (unsigned)(st.st_mode & 07777), (unsigned)mode);
}

static int nleft;
static char left[4000];

static int
note_left(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	/* The staging folder itself is the test's own. */
	if (strcmp(path, stage) != 0) {
		nleft++;
		if (strlen(left) + strlen(path) + 20 < sizeof(left)) {
			strcat(left, flag == FTW_D || flag == FTW_DP ?
			    "  folder " : "  file   ");
			strcat(left, path);
			strcat(left, "\n");
		}
	}
	return 0;
}

/* Starts the staged certrackd on PORT; returns its pid. */
static pid_t
start_staged(const char *conninfo, int port)
{
	const char *tmp = testlib_env("CERTRACK_TEST_TMP");
	char bin[800], listen[32], log[700], pidfile[700];
	pid_t pid;
	FILE *fp;

	snprintf(bin, sizeof(bin), "%s/bin/certrackd", prefix);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(log, sizeof(log), "%s/e2e_install.log", tmp);
	snprintf(pidfile, sizeof(pidfile), "%s/e2e_install.pid", tmp);
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execl(bin, bin, "--listen", listen, "--database-url", conninfo,
		    "--threads", "2", (char *)NULL);
		_exit(127);
	}
	fp = fopen(pidfile, "w");
	if (fp != NULL) {
		fprintf(fp, "%d\n", (int)pid);
		fclose(fp);
	}
	for (int i = 0; i < 200; i++) {
		int st;
		if (testlib_http(port, "GET", "/healthz", NULL, NULL, NULL) == 200)
			return pid;
		if (waitpid(pid, &st, WNOHANG) == pid)
			fail_msg("the staged certrackd exited early (status %d), "
			    "see '%s'", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
			    log);
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	fail_msg("the staged certrackd did not answer within 10 s, see '%s'",
	    log);
	return -1;
}

static void
test_install_serve_uninstall(void **state)
{
	char bin[800], cli[800], conf[800], url[64];
	char *conninfo, *out = NULL, *err = NULL, *text, *resp = NULL;
	int port, rc;
	pid_t pid;
	(void)state;

	snprintf(top, sizeof(top), "%s/..", testlib_env("CERTRACK_TEST_BIN"));
	snprintf(stage, sizeof(stage), "%s/install-stage",
	    testlib_env("CERTRACK_TEST_TMP"));
	snprintf(prefix, sizeof(prefix), "%s/usr/local", stage);
	if (mkdir(stage, 0755) != 0 && errno != EEXIST)
		fail_msg("mkdir '%s': %s", stage, strerror(errno));
	/* A make above this test (make check) must not hand its jobserver or
	 * its variables to this one. */
	unsetenv("MAKEFLAGS");
	unsetenv("MFLAGS");
	unsetenv("MAKELEVEL");

	make("install");
	installed("/bin/certrackd", 0755);
	installed("/bin/certrack", 0755);
	installed("/share/certrack/sql/0001_schema.sql", 0644);
	installed("/share/certrack/certrackd.conf.example", 0644);
	installed("/share/man/man1/certrack.1", 0644);
	installed("/share/man/man8/certrackd.8", 0644);
	installed("/share/bash-completion/completions/certrack", 0644);
	installed("/lib/systemd/system/certrackd.service", 0644);

	snprintf(conf, sizeof(conf), "%s/lib/systemd/system/certrackd.service",
	    prefix);
	text = slurp(conf);
	if (strstr(text, "\nExecStart=/usr/local/bin/certrackd --config "
	    "/etc/certrack/certrackd.conf\n") == NULL || strstr(text, "@BINDIR@") != NULL)
		fail_msg("the installed unit does not start "
		    "/usr/local/bin/certrackd:\n%s", text);
	free(text);

	snprintf(bin, sizeof(bin), "%s/bin/certrackd", prefix);
	snprintf(cli, sizeof(cli), "%s/bin/certrack", prefix);

	/* The shipped example configuration is valid as it stands. */
	snprintf(conf, sizeof(conf), "%s/share/certrack/certrackd.conf.example",
	    prefix);
	{
		char *argv[] = { bin, "--config", conf, "--check-config", NULL };
		rc = testlib_run(argv, NULL, &out, &err);
		if (rc != 0 || strstr(out, "configuration ok") == NULL)
			fail_msg("--check-config of the example exited %d:\n%s%s",
			    rc, out, err);
		free(out);
		free(err);
	}

	/* The staged binary migrates a fresh database with no path given. */
	conninfo = testdb_create("e2e_install");
	{
		char *argv[] = { bin, "migrate", "--database-url", conninfo,
		    NULL };
		rc = testlib_run(argv, NULL, &out, &err);
		if (rc != 0)
			fail_msg("staged certrackd migrate exited %d:\n%s%s", rc,
			    out, err);
		free(out);
		free(err);
	}

	port = testlib_free_port();
	pid = start_staged(conninfo, port);
	rc = testlib_http(port, "GET", "/readyz", NULL, NULL, &resp);
	if (rc != 200 || strstr(resp, "\"ready\"") == NULL)
		fail_msg("/readyz of the staged daemon answered %d: %s", rc, resp);
	free(resp);

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	{
		char *argv[] = { cli, "--url", url, "health", NULL };
		rc = testlib_run(argv, NULL, &out, &err);
		if (rc != 0 || strstr(out, "ready") == NULL)
			fail_msg("staged certrack health exited %d:\n%s%s", rc,
			    out, err);
		free(out);
		free(err);
	}
	assert_int_equal(testlib_stop_daemon(pid), 0);

	make("uninstall");
	nleft = 0;
	left[0] = '\0';
	if (nftw(stage, note_left, 16, FTW_PHYS | FTW_DEPTH) != 0)
		fail_msg("cannot walk '%s': %s", stage, strerror(errno));
	if (nleft != 0)
		fail_msg("make uninstall left %d thing(s) behind:\n%s", nleft,
		    left);
	rmdir(stage);
	free(conninfo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_install_serve_uninstall),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
