/*
 * Unit tests of lib/strnum.c: the strict number parser every number from
 * outside goes through (config values, query parameters, CSV fields).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "certrack/strnum.h"

/* A value no test expects, to see that *out is left alone on failure. */
#define SENTINEL_LL (-777777LL)
#define SENTINEL_INT (-4242)

/* Parses S with strnum_ll() and asserts success with value WANT. */
static void
ll_ok(const char *s, long long min, long long max, long long want)
{
	long long v = SENTINEL_LL;
	const char *err = "untouched";

	if (strnum_ll(s, min, max, &v, &err) != 0)
		fail_msg("strnum_ll('%s', %lld, %lld) failed: %s", s, min, max,
		    err);
	assert_int_equal(v, want);
}

/* Asserts strnum_ll() refuses S with WHY, leaving *out alone. */
static void
ll_bad(const char *s, long long min, long long max, const char *why)
{
	long long v = SENTINEL_LL;
	const char *err = NULL;

	if (strnum_ll(s, min, max, &v, &err) != -1)
		fail_msg("strnum_ll('%s', %lld, %lld) accepted it as %lld",
		    s ? s : "(null)", min, max, v);
	assert_non_null(err);
	if (strcmp(err, why) != 0)
		fail_msg("strnum_ll('%s'): errstr '%s', expected '%s'",
		    s ? s : "(null)", err, why);
	assert_int_equal(v, SENTINEL_LL);
	/* a NULL errstr is allowed */
	assert_int_equal(strnum_ll(s, min, max, &v, NULL), -1);
	assert_int_equal(v, SENTINEL_LL);
}

static void
dec_ok(const char *s, int frac, long long min, long long max, long long want)
{
	long long v = SENTINEL_LL;
	const char *err = "untouched";

	if (strnum_decimal(s, frac, min, max, &v, &err) != 0)
		fail_msg("strnum_decimal('%s', %d) failed: %s", s, frac, err);
	if (v != want)
		fail_msg("strnum_decimal('%s', %d) gave %lld, expected %lld", s,
		    frac, v, want);
}

static void
dec_bad(const char *s, int frac, long long min, long long max,
    const char *why)
{
	long long v = SENTINEL_LL;
	const char *err = NULL;

	if (strnum_decimal(s, frac, min, max, &v, &err) != -1)
		fail_msg("strnum_decimal('%s', %d) accepted it as %lld",
		    s ? s : "(null)", frac, v);
	assert_non_null(err);
	if (strcmp(err, why) != 0)
		fail_msg("strnum_decimal('%s', %d): errstr '%s', expected '%s'",
		    s ? s : "(null)", frac, err, why);
	assert_int_equal(v, SENTINEL_LL);
	assert_int_equal(strnum_decimal(s, frac, min, max, &v, NULL), -1);
	assert_int_equal(v, SENTINEL_LL);
}

/* ---- strnum_ll ------------------------------------------------------ */

static void
test_ll_valid(void **state)
{
	(void)state;
	ll_ok("0", 0, 10, 0);
	ll_ok("7", 0, 10, 7);
	ll_ok("10", 0, 10, 10);
	ll_ok("-5", -10, 10, -5);
	ll_ok("123456789", 0, LLONG_MAX, 123456789);
	ll_ok("007", 0, 10, 7);	/* leading zeros are still decimal */
	ll_ok("-007", -10, 10, -7);
	ll_ok("0000000000000000000000000042", 0, 100, 42);
}

static void
test_ll_bounds(void **state)
{
	(void)state;
	ll_ok("1", 1, 256, 1);
	ll_ok("256", 1, 256, 256);
	ll_bad("0", 1, 256, "too small");
	ll_bad("257", 1, 256, "too large");
	ll_ok("-10", -10, -1, -10);
	ll_ok("-1", -10, -1, -1);
	ll_bad("-11", -10, -1, "too small");
	ll_bad("0", -10, -1, "too large");
	/* a negative number where none is allowed is out of range */
	ll_bad("-5", 0, 10, "too small");
	/* min == max */
	ll_ok("3", 3, 3, 3);
	ll_bad("2", 3, 3, "too small");
	ll_bad("4", 3, 3, "too large");
}

