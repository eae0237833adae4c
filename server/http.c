#include "certrack/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include <sodium.h>

#include "certrack/cache.h"
#include "certrack/csvread.h"
#include "certrack/db.h"
#include "certrack/log.h"
#include "certrack/metrics.h"
#include "certrack/strnum.h"

#define SLURP_MAX (1 << 20)

/* A whole (small) file as a NUL-terminated string, or NULL with ERRBUF. */
static char *
slurp(const char *path, const char *what, char *errbuf, size_t errlen)
{
	struct strbuf sb;
	char buf[4096];
	size_t n;
	FILE *fp = fopen(path, "r");

	if (fp == NULL) {
		snprintf(errbuf, errlen, "cannot open the %s '%s': %s", what,
		    path, strerror(errno));
		return NULL;
	}
	strbuf_init_max(&sb, SLURP_MAX);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0 &&
	    strbuf_add(&sb, buf, n) == 0)
		;
	if (ferror(fp) || strbuf_failed(&sb) || sb.len == 0) {
		snprintf(errbuf, errlen, "cannot read the %s '%s'%s", what, path,
		    strbuf_failed(&sb) ? ": it is larger than 1 MiB" :
		    sb.len == 0 ? ": it is empty" : "");
		fclose(fp);
		strbuf_release(&sb);
		return NULL;
	}
	fclose(fp);
	return strbuf_detach(&sb, NULL);
}

double
http_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 428: return "Precondition Required";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

int
http_add_header(struct request *req, const char *name, const char *value)
{
	if (req->nheaders == 8)
		return -1;
	req->header_name[req->nheaders] = strdup(name);
	req->header_value[req->nheaders] = strdup(value);
	req->nheaders++;
	return 0;
}

/* Sends RESP (destroyed here) with the headers every answer carries. */
static int
send_response(struct request *req, int status, const char *ctype,
    struct MHD_Response *resp)
{
	enum MHD_Result r;

	if (ctype != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
	MHD_add_response_header(resp, "X-Request-Id", req->id);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
	    req->cache_control ? req->cache_control : "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Content-Security-Policy", req->csp ?
	    req->csp : "default-src 'none'; frame-ancestors 'none'");
	if (req->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security",
		    "max-age=31536000");
	if (req->close_after)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	for (int i = 0; i < req->nheaders; i++)
		if (req->header_name[i] && req->header_value[i])
			MHD_add_response_header(resp, req->header_name[i],
			    req->header_value[i]);
	r = MHD_queue_response(req->mhd, (unsigned)status, resp);
	MHD_destroy_response(resp);
	req->status = status;
	req->replied = true;
	return r == MHD_YES ? 0 : -1;
}

static int
queue(struct request *req, int status, const char *ctype, char *data,
    size_t len)
{
	struct MHD_Response *resp;

	resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
	if (resp == NULL) {
		free(data);
		return -1;
	}
	return send_response(req, status, ctype, resp);
}

/* A streamed answer's producer, for libmicrohttpd. */
struct stream_answer {
	http_stream_fn fn;
	void (*release)(void *);
	void *cls;
};

static ssize_t
stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream_answer *sa = cls;
	ssize_t n;

	(void)pos;
	n = sa->fn(sa->cls, buf, max);
	db_release();		/* each piece borrows the pool at most */
	if (n == 0)
		return MHD_CONTENT_READER_END_OF_STREAM;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n;
}

static void
stream_free(void *cls)
{
	struct stream_answer *sa = cls;

	if (sa->release != NULL)
		sa->release(sa->cls);
	free(sa);
}

int
http_reply_stream(struct request *req, int status, const char *ctype,
    http_stream_fn fn, void *cls, void (*release)(void *))
{
	struct stream_answer *sa = malloc(sizeof(*sa));
	struct MHD_Response *resp;

	if (sa == NULL) {
		if (release != NULL)
			release(cls);
		return -1;
	}
	sa->fn = fn;
	sa->release = release;
	sa->cls = cls;
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
	    stream_read, sa, stream_free);
	if (resp == NULL) {
		stream_free(sa);
		return -1;
	}
	req->long_answer = true;
	return send_response(req, status, ctype, resp);
}

int
http_reply_text(struct request *req, int status, const char *ctype,
    const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (copy == NULL)
		return -1;
	memcpy(copy, text, len);
	copy[len] = '\0';
	return queue(req, status, ctype, copy, len);
}

int
http_reply_json(struct request *req, int status, json_t *body)
{
	char *text;

	if (body == NULL)
		return queue(req, status, NULL, calloc(1, 1), 0);
	text = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	if (text == NULL)
		return -1;
	return queue(req, status, "application/json", text, strlen(text));
}

