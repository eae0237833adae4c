#include "certrack/apiutil.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "certrack/db.h"
#include "certrack/strnum.h"

int
api_path_id(struct request *req, const char *name, const char *what,
    long long *id, char *buf)
{
	const char *s = router_param(&req->params, name);

	if (s == NULL || strnum_ll(s, 1, INT64_MAX, id, NULL) != 0)
		return cterr_set(&req->err, 404, "not_found", name,
		    "there is no %s '%s'", what, s ? s : "");
	snprintf(buf, 24, "%lld", *id);
	return 0;
}

int
api_query_int(struct request *req, const char *name, long long min,
    long long max, long long def, long long *out, struct cterr *err)
{
	const char *s = http_query(req, name);

	if (s == NULL) {
		*out = def;
		return 0;
	}
	if (strnum_ll(s, min, max, out, NULL) != 0)
		return cterr_set(err, 400, "invalid_parameter", name,
		    "the parameter '%s' must be a whole number between %lld and "
		    "%lld, not '%s'", name, min, max, s);
	return 0;
}

int
api_may_see_clinician(struct request *req, long long id)
{
	if (req->who.role == ROLE_CLINICIAN && req->who.clinician_id != id)
		return cterr_set(&req->err, 404, "not_found", NULL,
		    "there is no clinician %lld", id);
	return 0;
}

int
api_reply_db_json(struct request *req, int status, const char *json)
{
	return http_reply_text(req, status, "application/json", json,
	    strlen(json));
}

int
api_reply_query(struct request *req, const struct db_stmt *stmt,
    const char *const *params, const char *code, const char *detail)
{
	PGconn *conn = db_conn(&req->err);
	PGresult *res;
	int rc;

	if (conn == NULL || (res = db_exec(conn, stmt, params,
	    &req->err)) == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
		PQclear(res);
		return cterr_set(&req->err, 404, code, NULL, "%s", detail);
	}
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int
api_reply_by_id(struct request *req, const char *what,
    const struct db_stmt *stmt)
{
	char id[24], missing[96];
	const char *params[1] = { id };
	long long n;

	if (api_path_id(req, "id", what, &n, id) != 0)
		return -1;
	if (strcmp(what, "clinician") == 0 && api_may_see_clinician(req, n) != 0)
		return -1;
	snprintf(missing, sizeof(missing), "there is no %s %s", what, id);
	return api_reply_query(req, stmt, params, "not_found", missing);
}

static const struct db_stmt q_audit = {
	"audit_insert",
	"INSERT INTO audit_log (actor_id, actor_name, action, entity, "
	"entity_id, before, after, request_id) "
	"VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb, $8)",
	8,
};

/* The actor's id (ACTOR, 24 bytes; NULL for nobody) and name as
 * PARAMS[0] and PARAMS[1]. */
static void
who_params(const struct request *req, char *actor, const char **params)
{
	snprintf(actor, 24, "%lld", req->who.user_id);
	params[0] = req->who.user_id > 0 ? actor : NULL;
	params[1] = req->who.user_id > 0 ? req->who.username : "anonymous";
}

int
api_audit(PGconn *conn, const struct request *req, const char *action,
    const char *entity, const char *entity_id, const char *before,
    const char *after, struct cterr *err)
{
	char actor[24];
	const char *params[8];

	who_params(req, actor, params);
	params[2] = action;
	params[3] = entity;
	params[4] = entity_id;
	params[5] = before;
	params[6] = after;
	params[7] = req->id;
	return db_run(conn, &q_audit, params, err);
}

/* ---- write functions ------------------------------------------------- */

/*
 * The write's context, and generic plans for the rest of its transaction.
 * The API writes a few rows at a time through the same set-based
 * functions as the imports, whose statements take arrays: a generic plan
 * guesses ten rows, which suits the API, but PostgreSQL judged it costlier
 * than a plan for the one row at hand and planned every statement anew on
 * every call (5 ms a recorded result on the benchmark's data, 1.2 ms with
 * the plans kept).  An import keeps its plans made for its whole set: its
 * own connection and its own context (server/import.c).
 */
static const struct db_stmt q_write_context = {
	"write_context",
	"SELECT write_context($1::bigint, $2, $3, NULL),"
	" set_config('plan_cache_mode', 'force_generic_plan', true)",
	3,
};

int
api_write_context(PGconn *conn, const struct request *req, struct cterr *err)
{
	char actor[24];
	const char *params[3];

	who_params(req, actor, params);
	params[2] = req->id;
	return db_run(conn, &q_write_context, params, err);
}

int
api_code_status(const char *code)
{
	static const char *const conflict[] = {
		"already_enrolled", "already_completed", "already_withdrawn",
		"enrollment_withdrawn", "superseded", "already_revoked",
		"attempt_conflict", "duplicate", "already_renewed",
		"already_decided", "certificate_revoked",
	};
	size_t i;

	if (strcmp(code, "not_found") == 0 ||
	    strcmp(code, "unknown_certificate") == 0 ||
	    strcmp(code, "unknown_ce_activity") == 0)
		return 404;
	for (i = 0; i < sizeof(conflict) / sizeof(conflict[0]); i++)
		if (strcmp(code, conflict[i]) == 0)
			return 409;
	return 422;
}

static void
copy_col(const PGresult *res, int col, char *out, size_t len)
{
	snprintf(out, len, "%s", PQgetisnull(res, 0, col) ? "" :
	    PQgetvalue(res, 0, col));
}

int
api_write(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    struct verdict *v, struct cterr *err)
{
	PGresult *res = db_exec(conn, stmt, params, err);
	int rc = 0;

	memset(v, 0, sizeof(*v));
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1 || PQnfields(res) < 8) {
		int n = PQntuples(res);

		PQclear(res);
		return cterr_set(err, 500, "internal", NULL,
		    "a write answered %d rows", n);
	}
	if (!PQgetisnull(res, 0, 2)) {
		const char *code = PQgetvalue(res, 0, 2);

		rc = cterr_set(err, api_code_status(code), code,
		    PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3),
		    "%s", PQgetvalue(res, 0, 4));
		if (!PQgetisnull(res, 0, 5)) {
			snprintf(err->extra_key, sizeof(err->extra_key),
			    "next_allowed_on");
			copy_col(res, 5, err->extra_value,
			    sizeof(err->extra_value));
		}
	} else {
		copy_col(res, 1, v->id, sizeof(v->id));
		copy_col(res, 6, v->certificate, sizeof(v->certificate));
		copy_col(res, 7, v->revoked, sizeof(v->revoked));
	}
	PQclear(res);
	return rc;
}

static const struct db_stmt q_level_resolve = {
	"level_resolve",
	"SELECT id, code, detail FROM level_resolve($1)",
	1,
};

int
api_level(PGconn *conn, const char *text, const char *field, char *id,
    struct cterr *err)
{
	const char *params[1] = { text };
	PGresult *res = db_exec(conn, &q_level_resolve, params, err);
	int rc = 0;

	if (res == NULL)
		return -1;
	if (PQgetisnull(res, 0, 0))
		rc = cterr_set(err, 422, PQgetvalue(res, 0, 1), field, "%s",
		    PQgetvalue(res, 0, 2));
	else
		snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

int
api_text_of(PGconn *conn, const struct db_stmt *stmt,
    const char *const *params, char **out, struct cterr *err)
{
	PGresult *res = db_exec(conn, stmt, params, err);

	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cterr_set(err, 500, "internal", NULL,
		    "a row vanished while being written");
	}
	*out = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (*out == NULL)
		return cterr_set(err, 500, "internal", NULL, "out of memory");
	return 0;
}
