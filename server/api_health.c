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
 * The applied migrations, read on the probe connection (db_probe()):
 * apart from the pool, so requests waiting on locks do not make the
 * daemon look dead, and within db_readyz_timeout_ms, so a database that
 * does not answer (frozen, a dead host) is a 503 in time, not a hang.
 */
int
api_readyz(struct request *req)
{
	struct migrate_status st;
	PGresult *res = db_probe(MIGRATE_APPLIED_SQL, &req->err);

	if (res == NULL && req->err.status == 503)
		return -1;
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
