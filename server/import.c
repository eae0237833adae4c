/*
 * CSV imports: POST /v1/imports?kind=roster|results|ce with the CSV as the
 * body.  The body is parsed as it arrives (csvread), each row checked in C
 * (importmap) and streamed over COPY into a temporary staging table with
 * its line number; the checks that need the database and the merge are
 * set-based SQL functions over that table (import_roster_check() and
 * friends, last defined in sql/0011_import_speed.sql: one pass per check)
 * built on the same write functions as the API (sql/0007_writes.sql).
 * Everything happens in one transaction on a connection of the import's
 * own, through the db layer like every module: a client that goes away, a
 * daemon that dies or a database that fails leaves nothing of the import
 * behind.  While the checks and the merge run, the upload's connection is
 * watched: a client that hangs up then gets its statement cancelled, so
 * its backend stops at once instead of finishing work nobody will read.
 *
 * Modes: all-or-nothing (default: one bad row and nothing is written),
 * partial (good rows written, bad ones reported), dry_run (the same path,
 * rolled back at the end: the same report).  The report (imports and
 * import_errors rows) is kept in every mode.
 *
 * While it runs, its phase and counts are published outside its
 * transaction (importprogress.c), for GET /v1/imports and
 * /v1/imports/{id} from any connection; a client's `key` names it before
 * its id comes back.
 */
#define _GNU_SOURCE		/* POLLRDHUP */
#include "certrack/api.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "certrack/apiutil.h"
#include "certrack/csvread.h"
#include "certrack/db.h"
#include "certrack/importmap.h"
#include "certrack/importprogress.h"
#include "certrack/importreport.h"
#include "certrack/log.h"
#include "certrack/metrics.h"
#include "certrack/strbuf.h"
#include "certrack/strnum.h"

#define COPY_FLUSH (64 * 1024)

static long long max_import_bytes = 1024LL * 1024 * 1024;

void
api_import_init(long long max_bytes)
{
	max_import_bytes = max_bytes;
}

struct import {
	struct request *req;
	enum import_kind kind;
	bool dry_run, partial;
	char delim;
	char filename[256];

	PGconn *conn;
	bool in_copy;
	struct csvread *csv;
	struct importmap map;
	bool have_header;
	char *ignored_json;		/* ["Notes", ...] or NULL */

	long long bytes;
	long rows;
	struct strbuf copy;
	char id[24];
	char uid[24];			/* who imports, as a parameter */
	struct importprogress progress;	/* seen by others while it runs */

	/* A problem with the file as a whole: nothing more is read. */
	bool fatal;
	long fatal_line;
	char fatal_column[64];
	char fatal_message[300];
};

/*
 * The import's statements, run on its own connection through the db
 * layer (which maps every failure to a cterr).  Not prepared there: each
 * runs once per import.
 */
static const struct db_stmt q_begin = { "import_begin", "BEGIN", 0 };
static const struct db_stmt q_commit = { "import_commit", "COMMIT", 0 };
static const struct db_stmt q_new = { "import_new", "INSERT INTO imports "
    "(kind, user_id, filename, dry_run, partial) VALUES ($1, $2, $3, $4, "
    "$5) RETURNING id", 5 };
static const struct db_stmt q_context = { "import_context",
	"SELECT write_context($1, $2, $3, $4)", 4 };
static const struct db_stmt q_ignored = { "import_ignored", "UPDATE imports "
    "SET ignored_columns = $2::jsonb WHERE id = $1", 2 };

static void
set_fatal(struct import *im, long line, const char *column, const char *msg)
{
	if (im->fatal)
		return;
	im->fatal = true;
	im->fatal_line = line > 0 ? line : 1;
	snprintf(im->fatal_column, sizeof(im->fatal_column), "%s",
	    column ? column : "");
	snprintf(im->fatal_message, sizeof(im->fatal_message), "%s", msg);
}

/* COPY text format: backslash, tab, newline and CR escaped; \N is NULL. */
static void
copy_value(struct strbuf *sb, const char *v)
{
	if (v == NULL) {
		strbuf_addstr(sb, "\\N");
		return;
	}
	for (; *v != '\0'; v++) {
		switch (*v) {
		case '\\': strbuf_add(sb, "\\\\", 2); break;
		case '\t': strbuf_add(sb, "\\t", 2); break;
		case '\n': strbuf_add(sb, "\\n", 2); break;
		case '\r': strbuf_add(sb, "\\r", 2); break;
		default: strbuf_add(sb, v, 1); break;
		}
	}
}

/*
 * Sends the rows gathered so far once there are enough of them (or, with
 * FORCE, whatever there is).  A buffer that lost an append is never sent
 * (db_copy_put() refuses it): the import stops reading and fails.
 */
