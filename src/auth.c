/* auth.c: password hashing under a bound, tokens, sessions, credential cache, throttling, CSRF and the authorization gate. */
#include "auth.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "db.h"
#include "http.h"
#include "log.h"

static struct config cfg;
static int hash_bound = 1;
static int hash_busy;                       /* atomic */
static char dummy_hash[crypto_pwhash_STRBYTES];
static char **blocklist;
static size_t nblocklist;
static unsigned char cache_key[crypto_generichash_KEYBYTES];

/* ---- the credential cache: one per process, shared by every worker ---- */

#define CACHE_SLOTS 4096
#define CACHE_PROBE 8

enum cache_kind { CK_SESSION = 1, CK_TOKEN, CK_BASIC };

struct cache_entry {
	unsigned char key[32];
	int kind;
	long long expires_ms;
	struct auth_user u;
};

static struct cache_entry cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static size_t
slot_of(const unsigned char *key)
{
	size_t h;

	memcpy(&h, key, sizeof(h));
	return h % CACHE_SLOTS;
}

static int
cache_get(int kind, const unsigned char key[32], struct auth_user *u)
{
	size_t s = slot_of(key);
	long long now = mono_ms();
	int hit = 0;

	if (cfg.auth_cache_ttl == 0)
		return 0;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_PROBE; i++) {
		struct cache_entry *e = &cache[(s + (size_t)i) % CACHE_SLOTS];

		if (e->kind == kind && e->expires_ms > now &&
		    sodium_memcmp(e->key, key, 32) == 0) {
			*u = e->u;
			hit = 1;
			break;
		}
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void
cache_put(int kind, const unsigned char key[32], const struct auth_user *u)
{
	size_t s = slot_of(key);
	long long now = mono_ms();
	struct cache_entry *victim = NULL;

	if (cfg.auth_cache_ttl == 0)
		return;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_PROBE; i++) {
		struct cache_entry *e = &cache[(s + (size_t)i) % CACHE_SLOTS];

		if (e->kind == 0 || e->expires_ms <= now ||
		    (e->kind == kind && memcmp(e->key, key, 32) == 0)) {
			victim = e;
			break;
		}
		if (victim == NULL || e->expires_ms < victim->expires_ms)
			victim = e;
	}
	memcpy(victim->key, key, 32);
	victim->kind = kind;
	victim->u = *u;
	victim->expires_ms = now + cfg.auth_cache_ttl * 1000LL;
	pthread_mutex_unlock(&cache_lock);
}

void
auth_cache_forget(const char *hex)
{
	unsigned char key[32];

	if (sodium_hex2bin(key, sizeof(key), hex, strlen(hex), NULL, NULL, NULL) != 0)
		return;
	pthread_mutex_lock(&cache_lock);
	for (int i = 0; i < CACHE_PROBE; i++) {
		struct cache_entry *e = &cache[(slot_of(key) + (size_t)i) % CACHE_SLOTS];

		if (memcmp(e->key, key, 32) == 0)
			e->kind = 0;
	}
	pthread_mutex_unlock(&cache_lock);
}

void
auth_cache_forget_user(long long user_id)
{
	pthread_mutex_lock(&cache_lock);
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		if (cache[i].kind != 0 && cache[i].u.id == user_id)
			cache[i].kind = 0;
	pthread_mutex_unlock(&cache_lock);
}

