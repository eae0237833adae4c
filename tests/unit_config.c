/*
 * Unit tests of server/config.c: defaults, every setting through
 * config_set(), listen and size parsing, the file loader and the
 * environment loader.  No database.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "certrack/config.h"
#include "certrack/log.h"

/* ---- helpers -------------------------------------------------------- */

#define MAX_REPORTS 16

/* Collects what a loader reports. */
struct reports {
	int n;
	char msg[MAX_REPORTS][700];
};

static void
collect(void *arg, const char *msg)
{
	struct reports *r = arg;

	assert_non_null(msg);
	if (r->n < MAX_REPORTS)
		snprintf(r->msg[r->n], sizeof(r->msg[0]), "%s", msg);
	r->n++;
}

static bool
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Asserts config_set(KEY, VALUE) succeeds. */
static void
set_ok(struct config *cfg, const char *key, const char *value)
{
	char err[400] = "";

	if (config_set(cfg, key, value, err, sizeof(err)) != 0)
		fail_msg("config_set(%s, '%s') failed: %s", key, value, err);
}

/* Asserts config_set(KEY, VALUE) fails with exactly MSG. */
static void
set_bad(struct config *cfg, const char *key, const char *value,
    const char *msg)
{
	char err[400] = "";

	if (config_set(cfg, key, value, err, sizeof(err)) != -1)
		fail_msg("config_set(%s, '%s') accepted it", key, value);
	if (strcmp(err, msg) != 0)
		fail_msg("config_set(%s, '%s'):\n  got      \"%s\"\n"
		    "  expected \"%s\"", key, value, err, msg);
}

/* Writes TEXT to a new temporary file named into PATH; returns PATH. */
static const char *
write_temp(char path[], size_t len, const char *text)
{
	FILE *fp;
	int fd;

	snprintf(path, len, "/tmp/unit_config.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return path;
}

/* Unsets every CERTRACK_<KEY> variable the loader looks at. */
static void
clear_env(void)
{
	char name[64];

	for (size_t i = 0; config_key_at(i) != NULL; i++) {
		snprintf(name, sizeof(name), "CERTRACK_%s", config_key_at(i));
		for (char *p = name; *p != '\0'; p++)
			if (*p >= 'a' && *p <= 'z')
				*p = (char)(*p - 'a' + 'A');
		unsetenv(name);
	}
}

/* ---- defaults and keys ---------------------------------------------- */

static void
test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_string_equal(cfg.database_url, "dbname=certrack");
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8080);
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.max_connections, 512);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.max_body_bytes, 64 * 1024);
	assert_int_equal(cfg.max_body_memory, 64 * 1024 * 1024);
	assert_int_equal(cfg.max_connections_per_address, 64);
	assert_int_equal(cfg.header_timeout, 10);
	assert_int_equal(cfg.body_timeout, 30);
	assert_int_equal(cfg.import_body_timeout, 900);
	assert_int_equal(cfg.max_imports, 4);
	assert_int_equal(cfg.max_imports_per_user, 2);
	assert_null(cfg.tls_priorities);
	assert_int_equal(cfg.token_ttl_hours, 12);
	assert_int_equal(cfg.shutdown_timeout, 30);
	assert_null(cfg.migrations_dir);
	config_release(&cfg);
	assert_null(cfg.database_url);
	assert_null(cfg.listen_host);
}

static void
test_key_at(void **state)
{
	static const char *const want[] = {
		"database_url", "listen", "threads", "max_connections",
		"log_level",
		"max_body_bytes", "import_max_bytes", "token_ttl_hours",
		"shutdown_timeout",
		"migrations_dir", "tls_cert", "tls_key", "insecure_http",
		"max_connections_per_address", "header_timeout",
		"body_timeout", "import_body_timeout", "max_body_memory",
		"max_imports", "max_imports_per_user", "tls_priorities",
		/* logins */
		"password_hash_slots", "password_hash_queue",
		"password_dictionary", "login_max_failures",
		"login_max_failures_per_address", "login_lock_seconds",
		"login_lock_max_seconds", "login_failure_window_seconds",
		"max_tokens_per_user",
		"db_statement_timeout_ms", "db_lock_timeout_ms",
		"db_pool_wait_ms", "db_readyz_timeout_ms",
		"db_import_statement_timeout_ms",
		/* notifications */
		"smtp_url", "smtp_from", "smtp_starttls", "smtp_user",
		"smtp_password", "notify_enabled", "notify_poll_ms",
		"notify_max_concurrent", "notify_timeout_ms",
		"notify_max_response_bytes", "notify_max_attempts",
		"notify_retry_base_ms", "notify_retry_max_ms",
		"notify_disable_after", "notify_allow_private",
		"notify_sweep_at",
		"public_url",
		"cache_entries",
	};
	size_t n = sizeof(want) / sizeof(want[0]);

	(void)state;
	for (size_t i = 0; i < n; i++) {
		assert_non_null(config_key_at(i));
		assert_string_equal(config_key_at(i), want[i]);
	}
	assert_null(config_key_at(n));
	assert_null(config_key_at((size_t)-1));
}

