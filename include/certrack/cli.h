#ifndef CERTRACK_CLI_H
#define CERTRACK_CLI_H
/*
 * The certrack command-line client's internal interface.
 *
 *   cli/main.c       main(): global options, dispatch through the table
 *   cli/commands.c   the command table and `certrack help`
 *   cli/opts.c       context, option parsing, URL/token resolution, errors
 *   cli/client.c     one HTTP request to certrackd (libcurl + jansson)
 *   cli/cmd_NAME.c   one file per subcommand: cli_cmd_NAME()
 *
 * Adding a command: write cli/cmd_NAME.c with
 *     int cli_cmd_NAME(struct cli_ctx *ctx, int argc, char **argv);
 * declare it below, add one row to cli_commands[] in cli/commands.c, and add
 * the file to CLI_SRC in the Makefile.
 *
 * Conventions: helpers return 0 or -1 and fill a struct cli_error; a
 * command handler returns an exit code (enum cli_exit) and only main()
 * exits.  Messages are lower-case, without a full stop, subjects in
 * 'quotes'; cli_error_report() adds the "certrack: " prefix.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <jansson.h>

/* Exit codes, documented in `certrack --help`. */
enum cli_exit {
	CLI_EXIT_OK = 0,	/* done */
	CLI_EXIT_REFUSED = 1,	/* the server refused: a rule said no */
	CLI_EXIT_USAGE = 2,	/* bad command line or configuration */
	CLI_EXIT_NOT_FOUND = 3,	/* no such record */
	CLI_EXIT_AUTH = 4,	/* not logged in, or not allowed */
	CLI_EXIT_FAILURE = 5,	/* server, network or local I/O failure */
};

/* Where the server URL comes from when nothing else says. */
#define CLI_DEFAULT_URL "http://127.0.0.1:8080"

/* Seconds a request may take in all, unless --timeout says otherwise. */
#define CLI_DEFAULT_TIMEOUT 30

/* An error on its way to stderr: what to say and how to exit. */
struct cli_error {
	int exit_code;		/* one of enum cli_exit */
	char msg[1024];		/* without the "certrack: " prefix */
};

struct cli_command;

/*
 * Everything a command needs: the global options and, once resolved, the
 * server's URL and token.  cli_ctx_init()/cli_ctx_release(); the context
 * owns url, token, config_path and the kept-alive curl handle.
 */
struct cli_ctx {
	/* From the command line (point into argv; NULL when not given). */
	const char *url_flag;
	const char *token_flag;
	bool json;		/* --json: print the API's JSON unchanged */
	bool quiet;		/* --quiet: no output on success, no warnings */
	long timeout;		/* --timeout seconds for a request; 0 = none */

	/* The command being run (NULL before dispatch). */
	const struct cli_command *cmd;

	/* Set by cli_opts_resolve(). */
	bool resolved;
	char *url;		/* base URL, no trailing '/' */
	char *token;		/* bearer token, or NULL when none is known */
	char *config_path;	/* ~/.config/certrack/config, or NULL */

	void *curl;		/* CURL handle kept between requests */
};

/* One row of the command table. */
struct cli_command {
	const char *name;
	/* Runs the command; ARGV[0] is the command's name.  Returns an exit
	 * code (enum cli_exit). */
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;	/* one line for `certrack --help` */
	const char *help;	/* synopsis, options and an example */
};

/* ---- cli/commands.c ---------------------------------------------------- */

/* The command table, in the order `certrack --help` lists it. */
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* The command called NAME, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* Prints the global usage: commands, options, exit codes. */
void cli_usage(FILE *fp);

/* Prints CMD's help ("usage: certrack NAME ...", options, example). */
void cli_command_usage(const struct cli_command *cmd, FILE *fp);

/* `certrack help [COMMAND]`. */
int cli_cmd_help(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cli/cmd_*.c: one handler per file ------------------------------- */

/* `certrack health`: is the server up and its schema current? */
int cli_cmd_health(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cli/opts.c -------------------------------------------------------- */

void cli_ctx_init(struct cli_ctx *ctx);
void cli_ctx_release(struct cli_ctx *ctx);

/*
 * The global options, accepted before the command and after it.  Put
 * CLI_GLOBAL_LONGOPTS first in a command's struct option table, followed
 * by the command's own options and the { NULL, 0, NULL, 0 } end.  Command
 * options should use values below CLI_OPT_BASE (characters) or from
 * CLI_OPT_CMD upwards.
 */
enum {
	CLI_OPT_BASE = 0x1000,
	CLI_OPT_URL = CLI_OPT_BASE, CLI_OPT_TOKEN, CLI_OPT_JSON,
	CLI_OPT_QUIET, CLI_OPT_TIMEOUT, CLI_OPT_HELP, CLI_OPT_VERSION,
	CLI_OPT_CMD = 0x2000,
};
#define CLI_GLOBAL_LONGOPTS \
	{ "url", required_argument, NULL, CLI_OPT_URL }, \
	{ "token", required_argument, NULL, CLI_OPT_TOKEN }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET }, \
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }
/* The short forms of the global options, for a command's SHORTOPTS. */
#define CLI_GLOBAL_SHORTOPTS "u:t:jqh"

