/*
 * One HTTP request to certrackd with libcurl; JSON with jansson.  The curl
 * handle is kept in the context, so a command making several requests
 * reuses the connection.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <curl/curl.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"

/* A response larger than this is refused rather than held in memory. */
#define BODY_MAX ((size_t)256 << 20)

/* Seconds to wait for the TCP (and TLS) connection itself. */
#define CONNECT_TIMEOUT 10L

static bool curl_ready;

/* What the write and header callbacks collect. */
struct sink {
	struct strbuf body;
	char *content_type;
	char request_id[48];	/* X-Request-Id, or "" */
	bool too_big;
	bool no_memory;
};

static size_t
on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct sink *s = arg;
	size_t n = size * nmemb;

	if (s->body.len + n > BODY_MAX) {
		s->too_big = true;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	if (strbuf_add(&s->body, data, n) != 0) {
		s->no_memory = true;
		return 0;
	}
	return n;
}

/* Keeps the media type of the last Content-Type header, lower-cased and
 * without parameters; curl calls this for every header line. */
static size_t
on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	static const char name[] = "content-type:";
	static const char rid[] = "x-request-id:";
	struct sink *s = arg;
	size_t n = size * nmemb, i, start, end;

	if (n >= sizeof(rid) - 1 && strncasecmp(data, rid,
	    sizeof(rid) - 1) == 0) {
		/* only the characters an id is made of: it is printed */
		for (i = sizeof(rid) - 1, end = 0; i < n &&
		    end + 1 < sizeof(s->request_id); i++)
			if (isalnum((unsigned char)data[i]) || data[i] == '-')
				s->request_id[end++] = data[i];
		s->request_id[end] = '\0';
		return n;
	}
	if (n < sizeof(name) - 1 || strncasecmp(data, name, sizeof(name) - 1))
		return n;
	start = sizeof(name) - 1;
	while (start < n && (data[start] == ' ' || data[start] == '\t'))
		start++;
	end = start;
	while (end < n && data[end] != ';' && data[end] != '\r' &&
	    data[end] != '\n' && data[end] != ' ')
		end++;
	free(s->content_type);
	s->content_type = malloc(end - start + 1);
	if (s->content_type == NULL) {
		s->no_memory = true;
		return 0;
	}
	for (i = start; i < end; i++)
		s->content_type[i - start] =
		    (char)tolower((unsigned char)data[i]);
	s->content_type[end - start] = '\0';
	return n;
}

static bool
is_json_type(const char *type)
{
	size_t len;

	if (type == NULL)
		return false;
	if (strcmp(type, "application/json") == 0)
		return true;
	/* application/problem+json and any other +json type */
	len = strlen(type);
	return len > 5 && strcmp(type + len - 5, "+json") == 0;
}

void
cli_response_release(struct cli_response *resp)
{
	free(resp->content_type);
	free(resp->raw);
	json_decref(resp->json);
	memset(resp, 0, sizeof(*resp));
}

void
cli_client_cleanup(struct cli_ctx *ctx)
{
	if (ctx->curl != NULL) {
		curl_easy_cleanup(ctx->curl);
		ctx->curl = NULL;
	}
	if (ctx->curl_aside != NULL) {
		curl_easy_cleanup(ctx->curl_aside);
		ctx->curl_aside = NULL;
	}
	if (curl_ready) {
		curl_global_cleanup();
		curl_ready = false;
	}
}

/* The curl handle kept in SLOT, reset for a new request; NULL when curl
 * fails. */
static CURL *
handle(void **slot, struct cli_error *err)
{
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			cli_error_set(err, CLI_EXIT_FAILURE,
			    "libcurl failed to initialise");
			return NULL;
		}
		curl_ready = true;
	}
	if (*slot == NULL) {
		*slot = curl_easy_init();
		if (*slot == NULL) {
			cli_error_set(err, CLI_EXIT_FAILURE,
			    "libcurl failed to initialise");
			return NULL;
		}
	} else {
		/* Options go; the connection cache stays. */
		curl_easy_reset(*slot);
	}
	return *slot;
}

