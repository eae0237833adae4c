#include "certrack/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "certrack/strnum.h"

enum kind { K_STRING, K_INT, K_BYTES, K_LEVEL, K_LISTEN, K_OPTSTRING,
    K_BOOL, K_CLOCK };

struct setting {
	const char *key;
	enum kind kind;
	size_t off;
	long long min, max;
};

#define OFF(f) offsetof(struct config, f)
static const struct setting settings[] = {
	{ "database_url", K_STRING, OFF(database_url), 0, 0 },
	{ "listen", K_LISTEN, 0, 0, 0 },
	{ "threads", K_INT, OFF(threads), 1, 256 },
	{ "max_connections", K_INT, OFF(max_connections), 1, 10000 },
	{ "log_level", K_LEVEL, OFF(log_level), 0, 0 },
	{ "max_body_bytes", K_BYTES, OFF(max_body_bytes), 1024,
	  1024LL * 1024 * 1024 },
	{ "import_max_bytes", K_BYTES, OFF(import_max_bytes), 1024,
	  64LL * 1024 * 1024 * 1024 },
	{ "token_ttl_hours", K_INT, OFF(token_ttl_hours), 1, 24 * 366 },
	{ "shutdown_timeout", K_INT, OFF(shutdown_timeout), 0, 3600 },
	{ "migrations_dir", K_OPTSTRING, OFF(migrations_dir), 0, 0 },
	{ "tls_cert", K_OPTSTRING, OFF(tls_cert), 0, 0 },
	{ "tls_key", K_OPTSTRING, OFF(tls_key), 0, 0 },
	{ "insecure_http", K_BOOL, OFF(insecure_http), 0, 0 },
	/* bounds on what a client may make us hold (http.c) */
	{ "max_connections_per_address", K_INT,
	  OFF(max_connections_per_address), 1, 10000 },
	{ "header_timeout", K_INT, OFF(header_timeout), 1, 3600 },
	{ "body_timeout", K_INT, OFF(body_timeout), 1, 3600 },
	{ "import_body_timeout", K_INT, OFF(import_body_timeout), 10, 86400 },
	{ "max_body_memory", K_BYTES, OFF(max_body_memory), 1024LL * 1024,
	  64LL * 1024 * 1024 * 1024 },
	{ "max_imports", K_INT, OFF(max_imports), 1, 1000 },
	{ "max_imports_per_user", K_INT, OFF(max_imports_per_user), 1, 1000 },
	{ "tls_priorities", K_OPTSTRING, OFF(tls_priorities), 0, 0 },
	/* logins */
	{ "password_hash_slots", K_INT, OFF(password_hash_slots), 0, 256 },
	{ "password_hash_queue", K_INT, OFF(password_hash_queue), 0, 10000 },
	{ "password_dictionary", K_OPTSTRING, OFF(password_dictionary), 0, 0 },
	{ "login_max_failures", K_INT, OFF(login_max_failures), 1, 1000 },
	{ "login_max_failures_per_address", K_INT,
	  OFF(login_max_failures_per_address), 1, 100000 },
	{ "login_lock_seconds", K_INT, OFF(login_lock_seconds), 1, 86400 },
	{ "login_lock_max_seconds", K_INT, OFF(login_lock_max_seconds), 1,
	  7 * 86400 },
	{ "login_failure_window_seconds", K_INT,
	  OFF(login_failure_window_seconds), 1, 30 * 86400 },
	{ "max_tokens_per_user", K_INT, OFF(max_tokens_per_user), 1, 10000 },
	/* database time bounds (server/db.c) */
	{ "db_statement_timeout_ms", K_INT, OFF(db_statement_timeout_ms),
	  100, 3600000 },
	{ "db_lock_timeout_ms", K_INT, OFF(db_lock_timeout_ms), 0, 3600000 },
	{ "db_pool_wait_ms", K_INT, OFF(db_pool_wait_ms), 0, 600000 },
	{ "db_readyz_timeout_ms", K_INT, OFF(db_readyz_timeout_ms), 100,
	  60000 },
	{ "db_import_statement_timeout_ms", K_INT,
	  OFF(db_import_statement_timeout_ms), 0, 86400000 },
	/* notifications (server/notify.c) */
	{ "smtp_url", K_OPTSTRING, OFF(smtp_url), 0, 0 },
	{ "smtp_from", K_OPTSTRING, OFF(smtp_from), 0, 0 },
	{ "smtp_starttls", K_BOOL, OFF(smtp_starttls), 0, 0 },
	{ "smtp_user", K_OPTSTRING, OFF(smtp_user), 0, 0 },
	{ "smtp_password", K_OPTSTRING, OFF(smtp_password), 0, 0 },
	{ "notify_enabled", K_BOOL, OFF(notify_enabled), 0, 0 },
	{ "notify_poll_ms", K_INT, OFF(notify_poll_ms), 50, 600000 },
	{ "notify_max_concurrent", K_INT, OFF(notify_max_concurrent), 1, 64 },
	{ "notify_timeout_ms", K_INT, OFF(notify_timeout_ms), 100, 300000 },
	{ "notify_max_response_bytes", K_BYTES, OFF(notify_max_response_bytes),
	  1024, 16LL * 1024 * 1024 },
	{ "notify_max_attempts", K_INT, OFF(notify_max_attempts), 1, 100 },
	{ "notify_retry_base_ms", K_INT, OFF(notify_retry_base_ms), 100,
	  86400000 },
	{ "notify_retry_max_ms", K_INT, OFF(notify_retry_max_ms), 100,
	  7 * 86400000 },
	{ "notify_disable_after", K_INT, OFF(notify_disable_after), 1, 100000 },
	{ "notify_allow_private", K_BOOL, OFF(notify_allow_private), 0, 0 },
	{ "notify_sweep_at", K_CLOCK, OFF(notify_sweep_at), 0, 0 },
	/* the web pages (server/web.c) */
	{ "public_url", K_OPTSTRING, OFF(public_url), 0, 0 },
	/* the lookup cache */
	{ "cache_entries", K_INT, OFF(cache_entries), 0, 10000000 },
};
#define NSETTINGS (sizeof(settings) / sizeof(settings[0]))

