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
#include "certrack/cache.h"
#include "certrack/db.h"
#include "certrack/log.h"
#include "certrack/metrics.h"
#include "certrack/strnum.h"

/* The login limits (config.h), set once before serving. */
static struct {
	int ttl_hours;
	int account_after, address_after;
	int lock_seconds, lock_max_seconds, window_seconds;
	int max_tokens;
} lim = { 12, 5, 20, 1, 900, 3600, 20 };

void
api_auth_init(const struct config *cfg)
{
	lim.ttl_hours = cfg->token_ttl_hours;
	lim.account_after = cfg->login_max_failures;
	lim.address_after = cfg->login_max_failures_per_address;
	lim.lock_seconds = cfg->login_lock_seconds;
	lim.lock_max_seconds = cfg->login_lock_max_seconds;
	lim.window_seconds = cfg->login_failure_window_seconds;
	lim.max_tokens = cfg->max_tokens_per_user;
}

/* Who holds this token, whether its last use is worth recording, and how
 * long it stays good (milliseconds, by the database's clock). */
static const struct db_stmt q_authenticate = {
	"auth_authenticate",
	"SELECT t.id, u.id, u.role, coalesce(u.clinician_id, 0), u.username,"
	"       t.last_used_at IS NULL"
	"        OR t.last_used_at < now() - interval '1 minute',"
	"       u.password_change_required,"
	"       floor(extract(epoch FROM t.expires_at - now()) * 1000)::bigint"
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

/* Records the use of token ID, known from the cache (a pooled connection
 * for it, at most once a minute). */
static void
touch_cached(long long id)
{
	struct cterr ignored;
	char text[24];
	PGconn *conn;

	cterr_clear(&ignored);
	snprintf(text, sizeof(text), "%lld", id);
	if ((conn = db_conn(&ignored)) != NULL)
		touch_token(conn, text);
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

	if (h == NULL)
		return 1;
	if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
		return cterr_set(&req->err, 401, "unauthenticated", NULL,
		    "the Authorization header must be 'Bearer TOKEN'");
	return api_auth_token(req, h + 7);
}

/*
 * The token's check from the lookup cache (cache.c: kept true by the
 * database's notifications, sql/0021_token_cache.sql) or the database,
 * which is then cached under the token's hash until the token expires.
 */
int
api_auth_token(struct request *req, const char *token)
{
	unsigned char hash[32];
	char hex[2 + 64 + 1];
	const char *params[1];
	unsigned long epoch;
	long long left_ms;
	bool touch;
	double asked;
	PGconn *conn;
	PGresult *res;

	auth_token_hash(token, hash);
	if (cache_token_get(hash, req->start, &req->who, sizeof(req->who),
	    &touch)) {
		if (touch)
			touch_cached(req->who.token_id);
		sodium_memzero(hash, sizeof(hash));
		return 0;
	}
	bytea_hex(hash, sizeof(hash), hex, sizeof(hex));
	epoch = cache_epoch();
	conn = db_conn(&req->err);
	if (conn == NULL)
		return -1;
	params[0] = hex;
	/* before the database's now(): the expiry cached is never later
	 * than the token's */
	asked = http_now();
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
	if (strnum_ll(PQgetvalue(res, 0, 7), 1, INT64_MAX, &left_ms,
	    NULL) == 0)
		cache_token_put(hash, req->who.user_id, &req->who,
		    sizeof(req->who), asked + (double)left_ms / 1000.0, epoch);
	PQclear(res);
	sodium_memzero(hash, sizeof(hash));
	return 0;
}

/* Throttle first (sql/0010_logins.sql): a locked name or address is
 * answered without a look at any account. */
static const struct db_stmt q_login_begin = {
	"auth_login_begin",
	"SELECT retry_after, user_id, password_hash, disabled, username"
	"  FROM login_begin($1, $2, $3, $4, $5, $6, $7)",
	7,
};

static const struct db_stmt q_login_failed = {
	"auth_login_failed",
	"SELECT login_failed($1, $2, $3::bigint, $4, $5)::text",
	5,
};

static const struct db_stmt q_login_succeeded = {
	"auth_login_succeeded",
	"SELECT s.token_id, json_build_object('token', $8::text,"
	"  'expires_at', s.expires_at,"
	"  'password_change_required', u.password_change_required,"
	"  'user', json_build_object("
	"   'id', u.id, 'username', u.username, 'role', u.role,"
	"   'clinician_id', u.clinician_id))::text,"
	"  json_build_object('token_id', s.token_id, 'expires_at',"
	"   s.expires_at, 'address', $2::text,"
	"   'revoked_tokens', s.revoked)::text"
	"  FROM login_succeeded($1, $2, $3, $4, $5::bytea, $6, $7) s"
	"  JOIN users u ON u.id = $4",
	8,
};

/* What a login attempt learnt from the database, and what it answers. */
struct login {
	struct request *req;
	const char *name;		/* as tried */
	char user_id[24];		/* "" when no such account */
	char username[64];		/* as stored (as req->who keeps it) */
	char *hash;			/* malloc'd, or NULL */
	bool disabled;
	char token[AUTH_TOKEN_LEN + 1];
	char *reply;
};

static void
int_text(char *buf, size_t len, int v)
{
	snprintf(buf, len, "%d", v);
}

/* Copies S into OUT (LEN bytes) with control characters, quotes and
 * backslashes escaped, so a name tried cannot forge a log line. */
static void
log_text(const char *s, char *out, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, len - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

/* The name tried is locked or the address is: nothing was checked. */
static int
refuse_throttled(struct request *req, const char *name, const char *retry)
{
	char shown[300];

	log_text(name, shown, sizeof(shown));
	log_warn("login throttled: user \"%s\" from %s, retry after %s s",
	    shown, http_peer(req), retry);
	metrics_login_throttled();
	http_add_header(req, "Retry-After", retry);
	cterr_set(&req->err, 429, "login_throttled", NULL, "too many failed "
	    "logins for this account or from this address; try again in %s "
	    "seconds", retry);
	snprintf(req->err.extra_key, sizeof(req->err.extra_key),
	    "retry_after");
	snprintf(req->err.extra_value, sizeof(req->err.extra_value), "%s",
	    retry);
	return -1;
}

/*
 * login_begin(): 0 with L filled (the attempt counted, L->hash the
 * account's or NULL), 1 when throttled (answered in req->err), or -1.
 */
static int
login_begin(struct login *l)
{
	struct request *req = l->req;
	char a[5][16];
	const char *params[7];
	PGconn *conn;
	PGresult *res;
	int rc = 0;

	if ((conn = db_conn(&req->err)) == NULL)
		return -1;
	int_text(a[0], 16, lim.account_after);
	int_text(a[1], 16, lim.address_after);
	int_text(a[2], 16, lim.lock_seconds);
	int_text(a[3], 16, lim.lock_max_seconds);
	int_text(a[4], 16, lim.window_seconds);
	params[0] = l->name;
	params[1] = http_peer(req);
	for (int i = 0; i < 5; i++)
		params[2 + i] = a[i];
	if ((res = db_exec(conn, &q_login_begin, params, &req->err)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		rc = cterr_set(&req->err, 500, "internal", NULL,
		    "login_begin() answered no row");
	} else if (strcmp(PQgetvalue(res, 0, 0), "0") != 0) {
		refuse_throttled(req, l->name, PQgetvalue(res, 0, 0));
		rc = 1;
	} else if (!PQgetisnull(res, 0, 1)) {
		snprintf(l->user_id, sizeof(l->user_id), "%s",
		    PQgetvalue(res, 0, 1));
		l->hash = strdup(PQgetvalue(res, 0, 2));
		l->disabled = strcmp(PQgetvalue(res, 0, 3), "t") == 0;
		snprintf(l->username, sizeof(l->username), "%s",
		    PQgetvalue(res, 0, 4));
		if (l->hash == NULL)
			rc = cterr_set(&req->err, 500, "internal", NULL,
			    "out of memory");
	}
	PQclear(res);
	return rc;
}

/* A failed attempt: its audit row (with the lock it started, if any),
 * a log line, the metric; answered 401 alike for every reason. */
static int
login_failed(struct login *l, const char *reason)
{
	struct request *req = l->req;
	const char *params[5];
	char shown[300];
	struct cterr ignored;
	PGconn *conn;
	PGresult *res = NULL;

	metrics_login_failed();
	log_text(l->name, shown, sizeof(shown));
	log_warn("login failed: user \"%s\" from %s (%s)", shown,
	    http_peer(req), reason);
	params[0] = l->name;
	params[1] = http_peer(req);
	params[2] = l->user_id[0] ? l->user_id : NULL;
	params[3] = reason;
	params[4] = req->id;
	cterr_clear(&ignored);
	/* The answer is 401 even when the audit row cannot be written (a
	 * standby, a lost database): the attempt was counted already. */
	if ((conn = db_conn(&ignored)) == NULL ||
	    (res = db_exec(conn, &q_login_failed, params, &ignored)) == NULL)
		log_error("login failed: no audit row: %s", ignored.detail);
	PQclear(res);
	return cterr_set(&req->err, 401, "invalid_credentials", NULL,
	    "wrong username or password, or the account is disabled");
}

static int
login_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct login *l = arg;
	unsigned char hash[32];
	char hex[2 + 64 + 1], a[3][16];
	const char *params[8];
	PGresult *res;

	auth_new_token(l->token, hash);
	bytea_hex(hash, sizeof(hash), hex, sizeof(hex));
	int_text(a[0], 16, lim.address_after);
	int_text(a[1], 16, lim.ttl_hours);
	int_text(a[2], 16, lim.max_tokens);
	params[0] = l->name;
	params[1] = http_peer(l->req);
	params[2] = a[0];
	params[3] = l->user_id;
	params[4] = hex;
	params[5] = a[1];
	params[6] = a[2];
	params[7] = l->token;
	res = db_exec(conn, &q_login_succeeded, params, err);
	if (res == NULL)
		return -1;
	/* The audit row is the session's, never the token's text. */
	l->req->who.user_id = 0;
	strnum_ll(l->user_id, 1, INT64_MAX, &l->req->who.user_id, NULL);
	int rc = api_audit(conn, l->req, "user.login", "user", l->user_id,
	    NULL, PQgetvalue(res, 0, 2), err);
	if (rc == 0 && (l->reply = strdup(PQgetvalue(res, 0, 1))) == NULL)
		rc = cterr_set(err, 500, "internal", NULL, "out of memory");
	PQclear(res);
	return rc;
}

/*
 * POST /v1/login.  Admitted to the password checks first (429 when they
 * are full, nothing counted); the throttle counts the attempt and hands
 * over the account's hash; the database connection goes back to the pool
 * while the password is checked; then the outcome is recorded.
 */
static int login(struct request *req, const char *name,
    const char *password, char *token, char **reply);

int
api_login(struct request *req)
{
	static const struct field fields[] = {
		{ "username", FT_STRING, true, false },
		{ "password", FT_STRING, true, false },
	};
	char *reply = NULL;
	int rc;

	if (api_fields(req->json, fields, 2, &req->err) != 0)
		return -1;
	rc = login(req, json_string_value(json_object_get(req->json,
	    "username")), json_string_value(json_object_get(req->json,
	    "password")), NULL, &reply);
	if (rc == 0)
		rc = api_reply_db_json(req, 200, reply);
	if (reply != NULL) {
		sodium_memzero(reply, strlen(reply));
		free(reply);
	}
	return rc;
}

int
api_login_password(struct request *req, const char *name,
    const char *password, char *token)
{
	char *reply = NULL;
	int rc = login(req, name, password, token, &reply);

	if (reply != NULL) {
		sodium_memzero(reply, strlen(reply));
		free(reply);
	}
	return rc;
}

/* The one login: throttle, password check, token row, audit row.  The
 * token in TOKEN (AUTH_TOKEN_LEN + 1 bytes) unless NULL, the answer's
 * JSON text in *REPLY (malloc'd).  0, or -1 with req->err. */
static int
login(struct request *req, const char *name, const char *password,
    char *token, char **reply)
{
	struct login l;
	bool ok = false;
	int rc = -1;

	memset(&l, 0, sizeof(l));
	l.req = req;
	l.name = name;
	if (auth_admit(&req->err) != 0) {
		http_add_header(req, "Retry-After", "1");
		return -1;
	}
	int b = login_begin(&l);
	db_release();
	if (b != 0)
		goto out;
	/* Unknown names are checked against a dummy hash, at the same
	 * cost, so the time taken does not tell which names exist. */
	if (auth_verify(l.hash, password, &ok, &req->err) != 0)
		goto out;
	auth_dismiss();
	if (!ok || l.disabled) {
		login_failed(&l, l.hash == NULL ? "unknown_user" :
		    !ok ? "no_match" : "disabled");
		goto out;
	}
	snprintf(req->who.username, sizeof(req->who.username), "%s",
	    l.username);
	if (db_tx(login_tx, &l, &req->err) != 0)
		goto out;
	if (token != NULL)
		memcpy(token, l.token, sizeof(l.token));
	*reply = l.reply;
	l.reply = NULL;
	rc = 0;
out:
	auth_dismiss();
	if (l.hash != NULL) {
		sodium_memzero(l.hash, strlen(l.hash));
		free(l.hash);
	}
	sodium_memzero(l.token, sizeof(l.token));
	if (l.reply != NULL) {
		sodium_memzero(l.reply, strlen(l.reply));
		free(l.reply);
	}
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
	if (api_session_end(req) != 0)
		return -1;
	return http_reply_json(req, 204, NULL);
}

int
api_session_end(struct request *req)
{
	return db_tx(logout_tx, req, &req->err);
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
	"SELECT password_hash FROM users WHERE id = $1",
	1,
};

static const struct db_stmt q_password_locked = {
	"auth_password_locked",
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
	char uid[24];
	char *old;			/* the hash checked against */
	char hash[AUTH_HASH_MAX];	/* the new one */
};

/* Stores the new hash unless the password changed while it was made. */
static int
password_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct password_change *pc = arg;
	char tid[24];
	const char *params[3] = { pc->uid, pc->hash, tid };
	PGresult *res;
	bool same;

	res = db_exec(conn, &q_password_locked, params, err);
	if (res == NULL)
		return -1;
	same = PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0),
	    pc->old) == 0;
	PQclear(res);
	if (!same)
		return cterr_set(err, 409, "conflict", NULL, "the password "
		    "was changed at the same time; try again");
	snprintf(tid, sizeof(tid), "%lld", pc->req->who.token_id);
	if (db_run(conn, &q_set_password, params, err) != 0)
		return -1;
	return api_audit(conn, pc->req, "user.password", "user", pc->uid,
	    NULL, "{\"password\":\"changed\"}", err);
}

