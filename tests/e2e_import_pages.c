/*
 * End to end: an import's report in pages (issue 10: the daemon's and the
 * CLI's memory stay bounded however many problems or certificates an
 * import has).
 *
 * - GET /v1/imports/{id}: ?errors and ?certificates at most 10,000 (10,001
 *   refused, the parameter and its range named); ?errors_after=LINE and
 *   ?certificates_after=ID page through everything, each error and each
 *   certificate exactly once, compared with the database, at the real
 *   page size (10,050 problems, 10,001 certificates) and at odd small
 *   sizes; a page never splits a line's problems; a page of long values
 *   stops at 2 MB of text; errors_next_after and
 *   certificates_next_after say where the next page starts, null at the
 *   end.
 * - The CLI: --errors-csv of 10,050 problems, compared whole; `import
 *   show --errors N` and `--certificates N` beyond one page print every
 *   row once, in order, aligned as one table, and with --json the
 *   report with as many; its memory within 16 MB for 100,000 problems.
 *
 * The tests run in order and share one daemon and database.
 */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#define PAGE 10000
#define BAD_ROWS 10050		/* more problems than one page */
#define LONG_FROM 10000		/* rows from here: a longer value */
#define CERTS 10001		/* more certificates than one page */

static struct testlib_world w;
static char tmp[600];
static long long bad_id;	/* the import of BAD_ROWS problems */
static long long long_id;	/* the import of long values */

#define has testlib_has
#define lacks testlib_lacks
#define RUN TESTLIB_CLI
#define FREE_IO() do { free(out); free(err); out = err = NULL; } while (0)

static const char unknown[] = "unknown profession '%s' (known: ATC, DC, "
    "DO, LAc, LMT, MD, NP, OT, PA, PT, PTA, RN)";

static int
setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "%s", testlib_env("CERTRACK_TEST_TMP"));
	testlib_world_up(&w, "e2e_import_pages");
	testlib_cli_env(&w, "e2e_import_pages", w.admin);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w) == 0 ? 0 : -1;
}

/* ---- helpers ------------------------------------------------------------ */

/* A growing text (open_memstream). */
struct text {
	char *buf;
	size_t len;
	FILE *fp;
};

static void
text_open(struct text *t)
{
	t->buf = NULL;
	t->len = 0;
	t->fp = open_memstream(&t->buf, &t->len);
	assert_non_null(t->fp);
}

/* The text (caller frees). */
static char *
text_close(struct text *t)
{
	assert_int_equal(fclose(t->fp), 0);
	return t->buf;
}

/* The profession of bad row I: unknown, longer from LONG_FROM on. */
static const char *
bad_profession(long i)
{
	return i < LONG_FROM ? "Plumber" : "Pipefitter-and-plumber";
}

/* A roster of BAD_ROWS rows, each with an unknown profession: row I on
 * line I + 2 (caller frees). */
static char *
bad_roster(void)
{
	struct text t;

	text_open(&t);
	fputs("given_name,family_name,email,profession,level\n", t.fp);
	for (long i = 0; i < BAD_ROWS; i++)
		fprintf(t.fp, "G%ld,F%ld,m%ld@example.org,%s,DN1\n", i, i, i,
		    bad_profession(i));
	return text_close(&t);
}

/* GET PATH as admin: 200 and its JSON (caller decrefs). */
static json_t *
get(const char *path)
{
	char *resp = NULL;
	json_t *j;

	if (testlib_api(w.port, "GET", path, w.admin, NULL, &resp) != 200)
		fail_msg("GET %s: %s", path, resp);
	j = testlib_json(resp);
	free(resp);
	return j;
}

/* GET PATH as admin: 400 naming FIELD with DETAIL. */
static void
refused(const char *path, const char *field, const char *detail)
{
	char *resp = NULL;
	json_t *j;

	assert_int_equal(testlib_api(w.port, "GET", path, w.admin, NULL,
	    &resp), 400);
	j = testlib_json(resp);
	assert_string_equal(testlib_str(j, "code"), "invalid_parameter");
	assert_string_equal(testlib_str(j, "field"), field);
	assert_string_equal(testlib_str(j, "detail"), detail);
	json_decref(j);
	free(resp);
}

