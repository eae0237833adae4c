/*
 * Clinicians: create, read, search, update.  Updates use optimistic
 * concurrency: the client names the version it read (If-Match: "N" or a
 * "version" field) and a stale write is refused, never silently lost.
 */
#include "certrack/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/value.h"
#include "certrack/db.h"
#include "certrack/npi.h"
#include "certrack/strnum.h"

/* The one JSON shape of a clinician, built by the database. */
#define CLINICIAN_JSON(c) \
	"json_build_object('id', " c ".id, 'npi', " c ".npi, 'email', " \
	c ".email, 'given_name', " c ".given_name, 'family_name', " \
	c ".family_name, 'profession', " c ".profession_code, " \
	"'license_state', " c ".license_state, 'license_number', " \
	c ".license_number, 'version', " c ".version, 'created_at', " \
	c ".created_at, 'updated_at', " c ".updated_at, 'directory', " \
	"json_build_object('listed', " c ".directory_listed, 'city', " \
	c ".practice_city, 'state', " c ".practice_state, 'zip', " \
	c ".practice_zip, 'contact', " c ".public_contact))"

static const struct field clinician_fields[] = {
	{ "npi", FT_STRING, false, true },
	{ "email", FT_STRING, true, false },
	{ "given_name", FT_STRING, true, false },
	{ "family_name", FT_STRING, true, false },
	{ "profession", FT_STRING, true, false },
	{ "license_state", FT_STATE, false, true },
	{ "license_number", FT_STRING, false, true },
	{ "version", FT_ID, false, false },
};
#define NFIELDS (sizeof(clinician_fields) / sizeof(clinician_fields[0]))

/* The pure checks C can make before the database sees anything. */
static int
check_values(const json_t *body, struct cterr *err)
{
	const char *npi = api_text(body, "npi", NULL, 0);
	const char *email = api_text(body, "email", NULL, 0);
	struct value_err ve;

	if (npi != NULL && !npi_valid(npi))
		return cterr_set(err, 422, "invalid_npi", "npi",
		    "'%s' is not a valid NPI (ten digits with a correct check "
		    "digit)", npi);
	if (email != NULL && value_email(email, &ve) != 0)
		return cterr_set(err, 422, ve.code, "email", "%s", ve.detail);
	const char *zip = api_text(body, "practice_zip", NULL, 0);
	if (zip != NULL && value_zip(zip, &ve) != 0)
		return cterr_set(err, 422, ve.code, "practice_zip", "%s",
		    ve.detail);
	return 0;
}

/* The directory's fields: a clinician's own (PATCH /v1/me/directory) or
 * an admin's (PATCH /v1/clinicians/{id}); null clears a place or contact. */
#define DIRECTORY_FIELDS \
	{ "directory_listed", FT_BOOL, false, false }, \
	{ "practice_city", FT_STRING, false, true }, \
	{ "practice_state", FT_STATE, false, true }, \
	{ "practice_zip", FT_STRING, false, true }, \
	{ "public_contact", FT_STRING, false, true }

static const struct db_stmt q_directory = {
	"clinicians_directory",
	"UPDATE clinicians SET"
	"  directory_listed = coalesce($2::boolean, directory_listed),"
	"  practice_city = CASE WHEN $3::boolean THEN btrim($4)"
	"                  ELSE practice_city END,"
	"  practice_state = CASE WHEN $5::boolean THEN $6 ELSE practice_state END,"
	"  practice_zip = CASE WHEN $7::boolean THEN $8 ELSE practice_zip END,"
	"  public_contact = CASE WHEN $9::boolean THEN btrim($10)"
	"                   ELSE public_contact END"
	" WHERE id = $1",
	10,
};

/* Writes the directory fields BODY holds to clinician ID (none: nothing
 * is run), inside the caller's transaction. */
static int
directory_write(PGconn *conn, const char *id, const json_t *b,
    struct cterr *err)
{
	static const char *const names[] = { "practice_city",
	    "practice_state", "practice_zip", "public_contact" };
	const char *params[10];
	bool any = api_has(b, "directory_listed");
	PGresult *res;

