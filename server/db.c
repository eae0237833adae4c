#include "certrack/db.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/log.h"

#define MAX_PREPARED 256
#define TX_RETRIES 5

static char *db_conninfo;
static atomic_ulong db_errors;

struct thread_conn {
	PGconn *conn;
	int nprepared;
	const struct db_stmt *prepared[MAX_PREPARED];
};

static pthread_key_t conn_key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

/*
 * Serving: a pool of connections lent to whichever thread runs a request,
 * for the length of one step of it (db_release() gives it back).  Without
 * a pool (tools, tests) each thread keeps a connection of its own.
 */
static struct thread_conn **pool_free;
static struct thread_conn **pool_all;
static int pool_nfree, pool_size;
static pthread_mutex_t pool_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_cv = PTHREAD_COND_INITIALIZER;
static _Thread_local struct thread_conn *held;

int
db_pool_init(int n)
{
	pool_free = calloc((size_t)n, sizeof(*pool_free));
	pool_all = calloc((size_t)n, sizeof(*pool_all));
	if (pool_free == NULL || pool_all == NULL)
		return -1;
	for (int i = 0; i < n; i++) {
		pool_all[i] = pool_free[i] = calloc(1, sizeof(**pool_free));
		if (pool_free[i] == NULL)
			return -1;
	}
	pool_nfree = pool_size = n;
	return 0;
}

void
db_release(void)
{
	if (held == NULL)
		return;
	pthread_mutex_lock(&pool_mu);
	pool_free[pool_nfree++] = held;
	held = NULL;
	pthread_cond_signal(&pool_cv);
	pthread_mutex_unlock(&pool_mu);
}

/*
 * Every session speaks UTC and ISO dates, the API's one format.  And its
 * backend checks every DB_CLIENT_CHECK that the daemon is still there
 * while it runs a statement: a daemon that died (SIGKILL, a crash, a lost
 * host) leaves no merge running on for minutes holding its locks; the
 * backend stops within seconds and its transaction is rolled back.
 */
#define DB_CLIENT_CHECK "2s"

static void
session_setup(PGconn *conn)
{
	PQclear(PQexec(conn, "SET TIME ZONE 'UTC'; SET DateStyle = 'ISO'"));
	/* Apart: where the platform cannot check (not Linux) it is refused,
	 * and that must not undo the settings above. */
	PQclear(PQexec(conn, "SET client_connection_check_interval = '"
	    DB_CLIENT_CHECK "'"));
}

static void
thread_conn_free(void *p)
{
	struct thread_conn *tc = p;

	if (tc->conn != NULL)
		PQfinish(tc->conn);
	free(tc);
}

static void
make_key(void)
{
	pthread_key_create(&conn_key, thread_conn_free);
}

int
db_init(const char *conninfo)
{
	pthread_once(&key_once, make_key);
	free(db_conninfo);
	db_conninfo = strdup(conninfo);
	return db_conninfo == NULL ? -1 : 0;
}

void
db_shutdown(void)
{
	db_release();
	db_disconnect();
	for (int i = 0; i < pool_size; i++) {
		if (pool_all[i]->conn != NULL)
			PQfinish(pool_all[i]->conn);
		free(pool_all[i]);
	}
	free(pool_all);
	free(pool_free);
	pool_all = pool_free = NULL;
	pool_size = pool_nfree = 0;
	free(db_conninfo);
	db_conninfo = NULL;
}

/*
 * The calling thread's connection if it has one now (the one lent to it,
 * or without a pool its own), else NULL: never borrows from the pool, so
 * work on a connection of its own (an import's) never waits for one.
 */
static struct thread_conn *
thread_conn_peek(void)
{
	if (held != NULL)
		return held;
	if (pool_size > 0)
		return NULL;
	pthread_once(&key_once, make_key);
	return pthread_getspecific(conn_key);
}

static struct thread_conn *
thread_conn(void)
{
	struct thread_conn *tc;

	if (held != NULL)
		return held;
	if (pool_size > 0) {
		pthread_mutex_lock(&pool_mu);
		while (pool_nfree == 0)
			pthread_cond_wait(&pool_cv, &pool_mu);
		held = pool_free[--pool_nfree];
		pthread_mutex_unlock(&pool_mu);
		return held;
	}
	pthread_once(&key_once, make_key);
	tc = pthread_getspecific(conn_key);
	if (tc == NULL) {
		tc = calloc(1, sizeof(*tc));
		if (tc != NULL)
			pthread_setspecific(conn_key, tc);
	}
	return tc;
}

void
db_disconnect(void)
{
	struct thread_conn *tc = thread_conn();

	if (tc != NULL && tc->conn != NULL) {
		PQfinish(tc->conn);
		tc->conn = NULL;
		tc->nprepared = 0;
	}
}

