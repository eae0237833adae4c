/*
 * Sessions: `certrack login` (a password for a bearer token, kept in the
 * config file, mode 0600), `logout` (revoked on the server, forgotten
 * here), `whoami` and `passwd`.  Passwords are read from the terminal
 * without echo, or from stdin with --password-stdin; never from argv.
 * A login with a generated password (the server answers
 * password_change_required) asks for a new one on the terminal at once,
 * or, with --password-stdin, says to run `certrack passwd`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"

#define SECRET_MAX 1024

enum { OPT_PASSWORD_STDIN = CLI_OPT_CMD };

/* Overwrites S in place before it is freed: it held a secret. */
static void
wipe(char *s, size_t len)
{
	volatile char *p = s;

	while (len-- > 0)
		*p++ = '\0';
}

/*
 * Keeps URL (when not NULL) and TOKEN for context NAME (NULL: the top
 * level) in the config file PATH; TOKEN NULL forgets the token when it is
 * FORGET (or FORGET is NULL), *CHANGED then saying whether it was there.
 */
static int
config_store(const char *path, const char *name, const char *url,
    const char *token, const char *forget, bool *changed,
    struct cli_error *err)
{
	struct cli_config cf;
	struct cli_context *c;
	int rc = -1;

	if (changed != NULL)
		*changed = false;
	cli_config_init(&cf);
	if (cli_config_load(&cf, path, err) != 0)
		goto out;
	/* the top level first, so that it stays first in the file */
	if (cli_config_add(&cf, NULL) == NULL ||
	    (c = cli_config_add(&cf, name)) == NULL)
		goto no_memory;
	if (url != NULL) {
		free(c->url);
		if ((c->url = strdup(url)) == NULL)
			goto no_memory;
	}
	if (token != NULL) {
		if (c->token != NULL)
			wipe(c->token, strlen(c->token));
		free(c->token);
		if ((c->token = strdup(token)) == NULL)
			goto no_memory;
	} else if (c->token != NULL && (forget == NULL ||
	    strcmp(c->token, forget) == 0)) {
		wipe(c->token, strlen(c->token));
		free(c->token);
		c->token = NULL;
		if (changed != NULL)
			*changed = true;
	}
	rc = cli_config_save(&cf, err);
	goto out;
no_memory:
	cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
out:
	cli_config_release(&cf);
	return rc;
}

/*
 * Reads a new password into NEXT (SECRET_MAX bytes): from stdin, or from the
 * terminal twice, the two readings compared.  0, or -1 with ERR.
 */
static int
read_new_password(bool from_stdin, char *next, struct cli_error *err)
{
	char again[SECRET_MAX];
	int rc = 0;

	if (cli_read_secret("new password: ", from_stdin, next, SECRET_MAX,
	    err) != 0)
		return -1;
	if (from_stdin)
		return 0;
	if (cli_read_secret("new password again: ", false, again,
	    sizeof(again), err) != 0)
		rc = -1;
	else if (strcmp(again, next) != 0)
		rc = cli_error_set(err, CLI_EXIT_USAGE,
		    "the new passwords differ");
	wipe(again, sizeof(again));
	return rc;
}

/* POST /v1/me/password with the token of CTX.  0, or -1 with ERR. */
static int
change_password(struct cli_ctx *ctx, const char *current, const char *next,
    struct cli_error *err)
{
	struct cli_response resp;
	json_t *body = json_pack("{s:s, s:s}", "current_password", current,
	    "new_password", next);
	int rc;

	if (body == NULL)
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	rc = cli_call(ctx, "POST", "/v1/me/password", body, NULL, &resp, err);
	/* The JSON held both passwords: overwrite them before freeing. */
	static const char *const keys[] = { "current_password",
	    "new_password" };
	for (size_t i = 0; i < 2; i++) {
		char *s = (char *)json_string_value(json_object_get(body,
		    keys[i]));
		if (s != NULL)
			wipe(s, strlen(s));
	}
	json_decref(body);
	if (rc == 0)
		cli_response_release(&resp);
	return rc;
}

/*
 * The login answered password_change_required: on a terminal, asks for a
 * new password and changes CURRENT for it with the new token; else says
 * what to run.  Returns the exit code.
 */