static void
test_ll_extremes(void **state)
{
	char buf[64];

	(void)state;
	snprintf(buf, sizeof(buf), "%lld", LLONG_MAX);
	ll_ok(buf, LLONG_MIN, LLONG_MAX, LLONG_MAX);
	snprintf(buf, sizeof(buf), "%lld", LLONG_MIN);
	ll_ok(buf, LLONG_MIN, LLONG_MAX, LLONG_MIN);

	/* one past each end of long long */
	ll_bad("9223372036854775808", LLONG_MIN, LLONG_MAX, "too large");
	ll_bad("-9223372036854775809", LLONG_MIN, LLONG_MAX, "too small");
	/* far past, including values that wrap an unsigned long long */
	ll_bad("18446744073709551615", LLONG_MIN, LLONG_MAX, "too large");
	ll_bad("18446744073709551616", LLONG_MIN, LLONG_MAX, "too large");
	ll_bad("99999999999999999999999999999", LLONG_MIN, LLONG_MAX,
	    "too large");
	ll_bad("-99999999999999999999999999999", LLONG_MIN, LLONG_MAX,
	    "too small");
	/* trailing junk after an overflow is still junk */
	ll_bad("99999999999999999999999x", LLONG_MIN, LLONG_MAX, "invalid");

	/* LLONG_MAX / LLONG_MIN against narrower ranges */
	ll_bad("9223372036854775807", 0, 100, "too large");
	ll_bad("-9223372036854775808", 0, 100, "too small");
}