const char *
config_key_at(size_t i)
{
	return i < NSETTINGS ? settings[i].key : NULL;
}

void
config_init(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->database_url = strdup("dbname=certrack");
	cfg->listen_host = strdup("127.0.0.1");
	cfg->listen_port = 8080;
	cfg->threads = 4;
	cfg->max_connections = 512;
	cfg->log_level = LOG_INFO;
	cfg->max_body_bytes = 64 * 1024;
	cfg->import_max_bytes = 1024LL * 1024 * 1024;
	cfg->token_ttl_hours = 12;
	cfg->shutdown_timeout = 30;
	cfg->migrations_dir = NULL;
	cfg->max_connections_per_address = 64;
	cfg->header_timeout = 10;
	cfg->body_timeout = 30;
	cfg->import_body_timeout = 900;
	cfg->max_body_memory = 64LL * 1024 * 1024;
	cfg->max_imports = 4;
	cfg->max_imports_per_user = 2;
	/* logins */
	cfg->password_hash_slots = 0;
	cfg->password_hash_queue = 32;
	cfg->login_max_failures = 5;
	cfg->login_max_failures_per_address = 20;
	cfg->login_lock_seconds = 1;
	cfg->login_lock_max_seconds = 900;
	cfg->login_failure_window_seconds = 3600;
	cfg->max_tokens_per_user = 20;
	cfg->db_statement_timeout_ms = CONFIG_DB_STATEMENT_MS;
	cfg->db_lock_timeout_ms = CONFIG_DB_LOCK_MS;
	cfg->db_pool_wait_ms = CONFIG_DB_POOL_WAIT_MS;
	cfg->db_readyz_timeout_ms = CONFIG_DB_READY_MS;
	cfg->db_import_statement_timeout_ms = CONFIG_DB_IMPORT_STATEMENT_MS;
	/* notifications */
	cfg->notify_enabled = true;
	cfg->notify_poll_ms = 1000;
	cfg->notify_max_concurrent = 4;
	cfg->notify_timeout_ms = 10000;
	cfg->notify_max_response_bytes = 64 * 1024;
	cfg->notify_max_attempts = 8;
	cfg->notify_retry_base_ms = 60000;
	cfg->notify_retry_max_ms = 6 * 3600 * 1000;
	cfg->notify_disable_after = 20;
	cfg->notify_sweep_at = strdup("02:00");
	cfg->cache_entries = 10000;
}

void
config_release(struct config *cfg)
{
	free(cfg->database_url);
	free(cfg->listen_host);
	free(cfg->migrations_dir);
	free(cfg->tls_cert);
	free(cfg->tls_key);
	free(cfg->tls_priorities);
	free(cfg->password_dictionary);
	free(cfg->smtp_url);
	free(cfg->smtp_from);
	free(cfg->smtp_user);
	free(cfg->smtp_password);
	free(cfg->notify_sweep_at);
	free(cfg->public_url);
	memset(cfg, 0, sizeof(*cfg));
}

