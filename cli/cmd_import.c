/*
 * `certrack import roster|results|ce FILE`, `import list`, `import show ID`.
 *
 * The file is streamed to POST /v1/imports (cli_upload: a buffer at a
 * time, never whole in memory); the server's report comes back as 201
 * (succeeded) or 422 (refused: status "failed").  The report is printed
 * on stdout either way: a summary line, the ignored columns and a table of
 * the problems; the exit code says which (0 succeeded, 1 refused).
 *
 * --errors-csv OUT reads the input a second time, streaming, through the
 * same CSV reader the server uses (csvread), and copies out each record
 * that has a problem with an added "error" column: a file to fix and
 * import again.  Standard input (and any file that cannot be read twice)
 * is kept in a temporary file while it is sent, for that second reading.
 * The problems come a page at a time (GET /v1/imports/ID?errors_after=,
 * in line order, as the records are): one page in memory, whatever their
 * number.  `import show` pages through its lists the same way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certrack/cli.h"
#include "certrack/csvread.h"
#include "certrack/importreport.h"
#include "certrack/strbuf.h"

enum {
	OPT_DRY_RUN = CLI_OPT_CMD, OPT_PARTIAL, OPT_DELIMITER, OPT_ERRORS_CSV,
	OPT_LIMIT, OPT_ERRORS,
};

/* --certificates (the import's run and show): its own value, apart from
 * the list above. */
enum { OPT_CERTIFICATES = CLI_OPT_CMD + 64 };

/* The most problems or certificates `import show` lists (in pages of
 * CLI_PAGE). */
#define SHOW_MAX 100000000

/*
 * The pages the CLI reads, smaller than the server's largest
 * (IMPORT_REPORT_PAGE): a page is held parsed (jansson's objects take
 * some four times the JSON's 200 bytes an error), on top of the ~10 MB
 * libcurl and TLS take.  Measured peaks for 100,000 problems, errors CSV
 * / import show: pages of 10,000, 24 / 32 MB; 2,000, 14 / 15 MB; 1,000,
 * 12.8 / 12.7 MB, inside the CLI's 16 MB; a page of long values stops
 * at 400 bytes of text an error (the server's rule), 400 KB here.  A
 * million problems are a thousand requests, each read by index from
 * where the last ended.
 */
#define CLI_PAGE 1000
_Static_assert(CLI_PAGE <= IMPORT_REPORT_PAGE, "a page the server gives");

/* How much of a value the problem table shows. */
#define VALUE_SHOWN 40

/* ---- the report ------------------------------------------------------ */

/* "'roster.csv'", or "standard input" for a report without a file name. */
static void
file_label(const json_t *report, const char *fallback, char *buf,
    size_t len)
{
	const char *fn = json_string_value(json_object_get(report,
	    "filename"));

	if (fn != NULL && *fn != '\0')
		snprintf(buf, len, "'%s'", fn);
	else
		snprintf(buf, len, "%s", fallback);
}

/* A value fit for one table cell: control characters (a field may hold a
 * line break) as blanks, cut after VALUE_SHOWN characters. */
static void
cell(const char *s, char *buf, size_t len, size_t max_chars)
{
	size_t o = 0, chars = 0;

	for (; s != NULL && *s != '\0' && o + 4 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xC0) != 0x80) {
			if (max_chars > 0 && chars == max_chars) {
				/* "..." after a whole character */
				memcpy(buf + o, "...", 3);
				o += 3;
				break;
			}
			chars++;
		}
		buf[o++] = c < 0x20 || c == 0x7F ? ' ' : (char)c;
	}
	buf[o] = '\0';
}

static int progress_words(const json_t *progress, char *buf, size_t len);

/* An import with no report yet (`import show` of one running, or rolled
 * back): what its progress says.  True when R is one. */
static bool
print_unreported(const json_t *r, const char *name)
{
	const json_t *progress = json_object_get(r, "progress");
	const char *msg = json_string_value(json_object_get(r, "message"));
	char words[160];

	if (!json_is_object(progress))
		return false;
	if (progress_words(progress, words, sizeof(words)) == 0)
		printf("import of %s: running: %s\n", name, words);
	else
		printf("import of %s: failed: %s\n", name, msg ? msg :
		    "nothing was written");
	return true;
}

/* "imported 'roster.csv': 120 rows: ..." or "refused ...". */
static void
print_summary(const json_t *r, const char *name)
{
	const json_t *counts = json_object_get(r, "counts");
	long long rows = cli_jint(counts, "rows");
	long long failed = cli_jint(counts, "failed");
	bool dry = json_is_true(json_object_get(r, "dry_run"));
	bool partial = json_is_true(json_object_get(r, "partial"));
	const char *status = json_string_value(json_object_get(r, "status"));

	if (print_unreported(r, name))
		return;
	if (status != NULL && strcmp(status, "failed") == 0) {
		printf("refused %s%s: ", name, dry ? " (dry run)" : "");
		if (rows == 0 || failed > rows)
			printf("the file has problems");
		else
			printf("%lld of %lld row%s %s problems", failed, rows,
			    rows == 1 ? "" : "s", failed == 1 ? "has" : "have");
		printf("; nothing was written\n");
		return;
	}
	if (status == NULL || strcmp(status, "succeeded") != 0) {
		/* An import still running (seen by `import show`). */
		printf("import of %s: %s\n", name, status ? status : "?");
		return;
	}
	printf("%s %s%s: %lld row%s: %lld created, %lld updated, "
	    "%lld unchanged, %lld failed%s\n", dry ? "dry run of" : "imported",
	    name, partial ? " (partial)" : "", rows, rows == 1 ? "" : "s",
	    (long long)cli_jint(counts, "created"),
	    (long long)cli_jint(counts, "updated"),
	    (long long)cli_jint(counts, "unchanged"), failed,
	    dry ? "; nothing was written" : "");
}

/* ---- the report's lists, a page at a time ---------------------------- */

