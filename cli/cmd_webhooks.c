/*
 * `certrack webhooks list|add|disable|enable|test|deliveries|replay`:
 * webhook endpoints and the notification deliveries, for admins
 * (docs/notifications.md).  Lists follow the output contract of
 * cli/output.c (a table, --json {"total","limit","offset","items"}, --csv,
 * --quiet ids).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

enum { OPT_DESCRIPTION = CLI_OPT_CMD, OPT_STATUS, OPT_CHANNEL, OPT_WEBHOOK,
    OPT_LIMIT, OPT_OFFSET };

#define PAGE_OPTIONS \
	{ "limit", required_argument, NULL, OPT_LIMIT }, \
	{ "offset", required_argument, NULL, OPT_OFFSET }

/* --limit and --offset into VALUES[0] and [1]; 0, or -1 (usage error). */
static int
page_option(struct cli_ctx *ctx, int c, const char **values)
{
	long long n;

	if (c == OPT_LIMIT) {
		if (cli_arg_int(ctx, "--limit", optarg, 1, 1000, &n) != 0)
			return -1;
		values[0] = optarg;
	} else if (c == OPT_OFFSET) {
		if (cli_arg_int(ctx, "--offset", optarg, 0, 1LL << 31, &n) != 0)
			return -1;
		values[1] = optarg;
	}
	return 0;
}

static void
webhook_row(struct cli_table *t, const json_t *it)
{
	char b[6][300];

	cli_table_add(t, cli_jstr(it, "id", b[0], 300),
	    json_is_true(json_object_get(it, "enabled")) ? "enabled" :
	    "disabled",
	    cli_jstr(it, "url", b[1], 300),
	    cli_jstr(it, "consecutive_failures", b[2], 300),
	    cli_jtime(it, "last_success_at", b[3], 300),
	    cli_jstr(it, "description", b[4], 300));
}

static int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "STATE", "URL", "FAILURES",
	    "LAST SUCCESS", "DESCRIPTION" };
	static const struct cli_list list = { "items", "id",
	    "no webhook endpoints", 6, head, webhook_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		PAGE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "limit", "offset" };
	const char *values[2] = { NULL, NULL };
	struct cli_response resp;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (page_option(ctx, c, values) != 0)
			return CLI_EXIT_USAGE;
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_get_query(ctx, "/v1/webhooks", 2, names, values, false, &resp,
	    &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

/* "VERB webhook ID: URL (state)" for an endpoint answer. */
static int
report_webhook(struct cli_ctx *ctx, struct cli_response *resp,
    const char *verb)
{
	const json_t *w = json_object_get(resp->json, "webhook");
	const char *secret = json_string_value(json_object_get(resp->json,
	    "secret"));
	char b1[24], b2[2100];
	int rc = CLI_EXIT_OK;

	if (w == NULL)
		w = resp->json;
	if (ctx->json) {
		rc = cli_print_json(ctx, resp);
	} else if (ctx->quiet) {
		/* the secret is the point of `add`: printed even so */
		if (secret != NULL)
			printf("%s\n", secret);
	} else {
		printf("%s webhook %s: %s (%s)\n", verb,
		    cli_jstr(w, "id", b1, sizeof(b1)),
		    cli_jstr(w, "url", b2, sizeof(b2)),
		    json_is_true(json_object_get(w, "enabled")) ? "enabled" :
		    "disabled");
		if (secret != NULL)
			printf("secret: %s\n(shown once: give it to the "
			    "receiver, which checks the Certrack-Signature "
			    "header with it)\n", secret);
	}
	cli_response_release(resp);
	return rc;
}

static int
cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "description", required_argument, NULL, OPT_DESCRIPTION },
		{ NULL, 0, NULL, 0 },
	};
	const char *desc = NULL;
	struct cli_response resp;
	struct cli_error err;
	json_t *body;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_DESCRIPTION)
			desc = optarg;
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "URL") != 0)
		return CLI_EXIT_USAGE;
	if (strncmp(argv[optind], "http://", 7) != 0 &&
	    strncmp(argv[optind], "https://", 8) != 0)
		return cli_usage_error(ctx, "'%s' is not an http:// or https:// "
		    "URL", argv[optind]);
	body = json_pack("{s:s}", "url", argv[optind]);
	if (body == NULL)
		return CLI_EXIT_FAILURE;
	if (desc != NULL)
		json_object_set_new(body, "description", json_string(desc));
	rc = cli_call(ctx, "POST", "/v1/webhooks", body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot add webhook '%s'",
		    argv[optind]);
	return report_webhook(ctx, &resp, "added");
}

