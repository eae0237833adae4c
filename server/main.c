/* certrackd: the certrack daemon.  main() alone lives here. */
#include <getopt.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "certrack/api.h"
#include "certrack/web.h"
#include "certrack/auth.h"
#include "certrack/cache.h"
#include "certrack/config.h"
#include "certrack/db.h"
#include "certrack/http.h"
#include "certrack/log.h"
#include "certrack/metrics.h"
#include "certrack/migrate.h"
#include "certrack/notify.h"
#include "certrack/strnum.h"
#include "certrack/users.h"

static const char usage_text[] =
"usage: certrackd [OPTIONS]                serve the API\n"
"       certrackd [OPTIONS] migrate        apply pending migrations, exit\n"
"       certrackd [OPTIONS] create-user NAME --role ROLE [--clinician ID]\n"
"                                          create an account, print its password\n"
"       certrackd [OPTIONS] --check-config validate the configuration, exit\n"
"\n"
"Options (each also a setting in the file and a CERTRACK_* variable):\n"
"  -c, --config FILE        configuration file (also CERTRACK_CONFIG)\n"
"      --database-url URL   libpq connection string or URI\n"
"      --listen ADDR:PORT   address to serve on (default 127.0.0.1:8080)\n"
"      --threads N          database connections shared by requests (default 4)\n"
"      --log-level LEVEL    debug, info, warn or error (default info)\n"
"      --migrations DIR     read migrations from DIR, not the built-in ones\n"
"      --migrate            apply pending migrations before serving\n"
"      --tls-cert FILE      serve HTTPS with this PEM certificate chain\n"
"      --tls-key FILE       ... and this PEM private key\n"
"      --insecure-http      allow plain HTTP on a non-loopback address\n"
"      --check-config       validate the configuration and exit\n"
"create-user options:\n"
"      --role ROLE          admin, grader or clinician\n"
"      --clinician ID       the clinician a clinician account belongs to\n"
"      --if-no-admin        do nothing when an enabled admin exists\n"
"  -h, --help               show this help\n"
"  -V, --version            show the version\n"
"\n";


/* Every setting's name, from the one table (config.c), wrapped. */
static void
print_settings(void)
{
	const char *key;
	size_t col = 9;

	fputs("\nSettings:", stdout);
	for (size_t i = 0; (key = config_key_at(i)) != NULL; i++) {
		if (col + strlen(key) + 2 > 76) {
			fputs("\n ", stdout);
			col = 1;
		}
		printf(" %s%s", key, config_key_at(i + 1) ? "," : "");
		col += strlen(key) + 2;
	}
	fputs("\n(docs/configuration.md; each also as CERTRACK_<NAME>)\n",
	    stdout);
}

enum {
	OPT_DATABASE_URL = 256, OPT_LISTEN, OPT_THREADS, OPT_LOG_LEVEL,
	OPT_MIGRATIONS, OPT_MIGRATE, OPT_CHECK_CONFIG, OPT_ROLE, OPT_CLINICIAN,
	OPT_IF_NO_ADMIN, OPT_TLS_CERT, OPT_TLS_KEY, OPT_INSECURE_HTTP,
};

static const struct option longopts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "database-url", required_argument, NULL, OPT_DATABASE_URL },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "threads", required_argument, NULL, OPT_THREADS },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "migrations", required_argument, NULL, OPT_MIGRATIONS },
	{ "migrate", no_argument, NULL, OPT_MIGRATE },
	{ "check-config", no_argument, NULL, OPT_CHECK_CONFIG },
	{ "role", required_argument, NULL, OPT_ROLE },
	{ "clinician", required_argument, NULL, OPT_CLINICIAN },
	{ "if-no-admin", no_argument, NULL, OPT_IF_NO_ADMIN },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "insecure-http", no_argument, NULL, OPT_INSECURE_HTTP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* A flag's setting, applied after the file and the environment. */
struct flag_setting {
	const char *key;
	const char *value;
};

struct options {
	const char *config_path;
	struct flag_setting flags[16];
	int nflags;
	bool migrate, check_config, if_no_admin;
	const char *role, *clinician;
};

static void
report_stderr(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "certrackd: %s\n", msg);
}

