/* /healthz (process up) and /readyz (database reachable, schema current). */
#include "certrack/api.h"

#include <string.h>

#include "certrack/db.h"
#include "certrack/http.h"

static const struct migration_set *schema;

void
api_health_init(const struct migration_set *set)
{
	schema = set;
}

int
api_healthz(struct request *req)
{
	return http_reply_json(req, 200, json_pack("{s:s}", "status", "ok"));
}

/*
 * The applied migrations through db_exec(), which reopens a connection
 * the database dropped while idle: a restarted database costs no 503.
 */
static const struct db_stmt q_applied = {
	"readyz_applied", MIGRATE_APPLIED_SQL, 0,
};

int
api_readyz(struct request *req)
{
	struct migrate_status st;
	PGconn *conn = db_conn(&req->err);
	PGresult *res;

	if (conn == NULL)
		return -1;
	res = db_exec(conn, &q_applied, NULL, &req->err);
	if (res == NULL && strcmp(req->err.sqlstate, "42P01") != 0)
		return cterr_set(&req->err, 503, "database_unavailable", NULL,
		    "the database is not reachable; try again shortly");
	/* 42P01: no schema_migrations at all, judged as nothing applied */
	migrate_judge(schema, res, &st);
	PQclear(res);
	if (st.state != MIGRATE_CURRENT)
		return cterr_set(&req->err, 503, "schema_not_current", NULL,
		    "%s", st.detail);
	return http_reply_json(req, 200, json_pack("{s:s, s:i}",
	    "status", "ready", "schema_version", st.db_version));
}