/* Makes S valid UTF-8 in place: each byte that is not becomes '?'. */
static void
scrub(char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		i += csvread_utf8_prefix(s + i, len - i);
		if (i < len)
			s[i++] = '?';
	}
}

/* The one place an error becomes a response (RFC 7807). */
static int
reply_problem(struct request *req)
{
	struct cterr *e = &req->err;
	json_t *p;
	char *text;

	req->csp = NULL;		/* a problem is never a page */
	req->cache_control = NULL;
	if (!cterr_isset(e))
		cterr_set(e, 500, "internal", NULL,
		    "the server failed to answer; the request id is in the "
		    "log");
	if (e->retry_after > 0) {	/* 503 database_busy, ... */
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", e->retry_after);
		http_add_header(req, "Retry-After", ra);
	}
	/* whatever a sentence quotes, the answer is text */
	scrub(e->detail);
	scrub(e->field);
	p = json_pack("{s:s, s:s, s:i, s:s, s:s, s:s}",
	    "type", "about:blank",
	    "title", reason_phrase(e->status),
	    "status", e->status,
	    "code", e->code,
	    "detail", e->detail,
	    "request_id", req->id);
	if (p != NULL && e->field[0] != '\0')
		json_object_set_new(p, "field", json_string(e->field));
	if (p != NULL && e->extra_key[0] != '\0')
		json_object_set_new(p, e->extra_key,
		    json_string(e->extra_value));
	text = p ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (text == NULL)
		return -1;
	return queue(req, e->status, "application/problem+json", text,
	    strlen(text));
}

const char *
http_header(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->mhd, MHD_HEADER_KIND, name);
}

const char *
http_peer(const struct request *req)
{
	return req->peer;
}

/* The connection's client address as text, into BUF. */
static void
peer_text(struct MHD_Connection *mhd, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, len, "unknown");
	ci = MHD_get_connection_info(mhd, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)len);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)len);
}

const char *
http_query(const struct request *req, const char *name)
{
	return MHD_lookup_connection_value(req->mhd, MHD_GET_ARGUMENT_KIND,
	    name);
}

/*
 * The watchdog (slowloris).  Every connection has a deadline for what it
 * owes next: its request's headers (counted from the connection's start or
 * the previous answer, so an idle keep-alive connection is bounded too),
 * then its body, then reading our answer.  A thread looks every 200 ms and
 * shuts down the socket of a connection past its deadline; the
 * connection's own thread then sees the end of the stream and closes it.
 * libmicrohttpd tells us of a connection's close before it closes the
 * socket, and both happen under one lock, so a descriptor is never shut
 * down after it was reused.  Handling (the database's time) has no
 * deadline here: the database's own time bounds cover it.
 */
struct conn {
	struct conn *prev, *next;
	int fd;
	double deadline;		/* monotonic seconds; 0: none */
	const char *owes;		/* "headers", "body", "answer" */
	bool cut;
};

struct watch {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool running, stop;
	struct conn *head;
	unsigned long long cut[3];	/* headers, body, answer */
};

struct http_server {
	struct MHD_Daemon *daemon;
	const struct route *routes;
	size_t nroutes;
	http_authenticator auth;
	long long max_body;
	atomic_int inflight;
	char *tls_cert, *tls_key;	/* PEM, kept while serving */
	bool tls;

	int header_timeout, body_timeout, import_body_timeout;

	/* bytes of JSON bodies held by all requests in flight */
	long long max_body_memory;
	atomic_llong body_memory;

	/* import slots: in all, and per account */
	pthread_mutex_t import_lock;
	int max_imports, max_imports_per_user;
	int nimports;
	long long *import_user;		/* [max_imports], 0: free */

	struct watch watch;

	/* libmicrohttpd's own complaints, at most a few a second */
	pthread_mutex_t mhdlog_lock;
	double mhdlog_window;
	int mhdlog_count;
	unsigned long mhdlog_dropped;
};

static const char *const owes_names[] = { "headers", "body", "answer" };

