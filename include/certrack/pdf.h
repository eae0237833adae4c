#ifndef CERTRACK_PDF_H
#define CERTRACK_PDF_H
/*
 * Printable certificates: an A4 landscape PDF drawn with cairo, its fonts
 * embedded, the same bytes for the same certificate on every run (the
 * document's dates are the certificate's issue date, never the clock).
 */
#include "certrack/strbuf.h"

/* What a certificate shows; every string is UTF-8 and required but
 * EXPIRES_ON (NULL: does not expire). */
struct pdf_certificate {
	const char *number;	/* "ABCD-EFGH-JKMZ" */
	const char *holder;
	const char *credential;	/* the program's credential title */
	const char *program;
	const char *level;	/* the level's title */
	const char *issued_on;	/* "YYYY-MM-DD" */
	const char *expires_on;	/* "YYYY-MM-DD" or NULL */
	const char *verify_url;	/* the QR code's address */
};

/*
 * Appends the PDF of C to OUT.  Returns 0, or -1 (cairo failed, or OUT
 * did).
 */
int pdf_certificate(const struct pdf_certificate *c, struct strbuf *out);

/* "2026-11-23" as "23 November 2026" into BUF (at least 24 bytes); ISO
 * itself when it is not such a date. */
const char *pdf_date_words(const char *iso, char *buf, size_t len);

#endif
