/* routes.c: the route table — every URL, method, handler, auth level and declared input in one place. */
#include "artifacts.h"
#include "feedback.h"
#include "handlers.h"
#include "metrics.h"
#include "perm.h"
#include "webhook.h"
#include "router.h"
#include "search.h"

#define F(x) x, ARRAY_LEN(x)
#define NOF NULL, 0
#define FORM R_BODY_FORM
#define JSON_OR_FORM (R_BODY_JSON | R_BODY_FORM)

/*
 * Field limits: usernames are capped generously here (256 bytes) so the
 * username rules in auth.c give the precise message; passwords are capped
 * at 1024 bytes so an oversized one is refused before any hashing.
 */
static const struct field f_credentials[] = {
	{ "username", FT_STRING, 1, 1, 256, 0, 0, NULL },
	{ "password", FT_STRING, 1, 1, PASSWORD_MAX, 0, 0, NULL },
};
static const struct field f_signup_form[] = {
	{ "username", FT_STRING, 1, 1, 256, 0, 0, NULL },
	{ "password", FT_STRING, 1, 1, PASSWORD_MAX, 0, 0, NULL },
	{ "password2", FT_STRING, 0, 0, PASSWORD_MAX, 0, 0, NULL },
};
static const struct field f_login_form[] = {
	{ "username", FT_STRING, 1, 1, 256, 0, 0, NULL },
	{ "password", FT_STRING, 1, 1, PASSWORD_MAX, 0, 0, NULL },
	{ "next", FT_STRING, 0, 0, 2000, 0, 0, NULL },
};
static const struct field f_login_page[] = {
	{ "next", FT_STRING, 0, 0, 2000, 0, 0, NULL },
};
/* OAuth2PasswordRequestForm: scope, client_id, client_secret are accepted and ignored. */
static const struct field f_oauth2[] = {
	{ "username", FT_STRING, 1, 1, 256, 0, 0, NULL },
	{ "password", FT_STRING, 1, 1, PASSWORD_MAX, 0, 0, NULL },
	{ "grant_type", FT_STRING, 0, 0, 64, 0, 0, NULL },
	{ "scope", FT_STRING, 0, 0, 1024, 0, 0, NULL },
	{ "client_id", FT_STRING, 0, 0, 256, 0, 0, NULL },
	{ "client_secret", FT_STRING, 0, 0, 256, 0, 0, NULL },
};
static const struct field f_token_new[] = {
	{ "name", FT_STRING, 1, 1, 100, 0, 0, NULL },
	{ "expires_in", FT_INT, 0, 0, 10 * 365 * 86400, 0, 0, NULL },
};
static const struct field f_token_form[] = {
	{ "name", FT_STRING, 1, 1, 100, 0, 0, NULL },
	{ "expires_days", FT_INT, 0, 0, 3650, 0, 0, NULL },
};
static const struct field f_password_change[] = {
	{ "current_password", FT_STRING, 1, 1, PASSWORD_MAX, 0, 0, NULL },
	{ "new_password", FT_STRING, 1, 1, PASSWORD_MAX, 0, 0, NULL },
};
static const struct field f_admin_list[] = {
	{ "q", FT_STRING, 0, 0, 64, 0, 0, NULL },
	{ "page", FT_INT, 0, 1, 100000, 0, 0, NULL },
};
static const char *const admin_actions[] = { "disable", "enable", "make_admin",
	"make_user", "set_password", NULL };
static const struct field f_admin_action[] = {
	{ "action", FT_ENUM, 1, 0, 0, 0, 0, admin_actions },
	{ "password", FT_STRING, 0, 1, PASSWORD_MAX, 0, 0, NULL },
};

