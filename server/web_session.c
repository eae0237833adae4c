/*
 * Logging in to the pages (include/certrack/web_session.h): the session
 * cookie holds a bearer token made by the API's own login
 * (api_login_password(): the same throttle, password checks, token row and
 * audit rows), checked by the API's own token check (api_auth_token()), so
 * logging out, expiry, a disabled account and a revoked token end a page
 * session as they end an API one.  The cookie is read by ROUTE_WEB pages
 * only, never by the /v1/ routes, which take the Authorization header
 * alone (a browser sends a cookie with any request; a header it does not).
 */
#include "certrack/web_session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "certrack/api.h"
#include "certrack/auth.h"
#include "certrack/csvread.h"
#include "certrack/web.h"

/* Before a session: the login form's own cookie, which its CSRF token
 * is made from (no one can make a browser log in as someone else). */
#define PRE_COOKIE "certrack_login"

/*
 * The CSRF token of the secret S (the session's token, or the login form's
 * own cookie): hex of HMAC-SHA-512-256 keyed by a hash of S.  It needs no
 * key of the daemon's, so a form made by one daemon is good at another
 * and after a restart; no one who cannot read S (an HttpOnly cookie) can
 * make it, and it tells nothing of S.
 */
static void
csrf_of(const char *s, char out[65])
{
	static const char label[] = "certrack csrf v1";
	unsigned char key[crypto_auth_KEYBYTES], mac[crypto_auth_BYTES];

	crypto_generichash(key, sizeof(key), (const unsigned char *)s,
	    strlen(s), NULL, 0);
	crypto_auth(mac, (const unsigned char *)label, sizeof(label) - 1, key);
	sodium_memzero(key, sizeof(key));
	sodium_bin2hex(out, 65, mac, sizeof(mac));
}

/* The value of cookie NAME in OUT (LEN bytes): 0, or -1 when absent. */
static int
cookie(const struct request *req, const char *name, char *out, size_t len)
{
	const char *h = http_header(req, "Cookie");
	size_t n = strlen(name);

	while (h != NULL && *h != '\0') {
		h += strspn(h, " \t;");
		size_t vlen = strcspn(h, ";");
		if (vlen > n && strncmp(h, name, n) == 0 && h[n] == '=') {
			vlen -= n + 1;
			while (vlen > 0 && (h[n + 1 + vlen - 1] == ' ' ||
			    h[n + 1 + vlen - 1] == '\t'))
				vlen--;
			if (vlen == 0 || vlen >= len)
				return -1;
			memcpy(out, h + n + 1, vlen);
			out[vlen] = '\0';
			return 0;
		}
		h += vlen;
	}
	return -1;
}

/* Adds Set-Cookie NAME=VALUE (VALUE "": the cookie is dropped). */
static void
set_cookie(struct request *req, const char *name, const char *value)
{
	char buf[256];

	snprintf(buf, sizeof(buf), "%s=%s; Path=/; HttpOnly; "
	    "SameSite=Strict%s%s", name, value, req->tls ? "; Secure" : "",
	    value[0] == '\0' ? "; Max-Age=0" : "");
	http_add_header(req, "Set-Cookie", buf);
}

void
web_csrf(const struct request *req, char out[65])
{
	char token[AUTH_TOKEN_LEN + 1];

	if (cookie(req, WEB_SESSION_COOKIE, token, sizeof(token)) != 0)
		token[0] = '\0';
	csrf_of(token, out);
	sodium_memzero(token, sizeof(token));
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes the form text S[0..N) into OUT (LEN bytes): 0, or -1. */
static int
form_decode(const char *s, size_t n, char *out, size_t len)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];

		if (c == '+') {
			c = ' ';
		} else if (c == '%') {
			int hi, lo;
			if (i + 2 >= n)
				return -1;
			hi = hexval(s[i + 1]);
			lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
		}
		if (c == 0 || o + 1 >= len)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return csvread_utf8_valid(out, o) ? 0 : -1;
}

