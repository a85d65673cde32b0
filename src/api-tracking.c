/* api-tracking.c: the MLflow REST 2.0 tracking API (/api/2.0/mlflow/ and /ajax-api/2.0/mlflow/): validated inputs in, tracking_* out. */
#include <string.h>

#include "handlers.h"
#include "tracking.h"

/*
 * Each handler reads r->in in the order of its field list in routes.c (the
 * index comments below name them) and answers with the tracking_* result:
 * rc 1 means the error is answered already, -1 an internal failure.
 */

static int
answer(struct req *r, int rc, json_t *out)
{
	if (rc != 0)
		return rc == 1 ? 0 : -1;
	return resp_json(r, 200, out != NULL ? out : json_object());
}

static const char *
opt(const struct req *r, int i)
{
	return r->in[i].present ? r->in[i].s : NULL;
}

/* run_id, or the older run_uuid MLflow still accepts; NULL after answering when neither came. */
static const char *
run_id_of(struct req *r, int run_id, int run_uuid)
{
	if (r->in[run_id].present && r->in[run_id].len > 0)
		return r->in[run_id].s;
	if (run_uuid >= 0 && r->in[run_uuid].present && r->in[run_uuid].len > 0)
		return r->in[run_uuid].s;
	resp_error_code(r, "INVALID_PARAMETER_VALUE", "Missing value for required parameter "
	    "'run_id'. See the API docs for more information about request parameters.");
	return NULL;
}

static int
view_of(struct req *r, int i, enum trk_view *v)
{
	if (trk_view_parse(opt(r, i), v) == -1) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Invalid value '%.40s' for "
		    "parameter '%s': expected ACTIVE_ONLY, DELETED_ONLY or ALL", r->in[i].s,
		    r->route->fields[i].name);
		return 1;
	}
	return 0;
}

/* experiments/create: name, artifact_location, tags */
int
api_mlflow_experiment_create(struct req *r)
{
	json_t *out;
	int rc = tracking_experiment_create(r, r->in[0].s, opt(r, 1), r->in[2].json, &out);

	return answer(r, rc, out);
}

/* experiments/search: max_results, filter, order_by, page_token, view_type */
int
api_mlflow_experiment_search(struct req *r)
{
	enum trk_view view;
	json_t *out;
	int rc;

	if (view_of(r, 4, &view))
		return 0;
	rc = tracking_experiment_search(r, view, r->in[0].present ? r->in[0].i :
	    TRK_DEFAULT_RESULTS, opt(r, 1), r->in[2].list, r->in[2].nlist, opt(r, 3), &out);
	return answer(r, rc, out);
}

/* 1.x experiments/list: view_type, max_results, page_token */
int
api_mlflow_experiment_list(struct req *r)
{
	enum trk_view view;
	json_t *out;
	int rc;

	if (view_of(r, 0, &view))
		return 0;
	rc = tracking_experiment_search(r, view, r->in[1].present ? r->in[1].i :
	    TRK_MAX_RESULTS, NULL, NULL, 0, opt(r, 2), &out);
	return answer(r, rc, out);
}

/* experiments/get: experiment_id */
int
api_mlflow_experiment_get(struct req *r)
{
	json_t *e;
	int rc = tracking_experiment_get(r, r->in[0].s, &e);

	return answer(r, rc, rc == 0 ? json_pack("{s:o}", "experiment", e) : NULL);
}

/* experiments/get-by-name: experiment_name */
int
api_mlflow_experiment_get_by_name(struct req *r)
{
	json_t *e;
	int rc = tracking_experiment_get_by_name(r, r->in[0].s, &e);

	return answer(r, rc, rc == 0 ? json_pack("{s:o}", "experiment", e) : NULL);
}

/* experiments/update: experiment_id, new_name */
int
api_mlflow_experiment_update(struct req *r)
{
	return answer(r, tracking_experiment_rename(r, r->in[0].s, r->in[1].s), NULL);
}

/* experiments/delete: experiment_id */
int
api_mlflow_experiment_delete(struct req *r)
{
	return answer(r, tracking_experiment_delete(r, r->in[0].s, 0), NULL);
}

/* experiments/restore: experiment_id */
int
api_mlflow_experiment_restore(struct req *r)
{
	return answer(r, tracking_experiment_delete(r, r->in[0].s, 1), NULL);
}

/* experiments/set-experiment-tag: experiment_id, key, value */
int
api_mlflow_experiment_set_tag(struct req *r)
{
	return answer(r, tracking_experiment_set_tag(r, r->in[0].s, r->in[1].s,
	    r->in[2].present ? r->in[2].s : ""), NULL);
}

/* experiments/delete-experiment-tag: experiment_id, key */
int
api_mlflow_experiment_delete_tag(struct req *r)
{
	return answer(r, tracking_experiment_delete_tag(r, r->in[0].s, r->in[1].s), NULL);
}

/* runs/create: experiment_id, user_id (deprecated, ignored), run_name, start_time, tags */
int
api_mlflow_run_create(struct req *r)
{
	json_t *out;
	int rc = tracking_run_create(r, opt(r, 0), opt(r, 2), r->in[3].i, r->in[3].present,
	    r->in[4].json, &out);

	return answer(r, rc, out);
}

