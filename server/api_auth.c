/*
 * Logging in and out, and who is calling: bearer tokens of 256 random bits
 * of which only the SHA-256 is stored, checked on every request against an
 * enabled account, an unexpired and unrevoked token.
 */
#include "certrack/api.h"

#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "certrack/apiutil.h"
#include "certrack/auth.h"
#include "certrack/db.h"
#include "certrack/strnum.h"

static int token_ttl_hours = 12;

void
api_auth_init(int ttl_hours)
{
	token_ttl_hours = ttl_hours;
}

/* Who holds this token, and whether its last use is worth recording. */
static const struct db_stmt q_authenticate = {
	"auth_authenticate",
	"SELECT t.id, u.id, u.role, coalesce(u.clinician_id, 0), u.username,"
	"       t.last_used_at IS NULL"
	"        OR t.last_used_at < now() - interval '1 minute',"
	"       u.password_change_required"
	"  FROM api_tokens t JOIN users u ON u.id = t.user_id"
	" WHERE t.token_hash = $1::bytea AND t.revoked_at IS NULL"
	"   AND t.expires_at > now() AND NOT u.disabled",
	1,
};

static const struct db_stmt q_touch = {
	"auth_touch",
	"UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
	1,
};

/*
 * Records a token's use, at most once a minute.  Bookkeeping only: on a
 * read-only standby (SQLSTATE 25006), or if it fails for any reason, the
 * request goes on.
 */
static void
touch_token(PGconn *conn, const char *token_id)
{
	const char *params[1] = { token_id };
	struct cterr ignored;
	PGresult *res;

	cterr_clear(&ignored);
	res = db_exec(conn, &q_touch, params, &ignored);
	PQclear(res);
}

static unsigned
role_bit(const char *role)
{
	if (strcmp(role, "admin") == 0)
		return ROLE_ADMIN;
	if (strcmp(role, "grader") == 0)
		return ROLE_GRADER;
	if (strcmp(role, "clinician") == 0)
		return ROLE_CLINICIAN;
	return 0;
}

/* bytea in hex escape form, for a text parameter */
static void
bytea_hex(const unsigned char *b, size_t n, char *out, size_t outlen)
{
	out[0] = '\\';
	out[1] = 'x';
	sodium_bin2hex(out + 2, outlen - 2, b, n);
}

