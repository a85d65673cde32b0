/* api-models.c: JSON model registry (models, versions, stages, aliases) and prediction serving. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "handlers.h"
#include "model.h"
#include "predlog.h"
#include "spec.h"
#include "metrics.h"
#include "perm.h"
#include "registry.h"

#define PREDLOG_TIMEOUT_MS 5000

static long long
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

int
registry_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 255 || !((s[0] >= 'a' && s[0] <= 'z') ||
	    (s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= '0' && s[0] <= '9')))
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.-") == n;
}

static int
version_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 10 && strspn(s, "0123456789") == n && s[0] != '0';
}

/* ---- registry ---- */

static int
mlflow_route(const struct req *r)
{
	return r->route != NULL && (r->route->flags & R_MLFLOW);
}

/* MLflow's tag limits, checked before anything is written. */
int
registry_tags_check(struct req *r, json_t *tags)
{
	size_t i;
	json_t *t;

	if (tags == NULL || json_is_null(tags))
		return 0;
	if (!json_is_array(tags) || json_array_size(tags) > 100) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "tags must be a list of at most 100 {\"key\", \"value\"} objects");
		return 1;
	}
	json_array_foreach(tags, i, t) {
		const char *k = json_string_value(json_object_get(t, "key"));
		json_t *v = json_object_get(t, "value");

		if (k == NULL || *k == '\0' || strlen(k) > 250) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "tags[%zu]: key must be "
			    "a string of 1 to 250 characters", i);
			return 1;
		}
		if (v != NULL && !json_is_null(v) && (!json_is_string(v) ||
		    json_string_length(v) > 5000)) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "tags[%zu]: value must be "
			    "a string of at most 5000 characters", i);
			return 1;
		}
	}
	return 0;
}

int
registry_create_model(struct req *r, const char *name, const char *description)
{
	char uid[24];
	const char *vals[3] = { name, description ? description : "", uid };
	PGresult *res;

	if (!registry_name_ok(name)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "model name must be 1 to 255 "
		    "letters, digits, '_', '.' or '-', starting with a letter or digit");
		return 1;
	}
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	/* The model and its creator's MANAGE permission commit together. */
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	if ((res = db_exec(r->db, STMT_MODEL_CREATE, 3, vals)) == NULL) {
		int taken = !strcmp(db_sqlstate(r->db), "23505");

		db_rollback(r->db);
		if (taken) {
			/* MLflow answers RESOURCE_ALREADY_EXISTS with 400, verdict's API with 409. */
			resp_error(r, mlflow_route(r) ? 400 : 409, "RESOURCE_ALREADY_EXISTS",
			    "registered model '%s' already exists", name);
			return 1;
		}
		return -1;
	}
	PQclear(res);
	if (perm_grant_creator_model(r, name) == -1) {
		db_rollback(r->db);
		return -1;
	}
	if (db_command(r->db, "COMMIT") == -1)
		return -1;
	return 0;
}

int
api_models_create(struct req *r)
{
	const char *desc = r->in[1].present ? r->in[1].s : "";
	int rc = registry_create_model(r, r->in[0].s, desc);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 201, json_pack("{s:s, s:s}", "name", r->in[0].s,
	    "description", desc));
}

int
api_models_list(struct req *r)
{
	PGresult *res = db_exec(r->db, STMT_MODEL_LIST, 0, NULL);
	json_t *arr;

	if (res == NULL)
		return -1;
	arr = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		enum perm p;
		json_t *m;

		/* Only what the caller may read. */
		if (perm_model(r, PQgetvalue(res, i, 0), &p) == -1) {
			PQclear(res);
			json_decref(arr);
			return -1;
		}
		if (p < PERM_READ)
			continue;
		m = json_pack("{s:s, s:s, s:s}", "name", PQgetvalue(res, i, 0),
		    "description", PQgetvalue(res, i, 1), "updated_at",
		    PQgetvalue(res, i, 2));

		json_object_set_new(m, "latest_version", PQgetisnull(res, i, 3) ?
		    json_null() : json_integer(atoi(PQgetvalue(res, i, 3))));
		json_object_set_new(m, "production_version", PQgetisnull(res, i, 4) ?
		    json_null() : json_integer(atoi(PQgetvalue(res, i, 4))));
		json_array_append_new(arr, m);
	}
	PQclear(res);
	return resp_json(r, 200, json_pack("{s:o}", "models", arr));
}

