/*
 * server/config.c: a settings file's text, through config_load_text(),
 * the reader config_load_file() uses.  What must hold: one report per
 * mistake, each naming the file and line, and whatever the file said the
 * settings stay within their ranges (a refused value leaves the old one).
 */
#include "fuzz.h"

#include <string.h>

#include "certrack/config.h"

static const char T[] = "config";

static void
report(void *arg, const char *msg)
{
	int *count = arg;

	fuzz_require(strncmp(msg, "fuzz.conf:", 10) == 0 ||
	    strncmp(msg, "cannot ", 7) == 0, T,
	    "a report that names no file");
	(*count)++;
}

int
fuzz_config(const uint8_t *data, size_t size)
{
	struct config cfg;
	int reports = 0, mistakes;

	config_init(&cfg);
	mistakes = config_load_text(&cfg, "fuzz.conf", (const char *)data,
	    size, report, &reports);
	fuzz_require(mistakes == reports, T, "mistakes and reports differ");
	fuzz_require(cfg.database_url != NULL && cfg.database_url[0] != '\0',
	    T, "database_url empty");
	fuzz_require(cfg.listen_host != NULL, T, "no listen host");
	fuzz_require(cfg.listen_port >= 0 && cfg.listen_port <= 65535, T,
	    "listen port out of range");
	fuzz_require(cfg.threads >= 1 && cfg.threads <= 256, T,
	    "threads out of range");
	fuzz_require(cfg.max_connections >= 1 && cfg.max_connections <= 10000,
	    T, "max_connections out of range");
	fuzz_require(cfg.max_body_bytes >= 1024 &&
	    cfg.max_body_bytes <= 1024LL * 1024 * 1024, T,
	    "max_body_bytes out of range");
	fuzz_require(cfg.import_max_bytes >= 1024 &&
	    cfg.import_max_bytes <= 64LL * 1024 * 1024 * 1024, T,
	    "import_max_bytes out of range");
	fuzz_require(cfg.token_ttl_hours >= 1 && cfg.shutdown_timeout >= 0, T,
	    "a time out of range");
	fuzz_require(cfg.migrations_dir == NULL || cfg.migrations_dir[0], T,
	    "an empty optional setting kept as \"\"");
	config_release(&cfg);
	return 0;
}

FUZZ_ENTRY(fuzz_config)
