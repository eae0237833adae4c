/* `certrack health`: GET /readyz and say whether the server is ready. */
#include <stdio.h>

#include "certrack/cli.h"

int
cli_cmd_health(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	json_t *version;
	const char *detail;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		/* health has no options of its own */
		return cli_usage_error(ctx, "unexpected option");
	}
	if (optind < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind]);

	if (cli_request(ctx, "GET", "/readyz", NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);

	if (resp.status == 200) {
		rc = CLI_EXIT_OK;
		if (ctx->json) {
			/* A failed write is reported by main(). */
			if (cli_print_raw(&resp) != 0)
				rc = CLI_EXIT_FAILURE;
		} else if (!ctx->quiet) {
			version = json_object_get(resp.json, "schema_version");
			if (json_is_integer(version))
				printf("ready: schema version %" JSON_INTEGER_FORMAT
				    "\n", json_integer_value(version));
			else
				printf("ready\n");
		}
	} else if (resp.status == 503) {
		detail = cli_problem_detail(&resp);
		cli_response_error(&resp, &err);
		err.exit_code = CLI_EXIT_FAILURE;
		if (detail == NULL)
			snprintf(err.msg, sizeof(err.msg), "the server "
			    "answered 503 without a reason");
		rc = cli_error_reportf(ctx, &err, "not ready");
	} else {
		/* Not certrackd, or a proxy in the way. */
		cli_response_error(&resp, &err);
		err.exit_code = CLI_EXIT_FAILURE;
		rc = cli_error_reportf(ctx, &err, "'%s' answered HTTP %ld to "
		    "GET /readyz", ctx->url, resp.status);
	}
	cli_response_release(&resp);
	return rc;
}
