#include "certrack/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certrack/strnum.h"

enum kind { K_STRING, K_INT, K_BYTES, K_LEVEL, K_LISTEN, K_OPTSTRING,
    K_BOOL };

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
	cfg->max_body_bytes = 1024 * 1024;
	cfg->import_max_bytes = 1024LL * 1024 * 1024;
	cfg->token_ttl_hours = 12;
	cfg->shutdown_timeout = 30;
	cfg->migrations_dir = NULL;
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

int
config_load_file(struct config *cfg, const char *path,
    config_report_fn report, void *arg)
{
	FILE *fp;
	char *line = NULL, errbuf[400];
	size_t cap = 0;
	int lineno = 0, mistakes = 0;

	fp = fopen(path, "r");
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
	return mistakes;
}
