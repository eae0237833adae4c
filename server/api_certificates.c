/*
 * Certificates: public verification (no login) and revocation (admin).
 *
 * A typed number is normalised and its check symbol verified in C
 * (certnum.c) before any lookup, so a mistyped number answers "not a valid
 * certificate number" without touching the database.  Verification tells
 * no more than the holder's name, the level, the dates and the validity:
 * the reply is built from an explicit key list, never from a row.
 */
#include "certrack/api.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/cache.h"
#include "certrack/certnum.h"
#include "certrack/db.h"
#include "certrack/strnum.h"

/* The answer anyone may see; revoked_on and the public
 * revocation_category only when revoked, never the staff note.
 * certificate_status_on() is the one definition of "expired".  The
 * holder's id, second, is for the cache only. */
static const struct db_stmt q_verify = {
	"certificates_verify",
	"SELECT (jsonb_build_object("
	"  'number', c.number,"
	"  'status', certificate_status_on(c.revoked_at, c.expires_on,"
	"            current_date),"
	"  'holder', cl.given_name || ' ' || cl.family_name,"
	"  'level', l.title,"
	"  'program', g.name,"
	"  'issued_on', c.issued_on,"
	"  'expires_on', c.expires_on)"
	" || CASE WHEN c.revoked_at IS NOT NULL THEN jsonb_build_object("
	"  'revoked_on', c.revoked_at::date,"
	"  'revocation_category', c.revocation_category) ELSE '{}' END)::text,"
	" c.clinician_id"
	" FROM certificates c"
	" JOIN clinicians cl ON cl.id = c.clinician_id"
	" JOIN levels l ON l.id = c.level_id"
	" JOIN programs g ON g.id = l.program_id"
	" WHERE c.number = $1",
	1,
};

static const struct db_stmt q_revoke = {
	"certificates_revoke",
	"SELECT * FROM certificate_revoke($1, $2, $3)",
	3,
};

/* The staff view of certificate $1, after its revocation. */
static const struct db_stmt q_revoked = {
	"certificates_revoked",
	"SELECT json_build_object("
	"  'id', c.id,"
	"  'number', c.number,"
	"  'status', certificate_status_on(c.revoked_at, c.expires_on,"
	"            current_date),"
	"  'clinician_id', c.clinician_id,"
	"  'holder', cl.given_name || ' ' || cl.family_name,"
	"  'level_id', c.level_id,"
	"  'level_code', l.code,"
	"  'level', l.title,"
	"  'program_code', g.code,"
	"  'program', g.name,"
	"  'issued_on', c.issued_on,"
	"  'expires_on', c.expires_on,"
	"  'revoked_on', c.revoked_at::date,"
	"  'revoked_at', c.revoked_at,"
	"  'revoked_by', c.revoked_by,"
	"  'revocation_category', c.revocation_category,"
	"  'revocation_note', c.revocation_reason)::text"
	" FROM certificates c"
	" JOIN clinicians cl ON cl.id = c.clinician_id"
	" JOIN levels l ON l.id = c.level_id"
	" JOIN programs g ON g.id = l.program_id"
	" WHERE c.id = $1",
	1,
};

/* True when S is short printable ASCII, safe to quote back in a message. */
static bool
quotable(const char *s)
{
	size_t n = 0;

	for (; *s; s++, n++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return n <= 40;
}

int
api_certificate_number(const char *typed, char *out, struct cterr *err)
{
	switch (certnum_normalize(typed, out)) {
	case CERTNUM_OK:
		return 0;
	case CERTNUM_BAD_CHECK:
		return cterr_set(err, 422, "invalid_certificate_number",
		    "number", "'%s' is not a valid certificate number (check "
		    "the digits)", out);
	case CERTNUM_MALFORMED:
		break;
	}
	if (typed != NULL && quotable(typed))
		return cterr_set(err, 422, "invalid_certificate_number",
		    "number", "'%s' is not a valid certificate number (twelve "
		    "letters and digits, written XXXX-XXXX-XXXX)", typed);
	return cterr_set(err, 422, "invalid_certificate_number",
	    "number", "that is not a valid certificate number (twelve letters "
	    "and digits, written XXXX-XXXX-XXXX)");
}

/* The path's {number} in its canonical form into OUT, or -1 with 422. */
static int
path_number(struct request *req, char *out)
{
	return api_certificate_number(router_param(&req->params, "number"),
	    out, &req->err);
}

/*
 * The verification answer of NUMBER, from the lookup cache (cache.c: kept
 * true by the database's notifications) or the database; the page and the
 * API both read it here.
 */
int
api_certificate_lookup(const char *number, double since, char **json,
    struct cterr *err)
{
	const char *params[1] = { number };
	long long holder = 0;
	unsigned long epoch;
	PGconn *conn;
	PGresult *res;

	if ((*json = cache_get(CACHE_VERIFY, number, since)) != NULL)
		return 0;
	epoch = cache_epoch();
	conn = db_conn(err);
	if (conn == NULL)
		return -1;
	res = db_exec(conn, &q_verify, params, err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		/* the holder's id, second, tags the cached answer */
		if (strnum_ll(PQgetvalue(res, 0, 1), 1, INT64_MAX, &holder,
		    NULL) == 0)
			cache_put(CACHE_VERIFY, number, holder,
			    PQgetvalue(res, 0, 0), epoch);
		if ((*json = strdup(PQgetvalue(res, 0, 0))) == NULL) {
			PQclear(res);
			return cterr_set(err, 500, "internal", NULL,
			    "out of memory");
		}
	}
	PQclear(res);
	return 0;
}

int
api_certificates_verify(struct request *req)
{
	char number[CERTNUM_LEN + 1];
	char *json;
	int rc;

	if (path_number(req, number) != 0 ||
	    api_certificate_lookup(number, req->start, &json, &req->err) != 0)
		return -1;
	if (json == NULL)
		return cterr_set(&req->err, 404, "unknown_certificate",
		    "number", "there is no certificate '%s'", number);
	rc = api_reply_db_json(req, 200, json);
	free(json);
	return rc;
}

struct revoke {
	struct request *req;
	const char *number, *category, *note;
	char *reply;		/* the answer, malloc'd */
};

static int
revoke_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct revoke *rv = arg;
	const char *params[3] = { rv->number, rv->category, rv->note };
	struct verdict v;

	if (api_write_context(conn, rv->req, err) != 0 ||
	    api_write(conn, &q_revoke, params, &v, err) != 0)
		return -1;
	params[0] = v.id;
	return api_text_of(conn, &q_revoked, params, &rv->reply, err);
}

int
api_certificates_revoke(struct request *req)
{
	static const struct field fields[] = {
		{ "category", FT_STRING, true, false },
		{ "note", FT_STRING, true, false },
	};
	char number[CERTNUM_LEN + 1];
	struct revoke rv = { .req = req, .number = number };
	int rc;

	if (path_number(req, number) != 0)
		return -1;
	if (api_fields(req->json, fields, 2, &req->err) != 0)
		return -1;
	rv.category = json_string_value(json_object_get(req->json,
	    "category"));
	/* the note's length is the shared reader's (lib/value.c) */
	rv.note = json_string_value(json_object_get(req->json, "note"));
	if (db_tx(revoke_tx, &rv, &req->err) != 0) {
		free(rv.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 200, rv.reply);
	free(rv.reply);
	return rc;
}
