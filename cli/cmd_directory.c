/*
 * `certrack directory search|set`: the public directory of certified
 * practitioners (GET /v1/directory, no login) and a clinician's own
 * listing in it (PATCH /v1/me/directory).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

enum { OPT_NAME = CLI_OPT_CMD, OPT_PROFESSION, OPT_STATE, OPT_CITY, OPT_ZIP,
    OPT_LIMIT, OPT_OFFSET, OPT_LISTED, OPT_CONTACT };

int
cli_directory_field(const struct cli_ctx *ctx, json_t *body, const char *what,
    const char *arg)
{
	static const struct { const char *what, *key; } map[] = {
		{ "city", "practice_city" }, { "state", "practice_state" },
		{ "zip", "practice_zip" }, { "contact", "public_contact" },
	};
	char state[4], opt[24];

	snprintf(opt, sizeof(opt), "--%s", what);
	if (strcmp(what, "listed") == 0) {
		bool yes = strcmp(arg, "yes") == 0 || strcmp(arg, "true") == 0;
		if (!yes && strcmp(arg, "no") != 0 && strcmp(arg, "false") != 0) {
			cli_usage_error(ctx, "--listed '%s': say yes or no", arg);
			return -1;
		}
		json_object_set_new(body, "directory_listed", json_boolean(yes));
		return 0;
	}
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(map[i].what, what) != 0)
			continue;
		if (*arg == '\0') {	/* an empty value clears it */
			json_object_set_new(body, map[i].key, json_null());
			return 0;
		}
		if (strcmp(what, "state") == 0) {
			if (cli_arg_state(ctx, opt, arg, state) != 0)
				return -1;
			arg = state;
		}
		json_object_set_new(body, map[i].key, json_string(arg));
		return 0;
	}
	return -1;
}

static void
practitioner_row(struct cli_table *t, const json_t *it)
{
	char b[6][160];
	char levels[320] = "";
	const json_t *l;
	size_t i;

	json_array_foreach(json_object_get(it, "levels"), i, l)
		snprintf(levels + strlen(levels), sizeof(levels) -
		    strlen(levels), "%s%s", i ? " " : "",
		    json_string_value(json_object_get(l, "code")));
	cli_table_add(t, cli_jstr(it, "name", b[0], 160),
	    cli_jstr(it, "profession", b[1], 160),
	    cli_jstr(it, "city", b[2], 160), cli_jstr(it, "state", b[3], 160),
	    cli_jstr(it, "zip", b[4], 160), levels,
	    cli_jstr(it, "contact", b[5], 160));
}

static int
cmd_search(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "NAME", "PROFESSION", "CITY",
	    "STATE", "ZIP", "LEVELS", "CONTACT" };
	static const struct cli_list list = { "items", "name",
	    "no certified practitioner matches", 7, head, practitioner_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "name", required_argument, NULL, OPT_NAME },
		{ "profession", required_argument, NULL, OPT_PROFESSION },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "city", required_argument, NULL, OPT_CITY },
		{ "zip", required_argument, NULL, OPT_ZIP },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "name", "profession", "state",
	    "city", "zip", "limit", "offset" };
	const char *values[7] = { NULL };
	char state[4];
	struct cli_response resp;
	long long n;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_STATE) {
			if (cli_arg_state(ctx, "--state", optarg, state) != 0)
				return CLI_EXIT_USAGE;
			values[2] = state;
		} else if (c == OPT_LIMIT || c == OPT_OFFSET) {
			if (cli_arg_int(ctx, c == OPT_LIMIT ? "--limit" :
			    "--offset", optarg, c == OPT_LIMIT, c == OPT_LIMIT ?
			    50 : 1000, &n) != 0)
				return CLI_EXIT_USAGE;
			values[c == OPT_LIMIT ? 5 : 6] = optarg;
		} else {
			values[c - OPT_NAME] = optarg;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_get_query(ctx, "/v1/directory", 7, names, values, false,
	    &resp, &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

static int
cmd_set(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "listed", required_argument, NULL, OPT_LISTED },
		{ "city", required_argument, NULL, OPT_CITY },
		{ "state", required_argument, NULL, OPT_STATE },
		{ "zip", required_argument, NULL, OPT_ZIP },
		{ "contact", required_argument, NULL, OPT_CONTACT },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	json_t *body = json_object();
	int c, rc = CLI_EXIT_USAGE;

	if (body == NULL)
		return CLI_EXIT_FAILURE;
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			goto out;
		rc = CLI_EXIT_USAGE;
		if (cli_directory_field(ctx, body, c == OPT_LISTED ? "listed" :
		    c == OPT_CITY ? "city" : c == OPT_STATE ? "state" :
		    c == OPT_ZIP ? "zip" : "contact", optarg) != 0)
			goto out;
	}
	rc = CLI_EXIT_USAGE;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		goto out;
	if (json_object_size(body) == 0) {
		cli_usage_error(ctx, "say what to change (--listed yes|no, "
		    "--city, --state, --zip, --contact)");
		goto out;
	}
	if (cli_call(ctx, "PATCH", "/v1/me/directory", body, NULL, &resp,
	    &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot change your listing");
		goto out;
	}
	if (ctx->json)
		rc = cli_print_json(ctx, &resp);
	else {
		const json_t *d = json_object_get(resp.json, "directory");
		rc = CLI_EXIT_OK;
		if (!ctx->quiet)
			printf("%s in the directory\n", json_is_true(
			    json_object_get(d, "listed")) ? "listed" :
			    "not listed");
	}
	cli_response_release(&resp);
out:
	json_decref(body);
	return rc;
}

int
cli_cmd_directory(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "search", cmd_search },
		{ "set", cmd_set },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
