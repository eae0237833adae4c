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

/* Longest line accepted in the config file. */
#define CONFIG_LINE_MAX 4096

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
	ctx->url = ctx->token = ctx->config_path = ctx->cacert = NULL;
	ctx->resolved = false;
}

int
cli_error_set(struct cli_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	err->exit_code = code;
	err->problem[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int
cli_error_report(const struct cli_error *err)
{
	fprintf(stderr, "certrack: %s\n", err->msg);
	return err->exit_code;
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
	va_list ap;

	fputs("certrack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
		case 'u': case 't': case 'j': case 'q':
		case CLI_OPT_URL: case CLI_OPT_TOKEN: case CLI_OPT_JSON:
		case CLI_OPT_QUIET: case CLI_OPT_TIMEOUT:
		case CLI_OPT_CACERT: case CLI_OPT_INSECURE_HTTP:
			if (cli_opts_global(ctx, c, optarg, &err) != 0) {
				*exit_code = cli_usage_error(ctx, "%s",
				    err.msg);
				return CLI_GETOPT_STOP;
			}
			continue;
		case '?':
			option_text(argv, optopt, name, sizeof(name));
			*exit_code = cli_usage_error(ctx,
			    "unknown option '%s'", name);
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

/* S without blanks at either end, in place. */
static char *
trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/*
 * Reads "key = value" lines from PATH into *URL and *TOKEN (each only when
 * still NULL; the caller frees).  Blank lines and lines starting with '#'
 * are skipped; unknown keys are ignored, so newer files still work.  A
 * missing file is no error.
 */
static int
config_read(const struct cli_ctx *ctx, const char *path, char **url,
    char **token, struct cli_error *err)
{
	char line[CONFIG_LINE_MAX];
	struct stat st;
	FILE *fp;
	int lineno = 0, rc = -1;
	bool has_token = false;

	fp = fopen(path, "r");
	if (fp == NULL) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return cli_error_set(err, CLI_EXIT_USAGE, "cannot open '%s': %s",
		    path, strerror(errno));
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *key, *value, *eq;
		char **slot;

		lineno++;
		if (strchr(line, '\n') == NULL && !feof(fp)) {
			cli_error_set(err, CLI_EXIT_USAGE,
			    "'%s' line %d: the line is too long", path, lineno);
			goto out;
		}
		key = trim(line);
		if (*key == '\0' || *key == '#')
			continue;
		eq = strchr(key, '=');
		if (eq == NULL) {
			cli_error_set(err, CLI_EXIT_USAGE,
			    "'%s' line %d: expected 'key = value'", path,
			    lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(key);
		value = trim(eq + 1);
		if (strcasecmp(key, "url") == 0) {
			slot = url;
		} else if (strcasecmp(key, "token") == 0) {
			slot = token;
			has_token = *value != '\0';
		} else {
			continue;
		}
		if (*slot != NULL || *value == '\0')
			continue;
		*slot = strdup(value);
		if (*slot == NULL) {
			cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
			goto out;
		}
	}
	if (ferror(fp)) {
		cli_error_set(err, CLI_EXIT_USAGE, "cannot read '%s': %s", path,
		    strerror(errno));
		goto out;
	}
	/* A token is a password: say so when others can read it (ssh
	 * refuses such a key; a warning is kinder for a first release). */
	if (has_token && fstat(fileno(fp), &st) == 0 &&
	    (st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		cli_warnf(ctx, "'%s' holds a token and others may read it: "
		    "run 'chmod 600 %s'", path, path);
	rc = 0;
out:
	fclose(fp);
	return rc;
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

static int
url_check(struct cli_ctx *ctx, char *url, const char *source,
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

int
cli_opts_resolve(struct cli_ctx *ctx, struct cli_error *err)
{
	const char *url_source = "--url";
	char *url = NULL, *token = NULL, *path = NULL;
	int rc = -1;

	if (ctx->resolved)
		return 0;
	if (take(ctx->url_flag, "CERTRACK_URL", &url, &url_source, err) != 0 ||
	    take(ctx->token_flag, "CERTRACK_TOKEN", &token, NULL, err) != 0)
		goto out;
	/* The file is read only when something is still missing, so a
	 * broken file does not stand in the way of flags that say it all. */
	if (url == NULL || token == NULL) {
		char *had_url = url;

		if (cli_config_path(&path, err) != 0) {
			/* No HOME: no file, so the defaults apply. */
			free(path);
			path = NULL;
		} else if (config_read(ctx, path, &url, &token, err) != 0) {
			goto out;
		}
		if (url != had_url)
			url_source = path;
	}
	if (url == NULL) {
		url = strdup(CLI_DEFAULT_URL);
		url_source = "the default";
		if (url == NULL) {
			cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
			goto out;
		}
	}
	if (url_check(ctx, url, url_source, err) != 0)
		goto out;
	free(ctx->cacert);
	ctx->cacert = NULL;
	if (take(ctx->cacert_flag, "CERTRACK_CACERT", &ctx->cacert, NULL,
	    err) != 0)
		goto out;
	free(ctx->url);
	free(ctx->token);
	free(ctx->config_path);
	ctx->url = url;
	ctx->token = token;
	ctx->config_path = path;
	url = token = path = NULL;
	ctx->resolved = true;
	rc = 0;
out:
	free(url);
	free(token);
	free(path);
	return rc;
}
