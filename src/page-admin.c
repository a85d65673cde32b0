/* page-admin.c: /admin/users — list and search accounts, disable/enable, set role, set a temporary password. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "handlers.h"

#define PAGE_SIZE 50

int
page_admin_users(struct req *r)
{
	char q[200], lim[16], off[16];
	const char *vals[3] = { q, lim, off };
	long long page = r->in[1].present ? r->in[1].i : 1;
	size_t j = 0;
	PGresult *res;
	json_t *users, *ctx;

	/* ILIKE pattern characters typed by the admin are literal. */
	if (r->in[0].present)
		for (size_t i = 0; i < r->in[0].len && j + 2 < sizeof(q); i++) {
			char c = r->in[0].s[i];

			if (c == '%' || c == '_' || c == '\\')
				q[j++] = '\\';
			q[j++] = c;
		}
	q[j] = '\0';
	snprintf(lim, sizeof(lim), "%d", PAGE_SIZE + 1);
	snprintf(off, sizeof(off), "%lld", (page - 1) * PAGE_SIZE);
	if ((res = db_exec(r->db, STMT_USER_LIST, 3, vals)) == NULL)
		return -1;
	users = json_array();
	for (int i = 0; i < PQntuples(res) && i < PAGE_SIZE; i++)
		json_array_append_new(users, json_pack("{s:s, s:s, s:b, s:b, s:s, s:s, s:b}",
		    "id", PQgetvalue(res, i, 0), "username", PQgetvalue(res, i, 1),
		    "admin", strcmp(PQgetvalue(res, i, 2), "admin") == 0,
		    "disabled", PQgetvalue(res, i, 3)[0] == 't',
		    "created_at", PQgetvalue(res, i, 4),
		    "last_login_at", PQgetvalue(res, i, 5),
		    "self", atoll(PQgetvalue(res, i, 0)) == r->user.id));
	ctx = json_pack("{s:s, s:o, s:s#}", "title", "Users", "users", users, "q",
	    r->in[0].present ? r->in[0].s : "", r->in[0].present ? (int)r->in[0].len : 0);
	if (page > 1)
		json_object_set_new(ctx, "prev_page", json_integer(page - 1));
	if (PQntuples(res) > PAGE_SIZE)
		json_object_set_new(ctx, "next_page", json_integer(page + 1));
	PQclear(res);
	return resp_html(r, 200, "admin-users", ctx);
}

int
page_admin_user_action(struct req *r)
{
	const char *id = req_path_param(r, "id");
	const char *action = r->in[0].s;
	const char *vals[4];
	char err[256] = "", detail[128];
	PGresult *res;
	long long uid;
	char *end;
	enum stmt st;

	uid = strtoll(id, &end, 10);
	if (*end != '\0' || uid <= 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "user id must be an integer");
		return 0;
	}
	if (uid == r->user.id && strcmp(action, "set_password") != 0) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "administrators cannot disable or demote themselves");
		return 0;
	}
	vals[0] = id;
	if ((res = db_exec(r->db, STMT_USER_BY_ID, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no user with id %s", id);
		return 0;
	}
	if (!strcmp(action, "set_password")) {
		char uname[USERNAME_MAX + 1];
		enum auth_status as;

		snprintf(uname, sizeof(uname), "%s", PQgetvalue(res, 0, 1));
		PQclear(res);
		if (!r->in[1].present) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "field 'password': required to set a temporary password");
			return 0;
		}
		as = auth_set_password(r->db, uid, uname, r->in[1].s, r->in[1].len, err,
		    sizeof(err));
		if (as == AUTH_INVALID) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
			return 0;
		}
		if (as == AUTH_BUSY) {
			if (resp_header(&r->resp, "Retry-After", "1") == -1)
				return -1;
			resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "the server is busy");
			return 0;
		}
		if (as != AUTH_OK)
			return -1;
	} else {
		PQclear(res);
		vals[0] = id;
		if (!strcmp(action, "disable") || !strcmp(action, "enable")) {
			st = STMT_USER_SET_DISABLED;
			vals[1] = !strcmp(action, "disable") ? "true" : "false";
		} else {
			st = STMT_USER_SET_ROLE;
			vals[1] = !strcmp(action, "make_admin") ? "admin" : "user";
		}
		if ((res = db_exec(r->db, st, 2, vals)) == NULL)
			return -1;
		PQclear(res);
	}
	/* Any change to an account ends its sessions: a privilege change gets a new session id. */
	vals[0] = id;
	if ((res = db_exec(r->db, STMT_SESSION_DELETE_USER, 1, vals)) == NULL)
		return -1;
	PQclear(res);
	auth_cache_forget_user(uid);
	snprintf(detail, sizeof(detail), "{\"action\": \"%s\"}", action);
	vals[0] = "admin_user";
	vals[1] = arena_printf(r->a, "%lld", r->user.id);
	vals[2] = id;
	vals[3] = detail;
	if (vals[1] == NULL || (res = db_exec(r->db, STMT_EVENT_INSERT, 4, vals)) == NULL)
		return -1;
	PQclear(res);
	if (resp_flash(r, "ok", "User updated.") == -1)
		return -1;
	return resp_redirect(r, "/admin/users");
}