/* ---- start-up ---- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
load_blocklist(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[256];
	size_t cap = 0;

	if (f == NULL) {
		snprintf(err, errlen, "password_blocklist %s: cannot open", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		for (size_t i = 0; i < n; i++)
			line[i] = (char)tolower((unsigned char)line[i]);
		if (nblocklist == cap) {
			char **nb;

			cap = cap ? cap * 2 : 1024;
			if ((nb = realloc(blocklist, cap * sizeof(*nb))) == NULL)
				goto fail;
			blocklist = nb;
		}
		if ((blocklist[nblocklist] = strdup(line)) == NULL)
			goto fail;
		nblocklist++;
	}
	fclose(f);
	qsort(blocklist, nblocklist, sizeof(*blocklist), cmp_str);
	return 0;
fail:
	fclose(f);
	snprintf(err, errlen, "out of memory loading %s", path);
	return -1;
}

int
auth_init(const struct config *c, char *err, size_t errlen)
{
	char pw[AUTH_TOKEN_LEN + 1];

	cfg = *c;
	/* Half the cores: argon2 must never hold every core (measured). */
	{
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		hash_bound = cfg.max_concurrent_hashes > 0 ? cfg.max_concurrent_hashes :
		    (cores / 2 > 0 ? (int)(cores / 2) : 1);
	}
	if (load_blocklist(cfg.password_blocklist, err, errlen) == -1)
		return -1;
	randombytes_buf(cache_key, sizeof(cache_key));
	/* The dummy hash makes an unknown user cost one real verify. */
	auth_new_token(pw);
	if (crypto_pwhash_str(dummy_hash, pw, strlen(pw),
	    (unsigned long long)cfg.pwhash_opslimit, cfg.pwhash_memlimit) != 0) {
		snprintf(err, errlen, "argon2id with opslimit %lld memlimit %zu failed "
		    "(out of memory?)", cfg.pwhash_opslimit, cfg.pwhash_memlimit);
		return -1;
	}
	return 0;
}

/* ---- rules ---- */

enum auth_status
auth_username_policy(const char *u, size_t len, char *err, size_t errlen)
{
	if (len < 2 || len > USERNAME_MAX) {
		snprintf(err, errlen, "username must be 2 to %d characters", USERNAME_MAX);
		return AUTH_INVALID;
	}
	if (!isalnum((unsigned char)u[0])) {
		snprintf(err, errlen, "username must start with a letter or digit");
		return AUTH_INVALID;
	}
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)u[i]) && strchr("._@+-", u[i]) == NULL) {
			snprintf(err, errlen, "username may contain only letters, digits "
			    "and . _ @ + -");
			return AUTH_INVALID;
		}
	return AUTH_OK;
}

enum auth_status
auth_password_policy(const char *username, const char *pw, size_t len,
    char *err, size_t errlen)
{
	char lower[PASSWORD_MAX + 1];
	const char *key = lower;

	if (len > PASSWORD_MAX) {
		snprintf(err, errlen, "password must be at most %d bytes", PASSWORD_MAX);
		return AUTH_INVALID;
	}
	if (!utf8_valid(pw, len)) {
		snprintf(err, errlen, "password must be valid UTF-8 without NUL bytes");
		return AUTH_INVALID;
	}
	/* NIST counts characters, not bytes. */
	size_t chars = 0;
	for (size_t i = 0; i < len; i++)
		if (((unsigned char)pw[i] & 0xC0) != 0x80)
			chars++;
	if (chars < PASSWORD_MIN) {
		snprintf(err, errlen, "password must be at least %d characters",
		    PASSWORD_MIN);
		return AUTH_INVALID;
	}
	if (username != NULL && strlen(username) == len &&
	    strncasecmp(username, pw, len) == 0) {
		snprintf(err, errlen, "password must not be the username");
		return AUTH_INVALID;
	}
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)pw[i]);
	lower[len] = '\0';
	if (nblocklist > 0 && bsearch(&key, blocklist, nblocklist, sizeof(*blocklist),
	    cmp_str) != NULL) {
		snprintf(err, errlen, "password is too common: it is on the list of "
		    "the 10,000 most used passwords");
		return AUTH_INVALID;
	}
	return AUTH_OK;
}

/* ---- hashing under the bound ---- */

static int
hash_enter(void)
{
	if (__atomic_add_fetch(&hash_busy, 1, __ATOMIC_ACQ_REL) > hash_bound) {
		__atomic_sub_fetch(&hash_busy, 1, __ATOMIC_ACQ_REL);
		return -1;
	}
	return 0;
}

static void
hash_leave(void)
{
	__atomic_sub_fetch(&hash_busy, 1, __ATOMIC_ACQ_REL);
}

enum auth_status
auth_hash(const char *pw, size_t len, char *out)
{
	int rc;

	if (hash_enter() == -1)
		return AUTH_BUSY;
	rc = crypto_pwhash_str(out, pw, len, (unsigned long long)cfg.pwhash_opslimit,
	    cfg.pwhash_memlimit);
	hash_leave();
	return rc == 0 ? AUTH_OK : AUTH_BUSY;
}

