#ifndef CERTRACK_USERS_H
#define CERTRACK_USERS_H
/* Accounts: creation from the shell (certrackd create-user). */
#include <stdbool.h>
#include <libpq-fe.h>

#include "certrack/cterr.h"

struct users_new {
	const char *username;
	const char *role;		/* "admin", "grader", "clinician" */
	long long clinician_id;		/* for clinician accounts, else 0 */
	const char *password;		/* generated, plain text, hashed here */
};

/* Checks a role name; returns 0, or -1 with ERR (422, field "role"). */
int users_check_role(const char *role, long long clinician_id,
    struct cterr *err);

/*
 * Creates the account in one transaction with its audit row (actor: the
 * shell).  Its password is a one-time one: the account must change it at
 * first use (password_change_required).  With IF_NO_ADMIN, creates nothing
 * when an enabled admin exists.
 * *CREATED says whether a row was made.  Returns 0, or -1 with ERR.
 */
int users_create_local(PGconn *conn, const struct users_new *u,
    bool if_no_admin, int *created, struct cterr *err);

#endif