static void *
watch_main(void *arg)
{
	struct http_server *srv = arg;
	struct watch *w = &srv->watch;
	struct timespec ts;
	double last_report = http_now();
	unsigned long long reported[3] = { 0, 0, 0 };

	pthread_mutex_lock(&w->lock);
	while (!w->stop) {
		double now = http_now();

		for (struct conn *c = w->head; c != NULL; c = c->next) {
			if (c->cut || c->deadline == 0 || now < c->deadline)
				continue;
			shutdown(c->fd, SHUT_RDWR);
			c->cut = true;
			for (int i = 0; i < 3; i++)
				if (c->owes == owes_names[i])
					w->cut[i]++;
		}
		/* one line per 10 s at most, however many were cut */
		if (now - last_report >= 10.0) {
			for (int i = 0; i < 3; i++) {
				if (w->cut[i] == reported[i])
					continue;
				log_warn("http: closed %llu connection(s) too "
				    "slow to send their %s (the %s deadline)",
				    w->cut[i] - reported[i], owes_names[i],
				    i == 0 ? "header_timeout" : "body_timeout");
				reported[i] = w->cut[i];
			}
			last_report = now;
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 200 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&w->wake, &w->lock, &ts);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

static void
on_connection(void *cls, struct MHD_Connection *mhd, void **socket_context,
    enum MHD_ConnectionNotificationCode code)
{
	struct http_server *srv = cls;
	struct watch *w = &srv->watch;
	struct conn *c;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mhd,
		    MHD_CONNECTION_INFO_CONNECTION_FD);

		*socket_context = NULL;
		if (ci == NULL || (c = calloc(1, sizeof(*c))) == NULL)
			return;
		c->fd = ci->connect_fd;
		c->owes = owes_names[0];
		c->deadline = http_now() + srv->header_timeout;
		pthread_mutex_lock(&w->lock);
		c->next = w->head;
		if (w->head != NULL)
			w->head->prev = c;
		w->head = c;
		pthread_mutex_unlock(&w->lock);
		*socket_context = c;
		return;
	}
	c = *socket_context;
	if (c == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		w->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	pthread_mutex_unlock(&w->lock);
	free(c);
	*socket_context = NULL;
}

/* What the connection of MHD owes next, and by when (0 s: no deadline). */
static void
conn_owes(struct http_server *srv, struct MHD_Connection *mhd, int what,
    int seconds)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(mhd,
	    MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	struct conn *c = ci ? ci->socket_context : NULL;

	if (c == NULL)
		return;
	pthread_mutex_lock(&srv->watch.lock);
	c->owes = owes_names[what];
	c->deadline = seconds > 0 ? http_now() + seconds : 0;
	pthread_mutex_unlock(&srv->watch.lock);
}

enum { OWES_HEADERS, OWES_BODY, OWES_ANSWER };

/* Is CTYPE exactly the media type TYPE, with at most a UTF-8 charset? */
bool
http_media_type_is(const char *ctype, const char *type)
{
	size_t n = strlen(type);
	const char *p;

	if (ctype == NULL || strncasecmp(ctype, type, n) != 0)
		return false;
	p = ctype + n;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return true;
	if (*p++ != ';')
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "charset=", 8) != 0)
		return false;
	p += 8;
	if (strncasecmp(p, "utf-8", 5) == 0)
		p += 5;
	else if (strncasecmp(p, "\"utf-8\"", 7) == 0)
		p += 7;
	else
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	return *p == '\0';
}