enum auth_status
auth_verify(const char *hash, const char *pw, size_t len)
{
	int rc;

	if (hash_enter() == -1)
		return AUTH_BUSY;
	rc = crypto_pwhash_str_verify(hash ? hash : dummy_hash, pw, len);
	hash_leave();
	return rc == 0 && hash != NULL ? AUTH_OK : AUTH_BADCRED;
}

int
auth_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash,
	    (unsigned long long)cfg.pwhash_opslimit, cfg.pwhash_memlimit) != 0;
}

/* ---- tokens ---- */

void
auth_new_token(char out[AUTH_TOKEN_LEN + 1])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2base64(out, AUTH_TOKEN_LEN + 1, raw, sizeof(raw),
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
}

static void
token_hash_bin(const char *token, unsigned char out[32])
{
	crypto_generichash(out, 32, (const unsigned char *)token, strlen(token),
	    NULL, 0);
}

void
auth_token_hash(const char *token, char out[AUTH_HASH_HEX])
{
	unsigned char h[32];

	token_hash_bin(token, h);
	sodium_bin2hex(out, AUTH_HASH_HEX, h, sizeof(h));
}

static int
token_shape_ok(const char *t, size_t len)
{
	if (len != AUTH_TOKEN_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)t[i]) && t[i] != '-' && t[i] != '_')
			return 0;
	return 1;
}

/* ---- domain operations ---- */

static void
lower_copy(char *dst, size_t dstlen, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && i + 1 < dstlen; i++)
		dst[i] = (char)tolower((unsigned char)s[i]);
	dst[i] = '\0';
}

static long long
lockout_seconds(long long fails, long long max)
{
	long long shift;

	if (fails < max)
		return 0;
	shift = fails - max;
	if (shift > 5)
		shift = 5;
	/* 30 s after the limit, doubling per further failure, capped at 15 min. */
	return (30LL << shift) > 900 ? 900 : (30LL << shift);
}

static enum auth_status
throttle_check(struct db *db, const char *user, const char *addr, int *retry)
{
	const char *vals[2] = { user, addr };
	PGresult *res = db_exec(db, STMT_ATTEMPT_FAILS, 2, vals);
	long long uf, us, af, as, wait = 0, w;

	if (res == NULL)
		return AUTH_DBERR;
	uf = atoll(PQgetvalue(res, 0, 0));
	us = (long long)atof(PQgetvalue(res, 0, 1));
	af = atoll(PQgetvalue(res, 0, 2));
	as = (long long)atof(PQgetvalue(res, 0, 3));
	PQclear(res);
	if ((w = lockout_seconds(uf, cfg.login_max_failures) - us) > wait)
		wait = w;
	if ((w = lockout_seconds(af, cfg.login_addr_max_failures) - as) > wait)
		wait = w;
	if (wait > 0) {
		*retry = (int)wait;
		return AUTH_LOCKED;
	}
	return AUTH_OK;
}

static void
record_attempt(struct db *db, const char *user, const char *addr, int ok)
{
	const char *vals[3] = { user, addr, ok ? "true" : "false" };
	PGresult *res = db_exec(db, STMT_ATTEMPT_INSERT, 3, vals);

	PQclear(res);
}

