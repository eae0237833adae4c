/*
 * `certrack results record|amend|history`: exam results.  The server
 * numbers the attempts, applies the pass mark and the attempt rules, and
 * issues a certificate when a result meets a level's last requirement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

enum {
	OPT_MAX = CLI_OPT_CMD, OPT_ON, OPT_ATTEMPT, OPT_REASON,
};

/* "80/100 (80%), passed" for result R. */
static void
score_text(const json_t *r, char *buf, size_t len)
{
	char s[32], m[32];
	double score = json_number_value(json_object_get(r, "score"));
	double max = json_number_value(json_object_get(r, "max_score"));

	snprintf(buf, len, "%s/%s (%.4g%%)", cli_jstr(r, "score", s,
	    sizeof(s)), cli_jstr(r, "max_score", m, sizeof(m)),
	    max > 0 ? score * 100.0 / max : 0.0);
}

/* The summary of a recorded or amended result. */
static void
say_result(const json_t *r, const char *verb, const char *name)
{
	char b[4][64], score[96];
	json_t *cert;

	score_text(r, score, sizeof(score));
	printf("%s %s exam result %" JSON_INTEGER_FORMAT " for '%s' in %s: "
	    "attempt %s, %s, %s (pass mark %s)\n", verb,
	    cli_jstr(r, "kind", b[0], 64), cli_jint(r, "id"), name,
	    cli_jstr(r, "level", b[1], 64), cli_jstr(r, "attempt", b[2], 64),
	    score, json_is_true(json_object_get(r, "passed")) ? "passed" :
	    "failed", cli_jstr(r, "pass_mark", b[3], 64));
	cert = json_object_get(r, "certificate");
	if (json_is_object(cert))
		printf("certificate %s issued for %s on %s, expires %s\n",
		    cli_jstr(cert, "number", b[0], 64),
		    cli_jstr(cert, "level", b[1], 64),
		    cli_jstr(cert, "issued_on", b[2], 64),
		    json_is_null(json_object_get(cert, "expires_on")) ?
		    "never" : cli_jstr(cert, "expires_on", b[3], 64));
	cert = json_object_get(r, "revoked_certificate");
	if (json_is_object(cert))
		printf("certificate %s for %s revoked: it no longer has a "
		    "passed %s exam\n", cli_jstr(cert, "number", b[0], 64),
		    cli_jstr(cert, "level", b[1], 64),
		    cli_jstr(r, "kind", b[2], 64));
}

/*
 * "attempt 2 is already recorded; the next is 4": when there is no fourth
 * (the level allows 3), ERR says that every attempt is used instead.
 */
static void
attempt_words(struct cli_ctx *ctx, const char *level, const char *kind,
    struct cli_error *err)
{
	struct cli_response resp;
	struct cli_error lerr;
	long long asked, next, max;
	char *esc = cli_escape(level), *path;
	bool recorded = sscanf(err->msg, "attempt %lld is already recorded; "
	    "the next is %lld", &asked, &next) == 2;

	if (!recorded && sscanf(err->msg, "attempt %lld cannot be recorded "
	    "yet; the next is %lld", &asked, &next) != 2)
		goto out;
	path = esc != NULL ? cli_pathf("/v1/levels?name=%s", esc) : NULL;
	if (path == NULL || cli_call(ctx, "GET", path, NULL, NULL, &resp,
	    &lerr) != 0) {
		free(path);
		goto out;
	}
	free(path);
	max = cli_jint(resp.json, "max_attempts");
	cli_response_release(&resp);
	if (max > 0 && next > max)
		snprintf(err->msg, sizeof(err->msg), "attempt %lld %s, and all "
		    "%lld attempts at the %s exam are used", asked, recorded ?
		    "is already recorded" : "cannot be recorded", max, kind);
out:
	free(esc);
}