static int
usage_error(const char *fmt, const char *what)
{
	fprintf(stderr, "certrackd: ");
	fprintf(stderr, fmt, what);
	fprintf(stderr, "\ncertrackd: try 'certrackd --help'\n");
	return 2;
}

/* Defaults, then the file, the environment, and the flags. */
static int
load_config(struct config *cfg, const struct options *o, bool serving)
{
	const char *path = o->config_path ? o->config_path :
	    getenv("CERTRACK_CONFIG");
	char errbuf[400];
	int mistakes = 0;

	config_init(cfg);
	if (path != NULL && *path != '\0')
		mistakes += config_load_file(cfg, path, report_stderr, NULL);
	mistakes += config_load_env(cfg, report_stderr, NULL);
	for (int i = 0; i < o->nflags; i++) {
		if (config_set(cfg, o->flags[i].key, o->flags[i].value, errbuf,
		    sizeof(errbuf)) != 0) {
			fprintf(stderr, "certrackd: --%s\n", errbuf);
			mistakes++;
		}
	}
	if (serving)
		mistakes += config_check(cfg, report_stderr, NULL);
	log_set_level(cfg->log_level);
	return mistakes;
}

static int
load_migrations(const struct config *cfg, struct migration_set *set)
{
	struct cterr err;

	cterr_clear(&err);
	if ((cfg->migrations_dir ?
	    migrate_set_from_dir(set, cfg->migrations_dir, &err) :
	    migrate_set_embedded(set, &err)) != 0) {
		fprintf(stderr, "certrackd: %s\n", err.detail);
		return -1;
	}
	return 0;
}

static PGconn *
connect_or_say(const struct config *cfg)
{
	PGconn *conn = PQconnectdb(cfg->database_url);

	if (PQstatus(conn) != CONNECTION_OK) {
		char msg[400];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
		msg[strcspn(msg, "\n")] = '\0';
		fprintf(stderr, "certrackd: cannot connect to the database: %s\n",
		    msg);
		PQfinish(conn);
		return NULL;
	}
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	return conn;
}

static int
do_migrate(PGconn *conn, const struct migration_set *set, bool quiet)
{
	struct cterr err;
	int applied;

	cterr_clear(&err);
	if (migrate_apply(conn, set, &applied, &err) != 0) {
		fprintf(stderr, "certrackd: %s\n", err.detail);
		return -1;
	}
	if (applied > 0)
		log_info("applied %d migration%s; the schema is at version %zu",
		    applied, applied == 1 ? "" : "s", set->n);
	else if (!quiet)
		log_info("the schema is current (version %zu); nothing to do",
		    set->n);
	return 0;
}

static int
cmd_migrate(const struct config *cfg)
{
	struct migration_set set;
	PGconn *conn;
	int rc = 1;

	if (load_migrations(cfg, &set) != 0)
		return 1;
	conn = connect_or_say(cfg);
	if (conn != NULL && do_migrate(conn, &set, false) == 0)
		rc = 0;
	PQfinish(conn);
	migrate_set_release(&set);
	return rc;
}

static int
cmd_create_user(const struct config *cfg, const struct options *o,
    const char *name)
{
	struct users_new u;
	struct cterr err;
	PGconn *conn;
	char password[AUTH_PASSWORD_LEN + 1];
	long long clinician = 0;
	const char *errstr;
	int created, rc = 1;

	if (o->role == NULL)
		return usage_error("%s", "create-user needs --role ROLE");
	if (o->clinician != NULL && strnum_ll(o->clinician, 1, INT64_MAX,
	    &clinician, &errstr) != 0)
		return usage_error("--clinician: '%s' is not a clinician id",
		    o->clinician);
	conn = connect_or_say(cfg);
	if (conn == NULL)
		return 1;
	memset(&u, 0, sizeof(u));
	u.username = name;
	u.role = o->role;
	u.clinician_id = clinician;
	cterr_clear(&err);
	if (auth_dictionary(cfg->password_dictionary, &err) != 0) {
		fprintf(stderr, "certrackd: %s\n", err.detail);
		PQfinish(conn);
		return 1;
	}
	auth_new_password(password, name);
	u.password = password;
	cterr_clear(&err);
	if (users_create_local(conn, &u, o->if_no_admin, &created, &err) != 0) {
		fprintf(stderr, "certrackd: cannot create user '%s': %s\n",
		    name, err.detail);
	} else if (!created) {
		printf("an enabled admin account exists already; no account "
		    "created\n");
		rc = 0;
	} else {
		printf("created %s account '%s'\n", o->role, name);
		printf("one-time password: %s\n", password);
		printf("(shown once; log in with 'certrack login' and change "
		    "it)\n");
		rc = 0;
	}
	sodium_memzero(password, sizeof(password));
	PQfinish(conn);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("certrackd: cannot write the output");
		return 1;
	}
	return rc;
}

