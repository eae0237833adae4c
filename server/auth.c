#include "certrack/auth.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <crack.h>
#include <sodium.h>

#include "certrack/value.h"

/* OWASP's argon2id floor (19 MiB, 2 passes): a login costs tens of
 * milliseconds, a stolen hash costs an attacker the same per guess. */
#define PW_OPSLIMIT 2
#define PW_MEMLIMIT (19u * 1024 * 1024)

/* ---- the dummy hash ------------------------------------------------- */

static char dummy_hash[AUTH_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* A hash of a random password, made once, for unknown accounts to be
 * checked against at the same cost as known ones. */
static void
make_dummy(void)
{
	char pw[33];
	unsigned char raw[16];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(pw, sizeof(pw), raw, sizeof(raw));
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw), PW_OPSLIMIT,
	    PW_MEMLIMIT) != 0)
		dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

/* ---- the limit on hashes at once ------------------------------------ */

/*
 * Callers are admitted (at most slots + queue at once, the rest refused at
 * once), then each hash waits for one of the slots.  A caller admitted
 * first (auth_admit()) is never refused half-way through its work.
 */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_slots;		/* 0: no limit */
static int gate_queue;
static int gate_admitted, gate_running;
static atomic_ulong gate_refused;
static _Thread_local bool admitted;

int
auth_limit(int slots, int queue)
{
	if (slots <= 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		slots = n > 0 ? (int)n : 1;
	}
	pthread_mutex_lock(&gate_mu);
	gate_slots = slots;
	gate_queue = queue;
	pthread_mutex_unlock(&gate_mu);
	/* Made now, not at the first unknown name's login. */
	pthread_once(&dummy_once, make_dummy);
	return dummy_hash[0] != '\0' ? 0 : -1;
}

int
auth_slots(void)
{
	return gate_slots;
}

unsigned long
auth_busy_count(void)
{
	return atomic_load(&gate_refused);
}

int
auth_admit(struct cterr *err)
{
	if (admitted)
		return 0;
	pthread_mutex_lock(&gate_mu);
	if (gate_slots > 0 && gate_admitted >= gate_slots + gate_queue) {
		pthread_mutex_unlock(&gate_mu);
		atomic_fetch_add(&gate_refused, 1);
		return cterr_set(err, 429, "password_checks_busy", NULL,
		    "too many password checks at once; try again in a second");
	}
	gate_admitted++;
	pthread_mutex_unlock(&gate_mu);
	admitted = true;
	return 0;
}

void
auth_dismiss(void)
{
	if (!admitted)
		return;
	pthread_mutex_lock(&gate_mu);
	gate_admitted--;
	pthread_mutex_unlock(&gate_mu);
	admitted = false;
}

/* Waits for a slot (the caller is admitted). */
static void
slot_take(void)
{
	pthread_mutex_lock(&gate_mu);
	while (gate_slots > 0 && gate_running >= gate_slots)
		pthread_cond_wait(&gate_cv, &gate_mu);
	gate_running++;
	pthread_mutex_unlock(&gate_mu);
}

