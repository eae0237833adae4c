/*
 * The abuse suite (issue 11): what an attacker with no login at all, or a
 * careless client, can make certrackd spend or say.  Each test asserts the
 * bound, not a timing: slow clients are cut and never starve the others,
 * bodies are refused from their headers before a byte is read and all
 * bodies in flight have a ceiling, imports have slots, invalid bytes on
 * every route are a 400 naming the part, ambiguous framing is refused, and
 * nothing a client sends can forge a log line.
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "certrack/api.h"
#include "certrack/router.h"

static struct testlib_world w;

/* The daemon's bounds for this suite, small so the tests are quick. */
#define PER_ADDRESS 16
#define HEADER_TIMEOUT 2
#define BODY_MEMORY (1024 * 1024)

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A TCP connection to the daemon from loopback address FROM. */
static int
dial(const char *from, bool nonblocking)
{
	struct sockaddr_in sa, src;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		fail_msg("socket: %s", strerror(errno));
	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	inet_pton(AF_INET, from, &src.sin_addr);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0)
		fail_msg("bind %s: %s", from, strerror(errno));
	if (nonblocking)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)w.port);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 &&
	    errno != EINPROGRESS)
		fail_msg("connect: %s", strerror(errno));
	return fd;
}

/* Everything the server sends on FD until it closes or LIMIT seconds pass
 * (caller frees); *CLOSED tells which. */
static char *
drain(int fd, double limit, bool *closed)
{
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap + 1);
	double t0 = now();

	*closed = false;
	while (now() - t0 < limit) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, 100) <= 0)
			continue;
		ssize_t n = recv(fd, buf + len, cap - len, 0);
		if (n <= 0) {
			*closed = true;
			break;
		}
		len += (size_t)n;
		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
		}
	}
	buf[len] = '\0';
	return buf;
}

/* Sends RAW from 127.0.0.1 and returns all that comes back (caller frees). */
static char *
exchange(const char *raw, size_t len)
{
	int fd = dial("127.0.0.1", false);
	bool closed;
	char *resp;

	if (send(fd, raw, len, MSG_NOSIGNAL) < 0)
		fail_msg("send: %s", strerror(errno));
	resp = drain(fd, 5, &closed);
	close(fd);
	return resp;
}

static int
status_of(const char *resp)
{
	int status = 0;

	if (sscanf(resp, "HTTP/1.1 %d", &status) != 1)
		return 0;
	return status;
}

static int
count_of(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* The daemon's own threads (/proc), to see that slow clients are bounded. */
static long
daemon_status(const char *field)
{
	char path[64], line[256];
	long v = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)w.daemon);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			v = strtol(line + strlen(field), NULL, 10);
	fclose(fp);
	return v;
}

static char *
daemon_log(void)
{
	char path[600], *text;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/e2e_abuse.log",
	    testlib_env("CERTRACK_TEST_TMP"));
	fp = fopen(path, "r");
	assert_non_null(fp);
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	text = calloc(1, (size_t)n + 1);
	if (fread(text, 1, (size_t)n, fp) != (size_t)n)
		fail_msg("cannot read the daemon's log");
	fclose(fp);
	return text;
}

static int
setup(void **state)
{
	struct rlimit rl;
	char n[32];

	(void)state;
	/* the dripping clients below need more descriptors than 1024 */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 8192) {
		rl.rlim_cur = rl.rlim_max < 8192 ? rl.rlim_max : 8192;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	snprintf(n, sizeof(n), "%d", PER_ADDRESS);
	setenv("CERTRACK_MAX_CONNECTIONS_PER_ADDRESS", n, 1);
	snprintf(n, sizeof(n), "%d", HEADER_TIMEOUT);
	setenv("CERTRACK_HEADER_TIMEOUT", n, 1);
	setenv("CERTRACK_BODY_TIMEOUT", "3", 1);
	snprintf(n, sizeof(n), "%d", BODY_MEMORY);
	setenv("CERTRACK_MAX_BODY_MEMORY", n, 1);
	setenv("CERTRACK_MAX_IMPORTS", "2", 1);
	setenv("CERTRACK_MAX_IMPORTS_PER_USER", "1", 1);
	testlib_world_up(&w, "e2e_abuse");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return testlib_world_down(&w);
}