struct upload;
static int request(struct cli_ctx *ctx, const char *method,
    const char *path, const json_t *body, const char *const *extra,
    struct upload *up, bool aside, struct cli_response *resp,
    struct cli_error *err);

int
cli_request(struct cli_ctx *ctx, const char *method, const char *path,
    const json_t *body, struct cli_response *resp, struct cli_error *err)
{
	return cli_request_hdr(ctx, method, path, body, NULL, resp, err);
}

/* ---- uploads ----------------------------------------------------------- */

/* Seconds between two progress lines on the terminal. */
#define PROGRESS_EVERY 0.25

/* What the read and progress callbacks of an upload share. */
struct upload {
	const struct cli_upload_opts *opts;
	long long sent;		/* bytes handed to curl */
	bool eof, read_error;
	int read_errno;
	bool stalled;
	long stall_limit;	/* seconds; 0 for none */
	curl_off_t last_ul, last_dl;
	time_t last_move;
	struct timespec last_shown;
	struct timespec sent_at;	/* when the last byte went */
	bool shown;		/* a progress line is on the terminal */
	bool done;		/* everything read and sent on */
	char server[160];	/* what the server does (opts->watch), or "" */
};

static size_t
on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct upload *u = arg;
	size_t n;

	n = fread(buf, 1, size * nitems, u->opts->fp);
	if (n == 0 && ferror(u->opts->fp)) {
		u->read_error = true;
		u->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	if (n > 0 && u->opts->tee != NULL &&
	    fwrite(buf, 1, n, u->opts->tee) != n) {
		u->read_error = true;
		u->read_errno = errno;
		return CURL_READFUNC_ABORT;
	}
	u->sent += (long long)n;
	/* With a known size curl asks no more once it has it all. */
	if (n == 0 || (u->opts->size >= 0 && u->sent >= u->opts->size))
		u->eof = true;
	return n;
}

static void
human_size(char *buf, size_t len, long long n)
{
	if (n < 1024)
		snprintf(buf, len, "%lld bytes", n);
	else if (n < 1024LL * 1024)
		snprintf(buf, len, "%.1f KiB", (double)n / 1024.0);
	else if (n < 1024LL * 1024 * 1024)
		snprintf(buf, len, "%.1f MiB", (double)n / (1024.0 * 1024.0));
	else
		snprintf(buf, len, "%.2f GiB", (double)n /
		    (1024.0 * 1024.0 * 1024.0));
}

/* Cuts LINE (UTF-8) to one character less than stderr's terminal is
 * wide, when it says how wide. */
static void
fit_width(char *line)
{
	struct winsize ws;
	size_t chars = 0;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) != 0 || ws.ws_col < 2)
		return;
	for (char *p = line; *p != '\0'; p++)
		if (((unsigned char)*p & 0xC0) != 0x80 &&
		    ++chars == ws.ws_col) {
			*p = '\0';
			return;
		}
}

