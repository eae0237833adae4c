/*
 * A clinician's own pages: /me, the transcript (from the SQL
 * clinician_status(), as GET /v1/clinicians/{id}/status answers it), each
 * certificate's PDF (/me/certificates/{number}.pdf, made by the API's own
 * api_certificates_pdf()) and the directory listing (POST /me/directory,
 * through PATCH /v1/me/directory's api_directory_set()).
 */
#include "certrack/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "certrack/db.h"
#include "certrack/web.h"
#include "certrack/web_session.h"

static const struct db_stmt q_transcript = {
	"web_me_transcript",
	"SELECT clinician_status($1, current_date)::text,"
	"       directory_listed, coalesce(practice_city, ''),"
	"       coalesce(practice_state, ''), coalesce(practice_zip, ''),"
	"       coalesce(public_contact, '')"
	"  FROM clinicians WHERE id = $1",
	1,
};

/* Member KEY of O as text in BUF: "" for null or absent. */
static const char *
text_of(const json_t *o, const char *key, char *buf, size_t len)
{
	const json_t *j = json_object_get(o, key);

	buf[0] = '\0';
	if (json_is_string(j))
		snprintf(buf, len, "%s", json_string_value(j));
	else if (json_is_integer(j))
		snprintf(buf, len, "%lld", (long long)json_integer_value(j));
	else if (json_is_real(j))
		snprintf(buf, len, "%.15g", json_real_value(j));
	else if (json_is_boolean(j))
		snprintf(buf, len, "%s", json_is_true(j) ? "yes" : "no");
	return buf;
}

/* One exam kind's row of a level's table. */
static int
exam_row(struct strbuf *sb, const char *kind, const json_t *e,
    struct cterr *err)
{
	char pass[32], used[16], left[16], next[32];
	struct strbuf tries;
	size_t i;
	json_t *a;
	const char *result;
	int rc;

	strbuf_init(&tries);
	json_array_foreach(json_object_get(e, "attempts"), i, a) {
		char n[16], s[32], m[32], d[32];
		strbuf_addf(&tries, "%s%s: %s/%s on %s, %s%s",
		    i ? "; " : "", text_of(a, "attempt", n, sizeof(n)),
		    text_of(a, "score", s, sizeof(s)),
		    text_of(a, "max_score", m, sizeof(m)),
		    text_of(a, "taken_on", d, sizeof(d)),
		    json_is_true(json_object_get(a, "passed")) ? "passed" :
		    "failed", json_is_true(json_object_get(a, "amended")) ?
		    " (amended)" : "");
	}
	if (json_is_true(json_object_get(e, "passed")))
		result = "✓ passed";
	else if (json_integer_value(json_object_get(e, "attempts_used")) == 0)
		result = "not taken";
	else if (json_integer_value(json_object_get(e, "attempts_left")) == 0)
		result = "✗ no attempt left";
	else
		result = "not passed yet";
	text_of(e, "next_allowed_on", next, sizeof(next));
	const struct web_var v[] = {
		{ "kind", kind },
		{ "pass_mark", text_of(e, "pass_mark", pass, sizeof(pass)) },
		{ "used", text_of(e, "attempts_used", used, sizeof(used)) },
		{ "left", text_of(e, "attempts_left", left, sizeof(left)) },
		{ "result", result },
		{ "next", next[0] ? next : "—" },
		{ "attempts", tries.buf ? tries.buf : "—" },
	};
	rc = web_render(sb, "me_exam.html", v, 7, err);
	strbuf_release(&tries);
	return rc;
}

static int
certificate_box(struct strbuf *sb, const json_t *c, struct cterr *err)
{
	char number[32], status[16], issued[16], expires[16], cat[64];
	char pdf[64], verify[64], revoked[16];
	const char *mark;

	text_of(c, "number", number, sizeof(number));
	text_of(c, "status", status, sizeof(status));
	text_of(c, "revoked_on", revoked, sizeof(revoked));
	text_of(c, "revocation_category", cat, sizeof(cat));
	mark = strcmp(status, "valid") == 0 ? "✓ valid" :
	    strcmp(status, "expired") == 0 ? "! expired" : "✗ revoked";
	snprintf(pdf, sizeof(pdf), "/me/certificates/%s.pdf", number);
	snprintf(verify, sizeof(verify), "/verify/%s", number);
	const struct web_var v[] = {
		{ "number", number },
		{ "status", status },
		{ "mark", mark },
		{ "issued", text_of(c, "issued_on", issued, sizeof(issued)) },
		{ "expires", text_of(c, "expires_on", expires,
		    sizeof(expires)) },
		{ "pdf", pdf },
		{ "verify", verify },
	};
	if (strcmp(status, "revoked") == 0) {
		const struct web_var r[] = { { "number", number },
		    { "revoked", revoked }, { "category", cat } };
		return web_render(sb, "me_revoked.html", r, 3, err);
	}
	return web_render(sb, "me_certificate.html", v, 7, err);
}

