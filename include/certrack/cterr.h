#ifndef CERTRACK_CTERR_H
#define CERTRACK_CTERR_H
/*
 * The caller-owned error that functions fill instead of printing: an HTTP
 * status, a stable problem code, the offending field, a SQLSTATE when the
 * database said no, and a human sentence.  One place (http.c) turns it into
 * an RFC 7807 response.
 */
#include <stdbool.h>

struct cterr {
	int status;		/* HTTP status to answer, e.g. 422 */
	char code[48];		/* stable machine code, e.g. "invalid_npi" */
	char field[64];		/* offending field, or "" */
	char sqlstate[6];	/* five-character SQLSTATE, or "" */
	char detail[512];	/* lower-case sentence for people */
	/* One optional extension member of the problem body (RFC 7807
	 * section 3.2), e.g. "next_allowed_on": "2026-03-15"; "" for none.
	 * The value is sent as a JSON string. */
	char extra_key[32];
	char extra_value[64];
	/* Seconds for a Retry-After header (a 503 or 429 worth retrying),
	 * 0 for none; cterr_set() clears it. */
	int retry_after;
};

/* Clears ERR (status 0, empty strings). */
void cterr_clear(struct cterr *err);

/*
 * Fills ERR and returns -1, so `return cterr_set(err, ...);` reads well.
 * FIELD may be NULL.  ERR may be NULL (then nothing is stored).
 */
int cterr_set(struct cterr *err, int status, const char *code,
    const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* True once cterr_set() has filled ERR. */
bool cterr_isset(const struct cterr *err);

#endif