static int
flush_copy(struct import *im, bool force, struct cterr *err)
{
	if (!strbuf_failed(&im->copy) && (im->copy.len == 0 ||
	    (!force && im->copy.len < COPY_FLUSH)))
		return 0;
	if (db_copy_put(im->conn, &im->copy, err) != 0) {
		set_fatal(im, 0, NULL, strbuf_failed(&im->copy) ?
		    "the server ran out of memory during the import" :
		    "the database went away during the import");
		return -1;
	}
	strbuf_reset(&im->copy);
	return 0;
}

static int
on_row(void *arg, long line, int n, char *const *fields, int bad_utf8)
{
	struct import *im = arg;
	struct import_row row;
	char msg[300], linebuf[24];
	struct cterr err = { 0 };
	int ncols;

	if (!im->have_header) {
		if (bad_utf8 > 0) {
			set_fatal(im, line, NULL, "the header line is not valid "
			    "UTF-8 (save the file as UTF-8)");
			return -1;
		}
		if (importmap_header(&im->map, im->kind, n, fields, msg,
		    sizeof(msg)) != 0) {
			set_fatal(im, line, NULL, msg);
			return -1;
		}
		im->have_header = true;
		json_t *ign = json_array();
		for (int f = 0; f < n; f++)
			if (im->map.col_of_field[f] < 0)
				json_array_append_new(ign, json_string(fields[f]));
		if (json_array_size(ign) > 0)
			im->ignored_json = json_dumps(ign, JSON_COMPACT);
		json_decref(ign);
		return 0;
	}
	im->rows++;
	importmap_columns(im->kind, &ncols);
	importmap_row(&im->map, n, fields, bad_utf8, &row);
	snprintf(linebuf, sizeof(linebuf), "%ld", line);
	strbuf_addstr(&im->copy, linebuf);
	/* A row that is not UTF-8 is kept out of the database whole: only
	 * its line and the problem go in. */
	for (int c = 0; c < ncols; c++) {
		strbuf_add(&im->copy, "\t", 1);
		copy_value(&im->copy, bad_utf8 > 0 || (row.message[0] &&
		    row.bad_col == c) ? NULL : row.value[c]);
	}
	/* the problem found in C, if any: column, value, message */
	strbuf_add(&im->copy, "\t", 1);
	copy_value(&im->copy, row.message[0] && row.bad_field[0] ?
	    row.bad_field : NULL);
	strbuf_add(&im->copy, "\t", 1);
	copy_value(&im->copy, row.message[0] && bad_utf8 == 0 &&
	    row.bad_col >= 0 && im->map.field_of[row.bad_col] >= 0 &&
	    im->map.field_of[row.bad_col] < n ?
	    fields[im->map.field_of[row.bad_col]] : NULL);
	strbuf_add(&im->copy, "\t", 1);
	copy_value(&im->copy, row.message[0] ? row.message : NULL);
	strbuf_add(&im->copy, "\n", 1);
	/* Appends above are not checked one by one: a lost one is sticky
	 * and flush_copy() refuses the buffer. */
	return flush_copy(im, false, &err);
}

static const char *const copy_roster =
	"COPY import_rows (line, given_name, family_name, email, npi,"
	" profession, license_state, license_number, level, course_start,"
	" course_end, location, instructor, completed, directory_listed,"
	" practice_city, practice_state, practice_zip, public_contact,"
	" err_column, err_value, err_message) FROM STDIN";

static const char *const copy_results =
	"COPY import_rows (line, npi, email, level, kind, score, max_score,"
	" taken_on, err_column, err_value, err_message) FROM STDIN";

/* ---- kind ce: continuing-education activities ------------------------- */

static const char *const copy_ce =
	"COPY import_rows (line, clinician_id, npi, email, title, provider,"
	" completed_on, hours, category, evidence, err_column, err_value,"
	" err_message) FROM STDIN";
static const struct db_stmt q_ce_staging = { "import_ce_staging",
    "SELECT import_ce_staging_create()", 0 };
static const struct db_stmt q_ce_check = { "import_ce_check",
    "SELECT import_ce_check()", 0 };
static const struct db_stmt q_ce_merge = { "import_ce_merge",
    "SELECT import_ce_merge($1)", 1 };

/* The kind named by the query's TEXT, or -1. */
static int
kind_of(const char *text, enum import_kind *kind)
{
	if (text == NULL)
		return -1;
	if (strcmp(text, "roster") == 0)
		*kind = IMPORT_ROSTER;
	else if (strcmp(text, "results") == 0)
		*kind = IMPORT_RESULTS;
	else if (strcmp(text, "ce") == 0)
		*kind = IMPORT_CE;
	else
		return -1;
	return 0;
}