int
api_authenticate(struct request *req)
{
	const char *h = http_header(req, "Authorization");
	unsigned char hash[32];
	char hex[2 + 64 + 1];
	const char *params[1];
	PGconn *conn;
	PGresult *res;

	if (h == NULL)
		return 1;
	if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
		return cterr_set(&req->err, 401, "unauthenticated", NULL,
		    "the Authorization header must be 'Bearer TOKEN'");
	auth_token_hash(h + 7, hash);
	bytea_hex(hash, sizeof(hash), hex, sizeof(hex));
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	params[0] = hex;
	res = db_exec(conn, &q_authenticate, params, &req->err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cterr_set(&req->err, 401, "unauthenticated", NULL,
		    "the token is unknown, expired or revoked, or the account "
		    "is disabled: log in again");
	}
	strnum_ll(PQgetvalue(res, 0, 0), 1, INT64_MAX, &req->who.token_id,
	    NULL);
	strnum_ll(PQgetvalue(res, 0, 1), 1, INT64_MAX, &req->who.user_id,
	    NULL);
	req->who.role = role_bit(PQgetvalue(res, 0, 2));
	strnum_ll(PQgetvalue(res, 0, 3), 0, INT64_MAX,
	    &req->who.clinician_id, NULL);
	snprintf(req->who.username, sizeof(req->who.username), "%s",
	    PQgetvalue(res, 0, 4));
	req->who.password_change_required =
	    strcmp(PQgetvalue(res, 0, 6), "t") == 0;
	if (strcmp(PQgetvalue(res, 0, 5), "t") == 0)
		touch_token(conn, PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static const struct db_stmt q_user_by_name = {
	"auth_user_by_name",
	"SELECT id, password_hash, disabled, username FROM users "
	"WHERE lower(username) = lower($1)",
	1,
};

static const struct db_stmt q_new_token = {
	"auth_new_token",
	"WITH t AS ("
	"  INSERT INTO api_tokens (user_id, token_hash, expires_at)"
	"  VALUES ($1, $2::bytea, now() + make_interval(hours => $3::int))"
	"  RETURNING id, user_id, created_at, expires_at"
	") SELECT t.id, json_build_object('token', $4::text,"
	"  'expires_at', t.expires_at,"
	"  'password_change_required', u.password_change_required,"
	"  'user', json_build_object("
	"   'id', u.id, 'username', u.username, 'role', u.role,"
	"   'clinician_id', u.clinician_id))::text,"
	"  json_build_object('token_id', t.id, 'expires_at', t.expires_at)::text"
	"  FROM t JOIN users u ON u.id = t.user_id",
	4,
};

struct login {
	struct request *req;
	const char *user_id;
	char token[AUTH_TOKEN_LEN + 1];
	char *reply;
};

static int
login_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct login *l = arg;
	unsigned char hash[32];
	char hex[2 + 64 + 1], ttl[16];
	const char *params[4];
	PGresult *res;

	auth_new_token(l->token, hash);
	bytea_hex(hash, sizeof(hash), hex, sizeof(hex));
	snprintf(ttl, sizeof(ttl), "%d", token_ttl_hours);
	params[0] = l->user_id;
	params[1] = hex;
	params[2] = ttl;
	params[3] = l->token;
	res = db_exec(conn, &q_new_token, params, err);
	if (res == NULL)
		return -1;
	/* The audit row is the session's, never the token's text. */
	l->req->who.user_id = 0;
	strnum_ll(l->user_id, 1, INT64_MAX, &l->req->who.user_id, NULL);
	int rc = api_audit(conn, l->req, "user.login", "user", l->user_id,
	    NULL, PQgetvalue(res, 0, 2), err);
	if (rc == 0)
		l->reply = strdup(PQgetvalue(res, 0, 1));
	PQclear(res);
	return rc;
}

int
api_login(struct request *req)
{
	static const struct field fields[] = {
		{ "username", FT_STRING, true, false },
		{ "password", FT_STRING, true, false },
	};
	const char *name, *password, *params[1];
	struct login l;
	PGconn *conn;
	PGresult *res;
	bool ok;

	if (api_fields(req->json, fields, 2, &req->err) != 0)
		return -1;
	name = json_string_value(json_object_get(req->json, "username"));
	password = json_string_value(json_object_get(req->json, "password"));
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	params[0] = name;
	res = db_exec(conn, &q_user_by_name, params, &req->err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		ok = auth_check_password(PQgetvalue(res, 0, 1), password) &&
		    strcmp(PQgetvalue(res, 0, 2), "f") == 0;
	} else {
		/* Spend the same time on an unknown name as on a known one,
		 * so the answer's timing does not tell which names exist. */
		char dummy[AUTH_HASH_MAX];
		auth_hash_password("certrack", dummy);
		ok = false;
	}
	if (!ok) {
		PQclear(res);
		return cterr_set(&req->err, 401, "invalid_credentials", NULL,
		    "wrong username or password, or the account is disabled");
	}
	memset(&l, 0, sizeof(l));
	l.req = req;
	l.user_id = PQgetvalue(res, 0, 0);
	snprintf(req->who.username, sizeof(req->who.username), "%s",
	    PQgetvalue(res, 0, 3));
	int rc = db_tx(login_tx, &l, &req->err);
	PQclear(res);
	sodium_memzero(l.token, sizeof(l.token));
	if (rc != 0)
		return -1;
	rc = api_reply_db_json(req, 200, l.reply);
	sodium_memzero(l.reply, strlen(l.reply));
	free(l.reply);
	return rc;
}

static const struct db_stmt q_revoke_self = {
	"auth_revoke_self",
	"UPDATE api_tokens SET revoked_at = now() "
	"WHERE id = $1 AND revoked_at IS NULL "
	"RETURNING json_build_object('token_id', id, 'revoked_at', "
	"revoked_at)::text",
	1,
};

static int
logout_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct request *req = arg;
	char id[24], uid[24];
	const char *params[1] = { id };
	PGresult *res;
	int rc;

	snprintf(id, sizeof(id), "%lld", req->who.token_id);
	snprintf(uid, sizeof(uid), "%lld", req->who.user_id);
	res = db_exec(conn, &q_revoke_self, params, err);
	if (res == NULL)
		return -1;
	rc = api_audit(conn, req, "user.logout", "user", uid, NULL,
	    PQntuples(res) ? PQgetvalue(res, 0, 0) : NULL, err);
	PQclear(res);
	return rc;
}

