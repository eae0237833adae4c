/*
 * Accounts and their tokens, for admins.  A disabled account cannot log
 * in, and its tokens stop working at once (the authenticator checks the
 * account on every request) and are revoked besides.  A generated
 * password must be changed at first use (password_change_required).  An
 * update is one call of user_update() (sql/0009_accounts.sql), which keeps
 * an enabled admin under any concurrency.
 */
#include "certrack/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "certrack/apiutil.h"
#include "certrack/auth.h"
#include "certrack/db.h"
#include "certrack/strnum.h"
#include "certrack/users.h"

static const struct db_stmt q_list = {
	"users_list",
	"SELECT coalesce(json_agg(user_json(u) ORDER BY u.id), '[]')::text "
	"FROM users u",
	0,
};

int
api_users_list(struct request *req)
{
	return api_reply_query(req, &q_list, NULL, "not_found", "");
}

static const struct db_stmt q_get = {
	"users_get",
	"SELECT user_json(u)::text FROM users u WHERE u.id = $1",
	1,
};

int
api_users_get(struct request *req)
{
	return api_reply_by_id(req, "user", &q_get);
}

static const struct db_stmt q_create = {
	"users_create",
	"INSERT INTO users (username, role, clinician_id, password_hash,"
	" password_change_required) "
	"VALUES (btrim($1), $2, $3::bigint, $4, $5::boolean) "
	"RETURNING id, user_json(users)::text",
	5,
};

struct user_write {
	struct request *req;
	char id[24];
	const char *password;	/* to hash and set, or NULL */
	bool generated;
	char hash[AUTH_HASH_MAX];	/* PASSWORD's, made before the write */
	char *reply;
};

/*
 * Hashes W's password, if any, into w->hash with no database connection
 * held (the hash takes tens of milliseconds).  0, or -1 with req->err
 * (429 with Retry-After when the password checks are full).
 */
static int
hash_outside(struct user_write *w)
{
	if (w->password == NULL)
		return 0;
	db_release();
	if (auth_hash(w->password, w->hash, &w->req->err) == 0)
		return 0;
	if (w->req->err.status == 429)
		http_add_header(w->req, "Retry-After", "1");
	return -1;
}

/* Turns the database's refusal of an account into the field's words. */
static void
explain(struct cterr *err, const json_t *body)
{
	if (strcmp(err->code, "duplicate") == 0 &&
	    strstr(err->field, "clinician") != NULL)
		cterr_set(err, 409, "duplicate", "clinician_id", "clinician "
		    "%s has an account already",
		    api_text(body, "clinician_id", (char[24]){ 0 }, 24));
	else if (strcmp(err->code, "duplicate") == 0)
		cterr_set(err, 409, "duplicate", "username", "the username "
		    "'%s' is taken", api_text(body, "username", NULL, 0));
	else if (strcmp(err->sqlstate, "23503") == 0)
		cterr_set(err, 422, "unknown_clinician", "clinician_id",
		    "there is no such clinician");
	else if (strcmp(err->sqlstate, "23514") == 0 &&
	    strstr(err->field, "username") != NULL)
		cterr_set(err, 422, "invalid_username", "username", "a "
		    "username has 1 to 128 characters and no blanks");
}

static int
create_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct user_write *w = arg;
	const json_t *b = w->req->json;
	char cid[24];
	const char *params[5];
	PGresult *res;
	int rc;

	params[0] = api_text(b, "username", NULL, 0);
	params[1] = api_text(b, "role", NULL, 0);
	params[2] = api_text(b, "clinician_id", cid, sizeof(cid));
	params[3] = w->hash;
	/* A generated password is its owner's to replace at first use. */
	params[4] = w->generated ? "true" : "false";
	res = db_exec(conn, &q_create, params, err);
	if (res == NULL) {
		explain(err, b);
		return -1;
	}
	snprintf(w->id, sizeof(w->id), "%s", PQgetvalue(res, 0, 0));
	w->reply = strdup(PQgetvalue(res, 0, 1));
	rc = api_audit(conn, w->req, "user.create", "user", w->id, NULL,
	    w->reply, err);
	PQclear(res);
	return rc;
}

