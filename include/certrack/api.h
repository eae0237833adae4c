#ifndef CERTRACK_API_H
#define CERTRACK_API_H
/*
 * The daemon's routes: one table (server/routes.c: method, pattern, roles,
 * handler) over the handlers of each resource file.  Every handler answers
 * with http_reply_*() or returns -1 with req->err filled.
 */
#include <stddef.h>

#include "certrack/http.h"
#include "certrack/migrate.h"
#include "certrack/router.h"

/* The whole route table and its length. */
extern const struct route api_routes[];
extern const size_t api_nroutes;

/* api_health.c: /healthz, /readyz */
void api_health_init(const struct migration_set *set);
int api_healthz(struct request *req);
int api_readyz(struct request *req);

/* metrics.c: /metrics */
int api_metrics(struct request *req);

/* api_auth.c: login, logout, who am I, own password; the authenticator */
/* The token lifetime and the login limits of CFG (kept by value). */
void api_auth_init(const struct config *cfg);
int api_authenticate(struct request *req);
int api_login(struct request *req);
int api_logout(struct request *req);
int api_me(struct request *req);
int api_change_password(struct request *req);

/* api_users.c: accounts and tokens (admin) */
int api_users_list(struct request *req);
int api_users_create(struct request *req);
int api_users_get(struct request *req);
int api_users_update(struct request *req);
int api_users_tokens(struct request *req);
int api_tokens_revoke(struct request *req);

/* api_clinicians.c */
int api_clinicians_list(struct request *req);
int api_clinicians_create(struct request *req);
int api_clinicians_get(struct request *req);
int api_clinicians_update(struct request *req);

/* api_audit.c */
int api_audit_list(struct request *req);

/* api_programs.c: professions, programs, levels, eligibility */
int api_professions_list(struct request *req);
int api_programs_list(struct request *req);
int api_programs_get(struct request *req);
int api_levels_get(struct request *req);
int api_levels_find(struct request *req);
int api_levels_update(struct request *req);
int api_eligibility(struct request *req);

/* api_enrollments.c: course sessions and enrollments */
int api_sessions_list(struct request *req);
int api_sessions_create(struct request *req);
int api_enrollments_create(struct request *req);
int api_enrollments_complete(struct request *req);
int api_enrollments_withdraw(struct request *req);

/* api_exams.c: exam results */
int api_results_record(struct request *req);
int api_results_amend(struct request *req);
int api_results_history(struct request *req);

/* api_status.c: a clinician's whole picture */
int api_status(struct request *req);

/* api_certificates.c: verification (public) and revocation */
int api_certificates_verify(struct request *req);
int api_certificates_revoke(struct request *req);

/* import.c: CSV imports (a streaming route) and their reports */
void api_import_init(long long max_bytes);
extern const struct route_stream api_import_stream;
int api_imports_list(struct request *req);
int api_imports_get(struct request *req);

/* api_lists.c: staff lists, as JSON pages or CSV exports */
int api_certificates_list(struct request *req);
int api_enrollments_list(struct request *req);
int api_sessions_get(struct request *req);

/* api_renewals.c: renewal policies, continuing education, renewal */
int api_renewal_policies_list(struct request *req);
int api_renewal_policies_set(struct request *req);
int api_ce_list(struct request *req);
int api_ce_record(struct request *req);
int api_ce_approve(struct request *req);
int api_ce_reject(struct request *req);
int api_certificates_renew(struct request *req);
/* api_webhooks.c: webhook endpoints and notification deliveries (admin) */
int api_webhooks_list(struct request *req);
int api_webhooks_create(struct request *req);
int api_webhooks_disable(struct request *req);
int api_webhooks_enable(struct request *req);
int api_webhooks_test(struct request *req);
int api_deliveries_list(struct request *req);
int api_deliveries_replay(struct request *req);

#endif
