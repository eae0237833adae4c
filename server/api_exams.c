/*
 * Exam results: recording an attempt, amending a result, a clinician's
 * history.  Whether an attempt may be recorded (rules 3 and 5) is SQL,
 * exam_refusal() in sql/0003_rules.sql, shared with the results import;
 * the pass (rule 4) is exam_passed(), computed once by the database with
 * the level's mark in force and stored with it.  A result that meets the
 * last requirement of a level issues its certificate in the same
 * transaction (certificate_issue_due(), rule 6); an amendment that turns
 * the only pass into a fail revokes it.  exam_results is append-only: an
 * amendment is a new row superseding the current one.
 *
 * Concurrency: every write first locks the clinician's live enrollment in
 * the level FOR UPDATE, so submissions for one clinician and level run one
 * after another and each sees the attempts the previous one recorded (the
 * rule queries run after the lock, in a new statement, hence a new
 * snapshot).
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
	"  'revocation_reason', c.revocation_reason)" \
	"  FROM certificates c JOIN levels cl ON cl.id = c.level_id" \
	" WHERE c.id = " n "::bigint)"

static const struct db_stmt q_level_by_code = {
	"exam_level_by_code",
	"SELECT count(*), min(id) FROM levels WHERE code = upper($1)",
	1,
};

static const struct db_stmt q_clinician_exists = {
	"exam_clinician_exists",
	"SELECT EXISTS (SELECT 1 FROM clinicians WHERE id = $1::bigint)",
	1,
};

/* Locks the live enrollment of clinician $1 in level $2, if there is one. */
static const struct db_stmt q_lock_enrollment = {
	"exam_lock_enrollment",
	"SELECT id FROM enrollments WHERE clinician_id = $1 AND level_id = $2"
	" AND status <> 'withdrawn' FOR UPDATE",
	2,
};

