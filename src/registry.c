/* registry.c: the registry's operations in MLflow's terms — objects as MLflow returns them, rename, delete, tags, search, and versions registered from run artifacts (MLmodel). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "artifacts.h"
#include "db.h"
#include "perm.h"
#include "mlmodel.h"
#include "model.h"
#include "registry.h"
#include "search.h"
#include "spec.h"

#define SPEC_FILE "verdict-spec.json"
#define SPEC_FILE_MAX (4u << 20)

static int
version_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n < 10 && strspn(s, "0123456789") == n && s[0] != '0';
}

/* A text column holding JSON (built by Postgres) as a new jansson value. */
static json_t *
json_col(PGresult *res, int row)
{
	return json_loads(PQgetvalue(res, row, 0), 0, NULL);
}

int
registry_model_json(struct req *r, const char *name, json_t **out)
{
	const char *vals[1] = { name };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	if ((res = db_exec(r->db, STMT_RM_JSON, 1, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
		    "name=%.200s not found", name);
		return 1;
	}
	*out = json_col(res, 0);
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

/* 404 for a version that is not there, with the model's own 404 when that is missing. */
static void
version_missing(struct req *r, const char *name, const char *version)
{
	const char *vals[1] = { name };
	PGresult *res = db_exec(r->db, STMT_MODEL_EXISTS, 1, vals);
	int exists = res != NULL && PQntuples(res) == 1;

	PQclear(res);
	if (!exists)
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
		    "name=%.200s not found", name);
	else
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Model Version (name=%.200s, "
		    "version=%.20s) not found", name, version);
}

static int
check_version(struct req *r, const char *version)
{
	if (version_ok(version))
		return 0;
	resp_error_code(r, "INVALID_PARAMETER_VALUE", "Parameter 'version' must be an "
	    "integer, got '%.40s'", version);
	return 1;
}

int
registry_version_json(struct req *r, const char *name, const char *version, json_t **out)
{
	const char *vals[2] = { name, version };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	if (check_version(r, version))
		return 1;
	if ((res = db_exec(r->db, STMT_MV_JSON, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		version_missing(r, name, version);
		return 1;
	}
	*out = json_col(res, 0);
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

/* Rows of one JSON column into a new array. */
static json_t *
json_rows(PGresult *res)
{
	json_t *arr = json_array();

	for (int i = 0; i < PQntuples(res); i++) {
		json_t *o = json_col(res, i);

		if (o == NULL) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

/* A statement on one model that must change one row, else 404. */
static int
model_change(struct req *r, enum stmt st, int n, const char *const *vals)
{
	PGresult *res = db_exec(r->db, st, n, vals);

	if (res == NULL)
		return -1;
	if (atoi(PQcmdTuples(res)) == 0) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
		    "name=%.200s not found", vals[0]);
		return 1;
	}
	PQclear(res);
	return 0;
}

int
registry_rename_model(struct req *r, const char *name, const char *new_name)
{
	const char *vals[2] = { name, new_name };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_MANAGE);

		if (prc != 0)
			return prc;
	}
	if (!registry_name_ok(new_name)) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "model name must be 1 to 255 "
		    "letters, digits, '_', '.' or '-', starting with a letter or digit");
		return 1;
	}
	if ((res = db_exec(r->db, STMT_RM_RENAME, 2, vals)) == NULL) {
		if (!strcmp(db_sqlstate(r->db), "23505")) {
			resp_error_code(r, "RESOURCE_ALREADY_EXISTS", "registered model '%.200s' "
			    "already exists", new_name);
			return 1;
		}
		return -1;
	}
	if (atoi(PQcmdTuples(res)) == 0) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
		    "name=%.200s not found", name);
		return 1;
	}
	PQclear(res);
	return 0;
}

int
registry_update_model(struct req *r, const char *name, const char *description)
{
	const char *vals[2] = { name, description ? description : "" };

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	return model_change(r, STMT_RM_UPDATE, 2, vals);
}

