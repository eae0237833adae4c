/*
 * Printable certificates (include/certrack/pdf.h) and their route, GET
 * /v1/certificates/{number}.pdf, for the certificate's holder and staff.
 */
#include "certrack/pdf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cairo.h>
#include <cairo-pdf.h>

#include "certrack/api.h"
#include "certrack/apiutil.h"
#include "certrack/certnum.h"
#include "certrack/db.h"
#include "certrack/qr.h"
#include "certrack/web.h"

/* A4 landscape, in points */
#define PAGE_W 841.89
#define PAGE_H 595.28

const char *
pdf_date_words(const char *iso, char *buf, size_t len)
{
	static const char *const months[] = { "January", "February", "March",
	    "April", "May", "June", "July", "August", "September", "October",
	    "November", "December" };
	int y, m, d;
	char rest;

	if (iso == NULL || sscanf(iso, "%4d-%2d-%2d%c", &y, &m, &d, &rest) != 3
	    || m < 1 || m > 12 || d < 1 || d > 31)
		return iso;
	snprintf(buf, len, "%d %s %d", d, months[m - 1], y);
	return buf;
}

static cairo_status_t
to_strbuf(void *closure, const unsigned char *data, unsigned int len)
{
	return strbuf_add(closure, data, len) == 0 ? CAIRO_STATUS_SUCCESS :
	    CAIRO_STATUS_WRITE_ERROR;
}

/* TEXT centred on X at baseline Y, in FAMILY at SIZE points at most,
 * smaller when it would be wider than MAXW. */
static void
centred(cairo_t *cr, const char *family, cairo_font_weight_t weight,
    double size, double x, double y, double maxw, const char *text)
{
	cairo_text_extents_t ext;

	cairo_select_font_face(cr, family, CAIRO_FONT_SLANT_NORMAL, weight);
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, text, &ext);
	if (ext.x_advance > maxw) {
		cairo_set_font_size(cr, size * maxw / ext.x_advance);
		cairo_text_extents(cr, text, &ext);
	}
	cairo_move_to(cr, x - ext.x_advance / 2, y);
	cairo_show_text(cr, text);
}

/* The QR code of URL, SIDE points wide, its top left at X, Y. */
static int
draw_qr(cairo_t *cr, const char *url, double x, double y, double side)
{
	struct qr q;
	double m;

	if (qr_make(url, &q) != 0)
		return -1;
	m = side / (q.width + 2 * QR_QUIET);
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < q.width; r++)
		for (int c = 0; c < q.width; c++)
			if (q.dark[r * q.width + c])
				cairo_rectangle(cr, x + (c + QR_QUIET) * m,
				    y + (r + QR_QUIET) * m, m, m);
	cairo_fill(cr);
	qr_release(&q);
	return 0;
}

int
pdf_certificate(const struct pdf_certificate *c, struct strbuf *out)
{
	cairo_surface_t *surface;
	cairo_t *cr;
	char issued[40], expires[40], line[512], stamp[32];
	const double mid = PAGE_W / 2, maxw = PAGE_W - 180;
	int rc = -1;

	surface = cairo_pdf_surface_create_for_stream(to_strbuf, out, PAGE_W,
	    PAGE_H);
	/* The document's own dates are the certificate's, so the same
	 * certificate is the same bytes on every run. */
	snprintf(stamp, sizeof(stamp), "%.10sT00:00:00Z", c->issued_on);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATE_DATE,
	    stamp);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_MOD_DATE,
	    stamp);
	snprintf(line, sizeof(line), "Certificate %s", c->number);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, line);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
	    "certrack");
	cr = cairo_create(surface);

	/* a double frame */
	cairo_set_source_rgb(cr, 0.043, 0.310, 0.612);
	cairo_set_line_width(cr, 4);
	cairo_rectangle(cr, 28, 28, PAGE_W - 56, PAGE_H - 56);
	cairo_stroke(cr);
	cairo_set_line_width(cr, 1);
	cairo_rectangle(cr, 38, 38, PAGE_W - 76, PAGE_H - 76);
	cairo_stroke(cr);

	cairo_set_source_rgb(cr, 0.043, 0.310, 0.612);
	centred(cr, "DejaVu Serif", CAIRO_FONT_WEIGHT_BOLD, 34, mid, 120, maxw,
	    c->credential);
	cairo_set_source_rgb(cr, 0.106, 0.122, 0.137);
	centred(cr, "DejaVu Serif", CAIRO_FONT_WEIGHT_NORMAL, 15, mid, 170,
	    maxw, "This certifies that");
	centred(cr, "DejaVu Serif", CAIRO_FONT_WEIGHT_BOLD, 30, mid, 220, maxw,
	    c->holder);
	centred(cr, "DejaVu Serif", CAIRO_FONT_WEIGHT_NORMAL, 15, mid, 265,
	    maxw, "has completed the course and passed the written and "
	    "practical examinations of");
	centred(cr, "DejaVu Serif", CAIRO_FONT_WEIGHT_BOLD, 20, mid, 300, maxw,
	    c->level);
	snprintf(line, sizeof(line), "of the %s program", c->program);
	centred(cr, "DejaVu Serif", CAIRO_FONT_WEIGHT_NORMAL, 15, mid, 328,
	    maxw, line);

	if (c->expires_on != NULL)
		snprintf(line, sizeof(line), "Issued %s. Valid until %s.",
		    pdf_date_words(c->issued_on, issued, sizeof(issued)),
		    pdf_date_words(c->expires_on, expires, sizeof(expires)));
	else
		snprintf(line, sizeof(line), "Issued %s. Does not expire.",
		    pdf_date_words(c->issued_on, issued, sizeof(issued)));
	centred(cr, "DejaVu Sans", CAIRO_FONT_WEIGHT_NORMAL, 13, mid, 380, maxw,
	    line);

	/* the number and where to check it, left of the QR code */
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 11);
	cairo_move_to(cr, 70, 470);
	cairo_show_text(cr, "Certificate number");
	cairo_select_font_face(cr, "DejaVu Sans Mono", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_BOLD);
	cairo_set_font_size(cr, 18);
	cairo_move_to(cr, 70, 494);
	cairo_show_text(cr, c->number);
	cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL,
	    CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, 10);
	cairo_move_to(cr, 70, 518);
	cairo_show_text(cr, "Check that it is valid today at");
	cairo_move_to(cr, 70, 532);
	cairo_show_text(cr, c->verify_url);

	if (draw_qr(cr, c->verify_url, PAGE_W - 70 - 110, PAGE_H - 60 - 110,
	    110) != 0)
		goto out;
	cairo_show_page(cr);
	cairo_surface_finish(surface);
	if (cairo_status(cr) == CAIRO_STATUS_SUCCESS &&
	    cairo_surface_status(surface) == CAIRO_STATUS_SUCCESS &&
	    !strbuf_failed(out))
		rc = 0;
