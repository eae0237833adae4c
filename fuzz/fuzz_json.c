/*
 * JSON body field checking: server/apifields.c's api_fields(), api_text()
 * and api_has() on a body parsed as http.c parses it, with the field
 * lists a handler could declare; and lib/value.c's readers on every string
 * in it (or on the whole input when it is not JSON).  What must hold: an
 * accepted body has every required field, not null, and api_text() gives
 * each present one as text; a license state is left upper-case; a
 * refusal is 400 or 422 naming a code, its sentence valid UTF-8 (it goes
 * back as JSON); a reader's output reads back as itself.
 *
 * Input: byte 0 % 9 is the number of fields N, the next N bytes describe
 * them (field_list()); the rest is the body.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "certrack/apifields.h"
#include "certrack/value.h"

static const char T[] = "json";

/*
 * The field list is the input's: names from the handlers' own (those with
 * a length limit and those without), any type, required or not, nullable
 * or not, so every combination a handler could declare is tried.
 */
static const char *const names[] = {
	"email", "given_name", "family_name", "license_state", "npi",
	"license_number", "title", "reason", "username", "score", "max_score",
	"taken_on", "starts_on", "clinician_id", "version", "disabled",
};
#define NNAMES (sizeof(names) / sizeof(names[0]))
#define MAX_FIELDS 8

/* Fills FIELDS from the descriptor bytes D (one per field: bits 0-3 the
 * name, 4-6 the type, 7 required; nullable when the name's index is odd;
 * a name already declared is skipped, as no handler declares one twice).
 * Returns the number of fields. */
static size_t
field_list(const uint8_t *d, size_t n, struct field *fields)
{
	unsigned used = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned name = d[i] % NNAMES;
		if (used & (1u << name))
			continue;
		used |= 1u << name;
		fields[k].name = names[name];
		fields[k].type = (enum field_type)((d[i] >> 4) % 8);
		fields[k].required = (d[i] & 0x80) != 0;
		fields[k++].nullable = name % 2 == 1;
	}
	return k;
}

/* Valid UTF-8 without NUL, as jansson judges a string. */
static int
utf8(const char *s)
{
	json_t *j = json_string(s);

	json_decref(j);
	return j != NULL;
}

/* Every reader on S, valid UTF-8 when IS_UTF8; FIELD names it. */
static void
readers(const char *field, const char *s, int is_utf8)
{
	struct value_err ve;
	char out[VALUE_SCORE_LEN], again[VALUE_SCORE_LEN];

	for (int form = VALUE_DATE_ISO; form <= VALUE_DATE_TYPED; form++) {
		if (value_date(s, (enum value_date_form)form, out, &ve) == 0) {
			fuzz_require(strlen(out) == 10 && value_date(out,
			    VALUE_DATE_ISO, again, NULL) == 0 &&
			    strcmp(out, again) == 0, T,
			    "a date not read back as itself");
		} else {
			fuzz_require(!is_utf8 || utf8(ve.detail), T,
			    "a date's refusal is not UTF-8");
		}
	}
	if (value_state(s, out, &ve) == 0)
		fuzz_require(strlen(out) == 2 && out[0] >= 'A' &&
		    out[0] <= 'Z' && out[1] >= 'A' && out[1] <= 'Z', T,
		    "a state not two capitals");
	else
		fuzz_require(!is_utf8 || utf8(ve.detail), T,
		    "a state's refusal is not UTF-8");
	if (value_score(field, s, out, &ve) == 0)
		fuzz_require(value_score(field, out, again, NULL) == 0 &&
		    strcmp(out, again) == 0 && strtod(out, NULL) <=
		    VALUE_SCORE_MAX, T, "a score not read back as itself");
	else
		fuzz_require(!is_utf8 || utf8(ve.detail), T,
		    "a score's refusal is not UTF-8");
	if (value_email(s, &ve) != 0)
		fuzz_require(!is_utf8 || utf8(ve.detail), T,
		    "an email's refusal is not UTF-8");
	if (value_text(field, s, &ve) == 0)
		fuzz_require(value_max_len(field) == 0 || value_chars(s) <=
		    (size_t)value_max_len(field), T, "too long, but taken");
}

static void
check_body(json_t *body, const struct field *fields, size_t n)
{
	struct cterr err;
	char buf[64];
	const char *key;
	json_t *v;

	cterr_clear(&err);
	json_object_foreach(body, key, v)
		if (json_is_string(v))
			readers(key, json_string_value(v), 1);
	if (api_fields(body, fields, n, &err) != 0) {
		fuzz_require((err.status == 400 || err.status == 422) &&
		    err.code[0] != '\0', T, "a refusal not 400/422 with a code");
		fuzz_require(utf8(err.detail) && utf8(err.field), T,
		    "a refusal's sentence is not UTF-8");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		const char *t = api_text(body, f->name, buf, sizeof(buf));
		v = json_object_get(body, f->name);
		fuzz_require(api_has(body, f->name) == (v != NULL), T,
		    "api_has() and the body differ");
		if (f->required)
			fuzz_require(v != NULL && !json_is_null(v), T,
			    "accepted without a required field");
		fuzz_require((t != NULL) == (v != NULL && !json_is_null(v)),
		    T, "a present field without text");
		if (f->type == FT_STATE && t != NULL)
			fuzz_require(strlen(t) == 2 && t[0] >= 'A' &&
			    t[0] <= 'Z' && t[1] >= 'A' && t[1] <= 'Z', T,
			    "a state not left upper-case");
	}
}

int
fuzz_json(const uint8_t *data, size_t size)
{
	struct field fields[MAX_FIELDS];
	json_error_t jerr;
	json_t *body;
	size_t nf, skip;

	if (size < 1)
		return 0;
	nf = data[0] % (MAX_FIELDS + 1);
	skip = 1 + nf;
	if (size < skip)
		return 0;
	nf = field_list(data + 1, nf, fields);
	/* As http.c's parse_body() reads a request's body. */
	body = json_loadb((const char *)data + skip, size - skip,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(body)) {
		check_body(body, fields, nf);
	} else if (body == NULL) {
		char *s = fuzz_cstring(data + skip, size - skip);
		json_t *j = json_stringn((const char *)data + skip, size - skip);
		readers(nf > 0 ? fields[0].name : "score", s, j != NULL);
		json_decref(j);
		free(s);
	}
	json_decref(body);
	return 0;
}

FUZZ_ENTRY(fuzz_json)