/* True once the server has closed FD (or reset it). */
static bool
closed_by_server(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * 2,000 connections from 127.0.0.2 each send a request line and then one
 * header line every 300 ms (slowloris), and are opened again as soon as
 * they are closed; a client on 127.0.0.1 keeps getting answers in under a
 * second all along.  The daemon holds at most PER_ADDRESS of them (its
 * threads stay bounded), and cuts a connection HEADER_TIMEOUT seconds
 * after it started however busily it drips.
 */
static void
slow_clients_do_not_starve(void **state)
{
	enum { N = 2000, REDIAL = 200 };
	static int fd[N];
	double t0, worst = 0, probe_start, probe_cut = 0;
	long threads0 = daemon_status("Threads:"), peak = threads0;
	int answered = 0, probe;
	char *log;

	(void)state;
	for (int i = 0; i < N; i++)
		fd[i] = dial("127.0.0.2", true);
	usleep(200 * 1000);
	for (int i = 0; i < N; i++)
		send(fd[i], "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
	/* one more dripper of its own address, to time its cut */
	probe = dial("127.0.0.3", false);
	probe_start = now();
	send(probe, "GET /healthz HTTP/1.1\r\n", 23, MSG_NOSIGNAL);
	t0 = now();
	while (now() - t0 < HEADER_TIMEOUT + 4) {
		int redialed = 0;

		for (int i = 0; i < N; i++) {
			if (closed_by_server(fd[i]) && redialed < REDIAL) {
				close(fd[i]);
				fd[i] = dial("127.0.0.2", true);
				redialed++;
				continue;
			}
			send(fd[i], "X-Drip: 1\r\n", 11, MSG_NOSIGNAL);
		}
		if (probe_cut == 0) {
			if (closed_by_server(probe))
				probe_cut = now() - probe_start;
			else
				send(probe, "X-Drip: 1\r\n", 11, MSG_NOSIGNAL);
		}
		for (int k = 0; k < 3; k++) {
			double a = now();
			char *resp = NULL;
			int st = testlib_api(w.port, "GET", "/v1/me", w.admin,
			    NULL, &resp);
			double took = now() - a;

			if (st != 200)
				fail_msg("a real client got %d during the drip: "
				    "%s", st, resp ? resp : "");
			free(resp);
			worst = took > worst ? took : worst;
			answered++;
		}
		long t = daemon_status("Threads:");
		peak = t > peak ? t : peak;
		usleep(300 * 1000);
	}
	for (int i = 0; i < N; i++)
		close(fd[i]);
	close(probe);
	if (worst >= 1.0)
		fail_msg("a real client waited %.2f s during the drip", worst);
	/* a thread per connection held: at most PER_ADDRESS (+ the probe) */
	if (peak > threads0 + PER_ADDRESS + 2)
		fail_msg("the daemon went from %ld to %ld threads", threads0,
		    peak);
	if (probe_cut == 0 || probe_cut > HEADER_TIMEOUT + 1.5)
		fail_msg("a dripping connection was not cut at its header "
		    "deadline (%.1f s)", probe_cut);
	assert_true(answered >= 20);
	usleep(10500 * 1000);	/* the watchdog reports every 10 s */
	log = daemon_log();
	testlib_has(log, "too slow to send their headers");
	free(log);
}

/*
 * Bodies: a body larger than the limit, or sent to a route the caller may
 * not call, is refused from the headers alone (the test sends no byte of
 * it); 400 connections announcing 1 MiB each cost nothing; chunked bodies
 * (no length announced) are counted as they come, and past the bound on
 * all bodies in flight the next is refused 503 with Retry-After.
 */
static void
bodies_refused_before_reading(void **state)
{
	static const char *const heads[] = {
		/* no token, on a route that needs one: 401 */
		"POST /v1/clinicians HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nContent-Length: 10000000\r\n\r\n",
		/* public route, too large: 413 */
		"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nContent-Length: 1048576\r\n\r\n",
		/* not JSON: 415 */
		"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/jsonx\r\nContent-Length: 100\r\n\r\n",
	};
	static const int want[] = { 401, 413, 415 };
	long rss0 = daemon_status("VmRSS:"), rss1;

	(void)state;
	for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		char *resp = exchange(heads[i], strlen(heads[i]));
		if (status_of(resp) != want[i])
			fail_msg("expected %d, got: %.300s", want[i], resp);
		free(resp);
	}
	/* 400 x 1 MiB announced, from 25 addresses (16 each) */
	for (int i = 0; i < 400; i++) {
		char from[16];
		int fd;
		bool closed;
		char *resp;

		snprintf(from, sizeof(from), "127.0.1.%d", 1 + i / 16);
		fd = dial(from, false);
		send(fd, heads[1], strlen(heads[1]), MSG_NOSIGNAL);
		resp = drain(fd, 5, &closed);
		if (status_of(resp) != 413)
			fail_msg("flood request %d: %.200s", i, resp);
		free(resp);
		close(fd);
	}
	rss1 = daemon_status("VmRSS:");
	if (rss1 - rss0 > 32 * 1024)	/* kB */
		fail_msg("the daemon grew from %ld kB to %ld kB", rss0, rss1);
}

static void
bodies_in_flight_bounded(void **state)
{
	/* 60 KiB chunks under the 64 KiB limit: BODY_MEMORY holds 17 */
	enum { N = 24, CHUNK = 60 * 1024 };
	static char chunk[CHUNK + 32];
	static const char end[] = "1\r\n}\r\n0\r\n\r\n";
	int fd[N], answered = 0, busy = 0;
	char head[32];
	int hl = snprintf(head, sizeof(head), "%x\r\n", CHUNK);

	(void)state;
	memset(chunk, ' ', sizeof(chunk));
	memcpy(chunk, head, (size_t)hl);
	chunk[hl] = '{';
	memcpy(chunk + hl + CHUNK, "\r\n", 2);
	/* all 24 hold a 60 KiB piece of body at once... */
	for (int i = 0; i < N; i++) {
		static const char h[] = "POST /v1/login HTTP/1.1\r\nHost: x\r\n"
		    "Content-Type: application/json\r\n"
		    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
		char from[16];

		snprintf(from, sizeof(from), "127.0.2.%d", 1 + i / 8);
		fd[i] = dial(from, false);
		send(fd[i], h, strlen(h), MSG_NOSIGNAL);
		send(fd[i], chunk, (size_t)hl + CHUNK + 2, MSG_NOSIGNAL);
	}
	usleep(1000 * 1000);
	/* ...then finish: those over the bound were refused */
	for (int i = 0; i < N; i++)
		send(fd[i], end, strlen(end), MSG_NOSIGNAL);
	for (int i = 0; i < N; i++) {
		bool closed;
		char *resp;

		resp = drain(fd[i], 3, &closed);
		if (status_of(resp) == 503) {
			testlib_has(resp, "\"code\":\"server_busy\"");
			testlib_has(resp, "Retry-After: 1");
			busy++;
		} else if (status_of(resp) != 0) {
			answered++;
		}
		free(resp);
		close(fd[i]);
	}
	/* Every connection answered; never more bodies held than the bound
	 * allows (17 x 60 KiB fit in 1 MiB), the rest refused.  On a loaded
	 * machine the pieces of the bodies interleave and a body refused
	 * half-way holds its half until it ends, so fewer may fit: the bound
	 * is what is asserted, not the exact count. */
	assert_int_equal(busy + answered, N);
	assert_true(answered <= BODY_MEMORY / CHUNK);
	assert_true(answered >= 1);
	assert_true(busy >= N - BODY_MEMORY / CHUNK);
}

/* Imports: one at a time per account, two in all; 429 beyond. */
static void
import_slots(void **state)
{
	size_t len;
	char *body = testlib_roster(200, &len), *resp = NULL;
	char *clin_pw = testlib_make_user(w.conninfo, "abuse2", "admin", 0);
	char *admin2 = testlib_login(w.port, "abuse2", clin_pw);
	int a, b, st;

	(void)state;
	a = testlib_upload_start(w.port, "/v1/imports?kind=roster", w.admin,
	    body, len, len / 2);
	usleep(300 * 1000);
	/* the same account again: its one slot is taken */
	st = testlib_http(w.port, "POST", "/v1/imports?kind=roster&dry_run=1",
	    "Content-Type: text/csv\r\nAuthorization: Bearer x\r\n", "a", NULL);
	assert_int_equal(st, 401);
	{
		char hdr[256];
		snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
		    "Authorization: Bearer %s\r\n", w.admin);
		st = testlib_http(w.port, "POST",
		    "/v1/imports?kind=roster&dry_run=1", hdr, body, &resp);
		assert_int_equal(st, 429);
		testlib_has(resp, "\"code\":\"too_many_imports\"");
		free(resp);
	}
	/* another account may: the second slot */
	b = testlib_upload_start(w.port, "/v1/imports?kind=roster&dry_run=1",
	    admin2, body, len, len / 2);
	usleep(300 * 1000);
	/* and now all are taken */
	{
		char hdr[256];
		snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
		    "Authorization: Bearer %s\r\n", w.grader);
		st = testlib_http(w.port, "POST", "/v1/imports?kind=results"
		    "&dry_run=1", hdr, "x", &resp);
		assert_int_equal(st, 429);
		testlib_has(resp, "runs as many imports as it may");
		free(resp);
	}
	assert_int_equal(testlib_upload_finish(a, body, len, len / 2, &resp),
	    201);
	free(resp);
	assert_int_equal(testlib_upload_finish(b, body, len, len / 2, &resp),
	    201);
	free(resp);
	/* the slots are free again */
	{
		char hdr[256];
		snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
		    "Authorization: Bearer %s\r\n", w.admin);
		st = testlib_http(w.port, "POST",
		    "/v1/imports?kind=roster&dry_run=1", hdr, body, &resp);
		assert_int_equal(st, 201);
		free(resp);
	}
	free(body);
	free(clin_pw);
	free(admin2);
}

