/*
 * End to end: notifications (docs/notifications.md).
 *
 * A real certrackd delivers to a webhook receiver this test runs (a thread
 * with a socket: it keeps each request and answers the status the test
 * sets) and to a real SMTP server (python3-aiosmtpd as a child process,
 * killed by pid).  Covered: a certificate issued by the real import path
 * writes exactly one event in its own transaction (a refused import none);
 * the webhook's signature checks out with libsodium (and fails with another
 * secret); the email reaches the clinician; a 500 is retried with backoff,
 * a delivery given up after notify_max_attempts and the endpoint disabled
 * after notify_disable_after failures in a row, then enabled and replayed;
 * the daily sweep twice queues each expiry notice once, on the exact
 * boundaries (90, 30, 7 days; expired); a delivery round reads what it
 * can send, not the backlog; two daemons sweep once and deliver each
 * delivery once; a private address is refused unless allowed; the
 * admin routes and `certrack webhooks`.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <strings.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>

#include "testlib.h"
#include "certrack/strbuf.h"

/* ---- the webhook receiver ---------------------------------------------- */

#define MAX_HITS 256

struct hit {
	char path[64];
	char signature[128];
	char event[64];
	char delivery[24];
	char *body;
	double at;
};

static struct {
	int fd, port;
	pthread_t thread;
	atomic_bool stop;
	atomic_int status;	/* what it answers */
	pthread_mutex_t mu;
	struct hit hits[MAX_HITS];
	int n;
} rx = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* The value of header NAME in HEAD (case-insensitive) into OUT. */
static void
header_of(const char *head, const char *name, char *out, size_t len)
{
	size_t n = strlen(name);

	out[0] = '\0';
	for (const char *p = head; (p = strchr(p, '\n')) != NULL; ) {
		p++;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			while (*v == ' ')
				v++;
			snprintf(out, len, "%.*s", (int)strcspn(v, "\r\n"), v);
			return;
		}
	}
}

static void
serve_one(int c)
{
	struct strbuf sb;
	char buf[4096], cl[24], reply[128];
	char *end = NULL;
	long body_len = -1;
	ssize_t got;
	struct hit h;

	strbuf_init(&sb);
	for (;;) {
		if ((got = recv(c, buf, sizeof(buf), 0)) <= 0)
			break;
		strbuf_add(&sb, buf, (size_t)got);
		if (end == NULL && (end = strstr(sb.buf, "\r\n\r\n")) != NULL) {
			header_of(sb.buf, "Content-Length", cl, sizeof(cl));
			body_len = strtol(cl, NULL, 10);
		}
		end = strstr(sb.buf, "\r\n\r\n");
		if (end != NULL && (long)(sb.len - (size_t)(end + 4 - sb.buf))
		    >= body_len)
			break;
	}
	if (end != NULL) {
		memset(&h, 0, sizeof(h));
		header_of(sb.buf, "Certrack-Signature", h.signature,
		    sizeof(h.signature));
		header_of(sb.buf, "Certrack-Event", h.event, sizeof(h.event));
		header_of(sb.buf, "Certrack-Delivery", h.delivery,
		    sizeof(h.delivery));
		sscanf(sb.buf, "POST %63s", h.path);
		h.body = strdup(end + 4);
		h.at = testlib_now();
		pthread_mutex_lock(&rx.mu);
		if (rx.n < MAX_HITS)
			rx.hits[rx.n++] = h;
		else
			free(h.body);
		pthread_mutex_unlock(&rx.mu);
	}
	snprintf(reply, sizeof(reply), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n"
	    "Connection: close\r\n\r\nok", atomic_load(&rx.status));
	if (send(c, reply, strlen(reply), MSG_NOSIGNAL) < 0)
		perror("receiver send");
	strbuf_release(&sb);
	close(c);
}

static void *
receive(void *arg)
{
	(void)arg;
	while (!atomic_load(&rx.stop)) {
		struct pollfd p = { rx.fd, POLLIN, 0 };
		if (poll(&p, 1, 100) > 0) {
			int c = accept(rx.fd, NULL, NULL);
			if (c >= 0)
				serve_one(c);
		}
	}
	return NULL;
}

static void
receiver_start(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1;

	rx.fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(rx.fd >= 0);
	setsockopt(rx.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(rx.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(rx.fd, 64), 0);
	getsockname(rx.fd, (struct sockaddr *)&sa, &len);
	rx.port = ntohs(sa.sin_port);
	atomic_store(&rx.status, 200);
	assert_int_equal(pthread_create(&rx.thread, NULL, receive, NULL), 0);
}

static void
receiver_stop(void)
{
	atomic_store(&rx.stop, true);
	pthread_join(rx.thread, NULL);
	close(rx.fd);
	for (int i = 0; i < rx.n; i++)
		free(rx.hits[i].body);
}

/* How many requests came to PATH, and how many distinct deliveries. */
static int
hits_at(const char *path, int *distinct)
{
	int n = 0;

	*distinct = 0;
	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.n; i++) {
		bool seen = false;
		if (strcmp(rx.hits[i].path, path) != 0)
			continue;
		n++;
		for (int k = 0; k < i; k++)
			if (strcmp(rx.hits[k].path, path) == 0 &&
			    strcmp(rx.hits[k].delivery,
			    rx.hits[i].delivery) == 0)
				seen = true;
		if (!seen)
			(*distinct)++;
	}
	pthread_mutex_unlock(&rx.mu);
	return n;
}

