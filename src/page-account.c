/* page-account.c: HTML pages for signup, login, logout and the account page (password, sessions, API tokens). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "handlers.h"

/* The login form's "next": a same-origin path, else the start page. */
static const char *
safe_next(struct req *r, const struct value *v)
{
	if (v->present && http_local_path_ok(v->s) && strncmp(v->s, "/login", 6) != 0 &&
	    strncmp(v->s, "/logout", 7) != 0)
		return v->s;
	(void)r;
	return "/";
}

static int
start_session(struct req *r, long long user_id)
{
	char tok[AUTH_TOKEN_LEN + 1];
	long long sid;
	const char *attrs = resp_cookie_attrs(r, r->app->cfg.session_lifetime);
	int rc;

	if (attrs == NULL || auth_session_create(r->db, user_id, r->user_agent,
	    auth_client_addr(r), tok, &sid) != AUTH_OK)
		return -1;
	rc = resp_cookie(&r->resp, "verdict_session", tok, attrs);
	sodium_memzero(tok, sizeof(tok));
	return rc;
}

/* Renders a form page again with an error and the status that names it. */
static int
form_error(struct req *r, const char *tpl, enum auth_status st, const char *msg,
    int retry, json_t *ctx)
{
	int status = 400;
	char ra[16];

	switch (st) {
	case AUTH_TAKEN: status = 409; msg = "username taken"; break;
	case AUTH_BADCRED: status = 401; msg = "invalid username or password"; break;
	case AUTH_LOCKED:
		status = 429;
		snprintf(ra, sizeof(ra), "%d", retry);
		if (resp_header(&r->resp, "Retry-After", ra) == -1)
			return -1;
		json_object_set_new(ctx, "error", json_sprintf(
		    "too many failed logins; try again in %d seconds", retry));
		return resp_html(r, status, tpl, ctx);
	case AUTH_RATE: status = 429; break;
	case AUTH_BUSY:
		status = 503;
		msg = "the server is busy; try again in a second";
		if (resp_header(&r->resp, "Retry-After", "1") == -1)
			return -1;
		break;
	case AUTH_NOTFOUND: status = 404; break;
	case AUTH_DBERR:
		json_decref(ctx);
		return -1;
	default: break;
	}
	json_object_set_new(ctx, "error", json_string(msg));
	return resp_html(r, status, tpl, ctx);
}

int
page_signup(struct req *r)
{
	if (r->user.id != 0)
		return resp_redirect(r, "/account");
	if (auth_presession(r) == -1)
		return -1;
	return resp_html(r, 200, "signup", json_pack("{s:s, s:b}", "title",
	    "Sign up", "signup_open", r->app->cfg.signup_open));
}

int
page_signup_post(struct req *r)
{
	char err[256] = "";
	long long id = 0;
	enum auth_status st;
	json_t *ctx = json_pack("{s:s, s:b, s:s#}", "title", "Sign up", "signup_open",
	    r->app->cfg.signup_open, "username", r->in[0].s, (int)r->in[0].len);

	if (!r->app->cfg.signup_open)
		return form_error(r, "signup", AUTH_INVALID,
		    "signup is closed; ask an administrator for an account", 0, ctx);
	if (r->in[2].present && (r->in[2].len != r->in[1].len ||
	    memcmp(r->in[1].s, r->in[2].s, r->in[1].len) != 0))
		return form_error(r, "signup", AUTH_INVALID, "the passwords differ", 0, ctx);
	st = auth_signup(r->db, auth_client_addr(r), r->in[0].s, r->in[0].len,
	    r->in[1].s, r->in[1].len, "user", &id, err, sizeof(err));
	if (st != AUTH_OK)
		return form_error(r, "signup", st, err, 0, ctx);
	json_decref(ctx);
	if (start_session(r, id) == -1 ||
	    resp_flash(r, "ok", "Welcome to verdict: your account is ready.") == -1)
		return -1;
	return resp_redirect(r, "/account");
}

int
page_login(struct req *r)
{
	const char *next = safe_next(r, &r->in[0]);

	if (r->user.id != 0)
		return resp_redirect(r, next);
	if (auth_presession(r) == -1)
		return -1;
	return resp_html(r, 200, "login", json_pack("{s:s, s:s, s:b}", "title",
	    "Log in", "next", next, "signup_open", r->app->cfg.signup_open));
}

int
page_login_post(struct req *r)
{
	struct auth_user u;
	int retry = 0;
	const char *next = safe_next(r, &r->in[2]);
	enum auth_status st;

	st = auth_login(r->db, auth_client_addr(r), r->in[0].s, r->in[0].len,
	    r->in[1].s, r->in[1].len, &u, &retry);
	if (st != AUTH_OK)
		return form_error(r, "login", st, "", retry, json_pack("{s:s, s:s, s:s#, s:b}",
		    "title", "Log in", "next", next, "username", r->in[0].s,
		    (int)r->in[0].len, "signup_open", r->app->cfg.signup_open));
	/* A fresh session id at login: a planted cookie is never promoted. */
	if (r->session_token != NULL) {
		char hash[AUTH_HASH_HEX];
		const char *vals[1] = { hash };

		auth_token_hash(r->session_token, hash);
		PQclear(db_exec(r->db, STMT_SESSION_DELETE, 1, vals));
		auth_cache_forget(hash);
	}
	if (start_session(r, u.id) == -1)
		return -1;
	return resp_redirect(r, next);
}