/* The database time bounds: defaults, and each range on its edges. */
static void
test_db_time_bounds(void **state)
{
	static const struct {
		const char *key;
		const char *low_bad, *low_ok, *high_ok, *high_bad;
	} t[] = {
		{ "db_statement_timeout_ms", "99", "100", "3600000", "3600001" },
		{ "db_lock_timeout_ms", "-1", "0", "3600000", "3600001" },
		{ "db_pool_wait_ms", "-1", "0", "600000", "600001" },
		{ "db_readyz_timeout_ms", "99", "100", "60000", "60001" },
		{ "db_import_statement_timeout_ms", "-1", "0", "86400000",
		  "86400001" },
	};
	struct config cfg;
	char errbuf[200];

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.db_statement_timeout_ms, 5000);
	assert_int_equal(cfg.db_lock_timeout_ms, 2000);
	assert_int_equal(cfg.db_pool_wait_ms, 5000);
	assert_int_equal(cfg.db_readyz_timeout_ms, 2000);
	assert_int_equal(cfg.db_import_statement_timeout_ms, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(config_set(&cfg, t[i].key, t[i].low_bad,
		    errbuf, sizeof(errbuf)), -1);
		assert_non_null(strstr(errbuf, t[i].key));
		assert_int_equal(config_set(&cfg, t[i].key, t[i].low_ok,
		    errbuf, sizeof(errbuf)), 0);
		assert_int_equal(config_set(&cfg, t[i].key, t[i].high_ok,
		    errbuf, sizeof(errbuf)), 0);
		assert_int_equal(config_set(&cfg, t[i].key, t[i].high_bad,
		    errbuf, sizeof(errbuf)), -1);
		assert_int_equal(config_set(&cfg, t[i].key, "2s", errbuf,
		    sizeof(errbuf)), -1);
	}
	assert_int_equal(cfg.db_statement_timeout_ms, 3600000);
	assert_int_equal(cfg.db_readyz_timeout_ms, 60000);
	config_release(&cfg);
}

/* ---- config_set, one setting at a time ------------------------------ */

static void
test_set_unknown(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	set_bad(&cfg, "nope", "1", "unknown setting 'nope'");
	set_bad(&cfg, "Threads", "4", "unknown setting 'Threads'");
	set_bad(&cfg, "", "4", "unknown setting ''");
	config_release(&cfg);
}

static void
test_set_database_url(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "database_url", "host=/tmp dbname=x");
	assert_string_equal(cfg.database_url, "host=/tmp dbname=x");
	set_ok(&cfg, "database_url", "postgresql://u@db/certrack");
	assert_string_equal(cfg.database_url, "postgresql://u@db/certrack");
	set_bad(&cfg, "database_url", "", "database_url: must not be empty");
	assert_string_equal(cfg.database_url, "postgresql://u@db/certrack");
	config_release(&cfg);
}

static void
test_set_migrations_dir(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "migrations_dir", "/usr/share/certrack/sql");
	assert_string_equal(cfg.migrations_dir, "/usr/share/certrack/sql");
	/* empty means "back to the compiled-in migrations" */
	set_ok(&cfg, "migrations_dir", "");
	assert_null(cfg.migrations_dir);
	config_release(&cfg);
}

