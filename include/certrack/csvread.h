#ifndef CERTRACK_CSVREAD_H
#define CERTRACK_CSVREAD_H
/*
 * An incremental CSV reader over libcsv: bytes go in as they arrive, whole
 * records come out with the line (as an editor counts lines) each began on.
 * It strips a UTF-8 byte-order mark, takes CRLF or LF, quoted fields with
 * delimiters, doubled quotes and line breaks, checks every field is valid
 * UTF-8 without NUL, and detects the delimiter (comma, semicolon, tab) from the header
 * line when asked to.  Memory stays bounded: a field longer than
 * CSVREAD_MAX_FIELD stops the reader.  Pure: no I/O.
 */
#include <stddef.h>

#define CSVREAD_MAX_FIELD (64 * 1024)
#define CSVREAD_MAX_FIELDS 256

/*
 * One record: LINE it began on, N fields (NUL-terminated, blanks around
 * unquoted values trimmed).  BAD_COLUMN is 0, or the 1-based column of the
 * first field that is not valid UTF-8 or holds a NUL byte (it then ends at
 * the NUL).  Return 0 to go on, -1 to stop reading.
 */
typedef int (*csvread_row_fn)(void *arg, long line, int n,
    char *const *fields, int bad_column);

struct csvread;

/* A reader with DELIM (',' ';' '\t'), or 0 to detect it from the first
 * line.  Returns NULL out of memory. */
struct csvread *csvread_new(char delim, csvread_row_fn row, void *arg);
void csvread_free(struct csvread *r);

/*
 * Feeds LEN bytes.  Returns 0, or -1 when reading must stop: the row
 * callback said so, or the input is broken (csvread_error() says how and
 * csvread_error_line() where).
 */
int csvread_feed(struct csvread *r, const char *data, size_t len);

/* Ends the input (an unterminated quote is an error here).  0 or -1. */
int csvread_finish(struct csvread *r);

/* Why reading stopped ("" when the callback stopped it), and on which
 * line.  Valid after a -1. */
const char *csvread_error(const struct csvread *r);
long csvread_error_line(const struct csvread *r);

/* The delimiter in use (after detection), or 0 before the first line. */
char csvread_delimiter(const struct csvread *r);

/* True when S[0..LEN) is valid UTF-8 (no overlongs, no surrogates). */
int csvread_utf8_valid(const char *s, size_t len);

/* The length of the longest prefix of S[0..LEN) that is valid UTF-8. */
size_t csvread_utf8_prefix(const char *s, size_t len);

#endif
