/* api-artifacts.c: MLflow's artifact endpoints — the mlflow-artifacts proxy (upload, download, list, delete) and runs' artifacts/list. */
#include <stdio.h>
#include <string.h>

#include "artifacts.h"
#include "handlers.h"

/* PUT /api/2.0/mlflow-artifacts/artifacts/{path...}: the body streams into the store. */
int
api_artifact_put(struct req *r)
{
	const char *path;
	int rc;

	if ((rc = artifact_request_path(r, NULL, &path)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = artifact_put(r, path)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_object());
}

int
api_artifact_get(struct req *r)
{
	const char *path;
	int rc;

	if ((rc = artifact_request_path(r, NULL, &path)) != 0)
		return rc == 1 ? 0 : -1;
	rc = artifact_get(r, path, 0);
	return rc == -1 ? -1 : 0;
}

int
api_artifact_delete(struct req *r)
{
	const char *path;
	int rc;

	if ((rc = artifact_request_path(r, NULL, &path)) != 0)
		return rc == 1 ? 0 : -1;
	if ((rc = artifact_delete(r, path)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_object());
}

/* GET /api/2.0/mlflow-artifacts/artifacts?path=: entries by their names, as MLflow lists them. */
int
api_artifact_list(struct req *r)
{
	const char *dir = r->in[0].present ? r->in[0].s : "", *why;
	json_t *files;
	int rc;

	if ((why = artifact_path_check(dir, 1)) != NULL) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid path: %s", why);
		return 0;
	}
	if ((rc = artifact_list(r, dir, "", &files)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_pack("{s:o}", "files", files));
}

/* GET /api/2.0/mlflow/artifacts/list?run_id=&path=: paths relative to the run's artifact root. */
int
api_mlflow_artifacts_list(struct req *r)
{
	const char *run = r->in[0].present ? r->in[0].s : r->in[1].present ? r->in[1].s : NULL;
	const char *sub = r->in[2].present ? r->in[2].s : "", *why, *base, *uri;
	char *dir, *prefix;
	json_t *files;
	int rc;

	if (run == NULL || *run == '\0') {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Missing value for required "
		    "parameter 'run_id'. See the API docs for more information about request "
		    "parameters.");
		return 0;
	}
	if ((why = artifact_path_check(sub, 1)) != NULL) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid path: %s", why);
		return 0;
	}
	if ((rc = artifact_run_root(r, run, &uri, &base)) == 2) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "the run's artifact_uri '%.300s' "
		    "is not in verdict's artifact store (%s...)", uri, ARTIFACT_URI_SCHEME);
		return 0;
	}
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	dir = arena_printf(r->a, "%s%s%s", base, *base && *sub ? "/" : "", sub);
	prefix = arena_printf(r->a, "%s%s", sub, *sub ? "/" : "");
	if (dir == NULL || prefix == NULL)
		return -1;
	if ((rc = artifact_list(r, dir, prefix, &files)) != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, json_pack("{s:s, s:o}", "root_uri", uri, "files", files));
}