/* Parses the collected body as JSON, if there is one. */
static int
parse_body(struct request *req)
{
	json_error_t jerr;

	if (req->body.len == 0 || (req->route->roles & ROUTE_WEB) != 0)
		return 0;		/* a page reads its form itself */
	req->json = json_loadb(req->body.buf, req->body.len,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (req->json == NULL)
		return cterr_set(&req->err, 400, "malformed_json", NULL,
		    "the request body is not valid JSON: %s (line %d, column "
		    "%d)", jerr.text, jerr.line, jerr.column);
	if (!json_is_object(req->json))
		return cterr_set(&req->err, 400, "malformed_json", NULL,
		    "the request body must be a JSON object");
	return 0;
}

/*
 * The request target as sent: printable ASCII only (anything else must be
 * percent-encoded), every escape well-formed.
 */
static int
check_path(struct request *req)
{
	switch (router_raw_path_ok(req->path)) {
	case 0:
		return 0;
	case -1:
		return cterr_set(&req->err, 400, "invalid_path", NULL,
		    "the path holds a byte that must be percent-encoded");
	default:
		return cterr_set(&req->err, 400, "invalid_path", NULL,
		    "the path holds a malformed percent-escape");
	}
}

/* Finds the route; 404 and 405 are told apart.  0, or -1 with req->err. */
static int
route(struct http_server *srv, struct request *req)
{
	char allow[64];
	int status = 404;

	/* Matched on the raw path, so an encoded slash is no separator;
	 * each parameter is then decoded on its own. */
	req->route = router_match(srv->routes, srv->nroutes, req->method,
	    req->path, &req->params, &status, allow, sizeof(allow));
	if (req->route != NULL) {
		for (int i = 0; i < req->params.n; i++)
			if (router_decode(req->params.value[i]) != 0)
				return cterr_set(&req->err, 400,
				    "invalid_parameter", req->params.name[i],
				    "the path segment '%s' is not valid "
				    "UTF-8 text", req->params.name[i]);
		return 0;
	}
	if (status == 405) {
		http_add_header(req, "Allow", allow);
		return cterr_set(&req->err, 405, "method_not_allowed", NULL,
		    "%s is not allowed on '%s' (allowed: %s)", req->method,
		    req->path, allow);
	}
	return cterr_set(&req->err, 404, "not_found", NULL, "there is no '%s'",
	    req->path);
}

/* Who is calling, and may they call this route.  0, or -1 with req->err. */
static int
authorize(struct http_server *srv, struct request *req)
{
	int a;

	if (req->route->roles == ROLE_PUBLIC ||
	    (req->route->roles & ROUTE_WEB) != 0)	/* the page checks */
		return 0;
	a = srv->auth ? srv->auth(req) : 1;
	if (a < 0) {
		if (req->err.status == 401)
			http_add_header(req, "WWW-Authenticate",
			    "Bearer realm=\"certrack\", error=\"invalid_token\"");
		return -1;
	}
	if (a > 0) {
		http_add_header(req, "WWW-Authenticate",
		    "Bearer realm=\"certrack\"");
		return cterr_set(&req->err, 401, "unauthenticated", NULL,
		    "log in first: this needs a bearer token");
	}
	/* Before the role: whatever the route, the answer is the same
	 * "change your password first". */
	if (req->who.password_change_required &&
	    (req->route->roles & ROUTE_FIRST_USE) == 0)
		return cterr_set(&req->err, 403, "password_change_required",
		    NULL, "the account's password was generated: change it "
		    "first (POST /v1/me/password)");
	if ((req->route->roles & req->who.role) == 0)
		return cterr_set(&req->err, 403, "forbidden", NULL,
		    "your role may not do this");
	return 0;
}

/* The first value that is not text, for check_query()/check_headers(). */
struct bad_arg {
	char name[64];
	const char *why;
	bool header;			/* headers: control characters too */
};

static enum MHD_Result
check_arg(void *cls, enum MHD_ValueKind kind, const char *key,
    size_t key_size, const char *value, size_t value_size)
{
	struct bad_arg *bad = cls;
	const char *why = NULL;

	(void)kind;
	if (!csvread_utf8_valid(key, key_size) ||
	    (value != NULL && !csvread_utf8_valid(value, value_size)))
		why = "is not valid UTF-8 text";
	else if (strlen(key) != key_size ||
	    (value != NULL && strlen(value) != value_size))
		why = "holds a NUL byte";
	else if (bad->header && value != NULL)
		for (size_t i = 0; i < value_size && why == NULL; i++)
			if (((unsigned char)value[i] < 0x20 &&
			    value[i] != '\t') || value[i] == 0x7f)
				why = "holds a control character";
	if (why == NULL)
		return MHD_YES;
	bad->why = why;
	/* the name quoted only when it is itself printable text */
	if (csvread_utf8_valid(key, key_size) && strlen(key) == key_size &&
	    key_size < sizeof(bad->name))
		snprintf(bad->name, sizeof(bad->name), "%s", key);
	return MHD_NO;
}

/*
 * Every query parameter of every route is text before any handler reads
 * it: invalid UTF-8 or a NUL (%00, which would cut the value short) is a
 * 400 naming the parameter, never a database error.  The same for every
 * header value.
 */
static int
check_values(struct request *req, enum MHD_ValueKind kind)
{
	struct bad_arg bad = { .why = NULL };
	bool header = kind == MHD_HEADER_KIND;

	bad.header = header;
	MHD_get_connection_values_n(req->mhd, kind, check_arg, &bad);
	if (bad.why == NULL)
		return 0;
	return cterr_set(&req->err, 400,
	    header ? "invalid_header" : "invalid_parameter",
	    bad.name[0] ? bad.name : NULL, "the %s %s%s%s %s",
	    header ? "header" : "query parameter",
	    bad.name[0] ? "'" : "", bad.name[0] ? bad.name : "",
	    bad.name[0] ? "'" : "", bad.why);
}

/* Counts the framing headers, for check_framing(). */
struct framing {
	int nlength, nencoding;
	const char *length, *encoding;
	bool differ;
};

static enum MHD_Result
count_framing(void *cls, enum MHD_ValueKind kind, const char *key,
    const char *value)
{
	struct framing *f = cls;

	(void)kind;
	if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		if (f->length != NULL && strcmp(f->length, value) != 0)
			f->differ = true;
		f->length = value;
		f->nlength++;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		f->encoding = value;
		f->nencoding++;
	}
	return MHD_YES;
}

