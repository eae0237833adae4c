/*
 * The CLI's shared option handling: the context, the global options (also
 * accepted after a command's name), where the server URL and token come
 * from, and the error helpers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"
#include "certrack/strnum.h"


void
cli_ctx_init(struct cli_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->timeout = CLI_DEFAULT_TIMEOUT;
}

void
cli_ctx_release(struct cli_ctx *ctx)
{
	cli_client_cleanup(ctx);
	free(ctx->url);
	free(ctx->token);
	free(ctx->config_path);
	free(ctx->cacert);
	free(ctx->context);
	ctx->url = ctx->token = ctx->config_path = ctx->cacert = NULL;
	ctx->context = NULL;
	ctx->resolved = false;
}

int
cli_error_set(struct cli_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->exit_code = code;
	err->problem[0] = '\0';
	err->status = 0;
	err->request_id[0] = '\0';
	err->doc[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The title and code of a failure found here, by its exit code. */
static void
local_problem(int exit_code, const char **title, const char **code)
{
	switch (exit_code) {
	case CLI_EXIT_REFUSED:
		*title = "Refused";
		*code = "refused";
		break;
	case CLI_EXIT_USAGE:
		*title = "Usage Error";
		*code = "usage";
		break;
	case CLI_EXIT_NOT_FOUND:
		*title = "Not Found";
		*code = "not_found";
		break;
	case CLI_EXIT_AUTH:
		*title = "Unauthorized";
		*code = "unauthorized";
		break;
	default:
		*title = "Failure";
		*code = "failure";
		break;
	}
}

/*
 * --json: the problem document on stdout.  The server's as it came, else
 * one with the same members (type, title, code, detail; status when the
 * server answered) and the exit code.
 */
static void
print_problem(const struct cli_error *err, const char *sentence)
{
	const char *title, *code;
	json_t *doc;

	if (err->doc[0] != '\0') {
		fputs(err->doc, stdout);
		if (err->doc[strlen(err->doc) - 1] != '\n')
			putchar('\n');
		return;
	}
	local_problem(err->exit_code, &title, &code);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:i}", "type", "about:blank",
	    "title", title, "code", err->problem[0] ? err->problem : code,
	    "detail", sentence, "exit_code", err->exit_code);
	if (doc == NULL)
		return;
	if (err->status > 0)
		json_object_set_new(doc, "status", json_integer(err->status));
	if (err->request_id[0] != '\0')
		json_object_set_new(doc, "request_id",
		    json_string(err->request_id));
	json_dumpf(doc, stdout, JSON_COMPACT);
	putchar('\n');
	json_decref(doc);
}

/* The sentence (with WHAT before it, when not NULL) to stderr, the
 * request id after it, and the document under --json. */
static int
report(const struct cli_ctx *ctx, const struct cli_error *err,
    const char *what)
{
	char sentence[1400];

	if (what != NULL)
		snprintf(sentence, sizeof(sentence), "%s: %s", what, err->msg);
	else
		snprintf(sentence, sizeof(sentence), "%s", err->msg);
	fprintf(stderr, "certrack: %s\n", sentence);
	if (err->request_id[0] != '\0')
		fprintf(stderr, "certrack: request id %s\n", err->request_id);
	if (ctx != NULL && ctx->json)
		print_problem(err, sentence);
	return err->exit_code;
}

int
cli_error_report(const struct cli_ctx *ctx, const struct cli_error *err)
{
	return report(ctx, err, NULL);
}

int
cli_fail(const struct cli_ctx *ctx, int code, const char *fmt, ...)
{
	struct cli_error err;
	va_list ap;

	cli_error_set(&err, code, "%s", "");
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	return report(ctx, &err, NULL);
}

int
cli_error_reportf(const struct cli_ctx *ctx, const struct cli_error *err,
    const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return report(ctx, err, what);
}

