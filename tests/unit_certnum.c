/*
 * Unit tests of lib/certnum.c: the Luhn mod 32 check symbol of
 * certificate numbers (the reference vectors of docs/data-model.md, an
 * independent textbook reference), every single-symbol substitution and
 * every adjacent transposition of valid numbers, and the normalisation of
 * typed input.
 *
 * Luhn mod 32 misses exactly one kind of neighbour swap: '0' and 'Z'
 * (values 0 and 31), the base-32 twin of Luhn mod 10's 09 <-> 90.  A
 * doubled 31 adds 62 -> 1 + 30 = 31 and a doubled 0 adds 0, so swapping
 * them leaves the sum unchanged.  test_transpositions() proves by brute
 * force that no other pair is missed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "certrack/certnum.h"

static const char ALPHA[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/*
 * An independent reference, written from the textbook Luhn mod N
 * ("generate check character": the rightmost data symbol is doubled, and a
 * doubled value is split into its base-N digits) rather than from
 * certnum.c.
 */
static char
ref_check(const char *data)
{
	size_t n = strlen(data);
	int factor = 2, sum = 0;

	for (size_t i = n; i-- > 0;) {
		int code = (int)(strchr(ALPHA, data[i]) - ALPHA);
		int addend = factor * code;
		factor = factor == 2 ? 1 : 2;
		addend = addend / 32 + addend % 32;
		sum += addend;
	}
	return ALPHA[(32 - sum % 32) % 32];
}

/* A tiny deterministic generator, so failures reproduce. */
static uint32_t
next_rand(uint32_t *seed)
{
	*seed = *seed * 1103515245u + 12345u;
	return (*seed >> 16) & 0x7fff;
}

/* A random valid canonical number into OUT (15 bytes). */
static void
random_number(uint32_t *seed, char *out)
{
	char data[CERTNUM_DATA + 1];

	for (int i = 0; i < CERTNUM_DATA; i++)
		data[i] = ALPHA[next_rand(seed) % 32];
	data[CERTNUM_DATA] = '\0';
	snprintf(out, CERTNUM_LEN + 1, "%.4s-%.4s-%.3s%c", data, data + 4,
	    data + 8, ref_check(data));
}

/* Index of the Ith symbol (0..11) in the canonical text. */
static int
pos(int i)
{
	return i + i / 4;
}

