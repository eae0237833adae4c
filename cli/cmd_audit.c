/*
 * `certrack audit`: the audit log, newest first, filtered by clinician,
 * actor, action, entity and dates (admins only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certrack/cli.h"
#include "certrack/strbuf.h"

enum {
	OPT_CLINICIAN = CLI_OPT_CMD, OPT_ACTOR, OPT_SINCE, OPT_UNTIL,
	OPT_ACTION, OPT_ENTITY, OPT_ID, OPT_LIMIT, OPT_OFFSET,
};

static void
audit_row(struct cli_table *t, const json_t *it)
{
	char id[24], at[64], actor[160], action[64], ent[64], eid[64];
	char entity[160];

	snprintf(entity, sizeof(entity), "%s %s",
	    cli_jstr(it, "entity", ent, sizeof(ent)),
	    cli_jstr(it, "entity_id", eid, sizeof(eid)));
	cli_table_add(t, cli_jstr(it, "id", id, sizeof(id)),
	    cli_jtime(it, "at", at, sizeof(at)),
	    cli_jstr(it, "actor", actor, sizeof(actor)),
	    cli_jstr(it, "action", action, sizeof(action)), entity);
}

int
cli_cmd_audit(struct cli_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_GLOBAL_LONGOPTS,
		{ "clinician", required_argument, NULL, OPT_CLINICIAN },
		{ "actor", required_argument, NULL, OPT_ACTOR },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ "action", required_argument, NULL, OPT_ACTION },
		{ "entity", required_argument, NULL, OPT_ENTITY },
		{ "id", required_argument, NULL, OPT_ID },
		{ "limit", required_argument, NULL, OPT_LIMIT },
		{ "offset", required_argument, NULL, OPT_OFFSET },
		{ NULL, 0, NULL, 0 },
	};
	const char *q[9] = { NULL };
	char since[16], until[16];
	static const char *const names[9] = { "clinician", "actor", "since",
	    "until", "action", "entity", "entity_id", "limit", "offset" };
	static const char *const head[] = { "ID", "AT", "ACTOR", "ACTION",
	    "ENTITY" };
	static const struct cli_list list = { "items", "id",
	    "no audit entries match", 5, head, audit_row };
	struct cli_response resp;
	long long n;
	int c, rc;

	while ((c = cli_getopt(ctx, argc, argv, "", longopts, &rc)) != -1) {
		if (c == CLI_GETOPT_STOP)
			return rc;
		switch (c) {
		case OPT_CLINICIAN:
			if (cli_arg_id(ctx, "--clinician", optarg, &n) != 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_SINCE:
			if (cli_arg_date(ctx, "--since", optarg, since) != 0)
				return CLI_EXIT_USAGE;
			optarg = since;
			break;
		case OPT_UNTIL:
			if (cli_arg_date(ctx, "--until", optarg, until) != 0)
				return CLI_EXIT_USAGE;
			optarg = until;
			break;
		case OPT_LIMIT:
			if (cli_arg_int(ctx, "--limit", optarg, 1, 1000,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			break;
		case OPT_OFFSET:
			if (cli_arg_int(ctx, "--offset", optarg, 0, 1LL << 40,
			    &n) != 0)
				return CLI_EXIT_USAGE;
			break;
		}
		if (c >= OPT_CLINICIAN && c <= OPT_OFFSET)
			q[c - OPT_CLINICIAN] = optarg;
	}
	if (cli_operands(ctx, argc, argv, 0, 0, "") != 0)
		return CLI_EXIT_USAGE;
	if (q[2] != NULL && q[3] != NULL && strcmp(q[3], q[2]) < 0)
		return cli_usage_error(ctx, "--until %s is before --since %s",
		    q[3], q[2]);

	if (cli_get_query(ctx, "/v1/audit", 9, names, q, false, &resp,
	    &rc) != 0)
		return rc;
	rc = cli_list_print(ctx, &list, resp.json);
	cli_response_release(&resp);
	return rc;
}