/* {"user": USER, "password": "..."} when a password was generated. */
static int
reply_user(struct request *req, int status, struct user_write *w)
{
	json_t *user = json_loads(w->reply, 0, NULL), *out;

	free(w->reply);
	w->reply = NULL;
	if (user == NULL)
		return cterr_set(&req->err, 500, "internal", NULL,
		    "cannot build the answer");
	if (!w->generated)
		return http_reply_json(req, status, user);
	out = json_pack("{s:o, s:s, s:s}", "user", user, "password",
	    w->password, "note", "shown once: hand it to its owner");
	return http_reply_json(req, status, out);
}

static const struct field create_fields[] = {
	{ "username", FT_STRING, true, false },
	{ "role", FT_STRING, true, false },
	{ "clinician_id", FT_ID, false, true },
	{ "password", FT_STRING, false, false },
};

int
api_users_create(struct request *req)
{
	struct user_write w;
	char pw[AUTH_PASSWORD_LEN + 1], cid[24];
	long long clinician = 0;
	int rc;

	memset(&w, 0, sizeof(w));
	w.req = req;
	if (api_fields(req->json, create_fields, 4, &req->err) != 0)
		return -1;
	if (api_text(req->json, "clinician_id", cid, sizeof(cid)) != NULL)
		strnum_ll(cid, 1, INT64_MAX, &clinician, NULL);
	if (users_check_role(api_text(req->json, "role", NULL, 0), clinician,
	    &req->err) != 0)
		return -1;
	w.password = api_text(req->json, "password", NULL, 0);
	if (w.password != NULL && auth_password_policy(w.password,
	    api_text(req->json, "username", NULL, 0), "password",
	    &req->err) != 0)
		return -1;
	if (w.password == NULL) {
		auth_new_password(pw, api_text(req->json, "username", NULL, 0));
		w.password = pw;
		w.generated = true;
	}
	if (hash_outside(&w) != 0 || db_tx(create_tx, &w, &req->err) != 0) {
		free(w.reply);
		sodium_memzero(pw, sizeof(pw));
		return -1;
	}
	char location[48];
	snprintf(location, sizeof(location), "/v1/users/%s", w.id);
	http_add_header(req, "Location", location);
	rc = reply_user(req, 201, &w);
	sodium_memzero(pw, sizeof(pw));
	return rc;
}

/* The one write of PATCH: the last-admin rule and the token revocations
 * are in user_update() (sql/0009_accounts.sql). */
static const struct db_stmt q_update = {
	"users_update",
	"SELECT before::text, after::text FROM user_update($1, $2::boolean,"
	" $3, $4::boolean, $5::bigint, $6)",
	6,
};

static int
update_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct user_write *w = arg;
	const json_t *b = w->req->json;
	char cid[24];
	const char *params[6];
	PGresult *res;
	int rc;

	params[0] = w->id;
	params[1] = api_text(b, "disabled", NULL, 0);
	params[2] = api_text(b, "role", NULL, 0);
	params[3] = api_has(b, "clinician_id") ? "true" : "false";
	params[4] = api_text(b, "clinician_id", cid, sizeof(cid));
	params[5] = w->password ? w->hash : NULL;
	if ((res = db_exec(conn, &q_update, params, err)) == NULL) {
		if (strcmp(err->field, "users_last_admin") == 0)
			return cterr_set(err, 409, "last_admin", NULL, "user %s "
			    "is the last enabled admin; make another admin "
			    "first", w->id);
		explain(err, b);
		if (strcmp(err->sqlstate, "23514") == 0 &&
		    strcmp(err->code, "constraint_violation") == 0)
			cterr_set(err, 422, "clinician_required", "clinician_id",
			    "a clinician account belongs to exactly one "
			    "clinician, and staff accounts to none");
		return -1;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL,
		    "there is no user %s", w->id);
	}
	w->reply = strdup(PQgetvalue(res, 0, 1));
	rc = api_audit(conn, w->req, "user.update", "user", w->id,
	    PQgetvalue(res, 0, 0), w->reply, err);
	PQclear(res);
	return rc;
}

