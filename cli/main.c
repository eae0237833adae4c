/*
 * certrack: the command-line client of certrackd.  main() alone lives
 * here: the global options, then dispatch through cli_commands[].
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "certrack/cli.h"

/* An unknown global option TYPED ("--jsn=x"), with the closest one. */
static int
main_unknown_option(const struct cli_ctx *ctx, const char *typed,
    const struct option *longopts)
{
	const char *names[32];
	char word[64];
	const char *guess;
	size_t n = 0;

	snprintf(word, sizeof(word), "%.*s", (int)strcspn(typed, "="), typed);
	for (size_t i = 0; longopts[i].name != NULL && n < 32; i++)
		names[n++] = longopts[i].name;
	guess = strncmp(word, "--", 2) == 0 ?
	    cli_suggest(word + 2, names, n) : NULL;
	if (guess != NULL)
		return cli_usage_error(ctx, "unknown option '%s'; did you "
		    "mean '--%s'?", word, guess);
	return cli_usage_error(ctx, "unknown option '%s'", word);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "version", no_argument, NULL, CLI_OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd;
	struct cli_ctx ctx;
	struct cli_error err;
	int c, rc;

	cli_ctx_init(&ctx);
	/* '+': stop at the command's name, whose options are its own;
	 * ':': report a missing value ourselves, in the house style. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:" CLI_GLOBAL_SHORTOPTS "V",
	    longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
		case CLI_OPT_HELP:
			cli_usage(stdout);
			rc = CLI_EXIT_OK;
			goto out;
		case 'V':
		case CLI_OPT_VERSION:
			printf("certrack %s\n", CERTRACK_VERSION);
			rc = CLI_EXIT_OK;
			goto out;
		case '?':
			if (optopt != 0)
				rc = cli_usage_error(&ctx,
				    "unknown option '-%c'", optopt);
			else
				rc = main_unknown_option(&ctx, argv[optind - 1],
				    longopts);
			goto out;
		case ':':
			rc = cli_usage_error(&ctx, "option '%.*s' needs a value",
			    (int)strcspn(argv[optind - 1], "="),
			    argv[optind - 1]);
			goto out;
		default:
			if (cli_opts_global(&ctx, c, optarg, &err) != 0) {
				rc = cli_usage_error(&ctx, "%s", err.msg);
				goto out;
			}
			break;
		}
	}
	if (optind == argc) {
		cli_errorf("no command given");
		cli_errorf("try 'certrack --help'");
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	cmd = cli_command_find(argv[optind]);
	if (cmd == NULL) {
		rc = cli_unknown_command(&ctx, argv[optind]);
		goto out;
	}
	ctx.cmd = cmd;
	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: start afresh on the command's argv */
	rc = cmd->run(&ctx, argc, argv);
out:
	/* Exit 0 only when the output really was written (git does the
	 * same): `certrack --help > /dev/full` must fail loudly. */
	errno = 0;
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_errorf("cannot write the output: %s",
		    errno ? strerror(errno) : "write error");
		if (rc == CLI_EXIT_OK)
			rc = CLI_EXIT_FAILURE;
	}
	cli_ctx_release(&ctx);
	return rc;
}