/* An error as "line column value message" (the value cut to 40 bytes). */
static void
put_error(FILE *fp, const json_t *e)
{
	const char *col = json_string_value(json_object_get(e, "column"));
	const char *val = json_string_value(json_object_get(e, "value"));

	fprintf(fp, "%lld %s %.40s %s\n", testlib_int(e, "line"),
	    col ? col : "-", val ? val : "-", testlib_str(e, "message"));
}

/* A certificate as "id number clinician level". */
static void
put_cert(FILE *fp, const json_t *c)
{
	fprintf(fp, "%lld %s %lld %s\n", testlib_int(c, "id"),
	    testlib_str(c, "number"), testlib_int(c, "clinician_id"),
	    testlib_str(c, "level"));
}

/* The first N errors (0: all) of import ID in the database, as
 * put_error() writes them. */
static char *
db_errors(long long id, long n)
{
	char limit[24] = "ALL";

	if (n > 0)
		snprintf(limit, sizeof(limit), "%ld", n);
	return testdb_textf(w.db, "SELECT coalesce(string_agg(line || ' ' || "
	    "coalesce(column_name, '-') || ' ' || coalesce(left(value, 40), "
	    "'-') || ' ' || message || E'\\n', '' ORDER BY line, id), '') "
	    "FROM (SELECT * FROM import_errors WHERE import_id = %lld ORDER "
	    "BY line, id LIMIT %s) e", id, limit);
}

/* Every certificate in the database, as put_cert() writes them. */
static char *
db_certs(void)
{
	return testdb_textf(w.db, "SELECT coalesce(string_agg(c.id || ' ' || "
	    "c.number || ' ' || c.clinician_id || ' ' || l.code || E'\\n', '' "
	    "ORDER BY c.id), '') FROM certificates c JOIN levels l ON l.id = "
	    "c.level_id");
}

/* One list of the report, the pieces of its page parameters. */
struct list {
	const char *items, *param, *after, *next, *other;
	void (*put)(FILE *fp, const json_t *item);
};

static const struct list errors_list = { "errors", "errors",
    "errors_after", "errors_next_after", "certificates", put_error };
static const struct list certs_list = { "certificates_issued",
    "certificates", "certificates_after", "certificates_next_after",
    "errors", put_cert };

/*
 * List L of import ID read page by page, N at a time, from the start to
 * the page whose next is null: every item as L->put() writes it (caller
 * frees); *PAGES how many pages.  Each page holds at most N (or, for the
 * errors, the whole first line), and its next is where it ended.
 */
static char *
paged(const struct list *l, long long id, long long n, int *pages)
{
	struct text t;
	long long after = 0;
	char path[160];

	text_open(&t);
	*pages = 0;
	for (;;) {
		snprintf(path, sizeof(path), "/v1/imports/%lld?%s=%lld&%s=%lld"
		    "&%s=0", id, l->param, n, l->after, after, l->other);
		json_t *page = get(path);
		const json_t *items = json_object_get(page, l->items), *it;
		const json_t *next = json_object_get(page, l->next);
		long long last = after;
		size_t i;

		(*pages)++;
		assert_true(json_is_array(items));
		json_array_foreach(items, i, it) {
			l->put(t.fp, it);
			last = testlib_int(it, l == &errors_list ? "line" :
			    "id");
		}
		if (json_array_size(items) > (size_t)n)
			/* more than asked: only one line, kept whole */
			assert_int_equal(testlib_int(json_array_get(items, 0),
			    "line"), last);
		if (json_is_null(next)) {
			json_decref(page);
			break;
		}
		assert_true(json_is_integer(next));
		assert_int_equal(json_integer_value(next), last);
		assert_true(last > after);
		after = last;
		json_decref(page);
	}
	return text_close(&t);
}

/* List L of import ID read N at a time is WANT, in PAGES pages. */
static void
same_paged(const struct list *l, long long id, long long n,
    const char *want, int pages)
{
	int got_pages;
	char *got = paged(l, id, n, &got_pages);

	assert_string_equal(got, want);
	assert_int_equal(got_pages, pages);
	free(got);
}

/* The rows of the table whose header starts TEXT: the lines after it up
 * to an empty one, a note "(...)" or the certificates' line; the first
 * cell of each into FIRSTS when not NULL. */
