/*
 * A real standby and a failover (issue 11, item 8), as docs/deployment.md
 * tells an operator to do it, on two clusters of this test's own:
 * - a primary, and a streaming replica made from it with pg_basebackup -R;
 * - one certrackd on the primary, one on the standby (started with
 *   --migrate, which must cope with a read-only database): reads on the
 *   standby answer, a write there is a clear 503 read_only_database;
 * - a third certrackd with a multi-host database_url (both socket
 *   folders, target_session_attrs=read-write) takes writes; the primary
 *   stops, the standby is promoted, and that daemon serves writes again
 *   by itself: every answer meanwhile is a 201 or a 503, and every 201
 *   is a row on the new primary.
 */
#include "testlib.h"

#include <glob.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char primary[512], standby[512];
static char primary_url[700], standby_url[700], failover_url[1400];

/* The PostgreSQL server binary NAME (pg_basebackup, ...) in BUF. */
static void
pg_bin(const char *name, char *buf, size_t len)
{
	char pattern[128];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "/usr/lib/postgresql/*/bin/%s", name);
	if (glob(pattern, 0, NULL, &g) != 0 || g.gl_pathc == 0)
		fail_msg("no %s under /usr/lib/postgresql", name);
	snprintf(buf, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
}

/* Runs ARGV as the postgres user when we are root (PostgreSQL refuses
 * root), else as ourselves; fails the test unless it exits 0. */
static void
run_as_pg(char **argv)
{
	char *runas[24] = { "/usr/sbin/runuser", "-u", "postgres", "--" };
	char *out = NULL, *err = NULL;
	int i = 0, rc;

	if (geteuid() == 0) {
		for (i = 0; argv[i] != NULL && i < 19; i++)
			runas[4 + i] = argv[i];
		runas[4 + i] = NULL;
		rc = testlib_run(runas, NULL, &out, &err);
	} else {
		rc = testlib_run(argv, NULL, &out, &err);
	}
	if (rc != 0)
		fail_msg("%s failed (%d): %s%s", argv[0], rc, out, err);
	free(out);
	free(err);
}

static void
append(const char *path, const char *text)
{
	FILE *fp = fopen(path, "a");

	if (fp == NULL || fputs(text, fp) < 0 || fclose(fp) != 0)
		fail_msg("cannot append to '%s'", path);
}

static int
setup(void **state)
{
	const char *tmp = testlib_env("CERTRACK_TEST_TMP");
	char script[600];
	char *argv[] = { script, "init", primary, "--fast", NULL };

	(void)state;
	snprintf(primary, sizeof(primary), "%s/pg_primary", tmp);
	snprintf(standby, sizeof(standby), "%s/pg_standby", tmp);
	snprintf(script, sizeof(script), "%s/../scripts/pg",
	    testlib_env("CERTRACK_TEST_BIN"));
	if (testlib_run(argv, NULL, NULL, NULL) != 0 ||
	    testlib_pg("start", primary) != 0)
		return -1;
	snprintf(primary_url, sizeof(primary_url),
	    "host=%s/sock user=postgres dbname=postgres", primary);
	snprintf(standby_url, sizeof(standby_url),
	    "host=%s/sock user=postgres dbname=postgres", standby);
	snprintf(failover_url, sizeof(failover_url),
	    "host=%s/sock,%s/sock user=postgres dbname=postgres "
	    "target_session_attrs=read-write", primary, standby);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	testlib_pg("stop", standby);
	testlib_pg("stop", primary);
	return 0;
}

/*
 * The standby, as docs/deployment.md says: pg_basebackup -R from the
 * primary into a folder of its own, its own socket folder, started.
 */
static void
make_standby(void)
{
	char bin[300], data[600], sock[600], conf[700], line[700], from[600];
	char *argv[] = { bin, "-h", from, "-U", "postgres", "-D", data, "-R",
	    "-X", "stream", "-c", "fast", NULL };
	struct passwd *pw = getpwnam("postgres");

	snprintf(data, sizeof(data), "%s/data", standby);
	snprintf(sock, sizeof(sock), "%s/sock", standby);
	snprintf(from, sizeof(from), "%s/sock", primary);
	assert_int_equal(mkdir(standby, 0700), 0);
	assert_int_equal(mkdir(sock, 0700), 0);
	if (geteuid() == 0) {
		assert_non_null(pw);
		assert_int_equal(chown(standby, pw->pw_uid, pw->pw_gid), 0);
		assert_int_equal(chown(sock, pw->pw_uid, pw->pw_gid), 0);
	}
	pg_bin("pg_basebackup", bin, sizeof(bin));
	run_as_pg(argv);
	/* Later lines win: the copy's socket folder is the primary's. */
	snprintf(conf, sizeof(conf), "%s/postgresql.conf", data);
	snprintf(line, sizeof(line), "unix_socket_directories = '%s'\n", sock);
	append(conf, line);
	assert_int_equal(testlib_pg("start", standby), 0);
}

/* The load a failover must not lose: writes, one after another. */
struct load {
	pthread_t t;
	int port;
	const char *token;
	atomic_bool stop;
	int created, refused, other;
	double first_after;	/* time of the first 201 after .since */
	double since;
	long long ids[4096];
	char other_body[2100];
};

