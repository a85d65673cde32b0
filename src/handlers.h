/* handlers.h: every page and API handler, one group per page-<area>.c / api-<area>.c file. */
#ifndef VERDICT_HANDLERS_H
#define VERDICT_HANDLERS_H

#include "http.h"

/* api-health.c */
int api_healthz(struct req *r);
int api_readyz(struct req *r);
int api_version(struct req *r);

/* page-home.c */
int page_home(struct req *r);

/* api-account.c */
int api_signup(struct req *r);
int api_token(struct req *r);
int api_me(struct req *r);
int api_tokens_list(struct req *r);
int api_tokens_create(struct req *r);
int api_tokens_revoke(struct req *r);
/* Shared with page-account.c. */
int api_auth_error(struct req *r, enum auth_status st, const char *msg, int retry);
json_t *account_tokens(struct req *r);
enum auth_status account_revoke_token(struct req *r, const char *id);

/* page-account.c */
int page_signup(struct req *r);
int page_signup_post(struct req *r);
int page_login(struct req *r);
int page_login_post(struct req *r);
int page_logout(struct req *r);
int page_account(struct req *r);
int page_account_password(struct req *r);
int page_account_session_revoke(struct req *r);
int page_account_token_create(struct req *r);
int page_account_token_revoke(struct req *r);

/* api-retrain.c */
int api_retrain_lock(struct req *r);
int api_retrain_unlock(struct req *r);
int api_retrain_result(struct req *r);

/* api-models.c */
int api_models_create(struct req *r);
int api_models_list(struct req *r);
int api_models_get(struct req *r);
int api_version_get(struct req *r);
int api_versions_create(struct req *r);
int api_version_stage(struct req *r);
int api_alias_set(struct req *r);
int api_alias_delete(struct req *r);
int api_predict(struct req *r);
int api_predict_flat(struct req *r);

/* api-serving.c */
int api_invocations(struct req *r);
int api_ping(struct req *r);
int api_v2_live(struct req *r);
int api_v2_ready(struct req *r);
int api_v2_model(struct req *r);
int api_v2_model_ready(struct req *r);
int api_v2_infer(struct req *r);

/* api-tracking.c: the MLflow tracking API */
int api_mlflow_experiment_create(struct req *r);
int api_mlflow_experiment_search(struct req *r);
int api_mlflow_experiment_list(struct req *r);
int api_mlflow_experiment_get(struct req *r);
int api_mlflow_experiment_get_by_name(struct req *r);
int api_mlflow_experiment_update(struct req *r);
int api_mlflow_experiment_delete(struct req *r);
int api_mlflow_experiment_restore(struct req *r);
int api_mlflow_experiment_set_tag(struct req *r);
int api_mlflow_experiment_delete_tag(struct req *r);
int api_mlflow_run_create(struct req *r);
int api_mlflow_run_update(struct req *r);
int api_mlflow_run_delete(struct req *r);
int api_mlflow_run_restore(struct req *r);
int api_mlflow_run_get(struct req *r);
int api_mlflow_run_search(struct req *r);
int api_mlflow_log_metric(struct req *r);
int api_mlflow_log_param(struct req *r);
int api_mlflow_set_tag(struct req *r);
int api_mlflow_delete_tag(struct req *r);
int api_mlflow_log_batch(struct req *r);
int api_mlflow_log_inputs(struct req *r);
int api_mlflow_metric_history(struct req *r);
int api_mlflow_metric_bulk(struct req *r);

/* page-models.c */
int page_models(struct req *r);
int page_models_create(struct req *r);
int page_model(struct req *r);
int page_model_version(struct req *r);
int page_model_booster(struct req *r);
int page_version_upload(struct req *r);
int page_version_stage(struct req *r);
int page_alias_set(struct req *r);
int page_alias_delete(struct req *r);
int page_predict_pick(struct req *r);
int page_model_predict(struct req *r);
int page_model_predict_post(struct req *r);
/* Shared with page-feedback.c: the model list of /models (new reference; NULL on a DB error). */
json_t *page_model_list(struct req *r);

/* page-experiments.c */
int page_experiments(struct req *r);
int page_experiments_create(struct req *r);
int page_experiment(struct req *r);
int page_experiment_csv(struct req *r);
int page_experiment_delete(struct req *r);
int page_experiment_restore(struct req *r);

/* page-runs.c */
int page_run(struct req *r);
int page_run_artifact(struct req *r);
int page_run_preview(struct req *r);
int page_run_register(struct req *r);
int page_metric(struct req *r);
int page_metric_csv(struct req *r);
int page_compare(struct req *r);

/* api-feedback.c */
int api_prediction_feedback(struct req *r);
int api_feedback_bulk(struct req *r);
int api_feedback_csv(struct req *r);
int api_feedback_next(struct req *r);
int api_predictions_list(struct req *r);
int api_prediction_get(struct req *r);
int api_model_quality(struct req *r);
int api_verify_random_get(struct req *r);
int api_verify_random_post(struct req *r);
/* Shared with page-feedback.c: the {id} of /.../predictions/{id}; 0 when malformed. */
long long feedback_path_id(struct req *r);

/* page-feedback.c */
int page_verify(struct req *r);
int page_verify_post(struct req *r);
int page_predictions(struct req *r);
int page_prediction(struct req *r);
int page_prediction_feedback_post(struct req *r);
int page_feedback_upload(struct req *r);
int page_feedback_upload_post(struct req *r);
/*
 * Shared with page-models.c: the "Live quality" block of a model page over
 * window, from quality_get. 0 with *out (new reference); 1 when answered
 * (an error page); -1.
 */
int page_quality(struct req *r, const char *name, const char *window, json_t **out);

/* api-drift.c */
int api_drift_reference(struct req *r);
int api_drift_run(struct req *r);
int api_drift_get(struct req *r);

/* page-drift.c */
int page_drift(struct req *r);
int page_drift_run(struct req *r);
int page_drift_reference(struct req *r);

/* api-artifacts.c */
int api_artifact_put(struct req *r);
int api_artifact_get(struct req *r);
int api_artifact_delete(struct req *r);
int api_artifact_list(struct req *r);
int api_mlflow_artifacts_list(struct req *r);

/* api-registry.c */
int api_mlflow_model_create(struct req *r);
int api_mlflow_model_rename(struct req *r);
int api_mlflow_model_update(struct req *r);
int api_mlflow_model_delete(struct req *r);
int api_mlflow_model_get(struct req *r);
int api_mlflow_model_search(struct req *r);
int api_mlflow_model_latest(struct req *r);
int api_mlflow_model_set_tag(struct req *r);
int api_mlflow_model_delete_tag(struct req *r);
int api_mlflow_alias_set(struct req *r);
int api_mlflow_alias_delete(struct req *r);
int api_mlflow_alias_get(struct req *r);
int api_mlflow_version_create(struct req *r);
int api_mlflow_version_update(struct req *r);
int api_mlflow_version_transition(struct req *r);
int api_mlflow_version_delete(struct req *r);
int api_mlflow_version_get(struct req *r);
int api_mlflow_version_search(struct req *r);
int api_mlflow_version_download_uri(struct req *r);
int api_mlflow_version_set_tag(struct req *r);
int api_mlflow_version_delete_tag(struct req *r);

/* page-admin.c */
int page_admin_users(struct req *r);
int page_admin_user_action(struct req *r);

#endif
