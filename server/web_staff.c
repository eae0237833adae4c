/*
 * The grader's session sheet: /staff/sessions lists the course sessions,
 * /staff/sessions/{id} shows the roster (the SQL session_roster(), as GET
 * /v1/sessions/{id} has it) with a box for each clinician's written and
 * practical score.  Sending the sheet records every filled box through
 * POST /v1/exam-results's own path (api_result_record(), so exam_record()
 * and every rule of it), and marks the ticked course completions through
 * POST /v1/enrollments/{id}/complete's (api_enrollment_complete()); each
 * row then says what came of it.  A row may carry its own exam date (a
 * clinician who sat on another day); left empty, the sheet's applies.  A
 * refused box keeps what was typed, and its row's date; a recorded one is
 * emptied, so sending the sheet again cannot record the same attempt
 * twice.
 */
#include "certrack/api.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"
#include "certrack/strnum.h"
#include "certrack/web.h"
#include "certrack/web_session.h"

static const struct db_stmt q_sessions = {
	"web_staff_sessions",
	"SELECT s.id, l.code, l.title, s.starts_on, s.ends_on,"
	"       coalesce(s.location, ''),"
	"       (SELECT count(*) FROM enrollments e WHERE e.session_id = s.id)"
	"  FROM course_sessions s JOIN levels l ON l.id = s.level_id"
	" ORDER BY s.starts_on DESC, s.id DESC LIMIT 500",
	0,
};

static const struct db_stmt q_session = {
	"web_staff_session",
	"SELECT l.code, l.title, s.starts_on, s.ends_on,"
	"       coalesce(s.location, ''), current_date"
	"  FROM course_sessions s JOIN levels l ON l.id = s.level_id"
	" WHERE s.id = $1::bigint",
	1,
};

enum { R_EID, R_CID, R_NAME, R_STATUS, R_DONE, R_WUSED, R_WLEFT, R_WPASS,
    R_WLAST, R_PUSED, R_PLEFT, R_PPASS, R_PLAST, R_CERT, R_CSTATUS };

static const struct db_stmt q_roster = {
	"web_staff_roster",
	"SELECT enrollment_id, clinician_id, clinician, status,"
	"       coalesce(completed_on::text, ''),"
	"       written_used, written_left, written_passed,"
	"       coalesce(written_last_on::text, ''),"
	"       practical_used, practical_left, practical_passed,"
	"       coalesce(practical_last_on::text, ''),"
	"       coalesce(certificate, ''), coalesce(certificate_status, '')"
	"  FROM session_roster($1::bigint)",
	1,
};

/* What a row of the sheet was sent with, and what came of it. */
struct row {
	char eid[24];
	char written[64], practical[64];	/* kept when refused */
	char taken_on[32];		/* the row's own exam date, or "" */
	struct strbuf outcome;
	bool refused;
};

/* The sheet's boxes above the table. */
struct sheet {
	char taken_on[32], written_max[64], practical_max[64];
	char completed_on[32];
};

int
web_staff_sessions(struct request *req)
{
	struct strbuf rows, sb;
	PGconn *conn;
	PGresult *res;
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_sessions, NULL, &req->err)) == NULL)
		return web_reply_error(req);
	strbuf_init(&rows);
	strbuf_init(&sb);
	rc = 0;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		char href[48];
		snprintf(href, sizeof(href), "/staff/sessions/%s",
		    PQgetvalue(res, i, 0));
		const struct web_var v[] = {
			{ "href", href },
			{ "code", PQgetvalue(res, i, 1) },
			{ "title", PQgetvalue(res, i, 2) },
			{ "starts_on", PQgetvalue(res, i, 3) },
			{ "ends_on", PQgetvalue(res, i, 4) },
			{ "location", PQgetvalue(res, i, 5) },
			{ "enrolled", PQgetvalue(res, i, 6) },
		};
		rc = web_render(&rows, "staff_session.html", v, 7, &req->err);
	}
	PQclear(res);
	db_release();
	if (rc == 0) {
		const struct web_var v[] = {
			{ "rows", rows.buf ? rows.buf : "" },
			{ "none", rows.buf ? "" : "<p>There are no sessions yet.</p>\n" },
		};
		rc = web_render(&sb, "staff_sessions.html", v, 2, &req->err);
	}
	if (rc == 0)
		rc = web_logout_button(req, &sb);
	if (rc == 0)
		rc = web_reply_page(req, 200, false, "Session sheets", sb.buf);
	strbuf_release(&rows);
	strbuf_release(&sb);
	return rc == 0 ? 0 : web_reply_error(req);
}