/* A filename over the column's 255 bytes is refused, never cut (a cut
 * could split a character); 255 bytes of two-byte characters plus one
 * byte pass whole. */
static void
long_filename(void **state)
{
	char path[2048], hdr[256], *resp = NULL;
	int o, st;

	(void)state;
	snprintf(hdr, sizeof(hdr), "Content-Type: text/csv\r\n"
	    "Authorization: Bearer %s\r\n", w.admin);
	o = snprintf(path, sizeof(path), "/v1/imports?kind=roster&dry_run=1"
	    "&filename=");
	for (int i = 0; i < 128; i++)	/* 256 bytes: one too many */
		o += snprintf(path + o, sizeof(path) - (size_t)o, "%%C3%%A9");
	st = testlib_http(w.port, "POST", path, hdr, "a\n", &resp);
	assert_int_equal(st, 422);
	testlib_has(resp, "\"field\":\"filename\"");
	free(resp);
	path[o - 6] = '\0';		/* 254 bytes: whole characters */
	strcat(path, "x");		/* 255 */
	st = testlib_http(w.port, "POST", path, hdr,
	    "given_name,family_name,email,profession,level\n"
	    "Long,Name,long.name@example.org,PT,DN1\n", &resp);
	if (st != 201)
		fail_msg("%d %s", st, resp);
	free(resp);
	{
		char *fn = testdb_value(w.db, "SELECT filename FROM imports"
		    " ORDER BY id DESC LIMIT 1");
		assert_int_equal(strlen(fn), 255);
		free(fn);
	}
}

