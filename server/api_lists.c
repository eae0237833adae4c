/*
 * Staff lists (issue 13, item 4): certificates, enrollments, and a course
 * session with its roster, each as a JSON page ({"total", "limit",
 * "offset", "items"}) or as CSV (`?format=csv` or `Accept: text/csv`).
 *
 * Which rows a list holds is one SQL function per list (sql/0012_lists.sql);
 * the JSON page and the CSV export both call it.  A CSV export holds no
 * database connection and no more than one page of rows: it is streamed,
 * each piece asking for the next 1,000 rows after the last id sent
 * (keyset), on a connection borrowed from the pool for that piece only.
 */
#include "certrack/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"
#include "certrack/strbuf.h"
#include "certrack/strnum.h"

#define MAX_FILTERS 6
#define BOOLOID 16		/* pg_type.h, which libpq does not install */
#define EXPORT_ROWS 1000		/* rows per piece of an export */
#define EXPORT_PAGE "1000"

/* A list: its row function's filters ($1..$N), then after, limit, offset. */
struct list {
	const char *name;		/* the CSV file's name */
	const struct db_stmt *page;	/* the JSON page: filters, limit, offset */
	const struct db_stmt *rows;	/* filters, after, limit */
	int nfilters;
};

#define PAGE_SQL(fn, args) \
	"SELECT json_build_object(" \
	"  'total', (SELECT count(*) FROM " fn "(" args ", NULL, NULL, 0))," \
	"  'limit', $" LIMIT_ARG "::int, 'offset', $" OFFSET_ARG "::int," \
	"  'items', coalesce((SELECT json_agg(x) FROM " fn "(" args \
	", NULL, $" LIMIT_ARG "::int, $" OFFSET_ARG "::int) x), '[]'))::text"

#define CERT_ARGS "$1, $2::int, $3::bigint, $4::date, $5::date, $6::bigint"
#define LIMIT_ARG "7"
#define OFFSET_ARG "8"
static const struct db_stmt q_cert_page = {
	"lists_certificates_page", PAGE_SQL("certificates_find", CERT_ARGS), 8,
};
static const struct db_stmt q_cert_rows = {
	"lists_certificates_rows",
	"SELECT * FROM certificates_find(" CERT_ARGS ", $7::bigint, $8::int, 0)",
	8,
};
#undef LIMIT_ARG
#undef OFFSET_ARG

#define ENR_ARGS "$1::bigint, $2::bigint, $3"
#define LIMIT_ARG "4"
#define OFFSET_ARG "5"
static const struct db_stmt q_enr_page = {
	"lists_enrollments_page", PAGE_SQL("enrollments_find", ENR_ARGS), 5,
};
static const struct db_stmt q_enr_rows = {
	"lists_enrollments_rows",
	"SELECT * FROM enrollments_find(" ENR_ARGS ", $4::bigint, $5::int, 0)",
	5,
};
#undef LIMIT_ARG
#undef OFFSET_ARG

static const struct list certificates = {
	"certificates", &q_cert_page, &q_cert_rows, 6,
};
static const struct list enrollments = {
	"enrollments", &q_enr_page, &q_enr_rows, 3,
};

/* CSV or JSON?  1 for CSV, 0 for JSON, -1 with req->err. */
static int
wants_csv(struct request *req)
{
	const char *f = http_query(req, "format"), *accept;

	if (f != NULL) {
		if (strcmp(f, "csv") == 0)
			return 1;
		if (strcmp(f, "json") == 0)
			return 0;
		return cterr_set(&req->err, 400, "invalid_parameter", "format",
		    "the format must be json or csv, not '%s'", f);
	}
	accept = http_header(req, "Accept");
	return accept != NULL && strstr(accept, "text/csv") != NULL;
}

/*
 * One CSV field: quoted when it holds a separator, a quote or a line
 * break; a text that a spreadsheet would run as a formula (=, +, -, @, tab,
 * CR first) is written after a single quote, so an export opened in one
 * runs nothing a roster put in a name.
 */
