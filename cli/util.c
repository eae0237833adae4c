/*
 * Helpers the commands share: a request that turns a refusal into an
 * error, subcommand dispatch for command groups, checking operands
 * (ids, dates, scores) before anything is sent, aligned tables, values of
 * JSON members as text, and reading a secret without echo.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"
#include "certrack/strnum.h"
#include "certrack/value.h"

int
cli_call(struct cli_ctx *ctx, const char *method, const char *path,
    const json_t *body, const char *const *headers, struct cli_response *resp,
    struct cli_error *err)
{
	struct value_err ve;
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)body, key, v)
		if (json_is_string(v) &&
		    value_text(key, json_string_value(v), &ve) != 0)
			return cli_error_set(err, CLI_EXIT_REFUSED, "%s",
			    ve.detail);
	if (cli_request_hdr(ctx, method, path, body, headers, resp, err) != 0)
		return -1;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	cli_response_error(resp, err);
	cli_response_release(resp);
	return -1;
}

char *
cli_pathf(const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	strbuf_init(&sb);
	va_start(ap, fmt);
	strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	return strbuf_detach(&sb, NULL);	/* NULL if memory ran out */
}

int
cli_query_add(struct strbuf *sb, const char *name, const char *value)
{
	char *esc;
	int rc;

	if (value == NULL)
		return 0;
	esc = cli_escape(value);
	if (esc == NULL)
		return -1;
	rc = strbuf_addf(sb, "%c%s=%s", strchr(sb->buf, '?') ? '&' : '?',
	    name, esc);
	free(esc);
	return rc;
}

int
cli_print_json(const struct cli_ctx *ctx, const struct cli_response *resp)
{
	(void)ctx;
	/* A failed write is reported by main() through ferror(stdout). */
	return cli_print_raw(resp) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int
cli_get_query(struct cli_ctx *ctx, const char *path, int n,
    const char *const *names, const char *const *values, bool json_done,
    struct cli_response *resp, int *exit_code)
{
	struct cli_error err;
	struct strbuf sb;
	int rc;

	strbuf_init(&sb);
	rc = strbuf_addstr(&sb, path);
	for (int i = 0; i < n && rc == 0; i++)
		rc = cli_query_add(&sb, names[i], values[i]);
	if (rc != 0) {
		strbuf_release(&sb);
		cli_errorf("out of memory");
		*exit_code = CLI_EXIT_FAILURE;
		return -1;
	}
	rc = cli_call(ctx, "GET", sb.buf, NULL, NULL, resp, &err);
	strbuf_release(&sb);
	if (rc != 0) {
		*exit_code = cli_error_report(ctx, &err);
		return -1;
	}
	if (json_done && ctx->json) {
		*exit_code = cli_print_json(ctx, resp);
		cli_response_release(resp);
		return -1;
	}
	return 0;
}

/* ---- command groups ------------------------------------------------ */

/* "a, b, c": the names of SUBS (caller frees), or NULL out of memory. */
static char *
sub_names(const struct cli_sub *subs, size_t nsubs)
{
	struct strbuf names;

	strbuf_init(&names);
	for (size_t i = 0; i < nsubs; i++)
		strbuf_addf(&names, "%s%s", i ? ", " : "", subs[i].name);
	return strbuf_detach(&names, NULL);
}

int
cli_dispatch(struct cli_ctx *ctx, int argc, char **argv,
    const struct cli_sub *subs, size_t nsubs)
{
	char *names;
	int rc;

	if (argc < 2) {
		if ((names = sub_names(subs, nsubs)) == NULL)
			goto no_memory;
		rc = cli_usage_error(ctx, "'%s' needs a subcommand: %s",
		    argv[0], names);
		free(names);
		return rc;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		cli_command_usage(ctx->cmd, stdout);
		return CLI_EXIT_OK;
	}
	for (size_t i = 0; i < nsubs; i++) {
		if (strcmp(subs[i].name, argv[1]) != 0)
			continue;
		optind = 0;	/* glibc: start afresh on the subcommand */
		return subs[i].run(ctx, argc - 1, argv + 1);
	}
	if (argv[1][0] == '-')
		return cli_usage_error(ctx, "put the subcommand right after "
		    "'%s', before '%s'", argv[0], argv[1]);
	{
		const char *list[32], *guess;
		size_t n = 0;

		for (size_t i = 0; i < nsubs && n < 32; i++)
			list[n++] = subs[i].name;
		guess = cli_suggest(argv[1], list, n);
		if (guess != NULL)
			return cli_usage_error(ctx, "unknown subcommand "
			    "'%s %s'; did you mean '%s %s'?", argv[0],
			    argv[1], argv[0], guess);
	}
	if ((names = sub_names(subs, nsubs)) == NULL)
		goto no_memory;
	rc = cli_usage_error(ctx, "unknown subcommand '%s %s' (one of: %s)",
	    argv[0], argv[1], names);
	free(names);
	return rc;
no_memory:
	cli_errorf("out of memory");
	return CLI_EXIT_FAILURE;
}

int
cli_no_options(struct cli_ctx *ctx, int argc, char **argv, int *exit_code)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts,
	    exit_code)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return -1;
		*exit_code = cli_usage_error(ctx, "unexpected option");
		return -1;
	}
	return 0;
}