int
config_parse_listen(const char *s, char **host, int *port, char *errbuf,
    size_t errlen)
{
	const char *colon, *h = s;
	size_t hlen;
	int p;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (close == NULL || close[1] != ':') {
			snprintf(errbuf, errlen, "'%s' is not [address]:port", s);
			return -1;
		}
		h = s + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s))) {
			snprintf(errbuf, errlen,
			    "'%s' is not address:port (write IPv6 as [::1]:8080)",
			    s);
			return -1;
		}
		hlen = (size_t)(colon - s);
	}
	if (strnum_int(colon + 1, 0, 65535, &p, NULL) != 0) {
		snprintf(errbuf, errlen, "'%s': port '%s' is not a number "
		    "between 0 and 65535", s, colon + 1);
		return -1;
	}
	*host = hlen == 0 ? strdup("127.0.0.1") : strndup(h, hlen);
	*port = p;
	return *host == NULL ? -1 : 0;
}

/* "16M", "512k", "1048576", "1G" -> bytes */
static int
parse_bytes(const char *s, long long min, long long max, long long *out)
{
	char num[32];
	size_t n = strlen(s);
	long long mult = 1, v;

	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, s, n + 1);
	switch (toupper((unsigned char)num[n - 1])) {
	case 'K': mult = 1024; break;
	case 'M': mult = 1024 * 1024; break;
	case 'G': mult = 1024 * 1024 * 1024; break;
	}
	if (mult != 1)
		num[n - 1] = '\0';
	if (strnum_ll(num, 0, max / mult, &v, NULL) != 0)
		return -1;
	v *= mult;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