int
api_logout(struct request *req)
{
	if (db_tx(logout_tx, req, &req->err) != 0)
		return -1;
	return http_reply_json(req, 204, NULL);
}

static const struct db_stmt q_me = {
	"auth_me",
	"SELECT json_build_object('id', u.id, 'username', u.username,"
	" 'role', u.role, 'clinician_id', u.clinician_id,"
	" 'password_change_required', u.password_change_required,"
	" 'token_expires_at', t.expires_at)::text"
	" FROM users u JOIN api_tokens t ON t.user_id = u.id"
	" WHERE u.id = $1 AND t.id = $2",
	2,
};

int
api_me(struct request *req)
{
	char uid[24], tid[24];
	const char *params[2] = { uid, tid };
	PGconn *conn = db_conn(&req->err);
	PGresult *res;
	int rc;

	if (conn == NULL)
		return -1;
	snprintf(uid, sizeof(uid), "%lld", req->who.user_id);
	snprintf(tid, sizeof(tid), "%lld", req->who.token_id);
	res = db_exec(conn, &q_me, params, &req->err);
	if (res == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cterr_set(&req->err, 401, "unauthenticated", NULL,
		    "log in again");
	}
	rc = api_reply_db_json(req, 200, PQgetvalue(res, 0, 0));
	PQclear(res);
	return rc;
}

static const struct db_stmt q_password_hash = {
	"auth_password_hash",
	"SELECT password_hash FROM users WHERE id = $1 FOR UPDATE",
	1,
};

/* Clears password_change_required; every other session of the account
 * ends, this one goes on. */
static const struct db_stmt q_set_password = {
	"auth_set_password",
	"SELECT user_set_own_password($1, $2, $3)",
	3,
};

struct password_change {
	struct request *req;
	const char *current, *next;
};

static int
password_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct password_change *pc = arg;
	char uid[24], hash[AUTH_HASH_MAX], tid[24];
	const char *params[3] = { uid, hash, tid };
	PGresult *res;
	bool ok;

	snprintf(uid, sizeof(uid), "%lld", pc->req->who.user_id);
	res = db_exec(conn, &q_password_hash, params, err);
	if (res == NULL)
		return -1;
	ok = PQntuples(res) == 1 &&
	    auth_check_password(PQgetvalue(res, 0, 0), pc->current);
	PQclear(res);
	if (!ok)
		return cterr_set(err, 403, "invalid_credentials",
		    "current_password", "the current password is wrong");
	if (auth_hash_password(pc->next, hash) != 0)
		return cterr_set(err, 500, "internal", NULL,
		    "cannot hash the password");
	snprintf(tid, sizeof(tid), "%lld", pc->req->who.token_id);
	res = db_exec(conn, &q_set_password, params, err);
	if (res == NULL)
		return -1;
	PQclear(res);
	return api_audit(conn, pc->req, "user.password", "user", uid, NULL,
	    "{\"password\":\"changed\"}", err);
}

int
api_change_password(struct request *req)
{
	static const struct field fields[] = {
		{ "current_password", FT_STRING, true, false },
		{ "new_password", FT_STRING, true, false },
	};
	struct password_change pc;

	if (api_fields(req->json, fields, 2, &req->err) != 0)
		return -1;
	pc.req = req;
	pc.current = json_string_value(json_object_get(req->json,
	    "current_password"));
	pc.next = json_string_value(json_object_get(req->json,
	    "new_password"));
	if (strlen(pc.next) < 10)
		return cterr_set(&req->err, 422, "weak_password",
		    "new_password", "the new password must have at least 10 "
		    "characters");
	/* A one-time password "changed" to itself would stay known to
	 * whoever handed it over. */
	if (strcmp(pc.next, pc.current) == 0)
		return cterr_set(&req->err, 422, "password_unchanged",
		    "new_password", "the new password must differ from the "
		    "current one");
	if (db_tx(password_tx, &pc, &req->err) != 0)
		return -1;
	return http_reply_json(req, 204, NULL);
}
