/*
 * Coursework: `certrack enroll`, `complete`, `withdraw` and `sessions`.
 * A refusal by a rule (eligibility, prerequisites) prints the server's
 * reason with the clinician's name and the level.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"

enum {
	OPT_SESSION = CLI_OPT_CMD, OPT_ON, OPT_LEVEL, OPT_STARTS, OPT_ENDS,
	OPT_LOCATION, OPT_INSTRUCTOR, OPT_LIMIT, OPT_OFFSET,
};

/* Prints "certificate NUMBER for LEVEL issued ..." when RESP carries
 * one (the level's last requirement was just met). */
static void
say_certificate(const json_t *obj)
{
	json_t *cert = json_object_get(obj, "certificate");
	char b[4][64];

	if (!json_is_object(cert))
		return;
	printf("certificate %s issued for %s on %s, expires %s\n",
	    cli_jstr(cert, "number", b[0], 64),
	    cli_jstr(cert, "level", b[1], 64),
	    cli_jstr(cert, "issued_on", b[2], 64),
	    json_is_null(json_object_get(cert, "expires_on")) ? "never" :
	    cli_jstr(cert, "expires_on", b[3], 64));
}

int
cli_cmd_enroll(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "session", required_argument, NULL, OPT_SESSION },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	long long clinician, session = 0;
	char name[256], level[64];
	json_t *body;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_SESSION && cli_arg_id(ctx, "--session", optarg,
		    &session) != 0)
			return CLI_EXIT_USAGE;
	}
	if (cli_operands(ctx, argc, argv, 2, 2, "CLINICIAN and LEVEL") != 0 ||
	    cli_arg_id(ctx, "clinician", argv[optind], &clinician) != 0)
		return CLI_EXIT_USAGE;
	/* as typed: the server reads a level's code or title, any case */
	snprintf(level, sizeof(level), "%s", argv[optind + 1]);
	if (cli_clinician_name(ctx, clinician, name, sizeof(name), &err) != 0)
		return cli_error_report(ctx, &err);
	body = json_pack("{s:I, s:s}", "clinician_id", (json_int_t)clinician,
	    "level", level);
	if (body == NULL)
		return CLI_EXIT_FAILURE;
	if (session > 0)
		json_object_set_new(body, "session_id", json_integer(session));
	rc = cli_call(ctx, "POST", "/v1/enrollments", body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot enroll '%s' in %s",
		    name, level);
	if (ctx->json) {
		rc = cli_print_json(ctx, &resp);
	} else {
		rc = CLI_EXIT_OK;
		/* the level's code as the server read it */
		if (!ctx->quiet)
			printf("enrolled '%s' in %s (enrollment %"
			    JSON_INTEGER_FORMAT ")\n", name,
			    cli_jstr(resp.json, "level", level, sizeof(level)),
			    cli_jint(resp.json, "id"));
	}
	cli_response_release(&resp);
	return rc;
}

/*
 * The enrollment meant by the operands: ENROLLMENT (an id), or CLINICIAN
 * LEVEL, looked up in the clinician's status.  Fills *ID and, for the
 * messages, WHAT ("enrollment 7" or "'Jane Roe' in DN1").  Returns 0, -1
 * with ERR, or -2 after a usage error.
 */
static int
find_enrollment(struct cli_ctx *ctx, int argc, char **argv, long long *id,
    char *what, size_t len, struct cli_error *err)
{
	struct cli_response resp;
	long long clinician, level;
	char path[64], name[256], code[64];
	json_t *prog, *lv;
	size_t i, j;

	if (cli_operands(ctx, argc, argv, 1, 2, "ENROLLMENT, or CLINICIAN "
	    "and LEVEL") != 0)
		return -2;
	if (argc - optind == 1) {
		if (cli_arg_id(ctx, "enrollment", argv[optind], id) != 0)
			return -2;
		snprintf(what, len, "enrollment %lld", *id);
		return 0;
	}
	if (cli_arg_id(ctx, "clinician", argv[optind], &clinician) != 0)
		return -2;
	/* The level as the server reads it (a code or title, any case; a
	 * name two programs share is refused), then its enrollment in the
	 * clinician's status. */
	if (cli_level_id(ctx, argv[optind + 1], &level, code, sizeof(code),
	    err) != 0)
		return -1;
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", clinician);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, err) != 0)
		return -1;
	cli_full_name(json_object_get(resp.json, "clinician"), name,
	    sizeof(name));
	if (snprintf(what, len, "'%s' in %s", name, code) >= (int)len)
		what[len - 1] = '\0';	/* a long name is cut in the message */
	json_array_foreach(json_object_get(resp.json, "programs"), i, prog)
		json_array_foreach(json_object_get(prog, "levels"), j, lv) {
			json_t *e = json_object_get(lv, "enrollment");

			if (cli_jint(lv, "id") != level)
				continue;
			if (!json_is_object(e)) {
				cli_response_release(&resp);
				return cli_error_set(err, CLI_EXIT_NOT_FOUND,
				    "%s: not enrolled", what);
			}
			*id = cli_jint(e, "id");
			cli_response_release(&resp);
			return 0;
		}
	cli_response_release(&resp);
	return cli_error_set(err, CLI_EXIT_NOT_FOUND, "%s: not enrolled",
	    what);
}

