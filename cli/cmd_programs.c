/*
 * The rules as data: `certrack programs`, `levels` (admins edit a level's
 * pass marks, attempts and waits), `professions` and `eligibility`.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"
#include "certrack/strnum.h"

enum {
	OPT_WRITTEN = CLI_OPT_CMD, OPT_PRACTICAL, OPT_ATTEMPTS, OPT_WAIT,
	OPT_HOURS, OPT_TITLE, OPT_PROGRAM,
};

/* "DC, DO, MD" from an array of strings or of objects with KEY. */
static void
join(const json_t *arr, const char *key, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v) {
		const char *s = key ? json_string_value(json_object_get(v,
		    key)) : json_string_value(v);
		int n;

		if (s == NULL)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", s);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

/* Adds the table row of level LV. */
static void
level_row(struct cli_table *t, const json_t *lv)
{
	char b[9][64], req[256];

	join(json_object_get(lv, "prerequisites"), NULL, req, sizeof(req));
	cli_table_add(t, cli_jstr(lv, "id", b[0], 64),
	    cli_jstr(lv, "code", b[1], 64), cli_jstr(lv, "title", b[2], 64),
	    cli_jstr(lv, "contact_hours", b[3], 64),
	    cli_jstr(lv, "written_pass_mark", b[4], 64),
	    cli_jstr(lv, "practical_pass_mark", b[5], 64),
	    cli_jstr(lv, "max_attempts", b[6], 64),
	    cli_jstr(lv, "retake_wait_days", b[7], 64), req);
}

static void
level_head(struct cli_table *t)
{
	cli_table_init(t, 9);
	cli_table_add(t, "ID", "LEVEL", "TITLE", "HOURS", "WRITTEN %",
	    "PRACTICAL %", "ATTEMPTS", "WAIT DAYS", "REQUIRES");
}

/* GET PATH, then --json or the printer.  Returns an exit code. */
static int
show(struct cli_ctx *ctx, const char *path, void (*print)(const json_t *))
{
	struct cli_response resp;
	struct cli_error err;
	int rc = CLI_EXIT_OK;

	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	if (ctx->json)
		rc = cli_print_json(ctx, &resp);
	else if (!ctx->quiet)
		print(resp.json);
	cli_response_release(&resp);
	return rc;
}

static void
program_row(struct cli_table *t, const json_t *p)
{
	char b[4][128], levels[256], valid[64];
	json_t *m = json_object_get(p, "certificate_validity_months");

	join(json_object_get(p, "levels"), "code", levels, sizeof(levels));
	if (json_is_integer(m))
		snprintf(valid, sizeof(valid), "%" JSON_INTEGER_FORMAT
		    " months", json_integer_value(m));
	else
		snprintf(valid, sizeof(valid), "no expiry");
	cli_table_add(t, cli_jstr(p, "code", b[0], 128),
	    cli_jstr(p, "name", b[1], 128),
	    cli_jstr(p, "credential_title", b[2], 128), valid, levels);
}

/* GET PATH, printed as list L.  Returns an exit code. */
static int
show_list(struct cli_ctx *ctx, const char *path, const struct cli_list *l)
{
	struct cli_response resp;
	struct cli_error err;
	int rc;

	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	rc = cli_list_print(ctx, l, resp.json);
	cli_response_release(&resp);
	return rc;
}

static void
print_program(const json_t *p)
{
	struct cli_table t;
	char b[128], list[512];
	json_t *lv, *m = json_object_get(p, "certificate_validity_months");
	size_t i;

	printf("%s (%s)\n", cli_jstr(p, "name", b, sizeof(b)),
	    json_string_value(json_object_get(p, "code")));
	cli_kv("credential:", cli_jstr(p, "credential_title", b, sizeof(b)));
	if (json_is_integer(m)) {
		snprintf(b, sizeof(b), "%" JSON_INTEGER_FORMAT " months",
		    json_integer_value(m));
		cli_kv("certificates:", b);
	} else {
		cli_kv("certificates:", "do not expire");
	}
	join(json_object_get(p, "eligible_professions"), "code", list,
	    sizeof(list));
	cli_kv("eligible:", list);
	printf("\n");
	level_head(&t);
	json_array_foreach(json_object_get(p, "levels"), i, lv)
		level_row(&t, lv);
	cli_table_print(&t, stdout);
	cli_table_release(&t);
}

static int
programs_list(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	static const char *const head[] = { "CODE", "NAME", "CREDENTIAL",
	    "VALID FOR", "LEVELS" };
	static const struct cli_list list = { "programs", "code",
	    "no programs", 5, head, program_row };

	return show_list(ctx, "/v1/programs", &list);
}

static int
programs_show(struct cli_ctx *ctx, int argc, char **argv)
{
	char *esc, *path;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "PROGRAM (a code such as "
	    "DN)") != 0)
		return CLI_EXIT_USAGE;
	esc = cli_escape(argv[optind]);
	path = esc ? cli_pathf("/v1/programs/%s", esc) : NULL;
	free(esc);
	if (path == NULL)
		return CLI_EXIT_FAILURE;
	rc = show(ctx, path, print_program);
	free(path);
	return rc;
}

