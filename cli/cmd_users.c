/*
 * `certrack users list|add|disable|enable|reset-password|tokens|
 * revoke-token`: accounts and their tokens, for admins.  A USER is an id
 * or a username.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "certrack/cli.h"
#include "certrack/strnum.h"

enum { OPT_ROLE = CLI_OPT_CMD, OPT_CLINICIAN, OPT_PASSWORD_STDIN };

/*
 * The id of USER (an id, or a username looked up in GET /v1/users) in
 * *ID, and its name in NAME.  Returns 0, or -1 with ERR.
 */
static int
user_id(struct cli_ctx *ctx, const char *user, long long *id, char *name,
    size_t len, struct cli_error *err)
{
	struct cli_response resp;
	json_t *it;
	size_t i;
	bool numeric = strnum_ll(user, 1, 1LL << 62, id, NULL) == 0;

	if (cli_call(ctx, "GET", "/v1/users", NULL, NULL, &resp, err) != 0)
		return -1;
	json_array_foreach(resp.json, i, it) {
		const char *u = json_string_value(json_object_get(it,
		    "username"));

		if (u == NULL)
			continue;
		if ((numeric && cli_jint(it, "id") == *id) ||
		    (!numeric && strcasecmp(u, user) == 0)) {
			*id = cli_jint(it, "id");
			snprintf(name, len, "%s", u);
			cli_response_release(&resp);
			return 0;
		}
	}
	cli_response_release(&resp);
	return cli_error_set(err, CLI_EXIT_NOT_FOUND, "there is no user '%s'",
	    user);
}

static void
user_row(struct cli_table *t, const json_t *it)
{
	char id[24], name[160], role[24], cid[24], when[64];

	cli_table_add(t, cli_jstr(it, "id", id, sizeof(id)),
	    cli_jstr(it, "username", name, sizeof(name)),
	    cli_jstr(it, "role", role, sizeof(role)),
	    cli_jstr(it, "clinician_id", cid, sizeof(cid)),
	    json_is_true(json_object_get(it, "disabled")) ?
	    "disabled" : "enabled",
	    cli_jtime(it, "created_at", when, sizeof(when)));
}

static int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "USERNAME", "ROLE",
	    "CLINICIAN", "STATE", "CREATED" };
	static const struct cli_list list = { NULL, "id", "no users", 6,
	    head, user_row };
	struct cli_response resp;
	struct cli_error err;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_call(ctx, "GET", "/v1/users", NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

/* Prints what an account write answered; PASSWORD_ALWAYS: the one-time
 * password even with --quiet (it is shown once and is the point). */
static int
report_user(struct cli_ctx *ctx, struct cli_response *resp, const char *verb)
{
	json_t *user = json_object_get(resp->json, "user");
	const char *pw = json_string_value(json_object_get(resp->json,
	    "password"));
	char b1[24], b2[160], b3[24];
	int rc = CLI_EXIT_OK;

	if (user == NULL)
		user = resp->json;
	if (ctx->json) {
		rc = cli_print_json(ctx, resp);
	} else {
		if (!ctx->quiet)
			printf("%s user %s: %s (%s%s)\n", verb,
			    cli_jstr(user, "id", b1, sizeof(b1)),
			    cli_jstr(user, "username", b2, sizeof(b2)),
			    cli_jstr(user, "role", b3, sizeof(b3)),
			    json_is_true(json_object_get(user, "disabled")) ?
			    ", disabled" : "");
		if (pw != NULL) {
			if (ctx->quiet)
				printf("%s\n", pw);
			else
				printf("one-time password: %s\n"
				    "(shown once: hand it to its owner)\n", pw);
		}
	}
	cli_response_release(resp);
	return rc;
}

static int
cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "role", required_argument, NULL, OPT_ROLE },
		{ "clinician", required_argument, NULL, OPT_CLINICIAN },
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = NULL;
	long long clinician = 0;
	bool from_stdin = false;
	char password[1024];
	struct cli_response resp;
	struct cli_error err;
	json_t *body;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_ROLE:
			role = optarg;
			break;
		case OPT_CLINICIAN:
			if (cli_arg_id(ctx, "--clinician", optarg,
			    &clinician) != 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_PASSWORD_STDIN:
			from_stdin = true;
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "USERNAME") != 0)
		return CLI_EXIT_USAGE;
	if (role == NULL)
		return cli_usage_error(ctx, "missing --role (admin, grader or "
		    "clinician)");
	if (strcmp(role, "admin") != 0 && strcmp(role, "grader") != 0 &&
	    strcmp(role, "clinician") != 0)
		return cli_usage_error(ctx, "--role '%s' is not one of admin, "
		    "grader, clinician", role);
	if (strcmp(role, "clinician") == 0 && clinician == 0)
		return cli_usage_error(ctx, "a clinician account needs "
		    "--clinician ID");
	body = json_pack("{s:s, s:s}", "username", argv[optind], "role", role);
	if (body == NULL)
		return CLI_EXIT_FAILURE;
	if (clinician > 0)
		json_object_set_new(body, "clinician_id",
		    json_integer(clinician));
	if (from_stdin) {
		if (cli_read_secret("", true, password, sizeof(password),
		    &err) != 0) {
			json_decref(body);
			return cli_error_report(ctx, &err);
		}
		json_object_set_new(body, "password", json_string(password));
		explicit_bzero(password, sizeof(password));
	}
	rc = cli_call(ctx, "POST", "/v1/users", body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot add user '%s'",
		    argv[optind]);
	return report_user(ctx, &resp, "added");
}

