/*
 * Unit tests of the web pages' pure parts: the one escaping function, the
 * template renderer, QR codes as SVG, dates in words, and the printable
 * certificate's bytes (the same for the same data).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "certrack/config.h"
#include "certrack/cterr.h"
#include "certrack/pdf.h"
#include "certrack/qr.h"
#include "certrack/strbuf.h"
#include "certrack/value.h"
#include "certrack/web.h"

static char *
escaped(const char *s)
{
	struct strbuf sb;

	strbuf_init(&sb);
	assert_int_equal(web_escape(&sb, s), 0);
	return strbuf_detach(&sb, NULL);
}

/* Every character that could end text or an attribute is a reference;
 * everything else, UTF-8 included, is kept byte for byte. */
static void
test_escape(void **state)
{
	char *e;

	(void)state;
	e = escaped("<script>alert(1)</script>");
	assert_string_equal(e, "&lt;script&gt;alert(1)&lt;/script&gt;");
	free(e);
	e = escaped("\"a\" 'b' `c`");
	assert_string_equal(e, "&quot;a&quot; &#39;b&#39; `c`");
	free(e);
	e = escaped("Tom & Jerry &amp;");
	assert_string_equal(e, "Tom &amp; Jerry &amp;amp;");
	free(e);
	e = escaped("Zoë Ñúñez");
	assert_string_equal(e, "Zoë Ñúñez");
	free(e);
	e = escaped("");
	assert_string_equal(e, "");
	free(e);
	e = escaped("&");
	assert_string_equal(e, "&amp;");
	free(e);
}

/* A failed buffer makes the escape fail, never a text with a hole. */
static void
test_escape_failed_buffer(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init_max(&sb, 8);
	assert_int_equal(web_escape(&sb, "<<"), 0);	/* 8 bytes: fits */
	assert_string_equal(sb.buf, "&lt;&lt;");
	assert_int_equal(web_escape(&sb, "x"), -1);
	strbuf_release(&sb);
}

/* {{x}} is escaped, {{&x}} is not; a missing value or template fails. */
static void
test_render(void **state)
{
	struct strbuf sb;
	struct cterr err;
	const struct web_var vars[] = {
		{ "kind", "bad\" onclick=\"x" },
		{ "text", "<b>&</b>" },
	};

	(void)state;
	cterr_clear(&err);
	strbuf_init(&sb);
	assert_int_equal(web_render(&sb, "notice.html", vars, 2, &err), 0);
	assert_string_equal(sb.buf, "<p class=\"notice bad&quot; onclick=&quot;x\" "
	    "role=\"alert\">&lt;b&gt;&amp;&lt;/b&gt;</p>\n");
	strbuf_release(&sb);

	/* raw: the layout's body is HTML the renderer made */
	const struct web_var page[] = {
		{ "title", "A & B" },
		{ "body", "<p>made</p>" },
	};
	strbuf_init(&sb);
	assert_int_equal(web_render(&sb, "layout.html", page, 2, &err), 0);
	assert_non_null(strstr(sb.buf, "<title>A &amp; B - certrack</title>"));
	assert_non_null(strstr(sb.buf, "\n<p>made</p>\n"));
	strbuf_release(&sb);

	strbuf_init(&sb);
	assert_int_equal(web_render(&sb, "notice.html", vars, 1, &err), -1);
	assert_int_equal(err.status, 500);
	strbuf_release(&sb);
	cterr_clear(&err);
	strbuf_init(&sb);
	assert_int_equal(web_render(&sb, "nothing.html", vars, 2, &err), -1);
	strbuf_release(&sb);
}

/* Every embedded template renders with the values its page gives, and
 * the stylesheet is there. */
static void
test_embedded(void **state)
{
	(void)state;
	assert_non_null(web_file("static/style.css"));
	assert_non_null(web_file("templates/layout.html"));
	assert_null(web_file("templates/../static/style.css"));
	assert_null(web_file("style.css"));
}

static void
test_qr_svg(void **state)
{
	struct strbuf sb;
	struct qr q;

	(void)state;
	strbuf_init(&sb);
	assert_int_equal(qr_svg(&sb, "http://127.0.0.1:8080/verify/"
	    "ABCD-EFGH-JKMZ", "a <label>"), 0);
	assert_int_equal(strncmp(sb.buf, "<svg class=\"qr\"", 15), 0);
	assert_non_null(strstr(sb.buf, "aria-label=\"a &lt;label&gt;\""));
	assert_non_null(strstr(sb.buf, "</svg>"));
	strbuf_release(&sb);
	/* version 3 (29 modules) holds this address at level M */
	assert_int_equal(qr_make("http://127.0.0.1:8080/verify/ABCD-EFGH-JKMZ",
	    &q), 0);
	assert_int_equal(q.width, 29);
	/* the finder pattern's corner is dark, the module inside its ring
	 * light */
	assert_true(q.dark[0]);
	assert_false(q.dark[1 * q.width + 1]);
	qr_release(&q);
}

