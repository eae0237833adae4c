/*
 * A running import's progress (include/certrack/importprogress.h), in the
 * import_progress table (sql/0019_import_progress.sql).  The import's own
 * connection is inside its transaction (and, during the checks and the
 * merge, busy with one long statement), so these writes go through a
 * pooled connection, each committing at once: a few per import, whatever
 * its size.
 */
#include "certrack/importprogress.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "certrack/db.h"
#include "certrack/log.h"

static const struct db_stmt q_start = { "importprogress_start",
    "SELECT import_progress_start($1, $2, $3, $4, $5, $6, $7, $8)", 8 };
static const struct db_stmt q_set = { "importprogress_set",
    "SELECT import_progress_set($1, $2, $3, $4, $5, $6, $7)", 7 };

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
importprogress_key_check(const char *key, struct cterr *err)
{
	size_t n = strlen(key);

	if (n == 0 || n > IMPORTPROGRESS_KEY_MAX ||
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") != n)
		return cterr_set(err, 400, "invalid_parameter", "key",
		    "the key must be 1 to %d letters, digits, '_' or '-'",
		    IMPORTPROGRESS_KEY_MAX);
	return 0;
}

/* Runs STMT on a pooled connection, given back at once.  0, or -1 with
 * ERR. */
static int
write_row(const struct db_stmt *stmt, const char *const *params,
    struct cterr *err)
{
	PGconn *conn = db_conn(err);
	int rc = conn != NULL ? db_run(conn, stmt, params, err) : -1;

	db_release();
	return rc;
}

int
importprogress_start(struct importprogress *p, const char *id,
    const char *key, const char *user_id, const char *kind,
    const char *filename, bool dry_run, bool partial, int pid,
    struct cterr *err)
{
	struct cterr e = { 0 };
	char pid_s[24];
	const char *params[8] = { id, key, user_id, kind, filename,
	    dry_run ? "true" : "false", partial ? "true" : "false", pid_s };

	snprintf(p->id, sizeof(p->id), "%s", id);
	snprintf(pid_s, sizeof(pid_s), "%d", pid);
	if (write_row(&q_start, params, &e) != 0) {
		if (strcmp(e.code, "duplicate") == 0)
			return cterr_set(err, 409, "duplicate", "key", "another "
			    "import has the key '%s'; choose a new one", key);
		log_warn("import %s: its progress is not shown: %s", id,
		    e.detail);
		return 0;
	}
	p->started = true;
	p->written_at = now_s();
	return 0;
}

/* Writes PHASE and the counts (NULL for a count below 0). */
static void
set(struct importprogress *p, const char *phase, long received, long checked,
    long failed, long merged, const char *message)
{
	struct cterr e = { 0 };
	long counts[4] = { received, checked, failed, merged };
	char v[4][24];
	const char *params[7] = { p->id, phase, NULL, NULL, NULL, NULL,
	    message };

	for (int i = 0; i < 4; i++)
		if (counts[i] >= 0) {
			snprintf(v[i], sizeof(v[i]), "%ld", counts[i]);
			params[i + 2] = v[i];
		}
	p->written_at = now_s();
	if (received >= 0)
		p->received = received;
	if (write_row(&q_set, params, &e) != 0)
		log_warn("import %s: its progress (%s) was not written: %s",
		    p->id, phase, e.detail);
}

void
importprogress_rows(struct importprogress *p, long received)
{
	if (!p->started || p->ended || received == p->received ||
	    now_s() - p->written_at < IMPORTPROGRESS_EVERY)
		return;
	set(p, "receiving", received, -1, -1, -1, NULL);
}

void
importprogress_phase(struct importprogress *p, const char *phase,
    long received, long checked, long failed, long merged)
{
	if (!p->started || p->ended)
		return;
	set(p, phase, received, checked, failed, merged, NULL);
}

void
importprogress_end(struct importprogress *p, bool ok, const char *message)
{
	if (!p->started || p->ended)
		return;
	p->ended = true;
	set(p, ok ? "done" : "failed", -1, -1, -1, -1, ok ? NULL : message);
}
