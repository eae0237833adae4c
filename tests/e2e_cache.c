/*
 * The lookup cache (issue 10, item 4) end to end: certrackd caches status
 * and verification answers, a write through the API or an import drops
 * them (the next read on the daemon that wrote sees it, and another
 * daemon's within 100 ms), the bound holds (cache_entries), and losing
 * the listening connection empties the cache until it listens again.
 *
 * That an answer is cached is shown by changing the database behind the
 * daemons' backs: with session_replication_role = replica this test's own
 * session fires no trigger, so no notification tells the daemons, and a
 * daemon that serves the old answer served it from its cache.
 */
#include "testlib.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Room for two answers: the bound is seen with three. */
#define ENTRIES "2"

static struct testlib_world w;
static int port2;
static pid_t daemon2;

/* GET PATH from the daemon on PORT as the admin: 200 and its body. */
static json_t *
get(int port, const char *path)
{
	char *resp = NULL;
	json_t *j;

	assert_int_equal(testlib_api(port, "GET", path, w.admin, NULL, &resp),
	    200);
	j = testlib_json(resp);
	free(resp);
	return j;
}

/* The given name in clinician ID's status, from the daemon on PORT. */
static char name[64];
static const char *
status_name(int port, long long id)
{
	return testlib_status_given(port, w.admin, id, name, sizeof(name));
}

/* Renames clinician ID without telling anyone (no trigger fires). */
static void
rename_silently(long long id, const char *given)
{
	char sql[200];

	snprintf(sql, sizeof(sql), "SET session_replication_role = replica;"
	    " UPDATE clinicians SET given_name = '%s' WHERE id = %lld;"
	    " SET session_replication_role = DEFAULT", given, id);
	testdb_exec_ok(w.db, sql);
}

static long long
clinician(const char *email, const char *given)
{
	return testlib_clinician(w.port, w.admin, email, given, "Cached");
}

static void
api_write_drops_the_answer(void **state)
{
	long long id = clinician("ann@example.org", "Ann");
	char body[100], path[64];
	json_t *j, *lv;

	(void)state;
	assert_string_equal(status_name(w.port, id), "Ann");
	assert_string_equal(status_name(port2, id), "Ann");
	/* cached on both daemons: a silent change is not seen */
	rename_silently(id, "Silent");
	assert_string_equal(status_name(w.port, id), "Ann");
	assert_string_equal(status_name(port2, id), "Ann");
	/* an enrollment through the first daemon: it sees it at once */
	snprintf(body, sizeof(body), "{\"clinician_id\":%lld,\"level\":"
	    "\"DN1\"}", id);
	assert_int_equal(testlib_api(w.port, "POST", "/v1/enrollments",
	    w.admin, body, NULL), 201);
	assert_string_equal(status_name(w.port, id), "Silent");
	/* the other daemon within 100 ms (50 by design) */
	double t0 = testlib_now();
	while (strcmp(status_name(port2, id), "Silent") != 0)
		if (testlib_now() - t0 >= 0.100)
			fail_msg("the other daemon still serves '%s' %.0f ms "
			    "after the write", name, (testlib_now() - t0) * 1000);
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	j = get(port2, path);
	lv = json_array_get(json_object_get(json_array_get(json_object_get(j,
	    "programs"), 0), "levels"), 0);
	assert_string_equal(testlib_str(json_object_get(lv, "enrollment"),
	    "status"), "enrolled");
	json_decref(j);
}

static void
import_drops_the_answer(void **state)
{
	long long id = clinician("bea@example.org", "Bea");
	json_t *report;

	(void)state;
	assert_string_equal(status_name(w.port, id), "Bea");
	rename_silently(id, "Silent");
	assert_string_equal(status_name(w.port, id), "Bea");
	/* a roster naming her (as she is now) enrolls her: the import's
	 * write drops her answer */
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster",
	    "given_name,family_name,email,profession,level\n"
	    "Silent,Cached,bea@example.org,PT,DN1\n", &report), 201);
	json_decref(report);
	assert_string_equal(status_name(w.port, id), "Silent");
}

