/* The incremental CSV reader: every accepted and refused shape of input,
 * fed whole and fed one byte at a time. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/csvread.h"

/* Records rendered as "LINE:f1|f2|...;" (and "!C" for a bad column). */
struct out {
	char text[4096];
	int rows;
	int stop_after;
};

static int
on_row(void *arg, long line, int n, char *const *fields, int bad)
{
	struct out *o = arg;
	size_t len = strlen(o->text);

	len += (size_t)snprintf(o->text + len, sizeof(o->text) - len, "%ld:",
	    line);
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(o->text + len, sizeof(o->text) - len,
		    "%s%s", i ? "|" : "", fields[i]);
	if (bad)
		len += (size_t)snprintf(o->text + len, sizeof(o->text) - len,
		    "!%d", bad);
	snprintf(o->text + len, sizeof(o->text) - len, ";");
	o->rows++;
	return o->stop_after && o->rows == o->stop_after ? -1 : 0;
}

/* Reads INPUT with DELIM, whole or byte by byte; returns 0 or -1. */
static int
run(const char *input, size_t len, char delim, int bytewise, struct out *o,
    char *err, long *errline)
{
	struct csvread *r = csvread_new(delim, on_row, o);
	int rc = 0;

	assert_non_null(r);
	if (bytewise) {
		for (size_t i = 0; i < len && rc == 0; i++)
			rc = csvread_feed(r, input + i, 1);
	} else {
		rc = csvread_feed(r, input, len);
	}
	if (rc == 0)
		rc = csvread_finish(r);
	if (err != NULL)
		snprintf(err, 160, "%s", csvread_error(r));
	if (errline != NULL)
		*errline = csvread_error_line(r);
	csvread_free(r);
	return rc;
}

/* Both ways of feeding must give EXPECT. */
static void
check(const char *input, char delim, const char *expect)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct out o;
		memset(&o, 0, sizeof(o));
		assert_int_equal(run(input, strlen(input), delim, bytewise, &o,
		    NULL, NULL), 0);
		assert_string_equal(o.text, expect);
	}
}

static void
check_fails(const char *input, const char *why, long line)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		struct out o;
		char err[160];
		long eline = 0;
		memset(&o, 0, sizeof(o));
		assert_int_equal(run(input, strlen(input), 0, bytewise, &o,
		    err, &eline), -1);
		assert_non_null(strstr(err, why));
		assert_int_equal(eline, line);
	}
}

static void
plain_lf_and_crlf(void **state)
{
	(void)state;
	check("a,b\n1,2\n", ',', "1:a|b;2:1|2;");
	check("a,b\r\n1,2\r\n", ',', "1:a|b;2:1|2;");
	check("a,b\n1,2", ',', "1:a|b;2:1|2;");		/* no final newline */
	check("a,b\n1,2\n\n", ',', "1:a|b;2:1|2;");	/* trailing empty line */
}

static void
quotes_commas_newlines(void **state)
{
	(void)state;
	check("name,note\n\"Roe, Jane\",\"said \"\"hi\"\"\"\n", ',',
	    "1:name|note;2:Roe, Jane|said \"hi\";");
	/* A quoted line break: the record keeps the line it began on, and
	 * the next record's line counts the break. */
	check("a,b\n\"x\ny\",1\nz,2\n", ',', "1:a|b;2:x\ny|1;4:z|2;");
	check("a,b\r\n\"x\r\ny\",1\r\nz,2\r\n", ',', "1:a|b;2:x\r\ny|1;4:z|2;");
}

static void
blank_lines_keep_line_numbers(void **state)
{
	(void)state;
	check("a,b\n\n1,2\n   \n3,4\n", ',', "1:a|b;3:1|2;5:3|4;");
	check("a,b\r\n\r\n1,2\r\n", ',', "1:a|b;3:1|2;");
}

static void
blanks_are_trimmed(void **state)
{
	(void)state;
	check(" a , b \n 1 ,\" 2 \"\n", ',', "1:a|b;2:1| 2 ;");
	check("a\tb\n x \t y\n", '\t', "1:a|b;2:x|y;");
}

static void
byte_order_mark(void **state)
{
	(void)state;
	check("\xEF\xBB\xBF" "a,b\n1,2\n", ',', "1:a|b;2:1|2;");
	check("\xEF\xBB\xBF" "a", ',', "1:a;");
	check("ab", ',', "1:ab;");
}

