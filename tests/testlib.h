#ifndef CERTRACK_TESTLIB_H
#define CERTRACK_TESTLIB_H
/*
 * Helpers shared by the integration and end-to-end tests.  scripts/test
 * starts a throw-away PostgreSQL and exports where it is:
 *   CERTRACK_TEST_PGHOST  socket folder (superuser "postgres", trust auth)
 *   CERTRACK_TEST_BIN     folder with certrackd and certrack
 *   CERTRACK_TEST_TMP     scratch folder, removed after the run
 *   CERTRACK_TEST_SQL     the sql/ migrations folder
 * Every helper fails the current cmocka test on error.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sys/types.h>

/* Environment value NAME; skips nothing, fails the test when unset. */
const char *testlib_env(const char *name);

/*
 * Drops database NAME if it exists and creates it empty.  Returns its libpq
 * conninfo string; the caller frees it.
 */
char *testdb_create(const char *name);

/* Opens a connection to CONNINFO; fails the test on error. */
PGconn *testdb_connect(const char *conninfo);

/*
 * testdb_create() then applies every embedded migration with the real
 * migrate module.  Returns an open connection (caller PQfinish()es it);
 * when CONNINFO is not NULL the conninfo string is stored there (caller
 * frees).
 */
PGconn *testdb_migrated(const char *name, char **conninfo);

/* Runs SQL (no parameters) and fails the test unless it succeeds. */
void testdb_exec_ok(PGconn *conn, const char *sql);

/*
 * Runs SQL and fails the test unless it fails with exactly SQLSTATE
 * (e.g. "23505" unique, "23514" check, "23503" foreign key, "23502" not
 * null).  Runs inside a savepoint-free autocommit statement, so the
 * connection stays usable.
 */
void testdb_exec_fails(PGconn *conn, const char *sql, const char *sqlstate);

/* testdb_value() of a printf-built query (caller frees), and as a whole
 * number (-1 for NULL). */
