/*
 * `certrack context add|use|list|remove`: several servers, each with its
 * own URL and token, in the one config file (mode 0600).  The top level
 * of the file is the context called "default"; `context use` sets which
 * one commands talk to, --context NAME and $CERTRACK_CONTEXT choose for
 * one run.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

enum { OPT_USE = CLI_OPT_CMD };

/* The config file, loaded into CF (its path in *PATH, caller frees).
 * 0, or -1 after reporting; *RC the exit code. */
static int
load(struct cli_ctx *ctx, struct cli_config *cf, char **path, int *rc)
{
	struct cli_error err;

	cli_config_init(cf);
	*path = NULL;
	if (cli_config_path(path, &err) != 0 ||
	    cli_config_load(cf, *path, &err) != 0) {
		*rc = cli_error_report(ctx, &err);
		return -1;
	}
	return 0;
}

static int
save(struct cli_ctx *ctx, struct cli_config *cf)
{
	struct cli_error err;

	if (cli_config_save(cf, &err) != 0)
		return cli_error_report(ctx, &err);
	return CLI_EXIT_OK;
}

/* NAME as an operand: a context name, "default" only when ALLOW_DEFAULT. */
static int
name_operand(struct cli_ctx *ctx, int argc, char **argv, bool allow_default,
    const char **name)
{
	if (cli_operands(ctx, argc, argv, 1, 1, "NAME") != 0)
		return -1;
	*name = argv[optind];
	if (!cli_context_name_ok(*name)) {
		cli_usage_error(ctx, "'%s' is not a context name (letters, "
		    "digits, '.', '_' and '-', at most 64)", *name);
		return -1;
	}
	if (!allow_default && strcmp(*name, "default") == 0) {
		cli_usage_error(ctx, "'default' is the file's top level: set "
		    "its server with 'certrack --context default login'");
		return -1;
	}
	return 0;
}

static int
cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "use", no_argument, NULL, OPT_USE },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_config cf;
	struct cli_context *c;
	struct cli_error err;
	const char *name;
	char *path = NULL, *url = NULL;
	bool use = false;
	int ch, rc;

	while ((ch = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (ch == CLI_GETOPT_STOP)
			return rc;
		if (ch == OPT_USE)
			use = true;
	}
	if (name_operand(ctx, argc, argv, false, &name) != 0)
		return CLI_EXIT_USAGE;
	/* --url is a global option: here it is the context's server */
	if (ctx->url_flag == NULL || *ctx->url_flag == '\0')
		return cli_usage_error(ctx, "missing --url URL (the context's "
		    "server)");
	if ((url = strdup(ctx->url_flag)) == NULL)
		return cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
	if (cli_url_check(ctx, url, "--url", &err) != 0) {
		free(url);
		return cli_error_report(ctx, &err);
	}
	if (load(ctx, &cf, &path, &rc) != 0)
		goto out;
	if (cli_config_find(&cf, name) != NULL) {
		rc = cli_fail(ctx, CLI_EXIT_REFUSED, "there is a context '%s' "
		    "already (remove it first)", name);
		goto out;
	}
	/* the top level too, so that it stays first in the file */
	if (cli_config_add(&cf, NULL) == NULL ||
	    (c = cli_config_add(&cf, name)) == NULL ||
	    (c->url = strdup(url)) == NULL)
		goto no_memory;
	if (use) {
		free(cf.current);
		if ((cf.current = strdup(name)) == NULL)
			goto no_memory;
	}
	if ((rc = save(ctx, &cf)) != CLI_EXIT_OK)
		goto out;
	if (ctx->json) {
		json_t *doc = json_pack("{s:s, s:s, s:b, s:b}", "name", name,
		    "url", url, "logged_in", 0, "current", use);

		if (doc == NULL || json_dumpf(doc, stdout, JSON_COMPACT) != 0)
			rc = CLI_EXIT_FAILURE;
		putchar('\n');
		json_decref(doc);
	} else if (!ctx->quiet) {
		printf("added context %s: %s%s\n", name, url, use ?
		    " (in use)" : "");
	}
	goto out;
no_memory:
	rc = cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
out:
	cli_config_release(&cf);
	free(path);
	free(url);
	return rc;
}