static void
test_set_threads(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "threads", "1");
	assert_int_equal(cfg.threads, 1);
	set_ok(&cfg, "threads", "256");
	assert_int_equal(cfg.threads, 256);
	set_ok(&cfg, "threads", "16");
	assert_int_equal(cfg.threads, 16);
	set_bad(&cfg, "threads", "abc",
	    "threads: 'abc' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", "0",
	    "threads: '0' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", "257",
	    "threads: '257' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", "",
	    "threads: '' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", " 4",
	    "threads: ' 4' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", "4.0",
	    "threads: '4.0' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", "-1",
	    "threads: '-1' is not a whole number between 1 and 256");
	set_bad(&cfg, "threads", "99999999999",
	    "threads: '99999999999' is not a whole number between 1 and 256");
	/* a refused value leaves the old one */
	assert_int_equal(cfg.threads, 16);
	config_release(&cfg);
}

/* cache_entries: 0 (no cache) to ten million, default 10000. */
static void
test_set_cache_entries(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.cache_entries, 10000);
	set_ok(&cfg, "cache_entries", "0");
	assert_int_equal(cfg.cache_entries, 0);
	set_ok(&cfg, "cache_entries", "10000000");
	assert_int_equal(cfg.cache_entries, 10000000);
	set_bad(&cfg, "cache_entries", "10000001", "cache_entries: "
	    "'10000001' is not a whole number between 0 and 10000000");
	set_bad(&cfg, "cache_entries", "-1", "cache_entries: '-1' is not a "
	    "whole number between 0 and 10000000");
	assert_int_equal(cfg.cache_entries, 10000000);
	config_release(&cfg);
}

static void
test_set_token_ttl_and_shutdown(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "token_ttl_hours", "1");
	assert_int_equal(cfg.token_ttl_hours, 1);
	set_ok(&cfg, "token_ttl_hours", "8784");
	assert_int_equal(cfg.token_ttl_hours, 24 * 366);
	set_bad(&cfg, "token_ttl_hours", "0",
	    "token_ttl_hours: '0' is not a whole number between 1 and 8784");
	set_bad(&cfg, "token_ttl_hours", "8785",
	    "token_ttl_hours: '8785' is not a whole number between 1 and 8784");
	assert_int_equal(cfg.token_ttl_hours, 8784);

	set_ok(&cfg, "shutdown_timeout", "0");
	assert_int_equal(cfg.shutdown_timeout, 0);
	set_ok(&cfg, "shutdown_timeout", "3600");
	assert_int_equal(cfg.shutdown_timeout, 3600);
	set_bad(&cfg, "shutdown_timeout", "3601",
	    "shutdown_timeout: '3601' is not a whole number between 0 and 3600");
	set_bad(&cfg, "shutdown_timeout", "-1",
	    "shutdown_timeout: '-1' is not a whole number between 0 and 3600");
	set_bad(&cfg, "shutdown_timeout", "30s",
	    "shutdown_timeout: '30s' is not a whole number between 0 and 3600");
	assert_int_equal(cfg.shutdown_timeout, 3600);
	config_release(&cfg);
}

static void
test_set_log_level(void **state)
{
	static const struct {
		const char *text;
		enum log_level level;
	} good[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO },
		{ "warn", LOG_WARN }, { "error", LOG_ERROR },
	};
	struct config cfg;

	(void)state;
	config_init(&cfg);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		set_ok(&cfg, "log_level", good[i].text);
		assert_int_equal(cfg.log_level, good[i].level);
	}
	set_bad(&cfg, "log_level", "verbose",
	    "log_level: 'verbose' is not one of debug, info, warn, error");
	set_bad(&cfg, "log_level", "warning",
	    "log_level: 'warning' is not one of debug, info, warn, error");
	set_bad(&cfg, "log_level", "DEBUG",
	    "log_level: 'DEBUG' is not one of debug, info, warn, error");
	set_bad(&cfg, "log_level", "",
	    "log_level: '' is not one of debug, info, warn, error");
	assert_int_equal(cfg.log_level, LOG_ERROR);
	config_release(&cfg);
}