/* runs/update: run_id, run_uuid, status, end_time, run_name */
int
api_mlflow_run_update(struct req *r)
{
	const char *id = run_id_of(r, 0, 1);
	json_t *info;
	int rc;

	if (id == NULL)
		return 0;
	rc = tracking_run_update(r, id, opt(r, 2), r->in[3].present ? &r->in[3].i : NULL,
	    opt(r, 4), &info);
	return answer(r, rc, rc == 0 ? json_pack("{s:o}", "run_info", info) : NULL);
}

/* runs/delete: run_id */
int
api_mlflow_run_delete(struct req *r)
{
	return answer(r, tracking_run_delete(r, r->in[0].s, 0), NULL);
}

/* runs/restore: run_id */
int
api_mlflow_run_restore(struct req *r)
{
	return answer(r, tracking_run_delete(r, r->in[0].s, 1), NULL);
}

/* runs/get: run_id, run_uuid */
int
api_mlflow_run_get(struct req *r)
{
	const char *id = run_id_of(r, 0, 1);
	json_t *out;
	int rc;

	if (id == NULL)
		return 0;
	rc = tracking_run_get(r, id, &out);
	return answer(r, rc, out);
}

/* runs/search: experiment_ids, filter, run_view_type, max_results, order_by, page_token */
int
api_mlflow_run_search(struct req *r)
{
	enum trk_view view;
	json_t *out;
	int rc;

	if (view_of(r, 2, &view))
		return 0;
	rc = tracking_run_search(r, r->in[0].list, r->in[0].nlist, opt(r, 1), view,
	    r->in[3].present ? r->in[3].i : TRK_DEFAULT_RESULTS, r->in[4].list,
	    r->in[4].nlist, opt(r, 5), NULL, &out);
	return answer(r, rc, out);
}

/* runs/log-metric: run_id, run_uuid, key, value, timestamp, step */
int
api_mlflow_log_metric(struct req *r)
{
	const char *id = run_id_of(r, 0, 1);
	json_t *m;
	int rc;

	if (id == NULL)
		return 0;
	m = json_pack("[{s:s, s:O, s:I, s:I}]", "key", r->in[2].s, "value", r->in[3].json,
	    "timestamp", (json_int_t)r->in[4].i, "step", (json_int_t)r->in[5].i);
	if (m == NULL)
		return -1;
	rc = tracking_log_batch(r, id, m, NULL, NULL);
	json_decref(m);
	return answer(r, rc, NULL);
}

/* runs/log-parameter: run_id, run_uuid, key, value */
int
api_mlflow_log_param(struct req *r)
{
	const char *id = run_id_of(r, 0, 1);
	json_t *p;
	int rc;

	if (id == NULL)
		return 0;
	if ((p = json_pack("[{s:s, s:s}]", "key", r->in[2].s, "value",
	    r->in[3].present ? r->in[3].s : "")) == NULL)
		return -1;
	rc = tracking_log_batch(r, id, NULL, p, NULL);
	json_decref(p);
	return answer(r, rc, NULL);
}

/* runs/set-tag: run_id, run_uuid, key, value */
int
api_mlflow_set_tag(struct req *r)
{
	const char *id = run_id_of(r, 0, 1);
	json_t *t;
	int rc;

	if (id == NULL)
		return 0;
	if ((t = json_pack("[{s:s, s:s}]", "key", r->in[2].s, "value",
	    r->in[3].present ? r->in[3].s : "")) == NULL)
		return -1;
	rc = tracking_log_batch(r, id, NULL, NULL, t);
	json_decref(t);
	return answer(r, rc, NULL);
}

/* runs/delete-tag: run_id, key */
int
api_mlflow_delete_tag(struct req *r)
{
	return answer(r, tracking_delete_tag(r, r->in[0].s, r->in[1].s), NULL);
}

/* runs/log-batch: run_id, metrics, params, tags */
int
api_mlflow_log_batch(struct req *r)
{
	/* MLflow counts the request's bytes; a larger body than our JSON cap is a 413 before this. */
	if (r->body_len > TRK_BATCH_BYTES) {
		resp_error_code(r, "INVALID_PARAMETER_VALUE", "Batched logging API requests "
		    "must be at most %d bytes, got a request of size %zu.", TRK_BATCH_BYTES,
		    r->body_len);
		return 0;
	}
	return answer(r, tracking_log_batch(r, r->in[0].s, r->in[1].json, r->in[2].json,
	    r->in[3].json), NULL);
}

/* runs/log-inputs: run_id, datasets */
int
api_mlflow_log_inputs(struct req *r)
{
	return answer(r, tracking_log_inputs(r, r->in[0].s, r->in[1].json), NULL);
}

/* metrics/get-history: run_id, run_uuid, metric_key, max_results, page_token */
int
api_mlflow_metric_history(struct req *r)
{
	const char *id = run_id_of(r, 0, 1);
	json_t *out;
	int rc;

	if (id == NULL)
		return 0;
	rc = tracking_metric_history(r, id, r->in[2].s, r->in[3].present ? r->in[3].i :
	    TRK_HISTORY_MAX, opt(r, 4), &out);
	return answer(r, rc, out);
}

/* metrics/get-history-bulk-interval: run_ids, metric_key, start_step, end_step, max_results */
int
api_mlflow_metric_bulk(struct req *r)
{
	json_t *out;
	int rc = tracking_metric_bulk(r, r->in[0].list, r->in[0].nlist, r->in[1].s,
	    r->in[2].present ? &r->in[2].i : NULL, r->in[3].present ? &r->in[3].i : NULL,
	    r->in[4].present ? r->in[4].i : TRK_BULK_DEFAULT, &out);

	return answer(r, rc, out);
}
