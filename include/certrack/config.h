#ifndef CERTRACK_CONFIG_H
#define CERTRACK_CONFIG_H
/*
 * certrackd's settings.  Sources, later ones winning: built-in defaults, the
 * file (`key = value` lines, '#' comments), CERTRACK_<KEY> environment
 * variables, then command-line flags (which call config_set()).
 */
#include <stdbool.h>
#include <stddef.h>

#include "certrack/log.h"

struct config {
	char *database_url;	/* libpq conninfo or URI */
	char *listen_host;	/* "127.0.0.1", "::1", ... */
	int listen_port;	/* 0..65535; 0 picks a free port */
	int threads;		/* database connections shared by requests */
	int max_connections;	/* HTTP connections served at once */
	enum log_level log_level;
	long long max_body_bytes;	/* largest JSON request body */
	long long import_max_bytes;	/* largest CSV import */
	int token_ttl_hours;	/* login token lifetime */
	int shutdown_timeout;	/* seconds to let requests finish */
	char *migrations_dir;	/* NULL: the compiled-in migrations */
	char *tls_cert;		/* PEM certificate chain, or NULL */
	char *tls_key;		/* PEM private key, or NULL */
	bool insecure_http;	/* plain HTTP off loopback allowed */
	/* the lookup cache (cache.c) */
	int cache_entries;	/* answers kept at most; 0: no cache */
};

/* Reports one mistake; MSG is "where: setting: what is wrong". */
typedef void (*config_report_fn)(void *arg, const char *msg);

/* Fills CFG with the defaults; config_release() frees its strings. */
void config_init(struct config *cfg);
void config_release(struct config *cfg);

/*
 * Sets setting KEY from its text VALUE.  Returns 0, or -1 with a message
 * ("threads: 'abc' is not a whole number between 1 and 256") in ERRBUF.
 */
int config_set(struct config *cfg, const char *key, const char *value,
    char *errbuf, size_t errlen);

/*
 * Reads PATH.  Every mistake in it (syntax, unknown setting, bad value) is
 * reported with "PATH:LINE: ", an unreadable file as "cannot open 'PATH':
 * why"; returns the number of mistakes.
 */
int config_load_file(struct config *cfg, const char *path,
    config_report_fn report, void *arg);

/* Applies every CERTRACK_<KEY> variable that is set; returns mistakes. */
int config_load_env(struct config *cfg, config_report_fn report, void *arg);

/*
 * Splits "host:port", "[v6]:port" or ":port" (host 127.0.0.1).  Returns 0
 * with *HOST malloc'ed (caller frees), or -1 with a message in ERRBUF.
 */
int config_parse_listen(const char *s, char **host, int *port, char *errbuf,
    size_t errlen);

/*
 * Checks the settings together (one alone may be fine, the pair not): TLS
 * needs both files; plain HTTP off loopback needs insecure_http.  Reports
 * each mistake; returns their number.
 */
int config_check(const struct config *cfg, config_report_fn report,
    void *arg);

/* True when HOST is a loopback address (127.0.0.0/8, ::1). */
bool config_is_loopback(const char *host);

/* The Ith setting's name, or NULL past the last (for --help and docs). */
const char *config_key_at(size_t i);

#endif