/* One of the lists of an import's report (GET /v1/imports/{id}). */
struct report_list {
	const char *items;	/* the report's member: "errors" */
	const char *param;	/* a page's size: ?errors=N */
	const char *after;	/* where a page starts: ?errors_after= */
	const char *next;	/* the report's start of the next page */
	const char *other;	/* the other list, none of it in a page */
};

static const struct report_list errors_list = { "errors", "errors",
    "errors_after", "errors_next_after", "certificates" };
static const struct report_list certs_list = { "certificates_issued",
    "certificates", "certificates_after", "certificates_next_after",
    "errors" };

/*
 * The page of list L of import ID that starts after AFTER (what the page
 * before said in its L->next), of N items at most.  Returns 0 with *PAGE
 * (a new reference), or -1 with ERR.
 */
static int
fetch_page(struct cli_ctx *ctx, long long id, const struct report_list *l,
    long long n, long long after, json_t **page, struct cli_error *err)
{
	struct cli_response resp;
	char *path;
	int rc;

	*page = NULL;
	if (n > CLI_PAGE)
		n = CLI_PAGE;
	path = cli_pathf("/v1/imports/%lld?%s=%lld&%s=%lld&%s=0", id,
	    l->param, n, l->after, after, l->other);
	if (path == NULL)
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	rc = cli_call(ctx, "GET", path, NULL, NULL, &resp, err);
	free(path);
	if (rc != 0)
		return -1;
	*page = json_incref(resp.json);
	cli_response_release(&resp);
	/* A page that does not move on would be asked for forever. */
	if (!json_is_array(json_object_get(*page, l->items)) ||
	    (json_array_size(json_object_get(*page, l->items)) == 0 &&
	    json_is_integer(json_object_get(*page, l->next)) &&
	    json_integer_value(json_object_get(*page, l->next)) <= after)) {
		json_decref(*page);
		*page = NULL;
		return cli_error_set(err, CLI_EXIT_FAILURE, "the server's "
		    "page of the %s of import %lld after %lld is not one",
		    l->items, id, after);
	}
	return 0;
}

/* What report_each() calls with each page: the first N of ITEMS. */
typedef int (*page_fn)(void *arg, const json_t *items, size_t n);

/*
 * Calls FN with the first WANT items of list L of REPORT: REPORT's own,
 * then the pages that follow, one in memory at a time.  *SEEN is how many
 * there were.  Returns 0, or -1 with ERR (FN's -1: stdout failed, or out
 * of memory).
 */
static int
report_each(struct cli_ctx *ctx, const json_t *report,
    const struct report_list *l, long long want, page_fn fn, void *arg,
    long long *seen, struct cli_error *err)
{
	long long id = cli_jint(report, "id");
	json_t *page = json_incref((json_t *)report);
	int rc = -1;

	*seen = 0;
	for (;;) {
		const json_t *items = json_object_get(page, l->items);
		const json_t *next = json_object_get(page, l->next);
		size_t n = json_array_size(items);

		if ((long long)n > want - *seen)
			n = (size_t)(want - *seen);
		if (n > 0 && fn(arg, items, n) != 0) {
			cli_error_set(err, CLI_EXIT_FAILURE, "cannot print "
			    "the report: %s", strerror(errno));
			goto out;
		}
		*seen += (long long)n;
		if (*seen >= want || !json_is_integer(next))
			break;
		long long after = json_integer_value(next);
		json_decref(page);
		if (fetch_page(ctx, id, l, want - *seen, after, &page,
		    err) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(page);
	return rc;
}

/* A table of one of the report's lists, printed a page at a time and
 * aligned as one: the pages are read twice, first for the widths. */
struct list_table {
	size_t ncols;
	const char *const *head;
	int (*row)(struct cli_table *t, const json_t *item);
	size_t w[4];
	bool print;		/* false: the widths; true: print */
};

static int
table_page(void *arg, const json_t *items, size_t n)
{
	struct list_table *lt = arg;
	struct cli_table t;
	int rc = 0;

	cli_table_init(&t, lt->ncols);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = lt->row(&t, json_array_get(items, i));
	if (rc == 0 && lt->print)
		rc = cli_table_print_widths(&t, lt->w, stdout);
	else if (rc == 0)
		cli_table_widths(&t, lt->w);
	cli_table_release(&t);
	return rc;
}

/* The first WANT of list L of REPORT as the table LT, when there are any;
 * *SHOWN how many.  Returns 0, or -1 with ERR. */
static int
print_list(struct cli_ctx *ctx, const json_t *report,
    const struct report_list *l, long long want, struct list_table *lt,
    long long *shown, struct cli_error *err)
{
	struct cli_table head;
	long long again;
	int rc = -1;

	cli_table_init(&head, lt->ncols);
	if (cli_table_addv(&head, lt->head) != 0) {
		cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
		goto out;
	}
	memset(lt->w, 0, sizeof(lt->w));
	cli_table_widths(&head, lt->w);
	lt->print = false;
	if (report_each(ctx, report, l, want, table_page, lt, shown,
	    err) != 0)
		goto out;
	if (*shown == 0) {
		rc = 0;
		goto out;
	}
	lt->print = true;
	if (cli_table_print_widths(&head, lt->w, stdout) != 0) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot print the "
		    "report: %s", strerror(errno));
		goto out;
	}
	/* the lists of a report never change: the same rows again */
	if (report_each(ctx, report, l, *shown, table_page, lt, &again,
	    err) != 0)
		goto out;
	rc = 0;
out:
	cli_table_release(&head);
	return rc;
}

/* A problem as a row: LINE COLUMN VALUE MESSAGE. */
static int
error_row(struct cli_table *t, const json_t *e)
{
	char line[32], col[128], val[VALUE_SHOWN * 4 + 8], msg[2048];

	snprintf(line, sizeof(line), "%s", cli_jstr(e, "line", col,
	    sizeof(col)));
	cell(json_string_value(json_object_get(e, "column")), col,
	    sizeof(col), 0);
	cell(json_string_value(json_object_get(e, "value")), val,
	    sizeof(val), VALUE_SHOWN);
	cell(json_string_value(json_object_get(e, "message")), msg,
	    sizeof(msg), 0);
	return cli_table_add(t, line, col, val, msg);
}