static long
rows_of(const char *text, struct text *firsts)
{
	const char *p = strchr(text, '\n');
	long n = 0;

	assert_non_null(p);
	for (p++; *p != '\0' && *p != '\n' && *p != '(' &&
	    strncmp(p, "certificates issued:", 20) != 0;
	    p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n')) {
		n++;
		if (firsts != NULL)
			fprintf(firsts->fp, "%.*s\n", (int)strcspn(p, " "), p);
	}
	return n;
}

/* The content of the file at PATH (caller frees). */
static char *
read_file(const char *path)
{
	struct text t;
	FILE *fp = fopen(path, "rb");
	char buf[65536];
	size_t n;

	if (fp == NULL)
		fail_msg("cannot open '%s': %s", path, strerror(errno));
	text_open(&t);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		fwrite(buf, 1, n, t.fp);
	fclose(fp);
	return text_close(&t);
}

/* ---- the API ----------------------------------------------------------- */

/* GET /v1/imports/ID?QUERY: N errors of BAD_ROWS + 1, and NEXT its
 * errors_next_after (-1: null). */
static void
expect_errors_page(long long id, const char *query, size_t n,
    long long next)
{
	char path[160];
	json_t *rep;

	snprintf(path, sizeof(path), "/v1/imports/%lld?%s", id, query);
	rep = get(path);
	assert_int_equal(json_array_size(json_object_get(rep, "errors")), n);
	assert_int_equal(testlib_int(rep, "errors_total"), BAD_ROWS + 1);
	if (next < 0)
		assert_true(json_is_null(json_object_get(rep,
		    "errors_next_after")));
	else
		assert_int_equal(testlib_int(rep, "errors_next_after"), next);
	json_decref(rep);
}

static void
errors_in_pages(void **state)
{
	char *csv = bad_roster(), *want, path[300];
	json_t *rep;

	(void)state;
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster", csv,
	    &rep), 422);
	free(csv);
	bad_id = testlib_int(rep, "id");
	/* the answer to the upload: the first 1000, and where to go on */
	assert_int_equal(testlib_int(rep, "errors_total"), BAD_ROWS);
	assert_int_equal(json_array_size(json_object_get(rep, "errors")),
	    1000);
	assert_int_equal(testlib_int(rep, "errors_next_after"), 1001);
	json_decref(rep);

	/* A line may have two problems (its row's, and one of the file
	 * found there); a page keeps a line's problems together.  The
	 * 10,000th problem is on line 10001: a second one there, so that a
	 * page of 10,000 would have to split it. */
	snprintf(path, sizeof(path), "INSERT INTO import_errors (import_id, "
	    "line, column_name, value, message) VALUES (%lld, 10001, 'email', "
	    "'m9999@example.org', 'a second problem of the same line')",
	    bad_id);
	testdb_exec_ok(w.db, path);

	/* the largest page: lines 2-10000, 9,999 problems; line 10001 whole
	 * on the next, with the rest */
	expect_errors_page(bad_id, "errors=10000", 9999, 10000);
	expect_errors_page(bad_id, "errors=10000&errors_after=10000", 52, -1);

	/* every problem exactly once, in order, at several page sizes */
	want = db_errors(bad_id, 0);
	same_paged(&errors_list, bad_id, PAGE, want, 2);
	same_paged(&errors_list, bad_id, 997, want, 11);
	free(want);

	/* a page of one: line 10001's two problems, whole */
	expect_errors_page(bad_id, "errors=1&errors_after=10000", 2, 10001);
	/* none asked: none listed, and they follow from where it was */
	expect_errors_page(bad_id, "errors=0&errors_after=500", 0, 500);
	/* after the last line: nothing, and nothing follows */
	expect_errors_page(bad_id, "errors_after=10051", 0, -1);
	expect_errors_page(bad_id, "errors_after=10050", 1, -1);
}

