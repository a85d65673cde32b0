/* api-registry.c: MLflow's model registry API (registered-models, model-versions, aliases) over verdict's registry, under /api/2.0/mlflow/ and /ajax-api/2.0/mlflow/. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "handlers.h"
#include "registry.h"

/*
 * Each handler reads r->in in the order of its field list in routes.c (the
 * comment above each names them) and answers with the registry_* result:
 * rc 1 means the error is answered already, -1 an internal failure.
 */

#define RM_SEARCH_DEFAULT 100
#define RM_SEARCH_MAX 1000
#define MV_SEARCH_DEFAULT 1000
#define MV_SEARCH_MAX 10000

static const char *
opt(const struct req *r, int i)
{
	return r->in[i].present ? r->in[i].s : NULL;
}

/* The version field (an integer, as a JSON number or a string) as text, arena memory. */
static const char *
ver(struct req *r, int i)
{
	return arena_printf(r->a, "%lld", r->in[i].i);
}

/* Answers {key: out}, or {} when key is NULL. */
static int
answer(struct req *r, int rc, const char *key, json_t *out)
{
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	if (key == NULL)
		return resp_json(r, 200, json_object());
	return resp_json(r, 200, json_pack("{s:o}", key, out));
}

static int
model_answer(struct req *r, int rc, const char *name)
{
	json_t *out = NULL;

	if (rc == 0)
		rc = registry_model_json(r, name, &out);
	return answer(r, rc, "registered_model", out);
}

static int
version_answer(struct req *r, int rc, const char *name, const char *version)
{
	json_t *out = NULL;

	if (rc == 0)
		rc = registry_version_json(r, name, version, &out);
	return answer(r, rc, "model_version", out);
}

/* registered-models/create: name, tags, description — one transaction with its tags. */
int
api_mlflow_model_create(struct req *r)
{
	json_t *tags = r->in[1].json, *t;
	size_t i;
	int rc;

	if ((rc = registry_tags_check(r, tags)) != 0)
		return rc == 1 ? 0 : -1;
	if (db_command(r->db, "BEGIN") == -1)
		return -1;
	rc = registry_create_model(r, r->in[0].s, opt(r, 2));
	if (rc == 0 && json_is_array(tags))
		json_array_foreach(tags, i, t) {
			const char *v = json_string_value(json_object_get(t, "value"));

			if ((rc = registry_model_tag(r, r->in[0].s, json_string_value(
			    json_object_get(t, "key")), v ? v : "", 0)) != 0)
				break;
		}
	if (rc != 0) {
		db_rollback(r->db);
		return rc == 1 ? 0 : -1;
	}
	if (db_command(r->db, "COMMIT") == -1)
		return -1;
	return model_answer(r, 0, r->in[0].s);
}

/* registered-models/rename: name, new_name */
int
api_mlflow_model_rename(struct req *r)
{
	int rc = registry_rename_model(r, r->in[0].s, r->in[1].s);

	return model_answer(r, rc, r->in[1].s);
}

/* registered-models/update: name, description */
int
api_mlflow_model_update(struct req *r)
{
	int rc = registry_update_model(r, r->in[0].s, opt(r, 1));

	return model_answer(r, rc, r->in[0].s);
}

/* registered-models/delete: name */
int
api_mlflow_model_delete(struct req *r)
{
	return answer(r, registry_delete_model(r, r->in[0].s), NULL, NULL);
}

/* registered-models/get: name */
int
api_mlflow_model_get(struct req *r)
{
	return model_answer(r, 0, r->in[0].s);
}

static int
search(struct req *r, int versions)
{
	long long max = versions ? MV_SEARCH_DEFAULT : RM_SEARCH_DEFAULT;
	long long cap = versions ? MV_SEARCH_MAX : RM_SEARCH_MAX;
	const char *next = NULL;
	json_t *items = NULL, *o;
	int rc;

	/* filter, max_results, order_by, page_token */
	if (r->in[1].present)
		max = r->in[1].i;
	if (max < 1 || max > cap) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid value for max_results: "
		    "it must be at most %lld and positive, got %lld", cap, max);
		return 0;
	}
	rc = registry_search(r, versions, opt(r, 0), r->in[2].list, r->in[2].nlist, max,
	    opt(r, 3), &items, &next);
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	o = json_pack("{s:o}", versions ? "model_versions" : "registered_models", items);
	if (next != NULL)
		json_object_set_new(o, "next_page_token", json_string(next));
	return resp_json(r, 200, o);
}

int
api_mlflow_model_search(struct req *r)
{
	return search(r, 0);
}