static void
test_set_max_body_bytes(void **state)
{
	static const struct {
		const char *text;
		long long bytes;
	} good[] = {
		{ "16M", 16LL * 1024 * 1024 },
		{ "16m", 16LL * 1024 * 1024 },
		{ "512k", 512LL * 1024 },
		{ "512K", 512LL * 1024 },
		{ "1G", 1024LL * 1024 * 1024 },
		{ "1g", 1024LL * 1024 * 1024 },
		{ "1K", 1024 },
		{ "1024", 1024 },
		{ "1048576", 1048576 },
		{ "1073741824", 1024LL * 1024 * 1024 },
		{ "1048576K", 1024LL * 1024 * 1024 },
		{ "1024M", 1024LL * 1024 * 1024 },
	};
	static const char *const bad[] = {
		"2G", "1023", "1025M", "1048577K", "1073741825", "0", "0K",
		"", "K", "M", "-1K", "1.5M", "16MB", "16 M", " 16M", "16M ",
		"abc", "+16M", "1T", "99999999999999999999G",
	};
	struct config cfg;
	char msg[300];

	(void)state;
	config_init(&cfg);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		set_ok(&cfg, "max_body_bytes", good[i].text);
		if (cfg.max_body_bytes != good[i].bytes)
			fail_msg("max_body_bytes '%s' gave %lld, expected %lld",
			    good[i].text, cfg.max_body_bytes, good[i].bytes);
	}
	set_ok(&cfg, "max_body_bytes", "2M");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(msg, sizeof(msg), "max_body_bytes: '%s' is not a size "
		    "between 1K and 1G (a number of bytes, or with K, M or G)",
		    bad[i]);
		set_bad(&cfg, "max_body_bytes", bad[i], msg);
	}
	assert_int_equal(cfg.max_body_bytes, 2 * 1024 * 1024);
	config_release(&cfg);
}

/* ---- listen --------------------------------------------------------- */

static void
listen_ok(const char *s, const char *want_host, int want_port)
{
	char *host = NULL, err[300] = "";
	int port = -1;

	if (config_parse_listen(s, &host, &port, err, sizeof(err)) != 0)
		fail_msg("config_parse_listen('%s') failed: %s", s, err);
	assert_non_null(host);
	assert_string_equal(host, want_host);
	assert_int_equal(port, want_port);
	free(host);
}

static void
listen_bad(const char *s, const char *msg)
{
	char *host = NULL, err[300] = "";
	int port = -1;

	if (config_parse_listen(s, &host, &port, err, sizeof(err)) != -1) {
		free(host);
		fail_msg("config_parse_listen('%s') accepted it", s);
	}
	assert_null(host);
	assert_int_equal(port, -1);
	if (strcmp(err, msg) != 0)
		fail_msg("config_parse_listen('%s'):\n  got      \"%s\"\n"
		    "  expected \"%s\"", s, err, msg);
}

static void
test_parse_listen(void **state)
{
	(void)state;
	listen_ok("127.0.0.1:8080", "127.0.0.1", 8080);
	listen_ok("0.0.0.0:80", "0.0.0.0", 80);
	listen_ok("localhost:8443", "localhost", 8443);
	listen_ok("[::1]:9000", "::1", 9000);
	listen_ok("[fe80::1%eth0]:9000", "fe80::1%eth0", 9000);
	listen_ok("[::]:1", "::", 1);
	listen_ok(":8080", "127.0.0.1", 8080);
	listen_ok("127.0.0.1:0", "127.0.0.1", 0);
	listen_ok("127.0.0.1:65535", "127.0.0.1", 65535);

	listen_bad("localhost", "'localhost' is not address:port "
	    "(write IPv6 as [::1]:8080)");
	listen_bad("", "'' is not address:port (write IPv6 as [::1]:8080)");
	listen_bad("::1:80", "'::1:80' is not address:port "
	    "(write IPv6 as [::1]:8080)");
	listen_bad("::1", "'::1' is not address:port "
	    "(write IPv6 as [::1]:8080)");
	listen_bad("127.0.0.1:65536", "'127.0.0.1:65536': port '65536' is "
	    "not a number between 0 and 65535");
	listen_bad("127.0.0.1:abc", "'127.0.0.1:abc': port 'abc' is not a "
	    "number between 0 and 65535");
	listen_bad("127.0.0.1:", "'127.0.0.1:': port '' is not a number "
	    "between 0 and 65535");
	listen_bad("127.0.0.1:-1", "'127.0.0.1:-1': port '-1' is not a "
	    "number between 0 and 65535");
	listen_bad("127.0.0.1: 80", "'127.0.0.1: 80': port ' 80' is not a "
	    "number between 0 and 65535");
	listen_bad("127.0.0.1:80 ", "'127.0.0.1:80 ': port '80 ' is not a "
	    "number between 0 and 65535");
	listen_bad("127.0.0.1:+80", "'127.0.0.1:+80': port '+80' is not a "
	    "number between 0 and 65535");
	listen_bad("[::1]:99999", "'[::1]:99999': port '99999' is not a "
	    "number between 0 and 65535");
	listen_bad("[::1]", "'[::1]' is not [address]:port");
	listen_bad("[::1]9000", "'[::1]9000' is not [address]:port");
	listen_bad("[::1:9000", "'[::1:9000' is not [address]:port");
}

