/* tracking.h: experiment tracking's domain operations (MLflow's data model), shared by the MLflow JSON API and the coming pages. */
#ifndef VERDICT_TRACKING_H
#define VERDICT_TRACKING_H

#include <jansson.h>

#include "http.h"

/* MLflow's limits (mlflow/utils/validation.py), in characters. */
#define TRK_KEY_MAX            250
#define TRK_PARAM_VALUE_MAX    6000
#define TRK_TAG_VALUE_MAX      5000
#define TRK_EXP_NAME_MAX       500
#define TRK_BATCH_METRICS      1000
#define TRK_BATCH_PARAMS_TAGS  100
#define TRK_BATCH_ITEMS        1000
#define TRK_BATCH_BYTES        1000000
#define TRK_MAX_RESULTS        50000    /* runs/search, experiments/search */
#define TRK_DEFAULT_RESULTS    1000
#define TRK_HISTORY_MAX        25000    /* metrics/get-history per page */
#define TRK_BULK_RUNS          100      /* get-history-bulk-interval */
#define TRK_BULK_DEFAULT       320
#define TRK_BULK_MAX           25000

/* ACTIVE_ONLY, DELETED_ONLY, ALL; NULL means ACTIVE_ONLY. */
enum trk_view { TRK_ACTIVE_ONLY, TRK_DELETED_ONLY, TRK_ALL };
int trk_view_parse(const char *s, enum trk_view *v);

/*
 * Every function below answers errors itself with resp_error_code (MLflow's
 * codes and statuses) and returns 1 then; 0 on success with *out (when
 * there is one) a new reference the caller owns; -1 on an internal failure
 * (the dispatcher answers 500, or 503 when Postgres went away). This is
 * where per-experiment permission checks will sit.
 */

/* experiments */
int tracking_experiment_create(struct req *r, const char *name, const char *artifact_location,
    json_t *tags, json_t **out);
int tracking_experiment_get(struct req *r, const char *id, json_t **out);
int tracking_experiment_get_by_name(struct req *r, const char *name, json_t **out);
int tracking_experiment_search(struct req *r, enum trk_view view, long long max_results,
    const char *filter, const char *const *order_by, size_t norder, const char *page_token,
    json_t **out);
int tracking_experiment_rename(struct req *r, const char *id, const char *new_name);
int tracking_experiment_delete(struct req *r, const char *id, int restore);
int tracking_experiment_set_tag(struct req *r, const char *id, const char *key,
    const char *value);
int tracking_experiment_delete_tag(struct req *r, const char *id, const char *key);

/* runs */
int tracking_run_create(struct req *r, const char *experiment_id, const char *run_name,
    long long start_time, int has_start, json_t *tags, json_t **out);
int tracking_run_get(struct req *r, const char *run_id, json_t **out);
int tracking_run_update(struct req *r, const char *run_id, const char *status,
    const long long *end_time, const char *run_name, json_t **run_info);
int tracking_run_delete(struct req *r, const char *run_id, int restore);
int tracking_run_search(struct req *r, const char *const *experiment_ids, size_t nexp,
    const char *filter, enum trk_view view, long long max_results,
    const char *const *order_by, size_t norder, const char *page_token, json_t **out);

/*
 * The one write path for metrics, params and tags (log-metric, log-parameter
 * and set-tag are batches of one): validated whole, then written in one
 * transaction, so one bad item writes nothing. Arrays of MLflow objects
 * ({key, value, timestamp, step} / {key, value}); NULL for none.
 */
int tracking_log_batch(struct req *r, const char *run_id, json_t *metrics, json_t *params,
    json_t *tags);
int tracking_delete_tag(struct req *r, const char *run_id, const char *key);
int tracking_log_inputs(struct req *r, const char *run_id, json_t *datasets);

/* metrics */
int tracking_metric_history(struct req *r, const char *run_id, const char *key,
    long long max_results, const char *page_token, json_t **out);
int tracking_metric_bulk(struct req *r, const char *const *run_ids, size_t nruns,
    const char *key, const long long *start_step, const long long *end_step,
    long long max_results, json_t **out);

#endif
