#ifndef CERTRACK_ROUTER_H
#define CERTRACK_ROUTER_H
/*
 * The route table's matcher: METHOD + path pattern with {name} segments
 * (or {name}.ext: the segment must end in the literal ".ext", which is not
 * part of the parameter).  The first route that matches wins.
 * Pure (no I/O), so it is unit-tested on its own.  404 (no pattern matches
 * the path) and 405 (a pattern matches, but not for this method) are kept
 * apart, and a 405 says which methods would do.
 */
#include <stddef.h>

struct request;

/* Roles, as bits; a route lists who may call it.  ROLE_PUBLIC: no login. */
enum {
	ROLE_PUBLIC = 0,
	ROLE_ADMIN = 1 << 0,
	ROLE_GRADER = 1 << 1,
	ROLE_CLINICIAN = 1 << 2,
	ROLE_ANY = ROLE_ADMIN | ROLE_GRADER | ROLE_CLINICIAN,
	/* Not a role: the route also serves a token whose account must
	 * first change its generated password (anything else answers 403
	 * password_change_required). */
	ROUTE_FIRST_USE = 1 << 4,
	/* Not a role: a web page (docs/web.md) that checks the session
	 * cookie and the roles itself and answers with pages; its POST body
	 * is a form (application/x-www-form-urlencoded), not JSON. */
	ROUTE_WEB = 1 << 5,
};

typedef int (*route_handler)(struct request *req);

/*
 * A route whose body is streamed to it as it arrives rather than collected
 * (CSV imports).  begin() runs once the caller is authorized, chunk() for
 * each piece, finish() answers; abort() releases whatever begin() set up
 * when the request ends any other way (the client went away, an error).
 * Each returns 0, or -1 with req->err filled.
 */
struct route_stream {
	int (*begin)(struct request *req);
	int (*chunk)(struct request *req, const char *data, size_t len);
	int (*finish)(struct request *req);
	void (*abort)(struct request *req);
};

struct route {
	const char *method;	/* "GET", "POST", ... */
	const char *pattern;	/* "/v1/clinicians/{id}" */
	unsigned roles;		/* ROLE_* bits, or ROLE_PUBLIC */
	route_handler handler;	/* NULL for a streaming route */
	const struct route_stream *stream;	/* or NULL */
};

#define ROUTER_MAX_PARAMS 4
#define ROUTER_PARAM_MAX 128

struct route_params {
	int n;
	char name[ROUTER_MAX_PARAMS][32];
	char value[ROUTER_MAX_PARAMS][ROUTER_PARAM_MAX];
};

/*
 * Finds the route for METHOD and PATH among ROUTES[0..N).  On a match fills
 * PARAMS and returns the route.  Otherwise returns NULL with *STATUS 404 or
 * 405; on 405, ALLOW receives the allowed methods ("GET, POST").  A path
 * segment longer than ROUTER_PARAM_MAX - 1 never matches a parameter.
 */
const struct route *router_match(const struct route *routes, size_t n,
    const char *method, const char *path, struct route_params *params,
    int *status, char *allow, size_t allowlen);

/*
 * Routing is on the path as sent (still percent-encoded), so an encoded
 * slash is no separator.  router_raw_path_ok(): 0 when PATH is printable
 * ASCII whose every '%' starts a well-formed escape; -1 for a byte that
 * must be percent-encoded, -2 for a malformed escape.  router_decode():
 * decodes one parameter in place; 0, or -1 when an escape is malformed or
 * %00, or the result is not UTF-8.
 */
int router_raw_path_ok(const char *path);
int router_decode(char *s);

/* The value of parameter NAME, or NULL. */
const char *router_param(const struct route_params *params, const char *name);

#endif
