/*
 * `certrack clinicians add|show|list|search|update`.  An update reads the
 * clinician first to learn its version and sends it as If-Match, so a
 * change someone made in between is refused by the server and reported,
 * never overwritten.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"

enum {
	OPT_GIVEN = CLI_OPT_CMD, OPT_FAMILY, OPT_EMAIL, OPT_PROFESSION,
	OPT_NPI, OPT_STATE, OPT_LICENSE, OPT_VERSION, OPT_LIMIT, OPT_OFFSET,
	OPT_SEARCH,
	/* the directory's fields (update only) */
	OPT_LISTED, OPT_PCITY, OPT_PSTATE, OPT_PZIP, OPT_PCONTACT,
};

/* The fields a clinician is made of, as options. */
#define CLINICIAN_LONGOPTS \
	{ "given", required_argument, NULL, OPT_GIVEN }, \
	{ "given-name", required_argument, NULL, OPT_GIVEN }, \
	{ "family", required_argument, NULL, OPT_FAMILY }, \
	{ "family-name", required_argument, NULL, OPT_FAMILY }, \
	{ "email", required_argument, NULL, OPT_EMAIL }, \
	{ "profession", required_argument, NULL, OPT_PROFESSION }, \
	{ "npi", required_argument, NULL, OPT_NPI }, \
	{ "license-state", required_argument, NULL, OPT_STATE }, \
	{ "license-number", required_argument, NULL, OPT_LICENSE }

/* Sets BODY's member for a clinician option C; 1 when C is not one, -1
 * (reported) when the value is refused.  For updates (CLEARABLE) an empty
 * value of an optional field clears it.  A license state is read as the
 * API and imports read it, and sent upper-case. */
static int
clinician_field(const struct cli_ctx *ctx, json_t *body, int c,
    const char *arg, bool clearable)
{
	char state[4];

	static const struct { int opt; const char *key; bool optional; }
	    map[] = {
		{ OPT_GIVEN, "given_name", false },
		{ OPT_FAMILY, "family_name", false },
		{ OPT_EMAIL, "email", false },
		{ OPT_PROFESSION, "profession", false },
		{ OPT_NPI, "npi", true },
		{ OPT_STATE, "license_state", true },
		{ OPT_LICENSE, "license_number", true },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].opt != c)
			continue;
		if (clearable && map[i].optional && *arg == '\0') {
			json_object_set_new(body, map[i].key, json_null());
			return 0;
		}
		if (c == OPT_STATE) {
			if (cli_arg_state(ctx, "--license-state", arg,
			    state) != 0)
				return -1;
			arg = state;
		}
		json_object_set_new(body, map[i].key, json_string(arg));
		return 0;
	}
	return 1;
}

/* The summary of one clinician, as `clinicians show` prints it. */
static void
print_clinician(const json_t *c)
{
	char b[64], name[256], lic[128];

	cli_full_name(c, name, sizeof(name));
	cli_kv("clinician:", cli_jstr(c, "id", b, sizeof(b)));
	cli_kv("name:", name);
	cli_kv("profession:", cli_jstr(c, "profession", b, sizeof(b)));
	cli_kv("email:", cli_jstr(c, "email", b, sizeof(b)));
	cli_kv("NPI:", cli_jstr(c, "npi", b, sizeof(b)));
	if (json_is_string(json_object_get(c, "license_state")) ||
	    json_is_string(json_object_get(c, "license_number"))) {
		char s[8];
		snprintf(lic, sizeof(lic), "%s %s",
		    cli_jstr(c, "license_state", s, sizeof(s)),
		    cli_jstr(c, "license_number", b, sizeof(b)));
		cli_kv("license:", lic);
	} else {
		cli_kv("license:", "-");
	}
	cli_kv("version:", cli_jstr(c, "version", b, sizeof(b)));
	cli_kv("created:", cli_jtime(c, "created_at", b, sizeof(b)));
	cli_kv("updated:", cli_jtime(c, "updated_at", b, sizeof(b)));
}

static int
finish(struct cli_ctx *ctx, struct cli_response *resp, const char *said)
{
	int rc = CLI_EXIT_OK;

	if (ctx->json)
		rc = cli_print_json(ctx, resp);
	else if (!ctx->quiet) {
		if (said != NULL)
			printf("%s\n", said);
		print_clinician(resp->json);
	}
	cli_response_release(resp);
	return rc;
}

