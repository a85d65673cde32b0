/* registry.h: the registry's and serving's domain operations, shared by the JSON API, the HTML pages and the MLflow/OIP endpoints. */
#ifndef VERDICT_REGISTRY_H
#define VERDICT_REGISTRY_H

#include <jansson.h>

#include "http.h"
#include "model.h"

#define PREDICT_MAX_BATCH 1000     /* rows per prediction request */

/*
 * Every function here answers errors itself with resp_error (which speaks
 * the route's language, HTML or JSON) and returns 1 then; 0 on success
 * (the caller answers); -1 on an internal failure (500, or 503 when the
 * database went away).
 */
int registry_create_model(struct req *r, const char *name, const char *description);

/* What MLflow's model-versions/create adds to a version. */
struct version_meta {
	const char *description;        /* NULL = "" */
	const char *status_message;     /* why a version has no booster; NULL = "" */
	json_t *tags;                   /* [{"key","value"}], or NULL */
	int create_model;               /* create the model (caller MANAGEs it) when missing */
};

/*
 * Adds a version: booster + spec go through model_validate and are stored
 * together. booster NULL registers a version with metadata only (MLflow
 * allows them): status READY, no booster, meta->status_message saying why;
 * serving it answers 404 with that message. meta may be NULL.
 */
int registry_add_version(struct req *r, const char *name, const char *booster,
    size_t booster_len, const char *spec, size_t spec_len, const char *source,
    const char *run_id, const struct version_meta *meta, int *version);
/* MLflow's limits on a tags list (at most 100; key 1..250, value <= 5000 characters). */
int registry_tags_check(struct req *r, json_t *tags);
int registry_set_stage(struct req *r, const char *name, const char *version,
    const char *stage, int archive_existing_versions);
int registry_set_alias(struct req *r, const char *name, const char *alias,
    long long version);
int registry_delete_alias(struct req *r, const char *name, const char *alias);

/* verdict's model names: 1..255 of [A-Za-z0-9_.-], starting with a letter or digit. */
int registry_name_ok(const char *name);

/*
 * MLflow's registry API over the same tables (registry.c). Objects come back
 * in MLflow's shapes (RegisteredModel, ModelVersion: epoch-ms timestamps,
 * current_stage, status, tags, aliases, latest_versions); errors use
 * MLflow's codes (RESOURCE_DOES_NOT_EXIST 404, RESOURCE_ALREADY_EXISTS and
 * INVALID_PARAMETER_VALUE 400). Returns as above; *out is a new reference.
 */
int registry_model_json(struct req *r, const char *name, json_t **out);
int registry_version_json(struct req *r, const char *name, const char *version,
    json_t **out);
int registry_rename_model(struct req *r, const char *name, const char *new_name);
int registry_update_model(struct req *r, const char *name, const char *description);
/* Deletes the model with its versions, tags and aliases (predictions stay logged). */
int registry_delete_model(struct req *r, const char *name);
/* Sets (del 0) or deletes (del 1) a tag; deleting an absent tag is not an error. */
int registry_model_tag(struct req *r, const char *name, const char *key, const char *value,
    int del);
int registry_version_tag(struct req *r, const char *name, const char *version,
    const char *key, const char *value, int del);
int registry_update_version(struct req *r, const char *name, const char *version,
    const char *description);
int registry_delete_version(struct req *r, const char *name, const char *version);
/* The highest version per stage (stages[0..n), or every stage when n is 0), by version. */
int registry_latest_versions(struct req *r, const char *name, const char *const *stages,
    size_t n, json_t **out);
int registry_alias_version(struct req *r, const char *name, const char *alias,
    json_t **out);
/*
 * registered-models/search (versions 0) or model-versions/search (1): the
 * filter and order_by grammar of search.c (name, tags.<key>; versions also
 * run_id [NOT] IN, source_path, version_number, current_stage), keyset page
 * tokens. *items a new array; *next_token arena memory or NULL.
 */
int registry_search(struct req *r, int versions, const char *filter,
    const char *const *order_by, size_t norder, long long max_results,
    const char *page_token, json_t **items, const char **next_token);
/*
 * model-versions/create from a source URI. When source names verdict's
 * artifact store (runs:/<run>/<path> through the run's artifact_uri, or
 * mlflow-artifacts:/<path>) and the directory holds an MLmodel with an
 * xgboost flavor, the booster it names plus a spec (verdict-spec.json
 * beside it, else the column signature as passthrough inputs) go through
 * registry_add_version: the version is servable, or the request fails with
 * 400 naming what is wrong. What is missing rather than wrong (a source
 * elsewhere, no MLmodel, no xgboost flavor, no signature and no spec)
 * registers a metadata-only version whose status_message says why.
 */
int registry_add_version_from_source(struct req *r, const char *name, const char *source,
    const char *run_id, const struct version_meta *meta, int *version);
/*
 * Registers the model a run logged: the booster and spec in the run's
 * artifact directory path (the MLmodel's xgboost flavor, else model.ubj or
 * model.json; verdict-spec.json or spec.json, else the signature — as
 * registry_add_version_from_source reads them) through registry_add_version,
 * as version source "runs:/<run_id>/<path>" linked to the run; the model is
 * created when missing. Needs READ on the run's experiment and EDIT on an
 * existing model. A missing booster or spec is a 404 naming what is
 * missing, an invalid one a 400; nothing is stored then. stage (NULL or ""
 * = None) is set after.
 */
int registry_add_version_from_run(struct req *r, const char *name, const char *run_id,
    const char *path, const char *stage, int *version);
/* Where the version's files are: runs:/ resolved to the run's artifacts, else the source. */
int registry_download_uri(struct req *r, const char *name, const char *version, char **uri);

/* 1 when a is a usable alias: 1-255 of [A-Za-z0-9_-], not "latest" nor "v<digits>". */
int registry_alias_valid(const char *a);

/* "None", "Staging", "Production", "Archived" for any case; NULL otherwise. */
const char *canonical_stage(const char *s);

/*
 * The one prediction path: rows (a JSON array of raw-field objects) through
 * name + selector; every row is committed to the prediction log before this
 * returns 0 with *out = {"model","version","predictions":[{"prediction_id",
 * "value", ["label","probabilities"], ["contributions","bias"]}]}.
 * single: error messages without the "instances[i]: " prefix. raw (NULL, or
 * one slice per row, each possibly empty): the text the client sent for each
 * row, logged as it is; a row without one is logged re-serialized.
 */
int serving_predict(struct req *r, const char *name, enum model_sel sel,
    const char *selv, json_t *rows, const struct json_slice *raw, int explain,
    int single, json_t **out);

#endif
