/*
 * Professions, programs, levels and eligibility: the rules as data.  Every
 * reply is built by SQL; a level's rules (pass marks, attempts, retake
 * wait, contact hours, title) are changed by an admin with one audit row
 * holding the level before and after.
 */
#include "certrack/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"

/* One level with all its rules, as JSON; L is the levels row's alias. */
#define LEVEL_JSON(l) \
	"json_build_object(" \
	"'id', " l ".id," \
	"'program', (SELECT g.code FROM programs g WHERE g.id = " l ".program_id)," \
	"'ordinal', " l ".ordinal," \
	"'code', " l ".code," \
	"'title', " l ".title," \
	"'contact_hours', " l ".contact_hours," \
	"'written_pass_mark', " l ".written_pass_mark," \
	"'practical_pass_mark', " l ".practical_pass_mark," \
	"'max_attempts', " l ".max_attempts," \
	"'retake_wait_days', " l ".retake_wait_days," \
	"'prerequisites', coalesce((" \
	"  SELECT json_agg(r.code ORDER BY r.ordinal)" \
	"    FROM level_prerequisites p JOIN levels r ON r.id = p.requires_level_id" \
	"   WHERE p.level_id = " l ".id), '[]'::json))"

/* One program with its eligible professions and levels; G its alias. */
#define PROGRAM_JSON(g) \
	"json_build_object(" \
	"'id', " g ".id," \
	"'code', " g ".code," \
	"'name', " g ".name," \
	"'credential_title', " g ".credential_title," \
	"'certificate_validity_months', " g ".certificate_validity_months," \
	"'eligible_professions', coalesce((" \
	"  SELECT json_agg(json_build_object('code', pr.code, 'name', pr.name)" \
	"         ORDER BY pr.code)" \
	"    FROM program_professions pp" \
	"    JOIN professions pr ON pr.code = pp.profession_code" \
	"   WHERE pp.program_id = " g ".id), '[]'::json)," \
	"'levels', coalesce((" \
	"  SELECT json_agg(" LEVEL_JSON("lv") " ORDER BY lv.ordinal)" \
	"    FROM levels lv WHERE lv.program_id = " g ".id), '[]'::json))"

