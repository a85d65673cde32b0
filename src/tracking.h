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
/*
 * Keys per kind (TRK_PARAMS, TRK_METRICS, TRK_TAGS): what a runs table shows
 * of each run, or every key its runs have.
 */
enum { TRK_PARAMS, TRK_METRICS, TRK_TAGS, TRK_KINDS };
struct trk_keys {
	const char **key[TRK_KINDS];
	size_t n[TRK_KINDS];
};

/*
 * runs/search. With only, each run's data holds those keys alone and no
 * inputs (a runs table); NULL loads everything, as MLflow answers.
 */
int tracking_run_search(struct req *r, const char *const *experiment_ids, size_t nexp,
    const char *filter, enum trk_view view, long long max_results,
    const char *const *order_by, size_t norder, const char *page_token,
    const struct trk_keys *only, json_t **out);
/* Every param, metric and tag key the runs (a runs/search answer's list) have, sorted. */
int tracking_run_keys(struct req *r, json_t *runs, struct trk_keys *out);

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


/* ---- reads for the HTML pages (page-experiments.c, page-runs.c) ---- */

#define TRK_OVERVIEW_MAX 1000   /* experiments on the list page */

/*
 * Experiments in view whose name contains name_part (case-insensitive,
 * taken literally; "" for all), newest first, at most limit: an array of
 * {experiment_id, name, lifecycle_stage, creation_time, last_update_time
 * (the later of the experiment's and its newest run's), runs (active)}.
 */
int tracking_experiment_overview(struct req *r, enum trk_view view, const char *name_part,
    long long limit, json_t **out);

/*
 * Whether filter and order_by[0..norder) compile for runs/search; writes
 * the message (naming the position) into err and returns -1 when not.
 * Answers nothing: the page shows the message next to the filter box.
 */
int tracking_run_search_check(struct req *r, const char *filter,
    const char *const *order_by, size_t norder, char *err, size_t errlen);

/* The 1-based position named by a search error message, 0 when it names none. */
size_t tracking_search_error_position(const char *err);

/*
 * Full runs (MLflow's {info, data, inputs}) for ids[0..n), in that order;
 * ids that name no run are left out (the caller tells which). Malformed ids
 * are answered as tracking_run_get does.
 */
int tracking_runs_get(struct req *r, const char *const *ids, size_t n, json_t **out);

/* Model versions registered from run_id: an array of {name, version, stage}. */
int tracking_run_model_versions(struct req *r, const char *run_id, json_t **out);

/*
 * Sparklines of every metric of a run: an object key → array of [step,
 * value], at most npoints evenly spaced steps each (index probes, so a
 * 1M-point history costs as much as a short one).
 */
int tracking_run_sparklines(struct req *r, const char *run_id, int npoints, json_t **out);

/*
 * One metric's history, aggregated per x bucket for drawing: x is "step" or
 * "time" (the timestamp), nbuckets at most TRK_BUCKETS_MAX. *out is an
 * array of [x_min, x_max, y_min, y_max, y_mean, count] by x, NaN and
 * infinite values left out; an unknown run is a 404, an empty history [].
 * A history of chart_summary_min_points finite points or more is read from
 * its block summary (made current first: appended to, or rebuilt when a
 * point landed inside it), each block of 64 points counted in the bucket of
 * its x midpoint, so a bucket's x range may reach past its pixel.
 */
#define TRK_BUCKETS_MAX 4000
int tracking_metric_buckets(struct req *r, const char *run_id, const char *key,
    const char *x, int nbuckets, json_t **out);

#endif
