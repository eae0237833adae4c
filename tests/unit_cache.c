/*
 * Unit tests of server/cache.c's table, without a listener: the bound
 * (least recently used out, exactly at the configured size), drops by
 * clinician and whole, notification payloads, the epoch that keeps an
 * answer read before an invalidation out, and that nothing is stored or
 * served while nobody listens.
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
	char *v = cache_get(CACHE_STATUS, key);

	snprintf(got, sizeof(got), "%s", v ? v : "");
	free(v);
	return got;
}

static void
put(const char *key, long long clinician, const char *value)
{
	cache_put(CACHE_STATUS, key, clinician, value, cache_epoch());
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
	assert_null(cache_get(CACHE_VERIFY, "AAAA-BBBB-CCCC"));
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bound_is_exact_and_lru),
		cmocka_unit_test(drops),
		cmocka_unit_test(epoch_keeps_stale_answers_out),
		cmocka_unit_test(nothing_while_not_listening),
		cmocka_unit_test(zero_entries_is_no_cache),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
