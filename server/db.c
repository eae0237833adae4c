#include "certrack/db.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "certrack/config.h"
#include "certrack/log.h"

#define MAX_PREPARED 256
#define TX_RETRIES 5
/* After a failed connect, how long other requests are refused at once
 * before one of them tries again. */
#define DB_RETRY_CONNECT_MS 1000
/* At most one "database busy" line in this many seconds. */
#define DB_BUSY_LOG_S 10

static char *db_conninfo;
static atomic_ulong db_errors;
static struct db_limits limits = {
	CONFIG_DB_STATEMENT_MS, CONFIG_DB_LOCK_MS, CONFIG_DB_POOL_WAIT_MS,
	CONFIG_DB_READY_MS, CONFIG_DB_IMPORT_STATEMENT_MS,
};

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
static pthread_cond_t pool_cv;
static _Thread_local struct thread_conn *held;

/* /readyz's connection, apart from the pool; one probe at a time. */
static PGconn *probe;
static pthread_mutex_t probe_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * The database's health as this daemon sees it, so that an outage is
 * logged once when it starts and once when it ends (not once per
 * request), and so that while it lasts one request at a time tries to
 * connect and the others are refused at once.
 */
static pthread_mutex_t health_mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool down;
static double down_since, next_try, busy_logged;
static unsigned long down_failures, busy_unlogged;
static bool trying;

/* Set when this thread's last wait for an answer ran out of time: the
 * connection was dropped, and reconnecting at once would wait again. */
static _Thread_local bool gave_up;

