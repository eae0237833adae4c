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
	return api_reply_by_id(req, "clinician", &q_status);
}
