#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "certrack/migrate.h"

const char *
testlib_env(const char *name)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0')
		fail_msg("%s is not set: run the tests with 'make test'", name);
	return v;
}

static char *
conninfo_for(const char *db)
{
	const char *host = testlib_env("CERTRACK_TEST_PGHOST");
	size_t n = strlen(host) + strlen(db) + 40;
	char *s = malloc(n);

	if (s == NULL)
		fail_msg("out of memory");
	snprintf(s, n, "host=%s user=postgres dbname=%s", host, db);
	return s;
}

PGconn *
testdb_connect(const char *conninfo)
{
	PGconn *conn = PQconnectdb(conninfo);

	if (PQstatus(conn) != CONNECTION_OK)
		fail_msg("cannot connect to '%s': %s", conninfo,
		    PQerrorMessage(conn));
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	return conn;
}

char *
testdb_create(const char *name)
{
	char *admin = conninfo_for("postgres");
	PGconn *conn = testdb_connect(admin);
	char sql[300];

	snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)",
	    name);
	testdb_exec_ok(conn, sql);
	snprintf(sql, sizeof(sql), "CREATE DATABASE %s", name);
	testdb_exec_ok(conn, sql);
	PQfinish(conn);
	free(admin);
	return conninfo_for(name);
}

PGconn *
testdb_migrated(const char *name, char **conninfo)
{
	struct migration_set set;
	struct cterr err;
	char *ci = testdb_create(name);
	PGconn *conn = testdb_connect(ci);
	int applied;

	cterr_clear(&err);
	if (migrate_set_embedded(&set, &err) != 0)
		fail_msg("migrations: %s", err.detail);
	if (migrate_apply(conn, &set, &applied, &err) != 0)
		fail_msg("migrate: %s", err.detail);
	migrate_set_release(&set);
	if (conninfo != NULL)
		*conninfo = ci;
	else
		free(ci);
	return conn;
}

void
testdb_exec_ok(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		fail_msg("SQL failed: %s\n  %s", PQresultErrorMessage(res), sql);
	PQclear(res);
}

void
testdb_exec_fails(PGconn *conn, const char *sql, const char *sqlstate)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);
	const char *got;

	if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
		PQclear(res);
		fail_msg("SQL succeeded but should fail with %s:\n  %s",
		    sqlstate, sql);
	}
	got = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	if (got == NULL || strcmp(got, sqlstate) != 0)
		fail_msg("SQL failed with %s, expected %s: %s\n  %s",
		    got ? got : "(none)", sqlstate,
		    PQresultErrorMessage(res), sql);
	PQclear(res);
}

char *
testdb_value(PGconn *conn, const char *sql)
{
	PGresult *res = PQexec(conn, sql);
	char *v;

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1 ||
	    PQnfields(res) != 1)
		fail_msg("expected one value from: %s\n  %s", sql,
		    PQresultErrorMessage(res));
	v = PQgetisnull(res, 0, 0) ? NULL : strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Reads FD until EOF into a NUL-terminated buffer of at most 1 MiB. */
struct capture {
	int fd;
	char *buf;
	size_t len, cap;
};

static void
capture_read(struct capture *c)
{
	char tmp[4096];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));

	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	if (c->len + (size_t)n + 1 > c->cap && c->cap < (1u << 20)) {
		c->cap = c->cap ? c->cap * 2 : 8192;
		while (c->cap < c->len + (size_t)n + 1)
			c->cap *= 2;
		c->buf = realloc(c->buf, c->cap);
	}
	if (c->len + (size_t)n + 1 <= c->cap) {
		memcpy(c->buf + c->len, tmp, (size_t)n);
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
	}
}

