/*
 * Keeping a credential: `certrack ce add|list|approve|reject` (continuing
 * education), `certrack renewal-policies [list|set]`, and `certificates
 * renew` (in cmd_certificates.c, through cli_renew() here).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

enum { OPT_TITLE = CLI_OPT_CMD, OPT_PROVIDER, OPT_COMPLETED, OPT_HOURS,
    OPT_CATEGORY, OPT_EVIDENCE, OPT_REASON, OPT_PROGRAM, OPT_LEVEL,
    OPT_METHOD, OPT_CAT_HOURS, OPT_BEFORE, OPT_AFTER, OPT_PASS_MARK,
    OPT_ATTEMPTS, OPT_MAX, OPT_ON };

/* Prints one CE activity (or its id under --quiet). */
static void
print_ce(const json_t *a)
{
	char b[200];
	const char *renewed;

	cli_kv("CE activity:", cli_jstr(a, "id", b, sizeof(b)));
	cli_kv("title:", cli_jstr(a, "title", b, sizeof(b)));
	cli_kv("completed on:", cli_jstr(a, "completed_on", b, sizeof(b)));
	cli_kv("hours:", cli_jstr(a, "hours", b, sizeof(b)));
	cli_kv("status:", cli_jstr(a, "status", b, sizeof(b)));
	renewed = json_string_value(json_object_get(a, "renewed"));
	if (renewed != NULL)
		cli_kv("renewed:", renewed);
}

/* Answers a write: --json the answer, --quiet its id, else PRINT. */
static int
answer(struct cli_ctx *ctx, struct cli_response *resp, const char *id_key,
    void (*print)(const json_t *))
{
	char b[64];
	int rc = CLI_EXIT_OK;

	if (ctx->json)
		rc = cli_print_json(ctx, resp);
	else if (ctx->quiet)
		printf("%s\n", cli_jstr(resp->json, id_key, b, sizeof(b)));
	else
		print(resp->json);
	cli_response_release(resp);
	return rc;
}

/* ce add [CLINICIAN] --title T --completed DATE --hours H [...]: a
 * clinician's own without CLINICIAN. */
static int
ce_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "title", required_argument, NULL, OPT_TITLE },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "completed", required_argument, NULL, OPT_COMPLETED },
		{ "hours", required_argument, NULL, OPT_HOURS },
		{ "category", required_argument, NULL, OPT_CATEGORY },
		{ "evidence", required_argument, NULL, OPT_EVIDENCE },
		{ NULL, 0, NULL, 0 },
	};
	const char *title = NULL, *provider = NULL, *category = NULL;
	const char *evidence = NULL;
	char date[16] = "", *path;
	json_t *body, *hours = NULL;
	struct cli_response resp;
	struct cli_error err;
	long long id;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			json_decref(hours);
			return rc;
		case OPT_TITLE: title = optarg; break;
		case OPT_PROVIDER: provider = optarg; break;
		case OPT_CATEGORY: category = optarg; break;
		case OPT_EVIDENCE: evidence = optarg; break;
		case OPT_COMPLETED:
			if (cli_arg_date(ctx, "--completed", optarg, date) != 0)
				goto usage;
			break;
		case OPT_HOURS:
			json_decref(hours);
			hours = NULL;
			/* a positive number with at most 2 decimals, as a
			 * score is read */
			if (cli_arg_score(ctx, "--hours", "hours", optarg,
			    &hours) != 0)
				goto usage;
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 1, "CLINICIAN") != 0 ||
	    (optind < argc && cli_arg_id(ctx, "clinician", argv[optind],
	    &id) != 0))
		goto usage;
	if (title == NULL || date[0] == '\0' || hours == NULL) {
		json_decref(hours);
		return cli_usage_error(ctx, "say what was done: --title, "
		    "--completed DATE and --hours are required");
	}
	if (optind == argc && cli_own_clinician(ctx, &id, &err) != 0) {
		json_decref(hours);
		return cli_error_report(ctx, &err);
	}
	body = json_pack("{s:s, s:s, s:o}", "title", title, "completed_on",
	    date, "hours", hours);
	if (body == NULL)
		return CLI_EXIT_FAILURE;
	if (provider != NULL)
		json_object_set_new(body, "provider", json_string(provider));
	if (category != NULL)
		json_object_set_new(body, "category", json_string(category));
	if (evidence != NULL)
		json_object_set_new(body, "evidence", json_string(evidence));
	path = cli_pathf("/v1/clinicians/%lld/ce", id);
	rc = path ? cli_call(ctx, "POST", path, body, NULL, &resp, &err) : -1;
	free(path);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot record the CE "
		    "activity");
	return answer(ctx, &resp, "id", print_ce);