int
registry_delete_model(struct req *r, const char *name)
{
	const char *vals[1] = { name };

	{
		int prc = perm_require_model(r, name, PERM_MANAGE);

		if (prc != 0)
			return prc;
	}
	return model_change(r, STMT_RM_DELETE, 1, vals);
}

static int
tag_check(struct req *r, const char *key, const char *value)
{
	if (key == NULL || *key == '\0' || strlen(key) > 250) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "tag key must be 1 to 250 "
		    "characters");
		return 1;
	}
	if (value != NULL && strlen(value) > 5000) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "tag value must be at most 5000 "
		    "characters");
		return 1;
	}
	return 0;
}

int
registry_model_tag(struct req *r, const char *name, const char *key, const char *value,
    int del)
{
	const char *vals[3] = { name, key, value ? value : "" };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (tag_check(r, key, value))
		return 1;
	if (del) {
		/* Like MLflow: deleting a tag that is not there is fine, on a model that is. */
		if ((res = db_exec(r->db, STMT_MODEL_EXISTS, 1, vals)) == NULL)
			return -1;
		if (PQntuples(res) != 1) {
			PQclear(res);
			resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
			    "name=%.200s not found", name);
			return 1;
		}
		PQclear(res);
		res = db_exec(r->db, STMT_RM_TAG_DELETE, 2, vals);
	} else
		res = db_exec(r->db, STMT_RM_TAG_SET, 3, vals);
	if (res == NULL) {
		if (!strcmp(db_sqlstate(r->db), "23503")) {
			resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
			    "name=%.200s not found", name);
			return 1;
		}
		return -1;
	}
	PQclear(res);
	return 0;
}