/* The staging table of KIND, and the COPY that fills it. */
static int
staging_begin(PGconn *conn, enum import_kind kind, const char *text,
    struct cterr *err)
{
	static const struct db_stmt q_staging = { "import_staging",
	    "SELECT import_staging_create($1)", 1 };

	if (kind == IMPORT_CE)
		return db_run(conn, &q_ce_staging, NULL, err) != 0 ||
		    db_copy_in(conn, copy_ce, err) != 0 ? -1 : 0;
	return db_run(conn, &q_staging, &text, err) != 0 ||
	    db_copy_in(conn, kind == IMPORT_ROSTER ? copy_roster :
	    copy_results, err) != 0 ? -1 : 0;
}

static void
import_free(struct import *im)
{
	if (im == NULL)
		return;
	if (im->conn != NULL) {
		if (im->in_copy)
			PQputCopyEnd(im->conn, "import abandoned");
		/* Closing without COMMIT rolls everything back. */
		PQfinish(im->conn);
	}
	csvread_free(im->csv);
	strbuf_release(&im->copy);
	free(im->ignored_json);
	free(im);
}

static int
query_bool(struct request *req, const char *name, bool *out)
{
	const char *v = http_query(req, name);

	*out = false;
	if (v == NULL || strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
		return 0;
	if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0 || *v == '\0') {
		*out = true;
		return 0;
	}
	return cterr_set(&req->err, 400, "invalid_parameter", name,
	    "the parameter '%s' must be true or false, not '%s'", name, v);
}