static void
csv_field(struct strbuf *sb, const char *v)
{
	bool quote = strpbrk(v, ",\"\r\n") != NULL;
	bool formula = strchr("=+-@\t\r", v[0]) != NULL && v[0] != '\0';

	if (quote)
		strbuf_add(sb, "\"", 1);
	if (formula)
		strbuf_add(sb, "'", 1);
	for (const char *p = v; *p != '\0'; p++) {
		if (*p == '"')
			strbuf_add(sb, "\"", 1);
		strbuf_add(sb, p, 1);
	}
	if (quote)
		strbuf_add(sb, "\"", 1);
}

/* Row I of RES (or, with I < 0, its column names) as a CSV line. */
static void
csv_line(struct strbuf *sb, const PGresult *res, int i)
{
	int n = PQnfields(res);

	for (int c = 0; c < n; c++) {
		if (c > 0)
			strbuf_add(sb, ",", 1);
		if (i < 0)
			csv_field(sb, PQfname(res, c));
		else if (PQgetisnull(res, i, c))
			;	/* NULL: an empty field */
		else if (PQftype(res, c) == BOOLOID)
			csv_field(sb, PQgetvalue(res, i, c)[0] == 't' ?
			    "true" : "false");
		else
			csv_field(sb, PQgetvalue(res, i, c));
	}
	strbuf_add(sb, "\r\n", 2);
}

/* A CSV export in flight. */
struct export {
	const struct list *list;
	char *filter[MAX_FILTERS];	/* copies; NULL: no filter */
	char after[24];			/* the last id sent */
	bool header_sent, done;
	struct strbuf out;		/* produced, not yet sent */
	size_t sent;
};

static void
export_free(void *cls)
{
	struct export *ex = cls;

	for (int i = 0; i < MAX_FILTERS; i++)
		free(ex->filter[i]);
	strbuf_release(&ex->out);
	free(ex);
}

/* The next page of rows into ex->out.  0, or -1. */
static int
export_fill(struct export *ex)
{
	const char *params[MAX_FILTERS + 2];
	struct cterr err;
	PGconn *conn;
	PGresult *res;
	int n, k = ex->list->nfilters;

	cterr_clear(&err);
	for (int i = 0; i < k; i++)
		params[i] = ex->filter[i];
	params[k] = ex->after;
	params[k + 1] = EXPORT_PAGE;
	conn = db_conn(&err);
	if (conn == NULL)
		return -1;
	res = db_exec(conn, ex->list->rows, params, &err);
	if (res == NULL)
		return -1;
	strbuf_reset(&ex->out);
	ex->sent = 0;
	if (!ex->header_sent) {
		csv_line(&ex->out, res, -1);
		ex->header_sent = true;
	}
	n = PQntuples(res);
	for (int i = 0; i < n; i++)
		csv_line(&ex->out, res, i);
	if (n > 0)
		snprintf(ex->after, sizeof(ex->after), "%s",
		    PQgetvalue(res, n - 1, 0));
	if (n < EXPORT_ROWS)
		ex->done = true;
	PQclear(res);
	return strbuf_failed(&ex->out) ? -1 : 0;
}

static ssize_t
export_read(void *cls, char *buf, size_t max)
{
	struct export *ex = cls;
	size_t n;

	while (ex->sent == ex->out.len) {
		if (ex->done)
			return 0;
		if (export_fill(ex) != 0)
			return -1;
	}
	n = ex->out.len - ex->sent;
	if (n > max)
		n = max;
	memcpy(buf, ex->out.buf + ex->sent, n);
	ex->sent += n;
	return (ssize_t)n;
}