int
api_models_get(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const char *vals[1] = { name };
	PGresult *res;
	json_t *o, *versions;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc == 1 ? 0 : -1;
	}
	if ((res = db_exec(r->db, STMT_MODEL_GET, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist",
		    name);
		return 0;
	}
	o = json_pack("{s:s, s:s}", "name", PQgetvalue(res, 0, 0), "description",
	    PQgetvalue(res, 0, 1));
	PQclear(res);
	if ((res = db_exec(r->db, STMT_MODEL_VERSIONS, 1, vals)) == NULL) {
		json_decref(o);
		return -1;
	}
	versions = json_array();
	for (int i = 0; i < PQntuples(res); i++) {
		json_t *aliases = json_array();
		char *al = PQgetvalue(res, i, 7), *tok, *save = NULL;

		for (tok = strtok_r(al, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			json_array_append_new(aliases, json_string(tok));
		json_array_append_new(versions, json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, "
		    "s:i, s:o}", "version", atoi(PQgetvalue(res, i, 0)), "stage",
		    PQgetvalue(res, i, 1), "status", PQgetvalue(res, i, 2), "source",
		    PQgetvalue(res, i, 3), "run_id", PQgetvalue(res, i, 4), "created_at",
		    PQgetvalue(res, i, 5), "num_features", atoi(PQgetvalue(res, i, 6)),
		    "aliases", aliases));
	}
	PQclear(res);
	json_object_set_new(o, "versions", versions);
	return resp_json(r, 200, o);
}

/* GET /api/models/{name}/versions/{version}: one version with its feature spec. */
int
api_version_get(struct req *r)
{
	const char *name = req_path_param(r, "name"), *ver = req_path_param(r, "version");
	const char *vals[2] = { name, ver };
	PGresult *res;
	json_t *o, *spec;
	int prc = perm_require_model(r, name, PERM_READ);

	if (prc != 0)
		return prc == 1 ? 0 : -1;
	if (!version_ok(ver)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "version must be a positive integer");
		return 0;
	}
	if ((res = db_exec(r->db, STMT_VERSION_SPEC, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version %s",
		    name, ver);
		return 0;
	}
	spec = PQgetisnull(res, 0, 0) ? json_null() : json_loads(PQgetvalue(res, 0, 0), 0, NULL);
	o = json_pack("{s:s, s:i, s:s, s:s, s:i, s:o*}", "name", name, "version", atoi(ver),
	    "stage", PQgetvalue(res, 0, 1), "run_id", PQgetvalue(res, 0, 2), "num_features",
	    atoi(PQgetvalue(res, 0, 3)), "spec", spec);
	PQclear(res);
	return resp_json(r, 200, o);
}

/*
 * Adds a version after validating booster + spec (booster NULL: a version
 * with metadata only, not servable); *version gets its number.
 * 0, 1 (answered with a 4xx), or -1.
 */
int
registry_add_version(struct req *r, const char *name, const char *booster_bytes,
    size_t booster_len, const char *spec_text_in, size_t spec_len,
    const char *source, const char *run_id, const struct version_meta *meta,
    int *version_out)
{
	char fmt[8], err[512] = "", nf[16], uid[24], vbuf[16];
	int nfeat = 0;
	json_error_t je;
	json_t *spec = NULL, *t;
	size_t esc_len, i;
	unsigned char *esc = NULL;
	char *spec_text = NULL;
	const char *vals[10];
	PGresult *res;
	int rc = -1, version;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (meta != NULL && registry_tags_check(r, meta->tags) != 0)
		return 1;
	if (booster_bytes == NULL)
		goto store;
	spec = json_loadb(spec_text_in, spec_len, JSON_REJECT_DUPLICATES, &je);
	if (spec == NULL) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "spec is not valid JSON: %s "
		    "(line %d)", je.text, je.line);
		return 1;
	}
	if (model_validate(booster_bytes, booster_len, spec, fmt, &nfeat, err,
	    sizeof(err)) == -1) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
		rc = 1;
		goto out;
	}
	/* bytea travels as hex text: one parameter, no escaping by hand. */
	if ((esc = PQescapeByteaConn(db_conn(r->db), (const unsigned char *)booster_bytes,
	    booster_len, &esc_len)) == NULL ||
	    (spec_text = json_dumps(spec, JSON_COMPACT)) == NULL)
		goto out;