/*
 * Tells systemd (Type=notify) how things stand, when it started us: one
 * datagram to $NOTIFY_SOCKET.  Nothing happens without that variable.
 */
static void
notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';	/* abstract namespace */
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, state, strlen(state), 0, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		log_warn_errno("cannot notify systemd");
	close(fd);
}

static int
serve(const struct config *cfg, const struct options *o)
{
	struct migration_set set;
	struct migrate_status st;
	struct http_server *srv;
	struct cterr err;
	sigset_t sigs;
	char errbuf[300];
	PGconn *conn;
	int sig, port, rc = 1;

	if (load_migrations(cfg, &set) != 0)
		return 1;
	conn = connect_or_say(cfg);
	if (conn == NULL)
		goto out;
	if (o->migrate && do_migrate(conn, &set, true) != 0)
		goto out;
	cterr_clear(&err);
	if (migrate_check(conn, &set, &st, &err) != 0) {
		fprintf(stderr, "certrackd: %s\n", err.detail);
		goto out;
	}
	if (st.state != MIGRATE_CURRENT) {
		fprintf(stderr, "certrackd: refusing to serve: %s\n", st.detail);
		goto out;
	}
	PQfinish(conn);
	conn = NULL;

	/* Signals are taken by sigwait() below: block them before any thread
	 * starts, so every thread inherits the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	db_init(cfg->database_url);
	db_set_limits(&(struct db_limits){ cfg->db_statement_timeout_ms,
	    cfg->db_lock_timeout_ms, cfg->db_pool_wait_ms,
	    cfg->db_readyz_timeout_ms, cfg->db_import_statement_timeout_ms });
	if (db_pool_init(cfg->threads) != 0) {
		fprintf(stderr, "certrackd: out of memory\n");
		goto out;
	}
	api_health_init(&set);
	api_auth_init(cfg);
	cterr_clear(&err);
	if (auth_dictionary(cfg->password_dictionary, &err) != 0) {
		fprintf(stderr, "certrackd: refusing to serve: %s\n", err.detail);
		goto out;
	}
	if (auth_limit(cfg->password_hash_slots, cfg->password_hash_queue) != 0) {
		fprintf(stderr, "certrackd: out of memory\n");
		goto out;
	}
	log_info("password checks: %d at once, %d more may wait",
	    auth_slots(), cfg->password_hash_queue);
	api_import_init(cfg->import_max_bytes);
	web_init(cfg);
	if (cache_start(cfg->database_url, cfg->cache_entries) != 0) {
		fprintf(stderr, "certrackd: cannot start the cache\n");
		goto out;
	}
	if (metrics_init(api_routes, api_nroutes) != 0) {
		fprintf(stderr, "certrackd: out of memory\n");
		goto out;
	}
	/* before the HTTP threads: it initialises libcurl */
	if (notify_start(cfg) != 0) {
		fprintf(stderr, "certrackd: cannot start the notification "
		    "worker\n");
		goto out;
	}
	srv = http_start(cfg, api_routes, api_nroutes, api_authenticate, &port,
	    errbuf, sizeof(errbuf));
	if (srv == NULL) {
		fprintf(stderr, "certrackd: %s\n", errbuf);
		notify_stop();
		cache_stop();
		goto out;
	}
	if (cfg->tls_cert == NULL && !config_is_loopback(cfg->listen_host))
		log_warn("serving plain HTTP on %s (insecure_http): passwords "
		    "and tokens cross the network unencrypted unless a proxy "
		    "in front encrypts them", cfg->listen_host);
	notify_systemd("READY=1");
	log_info("certrackd %s listening on %s://%s%s%s:%d with %d database "
	    "connections, schema version %d", CERTRACK_VERSION,
	    cfg->tls_cert ? "https" : "http",
	    strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
	    strchr(cfg->listen_host, ':') ? "]" : "", port, cfg->threads,
	    st.db_version);
	while (sigwait(&sigs, &sig) != 0)
		;
	log_info("%s: finishing requests in flight, then exiting",
	    sig == SIGTERM ? "SIGTERM" : "SIGINT");
	notify_systemd("STOPPING=1");
	http_stop(srv, cfg->shutdown_timeout);
	notify_stop();
	cache_stop();
	db_shutdown();
	log_info("stopped");
	rc = 0;
out:
	PQfinish(conn);
	migrate_set_release(&set);
	return rc;
}