enum auth_status
auth_login(struct db *db, const char *addr, const char *username, size_t ulen,
    const char *pw, size_t pwlen, struct auth_user *u, int *retry_after)
{
	char lname[USERNAME_MAX * 4 + 1], idbuf[24];
	const char *vals[2];
	PGresult *res = NULL;
	const char *hash = NULL;
	enum auth_status st;
	int disabled = 0;

	memset(u, 0, sizeof(*u));
	*retry_after = 0;
	if (addr == NULL)
		addr = "";
	/* Over-long input is never hashed; it still counts as a failure. */
	if (ulen > USERNAME_MAX * 4 || pwlen > PASSWORD_MAX)
		return AUTH_BADCRED;
	/* Saturated: say so before spending two queries on a login that cannot run. */
	if (__atomic_load_n(&hash_busy, __ATOMIC_ACQUIRE) >= hash_bound)
		return AUTH_BUSY;
	lower_copy(lname, sizeof(lname), username, ulen);
	if ((st = throttle_check(db, lname, addr, retry_after)) != AUTH_OK)
		return st;
	vals[0] = lname;
	if ((res = db_exec(db, STMT_USER_BY_NAME, 1, vals)) == NULL)
		return AUTH_DBERR;
	if (PQntuples(res) == 1) {
		hash = PQgetvalue(res, 0, 2);
		disabled = PQgetvalue(res, 0, 4)[0] == 't';
	}
	st = auth_verify(hash, pw, pwlen);
	if (st == AUTH_BUSY)
		goto out;
	if (st == AUTH_OK && disabled)
		st = AUTH_BADCRED;
	record_attempt(db, lname, addr, st == AUTH_OK);
	if (st != AUTH_OK)
		goto out;
	u->id = atoll(PQgetvalue(res, 0, 0));
	snprintf(u->username, sizeof(u->username), "%s", PQgetvalue(res, 0, 1));
	u->admin = strcmp(PQgetvalue(res, 0, 3), "admin") == 0;
	snprintf(idbuf, sizeof(idbuf), "%lld", u->id);
	if (auth_needs_rehash(hash)) {
		char nh[crypto_pwhash_STRBYTES];

		/* Parameters rose since this hash was made: upgrade it now. */
		if (auth_hash(pw, pwlen, nh) == AUTH_OK) {
			const char *v2[2] = { idbuf, nh };

			PQclear(db_exec(db, STMT_USER_REHASH, 2, v2));
		}
	}
	vals[0] = idbuf;
	PQclear(db_exec(db, STMT_USER_LOGGED_IN, 1, vals));
out:
	PQclear(res);
	return st;
}

enum auth_status
auth_signup(struct db *db, const char *addr, const char *username, size_t ulen,
    const char *pw, size_t pwlen, const char *role, long long *id, char *err,
    size_t errlen)
{
	char uname[USERNAME_MAX + 1], hash[crypto_pwhash_STRBYTES], idbuf[24];
	const char *vals[4];
	PGresult *res;
	enum auth_status st;

	if ((st = auth_username_policy(username, ulen, err, errlen)) != AUTH_OK)
		return st;
	memcpy(uname, username, ulen);
	uname[ulen] = '\0';
	if ((st = auth_password_policy(uname, pw, pwlen, err, errlen)) != AUTH_OK)
		return st;
	if (addr != NULL) {
		vals[0] = addr;
		if ((res = db_exec(db, STMT_SIGNUPS_BY_ADDR, 1, vals)) == NULL)
			return AUTH_DBERR;
		if (atoi(PQgetvalue(res, 0, 0)) >= cfg.signup_per_hour) {
			PQclear(res);
			snprintf(err, errlen, "too many accounts created from this "
			    "address; try again later");
			return AUTH_RATE;
		}
		PQclear(res);
	}
	/*
	 * Claim the name first with a placeholder that no password verifies,
	 * then hash: concurrent signups of one name wait on the unique index
	 * and fail with 23505 without spending a hash each.
	 */
	if (db_command(db, "BEGIN") == -1)
		return AUTH_DBERR;
	vals[0] = uname;
	vals[1] = "!";
	vals[2] = role;
	if ((res = db_exec(db, STMT_USER_INSERT, 3, vals)) == NULL) {
		st = strcmp(db_sqlstate(db), "23505") == 0 ? AUTH_TAKEN : AUTH_DBERR;
		if (st == AUTH_TAKEN)
			snprintf(err, errlen, "username taken");
		goto rollback;
	}
	*id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((st = auth_hash(pw, pwlen, hash)) != AUTH_OK)
		goto rollback;
	snprintf(idbuf, sizeof(idbuf), "%lld", *id);
	vals[0] = idbuf;
	vals[1] = hash;
	if ((res = db_exec(db, STMT_USER_SET_HASH, 2, vals)) == NULL) {
		st = AUTH_DBERR;
		goto rollback;
	}
	PQclear(res);
	vals[0] = "signup";
	vals[1] = idbuf;
	vals[2] = addr ? addr : "cli";
	vals[3] = NULL;
	if ((res = db_exec(db, STMT_EVENT_INSERT, 4, vals)) == NULL) {
		st = AUTH_DBERR;
		goto rollback;
	}
	PQclear(res);
	if (db_command(db, "COMMIT") == -1)
		return AUTH_DBERR;
	return AUTH_OK;
rollback:
	if (db_command(db, "ROLLBACK") == -1)
		return AUTH_DBERR;
	return st;
}

