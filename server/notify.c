/*
 * The notification worker: one thread per daemon, on a database
 * connection of its own, that delivers the outbox of
 * sql/0014_notifications.sql and runs the daily expiry sweep.
 *
 * A round: claim at most notify_max_concurrent due deliveries
 * (notify_claim(): FOR UPDATE SKIP LOCKED, each moved past its timeout so
 * no other daemon takes it meanwhile), deliver them at once with libcurl's
 * multi interface (webhooks by HTTP POST, emails by SMTP), each bounded by
 * notify_timeout_ms and the answer read up to notify_max_response_bytes,
 * then record each result (notify_record(): delivered, due again after a
 * backoff, or failed; an endpoint's failures counted).  Between rounds the
 * worker sleeps up to notify_poll_ms, woken early by the outbox's
 * pg_notify.  Every database wait has a deadline, so a frozen database
 * never holds the worker (or the daemon's shutdown) for long.
 */
#include "certrack/notify.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <curl/curl.h>
#include <libpq-fe.h>
#include <sodium.h>

#include "certrack/log.h"
#include "certrack/strbuf.h"
#include "certrack/strnum.h"

/* What a database statement of the worker may take, at most. */
#define NOTIFY_DB_MS 30000
/* A claim lasts the delivery's timeout and this margin. */
#define NOTIFY_LEASE_MARGIN_MS 30000
/* How often the sweep is looked at (it runs once a day). */
#define NOTIFY_SWEEP_CHECK_MS 60000
/* What of an answer the delivery log keeps. */
#define NOTIFY_LOG_BYTES 1024

/* The settings the worker needs, copied at start. */
struct settings {
	char *database_url;
	char *smtp_url, *smtp_from, *smtp_user, *smtp_password;
	bool smtp_starttls;
	int poll_ms, max_concurrent, timeout_ms;
	long long max_response;
	int max_attempts, retry_base_ms, retry_max_ms, disable_after;
	bool allow_private;
	char *sweep_at;
};

static struct settings S;
static pthread_t worker;
static bool running;
static atomic_bool stopping;
static int wake_pipe[2] = { -1, -1 };

/* ---- signatures and URLs ---------------------------------------------- */

void
notify_new_secret(char out[NOTIFY_SECRET_LEN])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, "whsec_", 6);
	sodium_bin2hex(out + 6, NOTIFY_SECRET_LEN - 6, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
}

void
notify_sign(const char *secret, long long ts, const char *body, size_t len,
    char out[NOTIFY_SIGNATURE_LEN])
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char stamp[32], hex[2 * crypto_auth_hmacsha256_BYTES + 1];
	int n = snprintf(stamp, sizeof(stamp), "%lld.", ts);

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)stamp,
	    (unsigned long long)n);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, len);
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(out, NOTIFY_SIGNATURE_LEN, "t=%lld,v1=%s", ts, hex);
}

int
notify_url_check(const char *url, struct cterr *err)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL;
	int rc = -1;

	if (u == NULL)
		return cterr_set(err, 500, "internal", NULL, "out of memory");
	if (strlen(url) > 2048) {
		cterr_set(err, 422, "invalid_url", "url", "a webhook URL has "
		    "at most 2048 characters");
		goto out;
	}
	if (strpbrk(url, " \t\r\n") != NULL ||
	    curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		cterr_set(err, 422, "invalid_url", "url", "'%s' is not a URL "
		    "(http://HOST/PATH or https://HOST/PATH)", url);
		goto out;
	}
	if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
		cterr_set(err, 422, "invalid_url", "url", "a webhook URL is "
		    "http:// or https://, not %s://", scheme);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    *host == '\0') {
		cterr_set(err, 422, "invalid_url", "url", "'%s' is not a URL "
		    "(http://HOST/PATH or https://HOST/PATH)", url);
		goto out;
	}
	/* the URL as written must say so too (the parser guesses schemes) */
	if (strncasecmp(url, "http://", 7) != 0 &&
	    strncasecmp(url, "https://", 8) != 0) {
		cterr_set(err, 422, "invalid_url", "url", "a webhook URL "
		    "starts with http:// or https://");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		cterr_set(err, 422, "invalid_url", "url", "a webhook URL "
		    "carries no user name or password");
		goto out;
	}
	rc = 0;
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_url_cleanup(u);
	return rc;
}

/* ---- the worker's database connection ---------------------------------- */

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static PGconn *conn;
static bool db_complained;	/* said the database is gone, once */