static const struct db_stmt q_issue_due = {
	"exam_issue_due",
	"SELECT certificate_issue_due($1, $2)",
	2,
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

static int
lock_enrollment(PGconn *conn, const char *clinician, const char *level,
    struct cterr *err)
{
	const char *params[2] = { clinician, level };
	PGresult *res = db_exec(conn, &q_lock_enrollment, params, err);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Issues the certificate now due, if any: its id in CERT, else "". */
static int
issue_due(PGconn *conn, const char *clinician, const char *level, char *cert,
    struct cterr *err)
{
	const char *params[2] = { clinician, level };

	return one_value(conn, &q_issue_due, params, cert, 24, err);
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

static const struct db_stmt q_check = {
	"exam_check",
	"SELECT next_attempt($1, $2, $3), x.code, x.detail, x.next_allowed_on"
	"  FROM (SELECT 1) AS one"
	"  LEFT JOIN exam_refusal($1, $2, $3, $4::date) AS x ON true",
	4,
};

/* The new attempt, graded with the level's mark in force now. */
static const struct db_stmt q_record = {
	"exam_record",
	"INSERT INTO exam_results (clinician_id, level_id, kind, attempt,"
	" score, max_score, pass_mark, passed, taken_on, graded_by)"
	" SELECT $1, l.id, $3, $4::int, $5::numeric, $6::numeric, m.mark,"
	"        exam_passed($5::numeric, $6::numeric, m.mark), $7::date, $8"
	"   FROM levels l CROSS JOIN LATERAL (SELECT CASE $3"
	"        WHEN 'written' THEN l.written_pass_mark"
	"        ELSE l.practical_pass_mark END AS mark) AS m"
	"  WHERE l.id = $2"
	" RETURNING id",
	8,
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
	const char *taken_on;
	long long attempt;	/* asked for, 0 when not */
	char *reply;
};

static int
record_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct record *rc = arg;
	char level[24], next[24], id[24], cert[24], grader[24], buf[8];
	const char *params[8];
	PGresult *res;
	long long n = 0;

	params[0] = rc->clinician;
	if (one_value(conn, &q_clinician_exists, params, buf, sizeof(buf),
	    err) != 0)
		return -1;
	if (strcmp(buf, "t") != 0)
		return cterr_set(err, 422, "unknown_clinician", "clinician_id",
		    "there is no clinician %s", rc->clinician);
	params[0] = rc->level_code;
	res = db_exec(conn, &q_level_by_code, params, err);
	if (res == NULL)
		return -1;
	strnum_ll(PQgetvalue(res, 0, 0), 0, INT64_MAX, &n, NULL);
	snprintf(level, sizeof(level), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	if (n != 1)
		return cterr_set(err, 422, n ? "ambiguous_level" :
		    "unknown_level", "level", n ? "more than one program has a "
		    "level '%s'" : "there is no level '%s'", rc->level_code);

	if (lock_enrollment(conn, rc->clinician, level, err) != 0)
		return -1;

	/* Rules 3 and 5, as the import asks them; after the lock. */
	params[0] = rc->clinician;
	params[1] = level;
	params[2] = rc->kind;
	params[3] = rc->taken_on;
	res = db_exec(conn, &q_check, params, err);
	if (res == NULL)
		return -1;
	snprintf(next, sizeof(next), "%s", PQgetvalue(res, 0, 0));
	bool refused = !PQgetisnull(res, 0, 1);
	const char *code = PQgetvalue(res, 0, 1);
	long long want = 0;
	strnum_ll(next, 1, INT32_MAX, &want, NULL);
	/* A client that names its attempt and is behind (another grader got
	 * there first) hears so before any rule about the attempt it
	 * meant; "not enrolled" still comes first. */
	if (rc->attempt != 0 && rc->attempt != want &&
	    !(refused && strcmp(code, "not_enrolled") == 0)) {
		PQclear(res);
		if (rc->attempt < want)
			return cterr_set(err, 409, "attempt_conflict", "attempt",
			    "attempt %lld is already recorded; the next is %lld",
			    rc->attempt, want);
		return cterr_set(err, 409, "attempt_conflict", "attempt",
		    "attempt %lld cannot be recorded yet; the next is %lld",
		    rc->attempt, want);
	}
	if (refused) {
		cterr_set(err, 422, code, NULL, "%s", PQgetvalue(res, 0, 2));
		if (!PQgetisnull(res, 0, 3)) {
			snprintf(err->extra_key, sizeof(err->extra_key),
			    "next_allowed_on");
			snprintf(err->extra_value, sizeof(err->extra_value),
			    "%s", PQgetvalue(res, 0, 3));
		}
		PQclear(res);
		return -1;
	}
	PQclear(res);

	snprintf(grader, sizeof(grader), "%lld", rc->req->who.user_id);
	params[3] = next;
	params[4] = rc->score;
	params[5] = rc->max_score;
	params[6] = rc->taken_on;
	params[7] = grader;
	res = db_exec(conn, &q_record, params, err);
	if (res == NULL) {
		/* Only a writer that skipped the enrollment lock can get
		 * here: the unique index still keeps attempts race-free. */
		if (strcmp(err->field, "exam_results_attempt_key") == 0)
			cterr_set(err, 409, "attempt_conflict", "attempt",
			    "attempt %s was recorded meanwhile; try again", next);
		return -1;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);

	/* The result may meet the last requirement of the level. */
	if (issue_due(conn, rc->clinician, level, cert, err) != 0)
		return -1;

	params[0] = id;
	params[1] = cert[0] ? cert : NULL;
	res = db_exec(conn, &q_record_reply, params, err);
	if (res == NULL)
		return -1;
	int r = api_audit(conn, rc->req, "exam_result.record", "exam_result",
	    id, NULL, PQgetvalue(res, 0, 0), err);
	if (r == 0 && (rc->reply = strdup(PQgetvalue(res, 0, 0))) == NULL)
		r = cterr_set(err, 500, "internal", NULL, "out of memory");
	PQclear(res);
	return r;
}

/*
 * The pure checks of a score against its maximum (texts for messages,
 * values to compare: both doubles come from the same parser, so the
 * comparison is the database's on the texts sent).
 */
static int
check_scores(struct request *req, const char *score_text, double score,
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
	char b[6][64];
	double score = 0, max = 0;
	int r;

	if (api_fields(req->json, fields, 7, &req->err) != 0)
		return -1;
	rc.clinician = api_text(req->json, "clinician_id", b[0], sizeof(b[0]));
	rc.level_code = api_text(req->json, "level", b[1], sizeof(b[1]));
	rc.kind = api_text(req->json, "kind", b[2], sizeof(b[2]));
	rc.score = number_field(req->json, "score", b[3], sizeof(b[3]),
	    &score);
	rc.max_score = number_field(req->json, "max_score", b[4], sizeof(b[4]),
	    &max);
	rc.taken_on = api_text(req->json, "taken_on", b[5], sizeof(b[5]));
	if (api_has(req->json, "attempt"))
		rc.attempt = json_integer_value(json_object_get(req->json,
		    "attempt"));
	if (strcmp(rc.kind, "written") != 0 && strcmp(rc.kind, "practical") != 0)
		return cterr_set(&req->err, 422, "invalid_kind", "kind",
		    "the field 'kind' must be 'written' or 'practical'");
	if (check_scores(req, rc.score, score, rc.max_score, max) != 0)
		return -1;
	if (db_tx(record_tx, &rc, &req->err) != 0)
		return -1;
	r = api_reply_db_json(req, 201, rc.reply);
	free(rc.reply);
	return r;
}

/* ---- POST /v1/exam-results/{id}/amend --------------------------------- */

static const struct db_stmt q_amend_target = {
	"exam_amend_target",
	"SELECT clinician_id, level_id FROM exam_results WHERE id = $1",
	1,
};

/* After the lock: the current row of the attempt, whether the score is
 * above the (new or kept) maximum, the row as it is now. */
static const struct db_stmt q_amend_check = {
	"exam_amend_check",
	"SELECT cur.id, $2::numeric > coalesce($3::numeric, r.max_score),"
	"       coalesce($3::numeric, r.max_score),"
	"       json_build_object(" RESULT_MEMBERS ")::text, r.passed, r.kind"
	RESULT_FROM
	"  JOIN exam_results_current cur ON cur.clinician_id = r.clinician_id"
	"   AND cur.level_id = r.level_id AND cur.kind = r.kind"
	"   AND cur.attempt = r.attempt"
	" WHERE r.id = $1",
	3,
};

/* The amendment: same attempt, the pass mark of the row it supersedes
 * (so of the original grading), pass recomputed. */
static const struct db_stmt q_amend = {
	"exam_amend",
	"INSERT INTO exam_results (clinician_id, level_id, kind, attempt,"
	" score, max_score, pass_mark, passed, taken_on, graded_by,"
	" supersedes, amend_reason)"
	" SELECT r.clinician_id, r.level_id, r.kind, r.attempt, $2::numeric,"
	"        coalesce($3::numeric, r.max_score), r.pass_mark,"
	"        exam_passed($2::numeric, coalesce($3::numeric, r.max_score),"
	"                    r.pass_mark),"
	"        coalesce($4::date, r.taken_on), $5, r.id, $6"
	"   FROM exam_results r WHERE r.id = $1"
	" ON CONFLICT (supersedes) DO NOTHING"
	" RETURNING id, passed",
	6,
};

/* Revokes the unrevoked certificate of the level when no current result
 * of kind $5 passes any more. */
static const struct db_stmt q_amend_revoke = {
	"exam_amend_revoke",
	"UPDATE certificates c SET revoked_at = now(), revoked_by = $3,"
	"       revocation_reason = 'exam result amended: ' || $4"
	" WHERE c.clinician_id = $1 AND c.level_id = $2 AND c.revoked_at IS NULL"
	"   AND NOT EXISTS (SELECT 1 FROM exam_results_current x"
	"                    WHERE x.clinician_id = $1 AND x.level_id = $2"
	"                      AND x.kind = $5 AND x.passed)"
	" RETURNING c.id",
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
	char clinician[24], level[24], kind[16], newid[24], cert[24];
	char revoked[24] = "", grader[24];
	char *before = NULL;
	const char *params[6];
	PGresult *res;
	bool was_passed, now_passed;
	int rc = -1;

	params[0] = am->id;
	res = db_exec(conn, &q_amend_target, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL,
		    "there is no exam result %s", am->id);
	}
	snprintf(clinician, sizeof(clinician), "%s", PQgetvalue(res, 0, 0));
	snprintf(level, sizeof(level), "%s", PQgetvalue(res, 0, 1));
	PQclear(res);

	/* A withdrawn enrollment leaves nothing to lock; the unique
	 * supersedes key still lets only one amendment of a row win. */
	if (lock_enrollment(conn, clinician, level, err) != 0)
		return -1;

	params[1] = am->score;
	params[2] = am->max_score;
	res = db_exec(conn, &q_amend_check, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL,
		    "there is no exam result %s", am->id);
	}
	if (strcmp(PQgetvalue(res, 0, 0), am->id) != 0) {
		cterr_set(err, 409, "superseded", NULL,
		    "exam result %s has been amended: amend the current "
		    "result of that attempt, %s", am->id,
		    PQgetvalue(res, 0, 0));
		PQclear(res);
		return -1;
	}
	if (strcmp(PQgetvalue(res, 0, 1), "t") == 0) {
		cterr_set(err, 422, "score_above_max", "score",
		    "the score %s is above the maximum %s", am->score,
		    PQgetvalue(res, 0, 2));
		PQclear(res);
		return -1;
	}
	before = strdup(PQgetvalue(res, 0, 3));
	was_passed = strcmp(PQgetvalue(res, 0, 4), "t") == 0;
	snprintf(kind, sizeof(kind), "%s", PQgetvalue(res, 0, 5));
	PQclear(res);
	if (before == NULL)
		return cterr_set(err, 500, "internal", NULL, "out of memory");

	snprintf(grader, sizeof(grader), "%lld", am->req->who.user_id);
	params[3] = am->taken_on;
	params[4] = grader;
	params[5] = am->reason;
	res = db_exec(conn, &q_amend, params, err);
	if (res == NULL)
		goto out;
	if (PQntuples(res) == 0) {
		PQclear(res);
		cterr_set(err, 409, "superseded", NULL,
		    "exam result %s was amended meanwhile: amend the current "
		    "result of that attempt", am->id);
		goto out;
	}
	snprintf(newid, sizeof(newid), "%s", PQgetvalue(res, 0, 0));
	now_passed = strcmp(PQgetvalue(res, 0, 1), "t") == 0;
	PQclear(res);

	if (was_passed && !now_passed) {
		params[0] = clinician;
		params[1] = level;
		params[2] = grader;
		params[3] = am->reason;
		params[4] = kind;
		res = db_exec(conn, &q_amend_revoke, params, err);
		if (res == NULL)
			goto out;
		if (PQntuples(res) > 0)
			snprintf(revoked, sizeof(revoked), "%s",
			    PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	/* A fail turned pass may meet the last requirement (a level whose
	 * certificate was revoked is not re-issued: certificates_due). */
	if (issue_due(conn, clinician, level, cert, err) != 0)
		goto out;

	params[0] = newid;
	params[1] = cert[0] ? cert : NULL;
	params[2] = revoked[0] ? revoked : NULL;
	res = db_exec(conn, &q_amend_reply, params, err);
	if (res == NULL)
		goto out;
	rc = api_audit(conn, am->req, "exam_result.amend", "exam_result",
	    newid, before, PQgetvalue(res, 0, 0), err);
	if (rc == 0 && (am->reply = strdup(PQgetvalue(res, 0, 0))) == NULL)
		rc = cterr_set(err, 500, "internal", NULL, "out of memory");
	PQclear(res);
out:
	free(before);
	return rc;
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
	if (am.max_score != NULL && check_scores(req, am.score, score,
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