enum auth_status
auth_set_password(struct db *db, long long user_id, const char *username,
    const char *pw, size_t pwlen, char *err, size_t errlen)
{
	char hash[crypto_pwhash_STRBYTES], idbuf[24];
	const char *vals[2] = { idbuf, hash };
	PGresult *res;
	enum auth_status st;

	if ((st = auth_password_policy(username, pw, pwlen, err, errlen)) != AUTH_OK)
		return st;
	if ((st = auth_hash(pw, pwlen, hash)) != AUTH_OK)
		return st;
	snprintf(idbuf, sizeof(idbuf), "%lld", user_id);
	if ((res = db_exec(db, STMT_USER_SET_HASH, 2, vals)) == NULL)
		return AUTH_DBERR;
	PQclear(res);
	auth_cache_forget_user(user_id);
	return AUTH_OK;
}

enum auth_status
auth_session_create(struct db *db, long long user_id, const char *ua,
    const char *addr, char token[AUTH_TOKEN_LEN + 1], long long *sid)
{
	char hash[AUTH_HASH_HEX], idbuf[24], life[24], uabuf[256];
	const char *vals[5] = { hash, idbuf, life, uabuf, addr };
	PGresult *res;

	auth_new_token(token);
	auth_token_hash(token, hash);
	snprintf(idbuf, sizeof(idbuf), "%lld", user_id);
	snprintf(life, sizeof(life), "%d", cfg.session_lifetime);
	snprintf(uabuf, sizeof(uabuf), "%s", ua ? ua : "");
	if (!utf8_valid(uabuf, strlen(uabuf)))
		uabuf[0] = '\0';
	if ((res = db_exec(db, STMT_SESSION_INSERT, 5, vals)) == NULL)
		return AUTH_DBERR;
	*sid = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return AUTH_OK;
}

enum auth_status
auth_token_create(struct db *db, long long user_id, const char *name, int ttl,
    char *raw, size_t rawlen, long long *id)
{
	char tok[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_HEX], idbuf[24], ttlbuf[24];
	const char *vals[4] = { hash, idbuf, name, ttlbuf };
	PGresult *res;

	auth_new_token(tok);
	snprintf(raw, rawlen, "%s%s", API_TOKEN_PREFIX, tok);
	auth_token_hash(raw, hash);
	snprintf(idbuf, sizeof(idbuf), "%lld", user_id);
	snprintf(ttlbuf, sizeof(ttlbuf), "%d", ttl);
	if ((res = db_exec(db, STMT_TOKEN_INSERT, 4, vals)) == NULL)
		return AUTH_DBERR;
	*id = atoll(PQgetvalue(res, 0, 0));
	PQclear(res);
	return AUTH_OK;
}

/* ---- per request ---- */

static int
addr_trusted(const char *addr)
{
	const char *p = cfg.trusted_proxies;
	size_t n = addr ? strlen(addr) : 0;

	while (n > 0 && *p != '\0') {
		size_t len;

		while (*p == ' ' || *p == ',')
			p++;
		len = strcspn(p, ", ");
		if (len == n && strncmp(p, addr, n) == 0)
			return 1;
		p += len;
	}
	return 0;
}

const char *
auth_client_addr(const struct req *r)
{
	const char *ra = r->remote_addr ? r->remote_addr : "";
	const char *ff = r->forwarded_for, *last;
	static __thread char buf[64];
	size_t len;

	if (ff == NULL || !addr_trusted(ra))
		return ra;
	/* The rightmost hop is the one our trusted proxy appended. */
	last = strrchr(ff, ',');
	last = last ? last + 1 : ff;
	while (*last == ' ')
		last++;
	len = strcspn(last, " ");
	if (len == 0 || len >= sizeof(buf))
		return ra;
	memcpy(buf, last, len);
	buf[len] = '\0';
	return buf;
}

static int
request_https(const struct req *r)
{
	if (r->https)
		return 1;
	return r->forwarded_proto != NULL && addr_trusted(r->remote_addr) &&
	    strcasecmp(r->forwarded_proto, "https") == 0;
}

