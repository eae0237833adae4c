#include "certrack/migrate.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "certrack/strbuf.h"
#include "certrack/strnum.h"

/* The advisory lock key: any constant shared by every certrackd. */
#define MIGRATE_LOCK_KEY "7243011859"

static void
checksum_hex(const char *sql, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)sql, strlen(sql));
	sodium_bin2hex(out, 65, h, sizeof(h));
}

/* "0012_add_x.sql" -> 12; -1 when the name is not NNNN_name.sql */
static int
version_of(const char *name)
{
	char digits[5];
	int v;
	size_t n = strlen(name);

	if (n < 10 || name[4] != '_' || strcmp(name + n - 4, ".sql") != 0)
		return -1;
	memcpy(digits, name, 4);
	digits[4] = '\0';
	if (strnum_int(digits, 1, 9999, &v, NULL) != 0)
		return -1;
	return v;
}

static int
cmp_migration(const void *a, const void *b)
{
	const struct migration *x = a, *y = b;
	return (x->version > y->version) - (x->version < y->version);
}

/* Sorts SET and checks it runs 1, 2, ... n. */
static int
finish_set(struct migration_set *set, struct cterr *err)
{
	qsort(set->v, set->n, sizeof(set->v[0]), cmp_migration);
	for (size_t i = 0; i < set->n; i++) {
		if (set->v[i].version != (int)i + 1) {
			cterr_set(err, 500, "bad_migrations", NULL,
			    "migrations must be numbered 0001, 0002, ... without "
			    "gaps or repeats; '%s' is out of place",
			    set->v[i].name);
			migrate_set_release(set);
			return -1;
		}
	}
	return 0;
}

static int
add_migration(struct migration_set *set, const char *name, char *sql,
    struct cterr *err)
{
	struct migration *m, *grown;
	int v = version_of(name);

	if (v < 0) {
		free(sql);
		return cterr_set(err, 500, "bad_migrations", NULL,
		    "'%s' is not named NNNN_name.sql", name);
	}
	grown = realloc(set->v, (set->n + 1) * sizeof(*set->v));
	if (grown == NULL) {
		free(sql);
		return cterr_set(err, 500, "internal", NULL, "out of memory");
	}
	set->v = grown;
	m = &set->v[set->n];
	m->version = v;
	m->name = strdup(name);
	m->sql = sql;
	if (m->name == NULL) {
		free(sql);
		return cterr_set(err, 500, "internal", NULL, "out of memory");
	}
	checksum_hex(sql, m->checksum);
	set->n++;
	return 0;
}

int
migrate_set_embedded(struct migration_set *set, struct cterr *err)
{
	set->v = NULL;
	set->n = 0;
	for (unsigned i = 0; i < migrate_embedded_count; i++) {
		const char *text = migrate_embedded[i].sql;
		char *sql = strdup(text ? text : "");
		if (sql == NULL ||
		    add_migration(set, migrate_embedded[i].name, sql, err) != 0) {
			migrate_set_release(set);
			return sql == NULL ? cterr_set(err, 500, "internal", NULL,
			    "out of memory") : -1;
		}
	}
	return finish_set(set, err);
}

static char *
read_file(const char *path, struct cterr *err)
{
	struct strbuf sb;
	char buf[8192];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		cterr_set(err, 500, "bad_migrations", NULL,
		    "cannot open '%s': %s", path, strerror(errno));
		return NULL;
	}
	strbuf_init(&sb);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0 &&
	    strbuf_add(&sb, buf, n) == 0)
		;
	if (ferror(fp) || strbuf_failed(&sb)) {
		cterr_set(err, 500, "bad_migrations", NULL,
		    "cannot read '%s': %s", path, strbuf_failed(&sb) ?
		    "out of memory" : strerror(errno));
		fclose(fp);
		strbuf_release(&sb);
		return NULL;
	}
	fclose(fp);
	return strbuf_detach(&sb, NULL);
}