void
cli_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("certrack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
cli_warnf(const struct cli_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	if (ctx->quiet)
		return;
	fputs("certrack: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
	struct cli_error err;
	va_list ap;

	err.exit_code = CLI_EXIT_USAGE;
	err.problem[0] = err.request_id[0] = err.doc[0] = '\0';
	err.status = 0;
	va_start(ap, fmt);
	vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
	va_end(ap);
	report(ctx, &err, NULL);
	if (ctx->cmd != NULL)
		fprintf(stderr, "certrack: try 'certrack %s --help'\n",
		    ctx->cmd->name);
	else
		fputs("certrack: try 'certrack --help'\n", stderr);
	return CLI_EXIT_USAGE;
}

int
cli_opts_global(struct cli_ctx *ctx, int opt, const char *arg,
    struct cli_error *err)
{
	const char *why;
	long long n;

	switch (opt) {
	case CLI_OPT_URL:
	case 'u':
		ctx->url_flag = arg;
		break;
	case CLI_OPT_TOKEN:
	case 't':
		ctx->token_flag = arg;
		break;
	case CLI_OPT_JSON:
	case 'j':
		ctx->json = true;
		break;
	case CLI_OPT_QUIET:
	case 'q':
		ctx->quiet = true;
		break;
	case CLI_OPT_CACERT:
		ctx->cacert_flag = arg;
		break;
	case CLI_OPT_INSECURE_HTTP:
		ctx->insecure_http = true;
		break;
	case CLI_OPT_CSV:
		ctx->csv = true;
		break;
	case CLI_OPT_YES:
	case 'y':
		ctx->yes = true;
		break;
	case CLI_OPT_CONTEXT:
	case 'c':
		if (!cli_context_name_ok(arg))
			return cli_error_set(err, CLI_EXIT_USAGE,
			    "--context: '%s' is not a context name (letters, "
			    "digits, '.', '_' and '-')", arg);
		ctx->context_flag = arg;
		break;
	case CLI_OPT_TIMEOUT:
		/* A day is plenty even for a large import; 0 means none. */
		if (strnum_ll(arg, 0, 86400, &n, &why) != 0)
			return cli_error_set(err, CLI_EXIT_USAGE,
			    "--timeout: '%s' is %s (seconds, 0 to 86400)",
			    arg, why);
		ctx->timeout = (long)n;
		break;
	default:
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "unknown global option %d", opt);
	}
	return 0;
}

/* The option as the user typed it, for messages: "--name" or "-c". */
static void
option_text(char **argv, int c, char *buf, size_t size)
{
	const char *typed = optind > 0 ? argv[optind - 1] : NULL;

	if (typed != NULL && strncmp(typed, "--", 2) == 0) {
		size_t len = strcspn(typed, "=");
		snprintf(buf, size, "%.*s", (int)len, typed);
	} else if (c > 0 && c < 256) {
		snprintf(buf, size, "-%c", c);
	} else {
		snprintf(buf, size, "%s", typed ? typed : "?");
	}
}

/* "unknown option '--offest'; did you mean '--offset'?" among LONGOPTS. */
static int
unknown_option(const struct cli_ctx *ctx, const char *typed,
    const struct option *longopts)
{
	const char *names[64];
	const char *guess;
	size_t n = 0;

	if (strncmp(typed, "--", 2) == 0 && longopts != NULL) {
		for (size_t i = 0; longopts[i].name != NULL && n < 64; i++)
			names[n++] = longopts[i].name;
		guess = cli_suggest(typed + 2, names, n);
		if (guess != NULL)
			return cli_usage_error(ctx, "unknown option '%s'; did "
			    "you mean '--%s'?", typed, guess);
	}
	return cli_usage_error(ctx, "unknown option '%s'", typed);
}

int
cli_getopt(struct cli_ctx *ctx, int argc, char **argv, const char *shortopts,
    const struct option *longopts, int *exit_code)
{
	char spec[128];
	char name[128];
	struct cli_error err;
	int c;

	/* ':' first: a missing argument returns ':' and getopt prints
	 * nothing, so the messages keep the house style. */
	if (snprintf(spec, sizeof(spec), ":%s%s", CLI_GLOBAL_SHORTOPTS,
	    shortopts ? shortopts : "") >= (int)sizeof(spec)) {
		cli_errorf("too many short options");
		*exit_code = CLI_EXIT_USAGE;
		return CLI_GETOPT_STOP;
	}
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, spec, longopts, NULL);
		switch (c) {
		case 'h':
		case CLI_OPT_HELP:
			if (ctx->cmd != NULL)
				cli_command_usage(ctx->cmd, stdout);
			else
				cli_usage(stdout);
			*exit_code = CLI_EXIT_OK;
			return CLI_GETOPT_STOP;
		case 'u': case 't': case 'j': case 'q': case 'y': case 'c':
		case CLI_OPT_URL: case CLI_OPT_TOKEN: case CLI_OPT_JSON:
		case CLI_OPT_QUIET: case CLI_OPT_TIMEOUT:
		case CLI_OPT_CACERT: case CLI_OPT_INSECURE_HTTP:
		case CLI_OPT_CSV: case CLI_OPT_YES: case CLI_OPT_CONTEXT:
			if (cli_opts_global(ctx, c, optarg, &err) != 0) {
				*exit_code = cli_usage_error(ctx, "%s",
				    err.msg);
				return CLI_GETOPT_STOP;
			}
			continue;
		case '?':
			option_text(argv, optopt, name, sizeof(name));
			*exit_code = unknown_option(ctx, name, longopts);
			return CLI_GETOPT_STOP;
		case ':':
			option_text(argv, optopt, name, sizeof(name));
			*exit_code = cli_usage_error(ctx,
			    "option '%s' needs a value", name);
			return CLI_GETOPT_STOP;
		default:
			return c;
		}
	}
}

