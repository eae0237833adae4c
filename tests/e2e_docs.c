/*
 * docs/api.md is checked against a real certrackd: every request example
 * (a fenced block whose first line is "METHOD /path") and the response
 * example that follows it (a fenced block whose first line is "HTTP/1.1
 * STATUS") are run in document order on a fresh database, and the answer
 * must match what the document shows.  The rules are those of the
 * "Examples" section of docs/api.md:
 *
 *   - the status code (and the reason phrase, when written) is exact;
 *   - every response header shown is present with that value;
 *   - a JSON body shown is a pattern: every key it shows is present with
 *     the same value (objects may have more keys); arrays have the same
 *     length, unless their last element is the string "...", in which
 *     case the elements shown are the first ones; numbers compare by value;
 *   - a string "<any>", "<string>", "<number>", "<date>", "<timestamp>" or
 *     "<request-id>" matches any value of that kind; any other "<name>"
 *     names the value found there: the first time it is bound, afterwards
 *     it must be equal (except <admin>, <grader> and <clinician>, which a
 *     new login binds again), and "<name>" in a later request is replaced
 *     by the value;
 *   - a body that is not JSON (metrics) is a list of lines, each of which
 *     must be a line of the answer ("..." lines are skipped);
 *   - no body shown: the answer has none.
 *
 * The test binds <admin-password> to the one-time password of the "admin"
 * account it creates with `certrackd create-user`; everything else is in the
 * document.  Finally every route of the route table must have at least
 * one example.
 *
 * One example depends on the calendar: Jane Roe's certificate, issued
 * 2026-11-23 for 24 months, verifies "valid" until 2028-11-22.  From
 * 2028-11-23 on, move the story's 2026 dates forward in docs/api.md.
 *
 * CERTRACK_DOCS_VERBOSE=1 prints every exchange (to write new examples).
 */
#include "testlib.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>
#include <jansson.h>

#include "certrack/api.h"
#include "certrack/router.h"

/* ---- named values ------------------------------------------------------ */

#define MAXVARS 64

static struct var {
	char name[64];
	char *value;
} vars[MAXVARS];
static int nvars;

