/*
 * Keeping a credential (issue 13, items 1-3): renewal policies, continuing
 * education (CE) and renewal.  Each write is one SQL function of
 * sql/0011_renewals.sql (renewal_policy_set, ce_record, ce_decide,
 * certificate_renew); the rule of when a certificate may be renewed is
 * renewal_progress() there, which status, the refusals and the automatic
 * renewal after CE all read.
 */
#include "certrack/api.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/certnum.h"
#include "certrack/db.h"
#include "certrack/value.h"

/* ---- renewal policies ----------------------------------------------- */

#define POLICY_JSON \
	"json_build_object('program_code', g.code, 'level_code', l.code," \
	" 'level_id', l.id, 'method', p.method, 'ce_hours', p.ce_hours," \
	" 'ce_category', p.ce_category," \
	" 'ce_category_hours', p.ce_category_hours," \
	" 'window_before_days', p.window_before_days," \
	" 'window_after_days', p.window_after_days, 'set_on', p.set_on," \
	" 'exam_pass_mark', p.exam_pass_mark," \
	" 'exam_max_attempts', p.exam_max_attempts," \
	" 'validity_months', g.certificate_validity_months)"

static const struct db_stmt q_policies = {
	"renewals_policies",
	"SELECT json_build_object('items', coalesce(json_agg(" POLICY_JSON
	"  ORDER BY g.code, l.ordinal), '[]'))::text"
	"  FROM level_renewal_policy p JOIN levels l ON l.id = p.level_id"
	"  JOIN programs g ON g.id = l.program_id",
	0,
};

int
api_renewal_policies_list(struct request *req)
{
	return api_reply_query(req, &q_policies, NULL, "not_found",
	    "no policies");
}

static const struct db_stmt q_program_id = {
	"renewals_program_id",
	"SELECT id FROM programs WHERE code = upper($1)",
	1,
};

static const struct db_stmt q_policy_set = {
	"renewals_policy_set",
	"SELECT renewal_policy_set($1::bigint, $2::bigint, $3, $4::numeric, $5,"
	" $6::numeric, $7::int, $8::int, $9::numeric, $10::int)",
	10,
};

struct policy_set {
	struct request *req;
	const char *program, *level;
};

