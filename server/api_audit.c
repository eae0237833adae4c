/* The audit log, for admins: every write, who, when, before and after. */
#include "certrack/api.h"

#include <stdio.h>
#include <string.h>

#include "certrack/apiutil.h"
#include "certrack/db.h"

static const struct db_stmt q_list = {
	"audit_list",
	"WITH m AS ("
	"  SELECT a.* FROM audit_log a"
	"   WHERE ($1::text IS NULL OR a.entity = $1)"
	"     AND ($2::text IS NULL OR a.entity_id = $2)"
	"     AND ($3::text IS NULL OR lower(a.actor_name) = lower($3))"
	"     AND ($4::text IS NULL OR a.action = $4)"
	"     AND ($5::date IS NULL OR a.at >= $5::date)"
	"     AND ($6::date IS NULL OR a.at < $6::date + 1)"
	"     AND ($7::text IS NULL"
	"          OR (a.entity = 'clinician' AND a.entity_id = $7)"
	"          OR a.after ->> 'clinician_id' = $7"
	"          OR a.before ->> 'clinician_id' = $7)"
	") SELECT json_build_object('total', (SELECT count(*) FROM m),"
	"  'limit', $8::int, 'offset', $9::bigint,"
	"  'items', coalesce((SELECT json_agg(json_build_object("
	"    'id', p.id, 'at', p.at, 'actor_id', p.actor_id,"
	"    'actor', p.actor_name, 'action', p.action, 'entity', p.entity,"
	"    'entity_id', p.entity_id, 'before', p.before, 'after', p.after,"
	"    'request_id', p.request_id, 'import_id', p.import_id)"
	"   ORDER BY p.id DESC)"
	"   FROM (SELECT * FROM m ORDER BY id DESC LIMIT $8 OFFSET $9) p),"
	"   '[]'))::text",
	9,
};

int
api_audit_list(struct request *req)
{
	static const char *const dates[] = { "since", "until" };
	char limit_s[24], offset_s[24];
	const char *params[9];
	long long limit, offset, clinician;
	char clinician_s[24];

	if (api_query_int(req, "limit", 1, 1000, 100, &limit, &req->err) != 0 ||
	    api_query_int(req, "offset", 0, 1LL << 40, 0, &offset,
	    &req->err) != 0 ||
	    api_query_int(req, "clinician", 1, 1LL << 62, 0, &clinician,
	    &req->err) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		const char *d = http_query(req, dates[i]);
		if (d != NULL && !api_date_valid(d))
			return cterr_set(&req->err, 400, "invalid_parameter",
			    dates[i], "the parameter '%s' must be a date "
			    "written YYYY-MM-DD, not '%s'", dates[i], d);
	}
	snprintf(limit_s, sizeof(limit_s), "%lld", limit);
	snprintf(offset_s, sizeof(offset_s), "%lld", offset);
	snprintf(clinician_s, sizeof(clinician_s), "%lld", clinician);
	params[0] = http_query(req, "entity");
	params[1] = http_query(req, "entity_id");
	params[2] = http_query(req, "actor");
	params[3] = http_query(req, "action");
	params[4] = http_query(req, "since");
	params[5] = http_query(req, "until");
	params[6] = clinician > 0 ? clinician_s : NULL;
	params[7] = limit_s;
	params[8] = offset_s;
	return api_reply_query(req, &q_list, params, "not_found", "");
}