/*
 * Where the body ends must be beyond doubt (request smuggling): two
 * different Content-Lengths, Content-Length with Transfer-Encoding, or any
 * transfer coding but one "chunked" are refused, and the connection closed.
 */
static int
check_framing(struct request *req)
{
	struct framing f = { 0, 0, NULL, NULL, false };

	MHD_get_connection_values(req->mhd, MHD_HEADER_KIND, count_framing, &f);
	if (f.differ)
		goto refuse;
	if (f.nencoding > 0 && (f.nlength > 0 || f.nencoding > 1 ||
	    strcasecmp(f.encoding, "chunked") != 0))
		goto refuse;
	return 0;
refuse:
	req->close_after = true;
	return cterr_set(&req->err, 400, "invalid_framing", NULL,
	    "the request's length is ambiguous: send one Content-Length, or "
	    "Transfer-Encoding: chunked alone");
}

/* The request's Content-Length, -1 when none was sent. */
static long long
content_length(const struct request *req)
{
	const char *v = http_header(req, MHD_HTTP_HEADER_CONTENT_LENGTH);
	long long n;

	if (v == NULL || strnum_ll(v, 0, LLONG_MAX, &n, NULL) != 0)
		return -1;
	return n;
}

static bool
has_body(const struct request *req)
{
	return content_length(req) > 0 ||
	    http_header(req, MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL;
}

/* Counts N more bytes of bodies in flight; false over max_body_memory. */
static bool
body_reserve(struct http_server *srv, struct request *req, long long n)
{
	long long was = atomic_fetch_add(&srv->body_memory, n);

	if (was + n > srv->max_body_memory) {
		atomic_fetch_sub(&srv->body_memory, n);
		return false;
	}
	req->body_reserved += n;
	return true;
}

/* A refusal to come back later: STATUS (429 or 503) with Retry-After,
 * and the connection closed (its body is not read). */
static int
busy(struct request *req, int status, const char *code, int retry_after,
    const char *detail)
{
	req->close_after = true;
	cterr_set(&req->err, status, code, NULL, "%s", detail);
	req->err.retry_after = retry_after;	/* reply_problem() says it */
	return -1;
}

/* The bodies in flight are at max_body_memory. */
static int
bodies_full(struct request *req)
{
	return busy(req, 503, "server_busy", 1, "the server holds as many "
	    "request bodies as it may; try again in a moment");
}

/* A JSON body: media type and size, known before a byte of it is read. */
static int
check_body_headers(struct http_server *srv, struct request *req)
{
	long long len = content_length(req);

	if (!has_body(req))
		return 0;
	req->close_after = true;	/* if refused, the body is not read */
	if ((req->route->roles & ROUTE_WEB) != 0) {	/* a page's form */
		if (!http_media_type_is(http_header(req,
		    MHD_HTTP_HEADER_CONTENT_TYPE),
		    "application/x-www-form-urlencoded"))
			return cterr_set(&req->err, 415,
			    "unsupported_media_type", NULL, "a page takes a "
			    "form (application/x-www-form-urlencoded)");
	} else if (!http_media_type_is(http_header(req,
	    MHD_HTTP_HEADER_CONTENT_TYPE), "application/json"))
		return cterr_set(&req->err, 415, "unsupported_media_type", NULL,
		    "the request body must be JSON (Content-Type: "
		    "application/json)");
	if (len > srv->max_body)
		return cterr_set(&req->err, 413, "body_too_large", NULL,
		    "the request body is larger than %lld bytes",
		    srv->max_body);
	if (len > 0 && !body_reserve(srv, req, len))
		return bodies_full(req);
	req->close_after = false;
	return 0;
}

/* One of the import slots, in all and for the caller.  0, or -1 (429). */
static int
import_slot_take(struct http_server *srv, struct request *req)
{
	int mine = 0, free_at = -1;

	pthread_mutex_lock(&srv->import_lock);
	for (int i = 0; i < srv->max_imports; i++) {
		if (srv->import_user[i] == 0 && free_at < 0)
			free_at = i;
		else if (srv->import_user[i] == req->who.user_id)
			mine++;
	}
	if (free_at >= 0 && mine < srv->max_imports_per_user) {
		srv->import_user[free_at] = req->who.user_id;
		req->import_slot = true;
	}
	pthread_mutex_unlock(&srv->import_lock);
	if (req->import_slot)
		return 0;
	return busy(req, 429, "too_many_imports", 30, mine >=
	    srv->max_imports_per_user ? "you have as many imports running as "
	    "one account may; wait for one to finish" : "the server runs as "
	    "many imports as it may; try again in a moment");
}

static void
import_slot_give(struct http_server *srv, struct request *req)
{
	if (!req->import_slot)
		return;
	pthread_mutex_lock(&srv->import_lock);
	for (int i = 0; i < srv->max_imports; i++)
		if (srv->import_user[i] == req->who.user_id) {
			srv->import_user[i] = 0;
			break;
		}
	pthread_mutex_unlock(&srv->import_lock);
	req->import_slot = false;
}

/*
 * Everything that can be decided from the request line and the headers,
 * before a byte of the body is read.  0, or -1 with req->err.
 */
static int
admit(struct http_server *srv, struct request *req)
{
	if (check_path(req) != 0 || check_values(req, MHD_HEADER_KIND) != 0 ||
	    check_framing(req) != 0 || route(srv, req) != 0 ||
	    check_values(req, MHD_GET_ARGUMENT_KIND) != 0 ||
	    authorize(srv, req) != 0)
		return -1;
	if (req->route->stream != NULL)
		return import_slot_take(srv, req);
	return check_body_headers(srv, req);
}

static void
dispatch(struct request *req)
{
	if (req->body_too_large || parse_body(req) != 0 ||
	    req->route->handler(req) != 0 || !req->replied)
		reply_problem(req);
}

static void
stream_chunk(struct request *req, const char *data, size_t len)
{
	if (!req->stream_failed &&
	    req->route->stream->chunk(req, data, len) != 0)
		req->stream_failed = true;
}

static void
stream_end(struct request *req)
{
	if (req->stream_failed || req->route->stream->finish(req) != 0 ||
	    !req->replied)
		reply_problem(req);
}

/* The request line is in: a request starts (called once per request). */
static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *mhd)
{
	struct http_server *srv = cls;
	struct request *req = calloc(1, sizeof(*req));
	unsigned char rnd[16];

	if (req == NULL)
		return NULL;
	req->path_buf = strndup(uri, strcspn(uri, "?"));
	if (req->path_buf == NULL) {
		free(req);
		return NULL;
	}
	req->path = req->path_buf;
	req->mhd = mhd;
	req->method = "?";
	req->start = http_now();
	req->tls = srv->tls;
	peer_text(mhd, req->peer, sizeof(req->peer));
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(req->id, sizeof(req->id), rnd, sizeof(rnd));
	strbuf_init(&req->body);
	atomic_fetch_add(&srv->inflight, 1);
	return req;
}