store:
	if (db_command(r->db, "BEGIN") == -1)
		goto out;
	vals[0] = name;
	if ((res = db_exec(r->db, STMT_MODEL_LOCK, 1, vals)) == NULL)
		goto rollback;
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	if (PQntuples(res) != 1 && meta != NULL && meta->create_model) {
		/* The new model, its creator's MANAGE and its first version commit together. */
		const char *cv[3] = { name, "", uid };

		PQclear(res);
		if ((res = db_exec(r->db, STMT_MODEL_CREATE, 3, cv)) == NULL) {
			int taken = !strcmp(db_sqlstate(r->db), "23505");

			db_rollback(r->db);
			if (taken) {
				resp_error(r, 409, "RESOURCE_ALREADY_EXISTS", "registered model '%s' "
				    "was created at the same time; try again", name);
				rc = 1;
			}
			goto out;
		}
		if (perm_grant_creator_model(r, name) == -1)
			goto rollback;
	} else if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(r->db);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' does not exist; "
		    "create it first", name);
		rc = 1;
		goto out;
	}
	PQclear(res);
	if (esc != NULL)
		snprintf(nf, sizeof(nf), "%d", nfeat);
	vals[1] = source ? source : "";
	vals[2] = run_id ? run_id : "";
	vals[3] = (const char *)esc;
	vals[4] = esc != NULL ? fmt : NULL;
	vals[5] = spec_text;
	vals[6] = esc != NULL ? nf : NULL;
	vals[7] = uid;
	vals[8] = meta != NULL ? meta->description : NULL;
	vals[9] = meta != NULL ? meta->status_message : NULL;
	if ((res = db_exec(r->db, STMT_VERSION_INSERT, 10, vals)) == NULL)
		goto rollback;
	version = atoi(PQgetvalue(res, 0, 0));
	PQclear(res);
	snprintf(vbuf, sizeof(vbuf), "%d", version);
	if (meta != NULL && json_is_array(meta->tags)) {
		json_array_foreach(meta->tags, i, t) {
			const char *tv[4] = { name, vbuf, json_string_value(json_object_get(t,
			    "key")), json_string_value(json_object_get(t, "value")) };

			if (tv[3] == NULL)
				tv[3] = "";
			if ((res = db_exec(r->db, STMT_MV_TAG_SET, 4, tv)) == NULL)
				goto rollback;
			PQclear(res);
		}
	}
	vals[0] = name;
	if ((res = db_exec(r->db, STMT_RM_TOUCH, 1, vals)) == NULL)
		goto rollback;
	PQclear(res);
	if (db_command(r->db, "COMMIT") == -1)
		goto out;
	*version_out = version;
	rc = 0;
	goto out;
rollback:
	db_rollback(r->db);
out:
	PQfreemem(esc);
	free(spec_text);
	json_decref(spec);
	return rc;
}

/* Fields of POST /api/models/{name}/versions, in routes.c's order. */
enum { V_BOOSTER, V_SPEC, V_SOURCE, V_RUN, V_PATH, V_STAGE };

/*
 * multipart: booster (file), spec (file or field), optional source, run_id;
 * or (JSON, form, multipart) run_id + artifact_path: the model the run logged
 * there. Either with an optional stage.
 */
