/*
 * The public pages: home, the stylesheet, and certificate verification
 * (/verify, /verify/{number}).  The number is read by the API's reader
 * (api_certificate_number(): a mistyped check symbol is caught before any
 * lookup) and the certificate by the API's verification
 * (api_certificate_lookup()), so the page and GET /v1/certificates/{number}
 * can never disagree.
 */
#include "certrack/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "certrack/certnum.h"
#include "certrack/db.h"
#include "certrack/pdf.h"
#include "certrack/qr.h"
#include "certrack/web.h"

/* The credential certificate $1 is a step towards: its program's title
 * (public, as GET /v1/programs shows it), not part of the verification
 * answer, which says no more than it must. */
static const struct db_stmt q_credential = {
	"web_certificate_credential",
	"SELECT g.credential_title FROM certificates c"
	" JOIN levels l ON l.id = c.level_id"
	" JOIN programs g ON g.id = l.program_id"
	" WHERE c.number = $1",
	1,
};

int
web_home(struct request *req)
{
	struct strbuf sb;
	int rc;

	strbuf_init(&sb);
	rc = web_render(&sb, "home.html", NULL, 0, &req->err);
	if (rc == 0)
		rc = web_reply_page(req, 200, true, "Certified practitioners",
		    sb.buf);
	strbuf_release(&sb);
	return rc;
}

int
web_static(struct request *req)
{
	char name[ROUTER_PARAM_MAX + 8];
	const char *text;

	snprintf(name, sizeof(name), "static/%s",
	    router_param(&req->params, "file"));
	text = web_file(name);
	if (text == NULL || strcmp(name + strlen(name) - 4, ".css") != 0) {
		cterr_set(&req->err, 404, "not_found", NULL, "there is no '%s'",
		    req->path);
		return web_reply_error(req);
	}
	req->cache_control = WEB_CACHE_PUBLIC;
	return http_reply_text(req, 200, "text/css; charset=utf-8", text,
	    strlen(text));
}

/* The verification form, with NOTICE (may be NULL) of KIND above it. */
static int
form_page(struct request *req, int status, const char *typed,
    const char *kind, const char *notice)
{
	struct strbuf note, sb;
	int rc = -1;

	strbuf_init(&note);
	strbuf_init(&sb);
	if (web_notice(&note, kind, notice, &req->err) != 0)
		goto out;
	const struct web_var vars[] = {
		{ "notice", note.buf },
		{ "number", typed ? typed : "" },
	};
	if (web_render(&sb, "verify_form.html", vars, 2, &req->err) != 0)
		goto out;
	rc = web_reply_page(req, status, true, "Verify a certificate", sb.buf);
out:
	strbuf_release(&note);
	strbuf_release(&sb);
	return rc;
}

/* The status of certificate C in words: its word, mark and sentence. */
static void
status_words(const json_t *c, const char **word, const char **mark,
    char *text, size_t len)
{
	const char *status = json_string_value(json_object_get(c, "status"));
	const char *expires = json_string_value(json_object_get(c,
	    "expires_on"));
	char d[40];

	if (status != NULL && strcmp(status, "revoked") == 0) {
		const char *cat = json_string_value(json_object_get(c,
		    "revocation_category"));
		char words[48];

		snprintf(words, sizeof(words), "%s", cat ? cat : "other");
		for (char *p = words; *p; p++)
			if (*p == '_')
				*p = ' ';
		*word = "Revoked";
		*mark = "\u2717";
		snprintf(text, len, "This certificate was revoked on %s (reason: "
		    "%s). It is not valid.", pdf_date_words(json_string_value(
		    json_object_get(c, "revoked_on")), d, sizeof(d)), words);
	} else if (status != NULL && strcmp(status, "expired") == 0) {
		*word = "Expired";
		*mark = "!";
		snprintf(text, len, "This certificate expired on %s. It is no "
		    "longer valid.", pdf_date_words(expires, d, sizeof(d)));
	} else if (expires != NULL) {
		*word = "Valid";
		*mark = "\u2713";
		snprintf(text, len, "This certificate is valid: it is in force "
		    "until %s.", pdf_date_words(expires, d, sizeof(d)));
	} else {
		*word = "Valid";
		*mark = "\u2713";
		snprintf(text, len, "This certificate is valid and does not "
		    "expire.");
	}
}

