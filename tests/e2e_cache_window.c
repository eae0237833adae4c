/*
 * The lookup cache's freshness rules (issue 10, item 4), with a slow
 * listener: both daemons read each notification 400 ms after it arrives
 * and make their periodic round trips 400 ms apart
 * (CERTRACK_TEST_SLOW_NOTIFY_MS), as on a loaded or distant database, so
 * only the round trips a lookup asks for vouch for what it may serve.
 * Then:
 *   - a write's own daemon serves the new answer to the very next request
 *     (the write waits for nothing; the next lookup waits for a round trip
 *     begun after the write, cache_wrote());
 *   - the other daemon serves it within 100 ms of the write's reply (a
 *     lookup accepts only a round trip begun at most 50 ms before it),
 *     not 400 ms later when the listener would have read it;
 *   - and a cached answer does not cost a round trip of its own: a run of
 *     lookups shares the few the window asks for.
 */
#include "testlib.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOW_NOTIFY_MS "400"
/* What the issue asks of another daemon. */
#define OTHER_DAEMON_S 0.100

static struct testlib_world w;
static int port2;
static pid_t daemon2;

/* The given name in clinician ID's status, from the daemon on PORT. */
static char name[64];
static const char *
status_name(int port, long long id)
{
	return testlib_status_given(port, w.admin, id, name, sizeof(name));
}

static long long
clinician(const char *email, const char *given)
{
	return testlib_clinician(w.port, w.admin, email, given, "Window");
}

/* Renames clinician ID to GIVEN at VERSION through the daemon on PORT. */
static void
rename_via(int port, long long id, int version, const char *given)
{
	char path[64], body[100];

	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	snprintf(body, sizeof(body), "{\"version\":%d,\"given_name\":\"%s\"}",
	    version, given);
	assert_int_equal(testlib_api(port, "PATCH", path, w.admin, body,
	    NULL), 200);
}

/* The listener round trips the daemon on PORT made so far (/metrics). */
static long long
round_trips(int port)
{
	static const char name_[] = "\ncertrack_cache_round_trips_total ";
	char *resp = NULL, *p;
	long long n;

	assert_int_equal(testlib_http(port, "GET", "/metrics", NULL, NULL,
	    &resp), 200);
	p = strstr(resp, name_);
	assert_non_null(p);
	n = strtoll(p + strlen(name_), NULL, 10);
	free(resp);
	return n;
}

static void
own_write_is_seen_by_the_next_request(void **state)
{
	long long id = clinician("own@example.org", "Own0");
	char given[16];

	(void)state;
	/* cached on the daemon that writes, five times over */
	for (int v = 1; v <= 5; v++) {
		assert_string_equal(status_name(w.port, id), v == 1 ? "Own0" :
		    given);
		assert_string_equal(status_name(w.port, id), v == 1 ? "Own0" :
		    given);
		snprintf(given, sizeof(given), "Own%d", v);
		rename_via(w.port, id, v, given);
		/* the notification is still 400 ms away */
		assert_string_equal(status_name(w.port, id), given);
	}
}

static void
other_daemon_within_100_ms(void **state)
{
	long long id = clinician("other@example.org", "Before");
	double replied, took;
	int old = 0;

	(void)state;
	/* cached on the other daemon, whose lookups keep coming */
	for (int i = 0; i < 20; i++)
		assert_string_equal(status_name(port2, id), "Before");
	rename_via(w.port, id, 1, "After");
	replied = testlib_now();
	for (;;) {
		bool fresh = strcmp(status_name(port2, id), "After") == 0;

		took = testlib_now() - replied;
		if (fresh)
			break;
		old++;
		if (took > 5.0)
			fail_msg("the other daemon still serves the old answer "
			    "after %.0f ms", took * 1000);
	}
	print_message("the other daemon's first new answer %.1f ms after the "
	    "write's reply (%d old answers first; notifications are read "
	    "%s ms late)\n", took * 1000, old, SLOW_NOTIFY_MS);
	if (took >= OTHER_DAEMON_S)
		fail_msg("the other daemon's new answer came %.1f ms after the "
		    "write's reply (at most %.0f ms)", took * 1000,
		    OTHER_DAEMON_S * 1000);
}

static void
cached_answers_share_round_trips(void **state)
{
	long long id = clinician("share@example.org", "Share");
	long long before, after;
	int n = 200;

	(void)state;
	assert_string_equal(status_name(port2, id), "Share");
	before = round_trips(port2);
	for (int i = 0; i < n; i++)
		assert_string_equal(status_name(port2, id), "Share");
	after = round_trips(port2);
	print_message("%d cached lookups, %lld listener round trips\n", n,
	    after - before);
	/* one a lookup before the window; now one per 50 ms at most */
	if (after - before >= n / 2)
		fail_msg("%lld round trips for %d cached lookups",
		    after - before, n);
}

static int
setup(void **state)
{
	(void)state;
	/* both daemons inherit them */
	setenv("CERTRACK_CACHE_ENTRIES", "1000", 1);
	setenv("CERTRACK_TEST_SLOW_NOTIFY_MS", SLOW_NOTIFY_MS, 1);
	testlib_world_up(&w, "e2e_cache_window");
	port2 = testlib_free_port();
	daemon2 = testlib_start_daemon("e2e_cache_window2", port2, w.conninfo,
	    NULL);
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
		cmocka_unit_test(own_write_is_seen_by_the_next_request),
		cmocka_unit_test(other_daemon_within_100_ms),
		cmocka_unit_test(cached_answers_share_round_trips),
	};

	return cmocka_run_group_tests_name("e2e_cache_window", tests, setup,
	    teardown);
}
