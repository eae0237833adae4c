#include "certrack/users.h"

#include <stdio.h>
#include <string.h>

#include "certrack/auth.h"
#include "certrack/db.h"

int
users_check_role(const char *role, long long clinician_id, struct cterr *err)
{
	if (strcmp(role, "admin") != 0 && strcmp(role, "grader") != 0 &&
	    strcmp(role, "clinician") != 0)
		return cterr_set(err, 422, "invalid_role", "role",
		    "role '%s' is not one of admin, grader, clinician", role);
	if (strcmp(role, "clinician") == 0 && clinician_id <= 0)
		return cterr_set(err, 422, "clinician_required", "clinician_id",
		    "a clinician account must name the clinician it belongs "
		    "to");
	if (strcmp(role, "clinician") != 0 && clinician_id > 0)
		return cterr_set(err, 422, "clinician_not_allowed",
		    "clinician_id", "only clinician accounts belong to a "
		    "clinician");
	return 0;
}

static const struct db_stmt q_create_local = {
	"users_create_local",
	"WITH u AS ("
	"  INSERT INTO users (username, role, clinician_id, password_hash,"
	"                     password_change_required)"
	"  SELECT $1, $2, $3::bigint, $4, true"
	"  WHERE NOT $5::boolean OR NOT EXISTS"
	"   (SELECT 1 FROM users WHERE role = 'admin' AND NOT disabled)"
	"  RETURNING id, username, role, clinician_id, disabled,"
	"            password_change_required, created_at"
	"), a AS ("
	"  INSERT INTO audit_log (actor_name, action, entity, entity_id, after)"
	"  SELECT 'shell: certrackd create-user', 'user.create', 'user',"
	"         u.id::text,"
	"         to_jsonb(u) FROM u"
	") SELECT id FROM u",
	5,
};

struct create_args {
	const struct users_new *u;
	bool if_no_admin;
	int *created;
	char hash[AUTH_HASH_MAX];
};

static int
create_tx(PGconn *conn, void *arg, struct cterr *err)
{
	struct create_args *a = arg;
	char clinician[24];
	const char *params[5];
	PGresult *res;

	/* Two shells racing to make "the first admin" make one. */
	res = PQexec(conn, "SELECT admins_lock()");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return db_fail(conn, res, err);
	PQclear(res);
	snprintf(clinician, sizeof(clinician), "%lld", a->u->clinician_id);
	params[0] = a->u->username;
	params[1] = a->u->role;
	params[2] = a->u->clinician_id > 0 ? clinician : NULL;
	params[3] = a->hash;
	params[4] = a->if_no_admin ? "true" : "false";
	res = db_exec(conn, &q_create_local, params, err);
	if (res == NULL) {
		if (strcmp(err->code, "duplicate") == 0)
			cterr_set(err, 409, "duplicate", "username",
			    "the username '%s' is taken", a->u->username);
		else if (strcmp(err->sqlstate, "23503") == 0)
			cterr_set(err, 422, "unknown_clinician", "clinician_id",
			    "there is no clinician %lld", a->u->clinician_id);
		return -1;
	}
	*a->created = PQntuples(res);
	PQclear(res);
	return 0;
}

int
users_create_local(PGconn *conn, const struct users_new *u, bool if_no_admin,
    int *created, struct cterr *err)
{
	struct create_args a;

	*created = 0;
	if (users_check_role(u->role, u->clinician_id, err) != 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.u = u;
	a.if_no_admin = if_no_admin;
	a.created = created;
	if (auth_password_policy(u->password, u->username, "password",
	    err) != 0 || auth_hash(u->password, a.hash, err) != 0)
		return -1;
	return db_tx_on(conn, create_tx, &a, err);
}
