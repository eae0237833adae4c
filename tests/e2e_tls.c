/*
 * TLS and the plain-HTTP guard: certrackd serves HTTPS with a certificate
 * made for the test; the CLI refuses a server it cannot verify and works
 * with --cacert (or CERTRACK_CACERT); plain HTTP off loopback is refused by
 * the daemon and the CLI alike unless told otherwise.
 */
#include "testlib.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

static char crt[600], key[600], other[600], bin[600], cli[600];

static int
setup(void **state)
{
	const char *tmp = testlib_env("CERTRACK_TEST_TMP");
	char okey[600];

	(void)state;
	snprintf(crt, sizeof(crt), "%s/tls.crt", tmp);
	snprintf(key, sizeof(key), "%s/tls.key", tmp);
	snprintf(other, sizeof(other), "%s/other.crt", tmp);
	snprintf(okey, sizeof(okey), "%s/other.key", tmp);
	snprintf(bin, sizeof(bin), "%s/certrackd", testlib_env("CERTRACK_TEST_BIN"));
	snprintf(cli, sizeof(cli), "%s/certrack", testlib_env("CERTRACK_TEST_BIN"));
	for (int i = 0; i < 2; i++) {
		char *argv[] = { "/usr/bin/openssl", "req", "-x509", "-newkey",
		    "rsa:2048", "-nodes", "-keyout", i ? okey : key, "-out",
		    i ? other : crt, "-days", "2", "-subj", "/CN=127.0.0.1",
		    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", NULL };
		if (testlib_run(argv, NULL, NULL, NULL) != 0)
			return -1;
	}
	return 0;
}

/*
 * openssl s_client against PORT with the protocol/cipher options ARGS
 * (NULL-terminated; SECLEVEL=0 so the client itself would offer old
 * protocols); true when a handshake succeeded.  *TEXT (when not NULL)
 * receives what the server answered to a GET /healthz.
 */
static bool
handshake(int port, char **text, ...)
{
	char connect[32], *argv[16], *out = NULL, *err = NULL;
	int argc = 0;
	va_list ap;
	bool ok;

	snprintf(connect, sizeof(connect), "127.0.0.1:%d", port);
	argv[argc++] = "/usr/bin/openssl";
	argv[argc++] = "s_client";
	argv[argc++] = "-connect";
	argv[argc++] = connect;
	argv[argc++] = "-ign_eof";
	va_start(ap, text);
	for (char *a; argc < 15 && (a = va_arg(ap, char *)) != NULL; )
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	testlib_run(argv, "GET /healthz HTTP/1.1\r\nHost: x\r\n"
	    "Connection: close\r\n\r\n", &out, &err);
	ok = strstr(out, "Cipher is (NONE)") == NULL &&
	    strstr(out, "Cipher is ") != NULL;
	if (text != NULL)
		*text = out;
	else
		free(out);
	free(err);
	return ok;
}

static void
https_verified_or_refused(void **state)
{
	char *ci = testdb_create("e2e_tls"), url[64], *out = NULL, *err = NULL;
	const char *const extra[] = { "--migrate", "--tls-cert", crt,
	    "--tls-key", key, NULL };
	int port = testlib_free_port();
	pid_t pid;

	(void)state;
	/* testlib_start_daemon waits on plain /healthz, which a TLS port
	 * never answers: start it, then wait with the CLI itself. */
	pid = fork();
	if (pid == 0) {
		char listen[32], log[700];
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
		snprintf(log, sizeof(log), "%s/tls.log",
		    testlib_env("CERTRACK_TEST_TMP"));
		if (freopen(log, "w", stderr) == NULL)
			_exit(126);
		execl(bin, bin, "--listen", listen, "--database-url", ci,
		    extra[0], extra[1], extra[2], extra[3], extra[4], (char *)NULL);
		_exit(127);
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d", port);
	char *ok[] = { cli, "--url", url, "--cacert", crt, "health", NULL };
	int rc = -1;
	for (int i = 0; i < 100 && rc != 0; i++) {
		free(out);
		free(err);
		rc = testlib_run(ok, NULL, &out, &err);
		if (rc != 0)
			usleep(100 * 1000);
	}
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out, "ready"));
	free(out);
	free(err);

	/* no trust: refused, naming the URL */
	char *plain[] = { cli, "--url", url, "health", NULL };
	assert_int_equal(testlib_run(plain, NULL, &out, &err), 5);
	assert_non_null(strstr(err, url));
	assert_non_null(strstr(err, "certificate"));
	free(out);
	free(err);
	/* the wrong authority: refused too */
	char *wrong[] = { cli, "--url", url, "--cacert", other, "health", NULL };
	assert_int_equal(testlib_run(wrong, NULL, &out, &err), 5);
	free(out);
	free(err);
	/* trust from the environment */
	setenv("CERTRACK_CACERT", crt, 1);
	assert_int_equal(testlib_run(plain, NULL, &out, &err), 0);
	unsetenv("CERTRACK_CACERT");
	free(out);
	free(err);
	/* TLS 1.2 and 1.3 only, forward-secret AEAD suites only */
	assert_false(handshake(port, NULL, "-tls1", "-cipher",
	    "DEFAULT@SECLEVEL=0", NULL));
	assert_false(handshake(port, NULL, "-tls1_1", "-cipher",
	    "DEFAULT@SECLEVEL=0", NULL));
	assert_false(handshake(port, NULL, "-tls1_2", "-cipher",
	    "AES128-GCM-SHA256@SECLEVEL=0", NULL));	/* no FS */
	assert_false(handshake(port, NULL, "-tls1_2", "-cipher",
	    "ECDHE-RSA-AES128-SHA256", NULL));		/* not AEAD */
	assert_false(handshake(port, NULL, "-tls1_2", "-cipher",
	    "ECDHE-RSA-AES256-SHA", NULL));		/* not AEAD */
	assert_true(handshake(port, NULL, "-tls1_2", "-cipher",
	    "ECDHE-RSA-AES128-GCM-SHA256", NULL));
	assert_true(handshake(port, NULL, "-tls1_2", "-cipher",
	    "ECDHE-RSA-CHACHA20-POLY1305", NULL));
	char *text = NULL;
	assert_true(handshake(port, &text, "-tls1_3", NULL));
	assert_non_null(strstr(text, "HTTP/1.1 200"));
	assert_non_null(strstr(text, "Strict-Transport-Security: max-age="));
	assert_non_null(strstr(text, "X-Content-Type-Options: nosniff"));
	free(text);

	/* plain HTTP to the TLS port gets nothing useful */
	assert_int_not_equal(testlib_http(port, "GET", "/healthz", NULL, NULL,
	    NULL), 200);

	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(ci);
}

