/* auth.h: accounts' mechanisms — password hashing under a concurrency bound, tokens, sessions, the credential cache, throttling, CSRF and the one authorization check. */
#ifndef VERDICT_AUTH_H
#define VERDICT_AUTH_H

#include <stddef.h>

#include "config.h"
#include "util.h"

struct req;
struct db;

enum auth_status {
	AUTH_OK = 0,
	AUTH_INVALID,      /* input breaks a rule: message in err */
	AUTH_TAKEN,        /* username exists */
	AUTH_BADCRED,      /* wrong username or password */
	AUTH_LOCKED,       /* too many failures: retry_after seconds */
	AUTH_BUSY,         /* hash bound reached: 503 + Retry-After */
	AUTH_DBERR,        /* database failure */
	AUTH_NOTFOUND,
	AUTH_RATE,         /* signup rate per address */
};

#define AUTH_TOKEN_LEN 43           /* base64url of 32 random bytes */
#define AUTH_HASH_HEX 65            /* hex BLAKE2b-256 + NUL */
#define API_TOKEN_PREFIX "vdt_"     /* greppable in logs and secret scanners */
#define USERNAME_MAX 64
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024

/* Who made a request; filled by auth_identify. */
struct auth_user {
	long long id;               /* 0 = anonymous */
	char username[USERNAME_MAX + 1];
	int admin;
	enum { VIA_NONE, VIA_SESSION, VIA_BEARER, VIA_BASIC } via;
	long long session_id;       /* VIA_SESSION */
	long long token_id;         /* VIA_BEARER */
};

/*
 * Process start: copies cfg, loads the password blocklist, computes the
 * dummy hash used for unknown users, draws the cache key. 0 or -1 (err).
 */
int auth_init(const struct config *cfg, char *err, size_t errlen) WUR;

/* Password rules (NIST 800-63B): length, not the username, not common. */
enum auth_status auth_password_policy(const char *username, const char *pw,
    size_t pwlen, char *err, size_t errlen) WUR;
/* Username rules: 2..64 of [A-Za-z0-9._@+-], starting with a letter or digit. */
enum auth_status auth_username_policy(const char *u, size_t len, char *err,
    size_t errlen) WUR;

/*
 * argon2id through the concurrency bound. auth_hash writes a
 * crypto_pwhash_str string into out (crypto_pwhash_STRBYTES). auth_verify
 * returns AUTH_OK or AUTH_BADCRED; with hash NULL it verifies against the
 * dummy hash so unknown users cost the same. Both may return AUTH_BUSY.
 */
enum auth_status auth_hash(const char *pw, size_t len, char *out) WUR;
enum auth_status auth_verify(const char *hash, const char *pw, size_t len) WUR;
int auth_needs_rehash(const char *hash);

/* 32 random bytes as base64url (43 chars + NUL) and its stored hash. */
void auth_new_token(char out[AUTH_TOKEN_LEN + 1]);
void auth_token_hash(const char *token, char out[AUTH_HASH_HEX]);

/* Domain operations shared by HTML pages, JSON endpoints and the CLI. */
enum auth_status auth_signup(struct db *db, const char *addr,
    const char *username, size_t ulen, const char *pw, size_t pwlen,
    const char *role, long long *id, char *err, size_t errlen) WUR;
enum auth_status auth_login(struct db *db, const char *addr,
    const char *username, size_t ulen, const char *pw, size_t pwlen,
    struct auth_user *u, int *retry_after) WUR;
enum auth_status auth_set_password(struct db *db, long long user_id,
    const char *username, const char *pw, size_t pwlen, char *err,
    size_t errlen) WUR;
/* Creates a session; raw token into token (cookie value). */
enum auth_status auth_session_create(struct db *db, long long user_id,
    const char *user_agent, const char *addr, char token[AUTH_TOKEN_LEN + 1],
    long long *session_id) WUR;
/* Creates an API token ("vdt_" + 43 chars) valid ttl seconds (0 = no expiry). */
enum auth_status auth_token_create(struct db *db, long long user_id,
    const char *name, int ttl, char *raw, size_t rawlen, long long *id) WUR;

/* Cache invalidation in this process (other hosts: within auth_cache_ttl). */
void auth_cache_forget(const char *token_hash_hex);
void auth_cache_forget_user(long long user_id);

/*
 * Identifies the caller of r from Authorization (Bearer or Basic) or the
 * session cookie, into r's user. Returns 0, or -1 after answering (401 for
 * bad credentials presented, 503 when hashing is saturated or the DB is
 * away).
 */
int auth_identify(struct req *r) WUR;

/*
 * The one authorization and CSRF gate, run by dispatch before every
 * handler: route auth level, then for unsafe methods on cookie-authenticated
 * (or anonymous HTML) requests the CSRF token and the Origin/Referer check.
 * Returns 0, or -1 after answering 401/303/403.
 */
int auth_enforce(struct req *r) WUR;

/* CSRF token for r's session or pre-session cookie; "" if neither. */
const char *auth_csrf_token(struct req *r);
/* Ensures a pre-session cookie exists (login and signup forms). */
int auth_presession(struct req *r) WUR;

/* Client address: REMOTE_ADDR, or X-Forwarded-For's last hop from a trusted proxy. */
const char *auth_client_addr(const struct req *r);

#endif