static void
show_progress(struct upload *u, bool done_sending)
{
	char done[32], total[32], line[1024];
	struct timespec now;
	double dt;

	clock_gettime(CLOCK_MONOTONIC, &now);
	dt = (double)(now.tv_sec - u->last_shown.tv_sec) +
	    (double)(now.tv_nsec - u->last_shown.tv_nsec) / 1e9;
	if (u->shown && dt < PROGRESS_EVERY)
		return;
	u->last_shown = now;
	u->shown = true;
	human_size(done, sizeof(done), u->sent);
	if (done_sending) {
		/* The server checks and merges the rows before it answers:
		 * a clock that moves says it is still at work. */
		if (u->sent_at.tv_sec == 0)
			u->sent_at = now;
		if (u->server[0] != '\0')
			snprintf(line, sizeof(line), "certrack: %s: %lds",
			    u->server, (long)(now.tv_sec - u->sent_at.tv_sec));
		else
			snprintf(line, sizeof(line), "certrack: sent '%s' (%s); "
			    "the server is checking and merging the rows: %lds",
			    u->opts->label, done,
			    (long)(now.tv_sec - u->sent_at.tv_sec));
	}
	else if (u->opts->size >= 0) {
		human_size(total, sizeof(total), u->opts->size);
		snprintf(line, sizeof(line), "certrack: sending '%s': %s of %s "
		    "(%d%%)%s%s", u->opts->label, done, total,
		    u->opts->size > 0 ? (int)(u->sent * 100 / u->opts->size) :
		    100, u->server[0] ? "; " : "", u->server);
	} else
		snprintf(line, sizeof(line), "certrack: sending '%s': %s%s%s",
		    u->opts->label, done, u->server[0] ? "; " : "",
		    u->server);
	/* \r and "erase to the end of the line": one line, rewritten; a
	 * line wider than the terminal would wrap, and \r go back to its
	 * last row only. */
	fit_width(line);
	fprintf(stderr, "\r\033[K%s", line);
	fflush(stderr);
}

static int
on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct upload *u = arg;
	time_t now = time(NULL);
	/* Everything read from the file, and sent on by curl. */
	bool done = u->eof && (u->opts->size < 0 || ulnow >= u->opts->size);
	u->done = done;

	(void)dltotal;
	(void)ultotal;
	if (ulnow != u->last_ul || dlnow != u->last_dl) {
		u->last_ul = ulnow;
		u->last_dl = dlnow;
		u->last_move = now;
	} else if (u->stall_limit > 0 && !done &&
	    now - u->last_move >= u->stall_limit) {
		/* Only sending can stall: once the file is sent, the server
		 * takes the time the import needs before it answers. */
		u->stalled = true;
		return 1;
	}
	if (u->opts->progress)
		show_progress(u, done);
	return 0;
}