/* How many requests for EVENT came (NULL: any). */
static int
hits_of(const char *event)
{
	int n = 0;

	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.n; i++)
		if (event == NULL || strcmp(rx.hits[i].event, event) == 0)
			n++;
	pthread_mutex_unlock(&rx.mu);
	return n;
}

/* ---- the SMTP server -------------------------------------------------- */

static pid_t smtp_pid;
static int smtp_port;
static char smtp_out[512];

static void
smtp_start(void)
{
	char listen_at[64];
	int fd;

	smtp_port = testlib_free_port();
	snprintf(listen_at, sizeof(listen_at), "127.0.0.1:%d", smtp_port);
	snprintf(smtp_out, sizeof(smtp_out), "%s/e2e_notify_smtp.out",
	    testlib_env("CERTRACK_TEST_TMP"));
	smtp_pid = fork();
	assert_true(smtp_pid >= 0);
	if (smtp_pid == 0) {
		fd = open(smtp_out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execl("/usr/bin/python3", "python3", "-u", "-m", "aiosmtpd",
		    "-n", "-l", listen_at, (char *)NULL);
		_exit(127);
	}
	/* up when it accepts a connection */
	for (int i = 0; i < 100; i++) {
		struct sockaddr_in sa;
		int s = socket(AF_INET, SOCK_STREAM, 0);
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_port = htons((uint16_t)smtp_port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(s);
			return;
		}
		close(s);
		usleep(100 * 1000);
	}
	fail_msg("aiosmtpd did not start on port %d", smtp_port);
}

static void
smtp_stop(void)
{
	if (smtp_pid > 0) {
		kill(smtp_pid, SIGTERM);
		waitpid(smtp_pid, NULL, 0);
		smtp_pid = 0;
	}
}

static char *
file_text(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct strbuf sb;
	char buf[4096];
	size_t n;

	strbuf_init(&sb);
	strbuf_addstr(&sb, "");
	if (fp != NULL) {
		while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
			strbuf_add(&sb, buf, n);
		fclose(fp);
	}
	return strbuf_detach(&sb, NULL);
}

/* ---- helpers ----------------------------------------------------------- */

static struct testlib_world w;

static long long
sql_ll(PGconn *db, const char *fmt, ...)
{
	char sql[2048], *v;
	long long n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	v = testdb_value(db, sql);
	n = v ? strtoll(v, NULL, 10) : -1;
	free(v);
	return n;
}

/* Waits up to SECS for SQL (one number) to be WANT; fails otherwise. */
static void
wait_for(PGconn *db, const char *sql, long long want, double secs)
{
	double until = testlib_now() + secs;
	long long got;

	while ((got = sql_ll(db, "%s", sql)) != want) {
		if (testlib_now() > until)
			fail_msg("after %.0f s: %s is %lld, not %lld", secs, sql,
			    got, want);
		usleep(50 * 1000);
	}
}

static void
day(int offset, char *out)
{
	time_t t = time(NULL) + (time_t)offset * 86400;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Adds a webhook to the receiver at PATH; its id, its secret in SECRET. */
static long long
add_webhook(int port, const char *token, const char *path, char *secret,
    size_t len)
{
	char body[256], *resp = NULL;
	json_t *j, *hook;
	long long id;

	snprintf(body, sizeof(body), "{\"url\": \"http://127.0.0.1:%d%s\", "
	    "\"description\": \"e2e\"}", rx.port, path);
	assert_int_equal(testlib_api(port, "POST", "/v1/webhooks", token, body,
	    &resp), 201);
	j = testlib_json(resp);
	hook = json_object_get(j, "webhook");
	id = testlib_int(hook, "id");
	snprintf(secret, len, "%s", testlib_str(j, "secret"));
	assert_true(json_is_true(json_object_get(hook, "enabled")));
	assert_null(json_object_get(hook, "secret"));
	json_decref(j);
	free(resp);
	return id;
}

/* The receiver's signature check: "t=TS,v1=HEX" is HMAC-SHA256 keyed with
 * SECRET over "TS.BODY". */
static bool
signature_ok(const char *header, const char *secret, const char *body)
{
	crypto_auth_hmacsha256_state st;
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	char hex[2 * crypto_auth_hmacsha256_BYTES + 1], ts[32];
	const char *v1 = strstr(header, ",v1=");

	if (strncmp(header, "t=", 2) != 0 || v1 == NULL ||
	    (size_t)(v1 - header - 2) >= sizeof(ts) - 1)
		return false;
	snprintf(ts, sizeof(ts), "%.*s.", (int)(v1 - header - 2), header + 2);
	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret,
	    strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)ts,
	    strlen(ts));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body,
	    strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	return sodium_memcmp(hex, v1 + 4, sizeof(hex) - 1) == 0 &&
	    strlen(v1 + 4) == sizeof(hex) - 1;
}