static void
page_size_edges(void **state)
{
	char path[160];
	json_t *rep;

	(void)state;
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors=10000&"
	    "certificates=10000", bad_id);
	json_decref(get(path));
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors=10001", bad_id);
	refused(path, "errors", "the parameter 'errors' must be a whole "
	    "number between 0 and 10000, not '10001'");
	snprintf(path, sizeof(path), "/v1/imports/%lld?certificates=10001",
	    bad_id);
	refused(path, "certificates", "the parameter 'certificates' must be "
	    "a whole number between 0 and 10000, not '10001'");
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors=1000000",
	    bad_id);
	refused(path, "errors", "the parameter 'errors' must be a whole "
	    "number between 0 and 10000, not '1000000'");
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors_after=-1",
	    bad_id);
	refused(path, "errors_after", "the parameter 'errors_after' must be "
	    "a whole number between 0 and 2147483647, not '-1'");
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors_after="
	    "2147483648", bad_id);
	refused(path, "errors_after", "the parameter 'errors_after' must be "
	    "a whole number between 0 and 2147483647, not '2147483648'");
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors_after="
	    "2147483647", bad_id);
	rep = get(path);
	assert_int_equal(json_array_size(json_object_get(rep, "errors")), 0);
	json_decref(rep);
	snprintf(path, sizeof(path), "/v1/imports/%lld?certificates_after=x",
	    bad_id);
	refused(path, "certificates_after", "the parameter "
	    "'certificates_after' must be a whole number between 0 and "
	    "9223372036854775807, not 'x'");
	/* invalid bytes, a NUL and an over-long number: a 400, never more */
	static const char *const odd[] = { "%FF", "5%00", "%C3%28" };
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		snprintf(path, sizeof(path), "/v1/imports/%lld?errors_after=%s",
		    bad_id, odd[i]);
		assert_int_equal(testlib_api(w.port, "GET", path, w.admin,
		    NULL, NULL), 400);
	}
	char longpath[2200];
	int n = snprintf(longpath, sizeof(longpath),
	    "/v1/imports/%lld?certificates_after=", bad_id);
	memset(longpath + n, '9', 2000);
	longpath[n + 2000] = '\0';
	assert_int_equal(testlib_api(w.port, "GET", longpath, w.admin, NULL,
	    NULL), 400);
	/* and without a login, nothing */
	snprintf(path, sizeof(path), "/v1/imports/%lld?errors_after=1",
	    bad_id);
	assert_int_equal(testlib_api(w.port, "GET", path, NULL, NULL, NULL),
	    401);
}

/* The length of string member KEY of E, 0 when it is null. */
static long long
len_of(const json_t *e, const char *key)
{
	const char *v = json_string_value(json_object_get(e, key));

	return v != NULL ? (long long)strlen(v) : 0;
}

/* Import ID's first page of N errors stops where the next error would
 * take their text past BUDGET (0: only the first line, too large for
 * it). */
static void
cut_page(long long id, int n, long long budget)
{
	char path[160];
	json_t *rep;
	const json_t *e;
	long long bytes = 0;
	size_t got, i;

	snprintf(path, sizeof(path), "/v1/imports/%lld?errors=%d", id, n);
	rep = get(path);
	got = json_array_size(json_object_get(rep, "errors"));
	json_array_foreach(json_object_get(rep, "errors"), i, e)
		bytes += len_of(e, "column") + len_of(e, "value") +
		    len_of(e, "message");
	if (budget == 0)
		assert_int_equal(got, 1);
	else {
		assert_true(got > 1 && got < 100);
		assert_true(bytes <= budget);
		/* the next, as large as these, would not have fitted */
		assert_true(bytes + bytes / (long long)got > budget);
	}
	assert_int_equal(testlib_int(rep, "errors_next_after"),
	    (long long)got + 1);
	json_decref(rep);
}

/* Values of 60,000 bytes: a page stops at 2 MB of text (400 bytes an
 * error asked for). */