/* The headers are in: decide before reading the body. */
static void
begin(struct http_server *srv, struct request *req, const char *method)
{
	req->begun = true;
	req->method = method;
	log_set_request_id(req->id);
	if (admit(srv, req) != 0) {
		reply_problem(req);
	} else if (req->route->stream != NULL) {
		req->streaming = true;
		conn_owes(srv, req->mhd, OWES_BODY, srv->import_body_timeout);
		if (req->route->stream->begin(req) != 0) {
			/* Refused before a byte of the body: say so now
			 * rather than after reading a large upload. */
			req->stream_failed = true;
			req->close_after = true;
			reply_problem(req);
		}
	} else {
		conn_owes(srv, req->mhd, OWES_BODY, srv->body_timeout);
	}
	log_set_request_id(NULL);
}

static enum MHD_Result
handle_request(void *cls, struct MHD_Connection *mhd, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;

	(void)url;
	(void)version;
	if (req == NULL)		/* on_uri() ran out of memory */
		return MHD_NO;
	if (!req->begun) {
		begin(srv, req, method);
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;

		*upload_data_size = 0;
		if (req->replied)	/* refused: the rest is dropped */
			return MHD_YES;
		log_set_request_id(req->id);
		if (req->streaming) {
			stream_chunk(req, upload_data, n);
		} else if (req->body_too_large) {
			;	/* keep reading (and dropping) so the client
				 * hears the 413 rather than a reset */
		} else if (req->body.len + n > (size_t)srv->max_body) {
			req->body_too_large = true;
			strbuf_release(&req->body);
			cterr_set(&req->err, 413, "body_too_large", NULL,
			    "the request body is larger than %lld bytes",
			    srv->max_body);
		} else if (req->body.len + n > (size_t)req->body_reserved &&
		    !body_reserve(srv, req, (long long)(req->body.len + n) -
		    req->body_reserved)) {
			/* chunked: counted as it comes */
			req->body_too_large = true;
			strbuf_release(&req->body);
			bodies_full(req);
		} else if (strbuf_add(&req->body, upload_data, n) != 0) {
			req->body_too_large = true;
			cterr_set(&req->err, 500, "internal", NULL,
			    "out of memory");
		}
		log_set_request_id(NULL);
		return MHD_YES;
	}
	if (req->replied)
		return MHD_YES;
	log_set_request_id(req->id);
	conn_owes(srv, mhd, OWES_ANSWER, 0);
	if (req->streaming)
		stream_end(req);
	else
		dispatch(req);
	/* Its reply goes out when this returns: this daemon's next lookups
	 * wait until the cache has applied what it may have changed. */
	if (strcmp(req->method, "GET") != 0 &&
	    strcmp(req->method, "HEAD") != 0 &&
	    strcmp(req->method, "OPTIONS") != 0)
		cache_wrote(http_now());
	/* a streamed export may be long: it has the import's time */
	conn_owes(srv, mhd, OWES_ANSWER, req->long_answer ?
	    srv->import_body_timeout : srv->body_timeout);
	log_set_request_id(NULL);
	return req->replied ? MHD_YES : MHD_NO;
}