static void
notify_env(bool allow_private, const char *sweep_at)
{
	char url[64];

	snprintf(url, sizeof(url), "smtp://127.0.0.1:%d", smtp_port);
	setenv("CERTRACK_SMTP_URL", url, 1);
	setenv("CERTRACK_SMTP_FROM", "certrack@example.org", 1);
	setenv("CERTRACK_NOTIFY_ALLOW_PRIVATE", allow_private ? "true" :
	    "false", 1);
	setenv("CERTRACK_NOTIFY_POLL_MS", "100", 1);
	setenv("CERTRACK_NOTIFY_TIMEOUT_MS", "3000", 1);
	setenv("CERTRACK_NOTIFY_RETRY_BASE_MS", "400", 1);
	setenv("CERTRACK_NOTIFY_RETRY_MAX_MS", "5000", 1);
	setenv("CERTRACK_NOTIFY_MAX_ATTEMPTS", "3", 1);
	setenv("CERTRACK_NOTIFY_DISABLE_AFTER", "5", 1);
	setenv("CERTRACK_NOTIFY_SWEEP_AT", sweep_at, 1);
}

static int
setup(void **state)
{
	(void)state;
	receiver_start();
	smtp_start();
	notify_env(true, "23:59");
	testlib_world_up(&w, "e2e_notify");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	assert_int_equal(testlib_world_down(&w), 0);
	smtp_stop();
	receiver_stop();
	return 0;
}

/* ---- issued by the import path: one event, its webhook and email ------- */

static void
issued_once_signed_and_emailed(void **state)
{
	char start[11], end[11], taken[11], secret[128], csv[1024], *mail,
	    *number;
	json_t *rep = NULL;
	long long hook, cert, before;

	(void)state;
	hook = add_webhook(w.port, w.admin, "/issued", secret, sizeof(secret));
	day(-40, start);
	day(-38, end);
	day(-30, taken);
	snprintf(csv, sizeof(csv), "given_name,family_name,email,profession,"
	    "level,course_start,course_end,location,completed\n"
	    "Nora,Quill,nora@example.org,PT,DN1,%s,%s,Denver,yes\n"
	    "Omar,Reyes,omar@example.org,PT,DN1,%s,%s,Denver,yes\n",
	    start, end, start, end);
	if (testlib_import(w.port, w.admin, "kind=roster", csv, &rep) != 201)
		fail_msg("roster: %s", json_dumps(rep, 0));
	json_decref(rep);

	/* a refused import (one bad row, all or nothing) writes no event */
	before = sql_ll(w.db, "SELECT count(*) FROM notify_events");
	snprintf(csv, sizeof(csv), "email,level,kind,score,max_score,taken_on\n"
	    "nora@example.org,DN1,written,90,100,%s\n"
	    "nora@example.org,DN1,practical,95,100,%s\n"
	    "nobody@example.org,DN1,written,90,100,%s\n", taken, taken, taken);
	assert_int_equal(testlib_import(w.port, w.grader, "kind=results", csv,
	    &rep), 422);
	json_decref(rep);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM certificates"), 0);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_events"),
	    before);

	/* the same without the bad row: one certificate, one event, written
	 * by the certificate's own transaction */
	snprintf(csv, sizeof(csv), "email,level,kind,score,max_score,taken_on\n"
	    "nora@example.org,DN1,written,90,100,%s\n"
	    "nora@example.org,DN1,practical,95,100,%s\n", taken, taken);
	if (testlib_import(w.port, w.grader, "kind=results", csv, &rep) != 201)
		fail_msg("results: %s", json_dumps(rep, 0));
	json_decref(rep);
	cert = sql_ll(w.db, "SELECT id FROM certificates");
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_events "
	    "WHERE kind = 'certificate.issued'"), 1);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_events e "
	    "JOIN certificates c ON c.id = e.certificate_id "
	    "WHERE e.certificate_id = %lld AND e.xmin::text = c.xmin::text",
	    cert), 1);
	/* one delivery to the endpoint, one email to the clinician */
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_deliveries "
	    "d JOIN notify_events e ON e.id = d.event_id WHERE "
	    "e.certificate_id = %lld AND d.endpoint_id = %lld", cert, hook), 1);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_deliveries "
	    "d JOIN notify_events e ON e.id = d.event_id WHERE "
	    "e.certificate_id = %lld AND d.recipient = 'nora@example.org'",
	    cert), 1);

	wait_for(w.db, "SELECT count(*) FROM notify_deliveries WHERE status "
	    "= 'delivered'", 2, 20);
	assert_int_equal(hits_of("certificate.issued"), 1);
	number = testdb_value(w.db, "SELECT number FROM certificates");
	pthread_mutex_lock(&rx.mu);
	for (int i = 0; i < rx.n; i++) {
		struct hit *h = &rx.hits[i];
		json_t *j;

		if (strcmp(h->event, "certificate.issued") != 0)
			continue;
		assert_true(signature_ok(h->signature, secret, h->body));
		assert_false(signature_ok(h->signature, "whsec_another",
		    h->body));
		j = testlib_json(h->body);
		assert_string_equal(testlib_str(j, "type"),
		    "certificate.issued");
		assert_string_equal(testlib_str(json_object_get(json_object_get(
		    j, "data"), "certificate"), "number"), number);
		assert_string_equal(testlib_str(json_object_get(json_object_get(
		    j, "data"), "clinician"), "family_name"), "Quill");
		json_decref(j);
	}
	pthread_mutex_unlock(&rx.mu);

	/* the email reached the clinician's address with the number */
	for (int i = 0; i < 100; i++) {
		mail = file_text(smtp_out);
		if (strstr(mail, "END MESSAGE") != NULL)
			break;
		free(mail);
		mail = NULL;
		usleep(100 * 1000);
	}
	assert_non_null(mail);
	testlib_has(mail, "To: <nora@example.org>");
	testlib_has(mail, "From: <certrack@example.org>");
	testlib_has(mail, number);
	testlib_has(mail, "Dear Nora Quill");
	free(mail);

	/* a revocation: one more event; a refused second revocation none */
	char path[96], *resp = NULL;
	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", number);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin,
	    "{\"category\": \"issued_in_error\", \"note\": \"test\"}", &resp),
	    200);
	free(resp);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin,
	    "{\"category\": \"issued_in_error\", \"note\": \"test\"}", &resp),
	    409);
	free(resp);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_events "
	    "WHERE kind = 'certificate.revoked'"), 1);
	wait_for(w.db, "SELECT count(*) FROM notify_deliveries WHERE status "
	    "= 'delivered'", 4, 20);
	assert_int_equal(hits_of("certificate.revoked"), 1);
	free(number);
	/* out of the way of the tests that follow */
	snprintf(path, sizeof(path), "/v1/webhooks/%lld/disable", hook);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 200);
	free(resp);
}