static int
reply_csv_stream(struct request *req, const struct list *list,
    const char *const *filter)
{
	struct export *ex = calloc(1, sizeof(*ex));
	char disp[96];

	if (ex == NULL)
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	ex->list = list;
	strbuf_init(&ex->out);
	snprintf(ex->after, sizeof(ex->after), "0");
	for (int i = 0; i < list->nfilters; i++) {
		if (filter[i] != NULL &&
		    (ex->filter[i] = strdup(filter[i])) == NULL) {
			export_free(ex);
			return cterr_set(&req->err, 500, "internal", NULL,
			    "out of memory");
		}
	}
	/* the first page now, so a database error is still a problem */
	if (export_fill(ex) != 0) {
		export_free(ex);
		return cterr_set(&req->err, 503, "database_unavailable", NULL,
		    "the database did not answer; try again");
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"%s.csv\"",
	    list->name);
	http_add_header(req, "Content-Disposition", disp);
	return http_reply_stream(req, 200, "text/csv; charset=utf-8",
	    export_read, ex, export_free);
}

/* A list as JSON (a page) or CSV (all of it, streamed). */
static int
reply_list(struct request *req, const struct list *list,
    const char *const *filter)
{
	const char *params[MAX_FILTERS + 2];
	char lim[24], off[24];
	long long limit, offset;
	int csv = wants_csv(req), k = list->nfilters;

	if (csv < 0)
		return -1;
	if (csv)
		return reply_csv_stream(req, list, filter);
	if (api_query_int(req, "limit", 1, 1000, 100, &limit, &req->err) != 0 ||
	    api_query_int(req, "offset", 0, INT32_MAX, 0, &offset,
	    &req->err) != 0)
		return -1;
	snprintf(lim, sizeof(lim), "%lld", limit);
	snprintf(off, sizeof(off), "%lld", offset);
	for (int i = 0; i < k; i++)
		params[i] = filter[i];
	params[k] = lim;
	params[k + 1] = off;
	return api_reply_query(req, list->page, params, "not_found",
	    "nothing to list");
}

/* Query parameter NAME as a date, or NULL.  0, or -1 with req->err. */
static int
query_date(struct request *req, const char *name, const char **out)
{
	*out = http_query(req, name);
	if (*out != NULL && !api_date_valid(*out))
		return cterr_set(&req->err, 400, "invalid_parameter", name,
		    "the parameter '%s' must be a date written YYYY-MM-DD, not "
		    "'%s'", name, *out);
	return 0;
}

/* Query parameter NAME as a positive id (text in BUF), or NULL. */
static int
query_id(struct request *req, const char *name, char *buf,
    const char **out)
{
	long long v;

	*out = NULL;
	if (http_query(req, name) == NULL)
		return 0;
	if (api_query_int(req, name, 1, INT64_MAX, 1, &v, &req->err) != 0)
		return -1;
	snprintf(buf, 24, "%lld", v);
	*out = buf;
	return 0;
}

/* Query parameter NAME, which must be one of ALLOWED (NULL-terminated). */
static int
query_word(struct request *req, const char *name, const char *const *allowed,
    const char *list, const char **out)
{
	*out = http_query(req, name);
	if (*out == NULL)
		return 0;
	for (int i = 0; allowed[i] != NULL; i++)
		if (strcmp(*out, allowed[i]) == 0)
			return 0;
	return cterr_set(&req->err, 400, "invalid_parameter", name,
	    "the parameter '%s' must be %s, not '%s'", name, list, *out);
}

/* Query parameter "level" (code, title or PROGRAM/LEVEL) as an id. */
static int
query_level(struct request *req, char *buf, const char **out)
{
	const char *text = http_query(req, "level");
	PGconn *conn;

	*out = NULL;
	if (text == NULL)
		return 0;
	conn = db_conn(&req->err);
	if (conn == NULL || api_level(conn, text, "level", buf, &req->err) != 0)
		return -1;
	*out = buf;
	return 0;
}

/* ---- GET /v1/certificates ------------------------------------------- */