static void
verification_is_cached_and_dropped(void **state)
{
	long long id = clinician("cal@example.org", "Cal");
	char sql[300], path[80], body[100], *number;
	json_t *j;

	(void)state;
	/* issued silently too: no notification of it may still be on its
	 * way when the first answer is cached (which would keep it out) */
	testdb_exec_ok(w.db, "SET session_replication_role = replica");
	snprintf(sql, sizeof(sql), "INSERT INTO certificates (number,"
	    " clinician_id, level_id, issued_on) SELECT"
	    " certificate_number_new(), %lld, id, current_date - 1 FROM levels"
	    " WHERE code = 'DN1' RETURNING number", id);
	number = testdb_value(w.db, sql);
	testdb_exec_ok(w.db, "SET session_replication_role = DEFAULT");
	assert_non_null(number);
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	j = get(w.port, path);
	assert_string_equal(testlib_str(j, "holder"), "Cal Cached");
	json_decref(j);
	rename_silently(id, "Silent");
	j = get(w.port, path);
	assert_string_equal(testlib_str(j, "holder"), "Cal Cached");
	assert_string_equal(testlib_str(j, "status"), "valid");
	json_decref(j);
	/* revoked through the API: the next verification says so */
	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", number);
	snprintf(body, sizeof(body), "{\"category\":\"other\",\"note\":"
	    "\"a test\"}");
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, body,
	    NULL), 200);
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	j = get(w.port, path);
	assert_string_equal(testlib_str(j, "status"), "revoked");
	assert_string_equal(testlib_str(j, "holder"), "Silent Cached");
	json_decref(j);
	free(number);
}

static void
the_bound_holds(void **state)
{
	long long a = clinician("dan@example.org", "Dan");
	long long b = clinician("eve@example.org", "Eve");
	long long c = clinician("fay@example.org", "Fay");

	(void)state;
	/* room for two: after A, B, C, A is gone (the least recently used) */
	status_name(w.port, a);
	status_name(w.port, b);
	status_name(w.port, c);
	rename_silently(a, "A2");
	rename_silently(b, "B2");
	rename_silently(c, "C2");
	assert_string_equal(status_name(w.port, c), "Fay");	/* cached */
	assert_string_equal(status_name(w.port, a), "A2");	/* was out */
	/* A came in, pushing out B (C was used after it) */
	assert_string_equal(status_name(w.port, b), "B2");
	/* ... and B pushed out C */
	assert_string_equal(status_name(w.port, c), "C2");
}

static void
losing_the_listener_empties_the_cache(void **state)
{
	long long id = clinician("gus@example.org", "Gus");
	int i;

	(void)state;
	assert_string_equal(status_name(w.port, id), "Gus");
	rename_silently(id, "G2");
	assert_string_equal(status_name(w.port, id), "Gus");
	/* the listeners' backends are terminated: each daemon drops its
	 * cache, and the first one serves the database's answer */
	testdb_exec_ok(w.db, "SELECT pg_terminate_backend(pid, 5000) FROM"
	    " pg_stat_activity WHERE application_name = 'certrackd cache'");
	assert_string_equal(status_name(w.port, id), "G2");
	/* it listens again within seconds, and caches again */
	for (i = 0; i < 100; i++) {
		status_name(w.port, id);
		rename_silently(id, i % 2 ? "G3" : "G4");
		if (strcmp(status_name(w.port, id), i % 2 ? "G3" : "G4") != 0)
			break;
		usleep(100 * 1000);
	}
	if (i == 100)
		fail_msg("the cache did not come back within 10 s");
}

static int
setup(void **state)
{
	(void)state;
	/* both daemons inherit it */
	setenv("CERTRACK_CACHE_ENTRIES", ENTRIES, 1);
	testlib_world_up(&w, "e2e_cache");
	port2 = testlib_free_port();
	daemon2 = testlib_start_daemon("e2e_cache2", port2, w.conninfo, NULL);
	return 0;
}

static int
teardown(void **state)
{
	int rc = testlib_stop_daemon(daemon2);

	(void)state;
	return testlib_world_down(&w) == 0 && rc == 0 ? 0 : -1;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(api_write_drops_the_answer),
		cmocka_unit_test(import_drops_the_answer),
		cmocka_unit_test(verification_is_cached_and_dropped),
		cmocka_unit_test(the_bound_holds),
		cmocka_unit_test(losing_the_listener_empties_the_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
