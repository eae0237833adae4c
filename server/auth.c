#include "certrack/auth.h"

#include <string.h>
#include <sodium.h>

/* OWASP's argon2id floor (19 MiB, 2 passes): a login costs tens of
 * milliseconds, a stolen hash costs an attacker the same per guess. */
#define PW_OPSLIMIT 2
#define PW_MEMLIMIT (19u * 1024 * 1024)

int
auth_hash_password(const char *password, char out[AUTH_HASH_MAX])
{
	return crypto_pwhash_str(out, password, strlen(password), PW_OPSLIMIT,
	    PW_MEMLIMIT) == 0 ? 0 : -1;
}

bool
auth_check_password(const char *hash, const char *password)
{
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

void
auth_new_password(char out[AUTH_PASSWORD_LEN + 1])
{
	/* Crockford's alphabet, lower-case: no i, l, o, u. */
	static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

	for (int i = 0; i < AUTH_PASSWORD_LEN; i++)
		out[i] = alphabet[randombytes_uniform(32)];
	out[AUTH_PASSWORD_LEN] = '\0';
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