int
cli_config_path(char **path, struct cli_error *err)
{
	const char *home = getenv("HOME");
	const char *xdg = getenv("XDG_CONFIG_HOME");
	struct strbuf sb;
	int rc;

	*path = NULL;
	strbuf_init(&sb);
	/* The XDG base directory rules: an absolute XDG_CONFIG_HOME, else
	 * ~/.config (a relative one is to be ignored). */
	if (xdg != NULL && xdg[0] == '/') {
		rc = strbuf_addf(&sb, "%s/certrack/config", xdg);
	} else if (home != NULL && *home != '\0') {
		rc = strbuf_addf(&sb, "%s/.config/certrack/config", home);
	} else {
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "HOME is not set: cannot find the config file");
	}
	if (rc != 0) {
		strbuf_release(&sb);
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	}
	*path = strbuf_detach(&sb, NULL);
	return 0;
}

/* URL is http(s)://host...; strips trailing slashes in place. */
/* True when the host of URL (http[s]://HOST[:PORT]...) is a loopback
 * address or "localhost". */
static bool
url_is_loopback(const char *url)
{
	const char *h = strstr(url, "://") + 3, *end;
	char host[256];
	unsigned char a[16];

	if (*h == '[') {
		h++;
		end = strchr(h, ']');
	} else {
		end = h + strcspn(h, ":/");
	}
	if (end == NULL || (size_t)(end - h) >= sizeof(host))
		return false;
	memcpy(host, h, (size_t)(end - h));
	host[end - h] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		return memcmp(a, one, 16) == 0;
	}
	return false;
}

int
cli_url_check(const struct cli_ctx *ctx, char *url, const char *source,
    struct cli_error *err)
{
	size_t len;

	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0)
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "server URL '%s' (from %s) must start with http:// or "
		    "https://", url, source);
	if (strpbrk(url, " \t\r\n") != NULL)
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "server URL '%s' (from %s) contains a blank", url, source);
	len = strlen(url);
	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	if (strchr(url, '?') != NULL || strchr(url, '#') != NULL)
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "server URL '%s' (from %s) must not carry a query or a "
		    "fragment", url, source);
	/* Passwords and tokens cross that link: in the clear only on this
	 * machine, unless told otherwise. */
	if (strncasecmp(url, "http://", 7) == 0 && !url_is_loopback(url) &&
	    !ctx->insecure_http)
		return cli_error_set(err, CLI_EXIT_USAGE,
		    "refusing plain http:// to '%s' (from %s): passwords and "
		    "tokens would cross the network unencrypted; use https://, "
		    "or --insecure-http if you must", url, source);
	return 0;
}

/* A copy of the first non-empty of FLAG and the environment's ENV_NAME
 * in *OUT (left NULL when neither is set); *SOURCE names the variable when
 * it was the one (SOURCE may be NULL). */