static int
cmd_record(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "max", required_argument, NULL, OPT_MAX },
		{ "on", required_argument, NULL, OPT_ON },
		{ "attempt", required_argument, NULL, OPT_ATTEMPT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	json_t *score = NULL, *max = NULL, *body = NULL;
	const char *on = NULL, *kind;
	char today[16], on_buf[16], name[256], level[64];
	long long clinician, attempt = 0;
	int c, rc = CLI_EXIT_USAGE;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			goto out;
		case OPT_MAX:
			json_decref(max);
			max = NULL;
			if (cli_arg_score(ctx, "--max", "max_score", optarg,
			    &max) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_ON:
			if (cli_arg_date(ctx, "--on", optarg, on_buf) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			on = on_buf;
			break;
		case OPT_ATTEMPT:
			if (cli_arg_int(ctx, "--attempt", optarg, 1, 1000,
			    &attempt) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		}
	}
	rc = CLI_EXIT_USAGE;
	if (cli_operands(ctx, argc, argv, 4, 4, "CLINICIAN, LEVEL, KIND "
	    "(written or practical) and SCORE") != 0 ||
	    cli_arg_id(ctx, "clinician", argv[optind], &clinician) != 0)
		goto out;
	kind = argv[optind + 2];
	if (strcmp(kind, "written") != 0 && strcmp(kind, "practical") != 0) {
		cli_usage_error(ctx, "the exam '%s' is neither 'written' nor "
		    "'practical'", kind);
		goto out;
	}
	if (cli_arg_score(ctx, "SCORE", "score", argv[optind + 3],
	    &score) != 0)
		goto out;
	if (max == NULL)
		max = json_integer(100);
	if (on == NULL) {
		cli_today(today);
		on = today;
	}
	/* as typed: the server reads a level's code or title, any case */
	snprintf(level, sizeof(level), "%s", argv[optind + 1]);
	if (cli_clinician_name(ctx, clinician, name, sizeof(name), &err) != 0) {
		rc = cli_error_report(ctx, &err);
		goto out;
	}
	body = json_pack("{s:I, s:s, s:s, s:O, s:O, s:s}", "clinician_id",
	    (json_int_t)clinician, "level", level, "kind", kind, "score",
	    score, "max_score", max, "taken_on", on);
	if (body == NULL) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (attempt > 0)
		json_object_set_new(body, "attempt", json_integer(attempt));
	if (cli_call(ctx, "POST", "/v1/exam-results", body, NULL, &resp,
	    &err) != 0) {
		if (strcmp(err.problem, "attempt_conflict") == 0)
			attempt_words(ctx, level, kind, &err);
		rc = cli_error_reportf(ctx, &err, "cannot record the %s exam "
		    "of '%s' in %s", kind, name, level);
		goto out;
	}
	rc = CLI_EXIT_OK;
	if (ctx->json)
		rc = cli_print_json(ctx, &resp);
	else if (!ctx->quiet)
		say_result(resp.json, "recorded", name);
	cli_response_release(&resp);
out:
	json_decref(score);
	json_decref(max);
	json_decref(body);
	return rc;
}

static int
cmd_amend(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "reason", required_argument, NULL, OPT_REASON },
		{ "max", required_argument, NULL, OPT_MAX },
		{ "on", required_argument, NULL, OPT_ON },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	json_t *score = NULL, *max = NULL, *body = NULL;
	const char *on = NULL, *reason = NULL;
	char path[64], name[256], on_buf[16];
	long long id;
	int c, rc = CLI_EXIT_USAGE;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			goto out;
		case OPT_REASON:
			reason = optarg;
			break;
		case OPT_MAX:
			json_decref(max);
			max = NULL;
			if (cli_arg_score(ctx, "--max", "max_score", optarg,
			    &max) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			break;
		case OPT_ON:
			if (cli_arg_date(ctx, "--on", optarg, on_buf) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			on = on_buf;
			break;
		}
	}
	rc = CLI_EXIT_USAGE;
	if (cli_operands(ctx, argc, argv, 2, 2, "RESULT (an id) and the new "
	    "SCORE") != 0 ||
	    cli_arg_id(ctx, "result", argv[optind], &id) != 0 ||
	    cli_arg_score(ctx, "SCORE", "score", argv[optind + 1],
	    &score) != 0)
		goto out;
	if (reason == NULL || reason[0] == '\0') {
		cli_usage_error(ctx, "missing --reason (an amendment says why)");
		goto out;
	}
	body = json_pack("{s:O, s:s}", "score", score, "reason", reason);
	if (body == NULL) {
		rc = CLI_EXIT_FAILURE;
		goto out;
	}
	if (max != NULL)
		json_object_set(body, "max_score", max);
	if (on != NULL)
		json_object_set_new(body, "taken_on", json_string(on));
	snprintf(path, sizeof(path), "/v1/exam-results/%lld/amend", id);
	if (cli_call(ctx, "POST", path, body, NULL, &resp, &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot amend exam result "
		    "%lld", id);
		goto out;
	}
	rc = CLI_EXIT_OK;
	if (ctx->json) {
		rc = cli_print_json(ctx, &resp);
	} else if (!ctx->quiet) {
		struct cli_error ignored;

		if (cli_clinician_name(ctx, cli_jint(resp.json,
		    "clinician_id"), name, sizeof(name), &ignored) != 0)
			snprintf(name, sizeof(name), "clinician %"
			    JSON_INTEGER_FORMAT, cli_jint(resp.json,
			    "clinician_id"));
		say_result(resp.json, "amended", name);
		printf("(supersedes result %lld)\n", id);
	}
	cli_response_release(&resp);
out:
	json_decref(score);
	json_decref(max);
	json_decref(body);
	return rc;
}