/* The version exists (0), or 404 was answered (1). */
static int
version_exists(struct req *r, const char *name, const char *version)
{
	const char *vals[2] = { name, version };
	PGresult *res;

	if (check_version(r, version))
		return 1;
	if ((res = db_exec(r->db, STMT_MV_EXISTS, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		version_missing(r, name, version);
		return 1;
	}
	PQclear(res);
	return 0;
}

int
registry_version_tag(struct req *r, const char *name, const char *version, const char *key,
    const char *value, int del)
{
	const char *vals[4] = { name, version, key, value ? value : "" };
	PGresult *res;
	int rc;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if (tag_check(r, key, value))
		return 1;
	if ((rc = version_exists(r, name, version)) != 0)
		return rc;
	if ((res = db_exec(r->db, del ? STMT_MV_TAG_DELETE : STMT_MV_TAG_SET, del ? 3 : 4,
	    vals)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
registry_update_version(struct req *r, const char *name, const char *version,
    const char *description)
{
	const char *vals[3] = { name, version, description ? description : "" };
	PGresult *res;
	int rc;

	{
		int prc = perm_require_model(r, name, PERM_EDIT);

		if (prc != 0)
			return prc;
	}
	if ((rc = version_exists(r, name, version)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_MV_UPDATE, 3, vals)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
registry_delete_version(struct req *r, const char *name, const char *version)
{
	const char *vals[2] = { name, version };
	PGresult *res;
	int rc;

	{
		int prc = perm_require_model(r, name, PERM_MANAGE);

		if (prc != 0)
			return prc;
	}
	if ((rc = version_exists(r, name, version)) != 0)
		return rc;
	if ((res = db_exec(r->db, STMT_MV_DELETE, 2, vals)) == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
registry_latest_versions(struct req *r, const char *name, const char *const *stages,
    size_t n, json_t **out)
{
	struct buf arr;
	const char *vals[2] = { name, NULL };
	PGresult *res;
	int rc = -1;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	buf_init(&arr, 1024);
	if (buf_addc(&arr, '{') == -1)
		goto out;
	for (size_t i = 0; i < n; i++) {
		const char *st = canonical_stage(stages[i]);

		if (st == NULL) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid Model Version "
			    "stage: %.40s. Value must be one of None, Staging, Production, "
			    "Archived.", stages[i]);
			rc = 1;
			goto out;
		}
		/* Canonical stage names need no quoting inside an array literal. */
		if (buf_printf(&arr, "%s%s", i ? "," : "", st) == -1)
			goto out;
	}
	if (buf_addc(&arr, '}') == -1)
		goto out;
	vals[1] = buf_str(&arr);
	if ((res = db_exec(r->db, STMT_MODEL_EXISTS, 1, vals)) == NULL)
		goto out;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered Model with "
		    "name=%.200s not found", name);
		rc = 1;
		goto out;
	}
	PQclear(res);
	if ((res = db_exec(r->db, STMT_MV_LATEST, 2, vals)) == NULL)
		goto out;
	*out = json_rows(res);
	PQclear(res);
	rc = *out != NULL ? 0 : -1;
out:
	buf_free(&arr);
	return rc;
}

int
registry_alias_version(struct req *r, const char *name, const char *alias, json_t **out)
{
	const char *vals[2] = { name, alias };
	char id[24];
	const char *ids[1] = { id };
	PGresult *res;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	if ((res = db_exec(r->db, STMT_MODEL_RESOLVE_ALIAS, 2, vals)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error_code(r, "RESOURCE_DOES_NOT_EXIST", "Registered model alias %.100s "
		    "not found.", alias);
		return 1;
	}
	snprintf(id, sizeof(id), "{%s}", PQgetvalue(res, 0, 0));
	PQclear(res);
	if ((res = db_exec(r->db, STMT_MV_JSON_MANY, 1, ids)) == NULL)
		return -1;
	*out = PQntuples(res) == 1 ? json_col(res, 0) : NULL;
	PQclear(res);
	return *out != NULL ? 0 : -1;
}

/*
 * One search over registered models or versions: the filter compiled by
 * search.c, a page of ids, then their objects in that order.
 */
int
registry_search(struct req *r, int versions, const char *filter,
    const char *const *order_by, size_t norder, long long max_results,
    const char *page_token, json_t **items, const char **next_token)
{
	struct search_query q;
	char err[SEARCH_ERR_MAX], lim[24];
	struct buf ids;
	PGresult *res;
	const char *vals[1];
	int rc = -1, n;

	*next_token = NULL;
	if (search_compile(r->a, versions ? SEARCH_VERSIONS : SEARCH_MODELS, filter, order_by,
	    norder, page_token, &q, err, sizeof(err)) == -1) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s", err);
		return 1;
	}
	/* One extra row says whether there is a next page. */
	snprintf(lim, sizeof(lim), "%lld", max_results + 1);
	q.vals[0] = lim;
	if ((res = db_query(r->db, q.sql, q.nvals, q.vals)) == NULL) {
		if (db_sqlstate(r->db)[0] == '2') {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "invalid search: %s",
			    db_errmsg(r->db));
			return 1;
		}
		return -1;
	}
	n = PQntuples(res);
	buf_init(&ids, 16u << 20);
	if (buf_addc(&ids, '{') == -1)
		goto out;
	for (int i = 0; i < n && i < max_results; i++) {
		const char *id = PQgetvalue(res, i, 0);

		if (i > 0 && buf_addc(&ids, ',') == -1)
			goto out;
		/* names are [A-Za-z0-9_.-] and ids digits: nothing to quote */
		if (buf_printf(&ids, "\"%s\"", id) == -1)
			goto out;
	}
	if (buf_addc(&ids, '}') == -1)
		goto out;
	if (n > max_results) {
		const char **keys = arena_alloc(r->a, sizeof(char *) * (size_t)q.nkeys + 1);

		if (keys == NULL)
			goto out;
		for (int k = 0; k < q.nkeys; k++)
			keys[k] = PQgetisnull(res, (int)max_results - 1, k + 1) ? NULL :
			    PQgetvalue(res, (int)max_results - 1, k + 1);
		if ((*next_token = search_page_token(r->a, keys, q.nkeys)) == NULL)
			goto out;
	}
	PQclear(res);
	res = NULL;
	vals[0] = buf_str(&ids);
	if ((res = db_exec(r->db, versions ? STMT_MV_JSON_MANY : STMT_RM_JSON_MANY, 1,
	    vals)) == NULL)
		goto out;
	*items = json_rows(res);
	rc = *items != NULL ? 0 : -1;
	/* Only what the caller may read (a page may come out short). */
	for (size_t i = 0; rc == 0 && i < json_array_size(*items); ) {
		const char *name = json_string_value(json_object_get(json_array_get(*items, i),
		    "name"));
		enum perm p = PERM_NONE;

		if (name != NULL && perm_model(r, name, &p) == -1)
			rc = -1;
		else if (p < PERM_READ)
			json_array_remove(*items, i);
		else
			i++;
	}
out:
	PQclear(res);
	buf_free(&ids);
	return rc;
}

/*
 * Where source keeps its files in verdict's store: runs:/<run>/<path>
 * through the run's artifact_uri, or mlflow-artifacts:/<path>. 0 with *dir
 * (arena); 1 answered (a runs:/ URI naming no run, a bad path); 2 when the
 * source is somewhere else (not answered).
 */
static int
source_dir(struct req *r, const char *source, const char **dir)
{
	const char *why, *base;

	if (!strncmp(source, "runs:/", 6)) {
		const char *rest = source + 6, *slash = strchr(rest, '/'), *uri;
		char run[64];
		int rc;

		if (slash == NULL || slash == rest || (size_t)(slash - rest) >= sizeof(run)) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "source '%.200s' must be "
			    "runs:/<run_id>/<path>", source);
			return 1;
		}
		snprintf(run, sizeof(run), "%.*s", (int)(slash - rest), rest);
		if ((why = artifact_path_check(slash + 1, 0)) != NULL) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "source '%.200s': %s",
			    source, why);
			return 1;
		}
		/* 1 answered (no such run, or not readable), 2 its artifacts are elsewhere */
		if ((rc = artifact_run_root(r, run, &uri, &base)) != 0)
			return rc;
		*dir = arena_printf(r->a, "%s%s%s", base, *base ? "/" : "", slash + 1);
		return *dir != NULL ? 0 : -1;
	}
	if ((base = artifact_uri_path(source)) == NULL || *base == '\0')
		return 2;
	*dir = base;
	return 0;
}