int
api_certificates_list(struct request *req)
{
	static const char *const statuses[] = { "valid", "expiring",
	    "expired", "revoked", NULL };
	const char *f[6];
	char within[24], level[24], clinician[24];
	long long days;

	if (query_word(req, "status", statuses, "valid, expiring, expired or "
	    "revoked", &f[0]) != 0 ||
	    api_query_int(req, "within", 0, 36600, 90, &days, &req->err) != 0 ||
	    query_level(req, level, &f[2]) != 0 ||
	    query_date(req, "issued_from", &f[3]) != 0 ||
	    query_date(req, "issued_to", &f[4]) != 0 ||
	    query_id(req, "clinician", clinician, &f[5]) != 0)
		return -1;
	if (http_query(req, "within") != NULL &&
	    (f[0] == NULL || strcmp(f[0], "expiring") != 0))
		return cterr_set(&req->err, 400, "invalid_parameter", "within",
		    "'within' goes with status=expiring");
	snprintf(within, sizeof(within), "%lld", days);
	f[1] = within;
	return reply_list(req, &certificates, f);
}

/* ---- GET /v1/enrollments -------------------------------------------- */

int
api_enrollments_list(struct request *req)
{
	static const char *const statuses[] = { "enrolled", "completed",
	    "withdrawn", NULL };
	const char *f[3];
	char session[24], level[24];

	if (query_id(req, "session", session, &f[0]) != 0 ||
	    query_level(req, level, &f[1]) != 0 ||
	    query_word(req, "status", statuses, "enrolled, completed or "
	    "withdrawn", &f[2]) != 0)
		return -1;
	return reply_list(req, &enrollments, f);
}

/* ---- GET /v1/sessions/{id} ------------------------------------------ */

static const struct db_stmt q_session = {
	"lists_session",
	"SELECT json_build_object("
	"  'id', s.id, 'level_id', s.level_id, 'level_code', l.code,"
	"  'level', l.title, 'starts_on', s.starts_on, 'ends_on', s.ends_on,"
	"  'location', s.location, 'instructor', s.instructor,"
	"  'roster', coalesce((SELECT json_agg(r) FROM session_roster(s.id) r),"
	"            '[]'))::text"
	"  FROM course_sessions s JOIN levels l ON l.id = s.level_id"
	" WHERE s.id = $1",
	1,
};

static const struct db_stmt q_session_roster = {
	"lists_session_roster",
	"SELECT r.* FROM session_roster($1::bigint) r",
	1,
};

static const struct db_stmt q_session_exists = {
	"lists_session_exists",
	"SELECT 1 FROM course_sessions WHERE id = $1",
	1,
};

/* The roster as CSV: small (one course), so sent whole. */
static int
reply_roster_csv(struct request *req, const char *id)
{
	struct strbuf sb;
	PGconn *conn = db_conn(&req->err);
	PGresult *res;
	char disp[96];
	int rc;

	if (conn == NULL)
		return -1;
	res = db_exec(conn, &q_session_exists, (const char *[]){ id },
	    &req->err);
	if (res == NULL)
		return -1;
	rc = PQntuples(res);
	PQclear(res);
	if (rc == 0)
		return cterr_set(&req->err, 404, "not_found", NULL,
		    "there is no session %s", id);
	res = db_exec(conn, &q_session_roster, (const char *[]){ id },
	    &req->err);
	if (res == NULL)
		return -1;
	strbuf_init(&sb);
	csv_line(&sb, res, -1);
	for (int i = 0; i < PQntuples(res); i++)
		csv_line(&sb, res, i);
	PQclear(res);
	if (strbuf_failed(&sb)) {
		strbuf_release(&sb);
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	}
	snprintf(disp, sizeof(disp), "attachment; filename=\"session-%s.csv\"",
	    id);
	http_add_header(req, "Content-Disposition", disp);
	rc = http_reply_text(req, 200, "text/csv; charset=utf-8", sb.buf,
	    sb.len);
	strbuf_release(&sb);
	return rc;
}

int
api_sessions_get(struct request *req)
{
	char id[24];
	long long v;
	int csv = wants_csv(req);

	if (csv < 0)
		return -1;
	if (!csv)
		return api_reply_by_id(req, "session", &q_session);
	if (api_path_id(req, "id", "session", &v, id) != 0)
		return -1;
	return reply_roster_csv(req, id);
}
