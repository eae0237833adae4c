/*
 * JSON body field checking: server/apifields.c's api_fields(), api_text()
 * and api_has() on a body parsed as http.c parses it, with the field
 * lists of real handlers; and lib/value.c's readers on every string in
 * it (or on the whole input when it is not JSON).  What must hold: an
 * accepted body has every required field, not null, and api_text() gives
 * each present one as text; a license state is left upper-case; a
 * refusal is 400 or 422 naming a code, its sentence valid UTF-8 (it goes
 * back as JSON); a reader's output reads back as itself.
 *
 * Input: byte 0 picks the field list; the rest is the body.
 */
#include "fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "certrack/apifields.h"
#include "certrack/value.h"

static const char T[] = "json";

/* The field lists of POST /v1/clinicians, POST /v1/exam-results,
 * PATCH /v1/levels/{id}, POST /v1/sessions and PATCH /v1/users/{id}
 * (server/api_*.c): between them every field type, required, optional
 * and nullable. */
static const struct field clinician[] = {
	{ "npi", FT_STRING, false, true },
	{ "email", FT_STRING, true, false },
	{ "given_name", FT_STRING, true, false },
	{ "family_name", FT_STRING, true, false },
	{ "profession", FT_STRING, true, false },
	{ "license_state", FT_STATE, false, true },
	{ "license_number", FT_STRING, false, true },
	{ "version", FT_ID, false, false },
};
static const struct field result[] = {
	{ "clinician_id", FT_ID, true, false },
	{ "level", FT_STRING, true, false },
	{ "kind", FT_STRING, true, false },
	{ "score", FT_SCORE, true, false },
	{ "max_score", FT_SCORE, true, false },
	{ "taken_on", FT_DATE, true, false },
	{ "attempt", FT_ID, false, false },
};
static const struct field level[] = {
	{ "written_pass_mark", FT_NUMBER, false, false },
	{ "practical_pass_mark", FT_NUMBER, false, false },
	{ "max_attempts", FT_INT, false, false },
	{ "retake_wait_days", FT_INT, false, false },
	{ "contact_hours", FT_NUMBER, false, false },
	{ "title", FT_STRING, false, false },
};
static const struct field session[] = {
	{ "level", FT_STRING, true, false },
	{ "starts_on", FT_DATE, true, false },
	{ "ends_on", FT_DATE, true, false },
	{ "location", FT_STRING, false, true },
	{ "instructor", FT_STRING, false, true },
};
static const struct field user[] = {
	{ "role", FT_STRING, false, false },
	{ "disabled", FT_BOOL, false, false },
	{ "reset_password", FT_BOOL, false, false },
	{ "clinician_id", FT_ID, false, true },
};
static const struct {
	const struct field *f;
	size_t n;
} lists[] = {
	{ clinician, sizeof(clinician) / sizeof(clinician[0]) },
	{ result, sizeof(result) / sizeof(result[0]) },
	{ level, sizeof(level) / sizeof(level[0]) },
	{ session, sizeof(session) / sizeof(session[0]) },
	{ user, sizeof(user) / sizeof(user[0]) },
};
#define NLISTS (sizeof(lists) / sizeof(lists[0]))

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
	json_error_t jerr;
	json_t *body;

	if (size < 1)
		return 0;
	/* As http.c's parse_body() reads a request's body. */
	body = json_loadb((const char *)data + 1, size - 1,
	    JSON_REJECT_DUPLICATES, &jerr);
	if (json_is_object(body)) {
		check_body(body, lists[data[0] % NLISTS].f,
		    lists[data[0] % NLISTS].n);
	} else if (body == NULL) {
		char *s = fuzz_cstring(data + 1, size - 1);
		json_t *j = json_stringn((const char *)data + 1, size - 1);
		readers(data[0] % 2 ? "score" : "email", s, j != NULL);
		json_decref(j);
		free(s);
	}
	json_decref(body);
	return 0;
}

FUZZ_ENTRY(fuzz_json)