/* S when it is printable ASCII, safe to quote back in a message. */
static const char *
quotable(const char *s)
{
	for (const char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return "?";
	return s;
}

/* ---- professions ----------------------------------------------------- */

static const struct db_stmt q_professions = {
	"programs_professions",
	"SELECT json_build_object('professions', coalesce(json_agg("
	" json_build_object("
	"  'code', pr.code,"
	"  'name', pr.name,"
	"  'aliases', coalesce((SELECT json_agg(a.alias ORDER BY lower(a.alias))"
	"     FROM profession_aliases a WHERE a.profession_code = pr.code),"
	"     '[]'::json),"
	"  'programs', coalesce((SELECT json_agg(g.code ORDER BY g.code)"
	"     FROM program_professions pp JOIN programs g ON g.id = pp.program_id"
	"    WHERE pp.profession_code = pr.code), '[]'::json))"
	" ORDER BY pr.code), '[]'::json))::text"
	" FROM professions pr",
	0,
};

int
api_professions_list(struct request *req)
{
	return api_reply_query(req, &q_professions, NULL, "not_found",
	    "no professions");
}

/* ---- programs -------------------------------------------------------- */

static const struct db_stmt q_programs = {
	"programs_list",
	"SELECT json_build_object('programs', coalesce(json_agg("
	PROGRAM_JSON("g") " ORDER BY g.code), '[]'::json))::text"
	" FROM programs g",
	0,
};

static const struct db_stmt q_program = {
	"programs_get",
	"SELECT " PROGRAM_JSON("g") "::text FROM programs g"
	" WHERE g.code = upper($1)",
	1,
};

int
api_programs_list(struct request *req)
{
	return api_reply_query(req, &q_programs, NULL, "not_found", "no programs");
}

int
api_programs_get(struct request *req)
{
	const char *code = router_param(&req->params, "code");
	const char *params[1] = { code };
	char detail[200];

	snprintf(detail, sizeof(detail), "there is no program '%.100s'",
	    code ? quotable(code) : "");
	return api_reply_query(req, &q_program, params, "unknown_program", detail);
}

/* ---- levels ---------------------------------------------------------- */

static const struct db_stmt q_level = {
	"levels_get",
	"SELECT " LEVEL_JSON("l") "::text FROM levels l WHERE l.id = $1",
	1,
};

static const struct db_stmt q_level_lock = {
	"levels_lock",
	"SELECT " LEVEL_JSON("l") "::text FROM levels l WHERE l.id = $1"
	" FOR UPDATE OF l",
	1,
};

/* A field left NULL keeps its value. */
static const struct db_stmt q_level_update = {
	"levels_update",
	"UPDATE levels SET"
	" written_pass_mark = coalesce($2::numeric, written_pass_mark),"
	" practical_pass_mark = coalesce($3::numeric, practical_pass_mark),"
	" max_attempts = coalesce($4::int, max_attempts),"
	" retake_wait_days = coalesce($5::int, retake_wait_days),"
	" contact_hours = coalesce($6::numeric, contact_hours),"
	" title = coalesce(btrim($7), title)"
	" WHERE id = $1",
	7,
};

int
api_levels_get(struct request *req)
{
	return api_reply_by_id(req, "level", &q_level);
}

/* GET /v1/levels?name=NAME: the level a person means by NAME, read by
 * SQL level_resolve() as everywhere else (a query parameter, so that
 * "PROGRAM/LEVEL" needs no slash in a path). */
int
api_levels_find(struct request *req)
{
	const char *name = http_query(req, "name");
	char id[24];
	const char *params[1] = { id };
	PGconn *conn;

	if (name == NULL || name[0] == '\0')
		return cterr_set(&req->err, 400, "invalid_parameter", "name",
		    "the parameter 'name' (a level's code or title) is "
		    "needed");
	conn = db_conn(&req->err);
	if (conn == NULL || api_level(conn, name, "name", id, &req->err) != 0)
		return -1;
	return api_reply_query(req, &q_level, params, "not_found",
	    "the level vanished");
}

/* The rules an admin may change, and the range each must stay in.  The
 * database's CHECK constraints are the last line behind these. */
static const struct level_rule {
	const char *name;
	double min, max;
	const char *unit;
} level_rules[] = {
	{ "written_pass_mark", 0, 100, "percent" },
	{ "practical_pass_mark", 0, 100, "percent" },
	{ "max_attempts", 1, 1000, "attempts" },
	{ "retake_wait_days", 0, 3650, "days" },
	{ "contact_hours", 0, 9999.99, "hours" },
};
#define NRULES (sizeof(level_rules) / sizeof(level_rules[0]))

struct level_update {
	struct request *req;
	const char *id;
	const char *values[NRULES + 1];	/* rules, then title; NULL: keep */
	char *reply;
};

static int
level_update_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct level_update *lu = arg;
	const char *params[NRULES + 2];
	PGresult *before = NULL, *res = NULL, *after = NULL;
	int rc = -1;

	params[0] = lu->id;
	before = db_exec(conn, &q_level_lock, params, err);
	if (before == NULL)
		goto out;
	if (PQntuples(before) != 1) {
		cterr_set(err, 404, "not_found", NULL, "there is no level %s",
		    lu->id);
		goto out;
	}
	for (size_t i = 0; i <= NRULES; i++)
		params[i + 1] = lu->values[i];
	res = db_exec(conn, &q_level_update, params, err);
	if (res == NULL)
		goto out;
	after = db_exec(conn, &q_level, params, err);
	if (after == NULL)
		goto out;
	if (api_audit(conn, lu->req, "level.update", "level", lu->id,
	    PQgetvalue(before, 0, 0), PQgetvalue(after, 0, 0), err) != 0)
		goto out;
	free(lu->reply);
	lu->reply = strdup(PQgetvalue(after, 0, 0));
	if (lu->reply == NULL) {
		cterr_set(err, 500, "internal", NULL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	PQclear(before);
	PQclear(res);
	PQclear(after);
	return rc;
}

int
api_levels_update(struct request *req)
{
	static const struct field fields[] = {
		{ "written_pass_mark", FT_NUMBER, false, false },
		{ "practical_pass_mark", FT_NUMBER, false, false },
		{ "max_attempts", FT_INT, false, false },
		{ "retake_wait_days", FT_INT, false, false },
		{ "contact_hours", FT_NUMBER, false, false },
		{ "title", FT_STRING, false, false },
	};
	char idbuf[24], num[NRULES][32];
	struct level_update lu;
	long long id;
	bool any = false;
	int rc;

	if (api_path_id(req, "id", "level", &id, idbuf) != 0)
		return -1;
	if (api_fields(req->json, fields, sizeof(fields) / sizeof(fields[0]),
	    &req->err) != 0)
		return -1;
	memset(&lu, 0, sizeof(lu));
	lu.req = req;
	lu.id = idbuf;
	for (size_t i = 0; i < NRULES; i++) {
		const struct level_rule *r = &level_rules[i];
		json_t *v = json_object_get(req->json, r->name);

		if (v == NULL)
			continue;
		/* api_fields() has made it a number (>= 0) or an integer */
		double d = json_number_value(v);
		if (d < r->min || d > r->max)
			return cterr_set(&req->err, 422, "out_of_range",
			    r->name, "the field '%s' must be between %g and "
			    "%g (%s)", r->name, r->min, r->max, r->unit);
		lu.values[i] = api_text(req->json, r->name, num[i],
		    sizeof(num[i]));
		any = true;
	}
	lu.values[NRULES] = api_text(req->json, "title", NULL, 0);
	/* api_fields() has held the title to its length (value_text()) */
	if (lu.values[NRULES] != NULL)
		any = true;
	if (!any)
		return cterr_set(&req->err, 422, "nothing_to_change", NULL,
		    "give at least one of written_pass_mark, "
		    "practical_pass_mark, max_attempts, retake_wait_days, "
		    "contact_hours, title");
	if (db_tx(level_update_tx, &lu, &req->err) != 0) {
		free(lu.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 200, lu.reply);
	free(lu.reply);
	return rc;
}

/* ---- eligibility ----------------------------------------------------- */

/*
 * Resolves $1 (a profession code or alias, any case) with
 * profession_lookup() and $2 (a program code, or NULL for the only
 * program); answers how many of each matched, the known codes of each for
 * the refusals, and the answer itself.
 */
static const struct db_stmt q_eligibility = {
	"programs_eligibility",
	"WITH p AS ("
	"  SELECT pr.code, pr.name FROM professions pr"
	"   WHERE pr.code = profession_lookup($1)"
	"), g AS ("
	"  SELECT id, code FROM programs"
	"   WHERE $2::text IS NULL OR code = upper(btrim($2))"
	") SELECT (SELECT count(*) FROM p), (SELECT count(*) FROM g),"
	"  (SELECT string_agg(code, ', ' ORDER BY code) FROM professions),"
	"  (SELECT string_agg(code, ', ' ORDER BY code) FROM programs),"
	"  (SELECT json_build_object("
	"     'profession', json_build_object('code', p.code, 'name', p.name),"
	"     'program', g.code,"
	"     'eligible', profession_eligible(g.id, p.code),"
	"     'eligible_professions', coalesce((SELECT json_agg("
	"        pp.profession_code ORDER BY pp.profession_code)"
	"        FROM program_professions pp WHERE pp.program_id = g.id),"
	"        '[]'::json))::text"
	"   FROM p, g LIMIT 1)",
	2,
};

int
api_eligibility(struct request *req)
{
	const char *params[2];
	PGconn *conn;
	PGresult *res;
	int rc = -1;

	params[0] = http_query(req, "profession");
	params[1] = http_query(req, "program");
	if (params[0] == NULL || params[0][0] == '\0')
		return cterr_set(&req->err, 400, "missing_parameter",
		    "profession", "give the profession to check: "
		    "?profession=CODE or a name such as 'Physical Therapist'");
	if (params[1] != NULL && params[1][0] == '\0')
		params[1] = NULL;
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	res = db_exec(conn, &q_eligibility, params, &req->err);
	if (res == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "0") == 0)
		cterr_set(&req->err, 404, "unknown_profession", "profession",
		    "unknown profession '%.100s' (known: %s)", quotable(params[0]),
		    PQgetvalue(res, 0, 2));
	else if (strcmp(PQgetvalue(res, 0, 1), "0") == 0)
		cterr_set(&req->err, 404, "unknown_program", "program",
		    "unknown program '%.100s' (known: %s)",
		    params[1] ? quotable(params[1]) : "", PQgetvalue(res, 0, 3));
	else if (strcmp(PQgetvalue(res, 0, 1), "1") != 0)
		cterr_set(&req->err, 400, "missing_parameter", "program",
		    "there are several programs: give ?program=CODE (one of "
		    "%s)", PQgetvalue(res, 0, 3));
	else
		rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 4));
	PQclear(res);
	return rc;
}