/* Each step of a request borrows a database connection at most for its
 * own length, so a slow upload never holds one between pieces. */
static enum MHD_Result
on_request(void *cls, struct MHD_Connection *mhd, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls)
{
	enum MHD_Result r = handle_request(cls, mhd, url, method, version,
	    upload_data, upload_data_size, con_cls);

	db_release();
	return r;
}

static void
on_completed(void *cls, struct MHD_Connection *mhd, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct http_server *srv = cls;
	struct request *req = *con_cls;

	if (req == NULL)
		return;
	double ms = (http_now() - req->start) * 1000.0;
	log_set_request_id(req->id);
	log_info("%s %s %s %d %.1fms%s", req->peer, req->method, req->path,
	    req->replied ? req->status : 0, ms,
	    toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" :
	    " (connection closed early)");
	if (req->streaming && req->route->stream->abort != NULL)
		req->route->stream->abort(req);
	db_release();
	log_set_request_id(NULL);
	metrics_observe(req->route, req->replied ? req->status : 0, ms / 1000.0);
	import_slot_give(srv, req);
	atomic_fetch_sub(&srv->body_memory, req->body_reserved);
	json_decref(req->json);
	strbuf_release(&req->body);
	for (int i = 0; i < req->nheaders; i++) {
		free(req->header_name[i]);
		free(req->header_value[i]);
	}
	free(req->path_buf);
	free(req);
	*con_cls = NULL;
	/* the next request on this connection owes its headers */
	conn_owes(srv, mhd, OWES_HEADERS, srv->header_timeout);
	atomic_fetch_sub(&srv->inflight, 1);
}

/*
 * libmicrohttpd's own messages: a refused connection each, which a flood
 * would turn into a flood of lines; at most 5 a second, the rest counted.
 */
static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct http_server *srv = cls;
	char msg[512];
	unsigned long dropped = 0;
	bool say;
	double now = http_now();

	pthread_mutex_lock(&srv->mhdlog_lock);
	if (now - srv->mhdlog_window >= 1.0) {
		srv->mhdlog_window = now;
		srv->mhdlog_count = 0;
		dropped = srv->mhdlog_dropped;
		srv->mhdlog_dropped = 0;
	}
	say = srv->mhdlog_count++ < 5;
	if (!say)
		srv->mhdlog_dropped++;
	pthread_mutex_unlock(&srv->mhdlog_lock);
	if (dropped > 0)
		log_warn("http: %lu more message(s) of the HTTP library were "
		    "not logged", dropped);
	if (!say)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_warn("http: %s", msg);
}

/* TLS 1.2 and 1.3 only, forward-secret AEAD suites only. */
#define TLS_PRIORITIES "SECURE:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:" \
	"-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305:" \
	"-MAC-ALL:+AEAD:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:+DHE-RSA"

static void
server_free(struct http_server *srv)
{
	if (srv->watch.running) {
		pthread_mutex_lock(&srv->watch.lock);
		srv->watch.stop = true;
		pthread_cond_signal(&srv->watch.wake);
		pthread_mutex_unlock(&srv->watch.lock);
		pthread_join(srv->watch.thread, NULL);
	}
	pthread_mutex_destroy(&srv->watch.lock);
	pthread_cond_destroy(&srv->watch.wake);
	pthread_mutex_destroy(&srv->import_lock);
	pthread_mutex_destroy(&srv->mhdlog_lock);
	if (srv->tls_key != NULL)
		sodium_memzero(srv->tls_key, strlen(srv->tls_key));
	free(srv->tls_cert);
	free(srv->tls_key);
	free(srv->import_user);
	free(srv);
}