int
api_versions_create(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const char *stage = r->in[V_STAGE].present ? r->in[V_STAGE].s : NULL;
	int version = 0, rc;

	if (r->in[V_PATH].present) {
		if (r->in[V_BOOSTER].present || r->in[V_SPEC].present || r->in[V_SOURCE].present) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'artifact_path': give "
			    "either booster + spec (+ source) or run_id + artifact_path, not both");
			return 0;
		}
		if (!r->in[V_RUN].present) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'run_id': required with "
			    "artifact_path (the run whose artifacts hold the model)");
			return 0;
		}
		rc = registry_add_version_from_run(r, name, r->in[V_RUN].s, r->in[V_PATH].s, stage,
		    &version);
	} else {
		if (!r->in[V_BOOSTER].present || !r->in[V_SPEC].present) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field '%s': required (or run_id "
			    "+ artifact_path to register the model a run logged)",
			    r->in[V_BOOSTER].present ? "spec" : "booster");
			return 0;
		}
		rc = registry_add_version(r, name, r->in[V_BOOSTER].s, r->in[V_BOOSTER].len,
		    r->in[V_SPEC].s, r->in[V_SPEC].len, r->in[V_SOURCE].present ?
		    r->in[V_SOURCE].s : "", r->in[V_RUN].present ? r->in[V_RUN].s : "", NULL,
		    &version);
		if (rc == 0 && stage != NULL && strcmp(canonical_stage(stage), "None") != 0) {
			char vbuf[16];

			snprintf(vbuf, sizeof(vbuf), "%d", version);
			rc = registry_set_stage(r, name, vbuf, stage, 0);
		}
	}
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 201, json_pack("{s:s, s:i}", "name", req_path_param(r, "name"),
	    "version", version));
}

const char *
canonical_stage(const char *s)
{
	static const char *const stages[] = { "None", "Staging", "Production", "Archived" };

	for (size_t i = 0; i < ARRAY_LEN(stages); i++)
		if (!strcasecmp(s, stages[i]))
			return stages[i];
	return NULL;
}

/* A stage change as an event (the webhook worker fans model.stage out), in the caller's transaction. */
static int
stage_event(struct req *r, const char *name, const char *ver, const char *from,
    const char *to, const char *uid)
{
	json_t *d = json_pack("{s:s, s:i, s:s, s:s}", "model", name, "version", atoi(ver),
	    "from", from, "to", to);
	char *text = d != NULL ? json_dumps(d, JSON_COMPACT) : NULL;
	const char *vals[4] = { "model.stage", uid, name, text };
	PGresult *res = text != NULL ? db_exec(r->db, STMT_EVENT_INSERT, 4, vals) : NULL;

	json_decref(d);
	free(text);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
registry_set_stage(struct req *r, const char *name, const char *ver,
    const char *stage_in, int archive)
{
	const char *stage = canonical_stage(stage_in);
	const char *vals[6];
	char from[32], uid[24];
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (stage == NULL) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "stage must be one of None, "
		    "Staging, Production, Archived");
		return 1;
	}
	if (!version_ok(ver)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "version must be a positive integer");
		return 1;
	}
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	vals[0] = name;
	vals[1] = ver;
	if ((res = db_exec(r->db, STMT_VERSION_STAGE_GET, 2, vals)) == NULL)
		goto fail;
	if (PQntuples(res) != 1) {
		PQclear(res);
		db_rollback(r->db);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no version %s",
		    name, ver);
		return 1;
	}
	snprintf(from, sizeof(from), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	vals[2] = stage;
	if ((res = db_exec(r->db, STMT_VERSION_SET_STAGE, 3, vals)) == NULL)
		goto fail;
	PQclear(res);
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	vals[2] = "stage";
	vals[3] = from;
	vals[4] = stage;
	vals[5] = uid;
	if ((res = db_exec(r->db, STMT_TRANSITION_INSERT, 6, vals)) == NULL)
		goto fail;
	PQclear(res);
	if (stage_event(r, name, ver, from, stage, uid) == -1)
		goto fail;
	/* MLflow's archive_existing_versions: others in the target stage are archived. */
	if (archive && (!strcmp(stage, "Staging") || !strcmp(stage, "Production"))) {
		vals[2] = stage;
		if ((res = db_exec(r->db, STMT_VERSION_ARCHIVE_OTHERS, 3, vals)) == NULL)
			goto fail;
		for (int i = 0; i < PQntuples(res); i++) {
			const char *tv[6] = { name, PQgetvalue(res, i, 0), "stage", stage,
			    "Archived", uid };
			PGresult *t = db_exec(r->db, STMT_TRANSITION_INSERT, 6, tv);

			if (t == NULL || stage_event(r, name, tv[1], stage, "Archived", uid) == -1) {
				PQclear(t);
				PQclear(res);
				goto fail;
			}
			PQclear(t);
		}
		PQclear(res);
	}
	if (db_command(r->db, "COMMIT") == -1)
		return -1;
	return 0;
fail:
	db_rollback(r->db);
	return -1;
}