/* An exam's attempts so far, in words. */
static void
attempts_text(char *out, size_t len, PGresult *res, int i, int used)
{
	const char *n = PQgetvalue(res, i, used);

	if (strcmp(PQgetvalue(res, i, used + 2), "t") == 0)
		snprintf(out, len, "✓ passed (%s used, last %s)", n,
		    PQgetvalue(res, i, used + 3));
	else if (strcmp(n, "0") == 0)
		snprintf(out, len, "not taken; %s left",
		    PQgetvalue(res, i, used + 1));
	else
		snprintf(out, len, "%s used, %s left, last %s", n,
		    PQgetvalue(res, i, used + 1), PQgetvalue(res, i, used + 3));
}

static const struct row *
row_of(const struct row *rows, int n, const char *eid)
{
	for (int i = 0; i < n; i++)
		if (strcmp(rows[i].eid, eid) == 0)
			return &rows[i];
	return NULL;
}

/* The sheet of session ID, the rows sent (ROWS[0..N), or none) kept. */
static int
sheet_page(struct request *req, const char *id, const struct sheet *typed,
    const struct row *sent, int nsent, const char *notice)
{
	const char *params[1] = { id };
	struct strbuf rows, note, sb;
	struct sheet sh;
	PGconn *conn;
	PGresult *s = NULL, *r = NULL;
	char csrf[65];
	int rc = -1;

	strbuf_init(&rows);
	strbuf_init(&note);
	strbuf_init(&sb);
	if ((conn = db_conn(&req->err)) == NULL ||
	    (s = db_exec(conn, &q_session, params, &req->err)) == NULL)
		goto out;
	if (PQntuples(s) != 1) {
		cterr_set(&req->err, 404, "not_found", NULL, "there is no "
		    "session %s", id);
		goto out;
	}
	if ((r = db_exec(conn, &q_roster, params, &req->err)) == NULL)
		goto out;
	if (typed != NULL) {
		sh = *typed;
	} else {
		snprintf(sh.taken_on, sizeof(sh.taken_on), "%s",
		    PQgetvalue(s, 0, 5));
		snprintf(sh.written_max, sizeof(sh.written_max), "100");
		snprintf(sh.practical_max, sizeof(sh.practical_max), "100");
		snprintf(sh.completed_on, sizeof(sh.completed_on), "%s",
		    PQgetvalue(s, 0, 3));
	}
	for (int i = 0; i < PQntuples(r); i++) {
		const char *eid = PQgetvalue(r, i, R_EID);
		const struct row *w = row_of(sent, nsent, eid);
		char wr[128], pr[128], cert[64], cbox[160];

		attempts_text(wr, sizeof(wr), r, i, R_WUSED);
		attempts_text(pr, sizeof(pr), r, i, R_PUSED);
		snprintf(cert, sizeof(cert), "%s%s%s%s",
		    PQgetvalue(r, i, R_CERT), *PQgetvalue(r, i, R_CERT) ? " (" :
		    "—", PQgetvalue(r, i, R_CSTATUS),
		    *PQgetvalue(r, i, R_CERT) ? ")" : "");
		if (strcmp(PQgetvalue(r, i, R_STATUS), "enrolled") == 0)
			snprintf(cbox, sizeof(cbox), "<input type=\"checkbox\" "
			    "name=\"complete_%s\" value=\"yes\" aria-label="
			    "\"Course completed\">", eid);
		else
			snprintf(cbox, sizeof(cbox), "%s",
			    strcmp(PQgetvalue(r, i, R_STATUS), "completed") ?
			    "—" : "✓");
		const struct web_var v[] = {
			{ "id", eid },
			{ "name", PQgetvalue(r, i, R_NAME) },
			{ "status", PQgetvalue(r, i, R_STATUS) },
			{ "completed_on", PQgetvalue(r, i, R_DONE) },
			{ "written_so_far", wr },
			{ "practical_so_far", pr },
			{ "certificate", cert },
			{ "complete", cbox },
			{ "w", w ? w->written : "" },
			{ "p", w ? w->practical : "" },
			{ "d", w ? w->taken_on : "" },
			{ "kind", w && w->refused ? "bad" : "ok" },
			{ "outcome", w && w->outcome.buf ? w->outcome.buf : "" },
		};
		if (web_render(&rows, "staff_row.html", v, 13, &req->err) != 0)
			goto out;
	}
	if (web_notice(&note, "info", notice, &req->err) != 0)
		goto out;
	web_csrf(req, csrf);
	{
		char action[48];
		snprintf(action, sizeof(action), "/staff/sessions/%s", id);
		const struct web_var v[] = {
			{ "code", PQgetvalue(s, 0, 0) },
			{ "title", PQgetvalue(s, 0, 1) },
			{ "starts_on", PQgetvalue(s, 0, 2) },
			{ "ends_on", PQgetvalue(s, 0, 3) },
			{ "location", PQgetvalue(s, 0, 4) },
			{ "notice", note.buf ? note.buf : "" },
			{ "action", action },
			{ "csrf", csrf },
			{ "taken_on", sh.taken_on },
			{ "written_max", sh.written_max },
			{ "practical_max", sh.practical_max },
			{ "completed_on", sh.completed_on },
			{ "rows", rows.buf ? rows.buf : "" },
			{ "none", PQntuples(r) ? "" : "<p>No one is enrolled "
			    "in this session.</p>\n" },
		};
		if (web_render(&sb, "staff_sheet.html", v, 14, &req->err) != 0 ||
		    web_logout_button(req, &sb) != 0)
			goto out;
	}
	PQclear(s);
	PQclear(r);
	s = r = NULL;
	db_release();
	rc = web_reply_page(req, 200, false, "Session sheet", sb.buf);
out:
	PQclear(s);
	PQclear(r);
	strbuf_release(&rows);
	strbuf_release(&note);
	strbuf_release(&sb);
	if (rc != 0 && cterr_isset(&req->err))
		rc = web_reply_error(req);
	return rc;
}