static int
import_begin(struct request *req)
{
	struct import *im;
	const char *kind = http_query(req, "kind"), *d, *fn;
	const char *params[5];
	PGresult *res;

	enum import_kind k;

	if (kind_of(kind, &k) != 0)
		return cterr_set(&req->err, 400, "invalid_parameter", "kind",
		    "say what the file holds: kind=roster, kind=results or "
		    "kind=ce");
	if (strcmp(kind, "roster") == 0 && req->who.role != ROLE_ADMIN)
		return cterr_set(&req->err, 403, "forbidden", NULL,
		    "only admins import rosters");
	im = calloc(1, sizeof(*im));
	if (im == NULL)
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	req->stream_state = im;
	im->req = req;
	im->kind = k;
	strbuf_init(&im->copy);
	if (query_bool(req, "dry_run", &im->dry_run) != 0 ||
	    query_bool(req, "partial", &im->partial) != 0)
		return -1;
	d = http_query(req, "delimiter");
	if (d == NULL || strcmp(d, "auto") == 0)
		im->delim = 0;
	else if (strcmp(d, ",") == 0 || strcmp(d, "comma") == 0)
		im->delim = ',';
	else if (strcmp(d, ";") == 0 || strcmp(d, "semicolon") == 0)
		im->delim = ';';
	else if (strcmp(d, "\t") == 0 || strcmp(d, "tab") == 0)
		im->delim = '\t';
	else
		return cterr_set(&req->err, 400, "invalid_parameter",
		    "delimiter", "the delimiter must be comma, semicolon, tab "
		    "or auto, not '%s'", d);
	/* the file's name as the report shows it: longer than the column
	 * holds is refused, not cut (a cut could split a character) */
	fn = http_query(req, "filename");
	if (fn != NULL && strlen(fn) >= sizeof(im->filename))
		return cterr_set(&req->err, 422, "too_long", "filename",
		    "the filename may have at most %zu bytes",
		    sizeof(im->filename) - 1);
	snprintf(im->filename, sizeof(im->filename), "%s", fn ? fn : "");
	if (http_query(req, "key") != NULL && importprogress_key_check(
	    http_query(req, "key"), &req->err) != 0)
		return -1;

	im->csv = csvread_new(im->delim, on_row, im);
	if (im->csv == NULL)
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	im->conn = db_open(&req->err);
	if (im->conn == NULL)
		return -1;
	if (db_run(im->conn, &q_begin, NULL, &req->err) != 0)
		return -1;
	snprintf(im->uid, sizeof(im->uid), "%lld", req->who.user_id);
	params[0] = kind;
	params[1] = im->uid;
	params[2] = im->filename[0] ? im->filename : NULL;
	params[3] = im->dry_run ? "true" : "false";
	params[4] = im->partial ? "true" : "false";
	res = db_exec(im->conn, &q_new, params, &req->err);
	if (res == NULL)
		return -1;
	snprintf(im->id, sizeof(im->id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (importprogress_start(&im->progress, im->id, http_query(req, "key"),
	    im->uid, kind, params[2], im->dry_run, im->partial,
	    PQbackendPID(im->conn), &req->err) != 0)
		return -1;
	/* Every row the import writes is audited as its user's, with this
	 * request's and this import's ids (sql/0007_writes.sql). */
	params[0] = im->uid;
	params[1] = req->who.username;
	params[2] = req->id;
	params[3] = im->id;
	if (db_run(im->conn, &q_context, params, &req->err) != 0)
		return -1;
	if (staging_begin(im->conn, im->kind, kind, &req->err) != 0)
		return -1;
	im->in_copy = true;
	log_info("import %s: %s%s%s started", im->id, kind,
	    im->dry_run ? " (dry run)" : "", im->partial ? " (partial)" : "");
	return 0;
}

static int
import_chunk(struct request *req, const char *data, size_t len)
{
	struct import *im = req->stream_state;

	if (im->fatal)
		return 0;	/* the rest of the body is read and dropped */
	im->bytes += (long long)len;
	if (im->bytes > max_import_bytes) {
		char msg[160];
		snprintf(msg, sizeof(msg), "the file is larger than the limit "
		    "of %lld bytes (import_max_bytes)", max_import_bytes);
		set_fatal(im, 0, NULL, msg);
		return 0;
	}
	if (csvread_feed(im->csv, data, len) != 0 && !im->fatal)
		set_fatal(im, csvread_error_line(im->csv), NULL,
		    csvread_error(im->csv));
	importprogress_rows(&im->progress, im->rows);
	return 0;
}

static int
count_outcomes(struct import *im, long *failed, long *created, long *updated,
    long *unchanged, struct cterr *err)
{
	static const struct db_stmt q = { "import_outcomes", "SELECT"
	    " count(*) FILTER (WHERE err_message IS NOT NULL),"
	    " count(*) FILTER (WHERE err_message IS NULL AND outcome = 'created'),"
	    " count(*) FILTER (WHERE err_message IS NULL AND outcome = 'updated'),"
	    " count(*) FILTER (WHERE err_message IS NULL"
	    "  AND outcome = 'unchanged')"
	    " FROM import_rows", 0 };
	long *out[4] = { failed, created, updated, unchanged };
	PGresult *res = db_exec(im->conn, &q, NULL, err);

	if (res == NULL)
		return -1;
	for (int i = 0; i < 4; i++) {
		long long n = 0;
		strnum_ll(PQgetvalue(res, 0, i), 0, INT64_MAX, &n, NULL);
		*out[i] = (long)n;
	}
	PQclear(res);
	return 0;
}

/* The count STMT answers, or -1 with ERR. */
static long
count_of(struct import *im, const struct db_stmt *stmt, struct cterr *err)
{
	PGresult *res = db_exec(im->conn, stmt, NULL, err);
	long long n = -1;

	if (res == NULL)
		return -1;
	strnum_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, &n, NULL);
	PQclear(res);
	return (long)n;
}

/* The statements of run_import(); $1 of the results merge is the grader's
 * id, $1 of import_errors' the import's. */
static const struct db_stmt q_roster_check = { "import_roster_check",
    "SELECT import_roster_check()", 0 };
static const struct db_stmt q_results_check = { "import_results_check",
    "SELECT import_results_check()", 0 };
static const struct db_stmt q_failed = { "import_failed", "SELECT count(*) "
    "FROM import_rows WHERE err_message IS NOT NULL", 0 };
static const struct db_stmt q_savepoint = { "import_savepoint",
    "SAVEPOINT merge", 0 };
static const struct db_stmt q_rollback_merge = { "import_rollback_merge",
    "ROLLBACK TO SAVEPOINT merge", 0 };
static const struct db_stmt q_roster_merge = { "import_roster_merge",
    "SELECT import_roster_merge()", 0 };
static const struct db_stmt q_results_merge = { "import_results_merge",
    "SELECT import_results_merge($1)", 1 };
static const struct db_stmt q_errors = { "import_errors", "INSERT INTO "
    "import_errors (import_id, line, column_name, value, message) SELECT $1, "
    "line, err_column, err_value, err_message FROM import_rows WHERE "
    "err_message IS NOT NULL ORDER BY line", 1 };
static const struct db_stmt q_fatal = { "import_fatal", "INSERT INTO "
    "import_errors (import_id, line, column_name, message) VALUES ($1, $2, "
    "$3, $4)", 4 };
static const struct db_stmt q_finished = { "import_finished",
    "UPDATE imports SET finished_at = clock_timestamp(),"
    " status = $7, rows_total = $2, rows_failed = $3,"
    " rows_created = $4, rows_updated = $5, rows_unchanged = $6"
    " WHERE id = $1", 7 };

/*
 * The rows' problems, as import_errors rows.  Normally straight from the
 * staging table; when the merge is about to be rolled back (a dry run, or
 * a refusal in all-or-nothing mode) the problems it found would be rolled
 * back with it, so they are spooled to an anonymous temporary file first
 * and copied back after: memory stays flat whatever their number.
 */
static const char *const errors_out =
	"COPY (SELECT line, err_column, err_value, err_message FROM import_rows"
	" WHERE err_message IS NOT NULL ORDER BY line) TO STDOUT";

struct spool {
	FILE *fp;
	const char *id;
};

/* One row of the report into the spool, the import's id in front. */
static void
spool_row(void *arg, const char *row, size_t len)
{
	struct spool *sp = arg;

	fprintf(sp->fp, "%s\t", sp->id);
	fwrite(row, 1, len, sp->fp);
}

static FILE *
spool_errors(struct import *im, struct cterr *err)
{
	FILE *fp = tmpfile();
	struct spool sp = { fp, im->id };

	if (fp == NULL) {
		cterr_set(err, 500, "internal", NULL, "cannot make a temporary "
		    "file for the import's report");
		return NULL;
	}
	if (db_copy_out(im->conn, errors_out, spool_row, &sp, err) != 0) {
		fclose(fp);
		return NULL;
	}
	if (ferror(fp) || fflush(fp) != 0) {
		fclose(fp);
		cterr_set(err, 500, "internal", NULL, "cannot write the "
		    "import's report (disk full?)");
		return NULL;
	}
	rewind(fp);
	return fp;
}

static int
unspool_errors(struct import *im, FILE *fp, struct cterr *err)
{
	struct strbuf chunk;
	char buf[COPY_FLUSH];
	size_t n;
	int rc;

	if (db_copy_in(im->conn, "COPY import_errors (import_id, line, "
	    "column_name, value, message) FROM STDIN", err) != 0)
		return -1;
	strbuf_init(&chunk);
	rc = 0;
	while (rc == 0 && (n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		strbuf_reset(&chunk);
		strbuf_add(&chunk, buf, n);
		rc = db_copy_put(im->conn, &chunk, err);
	}
	strbuf_release(&chunk);
	if (rc != 0)
		return -1;
	return db_copy_end(im->conn, ferror(fp) ? "cannot read the spool" :
	    NULL, err);
}

/*
 * db_run() for the long statements (checks, merge), watching the upload's
 * connection meanwhile: when the client hangs up (its socket reports
 * POLLRDHUP, POLLHUP or POLLERR), the statement is cancelled and -1
 * returned with ERR 400 "client_gone"; the caller's error path closes the
 * connection, which rolls the import back.
 */
static int
run_watched(struct import *im, const struct db_stmt *stmt,
    const char *const *params, struct cterr *err)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
	    im->req->mhd, MHD_CONNECTION_INFO_CONNECTION_FD);
	PGconn *conn = im->conn;
	PGresult *res, *last = NULL;
	bool gone = false;

	if (!PQsendQueryParams(conn, stmt->sql, stmt->nparams, NULL, params,
	    NULL, NULL, 0))
		return db_fail(conn, NULL, err);
	while (PQisBusy(conn)) {
		struct pollfd p[2] = {
			{ .fd = PQsocket(conn), .events = POLLIN },
			{ .fd = ci != NULL ? ci->connect_fd : -1,
			  .events = POLLRDHUP },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			PGcancel *c = PQgetCancel(conn);
			char why[256];
			gone = true;
			if (c == NULL || !PQcancel(c, why, sizeof(why)))
				log_warn("import %s: cannot cancel the "
				    "statement: %s", im->id, c ? why : "no "
				    "cancel handle");
			PQfreeCancel(c);
			break;
		}
		if (p[0].revents != 0 && !PQconsumeInput(conn))
			break;
	}
	/* Every result of the statement is read, the last one kept. */
	while ((res = PQgetResult(conn)) != NULL) {
		PQclear(last);
		last = res;
	}
	if (gone) {
		PQclear(last);
		log_info("import %s: the client hung up during %s; the "
		    "statement was cancelled, nothing is written", im->id,
		    stmt->name);
		return cterr_set(err, 400, "client_gone", NULL, "the client "
		    "closed the connection during the import; nothing was "
		    "written");
	}
	if (last == NULL || (PQresultStatus(last) != PGRES_COMMAND_OK &&
	    PQresultStatus(last) != PGRES_TUPLES_OK))
		return db_fail(conn, last, err);
	PQclear(last);
	return 0;
}