static const struct field f_model_new[] = {
	{ "name", FT_STRING, 1, 1, 255, 0, 0, NULL },
	{ "description", FT_STRING, 0, 0, 5000, 0, 0, NULL },
};
/* Boosters and specs arrive as multipart files (the spec may be a plain field). */
static const struct field f_version_new[] = {
	/* the whole multipart body is capped by max_multipart_body (64 MiB) anyway */
	{ "booster", FT_FILE, 1, 0, 64 << 20, 0, 0, NULL },
	{ "spec", FT_STRING, 1, 2, 4 << 20, 0, 0, NULL },
	{ "source", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_id", FT_STRING, 0, 0, 64, 0, 0, NULL },
};
static const char *const stages[] = { "None", "Staging", "Production", "Archived",
	"none", "staging", "production", "archived", NULL };
/*
 * The JSON API takes those files, or (JSON, form) a run and the artifact
 * directory where it logged its model; api-models.c says which is missing.
 */
static const struct field f_version_api[] = {
	{ "booster", FT_FILE, 0, 0, 64 << 20, 0, 0, NULL },
	{ "spec", FT_STRING, 0, 2, 4 << 20, 0, 0, NULL },
	{ "source", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_id", FT_STRING, 0, 0, 64, 0, 0, NULL },
	{ "artifact_path", FT_STRING, 0, 1, ARTIFACT_PATH_MAX, 0, 0, NULL },
	{ "stage", FT_ENUM, 0, 0, 0, 0, 0, stages },
};
/* The run page's "register model" form. */
static const struct field f_run_register[] = {
	{ "name", FT_STRING, 1, 1, 255, 0, 0, NULL },
	{ "artifact_path", FT_STRING, 1, 1, ARTIFACT_PATH_MAX, 0, 0, NULL },
	{ "stage", FT_ENUM, 0, 0, 0, 0, 0, stages },
};
static const char *const retrain_metrics[] = { "rmse", "logloss", "mlogloss", NULL };
static const struct field f_stage[] = {
	{ "stage", FT_ENUM, 1, 0, 0, 0, 0, stages },
	{ "archive_existing_versions", FT_BOOL, 0, 0, 0, 0, 0, NULL },
};
/* POST /api/models/{name}/retrain-result: api_retrain_result reads them in this order. */
static const struct field f_retrain_result[] = {
	{ "candidate_version", FT_INT, 1, 1, 1000000000, 0, 0, NULL },
	{ "production_version", FT_INT, 0, 1, 1000000000, 0, 0, NULL },
	{ "metric", FT_ENUM, 1, 0, 0, 0, 0, retrain_metrics },
	{ "candidate_value", FT_NUMBER, 1, 0, 0, 0, 0, NULL },
	{ "production_value", FT_NUMBER, 0, 0, 0, 0, 0, NULL },
	{ "promoted", FT_BOOL, 1, 0, 0, 0, 0, NULL },
	{ "reason", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_id", FT_STRING, 0, 0, 64, 0, 0, NULL },
};
static const struct field f_alias[] = {
	{ "version", FT_INT, 1, 1, 1000000000, 0, 0, NULL },
};
static const struct field f_predict[] = {
	{ "inputs", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "instances", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "version", FT_INT, 0, 1, 1000000000, 0, 0, NULL },
	{ "alias", FT_STRING, 0, 1, 255, 0, 0, NULL },
	{ "stage", FT_ENUM, 0, 0, 0, 0, 0, stages },
	{ "explain", FT_BOOL, 0, 0, 0, 0, 0, NULL },
};

/* HTML: the alias form names both; the predict page may pin a version (?version=N). */
static const struct field f_alias_form[] = {
	{ "alias", FT_STRING, 1, 1, 255, 0, 0, NULL },
	{ "version", FT_INT, 1, 1, 1000000000, 0, 0, NULL },
};
static const struct field f_predict_page[] = {
	{ "version", FT_INT, 0, 1, 1000000000, 0, 0, NULL },
};

static const struct field f_v2_infer[] = {
	{ "id", FT_STRING, 0, 0, 256, 0, 0, NULL },
	{ "inputs", FT_JSON, 1, 0, 0, 0, 0, NULL },
	{ "outputs", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "parameters", FT_JSON, 0, 0, 0, 0, 0, NULL },
};

/* feedback: the truth is a number or a class label; the version's spec checks it */
static const struct field f_feedback[] = {
	{ "true_value", FT_JSON, 1, 0, 0, 0, 0, NULL },
};
static const struct field f_feedback_next[] = {
	{ "model", FT_STRING, 1, 1, 255, 0, 0, NULL },
	{ "version", FT_INT, 0, 1, 1000000000, 0, 0, NULL },
};
static const struct field f_predictions[] = {
	{ "model", FT_STRING, 0, 0, 255, 0, 0, NULL },
	{ "version", FT_INT, 0, 1, 1000000000, 0, 0, NULL },
	{ "verified", FT_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "from", FT_STRING, 0, 1, 64, 0, 0, NULL },
	{ "to", FT_STRING, 0, 1, 64, 0, 0, NULL },
	{ "limit", FT_INT, 0, 1, PREDICTIONS_PAGE_MAX, 0, 0, NULL },
	{ "after", FT_INT, 0, 1, 9000000000000000000LL, 0, 0, NULL },
};
static const struct field f_quality[] = {
	{ "window", FT_ENUM, 0, 0, 0, 0, 0, quality_windows },
};
/* drift: the window ("24h", "7d") is checked by drift.c, which names the rule */
static const struct field f_drift_run[] = {
	{ "window", FT_STRING, 0, 1, 8, 0, 0, NULL },
	{ "version", FT_INT, 0, 1, 1000000000, 0, 0, NULL },
};
/* HTML upload: a CSV (or JSON list) file for one version */
static const struct field f_drift_reference_form[] = {
	{ "version", FT_INT, 1, 1, 1000000000, 0, 0, NULL },
	{ "data", FT_FILE, 1, 1, 64 << 20, 0, 0, NULL },
};
static const struct field f_verify_random[] = {
	{ "prediction_id", FT_INT, 1, 1, 9000000000000000000LL, 0, 0, NULL },
	{ "true_value", FT_JSON, 1, 0, 0, 0, 0, NULL },
};

/* webhooks (admins): events is a JSON list of kinds */
static const char *const quality_window_names[] = { "24h", "7d", "30d", "all", NULL };
static const struct field f_webhook[] = {
	{ "url", FT_STRING, 1, 8, 2000, 0, 0, NULL },
	{ "events", FT_JSON, 1, 0, 0, 0, 0, NULL },
	{ "model", FT_STRING, 0, 1, 255, 0, 0, NULL },
	{ "secret", FT_STRING, 0, 16, 256, 0, 0, NULL },
	{ "quality_metric", FT_STRING, 0, 1, 32, 0, 0, NULL },
	{ "quality_threshold", FT_NUMBER, 0, 0, 0, -1e300, 1e300, NULL },
	{ "quality_window", FT_ENUM, 0, 0, 0, 0, 0, quality_window_names },
};

/*
 * MLflow tracking API. Caps here are generous on purpose: MLflow's own
 * limits (keys 250, param values 6000, tag values 5000 characters) are
 * checked in tracking.c so the answer carries MLflow's message. Order
 * matters: api-tracking.c reads r->in by position.
 */
#define TRK_TEXT 100000
static const struct field f_trk_exp_create[] = {
	{ "name", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "artifact_location", FT_STRING, 0, 0, 4096, 0, 0, NULL },
	{ "tags", FT_JSON, 0, 0, 0, 0, 0, NULL },
};
static const struct field f_trk_exp_search[] = {
	{ "max_results", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "filter", FT_STRING, 0, 0, SEARCH_FILTER_MAX, 0, 0, NULL },
	{ "order_by", FT_LIST, 0, 0, 1000, 0, 0, NULL },
	{ "page_token", FT_STRING, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
	{ "view_type", FT_STRING, 0, 0, 40, 0, 0, NULL },
};
static const struct field f_trk_exp_list[] = {
	{ "view_type", FT_STRING, 0, 0, 40, 0, 0, NULL },
	{ "max_results", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "page_token", FT_STRING, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
};
static const struct field f_trk_exp_id[] = {
	{ "experiment_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
};
static const struct field f_trk_exp_name[] = {
	{ "experiment_name", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_exp_update[] = {
	{ "experiment_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "new_name", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_exp_tag[] = {
	{ "experiment_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "value", FT_STRING, 0, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_exp_tag_delete[] = {
	{ "experiment_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_run_create[] = {
	{ "experiment_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "user_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_name", FT_STRING, 0, 0, TRK_TEXT, 0, 0, NULL },
	{ "start_time", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "tags", FT_JSON, 0, 0, 0, 0, 0, NULL },
};
static const struct field f_trk_run_update[] = {
	{ "run_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_uuid", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "status", FT_STRING, 0, 0, 40, 0, 0, NULL },
	{ "end_time", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "run_name", FT_STRING, 0, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_run_id[] = {
	{ "run_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
};
static const struct field f_trk_run_get[] = {
	{ "run_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_uuid", FT_STRING, 0, 0, 1000, 0, 0, NULL },
};
static const struct field f_trk_run_search[] = {
	{ "experiment_ids", FT_LIST, 0, 0, 1000, 0, 0, NULL },
	{ "filter", FT_STRING, 0, 0, SEARCH_FILTER_MAX, 0, 0, NULL },
	{ "run_view_type", FT_STRING, 0, 0, 40, 0, 0, NULL },
	{ "max_results", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "order_by", FT_LIST, 0, 0, 1000, 0, 0, NULL },
	{ "page_token", FT_STRING, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
};
static const struct field f_trk_log_metric[] = {
	{ "run_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_uuid", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "value", FT_JSON, 1, 0, 0, 0, 0, NULL },
	{ "timestamp", FT_INT, 1, 0, 0, 0, 0, NULL },
	{ "step", FT_INT, 0, 0, 0, 0, 0, NULL },
};
static const struct field f_trk_kv[] = {
	{ "run_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_uuid", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "value", FT_STRING, 0, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_tag_delete[] = {
	{ "run_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_trk_log_batch[] = {
	{ "run_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "metrics", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "params", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "tags", FT_JSON, 0, 0, 0, 0, 0, NULL },
};
static const struct field f_trk_log_inputs[] = {
	{ "run_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "datasets", FT_JSON, 0, 0, 0, 0, 0, NULL },
};
static const struct field f_trk_history[] = {
	{ "run_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_uuid", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "metric_key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "max_results", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "page_token", FT_STRING, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
};
static const struct field f_trk_bulk[] = {
	{ "run_ids", FT_LIST, 0, 0, 1000, 0, 0, NULL },
	{ "metric_key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "start_step", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "end_step", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "max_results", FT_INT, 0, 0, 0, 0, 0, NULL },
};
/*
 * Experiment browsing (HTML). The runs view keeps its whole state in the
 * query string, so a view can be shared; page-experiments.c reads these by
 * position. cols, prev and runs are lists: repeated, or comma-separated.
 */
static const char *const exp_views[] = { "active", "deleted", "all", NULL };
static const struct field f_experiments[] = {
	{ "q", FT_STRING, 0, 0, 500, 0, 0, NULL },
	{ "view", FT_ENUM, 0, 0, 0, 0, 0, exp_views },
};
static const struct field f_experiment_new[] = {
	{ "name", FT_STRING, 1, 1, 2000, 0, 0, NULL },
};
static const struct field f_runs_view[] = {
	{ "filter", FT_STRING, 0, 0, SEARCH_FILTER_MAX, 0, 0, NULL },
	{ "order", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "cols", FT_LIST, 0, 0, 16000, 0, 0, NULL },
	{ "view", FT_ENUM, 0, 0, 0, 0, 0, exp_views },
	{ "page_token", FT_STRING, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
	{ "prev", FT_LIST, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
	{ "n", FT_INT, 0, 1, 1000, 0, 0, NULL },
};
static const char *const metric_x[] = { "step", "time", "relative", NULL };
static const struct field f_metric_page[] = {
	{ "key", FT_STRING, 0, 1, 1000, 0, 0, NULL },
	{ "x", FT_ENUM, 0, 0, 0, 0, 0, metric_x },
	{ "smooth", FT_NUMBER, 0, 0, 0, 0, 0.99, NULL },
	{ "log", FT_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "runs", FT_LIST, 0, 0, 4000, 0, 0, NULL },
};
static const struct field f_metric_csv[] = {
	{ "key", FT_STRING, 1, 1, 1000, 0, 0, NULL },
};
static const struct field f_compare[] = {
	{ "runs", FT_LIST, 1, 1, 8000, 0, 0, NULL },
	{ "metric", FT_STRING, 0, 1, 1000, 0, 0, NULL },
	{ "param", FT_STRING, 0, 1, 1000, 0, 0, NULL },
	{ "diff", FT_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "axes", FT_LIST, 0, 0, 8000, 0, 0, NULL },
};
/* artifacts: the listed directory; runs' artifacts/list */
static const struct field f_art_list[] = {
	{ "path", FT_STRING, 0, 0, 8192, 0, 0, NULL },
};
/* the run page: the artifact directory shown */
static const struct field f_run_page[] = {
	{ "path", FT_STRING, 0, 0, ARTIFACT_PATH_MAX, 0, 0, NULL },
};
static const struct field f_art_run_list[] = {
	{ "run_id", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "run_uuid", FT_STRING, 0, 0, 1000, 0, 0, NULL },
	{ "path", FT_STRING, 0, 0, 8192, 0, 0, NULL },
	{ "page_token", FT_STRING, 0, 0, 1000, 0, 0, NULL },
};

/*
 * MLflow registry API. Names are capped here and checked by the registry
 * (verdict's name rule); tag limits are MLflow's, checked in registry.c.
 * Order matters: api-registry.c reads r->in by position.
 */
#define REG_VERSION { "version", FT_INT, 1, 1, 1000000000, 0, 0, NULL }
static const struct field f_reg_create[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "tags", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "description", FT_STRING, 0, 0, 65536, 0, 0, NULL },
};
static const struct field f_reg_rename[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "new_name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
};
static const struct field f_reg_update[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "description", FT_STRING, 0, 0, 65536, 0, 0, NULL },
};
static const struct field f_reg_name[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
};
static const struct field f_reg_search[] = {
	{ "filter", FT_STRING, 0, 0, SEARCH_FILTER_MAX, 0, 0, NULL },
	{ "max_results", FT_INT, 0, 0, 0, 0, 0, NULL },
	{ "order_by", FT_LIST, 0, 0, 1000, 0, 0, NULL },
	{ "page_token", FT_STRING, 0, 0, SEARCH_TOKEN_MAX, 0, 0, NULL },
};
static const struct field f_reg_latest[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "stages", FT_LIST, 0, 0, 40, 0, 0, NULL },
};
static const struct field f_reg_tag[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "value", FT_STRING, 0, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_reg_tag_delete[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_reg_alias_set[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "alias", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	REG_VERSION,
};
static const struct field f_reg_alias[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "alias", FT_STRING, 1, 0, 1000, 0, 0, NULL },
};
static const struct field f_mv_create[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "source", FT_STRING, 1, 0, 4096, 0, 0, NULL },
	{ "run_id", FT_STRING, 0, 0, 64, 0, 0, NULL },
	{ "tags", FT_JSON, 0, 0, 0, 0, 0, NULL },
	{ "description", FT_STRING, 0, 0, 65536, 0, 0, NULL },
	{ "run_link", FT_STRING, 0, 0, 4096, 0, 0, NULL },
};
static const struct field f_mv_update[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	REG_VERSION,
	{ "description", FT_STRING, 0, 0, 65536, 0, 0, NULL },
};
static const struct field f_mv_transition[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	REG_VERSION,
	{ "stage", FT_STRING, 1, 0, 40, 0, 0, NULL },
	{ "archive_existing_versions", FT_BOOL, 0, 0, 0, 0, 0, NULL },
};
static const struct field f_mv_id[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	REG_VERSION,
};
static const struct field f_mv_tag[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	REG_VERSION,
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
	{ "value", FT_STRING, 0, 0, TRK_TEXT, 0, 0, NULL },
};
static const struct field f_mv_tag_delete[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	REG_VERSION,
	{ "key", FT_STRING, 1, 0, TRK_TEXT, 0, 0, NULL },
};

#define MLF_GET (R_DB | R_MLFLOW)
#define MLF_POST (R_DB | R_BODY_JSON | R_MLFLOW)

/* MLflow's auth endpoints: permissions per experiment / registered model, and users */
static const struct field f_perm_exp[] = {
	{ "experiment_id", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "username", FT_STRING, 1, 0, 256, 0, 0, NULL },
	{ "permission", FT_STRING, 0, 0, 40, 0, 0, NULL },
};
static const struct field f_perm_model[] = {
	{ "name", FT_STRING, 1, 0, 1000, 0, 0, NULL },
	{ "username", FT_STRING, 1, 0, 256, 0, 0, NULL },
	{ "permission", FT_STRING, 0, 0, 40, 0, 0, NULL },
};
static const struct field f_mlf_user[] = {
	{ "username", FT_STRING, 1, 0, 256, 0, 0, NULL },
	{ "password", FT_STRING, 0, 0, PASSWORD_MAX, 0, 0, NULL },
	{ "is_admin", FT_BOOL, 0, 0, 0, 0, 0, NULL },
};

/*
 * feedback: HTML. Browsers send empty inputs and selects as "", so the
 * page filters are strings that may be empty ("any"); page-feedback.c
 * reads a non-empty version strictly (a 400 naming it).
 */
static const char *const verified_choices[] = { "", "any", "yes", "no", NULL };
static const struct field f_model_page[] = {
	{ "window", FT_ENUM, 0, 0, 0, 0, 0, quality_windows },
};
static const struct field f_verify_page[] = {
	{ "model", FT_STRING, 0, 0, 255, 0, 0, NULL },
	{ "version", FT_STRING, 0, 0, 9, 0, 0, NULL },
	{ "skip", FT_INT, 0, 1, 9000000000000000000LL, 0, 0, NULL },
};
static const struct field f_verify_form[] = {
	{ "prediction_id", FT_INT, 1, 1, 9000000000000000000LL, 0, 0, NULL },
	{ "true_value", FT_STRING, 1, 1, 1000, 0, 0, NULL },
	{ "model", FT_STRING, 1, 1, 255, 0, 0, NULL },
	{ "version", FT_STRING, 0, 0, 9, 0, 0, NULL },
};
static const struct field f_truth_form[] = {
	{ "true_value", FT_STRING, 1, 1, 1000, 0, 0, NULL },
};
static const struct field f_predictions_page[] = {
	{ "model", FT_STRING, 0, 0, 255, 0, 0, NULL },
	{ "version", FT_STRING, 0, 0, 9, 0, 0, NULL },
	{ "verified", FT_ENUM, 0, 0, 0, 0, 0, verified_choices },
	{ "from", FT_STRING, 0, 0, 64, 0, 0, NULL },
	{ "to", FT_STRING, 0, 0, 64, 0, 0, NULL },
	{ "after", FT_INT, 0, 1, 9000000000000000000LL, 0, 0, NULL },
};
static const struct field f_feedback_upload[] = {
	{ "csv", FT_FILE, 1, 0, 16 << 20, 0, 0, NULL },
	{ "atomic", FT_BOOL, 0, 0, 0, 0, 0, NULL },
};

/* /readyz has no R_DB: it checks the database itself and says why it is not ready. */
const struct route routes[] = {
	/* method   pattern                          handler                      auth         kind     flags              fields */
	{ "GET",    "/",                             page_home,                   AUTH_PUBLIC, RK_HTML, 0,                 NOF },
	{ "GET",    "/healthz",                      api_healthz,                 AUTH_PUBLIC, RK_JSON, 0,                 NOF },
	{ "GET",    "/readyz",                       api_readyz,                  AUTH_PUBLIC, RK_JSON, 0,                 NOF },
	{ "GET",    "/api/version",                  api_version,                 AUTH_PUBLIC, RK_JSON, 0,                 NOF },
	/* Prometheus: metrics_allow addresses or the metrics_token bearer, checked by the handler */
	{ "GET",    "/metrics",                      api_metrics,                 AUTH_PUBLIC, RK_JSON, R_DB | R_SELF_AUTH, NOF },

	/* accounts: HTML */
	{ "GET",    "/signup",                       page_signup,                 AUTH_PUBLIC, RK_HTML, R_DB,              NOF },
	{ "POST",   "/signup",                       page_signup_post,            AUTH_PUBLIC, RK_HTML, R_DB | FORM,       F(f_signup_form) },
	{ "GET",    "/login",                        page_login,                  AUTH_PUBLIC, RK_HTML, R_DB,              F(f_login_page) },
	{ "POST",   "/login",                        page_login_post,             AUTH_PUBLIC, RK_HTML, R_DB | FORM,       F(f_login_form) },
	{ "POST",   "/logout",                       page_logout,                 AUTH_USER,   RK_HTML, R_DB | FORM,       NOF },
	{ "GET",    "/account",                      page_account,                AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "POST",   "/account/password",             page_account_password,       AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_password_change) },
	{ "POST",   "/account/sessions/{id}/revoke", page_account_session_revoke, AUTH_USER,   RK_HTML, R_DB | FORM,       NOF },
	{ "POST",   "/account/tokens",               page_account_token_create,   AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_token_form) },
	{ "POST",   "/account/tokens/{id}/revoke",   page_account_token_revoke,   AUTH_USER,   RK_HTML, R_DB | FORM,       NOF },
	{ "GET",    "/admin/users",                  page_admin_users,            AUTH_ADMIN,  RK_HTML, R_DB,              F(f_admin_list) },
	{ "POST",   "/admin/users/{id}",             page_admin_user_action,      AUTH_ADMIN,  RK_HTML, R_DB | FORM,       F(f_admin_action) },

	/* model registry: HTML */
	{ "GET",    "/models",                       page_models,                 AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "POST",   "/models",                       page_models_create,          AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_model_new) },
	{ "GET",    "/models/{name}",                page_model,                  AUTH_USER,   RK_HTML, R_DB,              F(f_model_page) },
	{ "POST",   "/models/{name}/versions",       page_version_upload,         AUTH_USER,   RK_HTML, R_DB | R_BODY_MULTI, F(f_version_new) },
	{ "GET",    "/models/{name}/versions/{version}", page_model_version,      AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "GET",    "/models/{name}/versions/{version}/booster", page_model_booster, AUTH_USER, RK_HTML, R_DB,             NOF },
	{ "POST",   "/models/{name}/versions/{version}/stage", page_version_stage, AUTH_USER,  RK_HTML, R_DB | FORM,       F(f_stage) },
	{ "POST",   "/models/{name}/aliases",        page_alias_set,              AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_alias_form) },
	{ "POST",   "/models/{name}/aliases/{alias}/delete", page_alias_delete,   AUTH_USER,   RK_HTML, R_DB | FORM,       NOF },
	{ "GET",    "/models/{name}/drift",          page_drift,                  AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "POST",   "/models/{name}/drift",          page_drift_run,              AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_drift_run) },
	{ "POST",   "/models/{name}/drift/reference", page_drift_reference,       AUTH_USER,   RK_HTML, R_DB | R_BODY_MULTI, F(f_drift_reference_form) },
	{ "GET",    "/predict",                      page_predict_pick,           AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "GET",    "/models/{name}/predict",        page_model_predict,          AUTH_USER,   RK_HTML, R_DB,              F(f_predict_page) },
	/* no declared fields: the version's spec validates every raw field */
	{ "POST",   "/models/{name}/predict",        page_model_predict_post,     AUTH_USER,   RK_HTML, R_DB | FORM | R_LAX_FIELDS, NOF },

	/* feedback: HTML */
	{ "GET",    "/verify",                       page_verify,                 AUTH_USER,   RK_HTML, R_DB,              F(f_verify_page) },
	{ "POST",   "/verify",                       page_verify_post,            AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_verify_form) },
	{ "GET",    "/predictions",                  page_predictions,            AUTH_USER,   RK_HTML, R_DB,              F(f_predictions_page) },
	{ "GET",    "/predictions/{id}",             page_prediction,             AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "POST",   "/predictions/{id}/feedback",    page_prediction_feedback_post, AUTH_USER, RK_HTML, R_DB | FORM,       F(f_truth_form) },
	{ "GET",    "/feedback/upload",              page_feedback_upload,        AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "POST",   "/feedback/upload",              page_feedback_upload_post,   AUTH_USER,   RK_HTML, R_DB | R_BODY_MULTI, F(f_feedback_upload) },

	/* experiment tracking: HTML */
	{ "GET",    "/experiments",                  page_experiments,            AUTH_USER,   RK_HTML, R_DB,              F(f_experiments) },
	{ "POST",   "/experiments",                  page_experiments_create,     AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_experiment_new) },
	{ "GET",    "/experiments/{id}",             page_experiment,             AUTH_USER,   RK_HTML, R_DB,              F(f_runs_view) },
	{ "GET",    "/experiments/{id}/runs.csv",    page_experiment_csv,         AUTH_USER,   RK_HTML, R_DB,              F(f_runs_view) },
	{ "POST",   "/experiments/{id}/delete",      page_experiment_delete,      AUTH_USER,   RK_HTML, R_DB | FORM,       NOF },
	{ "POST",   "/experiments/{id}/restore",     page_experiment_restore,     AUTH_USER,   RK_HTML, R_DB | FORM,       NOF },
	{ "GET",    "/runs/{id}",                    page_run,                    AUTH_USER,   RK_HTML, R_DB,              F(f_run_page) },
	/* a run's artifacts: the bytes as a download, a text preview (paths checked from the raw URI) */
	{ "GET",    "/runs/{id}/artifacts/{path...}", page_run_artifact,          AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "GET",    "/runs/{id}/preview/{path...}",  page_run_preview,            AUTH_USER,   RK_HTML, R_DB,              NOF },
	{ "POST",   "/runs/{id}/register",           page_run_register,           AUTH_USER,   RK_HTML, R_DB | FORM,       F(f_run_register) },
	/* keys holding a '/' cannot be one path segment: /runs/{id}/metric?key=a/b */
	{ "GET",    "/runs/{id}/metrics/{key}",      page_metric,                 AUTH_USER,   RK_HTML, R_DB,              F(f_metric_page) },
	{ "GET",    "/runs/{id}/metric",             page_metric,                 AUTH_USER,   RK_HTML, R_DB,              F(f_metric_page) },
	{ "GET",    "/runs/{id}/metric.csv",         page_metric_csv,             AUTH_USER,   RK_HTML, R_DB,              F(f_metric_csv) },
	{ "GET",    "/compare",                      page_compare,                AUTH_USER,   RK_HTML, R_DB,              F(f_compare) },

	/* accounts: JSON */
	{ "POST",   "/api/signup",                   api_signup,                  AUTH_PUBLIC, RK_JSON, R_DB | JSON_OR_FORM, F(f_credentials) },
	{ "POST",   "/api/token",                    api_token,                   AUTH_PUBLIC, RK_JSON, R_DB | FORM,       F(f_oauth2) },
	{ "GET",    "/api/me",                       api_me,                      AUTH_USER,   RK_JSON, 0,                 NOF },
	{ "GET",    "/api/tokens",                   api_tokens_list,             AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/tokens",                   api_tokens_create,           AUTH_USER,   RK_JSON, R_DB | JSON_OR_FORM, F(f_token_new) },
	{ "DELETE", "/api/tokens/{id}",              api_tokens_revoke,           AUTH_USER,   RK_JSON, R_DB,              NOF },

	/* model registry and serving: JSON */
	{ "GET",    "/api/models",                   api_models_list,             AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/models",                   api_models_create,           AUTH_USER,   RK_JSON, R_DB | JSON_OR_FORM, F(f_model_new) },
	{ "GET",    "/api/models/{name}",            api_models_get,              AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/models/{name}/versions",   api_versions_create,         AUTH_USER,   RK_JSON, R_DB | R_BODY_MULTI | JSON_OR_FORM, F(f_version_api) },
	{ "GET",    "/api/models/{name}/versions/{version}", api_version_get,     AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/models/{name}/versions/{version}/stage", api_version_stage, AUTH_USER, RK_JSON, R_DB | JSON_OR_FORM, F(f_stage) },
	{ "PUT",    "/api/models/{name}/aliases/{alias}", api_alias_set,          AUTH_USER,   RK_JSON, R_DB | JSON_OR_FORM, F(f_alias) },
	{ "DELETE", "/api/models/{name}/aliases/{alias}", api_alias_delete,       AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/models/{name}/retrain-lock", api_retrain_lock,          AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "DELETE", "/api/models/{name}/retrain-lock/{lease}", api_retrain_unlock, AUTH_USER,  RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/models/{name}/retrain-result", api_retrain_result,      AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, F(f_retrain_result) },
	{ "POST",   "/api/models/{name}/predict",    api_predict,                 AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, F(f_predict) },
	/* FastAPI-style: a flat object of raw fields for default_model; the spec checks every field */
	{ "POST",   "/predict",                      api_predict_flat,            AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON | R_LAX_FIELDS, NOF },

	/* feedback and the prediction log: JSON */
	{ "POST",   "/api/predictions/{id}/feedback", api_prediction_feedback,    AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, F(f_feedback) },
	/* bulk bodies are a list or CSV: no declared fields; feedback.c reads each row */
	{ "POST",   "/api/feedback",                 api_feedback_bulk,           AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, NOF },
	{ "POST",   "/api/feedback.csv",             api_feedback_csv,            AUTH_USER,   RK_JSON, R_DB | R_BODY_CSV, NOF },
	{ "GET",    "/api/feedback/next",            api_feedback_next,           AUTH_USER,   RK_JSON, R_DB,              F(f_feedback_next) },
	{ "GET",    "/api/predictions",              api_predictions_list,        AUTH_USER,   RK_JSON, R_DB,              F(f_predictions) },
	{ "GET",    "/api/predictions/{id}",         api_prediction_get,          AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "GET",    "/api/models/{name}/quality",    api_model_quality,           AUTH_USER,   RK_JSON, R_DB,              F(f_quality) },
	{ "GET",    "/verify_random_prediction",     api_verify_random_get,       AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "POST",   "/verify_random_prediction",     api_verify_random_post,      AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, F(f_verify_random) },

	/* alerts: webhooks (admins) */
	{ "GET",    "/api/webhooks",                 api_webhooks_list,           AUTH_ADMIN,  RK_JSON, R_DB,              NOF },
	{ "POST",   "/api/webhooks",                 api_webhooks_create,         AUTH_ADMIN,  RK_JSON, R_DB | R_BODY_JSON, F(f_webhook) },
	{ "DELETE", "/api/webhooks/{id}",            api_webhooks_delete,         AUTH_ADMIN,  RK_JSON, R_DB,              NOF },
	{ "GET",    "/api/webhooks/{id}/deliveries", api_webhook_deliveries,      AUTH_ADMIN,  RK_JSON, R_DB,              NOF },

	/* data drift: references are bulk bodies (a JSON list or CSV); drift.c reads each row */
	{ "POST",   "/api/models/{name}/versions/{version}/reference", api_drift_reference, AUTH_USER, RK_JSON, R_DB | R_BODY_JSON | R_BODY_CSV | R_BODY_BULK, NOF },
	{ "POST",   "/api/models/{name}/drift",      api_drift_run,               AUTH_USER,   RK_JSON, R_DB | JSON_OR_FORM, F(f_drift_run) },
	{ "GET",    "/api/models/{name}/drift",      api_drift_get,               AUTH_USER,   RK_JSON, R_DB,              NOF },

	/* MLflow scoring protocol */
	{ "POST",   "/invocations",                  api_invocations,             AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON | R_BODY_CSV | R_LAX_FIELDS, NOF },
	{ "GET",    "/ping",                         api_ping,                    AUTH_PUBLIC, RK_JSON, 0,                 NOF },
	{ "GET",    "/health",                       api_ping,                    AUTH_PUBLIC, RK_JSON, 0,                 NOF },

	/* Open Inference Protocol v2 */
	{ "GET",    "/v2/health/live",               api_v2_live,                 AUTH_PUBLIC, RK_JSON, 0,                 NOF },
	{ "GET",    "/v2/health/ready",              api_v2_ready,                AUTH_PUBLIC, RK_JSON, R_DB,              NOF },
	{ "GET",    "/v2/models/{name}",             api_v2_model,                AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "GET",    "/v2/models/{name}/ready",       api_v2_model_ready,          AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "GET",    "/v2/models/{name}/versions/{version}", api_v2_model,         AUTH_USER,   RK_JSON, R_DB,              NOF },
	{ "GET",    "/v2/models/{name}/versions/{version}/ready", api_v2_model_ready, AUTH_USER, RK_JSON, R_DB,            NOF },
	{ "POST",   "/v2/models/{name}/infer",       api_v2_infer,                AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, F(f_v2_infer) },
	{ "POST",   "/v2/models/{name}/versions/{version}/infer", api_v2_infer,   AUTH_USER,   RK_JSON, R_DB | R_BODY_JSON, F(f_v2_infer) },

	/* MLflow tracking API; /ajax-api/2.0/... reaches the same lines (http_prepare) */
	/* MLflow auth: permissions and users (perm.c, api-permissions.c) */
	{ "POST",   "/api/2.0/mlflow/experiments/permissions/create", api_experiment_permission, AUTH_USER, RK_JSON, MLF_POST, F(f_perm_exp) },
	{ "GET",    "/api/2.0/mlflow/experiments/permissions/get", api_experiment_permission, AUTH_USER, RK_JSON, MLF_GET, F(f_perm_exp) },
	{ "PATCH",  "/api/2.0/mlflow/experiments/permissions/update", api_experiment_permission, AUTH_USER, RK_JSON, MLF_POST, F(f_perm_exp) },
	{ "DELETE", "/api/2.0/mlflow/experiments/permissions/delete", api_experiment_permission, AUTH_USER, RK_JSON, MLF_POST, F(f_perm_exp) },
	{ "POST",   "/api/2.0/mlflow/registered-models/permissions/create", api_model_permission, AUTH_USER, RK_JSON, MLF_POST, F(f_perm_model) },
	{ "GET",    "/api/2.0/mlflow/registered-models/permissions/get", api_model_permission, AUTH_USER, RK_JSON, MLF_GET, F(f_perm_model) },
	{ "PATCH",  "/api/2.0/mlflow/registered-models/permissions/update", api_model_permission, AUTH_USER, RK_JSON, MLF_POST, F(f_perm_model) },
	{ "DELETE", "/api/2.0/mlflow/registered-models/permissions/delete", api_model_permission, AUTH_USER, RK_JSON, MLF_POST, F(f_perm_model) },
	{ "POST",   "/api/2.0/mlflow/users/create",  api_mlflow_user,             AUTH_USER,   RK_JSON, MLF_POST,          F(f_mlf_user) },
	{ "GET",    "/api/2.0/mlflow/users/get",     api_mlflow_user,             AUTH_USER,   RK_JSON, MLF_GET,           F(f_mlf_user) },
	{ "PATCH",  "/api/2.0/mlflow/users/update-password", api_mlflow_user,     AUTH_USER,   RK_JSON, MLF_POST,          F(f_mlf_user) },
	{ "PATCH",  "/api/2.0/mlflow/users/update-admin", api_mlflow_user,        AUTH_USER,   RK_JSON, MLF_POST,          F(f_mlf_user) },
	{ "DELETE", "/api/2.0/mlflow/users/delete",  api_mlflow_user,             AUTH_USER,   RK_JSON, MLF_POST,          F(f_mlf_user) },
	{ "POST",   "/api/2.0/mlflow/experiments/create",      api_mlflow_experiment_create,      AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_create) },
	{ "GET",    "/api/2.0/mlflow/experiments/search",      api_mlflow_experiment_search,      AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_exp_search) },
	{ "POST",   "/api/2.0/mlflow/experiments/search",      api_mlflow_experiment_search,      AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_search) },
	{ "GET",    "/api/2.0/mlflow/experiments/list",        api_mlflow_experiment_list,        AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_exp_list) },
	{ "GET",    "/api/2.0/preview/mlflow/experiments/list", api_mlflow_experiment_list,       AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_exp_list) },
	{ "GET",    "/api/2.0/mlflow/experiments/get",         api_mlflow_experiment_get,         AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_exp_id) },
	{ "GET",    "/api/2.0/mlflow/experiments/get-by-name", api_mlflow_experiment_get_by_name, AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_exp_name) },
	{ "POST",   "/api/2.0/mlflow/experiments/update",      api_mlflow_experiment_update,      AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_update) },
	{ "POST",   "/api/2.0/mlflow/experiments/delete",      api_mlflow_experiment_delete,      AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_id) },
	{ "POST",   "/api/2.0/mlflow/experiments/restore",     api_mlflow_experiment_restore,     AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_id) },
	{ "POST",   "/api/2.0/mlflow/experiments/set-experiment-tag", api_mlflow_experiment_set_tag, AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_tag) },
	{ "POST",   "/api/2.0/mlflow/experiments/delete-experiment-tag", api_mlflow_experiment_delete_tag, AUTH_USER, RK_JSON, MLF_POST, F(f_trk_exp_tag_delete) },
	{ "POST",   "/api/2.0/mlflow/runs/create",             api_mlflow_run_create,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_run_create) },
	{ "POST",   "/api/2.0/mlflow/runs/update",             api_mlflow_run_update,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_run_update) },
	{ "POST",   "/api/2.0/mlflow/runs/delete",             api_mlflow_run_delete,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_run_id) },
	{ "POST",   "/api/2.0/mlflow/runs/restore",            api_mlflow_run_restore,            AUTH_USER, RK_JSON, MLF_POST, F(f_trk_run_id) },
	{ "GET",    "/api/2.0/mlflow/runs/get",                api_mlflow_run_get,                AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_run_get) },
	{ "POST",   "/api/2.0/mlflow/runs/search",             api_mlflow_run_search,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_run_search) },
	{ "POST",   "/api/2.0/mlflow/runs/log-metric",         api_mlflow_log_metric,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_log_metric) },
	{ "POST",   "/api/2.0/mlflow/runs/log-parameter",      api_mlflow_log_param,              AUTH_USER, RK_JSON, MLF_POST, F(f_trk_kv) },
	{ "POST",   "/api/2.0/mlflow/runs/set-tag",            api_mlflow_set_tag,                AUTH_USER, RK_JSON, MLF_POST, F(f_trk_kv) },
	{ "POST",   "/api/2.0/mlflow/runs/delete-tag",         api_mlflow_delete_tag,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_tag_delete) },
	{ "POST",   "/api/2.0/mlflow/runs/log-batch",          api_mlflow_log_batch,              AUTH_USER, RK_JSON, MLF_POST, F(f_trk_log_batch) },
	{ "POST",   "/api/2.0/mlflow/runs/log-inputs",         api_mlflow_log_inputs,             AUTH_USER, RK_JSON, MLF_POST, F(f_trk_log_inputs) },
	{ "GET",    "/api/2.0/mlflow/metrics/get-history",     api_mlflow_metric_history,         AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_history) },
	{ "GET",    "/api/2.0/mlflow/metrics/get-history-bulk-interval", api_mlflow_metric_bulk,  AUTH_USER, RK_JSON, MLF_GET,  F(f_trk_bulk) },

	/* MLflow artifacts: the body of a PUT streams into the store (R_BODY_STREAM, any type) */
	{ "PUT",    "/api/2.0/mlflow-artifacts/artifacts/{path...}", api_artifact_put,       AUTH_USER, RK_JSON, R_DB | R_BODY_STREAM, NOF },
	{ "GET",    "/api/2.0/mlflow-artifacts/artifacts/{path...}", api_artifact_get,       AUTH_USER, RK_JSON, R_DB,     NOF },
	{ "DELETE", "/api/2.0/mlflow-artifacts/artifacts/{path...}", api_artifact_delete,    AUTH_USER, RK_JSON, R_DB,     NOF },
	{ "GET",    "/api/2.0/mlflow-artifacts/artifacts",     api_artifact_list,                 AUTH_USER, RK_JSON, MLF_GET,  F(f_art_list) },
	{ "GET",    "/api/2.0/mlflow/artifacts/list",          api_mlflow_artifacts_list,         AUTH_USER, RK_JSON, MLF_GET,  F(f_art_run_list) },

	/* MLflow model registry over verdict's registry; DELETE takes a JSON body or the query */
	{ "POST",   "/api/2.0/mlflow/registered-models/create", api_mlflow_model_create,          AUTH_USER, RK_JSON, MLF_POST, F(f_reg_create) },
	{ "POST",   "/api/2.0/mlflow/registered-models/rename", api_mlflow_model_rename,          AUTH_USER, RK_JSON, MLF_POST, F(f_reg_rename) },
	{ "PATCH",  "/api/2.0/mlflow/registered-models/update", api_mlflow_model_update,          AUTH_USER, RK_JSON, MLF_POST, F(f_reg_update) },
	{ "DELETE", "/api/2.0/mlflow/registered-models/delete", api_mlflow_model_delete,          AUTH_USER, RK_JSON, MLF_POST, F(f_reg_name) },
	{ "GET",    "/api/2.0/mlflow/registered-models/get",   api_mlflow_model_get,              AUTH_USER, RK_JSON, MLF_GET,  F(f_reg_name) },
	{ "GET",    "/api/2.0/mlflow/registered-models/search", api_mlflow_model_search,          AUTH_USER, RK_JSON, MLF_GET,  F(f_reg_search) },
	{ "POST",   "/api/2.0/mlflow/registered-models/get-latest-versions", api_mlflow_model_latest, AUTH_USER, RK_JSON, MLF_POST, F(f_reg_latest) },
	{ "GET",    "/api/2.0/mlflow/registered-models/get-latest-versions", api_mlflow_model_latest, AUTH_USER, RK_JSON, MLF_GET, F(f_reg_latest) },
	{ "POST",   "/api/2.0/mlflow/registered-models/set-tag", api_mlflow_model_set_tag,        AUTH_USER, RK_JSON, MLF_POST, F(f_reg_tag) },
	{ "DELETE", "/api/2.0/mlflow/registered-models/delete-tag", api_mlflow_model_delete_tag,  AUTH_USER, RK_JSON, MLF_POST, F(f_reg_tag_delete) },
	{ "POST",   "/api/2.0/mlflow/registered-models/alias", api_mlflow_alias_set,              AUTH_USER, RK_JSON, MLF_POST, F(f_reg_alias_set) },
	{ "DELETE", "/api/2.0/mlflow/registered-models/alias", api_mlflow_alias_delete,           AUTH_USER, RK_JSON, MLF_POST, F(f_reg_alias) },
	{ "GET",    "/api/2.0/mlflow/registered-models/alias", api_mlflow_alias_get,              AUTH_USER, RK_JSON, MLF_GET,  F(f_reg_alias) },
	{ "POST",   "/api/2.0/mlflow/model-versions/create",   api_mlflow_version_create,         AUTH_USER, RK_JSON, MLF_POST, F(f_mv_create) },
	{ "PATCH",  "/api/2.0/mlflow/model-versions/update",   api_mlflow_version_update,         AUTH_USER, RK_JSON, MLF_POST, F(f_mv_update) },
	{ "POST",   "/api/2.0/mlflow/model-versions/transition-stage", api_mlflow_version_transition, AUTH_USER, RK_JSON, MLF_POST, F(f_mv_transition) },
	{ "DELETE", "/api/2.0/mlflow/model-versions/delete",   api_mlflow_version_delete,         AUTH_USER, RK_JSON, MLF_POST, F(f_mv_id) },
	{ "GET",    "/api/2.0/mlflow/model-versions/get",      api_mlflow_version_get,            AUTH_USER, RK_JSON, MLF_GET,  F(f_mv_id) },
	{ "GET",    "/api/2.0/mlflow/model-versions/search",   api_mlflow_version_search,         AUTH_USER, RK_JSON, MLF_GET,  F(f_reg_search) },
	{ "GET",    "/api/2.0/mlflow/model-versions/get-download-uri", api_mlflow_version_download_uri, AUTH_USER, RK_JSON, MLF_GET, F(f_mv_id) },
	{ "POST",   "/api/2.0/mlflow/model-versions/set-tag",  api_mlflow_version_set_tag,        AUTH_USER, RK_JSON, MLF_POST, F(f_mv_tag) },
	{ "DELETE", "/api/2.0/mlflow/model-versions/delete-tag", api_mlflow_version_delete_tag,   AUTH_USER, RK_JSON, MLF_POST, F(f_mv_tag_delete) },
};

const size_t nroutes = ARRAY_LEN(routes);
