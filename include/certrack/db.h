#ifndef CERTRACK_DB_H
#define CERTRACK_DB_H
/*
 * Database access for the daemon: a pool of connections lent to the thread
 * running a request (or, without a pool, one per thread), opened on first
 * use and reopened on the next request after it was lost;
 * statements are prepared once per connection on first use; a transaction
 * helper retries serialization failures and deadlocks.
 */
#include <stdbool.h>
#include <libpq-fe.h>

#include "certrack/cterr.h"
#include "certrack/strbuf.h"

/* A statement prepared lazily on each connection.  Declare them static. */
struct db_stmt {
	const char *name;	/* unique across the daemon */
	const char *sql;	/* with $1, $2, ... */
	int nparams;
};

/* Remembers CONNINFO for the connections to come.  Returns 0 or -1. */
int db_init(const char *conninfo);

/*
 * Time bounds, in milliseconds (config keys db_statement_timeout_ms, ...).
 * Request connections (the pool's, a thread's own) run with PostgreSQL's
 * statement_timeout STATEMENT_MS and lock_timeout LOCK_MS, and the daemon
 * itself stops waiting for any answer (a connect, a statement) DB_GRACE_MS
 * after STATEMENT_MS: then the database is not answering at all (frozen,
 * a dead host), the connection is dropped and reopened on a later request.
 * POOL_WAIT_MS bounds the wait for a pooled connection; READY_MS bounds
 * db_probe() whole; db_open()'s connections (imports) get
 * IMPORT_STATEMENT_MS as their statement timeout and client deadline (0:
 * none) and no lock timeout of their own.  Set before serving; until then
 * config.h's defaults (CONFIG_DB_*) hold.
 */
struct db_limits {
	int statement_ms;
	int lock_ms;		/* 0: none */
	int pool_wait_ms;	/* 0: refuse at once when none is free */
	int ready_ms;
	int import_statement_ms;	/* 0: none */
};
#define DB_GRACE_MS 1000

void db_set_limits(const struct db_limits *limits);

/*
 * Seconds a client is asked to wait (Retry-After) after a 503 of each
 * kind: busy (a statement or lock timeout, no free connection) and
 * unavailable (the database unreachable or not answering).
 */
#define DB_RETRY_BUSY_S 2
#define DB_RETRY_DOWN_S 5
/* Forgets the conninfo and closes the pool; threads' own connections
 * close as the threads end. */
void db_shutdown(void);

/*
 * Serving: N connections shared by every thread.  db_conn() lends the
 * calling thread one (waiting for a free one if need be) until
 * db_release() hands it back, after each step of a request.
 */
int db_pool_init(int n);
void db_release(void);

/*
 * The calling thread's connection (lent from the pool when there is one,
 * until db_release()), (re)connected as needed.  NULL with ERR
 * 503 "database_unavailable" when the database cannot be reached (after a
 * failed connect, for a moment, without trying again: one thread at a
 * time finds out whether it is back), or 503 "database_busy" when no
 * pooled connection came free within pool_wait_ms; either with
 * ERR->retry_after.
 */
PGconn *db_conn(struct cterr *err);

/*
 * A new connection of its own (for work that outlives one callback, such
 * as an import streaming in while its thread serves other requests).  The
 * caller PQfinish()es it.  NULL with ERR 503 when the database is down.
 */
PGconn *db_open(struct cterr *err);

/*
 * Runs SQL (a constant, no parameters) for /readyz on a connection of its
 * own, apart from the pool (so a pool tied up in lock waits does not make
 * the daemon look dead), all within ready_ms: the wait for that
 * connection, connecting, and the answer.  Returns the result (caller
 * PQclear()s) when it is TUPLES_OK or COMMAND_OK, else NULL with ERR: 503
 * "database_unavailable" (unreachable, or no answer in time: the
 * connection is then dropped) or as db_fail() says (ERR->sqlstate set).
 */
PGresult *db_probe(const char *sql, struct cterr *err);

/* True while the database is known to be lost (for /metrics). */
bool db_is_down(void);

/* Closes the calling thread's connection (e.g. after a fatal error). */
void db_disconnect(void);

/*
 * Runs STMT with text PARAMS.  Returns the result (caller PQclear()s) when
 * it is COMMAND_OK or TUPLES_OK, else NULL with ERR filled by db_fail().
 */
PGresult *db_exec(PGconn *conn, const struct db_stmt *stmt,
    const char *const *params, struct cterr *err);

/*
 * db_exec() for a statement whose result is not wanted (BEGIN, an INSERT,
 * a function called for its effect): 0, or -1 with ERR by db_fail().
 * PARAMS may be NULL when STMT has none.
 */
int db_run(PGconn *conn, const struct db_stmt *stmt,
    const char *const *params, struct cterr *err);

/*
 * COPY FROM STDIN on CONN (used by imports on a connection of their own).
 * db_copy_in() runs SQL (a constant "COPY ... FROM STDIN"), db_copy_put()
 * sends a buffer's bytes, db_copy_end() ends the data (REASON NULL) or
 * abandons the COPY with REASON as its error, and reads the statement's
 * result.  Each returns 0, or -1 with ERR by db_fail(); db_copy_put()
 * refuses a buffer that lost an append (strbuf_failed()) with 500
 * "internal" and sends nothing of it, so rows with a hole in them never
 * reach the table: the caller then abandons the COPY.
 */
int db_copy_in(PGconn *conn, const char *sql, struct cterr *err);
int db_copy_put(PGconn *conn, const struct strbuf *sb, struct cterr *err);
int db_copy_end(PGconn *conn, const char *reason, struct cterr *err);

/* Called with each row of a COPY TO STDOUT, LEN bytes ending in '\n'. */
typedef void (*db_copy_row_fn)(void *arg, const char *row, size_t len);

/*
 * Runs SQL (a constant "COPY ... TO STDOUT") on CONN and hands each row to
 * FN.  Returns 0, or -1 with ERR by db_fail().
 */
int db_copy_out(PGconn *conn, const char *sql, db_copy_row_fn fn, void *arg,
    struct cterr *err);

/*
 * Turns a failed result into ERR by SQLSTATE: lost connection 503
 * "database_unavailable", a statement or lock timeout (57014, 55P03) 503
 * "database_busy" (both with ERR->retry_after), unique violation 409
 * "duplicate", other
 * integrity violations 422 "constraint_violation", a write on a read-only
 * standby (25006) 503 "read_only_database", 40001/40P01 409
 * "conflict", anything else 500 "database_error".  Frees RES.
 */
int db_fail(PGconn *conn, PGresult *res, struct cterr *err);

typedef int (*db_tx_fn)(PGconn *conn, void *arg, struct cterr *err);

/*
 * Runs FN inside BEGIN ... COMMIT on the thread's connection, rolling back
 * when FN returns -1, and retrying the whole unit (a bounded number of
 * times) on serialization failure or deadlock.  Returns FN's 0 or -1.
 */
int db_tx(db_tx_fn fn, void *arg, struct cterr *err);

/* db_tx() on a given connection (tools, tests). */
int db_tx_on(PGconn *conn, db_tx_fn fn, void *arg, struct cterr *err);

/* Database errors seen since start (for /metrics). */
unsigned long db_error_count(void);

#endif