static void
test_set_listen(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	set_ok(&cfg, "listen", "[::1]:9000");
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 9000);
	set_ok(&cfg, "listen", ":8081");
	assert_string_equal(cfg.listen_host, "127.0.0.1");
	assert_int_equal(cfg.listen_port, 8081);
	set_ok(&cfg, "listen", "0.0.0.0:80");
	assert_string_equal(cfg.listen_host, "0.0.0.0");
	assert_int_equal(cfg.listen_port, 80);

	set_bad(&cfg, "listen", "localhost", "listen: 'localhost' is not "
	    "address:port (write IPv6 as [::1]:8080)");
	set_bad(&cfg, "listen", "::1:80", "listen: '::1:80' is not "
	    "address:port (write IPv6 as [::1]:8080)");
	set_bad(&cfg, "listen", "127.0.0.1:65536", "listen: "
	    "'127.0.0.1:65536': port '65536' is not a number between 0 and "
	    "65535");
	set_bad(&cfg, "listen", "127.0.0.1:abc", "listen: '127.0.0.1:abc': "
	    "port 'abc' is not a number between 0 and 65535");
	/* refused values leave the previous address */
	assert_string_equal(cfg.listen_host, "0.0.0.0");
	assert_int_equal(cfg.listen_port, 80);
	config_release(&cfg);
}

/* ---- config_load_file ----------------------------------------------- */

static void
test_load_file(void **state)
{
	static const char text[] =
	    "# certrackd test configuration\n"			/*  1 */
	    "\n"						/*  2 */
	    "   # an indented comment\n"			/*  3 */
	    "database_url = \"host=/tmp dbname=t\"\n"		/*  4 */
	    "threads=4\n"					/*  5 */
	    "  listen   =   [::1]:9000   \n"			/*  6 */
	    "colour = blue\n"					/*  7 unknown */
	    "this line has no equals sign\n"			/*  8 */
	    "\t\n"						/*  9 */
	    "token_ttl_hours = forever\n"			/* 10 bad */
	    "migrations_dir = \"/opt/with blank # and hash\"\n"	/* 11 */
	    "log_level = debug\r\n"				/* 12 CRLF */
	    "max_body_bytes = 16M\n"				/* 13 */
	    "shutdown_timeout = \"5\"\n"			/* 14 */
	    "threads = 0";					/* 15 bad, no \n */
	char path[64], want[128];
	struct reports r = { 0 };
	struct config cfg;
	int mistakes;

	(void)state;
	write_temp(path, sizeof(path), text);
	config_init(&cfg);
	mistakes = config_load_file(&cfg, path, collect, &r);
	unlink(path);

	if (mistakes != 4 || r.n != 4)
		for (int i = 0; i < r.n && i < MAX_REPORTS; i++)
			print_message("report %d: %s\n", i, r.msg[i]);
	assert_int_equal(mistakes, 4);
	assert_int_equal(r.n, 4);

	static const struct {
		int line;
		const char *rest;
	} expect[] = {
		{ 7, "unknown setting 'colour'" },
		{ 8, "expected 'setting = value', got 'this line has no equals "
		    "sign'" },
		{ 10, "token_ttl_hours: 'forever' is not a whole number between "
		    "1 and 8784" },
		{ 15, "threads: '0' is not a whole number between 1 and 256" },
	};
	for (int i = 0; i < 4; i++) {
		snprintf(want, sizeof(want), "%s:%d: ", path, expect[i].line);
		if (!starts_with(r.msg[i], want))
			fail_msg("report %d is \"%s\", expected it to start "
			    "with \"%s\"", i, r.msg[i], want);
		assert_string_equal(r.msg[i] + strlen(want), expect[i].rest);
	}

	/* the good lines took effect, quotes stripped */
	assert_string_equal(cfg.database_url, "host=/tmp dbname=t");
	assert_int_equal(cfg.threads, 4);
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 9000);
	assert_int_equal(cfg.token_ttl_hours, 12);
	assert_string_equal(cfg.migrations_dir, "/opt/with blank # and hash");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.max_body_bytes, 16 * 1024 * 1024);
	assert_int_equal(cfg.shutdown_timeout, 5);
	config_release(&cfg);
}

