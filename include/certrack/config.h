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

/* The database time bounds' defaults, in ms (db.c holds them until told). */
#define CONFIG_DB_STATEMENT_MS 5000
#define CONFIG_DB_LOCK_MS 2000
#define CONFIG_DB_POOL_WAIT_MS 5000
#define CONFIG_DB_READY_MS 2000
#define CONFIG_DB_IMPORT_STATEMENT_MS 0	/* none */

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

	/* bounds on what a client may make us hold (http.c) */
	int max_connections_per_address;
	int header_timeout;	/* seconds to send a request's headers */
	int body_timeout;	/* seconds to send a JSON body / read an answer */
	int import_body_timeout;	/* seconds to send an import's file */
	long long max_body_memory;	/* JSON bodies in flight, in all */
	int max_imports;	/* imports running at once, in all */
	int max_imports_per_user;	/* ... and per account */
	char *tls_priorities;	/* GnuTLS priority string, or NULL */
	/* logins (docs/configuration.md, "Logins and passwords") */
	int password_hash_slots;	/* hashes at once; 0: online cores */
	int password_hash_queue;	/* callers waiting for a slot */
	char *password_dictionary;	/* cracklib dictionary; NULL: default */
	int login_max_failures;		/* per account name, before a lock */
	int login_max_failures_per_address;	/* per client address */
	int login_lock_seconds;		/* the first lock; doubles after */
	int login_lock_max_seconds;	/* the longest lock */
	int login_failure_window_seconds;	/* failures forgotten after */
	int max_tokens_per_user;	/* live tokens per account */
	/* database time bounds, in milliseconds (docs/configuration.md) */
	int db_statement_timeout_ms;	/* a request's statement */
	int db_lock_timeout_ms;		/* a request's wait for a lock; 0 none */
	int db_pool_wait_ms;		/* wait for a pooled connection */
	int db_readyz_timeout_ms;	/* /readyz's whole check */
	int db_import_statement_timeout_ms;	/* an import's; 0 none */
	/* notifications (docs/notifications.md, server/notify.c) */
	char *smtp_url;		/* smtp://host:port or smtps://; NULL: no email */
	char *smtp_from;	/* the envelope and From: address */
	bool smtp_starttls;	/* require STARTTLS on smtp:// */
	char *smtp_user;	/* SMTP AUTH, or NULL */
	char *smtp_password;
	bool notify_enabled;	/* run the delivery worker and the sweep */
	int notify_poll_ms;	/* look for due deliveries this often */
	int notify_max_concurrent;	/* deliveries in flight at once */
	int notify_timeout_ms;	/* one delivery, connect to answer */
	long long notify_max_response_bytes;	/* read of an answer */
	int notify_max_attempts;	/* per delivery, then failed */
	int notify_retry_base_ms;	/* first retry; doubles after */
	int notify_retry_max_ms;	/* longest wait between retries */
	int notify_disable_after;	/* consecutive failures of an endpoint */
	bool notify_allow_private;	/* webhooks to private addresses */
	char *notify_sweep_at;	/* "HH:MM", the database's time zone */
	/* the web pages: the address people reach them by, for links and
	 * QR codes; NULL: http://LISTEN */
	char *public_url;
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

/*
 * The same as config_load_file() for a file's text TEXT[0..LEN) already in
 * memory (NUL bytes included), reported as NAME:LINE.  Returns the number
 * of mistakes.
 */
int config_load_text(struct config *cfg, const char *name, const char *text,
    size_t len, config_report_fn report, void *arg);

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