static int
cmd_use(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_config cf;
	const char *name;
	char *path = NULL;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (name_operand(ctx, argc, argv, true, &name) != 0)
		return CLI_EXIT_USAGE;
	if (load(ctx, &cf, &path, &rc) != 0)
		goto out;
	free(cf.current);
	cf.current = NULL;
	if (strcmp(name, "default") != 0) {
		if (cli_config_find(&cf, name) == NULL) {
			rc = cli_fail(ctx, CLI_EXIT_NOT_FOUND, "there is no "
			    "context '%s' (see 'certrack context list')",
			    name);
			goto out;
		}
		if ((cf.current = strdup(name)) == NULL) {
			rc = cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
			goto out;
		}
	}
	if ((rc = save(ctx, &cf)) == CLI_EXIT_OK && !ctx->quiet &&
	    !ctx->json)
		printf("using context %s\n", name);
out:
	cli_config_release(&cf);
	free(path);
	return rc;
}

static int
cmd_remove(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_config cf;
	struct cli_context *c;
	struct cli_error err;
	const char *name;
	char *path = NULL;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (name_operand(ctx, argc, argv, false, &name) != 0)
		return CLI_EXIT_USAGE;
	if (load(ctx, &cf, &path, &rc) != 0)
		goto out;
	if ((c = cli_config_find(&cf, name)) == NULL) {
		rc = cli_fail(ctx, CLI_EXIT_NOT_FOUND, "there is no context "
		    "'%s' (see 'certrack context list')", name);
		goto out;
	}
	/* its token is forgotten here, not revoked on the server */
	if (c->token != NULL && cli_confirm(ctx, &err, "forget the token of "
	    "context %s without logging out", name) != 0) {
		rc = cli_error_report(ctx, &err);
		goto out;
	}
	cli_config_remove(&cf, c);
	if (cf.current != NULL && strcmp(cf.current, name) == 0) {
		free(cf.current);
		cf.current = NULL;
	}
	if ((rc = save(ctx, &cf)) == CLI_EXIT_OK && !ctx->quiet &&
	    !ctx->json)
		printf("removed context %s\n", name);
out:
	cli_config_release(&cf);
	free(path);
	return rc;
}

static void
context_row(struct cli_table *t, const json_t *it)
{
	char b[2][600];

	cli_table_add(t, json_is_true(json_object_get(it, "current")) ?
	    "*" : "", cli_jstr(it, "name", b[0], sizeof(b[0])),
	    cli_jstr(it, "url", b[1], sizeof(b[1])),
	    json_is_true(json_object_get(it, "logged_in")) ? "yes" : "no");
}

static int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "CURRENT", "NAME", "URL",
	    "LOGGED IN" };
	static const struct cli_list list = { NULL, "name", "no contexts",
	    4, head, context_row };
	const char *env = getenv("CERTRACK_CONTEXT"), *current;
	struct cli_config cf;
	char *path = NULL;
	json_t *arr = NULL;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (load(ctx, &cf, &path, &rc) != 0)
		goto out;
	current = ctx->context_flag != NULL ? ctx->context_flag :
	    env != NULL && *env != '\0' ? env :
	    cf.current != NULL ? cf.current : "default";
	if ((arr = json_array()) == NULL)
		goto no_memory;
	/* the top level is "default", listed even before any login */
	if (cli_config_find(&cf, NULL) == NULL &&
	    cli_config_add(&cf, NULL) == NULL)
		goto no_memory;
	for (size_t i = 0; i < cf.n; i++) {
		const struct cli_context *c = &cf.v[i];
		const char *name = c->name != NULL ? c->name : "default";

		if (json_array_append_new(arr, json_pack("{s:s, s:s?, s:b, "
		    "s:b}", "name", name, "url", c->name == NULL &&
		    c->url == NULL ? CLI_DEFAULT_URL : c->url, "logged_in",
		    c->token != NULL, "current", strcmp(name,
		    current) == 0)) != 0)
			goto no_memory;
	}
	rc = cli_list_print(ctx, &list, arr);
	goto out;
no_memory:
	rc = cli_fail(ctx, CLI_EXIT_FAILURE, "out of memory");
out:
	json_decref(arr);
	cli_config_release(&cf);
	free(path);
	return rc;
}

int
cli_cmd_context(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", cmd_list },
		{ "add", cmd_add },
		{ "use", cmd_use },
		{ "remove", cmd_remove },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
