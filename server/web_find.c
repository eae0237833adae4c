/*
 * The directory: "find a certified practitioner" as a page (/find) and as
 * public JSON for other sites (GET /v1/directory).  Both read the same
 * query the same way and run the one SQL directory_search()
 * (sql/0015_directory.sql): listed clinicians with a valid certificate,
 * by name prefix, profession, state, city or ZIP, a bounded page at a
 * time, never an email or NPI.
 */
#include "certrack/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <jansson.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"
#include "certrack/value.h"
#include "certrack/web.h"

static const struct db_stmt q_search = {
	"directory_search",
	"SELECT directory_search($1, $2, $3, $4, $5, $6::int, $7::int,"
	" current_date)::text",
	7,
};

static const struct db_stmt q_professions = {
	"directory_professions",
	"SELECT code, name FROM professions p WHERE EXISTS (SELECT 1 FROM"
	" program_professions pp WHERE pp.profession_code = p.code)"
	" ORDER BY name",
	0,
};

/* A search as asked: each criterion NULL when not given. */
struct dir_query {
	const char *name, *profession, *state, *city, *zip;
	char state_buf[VALUE_STATE_LEN];
	long long limit, offset;
	bool any;		/* some criterion was given */
};

/* Query parameter NAME, NULL when absent or empty (a form's blank box). */
static const char *
criterion(struct request *req, const char *name, struct dir_query *q)
{
	const char *v = http_query(req, name);

	if (v == NULL || v[0] == '\0')
		return NULL;
	q->any = true;
	return v;
}

/* Reads and bounds the search of REQ.  0, or -1 with ERR 400. */
static int
dir_query_read(struct request *req, struct dir_query *q, struct cterr *err)
{
	struct value_err ve;

	memset(q, 0, sizeof(*q));
	q->name = criterion(req, "name", q);
	q->profession = criterion(req, "profession", q);
	q->state = criterion(req, "state", q);
	q->city = criterion(req, "city", q);
	q->zip = criterion(req, "zip", q);
	if (q->name != NULL && value_chars(q->name) > 100)
		return cterr_set(err, 400, "invalid_parameter", "name",
		    "a name to search may have at most 100 characters");
	if (q->profession != NULL && value_chars(q->profession) > 100)
		return cterr_set(err, 400, "invalid_parameter", "profession",
		    "a profession may have at most 100 characters");
	if (q->city != NULL && value_text("practice_city", q->city, &ve) != 0)
		return cterr_set(err, 400, "invalid_parameter", "city",
		    "a city may have at most %ld characters",
		    value_max_len("practice_city"));
	if (q->state != NULL) {
		if (value_state(q->state, q->state_buf, &ve) != 0)
			return cterr_set(err, 400, "invalid_parameter",
			    "state", "%s", ve.detail);
		q->state = q->state_buf;
	}
	if (q->zip != NULL && value_zip(q->zip, &ve) != 0)
		return cterr_set(err, 400, "invalid_parameter", "zip", "%s",
		    ve.detail);
	/* a page at a time, and not far in: an anonymous caller cannot
	 * make one request walk the whole table */
	if (api_query_int(req, "limit", 1, 50, 20, &q->limit, err) != 0 ||
	    api_query_int(req, "offset", 0, 1000, 0, &q->offset, err) != 0)
		return -1;
	return 0;
}

/* Runs Q: the answer's JSON text in *JSON (malloc'd).  0, or -1. */
static int
dir_run(const struct dir_query *q, char **json, struct cterr *err)
{
	char limit[24], offset[24];
	const char *params[7] = { q->name, q->profession, q->state, q->city,
	    q->zip, limit, offset };

	snprintf(limit, sizeof(limit), "%lld", q->limit);
	snprintf(offset, sizeof(offset), "%lld", q->offset);
	PGconn *conn = db_conn(err);
	if (conn == NULL)
		return -1;
	return api_text_of(conn, &q_search, params, json, err);
}