int
web_form(const struct request *req, const char *name, char *out, size_t len)
{
	const char *p = req->body.buf, *end = p + req->body.len;
	char key[64];

	out[0] = '\0';
	while (p != NULL && p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));

		if (eq != NULL && form_decode(p, (size_t)(eq - p), key,
		    sizeof(key)) == 0 && strcmp(key, name) == 0) {
			if (form_decode(eq + 1, (size_t)(stop - eq - 1), out,
			    len) != 0) {
				out[0] = '\0';
				return -1;
			}
			return 1;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

int
web_refusal(struct request *req, char *detail)
{
	int status = req->err.status;

	if (status >= 500)
		return 0;
	snprintf(detail, sizeof(req->err.detail), "%s", req->err.detail);
	cterr_clear(&req->err);
	return status;
}

int
web_redirect(struct request *req, const char *path)
{
	struct strbuf sb;
	const struct web_var v[] = { { "href", path }, { "text", path } };
	int rc;

	strbuf_init(&sb);
	http_add_header(req, "Location", path);
	strbuf_addstr(&sb, "<h1>See other</h1>\n<p>Go on to ");
	rc = web_render(&sb, "link.html", v, 2, &req->err);
	strbuf_addstr(&sb, ".</p>\n");
	if (rc == 0)
		rc = web_reply_page(req, 303, false, "See other", sb.buf);
	strbuf_release(&sb);
	return rc;
}

/* 403 with a page saying DETAIL.  Returns 1, or -1. */
static int
refuse(struct request *req, const char *code, const char *detail)
{
	cterr_set(&req->err, 403, code, NULL, "%s", detail);
	return web_reply_error(req) == 0 ? 1 : -1;
}

/* Whether the POST's csrf field is the one of secret S. */
static bool
csrf_ok(const struct request *req, const char *s)
{
	char want[65], got[80];

	csrf_of(s, want);
	return web_form(req, "csrf", got, sizeof(got)) == 1 &&
	    strlen(got) == 64 && sodium_memcmp(got, want, 64) == 0;
}

static const char csrf_refused[] = "the form was not sent from this "
    "site's page, or it is too old (a form serves one session, and the "
    "server may have restarted): load the page again and send it from "
    "there";

/* Where an account's pages begin. */
static const char *
home_of(const struct request *req)
{
	if (req->who.password_change_required)
		return "/account/password";
	return req->who.role == ROLE_CLINICIAN ? "/me" : "/staff/sessions";
}

int
web_user(struct request *req)
{
	char token[AUTH_TOKEN_LEN + 1];
	unsigned roles = req->route->roles;
	int rc;

	if (cookie(req, WEB_SESSION_COOKIE, token, sizeof(token)) != 0)
		return web_redirect(req, "/login") == 0 ? 1 : -1;
	rc = api_auth_token(req, token);
	sodium_memzero(token, sizeof(token));
	if (rc != 0) {
		if (req->err.status != 401)
			return web_reply_error(req) == 0 ? 1 : -1;
		cterr_clear(&req->err);
		set_cookie(req, WEB_SESSION_COOKIE, "");
		return web_redirect(req, "/login") == 0 ? 1 : -1;
	}
	if (strcmp(req->method, "POST") == 0) {
		if (cookie(req, WEB_SESSION_COOKIE, token, sizeof(token)) != 0 ||
		    !csrf_ok(req, token)) {
			sodium_memzero(token, sizeof(token));
			return refuse(req, "csrf_refused", csrf_refused);
		}
		sodium_memzero(token, sizeof(token));
	}
	if (req->who.password_change_required &&
	    (roles & ROUTE_FIRST_USE) == 0)
		return web_redirect(req, "/account/password") == 0 ? 1 : -1;
	if ((roles & req->who.role) == 0)
		return refuse(req, "forbidden", "your account may not see this "
		    "page: it is for staff (admins and graders)");
	return 0;
}

int
web_logout_button(struct request *req, struct strbuf *sb)
{
	char csrf[65];
	const struct web_var v[] = {
		{ "csrf", csrf }, { "username", req->who.username } };

	web_csrf(req, csrf);
	return web_render(sb, "logout_form.html", v, 2, &req->err);
}

/* ---- /login ----------------------------------------------------------- */

/* The login form, with NOTICE (or NULL) above it and USERNAME kept; a
 * fresh login cookie for its CSRF token. */
static int
login_page(struct request *req, int status, const char *notice,
    const char *kind, const char *username)
{
	unsigned char raw[32];
	char pre[sizeof(raw) * 2 + 1], csrf[65];
	struct strbuf note, sb;
	int rc = -1;

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(pre, sizeof(pre), raw, sizeof(raw));
	csrf_of(pre, csrf);
	set_cookie(req, PRE_COOKIE, pre);
	strbuf_init(&note);
	strbuf_init(&sb);
	if (web_notice(&note, kind, notice, &req->err) != 0)
		goto out;
	const struct web_var v[] = {
		{ "notice", note.buf ? note.buf : "" },
		{ "csrf", csrf },
		{ "username", username },
	};
	if (web_render(&sb, "login.html", v, 3, &req->err) == 0)
		rc = web_reply_page(req, status, false, "Log in", sb.buf);
out:
	strbuf_release(&note);
	strbuf_release(&sb);
	return rc;
}

int
web_login_form(struct request *req)
{
	return login_page(req, 200, NULL, NULL, "");
}

int
web_login(struct request *req)
{
	char pre[80], name[256], password[AUTH_PASSWORD_MAX_BYTES + 1];
	char token[AUTH_TOKEN_LEN + 1];
	int rc;

	if (cookie(req, PRE_COOKIE, pre, sizeof(pre)) != 0 ||
	    !csrf_ok(req, pre)) {
		rc = refuse(req, "csrf_refused", csrf_refused);
		return rc < 0 ? -1 : 0;
	}
	if (web_form(req, "username", name, sizeof(name)) != 1 ||
	    name[0] == '\0' ||
	    web_form(req, "password", password, sizeof(password)) != 1 ||
	    password[0] == '\0')
		return login_page(req, 422, "type your username and your "
		    "password", "bad", name);
	rc = api_login_password(req, name, password, token);
	sodium_memzero(password, sizeof(password));
	if (rc != 0) {
		if (req->err.status != 401 && req->err.status != 429)
			return web_reply_error(req);
		char detail[sizeof(req->err.detail)];
		int status = web_refusal(req, detail);
		return login_page(req, status, detail, "bad", name);
	}
	set_cookie(req, WEB_SESSION_COOKIE, token);
	set_cookie(req, PRE_COOKIE, "");
	rc = api_auth_token(req, token);
	sodium_memzero(token, sizeof(token));
	if (rc != 0)
		return web_reply_error(req);
	return web_redirect(req, home_of(req));
}

int
web_logout(struct request *req)
{
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (api_session_end(req) != 0)
		return web_reply_error(req);
	set_cookie(req, WEB_SESSION_COOKIE, "");
	return login_page(req, 200, "you have logged out", "info", "");
}

/* ---- /account/password ------------------------------------------------ */

static int
password_page(struct request *req, int status, const char *notice)
{
	char csrf[65];
	struct strbuf note, sb;
	int rc = -1;

	web_csrf(req, csrf);
	strbuf_init(&note);
	strbuf_init(&sb);
	if (notice == NULL && req->who.password_change_required &&
	    web_notice(&note, "info", "your password was made for you: "
	    "choose your own before going on", &req->err) != 0)
		goto out;
	if (web_notice(&note, "bad", notice, &req->err) != 0)
		goto out;
	const struct web_var v[] = {
		{ "notice", note.buf ? note.buf : "" },
		{ "csrf", csrf },
		{ "username", req->who.username },
	};
	if (web_render(&sb, "password.html", v, 3, &req->err) == 0 &&
	    web_logout_button(req, &sb) == 0)
		rc = web_reply_page(req, status, false, "Change your password",
		    sb.buf);
out:
	strbuf_release(&note);
	strbuf_release(&sb);
	return rc;
}

int
web_password_form(struct request *req)
{
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return password_page(req, 200, NULL);
}

int
web_password(struct request *req)
{
	char current[AUTH_PASSWORD_MAX_BYTES + 1], next[AUTH_PASSWORD_MAX_BYTES + 1];
	char again[AUTH_PASSWORD_MAX_BYTES + 1];
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (web_form(req, "current_password", current, sizeof(current)) != 1 ||
	    web_form(req, "new_password", next, sizeof(next)) != 1 ||
	    web_form(req, "new_password_again", again, sizeof(again)) != 1) {
		rc = password_page(req, 422, "fill in the three boxes");
		goto out;
	}
	if (strcmp(next, again) != 0) {
		rc = password_page(req, 422, "the new password and its "
		    "repetition differ");
		goto out;
	}
	if (api_password_set(req, current, next) != 0) {
		char detail[sizeof(req->err.detail)];
		int status = web_refusal(req, detail);
		rc = status ? password_page(req, status, detail) :
		    web_reply_error(req);
		goto out;
	}
	req->who.password_change_required = false;
	rc = web_redirect(req, home_of(req));
out:
	sodium_memzero(current, sizeof(current));
	sodium_memzero(next, sizeof(next));
	sodium_memzero(again, sizeof(again));
	return rc;
}