const char *
resp_cookie_attrs(struct req *r, long long max_age)
{
	return arena_printf(r->a, "Path=/; HttpOnly; SameSite=Lax; Max-Age=%lld%s",
	    max_age, request_https(r) ? "; Secure" : "");
}

static void
csrf_for(const char *token, char out[AUTH_HASH_HEX])
{
	static const char msg[] = "verdict csrf v1";
	unsigned char h[32];

	crypto_generichash(h, sizeof(h), (const unsigned char *)msg, sizeof(msg) - 1,
	    (const unsigned char *)token, strlen(token));
	sodium_bin2hex(out, AUTH_HASH_HEX, h, sizeof(h));
}

const char *
auth_csrf_token(struct req *r)
{
	if (r->csrf[0] != '\0')
		return r->csrf;
	if (r->session_token != NULL)
		csrf_for(r->session_token, r->csrf);
	else if (r->pre_token != NULL)
		csrf_for(r->pre_token, r->csrf);
	return r->csrf;
}

int
auth_presession(struct req *r)
{
	char tok[AUTH_TOKEN_LEN + 1];
	const char *attrs;

	if (r->session_token != NULL || r->pre_token != NULL)
		return 0;
	auth_new_token(tok);
	if ((r->pre_token = arena_strdup(r->a, tok)) == NULL ||
	    (attrs = resp_cookie_attrs(r, 86400)) == NULL)
		return -1;
	r->csrf[0] = '\0';
	return resp_cookie(&r->resp, "verdict_pre", tok, attrs);
}

static int
fail_503(struct req *r, const char *what)
{
	if (resp_header(&r->resp, "Retry-After", "1") == -1)
		return -1;
	resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "%s; retry in 1 s", what);
	return -1;
}

static int
fail_401(struct req *r, const char *msg)
{
	int mlflow = !strncmp(r->path, "/api/2.0/", 9) ||
	    !strncmp(r->path, "/ajax-api/", 10);

	if (resp_header(&r->resp, "WWW-Authenticate", mlflow ?
	    "Basic realm=\"verdict\"" : "Bearer realm=\"verdict\"") == -1)
		return -1;
	resp_error(r, 401, "UNAUTHENTICATED", "%s", msg);
	return -1;
}

static int
identify_bearer(struct req *r, const char *tok)
{
	unsigned char key[32];
	char hex[AUTH_HASH_HEX];
	const char *vals[1] = { hex };
	PGresult *res;
	struct auth_user u;

	if (strlen(tok) > 256)
		return fail_401(r, "invalid or expired token");
	token_hash_bin(tok, key);
	if (cache_get(CK_TOKEN, key, &r->user))
		return 0;
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	if ((res = db_exec(r->db, STMT_TOKEN_LOOKUP, 1, vals)) == NULL)
		return fail_503(r, "the database is unavailable");
	if (PQntuples(res) != 1) {
		PQclear(res);
		return fail_401(r, "invalid or expired token");
	}
	memset(&u, 0, sizeof(u));
	u.token_id = atoll(PQgetvalue(res, 0, 0));
	u.id = atoll(PQgetvalue(res, 0, 1));
	snprintf(u.username, sizeof(u.username), "%s", PQgetvalue(res, 0, 2));
	u.admin = strcmp(PQgetvalue(res, 0, 3), "admin") == 0;
	u.via = VIA_BEARER;
	PQclear(res);
	vals[0] = arena_printf(r->a, "%lld", u.token_id);
	if (vals[0] != NULL)
		PQclear(db_exec(r->db, STMT_TOKEN_TOUCH, 1, vals));
	cache_put(CK_TOKEN, key, &u);
	r->user = u;
	return 0;
}