int
migrate_set_from_dir(struct migration_set *set, const char *dir,
    struct cterr *err)
{
	DIR *d;
	struct dirent *de;
	char path[4096];
	int rc = 0;

	set->v = NULL;
	set->n = 0;
	d = opendir(dir);
	if (d == NULL)
		return cterr_set(err, 500, "bad_migrations", NULL,
		    "cannot open migrations folder '%s': %s", dir,
		    strerror(errno));
	while (rc == 0 && (de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 4 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		char *sql = read_file(path, err);
		if (sql == NULL || add_migration(set, de->d_name, sql, err) != 0)
			rc = -1;
	}
	closedir(d);
	if (rc != 0) {
		migrate_set_release(set);
		return -1;
	}
	return finish_set(set, err);
}

void
migrate_set_release(struct migration_set *set)
{
	for (size_t i = 0; i < set->n; i++) {
		free(set->v[i].name);
		free(set->v[i].sql);
	}
	free(set->v);
	set->v = NULL;
	set->n = 0;
}

static int
pg_fail(PGconn *conn, PGresult *res, struct cterr *err, const char *what)
{
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;

	cterr_set(err, 503, "database_error", NULL, "%s: %s", what,
	    msg && *msg ? msg : "no message");
	/* libpq messages end with a newline; keep our lines whole */
	size_t n = strlen(err->detail);
	while (n > 0 && err->detail[n - 1] == '\n')
		err->detail[--n] = '\0';
	if (state != NULL)
		snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
	PQclear(res);
	return -1;
}

static int
exec_ok(PGconn *conn, const char *sql, struct cterr *err, const char *what)
{
	PGresult *res = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(res);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return pg_fail(conn, res, err, what);
	PQclear(res);
	return 0;
}

void
migrate_judge(const struct migration_set *set, const PGresult *rows,
    struct migrate_status *st)
{
	int napplied = 0;

	memset(st, 0, sizeof(*st));
	st->code_version = (int)set->n;
	for (int i = 0; rows != NULL && i < PQntuples(rows); i++) {
		int v;
		if (strnum_int(PQgetvalue(rows, i, 0), 1, 9999, &v, NULL) != 0)
			continue;
		napplied++;
		if (v > st->db_version)
			st->db_version = v;
		if (v > (int)set->n) {
			if (st->state != MIGRATE_CHANGED)
				st->state = MIGRATE_AHEAD;
			continue;
		}
		const struct migration *m = &set->v[v - 1];
		if (strcmp(PQgetvalue(rows, i, 1), m->checksum) != 0) {
			st->state = MIGRATE_CHANGED;
			snprintf(st->detail, sizeof(st->detail),
			    "migration %s was changed after it was applied (its "
			    "checksum differs from the one recorded); restore "
			    "the original file and put the change in a new "
			    "migration", m->name);
		}
	}
	if (st->state == MIGRATE_CHANGED)
		return;
	if (st->state == MIGRATE_AHEAD) {
		snprintf(st->detail, sizeof(st->detail),
		    "the database schema is at version %d, newer than this "
		    "certrackd knows (%d): upgrade certrackd",
		    st->db_version, st->code_version);
		return;
	}
	st->pending = (int)set->n - napplied;
	if (st->pending > 0) {
		st->state = MIGRATE_BEHIND;
		snprintf(st->detail, sizeof(st->detail),
		    "the database schema is at version %d, this certrackd needs "
		    "%d (%d migration%s pending): run 'certrackd migrate'",
		    st->db_version, st->code_version, st->pending,
		    st->pending == 1 ? "" : "s");
	} else {
		st->state = MIGRATE_CURRENT;
		snprintf(st->detail, sizeof(st->detail),
		    "the database schema is current (version %d)",
		    st->db_version);
	}
}

int
migrate_check(PGconn *conn, const struct migration_set *set,
    struct migrate_status *st, struct cterr *err)
{
	PGresult *res, *rows = NULL;
	int have_table;