int
api_version_stage(struct req *r)
{
	const char *name = req_path_param(r, "name"), *ver = req_path_param(r, "version");
	int rc = registry_set_stage(r, name, ver, r->in[0].s,
	    r->in[1].present && r->in[1].b);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_pack("{s:s, s:i, s:s}", "name", name, "version",
	    atoi(ver), "stage", canonical_stage(r->in[0].s)));
}

int
registry_alias_valid(const char *a)
{
	size_t n = strlen(a);

	if (n == 0 || n > 255 || strspn(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP"
	    "QRSTUVWXYZ0123456789_-") != n)
		return 0;
	if (!strcasecmp(a, "latest"))
		return 0;
	if ((a[0] == 'v' || a[0] == 'V') && n > 1 && strspn(a + 1, "0123456789") == n - 1)
		return 0;
	return 1;
}

int
registry_set_alias(struct req *r, const char *name, const char *alias, long long version)
{
	char ver[16], uid[24];
	const char *vals[6] = { name, alias, ver };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (!registry_alias_valid(alias)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "alias must be 1 to 255 letters, "
		    "digits, '_' or '-'; 'latest' and v<digits> are reserved");
		return 1;
	}
	snprintf(ver, sizeof(ver), "%lld", version);
	if ((res = db_exec(r->db, STMT_ALIAS_SET, 3, vals)) == NULL) {
		if (!strcmp(db_sqlstate(r->db), "23503")) {
			const char *mv[1] = { name };
			PGresult *e = db_exec(r->db, STMT_MODEL_EXISTS, 1, mv);
			int exists = e != NULL && PQntuples(e) == 1;

			PQclear(e);
			if (!exists)
				resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST",
				    "model '%.100s' does not exist", name);
			else
				resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST",
				    "model '%.100s' has no version %s", name, ver);
			return 1;
		}
		return -1;
	}
	PQclear(res);
	snprintf(uid, sizeof(uid), "%lld", r->user.id);
	{
		char what[300];
		const char *tv[6] = { name, ver, what, NULL, ver, uid };

		snprintf(what, sizeof(what), "alias:%s", alias);
		PQclear(db_exec(r->db, STMT_TRANSITION_INSERT, 6, tv));
	}
	return 0;
}

int
api_alias_set(struct req *r)
{
	const char *name = req_path_param(r, "name"), *alias = req_path_param(r, "alias");
	int rc = registry_set_alias(r, name, alias, r->in[0].i);

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_pack("{s:s, s:s, s:I}", "name", name, "alias", alias,
	    "version", (json_int_t)r->in[0].i));
}