static void
slot_give(void)
{
	pthread_mutex_lock(&gate_mu);
	gate_running--;
	pthread_cond_signal(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/*
 * Runs one hash or check: admitted for its length unless the caller was
 * already, then in a slot.  FN(ARG) returns crypto_pwhash's 0 or -1.
 * Returns 0 with *RC, or -1 with ERR (refused admission).
 */
static int
gated(int (*fn)(void *), void *arg, int *rc, struct cterr *err)
{
	bool self = !admitted;

	if (self && auth_admit(err) != 0)
		return -1;
	slot_take();
	*rc = fn(arg);
	slot_give();
	if (self)
		auth_dismiss();
	return 0;
}

/* ---- hashing and checking -------------------------------------------- */

struct pw_job {
	const char *hash;	/* to check against, or NULL to make */
	const char *password;
	char *out;
};

static int
pw_run(void *arg)
{
	struct pw_job *j = arg;

	if (j->hash != NULL)
		return crypto_pwhash_str_verify(j->hash, j->password,
		    strlen(j->password));
	return crypto_pwhash_str(j->out, j->password, strlen(j->password),
	    PW_OPSLIMIT, PW_MEMLIMIT);
}

int
auth_hash(const char *password, char out[AUTH_HASH_MAX], struct cterr *err)
{
	struct pw_job j = { NULL, password, out };
	int rc;

	if (gated(pw_run, &j, &rc, err) != 0)
		return -1;
	if (rc != 0)
		return cterr_set(err, 500, "internal", NULL,
		    "cannot hash the password (out of memory)");
	return 0;
}

int
auth_verify(const char *hash, const char *password, bool *ok,
    struct cterr *err)
{
	struct pw_job j = { hash, password, NULL };
	int rc;

	*ok = false;
	if (hash == NULL) {
		pthread_once(&dummy_once, make_dummy);
		j.hash = dummy_hash;
	}
	/* A dummy that could not be made (no memory then) still costs a
	 * failed check rather than nothing. */
	if (gated(pw_run, &j, &rc, err) != 0)
		return -1;
	*ok = rc == 0 && hash != NULL;
	return 0;
}

/* ---- the password policy --------------------------------------------- */

/* cracklib keeps state in static buffers (Mangle, Reverse): one check at
 * a time. */
static pthread_mutex_t crack_mu = PTHREAD_MUTEX_INITIALIZER;
static char crack_dict[512];

/* True when the dictionary PATH (without suffix) can be read. */
static bool
dictionary_readable(const char *path)
{
	static const char *const suffixes[] = { ".pwd", ".pwi", ".hwm" };
	char file[560];

	for (size_t i = 0; i < 3; i++) {
		snprintf(file, sizeof(file), "%s%s", path, suffixes[i]);
		if (access(file, R_OK) != 0)
			return false;
	}
	return true;
}

int
auth_dictionary(const char *path, struct cterr *err)
{
	if (path == NULL || path[0] == '\0')
		path = GetDefaultCracklibDict();
	if (strlen(path) >= sizeof(crack_dict) - 8)
		return cterr_set(err, 500, "internal", NULL, "the cracklib "
		    "dictionary path '%s' is too long", path);
	if (!dictionary_readable(path))
		return cterr_set(err, 500, "internal", NULL, "cannot read the "
		    "cracklib dictionary '%s' (%s.pwd, .pwi, .hwm): %s; install "
		    "cracklib-runtime or set password_dictionary", path, path,
		    strerror(errno));
	pthread_mutex_lock(&crack_mu);
	snprintf(crack_dict, sizeof(crack_dict), "%s", path);
	pthread_mutex_unlock(&crack_mu);
	return 0;
}

/* cracklib's verdict on PASSWORD for USERNAME into WHY (empty: none).
 * -1 with ERR when the dictionary cannot be read. */
static int
crack_check(const char *password, const char *username, char *why,
    size_t len, struct cterr *err)
{
	const char *verdict;
	int rc = 0;

	why[0] = '\0';
	pthread_mutex_lock(&crack_mu);
	if (crack_dict[0] == '\0')
		snprintf(crack_dict, sizeof(crack_dict), "%s",
		    GetDefaultCracklibDict());
	/* cracklib answers a missing dictionary as if it were a weak
	 * password: ask first, so it is told apart. */
	if (!dictionary_readable(crack_dict)) {
		rc = cterr_set(err, 500, "internal", NULL, "cannot read the "
		    "password dictionary '%s'", crack_dict);
	} else {
		/* A user name, never NULL: NULL would make cracklib look
		 * up the daemon's own system account instead. */
		verdict = FascistCheckUser(password, crack_dict,
		    username != NULL ? username : "", NULL);
		if (verdict != NULL)
			snprintf(why, len, "%s", verdict);
	}
	pthread_mutex_unlock(&crack_mu);
	return rc;
}

int
auth_password_policy(const char *password, const char *username,
    const char *field, struct cterr *err)
{
	size_t bytes = strlen(password), chars;
	char why[160];

	if (bytes > AUTH_PASSWORD_MAX_BYTES)
		return cterr_set(err, 422, "weak_password", field, "a password "
		    "may have at most %d bytes (this one has %zu)",
		    AUTH_PASSWORD_MAX_BYTES, bytes);
	chars = value_chars(password);
	if (chars < AUTH_PASSWORD_MIN_CHARS)
		return cterr_set(err, 422, "weak_password", field, "a password "
		    "needs at least %d characters (this one has %zu)",
		    AUTH_PASSWORD_MIN_CHARS, chars);
	if (username != NULL && strcasecmp(password, username) == 0)
		return cterr_set(err, 422, "weak_password", field, "the "
		    "password must not be the username");
	if (crack_check(password, username, why, sizeof(why), err) != 0)
		return -1;
	if (why[0] != '\0')
		return cterr_set(err, 422, "weak_password", field, "the "
		    "password is too easy to guess: %s", why);
	return 0;
}

/* ---- generated secrets ------------------------------------------------ */

void
auth_new_password(char out[AUTH_PASSWORD_LEN + 1], const char *username)
{
	/* Crockford's alphabet, lower-case: no i, l, o, u. */
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
	struct cterr err;

	/* 100 bits of randomness nearly always pass; the rare draw cracklib
	 * calls systematic is drawn again (a bounded number of times: a
	 * missing dictionary must not loop forever). */
	for (int tries = 0; tries < 64; tries++) {
		for (int i = 0; i < AUTH_PASSWORD_LEN; i++)
			out[i] = alphabet[randombytes_uniform(32)];
		out[AUTH_PASSWORD_LEN] = '\0';
		cterr_clear(&err);
		if (auth_password_policy(out, username, NULL, &err) == 0 ||
		    err.status != 422)
			return;
	}
}

void
auth_new_token(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[32])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(token, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(token, hash);
}

void
auth_token_hash(const char *token, unsigned char hash[32])
{
	crypto_hash_sha256(hash, (const unsigned char *)token, strlen(token));
}
