#include "certrack/csvread.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <csv.h>

#include "certrack/strbuf.h"

struct csvread {
	struct csv_parser p;
	bool started;		/* libcsv initialised (delimiter known) */
	char delim;
	csvread_row_fn row;
	void *arg;

	long line;		/* line of the byte being fed */
	bool cr_pending;	/* the last chunk ended in CR: is LF next? */
	long rec_line;		/* line the current record began on */
	bool bom_checked;
	struct strbuf head;	/* the first line, while detecting */

	struct strbuf fields;	/* the current record's fields, NUL-separated */
	size_t off[CSVREAD_MAX_FIELDS];
	int n;
	int bad_column;
	bool too_many;

	bool stop;
	char error[160];
	long error_line;
};

size_t
csvread_utf8_prefix(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t need;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			need = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			need = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			need = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		if (len - i <= need)	/* the sequence runs past the end */
			return i;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
			return i;
		i += need + 1;
	}
	return len;
}

int
csvread_utf8_valid(const char *str, size_t len)
{
	return csvread_utf8_prefix(str, len) == len;
}

static void
fail(struct csvread *r, const char *msg)
{
	if (!r->stop) {
		snprintf(r->error, sizeof(r->error), "%s", msg);
		r->error_line = r->line;
	}
	r->stop = true;
}

static void
on_field(void *data, size_t len, void *arg)
{
	struct csvread *r = arg;
	char *s = data;

	if (r->stop)
		return;
	if (r->n == CSVREAD_MAX_FIELDS) {
		r->too_many = true;
		return;
	}
	if (s == NULL)
		len = 0;
	/* A NUL would cut the field short unseen (and a UTF-16 file is
	 * full of them): as bad as invalid UTF-8. */
	if (r->bad_column == 0 && len > 0 && (!csvread_utf8_valid(s, len) ||
	    memchr(s, '\0', len) != NULL))
		r->bad_column = r->n + 1;
	r->off[r->n++] = r->fields.len;
	if (strbuf_add(&r->fields, s ? s : "", len) != 0 ||
	    strbuf_add(&r->fields, "", 1) != 0)
		fail(r, "out of memory");
}

static void
on_record(int c, void *arg)
{
	struct csvread *r = arg;
	char *ptrs[CSVREAD_MAX_FIELDS];

	(void)c;
	if (r->stop)
		return;
	if (r->n > 0) {
		if (r->too_many) {
			r->error_line = r->rec_line;
			snprintf(r->error, sizeof(r->error), "more than %d "
			    "columns", CSVREAD_MAX_FIELDS);
			r->stop = true;
			return;
		}
		/* A lone empty field is a blank line that held blanks. */
		if (!(r->n == 1 && r->fields.buf[r->off[0]] == '\0')) {
			for (int i = 0; i < r->n; i++)
				ptrs[i] = r->fields.buf + r->off[i];
			if (r->row(r->arg, r->rec_line, r->n, ptrs,
			    r->bad_column) != 0) {
				r->error[0] = '\0';
				r->error_line = r->rec_line;
				r->stop = true;
			}
		}
	}
	strbuf_reset(&r->fields);
	r->n = 0;
	r->bad_column = 0;
	r->too_many = false;
	/* The next record begins after this terminator's line. */
	r->rec_line = r->line + (c == '\n' || c == '\r' ? 1 : 0);
}

static int
not_space_tab(unsigned char c)
{
	return c == ' ';
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t';
}

struct csvread *
csvread_new(char delim, csvread_row_fn row, void *arg)
{
	struct csvread *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->delim = delim;
	r->row = row;
	r->arg = arg;
	r->line = 1;
	r->rec_line = 1;
	strbuf_init(&r->head);
	strbuf_init(&r->fields);
	return r;
}

void
csvread_free(struct csvread *r)
{
	if (r == NULL)
		return;
	if (r->started)
		csv_free(&r->p);
	strbuf_release(&r->head);
	strbuf_release(&r->fields);
	free(r);
}

static int
start(struct csvread *r)
{
	if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL |
	    CSV_APPEND_NULL) != 0) {
		fail(r, "out of memory");
		return -1;
	}
	csv_set_delim(&r->p, (unsigned char)r->delim);
	/* With tabs as the delimiter only blanks are trimmed. */
	csv_set_space_func(&r->p, r->delim == '\t' ? not_space_tab : is_space);
	r->started = true;
	return 0;
}

/* Picks the delimiter seen most often outside quotes in the header. */
static char
detect(const char *s, size_t len)
{
	size_t comma = 0, semi = 0, tab = 0;
	bool quoted = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '"')
			quoted = !quoted;
		else if (!quoted && s[i] == ',')
			comma++;
		else if (!quoted && s[i] == ';')
			semi++;
		else if (!quoted && s[i] == '\t')
			tab++;
	}
	if (semi > comma && semi >= tab)
		return ';';
	if (tab > comma && tab > semi)
		return '\t';
	return ',';
}

