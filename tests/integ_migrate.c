/* Migrations and shell account creation against a real PostgreSQL. */
#include "testlib.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certrack/migrate.h"
#include "certrack/users.h"

static struct migration_set embedded;

static int
setup(void **state)
{
	struct cterr err;

	(void)state;
	cterr_clear(&err);
	if (migrate_set_embedded(&embedded, &err) != 0) {
		fprintf(stderr, "%s\n", err.detail);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	migrate_set_release(&embedded);
	return 0;
}

static int
count(PGconn *conn, const char *sql)
{
	char *v = testdb_value(conn, sql);
	int n = atoi(v ? v : "-1");	/* test code: input is our own SQL */

	free(v);
	return n;
}

static void
apply_on_empty_then_noop(void **state)
{
	char *ci = testdb_create("mig_fresh");
	PGconn *conn = testdb_connect(ci);
	struct migrate_status st;
	struct cterr err;
	int applied = -1;

	(void)state;
	cterr_clear(&err);
	assert_int_equal(migrate_check(conn, &embedded, &st, &err), 0);
	assert_int_equal(st.state, MIGRATE_BEHIND);
	assert_int_equal(st.db_version, 0);
	assert_non_null(strstr(st.detail, "certrackd migrate"));

	assert_int_equal(migrate_apply(conn, &embedded, &applied, &err), 0);
	assert_int_equal(applied, (int)embedded.n);
	assert_true(embedded.n >= 2);
	assert_int_equal(count(conn, "SELECT count(*) FROM schema_migrations"),
	    (int)embedded.n);
	assert_int_equal(count(conn, "SELECT count(*) FROM schema_migrations "
	    "WHERE checksum ~ '^[0-9a-f]{64}$'"), (int)embedded.n);
	assert_int_equal(migrate_check(conn, &embedded, &st, &err), 0);
	assert_int_equal(st.state, MIGRATE_CURRENT);
	assert_int_equal(st.db_version, (int)embedded.n);

	/* The second run is a no-op. */
	assert_int_equal(migrate_apply(conn, &embedded, &applied, &err), 0);
	assert_int_equal(applied, 0);
	assert_int_equal(count(conn, "SELECT count(*) FROM schema_migrations"),
	    (int)embedded.n);
	PQfinish(conn);
	free(ci);
}

/* Writes the embedded migrations into a fresh folder; returns its path. */
static char *
copy_migrations(const char *name)
{
	char *dir = malloc(512), path[700];

	snprintf(dir, 512, "%s/%s", testlib_env("CERTRACK_TEST_TMP"), name);
	mkdir(dir, 0755);
	for (size_t i = 0; i < embedded.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, embedded.v[i].name);
		FILE *fp = fopen(path, "w");
		assert_non_null(fp);
		fputs(embedded.v[i].sql, fp);
		fclose(fp);
	}
	return dir;
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[700];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
dir_equals_embedded(void **state)
{
	char *dir = copy_migrations("same");
	struct migration_set set;
	struct cterr err;

	(void)state;
	cterr_clear(&err);
	assert_int_equal(migrate_set_from_dir(&set, dir, &err), 0);
	assert_int_equal(set.n, embedded.n);
	for (size_t i = 0; i < set.n; i++)
		assert_string_equal(set.v[i].checksum, embedded.v[i].checksum);
	migrate_set_release(&set);
	free(dir);
}

static void
changed_migration_refused(void **state)
{
	PGconn *conn = testdb_migrated("mig_changed", NULL);
	char *dir = copy_migrations("changed");
	struct migration_set set;
	struct migrate_status st;
	struct cterr err;
	char edited[64];
	int applied = -1;

	(void)state;
	snprintf(edited, sizeof(edited), "%s", embedded.v[0].name);
	{
		/* A one-character edit of an applied file. */
		size_t n = strlen(embedded.v[0].sql);
		char *text = malloc(n + 16);
		memcpy(text, embedded.v[0].sql, n);
		memcpy(text + n, "-- edited\n", 11);
		write_file(dir, edited, text);
		free(text);
	}
	cterr_clear(&err);
	assert_int_equal(migrate_set_from_dir(&set, dir, &err), 0);
	assert_int_equal(migrate_check(conn, &set, &st, &err), 0);
	assert_int_equal(st.state, MIGRATE_CHANGED);
	assert_non_null(strstr(st.detail, edited));
	assert_int_equal(migrate_apply(conn, &set, &applied, &err), -1);
	assert_string_equal(err.code, "migration_changed");
	assert_non_null(strstr(err.detail, edited));
	assert_int_equal(applied, 0);
	migrate_set_release(&set);
	PQfinish(conn);
	free(dir);
}

static void
behind_and_ahead(void **state)
{
	PGconn *conn = testdb_migrated("mig_ahead", NULL);
	struct migration_set fewer = { embedded.v, embedded.n - 1 };
	struct migrate_status st;
	struct cterr err;
	int applied;

	(void)state;
	cterr_clear(&err);
	/* An older certrackd that knows one migration less: the database is
	 * ahead of it. */
	assert_int_equal(migrate_check(conn, &fewer, &st, &err), 0);
	assert_int_equal(st.state, MIGRATE_AHEAD);
	assert_non_null(strstr(st.detail, "upgrade certrackd"));
	assert_int_equal(migrate_apply(conn, &fewer, &applied, &err), -1);
	assert_string_equal(err.code, "schema_ahead");

	/* Forget the last one: now the full set is one behind. */
	char sql[100];
	snprintf(sql, sizeof(sql), "DELETE FROM schema_migrations WHERE "
	    "version = %zu", embedded.n);
	testdb_exec_ok(conn, sql);
	assert_int_equal(migrate_check(conn, &embedded, &st, &err), 0);
	assert_int_equal(st.state, MIGRATE_BEHIND);
	assert_int_equal(st.pending, 1);
	assert_int_equal(st.db_version, (int)embedded.n - 1);
	PQfinish(conn);
}

static void
failing_migration_rolls_back(void **state)
{
	char *ci = testdb_create("mig_fail");
	PGconn *conn = testdb_connect(ci);
	char *dir = malloc(512);
	struct migration_set set;
	struct cterr err;
	int applied = -1;

	(void)state;
	snprintf(dir, 512, "%s/failing", testlib_env("CERTRACK_TEST_TMP"));
	mkdir(dir, 0755);
	write_file(dir, "0001_one.sql", "CREATE TABLE one (x int);\n");
	write_file(dir, "0002_two.sql",
	    "CREATE TABLE two (x int);\nSELECT 1 / 0;\n");
	cterr_clear(&err);
	assert_int_equal(migrate_set_from_dir(&set, dir, &err), 0);
	assert_int_equal(migrate_apply(conn, &set, &applied, &err), -1);
	assert_int_equal(applied, 1);
	assert_non_null(strstr(err.detail, "0002_two.sql"));
	assert_non_null(strstr(err.detail, "division by zero"));
	char *two = testdb_value(conn, "SELECT to_regclass('two')::text");
	assert_null(two);
	char *one = testdb_value(conn, "SELECT to_regclass('one')::text");
	assert_string_equal(one, "one");
	free(one);
	assert_int_equal(count(conn, "SELECT max(version) FROM "
	    "schema_migrations"), 1);
	migrate_set_release(&set);
	PQfinish(conn);
	free(ci);
	free(dir);
}

static void
bad_migration_folders(void **state)
{
	char *dir = malloc(512);
	struct migration_set set;
	struct cterr err;

	(void)state;
	snprintf(dir, 512, "%s/gap", testlib_env("CERTRACK_TEST_TMP"));
	mkdir(dir, 0755);
	write_file(dir, "0001_one.sql", "SELECT 1;\n");
	write_file(dir, "0003_three.sql", "SELECT 3;\n");
	cterr_clear(&err);
	assert_int_equal(migrate_set_from_dir(&set, dir, &err), -1);
	assert_non_null(strstr(err.detail, "0003_three.sql"));

	snprintf(dir, 512, "%s/badname", testlib_env("CERTRACK_TEST_TMP"));
	mkdir(dir, 0755);
	write_file(dir, "1_one.sql", "SELECT 1;\n");
	assert_int_equal(migrate_set_from_dir(&set, dir, &err), -1);
	assert_non_null(strstr(err.detail, "1_one.sql"));

	assert_int_equal(migrate_set_from_dir(&set, "/nonexistent/sql", &err),
	    -1);
	assert_non_null(strstr(err.detail, "/nonexistent/sql"));
	free(dir);
}

struct racer {
	const char *conninfo;
	int rc, applied;
};

static void *
race(void *arg)
{
	struct racer *r = arg;
	PGconn *conn = PQconnectdb(r->conninfo);
	struct cterr err;

	cterr_clear(&err);
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	r->rc = migrate_apply(conn, &embedded, &r->applied, &err);
	if (r->rc != 0)
		fprintf(stderr, "racer: %s\n", err.detail);
	PQfinish(conn);
	return NULL;
}

static void
two_daemons_race(void **state)
{
	char *ci = testdb_create("mig_race");
	struct racer a = { ci, -1, -1 }, b = { ci, -1, -1 };
	pthread_t ta, tb;

	(void)state;
	pthread_create(&ta, NULL, race, &a);
	pthread_create(&tb, NULL, race, &b);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	assert_int_equal(a.rc, 0);
	assert_int_equal(b.rc, 0);
	/* One did all the work, the other found nothing pending. */
	assert_int_equal(a.applied + b.applied, (int)embedded.n);
	assert_true(a.applied == 0 || b.applied == 0);
	free(ci);
}

static void
create_first_admin_once(void **state)
{
	PGconn *conn = testdb_migrated("mig_users", NULL);
	struct users_new u = { "Admin", "admin", 0, "correct horse battery" };
	struct cterr err;
	int created = -1;

	(void)state;
	cterr_clear(&err);
	assert_int_equal(users_create_local(conn, &u, true, &created, &err), 0);
	assert_int_equal(created, 1);
	assert_int_equal(count(conn, "SELECT count(*) FROM audit_log WHERE "
	    "entity = 'user' AND action = 'user.create'"), 1);
	/* The hash is argon2id, and the password is nowhere in the audit. */
	assert_int_equal(count(conn, "SELECT count(*) FROM users WHERE "
	    "password_hash LIKE '$argon2id$%'"), 1);
	assert_int_equal(count(conn, "SELECT count(*) FROM audit_log WHERE "
	    "after::text LIKE '%argon2%' OR after::text LIKE '%horse%'"), 0);
	/* The shell's password is a one-time one, and the audit says so. */
	assert_int_equal(count(conn, "SELECT count(*) FROM users WHERE "
	    "password_change_required"), 1);
	assert_int_equal(count(conn, "SELECT count(*) FROM audit_log WHERE "
	    "(after->>'password_change_required')::boolean"), 1);

	/* --if-no-admin: a second run creates nothing. */
	struct users_new again = { "other", "admin", 0, "a-strong-password-1" };
	assert_int_equal(users_create_local(conn, &again, true, &created,
	    &err), 0);
	assert_int_equal(created, 0);

	/* Usernames are unique whatever their case; a failed write leaves
	 * no audit row. */
	struct users_new dup = { "ADMIN", "grader", 0, "a-strong-password-1" };
	assert_int_equal(users_create_local(conn, &dup, false, &created,
	    &err), -1);
	assert_string_equal(err.code, "duplicate");
	assert_int_equal(count(conn, "SELECT count(*) FROM audit_log"), 1);

	struct users_new bad = { "x", "owner", 0, "a-strong-password-1" };
	assert_int_equal(users_create_local(conn, &bad, false, &created, &err),
	    -1);
	assert_string_equal(err.code, "invalid_role");
	struct users_new clin = { "c", "clinician", 0, "a-strong-password-1" };
	assert_int_equal(users_create_local(conn, &clin, false, &created,
	    &err), -1);
	assert_string_equal(err.code, "clinician_required");
	struct users_new ghost = { "g", "clinician", 999999, "a-strong-password-1" };
	assert_int_equal(users_create_local(conn, &ghost, false, &created,
	    &err), -1);
	assert_string_equal(err.code, "unknown_clinician");
	assert_int_equal(count(conn, "SELECT count(*) FROM users"), 1);
	PQfinish(conn);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(apply_on_empty_then_noop),
		cmocka_unit_test(dir_equals_embedded),
		cmocka_unit_test(changed_migration_refused),
		cmocka_unit_test(behind_and_ahead),
		cmocka_unit_test(failing_migration_rolls_back),
		cmocka_unit_test(bad_migration_folders),
		cmocka_unit_test(two_daemons_race),
		cmocka_unit_test(create_first_admin_once),
	};
	return cmocka_run_group_tests_name("integ_migrate", tests, setup,
	    teardown);
}