int
api_directory(struct request *req)
{
	struct dir_query q;
	char *json = NULL;
	int rc;

	if (dir_query_read(req, &q, &req->err) != 0 ||
	    dir_run(&q, &json, &req->err) != 0)
		return -1;
	/* public data, for other sites to show: cacheable, any origin */
	req->cache_control = WEB_CACHE_PUBLIC;
	http_add_header(req, "Access-Control-Allow-Origin", "*");
	rc = api_reply_db_json(req, 200, json);
	free(json);
	return rc;
}

/* <option>s of the professions one may be certified in, SELECTED chosen. */
static int
profession_options(struct strbuf *sb, const char *selected, struct cterr *err)
{
	PGconn *conn = db_conn(err);
	PGresult *res;
	int rc = 0;

	if (conn == NULL || (res = db_exec(conn, &q_professions, NULL,
	    err)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		const char *code = PQgetvalue(res, i, 0);
		const struct web_var v[] = {
			{ "code", code },
			{ "name", PQgetvalue(res, i, 1) },
			{ "selected", selected != NULL &&
			    strcasecmp(selected, code) == 0 ? " selected" : "" },
		};
		rc = web_render(sb, "find_option.html", v, 3, err);
	}
	PQclear(res);
	return rc;
}

/* "/find?name=...&offset=N" for the pager, into SB. */
static void
page_href(struct strbuf *sb, const struct dir_query *q, long long offset)
{
	const char *names[] = { "name", "profession", "state", "city", "zip" };
	const char *values[] = { q->name, q->profession, q->state, q->city,
	    q->zip };
	char sep = '?';

	strbuf_addstr(sb, "/find");
	for (int i = 0; i < 5; i++) {
		if (values[i] == NULL)
			continue;
		strbuf_addf(sb, "%c%s=", sep, names[i]);
		web_urlencode(sb, values[i]);
		sep = '&';
	}
	strbuf_addf(sb, "%coffset=%lld", sep, offset);
}

/* One found clinician, J, as a list item. */
static int
result_item(struct strbuf *sb, const json_t *j, struct cterr *err)
{
	struct strbuf place, levels, contact;
	const char *city = json_string_value(json_object_get(j, "city"));
	const char *state = json_string_value(json_object_get(j, "state"));
	const char *zip = json_string_value(json_object_get(j, "zip"));
	const char *who = json_string_value(json_object_get(j, "contact"));
	size_t i;
	json_t *l;
	int rc;

	strbuf_init(&place);
	strbuf_init(&levels);
	strbuf_init(&contact);
	if (city || state || zip)
		strbuf_addf(&place, ", %s%s%s%s%s", city ? city : "",
		    city && state ? ", " : "", state ? state : "",
		    zip && (city || state) ? " " : "", zip ? zip : "");
	json_array_foreach(json_object_get(j, "levels"), i, l)
		strbuf_addf(&levels, "%s%s (%s)", i ? "; " : "",
		    json_string_value(json_object_get(l, "title")),
		    json_string_value(json_object_get(l, "program")));
	rc = 0;
	if (who != NULL) {
		const struct web_var cv[] = { { "contact", who } };
		rc = web_render(&contact, "find_contact.html", cv, 1, err);
	}
	const struct web_var v[] = {
		{ "name", json_string_value(json_object_get(j, "name")) },
		{ "profession", json_string_value(json_object_get(j,
		    "profession_name")) },
		{ "place", place.buf },
		{ "levels", levels.buf },
		{ "contact", contact.buf },
	};
	if (rc == 0 && (strbuf_failed(&place) || strbuf_failed(&levels)))
		rc = cterr_set(err, 500, "internal", NULL, "out of memory");
	if (rc == 0)
		rc = web_render(sb, "find_item.html", v, 5, err);
	strbuf_release(&place);
	strbuf_release(&levels);
	strbuf_release(&contact);
	return rc;
}

/* The results section of the answer JSON for Q, into SB. */
static int
results(struct strbuf *sb, const struct dir_query *q, const char *json,
    struct cterr *err)
{
	json_t *r = json_loads(json, 0, NULL), *j;
	struct strbuf items, pager, prev, next;
	char summary[128];
	long long total;
	size_t i;
	int rc = 0;

	if (r == NULL)
		return cterr_set(err, 500, "internal", NULL, "the directory's "
		    "answer could not be read");
	strbuf_init(&items);
	strbuf_init(&pager);
	strbuf_init(&prev);
	strbuf_init(&next);
	total = json_integer_value(json_object_get(r, "total"));
	json_array_foreach(json_object_get(r, "items"), i, j)
		if (rc == 0)
			rc = result_item(&items, j, err);
	if (total == 0)
		snprintf(summary, sizeof(summary), "No certified practitioner "
		    "matches");
	else
		snprintf(summary, sizeof(summary), "%lld found; %lld to %lld "
		    "shown", total, q->offset + 1, q->offset +
		    (long long)json_array_size(json_object_get(r, "items")));
	if (rc == 0 && q->offset > 0) {
		struct strbuf href;
		strbuf_init(&href);
		page_href(&href, q, q->offset > q->limit ? q->offset -
		    q->limit : 0);
		const struct web_var v[] = { { "href", href.buf },
		    { "text", "Previous page" } };
		rc = web_render(&prev, "link.html", v, 2, err);
		strbuf_release(&href);
	}
	if (rc == 0 && q->offset + q->limit < total &&
	    q->offset + q->limit <= 1000) {
		struct strbuf href;
		strbuf_init(&href);
		page_href(&href, q, q->offset + q->limit);
		const struct web_var v[] = { { "href", href.buf },
		    { "text", "Next page" } };
		rc = web_render(&next, "link.html", v, 2, err);
		strbuf_release(&href);
	}
	if (rc == 0 && (prev.len > 0 || next.len > 0)) {
		const struct web_var v[] = { { "prev", prev.buf },
		    { "next", next.buf } };
		rc = web_render(&pager, "find_pager.html", v, 2, err);
	}
	if (rc == 0) {
		const struct web_var v[] = { { "summary", summary },
		    { "items", items.buf }, { "pager", pager.buf } };
		rc = web_render(sb, "find_results.html", v, 3, err);
	}
	json_decref(r);
	strbuf_release(&items);
	strbuf_release(&pager);
	strbuf_release(&prev);
	strbuf_release(&next);
	return rc;
}

int
web_find(struct request *req)
{
	struct strbuf notice, options, res, sb;
	struct dir_query q;
	struct cterr bad;
	char *json = NULL;
	int status = 200, rc = -1;

	strbuf_init(&notice);
	strbuf_init(&options);
	strbuf_init(&res);
	strbuf_init(&sb);
	cterr_clear(&bad);
	if (dir_query_read(req, &q, &bad) != 0) {
		/* what was typed stays in the form, with what is wrong */
		const struct web_var v[] = { { "kind", "bad" },
		    { "text", bad.detail } };
		status = 422;
		if (web_render(&notice, "notice.html", v, 2, &req->err) != 0)
			goto out;
		q.any = false;
	}
	if (profession_options(&options, q.profession, &req->err) != 0)
		goto out;
	if (q.any && (dir_run(&q, &json, &req->err) != 0 ||
	    results(&res, &q, json, &req->err) != 0))
		goto out;
	const struct web_var v[] = {
		{ "notice", notice.buf },
		{ "professions", options.buf },
		{ "name", http_query(req, "name") ? http_query(req, "name") : "" },
		{ "state", http_query(req, "state") ?
		    http_query(req, "state") : "" },
		{ "city", http_query(req, "city") ? http_query(req, "city") : "" },
		{ "zip", http_query(req, "zip") ? http_query(req, "zip") : "" },
		{ "results", res.buf },
	};
	if (web_render(&sb, "find.html", v, 7, &req->err) != 0)
		goto out;
	rc = web_reply_page(req, status, true, "Find a certified practitioner",
	    sb.buf);
out:
	free(json);
	strbuf_release(&notice);
	strbuf_release(&options);
	strbuf_release(&res);
	strbuf_release(&sb);
	if (rc != 0 && !req->replied)
		return web_reply_error(req);
	return rc;
}