/* A metadata-only version: registered, READY, not servable, with the reason. */
static int
add_unservable(struct req *r, const char *name, const char *source, const char *run_id,
    const struct version_meta *meta, const char *why, int *version)
{
	struct version_meta m = { .status_message = why };

	if (meta != NULL) {
		m.description = meta->description;
		m.tags = meta->tags;
	}
	return registry_add_version(r, name, NULL, 0, NULL, 0, source, run_id, &m, version);
}

/* A model directory's booster and spec (arena memory), or why nothing servable is there. */
struct model_files {
	char *booster, *spec;
	size_t blen, slen;
	const char *missing;
};

/*
 * The booster and spec of the model directory dir in the store. The
 * booster is the file the MLmodel's xgboost flavor names, else (no MLmodel)
 * model.ubj or model.json; the spec is verdict-spec.json or spec.json (what
 * verdict train writes) beside it, else one made from the MLmodel's
 * signature. 0 with both; 1 answered (something there is wrong); 2 when
 * something is missing rather than wrong, f->missing says what (not
 * answered); -1.
 */
static int
model_dir_files(struct req *r, const char *dir, struct model_files *f)
{
	static const char *const boosters[] = { "model.ubj", "model.json" };
	static const char *const specs[] = { SPEC_FILE, "spec.json" };
	char err[SPEC_ERR_MAX], obj[64];
	const char *data = NULL, *p;
	char *text, *dumped;
	size_t len, i;
	json_t *ml = NULL, *spec = NULL;
	int rc, num_class = 0, nosig = 0;

	memset(f, 0, sizeof(*f));
	if ((p = arena_printf(r->a, "%s/MLmodel", dir)) == NULL ||
	    (rc = artifact_read(r, p, MLMODEL_MAX, &text, &len)) == -1)
		return -1;
	if (rc == 2) {
		f->missing = "the MLmodel file is too large";
		return 2;
	}
	if (rc == 0) {
		if ((ml = mlmodel_parse(text, len, err, sizeof(err))) == NULL) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s/MLmodel: %s", dir, err);
			return 1;
		}
		if ((data = mlmodel_xgboost_data(ml)) == NULL) {
			f->missing = "the model has no xgboost flavor; verdict serves XGBoost "
			    "boosters";
			rc = 2;
			goto out;
		}
		if (artifact_path_check(data, 0) != NULL) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s/MLmodel: "
			    "flavors.xgboost.data '%.200s' is not a file name beside it", dir, data);
			rc = 1;
			goto out;
		}
		if ((p = arena_printf(r->a, "%s/%s", dir, data)) == NULL) {
			rc = -1;
			goto out;
		}
		rc = artifact_read(r, p, r->app->cfg.max_multipart_body, &f->booster, &f->blen);
	} else {
		/* No MLmodel: a booster by the names verdict train and MLflow give it. */
		for (i = 0, rc = 1; rc == 1 && i < ARRAY_LEN(boosters); i++) {
			if ((p = arena_printf(r->a, "%s/%s", dir, boosters[i])) == NULL) {
				rc = -1;
				goto out;
			}
			rc = artifact_read(r, p, r->app->cfg.max_multipart_body, &f->booster,
			    &f->blen);
			data = boosters[i];
		}
		if (rc == 1) {
			f->missing = "no MLmodel, model.ubj or model.json there";
			rc = 2;
			goto out;
		}
	}
	if (rc != 0) {
		if (rc != -1) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "the booster %.300s %s", p,
			    rc == 1 ? "is not in the artifact store" :
			    "is larger than max_multipart_body");
			rc = 1;
		}
		goto out;
	}
	/* A verdict spec stored beside the model wins over the signature. */
	for (i = 0; i < ARRAY_LEN(specs); i++) {
		if ((p = arena_printf(r->a, "%s/%s", dir, specs[i])) == NULL ||
		    (rc = artifact_read(r, p, SPEC_FILE_MAX, &f->spec, &f->slen)) == -1) {
			rc = -1;
			goto out;
		}
		if (rc == 2) {
			resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s is larger than 4 MiB", p);
			rc = 1;
			goto out;
		}
		if (rc == 0)
			goto out;
	}
	f->spec = NULL;
	if (ml == NULL) {
		f->missing = "no " SPEC_FILE " or spec.json beside the booster, so its inputs "
		    "are unknown";
		rc = 2;
		goto out;
	}
	if (model_objective(f->booster, f->blen, obj, sizeof(obj), &num_class, err,
	    sizeof(err)) == -1) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s/%s: %s", dir, data, err);
		rc = 1;
		goto out;
	}
	if ((spec = mlmodel_spec(ml, obj, num_class, &nosig, err, sizeof(err))) == NULL) {
		if (nosig) {
			f->missing = "the model has no signature and no " SPEC_FILE " beside it, "
			    "so its inputs are unknown";
			rc = 2;
			goto out;
		}
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "%s/MLmodel: %s", dir, err);
		rc = 1;
		goto out;
	}
	rc = -1;
	if ((dumped = json_dumps(spec, JSON_COMPACT)) == NULL)
		goto out;
	f->spec = arena_strdup(r->a, dumped);
	free(dumped);
	if (f->spec == NULL)
		goto out;
	f->slen = strlen(f->spec);
	rc = 0;