usage:
	json_decref(hours);
	return CLI_EXIT_USAGE;
}

static void
ce_row(struct cli_table *t, const json_t *it)
{
	char b[6][160];

	cli_table_add(t, cli_jstr(it, "id", b[0], 160),
	    cli_jstr(it, "completed_on", b[1], 160),
	    cli_jstr(it, "hours", b[2], 160),
	    cli_jstr(it, "category", b[3], 160),
	    cli_jstr(it, "status", b[4], 160),
	    cli_jstr(it, "title", b[5], 160));
}

/* ce list [CLINICIAN]: the activities, then each certificate's progress. */
static int
ce_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "COMPLETED", "HOURS",
	    "CATEGORY", "STATUS", "TITLE" };
	static const struct cli_list list = { "items", "id",
	    "no CE activities recorded", 6, head, ce_row };
	struct cli_response resp;
	struct cli_error err;
	long long id;
	char *path;
	size_t i;
	json_t *r;
	int rc, got;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 1, "CLINICIAN") != 0)
		return CLI_EXIT_USAGE;
	if (optind < argc) {
		if (cli_arg_id(ctx, "clinician", argv[optind], &id) != 0)
			return CLI_EXIT_USAGE;
	} else if (cli_own_clinician(ctx, &id, &err) != 0) {
		return cli_error_report(ctx, &err);
	}
	path = cli_pathf("/v1/clinicians/%lld/ce", id);
	if (path == NULL)
		return CLI_EXIT_FAILURE;
	got = cli_get_query(ctx, path, 0, NULL, NULL, true, &resp, &rc);
	free(path);
	if (got != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	if (!ctx->quiet && !ctx->csv)
		json_array_foreach(json_object_get(resp.json, "renewal"), i, r) {
			char b[3][64];
			const char *missing = json_string_value(
			    json_object_get(r, "missing"));

			printf("\n%s %s (expires %s): renewal window %s%s%s\n",
			    cli_jstr(r, "level_code", b[0], 64),
			    cli_jstr(r, "certificate", b[1], 64),
			    cli_jstr(r, "expires_on", b[2], 64),
			    json_string_value(json_object_get(r, "window")),
			    missing ? "; " : "; requirement met",
			    missing ? missing : "");
		}
	cli_response_release(&resp);
	return rc;
}

static int
ce_decide(struct cli_ctx *ctx, int argc, char **argv, bool approve)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ NULL, 0, NULL, 0 },
	};
	const char *reason = NULL;
	struct cli_response resp;
	struct cli_error err;
	json_t *body = NULL;
	long long id;
	char *path;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_REASON)
			reason = optarg;
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "ID") != 0 ||
	    cli_arg_id(ctx, "CE activity", argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	if (!approve && (reason == NULL || reason[0] == '\0'))
		return cli_usage_error(ctx, "a rejection says why: --reason "
		    "TEXT");
	if (reason != NULL && (body = json_pack("{s:s}", "reason",
	    reason)) == NULL)
		return CLI_EXIT_FAILURE;
	path = cli_pathf("/v1/ce/%lld/%s", id, approve ? "approve" : "reject");
	rc = path ? cli_call(ctx, "POST", path, body, NULL, &resp, &err) : -1;
	free(path);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot %s CE activity %lld",
		    approve ? "approve" : "reject", id);
	return answer(ctx, &resp, "id", print_ce);
}

static int
ce_approve(struct cli_ctx *ctx, int argc, char **argv)
{
	return ce_decide(ctx, argc, argv, true);
}

static int
ce_reject(struct cli_ctx *ctx, int argc, char **argv)
{
	return ce_decide(ctx, argc, argv, false);
}

int
cli_cmd_ce(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "add", ce_add },
		{ "list", ce_list },
		{ "approve", ce_approve },
		{ "reject", ce_reject },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}

/* ---- renewal policies ------------------------------------------------- */

