/*
 * QR codes: libqrencode encodes, this draws (include/certrack/qr.h).
 */
#include "certrack/qr.h"

#include <stdlib.h>
#include <qrencode.h>

#include "certrack/web.h"

int
qr_make(const char *text, struct qr *q)
{
	QRcode *code = QRcode_encodeString(text, 0, QR_ECLEVEL_M, QR_MODE_8, 1);

	q->width = 0;
	q->dark = NULL;
	if (code == NULL)
		return -1;
	q->dark = calloc((size_t)code->width * (size_t)code->width,
	    sizeof(bool));
	if (q->dark == NULL) {
		QRcode_free(code);
		return -1;
	}
	q->width = code->width;
	/* bit 0 of each byte: the module is dark */
	for (int i = 0; i < code->width * code->width; i++)
		q->dark[i] = (code->data[i] & 1) != 0;
	QRcode_free(code);
	return 0;
}

void
qr_release(struct qr *q)
{
	free(q->dark);
	q->dark = NULL;
	q->width = 0;
}

int
qr_svg(struct strbuf *sb, const char *text, const char *label)
{
	struct qr q;
	int size;

	if (qr_make(text, &q) != 0)
		return -1;
	size = q.width + 2 * QR_QUIET;
	strbuf_addf(sb, "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" "
	    "viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
	    "aria-label=\"", size, size, size * 5, size * 5);
	web_escape(sb, label);
	strbuf_addf(sb, "\"><path fill=\"#fff\" d=\"M0 0h%dv%dH0z\"/>"
	    "<path fill=\"#000\" d=\"", size, size);
	/* one rectangle per horizontal run of dark modules */
	for (int y = 0; y < q.width; y++)
		for (int x = 0; x < q.width; ) {
			int run = 0;

			while (x + run < q.width && q.dark[y * q.width + x + run])
				run++;
			if (run == 0) {
				x++;
				continue;
			}
			strbuf_addf(sb, "M%d %dh%dv1h-%dz", x + QR_QUIET,
			    y + QR_QUIET, run, run);
			x += run;
		}
	strbuf_addstr(sb, "\"/></svg>");
	qr_release(&q);
	return strbuf_failed(sb) ? -1 : 0;
}