static void
test_load_file_empty_and_clean(void **state)
{
	char path[64];
	struct reports r = { 0 };
	struct config cfg;

	(void)state;
	config_init(&cfg);
	write_temp(path, sizeof(path), "");
	assert_int_equal(config_load_file(&cfg, path, collect, &r), 0);
	unlink(path);
	write_temp(path, sizeof(path), "# only a comment\n\nthreads = 2\n");
	assert_int_equal(config_load_file(&cfg, path, collect, &r), 0);
	unlink(path);
	assert_int_equal(r.n, 0);
	assert_int_equal(cfg.threads, 2);
	/* a NULL reporter still counts */
	write_temp(path, sizeof(path), "threads = x\nnope = 1\n");
	assert_int_equal(config_load_file(&cfg, path, NULL, NULL), 2);
	unlink(path);
	assert_int_equal(cfg.threads, 2);
	config_release(&cfg);
}

/*
 * config.c's loader says a value is quoted "to keep blanks or a '#'", so an
 * unquoted '#' after a value starts a comment: "threads = 4  # per core"
 * sets 4, and "database_url = dbname=x # main" must not hand "# main" to
 * libpq.
 */
static void
test_load_file_trailing_comment(void **state)
{
	static const char text[] =
	    "threads = 4   # one per core\n"
	    "database_url = dbname=x # the main one\n"
	    "migrations_dir = \"/opt/a#b\"  # quoted '#' stays\n";
	char path[64], url[128], dir[128];
	int threads;
	struct reports r = { 0 };
	struct config cfg;
	int mistakes;

	(void)state;
	write_temp(path, sizeof(path), text);
	config_init(&cfg);
	mistakes = config_load_file(&cfg, path, collect, &r);
	unlink(path);
	if (mistakes != 0)
		for (int i = 0; i < r.n && i < MAX_REPORTS; i++)
			print_message("report %d: %s\n", i, r.msg[i]);
	/* copy out and release first, so a failing assert leaks nothing */
	threads = cfg.threads;
	snprintf(url, sizeof(url), "%s", cfg.database_url);
	snprintf(dir, sizeof(dir), "%s",
	    cfg.migrations_dir ? cfg.migrations_dir : "(null)");
	config_release(&cfg);
	assert_int_equal(mistakes, 0);
	assert_int_equal(threads, 4);
	assert_string_equal(url, "dbname=x");
	assert_string_equal(dir, "/opt/a#b");
}

static void
test_load_file_unreadable(void **state)
{
	struct reports r = { 0 };
	struct config cfg;
	char path[64], want[128];

	(void)state;
	config_init(&cfg);
	snprintf(path, sizeof(path), "/tmp/unit_config.missing.%ld",
	    (long)getpid());
	unlink(path);
	assert_int_equal(config_load_file(&cfg, path, collect, &r), 1);
	assert_int_equal(r.n, 1);
	snprintf(want, sizeof(want), "cannot open '%s': ", path);
	if (!starts_with(r.msg[0], want))
		fail_msg("report \"%s\" does not start with \"%s\"", r.msg[0],
		    want);
	assert_non_null(strstr(r.msg[0], "No such file or directory"));

	/* a directory opens but cannot be read */
	r.n = 0;
	assert_int_equal(config_load_file(&cfg, "/tmp", collect, &r), 1);
	assert_int_equal(r.n, 1);
	assert_true(starts_with(r.msg[0], "cannot read '/tmp': "));

	/* nothing changed */
	assert_int_equal(cfg.threads, 4);
	config_release(&cfg);
}

/* ---- config_load_env ------------------------------------------------ */

