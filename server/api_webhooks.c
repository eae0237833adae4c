/*
 * Webhook endpoints and notification deliveries, for admins
 * (docs/notifications.md): list, add (the secret shown once), disable and
 * enable an endpoint, send it a test event; list deliveries with their
 * attempts, and replay a failed one.  Every write leaves an audit row in
 * its transaction; the SQL is in sql/0014_notifications.sql.
 */
#include "certrack/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"
#include "certrack/notify.h"
#include "certrack/value.h"

#define DESCRIPTION_MAX 200

static const struct db_stmt q_list = {
	"webhooks_list",
	"SELECT json_build_object('total', (SELECT count(*) FROM "
	"webhook_endpoints), 'limit', $1::int, 'offset', $2::int, 'items', "
	"coalesce((SELECT json_agg(webhook_json(w) ORDER BY w.id) FROM "
	"(SELECT * FROM webhook_endpoints ORDER BY id LIMIT $1::int "
	"OFFSET $2::int) w), '[]'))::text",
	2,
};

/* The page's LIMIT and OFFSET query parameters as text.  0 or -1. */
static int
page(struct request *req, char *lim, char *off)
{
	long long limit, offset;

	if (api_query_int(req, "limit", 1, 1000, 100, &limit, &req->err) != 0 ||
	    api_query_int(req, "offset", 0, 1LL << 40, 0, &offset,
	    &req->err) != 0)
		return -1;
	snprintf(lim, 24, "%lld", limit);
	snprintf(off, 24, "%lld", offset);
	return 0;
}

int
api_webhooks_list(struct request *req)
{
	char lim[24], off[24];
	const char *params[2] = { lim, off };

	if (page(req, lim, off) != 0)
		return -1;
	return api_reply_query(req, &q_list, params, "not_found", "");
}

/* ---- writes: one statement and its audit row --------------------------- */

struct hook_write {
	struct request *req;
	const struct db_stmt *stmt;
	const char *const *params;
	const char *action;	/* the audit row's */
	const char *entity;
	const char *what;	/* "webhook", for a 404 */
	char id[24];		/* the row's id (path, or the new row's) */
	char *reply;		/* the JSON answered */
};

/* Runs W's statement (one row: id, the JSON answered, and optionally
 * what the audit row keeps when that differs) and writes the audit row. */
static int
hook_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct hook_write *w = arg;
	PGresult *res = db_exec(conn, w->stmt, w->params, err);
	int rc;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0 || PQgetisnull(res, 0, 1)) {
		PQclear(res);
		return cterr_set(err, 404, "not_found", NULL, "there is no %s "
		    "%s", w->what, w->id);
	}
	snprintf(w->id, sizeof(w->id), "%s", PQgetvalue(res, 0, 0));
	free(w->reply);
	if ((w->reply = strdup(PQgetvalue(res, 0, 1))) == NULL) {
		PQclear(res);
		return cterr_set(err, 500, "internal", NULL, "out of memory");
	}
	rc = api_audit(conn, w->req, w->action, w->entity, w->id, NULL,
	    PQnfields(res) > 2 ? PQgetvalue(res, 0, 2) : w->reply, err);
	PQclear(res);
	return rc;
}

/* The database's refusals of these writes, in the API's words. */
static void
explain(struct cterr *err, const char *id)
{
	if (strcmp(err->sqlstate, "23514") != 0)
		return;
	if (strcmp(err->field, "webhook_disabled") == 0)
		cterr_set(err, 409, "webhook_disabled", NULL, "the webhook "
		    "endpoint is disabled: enable it first");
	else if (strcmp(err->field, "delivery_not_failed") == 0)
		cterr_set(err, 409, "delivery_not_failed", NULL, "delivery %s "
		    "has not failed: only a failed delivery is replayed", id);
}

static int
hook_run(struct hook_write *w, int status)
{
	int rc;

	if (db_tx(hook_tx, w, &w->req->err) != 0) {
		explain(&w->req->err, w->id);
		free(w->reply);
		return -1;
	}
	rc = api_reply_db_json(w->req, status, w->reply);
	free(w->reply);
	return rc;
}

static const struct db_stmt q_create = {
	"webhooks_create",
	"INSERT INTO webhook_endpoints (url, description, secret, created_by) "
	"VALUES ($1, $2, $3, $4::bigint) "
	"RETURNING id, json_build_object('webhook', webhook_json("
	"webhook_endpoints), 'secret', $3::text, 'note', "
	"'shown once: give it to the receiver, which checks "
	NOTIFY_SIGNATURE_HEADER " with it')::text, "
	"webhook_json(webhook_endpoints)::text",
	4,
};

static const struct field create_fields[] = {
	{ "url", FT_STRING, true, false },
	{ "description", FT_STRING, false, true },
};

