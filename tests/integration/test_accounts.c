/* test_accounts.c: accounts end to end — signup, login, sessions, CSRF, tokens, Basic, throttling, admin, hostile input. */
#include <check.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* ---- a minimal cookie-keeping browser ---- */

struct jar {
	char session[128];
	char pre[128];
	char flash[512];
	char addr[32];          /* X-Forwarded-For: each test its own client address */
};

static void
jar_init(struct jar *j)
{
	static int n;

	memset(j, 0, sizeof(*j));
	n++;
	snprintf(j->addr, sizeof(j->addr), "10.%d.%d.%d", getpid() % 250,
	    (n / 250) % 250, n % 250 + 1);
}

static void
jar_update(struct jar *j, const struct http_resp *r)
{
	const char *p = r->headers;

	while ((p = strcasestr(p, "\nSet-Cookie: ")) != NULL) {
		char name[32], value[512];

		p += 13;
		if (sscanf(p, "%31[^=]=%511[^;\r\n]", name, value) < 1)
			continue;
		if (p[strlen(name) + 1] == ';')
			value[0] = '\0';
		if (!strcmp(name, "verdict_session"))
			snprintf(j->session, sizeof(j->session), "%s", value);
		else if (!strcmp(name, "verdict_pre"))
			snprintf(j->pre, sizeof(j->pre), "%s", value);
		else if (!strcmp(name, "verdict_flash"))
			snprintf(j->flash, sizeof(j->flash), "%s", value);
	}
}

/* origin: NULL = send our own Origin, "" = none, else that value. */
static int
jar_req(struct jar *j, const char *method, const char *path, const char *form,
    const char *origin, const char *extra, struct http_resp *out)
{
	char cookie[1000], org[200], xff[64];
	const char *h[6];
	int n = 0, rc;

	snprintf(cookie, sizeof(cookie), "Cookie: verdict_session=%s; verdict_pre=%s; "
	    "verdict_flash=%s", j->session, j->pre, j->flash);
	h[n++] = cookie;
	snprintf(xff, sizeof(xff), "X-Forwarded-For: %s", j->addr);
	h[n++] = xff;
	if (origin == NULL) {
		snprintf(org, sizeof(org), "Origin: %s", harness_url());
		h[n++] = org;
	} else if (*origin) {
		snprintf(org, sizeof(org), "Origin: %s", origin);
		h[n++] = org;
	}
	if (extra != NULL)
		h[n++] = extra;
	h[n] = NULL;
	rc = http_request(method, path, form ? "application/x-www-form-urlencoded" : NULL,
	    form, form ? strlen(form) : 0, h, out);
	if (rc == 0)
		jar_update(j, out);
	return rc;
}

/* The csrf_token hidden field of a page, or "" . */
static void
csrf_of(const struct http_resp *r, char *dst, size_t len)
{
	const char *p = strstr(r->body ? r->body : "", "name=\"csrf_token\" value=\"");

	dst[0] = '\0';
	if (p != NULL)
		sscanf(p + 25, "%127[^\"]", dst);
	(void)len;
}

static void
get_csrf(struct jar *j, const char *path, char *csrf)
{
	struct http_resp r;

	ck_assert_int_eq(jar_req(j, "GET", path, NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	csrf_of(&r, csrf, 128);
	ck_assert_uint_eq(strlen(csrf), 64);
	http_resp_free(&r);
}

static char uniq_buf[64];
static const char *
uniq(const char *prefix)
{
	static int n;

	snprintf(uniq_buf, sizeof(uniq_buf), "%s%d%d", prefix, getpid(), ++n);
	return uniq_buf;
}

#define PW "violet tangerine 42 kites"

static void
html_signup(struct jar *j, const char *user)
{
	char csrf[128], form[512];
	struct http_resp r;
	char loc[256];

	get_csrf(j, "/signup", csrf);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=%s&password2=%s",
	    csrf, user, "violet+tangerine+42+kites", "violet+tangerine+42+kites");
	ck_assert_int_eq(jar_req(j, "POST", "/signup", form, NULL, NULL, &r), 0);
	ck_assert_msg(r.status == 303, "signup %ld: %s", r.status, r.body);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/account");
	ck_assert_uint_eq(strlen(j->session), 43);
	http_resp_free(&r);
}

static int
json_post(const char *path, const char *json, const char *xff, struct http_resp *r)
{
	char h[64];
	const char *hdrs[2] = { h, NULL };

	snprintf(h, sizeof(h), "X-Forwarded-For: %s", xff ? xff : "10.250.0.1");
	return http_request("POST", path, "application/json", json, strlen(json), hdrs, r);
}

static long long
api_signup(const char *user, const char *xff)
{
	char body[256];
	struct http_resp r;
	json_t *j;
	long long id;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" PW "\"}", user);
	ck_assert_int_eq(json_post("/api/signup", body, xff, &r), 0);
	ck_assert_msg(r.status == 201, "signup %ld %s", r.status, r.body);
	j = http_json(&r);
	id = json_integer_value(json_object_get(j, "id"));
	ck_assert_str_eq(json_string_value(json_object_get(j, "username")), user);
	json_decref(j);
	http_resp_free(&r);
	return id;
}

