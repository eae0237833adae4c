/*
 * `certrack status [CLINICIAN]`: a clinician's whole picture, printed
 * like a transcript: who, then per program whether the credential is held,
 * and per level the coursework, every exam attempt, what is left and the
 * certificate.  A clinician account without an operand sees its own.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"

/* "DC, DO, MD" from a JSON array of strings. */
static void
join(const json_t *arr, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *v;

	buf[0] = '\0';
	json_array_foreach(arr, i, v) {
		const char *s = json_string_value(v);
		int n;

		if (s == NULL)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? ", " : "", s);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

static void
print_course(const json_t *lv)
{
	const json_t *e = json_object_get(lv, "enrollment");
	const json_t *s = json_object_get(e, "session");
	char b[4][64], line[400];
	const char *status = json_string_value(json_object_get(e, "status"));

	if (!json_is_object(e) || status == NULL) {
		printf("    %-12s %s\n", "course", "not enrolled");
		return;
	}
	if (strcmp(status, "completed") == 0)
		snprintf(line, sizeof(line), "completed on %s",
		    cli_jstr(e, "completed_on", b[0], 64));
	else if (strcmp(status, "withdrawn") == 0)
		snprintf(line, sizeof(line), "withdrawn (enrolled %.10s)",
		    cli_jstr(e, "enrolled_at", b[0], 64));
	else
		snprintf(line, sizeof(line), "enrolled since %.10s, not "
		    "completed yet", cli_jstr(e, "enrolled_at", b[0], 64));
	printf("    %-12s %s (enrollment %s)\n", "course", line,
	    cli_jstr(e, "id", b[3], 64));
	if (json_is_object(s)) {
		const json_t *loc = json_object_get(s, "location");

		printf("    %-12s session %s, %s to %s%s%s\n", "",
		    cli_jstr(s, "id", b[0], 64),
		    cli_jstr(s, "starts_on", b[1], 64),
		    cli_jstr(s, "ends_on", b[2], 64),
		    json_is_string(loc) ? ", " : "",
		    json_is_string(loc) ? json_string_value(loc) : "");
	}
}

static void
print_exam(const char *kind, const json_t *x)
{
	char b[6][64], line[300];
	json_t *a;
	size_t i;
	json_int_t used = cli_jint(x, "attempts_used");
	json_int_t left = cli_jint(x, "attempts_left");
	json_int_t maxa = cli_jint(x, "max_attempts");

	if (!json_is_object(x)) {
		printf("    %-12s -\n", kind);
		return;
	}
	if (json_is_true(json_object_get(x, "passed")))
		snprintf(line, sizeof(line), "passed (pass mark %s%%)",
		    cli_jstr(x, "pass_mark", b[0], 64));
	else if (used == 0)
		snprintf(line, sizeof(line), "not taken (pass mark %s%%, %"
		    JSON_INTEGER_FORMAT " attempts allowed)",
		    cli_jstr(x, "pass_mark", b[0], 64), maxa);
	else if (left == 0)
		snprintf(line, sizeof(line), "not passed: all %"
		    JSON_INTEGER_FORMAT " attempts used", maxa);
	else
		snprintf(line, sizeof(line), "not passed yet: %"
		    JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT
		    " attempts left%s%s", left, maxa,
		    json_is_string(json_object_get(x, "next_allowed_on")) ?
		    ", next from " : "",
		    json_is_string(json_object_get(x, "next_allowed_on")) ?
		    json_string_value(json_object_get(x, "next_allowed_on")) :
		    "");
	printf("    %-12s %s\n", kind, line);
	json_array_foreach(json_object_get(x, "attempts"), i, a) {
		printf("    %-12s attempt %s  %s  %s/%s  %s%%  %s%s\n", "",
		    cli_jstr(a, "attempt", b[0], 64),
		    cli_jstr(a, "taken_on", b[1], 64),
		    cli_jstr(a, "score", b[2], 64),
		    cli_jstr(a, "max_score", b[3], 64),
		    cli_jstr(a, "percent", b[4], 64),
		    json_is_true(json_object_get(a, "passed")) ? "passed" :
		    "failed",
		    json_is_true(json_object_get(a, "amended")) ?
		    " (amended)" : "");
	}
}

static void
print_certificate(const json_t *c)
{
	char b[6][64];
	const char *status;

	if (!json_is_object(c)) {
		printf("    %-12s none\n", "certificate");
		return;
	}
	status = json_string_value(json_object_get(c, "status"));
	printf("    %-12s %s  %s, issued %s, %s %s\n", "certificate",
	    cli_jstr(c, "number", b[0], 64), status ? status : "?",
	    cli_jstr(c, "issued_on", b[1], 64),
	    status && strcmp(status, "expired") == 0 ? "expired" : "expires",
	    json_is_null(json_object_get(c, "expires_on")) ? "never" :
	    cli_jstr(c, "expires_on", b[2], 64));
	if (status != NULL && strcmp(status, "revoked") == 0)
		printf("    %-12s revoked on %s: %s\n", "",
		    cli_jstr(c, "revoked_on", b[3], 64),
		    cli_jstr(c, "revocation_category", b[4], 64));
	if (json_is_string(json_object_get(c, "replaces")))
		printf("    %-12s in place of %s\n", "",
		    cli_jstr(c, "replaces", b[3], 64));
}

/* Where a level stands, in a word or three. */
static const char *
level_state(const json_t *lv)
{
	const json_t *c = json_object_get(lv, "certificate");
	const json_t *e = json_object_get(lv, "enrollment");
	const char *s = json_string_value(json_object_get(c, "status"));
	const char *es = json_string_value(json_object_get(e, "status"));

	if (s != NULL && strcmp(s, "valid") == 0)
		return "certified";
	if (s != NULL && strcmp(s, "expired") == 0)
		return "certificate expired";
	if (s != NULL && strcmp(s, "revoked") == 0)
		return "certificate revoked";
	if (es == NULL || strcmp(es, "withdrawn") == 0)
		return "not started";
	return "in progress";
}

static void
print_status(const json_t *st)
{
	const json_t *c = json_object_get(st, "clinician");
	const json_t *prof = json_object_get(c, "profession");
	const json_t *lic = json_object_get(c, "license");
	char name[256], b[8][64], list[256];
	const json_t *p, *lv;
	size_t i, j;

	cli_full_name(c, name, sizeof(name));
	printf("%s, %s (%s)\n", name, cli_jstr(prof, "name", b[0], 64),
	    cli_jstr(prof, "code", b[1], 64));
	if (json_is_string(json_object_get(lic, "number")))
		snprintf(list, sizeof(list), "license %s %s",
		    cli_jstr(lic, "state", b[3], 64),
		    cli_jstr(lic, "number", b[4], 64));
	else
		snprintf(list, sizeof(list), "no license on file");
	printf("clinician %s; NPI %s; %s; %s\n",
	    cli_jstr(c, "id", b[0], 64), json_is_string(json_object_get(c,
	    "npi")) ? json_string_value(json_object_get(c, "npi")) :
	    "none on file", cli_jstr(c, "email", b[2], 64), list);
	printf("status as of %s\n", cli_jstr(st, "as_of", b[0], 64));
	json_array_foreach(json_object_get(st, "programs"), i, p) {
		bool held = json_is_true(json_object_get(p, "credential_held"));

		printf("\n%s (%s)\n  credential: %s, %s\n",
		    cli_jstr(p, "name", b[0], 64),
		    cli_jstr(p, "code", b[1], 64),
		    cli_jstr(p, "credential_title", b[2], 64),
		    held ? "HELD" : "not held");
		join(json_object_get(p, "eligible_professions"), list,
		    sizeof(list));
		if (json_is_true(json_object_get(p, "eligible")))
			printf("  eligible to enroll\n");
		else
			printf("  NOT eligible to enroll: eligible professions "
			    "are %s\n", list[0] ? list : "none");
		json_array_foreach(json_object_get(p, "levels"), j, lv) {
			const json_t *ex = json_object_get(lv, "exams");

			join(json_object_get(lv, "prerequisites"), list,
			    sizeof(list));
			printf("\n  %s  %s%s%s%s: %s\n",
			    cli_jstr(lv, "code", b[0], 64),
			    cli_jstr(lv, "title", b[1], 64),
			    list[0] ? " (requires " : "", list,
			    list[0] ? ")" : "", level_state(lv));
			print_course(lv);
			print_exam("written", json_object_get(ex, "written"));
			print_exam("practical", json_object_get(ex,
			    "practical"));
			print_certificate(json_object_get(lv, "certificate"));
		}
	}
}

int
cli_cmd_status(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	struct cli_error err;
	char path[64];
	long long id;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 0, 1, "CLINICIAN") != 0)
		return CLI_EXIT_USAGE;
	if (optind < argc) {
		if (cli_arg_id(ctx, "clinician", argv[optind], &id) != 0)
			return CLI_EXIT_USAGE;
	} else if (cli_own_clinician(ctx, &id, &err) != 0) {
		return cli_error_report(ctx, &err);
	}
	snprintf(path, sizeof(path), "/v1/clinicians/%lld/status", id);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	rc = CLI_EXIT_OK;
	if (ctx->json)
		rc = cli_print_json(ctx, &resp);
	else if (!ctx->quiet)
		print_status(resp.json);
	cli_response_release(&resp);
	return rc;
}