/* A certificate as a row: NUMBER CLINICIAN LEVEL. */
static int
cert_row(struct cli_table *t, const json_t *e)
{
	char num[64], who[32], lev[64];

	cell(json_string_value(json_object_get(e, "number")), num,
	    sizeof(num), 0);
	cli_jstr(e, "clinician_id", who, sizeof(who));
	cell(json_string_value(json_object_get(e, "level")), lev,
	    sizeof(lev), 0);
	return cli_table_add(t, num, who, lev);
}

/* The summary, the ignored columns and the first WANT problems (those
 * of the report R and of the pages after it), on stdout.  Returns 0, or
 * -1 with ERR. */
static int
print_report(struct cli_ctx *ctx, const json_t *r, const char *name,
    long long want, struct cli_error *err)
{
	static const char *const head[] = { "LINE", "COLUMN", "VALUE",
	    "MESSAGE" };
	struct list_table lt = { 4, head, error_row, { 0 }, false };
	const json_t *ign = json_object_get(r, "ignored_columns"), *e;
	long long total = cli_jint(r, "errors_total"), shown;
	size_t i;

	print_summary(r, name);
	if (json_array_size(ign) > 0) {
		printf("ignored column%s: ", json_array_size(ign) == 1 ? "" :
		    "s");
		json_array_foreach(ign, i, e)
			printf("%s'%s'", i ? ", " : "",
			    json_string_value(e) ? json_string_value(e) : "");
		printf("\n");
	}
	if (print_list(ctx, r, &errors_list, want, &lt, &shown, err) != 0)
		return -1;
	if (total > shown)
		printf("(the first %lld of %lld problems; 'certrack import show "
		    "%lld --errors %lld' lists them all)\n", shown, total,
		    (long long)cli_jint(r, "id"), total);
	return 0;
}

/* The certificates the import issued (the report's certificates_issued
 * and the pages after it, the first WANT of certificates_issued_total) as
 * a table: NUMBER CLINICIAN LEVEL, and how to see them all when not all
 * are shown.  Returns 0, or -1 with ERR. */
static int
print_certificates(struct cli_ctx *ctx, const json_t *r, long long want,
    struct cli_error *err)
{
	static const char *const head[] = { "NUMBER", "CLINICIAN", "LEVEL" };
	struct list_table lt = { 3, head, cert_row, { 0 }, false };
	long long total = cli_jint(r, "certificates_issued_total"), shown;

	printf("certificates issued: %lld%s\n", total,
	    json_is_true(json_object_get(r, "dry_run")) ? " (a dry run "
	    "issues none)" : "");
	if (print_list(ctx, r, &certs_list, want, &lt, &shown, err) != 0)
		return -1;
	if (total > shown)
		printf("(the first %lld of %lld certificates; 'certrack import "
		    "show %lld --certificates %lld' lists them all)\n",
		    shown, total, (long long)cli_jint(r, "id"), total);
	return 0;
}

/* ---- the report as JSON, a page at a time --------------------------- */

/* One list of the report printed as JSON: how many, and the last one's
 * line (errors) or id (certificates). */
struct json_list {
	bool first;
	long long seen, last;
	const char *key;	/* "line" or "id" */
};

/* report_each()'s callback: the first N of ITEMS, as compact JSON. */
static int
json_page(void *arg, const json_t *items, size_t n)
{
	struct json_list *jl = arg;

	for (size_t i = 0; i < n; i++) {
		const json_t *it = json_array_get(items, i);

		if (!jl->first)
			fputs(", ", stdout);
		jl->first = false;
		if (json_dumpf(it, stdout, JSON_COMPACT) != 0)
			return -1;
		jl->last = cli_jint(it, jl->key);
	}
	return ferror(stdout) ? -1 : 0;
}

/* True when REPORT holds the first WANT of list L, or all of it. */
static bool
holds(const json_t *report, const struct report_list *l, long long want)
{
	return (long long)json_array_size(json_object_get(report, l->items)) >=
	    want || !json_is_integer(json_object_get(report, l->next));
}

/*
 * --json: REPORT (the answer RESP) as the API gives it, but with its first
 * WANT_E errors and WANT_C certificates, read a page at a time and
 * printed as they come; each list's next is where the rest start (the
 * last one printed), or null.  The answer itself when it holds them.
 * Returns 0, or -1 with ERR.
 */
static int
print_json_report(struct cli_ctx *ctx, const struct cli_response *resp,
    long long want_e, long long want_c, struct cli_error *err)
{
	const json_t *r = resp->json, *v;
	struct json_list je = { true, 0, 0, "line" };
	struct json_list jc = { true, 0, 0, "id" };
	const char *key;
	bool first = true;

	if (holds(r, &errors_list, want_e) && holds(r, &certs_list, want_c))
		return cli_print_json(ctx, resp) == CLI_EXIT_OK ? 0 :
		    cli_error_set(err, CLI_EXIT_FAILURE, "cannot print the "
		    "report: %s", strerror(errno));
	putchar('{');
	json_object_foreach((json_t *)r, key, v) {
		const struct report_list *l = NULL;
		struct json_list *jl = NULL;
		const char *total = NULL;
		long long seen;

		if (strcmp(key, "errors") == 0 ||
		    strcmp(key, "errors_next_after") == 0) {
			l = &errors_list;
			jl = &je;
			total = "errors_total";
		} else if (strcmp(key, "certificates_issued") == 0 ||
		    strcmp(key, "certificates_next_after") == 0) {
			l = &certs_list;
			jl = &jc;
			total = "certificates_issued_total";
		}
		printf("%s\"%s\": ", first ? "" : ", ", key);
		first = false;
		if (l != NULL && strcmp(key, l->items) == 0) {
			putchar('[');
			if (report_each(ctx, r, l, l == &errors_list ? want_e :
			    want_c, json_page, jl, &seen, err) != 0)
				return -1;
			jl->seen = seen;
			putchar(']');
		} else if (l != NULL && jl->seen > 0)
			/* the next after those printed */
			jl->seen >= cli_jint(r, total) ? (void)fputs("null",
			    stdout) : (void)printf("%lld", jl->last);
		else if (json_dumpf(v, stdout, JSON_COMPACT |
		    JSON_ENCODE_ANY) != 0)
			return cli_error_set(err, CLI_EXIT_FAILURE, "out of "
			    "memory");
	}
	fputs("}\n", stdout);
	return 0;
}