int
cli_operands(struct cli_ctx *ctx, int argc, char **argv, int min, int max,
    const char *names)
{
	int n = argc - optind;

	if (n < min) {
		cli_usage_error(ctx, "missing %s", names);
		return -1;
	}
	if (max >= 0 && n > max) {
		cli_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind + max]);
		return -1;
	}
	return 0;
}

/* ---- operands ------------------------------------------------------ */

int
cli_arg_id(const struct cli_ctx *ctx, const char *what, const char *arg,
    long long *id)
{
	const char *why;

	if (strnum_ll(arg, 1, (1LL << 62), id, &why) != 0) {
		cli_usage_error(ctx, "%s '%s' is not a number (a positive "
		    "whole number is expected)", what, arg);
		return -1;
	}
	return 0;
}

int
cli_arg_int(const struct cli_ctx *ctx, const char *what, const char *arg,
    long long min, long long max, long long *out)
{
	const char *why;

	if (strnum_ll(arg, min, max, out, &why) != 0) {
		if (strcmp(why, "invalid") == 0)
			cli_usage_error(ctx, "%s '%s' is not a number", what,
			    arg);
		else
			cli_usage_error(ctx, "%s '%s' is %s (%lld to %lld)",
			    what, arg, why, min, max);
		return -1;
	}
	return 0;
}

int
cli_arg_date(const struct cli_ctx *ctx, const char *what, const char *arg,
    char *out)
{
	struct value_err ve;

	if (value_date(arg, VALUE_DATE_TYPED, out, &ve) != 0) {
		cli_usage_error(ctx, "%s: %s", what, ve.detail);
		return -1;
	}
	return 0;
}

int
cli_arg_state(const struct cli_ctx *ctx, const char *what, const char *arg,
    char *out)
{
	struct value_err ve;

	if (value_state(arg, out, &ve) != 0) {
		cli_usage_error(ctx, "%s: %s", what, ve.detail);
		return -1;
	}
	return 0;
}

int
cli_arg_score(const struct cli_ctx *ctx, const char *what,
    const char *field, const char *arg, json_t **out)
{
	struct value_err ve;
	char text[VALUE_SCORE_LEN];
	long long whole;

	if (value_score(field, arg, text, &ve) != 0) {
		cli_usage_error(ctx, "%s: %s", what, ve.detail);
		return -1;
	}
	/* The exact decimal as the JSON number the API reads back the same
	 * (at most 4 decimals and 10 digits: a double holds it exactly
	 * enough that the API's shortest text is this text again). */
	if (strnum_ll(text, 0, VALUE_SCORE_MAX, &whole, NULL) == 0)
		*out = json_integer(whole);
	else
		*out = json_real(strtod(text, NULL));
	if (*out == NULL) {
		cli_errorf("out of memory");
		return -1;
	}
	return 0;
}

