/*
 * Every file of every fuzz corpus (fuzz/corpus/NAME: the seeds, and the
 * input of each crash the fuzzers once found) through its target's entry
 * point, in the ordinary build: a bug found once stays found, and counts
 * in the summary.  A broken invariant aborts the binary (a failure); a
 * sanitizer build (make SANITIZE=address,undefined test) also reports
 * leaks and undefined behaviour here.  The corpora are found next to the
 * migrations (CERTRACK_TEST_SQL/../fuzz/corpus), else in fuzz/corpus.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/fuzz.h"

/* Runs FN on every file of corpus NAME; the number run. */
static int
replay(const char *name, int (*fn)(const uint8_t *, size_t))
{
	const char *sql = getenv("CERTRACK_TEST_SQL");
	char dir[4096], path[8192];
	struct dirent *de;
	DIR *d;
	int files = 0;

	if (sql != NULL)
		snprintf(dir, sizeof(dir), "%s/../fuzz/corpus/%s", sql, name);
	else
		snprintf(dir, sizeof(dir), "fuzz/corpus/%s", name);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		FILE *fp;
		uint8_t *buf;
		long len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fp = fopen(path, "rb");
		assert_non_null(fp);
		assert_int_equal(fseek(fp, 0, SEEK_END), 0);
		len = ftell(fp);
		assert_true(len >= 0);
		rewind(fp);
		buf = malloc((size_t)len + 1);
		assert_non_null(buf);
		assert_int_equal(fread(buf, 1, (size_t)len, fp), (size_t)len);
		fclose(fp);
		assert_int_equal(fn(buf, (size_t)len), 0);
		free(buf);
		files++;
	}
	closedir(d);
	return files;
}

/* Each corpus holds at least a handful of seeds, all of which run. */
#define CORPUS_TEST(name)						\
	static void							\
	corpus_##name(void **state)					\
	{								\
		(void)state;						\
		assert_true(replay(#name, fuzz_##name) >= 3);		\
	}
CORPUS_TEST(csvread)
CORPUS_TEST(importmap)
CORPUS_TEST(config)
CORPUS_TEST(router)
CORPUS_TEST(json)
CORPUS_TEST(certnum)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(corpus_csvread),
		cmocka_unit_test(corpus_importmap),
		cmocka_unit_test(corpus_config),
		cmocka_unit_test(corpus_router),
		cmocka_unit_test(corpus_json),
		cmocka_unit_test(corpus_certnum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
