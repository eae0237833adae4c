/*
 * The route table: every route of the API, who may call it, its handler.
 * Authentication and the role check happen in http.c before the handler
 * runs; a clinician asking for another clinician's record is answered 404
 * by the handler (api_may_see_clinician()).  Until an account has changed
 * a generated password, its tokens serve only the ROUTE_FIRST_USE routes.
 */
#include "certrack/api.h"

#define STAFF (ROLE_ADMIN | ROLE_GRADER)

const struct route api_routes[] = {
	/* health and metrics: no login */
	{ "GET", "/healthz", ROLE_PUBLIC, api_healthz, NULL },
	{ "GET", "/readyz", ROLE_PUBLIC, api_readyz, NULL },
	{ "GET", "/metrics", ROLE_PUBLIC, api_metrics, NULL },

	/* sessions and accounts */
	{ "POST", "/v1/login", ROLE_PUBLIC, api_login, NULL },
	{ "POST", "/v1/logout", ROLE_ANY | ROUTE_FIRST_USE, api_logout, NULL },
	{ "GET", "/v1/me", ROLE_ANY | ROUTE_FIRST_USE, api_me, NULL },
	{ "POST", "/v1/me/password", ROLE_ANY | ROUTE_FIRST_USE,
	    api_change_password, NULL },
	{ "GET", "/v1/users", ROLE_ADMIN, api_users_list, NULL },
	{ "POST", "/v1/users", ROLE_ADMIN, api_users_create, NULL },
	{ "GET", "/v1/users/{id}", ROLE_ADMIN, api_users_get, NULL },
	{ "PATCH", "/v1/users/{id}", ROLE_ADMIN, api_users_update, NULL },
	{ "GET", "/v1/users/{id}/tokens", ROLE_ADMIN, api_users_tokens, NULL },
	{ "DELETE", "/v1/tokens/{id}", ROLE_ADMIN, api_tokens_revoke, NULL },

	/* CSV imports: the body streams into the import as it arrives */
	{ "POST", "/v1/imports", STAFF, NULL, &api_import_stream },
	{ "GET", "/v1/imports", STAFF, api_imports_list, NULL },
	{ "GET", "/v1/imports/{id}", STAFF, api_imports_get, NULL },

	/* the audit log */
	{ "GET", "/v1/audit", ROLE_ADMIN, api_audit_list, NULL },

	/* clinicians */
	{ "GET", "/v1/clinicians", STAFF, api_clinicians_list, NULL },
	{ "POST", "/v1/clinicians", ROLE_ADMIN, api_clinicians_create, NULL },
	{ "GET", "/v1/clinicians/{id}", ROLE_ANY, api_clinicians_get, NULL },
	{ "PATCH", "/v1/clinicians/{id}", ROLE_ADMIN, api_clinicians_update, NULL },

	/* enrollments and exam results */
	{ "GET", "/v1/sessions", STAFF, api_sessions_list, NULL },
	{ "GET", "/v1/sessions/{id}", STAFF, api_sessions_get, NULL },
	{ "GET", "/v1/enrollments", STAFF, api_enrollments_list, NULL },
	{ "GET", "/v1/certificates", STAFF, api_certificates_list, NULL },
	/* keeping a credential: renewal policies, CE, renewal */
	{ "GET", "/v1/renewal-policies", ROLE_ANY, api_renewal_policies_list,
	  NULL },
	{ "PUT", "/v1/renewal-policies", ROLE_ADMIN, api_renewal_policies_set,
	  NULL },
	{ "GET", "/v1/clinicians/{id}/ce", ROLE_ANY, api_ce_list, NULL },
	{ "POST", "/v1/clinicians/{id}/ce", ROLE_ANY, api_ce_record, NULL },
	{ "POST", "/v1/ce/{id}/approve", STAFF, api_ce_approve, NULL },
	{ "POST", "/v1/ce/{id}/reject", STAFF, api_ce_reject, NULL },
	{ "POST", "/v1/certificates/{number}/renew", STAFF,
	  api_certificates_renew, NULL },
	{ "POST", "/v1/certificates/{number}/renewal-exams", STAFF,
	  api_certificates_renewal_exam, NULL },
	{ "POST", "/v1/sessions", ROLE_ADMIN, api_sessions_create, NULL },
	{ "POST", "/v1/enrollments", ROLE_ADMIN, api_enrollments_create, NULL },
	{ "POST", "/v1/enrollments/{id}/complete", STAFF,
	    api_enrollments_complete, NULL },
	{ "POST", "/v1/enrollments/{id}/withdraw", ROLE_ADMIN,
	    api_enrollments_withdraw, NULL },
	{ "POST", "/v1/exam-results", STAFF, api_results_record, NULL },
	{ "POST", "/v1/exam-results/{id}/amend", STAFF, api_results_amend, NULL },
	{ "GET", "/v1/clinicians/{id}/exam-results", ROLE_ANY,
	    api_results_history, NULL },

	/* programs, status and certificates */
	/* what a program is and who may enroll: public, for applicants */
	{ "GET", "/v1/professions", ROLE_PUBLIC, api_professions_list, NULL },
	{ "GET", "/v1/programs", ROLE_PUBLIC, api_programs_list, NULL },
	{ "GET", "/v1/programs/{code}", ROLE_PUBLIC, api_programs_get, NULL },
	{ "GET", "/v1/levels", ROLE_ANY, api_levels_find, NULL },
	{ "GET", "/v1/levels/{id}", ROLE_ANY, api_levels_get, NULL },
	{ "PATCH", "/v1/levels/{id}", ROLE_ADMIN, api_levels_update, NULL },
	{ "GET", "/v1/eligibility", ROLE_PUBLIC, api_eligibility, NULL },
	{ "GET", "/v1/clinicians/{id}/status", ROLE_ANY, api_status, NULL },
	/* before the bare {number}, which "X.pdf" would match too */
	{ "GET", "/v1/certificates/{number}.pdf", ROLE_ANY,
	    api_certificates_pdf, NULL },
	{ "GET", "/v1/certificates/{number}", ROLE_PUBLIC,
	    api_certificates_verify, NULL },
	{ "POST", "/v1/certificates/{number}/revoke", ROLE_ADMIN,
	    api_certificates_revoke, NULL },

	/* notifications: webhook endpoints and deliveries */
	{ "GET", "/v1/webhooks", ROLE_ADMIN, api_webhooks_list, NULL },
	{ "POST", "/v1/webhooks", ROLE_ADMIN, api_webhooks_create, NULL },
	{ "POST", "/v1/webhooks/{id}/disable", ROLE_ADMIN,
	    api_webhooks_disable, NULL },
	{ "POST", "/v1/webhooks/{id}/enable", ROLE_ADMIN,
	    api_webhooks_enable, NULL },
	{ "POST", "/v1/webhooks/{id}/test", ROLE_ADMIN, api_webhooks_test,
	    NULL },
	{ "GET", "/v1/deliveries", ROLE_ADMIN, api_deliveries_list, NULL },
	{ "POST", "/v1/deliveries/{id}/replay", ROLE_ADMIN,
	    api_deliveries_replay, NULL },
	/* the web pages (HTML, docs/web.md) */
	{ "GET", "/", ROLE_PUBLIC, web_home, NULL },
	{ "GET", "/static/{file}", ROLE_PUBLIC, web_static, NULL },
	{ "GET", "/verify", ROLE_PUBLIC, web_verify_form, NULL },
	{ "GET", "/verify/{number}", ROLE_PUBLIC, web_verify, NULL },
	{ "GET", "/find", ROLE_PUBLIC, web_find, NULL },
	/* the directory: public JSON; a clinician's own listing */
	{ "GET", "/v1/directory", ROLE_PUBLIC, api_directory, NULL },
	{ "PATCH", "/v1/me/directory", ROLE_CLINICIAN, api_me_directory, NULL },
	/* logged-in pages (docs/web.md): the session cookie, checked with
	 * the roles by the page itself (web_user()), never by /v1/ routes */
	{ "GET", "/login", ROLE_PUBLIC | ROUTE_WEB, web_login_form, NULL },
	{ "POST", "/login", ROLE_PUBLIC | ROUTE_WEB, web_login, NULL },
	{ "POST", "/logout", ROLE_ANY | ROUTE_FIRST_USE | ROUTE_WEB,
	    web_logout, NULL },
	{ "GET", "/account/password", ROLE_ANY | ROUTE_FIRST_USE | ROUTE_WEB,
	    web_password_form, NULL },
	{ "POST", "/account/password", ROLE_ANY | ROUTE_FIRST_USE | ROUTE_WEB,
	    web_password, NULL },
	{ "GET", "/me", ROLE_CLINICIAN | ROUTE_WEB, web_me, NULL },
	{ "POST", "/me/directory", ROLE_CLINICIAN | ROUTE_WEB,
	    web_me_directory, NULL },
	{ "GET", "/me/certificates/{number}.pdf", ROLE_CLINICIAN | ROUTE_WEB,
	    web_me_pdf, NULL },
	{ "GET", "/staff/sessions", STAFF | ROUTE_WEB, web_staff_sessions,
	    NULL },
	{ "GET", "/staff/sessions/{id}", STAFF | ROUTE_WEB, web_staff_sheet,
	    NULL },
	{ "POST", "/staff/sessions/{id}", STAFF | ROUTE_WEB,
	    web_staff_sheet_post, NULL },
};
const size_t api_nroutes = sizeof(api_routes) / sizeof(api_routes[0]);