out:
	json_decref(spec);
	json_decref(ml);
	return rc;
}

int
registry_add_version_from_source(struct req *r, const char *name, const char *source,
    const char *run_id, const struct version_meta *meta, int *version)
{
	const char *dir = NULL;
	struct model_files f;
	int rc;

	if ((rc = source_dir(r, source, &dir)) == 1 || rc == -1)
		return rc;
	if (rc == 2)
		return add_unservable(r, name, source, run_id, meta, "the source is not in "
		    "verdict's artifact store, so verdict cannot serve it", version);
	/* Registering from a run's artifacts reads them: READ on its experiment. */
	if ((rc = artifact_perm(r, dir, PERM_READ)) != 0)
		return rc;
	if ((rc = model_dir_files(r, dir, &f)) == 2)
		/* Missing, not wrong: registered, but it cannot be served. */
		return add_unservable(r, name, source, run_id, meta, f.missing, version);
	if (rc != 0)
		return rc;
	return registry_add_version(r, name, f.booster, f.blen, f.spec, f.slen, source, run_id,
	    meta, version);
}

int
registry_add_version_from_run(struct req *r, const char *name, const char *run_id,
    const char *path, const char *stage, int *version)
{
	const char *uri, *root, *why, *dir, *source;
	struct version_meta meta = { .create_model = 1 };
	struct model_files f;
	char vbuf[16];
	int rc;

	if (!registry_name_ok(name)) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "model name must be 1 to 255 "
		    "letters, digits, '_', '.' or '-', starting with a letter or digit");
		return 1;
	}
	if ((why = artifact_path_check(path, 0)) != NULL) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "field 'artifact_path': %s", why);
		return 1;
	}
	if (stage != NULL && *stage != '\0' && canonical_stage(stage) == NULL) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "stage must be one of None, "
		    "Staging, Production, Archived");
		return 1;
	}
	if ((rc = artifact_run_root(r, run_id, &uri, &root)) == 2) {
		resp_error(r, 400, "INVALID_PARAMETER_VALUE", "run %.64s keeps its artifacts at "
		    "'%.300s', outside verdict's artifact store", run_id, uri);
		return 1;
	}
	if (rc != 0)
		return rc;
	if ((dir = arena_printf(r->a, "%s%s%s", root, *root ? "/" : "", path)) == NULL ||
	    (source = arena_printf(r->a, "runs:/%s/%s", run_id, path)) == NULL)
		return -1;
	if ((rc = model_dir_files(r, dir, &f)) == 2) {
		resp_error(r, 404, "RESOURCE_DOES_NOT_EXIST", "run %.64s has no model at '%.300s': "
		    "%s", run_id, path, f.missing);
		return 1;
	}
	if (rc != 0)
		return rc;
	if ((rc = registry_add_version(r, name, f.booster, f.blen, f.spec, f.slen, source,
	    run_id, &meta, version)) != 0 || stage == NULL || *stage == '\0' ||
	    !strcmp(canonical_stage(stage), "None"))
		return rc;
	snprintf(vbuf, sizeof(vbuf), "%d", *version);
	return registry_set_stage(r, name, vbuf, stage, 0);
}