static void
long_values_in_smaller_pages(void **state)
{
	struct text t;
	char *csv, *want, *got, *big;
	json_t *rep;
	long long id;
	size_t i;
	int pages;

	(void)state;
	big = malloc(60001);
	assert_non_null(big);
	memset(big, 'x', 60000);
	big[60000] = '\0';
	text_open(&t);
	fputs("given_name,family_name,email,profession,level\n", t.fp);
	for (i = 0; i < 100; i++)
		fprintf(t.fp, "L%zu,F%zu,l%zu@example.org,%c%s,DN1\n", i, i, i,
		    (char)('a' + i % 26), big);
	csv = text_close(&t);
	free(big);
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster", csv,
	    &rep), 422);
	free(csv);
	id = long_id = testlib_int(rep, "id");
	assert_int_equal(testlib_int(rep, "errors_total"), 100);
	json_decref(rep);

	/* each error about 120 KB (the value, and the message naming it):
	 * 2 MB for the largest page, 400 KB for 1,000, the first line
	 * alone for 20 */
	cut_page(id, PAGE, 2097152);
	cut_page(id, 1000, 400000);
	cut_page(id, 20, 0);
	want = db_errors(id, 0);
	got = paged(&errors_list, id, PAGE, &pages);
	assert_string_equal(got, want);
	assert_true(pages >= 2);
	free(got);
	free(want);
}

/* CERTS people complete DN1 and pass both exams: CERTS certificates,
 * more than one page. */
static void
certificates_in_pages(void **state)
{
	struct text t;
	char *csv, *want, path[160];
	json_t *rep;
	long long id;

	(void)state;
	text_open(&t);
	fputs("given_name,family_name,email,profession,level,course_start,"
	    "course_end,completed\n", t.fp);
	for (long i = 0; i < CERTS; i++)
		fprintf(t.fp, "C%ld,P%ld,c%ld@example.org,PT,DN1,2026-03-02,"
		    "2026-03-04,yes\n", i, i, i);
	csv = text_close(&t);
	assert_int_equal(testlib_import(w.port, w.admin, "kind=roster", csv,
	    &rep), 201);
	free(csv);
	json_decref(rep);
	text_open(&t);
	fputs("email,level,kind,score,max_score,taken_on\n", t.fp);
	for (long i = 0; i < CERTS; i++)
		fprintf(t.fp, "c%ld@example.org,DN1,written,90,100,2026-03-05\n"
		    "c%ld@example.org,DN1,practical,90,100,2026-03-05\n", i, i);
	csv = text_close(&t);
	assert_int_equal(testlib_import(w.port, w.grader, "kind=results", csv,
	    &rep), 201);
	free(csv);
	id = testlib_int(rep, "id");
	assert_int_equal(testlib_int(rep, "certificates_issued_total"), CERTS);
	assert_int_equal(json_array_size(json_object_get(rep,
	    "certificates_issued")), 1000);
	assert_int_equal(testlib_int(rep, "certificates_next_after"),
	    testlib_int(json_array_get(json_object_get(rep,
	    "certificates_issued"), 999), "id"));
	json_decref(rep);

	/* every certificate exactly once, in order of id */
	want = db_certs();
	same_paged(&certs_list, id, PAGE, want, 2);
	same_paged(&certs_list, id, 3333, want, 4);
	free(want);
	/* none asked: where the list starts; after the last: nothing */
	snprintf(path, sizeof(path), "/v1/imports/%lld?certificates=0", id);
	rep = get(path);
	assert_int_equal(json_array_size(json_object_get(rep,
	    "certificates_issued")), 0);
	assert_int_equal(testlib_int(rep, "certificates_next_after"), 0);
	json_decref(rep);
	snprintf(path, sizeof(path), "/v1/imports/%lld?certificates_after=%lld",
	    id, testdb_llf(w.db, "SELECT max(id) FROM certificates"));
	rep = get(path);
	assert_int_equal(json_array_size(json_object_get(rep,
	    "certificates_issued")), 0);
	assert_true(json_is_null(json_object_get(rep,
	    "certificates_next_after")));
	assert_int_equal(testlib_int(rep, "certificates_issued_total"), CERTS);
	json_decref(rep);
	/* an import that issued none: an empty list and nothing after */
	snprintf(path, sizeof(path), "/v1/imports/%lld", bad_id);
	rep = get(path);
	assert_int_equal(testlib_int(rep, "certificates_issued_total"), 0);
	assert_true(json_is_null(json_object_get(rep,
	    "certificates_next_after")));
	json_decref(rep);

	/* the CLI: all of them in one table, or the first few */
	char *out = NULL, *err = NULL, sid[24], n[24];
	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(n, sizeof(n), "%d", CERTS);
	RUN(0, NULL, "import", "show", sid, "--certificates", n, "--errors",
	    "0");
	assert_int_equal(rows_of(strstr(out, "NUMBER"), NULL), CERTS);
	lacks(out, "certificates; 'certrack import show");
	FREE_IO();
	RUN(0, NULL, "import", "show", sid, "--certificates", "5");
	assert_int_equal(rows_of(strstr(out, "NUMBER"), NULL), 5);
	has(out, "(the first 5 of 10001 certificates; 'certrack import show ");
	FREE_IO();
}