static int
cmd_add(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CLINICIAN_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	static const char *const required[] = { "given_name", "family_name",
	    "email", "profession" };
	static const char *const flag[] = { "--given", "--family", "--email",
	    "--profession" };
	struct cli_response resp;
	struct cli_error err;
	char said[300], name[256];
	json_t *body = json_object();
	int c, rc;

	if (body == NULL)
		return CLI_EXIT_FAILURE;
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			goto out;
		if (clinician_field(ctx, body, c, optarg, false) < 0) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	rc = CLI_EXIT_USAGE;
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		goto out;
	for (size_t i = 0; i < 4; i++)
		if (json_object_get(body, required[i]) == NULL) {
			cli_usage_error(ctx, "missing %s", flag[i]);
			goto out;
		}
	cli_full_name(body, name, sizeof(name));
	if (cli_call(ctx, "POST", "/v1/clinicians", body, NULL, &resp,
	    &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot add '%s'", name);
		goto out;
	}
	snprintf(said, sizeof(said), "added clinician %" JSON_INTEGER_FORMAT
	    ": %s", cli_jint(resp.json, "id"), name);
	rc = finish(ctx, &resp, said);
out:
	json_decref(body);
	return rc;
}

static int
cmd_show(struct cli_ctx *ctx, int argc, char **argv)
{
	struct cli_response resp;
	struct cli_error err;
	long long id;
	char path[64];
	int rc;

	if (cli_no_options(ctx, argc, argv, &rc) != 0)
		return rc;
	if (cli_operands(ctx, argc, argv, 1, 1, "CLINICIAN (an id)") != 0 ||
	    cli_arg_id(ctx, "clinician", argv[optind], &id) != 0)
		return CLI_EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0)
		return cli_error_report(ctx, &err);
	return finish(ctx, &resp, NULL);
}

static void
clinician_row(struct cli_table *t, const json_t *it)
{
	char id[24], name[256], prof_s[16], mail[256], npi_s[16];
	char lic[128], st[8], num[96];

	cli_full_name(it, name, sizeof(name));
	if (json_is_string(json_object_get(it, "license_number")))
		snprintf(lic, sizeof(lic), "%s %s",
		    cli_jstr(it, "license_state", st, sizeof(st)),
		    cli_jstr(it, "license_number", num, sizeof(num)));
	else
		snprintf(lic, sizeof(lic), "-");
	cli_table_add(t, cli_jstr(it, "id", id, sizeof(id)), name,
	    cli_jstr(it, "profession", prof_s, sizeof(prof_s)),
	    cli_jstr(it, "email", mail, sizeof(mail)),
	    cli_jstr(it, "npi", npi_s, sizeof(npi_s)), lic);
}

