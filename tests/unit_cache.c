/*
 * Unit tests of server/cache.c's table, without a listener: the bound
 * (least recently used out, exactly at the configured size), drops by
 * clinician and whole, notification payloads, the epoch that keeps an
 * answer read before an invalidation out, and that nothing is stored or
 * served while nobody listens; token checks: by hash, dropped by account,
 * never served at or after their expiry (a clock of the test's own), their
 * use recorded once a minute, and a table of their own.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cache.h"

/* The answer for status KEY, or "" on a miss. */
static char got[64];
static const char *
get(const char *key)
{
	char *v = cache_get(CACHE_STATUS, key, 0);

	snprintf(got, sizeof(got), "%s", v ? v : "");
	free(v);
	return got;
}

static void
put(const char *key, long long clinician, const char *value)
{
	cache_put(CACHE_STATUS, key, clinician, value, cache_epoch());
}

/* The test's clock of expiries. */
static double clock_now = 1000.0;
static double
test_clock(void)
{
	return clock_now;
}

/* A token's hash: 32 bytes of N. */
static const unsigned char *
hash_of(unsigned char n)
{
	static unsigned char h[32];

	memset(h, n, sizeof(h));
	return h;
}

struct who {
	long long user;
	char name[16];
};

static void
put_token(unsigned char n, long long user, double expires)
{
	struct who w = { user, "" };

	snprintf(w.name, sizeof(w.name), "user%lld", user);
	cache_token_put(hash_of(n), user, &w, sizeof(w), expires,
	    cache_epoch());
}

/* The account holding token N from the cache, or 0 on a miss. */
static bool touched;
static long long
token(unsigned char n)
{
	struct who w;

	if (!cache_token_get(hash_of(n), 0, &w, sizeof(w), &touched))
		return 0;
	return w.user;
}

static int
setup(void **state)
{
	(void)state;
	if (cache_start(NULL, 3) != 0)
		return -1;
	cache_set_listening(true);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	cache_stop();
	return 0;
}

static void
bound_is_exact_and_lru(void **state)
{
	struct cache_stats st;

	(void)state;
	put("1", 1, "one");
	put("2", 2, "two");
	put("3", 3, "three");
	cache_stats(&st);
	assert_int_equal(st.entries, 3);
	/* 1 is used: 2 is now the least recently used */
	assert_string_equal(get("1"), "one");
	put("4", 4, "four");
	cache_stats(&st);
	assert_int_equal(st.entries, 3);
	assert_string_equal(get("2"), "");
	assert_string_equal(get("1"), "one");
	assert_string_equal(get("3"), "three");
	assert_string_equal(get("4"), "four");
	/* a key stored again replaces its answer, no second entry */
	put("4", 4, "FOUR");
	cache_stats(&st);
	assert_int_equal(st.entries, 3);
	assert_string_equal(get("4"), "FOUR");
}

static void
drops(void **state)
{
	struct cache_stats st;

	(void)state;
	put("10", 10, "ten");
	cache_put(CACHE_VERIFY, "AAAA-BBBB-CCCC", 10, "cert of ten",
	    cache_epoch());
	put("11", 11, "eleven");
	/* a clinician's status and verification answers go together */
	cache_apply("10");
	assert_string_equal(get("10"), "");
	assert_null(cache_get(CACHE_VERIFY, "AAAA-BBBB-CCCC", 0));
	assert_string_equal(get("11"), "eleven");
	put("12", 12, "twelve");
	cache_apply("12,11");
	assert_string_equal(get("11"), "");
	assert_string_equal(get("12"), "");
	put("13", 13, "thirteen");
	cache_apply("*");
	assert_string_equal(get("13"), "");
	/* a payload not understood drops everything */
	put("14", 14, "fourteen");
	cache_apply("14,x");
	put("15", 15, "fifteen");
	cache_apply("nonsense");
	assert_string_equal(get("15"), "");
	cache_stats(&st);
	assert_int_equal(st.entries, 0);
}

static void
epoch_keeps_stale_answers_out(void **state)
{
	unsigned long e = cache_epoch();

	(void)state;
	/* read from the database at E; an invalidation (of anyone) lands
	 * before the answer is stored: it is not stored */
	cache_apply("999");
	cache_put(CACHE_STATUS, "20", 20, "old", e);
	assert_string_equal(get("20"), "");
	e = cache_epoch();
	cache_put(CACHE_STATUS, "20", 20, "new", e);
	assert_string_equal(get("20"), "new");
}

static void
nothing_while_not_listening(void **state)
{
	(void)state;
	put("30", 30, "thirty");
	cache_set_listening(false);
	assert_string_equal(get("30"), "");
	put("31", 31, "thirty-one");
	assert_string_equal(get("31"), "");
	/* listening again starts empty */
	cache_set_listening(true);
	assert_string_equal(get("30"), "");
	put("31", 31, "thirty-one");
	assert_string_equal(get("31"), "thirty-one");
}