/* ---- the CLI ----------------------------------------------------------- */

/*
 * Waits for child PID (its exit status in *STATUS) and returns its own
 * peak resident memory in KiB, read from /proc while it runs.  Not
 * getrusage()'s: a child keeps there the peak of the process it was
 * forked from, this test's, which is larger than the CLI's limit.  The
 * peak is a high-water mark, read every 2 ms: what it misses is the
 * last 2 ms before the CLI exits.
 */
static long
peak_kib(pid_t pid, int *status)
{
	char path[64], line[256];
	long peak = 0, kib;
	pid_t done;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	while ((done = waitpid(pid, status, WNOHANG)) == 0) {
		FILE *fp = fopen(path, "r");
		bool cli = false;

		/* after its exec only: before, it is a copy of this test */
		while (fp != NULL && fgets(line, sizeof(line), fp) != NULL) {
			if (strcmp(line, "Name:\tcertrack\n") == 0)
				cli = true;
			if (cli && sscanf(line, "VmHWM: %ld kB", &kib) == 1 &&
			    kib > peak)
				peak = kib;
		}
		if (fp != NULL)
			fclose(fp);
		usleep(2000);
	}
	assert_int_equal(done, pid);
	return peak;
}

/*
 * Runs certrack with ARGS (up to 8, NULL-terminated after them), its
 * stdout into a file (more than the 1 MB testlib_cli() keeps); returns
 * the output (caller frees), *KIB its own peak resident memory.  Fails
 * unless it exits CODE.
 */
static char *
cli_measured(int code, long *kib, const char *const *args)
{
	char cli[700], path[700], *argv[10];
	int status, fd, n = 0;
	pid_t pid;

	snprintf(cli, sizeof(cli), "%s/certrack",
	    testlib_env("CERTRACK_TEST_BIN"));
	snprintf(path, sizeof(path), "%s/pages-cli.out", tmp);
	argv[n++] = cli;
	for (; args[n - 1] != NULL && n < 9; n++)
		argv[n] = (char *)args[n - 1];
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0)
			_exit(126);
		dup2(fd, 1);
		close(fd);
		execv(cli, argv);
		_exit(127);
	}
	*kib = peak_kib(pid, &status);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != code)
		fail_msg("certrack %s %s: status %d, expected exit %d", args[0],
		    args[1], status, code);
	return read_file(path);
}

/* `certrack [--json] import show ID --errors N`'s output (caller frees). */
static char *
show_errors(bool json, const char *id, const char *n)
{
	const char *args[] = { "import", "show", id, "--errors", n, NULL,
	    NULL };
	const char *jargs[] = { "--json", "import", "show", id, "--errors", n,
	    NULL };
	long kib;

	return cli_measured(0, &kib, json ? jargs : args);
}

/* The CLI's peak resident memory allowed, KiB. */
#define CLI_RSS_MAX_KIB (16 * 1024)

static void
rss_within_bound(const char *what, long kib)
{
	fprintf(stderr, "certrack peak RSS for %s: %ld KiB\n", what, kib);
#if defined(__SANITIZE_ADDRESS__)
	/* AddressSanitizer's shadow memory is no measure of the CLI's own:
	 * the limit is checked in the plain build. */
	(void)CLI_RSS_MAX_KIB;
#else
	if (kib >= CLI_RSS_MAX_KIB)
		fail_msg("certrack's peak RSS for %s was %ld KiB (limit %d "
		    "KiB)", what, kib, CLI_RSS_MAX_KIB);
#endif
}

/* `import show ID --errors N` lists N rows in the CLI's memory bound;
 * WHAT names it. */
