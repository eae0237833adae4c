/*
 * GET /v1/clinicians/{id}/status: a clinician's whole picture, built by
 * one call of the SQL clinician_status() (sql/0004_status.sql) and sent as
 * it is.  "Today" is the database's current_date, so every expiry in the
 * answer is judged by one clock.
 */
#include "certrack/api.h"

#include <stdint.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"

static const struct db_stmt q_status = {
	"status_get",
	"SELECT clinician_status($1, current_date)::text",
	1,
};

int
api_status(struct request *req)
{
	char idbuf[24];
	const char *params[1] = { idbuf };
	long long id;
	PGconn *conn;
	PGresult *res;
	int rc;

	if (api_path_id(req, "id", "clinician", &id, idbuf) != 0)
		return -1;
	/* A clinician account sees its own record only; others' are 404. */
	if (api_may_see_clinician(req, id) != 0)
		return -1;
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	res = db_exec(conn, &q_status, params, &req->err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return cterr_set(&req->err, 404, "not_found", NULL,
		    "there is no clinician %lld", id);
	}
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
