/*
 * Unit tests of lib/strbuf.c: growth, the limit on the exact byte, and the
 * sticky failure: once an append is lost, every later one is refused, the
 * contents are never handed out (strbuf_detach() gives NULL), and a user
 * that checks once at the end (metrics_render()) answers -1 for every
 * limit short of the whole text, never a page with a hole in it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "certrack/metrics.h"
#include "certrack/router.h"
#include "certrack/strbuf.h"

static void
grows_and_stays_terminated(void **state)
{
	struct strbuf sb;
	char *p;
	size_t len;

	(void)state;
	strbuf_init(&sb);
	assert_string_equal(sb.buf, "");
	/* Past the first allocation (64 bytes) and a few doublings. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(strbuf_addf(&sb, "%02d,", i), 0);
	assert_int_equal(sb.len, 300);
	assert_int_equal(sb.buf[300], '\0');
	assert_memory_equal(sb.buf, "00,01,02,", 9);
	assert_string_equal(sb.buf + 291, "97,98,99,");
	assert_int_equal(strbuf_add(&sb, "a\0b", 3), 0);	/* bytes, NUL too */
	assert_int_equal(sb.len, 303);
	assert_false(strbuf_failed(&sb));
	p = strbuf_detach(&sb, &len);
	assert_non_null(p);
	assert_int_equal(len, 303);
	assert_memory_equal(p + 300, "a\0b", 4);
	free(p);
	/* Detached: SB is empty and usable again. */
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	strbuf_release(&sb);
}

