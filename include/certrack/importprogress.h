#ifndef CERTRACK_IMPORTPROGRESS_H
#define CERTRACK_IMPORTPROGRESS_H
/*
 * A running import's progress, published where every connection (of any
 * daemon on the database) can read it while the import's own transaction
 * is still open: the import_progress table of sql/0019_import_progress.sql,
 * written by short statements on a pooled connection that commit at once.
 * Phases: receiving, checking, merging, then done or failed.
 *
 * Progress is a courtesy: a write that fails (the pool busy, the database
 * slow) is logged and the import goes on.  Only importprogress_start()
 * refuses, when the client's key is taken.  Each write borrows a pooled
 * connection and gives it back at once, so call these only from an
 * import's steps, which do their own work on a connection of their own.
 */
#include <stdbool.h>

#include "certrack/cterr.h"

/* Seconds between two writes of the rows received. */
#define IMPORTPROGRESS_EVERY 0.5

/* The most bytes of a client's import key. */
#define IMPORTPROGRESS_KEY_MAX 64

/* One import's progress, embedded in the import (zeroed: nothing yet). */
struct importprogress {
	char id[24];		/* the import's id; "" until started */
	bool started;		/* its row was written */
	bool ended;		/* done or failed was written */
	long received;		/* rows received, as last written */
	double written_at;	/* monotonic seconds of the last write */
};

/*
 * Checks a client's import KEY (the `key` parameter): 1 to 64 of A-Z a-z
 * 0-9 _ -.  Returns 0, or -1 with ERR 400 "invalid_parameter" (field
 * "key").
 */
int importprogress_key_check(const char *key, struct cterr *err);

/*
 * Import ID starts, its transaction on backend PID: writes its row
 * (phase receiving) with KEY (may be NULL), who runs it (USER_ID), KIND,
 * FILENAME (may be NULL) and its mode.  Returns 0 (also when the write
 * failed: there is no progress then), or -1 with ERR 409 "duplicate"
 * (field "key") when another import has KEY.
 */
int importprogress_start(struct importprogress *p, const char *id,
    const char *key, const char *user_id, const char *kind,
    const char *filename, bool dry_run, bool partial, int pid,
    struct cterr *err);

/* RECEIVED rows are in: written at most every IMPORTPROGRESS_EVERY
 * seconds. */
void importprogress_rows(struct importprogress *p, long received);

/*
 * The import enters PHASE ("checking", "merging"), with the counts known
 * so far; a count below 0 stays as it was.
 */
void importprogress_phase(struct importprogress *p, const char *phase,
    long received, long checked, long failed, long merged);

/*
 * The import ended: committed (OK true: phase done) or rolled back
 * (failed, MESSAGE saying why, may be NULL).  Once only; later calls do
 * nothing.
 */
void importprogress_end(struct importprogress *p, bool ok,
    const char *message);

#endif
