/*
 * The web pages' foundation (include/certrack/web.h): embedded files, the
 * one escaping function, the template renderer and the page answer.
 */
#include "certrack/web.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/log.h"

static char public_url[256] = "http://127.0.0.1:8080";

void
web_init(const struct config *cfg)
{
	size_t n;

	if (cfg->public_url != NULL)
		snprintf(public_url, sizeof(public_url), "%s", cfg->public_url);
	else if (strchr(cfg->listen_host, ':') != NULL)
		snprintf(public_url, sizeof(public_url), "http%s://[%s]:%d",
		    cfg->tls_cert ? "s" : "", cfg->listen_host,
		    cfg->listen_port);
	else
		snprintf(public_url, sizeof(public_url), "http%s://%s:%d",
		    cfg->tls_cert ? "s" : "", cfg->listen_host,
		    cfg->listen_port);
	n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/')
		public_url[--n] = '\0';
}

const char *
web_public_url(void)
{
	return public_url;
}

const char *
web_file(const char *name)
{
	for (unsigned i = 0; i < web_embedded_count; i++)
		if (strcmp(web_embedded[i].name, name) == 0)
			return web_embedded[i].text;
	return NULL;
}

int
web_escape(struct strbuf *sb, const char *s)
{
	const char *run = s;

	for (; *s != '\0'; s++) {
		const char *ref;

		switch (*s) {
		case '&': ref = "&amp;"; break;
		case '<': ref = "&lt;"; break;
		case '>': ref = "&gt;"; break;
		case '"': ref = "&quot;"; break;
		case '\'': ref = "&#39;"; break;
		default: continue;
		}
		strbuf_add(sb, run, (size_t)(s - run));
		strbuf_addstr(sb, ref);
		run = s + 1;
	}
	strbuf_add(sb, run, (size_t)(s - run));
	return strbuf_failed(sb) ? -1 : 0;
}

int
web_urlencode(struct strbuf *sb, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~')
			strbuf_add(sb, s, 1);
		else if (c == ' ')
			strbuf_addstr(sb, "+");
		else
			strbuf_addf(sb, "%%%02X", c);
	}
	return strbuf_failed(sb) ? -1 : 0;
}

static const char *
var_value(const struct web_var *vars, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(vars[i].name) == len &&
		    memcmp(vars[i].name, name, len) == 0)
			return vars[i].value;
	return NULL;
}

int
web_render(struct strbuf *sb, const char *name, const struct web_var *vars,
    size_t n, struct cterr *err)
{
	char path[96];
	const char *tpl, *p, *open, *close;

	snprintf(path, sizeof(path), "templates/%s", name);
	tpl = web_file(path);
	if (tpl == NULL)
		goto broken;
	for (p = tpl; (open = strstr(p, "{{")) != NULL; p = close + 2) {
		bool raw = open[2] == '&';
		const char *key = open + 2 + raw, *value;

		close = strstr(key, "}}");
		if (close == NULL)
			goto broken;
		value = var_value(vars, n, key, (size_t)(close - key));
		if (value == NULL) {
			log_error("web: template '%s' has {{%.*s}} with no "
			    "value", name, (int)(close - key), key);
			goto broken;
		}
		strbuf_add(sb, p, (size_t)(open - p));
		if (raw)
			strbuf_addstr(sb, value);
		else
			web_escape(sb, value);
	}
	strbuf_addstr(sb, p);
	if (strbuf_failed(sb))
		return cterr_set(err, 500, "internal", NULL, "out of memory");
	return 0;
broken:
	return cterr_set(err, 500, "internal", NULL, "the page '%s' could not "
	    "be made; the request id is in the log", name);
}

int
web_notice(struct strbuf *sb, const char *kind, const char *text,
    struct cterr *err)
{
	const struct web_var v[] = { { "kind", kind }, { "text", text } };

	if (text == NULL)
		return 0;
	return web_render(sb, "notice.html", v, 2, err);
}

int
web_reply_page(struct request *req, int status, bool public_page,
    const char *title, const char *body)
{
	struct strbuf sb;
	const struct web_var vars[] = {
		{ "title", title },
		{ "body", body },
	};
	char *html;
	size_t len;

	strbuf_init(&sb);
	if (web_render(&sb, "layout.html", vars, 2, &req->err) != 0) {
		strbuf_release(&sb);
		return -1;
	}
	html = strbuf_detach(&sb, &len);
	if (html == NULL)
		return cterr_set(&req->err, 500, "internal", NULL,
		    "out of memory");
	req->csp = WEB_CSP;
	req->cache_control = public_page ? WEB_CACHE_PUBLIC : NULL;
	/* the copy is http_reply_text()'s */
	int rc = http_reply_text(req, status, "text/html; charset=utf-8",
	    html, len);
	free(html);
	return rc;
}

int
web_reply_error(struct request *req)
{
	struct strbuf sb;
	struct cterr err = req->err;
	char status[8];
	const char *title;
	int rc;

	switch (err.status) {
	case 404: title = "Not found"; break;
	case 422: title = "Not accepted"; break;
	case 503: title = "Busy"; break;
	default: title = err.status < 500 ? "Refused" : "Server error"; break;
	}
	snprintf(status, sizeof(status), "%d", err.status);
	const struct web_var vars[] = {
		{ "title", title },
		{ "status", status },
		{ "detail", err.detail },
		{ "request_id", req->id },
	};
	strbuf_init(&sb);
	cterr_clear(&req->err);
	if (web_render(&sb, "error.html", vars, 4, &req->err) != 0 ||
	    strbuf_failed(&sb)) {
		strbuf_release(&sb);
		req->err = err;
		return -1;
	}
	if (err.retry_after > 0) {
		char ra[16];
		snprintf(ra, sizeof(ra), "%d", err.retry_after);
		http_add_header(req, "Retry-After", ra);
	}
	rc = web_reply_page(req, err.status, false, title, sb.buf);
	strbuf_release(&sb);
	return rc;
}