/* PATCH /v1/users/ID with BODY (consumed); VERB for the report. */
static int
patch_user(struct cli_ctx *ctx, int argc, char **argv, json_t *body,
    const char *verb, const char *doing, bool ask)
{
	struct cli_response resp;
	struct cli_error err;
	char name[160], path[64];
	long long id;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0) {
		json_decref(body);
		return rc;
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "USER (an id or a "
	    "username)") != 0) {
		json_decref(body);
		return CLI_EXIT_USAGE;
	}
	if (user_id(ctx, argv[optind], &id, name, sizeof(name), &err) != 0) {
		json_decref(body);
		return cli_error_report(ctx, &err);
	}
	if (ask && cli_confirm(ctx, &err, "%s user '%s'", doing, name) != 0) {
		json_decref(body);
		return cli_error_report(ctx, &err);
	}
	snprintf(path, sizeof(path), "/v1/users/%lld", id);
	rc = cli_call(ctx, "PATCH", path, body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot %s user '%s'",
		    doing, name);
	return report_user(ctx, &resp, verb);
}

static int
cmd_disable(struct cli_ctx *ctx, int argc, char **argv)
{
	return patch_user(ctx, argc, argv, json_pack("{s:b}", "disabled", 1),
	    "disabled", "disable", true);
}

static int
cmd_enable(struct cli_ctx *ctx, int argc, char **argv)
{
	return patch_user(ctx, argc, argv, json_pack("{s:b}", "disabled", 0),
	    "enabled", "enable", false);
}

static int
cmd_reset_password(struct cli_ctx *ctx, int argc, char **argv)
{
	return patch_user(ctx, argc, argv, json_pack("{s:b}",
	    "reset_password", 1), "reset the password of", "reset the "
	    "password of", true);
}

static void
token_row(struct cli_table *t, const json_t *it)
{
	char b[5][64];

	cli_table_add(t, cli_jstr(it, "id", b[0], 64),
	    cli_jtime(it, "created_at", b[1], 64),
	    cli_jtime(it, "expires_at", b[2], 64),
	    cli_jtime(it, "last_used_at", b[3], 64),
	    cli_jtime(it, "revoked_at", b[4], 64));
}

static int
cmd_tokens(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "CREATED", "EXPIRES",
	    "LAST USED", "REVOKED" };
	struct cli_list list = { NULL, "id", NULL, 5, head, token_row };
	struct cli_response resp;
	struct cli_error err;
	char name[160], path[64], none[200];
	long long id;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "USER (an id or a "
	    "username)") != 0)
		return CLI_EXIT_USAGE;
	if (user_id(ctx, argv[optind], &id, name, sizeof(name), &err) != 0)
		return cli_error_report(ctx, &err);
	snprintf(path, sizeof(path), "/v1/users/%lld/tokens", id);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	snprintf(none, sizeof(none), "user '%s' has no tokens", name);
	list.none = none;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

static int
cmd_revoke_token(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	struct cli_error err;
	char path[64];
	long long id;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "TOKEN (an id, see 'certrack "
	    "users tokens USER')") != 0 ||
	    cli_arg_id(ctx, "token", argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	if (cli_confirm(ctx, &err, "revoke token %lld", id) != 0)
		return cli_error_report(ctx, &err);
	snprintf(path, sizeof(path), "/v1/tokens/%lld", id);
	if (cli_call(ctx, "DELETE", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_reportf(ctx, &err, "cannot revoke token %lld",
		    id);
	cli_response_release(&resp);
	if (!ctx->quiet && !ctx->json)
		printf("revoked token %lld\n", id);
	return CLI_EXIT_OK;
}

int
cli_cmd_users(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", cmd_list },
		{ "add", cmd_add },
		{ "disable", cmd_disable },
		{ "enable", cmd_enable },
		{ "reset-password", cmd_reset_password },
		{ "tokens", cmd_tokens },
		{ "revoke-token", cmd_revoke_token },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