int
testlib_run(char *const argv[], const char *stdin_text, char **out, char **err)
{
	int in[2], o[2], e[2], status;
	pid_t pid;
	struct capture co = { 0 }, ce = { 0 };

	if (pipe(in) != 0 || pipe(o) != 0 || pipe(e) != 0)
		fail_msg("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		dup2(e[1], 2);
		close(in[0]); close(in[1]); close(o[0]); close(o[1]);
		close(e[0]); close(e[1]);
		execv(argv[0], argv);
		fprintf(stderr, "cannot run '%s': %s\n", argv[0],
		    strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	close(e[1]);
	if (stdin_text != NULL) {
		signal(SIGPIPE, SIG_IGN);
		if (write(in[1], stdin_text, strlen(stdin_text)) < 0)
			(void)0;	/* the child may not read it */
	}
	close(in[1]);
	co.fd = o[0];
	ce.fd = e[0];
	co.buf = calloc(1, 1);
	ce.buf = calloc(1, 1);
	co.cap = ce.cap = 1;
	while (co.fd >= 0 || ce.fd >= 0) {
		struct pollfd p[2] = { { co.fd, POLLIN, 0 }, { ce.fd, POLLIN, 0 } };
		if (poll(p, 2, 30000) <= 0)
			break;
		if (co.fd >= 0 && p[0].revents)
			capture_read(&co);
		if (ce.fd >= 0 && p[1].revents)
			capture_read(&ce);
	}
	if (co.fd >= 0)
		close(co.fd);
	if (ce.fd >= 0)
		close(ce.fd);
	waitpid(pid, &status, 0);
	if (out != NULL)
		*out = co.buf;
	else
		free(co.buf);
	if (err != NULL)
		*err = ce.buf;
	else
		free(ce.buf);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
testlib_free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) != 0)
		fail_msg("cannot find a free port: %s", strerror(errno));
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

int
testlib_http(int port, const char *method, const char *path,
    const char *headers, const char *body, char **response)
{
	return testlib_http_from(NULL, port, method, path, headers, body, NULL,
	    response);
}

/* ---- logins: requests from another loopback address ------------------- */

int
testlib_http_from(const char *from, int port, const char *method,
    const char *path, const char *headers, const char *body, char **head,
    char **response)
{
	struct sockaddr_in sa, src;
	char req[8192], buf[4096];
	size_t blen = body ? strlen(body) : 0;
	char *all = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, status = 0;

	if (response != NULL)
		*response = NULL;
	if (head != NULL)
		*head = NULL;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd >= 0 && from != NULL) {
		/* 127.0.0.0/8 is all loopback on Linux: any of it will do
		 * as a client's address. */
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		if (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
		    bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0)
			fail_msg("cannot bind to '%s': %s", from,
			    strerror(errno));
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s%zu\r\n\r\n", method, path,
	    headers ? headers : "", "Content-Length: ", blen);
	if (write(fd, req, strlen(req)) < 0 ||
	    (blen > 0 && write(fd, body, blen) < 0)) {
		close(fd);
		return 0;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		all = realloc(all, len + (size_t)n + 1);
		memcpy(all + len, buf, (size_t)n);
		len += (size_t)n;
		all[len] = '\0';
	}
	close(fd);
	if (all != NULL && sscanf(all, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	if (all != NULL) {
		char *sep = strstr(all, "\r\n\r\n");
		if (response != NULL)
			*response = strdup(sep ? sep + 4 : "");
		if (head != NULL)
			*head = strndup(all, sep ? (size_t)(sep - all) : len);
	}
	free(all);
	return status;
}

pid_t
testlib_start_daemon(const char *name, int port, const char *conninfo,
    const char *const *extra)
{
	const char *tmp = testlib_env("CERTRACK_TEST_TMP");
	char bin[600], listen[32], log[600], pidfile[600];
	const char *argv[32];
	int argc = 0;
	pid_t pid;

	snprintf(bin, sizeof(bin), "%s/certrackd",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(log, sizeof(log), "%s/%s.log", tmp, name);
	snprintf(pidfile, sizeof(pidfile), "%s/%s.pid", tmp, name);
	argv[argc++] = bin;
	argv[argc++] = "--listen";
	argv[argc++] = listen;
	argv[argc++] = "--database-url";
	argv[argc++] = conninfo;
	argv[argc++] = "--threads";
	argv[argc++] = "4";
	for (int i = 0; extra != NULL && extra[i] != NULL && argc < 31; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;

	pid = fork();
	if (pid < 0)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 2);
			close(fd);
		}
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	FILE *fp = fopen(pidfile, "w");
	if (fp != NULL) {
		fprintf(fp, "%d\n", (int)pid);
		fclose(fp);
	}
	for (int i = 0; i < 200; i++) {
		int st;
		if (testlib_http(port, "GET", "/healthz", NULL, NULL, NULL) == 200)
			return pid;
		if (waitpid(pid, &st, WNOHANG) == pid)
			fail_msg("certrackd exited early (status %d), see '%s'",
			    WIFEXITED(st) ? WEXITSTATUS(st) : -1, log);
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	fail_msg("certrackd did not answer on port %d within 10 s, see '%s'",
	    port, log);
	return -1;
}

int
testlib_stop_daemon(pid_t pid)
{
	int st;

	if (kill(pid, SIGTERM) != 0)
		return -1;
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
		usleep(50 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

int
testlib_pg(const char *cmd, const char *dir)
{
	char script[600];
	char *argv[] = { script, (char *)cmd, (char *)dir, NULL };

	snprintf(script, sizeof(script), "%s/../scripts/pg",
	    testlib_env("CERTRACK_TEST_BIN"));
	return testlib_run(argv, NULL, NULL, NULL);
}

char *
testlib_create_user(const char *conninfo, const char *name, const char *role,
    long long clinician_id)
{
	char bin[600], cid[24], *out = NULL, *err = NULL, *pw, *end;
	char *argv[] = { bin, "create-user", (char *)name, "--role",
	    (char *)role, "--database-url", (char *)conninfo, NULL, NULL,
	    NULL };

	snprintf(bin, sizeof(bin), "%s/certrackd",
	    testlib_env("CERTRACK_TEST_BIN"));
	if (clinician_id > 0) {
		snprintf(cid, sizeof(cid), "%lld", clinician_id);
		argv[7] = "--clinician";
		argv[8] = cid;
	}
	if (testlib_run(argv, NULL, &out, &err) != 0)
		fail_msg("create-user %s failed: %s", name, err);
	pw = strstr(out, "one-time password: ");
	if (pw == NULL)
		fail_msg("create-user printed no password: %s", out);
	pw += strlen("one-time password: ");
	end = strchr(pw, '\n');
	if (end != NULL)
		*end = '\0';
	pw = strdup(pw);
	free(out);
	free(err);
	return pw;
}

char *
testlib_make_user(const char *conninfo, const char *name, const char *role,
    long long clinician_id)
{
	char *pw = testlib_create_user(conninfo, name, role, clinician_id);
	const char *params[1] = { name };
	PGconn *conn = testdb_connect(conninfo);
	PGresult *res = PQexecParams(conn, "UPDATE users SET "
	    "password_change_required = false WHERE username = $1", 1, NULL,
	    params, NULL, NULL, 0);

	if (PQresultStatus(res) != PGRES_COMMAND_OK ||
	    strcmp(PQcmdTuples(res), "1") != 0)
		fail_msg("cannot mark '%s' as past its first password: %s",
		    name, PQerrorMessage(conn));
	PQclear(res);
	PQfinish(conn);
	return pw;
}

int
testlib_api(int port, const char *method, const char *path,
    const char *token, const char *json, char **response)
{
	char headers[300];

	snprintf(headers, sizeof(headers), "%s%s%s%s",
	    json ? "Content-Type: application/json\r\n" : "",
	    token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "");
	return testlib_http(port, method, path, headers, json, response);
}

json_t *
testlib_json(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	if (j == NULL)
		fail_msg("not JSON (%s): %s", jerr.text, text);
	return j;
}

char *
testlib_login(int port, const char *name, const char *password)
{
	char body[400], *resp = NULL, *tok;
	json_t *j;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}",
	    name, password);
	if (testlib_api(port, "POST", "/v1/login", NULL, body, &resp) != 200)
		fail_msg("login %s failed: %s", name, resp ? resp : "");
	j = json_loads(resp, 0, NULL);
	if (j == NULL || !json_is_string(json_object_get(j, "token")))
		fail_msg("login answer has no token: %s", resp);
	tok = strdup(json_string_value(json_object_get(j, "token")));
	json_decref(j);
	free(resp);
	return tok;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
testlib_upload_start(int port, const char *path, const char *token,
    const char *body, size_t len, size_t half)
{
	struct sockaddr_in sa;
	char head[600];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("cannot connect to port %d: %s", port, strerror(errno));
	snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\nAuthorization: Bearer %s\r\n"
	    "Content-Type: text/csv\r\nContent-Length: %zu\r\n\r\n", path,
	    token, len);
	if (write_all(fd, head, strlen(head)) != 0 ||
	    write_all(fd, body, half) != 0)
		fail_msg("cannot send the upload: %s", strerror(errno));
	return fd;
}

int
testlib_upload_finish(int fd, const char *body, size_t len, size_t half,
    char **response)
{
	char buf[4096], *all = NULL;
	size_t n = 0;
	ssize_t r;
	int status = 0;

	signal(SIGPIPE, SIG_IGN);
	if (response != NULL)
		*response = NULL;
	(void)write_all(fd, body + half, len - half);
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		all = realloc(all, n + (size_t)r + 1);
		memcpy(all + n, buf, (size_t)r);
		n += (size_t)r;
		all[n] = '\0';
	}
	close(fd);
	if (all != NULL && sscanf(all, "HTTP/1.%*d %d", &status) != 1)
		status = 0;
	if (response != NULL && all != NULL) {
		char *sep = strstr(all, "\r\n\r\n");
		*response = strdup(sep ? sep + 4 : "");
	}
	free(all);
	return status;
}

int
testlib_cli(const char *stdin_text, char **out, char **err, ...)
{
	char *argv[48], cli[600];
	va_list ap;
	int argc = 0;

	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	argv[argc++] = cli;
	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)) != NULL) {
		argc++;
		if (argc == 47)
			fail_msg("too many arguments for testlib_cli");
	}
	va_end(ap);
	return testlib_run(argv, stdin_text, out, err);
}