static int
policy_set_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct policy_set *ps = arg;
	json_t *b = ps->req->json;
	char pid[24] = "", lid[24] = "", num[6][40];
	const char *params[10];
	PGresult *res;

	if (ps->level != NULL) {
		if (api_level(conn, ps->level, "level", lid, err) != 0)
			return -1;
	} else {
		res = db_exec(conn, &q_program_id, &ps->program, err);
		if (res == NULL)
			return -1;
		if (PQntuples(res) == 0) {
			PQclear(res);
			return cterr_set(err, 422, "unknown_program", "program",
			    "there is no program '%s'", ps->program);
		}
		snprintf(pid, sizeof(pid), "%s", PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	if (api_write_context(conn, ps->req, err) != 0)
		return -1;
	params[0] = pid[0] ? pid : NULL;
	params[1] = lid[0] ? lid : NULL;
	params[2] = json_string_value(json_object_get(b, "method"));
	params[3] = api_text(b, "ce_hours", num[0], sizeof(num[0]));
	params[4] = json_string_value(json_object_get(b, "ce_category"));
	params[5] = api_text(b, "ce_category_hours", num[1], sizeof(num[1]));
	params[6] = api_text(b, "window_before_days", num[2], sizeof(num[2]));
	params[7] = api_text(b, "window_after_days", num[3], sizeof(num[3]));
	params[8] = api_text(b, "exam_pass_mark", num[4], sizeof(num[4]));
	params[9] = api_text(b, "exam_max_attempts", num[5], sizeof(num[5]));
	return db_run(conn, &q_policy_set, params, err);
}

/*
 * PUT /v1/renewal-policies: the policy of a program or of one level
 * (admin).  Body: program or level; method ce_hours (with ce_hours, and
 * ce_category with ce_category_hours together), written_exam (with
 * exam_pass_mark and exam_max_attempts) or none; the window; method null
 * removes a level's own policy.
 */
int
api_renewal_policies_set(struct request *req)
{
	static const struct field fields[] = {
		{ "program", FT_STRING, false, false },
		{ "level", FT_STRING, false, false },
		{ "method", FT_STRING, false, true },	/* null: removed */
		{ "ce_hours", FT_NUMBER, false, true },
		{ "ce_category", FT_STRING, false, true },
		{ "ce_category_hours", FT_NUMBER, false, true },
		{ "window_before_days", FT_INT, false, false },
		{ "window_after_days", FT_INT, false, false },
		{ "exam_pass_mark", FT_NUMBER, false, true },
		{ "exam_max_attempts", FT_INT, false, true },
	};
	struct policy_set ps = { .req = req };
	const char *method;

	if (api_fields(req->json, fields, sizeof(fields) / sizeof(fields[0]),
	    &req->err) != 0)
		return -1;
	ps.program = json_string_value(json_object_get(req->json, "program"));
	ps.level = json_string_value(json_object_get(req->json, "level"));
	method = json_string_value(json_object_get(req->json, "method"));
	if (!api_has(req->json, "method"))
		return cterr_set(&req->err, 422, "missing_field", "method",
		    "the field 'method' is required (ce_hours, written_exam, "
		    "none, or null to remove a level's own policy)");
	if ((ps.program == NULL) == (ps.level == NULL))
		return cterr_set(&req->err, 422, "missing_field", "program",
		    "say whose policy this is: a program or a level, not both");
	if (method == NULL && ps.level == NULL)
		return cterr_set(&req->err, 422, "null_field", "method",
		    "a program's policy has a method (ce_hours, written_exam "
		    "or none)");
	if (method != NULL && strcmp(method, "ce_hours") != 0 &&
	    strcmp(method, "written_exam") != 0 && strcmp(method, "none") != 0)
		return cterr_set(&req->err, 422, "invalid_method", "method",
		    "the method must be ce_hours, written_exam or none, not "
		    "'%s'", method);
	if (method != NULL && strcmp(method, "written_exam") == 0 &&
	    (!api_has(req->json, "exam_pass_mark") ||
	    !api_has(req->json, "exam_max_attempts")))
		return cterr_set(&req->err, 422, "missing_field",
		    api_has(req->json, "exam_pass_mark") ? "exam_max_attempts" :
		    "exam_pass_mark", "a written_exam policy has its pass mark "
		    "(exam_pass_mark, a percentage) and its attempts "
		    "(exam_max_attempts)");
	if (db_tx(policy_set_tx, &ps, &req->err) != 0)
		return -1;
	return api_reply_query(req, &q_policies, NULL, "not_found",
	    "no policies");
}

/* ---- continuing education ------------------------------------------- */

#define CE_JSON(a) \
	"json_build_object('id', " a ".id, 'clinician_id', " a ".clinician_id," \
	" 'title', " a ".title, 'provider', " a ".provider," \
	" 'completed_on', " a ".completed_on, 'hours', " a ".hours," \
	" 'category', " a ".category, 'evidence', " a ".evidence," \
	" 'status', " a ".status, 'decided_at', " a ".decided_at," \
	" 'rejection_reason', " a ".rejection_reason)"

static const struct db_stmt q_ce_list = {
	"renewals_ce_list",
	"SELECT json_build_object('clinician_id', $1::bigint,"
	"  'items', coalesce((SELECT json_agg(" CE_JSON("a")
	"    ORDER BY a.completed_on DESC, a.id DESC)"
	"    FROM ce_activities a WHERE a.clinician_id = $1), '[]'),"
	"  'renewal', renewal_status($1, current_date))::text"
	"  FROM clinicians c WHERE c.id = $1",
	1,
};

int
api_ce_list(struct request *req)
{
	return api_reply_by_id(req, "clinician", &q_ce_list);
}

static const struct db_stmt q_ce_record = {
	"renewals_ce_record",
	"SELECT * FROM ce_record(ARRAY[ROW(1, $1::bigint, $2, $3, $4::date,"
	" $5::numeric, $6, $7, $8::boolean)::ce_entry])",
	8,
};

static const struct db_stmt q_ce_one = {
	"renewals_ce_one",
	"SELECT (" CE_JSON("a") "::jsonb || jsonb_build_object('renewed',"
	"  (SELECT number FROM certificates c WHERE c.id = $2::bigint)))::text"
	"  FROM ce_activities a WHERE a.id = $1",
	2,
};

/* The certificate a CE write renewed, if any: the newest renewal of the
 * clinician's made in this transaction. */
static const struct db_stmt q_renewed_now = {
	"renewals_renewed_now",
	"SELECT c.id FROM certificates c WHERE c.clinician_id = $1"
	"   AND c.renews IS NOT NULL AND c.created_at = now()"
	" ORDER BY c.id DESC LIMIT 1",
	1,
};

struct ce_new {
	struct request *req;
	const char *params[8];
	char *reply;
};

static int
ce_record_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct ce_new *cn = arg;
	struct verdict v;
	const char *params[2];
	char renewed[24] = "";
	PGresult *res;

	if (api_write_context(conn, cn->req, err) != 0 ||
	    api_write(conn, &q_ce_record, cn->params, &v, err) != 0)
		return -1;
	res = db_exec(conn, &q_renewed_now, &cn->params[0], err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0)
		snprintf(renewed, sizeof(renewed), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	params[0] = v.id;
	params[1] = renewed[0] ? renewed : NULL;
	return api_text_of(conn, &q_ce_one, params, &cn->reply, err);
}

/*
 * POST /v1/clinicians/{id}/ce: a CE activity.  Staff record it approved
 * (and a requirement it completes renews at once); a clinician records
 * their own as pending, for staff to approve.
 */
int
api_ce_record(struct request *req)
{
	static const struct field fields[] = {
		{ "title", FT_STRING, true, false },
		{ "provider", FT_STRING, false, true },
		{ "completed_on", FT_DATE, true, false },
		{ "hours", FT_NUMBER, true, false },
		{ "category", FT_STRING, false, true },
		{ "evidence", FT_STRING, false, true },
	};
	struct ce_new cn = { .req = req };
	char id[24], hours[40], hbuf[VALUE_SCORE_LEN];
	struct value_err ve;
	long long n;
	int rc;

	if (api_path_id(req, "id", "clinician", &n, id) != 0 ||
	    api_may_see_clinician(req, n) != 0 ||
	    api_fields(req->json, fields, sizeof(fields) / sizeof(fields[0]),
	    &req->err) != 0)
		return -1;
	cn.params[0] = id;
	cn.params[1] = json_string_value(json_object_get(req->json, "title"));
	cn.params[2] = json_string_value(json_object_get(req->json,
	    "provider"));
	cn.params[3] = json_string_value(json_object_get(req->json,
	    "completed_on"));
	if (value_hours(api_text(req->json, "hours", hours, sizeof(hours)),
	    hbuf, &ve) != 0)
		return cterr_set(&req->err, 422, ve.code, "hours", "%s",
		    ve.detail);
	cn.params[4] = hbuf;
	cn.params[5] = json_string_value(json_object_get(req->json,
	    "category"));
	cn.params[6] = json_string_value(json_object_get(req->json,
	    "evidence"));
	cn.params[7] = req->who.role == ROLE_CLINICIAN ? "true" : "false";
	if (db_tx(ce_record_tx, &cn, &req->err) != 0) {
		free(cn.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 201, cn.reply);
	free(cn.reply);
	return rc;
}

static const struct db_stmt q_ce_decide = {
	"renewals_ce_decide",
	"SELECT * FROM ce_decide($1::bigint, $2::boolean, $3)",
	3,
};

struct ce_decision {
	struct request *req;
	const char *params[3];
	char *reply;
};

static int
ce_decide_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct ce_decision *cd = arg;
	struct verdict v;
	const char *params[2];

	if (api_write_context(conn, cd->req, err) != 0 ||
	    api_write(conn, &q_ce_decide, cd->params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	params[1] = v.certificate[0] ? v.certificate : NULL;
	return api_text_of(conn, &q_ce_one, params, &cd->reply, err);
}

static int
ce_decide(struct request *req, bool approve)
{
	static const struct field fields[] = {
		{ "reason", FT_STRING, false, false },
	};
	struct ce_decision cd = { .req = req };
	char id[24];
	long long n;
	int rc;

	if (api_path_id(req, "id", "CE activity", &n, id) != 0 ||
	    api_fields(req->json, fields, 1, &req->err) != 0)
		return -1;
	cd.params[0] = id;
	cd.params[1] = approve ? "true" : "false";
	cd.params[2] = json_string_value(json_object_get(req->json, "reason"));
	if (db_tx(ce_decide_tx, &cd, &req->err) != 0) {
		free(cd.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 200, cd.reply);
	free(cd.reply);
	return rc;
}

int
api_ce_approve(struct request *req)
{
	return ce_decide(req, true);
}

int
api_ce_reject(struct request *req)
{
	return ce_decide(req, false);
}

/* ---- renew ------------------------------------------------------------ */

static const struct db_stmt q_renew = {
	"renewals_renew",
	"SELECT * FROM certificate_renew($1)",
	1,
};

static const struct db_stmt q_renewal_reply = {
	"renewals_reply",
	"SELECT json_build_object('number', n.number, 'status',"
	"  certificate_status_on(n.revoked_at, n.expires_on, current_date),"
	"  'clinician_id', n.clinician_id, 'level_code', l.code,"
	"  'issued_on', n.issued_on, 'expires_on', n.expires_on,"
	"  'renews', o.number)::text"
	"  FROM certificates n JOIN certificates o ON o.id = n.renews"
	"  JOIN levels l ON l.id = n.level_id WHERE n.id = $1",
	1,
};

struct renew {
	struct request *req;
	const char *number;
	char *reply;
};

static int
renew_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct renew *rn = arg;
	struct verdict v;
	const char *params[1] = { rn->number };

	if (api_write_context(conn, rn->req, err) != 0 ||
	    api_write(conn, &q_renew, params, &v, err) != 0)
		return -1;
	params[0] = v.certificate;
	return api_text_of(conn, &q_renewal_reply, params, &rn->reply, err);
}

/* POST /v1/certificates/{number}/renew (staff). */
int
api_certificates_renew(struct request *req)
{
	char number[CERTNUM_LEN + 1];
	struct renew rn = { .req = req, .number = number };
	int rc;

	if (api_certificate_number(router_param(&req->params, "number"),
	    number, &req->err) != 0)
		return -1;
	if (db_tx(renew_tx, &rn, &req->err) != 0) {
		free(rn.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 201, rn.reply);
	free(rn.reply);
	return rc;
}

/* ---- renewal by the written exam -------------------------------------- */

static const struct db_stmt q_renewal_exam = {
	"renewals_exam_record",
	"SELECT * FROM renewal_exam_record(ARRAY[ROW(1, $1, $2::numeric,"
	" $3::numeric, $4::date)::renewal_exam_entry])",
	4,
};

static const struct db_stmt q_renewal_exam_reply = {
	"renewals_exam_reply",
	"SELECT json_build_object('id', x.id, 'certificate', c.number,"
	"  'clinician_id', x.clinician_id, 'level_code', l.code,"
	"  'attempt', x.attempt, 'attempts_allowed', p.exam_max_attempts,"
	"  'score', x.score, 'max_score', x.max_score,"
	"  'pass_mark', x.pass_mark, 'passed', x.passed,"
	"  'taken_on', x.taken_on,"
	"  'renewed', (SELECT json_build_object('number', n.number,"
	"    'issued_on', n.issued_on, 'expires_on', n.expires_on)"
	"    FROM certificates n WHERE n.id = $2::bigint))::text"
	"  FROM renewal_exams x JOIN certificates c ON c.id = x.certificate_id"
	"  JOIN levels l ON l.id = c.level_id"
	"  JOIN level_renewal_policy p ON p.level_id = c.level_id"
	" WHERE x.id = $1",
	2,
};

struct renewal_exam {
	struct request *req;
	const char *params[4];
	char *reply;
};

static int
renewal_exam_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct renewal_exam *re = arg;
	struct verdict v;
	const char *params[2];

	if (api_write_context(conn, re->req, err) != 0 ||
	    api_write(conn, &q_renewal_exam, re->params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	params[1] = v.certificate[0] ? v.certificate : NULL;
	return api_text_of(conn, &q_renewal_exam_reply, params, &re->reply,
	    err);
}

/*
 * POST /v1/certificates/{number}/renewal-exams (staff): a sitting of the
 * written exam to renew certificate NUMBER, whose level's policy is
 * written_exam.  Body: score, max_score, taken_on.  A pass renews the
 * certificate at once (renewed names the new one); a failure uses an
 * attempt.  The rules are renewal_exam_record()'s (sql/0018_ce_import.sql).
 */
int
api_certificates_renewal_exam(struct request *req)
{
	static const struct field fields[] = {
		{ "score", FT_SCORE, true, false },
		{ "max_score", FT_SCORE, true, false },
		{ "taken_on", FT_DATE, true, false },
	};
	char number[CERTNUM_LEN + 1], b[3][64];
	struct renewal_exam re = { .req = req };
	json_t *body = req->json;
	int rc;

	if (api_certificate_number(router_param(&req->params, "number"),
	    number, &req->err) != 0 ||
	    api_fields(body, fields, sizeof(fields) / sizeof(fields[0]),
	    &req->err) != 0)
		return -1;
	re.params[0] = number;
	re.params[1] = api_text(body, "score", b[0], sizeof(b[0]));
	re.params[2] = api_text(body, "max_score", b[1], sizeof(b[1]));
	re.params[3] = api_text(body, "taken_on", b[2], sizeof(b[2]));
	if (api_check_scores(req, re.params[1], json_number_value(
	    json_object_get(body, "score")), re.params[2], json_number_value(
	    json_object_get(body, "max_score"))) != 0)
		return -1;
	if (db_tx(renewal_exam_tx, &re, &req->err) != 0) {
		free(re.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 201, re.reply);
	free(re.reply);
	return rc;
}