/* The credential title of certificate NUMBER into BUF.  0, or -1. */
static int
credential_of(const char *number, char *buf, size_t len, struct cterr *err)
{
	const char *params[1] = { number };
	PGconn *conn = db_conn(err);
	PGresult *res;

	if (conn == NULL || (res = db_exec(conn, &q_credential, params,
	    err)) == NULL)
		return -1;
	snprintf(buf, len, "%s", PQntuples(res) == 1 ? PQgetvalue(res, 0, 0) :
	    "");
	PQclear(res);
	return 0;
}

/* The page of certificate NUMBER (canonical), whose answer is JSON. */
static int
certificate_page(struct request *req, const char *number, const char *json)
{
	json_t *c = json_loads(json, 0, NULL);
	struct strbuf qr, sb;
	char url[400], text[256], issued[40], expires[40], title[64];
	char credential[256];
	const char *word = "", *mark = "", *status;
	int rc = -1;

	strbuf_init(&qr);
	strbuf_init(&sb);
	if (c == NULL) {
		cterr_set(&req->err, 500, "internal", NULL, "the certificate "
		    "could not be read");
		goto out;
	}
	snprintf(url, sizeof(url), "%s/verify/%s", web_public_url(), number);
	if (qr_svg(&qr, url, "QR code of this page's address") != 0) {
		cterr_set(&req->err, 500, "internal", NULL, "out of memory");
		goto out;
	}
	if (credential_of(number, credential, sizeof(credential),
	    &req->err) != 0)
		goto out;
	status_words(c, &word, &mark, text, sizeof(text));
	status = json_string_value(json_object_get(c, "status"));
	const char *exp_iso = json_string_value(json_object_get(c,
	    "expires_on"));
	const struct web_var vars[] = {
		{ "number", number },
		{ "status", status ? status : "" },
		{ "status_word", word },
		{ "mark", mark },
		{ "status_text", text },
		{ "holder", json_string_value(json_object_get(c, "holder")) },
		{ "credential", credential },
		{ "program", json_string_value(json_object_get(c, "program")) },
		{ "level", json_string_value(json_object_get(c, "level")) },
		{ "issued_on", json_string_value(json_object_get(c,
		    "issued_on")) },
		{ "issued_words", pdf_date_words(json_string_value(
		    json_object_get(c, "issued_on")), issued, sizeof(issued)) },
		{ "expires", exp_iso ? pdf_date_words(exp_iso, expires,
		    sizeof(expires)) : "does not expire" },
		{ "url", url },
		{ "qr", qr.buf },
	};
	if (web_render(&sb, "verify.html", vars, sizeof(vars) /
	    sizeof(vars[0]), &req->err) != 0)
		goto out;
	snprintf(title, sizeof(title), "Certificate %s: %s", number, word);
	rc = web_reply_page(req, 200, true, title, sb.buf);
out:
	json_decref(c);
	strbuf_release(&qr);
	strbuf_release(&sb);
	return rc;
}

/* Verifies TYPED: the form with a notice, or the certificate's page. */
static int
verify(struct request *req, const char *typed)
{
	char number[CERTNUM_LEN + 1];
	char *json = NULL;
	char msg[640];
	int rc;

	if (api_certificate_number(typed, number, &req->err) != 0) {
		snprintf(msg, sizeof(msg), "%s. Nothing was looked up: "
		    "check what you typed against the certificate.",
		    req->err.detail);
		cterr_clear(&req->err);
		return form_page(req, 422, typed, "bad", msg);
	}
	if (api_certificate_lookup(number, req->start, &json, &req->err) != 0)
		return web_reply_error(req);
	if (json == NULL) {
		snprintf(msg, sizeof(msg), "There is no certificate %s. Check "
		    "the number against the certificate; if it matches, the "
		    "certificate is not genuine.", number);
		return form_page(req, 404, typed, "bad", msg);
	}
	rc = certificate_page(req, number, json);
	free(json);
	if (rc != 0)
		return web_reply_error(req);
	return 0;
}

int
web_verify_form(struct request *req)
{
	const char *typed = http_query(req, "number");
	char number[CERTNUM_LEN + 1], location[64];

	if (typed == NULL || typed[0] == '\0')
		return form_page(req, 200, "", NULL, NULL);
	if (api_certificate_number(typed, number, &req->err) != 0) {
		cterr_clear(&req->err);
		return verify(req, typed);
	}
	/* the certificate's own address is the one to share */
	snprintf(location, sizeof(location), "/verify/%s", number);
	http_add_header(req, "Location", location);
	return http_reply_text(req, 303, "text/plain; charset=utf-8", "", 0);
}

int
web_verify(struct request *req)
{
	return verify(req, router_param(&req->params, "number"));
}