int
registry_download_uri(struct req *r, const char *name, const char *version, char **uri)
{
	json_t *v = NULL;
	const char *src, *base;
	int rc;

	{
		int prc = perm_require_model(r, name, PERM_READ);

		if (prc != 0)
			return prc;
	}
	if ((rc = registry_version_json(r, name, version, &v)) != 0)
		return rc;
	src = json_string_value(json_object_get(v, "source"));
	*uri = arena_strdup(r->a, src != NULL ? src : "");
	json_decref(v);
	if (*uri == NULL)
		return -1;
	/* runs:/<run>/<path> names its run's artifacts: answer where they really are. */
	if (!strncmp(*uri, "runs:/", 6)) {
		char run[64], *slash = strchr(*uri + 6, '/');
		const char *vals[1] = { run };
		PGresult *res;

		if (slash == NULL || (size_t)(slash - *uri - 6) >= sizeof(run))
			return 0;
		snprintf(run, sizeof(run), "%.*s", (int)(slash - *uri - 6), *uri + 6);
		if ((res = db_exec(r->db, STMT_RUN_ARTIFACT_URI, 1, vals)) == NULL)
			return -1;
		if (PQntuples(res) == 1 && (base = artifact_uri_path(PQgetvalue(res, 0, 0))) != NULL)
			*uri = arena_printf(r->a, "%s%s%s%s", ARTIFACT_URI_SCHEME, base,
			    *base ? "/" : "", slash + 1);
		PQclear(res);
	}
	return *uri != NULL ? 0 : -1;
}