	params[0] = id;
	params[1] = api_text(b, "directory_listed", NULL, 0);
	for (int i = 0; i < 4; i++) {
		any = any || api_has(b, names[i]);
		params[2 + 2 * i] = api_has(b, names[i]) ? "true" : "false";
		params[3 + 2 * i] = api_text(b, names[i], NULL, 0);
	}
	if (!any)
		return 0;
	if ((res = db_exec(conn, &q_directory, params, err)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* Makes a database refusal of a clinician write say which field. */
static void
explain(struct cterr *err, const json_t *body)
{
	if (strcmp(err->code, "duplicate") == 0) {
		if (strstr(err->field, "npi") != NULL)
			cterr_set(err, 409, "duplicate", "npi", "a clinician "
			    "with NPI %s exists already",
			    api_text(body, "npi", NULL, 0));
		else if (strstr(err->field, "email") != NULL)
			cterr_set(err, 409, "duplicate", "email", "a clinician "
			    "with email '%s' exists already",
			    api_text(body, "email", NULL, 0));
	} else if (strcmp(err->sqlstate, "23503") == 0) {
		cterr_set(err, 422, "unknown_profession", "profession",
		    "'%s' is not a known profession (see GET /v1/professions)",
		    api_text(body, "profession", NULL, 0));
	}
}

static const struct db_stmt q_create = {
	"clinicians_create",
	"WITH c AS ("
	"  INSERT INTO clinicians (npi, email, given_name, family_name,"
	"   profession_code, license_state, license_number)"
	"  VALUES ($1, btrim($2), btrim($3), btrim($4),"
	"   coalesce(profession_lookup($5), $5), $6, $7)"
	"  RETURNING *"
	") SELECT c.id, " CLINICIAN_JSON("c") "::text FROM c",
	7,
};

struct write {
	struct request *req;
	char id[24];
	long long version;	/* for updates: the version the client read */
	char *reply;
	const char *action;	/* for updates: the audit's action */
};

static int
create_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct write *w = arg;
	const json_t *b = w->req->json;
	const char *params[7];
	PGresult *res;
	int rc;

	params[0] = api_text(b, "npi", NULL, 0);
	params[1] = api_text(b, "email", NULL, 0);
	params[2] = api_text(b, "given_name", NULL, 0);
	params[3] = api_text(b, "family_name", NULL, 0);
	params[4] = api_text(b, "profession", NULL, 0);
	params[5] = api_text(b, "license_state", NULL, 0);
	params[6] = api_text(b, "license_number", NULL, 0);
	res = db_exec(conn, &q_create, params, err);
	if (res == NULL) {
		explain(err, b);
		return -1;
	}
	snprintf(w->id, sizeof(w->id), "%s", PQgetvalue(res, 0, 0));
	w->reply = strdup(PQgetvalue(res, 0, 1));
	rc = api_audit(conn, w->req, "clinician.create", "clinician", w->id,
	    NULL, w->reply, err);
	PQclear(res);
	return rc;
}

int
api_clinicians_create(struct request *req)
{
	struct write w = { req, "", 0, NULL, NULL };
	char location[64];
	int rc;

	if (api_fields(req->json, clinician_fields, NFIELDS - 1,
	    &req->err) != 0 || api_has(req->json, "version"))
		return cterr_isset(&req->err) ? -1 : cterr_set(&req->err, 400,
		    "unknown_field", "version", "a new clinician has no "
		    "version yet");
	if (check_values(req->json, &req->err) != 0 ||
	    db_tx(create_tx, &w, &req->err) != 0) {
		free(w.reply);
		return -1;
	}
	snprintf(location, sizeof(location), "/v1/clinicians/%s", w.id);
	http_add_header(req, "Location", location);
	http_add_header(req, "ETag", "\"1\"");
	rc = api_reply_db_json(req, 201, w.reply);
	free(w.reply);
	return rc;
}

static const struct db_stmt q_get = {
	"clinicians_get",
	"SELECT c.version, " CLINICIAN_JSON("c") "::text FROM clinicians c "
	"WHERE c.id = $1",
	1,
};

int
api_clinicians_get(struct request *req)
{
	char id[24], etag[32];
	const char *params[1] = { id };
	long long n;
	PGconn *conn;
	PGresult *res;
	int rc;

	if (api_path_id(req, "id", "clinician", &n, id) != 0 ||
	    api_may_see_clinician(req, n) != 0)
		return -1;
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_get, params, &req->err)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(&req->err, 404, "not_found", NULL,
		    "there is no clinician %s", id);
	}
	snprintf(etag, sizeof(etag), "\"%s\"", PQgetvalue(res, 0, 0));
	http_add_header(req, "ETag", etag);
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

/*
 * Search by any of q (name, email or NPI prefix), email, npi, profession
 * (a code or any alias, read once by profession_lookup() as every write
 * reads it); newest first would surprise people looking for a name, so:
 * family, given, id.  The first column says whether a profession asked
 * for is known.
 */
static const struct db_stmt q_list = {
	"clinicians_list",
	"WITH p AS (SELECT profession_lookup($4) AS code),"
	" m AS ("
	"  SELECT c.* FROM clinicians c, p"
	"   WHERE ($1::text IS NULL"
	"          OR lower(c.family_name) LIKE lower($1) || '%'"
	"          OR lower(c.given_name) LIKE lower($1) || '%'"
	"          OR lower(c.given_name || ' ' || c.family_name)"
	"             LIKE lower($1) || '%'"
	"          OR lower(c.email) = lower($1) OR c.npi = $1)"
	"     AND ($2::text IS NULL OR lower(c.email) = lower($2))"
	"     AND ($3::text IS NULL OR c.npi = $3)"
	"     AND ($4::text IS NULL OR c.profession_code = p.code)"
	") SELECT $4::text IS NULL OR (SELECT code FROM p) IS NOT NULL,"
	"  json_build_object("
	"  'total', (SELECT count(*) FROM m),"
	"  'limit', $5::int, 'offset', $6::bigint,"
	"  'items', coalesce((SELECT json_agg(" CLINICIAN_JSON("p")
	"   ORDER BY lower(p.family_name), lower(p.given_name), p.id)"
	"   FROM (SELECT * FROM m ORDER BY lower(family_name),"
	"         lower(given_name), id LIMIT $5 OFFSET $6) p), '[]'))::text",
	6,
};

int
api_clinicians_list(struct request *req)
{
	char limit_s[24], offset_s[24];
	const char *params[6];
	long long limit, offset;
	PGconn *conn;
	PGresult *res;
	int rc;

	if (api_query_int(req, "limit", 1, 500, 50, &limit, &req->err) != 0 ||
	    api_query_int(req, "offset", 0, INT64_MAX / 2, 0, &offset,
	    &req->err) != 0)
		return -1;
	/* A '%' or '_' typed by a person is a character, not a pattern. */
	const char *q = http_query(req, "q");
	if (q != NULL && (strpbrk(q, "%_\\") != NULL || *q == '\0'))
		return cterr_set(&req->err, 400, "invalid_parameter", "q",
		    "the search text may not be empty or contain %%, _ or \\");
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);
	snprintf(offset_s, sizeof(offset_s), "%lld", offset);
	params[0] = q;
	params[1] = http_query(req, "email");
	params[2] = http_query(req, "npi");
	params[3] = http_query(req, "profession");
	params[4] = limit_s;
	params[5] = offset_s;
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_list, params, &req->err)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		rc = cterr_set(&req->err, 422, "unknown_profession",
		    "profession", "'%s' is not a known profession (see GET "
		    "/v1/professions)", params[3]);
	else
		rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

