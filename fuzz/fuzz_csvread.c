/*
 * lib/csvread.c: the incremental CSV reader.  The input is fed once whole
 * and once in small pieces; both must give the same records, the same
 * error and the same line numbers (the import gets the body in whatever
 * pieces the network cuts it into).  Every record is checked: 1 to
 * CSVREAD_MAX_FIELDS fields, lines from 1 and growing, and every field
 * before the one marked bad is valid UTF-8 and whole (no NUL cut it).
 *
 * Input: three option bytes, then the CSV.  Byte 0 % 4 picks the
 * delimiter (0 detect, ',', ';', tab), byte 1 % 32 + 1 the piece size,
 * byte 2 % 8 the record after which the callback stops reading (0 never).
 */
#include "fuzz.h"

#include <stdio.h>
#include <string.h>

#include "certrack/csvread.h"
#include "certrack/strbuf.h"

static const char T[] = "csvread";

struct run {
	struct strbuf log;	/* what the reader said, to compare runs */
	long last_line;
	int rows;
	int stop_after;
};

static void
logf_add(struct run *r, const char *s, size_t len)
{
	fuzz_require(strbuf_add(&r->log, s, len) == 0, T, "out of memory");
}

static int
on_row(void *arg, long line, int n, char *const *fields, int bad)
{
	struct run *r = arg;
	char head[64];
	int len;

	fuzz_require(n >= 1 && n <= CSVREAD_MAX_FIELDS, T, "field count");
	fuzz_require(line >= 1 && line > r->last_line, T,
	    "records' lines must grow");
	fuzz_require(bad >= 0 && bad <= n, T, "bad column out of range");
	r->last_line = line;
	len = snprintf(head, sizeof(head), "%ld:%d:%d", line, n, bad);
	logf_add(r, head, (size_t)len);
	for (int i = 0; i < n; i++) {
		size_t flen = strlen(fields[i]);
		if (bad == 0 || i < bad - 1)
			fuzz_require(csvread_utf8_valid(fields[i], flen), T,
			    "a field before the bad column is not UTF-8");
		logf_add(r, "|", 1);
		logf_add(r, fields[i], flen + 1);	/* NUL: a separator */
	}
	logf_add(r, "\n", 1);
	r->rows++;
	return r->stop_after > 0 && r->rows == r->stop_after ? -1 : 0;
}

/* Reads TEXT in pieces of PIECE bytes (all at once when 0) into R. */
static void
read_all(struct run *r, char delim, const char *text, size_t len,
    size_t piece)
{
	struct csvread *rd = csvread_new(delim, on_row, r);
	char tail[200];
	int rc = 0, n;

	fuzz_require(rd != NULL, T, "out of memory");
	for (size_t off = 0; off < len && rc == 0;) {
		size_t k = piece == 0 || len - off < piece ? len - off : piece;
		rc = csvread_feed(rd, text + off, k);
		off += k;
	}
	if (rc == 0)
		rc = csvread_finish(rd);
	/* A reader that stopped stays stopped. */
	if (rc != 0)
		fuzz_require(csvread_feed(rd, "a\n", 2) == -1, T,
		    "fed again after stopping");
	n = snprintf(tail, sizeof(tail), "rc %d delim %d error '%s' line %ld",
	    rc, csvread_delimiter(rd), rc ? csvread_error(rd) : "",
	    rc ? csvread_error_line(rd) : 0L);
	logf_add(r, tail, (size_t)n);
	csvread_free(rd);
}

int
fuzz_csvread(const uint8_t *data, size_t size)
{
	static const char delims[] = { 0, ',', ';', '\t' };
	struct run whole = { 0 }, pieces = { 0 };

	if (size < 3)
		return 0;
	char delim = delims[data[0] % 4];
	size_t piece = data[1] % 32 + 1;
	whole.stop_after = pieces.stop_after = data[2] % 8;
	strbuf_init(&whole.log);
	strbuf_init(&pieces.log);
	read_all(&whole, delim, (const char *)data + 3, size - 3, 0);
	read_all(&pieces, delim, (const char *)data + 3, size - 3, piece);
	fuzz_require(whole.log.len == pieces.log.len &&
	    memcmp(whole.log.buf, pieces.log.buf, whole.log.len) == 0, T,
	    "fed in pieces, the records or the error differ");
	strbuf_release(&whole.log);
	strbuf_release(&pieces.log);
	return 0;
}

FUZZ_ENTRY(fuzz_csvread)