int
api_users_update(struct request *req)
{
	static const struct field fields[] = {
		{ "disabled", FT_BOOL, false, false },
		{ "role", FT_STRING, false, false },
		{ "clinician_id", FT_ID, false, true },
		{ "reset_password", FT_BOOL, false, false },
	};
	struct user_write w;
	char pw[AUTH_PASSWORD_LEN + 1];
	long long n;
	int rc;

	memset(&w, 0, sizeof(w));
	w.req = req;
	if (api_path_id(req, "id", "user", &n, w.id) != 0 ||
	    api_fields(req->json, fields, 4, &req->err) != 0)
		return -1;
	if (req->json == NULL || json_object_size(req->json) == 0)
		return cterr_set(&req->err, 400, "missing_body", NULL,
		    "say what to change: disabled, role, clinician_id or "
		    "reset_password");
	if (api_has(req->json, "role") && users_check_role(api_text(req->json,
	    "role", NULL, 0), 0, &req->err) != 0 &&
	    strcmp(req->err.code, "invalid_role") == 0)
		return -1;
	cterr_clear(&req->err);
	if (json_is_true(json_object_get(req->json, "reset_password"))) {
		/* the account's name is not known here: nothing to
		 * compare with but cracklib's rules */
		auth_new_password(pw, NULL);
		w.password = pw;
		w.generated = true;
	}
	json_object_del(req->json, "reset_password");
	if (hash_outside(&w) != 0 || db_tx(update_tx, &w, &req->err) != 0) {
		free(w.reply);
		sodium_memzero(pw, sizeof(pw));
		return -1;
	}
	rc = reply_user(req, 200, &w);
	sodium_memzero(pw, sizeof(pw));
	return rc;
}

static const struct db_stmt q_tokens = {
	"users_tokens",
	"SELECT coalesce(json_agg(json_build_object('id', t.id,"
	" 'created_at', t.created_at, 'expires_at', t.expires_at,"
	" 'last_used_at', t.last_used_at, 'revoked_at', t.revoked_at)"
	" ORDER BY t.id) FILTER (WHERE t.id IS NOT NULL), '[]')::text"
	" FROM users u LEFT JOIN api_tokens t ON t.user_id = u.id"
	" WHERE u.id = $1 GROUP BY u.id",
	1,
};

int
api_users_tokens(struct request *req)
{
	return api_reply_by_id(req, "user", &q_tokens);
}

static const struct db_stmt q_revoke = {
	"tokens_revoke",
	"UPDATE api_tokens SET revoked_at = now() "
	"WHERE id = $1 AND revoked_at IS NULL "
	"RETURNING user_id, json_build_object('id', id, 'user_id', user_id,"
	" 'revoked_at', revoked_at)::text",
	1,
};

static int
revoke_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct user_write *w = arg;
	const char *params[1] = { w->id };
	PGresult *res = db_exec(conn, &q_revoke, params, err);
	int rc;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL, "there is no "
		    "live token %s", w->id);
	}
	rc = api_audit(conn, w->req, "token.revoke", "token", w->id, NULL,
	    PQgetvalue(res, 0, 1), err);
	PQclear(res);
	return rc;
}

int
api_tokens_revoke(struct request *req)
{
	struct user_write w;
	long long n;

	memset(&w, 0, sizeof(w));
	w.req = req;
	if (api_path_id(req, "id", "token", &n, w.id) != 0 ||
	    db_tx(revoke_tx, &w, &req->err) != 0)
		return -1;
	return http_reply_json(req, 204, NULL);
}
