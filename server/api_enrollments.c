/*
 * Course sessions and enrollments.  Every rule about them (1, 2, 6 and 8)
 * is in SQL: session_create(), enrollment_create(), enrollment_complete()
 * and enrollment_withdraw() in sql/0007_writes.sql, the functions the
 * roster import calls too.  They lock, decide, write, issue the
 * certificate a completion makes due and write the audit rows in one
 * transaction; this file parses, calls and replies.
 */
#include "certrack/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"
#include "certrack/strnum.h"

/* The JSON of session S (joined to its level L). */
#define SESSION_JSON \
	"json_build_object('id', s.id, 'level', l.code," \
	" 'starts_on', s.starts_on, 'ends_on', s.ends_on," \
	" 'location', s.location, 'instructor', s.instructor," \
	" 'created_at', s.created_at)"

/* The members of enrollment E's JSON (joined to its level L). */
#define ENROLLMENT_MEMBERS \
	"'id', e.id, 'clinician_id', e.clinician_id," \
	" 'level', l.code, 'session_id', e.session_id, 'status', e.status," \
	" 'completed_on', e.completed_on, 'enrolled_at', e.enrolled_at," \
	" 'updated_at', e.updated_at"
#define ENROLLMENT_JSON "json_build_object(" ENROLLMENT_MEMBERS ")"

/* ---- GET /v1/sessions ------------------------------------------------- */

static const struct db_stmt q_sessions_list = {
	"enr_sessions_list",
	"SELECT json_build_object('sessions', coalesce(json_agg(x.j"
	"  ORDER BY x.starts_on, x.id), '[]'::json))::text"
	"  FROM (SELECT s.id, s.starts_on, " SESSION_JSON " AS j"
	"          FROM course_sessions s JOIN levels l ON l.id = s.level_id"
	"         WHERE $1::bigint IS NULL OR s.level_id = $1::bigint"
	"         ORDER BY s.starts_on, s.id"
	"         LIMIT $2::int OFFSET $3::int) AS x",
	3,
};