/* ---- the errors CSV -------------------------------------------------- */

/* The problems of one line, joined. */
struct line_errors {
	long line;
	char *text;	/* "column: message; column: message" */
};

struct errors_csv {
	FILE *out;
	struct csvread *reader;
	char delim;		/* the input's, once known */
	/* The problems, merged by line with the records as they are read:
	 * one page of the report in hand at a time. */
	struct line_errors *errs;	/* the page's, one per line */
	size_t nerrs, next;	/* errs[next] is the next to write */
	struct cli_ctx *ctx;
	long long id;		/* the import's */
	bool more;		/* another page follows, after line AFTER */
	long long after;
	long long seen;		/* problems read from the pages so far */
	struct cli_error *err;	/* why a page could not be read */
	bool failed;
	bool have_header;
	int nheader;
	long written;		/* rows written */
	bool write_failed;
};

static int
line_cmp(const void *a, const void *b)
{
	const struct line_errors *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

static void
line_errors_free(struct line_errors *errs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(errs[i].text);
	free(errs);
}

/*
 * A page's problems as one entry per line, in line order.  Returns 0,
 * or -1 out of memory.
 */
static int
collect_errors(const json_t *errors, struct line_errors **out, size_t *nout)
{
	struct line_errors *errs;
	size_t n = 0, i;
	const json_t *e;

	*out = NULL;
	*nout = 0;
	errs = calloc(json_array_size(errors) + 1, sizeof(*errs));
	if (errs == NULL)
		return -1;
	json_array_foreach(errors, i, e) {
		const char *col = json_string_value(json_object_get(e,
		    "column"));
		const char *msg = json_string_value(json_object_get(e,
		    "message"));
		long line = (long)cli_jint(e, "line");
		struct strbuf sb;

		strbuf_init(&sb);
		if (n > 0 && errs[n - 1].line == line) {
			/* The server lists them by line: join to the last. */
			if (strbuf_addf(&sb, "%s; ", errs[n - 1].text) != 0)
				goto fail;
			free(errs[n - 1].text);
			errs[n - 1].text = NULL;
			n--;
		}
		if (col != NULL && *col != '\0' ?
		    strbuf_addf(&sb, "%s: %s", col, msg ? msg : "") != 0 :
		    strbuf_addstr(&sb, msg ? msg : "") != 0) {
			strbuf_release(&sb);
			goto fail;
		}
		errs[n].line = line;
		errs[n].text = strbuf_detach(&sb, NULL);
		if (errs[n].text == NULL)
			goto fail;
		n++;
		continue;
fail:
		strbuf_release(&sb);
		line_errors_free(errs, n);
		return -1;
	}
	/* Already in order; sorting costs little and makes it certain. */
	qsort(errs, n, sizeof(*errs), line_cmp);
	*out = errs;
	*nout = n;
	return 0;
}

/*
 * PAGE's problems in hand (those before used up and freed), and where
 * the page after it starts.  Returns 0, or -1 with X->err.
 */
static int
take_page(struct errors_csv *x, const json_t *page)
{
	const json_t *items = json_object_get(page, "errors");
	const json_t *next = json_object_get(page, "errors_next_after");

	line_errors_free(x->errs, x->nerrs);
	x->errs = NULL;
	x->nerrs = x->next = 0;
	if (collect_errors(items, &x->errs, &x->nerrs) != 0)
		return cli_error_set(x->err, CLI_EXIT_FAILURE, "out of memory");
	x->seen += (long long)json_array_size(items);
	x->more = json_is_integer(next);
	if (x->more)
		x->after = json_integer_value(next);
	return 0;
}

/* The next line's problems, reading the next page when this one is used
 * up; NULL when there are none left, or (X->failed) when a page could
 * not be read. */
static const struct line_errors *
peek(struct errors_csv *x)
{
	json_t *page;
	int rc;

	while (x->next == x->nerrs && x->more && !x->failed) {
		if (fetch_page(x->ctx, x->id, &errors_list, CLI_PAGE,
		    x->after, &page, x->err) != 0) {
			x->failed = true;
			break;
		}
		rc = take_page(x, page);
		json_decref(page);
		if (rc != 0)
			x->failed = true;
	}
	return x->next < x->nerrs && !x->failed ? &x->errs[x->next] : NULL;
}

/* One field, quoted when it must be to read back the same. */
static void
put_field(struct errors_csv *x, const char *s, bool first)
{
	size_t len = strlen(s);
	bool quote = len > 0 && (strchr(s, x->delim) != NULL ||
	    strpbrk(s, "\"\r\n") != NULL || s[0] == ' ' || s[0] == '\t' ||
	    s[len - 1] == ' ' || s[len - 1] == '\t');

	if (!first)
		putc(x->delim, x->out);
	if (!quote) {
		fputs(s, x->out);
		return;
	}
	putc('"', x->out);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			putc('"', x->out);
		putc(*s, x->out);
	}
	putc('"', x->out);
}

static void
put_header(struct errors_csv *x, int n, char *const *fields)
{
	for (int i = 0; i < n; i++)
		put_field(x, fields[i], i == 0);
	put_field(x, "error", n == 0);
	putc('\n', x->out);
	x->have_header = true;
	x->nheader = n;
}

/* A problem with no record of its own (the header, a broken quote): empty
 * fields and the problem, with its line. */
static void
put_file_error(struct errors_csv *x, const struct line_errors *e)
{
	char *text = cli_pathf("line %ld: %s", e->line, e->text);

	for (int i = 0; i < x->nheader; i++)
		put_field(x, "", i == 0);
	put_field(x, text ? text : e->text, x->nheader == 0);
	putc('\n', x->out);
	free(text);
	x->written++;
}