static struct var *
var_find(const char *name, size_t len)
{
	for (int i = 0; i < nvars; i++)
		if (strlen(vars[i].name) == len &&
		    strncmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

static void
var_set(const char *name, const char *value)
{
	struct var *v = var_find(name, strlen(name));

	if (v == NULL) {
		if (nvars == MAXVARS)
			fail_msg("too many named values in docs/api.md");
		v = &vars[nvars++];
		snprintf(v->name, sizeof(v->name), "%s", name);
	} else {
		free(v->value);
	}
	v->value = strdup(value);
}

static bool
rebinds(const char *name)
{
	return strcmp(name, "admin") == 0 || strcmp(name, "grader") == 0 ||
	    strcmp(name, "clinician") == 0;
}

/* TEXT with every <name> of a bound value replaced; fails on an unbound
 * one (a typo in the document). */
static char *
substitute(const char *text, int ex)
{
	size_t cap = strlen(text) + 1, len = 0;
	char *out = malloc(cap);

	for (const char *p = text; *p; ) {
		const char *end;
		if (*p == '<' && (end = strchr(p + 1, '>')) != NULL &&
		    end - p > 1 && end - p < 64 &&
		    strspn(p + 1, "abcdefghijklmnopqrstuvwxyz0123456789-") ==
		    (size_t)(end - p - 1)) {
			struct var *v = var_find(p + 1, (size_t)(end - p - 1));
			if (v == NULL)
				fail_msg("example %d: <%.*s> is used before the "
				    "document gives it a value", ex,
				    (int)(end - p - 1), p + 1);
			size_t vl = strlen(v->value);
			cap += vl;
			out = realloc(out, cap);
			memcpy(out + len, v->value, vl);
			len += vl;
			p = end + 1;
			continue;
		}
		out[len++] = *p++;
	}
	out[len] = '\0';
	return out;
}

/* ---- the document --------------------------------------------------------- */

struct block {
	int line;		/* of the opening fence */
	bool http;		/* opened with ```http */
	char *text;		/* between the fences */
};

struct example {
	struct block req, resp;
};

static char *
read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (f == NULL)
		fail_msg("cannot open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (fread(buf, 1, (size_t)n, f) != (size_t)n)
		fail_msg("cannot read %s", path);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static bool
is_request(const char *t)
{
	static const char *const methods[] = { "GET ", "POST ", "PATCH ",
	    "PUT ", "DELETE ", "HEAD " };

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strncmp(t, methods[i], strlen(methods[i])) == 0 &&
		    t[strlen(methods[i])] == '/')
			return true;
	return false;
}

static bool
is_response(const char *t)
{
	return strncmp(t, "HTTP/1.1 ", 9) == 0;
}

/* Every fenced block of DOC, in order. */
static int
fenced_blocks(char *doc, struct block **out)
{
	struct block *b = NULL;
	int n = 0, line = 0;
	char *p = doc;
	struct strbuf_s { char *buf; size_t len, cap; } cur = { 0 };
	bool in = false, http = false;
	int start = 0;

	while (*p) {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		line++;
		if (len >= 3 && strncmp(p, "```", 3) == 0) {
			if (!in) {
				in = true;
				http = len >= 7 && strncmp(p + 3, "http", 4) == 0 &&
				    (len == 7 || isspace((unsigned char)p[7]));
				start = line;
				cur.len = 0;
				if (cur.buf)
					cur.buf[0] = '\0';
			} else {
				in = false;
				b = realloc(b, sizeof(*b) * (size_t)(n + 1));
				b[n].line = start;
				b[n].http = http;
				b[n].text = strdup(cur.buf ? cur.buf : "");
				n++;
			}
		} else if (in) {
			if (cur.len + len + 2 > cur.cap) {
				cur.cap = (cur.len + len + 2) * 2;
				cur.buf = realloc(cur.buf, cur.cap);
			}
			memcpy(cur.buf + cur.len, p, len);
			cur.len += len;
			cur.buf[cur.len++] = '\n';
			cur.buf[cur.len] = '\0';
		}
		p = nl ? nl + 1 : p + len;
	}
	if (in)
		fail_msg("docs/api.md: the block opened on line %d is not "
		    "closed", start);
	free(cur.buf);
	*out = b;
	return n;
}

/* The request/response pairs, in order; a request block must be followed
 * directly by a response block. */
static int
examples(struct example **out)
{
	char path[600];
	struct block *b;
	struct example *ex = NULL;
	int nb, n = 0;

	snprintf(path, sizeof(path), "%s/../docs/api.md",
	    testlib_env("CERTRACK_TEST_BIN"));
	char *doc = read_file(path);
	nb = fenced_blocks(doc, &b);
	free(doc);
	for (int i = 0; i < nb; i++) {
		if (!b[i].http) {
			free(b[i].text);
			continue;
		}
		if (is_response(b[i].text))
			fail_msg("docs/api.md line %d: a response example "
			    "without a request before it", b[i].line);
		if (!is_request(b[i].text)) {
			free(b[i].text);
			continue;
		}
		if (i + 1 == nb || !b[i + 1].http ||
		    !is_response(b[i + 1].text))
			fail_msg("docs/api.md line %d: a request example "
			    "without its response block after it", b[i].line);
		ex = realloc(ex, sizeof(*ex) * (size_t)(n + 1));
		ex[n].req = b[i];
		ex[n].resp = b[i + 1];
		n++;
		i++;
	}
	free(b);
	*out = ex;
	return n;
}

/* ---- HTTP with the answer's headers --------------------------------------- */

struct answer {
	int status;
	char reason[64];
	char *headers;		/* "Name: value\r\n" lines */
	char *body;
};

static void
http_raw(int port, const char *method, const char *target,
    const char *headers, const char *body, struct answer *a)
{
	struct sockaddr_in sa;
	size_t blen = body ? strlen(body) : 0;
	char *req, buf[4096], *all = NULL;
	size_t len = 0;
	ssize_t n;
	int fd;

	memset(a, 0, sizeof(*a));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		fail_msg("cannot connect to certrackd");
	req = malloc(strlen(target) + strlen(headers) + blen + 200);
	n = sprintf(req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: "
	    "close\r\n%sContent-Length: %zu\r\n\r\n", method, target, headers,
	    blen);
	memcpy(req + n, body ? body : "", blen);
	if (write(fd, req, (size_t)n + blen) != (ssize_t)((size_t)n + blen))
		fail_msg("cannot send the request");
	free(req);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		all = realloc(all, len + (size_t)n + 1);
		memcpy(all + len, buf, (size_t)n);
		len += (size_t)n;
		all[len] = '\0';
	}
	close(fd);
	if (all == NULL || sscanf(all, "HTTP/1.%*d %d %63[^\r\n]", &a->status,
	    a->reason) < 1)
		fail_msg("no HTTP answer to %s %s", method, target);
	char *sep = strstr(all, "\r\n\r\n");
	char *eol = strstr(all, "\r\n");
	if (sep == NULL)
		fail_msg("answer without a blank line");
	a->headers = strndup(eol + 2, (size_t)(sep + 2 - (eol + 2)));
	a->body = strdup(sep + 4);
	free(all);
}

static void
answer_free(struct answer *a)
{
	free(a->headers);
	free(a->body);
}

/* The value of header NAME in A, or NULL (caller frees). */
static char *
header_value(const struct answer *a, const char *name)
{
	size_t nl = strlen(name);

	for (const char *p = a->headers; *p; ) {
		const char *e = strstr(p, "\r\n");
		if (e == NULL)
			break;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1;
			while (*v == ' ')
				v++;
			return strndup(v, (size_t)(e - v));
		}
		p = e + 2;
	}
	return NULL;
}

