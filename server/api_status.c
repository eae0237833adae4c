/*
 * GET /v1/clinicians/{id}/status: a clinician's whole picture, built by
 * one call of the SQL clinician_status_full() (clinician_status() of
 * sql/0004_status.sql with each certificate's renewal progress,
 * sql/0016_renewal_status.sql) and sent as it is.  "Today" is the database's current_date, so every expiry in the
 * answer is judged by one clock.  Answers are cached (cache.c), kept true
 * by the database's notifications; who may see a record is decided before
 * the cache is asked.
 */
#include "certrack/api.h"

#include <stdio.h>
#include <stdlib.h>

#include "certrack/apiutil.h"
#include "certrack/cache.h"
#include "certrack/db.h"

static const struct db_stmt q_status = {
	"status_get",
	"SELECT clinician_status_full($1, current_date)::text",
	1,
};

int
api_status(struct request *req)
{
	char id[24];
	const char *params[1] = { id };
	long long n;
	unsigned long epoch;
	char *hit;
	PGconn *conn;
	PGresult *res;
	int rc;

	if (api_path_id(req, "id", "clinician", &n, id) != 0 ||
	    api_may_see_clinician(req, n) != 0)
		return -1;
	if ((hit = cache_get(CACHE_STATUS, id, req->start)) != NULL) {
		rc = api_reply_db_json(req, 200, hit);
		free(hit);
		return rc;
	}
	epoch = cache_epoch();
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_status, params, &req->err)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return cterr_set(&req->err, 404, "not_found", NULL,
		    "there is no clinician %s", id);
	}
	cache_put(CACHE_STATUS, id, n, PQgetvalue(res, 0, 0), epoch);
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}