static void
policy_row(struct cli_table *t, const json_t *it)
{
	char b[9][160];

	cli_table_add(t, cli_jstr(it, "level_code", b[0], 160),
	    cli_jstr(it, "method", b[1], 160),
	    cli_jstr(it, "ce_hours", b[2], 160),
	    cli_jstr(it, "ce_category", b[3], 160),
	    cli_jstr(it, "exam_pass_mark", b[7], 160),
	    cli_jstr(it, "exam_max_attempts", b[8], 160),
	    cli_jstr(it, "window_before_days", b[4], 160),
	    cli_jstr(it, "window_after_days", b[5], 160),
	    cli_jstr(it, "set_on", b[6], 160));
}

static const char *const policy_head[] = { "LEVEL", "METHOD", "CE HOURS",
    "CATEGORY", "PASS MARK", "ATTEMPTS", "DAYS BEFORE", "DAYS AFTER",
    "SET ON" };
static const struct cli_list policy_list = { "items", "level_code",
    "no levels", 9, policy_head, policy_row };

static int
policies_list(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_get_query(ctx, "/v1/renewal-policies", 0, NULL, NULL, false,
	    &resp, &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &policy_list, resp.json);
	cli_response_release(&resp);
	return rc;
}

/* A non-negative number option as JSON, or -1 after a usage error. */
static int
number_opt(const struct cli_ctx *ctx, const char *what, const char *arg,
    json_t *body, const char *field)
{
	json_t *v = NULL;

	if (cli_arg_score(ctx, what, field, arg, &v) != 0)
		return -1;
	json_object_set_new(body, field, v);
	return 0;
}

static int
policies_set(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "program", required_argument, NULL, OPT_PROGRAM },
		{ "level", required_argument, NULL, OPT_LEVEL },
		{ "method", required_argument, NULL, OPT_METHOD },
		{ "hours", required_argument, NULL, OPT_HOURS },
		{ "category", required_argument, NULL, OPT_CATEGORY },
		{ "category-hours", required_argument, NULL, OPT_CAT_HOURS },
		{ "window-before", required_argument, NULL, OPT_BEFORE },
		{ "window-after", required_argument, NULL, OPT_AFTER },
		{ "pass-mark", required_argument, NULL, OPT_PASS_MARK },
		{ "attempts", required_argument, NULL, OPT_ATTEMPTS },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object();
	struct cli_response resp;
	struct cli_error err;
	const char *method = NULL;
	long long n;
	int c, rc;

	if (body == NULL)
		return CLI_EXIT_FAILURE;
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			json_decref(body);
			return rc;
		case OPT_PROGRAM:
			json_object_set_new(body, "program",
			    json_string(optarg));
			break;
		case OPT_LEVEL:
			json_object_set_new(body, "level", json_string(optarg));
			break;
		case OPT_METHOD:
			method = optarg;
			break;
		case OPT_CATEGORY:
			json_object_set_new(body, "ce_category",
			    json_string(optarg));
			break;
		case OPT_HOURS:
		case OPT_CAT_HOURS:
			if (number_opt(ctx, c == OPT_HOURS ? "--hours" :
			    "--category-hours", optarg, body, c == OPT_HOURS ?
			    "ce_hours" : "ce_category_hours") != 0)
				goto usage;
			break;
		case OPT_PASS_MARK:
			if (number_opt(ctx, "--pass-mark", optarg, body,
			    "exam_pass_mark") != 0)
				goto usage;
			break;
		case OPT_ATTEMPTS:
			if (cli_arg_int(ctx, "--attempts", optarg, 1, 20, &n)
			    != 0)
				goto usage;
			json_object_set_new(body, "exam_max_attempts",
			    json_integer(n));
			break;
		case OPT_BEFORE:
		case OPT_AFTER:
			if (cli_arg_int(ctx, c == OPT_BEFORE ? "--window-before"
			    : "--window-after", optarg, 0, 3660, &n) != 0)
				goto usage;
			json_object_set_new(body, c == OPT_BEFORE ?
			    "window_before_days" : "window_after_days",
			    json_integer(n));
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		goto usage;
	if (method == NULL) {
		json_decref(body);
		return cli_usage_error(ctx, "say how: --method ce_hours, "
		    "written_exam, none, or default (a level follows its "
		    "program again)");
	}
	json_object_set_new(body, "method", strcmp(method, "default") == 0 ?
	    json_null() : json_string(method));
	rc = cli_call(ctx, "PUT", "/v1/renewal-policies", body, NULL, &resp,
	    &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot set the renewal "
		    "policy");
	rc = ctx->json ? cli_print_json(ctx, &resp) :
	    cli_list_print(ctx, &policy_list, resp.json);
	cli_response_release(&resp);
	return rc;