static int
level_box(struct strbuf *sb, const json_t *l, struct cterr *err)
{
	char code[64], title[256], line[512];
	const json_t *en = json_object_get(l, "enrollment");
	const json_t *ex = json_object_get(l, "exams");
	struct strbuf rows, cert;
	int rc = -1;

	if (json_is_object(en)) {
		char st[32], on[32], from[32], loc[200];
		const json_t *s = json_object_get(en, "session");
		text_of(en, "status", st, sizeof(st));
		text_of(en, "completed_on", on, sizeof(on));
		text_of(s, "starts_on", from, sizeof(from));
		text_of(s, "location", loc, sizeof(loc));
		snprintf(line, sizeof(line), "Course of %s%s%s: %s%s%s.", from,
		    loc[0] ? ", " : "", loc, st, on[0] ? " on " : "", on);
	} else {
		snprintf(line, sizeof(line), "Not enrolled.");
	}
	strbuf_init(&rows);
	strbuf_init(&cert);
	if (exam_row(&rows, "Written", json_object_get(ex, "written"),
	    err) != 0 || exam_row(&rows, "Practical",
	    json_object_get(ex, "practical"), err) != 0)
		goto out;
	if (json_is_object(json_object_get(l, "certificate"))) {
		if (certificate_box(&cert, json_object_get(l, "certificate"),
		    err) != 0)
			goto out;
	} else {
		strbuf_addstr(&cert, "<p>No certificate yet.</p>\n");
	}
	const struct web_var v[] = {
		{ "code", text_of(l, "code", code, sizeof(code)) },
		{ "title", text_of(l, "title", title, sizeof(title)) },
		{ "enrollment", line },
		{ "rows", rows.buf },
		{ "certificate", cert.buf },
	};
	rc = web_render(sb, "me_level.html", v, 5, err);
out:
	strbuf_release(&rows);
	strbuf_release(&cert);
	return rc;
}