/* The row as it is, locked for the update. */
static const struct db_stmt q_lock = {
	"clinicians_lock",
	"SELECT c.version, " CLINICIAN_JSON("c") "::text FROM clinicians c "
	"WHERE c.id = $1 FOR UPDATE",
	1,
};

/* Each field: $n::text IS NULL keeps it, '' (sent as JSON null) clears
 * it; only optional fields may be cleared. */
static const struct db_stmt q_update = {
	"clinicians_update",
	"WITH c AS ("
	"  UPDATE clinicians SET"
	"   npi = CASE WHEN $2::boolean THEN $3 ELSE npi END,"
	"   email = coalesce(btrim($4), email),"
	"   given_name = coalesce(btrim($5), given_name),"
	"   family_name = coalesce(btrim($6), family_name),"
	"   profession_code = coalesce(coalesce(profession_lookup($7), $7),"
	"                              profession_code),"
	"   license_state = CASE WHEN $8::boolean THEN $9 ELSE license_state END,"
	"   license_number = CASE WHEN $10::boolean THEN $11"
	"                    ELSE license_number END,"
	"   version = version + 1, updated_at = now()"
	"  WHERE id = $1 RETURNING *"
	") SELECT c.version, " CLINICIAN_JSON("c") "::text FROM c",
	11,
};

static int
update_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct write *w = arg;
	const json_t *b = w->req->json;
	const char *params[11];
	char *before;
	PGresult *res;
	long long current;
	int rc;

	params[0] = w->id;
	res = db_exec(conn, &q_lock, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL,
		    "there is no clinician %s", w->id);
	}
	strnum_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, &current, NULL);
	if (w->version != 0 && current != w->version) {
		PQclear(res);
		return cterr_set(err, 412, "version_mismatch", "version",
		    "clinician %s was changed by someone else since version "
		    "%lld (it is at version %lld now): read it again and "
		    "retry", w->id, w->version, current);
	}
	before = strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	if (directory_write(conn, w->id, b, err) != 0) {
		free(before);
		return -1;
	}
	params[1] = api_has(b, "npi") ? "true" : "false";
	params[2] = api_text(b, "npi", NULL, 0);
	params[3] = api_text(b, "email", NULL, 0);
	params[4] = api_text(b, "given_name", NULL, 0);
	params[5] = api_text(b, "family_name", NULL, 0);
	params[6] = api_text(b, "profession", NULL, 0);
	params[7] = api_has(b, "license_state") ? "true" : "false";
	params[8] = api_text(b, "license_state", NULL, 0);
	params[9] = api_has(b, "license_number") ? "true" : "false";
	params[10] = api_text(b, "license_number", NULL, 0);
	res = db_exec(conn, &q_update, params, err);
	if (res == NULL) {
		explain(err, b);
		free(before);
		return -1;
	}
	w->version = current + 1;
	w->reply = strdup(PQgetvalue(res, 0, 1));
	rc = api_audit(conn, w->req, w->action, "clinician", w->id,
	    before, w->reply, err);
	PQclear(res);
	free(before);
	return rc;
}