static void
test_load_env(void **state)
{
	struct reports r = { 0 };
	struct config cfg;

	(void)state;
	clear_env();
	config_init(&cfg);
	assert_int_equal(config_load_env(&cfg, collect, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(cfg.threads, 4);

	setenv("CERTRACK_LISTEN", "[::1]:9000", 1);
	setenv("CERTRACK_THREADS", "abc", 1);
	setenv("CERTRACK_LOG_LEVEL", "warn", 1);
	setenv("CERTRACK_MAX_BODY_BYTES", "512k", 1);
	setenv("CERTRACK_DATABASE_URL", "dbname=fromenv", 1);
	assert_int_equal(config_load_env(&cfg, collect, &r), 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.msg[0], "CERTRACK_THREADS: threads: 'abc' is "
	    "not a whole number between 1 and 256");
	assert_string_equal(cfg.listen_host, "::1");
	assert_int_equal(cfg.listen_port, 9000);
	assert_int_equal(cfg.threads, 4);
	assert_int_equal(cfg.log_level, LOG_WARN);
	assert_int_equal(cfg.max_body_bytes, 512 * 1024);
	assert_string_equal(cfg.database_url, "dbname=fromenv");

	/* several mistakes, each counted and named */
	r.n = 0;
	setenv("CERTRACK_THREADS", "12", 1);
	setenv("CERTRACK_LISTEN", "localhost", 1);
	setenv("CERTRACK_SHUTDOWN_TIMEOUT", "-5", 1);
	assert_int_equal(config_load_env(&cfg, collect, &r), 2);
	assert_int_equal(r.n, 2);
	assert_true(starts_with(r.msg[0], "CERTRACK_LISTEN: listen: "));
	assert_true(starts_with(r.msg[1],
	    "CERTRACK_SHUTDOWN_TIMEOUT: shutdown_timeout: "));
	assert_int_equal(cfg.threads, 12);
	assert_string_equal(cfg.listen_host, "::1");

	/* lower-case names are not read */
	clear_env();
	setenv("certrack_threads", "3", 1);
	assert_int_equal(config_load_env(&cfg, NULL, NULL), 0);
	assert_int_equal(cfg.threads, 12);
	unsetenv("certrack_threads");
	clear_env();
	config_release(&cfg);
}

static void
test_loopback(void **state)
{
	(void)state;
	assert_true(config_is_loopback("127.0.0.1"));
	assert_true(config_is_loopback("127.1.2.3"));
	assert_true(config_is_loopback("::1"));
	assert_true(config_is_loopback("::ffff:127.0.0.1"));
	assert_false(config_is_loopback("0.0.0.0"));
	assert_false(config_is_loopback("::"));
	assert_false(config_is_loopback("10.0.0.1"));
	assert_false(config_is_loopback("128.0.0.1"));
	assert_false(config_is_loopback("localhost"));
}

static void
count_report(void *arg, const char *msg)
{
	(void)msg;
	(*(int *)arg)++;
}

static void
test_check_tls_and_plain_http(void **state)
{
	struct config cfg;
	char errbuf[300];
	int n = 0;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_check(&cfg, count_report, &n), 0);
	assert_int_equal(config_set(&cfg, "listen", "0.0.0.0:8080", errbuf,
	    sizeof(errbuf)), 0);
	assert_int_equal(config_check(&cfg, count_report, &n), 1);
	assert_int_equal(config_set(&cfg, "insecure_http", "yes", errbuf,
	    sizeof(errbuf)), 0);
	assert_true(cfg.insecure_http);
	assert_int_equal(config_check(&cfg, count_report, &n), 0);
	assert_int_equal(config_set(&cfg, "insecure_http", "maybe", errbuf,
	    sizeof(errbuf)), -1);
	assert_string_equal(errbuf, "insecure_http: 'maybe' is not true or "
	    "false");
	assert_int_equal(config_set(&cfg, "insecure_http", "off", errbuf,
	    sizeof(errbuf)), 0);
	/* a certificate alone is not enough, and must be readable */
	assert_int_equal(config_set(&cfg, "tls_cert", "/nonexistent.pem",
	    errbuf, sizeof(errbuf)), 0);
	assert_int_equal(config_check(&cfg, count_report, &n), 2);
	config_release(&cfg);
}

/* ---- config_load_text ----------------------------------------------- */

/*
 * The file's own reader over memory (the config fuzz target's way in):
 * reports name NAME and the line, a last line without a newline counts,
 * nothing is read past LEN, and an empty text is no mistake.
 */
static void
test_load_text(void **state)
{
	static const char text[] = "threads = 3\nnope = 1\r\nthreads = 2";
	struct reports r = { 0 };
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load_text(&cfg, "mem.conf", text,
	    sizeof(text) - 1, collect, &r), 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.msg[0], "mem.conf:2: unknown setting 'nope'");
	assert_int_equal(cfg.threads, 2);
	/* LEN stops before "threads = 2": the 3 stays */
	assert_int_equal(config_load_text(&cfg, "mem.conf", text, 11, collect,
	    &r), 0);
	assert_int_equal(cfg.threads, 3);
	assert_int_equal(config_load_text(&cfg, "mem.conf", "", 0, collect,
	    &r), 0);
	assert_int_equal(r.n, 1);
	config_release(&cfg);
}