void
cli_today(char buf[16])
{
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(buf, 16, "%Y-%m-%d", &tm);
}

/* ---- JSON values as text ------------------------------------------- */

const char *
cli_jtext(const json_t *v, char *buf, size_t len)
{
	if (v == NULL || json_is_null(v))
		return "-";
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		snprintf(buf, len, "%.15g", json_real_value(v));
		return buf;
	}
	if (json_is_true(v))
		return "yes";
	if (json_is_false(v))
		return "no";
	return "?";
}

const char *
cli_jstr(const json_t *obj, const char *key, char *buf, size_t len)
{
	return cli_jtext(json_object_get(obj, key), buf, len);
}

const char *
cli_jtime(const json_t *obj, const char *key, char *buf, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));
	const char *dot, *zone;

	if (s == NULL)
		return cli_jstr(obj, key, buf, len);
	/* 2024-11-27T14:13:05.123456+00:00 -> 2024-11-27T14:13:05+00:00:
	 * ISO 8601 still, without the microseconds nobody reads. */
	dot = strchr(s, '.');
	if (dot == NULL || dot - s != 19) {
		snprintf(buf, len, "%s", s);
		return buf;
	}
	zone = dot + 1;
	while (*zone >= '0' && *zone <= '9')
		zone++;
	snprintf(buf, len, "%.*s%s", (int)(dot - s), s, zone);
	return buf;
}

json_int_t
cli_jint(const json_t *obj, const char *key)
{
	return json_integer_value(json_object_get(obj, key));
}

/* ---- tables -------------------------------------------------------- */

void
cli_table_init(struct cli_table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

void
cli_table_release(struct cli_table *t)
{
	for (size_t i = 0; i < t->ncells; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

int
cli_table_add(struct cli_table *t, ...)
{
	va_list ap;
	int rc = 0;

	if (t->ncells + t->ncols > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64 * t->ncols;
		char **cells;

		while (cap < t->ncells + t->ncols)
			cap *= 2;
		cells = realloc(t->cells, cap * sizeof(*cells));
		if (cells == NULL)
			return -1;
		t->cells = cells;
		t->cap = cap;
	}
	va_start(ap, t);
	for (size_t i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);
		char *copy = strdup(s != NULL && *s != '\0' ? s : "-");

		if (copy == NULL)
			rc = -1;
		t->cells[t->ncells++] = copy;
	}
	va_end(ap);
	return rc;
}

int
cli_table_addv(struct cli_table *t, const char *const *cells)
{
	int rc = 0;

	/* through the variadic one: one place grows the cells */
	for (size_t i = 0; i < t->ncols && rc == 0; i++) {
		size_t saved = t->ncols;

		t->ncols = 1;
		rc = cli_table_add(t, cells[i]);
		t->ncols = saved;
	}
	return rc;
}

void
cli_table_widths(const struct cli_table *t, size_t *w)
{
	size_t rows = t->ncols ? t->ncells / t->ncols : 0;

	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			/* columns: one per code point, near enough */
			size_t n = value_chars(t->cells[r * t->ncols + c]);
			if (n > w[c])
				w[c] = n;
		}
}

int
cli_table_print_widths(const struct cli_table *t, const size_t *w,
    FILE *fp)
{
	size_t rows = t->ncols ? t->ncells / t->ncols : 0;

	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			fputs(s, fp);
			if (c + 1 < t->ncols)
				for (size_t pad = value_chars(s);
				    pad < w[c] + 2; pad++)
					fputc(' ', fp);
		}
		fputc('\n', fp);
	}
	return ferror(fp) ? -1 : 0;
}

int
cli_table_print(const struct cli_table *t, FILE *fp)
{
	size_t *w;
	int rc;

	w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	if (w == NULL)
		return -1;
	cli_table_widths(t, w);
	rc = cli_table_print_widths(t, w, fp);
	free(w);
	return rc;
}

void
cli_kv(const char *label, const char *value)
{
	printf("%-18s %s\n", label, value != NULL && *value ? value : "-");
}