/* OAuth2 password grant → access token (caller frees). */
static char *
api_token(const char *user, const char *pw, long *status)
{
	char form[512];
	struct http_resp r;
	json_t *j;
	char *tok = NULL;

	snprintf(form, sizeof(form), "grant_type=password&username=%s&password=%s", user, pw);
	ck_assert_int_eq(http_request("POST", "/api/token",
	    "application/x-www-form-urlencoded", form, strlen(form), NULL, &r), 0);
	*status = r.status;
	if (r.status == 200) {
		j = http_json(&r);
		ck_assert_str_eq(json_string_value(json_object_get(j, "token_type")), "bearer");
		ck_assert_int_gt(json_integer_value(json_object_get(j, "expires_in")), 0);
		tok = strdup(json_string_value(json_object_get(j, "access_token")));
		json_decref(j);
	}
	http_resp_free(&r);
	return tok;
}

static long
bearer_get(const char *path, const char *tok, struct http_resp *r)
{
	char h[256];
	const char *hdrs[2] = { h, NULL };

	snprintf(h, sizeof(h), "Authorization: Bearer %s", tok);
	ck_assert_int_eq(http_request("GET", path, NULL, NULL, 0, hdrs, r), 0);
	return r->status;
}

static PGconn *
db(void)
{
	char path[1024], line[1024], *v = NULL;
	FILE *f;
	PGconn *c;

	snprintf(path, sizeof(path), "%s/verdict.conf", harness_dir());
	ck_assert_ptr_nonnull(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f) != NULL)
		if (!strncmp(line, "database_url = ", 15)) {
			line[strcspn(line, "\n")] = '\0';
			v = line + 15;
			break;
		}
	fclose(f);
	ck_assert_ptr_nonnull(v);
	c = PQconnectdb(v);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	return c;
}

static char *
db_value(const char *sql, const char *param)
{
	PGconn *c = db();
	const char *vals[1] = { param };
	PGresult *res = PQexecParams(c, sql, param ? 1 : 0, NULL, vals, NULL, NULL, 0);
	char *out;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) ==
	    PGRES_COMMAND_OK, "%s: %s", sql, PQerrorMessage(c));
	out = strdup(PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	PQfinish(c);
	return out;
}

static int
file_contains(const char *name, const char *needle)
{
	char path[1024], line[8192];
	FILE *f;
	int found = 0;

	snprintf(path, sizeof(path), "%s/log/%s", harness_dir(), name);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), f) != NULL)
		found = strstr(line, needle) != NULL;
	fclose(f);
	return found;
}

static void
assert_error(const struct http_resp *r, long status, const char *code, const char *msg)
{
	json_t *j = http_json(r);

	ck_assert_msg(r->status == status, "want %ld got %ld: %s", status, r->status, r->body);
	ck_assert_msg(j != NULL, "not JSON: %s", r->body);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error_code")), code);
	ck_assert_msg(strstr(json_string_value(json_object_get(j, "message")), msg) != NULL,
	    "message %s lacks %s", json_string_value(json_object_get(j, "message")), msg);
	json_decref(j);
}

/* ---- tests ---- */

START_TEST(api_signup_token_me_revoke)
{
	const char *user = uniq("api");
	struct http_resp r;
	long st;
	char *tok, path[64];
	json_t *j;
	long long id;

	(void)api_signup(user, NULL);
	tok = api_token(user, "violet+tangerine+42+kites", &st);
	ck_assert_int_eq(st, 200);
	ck_assert(strncmp(tok, "vdt_", 4) == 0);
	ck_assert_int_eq(bearer_get("/api/me", tok, &r), 200);
	j = http_json(&r);
	ck_assert_str_eq(json_string_value(json_object_get(j, "username")), user);
	ck_assert_str_eq(json_string_value(json_object_get(j, "auth")), "bearer");
	json_decref(j);
	http_resp_free(&r);

	ck_assert_int_eq(bearer_get("/api/tokens", tok, &r), 200);
	j = http_json(&r);
	ck_assert_uint_eq(json_array_size(json_object_get(j, "tokens")), 1);
	id = json_integer_value(json_object_get(json_array_get(json_object_get(j, "tokens"), 0), "id"));
	json_decref(j);
	http_resp_free(&r);

	snprintf(path, sizeof(path), "/api/tokens/%lld", id);
	{
		char h[256];
		const char *hdrs[2] = { h, NULL };

		snprintf(h, sizeof(h), "Authorization: Bearer %s", tok);
		ck_assert_int_eq(http_request("DELETE", path, NULL, NULL, 0, hdrs, &r), 0);
		ck_assert_int_eq(r.status, 204);
		http_resp_free(&r);
	}
	/* Revoked: refused at once (this process forgets its cache entry). */
	ck_assert_int_eq(bearer_get("/api/me", tok, &r), 401);
	assert_error(&r, 401, "UNAUTHENTICATED", "invalid or expired token");
	http_resp_free(&r);
	free(tok);
}
END_TEST

