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
/* The bearer TOKEN's caller in req->who: 0, or -1 with req->err (401). */
int api_auth_token(struct request *req, const char *token);
/* POST /v1/login's whole path (throttle, checks, token row, audit) for
 * the web login: the new token in TOKEN (AUTH_TOKEN_LEN + 1 bytes).
 * 0, or -1 with req->err. */
int api_login_password(struct request *req, const char *name,
    const char *password, char *token);
/* POST /v1/logout's path: req->who's token revoked, audited.  0, or -1. */
int api_session_end(struct request *req);
/* POST /v1/me/password's whole path for req->who.  0, or -1. */
int api_password_set(struct request *req, const char *current,
    const char *next);

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
/* PATCH /v1/me/directory: a clinician's own directory listing */
int api_me_directory(struct request *req);
/* PATCH /v1/me/directory's path with req->json (its JSON fields), for the
 * web: the answer's JSON text in *REPLY (malloc'd).  0, or -1. */
int api_directory_set(struct request *req, char **reply);

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
/* POST /v1/enrollments/{ID}/complete's path for the web.  0, or -1. */
int api_enrollment_complete(struct request *req, const char *id,
    const char *completed_on);

/* api_exams.c: exam results */
int api_results_record(struct request *req);
/* POST /v1/exam-results's path with BODY (its JSON fields) for the web:
 * the answer's JSON text in *REPLY (malloc'd).  0, or -1 with req->err. */
int api_result_record(struct request *req, json_t *body, char **reply);
int api_results_amend(struct request *req);
int api_results_history(struct request *req);

/* api_status.c: a clinician's whole picture */
int api_status(struct request *req);

/* api_certificates.c: verification (public) and revocation */
int api_certificates_verify(struct request *req);
/*
 * A certificate number as a person typed it (any case, blanks, hyphens, I,
 * L and O read as 1, 1 and 0), canonical in OUT (CERTNUM_LEN + 1 bytes).
 * Returns 0, or -1 with ERR 422 invalid_certificate_number, whose sentence
 * says whether the check symbol or the shape is wrong.
 */
int api_certificate_number(const char *typed, char *out, struct cterr *err);
/*
 * What anyone may learn of certificate NUMBER (canonical): the verification
 * answer's JSON text in *JSON (malloc'd, the caller frees), NULL when there
 * is no such certificate.  SINCE: the request's start (cache_get()).
 * Returns 0, or -1 with ERR (database).
 */
int api_certificate_lookup(const char *number, double since, char **json,
    struct cterr *err);
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
int api_certificates_renewal_exam(struct request *req);
/* api_webhooks.c: webhook endpoints and notification deliveries (admin) */
int api_webhooks_list(struct request *req);
int api_webhooks_create(struct request *req);
int api_webhooks_disable(struct request *req);
int api_webhooks_enable(struct request *req);
int api_webhooks_test(struct request *req);
int api_deliveries_list(struct request *req);
int api_deliveries_replay(struct request *req);
/* web_verify.c: the public pages (HTML; docs/web.md) */
int web_home(struct request *req);
int web_static(struct request *req);
int web_verify_form(struct request *req);
int web_verify(struct request *req);

/* web_find.c: the directory, as a page and as public JSON */
int web_find(struct request *req);
int api_directory(struct request *req);

/* web_session.c: logging in and out of the pages, one's password */
int web_login_form(struct request *req);
int web_login(struct request *req);
int web_logout(struct request *req);
int web_password_form(struct request *req);
int web_password(struct request *req);

/* web_me.c: a clinician's own pages */
int web_me(struct request *req);
int web_me_directory(struct request *req);
int web_me_pdf(struct request *req);

/* web_staff.c: the grader's session sheets */
int web_staff_sessions(struct request *req);
int web_staff_sheet(struct request *req);
int web_staff_sheet_post(struct request *req);

/* pdf.c: a certificate as a printable PDF (its holder and staff) */
int api_certificates_pdf(struct request *req);

#endif