/* ---- matching --------------------------------------------------------------- */

static bool
all_of(const char *s, size_t n, const char *set)
{
	return strlen(s) == n && strspn(s, set) == n;
}

/* S starts with YYYY-MM-DD. */
static bool
date_prefix(const char *s)
{
	if (strlen(s) < 10)
		return false;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The text of a scalar, for binding and comparing named values. */
static char *
scalar_text(const json_t *v)
{
	char buf[64];

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (json_is_integer(v)) {
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return strdup(buf);
	}
	return NULL;
}

/*
 * Whether the text ACTUAL (a string, or NULL for a non-string scalar T)
 * matches the placeholder P (the text between < and >).  Named values
 * bind here.
 */
static bool
placeholder(const char *p, const json_t *actual, char *why, size_t wlen)
{
	const char *s = json_is_string(actual) ? json_string_value(actual) :
	    NULL;

	if (strcmp(p, "any") == 0)
		return true;
	if (strcmp(p, "string") == 0)
		return s != NULL;
	if (strcmp(p, "number") == 0)
		return json_is_number(actual);
	if (strcmp(p, "date") == 0)
		return s != NULL && strlen(s) == 10 && date_prefix(s);
	if (strcmp(p, "timestamp") == 0)
		return s != NULL && strlen(s) >= 19 && date_prefix(s) &&
		    s[10] == 'T';
	if (strcmp(p, "request-id") == 0)
		return s != NULL && all_of(s, 32, "0123456789abcdef");
	char *text = scalar_text(actual);
	if (text == NULL) {
		snprintf(why, wlen, "<%s> names a string or whole number", p);
		return false;
	}
	struct var *v = var_find(p, strlen(p));
	bool ok = true;
	if (v == NULL || rebinds(p))
		var_set(p, text);
	else if (strcmp(v->value, text) != 0) {
		snprintf(why, wlen, "<%s> was '%s', here it is '%s'", p,
		    v->value, text);
		ok = false;
	}
	free(text);
	return ok;
}

static bool
is_placeholder(const json_t *v, char *name, size_t len)
{
	const char *s;
	size_t n;

	if (!json_is_string(v))
		return false;
	s = json_string_value(v);
	n = strlen(s);
	if (n < 3 || s[0] != '<' || s[n - 1] != '>' || n - 2 >= len ||
	    strspn(s + 1, "abcdefghijklmnopqrstuvwxyz0123456789-") != n - 2)
		return false;
	memcpy(name, s + 1, n - 2);
	name[n - 2] = '\0';
	return true;
}

/* Whether ACTUAL matches the documented pattern DOC; WHERE is the path. */
static bool
match(const json_t *doc, const json_t *actual, const char *where, char *why,
    size_t wlen)
{
	char name[64], sub[512];

	if (is_placeholder(doc, name, sizeof(name))) {
		if (placeholder(name, actual, why, wlen))
			return true;
		if (why[0] == '\0')
			snprintf(why, wlen, "%s: not a <%s>", where, name);
		return false;
	}
	if (json_is_object(doc)) {
		const char *key;
		json_t *v;
		if (!json_is_object(actual)) {
			snprintf(why, wlen, "%s: not an object", where);
			return false;
		}
		json_object_foreach((json_t *)doc, key, v) {
			json_t *a = json_object_get(actual, key);
			snprintf(sub, sizeof(sub), "%s.%s", where, key);
			if (a == NULL) {
				snprintf(why, wlen, "%s: missing", sub);
				return false;
			}
			if (!match(v, a, sub, why, wlen))
				return false;
		}
		return true;
	}
	if (json_is_array(doc)) {
		size_t n = json_array_size(doc);
		const json_t *last = n ? json_array_get(doc, n - 1) : NULL;
		bool prefix = last && json_is_string(last) &&
		    strcmp(json_string_value(last), "...") == 0;
		if (!json_is_array(actual)) {
			snprintf(why, wlen, "%s: not an array", where);
			return false;
		}
		if (prefix)
			n--;
		if (prefix ? json_array_size(actual) < n :
		    json_array_size(actual) != n) {
			snprintf(why, wlen, "%s: %zu elements, the document "
			    "shows %s%zu", where, json_array_size(actual),
			    prefix ? "at least " : "", n);
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			snprintf(sub, sizeof(sub), "%s[%zu]", where, i);
			if (!match(json_array_get(doc, i),
			    json_array_get(actual, i), sub, why, wlen))
				return false;
		}
		return true;
	}
	if (json_is_number(doc) && json_is_number(actual) &&
	    json_number_value(doc) == json_number_value(actual))
		return true;
	if (json_equal((json_t *)doc, (json_t *)actual))
		return true;
	char *d = json_dumps(doc, JSON_ENCODE_ANY);
	char *a = json_dumps(actual, JSON_ENCODE_ANY);
	snprintf(why, wlen, "%s: the document shows %s, the answer has %s",
	    where, d, a);
	free(d);
	free(a);
	return false;
}

/* ---- running one example ---------------------------------------------------- */

static int port;

/* Splits "first line\nheaders...\n\nbody" of a request block. */
static void
run_example(const struct example *e, int num, bool *covered)
{
	char *req = substitute(e->req.text, num);
	char method[16], target[1024], why[1024] = "";
	char *p, *headers, *body;
	struct answer a;

	/* request line */
	if (sscanf(req, "%15s %1023s", method, target) != 2)
		fail_msg("docs/api.md line %d: bad request line", e->req.line);
	p = strchr(req, '\n');
	p = p ? p + 1 : req + strlen(req);
	/* headers up to a blank line; sent with CRLF */
	size_t hcap = strlen(p) * 2 + 1, hlen = 0;
	headers = malloc(hcap);
	headers[0] = '\0';
	while (*p && *p != '\n') {
		char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		memcpy(headers + hlen, p, len);
		hlen += len;
		memcpy(headers + hlen, "\r\n", 3);
		hlen += 2;
		p = nl ? nl + 1 : p + len;
	}
	if (*p == '\n')
		p++;
	body = p;
	/* the block's last newline is not part of the body */
	size_t blen = strlen(body);
	if (blen > 0 && body[blen - 1] == '\n')
		body[--blen] = '\0';

	/* which route the example is of */
	{
		char path[1024], allow[64];
		struct route_params params;
		int st = 0;
		snprintf(path, sizeof(path), "%s", target);
		path[strcspn(path, "?")] = '\0';
		const struct route *r = router_match(api_routes, api_nroutes,
		    method, path, &params, &st, allow, sizeof(allow));
		if (r != NULL)
			covered[r - api_routes] = true;
	}

	http_raw(port, method, target, headers, blen ? body : NULL, &a);
	/* CERTRACK_DOCS_VERBOSE=1 prints every exchange, to write examples */
	if (getenv("CERTRACK_DOCS_VERBOSE") != NULL)
		printf("--- %d: %s %s\n%d %s\n%s%s\n", num, method, target,
		    a.status, a.reason, a.headers, a.body);

	/* the documented answer */
	char *resp = strdup(e->resp.text);
	int status = 0;
	char reason[64] = "";
	if (sscanf(resp, "HTTP/1.1 %d %63[^\n]", &status, reason) < 1)
		fail_msg("docs/api.md line %d: bad status line", e->resp.line);
	if (status != a.status)
		fail_msg("docs/api.md line %d (example %d, %s %s): status %d, "
		    "the document shows %d; the answer: %s", e->resp.line, num,
		    method, target, a.status, status, a.body);
	if (reason[0] != '\0' && strcmp(reason, a.reason) != 0)
		fail_msg("docs/api.md line %d: reason phrase '%s', the document "
		    "shows '%s'", e->resp.line, a.reason, reason);
	p = strchr(resp, '\n');
	p = p ? p + 1 : resp + strlen(resp);
	/* response headers: "Name: value" lines right after the status */
	while (*p && *p != '\n' && *p != '{' && *p != '[' && *p != '#') {
		char *nl = strchr(p, '\n'), *colon;
		if (nl)
			*nl = '\0';
		colon = strchr(p, ':');
		if (colon == NULL)
			fail_msg("docs/api.md line %d: '%s' is not a header",
			    e->resp.line, p);
		*colon = '\0';
		const char *want = colon + 1;
		while (*want == ' ')
			want++;
		char *got = header_value(&a, p);
		char wname[64];
		json_t *wj = json_string(want), *gj = got ? json_string(got) :
		    NULL;
		if (got == NULL)
			fail_msg("docs/api.md line %d: no %s header in the "
			    "answer", e->resp.line, p);
		snprintf(wname, sizeof(wname), "%s", p);
		if (!match(wj, gj, wname, why, sizeof(why)))
			fail_msg("docs/api.md line %d: header %s", e->resp.line,
			    why);
		json_decref(wj);
		json_decref(gj);
		free(got);
		p = nl ? nl + 1 : p + strlen(p);
	}
	while (*p == '\n')
		p++;
	/* the body */
	if (*p == '\0') {
		if (a.body[0] != '\0')
			fail_msg("docs/api.md line %d: the document shows no "
			    "body, the answer has: %s", e->resp.line, a.body);
	} else if (*p == '{' || *p == '[') {
		json_error_t jerr;
		json_t *doc = json_loads(p, 0, &jerr);
		json_t *act = json_loads(a.body, 0, NULL);
		if (doc == NULL)
			fail_msg("docs/api.md line %d: the response example is "
			    "not JSON: %s (line %d)", e->resp.line, jerr.text,
			    jerr.line);
		if (act == NULL)
			fail_msg("docs/api.md line %d: the answer is not JSON: %s",
			    e->resp.line, a.body);
		if (!match(doc, act, "body", why, sizeof(why)))
			fail_msg("docs/api.md line %d (example %d, %s %s): %s\n"
			    "the answer: %s", e->resp.line, num, method, target,
			    why, a.body);
		json_decref(doc);
		json_decref(act);
	} else {
		/* text: every line shown is a line of the answer */
		while (*p) {
			char *nl = strchr(p, '\n');
			if (nl)
				*nl = '\0';
			if (strcmp(p, "...") != 0 && p[0] != '\0') {
				const char *at = a.body;
				size_t ll = strlen(p);
				bool found = false;
				while ((at = strstr(at, p)) != NULL) {
					if ((at == a.body || at[-1] == '\n') &&
					    (at[ll] == '\n' || at[ll] == '\0')) {
						found = true;
						break;
					}
					at++;
				}
				if (!found)
					fail_msg("docs/api.md line %d: the line "
					    "'%s' is not in the answer:\n%s",
					    e->resp.line, p, a.body);
			}
			p = nl ? nl + 1 : p + strlen(p);
		}
	}
	free(resp);
	answer_free(&a);
	free(headers);
	free(req);
}

static void
docs_examples(void **state)
{
	char *conninfo, *pw;
	struct example *ex;
	PGconn *db;
	pid_t pid;
	bool *covered;
	int n;

	(void)state;
	n = examples(&ex);
	/* A format change that hid the examples from this test must fail. */
	if (n < 80)
		fail_msg("docs/api.md has only %d checked examples", n);
	db = testdb_migrated("e2e_docs", &conninfo);
	port = testlib_free_port();
	pid = testlib_start_daemon("e2e_docs", port, conninfo, NULL);
	pw = testlib_create_user(conninfo, "admin", "admin", 0);
	var_set("admin-password", pw);
	free(pw);

	covered = calloc(api_nroutes, sizeof(*covered));
	for (int i = 0; i < n; i++)
		run_example(&ex[i], i + 1, covered);
	for (size_t r = 0; r < api_nroutes; r++)
		if (!covered[r])
			fail_msg("docs/api.md has no example of %s %s",
			    api_routes[r].method, api_routes[r].pattern);
	printf("checked %d examples of docs/api.md, %zu routes\n", n,
	    api_nroutes);

	for (int i = 0; i < n; i++) {
		free(ex[i].req.text);
		free(ex[i].resp.text);
	}
	free(ex);
	free(covered);
	for (int i = 0; i < nvars; i++)
		free(vars[i].value);
	assert_int_equal(testlib_stop_daemon(pid), 0);
	PQfinish(db);
	free(conninfo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docs_examples),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