/* ---- secrets ------------------------------------------------------- */

/* One line from FP into BUF without its end; false at EOF or overflow. */
static bool
read_line(FILE *fp, char *buf, size_t len)
{
	size_t n;

	if (fgets(buf, (int)len, fp) == NULL)
		return false;
	n = strlen(buf);
	if (n > 0 && buf[n - 1] != '\n' && !feof(fp))
		return false;	/* longer than BUF */
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return true;
}

int
cli_read_secret(const char *prompt, bool from_stdin, char *buf, size_t len,
    struct cli_error *err)
{
	struct termios saved, quiet;
	FILE *tty;
	bool ok;
	int fd;

	if (from_stdin) {
		if (!read_line(stdin, buf, len) || buf[0] == '\0')
			return cli_error_set(err, CLI_EXIT_USAGE,
			    "no password on standard input (one line is "
			    "expected: the password)");
		return 0;
	}
	fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "no terminal to read the password from: use "
		    "--password-stdin");
	tty = fdopen(fd, "r+");
	if (tty == NULL) {
		close(fd);
		return cli_error_set(err, CLI_EXIT_FAILURE,
		    "cannot read the terminal: %s", strerror(errno));
	}
	if (tcgetattr(fd, &saved) != 0) {
		fclose(tty);
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "no terminal to read the password from: use "
		    "--password-stdin");
	}
	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off before the prompt: what is typed once it shows is not
	 * echoed (nor thrown away by the flush). */
	tcsetattr(fd, TCSAFLUSH, &quiet);
	fputs(prompt, tty);
	fflush(tty);
	ok = read_line(tty, buf, len);
	tcsetattr(fd, TCSAFLUSH, &saved);
	fputc('\n', tty);
	fclose(tty);
	if (!ok || buf[0] == '\0')
		return cli_error_set(err, CLI_EXIT_USAGE, "no password given");
	return 0;
}

int
cli_read_line_tty(const char *prompt, char *buf, size_t len,
    struct cli_error *err)
{
	FILE *tty = fopen("/dev/tty", "r+e");
	bool ok;

	if (tty == NULL)
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "no terminal to ask on: give the username as an "
		    "argument");
	fputs(prompt, tty);
	fflush(tty);
	ok = read_line(tty, buf, len);
	fclose(tty);
	if (!ok || buf[0] == '\0')
		return cli_error_set(err, CLI_EXIT_USAGE, "no username given");
	return 0;
}

/* ---- names --------------------------------------------------------- */

int
cli_clinician_name(struct cli_ctx *ctx, long long id, char *buf, size_t len,
    struct cli_error *err)
{
	struct cli_response resp;
	char path[64];

	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, err) != 0)
		return -1;
	cli_full_name(resp.json, buf, len);
	cli_response_release(&resp);
	return 0;
}

void
cli_full_name(const json_t *obj, char *buf, size_t len)
{
	const char *given = json_string_value(json_object_get(obj,
	    "given_name"));
	const char *family = json_string_value(json_object_get(obj,
	    "family_name"));

	snprintf(buf, len, "%s %s", given ? given : "?", family ? family : "?");
}

int
cli_level_id(struct cli_ctx *ctx, const char *name, long long *id,
    char *code, size_t len, struct cli_error *err)
{
	struct cli_response resp;
	char *esc = cli_escape(name), *path;
	int rc;

	path = esc != NULL ? cli_pathf("/v1/levels?name=%s", esc) : NULL;
	free(esc);
	if (path == NULL)
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	rc = cli_call(ctx, "GET", path, NULL, NULL, &resp, err);
	free(path);
	/* a level that is not there is "not found" (exit 3), as an id is */
	if (rc != 0 && strcmp(err->problem, "unknown_level") == 0)
		err->exit_code = CLI_EXIT_NOT_FOUND;
	if (rc != 0)
		return -1;
	*id = cli_jint(resp.json, "id");
	if (code != NULL)
		cli_jstr(resp.json, "code", code, len);
	cli_response_release(&resp);
	return 0;
}