static int
cmd_list(struct cli_ctx *ctx, int argc, char **argv)
{
	static const char *const head[] = { "ID", "NAME", "PROFESSION",
	    "EMAIL", "NPI", "LICENSE" };
	static const struct cli_list list = { "items", "id",
	    "no clinicians match", 6, head, clinician_row };
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "search", required_argument, NULL, OPT_SEARCH },
		{ "email", required_argument, NULL, OPT_EMAIL },
		{ "npi", required_argument, NULL, OPT_NPI },
		{ "profession", required_argument, NULL, OPT_PROFESSION },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 },
	};
	const char *search = NULL, *email = NULL, *npi = NULL, *prof = NULL;
	const char *limit = NULL, *offset = NULL;
	bool is_search = strcmp(argv[0], "search") == 0;
	struct cli_response resp;
	long long n;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		switch (c) {
		case CLI_GETOPT_STOP:
			return rc;
		case OPT_SEARCH: search = optarg; break;
		case OPT_EMAIL: email = optarg; break;
		case OPT_NPI: npi = optarg; break;
		case OPT_PROFESSION: prof = optarg; break;
		case OPT_LIMIT:
			if (cli_arg_int(ctx, "--limit", optarg, 1, 500,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			limit = optarg;
			break;
		case OPT_OFFSET:
			if (cli_arg_int(ctx, "--offset", optarg, 0,
			    (1LL << 40), &n) != 0)
				return CLI_EXIT_USAGE;
			offset = optarg;
			break;
		}
	}
	if (is_search) {
		if (cli_operands(ctx, argc, argv, 1, 1, "the TEXT to search "
		    "for") != 0)
			return CLI_EXIT_USAGE;
		search = argv[optind];
	} else if (cli_operands(ctx, argc, argv, 0, 0, "") != 0) {
		return CLI_EXIT_USAGE;
	}
	if (search != NULL && (*search == '\0' ||
	    strpbrk(search, "%_\\") != NULL))
		return cli_usage_error(ctx, "the search text may not be empty "
		    "or contain %%, _ or \\");

	static const char *const names[] = { "q", "email", "npi",
	    "profession", "limit", "offset" };
	const char *values[] = { search, email, npi, prof, limit, offset };
	if (cli_get_query(ctx, "/v1/clinicians", 6, names, values, false,
	    &resp, &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}

static int
cmd_update(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		CLINICIAN_LONGOPTS,
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "listed", required_argument, NULL, OPT_LISTED },
		{ "practice-city", required_argument, NULL, OPT_PCITY },
		{ "practice-state", required_argument, NULL, OPT_PSTATE },
		{ "practice-zip", required_argument, NULL, OPT_PZIP },
		{ "public-contact", required_argument, NULL, OPT_PCONTACT },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const dir_what[] = { "listed", "city", "state",
	    "zip", "contact" };
	struct cli_response resp;
	struct cli_error err;
	long long id, version = 0;
	char path[64], ifmatch[64], name[256], said[320];
	const char *headers[2] = { ifmatch, NULL };
	json_t *body = json_object();
	int c, rc;

	if (body == NULL)
		return CLI_EXIT_FAILURE;
	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			goto out;
		if (c == OPT_VERSION) {
			if (cli_arg_id(ctx, "--version", optarg,
			    &version) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			continue;
		}
		if (c >= OPT_LISTED && c <= OPT_PCONTACT) {
			if (cli_directory_field(ctx, body, dir_what[c -
			    OPT_LISTED], optarg) != 0) {
				rc = CLI_EXIT_USAGE;
				goto out;
			}
			continue;
		}
		if (clinician_field(ctx, body, c, optarg, true) < 0) {
			rc = CLI_EXIT_USAGE;
			goto out;
		}
	}
	rc = CLI_EXIT_USAGE;
	if (cli_operands(ctx, argc, argv, 1, 1, "CLINICIAN (an id)") != 0 ||
	    cli_arg_id(ctx, "clinician", argv[optind], &id) != 0)
		goto out;
	if (json_object_size(body) == 0) {
		cli_usage_error(ctx, "say what to change (--email, --given, "
		    "--family, --profession, --npi, --license-state, "
		    "--license-number, --listed, --practice-city, "
		    "--practice-state, --practice-zip, --public-contact)");
		goto out;
	}
	snprintf(path, sizeof(path), "/v1/clinicians/%lld", id);
	snprintf(name, sizeof(name), "clinician %lld", id);
	/* The version this change is based on: the one named, else the
	 * one there now.  Either way the server refuses the change when
	 * the record moved on meanwhile. */
	if (version == 0) {
		if (cli_call(ctx, "GET", path, NULL, NULL, &resp, &err) != 0) {
			rc = cli_error_report(ctx, &err);
			goto out;
		}
		version = cli_jint(resp.json, "version");
		cli_full_name(resp.json, name, sizeof(name));
		cli_response_release(&resp);
	}
	snprintf(ifmatch, sizeof(ifmatch), "If-Match: \"%lld\"", version);
	if (cli_call(ctx, "PATCH", path, body, headers, &resp, &err) != 0) {
		rc = cli_error_reportf(ctx, &err, "cannot update '%s'", name);
		goto out;
	}
	cli_full_name(resp.json, name, sizeof(name));
	snprintf(said, sizeof(said), "updated clinician %lld: %s (version %"
	    JSON_INTEGER_FORMAT ")", id, name, cli_jint(resp.json, "version"));
	rc = finish(ctx, &resp, said);
out:
	json_decref(body);
	return rc;
}

int
cli_cmd_clinicians(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{ "add", cmd_add },
		{ "show", cmd_show },
		{ "list", cmd_list },
		{ "search", cmd_list },
		{ "update", cmd_update },
	};

	return cli_dispatch(ctx, argc, argv, subs,
	    sizeof(subs) / sizeof(subs[0]));
}
