/* api-permissions.c: MLflow's auth endpoints — experiment and registered-model permissions, and users mapped onto verdict's accounts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "db.h"
#include "handlers.h"
#include "perm.h"

/* The last path segment: create, get, update, delete, ... */
static const char *
verb(const struct req *r)
{
	const char *s = strrchr(r->path, '/');

	return s != NULL ? s + 1 : "";
}

/* A user's id and role by name; 0 and answered 404 when there is none, -1 on error. */
static long long
user_by_name(struct req *r, const char *username, int *admin)
{
	const char *vals[1] = { username };
	PGresult *res = db_exec(r->db, STMT_USER_BY_NAME, 1, vals);
	long long id;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "User with username=%.200s not found",
		    username);
		return 0;
	}
	id = atoll(PQgetvalue(res, 0, 0));
	if (admin != NULL)
		*admin = !strcmp(PQgetvalue(res, 0, 3), "admin");
	PQclear(res);
	return id;
}

/*
 * One handler for experiments/permissions/{create,get,update,delete} and
 * registered-models/permissions/{...}: fields in r->in are (resource,
 * username, permission). Managing needs MANAGE on the resource (admins
 * always have it).
 */
static int
permission(struct req *r, int model)
{
	const char *res_id = r->in[0].s, *username = r->in[1].s, *v = verb(r);
	const char *perm_s = r->in[2].present ? r->in[2].s : NULL;
	char uid[24];
	const char *vals[3];
	enum perm p;
	PGresult *res;
	long long id;
	int rc;

	if (model) {
		const char *mv[1] = { res_id };
		int n;

		if ((res = db_exec(r->db, STMT_MODEL_EXISTS, 1, mv)) == NULL)
			return -1;
		n = PQntuples(res);
		PQclear(res);
		if (n == 0) {
			resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
			    "name=%.200s not found", res_id);
			return 0;
		}
		rc = perm_require_model(r, res_id, PERM_MANAGE);
	} else {
		const char *ev[1] = { res_id };
		int n;

		if (strspn(res_id, "0123456789") != strlen(res_id) || strlen(res_id) > 18 ||
		    res_id[0] == '\0') {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid experiment ID "
			    "'%.40s'", res_id);
			return 0;
		}
		if ((res = db_exec(r->db, STMT_EXPERIMENT_EXISTS, 1, ev)) == NULL)
			return -1;
		n = PQntuples(res);
		PQclear(res);
		if (n == 0) {
			resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Could not find experiment "
			    "with ID %s", res_id);
			return 0;
		}
		rc = perm_require_experiment(r, res_id, PERM_MANAGE);
	}
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if ((id = user_by_name(r, username, NULL)) <= 0)
		return id == 0 ? 0 : -1;
	snprintf(uid, sizeof(uid), "%lld", id);
	vals[0] = res_id;
	vals[1] = uid;
	if (!strcmp(v, "create") || !strcmp(v, "update")) {
		if (perm_s == NULL || perm_parse(perm_s, &p) == -1) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid permission '%.40s': "
			    "expected READ, EDIT, MANAGE or NO_PERMISSIONS", perm_s ? perm_s : "");
			return 0;
		}
		vals[2] = perm_name(p);
		if ((res = db_exec(r->db, model ? STMT_PERM_MODEL_SET :
		    STMT_PERM_EXPERIMENT_SET, 3, vals)) == NULL)
			return -1;
		PQclear(res);
		perm_cache_clear();
		if (!strcmp(v, "update"))
			return resp_json(r, 200, json_object());
		return resp_json(r, 200, model ?
		    json_pack("{s:{s:s, s:I, s:s}}", "registered_model_permission", "name", res_id,
		    "user_id", (json_int_t)id, "permission", vals[2]) :
		    json_pack("{s:{s:s, s:I, s:s}}", "experiment_permission", "experiment_id",
		    res_id, "user_id", (json_int_t)id, "permission", vals[2]));
	}
	if (!strcmp(v, "delete")) {
		int n;

		if ((res = db_exec(r->db, model ? STMT_PERM_MODEL_DELETE :
		    STMT_PERM_EXPERIMENT_DELETE, 2, vals)) == NULL)
			return -1;
		n = PQntuples(res);
		PQclear(res);
		perm_cache_clear();
		if (n == 0) {
			resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "No permission for user "
			    "%.200s on %.200s", username, res_id);
			return 0;
		}
		return resp_json(r, 200, json_object());
	}
	/* get: the stored row only (not the default). */
	if ((res = db_exec(r->db, model ? STMT_PERM_MODEL : STMT_PERM_EXPERIMENT, 2,
	    vals)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "No permission for user %.200s on "
		    "%.200s", username, res_id);
		return 0;
	}
	{
		json_t *o = model ?
		    json_pack("{s:{s:s, s:I, s:s}}", "registered_model_permission", "name", res_id,
		    "user_id", (json_int_t)id, "permission", PQgetvalue(res, 0, 0)) :
		    json_pack("{s:{s:s, s:I, s:s}}", "experiment_permission", "experiment_id",
		    res_id, "user_id", (json_int_t)id, "permission", PQgetvalue(res, 0, 0));

		PQclear(res);
		return resp_json(r, 200, o);
	}
}