int
registry_delete_alias(struct req *r, const char *name, const char *alias)
{
	const char *vals[2] = { name, alias };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if ((res = db_exec(r->db, STMT_ALIAS_DELETE, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "model '%.100s' has no alias "
		    "'%.100s'", name, alias);
		return 1;
	}
	PQclear(res);
	return 0;
}

int
api_alias_delete(struct req *r)
{
	int rc = registry_delete_alias(r, req_path_param(r, "name"), req_path_param(r, "alias"));

	if (rc != 0)
		return rc == 1 ? 0 : -1;
	r->resp.status = 204;
	return 0;
}

/* ---- serving ---- */

/* One row's answer; the same object (minus prediction_id) is logged. */
static json_t *
row_output(struct model *m, const float *out)
{
	const struct spec *s = m->spec;
	json_t *o = json_object(), *probs;

	switch (spec_task(s)) {
	case SPEC_REGRESSION:
		json_object_set_new(o, "value", json_number_or_null(out[0]));
		break;
	case SPEC_BINARY: {
		double p = out[0];

		json_object_set_new(o, "value", json_number_or_null(p));
		json_object_set_new(o, "label", json_string(spec_class_label(s,
		    p >= spec_threshold(s) ? 1 : 0)));
		probs = json_object();
		json_object_set_new(probs, spec_class_label(s, 0), json_number_or_null(1 - p));
		json_object_set_new(probs, spec_class_label(s, 1), json_number_or_null(p));
		json_object_set_new(o, "probabilities", probs);
		break;
	}
	case SPEC_MULTICLASS: {
		size_t best = 0;

		probs = json_object();
		for (size_t c = 0; c < m->nout; c++) {
			if (out[c] > out[best])
				best = c;
			json_object_set_new(probs, spec_class_label(s, c),
			    json_number_or_null(out[c]));
		}
		json_object_set_new(o, "value", json_integer((json_int_t)best));
		json_object_set_new(o, "label", json_string(spec_class_label(s, best)));
		json_object_set_new(o, "probabilities", probs);
		break;
	}
	}
	return o;
}

/* SHAP contributions summed back to raw fields, plus the bias. */
static int
explain_row(struct req *r, struct model *m, const float *row, json_t *o)
{
	size_t width = spec_width(m->spec), groups = spec_task(m->spec) ==
	    SPEC_MULTICLASS ? spec_nclasses(m->spec) : 1;
	size_t cap = (width + 1) * groups;
	float *c = arena_alloc(r->a, cap * sizeof(float));
	double *sum;
	size_t g = 0;
	json_t *contrib;

	if (c == NULL || model_contributions(m, row, c, cap) != (long)cap)
		return -1;
	if ((sum = arena_alloc(r->a, spec_ninputs(m->spec) * sizeof(double))) == NULL)
		return -1;
	/* Multiclass: explain the predicted class. */
	if (groups > 1) {
		json_t *v = json_object_get(o, "value");

		g = (size_t)json_integer_value(v);
	}
	for (size_t f = 0; f < width; f++)
		sum[spec_feature_input(m->spec, f)] += c[g * (width + 1) + f];
	contrib = json_object();
	for (size_t i = 0; i < spec_ninputs(m->spec); i++)
		json_object_set_new(contrib, spec_input_name(m->spec, i),
		    json_number_or_null(sum[i]));
	json_object_set_new(o, "contributions", contrib);
	json_object_set_new(o, "bias", json_number_or_null(c[g * (width + 1) + width]));
	return 0;
}

/* JSON text in the arena (NULL when it does not fit): what the log stores. */
static const char *
dump_arena(struct arena *a, const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT), *copy;

	if (s == NULL)
		return NULL;
	copy = arena_strdup(a, s);
	free(s);
	return copy;
}

/*
 * The one prediction path behind every serving endpoint: rows (a JSON array
 * of raw-field objects) through name + selector, each row committed to the
 * log before it is returned. On success *out is {"model","version",
 * "predictions":[...]} and 0 is returned; when the request was answered
 * with an error, 1; on an internal failure, -1. single: error messages
 * without the "instances[i]: " prefix.
 */