int
api_clinicians_update(struct request *req)
{
	static const struct field fields[] = {
		{ "npi", FT_STRING, false, true },
		{ "email", FT_STRING, false, false },
		{ "given_name", FT_STRING, false, false },
		{ "family_name", FT_STRING, false, false },
		{ "profession", FT_STRING, false, false },
		{ "license_state", FT_STATE, false, true },
		{ "license_number", FT_STRING, false, true },
		{ "version", FT_ID, false, false },
		DIRECTORY_FIELDS,
	};
	struct write w = { req, "", 0, NULL, "clinician.update" };
	const char *ifmatch = http_header(req, "If-Match");
	char etag[32];
	long long n;
	int rc;

	if (api_path_id(req, "id", "clinician", &n, w.id) != 0 ||
	    api_fields(req->json, fields, sizeof(fields) / sizeof(fields[0]),
	    &req->err) != 0 ||
	    check_values(req->json, &req->err) != 0)
		return -1;
	if (req->json == NULL || json_object_size(req->json) == 0)
		return cterr_set(&req->err, 400, "missing_body", NULL,
		    "say what to change: a JSON object with the fields to "
		    "update");
	if (ifmatch != NULL) {
		char digits[24];
		size_t len = strlen(ifmatch);
		if (ifmatch[0] == 'W' && ifmatch[1] == '/')
			ifmatch += 2, len -= 2;
		if (len < 3 || len > 22 || ifmatch[0] != '"' ||
		    ifmatch[len - 1] != '"')
			return cterr_set(&req->err, 400, "invalid_header",
			    "If-Match", "If-Match must be an ETag such as "
			    "\"3\"");
		memcpy(digits, ifmatch + 1, len - 2);
		digits[len - 2] = '\0';
		if (strnum_ll(digits, 1, INT64_MAX, &w.version, NULL) != 0)
			return cterr_set(&req->err, 400, "invalid_header",
			    "If-Match", "If-Match must be an ETag such as "
			    "\"3\"");
	}
	if (api_has(req->json, "version")) {
		long long v = json_integer_value(json_object_get(req->json,
		    "version"));
		if (w.version != 0 && v != w.version)
			return cterr_set(&req->err, 400, "invalid_header",
			    "version", "If-Match and version disagree");
		w.version = v;
	}
	if (w.version == 0)
		return cterr_set(&req->err, 428, "version_required", "version",
		    "say which version you are changing (If-Match: \"N\" or "
		    "a \"version\" field), so no one's change is lost");
	/* The version field is a precondition, not something to store. */
	json_object_del(req->json, "version");
	if (db_tx(update_tx, &w, &req->err) != 0) {
		free(w.reply);
		return -1;
	}
	snprintf(etag, sizeof(etag), "\"%lld\"", w.version);
	http_add_header(req, "ETag", etag);
	rc = api_reply_db_json(req, 200, w.reply);
	free(w.reply);
	return rc;
}

/*
 * PATCH /v1/me/directory: a clinician account lists itself in the
 * directory (or not) and sets its practice place and public contact; the
 * same write as an admin's, on its own record, with no version asked (no
 * one else edits these fields but an admin, and the audit keeps both).
 */
int
api_me_directory(struct request *req)
{
	char *reply = NULL;
	int rc;

	if (api_directory_set(req, &reply) != 0)
		return -1;
	rc = api_reply_db_json(req, 200, reply);
	free(reply);
	return rc;
}

int
api_directory_set(struct request *req, char **reply)
{
	static const struct field fields[] = { DIRECTORY_FIELDS };
	json_t *body = req->json;
	struct write w = { req, "", 0, NULL, "clinician.directory" };

	if (req->who.clinician_id <= 0)
		return cterr_set(&req->err, 403, "forbidden", NULL, "only a "
		    "clinician account has a directory listing");
	if (api_fields(body, fields, sizeof(fields) / sizeof(fields[0]),
	    &req->err) != 0 || check_values(body, &req->err) != 0)
		return -1;
	if (body == NULL || json_object_size(body) == 0)
		return cterr_set(&req->err, 400, "missing_body", NULL,
		    "say what to change: a JSON object with the directory "
		    "fields to set");
	snprintf(w.id, sizeof(w.id), "%lld", req->who.clinician_id);
	if (db_tx(update_tx, &w, &req->err) != 0) {
		free(w.reply);
		return -1;
	}
	*reply = w.reply;
	return 0;
}
