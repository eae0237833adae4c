/*
 * End to end: docs/quickstart.md's tour, run as written, so the document
 * cannot drift from the code.
 *
 * The tour is every line starting with "$ " inside a ```sh fenced block
 * (a trailing backslash joins the next line), in document order.  Each runs
 * with /bin/sh -c from the top of the checkout against a real certrackd on
 * a freshly migrated database, and must exit 0 — or N when the line ends
 * with the comment "# exits N".  What the reader sets up by hand before the
 * tour (the ```console block: bin/ on PATH, ADMIN_PASSWORD from `make
 * run`) the test provides itself: PATH starts with the built bin/,
 * ADMIN_PASSWORD is the one-time password of the admin it creates with
 * `certrackd create-user`, CERTRACK_URL points at its daemon, HOME is a
 * scratch folder.  Output lines in the document are examples and are not compared
 * (ids, dates and certificate numbers differ from run to run).
 *
 * Two things a shell would carry from line to line are carried by the
 * test:
 *   - "$ NAME=$(COMMAND)" runs COMMAND, which must exit 0, and puts its
 *     output (less trailing newlines) in the environment as NAME for the
 *     lines after it;
 *   - a certificate number in a command (XXXX-XXXX-XXXX) stands for "the
 *     number printed above": it is replaced by the last certificate number
 *     an earlier command printed.
 *
 * QUICKSTART_SHOW=1 prints each command, its exit status and its output.
 */
#include "testlib.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXCMDS 100

struct cmd {
	char *text;		/* as run (after joining continuation lines) */
	int line;		/* where it starts in the document */
	int expect;		/* expected exit status */
};

static struct cmd cmds[MAXCMDS];
static int ncmds;
static char doc[700];
static char last_cert[15];

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

/* "... # exits N" at the end of a command: N, else 0. */
static int
expected_status(const char *text)
{
	const char *p = strstr(text, "# exits ");

	if (p == NULL)
		return 0;
	return atoi(p + 8);
}

/* Reads the tour out of the document. */
static void
extract(const char *path)
{
	char *text = slurp(path), *line, *next;
	bool in_sh = false, in_fence = false;
	int lineno = 0;
	char *pending = NULL;
	int pending_line = 0;

	for (line = text; *line != '\0'; line = next) {
		size_t len;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		lineno++;
		if (strncmp(line, "```", 3) == 0) {
			if (in_fence) {
				in_fence = in_sh = false;
				if (pending != NULL)
					fail_msg("%s:%d: a command ends with a "
					    "backslash at the end of its block",
					    path, pending_line);
			} else {
				in_fence = true;
				in_sh = strcmp(line, "```sh") == 0;
			}
			continue;
		}
		if (!in_sh)
			continue;
		if (pending == NULL && strncmp(line, "$ ", 2) != 0)
			continue;	/* an example of the output */
		if (pending == NULL) {
			pending = strdup(line + 2);
			pending_line = lineno;
		} else {
			size_t n = strlen(pending) + strlen(line) + 2;
			pending = realloc(pending, n);
			strcat(pending, " ");
			strcat(pending, line);
		}
		assert_non_null(pending);
		len = strlen(pending);
		if (len > 0 && pending[len - 1] == '\\') {
			pending[len - 1] = '\0';
			continue;
		}
		if (ncmds == MAXCMDS)
			fail_msg("%s: more than %d commands", path, MAXCMDS);
		cmds[ncmds].text = pending;
		cmds[ncmds].line = pending_line;
		cmds[ncmds].expect = expected_status(pending);
		ncmds++;
		pending = NULL;
	}
	free(text);
}

static bool
cert_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
}

/* Is S[0..14) a certificate number standing alone? */
static bool
cert_at(const char *start, const char *s)
{
	static const char shape[] = "XXXX-XXXX-XXXX";

	if (s > start && (isalnum((unsigned char)s[-1]) || s[-1] == '-'))
		return false;
	for (int i = 0; i < 14; i++) {
		if (s[i] == '\0')
			return false;
		if (shape[i] == '-' ? s[i] != '-' : !cert_char(s[i]))
			return false;
	}
	return !isalnum((unsigned char)s[14]) && s[14] != '-';
}

/* Remembers the last certificate number in OUT. */
static void
note_certs(const char *out)
{
	for (const char *p = out; *p != '\0'; p++)
		if (cert_at(out, p)) {
			memcpy(last_cert, p, 14);
			last_cert[14] = '\0';
		}
}

/* A copy of TEXT with each certificate number replaced by the last one
 * printed. */