int
api_experiment_permission(struct req *r)
{
	return permission(r, 0);
}

int
api_model_permission(struct req *r)
{
	return permission(r, 1);
}

/* users/get: {"user": {"id","username","is_admin","experiment_permissions","registered_model_permissions"}}. */
static int
user_get(struct req *r, const char *username)
{
	int admin = 0;
	long long id = user_by_name(r, username, &admin);
	char uid[24];
	const char *vals[1] = { uid };
	PGresult *res;
	json_t *ep, *mp;

	if (id <= 0)
		return id == 0 ? 0 : -1;
	snprintf(uid, sizeof(uid), "%lld", id);
	if ((res = db_exec(r->db, STMT_PERM_OF_USER, 1, vals)) == NULL)
		return -1;
	ep = json_array();
	mp = json_array();
	for (int i = 0; i < PQntuples(res); i++)
		if (PQgetvalue(res, i, 0)[0] == 'e')
			json_array_append_new(ep, json_pack("{s:s, s:I, s:s}", "experiment_id",
			    PQgetvalue(res, i, 1), "user_id", (json_int_t)id, "permission",
			    PQgetvalue(res, i, 2)));
		else
			json_array_append_new(mp, json_pack("{s:s, s:I, s:s}", "name",
			    PQgetvalue(res, i, 1), "user_id", (json_int_t)id, "permission",
			    PQgetvalue(res, i, 2)));
	PQclear(res);
	return resp_json(r, 200, json_pack("{s:{s:I, s:s, s:b, s:o, s:o}}", "user", "id",
	    (json_int_t)id, "username", username, "is_admin", admin,
	    "experiment_permissions", ep, "registered_model_permissions", mp));
}

/*
 * users/create (admins), users/get (admins or oneself), users/update-password
 * (admins or oneself), users/update-admin (admins), users/delete (admins).
 * Fields: username, password, is_admin.
 */
int
api_mlflow_user(struct req *r)
{
	const char *v = verb(r), *username = r->in[0].s;
	int self = !strcasecmp(username, r->user.username), admin = r->user.admin;
	char err[256] = "";
	long long id;
	int isadm;

	if (!admin && (!self || (strcmp(v, "get") != 0 && strcmp(v, "update-password") != 0))) {
		resp_error_code(r, "PERMISSION_DENIED", "Permission denied: only admins may %s "
		    "other users", v);
		return 0;
	}
	if (!strcmp(v, "get"))
		return user_get(r, username);
	if (!strcmp(v, "create")) {
		enum auth_status st;

		if (!r->in[1].present) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "Missing value for required "
			    "parameter 'password'.");
			return 0;
		}
		st = auth_signup(r->db, NULL, username, strlen(username), r->in[1].s,
		    r->in[1].len, "user", &id, err, sizeof(err));
		if (st == AUTH_TAKEN) {
			resp_error_code(r, "RESOURCE_ALREADY_EXISTS", "User '%.200s' already exists",
			    username);
			return 0;
		}
		if (st == AUTH_INVALID) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s", err);
			return 0;
		}
		if (st != AUTH_OK)
			return -1;
		return resp_json(r, 200, json_pack("{s:{s:I, s:s, s:b}}", "user", "id",
		    (json_int_t)id, "username", username, "is_admin", 0));
	}
	if ((id = user_by_name(r, username, &isadm)) <= 0)
		return id == 0 ? 0 : -1;
	if (!strcmp(v, "update-password")) {
		enum auth_status st;

		if (!r->in[1].present) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "Missing value for required "
			    "parameter 'password'.");
			return 0;
		}
		st = auth_set_password(r->db, id, username, r->in[1].s, r->in[1].len, err,
		    sizeof(err));
		if (st == AUTH_INVALID) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s", err);
			return 0;
		}
		if (st != AUTH_OK)
			return -1;
		auth_cache_forget_user(id);
		return resp_json(r, 200, json_object());
	}
	{
		char uid[24];
		const char *vals[2] = { uid, NULL };
		enum stmt s;
		PGresult *res;

		snprintf(uid, sizeof(uid), "%lld", id);
		if (!strcmp(v, "update-admin")) {
			if (!r->in[2].present) {
				resp_error_code(r, "INVALID_PARAMETER_VALUE", "Missing value for required "
				    "parameter 'is_admin'.");
				return 0;
			}
			vals[1] = r->in[2].b ? "admin" : "user";
			s = STMT_USER_SET_ROLE;
		} else if (id == r->user.id) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "You cannot delete yourself");
			return 0;
		} else
			s = STMT_USER_DELETE;
		if ((res = db_exec(r->db, s, s == STMT_USER_DELETE ? 1 : 2, vals)) == NULL)
			return -1;
		PQclear(res);
		auth_cache_forget_user(id);
		perm_cache_clear();
		return resp_json(r, 200, json_object());
	}
}