void
testlib_has(const char *hay, const char *needle)
{
	if (strstr(hay, needle) == NULL)
		fail_msg("expected '%s' in:\n%s", needle, hay);
}

void
testlib_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle) != NULL)
		fail_msg("did not expect '%s' in:\n%s", needle, hay);
}

void
testlib_world_up(struct testlib_world *w, const char *name)
{
	memset(w, 0, sizeof(*w));
	w->db = testdb_migrated(name, &w->conninfo);
	w->port = testlib_free_port();
	w->daemon = testlib_start_daemon(name, w->port, w->conninfo, NULL);
	w->admin_pw = testlib_make_user(w->conninfo, "admin", "admin", 0);
	w->grader_pw = testlib_make_user(w->conninfo, "grader", "grader", 0);
	w->admin = testlib_login(w->port, "admin", w->admin_pw);
	w->grader = testlib_login(w->port, "grader", w->grader_pw);
}

int
testlib_world_down(struct testlib_world *w)
{
	int rc = w->daemon > 0 ? testlib_stop_daemon(w->daemon) : 0;

	PQfinish(w->db);
	free(w->conninfo);
	free(w->admin_pw);
	free(w->grader_pw);
	free(w->admin);
	free(w->grader);
	memset(w, 0, sizeof(*w));
	return rc;
}