int
cli_cmd_programs(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", programs_list },
		{ "show", programs_show },
	};

	/* `certrack programs` alone lists them. */
	if (argc == 1)
		return programs_list(ctx, argc, argv);
	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}

/* ---- levels -------------------------------------------------------- */

/*
 * The id of level ARG: an id as it is, else a code or title (or
 * PROGRAM/LEVEL) as the server reads it.
 */
static int
level_id(struct cli_ctx *ctx, const char *arg, long long *id,
    struct cli_error *err)
{
	if (strnum_ll(arg, 1, 1LL << 62, id, NULL) == 0)
		return 0;
	return cli_level_id(ctx, arg, id, NULL, 0, err);
}

static void
print_level(const json_t *lv)
{
	struct cli_table t;

	level_head(&t);
	level_row(&t, lv);
	cli_table_print(&t, stdout);
	cli_table_release(&t);
}

static int
levels_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_error err;
	char path[64];
	long long id;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "LEVEL (a code such as DN1, "
	    "or an id)") != 0)
		return CLI_EXIT_USAGE;
	if (level_id(ctx, argv[optind], &id, &err) != 0)
		return cli_error_report(ctx, &err);
	snprintf(path, sizeof(path), "/v1/levels/%lld", id);
	return show(ctx, path, print_level);
}