static int
identify_basic(struct req *r, const char *b64)
{
	unsigned char dec[2048], key[32];
	size_t len;
	char *colon;
	struct auth_user u;
	crypto_generichash_state st;
	int retry;

	if (sodium_base642bin(dec, sizeof(dec) - 1, b64, strlen(b64), NULL, &len,
	    NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return fail_401(r, "malformed Basic credentials");
	dec[len] = '\0';
	if ((colon = memchr(dec, ':', len)) == NULL)
		return fail_401(r, "malformed Basic credentials");
	/* The cache key is keyed by a per-process secret: useless if leaked. */
	crypto_generichash_init(&st, cache_key, sizeof(cache_key), sizeof(key));
	crypto_generichash_update(&st, (const unsigned char *)"basic\0", 6);
	crypto_generichash_update(&st, dec, len);
	crypto_generichash_final(&st, key, sizeof(key));
	if (cache_get(CK_BASIC, key, &r->user)) {
		sodium_memzero(dec, sizeof(dec));
		return 0;
	}
	switch (auth_login(r->db, auth_client_addr(r), (const char *)dec,
	    (size_t)(colon - (char *)dec), colon + 1,
	    len - (size_t)(colon - (char *)dec) - 1, &u, &retry)) {
	case AUTH_OK:
		break;
	case AUTH_LOCKED: {
		char ra[16];

		sodium_memzero(dec, sizeof(dec));
		snprintf(ra, sizeof(ra), "%d", retry);
		if (resp_header(&r->resp, "Retry-After", ra) == -1)
			return -1;
		resp_error(r, 429, "REQUEST_LIMIT_EXCEEDED",
		    "too many failed logins; retry in %d s", retry);
		return -1;
	}
	case AUTH_BUSY:
		/*
		 * When a cached credential expires, every in-flight request with it
		 * misses at once: wait briefly for the verify already running to
		 * refill the cache instead of answering 503 to all of them.
		 */
		for (int i = 0; i < 25; i++) {
			usleep(10000);
			if (cache_get(CK_BASIC, key, &r->user)) {
				sodium_memzero(dec, sizeof(dec));
				return 0;
			}
		}
		sodium_memzero(dec, sizeof(dec));
		return fail_503(r, "too many logins in progress");
	case AUTH_DBERR:
		sodium_memzero(dec, sizeof(dec));
		return fail_503(r, "the database is unavailable");
	default:
		sodium_memzero(dec, sizeof(dec));
		return fail_401(r, "invalid username or password");
	}
	sodium_memzero(dec, sizeof(dec));
	u.via = VIA_BASIC;
	cache_put(CK_BASIC, key, &u);
	r->user = u;
	return 0;
}

static int
identify_session(struct req *r, const char *tok)
{
	unsigned char key[32];
	char hex[AUTH_HASH_HEX], idle[24];
	const char *vals[2] = { hex, idle };
	PGresult *res;
	struct auth_user u;
	const char *attrs;

	if (!token_shape_ok(tok, strlen(tok)))
		goto stale;
	token_hash_bin(tok, key);
	if (cache_get(CK_SESSION, key, &r->user)) {
		r->session_token = tok;
		return 0;
	}
	sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
	snprintf(idle, sizeof(idle), "%d", cfg.session_idle);
	if ((res = db_exec(r->db, STMT_SESSION_LOOKUP, 2, vals)) == NULL)
		return r->route->auth == AUTH_PUBLIC ? 0 :
		    fail_503(r, "the database is unavailable");
	if (PQntuples(res) != 1) {
		PQclear(res);
		goto stale;
	}
	memset(&u, 0, sizeof(u));
	u.session_id = atoll(PQgetvalue(res, 0, 0));
	u.id = atoll(PQgetvalue(res, 0, 1));
	snprintf(u.username, sizeof(u.username), "%s", PQgetvalue(res, 0, 2));
	u.admin = strcmp(PQgetvalue(res, 0, 3), "admin") == 0;
	u.via = VIA_SESSION;
	/* last_seen_at is written at most once a minute per session. */
	if (atoi(PQgetvalue(res, 0, 4)) >= 60) {
		vals[0] = arena_printf(r->a, "%lld", u.session_id);
		if (vals[0] != NULL)
			PQclear(db_exec(r->db, STMT_SESSION_TOUCH, 1, vals));
	}
	PQclear(res);
	cache_put(CK_SESSION, key, &u);
	r->user = u;
	r->session_token = tok;
	return 0;
stale:
	/* An unknown, expired or revoked session: anonymous, and drop the cookie. */
	if ((attrs = resp_cookie_attrs(r, 0)) == NULL ||
	    resp_cookie(&r->resp, "verdict_session", "", attrs) == -1)
		return -1;
	return 0;
}

int
auth_identify(struct req *r)
{
	const struct param *c;

	memset(&r->user, 0, sizeof(r->user));
	if ((c = params_get(&r->cookies, "verdict_pre")) != NULL &&
	    token_shape_ok(c->value, c->value_len))
		r->pre_token = c->value;
	if (r->authorization != NULL && *r->authorization != '\0') {
		const char *a = r->authorization;

		if (!strncasecmp(a, "Bearer ", 7))
			return identify_bearer(r, a + 7);
		if (!strncasecmp(a, "Basic ", 6))
			return identify_basic(r, a + 6);
		return fail_401(r, "unsupported Authorization scheme; use Bearer or Basic");
	}
	if ((c = params_get(&r->cookies, "verdict_session")) != NULL &&
	    c->value_len > 0)
		return identify_session(r, c->value);
	return 0;
}

/* Our own origin: public_url, or scheme://Host[:port] as nginx saw it. */
static const char *
own_origin(struct req *r)
{
	int https = request_https(r);
	const char *port = r->server_port;

	if (cfg.public_url[0] != '\0') {
		size_t n = strlen(cfg.public_url);

		while (n > 0 && cfg.public_url[n - 1] == '/')
			n--;
		return arena_strndup(r->a, cfg.public_url, n);
	}
	if (r->host == NULL)
		return NULL;
	/* HTTP_HOST may carry the port already ($http_host), or not ($host). */
	if (strchr(r->host, ':') != NULL || port == NULL ||
	    (https && !strcmp(port, "443")) || (!https && !strcmp(port, "80")))
		return arena_printf(r->a, "%s://%s", https ? "https" : "http", r->host);
	return arena_printf(r->a, "%s://%s:%s", https ? "https" : "http", r->host,
	    port);
}

static int
same_origin(struct req *r)
{
	const char *own = own_origin(r);
	size_t n;

	if (own == NULL)
		return 0;
	n = strlen(own);
	if (r->origin != NULL && strcmp(r->origin, "null") != 0)
		return strcasecmp(r->origin, own) == 0;
	if (r->referer != NULL)
		return strncasecmp(r->referer, own, n) == 0 &&
		    (r->referer[n] == '/' || r->referer[n] == '\0');
	/* Neither header (a non-browser client): the CSRF token decides. */
	return 1;
}

static void
drop_param(struct params *p, const char *name)
{
	size_t j = 0;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i].name, name) != 0)
			p->v[j++] = p->v[i];
	p->n = j;
}

