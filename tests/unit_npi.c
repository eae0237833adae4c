/*
 * Unit tests of lib/npi.c: the NPI check digit (CMS's "NPI Check Digit"
 * standard: Luhn over the prefix 80840 followed by the ten digits).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "certrack/npi.h"

/*
 * An independent reference: the textbook Luhn test over the 15-digit string
 * "80840" + NPI, doubling every second digit from the right.  Written from
 * the standard, not from npi.c, so the two can disagree.
 */
static bool
ref_luhn_npi(const char *npi)
{
	char full[16];
	int sum = 0;

	snprintf(full, sizeof(full), "80840%s", npi);
	for (int i = 14, k = 0; i >= 0; i--, k++) {
		int d = full[i] - '0';
		if (k % 2 == 1) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	return sum % 10 == 0;
}

/* The check digit the reference wants after FIRST9. */
static char
ref_check_digit(const char *first9)
{
	char npi[11];

	for (char c = '0'; c <= '9'; c++) {
		snprintf(npi, sizeof(npi), "%s%c", first9, c);
		if (ref_luhn_npi(npi))
			return c;
	}
	fail_msg("no check digit for '%s'", first9);
	return '?';
}

/* A tiny deterministic generator, so failures reproduce. */
static uint32_t
next_rand(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

static void
random_first9(uint32_t *seed, char out[10])
{
	for (int i = 0; i < 9; i++)
		out[i] = (char)('0' + next_rand(seed) % 10);
	out[9] = '\0';
}

static void
test_cms_example(void **state)
{
	(void)state;
	/* the worked example in CMS's NPI check digit standard */
	assert_true(npi_valid("1234567893"));
	assert_int_equal(npi_check_digit("123456789"), '3');
	assert_true(ref_luhn_npi("1234567893"));
}

static void
test_hand_computed(void **state)
{
	(void)state;
	/*
	 * 000000000: the prefix alone sums to 24 (8 + 0 + 8 + 4*2 + 0*2), so
	 * the check digit is 6.
	 */
	assert_int_equal(npi_check_digit("000000000"), '6');
	assert_true(npi_valid("0000000006"));
	/*
	 * 999999999: five doubled 9s give 9 each (18 -> 9) = 45, four plain
	 * 9s = 36, plus 24 = 105, so 5.
	 */
	assert_int_equal(npi_check_digit("999999999"), '5');
	assert_true(npi_valid("9999999995"));
	/*
	 * 100000000: the leading 1 is doubled (2), 24 + 2 = 26, so 4.
	 */
	assert_int_equal(npi_check_digit("100000000"), '4');
	assert_true(npi_valid("1000000004"));
	/*
	 * 000000001: the last payload digit is doubled too: 24 + 2 = 26 -> 4.
	 * 000000010: the 1 at position 8 is not doubled: 24 + 1 = 25 -> 5.
	 */
	assert_int_equal(npi_check_digit("000000001"), '4');
	assert_int_equal(npi_check_digit("000000010"), '5');
	/* 24 + 6 = 30: a check digit of 0 */
	assert_int_equal(npi_check_digit("000000003"), '0');
	assert_true(npi_valid("0000000030"));
	assert_false(npi_valid("0000000031"));
}

static void
test_matches_reference(void **state)
{
	uint32_t seed = 20240601u;
	char first9[10], npi[11];

	(void)state;
	for (int n = 0; n < 2000; n++) {
		random_first9(&seed, first9);
		char want = ref_check_digit(first9);
		int got = npi_check_digit(first9);
		if (got != want)
			fail_msg("npi_check_digit('%s') = '%c', reference '%c'",
			    first9, got, want);
		for (char c = '0'; c <= '9'; c++) {
			snprintf(npi, sizeof(npi), "%s%c", first9, c);
			if (npi_valid(npi) != (c == want))
				fail_msg("npi_valid('%s') = %d", npi,
				    npi_valid(npi));
		}
	}
}

static void
test_single_digit_changes(void **state)
{
	static const char *const valid[] = {
		"1234567893", "0000000006", "9999999995", "1000000004",
	};
	uint32_t seed = 7u;
	char npi[11], first9[10];

	(void)state;
	for (size_t v = 0; v < sizeof(valid) / sizeof(valid[0]) + 200; v++) {
		if (v < sizeof(valid) / sizeof(valid[0])) {
			strcpy(npi, valid[v]);
		} else {
			random_first9(&seed, first9);
			snprintf(npi, sizeof(npi), "%s%c", first9,
			    npi_check_digit(first9));
		}
		assert_true(npi_valid(npi));
		/* Luhn catches every single-digit error, check digit too */
		for (int i = 0; i < 10; i++) {
			char orig = npi[i];
			for (char c = '0'; c <= '9'; c++) {
				if (c == orig)
					continue;
				npi[i] = c;
				if (npi_valid(npi))
					fail_msg("'%s' (digit %d changed) "
					    "passed", npi, i);
			}
			npi[i] = orig;
		}
	}
}

static void
test_transpositions(void **state)
{
	uint32_t seed = 99u;
	char npi[11], first9[10];
	int checked = 0;

	(void)state;
	for (int v = 0; v < 300; v++) {
		if (v == 0) {
			strcpy(npi, "1234567893");
		} else {
			random_first9(&seed, first9);
			snprintf(npi, sizeof(npi), "%s%c", first9,
			    npi_check_digit(first9));
		}
		for (int i = 0; i < 9; i++) {
			char a = npi[i], b = npi[i + 1];
			/* Luhn's one blind spot is 09 <-> 90 */
			if (a == b || (a == '0' && b == '9') ||
			    (a == '9' && b == '0'))
				continue;
			npi[i] = b;
			npi[i + 1] = a;
			if (npi_valid(npi))
				fail_msg("'%s' (digits %d,%d swapped) passed",
				    npi, i, i + 1);
			npi[i] = a;
			npi[i + 1] = b;
			checked++;
		}
	}
	assert_true(checked > 1000);
	/* the example's neighbours: 1234567893 with 3 and 4 swapped */
	assert_false(npi_valid("1243567893"));
	assert_false(npi_valid("2134567893"));
	assert_false(npi_valid("1234567839"));
}

static void
test_invalid(void **state)
{
	static const char *const bad[] = {
		"1234567890",	/* wrong check digit */
		"1234567894",
		"123456789",	/* nine digits */
		"12345678931",	/* eleven digits */
		"",
		"12345678a3",
		"a234567893",
		"123456789X",
		"1234567 93",
		" 1234567893",
		"1234567893 ",
		" 123456789",	/* ten characters, one a blank */
		"123456789 ",
		"-123456789",
		"+123456789",
		"12345.7893",
		"1234567893\n",
		"\357\274\2212345678",	/* ten bytes: fullwidth 1 + 7 */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (npi_valid(bad[i]))
			fail_msg("npi_valid('%s') accepted it", bad[i]);
	assert_false(npi_valid(NULL));
}

static void
test_check_digit_refuses(void **state)
{
	(void)state;
	assert_int_equal(npi_check_digit(NULL), -1);
	assert_int_equal(npi_check_digit(""), -1);
	assert_int_equal(npi_check_digit("12345678"), -1);
	assert_int_equal(npi_check_digit("1234567890"), -1);
	assert_int_equal(npi_check_digit("12345678a"), -1);
	assert_int_equal(npi_check_digit(" 12345678"), -1);
	assert_int_equal(npi_check_digit("12345678 "), -1);
	assert_int_equal(npi_check_digit("-12345678"), -1);
	assert_int_equal(npi_check_digit("1234/6789"), -1);	/* '0' - 1 */
	assert_int_equal(npi_check_digit("1234:6789"), -1);	/* '9' + 1 */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cms_example),
		cmocka_unit_test(test_hand_computed),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_single_digit_changes),
		cmocka_unit_test(test_transpositions),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_check_digit_refuses),
	};

	return cmocka_run_group_tests_name("unit_npi", tests, NULL, NULL);
}
