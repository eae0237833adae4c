/*
 * Course sessions and enrollments.  Eligibility and prerequisites (rules 1
 * and 2) are SQL, enrollment_refusal() in sql/0003_rules.sql, shared with
 * the roster import; this file only asks it and reports.  Completing a
 * course is one of the three requirements of a certificate (rule 6): the
 * certificate now due, if any, is issued in the same transaction by
 * certificate_issue_due().  Every write leaves one audit row.
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

/* How many levels have code $1 (codes are unique per program, so more
 * than one is ambiguous) and the id of the first. */
static const struct db_stmt q_level_by_code = {
	"enr_level_by_code",
	"SELECT count(*), min(id) FROM levels WHERE code = upper($1)",
	1,
};

/*
 * The level id for code TEXT in ID (text, at least 24 bytes).  Returns 0,
 * or -1 with ERR 422 unknown_level / ambiguous_level naming FIELD.
 */
static int
level_id(PGconn *conn, const char *code, const char *field, char *id,
    struct cterr *err)
{
	const char *params[1] = { code };
	PGresult *res = db_exec(conn, &q_level_by_code, params, err);
	long long n = 0;

	if (res == NULL)
		return -1;
	strnum_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, &n, NULL);
	if (n == 1)
		snprintf(id, 24, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (n == 0)
		return cterr_set(err, 422, "unknown_level", field,
		    "there is no level '%s'", code);
	if (n > 1)
		return cterr_set(err, 422, "ambiguous_level", field,
		    "more than one program has a level '%s'", code);
	return 0;
}

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
		if (level_id(conn, code, "level", lid, &req->err) != 0)
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

static const struct db_stmt q_session_insert = {
	"enr_session_insert",
	"WITH s AS ("
	"  INSERT INTO course_sessions (level_id, starts_on, ends_on,"
	"   location, instructor)"
	"  VALUES ($1, $2::date, $3::date, $4, $5)"
	"  ON CONFLICT ON CONSTRAINT course_sessions_natural_key DO NOTHING"
	"  RETURNING *"
	") SELECT s.id, " SESSION_JSON "::text"
	"    FROM s JOIN levels l ON l.id = s.level_id",
	5,
};

static const struct db_stmt q_session_same = {
	"enr_session_same",
	"SELECT id FROM course_sessions WHERE level_id = $1"
	" AND starts_on = $2::date AND ends_on = $3::date"
	" AND location IS NOT DISTINCT FROM $4",
	4,
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
	PGresult *res;
	int rc;

	if (level_id(conn, sn->level, "level", lid, err) != 0)
		return -1;
	params[0] = lid;
	params[1] = sn->starts_on;
	params[2] = sn->ends_on;
	params[3] = sn->location;
	params[4] = sn->instructor;
	res = db_exec(conn, &q_session_insert, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = db_exec(conn, &q_session_same, params, err);
		if (res == NULL)
			return -1;
		cterr_set(err, 409, "duplicate", NULL,
		    "a session of %s from %s to %s at that location already "
		    "exists (session %s)", sn->level, sn->starts_on,
		    sn->ends_on, PQntuples(res) ? PQgetvalue(res, 0, 0) : "?");
		PQclear(res);
		return -1;
	}
	rc = api_audit(conn, sn->req, "session.create", "course_session",
	    PQgetvalue(res, 0, 0), NULL, PQgetvalue(res, 0, 1), err);
	if (rc == 0 && (sn->reply = strdup(PQgetvalue(res, 0, 1))) == NULL)
		rc = cterr_set(err, 500, "internal", NULL, "out of memory");
	PQclear(res);
	return rc;
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
	/* ISO dates compare as text */
	if (strcmp(sn.ends_on, sn.starts_on) < 0)
		return cterr_set(&req->err, 422, "invalid_dates", "ends_on",
		    "the session cannot end (%s) before it starts (%s)",
		    sn.ends_on, sn.starts_on);
	if (db_tx(session_create_tx, &sn, &req->err) != 0)
		return -1;
	rc = api_reply_db_json(req, 201, sn.reply);
	free(sn.reply);
	return rc;
}

/* ---- POST /v1/enrollments --------------------------------------------- */