/* ---- retries, giving up, disabling, replay ----------------------------- */

static void
retried_given_up_disabled_replayed(void **state)
{
	char secret[128], path[96], sql[256], *resp = NULL;
	long long hook, first, second;
	json_t *j;

	(void)state;
	atomic_store(&rx.status, 500);
	hook = add_webhook(w.port, w.admin, "/failing", secret, sizeof(secret));
	snprintf(path, sizeof(path), "/v1/webhooks/%lld/test", hook);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 202);
	j = testlib_json(resp);
	first = testlib_int(j, "id");
	assert_string_equal(testlib_str(j, "status"), "pending");
	json_decref(j);
	free(resp);

	/* three attempts (notify_max_attempts), 400 ms then 800 ms apart */
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM notify_deliveries "
	    "WHERE id = %lld AND status = 'failed'", first);
	wait_for(w.db, sql, 1, 20);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_attempts "
	    "WHERE delivery_id = %lld AND NOT ok AND http_status = 500", first),
	    3);
	assert_true(sql_ll(w.db, "SELECT extract(epoch FROM (SELECT at FROM "
	    "notify_attempts WHERE delivery_id = %lld AND attempt = 2) - "
	    "(SELECT at FROM notify_attempts WHERE delivery_id = %lld AND "
	    "attempt = 1)) * 1000", first, first) >= 400);
	assert_true(sql_ll(w.db, "SELECT extract(epoch FROM (SELECT at FROM "
	    "notify_attempts WHERE delivery_id = %lld AND attempt = 3) - "
	    "(SELECT at FROM notify_attempts WHERE delivery_id = %lld AND "
	    "attempt = 2)) * 1000", first, first) >= 800);
	/* 3 failures in a row: still enabled (disabled at 5) */
	assert_int_equal(sql_ll(w.db, "SELECT consecutive_failures FROM "
	    "webhook_endpoints WHERE id = %lld AND disabled_at IS NULL", hook),
	    3);
	/* each attempt reached the receiver */
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_attempts "
	    "a JOIN notify_deliveries d ON d.id = a.delivery_id WHERE "
	    "d.endpoint_id = %lld", hook), 3);

	/* two more failures of a second event: disabled at exactly 5 */
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 202);
	j = testlib_json(resp);
	second = testlib_int(j, "id");
	json_decref(j);
	free(resp);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM webhook_endpoints "
	    "WHERE id = %lld AND disabled_at IS NOT NULL", hook);
	wait_for(w.db, sql, 1, 20);
	usleep(1500 * 1000);	/* past the next retry: none may come */
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_attempts "
	    "a JOIN notify_deliveries d ON d.id = a.delivery_id WHERE "
	    "d.endpoint_id = %lld", hook), 5);
	assert_int_equal(sql_ll(w.db, "SELECT attempts FROM notify_deliveries "
	    "WHERE id = %lld AND status = 'pending'", second), 2);
	assert_int_equal(hits_of("webhook.test"), 5);

	/* disabled: no test, no replay; the reason is shown */
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 409);
	testlib_has(resp, "\"webhook_disabled\"");
	free(resp);
	snprintf(path, sizeof(path), "/v1/deliveries/%lld/replay", first);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 409);
	testlib_has(resp, "\"webhook_disabled\"");
	free(resp);
	assert_int_equal(testlib_api(w.port, "GET", "/v1/webhooks", w.admin,
	    NULL, &resp), 200);
	testlib_has(resp, "5 consecutive failed deliveries");
	free(resp);

	/* enabled and answering: the pending one goes, the failed one is
	 * replayed; a delivered one is not replayed */
	atomic_store(&rx.status, 204);
	snprintf(path, sizeof(path), "/v1/webhooks/%lld/enable", hook);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 200);
	free(resp);
	snprintf(path, sizeof(path), "/v1/deliveries/%lld/replay", first);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 200);
	free(resp);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM notify_deliveries "
	    "WHERE id IN (%lld, %lld) AND status = 'delivered'", first, second);
	wait_for(w.db, sql, 2, 20);
	assert_int_equal(sql_ll(w.db, "SELECT consecutive_failures FROM "
	    "webhook_endpoints WHERE id = %lld", hook), 0);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 409);
	testlib_has(resp, "\"delivery_not_failed\"");
	free(resp);
	/* the log of the replayed one: three failures, then a success */
	snprintf(path, sizeof(path), "/v1/deliveries?webhook=%lld&status="
	    "delivered", hook);
	assert_int_equal(testlib_api(w.port, "GET", path, w.admin, NULL,
	    &resp), 200);
	j = testlib_json(resp);
	assert_int_equal(testlib_int(j, "total"), 2);
	json_decref(j);
	free(resp);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM notify_attempts "
	    "WHERE delivery_id = %lld AND ok", first), 1);
	assert_int_equal(sql_ll(w.db, "SELECT count(*) FROM audit_log WHERE "
	    "(entity = 'webhook' AND entity_id = '%lld' AND action IN "
	    "('webhook.create', 'webhook.test', 'webhook.enable')) OR "
	    "(entity = 'delivery' AND entity_id = '%lld' AND action = "
	    "'delivery.replay')", hook, first), 5);
	snprintf(path, sizeof(path), "/v1/webhooks/%lld/disable", hook);
	assert_int_equal(testlib_api(w.port, "POST", path, w.admin, NULL,
	    &resp), 200);
	free(resp);
	atomic_store(&rx.status, 200);
}