config_set(struct config *cfg, const char *key, const char *value,
    char *errbuf, size_t errlen)
{
	const struct setting *st = NULL;
	char *base = (char *)cfg;

	for (size_t i = 0; i < NSETTINGS; i++)
		if (strcmp(settings[i].key, key) == 0)
			st = &settings[i];
	if (st == NULL) {
		snprintf(errbuf, errlen, "unknown setting '%s'", key);
		return -1;
	}
	switch (st->kind) {
	case K_STRING:
	case K_OPTSTRING: {
		char **slot = (char **)(base + st->off);
		if (st->kind == K_STRING && value[0] == '\0') {
			snprintf(errbuf, errlen, "%s: must not be empty", key);
			return -1;
		}
		char *copy = value[0] ? strdup(value) : NULL;
		if (value[0] && copy == NULL) {
			snprintf(errbuf, errlen, "%s: out of memory", key);
			return -1;
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	case K_INT:
		if (strnum_int(value, (int)st->min, (int)st->max,
		    (int *)(base + st->off), NULL) != 0) {
			snprintf(errbuf, errlen, "%s: '%s' is not a whole number "
			    "between %lld and %lld", key, value, st->min, st->max);
			return -1;
		}
		return 0;
	case K_BYTES:
		if (parse_bytes(value, st->min, st->max,
		    (long long *)(base + st->off)) != 0) {
			snprintf(errbuf, errlen, "%s: '%s' is not a size between "
			    "1K and %lldG (a number of bytes, or with K, M or "
			    "G)", key, value, st->max >> 30);
			return -1;
		}
		return 0;
	case K_LEVEL:
		if (log_parse_level(value, &cfg->log_level) != 0) {
			snprintf(errbuf, errlen, "%s: '%s' is not one of debug, "
			    "info, warn, error", key, value);
			return -1;
		}
		return 0;
	case K_BOOL:
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
		    strcmp(value, "on") == 0 || strcmp(value, "1") == 0) {
			*(bool *)(base + st->off) = true;
		} else if (strcmp(value, "false") == 0 ||
		    strcmp(value, "no") == 0 || strcmp(value, "off") == 0 ||
		    strcmp(value, "0") == 0) {
			*(bool *)(base + st->off) = false;
		} else {
			snprintf(errbuf, errlen, "%s: '%s' is not true or false",
			    key, value);
			return -1;
		}
		return 0;
	case K_CLOCK: {
		/* "HH:MM", 00:00 to 23:59 */
		char **slot = (char **)(base + st->off), *copy;
		int hh, mm;
		if (strlen(value) != 5 || value[2] != ':' ||
		    !isdigit((unsigned char)value[0]) ||
		    !isdigit((unsigned char)value[1]) ||
		    !isdigit((unsigned char)value[3]) ||
		    !isdigit((unsigned char)value[4]) ||
		    (hh = (value[0] - '0') * 10 + value[1] - '0') > 23 ||
		    (mm = (value[3] - '0') * 10 + value[4] - '0') > 59) {
			snprintf(errbuf, errlen, "%s: '%s' is not a time of day "
			    "HH:MM (00:00 to 23:59)", key, value);
			return -1;
		}
		(void)mm;
		if ((copy = strdup(value)) == NULL) {
			snprintf(errbuf, errlen, "%s: out of memory", key);
			return -1;
		}
		free(*slot);
		*slot = copy;
		return 0;
	}
	case K_LISTEN: {
		char *host, msg[200];
		int port;
		if (config_parse_listen(value, &host, &port, msg,
		    sizeof(msg)) != 0) {
			snprintf(errbuf, errlen, "%s: %s", key, msg);
			return -1;
		}
		free(cfg->listen_host);
		cfg->listen_host = host;
		cfg->listen_port = port;
		return 0;
	}
	}
	return -1;
}

static char *
trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void
reportf(config_report_fn report, void *arg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
reportf(config_report_fn report, void *arg, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (report != NULL)
		report(arg, msg);
}

/* Reads the settings file's lines from FP, named PATH in reports, and
 * closes it; FP NULL: it could not be opened (errno says why). */
static int
load_stream(struct config *cfg, const char *path, FILE *fp,
    config_report_fn report, void *arg)
{
	char *line = NULL, errbuf[400];
	size_t cap = 0;
	int lineno = 0, mistakes = 0;

	if (fp == NULL) {
		reportf(report, arg, "cannot open '%s': %s", path,
		    strerror(errno));
		return 1;
	}
	while (getline(&line, &cap, fp) != -1) {
		char *s, *eq, *key, *value;

		lineno++;
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (eq == NULL) {
			reportf(report, arg, "%s:%d: expected 'setting = value', "
			    "got '%s'", path, lineno, s);
			mistakes++;
			continue;
		}
		*eq = '\0';
		key = trim(s);
		value = trim(eq + 1);
		/* A value may be quoted to keep blanks or a '#'; after it, or
		 * after an unquoted value, a '#' starts a comment. */
		if (value[0] == '"') {
			char *close = strchr(value + 1, '"');
			char *rest = close ? trim(close + 1) : NULL;
			if (close == NULL || (*rest != '\0' && *rest != '#')) {
				reportf(report, arg, "%s:%d: %s: unbalanced "
				    "quotes in '%s'", path, lineno, key, value);
				mistakes++;
				continue;
			}
			*close = '\0';
			value++;
		} else {
			value[strcspn(value, "#")] = '\0';
			value = trim(value);
		}
		if (config_set(cfg, key, value, errbuf, sizeof(errbuf)) != 0) {
			reportf(report, arg, "%s:%d: %s", path, lineno, errbuf);
			mistakes++;
		}
	}
	if (ferror(fp)) {
		reportf(report, arg, "cannot read '%s': %s", path,
		    strerror(errno));
		mistakes++;
	}
	free(line);
	fclose(fp);
	return mistakes;
}

int
config_load_file(struct config *cfg, const char *path,
    config_report_fn report, void *arg)
{
	return load_stream(cfg, path, fopen(path, "r"), report, arg);
}

int
config_load_text(struct config *cfg, const char *name, const char *text,
    size_t len, config_report_fn report, void *arg)
{
	if (len == 0)
		return 0;
	/* The file's reader, line for line, over memory. */
	return load_stream(cfg, name, fmemopen((void *)text, len, "r"),
	    report, arg);
}

int
config_load_env(struct config *cfg, config_report_fn report, void *arg)
{
	char name[64], errbuf[400];
	int mistakes = 0;

	for (size_t i = 0; i < NSETTINGS; i++) {
		const char *v;
		size_t j;

		snprintf(name, sizeof(name), "CERTRACK_%s", settings[i].key);
		for (j = 9; name[j] != '\0'; j++)
			name[j] = (char)toupper((unsigned char)name[j]);
		v = getenv(name);
		if (v == NULL)
			continue;
		if (config_set(cfg, settings[i].key, v, errbuf,
		    sizeof(errbuf)) != 0) {
			reportf(report, arg, "%s: %s", name, errbuf);
			mistakes++;
		}
	}
	return mistakes;
}

bool
config_is_loopback(const char *host)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, host, a) == 1)
		return a[0] == 127;
	if (inet_pton(AF_INET6, host, a) == 1) {
		static const unsigned char one[16] = { [15] = 1 };
		static const unsigned char v4map[12] = { [10] = 0xff,
		    [11] = 0xff };
		return memcmp(a, one, 16) == 0 ||
		    (memcmp(a, v4map, 12) == 0 && a[12] == 127);
	}
	return false;
}