static double
mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * curl_easy_perform() of an upload whose opts->watch is set: the transfer
 * runs on a multi handle, so that between its steps (outside any of
 * curl's callbacks, where no other transfer may run) the watch is called
 * every CLI_WATCH_EVERY seconds and the progress line redrawn.
 */
static CURLcode
perform_watched(CURL *curl, struct upload *u)
{
	CURLM *multi = curl_multi_init();
	CURLcode code = CURLE_FAILED_INIT;
	CURLMsg *msg;
	double next = mono_s() + CLI_WATCH_EVERY;
	int running = 1, left;

	if (multi == NULL)
		return curl_easy_perform(curl);
	if (curl_multi_add_handle(multi, curl) != CURLM_OK) {
		curl_multi_cleanup(multi);
		return curl_easy_perform(curl);
	}
	while (running) {
		if (curl_multi_perform(multi, &running) != CURLM_OK ||
		    (running && curl_multi_poll(multi, NULL, 0, 100, NULL) !=
		    CURLM_OK))
			break;
		if (running && mono_s() >= next) {
			u->opts->watch(u->opts->watch_arg, u->done, u->server,
			    sizeof(u->server));
			if (u->opts->progress) {
				u->shown = false;	/* redraw now */
				show_progress(u, u->done);
			}
			next = mono_s() + CLI_WATCH_EVERY;
		}
	}
	while ((msg = curl_multi_info_read(multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl)
			code = msg->data.result;
	curl_multi_remove_handle(multi, curl);
	curl_multi_cleanup(multi);
	return code;
}

int
cli_upload(struct cli_ctx *ctx, const char *path,
    const struct cli_upload_opts *opts, struct cli_response *resp,
    struct cli_error *err)
{
	struct upload u;
	int rc;

	memset(&u, 0, sizeof(u));
	u.opts = opts;
	u.stall_limit = ctx->timeout;
	u.last_move = time(NULL);
	rc = request(ctx, "POST", path, NULL, NULL, &u, false, resp, err);
	if (u.shown) {
		fputs("\r\033[K", stderr);	/* the progress line goes */
		fflush(stderr);
	}
	if (rc != 0 && u.read_error) {
		cli_response_release(resp);
		return cli_error_set(err, CLI_EXIT_FAILURE, "cannot read '%s': "
		    "%s", opts->label, strerror(u.read_errno));
	}
	if (rc != 0 && u.stalled) {
		cli_response_release(resp);
		return cli_error_set(err, CLI_EXIT_FAILURE, "sending '%s' to "
		    "'%s' stalled for %ld seconds", opts->label, ctx->url,
		    ctx->timeout);
	}
	return rc;
}

int
cli_request_hdr(struct cli_ctx *ctx, const char *method, const char *path,
    const json_t *body, const char *const *extra, struct cli_response *resp,
    struct cli_error *err)
{
	return request(ctx, method, path, body, extra, NULL, false, resp, err);
}

int
cli_request_aside(struct cli_ctx *ctx, const char *path,
    struct cli_response *resp, struct cli_error *err)
{
	return request(ctx, "GET", path, NULL, NULL, NULL, true, resp, err);
}

/*
 * One request: BODY as JSON, or UP's file streamed (Content-Type
 * text/csv, chunked when its size is unknown), or no body.
 */
static int
request(struct cli_ctx *ctx, const char *method, const char *path,
    const json_t *body, const char *const *extra, struct upload *up,
    bool aside, struct cli_response *resp, struct cli_error *err)
{
	struct curl_slist *headers = NULL, *h;
	struct strbuf url, auth;
	struct sink sink;
	char *payload = NULL;
	CURLcode code;
	CURL *curl;
	int rc = -1;

	memset(resp, 0, sizeof(*resp));
	memset(&sink, 0, sizeof(sink));
	strbuf_init(&sink.body);
	strbuf_init(&url);
	strbuf_init(&auth);

	if (cli_opts_resolve(ctx, err) != 0)
		goto out;
	if (path == NULL || path[0] != '/') {
		cli_error_set(err, CLI_EXIT_FAILURE,
		    "internal error: request path '%s' does not start with '/'",
		    path ? path : "(null)");
		goto out;
	}
	curl = handle(aside ? &ctx->curl_aside : &ctx->curl, err);
	if (curl == NULL)
		goto out;
	if (strbuf_addf(&url, "%s%s", ctx->url, path) != 0)
		goto no_memory;

	/* Headers; each append may fail only for want of memory. */
#define ADD_HEADER(text) do { \
	h = curl_slist_append(headers, (text)); \
	if (h == NULL) \
		goto no_memory; \
	headers = h; \
} while (0)
	ADD_HEADER("Accept: application/json, application/problem+json");
	/* No "Expect: 100-continue" round trip for a small JSON body; an
	 * upload keeps it, so a refusal (not logged in, not allowed) comes
	 * before the file is sent. */
	if (up == NULL)
		ADD_HEADER("Expect:");
	else
		ADD_HEADER("Content-Type: text/csv; charset=utf-8");
	if (ctx->token != NULL) {
		if (strbuf_addf(&auth, "Authorization: Bearer %s",
		    ctx->token) != 0)
			goto no_memory;
		ADD_HEADER(auth.buf);
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		ADD_HEADER(extra[i]);
	if (body != NULL) {
		payload = json_dumps(body, JSON_COMPACT);
		if (payload == NULL)
			goto no_memory;
		ADD_HEADER("Content-Type: application/json");
	}
#undef ADD_HEADER

	curl_easy_setopt(curl, CURLOPT_URL, url.buf);
	curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	if (payload != NULL) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)strlen(payload));
	}
	if (up != NULL) {
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(curl, CURLOPT_READDATA, up);
		/* -1: the size is unknown (a pipe), sent chunked. */
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)(up->opts->size >= 0 ? up->opts->size : -1));
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
		curl_easy_setopt(curl, CURLOPT_XFERINFODATA, up);
		/* The server may think for a long while after the last byte:
		 * keep-alive probes notice when it is gone instead. */
		curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
		curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
		curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 10L);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "certrack/" CERTRACK_VERSION);
	/* The server's certificate is always verified; --cacert names the
	 * authority to trust instead of the system's. */
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ctx->cacert != NULL)
		curl_easy_setopt(curl, CURLOPT_CAINFO, ctx->cacert);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT);
	/* An upload's --timeout is a limit on stalling (on_progress): the
	 * whole import may take longer than any fixed limit. */
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, up != NULL ? 0L : aside &&
	    (ctx->timeout == 0 || ctx->timeout > CLI_ASIDE_TIMEOUT) ?
	    CLI_ASIDE_TIMEOUT : ctx->timeout);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	/* Never follow a redirect: it could carry the token elsewhere. */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &sink);

	code = up != NULL && up->opts->watch != NULL ?
	    perform_watched(curl, up) : curl_easy_perform(curl);
	/* The handle is kept: it must not point at this frame's memory. */
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, NULL);
	curl_easy_setopt(curl, CURLOPT_READDATA, NULL);
	curl_easy_setopt(curl, CURLOPT_XFERINFODATA, NULL);
	if (sink.no_memory)
		goto no_memory;
	if (sink.too_big) {
		cli_error_set(err, CLI_EXIT_FAILURE,
		    "the answer from '%s' is larger than %zu MiB", ctx->url,
		    BODY_MAX >> 20);
		goto out;
	}
	if (code != CURLE_OK) {
		/* curl_easy_strerror() is the cause in a few words, as in
		 * "Couldn't connect to server". */
		cli_error_set(err, CLI_EXIT_FAILURE, "cannot reach '%s': %s",
		    ctx->url, curl_easy_strerror(code));
		snprintf(err->problem, sizeof(err->problem), "unreachable");
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->content_type = sink.content_type;
	sink.content_type = NULL;
	memcpy(resp->request_id, sink.request_id, sizeof(resp->request_id));
	resp->raw_len = sink.body.len;
	resp->raw = strbuf_detach(&sink.body, NULL);
	if (resp->raw == NULL)
		goto no_memory;
	if (is_json_type(resp->content_type) && resp->raw_len > 0) {
		json_error_t jerr;

		resp->json = json_loadb(resp->raw, resp->raw_len,
		    JSON_DECODE_ANY, &jerr);
		if (resp->json == NULL) {
			cli_error_set(err, CLI_EXIT_FAILURE,
			    "'%s' answered %s %s with invalid JSON: %s",
			    ctx->url, method, path, jerr.text);
			cli_response_release(resp);
			goto out;
		}
	}
	rc = 0;
	goto out;

no_memory:
	cli_error_set(err, CLI_EXIT_FAILURE, "out of memory");
	cli_response_release(resp);
out:
	curl_slist_free_all(headers);
	/* A login's or a password change's body held a password. */
	if (payload != NULL)
		explicit_bzero(payload, strlen(payload));
	free(payload);
	free(sink.content_type);
	strbuf_release(&sink.body);
	strbuf_release(&url);
	/* The header held the token: do not leave it lying in the heap. */
	if (auth.alloc > 0)
		memset(auth.buf, 0, auth.alloc);
	strbuf_release(&auth);
	return rc;
}