/* ---- refusals of the admin routes ---------------------------------------- */

static void
webhook_refusals(void **state)
{
	static const struct {
		const char *body;
		int status;
		const char *code;
	} cases[] = {
		{ "{\"url\": \"ftp://127.0.0.1/x\"}", 422, "invalid_url" },
		{ "{\"url\": \"file:///etc/passwd\"}", 422, "invalid_url" },
		{ "{\"url\": \"gopher://127.0.0.1:25/x\"}", 422, "invalid_url" },
		{ "{\"url\": \"127.0.0.1:8080/x\"}", 422, "invalid_url" },
		{ "{\"url\": \"http://u:p@127.0.0.1/x\"}", 422, "invalid_url" },
		{ "{\"url\": \"http://\"}", 422, "invalid_url" },
		{ "{\"url\": \"https://hooks.example.org/x\", \"secret\": "
		  "\"mine\"}", 400, "unknown_field" },
		{ "{}", 422, "missing_field" },
	};
	char *resp = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = testlib_api(w.port, "POST", "/v1/webhooks", w.admin,
		    cases[i].body, &resp);
		if (st != cases[i].status || strstr(resp, cases[i].code) == NULL)
			fail_msg("%s: %d %s", cases[i].body, st, resp);
		free(resp);
	}
	assert_int_equal(testlib_api(w.port, "POST", "/v1/webhooks/999999/test",
	    w.admin, NULL, &resp), 404);
	free(resp);
	assert_int_equal(testlib_api(w.port, "POST",
	    "/v1/deliveries/999999/replay", w.admin, NULL, &resp), 404);
	free(resp);
	assert_int_equal(testlib_api(w.port, "GET", "/v1/deliveries?status=x",
	    w.admin, NULL, &resp), 400);
	free(resp);
	assert_int_equal(testlib_api(w.port, "GET", "/v1/webhooks", w.grader,
	    NULL, &resp), 403);
	free(resp);
}

