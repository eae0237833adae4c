/*
 * Exam results: recording an attempt, amending a result, a clinician's
 * history.  Every rule about them (3, 4, 5, 8 and 9) is in SQL: recording is
 * exam_record() and amending exam_amend() (sql/0007_writes.sql), the same
 * functions the results import calls, which lock the clinician's live
 * enrollment, decide, write, issue or revoke the certificate and write the
 * audit rows in one transaction.  This file parses, calls and replies.
 */
#include "certrack/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"
#include "certrack/strnum.h"

/* The members of result R's JSON (joined to level L; U the grader). */
#define RESULT_MEMBERS \
	"'id', r.id, 'clinician_id', r.clinician_id, 'level', l.code," \
	" 'kind', r.kind, 'attempt', r.attempt, 'score', r.score," \
	" 'max_score', r.max_score, 'pass_mark', r.pass_mark," \
	" 'passed', r.passed, 'taken_on', r.taken_on," \
	" 'graded_by', u.username, 'graded_at', r.graded_at," \
	" 'supersedes', r.supersedes, 'amend_reason', r.amend_reason," \
	" 'current', NOT EXISTS (SELECT 1 FROM exam_results a" \
	"   WHERE a.supersedes = r.id)"
#define RESULT_FROM \
	" FROM exam_results r JOIN levels l ON l.id = r.level_id" \
	" LEFT JOIN users u ON u.id = r.graded_by"

/* The JSON of certificate $N, or NULL. */
#define CERT_JSON(n) \
	"(SELECT json_build_object('id', c.id, 'number', c.number," \
	"  'clinician_id', c.clinician_id, 'level', cl.code," \
	"  'issued_on', c.issued_on, 'expires_on', c.expires_on," \
	"  'revoked_at', c.revoked_at," \
	"  'revocation_category', c.revocation_category," \
	"  'revocation_reason', c.revocation_reason," \
	"  'replaces', (SELECT o.number FROM certificates o" \
	"               WHERE o.id = c.replaces))" \
	"  FROM certificates c JOIN levels cl ON cl.id = c.level_id" \
	" WHERE c.id = " n "::bigint)"

static const struct db_stmt q_clinician_exists = {
	"exam_clinician_exists",
	"SELECT EXISTS (SELECT 1 FROM clinicians WHERE id = $1::bigint)",
	1,
};

