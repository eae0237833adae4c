#ifndef CERTRACK_CLI_H
#define CERTRACK_CLI_H
/*
 * The certrack command-line client's internal interface.
 *
 *   cli/main.c       main(): global options, dispatch through the table
 *   cli/commands.c   the command table and `certrack help`
 *   cli/opts.c       context, option parsing, URL/token resolution, errors
 *   cli/client.c     one HTTP request to certrackd (libcurl + jansson)
 *   cli/util.c       helpers the commands share (dispatch, checks, tables)
 *   cli/cmd_NAME.c   one file per subcommand: cli_cmd_NAME()
 *   lib/             what the daemon shares (strnum, certnum, csvread, ...);
 *                    nothing from server/ is linked in
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
	char problem[48];	/* the server's problem code, or "" */
	long status;		/* the server's HTTP status, 0 when local */
	char request_id[48];	/* the server's X-Request-Id, or "" */
	char doc[4096];		/* the server's problem document as it came
				 * (--json prints it), or "" */
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
	const char *cacert_flag;	/* --cacert FILE */
	bool insecure_http;	/* --insecure-http: http:// off loopback */
	bool csv;		/* --csv: lists as CSV */
	bool yes;		/* --yes: no confirmation asked */
	const char *context_flag;	/* --context NAME */

	/* The command being run (NULL before dispatch). */
	const struct cli_command *cmd;

	/* Set by cli_opts_resolve(). */
	bool resolved;
	char *url;		/* base URL, no trailing '/' */
	char *token;		/* bearer token, or NULL when none is known */
	char *config_path;	/* ~/.config/certrack/config, or NULL */
	char *cacert;		/* CA bundle to trust, or NULL: the system's */
	char *context;		/* the named context in use, or NULL: the
				 * file's top-level url and token */

	void *curl;		/* CURL handle kept between requests */
	void *curl_aside;	/* a second one, for cli_request_aside() */
};

/* One row of the command table. */
struct cli_command {
	const char *name;
	/* Runs the command; ARGV[0] is the command's name.  Returns an exit
	 * code (enum cli_exit). */
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
	const char *summary;	/* one line for `certrack --help`; NULL
				 * for a command not listed there */
	const char *help;	/* synopsis, options and an example */
	const char *subs;	/* its subcommands, blank-separated, or NULL */
};

/* ---- cli/commands.c ---------------------------------------------------- */

/* The command table, in the order `certrack --help` lists it. */
extern const struct cli_command cli_commands[];
extern const size_t cli_ncommands;

/* The command called NAME, or NULL. */
const struct cli_command *cli_command_find(const char *name);

/* The command names and their other-number aliases, at most MAX, in
 * NAMES; returns how many. */
size_t cli_command_names(const char **names, size_t max);

/* Reports an unknown command NAME ("did you mean" the closest); exit 2. */
int cli_unknown_command(const struct cli_ctx *ctx, const char *name);

/* Prints the global usage: commands, options, exit codes. */
void cli_usage(FILE *fp);

/* Prints CMD's help ("usage: certrack NAME ...", options, example). */
void cli_command_usage(const struct cli_command *cmd, FILE *fp);