/* Checks, merge (unless refused), report rows; all in the transaction. */
static int
run_import(struct import *im, struct cterr *err)
{
	long failed, created = 0, updated = 0, unchanged = 0;
	bool merge, refused;
	FILE *spool = NULL;
	int rc = -1;

	/* The checks and the merge are SQL functions (sql/0006), the same
	 * ones a hand-written psql path would call. */
	if (!im->fatal && run_watched(im, im->kind == IMPORT_CE ? &q_ce_check :
	    im->kind == IMPORT_ROSTER ? &q_roster_check : &q_results_check,
	    NULL, err) != 0)
		return -1;
	failed = count_of(im, &q_failed, err);
	if (failed < 0)
		return -1;
	if (!im->fatal)
		importprogress_phase(&im->progress, "merging", -1, im->rows,
		    failed, -1);
	/* The good rows are always merged, so the rules that need earlier
	 * writes (attempts, retake waits) are asked of every row and a
	 * refusal lists every problem in one round.  All-or-nothing: one bad
	 * row (or a bad file) and the merge is rolled back.  A dry run
	 * merges and then rolls back, so its report is the real one. */
	merge = !im->fatal;
	if (merge) {
		if (db_run(im->conn, &q_savepoint, NULL, err) != 0)
			return -1;
		if (im->kind == IMPORT_ROSTER ?
		    run_watched(im, &q_roster_merge, NULL, err) != 0 :
		    run_watched(im, im->kind == IMPORT_CE ? &q_ce_merge :
		    &q_results_merge, (const char *const[]){ im->uid },
		    err) != 0)
			return -1;
		/* Rows refused by a rule during the merge fail too.  One
		 * scan of the staging table counts everything. */
		if (count_outcomes(im, &failed, &created, &updated, &unchanged,
		    err) != 0)
			return -1;
		importprogress_phase(&im->progress, "merging", -1, -1, failed,
		    created + updated + unchanged);
	}
	refused = im->fatal || (failed > 0 && !im->partial);
	if (merge && (im->dry_run || refused)) {
		if ((spool = spool_errors(im, err)) == NULL ||
		    db_run(im->conn, &q_rollback_merge, NULL, err) != 0 ||
		    unspool_errors(im, spool, err) != 0)
			goto out;
	} else if (failed > 0 && db_run(im->conn, &q_errors,
	    (const char *const[]){ im->id }, err) != 0) {
		goto out;
	}
	if (im->fatal) {
		const char *params[4];
		char line[24];
		snprintf(line, sizeof(line), "%ld", im->fatal_line);
		params[0] = im->id;
		params[1] = line;
		params[2] = im->fatal_column[0] ? im->fatal_column : NULL;
		params[3] = im->fatal_message;
		if (db_run(im->conn, &q_fatal, params, err) != 0)
			goto out;
	}
	/* A refused import wrote nothing, and says so. */
	if (refused)
		created = updated = unchanged = 0;
	if (!im->dry_run) {
		metrics_import_rows("created", created);
		metrics_import_rows("updated", updated);
		metrics_import_rows("unchanged", unchanged);
		metrics_import_rows("failed", failed);
	}
	{
		char v[6][24];
		const char *params[7];
		snprintf(v[0], 24, "%ld", im->rows);
		snprintf(v[1], 24, "%ld", failed + (im->fatal ? 1 : 0));
		snprintf(v[2], 24, "%ld", created);
		snprintf(v[3], 24, "%ld", updated);
		snprintf(v[4], 24, "%ld", unchanged);
		params[0] = im->id;
		for (int i = 0; i < 5; i++)
			params[i + 1] = v[i];
		params[6] = refused ? "failed" : "succeeded";
		if (db_run(im->conn, &q_finished, params, err) != 0)
			goto out;
	}
	rc = 0;
out:
	if (spool != NULL)
		fclose(spool);
	return rc;
}