const char *
testlib_str(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("'%s' is not a string", key);
	return json_string_value(v);
}

long long
testlib_int(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("'%s' is not an integer", key);
	return (long long)json_integer_value(v);
}

void
testlib_cli_env(const struct testlib_world *w, const char *name,
    const char *token)
{
	char home[600], url[64];

	snprintf(home, sizeof(home), "%s/%s-home",
	    testlib_env("CERTRACK_TEST_TMP"), name);
	if (mkdir(home, 0700) != 0 && errno != EEXIST)
		fail_msg("cannot make '%s': %s", home, strerror(errno));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", w->port);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	setenv("CERTRACK_URL", url, 1);
	setenv("CERTRACK_TOKEN", token, 1);
}

int
testlib_import(int port, const char *token, const char *query,
    const char *csv, json_t **report)
{
	char path[200], hdr[300], *resp = NULL;
	int st;

	snprintf(path, sizeof(path), "/v1/imports?%s", query);
	snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
	    "Authorization: Bearer %s\r\n", token);
	st = testlib_http(port, "POST", path, hdr, csv, &resp);
	*report = testlib_json(resp ? resp : "");
	free(resp);
	return st;
}

char *
testlib_roster(long n, size_t *len)
{
	size_t cap = (size_t)n * 80 + 100, used;
	char *buf = malloc(cap);

	assert_non_null(buf);
	used = (size_t)snprintf(buf, cap,
	    "given_name,family_name,email,profession,level\n");
	for (long i = 0; i < n; i++)
		used += (size_t)snprintf(buf + used, cap - used,
		    "Given%ld,Family%ld,person%ld@example.org,PT,DN1\n", i, i, i);
	*len = used;
	return buf;
}

/* ---- bounded requests and daemon logs (e2e_dbtime, e2e_standby) ------- */