int
api_webhooks_create(struct request *req)
{
	char secret[NOTIFY_SECRET_LEN], user[24];
	const char *params[4];
	const char *url, *desc;
	struct hook_write w;
	int rc;

	if (api_fields(req->json, create_fields, 2, &req->err) != 0)
		return -1;
	url = api_text(req->json, "url", NULL, 0);
	desc = api_text(req->json, "description", NULL, 0);
	if (notify_url_check(url, &req->err) != 0)
		return -1;
	if (desc != NULL && value_chars(desc) > DESCRIPTION_MAX)
		return cterr_set(&req->err, 422, "too_long", "description",
		    "the field 'description' may have at most %d characters",
		    DESCRIPTION_MAX);
	notify_new_secret(secret);
	snprintf(user, sizeof(user), "%lld", req->who.user_id);
	params[0] = url;
	params[1] = desc;
	params[2] = secret;
	params[3] = req->who.user_id > 0 ? user : NULL;
	memset(&w, 0, sizeof(w));
	w.req = req;
	w.stmt = &q_create;
	w.params = params;
	w.action = "webhook.create";
	w.entity = "webhook";
	w.what = "webhook";
	/* the audit row keeps the endpoint without its secret */
	if (db_tx(hook_tx, &w, &req->err) != 0) {
		sodium_memzero(secret, sizeof(secret));
		free(w.reply);
		return -1;
	}
	sodium_memzero(secret, sizeof(secret));
	char location[48];
	snprintf(location, sizeof(location), "/v1/webhooks/%s", w.id);
	http_add_header(req, "Location", location);
	rc = api_reply_db_json(req, 201, w.reply);
	sodium_memzero(w.reply, strlen(w.reply));
	free(w.reply);
	return rc;
}

static const struct db_stmt q_disable = {
	"webhooks_disable",
	"UPDATE webhook_endpoints SET disabled_at = coalesce(disabled_at, "
	"now()), disabled_reason = coalesce(disabled_reason, 'disabled by ' "
	"|| $2) WHERE id = $1 RETURNING id, webhook_json(webhook_endpoints)::text",
	2,
};

static const struct db_stmt q_enable = {
	"webhooks_enable",
	"UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = "
	"NULL, consecutive_failures = 0 WHERE id = $1 "
	"RETURNING id, webhook_json(webhook_endpoints)::text",
	1,
};

/* STMT on the row WHAT ("webhook", "delivery") named by the path's id
 * ($1; $2 the admin's name), audited as ACTION; answers STATUS. */
static int
id_write(struct request *req, const char *what, const struct db_stmt *stmt,
    const char *action, int status)
{
	struct hook_write w;
	const char *params[2];
	long long id;

	memset(&w, 0, sizeof(w));
	if (api_path_id(req, "id", what, &id, w.id) != 0)
		return -1;
	params[0] = w.id;
	params[1] = req->who.username;
	w.req = req;
	w.stmt = stmt;
	w.params = params;
	w.action = action;
	w.entity = what;
	w.what = what;
	return hook_run(&w, status);
}

int
api_webhooks_disable(struct request *req)
{
	return id_write(req, "webhook", &q_disable, "webhook.disable", 200);
}

int
api_webhooks_enable(struct request *req)
{
	return id_write(req, "webhook", &q_enable, "webhook.enable", 200);
}

static const struct db_stmt q_test = {
	"webhooks_test",
	"SELECT $1::bigint, webhook_test($1::bigint)::text",
	1,
};

int
api_webhooks_test(struct request *req)
{
	return id_write(req, "webhook", &q_test, "webhook.test", 202);
}

/* ---- deliveries ------------------------------------------------------- */

static const struct db_stmt q_deliveries = {
	"deliveries_list",
	"SELECT notify_deliveries_page($1, $2::bigint, $3, $4::int, "
	"$5::int)::text",
	5,
};

int
api_deliveries_list(struct request *req)
{
	const char *status = http_query(req, "status");
	const char *channel = http_query(req, "channel");
	char lim[24], off[24], ep[24];
	const char *params[5];
	long long endpoint;

	if (status != NULL && strcmp(status, "pending") != 0 &&
	    strcmp(status, "delivered") != 0 && strcmp(status, "failed") != 0)
		return cterr_set(&req->err, 400, "invalid_parameter", "status",
		    "the status must be pending, delivered or failed, not "
		    "'%s'", status);
	if (channel != NULL && strcmp(channel, "webhook") != 0 &&
	    strcmp(channel, "email") != 0)
		return cterr_set(&req->err, 400, "invalid_parameter", "channel",
		    "the channel must be webhook or email, not '%s'", channel);
	if (api_query_int(req, "webhook", 1, 1LL << 62, 0, &endpoint,
	    &req->err) != 0 || page(req, lim, off) != 0)
		return -1;
	snprintf(ep, sizeof(ep), "%lld", endpoint);
	params[0] = status;
	params[1] = endpoint > 0 ? ep : NULL;
	params[2] = channel;
	params[3] = lim;
	params[4] = off;
	return api_reply_query(req, &q_deliveries, params, "not_found", "");
}

static const struct db_stmt q_replay = {
	"deliveries_replay",
	"SELECT $1::bigint, notify_replay($1::bigint)::text",
	1,
};

int
api_deliveries_replay(struct request *req)
{
	return id_write(req, "delivery", &q_replay, "delivery.replay", 200);
}