char *testdb_textf(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
long long testdb_llf(PGconn *conn, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs a query expected to return one row and one column; returns a copy
 * of the value (caller frees), or NULL for SQL NULL. */
char *testdb_value(PGconn *conn, const char *sql);

/* Runs a command (argv[0] a path), captures stdout and stderr (each up to
 * 1 MiB, NUL-terminated, caller frees) and returns its exit status, or -1
 * when it was killed by a signal. STDIN_TEXT may be NULL. */
int testlib_run(char *const argv[], const char *stdin_text,
    char **out, char **err);

/* A TCP port on 127.0.0.1 that was free a moment ago. */
int testlib_free_port(void);

/*
 * One raw HTTP/1.1 request to 127.0.0.1:PORT (Connection: close).
 * HEADERS is NULL or extra "Name: value\r\n" lines; BODY may be NULL.
 * Returns the status code (0 when nothing answered); *RESPONSE (when not
 * NULL) receives the body, NUL-terminated (caller frees).
 */
int testlib_http(int port, const char *method, const char *path,
    const char *headers, const char *body, char **response);

/*
 * testlib_http() from the loopback address FROM ("127.0.0.2"; NULL: any),
 * and *HEAD (when not NULL) receives the status line and headers (caller
 * frees), for the answers whose headers matter (Retry-After).
 */
int testlib_http_from(const char *from, int port, const char *method,
    const char *path, const char *headers, const char *body, char **head,
    char **response);

/*
 * Starts `certrackd --listen 127.0.0.1:PORT --database-url CONNINFO` plus
 * EXTRA arguments (NULL-terminated, may be NULL), its stderr to
 * CERTRACK_TEST_TMP/NAME.log and its pid in NAME.pid, and waits up to 10 s
 * for /healthz.  Returns the pid; fails the test when it does not answer.
 */
pid_t testlib_start_daemon(const char *name, int port, const char *conninfo,
    const char *const *extra);

/* SIGTERM, then waits; returns the exit status (-1 if killed). */
int testlib_stop_daemon(pid_t pid);

/*
 * Creates an account with `certrackd create-user` on the database CONNINFO
 * (clinician accounts name CLINICIAN_ID, else 0).  Returns its one-time
 * password (caller frees): the account must change it before it may do
 * anything but /v1/me, /v1/me/password and /v1/logout.
 */
char *testlib_create_user(const char *conninfo, const char *name,
    const char *role, long long clinician_id);

/*
 * testlib_create_user(), then the account is marked as past its first-use
 * password change (straight in the database), for the tests that are about
 * something else.  Returns the password to log in with (caller frees).
 */
char *testlib_make_user(const char *conninfo, const char *name,
    const char *role, long long clinician_id);

/* TEXT parsed as JSON (caller json_decref()s); fails the test when it is
 * not JSON. */
json_t *testlib_json(const char *text);

/* Logs NAME in over HTTP; returns the bearer token (caller frees). */
char *testlib_login(int port, const char *name, const char *password);

/*
 * testlib_http() with a JSON body (Content-Type set) and, when TOKEN is not
 * NULL, an Authorization: Bearer header.
 */
int testlib_api(int port, const char *method, const char *path,
    const char *token, const char *json, char **response);

/*
 * A request sent in two halves, for uploads cut short: testlib_upload_start
 * connects, sends a POST of PATH with the Content-Length of the whole BODY
 * (LEN bytes), TOKEN as bearer, and the first HALF bytes of BODY; returns
 * the socket.  testlib_upload_finish sends the rest and returns the status
 * (0 when the connection broke), *RESPONSE the body (caller frees).
 */
int testlib_upload_start(int port, const char *path, const char *token,
    const char *body, size_t len, size_t half);
int testlib_upload_finish(int fd, const char *body, size_t len, size_t half,
    char **response);

/*
 * Runs bin/certrack with the NULL-terminated arguments after ERR, and
 * STDIN_TEXT (may be NULL) on its stdin; returns its exit status; OUT and
 * ERR as testlib_run().
 */
int testlib_cli(const char *stdin_text, char **out, char **err, ...);

/* Fail the test unless HAY contains NEEDLE (or, lacks: does not). */
void testlib_has(const char *hay, const char *needle);
void testlib_lacks(const char *hay, const char *needle);

/*
 * Runs the CLI with the arguments into the caller's OUT and ERR (char *
 * variables of those names) and fails unless it exits CODE; with
 * E2E_CLI_SHOW set in the environment every run's output is shown.
 */
#define TESTLIB_CLI(code, in, ...) do { \
	int rc_ = testlib_cli((in), &out, &err, __VA_ARGS__, NULL); \
	if (getenv("E2E_CLI_SHOW") != NULL) \
		fprintf(stderr, "---- exit %d\n%s%s", rc_, out, err); \
	if (rc_ != (code)) \
		fail_msg("exit %d, expected %d\nstdout:\n%s\nstderr:\n%s", \
		    rc_, (code), out, err); \
} while (0)

/*
 * What most end-to-end groups start from: database NAME freshly migrated,
 * a certrackd serving it on a free port, and an "admin" and a "grader"
 * account, logged in.
 */
struct testlib_world {
	char *conninfo;
	PGconn *db;
	int port;
	pid_t daemon;		/* a test that restarts it updates this */
	char *admin_pw, *grader_pw;
	char *admin, *grader;	/* their bearer tokens */
};
void testlib_world_up(struct testlib_world *w, const char *name);

/* Stops the daemon and frees W; returns 0 when the daemon exited 0. */
int testlib_world_down(struct testlib_world *w);

/* Runs scripts/pg with the given arguments; returns its exit status. */
int testlib_pg(const char *cmd, const char *dir);

/* The string (integer) member KEY of object O; fails the test when it is
 * missing or of another type.  The string belongs to O. */
const char *testlib_str(const json_t *o, const char *key);
long long testlib_int(const json_t *o, const char *key);

/*
 * Points the certrack CLI at W's daemon for the rest of the process: a
 * private HOME (CERTRACK_TEST_TMP/NAME-home), CERTRACK_URL and, as the
 * account to act as, CERTRACK_TOKEN = TOKEN.
 */
void testlib_cli_env(const struct testlib_world *w, const char *name,
    const char *token);

/*
 * POST /v1/imports?QUERY to 127.0.0.1:PORT with CSV as the body, by
 * TOKEN.  Returns the status; *REPORT the parsed answer (caller
 * json_decref()s); fails the test when the answer is not JSON.
 */
/*
 * POST /v1/clinicians as TOKEN on PORT: a PT named GIVEN FAMILY with
 * EMAIL (201, or the test fails); returns its id.
 */
long long testlib_clinician(int port, const char *token, const char *email,
    const char *given, const char *family);

/*
 * GET /v1/clinicians/ID/status as TOKEN on PORT (200, or the test fails):
 * the clinician's given name in OUT (SIZE bytes).  Returns OUT.
 */
const char *testlib_status_given(int port, const char *token, long long id,
    char *out, size_t size);

int testlib_import(int port, const char *token, const char *query,
    const char *csv, json_t **report);

/* A roster of N good rows after its header, N distinct people (PT, level
 * DN1); *LEN its length (caller frees). */
char *testlib_roster(long n, size_t *len);

/* ---- bounded requests and daemon logs (e2e_dbtime, e2e_standby) ------- */

/* Seconds on the monotonic clock. */
double testlib_now(void);

/* An answer and how long it took. */
struct testlib_answer {
	int status;		/* 0: no answer */
	char head[1024];	/* status line and headers */
	char body[2048];
	double secs;
};

/*
 * One request (Connection: close) to 127.0.0.1:PORT, with TOKEN as bearer
 * and JSON as body when not NULL, into A; a daemon that does not answer
 * within 60 s fails the test rather than hang it.
 */
void testlib_ask(int port, const char *method, const char *path,
    const char *token, const char *json, struct testlib_answer *a);

/* Fails unless A is STATUS with CODE (may be NULL) in its body, within
 * MAX_S seconds; WHAT names the request in the message. */
void testlib_expect(const struct testlib_answer *a, const char *what,
    int status, const char *code, double max_s);

/* How many lines of daemon log NAME (CERTRACK_TEST_TMP/NAME.log) hold
 * NEEDLE. */
int testlib_log_count(const char *name, const char *needle);

/*
 * Runs ARGV (ARGV[0] the program's path) on a new pseudo-terminal of 80
 * columns and 24 rows (its stdin, stdout and stderr), answering ANSWER once PROMPT (may be NULL:
 * nothing asked) shows; returns its exit status, *SHOWN everything the
 * terminal showed (caller frees).  Fails the test when the terminal stays
 * quiet for a minute.
 */
int testlib_pty(char *const argv[], const char *prompt, const char *answer,
    char **shown);

#endif