/* csvread's callback: the header, then every record with a problem. */
static int
on_record(void *arg, long line, int n, char *const *fields, int bad_utf8)
{
	struct errors_csv *x = arg;
	const struct line_errors *e;

	(void)bad_utf8;	/* copied as it was: the user fixes it */
	if (x->delim == 0)	/* detected by now, as the server did */
		x->delim = csvread_delimiter(x->reader);
	if (!x->have_header) {
		put_header(x, n, fields);
		/* Problems of the header line itself come out as file
		 * problems, just after it. */
		while ((e = peek(x)) != NULL && e->line <= line) {
			put_file_error(x, e);
			x->next++;
		}
		return x->failed ? -1 : 0;
	}
	while ((e = peek(x)) != NULL && e->line < line) {
		put_file_error(x, e);
		x->next++;
	}
	if (e != NULL && e->line == line) {
		int i;

		for (i = 0; i < n; i++)
			put_field(x, fields[i], i == 0);
		/* A short row is padded, so the error stays in its column. */
		for (; i < x->nheader; i++)
			put_field(x, "", i == 0);
		put_field(x, e->text, i == 0);
		putc('\n', x->out);
		x->next++;
		x->written++;
	}
	if (ferror(x->out)) {
		x->write_failed = true;
		return -1;
	}
	/* Nothing more to find (or a page that cannot be read): stop
	 * reading. */
	return peek(x) == NULL ? -1 : 0;
}

/*
 * Writes OUT_PATH: IN (from its start; IN_LABEL names it, quoted) re-read
 * with delimiter DELIM (0 to detect it, as the server does), each record
 * with a problem copied with its "error": the problems of REPORT (the
 * answer to the upload) and of the pages after it, read as the records
 * come (one page in memory).  Returns 0, or -1 with ERR.
 */
static int
write_errors_csv(struct cli_ctx *ctx, const json_t *report, FILE *in,
    const char *in_label, char delim, const char *out_path, long *written,
    struct cli_error *err)
{
	struct errors_csv x;
	struct csvread *r = NULL;
	const struct line_errors *e;
	long long total = cli_jint(report, "errors_total");
	char buf[64 * 1024];
	bool first = true, stopped = false;
	size_t n;
	int rc = -1;

	memset(&x, 0, sizeof(x));
	x.ctx = ctx;
	x.id = cli_jint(report, "id");
	x.err = err;
	if (fseek(in, 0, SEEK_SET) != 0)
		return cli_error_set(err, CLI_EXIT_FAILURE, "cannot read %s "
		    "again: %s", in_label, strerror(errno));
	if (take_page(&x, report) != 0)
		return -1;
	x.out = fopen(out_path, "w");
	if (x.out == NULL) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot create '%s': %s",
		    out_path, strerror(errno));
		goto out;
	}
	x.delim = delim;
	r = csvread_new(delim, on_record, &x);
	x.reader = r;
	if (r == NULL) {
		cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
		goto out;
	}
	while (!stopped && (n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (first) {
			/* A byte-order mark stays, for spreadsheets that
			 * need it to see UTF-8. */
			if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
				fputs("\xEF\xBB\xBF", x.out);
			first = false;
		}
		if (csvread_feed(r, buf, n) != 0)
			stopped = true;
	}
	if (ferror(in)) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot read %s again: "
		    "%s", in_label, strerror(errno));
		goto out;
	}
	if (!stopped)
		csvread_finish(r);
	/* Whatever was not matched to a record: file problems. */
	if (x.delim == 0)
		x.delim = ',';
	if (!x.have_header)
		put_header(&x, 0, NULL);
	while ((e = peek(&x)) != NULL) {
		put_file_error(&x, e);
		x.next++;
	}
	if (x.failed)
		goto out;
	if (x.write_failed || ferror(x.out)) {
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot write '%s': %s",
		    out_path, strerror(errno));
		goto out;
	}
	/* A server that does not page its reports gave only the first. */
	if (x.seen < total)
		cli_warnf(ctx, "the report has %lld problems; the errors CSV "
		    "holds the first %lld", total, x.seen);
	*written = x.written;
	rc = 0;
out:
	csvread_free(r);
	line_errors_free(x.errs, x.nerrs);
	if (x.out != NULL && fclose(x.out) != 0 && rc == 0) {
		rc = cli_error_set(err, CLI_EXIT_FAILURE, "cannot write '%s': "
		    "%s", out_path, strerror(errno));
	}
	return rc;
}

/* ---- the server's progress -------------------------------------------- */

/*
 * On a terminal the import is named before it is sent (a random `key`:
 * its id comes only with the answer, after the whole file), and its
 * progress on the server is read about twice a second on a second
 * connection (GET /v1/imports?key=...) while the file goes and the server
 * checks and merges the rows: "import 42: checking 100,000 rows" on the
 * progress line.  A server that does not answer, or does not know keys, leaves
 * the line as it was.
 */
struct watch {
	struct cli_ctx *ctx;
	char key[40];
	char path[96];
	int failures;		/* in a row; polling stops after a few */
};

#define WATCH_FAILURES_MAX 5