usage:
	json_decref(body);
	return CLI_EXIT_USAGE;
}

int
cli_cmd_renewal_policies(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", policies_list },
		{ "set", policies_set },
	};

	if (argc < 2)		/* the bare command lists */
		return policies_list(ctx, argc, argv);
	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}

/* ---- certificates renew ------------------------------------------------ */

static void
print_renewal(const json_t *c)
{
	char b[64];

	cli_kv("renewed:", cli_jstr(c, "renews", b, sizeof(b)));
	cli_kv("certificate:", cli_jstr(c, "number", b, sizeof(b)));
	cli_kv("level:", cli_jstr(c, "level_code", b, sizeof(b)));
	cli_kv("valid from:", cli_jstr(c, "issued_on", b, sizeof(b)));
	cli_kv("expires on:", cli_jstr(c, "expires_on", b, sizeof(b)));
}

int
cli_renew(struct cli_ctx *ctx, const char *number)
{
	struct cli_response resp;
	struct cli_error err;
	char *path = cli_pathf("/v1/certificates/%s/renew", number);
	int rc;

	rc = path ? cli_call(ctx, "POST", path, NULL, NULL, &resp, &err) : -1;
	free(path);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot renew certificate "
		    "%s", number);
	return answer(ctx, &resp, "number", print_renewal);
}

/* ---- certificates renewal-exam ---------------------------------------- */

static void
print_renewal_exam(const json_t *x)
{
	char b[4][64], line[160];
	const json_t *n = json_object_get(x, "renewed");

	cli_kv("certificate:", cli_jstr(x, "certificate", b[0], sizeof(b[0])));
	snprintf(line, sizeof(line), "%s of %s",
	    cli_jstr(x, "attempt", b[1], sizeof(b[1])),
	    cli_jstr(x, "attempts_allowed", b[2], sizeof(b[2])));
	cli_kv("attempt:", line);
	snprintf(line, sizeof(line), "%s/%s, pass mark %s%%: %s",
	    cli_jstr(x, "score", b[0], sizeof(b[0])),
	    cli_jstr(x, "max_score", b[1], sizeof(b[1])),
	    cli_jstr(x, "pass_mark", b[2], sizeof(b[2])),
	    json_is_true(json_object_get(x, "passed")) ? "passed" : "failed");
	cli_kv("score:", line);
	if (json_is_object(n)) {
		cli_kv("renewed by:", cli_jstr(n, "number", b[0], sizeof(b[0])));
		cli_kv("valid from:", cli_jstr(n, "issued_on", b[1],
		    sizeof(b[1])));
		cli_kv("expires on:", cli_jstr(n, "expires_on", b[2],
		    sizeof(b[2])));
	}
}

int
cli_renewal_exam(struct cli_ctx *ctx, int argc, char **argv,
    int (*number_arg)(const struct cli_ctx *, const char *, char *))
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "max", required_argument, NULL, OPT_MAX },
		{ "on", required_argument, NULL, OPT_ON },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	json_t *score = NULL, *max = NULL, *body = NULL;
	char number[64], on[16], *path = NULL;
	int c, rc = CLI_EXIT_USAGE;

	cli_today(on);
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			goto out;
		case OPT_MAX:
			json_decref(max);
			max = NULL;
			if (cli_arg_score(ctx, "--max", "max_score", optarg,
			    &max) != 0)
				goto usage;
			break;
		case OPT_ON:
			if (cli_arg_date(ctx, "--on", optarg, on) != 0)
				goto usage;
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 2, 2, "NUMBER and SCORE") != 0 ||
	    number_arg(ctx, argv[optind], number) != 0 ||
	    cli_arg_score(ctx, "SCORE", "score", argv[optind + 1], &score) != 0)
		goto usage;
	body = json_pack("{s:O, s:o, s:s}", "score", score, "max_score",
	    max != NULL ? json_incref(max) : json_integer(100), "taken_on", on);
	path = cli_pathf("/v1/certificates/%s/renewal-exams", number);
	if (body == NULL || path == NULL) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (cli_call(ctx, "POST", path, body, NULL, &resp, &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot record the renewal "
		    "exam of certificate %s", number);
		goto out;
	}
	rc = answer(ctx, &resp, "id", print_renewal_exam);
	goto out;
usage:
	rc = CLI_EXIT_USAGE;
out:
	free(path);
	json_decref(score);
	json_decref(max);
	json_decref(body);
	return rc;
}