/* POST /v1/webhooks/ID/ACTION; a WEBHOOK operand, an id. */
static int
endpoint_action(struct cli_ctx *ctx, int argc, char **argv,
    const char *action, const char *verb, bool ask)
{
	struct cli_response resp;
	struct cli_error err;
	char path[64];
	long long id;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "WEBHOOK (an id)") != 0 ||
	    cli_arg_id(ctx, "webhook", argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	if (ask && cli_confirm(ctx, &err, "%s webhook %lld", action, id) != 0)
		return cli_error_report(ctx, &err);
	snprintf(path, sizeof(path), "/v1/webhooks/%lld/%s", id, action);
	if (cli_call(ctx, "POST", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_reportf(ctx, &err, "cannot %s webhook %lld",
		    action, id);
	return report_webhook(ctx, &resp, verb);
}

static int
cmd_disable(struct cli_ctx *ctx, int argc, char **argv)
{
	return endpoint_action(ctx, argc, argv, "disable", "disabled", true);
}

static int
cmd_enable(struct cli_ctx *ctx, int argc, char **argv)
{
	return endpoint_action(ctx, argc, argv, "enable", "enabled", false);
}

/* "VERB delivery ID (channel to target): status" */
static int
report_delivery(struct cli_ctx *ctx, struct cli_response *resp,
    const char *verb)
{
	char b[4][300];
	int rc = CLI_EXIT_OK;

	if (ctx->json)
		rc = cli_print_json(ctx, resp);
	else if (ctx->quiet)
		printf("%s\n", cli_jstr(resp->json, "id", b[0], 300));
	else
		printf("%s delivery %s (%s): %s\n", verb,
		    cli_jstr(resp->json, "id", b[0], 300),
		    cli_jstr(resp->json, "event", b[1], 300),
		    cli_jstr(resp->json, "status", b[2], 300));
	cli_response_release(resp);
	return rc;
}

/*
 * POST /v1/KIND/ID/ACTION for an ID operand that names WHAT ("webhook",
 * "delivery"), and reports the delivery answered with VERB.
 */
static int
delivery_action(struct cli_ctx *ctx, int argc, char **argv, const char *what,
    const char *kind, const char *action, const char *verb)
{
	struct cli_response resp;
	struct cli_error err;
	char path[80], operand[32];
	long long id;
	int rc;

	snprintf(operand, sizeof(operand), "%s (an id)", what);
	for (char *p = operand; *p != ' '; p++)
		*p = (char)(*p - 'a' + 'A');
	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, operand) != 0 ||
	    cli_arg_id(ctx, what, argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/%s/%lld/%s", kind, id, action);
	if (cli_call(ctx, "POST", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_reportf(ctx, &err, "cannot %s %s %lld", action,
		    what, id);
	return report_delivery(ctx, &resp, verb);
}

static int
cmd_test(struct cli_ctx *ctx, int argc, char **argv)
{
	return delivery_action(ctx, argc, argv, "webhook", "webhooks", "test",
	    "queued");
}

static void
delivery_row(struct cli_table *t, const json_t *it)
{
	char b[8][300];
	const char *target = json_is_string(json_object_get(it, "recipient")) ?
	    cli_jstr(it, "recipient", b[3], 300) :
	    cli_jstr(it, "endpoint_id", b[3], 300);

	cli_table_add(t, cli_jstr(it, "id", b[0], 300),
	    cli_jstr(it, "event", b[1], 300),
	    cli_jstr(it, "channel", b[2], 300), target,
	    cli_jstr(it, "status", b[4], 300),
	    cli_jstr(it, "attempts", b[5], 300),
	    cli_jstr(it, "last_error", b[6], 300),
	    cli_jtime(it, "created_at", b[7], 300));
}

static int
cmd_deliveries(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "EVENT", "CHANNEL", "TO",
	    "STATUS", "ATTEMPTS", "LAST ERROR", "CREATED" };
	static const struct cli_list list = { "items", "id",
	    "no deliveries match", 8, head, delivery_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "channel", required_argument, NULL, OPT_CHANNEL },
		{ "webhook", required_argument, NULL, OPT_WEBHOOK },
		PAGE_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "limit", "offset", "status",
	    "channel", "webhook" };
	const char *values[5] = { NULL };
	struct cli_response resp;
	long long n;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_STATUS:
			if (strcmp(optarg, "pending") != 0 &&
			    strcmp(optarg, "delivered") != 0 &&
			    strcmp(optarg, "failed") != 0)
				return cli_usage_error(ctx, "--status '%s' is "
				    "not one of pending, delivered, failed",
				    optarg);
			values[2] = optarg;
			break;
		case OPT_CHANNEL:
			if (strcmp(optarg, "webhook") != 0 &&
			    strcmp(optarg, "email") != 0)
				return cli_usage_error(ctx, "--channel '%s' is "
				    "not one of webhook, email", optarg);
			values[3] = optarg;
			break;
		case OPT_WEBHOOK:
			if (cli_arg_id(ctx, "--webhook", optarg, &n) != 0)
				return CLI_EXIT_USAGE;
			values[4] = optarg;
			break;
		default:
			if (page_option(ctx, c, values) != 0)
				return CLI_EXIT_USAGE;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (cli_get_query(ctx, "/v1/deliveries", 5, names, values, false,
	    &resp, &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

static int
cmd_replay(struct cli_ctx *ctx, int argc, char **argv)
{
	return delivery_action(ctx, argc, argv, "delivery", "deliveries",
	    "replay", "replaying");
}

int
cli_cmd_webhooks(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "list", cmd_list },
		{ "add", cmd_add },
		{ "disable", cmd_disable },
		{ "enable", cmd_enable },
		{ "test", cmd_test },
		{ "deliveries", cmd_deliveries },
		{ "replay", cmd_replay },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
