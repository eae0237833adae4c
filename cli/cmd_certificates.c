/*
 * `certrack certificates verify NUMBER` (no login needed: employers and
 * state boards use it), `certificates revoke NUMBER --category CATEGORY
 * --note TEXT` (admins), and the staff lists `certificates list` and
 * `certificates expiring --within DAYS`.  A mistyped number is caught here by its check symbol before
 * anything is sent.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/certnum.h"
#include "certrack/cli.h"
#include "certrack/strnum.h"

enum { OPT_CATEGORY = CLI_OPT_CMD, OPT_NOTE, OPT_STATUS, OPT_WITHIN,
    OPT_LEVEL, OPT_FROM, OPT_TO, OPT_CLINICIAN, OPT_LIMIT, OPT_OFFSET };

/* The canonical form of operand ARG in OUT, or -1 after a usage error. */
static int
number_arg(const struct cli_ctx *ctx, const char *arg, char *out)
{
	switch (certnum_normalize(arg, out)) {
	case CERTNUM_OK:
		return 0;
	case CERTNUM_BAD_CHECK:
		cli_usage_error(ctx, "'%s' is not a valid certificate number "
		    "(check the digits)", arg);
		return -1;
	case CERTNUM_MALFORMED:
		break;
	}
	cli_usage_error(ctx, "'%s' is not a valid certificate number (twelve "
	    "letters and digits, written XXXX-XXXX-XXXX)", arg);
	return -1;
}

static void
print_certificate(const json_t *c)
{
	char b[64];
	const char *status = json_string_value(json_object_get(c, "status"));

	printf("certificate %s: %s\n", cli_jstr(c, "number", b, sizeof(b)),
	    status != NULL ? status : "?");
	cli_kv("holder:", cli_jstr(c, "holder", b, sizeof(b)));
	cli_kv("program:", cli_jstr(c, "program", b, sizeof(b)));
	cli_kv("level:", cli_jstr(c, "level", b, sizeof(b)));
	cli_kv("issued:", cli_jstr(c, "issued_on", b, sizeof(b)));
	cli_kv(status && strcmp(status, "expired") == 0 ? "expired:" :
	    "expires:", json_is_null(json_object_get(c, "expires_on")) ?
	    "never" : cli_jstr(c, "expires_on", b, sizeof(b)));
	if (json_object_get(c, "revoked_on") != NULL) {
		cli_kv("revoked:", cli_jstr(c, "revoked_on", b, sizeof(b)));
		cli_kv("category:", cli_jstr(c, "revocation_category", b,
		    sizeof(b)));
		if (json_object_get(c, "revocation_note") != NULL)
			cli_kv("note:", cli_jstr(c, "revocation_note", b,
			    sizeof(b)));
	}
}

static int
cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	struct cli_error err;
	char number[CERTNUM_LEN + 1], path[64];
	const char *status;
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "NUMBER") != 0 ||
	    number_arg(ctx, argv[optind], number) != 0)
		return CLI_EXIT_USAGE;
	if (cli_opts_resolve(ctx, &err) != 0)
		return cli_error_report(ctx, &err);
	/* Verification is public: no token, so a stale one cannot get in
	 * the way, and the server learns nothing about who asked. */
	free(ctx->token);
	ctx->token = NULL;
	snprintf(path, sizeof(path), "/v1/certificates/%s", number);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	status = json_string_value(json_object_get(resp.json, "status"));
	/* Exit 0 only for a valid certificate, so a script can ask. */
	rc = status != NULL && strcmp(status, "valid") == 0 ? CLI_EXIT_OK :
	    CLI_EXIT_REFUSED;
	if (ctx->json) {
		if (cli_print_json(ctx, &resp) != CLI_EXIT_OK)
			rc = CLI_EXIT_FAILURE;
	} else if (!ctx->quiet) {
		print_certificate(resp.json);
	}
	cli_response_release(&resp);
	return rc;
}

static int
cmd_revoke(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "category", required_argument, NULL, OPT_CATEGORY },
		{ "note", required_argument, NULL, OPT_NOTE },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_response resp;
	struct cli_error err;
	char number[CERTNUM_LEN + 1], path[64];
	const char *category = NULL, *note = NULL;
	json_t *body;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		if (c == OPT_CATEGORY)
			category = optarg;
		else if (c == OPT_NOTE)
			note = optarg;
	}
	if (cli_operands(ctx, argc, argv, 1, 1, "NUMBER") != 0 ||
	    number_arg(ctx, argv[optind], number) != 0)
		return CLI_EXIT_USAGE;
	if (category == NULL || category[0] == '\0')
		return cli_usage_error(ctx, "missing --category (issued_in_error, "
		    "exam_result_amended, license_action, misconduct or other)");
	if (note == NULL || note[0] == '\0')
		return cli_usage_error(ctx, "missing --note (a revocation says "
		    "why, for staff)");
	if (cli_confirm(ctx, &err, "revoke certificate %s (%s)", number,
	    category) != 0)
		return cli_error_report(ctx, &err);
	body = json_pack("{s:s, s:s}", "category", category, "note", note);
	if (body == NULL)
		return CLI_EXIT_FAILURE;
	snprintf(path, sizeof(path), "/v1/certificates/%s/revoke", number);
	rc = cli_call(ctx, "POST", path, body, NULL, &resp, &err);
	json_decref(body);
	if (rc != 0)
		return cli_error_reportf(ctx, &err, "cannot revoke certificate "
		    "%s", number);
	rc = CLI_EXIT_OK;
	if (ctx->json)
		rc = cli_print_json(ctx, &resp);
	else if (!ctx->quiet)
		print_certificate(resp.json);
	cli_response_release(&resp);
	return rc;
}