static void
test_reference_vectors(void **state)
{
	static const struct {
		const char *data, *number;
	} v[] = {
		{ "ABCDEFGHJKM", "ABCD-EFGH-JKMY" },
		{ "K7QM2X9PRT4", "K7QM-2X9P-RT4K" },
		{ "00000000000", "0000-0000-0000" },
		{ "ZZZZZZZZZZZ", "ZZZZ-ZZZZ-ZZZB" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		char out[CERTNUM_LEN + 1];
		int c = certnum_check_symbol(v[i].data, CERTNUM_DATA);

		assert_int_equal(c, v[i].number[13]);
		assert_int_equal(ref_check(v[i].data), v[i].number[13]);
		assert_true(certnum_valid(v[i].number));
		assert_int_equal(certnum_normalize(v[i].number, out),
		    CERTNUM_OK);
		assert_string_equal(out, v[i].number);
	}
	/* the example of a mistyped number in the API's documentation */
	assert_false(certnum_valid("ABCD-EFGH-JKMZ"));
}

static void
test_matches_reference(void **state)
{
	uint32_t seed = 20240601u;
	char data[CERTNUM_DATA + 1];

	(void)state;
	for (int n = 0; n < 5000; n++) {
		for (int i = 0; i < CERTNUM_DATA; i++)
			data[i] = ALPHA[next_rand(&seed) % 32];
		data[CERTNUM_DATA] = '\0';
		int got = certnum_check_symbol(data, CERTNUM_DATA);
		if (got != ref_check(data))
			fail_msg("check symbol of '%s': '%c', reference '%c'",
			    data, got, ref_check(data));
	}
	/* any length, as the SQL function: "1" -> doubled 2 -> check 30 */
	assert_int_equal(certnum_check_symbol("1", 1), 'Y');
	assert_int_equal(certnum_check_symbol("0", 1), '0');
}

static void
test_check_symbol_refuses(void **state)
{
	(void)state;
	assert_int_equal(certnum_check_symbol(NULL, 3), -1);
	assert_int_equal(certnum_check_symbol("", 0), -1);
	assert_int_equal(certnum_check_symbol("ABCDEFGHJKU", 11), -1);
	assert_int_equal(certnum_check_symbol("abcdefghjkm", 11), -1);
	assert_int_equal(certnum_check_symbol("ABCDEFGHJKI", 11), -1);
	assert_int_equal(certnum_check_symbol("ABCD-EFGHJK", 11), -1);
	assert_int_equal(certnum_value('U'), -1);
	assert_int_equal(certnum_value('\0'), -1);
	assert_int_equal(certnum_value('Z'), 31);
	assert_int_equal(certnum_value('0'), 0);
}

static void
test_single_substitutions(void **state)
{
	uint32_t seed = 7u;
	char num[CERTNUM_LEN + 1], out[CERTNUM_LEN + 1];
	long checked = 0;

	(void)state;
	for (int v = 0; v < 300; v++) {
		if (v == 0)
			strcpy(num, "ABCD-EFGH-JKMY");
		else
			random_number(&seed, num);
		assert_true(certnum_valid(num));
		/* every symbol, the check symbol too, by every other symbol */
		for (int i = 0; i < CERTNUM_SYMBOLS; i++) {
			char orig = num[pos(i)];
			for (int s = 0; s < 32; s++) {
				if (ALPHA[s] == orig)
					continue;
				num[pos(i)] = ALPHA[s];
				if (certnum_valid(num))
					fail_msg("'%s' (symbol %d changed) "
					    "passed", num, i);
				assert_int_equal(certnum_normalize(num, out),
				    CERTNUM_BAD_CHECK);
				checked++;
			}
			num[pos(i)] = orig;
		}
	}
	assert_int_equal(checked, 300L * 12 * 31);
}

static void
test_transpositions(void **state)
{
	char num[CERTNUM_LEN + 1];
	bool missed[32][32];
	int nmissed = 0;
	uint32_t seed = 99u;

	(void)state;
	memset(missed, 0, sizeof(missed));
	/*
	 * Every ordered pair of distinct symbols at every neighbouring
	 * position (the check symbol included), inside random valid numbers.
	 */
	for (int v = 0; v < 40; v++) {
		random_number(&seed, num);
		for (int i = 0; i + 1 < CERTNUM_SYMBOLS; i++) {
			for (int a = 0; a < 32; a++) {
				for (int b = 0; b < 32; b++) {
					char data[CERTNUM_DATA + 1];
					char t[CERTNUM_LEN + 1];

					if (a == b)
						continue;
					/* a valid number with a, b at i, i+1 */
					strcpy(t, num);
					t[pos(i)] = ALPHA[a];
					t[pos(i + 1)] = ALPHA[b];
					for (int k = 0, j = 0; k < 11; k++)
						data[j++] = t[pos(k)];
					data[CERTNUM_DATA] = '\0';
					if (i + 1 < CERTNUM_DATA)
						t[13] = ref_check(data);
					else if (ref_check(data) != ALPHA[b])
						continue; /* b is the check */
					assert_true(certnum_valid(t));
					t[pos(i)] = ALPHA[b];
					t[pos(i + 1)] = ALPHA[a];
					if (certnum_valid(t) && !missed[a][b]) {
						missed[a][b] = true;
						nmissed++;
					}
				}
			}
		}
	}
	/* the one blind spot: 0Z <-> Z0, both ways */
	assert_int_equal(nmissed, 2);
	assert_true(missed[0][31]);
	assert_true(missed[31][0]);
	/* ... shown on a number: 0Z00-0000-000? and Z000-0000-000? */
	char data[] = "0Z000000000";
	char a[CERTNUM_LEN + 1], b[CERTNUM_LEN + 1];
	snprintf(a, sizeof(a), "0Z00-0000-000%c",
	    certnum_check_symbol(data, CERTNUM_DATA));
	snprintf(b, sizeof(b), "Z000-0000-000%c", a[13]);
	assert_true(certnum_valid(a));
	assert_true(certnum_valid(b));
	/* ... and a caught swap on a reference vector */
	assert_false(certnum_valid("BACD-EFGH-JKMY"));
	assert_false(certnum_valid("ABCD-EFGH-JKYM"));
}

static void
test_normalize(void **state)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "ABCD-EFGH-JKMY", "ABCD-EFGH-JKMY" },
		{ "abcd-efgh-jkmy", "ABCD-EFGH-JKMY" },
		{ "abcdefghjkmy", "ABCD-EFGH-JKMY" },
		{ "  ABCD EFGH JKMY ", "ABCD-EFGH-JKMY" },
		{ "AB-CD-EF-GH-JK-MY", "ABCD-EFGH-JKMY" },
		{ "ABCD--EFGH\tJKMY", "ABCD-EFGH-JKMY" },
		{ "k7qm2x9prt4k", "K7QM-2X9P-RT4K" },
		/* Crockford's read-alikes: O o -> 0, I i L l -> 1 */
		{ "OOOO-oooo-0000", "0000-0000-0000" },
		{ "zzzz zzzz zzzb", "ZZZZ-ZZZZ-ZZZB" },
	};
	static const char *const malformed[] = {
		"", "-", "   ", "ABCD-EFGH-JKM", "ABCD-EFGH-JKMYY",
		"ABCD-EFGH-JKMU",	/* U is not a Crockford symbol */
		"ABCD-EFGH-JK*Y", "ABCD_EFGH_JKMY", "ABCD.EFGH.JKMY",
		"ABCD-EFGH-JKM\xc3\x9d", "ABCD-EFGH-JKMY\n",
		"ABCD-EFGH-JKMY-ABCD-EFGH-JKMY",
	};
	char out[CERTNUM_LEN + 1];
	char data[CERTNUM_DATA + 1] = "11110000AB1";
	char want[CERTNUM_LEN + 1], typed[32], check;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		memset(out, 'x', sizeof(out));
		if (certnum_normalize(ok[i].in, out) != CERTNUM_OK)
			fail_msg("'%s' refused", ok[i].in);
		assert_string_equal(out, ok[i].out);
		assert_true(certnum_valid(out));
	}
	/* every read-alike, in both cases, in one number */
	check = (char)certnum_check_symbol(data, CERTNUM_DATA);
	snprintf(want, sizeof(want), "1111-0000-AB1%c", check);
	snprintf(typed, sizeof(typed), "iLlI oOo0 aBl%c",
	    check == '1' ? 'l' : check == '0' ? 'o' :
	    check >= 'A' ? (char)(check - 'A' + 'a') : check);
	assert_int_equal(certnum_normalize(typed, out), CERTNUM_OK);
	assert_string_equal(out, want);
	assert_int_equal(certnum_normalize("IiLl-OoO-a-b-l", out),
	    CERTNUM_MALFORMED);	/* eleven symbols */
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]);
	    i++) {
		memset(out, 'x', sizeof(out));
		if (certnum_normalize(malformed[i], out) != CERTNUM_MALFORMED)
			fail_msg("'%s' not refused as malformed",
			    malformed[i]);
		assert_string_equal(out, "");
	}
	assert_int_equal(certnum_normalize(NULL, out), CERTNUM_MALFORMED);
	/* a wrong check symbol: refused, the regrouped number kept */
	assert_int_equal(certnum_normalize("abcd efgh jkmz", out),
	    CERTNUM_BAD_CHECK);
	assert_string_equal(out, "ABCD-EFGH-JKMZ");
}

static void
test_valid_is_strict(void **state)
{
	static const char *const bad[] = {
		"abcd-efgh-jkmy",	/* canonical means upper case */
		"ABCDEFGHJKMY",		/* and grouped */
		"ABCD EFGH JKMY",
		"ABCD-EFGH-JKMY ",
		" ABCD-EFGH-JKMY",
		"ABC-DEFGH-JKMY",
		"ABCD-EFGH-JKMZ",
		"0000-0000-000O",
		"",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (certnum_valid(bad[i]))
			fail_msg("certnum_valid('%s') accepted it", bad[i]);
	assert_false(certnum_valid(NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_vectors),
		cmocka_unit_test(test_matches_reference),
		cmocka_unit_test(test_check_symbol_refuses),
		cmocka_unit_test(test_single_substitutions),
		cmocka_unit_test(test_transpositions),
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_valid_is_strict),
	};

	return cmocka_run_group_tests_name("unit_certnum", tests, NULL, NULL);
}