/* N with its thousands grouped: "100,000". */
static void
grouped(long long n, char *buf, size_t len)
{
	char digits[32];
	size_t nd, o = 0;

	snprintf(digits, sizeof(digits), "%lld", n < 0 ? 0 : n);
	nd = strlen(digits);
	for (size_t i = 0; i < nd && o + 2 < len; i++) {
		if (i > 0 && (nd - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
}

/*
 * A few words on an import's PROGRESS (GET /v1/imports' "progress"):
 * "the server has read 40,000 rows", "checking 100,000 rows", "merging
 * 99,990 rows (10 of 100,000 have problems)", "merged 99,990 rows;
 * writing the report".  Nothing (0) for a phase without words.
 */
static int
progress_words(const json_t *progress, char *buf, size_t len)
{
	const char *phase = json_string_value(json_object_get(progress,
	    "phase"));
	long long got = cli_jint(progress, "received");
	long long bad = cli_jint(progress, "failed");
	long long merged = cli_jint(progress, "merged");
	char a[32], b[32], c[32];

	if (phase == NULL)
		return -1;
	grouped(got, a, sizeof(a));
	grouped(got - bad, b, sizeof(b));
	grouped(bad, c, sizeof(c));
	if (strcmp(phase, "receiving") == 0)
		snprintf(buf, len, "the server has read %s row%s", a,
		    got == 1 ? "" : "s");
	else if (strcmp(phase, "checking") == 0)
		snprintf(buf, len, "checking %s row%s", a, got == 1 ? "" : "s");
	else if (strcmp(phase, "merging") == 0 && merged > 0) {
		grouped(merged, b, sizeof(b));
		snprintf(buf, len, "merged %s row%s; writing the report", b,
		    merged == 1 ? "" : "s");
	} else if (strcmp(phase, "merging") == 0 && bad > 0)
		snprintf(buf, len, "merging %s row%s (%s of %s %s problems)", b,
		    got - bad == 1 ? "" : "s", c, a, bad == 1 ? "has" :
		    "have");
	else if (strcmp(phase, "merging") == 0)
		snprintf(buf, len, "merging %s row%s", a, got == 1 ? "" : "s");
	else
		return -1;
	return 0;
}

/* cli_upload_opts' watch: the import named W->key, as the server sees
 * it. */
static void
watch_import(void *arg, bool sent, char *status, size_t len)
{
	struct watch *w = arg;
	struct cli_response resp;
	struct cli_error err;
	const json_t *it;
	const char *key;

	(void)sent;
	if (w->failures >= WATCH_FAILURES_MAX)
		return;
	if (cli_request_aside(w->ctx, w->path, &resp, &err) != 0) {
		w->failures++;
		return;
	}
	it = json_array_get(resp.json, 0);
	key = json_string_value(json_object_get(it, "key"));
	if (resp.status != 200 || (json_array_size(resp.json) > 0 &&
	    (key == NULL || strcmp(key, w->key) != 0)))
		w->failures++;	/* not a server that knows keys */
	else if (it != NULL) {
		char words[160];

		w->failures = 0;
		/* the id, for `certrack import show ID` elsewhere meanwhile */
		if (progress_words(json_object_get(it, "progress"), words,
		    sizeof(words)) == 0)
			snprintf(status, len, "import %lld: %s",
			    (long long)cli_jint(it, "id"), words);
	}
	cli_response_release(&resp);
}

/*
 * Names the import on PATH (its query string so far) with a random key
 * and sets UP to watch it.  Returns 0 (also without randomness: then the
 * import goes on unwatched), or -1 out of memory.
 */
static int
watch_start(struct watch *w, struct cli_ctx *ctx, struct strbuf *path,
    struct cli_upload_opts *up)
{
	unsigned char rnd[16];

	memset(w, 0, sizeof(*w));
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return 0;	/* no key: no progress, the import goes on */
	for (size_t i = 0; i < sizeof(rnd); i++)
		snprintf(w->key + 2 * i, 3, "%02x", rnd[i]);
	w->ctx = ctx;
	snprintf(w->path, sizeof(w->path), "/v1/imports?key=%s&limit=1",
	    w->key);
	if (cli_query_add(path, "key", w->key) != 0)
		return -1;
	up->watch = watch_import;
	up->watch_arg = w;
	return 0;
}

/* ---- import roster|results FILE -------------------------------------- */

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL && slash[1] != '\0' ? slash + 1 : path;
}

/* --delimiter NAME: the character (0 to detect) and the API's name for
 * it (NULL for auto, the server's default).  0, or -1 for no such name. */
static int
delimiter_of(const char *name, char *delim, const char **api)
{
	static const struct { const char *name; char delim; const char *api; }
	    delims[] = {
		{ "comma", ',', "comma" }, { ",", ',', "comma" },
		{ "semicolon", ';', "semicolon" }, { ";", ';', "semicolon" },
		{ "tab", '\t', "tab" }, { "\t", '\t', "tab" },
		{ "auto", 0, NULL },
	};

	for (size_t i = 0; i < sizeof(delims) / sizeof(delims[0]); i++)
		if (strcmp(name, delims[i].name) == 0) {
			*delim = delims[i].delim;
			*api = delims[i].api;
			return 0;
		}
	return -1;
}

static int
cmd_run(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		{ "partial", no_argument, NULL, OPT_PARTIAL },
		{ "delimiter", required_argument, NULL, OPT_DELIMITER },
		{ "errors-csv", required_argument, NULL, OPT_ERRORS_CSV },
		{ "certificates", no_argument, NULL, OPT_CERTIFICATES },
		{ NULL, 0, NULL, 0 },
	};
	const char *kind = argv[0], *file, *delim_name = NULL;
	const char *errors_csv = NULL;
	bool dry_run = false, partial = false, is_stdin, certs = false;
	char delim = 0, label[600];
	struct cli_upload_opts up;
	struct watch watch;
	struct cli_response resp;
	struct cli_error err;
	struct strbuf path;
	struct stat st;
	FILE *in = NULL, *tee = NULL;
	const char *status;
	long written = 0;
	int c, rc;

	memset(&resp, 0, sizeof(resp));
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_DRY_RUN: dry_run = true; break;
		case OPT_PARTIAL: partial = true; break;
		case OPT_ERRORS_CSV: errors_csv = optarg; break;
		case OPT_CERTIFICATES: certs = true; break;
		case OPT_DELIMITER:
			if (delimiter_of(optarg, &delim, &delim_name) != 0)
				return cli_usage_error(ctx, "--delimiter '%s' "
				    "is not one of comma, semicolon, tab, auto",
				    optarg);
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "FILE (a CSV file, or - "
	    "for standard input)") != 0)
		return CLI_EXIT_USAGE;
	file = argv[optind];
	if (errors_csv != NULL && *errors_csv == '\0')
		return cli_usage_error(ctx, "--errors-csv needs a file name");
	is_stdin = strcmp(file, "-") == 0;
	if (errors_csv != NULL && !is_stdin && strcmp(errors_csv, file) == 0)
		return cli_usage_error(ctx, "--errors-csv '%s' would overwrite "
		    "the file being imported", errors_csv);

	/* A file that is not there is a mistake on the command line:
	 * exit 2, before anything is sent. */
	if (is_stdin) {
		in = stdin;
		snprintf(label, sizeof(label), "standard input");
	} else {
		in = fopen(file, "rb");
		if (in == NULL) {
			return cli_fail(ctx, CLI_EXIT_USAGE, "cannot open "
			    "'%s': %s", file, strerror(errno));
		}
		snprintf(label, sizeof(label), "'%s'", file);
	}
	memset(&up, 0, sizeof(up));
	up.fp = in;
	up.size = -1;
	if (fstat(fileno(in), &st) != 0) {
		rc = cli_fail(ctx, CLI_EXIT_USAGE, "cannot read %s: %s", label,
		    strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		rc = cli_fail(ctx, CLI_EXIT_USAGE, "cannot read %s: %s", label,
		    strerror(EISDIR));
		goto out;
	}
	if (S_ISREG(st.st_mode) && ftello(in) >= 0)
		up.size = (long long)st.st_size - (long long)ftello(in);
	if (errors_csv != NULL && !is_stdin) {
		struct stat o;

		/* The same file by another name. */
		if (stat(errors_csv, &o) == 0 && o.st_dev == st.st_dev &&
		    o.st_ino == st.st_ino) {
			rc = cli_usage_error(ctx, "--errors-csv '%s' would "
			    "overwrite the file being imported", errors_csv);
			goto out;
		}
	}
	/* What cannot be read twice is kept while it is sent. */
	if (errors_csv != NULL && (is_stdin || up.size < 0)) {
		tee = tmpfile();
		if (tee == NULL) {
			cli_errorf("cannot make a temporary file for "
			    "--errors-csv: %s", strerror(errno));
			rc = CLI_EXIT_FAILURE;
			goto out;
		}
		up.tee = tee;
	}
	up.label = is_stdin ? "standard input" : file;
	up.progress = !ctx->quiet && isatty(STDERR_FILENO);

	strbuf_init(&path);
	if (strbuf_addstr(&path, "/v1/imports") != 0 ||
	    cli_query_add(&path, "kind", kind) != 0 ||
	    cli_query_add(&path, "dry_run", dry_run ? "true" : NULL) != 0 ||
	    cli_query_add(&path, "partial", partial ? "true" : NULL) != 0 ||
	    cli_query_add(&path, "delimiter", delim_name) != 0 ||
	    cli_query_add(&path, "filename", is_stdin ? NULL :
	    base_name(file)) != 0) {
		strbuf_release(&path);
		cli_errorf("out of memory");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	/* the server's side of the import, shown beside the upload's */
	if (up.progress && watch_start(&watch, ctx, &path, &up) != 0) {
		strbuf_release(&path);
		cli_errorf("out of memory");
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	rc = cli_upload(ctx, path.buf, &up, &resp, &err);
	strbuf_release(&path);
	if (rc != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot import %s", label);
		goto out;
	}
	/* 201: imported; 422 with a report: refused.  Anything else is a
	 * problem+json (not logged in, not allowed, a bad parameter). */
	if ((resp.status != 201 && resp.status != 422) ||
	    !json_is_object(json_object_get(resp.json, "counts"))) {
		cli_response_error(&resp, &err);
		rc = cli_error_reportf(ctx, &err, "cannot import %s", label);
		goto out;
	}
	status = json_string_value(json_object_get(resp.json, "status"));
	rc = status != NULL && strcmp(status, "succeeded") == 0 ?
	    CLI_EXIT_OK : CLI_EXIT_REFUSED;
	if (ctx->json) {
		if (cli_print_json(ctx, &resp) != CLI_EXIT_OK)
			rc = CLI_EXIT_FAILURE;
	} else if (!ctx->quiet || rc != CLI_EXIT_OK) {
		char name[640];

		/* what the answer holds: the first 1000 of each */
		file_label(resp.json, label, name, sizeof(name));
		if (print_report(ctx, resp.json, name, (long long)
		    json_array_size(json_object_get(resp.json, "errors")),
		    &err) != 0 || (certs && print_certificates(ctx, resp.json,
		    (long long)json_array_size(json_object_get(resp.json,
		    "certificates_issued")), &err) != 0)) {
			rc = cli_error_reportf(ctx, &err, "cannot print the "
			    "report of %s", label);
			goto out;
		}
	}
	if (errors_csv == NULL)
		goto out;
	if (cli_jint(resp.json, "errors_total") == 0) {
		if (!ctx->json && !ctx->quiet)
			printf("no problems: '%s' was not written\n",
			    errors_csv);
		goto out;
	}
	/* (fseek() flushes the copy of standard input.) */
	if (write_errors_csv(ctx, resp.json, tee != NULL ? tee : in, label,
	    delim, errors_csv, &written, &err) != 0) {
		if (rc == CLI_EXIT_OK)
			rc = err.exit_code;
		cli_error_reportf(ctx, &err, "cannot write the errors CSV");
		goto out;
	}
	if (!ctx->json && !ctx->quiet)
		printf("wrote '%s': %ld row%s to fix and import again\n",
		    errors_csv, written, written == 1 ? "" : "s");
out:
	cli_response_release(&resp);
	if (tee != NULL)
		fclose(tee);
	if (in != NULL && in != stdin)
		fclose(in);
	return rc;
}

/* ---- import list ----------------------------------------------------- */

static const char *
mode_of(const json_t *it)
{
	bool dry = json_is_true(json_object_get(it, "dry_run"));
	bool partial = json_is_true(json_object_get(it, "partial"));

	if (dry && partial)
		return "dry run, partial";
	if (dry)
		return "dry run";
	if (partial)
		return "partial";
	return "-";
}

static void
import_row(struct cli_table *t, const json_t *it)
{
	const json_t *k = json_object_get(it, "counts");
	char id[24], when[64], kind[16], st[16], fn[256], user[128];
	char rows[24], cr[24], up[24], un[24], fa[24];

	cli_table_add(t, cli_jstr(it, "id", id, sizeof(id)),
	    cli_jtime(it, "started_at", when, sizeof(when)),
	    cli_jstr(it, "kind", kind, sizeof(kind)),
	    cli_jstr(it, "status", st, sizeof(st)), mode_of(it),
	    cli_jstr(it, "filename", fn, sizeof(fn)),
	    cli_jstr(it, "user", user, sizeof(user)),
	    cli_jstr(k, "rows", rows, sizeof(rows)),
	    cli_jstr(k, "created", cr, sizeof(cr)),
	    cli_jstr(k, "updated", up, sizeof(up)),
	    cli_jstr(k, "unchanged", un, sizeof(un)),
	    cli_jstr(k, "failed", fa, sizeof(fa)));
}

static int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "STARTED", "KIND", "STATUS",
	    "MODE", "FILE", "USER", "ROWS", "CREATED", "UPDATED", "UNCHANGED",
	    "FAILED" };
	static const struct cli_list list = { "items", "id", "no imports yet",
	    12, head, import_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ NULL, 0, NULL, 0 },
	};
	const char *limit = NULL;
	struct cli_response resp;
	long long n;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_LIMIT) {
			if (cli_arg_int(ctx, "--limit", optarg, 1, 1000,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			limit = optarg;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	static const char *const names[] = { "limit" };
	const char *values[] = { limit };
	if (cli_get_query(ctx, "/v1/imports", 1, names, values, false, &resp,
	    &rc) != 0)
		return rc;
	/* the answer is the newest imports, as many as --limit says: the
	 * list's limit, which the answer does not repeat */
	json_t *doc = json_pack("{s:O, s:I}", "items", resp.json, "limit",
	    (json_int_t)(limit != NULL ? n : 50));
	cli_response_release(&resp);
	if (doc == NULL)
		return cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
	rc = cli_list_print(ctx, &list, doc);
	json_decref(doc);
	return rc;
}

/* ---- import show ID -------------------------------------------------- */

static int
cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "errors", required_argument, NULL, OPT_ERRORS },
		{ "certificates", required_argument, NULL, OPT_CERTIFICATES },
		{ NULL, 0, NULL, 0 },
	};
	/* the server's own defaults: 1000 of each */
	long long id, nerrors = 1000, ncerts = 1000;
	bool errors = false, certs = false;
	struct cli_response resp;
	struct cli_error err;
	char b[64], name[300], idname[40], errors_s[24], certs_s[24];
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_ERRORS) {
			if (cli_arg_int(ctx, "--errors", optarg, 0, SHOW_MAX,
			    &nerrors) != 0)
				return CLI_EXIT_USAGE;
			errors = true;
		}
		if (c == OPT_CERTIFICATES) {
			if (cli_arg_int(ctx, "--certificates", optarg, 0,
			    SHOW_MAX, &ncerts) != 0)
				return CLI_EXIT_USAGE;
			certs = true;
		}
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "ID (an import's id, from "
	    "'certrack import list')") != 0 ||
	    cli_arg_id(ctx, "import", argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	/* the first page; the rest as the lists are printed */
	snprintf(errors_s, sizeof(errors_s), "%lld", nerrors < CLI_PAGE ?
	    nerrors : CLI_PAGE);
	snprintf(certs_s, sizeof(certs_s), "%lld", ncerts < CLI_PAGE ?
	    ncerts : CLI_PAGE);
	static const char *const names[] = { "errors", "certificates" };
	const char *values[] = { errors ? errors_s : NULL,
	    certs ? certs_s : NULL };
	char path[48];
	snprintf(path, sizeof(path), "/v1/imports/%lld", id);
	if (cli_get_query(ctx, path, 2, names, values, false, &resp,
	    &rc) != 0)
		return rc;
	if (ctx->json) {
		rc = print_json_report(ctx, &resp, nerrors, ncerts, &err) ==
		    0 ? CLI_EXIT_OK : cli_error_reportf(ctx, &err, "cannot "
		    "list import %lld", id);
		cli_response_release(&resp);
		return rc;
	}
	if (ctx->quiet) {
		cli_response_release(&resp);
		return CLI_EXIT_OK;
	}
	cli_kv("import:", cli_jstr(resp.json, "id", b, sizeof(b)));
	cli_kv("kind:", cli_jstr(resp.json, "kind", b, sizeof(b)));
	cli_kv("file:", cli_jstr(resp.json, "filename", b, sizeof(b)));
	cli_kv("mode:", mode_of(resp.json));
	cli_kv("by:", cli_jstr(resp.json, "user", b, sizeof(b)));
	cli_kv("started:", cli_jtime(resp.json, "started_at", b, sizeof(b)));
	cli_kv("finished:", cli_jtime(resp.json, "finished_at", b,
	    sizeof(b)));
	cli_kv("status:", cli_jstr(resp.json, "status", b, sizeof(b)));
	printf("\n");
	snprintf(idname, sizeof(idname), "import %lld", id);
	file_label(resp.json, idname, name, sizeof(name));
	rc = CLI_EXIT_OK;
	if (print_report(ctx, resp.json, name, nerrors, &err) != 0 ||
	    print_certificates(ctx, resp.json, ncerts, &err) != 0)
		rc = cli_error_reportf(ctx, &err, "cannot list import %lld",
		    id);
	cli_response_release(&resp);
	return rc;
}

int
cli_cmd_import(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "roster", cmd_run },
		{ "results", cmd_run },
		{ "ce", cmd_run },
		{ "list", cmd_list },
		{ "show", cmd_show },
	};

	return cli_dispatch(ctx, argc, argv, subs, sizeof(subs) /
	    sizeof(subs[0]));
}