double
testlib_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
testlib_ask(int port, const char *method, const char *path,
    const char *token, const char *json, struct testlib_answer *a)
{
	struct sockaddr_in sa;
	struct timeval tv = { 60, 0 };
	char req[2048], buf[4096], all[8192], *sep;
	size_t len = 0, k;
	ssize_t n;
	int fd;

	memset(a, 0, sizeof(*a));
	a->secs = testlib_now();
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
	    "Connection: close\r\n%s%s%s%sContent-Length: %zu\r\n\r\n%s",
	    method, path, json ? "Content-Type: application/json\r\n" : "",
	    token ? "Authorization: Bearer " : "", token ? token : "",
	    token ? "\r\n" : "", json ? strlen(json) : 0, json ? json : "");
	assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		k = (size_t)n < sizeof(all) - 1 - len ? (size_t)n :
		    sizeof(all) - 1 - len;
		memcpy(all + len, buf, k);
		len += k;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		fail_msg("%s %s: no answer within 60 s", method, path);
	close(fd);
	all[len] = '\0';
	a->secs = testlib_now() - a->secs;
	if (sscanf(all, "HTTP/1.%*d %d", &a->status) != 1)
		a->status = 0;
	sep = strstr(all, "\r\n\r\n");
	snprintf(a->body, sizeof(a->body), "%s", sep ? sep + 4 : "");
	k = sep != NULL ? (size_t)(sep - all) : len;
	if (k >= sizeof(a->head))
		k = sizeof(a->head) - 1;
	memcpy(a->head, all, k);
	a->head[k] = '\0';
}

void
testlib_expect(const struct testlib_answer *a, const char *what, int status,
    const char *code, double max_s)
{
	if (a->status != status || (code != NULL &&
	    strstr(a->body, code) == NULL) || a->secs > max_s)
		fail_msg("%s: %d in %.2f s, expected %d %s within %.1f s: %s",
		    what, a->status, a->secs, status, code ? code : "",
		    max_s, a->body);
}

int
testlib_log_count(const char *name, const char *needle)
{
	char path[600], line[4096];
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s.log",
	    testlib_env("CERTRACK_TEST_TMP"), name);
	fp = fopen(path, "r");
	if (fp == NULL)
		fail_msg("cannot open '%s'", path);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, needle) != NULL)
			n++;
	fclose(fp);
	return n;
}

char *
testdb_textf(PGconn *conn, const char *fmt, ...)
{
	char sql[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return testdb_value(conn, sql);
}

long long
testdb_llf(PGconn *conn, const char *fmt, ...)
{
	char sql[4096], *v;
	va_list ap;
	long long n;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	v = testdb_value(conn, sql);
	n = v ? strtoll(v, NULL, 10) : -1;
	free(v);
	return n;
}

/* ---- a terminal (e2e_cli_contract, e2e_import_progress) ---------------- */

int
testlib_pty(char *const argv[], const char *prompt, const char *answer,
    char **shown)
{
	char *buf = NULL;
	size_t n = 0, cap = 0;
	int master, status;
	bool answered = prompt == NULL;
	pid_t pid;

	struct winsize ws = { .ws_row = 24, .ws_col = 80 };

	pid = forkpty(&master, NULL, NULL, &ws);
	if (pid < 0)
		fail_msg("forkpty: %s", strerror(errno));
	if (pid == 0) {
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		struct pollfd p = { master, POLLIN, 0 };
		ssize_t got;

		if (n + 4096 > cap) {
			cap = (cap + 4096) * 2;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		buf[n] = '\0';
		if (poll(&p, 1, 60000) != 1)
			fail_msg("the pty went quiet: '%s'", buf);
		got = read(master, buf + n, cap - 1 - n);
		if (got <= 0)
			break;	/* EIO: the child closed the terminal */
		n += (size_t)got;
		buf[n] = '\0';
		if (!answered && strstr(buf, prompt) != NULL) {
			answered = true;
			if (write(master, answer, strlen(answer)) < 0)
				fail_msg("write: %s", strerror(errno));
		}
	}
	close(master);
	if (waitpid(pid, &status, 0) != pid)
		fail_msg("waitpid: %s", strerror(errno));
	*shown = buf;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

long long
testlib_clinician(int port, const char *token, const char *email,
    const char *given, const char *family)
{
	char body[400], *resp = NULL;
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), "{\"email\":\"%s\",\"given_name\":"
	    "\"%s\",\"family_name\":\"%s\",\"profession\":\"PT\"}",
	    email, given, family);
	assert_int_equal(testlib_api(port, "POST", "/v1/clinicians", token,
	    body, &resp), 201);
	j = testlib_json(resp);
	id = testlib_int(j, "id");
	json_decref(j);
	free(resp);
	return id;
}

const char *
testlib_status_given(int port, const char *token, long long id, char *out,
    size_t size)
{
	char path[64], *resp = NULL;
	json_t *j;

	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	assert_int_equal(testlib_api(port, "GET", path, token, NULL, &resp),
	    200);
	j = testlib_json(resp);
	snprintf(out, size, "%s", testlib_str(json_object_get(j, "clinician"),
	    "given_name"));
	json_decref(j);
	free(resp);
	return out;
}
