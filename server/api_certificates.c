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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/certnum.h"
#include "certrack/db.h"

/* The most of a reason that is kept. */
#define REASON_MAX 500

/* The answer anyone may see; revoked_on and revocation_reason only when
 * revoked.  certificate_status_on() is the one definition of "expired". */
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
	"  'revocation_reason', c.revocation_reason) ELSE '{}' END)::text"
	" FROM certificates c"
	" JOIN clinicians cl ON cl.id = c.clinician_id"
	" JOIN levels l ON l.id = c.level_id"
	" JOIN programs g ON g.id = l.program_id"
	" WHERE c.number = $1",
	1,
};

static const struct db_stmt q_lock = {
	"certificates_lock",
	"SELECT c.id, c.revoked_at IS NOT NULL, c.revoked_at::date,"
	" coalesce(c.revocation_reason, ''), to_jsonb(c)::text"
	" FROM certificates c WHERE c.number = $1 FOR UPDATE",
	1,
};

/* Revokes and answers with the staff view of the certificate; the first
 * column is the row after, for the audit log. */
static const struct db_stmt q_revoke = {
	"certificates_revoke",
	"WITH u AS ("
	"  UPDATE certificates SET revoked_at = now(), revoked_by = $2,"
	"         revocation_reason = btrim($3)"
	"   WHERE id = $1 RETURNING *"
	") SELECT to_jsonb(u)::text, json_build_object("
	"  'id', u.id,"
	"  'number', u.number,"
	"  'status', certificate_status_on(u.revoked_at, u.expires_on,"
	"            current_date),"
	"  'clinician_id', u.clinician_id,"
	"  'holder', cl.given_name || ' ' || cl.family_name,"
	"  'level_id', u.level_id,"
	"  'level_code', l.code,"
	"  'level', l.title,"
	"  'program_code', g.code,"
	"  'program', g.name,"
	"  'issued_on', u.issued_on,"
	"  'expires_on', u.expires_on,"
	"  'revoked_on', u.revoked_at::date,"
	"  'revoked_at', u.revoked_at,"
	"  'revoked_by', u.revoked_by,"
	"  'revocation_reason', u.revocation_reason)::text"
	" FROM u"
	" JOIN clinicians cl ON cl.id = u.clinician_id"
	" JOIN levels l ON l.id = u.level_id"
	" JOIN programs g ON g.id = l.program_id",
	3,
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

/*
 * The canonical form of the path's {number} into OUT, or -1 with ERR 422
 * invalid_certificate_number when it is not twelve Crockford symbols or
 * its check symbol is wrong.
 */
static int
path_number(struct request *req, char *out)
{
	const char *typed = router_param(&req->params, "number");

	switch (certnum_normalize(typed, out)) {
	case CERTNUM_OK:
		return 0;
	case CERTNUM_BAD_CHECK:
		return cterr_set(&req->err, 422, "invalid_certificate_number",
		    "number", "'%s' is not a valid certificate number (check "
		    "the digits)", out);
	case CERTNUM_MALFORMED:
		break;
	}
	if (typed != NULL && quotable(typed))
		return cterr_set(&req->err, 422, "invalid_certificate_number",
		    "number", "'%s' is not a valid certificate number (twelve "
		    "letters and digits, written XXXX-XXXX-XXXX)", typed);
	return cterr_set(&req->err, 422, "invalid_certificate_number",
	    "number", "that is not a valid certificate number (twelve letters "
	    "and digits, written XXXX-XXXX-XXXX)");
}

int
api_certificates_verify(struct request *req)
{
	char number[CERTNUM_LEN + 1];
	const char *params[1] = { number };
	PGconn *conn;
	PGresult *res;
	int rc;

	if (path_number(req, number) != 0)
		return -1;
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	res = db_exec(conn, &q_verify, params, &req->err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cterr_set(&req->err, 404, "unknown_certificate",
		    "number", "there is no certificate '%s'", number);
	}
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

struct revoke {
	struct request *req;
	const char *number;
	const char *reason;
	char *reply;		/* the answer, malloc'd */
};

static int
revoke_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct revoke *rv = arg;
	char actor[24];
	const char *params[3];
	PGresult *old = NULL, *res = NULL;
	int rc = -1;

	params[0] = rv->number;
	old = db_exec(conn, &q_lock, params, err);
	if (old == NULL)
		goto out;
	if (PQntuples(old) != 1) {
		cterr_set(err, 404, "unknown_certificate", "number",
		    "there is no certificate '%s'", rv->number);
		goto out;
	}
	if (strcmp(PQgetvalue(old, 0, 1), "t") == 0) {
		cterr_set(err, 409, "already_revoked", "number",
		    "certificate '%s' was already revoked on %s: %s",
		    rv->number, PQgetvalue(old, 0, 2), PQgetvalue(old, 0, 3));
		goto out;
	}
	snprintf(actor, sizeof(actor), "%lld", rv->req->who.user_id);
	params[0] = PQgetvalue(old, 0, 0);
	params[1] = actor;
	params[2] = rv->reason;
	res = db_exec(conn, &q_revoke, params, err);
	if (res == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		cterr_set(err, 500, "internal", NULL,
		    "the certificate vanished while being revoked");
		goto out;
	}
	if (api_audit(conn, rv->req, "certificate.revoke", "certificate",
	    PQgetvalue(old, 0, 0), PQgetvalue(old, 0, 4),
	    PQgetvalue(res, 0, 0), err) != 0)
		goto out;
	free(rv->reply);
	rv->reply = strdup(PQgetvalue(res, 0, 1));
	if (rv->reply == NULL) {
		cterr_set(err, 500, "internal", NULL, "out of memory");
		goto out;
	}
	rc = 0;
out:
	PQclear(old);
	PQclear(res);
	return rc;
}

int
api_certificates_revoke(struct request *req)
{
	static const struct field fields[] = {
		{ "reason", FT_STRING, true, false },
	};
	char number[CERTNUM_LEN + 1];
	struct revoke rv;
	int rc;

	if (path_number(req, number) != 0)
		return -1;
	if (api_fields(req->json, fields, 1, &req->err) != 0)
		return -1;
	memset(&rv, 0, sizeof(rv));
	rv.req = req;
	rv.number = number;
	rv.reason = json_string_value(json_object_get(req->json, "reason"));
	if (strlen(rv.reason) > REASON_MAX)
		return cterr_set(&req->err, 422, "too_long", "reason",
		    "the field 'reason' may have at most %d characters",
		    REASON_MAX);
	if (db_tx(revoke_tx, &rv, &req->err) != 0) {
		free(rv.reply);
		return -1;
	}
	rc = api_reply_db_json(req, 200, rv.reply);
	free(rv.reply);
	return rc;
}
