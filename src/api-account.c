/* api-account.c: JSON accounts API — signup, OAuth2 password grant, me, API tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "handlers.h"

/* Maps a domain status onto the JSON error every account endpoint uses. */
int
api_auth_error(struct req *r, enum auth_status st, const char *msg, int retry)
{
	char ra[16];

	switch (st) {
	case AUTH_INVALID:
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", msg);
		return 0;
	case AUTH_TAKEN:
		resp_error(r, 409, "RESOURCE_ALREADY_EXISTS", "username taken");
		return 0;
	case AUTH_BADCRED:
		if (resp_header(&r->resp, "WWW-Authenticate", "Bearer realm=\"verdict\"") == -1)
			return -1;
		resp_error(r, 401, "UNAUTHENTICATED", "invalid username or password");
		return 0;
	case AUTH_LOCKED:
	case AUTH_RATE:
		snprintf(ra, sizeof(ra), "%d", retry > 0 ? retry : 3600);
		if (resp_header(&r->resp, "Retry-After", ra) == -1)
			return -1;
		if (st == AUTH_LOCKED)
			resp_error(r, 429, "REQUEST_LIMIT_EXCEEDED",
			    "too many failed logins; retry in %d s", retry);
		else
			resp_error(r, 429, "REQUEST_LIMIT_EXCEEDED", "%s", msg);
		return 0;
	case AUTH_BUSY:
		if (resp_header(&r->resp, "Retry-After", "1") == -1)
			return -1;
		resp_error(r, 503, "TEMPORARILY_UNAVAILABLE",
		    "too many password operations in progress; retry in 1 s");
		return 0;
	case AUTH_NOTFOUND:
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "%s", msg);
		return 0;
	case AUTH_DBERR:
	case AUTH_OK:
		break;
	}
	return -1;
}

int
api_signup(struct req *r)
{
	char err[256] = "";
	long long id = 0;
	enum auth_status st;

	if (!r->app->cfg.signup_open) {
		resp_error(r, 403, "PERMISSION_DENIED", "signup is closed; ask an administrator");
		return 0;
	}
	st = auth_signup(r->db, auth_client_addr(r), r->in[0].s, r->in[0].len,
	    r->in[1].s, r->in[1].len, "user", &id, err, sizeof(err));
	if (st != AUTH_OK)
		return api_auth_error(r, st, err, 0);
	return resp_json(r, 201, json_pack("{s:I, s:s#}", "id", (json_int_t)id,
	    "username", r->in[0].s, (int)r->in[0].len));
}

/* OAuth2 password grant, as FastAPI's OAuth2PasswordRequestForm expects. */
int
api_token(struct req *r)
{
	struct auth_user u;
	char raw[128];
	long long id;
	int retry = 0;
	enum auth_status st;
	json_t *o;

	if (r->in[2].present && strcmp(r->in[2].s, "password") != 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "unsupported grant_type '%.32s'; only 'password' is supported",
		    r->in[2].s);
		return 0;
	}
	st = auth_login(r->db, auth_client_addr(r), r->in[0].s, r->in[0].len,
	    r->in[1].s, r->in[1].len, &u, &retry);
	if (st != AUTH_OK)
		return api_auth_error(r, st, "", retry);
	if (auth_token_create(r->db, u.id, "oauth2 password grant",
	    r->app->cfg.token_lifetime, raw, sizeof(raw), &id) != AUTH_OK)
		return -1;
	o = json_pack("{s:s, s:s, s:i}", "access_token", raw, "token_type", "bearer",
	    "expires_in", r->app->cfg.token_lifetime);
	sodium_memzero(raw, sizeof(raw));
	return resp_json(r, 200, o);
}

int
api_me(struct req *r)
{
	return resp_json(r, 200, json_pack("{s:I, s:s, s:s, s:s}", "id",
	    (json_int_t)r->user.id, "username", r->user.username, "role",
	    r->user.admin ? "admin" : "user", "auth",
	    r->user.via == VIA_SESSION ? "session" :
	    r->user.via == VIA_BEARER ? "bearer" : "basic"));
}

/* Lists the caller's tokens; shared with the account page. */
json_t *
account_tokens(struct req *r)
{
	char idbuf[24];
	const char *vals[1] = { idbuf };
	PGresult *res;
	json_t *arr;

	snprintf(idbuf, sizeof(idbuf), "%lld", r->user.id);
	if ((res = db_exec(r->db, STMT_TOKEN_LIST, 1, vals)) == NULL)
		return NULL;
	arr = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *t = json_pack("{s:I, s:s, s:s, s:b}",
		    "id", (json_int_t)atoll(PQgetvalue(res, i, 0)),
		    "name", PQgetvalue(res, i, 1),
		    "created_at", PQgetvalue(res, i, 2),
		    "revoked", PQgetvalue(res, i, 5)[0] == 't');

		json_object_set_new(t, "last_used_at", PQgetvalue(res, i, 3)[0] ?
		    json_string(PQgetvalue(res, i, 3)) : json_null());
		json_object_set_new(t, "expires_at", PQgetvalue(res, i, 4)[0] ?
		    json_string(PQgetvalue(res, i, 4)) : json_null());
		json_array_append_new(arr, t);
	}
	PQclear(res);
	return arr;
}

int
api_tokens_list(struct req *r)
{
	json_t *arr = account_tokens(r);

	if (arr == NULL)
		return -1;
	return resp_json(r, 200, json_pack("{s:o}", "tokens", arr));
}

int
api_tokens_create(struct req *r)
{
	char raw[128];
	long long id;
	int ttl = r->in[1].present ? (int)r->in[1].i : 0;
	json_t *o;

	if (auth_token_create(r->db, r->user.id, r->in[0].s, ttl, raw, sizeof(raw),
	    &id) != AUTH_OK)
		return -1;
	o = json_pack("{s:I, s:s, s:s}", "id", (json_int_t)id, "name", r->in[0].s,
	    "token", raw);
	sodium_memzero(raw, sizeof(raw));
	return resp_json(r, 201, o);
}

/* Revokes one of the caller's tokens; shared with the account page. */
enum auth_status
account_revoke_token(struct req *r, const char *id)
{
	char uid[24];
	const char *vals[2] = { id, uid };
	PGresult *res;
	enum auth_status st = AUTH_NOTFOUND;

	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if ((res = db_exec(r->db, STMT_TOKEN_REVOKE, 2, vals)) == NULL)
		return AUTH_DBERR;
	if (PQntuples(res) == 1) {
		auth_cache_forget(PQgetvalue(res, 0, 0));
		st = AUTH_OK;
	}
	PQclear(res);
	return st;
}

int
api_tokens_revoke(struct req *r)
{
	const char *id = req_path_param(r, "id");
	char *end;
	enum auth_status st;

	strtoll(id, &end, 10);
	if (*end != '\0' || end == id) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "token id must be an integer");
		return 0;
	}
	if ((st = account_revoke_token(r, id)) != AUTH_OK)
		return api_auth_error(r, st, "no such token", 0);
	r->resp.status = 204;
	return 0;
}