PGconn *
db_conn(struct cterr *err)
{
	struct thread_conn *tc = thread_conn();

	if (tc == NULL) {
		cterr_set(err, 500, "internal", NULL, "out of memory");
		return NULL;
	}
	if (tc->conn != NULL && PQstatus(tc->conn) == CONNECTION_OK)
		return tc->conn;
	if (tc->conn != NULL) {
		PQfinish(tc->conn);
		tc->conn = NULL;
		tc->nprepared = 0;
	}
	if (db_conninfo == NULL) {
		cterr_set(err, 500, "internal", NULL, "database not configured");
		return NULL;
	}
	tc->conn = PQconnectdb(db_conninfo);
	if (PQstatus(tc->conn) != CONNECTION_OK) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(tc->conn));
		msg[strcspn(msg, "\n")] = '\0';
		log_warn("cannot connect to the database: %s", msg);
		atomic_fetch_add(&db_errors, 1);
		PQfinish(tc->conn);
		tc->conn = NULL;
		cterr_set(err, 503, "database_unavailable", NULL,
		    "the database is not reachable; try again shortly");
		return NULL;
	}
	session_setup(tc->conn);
	return tc->conn;
}

PGconn *
db_open(struct cterr *err)
{
	PGconn *conn;

	if (db_conninfo == NULL) {
		cterr_set(err, 500, "internal", NULL, "database not configured");
		return NULL;
	}
	conn = PQconnectdb(db_conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[300];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		msg[strcspn(msg, "\n")] = '\0';
		log_warn("cannot connect to the database: %s", msg);
		atomic_fetch_add(&db_errors, 1);
		PQfinish(conn);
		cterr_set(err, 503, "database_unavailable", NULL,
		    "the database is not reachable; try again shortly");
		return NULL;
	}
	session_setup(conn);
	return conn;
}

unsigned long
db_error_count(void)
{
	return atomic_load(&db_errors);
}

int
db_fail(PGconn *conn, PGresult *res, struct cterr *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *constraint = res ?
	    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	char line[300];

	snprintf(line, sizeof(line), "%s", msg ? msg : "");
	line[strcspn(line, "\n")] = '\0';
	if (state == NULL || PQstatus(conn) != CONNECTION_OK ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		atomic_fetch_add(&db_errors, 1);
		log_warn("database connection lost: %s", line);
		cterr_set(err, 503, "database_unavailable", NULL,
		    "the database is not reachable; try again shortly");
	} else if (strcmp(state, "23505") == 0) {
		cterr_set(err, 409, "duplicate", constraint,
		    "a record with these values already exists");
	} else if (strncmp(state, "23", 2) == 0) {
		cterr_set(err, 422, "constraint_violation", constraint,
		    "the record breaks a rule of the database (%s)",
		    constraint ? constraint : line);
	} else if (strcmp(state, "25006") == 0) {
		cterr_set(err, 503, "read_only_database", NULL,
		    "this server's database is read-only (a standby): send "
		    "writes to one that serves the primary");
	} else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0) {
		cterr_set(err, 409, "conflict", NULL,
		    "the request conflicted with another one; try again");
	} else {
		atomic_fetch_add(&db_errors, 1);
		log_error("database error %s: %s", state, line);
		cterr_set(err, 500, "database_error", NULL,
		    "the database refused the request");
	}
	if (state != NULL && err != NULL)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
	PQclear(res);
	return -1;
}