static int
first_use(struct cli_ctx *ctx, const char *username, const char *token,
    const char *current, bool from_stdin)
{
	char next[SECRET_MAX];
	struct cli_error err;
	int rc;

	if (from_stdin) {
		cli_errorf("the password of '%s' was generated and must be "
		    "changed before anything else: run 'certrack passwd'",
		    username);
		return CLI_EXIT_OK;
	}
	fprintf(stderr, "certrack: the password of '%s' was generated: "
	    "choose one of your own (at least 12 characters)\n", username);
	free(ctx->token);
	if ((ctx->token = strdup(token)) == NULL)
		return cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
	rc = read_new_password(false, next, &err) != 0 ? -1 :
	    change_password(ctx, current, next, &err);
	wipe(next, sizeof(next));
	if (rc != 0) {
		return cli_error_reportf(ctx, &err, "cannot change the "
		    "password (run 'certrack passwd' to try again)");
	}
	if (!ctx->quiet && !ctx->json)
		printf("password changed\n");
	return CLI_EXIT_OK;
}

int
cli_cmd_login(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ NULL, 0, NULL, 0 },
	};
	char username[256], password[SECRET_MAX], tok[SECRET_MAX] = "";
	struct cli_response resp;
	struct cli_error err;
	bool from_stdin = false;
	json_t *body = NULL, *user;
	const char *token;
	char buf[64], when[64];
	int c, rc;

	memset(&resp, 0, sizeof(resp));
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_PASSWORD_STDIN)
			from_stdin = true;
	}
	if (cli_operands(ctx, argc, argv, 0, 1, "USERNAME") != 0)
		return CLI_EXIT_USAGE;
	/* Where to log in, before asking anything. */
	if (cli_opts_resolve(ctx, &err) != 0)
		return cli_error_report(ctx, &err);
	if (optind < argc) {
		snprintf(username, sizeof(username), "%s", argv[optind]);
	} else if (from_stdin) {
		return cli_usage_error(ctx, "give the USERNAME as an argument "
		    "with --password-stdin");
	} else if (cli_read_line_tty("username: ", username,
	    sizeof(username), &err) != 0) {
		return cli_error_report(ctx, &err);
	}
	if (cli_read_secret("password: ", from_stdin, password,
	    sizeof(password), &err) != 0)
		return cli_error_report(ctx, &err);

	/* A new session: the old token, if any, is not sent along. */
	if (ctx->token != NULL) {
		wipe(ctx->token, strlen(ctx->token));
		free(ctx->token);
		ctx->token = NULL;
	}
	body = json_pack("{s:s, s:s}", "username", username, "password",
	    password);
	if (body == NULL) {
		wipe(password, sizeof(password));
		return cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
	}
	rc = cli_request(ctx, "POST", "/v1/login", body, &resp, &err);
	/* The JSON held the password: overwrite it before freeing. */
	{
		json_t *pw = json_object_get(body, "password");
		char *s = (char *)json_string_value(pw);
		if (s != NULL)
			wipe(s, strlen(s));
	}
	json_decref(body);
	if (rc != 0) {
		rc = cli_error_report(ctx, &err);
		goto out;
	}
	if (resp.status != 200) {
		cli_response_error(&resp, &err);
		rc = cli_error_reportf(ctx, &err, "cannot log in to '%s' as "
		    "'%s'", ctx->url, username);
		goto out;
	}
	token = json_string_value(json_object_get(resp.json, "token"));
	if (token == NULL || strlen(token) >= sizeof(tok)) {
		rc = cli_fail(ctx, CLI_EXIT_FAILURE, "'%s' answered the login "
		    "without a token", ctx->url);
		goto out;
	}
	/* A copy of our own: --json drops the answer's before printing. */
	snprintf(tok, sizeof(tok), "%s", token);
	wipe((char *)token, strlen(token));
	json_object_del(resp.json, "token");
	if ((ctx->config_path == NULL &&
	    cli_config_path(&ctx->config_path, &err) != 0) ||
	    config_store(ctx->config_path, ctx->context, ctx->url, tok, NULL,
	    NULL, &err) != 0) {
		rc = cli_error_report(ctx, &err);
		goto out;
	}
	user = json_object_get(resp.json, "user");
	rc = CLI_EXIT_OK;
	if (ctx->json) {
		/* The answer as it came, but for the token (deleted
		 * above): it is in the config file, and stdout is no place
		 * for a secret. */
		if (json_dumpf(resp.json, stdout, JSON_COMPACT) != 0 ||
		    putchar('\n') == EOF)
			rc = CLI_EXIT_FAILURE;
	} else if (!ctx->quiet) {
		printf("logged in to %s as %s (%s); the token expires at %s\n",
		    ctx->url, cli_jstr(user, "username", buf, sizeof(buf)),
		    cli_jstr(user, "role", buf + 32, 32),
		    cli_jtime(resp.json, "expires_at", when, sizeof(when)));
	}
	if (rc == CLI_EXIT_OK && json_is_true(json_object_get(resp.json,
	    "password_change_required")))
		rc = first_use(ctx, username, tok, password, from_stdin);