/* Whether clinician $1 exists, and the level of session $2 (NULL when no
 * session was named; "missing" column true when it was and is unknown). */
static const struct db_stmt q_enr_resolve = {
	"enr_resolve",
	"SELECT EXISTS (SELECT 1 FROM clinicians WHERE id = $1::bigint),"
	"       $2::bigint IS NOT NULL AND NOT EXISTS"
	"         (SELECT 1 FROM course_sessions WHERE id = $2::bigint),"
	"       (SELECT level_id FROM course_sessions WHERE id = $2::bigint)",
	2,
};

static const struct db_stmt q_enr_refusal = {
	"enr_refusal",
	"SELECT code, detail FROM enrollment_refusal($1, $2)",
	2,
};

static const struct db_stmt q_enr_insert = {
	"enr_insert",
	"WITH e AS ("
	"  INSERT INTO enrollments (clinician_id, level_id, session_id)"
	"  VALUES ($1, $2, $3)"
	"  ON CONFLICT (clinician_id, level_id) WHERE status <> 'withdrawn'"
	"  DO NOTHING RETURNING *"
	") SELECT e.id, " ENROLLMENT_JSON "::text"
	"    FROM e JOIN levels l ON l.id = e.level_id",
	3,
};

static const struct db_stmt q_enr_live = {
	"enr_live",
	"SELECT id, status FROM enrollments"
	" WHERE clinician_id = $1 AND level_id = $2 AND status <> 'withdrawn'",
	2,
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
	PGresult *res;
	int rc;

	params[0] = en->clinician;
	params[1] = en->session;
	res = db_exec(conn, &q_enr_resolve, params, err);
	if (res == NULL)
		return -1;
	bool no_clinician = strcmp(PQgetvalue(res, 0, 0), "f") == 0;
	bool no_session = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	char slevel[24];
	snprintf(slevel, sizeof(slevel), "%s", PQgetvalue(res, 0, 2));
	PQclear(res);
	if (no_clinician)
		return cterr_set(err, 422, "unknown_clinician", "clinician_id",
		    "there is no clinician %s", en->clinician);
	if (level_id(conn, en->level, "level", lid, err) != 0)
		return -1;
	if (no_session)
		return cterr_set(err, 422, "unknown_session", "session_id",
		    "there is no session %s", en->session);
	if (en->session != NULL && strcmp(slevel, lid) != 0)
		return cterr_set(err, 422, "session_level_mismatch",
		    "session_id", "session %s does not teach %s", en->session,
		    en->level);

	/* Rules 1 and 2, as the import asks them. */
	params[0] = en->clinician;
	params[1] = lid;
	res = db_exec(conn, &q_enr_refusal, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0) {
		cterr_set(err, 422, PQgetvalue(res, 0, 0), NULL, "%s",
		    PQgetvalue(res, 0, 1));
		PQclear(res);
		return -1;
	}
	PQclear(res);

	params[2] = en->session;
	res = db_exec(conn, &q_enr_insert, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		res = db_exec(conn, &q_enr_live, params, err);
		if (res == NULL)
			return -1;
		cterr_set(err, 409, "already_enrolled", NULL,
		    "clinician %s already has a live enrollment in %s "
		    "(enrollment %s, %s)", en->clinician, en->level,
		    PQntuples(res) ? PQgetvalue(res, 0, 0) : "?",
		    PQntuples(res) ? PQgetvalue(res, 0, 1) : "?");
		PQclear(res);
		return -1;
	}
	rc = api_audit(conn, en->req, "enrollment.create", "enrollment",
	    PQgetvalue(res, 0, 0), NULL, PQgetvalue(res, 0, 1), err);
	if (rc == 0 && (en->reply = strdup(PQgetvalue(res, 0, 1))) == NULL)
		rc = cterr_set(err, 500, "internal", NULL, "out of memory");
	PQclear(res);
	return rc;
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

/* The enrollment, locked: later writes for this clinician and level
 * (exam results, certificates) wait for this transaction. */
static const struct db_stmt q_enr_lock = {
	"enr_lock",
	"SELECT e.status, e.clinician_id, e.level_id, s.starts_on,"
	"       " ENROLLMENT_JSON "::text, l.code"
	"  FROM enrollments e JOIN levels l ON l.id = e.level_id"
	"  LEFT JOIN course_sessions s ON s.id = e.session_id"
	" WHERE e.id = $1 FOR UPDATE OF e",
	1,
};

static const struct db_stmt q_enr_complete = {
	"enr_complete",
	"UPDATE enrollments SET status = 'completed', completed_on = $2::date,"
	" updated_at = now() WHERE id = $1",
	2,
};

static const struct db_stmt q_enr_withdraw = {
	"enr_withdraw",
	"UPDATE enrollments SET status = 'withdrawn', updated_at = now()"
	" WHERE id = $1",
	1,
};

static const struct db_stmt q_issue_due = {
	"enr_issue_due",
	"SELECT certificate_issue_due($1, $2)",
	2,
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
	char clinician[24], level[24], cert[24], *before = NULL;
	bool have_cert = false;
	PGresult *res;
	int rc = -1;

	params[0] = ch->id;
	res = db_exec(conn, &q_enr_lock, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL,
		    "there is no enrollment %s", ch->id);
	}
	const char *status = PQgetvalue(res, 0, 0);
	if (strcmp(status, "withdrawn") == 0) {
		if (ch->complete)
			cterr_set(err, 409, "enrollment_withdrawn", NULL,
			    "enrollment %s was withdrawn: it cannot be "
			    "completed", ch->id);
		else
			cterr_set(err, 409, "already_withdrawn", NULL,
			    "enrollment %s is already withdrawn", ch->id);
		PQclear(res);
		return -1;
	}
	if (strcmp(status, "completed") == 0) {
		cterr_set(err, 409, "already_completed", NULL,
		    ch->complete ? "enrollment %s is already completed" :
		    "enrollment %s is completed: it cannot be withdrawn",
		    ch->id);
		PQclear(res);
		return -1;
	}
	/* ISO dates compare as text */
	if (ch->complete && !PQgetisnull(res, 0, 3) &&
	    strcmp(ch->completed_on, PQgetvalue(res, 0, 3)) < 0) {
		cterr_set(err, 422, "completed_before_session", "completed_on",
		    "the course cannot be completed on %s, before its session "
		    "starts on %s", ch->completed_on, PQgetvalue(res, 0, 3));
		PQclear(res);
		return -1;
	}
	snprintf(clinician, sizeof(clinician), "%s", PQgetvalue(res, 0, 1));
	snprintf(level, sizeof(level), "%s", PQgetvalue(res, 0, 2));
	before = strdup(PQgetvalue(res, 0, 4));
	PQclear(res);
	if (before == NULL)
		return cterr_set(err, 500, "internal", NULL, "out of memory");

	params[1] = ch->completed_on;
	res = db_exec(conn, ch->complete ? &q_enr_complete : &q_enr_withdraw,
	    params, err);
	if (res == NULL)
		goto out;
	PQclear(res);

	if (ch->complete) {
		/* Completion may be the last of the three requirements. */
		params[0] = clinician;
		params[1] = level;
		res = db_exec(conn, &q_issue_due, params, err);
		if (res == NULL)
			goto out;
		have_cert = !PQgetisnull(res, 0, 0);
		snprintf(cert, sizeof(cert), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}

	params[0] = ch->id;
	params[1] = have_cert ? cert : NULL;
	params[2] = ch->complete ? "true" : "false";
	res = db_exec(conn, &q_enr_reply, params, err);
	if (res == NULL)
		goto out;
	rc = api_audit(conn, ch->req, ch->complete ? "enrollment.complete" :
	    "enrollment.withdraw", "enrollment", ch->id, before,
	    PQgetvalue(res, 0, 0), err);
	if (rc == 0 && (ch->reply = strdup(PQgetvalue(res, 0, 0))) == NULL)
		rc = cterr_set(err, 500, "internal", NULL, "out of memory");
	PQclear(res);
out:
	free(before);
	return rc;
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
api_enrollments_complete(struct request *req)
{
	return enr_change(req, true);
}

int
api_enrollments_withdraw(struct request *req)
{
	return enr_change(req, false);
}