static void
test_ll_invalid(void **state)
{
	static const char *const bad[] = {
		"", " ", "-", "+", "+5", " 5", "5 ", "\t5", "5\n", "12abc",
		"abc", "0x10", "0X10", "1e3", "1E3", "5.", ".5", "5.0", "1,000",
		"1_000", "--5", "-+5", "+-5", "5-", "nan", "inf",
		"\xd9\xa1",		/* Arabic-Indic digit one */
		"\xef\xbc\x95",	/* fullwidth digit five */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ll_bad(bad[i], LLONG_MIN, LLONG_MAX, "invalid");
	ll_bad(NULL, LLONG_MIN, LLONG_MAX, "invalid");
}

static void
test_ll_negative_zero(void **state)
{
	(void)state;
	/* "-0" is refused outright, whatever the range */
	ll_bad("-0", -10, 10, "invalid");
	ll_bad("-0", 0, 10, "invalid");
	ll_bad("-000", -10, 10, "invalid");
	ll_ok("0", -10, 10, 0);
}

static void
test_ll_embedded_nul(void **state)
{
	/* parsing stops at the terminator: "12\0abc" is just "12" */
	static const char s[] = { '1', '2', '\0', 'a', 'b', 'c', '\0' };

	(void)state;
	ll_ok(s, 0, 100, 12);
}

/* ---- strnum_int ----------------------------------------------------- */

static void
test_int(void **state)
{
	char buf[64];
	int v;
	const char *err;

	(void)state;
	v = SENTINEL_INT;
	assert_int_equal(strnum_int("42", 1, 256, &v, &err), 0);
	assert_int_equal(v, 42);

	snprintf(buf, sizeof(buf), "%d", INT_MAX);
	assert_int_equal(strnum_int(buf, INT_MIN, INT_MAX, &v, &err), 0);
	assert_int_equal(v, INT_MAX);
	snprintf(buf, sizeof(buf), "%d", INT_MIN);
	assert_int_equal(strnum_int(buf, INT_MIN, INT_MAX, &v, &err), 0);
	assert_int_equal(v, INT_MIN);

	/* one past int's range, while still a fine long long */
	v = SENTINEL_INT;
	err = NULL;
	snprintf(buf, sizeof(buf), "%lld", (long long)INT_MAX + 1);
	assert_int_equal(strnum_int(buf, INT_MIN, INT_MAX, &v, &err), -1);
	assert_string_equal(err, "too large");
	assert_int_equal(v, SENTINEL_INT);
	snprintf(buf, sizeof(buf), "%lld", (long long)INT_MIN - 1);
	assert_int_equal(strnum_int(buf, INT_MIN, INT_MAX, &v, &err), -1);
	assert_string_equal(err, "too small");
	assert_int_equal(v, SENTINEL_INT);

	/* port-like range */
	assert_int_equal(strnum_int("65535", 0, 65535, &v, &err), 0);
	assert_int_equal(v, 65535);
	v = SENTINEL_INT;
	assert_int_equal(strnum_int("65536", 0, 65535, &v, &err), -1);
	assert_string_equal(err, "too large");
	assert_int_equal(strnum_int("abc", 0, 65535, &v, &err), -1);
	assert_string_equal(err, "invalid");
	assert_int_equal(strnum_int("", 0, 65535, &v, &err), -1);
	assert_string_equal(err, "invalid");
	assert_int_equal(strnum_int(NULL, 0, 65535, &v, &err), -1);
	assert_string_equal(err, "invalid");
	assert_int_equal(strnum_int("8.5", 0, 65535, &v, &err), -1);
	assert_string_equal(err, "invalid");
	assert_int_equal(strnum_int("-1", 0, 65535, &v, &err), -1);
	assert_string_equal(err, "too small");
	assert_int_equal(strnum_int("99999999999999999999", 0, 65535, &v,
	    &err), -1);
	assert_string_equal(err, "too large");
	assert_int_equal(strnum_int("-0", -5, 5, &v, NULL), -1);
	assert_int_equal(v, SENTINEL_INT);
}

/* ---- strnum_decimal ------------------------------------------------- */

static void
test_decimal_valid(void **state)
{
	(void)state;
	dec_ok("87.5", 2, 0, 10000, 8750);
	dec_ok("87.25", 2, 0, 10000, 8725);
	dec_ok("87", 2, 0, 10000, 8700);
	dec_ok("0.25", 2, 0, 10000, 25);
	dec_ok("0.05", 2, 0, 10000, 5);
	dec_ok("100.00", 2, 0, 10000, 10000);
	dec_ok("0", 2, 0, 10000, 0);
	dec_ok("0.0", 2, 0, 10000, 0);
	dec_ok("-1.5", 2, -10000, 10000, -150);
	dec_ok("-0.5", 1, -10, 10, -5);
	dec_ok("3.14159", 5, 0, LLONG_MAX, 314159);
	dec_ok("42", 0, 0, 100, 42);
	dec_ok("1", 18, 0, LLONG_MAX, 1000000000000000000LL);
	dec_ok("0.000000000000000001", 18, 0, LLONG_MAX, 1);
}

static void
test_decimal_bounds(void **state)
{
	(void)state;
	/* the range applies to the scaled value */
	dec_ok("100", 2, 0, 10000, 10000);
	dec_bad("100.01", 2, 0, 10000, "too large");
	dec_ok("0.01", 2, 1, 10000, 1);
	dec_bad("0.00", 2, 1, 10000, "too small");
	dec_bad("-0.01", 2, 0, 10000, "too small");

	/* scaling past long long */
	dec_ok("92233720368547758.07", 2, LLONG_MIN, LLONG_MAX, LLONG_MAX);
	dec_bad("92233720368547758.08", 2, LLONG_MIN, LLONG_MAX, "too large");
	dec_bad("92233720368547759", 2, LLONG_MIN, LLONG_MAX, "too large");
	dec_ok("-92233720368547758.08", 2, LLONG_MIN, LLONG_MAX, LLONG_MIN);
	dec_bad("-92233720368547758.09", 2, LLONG_MIN, LLONG_MAX, "too small");
	dec_bad("-92233720368547759", 2, LLONG_MIN, LLONG_MAX, "too small");
	dec_bad("10", 18, LLONG_MIN, LLONG_MAX, "too large");
	dec_bad("-10", 18, LLONG_MIN, LLONG_MAX, "too small");
}

static void
test_decimal_invalid(void **state)
{
	static const char *const bad[] = {
		"", ".5", "5.", ".", "-.5", "-", "-5.", "1.2.3", "5..0", "1e3",
		"1.5e2", " 1", "1 ", "+1.5", "nan", "inf", "87,5", "12abc",
		"0x10", "87.5%", "1.-5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		dec_bad(bad[i], 2, LLONG_MIN, LLONG_MAX, "invalid");
	dec_bad(NULL, 2, LLONG_MIN, LLONG_MAX, "invalid");
	/* too many fraction digits is not silently rounded or cut */
	dec_bad("87.555", 2, LLONG_MIN, LLONG_MAX, "invalid");
	dec_bad("87.500", 2, LLONG_MIN, LLONG_MAX, "invalid");
	dec_bad("1.5", 0, LLONG_MIN, LLONG_MAX, "invalid");
	dec_bad("1.0", 0, LLONG_MIN, LLONG_MAX, "invalid");
	/* "-0" in any spelling */
	dec_bad("-0", 2, LLONG_MIN, LLONG_MAX, "invalid");
	dec_bad("-0.00", 2, LLONG_MIN, LLONG_MAX, "invalid");
	/* frac_digits outside 0..18 */
	dec_bad("1", -1, LLONG_MIN, LLONG_MAX, "invalid");
	dec_bad("1", 19, LLONG_MIN, LLONG_MAX, "invalid");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ll_valid),
		cmocka_unit_test(test_ll_bounds),
		cmocka_unit_test(test_ll_extremes),
		cmocka_unit_test(test_ll_invalid),
		cmocka_unit_test(test_ll_negative_zero),
		cmocka_unit_test(test_ll_embedded_nul),
		cmocka_unit_test(test_int),
		cmocka_unit_test(test_decimal_valid),
		cmocka_unit_test(test_decimal_bounds),
		cmocka_unit_test(test_decimal_invalid),
	};

	return cmocka_run_group_tests_name("unit_strnum", tests, NULL, NULL);
}