/* The report of import $1: its errors on lines after $4, a page of at
 * most $2 (import_errors_page()), and the certificates it issued after
 * the one of id $5, the first $3 (import_certificates()); each list with
 * where its next page starts, or null. */
static const char *const report_sql =
	"SELECT json_build_object('id', i.id, 'kind', i.kind,"
	" 'status', i.status, 'dry_run', i.dry_run, 'partial', i.partial,"
	" 'filename', i.filename, 'started_at', i.started_at,"
	" 'finished_at', i.finished_at, 'user', u.username,"
	" 'counts', json_build_object('rows', i.rows_total,"
	"  'created', i.rows_created, 'updated', i.rows_updated,"
	"  'unchanged', i.rows_unchanged, 'failed', i.rows_failed),"
	" 'ignored_columns', coalesce(i.ignored_columns, '[]'),"
	" 'errors', ep.list,"
	" 'errors_total', (SELECT count(*) FROM import_errors"
	"  WHERE import_id = i.id),"
	" 'errors_next_after', ep.next_after,"
	" 'certificates_issued', ic.list, 'certificates_issued_total', ic.total,"
	" 'certificates_next_after', ic.next_after"
	" )::text FROM imports i LEFT JOIN users u ON u.id = i.user_id"
	" CROSS JOIN LATERAL import_errors_page(i.id, $2, $4) ep"
	" CROSS JOIN LATERAL import_certificates(i.id, $3, $5) ic"
	" WHERE i.id = $1";