static int
take(const char *flag, const char *env_name, char **out, const char **source,
    struct cli_error *err)
{
	const char *env = getenv(env_name);
	const char *v = NULL;

	if (flag != NULL && *flag != '\0') {
		v = flag;
	} else if (env != NULL && *env != '\0') {
		v = env;
		if (source != NULL)
			*source = env_name;
	}
	if (v == NULL)
		return 0;
	*out = strdup(v);
	if (*out == NULL)
		return cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	return 0;
}

/* The context to use: --context, else $CERTRACK_CONTEXT, else the file's
 * "current"; NULL for the top level ("default" names it too). */
static const char *
context_wanted(const struct cli_ctx *ctx, const struct cli_config *cf)
{
	const char *env = getenv("CERTRACK_CONTEXT");
	const char *name = NULL;

	if (ctx->context_flag != NULL)
		name = ctx->context_flag;
	else if (env != NULL && *env != '\0')
		name = env;
	else if (cf != NULL)
		name = cf->current;
	if (name != NULL && strcmp(name, "default") == 0)
		name = NULL;
	return name;
}

int
cli_opts_resolve(struct cli_ctx *ctx, struct cli_error *err)
{
	const char *url_source = "--url", *name;
	char *url = NULL, *token = NULL, *path = NULL, *context = NULL;
	struct cli_config cf;
	struct cli_context *c;
	bool named;
	int rc = -1;

	if (ctx->resolved)
		return 0;
	cli_config_init(&cf);
	/* --context names the server and its token: the variables that
	 * would name another do not count then. */
	named = ctx->context_flag != NULL;
	if (take(ctx->url_flag, named ? "" : "CERTRACK_URL", &url,
	    &url_source, err) != 0 ||
	    take(ctx->token_flag, named ? "" : "CERTRACK_TOKEN", &token, NULL,
	    err) != 0)
		goto out;
	/* The file is read only when something is still missing, so a
	 * broken file does not stand in the way of flags that say it all. */
	if (url == NULL || token == NULL || named) {
		if (cli_config_path(&path, err) != 0) {
			/* No HOME: no file, so the defaults apply. */
			free(path);
			path = NULL;
		} else if (cli_config_load(&cf, path, err) != 0) {
			goto out;
		}
		name = context_wanted(ctx, path != NULL ? &cf : NULL);
		c = cli_config_find(&cf, name);
		if (name != NULL && c == NULL) {
			cli_error_set(err, CLI_EXIT_USAGE, "there is no context "
			    "'%s' (see 'certrack context list')", name);
			goto out;
		}
		if (name != NULL && (context = strdup(name)) == NULL)
			goto no_memory;
		if (c != NULL && url == NULL && c->url != NULL) {
			if ((url = strdup(c->url)) == NULL)
				goto no_memory;
			url_source = path;
		}
		if (c != NULL && token == NULL && c->token != NULL &&
		    (token = strdup(c->token)) == NULL)
			goto no_memory;
		/* A token is a password: say so when others can read it
		 * (ssh refuses such a key; a warning is kinder). */
		if (cf.has_token && cf.group_readable)
			cli_warnf(ctx, "'%s' holds a token and others may read "
			    "it: run 'chmod 600 %s'", path, path);
	}
	if (url == NULL) {
		url = strdup(CLI_DEFAULT_URL);
		url_source = "the default";
		if (url == NULL)
			goto no_memory;
	}
	if (cli_url_check(ctx, url, url_source, err) != 0)
		goto out;
	free(ctx->cacert);
	ctx->cacert = NULL;
	if (take(ctx->cacert_flag, "CERTRACK_CACERT", &ctx->cacert, NULL,
	    err) != 0)
		goto out;
	free(ctx->url);
	free(ctx->token);
	free(ctx->config_path);
	free(ctx->context);
	ctx->url = url;
	ctx->token = token;
	ctx->config_path = path;
	ctx->context = context;
	url = token = path = context = NULL;
	ctx->resolved = true;
	rc = 0;
	goto out;
no_memory:
	cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
out:
	cli_config_release(&cf);
	free(url);
	free(token);
	free(path);
	free(context);
	return rc;
}