START_TEST(secrets_never_stored_or_logged)
{
	const char *user = uniq("sec");
	struct jar j;
	long st;
	char *tok, *hash, *n;

	jar_init(&j);
	html_signup(&j, user);
	tok = api_token(user, "violet+tangerine+42+kites", &st);
	ck_assert_int_eq(st, 200);
	hash = db_value("SELECT password_hash FROM users WHERE username = $1", user);
	ck_assert_msg(strncmp(hash, "$argon2id$", 10) == 0, "hash %s", hash);
	free(hash);
	/* No raw session or API token anywhere in the tables or the logs. */
	n = db_value("SELECT count(*) FROM sessions WHERE token_hash = $1 OR "
	    "user_agent LIKE '%' || $1 || '%' OR addr = $1", j.session);
	ck_assert_str_eq(n, "0");
	free(n);
	n = db_value("SELECT count(*) FROM api_tokens WHERE token_hash = $1 OR "
	    "name LIKE '%' || $1 || '%'", tok);
	ck_assert_str_eq(n, "0");
	free(n);
	n = db_value("SELECT count(*) FROM api_tokens t JOIN users u ON u.id = t.user_id "
	    "WHERE u.username = $1 AND length(t.token_hash) = 64", user);
	ck_assert_str_eq(n, "1");
	free(n);
	ck_assert(!file_contains("verdictd.log", tok));
	ck_assert(!file_contains("verdictd.log", j.session));
	ck_assert(!file_contains("verdictd-stderr.log", tok));
	free(tok);
}
END_TEST

START_TEST(basic_auth_is_cached)
{
	const char *user = uniq("basic");
	char h[256], b64[200], cred[128], *n;
	const char *hdrs[2] = { h, NULL };
	struct http_resp r;
	FILE *p;

	(void)api_signup(user, NULL);
	snprintf(cred, sizeof(cred), "%s:" PW, user);
	snprintf(h, sizeof(h), "printf '%%s' '%s' | base64 -w0", cred);
	ck_assert_ptr_nonnull(p = popen(h, "r"));
	ck_assert_ptr_nonnull(fgets(b64, sizeof(b64), p));
	pclose(p);
	snprintf(h, sizeof(h), "Authorization: Basic %s", b64);
	for (int i = 0; i < 10; i++) {
		ck_assert_int_eq(http_request("GET", "/api/me", NULL, NULL, 0, hdrs, &r), 0);
		ck_assert_int_eq(r.status, 200);
		http_resp_free(&r);
	}
	/* Ten requests, one argon2 verify: one recorded login. */
	n = db_value("SELECT count(*) FROM login_attempts WHERE username = lower($1)", user);
	ck_assert_str_eq(n, "1");
	free(n);
	snprintf(h, sizeof(h), "Authorization: Basic %s", "d3Jvbmc6d3Jvbmc=");  /* wrong:wrong */
	ck_assert_int_eq(http_request("GET", "/api/me", NULL, NULL, 0, hdrs, &r), 0);
	assert_error(&r, 401, "UNAUTHENTICATED", "invalid username or password");
	ck_assert_ptr_nonnull(http_header(&r, "WWW-Authenticate", cred, sizeof(cred)));
	http_resp_free(&r);
	snprintf(h, sizeof(h), "Authorization: Basic %s", "!!!notbase64");
	ck_assert_int_eq(http_request("GET", "/api/me", NULL, NULL, 0, hdrs, &r), 0);
	assert_error(&r, 401, "UNAUTHENTICATED", "malformed Basic credentials");
	http_resp_free(&r);
}
END_TEST