/*
 * POST /v1/me/password: the current hash is read, the connection goes
 * back to the pool while the current password is checked and the new one
 * hashed, and the new hash is stored only over the one checked.
 */
int
api_change_password(struct request *req)
{
	static const struct field fields[] = {
		{ "current_password", FT_STRING, true, false },
		{ "new_password", FT_STRING, true, false },
	};

	if (api_fields(req->json, fields, 2, &req->err) != 0 ||
	    api_password_set(req, json_string_value(json_object_get(req->json,
	    "current_password")), json_string_value(json_object_get(req->json,
	    "new_password"))) != 0)
		return -1;
	return http_reply_json(req, 204, NULL);
}

int
api_password_set(struct request *req, const char *current, const char *next)
{
	struct password_change pc;
	const char *params[1];
	PGconn *conn;
	PGresult *res;
	bool ok;
	int rc = -1;

	memset(&pc, 0, sizeof(pc));
	pc.req = req;
	pc.current = current;
	pc.next = next;
	if (auth_password_policy(pc.next, req->who.username, "new_password",
	    &req->err) != 0)
		return -1;
	/* A one-time password "changed" to itself would stay known to
	 * whoever handed it over. */
	if (strcmp(pc.next, pc.current) == 0)
		return cterr_set(&req->err, 422, "password_unchanged",
		    "new_password", "the new password must differ from the "
		    "current one");
	snprintf(pc.uid, sizeof(pc.uid), "%lld", req->who.user_id);
	params[0] = pc.uid;
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_password_hash, params, &req->err)) == NULL)
		return -1;
	if (PQntuples(res) == 1)
		pc.old = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	db_release();
	if (pc.old == NULL) {
		cterr_set(&req->err, 401, "unauthenticated", NULL,
		    "log in again");
		goto out;
	}
	if (auth_admit(&req->err) != 0) {
		http_add_header(req, "Retry-After", "1");
		goto out;
	}
	if (auth_verify(pc.old, pc.current, &ok, &req->err) != 0)
		goto out;
	if (!ok) {
		cterr_set(&req->err, 403, "invalid_credentials",
		    "current_password", "the current password is wrong");
		goto out;
	}
	if (auth_hash(pc.next, pc.hash, &req->err) != 0)
		goto out;
	auth_dismiss();
	if (db_tx(password_tx, &pc, &req->err) != 0)
		goto out;
	rc = 0;
out:
	auth_dismiss();
	free(pc.old);
	sodium_memzero(pc.hash, sizeof(pc.hash));
	return rc;
}
