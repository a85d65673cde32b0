/* api-retrain.c: what `verdict retrain` needs from the server — the per-model lease that keeps two retrains apart, and the retrain.result audit event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "db.h"
#include "handlers.h"
#include "perm.h"

/* The model exists and the caller may EDIT it: 0; 1 when answered (403/404); -1 database. */
static int
retrain_model(struct req *r, const char *name)
{
	const char *vals[1] = { name };
	PGresult *res;
	int prc = perm_require_model(r, name, PERM_EDIT), n;

	if (prc != 0)
		return prc;
	if ((res = db_exec(r->db, STMT_MODEL_EXISTS, 1, vals)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	if (n == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.200s' does not exist", name);
		return 1;
	}
	return 0;
}

/*
 * POST /api/models/{name}/retrain-lock: a new lease unless an unexpired one
 * is held. Takers serialize on a transaction-scoped advisory lock on the
 * model, so two hosts asking at once cannot both see the row free.
 */
int
api_retrain_lock(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const char *vals[4];
	unsigned char raw[16];
	char lease[33], uid[24], ttl[24], holder[300] = "", since[32] = "", until[32] = "";
	PGresult *res;
	int prc, busy;

	if ((prc = retrain_model(r, name)) != 0)
		return prc == 1 ? 0 : -1;
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	vals[0] = name;
	if ((res = db_exec(r->db, STMT_RETRAIN_XLOCK, 1, vals)) == NULL)
		goto fail;
	busy = strcmp(PQgetvalue(res, 0, 0), "t") != 0;
	PQclear(res);
	if (busy) {
		db_rollback(r->db);
		resp_error(r, 409, "RESOURCE_ALREADY_EXISTS", "another retrain of model '%.200s' "
		    "is taking the lock right now", name);
		return 0;
	}
	if ((res = db_exec(r->db, STMT_RETRAIN_LOCK_GET, 1, vals)) == NULL)
		goto fail;
	busy = PQntuples(res) == 1 && !strcmp(PQgetvalue(res, 0, 3), "t");
	if (busy) {
		snprintf(holder, sizeof(holder), "%s", PQgetvalue(res, 0, 0));
		snprintf(since, sizeof(since), "%s", PQgetvalue(res, 0, 1));
		snprintf(until, sizeof(until), "%s", PQgetvalue(res, 0, 2));
	}
	PQclear(res);
	if (busy) {
		db_rollback(r->db);
		resp_error(r, 409, "RESOURCE_ALREADY_EXISTS", "a retrain of model '%.200s' is "
		    "running: %s holds the lock since %s (it expires at %s)", name,
		    holder[0] != '\0' ? holder : "a deleted user", since, until);
		return 0;
	}
	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(lease, sizeof(lease), raw, sizeof(raw));
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	snprintf(ttl, sizeof(ttl), "%d", r->app->cfg.retrain_lock_ttl);
	vals[1] = lease;
	vals[2] = uid;
	vals[3] = ttl;
	if ((res = db_exec(r->db, STMT_RETRAIN_LOCK_TAKE, 4, vals)) == NULL)
		goto fail;
	snprintf(until, sizeof(until), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	if (db_command(r->db, "COMMIT") == -1)
		return -1;
	return resp_json(r, 200, json_pack("{s:s, s:s, s:s}", "model", name, "lease", lease,
	    "expires_at", until));
fail:
	db_rollback(r->db);
	return -1;
}

/* DELETE /api/models/{name}/retrain-lock/{lease}: 204, or 404 when that lease is not held. */
int
api_retrain_unlock(struct req *r)
{
	const char *name = req_path_param(r, "name"), *lease = req_path_param(r, "lease");
	const char *vals[2] = { name, lease };
	PGresult *res;
	int prc;
	long n;

	if ((prc = retrain_model(r, name)) != 0)
		return prc == 1 ? 0 : -1;
	if ((res = db_exec(r->db, STMT_RETRAIN_LOCK_RELEASE, 2, vals)) == NULL)
		return -1;
	n = atol(PQcmdTuples(res));
	PQclear(res);
	if (n == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.200s' has no retrain lock "
		    "with that lease (released already, or taken over after it expired)", name);
		return 0;
	}
	r->resp.status = 204;
	return 0;
}

/*
 * POST /api/models/{name}/retrain-result: the outcome of a retrain as a
 * retrain.result event (the webhook worker fans it out). Fields in the
 * order of f_retrain_result (routes.c).
 */
int
api_retrain_result(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const struct value *in = r->in;
	char cand[24], uid[24], *text = NULL;
	const char *vals[4];
	json_t *d;
	PGresult *res;
	int prc;

	if ((prc = retrain_model(r, name)) != 0)
		return prc == 1 ? 0 : -1;
	snprintf(cand, sizeof(cand), "%lld", in[0].i);
	vals[0] = name;
	vals[1] = cand;
	if ((res = db_exec(r->db, STMT_MV_EXISTS, 2, vals)) == NULL)
		return -1;
	prc = PQntuples(res);
	PQclear(res);
	if (prc == 0) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.200s' has no version %s "
		    "(candidate_version)", name, cand);
		return 0;
	}
	if (in[1].present != in[4].present) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "production_version and "
		    "production_value go together");
		return 0;
	}
	d = json_pack("{s:s, s:I, s:o, s:s, s:f, s:o, s:b, s:s, s:s}", "model", name,
	    "candidate_version", (json_int_t)in[0].i, "production_version", in[1].present ?
	    json_integer(in[1].i) : json_null(), "metric", in[2].s, "candidate_value", in[3].d,
	    "production_value", in[4].present ? json_real(in[4].d) : json_null(), "promoted",
	    in[5].b, "reason", in[6].present ? in[6].s : "", "run_id", in[7].present ?
	    in[7].s : "");
	if (d == NULL || (text = json_dumps(d, JSON_COMPACT)) == NULL) {
		json_decref(d);
		return -1;
	}
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	vals[0] = "retrain.result";
	vals[1] = uid;
	vals[2] = name;
	vals[3] = text;
	res = db_exec(r->db, STMT_EVENT_INSERT, 4, vals);
	free(text);
	if (res == NULL) {
		json_decref(d);
		return -1;
	}
	PQclear(res);
	return resp_json(r, 201, d);
}