static char *
with_certs(const struct cmd *c)
{
	char *s = strdup(c->text);

	assert_non_null(s);
	for (char *p = s; *p != '\0'; p++) {
		if (!cert_at(s, p))
			continue;
		if (last_cert[0] == '\0')
			fail_msg("%s:%d: '%s' uses a certificate number, but no "
			    "command before it printed one", doc, c->line,
			    c->text);
		memcpy(p, last_cert, 14);
		p += 13;
	}
	return s;
}

/* "NAME=$(COMMAND)": NAME and COMMAND (in place), else false. */
static bool
assignment(char *text, char **name, char **inner)
{
	char *eq = strchr(text, '=');
	size_t len = strlen(text);

	if (eq == NULL || eq == text || strncmp(eq, "=$(", 3) != 0 ||
	    text[len - 1] != ')')
		return false;
	for (char *p = text; p < eq; p++)
		if (!(islower((unsigned char)*p) || *p == '_' ||
		    (p > text && isdigit((unsigned char)*p))))
			return false;
	*eq = '\0';
	text[len - 1] = '\0';
	*name = text;
	*inner = eq + 3;
	return true;
}

static void
run_tour(void)
{
	for (int i = 0; i < ncmds; i++) {
		const struct cmd *c = &cmds[i];
		char *text = with_certs(c), *name, *inner;
		char *out = NULL, *err = NULL;
		bool assign = assignment(text, &name, &inner);
		char *argv[] = { "/bin/sh", "-c", assign ? inner : text, NULL };
		int rc = testlib_run(argv, NULL, &out, &err);

		if (getenv("QUICKSTART_SHOW") != NULL)
			fprintf(stderr, "$ %s\n---- exit %d\n%s%s", c->text, rc,
			    out, err);
		if (rc != c->expect)
			fail_msg("%s:%d: '%s' exited %d, the document expects "
			    "%d\nstdout:\n%s\nstderr:\n%s", doc, c->line,
			    c->text, rc, c->expect, out, err);
		if (assign) {
			size_t n = strlen(out);
			while (n > 0 && out[n - 1] == '\n')
				out[--n] = '\0';
			if (n == 0)
				fail_msg("%s:%d: '%s' printed nothing", doc,
				    c->line, c->text);
			setenv(name, out, 1);
		}
		note_certs(out);
		free(out);
		free(err);
		free(text);
	}
}

/* The tour must still show the five things the quick start promises. */
static void
covers(const char *what)
{
	for (int i = 0; i < ncmds; i++)
		if (strstr(cmds[i].text, what) != NULL)
			return;
	fail_msg("%s: the tour has no '%s' command any more", doc, what);
}

static void
test_quickstart_tour(void **state)
{
	const char *bin = testlib_env("CERTRACK_TEST_BIN");
	const char *tmp = testlib_env("CERTRACK_TEST_TMP");
	char top[600], home[700], url[64], *path, *conninfo, *pw;
	const char *oldpath = getenv("PATH");
	PGconn *db;
	pid_t pid;
	int port;
	(void)state;

	snprintf(top, sizeof(top), "%s/..", bin);
	snprintf(doc, sizeof(doc), "%s/docs/quickstart.md", top);
	extract(doc);
	if (ncmds < 10)
		fail_msg("%s: only %d tour commands found", doc, ncmds);
	covers("certrack login");
	covers("certrack users add");
	covers("certrack import roster");
	covers("certrack results record");
	covers("certrack status");
	covers("certrack verify");

	db = testdb_migrated("e2e_quickstart", &conninfo);
	PQfinish(db);
	pw = testlib_create_user(conninfo, "admin", "admin", 0);
	port = testlib_free_port();
	pid = testlib_start_daemon("e2e_quickstart", port, conninfo, NULL);

	snprintf(home, sizeof(home), "%s/quickstart-home", tmp);
	if (mkdir(home, 0700) != 0 && errno != EEXIST)
		fail_msg("mkdir '%s': %s", home, strerror(errno));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	path = malloc(strlen(bin) + strlen(oldpath ? oldpath : "") + 2);
	assert_non_null(path);
	sprintf(path, "%s:%s", bin, oldpath ? oldpath : "/usr/bin:/bin");
	setenv("PATH", path, 1);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	unsetenv("CERTRACK_TOKEN");
	setenv("CERTRACK_URL", url, 1);
	setenv("ADMIN_PASSWORD", pw, 1);
	if (chdir(top) != 0)
		fail_msg("cd '%s': %s", top, strerror(errno));

	run_tour();

	assert_int_equal(testlib_stop_daemon(pid), 0);
	for (int i = 0; i < ncmds; i++)
		free(cmds[i].text);
	free(path);
	free(pw);
	free(conninfo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quickstart_tour),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