int
api_mlflow_version_search(struct req *r)
{
	return search(r, 1);
}

/* registered-models/get-latest-versions: name, stages */
int
api_mlflow_model_latest(struct req *r)
{
	json_t *out = NULL;
	int rc = registry_latest_versions(r, r->in[0].s, r->in[1].list, r->in[1].nlist, &out);

	return answer(r, rc, "model_versions", out);
}

/* registered-models/set-tag: name, key, value */
int
api_mlflow_model_set_tag(struct req *r)
{
	return answer(r, registry_model_tag(r, r->in[0].s, r->in[1].s, opt(r, 2) ?
	    opt(r, 2) : "", 0), NULL, NULL);
}

/* registered-models/delete-tag: name, key */
int
api_mlflow_model_delete_tag(struct req *r)
{
	return answer(r, registry_model_tag(r, r->in[0].s, r->in[1].s, NULL, 1), NULL, NULL);
}

/* POST registered-models/alias: name, alias, version */
int
api_mlflow_alias_set(struct req *r)
{
	return answer(r, registry_set_alias(r, r->in[0].s, r->in[1].s, r->in[2].i), NULL,
	    NULL);
}

/* DELETE registered-models/alias: name, alias */
int
api_mlflow_alias_delete(struct req *r)
{
	return answer(r, registry_delete_alias(r, r->in[0].s, r->in[1].s), NULL, NULL);
}

/* GET registered-models/alias: name, alias */
int
api_mlflow_alias_get(struct req *r)
{
	json_t *out = NULL;
	int rc = registry_alias_version(r, r->in[0].s, r->in[1].s, &out);

	return answer(r, rc, "model_version", out);
}

/*
 * model-versions/create: name, source, run_id, tags, description, run_link.
 * A source in verdict's artifact store holding an xgboost-flavor model
 * becomes a servable version (registry_add_version_from_source).
 */
int
api_mlflow_version_create(struct req *r)
{
	struct version_meta meta = { .description = opt(r, 4), .tags = r->in[3].json };
	char v[16];
	int version = 0;
	int rc = registry_add_version_from_source(r, r->in[0].s, r->in[1].s, opt(r, 2), &meta,
	    &version);

	snprintf(v, sizeof(v), "%d", version);
	return version_answer(r, rc, r->in[0].s, v);
}

/* model-versions/update: name, version, description */
int
api_mlflow_version_update(struct req *r)
{
	const char *v = ver(r, 1);

	if (v == NULL)
		return -1;
	return version_answer(r, registry_update_version(r, r->in[0].s, v, opt(r, 2)),
	    r->in[0].s, v);
}

/* model-versions/transition-stage: name, version, stage, archive_existing_versions */
int
api_mlflow_version_transition(struct req *r)
{
	const char *v = ver(r, 1);
	int rc;

	if (v == NULL)
		return -1;
	rc = registry_set_stage(r, r->in[0].s, v, r->in[2].s, r->in[3].present && r->in[3].b);
	return version_answer(r, rc, r->in[0].s, v);
}

/* model-versions/delete: name, version */
int
api_mlflow_version_delete(struct req *r)
{
	const char *v = ver(r, 1);

	if (v == NULL)
		return -1;
	return answer(r, registry_delete_version(r, r->in[0].s, v), NULL, NULL);
}

/* model-versions/get: name, version */
int
api_mlflow_version_get(struct req *r)
{
	const char *v = ver(r, 1);

	if (v == NULL)
		return -1;
	return version_answer(r, 0, r->in[0].s, v);
}

/* model-versions/get-download-uri: name, version */
int
api_mlflow_version_download_uri(struct req *r)
{
	const char *v = ver(r, 1);
	char *uri = NULL;
	int rc;

	if (v == NULL)
		return -1;
	if ((rc = registry_download_uri(r, r->in[0].s, v, &uri)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_pack("{s:s}", "artifact_uri", uri));
}

/* model-versions/set-tag: name, version, key, value */
int
api_mlflow_version_set_tag(struct req *r)
{
	const char *v = ver(r, 1);

	if (v == NULL)
		return -1;
	return answer(r, registry_version_tag(r, r->in[0].s, v, r->in[2].s, opt(r, 3) ?
	    opt(r, 3) : "", 0), NULL, NULL);
}

/* model-versions/delete-tag: name, version, key */
int
api_mlflow_version_delete_tag(struct req *r)
{
	const char *v = ver(r, 1);

	if (v == NULL)
		return -1;
	return answer(r, registry_version_tag(r, r->in[0].s, v, r->in[2].s, NULL, 1), NULL,
	    NULL);
}