static void
db_trouble(const char *what, const char *why)
{
	char line[300];

	snprintf(line, sizeof(line), "%s", why ? why : "");
	line[strcspn(line, "\n")] = '\0';
	if (!db_complained)
		log_warn("notifications: %s: %s; retrying", what, line);
	db_complained = true;
}

static void
db_drop(void)
{
	PQfinish(conn);
	conn = NULL;
}

/*
 * Runs SQL with N text PARAMS on the worker's connection, waiting at most
 * NOTIFY_DB_MS (and not past a stop).  Returns the result when it is
 * TUPLES_OK or COMMAND_OK (caller PQclear()s), else NULL (the connection
 * dropped when it was lost or too slow).
 */
static PGresult *
db_query(const char *sql, int n, const char *const *params)
{
	double deadline = now_ms() + NOTIFY_DB_MS;
	PGresult *res, *last = NULL;

	if (conn == NULL)
		return NULL;
	if (!PQsendQueryParams(conn, sql, n, NULL, params, NULL, NULL, 0)) {
		db_trouble("cannot reach the database", PQerrorMessage(conn));
		db_drop();
		return NULL;
	}
	for (;;) {
		while (PQisBusy(conn)) {
			struct pollfd p = { PQsocket(conn), POLLIN, 0 };
			double left = deadline - now_ms();

			if (left <= 0 || atomic_load(&stopping)) {
				db_trouble("the database does not answer",
				    "gave up waiting");
				db_drop();
				PQclear(last);
				return NULL;
			}
			if (poll(&p, 1, left > 200 ? 200 : (int)left + 1) < 0 ||
			    !PQconsumeInput(conn)) {
				db_trouble("cannot reach the database",
				    PQerrorMessage(conn));
				db_drop();
				PQclear(last);
				return NULL;
			}
		}
		if ((res = PQgetResult(conn)) == NULL)
			break;
		PQclear(last);
		last = res;
	}
	if (last == NULL || (PQresultStatus(last) != PGRES_TUPLES_OK &&
	    PQresultStatus(last) != PGRES_COMMAND_OK)) {
		log_warn("notifications: %s", last ?
		    PQresultErrorMessage(last) : PQerrorMessage(conn));
		if (PQstatus(conn) != CONNECTION_OK)
			db_drop();
		PQclear(last);
		return NULL;
	}
	if (db_complained)
		log_info("notifications: the database answers again");
	db_complained = false;
	return last;
}

static bool
db_connect(void)
{
	const char *keys[] = { "dbname", "connect_timeout",
	    "application_name", NULL };
	const char *vals[] = { S.database_url, "5", "certrackd-notify", NULL };
	PGresult *res;

	conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(conn) != CONNECTION_OK) {
		db_trouble("cannot reach the database", PQerrorMessage(conn));
		db_drop();
		return false;
	}
	PQsetnonblocking(conn, 1);
	res = db_query("SELECT set_config('TimeZone', 'UTC', false), "
	    "set_config('statement_timeout', '" "30000" "', false)", 0, NULL);
	if (res == NULL)
		return false;
	PQclear(res);
	if ((res = db_query("LISTEN certrack_outbox", 0, NULL)) == NULL)
		return false;
	PQclear(res);
	return true;
}

/* ---- one delivery ---------------------------------------------------- */

struct job {
	CURL *h;
	char id[24];
	int attempt;
	bool email;
	char *payload;		/* webhook body, or the whole email */
	size_t len, sent;
	struct curl_slist *list;	/* headers, or recipients */
	char kept[NOTIFY_LOG_BYTES + 1];	/* the answer's start */
	size_t nkept;
	long long total;	/* bytes of answer read */
	bool too_big, blocked;
	char errbuf[CURL_ERROR_SIZE];
	double started;
	bool done;
	CURLcode rc;
};

static size_t
on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t len = size * n;

	j->total += (long long)len;
	if (j->total > S.max_response) {
		j->too_big = true;
		return 0;	/* stops the transfer */
	}
	if (j->nkept < NOTIFY_LOG_BYTES) {
		size_t take = NOTIFY_LOG_BYTES - j->nkept;
		if (take > len)
			take = len;
		/* kept as printable ASCII: the log is text */
		for (size_t i = 0; i < take; i++)
			j->kept[j->nkept + i] = p[i] >= 0x20 && p[i] < 0x7f ?
			    p[i] : (p[i] == '\n' ? '\n' : '?');
		j->nkept += take;
		j->kept[j->nkept] = '\0';
	}
	return len;
}