int
web_staff_sheet(struct request *req)
{
	char id[24];
	long long v;
	int rc = web_user(req);

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (api_path_id(req, "id", "session", &v, id) != 0)
		return web_reply_error(req);
	return sheet_page(req, id, NULL, NULL, 0, NULL);
}

/* Adds "TEXT" to ROW's outcome, "; " apart. */
static void
say(struct row *row, const char *text)
{
	if (row->outcome.len > 0)
		strbuf_addstr(&row->outcome, "; ");
	strbuf_addstr(&row->outcome, text);
}

/* The refusal in req->err said in ROW's outcome, and cleared. */
static void
say_refused(struct request *req, struct row *row, const char *what)
{
	strbuf_addf(&row->outcome, "%s%s refused: %s",
	    row->outcome.len ? "; " : "", what, req->err.detail);
	row->refused = true;
	cterr_clear(&req->err);
}

/* TEXT as a JSON number (the API's own reader of numbers), or NULL. */
static json_t *
number(const char *text)
{
	json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);

	if (j != NULL && !json_is_number(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Records one box (KIND "written" or "practical") of ROW, on the row's
 * own date or else the sheet's. */
static void
record_box(struct request *req, struct row *row, const char *cid,
    const char *level, const char *kind, char *score,
    const struct sheet *sh)
{
	const char *taken_on = row->taken_on[0] ? row->taken_on : sh->taken_on;
	const char *max = kind[0] == 'w' ? sh->written_max :
	    sh->practical_max;
	json_t *body = json_object(), *s = number(score), *m = number(max);
	char *reply = NULL, what[32];
	long long c = 0;

	snprintf(what, sizeof(what), "%s", kind[0] == 'w' ? "written" :
	    "practical");
	if (body == NULL || s == NULL || m == NULL) {
		strbuf_addf(&row->outcome, "%s%s refused: %s", row->outcome.len ?
		    "; " : "", what, s == NULL ? "the score is not a number" :
		    "the maximum score is not a number");
		row->refused = true;
		goto out;
	}
	strnum_ll(cid, 1, INT64_MAX, &c, NULL);
	json_object_set_new(body, "clinician_id", json_integer(c));
	json_object_set_new(body, "level", json_string(level));
	json_object_set_new(body, "kind", json_string(kind));
	json_object_set(body, "score", s);
	json_object_set(body, "max_score", m);
	json_object_set_new(body, "taken_on", json_string(taken_on));
	if (api_result_record(req, body, &reply) != 0) {
		say_refused(req, row, what);
		goto out;
	}
	{
		json_t *r = json_loads(reply, 0, NULL);
		const json_t *cert = json_object_get(r, "certificate");
		strbuf_addf(&row->outcome, "%s%s recorded: attempt %lld, %s",
		    row->outcome.len ? "; " : "", what,
		    (long long)json_integer_value(json_object_get(r,
		    "attempt")), json_is_true(json_object_get(r, "passed")) ?
		    "passed" : "failed");
		if (json_is_object(cert))
			strbuf_addf(&row->outcome, "; certificate %s issued",
			    json_string_value(json_object_get(cert, "number")));
		json_decref(r);
	}
	score[0] = '\0';		/* recorded: not to be sent again */
out:
	free(reply);
	json_decref(body);
	json_decref(s);
	json_decref(m);
}

static void
box(struct request *req, const char *name, char *out, size_t len)
{
	if (web_form(req, name, out, len) < 0)
		out[0] = '\0';
	/* a score typed with blanks around it is the score */
	size_t n = strlen(out), b = strspn(out, " ");
	while (n > b && out[n - 1] == ' ')
		out[--n] = '\0';
	memmove(out, out + b, n - b + 1);
}

int
web_staff_sheet_post(struct request *req)
{
	char id[24], level[64];
	const char *params[1] = { id };
	struct sheet sh;
	struct row *rows = NULL;
	PGconn *conn;
	PGresult *r = NULL;
	long long v;
	int n = 0, rc = web_user(req), recorded = 0, refused = 0;
	char notice[128];

	if (rc != 0)
		return rc < 0 ? -1 : 0;
	if (api_path_id(req, "id", "session", &v, id) != 0)
		return web_reply_error(req);
	box(req, "taken_on", sh.taken_on, sizeof(sh.taken_on));
	box(req, "written_max", sh.written_max, sizeof(sh.written_max));
	box(req, "practical_max", sh.practical_max, sizeof(sh.practical_max));
	box(req, "completed_on", sh.completed_on, sizeof(sh.completed_on));
	if ((conn = db_conn(&req->err)) == NULL ||
	    (r = db_exec(conn, &q_session, params, &req->err)) == NULL)
		return web_reply_error(req);
	if (PQntuples(r) != 1) {
		PQclear(r);
		cterr_set(&req->err, 404, "not_found", NULL, "there is no "
		    "session %s", id);
		return web_reply_error(req);
	}
	snprintf(level, sizeof(level), "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	if ((r = db_exec(conn, &q_roster, params, &req->err)) == NULL)
		return web_reply_error(req);
	n = PQntuples(r);
	rows = calloc((size_t)n + 1, sizeof(*rows));
	if (rows == NULL) {
		PQclear(r);
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	}
	for (int i = 0; i < n; i++) {
		struct row *w = &rows[i];
		char name[48], done[8];
		const char *cid = PQgetvalue(r, i, R_CID);

		strbuf_init(&w->outcome);
		snprintf(w->eid, sizeof(w->eid), "%s", PQgetvalue(r, i, R_EID));
		snprintf(name, sizeof(name), "written_%s", w->eid);
		box(req, name, w->written, sizeof(w->written));
		snprintf(name, sizeof(name), "practical_%s", w->eid);
		box(req, name, w->practical, sizeof(w->practical));
		snprintf(name, sizeof(name), "taken_on_%s", w->eid);
		box(req, name, w->taken_on, sizeof(w->taken_on));
		snprintf(name, sizeof(name), "complete_%s", w->eid);
		box(req, name, done, sizeof(done));
		if (strcmp(done, "yes") == 0 && sh.completed_on[0] == '\0') {
			say(w, "course completion refused: type the date the "
			    "course was completed on");
			w->refused = true;
		} else if (strcmp(done, "yes") == 0) {
			if (api_enrollment_complete(req, w->eid,
			    sh.completed_on) != 0)
				say_refused(req, w, "course completion");
			else
				say(w, "course completed");
		}
		if (w->written[0] != '\0')
			record_box(req, w, cid, level, "written", w->written,
			    &sh);
		if (w->practical[0] != '\0')
			record_box(req, w, cid, level, "practical",
			    w->practical, &sh);
		/* a date with no box left to send goes with them */
		if (w->written[0] == '\0' && w->practical[0] == '\0')
			w->taken_on[0] = '\0';
		if (w->refused)
			refused++;
		else if (w->outcome.len > 0)
			recorded++;
	}
	PQclear(r);
	db_release();
	snprintf(notice, sizeof(notice), "%d row%s recorded, %d with a "
	    "refusal (kept as typed below)", recorded, recorded == 1 ? "" :
	    "s", refused);
	rc = sheet_page(req, id, &sh, rows, n, notice);
	for (int i = 0; i < n; i++)
		strbuf_release(&rows[i].outcome);
	free(rows);
	return rc;
}
