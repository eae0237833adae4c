#ifndef CERTRACK_WEB_H
#define CERTRACK_WEB_H
/*
 * The web pages' foundation: templates and the stylesheet, kept as files
 * under web/ and compiled into the daemon (scripts/embed-web), filled by
 * one small renderer in which every value goes through one escaping
 * function, and answered with the pages' own security and caching headers.
 *
 * A template is HTML with placeholders: {{name}} is replaced by the value
 * of NAME, HTML-escaped; {{&name}} by the value as it is, for HTML that
 * the renderer itself produced (a rendered template, a QR code's SVG).
 */
#include <stdbool.h>
#include <stddef.h>

#include "certrack/config.h"
#include "certrack/http.h"
#include "certrack/strbuf.h"

/* One embedded file: its path below web/ and its text. */
struct web_file {
	const char *name;	/* "templates/verify.html" */
	const char *text;
};
extern const struct web_file web_embedded[];
extern const unsigned web_embedded_count;

/* A placeholder's value; NULL values are refused by web_render(). */
struct web_var {
	const char *name;
	const char *value;
};

/* The Content-Security-Policy of every page: its stylesheet, images
 * inline (data:), forms to itself, nothing else. */
#define WEB_CSP "default-src 'none'; style-src 'self'; img-src 'self' " \
	"data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
/* How long a public page may be kept (a revocation shows within it). */
#define WEB_CACHE_PUBLIC "public, max-age=300"

/* Remembers the address people reach the pages by (public_url, else
 * http://LISTEN), for links and QR codes. */
void web_init(const struct config *cfg);

/* That address, without a trailing slash ("http://127.0.0.1:8080"). */
const char *web_public_url(void);

/* The embedded file NAME ("static/style.css"), or NULL. */
const char *web_file(const char *name);

/*
 * Appends S to SB with &, <, >, " and ' written as character references,
 * so it is text wherever it lands (element content or a quoted
 * attribute).  Returns 0, or -1 when SB failed.
 */
int web_escape(struct strbuf *sb, const char *s);

/* Appends S percent-encoded for a query string (spaces as '+'). */
int web_urlencode(struct strbuf *sb, const char *s);

/*
 * Appends template NAME ("verify.html", below web/templates/) to SB with
 * its placeholders filled from VARS[0..N).  Returns 0, or -1 (with a
 * message in ERR, 500) when the template is unknown, a placeholder has no
 * value or SB failed.
 */
int web_render(struct strbuf *sb, const char *name, const struct web_var *vars,
    size_t n, struct cterr *err);

/* Appends a notice of KIND ("bad", "info") saying TEXT (nothing when TEXT
 * is NULL) to SB.  Returns 0, or -1 with ERR. */
int web_notice(struct strbuf *sb, const char *kind, const char *text,
    struct cterr *err);

/*
 * Answers STATUS with BODY (HTML of the page's main part) inside the
 * layout, titled TITLE: text/html, the pages' CSP, and Cache-Control
 * WEB_CACHE_PUBLIC when PUBLIC_PAGE, else no-store.  Returns 0, or -1
 * with req->err.
 */
int web_reply_page(struct request *req, int status, bool public_page,
    const char *title, const char *body);

/*
 * Answers the error in req->err as a page (a person reads it, not a
 * program), titled by its status.  Returns 0, or -1.
 */
int web_reply_error(struct request *req);

#endif