static void
zero_entries_is_no_cache(void **state)
{
	(void)state;
	cache_stop();
	assert_int_equal(cache_start(NULL, 0), 0);
	cache_set_listening(true);
	put("40", 40, "forty");
	assert_string_equal(get("40"), "");
	cache_stop();
	assert_int_equal(cache_start(NULL, 3), 0);
	cache_set_listening(true);
}

static void
token_checks(void **state)
{
	struct cache_stats st;

	(void)state;
	cache_set_clock(test_clock);
	clock_now = 1000.0;
	put_token(1, 7, 1010.0);
	put_token(2, 7, 1010.0);
	put_token(3, 8, 1010.0);
	assert_int_equal(token(1), 7);
	assert_false(touched);		/* recorded when read */
	assert_int_equal(token(3), 8);
	assert_int_equal(token(4), 0);	/* never stored */
	/* an account's checks go together, and only theirs */
	cache_apply("u7");
	assert_int_equal(token(1), 0);
	assert_int_equal(token(2), 0);
	assert_int_equal(token(3), 8);
	/* clinician 8's answers are not account 8's token checks */
	cache_apply("8");
	assert_int_equal(token(3), 8);
	cache_apply("u9,8");
	assert_int_equal(token(3), 0);
	/* "*" drops them too; "u" alone is not understood: everything */
	put_token(5, 10, 1010.0);
	put("50", 50, "fifty");
	cache_apply("u");
	assert_int_equal(token(5), 0);
	assert_string_equal(get("50"), "");
	put_token(5, 10, 1010.0);
	cache_apply("*");
	assert_int_equal(token(5), 0);
	cache_stats(&st);
	assert_int_equal(st.token_entries, 0);
	cache_set_clock(NULL);
}

static void
token_expiry_boundary(void **state)
{
	(void)state;
	cache_set_clock(test_clock);
	clock_now = 1000.0;
	put_token(1, 7, 1010.0);
	clock_now = 1009.999;
	assert_int_equal(token(1), 7);	/* just before: served */
	clock_now = 1010.0;
	assert_int_equal(token(1), 0);	/* at the expiry: not */
	clock_now = 1000.0;
	assert_int_equal(token(1), 0);	/* and gone for good */
	/* one already expired is not stored */
	clock_now = 1010.0;
	put_token(2, 7, 1010.0);
	clock_now = 1000.0;
	assert_int_equal(token(2), 0);
	cache_set_clock(NULL);
}

static void
token_use_recorded_once_a_minute(void **state)
{
	(void)state;
	cache_set_clock(test_clock);
	clock_now = 1000.0;
	put_token(1, 7, 5000.0);
	clock_now = 1059.9;
	assert_int_equal(token(1), 7);
	assert_false(touched);
	clock_now = 1060.0;
	assert_int_equal(token(1), 7);
	assert_true(touched);		/* a minute on: once */
	assert_int_equal(token(1), 7);
	assert_false(touched);
	clock_now = 1120.0;
	assert_int_equal(token(1), 7);
	assert_true(touched);
	cache_apply("*");
	cache_set_clock(NULL);
}

static void
tokens_have_a_table_of_their_own(void **state)
{
	struct cache_stats st;

	(void)state;
	cache_set_clock(test_clock);
	clock_now = 1000.0;
	put("60", 60, "sixty");
	put("61", 61, "sixty-one");
	put("62", 62, "sixty-two");
	/* room for three of each: the answers stay */
	put_token(1, 1, 2000.0);
	put_token(2, 2, 2000.0);
	put_token(3, 3, 2000.0);
	assert_string_equal(get("60"), "sixty");
	assert_string_equal(get("61"), "sixty-one");
	assert_string_equal(get("62"), "sixty-two");
	/* the least recently used check is out at the fourth */
	assert_int_equal(token(1), 1);
	put_token(4, 4, 2000.0);
	assert_int_equal(token(2), 0);
	assert_int_equal(token(1), 1);
	assert_int_equal(token(3), 3);
	assert_int_equal(token(4), 4);
	cache_stats(&st);
	assert_int_equal(st.token_entries, 3);
	assert_int_equal(st.entries, 3);
	cache_apply("*");
	cache_set_clock(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bound_is_exact_and_lru),
		cmocka_unit_test(drops),
		cmocka_unit_test(epoch_keeps_stale_answers_out),
		cmocka_unit_test(nothing_while_not_listening),
		cmocka_unit_test(zero_entries_is_no_cache),
		cmocka_unit_test(token_checks),
		cmocka_unit_test(token_expiry_boundary),
		cmocka_unit_test(token_use_recorded_once_a_minute),
		cmocka_unit_test(tokens_have_a_table_of_their_own),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
