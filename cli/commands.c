/*
 * The command table (git's commands[]): one row per subcommand, its
 * handler in cli/cmd_NAME.c.  Also the global usage and `certrack help`.
 */
#include <stdio.h>
#include <string.h>

#include "certrack/cli.h"

/*
 * Each help text: the synopsis after "usage: certrack ", a blank line, the
 * command's own options, and at least one example.  The global options
 * (--url, --token, --json, --quiet, --timeout) work with every command and
 * are listed once, by cli_command_usage().
 */
const struct cli_command cli_commands[] = {
	{
		"health", cli_cmd_health,
		"check that the server is up and its database is ready",
		"health\n"
		"\n"
		"Asks the server's /readyz whether its database is reachable\n"
		"and its schema current.  Prints 'ready: schema version N' and\n"
		"exits 0, or says why not and exits 5.  With --json prints the\n"
		"server's answer unchanged; with --quiet prints nothing.\n"
		"\n"
		"Example:\n"
		"  certrack --url http://127.0.0.1:8080 health\n"
		"  ready: schema version 2\n",
	},
	{
		"help", cli_cmd_help,
		"show the commands, or one command's synopsis and an example",
		"help [COMMAND]\n"
		"\n"
		"Without COMMAND lists the commands, the global options and\n"
		"the exit codes; with COMMAND shows that command's help, the\n"
		"same as 'certrack COMMAND --help'.\n"
		"\n"
		"Example:\n"
		"  certrack help health\n",
	},
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);

const struct cli_command *
cli_command_find(const char *name)
{
	for (size_t i = 0; i < cli_ncommands; i++)
		if (strcmp(cli_commands[i].name, name) == 0)
			return &cli_commands[i];
	return NULL;
}

static const char global_options[] =
"  -u, --url URL        the server (else $CERTRACK_URL, else 'url' in\n"
"                       ~/.config/certrack/config, else " CLI_DEFAULT_URL ")\n"
"  -t, --token TOKEN    the bearer token (else $CERTRACK_TOKEN, else\n"
"                       'token' in the config file; 'certrack login' writes\n"
"                       it there, which keeps it out of the process list)\n"
"  -j, --json           print the server's JSON unchanged, for scripts\n"
"  -q, --quiet          print nothing on success, and no warnings\n"
"      --timeout SECS   give up on a request after SECS seconds\n"
"                       (default 30; 0 waits for ever)\n"
"  -h, --help           show help (also 'certrack COMMAND --help')\n";

void
cli_usage(FILE *fp)
{
	fputs("usage: certrack [OPTIONS] COMMAND [ARGS]\n"
	    "\n"
	    "The command-line client of certrackd, the certification exam "
	    "tracker.\n"
	    "\n"
	    "Commands:\n", fp);
	for (size_t i = 0; i < cli_ncommands; i++)
		fprintf(fp, "  %-12s %s\n", cli_commands[i].name,
		    cli_commands[i].summary);
	fputs("\nOptions (before or after COMMAND):\n", fp);
	fputs(global_options, fp);
	fputs("  -V, --version        show the version (before COMMAND)\n"
	    "\n"
	    "Exit codes:\n"
	    "  0  ok\n"
	    "  1  refused by a rule (not eligible, prerequisite missing, ...)\n"
	    "  2  usage error: bad command line or configuration\n"
	    "  3  not found\n"
	    "  4  authentication or permission: log in, or not allowed\n"
	    "  5  server or network failure (or output that cannot be "
	    "written)\n"
	    "\n"
	    "Run 'certrack help COMMAND' for a command's synopsis and an "
	    "example.\n", fp);
}

void
cli_command_usage(const struct cli_command *cmd, FILE *fp)
{
	fprintf(fp, "usage: certrack %s", cmd->help);
	fprintf(fp, "\nGlobal options:\n%s", global_options);
}

int
cli_cmd_help(struct cli_ctx *ctx, int argc, char **argv)
{
	const struct cli_command *cmd;
	int c, rc;
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		return cli_usage_error(ctx, "unexpected option");
	}
	if (optind == argc) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (optind + 1 < argc)
		return cli_usage_error(ctx, "unexpected argument '%s'",
		    argv[optind + 1]);
	cmd = cli_command_find(argv[optind]);
	if (cmd == NULL) {
		cli_errorf("unknown command '%s'", argv[optind]);
		cli_errorf("try 'certrack --help'");
		return CLI_EXIT_USAGE;
	}
	cli_command_usage(cmd, stdout);
	return CLI_EXIT_OK;
}