int
auth_enforce(struct req *r)
{
	const struct route *rt = r->route;
	int unsafe = strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0;

	if (rt->auth != AUTH_PUBLIC && r->user.id == 0) {
		if (rt->kind == RK_HTML) {
			const char *next = arena_printf(r->a, "%s%s%s", r->path,
			    r->query && *r->query ? "?" : "", r->query ? r->query : "");
			struct buf b;
			int rc;

			buf_init(&b, 4096);
			rc = buf_adds(&b, "/login?next=") == 0 && next != NULL &&
			    url_encode(&b, next, strlen(next)) == 0;
			(void)resp_redirect(r, rc ? buf_str(&b) : "/login");
			buf_free(&b);
			return -1;
		}
		return fail_401(r, "authentication required");
	}
	if (rt->auth == AUTH_ADMIN && !r->user.admin) {
		resp_error(r, 403, "PERMISSION_DENIED", "administrators only");
		return -1;
	}
	if (unsafe && (r->user.via == VIA_SESSION ||
	    (r->user.via == VIA_NONE && rt->kind == RK_HTML))) {
		const struct param *p = params_get(&r->body_params, "csrf_token");
		const char *given = p ? p->value : r->csrf_header;
		const char *want = auth_csrf_token(r);

		if (!same_origin(r)) {
			resp_error(r, 403, "PERMISSION_DENIED",
			    "cross-origin request refused");
			return -1;
		}
		if (given == NULL || want[0] == '\0' || strlen(given) != strlen(want) ||
		    sodium_memcmp(given, want, strlen(want)) != 0) {
			resp_error(r, 403, "PERMISSION_DENIED",
			    "invalid or missing CSRF token; reload the page and try again");
			return -1;
		}
		drop_param(&r->body_params, "csrf_token");
	}
	return 0;
}
