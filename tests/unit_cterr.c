/*
 * server/cterr.c: a problem's field and sentence cut short end on a whole
 * UTF-8 character, so http.c's problem body keeps them (jansson refuses a
 * string cut inside a character: the field went missing).  Found by the
 * json fuzz target: an unknown field with a long non-ASCII name
 * (fuzz/corpus/json/crash-long-unknown-field).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "certrack/cterr.h"

static void
field_cut_on_a_whole_character(void **state)
{
	char name[80];
	struct cterr err;

	(void)state;
	/* 61 + 2 bytes fit the 63 a field holds: whole */
	memset(name, 'a', 61);
	strcpy(name + 61, "\xC3\xA9");
	cterr_set(&err, 400, "unknown_field", name, "unknown field");
	assert_string_equal(err.field, name);
	/* 62 + 2 do not: the "é" goes whole, not half */
	memset(name, 'a', 62);
	strcpy(name + 62, "\xC3\xA9");
	cterr_set(&err, 400, "unknown_field", name, "unknown field");
	assert_int_equal(strlen(err.field), 62);
	/* a four-byte character cut after its second byte */
	memset(name, 'a', 61);
	strcpy(name + 61, "\xF0\x9F\x98\x80z");
	cterr_set(&err, 400, "unknown_field", name, "unknown field");
	assert_int_equal(strlen(err.field), 61);
}

static void
detail_cut_on_a_whole_character(void **state)
{
	char text[600];
	struct cterr err;

	(void)state;
	memset(text, 'a', 510);
	strcpy(text + 510, "\xE2\x82\xAC");	/* 510 + 3 > 511 */
	cterr_set(&err, 422, "too_long", NULL, "%s", text);
	assert_int_equal(strlen(err.detail), 510);
	text[509] = '\0';
	strcat(text, "\xC3\xA9");		/* 509 + 2 = 511: fits */
	cterr_set(&err, 422, "too_long", NULL, "%s", text);
	assert_string_equal(err.detail, text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(field_cut_on_a_whole_character),
		cmocka_unit_test(detail_cut_on_a_whole_character),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
