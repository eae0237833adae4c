#ifndef CERTRACK_AUTH_H
#define CERTRACK_AUTH_H
/*
 * Passwords (argon2id via libsodium) and bearer tokens (256 random bits,
 * of which only the SHA-256 is stored).  Call sodium_init() first.
 */
#include <stdbool.h>
#include <stddef.h>

#define AUTH_HASH_MAX 128	/* >= crypto_pwhash_STRBYTES */
#define AUTH_TOKEN_LEN 43	/* base64url of 32 bytes, no padding */
#define AUTH_PASSWORD_LEN 20

/* Hashes PASSWORD into OUT (NUL-terminated).  Returns 0, or -1 when memory
 * for the hash could not be had. */
int auth_hash_password(const char *password, char out[AUTH_HASH_MAX]);

/* True when PASSWORD matches HASH (constant-time). */
bool auth_check_password(const char *hash, const char *password);

/* A random password of AUTH_PASSWORD_LEN characters that people can type
 * (no look-alike characters), NUL-terminated. */
void auth_new_password(char out[AUTH_PASSWORD_LEN + 1]);

/* A new random token (text for the client) and its SHA-256 (to store). */
void auth_new_token(char token[AUTH_TOKEN_LEN + 1], unsigned char hash[32]);

/* The SHA-256 of a token as presented by a client. */
void auth_token_hash(const char *token, unsigned char hash[32]);

#endif
