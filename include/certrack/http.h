#ifndef CERTRACK_HTTP_H
#define CERTRACK_HTTP_H
/*
 * libmicrohttpd glue: a thread per HTTP connection serving one route
 * table (database connections come from db.c's pool), with a total and a
 * per-address connection limit and a watchdog that cuts connections slower
 * than their deadlines (headers, body, answer).  Per request, as soon as
 * the headers are in, the request itself is checked (raw path, header
 * values, framing), the route matched on the raw path (404 and 405 apart),
 * the caller authenticated and authorized, and the body's size and media
 * type checked; only then is the body read (collected up to a limit and
 * parsed as JSON once, or streamed to the route), and the handler called.  A handler answers
 * with http_reply_json(), or returns -1 with req->err filled, which one
 * place here turns into an RFC 7807 problem response.  One access-log line
 * per request.
 */
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>

#include "certrack/config.h"
#include "certrack/cterr.h"
#include "certrack/router.h"
#include "certrack/strbuf.h"

struct MHD_Connection;

/* Who is calling; filled by the authenticator, zero for no login. */
struct principal {
	long long user_id;		/* 0: not logged in */
	unsigned role;			/* one ROLE_* bit */
	long long clinician_id;		/* for clinician accounts, else 0 */
	char username[64];
	long long token_id;
	bool password_change_required;	/* only ROUTE_FIRST_USE routes */
};

struct request {
	struct MHD_Connection *mhd;
	const char *method;
	const char *path;		/* as sent: still percent-encoded */
	char *path_buf;			/* owns path */
	bool begun;			/* the headers have been seen */
	char id[33];			/* request id, hex */
	char peer[48];			/* client IP address, as text */
	double start;			/* monotonic seconds */

	struct strbuf body;
	bool body_too_large;
	long long body_reserved;	/* counted against max_body_memory */
	bool import_slot;		/* holds one of the import slots */
	bool close_after;		/* answer with Connection: close */
	bool tls;			/* served over TLS (HSTS) */
	bool long_answer;		/* a streamed answer (more time) */
	json_t *json;			/* parsed body, or NULL */

	const struct route *route;
	struct route_params params;
	struct principal who;
	struct cterr err;

	int status;			/* the status answered */
	bool replied;

	/* streaming routes: begin()'s state, and whether it has failed */
	void *stream_state;
	bool streaming;
	bool stream_failed;

	/* the answer's Content-Security-Policy and Cache-Control (static
	 * strings); NULL: the API's "default-src 'none'; ..." and no-store.
	 * A problem answer always has the defaults. */
	const char *csp;
	const char *cache_control;

	int nheaders;			/* extra response headers */
	char *header_name[8];
	char *header_value[8];
};

/*
 * Authenticates REQ from its Authorization header, filling req->who.
 * Returns 0 (logged in), 1 (no credentials given), or -1 with req->err
 * (bad or expired token, database down).  Set by the auth module.
 */
typedef int (*http_authenticator)(struct request *req);

struct http_server;

/*
 * Starts serving ROUTES[0..N) as CFG says.  Returns the server, or NULL
 * with a message in ERRBUF.  *PORT receives the bound port (useful when
 * CFG asks for port 0).
 */
struct http_server *http_start(const struct config *cfg,
    const struct route *routes, size_t n, http_authenticator auth,
    int *port, char *errbuf, size_t errlen);

/*
 * Stops accepting, lets in-flight requests finish for up to TIMEOUT
 * seconds, then stops and frees the server.
 */
void http_stop(struct http_server *srv, int timeout);

/* Answers STATUS with BODY (reference stolen; NULL for no body). */
int http_reply_json(struct request *req, int status, json_t *body);

/* Answers STATUS with a text body of content type CTYPE (copied). */
int http_reply_text(struct request *req, int status, const char *ctype,
    const char *text, size_t len);

/*
 * Produces the next piece of a streamed answer into BUF (at most MAX
 * bytes): returns its length, 0 at the end, -1 on an error (the answer is
 * then cut short, which a chunked reader sees).  Called from the
 * connection's thread as the client reads; it may borrow a database
 * connection (db_conn()), which is handed back after each piece.
 */
typedef ssize_t (*http_stream_fn)(void *cls, char *buf, size_t max);

/*
 * Answers STATUS with a body of type CTYPE produced piece by piece by FN
 * (chunked), for exports too large to hold; RELEASE(CLS) runs once the
 * answer is over or abandoned.  The connection has import_body_timeout to
 * read it.
 */
int http_reply_stream(struct request *req, int status, const char *ctype,
    http_stream_fn fn, void *cls, void (*release)(void *));

/* Adds a response header to the reply about to be sent (copied). */
int http_add_header(struct request *req, const char *name, const char *value);

/* A request header's value, or NULL. */
const char *http_header(const struct request *req, const char *name);

/* A query-string argument's value, or NULL. */
const char *http_query(const struct request *req, const char *name);

/* The client's IP address as text ("127.0.0.1", "::1"), never NULL. */
const char *http_peer(const struct request *req);

/*
 * True when the Content-Type CTYPE is exactly the media type TYPE
 * ("application/json"), with nothing after it but "; charset=utf-8".
 */
bool http_media_type_is(const char *ctype, const char *type);

/* Seconds on the monotonic clock. */
double http_now(void);

#endif