/* Up to the limit is fine; one byte more fails. */
static void
limit_on_the_exact_byte(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init_max(&sb, 8);
	assert_int_equal(strbuf_addstr(&sb, "1234567"), 0);
	assert_int_equal(strbuf_addstr(&sb, "8"), 0);
	assert_false(strbuf_failed(&sb));
	assert_string_equal(sb.buf, "12345678");
	assert_int_equal(strbuf_addstr(&sb, "9"), -1);
	assert_true(strbuf_failed(&sb));
	strbuf_release(&sb);

	/* A formatted append is measured the same way. */
	strbuf_init_max(&sb, 8);
	assert_int_equal(strbuf_addf(&sb, "%s-%d", "abc", 1234), 0);
	assert_int_equal(sb.len, 8);
	strbuf_release(&sb);
	strbuf_init_max(&sb, 8);
	assert_int_equal(strbuf_addf(&sb, "%s-%d", "abc", 12345), -1);
	assert_true(strbuf_failed(&sb));
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

/* After a lost append nothing more is added, even what would fit. */
static void
failure_is_sticky(void **state)
{
	struct strbuf sb;
	size_t len = 99;

	(void)state;
	strbuf_init_max(&sb, 8);
	assert_int_equal(strbuf_addstr(&sb, "abc"), 0);
	assert_int_equal(strbuf_addstr(&sb, "defghi"), -1);	/* 9 > 8 */
	/* Nothing of the failed append went in... */
	assert_int_equal(sb.len, 3);
	assert_string_equal(sb.buf, "abc");
	/* ...nor of the later ones, though each alone would fit. */
	assert_int_equal(strbuf_addstr(&sb, "d"), -1);
	assert_int_equal(strbuf_add(&sb, "e", 1), -1);
	assert_int_equal(strbuf_addf(&sb, "%d", 7), -1);
	assert_int_equal(strbuf_add(&sb, "", 0), -1);
	assert_int_equal(sb.len, 3);
	assert_true(strbuf_failed(&sb));
	/* Emptying does not forget it. */
	strbuf_reset(&sb);
	assert_true(strbuf_failed(&sb));
	assert_int_equal(strbuf_addstr(&sb, "x"), -1);
	assert_int_equal(sb.len, 0);
	/* The contents are never handed out. */
	assert_null(strbuf_detach(&sb, &len));
	assert_int_equal(len, 0);
	/* strbuf_detach() released it: clean again, the limit kept. */
	assert_false(strbuf_failed(&sb));
	assert_int_equal(strbuf_addstr(&sb, "12345678"), 0);
	assert_int_equal(strbuf_addstr(&sb, "9"), -1);
	strbuf_release(&sb);
	assert_false(strbuf_failed(&sb));
	assert_int_equal(sb.len, 0);
	strbuf_release(&sb);
}

/* Without a limit, memory is the limit: a size no allocation can hold
 * fails the same sticky way (the path an exhausted heap takes). */
static void
size_beyond_memory_fails(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	assert_int_equal(strbuf_addstr(&sb, "kept"), 0);
	assert_int_equal(strbuf_add(&sb, "x", SIZE_MAX), -1);
	assert_true(strbuf_failed(&sb));
	assert_int_equal(strbuf_addstr(&sb, "y"), -1);
	assert_string_equal(sb.buf, "kept");
	assert_null(strbuf_detach(&sb, NULL));
	strbuf_release(&sb);
}

static int
noop(struct request *req)
{
	(void)req;
	return 0;
}

/*
 * The metrics page appends line by line and checks once.  With every limit
 * short of the whole text it answers -1 (api_metrics() then serves a 500,
 * not the page); with the whole text's length it answers 0 and the text.
 */
static void
metrics_page_never_has_a_hole(void **state)
{
	static const struct route routes[] = {
		{ "GET", "/v1/a-rather-long-route-name/{id}/with/parts",
		  ROLE_ADMIN, noop, NULL },
		{ "GET", "/v1/x", ROLE_PUBLIC, noop, NULL },
		{ "POST", "/v1/clinicians", ROLE_ADMIN, noop, NULL },
	};
	struct strbuf full, sb;

	(void)state;
	assert_int_equal(metrics_init(routes, 3), 0);
	metrics_observe(&routes[0], 200, 0.002);
	metrics_observe(&routes[1], 404, 0.3);
	metrics_observe(&routes[1], 299, 7.0);	/* "other", beyond buckets */
	metrics_observe(&routes[2], 201, 0.0001);
	metrics_observe(NULL, 405, 0.01);
	metrics_import_rows("created", 3);

	strbuf_init(&full);
	assert_int_equal(metrics_render(&full), 0);
	assert_non_null(strstr(full.buf, "route=\"/v1/x\",status=\"other\"} 1\n"));
	assert_non_null(strstr(full.buf,
	    "certrack_import_rows_total{outcome=\"created\"} 3\n"));
	assert_non_null(strstr(full.buf, "certrack_db_errors_total "));

	for (size_t cap = 1; cap < full.len; cap++) {
		strbuf_init_max(&sb, cap);
		if (metrics_render(&sb) != -1)
			fail_msg("a limit of %zu of %zu bytes rendered a page",
			    cap, full.len);
		assert_true(strbuf_failed(&sb));
		/* What is there is the start of the page, never more. */
		assert_true(sb.len < full.len);
		assert_memory_equal(sb.buf, full.buf, sb.len);
		strbuf_release(&sb);
	}
	strbuf_init_max(&sb, full.len);
	assert_int_equal(metrics_render(&sb), 0);
	assert_string_equal(sb.buf, full.buf);
	strbuf_release(&sb);

	/* A buffer that failed before the call is refused too. */
	strbuf_init_max(&sb, 1);
	assert_int_equal(strbuf_addstr(&sb, "ab"), -1);
	assert_int_equal(metrics_render(&sb), -1);
	strbuf_release(&sb);
	strbuf_release(&full);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(grows_and_stays_terminated),
		cmocka_unit_test(limit_on_the_exact_byte),
		cmocka_unit_test(failure_is_sticky),
		cmocka_unit_test(size_beyond_memory_fails),
		cmocka_unit_test(metrics_page_never_has_a_hole),
	};

	return cmocka_run_group_tests_name("unit_strbuf", tests, NULL, NULL);
}