int
serving_predict(struct req *r, const char *name, enum model_sel sel, const char *selv,
    json_t *rows, const struct json_slice *raw, int explain, int single, json_t **out)
{
	char err[512];
	struct model *m = NULL;
	size_t n = json_array_size(rows), width;
	float *x, *y;
	json_t *preds = NULL;
	struct predlog_row *log = NULL;
	long long t0 = now_us();
	int status, rc = -1;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	*out = NULL;
	if ((m = model_acquire(r->db, name, sel, selv, &status, err, sizeof(err))) == NULL) {
		if (status == 404)
			resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "%s", err);
		else if (status == 503) {
			if (resp_header(&r->resp, "Retry-After", "1") == -1)
				return -1;
			resp_error(r, 503, "TEMPORARILY_UNAVAILABLE", "%s; retry in 1 s", err);
		} else
			return -1;
		return 1;
	}
	width = spec_width(m->spec);
	x = arena_alloc(r->a, n * width * sizeof(float) + 1);
	y = arena_alloc(r->a, n * m->nout * sizeof(float) + 1);
	log = arena_alloc(r->a, n * sizeof(*log) + 1);
	if (x == NULL || y == NULL || log == NULL) {
		resp_error(r, 413, "PAYLOAD_TOO_LARGE", "request too large");
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *row = json_array_get(rows, i);

		if (!json_is_object(row)) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "instances[%zu]: must be an object of raw fields", i);
			rc = 1;
			goto out;
		}
		if (spec_transform(m->spec, row, 0, x + i * width, err, sizeof(err)) == -1) {
			if (single)
				resp_error(r, 400, "INVALID_PARAMETER_VALUE", "%s", err);
			else
				resp_error(r, 400, "INVALID_PARAMETER_VALUE", "instances[%zu]: %s",
				    i, err);
			rc = 1;
			goto out;
		}
	}
	if (model_predict(m, x, n, y) == -1)
		goto out;
	preds = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = row_output(m, y + i * m->nout);

		if (explain && explain_row(r, m, x + i * width, o) == -1) {
			json_decref(o);
			goto out;
		}
		log[i].version_id = m->version_id;
		log[i].user_id = r->user.id;
		log[i].inputs = raw != NULL && raw[i].p != NULL ?
		    arena_strndup(r->a, raw[i].p, raw[i].len) :
		    dump_arena(r->a, json_array_get(rows, i));
		log[i].output = dump_arena(r->a, o);
		log[i].request_id = r->request_id;
		json_array_append_new(preds, o);
		if (log[i].inputs == NULL || log[i].output == NULL) {
			resp_error(r, 413, "PAYLOAD_TOO_LARGE", "request too large");
			rc = 1;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		log[i].latency_us = (int)(now_us() - t0);
	/* The answer leaves only after its rows are committed. */
	if (predlog_write(log, n, PREDLOG_TIMEOUT_MS) == -1) {
		if (resp_header(&r->resp, "Retry-After", "1") == -1)
			goto out;
		resp_error(r, 503, "TEMPORARILY_UNAVAILABLE",
		    "the prediction could not be logged; retry in 1 s");
		rc = 1;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		json_object_set_new(json_array_get(preds, i), "prediction_id",
		    json_integer(log[i].id));
	metrics_predictions(m->version_id, n, now_us() - t0);
	*out = json_pack("{s:s, s:i, s:O}", "model", m->name, "version", m->version,
	    "predictions", preds);
	rc = *out != NULL ? 0 : -1;
out:
	json_decref(preds);
	model_release(m);
	return rc;
}

/*
 * The client's own text of each of the n rows of the body's member
 * ("inputs": one row, "instances": its elements), to be logged as sent; NULL
 * when it cannot be found (the rows are then logged re-serialized).
 */
static const struct json_slice *
raw_rows(struct req *r, const char *member, size_t n)
{
	struct json_slice v, *out;

	if (r->body == NULL || json_raw_member(r->body, r->body_len, member, &v) == -1 ||
	    (out = arena_alloc(r->a, n * sizeof(*out))) == NULL)
		return NULL;
	if (!strcmp(member, "inputs"))
		out[0] = v;
	else if (json_raw_elements(v.p, v.len, out, n) != (long)n)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!json_raw_plain(&out[i]))
			out[i].p = NULL;
	return out;
}

