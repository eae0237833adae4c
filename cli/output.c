/*
 * The output contract of list commands (a table, --json in one shape,
 * --csv, --quiet ids), confirmations on a terminal, and "did you mean"
 * by edit distance.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certrack/cli.h"

/* ---- lists ----------------------------------------------------------- */

/* The items of ANSWER that are records (a user without tokens comes back
 * as one row of nulls: not a token). */
static json_t *
records(const struct cli_list *l, const json_t *answer)
{
	const json_t *items = l->member != NULL ?
	    json_object_get(answer, l->member) : answer;
	json_t *out = json_array(), *it;
	size_t i;

	if (out == NULL)
		return NULL;
	json_array_foreach(items, i, it) {
		json_t *id = json_object_get(it, l->id_key);

		if (id != NULL && json_is_null(id))
			continue;
		json_array_append(out, it);
	}
	return out;
}

json_t *
cli_list_doc(const struct cli_list *l, const json_t *answer)
{
	json_t *items = records(l, answer), *total, *limit, *offset;

	if (items == NULL)
		return NULL;
	total = json_object_get(answer, "total");
	limit = json_object_get(answer, "limit");
	offset = json_object_get(answer, "offset");
	return json_pack("{s:I, s:O, s:I, s:o}",
	    "total", json_is_integer(total) ? json_integer_value(total) :
	    (json_int_t)json_array_size(items),
	    "limit", json_is_integer(limit) ? limit : json_null(),
	    "offset", json_is_integer(offset) ? json_integer_value(offset) :
	    (json_int_t)0,
	    "items", items);
}

/* One CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line end; the table's "-" for nothing is an empty field. */
static void
csv_field(FILE *fp, const char *s)
{
	if (strcmp(s, "-") == 0)
		return;
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s != '\0'; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

static void
csv_print(const struct cli_table *t, FILE *fp)
{
	for (size_t i = 0; i < t->ncells; i++) {
		csv_field(fp, t->cells[i]);
		fputc((i + 1) % t->ncols == 0 ? '\n' : ',', fp);
	}
}

int
cli_list_print(const struct cli_ctx *ctx, const struct cli_list *l,
    const json_t *answer)
{
	struct cli_table t;
	json_t *doc = cli_list_doc(l, answer), *items, *it;
	long long total, off, got;
	size_t i;
	int rc = CLI_EXIT_OK;

	if (doc == NULL)
		return cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
	items = json_object_get(doc, "items");
	if (ctx->json) {
		if (json_dumpf(doc, stdout, JSON_COMPACT) != 0 ||
		    putchar('\n') == EOF)
			rc = CLI_EXIT_FAILURE;
		json_decref(doc);
		return rc;
	}
	if (ctx->quiet && !ctx->csv) {
		/* only the ids, one a line, for scripts */
		json_array_foreach(items, i, it) {
			char b[64];

			printf("%s\n", cli_jstr(it, l->id_key, b, sizeof(b)));
		}
		json_decref(doc);
		return rc;
	}
	cli_table_init(&t, l->ncols);
	cli_table_addv(&t, l->head);
	json_array_foreach(items, i, it)
		l->row(&t, it);
	if (ctx->csv) {
		csv_print(&t, stdout);
	} else if (json_array_size(items) == 0) {
		fprintf(stderr, "%s\n", l->none);
	} else {
		cli_table_print(&t, stdout);
		total = cli_jint(doc, "total");
		off = cli_jint(doc, "offset");
		got = (long long)json_array_size(items);
		/* where this page is, on stderr: stdout is the table */
		if (off + got < total)
			fprintf(stderr, "(%lld-%lld of %lld; --offset %lld for "
			    "more)\n", off + 1, off + got, total, off + got);
		else if (got < total)
			fprintf(stderr, "(%lld-%lld of %lld)\n", off + 1,
			    off + got, total);
	}
	cli_table_release(&t);
	json_decref(doc);
	return rc;
}

/* ---- confirmations ----------------------------------------------------- */

int
cli_confirm(const struct cli_ctx *ctx, struct cli_error *err,
    const char *fmt, ...)
{
	char what[512], answer[64];
	va_list ap;

	if (ctx->yes)
		return 0;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* Never a question nobody can answer: a script says --yes. */
	if (!isatty(STDIN_FILENO))
		return cli_error_set(err, CLI_EXIT_USAGE, "not confirmed: %s "
		    "asks for a yes on a terminal, and standard input is not "
		    "one; add --yes to %s without asking", ctx->cmd != NULL ?
		    ctx->cmd->name : "certrack", what);
	fprintf(stderr, "certrack: %s? [y/N] ", what);
	fflush(stderr);
	if (fgets(answer, sizeof(answer), stdin) == NULL)
		answer[0] = '\0';
	if (strcmp(answer, "y\n") == 0 || strcmp(answer, "yes\n") == 0 ||
	    strcmp(answer, "Y\n") == 0 || strcmp(answer, "YES\n") == 0 ||
	    strcmp(answer, "Yes\n") == 0)
		return 0;
	return cli_error_set(err, CLI_EXIT_REFUSED, "not confirmed: nothing "
	    "was done");
}

/* ---- did you mean ------------------------------------------------------ */

size_t
cli_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t *block, *prev, *cur, *prev2, d;

	if (la > 64 || lb > 64)
		return (size_t)-1;
	block = calloc(3 * (lb + 1), sizeof(size_t));
	if (block == NULL)
		return (size_t)-1;
	prev2 = block;
	prev = prev2 + lb + 1;
	cur = prev + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = prev[j] + 1;

			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (prev[j - 1] + cost < v)
				v = prev[j - 1] + cost;
			/* two letters swapped count as one edit */
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		/* rotate: prev2 <- prev <- cur */
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(block);
	return d;
}

const char *
cli_suggest(const char *typed, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1, len = strlen(typed);
	/* a third of the word may be wrong, at least one letter, at most
	 * two: "clinicans", "sesions", "--offest" */
	size_t limit = len / 3 < 1 ? 1 : len / 3 > 2 ? 2 : len / 3;

	for (size_t i = 0; i < n; i++) {
		size_t d = cli_distance(typed, names[i]);

		if (d <= limit && d < best_d) {
			best = names[i];
			best_d = d;
		}
	}
	return best;
}