static int
ensure_prepared(PGconn *conn, const struct db_stmt *stmt, struct cterr *err)
{
	struct thread_conn *tc = thread_conn_peek();
	PGresult *res;

	/* Only the thread's own connection keeps a prepared list; another
	 * connection (a tool's) prepares nothing and runs the text. */
	if (tc == NULL || tc->conn != conn)
		return 1;
	for (int i = 0; i < tc->nprepared; i++)
		if (tc->prepared[i] == stmt)
			return 0;
	if (tc->nprepared == MAX_PREPARED)
		return 1;
	res = PQprepare(conn, stmt->name, stmt->sql, stmt->nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return db_fail(conn, res, err);
	PQclear(res);
	tc->prepared[tc->nprepared++] = stmt;
	return 0;
}

/* Forgets what was prepared on the thread's connection. */
static void
forget_prepared(PGconn *conn)
{
	struct thread_conn *tc = thread_conn_peek();

	if (tc != NULL && tc->conn == conn)
		tc->nprepared = 0;
}

/*
 * Reconnects CONN in place after the database dropped it; what was
 * prepared on it is gone.  True when it is usable again.
 */
static bool
revive(PGconn *conn)
{
	forget_prepared(conn);
	PQreset(conn);
	if (PQstatus(conn) != CONNECTION_OK)
		return false;
	session_setup(conn);
	return true;
}

static PGresult *
exec_once(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    struct cterr *err)
{
	int prep = ensure_prepared(conn, stmt, err);

	if (prep < 0)
		return NULL;
	if (prep == 0)
		return PQexecPrepared(conn, stmt->name, stmt->nparams, params,
		    NULL, NULL, 0);
	return PQexecParams(conn, stmt->sql, stmt->nparams, NULL, params, NULL,
	    NULL, 0);
}

PGresult *
db_exec(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    struct cterr *err)
{
	bool idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
	PGresult *res = exec_once(conn, stmt, params, err);

	/*
	 * A connection that died while idle (the database restarted) is only
	 * found out by using it.  Outside a transaction nothing is lost by
	 * reconnecting in place and running the statement once more, so one
	 * restart costs no request an error.
	 */
	if ((res == NULL || PQresultStatus(res) == PGRES_FATAL_ERROR) && idle &&
	    PQstatus(conn) == CONNECTION_BAD) {
		PQclear(res);
		res = revive(conn) ? exec_once(conn, stmt, params, err) : NULL;
	}
	if (res == NULL && !cterr_isset(err))
		return db_fail(conn, NULL, err), NULL;
	if (res == NULL)
		return NULL;
	switch (PQresultStatus(res)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK:
		return res;
	default:
		db_fail(conn, res, err);
		return NULL;
	}
}

int
db_run(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    struct cterr *err)
{
	PGresult *res = db_exec(conn, stmt, params, err);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Runs SQL (no parameters) expecting WANT: 0, or -1 with ERR. */
static int
simple_as(PGconn *conn, const char *sql, ExecStatusType want,
    struct cterr *err)
{
	PGresult *res = PQexec(conn, sql);

	if (PQresultStatus(res) != want)
		return db_fail(conn, res, err);
	PQclear(res);
	return 0;
}

int
db_copy_in(PGconn *conn, const char *sql, struct cterr *err)
{
	return simple_as(conn, sql, PGRES_COPY_IN, err);
}

int
db_copy_put(PGconn *conn, const struct strbuf *sb, struct cterr *err)
{
	/* Rows with a hole in them must not reach the table: the whole
	 * buffer is held back, and the statement is to be abandoned. */
	if (strbuf_failed(sb))
		return cterr_set(err, 500, "internal", NULL, "out of memory: "
		    "data for the database was lost before it was sent");
	if (sb->len > INT_MAX)
		return cterr_set(err, 500, "internal", NULL, "a piece of COPY "
		    "data larger than %d bytes", INT_MAX);
	if (sb->len > 0 && PQputCopyData(conn, sb->buf, (int)sb->len) != 1)
		return db_fail(conn, NULL, err);
	return 0;
}

/* The results that follow a COPY: each must be COMMAND_OK. */
static int
copy_results(PGconn *conn, struct cterr *err)
{
	PGresult *res;
	int rc = 0;

	/* Read to the end even after a failure, so the connection is ready
	 * for the next statement; the first failure is the one reported. */
	while ((res = PQgetResult(conn)) != NULL) {
		if (PQresultStatus(res) == PGRES_COMMAND_OK)
			PQclear(res);
		else if (rc == 0)
			rc = db_fail(conn, res, err);
		else
			PQclear(res);
	}
	return rc;
}

int
db_copy_end(PGconn *conn, const char *reason, struct cterr *err)
{
	if (PQputCopyEnd(conn, reason) != 1)
		return db_fail(conn, NULL, err);
	return copy_results(conn, err);
}

int
db_copy_out(PGconn *conn, const char *sql, db_copy_row_fn fn, void *arg,
    struct cterr *err)
{
	char *row;
	int n;

	if (simple_as(conn, sql, PGRES_COPY_OUT, err) != 0)
		return -1;
	while ((n = PQgetCopyData(conn, &row, 0)) > 0) {
		fn(arg, row, (size_t)n);
		PQfreemem(row);
	}
	if (n == -2)
		return db_fail(conn, NULL, err);
	return copy_results(conn, err);
}

static int
simple(PGconn *conn, const char *sql, struct cterr *err)
{
	return simple_as(conn, sql, PGRES_COMMAND_OK, err);
}

static bool
retryable(const struct cterr *err)
{
	return strcmp(err->sqlstate, "40001") == 0 ||
	    strcmp(err->sqlstate, "40P01") == 0;
}

int
db_tx_on(PGconn *conn, db_tx_fn fn, void *arg, struct cterr *err)
{
	for (int attempt = 1;; attempt++) {
		cterr_clear(err);
		if (simple(conn, "BEGIN", err) != 0) {
			/* Died while idle: reconnect in place and begin again. */
			if (PQstatus(conn) != CONNECTION_BAD)
				return -1;
			cterr_clear(err);
			if (!revive(conn) || simple(conn, "BEGIN", err) != 0)
				return db_fail(conn, NULL, err);
		}
		if (fn(conn, arg, err) == 0 && simple(conn, "COMMIT", err) == 0)
			return 0;
		if (PQstatus(conn) == CONNECTION_OK &&
		    PQtransactionStatus(conn) != PQTRANS_IDLE)
			PQclear(PQexec(conn, "ROLLBACK"));
		if (!retryable(err) || attempt == TX_RETRIES)
			return -1;
		log_info("transaction conflict (%s), retrying", err->sqlstate);
	}
}

int
db_tx(db_tx_fn fn, void *arg, struct cterr *err)
{
	PGconn *conn = db_conn(err);

	return conn == NULL ? -1 : db_tx_on(conn, fn, arg, err);
}