int
cli_exit_for_status(long status)
{
	if (status >= 200 && status < 300)
		return CLI_EXIT_OK;
	if (status == 401 || status == 403)
		return CLI_EXIT_AUTH;
	if (status == 404 || status == 410)
		return CLI_EXIT_NOT_FOUND;
	if (status >= 400 && status < 500)
		return CLI_EXIT_REFUSED;
	return CLI_EXIT_FAILURE;
}

const char *
cli_problem_detail(const struct cli_response *resp)
{
	const char *s;

	if (resp->json == NULL || !json_is_object(resp->json))
		return NULL;
	s = json_string_value(json_object_get(resp->json, "detail"));
	if (s != NULL && *s != '\0')
		return s;
	s = json_string_value(json_object_get(resp->json, "title"));
	if (s != NULL && *s != '\0')
		return s;
	return NULL;
}

/*
 * Problem codes that name a record which is not there: "not found" (exit
 * 3) whatever the status, as an id that is not there is.  A value that is
 * not one of a known list (unknown_profession, a 422) stays a refusal.
 */
static bool
names_a_missing_record(const char *code)
{
	static const char *const codes[] = { "not_found", "unknown_level",
	    "unknown_session", "unknown_clinician", "unknown_program",
	    "unknown_certificate" };

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return true;
	return false;
}