int
api_predict(struct req *r)
{
	const char *name = req_path_param(r, "name");
	const struct value *inputs = &r->in[0], *instances = &r->in[1];
	enum model_sel sel = SEL_DEFAULT;
	const char *selv = "";
	char vbuf[24];
	json_t *rows, *out;
	int nsel = 0, rc;

	if (r->in[2].present) {
		sel = SEL_VERSION;
		snprintf(vbuf, sizeof(vbuf), "%lld", r->in[2].i);
		selv = vbuf;
		nsel++;
	}
	if (r->in[3].present) {
		sel = SEL_ALIAS;
		selv = r->in[3].s;
		nsel++;
	}
	if (r->in[4].present) {
		sel = SEL_STAGE;
		selv = canonical_stage(r->in[4].s);
		nsel++;
	}
	if (nsel > 1) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "give at most one of 'version', 'alias' and 'stage'");
		return 0;
	}
	if (inputs->present == instances->present) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "give exactly one of 'inputs' (an object) and 'instances' (a list of objects)");
		return 0;
	}
	if (inputs->present) {
		if (!json_is_object(inputs->json)) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "field 'inputs': must be an object of raw fields");
			return 0;
		}
		rows = json_array();
		json_array_append(rows, inputs->json);
	} else {
		if (!json_is_array(instances->json) || json_array_size(instances->json) == 0) {
			resp_error(r, 400, "INVALID_PARAMETER_VALUE",
			    "field 'instances': must be a non-empty list of objects");
			return 0;
		}
		if (json_array_size(instances->json) > PREDICT_MAX_BATCH) {
			resp_error(r, 413, "PAYLOAD_TOO_LARGE", "field 'instances': at most %d "
			    "rows per request, got %zu", PREDICT_MAX_BATCH,
			    json_array_size(instances->json));
			return 0;
		}
		rows = json_incref(instances->json);
	}
	rc = serving_predict(r, name, sel, selv, rows, raw_rows(r, inputs->present ? "inputs" :
	    "instances", json_array_size(rows)), r->in[5].present && r->in[5].b,
	    inputs->present, &out);
	json_decref(rows);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out);
}

/*
 * POST /predict: a flat JSON object of raw fields for the default model, the
 * shape FastAPI services of this kind answer: {"prediction", "prediction_id"}
 * (classification adds "probabilities"; "prediction" is then the label).
 */
int
api_predict_flat(struct req *r)
{
	const char *name = r->app->cfg.default_model;
	json_t *rows, *out, *p, *res;
	struct json_slice raw = { r->body, r->body_len };
	int rc;

	if (raw.p != NULL && !json_raw_plain(&raw))
		raw.p = NULL;
	if (name[0] == '\0') {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "no default model: set "
		    "default_model in the configuration, or use /api/models/{name}/predict");
		return 0;
	}
	if (r->json == NULL || !json_is_object(r->json)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE",
		    "the body must be a JSON object of raw fields");
		return 0;
	}
	rows = json_array();
	json_array_append(rows, r->json);
	rc = serving_predict(r, name, SEL_DEFAULT, "", rows, &raw, 0, 1, &out);
	json_decref(rows);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	p = json_array_get(json_object_get(out, "predictions"), 0);
	res = json_pack("{s:O, s:O}", "prediction", json_object_get(p, "label") ?
	    json_object_get(p, "label") : json_object_get(p, "value"), "prediction_id",
	    json_object_get(p, "prediction_id"));
	if (json_object_get(p, "probabilities") != NULL)
		json_object_set(res, "probabilities", json_object_get(p, "probabilities"));
	json_object_set_new(res, "model", json_string(json_string_value(
	    json_object_get(out, "model"))));
	json_object_set(res, "version", json_object_get(out, "version"));
	json_decref(out);
	return resp_json(r, 200, res);
}