static size_t
on_read(char *buf, size_t size, size_t n, void *arg)
{
	struct job *j = arg;
	size_t room = size * n, left = j->len - j->sent;

	if (room > left)
		room = left;
	memcpy(buf, j->payload + j->sent, room);
	j->sent += room;
	return room;
}

/* True for an address a webhook must not reach unless allowed: loopback,
 * private, link-local, shared, multicast and reserved ranges. */
static bool
address_private(const struct sockaddr *sa)
{
	const unsigned char *a;

	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)sa;
		static const unsigned char v4map[12] = { [10] = 0xff,
		    [11] = 0xff };
		a = s6->sin6_addr.s6_addr;
		if (memcmp(a, v4map, 12) == 0) {
			a += 12;
			goto v4;
		}
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr) ||
		    IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr) ||
		    IN6_IS_ADDR_MULTICAST(&s6->sin6_addr) ||
		    (a[0] & 0xfe) == 0xfc;	/* fc00::/7 unique local */
	}
	if (sa->sa_family != AF_INET)
		return true;
	a = (const unsigned char *)&((const struct sockaddr_in *)
	    (const void *)sa)->sin_addr.s_addr;
v4:
	return a[0] == 0 || a[0] == 10 || a[0] == 127 || a[0] >= 224 ||
	    (a[0] == 100 && (a[1] & 0xc0) == 64) ||
	    (a[0] == 169 && a[1] == 254) ||
	    (a[0] == 172 && (a[1] & 0xf0) == 16) ||
	    (a[0] == 192 && a[1] == 168) ||
	    (a[0] == 192 && a[1] == 0 && a[2] == 0) ||
	    (a[0] == 198 && (a[1] & 0xfe) == 18);
}

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct job *j = arg;

	(void)purpose;
	if (!S.allow_private && address_private(&addr->addr)) {
		j->blocked = true;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype, addr->protocol);
}

static void
common_options(struct job *j)
{
	curl_easy_setopt(j->h, CURLOPT_PRIVATE, j);
	curl_easy_setopt(j->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, (long)S.timeout_ms);
	curl_easy_setopt(j->h, CURLOPT_CONNECTTIMEOUT_MS, (long)S.timeout_ms);
	curl_easy_setopt(j->h, CURLOPT_ERRORBUFFER, j->errbuf);
	curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(j->h, CURLOPT_WRITEDATA, j);
	/* no proxy from the environment: the address check is about the
	 * receiver, not a proxy in between */
	curl_easy_setopt(j->h, CURLOPT_PROXY, "");
}

/* A webhook: POST BODY to URL, signed with SECRET. */
static int
webhook_setup(struct job *j, const char *url, const char *secret,
    const char *kind)
{
	char sig[NOTIFY_SIGNATURE_LEN], line[200];
	struct curl_slist *l = NULL;

	notify_sign(secret, (long long)time(NULL), j->payload, j->len, sig);
	l = curl_slist_append(l, "Content-Type: application/json");
	snprintf(line, sizeof(line), NOTIFY_SIGNATURE_HEADER ": %s", sig);
	l = l ? curl_slist_append(l, line) : NULL;
	snprintf(line, sizeof(line), "Certrack-Event: %s", kind);
	l = l ? curl_slist_append(l, line) : NULL;
	snprintf(line, sizeof(line), "Certrack-Delivery: %s", j->id);
	l = l ? curl_slist_append(l, line) : NULL;
	l = l ? curl_slist_append(l, "Expect:") : NULL;
	if (l == NULL)
		return -1;
	j->list = l;
	common_options(j);
	curl_easy_setopt(j->h, CURLOPT_URL, url);
	curl_easy_setopt(j->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(j->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(j->h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(j->h, CURLOPT_OPENSOCKETDATA, j);
	curl_easy_setopt(j->h, CURLOPT_USERAGENT, "certrackd/" CERTRACK_VERSION);
	curl_easy_setopt(j->h, CURLOPT_HTTPHEADER, l);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDS, j->payload);
	curl_easy_setopt(j->h, CURLOPT_POSTFIELDSIZE, (long)j->len);
	return 0;
}

/* A header's text for a Subject: as it is when ASCII, else RFC 2047. */
static void
add_subject(struct strbuf *sb, const char *s)
{
	bool ascii = true;
	char *b64;
	size_t len = strlen(s), cap;

	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	if (ascii) {
		strbuf_addf(sb, "Subject: %s\r\n", s);
		return;
	}
	cap = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(cap)) == NULL)
		return;
	sodium_bin2base64(b64, cap, (const unsigned char *)s, len,
	    sodium_base64_VARIANT_ORIGINAL);
	strbuf_addf(sb, "Subject: =?UTF-8?B?%s?=\r\n", b64);
	free(b64);
}