/* The server's sentence in the CLI's words: an API route it names is
 * the command that shows the same. */
static void
say_command(char *msg, size_t len)
{
	static const struct { const char *api, *cli; } words[] = {
		{ "(see GET /v1/professions)", "(see 'certrack professions')" },
		{ "(see GET /v1/programs)", "(see 'certrack programs')" },
	};

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		char *at = strstr(msg, words[i].api);
		char rest[1024];

		if (at == NULL)
			continue;
		snprintf(rest, sizeof(rest), "%s", at + strlen(words[i].api));
		snprintf(at, len - (size_t)(at - msg), "%s%s", words[i].cli,
		    rest);
	}
}

int
cli_response_error(const struct cli_response *resp, struct cli_error *err)
{
	const char *detail = cli_problem_detail(resp);
	const char *code_s = resp->json != NULL ? json_string_value(
	    json_object_get(resp->json, "code")) : NULL;
	int code = cli_exit_for_status(resp->status);

	if (code == CLI_EXIT_OK)	/* a 2xx the caller did not expect */
		code = CLI_EXIT_FAILURE;
	if (code_s != NULL && names_a_missing_record(code_s))
		code = CLI_EXIT_NOT_FOUND;
	/* The server's words name the API route; say the command. */
	if (resp->status == 403 && code_s != NULL &&
	    strcmp(code_s, "password_change_required") == 0)
		cli_error_set(err, code, "the account's password was "
		    "generated and must be changed first: run 'certrack "
		    "passwd'");
	else if (detail != NULL)
		cli_error_set(err, code, "%s", detail);
	else
		cli_error_set(err, code, "the server answered HTTP %ld",
		    resp->status);
	say_command(err->msg, sizeof(err->msg));
	if (code_s != NULL)
		snprintf(err->problem, sizeof(err->problem), "%s", code_s);
	err->status = resp->status;
	snprintf(err->request_id, sizeof(err->request_id), "%s",
	    resp->request_id);
	if (resp->request_id[0] == '\0' && resp->json != NULL &&
	    json_is_string(json_object_get(resp->json, "request_id")))
		snprintf(err->request_id, sizeof(err->request_id), "%s",
		    json_string_value(json_object_get(resp->json,
		    "request_id")));
	/* The document as it came, for --json: a problem's own members
	 * (field, next_allowed_on, ...) go through. */
	if (json_is_object(resp->json) && resp->raw_len < sizeof(err->doc))
		memcpy(err->doc, resp->raw, resp->raw_len + 1);
	return -1;
}

int
cli_print_raw(const struct cli_response *resp)
{
	if (resp->raw_len > 0 &&
	    fwrite(resp->raw, 1, resp->raw_len, stdout) != resp->raw_len)
		return -1;
	if (resp->raw_len == 0 || resp->raw[resp->raw_len - 1] != '\n')
		if (putchar('\n') == EOF)
			return -1;
	return 0;
}

char *
cli_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb;

	strbuf_init(&sb);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		char enc[3];

		/* ASCII by hand: isalnum() would follow the locale. */
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
		    c == '~') {
			strbuf_add(&sb, s, 1);
			continue;
		}
		enc[0] = '%';
		enc[1] = hex[c >> 4];
		enc[2] = hex[c & 15];
		strbuf_add(&sb, enc, 3);
	}
	return strbuf_detach(&sb, NULL);	/* NULL if memory ran out */
}