START_TEST(html_signup_logout_login)
{
	const char *user = uniq("web");
	char uname[64], csrf[128], form[512], loc[256], old[128];
	struct jar j;
	struct http_resp r;

	snprintf(uname, sizeof(uname), "%s", user);
	jar_init(&j);
	html_signup(&j, uname);
	ck_assert_int_eq(jar_req(&j, "GET", "/account", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, uname));
	ck_assert_ptr_nonnull(strstr(r.body, "your account is ready"));   /* flash */
	csrf_of(&r, csrf, sizeof(csrf));
	http_resp_free(&r);

	snprintf(old, sizeof(old), "%s", j.session);
	snprintf(form, sizeof(form), "csrf_token=%s", csrf);
	ck_assert_int_eq(jar_req(&j, "POST", "/logout", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/login");
	http_resp_free(&r);

	/* The old cookie is dead server-side, even when replayed. */
	snprintf(j.session, sizeof(j.session), "%s", old);
	ck_assert_int_eq(jar_req(&j, "GET", "/account", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/login?next=%2Faccount");
	http_resp_free(&r);
	ck_assert_int_eq(jar_req(&j, "GET", "/api/me", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);

	j.session[0] = '\0';
	get_csrf(&j, "/login?next=/account", csrf);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=wrong+password&next=/account",
	    csrf, uname);
	ck_assert_int_eq(jar_req(&j, "POST", "/login", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	ck_assert_ptr_nonnull(strstr(r.body, "invalid username or password"));
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=violet+tangerine+42+kites&next=/account",
	    csrf, uname);
	ck_assert_int_eq(jar_req(&j, "POST", "/login", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/account");
	ck_assert_str_ne(j.session, old);
	http_resp_free(&r);
	ck_assert_int_eq(jar_req(&j, "GET", "/api/me", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
}
END_TEST

START_TEST(csrf_and_origin)
{
	char csrf[128], other[128], form[512];
	struct jar j, k;
	struct http_resp r;
	const char *evil_ref = "Referer: https://evil.example/page";

	jar_init(&j);
	jar_init(&k);
	html_signup(&j, uniq("csrf"));
	html_signup(&k, uniq("csrfk"));
	ck_assert_int_eq(jar_req(&j, "GET", "/account", NULL, "", NULL, &r), 0);
	csrf_of(&r, csrf, sizeof(csrf));
	http_resp_free(&r);
	ck_assert_int_eq(jar_req(&k, "GET", "/account", NULL, "", NULL, &r), 0);
	csrf_of(&r, other, sizeof(other));
	http_resp_free(&r);

	struct { const char *form, *origin, *extra; } cases[] = {
		{ "name=t1", NULL, NULL },                                   /* missing */
		{ "name=t2&csrf_token=00", NULL, NULL },                     /* mismatched */
		{ NULL, NULL, NULL },                                        /* another session's */
		{ NULL, "https://evil.example", NULL },                      /* cross-origin */
		{ NULL, "", NULL },                                          /* cross-site Referer */
	};
	char f3[256], f4[256];

	snprintf(f3, sizeof(f3), "name=t3&csrf_token=%s", other);
	snprintf(f4, sizeof(f4), "name=t4&csrf_token=%s", csrf);
	cases[2].form = f3;
	cases[3].form = f4;
	cases[4].form = f4;
	cases[4].extra = evil_ref;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ck_assert_int_eq(jar_req(&j, "POST", "/account/tokens", cases[i].form,
		    cases[i].origin, cases[i].extra, &r), 0);
		ck_assert_msg(r.status == 403, "case %zu: %ld", i, r.status);
		ck_assert_msg(strstr(r.body, i < 3 ? "CSRF token" : "cross-origin request refused"),
		    "case %zu: %s", i, r.body);
		http_resp_free(&r);
	}
	/* The right token from the right origin works. */
	snprintf(form, sizeof(form), "name=ok&csrf_token=%s", csrf);
	ck_assert_int_eq(jar_req(&j, "POST", "/account/tokens", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 201);
	ck_assert_ptr_nonnull(strstr(r.body, "id=\"new-token\">vdt_"));
	http_resp_free(&r);
	/* Login CSRF: a login form without the pre-session token is refused. */
	{
		struct jar n;

		jar_init(&n);
		ck_assert_int_eq(jar_req(&n, "POST", "/login", "username=a&password=b", NULL,
		    NULL, &r), 0);
		ck_assert_int_eq(r.status, 403);
		http_resp_free(&r);
	}
	/* Bearer JSON requests carry no ambient credential: no CSRF token or Origin needed. */
	{
		long st;
		char *tok, auth_h[256];
		const char *h[3] = { auth_h, "Origin: https://elsewhere.example", NULL };
		struct jar b;

		jar_init(&b);
		html_signup(&b, uniq("bearer"));
		tok = api_token(uniq_buf, "violet+tangerine+42+kites", &st);
		ck_assert_int_eq(st, 200);
		snprintf(auth_h, sizeof(auth_h), "Authorization: Bearer %s", tok);
		ck_assert_int_eq(http_request("POST", "/api/tokens", "application/json",
		    "{\"name\":\"no-csrf\"}", strlen("{\"name\":\"no-csrf\"}"), h, &r), 0);
		ck_assert_msg(r.status == 201, "%ld %s", r.status, r.body);
		http_resp_free(&r);
		free(tok);
	}
}
END_TEST

START_TEST(open_redirects_refused)
{
	static const char *const evil[] = {
		"//evil.example", "/\\evil.example", "https://evil.example",
		"%2F%2Fevil.example", "%2F%5Cevil.example", "/%09/evil.example",
		"http:%2F%2Fevil.example", "javascript:alert(1)", "/%0D%0ALocation:%20x",
	};
	const char *user = uniq("redir");
	char uname[64], csrf[128], form[512], loc[256];
	struct http_resp r;

	snprintf(uname, sizeof(uname), "%s", user);
	(void)api_signup(uname, NULL);
	for (size_t i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
		struct jar j;

		jar_init(&j);
		get_csrf(&j, "/login", csrf);
		snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=violet+tangerine+42+kites&next=%s",
		    csrf, uname, evil[i]);
		ck_assert_int_eq(jar_req(&j, "POST", "/login", form, NULL, NULL, &r), 0);
		ck_assert_msg(r.status == 303, "case %zu: %ld", i, r.status);
		ck_assert_msg(!strcmp(http_header(&r, "Location", loc, sizeof(loc)), "/"),
		    "case %zu (%s) redirected to %s", i, evil[i], loc);
		http_resp_free(&r);
	}
}
END_TEST

START_TEST(session_fixation)
{
	const char *planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	char uname[64], csrf[128], form[512];
	struct jar j;
	struct http_resp r;

	snprintf(uname, sizeof(uname), "%s", uniq("fix"));
	(void)api_signup(uname, NULL);
	jar_init(&j);
	snprintf(j.session, sizeof(j.session), "%s", planted);
	get_csrf(&j, "/login", csrf);
	/* The planted id is unknown: the server drops it and stays anonymous. */
	ck_assert_str_eq(j.session, "");
	snprintf(j.session, sizeof(j.session), "%s", planted);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=violet+tangerine+42+kites",
	    csrf, uname);
	ck_assert_int_eq(jar_req(&j, "POST", "/login", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
	ck_assert_uint_eq(strlen(j.session), 43);
	ck_assert_str_ne(j.session, planted);
}
END_TEST

START_TEST(hostile_json_signup)
{
	static char big_user[10300], big_pw[2100], huge[1100000];
	struct { const char *body; long status; const char *code, *msg; } cases[] = {
		{ "{\"username\":\"x'; DROP TABLE users;--\",\"password\":\"" PW "\"}", 400,
		  "INVALID_PARAMETER_VALUE", "username may contain only" },
		{ NULL, 400, "INVALID_PARAMETER_VALUE", "field 'username': must be at most 256 bytes" },
		{ "{\"username\":\"nul\\u0000byte\",\"password\":\"" PW "\"}", 400,
		  "BAD_REQUEST", "NUL characters" },
		{ "{\"username\":\"bad\xff\xfe\",\"password\":\"" PW "\"}", 400,
		  "BAD_REQUEST", "malformed JSON body" },
		{ "{\"username\":\"okname1\",\"password\":\"pw\\u0000with nul inside\"}", 400,
		  "BAD_REQUEST", "NUL characters" },
		{ NULL, 400, "INVALID_PARAMETER_VALUE", "field 'password': must be at most 1024 bytes" },
		{ NULL, 413, "PAYLOAD_TOO_LARGE", "exceeds the limit" },
		{ "{\"username\":\"okname2\",\"password\":\"password123\"}", 400,
		  "INVALID_PARAMETER_VALUE", "too common" },
		{ "{\"username\":\"okname3longer\",\"password\":\"OKNAME3LONGER\"}", 400,
		  "INVALID_PARAMETER_VALUE", "must not be the username" },
		{ "{\"username\":\"okname4\",\"password\":\"short\"}", 400,
		  "INVALID_PARAMETER_VALUE", "at least 8 characters" },
		{ "{\"username\":\"okname5\"}", 400, "INVALID_PARAMETER_VALUE",
		  "field 'password': required" },
		{ "{\"username\":\"okname6\",\"password\":\"" PW "\",\"role\":\"admin\"}", 400,
		  "INVALID_PARAMETER_VALUE", "unknown field 'role'" },
		{ "{\"username\":", 400, "BAD_REQUEST", "malformed JSON body" },
		{ "[1,2,3]", 400, "INVALID_PARAMETER_VALUE", "must be a JSON object" },
	};

	memcpy(big_user, "{\"username\":\"", 13);
	memset(big_user + 13, 'u', 10240);
	snprintf(big_user + 13 + 10240, sizeof(big_user) - 13 - 10240,
	    "\",\"password\":\"" PW "\"}");
	cases[1].body = big_user;
	memset(big_pw, 'p', sizeof(big_pw) - 1);
	memcpy(big_pw, "{\"username\":\"bigpw\",\"password\":\"", 32);
	memcpy(big_pw + sizeof(big_pw) - 3, "\"}", 3);
	cases[5].body = big_pw;
	memset(huge, 'p', sizeof(huge) - 1);
	memcpy(huge, "{\"username\":\"hugepw\",\"password\":\"", 33);
	memcpy(huge + sizeof(huge) - 3, "\"}", 3);
	cases[6].body = huge;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_resp r;

		ck_assert_int_eq(json_post("/api/signup", cases[i].body, "10.250.1.1", &r), 0);
		ck_assert_msg(r.status == cases[i].status, "case %zu: %ld %s", i, r.status, r.body);
		assert_error(&r, cases[i].status, cases[i].code, cases[i].msg);
		http_resp_free(&r);
	}
}
END_TEST

START_TEST(hostile_form_fields)
{
	struct { const char *path, *form; long status; const char *msg; } cases[] = {
		{ "/api/token", "username=a%00b&password=x", 400, "valid UTF-8 without NUL" },
		{ "/api/token", "username=%ff%fe&password=x", 400, "valid UTF-8" },
		{ "/api/token", "username=a&password=%zz", 400, "malformed form body" },
		{ "/api/token", "username=a", 400, "field 'password': required" },
		{ "/api/token", "grant_type=client_credentials&username=a&password=b", 400,
		  "unsupported grant_type" },
		{ "/api/signup", "username=okform&password=x&password=y", 400, "given more than once" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_resp r;

		ck_assert_int_eq(http_request("POST", cases[i].path,
		    "application/x-www-form-urlencoded", cases[i].form,
		    strlen(cases[i].form), NULL, &r), 0);
		ck_assert_msg(r.status == cases[i].status, "case %zu: %ld %s", i, r.status, r.body);
		ck_assert_msg(strstr(r.body, cases[i].msg) != NULL, "case %zu: %s", i, r.body);
		http_resp_free(&r);
	}
}
END_TEST

START_TEST(expired_and_revoked)
{
	const char *user = uniq("exp");
	char uname[64], body[128], tok[128], h[256];
	const char *hdrs[2] = { h, NULL };
	struct http_resp r;
	struct jar j;
	long st;
	char *t, *n;
	json_t *jj;

	snprintf(uname, sizeof(uname), "%s", user);
	(void)api_signup(uname, NULL);
	t = api_token(uname, "violet+tangerine+42+kites", &st);
	ck_assert_int_eq(st, 200);
	/* A token that expires in 1 s, never used before it does. */
	snprintf(body, sizeof(body), "{\"name\":\"short\",\"expires_in\":1}");
	snprintf(h, sizeof(h), "Authorization: Bearer %s", t);
	ck_assert_int_eq(http_request("POST", "/api/tokens", "application/json", body,
	    strlen(body), hdrs, &r), 0);
	ck_assert_int_eq(r.status, 201);
	jj = http_json(&r);
	snprintf(tok, sizeof(tok), "%s", json_string_value(json_object_get(jj, "token")));
	json_decref(jj);
	http_resp_free(&r);
	sleep(2);
	ck_assert_int_eq(bearer_get("/api/me", tok, &r), 401);
	http_resp_free(&r);
	free(t);

	/* An expired session (never used since login, so nothing cached it). */
	jar_init(&j);
	html_signup(&j, uniq("exps"));
	n = db_value("UPDATE sessions SET expires_at = now() - interval '1 second' "
	    "WHERE user_id = (SELECT id FROM users WHERE username = $1) RETURNING id", uniq_buf);
	free(n);
	ck_assert_int_eq(jar_req(&j, "GET", "/api/me", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
}
END_TEST

START_TEST(throttling_locks_out)
{
	char uname[64], form[256], ra[32];
	struct http_resp r;
	const char *hdrs[2] = { "X-Forwarded-For: 10.251.0.7", NULL };

	snprintf(uname, sizeof(uname), "%s", uniq("thr"));
	(void)api_signup(uname, NULL);
	snprintf(form, sizeof(form), "username=%s&password=wrong+guess", uname);
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(http_request("POST", "/api/token",
		    "application/x-www-form-urlencoded", form, strlen(form), hdrs, &r), 0);
		ck_assert_int_eq(r.status, 401);
		http_resp_free(&r);
	}
	/* Sixth try, even with the right password: locked out. */
	snprintf(form, sizeof(form), "username=%s&password=violet+tangerine+42+kites", uname);
	ck_assert_int_eq(http_request("POST", "/api/token",
	    "application/x-www-form-urlencoded", form, strlen(form), hdrs, &r), 0);
	assert_error(&r, 429, "REQUEST_LIMIT_EXCEEDED", "too many failed logins");
	ck_assert_ptr_nonnull(http_header(&r, "Retry-After", ra, sizeof(ra)));
	ck_assert_int_gt(atoi(ra), 0);
	ck_assert_int_le(atoi(ra), 30);
	http_resp_free(&r);
	/* An unknown user gets the same generic message, not "no such user". */
	ck_assert_int_eq(http_request("POST", "/api/token", "application/x-www-form-urlencoded",
	    "username=no-such-user-x&password=whatever1", 41, NULL, &r), 0);
	assert_error(&r, 401, "UNAUTHENTICATED", "invalid username or password");
	http_resp_free(&r);
}
END_TEST

struct signup_arg {
	const char *user;
	long status;
	char msg[128];
};

static void *
signup_thread(void *p)
{
	struct signup_arg *a = p;
	char body[256];
	struct http_resp r;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" PW "\"}", a->user);
	if (json_post("/api/signup", body, "10.252.0.1", &r) == 0) {
		json_t *j = http_json(&r);

		a->status = r.status;
		if (j != NULL)
			snprintf(a->msg, sizeof(a->msg), "%s",
			    json_string_value(json_object_get(j, "message")) ?: "");
		json_decref(j);
	}
	http_resp_free(&r);
	return NULL;
}

START_TEST(concurrent_signups_one_wins)
{
	enum { N = 50 };
	pthread_t t[N];
	struct signup_arg a[N];
	char uname[64], *n;
	int created = 0, taken = 0;
	struct http_resp r;

	snprintf(uname, sizeof(uname), "%s", uniq("race"));
	ck_assert_int_eq(http_get("/healthz", &r), 0);   /* curl_global_init before threads */
	http_resp_free(&r);
	for (int i = 0; i < N; i++) {
		memset(&a[i], 0, sizeof(a[i]));
		a[i].user = uname;
		pthread_create(&t[i], NULL, signup_thread, &a[i]);
	}
	for (int i = 0; i < N; i++) {
		pthread_join(t[i], NULL);
		if (a[i].status == 201)
			created++;
		else if (a[i].status == 409 && !strcmp(a[i].msg, "username taken"))
			taken++;
		else
			ck_abort_msg("signup %d: %ld %s", i, a[i].status, a[i].msg);
	}
	ck_assert_int_eq(created, 1);
	ck_assert_int_eq(taken, N - 1);
	n = db_value("SELECT count(*) FROM users WHERE lower(username) = lower($1)", uname);
	ck_assert_str_eq(n, "1");
	free(n);
}
END_TEST

START_TEST(signup_rate_limited_per_address)
{
	char user[64], body[256];
	struct http_resp r;
	int limited = 0;

	for (int i = 0; i < 25 && !limited; i++) {
		snprintf(user, sizeof(user), "rate%d_%d", getpid(), i);
		snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"" PW "\"}", user);
		ck_assert_int_eq(json_post("/api/signup", body, "10.253.0.9", &r), 0);
		if (r.status == 429) {
			assert_error(&r, 429, "REQUEST_LIMIT_EXCEEDED", "too many accounts");
			ck_assert_int_eq(i, 20);
			limited = 1;
		} else
			ck_assert_int_eq(r.status, 201);
		http_resp_free(&r);
	}
	ck_assert(limited);
}
END_TEST

static int
run_cli(const char *args, const char *input, char *out, size_t outlen)
{
	char cmd[2048];
	FILE *p;
	size_t n;
	const char *bd = getenv("VERDICT_BUILDDIR");

	snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | %s/src/verdict --config %s/verdict.conf %s 2>&1",
	    input ? input : "", bd ? bd : ".", harness_dir(), args);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	return pclose(p);
}

START_TEST(admin_pages_and_cli)
{
	char admin[64], user[64], args[256], out[8192], csrf[128], form[512], loc[128];
	struct jar aj, uj;
	struct http_resp r;
	long st;
	char *tok, *uid;

	snprintf(admin, sizeof(admin), "adm%d", getpid());
	snprintf(user, sizeof(user), "%s", uniq("victim"));
	snprintf(args, sizeof(args), "user add %s --admin --password-stdin", admin);
	ck_assert_int_eq(run_cli(args, PW, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "created admin"));
	ck_assert_int_ne(run_cli(args, PW, out, sizeof(out)), 0);     /* twice: taken */
	ck_assert_ptr_nonnull(strstr(out, "username taken"));
	ck_assert_int_eq(run_cli("user list", NULL, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, admin));

	/* A user is refused the admin page; the admin sees it. */
	jar_init(&uj);
	html_signup(&uj, user);
	ck_assert_int_eq(jar_req(&uj, "GET", "/admin/users", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);
	tok = api_token(user, "violet+tangerine+42+kites", &st);
	ck_assert_int_eq(st, 200);

	jar_init(&aj);
	get_csrf(&aj, "/login", csrf);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=violet+tangerine+42+kites",
	    csrf, admin);
	ck_assert_int_eq(jar_req(&aj, "POST", "/login", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
	snprintf(args, sizeof(args), "/admin/users?q=%s", user);
	ck_assert_int_eq(jar_req(&aj, "GET", args, NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, user));
	csrf_of(&r, csrf, sizeof(csrf));
	http_resp_free(&r);

	/* Disabling ends the user's sessions and tokens at once. */
	uid = db_value("SELECT id FROM users WHERE username = $1", user);
	snprintf(args, sizeof(args), "/admin/users/%s", uid);
	snprintf(form, sizeof(form), "csrf_token=%s&action=disable", csrf);
	ck_assert_int_eq(jar_req(&aj, "POST", args, form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", loc, sizeof(loc)), "/admin/users");
	http_resp_free(&r);
	ck_assert_int_eq(bearer_get("/api/me", tok, &r), 401);
	http_resp_free(&r);
	ck_assert_int_eq(jar_req(&uj, "GET", "/api/me", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
	/* Unknown action and bad id are clear 4xx. */
	snprintf(form, sizeof(form), "csrf_token=%s&action=explode", csrf);
	ck_assert_int_eq(jar_req(&aj, "POST", args, form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "field &#x27;action&#x27;: must be one of")
	    ?: strstr(r.body, "field 'action': must be one of") ?: strstr(r.body, "field &#39;action&#39;"));
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&action=enable", csrf);
	ck_assert_int_eq(jar_req(&aj, "POST", "/admin/users/999999999", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	/* CLI passwd then login with the new password. */
	free(uid);
	snprintf(args, sizeof(args), "user passwd %s --password-stdin", admin);
	ck_assert_int_eq(run_cli(args, "another long passphrase", out, sizeof(out)), 0);
	free(tok);
	tok = api_token(admin, "another+long+passphrase", &st);
	ck_assert_int_eq(st, 200);
	free(tok);
}
END_TEST

START_TEST(password_change_rotates_sessions)
{
	char uname[64], csrf[128], form[512], old[128];
	struct jar j, other;
	struct http_resp r;
	long st;
	char *tok;

	snprintf(uname, sizeof(uname), "%s", uniq("pwc"));
	jar_init(&j);
	html_signup(&j, uname);
	/* A second browser signed in as the same user. */
	jar_init(&other);
	get_csrf(&other, "/login", csrf);
	snprintf(form, sizeof(form), "csrf_token=%s&username=%s&password=violet+tangerine+42+kites",
	    csrf, uname);
	ck_assert_int_eq(jar_req(&other, "POST", "/login", form, NULL, NULL, &r), 0);
	http_resp_free(&r);

	ck_assert_int_eq(jar_req(&j, "GET", "/account", NULL, "", NULL, &r), 0);
	csrf_of(&r, csrf, sizeof(csrf));
	http_resp_free(&r);
	snprintf(old, sizeof(old), "%s", j.session);
	snprintf(form, sizeof(form), "csrf_token=%s&current_password=wrong+one+here&new_password=x",
	    csrf);
	ck_assert_int_eq(jar_req(&j, "POST", "/account/password", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 400);
	ck_assert_ptr_nonnull(strstr(r.body, "current password is wrong"));
	http_resp_free(&r);
	snprintf(form, sizeof(form), "csrf_token=%s&current_password=violet+tangerine+42+kites"
	    "&new_password=a+brand+new+passphrase", csrf);
	ck_assert_int_eq(jar_req(&j, "POST", "/account/password", form, NULL, NULL, &r), 0);
	ck_assert_int_eq(r.status, 303);
	http_resp_free(&r);
	ck_assert_str_ne(j.session, old);   /* new session id at a privilege change */
	ck_assert_int_eq(jar_req(&j, "GET", "/api/me", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	ck_assert_int_eq(jar_req(&other, "GET", "/api/me", NULL, "", NULL, &r), 0);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
	tok = api_token(uname, "violet+tangerine+42+kites", &st);
	ck_assert_int_eq(st, 401);
	free(tok);
	tok = api_token(uname, "a+brand+new+passphrase", &st);
	ck_assert_int_eq(st, 200);
	free(tok);
}
END_TEST

START_TEST(unauthenticated_json_and_html)
{
	struct http_resp r;
	char v[128];

	ck_assert_int_eq(http_get("/api/me", &r), 0);
	assert_error(&r, 401, "UNAUTHENTICATED", "authentication required");
	ck_assert_str_eq(http_header(&r, "WWW-Authenticate", v, sizeof(v)), "Bearer realm=\"verdict\"");
	http_resp_free(&r);
	ck_assert_int_eq(http_get("/account", &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", v, sizeof(v)), "/login?next=%2Faccount");
	http_resp_free(&r);
	ck_assert_int_eq(http_get("/admin/users?q=x", &r), 0);
	ck_assert_int_eq(r.status, 303);
	ck_assert_str_eq(http_header(&r, "Location", v, sizeof(v)),
	    "/login?next=%2Fadmin%2Fusers%3Fq%3Dx");
	http_resp_free(&r);
	{
		const char *h[2] = { "Authorization: Digest abc", NULL };

		ck_assert_int_eq(http_request("GET", "/api/me", NULL, NULL, 0, h, &r), 0);
		assert_error(&r, 401, "UNAUTHENTICATED", "unsupported Authorization scheme");
		http_resp_free(&r);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("accounts");
	TCase *tc = tcase_create("accounts");
	SRunner *sr;
	int failed;

	/* The test client is "behind" nginx's trusted hop so X-Forwarded-For picks addresses. */
	setenv("VERDICT_TRUSTED_PROXIES", "127.0.0.1", 1);
	if (harness_start() == -1)
		return 99;
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, api_signup_token_me_revoke);
	tcase_add_test(tc, secrets_never_stored_or_logged);
	tcase_add_test(tc, basic_auth_is_cached);
	tcase_add_test(tc, html_signup_logout_login);
	tcase_add_test(tc, csrf_and_origin);
	tcase_add_test(tc, open_redirects_refused);
	tcase_add_test(tc, session_fixation);
	tcase_add_test(tc, hostile_json_signup);
	tcase_add_test(tc, hostile_form_fields);
	tcase_add_test(tc, expired_and_revoked);
	tcase_add_test(tc, throttling_locks_out);
	tcase_add_test(tc, concurrent_signups_one_wins);
	tcase_add_test(tc, signup_rate_limited_per_address);
	tcase_add_test(tc, admin_pages_and_cli);
	tcase_add_test(tc, password_change_rotates_sessions);
	tcase_add_test(tc, unauthenticated_json_and_html);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	harness_stop();
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