/* complete and withdraw: POST /v1/enrollments/ID/ACTION. */
static int
change(struct cli_ctx *ctx, int argc, char **argv, bool complete)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "on", required_argument, NULL, OPT_ON },
		{ NULL, 0, NULL, 0 },
	};
	static const struct option plain[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	char what[320], path[96], today[16], on_buf[16], b[64];
	const char *on = NULL;
	json_t *body = NULL;
	long long id;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", complete ? longopts :
	    plain, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_ON) {
			if (cli_arg_date(ctx, "--on", optarg, on_buf) != 0)
				return CLI_EXIT_USAGE;
			on = on_buf;
		}
	}
	rc = find_enrollment(ctx, argc, argv, &id, what, sizeof(what), &err);
	if (rc == -2)
		return CLI_EXIT_USAGE;
	if (rc != 0)
		return cli_error_report(ctx, &err);
	if (!complete && cli_confirm(ctx, &err, "withdraw %s", what) != 0)
		return cli_error_report(ctx, &err);
	if (complete) {
		if (on == NULL) {
			cli_today(today);
			on = today;
		}
		body = json_pack("{s:s}", "completed_on", on);
		if (body == NULL)
			return CLI_EXIT_FAILURE;
	}
	snprintf(path, sizeof(path), "/v1/enrollments/%lld/%s", id,
	    complete ? "complete" : "withdraw");
	rc = cli_call(ctx, "POST", path, body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot %s %s", complete ?
		    "complete" : "withdraw", what);
	if (ctx->json) {
		rc = cli_print_json(ctx, &resp);
	} else {
		rc = CLI_EXIT_OK;
		if (!ctx->quiet) {
			if (complete)
				printf("completed enrollment %" JSON_INTEGER_FORMAT
				    " (%s) on %s\n", cli_jint(resp.json, "id"),
				    cli_jstr(resp.json, "level", b, sizeof(b)),
				    on);
			else
				printf("withdrew enrollment %" JSON_INTEGER_FORMAT
				    " (%s)\n", cli_jint(resp.json, "id"),
				    cli_jstr(resp.json, "level", b, sizeof(b)));
			say_certificate(resp.json);
		}
	}
	cli_response_release(&resp);
	return rc;
}

int
cli_cmd_complete(struct cli_ctx *ctx, int argc, char **argv)
{
	return change(ctx, argc, argv, true);
}

int
cli_cmd_withdraw(struct cli_ctx *ctx, int argc, char **argv)
{
	return change(ctx, argc, argv, false);
}

/* ---- sessions ------------------------------------------------------ */

static void
session_row(struct cli_table *t, const json_t *it)
{
	char b[6][160];

	cli_table_add(t, cli_jstr(it, "id", b[0], 160),
	    cli_jstr(it, "level", b[1], 160),
	    cli_jstr(it, "starts_on", b[2], 160),
	    cli_jstr(it, "ends_on", b[3], 160),
	    cli_jstr(it, "location", b[4], 160),
	    cli_jstr(it, "instructor", b[5], 160));
}