/* Runs a one-value statement; copies the value ("" for NULL) to OUT. */
static int
one_value(PGconn *conn, const struct db_stmt *stmt, const char *const *params,
    char *out, size_t len, struct cterr *err)
{
	PGresult *res = db_exec(conn, stmt, params, err);

	if (res == NULL)
		return -1;
	snprintf(out, len, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return 0;
}

/* The text of a number field, NULL when absent; its value in *V. */
static const char *
number_field(const json_t *body, const char *name, char *buf, size_t len,
    double *v)
{
	json_t *j = json_object_get(body, name);

	if (j == NULL || json_is_null(j))
		return NULL;
	*v = json_number_value(j);
	return api_text(body, name, buf, len);
}

/* ---- POST /v1/exam-results -------------------------------------------- */

static const struct db_stmt q_record = {
	"exam_record",
	"SELECT * FROM exam_record(ARRAY[ROW(1, $1::bigint, $2::bigint, $3,"
	" $4::numeric, $5::numeric, $6::date, $7::int)::exam_entry])",
	7,
};

static const struct db_stmt q_record_reply = {
	"exam_record_reply",
	"SELECT json_build_object(" RESULT_MEMBERS ","
	"  'certificate', " CERT_JSON("$2") ")::text"
	RESULT_FROM " WHERE r.id = $1",
	2,
};

struct record {
	struct request *req;
	const char *clinician, *level_code, *kind, *score, *max_score;
	const char *taken_on, *attempt;
	char *reply;
};

static int
record_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct record *rc = arg;
	char level[24];
	const char *params[7];
	struct verdict v;

	if (api_level(conn, rc->level_code, "level", level, err) != 0 ||
	    api_write_context(conn, rc->req, err) != 0)
		return -1;
	params[0] = rc->clinician;
	params[1] = level;
	params[2] = rc->kind;
	params[3] = rc->score;
	params[4] = rc->max_score;
	params[5] = rc->taken_on;
	params[6] = rc->attempt;
	if (api_write(conn, &q_record, params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	params[1] = v.certificate[0] ? v.certificate : NULL;
	return api_text_of(conn, &q_record_reply, params, &rc->reply, err);
}

/*
 * The pure checks of a score against its maximum (texts for messages,
 * values to compare: both doubles come from the same parser, so the
 * comparison is the database's on the texts sent).
 */
int
api_check_scores(struct request *req, const char *score_text, double score,
    const char *max_text, double max)
{
	if (max <= 0)
		return cterr_set(&req->err, 422, "invalid_max_score",
		    "max_score", "the field 'max_score' must be more than 0");
	if (score > max)
		return cterr_set(&req->err, 422, "score_above_max", "score",
		    "the score %s is above the maximum %s", score_text,
		    max_text);
	return 0;
}

int
api_results_record(struct request *req)
{
	char *reply = NULL;
	int r;

	if (api_result_record(req, req->json, &reply) != 0)
		return -1;
	r = api_reply_db_json(req, 201, reply);
	free(reply);
	return r;
}

int
api_result_record(struct request *req, json_t *body, char **reply)
{
	static const struct field fields[] = {
		{ "clinician_id", FT_ID, true, false },
		{ "level", FT_STRING, true, false },
		{ "kind", FT_STRING, true, false },
		{ "score", FT_SCORE, true, false },
		{ "max_score", FT_SCORE, true, false },
		{ "taken_on", FT_DATE, true, false },
		{ "attempt", FT_ID, false, false },
	};
	struct record rc = { .req = req };
	char b[7][64];
	double score = 0, max = 0;

	if (api_fields(body, fields, 7, &req->err) != 0)
		return -1;
	rc.clinician = api_text(body, "clinician_id", b[0], sizeof(b[0]));
	rc.level_code = api_text(body, "level", b[1], sizeof(b[1]));
	rc.kind = api_text(body, "kind", b[2], sizeof(b[2]));
	rc.score = number_field(body, "score", b[3], sizeof(b[3]), &score);
	rc.max_score = number_field(body, "max_score", b[4], sizeof(b[4]),
	    &max);
	rc.taken_on = api_text(body, "taken_on", b[5], sizeof(b[5]));
	rc.attempt = api_text(body, "attempt", b[6], sizeof(b[6]));
	if (strcmp(rc.kind, "written") != 0 && strcmp(rc.kind, "practical") != 0)
		return cterr_set(&req->err, 422, "invalid_kind", "kind",
		    "the field 'kind' must be 'written' or 'practical'");
	if (api_check_scores(req, rc.score, score, rc.max_score, max) != 0)
		return -1;
	if (db_tx(record_tx, &rc, &req->err) != 0)
		return -1;
	*reply = rc.reply;
	return 0;
}

/* ---- POST /v1/exam-results/{id}/amend --------------------------------- */

static const struct db_stmt q_amend = {
	"exam_amend",
	"SELECT * FROM exam_amend($1::bigint, $2::numeric, $3::numeric,"
	" $4::date, $5)",
	5,
};

static const struct db_stmt q_amend_reply = {
	"exam_amend_reply",
	"SELECT json_build_object(" RESULT_MEMBERS ","
	"  'certificate', " CERT_JSON("$2") ","
	"  'revoked_certificate', " CERT_JSON("$3") ")::text"
	RESULT_FROM " WHERE r.id = $1",
	3,
};

struct amend {
	struct request *req;
	char id[24];
	const char *score, *max_score, *taken_on, *reason;
	char *reply;
};

static int
amend_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct amend *am = arg;
	const char *params[5];
	struct verdict v;

	if (api_write_context(conn, am->req, err) != 0)
		return -1;
	params[0] = am->id;
	params[1] = am->score;
	params[2] = am->max_score;
	params[3] = am->taken_on;
	params[4] = am->reason;
	if (api_write(conn, &q_amend, params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	params[1] = v.certificate[0] ? v.certificate : NULL;
	params[2] = v.revoked[0] ? v.revoked : NULL;
	return api_text_of(conn, &q_amend_reply, params, &am->reply, err);
}

int
api_results_amend(struct request *req)
{
	static const struct field fields[] = {
		{ "score", FT_SCORE, true, false },
		{ "max_score", FT_SCORE, false, false },
		{ "taken_on", FT_DATE, false, false },
		{ "reason", FT_STRING, true, false },
	};
	struct amend am = { .req = req };
	char b[4][64];
	double score = 0, max = 0;
	long long id;
	int r;

	if (api_path_id(req, "id", "exam result", &id, am.id) != 0 ||
	    api_fields(req->json, fields, 4, &req->err) != 0)
		return -1;
	am.score = number_field(req->json, "score", b[0], sizeof(b[0]),
	    &score);
	am.max_score = number_field(req->json, "max_score", b[1], sizeof(b[1]),
	    &max);
	am.taken_on = api_text(req->json, "taken_on", b[2], sizeof(b[2]));
	am.reason = api_text(req->json, "reason", b[3], sizeof(b[3]));
	/* Without a new max_score the database checks against the stored. */
	if (am.max_score != NULL && api_check_scores(req, am.score, score,
	    am.max_score, max) != 0)
		return -1;
	if (db_tx(amend_tx, &am, &req->err) != 0)
		return -1;
	r = api_reply_db_json(req, 201, am.reply);
	free(am.reply);
	return r;
}

/* ---- GET /v1/clinicians/{id}/exam-results ----------------------------- */

static const struct db_stmt q_history = {
	"exam_history",
	"SELECT json_build_object('clinician_id', $1::bigint,"
	"  'results', coalesce((SELECT json_agg(json_build_object("
	RESULT_MEMBERS ") ORDER BY l.ordinal,"
	"     CASE r.kind WHEN 'written' THEN 1 ELSE 2 END, r.attempt, r.id)"
	RESULT_FROM " WHERE r.clinician_id = $1::bigint), '[]'::json))::text",
	1,
};

int
api_results_history(struct request *req)
{
	char id[24], buf[8];
	const char *params[1] = { id };
	long long cid;
	PGconn *conn;
	PGresult *res;
	int r;

	if (api_path_id(req, "id", "clinician", &cid, id) != 0 ||
	    api_may_see_clinician(req, cid) != 0)
		return -1;
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	if (one_value(conn, &q_clinician_exists, params, buf, sizeof(buf),
	    &req->err) != 0)
		return -1;
	if (strcmp(buf, "t") != 0)
		return cterr_set(&req->err, 404, "not_found", NULL,
		    "there is no clinician %s", id);
	res = db_exec(conn, &q_history, params, &req->err);
	if (res == NULL)
		return -1;
	r = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return r;
}