/* PATTERN with every {param} as VALUE. */
static void
fill(const char *pattern, const char *value, char *out, size_t len)
{
	size_t o = 0;

	for (const char *p = pattern; *p != '\0' && o + 8 < len; ) {
		if (*p == '{') {
			o += (size_t)snprintf(out + o, len - o, "%s", value);
			p = strchr(p, '}') + 1;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
}

static void
expect_400(const char *method, const char *path, const char *headers,
    const char *code)
{
	char *resp = NULL, hdr[512];
	int st;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n%s", w.admin,
	    headers ? headers : "");
	st = testlib_http(w.port, method, path, hdr, NULL, &resp);
	if (st != 400 || resp == NULL || strstr(resp, code) == NULL)
		fail_msg("%s %s: expected 400 %s, got %d %s", method, path,
		    code, st, resp ? resp : "(nothing)");
	free(resp);
}

/*
 * Invalid bytes on every route: each path parameter as %FF and as %00, and
 * query parameters with %FF and %00, answer 400 naming the part; never
 * 500, never nothing.  An encoded slash is no separator.
 */
static void
invalid_text_on_every_route(void **state)
{
	char path[300], *resp = NULL;
	int st, routes = 0;

	(void)state;
	for (size_t i = 0; i < api_nroutes; i++) {
		const struct route *r = &api_routes[i];
		const char *bad[] = { "%FF", "%00", "%C3%28", "a%ZZ" };

		for (size_t k = 0; k < 4 && strchr(r->pattern, '{'); k++) {
			fill(r->pattern, bad[k], path, sizeof(path));
			expect_400(r->method, path, NULL,
			    k == 3 ? "invalid_path" : "invalid_parameter");
		}
		fill(r->pattern, "1", path, sizeof(path));
		strcat(path, "?name=%FF");
		expect_400(r->method, path, NULL, "\"field\":\"name\"");
		fill(r->pattern, "1", path, sizeof(path));
		strcat(path, "?limit=5%00");
		expect_400(r->method, path, NULL, "holds a NUL byte");
		fill(r->pattern, "1", path, sizeof(path));
		expect_400(r->method, path, "X-Note: caf\xc3\r\n",
		    "invalid_header");
		routes++;
	}
	assert_true(routes == (int)api_nroutes);
	/* an unknown path is answered, bytes and all */
	st = testlib_api(w.port, "GET", "/v1/nothing%FF?x=%FF", w.admin, NULL,
	    &resp);
	assert_int_equal(st, 404);
	testlib_has(resp, "there is no '/v1/nothing%FF'");
	free(resp);
	/* %2f is part of the segment, not a separator: not the status */
	st = testlib_api(w.port, "GET", "/v1/clinicians/1%2fstatus", w.admin,
	    NULL, &resp);
	assert_true(st == 400 || st == 404);
	testlib_lacks(resp, "\"levels\"");
	free(resp);
	/* bytes that must be encoded, sent raw */
	resp = exchange("GET /v1/clinicians/\xff HTTP/1.1\r\nHost: x\r\n\r\n",
	    strlen("GET /v1/clinicians/\xff HTTP/1.1\r\nHost: x\r\n\r\n"));
	assert_int_equal(status_of(resp), 400);
	testlib_has(resp, "invalid_path");
	free(resp);
}

/* Request smuggling: where the body ends must be beyond doubt. */
static void
ambiguous_framing_refused(void **state)
{
	static const char *const reqs[] = {
		"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nContent-Length: 2\r\nContent-Length: 42\r\n"
		"\r\n{}GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nContent-Length: 5\r\nTransfer-Encoding: "
		"chunked\r\n\r\n0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: "
		"application/json\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
		"0\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(reqs) / sizeof(reqs[0]); i++) {
		char *resp = exchange(reqs[i], strlen(reqs[i]));
		if (status_of(resp) != 400 ||
		    strstr(resp, "invalid_framing") == NULL)
			fail_msg("request %zu: %.300s", i, resp);
		/* one answer, and the connection closed: the smuggled
		 * request after it is never served */
		assert_int_equal(count_of(resp, "HTTP/1.1 "), 1);
		testlib_has(resp, "Connection: close");
		free(resp);
	}
}

/* Nothing in a request forges or colours a log line. */
static void
log_lines_escaped(void **state)
{
	static const char req[] = "GET /v1/n%0Aforged\x1b[31m HTTP/1.1\r\n"
	    "Host: x\r\n\r\n";
	char *resp, *log;

	(void)state;
	resp = exchange(req, strlen(req));
	assert_int_equal(status_of(resp), 400);
	free(resp);
	log = daemon_log();
	testlib_lacks(log, "\x1b");
	testlib_lacks(log, "\nforged");
	free(log);
}

/* Media types exactly; the security headers on every answer. */
static void
media_types_and_headers(void **state)
{
	static const struct {
		const char *ctype;
		int status;
	} cases[] = {
		{ "application/jsonx", 415 },
		{ "application/json-patch", 415 },
		{ "text/json", 415 },
		{ "application/json;charset=latin1", 415 },
		{ "application/json; foo=bar", 415 },
		{ "application/json", 401 },
		{ "Application/JSON; charset=UTF-8", 401 },
		{ "application/json;charset=\"utf-8\"", 401 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char body[] = "{\"username\":\"nobody\","
		    "\"password\":\"xx\"}";
		char raw[512];
		char *resp;
		int n = snprintf(raw, sizeof(raw), "POST /v1/login HTTP/1.1\r\n"
		    "Host: x\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		    "\r\n%s", cases[i].ctype, strlen(body), body);

		resp = exchange(raw, (size_t)n);
		if (status_of(resp) != cases[i].status)
			fail_msg("%s: expected %d: %.300s", cases[i].ctype,
			    cases[i].status, resp);
		testlib_has(resp, "X-Content-Type-Options: nosniff");
		testlib_has(resp, "Content-Security-Policy: default-src "
		    "'none'");
		testlib_lacks(resp, "Strict-Transport-Security");
		free(resp);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(media_types_and_headers),
		cmocka_unit_test(ambiguous_framing_refused),
		cmocka_unit_test(invalid_text_on_every_route),
		cmocka_unit_test(log_lines_escaped),
		cmocka_unit_test(bodies_refused_before_reading),
		cmocka_unit_test(bodies_in_flight_bounded),
		cmocka_unit_test(import_slots),
		cmocka_unit_test(long_filename),
		cmocka_unit_test(slow_clients_do_not_starve),
	};

	return cmocka_run_group_tests_name("e2e_abuse", tests, setup,
	    teardown);
}