static void
plain_http_off_loopback(void **state)
{
	char *out = NULL, *err = NULL;

	(void)state;
	/* the daemon: refused, then allowed with the override */
	char *refuse[] = { bin, "--listen", "0.0.0.0:8080", "--check-config",
	    NULL };
	assert_int_equal(testlib_run(refuse, NULL, &out, &err), 1);
	assert_non_null(strstr(err, "refusing plain HTTP on 0.0.0.0"));
	free(out);
	free(err);
	char *allow[] = { bin, "--listen", "0.0.0.0:8080", "--insecure-http",
	    "--check-config", NULL };
	assert_int_equal(testlib_run(allow, NULL, &out, &err), 0);
	free(out);
	free(err);
	char *tls_half[] = { bin, "--tls-cert", crt, "--check-config", NULL };
	assert_int_equal(testlib_run(tls_half, NULL, &out, &err), 1);
	assert_non_null(strstr(err, "tls_cert and tls_key go together"));
	free(out);
	free(err);

	/* serving for real on every address with the override: it warns */
	char *ci = testdb_create("e2e_tls_plain");
	const char *const extra[] = { "--migrate", NULL };
	int port = testlib_free_port();
	char listen_all[32];
	snprintf(listen_all, sizeof(listen_all), "0.0.0.0:%d", port);
	pid_t pid = fork();
	if (pid == 0) {
		char log[700];
		snprintf(log, sizeof(log), "%s/tls_plain.log",
		    testlib_env("CERTRACK_TEST_TMP"));
		if (freopen(log, "w", stderr) == NULL)
			_exit(126);
		execl(bin, bin, "--listen", listen_all, "--insecure-http",
		    "--database-url", ci, extra[0], (char *)NULL);
		_exit(127);
	}
	int up = 0;
	for (int i = 0; i < 100 && up != 200; i++) {
		up = testlib_http(port, "GET", "/healthz", NULL, NULL, NULL);
		if (up != 200)
			usleep(100 * 1000);
	}
	assert_int_equal(up, 200);
	kill(pid, SIGTERM);
	int st;
	waitpid(pid, &st, 0);
	char logpath[700];
	snprintf(logpath, sizeof(logpath), "%s/tls_plain.log",
	    testlib_env("CERTRACK_TEST_TMP"));
	FILE *fp = fopen(logpath, "r");
	char buf[4096] = "";
	size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	assert_non_null(strstr(buf, "serving plain HTTP on 0.0.0.0"));
	free(ci);

	/* the CLI: refused before a byte is sent (a documentation address,
	 * never contacted) */
	char *cli_refuse[] = { cli, "--url", "http://192.0.2.1:8080", "health",
	    NULL };
	assert_int_equal(testlib_run(cli_refuse, NULL, &out, &err), 2);
	assert_non_null(strstr(err, "refusing plain http://"));
	assert_non_null(strstr(err, "--insecure-http"));
	free(out);
	free(err);
	/* loopback needs no override */
	char *cli_local[] = { cli, "--url", "http://localhost:1", "health",
	    NULL };
	assert_int_equal(testlib_run(cli_local, NULL, &out, &err), 5);
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(https_verified_or_refused),
		cmocka_unit_test(plain_http_off_loopback),
	};
	return cmocka_run_group_tests_name("e2e_tls", tests, setup, NULL);
}