static void
test_date_words(void **state)
{
	char buf[40];

	(void)state;
	assert_string_equal(pdf_date_words("2026-11-23", buf, sizeof(buf)),
	    "23 November 2026");
	assert_string_equal(pdf_date_words("2028-01-01", buf, sizeof(buf)),
	    "1 January 2028");
	assert_string_equal(pdf_date_words("2028-13-01", buf, sizeof(buf)),
	    "2028-13-01");
	assert_string_equal(pdf_date_words("2028-12-01x", buf, sizeof(buf)),
	    "2028-12-01x");
}

static char *
render_pdf(const struct pdf_certificate *c, size_t *len)
{
	struct strbuf sb;

	strbuf_init(&sb);
	assert_int_equal(pdf_certificate(c, &sb), 0);
	return strbuf_detach(&sb, len);
}

/* The same certificate is the same bytes; another holder is not. */
static void
test_pdf_same_bytes(void **state)
{
	struct pdf_certificate c = {
		.number = "ABCD-EFGH-JKMZ", .holder = "Zoë O'Brien",
		.credential = "Certified Dry Needling Practitioner",
		.program = "Dry Needling", .level = "Level 1",
		.issued_on = "2026-11-23", .expires_on = "2028-11-23",
		.verify_url = "http://127.0.0.1:8080/verify/ABCD-EFGH-JKMZ",
	};
	size_t la, lb, lc;
	char *a, *b, *d;

	(void)state;
	a = render_pdf(&c, &la);
	b = render_pdf(&c, &lb);
	assert_true(la > 1000);
	assert_int_equal(strncmp(a, "%PDF-", 5), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	c.holder = "Zoe O'Brien";
	d = render_pdf(&c, &lc);
	assert_true(lc != la || memcmp(a, d, la) != 0);
	free(a);
	free(b);
	free(d);
}

/* The directory's ZIP reader: five digits exactly. */
static void
test_zip(void **state)
{
	struct value_err ve;

	(void)state;
	assert_int_equal(value_zip("02139", &ve), 0);
	assert_int_equal(value_zip("99999", &ve), 0);
	assert_int_equal(value_zip("0213", &ve), -1);
	assert_string_equal(ve.code, "invalid_zip");
	assert_int_equal(value_zip("021390", &ve), -1);
	assert_int_equal(value_zip("0213a", &ve), -1);
	assert_int_equal(value_zip("", &ve), -1);
	assert_int_equal(value_zip("02139-1234", &ve), -1);
	assert_int_equal(value_max_len("practice_city"), 100);
	assert_int_equal(value_max_len("public_contact"), 200);
}

/* The pager's links: every byte that is not plain is encoded. */
static void
test_urlencode(void **state)
{
	struct strbuf sb;

	(void)state;
	strbuf_init(&sb);
	assert_int_equal(web_urlencode(&sb, "San José & <x>=1%"), 0);
	assert_string_equal(sb.buf, "San+Jos%C3%A9+%26+%3Cx%3E%3D1%25");
	strbuf_release(&sb);
}

static void
count_report(void *arg, const char *msg)
{
	(void)msg;
	(*(int *)arg)++;
}

/* public_url: an http(s) address without a query; the pages' default. */
static void
test_public_url(void **state)
{
	static const struct { const char *url; int mistakes; } cases[] = {
		{ "https://certs.example.org", 0 },
		{ "http://127.0.0.1:8080/", 0 },
		{ "ftp://certs.example.org", 1 },
		{ "certs.example.org", 1 },
		{ "https://certs.example.org/?x=1", 1 },
		{ "https://certs.example.org/\"><script>", 1 },
	};
	struct config cfg;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = 0;
		config_init(&cfg);
		assert_int_equal(config_set(&cfg, "public_url", cases[i].url,
		    err, sizeof(err)), 0);
		config_check(&cfg, count_report, &n);
		if (n != cases[i].mistakes)
			fail_msg("%s: %d mistakes", cases[i].url, n);
		config_release(&cfg);
	}
	/* unset: http:// and the listen address; set: without its '/' */
	config_init(&cfg);
	web_init(&cfg);
	assert_string_equal(web_public_url(), "http://127.0.0.1:8080");
	config_set(&cfg, "public_url", "https://certs.example.org/", err,
	    sizeof(err));
	web_init(&cfg);
	assert_string_equal(web_public_url(), "https://certs.example.org");
	config_release(&cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_escape_failed_buffer),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_embedded),
		cmocka_unit_test(test_qr_svg),
		cmocka_unit_test(test_date_words),
		cmocka_unit_test(test_pdf_same_bytes),
		cmocka_unit_test(test_zip),
		cmocka_unit_test(test_urlencode),
		cmocka_unit_test(test_public_url),
	};

	return cmocka_run_group_tests_name("unit_web", tests, NULL, NULL);
}