void
db_set_limits(const struct db_limits *l)
{
	limits = *l;
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The monotonic time MS from now, or 0 (no deadline) for MS 0. */
static double
deadline_in(int ms)
{
	return ms > 0 ? mono_ms() + ms : 0;
}

/* How long the daemon waits for any answer on a request connection. */
static int
request_wait_ms(void)
{
	return limits.statement_ms + DB_GRACE_MS;
}

/* A libpq message as one line. */
static void
one_line(char *buf, size_t len, const char *msg)
{
	snprintf(buf, len, "%s", msg ? msg : "");
	buf[strcspn(buf, "\n")] = '\0';
}

static void
note_lost(const char *why)
{
	atomic_fetch_add(&db_errors, 1);
	pthread_mutex_lock(&health_mu);
	down_failures++;
	if (!atomic_load(&down)) {
		atomic_store(&down, true);
		down_since = mono_ms();
		down_failures = 1;
		log_warn("database lost: %s; requests that need it are answered "
		    "503 until it is back", why);
	}
	pthread_mutex_unlock(&health_mu);
}

/* The database answered: the end of an outage, if there was one. */
static void
note_ok(void)
{
	if (!atomic_load(&down))
		return;
	pthread_mutex_lock(&health_mu);
	if (atomic_load(&down)) {
		atomic_store(&down, false);
		log_warn("database back after %.1f s (%lu failures to reach it "
		    "meanwhile)", (mono_ms() - down_since) / 1e3,
		    down_failures);
	}
	pthread_mutex_unlock(&health_mu);
}

static void
note_busy(const char *what)
{
	double now = mono_ms();
	unsigned long n;

	atomic_fetch_add(&db_errors, 1);
	pthread_mutex_lock(&health_mu);
	n = ++busy_unlogged;
	if (busy_logged != 0 && now - busy_logged < DB_BUSY_LOG_S * 1e3) {
		pthread_mutex_unlock(&health_mu);
		return;
	}
	busy_logged = now;
	busy_unlogged = 0;
	pthread_mutex_unlock(&health_mu);
	log_warn("database busy: %s (%lu request%s answered 503 database_busy "
	    "since the last such line, at most one a %d s)", what, n,
	    n == 1 ? "" : "s", DB_BUSY_LOG_S);
}

bool
db_is_down(void)
{
	return atomic_load(&down);
}

/*
 * May this thread try to connect now?  Always while the database is
 * thought up; while it is lost, one thread at a time once the last
 * failure is DB_RETRY_CONNECT_MS old.  *MINE tells whether this thread is
 * the one trying (and must say how it went with tried()).
 */
static bool
may_try(bool *mine)
{
	bool ok = true;

	*mine = false;
	if (!atomic_load(&down))
		return true;
	pthread_mutex_lock(&health_mu);
	if (atomic_load(&down)) {
		ok = !trying && mono_ms() >= next_try;
		if (ok)
			trying = *mine = true;
	}
	pthread_mutex_unlock(&health_mu);
	return ok;
}

static void
tried(bool mine, bool ok)
{
	if (ok && !mine)
		return;
	pthread_mutex_lock(&health_mu);
	if (mine)
		trying = false;
	if (!ok)
		next_try = mono_ms() + DB_RETRY_CONNECT_MS;
	pthread_mutex_unlock(&health_mu);
}

static int
set_unavailable(struct cterr *err, const char *detail)
{
	cterr_set(err, 503, "database_unavailable", NULL, "%s", detail);
	if (err != NULL)
		err->retry_after = DB_RETRY_DOWN_S;
	return -1;
}

/*
 * Waits until CONN's socket is ready for EVENTS or DEADLINE (monotonic
 * ms, 0: none) passes.  1 ready, 0 too late, -1 no socket or poll failed.
 */
static int
wait_io(PGconn *conn, short events, double deadline)
{
	struct pollfd p;

	p.fd = PQsocket(conn);
	p.events = events;
	if (p.fd < 0)
		return -1;
	for (;;) {
		int ms = -1, n;

		if (deadline > 0) {
			double left = deadline - mono_ms();
			if (left <= 0)
				return 0;
			ms = left > INT_MAX - 1 ? INT_MAX : (int)left + 1;
		}
		n = poll(&p, 1, ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/*
 * Drops CONN without waiting for the database: the socket is shut, so
 * CONN turns CONNECTION_BAD at once and stays a valid object for callers
 * that hold it.  No cancel request and no goodbye: a frozen server would
 * block both; its backend finds the socket closed when it runs again
 * (client_connection_check_interval) and rolls back.
 */
static void
drop(PGconn *conn)
{
	PGresult *res;
	int fd = PQsocket(conn);

	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	PQconsumeInput(conn);
	for (int i = 0; i < 8 && (res = PQgetResult(conn)) != NULL; i++)
		PQclear(res);
}

/* Closes every pooled connection no request holds (used once the
 * database stopped answering: they would only wait in turn). */
static void
drop_idle_pool(void)
{
	pthread_mutex_lock(&pool_mu);
	for (int i = 0; i < pool_nfree; i++) {
		if (pool_free[i]->conn != NULL) {
			PQfinish(pool_free[i]->conn);
			pool_free[i]->conn = NULL;
			pool_free[i]->nprepared = 0;
		}
	}
	pthread_mutex_unlock(&pool_mu);
}

/* Gives up on CONN after DEADLINE passed without an answer. */
static PGresult *
give_up(PGconn *conn, int waited_ms, struct cterr *err)
{
	char why[120];

	drop(conn);
	gave_up = true;
	snprintf(why, sizeof(why), "no answer within %d ms", waited_ms);
	note_lost(why);
	drop_idle_pool();
	set_unavailable(err, "the database did not answer in time; try "
	    "again shortly");
	return NULL;
}

/*
 * The answer to what was just sent on CONN, as PQexec() gives it (the
 * first error, else the last result; a COPY's start at once), waiting at
 * most until DEADLINE.  NULL with ERR when the time ran out (CONN is
 * then dropped); NULL without ERR when the connection failed.
 */
static PGresult *
await(PGconn *conn, double deadline, int waited_ms, struct cterr *err)
{
	PGresult *res, *keep = NULL;
	int f, w;

	while ((f = PQflush(conn)) == 1) {
		if ((w = wait_io(conn, POLLIN | POLLOUT, deadline)) == 0)
			return give_up(conn, waited_ms, err);
		if (w < 0 || !PQconsumeInput(conn))
			break;
	}
	for (;;) {
		while (PQisBusy(conn)) {
			if ((w = wait_io(conn, POLLIN, deadline)) == 0) {
				PQclear(keep);
				return give_up(conn, waited_ms, err);
			}
			if (w < 0 || !PQconsumeInput(conn))
				break;
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		switch (PQresultStatus(res)) {
		case PGRES_COPY_IN:
		case PGRES_COPY_OUT:
		case PGRES_COPY_BOTH:
			PQclear(keep);
			return res;
		default:
			break;
		}
		if (keep != NULL && PQresultStatus(keep) == PGRES_FATAL_ERROR) {
			PQclear(res);
		} else {
			PQclear(keep);
			keep = res;
		}
	}
	if (keep != NULL && PQstatus(conn) == CONNECTION_OK)
		note_ok();
	return keep;
}

/* Runs SQL (no parameters) on CONN within DEADLINE, as await() says. */
static PGresult *
exec_within(PGconn *conn, const char *sql, double deadline, int waited_ms,
    struct cterr *err)
{
	if (!PQsendQuery(conn, sql))
		return NULL;
	return await(conn, deadline, waited_ms, err);
}

/*
 * Every session speaks UTC and ISO dates, the API's one format, and runs
 * under its time bounds (STATEMENT_MS, LOCK_MS; 0 for none).  And its
 * backend checks every DB_CLIENT_CHECK that the daemon is still there
 * while it runs a statement: a daemon that died (SIGKILL, a crash, a lost
 * host) or gave up waiting leaves no statement running on for minutes
 * holding its locks; the backend stops within seconds and its transaction
 * is rolled back.  0, or -1 (CONN dropped or failed, ERR set).
 */
#define DB_CLIENT_CHECK "2s"

static int
session_setup(PGconn *conn, int statement_ms, int lock_ms, double deadline,
    int wait_ms, struct cterr *err)
{
	char st[16], lk[16];
	const char *params[2] = { st, lk };
	PGresult *res;
	int ok;

	snprintf(st, sizeof(st), "%d", statement_ms);
	snprintf(lk, sizeof(lk), "%d", lock_ms);
	if (!PQsendQueryParams(conn, "SELECT set_config('TimeZone', 'UTC', "
	    "false), set_config('DateStyle', 'ISO', false), "
	    "set_config('statement_timeout', $1, false), "
	    "set_config('lock_timeout', $2, false)", 2, NULL, params, NULL,
	    NULL, 0))
		return set_unavailable(err, "the database is not reachable; "
		    "try again shortly");
	res = await(conn, deadline, wait_ms, err);
	ok = PQresultStatus(res) == PGRES_TUPLES_OK;
	PQclear(res);
	if (!ok)
		return cterr_isset(err) ? -1 : set_unavailable(err, "the "
		    "database is not reachable; try again shortly");
	/* Apart: where the platform cannot check (not Linux) it is refused,
	 * and that must not undo the settings above. */
	res = exec_within(conn, "SET client_connection_check_interval = '"
	    DB_CLIENT_CHECK "'", deadline, wait_ms, err);
	PQclear(res);
	return cterr_isset(err) ? -1 : 0;
}

/*
 * Polls a connect (POLL is PQconnectPoll) or a reset (PQresetPoll) of
 * CONN to its end or DEADLINE.  True when CONN is connected.
 */
static bool
finish_connect(PGconn *conn, PostgresPollingStatusType (*poll_fn)(PGconn *),
    double deadline)
{
	PostgresPollingStatusType st = PGRES_POLLING_WRITING;

	if (conn == NULL || PQstatus(conn) == CONNECTION_BAD)
		return false;
	while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
		if (wait_io(conn, st == PGRES_POLLING_READING ? POLLIN :
		    POLLOUT, deadline) <= 0) {
			gave_up = true;
			drop(conn);
			return false;
		}
		st = poll_fn(conn);
	}
	return st == PGRES_POLLING_OK;
}

/* Why CONN could not connect, as a line in BUF. */
static const char *
connect_failure(PGconn *conn, int waited_ms, char *buf, size_t len)
{
	if (conn == NULL)
		snprintf(buf, len, "out of memory");
	else if (gave_up)
		snprintf(buf, len, "no answer to a connection within %d ms",
		    waited_ms);
	else
		one_line(buf, len, PQerrorMessage(conn));
	return buf;
}

/*
 * A new connection, ready to serve: connected and set up within WAIT_MS
 * (0: no limit), non-blocking when NONBLOCK (requests' connections: no
 * send may block), with the session's time bounds.  NULL with ERR 503
 * when the database cannot be reached.
 */
static PGconn *
open_conn(int wait_ms, bool nonblock, int statement_ms, int lock_ms,
    struct cterr *err)
{
	double deadline = deadline_in(wait_ms);
	char why[300];
	PGconn *conn;

	if (db_conninfo == NULL) {
		cterr_set(err, 500, "internal", NULL, "database not configured");
		return NULL;
	}
	gave_up = false;
	conn = PQconnectStart(db_conninfo);
	if (!finish_connect(conn, PQconnectPoll, deadline)) {
		note_lost(connect_failure(conn, wait_ms, why, sizeof(why)));
		PQfinish(conn);
		set_unavailable(err, "the database is not reachable; try again "
		    "shortly");
		return NULL;
	}
	if (nonblock)
		PQsetnonblocking(conn, 1);
	if (session_setup(conn, statement_ms, lock_ms, deadline, wait_ms,
	    err) != 0) {
		PQfinish(conn);
		return NULL;
	}
	note_ok();
	return conn;
}

/* open_conn() for a request: bounded, and while the database is lost
 * refused at once but for one try a second. */
static PGconn *
open_request_conn(struct cterr *err)
{
	PGconn *conn;
	bool mine;

	if (!may_try(&mine)) {
		set_unavailable(err, "the database is not reachable; try again "
		    "shortly");
		return NULL;
	}
	conn = open_conn(request_wait_ms(), true, limits.statement_ms,
	    limits.lock_ms, err);
	tried(mine, conn != NULL);
	return conn;
}

int
db_pool_init(int n)
{
	pthread_condattr_t ca;

	/* The wait for a free connection is measured on the monotonic
	 * clock, which no change of the wall clock moves. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&pool_cv, &ca) != 0)
		return -1;
	pthread_condattr_destroy(&ca);
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
	pthread_mutex_lock(&probe_mu);
	PQfinish(probe);
	probe = NULL;
	pthread_mutex_unlock(&probe_mu);
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

/* The time MS from now on CLOCK, for the timed waits of pthreads. */
static void
time_in(clockid_t clock, int ms, struct timespec *ts)
{
	clock_gettime(clock, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Borrows a pooled connection, waiting at most pool_wait_ms. */
static struct thread_conn *
pool_borrow(struct cterr *err)
{
	struct timespec until;
	int rc = 0;

	time_in(CLOCK_MONOTONIC, limits.pool_wait_ms, &until);
	pthread_mutex_lock(&pool_mu);
	while (pool_nfree == 0 && rc == 0 && limits.pool_wait_ms > 0)
		rc = pthread_cond_timedwait(&pool_cv, &pool_mu, &until);
	if (pool_nfree > 0)
		held = pool_free[--pool_nfree];
	pthread_mutex_unlock(&pool_mu);
	if (held != NULL)
		return held;
	note_busy("no pooled connection came free in time");
	cterr_set(err, 503, "database_busy", NULL, "all %d database "
	    "connections stayed busy for %d ms; try again shortly", pool_size,
	    limits.pool_wait_ms);
	if (err != NULL)
		err->retry_after = DB_RETRY_BUSY_S;
	return NULL;
}

static struct thread_conn *
thread_conn(struct cterr *err)
{
	struct thread_conn *tc;

	if (held != NULL)
		return held;
	if (pool_size > 0)
		return pool_borrow(err);
	pthread_once(&key_once, make_key);
	tc = pthread_getspecific(conn_key);
	if (tc == NULL) {
		tc = calloc(1, sizeof(*tc));
		if (tc != NULL)
			pthread_setspecific(conn_key, tc);
	}
	if (tc == NULL)
		cterr_set(err, 500, "internal", NULL, "out of memory");
	return tc;
}

void
db_disconnect(void)
{
	struct thread_conn *tc = thread_conn_peek();

	if (tc != NULL && tc->conn != NULL) {
		PQfinish(tc->conn);
		tc->conn = NULL;
		tc->nprepared = 0;
	}
}

PGconn *
db_conn(struct cterr *err)
{
	struct thread_conn *tc = thread_conn(err);

	if (tc == NULL)
		return NULL;
	if (tc->conn != NULL && PQstatus(tc->conn) == CONNECTION_OK)
		return tc->conn;
	if (tc->conn != NULL) {
		PQfinish(tc->conn);
		tc->conn = NULL;
		tc->nprepared = 0;
	}
	tc->conn = open_request_conn(err);
	return tc->conn;
}

PGconn *
db_open(struct cterr *err)
{
	bool mine;
	PGconn *conn;

	if (!may_try(&mine)) {
		set_unavailable(err, "the database is not reachable; try again "
		    "shortly");
		return NULL;
	}
	/* Connecting is bounded like a request's; the work is not (an
	 * import's statements may run for minutes), but by its own limit. */
	conn = open_conn(request_wait_ms(), false, limits.import_statement_ms,
	    0, err);
	tried(mine, conn != NULL);
	return conn;
}

PGresult *
db_probe(const char *sql, struct cterr *err)
{
	double deadline = deadline_in(limits.ready_ms);
	struct timespec until;
	PGresult *res;

	/* pthread_mutex_timedlock() reads the wall clock */
	time_in(CLOCK_REALTIME, limits.ready_ms, &until);
	/* Another probe still waiting means no answer in time either. */
	if (pthread_mutex_timedlock(&probe_mu, &until) != 0) {
		set_unavailable(err, "the database did not answer in time; "
		    "try again shortly");
		return NULL;
	}
	if (probe != NULL && PQstatus(probe) != CONNECTION_OK) {
		PQfinish(probe);
		probe = NULL;
	}
	if (probe == NULL) {
		/* what is left of the deadline, never 0 (which is none) */
		double left = deadline - mono_ms();

		probe = open_conn(left < 1 ? 1 : (int)left + 1, true,
		    limits.ready_ms, limits.ready_ms, err);
		if (probe == NULL) {
			pthread_mutex_unlock(&probe_mu);
			return NULL;
		}
	}
	gave_up = false;
	res = exec_within(probe, sql, deadline, limits.ready_ms, err);
	if (res == NULL && !cterr_isset(err))
		db_fail(probe, NULL, err);
	else if (res != NULL && PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK)
		res = (db_fail(probe, res, err), NULL);
	pthread_mutex_unlock(&probe_mu);
	return res;
}

unsigned long
db_error_count(void)
{
	return atomic_load(&db_errors);
}

/*
 * The checks a request can reach past the API's own value checks (a CE
 * activity's hours are read by value_hours() first, in the API and the
 * import alike), in the words of the request's fields.  The condition lives in the constraint
 * (sql/); only its explanation is here.  Any other check is named as is.
 */
static const struct {
	const char *constraint, *field, *what;
} checks[] = {
	{ "renewal_policies_ce_hours", "ce_hours",
	    "more than 0 and at most 1000" },
	{ "renewal_policies_category_hours", "ce_category_hours",
	    "more than 0 and at most ce_hours" },
	{ "renewal_policies_before", "window_before_days",
	    "from 0 to 3660 days" },
	{ "renewal_policies_after", "window_after_days",
	    "from 0 to 3660 days" },
};

/* Sets ERR for a refused check, in its field's words when known. */
static void
check_refused(const char *constraint, const char *line, struct cterr *err)
{
	size_t i;

	for (i = 0; constraint != NULL && i < sizeof(checks) /
	    sizeof(checks[0]); i++)
		if (strcmp(checks[i].constraint, constraint) == 0) {
			cterr_set(err, 422, "constraint_violation",
			    checks[i].field, "the field '%s' must be %s",
			    checks[i].field, checks[i].what);
			return;
		}
	cterr_set(err, 422, "constraint_violation", constraint,
	    "the record breaks a rule of the database (%s)",
	    constraint ? constraint : line);
}

int
db_fail(PGconn *conn, PGresult *res, struct cterr *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *constraint = res ?
	    PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME) : NULL;
	char line[300];

	one_line(line, sizeof(line), msg);
	if (state == NULL || PQstatus(conn) != CONNECTION_OK ||
	    strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
		note_lost(line);
		set_unavailable(err, "the database is not reachable; try again "
		    "shortly");
	} else if (strcmp(state, "57014") == 0 || strcmp(state, "55P03") == 0) {
		/* statement_timeout, lock_timeout: the database is there,
		 * but this request could not have its turn in time */
		note_busy(line);
		cterr_set(err, 503, "database_busy", NULL, "the database is "
		    "busy (%s); try again shortly", state[0] == '5' &&
		    state[1] == '7' ? "the statement ran out of time" :
		    "a record stayed locked by another request too long");
		if (err != NULL)
			err->retry_after = DB_RETRY_BUSY_S;
	} else if (strcmp(state, "23505") == 0) {
		cterr_set(err, 409, "duplicate", constraint,
		    "a record with these values already exists");
	} else if (strncmp(state, "23", 2) == 0) {
		check_refused(constraint, line, err);
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

/* True when CONN is the calling thread's request connection. */
static bool
is_request_conn(PGconn *conn)
{
	struct thread_conn *tc = thread_conn_peek();

	return tc != NULL && tc->conn == conn;
}

/*
 * How long to wait for an answer on CONN, in ms (0: no limit): request
 * connections as request_wait_ms() says; others (an import's, a tool's)
 * by import_statement_ms, when it is set.
 */
static int
answer_wait_ms(PGconn *conn)
{
	if (is_request_conn(conn))
		return request_wait_ms();
	return limits.import_statement_ms > 0 ?
	    limits.import_statement_ms + DB_GRACE_MS : 0;
}

/*
 * 0 when STMT is prepared on CONN, 1 when it is to be run as text, -1
 * with ERR when preparing it failed, -2 without ERR when the connection
 * turned out to be lost.
 */
static int
ensure_prepared(PGconn *conn, const struct db_stmt *stmt, double deadline,
    int wait_ms, struct cterr *err)
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
	if (!PQsendPrepare(conn, stmt->name, stmt->sql, stmt->nparams, NULL))
		return -2;
	res = await(conn, deadline, wait_ms, err);
	if (res == NULL)
		return gave_up ? -1 : -2;
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		if (PQstatus(conn) == CONNECTION_BAD) {
			PQclear(res);
			return -2;
		}
		return db_fail(conn, res, err);
	}
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
 * Reconnects CONN in place after the database dropped it (within the
 * time a request may wait); what was prepared on it is gone.  True when
 * it is usable again.  Not after this thread gave up waiting: the
 * database is not answering, and trying again now would only wait again.
 */
static bool
revive(PGconn *conn)
{
	bool request = is_request_conn(conn), nonblock = PQisnonblocking(conn);
	double deadline = deadline_in(request_wait_ms());
	struct cterr ignored;

	if (gave_up)
		return false;
	forget_prepared(conn);
	if (!PQresetStart(conn) ||
	    !finish_connect(conn, PQresetPoll, deadline))
		return false;
	if (nonblock)
		PQsetnonblocking(conn, 1);
	cterr_clear(&ignored);
	return session_setup(conn, request ? limits.statement_ms :
	    limits.import_statement_ms, request ? limits.lock_ms : 0,
	    deadline, request_wait_ms(), &ignored) == 0;
}

static PGresult *
exec_once(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    struct cterr *err)
{
	int wait_ms = answer_wait_ms(conn);
	double deadline = deadline_in(wait_ms);
	int prep = ensure_prepared(conn, stmt, deadline, wait_ms, err), sent;

	if (prep < 0)
		return NULL;
	if (prep == 0)
		sent = PQsendQueryPrepared(conn, stmt->name, stmt->nparams,
		    params, NULL, NULL, 0);
	else
		sent = PQsendQueryParams(conn, stmt->sql, stmt->nparams, NULL,
		    params, NULL, NULL, 0);
	return sent ? await(conn, deadline, wait_ms, err) : NULL;
}

PGresult *
db_exec(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    struct cterr *err)
{
	bool idle = PQtransactionStatus(conn) == PQTRANS_IDLE;
	PGresult *res;

	gave_up = false;
	res = exec_once(conn, stmt, params, err);
	/*
	 * A connection that died while idle (the database restarted) is only
	 * found out by using it.  Outside a transaction nothing is lost by
	 * reconnecting in place and running the statement once more, so one
	 * restart costs no request an error.
	 */
	if ((res == NULL || PQresultStatus(res) == PGRES_FATAL_ERROR) && idle &&
	    PQstatus(conn) == CONNECTION_BAD && !gave_up) {
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
	int wait_ms = answer_wait_ms(conn);
	PGresult *res;

	gave_up = false;
	res = exec_within(conn, sql, deadline_in(wait_ms), wait_ms, err);
	if (gave_up)
		return -1;
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

/*
 * The results that follow a COPY: each must be COMMAND_OK.  ABANDONED:
 * the sender gave the COPY up, and the query_canceled (57014) that
 * follows is its own doing, not a database out of time.
 */
static int
copy_results(PGconn *conn, bool abandoned, struct cterr *err)
{
	PGresult *res;
	const char *state;
	int rc = 0;

	/* Read to the end even after a failure, so the connection is ready
	 * for the next statement; the first failure is the one reported. */
	while ((res = PQgetResult(conn)) != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		if (PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
		} else if (rc == 0 && abandoned && state != NULL &&
		    strcmp(state, "57014") == 0) {
			PQclear(res);
			rc = cterr_set(err, 500, "database_error", NULL,
			    "the data was abandoned before its end");
			snprintf(err->sqlstate, sizeof(err->sqlstate), "57014");
		} else if (rc == 0) {
			rc = db_fail(conn, res, err);
		} else {
			PQclear(res);
		}
	}
	return rc;
}

int
db_copy_end(PGconn *conn, const char *reason, struct cterr *err)
{
	if (PQputCopyEnd(conn, reason) != 1)
		return db_fail(conn, NULL, err);
	return copy_results(conn, reason != NULL, err);
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
	return copy_results(conn, false, err);
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
			/* Died while idle: reconnect in place and begin again
			 * (not when it stopped answering: see revive()). */
			if (PQstatus(conn) != CONNECTION_BAD || gave_up)
				return -1;
			cterr_clear(err);
			if (!revive(conn) || simple(conn, "BEGIN", err) != 0)
				return db_fail(conn, NULL, err);
		}
		if (fn(conn, arg, err) == 0 && simple(conn, "COMMIT", err) == 0)
			return 0;
		if (PQstatus(conn) == CONNECTION_OK &&
		    PQtransactionStatus(conn) != PQTRANS_IDLE) {
			struct cterr ignored;

			cterr_clear(&ignored);
			simple(conn, "ROLLBACK", &ignored);
		}
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
