/* feedback.h: ground truth for past predictions and live quality per model version — the domain operations under the JSON API and the HTML pages. */
#ifndef VERDICT_FEEDBACK_H
#define VERDICT_FEEDBACK_H

#include <stddef.h>

#include <jansson.h>

#include "http.h"

#define FEEDBACK_MAX_BATCH 10000   /* rows per POST /api/feedback(.csv) */
#define PREDICTIONS_PAGE_MAX 1000  /* rows per GET /api/predictions page */
#define QUALITY_AUC_ROWS 5000      /* newest verified rows a window's ROC AUC uses */
#define QUALITY_POINTS 500         /* predicted-vs-actual points per version */

/* One reported truth: a JSON number (regression) or a class label (string). */
struct fb_item {
	long long prediction_id;   /* <= 0: malformed; the caller already set the row's error */
	json_t *truth;             /* borrowed, unless owned */
	int owned;                 /* truth is a reference feedback_rows_release drops */
};

/* The verdict on one row. */
struct fb_result {
	int status;                /* 0 accepted, else this row's HTTP status: 400, 404, 409 */
	int replaced;              /* accepted as a correction of an earlier truth */
	char error[256];
};

/*
 * Records truths for predictions: each is checked against its prediction's
 * model version (a finite number for regression; one of the classes for
 * classification), and one current truth per prediction is kept — a
 * correction by the same user or an admin replaces it (the history stays);
 * anyone else gets 409. Live quality moves in the same transaction.
 * Rows whose res[i].status is already non-zero are skipped (pre-rejected by
 * the caller, e.g. a malformed CSV line). Concurrent reports for the same
 * prediction serialize on its row: the first to commit wins, the second is
 * a correction or a 409.
 * atomic: when any row is rejected, nothing is written.
 * Returns 0 with res[] filled and *accepted set, 1 when answered (error),
 * -1 on an internal failure.
 */
int feedback_submit(struct req *r, const struct fb_item *items, size_t n,
    const char *source, int atomic, struct fb_result *res, size_t *accepted);

/*
 * Rows of a bulk report, as items + results (malformed rows pre-rejected
 * with status 400 and a message naming the row). *where gets each row's
 * place for the answer: a CSV line number, or a list index. From a JSON
 * list of {"prediction_id", "true_value"} objects, or a CSV with a header
 * naming prediction_id and true_value (other columns ignored). Returns the
 * row count; -1 after answering 400/413 for the body as a whole; -2 on an
 * internal failure. Arena memory.
 */
long feedback_rows_json(struct req *r, json_t *list, struct fb_item **items,
    struct fb_result **res, long **where);
long feedback_rows_csv(struct req *r, const char *body, size_t len,
    struct fb_item **items, struct fb_result **res, long **where);

/* Drops the truths feedback_rows_csv created. */
void feedback_rows_release(struct fb_item *items, size_t n);

/* The per-row answer: {"accepted", "rejected", "results": [{"line"|"index",
 * "prediction_id", "status": "accepted"|"rejected", "replaced", "code",
 * "error"}]}. where_key is "line" or "index". */
json_t *feedback_results(const struct fb_item *items, const struct fb_result *res,
    size_t n, const long *where, const char *where_key);

/*
 * One random unverified prediction of model name (version 0: any version)
 * as a prediction object (below), found by index probes, never by sorting
 * the table. 0 with *out; 1 when answered (404: unknown model, or nothing
 * left to verify); -1.
 */
int feedback_next(struct req *r, const char *name, int version, json_t **out);

/*
 * Prediction object: {"prediction_id", "model", "version", "task",
 * "classes" (classification), "created_at" (ISO 8601 UTC), "inputs",
 * "output" (as answered: value, label, probabilities), "verified",
 * "true_value" (current truth or null), "user" (who predicted, or null),
 * "latency_us", "request_id"}.
 */
struct pred_filter {
	const char *model;         /* NULL or "": every model */
	int version;               /* 0: any */
	int verified;              /* -1 any, 0 no, 1 yes */
	const char *from, *to;     /* ISO 8601 or NULL: created_at >= from, < to */
	int limit;                 /* 1..PREDICTIONS_PAGE_MAX */
	long long after;           /* keyset: ids below this (0: from the newest) */
};

/*
 * A page of predictions, newest first: {"predictions": [...], "next_after":
 * id or null}. 0 with *out; 1 answered (400 bad time, 404 unknown model); -1.
 */
int predictions_list(struct req *r, const struct pred_filter *f, json_t **out);

/* One prediction object plus "feedback": [{"true_value", "user", "source",
 * "created_at", "current"}], oldest first. 0; 1 answered (404); -1. */
int prediction_get(struct req *r, long long id, json_t **out);

/*
 * Live quality of every version of a model over a window ("24h", "7d",
 * "30d", "all"), from the hourly aggregates:
 * {"model", "window", "versions": [{"version", "stage", "task", "classes",
 *   "predictions", "verified", "coverage",
 *   "metrics": regression {"n", "mae", "rmse", "bias", "r2"};
 *              classification {"n", "accuracy", "macro_f1", "log_loss",
 *                "per_class": {label: {"precision", "recall", "f1", "support"}},
 *                "roc_auc" (binary)},
 *   "confusion": {"labels": [...], "matrix": [[actual x predicted]]} (classification),
 *   "points": [[predicted, actual], ...] (regression, newest QUALITY_POINTS),
 *   "run_id" (the linked run, or null), "training": {metric: latest value}
 *   (what that run recorded, e.g. the validation metric; {} without a run),
 *   "daily": [{"day", "predictions", "verified", "mae"|"accuracy"}]}]}
 * Metrics are null when nothing is verified. 0; 1 answered (400 window,
 * 404 model); -1.
 */
int quality_get(struct req *r, const char *name, const char *window, json_t **out);

/* The window names quality_get accepts, NULL-terminated (for field declarations). */
extern const char *const quality_windows[];

#endif