static int
levels_set(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "written-pass-mark", required_argument, NULL, OPT_WRITTEN },
		{ "practical-pass-mark", required_argument, NULL,
		    OPT_PRACTICAL },
		{ "max-attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ "retake-wait-days", required_argument, NULL, OPT_WAIT },
		{ "contact-hours", required_argument, NULL, OPT_HOURS },
		{ "title", required_argument, NULL, OPT_TITLE },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	json_t *body = json_object(), *v = NULL;
	char path[64], b[64];
	long long id, n;
	int c, rc = CLI_EXIT_USAGE;

	if (body == NULL)
		return CLI_EXIT_FAILURE;
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		const char *key = NULL;

		v = NULL;
		switch (c) {
		case CLI_GETOPT_STOP:
			goto out;
		case OPT_WRITTEN:
		case OPT_PRACTICAL:
		case OPT_HOURS:
			key = c == OPT_WRITTEN ? "written_pass_mark" :
			    c == OPT_PRACTICAL ? "practical_pass_mark" :
			    "contact_hours";
			if (cli_arg_score(ctx, key, key, optarg, &v) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_ATTEMPTS:
		case OPT_WAIT:
			key = c == OPT_ATTEMPTS ? "max_attempts" :
			    "retake_wait_days";
			if (cli_arg_int(ctx, key, optarg, 0, 100000,
			    &n) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			v = json_integer(n);
			break;
		case OPT_TITLE:
			key = "title";
			v = json_string(optarg);
			break;
		}
		if (key != NULL)
			json_object_set_new(body, key, v);
	}
	rc = CLI_EXIT_USAGE;
	if (cli_operands(ctx, argc, argv, 1, 1, "LEVEL (a code such as DN1, "
	    "or an id)") != 0)
		goto out;
	if (json_object_size(body) == 0) {
		cli_usage_error(ctx, "say what to change (--written-pass-mark, "
		    "--practical-pass-mark, --max-attempts, "
		    "--retake-wait-days, --contact-hours, --title)");
		goto out;
	}
	if (level_id(ctx, argv[optind], &id, &err) != 0) {
		rc = cli_error_report(ctx, &err);
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/levels/%lld", id);
	if (cli_call(ctx, "PATCH", path, body, NULL, &resp, &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot change level '%s'",
		    argv[optind]);
		goto out;
	}
	rc = CLI_EXIT_OK;
	if (ctx->json) {
		rc = cli_print_json(ctx, &resp);
	} else if (!ctx->quiet) {
		printf("updated level %s\n", cli_jstr(resp.json, "code", b,
		    sizeof(b)));
		print_level(resp.json);
	}
	cli_response_release(&resp);
out:
	json_decref(body);
	return rc;
}

int
cli_cmd_levels(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "show", levels_show },
		{ "set", levels_set },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}

/* ---- professions and eligibility ---------------------------------- */

static void
profession_row(struct cli_table *t, const json_t *p)
{
	char b[2][128], progs[128], aliases[1024];

	join(json_object_get(p, "programs"), NULL, progs, sizeof(progs));
	join(json_object_get(p, "aliases"), NULL, aliases, sizeof(aliases));
	cli_table_add(t, cli_jstr(p, "code", b[0], 128),
	    cli_jstr(p, "name", b[1], 128), progs, aliases);
}

int
cli_cmd_professions(struct cli_ctx *ctx, int argc, char **argv)
{
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	static const char *const head[] = { "CODE", "NAME", "PROGRAMS",
	    "ALSO WRITTEN" };
	static const struct cli_list list = { "professions", "code",
	    "no professions", 4, head, profession_row };

	return show_list(ctx, "/v1/professions", &list);
}

int
cli_cmd_eligibility(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "program", required_argument, NULL, OPT_PROGRAM },
		{ NULL, 0, NULL, 0 },
	};
	const char *program = NULL;
	struct cli_response resp;
	json_t *prof;
	char b[3][128], list[256];
	bool eligible;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_PROGRAM)
			program = optarg;
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "PROFESSION (a code or a "
	    "name such as 'Physical Therapist')") != 0)
		return CLI_EXIT_USAGE;
	static const char *const names[] = { "profession", "program" };
	const char *values[] = { argv[optind], program };
	if (cli_get_query(ctx, "/v1/eligibility", 2, names, values, false,
	    &resp, &rc) != 0)
		return rc;
	eligible = json_is_true(json_object_get(resp.json, "eligible"));
	/* Like grep: exit 0 when eligible, 1 when not. */
	rc = eligible ? CLI_EXIT_OK : CLI_EXIT_REFUSED;
	if (ctx->json) {
		if (cli_print_json(ctx, &resp) != CLI_EXIT_OK)
			rc = CLI_EXIT_FAILURE;
	} else if (!ctx->quiet) {
		prof = json_object_get(resp.json, "profession");
		join(json_object_get(resp.json, "eligible_professions"), NULL,
		    list, sizeof(list));
		printf("%s (%s) %s eligible for %s (eligible: %s)\n",
		    cli_jstr(prof, "name", b[0], 128),
		    cli_jstr(prof, "code", b[1], 128),
		    eligible ? "is" : "is NOT",
		    cli_jstr(resp.json, "program", b[2], 128), list);
	}
	cli_response_release(&resp);
	return rc;
}
