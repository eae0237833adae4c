#include "certrack/apifields.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/value.h"

static const char *
type_name(enum field_type t)
{
	switch (t) {
	case FT_STRING: return "a non-empty string";
	case FT_ID: return "a positive whole number";
	case FT_INT: return "a whole number";
	case FT_NUMBER: return "a number of at least 0";
	case FT_SCORE: return "a number";
	case FT_DATE: return "a date written YYYY-MM-DD";
	case FT_STATE: return "a two-letter state code";
	case FT_BOOL: return "true or false";
	}
	return "?";
}

bool
api_date_valid(const char *s)
{
	char iso[VALUE_DATE_LEN];

	return value_date(s, VALUE_DATE_ISO, iso, NULL) == 0;
}

static bool
type_ok(const json_t *v, enum field_type t)
{
	switch (t) {
	case FT_STRING:
		return json_is_string(v) && !value_blank(json_string_value(v));
	case FT_ID:
		return json_is_integer(v) && json_integer_value(v) >= 1;
	case FT_INT:
		return json_is_integer(v);
	case FT_NUMBER:
		return (json_is_integer(v) && json_integer_value(v) >= 0) ||
		    (json_is_real(v) && isfinite(json_real_value(v)) &&
		    json_real_value(v) >= 0);
	case FT_SCORE:
		return json_is_number(v);
	case FT_DATE:
	case FT_STATE:
		return json_is_string(v);
	case FT_BOOL:
		return json_is_boolean(v);
	}
	return false;
}

/*
 * The shared value readers (lib/value.c) on a field whose JSON type is
 * right: its length against the one table of limits, and dates, states
 * and scores read as the CLI and an import read them.  A license state is
 * stored upper-case, so the body gets its one spelling in place.
 */
static int
value_ok(json_t *body, const struct field *f, json_t *v, struct cterr *err)
{
	struct value_err ve;
	char text[32], buf[32];
	int rc = 0;

	switch (f->type) {
	case FT_STRING:
		rc = value_text(f->name, json_string_value(v), &ve);
		break;
	case FT_DATE:
		rc = value_date(json_string_value(v), VALUE_DATE_ISO, buf, &ve);
		break;
	case FT_STATE:
		rc = value_state(json_string_value(v), buf, &ve);
		if (rc == 0 && json_object_set_new(body, f->name,
		    json_string(buf)) != 0)
			return cterr_set(err, 500, "internal", NULL,
			    "out of memory");
		break;
	case FT_SCORE:
		rc = value_score(f->name, api_text(body, f->name, text, sizeof(text)),
		    buf, &ve);
		break;
	default:
		break;
	}
	if (rc != 0)
		return cterr_set(err, 422, ve.code, f->name, "%s", ve.detail);
	return 0;
}

int
api_fields(json_t *body, const struct field *fields, size_t n,
    struct cterr *err)
{
	const char *key;
	json_t *v;

	if (body == NULL) {
		for (size_t i = 0; i < n; i++)
			if (fields[i].required)
				return cterr_set(err, 400, "missing_body", NULL,
				    "the request needs a JSON object body");
		return 0;
	}
	json_object_foreach(body, key, v) {
		size_t i;
		for (i = 0; i < n; i++)
			if (strcmp(fields[i].name, key) == 0)
				break;
		if (i == n)
			return cterr_set(err, 400, "unknown_field", key,
			    "unknown field '%s'", key);
	}
	for (size_t i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		v = json_object_get(body, f->name);
		if (v == NULL) {
			if (f->required)
				return cterr_set(err, 422, "missing_field",
				    f->name, "the field '%s' is required",
				    f->name);
			continue;
		}
		if (json_is_null(v)) {
			if (!f->nullable || f->required)
				return cterr_set(err, 422, "null_field",
				    f->name, "the field '%s' may not be null",
				    f->name);
			continue;
		}
		if (!type_ok(v, f->type))
			return cterr_set(err, 422, "wrong_type", f->name,
			    "the field '%s' must be %s", f->name,
			    type_name(f->type));
		if (value_ok(body, f, v, err) != 0)
			return -1;
	}
	return 0;
}

bool
api_has(const json_t *body, const char *name)
{
	return body != NULL && json_object_get(body, name) != NULL;
}

const char *
api_text(const json_t *body, const char *name, char *buf, size_t len)
{
	json_t *v = body ? json_object_get(body, name) : NULL;

	if (v == NULL || json_is_null(v))
		return NULL;
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		return buf;
	}
	if (json_is_real(v)) {
		/* The shortest text that reads back as the same double, so
		 * 87.5 stays "87.5" rather than 87.500000000000000. */
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(buf, len, "%.*g", prec, json_real_value(v));
			char *end;
			if (strtod(buf, &end) == json_real_value(v))
				break;
		}
		return buf;
	}
	if (json_is_boolean(v))
		return json_is_true(v) ? "true" : "false";
	return NULL;
}