out:
	wipe(tok, sizeof(tok));
	wipe(password, sizeof(password));
	cli_response_release(&resp);
	return rc;
}

int
cli_cmd_logout(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	struct cli_error err;
	bool forgot = false;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_opts_resolve(ctx, &err) != 0)
		return cli_error_report(ctx, &err);
	if (ctx->token == NULL) {
		return cli_fail(ctx, CLI_EXIT_AUTH, "not logged in to '%s'",
		    ctx->url);
	}
	if (cli_request(ctx, "POST", "/v1/logout", NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	if (resp.status != 204 && resp.status != 200 && resp.status != 401) {
		cli_response_error(&resp, &err);
		cli_response_release(&resp);
		return cli_error_reportf(ctx, &err, "cannot log out of '%s'",
		    ctx->url);
	}
	/* 401: the token had expired or was revoked already; forgetting it
	 * is all that is left to do. */
	if (resp.status == 401)
		cli_warnf(ctx, "the token was no longer valid on '%s'",
		    ctx->url);
	cli_response_release(&resp);
	if (ctx->config_path == NULL &&
	    cli_config_path(&ctx->config_path, &err) != 0)
		return cli_error_report(ctx, &err);
	if (access(ctx->config_path, F_OK) == 0 &&
	    config_store(ctx->config_path, ctx->context, NULL, NULL,
	    ctx->token, &forgot, &err) != 0)
		return cli_error_report(ctx, &err);
	if (!ctx->quiet && !ctx->json)
		printf("logged out of %s%s\n", ctx->url, forgot ?
		    "" : " (the token was not in the config file)");
	return CLI_EXIT_OK;
}

int
cli_cmd_whoami(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	struct cli_error err;
	char b1[64], b2[64];
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_call(ctx, "GET", "/v1/me", NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	if (ctx->json) {
		rc = cli_print_json(ctx, &resp);
	} else {
		rc = CLI_EXIT_OK;
		if (!ctx->quiet) {
			cli_kv("context:", ctx->context != NULL ?
			    ctx->context : "default");
			cli_kv("server:", ctx->url);
			cli_kv("username:", cli_jstr(resp.json, "username", b1,
			    sizeof(b1)));
			cli_kv("role:", cli_jstr(resp.json, "role", b1,
			    sizeof(b1)));
			if (!json_is_null(json_object_get(resp.json,
			    "clinician_id")))
				cli_kv("clinician:", cli_jstr(resp.json,
				    "clinician_id", b1, sizeof(b1)));
			cli_kv("token expires:", cli_jtime(resp.json,
			    "token_expires_at", b2, sizeof(b2)));
		}
	}
	cli_response_release(&resp);
	return rc;
}

int
cli_cmd_passwd(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "password-stdin", no_argument, NULL, OPT_PASSWORD_STDIN },
		{ NULL, 0, NULL, 0 },
	};
	char current[SECRET_MAX], next[SECRET_MAX];
	struct cli_error err;
	bool from_stdin = false;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_PASSWORD_STDIN)
			from_stdin = true;
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	current[0] = next[0] = '\0';
	if (cli_read_secret("current password: ", from_stdin, current,
	    sizeof(current), &err) != 0 ||
	    read_new_password(from_stdin, next, &err) != 0) {
		/* stdin gives both: say which one is missing */
		if (from_stdin)
			cli_error_set(&err, CLI_EXIT_USAGE, "no %s password on "
			    "standard input (two lines are expected: the "
			    "current password, then the new one)",
			    current[0] == '\0' ? "current" : "new");
		rc = cli_error_report(ctx, &err);
		goto out;
	}
	if (change_password(ctx, current, next, &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot change the password");
		goto out;
	}
	if (!ctx->quiet && !ctx->json)
		printf("password changed\n");
	rc = CLI_EXIT_OK;
out:
	wipe(current, sizeof(current));
	wipe(next, sizeof(next));
	return rc;
}