static int
add_flag(struct options *o, const char *key, const char *value)
{
	if (o->nflags == (int)(sizeof(o->flags) / sizeof(o->flags[0])))
		return -1;
	o->flags[o->nflags].key = key;
	o->flags[o->nflags].value = value;
	o->nflags++;
	return 0;
}

int
main(int argc, char **argv)
{
	struct options o;
	struct config cfg;
	const char *cmd;
	int c, rc;

	memset(&o, 0, sizeof(o));
	while ((c = getopt_long(argc, argv, "c:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.config_path = optarg; break;
		case OPT_DATABASE_URL: add_flag(&o, "database_url", optarg); break;
		case OPT_LISTEN: add_flag(&o, "listen", optarg); break;
		case OPT_THREADS: add_flag(&o, "threads", optarg); break;
		case OPT_LOG_LEVEL: add_flag(&o, "log_level", optarg); break;
		case OPT_MIGRATIONS: add_flag(&o, "migrations_dir", optarg); break;
		case OPT_MIGRATE: o.migrate = true; break;
		case OPT_CHECK_CONFIG: o.check_config = true; break;
		case OPT_ROLE: o.role = optarg; break;
		case OPT_CLINICIAN: o.clinician = optarg; break;
		case OPT_IF_NO_ADMIN: o.if_no_admin = true; break;
		case OPT_TLS_CERT: add_flag(&o, "tls_cert", optarg); break;
		case OPT_TLS_KEY: add_flag(&o, "tls_key", optarg); break;
		case OPT_INSECURE_HTTP: add_flag(&o, "insecure_http", "true");
			break;
		case 'h':
			fputs(usage_text, stdout);
			print_settings();
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		case 'V':
			printf("certrackd %s\n", CERTRACK_VERSION);
			return fflush(stdout) == 0 && !ferror(stdout) ? 0 : 1;
		default:
			fprintf(stderr, "certrackd: try 'certrackd --help'\n");
			return 2;
		}
	}
	cmd = optind < argc ? argv[optind] : "serve";
	if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "migrate") != 0 &&
	    strcmp(cmd, "create-user") != 0)
		return usage_error("unknown command '%s'", cmd);
	if (strcmp(cmd, "create-user") == 0) {
		if (optind + 2 != argc)
			return usage_error("%s", "usage: certrackd create-user "
			    "NAME --role ROLE [--clinician ID]");
	} else if (optind + 1 < argc) {
		return usage_error("unexpected argument '%s'", argv[optind + 1]);
	}
	if ((o.role || o.clinician || o.if_no_admin) &&
	    strcmp(cmd, "create-user") != 0)
		return usage_error("%s", "--role, --clinician and --if-no-admin "
		    "go with create-user");

	if (sodium_init() < 0) {
		fprintf(stderr, "certrackd: libsodium failed to initialise\n");
		return 1;
	}
	if (load_config(&cfg, &o, o.check_config ||
	    strcmp(cmd, "serve") == 0) != 0) {
		fprintf(stderr, "certrackd: the configuration has mistakes\n");
		config_release(&cfg);
		return o.check_config ? 1 : 2;
	}
	if (o.check_config) {
		printf("configuration ok\n");
		rc = fflush(stdout) == 0 ? 0 : 1;
	} else if (strcmp(cmd, "migrate") == 0) {
		rc = cmd_migrate(&cfg);
	} else if (strcmp(cmd, "create-user") == 0) {
		rc = cmd_create_user(&cfg, &o, argv[optind + 1]);
	} else {
		rc = serve(&cfg, &o);
	}
	config_release(&cfg);
	return rc;
}