/* `certrack help [COMMAND]`. */
int cli_cmd_help(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cli/cmd_*.c: one handler per file ------------------------------- */

/* `certrack health`: is the server up and its schema current? */
int cli_cmd_health(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_login.c: `login`, `logout`, `whoami`, `passwd` */
int cli_cmd_login(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_logout(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_whoami(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_passwd(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_clinicians.c: `clinicians add|show|list|search|update` */
int cli_cmd_clinicians(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_enroll.c: `enroll`, `complete`, `withdraw`, `sessions` */
int cli_cmd_enroll(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_complete(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_withdraw(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_sessions(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_results.c: `results record|amend|history` */
int cli_cmd_results(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_users.c: `users list|add|disable|enable|reset-password|tokens|
 * revoke-token` (admin) */
int cli_cmd_users(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_audit.c: `audit` (admin) */
int cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_status.c: `status [CLINICIAN]` */
int cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_certificates.c: `certificates verify|revoke`, and `verify` */
int cli_cmd_certificates(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_directory(struct cli_ctx *ctx, int argc, char **argv);
/*
 * cli/cmd_directory.c: sets BODY's directory field for the option WHAT
 * ("listed": yes or no; "city", "state", "zip", "contact": an empty ARG
 * clears it).  Returns 0, or -1 after a usage error was reported.
 */
int cli_directory_field(const struct cli_ctx *ctx, json_t *body,
    const char *what, const char *arg);
int cli_cmd_verify(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_programs.c: `programs`, `levels`, `professions`, `eligibility` */
int cli_cmd_programs(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_levels(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_professions(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_eligibility(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_import.c: `import roster|results FILE`, `import list|show` */
int cli_cmd_import(struct cli_ctx *ctx, int argc, char **argv);

/* cmd_renewals.c: continuing education, renewal policies, renewal */
int cli_cmd_ce(struct cli_ctx *ctx, int argc, char **argv);
int cli_cmd_renewal_policies(struct cli_ctx *ctx, int argc, char **argv);
/* certificates renew NUMBER (NUMBER already checked); an exit code */
int cli_renew(struct cli_ctx *ctx, const char *number);

/*
 * `certificates renewal-exam NUMBER SCORE [--max N] [--on DATE]`: records
 * a renewal written exam (cmd_renewals.c).  NUMBER_ARG reads the number
 * operand into its canonical form (-1 after a usage error).
 */
int cli_renewal_exam(struct cli_ctx *ctx, int argc, char **argv,
    int (*number_arg)(const struct cli_ctx *, const char *, char *));
/* cli/cmd_webhooks.c: `webhooks list|add|disable|enable|test|deliveries|
 * replay` (admin) */
int cli_cmd_webhooks(struct cli_ctx *ctx, int argc, char **argv);

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
	CLI_OPT_CACERT, CLI_OPT_INSECURE_HTTP,
	CLI_OPT_CSV, CLI_OPT_YES, CLI_OPT_CONTEXT,
	CLI_OPT_CMD = 0x2000,
};
#define CLI_GLOBAL_LONGOPTS \
	{ "url", required_argument, NULL, CLI_OPT_URL }, \
	{ "token", required_argument, NULL, CLI_OPT_TOKEN }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "quiet", no_argument, NULL, CLI_OPT_QUIET }, \
	{ "timeout", required_argument, NULL, CLI_OPT_TIMEOUT }, \
	{ "cacert", required_argument, NULL, CLI_OPT_CACERT }, \
	{ "insecure-http", no_argument, NULL, CLI_OPT_INSECURE_HTTP }, \
	{ "csv", no_argument, NULL, CLI_OPT_CSV }, \
	{ "yes", no_argument, NULL, CLI_OPT_YES }, \
	{ "context", required_argument, NULL, CLI_OPT_CONTEXT }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }
/* The short forms of the global options, for a command's SHORTOPTS. */
#define CLI_GLOBAL_SHORTOPTS "u:t:jqhyc:"

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
 * The config file's path, $XDG_CONFIG_HOME/certrack/config when that is
 * set to an absolute path, else $HOME/.config/certrack/config, in *PATH
 * (caller frees).  Returns 0, or -1 with ERR filled when neither is set.
 */
int cli_config_path(char **path, struct cli_error *err);

/*
 * Checks a server URL from SOURCE (for the message): http:// or https://,
 * no blank, query or fragment, plain http only to this machine unless
 * --insecure-http.  Strips trailing slashes in place.  0, or -1 with ERR
 * (exit 2).
 */
int cli_url_check(const struct cli_ctx *ctx, char *url, const char *source,
    struct cli_error *err);

/* Fills ERR (exit code CODE, printf-style message); returns -1. */
int cli_error_set(struct cli_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Reports ERR and returns err->exit_code: "certrack: MSG" on stderr, and
 * "certrack: request id ID" when the server answered.  With --json the
 * problem document goes to stdout as well: the server's as it came, else
 * one made here with the same members (code "usage", "not_found",
 * "refused", "unauthorized", "unreachable" or "failure").
 */
int cli_error_report(const struct cli_ctx *ctx, const struct cli_error *err);

/* A failure found here (exit CODE), reported as cli_error_report() does;
 * returns CODE. */
int cli_fail(const struct cli_ctx *ctx, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* cli_error_report() with the sentence "WHAT: MSG" (WHAT printf-style). */
int cli_error_reportf(const struct cli_ctx *ctx, const struct cli_error *err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

/* ---- cli/config.c: the config file and its contexts -------------------- */

#include "certrack/strbuf.h"

/* One context: a server and the token for it. */
struct cli_context {
	char *name;		/* NULL: the file's top level, "default" */
	char *url;		/* or NULL */
	char *token;		/* or NULL: not logged in */
	struct strbuf other;	/* lines of keys not known here, kept */
};

/* The config file in memory.  cli_config_init()/cli_config_release(). */
struct cli_config {
	const char *path;	/* not owned */
	char *current;		/* "current = NAME", or NULL */
	struct cli_context *v;	/* the top level first, when present */
	size_t n;
	bool has_token;		/* some context holds a token */
	bool group_readable;	/* the file's mode lets others read it */
};

void cli_config_init(struct cli_config *cf);
void cli_config_release(struct cli_config *cf);

/* Reads PATH (kept, not copied) into CF; a missing file is an empty
 * config.  Returns 0, or -1 with ERR (exit 2: unreadable or malformed). */
int cli_config_load(struct cli_config *cf, const char *path,
    struct cli_error *err);

/* Writes CF to its path: mode 0600, renamed into place, the folder made
 * mode 0700.  Returns 0, or -1 with ERR (exit 5). */
int cli_config_save(const struct cli_config *cf, struct cli_error *err);

/* The context NAME (NULL: the top level), or NULL when there is none. */
struct cli_context *cli_config_find(struct cli_config *cf, const char *name);

/* The context NAME, added empty when missing; NULL out of memory.  Any
 * pointer into CF taken before may move. */
struct cli_context *cli_config_add(struct cli_config *cf, const char *name);

/* Removes context C of CF. */
void cli_config_remove(struct cli_config *cf, struct cli_context *c);

/* True for a context name: 1 to 64 of A-Z a-z 0-9 . _ - */
bool cli_context_name_ok(const char *name);

/* cli/complete.c: `__complete WORD...`, for the shells' completion */
int cli_cmd_complete_words(struct cli_ctx *ctx, int argc, char **argv);

/* cli/cmd_context.c: `context add|use|list|remove` */
int cli_cmd_context(struct cli_ctx *ctx, int argc, char **argv);

/* ---- cli/client.c ------------------------------------------------------ */

/* A response from the server.  cli_response_release() frees it. */
struct cli_response {
	long status;		/* HTTP status */
	char *content_type;	/* media type, lower-case, no parameters */
	char *raw;		/* the body, NUL-terminated ("" when empty) */
	size_t raw_len;
	json_t *json;		/* the body parsed when it is JSON, else NULL */
	char request_id[48];	/* its X-Request-Id, or "" */
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

/*
 * cli_request() with HEADERS, a NULL-terminated list of extra
 * "Name: value" lines (NULL for none), such as If-Match.
 */
int cli_request_hdr(struct cli_ctx *ctx, const char *method,
    const char *path, const json_t *body, const char *const *headers,
    struct cli_response *resp, struct cli_error *err);

/* What cli_upload() sends and how. */
struct cli_upload_opts {
	FILE *fp;		/* the file, read from where it stands to EOF */
	long long size;		/* its size in bytes, or -1 when unknown (a
				 * pipe: sent with chunked encoding) */
	const char *label;	/* its name, for messages and progress */
	bool progress;		/* a progress line on stderr (the caller
				 * decides: only when stderr is a terminal) */
	FILE *tee;		/* NULL, or a copy of every byte sent goes
				 * here (stdin kept for a second reading) */
	/*
	 * NULL, or called about every CLI_WATCH_EVERY seconds while the
	 * request runs, from outside curl's callbacks (so it may make
	 * requests of its own with cli_request_aside()); SENT is true once
	 * the whole file is sent.  It may write into STATUS (LEN bytes) a
	 * few words on what the server is doing, shown on the progress
	 * line; it leaves STATUS as it is when it learnt nothing new.
	 */
	void (*watch)(void *arg, bool sent, char *status, size_t len);
	void *watch_arg;
};

/* Seconds between two calls of an upload's watch. */
#define CLI_WATCH_EVERY 0.5

/*
 * POSTs OPTS->fp to PATH (query string already escaped) as text/csv,
 * streamed: read a buffer at a time as curl sends it, never held whole in
 * memory.  Auth and answer as cli_request().  --timeout limits how long
 * sending may stall, not the whole request: after the last byte the server
 * takes what the work needs (TCP keep-alive notices a dead peer).  Returns
 * 0 when the server answered (RESP filled, caller releases), else -1 with
 * ERR: "cannot read 'LABEL': ..." (exit 5), a stall, or no answer.
 */
int cli_upload(struct cli_ctx *ctx, const char *path,
    const struct cli_upload_opts *opts, struct cli_response *resp,
    struct cli_error *err);

/*
 * GET PATH on a connection of its own (kept for the next call), while
 * another request (an upload) is in flight: at most
 * CLI_ASIDE_TIMEOUT seconds.  Returns as cli_request().
 */
#define CLI_ASIDE_TIMEOUT 2L
int cli_request_aside(struct cli_ctx *ctx, const char *path,
    struct cli_response *resp, struct cli_error *err);

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

/* ---- cli/util.c: helpers the commands share ---------------------------- */

/*
 * cli_request_hdr(), and a non-2xx answer made an error: returns 0 with
 * RESP filled (caller releases) for a 2xx; -1 with ERR filled (the
 * server's detail and the exit code for its status) and RESP released.
 * Before anything is sent, every string member of BODY is held to its
 * field's length (value_text()): one over is refused here as the server
 * would refuse it (exit 1, the same sentence), RESP left empty.
 */
int cli_call(struct cli_ctx *ctx, const char *method, const char *path,
    const json_t *body, const char *const *headers, struct cli_response *resp,
    struct cli_error *err);

/*
 * The id of the level a person means by NAME (a code or title, any case,
 * or PROGRAM/LEVEL), as the server reads it (GET /v1/levels?name=); its
 * code in CODE (LEN bytes) when not NULL.  Returns 0, or -1 with ERR (the
 * server's unknown_level / ambiguous_level, exit 1).
 */
int cli_level_id(struct cli_ctx *ctx, const char *name, long long *id,
    char *code, size_t len, struct cli_error *err);

/* A printf-built string (caller frees); NULL when memory ran out. */
char *cli_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

struct strbuf;
/* Appends "?NAME=VALUE" or "&NAME=VALUE" (VALUE escaped) to SB, nothing
 * when VALUE is NULL.  Returns 0, or -1 when memory ran out. */
int cli_query_add(struct strbuf *sb, const char *name, const char *value);

/* --json: RESP's body unchanged on stdout; returns an exit code. */
int cli_print_json(const struct cli_ctx *ctx, const struct cli_response *resp);

/*
 * GET PATH with the query parameters NAMES[i]=VALUES[i], i < N (a NULL
 * value is left out).  Returns 0 with RESP filled for the caller to print,
 * or -1 when the command is done, its exit code in *EXIT_CODE and RESP
 * released: the error reported, or (with JSON_DONE and --json) the answer
 * printed as it is.
 */
int cli_get_query(struct cli_ctx *ctx, const char *path, int n,
    const char *const *names, const char *const *values, bool json_done,
    struct cli_response *resp, int *exit_code);

/* A subcommand of a command group ("clinicians add"). */
struct cli_sub {
	const char *name;
	int (*run)(struct cli_ctx *ctx, int argc, char **argv);
};

/*
 * Runs the subcommand named by ARGV[1] with ARGV[0] its name; --help (or
 * "help") prints the group's help; a missing or unknown subcommand is a
 * usage error.  Returns an exit code.
 */
int cli_dispatch(struct cli_ctx *ctx, int argc, char **argv,
    const struct cli_sub *subs, size_t nsubs);

/*
 * Option parsing for a command with no options of its own.  Returns 0
 * (operands start at optind), or -1 with *EXIT_CODE set (after --help, or
 * a usage error already reported).
 */
int cli_no_options(struct cli_ctx *ctx, int argc, char **argv,
    int *exit_code);

/* Checks that MIN to MAX (-1: any) operands follow optind; reports a usage
 * error naming NAMES ("CLINICIAN and LEVEL") and returns -1 otherwise. */
int cli_operands(struct cli_ctx *ctx, int argc, char **argv, int min, int max,
    const char *names);

/*
 * Operand checks made before anything is sent; each returns 0, or -1
 * after reporting a usage error (the caller returns CLI_EXIT_USAGE).
 * WHAT names the operand in the message ("clinician").
 */
int cli_arg_id(const struct cli_ctx *ctx, const char *what, const char *arg,
    long long *id);
int cli_arg_int(const struct cli_ctx *ctx, const char *what, const char *arg,
    long long min, long long max, long long *out);
/*
 * The shared value readers (lib/value.c) on what a person typed, with the
 * sentence the API and an import give for the same value: a date as
 * YYYY-MM-DD or M/D/YYYY, written YYYY-MM-DD into OUT (11 bytes); a
 * license state, written upper-case into OUT (3 bytes); a score (of API
 * field FIELD, which the refusal names) as a new JSON number.
 */
int cli_arg_date(const struct cli_ctx *ctx, const char *what,
    const char *arg, char *out);
int cli_arg_state(const struct cli_ctx *ctx, const char *what,
    const char *arg, char *out);
int cli_arg_score(const struct cli_ctx *ctx, const char *what,
    const char *field, const char *arg, json_t **out);

/* Today's local date, YYYY-MM-DD, in BUF. */
void cli_today(char buf[16]);

/*
 * JSON values as text for tables: strings as they are, numbers printed,
 * booleans "yes"/"no", null or missing "-".  The result is V's own string
 * or BUF.
 */
const char *cli_jtext(const json_t *v, char *buf, size_t len);
const char *cli_jstr(const json_t *obj, const char *key, char *buf,
    size_t len);
/* A timestamp member without its fractions of a second (still ISO 8601). */
const char *cli_jtime(const json_t *obj, const char *key, char *buf,
    size_t len);
json_int_t cli_jint(const json_t *obj, const char *key);

/* The clinician of the caller's own account (GET /v1/me), for commands
 * whose CLINICIAN operand is optional.  0, or -1 with ERR (exit 2 when the
 * account is not a clinician's). */
int cli_own_clinician(struct cli_ctx *ctx, long long *id,
    struct cli_error *err);

/* "Given Family" of a clinician object, in BUF. */
void cli_full_name(const json_t *obj, char *buf, size_t len);

/* GETs clinician ID's name into BUF.  Returns 0, or -1 with ERR (3 when
 * there is no such clinician). */
int cli_clinician_name(struct cli_ctx *ctx, long long id, char *buf,
    size_t len, struct cli_error *err);

/* An aligned table: columns two blanks apart, empty cells as "-". */
struct cli_table {
	size_t ncols;
	char **cells;		/* row-major copies */
	size_t ncells, cap;
};
void cli_table_init(struct cli_table *t, size_t ncols);
void cli_table_release(struct cli_table *t);
/* Adds a row of NCOLS strings (NULL or "" shown as "-"); 0 or -1. */
int cli_table_add(struct cli_table *t, ...);
int cli_table_print(const struct cli_table *t, FILE *fp);
/* A table printed in parts (one page at a time) but aligned as one:
 * cli_table_widths() widens W (NCOLS entries, from 0) to each part's
 * widest cells, then cli_table_print_widths() prints each part with W;
 * 0 or -1. */
void cli_table_widths(const struct cli_table *t, size_t *w);
int cli_table_print_widths(const struct cli_table *t, const size_t *w,
    FILE *fp);

/* Adds a row of NCOLS strings from CELLS; 0 or -1. */
int cli_table_addv(struct cli_table *t, const char *const *cells);

/*
 * A list command's output.  The items are ANSWER's member MEMBER (NULL: the
 * answer is the array); an item whose ID_KEY is null is no record.
 */
struct cli_list {
	const char *member;
	const char *id_key;		/* what --quiet prints, one a line */
	const char *none;		/* said on stderr when there are none */
	size_t ncols;
	const char *const *head;	/* the column titles */
	void (*row)(struct cli_table *t, const json_t *item);
};

/* {"total", "limit", "offset", "items"} of ANSWER (new reference; NULL
 * out of memory): total, limit and offset as the server said, else the
 * number of items, null (no limit) and 0. */
json_t *cli_list_doc(const struct cli_list *l, const json_t *answer);

/*
 * Prints a list as the contract says: --json the one shape above;
 * --csv a header line and a line a record (RFC 4180); --quiet the ids;
 * else an aligned table, with on stderr the page shown (and --offset for
 * the next) when there are more, or L->none when there are none.
 * Returns an exit code.
 */
int cli_list_print(const struct cli_ctx *ctx, const struct cli_list *l,
    const json_t *answer);

/*
 * Asks "certrack: WHAT? [y/N]" on stderr and reads the answer from the
 * terminal on stdin.  0 when confirmed or --yes; -1 with ERR: exit 1 when
 * the answer was not yes, exit 2 (with the hint to add --yes) when stdin
 * is not a terminal, as nothing may be asked then.
 */
int cli_confirm(const struct cli_ctx *ctx, struct cli_error *err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The edit distance of A and B (a swap of two letters is one edit);
 * (size_t)-1 for words over 64 bytes. */
size_t cli_distance(const char *a, const char *b);

/* The one of NAMES (N) that TYPED is likely a typo of, or NULL. */
const char *cli_suggest(const char *typed, const char *const *names,
    size_t n);

/* "label:            value" on stdout, for summaries. */
void cli_kv(const char *label, const char *value);

/*
 * Reads a password: one line from stdin when FROM_STDIN, else from the
 * terminal with echo off after PROMPT.  Returns 0, or -1 with ERR.
 */
int cli_read_secret(const char *prompt, bool from_stdin, char *buf,
    size_t len, struct cli_error *err);

/* Reads one line from the terminal after PROMPT.  0 or -1 with ERR. */
int cli_read_line_tty(const char *prompt, char *buf, size_t len,
    struct cli_error *err);

#endif