static void
show_within_bound(long long id, long n, const char *what)
{
	char sid[24], sn[24], *out;
	const char *show[] = { "import", "show", sid, "--errors", sn, NULL };
	long kib;

	snprintf(sid, sizeof(sid), "%lld", id);
	snprintf(sn, sizeof(sn), "%ld", n);
	out = cli_measured(0, &kib, show);
	assert_int_equal(rows_of(strstr(out, "LINE"), NULL), n);
	free(out);
	rss_within_bound(what, kib);
}

/* 100,000 problems: the errors CSV and `import show` of all of them in
 * the CLI's 16 MB (one request for all of them took some 40 MB). */
static void
cli_memory_stays_flat(void **state)
{
	char in[700], ecsv[700], *out, *p;
	long kib, lines = 0;
	FILE *fp;

	(void)state;
	snprintf(in, sizeof(in), "%s/pages-100k.csv", tmp);
	snprintf(ecsv, sizeof(ecsv), "%s/pages-100k-errors.csv", tmp);
	fp = fopen(in, "w");
	assert_non_null(fp);
	fputs("given_name,family_name,email,profession,level\n", fp);
	for (long i = 0; i < 100000; i++)
		fprintf(fp, "G%ld,F%ld,k%ld@example.org,Plumber,DN1\n", i, i,
		    i);
	assert_int_equal(fclose(fp), 0);
	const char *run[] = { "--timeout", "120", "import", "roster", in,
	    "--errors-csv", ecsv, NULL };
	out = cli_measured(1, &kib, run);
	has(out, "': 100000 rows to fix and import again\n");
	free(out);
	rss_within_bound("an errors CSV of 100,000 problems", kib);
	out = read_file(ecsv);
	for (p = out; *p != '\0'; p++)
		lines += *p == '\n';
	assert_int_equal(lines, 100001);
	has(out, "\nG99999,F99999,k99999@example.org,Plumber,DN1,");
	free(out);

	show_within_bound(testdb_llf(w.db, "SELECT max(id) FROM imports"),
	    100000, "import show of 100,000 problems");
	/* and as JSON */
	char id[24];
	snprintf(id, sizeof(id), "%lld", testdb_llf(w.db, "SELECT max(id) "
	    "FROM imports"));
	const char *json[] = { "--json", "import", "show", id, "--errors",
	    "100000", NULL };
	out = cli_measured(0, &kib, json);
	json_t *j = testlib_json(out);
	assert_int_equal(json_array_size(json_object_get(j, "errors")),
	    100000);
	assert_true(json_is_null(json_object_get(j, "errors_next_after")));
	json_decref(j);
	free(out);
	rss_within_bound("import show --json of 100,000 problems", kib);
	/* pages the server cut at 400 bytes of text an error: 400 KB */
	show_within_bound(long_id, 100, "import show of 100 values of 60 KB");
}

/* The errors CSV of BAD_ROWS problems: read a page at a time, whole and
 * in order. */
static void
cli_errors_csv_in_pages(void **state)
{
	char *out = NULL, *err = NULL, *csv = bad_roster(), in[700], ecsv[700];
	char msg[160];
	struct text t;
	FILE *fp;

	(void)state;
	snprintf(in, sizeof(in), "%s/pages-bad.csv", tmp);
	fp = fopen(in, "w");
	assert_non_null(fp);
	fputs(csv, fp);
	assert_int_equal(fclose(fp), 0);
	free(csv);
	snprintf(ecsv, sizeof(ecsv), "%s/pages-bad-errors.csv", tmp);
	RUN(1, NULL, "import", "roster", in, "--errors-csv", ecsv);
	has(out, "10050 of 10050 rows have problems");
	has(out, "pages-bad-errors.csv': 10050 rows to fix and import again\n");
	assert_string_equal(err, "");
	FREE_IO();

	text_open(&t);
	fputs("given_name,family_name,email,profession,level,error\n", t.fp);
	for (long i = 0; i < BAD_ROWS; i++) {
		snprintf(msg, sizeof(msg), unknown, bad_profession(i));
		fprintf(t.fp, "G%ld,F%ld,m%ld@example.org,%s,DN1,\"profession: "
		    "%s\"\n", i, i, i, bad_profession(i), msg);
	}
	char *want = text_close(&t);
	char *got = read_file(ecsv);
	assert_string_equal(got, want);
	free(got);
	free(want);
}