/* ---- the daily sweep ------------------------------------------------------ */

/* Clinician I with a DN1 certificate expiring DAYS from today; its id. */
static long long
certificate_expiring(PGconn *db, int i, int days)
{
	return sql_ll(db, "WITH k AS (INSERT INTO clinicians (email, "
	    "given_name, family_name, profession_code) VALUES "
	    "('sweep%d@example.org', 'Sweep', 'Person%d', 'PT') RETURNING id) "
	    "INSERT INTO certificates (number, clinician_id, level_id, "
	    "issued_on, expires_on) SELECT certificate_number_new(), k.id, "
	    "(SELECT id FROM levels WHERE code = 'DN1'), current_date - 700 + "
	    "%d, current_date + %d FROM k RETURNING id", i, i, days, days);
}

/* The notice the sweep queued for certificate ID ("expiring:30",
 * "expired"), or "none". */
static void
notice_of(PGconn *db, long long id, const char *want)
{
	char sql[512], *got;

	snprintf(sql, sizeof(sql), "SELECT coalesce(string_agg(CASE kind WHEN "
	    "'certificate.expired' THEN 'expired' ELSE 'expiring:' || "
	    "(payload->'notice'->>'notice_days') END, ','), 'none') FROM "
	    "notify_events WHERE certificate_id = %lld AND dedup_key IS NOT "
	    "NULL", id);
	got = testdb_value(db, sql);
	if (strcmp(got, want) != 0)
		fail_msg("certificate %lld: %s, expected %s", id, got, want);
	free(got);
}

/* Rows of notify_deliveries this transaction has read so far. */
static long long
deliveries_read(PGconn *db)
{
	return testdb_llf(db, "SELECT coalesce(seq_tup_read, 0)"
	    " + coalesce(idx_tup_fetch, 0) FROM pg_stat_xact_user_tables"
	    " WHERE relname = 'notify_deliveries'");
}

/* In a transaction of its own, SELECT answers WANT, having read at most
 * MAX_READ deliveries. */
static void
claim_answers(PGconn *db, const char *select, const char *want,
    long long max_read)
{
	char *v;

	testdb_exec_ok(db, "BEGIN");
	v = testdb_value(db, select);
	assert_string_equal(v, want);
	free(v);
	if (deliveries_read(db) > max_read)
		fail_msg("%s: read %lld deliveries", select, deliveries_read(db));
	testdb_exec_ok(db, "ROLLBACK");
}

/*
 * A delivery round reads what it can send, not the backlog: 5,000 emails
 * pending where no daemon has SMTP (each certificate issued queues one)
 * and 2,000 delivered webhooks are not read by a claim without email (it
 * read all of them, every round, before sql/0030), which still claims the
 * one due webhook; with email it claims the oldest emails first, in
 * order, reading about as many rows as it claims.
 */
static void
claim_reads_what_it_can_send(void **state)
{
	char *conninfo;
	PGconn *db = testdb_migrated("e2e_notify_claim", &conninfo);

	(void)state;
	testdb_exec_ok(db, "INSERT INTO notify_events (kind, payload)"
	    " SELECT 'certificate.issued', '{}' FROM generate_series(1, 7000)");
	testdb_exec_ok(db, "INSERT INTO webhook_endpoints (url, secret) VALUES"
	    " ('http://127.0.0.1:9/hook', repeat('s', 32))");
	testdb_exec_ok(db, "INSERT INTO notify_deliveries (event_id, channel,"
	    " recipient) SELECT id, 'email', 'p' || id || '@example.org'"
	    " FROM notify_events WHERE id <= 5000 ORDER BY id");
	testdb_exec_ok(db, "INSERT INTO notify_deliveries (event_id, channel,"
	    " endpoint_id, status, delivered_at) SELECT id, 'webhook', 1,"
	    " 'delivered', now() FROM notify_events WHERE id > 5000 ORDER BY id");
	testdb_exec_ok(db, "INSERT INTO notify_deliveries (event_id, channel,"
	    " endpoint_id) VALUES (7000, 'webhook', 1)");

	claim_answers(db, "SELECT string_agg(channel || ':' || attempt, ',')"
	    " FROM notify_claim(10, false, 60000)", "webhook:1", 10);
	claim_answers(db, "SELECT string_agg(recipient, ',' ORDER BY id)"
	    " FROM notify_claim(3, true, 60000)",
	    "p1@example.org,p2@example.org,p3@example.org", 20);

	PQfinish(db);
	free(conninfo);
}

