#ifndef CERTRACK_APIUTIL_H
#define CERTRACK_APIUTIL_H
/*
 * Helpers every resource handler uses: checking a JSON body against a field
 * list (apifields.h, included here), turning path and query parameters into
 * text for SQL parameters, replies from the database, the write functions'
 * verdicts and the audit row every write leaves.
 */
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "certrack/apifields.h"
#include "certrack/cterr.h"
#include "certrack/db.h"
#include "certrack/http.h"

/*
 * The path parameter NAME as a positive id, its text in BUF (at least 24
 * bytes).  Returns 0, or -1 with ERR 404 naming WHAT ("clinician").
 */
int api_path_id(struct request *req, const char *name, const char *what,
    long long *id, char *buf);

/*
 * Query parameter NAME as an integer in [MIN, MAX], DEF when absent.
 * Returns 0, or -1 with ERR 400 invalid_parameter.
 */
int api_query_int(struct request *req, const char *name, long long min,
    long long max, long long def, long long *out, struct cterr *err);

/*
 * 404 for a clinician account asking about any clinician but its own (no
 * enumeration).  Returns 0 when REQ may see clinician ID.
 */
int api_may_see_clinician(struct request *req, long long id);

/* Answers STATUS with JSON text that the database built. */
int api_reply_db_json(struct request *req, int status, const char *json);

/*
 * Runs STMT on the thread's connection and answers 200 with the JSON text
 * in the first column of its row.  No row (or a NULL) answers 404 with
 * CODE and DETAIL.  Returns 0, or -1 with req->err.
 */
int api_reply_query(struct request *req, const struct db_stmt *stmt,
    const char *const *params, const char *code, const char *detail);

/*
 * The common read by id: the path parameter "id" (a positive id, else
 * 404), a clinician account's view limited to its own record when WHAT is
 * "clinician", then api_reply_query() of STMT with the id as $1; an
 * unknown id answers 404 "there is no WHAT ID".
 */
int api_reply_by_id(struct request *req, const char *what,
    const struct db_stmt *stmt);

/* What a write function of sql/0007_writes.sql answered for one row. */
struct verdict {
	char id[24];		/* the row written, "" when refused */
	char certificate[24];	/* the certificate it issued, or "" */
	char revoked[24];	/* the certificate it revoked, or "" */
};

/*
 * Sets who is writing (REQ's user, its request id) for the audit rows the
 * write functions of this transaction write.  Returns 0, or -1 with ERR.
 */
int api_write_context(PGconn *conn, const struct request *req,
    struct cterr *err);

/*
 * Runs STMT, a call of one write function that answers one write_verdict
 * (line, id, code, field, detail, next_allowed_on, certificate_id,
 * revoked_certificate_id), and fills V.  A refusal becomes ERR with the
 * function's code, field and sentence and the status api_code_status()
 * gives it (retake_too_soon also carries next_allowed_on).  Returns 0, or
 * -1 with ERR.
 */
int api_write(PGconn *conn, const struct db_stmt *stmt,
    const char *const *params, struct verdict *v, struct cterr *err);

/*
 * The level a person means by TEXT (a code or title, any case), read by
 * SQL level_resolve(): its id in ID (at least 24 bytes).  Returns 0, or -1
 * with ERR 422 unknown_level / ambiguous_level naming FIELD.
 */
int api_level(PGconn *conn, const char *text, const char *field, char *id,
    struct cterr *err);

/*
 * Runs STMT, a read of one row, and copies its first column to *OUT
 * (malloc'd, the caller frees).  Returns 0, or -1 with ERR (500 when no
 * row came back).
 */
int api_text_of(PGconn *conn, const struct db_stmt *stmt,
    const char *const *params, char **out, struct cterr *err);

/* The HTTP status of a write function's refusal CODE: 404 for a missing
 * target, 409 for a state conflict, 422 for every rule. */
int api_code_status(const char *code);

/* A score against its maximum (SCORE_TEXT and MAX_TEXT for messages): 0,
 * or -1 with REQ's error 422 invalid_max_score or score_above_max. */
int api_check_scores(struct request *req, const char *score_text,
    double score, const char *max_text, double max);

/*
 * Writes the audit row of a write, on CONN inside the write's transaction:
 * who (from REQ), ACTION ("clinician.update"), ENTITY and its ID, and the
 * record BEFORE and AFTER as JSON text (either may be NULL).
 */
int api_audit(PGconn *conn, const struct request *req, const char *action,
    const char *entity, const char *entity_id, const char *before,
    const char *after, struct cterr *err);

#endif
