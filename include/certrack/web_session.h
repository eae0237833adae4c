#ifndef CERTRACK_WEB_SESSION_H
#define CERTRACK_WEB_SESSION_H
/*
 * Logged-in pages: the session cookie (a bearer token of the same kind as
 * the API's, made by the same login, kept in an HttpOnly, SameSite=Strict
 * cookie), the CSRF token of every form (an HMAC of the session's token
 * under a key the daemon draws at start) and the forms' fields.
 */
#include <stdbool.h>
#include <stddef.h>

#include "certrack/http.h"
#include "certrack/strbuf.h"

/* The cookie's name. */
#define WEB_SESSION_COOKIE "certrack_session"

/*
 * Who is calling a ROUTE_WEB page, from the session cookie, checked
 * against the route's roles (ROUTE_FIRST_USE too); a POST's CSRF token is
 * checked as well.  Returns 0 when the page may go on (req->who filled);
 * otherwise the answer is made (a redirect to /login or to the password
 * change, or a 403 page) and it returns 1, or -1 when that failed.
 */
int web_user(struct request *req);

/* The CSRF token of the caller's session, for a form (65 bytes). */
void web_csrf(const struct request *req, char out[65]);

/*
 * The value of form field NAME of a POST (application/x-www-form-urlencoded)
 * decoded into OUT (LEN bytes).  Returns 1 when given, 0 when absent (OUT
 * ""), -1 when too long or not UTF-8 text (OUT "").
 */
int web_form(const struct request *req, const char *name, char *out,
    size_t len);

/*
 * A refusal in req->err (4xx) to say on the form it came from: its
 * sentence copied to DETAIL (sizeof(req->err.detail) bytes) and req->err
 * cleared; returns its status.  0 for a server error (5xx), left as it is
 * for web_reply_error().
 */
int web_refusal(struct request *req, char *detail);

/* Answers 303 to PATH (on this site).  Returns 0, or -1. */
int web_redirect(struct request *req, const char *path);

/* Appends the log-out button (a form with its CSRF token) to SB. */
int web_logout_button(struct request *req, struct strbuf *sb);

#endif
