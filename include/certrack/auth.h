#ifndef CERTRACK_AUTH_H
#define CERTRACK_AUTH_H
/*
 * Passwords (argon2id via libsodium) and bearer tokens (256 random bits,
 * of which only the SHA-256 is stored).  Call sodium_init() first.
 *
 * A password hash costs tens of milliseconds and 19 MiB: the daemon runs
 * at most a configured number at once (auth_limit()), with a bounded
 * queue of waiters, and its callers hold no database connection while
 * they hash.  Every password set anywhere meets one policy
 * (auth_password_policy()).
 */
#include <stdbool.h>
#include <stddef.h>

#include "certrack/cterr.h"

#define AUTH_HASH_MAX 128	/* >= crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN 43	/* base64url of 32 bytes, no padding */
#define AUTH_PASSWORD_LEN 20

/* The password policy's bounds. */
#define AUTH_PASSWORD_MIN_CHARS 12	/* UTF-8 code points */
#define AUTH_PASSWORD_MAX_BYTES 1024

/*
 * Serving: at most SLOTS hashes or checks at once (0: one per online
 * core), at most QUEUE callers waiting for a slot; beyond that a caller is
 * refused at once (429).  Without this call (tools, tests) there is no
 * limit.  Returns 0, or -1 (out of memory for the dummy hash).
 */
int auth_limit(int slots, int queue);

/*
 * Admits the calling thread for a run of hashes and checks (a login, a
 * password change), so that none of them is refused half-way: 0, or -1
 * with ERR 429 "password_checks_busy" when SLOTS + QUEUE callers are in
 * already.  auth_dismiss() ends it (harmless when not admitted).  Hashes
 * and checks made without it admit themselves for their own length.
 */
int auth_admit(struct cterr *err);
void auth_dismiss(void);

/* The number of hashes the limit lets run at once (0: no limit). */
int auth_slots(void);

/*
 * The cracklib dictionary to check passwords against (its path without
 * the .pwd/.pwi/.hwm suffix), NULL for cracklib's default.  Returns 0, or
 * -1 with ERR when the dictionary cannot be read (so a daemon refuses to
 * start rather than refuse every password).
 */
int auth_dictionary(const char *path, struct cterr *err);

/*
 * Hashes PASSWORD into OUT (NUL-terminated), within the limit, waiting for
 * a slot.  The caller holds no database connection (db_release()).
 * Returns 0, or -1 with ERR: 429 "password_checks_busy" (not admitted and
 * the queue is full; answer with Retry-After), 500 when memory for the
 * hash could not be had.
 */
int auth_hash(const char *password, char out[AUTH_HASH_MAX],
    struct cterr *err);

/*
 * Checks PASSWORD against HASH (constant-time) within the limit; HASH
 * NULL checks against a dummy hash of the same cost (an unknown account
 * takes as long as a known one) and never matches.  Returns 0 with *OK,
 * or -1 with ERR as auth_hash().
 */
int auth_verify(const char *hash, const char *password, bool *ok,
    struct cterr *err);

/* Hashes and checks refused because the queue was full (for /metrics). */
unsigned long auth_busy_count(void);

/*
 * The one password policy, for every path that sets a password: at
 * least AUTH_PASSWORD_MIN_CHARS characters (UTF-8 code points), at most
 * AUTH_PASSWORD_MAX_BYTES bytes, not USERNAME (in any case), and not
 * guessable by cracklib's rules and dictionary.  Returns 0, or -1 with ERR
 * 422 "weak_password" naming FIELD and saying why.
 */
int auth_password_policy(const char *password, const char *username,
    const char *field, struct cterr *err);

/* A random password of AUTH_PASSWORD_LEN characters that people can type
 * (no look-alike characters) and that meets the policy for USERNAME,
 * NUL-terminated. */
void auth_new_password(char out[AUTH_PASSWORD_LEN + 1], const char *username);

/* A new random token (text for the client) and its SHA-256 (to store). */
void auth_new_token(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[32]);

/* The SHA-256 of a token as presented by a client. */
void auth_token_hash(const char *token, unsigned char hash[32]);

#endif