struct http_server *
http_start(const struct config *cfg, const struct route *routes, size_t n,
    http_authenticator auth, int *port, char *errbuf, size_t errlen)
{
	struct http_server *srv;
	struct addrinfo hints, *ai = NULL;
	char portstr[8];
	unsigned flags;
	int rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	snprintf(portstr, sizeof(portstr), "%d", cfg->listen_port);
	rc = getaddrinfo(cfg->listen_host, portstr, &hints, &ai);
	if (rc != 0) {
		snprintf(errbuf, errlen, "listen address '%s' is not an IP "
		    "address: %s", cfg->listen_host, gai_strerror(rc));
		return NULL;
	}
	srv = calloc(1, sizeof(*srv));
	if (srv == NULL) {
		freeaddrinfo(ai);
		snprintf(errbuf, errlen, "out of memory");
		return NULL;
	}
	srv->routes = routes;
	srv->nroutes = n;
	srv->auth = auth;
	srv->max_body = cfg->max_body_bytes;
	srv->max_body_memory = cfg->max_body_memory;
	srv->header_timeout = cfg->header_timeout;
	srv->body_timeout = cfg->body_timeout;
	srv->import_body_timeout = cfg->import_body_timeout;
	srv->max_imports = cfg->max_imports;
	srv->max_imports_per_user = cfg->max_imports_per_user;
	pthread_mutex_init(&srv->watch.lock, NULL);
	pthread_cond_init(&srv->watch.wake, NULL);
	pthread_mutex_init(&srv->import_lock, NULL);
	pthread_mutex_init(&srv->mhdlog_lock, NULL);
	srv->import_user = calloc((size_t)srv->max_imports,
	    sizeof(*srv->import_user));
	if (srv->import_user == NULL ||
	    pthread_create(&srv->watch.thread, NULL, watch_main, srv) != 0) {
		snprintf(errbuf, errlen, "out of memory");
		goto fail;
	}
	srv->watch.running = true;

	/*
	 * A thread for each HTTP connection, and a pool of `threads` database
	 * connections lent per request (db.c).  A fixed pool of HTTP threads
	 * binds each connection to one thread for life, so requests queue
	 * behind their neighbours while other threads and their database
	 * connections idle; measured with wrk at 32 connections, the pool of
	 * database connections doubled throughput and cut p99 tenfold.  The
	 * threads are bounded by max_connections (and per client address by
	 * max_connections_per_address), and each connection's time by the
	 * watchdog above.
	 */
	flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
	    MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	if (ai->ai_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls[4] = {
		{ MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL }, { MHD_OPTION_END, 0, NULL },
	};
	if (cfg->tls_cert != NULL) {
		if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
			snprintf(errbuf, errlen, "this libmicrohttpd was built "
			    "without TLS");
			goto fail;
		}
		srv->tls_cert = slurp(cfg->tls_cert, "TLS certificate",
		    errbuf, errlen);
		srv->tls_key = srv->tls_cert ? slurp(cfg->tls_key,
		    "TLS key", errbuf, errlen) : NULL;
		if (srv->tls_key == NULL)
			goto fail;
		flags |= MHD_USE_TLS;
		srv->tls = true;
		tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0,
		    srv->tls_cert };
		tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0,
		    srv->tls_key };
		tls[2] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_PRIORITIES,
		    0, cfg->tls_priorities ? cfg->tls_priorities :
		    TLS_PRIORITIES };
	}
	srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL,
	    on_request, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_SOCK_ADDR, ai->ai_addr,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)cfg->max_connections,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	    (unsigned)cfg->max_connections_per_address,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    /* idle time; the watchdog's deadlines are the real bound */
	    MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(cfg->import_body_timeout + 60),
	    MHD_OPTION_ARRAY, tls,
	    MHD_OPTION_END);
	if (srv->daemon == NULL) {
		snprintf(errbuf, errlen, "cannot listen on %s port %d (in use, "
		    "not an address of this machine%s)", cfg->listen_host,
		    cfg->listen_port, cfg->tls_cert ? ", or the TLS "
		    "certificate, key or priorities do not match or parse" :
		    "");
		goto fail;
	}
	freeaddrinfo(ai);
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	*port = info ? info->port : cfg->listen_port;
	return srv;
fail:
	freeaddrinfo(ai);
	server_free(srv);
	return NULL;
}

void
http_stop(struct http_server *srv, int timeout)
{
	MHD_socket fd;

	if (srv == NULL)
		return;
	/* Stop accepting first, so the listening socket closes while the
	 * requests in flight run to their end. */
	fd = MHD_quiesce_daemon(srv->daemon);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	for (int i = 0; i < timeout * 20 && atomic_load(&srv->inflight) > 0;
	    i++)
		usleep(50 * 1000);
	if (atomic_load(&srv->inflight) > 0)
		log_warn("stopping with %d request(s) unfinished after %d s",
		    atomic_load(&srv->inflight), timeout);
	MHD_stop_daemon(srv->daemon);
	server_free(srv);
}