	res = PQexec(conn,
	    "SELECT to_regclass('schema_migrations') IS NOT NULL");
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_fail(conn, res, err, "cannot read the schema version");
	have_table = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	if (have_table) {
		rows = PQexec(conn, MIGRATE_APPLIED_SQL);
		if (PQresultStatus(rows) != PGRES_TUPLES_OK)
			return pg_fail(conn, rows, err,
			    "cannot read the schema version");
	}
	migrate_judge(set, rows, st);
	PQclear(rows);
	return 0;
}

/* Applies one migration and its record in one transaction. */
static int
apply_one(PGconn *conn, const struct migration *m, struct cterr *err)
{
	char version[16], what[200];
	const char *params[3];
	PGresult *res;

	snprintf(what, sizeof(what), "migration %s failed", m->name);
	if (exec_ok(conn, "BEGIN", err, what) != 0)
		return -1;
	if (exec_ok(conn, m->sql, err, what) != 0)
		goto fail;
	snprintf(version, sizeof(version), "%d", m->version);
	params[0] = version;
	params[1] = m->name;
	params[2] = m->checksum;
	res = PQexecParams(conn, "INSERT INTO schema_migrations "
	    "(version, name, checksum) VALUES ($1, $2, $3)",
	    3, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_fail(conn, res, err, what);
		goto fail;
	}
	PQclear(res);
	if (exec_ok(conn, "COMMIT", err, what) != 0)
		goto fail;
	return 0;
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

/* True when CONN's server is a standby (in recovery). */
static bool
in_recovery(PGconn *conn)
{
	PGresult *res = PQexec(conn, "SELECT pg_is_in_recovery()");
	bool yes = PQresultStatus(res) == PGRES_TUPLES_OK &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0;

	PQclear(res);
	return yes;
}

int
migrate_apply(PGconn *conn, const struct migration_set *set, int *applied,
    struct cterr *err)
{
	struct migrate_status st;
	int rc = -1;

	*applied = 0;
	/* Nothing to do needs no lock and no write: this is how a daemon
	 * started with --migrate against a read-only standby comes up. */
	if (migrate_check(conn, set, &st, err) != 0)
		return -1;
	if (st.state == MIGRATE_CURRENT)
		return 0;
	if (in_recovery(conn))
		return cterr_set(err, 503, "read_only_database", NULL,
		    "this database is a read-only standby at schema version "
		    "%d, and this certrackd needs %d: migrate the primary "
		    "('certrackd migrate' with its database_url); the standby "
		    "follows it", st.db_version, st.code_version);
	/* Session-level lock: a second daemon waits here, then finds
	 * nothing pending. */
	if (exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", err,
	    "cannot take the migration lock") != 0)
		return -1;
	if (exec_ok(conn, "SET client_min_messages = warning", err,
	    "cannot prepare the session") != 0 ||
	    exec_ok(conn, "CREATE TABLE IF NOT EXISTS schema_migrations ("
	    " version integer PRIMARY KEY CHECK (version > 0),"
	    " name text NOT NULL,"
	    " checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),"
	    " applied_at timestamptz NOT NULL DEFAULT now())", err,
	    "cannot create schema_migrations") != 0)
		goto out;
	if (migrate_check(conn, set, &st, err) != 0)
		goto out;
	if (st.state == MIGRATE_CHANGED || st.state == MIGRATE_AHEAD) {
		cterr_set(err, 500, st.state == MIGRATE_CHANGED ?
		    "migration_changed" : "schema_ahead", NULL, "%s", st.detail);
		goto out;
	}
	for (size_t i = (size_t)st.db_version; i < set->n; i++) {
		if (apply_one(conn, &set->v[i], err) != 0)
			goto out;
		(*applied)++;
	}
	rc = 0;
out:
	PQclear(PQexec(conn, "RESET client_min_messages"));
	PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	return rc;
}