static int
sessions_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "LEVEL", "STARTS", "ENDS",
	    "LOCATION", "INSTRUCTOR" };
	static const struct cli_list list = { "sessions", "id",
	    "no sessions", 6, head, session_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "level", required_argument, NULL, OPT_LEVEL },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 },
	};
	const char *level = NULL, *limit = NULL, *offset = NULL;
	struct cli_response resp;
	long long n;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_LEVEL:
			level = optarg;
			break;
		case OPT_LIMIT:
			if (cli_arg_int(ctx, "--limit", optarg, 1, 1000,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			limit = optarg;
			break;
		case OPT_OFFSET:
			if (cli_arg_int(ctx, "--offset", optarg, 0, 1LL << 31,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			offset = optarg;
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	static const char *const names[] = { "level", "limit", "offset" };
	const char *values[] = { level, limit, offset };
	if (cli_get_query(ctx, "/v1/sessions", 3, names, values, false, &resp,
	    &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

/* One exam's progress: "passed (1 used)", "2 used, 1 left", "-". */
static void
exam_cell(const json_t *it, const char *kind, char *out, size_t len)
{
	char k[32];
	json_int_t used, left;

	snprintf(k, sizeof(k), "%s_used", kind);
	used = json_integer_value(json_object_get(it, k));
	snprintf(k, sizeof(k), "%s_left", kind);
	left = json_integer_value(json_object_get(it, k));
	snprintf(k, sizeof(k), "%s_passed", kind);
	if (json_is_true(json_object_get(it, k)))
		snprintf(out, len, "passed (%lld used)", (long long)used);
	else if (used == 0)
		snprintf(out, len, "-");
	else
		snprintf(out, len, "%lld used, %lld left", (long long)used,
		    (long long)left);
}

static void
roster_row(struct cli_table *t, const json_t *it)
{
	char b[4][160], w[48], p[48];

	exam_cell(it, "written", w, sizeof(w));
	exam_cell(it, "practical", p, sizeof(p));
	cli_table_add(t, cli_jstr(it, "enrollment_id", b[0], 160),
	    cli_jstr(it, "clinician", b[1], 160),
	    cli_jstr(it, "status", b[2], 160), w, p,
	    cli_jstr(it, "certificate", b[3], 160));
}

/* sessions show ID: the session and its roster (--csv: the roster as the
 * server exports it). */
static int
sessions_show(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ENROLLMENT", "CLINICIAN",
	    "STATUS", "WRITTEN", "PRACTICAL", "CERTIFICATE" };
	static const struct cli_list list = { "roster", "enrollment_id",
	    "nobody is enrolled in this session", 6, head, roster_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "format" };
	const char *values[1] = { NULL };
	struct cli_response resp;
	char path[48], b[160];
	long long id;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1)
		if (c == CLI_GETOPT_STOP)
			return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "ID") != 0 ||
	    cli_arg_int(ctx, "ID", argv[optind], 1, INT64_MAX, &id) != 0)
		return CLI_EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/sessions/%lld", id);
	if (ctx->csv)
		values[0] = "csv";
	if (cli_get_query(ctx, path, 1, names, values, true, &resp, &rc) != 0)
		return rc;
	if (ctx->csv) {
		rc = cli_print_raw(&resp) == 0 ? CLI_EXIT_OK :
		    CLI_EXIT_FAILURE;
		cli_response_release(&resp);
		return rc;
	}
	if (!ctx->quiet) {
		cli_kv("session:", cli_jstr(resp.json, "id", b, sizeof(b)));
		cli_kv("level:", cli_jstr(resp.json, "level_code", b,
		    sizeof(b)));
		char e[32], d[200];
		cli_jstr(resp.json, "starts_on", b, sizeof(b));
		snprintf(d, sizeof(d), "%s to %s", b, cli_jstr(resp.json,
		    "ends_on", e, sizeof(e)));
		cli_kv("dates:", d);
		cli_kv("location:", cli_jstr(resp.json, "location", b,
		    sizeof(b)));
		cli_kv("instructor:", cli_jstr(resp.json, "instructor", b,
		    sizeof(b)));
		putchar('\n');
	}
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

static int
sessions_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "starts", required_argument, NULL, OPT_STARTS },
		{ "ends", required_argument, NULL, OPT_ENDS },
		{ "location", required_argument, NULL, OPT_LOCATION },
		{ "instructor", required_argument, NULL, OPT_INSTRUCTOR },
		{ NULL, 0, NULL, 0 },
	};
	const char *starts = NULL, *ends = NULL, *location = NULL;
	const char *instructor = NULL;
	char starts_buf[16], ends_buf[16];
	struct cli_response resp;
	struct cli_error err;
	json_t *body;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_STARTS:
			if (cli_arg_date(ctx, "--starts", optarg, starts_buf) != 0)
				return CLI_EXIT_USAGE;
			starts = starts_buf;
			break;
		case OPT_ENDS:
			if (cli_arg_date(ctx, "--ends", optarg, ends_buf) != 0)
				return CLI_EXIT_USAGE;
			ends = ends_buf;
			break;
		case OPT_LOCATION:
			location = optarg;
			break;
		case OPT_INSTRUCTOR:
			instructor = optarg;
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "LEVEL") != 0)
		return CLI_EXIT_USAGE;
	if (starts == NULL)
		return cli_usage_error(ctx, "missing --starts DATE");
	if (ends == NULL)
		ends = starts;
	body = json_pack("{s:s, s:s, s:s}", "level", argv[optind],
	    "starts_on", starts, "ends_on", ends);
	if (body == NULL)
		return CLI_EXIT_FAILURE;
	if (location != NULL)
		json_object_set_new(body, "location", json_string(location));
	if (instructor != NULL)
		json_object_set_new(body, "instructor",
		    json_string(instructor));
	rc = cli_call(ctx, "POST", "/v1/sessions", body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot add a session of "
		    "%s", argv[optind]);
	if (ctx->json) {
		rc = cli_print_json(ctx, &resp);
	} else {
		rc = CLI_EXIT_OK;
		if (!ctx->quiet)
			printf("added session %" JSON_INTEGER_FORMAT
			    " of %s, %s to %s\n", cli_jint(resp.json, "id"),
			    argv[optind], starts, ends);
	}
	cli_response_release(&resp);
	return rc;
}

int
cli_cmd_sessions(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", sessions_list },
		{ "show", sessions_show },
		{ "add", sessions_add },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