static void
certificate_row(struct cli_table *t, const json_t *it)
{
	char b[6][160];

	cli_table_add(t, cli_jstr(it, "number", b[0], 160),
	    cli_jstr(it, "status", b[1], 160),
	    cli_jstr(it, "holder", b[2], 160),
	    cli_jstr(it, "level_code", b[3], 160),
	    cli_jstr(it, "issued_on", b[4], 160),
	    cli_jstr(it, "expires_on", b[5], 160));
}

/* "60", "60d" or "8w" as days in OUT; -1 after a usage error. */
static int
days_arg(const struct cli_ctx *ctx, const char *arg, char *out)
{
	char num[16];
	size_t n = strlen(arg);
	long long v, mult = 1;

	if (n == 0 || n >= sizeof(num))
		goto bad;
	memcpy(num, arg, n + 1);
	if (num[n - 1] == 'd' || num[n - 1] == 'w') {
		mult = num[n - 1] == 'w' ? 7 : 1;
		num[n - 1] = '\0';
	}
	if (strnum_ll(num, 0, 36600 / mult, &v, NULL) != 0)
		goto bad;
	snprintf(out, 16, "%lld", v * mult);
	return 0;
bad:
	cli_usage_error(ctx, "--within '%s' is not a number of days (60, 60d "
	    "or 8w, at most 36600 days)", arg);
	return -1;
}

/*
 * certificates list [filters] and certificates expiring --within N: a page
 * of GET /v1/certificates, or with --csv the whole list as the server
 * exports it (streamed there, unpaged).
 */
static int
list_certificates(struct cli_ctx *ctx, int argc, char **argv, bool expiring)
{
	static const char *const head[] = { "NUMBER", "STATUS", "HOLDER",
	    "LEVEL", "ISSUED", "EXPIRES" };
	static const struct cli_list list = { "items", "number",
	    "no certificates match", 6, head, certificate_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "status", required_argument, NULL, OPT_STATUS },
		{ "within", required_argument, NULL, OPT_WITHIN },
		{ "level", required_argument, NULL, OPT_LEVEL },
		{ "issued-from", required_argument, NULL, OPT_FROM },
		{ "issued-to", required_argument, NULL, OPT_TO },
		{ "clinician", required_argument, NULL, OPT_CLINICIAN },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const names[] = { "status", "within", "level",
	    "issued_from", "issued_to", "clinician", "limit", "offset",
	    "format" };
	const char *values[9] = { NULL };
	char within[16], from[16], to[16];
	struct cli_response resp;
	long long n;
	int c, rc;

	if (expiring)
		values[0] = "expiring";
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_STATUS:
			if (expiring)
				return cli_usage_error(ctx, "'certificates "
				    "expiring' takes no --status");
			values[0] = optarg;
			break;
		case OPT_WITHIN:
			if (days_arg(ctx, optarg, within) != 0)
				return CLI_EXIT_USAGE;
			values[1] = within;
			break;
		case OPT_LEVEL:
			values[2] = optarg;
			break;
		case OPT_FROM:
			if (cli_arg_date(ctx, "--issued-from", optarg, from) != 0)
				return CLI_EXIT_USAGE;
			values[3] = from;
			break;
		case OPT_TO:
			if (cli_arg_date(ctx, "--issued-to", optarg, to) != 0)
				return CLI_EXIT_USAGE;
			values[4] = to;
			break;
		case OPT_CLINICIAN:
			if (cli_arg_int(ctx, "--clinician", optarg, 1,
			    INT64_MAX, &n) != 0)
				return CLI_EXIT_USAGE;
			values[5] = optarg;
			break;
		case OPT_LIMIT:
			if (cli_arg_int(ctx, "--limit", optarg, 1, 1000,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			values[6] = optarg;
			break;
		case OPT_OFFSET:
			if (cli_arg_int(ctx, "--offset", optarg, 0, 1LL << 31,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			values[7] = optarg;
			break;
		}
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (expiring && values[1] == NULL)
		return cli_usage_error(ctx, "say how soon: --within DAYS (60, "
		    "60d or 8w)");
	if (ctx->csv)		/* the server's own export: every row */
		values[8] = "csv";
	if (cli_get_query(ctx, "/v1/certificates", 9, names, values, false,
	    &resp, &rc) != 0)
		return rc;
	if (ctx->csv)
		rc = cli_print_raw(&resp) == 0 ? CLI_EXIT_OK :
		    CLI_EXIT_FAILURE;
	else
		rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

static int
cmd_renew(struct cli_ctx *ctx, int argc, char **argv)
{
	char number[CERTNUM_LEN + 1];
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "NUMBER") != 0 ||
	    number_arg(ctx, argv[optind], number) != 0)
		return CLI_EXIT_USAGE;
	return cli_renew(ctx, number);
}

static int
cmd_renewal_exam(struct cli_ctx *ctx, int argc, char **argv)
{
	return cli_renewal_exam(ctx, argc, argv, number_arg);
}

static int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	return list_certificates(ctx, argc, argv, false);
}

static int
cmd_expiring(struct cli_ctx *ctx, int argc, char **argv)
{
	return list_certificates(ctx, argc, argv, true);
}

int
cli_cmd_certificates(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "verify", cmd_verify },
		{ "revoke", cmd_revoke },
		{ "list", cmd_list },
		{ "expiring", cmd_expiring },
		{ "renew", cmd_renew },
		{ "renewal-exam", cmd_renewal_exam },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}

int
cli_cmd_verify(struct cli_ctx *ctx, int argc, char **argv)
{
	return cmd_verify(ctx, argc, argv);
}