/* `certrack --json import show ID --errors N` is the report with the
 * first N errors of the database's, all N of them, and NEXT its
 * errors_next_after (-1: null). */
static void
json_errors(const char *id, const char *n, long want, long long next)
{
	char *out = show_errors(true, id, n), *db;
	json_t *j = testlib_json(out);
	const json_t *e;
	struct text t;
	size_t i;

	assert_int_equal(json_array_size(json_object_get(j, "errors")), want);
	assert_int_equal(testlib_int(j, "errors_total"), BAD_ROWS + 1);
	assert_string_equal(testlib_str(j, "status"), "failed");
	if (next < 0)
		assert_true(json_is_null(json_object_get(j,
		    "errors_next_after")));
	else
		assert_int_equal(testlib_int(j, "errors_next_after"), next);
	text_open(&t);
	json_array_foreach(json_object_get(j, "errors"), i, e)
		put_error(t.fp, e);
	free(out);
	out = text_close(&t);
	db = db_errors(strtoll(id, NULL, 10), want);
	assert_string_equal(out, db);
	free(db);
	free(out);
	json_decref(j);
}

/* `import show --errors N` beyond one page: every row once, in order,
 * aligned as one table though its pages' values differ in width. */
static void
cli_show_in_pages(void **state)
{
	char *out = NULL, *err = NULL, id[24], row[400], msg[160];
	char *firsts, *want;
	struct text t;

	(void)state;
	snprintf(id, sizeof(id), "%lld", bad_id);
	out = show_errors(false, id, "20000");
	text_open(&t);
	assert_int_equal(rows_of(strstr(out, "LINE"), &t), BAD_ROWS + 1);
	firsts = text_close(&t);
	want = testdb_textf(w.db, "SELECT string_agg(line || E'\\n', '' "
	    "ORDER BY line, id) FROM import_errors WHERE import_id = %lld",
	    bad_id);
	assert_string_equal(firsts, want);
	free(firsts);
	free(want);
	/* the widths of all the pages: LINE 5, COLUMN 10, VALUE 22 */
	has(out, "\nLINE   COLUMN      VALUE                   MESSAGE\n");
	snprintf(msg, sizeof(msg), unknown, "Plumber");
	snprintf(row, sizeof(row), "\n%-7s%-12s%-24s%s\n", "2", "profession",
	    "Plumber", msg);
	has(out, row);
	snprintf(row, sizeof(row), "\n%-7s%-12s%-24s%s\n", "10001", "email",
	    "m9999@example.org", "a second problem of the same line");
	has(out, row);
	snprintf(msg, sizeof(msg), unknown, "Pipefitter-and-plumber");
	snprintf(row, sizeof(row), "\n%-7s%-12s%-24s%s\n", "10051",
	    "profession", "Pipefitter-and-plumber", msg);
	has(out, row);
	lacks(out, "problems; 'certrack import show");
	FREE_IO();

	/* the first N, over a page's end */
	out = show_errors(false, id, "10001");
	assert_int_equal(rows_of(strstr(out, "LINE"), NULL), 10001);
	snprintf(row, sizeof(row), "(the first 10001 of 10051 problems; "
	    "'certrack import show %s --errors 10051' lists them all)\n", id);
	has(out, row);
	FREE_IO();

	/* --json: the report with the first N, over pages, and where the
	 * rest start; all of them, and nothing after */
	json_errors(id, "10001", 10001, 10001);
	json_errors(id, "20000", BAD_ROWS + 1, -1);
	RUN(2, NULL, "import", "show", id, "--errors", "100000001");
	has(err, "--errors");
	FREE_IO();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(errors_in_pages),
		cmocka_unit_test(page_size_edges),
		cmocka_unit_test(long_values_in_smaller_pages),
		cmocka_unit_test(certificates_in_pages),
		cmocka_unit_test(cli_errors_csv_in_pages),
		cmocka_unit_test(cli_show_in_pages),
		cmocka_unit_test(cli_memory_stays_flat),
	};

	return cmocka_run_group_tests_name("e2e_import_pages", tests, setup,
	    teardown);
}