static const struct db_stmt q_report = { "imports_get", report_sql, 5 };

static int
import_finish(struct request *req)
{
	struct import *im = req->stream_state;
	struct cterr *err = &req->err;
	const char *params[5];
	PGresult *res;
	int rc, status;

	if (!im->fatal && csvread_finish(im->csv) != 0 && !im->fatal)
		set_fatal(im, csvread_error_line(im->csv), NULL,
		    csvread_error(im->csv));
	/* A header and no row is as empty as no header: nothing to import. */
	if (!im->fatal && (!im->have_header || im->rows == 0))
		set_fatal(im, 1, NULL, "the file is empty (it needs a header "
		    "line and at least one row)");
	if (flush_copy(im, true, err) != 0 ||
	    db_copy_end(im->conn, NULL, err) != 0) {
		/* Closing the connection rolls everything back. */
		if (strbuf_failed(&im->copy))
			return cterr_set(err, 500, "internal", NULL, "the server "
			    "ran out of memory during the import; nothing was "
			    "written");
		if (strcmp(err->code, "database_unavailable") == 0)
			return cterr_set(err, 503, "database_unavailable", NULL,
			    "the database went away during the import; nothing "
			    "was written");
		return -1;
	}
	im->in_copy = false;
	if (im->ignored_json != NULL) {
		params[0] = im->id;
		params[1] = im->ignored_json;
		if (db_run(im->conn, &q_ignored, params, err) != 0)
			return -1;
	}
	importprogress_phase(&im->progress, "checking", im->rows, -1, -1, -1);
	if (run_import(im, err) != 0)
		return -1;
	/* The answer to the upload holds the first 1000 of each; the rest
	 * are a GET away. */
	params[0] = im->id;
	params[1] = "1000";
	params[2] = "1000";
	params[3] = "0";
	params[4] = "0";
	res = db_exec(im->conn, &q_report, params, err);
	if (res == NULL)
		return -1;
	/* The audit row: who imported what, and the counts. */
	{
		char *report = strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
		json_t *j = json_loads(report, 0, NULL);
		json_t *summary = json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}",
		    "kind", json_object_get(j, "kind"),
		    "status", json_object_get(j, "status"),
		    "dry_run", json_object_get(j, "dry_run"),
		    "partial", json_object_get(j, "partial"),
		    "counts", json_object_get(j, "counts"));
		char *after = summary ? json_dumps(summary, JSON_COMPACT) : NULL;
		status = strcmp(json_string_value(json_object_get(j, "status")),
		    "succeeded") == 0 ? 201 : 422;
		json_decref(summary);
		json_decref(j);
		rc = api_audit(im->conn, req, "import.run", "import", im->id,
		    NULL, after, err);
		free(after);
		if (rc != 0 || db_run(im->conn, &q_commit, NULL, err) != 0) {
			free(report);
			return -1;
		}
		importprogress_end(&im->progress, true, NULL);
		log_info("import %s: %ld rows, %s", im->id, im->rows,
		    status == 201 ? "succeeded" : "failed");
		char location[48];
		snprintf(location, sizeof(location), "/v1/imports/%s", im->id);
		http_add_header(req, "Location", location);
		rc = api_reply_db_json(req, status, report);
		free(report);
	}
	return rc;
}

static void
import_abort(struct request *req)
{
	struct import *im = req->stream_state;

	if (im != NULL && im->conn != NULL && PQstatus(im->conn) ==
	    CONNECTION_OK && PQtransactionStatus(im->conn) != PQTRANS_IDLE)
		log_info("import %s abandoned; nothing of it was written",
		    im->id[0] ? im->id : "(not started)");
	if (im != NULL)
		importprogress_end(&im->progress, false, cterr_isset(&req->err) ?
		    req->err.detail : "the connection closed before the import "
		    "finished; nothing was written");
	import_free(im);
	req->stream_state = NULL;
}

const struct route_stream api_import_stream = {
	import_begin, import_chunk, import_finish, import_abort,
};