static void
delimiter_detection(void **state)
{
	struct out o;

	(void)state;
	check("a;b;c\n1;2,5;3\n", 0, "1:a|b|c;2:1|2,5|3;");
	check("a\tb\n1\t2\n", 0, "1:a|b;2:1|2;");
	check("a,b\n1,2\n", 0, "1:a|b;2:1|2;");
	/* a delimiter inside quotes does not count */
	check("\"x;y;z\",b\n1,2\n", 0, "1:x;y;z|b;2:1|2;");
	memset(&o, 0, sizeof(o));
	struct csvread *r = csvread_new(0, on_row, &o);
	assert_int_equal(csvread_delimiter(r), 0);
	assert_int_equal(csvread_feed(r, "a;b\n", 4), 0);
	assert_int_equal(csvread_delimiter(r), ';');
	csvread_free(r);
}

static void
invalid_utf8_is_flagged(void **state)
{
	(void)state;
	check("a,b\n1,\xC3\x28\n\xE2\x82\xAC,ok\n", ',',
	    "1:a|b;2:1|\xC3\x28!2;3:\xE2\x82\xAC|ok;");
	assert_true(csvread_utf8_valid("caf\xC3\xA9", 5));
	assert_false(csvread_utf8_valid("\xC0\xAF", 2));	/* overlong */
	assert_false(csvread_utf8_valid("\xED\xA0\x80", 3));	/* surrogate */
	assert_false(csvread_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
	assert_false(csvread_utf8_valid("\xE2\x82", 2));	/* truncated */
	assert_true(csvread_utf8_valid("\xF0\x9F\x98\x80", 4));

	/* A NUL in a field is flagged, not silently cut (the value after it
	 * would be lost): "x\0y" is the field "x", bad. */
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		static const char in[] = "a,b\nok,x\0y\n\"q\0\",z\n";
		struct out o;
		memset(&o, 0, sizeof(o));
		assert_int_equal(run(in, sizeof(in) - 1, ',', bytewise, &o,
		    NULL, NULL), 0);
		assert_string_equal(o.text, "1:a|b;2:ok|x!2;3:q|z!1;");
	}
}

static void
broken_quoting(void **state)
{
	(void)state;
	check_fails("a,b\n\"open,1\n2,3\n", "unterminated quote", 2);
	check_fails("a,b\nx\"y,1\n", "malformed quoting", 2);
	check_fails("a,b\n1,2\n\"q\"x,3\n", "malformed quoting", 3);
}

static void
memory_stays_bounded(void **state)
{
	size_t n = 200 * 1024;
	char *big = malloc(n + 8);
	struct out o;
	char err[160];

	(void)state;
	memcpy(big, "a\n\"", 3);
	memset(big + 3, 'x', n - 3);
	memset(&o, 0, sizeof(o));
	assert_int_equal(run(big, n, ',', 0, &o, err, NULL), -1);
	assert_non_null(strstr(err, "longer than"));
	free(big);
}

static void
callback_can_stop(void **state)
{
	struct out o;
	char err[160];

	(void)state;
	memset(&o, 0, sizeof(o));
	o.stop_after = 2;
	assert_int_equal(run("a\nb\nc\nd\n", 8, ',', 0, &o, err, NULL), -1);
	assert_int_equal(o.rows, 2);
	assert_string_equal(err, "");
}

/* A lone CR ends a line as LF and CRLF do (old Mac files; libcsv ends a
 * record at each), so line numbers stay as an editor counts them, also
 * with the CR and LF of one CRLF in different chunks (byte by byte). */
static void
lone_cr_counts_as_a_line(void **state)
{
	(void)state;
	check("a,b\r1,2\r3,4\n5,6\n", ',', "1:a|b;2:1|2;3:3|4;4:5|6;");
	check("a;b\r1;2\r\n\r3;4\r", 0, "1:a|b;2:1|2;4:3|4;");
	check("a,b\r\"x\ry\",1\r\r\nz,2\n", ',',
	    "1:a|b;2:x\ry|1;5:z|2;");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plain_lf_and_crlf),
		cmocka_unit_test(quotes_commas_newlines),
		cmocka_unit_test(blank_lines_keep_line_numbers),
		cmocka_unit_test(blanks_are_trimmed),
		cmocka_unit_test(byte_order_mark),
		cmocka_unit_test(delimiter_detection),
		cmocka_unit_test(invalid_utf8_is_flagged),
		cmocka_unit_test(broken_quoting),
		cmocka_unit_test(memory_stays_bounded),
		cmocka_unit_test(callback_can_stop),
		cmocka_unit_test(lone_cr_counts_as_a_line),
	};
	return cmocka_run_group_tests_name("unit_csvread", tests, NULL, NULL);
}