static int
transcript(struct strbuf *sb, const json_t *st, struct cterr *err)
{
	size_t i, j;
	json_t *p, *l;

	json_array_foreach(json_object_get(st, "programs"), i, p) {
		char name[256], cred[256];
		struct strbuf levels;
		int rc = 0;

		strbuf_init(&levels);
		json_array_foreach(json_object_get(p, "levels"), j, l)
			if (rc == 0)
				rc = level_box(&levels, l, err);
		const struct web_var v[] = {
			{ "name", text_of(p, "name", name, sizeof(name)) },
			{ "credential", text_of(p, "credential_title", cred,
			    sizeof(cred)) },
			{ "held", json_is_true(json_object_get(p,
			    "credential_held")) ? "held" : "not held yet" },
			{ "levels", levels.buf ? levels.buf : "" },
		};
		if (rc == 0)
			rc = web_render(sb, "me_program.html", v, 4, err);
		strbuf_release(&levels);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* The /me page, with NOTICE (or NULL) of KIND; FORM (or NULL) the
 * directory fields as typed, kept after a refusal. */
static int
me_page(struct request *req, int status, const char *notice,
    const char *kind, const char *const form[5])
{
	char id[24], csrf[65];
	const char *params[1] = { id };
	struct strbuf sb, note, body;
	json_t *st = NULL;
	PGconn *conn;
	PGresult *res = NULL;
	int rc = -1;

	snprintf(id, sizeof(id), "%lld", req->who.clinician_id);
	strbuf_init(&sb);
	strbuf_init(&note);
	strbuf_init(&body);
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_transcript, params, &req->err)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		cterr_set(&req->err, 404, "not_found", NULL, "this account's "
		    "clinician record is gone");
		goto out;
	}
	st = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	if (st == NULL) {
		cterr_set(&req->err, 500, "internal", NULL, "clinician_status() "
		    "answered no JSON");
		goto out;
	}
	if (web_notice(&note, kind, notice, &req->err) != 0)
		goto out;
	if (transcript(&body, st, &req->err) != 0)
		goto out;
	web_csrf(req, csrf);
	{
		const json_t *c = json_object_get(st, "clinician");
		char given[200], family[200], asof[16];
		bool listed = form ? strcmp(form[0], "yes") == 0 :
		    strcmp(PQgetvalue(res, 0, 1), "t") == 0;
		const struct web_var v[] = {
			{ "notice", note.buf ? note.buf : "" },
			{ "given", text_of(c, "given_name", given,
			    sizeof(given)) },
			{ "family", text_of(c, "family_name", family,
			    sizeof(family)) },
			{ "as_of", text_of(st, "as_of", asof, sizeof(asof)) },
			{ "programs", body.buf ? body.buf : "" },
			{ "csrf", csrf },
			{ "listed_yes", listed ? " checked" : "" },
			{ "listed_no", listed ? "" : " checked" },
			{ "city", form ? form[1] : PQgetvalue(res, 0, 2) },
			{ "state", form ? form[2] : PQgetvalue(res, 0, 3) },
			{ "zip", form ? form[3] : PQgetvalue(res, 0, 4) },
			{ "contact", form ? form[4] : PQgetvalue(res, 0, 5) },
		};
		if (web_render(&sb, "me.html", v, 12, &req->err) != 0 ||
		    web_logout_button(req, &sb) != 0)
			goto out;
	}
	PQclear(res);
	res = NULL;
	db_release();
	rc = web_reply_page(req, status, false, "Your certificates", sb.buf);
out:
	PQclear(res);
	json_decref(st);
	strbuf_release(&sb);
	strbuf_release(&note);
	strbuf_release(&body);
	if (rc != 0 && cterr_isset(&req->err))
		rc = web_reply_error(req);
	return rc;
}

int
web_me(struct request *req)
{
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	return me_page(req, 200, NULL, NULL, NULL);
}

/* The listing form's fields as PATCH /v1/me/directory's JSON: a blank
 * box clears its field (null), as the API's null does. */
static json_t *
directory_body(char form[5][256], bool *bad)
{
	static const char *const names[] = { "directory_listed",
	    "practice_city", "practice_state", "practice_zip",
	    "public_contact" };
	json_t *b = json_object();

	if (b == NULL)
		return NULL;
	json_object_set_new(b, names[0], json_boolean(strcmp(form[0], "yes")
	    == 0));
	for (int i = 1; i < 5; i++) {
		size_t n = strlen(form[i]);
		while (n > 0 && form[i][n - 1] == ' ')
			form[i][--n] = '\0';
		json_object_set_new(b, names[i], form[i][0] ? json_string(
		    form[i]) : json_null());
	}
	*bad = strcmp(form[0], "yes") != 0 && strcmp(form[0], "no") != 0;
	return b;
}

int
web_me_directory(struct request *req)
{
	static const char *const fields[] = { "listed", "practice_city",
	    "practice_state", "practice_zip", "public_contact" };
	char form[5][256];
	const char *kept[5];
	char *reply = NULL;
	bool bad = false;
	json_t *body;
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	for (int i = 0; i < 5; i++) {
		if (web_form(req, fields[i], form[i], sizeof(form[i])) < 0)
			bad = true;
		kept[i] = form[i];
	}
	if (bad)
		return me_page(req, 422, "a box holds more than 255 bytes or "
		    "text that is not UTF-8", "bad", kept);
	if ((body = directory_body(form, &bad)) == NULL)
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	if (bad) {
		json_decref(body);
		return me_page(req, 422, "choose whether to be listed", "bad",
		    kept);
	}
	json_decref(req->json);
	req->json = body;		/* the request's now, as a JSON body */
	rc = api_directory_set(req, &reply);
	free(reply);
	if (rc != 0) {
		char detail[sizeof(req->err.detail)];
		int status = web_refusal(req, detail);
		if (status == 0)
			return web_reply_error(req);
		return me_page(req, status, detail, "bad", kept);
	}
	return me_page(req, 200, "your directory listing is saved", "info",
	    NULL);
}

int
web_me_pdf(struct request *req)
{
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (api_certificates_pdf(req) != 0)
		return web_reply_error(req);
	return 0;
}