static void
sweep_boundaries_once(void **state)
{
	static const struct {
		int days;
		const char *notice;
	} cases[] = {
		{ 91, "none" }, { 90, "expiring:90" }, { 31, "expiring:90" },
		{ 30, "expiring:30" }, { 8, "expiring:30" }, { 7, "expiring:7" },
		{ 1, "expiring:7" }, { 0, "expired" }, { -29, "expired" },
		{ -30, "none" },
	};
	size_t n = sizeof(cases) / sizeof(cases[0]);
	long long ids[16], revoked;
	char *conninfo, *v;
	PGconn *db = testdb_migrated("e2e_notify_sweep", &conninfo), *other;

	(void)state;
	for (size_t i = 0; i < n; i++)
		ids[i] = certificate_expiring(db, (int)i, cases[i].days);
	revoked = certificate_expiring(db, 99, 30);
	testdb_exec_ok(db, "UPDATE certificates SET revoked_at = now(), "
	    "revocation_category = 'other', revocation_reason = 'test' WHERE "
	    "clinician_id = (SELECT id FROM clinicians WHERE email = "
	    "'sweep99@example.org')");
	v = testdb_value(db, "SELECT notify_sweep(current_date)");
	assert_string_equal(v, "8");
	free(v);
	for (size_t i = 0; i < n; i++)
		notice_of(db, ids[i], cases[i].notice);
	notice_of(db, revoked, "none");
	/* a second run queues nothing */
	v = testdb_value(db, "SELECT notify_sweep(current_date)");
	assert_string_equal(v, "0");
	free(v);
	/* the next day: 91 -> 90 days left, the 90-day notice; 90 -> 89,
	 * none new; 31 -> 30, the 30-day one; 8 -> 7, the 7-day one; 1 -> 0,
	 * expired */
	v = testdb_value(db, "SELECT notify_sweep(current_date + 1)");
	assert_string_equal(v, "4");
	free(v);
	notice_of(db, ids[0], "expiring:90");
	notice_of(db, ids[1], "expiring:90");
	notice_of(db, ids[2], "expiring:90,expiring:30");
	notice_of(db, ids[4], "expiring:30,expiring:7");
	notice_of(db, ids[6], "expiring:7,expired");
	assert_int_equal(sql_ll(db, "SELECT count(*) FROM notify_events WHERE "
	    "dedup_key IS NOT NULL"), 12);
	/* each notice is emailed to its clinician */
	assert_int_equal(sql_ll(db, "SELECT count(*) FROM notify_deliveries d "
	    "JOIN notify_events e ON e.id = d.event_id WHERE e.dedup_key IS "
	    "NOT NULL AND d.channel = 'email' AND d.email_subject LIKE "
	    "'Your Level 1 certificate %%'"), 12);

	/* the daemons' daily run: once a day, not while another holds the
	 * lock, not before its time */
	other = testdb_connect(conninfo);
	testdb_exec_ok(other, "SELECT pg_advisory_lock(hashtext("
	    "'certrack.notify_sweep'))");
	v = testdb_value(db, "SELECT status FROM notify_sweep_run('00:00')");
	assert_string_equal(v, "locked");
	free(v);
	testdb_exec_ok(other, "SELECT pg_advisory_unlock(hashtext("
	    "'certrack.notify_sweep'))");
	PQfinish(other);
	v = testdb_value(db, "SELECT status FROM notify_sweep_run('23:59:59')");
	assert_true(strcmp(v, "not_yet") == 0 || strcmp(v, "swept") == 0);
	free(v);
	v = testdb_value(db, "SELECT status FROM notify_sweep_run('00:00')");
	assert_true(strcmp(v, "swept") == 0 || strcmp(v, "done") == 0);
	free(v);
	v = testdb_value(db, "SELECT status || ' ' || queued FROM "
	    "notify_sweep_run('00:00')");
	assert_string_equal(v, "done 0");
	free(v);
	assert_int_equal(sql_ll(db, "SELECT count(*) FROM notify_sweeps"), 1);
	PQfinish(db);
	free(conninfo);
}

/* ---- two daemons: one sweep, each delivery once; private addresses ---- */