out:
	cairo_destroy(cr);
	cairo_surface_destroy(surface);
	return rc;
}

/* Certificate $1 as its holder's clinician $2 (NULL: staff) may see it. */
static const struct db_stmt q_pdf = {
	"certificates_pdf",
	"SELECT c.number, cl.given_name || ' ' || cl.family_name,"
	"  g.credential_title, g.name, l.title, c.issued_on::text,"
	"  c.expires_on::text, c.revoked_at IS NOT NULL"
	" FROM certificates c"
	" JOIN clinicians cl ON cl.id = c.clinician_id"
	" JOIN levels l ON l.id = c.level_id"
	" JOIN programs g ON g.id = l.program_id"
	" WHERE c.number = $1"
	"   AND ($2::bigint IS NULL OR c.clinician_id = $2::bigint)",
	2,
};

int
api_certificates_pdf(struct request *req)
{
	char number[CERTNUM_LEN + 1], who[24], url[400];
	const char *params[2] = { number, NULL };
	struct pdf_certificate c;
	struct strbuf out;
	PGconn *conn;
	PGresult *res;
	int rc;

	if (api_certificate_number(router_param(&req->params, "number"),
	    number, &req->err) != 0)
		return -1;
	if (req->who.role == ROLE_CLINICIAN) {
		snprintf(who, sizeof(who), "%lld", req->who.clinician_id);
		params[1] = who;
	}
	if ((conn = db_conn(&req->err)) == NULL ||
	    (res = db_exec(conn, &q_pdf, params, &req->err)) == NULL)
		return -1;
	/* another clinician's certificate is as unknown as a missing one */
	if (PQntuples(res) != 1) {
		PQclear(res);
		return cterr_set(&req->err, 404, "unknown_certificate",
		    "number", "there is no certificate '%s'", number);
	}
	if (strcmp(PQgetvalue(res, 0, 7), "t") == 0) {
		PQclear(res);
		return cterr_set(&req->err, 409, "certificate_revoked",
		    "number", "certificate '%s' is revoked: it has no printable "
		    "form", number);
	}
	snprintf(url, sizeof(url), "%s/verify/%s", web_public_url(), number);
	c = (struct pdf_certificate){
		.number = PQgetvalue(res, 0, 0),
		.holder = PQgetvalue(res, 0, 1),
		.credential = PQgetvalue(res, 0, 2),
		.program = PQgetvalue(res, 0, 3),
		.level = PQgetvalue(res, 0, 4),
		.issued_on = PQgetvalue(res, 0, 5),
		.expires_on = PQgetisnull(res, 0, 6) ? NULL :
		    PQgetvalue(res, 0, 6),
		.verify_url = url,
	};
	strbuf_init(&out);
	rc = pdf_certificate(&c, &out);
	PQclear(res);
	if (rc != 0) {
		strbuf_release(&out);
		return cterr_set(&req->err, 500, "internal", NULL, "the PDF "
		    "could not be made; the request id is in the log");
	}
	snprintf(url, sizeof(url), "inline; filename=\"%s.pdf\"", number);
	http_add_header(req, "Content-Disposition", url);
	rc = http_reply_text(req, 200, "application/pdf", out.buf, out.len);
	strbuf_release(&out);
	return rc;
}