/* cli_getopt() returns this when the command must return *EXIT_CODE now. */
#define CLI_GETOPT_STOP (-2)

/*
 * getopt_long() for a command's own options (call it with optind = 0 or 1
 * fresh for each command, as main() leaves it reset).  Handles the global
 * options itself; prints CMD's help for --help/-h; reports an unknown
 * option or a missing argument to stderr.  Returns the next option of the
 * command's own, -1 when the options end (operands start at optind), or
 * CLI_GETOPT_STOP with *EXIT_CODE set (0 after --help, 2 after a usage
 * error).  SHORTOPTS lists the command's own short options only.
 */
int cli_getopt(struct cli_ctx *ctx, int argc, char **argv,
    const char *shortopts, const struct option *longopts, int *exit_code);

/*
 * Applies global option OPT (a CLI_OPT_* value or its short form) with
 * ARG.  Returns 0, or -1 with ERR filled (exit 2) for a bad value.
 */
int cli_opts_global(struct cli_ctx *ctx, int opt, const char *arg,
    struct cli_error *err);

/*
 * Resolves the server URL and token, each from the first of: the flag,
 * CERTRACK_URL / CERTRACK_TOKEN, the config file, the default (a URL only).
 * Idempotent; cli_request() calls it.  Returns 0, or -1 with ERR filled
 * (an unreadable or malformed config file, a URL that is not http(s)).
 */
int cli_opts_resolve(struct cli_ctx *ctx, struct cli_error *err);

/*
 * The config file's path, $HOME/.config/certrack/config, in *PATH (caller
 * frees).  Returns 0, or -1 with ERR filled when HOME is not set.
 */
int cli_config_path(char **path, struct cli_error *err);

/* Fills ERR (exit code CODE, printf-style message); returns -1. */
int cli_error_set(struct cli_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints "certrack: MSG" to stderr; returns err->exit_code. */
int cli_error_report(const struct cli_error *err);

/* Prints "certrack: MSG" to stderr (a message, no exit code). */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints a warning to stderr unless --quiet. */
void cli_warnf(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * A usage error inside command CTX->cmd: prints "certrack: MSG" and the hint
 * "certrack: try 'certrack NAME --help'" to stderr; returns CLI_EXIT_USAGE.
 */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- cli/client.c ------------------------------------------------------ */

/* A response from the server.  cli_response_release() frees it. */
struct cli_response {
	long status;		/* HTTP status */
	char *content_type;	/* media type, lower-case, no parameters */
	char *raw;		/* the body, NUL-terminated ("" when empty) */
	size_t raw_len;
	json_t *json;		/* the body parsed when it is JSON, else NULL */
};

void cli_response_release(struct cli_response *resp);

/*
 * Sends METHOD PATH (PATH from "/", query string already escaped, see
 * cli_escape()) to the server, with BODY as application/json when not NULL,
 * an "Authorization: Bearer" header when a token is known, a timeout and
 * User-Agent certrack/VERSION.  Returns 0 when the server answered, whatever
 * the status: RESP is filled (the caller releases it).  Returns -1 with ERR
 * filled when no answer came ("cannot reach 'URL': <curl's cause>", exit
 * 5), on a bad configuration (exit 2), or when a JSON body does not parse
 * (exit 5); RESP is then empty.
 */
int cli_request(struct cli_ctx *ctx, const char *method, const char *path,
    const json_t *body, struct cli_response *resp, struct cli_error *err);

/* Releases the kept curl handle and libcurl (main() calls it once). */
void cli_client_cleanup(struct cli_ctx *ctx);

/*
 * Turns a non-2xx RESP into ERR: the problem's "detail" (else "title",
 * else "HTTP STATUS") and the exit code for its status
 * (cli_exit_for_status()).  Returns -1.
 */
int cli_response_error(const struct cli_response *resp, struct cli_error *err);

/* The problem+json "detail" of RESP, else its "title", else NULL. */
const char *cli_problem_detail(const struct cli_response *resp);

/* The exit code for an HTTP error status: 401/403 -> 4, 404/410 -> 3,
 * other 4xx -> 1, 5xx and anything else -> 5 (2xx -> 0). */
int cli_exit_for_status(long status);

/* Writes RESP's body to stdout unchanged, adding a final newline when it
 * lacks one (--json).  Returns 0, or -1 when stdout fails. */
int cli_print_raw(const struct cli_response *resp);

/* S percent-encoded for a URL path segment or query value (RFC 3986
 * unreserved characters kept).  Caller frees; NULL when memory ran out. */
char *cli_escape(const char *s);

#endif