int
api_sessions_list(struct request *req)
{
	const char *code = http_query(req, "level");
	char lid[24], lim[24], off[24];
	const char *params[3] = { NULL, lim, off };
	long long limit, offset;
	PGconn *conn;
	PGresult *res;
	int rc;

	if (api_query_int(req, "limit", 1, 1000, 100, &limit, &req->err) != 0 ||
	    api_query_int(req, "offset", 0, INT32_MAX, 0, &offset,
	    &req->err) != 0)
		return -1;
	snprintf(lim, sizeof(lim), "%lld", limit);
	snprintf(off, sizeof(off), "%lld", offset);
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	if (code != NULL) {
		if (api_level(conn, code, "level", lid, &req->err) != 0)
			return -1;
		params[0] = lid;
	}
	res = db_exec(conn, &q_sessions_list, params, &req->err);
	if (res == NULL)
		return -1;
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

/* ---- POST /v1/sessions ------------------------------------------------ */

static const struct db_stmt q_session_create = {
	"enr_session_create",
	"SELECT * FROM session_create($1::bigint, $2::date, $3::date, $4, $5)",
	5,
};

static const struct db_stmt q_session_reply = {
	"enr_session_reply",
	"SELECT " SESSION_JSON "::text"
	"  FROM course_sessions s JOIN levels l ON l.id = s.level_id"
	" WHERE s.id = $1",
	1,
};

struct session_new {
	struct request *req;
	const char *level, *starts_on, *ends_on, *location, *instructor;
	char *reply;
};

static int
session_create_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct session_new *sn = arg;
	char lid[24];
	const char *params[5];
	struct verdict v;

	if (api_level(conn, sn->level, "level", lid, err) != 0 ||
	    api_write_context(conn, sn->req, err) != 0)
		return -1;
	params[0] = lid;
	params[1] = sn->starts_on;
	params[2] = sn->ends_on;
	params[3] = sn->location;
	params[4] = sn->instructor;
	if (api_write(conn, &q_session_create, params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	return api_text_of(conn, &q_session_reply, params, &sn->reply, err);
}

int
api_sessions_create(struct request *req)
{
	static const struct field fields[] = {
		{ "level", FT_STRING, true, false },
		{ "starts_on", FT_DATE, true, false },
		{ "ends_on", FT_DATE, true, false },
		{ "location", FT_STRING, false, true },
		{ "instructor", FT_STRING, false, true },
	};
	struct session_new sn = { .req = req };
	char b[5][64];
	int rc;

	if (api_fields(req->json, fields, 5, &req->err) != 0)
		return -1;
	sn.level = api_text(req->json, "level", b[0], sizeof(b[0]));
	sn.starts_on = api_text(req->json, "starts_on", b[1], sizeof(b[1]));
	sn.ends_on = api_text(req->json, "ends_on", b[2], sizeof(b[2]));
	sn.location = api_text(req->json, "location", b[3], sizeof(b[3]));
	sn.instructor = api_text(req->json, "instructor", b[4], sizeof(b[4]));
	if (db_tx(session_create_tx, &sn, &req->err) != 0)
		return -1;
	rc = api_reply_db_json(req, 201, sn.reply);
	free(sn.reply);
	return rc;
}

/* ---- POST /v1/enrollments --------------------------------------------- */

static const struct db_stmt q_enroll = {
	"enr_create",
	"SELECT * FROM enrollment_create(ARRAY[ROW(1, $1::bigint, $2::bigint,"
	" $3::bigint, NULL)::enroll_entry])",
	3,
};

static const struct db_stmt q_enr_json = {
	"enr_json",
	"SELECT " ENROLLMENT_JSON "::text"
	"  FROM enrollments e JOIN levels l ON l.id = e.level_id"
	" WHERE e.id = $1",
	1,
};

struct enroll {
	struct request *req;
	const char *clinician, *level, *session;
	char *reply;
};

static int
enroll_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct enroll *en = arg;
	char lid[24];
	const char *params[3];
	struct verdict v;

	if (api_level(conn, en->level, "level", lid, err) != 0 ||
	    api_write_context(conn, en->req, err) != 0)
		return -1;
	params[0] = en->clinician;
	params[1] = lid;
	params[2] = en->session;
	if (api_write(conn, &q_enroll, params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	return api_text_of(conn, &q_enr_json, params, &en->reply, err);
}

int
api_enrollments_create(struct request *req)
{
	static const struct field fields[] = {
		{ "clinician_id", FT_ID, true, false },
		{ "level", FT_STRING, true, false },
		{ "session_id", FT_ID, false, true },
	};
	struct enroll en = { .req = req };
	char b[3][64];
	int rc;

	if (api_fields(req->json, fields, 3, &req->err) != 0)
		return -1;
	en.clinician = api_text(req->json, "clinician_id", b[0], sizeof(b[0]));
	en.level = api_text(req->json, "level", b[1], sizeof(b[1]));
	en.session = api_text(req->json, "session_id", b[2], sizeof(b[2]));
	if (db_tx(enroll_tx, &en, &req->err) != 0)
		return -1;
	rc = api_reply_db_json(req, 201, en.reply);
	free(en.reply);
	return rc;
}

/* ---- POST /v1/enrollments/{id}/complete and /withdraw ----------------- */

static const struct db_stmt q_enr_complete = {
	"enr_complete",
	"SELECT * FROM enrollment_complete(ARRAY[ROW(1, $1::bigint,"
	" $2::date)::completion_entry])",
	2,
};

static const struct db_stmt q_enr_withdraw = {
	"enr_withdraw",
	"SELECT * FROM enrollment_withdraw(ARRAY[$1::bigint])",
	1,
};

/* The enrollment's JSON, with "certificate": the one issued ($2) or null
 * ($2 NULL), when $3 is true. */
static const struct db_stmt q_enr_reply = {
	"enr_reply",
	"SELECT (CASE WHEN $3::boolean THEN"
	"  json_build_object(" ENROLLMENT_MEMBERS ", 'certificate',"
	"   (SELECT json_build_object('id', c.id, 'number', c.number,"
	"     'clinician_id', c.clinician_id, 'level', cl.code,"
	"     'issued_on', c.issued_on, 'expires_on', c.expires_on)"
	"      FROM certificates c JOIN levels cl ON cl.id = c.level_id"
	"     WHERE c.id = $2::bigint))"
	"  ELSE " ENROLLMENT_JSON " END)::text"
	"  FROM enrollments e JOIN levels l ON l.id = e.level_id"
	" WHERE e.id = $1",
	3,
};

struct enr_change {
	struct request *req;
	bool complete;		/* else withdraw */
	char id[24];
	const char *completed_on;
	char *reply;
};

static int
enr_change_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct enr_change *ch = arg;
	const char *params[3];
	struct verdict v;

	if (api_write_context(conn, ch->req, err) != 0)
		return -1;
	params[0] = ch->id;
	params[1] = ch->completed_on;
	if (api_write(conn, ch->complete ? &q_enr_complete : &q_enr_withdraw,
	    params, &v, err) != 0)
		return -1;
	params[1] = v.certificate[0] ? v.certificate : NULL;
	params[2] = ch->complete ? "true" : "false";
	return api_text_of(conn, &q_enr_reply, params, &ch->reply, err);
}

static int
enr_change(struct request *req, bool complete)
{
	static const struct field complete_fields[] = {
		{ "completed_on", FT_DATE, true, false },
	};
	struct enr_change ch = { .req = req, .complete = complete };
	char b[64];
	long long id;
	int rc;

	if (api_path_id(req, "id", "enrollment", &id, ch.id) != 0)
		return -1;
	if (complete) {
		if (api_fields(req->json, complete_fields, 1, &req->err) != 0)
			return -1;
		ch.completed_on = api_text(req->json, "completed_on", b,
		    sizeof(b));
	} else if (api_fields(req->json, NULL, 0, &req->err) != 0) {
		return -1;
	}
	if (db_tx(enr_change_tx, &ch, &req->err) != 0)
		return -1;
	rc = api_reply_db_json(req, 200, ch.reply);
	free(ch.reply);
	return rc;
}

int
api_enrollment_complete(struct request *req, const char *id,
    const char *completed_on)
{
	struct enr_change ch = { .req = req, .complete = true,
	    .completed_on = completed_on };

	snprintf(ch.id, sizeof(ch.id), "%s", id);
	if (db_tx(enr_change_tx, &ch, &req->err) != 0)
		return -1;
	free(ch.reply);
	return 0;
}

int
api_enrollments_complete(struct request *req)
{
	return enr_change(req, true);
}

int
api_enrollments_withdraw(struct request *req)
{
	return enr_change(req, false);
}