/*
 * The newest imports: those with a report, and those without one yet
 * (running, or rolled back: import_progress_view() of
 * sql/0019_import_progress.sql); only the one named by the client's key
 * $2 when it is not NULL.
 */
int
api_imports_list(struct request *req)
{
	static const char *const sql =
	    "SELECT coalesce(json_agg(x.j ORDER BY x.id DESC), '[]')::text"
	    " FROM (SELECT id, j FROM ("
	    "  SELECT v.id, import_progress_view(v.id) AS j"
	    "  FROM import_progress_ids($2) v(id)"
	    " UNION ALL"
	    "  SELECT i.id, json_build_object('id', i.id,"
	    " 'kind', i.kind, 'status', i.status, 'dry_run', i.dry_run,"
	    " 'partial', i.partial, 'filename', i.filename,"
	    " 'user', u.username, 'started_at', i.started_at,"
	    " 'finished_at', i.finished_at,"
	    " 'counts', json_build_object('rows', i.rows_total,"
	    "  'created', i.rows_created, 'updated', i.rows_updated,"
	    "  'unchanged', i.rows_unchanged, 'failed', i.rows_failed),"
	    " 'key', (SELECT import_key FROM import_progress"
	    "  WHERE import_id = i.id))"
	    " FROM (SELECT * FROM imports WHERE $2::text IS NULL OR id IN"
	    "  (SELECT import_id FROM import_progress WHERE import_key = $2)"
	    "  ORDER BY id DESC LIMIT $1) i"
	    " LEFT JOIN users u ON u.id = i.user_id"
	    " ) y WHERE j IS NOT NULL ORDER BY id DESC LIMIT $1) x";
	static const struct db_stmt q = { "imports_list", sql, 2 };
	char limit_s[24];
	const char *key = http_query(req, "key");
	const char *params[2] = { limit_s, key };
	long long limit;

	if (api_query_int(req, "limit", 1, 1000, 50, &limit, &req->err) != 0 ||
	    (key != NULL && importprogress_key_check(key, &req->err) != 0))
		return -1;
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);
	return api_reply_query(req, &q, params, "not_found", "");
}

/*
 * The report of import PARAMS[0] (the pages q_report's other PARAMS
 * say), or, while it has none (running, or rolled back), its progress;
 * 404 with MISSING when neither is there.
 */
static int
imports_reply(struct request *req, const char *const *params,
    const char *missing)
{
	static const struct db_stmt q_progress = { "imports_progress",
	    "SELECT import_progress_view($1)::text", 1 };
	const struct db_stmt *order[3] = { &q_report, &q_progress, &q_report };
	PGconn *conn = db_conn(&req->err);
	PGresult *res;
	int rc;

	if (conn == NULL)
		return -1;
	/* The report again last: the import may commit between the two. */
	for (int i = 0; i < 3; i++) {
		if ((res = db_exec(conn, order[i], params, &req->err)) == NULL)
			return -1;
		if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
			rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
			PQclear(res);
			return rc;
		}
		PQclear(res);
	}
	return cterr_set(&req->err, 404, "not_found", NULL, "%s", missing);
}

/*
 * ?errors and ?certificates: a page each, of at most IMPORT_REPORT_PAGE
 * (the daemon's memory: importreport.h); ?errors_after=LINE and
 * ?certificates_after=ID: where the page starts, as the last page's
 * errors_next_after and certificates_next_after said.
 */
int
api_imports_get(struct request *req)
{
	char v[5][24];
	const char *params[5] = { v[0], v[1], v[2], v[3], v[4] };
	long long n, limit, certs, errors_after, certs_after;

	if (api_path_id(req, "id", "import", &n, v[0]) != 0 ||
	    api_query_int(req, "errors", 0, IMPORT_REPORT_PAGE, 1000, &limit,
	    &req->err) != 0 ||
	    api_query_int(req, "certificates", 0, IMPORT_REPORT_PAGE, 1000,
	    &certs, &req->err) != 0 ||
	    api_query_int(req, "errors_after", 0, INT32_MAX, 0, &errors_after,
	    &req->err) != 0 ||
	    api_query_int(req, "certificates_after", 0, INT64_MAX, 0,
	    &certs_after, &req->err) != 0)
		return -1;
	char missing[64];
	snprintf(v[1], sizeof(v[1]), "%lld", limit);
	snprintf(v[2], sizeof(v[2]), "%lld", certs);
	snprintf(v[3], sizeof(v[3]), "%lld", errors_after);
	snprintf(v[4], sizeof(v[4]), "%lld", certs_after);
	snprintf(missing, sizeof(missing), "there is no import %s", v[0]);
	return imports_reply(req, params, missing);
}