static void *
load_run(void *p)
{
	struct load *l = p;
	struct testlib_answer a;
	char body[200];
	json_t *j;

	for (int i = 0; !atomic_load(&l->stop) && l->created < 4096; i++) {
		snprintf(body, sizeof(body), "{\"email\":\"load%d@example.org\","
		    "\"given_name\":\"L\",\"family_name\":\"Oad\","
		    "\"profession\":\"PT\"}", i);
		testlib_ask(l->port, "POST", "/v1/clinicians", l->token, body,
		    &a);
		if (a.status == 201) {
			j = json_loads(a.body, 0, NULL);
			l->ids[l->created++] = (long long)json_integer_value(
			    json_object_get(j, "id"));
			json_decref(j);
			if (l->since > 0 && l->first_after == 0)
				l->first_after = testlib_now();
		} else if (a.status == 503) {
			l->refused++;
		} else {
			l->other++;
			snprintf(l->other_body, sizeof(l->other_body),
			    "%d %s", a.status, a.body);
		}
		usleep(20 * 1000);
	}
	return NULL;
}

static void
standby_and_failover(void **state)
{
	const char *const migrate[] = { "--migrate", NULL };
	int pport = testlib_free_port(), sport = testlib_free_port();
	int fport = testlib_free_port();
	struct testlib_answer a;
	struct load l;
	char path[64], *pw, *token, *v;
	pid_t pd, sd, fd;
	PGconn *db;
	long long id;
	json_t *j;

	(void)state;
	/* The primary and its daemon, and something to read. */
	pd = testlib_start_daemon("standby_primary", pport, primary_url,
	    migrate);
	pw = testlib_make_user(primary_url, "operator", "admin", 0);
	token = testlib_login(pport, "operator", pw);
	testlib_ask(pport, "POST", "/v1/clinicians", token, "{\"email\":"
	    "\"read@example.org\",\"given_name\":\"Rita\",\"family_name\":"
	    "\"Read\",\"profession\":\"PT\"}", &a);
	testlib_expect(&a, "a write on the primary", 201, NULL, 10);
	j = testlib_json(a.body);
	id = testlib_int(j, "id");
	json_decref(j);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);

	/* The standby and its daemon: --migrate finds nothing to do there
	 * (and writes nothing, which it could not). */
	make_standby();
	sd = testlib_start_daemon("standby_replica", sport, standby_url,
	    migrate);
	for (int i = 0; i < 100; i++) {
		testlib_ask(sport, "GET", path, token, NULL, &a);
		if (a.status == 200)
			break;
		usleep(100 * 1000);
	}
	testlib_expect(&a, "a read on the standby", 200, "Rita", 5);
	testlib_ask(sport, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz on the standby", 200, "ready", 5);
	testlib_ask(sport, "GET", "/v1/me", token, NULL, &a);
	testlib_expect(&a, "/v1/me on the standby", 200, "operator", 5);
	testlib_ask(sport, "POST", "/v1/clinicians", token, "{\"email\":"
	    "\"w@example.org\",\"given_name\":\"W\",\"family_name\":\"W\","
	    "\"profession\":\"PT\"}", &a);
	testlib_expect(&a, "a write on the standby", 503,
	    "\"read_only_database\"", 5);
	testlib_ask(sport, "PATCH", path, token, "{\"version\":1,"
	    "\"given_name\":\"Nope\"}", &a);
	testlib_expect(&a, "a change on the standby", 503,
	    "\"read_only_database\"", 5);

	/* The daemon that follows the primary, wherever it is. */
	fd = testlib_start_daemon("standby_failover", fport, failover_url,
	    NULL);
	memset(&l, 0, sizeof(l));
	l.port = fport;
	l.token = token;
	assert_int_equal(pthread_create(&l.t, NULL, load_run, &l), 0);
	for (int i = 0; i < 100 && l.created < 10; i++)
		usleep(50 * 1000);
	assert_true(l.created >= 10);

	/* The primary goes; the operator promotes the standby. */
	assert_int_equal(testlib_stop_daemon(pd), 0);
	assert_int_equal(testlib_pg("stop", primary), 0);
	usleep(500 * 1000);
	db = testdb_connect(standby_url);
	l.since = testlib_now();
	v = testdb_value(db, "SELECT pg_promote(true, 60)");
	assert_string_equal(v, "t");
	free(v);
	for (int i = 0; i < 300 && l.first_after == 0; i++)
		usleep(100 * 1000);
	atomic_store(&l.stop, true);
	pthread_join(l.t, NULL);

	/* Back by itself, nothing but 503s meanwhile, no write lost. */
	if (l.other > 0)
		fail_msg("%d answers neither 201 nor 503, e.g. %s", l.other,
		    l.other_body);
	assert_true(l.first_after > 0);
	assert_true(l.refused > 0);
	for (int i = 0; i < l.created; i++) {
		char sql[100], *n;
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM clinicians "
		    "WHERE id = %lld", l.ids[i]);
		n = testdb_value(db, sql);
		assert_string_equal(n, "1");
		free(n);
	}
	testlib_ask(fport, "GET", "/readyz", NULL, NULL, &a);
	testlib_expect(&a, "/readyz after the failover", 200, "ready", 5);
	assert_int_equal(testlib_log_count("standby_failover",
	    "database lost"), 1);
	assert_int_equal(testlib_log_count("standby_failover",
	    "database back"), 1);

	PQfinish(db);
	assert_int_equal(testlib_stop_daemon(fd), 0);
	assert_int_equal(testlib_stop_daemon(sd), 0);
	free(pw);
	free(token);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(standby_and_failover),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