/* Notifications: the sweep's time of day on its edges, an SMTP relay
 * without a sender, a relay that is not smtp(s), retry bounds. */
static void
test_notify_settings(void **state)
{
	struct config cfg;
	struct reports r;

	(void)state;
	config_init(&cfg);
	assert_true(cfg.notify_enabled);
	assert_string_equal(cfg.notify_sweep_at, "02:00");
	set_ok(&cfg, "notify_sweep_at", "00:00");
	set_ok(&cfg, "notify_sweep_at", "23:59");
	assert_string_equal(cfg.notify_sweep_at, "23:59");
	set_bad(&cfg, "notify_sweep_at", "24:00", "notify_sweep_at: '24:00' "
	    "is not a time of day HH:MM (00:00 to 23:59)");
	set_bad(&cfg, "notify_sweep_at", "12:60", "notify_sweep_at: '12:60' "
	    "is not a time of day HH:MM (00:00 to 23:59)");
	set_bad(&cfg, "notify_sweep_at", "7:30", "notify_sweep_at: '7:30' "
	    "is not a time of day HH:MM (00:00 to 23:59)");
	assert_string_equal(cfg.notify_sweep_at, "23:59");
	set_ok(&cfg, "notify_max_concurrent", "64");
	set_bad(&cfg, "notify_max_concurrent", "65", "notify_max_concurrent: "
	    "'65' is not a whole number between 1 and 64");
	memset(&r, 0, sizeof(r));
	assert_int_equal(config_check(&cfg, collect, &r), 0);
	set_ok(&cfg, "smtp_url", "http://relay.example.org");
	set_ok(&cfg, "notify_retry_base_ms", "5000");
	set_ok(&cfg, "notify_retry_max_ms", "4999");
	memset(&r, 0, sizeof(r));
	assert_int_equal(config_check(&cfg, collect, &r), 3);
	assert_true(starts_with(r.msg[0], "smtp_url is set but smtp_from"));
	assert_true(starts_with(r.msg[1], "smtp_url: 'http://relay"));
	assert_true(starts_with(r.msg[2], "notify_retry_max_ms (4999)"));
	set_ok(&cfg, "smtp_url", "smtp://127.0.0.1:2525");
	set_ok(&cfg, "smtp_from", "certrack@example.org");
	set_ok(&cfg, "notify_retry_max_ms", "5000");
	memset(&r, 0, sizeof(r));
	assert_int_equal(config_check(&cfg, collect, &r), 0);
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_check_tls_and_plain_http),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_key_at),
		cmocka_unit_test(test_db_time_bounds),
		cmocka_unit_test(test_set_unknown),
		cmocka_unit_test(test_set_database_url),
		cmocka_unit_test(test_set_migrations_dir),
		cmocka_unit_test(test_set_threads),
		cmocka_unit_test(test_set_token_ttl_and_shutdown),
		cmocka_unit_test(test_set_cache_entries),
		cmocka_unit_test(test_set_log_level),
		cmocka_unit_test(test_set_max_body_bytes),
		cmocka_unit_test(test_parse_listen),
		cmocka_unit_test(test_set_listen),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_load_file_empty_and_clean),
		cmocka_unit_test(test_load_file_trailing_comment),
		cmocka_unit_test(test_load_file_unreadable),
		cmocka_unit_test(test_load_text),
		cmocka_unit_test(test_load_env),
		cmocka_unit_test(test_notify_settings),
	};

	return cmocka_run_group_tests_name("unit_config", tests, NULL, NULL);
}