/* An email: the message to RCPT through the relay. */
static int
email_setup(struct job *j, const char *rcpt, const char *subject,
    const char *body)
{
	struct strbuf sb;
	char date[64], from[300], to[300];
	time_t t = time(NULL);
	struct tm tm;
	const char *domain = strchr(S.smtp_from, '@');

	strbuf_init(&sb);
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	strbuf_addf(&sb, "Date: %s\r\nFrom: <%s>\r\nTo: <%s>\r\n", date,
	    S.smtp_from, rcpt);
	add_subject(&sb, subject);
	strbuf_addf(&sb, "Message-ID: <certrack-delivery-%s-%d@%s>\r\n",
	    j->id, j->attempt, domain ? domain + 1 : "certrack");
	strbuf_addf(&sb, "MIME-Version: 1.0\r\nContent-Type: text/plain; "
	    "charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
	    "Auto-Submitted: auto-generated\r\n\r\n");
	for (const char *p = body; *p != '\0'; p++) {
		if (*p == '\n' && (p == body || p[-1] != '\r'))
			strbuf_add(&sb, "\r", 1);
		strbuf_add(&sb, p, 1);
	}
	if (strbuf_failed(&sb)) {
		strbuf_release(&sb);
		return -1;
	}
	j->payload = strbuf_detach(&sb, &j->len);
	snprintf(from, sizeof(from), "<%s>", S.smtp_from);
	snprintf(to, sizeof(to), "<%s>", rcpt);
	if ((j->list = curl_slist_append(NULL, to)) == NULL)
		return -1;
	common_options(j);
	curl_easy_setopt(j->h, CURLOPT_URL, S.smtp_url);
	curl_easy_setopt(j->h, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(j->h, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(j->h, CURLOPT_MAIL_RCPT, j->list);
	curl_easy_setopt(j->h, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(j->h, CURLOPT_READFUNCTION, on_read);
	curl_easy_setopt(j->h, CURLOPT_READDATA, j);
	curl_easy_setopt(j->h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
	curl_easy_setopt(j->h, CURLOPT_USE_SSL, S.smtp_starttls ?
	    (long)CURLUSESSL_ALL : (long)CURLUSESSL_NONE);
	if (S.smtp_user != NULL) {
		curl_easy_setopt(j->h, CURLOPT_USERNAME, S.smtp_user);
		curl_easy_setopt(j->h, CURLOPT_PASSWORD, S.smtp_password ?
		    S.smtp_password : "");
	}
	return 0;
}

static void
job_release(struct job *j)
{
	if (j->h != NULL)
		curl_easy_cleanup(j->h);
	curl_slist_free_all(j->list);
	free(j->payload);
	memset(j, 0, sizeof(*j));
}

/* Records J's outcome with notify_record(). */
static void
record(struct job *j)
{
	char attempt[16], code[16], dur[16], maxa[16], base[16], maxms[16],
	    dis[16], why[CURL_ERROR_SIZE + 100];
	const char *params[11];
	long status = 0;
	bool ok;
	PGresult *res;

	curl_easy_getinfo(j->h, CURLINFO_RESPONSE_CODE, &status);
	ok = j->rc == CURLE_OK && (j->email || (status >= 200 && status < 300));
	why[0] = '\0';
	if (j->blocked)
		snprintf(why, sizeof(why), "refused: the address is private "
		    "or loopback (notify_allow_private is off)");
	else if (j->too_big)
		snprintf(why, sizeof(why), "the answer is larger than %lld "
		    "bytes", S.max_response);
	else if (j->rc != CURLE_OK)
		snprintf(why, sizeof(why), "%s", j->errbuf[0] ? j->errbuf :
		    curl_easy_strerror(j->rc));
	else if (!ok)
		snprintf(why, sizeof(why), "answered HTTP %ld", status);
	snprintf(attempt, sizeof(attempt), "%d", j->attempt);
	snprintf(code, sizeof(code), "%ld", status);
	snprintf(dur, sizeof(dur), "%d", (int)(now_ms() - j->started));
	snprintf(maxa, sizeof(maxa), "%d", S.max_attempts);
	snprintf(base, sizeof(base), "%d", S.retry_base_ms);
	snprintf(maxms, sizeof(maxms), "%d", S.retry_max_ms);
	snprintf(dis, sizeof(dis), "%d", S.disable_after);
	params[0] = j->id;
	params[1] = attempt;
	params[2] = ok ? "true" : "false";
	params[3] = status > 0 && !j->email ? code : NULL;
	params[4] = ok ? NULL : why;
	params[5] = j->nkept > 0 && !j->email ? j->kept : NULL;
	params[6] = dur;
	params[7] = maxa;
	params[8] = base;
	params[9] = maxms;
	params[10] = dis;
	res = db_query("SELECT notify_record($1::bigint, $2::int, $3::boolean,"
	     " $4::int, $5, $6,"
	    " $7::int, $8::int, $9::int, $10::int, $11::int)", 11, params);
	PQclear(res);
	if (ok)
		log_debug("notifications: delivery %s delivered (attempt %d)",
		    j->id, j->attempt);
	else
		log_info("notifications: delivery %s attempt %d failed: %s",
		    j->id, j->attempt, why);
}

/*
 * One round: claims due deliveries and delivers them at once.  Returns how
 * many were claimed, or -1 when the database failed.
 */
static int
round_once(CURLM *multi, struct job *jobs)
{
	char lim[16], lease[16];
	const char *params[3] = { lim, S.smtp_url ? "true" : "false", lease };
	PGresult *res;
	int n, active = 0, still;

	snprintf(lim, sizeof(lim), "%d", S.max_concurrent);
	snprintf(lease, sizeof(lease), "%d", S.timeout_ms +
	    NOTIFY_LEASE_MARGIN_MS);
	res = db_query("SELECT id, channel, attempt, kind, body, url, secret,"
	    " recipient, subject, email_body FROM notify_claim($1::int,"
	    " $2::boolean, $3::int)", 3, params);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	for (int i = 0; i < n && i < S.max_concurrent; i++) {
		struct job *j = &jobs[i];
		int rc;

		memset(j, 0, sizeof(*j));
		snprintf(j->id, sizeof(j->id), "%s", PQgetvalue(res, i, 0));
		strnum_int(PQgetvalue(res, i, 2), 1, 1 << 30, &j->attempt, NULL);
		j->email = strcmp(PQgetvalue(res, i, 1), "email") == 0;
		j->started = now_ms();
		if ((j->h = curl_easy_init()) == NULL) {
			j->done = true;
			j->rc = CURLE_OUT_OF_MEMORY;
			continue;
		}
		if (j->email) {
			rc = email_setup(j, PQgetvalue(res, i, 7),
			    PQgetvalue(res, i, 8), PQgetvalue(res, i, 9));
		} else {
			j->payload = strdup(PQgetvalue(res, i, 4));
			j->len = j->payload ? strlen(j->payload) : 0;
			rc = j->payload == NULL ? -1 : webhook_setup(j,
			    PQgetvalue(res, i, 5), PQgetvalue(res, i, 6),
			    PQgetvalue(res, i, 3));
		}
		if (rc != 0 || curl_multi_add_handle(multi, j->h) != CURLM_OK) {
			j->done = true;
			j->rc = CURLE_OUT_OF_MEMORY;
			continue;
		}
		active++;
	}
	PQclear(res);
	/* each transfer ends by its own timeout; a stop abandons them */
	still = active;
	while (still > 0 && !atomic_load(&stopping)) {
		CURLMsg *m;
		int left;

		curl_multi_perform(multi, &still);
		while ((m = curl_multi_info_read(multi, &left)) != NULL) {
			struct job *j = NULL;
			if (m->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
			    (char **)&j);
			j->done = true;
			j->rc = m->data.result;
		}
		if (still > 0)
			curl_multi_poll(multi, NULL, 0, 100, NULL);
	}
	for (int i = 0; i < n && i < S.max_concurrent; i++) {
		struct job *j = &jobs[i];

		if (j->done && !atomic_load(&stopping) && conn != NULL)
			record(j);
		if (j->h != NULL)
			curl_multi_remove_handle(multi, j->h);
		job_release(j);
	}
	return n;
}

/* Runs the sweep if it is due; logs what it queued. */
static void
sweep(void)
{
	const char *params[1] = { S.sweep_at };
	PGresult *res = db_query("SELECT status, queued FROM "
	    "notify_sweep_run($1::time)", 1, params);

	if (res == NULL)
		return;
	if (PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "swept") == 0)
		log_info("notifications: the daily sweep queued %s expiry "
		    "notices", PQgetvalue(res, 0, 1));
	else if (PQntuples(res) == 1)
		log_debug("notifications: sweep %s", PQgetvalue(res, 0, 0));
	PQclear(res);
}

/* Sleeps up to MS, woken by the outbox's notification or a stop. */
static void
nap(int ms)
{
	struct pollfd p[2] = { { wake_pipe[0], POLLIN, 0 },
	    { conn ? PQsocket(conn) : -1, POLLIN, 0 } };
	PGnotify *n;

	if (poll(p, conn ? 2 : 1, ms) > 0 && conn != NULL &&
	    (p[1].revents & POLLIN)) {
		if (!PQconsumeInput(conn)) {
			db_trouble("cannot reach the database",
			    PQerrorMessage(conn));
			db_drop();
			return;
		}
	}
	if (conn != NULL)
		while ((n = PQnotifies(conn)) != NULL)
			PQfreemem(n);
}

static void *
work(void *arg)
{
	CURLM *multi = curl_multi_init();
	struct job *jobs = calloc((size_t)S.max_concurrent, sizeof(*jobs));
	double next_sweep = 0;

	(void)arg;
	if (multi == NULL || jobs == NULL) {
		log_error("notifications: out of memory; nothing is delivered");
		goto out;
	}
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)S.max_concurrent);
	while (!atomic_load(&stopping)) {
		int n;

		if (conn == NULL && !db_connect()) {
			nap(1000);
			continue;
		}
		if (now_ms() >= next_sweep) {
			sweep();
			next_sweep = now_ms() + NOTIFY_SWEEP_CHECK_MS;
		}
		n = conn ? round_once(multi, jobs) : -1;
		if (n >= S.max_concurrent)
			continue;	/* more may be due */
		nap(S.poll_ms);
	}
out:
	free(jobs);
	if (multi != NULL)
		curl_multi_cleanup(multi);
	db_drop();
	return NULL;
}

static void
settings_release(void)
{
	free(S.database_url);
	free(S.smtp_url);
	free(S.smtp_from);
	free(S.smtp_user);
	if (S.smtp_password != NULL)
		sodium_memzero(S.smtp_password, strlen(S.smtp_password));
	free(S.smtp_password);
	free(S.sweep_at);
	memset(&S, 0, sizeof(S));
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int
notify_start(const struct config *cfg)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	if (!cfg->notify_enabled) {
		log_info("notifications: off (notify_enabled = false)");
		return 0;
	}
	memset(&S, 0, sizeof(S));
	S.database_url = dup_or_null(cfg->database_url);
	S.smtp_url = dup_or_null(cfg->smtp_url);
	S.smtp_from = dup_or_null(cfg->smtp_from);
	S.smtp_user = dup_or_null(cfg->smtp_user);
	S.smtp_password = dup_or_null(cfg->smtp_password);
	S.sweep_at = dup_or_null(cfg->notify_sweep_at);
	S.smtp_starttls = cfg->smtp_starttls;
	S.poll_ms = cfg->notify_poll_ms;
	S.max_concurrent = cfg->notify_max_concurrent;
	S.timeout_ms = cfg->notify_timeout_ms;
	S.max_response = cfg->notify_max_response_bytes;
	S.max_attempts = cfg->notify_max_attempts;
	S.retry_base_ms = cfg->notify_retry_base_ms;
	S.retry_max_ms = cfg->notify_retry_max_ms;
	S.disable_after = cfg->notify_disable_after;
	S.allow_private = cfg->notify_allow_private;
	if (S.database_url == NULL || S.sweep_at == NULL ||
	    pipe(wake_pipe) != 0) {
		settings_release();
		return -1;
	}
	atomic_store(&stopping, false);
	if (pthread_create(&worker, NULL, work, NULL) != 0) {
		close(wake_pipe[0]);
		close(wake_pipe[1]);
		settings_release();
		return -1;
	}
	running = true;
	log_info("notifications: delivering webhooks%s, %d at a time; the "
	    "daily sweep at %s", S.smtp_url ? " and email" : "",
	    S.max_concurrent, S.sweep_at);
	return 0;
}

void
notify_stop(void)
{
	if (!running)
		return;
	atomic_store(&stopping, true);
	if (write(wake_pipe[1], "x", 1) < 0)
		log_warn_errno("notifications: cannot wake the worker");
	pthread_join(worker, NULL);
	close(wake_pipe[0]);
	close(wake_pipe[1]);
	wake_pipe[0] = wake_pipe[1] = -1;
	running = false;
	settings_release();
}