static void
two_daemons_one_sweep(void **state)
{
	char *conninfo, sql[256];
	PGconn *db = testdb_migrated("e2e_notify_two", &conninfo);
	int pa = testlib_free_port(), pb, pc, n, distinct;
	pid_t a, b, c;

	(void)state;
	snprintf(sql, sizeof(sql), "INSERT INTO webhook_endpoints (url, "
	    "secret) VALUES ('http://127.0.0.1:%d/two', repeat('s', 40))",
	    rx.port);
	testdb_exec_ok(db, sql);
	for (int i = 0; i < 6; i++)
		certificate_expiring(db, i, i < 3 ? 30 : 7);
	notify_env(true, "00:00");
	a = testlib_start_daemon("e2e_notify_a", pa, conninfo, NULL);
	pb = testlib_free_port();
	b = testlib_start_daemon("e2e_notify_b", pb, conninfo, NULL);
	/* 6 issued and 6 expiring events, to the endpoint and by email */
	wait_for(db, "SELECT count(*) FROM notify_sweeps", 1, 20);
	wait_for(db, "SELECT count(*) FROM notify_deliveries WHERE status = "
	    "'delivered'", 24, 30);
	usleep(500 * 1000);
	assert_int_equal(testlib_log_count("e2e_notify_a", "the daily sweep "
	    "queued") + testlib_log_count("e2e_notify_b", "the daily sweep "
	    "queued"), 1);
	assert_int_equal(sql_ll(db, "SELECT count(*) FROM notify_events WHERE "
	    "kind = 'certificate.expiring'"), 6);
	n = hits_at("/two", &distinct);
	assert_int_equal(n, 12);
	assert_int_equal(distinct, 12);
	assert_int_equal(sql_ll(db, "SELECT count(*) FROM notify_attempts"),
	    24);
	assert_int_equal(testlib_stop_daemon(a), 0);
	assert_int_equal(testlib_stop_daemon(b), 0);

	/* without notify_allow_private: the loopback receiver is refused */
	notify_env(false, "00:00");
	pc = testlib_free_port();
	c = testlib_start_daemon("e2e_notify_c", pc, conninfo, NULL);
	testdb_exec_ok(db, "SELECT webhook_test(id) FROM webhook_endpoints");
	wait_for(db, "SELECT count(*) FROM notify_attempts a JOIN "
	    "notify_deliveries d ON d.id = a.delivery_id JOIN notify_events e "
	    "ON e.id = d.event_id WHERE e.kind = 'webhook.test' AND NOT a.ok "
	    "AND a.error LIKE 'refused: the address is private%'", 1, 20);
	assert_int_equal(hits_at("/two", &distinct), 12);
	assert_int_equal(testlib_stop_daemon(c), 0);
	notify_env(true, "23:59");
	PQfinish(db);
	free(conninfo);
}

/* ---- the CLI ------------------------------------------------------------ */

static void
cli_webhooks(void **state)
{
	char *out = NULL, *err = NULL, url[96], id[24];
	json_t *j;

	(void)state;
	testlib_cli_env(&w, "e2e_notify", w.admin);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/cli", rx.port);
	TESTLIB_CLI(0, NULL, "webhooks", "add", url, "--description", "cli");
	testlib_has(out, "added webhook ");
	testlib_has(out, "secret: whsec_");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "list", "--json");
	j = testlib_json(out);
	assert_true(testlib_int(j, "total") >= 1);
	assert_non_null(json_object_get(j, "items"));
	snprintf(id, sizeof(id), "%lld", testlib_int(json_array_get(
	    json_object_get(j, "items"), json_array_size(json_object_get(j,
	    "items")) - 1), "id"));
	json_decref(j);
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "list", "--quiet");
	testlib_has(out, id);
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "list", "--csv");
	testlib_has(out, "ID,STATE,URL,FAILURES");
	testlib_has(out, url);
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "list");
	testlib_has(out, url);
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "test", id);
	testlib_has(out, "queued delivery ");
	free(out);
	free(err);
	wait_for(w.db, "SELECT count(*) FROM notify_deliveries d JOIN "
	    "notify_events e ON e.id = d.event_id WHERE e.kind = "
	    "'webhook.test' AND d.status = 'pending'", 0, 20);
	TESTLIB_CLI(0, NULL, "webhooks", "deliveries", "--webhook", id,
	    "--json");
	j = testlib_json(out);
	assert_int_equal(testlib_int(j, "total"), 1);
	assert_string_equal(testlib_str(json_array_get(json_object_get(j,
	    "items"), 0), "status"), "delivered");
	json_decref(j);
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "deliveries", "--status",
	    "delivered", "--channel", "email");
	testlib_has(out, "certificate.issued");
	testlib_has(out, "nora@example.org");
	free(out);
	free(err);
	TESTLIB_CLI(3, NULL, "webhooks", "replay", "999999");
	free(out);
	free(err);
	TESTLIB_CLI(2, NULL, "webhooks", "add", "ftp://127.0.0.1/x");
	testlib_has(err, "is not an http:// or https:// URL");
	free(out);
	free(err);
	TESTLIB_CLI(2, NULL, "webhooks", "deliveries", "--status", "lost");
	free(out);
	free(err);
	TESTLIB_CLI(0, NULL, "webhooks", "disable", id, "--yes");
	testlib_has(out, "disabled webhook ");
	free(out);
	free(err);
	TESTLIB_CLI(1, NULL, "webhooks", "test", id);
	testlib_has(err, "disabled");
	free(out);
	free(err);
	TESTLIB_CLI(4, NULL, "--token", w.grader, "webhooks", "list");
	free(out);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(issued_once_signed_and_emailed),
		cmocka_unit_test(retried_given_up_disabled_replayed),
		cmocka_unit_test(webhook_refusals),
		cmocka_unit_test(claim_reads_what_it_can_send),
		cmocka_unit_test(sweep_boundaries_once),
		cmocka_unit_test(two_daemons_one_sweep),
		cmocka_unit_test(cli_webhooks),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests_name("e2e_notify", tests, setup,
	    teardown);
}