/* Parses DATA (no '\n' inside except possibly at the end). */
static int
parse_piece(struct csvread *r, const char *data, size_t len)
{
	if (csv_parse(&r->p, data, len, on_field, on_record, r) != len &&
	    !r->stop) {
		fail(r, csv_error(&r->p) == CSV_EPARSE ?
		    "malformed quoting (a quote inside an unquoted field, or "
		    "text after a closing quote)" : "out of memory");
	}
	if (!r->stop && csv_get_buffer_size(&r->p) > CSVREAD_MAX_FIELD) {
		r->error_line = r->rec_line;
		snprintf(r->error, sizeof(r->error), "a field longer than %d "
		    "bytes (an unterminated quote?)", CSVREAD_MAX_FIELD);
		r->stop = true;
	}
	return r->stop ? -1 : 0;
}

/* The length of DATA[0..LEN)'s first line, its break (LF or CR) included,
 * or LEN when it has none. */
static size_t
line_len(const char *data, size_t len)
{
	size_t n = 0;

	while (n < len && data[n] != '\n' && data[n] != '\r')
		n++;
	return n < len ? n + 1 : len;
}

/*
 * Feeds libcsv line by line, so every record knows its line.  A line ends
 * at LF, CRLF or a lone CR, as editors count them (libcsv ends a record
 * at each); a CR that ends a chunk waits for the next byte to say which.
 */
static int
feed_lines(struct csvread *r, const char *data, size_t len)
{
	if (len > 0 && r->cr_pending) {
		r->cr_pending = false;
		if (data[0] != '\n')
			r->line++;
	}
	while (len > 0) {
		size_t n = line_len(data, len);
		if (parse_piece(r, data, n) != 0)
			return -1;
		if (data[n - 1] == '\n')
			r->line++;
		else if (data[n - 1] == '\r' && n == len)
			r->cr_pending = true;
		else if (data[n - 1] == '\r' && data[n] != '\n')
			r->line++;
		data += n;
		len -= n;
	}
	return 0;
}

int
csvread_feed(struct csvread *r, const char *data, size_t len)
{
	if (r->stop)
		return -1;
	if (!r->bom_checked) {
		/* Hold back up to three bytes until the mark can be judged. */
		if (strbuf_add(&r->head, data, len) != 0) {
			fail(r, "out of memory");
			return -1;
		}
		if (r->head.len < 3 && !r->started)
			return 0;
		r->bom_checked = true;
		size_t skip = memcmp(r->head.buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		struct strbuf held = r->head;
		strbuf_init(&r->head);
		int rc = csvread_feed(r, held.buf + skip, held.len - skip);
		strbuf_release(&held);
		return rc;
	}
	if (!r->started) {
		if (r->delim != 0)
			return start(r) == 0 ? feed_lines(r, data, len) : -1;
		/* Detecting: collect the first line, then replay it. */
		size_t first = line_len(data, len);
		const char *nl = first > 0 && (data[first - 1] == '\n' ||
		    data[first - 1] == '\r') ? data + first - 1 : NULL;
		if (strbuf_add(&r->head, data, first) != 0) {
			fail(r, "out of memory");
			return -1;
		}
		if (nl == NULL) {
			if (r->head.len > CSVREAD_MAX_FIELD) {
				fail(r, "the header line is too long");
				return -1;
			}
			return 0;
		}
		r->delim = detect(r->head.buf, r->head.len);
		if (start(r) != 0 || feed_lines(r, r->head.buf,
		    r->head.len) != 0)
			return -1;
		strbuf_release(&r->head);
		size_t used = (size_t)(nl - data) + 1;
		return feed_lines(r, data + used, len - used);
	}
	return feed_lines(r, data, len);
}

int
csvread_finish(struct csvread *r)
{
	if (r->stop)
		return -1;
	if (!r->bom_checked || !r->started) {
		/* Everything is still held back: a one-line file. */
		if (r->delim == 0)
			r->delim = detect(r->head.buf, r->head.len);
		struct strbuf held = r->head;
		size_t skip = held.len >= 3 &&
		    memcmp(held.buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
		strbuf_init(&r->head);
		r->bom_checked = true;
		int rc = start(r) == 0 ? feed_lines(r, held.buf + skip,
		    held.len - skip) : -1;
		strbuf_release(&held);
		if (rc != 0)
			return -1;
	}
	if (csv_fini(&r->p, on_field, on_record, r) != 0 && !r->stop) {
		r->error_line = r->rec_line;
		snprintf(r->error, sizeof(r->error), "a quoted field is never "
		    "closed (unterminated quote)");
		r->stop = true;
	}
	return r->stop ? -1 : 0;
}

const char *
csvread_error(const struct csvread *r)
{
	return r->error;
}

long
csvread_error_line(const struct csvread *r)
{
	return r->error_line;
}

char
csvread_delimiter(const struct csvread *r)
{
	return r->started ? r->delim : 0;
}
