/*
 * The route table: every route of the API, who may call it, its handler.
 * Authentication and the role check happen in http.c before the handler
 * runs; a clinician asking for another clinician's record is answered 404
 * by the handler (api_may_see_clinician()).
 */
#include "certrack/api.h"

#define STAFF (ROLE_ADMIN | ROLE_GRADER)

const struct route api_routes[] = {
	/* health and metrics: no login */
	{ "GET", "/healthz", ROLE_PUBLIC, api_healthz },
	{ "GET", "/readyz", ROLE_PUBLIC, api_readyz },
	{ "GET", "/metrics", ROLE_PUBLIC, api_metrics },

	/* sessions and accounts */
	{ "POST", "/v1/login", ROLE_PUBLIC, api_login },
	{ "POST", "/v1/logout", ROLE_ANY, api_logout },
	{ "GET", "/v1/me", ROLE_ANY, api_me },
	{ "POST", "/v1/me/password", ROLE_ANY, api_change_password },
	{ "GET", "/v1/users", ROLE_ADMIN, api_users_list },
	{ "POST", "/v1/users", ROLE_ADMIN, api_users_create },
	{ "GET", "/v1/users/{id}", ROLE_ADMIN, api_users_get },
	{ "PATCH", "/v1/users/{id}", ROLE_ADMIN, api_users_update },
	{ "GET", "/v1/users/{id}/tokens", ROLE_ADMIN, api_users_tokens },
	{ "DELETE", "/v1/tokens/{id}", ROLE_ADMIN, api_tokens_revoke },

	/* the audit log */
	{ "GET", "/v1/audit", ROLE_ADMIN, api_audit_list },

	/* clinicians */
	{ "GET", "/v1/clinicians", STAFF, api_clinicians_list },
	{ "POST", "/v1/clinicians", ROLE_ADMIN, api_clinicians_create },
	{ "GET", "/v1/clinicians/{id}", ROLE_ANY, api_clinicians_get },
	{ "PATCH", "/v1/clinicians/{id}", ROLE_ADMIN, api_clinicians_update },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
