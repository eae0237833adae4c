#ifndef CERTRACK_QR_H
#define CERTRACK_QR_H
/*
 * QR codes (libqrencode) of the certificates' verification addresses: as
 * the modules of a symbol (for the PDF) and as inline SVG (for the pages).
 */
#include <stdbool.h>

#include "certrack/strbuf.h"

/* A symbol: WIDTH x WIDTH modules, row by row, true for dark. */
struct qr {
	int width;
	bool *dark;		/* owned; qr_release() frees it */
};

/* The quiet zone every rendering leaves around a symbol, in modules. */
#define QR_QUIET 4

/*
 * Encodes TEXT (error correction M) into Q.  Returns 0, or -1 when it
 * cannot (memory, or too long for a QR code).
 */
int qr_make(const char *text, struct qr *q);
void qr_release(struct qr *q);

/*
 * Appends an <svg> of the QR code of TEXT to SB, labelled (for screen
 * readers) with LABEL, which is escaped.  Returns 0, or -1.
 */
int qr_svg(struct strbuf *sb, const char *text, const char *label);

#endif
