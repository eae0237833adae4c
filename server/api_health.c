/* /healthz (process up) and /readyz (database reachable, schema current). */
#include "certrack/api.h"

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

int
api_readyz(struct request *req)
{
	struct migrate_status st;
	PGconn *conn = db_conn(&req->err);

	if (conn == NULL)
		return -1;
	if (migrate_check(conn, schema, &st, &req->err) != 0 &&
	    PQstatus(conn) == CONNECTION_BAD) {
		/* The database restarted since this thread last asked: one
		 * fresh connection, one more try. */
		db_disconnect();
		cterr_clear(&req->err);
		conn = db_conn(&req->err);
		if (conn == NULL)
			return -1;
		if (migrate_check(conn, schema, &st, &req->err) == 0)
			goto checked;
	}
	if (cterr_isset(&req->err)) {
		/* The connection may have died under us; say 503 either way,
		 * and the next request reconnects. */
		return cterr_set(&req->err, 503, "database_unavailable", NULL,
		    "the database is not reachable; try again shortly");
	}
checked:
	if (st.state != MIGRATE_CURRENT)
		return cterr_set(&req->err, 503, "schema_not_current", NULL,
		    "%s", st.detail);
	return http_reply_json(req, 200, json_pack("{s:s, s:i}",
	    "status", "ready", "schema_version", st.db_version));
}