int
page_logout(struct req *r)
{
	const char *attrs = resp_cookie_attrs(r, 0);

	if (r->session_token != NULL) {
		char hash[AUTH_HASH_HEX];
		const char *vals[1] = { hash };
		PGresult *res;

		auth_token_hash(r->session_token, hash);
		if ((res = db_exec(r->db, STMT_SESSION_DELETE, 1, vals)) == NULL)
			return -1;
		PQclear(res);
		auth_cache_forget(hash);
	}
	if (attrs == NULL || resp_cookie(&r->resp, "verdict_session", "", attrs) == -1 ||
	    resp_flash(r, "ok", "You are logged out.") == -1)
		return -1;
	return resp_redirect(r, "/login");
}

static json_t *
account_sessions(struct req *r)
{
	char uid[24], sid[24];
	const char *vals[2] = { uid, sid };
	PGresult *res;
	json_t *arr;

	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	snprintf(sid, sizeof(sid), "%lld", r->user.session_id);
	if ((res = db_exec(r->db, STMT_SESSION_LIST, 2, vals)) == NULL)
		return NULL;
	arr = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}",
		    "id", PQgetvalue(res, i, 0), "created_at", PQgetvalue(res, i, 1),
		    "last_seen_at", PQgetvalue(res, i, 2), "user_agent",
		    PQgetvalue(res, i, 3), "addr", PQgetvalue(res, i, 4), "current",
		    PQgetvalue(res, i, 5)[0] == 't'));
	PQclear(res);
	return arr;
}

/* The account page; new_token (shown once) may be NULL. */
static int
render_account(struct req *r, int status, const char *new_token, const char *error)
{
	json_t *sessions = account_sessions(r), *tokens = account_tokens(r), *ctx;

	if (sessions == NULL || tokens == NULL) {
		json_decref(sessions);
		json_decref(tokens);
		return -1;
	}
	ctx = json_pack("{s:s, s:o, s:o, s:b}", "title", "Account", "sessions",
	    sessions, "tokens", tokens, "signed_in_by_session",
	    r->user.via == VIA_SESSION);
	if (new_token != NULL)
		json_object_set_new(ctx, "new_token", json_string(new_token));
	if (error != NULL)
		json_object_set_new(ctx, "error", json_string(error));
	return resp_html(r, status, "account", ctx);
}

int
page_account(struct req *r)
{
	return render_account(r, 200, NULL, NULL);
}

int
page_account_password(struct req *r)
{
	struct auth_user u;
	char err[256] = "";
	int retry = 0;
	enum auth_status st;
	char sid[24];
	const char *vals[2];
	PGresult *res;

	st = auth_login(r->db, auth_client_addr(r), r->user.username,
	    strlen(r->user.username), r->in[0].s, r->in[0].len, &u, &retry);
	if (st == AUTH_BADCRED)
		return render_account(r, 400, NULL, "the current password is wrong");
	if (st != AUTH_OK)
		return st == AUTH_DBERR ? -1 : render_account(r, st == AUTH_LOCKED ? 429 :
		    503, NULL, "too many attempts or the server is busy; try again later");
	st = auth_set_password(r->db, r->user.id, r->user.username, r->in[1].s,
	    r->in[1].len, err, sizeof(err));
	if (st == AUTH_INVALID)
		return render_account(r, 400, NULL, err);
	if (st != AUTH_OK)
		return st == AUTH_DBERR ? -1 : render_account(r, 503, NULL,
		    "the server is busy; try again in a second");
	/* Every other session ends; this one is replaced by a fresh id. */
	snprintf(sid, sizeof(sid), "%lld", r->user.id);
	vals[0] = sid;
	if ((res = db_exec(r->db, STMT_SESSION_DELETE_USER, 1, vals)) == NULL)
		return -1;
	PQclear(res);
	auth_cache_forget_user(r->user.id);
	if (start_session(r, r->user.id) == -1 ||
	    resp_flash(r, "ok", "Password changed; other sessions were logged out.") == -1)
		return -1;
	return resp_redirect(r, "/account");
}

int
page_account_session_revoke(struct req *r)
{
	const char *id = req_path_param(r, "id");
	char uid[24];
	const char *vals[2] = { id, uid };
	PGresult *res;
	char *end;

	strtoll(id, &end, 10);
	if (*end != '\0') {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "session id must be an integer");
		return 0;
	}
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if ((res = db_exec(r->db, STMT_SESSION_DELETE_OWN, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such session");
		return 0;
	}
	auth_cache_forget(PQgetvalue(res, 0, 0));
	PQclear(res);
	if (resp_flash(r, "ok", "Session revoked.") == -1)
		return -1;
	return resp_redirect(r, "/account");
}

int
page_account_token_create(struct req *r)
{
	char raw[128];
	long long id;
	int days = r->in[1].present ? (int)r->in[1].i : 0;
	int rc;

	if (auth_token_create(r->db, r->user.id, r->in[0].s, days * 86400, raw,
	    sizeof(raw), &id) != AUTH_OK)
		return -1;
	/* Shown once, on this response only; never stored or logged. */
	rc = render_account(r, 201, raw, NULL);
	sodium_memzero(raw, sizeof(raw));
	return rc;
}

int
page_account_token_revoke(struct req *r)
{
	const char *id = req_path_param(r, "id");
	char *end;
	enum auth_status st;

	strtoll(id, &end, 10);
	if (*end != '\0') {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "token id must be an integer");
		return 0;
	}
	if ((st = account_revoke_token(r, id)) == AUTH_DBERR)
		return -1;
	if (st != AUTH_OK) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no such token");
		return 0;
	}
	if (resp_flash(r, "ok", "Token revoked.") == -1)
		return -1;
	return resp_redirect(r, "/account");
}
