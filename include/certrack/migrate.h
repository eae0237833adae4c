#ifndef CERTRACK_MIGRATE_H
#define CERTRACK_MIGRATE_H
/*
 * Schema migrations: sql/NNNN_name.sql applied in order, each in its own
 * transaction, under a PostgreSQL advisory lock (two daemons starting
 * together do not race), each recorded in schema_migrations with its SHA-256
 * so a migration edited after it was applied is refused.
 */
#include <stddef.h>
#include <libpq-fe.h>

#include "certrack/cterr.h"

/* One file as compiled in by scripts/embed-sql. */
struct migration_file {
	const char *name;	/* "0001_schema.sql" */
	const char *sql;
};
extern const struct migration_file migrate_embedded[];
extern const unsigned migrate_embedded_count;

struct migration {
	int version;		/* from the NNNN prefix */
	char *name;		/* file name */
	char *sql;
	char checksum[65];	/* hex SHA-256 of sql */
};

/* An ordered list of migrations, versions 1..n without gaps. */
struct migration_set {
	struct migration *v;
	size_t n;
};

/* Fills SET from the compiled-in files, or from the *.sql files in DIR.
 * Returns 0, or -1 with ERR (bad name, gap, duplicate, unreadable file). */
int migrate_set_embedded(struct migration_set *set, struct cterr *err);
int migrate_set_from_dir(struct migration_set *set, const char *dir,
    struct cterr *err);
void migrate_set_release(struct migration_set *set);

enum migrate_state {
	MIGRATE_CURRENT,	/* every migration applied, none changed */
	MIGRATE_BEHIND,		/* some not applied yet */
	MIGRATE_AHEAD,		/* the database has versions we do not know */
	MIGRATE_CHANGED,	/* an applied migration's file changed */
};

struct migrate_status {
	enum migrate_state state;
	int db_version;		/* highest applied, 0 for none */
	int code_version;	/* highest known */
	int pending;		/* known but not applied */
	char detail[400];	/* what to do about it, for people */
};

/* The applied migrations, as migrate_judge() reads them. */
#define MIGRATE_APPLIED_SQL \
	"SELECT version, checksum FROM schema_migrations ORDER BY version"

/*
 * Judges the rows of MIGRATE_APPLIED_SQL (NULL: no schema_migrations
 * table) against SET.  Pure: the caller runs the query its own way.
 */
void migrate_judge(const struct migration_set *set, const PGresult *rows,
    struct migrate_status *st);

/* Reads the database's state (without changing anything). */
int migrate_check(PGconn *conn, const struct migration_set *set,
    struct migrate_status *st, struct cterr *err);

/*
 * Applies what is pending.  *APPLIED receives how many were applied (0
 * when current).  Refuses (-1, ERR) when the database is ahead or an
 * applied migration changed; a failing migration is rolled back whole and
 * named in ERR.
 */
int migrate_apply(PGconn *conn, const struct migration_set *set,
    int *applied, struct cterr *err);

#endif