/* The clinician an operand-less command is about: the caller's own, for
 * a clinician account (GET /v1/me).  0, or -1 with ERR. */
int
cli_own_clinician(struct cli_ctx *ctx, long long *id, struct cli_error *err)
{
	struct cli_response resp;
	json_t *cid;

	if (cli_call(ctx, "GET", "/v1/me", NULL, NULL, &resp, err) != 0)
		return -1;
	cid = json_object_get(resp.json, "clinician_id");
	if (!json_is_integer(cid)) {
		cli_response_release(&resp);
		return cli_error_set(err, CLI_EXIT_USAGE, "name the CLINICIAN: "
		    "your account is not a clinician's");
	}
	*id = json_integer_value(cid);
	cli_response_release(&resp);
	return 0;
}

static void
result_row(struct cli_table *t, const json_t *it)
{
	char b[8][64], score[96], note[600];
	bool current = json_is_true(json_object_get(it, "current"));
	json_t *sup = json_object_get(it, "supersedes");

	score_text(it, score, sizeof(score));
	if (json_is_integer(sup))
		snprintf(note, sizeof(note), "amends %" JSON_INTEGER_FORMAT
		    ": %s", json_integer_value(sup),
		    cli_jstr(it, "amend_reason", b[7], 64));
	else
		note[0] = '\0';
	cli_table_add(t, cli_jstr(it, "id", b[0], 64),
	    cli_jstr(it, "level", b[1], 64),
	    cli_jstr(it, "kind", b[2], 64),
	    cli_jstr(it, "attempt", b[3], 64),
	    cli_jstr(it, "taken_on", b[4], 64), score,
	    json_is_true(json_object_get(it, "passed")) ? "passed" :
	    "failed", cli_jstr(it, "graded_by", b[5], 64),
	    current ? "current" : "superseded", note);
}

static int
cmd_history(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "LEVEL", "EXAM", "ATTEMPT",
	    "TAKEN", "SCORE", "RESULT", "GRADED BY", "STATE", "NOTE" };
	struct cli_list list = { "results", "id", NULL, 10, head,
	    result_row };
	struct cli_response resp;
	struct cli_error err;
	char path[64], none[80];
	long long id;
	int rc;

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
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/exam-results", id);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	snprintf(none, sizeof(none), "no exam results for clinician %lld",
	    id);
	list.none = none;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

int
cli_cmd_results(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "record", cmd_record },
		{ "amend", cmd_amend },
		{ "history", cmd_history },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