int
config_check(const struct config *cfg, config_report_fn report, void *arg)
{
	int mistakes = 0;

	if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL)) {
		reportf(report, arg, "tls_cert and tls_key go together: give "
		    "both files, or neither");
		mistakes++;
	}
	const char *files[2] = { cfg->tls_cert, cfg->tls_key };
	for (int i = 0; i < 2; i++) {
		if (files[i] != NULL && access(files[i], R_OK) != 0) {
			reportf(report, arg, "%s: cannot read '%s': %s",
			    i == 0 ? "tls_cert" : "tls_key", files[i],
			    strerror(errno));
			mistakes++;
		}
	}
	if (cfg->tls_cert == NULL && !cfg->insecure_http &&
	    !config_is_loopback(cfg->listen_host)) {
		reportf(report, arg, "listen: refusing plain HTTP on %s: "
		    "passwords and tokens would cross the network unencrypted; "
		    "give tls_cert and tls_key, or set insecure_http = true "
		    "(behind a TLS-terminating proxy)", cfg->listen_host);
		mistakes++;
	}
	/* the web pages' links and QR codes begin with it */
	if (cfg->public_url != NULL &&
	    ((strncmp(cfg->public_url, "http://", 7) != 0 &&
	    strncmp(cfg->public_url, "https://", 8) != 0) ||
	    strpbrk(cfg->public_url, " \t\"'<>?#") != NULL ||
	    strlen(cfg->public_url) > 200)) {
		reportf(report, arg, "public_url: '%.200s' is not an http:// or "
		    "https:// address without a query (at most 200 "
		    "characters)", cfg->public_url);
		mistakes++;
	}
	if (cfg->max_body_bytes > cfg->max_body_memory) {
		reportf(report, arg, "max_body_bytes: %lld is more than "
		    "max_body_memory (%lld), so no body that large could ever "
		    "be held", cfg->max_body_bytes, cfg->max_body_memory);
		mistakes++;
	}
	if (cfg->max_connections_per_address > cfg->max_connections) {
		reportf(report, arg, "max_connections_per_address: %d is more "
		    "than max_connections (%d)",
		    cfg->max_connections_per_address, cfg->max_connections);
		mistakes++;
	}
	if (cfg->max_imports_per_user > cfg->max_imports) {
		reportf(report, arg, "max_imports_per_user: %d is more than "
		    "max_imports (%d)", cfg->max_imports_per_user,
		    cfg->max_imports);
		mistakes++;
	}
	/* logins: a lock that outlives the memory of its failures would
	 * start over at the first lock's length */
	if (cfg->login_failure_window_seconds < cfg->login_lock_max_seconds) {
		reportf(report, arg, "login_failure_window_seconds (%d) must be "
		    "at least login_lock_max_seconds (%d)",
		    cfg->login_failure_window_seconds,
		    cfg->login_lock_max_seconds);
		mistakes++;
	}
	/* notifications: an SMTP relay needs a sender, and is smtp(s) */
	if (cfg->smtp_url != NULL && cfg->smtp_from == NULL) {
		reportf(report, arg, "smtp_url is set but smtp_from is not: "
		    "emails need a sender address");
		mistakes++;
	}
	if (cfg->smtp_url != NULL && strncasecmp(cfg->smtp_url, "smtp://", 7)
	    != 0 && strncasecmp(cfg->smtp_url, "smtps://", 8) != 0) {
		reportf(report, arg, "smtp_url: '%s' is not smtp://HOST[:PORT] "
		    "or smtps://HOST[:PORT]", cfg->smtp_url);
		mistakes++;
	}
	if (cfg->notify_retry_max_ms < cfg->notify_retry_base_ms) {
		reportf(report, arg, "notify_retry_max_ms (%d) must be at "
		    "least notify_retry_base_ms (%d)", cfg->notify_retry_max_ms,
		    cfg->notify_retry_base_ms);
		mistakes++;
	}
	return mistakes;
}
